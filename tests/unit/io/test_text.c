/* test_text.c - unit tests for the scalar renderers and parsers of src/io/text/text.c. Expected
 * strings are what DuckDB 2.0 prints for the same values (COPY ... TO csv), the
 * parquet-testing expected/ files, or calendar facts (Julian day 0, Python's datetime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/text/text.h"

static void check_double(double v, const char *want) {
    char buf[64];
    int n = pl_text_format_double(v, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void check_float(float v, const char *want) {
    char buf[64];
    int n = pl_text_format_float(v, buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, (int)strlen(want));
}

static void test_double_duckdb_forms(void **state) {
    (void)state;
    check_double(1.0, "1.0");
    check_double(0.0, "0.0");
    check_double(-0.0, "-0.0");
    check_double(0.1, "0.1");
    check_double(1e16, "1e+16");
    check_double(1e15, "1000000000000000.0");
    check_double(2.5e15, "2500000000000000.0");
    check_double(123456789012345678.0, "1.2345678901234568e+17");
    check_double(0.0001, "0.0001");
    check_double(0.00001, "1e-05");
    check_double(0.00012345, "0.00012345");
    check_double(1e300, "1e+300");
    check_double(5e-324, "5e-324");
    check_double(-1e-300, "-1e-300");
    check_double(1.5e-7, "1.5e-07");
    check_double(1e22, "1e+22");
    check_double(9007199254740993.0, "9007199254740992.0");
    check_double(1.7976931348623157e308, "1.7976931348623157e+308");
    check_double(12345600.0, "12345600.0");
    check_double(NAN, "nan");
    check_double(copysign(NAN, -1.0), "-nan"); /* floating_orders_nan_count expected */
    check_double(INFINITY, "inf");
    check_double(-INFINITY, "-inf");
    /* from parquet-testing expected/ files */
    check_double(30.299999999999997, "30.299999999999997");
    check_double(-1.3065268517353166, "-1.3065268517353166");
    check_double(10.1, "10.1");
}

static void test_double_roundtrip_random(void **state) {
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    char buf[64];
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, 8);
        if (!isfinite(v)) continue;
        pl_text_format_double(v, buf);
        assert_true(strtod(buf, NULL) == v);
        float f;
        uint32_t fx = (uint32_t)x;
        memcpy(&f, &fx, 4);
        if (!isfinite(f)) continue;
        pl_text_format_float(f, buf);
        assert_true(strtof(buf, NULL) == f);
    }
}

/* Reference: the fewest significant digits p whose correctly rounded %.{p-1}e text reads back
 * (found by trying every p), as a plain %.{p-1}e string. */
static void shortest_ref(double v, char *out) {
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 48, "%.*e", p - 1, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* Digits and exponent of our output, rendered back through %e of the parsed value at the same
 * digit count, must equal the reference: same length and same digits. */
static void check_shortest(double v) {
    char ours[64], ref[48], again[48];
    pl_text_format_double(v, ours);
    assert_true(strtod(ours, NULL) == v);
    shortest_ref(v, ref);
    int ref_digits = 0, our_digits = 0;
    for (const char *p = ref; *p && *p != 'e'; p++) ref_digits += (*p >= '0' && *p <= '9');
    const char *q = ours;
    while (*q == '-' || *q == '0' || *q == '.') q++; /* leading zeros are not significant */
    int pending_zeros = 0;
    for (; *q && *q != 'e'; q++) {
        if (*q == '0') pending_zeros++;
        else if (*q >= '1' && *q <= '9') our_digits += pending_zeros + 1, pending_zeros = 0;
    }
    if (our_digits == 0) our_digits = 1;
    snprintf(again, sizeof again, "%.*e", ref_digits - 1, v);
    if (our_digits != ref_digits) fail_msg("%.17g: ours %s, reference %s", v, ours, ref);
    assert_string_equal(again, ref);
}

static void test_double_shortest_matches_reference(void **state) {
    (void)state;
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int k = 0; k < 20000; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, 8);
        if (isfinite(v) && v != 0) check_shortest(v);
        /* "nice" decimals: an integer over a power of ten */
        double nice = (double)(int64_t)(x % 100000000) / pow(10, (double)(x >> 59));
        if (nice != 0) check_shortest(nice);
        check_shortest((double)(x >> 11) * 1e-300);
    }
}

