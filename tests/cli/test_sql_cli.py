"""Tests of `polaroid sql` (src/cli/sql.c, docs/cli.md): options and usage errors, SQL errors
with exit codes and a caret under the error position, scripts from -f and standard input, the
output formats, --format none, --timing, and scripts with DDL/DML.

Expected rows come from DuckDB running the same SQL, or from pyarrow reading what polaroid
wrote; never from polaroid's own output. Tests that need the query engine skip while it
answers "not built yet" / "not implemented yet".
Run with POLAROID=<binary> (default build/polaroid); `make cli` uses the ASan build.
"""
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

try:
    import duckdb
except ImportError:  # pragma: no cover
    duckdb = None


def usage_error(r):
    assert r.rc == 2, f"exit {r.rc}, stderr {r.err!r}"
    assert r.out == b""
    lines = r.err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("polaroid sql: "), r.err
    assert "--help" in lines[1]


def with_stdin(polaroid, tmp_path, data, *args):
    """Runs polaroid with data on standard input (a file, not a terminal)."""
    f = tmp_path / "stdin.txt"
    f.write_bytes(data)
    with open(f, "rb") as fh:
        return polaroid(*args, stdin=fh)


def engine_missing(r):
    return r.rc != 0 and ("not built yet" in r.err or "not implemented yet" in r.err)


def ok(polaroid, *args, **kw):
    """Runs polaroid; skips while a layer the SQL needs is missing; asserts success."""
    r = polaroid(*args, **kw)
    if engine_missing(r):
        pytest.skip(r.err.strip().splitlines()[0])
    assert r.rc == 0, f"polaroid {args} exited {r.rc}: {r.err}"
    return r


def sql_error(r, message, line_no, line_text, caret_col):
    """A SQL error: exit 1, nothing on stdout, `polaroid: message`, then the statement's line
    and a caret under the error position (0-based column in line_text)."""
    if engine_missing(r):
        pytest.skip(r.err.strip().splitlines()[0])
    assert r.rc == 1, f"exit {r.rc}, stderr {r.err!r}"
    assert r.out == b""
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 3, r.err
    assert lines[0].startswith("polaroid: ") and message in lines[0], r.err
    prefix = f"LINE {line_no}: "
    assert lines[1] == prefix + line_text, r.err
    assert lines[2] == " " * (len(prefix) + caret_col) + "^", r.err


@pytest.fixture
def ticks(tmp_path):
    t = pa.table({
        "symbol": pa.array(["AAPL", "MSFT", "AAPL", "GOOG", "MSFT", "AAPL"]),
        "price": pa.array([10.0, 20.0, 11.0, 30.0, 21.0, 12.0]),
        "size": pa.array([100, 200, 300, 400, 500, 600], pa.int64()),
    })
    path = tmp_path / "ticks.parquet"
    pq.write_table(t, path)
    return path, t


# ---------------------------------------------------------------- help and usage

def test_help(polaroid):
    a = polaroid.ok("sql", "--help")
    assert a.text.startswith("usage: polaroid sql ")
    assert polaroid.ok("sql", "-h").out == a.out
    assert polaroid.ok("help", "sql").out == a.out
    for opt in ("-f, --file", "--format", "-o, --output", "--threads", "--memory-limit", "--timing"):
        assert opt in a.text
    top = polaroid.ok("--help").text
    assert "  sql " in top


@pytest.mark.parametrize("args", [
    ["sql", "--bogus"],
    ["sql", "--format", "xml", "select 1"],
    ["sql", "--threads", "0", "select 1"],
    ["sql", "--threads"],
    ["sql", "--memory-limit", "lots", "select 1"],
    ["sql", "select 1", "select 2"],
    ["sql", "-f", "x.sql", "select 1"],
    ["sql", "-o", "out.unknownext", "select 1"],
    ["sql", "-f", ""],
])
def test_usage_errors(polaroid, args):
    usage_error(polaroid(*args))


