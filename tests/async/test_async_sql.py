"""AsyncPolaroidClient.execute_sql against a live `polaroid serve`: SQL scripts that change the
server's tables (CREATE, INSERT, UPDATE, DELETE ... RETURNING, ALTER, views), results compared
with DuckDB running the same statements, errors as Err values, list_tables with views."""

from __future__ import annotations

import asyncio
import warnings

import duckdb
import pyarrow as pa

from conftest import run
from polaroid.async_client import AsyncPolaroidClient
from polaroid.errors import NotFoundError, PolaroidError
from polaroid.result import Err, Ok

TR = "read_parquet('trades/*.parquet')"


def client(addr, **kw):
    kw.setdefault("timeout", 60)
    return AsyncPolaroidClient(addr, **kw)


def duck(root):
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{root}'")

    def q(sql):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return con.execute(sql).to_arrow_table()
    return q


def rows(t: pa.Table, sort: bool = False):
    r = [tuple(x.values()) for x in t.to_pylist()]
    return sorted(r, key=repr) if sort else r


def test_execute_sql_as_duckdb(addr, data):
    d = duck(data.root)
    stmts = [
        f"CREATE TABLE as_t AS SELECT id, g, q FROM {TR} WHERE id < 2000",
        "UPDATE as_t SET q = q * 10 WHERE g = 'a'",
        "DELETE FROM as_t WHERE q IS NULL OR q < -50",
        "ALTER TABLE as_t ADD COLUMN big BOOLEAN",
        "UPDATE as_t SET big = q > 500",
        "SELECT g, count(*) AS n, sum(q) AS s, count(*) FILTER (WHERE big) AS nb FROM as_t "
        "GROUP BY g ORDER BY g NULLS LAST",
    ]

    async def main():
        async with client(addr) as c:
            for s in stmts:
                r = await c.execute_sql(s)
                assert isinstance(r, Ok), r
                want = d(s)
                if want.column_names != ["Success"]:
                    assert r.value.column_names == want.column_names, s
                    assert rows(r.value) == rows(want), s
            # RETURNING and a whole script in one call: its last statement's rows
            script = "INSERT INTO as_t VALUES (9000, 'z', 1, false);\n" \
                     "DELETE FROM as_t WHERE id >= 1990 RETURNING id, g, q"
            r = (await c.execute_sql(script)).unwrap()
            d("INSERT INTO as_t VALUES (9000, 'z', 1, false)")
            assert rows(r, sort=True) == rows(d("DELETE FROM as_t WHERE id >= 1990 RETURNING id, g, q"),
                                             sort=True)
            # a statement that changes rows without RETURNING: its Count
            r = (await c.execute_sql("UPDATE as_t SET q = 0 WHERE id < 10")).unwrap()
            assert r.to_pylist() == [{"Count": d("UPDATE as_t SET q = 0 WHERE id < 10")[0][0].as_py()}]
            assert (await c.execute_sql("DROP TABLE as_t")).is_ok()

    run(main())


def test_execute_sql_errors_are_values(addr, data):
    async def main():
        async with client(addr) as c:
            r = await c.execute_sql("INSERT INTO as_nope VALUES (1)")
            assert isinstance(r, Err) and isinstance(r.error, NotFoundError)
            script = "CREATE TABLE as_e (a INTEGER);\nINSERT INTO as_e VALUES (1);\nUPDATE as_e SET a = nosuch"
            r = await c.execute_sql(script)
            assert isinstance(r, Err) and isinstance(r.error, PolaroidError)
            assert r.error.sql_position == script.index("nosuch")
            assert (r.error.sql_line, r.error.sql_column) == (3, len("UPDATE as_e SET a = ") + 1)
            assert "LINE 3: UPDATE as_e SET a = nosuch\n" in str(r.error)
            # the statements before the failing one stay done
            assert (await c.execute_sql("SELECT a FROM as_e")).unwrap().to_pylist() == [{"a": 1}]
            # an Err passed as a frame comes back as it is
            bad = Err(PolaroidError("upstream"))
            assert await c.execute_sql("SELECT * FROM f", f=bad) is bad
            # a frame given as an Ok is read by name
            f = c.from_arrow(pa.table({"a": pa.array([5, 6], pa.int32())}))
            r = await c.execute_sql("INSERT INTO as_e SELECT a FROM f; SELECT sum(a) AS s FROM as_e",
                                    f=Ok(f))
            assert r.unwrap().to_pylist() == [{"s": 12}]
            assert (await c.execute_sql("DROP TABLE as_e")).is_ok()

    run(main())


