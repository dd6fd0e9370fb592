"""ORs in the conditions of inner joins (optimize.c, factor_ors; TPC-H Q19) and correlated
aggregate subqueries whose value over no rows is NULL (plan_subquery.c, empty_values_null;
TPC-H Q2, Q17, Q20), compared with DuckDB on small tables with NULLs and unmatched keys.

factor_ors takes the conjuncts common to every branch of an OR out of it (so that a key
equality repeated in each branch becomes a hash key) and adds, per side, the OR of each
branch's restrictions of that side; the tests cover branches left empty, sides a branch does
not restrict, NULLs in three-valued logic, nested ORs, JOIN ... ON, outer joins (left alone)
and three-way joins. empty_values_null skips the rows of outer keys without a group when the
subquery's value over no rows is NULL: min/avg/sum and expressions of them, against count and
coalesce (which keep them), NULL keys on both sides, two correlation keys. rotate_cross:
a cross join of two tables that the next join connects both to is rotated away; `*` keeps
the FROM order."""
import decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="module")
def tabs(tmp_path_factory):
    d = tmp_path_factory.mktemp("joinor")
    n = 60
    a = pa.table({
        "k": pa.array([None if i % 13 == 0 else i % 17 for i in range(n)], pa.int32()),
        "k2": pa.array([i % 3 for i in range(n)], pa.int32()),
        "x": pa.array([None if i % 7 == 0 else (i * 5) % 11 for i in range(n)], pa.int32()),
        "s": [None if i % 9 == 0 else "s%d" % (i % 4) for i in range(n)],
    })
    b = pa.table({
        "k": pa.array([None if i % 11 == 0 else (i * 3) % 23 for i in range(n)], pa.int32()),
        "k2": pa.array([i % 2 for i in range(n)], pa.int32()),
        "y": pa.array([None if i % 5 == 0 else (i * 7) % 13 for i in range(n)], pa.int64()),
        "d": pa.array([None if i % 8 == 0 else decimal.Decimal(i * 125) / 100 for i in range(n)],
                      pa.decimal128(9, 2)),
    })
    c = pa.table({"k2": pa.array([0, 1, 2, None], pa.int32()), "z": ["c0", "c1", "c2", "cn"]})
    paths = {}
    for name, t in [("a", a), ("b", b), ("c", c)]:
        p = d / f"{name}.parquet"
        pq.write_table(t, p)
        paths[name] = str(p)
    return [f"CREATE VIEW {k} AS SELECT * FROM read_parquet('{v}')" for k, v in paths.items()]


OR_QUERIES = {
    "common_key": "SELECT a.k, a.x, b.y FROM a, b WHERE (a.k = b.k AND a.x > 5) "
                  "OR (a.k = b.k AND b.y < 3)",
    "common_key_twice": "SELECT a.k, a.s, b.y FROM a, b WHERE (a.k = b.k AND a.k2 = b.k2 AND "
                        "a.x > 2) OR (a.k2 = b.k2 AND a.k = b.k AND b.y IS NULL)",
    "branch_emptied": "SELECT a.k, a.x, b.y FROM a, b WHERE (a.k = b.k) OR (a.k = b.k AND a.x > 5)",
    "implied_both_sides": "SELECT a.k, a.x, b.k AS bk, b.y FROM a, b WHERE (a.x = 1 AND b.y = 2) "
                          "OR (a.x = 2 AND b.y = 3) OR (a.x IS NULL AND b.y = 4)",
    "implied_one_side": "SELECT a.k, a.x, b.y FROM a, b WHERE a.k2 = b.k2 AND "
                        "((a.x = 1 AND b.y = 2) OR b.y = 5)",
    "three_valued": "SELECT a.k, a.x, b.y FROM a, b WHERE (a.k = b.k AND a.x IS NULL) "
                    "OR (a.k = b.k AND b.y > 1 AND a.x < 4)",
    "not_or": "SELECT a.k, a.x, b.y FROM a, b WHERE a.k = b.k AND NOT ((a.k = b.k AND a.x > 1) "
              "OR (a.k = b.k AND b.y > 1))",
    "nested_or": "SELECT a.k, b.y FROM a, b WHERE ((a.k = b.k AND a.x = 1) OR (a.k = b.k AND a.x = 2)) "
                 "OR (b.k = a.k AND b.y = 7)",
    "join_on": "SELECT a.k, a.x, b.y FROM a JOIN b ON (a.k = b.k AND a.x > 3) "
               "OR (a.k = b.k AND b.y < 4)",
    "left_join_on": "SELECT a.k, a.x, b.y FROM a LEFT JOIN b ON (a.k = b.k AND a.x > 3) "
                    "OR (a.k = b.k AND b.y < 4)",
    "where_over_left_join": "SELECT a.k, a.x, b.y FROM a LEFT JOIN b ON a.k = b.k "
                            "WHERE (a.x > 3 AND b.y < 6) OR (a.x < 2 AND b.y IS NULL)",
    "three_tables": "SELECT a.k, b.y, c.z FROM a, b, c WHERE (a.k = b.k AND c.k2 = a.k2 AND "
                    "c.z = 'c1') OR (a.k = b.k AND c.k2 = b.k2 AND c.z = 'c0' AND a.x > 4)",
    "decimal_and_strings": "SELECT a.s, b.d FROM a, b WHERE (a.k = b.k AND b.d > 20 AND a.s = 's1') "
                           "OR (a.k = b.k AND b.d < 10 AND a.s LIKE 's%')",
    "aggregate": "SELECT count(*) AS n, sum(b.y) AS sy FROM a, b WHERE "
                 "(a.k = b.k AND a.x BETWEEN 1 AND 5) OR (a.k = b.k AND b.y IN (1, 2, 3))",
}