def test_help_options_are_accepted(polaroid):
    """Every option the help names is accepted by the parser."""
    text = polaroid.ok("sql", "--help").text
    opts = set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z-]*)", text, re.M)) - {"--help"}
    values = {"--file": "/nonexistent.sql", "--format": "csv", "--output": "-", "--threads": "2",
              "--memory-limit": "1GB", "--server": "127.0.0.1:1", "--token-file": "/nonexistent",
              "--tls-ca": "/nonexistent"}
    for opt in sorted(opts):
        r = polaroid("sql", opt, *([values[opt]] if opt in values else []), "set threads = 1")
        assert "unknown option" not in r.err, f"{opt}: {r.err}"


# ---------------------------------------------------------------- errors and carets

def test_syntax_error_caret(polaroid):
    sql_error(polaroid("sql", "select * frm t"), 'syntax error at or near "frm"', 1, "select * frm t", 9)


def test_syntax_error_on_a_later_line(polaroid, tmp_path):
    script = tmp_path / "bad.sql"
    script.write_text("set threads = 2;\n-- a comment\nselect 1,\n  2 fro x;\n")
    r = polaroid("sql", "-f", script)
    sql_error(r, 'syntax error at or near "x"', 4, "  2 fro x;", 8)
    assert f'"{script}"' in r.err  # the script file is named


def test_caret_counts_characters_not_bytes(polaroid):
    # the caret sits under the error even after multi-byte characters
    sql_error(polaroid("sql", "select 'héllo', frm"), 'column "frm" not found', 1, "select 'héllo', frm", 16)
    sql_error(polaroid("sql", "select 'é', 1 frm t"), 'syntax error at or near "t"', 1, "select 'é', 1 frm t", 18)


def test_long_line_is_cut_around_the_error(polaroid):
    sql = "select " + ", ".join(f"c{i}" for i in range(100)) + " fro t"
    r = polaroid("sql", sql)
    assert r.rc == 1
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 3 and lines[1].startswith("LINE 1: ...")
    caret = lines[2].index("^")
    assert lines[1][caret:caret + 1] == "t"


def test_unsupported_statement(polaroid):
    r = polaroid("sql", "set threads = 2; create index i on t (x)")
    assert r.rc == 1 and r.out == b""
    assert "unsupported statement INDEX" in r.err
    assert r.err.rstrip("\n").split("\n")[-1] == " " * (len("LINE 1: ") + 17) + "^"


def test_unknown_setting(polaroid):
    sql_error(polaroid("sql", "SET nope = 1"), 'unrecognized configuration parameter "nope"', 1,
              "SET nope = 1", 0)


def test_drop_missing_table(polaroid):
    sql_error(polaroid("sql", "drop table if exists a;\ndrop table b"), 'table "b" does not exist',
              2, "drop table b", 0)


def test_missing_script_file(polaroid, tmp_path):
    r = polaroid("sql", "-f", tmp_path / "nope.sql")
    assert r.rc == 1 and r.out == b""
    assert "nope.sql" in r.err and "cannot read the SQL" in r.err


def test_script_from_stdin(polaroid, tmp_path):
    r = with_stdin(polaroid, tmp_path, b"set threads = 2;\nselect * frm t;\n", "sql")
    sql_error(r, "syntax error", 2, "select * frm t;", 9)
    r = with_stdin(polaroid, tmp_path, b"select * frm t;\n", "sql", "-f", "-")
    sql_error(r, "syntax error", 1, "select * frm t;", 9)


def test_empty_script(polaroid, tmp_path):
    r = with_stdin(polaroid, tmp_path, b"-- nothing\n", "sql")
    assert r.rc == 0 and r.out == b""


def test_timing(polaroid):
    r = polaroid.ok("sql", "--timing", "set threads = 2; set memory_limit = '1GB'")
    assert r.out == b""
    times = re.findall(r"^Run Time: \d+\.\d{3} s$", r.err, re.M)
    assert len(times) == 2, r.err