def test_list_tables_with_views_and_concurrent_scripts(addr, data):
    d = duck(data.root)

    async def main():
        async with client(addr, max_concurrent=8) as c:
            (await c.execute_sql("CREATE TABLE as_c (k BIGINT, n BIGINT)")).unwrap()
            # 20 INSERT scripts and 5 UPDATEs at once: every row lands once, every UPDATE
            # applies to the rows present when it ran
            ins = [c.execute_sql(f"INSERT INTO as_c VALUES ({i}, 0), ({i + 100}, 0)") for i in range(20)]
            ups = [c.execute_sql("UPDATE as_c SET n = n + 1") for _ in range(5)]
            res = await asyncio.gather(*ins, *ups)
            assert all(r.is_ok() for r in res), [r for r in res if not r.is_ok()]
            got = (await c.execute_sql("SELECT count(*) AS c, count(DISTINCT k) AS dk, max(n) AS hi "
                                       "FROM as_c")).unwrap().to_pylist()[0]
            assert got["c"] == got["dk"] == 40 and got["hi"] <= 5
            (await c.execute_sql(f"CREATE VIEW as_v AS SELECT g, count(*) AS n FROM {TR} GROUP BY g;"
                                 "CREATE VIEW as_vc AS SELECT k FROM as_c")).unwrap()
            infos = {t.name: t for t in (await c.list_tables()).unwrap()}
            assert infos["as_c"].kind == "table" and infos["as_c"].num_rows == 40
            v = infos["as_v"]
            assert v.kind == "view" and v.num_rows == -1
            assert v.schema.names == d(f"SELECT g, count(*) AS n FROM {TR} GROUP BY g").column_names
            # SHOW TABLES agrees with ListTables
            shown = (await c.execute_sql("SHOW TABLES")).unwrap()
            assert set(shown.column(0).to_pylist()) == set(infos)
            # a view whose table is gone is still listed, without a schema
            (await c.execute_sql("DROP TABLE as_c")).unwrap()
            infos = {t.name: t for t in (await c.list_tables()).unwrap()}
            assert infos["as_vc"].kind == "view" and len(infos["as_vc"].schema) == 0
            (await c.execute_sql("DROP VIEW as_v; DROP VIEW as_vc")).unwrap()
            names = {t.name for t in (await c.list_tables()).unwrap()}
            assert not names & {"as_v", "as_vc", "as_c"}

    run(main())


def test_sql_session_temp_objects(addr, data):
    """AsyncPolaroidClient.sql_session(): temporary tables and views live in their session
    across requests, are invisible elsewhere and end with it; results as DuckDB's, one DuckDB
    connection per session."""
    db = duckdb.connect()
    d1, d2 = db.cursor(), db.cursor()

    def want(con, script):
        res = None
        for s in [x for x in script.split(";") if x.strip()]:
            res = con.execute(s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return res.to_arrow_table()

    async def go():
        async with client(addr) as c:
            r1, r2 = await c.sql_session(), await c.sql_session()
            assert isinstance(r1, Ok) and isinstance(r2, Ok)
            s1, s2 = r1.value, r2.value
            assert s1.alive and s1.id != s2.id
            async with s1, s2:
                script = ("CREATE TEMP TABLE ast_a (k INTEGER, v VARCHAR); "
                          "INSERT INTO ast_a VALUES (1, 'one'), (2, 'two'), (3, NULL)")
                assert isinstance(await s1.execute_sql(script), Ok)
                want(d1, script)
                script = ("UPDATE ast_a SET v = 'TWO' WHERE k = 2; "
                          "CREATE TEMP VIEW ast_v AS SELECT k * 10 AS k10, v FROM ast_a")
                assert isinstance(await s1.execute_sql(script), Ok)
                want(d1, script)
                for q in ("SELECT * FROM ast_a ORDER BY k", "SELECT * FROM ast_v ORDER BY k10"):
                    got = (await s1.execute_sql(q)).unwrap()
                    assert rows(got) == rows(want(d1, q)), q
                # nobody else sees them: the other session, the client without a session
                for run_ in (s2.execute_sql, c.execute_sql):
                    r = await run_("SELECT * FROM ast_a")
                    assert isinstance(r, Err) and "ast_a" in str(r.error), r
                # the other session has its own of the same name
                assert isinstance(await s2.execute_sql("CREATE TEMP TABLE ast_a AS SELECT 7 AS x"), Ok)
                want(d2, "CREATE TEMP TABLE ast_a AS SELECT 7 AS x")
                q = "SELECT * FROM ast_a"
                assert rows((await s2.execute_sql(q)).unwrap()) == rows(want(d2, q))
                q = "SELECT count(*) AS n FROM ast_a"
                assert rows((await s1.execute_sql(q)).unwrap()) == rows(want(d1, q))
                # a failing statement is an Err carrying its SQL position
                r = await s1.execute_sql("SELECT nope FROM ast_a")
                assert isinstance(r, Err) and "nope" in str(r.error)
            # closed: its scripts are Errs, closing again is Ok(0), its objects are gone
            assert not s1.alive
            r = await s1.execute_sql("SELECT 1")
            assert isinstance(r, Err) and "closed" in str(r.error)
            assert (await s1.close()) == Ok(0)
            r = await c.execute_sql("SELECT * FROM ast_a")
            assert isinstance(r, Err)
            names = {t.name for t in (await c.list_tables()).unwrap()}
            assert not {"ast_a", "ast_v"} & names

    run(go())
