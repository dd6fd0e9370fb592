"""Correlated subqueries in more places, compared with DuckDB: in the select list, HAVING, ORDER BY
and QUALIFY of a grouped query (planned over its groups, like DuckDB binds them: outer
references are GROUP BY keys, an aggregate of outer columns only is the outer query's
aggregate), with NULL keys, groups without matches (count(*) 0) and duplicate outer rows."""
import pytest

SETUP = [
    "CREATE TABLE t AS SELECT range AS id, CASE WHEN range % 7 = 3 THEN NULL ELSE range % 8 END AS g, "
    "CASE WHEN range % 6 = 1 THEN NULL ELSE range * 3 % 17 END AS x, "
    "chr(CAST(65 + range % 3 AS INTEGER)) AS s FROM range(40)",
    "CREATE TABLE u AS SELECT range AS i, CASE WHEN range % 9 = 2 THEN NULL ELSE range % 6 END AS k, "
    "range * 7 % 23 AS y, CASE WHEN range % 5 = 0 THEN NULL ELSE range % 11 END AS v FROM range(50)",
]

GROUPED = [
    ("select_list",
     "SELECT g, count(*) AS n, (SELECT max(y) FROM u WHERE u.k = t.g) AS m FROM t GROUP BY g"),
    ("count_no_match",
     "SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g) AS c, (SELECT sum(y) FROM u WHERE u.k = t.g) AS sy "
     "FROM t GROUP BY g"),
    ("having",
     "SELECT g, count(*) AS n FROM t GROUP BY g HAVING (SELECT count(*) FROM u WHERE u.k = t.g) > 7"),
    ("having_and_select",
     "SELECT g, (SELECT min(y) FROM u WHERE u.k = t.g) AS m FROM t GROUP BY g "
     "HAVING (SELECT max(y) FROM u WHERE u.k = t.g) > 20 OR g IS NULL"),
    ("outer_aggregate",
     "SELECT g, (SELECT count(*) FROM u WHERE u.v < max(t.x)) AS c FROM t GROUP BY g"),
    ("outer_aggregate_computed_too",
     "SELECT g, max(x) AS mx, (SELECT count(*) FROM u WHERE u.v < max(t.x)) AS c FROM t GROUP BY g"),
    ("outer_aggregate_no_group_by",
     "SELECT count(*) AS n, (SELECT count(*) FROM u WHERE u.v < max(t.x)) AS c FROM t"),
    ("outer_aggregate_and_key",
     "SELECT g, (SELECT max(y) FROM u WHERE u.k = t.g AND u.v < sum(t.x) / 10) AS m FROM t GROUP BY g"),
    ("outer_aggregate_in_sub_select_list",
     "SELECT g, (SELECT sum(t.x) + count(*) FROM u WHERE u.k = t.g) AS m FROM t GROUP BY g"),
    ("outer_aggregate_filter_distinct",
     "SELECT s, (SELECT count(*) FROM u WHERE u.y > count(DISTINCT t.x) FILTER (WHERE t.g > 2)) AS c "
     "FROM t GROUP BY s"),
    ("in_select_list",
     "SELECT g, sum(x) % 23 IN (SELECT y FROM u WHERE u.k = t.g) AS a, "
     "g IN (SELECT k FROM u WHERE u.v > sum(t.x) / 5) AS b FROM t GROUP BY g"),
    ("exists_select_list",
     "SELECT g, EXISTS (SELECT 1 FROM u WHERE u.k = t.g AND u.v > 8) AS e FROM t GROUP BY g"),
    ("any_all",
     "SELECT g, max(x) > ALL (SELECT y FROM u WHERE u.k = t.g) AS a, "
     "min(x) < ANY (SELECT v FROM u WHERE u.k = t.g) AS b FROM t GROUP BY g"),
    ("flattened_inequality",
     "SELECT g, (SELECT count(*) FROM u WHERE u.k < t.g) AS c, "
     "(SELECT max(u.y) FROM u WHERE u.k IS NOT DISTINCT FROM t.g) AS m FROM t GROUP BY g"),
    ("two_keys",
     "SELECT g, s, (SELECT count(*) FROM u WHERE u.k = t.g AND u.i % 3 = ascii(t.s) % 3) AS c "
     "FROM t GROUP BY g, s"),
    ("key_expression_operand",
     "SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g + 1) AS c FROM t GROUP BY g"),
    ("rollup",
     "SELECT g, s, (SELECT count(*) FROM u WHERE u.k = t.g) AS c FROM t GROUP BY ROLLUP (g, s)"),
    ("group_by_ordinal_subquery",
     "SELECT (SELECT max(u.y) FROM u WHERE u.k = t.g) AS a, count(*) AS n FROM t GROUP BY 1"),
    ("group_by_all_subquery",
     "SELECT (SELECT max(u.y) FROM u WHERE u.k = t.g) AS a, count(*) AS n FROM t GROUP BY ALL"),
    ("subquery_inside_aggregate",
     "SELECT g, sum((SELECT max(y) FROM u WHERE u.k = t.g)) AS s2, "
     "count((SELECT max(y) FROM u WHERE u.k = t.x)) AS c FROM t GROUP BY g"),
    ("uncorrelated",
     "SELECT g, (SELECT max(y) FROM u) AS m, count(*) + (SELECT count(*) FROM u) AS n FROM t GROUP BY g"),
    ("in_expression",
     "SELECT g, count(*) * 100 + coalesce((SELECT max(y) FROM u WHERE u.k = t.g), -1) AS v "
     "FROM t GROUP BY g"),
    ("window_over_subquery",
     "SELECT g, rank() OVER (ORDER BY (SELECT count(*) FROM u WHERE u.k = t.g), g) AS r FROM t GROUP BY g"),
    ("qualify",
     "SELECT g, sum(x) AS sx FROM t GROUP BY g "
     "QUALIFY row_number() OVER (ORDER BY (SELECT count(*) FROM u WHERE u.k = t.g) DESC, g) <= 3"),
    ("distinct",
     "SELECT DISTINCT (SELECT count(*) FROM u WHERE u.k = t.g) AS c FROM t GROUP BY g"),
    ("grouped_subquery_of_subquery",
     "SELECT u.i, (SELECT count(*) + (SELECT count(*) FROM t t3 WHERE t3.g = t2.g) FROM t t2 "
     "WHERE t2.g = u.k GROUP BY t2.g) AS c FROM u"),
]


