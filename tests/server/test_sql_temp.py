"""SQL sessions and temporary tables on the server (src/server/sql_session.c, catalog.c):
CREATE TEMP TABLE / VIEW belong to the session that made them (Client.sql_session(), or the one
request when there is none), as a connection's do in DuckDB and PostgreSQL: other sessions and
clients do not see them, they hide shared objects of the same name, and they end with the
session. Results compared with DuckDB, one DuckDB connection (cursor) per server session."""
from __future__ import annotations

import time
import warnings

import duckdb
import pyarrow as pa
import pytest

import polaroid as pd
from helpers import assert_same
from polaroid._proto import polaroid_pb2 as pb
from polaroid._requests import execute_request


class Conn:
    """One DuckDB connection of a shared database (temporary objects are per connection)."""

    def __init__(self, db) -> None:
        self.con = db.cursor()

    def run(self, script: str) -> pa.Table:
        res = None
        for s in [x for x in script.split(";") if x.strip()]:
            res = self.con.execute(s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return res.to_arrow_table()


def both(sess, duck: Conn, script: str) -> None:
    got, want = sess.execute_sql(script), duck.run(script)
    if want.column_names == ["Success"]:
        assert got.num_rows == 0, (script, got)
    else:
        assert_same(got, want)


def names(client):
    return {t.name for t in client.list_tables()}


def test_temp_tables_belong_to_their_session(client):
    db = duckdb.connect()
    d1, d2 = Conn(db), Conn(db)
    with client.sql_session() as s1, client.sql_session() as s2:
        both(s1, d1, "CREATE TEMP TABLE st_a (k INTEGER, v VARCHAR)")
        both(s1, d1, "INSERT INTO st_a VALUES (1, 'one'), (2, 'two'), (3, NULL)")
        # a later request of the same session sees it, and can change it
        both(s1, d1, "UPDATE st_a SET v = 'TWO' WHERE k = 2; DELETE FROM st_a WHERE k = 3")
        both(s1, d1, "CREATE TEMPORARY VIEW st_v AS SELECT k * 10 AS k10, v FROM st_a")
        both(s1, d1, "SELECT * FROM st_v ORDER BY k10")
        both(s1, d1, "ALTER TABLE st_a ADD COLUMN w DOUBLE; INSERT INTO st_a VALUES (4, 'four', 0.5)")
        both(s1, d1, "SELECT * FROM st_a ORDER BY k")
        # nobody else sees it: another session, a request without one, the catalog
        for run in (s2.execute_sql, client.execute_sql, lambda q: client.sql(q).collect()):
            for q in ("SELECT * FROM st_a", "SELECT * FROM st_v"):
                with pytest.raises(pd.PolaroidError, match="st_[av]"):
                    run(q)
                with pytest.raises(duckdb.Error):
                    d2.run(q)
        assert not {"st_a", "st_v"} & names(client)
        # the other session may use the same names for its own
        both(s2, d2, "CREATE TEMP TABLE st_a AS SELECT 7 AS x")
        both(s2, d2, "SELECT * FROM st_a")
        both(s1, d1, "SELECT count(*) AS n FROM st_a")
        # dropped in the session, gone from it
        both(s1, d1, "DROP VIEW st_v")
        with pytest.raises(pd.PolaroidError, match="st_v"):
            s1.execute_sql("SELECT * FROM st_v")
        sid = s1.id
    # the session ended: its id is unknown, and its objects are gone
    with pytest.raises(pd.PolaroidError, match="closed"):
        s1.execute_sql("SELECT 1")
    req = execute_request(client.sql("SELECT * FROM st_a").plan, session_id=sid)
    with pytest.raises(pd.NotFoundError, match="SQL session"):
        pd.ResultStream(client, req, 30).read_all()
    assert not {"st_a", "st_v"} & names(client)


def test_without_a_session_temp_objects_last_one_request(client):
    db = duckdb.connect()
    d = Conn(db)
    script = ("CREATE TEMP TABLE st_once (a BIGINT); INSERT INTO st_once VALUES (1), (2); "
              "CREATE TEMP VIEW st_once_v AS SELECT sum(a) AS s FROM st_once; "
              "SELECT s FROM st_once_v")
    assert_same(client.execute_sql(script), d.run(script))
    assert not {"st_once", "st_once_v"} & names(client)
    with pytest.raises(pd.PolaroidError, match="st_once"):
        client.execute_sql("SELECT * FROM st_once")
    # shared tables made in the same script stay shared
    try:
        client.execute_sql("CREATE TEMP TABLE st_src AS SELECT 5 AS a; "
                           "CREATE TABLE st_shared AS SELECT a + 1 AS b FROM st_src")
        assert "st_shared" in names(client) and "st_src" not in names(client)
        assert client.execute_sql("SELECT b FROM st_shared").to_pylist() == [{"b": 6}]
    finally:
        client.execute_sql("DROP TABLE IF EXISTS st_shared")


def test_temp_hides_shared_table_and_keys(client):
    db = duckdb.connect()
    d1, d_other = Conn(db), Conn(db)
    try:
        with client.sql_session() as s1:
            both(s1, d1, "CREATE TEMP TABLE st_h (k INTEGER PRIMARY KEY, n BIGINT)")
            both(s1, d1, "INSERT INTO st_h VALUES (1, 10), (2, 20)")
            # another client then makes a shared table of that name: the session keeps seeing
            # its own (a temporary object comes first, as in DuckDB's search path)
            script = "CREATE TABLE st_h (k INTEGER, n BIGINT); INSERT INTO st_h VALUES (9, 90)"
            client.execute_sql(script)
            d_other.run(script)
            both(s1, d1, "SELECT * FROM st_h ORDER BY k")
            # the keys of a temporary table last across requests
            both(s1, d1, "INSERT INTO st_h VALUES (2, 5), (3, 30) "
                         "ON CONFLICT (k) DO UPDATE SET n = st_h.n + excluded.n")
            both(s1, d1, "INSERT OR IGNORE INTO st_h VALUES (1, -1), (4, 40)")
            both(s1, d1, "SELECT * FROM st_h ORDER BY k")
            with pytest.raises(pd.PolaroidError, match="(?i)key"):
                s1.execute_sql("INSERT INTO st_h VALUES (1, 0)")
            assert_same(client.execute_sql("SELECT * FROM st_h ORDER BY k"),
                        d_other.run("SELECT * FROM st_h ORDER BY k"))
            # dropping the temporary table shows the shared one again
            both(s1, d1, "DROP TABLE st_h")
            both(s1, d1, "SELECT * FROM st_h ORDER BY k")
    finally:
        client.execute_sql("DROP TABLE IF EXISTS st_h")


def test_temp_table_made_over_shared_table(client):
    """CREATE TEMP TABLE / VIEW of a shared table's name: the temporary object has its own
    namespace and hides the shared one in its session only; DROP drops the temporary one."""
    db = duckdb.connect()
    d1, d2 = Conn(db), Conn(db)
    try:
        with client.sql_session() as s1, client.sql_session() as s2:
            both(s1, d1, "CREATE TABLE st_sh (k INTEGER, v VARCHAR); "
                         "INSERT INTO st_sh VALUES (1, 'shared'), (2, 'rows')")
            both(s1, d1, "CREATE TEMP TABLE st_sh (x DOUBLE); INSERT INTO st_sh VALUES (0.5)")
            both(s1, d1, "SELECT * FROM st_sh")
            # the other session and requests without one still see the shared table
            both(s2, d2, "SELECT * FROM st_sh ORDER BY k")
            assert_same(client.execute_sql("SELECT * FROM st_sh ORDER BY k"),
                        d2.run("SELECT * FROM st_sh ORDER BY k"))
            # changes go to the temporary table; the shared one takes changes from others
            both(s1, d1, "INSERT INTO st_sh VALUES (1.5); UPDATE st_sh SET x = x * 2")
            both(s2, d2, "INSERT INTO st_sh VALUES (3, 'more')")
            both(s1, d1, "SELECT * FROM st_sh ORDER BY x")
            both(s2, d2, "SELECT * FROM st_sh ORDER BY k")
            # a temporary view and a temporary table of one name clash (one namespace)
            with pytest.raises(pd.PolaroidError, match="st_sh"):
                s1.execute_sql("CREATE TEMP VIEW st_sh AS SELECT 1 AS one")
            # DROP drops the temporary table: the shared one shows again, unchanged
            both(s1, d1, "DROP TABLE st_sh")
            both(s1, d1, "SELECT * FROM st_sh ORDER BY k")
            both(s1, d1, "CREATE TEMP VIEW st_sh AS SELECT 42 AS answer")
            both(s1, d1, "SELECT * FROM st_sh")
            both(s2, d2, "SELECT count(*) AS n FROM st_sh")
            both(s1, d1, "DROP VIEW st_sh; SELECT count(*) AS n FROM st_sh")
        assert "st_sh" in names(client)
    finally:
        client.execute_sql("DROP TABLE IF EXISTS st_sh")


def test_temp_objects_in_transactions(client):
    db = duckdb.connect()
    d = Conn(db)
    with client.sql_session() as s:
        both(s, d, "CREATE TEMP TABLE st_t (a INTEGER); INSERT INTO st_t VALUES (1)")
        s.execute_sql("BEGIN; INSERT INTO st_t VALUES (2); CREATE TEMP TABLE st_t2 (b INTEGER); "
                      "ROLLBACK")
        d.run("BEGIN; INSERT INTO st_t VALUES (2); CREATE TEMP TABLE st_t2 (b INTEGER); ROLLBACK")
        both(s, d, "SELECT * FROM st_t ORDER BY a")
        with pytest.raises(pd.PolaroidError, match="st_t2"):
            s.execute_sql("SELECT * FROM st_t2")
        script = "BEGIN; INSERT INTO st_t VALUES (3); CREATE TEMP TABLE st_t2 AS SELECT 4 AS b; COMMIT"
        s.execute_sql(script)
        d.run(script)
        both(s, d, "SELECT a FROM st_t UNION ALL SELECT b FROM st_t2 ORDER BY 1")
        assert not {"st_t", "st_t2"} & names(client)


def test_session_ttl_and_errors(client, server):
    # a session expires like a handle when nothing renews it
    other = pd.connect(server.address, timeout=60, heartbeat_interval=3600)
    try:
        s = other.sql_session(ttl=1)
        s.execute_sql("CREATE TEMP TABLE st_x AS SELECT 1 AS a")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                s.execute_sql("SELECT * FROM st_x")
            except pd.NotFoundError as e:
                assert "SQL session" in str(e)
                break
            time.sleep(1.5)  # an unused second lets the TTL pass
        else:
            pytest.fail("the session did not expire")
    finally:
        other.close()
    # a session id is not a DataFrame handle, and a handle id is not a session
    with client.sql_session() as s:
        with pytest.raises(pd.NotFoundError):
            client._df(pb.Relation(handle=pb.HandleRef(id=s.id)), ()).collect()
        h = client.sql("SELECT 1 AS a").cache()
        hid = h._deps[0].id
        req = execute_request(client.sql("SELECT 1").plan, session_id=hid)
        with pytest.raises(pd.NotFoundError, match="SQL session"):
            pd.ResultStream(client, req, 30).read_all()
    with pytest.raises(pd.InvalidArgumentError, match="sql_session"):
        client._call(client._create_handle_rpc,
                     pb.CreateHandleRequest(sql_session=True, materialize=True), retry=False)
