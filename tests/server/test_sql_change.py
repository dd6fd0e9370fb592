"""UPDATE, DELETE, TRUNCATE and ALTER TABLE of server tables in SQL scripts
(src/server/sql_session.c, catalog.c), compared with the same statements in DuckDB; RETURNING;
readers see a rewritten table whole (old or new); appends that arrive while a statement
rewrites a table wait for it and are never lost; a statement whose table another request
changed meanwhile fails with ABORTED and changes nothing."""
from __future__ import annotations

import threading
import time

import duckdb
import grpc
import pyarrow as pa
import pytest

import polaroid as pd
from helpers import assert_same
from test_sql_session import TR, Duck, run, names


def both(client, d: Duck, *stmts: str, sort: bool = False) -> None:
    """Runs the statements one by one on the server and in DuckDB; each result must agree."""
    for s in stmts:
        got, want = run(client, s), d.run(s)
        if want.column_names == ["Success"]:  # DuckDB's answer to DDL; the server's: no row
            assert got.column_names == ["Count"] and got.num_rows == 0, (s, got)
        else:
            assert_same(got, want, sort=sort)


SETUP = [
    f"CREATE TABLE sc_t AS SELECT id, g, x, q, name FROM {TR} WHERE id < 3000",
    "CREATE TABLE sc_g (g VARCHAR, w BIGINT)",
    "INSERT INTO sc_g VALUES ('a', 1), ('b', 2), ('c', 3)",
]
CHECK = "SELECT * FROM sc_t ORDER BY id"


@pytest.fixture()
def tables(client, data):
    d = Duck(data.root)
    for s in SETUP:
        run(client, s)
        d.run(s)
    yield d
    client.execute_sql("DROP TABLE IF EXISTS sc_t; DROP TABLE IF EXISTS sc_t2; "
                       "DROP TABLE IF EXISTS sc_g")


def test_update_delete_as_duckdb(client, tables):
    d = tables
    both(client, d,
         "UPDATE sc_t SET x = x * 2, name = upper(name) WHERE q > 50",  # Count of rows updated
         CHECK,
         "UPDATE sc_t SET q = sc_g.w FROM sc_g WHERE sc_t.g = sc_g.g AND sc_t.id % 7 = 0",
         CHECK,
         "DELETE FROM sc_t WHERE x IS NULL OR q < -90",
         CHECK,
         "DELETE FROM sc_t USING sc_g WHERE sc_t.g = sc_g.g AND sc_g.w = 3 AND sc_t.id % 2 = 1",
         CHECK,
         "UPDATE sc_t SET g = NULL WHERE id IN (SELECT id FROM sc_t WHERE q BETWEEN 0 AND 3)",
         "SELECT g, count(*) AS n, sum(q) AS sq FROM sc_t GROUP BY g ORDER BY g NULLS LAST")
    # RETURNING: the changed rows (compared as multisets)
    both(client, d, "UPDATE sc_t SET q = q + 1000 WHERE id < 40 RETURNING id, q, name",
         "DELETE FROM sc_t WHERE id >= 2990 RETURNING *", sort=True)
    both(client, d, "INSERT INTO sc_t (id, g) VALUES (5000, 'n') RETURNING id, g, x", CHECK)
    # the table is the server's: another client and the table API see the new rows
    assert client.table("sc_t").collect().num_rows == d.run("SELECT count(*) FROM sc_t")[0][0].as_py()