static void test_float_duckdb_forms(void **state) {
    (void)state;
    check_float(3.4028235e38f, "3.4028235e+38");
    check_float(1e-45f, "1e-45");
    check_float(0.1f, "0.1");
    check_float(16777217.0f, "16777216.0");
    check_float(1e15f, "1000000000000000.0");
    check_float(1e16f, "1e+16");
    check_float(1.17549435e-38f, "1.1754944e-38");
    check_float(100000000.0f, "100000000.0");
    check_float(1.7640524f, "1.7640524");
    check_float(1.1f, "1.1");
    check_float(-0.0f, "-0.0");
    check_float(NAN, "nan");
}

static void test_decimal(void **state) {
    (void)state;
    char buf[64];
    pl_text_format_decimal(123450, 0, 3, buf);
    assert_string_equal(buf, "123.450");
    pl_text_format_decimal((uint64_t)-50, -1, 3, buf);
    assert_string_equal(buf, "-0.050");
    pl_text_format_decimal(100, 0, 2, buf);
    assert_string_equal(buf, "1.00");
    pl_text_format_decimal(0, 0, 2, buf);
    assert_string_equal(buf, "0.00");
    pl_text_format_decimal(42, 0, 0, buf);
    assert_string_equal(buf, "42");
    /* 12345678901234567890123456789.123456789 as DECIMAL(38, 9) */
    pl_text_format_decimal(0xc4499050e4d85f15ull, 669260594276348691LL, 9, buf);
    assert_string_equal(buf, "12345678901234567890123456789.123456789");
    pl_text_format_decimal(0x3bb66faf1b27a0ebull, -669260594276348692LL, 9, buf);
    assert_string_equal(buf, "-12345678901234567890123456789.123456789");
}

static void test_dates(void **state) {
    (void)state;
    char buf[64];
    pl_text_format_date(0, buf);
    assert_string_equal(buf, "1970-01-01");
    pl_text_format_date(-1, buf);
    assert_string_equal(buf, "1969-12-31");
    pl_text_format_date(-719162, buf); /* Python: date(1,1,1) - date(1970,1,1) */
    assert_string_equal(buf, "0001-01-01");
    pl_text_format_date(-719163, buf); /* DuckDB: '0001-01-01'::date - 1 */
    assert_string_equal(buf, "0001-12-31 (BC)");
    pl_text_format_date(-2440588, buf); /* Julian day 0 = 24 Nov 4714 BC (proleptic) */
    assert_string_equal(buf, "4714-11-24 (BC)");
    pl_text_format_date(2932896, buf);
    assert_string_equal(buf, "9999-12-31");
    pl_text_format_date(2932897, buf);
    assert_string_equal(buf, "10000-01-01");
    pl_text_format_date(11016, buf); /* 2000-02-29 */
    assert_string_equal(buf, "2000-02-29");
    for (int64_t d = -800000; d < 3000000; d += 997) {
        int64_t y;
        int32_t m, dd;
        pl_text_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(pl_text_days_from_civil(y, m, dd), d);
    }
}

static void test_times_and_timestamps(void **state) {
    (void)state;
    char buf[80];
    pl_text_format_timestamp(-1, PL_UNIT_US, false, buf);
    assert_string_equal(buf, "1969-12-31 23:59:59.999999");
    pl_text_format_timestamp(-500000, PL_UNIT_US, false, buf);
    assert_string_equal(buf, "1969-12-31 23:59:59.5");
    pl_text_format_timestamp(1577836800123456789LL, PL_UNIT_NS, false, buf);
    assert_string_equal(buf, "2020-01-01 00:00:00.123456789");
    pl_text_format_timestamp(1577836800100000000LL, PL_UNIT_NS, false, buf);
    assert_string_equal(buf, "2020-01-01 00:00:00.1");
    pl_text_format_timestamp(1577836800123LL, PL_UNIT_MS, false, buf);
    assert_string_equal(buf, "2020-01-01 00:00:00.123");
    pl_text_format_timestamp(1577836800LL, PL_UNIT_S, false, buf);
    assert_string_equal(buf, "2020-01-01 00:00:00");
    pl_text_format_timestamp(1577844000500000LL, PL_UNIT_US, true, buf);
    assert_string_equal(buf, "2020-01-01 02:00:00.5+00");
    /* alltypes_tiny_pages expected: 2009-01-13 01:02:05.41 */
    pl_text_format_timestamp(1231808525410000LL, PL_UNIT_US, false, buf);
    assert_string_equal(buf, "2009-01-13 01:02:05.41");
    pl_text_format_time(45296500000LL, PL_UNIT_US, buf);
    assert_string_equal(buf, "12:34:56.5");
    pl_text_format_time(45296000000000LL, PL_UNIT_NS, buf);
    assert_string_equal(buf, "12:34:56");
}