# ---------------------------------------------------------------- queries and formats

def duck(sql):
    if duckdb is None:
        pytest.skip("duckdb not installed")
    return duckdb.sql(sql).fetchall()


def test_csv_output(polaroid):
    r = ok(polaroid, "sql", "--format", "csv", "select 1 as a, 'x' as b union all select 2, NULL")
    assert r.text == "a,b\n1,x\n2,\n"


def test_json_output(polaroid):
    r = ok(polaroid, "sql", "--format", "json", "select 1 as a, 'x' as b")
    assert [json.loads(line) for line in r.text.splitlines()] == [{"a": 1, "b": "x"}]


def test_table_output_is_default(polaroid):
    r = ok(polaroid, "sql", "select 42 as answer")
    assert "answer" in r.text and "42" in r.text


def test_format_none(polaroid):
    r = ok(polaroid, "sql", "--format", "none", "select * from (values (1), (2), (3)) v(x)")
    assert r.text == "3 rows\n"


def test_query_over_a_file(polaroid, ticks):
    path, t = ticks
    sql = f"select symbol, sum(size) as n from '{path}' group by symbol order by symbol"
    r = ok(polaroid, "sql", "--format", "csv", sql)
    want = duck(sql)
    assert r.text == "symbol,n\n" + "".join(f"{s},{n}\n" for s, n in want)


def test_output_file_parquet(polaroid, ticks, tmp_path):
    path, t = ticks
    out = tmp_path / "o.parquet"
    ok(polaroid, "sql", "-o", out, f"select * from '{path}' where price > 11")
    got = pq.read_table(out)
    assert got.to_pylist() == [r for r in t.to_pylist() if r["price"] > 11]


def test_output_file_takes_one_result(polaroid, tmp_path):
    r = polaroid("sql", "-o", tmp_path / "o.csv", "select 1; select 2")
    if engine_missing(r):
        pytest.skip("engine missing")
    assert r.rc == 1 and "one query" in r.err


def test_script_with_ddl_and_dml(polaroid, tmp_path):
    script = tmp_path / "s.sql"
    script.write_text("""
        create table t (id integer not null, name varchar, score double default 0.5);
        insert into t values (1, 'a', 2.0), (2, 'b', DEFAULT);
        insert into t (id, name) select 3, 'c';
        create view v as select id, score * 2 as s from t;
        select * from v order by id;
        insert into t values (4, 'd', 8);
        select count(*) as n from v;
        drop view v;
    """)
    r = ok(polaroid, "sql", "--format", "csv", "-f", script)
    assert r.text == "id,s\n1,4.0\n2,1.0\n3,1.0\nn\n4\n"


def test_copy_to_and_from(polaroid, tmp_path):
    out = tmp_path / "o.csv"
    pqo = tmp_path / "o.parquet"
    sql = (f"create table t (a int, b varchar); insert into t values (1, 'x'), (2, NULL);"
           f"copy t to '{out}' (header); copy (select a * 10 as d from t) to '{pqo}';"
           f"create table u (d bigint); copy u from '{pqo}'; select sum(d) as s from u")
    r = ok(polaroid, "sql", "--format", "csv", sql)
    assert r.text == "s\n30\n"
    assert out.read_text() == "a,b\n1,x\n2,\n"
    assert pq.read_table(pqo).column("d").to_pylist() == [10, 20]


def test_insert_errors_stop_the_script(polaroid):
    sql = "create table t (a int not null);\ninsert into t values (1), (NULL);\nselect 1"
    r = polaroid("sql", sql)
    sql_error(r, "NOT NULL constraint failed: t.a", 2, "insert into t values (1), (NULL);", 0)


def test_explain(polaroid, ticks):
    path, _ = ticks
    r = ok(polaroid, "sql", f"explain select symbol from '{path}' where price > 1")
    assert r.text.strip()
    r = ok(polaroid, "sql", f"explain analyze select count(*) from '{path}'")
    assert r.text.strip()


