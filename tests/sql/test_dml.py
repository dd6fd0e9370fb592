"""UPDATE, DELETE, TRUNCATE, ALTER TABLE and RETURNING in SQL sessions, compared with DuckDB:
each case runs the same statements in both engines and compares the last query's rows (or
both refuse, for the error cases). That a failing statement leaves the table as it was, and
the affected-row counts, are checked in tests/unit/sql/test_session.c (a script stops at its
first error)."""
import pytest

SETUP = [
    "CREATE TABLE t (a INTEGER, b VARCHAR, c DOUBLE)",
    "INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', 2.5), (3, 'z', NULL), (NULL, 'n', 4.25), "
    "(5, NULL, -1.0), (2, 'w', 0.5)",
    "CREATE TABLE o (a INTEGER, v INTEGER)",
    "INSERT INTO o VALUES (1, 10), (2, 20), (2, 20), (7, 70), (NULL, 0)",
    "CREATE TABLE d (id INTEGER NOT NULL, s VARCHAR DEFAULT 'dflt', n BIGINT DEFAULT 42)",
    "INSERT INTO d (id) VALUES (1), (2)",
]
CONFLICT = ["CREATE TABLE n (a INTEGER PRIMARY KEY, b INTEGER, c INTEGER UNIQUE)",
            "INSERT INTO n VALUES (1, 1, 1), (2, 2, 2)"]
# a table of several batches (range gives 2048-row morsels), to check gathers across batches
BIG = ["CREATE TABLE g AS SELECT i::INTEGER AS i, (i % 7)::VARCHAR AS s, i * 0.5 AS f "
       "FROM range(100000) r(i)"]
ALL_T = "SELECT * FROM t ORDER BY ALL"