def test_truncate_and_alter_as_duckdb(client, tables):
    d = tables
    both(client, d,
         "ALTER TABLE sc_t ADD COLUMN y DOUBLE",
         "UPDATE sc_t SET y = x / 2 WHERE g = 'a'",
         "ALTER TABLE sc_t DROP COLUMN name",
         "ALTER TABLE sc_t RENAME COLUMN q TO qq",
         "ALTER TABLE sc_t ALTER COLUMN qq TYPE BIGINT",
         "ALTER TABLE sc_t ALTER COLUMN x SET DATA TYPE VARCHAR USING CAST(round(x) AS VARCHAR)",
         CHECK,
         "ALTER TABLE sc_t RENAME TO sc_t2",
         "SELECT count(*) AS n, sum(qq) AS s, max(x) AS mx FROM sc_t2")
    assert "sc_t2" in names(client) and "sc_t" not in names(client)
    schema = client.table("sc_t2").schema
    assert schema.names == d.run("SELECT * FROM sc_t2 LIMIT 0").column_names
    assert schema.field("qq").type == pa.int64()
    both(client, d, "INSERT INTO sc_t2 SELECT * FROM sc_t2 WHERE qq > 90", "TRUNCATE sc_t2",
         "SELECT count(*) AS n FROM sc_t2", "INSERT INTO sc_t2 (id) VALUES (1), (2)")
    # several tables at once (DuckDB takes one a statement)
    assert run(client, "TRUNCATE sc_t2, sc_g").to_pylist() == [{"Count": 5}]
    d.run("TRUNCATE sc_t2")
    d.run("TRUNCATE sc_g")
    both(client, d, "SELECT count(*) AS n FROM sc_g", "SELECT count(*) AS n FROM sc_t2")
    # a truncated table takes rows again, through SQL and Append
    both(client, d, "INSERT INTO sc_g VALUES ('q', 9)")
    client.append("sc_g", pa.table({"g": ["r"], "w": pa.array([10], pa.int64())}))
    assert run(client, "SELECT * FROM sc_g ORDER BY g").to_pylist() == \
        [{"g": "q", "w": 9}, {"g": "r", "w": 10}]


def test_failed_rewrite_changes_nothing(client, tables):
    before = run(client, CHECK)
    bad = ["UPDATE sc_t SET q = 'text'", "UPDATE sc_t SET nosuch = 1", "DELETE FROM sc_t WHERE nosuch",
           "ALTER TABLE sc_t ADD COLUMN id INTEGER", "ALTER TABLE sc_t RENAME TO sc_g",
           "ALTER TABLE sc_t ALTER COLUMN g TYPE INTEGER",
           "ALTER TABLE sc_t ALTER COLUMN x SET NOT NULL"]
    for s in bad:
        with pytest.raises(pd.PolaroidError):
            run(client, s)
    # a script stops at its failing statement: the ones before it stay done
    with pytest.raises(pd.PolaroidError) as e:
        client.execute_sql("UPDATE sc_t SET q = 0 WHERE id = 1;\nUPDATE sc_t SET q = nosuch")
    assert e.value.sql_position is not None and e.value.sql_position > 30
    assert run(client, "SELECT q FROM sc_t WHERE id = 1").to_pylist() == [{"q": 0}]
    now = run(client, CHECK)
    assert now.num_rows == before.num_rows and now.column_names == before.column_names
    # DEFAULT and keys stay refused on server tables (the catalog would not keep them)
    for s in ("ALTER TABLE sc_t ALTER COLUMN q SET DEFAULT 1",
              "ALTER TABLE sc_t ADD COLUMN z INTEGER DEFAULT 5"):
        with pytest.raises(pd.PolaroidError, match='server table "sc_t"'):
            run(client, s)
    assert run(client, "SELECT * FROM sc_t LIMIT 0").column_names == before.column_names


