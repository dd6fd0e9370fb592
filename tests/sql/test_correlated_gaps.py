"""Subquery forms that used to be refused, compared with DuckDB: subqueries in INSERT ...
VALUES (and UPDATE), correlated set operations (UNION / INTERSECT / EXCEPT inside a correlated
subquery), outer references inside a derived table of a subquery's FROM, subqueries in the ON
condition of outer joins, and unnest() beside subqueries in a grouped select. Each with NULL
keys, outer keys without matches (count(*) 0) and duplicate outer rows."""
import pytest

from test_correlated_more import SETUP as BASE  # tables t and u

SETUP = BASE + [
    "CREATE TABLE w AS SELECT range AS j, CASE WHEN range % 4 = 1 THEN NULL ELSE range % 5 END AS k, "
    "range * 3 % 7 AS z FROM range(12)",
]

# INSERT ... VALUES with subqueries (each value planned over one row with its subqueries), then
# UPDATE with them; the last statement reads the table.
DML_SETUP = ["CREATE TABLE d (a INTEGER, b VARCHAR, c DOUBLE)"]
DML = [
    ("values_scalar", ["INSERT INTO d VALUES ((SELECT max(y) FROM u) + 1, 'a', 1.5)"]),
    ("values_several_rows",
     ["INSERT INTO d VALUES ((SELECT count(*) FROM u WHERE y > 100), 'b', NULL), "
      "(3, (SELECT max(s) FROM t), (SELECT avg(y) FROM u WHERE k = 2))"]),
    ("values_empty_subquery", ["INSERT INTO d VALUES ((SELECT y FROM u WHERE y > 100), 'c', 2)"]),
    ("values_exists_in",
     ["INSERT INTO d VALUES (CASE WHEN EXISTS (SELECT 1 FROM u WHERE k IS NULL) THEN 1 ELSE 0 END, "
      "CAST(5 IN (SELECT k FROM u) AS VARCHAR), (SELECT sum(z) FROM w))"]),
    ("values_cast_to_column", ["INSERT INTO d (c, a) VALUES ((SELECT max(y) FROM u), (SELECT '7'))"]),
    ("values_then_update",
     ["INSERT INTO d VALUES ((SELECT min(y) FROM u), 'x', 0), (4, 'y', 1)",
      "UPDATE d SET a = (SELECT max(u.i) FROM u WHERE u.y = d.a) WHERE b = 'x'",
      "UPDATE d SET c = c + 10 WHERE a IN (SELECT k FROM u)"]),
]


@pytest.mark.parametrize("name,stmts", DML, ids=[n for n, _ in DML])
def test_gaps_dml(sql, name, stmts):
    sql.check("SELECT * FROM d ORDER BY ALL", setup=SETUP + DML_SETUP + stmts)


def test_gaps_values_too_many_rows(sql):
    sql.error(SETUP + DML_SETUP + ["INSERT INTO d VALUES ((SELECT y FROM u), 'a', 1)"],
              "more than one row returned by a subquery")


