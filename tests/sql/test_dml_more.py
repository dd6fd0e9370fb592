"""The INSERT and CREATE TABLE forms of DuckDB beyond the basics (tests/sql/test_dml.py):
CREATE OR REPLACE TABLE [AS], CREATE TEMP TABLE, INSERT ... BY NAME / BY POSITION, WITH before
INSERT / UPDATE / DELETE, INSERT OR IGNORE / OR REPLACE and ON CONFLICT ... DO UPDATE (upserts),
compared with DuckDB: each case runs the same statements in both engines and compares the last
query's rows (or both refuse, for the error cases). Affected-row counts, atomicity and the key
index are checked in tests/unit/sql/test_session.c."""
import pytest

SETUP = [
    "CREATE TABLE t (a INTEGER, b VARCHAR, c DOUBLE)",
    "INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', 2.5), (3, 'z', NULL)",
    "CREATE TABLE d (id INTEGER NOT NULL, s VARCHAR DEFAULT 'dflt', n BIGINT DEFAULT 42)",
    "INSERT INTO d (id) VALUES (1), (2)",
    # one key: OR REPLACE and DO UPDATE without conflict columns
    "CREATE TABLE k (id INTEGER PRIMARY KEY, px DOUBLE, sz INTEGER, note VARCHAR DEFAULT 'n')",
    "INSERT INTO k VALUES (1, 1.5, 10, 'a'), (2, 2.5, 20, 'b'), (3, NULL, 30, NULL)",
    # a composite key
    "CREATE TABLE c2 (a INTEGER, b VARCHAR, v INTEGER, PRIMARY KEY (a, b))",
    "INSERT INTO c2 VALUES (1, 'p', 1), (1, 'q', 2), (2, 'p', 3)",
    # a quant's latest-quote table
    "CREATE TABLE quote (sym VARCHAR PRIMARY KEY, ts INTEGER, px DOUBLE, n INTEGER DEFAULT 0)",
    "INSERT INTO quote VALUES ('AAA', 1, 10.0, 1), ('BBB', 1, 20.0, 1)",
]
ALL_T = "SELECT * FROM t ORDER BY ALL"
ALL_K = "SELECT * FROM k ORDER BY ALL"
ALL_Q = "SELECT * FROM quote ORDER BY ALL"

