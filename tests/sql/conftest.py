"""Fixtures of the SQL feature tests (tests/sql/README.md): small hand-made tables written as
Parquet and CSV, and a runner that executes the same statements in `polaroid sql` and in DuckDB
and compares the last statement's results (expected values come from DuckDB, never from
polaroid; bench/compare.py does the comparison).

POLAROID=<binary> (default build-asan/polaroid) picks the binary."""
import datetime
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import compare  # noqa: E402

RTOL, ATOL = 1e-9, 1e-9


def polaroid_bin():
    p = os.environ.get("POLAROID", "build-asan/polaroid")
    return p if os.path.isabs(p) else os.path.join(ROOT, p)


def _people():
    return pa.table({
        "id": pa.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pa.int32()),
        "name": ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", None],
        "age": pa.array([34, 27, None, 45, 27, 52, 38, None, 23, 31], pa.int32()),
        "city": ["Paris", "Berlin", "Paris", None, "Rome", "Berlin", "Paris", "Rome", None, "Oslo"],
        "salary": [5200.5, 4100.0, 3900.25, 7300.0, 4100.0, 8800.75, 6100.0, 3000.0, 2500.5,
                   None],
        "joined": pa.array([datetime.date(2019, 3, 1), datetime.date(2021, 7, 15),
                            datetime.date(2020, 1, 31), datetime.date(2015, 11, 2),
                            datetime.date(2022, 2, 28), datetime.date(2012, 6, 30), None,
                            datetime.date(2023, 12, 31), datetime.date(2024, 2, 29),
                            datetime.date(2018, 5, 5)], pa.date32()),
        "team_id": pa.array([1, 2, 1, 3, 2, None, 1, 4, 2, 9], pa.int32()),
    })


def _teams():
    return pa.table({
        "team_id": pa.array([1, 2, 3, 4, 5], pa.int32()),
        "team_name": ["core", "web", "data", "ops", "empty"],
        "budget": [100.0, 80.5, 120.25, None, 10.0],
    })


def _events():
    base = datetime.datetime(2024, 3, 4, 9, 30)
    n = 240
    kinds = ["click", "view", "buy", None]
    return pa.table({
        "eid": pa.array(list(range(1, n + 1)), pa.int64()),
        "ts": pa.array([base + datetime.timedelta(seconds=37 * i + (i * i) % 11) for i in range(n)],
                       pa.timestamp("us")),
        "kind": [kinds[(i * 7) % 4] for i in range(n)],
        "value": [None if i % 17 == 0 else round(((i * 7919) % 1000) / 10.0 - 20, 2)
                  for i in range(n)],
        "person_id": pa.array([(i * 3) % 11 + 1 for i in range(n)], pa.int32()),
    })


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """dict of names -> paths, plus "dir"."""
    d = tmp_path_factory.mktemp("sqldata")
    paths = {"dir": str(d)}
    for name, t in [("people", _people()), ("teams", _teams()), ("events", _events())]:
        p = d / f"{name}.parquet"
        pq.write_table(t, p)
        paths[name] = str(p)
    ev = _events()
    pacsv.write_csv(ev, d / "events.csv")
    paths["events_csv"] = str(d / "events.csv")
    parts = d / "parts"
    parts.mkdir()
    for i in range(3):
        pq.write_table(ev.slice(i * 80, 80), parts / f"part-{i}.parquet")
    paths["parts"] = str(parts)
    odd = d / "with space"
    odd.mkdir()
    pq.write_table(_teams(), odd / "it's.parquet")
    paths["odd"] = str(odd / "it's.parquet")
    return paths


def sql_str(path):
    return "'" + path.replace("'", "''") + "'"


def duckdb_parquet_tables(directory, gen):
    """Writes each query of gen (name -> DuckDB SELECT) as directory/<name>.parquet; returns
    name -> path (generated tables of the planner tests)."""
    import duckdb
    con = duckdb.connect()
    paths = {}
    for name, q in gen.items():
        p = str(directory / f"{name}.parquet")
        con.sql(f"COPY ({q}) TO {sql_str(p)} (FORMAT parquet)")
        paths[name] = p
    return paths


def parquet_views(paths):
    """CREATE VIEW <name> AS SELECT * FROM read_parquet(<path>) for each table of paths."""
    return [f"CREATE VIEW {n} AS SELECT * FROM read_parquet({sql_str(p)})" for n, p in paths.items()]