# Correlated set operations: each side planned over the same distinct outer values, the
# operation then per outer row.
SETOPS = [
    ("exists_union_all_select",
     "SELECT id, EXISTS (SELECT 1 FROM u WHERE u.k = t.g UNION ALL SELECT 1 FROM w WHERE w.k = t.g) AS e FROM t"),
    ("exists_union_all_where",
     "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.g AND u.y > 20 "
     "UNION ALL SELECT 1 FROM w WHERE w.k = t.g)"),
    ("not_exists_union",
     "SELECT id FROM t WHERE NOT EXISTS (SELECT k FROM u WHERE u.k = t.g AND u.y > 15 UNION SELECT k FROM w "
     "WHERE w.k = t.g AND w.z > 4)"),
    ("scalar_order_limit",
     "SELECT id, (SELECT max(y) FROM u WHERE u.k = t.g UNION ALL SELECT count(*) FROM w WHERE w.k = t.g "
     "ORDER BY 1 DESC LIMIT 1) AS m FROM t"),
    ("scalar_limit_offset",
     "SELECT id, (SELECT count(*) FROM u WHERE u.k = t.g UNION ALL SELECT 5 ORDER BY 1 LIMIT 1 OFFSET 1) AS m "
     "FROM t"),
    ("scalar_union_distinct",
     "SELECT id, (SELECT count(*) FROM u WHERE u.k = t.g UNION SELECT count(*) FROM u WHERE u.k = t.g) AS c FROM t"),
    ("scalar_outer_only", "SELECT id, (SELECT t.x + 1 UNION SELECT t.x + 1) AS c FROM t"),
    ("in_intersect",
     "SELECT id, x IN (SELECT y FROM u WHERE u.k = t.g INTERSECT SELECT z FROM w WHERE w.k <> t.g) AS a FROM t"),
    ("not_in_except",
     "SELECT id FROM t WHERE x NOT IN (SELECT y FROM u WHERE u.k = t.g EXCEPT SELECT z FROM w)"),
    ("exists_except_all",
     "SELECT id, EXISTS (SELECT k FROM u WHERE u.k = t.g EXCEPT ALL SELECT k FROM w) AS e FROM t"),
    ("three_sides",
     "SELECT id, x IN (SELECT y FROM u WHERE u.k = t.g UNION SELECT z FROM w WHERE w.k = t.x "
     "INTERSECT SELECT y FROM u WHERE u.v < t.x) AS a FROM t"),
    ("lateral_intersect_all",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT y FROM u WHERE u.k = t.g INTERSECT ALL "
     "SELECT z FROM w WHERE w.k = t.g) l"),
    ("grouped_outer",
     "SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g UNION ALL SELECT count(*) FROM w WHERE w.k = t.g "
     "ORDER BY 1 LIMIT 1) AS c FROM t GROUP BY g"),
    ("two_levels",
     "SELECT t.id, (SELECT count(*) FROM u WHERE u.k = t.g AND u.y IN (SELECT z FROM w WHERE w.j < t.id "
     "UNION SELECT u.v)) AS c FROM t"),
    ("side_without_from",
     "SELECT id FROM t WHERE EXISTS (SELECT 1 WHERE t.g IS NULL UNION ALL SELECT 1 FROM w WHERE w.k = t.g)"),
]


@pytest.mark.parametrize("name,query", SETOPS, ids=[n for n, _ in SETOPS])
def test_gaps_setop(sql, name, query):
    sql.check(query, setup=SETUP)


def test_gaps_setop_too_many_rows(sql):
    sql.error(SETUP + ["SELECT id, (SELECT y FROM u WHERE u.k = t.g UNION ALL SELECT z FROM w WHERE w.k = t.g) FROM t"],
              "more than one row returned by a subquery")


# Derived tables of a subquery's FROM that refer to the outer query: planned over the same
# distinct outer values as the subquery (each FROM row keeps its outer value).
DERIVED = [
    ("scalar_sum", "SELECT id, (SELECT sum(y) FROM (SELECT * FROM u WHERE u.k = t.g) s) AS m FROM t"),
    ("aggregate_inside",
     "SELECT id, (SELECT max(c) FROM (SELECT count(*) AS c FROM u WHERE u.k = t.g) s) AS m FROM t"),
    ("with_other_item",
     "SELECT id, (SELECT s.c + w.z FROM (SELECT count(*) AS c FROM u WHERE u.k = t.g) s, w WHERE w.j = t.id) AS m "
     "FROM t"),
    ("two_derived",
     "SELECT id, (SELECT count(*) FROM (SELECT y FROM u WHERE u.k = t.g) a, (SELECT z FROM w WHERE w.k = t.g) b "
     "WHERE a.y > b.z) AS c FROM t"),
    ("exists_inequality",
     "SELECT id FROM t WHERE EXISTS (SELECT 1 FROM (SELECT * FROM u WHERE u.v < t.x) s WHERE s.k = t.g)"),
    ("in_select_list", "SELECT id, x IN (SELECT y FROM (SELECT y FROM u WHERE u.k = t.g) s) AS a FROM t"),
    ("lateral_limit",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT * FROM (SELECT y FROM u WHERE u.k = t.g ORDER BY y LIMIT 2) s) l"),
    ("nested",
     "SELECT id, (SELECT count(*) FROM (SELECT * FROM (SELECT * FROM u WHERE u.k = t.g) a WHERE a.y < t.x) b, w "
     "WHERE w.j = t.id + b.i % 3) AS c FROM t"),
    ("grouped_outer", "SELECT g, (SELECT sum(y) FROM (SELECT * FROM u WHERE u.k = t.g) s) AS m FROM t GROUP BY g"),
    ("left_join_preserved",
     "SELECT id, (SELECT count(*) FROM (SELECT * FROM u WHERE u.k = t.g) s LEFT JOIN w ON s.k = w.k) AS c FROM t"),
    ("column_aliases", "SELECT id, (SELECT sum(b) FROM (SELECT * FROM u WHERE u.k = t.g) s(a, b, c)) AS m FROM t"),
    ("set_operation",
     "SELECT id, (SELECT count(*) FROM (SELECT k FROM u WHERE u.k = t.g UNION SELECT k FROM w) q) AS c FROM t"),
    ("union_by_name",
     "SELECT id, (SELECT count(*) FROM (SELECT 1 AS a, y FROM u WHERE u.k = t.g UNION ALL BY NAME "
     "SELECT z AS y, 2 AS a FROM w WHERE w.k = t.g)) AS c FROM t"),
    ("in_set_operation_side",
     "SELECT id, EXISTS (SELECT 1 FROM (SELECT * FROM u WHERE u.k = t.g) a UNION ALL SELECT 1 FROM w "
     "WHERE w.j = t.id) AS e FROM t"),
]


