"""Temporary tables and views have their own namespace (DuckDB's temp schema, PostgreSQL's
pg_temp): CREATE TEMP TABLE / VIEW of a name a table or view already has makes a second object
that hides the first for unqualified names; DROP drops the temporary one first. Each case runs
the same statements in polaroid sql and DuckDB and compares the last query (or both refuse)."""
import pytest

BASE = ["CREATE TABLE t (a INTEGER, b VARCHAR)", "INSERT INTO t VALUES (1, 'main'), (2, 'rows')"]
BASE_AS = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, 'main'), (2, 'rows')) v(a, b)"]
TEMP = ["CREATE TEMP TABLE t (x DOUBLE)", "INSERT INTO t VALUES (0.5), (1.5)"]

CASES = [
    ("temp_hides_table", BASE + TEMP, "SELECT * FROM t ORDER BY ALL"),
    ("temporary_keyword", BASE + ["CREATE TEMPORARY TABLE t AS SELECT 7 AS q"], "SELECT * FROM t"),
    ("drop_drops_temp_first", BASE + TEMP + ["DROP TABLE t"], "SELECT * FROM t ORDER BY ALL"),
    ("drop_twice", BASE + TEMP + ["DROP TABLE t", "DROP TABLE t", "CREATE TABLE t AS SELECT 3 AS z"],
     "SELECT * FROM t"),
    ("changes_go_to_temp", BASE + TEMP + ["UPDATE t SET x = x * 10", "DELETE FROM t WHERE x > 10",
                                          "INSERT INTO t VALUES (-1)", "DROP TABLE t"],
     "SELECT * FROM t ORDER BY ALL"),
    ("changes_to_temp_seen", BASE + TEMP + ["UPDATE t SET x = x * 10", "INSERT INTO t VALUES (-1)"],
     "SELECT * FROM t ORDER BY ALL"),
    ("temp_view_hides_view", ["CREATE VIEW v AS SELECT 1 AS x", "CREATE TEMP VIEW v AS SELECT 2 AS y"],
     "SELECT * FROM v"),
    ("temp_view_hides_table", BASE + ["CREATE TEMP VIEW t AS SELECT 'view' AS b"],
     "SELECT * FROM t"),
    ("temp_view_dropped", BASE + ["CREATE TEMP VIEW t AS SELECT 5 AS y", "DROP VIEW t"],
     "SELECT * FROM t ORDER BY ALL"),
    ("table_made_after_temp", TEMP + BASE_AS, "SELECT * FROM t ORDER BY ALL"),
    ("table_made_after_temp_dropped", TEMP + BASE_AS + ["DROP TABLE t"], "SELECT * FROM t ORDER BY ALL"),
    ("temp_if_not_exists", BASE + TEMP + ["CREATE TEMP TABLE IF NOT EXISTS t AS SELECT 9 AS n"],
     "SELECT * FROM t ORDER BY ALL"),
    ("or_replace_temp", BASE + TEMP + ["CREATE OR REPLACE TEMP TABLE t AS SELECT 'new' AS s",
                                       "DROP TABLE t"], "SELECT * FROM t ORDER BY ALL"),
    ("or_replace_temp_shown", BASE + ["CREATE OR REPLACE TEMP TABLE t AS SELECT 'new' AS s"],
     "SELECT * FROM t"),
    ("join_reads_temp", BASE + TEMP + ["CREATE TABLE o AS SELECT 1.5 AS x"],
     "SELECT * FROM t JOIN o USING (x)"),
    ("rename_temp", BASE + TEMP + ["ALTER TABLE t RENAME TO t2"],
     "SELECT (SELECT count(*) FROM t) AS main_rows, (SELECT sum(x) FROM t2) AS temp_sum"),
    ("temp_keys", BASE + ["CREATE TEMP TABLE t (k INTEGER PRIMARY KEY, v INTEGER)",
                          "INSERT INTO t VALUES (1, 1), (2, 2)",
                          "INSERT INTO t VALUES (2, 20), (3, 30) ON CONFLICT (k) DO UPDATE SET v = excluded.v"],
     "SELECT * FROM t ORDER BY ALL"),
]


@pytest.mark.parametrize("name,stmts,query", CASES, ids=[c[0] for c in CASES])
def test_temp_namespace(sql, name, stmts, query):
    sql.check(query, setup=stmts)


ERRORS = [
    # one namespace holds one object per name, table or view
    ("temp_twice", BASE + TEMP + ["CREATE TEMP TABLE t (y INTEGER)"], ["t"]),
    ("table_twice", TEMP + BASE_AS + ["CREATE TABLE t (y INTEGER)"], ["t"]),
    ("temp_view_over_temp_table", TEMP + ["CREATE TEMP VIEW t AS SELECT 1 AS one"], ["t"]),
    ("temp_table_over_temp_view", ["CREATE TEMP VIEW t AS SELECT 1 AS one", "CREATE TEMP TABLE t (y INTEGER)"],
     ["t"]),
    # a temporary view over the table it hides would read itself (DuckDB: infinite recursion)
    ("temp_view_reads_itself", BASE + ["CREATE TEMP VIEW t AS SELECT b FROM t WHERE a = 2",
                                       "SELECT * FROM t"], ["t"]),
    ("drop_view_of_temp_table", BASE + TEMP + ["DROP VIEW t"], ["t"]),
    ("rename_onto_temp", BASE + TEMP + ["CREATE TEMP TABLE u (z INTEGER)", "ALTER TABLE u RENAME TO t"],
     ["t"]),
]


@pytest.mark.parametrize("name,stmts,needles", ERRORS, ids=[c[0] for c in ERRORS])
def test_temp_namespace_error(sql, name, stmts, needles):
    sql.error(stmts, *needles)
