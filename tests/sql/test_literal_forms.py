"""Literal forms compared with DuckDB: DuckDB's INTERVAL units outside the PostgreSQL grammar
(INTERVAL 2 WEEK, 500 MILLISECONDS, 1 DECADE, 3 QUARTERS, CENTURY, MILLENNIUM, MICROSECOND;
whole numbers), and negative decimal constants that the parser folds ((-2.5) is a DECIMAL(2,1),
not a DOUBLE, so (-2.5)::INTEGER is -3 like DuckDB)."""
import pytest

UNITS = ["microsecond", "microseconds", "millisecond", "milliseconds", "week", "weeks", "decade",
         "decades", "century", "centuries", "millennium", "millennia", "quarter", "quarters", "WEEK"]


@pytest.mark.parametrize("unit", UNITS)
def test_interval_unit(sql, unit):
    sql.check(f"SELECT INTERVAL 3 {unit} AS a, (INTERVAL 2 {unit}) AS b, "
              f"CAST(INTERVAL 1 {unit} AS VARCHAR) AS c, "
              f"TIMESTAMP '2024-01-31 10:00' + INTERVAL 1 {unit} AS d, "
              f"INTERVAL '2 {unit}' AS e")


def test_interval_units_in_queries(sql):
    sql.check("SELECT eid, ts + INTERVAL 500 MILLISECONDS AS t1, ts - INTERVAL 2 WEEKS AS t2 "
              "FROM {events} WHERE ts < TIMESTAMP '2024-03-04 09:30' + INTERVAL 1 WEEK "
              "AND eid < 20 ORDER BY eid", ordered=True)
    sql.check("SELECT * FROM range(DATE '2024-01-01', DATE '2025-01-01', INTERVAL 1 QUARTER)",
              ordered=True)


def test_interval_fractional_new_units_refused(sql):
    """DuckDB truncates some fractional counts here (INTERVAL 1.5 WEEK is 7 days); polaroid
    refuses them rather than answer differently (INTERVAL '1.5 weeks' works: 10 days 12:00)."""
    r = sql.polaroid(["SELECT INTERVAL 1.5 WEEK"], fmt="csv")
    assert r.returncode == 1 and b"syntax error" in r.stderr, r.stderr


NEGATIVE = [
    ("values", "SELECT (-2.5) AS a, (-0.25) AS b, - 2.5 AS c, (-12345678901234567890.5) AS d, "
               "(-2.5) * 2 AS e"),
    ("types", "SELECT typeof(-2.5) AS a, typeof((-0.25)) AS b, typeof((-1e3)) AS c"),
    ("casts", "SELECT (-2.5)::INTEGER AS a, CAST(-2.5 AS INTEGER) AS b, (-3.5)::BIGINT AS c, "
              "(-0.5)::INTEGER AS d, -2.5::INTEGER AS e"),
    ("in_values", "SELECT x, typeof(x) AS t FROM (VALUES (1.5), (-2.5), (-0.001)) t(x)"),
]


@pytest.mark.parametrize("name,query", NEGATIVE, ids=[n for n, _ in NEGATIVE])
def test_negative_decimal_constant(sql, name, query):
    sql.check(query)


def test_interval_fractional_field_counts(sql):
    """A fractional count of a field above seconds is truncated like DuckDB; seconds keep it."""
    sql.check("SELECT INTERVAL 1.5 DAY AS a, INTERVAL '1.5' DAY AS b, INTERVAL 1.7 MINUTE AS c, "
              "INTERVAL 1.5 SECOND AS d, INTERVAL 2.99 HOURS AS e, INTERVAL 1.9 YEAR AS f, "
              "INTERVAL 1.9 MONTH AS g, INTERVAL 0.5 MINUTES AS h, INTERVAL '2.5' SECOND AS i")
