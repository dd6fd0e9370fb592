"""SQL scripts that change the server's catalog (src/server/sql_session.c): CREATE TABLE [AS],
INSERT, CREATE [OR REPLACE] VIEW and DROP through Execute (Client.execute_sql), compared with the
same statements run in DuckDB; tables and views are shared by every client; INSERT is atomic and
readers keep their snapshot; failing statements leave the catalog as it was."""
from __future__ import annotations

import threading
import warnings

import duckdb
import pyarrow as pa
import pytest

import polaroid as pd
from helpers import assert_same

TR = "read_parquet('trades/*.parquet')"


class Duck:
    """A DuckDB connection over the data root, run statement by statement like the server."""

    def __init__(self, root):
        self.con = duckdb.connect()
        self.con.execute(f"SET file_search_path = '{root}'")

    def run(self, *stmts: str) -> pa.Table:
        res = None
        for s in stmts:
            res = self.con.execute(s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return res.to_arrow_table()


def run(client, *stmts: str) -> pa.Table:
    return client.execute_sql(";\n".join(stmts))


def same_as_duck(client, d: Duck, *stmts: str) -> None:
    """The script's result (its last statement's) equals DuckDB's."""
    assert_same(run(client, *stmts), d.run(*stmts))


def names(client):
    return {t.name for t in client.list_tables()}


def test_create_insert_select_as_duckdb(client, data):
    d = Duck(data.root)
    script = [
        "CREATE TABLE ss_t (id BIGINT, g VARCHAR, x DOUBLE)",
        "INSERT INTO ss_t VALUES (1, 'a', 1.5), (2, NULL, NULL), (3, 'b', -2.25)",
        f"INSERT INTO ss_t SELECT id, g, x FROM {TR} WHERE id % 97 = 0",
        "INSERT INTO ss_t (g, id) VALUES ('z', 99)",
    ]
    for s in script:
        same_as_duck(client, d, s)  # the "Count" of rows inserted (none for CREATE)
    same_as_duck(client, d, "SELECT g, count(*) AS n, sum(x) AS sx, max(id) AS mi FROM ss_t "
                 "GROUP BY g ORDER BY g NULLS LAST")
    # the table is a live table like CreateTable's: listed, readable through the table API
    assert "ss_t" in names(client)
    assert client.table("ss_t").collect().num_rows == d.run("SELECT count(*) FROM ss_t")[0][0].as_py()
    run(client, "DROP TABLE ss_t")
    assert "ss_t" not in names(client)


def test_script_result_is_last_statement(client, data):
    d = Duck(data.root)
    script = [
        f"CREATE TABLE ss_s AS SELECT id, q FROM {TR} WHERE id < 500",
        "INSERT INTO ss_s SELECT id + 1000, q FROM ss_s WHERE q > 0",
        "SELECT count(*) AS n, sum(q) AS s, min(id) AS lo, max(id) AS hi FROM ss_s",
    ]
    same_as_duck(client, d, *script)
    # a script ending in DML: the rows it changed
    got = run(client, "SELECT 1", "INSERT INTO ss_s VALUES (7, 7), (8, 8)")
    assert got.column_names == ["Count"] and got.to_pylist() == [{"Count": 2}]
    got = run(client, "DROP TABLE ss_s")
    assert got.column_names == ["Count"] and got.num_rows == 0


def test_two_clients_share_tables_and_views(server, client, data):
    other = pd.connect(server.address, timeout=120)
    try:
        run(client, "CREATE TABLE ss_shared (k INTEGER, v VARCHAR)",
            "INSERT INTO ss_shared VALUES (1, 'one')")
        run(other, "INSERT INTO ss_shared VALUES (2, 'two')",
            "CREATE VIEW ss_shared_v AS SELECT k * 10 AS k10, v FROM ss_shared")
        got = run(client, "SELECT * FROM ss_shared_v ORDER BY k10")
        assert got.to_pylist() == [{"k10": 10, "v": "one"}, {"k10": 20, "v": "two"}]
        # a view is planned at each use: it sees rows added later, also through Append
        client.append("ss_shared", pa.table({"k": pa.array([3], pa.int32()), "v": ["three"]}))
        assert run(other, "SELECT count(*) AS n FROM ss_shared_v").to_pylist() == [{"n": 3}]
        # the view works in plain (lazy) queries too
        assert pd.connect(server.address).sql("SELECT max(k10) AS m FROM ss_shared_v").collect() \
            .to_pylist() == [{"m": 30}]
        run(other, "CREATE OR REPLACE VIEW ss_shared_v AS SELECT v FROM ss_shared WHERE k = 2")
        assert run(client, "SELECT * FROM ss_shared_v").to_pylist() == [{"v": "two"}]
        run(client, "DROP VIEW ss_shared_v")
        with pytest.raises(pd.PolaroidError, match="ss_shared_v"):
            run(other, "SELECT * FROM ss_shared_v")
    finally:
        client.execute_sql("DROP VIEW IF EXISTS ss_shared_v; DROP TABLE IF EXISTS ss_shared")
        other.close()


def test_sql_and_rpc_tables_mix(client, data):
    client.create_table("ss_rpc", pa.schema([("a", pa.int64()), ("b", pa.string())]))
    try:
        run(client, "INSERT INTO ss_rpc VALUES (1, 'x'), (2, NULL)")
        client.append("ss_rpc", pa.table({"a": [3], "b": ["y"]}))
        got = run(client, "SELECT a, b FROM ss_rpc ORDER BY a")
        assert got.to_pylist() == [{"a": 1, "b": "x"}, {"a": 2, "b": None}, {"a": 3, "b": "y"}]
    finally:
        client.drop_table("ss_rpc", if_exists=True)


def test_insert_while_reading_keeps_snapshot(server, client, data):
    run(client, f"CREATE TABLE ss_big AS SELECT * FROM {TR}")
    try:
        n0 = data.trades.num_rows
        rs = client.execute(client.table("ss_big").plan, max_message_bytes=64 << 10,
                            shared_memory=False)
        it = rs.batches()
        first = next(it)
        other = pd.connect(server.address, timeout=120)
        # concurrent inserts from several clients: none is lost
        errs = []

        def ins(i):
            try:
                c = pd.connect(server.address, timeout=120)
                c.execute_sql(f"INSERT INTO ss_big SELECT * FROM ss_big WHERE id = {i}")
                c.close()
            except Exception as e:  # pragma: no cover - reported below
                errs.append(e)

        ts = [threading.Thread(target=ins, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errs, errs
        rest = sum(b.num_rows for b in it)
        assert first.num_rows + rest == n0  # the reader's snapshot
        assert run(other, "SELECT count(*) AS n FROM ss_big").to_pylist() == [{"n": n0 + 4}]
        other.close()
    finally:
        client.execute_sql("DROP TABLE IF EXISTS ss_big")


def count(client, table):
    return client.execute_sql(f"SELECT count(*) AS n FROM {table}").column(0)[0].as_py()


def test_errors_leave_catalog_unchanged(client, data):
    run(client, "CREATE TABLE ss_err (a INTEGER NOT NULL, s VARCHAR)",
        "INSERT INTO ss_err VALUES (1, 'x')")
    try:
        with pytest.raises(pd.AlreadyExistsError, match='"ss_err" already exists'):
            run(client, "CREATE TABLE ss_err (z INTEGER)")
        with pytest.raises(pd.NotFoundError, match='"ss_nope"'):
            run(client, "INSERT INTO ss_nope VALUES (1)")
        with pytest.raises(pd.PolaroidError) as e:
            client.execute_sql("INSERT INTO ss_err VALUES (2, 'ok'), ('three', 'bad')")
        assert e.value.sql_position is not None
        with pytest.raises(pd.PolaroidError, match="NOT NULL"):
            run(client, "INSERT INTO ss_err VALUES (NULL, 'n')")
        # statements before a failing one stay done; the failing one changes nothing
        script = "INSERT INTO ss_err VALUES (5, 'five');\nINSERT INTO ss_err VALUES (6, 'six'), (7, nosuch)"
        with pytest.raises(pd.PolaroidError) as e:
            client.execute_sql(script)
        assert e.value.sql_position == script.index("nosuch")
        assert run(client, "SELECT a, s FROM ss_err ORDER BY a").to_pylist() == \
            [{"a": 1, "s": "x"}, {"a": 5, "s": "five"}]
        # a failing rewrite changes nothing either (test_sql_change.py has the rest)
        with pytest.raises(pd.PolaroidError, match="NOT NULL"):
            run(client, "UPDATE ss_err SET a = NULL WHERE a = 5")
        assert count(client, "ss_err") == 2
        # DEFAULT, which the server would not keep, is refused (keys: test_sql_keys.py)
        for stmt in ("CREATE TABLE ss_err2 (a INTEGER DEFAULT 3)",):
            with pytest.raises(pd.PolaroidError, match='server table "ss_err2"'):
                run(client, stmt)
        assert "ss_err2" not in names(client)
        # a view and a table cannot share a name
        with pytest.raises(pd.PolaroidError, match="ss_err"):
            run(client, "CREATE VIEW ss_err AS SELECT 1 AS one")
        # plain queries (Schema, lazy frames inside plans) still take only queries
        with pytest.raises(pd.PolaroidError):
            client.sql("DROP TABLE ss_err").schema
        assert count(client, "ss_err") == 2
    finally:
        client.execute_sql("DROP TABLE IF EXISTS ss_err")
    assert "ss_err" not in names(client)


def test_drop_create_as_and_paths(client, data):
    # a table dropped and made again in one script
    same_as_duck(client, Duck(data.root), f"CREATE TABLE ss_r AS SELECT g, count(*) AS n FROM {TR} "
                 "GROUP BY g", "DROP TABLE ss_r", f"CREATE TABLE ss_r AS SELECT g, sum(q) AS s "
                 f"FROM {TR} GROUP BY g", "SELECT * FROM ss_r ORDER BY g NULLS LAST")
    with pytest.raises(pd.PolaroidError):
        run(client, "INSERT INTO ss_r SELECT g, 1 FROM read_parquet('../escape.parquet')")
    run(client, "DROP TABLE ss_r")


def test_error_line_and_column(client):
    """An error in a script names its line and column (1-based, in characters: a multi-byte
    character before it counts once) and shows the line with a caret, like `polaroid sql`."""
    script = "SELECT 1 AS one;\n-- a comment\nSELECT 'é' AS e,\n\tnosuch + 1 AS x"
    with pytest.raises(pd.PolaroidError) as e:
        client.execute_sql(script)
    err = e.value
    assert err.sql_position == len(script[:script.index("nosuch")].encode())  # bytes
    assert (err.sql_line, err.sql_column) == (4, 2)
    assert str(err).splitlines()[-2:] == ["LINE 4:  nosuch + 1 AS x", " " * 9 + "^"]
    with pytest.raises(pd.PolaroidError) as e:
        client.execute_sql("SELECT 'é' AS e, nosuch")
    assert (e.value.sql_line, e.value.sql_column) == (1, len("SELECT 'é' AS e, ") + 1)


def test_server_gives_line_and_column(client):
    """The server itself locates a SQL error (ErrorDetail.sql_line / sql_column, and "line L,
    column C" in the status message, as `polaroid sql` says it), for scripts and for SQL in a
    plan alike; a multi-byte character counts once."""
    q = "SELECT 1 AS a,\n  'é' || nosuch AS b"
    want = (2, len("  'é' || ") + 1)
    with pytest.raises(pd.PolaroidError) as e:
        client.sql(q).collect()  # no client-side help: only what the server sent
    err = e.value
    assert (err.sql_line, err.sql_column) == want
    assert err.sql_position == len(q[:q.index("nosuch")].encode())
    assert f"line {want[0]}, column {want[1]}" in err.message
    assert f"SQL line {want[0]}, column {want[1]}" in err.where
    # in a script: the whole script's line, past a statement that ran
    script = "CREATE TABLE ss_lc (a INTEGER);\nINSERT INTO ss_lc VALUES (1);\n" + q
    try:
        with pytest.raises(pd.PolaroidError) as e:
            client.execute_sql(script)
        assert (e.value.sql_line, e.value.sql_column) == (want[0] + 2, want[1])
        assert f"line {want[0] + 2}, column {want[1]}" in e.value.message
    finally:
        client.execute_sql("DROP TABLE IF EXISTS ss_lc")