def test_readers_see_old_or_new(server, client, data):
    """Queries running while UPDATEs commit see each version whole: every row flipped or none."""
    n = 60000
    run(client, f"CREATE TABLE sc_flip AS SELECT id, 0 AS v FROM range({n}) r(id)")
    stop = threading.Event()
    seen, errs = [], []

    def reader():
        c = pd.connect(server.address, timeout=120)
        try:
            while not stop.is_set():
                r = c.execute_sql("SELECT count(*) AS n, min(v) AS lo, max(v) AS hi FROM sc_flip")
                seen.append(r.to_pylist()[0])
                # a streamed read of the whole table, in small messages, is one version too
                t = c.table("sc_flip").collect()
                vs = set(t.column("v").to_pylist())
                seen.append({"n": t.num_rows, "lo": min(vs), "hi": max(vs)})
        except Exception as e:  # pragma: no cover - reported below
            errs.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=reader) for _ in range(2)]
    for t in ts:
        t.start()
    try:
        for i in range(1, 9):
            run(client, f"UPDATE sc_flip SET v = {i}")
    finally:
        stop.set()
        for t in ts:
            t.join()
    assert not errs, errs
    assert seen and all(s["n"] == n and s["lo"] == s["hi"] for s in seen), \
        [s for s in seen if s["lo"] != s["hi"]][:3]
    assert run(client, "SELECT min(v) AS lo, max(v) AS hi FROM sc_flip").to_pylist() == \
        [{"lo": 8, "hi": 8}]
    run(client, "DROP TABLE sc_flip")


def test_appends_during_rewrites_are_kept(server, client, data):
    """Append streams and SQL INSERTs racing UPDATE / DELETE of the same table: every appended
    row is in the table at the end; an UPDATE changes the rows present when it took the table
    (appends wait for it and land after)."""
    run(client, "CREATE TABLE sc_race (k BIGINT, src VARCHAR, n BIGINT)",
        "INSERT INTO sc_race SELECT id, 'seed', 0 FROM range(20000) r(id)")
    per, rounds = 50, 30
    errs = []

    def appender(w):
        c = pd.connect(server.address, timeout=120)
        try:
            for i in range(rounds):
                ks = pa.array([1_000_000 * (w + 1) + i * per + j for j in range(per)], pa.int64())
                c.append("sc_race", pa.table({"k": ks, "src": pa.array([f"a{w}"] * per),
                                              "n": pa.array([0] * per, pa.int64())}))
        except Exception as e:  # pragma: no cover
            errs.append(e)
        finally:
            c.close()

    def inserter():
        c = pd.connect(server.address, timeout=120)
        try:
            for i in range(rounds):
                c.execute_sql(f"INSERT INTO sc_race SELECT 9000000 + {i} * 10 + id, 'sql', 0 "
                              "FROM range(10) r(id)")
        except Exception as e:  # pragma: no cover
            errs.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=appender, args=(w,)) for w in range(2)]
    ts.append(threading.Thread(target=inserter))
    for t in ts:
        t.start()
    updates = deletes = 0
    while any(t.is_alive() for t in ts):
        run(client, "UPDATE sc_race SET n = n + 1")
        updates += 1
        if deletes < 50:
            run(client, f"DELETE FROM sc_race WHERE src = 'seed' AND k % 50 = {deletes}")
            deletes += 1
    for t in ts:
        t.join()
    run(client, "UPDATE sc_race SET n = n + 1")
    updates += 1
    assert not errs, errs
    got = run(client, "SELECT src, count(*) AS c, count(DISTINCT k) AS dk, min(n) AS lo, "
              "max(n) AS hi FROM sc_race GROUP BY src ORDER BY src").to_pylist()
    by = {r["src"]: r for r in got}
    for w in range(2):
        assert by[f"a{w}"]["c"] == by[f"a{w}"]["dk"] == per * rounds  # none lost, none twice
    assert by["sql"]["c"] == by["sql"]["dk"] == 10 * rounds
    # every row got each UPDATE that committed after it landed: at least the last one, at most all
    for r in got:
        assert 1 <= r["lo"] and r["hi"] <= updates, r
    assert by["seed"]["hi"] == updates
    assert by["seed"]["c"] == 20000 - 20000 // 50 * deletes
    run(client, "DROP TABLE sc_race")