@pytest.mark.parametrize("name,query", DERIVED, ids=[n for n, _ in DERIVED])
def test_gaps_derived(sql, name, query):
    sql.check(query, setup=SETUP)


def test_gaps_derived_nullable_side(sql):
    """Refused (DuckDB runs it): the derived table would lose its outer value on NULL-filled rows."""
    r = sql.polaroid(SETUP + ["SELECT id, (SELECT count(*) FROM w LEFT JOIN (SELECT * FROM u WHERE u.k = t.g) s "
                              "ON s.k = w.k) FROM t"], fmt="csv")
    err = r.stderr.decode()
    assert r.returncode == 1 and "NULL-filled side of an outer join" in err, err


# Subqueries in the ON condition of outer joins (correlated with either side or not).
OUTER_ON = [
    ("left_scalar_correlated",
     "SELECT t.id, u.i FROM t LEFT JOIN u ON u.k = t.g AND u.y = (SELECT max(y) FROM u u2 WHERE u2.k = t.g)"),
    ("left_uncorrelated", "SELECT t.id, u.i FROM t LEFT JOIN u ON u.k = t.g AND u.y > (SELECT avg(y) FROM u)"),
    ("right", "SELECT t.id, u.i FROM t RIGHT JOIN u ON u.k = t.g AND u.y > (SELECT avg(y) FROM u) AND t.x < 8"),
    ("full_exists_both_sides",
     "SELECT t.id, u.i, u.y FROM t FULL JOIN u ON u.k = t.g AND EXISTS (SELECT 1 FROM w WHERE w.k = u.k "
     "AND w.z > t.x)"),
    ("left_in", "SELECT t.id, w.j FROM t LEFT JOIN w ON w.k IN (SELECT k FROM u WHERE u.y < t.x) AND w.j < 5"),
    ("full_not_in_counts",
     "SELECT count(*) AS n, count(u.i) AS nu, sum(t.id) AS st FROM t FULL OUTER JOIN u ON t.id = u.i "
     "AND t.x NOT IN (SELECT z FROM w)"),
    ("left_star", "SELECT * FROM t LEFT JOIN w ON w.k = t.g AND w.z = (SELECT min(z) FROM w w2 WHERE w2.k = t.g)"),
    ("chained",
     "SELECT a.id, b.id AS bid, w.j FROM t a LEFT JOIN t b ON b.id = a.id + 1 AND b.x > (SELECT avg(x) FROM t) "
     "LEFT JOIN w ON w.j = (SELECT min(j) FROM w WHERE w.k = a.g)"),
]


@pytest.mark.parametrize("name,query", OUTER_ON, ids=[n for n, _ in OUTER_ON])
def test_gaps_outer_join_on(sql, name, query):
    sql.check(query, setup=SETUP)