CASES = [
    # CREATE OR REPLACE TABLE, TEMP
    ("replace_table", ["CREATE OR REPLACE TABLE t (z DOUBLE, y INTEGER DEFAULT 7)",
                       "INSERT INTO t (z) VALUES (1.5)"], ALL_T),
    ("replace_table_as_self", ["CREATE OR REPLACE TABLE t AS SELECT a * 10 AS a10, b FROM t WHERE a > 1"],
     ALL_T),
    ("replace_table_drops_keys", ["CREATE OR REPLACE TABLE k AS SELECT * FROM k", "INSERT INTO k SELECT * FROM k"],
     ALL_K),
    ("replace_table_new_keys", ["CREATE OR REPLACE TABLE k (id VARCHAR PRIMARY KEY)",
                                "INSERT INTO k VALUES ('x') ON CONFLICT DO NOTHING",
                                "INSERT INTO k VALUES ('x'), ('y') ON CONFLICT DO NOTHING"], ALL_K),
    ("replace_temp_table", ["CREATE OR REPLACE TEMP TABLE t AS SELECT 1 AS x"], ALL_T),
    ("replace_new_name", ["CREATE OR REPLACE TABLE fresh AS SELECT 2 AS x"], "SELECT * FROM fresh"),
    ("create_temp", ["CREATE TEMP TABLE tt (a INTEGER, b VARCHAR DEFAULT 'q')", "INSERT INTO tt (a) VALUES (5)",
                     "CREATE TEMPORARY TABLE t2 AS SELECT a + 1 AS a FROM tt"],
     "SELECT * FROM tt, t2"),
    ("create_if_not_exists", ["CREATE TABLE IF NOT EXISTS t (q INTEGER)",
                              "CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS q"], ALL_T),
    # BY NAME / BY POSITION
    ("by_name", ["INSERT INTO k BY NAME SELECT 7 AS sz, 9 AS id"], ALL_K),
    ("by_name_casts", ["INSERT INTO t BY NAME SELECT '4.25' AS c, 8 AS a"], ALL_T),
    ("by_name_defaults", ["INSERT INTO d BY NAME SELECT 'given' AS s, 5 AS id"], "SELECT * FROM d ORDER BY id"),
    ("by_name_case", ["INSERT INTO t BY NAME SELECT 'w' AS B, 9 AS A"], ALL_T),
    ("by_name_query", ["INSERT INTO t BY NAME SELECT c * 2 AS c, a + 10 AS a FROM t WHERE a < 3"], ALL_T),
    ("by_position", ["INSERT INTO t BY POSITION SELECT 5, 'p', 0.5"], ALL_T),
    ("by_name_returning", [], "INSERT INTO d BY NAME SELECT 7 AS id RETURNING *"),
    # WITH before INSERT / UPDATE / DELETE
    ("with_insert", ["WITH x AS (SELECT a + 100 AS a, b FROM t) INSERT INTO t SELECT a, b, 0 FROM x"], ALL_T),
    ("with_insert_cols", ["WITH x AS (SELECT 42 AS v) INSERT INTO t (c, a) SELECT v, v FROM x"], ALL_T),
    ("with_insert_two", ["WITH x AS (SELECT 1 AS v), y AS (SELECT v + 1 AS w FROM x) "
                         "INSERT INTO t SELECT w, 'two', w FROM y"], ALL_T),
    ("with_insert_nested_with", ["WITH x AS (SELECT 5 AS v) INSERT INTO t WITH y AS (SELECT v * 2 AS w FROM x) "
                                 "SELECT w, 'n', w FROM y"], ALL_T),
    ("with_insert_values", ["WITH x AS (SELECT 6 AS v) INSERT INTO t VALUES (6, 'v', 1), (7, 'w', 2)"], ALL_T),
    ("with_insert_returning", [], "WITH x AS (SELECT 9 AS v) INSERT INTO t SELECT v, 'r', v FROM x RETURNING a, b"),
    ("with_update", ["WITH x AS (SELECT 2 AS a) UPDATE t SET b = 'upd' WHERE a IN (SELECT a FROM x)"], ALL_T),
    ("with_delete", ["WITH x AS (SELECT a FROM t WHERE c > 2) DELETE FROM t WHERE a IN (SELECT a FROM x)"], ALL_T),
    # INSERT OR IGNORE / OR REPLACE
    ("or_ignore", ["INSERT OR IGNORE INTO k VALUES (1, 9, 9, 'i'), (9, 9, 9, 'i'), (9, 8, 8, 'j')"], ALL_K),
    ("or_ignore_select", ["INSERT OR IGNORE INTO k SELECT i, i, i, 's' FROM range(5) r(i)"], ALL_K),
    ("or_replace", ["INSERT OR REPLACE INTO k VALUES (1, 11, 11, 'r'), (10, 10, 10, 'r')"], ALL_K),
    ("or_replace_cols", ["INSERT OR REPLACE INTO k (id, px) VALUES (1, 4), (3, 5)"], ALL_K),
    ("or_replace_select", ["INSERT OR REPLACE INTO k SELECT id + 1, px * 2, sz, 'sel' FROM k"], ALL_K),
    ("or_replace_composite", ["INSERT OR REPLACE INTO c2 VALUES (1, 'q', 20), (3, 'q', 30)"],
     "SELECT * FROM c2 ORDER BY ALL"),
    ("or_replace_returning", [], "INSERT OR REPLACE INTO k VALUES (2, 0, 0, 'z'), (11, 1, 1, 'y') RETURNING *"),
    # ON CONFLICT DO UPDATE
    ("upsert_excluded", ["INSERT INTO k VALUES (1, 9, 9, 'u'), (4, 4, 4, 'new') "
                         "ON CONFLICT DO UPDATE SET px = excluded.px, note = excluded.note"], ALL_K),
    ("upsert_target", ["INSERT INTO k VALUES (2, 22, 22, 'u') ON CONFLICT (id) DO UPDATE "
                       "SET px = excluded.px, sz = k.sz + excluded.sz"], ALL_K),
    ("upsert_unqualified_old", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET px = px + 1, "
                                "sz = sz * 2"], ALL_K),
    ("upsert_alias", ["INSERT INTO k AS kk VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET px = kk.px * 2"],
     ALL_K),
    ("upsert_excluded_upper", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET px = EXCLUDED.px"],
     ALL_K),
    ("upsert_where_new", ["INSERT INTO k VALUES (1, 900, 9, 'u'), (2, 1, 1, 'u'), (5, 5, 5, 'new') "
                          "ON CONFLICT DO UPDATE SET px = excluded.px WHERE excluded.px > 100"], ALL_K),
    ("upsert_where_old", ["INSERT INTO k VALUES (1, 7, 7, 'u'), (3, 7, 7, 'u') "
                          "ON CONFLICT DO UPDATE SET px = excluded.px WHERE k.px IS NULL"], ALL_K),
    ("upsert_where_false", ["INSERT INTO k VALUES (1, 7, 7, 'u') ON CONFLICT DO UPDATE SET sz = 0 WHERE false"],
     ALL_K),
    ("upsert_default", ["INSERT INTO k VALUES (2, 9, 9, 'u') ON CONFLICT DO UPDATE SET sz = DEFAULT, "
                        "note = DEFAULT"], ALL_K),
    ("upsert_null", ["INSERT INTO k VALUES (1, 9, NULL, 'u') ON CONFLICT DO UPDATE SET sz = excluded.sz, "
                     "px = NULL"], ALL_K),
    ("upsert_cast", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET note = excluded.px * 2, "
                     "sz = '77'"], ALL_K),
    ("upsert_cols_defaults", ["INSERT INTO k (id, sz) VALUES (3, 5) ON CONFLICT DO UPDATE "
                              "SET px = excluded.px, note = excluded.note"], ALL_K),
    ("upsert_key_column", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET id = 77"], ALL_K),
    ("upsert_composite", ["INSERT INTO c2 VALUES (1, 'q', 9), (2, 'q', 5) ON CONFLICT (b, a) DO UPDATE "
                          "SET v = c2.v + excluded.v"], "SELECT * FROM c2 ORDER BY ALL"),
    ("upsert_select", ["INSERT INTO k SELECT i, i * 1.5, i, 's' FROM range(6) r(i) "
                       "ON CONFLICT DO UPDATE SET sz = k.sz + excluded.sz"], ALL_K),
    ("upsert_returning", [], "INSERT INTO k VALUES (1, 9, 9, 'u'), (8, 3, 3, 'n') ON CONFLICT DO UPDATE "
                             "SET sz = excluded.sz * 10 RETURNING *"),
    ("upsert_returning_where", [], "INSERT INTO k VALUES (1, 9, 9, 'u'), (8, 3, 3, 'n') ON CONFLICT DO UPDATE "
                                   "SET sz = 0 WHERE excluded.px > 100 RETURNING id, sz"),
    ("upsert_twice", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET sz = k.sz + 1",
                      "INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET sz = k.sz + 1",
                      "DELETE FROM k WHERE id = 2",
                      "INSERT INTO k VALUES (2, 0, 0, 'back') ON CONFLICT DO UPDATE SET sz = -1"], ALL_K),
    ("latest_quote", ["INSERT INTO quote VALUES ('AAA', 3, 11.0, 1), ('CCC', 2, 30.0, 1) ON CONFLICT (sym) "
                      "DO UPDATE SET ts = excluded.ts, px = excluded.px, n = quote.n + 1 "
                      "WHERE excluded.ts > quote.ts",
                      "INSERT INTO quote VALUES ('AAA', 2, 99.0, 1) ON CONFLICT (sym) "
                      "DO UPDATE SET ts = excluded.ts, px = excluded.px, n = quote.n + 1 "
                      "WHERE excluded.ts > quote.ts",
                      "INSERT OR REPLACE INTO quote (sym, px) VALUES ('BBB', 21.5)"], ALL_Q),
    ("upsert_big", ["CREATE TABLE big (id BIGINT PRIMARY KEY, v BIGINT, w VARCHAR)",
                    "INSERT INTO big SELECT i, i, 'o' FROM range(20000) r(i)",
                    "INSERT INTO big SELECT i * 3, -i, 'n' FROM range(10000) r(i) "
                    "ON CONFLICT DO UPDATE SET v = big.v + excluded.v, w = excluded.w",
                    "INSERT OR REPLACE INTO big SELECT i * 7, 0, 'r' FROM range(5000) r(i)",
                    "INSERT OR IGNORE INTO big SELECT i * 11, 1, 'i' FROM range(5000) r(i)"],
     "SELECT w, count(*) AS n, sum(v) AS sv, sum(id) AS si, min(id) AS lo, max(id) AS hi FROM big "
     "GROUP BY w ORDER BY w"),
]


