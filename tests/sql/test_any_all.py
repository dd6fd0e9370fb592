"""x op ANY / SOME / ALL (subquery) with =, <>, <, <=, >, >=, uncorrelated and correlated by
equalities, in the select list and in WHERE, with SQL's three-valued logic: NULLs in the
subquery, NULL tested values, empty subqueries (ANY false, ALL true); compared with DuckDB.
Planned over aggregates of the subquery (count, count of non-NULLs, min, max) and, for =, a
join against its distinct values; never run per row."""
import pytest

OPS = ["=", "<>", "<", "<=", ">", ">="]

SETUP = [
    "CREATE TABLE t AS SELECT * FROM (VALUES (1, 1), (2, 1), (3, 2), (NULL, 2), (5, 3), (2, NULL), "
    "(4, 4)) v(x, g)",
    "CREATE TABLE s AS SELECT * FROM (VALUES (2, 1), (NULL, 1), (3, 2), (4, 2), (1, 3), (5, 3), "
    "(NULL, 4), (2, 5)) v(y, g)",
    "CREATE TABLE nn AS SELECT * FROM (VALUES (2), (3), (3)) v(y)",
    "CREATE TABLE e (y INTEGER)",
    "CREATE TABLE f AS SELECT * FROM (VALUES (1.5::DOUBLE), ('nan'::DOUBLE), (NULL)) v(y)",
]


@pytest.mark.parametrize("q", ["ANY", "ALL", "SOME"])
@pytest.mark.parametrize("op", OPS)
def test_quantified_uncorrelated_select_list(sql, op, q):
    sql.check(f"SELECT x, x {op} {q} (SELECT y FROM s) AS a, x {op} {q} (SELECT y FROM nn) AS b, "
              f"x {op} {q} (SELECT y FROM e) AS c, x {op} {q} (SELECT NULL::INTEGER) AS d "
              "FROM t", setup=SETUP)


@pytest.mark.parametrize("q", ["ANY", "ALL"])
@pytest.mark.parametrize("op", OPS)
def test_quantified_correlated(sql, op, q):
    sql.check(f"SELECT x, g, x {op} {q} (SELECT y FROM s WHERE s.g = t.g) AS a, "
              f"x {op} {q} (SELECT y + 1 FROM s WHERE s.g = t.g AND s.y IS NOT NULL) AS b "
              "FROM t", setup=SETUP)


@pytest.mark.parametrize("q", ["ANY", "ALL"])
@pytest.mark.parametrize("op", OPS)
def test_quantified_where(sql, op, q):
    sql.check(f"SELECT x, g FROM t WHERE x {op} {q} (SELECT y FROM s)", setup=SETUP)
    sql.check(f"SELECT x, g FROM t WHERE NOT (x {op} {q} (SELECT y FROM s WHERE s.g = t.g))",
              setup=SETUP)


@pytest.mark.parametrize("q", ["ANY", "ALL"])
@pytest.mark.parametrize("op", OPS)
def test_quantified_float_nan_and_strings(sql, op, q):
    sql.check(f"SELECT v, v {op} {q} (SELECT y FROM f) AS a FROM (VALUES (1.0::DOUBLE), (2.0), "
              "('nan'::DOUBLE), (NULL)) w(v)", setup=SETUP)
    sql.check(f"SELECT name, name {op} {q} (SELECT city FROM {{people}}) AS a, "
              f"name {op} {q} (SELECT team_name FROM {{teams}} WHERE budget > 50) AS b "
              "FROM {people}")


def test_quantified_on_files(sql):
    sql.check("SELECT id, age > ALL (SELECT age FROM {people} q WHERE q.city = p.city) AS oldest, "
              "age >= ALL (SELECT age FROM {people} q WHERE q.city = p.city AND q.age IS NOT NULL) "
              "AS oldest_nn, team_id = ANY (SELECT team_id FROM {teams} WHERE budget > 50) AS rich "
              "FROM {people} p")
    sql.check("SELECT count(*) FROM {events} e WHERE e.value > ALL (SELECT value FROM {events} "
              "WHERE kind = 'buy' AND value IS NOT NULL AND person_id = e.person_id)")


def test_in_subquery_correlated_in_select_list(sql):
    sql.check("SELECT x, g, x IN (SELECT y FROM s WHERE s.g = t.g) AS a, "
              "x NOT IN (SELECT y FROM s WHERE s.g = t.g) AS b FROM t", setup=SETUP)


def test_quantified_errors(sql):
    sql.error(SETUP + ["SELECT x > ALL (SELECT y, g FROM s) FROM t"], "columns")


def test_quantified_correlated_by_inequality(sql):
    """Refused before correlated subqueries were flattened."""
    sql.check("SELECT x, g, x > ALL (SELECT y FROM s WHERE s.g < t.g) AS a, "
              "x = ANY (SELECT y FROM s WHERE s.g <> t.g) AS b FROM t", setup=SETUP)
