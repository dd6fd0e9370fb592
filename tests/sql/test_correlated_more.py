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
    ("group_by_alias_subquery",
     "SELECT (SELECT max(u.y) FROM u WHERE u.k = t.g) AS a, count(*) AS n FROM t GROUP BY a"),
    ("having_alias",
     "SELECT g, (SELECT max(y) FROM u WHERE u.k = t.g) AS m FROM t GROUP BY g HAVING m > 20"),
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


# Subqueries of correlated subqueries referring to the outermost query (two or more levels
# out): the query in between is flattened and carries the column in its distinct outer values.
TWO_LEVEL = [
    ("in_where",
     "SELECT t.id, (SELECT count(*) FROM u WHERE u.k = t.g AND u.v IN (SELECT u2.v FROM u u2 "
     "WHERE u2.y < t.x)) AS c FROM t"),
    ("exists_where",
     "SELECT t.id, (SELECT max(u.y) FROM u WHERE u.k = t.g AND EXISTS (SELECT 1 FROM u u2 "
     "WHERE u2.v = u.v AND u2.i > t.id)) AS c FROM t"),
    ("inside_aggregate",
     "SELECT t.id, (SELECT sum((SELECT count(*) FROM u u2 WHERE u2.y = u.y + t.x)) FROM u "
     "WHERE u.k = t.g) AS c FROM t"),
    ("exists_conjunct_scalar",
     "SELECT t.id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.k = t.g AND u.y > "
     "(SELECT min(u2.y) FROM u u2 WHERE u2.k = t.g + 1))"),
    ("both_levels",
     "SELECT t.id, (SELECT count(*) FROM u WHERE u.k = t.g AND u.y > (SELECT avg(u2.y) FROM u u2 "
     "WHERE u2.k = u.k AND u2.v < t.x)) AS c FROM t"),
    ("three_levels",
     "SELECT t.id, (SELECT (SELECT (SELECT t.id + u.i + u2.i FROM u u3 WHERE u3.i = 0) FROM u u2 "
     "WHERE u2.i = u.i) FROM u WHERE u.i = t.id) AS c FROM t"),
    ("grouped_outermost",
     "SELECT g, (SELECT count(*) FROM u WHERE u.k = t.g AND u.v IN (SELECT u2.v FROM u u2 "
     "WHERE u2.y < t.g * 4)) AS c FROM t GROUP BY g"),
]


def _nest(depth):
    """A nest of subqueries each correlated to the one outside it by an inequality (each one
    flattened)."""
    q = f"SELECT count(*) FROM u u{depth} WHERE u{depth}.y < u{depth - 1}.y"
    for lvl in range(depth - 1, 0, -1):
        q = (f"SELECT count(*) FROM u u{lvl} WHERE u{lvl}.y < u{lvl - 1}.y AND u{lvl}.v < ({q})")
    return f"SELECT u0.i, ({q}) AS c FROM u u0"


@pytest.mark.parametrize("depth", [2, 6])
def test_sub_flattened_nest(sql, depth):
    """Each level is planned a bounded number of times (it used to be 2^depth times)."""
    sql.check(_nest(depth), setup=SETUP)


# Correlated subqueries in an INNER JOIN's ON condition (a filter over the join) and in CASE.
ON_CASE = [
    ("join_on_scalar",
     "SELECT t.id, u.i FROM t JOIN u ON u.k = t.g AND u.y = (SELECT max(u2.y) FROM u u2 WHERE u2.k = t.g)"),
    ("join_on_exists_both_sides",
     "SELECT t.id, u.i FROM t INNER JOIN u ON u.k = t.g AND EXISTS (SELECT 1 FROM u u2 "
     "WHERE u2.v = u.v AND u2.i > t.id)"),
    ("join_on_in",
     "SELECT t.id, u.i FROM t JOIN u ON u.i IN (SELECT u2.i FROM u u2 WHERE u2.y < t.x AND u2.k = t.g)"),
    ("case_branches",
     "SELECT t.id, CASE WHEN t.g > 2 THEN (SELECT max(y) FROM u WHERE u.k = t.g) WHEN t.g IS NULL "
     "THEN (SELECT count(*) FROM u WHERE u.v < t.x) ELSE -1 END AS c FROM t"),
    ("case_subject_and_division",
     "SELECT t.id, CASE WHEN t.g = 0 THEN 0 ELSE 100 // t.g END AS d, CASE (SELECT count(*) FROM u "
     "WHERE u.k = t.g) WHEN 0 THEN 'none' ELSE 'some' END AS c FROM t"),
    ("coalesce",
     "SELECT t.id, coalesce((SELECT max(y) FROM u WHERE u.k = t.g AND u.v > t.x), "
     "(SELECT min(y) FROM u WHERE u.k = t.g)) AS c FROM t"),
]


CHECKED = ([("grouped_" + n, q) for n, q in GROUPED] + [("two_levels_" + n, q) for n, q in TWO_LEVEL]
           + [("on_case_" + n, q) for n, q in ON_CASE])


@pytest.mark.parametrize("name,query", CHECKED, ids=[n for n, _ in CHECKED])
def test_sub_vs_duckdb(sql, name, query):
    sql.check(query, setup=SETUP)