@pytest.mark.parametrize("name,stmts,query", CASES, ids=[c[0] for c in CASES])
def test_dml_more(sql, name, stmts, query):
    sql.check(query, setup=SETUP + stmts)


ERRORS = [
    ("replace_view", ["CREATE VIEW v AS SELECT 1 AS x", "CREATE OR REPLACE TABLE v (a INTEGER)"], ["\"v\""]),
    ("replace_view_as", ["CREATE VIEW v AS SELECT 1 AS x", "CREATE OR REPLACE TABLE v AS SELECT 2 AS y"],
     ["\"v\""]),
    ("replace_if_not_exists", ["CREATE OR REPLACE TABLE IF NOT EXISTS t (a INTEGER)"], ["IF NOT EXISTS"]),
    ("replace_as_fails", ["CREATE OR REPLACE TABLE t AS SELECT 'abc'::INTEGER AS a"], ["abc"]),
    ("by_name_unknown", ["INSERT INTO k BY NAME SELECT 4 AS id, 7 AS zz"], ["zz"]),
    ("by_name_values", ["INSERT INTO k BY NAME VALUES (5, 1, 1, 'x')"], ["BY NAME"]),
    ("by_name_cols", ["INSERT INTO k (id) BY NAME SELECT 4 AS id"], []),
    ("default_values_cols", ["INSERT INTO d (id) DEFAULT VALUES"], []),
    ("or_ignore_no_keys", ["INSERT OR IGNORE INTO t VALUES (1, 'x', 1)"], ["PRIMARY KEY"]),
    ("or_replace_no_keys", ["INSERT OR REPLACE INTO t VALUES (1, 'x', 1)"], ["PRIMARY KEY"]),
    ("or_replace_two_keys", ["CREATE TABLE k2 (a INTEGER PRIMARY KEY, b INTEGER UNIQUE)",
                             "INSERT OR REPLACE INTO k2 VALUES (1, 1)"], ["conflict"]),
    ("upsert_two_keys", ["CREATE TABLE k2 (a INTEGER PRIMARY KEY, b INTEGER UNIQUE)",
                         "INSERT INTO k2 VALUES (1, 1) ON CONFLICT DO UPDATE SET b = 2"], ["conflict"]),
    ("upsert_not_a_key", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT (px) DO UPDATE SET sz = 1"],
     ["PRIMARY KEY"]),
    ("upsert_unknown_column", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET zz = 1"], ["zz"]),
    ("upsert_unknown_ref", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET sz = excluded.zz"],
     ["zz"]),
    ("upsert_cast_error", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET sz = 'abc'"], ["abc"]),
    ("upsert_not_null", ["CREATE TABLE nn (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
                         "INSERT INTO nn VALUES (1, 1)",
                         "INSERT INTO nn VALUES (1, 2) ON CONFLICT DO UPDATE SET v = NULL"],
     ["NOT NULL constraint failed: nn.v"]),
    ("upsert_key_clash", ["INSERT INTO k VALUES (1, 9, 9, 'u') ON CONFLICT DO UPDATE SET id = 2"],
     ["duplicate key", "2"]),
    ("upsert_no_keys", ["INSERT INTO t VALUES (1, 'x', 1) ON CONFLICT DO UPDATE SET c = 0"], ["PRIMARY KEY"]),
    ("upsert_new_row_dup", ["INSERT INTO k VALUES (7, 1, 1, 'a'), (8, 1, 1, 'b'), (8, 2, 2, 'c') "
                            "ON CONFLICT (id) DO NOTHING", "INSERT INTO k VALUES (9, 0, 0, 'x'), (9, 0, 0, 'y')"],
     ["duplicate key \"9\""]),
]


@pytest.mark.parametrize("name,stmts,needles", ERRORS, ids=[c[0] for c in ERRORS])
def test_dml_more_error(sql, name, stmts, needles):
    sql.error(SETUP + stmts, *needles)