def test_explain_analyze_join_with_operators_on_the_build_side(polaroid):
    """The statistics point at operators' counters: a join's build pipeline (here with a
    projection) used to be freed once built, and EXPLAIN ANALYZE read freed memory (ASan:
    heap-use-after-free; the release build printed garbage row counts)."""
    import re
    setup = ("create table t as select range % 7 as sym, range as ts from range(1000); "
             "create table q as select range as qid, range % 7 as sym, range as ts from range(500); ")
    for join in ("join (select qid, sym, ts + 7 as ts from q) q on t.sym = q.sym and t.ts = q.ts",
                 "asof join (select sym, ts + 1 as ts from q) q on t.sym = q.sym and t.ts >= q.ts"):
        r = ok(polaroid, "sql", setup + f"explain analyze select count(*) from t {join}")
        assert "AddressSanitizer" not in r.err
        rows = [int(x) for x in re.findall(r"rows=(\d+)", r.text)]
        assert rows and max(rows) <= 1000, r.text
        assert "rows=500" in r.text, r.text  # the build side's projection counted its rows


EXPLAIN_NESTED = [
    # a breaker (aggregate) over another breaker (sort) freed its finished input early
    "select count(*) from (select sym, sum(v) s from t group by sym order by s) x",
    "select sym, count(*) from (select * from t order by ts limit 300) group by sym",
    "select a.sym, count(*) from (select sym, max(v) m from t group by sym) a join "
    "(select sym, min(v) n from t where v > 3 group by sym) b on a.sym = b.sym group by a.sym order by 2 desc",
    # UNION ALL freed each finished input
    "select distinct sym from (select sym from t union all select sym + 100 from t)",
    "select sym from t intersect select sym from t where v > 2",
    "with x as materialized (select sym, avg(v) p from t group by 1) "
    "select * from x a, x b where a.sym = b.sym and a.p > (select avg(p) from x)",
    "select s.sym, (select max(v) from t u where u.sym = s.sym) from (select distinct sym from t) s",
    "select sym, row_number() over (partition by sym order by ts) r from t qualify r < 3",
]


@pytest.mark.parametrize("query", EXPLAIN_NESTED, ids=range(len(EXPLAIN_NESTED)))
def test_explain_analyze_nested_breakers_and_unions(polaroid, query):
    """EXPLAIN ANALYZE reads every operator's counters after the query: with statistics on,
    finished inputs of aggregates, sorts and UNION ALL stay until the end (they were freed as
    soon as consumed; ASan: heap-use-after-free, the release build could print garbage)."""
    import re
    setup = "create table t as select range % 7 as sym, range as ts, range % 11 as v from range(1000); "
    r = ok(polaroid, "sql", setup + "explain analyze " + query)
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r.err
    rows = [int(x) for x in re.findall(r"rows=(-?\d+)", r.text)]
    assert rows and all(0 <= n <= 2000 for n in rows), r.text


# ---------------------------------------------------------------- interactive shell