# unnest() over aggregates of a grouped select, beside subqueries of it.
UNNEST = [
    ("grouped_list", "SELECT g, unnest(list(x)) AS e FROM t GROUP BY g"),
    ("over_aggregates", "SELECT g, unnest([min(x), max(x), count(*)]) AS e FROM t GROUP BY g"),
    ("no_group_by", "SELECT unnest([1, 2]) AS e, count(*) AS n FROM t"),
    ("with_correlated_subquery",
     "SELECT g, unnest(list(x)) AS e, (SELECT count(*) FROM u WHERE u.k = t.g) AS c FROM t GROUP BY g"),
    ("of_correlated_subquery", "SELECT g, unnest((SELECT list(y) FROM u WHERE u.k = t.g)) AS e FROM t GROUP BY g"),
    ("filter_having_order",
     "SELECT g, unnest(list(x) FILTER (WHERE x > 3)) AS e, count(*) AS n FROM t GROUP BY g HAVING count(*) > 4"),
    ("outer_aggregate_in_subquery",
     "SELECT s, unnest(list(DISTINCT g)) + (SELECT min(y) FROM u WHERE u.k = max(t.g) - 2) AS e FROM t GROUP BY s"),
    ("rollup", "SELECT g, unnest(list(x)) AS e FROM t GROUP BY ROLLUP (g)"),
    ("flattened_subquery", "SELECT id, unnest((SELECT list(y) FROM u WHERE u.k < t.g)) AS e FROM t"),
]


@pytest.mark.parametrize("name,query", UNNEST, ids=[n for n, _ in UNNEST])
def test_gaps_unnest(sql, name, query):
    sql.check(query, setup=SETUP)


# CTEs of a correlated subquery that refer to the outer query: planned at each reference like
# a derived table there.
CTES = [
    ("scalar", "SELECT id, (WITH c AS (SELECT * FROM u WHERE u.k = t.g) SELECT count(*) FROM c) AS n FROM t"),
    ("column_names_and_chain",
     "SELECT id, (WITH c(a, b) AS (SELECT i, y FROM u WHERE u.k = t.g), d AS (SELECT max(b) AS m FROM c) "
     "SELECT sum(b) + min(d.m) FROM c, d) AS v FROM t"),
    ("exists_inequality",
     "SELECT id FROM t WHERE EXISTS (WITH c AS (SELECT * FROM u WHERE u.v < t.x) SELECT 1 FROM c WHERE c.k = t.g)"),
    ("self_join", "SELECT id, (WITH c AS (SELECT * FROM u WHERE u.k = t.g) SELECT count(*) FROM c x, c y "
                  "WHERE x.i < y.i) AS n FROM t"),
    ("nested_reference",
     "SELECT id, (WITH c AS (SELECT * FROM u WHERE u.k = t.g) SELECT count(*) FROM c WHERE c.y IN "
     "(SELECT c2.y FROM c c2 WHERE c2.i > c.i)) AS n FROM t"),
    ("in_where_subquery",
     "SELECT id, (WITH c AS (SELECT y FROM u WHERE u.k = t.g) SELECT count(*) FROM w WHERE w.z IN "
     "(SELECT y FROM c)) AS n FROM t"),
    ("lateral", "SELECT t.id, l.* FROM t, LATERAL (WITH c AS (SELECT y FROM u WHERE u.k = t.g) "
                "SELECT max(y) AS m, count(*) AS n FROM c) l"),
    ("in_select_list", "SELECT id, x IN (WITH c AS (SELECT y FROM u WHERE u.k = t.g) SELECT y FROM c) AS a FROM t"),
    ("materialized", "SELECT id, (WITH c AS MATERIALIZED (SELECT * FROM u WHERE u.k = t.g) SELECT count(*) FROM c) "
                     "AS n FROM t"),
    ("uncorrelated_cte", "SELECT id, (WITH c AS (SELECT * FROM u) SELECT count(*) FROM c WHERE c.k = t.g) AS n FROM t"),
    ("shadows_table", "SELECT id, (WITH u AS (SELECT * FROM u WHERE u.k = t.g) SELECT count(*) FROM u) AS n FROM t"),
]


@pytest.mark.parametrize("name,query", CTES, ids=[n for n, _ in CTES])
def test_gaps_cte(sql, name, query):
    sql.check(query, setup=SETUP)


def test_gaps_cte_error(sql):
    sql.error(SETUP + ["SELECT id, (WITH c AS (SELECT * FROM u WHERE u.k = t.zz) SELECT count(*) FROM c) FROM t"],
              'column "t.zz" not found')