def explain(tmp_path, setup, query):
    """The EXPLAIN text of query after the setup statements, from `polaroid sql -f`."""
    script = tmp_path / "explain.sql"
    script.write_text(";\n".join(list(setup) + ["EXPLAIN " + query]) + ";\n")
    r = subprocess.run([polaroid_bin(), "sql", "--format", "csv", "-f", str(script)], cwd=ROOT,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def write_text_files(tmp_path, contents, ext):
    """Writes {name: text} as tmp_path/<name>.<ext>; returns {name: path}."""
    out = {}
    for name, text in contents.items():
        p = tmp_path / f"{name}.{ext}"
        p.write_text(text)
        out[name] = str(p)
    return out


def fill_paths(query, paths):
    """query with every <name> replaced by paths[name] (the runner formats the SQL with
    str.format, so file tests mark paths this way and double their braces)."""
    for name, path in paths.items():
        query = query.replace(f"<{name}>", path)
    return query


class Runner:
    def __init__(self, data, tmp_path):
        self.data = data
        self.tmp = tmp_path
        self.subs = {k: f"read_parquet({sql_str(v)})" for k, v in data.items()
                     if v.endswith(".parquet")}
        self.subs.update({"dir": data["dir"].replace("'", "''"), "tmp": str(tmp_path),
                          "events_csv": sql_str(data["events_csv"]),
                          "parts": sql_str(os.path.join(data["parts"], "*.parquet")),
                          "odd": sql_str(data["odd"])})

    def fmt(self, text):
        return text.format(**self.subs)

    def polaroid(self, statements, fmt="arrow", extra=()):
        script = ";\n".join(self.fmt(s) for s in statements) + ";\n"
        path = self.tmp / "script.sql"
        path.write_text(script)
        return subprocess.run([polaroid_bin(), "sql", "--format", fmt, *extra, "-f", str(path)],
                              cwd=ROOT, capture_output=True, timeout=120)

    def duckdb(self, statements):
        import duckdb
        con = duckdb.connect()
        res = None
        for s in statements:
            res = con.sql(self.fmt(s))
        return res.to_arrow_table() if hasattr(res, "to_arrow_table") else res.fetch_arrow_table()

    def check(self, query, setup=(), ordered=False, extra=()):
        """Runs setup statements then query in both engines (extra: more arguments of
        `polaroid sql`, e.g. ("--threads", "1")); asserts equal results."""
        stmts = list(setup) + [query]
        expected = self.duckdb(stmts)
        r = self.polaroid(stmts, extra=extra)
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 0, f"polaroid failed (exit {r.returncode}): {err}"
        assert "AddressSanitizer" not in err and "runtime error:" not in err, err
        import pyarrow as pa_
        got = pa_.ipc.open_stream(pa_.py_buffer(r.stdout)).read_all()
        d = compare.compare_tables(expected, got, ordered=ordered, rtol=RTOL, atol=ATOL)
        assert d is None, (f"{d}\nSQL: {self.fmt(query)}\nexpected (DuckDB):\n{expected}\n"
                           f"got (polaroid):\n{got}")
        return got

    def error(self, statements, *needles):
        """Asserts that DuckDB and polaroid both refuse; polaroid exits 1 with a message holding
        every needle (case-insensitive). Returns polaroid's stderr."""
        with pytest.raises(Exception):
            self.duckdb(statements)
        r = self.polaroid(statements, fmt="csv")
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 1, f"exit {r.returncode}, stderr: {err}"
        assert "AddressSanitizer" not in err and "runtime error:" not in err, err
        for n in needles:
            assert n.lower() in err.lower(), f"{n!r} not in the error message: {err}"
        return err


@pytest.fixture
def sql(data, tmp_path):
    if not os.path.exists(polaroid_bin()):
        pytest.fail(f"{polaroid_bin()} not found (make build-asan)")
    return Runner(data, tmp_path)


def pytest_collection_modifyitems(config, items):
    """With SQLTEST_ENABLED_ONLY=1 (make test) only the tests named in enabled.txt run: the ones
    the engine passes; `make sqltest-all` runs them all."""
    if os.environ.get("SQLTEST_ENABLED_ONLY") != "1":
        return
    path = os.path.join(HERE, "enabled.txt")
    with open(path) as fh:
        enabled = {ln.split("#")[0].strip() for ln in fh} - {""}
    keep, drop = [], []
    for it in items:
        name = it.nodeid.split("::", 1)[1] if "::" in it.nodeid else it.nodeid
        (keep if name in enabled else drop).append(it)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
