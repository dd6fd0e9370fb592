"""Edge cases found by the second differential probe against DuckDB (joins, grouping sets, set
operations, dates and times, strings, decimals, windows, sessions), compared with DuckDB. Each
case failed (wrong answer, error where DuckDB answers, or an ASan/UBSan report) before its
fix."""
import pytest

FAR = ("(VALUES (1, DATE '5000000-01-01'), (2, DATE '-5000000-01-01'), (3, NULL), "
       "(4, DATE '2024-02-29')) t(i, dt)")
STRS = ("(VALUES (1, 'école été'), (2, 'ÉCOLE ÉTÉ'), (3, ''), (4, NULL), (5, '日本語'), "
        "(6, 'xΣΑΣ'), (7, 'Ÿ'), (8, 'abc'), (9, '🙂a🙂'), (10, 'жЖ')) t(i, s)")
D38 = "99999999999999999999999999999999999999::DECIMAL(38,0)"

CASES = [
    # strftime / dayname / monthname of a date past the timestamp range (the date was made a
    # microsecond timestamp first: signed overflow)
    ("strftime_far_date",
     f"SELECT i, strftime(dt, '%Y-%m-%d %j %A') AS a, dayname(dt) AS b, monthname(dt) AS c "
     f"FROM {FAR} ORDER BY i"),
    # make_timestamp / make_time round the seconds half away from zero like DuckDB (was half
    # to even)
    ("make_timestamp_rounding",
     "SELECT make_timestamp(1970, 1, 1, 0, 0, 0.0000005) AS a, "
     "make_timestamp(1970, 1, 1, 0, 0, 0.0000025) AS b, make_time(0, 0, 0.0000005) AS c, "
     "make_timestamp(2024, 2, 29, 23, 59, 59.9999994) AS d"),
    # regular expressions work on characters, not bytes: '.' took one byte of a multi-byte
    # character (invalid UTF-8 out of regexp_extract/replace), REG_ICASE folded ASCII only
    ("regexp_utf8",
     f"SELECT i, regexp_replace(s, '.', 'x', 'g') AS a, regexp_extract(s, '(.)(.)', 2) AS b, "
     f"regexp_replace(s, '(.)(.)', '\\2\\1', 'g') AS c, regexp_matches(s, '^.{{{{3}}}}$') AS d, "
     f"regexp_replace(s, 'É', 'e', 'gi') AS e, regexp_full_match(s, '[^a]+') AS f "
     f"FROM {STRS} ORDER BY i"),
    ("regexp_utf8_column_pattern",
     f"SELECT i, regexp_matches(s, p) AS a, regexp_replace(s, p, '<>', 'g') AS b "
     f"FROM {STRS}, (VALUES ('.'), ('é.'), ('^..$'), ('[éa]')) q(p) ORDER BY i, p"),
    # ILIKE folds non-ASCII letters like lower() (ASCII only before)
    ("ilike_non_ascii",
     f"SELECT i, s ILIKE 'É%' AS a, s ILIKE '%ÉTÉ' AS b, s ILIKE '_cole%' AS c, "
     f"s ILIKE '%σας%' AS d, s ILIKE 'ÿ' AS e, s NOT ILIKE '%Ж%' AS f, s ILIKE p AS g "
     f"FROM {STRS}, (VALUES ('%É%')) q(p) ORDER BY i"),
    # a named window based on another (WINDOW w2 AS (w)) inherits w's PARTITION BY and ORDER
    # BY through any number of steps (only the first definition was read: w2 had none)
    ("window_based_on_window",
     "SELECT x, rank() OVER w2 AS a, sum(x) OVER (w2 ROWS 1 PRECEDING) AS b, sum(x) OVER w3 AS c, "
     "lag(x) OVER w2 AS d, count(*) OVER (w) AS e FROM (VALUES (1, 'a'), (2, 'a'), (3, 'b'), "
     "(4, 'a'), (5, 'b')) t(x, g) WINDOW w AS (PARTITION BY g), w2 AS (w ORDER BY x DESC), "
     "w3 AS (w2 ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) ORDER BY x"),
    ("window_based_on_window_chain",
     "SELECT x, sum(x) OVER w4 AS a, first_value(x) OVER w5 AS b FROM (VALUES (1, 'a'), (2, 'a'), "
     "(3, 'b'), (4, 'a')) t(x, g) WINDOW w1 AS (PARTITION BY g ORDER BY x), w2 AS (w1), w3 AS (w2), "
     "w4 AS (w3 ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), w5 AS (w3) ORDER BY x"),
    # DECIMAL(38) sums near the 128-bit limit: exact where they fit
    ("decimal38_window_sums",
     f"SELECT i, sum(x) OVER (ORDER BY i ROWS 0 PRECEDING) AS a, sum(x) OVER (ORDER BY i) AS b, "
     f"avg(x) OVER (ORDER BY i ROWS 0 PRECEDING) AS c FROM (VALUES (1, {D38}), (2, -{D38}), "
     f"(3, {D38}), (4, -{D38})) t(i, x) ORDER BY i"),
    ("decimal38_sum_cancels",
     f"SELECT sum(x) AS a, avg(x) AS b FROM (VALUES ({D38}), (-{D38}), (5::DECIMAL(38,0))) t(x)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_edge_probe2(sql, name, query):
    sql.check(query, ordered=True)


ERRORS = [
    # epoch_ns of a date or timestamp outside 1677..2262 overflowed (UBSan) instead of failing
    ("epoch_ns_date", "SELECT epoch_ns(DATE '0001-01-01')", "out of range"),
    ("epoch_ns_ts", "SELECT epoch_ns(x) FROM (VALUES (TIMESTAMP '2000-01-01'), "
     "(TIMESTAMP '1000-01-01')) t(x)", "out of range"),
    # date + interval / time of a date past the timestamp range overflowed
    ("far_date_plus_interval", "SELECT DATE '5000000-01-01' + INTERVAL 1 HOUR", "out of range"),
    ("far_date_plus_time", "SELECT DATE '5000000-01-01' + TIME '01:00'", "out of range"),
    # windows based on each other in a cycle, or a missing one: an error without leaking the
    # call's arguments
    ("window_cycle", "SELECT sum(x) OVER w FROM (VALUES (1)) t(x) WINDOW w AS (w2), w2 AS (w)",
     "window"),
    ("window_missing", "SELECT sum(x) FILTER (WHERE x > 0) OVER nope FROM (VALUES (1)) t(x)",
     "does not exist"),
    # a DECIMAL(38) sum past 128 bits: an error (the int128 add overflowed: UBSan, a wrapped sum)
    ("decimal38_sum_overflow", f"SELECT sum(x) FROM (VALUES ({D38}), ({D38})) t(x)", "overflow"),
    ("decimal38_avg_overflow", f"SELECT avg(x) FROM (VALUES ({D38}), ({D38}), ({D38})) t(x)",
     "overflow"),
    ("decimal38_group_sum_overflow", f"SELECT g, sum(x) FROM (VALUES (1, {D38}), (1, -{D38}), "
     f"(2, {D38}), (2, {D38})) t(g, x) GROUP BY g", "overflow"),
    ("decimal38_window_overflow", f"SELECT sum(x) OVER (ORDER BY i ROWS 1 PRECEDING) FROM "
     f"(VALUES (1, {D38}), (2, {D38})) t(i, x)", "overflow"),
    ("decimal38_window_frame_overflow", "SELECT sum(x) OVER (ORDER BY i ROWS 1 PRECEDING) FROM "
     "(VALUES (1, 60000000000000000000000000000000000000::DECIMAL(38,0)), "
     "(2, 50000000000000000000000000000000000000::DECIMAL(38,0))) t(i, x)", "overflow"),
]


@pytest.mark.parametrize("name,query,needle", ERRORS, ids=[c[0] for c in ERRORS])
def test_edge_probe2_error(sql, name, query, needle):
    sql.error([query], needle)


def test_edge_probe2_far_date_parts(sql):
    """Date functions that work through microsecond timestamps refuse a date past the
    timestamp range instead of overflowing (DuckDB answers: docs/sql.md); NULLs are fine."""
    r = sql.polaroid([f"SELECT i, dayofweek(dt) FROM {FAR} ORDER BY i"], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "runtime error" not in err and "AddressSanitizer" not in err, err
    assert "date out of the timestamp range" in err, err
    sql.check(f"SELECT i, dayofweek(dt) AS a, epoch_ns(dt) AS b FROM {FAR} WHERE i > 2 ORDER BY i",
              ordered=True)