@pytest.mark.parametrize("name,query", GROUPED, ids=[n for n, _ in GROUPED])
def test_sub_grouped(sql, name, query):
    sql.check(query, setup=SETUP)


def test_sub_grouped_order_by(sql):
    sql.check("SELECT g, sum(x) AS sx FROM t GROUP BY g "
              "ORDER BY (SELECT max(y) FROM u WHERE u.k = t.g) NULLS FIRST, g NULLS FIRST",
              setup=SETUP, ordered=True)


def test_sub_grouped_threads(sql):
    sql.check("SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g) AS c, "
              "(SELECT count(*) FROM u WHERE u.v < max(t.x)) AS d FROM t GROUP BY g",
              setup=SETUP, extra=("--threads", "1"))


GROUPED_ERRORS = [
    ("not_a_key",
     "SELECT g, (SELECT max(y) FROM u WHERE u.k = t.x) FROM t GROUP BY g",
     "must appear in the GROUP BY"),
    ("mixed_aggregate",
     "SELECT (SELECT sum(t.x + u.y) FROM u) FROM t GROUP BY g",
     "must appear in the GROUP BY"),
    ("outer_aggregate_rows",
     "SELECT (SELECT count(t.g) FROM u) FROM t GROUP BY g",
     "more than one row returned by a subquery"),
    ("no_group_by",
     "SELECT count(*), (SELECT count(*) FROM u WHERE u.k = t.g) FROM t",
     "must appear in the GROUP BY"),
]


@pytest.mark.parametrize("name,query,needle", GROUPED_ERRORS, ids=[n for n, _, _ in GROUPED_ERRORS])
def test_sub_grouped_errors(sql, name, query, needle):
    sql.error(SETUP + [query], needle)