@pytest.mark.parametrize("name", list(OR_QUERIES))
@pytest.mark.parametrize("threads", ["1", "2"])
def test_join_or(sql, tabs, name, threads):
    sql.check(OR_QUERIES[name], setup=tabs, extra=("--threads", threads))


# (A x B) JOIN C on keys over A and C and over B and C: rotated to (A JOIN C) JOIN B under a
# projection restoring the columns' order (optimize.c, rotate_cross; TPC-H Q2, Q8, Q9)
ROTATE_QUERIES = {
    "star": "SELECT * FROM a, c, b WHERE a.k = b.k AND c.k2 = b.k2",
    "star_residual": "SELECT * FROM a, c, b WHERE a.k = b.k AND c.k2 = b.k2 AND a.x + 1 > b.y",
    "qualified_same_names": "SELECT a.k, b.k, a.k2, b.k2, c.k2, c.z FROM a, c, b "
                            "WHERE b.k = a.k AND b.k2 = c.k2 AND c.z <> 'c2'",
    "not_distinct_key": "SELECT a.k, c.z, b.y FROM a, c, b WHERE a.k IS NOT DISTINCT FROM b.k "
                        "AND c.k2 IS NOT DISTINCT FROM b.k2",
    "expression_keys": "SELECT a.x, c.z, b.y FROM a, c, b WHERE a.k + 1 = b.k + 1 "
                       "AND c.k2 = b.k2 % 2",
    "two_keys_each": "SELECT a.s, b.d, c.z FROM a, c, b WHERE a.k = b.k AND a.k2 = b.k2 "
                     "AND c.k2 = b.k2 AND c.k2 = a.k2",
    "four_tables": "SELECT a.k, b.y, c.z, c2.z AS z2 FROM a, c, b, c AS c2 WHERE a.k = b.k "
                   "AND c.k2 = b.k2 AND c2.k2 = a.k2",
    "grouped": "SELECT c.z, count(*) AS n, sum(b.y) AS sy FROM a, c, b WHERE a.k = b.k "
               "AND c.k2 = b.k2 GROUP BY c.z",
}


@pytest.mark.parametrize("name", list(ROTATE_QUERIES))
@pytest.mark.parametrize("threads", ["1", "2"])
def test_rotate_cross(sql, tabs, name, threads):
    sql.check(ROTATE_QUERIES[name], setup=tabs, extra=("--threads", threads))


SCALAR_QUERIES = {
    "min_select": "SELECT a.k, (SELECT min(b.y) FROM b WHERE b.k = a.k) AS m FROM a",
    "avg_where": "SELECT a.k, a.x FROM a WHERE a.x < (SELECT 0.2 * avg(b.y) FROM b "
                 "WHERE b.k = a.k) + 1",
    "sum_where_gt": "SELECT a.k, a.x FROM a WHERE a.x > (SELECT 0.5 * sum(b.y) FROM b "
                    "WHERE b.k = a.k)",
    "min_eq": "SELECT a.k, a.x FROM a WHERE a.x = (SELECT min(b.y) FROM b WHERE b.k = a.k)",
    "two_keys": "SELECT a.k, a.k2, (SELECT max(b.d) FROM b WHERE b.k = a.k AND b.k2 = a.k2) AS m "
                "FROM a",
    "count_kept": "SELECT a.k, (SELECT count(*) FROM b WHERE b.k = a.k) AS n FROM a",
    "count_col_kept": "SELECT a.k, (SELECT count(b.y) + 1 FROM b WHERE b.k = a.k) AS n FROM a",
    "coalesce_kept": "SELECT a.k, (SELECT coalesce(sum(b.y), -1) FROM b WHERE b.k = a.k) AS s FROM a",
    "count_plus_sum": "SELECT a.k, (SELECT count(*) + sum(b.y) FROM b WHERE b.k = a.k) AS s FROM a",
    "two_values": "SELECT a.k FROM a WHERE a.x >= (SELECT min(b.y) FROM b WHERE b.k = a.k) "
                  "AND a.x <= (SELECT max(b.y) FROM b WHERE b.k = a.k)",
    "string_agg": "SELECT a.k, (SELECT string_agg(CAST(b.y AS VARCHAR), ',' ORDER BY b.y) FROM b "
                  "WHERE b.k = a.k) AS l FROM a",
    "filtered_inner": "SELECT a.k, (SELECT avg(b.y) FROM b WHERE b.k = a.k AND b.y > 4) AS v FROM a",
    "comma_outer": "SELECT a.k, c.z FROM a, c WHERE a.k2 = c.k2 AND a.x < "
                   "(SELECT avg(b.y) FROM b WHERE b.k = a.k)",
}


@pytest.mark.parametrize("name", list(SCALAR_QUERIES))
def test_scalar_agg_empty(sql, tabs, name):
    sql.check(SCALAR_QUERIES[name], setup=tabs)