def test_table_replaced_meanwhile_is_aborted(server, client, data):
    """A rewrite whose table is dropped and created again by another request while it runs
    fails with ABORTED and leaves the new table alone."""
    big = 400000
    run(client, f"CREATE TABLE sc_ab AS SELECT id, id % 7 AS m FROM range({big}) r(id)")
    other = pd.connect(server.address, timeout=120)
    hits = 0
    try:
        for _ in range(6):
            done = threading.Event()
            res = {}

            def upd():
                try:
                    # slow enough to overlap the drop: a self-join per row
                    client.execute_sql("UPDATE sc_ab SET m = m + (SELECT count(*) FROM sc_ab b "
                                       "WHERE b.id < 3) WHERE id % 2 = 0")
                    res["ok"] = True
                except pd.PolaroidError as e:
                    res["err"] = e
                finally:
                    done.set()

            t = threading.Thread(target=upd)
            t.start()
            time.sleep(0.02)
            other.drop_table("sc_ab", if_exists=True)
            other.create_table("sc_ab", pa.schema([("id", pa.int64()), ("m", pa.int64())]))
            t.join()
            n = run(other, "SELECT count(*) AS n FROM sc_ab").to_pylist()[0]["n"]
            if "err" in res:
                e = res["err"]
                assert e.code in (grpc.StatusCode.ABORTED, grpc.StatusCode.NOT_FOUND), e
                if e.code == grpc.StatusCode.ABORTED:
                    assert "changed by another request" in str(e)
                    hits += 1
                assert n == 0  # the new, empty table is untouched
            else:
                assert n in (0, big)  # the UPDATE ran before the drop, or on the new table
            run(other, "DROP TABLE IF EXISTS sc_ab",
                f"CREATE TABLE sc_ab AS SELECT id, id % 7 AS m FROM range({big}) r(id)")
    finally:
        other.execute_sql("DROP TABLE IF EXISTS sc_ab")
        other.close()
    print("aborted", hits)


def test_transactions(client, tables, data):
    """BEGIN ... COMMIT applies all the statements between or none; ROLLBACK, a failing
    statement or a script that ends inside the transaction apply nothing."""
    d = tables
    tx = ["BEGIN", "INSERT INTO sc_g VALUES ('d', 4)", "UPDATE sc_t SET q = 0 WHERE g = 'd'",
          "DELETE FROM sc_t WHERE id % 10 = 3", "CREATE TABLE sc_t2 AS SELECT g, w * 2 AS w2 FROM sc_g",
          "UPDATE sc_g SET w = w + 100", "SELECT count(*) AS n, sum(w) AS s FROM sc_g"]
    # inside the transaction a statement sees the ones before it
    assert_same(run(client, *tx, "COMMIT", "SELECT count(*) AS n, sum(w) AS s FROM sc_g"),
                d.run(*tx, "COMMIT", "SELECT count(*) AS n, sum(w) AS s FROM sc_g"))
    both(client, d, CHECK, "SELECT * FROM sc_t2 ORDER BY g")
    before = {t: run(client, f"SELECT * FROM {t} ORDER BY 1, 2") for t in ("sc_t", "sc_g", "sc_t2")}

    def unchanged():
        for t, rows in before.items():
            assert run(client, f"SELECT * FROM {t} ORDER BY 1, 2").equals(rows), t
        assert "sc_new" not in names(client)

    # ROLLBACK: nothing, also for tables created, altered or dropped in it
    rb = ["BEGIN", "INSERT INTO sc_g VALUES ('x', 1)", "UPDATE sc_t SET q = -1", "DROP TABLE sc_t2",
          "CREATE TABLE sc_new (a INTEGER)", "ALTER TABLE sc_g RENAME TO sc_g_old", "ROLLBACK"]
    run(client, *rb)
    d.run(*rb)
    unchanged()
    both(client, d, "SELECT count(*) AS n FROM sc_g")
    # a failing statement inside: nothing of the transaction is applied
    with pytest.raises(pd.PolaroidError, match="nosuch"):
        run(client, "BEGIN", "INSERT INTO sc_g VALUES ('y', 2)", "DELETE FROM sc_t",
            "UPDATE sc_g SET w = nosuch", "COMMIT")
    unchanged()
    # a script ending inside the transaction: an error, nothing applied
    with pytest.raises(pd.PolaroidError, match="ended inside a transaction"):
        run(client, "BEGIN", "TRUNCATE sc_t")
    unchanged()
    # COMMIT / ROLLBACK without BEGIN and BEGIN twice are errors, as in DuckDB
    for bad in (["COMMIT"], ["ROLLBACK"], ["BEGIN", "BEGIN"]):
        with pytest.raises(pd.PolaroidError, match="transaction"):
            run(client, *bad)
        with pytest.raises(duckdb.Error):
            Duck(data.root).run(*bad)
    unchanged()


