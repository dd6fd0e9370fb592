"""DuckDB's INTERVAL (expr) unit (the value cast to DOUBLE, truncated for units above a
millisecond), date_sub(part, start, end) (complete parts between, months counted like age with
an end on a month's last day completing it) and age(a, b) / age(x) (years, months, days and time
with PostgreSQL's borrows), compared with DuckDB."""
import pytest

SETUP = [
    "CREATE TABLE t AS SELECT * FROM (VALUES "
    "(1, 1.5, DATE '2024-01-31', TIMESTAMP '2024-03-01 10:00:00', TIMESTAMP '2024-01-31 10:30:00'), "
    "(2, -2.7, DATE '2023-02-28', TIMESTAMP '2020-02-29 23:59:59.25', TIMESTAMP '2024-02-29 00:00:00'), "
    "(3, 0.0, DATE '2000-02-29', TIMESTAMP '2024-12-31 23:00:00', TIMESTAMP '2024-11-30 23:30:00'), "
    "(7, 100.9, DATE '1999-12-31', TIMESTAMP '2021-03-01 00:00:00', TIMESTAMP '2020-02-29 12:00:00'), "
    "(NULL, NULL, NULL, NULL, NULL)) v(n, x, d, a, b)",
]

INTERVALS = [
    ("constants", "SELECT INTERVAL (2 + 3) DAY AS a, INTERVAL (1.5) SECOND AS b, INTERVAL(2) HOURS AS c, "
                  "INTERVAL ('3') MONTH AS e, INTERVAL (1.7) DAY AS f, INTERVAL (-1.7) DAY AS g"),
    ("every_unit", "SELECT x, INTERVAL (x) YEAR, INTERVAL (x) QUARTERS, INTERVAL (x) MONTH, "
                   "INTERVAL (x) WEEK, INTERVAL (x) DAYS, INTERVAL (x) HOUR, INTERVAL (x) MINUTES, "
                   "INTERVAL (x) SECOND, INTERVAL (x) MILLISECONDS, INTERVAL (x) MICROSECOND, "
                   "INTERVAL (x) DECADE, INTERVAL (x) CENTURY, INTERVAL (x) MILLENNIUM FROM t"),
    ("arithmetic", "SELECT n, d + INTERVAL (n) DAY AS d2, a - INTERVAL (n * 2) MINUTE AS a2, "
                   "b + INTERVAL (n) MONTH AS b2 FROM t"),
    ("null", "SELECT INTERVAL (NULL) DAY AS a, INTERVAL (n) HOUR AS b FROM t"),
    ("with_literal_form", "SELECT INTERVAL 2 DAY + INTERVAL (n) DAY AS s FROM t"),
]


@pytest.mark.parametrize("name,query", INTERVALS, ids=[c[0] for c in INTERVALS])
def test_interval_expression(sql, name, query):
    sql.check(query, setup=SETUP)


PARTS = ["year", "quarter", "month", "week", "day", "hour", "minute", "second", "millisecond",
         "microsecond", "decade", "century", "millennium", "isoyear", "dow", "doy", "yearweek",
         "epoch"]


@pytest.mark.parametrize("part", PARTS)
def test_date_sub(sql, part):
    sql.check(f"SELECT n, date_sub('{part}', a, b) AS ab, date_sub('{part}', b, a) AS ba, "
              f"datesub('{part}', d, a) AS da FROM t", setup=SETUP)


def test_date_sub_months_edges(sql):
    pairs = [("2024-01-31", "2024-02-29"), ("2024-01-31 10:00", "2024-02-29 09:00"),
             ("2024-01-30", "2024-02-29"), ("2024-03-31", "2024-01-31"), ("2023-01-31", "2023-02-28"),
             ("2024-02-29", "2025-02-28"), ("2024-05-31", "2024-06-30 00:00:01"),
             ("2024-06-30", "2024-05-31")]
    sel = ", ".join(f"date_sub('month', TIMESTAMP '{x}', TIMESTAMP '{y}') AS m{i}, "
                    f"date_sub('year', TIMESTAMP '{x}', TIMESTAMP '{y}') AS y{i}"
                    for i, (x, y) in enumerate(pairs))
    sql.check("SELECT " + sel)


def test_age(sql):
    sql.check("SELECT n, age(a, b) AS ab, age(b, a) AS ba, age(a, d) AS ad, age(d, DATE '2020-02-29') AS dd "
              "FROM t", setup=SETUP)


def test_age_edges(sql):
    pairs = [("2024-03-01", "2024-01-31"), ("2024-03-31", "2024-02-29 10:00"),
             ("2024-03-01 00:00:00.5", "2023-01-31 23:59:59.75"), ("2024-05-15", "2024-03-31"),
             ("2024-04-30", "2024-01-31"), ("2021-03-01", "2020-02-29"), ("2024-12-31 23:00", "2024-11-30 23:30")]
    sel = ", ".join(f"age(TIMESTAMP '{x}', TIMESTAMP '{y}') AS a{i}, age(TIMESTAMP '{y}', TIMESTAMP '{x}') AS b{i}"
                    for i, (x, y) in enumerate(pairs))
    sql.check("SELECT " + sel)


def test_age_one_argument(sql):
    """age(x) is age(current_date, x): only its shape is compared (the day changes)."""
    sql.check("SELECT n, age(d) IS NULL AS a, age(DATE '2000-01-01') > INTERVAL 20 YEAR AS b FROM t",
              setup=SETUP)
