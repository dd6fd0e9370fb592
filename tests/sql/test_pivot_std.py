"""The SQL standard PIVOT and UNPIVOT after a FROM item, `FROM t PIVOT (agg(...) [AS a], ... FOR col IN (v [AS
n], ...) [GROUP BY keys]) [alias]` (session_forms.c rewrites it into a grouped query with FILTERed
aggregates), compared with DuckDB at run time: keys by default (the columns neither pivoted nor
aggregated), GROUP BY, aliases, several aggregates, values without rows, NULL keys, the pivot
as a subquery, in a CTE and joined; `item UNPIVOT [INCLUDE NULLS] (val FOR name IN (c1, ...))`
(rows row by row, NULL values left out unless INCLUDE NULLS)."""
import pytest

from test_pivot import SETUP

CASES = [
    ("basic", "FROM t PIVOT (sum(x) FOR k IN ('p', 'q'))"),
    ("select_star", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q'))"),
    ("group_by", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g)"),
    ("group_by_two", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g, y)"),
    ("count_star", "SELECT * FROM t PIVOT (count(*) FOR k IN ('p', 'r''s') GROUP BY g)"),
    ("value_alias", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('p' AS pp, 'q') GROUP BY g)"),
    ("agg_alias", "SELECT * FROM t PIVOT (sum(x) AS s FOR k IN ('p', 'q') GROUP BY g)"),
    ("two_aggs", "SELECT * FROM t PIVOT (sum(x) AS s, max(z) AS m FOR k IN ('p', 'q') GROUP BY g)"),
    ("two_aggs_unnamed", "SELECT * FROM t PIVOT (sum(x), max(z) FOR k IN ('p', 'q') GROUP BY g)"),
    ("expression_arg", "SELECT * FROM t PIVOT (sum(x + z) FOR k IN ('p', 'q'))"),
    ("numbers", "SELECT * FROM t PIVOT (sum(x) FOR y IN (2024, 2026) GROUP BY g)"),
    ("no_rows_value", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('zz', 'p') GROUP BY g)"),
    ("alias_where", "SELECT p.g, p.p FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g) p WHERE p.g <> 'b'"),
    ("as_alias", "SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g) AS pv ORDER BY pv.g"),
    ("subquery_source", "SELECT * FROM (SELECT g, k, x FROM t WHERE x > 1) PIVOT (sum(x) FOR k IN ('p', 'q'))"),
    ("in_subquery", "SELECT count(*) AS n, sum(p) AS sp FROM (SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g))"),
    ("in_cte", "WITH c AS (SELECT * FROM t PIVOT (sum(x) FOR k IN ('p', 'q') GROUP BY g)) SELECT * FROM c WHERE p > 1"),
    ("joined", "SELECT a.g, a.p, b.q FROM t PIVOT (sum(x) FOR k IN ('p') GROUP BY g) a "
               "JOIN t PIVOT (sum(x) FOR k IN ('q') GROUP BY g) b ON a.g = b.g"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_pivot_std(sql, name, query):
    sql.check(query, setup=SETUP, ordered="ORDER BY" in query)


UNPIVOT_CASES = [
    ("basic", "FROM t UNPIVOT (val FOR col IN (x, z))"),
    ("select_star", "SELECT * FROM t UNPIVOT (val FOR col IN (x, z))"),
    ("include_nulls", "SELECT * FROM t UNPIVOT INCLUDE NULLS (val FOR col IN (x, z))"),
    ("strings", "SELECT * FROM t UNPIVOT (v FOR c IN (g, k))"),
    ("mixed_types", "SELECT * FROM t UNPIVOT (v FOR c IN (x, y))"),
    ("one_column", "SELECT * FROM t UNPIVOT (v FOR c IN (z))"),
    ("alias_where", "SELECT u.g, u.c, u.v FROM t UNPIVOT (v FOR c IN (x, z)) AS u WHERE u.v > 3"),
    ("aggregated", "SELECT c, sum(v) AS s, count(*) AS n FROM t UNPIVOT (v FOR c IN (x, z)) GROUP BY c ORDER BY c"),
    ("subquery_source", "SELECT * FROM (SELECT g, x, z FROM t WHERE x < 5) UNPIVOT (v FOR c IN (x, z))"),
]


@pytest.mark.parametrize("name,query", UNPIVOT_CASES, ids=[c[0] for c in UNPIVOT_CASES])
def test_unpivot_std(sql, name, query):
    sql.check(query, setup=SETUP, ordered="ORDER BY" in query)