CASES = [
    # DELETE
    ("delete_where", ["DELETE FROM t WHERE a > 2"], ALL_T),
    ("delete_where_null", ["DELETE FROM t WHERE a = NULL"], ALL_T),
    ("delete_where_or_null", ["DELETE FROM t WHERE b IS NULL OR c < 1"], ALL_T),
    ("delete_all", ["DELETE FROM t"], "SELECT count(*) AS n FROM t"),
    ("delete_in_subquery", ["DELETE FROM t WHERE a IN (SELECT a FROM o)"], ALL_T),
    ("delete_not_in_subquery", ["DELETE FROM t WHERE a NOT IN (SELECT a FROM o WHERE a IS NOT NULL)"],
     ALL_T),
    ("delete_exists", ["DELETE FROM t WHERE EXISTS (SELECT 1 FROM o WHERE o.a = t.a AND o.v > 10)"],
     ALL_T),
    ("delete_self_subquery", ["DELETE FROM t WHERE c > (SELECT avg(c) FROM t)"], ALL_T),
    ("delete_alias", ["DELETE FROM t AS x WHERE x.a = 2 AND x.b = 'w'"], ALL_T),
    ("delete_using", ["DELETE FROM t USING o WHERE t.a = o.a AND o.v >= 20"], ALL_T),
    ("delete_using_several", ["DELETE FROM t USING o, o AS o2 WHERE t.a = o.a AND o2.a = o.a"], ALL_T),
    ("delete_twice", ["DELETE FROM t WHERE a = 1", "DELETE FROM t WHERE a = 5"], ALL_T),
    ("delete_returning", [], "DELETE FROM t WHERE a >= 2 RETURNING a, b, c * 2 AS c2"),
    ("delete_returning_star", [], "DELETE FROM t USING o WHERE t.a = o.a RETURNING *"),
    ("delete_big", BIG + ["DELETE FROM g WHERE i % 3 = 0 OR i BETWEEN 5000 AND 70000"],
     "SELECT count(*) AS n, sum(i) AS si, min(i) AS lo, max(i) AS hi, sum(f) AS sf FROM g"),
    ("delete_big_order", BIG + ["DELETE FROM g WHERE i % 1000 <> 7"],
     "SELECT i, s, f FROM g ORDER BY i"),
    ("truncate", ["TRUNCATE t", "INSERT INTO t VALUES (9, 'q', 9.5)"], ALL_T),
    ("truncate_table", ["TRUNCATE TABLE t"], "SELECT count(*) AS n FROM t"),
    # UPDATE
    ("update_where", ["UPDATE t SET c = c * 2 WHERE a > 1"], ALL_T),
    ("update_all", ["UPDATE t SET b = upper(b)"], ALL_T),
    ("update_old_values", ["UPDATE t SET a = a + 10, c = a"], ALL_T),
    ("update_swap", ["UPDATE t SET a = c, c = a"], ALL_T),
    ("update_cast_to_varchar", ["UPDATE t SET b = c + a"], ALL_T),
    ("update_cast_string_to_int", ["UPDATE t SET a = '42' WHERE b = 'x'"], ALL_T),
    ("update_null", ["UPDATE t SET b = NULL, c = NULL WHERE a = 2"], ALL_T),
    ("update_no_match", ["UPDATE t SET a = 0 WHERE false"], ALL_T),
    ("update_case", ["UPDATE t SET b = CASE WHEN a % 2 = 0 THEN 'even' ELSE b END"], ALL_T),
    ("update_scalar_subquery", ["UPDATE t SET c = (SELECT max(v) FROM o)"], ALL_T),
    ("update_correlated", ["UPDATE t SET c = (SELECT sum(v) FROM o WHERE o.a = t.a)"], ALL_T),
    ("update_where_in", ["UPDATE t SET b = 'hit' WHERE a IN (SELECT a FROM o WHERE v > 10)"], ALL_T),
    ("update_from", ["UPDATE t SET c = o.v, b = b || '!' FROM o WHERE t.a = o.a AND o.v < 50"], ALL_T),
    ("update_from_alias", ["UPDATE t AS x SET a = y.v FROM o AS y WHERE x.a = y.a AND y.a = 1"], ALL_T),
    ("update_from_subquery", ["UPDATE t SET c = s.total FROM (SELECT a, sum(v) AS total FROM o "
                              "GROUP BY a) s WHERE s.a = t.a"], ALL_T),
    ("update_default", ["UPDATE d SET s = 'set', n = 7", "UPDATE d SET s = DEFAULT WHERE id = 2"],
     "SELECT * FROM d ORDER BY id"),
    ("update_returning", [], "UPDATE t SET c = c + 1 WHERE a <= 2 RETURNING a, c, b"),
    ("update_returning_star", [], "UPDATE t SET b = 'r' FROM o WHERE t.a = o.a AND o.v = 10 RETURNING *"),
    ("update_big", BIG + ["UPDATE g SET f = -f, s = 'u' WHERE i % 5 = 1 OR i > 99000"],
     "SELECT s, count(*) AS n, sum(f) AS sf, sum(i) AS si FROM g GROUP BY s ORDER BY s"),
    ("update_big_order", BIG + ["UPDATE g SET i = i * 2 WHERE i % 3 = 0",
                                "DELETE FROM g WHERE i % 997 <> 0"],
     "SELECT i, s, f FROM g ORDER BY f"),
    ("view_sees_change", ["CREATE VIEW v AS SELECT a, b FROM t WHERE a >= 2",
                          "UPDATE t SET a = a * 10 WHERE b = 'y'", "DELETE FROM t WHERE b = 'z'"],
     "SELECT * FROM v ORDER BY ALL"),
    # INSERT ... RETURNING, DEFAULT
    ("insert_returning", [], "INSERT INTO t VALUES (7, 'r', 7.5), (8, NULL, NULL) RETURNING a * 2 AS a2, b"),
    ("insert_returning_defaults", [], "INSERT INTO d (id) VALUES (5) RETURNING *"),
    ("insert_default_values_returning", ["CREATE TABLE e (x INTEGER DEFAULT 3, y VARCHAR)"],
     "INSERT INTO e DEFAULT VALUES RETURNING y, x"),
    ("insert_select_returning", [], "INSERT INTO o SELECT a, a * 100 FROM t WHERE a < 3 RETURNING v"),
    # ALTER TABLE
    ("add_column_default", ["ALTER TABLE t ADD COLUMN k INTEGER DEFAULT 7"], ALL_T),
    ("add_column_null", ["ALTER TABLE t ADD k VARCHAR", "INSERT INTO t VALUES (6, 'v', 1, 'kk')"], ALL_T),
    ("add_column_expr_default", ["ALTER TABLE t ADD COLUMN k DOUBLE DEFAULT 1 + 2",
                                 "INSERT INTO t (a) VALUES (11)"], ALL_T),
    ("add_column_if_not_exists", ["ALTER TABLE t ADD COLUMN IF NOT EXISTS a VARCHAR"], ALL_T),
    ("add_column_not_null_default", ["ALTER TABLE t ADD COLUMN k INTEGER NOT NULL DEFAULT 0"], ALL_T),
    ("drop_column", ["ALTER TABLE t DROP COLUMN b"], ALL_T),
    ("drop_column_if_exists", ["ALTER TABLE t DROP COLUMN IF EXISTS zz", "ALTER TABLE t DROP c"], ALL_T),
    ("rename_column", ["ALTER TABLE t RENAME COLUMN b TO bb"], "SELECT bb, a FROM t ORDER BY ALL"),
    ("rename_column_noword", ["ALTER TABLE t RENAME c TO cc", "UPDATE t SET cc = 0 WHERE a = 1"],
     "SELECT a, cc FROM t ORDER BY ALL"),
    ("rename_table", ["ALTER TABLE t RENAME TO t2", "CREATE TABLE t (z INTEGER)"],
     "SELECT * FROM t2 ORDER BY ALL"),
    ("alter_type_int_to_varchar", ["ALTER TABLE t ALTER COLUMN a TYPE VARCHAR"],
     "SELECT a, typeof(a) AS ty FROM t ORDER BY ALL"),
    ("alter_type_set_data", ["ALTER TABLE t ALTER COLUMN c SET DATA TYPE INTEGER"],
     "SELECT c, typeof(c) AS ty FROM t ORDER BY ALL"),
    ("alter_type_using", ["ALTER TABLE t ALTER b TYPE INTEGER USING length(b) + a"],
     "SELECT b, typeof(b) AS ty FROM t ORDER BY ALL"),
    ("alter_type_big", BIG + ["ALTER TABLE g ALTER s TYPE BIGINT", "ALTER TABLE g ALTER f TYPE DECIMAL(18,1)"],
     "SELECT sum(s) AS ss, sum(f) AS sf, typeof(min(s)) AS ts, typeof(min(f)) AS tf FROM g"),
    ("alter_type_empty", ["DELETE FROM t", "ALTER TABLE t ALTER a TYPE VARCHAR", "INSERT INTO t VALUES (1, 'x', 2)"],
     "SELECT a, typeof(a) AS ty FROM t"),
    ("update_empty_table", ["TRUNCATE t", "UPDATE t SET a = 1", "INSERT INTO t VALUES (1, 'x', 2)"], ALL_T),
    ("set_default", ["ALTER TABLE t ALTER COLUMN b SET DEFAULT 'new'", "INSERT INTO t (a) VALUES (9)"],
     ALL_T),
    ("drop_default", ["ALTER TABLE d ALTER COLUMN s DROP DEFAULT", "INSERT INTO d (id) VALUES (3)"],
     "SELECT * FROM d ORDER BY id"),
    ("drop_not_null", ["ALTER TABLE d ALTER COLUMN id DROP NOT NULL", "INSERT INTO d (s) VALUES ('k')"],
     "SELECT * FROM d ORDER BY ALL"),
    ("set_not_null", ["DELETE FROM t WHERE b IS NULL", "ALTER TABLE t ALTER COLUMN b SET NOT NULL"],
     ALL_T),
    ("alter_then_update", ["ALTER TABLE t ADD COLUMN k INTEGER", "UPDATE t SET k = a * 2",
                           "ALTER TABLE t DROP COLUMN a"], "SELECT * FROM t ORDER BY ALL"),
    # PRIMARY KEY / UNIQUE
    ("pk_update_shift", ["CREATE TABLE p (a INTEGER, b INTEGER, c VARCHAR, PRIMARY KEY (a, b))",
                         "INSERT INTO p VALUES (1, 1, 'x'), (1, 2, 'y')", "UPDATE p SET b = b + 1"],
     "SELECT * FROM p ORDER BY ALL"),
    ("unique_nulls", ["CREATE TABLE u (a INTEGER UNIQUE, b VARCHAR UNIQUE)",
                      "INSERT INTO u VALUES (1, 'x'), (NULL, 'y'), (NULL, 'z')",
                      "INSERT INTO u VALUES (2, NULL), (3, NULL)"], "SELECT * FROM u ORDER BY ALL"),
    ("pk_strings_case", ["CREATE TABLE s (a VARCHAR PRIMARY KEY, n INTEGER)",
                         "INSERT INTO s VALUES ('A', 1), ('a', 2), ('', 3)"], "SELECT * FROM s ORDER BY ALL"),
    ("pk_delete_reinsert", ["CREATE TABLE k (id INTEGER PRIMARY KEY, v INTEGER)",
                            "INSERT INTO k SELECT i, i FROM range(5000) r(i)",
                            "DELETE FROM k WHERE id % 2 = 0", "INSERT INTO k VALUES (0, -1), (4998, -2)",
                            "UPDATE k SET id = -id WHERE id = 4998"],
     "SELECT count(*) AS n, sum(id) AS s, sum(v) AS sv FROM k"),
    ("pk_drop_other_column", ["CREATE TABLE k2 (a INTEGER PRIMARY KEY, y VARCHAR UNIQUE, x INTEGER)",
                              "INSERT INTO k2 VALUES (1, 'p', 1)", "ALTER TABLE k2 DROP COLUMN x",
                              "INSERT INTO k2 VALUES (2, 'q')"], "SELECT * FROM k2 ORDER BY ALL"),
    ("pk_table_and_unique", ["CREATE TABLE w (a INTEGER, b INTEGER, UNIQUE (a), PRIMARY KEY (a, b))",
                             "INSERT INTO w VALUES (1, 1), (2, 1)"], "SELECT * FROM w ORDER BY ALL"),
    # INSERT ... ON CONFLICT DO NOTHING
    ("on_conflict_nothing", CONFLICT + ["INSERT INTO n VALUES (1, 5, 9), (3, 3, 3) ON CONFLICT DO NOTHING",
                                        "INSERT INTO n VALUES (4, 4, 4), (4, 5, 5) ON CONFLICT DO NOTHING",
                                        "INSERT INTO n VALUES (5, 5, 1) ON CONFLICT DO NOTHING",
                                        "INSERT INTO n VALUES (7, 7, 1), (7, 8, 8), (9, 9, 8) "
                                        "ON CONFLICT DO NOTHING"],
     "SELECT * FROM n ORDER BY ALL"),
    ("on_conflict_target", CONFLICT + ["INSERT INTO n VALUES (1, 9, 9), (8, 8, 8), (8, 0, 0) "
                                       "ON CONFLICT (a) DO NOTHING"], "SELECT * FROM n ORDER BY ALL"),
    ("on_conflict_nulls", CONFLICT + ["INSERT INTO n VALUES (10, 1, NULL), (11, 1, NULL) ON CONFLICT DO NOTHING"],
     "SELECT * FROM n ORDER BY ALL"),
    ("on_conflict_select", CONFLICT + ["INSERT INTO n SELECT i, i, i FROM range(5) r(i) ON CONFLICT DO NOTHING"],
     "SELECT * FROM n ORDER BY ALL"),
    ("on_conflict_returning", CONFLICT, "INSERT INTO n VALUES (2, 0, 0), (6, 6, 6) ON CONFLICT DO NOTHING "
                                        "RETURNING *"),
]


