"""interval * number, number * interval and interval / number, compared with DuckDB: an integer
factor multiplies months, days and time exactly (it must fit 32 bits); DOUBLE and DECIMAL
factors, and every division, keep whole months and days and cascade the fractions down (a
month is 30 days, rounded to a microsecond of a day; the rest of a day becomes time, rounded
half to even to the microsecond), never up (25 hours * 2 is 50:00:00). NULLs give NULL;
division by zero and overflow are errors with the position; interval * interval,
number / interval, // and % are refused like DuckDB."""
import pytest

IV = "(VALUES (INTERVAL '1 month 2 days 03:00:00'), (INTERVAL '1 year'), (NULL), " \
     "(INTERVAL '-1 month'), (INTERVAL '5 microseconds'), (INTERVAL '25 hours'), " \
     "(INTERVAL '1 month -1 day'), (INTERVAL '7 months 3 days'), (INTERVAL '0 days')) t(x)"

CASES = [
    ("int_literals", "SELECT INTERVAL '1 month 2 days 03:00:00' * 3 AS a, "
                     "INTERVAL '1 month 2 days 03:00:00' * -2 AS b, 3 * INTERVAL '1 day' AS c, "
                     "INTERVAL '1 month' * 0 AS d, INTERVAL '25 hours' * 2 AS e"),
    ("int_types", "SELECT INTERVAL 1 DAY * 3::TINYINT AS a, INTERVAL 1 DAY * 3::SMALLINT AS b, "
                  "INTERVAL 1 DAY * 3::BIGINT AS c, INTERVAL 1 DAY * 3::UBIGINT AS d, "
                  "2::UTINYINT * INTERVAL '1 hour' AS e"),
    ("int_edges", "SELECT INTERVAL '1 day' * 2147483647 AS a, INTERVAL '2 days' * -1073741824 AS b, "
                  "INTERVAL '1 month' * -2147483647 AS c"),
    ("double", "SELECT INTERVAL 1 DAY * 2.5 AS a, INTERVAL '1 month' * 1.5 AS b, "
               "1.5 * INTERVAL '1 month' AS c, INTERVAL '1 year 1 day 1 hour' * 0.3 AS d, "
               "INTERVAL '1 month' * -0.5 AS e, INTERVAL '1 month' * 0.9999999 AS f, "
               "INTERVAL '1 day' * 1e-7 AS g, INTERVAL 1 DAY * 3::DOUBLE AS h, "
               "INTERVAL 1 DAY * 3::REAL AS i"),
    ("decimal", "SELECT INTERVAL 1 DAY * 2::DECIMAL(10,2) AS a, "
                "INTERVAL '1 month' * 1.25::DECIMAL(4,2) AS b, INTERVAL '1 month' * 0.1 AS c"),
    ("half_even", "SELECT INTERVAL '1 microsecond' * 1.5 AS a, INTERVAL '3 microseconds' * 0.5 AS b, "
                  "INTERVAL '-3 microseconds' * 0.5 AS c, INTERVAL '5 microseconds' / 2 AS d, "
                  "INTERVAL '-5 microseconds' / 2 AS e"),
    ("division", "SELECT INTERVAL 1 DAY / 2 AS a, INTERVAL '1 month' / 2 AS b, "
                 "INTERVAL '1 month' / 3 AS c, INTERVAL '3 months 1 day' / 2 AS d, "
                 "INTERVAL 1 DAY / 2.5 AS e, INTERVAL '1 year' / 7 AS f, "
                 "INTERVAL '1 year 1 day 1 hour' / 7 AS g, INTERVAL '-1 month' / 3 AS h, "
                 "INTERVAL '1 day' / -3 AS i, INTERVAL '1 month -1 day' / 2 AS j, "
                 "INTERVAL '7 months 3 days' / 4 AS k, INTERVAL '1 month 1 day' / 3 AS l, "
                 "INTERVAL '1 hour' / 7 AS m, INTERVAL '1 month' / 1e-5 AS n, "
                 "INTERVAL '1 month' / 3::BIGINT AS o, INTERVAL '1 month' / 3::DECIMAL(3,1) AS p"),
    ("nulls", "SELECT INTERVAL 1 DAY * NULL AS a, NULL * INTERVAL 1 DAY AS b, "
              "INTERVAL 1 DAY / NULL AS c, CAST(NULL AS INTERVAL) * 2 AS d, "
              "CAST(NULL AS INTERVAL) / 2.5 AS e, INTERVAL 1 DAY * CAST(NULL AS DOUBLE) AS f"),
    ("types", "SELECT typeof(INTERVAL 1 DAY * 2) AS a, typeof(2 * INTERVAL 1 DAY) AS b, "
              "typeof(INTERVAL 1 DAY / 2) AS c, typeof(INTERVAL 1 DAY * 1.5) AS d, "
              "typeof(INTERVAL 1 DAY * NULL) AS e"),
    ("column_times_int", f"SELECT x, x * 3 AS a, -2 * x AS b FROM {IV}"),
    ("column_times_double", f"SELECT x, x * 1.5 AS a, 0.3 * x AS b, x * -0.25 AS c FROM {IV}"),
    ("column_divided", f"SELECT x, x / 2 AS a, x / 7 AS b, x / 2.5 AS c, x / -3 AS d FROM {IV}"),
    ("column_factors", "SELECT k, INTERVAL '1 month 1 hour' * k AS a, INTERVAL '1 month' / k AS b, "
                       "INTERVAL '1 day' * (k / 4) AS c FROM (VALUES (1), (NULL), (3), (-7), (12)) t(k)"),
    ("both_columns", "SELECT x * k AS a, x / k AS b, k * x AS c FROM (VALUES "
                     "(INTERVAL '1 month', 3), (INTERVAL '2 days 01:00:00', -2), (NULL, 4), "
                     "(INTERVAL '1 hour', NULL), (INTERVAL '1 year', 7)) t(x, k)"),
    ("as_text", f"SELECT CAST(x * 1.5 AS VARCHAR) AS a, CAST(x / 7 AS VARCHAR) AS b FROM {IV}"),
    ("with_timestamps", "SELECT TIMESTAMP '2024-01-31 10:00' + INTERVAL '1 month' * 2 AS a, "
                        "TIMESTAMP '2024-01-01' + INTERVAL '1 day' / 4 * 3 AS b, "
                        "DATE '2024-03-01' - 2 * INTERVAL '1 week' AS c"),
    ("events", "SELECT eid, ts + INTERVAL '90 seconds' * (eid % 5) AS t2, "
               "(ts - TIMESTAMP '2024-03-04 09:30') / 2 AS half FROM {events} WHERE eid < 30"),
    ("aggregate", "SELECT kind, count(*) AS n, CAST(max(TIMESTAMP '2024-01-01' + INTERVAL '1 minute' * eid) "
                  "AS VARCHAR) AS m, min(TIMESTAMP '2024-01-01' + INTERVAL '1 day' / eid) AS d "
                  "FROM {events} GROUP BY kind"),
    ("in_range_step", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', "
                      "INTERVAL '1 hour' * 5)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_interval_arithmetic(sql, name, query):
    sql.check(query, ordered="ORDER BY" in query or name.startswith("column") or name == "as_text")


def _caret_at(err, at):
    lines = err.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("LINE 1: "))
    text, caret = lines[k][len("LINE 1: "):], lines[k + 1][len("LINE 1: "):]
    assert text[caret.index("^"):].startswith(at), err


ERRORS = [
    ("divide_by_zero", "SELECT INTERVAL 1 DAY / 0", ["division by zero"], "/ 0"),
    ("divide_by_zero_double", "SELECT INTERVAL 1 DAY / 0.0", ["division by zero"], "/ 0.0"),
    ("divide_by_zero_column", "SELECT INTERVAL '1 month' / k FROM (VALUES (1), (0)) t(k)",
     ["division by zero"], "/ k"),
    ("wide_integer", "SELECT INTERVAL 1 DAY * 3000000000", ["32 bits"], "* 3000000000"),
    ("wide_integer_micro", "SELECT INTERVAL '1 microsecond' * 2147483648", ["32 bits"], "*"),
    ("int32_overflow", "SELECT INTERVAL '2 days' * -1073741825", ["out of range"], "*"),
    ("double_overflow", "SELECT INTERVAL 1 DAY * 1e10", ["out of range"], "*"),
    ("nan", "SELECT INTERVAL 1 DAY * 'nan'::DOUBLE", ["out of range"], "*"),
    ("tiny_divisor", "SELECT INTERVAL 1 DAY / 1e-300", ["out of range in division"], "/"),
    ("column_overflow", "SELECT x * 1e10 FROM (VALUES (INTERVAL '1 second'), (INTERVAL '1 month')) t(x)",
     ["out of range"], "*"),
    ("interval_times_interval", "SELECT INTERVAL 1 DAY * INTERVAL 1 DAY", ["interval"], "*"),
    ("number_over_interval", "SELECT 2 / INTERVAL 1 DAY", ["div"], "/"),
    ("int_div", "SELECT INTERVAL 1 DAY // 2", ["int_div"], "//"),
    ("mod", "SELECT INTERVAL 1 DAY % 2", ["mod"], "%"),
    ("bool", "SELECT INTERVAL 1 DAY * true", ["mul"], "*"),
]


@pytest.mark.parametrize("name,query,needles,at", ERRORS, ids=[e[0] for e in ERRORS])
def test_interval_arithmetic_errors(sql, name, query, needles, at):
    err = sql.error([query], *needles)
    _caret_at(err, at)


def test_interval_time_part_range(sql):
    """polaroid keeps an interval's time part in nanoseconds (DuckDB: microseconds), so it
    overflows past ~292 years of time where DuckDB goes on: an error, never a wrong value."""
    r = sql.polaroid(["SELECT INTERVAL '1 second' * 1e10"], fmt="csv")
    err = r.stderr.decode()
    assert r.returncode == 1 and "interval out of range in multiplication" in err, err
    sql.check("SELECT INTERVAL '1 second' * 1e9 AS a, INTERVAL '1 hour' * 2000000 AS b")


TO_FUNCS = ["to_years", "to_quarters", "to_months", "to_decades", "to_centuries", "to_millennia",
            "to_weeks", "to_days", "to_hours", "to_minutes", "to_seconds", "to_milliseconds",
            "to_microseconds"]


@pytest.mark.parametrize("fn", TO_FUNCS)
def test_interval_constructor(sql, fn):
    """DuckDB's to_days(n), to_hours(n), ...: literals, NULL, negative, a column with NULLs,
    tinyint arguments, and the result used in timestamp arithmetic."""
    sql.check(f"SELECT {fn}(2) AS a, {fn}(NULL) AS b, {fn}(-7) AS c, {fn}(0) AS d, "
              f"{fn}(2::TINYINT) AS e, TIMESTAMP '2024-01-31 10:00' + {fn}(1) AS f")
    sql.check(f"SELECT x, {fn}(x) AS i FROM (VALUES (1), (NULL), (-3), (12)) t(x)", ordered=True)


def test_interval_constructor_fractions(sql):
    """to_seconds and to_milliseconds take DOUBLEs (and strings), rounded to the microsecond."""
    sql.check("SELECT to_seconds(1.5) AS a, to_seconds(-1.5) AS b, to_milliseconds(2.5) AS c, "
              "to_seconds(2.5::DOUBLE) AS d, to_milliseconds(0.0015) AS e, to_seconds('1.5') AS f, "
              "to_hours('3') AS g, to_microseconds('7') AS h")
    sql.check("SELECT x, to_seconds(x / 4) AS s FROM (VALUES (1), (NULL), (-3)) t(x)", ordered=True)


CONSTRUCTOR_ERRORS = [
    ("fraction_of_days", "SELECT to_days(1.5)", ["to_days"]),
    ("string_days", "SELECT to_days('3')", ["to_days"]),
    ("wide_days", "SELECT to_days(3000000000)", ["out of range"]),
    ("wide_hours", "SELECT to_hours(3000000000000)", ["out of range"]),
    ("bad_string", "SELECT to_hours('x')", ["could not convert string 'x'"]),
    ("bool", "SELECT to_seconds(true)", ["to_seconds"]),
]


@pytest.mark.parametrize("name,query,needles", CONSTRUCTOR_ERRORS, ids=[e[0] for e in CONSTRUCTOR_ERRORS])
def test_interval_constructor_errors(sql, name, query, needles):
    sql.error([query], *needles)


def test_interval_parts_and_epoch(sql):
    """date_part / epoch* of intervals like DuckDB: epoch() and date_part('epoch') count whole
    years as 365.25 days and other months as 30 days; epoch_ms/us/ns count every month as 30
    days and truncate toward zero."""
    vals = ("(VALUES (INTERVAL '1 year'), (INTERVAL '13 months'), "
            "(INTERVAL '-1 year -2 months -3 days -04:05:06.789'), (INTERVAL '25 months 3 days'), "
            "(INTERVAL '-7 months'), (INTERVAL '1500 microseconds'), (INTERVAL '-1500 microseconds'), "
            "(NULL), (INTERVAL '1 day 1 microsecond')) t(x)")
    sql.check(f"SELECT epoch(x) AS e, date_part('epoch', x) AS dp, epoch_ms(x) AS ms, "
              f"epoch_us(x) AS us, epoch_ns(x) AS ns FROM {vals}")
    sql.check(f"SELECT date_part('year', x) AS y, date_part('quarter', x) AS q, "
              f"date_part('month', x) AS m, date_part('day', x) AS d, date_part('hour', x) AS h, "
              f"date_part('minute', x) AS mi, date_part('second', x) AS s, "
              f"date_part('millisecond', x) AS ms, date_part('microsecond', x) AS us, "
              f"extract(decade FROM x) AS de FROM {vals}")


def test_interval_epoch_out_of_range(sql):
    sql.error(["SELECT epoch_ns(INTERVAL '300 years')"], "out of range")