def test_commit_after_concurrent_append(server, client, data):
    """A transaction that rewrote a table others appended to meanwhile: COMMIT fails with ABORTED
    and applies nothing, or (the append came first) commits; an append is never lost."""
    run(client, f"CREATE TABLE sc_tx AS SELECT id, 0 AS n FROM range(200000) r(id)")
    other = pd.connect(server.address, timeout=120)
    outcomes = set()
    try:
        for i in range(4):
            res = {}

            def tx():
                try:
                    res["r"] = client.execute_sql(
                        "BEGIN; UPDATE sc_tx SET n = n + 1; "
                        "CREATE TABLE sc_slow AS SELECT count(*) AS c FROM sc_tx a, range(40) b(x) "
                        "WHERE a.id % 1000 = b.x; DROP TABLE sc_slow; COMMIT")
                except pd.PolaroidError as e:
                    res["e"] = e

            n0, s0 = run(other, "SELECT count(*) AS c, sum(n) AS s FROM sc_tx").to_pylist()[0].values()
            t = threading.Thread(target=tx)
            t.start()
            time.sleep(0.05)
            other.append("sc_tx", pa.table({"id": pa.array([10**9 + i], pa.int64()),
                                            "n": pa.array([0], pa.int64())}))
            t.join()
            c, s = run(other, "SELECT count(*) AS c, sum(n) AS s FROM sc_tx").to_pylist()[0].values()
            assert c == n0 + 1  # the append is kept either way
            if "e" in res:
                assert res["e"].code == grpc.StatusCode.ABORTED, res["e"]
                assert s == s0  # nothing of the transaction
                assert "sc_slow" not in names(other)
                outcomes.add("aborted")
            else:
                assert s in (s0 + n0, s0 + n0 + 1)
                outcomes.add("committed")
    finally:
        other.execute_sql("DROP TABLE IF EXISTS sc_tx; DROP TABLE IF EXISTS sc_slow")
        other.close()
    print("outcomes", outcomes)


def test_create_if_not_exists_races(server, client, data):
    """Clients racing CREATE TABLE IF NOT EXISTS ... AS a slow query: one table wins, whole, and
    no statement fails (the others keep it, as IF NOT EXISTS says); plain CREATE TABLE in the
    same race fails with ALREADY_EXISTS for all but one."""
    slow = "SELECT a.id % 1000 AS k, count(*) AS n FROM range(300000) a(id) GROUP BY 1"
    for if_not_exists in (True, False):
        run(client, "DROP TABLE IF EXISTS sc_race2")
        res = []

        def create(w):
            c = pd.connect(server.address, timeout=120)
            try:
                clause = "IF NOT EXISTS " if if_not_exists else ""
                c.execute_sql(f"CREATE TABLE {clause}sc_race2 AS SELECT {w} AS w, * FROM ({slow})")
                res.append("ok")
            except pd.PolaroidError as e:
                res.append(e.code)
            finally:
                c.close()

        ts = [threading.Thread(target=create, args=(w,)) for w in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        got = run(client, "SELECT count(*) AS n, count(DISTINCT w) AS dw FROM sc_race2").to_pylist()
        assert got == [{"n": 1000, "dw": 1}]
        if if_not_exists:
            assert res == ["ok"] * 3, res
        else:
            assert sorted(res, key=str).count("ok") == 1, res
            assert all(r == "ok" or r == grpc.StatusCode.ALREADY_EXISTS for r in res), res
    run(client, "DROP TABLE sc_race2")