@pytest.mark.parametrize("name,stmts,query", CASES, ids=[c[0] for c in CASES])
def test_dml(sql, name, stmts, query):
    sql.check(query, setup=SETUP + stmts)


PK = ["CREATE TABLE p (a INTEGER, b INTEGER, c VARCHAR, PRIMARY KEY (a, b))",
      "INSERT INTO p VALUES (1, 1, 'x'), (1, 2, 'y')",
      "CREATE TABLE u (a INTEGER UNIQUE, b VARCHAR UNIQUE)",
      "INSERT INTO u VALUES (1, 'x'), (NULL, 'y'), (NULL, 'z')"]

ERRORS = [
    ("update_unknown_column", ["UPDATE t SET zz = 1"], ["zz"]),
    ("update_where_unknown", ["UPDATE t SET a = 1 WHERE zz = 2"], ["zz"]),
    ("update_twice", ["UPDATE t SET a = 1, a = 2"], ["\"a\""]),
    ("update_qualified_set", ["UPDATE t SET t.a = 1"], []),
    ("update_cast", ["UPDATE t SET a = 'abc'"], ["abc"]),
    ("update_not_null", ["UPDATE d SET id = NULL WHERE id = 2"], ["NOT NULL constraint failed: d.id"]),
    ("update_view", ["CREATE VIEW v AS SELECT * FROM t", "UPDATE v SET a = 1"], ["view"]),
    ("update_missing", ["UPDATE nosuch SET a = 1"], ["nosuch"]),
    ("delete_view", ["CREATE VIEW v AS SELECT * FROM t", "DELETE FROM v"], ["view"]),
    ("delete_missing", ["DELETE FROM nosuch"], ["nosuch"]),
    ("delete_where_unknown", ["DELETE FROM t WHERE zz = 1"], ["zz"]),
    ("delete_where_cast", ["DELETE FROM t WHERE a = 'zz'"], ["zz"]),
    ("truncate_view", ["CREATE VIEW v AS SELECT * FROM t", "TRUNCATE v"], ["view"]),
    ("returning_unknown", ["DELETE FROM t RETURNING zz"], ["zz"]),
    ("alter_type_cast", ["ALTER TABLE t ALTER b TYPE INTEGER"], []),
    ("drop_only_column", ["CREATE TABLE one (x INTEGER)", "ALTER TABLE one DROP COLUMN x"], ["only column"]),
    ("drop_missing_column", ["ALTER TABLE t DROP COLUMN zz"], ["zz"]),
    ("add_existing_column", ["ALTER TABLE t ADD COLUMN a INTEGER"], ["\"a\"", "already exists"]),
    ("add_not_null_no_default", ["ALTER TABLE t ADD COLUMN k INTEGER NOT NULL"], ["NOT NULL"]),
    ("set_not_null_with_nulls", ["ALTER TABLE t ALTER COLUMN b SET NOT NULL"], ["NOT NULL"]),
    ("rename_to_existing", ["ALTER TABLE t RENAME TO o"], ["already exists"]),
    ("rename_column_existing", ["ALTER TABLE t RENAME COLUMN a TO b"], ["already exists"]),
    ("rename_missing_column", ["ALTER TABLE t RENAME COLUMN zz TO y"], ["zz"]),
    ("alter_missing_table", ["ALTER TABLE nosuch ADD COLUMN x INTEGER"], ["nosuch"]),
    ("alter_view", ["CREATE VIEW v AS SELECT * FROM t", "ALTER TABLE v ADD COLUMN x INTEGER"], ["view"]),
    ("pk_insert_dup_values", ["CREATE TABLE p1 (x INTEGER PRIMARY KEY)", "INSERT INTO p1 VALUES (1), (1)"],
     ["duplicate key \"1\""]),
    ("pk_insert_dup_existing", PK + ["INSERT INTO p VALUES (1, 2, 'z')"],
     ["duplicate key \"a: 1, b: 2\" violates primary key"]),
    ("pk_insert_dup_new", PK + ["INSERT INTO p VALUES (3, 3, 'a'), (3, 3, 'b')"], ["duplicate key \"3, 3\""]),
    ("pk_insert_select_dup", PK + ["INSERT INTO p SELECT 1, 1, 'q'"], ["a: 1, b: 1"]),
    ("pk_update_dup", PK + ["UPDATE p SET b = 1"], ["duplicate key \"1, 1\""]),
    ("pk_null", PK + ["INSERT INTO p VALUES (NULL, 1, 'z')"], ["NOT NULL constraint failed: p.a"]),
    ("unique_insert_dup", PK + ["INSERT INTO u VALUES (2, 'x')"], ["duplicate key \"b: x\" violates unique"]),
    ("unique_update_dup", PK + ["UPDATE u SET a = 1"], ["duplicate key"]),
    ("pk_drop_key_column", PK + ["ALTER TABLE p DROP COLUMN a"], ["\"a\""]),
    ("pk_alter_type", PK + ["ALTER TABLE p ALTER b TYPE VARCHAR"], ["\"b\""]),
    ("pk_drop_not_null", PK + ["ALTER TABLE p ALTER a DROP NOT NULL"], ["primary key"]),
    ("pk_two", ["CREATE TABLE w2 (a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY)"], ["more than one primary key"]),
    ("pk_two_table", ["CREATE TABLE w3 (a INTEGER PRIMARY KEY, PRIMARY KEY (a))"], ["more than one primary key"]),
    ("pk_unknown_column", ["CREATE TABLE w4 (a INTEGER, PRIMARY KEY (zz))"], ["zz"]),
    ("pk_after_drop", ["CREATE TABLE k2 (a INTEGER PRIMARY KEY, x INTEGER)", "INSERT INTO k2 VALUES (1, 1)",
                       "ALTER TABLE k2 DROP COLUMN x", "INSERT INTO k2 VALUES (1)"], ["duplicate key"]),
    ("pk_after_rename", PK + ["ALTER TABLE p RENAME COLUMN a TO aa", "INSERT INTO p VALUES (1, 1, 'z')"],
     ["aa: 1, b: 1"]),
    ("pk_big", ["CREATE TABLE k (id INTEGER PRIMARY KEY)", "INSERT INTO k SELECT i FROM range(100000) r(i)",
                "INSERT INTO k VALUES (100000), (99999)"], ["id: 99999"]),
    ("on_conflict_no_keys", ["CREATE TABLE m (x INTEGER)", "INSERT INTO m VALUES (1) ON CONFLICT DO NOTHING"],
     ["PRIMARY KEY"]),
    ("on_conflict_other_key", CONFLICT + ["INSERT INTO n VALUES (6, 6, 1) ON CONFLICT (a) DO NOTHING"],
     ["duplicate key \"c: 1\""]),
    ("on_conflict_not_a_key", CONFLICT + ["INSERT INTO n VALUES (6, 6, 6) ON CONFLICT (b) DO NOTHING"], []),
]


@pytest.mark.parametrize("name,stmts,needles", ERRORS, ids=[c[0] for c in ERRORS])
def test_dml_error(sql, name, stmts, needles):
    sql.error(SETUP + stmts, *needles)
