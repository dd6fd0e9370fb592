"""Overflow and size edge cases of scalar functions, compared with DuckDB: each case gave a wrong
value, hung or tripped UBSan before its fix.

- date_diff / date_sub in microseconds (or nanoseconds) of timestamps ~580000 years apart pass
  64 bits: an error like DuckDB's (the difference wrapped to a wrong value);
- make_timestamp(BIGINT microseconds) reads the integer exactly (it went through a double:
  the last digits of large values were wrong) and refuses DuckDB's infinities +-INT64_MAX;
- the first, partial day of the timestamp range (from INT64_MIN microseconds) prints, formats,
  casts to TIME and takes intervals; date_trunc below it is an error (UBSan: signed overflow);
- repeat() / lpad() / rpad() build long results by doubling copies (one append per repetition
  took minutes for 2^31 bytes; repeat('', huge) never ended) and refuse a result past the 2 GiB
  string limit of one batch with a clear error (DuckDB goes to 4 GiB: docs/sql.md)."""
import pytest

CASES = [
    ("date_diff_ms_far",
     "SELECT date_diff('millisecond', TIMESTAMP '290000-01-01', TIMESTAMP '-290000-01-01') AS a, "
     "date_sub('millisecond', TIMESTAMP '290000-01-01', TIMESTAMP '-290000-01-01') AS b, "
     "date_diff('microsecond', TIMESTAMP '2000-01-01', TIMESTAMP '-290000-01-01') AS c, "
     "date_sub('microsecond', TIMESTAMP '-290000-01-01', TIMESTAMP '2000-01-01') AS d, "
     "date_diff('second', DATE '-290000-01-01', DATE '290000-01-01') AS e"),
    ("make_timestamp_exact",
     "SELECT x, make_timestamp(x) AS t FROM (VALUES (1234567890123456789), (9223372036854775806), "
     "(-9223372036854775806), (-5), (0), (NULL)) t(x) ORDER BY x"),
    ("make_timestamp_exact_scalar",
     "SELECT make_timestamp(1234567890123456789) AS a, make_timestamp(9223372036854775000) AS b"),
    ("timestamp_lowest",
     "SELECT make_timestamp(-9223372036854775808)::VARCHAR AS a"),
    # the first (partial) day of the timestamp range: day * units-per-day passes INT64_MIN
    ("timestamp_lowest_parts",
     "WITH t(x) AS (SELECT make_timestamp(-9223372036854775808)) SELECT "
     "strftime(x, '%Y-%m-%d %H:%M:%S') AS a, x + INTERVAL 1 DAY AS b, x + INTERVAL 1 MONTH AS c, "
     "age(TIMESTAMP '2000-01-01', x) AS d, x::TIME AS e, year(x) AS f, hour(x) AS g, "
     "x::DATE AS i, date_diff('day', x, TIMESTAMP '2000-01-01') AS j "
     "FROM t"),
    ("repeat_empty_huge",
     "SELECT repeat('', 9223372036854775807) AS a, repeat(x, 9223372036854775807) AS b "
     "FROM (VALUES (''), (NULL)) t(x)"),
    ("repeat_pad_values",
     "SELECT i, repeat(s, n) AS r, lpad(s, n, p) AS l, rpad(s, n, p) AS rp FROM (VALUES "
     "(1, 'abc', 2, 'xy'), (2, 'de', 0, 'é'), (3, '', 5, 'ab'), (4, 'é', 3, 'xyz'), "
     "(5, 'héllo', 3, 'x'), (6, 'a', 7, 'bé'), (7, 'a', -3, 'b'), (8, NULL, 3, 'b'), "
     "(9, 'ab', 6, 'é日🙂')) t(i, s, n, p) ORDER BY i"),
    ("repeat_pad_long",
     "SELECT length(repeat('abc', 10000001)) AS a, length(lpad('a', 20000003, 'xy')) AS b, "
     "length(rpad(x, 20000003, 'é日')) AS c, md5(repeat('abc', 1000001)) AS d, "
     "md5(lpad('z', 3000001, 'xyz')) AS e FROM (VALUES ('q'), ('qé')) t(x)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_overflow_edges(sql, name, query):
    sql.check(query, ordered=True)


ERRORS = [
    ("date_diff_us_far",
     "SELECT date_diff('microsecond', TIMESTAMP '290000-01-01', TIMESTAMP '-290000-01-01')",
     ("out of the range of BIGINT",)),
    ("date_diff_us_far_rows",
     "SELECT date_diff('microsecond', a, b) FROM (VALUES (TIMESTAMP '2000-01-01', "
     "TIMESTAMP '2000-01-02'), (DATE '-290000-01-01', DATE '290000-01-01')) t(a, b)",
     ("out of the range of BIGINT",)),
    ("date_sub_us_far",
     "SELECT date_sub('microsecond', TIMESTAMP '290000-01-01', TIMESTAMP '-290000-01-01')",
     ("out of the range of BIGINT",)),
    ("date_trunc_lowest_day",
     "SELECT date_trunc('day', make_timestamp(-9223372036854775808))", ("lowest timestamp",)),
    ("date_trunc_lowest_hour",
     "SELECT date_trunc('hour', make_timestamp(-9223372036854775808))", ("lowest timestamp",)),
    ("date_trunc_lowest_year",
     "SELECT date_trunc('year', x) FROM (VALUES (make_timestamp(-9223372036854775808))) t(x)",
     ("lowest timestamp",)),
    ("make_timestamp_infinity",
     "SELECT make_timestamp(x) FROM (VALUES (1), (9223372036854775807)) t(x)", ("out of range",)),
    ("make_timestamp_neg_infinity", "SELECT make_timestamp(-9223372036854775807)",
     ("out of range",)),
]


@pytest.mark.parametrize("name,query,needles", ERRORS, ids=[c[0] for c in ERRORS])
def test_overflow_edges_error(sql, name, query, needles):
    sql.error([query], *needles)


# DuckDB answers these (strings up to 4 GiB); polaroid's strings of one batch stop at 2 GiB
# (int32 offsets): a clear error before anything is allocated, never a crash or a wrong value
TOO_LONG = [
    ("repeat_2g", "SELECT repeat('ab', 1100000000)"),
    ("repeat_2g_rows", "SELECT repeat(x, 1100000000) FROM (VALUES ('a'), ('bc')) t(x)"),
    ("repeat_max", "SELECT repeat('a', 9223372036854775807)"),
    ("lpad_max", "SELECT lpad('a', 9223372036854775807, 'b')"),
    ("rpad_multibyte_2g", "SELECT rpad(x, 2147483647, 'bé') FROM (VALUES ('a')) t(x)"),
    ("lpad_multibyte_2g", "SELECT lpad(x, 1500000000, '日') FROM (VALUES ('a')) t(x)"),
]


@pytest.mark.parametrize("name,query", TOO_LONG, ids=[c[0] for c in TOO_LONG])
def test_overflow_edges_too_long(sql, name, query):
    r = sql.polaroid([query], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"exit {r.returncode}, stderr: {err}"
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    assert "too large" in err and ("2 GiB" in err or "2147483647" in err), err
