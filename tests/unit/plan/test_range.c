/* test_range.c - pl_df_range (generated rows behind SQL range / generate_series): every value of
 * integer sequences checked against a plain C loop (across batch boundaries, with filters,
 * limits and two threads), bounds at the ends of int64 without overflow, empty sequences, the
 * row limit, timestamp sequences stepped by calendar months (clamped day, added step by step)
 * and by days/time, and the argument errors. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/dataframe.h"
#include "../common/test_util.h"

static pl_error g_err;
#define E (&g_err)
#define ok(expr) TEST_OK(expr, &g_err)

static pl_range_spec ispec(int64_t start, int64_t stop, int64_t step, bool inclusive) {
    pl_range_spec s;
    memset(&s, 0, sizeof s);
    s.type = pl_type_simple(PL_TYPE_INT64);
    s.start = start;
    s.stop = stop;
    s.step_i64 = step;
    s.inclusive = inclusive;
    return s;
}

/* Collects df's only column into a malloc'ed vector (*n values). */
static int64_t *collect(pl_df *df, int32_t threads, int64_t *n) {
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.n_threads = threads;
    pl_table *t = NULL;
    ok(pl_df_collect(df, &o, &t, E));
    int64_t *v = malloc((size_t)(t->n_rows + 1) * 8);
    int64_t k = 0;
    for (int64_t b = 0; b < t->n_batches; b++) {
        pl_array *a = t->batches[b]->columns[0];
        assert_int_equal(pl_array_null_count(a), 0);
        const int64_t *d = (const int64_t *)a->values->data + a->offset;
        for (int64_t i = 0; i < a->length; i++) v[k++] = d[i];
    }
    assert_int_equal(k, t->n_rows);
    pl_table_release(t);
    *n = k;
    return v;
}

/* The values of the spec by a plain loop in 128-bit arithmetic (at most max values). */
static int64_t model(const pl_range_spec *s, int64_t *out, int64_t max) {
    int64_t n = 0;
    for (__int128 v = s->start; n < max; v += s->step_i64) {
        if (s->step_i64 > 0 ? (s->inclusive ? v > s->stop : v >= s->stop)
                            : (s->inclusive ? v < s->stop : v <= s->stop))
            break;
        out[n++] = (int64_t)v;
    }
    return n;
}

static void check_ints(int64_t start, int64_t stop, int64_t step, bool inclusive) {
    pl_range_spec s = ispec(start, stop, step, inclusive);
    pl_df *df = NULL;
    ok(pl_df_range("range", &s, &df, E));
    assert_string_equal(pl_df_schema(df)->fields[0].name, "range");
    for (int32_t threads = 1; threads <= 2; threads++) {
        int64_t n = 0;
        int64_t *got = collect(df, threads, &n);
        int64_t *want = malloc((size_t)(n + 2) * 8);
        int64_t m = model(&s, want, n + 1);
        if (m != n) fail_msg("range(%lld, %lld, %lld, %d): %lld rows, want %lld", (long long)start,
                             (long long)stop, (long long)step, (int)inclusive, (long long)n, (long long)m);
        for (int64_t i = 0; i < n; i++)
            if (got[i] != want[i]) fail_msg("row %lld: %lld, want %lld", (long long)i, (long long)got[i], (long long)want[i]);
        free(got);
        free(want);
    }
    pl_df_release(df);
}

static void test_integers(void **state) {
    (void)state;
    check_ints(0, 5, 1, false);
    check_ints(0, 5, 1, true);
    check_ints(1, 10, 3, false);
    check_ints(1, 10, 3, true);
    check_ints(10, 1, -3, false);
    check_ints(10, 1, -3, true);
    check_ints(0, 0, 1, false);  /* empty */
    check_ints(0, 0, 1, true);   /* one row */
    check_ints(5, 1, 1, false);  /* wrong direction: empty */
    check_ints(1, 5, -1, true);
    check_ints(-7, 1000003, 1, false); /* several batches, the last one partial */
    check_ints(3, -1000000, -7, true);
    check_ints(0, 262144 * 2, 1, false); /* exactly two batches */
    check_ints(INT64_MAX - 2, INT64_MAX, 1, false);
    check_ints(INT64_MAX - 2, INT64_MAX, 1, true);
    check_ints(INT64_MIN, INT64_MIN + 2, 1, true);
    check_ints(INT64_MAX, INT64_MAX - 5, -1, false);
    check_ints(INT64_MIN + 3, INT64_MIN, -1, true);
    check_ints(INT64_MIN, INT64_MAX, INT64_MAX, false);
    check_ints(INT64_MIN, INT64_MAX, INT64_MAX, true);
    check_ints(INT64_MAX, INT64_MIN, INT64_MIN, false);
    check_ints(INT64_MAX, INT64_MIN, INT64_MIN, true);
    check_ints(0, 10, INT64_MAX, true);
}

