"""avg of DATE, TIME, TIMESTAMP (every unit, with and without time zone) and INTERVAL, like
DuckDB: a TIMESTAMP (microseconds stay microseconds; dates and other units give TIMESTAMP_NS), a
TIME, an INTERVAL; grouped, ungrouped, DISTINCT, FILTER, empty input. Sums of values after 1970
round to the nearest unit (ties toward zero) like DuckDB; intervals are divided field by field
(months, then days as 30-day months, then the time, truncated to the microsecond). DuckDB adds
the remainder of the time sum's division undivided (avg of 1 and 0 and 0 microseconds is 1
microsecond there, 0 here), so the intervals here have time sums that the counts divide.
Expected values from DuckDB at run time (compared as text too, so the sub-second digits are
checked)."""
import pytest

ROWS = [
    ("a", "2024-01-01", "2024-01-01 10:00:00", "10:00:00", "1 day"),
    ("a", "2024-01-04", "2024-01-02 11:00:00.000001", "11:00:01", "1 month 3 hours"),
    ("a", "2024-01-04", "2024-01-02 11:00:00.000003", "00:00:00.000001", "-1 day 03:00:00"),
    ("b", "2023-12-31", "2030-05-06 07:08:09.123456", "23:59:59.999999", "1 year 2 months"),
    ("b", None, None, None, None),
    ("b", "1999-02-03", "1999-02-03 04:05:06", "12:00:00", "-3 months 40 days 01:00:00"),
    ("c", "2024-02-29", "2024-02-29 23:59:59.999999", "06:30:00", "36 hours"),
    ("c", "2024-03-01", "2024-03-01 00:00:00.000001", "06:30:00.000001", "2 days 12:00:00"),
    ("c", "2024-03-02", "2024-03-02 00:00:00", "06:30:00.000002", "12:00:00"),
    ("d", None, None, None, None),
]


def _v(x, t):
    return "NULL::" + t if x is None else f"'{x}'::{t}"


T = "(VALUES " + ", ".join(
    f"({i}, '{g}', {_v(d, 'DATE')}, {_v(ts, 'TIMESTAMP')}, {_v(tm, 'TIME')}, {_v(iv, 'INTERVAL')})"
    for i, (g, d, ts, tm, iv) in enumerate(ROWS)) + ") t(id, g, d, ts, tm, iv)"

COLS = ("avg(d) AS d, avg(ts) AS ts, avg(tm) AS tm, avg(iv) AS iv, avg(ts::TIMESTAMPTZ) AS tz, "
        "avg(ts::TIMESTAMP_MS) AS ms, avg(ts::TIMESTAMP_S) AS s, avg(ts::TIMESTAMP_NS) AS ns")
TEXT = ", ".join(f"avg({c})::VARCHAR AS {n}" for c, n in
                 [("d", "d"), ("ts", "ts"), ("tm", "tm"), ("iv", "iv"), ("ts::TIMESTAMP_MS", "ms"),
                  ("ts::TIMESTAMP_S", "s"), ("ts::TIMESTAMP_NS", "ns")])
TYPES = ", ".join(f"typeof(avg({c})) AS t{k}" for k, c in enumerate(
    ["d", "ts", "tm", "iv", "ts::TIMESTAMPTZ", "ts::TIMESTAMP_MS", "ts::TIMESTAMP_S", "ts::TIMESTAMP_NS"]))

CASES = [
    ("ungrouped", f"SELECT {COLS} FROM {T}", False),
    ("grouped", f"SELECT g, {COLS} FROM {T} GROUP BY g ORDER BY g", True),
    ("text", f"SELECT g, {TEXT} FROM {T} GROUP BY g ORDER BY g", True),
    ("types", f"SELECT {TYPES} FROM {T}", False),
    ("empty", f"SELECT {COLS} FROM {T} WHERE id < 0", False),
    ("distinct", f"SELECT g, avg(DISTINCT tm) AS tm, avg(DISTINCT d) AS d FROM {T} GROUP BY g ORDER BY g", True),
    ("filter", f"SELECT g, avg(ts) FILTER (WHERE tm > '06:00') AS ts, avg(iv) FILTER (WHERE id % 2 = 0) AS iv "
               f"FROM {T} GROUP BY g ORDER BY g", True),
    ("rounding", "SELECT avg(x)::VARCHAR AS a FROM (VALUES ('2024-01-01'::TIMESTAMP), "
                 "('2024-01-01 00:00:00.000001'), ('2024-01-01 00:00:00.000001')) v(x)", False),
    ("rounding_tie", "SELECT avg(x)::VARCHAR AS a FROM (VALUES ('2024-01-01'::TIMESTAMP), "
                     "('2024-01-01 00:00:00.000003')) v(x)", False),
    ("dates_to_ns", "SELECT avg(x)::VARCHAR AS a FROM (VALUES ('2024-01-01'::DATE), ('2024-01-02'), "
                    "('2024-01-02'), ('2024-01-02'), ('2024-01-02'), ('2024-01-02'), ('2024-01-02')) v(x)", False),
    ("interval_fields", "SELECT avg(x)::VARCHAR AS a FROM (VALUES (INTERVAL '1 month 1 day'), "
                        "(INTERVAL '0 days'), (INTERVAL '0 days'), (INTERVAL '0 days'), (INTERVAL '0 days'), "
                        "(INTERVAL '0 days'), (INTERVAL '0 days')) v(x)", False),
    ("interval_mixed_signs", "SELECT avg(x)::VARCHAR AS a FROM (VALUES (INTERVAL '1 month -1 day'), "
                             "(INTERVAL '0 days')) v(x)", False),
    ("many_rows", "SELECT avg(TIMESTAMP '2020-01-01' + to_seconds(i * 37)) AS a, "
                  "avg(DATE '2000-01-01' + (i % 1000)::INTEGER) AS b, avg(to_minutes(i)) AS c "
                  "FROM range(100000) r(i)", False),
]


@pytest.mark.parametrize("name,query,ordered", CASES, ids=[c[0] for c in CASES])
def test_avg_temporal(sql, name, query, ordered):
    sql.check(query, ordered=ordered)