def run_shell(polaroid, tmp_path, lines, timeout=60):
    """Runs `polaroid sql` on a pseudo-terminal (so it starts the shell), types lines, and
    returns (exit code, terminal output, stderr)."""
    import os
    import pty
    import select
    import subprocess
    import time
    master, slave = pty.openpty()
    env = dict(os.environ, HOME=str(tmp_path), TERM="dumb")
    p = subprocess.Popen([polaroid.path, "sql"], stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                         env=env, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.time() + timeout

    def read_for(seconds):
        nonlocal out
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    return

    read_for(0.5)
    for line in lines:
        os.write(master, line.encode() + b"\n")
        read_for(0.3)
    while p.poll() is None and time.time() < deadline:
        read_for(0.2)
    read_for(0.2)
    os.close(master)
    err = p.stderr.read().decode("utf-8", "replace")
    if p.poll() is None:
        p.kill()
        pytest.fail("the shell did not exit")
    assert not any(m in err for m in ("AddressSanitizer", "LeakSanitizer", "runtime error:")), err
    return p.returncode, out.decode("utf-8", "replace").replace("\r", ""), err


def test_shell(polaroid, tmp_path):
    rc, out, err = run_shell(polaroid, tmp_path, [
        "create table t (a int, b varchar);",
        "insert into t",
        "  values (1, 'x'), (2, 'y');",
        ".tables",
        ".schema t",
        ".mode csv",
        "select sum(a) as s from t;",
        "select * frm t;",
        ".timer on",
        "select count(*) as n from t;",
        ".bogus",
        ".quit",
    ])
    assert rc == 0, err
    assert "polaroid> " in out and "...> " in out  # the prompt, and the continuation prompt
    assert "\nt\n" in out                               # .tables
    assert "a" in out and "int32" in out                # .schema t
    assert "s\n3\n" in out                              # the csv result
    assert "n\n2\n" in out
    assert 'syntax error at or near "frm"' in err       # an error, and the shell went on
    assert "LINE 1: select * frm t;" in err
    assert "Run Time: " in err                          # .timer on
    assert "unknown command .bogus" in err
    # libedit's history file: one entry per line, blanks and newlines escaped as \040, \012
    hist = (tmp_path / ".polaroid_history").read_text().replace("\\040", " ").replace("\\012", "\n")
    assert "select sum(a) as s from t;" in hist
    assert "insert into t\n  values (1, 'x'), (2, 'y');" in hist  # a multi-line statement is one entry


def test_shell_ends_at_eof(polaroid, tmp_path):
    rc, out, err = run_shell(polaroid, tmp_path, ["select 1 as one;", "\x04"])
    assert rc == 0, err
    assert "one" in out


def test_execution_error_points_at_the_expression(polaroid):
    # DuckDB: Out of Range Error: Overflow in addition of INT64
    sql = "select 1 as a;\nselect 9223372036854775807 + x from (values (1)) v(x)"
    r = polaroid("sql", "--format", "csv", sql)
    if engine_missing(r):
        pytest.skip("engine missing")
    assert r.rc == 1
    assert r.text == "a\n1\n"  # the first statement's result came out before the error
    lines = r.err.rstrip("\n").split("\n")
    assert "overflow" in lines[0].lower()
    assert lines[1] == "LINE 2: select 9223372036854775807 + x from (values (1)) v(x)"
    assert lines[2] == " " * (len("LINE 2: ") + 27) + "^"


def test_memory_limit(polaroid, ticks):
    path, _ = ticks
    r = polaroid("sql", "--memory-limit", "1KB",
                 f"select symbol, count(*) from '{path}' group by 1 order by 1")
    if engine_missing(r):
        pytest.skip("engine missing")
    assert r.rc == 1 and "memory limit" in r.err
    r = ok(polaroid, "sql", "--memory-limit", "1GB", "--format", "csv",
           f"select symbol, count(*) as n from '{path}' group by 1 order by 1")
    assert r.text == "symbol,n\nAAPL,3\nGOOG,1\nMSFT,2\n"


def test_script_dot_commands(polaroid, tmp_path):
    """Scripts (-f, standard input) take the shell's dot commands on lines of their own between
    statements, like the duckdb CLI: .mode switches the output, .tables / .schema list, .quit
    stops; a line starting with '.' inside a statement (a string) is SQL."""
    script = ("CREATE TABLE t (a INT, b VARCHAR);\nINSERT INTO t VALUES (1, 'x'), (2, NULL);\n"
              ".tables\n.mode csv\nSELECT * FROM t\n WHERE a > 1;\n  .schema t\n-- note\n"
              "SELECT 'a\n.notdot' AS s;\n.mode json\nSELECT 1 AS one;\n.quit\nSELECT 2 AS two;\n")
    r = with_stdin(polaroid, tmp_path, script.encode(), "sql")
    assert r.rc == 0, r.err
    out = r.out.decode()
    assert out == ('t\na,b\n2,\nt (table)\n  a     int32\n  b     utf8\ns\n"a\n.notdot"\n'
                   '{"one":1}\n'), out
    f = tmp_path / "dots.sql"
    f.write_text(script)
    assert ok(polaroid, "sql", "-f", f).out.decode() == out


def test_changes_dot_command(polaroid, tmp_path):
    """DML prints nothing, like the duckdb CLI; `.changes on` prints each statement's changed
    rows and the running total in the duckdb (sqlite) shell's form; `.changes off` stops it."""
    script = ("CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR);\nINSERT INTO t VALUES (1, 'x');\n"
              ".changes on\nINSERT INTO t VALUES (2, 'y'), (3, 'z');\n"
              "INSERT INTO t VALUES (3, 'w'), (4, 'v') ON CONFLICT DO UPDATE SET b = excluded.b;\n"
              "UPDATE t SET b = 'u' WHERE a > 1;\nDELETE FROM t WHERE a = 4;\n.mode csv\n"
              "SELECT count(*) AS n FROM t;\n.changes off\nDELETE FROM t;\n")
    r = with_stdin(polaroid, tmp_path, script.encode(), "sql")
    assert r.rc == 0, r.err
    assert r.out.decode() == ("changes:   2   total_changes: 3\n"
                              "changes:   2   total_changes: 5\n"
                              "changes:   3   total_changes: 8\n"
                              "changes:   1   total_changes: 9\n"
                              "n\n3\n"), r.out.decode()


def test_script_dot_commands_keep_error_lines(polaroid, tmp_path):
    """An error after a dot command names the script's own line; the script stops there."""
    r = with_stdin(polaroid, tmp_path, b"SELECT 1 AS a;\n.mode csv\nSELECT nosuch FROM (SELECT 1 x);\n"
                   b"SELECT 3 AS c;\n", "sql")
    assert r.rc == 1
    assert b"c\n3" not in r.out and r.out.startswith(b"\xe2\x94")  # the first table printed
    lines = r.err.rstrip("\n").split("\n")
    assert 'column "nosuch" not found' in lines[0]
    assert lines[1] == "LINE 3: SELECT nosuch FROM (SELECT 1 x);"


@pytest.mark.parametrize("fmt", ["csv", "json", "table"])
def test_session_time_zone_output(polaroid, tmp_path, fmt):
    """SET TimeZone in a script: TIMESTAMPTZ cells print as DuckDB's ::VARCHAR of them in that
    zone (local time with the offset) in every output format; RESET goes back to UTC."""
    q = ("select t from (values (TIMESTAMPTZ '2024-03-10 06:30:00+00'), "
         "(TIMESTAMPTZ '2024-07-01 12:00:00.25+00'), (TIMESTAMPTZ '1850-01-01 00:00:00+00')) v(t)")
    script = tmp_path / "tz.sql"
    script.write_text(f"SET TimeZone = 'America/New_York';\n{q};\nRESET TimeZone;\n{q};\n")
    r = ok(polaroid, "sql", "--format", fmt, "-f", script)
    if duckdb is None:
        pytest.skip("duckdb not installed")
    con = duckdb.connect()
    want = []
    for zone in ("America/New_York", "UTC"):
        con.execute(f"SET TimeZone = '{zone}'")
        want.append([row[0] for row in con.execute(f"select t::VARCHAR from ({q})").fetchall()])
    if fmt == "csv":
        assert r.text == "".join("t\n" + "".join(v + "\n" for v in w) for w in want)
    elif fmt == "json":
        assert [json.loads(line)["t"] for line in r.text.splitlines()] == want[0] + want[1]
    else:
        for v in want[0] + want[1]:
            assert v in r.text, (v, r.text)
