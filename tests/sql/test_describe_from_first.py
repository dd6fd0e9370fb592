"""DuckDB statement forms the PostgreSQL grammar lacks (src/sql/session_forms.c): FROM-first
queries (`FROM t`, `FROM t SELECT a WHERE ...`, also in subqueries, CTEs and set operations),
DESCRIBE / DESC / SHOW of a query, table, view or file, SHOW [ALL] TABLES, and SUMMARIZE;
compared with DuckDB. Error positions still point into the text as the user wrote it."""
import pyarrow as pa
import pytest

FROM_FIRST = [
    ("bare", "FROM {people}", False),
    ("where", "FROM {people} WHERE age > 30", False),
    ("select_after", "FROM {people} SELECT name, age WHERE age > 30 ORDER BY age, name", True),
    ("select_group", "FROM {people} SELECT city, count(*) AS n GROUP BY city", False),
    ("select_having", "FROM {people} SELECT city, avg(age) AS a GROUP BY ALL HAVING count(*) > 1",
     False),
    ("order_limit", "FROM {people} ORDER BY id DESC LIMIT 3", True),
    ("subquery", "SELECT count(*) AS n FROM (FROM {people} WHERE age > 30)", False),
    ("subquery_select", "SELECT * FROM (FROM {people} SELECT id, name WHERE id < 4) s", False),
    ("cte", "WITH a AS (FROM {people} SELECT id, name) FROM a WHERE id < 4", False),
    ("cte_select_after", "WITH a AS (FROM {people}) FROM a SELECT max(age) AS m", False),
    ("union", "FROM {people} SELECT team_id UNION ALL FROM {teams} SELECT team_id", False),
    ("union_mixed", "SELECT team_id FROM {people} UNION FROM {teams} SELECT team_id", False),
    ("in_subquery", "SELECT name FROM {people} WHERE team_id IN (FROM {teams} SELECT team_id "
                    "WHERE budget > 90)", False),
    ("exists", "FROM {teams} t WHERE EXISTS (FROM {people} p WHERE p.team_id = t.team_id)", False),
    ("join", "FROM {people} p JOIN {teams} t USING (team_id) SELECT p.name, t.team_name", False),
    ("extract_inside", "FROM {people} SELECT id, extract(year FROM joined) AS y", False),
    ("file_string", "FROM '{dir}/people.parquet' WHERE age < 30", False),
    ("comment_and_case", "/* c */ from {people} -- x\n select ID where Age > 40", False),
]


@pytest.mark.parametrize("name,query,ordered", FROM_FIRST, ids=[n for n, _, _ in FROM_FIRST])
def test_from_first(sql, name, query, ordered):
    sql.check(query, ordered=ordered)


def test_from_first_create_as(sql):
    sql.check("FROM x ORDER BY id", setup=["CREATE TABLE x AS FROM {people} WHERE id > 5"],
              ordered=True)


def test_from_first_insert(sql):
    sql.check("FROM x ORDER BY ALL", setup=["CREATE TABLE x (a INTEGER, b VARCHAR)",
                                            "INSERT INTO x FROM {people} SELECT id, name",
                                            "INSERT INTO x (b, a) FROM {teams} SELECT team_name, "
                                            "team_id"], ordered=True)


DESCRIBE = [
    ("query", [], "DESCRIBE SELECT * FROM {people}"),
    ("query_exprs", [], "DESCRIBE SELECT eid + 1 AS a, kind || 'x' AS b, value::DECIMAL(10,2) "
                        "AS c, ts, count(*) OVER () AS w FROM {events}"),
    ("from_first", [], "DESCRIBE FROM {events}"),
    ("with", [], "DESCRIBE WITH a AS (SELECT 1 AS x) SELECT x, 'y' AS y FROM a"),
    ("table", ["CREATE TABLE t AS SELECT * FROM {people}"], "DESCRIBE t"),
    ("desc", ["CREATE TABLE t AS SELECT * FROM {teams}"], "DESC t"),
    ("show", ["CREATE TABLE t AS SELECT * FROM {teams}"], "SHOW t"),
    ("not_null", ["CREATE TABLE t (a INTEGER NOT NULL, b VARCHAR, c DOUBLE NOT NULL, d DATE)"],
     "DESCRIBE t"),
    ("view", ["CREATE VIEW v AS SELECT id, name FROM {people}"], "DESCRIBE v"),
    ("quoted_name", ["CREATE TABLE \"My T\" AS SELECT 1 AS a"], "DESCRIBE \"My T\""),
    ("file", [], "DESCRIBE '{dir}/events.parquet'"),
    ("types", [], "DESCRIBE SELECT 1::TINYINT a, 2::SMALLINT b, 3::BIGINT c, 1.5::FLOAT d, "
                  "'x'::BLOB e, TIME '10:00' f, TIMESTAMPTZ '2024-01-01 00:00+00' g, "
                  "INTERVAL 1 DAY h, true i, ARRAY[1, 2] j, 1::UBIGINT k"),
]


