"""Semi and anti joins that hash their small left input (src/plan/joinorder.c,
semi_build_sides; src/exec/join PL_JK_BUILD_SEMI / BUILD_ANTI): the big right input probes and
marks the matched left rows, which (or the others) come out at the end. Results against DuckDB
for EXISTS / NOT EXISTS / IN / NOT IN with NULL keys, residual conditions (TPC-H Q21's shape),
composite keys and one worker; EXPLAIN shows the left side built."""
import pytest

from conftest import duckdb_parquet_tables, explain, parquet_views

GEN = {
    # 60000 rows: order key o in 0..14999 with NULLs, supplier s, two dates
    "items": "SELECT i AS id, CASE WHEN i % 97 = 0 THEN NULL ELSE i % 15000 END AS o, i % 13 AS s, "
             "i % 11 AS a, (i * 31) % 17 AS b FROM range(60000) t(i)",
    # 20000 orders, ~5 % selected by flag, some NULL keys
    "orders": "SELECT i AS id, CASE WHEN i % 53 = 0 THEN NULL ELSE i END AS o, "
              "CASE WHEN i % 19 = 0 THEN 1 ELSE 0 END AS flag, i % 13 AS s, i % 11 AS a "
              "FROM range(20000) t(i)",
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return duckdb_parquet_tables(tmp_path_factory.mktemp("semi_build_left"), GEN)


def views(tables):
    return parquet_views(tables)


QUERIES = {
    "exists": "SELECT id, o FROM orders WHERE flag = 1 AND EXISTS (SELECT 1 FROM items "
              "WHERE items.o = orders.o) ORDER BY id",
    "not_exists": "SELECT id, o FROM orders WHERE flag = 1 AND NOT EXISTS (SELECT 1 FROM items "
                  "WHERE items.o = orders.o) ORDER BY id",
    "in": "SELECT id FROM orders WHERE flag = 1 AND o IN (SELECT o FROM items WHERE b < 9) ORDER BY id",
    "not_in_nulls": "SELECT count(*) AS n FROM orders WHERE flag = 1 AND o NOT IN (SELECT o FROM items)",
    "not_in_no_nulls": "SELECT id FROM orders WHERE flag = 1 AND o NOT IN "
                       "(SELECT o FROM items WHERE o IS NOT NULL AND b < 3) ORDER BY id",
    "residual": "SELECT id FROM orders WHERE flag = 1 AND EXISTS (SELECT 1 FROM items "
                "WHERE items.o = orders.o AND items.s <> orders.s) ORDER BY id",
    "anti_residual": "SELECT id FROM orders WHERE flag = 1 AND NOT EXISTS (SELECT 1 FROM items "
                     "WHERE items.o = orders.o AND items.s <> orders.s) ORDER BY id",
    "composite": "SELECT id FROM orders WHERE flag = 1 AND EXISTS (SELECT 1 FROM items "
                 "WHERE items.o = orders.o AND items.a = orders.a) ORDER BY id",
    "no_order": "SELECT count(*) AS n, sum(id) AS s FROM orders WHERE flag = 1 AND EXISTS "
                "(SELECT 1 FROM items WHERE items.o = orders.o)",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_semi_build_left(sql, tables, name):
    q = QUERIES[name]
    sql.check(q, setup=views(tables), ordered="ORDER BY" in q)


@pytest.mark.parametrize("name", ["exists", "anti_residual"])
def test_semi_build_left_one_thread(sql, tables, name):
    sql.check(QUERIES[name], setup=views(tables), ordered=True, extra=("--threads", "1"))


@pytest.mark.parametrize("name", ["exists", "not_exists", "residual"])
def test_left_side_is_built(tables, tmp_path, name):
    out = explain(tmp_path, views(tables), QUERIES[name])
    joins = [ln.strip() for ln in out.splitlines() if "JOIN SEMI" in ln or "JOIN ANTI" in ln]
    assert joins and all("(build: left)" in ln for ln in joins), out