static void test_operations_over_range(void **state) {
    (void)state;
    pl_range_spec s = ispec(0, 1000000, 1, false);
    pl_df *df = NULL, *f = NULL, *l = NULL, *g = NULL;
    ok(pl_df_range("r", &s, &df, E));
    /* filter r % 1000 = 7, then the aggregate sum */
    pl_expr *pred = pl_expr_call2("eq", pl_expr_call2("mod", pl_expr_col("r"), pl_expr_lit_i64(1000)),
                                  pl_expr_lit_i64(7));
    ok(pl_df_filter(df, pred, &f, E));
    pl_expr_release(pred);
    pl_expr *agg = pl_expr_agg("sum", 1, (pl_expr *[]){pl_expr_col("r")}, false, NULL, 0, NULL);
    ok(pl_df_aggregate(f, 0, NULL, NULL, 1, &agg, (const char *[]){"s"}, &g, E));
    pl_expr_release(agg);
    int64_t n = 0;
    int64_t *v = collect(g, 2, &n);
    assert_int_equal(n, 1);
    int64_t want = 0;
    for (int64_t i = 7; i < 1000000; i += 1000) want += i;
    assert_int_equal(v[0], want);
    free(v);
    /* a limit over a sequence of 2^32 rows finishes at once */
    pl_range_spec big = ispec(0, PL_DF_RANGE_MAX_ROWS, 1, false);
    pl_df *b = NULL;
    ok(pl_df_range("r", &big, &b, E));
    ok(pl_df_limit(b, 5, 3, &l, E));
    v = collect(l, 2, &n);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 5);
    assert_int_equal(v[2], 7);
    free(v);
    char *text = NULL;
    ok(pl_df_explain(b, false, &text, E));
    assert_non_null(strstr(text, "RANGE 0 to 4294967296 step 1 (4294967296 rows)"));
    pl_free(text);
    pl_df_release(l);
    pl_df_release(b);
    pl_df_release(g);
    pl_df_release(f);
    pl_df_release(df);
}

static void expect_error(const pl_range_spec *s, pl_status code, const char *needle) {
    pl_df *df = NULL;
    pl_error_init(&g_err);
    pl_status st = pl_df_range("range", s, &df, E);
    assert_int_equal(st, code);
    assert_null(df);
    if (!strstr(g_err.msg, needle)) fail_msg("\"%s\" not in \"%s\"", needle, g_err.msg);
}

static void test_limits_and_errors(void **state) {
    (void)state;
    pl_range_spec s = ispec(0, INT64_MAX, 1, false);
    expect_error(&s, PL_ERR_LIMIT, "more than 4294967296 rows");
    s = ispec(INT64_MIN, INT64_MAX, 1, true); /* 2^64 rows */
    expect_error(&s, PL_ERR_LIMIT, "this one has more than 18446744073709551615");
    s = ispec(0, PL_DF_RANGE_MAX_ROWS, 1, true); /* one over */
    expect_error(&s, PL_ERR_LIMIT, "4294967297");
    s = ispec(0, 100, 1, false);
    s.max_rows = 99;
    expect_error(&s, PL_ERR_LIMIT, "more than 99 rows");
    s.max_rows = 100;
    pl_df *df = NULL;
    ok(pl_df_range("range", &s, &df, E));
    pl_df_release(df);
    s = ispec(0, 10, 0, false);
    expect_error(&s, PL_ERR_INVALID_ARG, "cannot be 0");
    s.type = pl_type_simple(PL_TYPE_FLOAT64);
    s.step_i64 = 1;
    expect_error(&s, PL_ERR_TYPE, "not supported");
    pl_error_init(&g_err);
    assert_int_equal(pl_df_range("range", NULL, &df, E), PL_ERR_INVALID_ARG);
}

/* ---------------------------------------------------------------- timestamps */

static int64_t ts_us(int y, int m, int d, int hh, int mm) {
    /* days from civil (proleptic Gregorian), as in the engine's helpers */
    int64_t yy = y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return (days * 86400 + hh * 3600 + mm * 60) * INT64_C(1000000);
}

static pl_range_spec tspec(pl_type *t, int64_t start, int64_t stop, int32_t months, int32_t days,
                           int64_t ns, bool inclusive) {
    pl_range_spec s;
    memset(&s, 0, sizeof s);
    s.type = t;
    s.start = start;
    s.stop = stop;
    s.step_iv.months = months;
    s.step_iv.days = days;
    s.step_iv.ns = ns;
    s.inclusive = inclusive;
    return s;
}

static void check_ts(const pl_range_spec *s, int64_t n_want, const int64_t *want) {
    pl_df *df = NULL;
    ok(pl_df_range("range", s, &df, E));
    int64_t n = 0;
    int64_t *got = collect(df, 2, &n);
    assert_int_equal(n, n_want);
    for (int64_t i = 0; i < n; i++)
        if (got[i] != want[i]) fail_msg("row %lld: %lld, want %lld", (long long)i, (long long)got[i], (long long)want[i]);
    free(got);
    pl_df_release(df);
}