static void test_parse(void **state) {
    (void)state;
    int32_t days;
    int64_t ts0;
    bool tz0;
    assert_true(pl_text_parse_date("2000-02-29", 10, &days));
    assert_int_equal(days, 11016);
    assert_false(pl_text_parse_date("2001-02-29", 10, &days));
    assert_false(pl_text_parse_date("2001-13-01", 10, &days));
    assert_true(pl_text_parse_date("2001-1-1", 8, &days)); /* DuckDB reads these too */
    assert_int_equal(days, 11323);
    assert_false(pl_text_parse_date("2001-001-01", 11, &days));
    assert_false(pl_text_parse_date("2001-01-", 8, &days));
    assert_true(pl_text_parse_timestamp("2001-1-1 1:2:3", 14, PL_UNIT_S, &ts0, &tz0));
    assert_int_equal(ts0, 978310923LL);
    assert_false(pl_text_parse_timestamp("2001-01-01 1:2:", 15, PL_UNIT_S, &ts0, &tz0));
    assert_false(pl_text_parse_timestamp("2001-01-01 123:00", 17, PL_UNIT_S, &ts0, &tz0));
    assert_false(pl_text_parse_date("abc", 3, &days));
    assert_false(pl_text_parse_date("", 0, &days));
    assert_true(pl_text_parse_date("0001-12-31 (BC)", 15, &days));
    assert_int_equal(days, -719163);
    assert_true(pl_text_parse_date("4714-11-24 (BC)", 15, &days));
    assert_int_equal(days, -2440588);
    assert_false(pl_text_parse_date("0000-01-01 (BC)", 15, &days));
    int64_t ts;
    bool tz;
    assert_true(pl_text_parse_timestamp("2009-01-13 01:02:05.41", 22, PL_UNIT_US, &ts, &tz));
    assert_int_equal(ts, 1231808525410000LL);
    assert_false(tz);
    assert_true(pl_text_parse_timestamp("2020-01-01T05:00:00.5+03:00", 27, PL_UNIT_US, &ts, &tz));
    assert_int_equal(ts, 1577844000500000LL);
    assert_true(tz);
    assert_true(pl_text_parse_timestamp("1969-12-31 23:59:59.999999", 26, PL_UNIT_US, &ts, &tz));
    assert_int_equal(ts, -1);
    assert_true(pl_text_parse_timestamp("2020-01-01 00:00", 16, PL_UNIT_US, &ts, &tz));
    assert_int_equal(ts, 1577836800000000LL);
    assert_false(pl_text_parse_timestamp("2020-01-01 25:00:00", 19, PL_UNIT_US, &ts, &tz));
    assert_false(pl_text_parse_timestamp("2020-01-01 00:00:00.", 20, PL_UNIT_US, &ts, &tz));
    assert_false(pl_text_parse_timestamp("2020-01-01x", 11, PL_UNIT_US, &ts, &tz));
    assert_true(pl_text_parse_timestamp("0001-12-31 (BC) 05:00:00", 24, PL_UNIT_US, &ts, &tz));
    assert_int_equal(ts, (-719163LL * 86400 + 5 * 3600) * 1000000);
}

/* Little WKB writer for the tests. */
typedef struct wkb {
    uint8_t b[1024];
    int n;
} wkb;

static void w_u8(wkb *w, uint8_t v) { w->b[w->n++] = v; }
static void w_u32(wkb *w, uint32_t v, bool le) {
    for (int k = 0; k < 4; k++) w_u8(w, (uint8_t)(le ? v >> (8 * k) : v >> (8 * (3 - k))));
}
static void w_f64(wkb *w, double d, bool le) {
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int k = 0; k < 8; k++) w_u8(w, (uint8_t)(le ? v >> (8 * k) : v >> (8 * (7 - k))));
}
static void w_head(wkb *w, uint32_t type, bool le) {
    w_u8(w, le ? 1 : 0);
    w_u32(w, type, le);
}