@pytest.mark.parametrize("name,setup,query", DESCRIBE, ids=[n for n, _, _ in DESCRIBE])
def test_describe(sql, name, setup, query):
    sql.check(query, setup=setup, ordered=True)


def test_show_tables(sql):
    setup = ["CREATE TABLE zeta (a INTEGER)", "CREATE TABLE alpha AS SELECT * FROM {teams}",
             "CREATE VIEW mid AS SELECT 1 AS one"]
    sql.check("SHOW TABLES", setup=setup, ordered=True)
    sql.check("SHOW ALL TABLES", setup=setup, ordered=True)


def test_show_tables_empty(sql):
    sql.check("SHOW TABLES")


EXACT_SUMMARY = ["column_name", "column_type", "min", "max", "count", "null_percentage"]


@pytest.mark.parametrize("query", [
    "SUMMARIZE '{dir}/people.parquet'",
    "SUMMARIZE SELECT * FROM {events}",
    "SUMMARIZE FROM {teams}",
])
def test_summarize(sql, query):
    """min, max, count and null percentage equal DuckDB's; avg and std to rounding; the
    approximate columns (approx_unique, q25/q50/q75: DuckDB's HyperLogLog and t-digest, exact
    here) are in range."""
    import duckdb
    exp = duckdb.sql(sql.fmt(query)).to_arrow_table()
    r = sql.polaroid([query])
    assert r.returncode == 0, r.stderr.decode()
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert got.column_names == exp.column_names
    assert [str(t) for t in got.schema.types] == [str(t) for t in exp.schema.types]
    e, g = exp.to_pylist(), got.to_pylist()
    assert len(e) == len(g)
    for re_, rg in zip(e, g):
        for c in EXACT_SUMMARY:
            assert re_[c] == rg[c], (c, re_, rg)
        if re_["column_type"] in ("DATE", "TIMESTAMP", "TIME"):
            assert re_["avg"] == rg["avg"], (re_, rg)  # a TIMESTAMP / TIME as text
        for c in ("avg", "std"):
            if re_[c] is None or re_["column_type"] in ("DATE", "TIMESTAMP", "TIME"):
                continue
            assert rg[c] is not None and abs(float(re_[c]) - float(rg[c])) <= 1e-9 * max(
                1.0, abs(float(re_[c]))), (c, re_, rg)
        assert (re_["approx_unique"] is None) == (rg["approx_unique"] is None)
        for c in ("q25", "q50", "q75"):
            assert (re_[c] is None) == (rg[c] is None), (c, re_, rg)
            if rg[c] is not None and re_["column_type"] in ("INTEGER", "BIGINT", "DOUBLE"):
                assert float(rg["min"]) <= float(rg[c]) <= float(rg["max"])


ERRORS = [
    # the caret points at the user's text: the column in the FROM-first query
    (["FROM {people} SELECT nosuch WHERE id > 1"], "nosuch"),
    (["FROM {people} WHERE nosuch > 1"], "nosuch"),
    (["DESCRIBE nosuch_table"], "nosuch_table"),
    (["SUMMARIZE nosuch_table"], "nosuch_table"),
]


@pytest.mark.parametrize("stmts,needle", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(sql, stmts, needle):
    err = sql.error(stmts, needle)
    # the caret line sits under the needle in the echoed statement
    lines = err.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("LINE ") and i + 1 < len(lines):
            text, caret = line, lines[i + 1]
            at = caret.index("^")
            assert text[at:at + len(needle)].lower() == needle.lower(), err
            break
    else:
        pytest.fail(f"no caret line in {err}")