static void test_timestamps(void **state) {
    (void)state;
    pl_type *ts = NULL, *utc = NULL, *paris = NULL;
    ok(pl_type_new_timestamp(PL_UNIT_US, NULL, &ts, E));
    ok(pl_type_new_timestamp(PL_UNIT_US, "UTC", &utc, E));
    ok(pl_type_new_timestamp(PL_UNIT_US, "Europe/Paris", &paris, E));
    /* months: added to the previous value, the day clamped (01-31, 02-29, 03-29, 04-29, 05-29) */
    pl_range_spec s = tspec(ts, ts_us(2024, 1, 31, 0, 0), ts_us(2024, 6, 1, 0, 0), 1, 0, 0, false);
    int64_t m1[] = {ts_us(2024, 1, 31, 0, 0), ts_us(2024, 2, 29, 0, 0), ts_us(2024, 3, 29, 0, 0),
                    ts_us(2024, 4, 29, 0, 0), ts_us(2024, 5, 29, 0, 0)};
    check_ts(&s, 5, m1);
    /* backwards by 1 month 1 day, inclusive stop reached exactly */
    s = tspec(ts, ts_us(2024, 3, 31, 10, 30), ts_us(2024, 1, 29, 10, 30), -1, -1, 0, true);
    int64_t m2[] = {ts_us(2024, 3, 31, 10, 30), ts_us(2024, 2, 28, 10, 30), ts_us(2024, 1, 27, 10, 30)};
    check_ts(&s, 2, m2); /* 01-27 is past the stop */
    /* days and hours: linear */
    s = tspec(utc, ts_us(2024, 1, 1, 0, 0), ts_us(2024, 1, 3, 0, 0), 0, 0, INT64_C(12) * 3600 * 1000000000, true);
    int64_t h[] = {ts_us(2024, 1, 1, 0, 0), ts_us(2024, 1, 1, 12, 0), ts_us(2024, 1, 2, 0, 0),
                   ts_us(2024, 1, 2, 12, 0), ts_us(2024, 1, 3, 0, 0)};
    check_ts(&s, 5, h);
    /* 400 000 days one by one: several batches, linear values */
    s = tspec(ts, ts_us(1000, 1, 1, 0, 0), ts_us(1000, 1, 1, 0, 0) + INT64_C(400000) * 86400000000, 0, 1, 0, false);
    int64_t *d = malloc(400000 * 8);
    for (int64_t i = 0; i < 400000; i++) d[i] = ts_us(1000, 1, 1, 0, 0) + i * INT64_C(86400000000);
    check_ts(&s, 400000, d);
    free(d);
    /* months over the whole calendar: ~100k rows, each clamped from the previous one */
    s = tspec(ts, ts_us(1, 1, 31, 0, 0), ts_us(9999, 12, 31, 0, 0), 1, 0, 0, true);
    pl_df *df = NULL;
    ok(pl_df_range("range", &s, &df, E));
    int64_t n = 0;
    int64_t *got = collect(df, 1, &n);
    assert_int_equal(n, 9999 * 12);
    assert_int_equal(got[1], ts_us(1, 2, 28, 0, 0));
    assert_int_equal(got[n - 1], ts_us(9999, 12, 28, 0, 0));
    free(got);
    pl_df_release(df);
    /* near the end of the timestamp range: the step past the last value overflows */
    s = tspec(ts, INT64_MAX - 10, INT64_MAX, 0, 0, 3000, true);
    int64_t e[] = {INT64_MAX - 10, INT64_MAX - 7, INT64_MAX - 4, INT64_MAX - 1};
    check_ts(&s, 4, e);
    s = tspec(ts, INT64_MAX - 86400000000, INT64_MAX, 1, 0, 0, true);
    int64_t e2[] = {INT64_MAX - 86400000000};
    check_ts(&s, 1, e2);
    /* errors */
    s = tspec(ts, 0, 10, 0, 0, 0, false);
    expect_error(&s, PL_ERR_INVALID_ARG, "cannot be 0");
    s = tspec(ts, 0, 10, 1, -29, 0, false);
    expect_error(&s, PL_ERR_INVALID_ARG, "mixed signs");
    s = tspec(ts, 0, 10, 0, 0, 500, false); /* shorter than a microsecond */
    expect_error(&s, PL_ERR_INVALID_ARG, "shorter than");
    /* a zone other than UTC: days are local ones (CET -> CEST on 2024-03-31: 23 hours) */
    s = tspec(paris, INT64_C(1711796400000000), INT64_C(1711965600000000), 0, 1, 0, true);
    int64_t e3[] = {INT64_C(1711796400000000), INT64_C(1711879200000000), INT64_C(1711965600000000)};
    check_ts(&s, 3, e3);
    s = tspec(paris, INT64_C(1711796400000000), INT64_C(1711965600000000), 0, 0, INT64_C(86400000000000), true);
    int64_t e4[] = {INT64_C(1711796400000000), INT64_C(1711882800000000)}; /* 24 hours: elapsed */
    check_ts(&s, 2, e4);
    s = tspec(ts, INT64_MIN, INT64_MAX, 0, 0, 1000, false);
    expect_error(&s, PL_ERR_LIMIT, "rows is refused");
    pl_type_release(ts);
    pl_type_release(utc);
    pl_type_release(paris);
}

int main(void) {
    pl_error_init(&g_err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_operations_over_range),
        cmocka_unit_test(test_limits_and_errors),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