static const char *wkt(const wkb *w) {
    static char out[1024];
    pl_strbuf sb = {0};
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_text_wkb_to_wkt(w->b, w->n, &sb, &err);
    snprintf(out, sizeof out, "%s", st ? err.msg : sb.data);
    pl_strbuf_reset(&sb);
    return out;
}

/* Expected texts are DuckDB's, as in parquet-testing expected/data/geospatial/ files. */
static void test_wkb_to_wkt(void **state) {
    (void)state;
    wkb w = {0};
    w_head(&w, 1, true);
    w_f64(&w, 30, true);
    w_f64(&w, 10, true);
    assert_string_equal(wkt(&w), "POINT (30 10)");
    w.n = 0; /* big-endian linestring */
    w_head(&w, 2, false);
    w_u32(&w, 3, false);
    double ls[] = {30, 10, 10, 30, 40, 40};
    for (int k = 0; k < 6; k++) w_f64(&w, ls[k], false);
    assert_string_equal(wkt(&w), "LINESTRING (30 10, 10 30, 40 40)");
    w.n = 0; /* multipoint of two points: no inner parentheses */
    w_head(&w, 4, true);
    w_u32(&w, 2, true);
    for (int k = 0; k < 2; k++) {
        w_head(&w, 1, true);
        w_f64(&w, 10 + k * 30, true);
        w_f64(&w, -1176249.4056551068, true);
    }
    assert_string_equal(wkt(&w), "MULTIPOINT (10 -1176249.4056551068, 40 -1176249.4056551068)");
    w.n = 0; /* ISO Z polygon with one ring */
    w_head(&w, 1003, true);
    w_u32(&w, 1, true);
    w_u32(&w, 2, true);
    double ring[] = {30, 10, 40, 40, 40, 80};
    for (int k = 0; k < 6; k++) w_f64(&w, ring[k], true);
    assert_string_equal(wkt(&w), "POLYGON Z ((30 10 40, 40 40 80))");
    w.n = 0; /* empty point (NaN coordinates), ZM */
    w_head(&w, 3001, true);
    for (int k = 0; k < 4; k++) w_f64(&w, NAN, true);
    assert_string_equal(wkt(&w), "POINT ZM EMPTY");
    w.n = 0; /* collection holding an M point and an empty linestring */
    w_head(&w, 2007, true);
    w_u32(&w, 2, true);
    w_head(&w, 2001, true);
    w_f64(&w, 30, true);
    w_f64(&w, 10, true);
    w_f64(&w, 300, true);
    w_head(&w, 2002, true);
    w_u32(&w, 0, true);
    assert_string_equal(wkt(&w), "GEOMETRYCOLLECTION M (POINT M (30 10 300), LINESTRING M EMPTY)");
    w.n = 0; /* EWKB with SRID and Z flag */
    w_head(&w, 0x80000000u | 0x20000000u | 1, true);
    w_u32(&w, 4326, true);
    w_f64(&w, 1.5, true);
    w_f64(&w, 2, true);
    w_f64(&w, 3, true);
    assert_string_equal(wkt(&w), "POINT Z (1.5 2 3)");
    /* corrupt input */
    w.n = 0;
    w_head(&w, 2, true);
    w_u32(&w, 1000000, true);
    assert_non_null(strstr(wkt(&w), "invalid WKB at byte 9"));
    w.n = 0;
    w_head(&w, 9, true);
    assert_non_null(strstr(wkt(&w), "unknown geometry type"));
    w.n = 0;
    for (int k = 0; k < 40; k++) {
        w_head(&w, 7, true);
        w_u32(&w, 1, true);
    }
    assert_non_null(strstr(wkt(&w), "nested too deeply"));
}

static void test_strbuf(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    for (int k = 0; k < 1000; k++) assert_int_equal(pl_strbuf_appendf(&sb, NULL, "%d,", k), PL_OK);
    assert_int_equal(sb.len, (int64_t)strlen(sb.data));
    assert_memory_equal(sb.data, "0,1,2,", 6);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "[%s]", big), PL_OK);
    assert_int_equal(sb.data[sb.len - 1], ']');
    pl_strbuf_reset(&sb);
    assert_null(sb.data);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_duckdb_forms), cmocka_unit_test(test_double_roundtrip_random),
        cmocka_unit_test(test_double_shortest_matches_reference),
        cmocka_unit_test(test_float_duckdb_forms),  cmocka_unit_test(test_decimal),
        cmocka_unit_test(test_dates),               cmocka_unit_test(test_times_and_timestamps),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_wkb_to_wkt),               cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
