/* test_funcs_time.c - the date/time functions (kernels_time.c, time_fmt.c, time_arith.c, tz.c)
 * against values checked with DuckDB 2.0 (zoned cases with SET TimeZone to the column's zone):
 * extract/date_trunc/time_bucket/date_diff, strftime/strptime, make_*, epoch conversions,
 * interval literals and their text, date/time arithmetic, time zones across DST transitions
 * (including dates past the last TZif transition, from the POSIX rule), fixed offsets. */
#include "funcs_test.h"

#include "expr/time_int.h"

#include <unistd.h>

#define TS "2024-03-10 14:35:27.123456"

static pl_type *ts_type(pl_time_unit unit, const char *tz) {
    pl_type *t;
    assert_int_equal(pl_type_new_timestamp(unit, tz, &t, NULL), PL_OK);
    return t;
}

static void test_extract(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    const char *parts[] = {"year", "quarter", "month", "week", "day", "dayofweek", "dow", "isodow",
                           "dayofyear", "doy", "hour", "minute", "second", "millisecond",
                           "milliseconds", "microsecond", "isoyear", "decade", "century",
                           "millennium", "yearweek", "era", "ms", "us", "s", "m", "h", "d", "y",
                           "mon", "min", "sec", "weekday", "weekofyear", "timezone", "YEAR"};
    const char *want[] = {"2024", "1", "3", "10", "10", "0", "0", "7", "70", "70", "14", "35", "27",
                          "27123", "27123", "27123456", "2024", "202", "21", "3", "202410", "1",
                          "27123", "27123456", "27", "35", "14", "10", "2024", "3", "35", "27", "0",
                          "10", "0", "2024"};
    for (size_t i = 0; i < PL_ARRAY_LEN(parts); i++)
        ft_check("date_part", "int64", ARGS(SCA(T_STR, parts[i]), ARR(T, TS, NULL)), 2,
                 (const char *const[]){want[i], NULL});
    ft_check("extract", "float64", ARGS(SCA(T_STR, "epoch"), ARR(T, TS)), EXPECT("1710081327.12346"));
    ft_check("date_part", "float64", ARGS(SCA(T_STR, "julian"), ARR(T, TS)), EXPECT("2460380.60795282"));
    ft_check("year", "int64", ARGS(ARR(T, "1969-12-31 23:59:59", "2000-02-29 00:00:00", "0001-01-01 00:00:00")),
             EXPECT("1969", "2000", "1"));
    ft_check("hour", "int64", ARGS(ARR(T, "1969-12-31 23:59:59", NULL)), EXPECT("23", NULL));
    ft_check("date_part", "int64", ARGS(SCA(T_STR, "year"), ARR(T_DATE, "2024-03-10", NULL)), EXPECT("2024", NULL));
    ft_check("date_part", "float64", ARGS(SCA(T_STR, "epoch"), ARR(T_DATE, "2024-03-10")), EXPECT("1710028800"));
    ft_check("date_part", "int64", ARGS(SCA(T_STR, "hour"), ARR(T_DATE, "2024-03-10")), EXPECT("0"));
    /* ISO weeks at year boundaries */
    ft_check("week", "int64", ARGS(ARR(T_DATE, "2021-01-01", "2020-12-31", "2024-12-30", "2026-01-01")),
             EXPECT("53", "53", "1", "1"));
    ft_check("isoyear", "int64", ARGS(ARR(T_DATE, "2021-01-01", "2024-12-30")), EXPECT("2020", "2025"));
    /* other units */
    pl_type *Tns = ts_type(PL_UNIT_NS, NULL), *Ts = ts_type(PL_UNIT_S, NULL), *Tms = ts_type(PL_UNIT_MS, NULL);
    ft_check("microsecond", "int64", ARGS(ARR(Tns, "2024-03-10 14:35:27.123456789")), EXPECT("27123456"));
    ft_check("nanosecond", "int64", ARGS(ARR(Tns, "2024-03-10 14:35:27.123456789")), EXPECT("27123456789"));
    ft_check("second", "int64", ARGS(ARR(Ts, "2024-03-10 14:35:27")), EXPECT("27"));
    ft_check("millisecond", "int64", ARGS(ARR(Tms, "1969-12-31 23:59:58.250")), EXPECT("58250"));
    /* time and interval */
    pl_type *Ttime;
    assert_int_equal(pl_type_new_time64(PL_UNIT_US, &Ttime, NULL), PL_OK);
    ft_check("date_part", "int64", ARGS(SCA(T_STR, "hour"), ARR(Ttime, "12:34:56")), EXPECT("12"));
    ft_check("date_part", "float64", ARGS(SCA(T_STR, "epoch"), ARR(T_IV, "0/1/7200000000000")), EXPECT("93600"));
    ft_check("date_part", "int64", ARGS(SCA(T_STR, "month"), ARR(T_IV, "14/0/0")), EXPECT("2"));
    ft_check_error("date_part", ARGS(SCA(T_STR, "foo"), ARR(T, TS)), PL_ERR_SQL, "unknown date part 'foo'");
    ft_check_error("date_part", ARGS(SCA(T_STR, "year"), ARR(Ttime, "12:00:00")), PL_ERR_TYPE, "not supported");
    ft_check_error("year", ARGS(ARR(T_I64, "1")), PL_ERR_TYPE, "no function year(int64)");
    pl_type_release(Ttime);
    pl_type_release(Tns);
    pl_type_release(Ts);
    pl_type_release(Tms);
    pl_type_release(T);
}

static void test_date_trunc(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    const char *parts[] = {"millennium", "century", "decade", "year", "quarter", "month", "week",
                           "day", "hour", "minute", "second", "millisecond", "microsecond",
                           "isoyear", "dow"};
    const char *want[] = {"2000-01-01 00:00:00", "2000-01-01 00:00:00", "2020-01-01 00:00:00",
                          "2024-01-01 00:00:00", "2024-01-01 00:00:00", "2024-03-01 00:00:00",
                          "2024-03-04 00:00:00", "2024-03-10 00:00:00", "2024-03-10 14:00:00",
                          "2024-03-10 14:35:00", "2024-03-10 14:35:27", "2024-03-10 14:35:27.123",
                          "2024-03-10 14:35:27.123456", "2024-01-01 00:00:00", "2024-03-10 00:00:00"};
    for (size_t i = 0; i < PL_ARRAY_LEN(parts); i++)
        ft_check("date_trunc", "timestamp[us]", ARGS(SCA(T_STR, parts[i]), ARR(T, TS, NULL)), 2,
                 (const char *const[]){want[i], NULL});
    ft_check("date_trunc", "timestamp[us]", ARGS(SCA(T_STR, "minute"), ARR(T, "1969-12-31 23:59:30.5", "1900-01-01 00:00:59")),
             EXPECT("1969-12-31 23:59:00", "1900-01-01 00:00:00"));
    ft_check("date_trunc", "timestamp[us]", ARGS(SCA(T_STR, "month"), ARR(T_DATE, "2024-03-10")), EXPECT("2024-03-01 00:00:00"));
    ft_check("date_trunc", "timestamp[us]", ARGS(SCA(T_STR, "hour"), ARR(T_DATE, "2024-03-10")), EXPECT("2024-03-10 00:00:00"));
    pl_type *Tns = ts_type(PL_UNIT_NS, NULL);
    ft_check("date_trunc", "timestamp[ns]", ARGS(SCA(T_STR, "second"), ARR(Tns, "2024-03-10 14:35:27.999999999")),
             EXPECT("2024-03-10 14:35:27"));
    ft_check_error("date_trunc", ARGS(SCA(T_STR, "fortnight"), ARR(T, TS)), PL_ERR_SQL, "unknown date part 'fortnight'");
    pl_type_release(Tns);
    pl_type_release(T);
}

static void test_time_bucket(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    const char *widths[] = {"0/0/60000000000", "0/0/900000000000", "0/7/0", "0/3/0", "1/0/0", "3/0/0", "12/0/0", "7/0/0"};
    const char *want[] = {"2024-03-10 14:35:00", "2024-03-10 14:30:00", "2024-03-04 00:00:00",
                          "2024-03-09 00:00:00", "2024-03-01 00:00:00", "2024-01-01 00:00:00",
                          "2024-01-01 00:00:00", "2023-12-01 00:00:00"};
    for (size_t i = 0; i < PL_ARRAY_LEN(widths); i++)
        ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, widths[i]), ARR(T, TS, NULL)), 2,
                 (const char *const[]){want[i], NULL});
    ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, "0/0/60000000000"), ARR(T, "1969-12-31 23:59:30.5")),
             EXPECT("1969-12-31 23:59:00"));
    ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, "7/0/0"), ARR(T, "1969-12-31 23:59:30.5")),
             EXPECT("1969-09-01 00:00:00"));
    ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, "0/0/3600000000000"), ARR(T, TS), SCA(T, "2024-01-01 00:30:00")),
             EXPECT("2024-03-10 14:30:00"));
    ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, "0/0/3600000000000"), ARR(T, TS), SCA(T_IV, "0/0/900000000000")),
             EXPECT("2024-03-10 14:15:00"));
    ft_check("time_bucket", "date32", ARGS(SCA(T_IV, "0/1/0"), ARR(T_DATE, "2024-03-10")), EXPECT("2024-03-10"));
    ft_check("time_bucket", "date32", ARGS(SCA(T_IV, "0/7/0"), ARR(T_DATE, "2024-03-10")), EXPECT("2024-03-04"));
    ft_check("time_bucket", "date32", ARGS(SCA(T_IV, "1/0/0"), ARR(T_DATE, "2024-03-10")), EXPECT("2024-03-01"));
    /* odd widths take the reciprocal path: compare with a plain model */
    ft_check("time_bucket", "timestamp[us]", ARGS(SCA(T_IV, "0/0/7000000000"), ARR(T, "2024-03-10 14:35:27.5", "1960-01-01 00:00:03")),
             EXPECT("2024-03-10 14:35:27", "1959-12-31 23:59:57"));
    ft_check_error("time_bucket", ARGS(SCA(T_IV, "1/1/0"), ARR(T, TS)), PL_ERR_UNSUPPORTED,
                   "month intervals cannot have day or time component");
    ft_check_error("time_bucket", ARGS(SCA(T_IV, "0/0/0"), ARR(T, TS)), PL_ERR_INVALID_ARG, "period must be greater than 0");
    ft_check_error("time_bucket", ARGS(SCA(T_IV, "0/0/-60000000000"), ARR(T, TS)), PL_ERR_INVALID_ARG, "period must be greater than 0");
    pl_type_release(T);
}

/* time_bucket and date_trunc on a large column with random widths against an exact model. */
static void test_bucket_model(void **state) {
    (void)state;
    int64_t n = 70001;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    pl_builder *b;
    assert_int_equal(pl_builder_new(T, n, &b, NULL), PL_OK);
    uint64_t rng = 12345;
    for (int64_t i = 0; i < n; i++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t v = (int64_t)(rng >> 2) % (INT64_C(4000000000) * 1000000) - INT64_C(1000000000) * 1000000;
        if (i % 11 == 5) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_i64(b, v, NULL), PL_OK);
    }
    pl_array *full, *sl;
    assert_int_equal(pl_builder_finish(b, &full, NULL), PL_OK);
    pl_builder_free(b);
    assert_int_equal(pl_array_slice(full, 1, n - 1, &sl, NULL), PL_OK);
    const int64_t widths[] = {60000000, 1000000, 300000000, 900000000, 3600000000, 86400000000,
                              7000000, 12345, 999, 1, 604800000000};
    const int64_t origin = INT64_C(946857600000000); /* 2000-01-03 */
    for (size_t w = 0; w < PL_ARRAY_LEN(widths); w++) {
        char ivs[64];
        snprintf(ivs, sizeof ivs, "0/0/%lld", (long long)widths[w] * 1000);
        pl_datum args[2] = {SCA(T_IV, ivs), {.array = sl}};
        pl_datum out;
        pl_error err;
        assert_int_equal(ft_run("time_bucket", 2, args, n - 1, &out, NULL, &err), PL_OK);
        const int64_t *in = pl_array_values_ptr(sl), *o = pl_array_values_ptr(out.array);
        for (int64_t i = 0; i < n - 1; i++) {
            assert_int_equal(pl_array_is_valid(out.array, i), pl_array_is_valid(sl, i));
            if (!pl_array_is_valid(sl, i)) continue;
            int64_t d = in[i] - origin, r = d % widths[w];
            if (r < 0) r += widths[w];
            if (o[i] != in[i] - r) fail_msg("width %lld row %lld: %lld vs %lld", (long long)widths[w], (long long)i, (long long)o[i], (long long)(in[i] - r));
        }
        ft_datum_reset(&out);
        ft_datum_reset(&args[0]);
    }
    /* date_trunc('month') against the civil model */
    pl_datum args[2] = {SCA(T_STR, "month"), {.array = sl}};
    pl_datum out;
    pl_error err;
    assert_int_equal(ft_run("date_trunc", 2, args, n - 1, &out, NULL, &err), PL_OK);
    const int64_t *in = pl_array_values_ptr(sl), *o = pl_array_values_ptr(out.array);
    for (int64_t i = 0; i < n - 1; i++) {
        if (!pl_array_is_valid(sl, i)) continue;
        int64_t days = pl_fn_floordiv(in[i], PL_US_PER_DAY), y;
        int32_t m, d;
        pl_text_civil_from_days(days, &y, &m, &d);
        assert_int_equal(o[i], pl_text_days_from_civil(y, m, 1) * PL_US_PER_DAY);
    }
    ft_datum_reset(&out);
    ft_datum_reset(&args[0]);
    pl_array_release(sl);
    pl_array_release(full);
    pl_type_release(T);
}

static void test_date_diff(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "day"), ARR(T, "2024-03-05 23:00:00"), ARR(T, "2024-03-06 01:00:00")), EXPECT("1"));
    ft_check("datediff", "int64", ARGS(SCA(T_STR, "month"), ARR(T_DATE, "2024-01-31", NULL), ARR(T_DATE, "2024-02-01", "2024-01-01")), EXPECT("1", NULL));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "year"), ARR(T_DATE, "2024-12-31"), ARR(T_DATE, "2025-01-01")), EXPECT("1"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "week"), ARR(T_DATE, "2024-03-04", "2024-03-04", "2024-03-10"), ARR(T_DATE, "2024-03-10", "2024-03-11", "2024-03-04")),
             EXPECT("0", "1", "0"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "hour"), ARR(T, "2024-03-05 23:59:00"), ARR(T, "2024-03-06 00:01:00")), EXPECT("1"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "quarter"), ARR(T_DATE, "2024-03-31"), ARR(T_DATE, "2024-04-01")), EXPECT("1"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "minute"), ARR(T, "2024-03-06 00:01:00"), ARR(T, "2024-03-05 23:59:30")), EXPECT("-2"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "second"), ARR(T, "2024-03-06 00:00:00.9"), ARR(T, "2024-03-06 00:00:01.1")), EXPECT("1"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "millisecond"), ARR(T, "2024-03-06 00:00:00.9"), ARR(T, "2024-03-06 00:00:01.1")), EXPECT("200"));
    ft_check("date_diff", "int64", ARGS(SCA(T_STR, "decade"), ARR(T_DATE, "2019-03-10"), ARR(T_DATE, "2020-03-04")), EXPECT("1"));
    pl_type_release(T);
}

static void test_strftime_strptime(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    const char *ts = "2024-03-05 04:05:06.123456";
    ft_check("strftime", "utf8", ARGS(ARR(T, ts, NULL), SCA(T_STR, "%a %A %b %B %d %-d %f %g %n %H %-H %I %-I %j %-j %m %-m %M %-M %p %S %-S")),
             EXPECT("Tue Tuesday Mar March 05 5 123456 123 123456000 04 4 04 4 065 65 03 3 05 5 AM 06 6", NULL));
    ft_check("strftime", "utf8", ARGS(ARR(T, ts), SCA(T_STR, "%U %W %w %y %-y %Y %z %Z %x %X %%")),
             EXPECT("09 10 2 24 24 2024 +00  2024-03-05 04:05:06 %"));
    ft_check("strftime", "utf8", ARGS(ARR(T, ts), SCA(T_STR, "%G|%V|%u|%c|%h|%T")),
             EXPECT("2024|10|2|2024-03-05 04:05:06|Mar|04:05:06"));
    ft_check("strftime", "utf8", ARGS(ARR(T, "2024-01-01 14:00:00", "2021-01-01 00:00:00"), SCA(T_STR, "%U %W %V %G %j %p %I")),
             EXPECT("00 01 01 2024 001 PM 02", "00 00 53 2020 001 AM 12"));
    ft_check("strftime", "utf8", ARGS(ARR(T_DATE, "2024-03-05"), SCA(T_STR, "%Y/%m/%d %H")), EXPECT("2024/03/05 00"));
    ft_check_error("strftime", ARGS(ARR(T, ts), SCA(T_STR, "%Q")), PL_ERR_INVALID_ARG, "unrecognized format %Q");
    ft_check("strptime", "timestamp[us]",
             ARGS(ARR(T_STR, "2024-03-05 04:05:06", " 2024-3-5 4:05:06", NULL), SCA(T_STR, "%Y-%m-%d %H:%M:%S")),
             EXPECT("2024-03-05 04:05:06", "2024-03-05 04:05:06", NULL));
    ft_check("strptime", "timestamp[us]", ARGS(ARR(T_STR, "05/03/24 4pm"), SCA(T_STR, "%d/%m/%y %I%p")), EXPECT("2024-03-05 16:00:00"));
    ft_check("strptime", "timestamp[us]", ARGS(ARR(T_STR, "2024-03-05 04:05:06.123"), SCA(T_STR, "%Y-%m-%d %H:%M:%S.%g")),
             EXPECT("2024-03-05 04:05:06.123"));
    ft_check("strptime", "timestamp[us]", ARGS(ARR(T_STR, "2024-03-05 04:05:06.123456"), SCA(T_STR, "%Y-%m-%d %H:%M:%S.%f")),
             EXPECT("2024-03-05 04:05:06.123456"));
    ft_check("strptime", "timestamp[us, UTC]", ARGS(ARR(T_STR, "2024-03-05 04:05:06+02:00"), SCA(T_STR, "%Y-%m-%d %H:%M:%S%z")),
             EXPECT("2024-03-05 02:05:06"));
    ft_check("strptime", "timestamp[us]", ARGS(ARR(T_STR, "Mar 5 2024", "march 05 2024"), SCA(T_STR, "%b %d %Y")),
             EXPECT("2024-03-05 00:00:00", "2024-03-05 00:00:00"));
    ft_check("strptime", "timestamp[us]", ARGS(ARR(T_STR, "Tuesday March 05 2024"), SCA(T_STR, "%A %B %d %Y")), EXPECT("2024-03-05 00:00:00"));
    ft_check("try_strptime", "timestamp[us]", ARGS(ARR(T_STR, "2024-13-05", "2024-01-05"), SCA(T_STR, "%Y-%m-%d")), EXPECT(NULL, "2024-01-05 00:00:00"));
    ft_check_error("strptime", ARGS(ARR(T_STR, "2024-13-05"), SCA(T_STR, "%Y-%m-%d")), PL_ERR_INVALID_ARG,
                   "could not parse string \"2024-13-05\" according to format specifier \"%Y-%m-%d\" at row 0: month out of range");
    ft_check_error("strptime", ARGS(ARR(T_STR, "2024-03-05x"), SCA(T_STR, "%Y-%m-%d")), PL_ERR_INVALID_ARG, "trailing characters");
    ft_check_error("strptime", ARGS(ARR(T_STR, "2024-02-30"), SCA(T_STR, "%Y-%m-%d")), PL_ERR_INVALID_ARG, "date out of range");
    pl_type_release(T);
}

static void test_make_epoch_now(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    ft_check("make_date", "date32", ARGS(ARR(T_I64, "2024", NULL), SCA(T_I64, "2"), SCA(T_I64, "29")), EXPECT("2024-02-29", NULL));
    ft_check("make_timestamp", "timestamp[us]", ARGS(SCA(T_I64, "2024"), SCA(T_I64, "2"), ARR(T_I64, "29"), SCA(T_I64, "10"), SCA(T_I64, "5"), SCA(T_F64, "6.5")),
             EXPECT("2024-02-29 10:05:06.5"));
    ft_check("make_timestamp", "timestamp[us]", ARGS(ARR(T_I64, "1710000000000000")), EXPECT("2024-03-09 16:00:00"));
    ft_check("make_time", "time64[us]", ARGS(ARR(T_I64, "1"), SCA(T_I64, "2"), SCA(T_F64, "3.5")), EXPECT("01:02:03.5"));
    ft_check_error("make_date", ARGS(ARR(T_I64, "2023"), SCA(T_I64, "2"), SCA(T_I64, "29")), PL_ERR_INVALID_ARG, "date out of range: 2023-2-29");
    ft_check("epoch_ms", "timestamp[us]", ARGS(ARR(T_I64, "1710000000123")), EXPECT("2024-03-09 16:00:00.123"));
    ft_check("epoch_ms", "int64", ARGS(ARR(T, "2024-03-05 04:05:06.123456")), EXPECT("1709611506123"));
    ft_check("epoch", "float64", ARGS(ARR(T, "2024-03-05 04:05:06.5")), EXPECT("1709611506.5"));
    ft_check("epoch_us", "int64", ARGS(ARR(T, "2024-03-05 04:05:06.123456")), EXPECT("1709611506123456"));
    ft_check("epoch_ns", "int64", ARGS(ARR(T, "2024-03-05 04:05:06.123456")), EXPECT("1709611506123456000"));
    ft_check("to_timestamp", "timestamp[us, UTC]", ARGS(ARR(T_F64, "1710000000.5")), EXPECT("2024-03-09 16:00:00.5"));
    ft_check("dayname", "utf8", ARGS(ARR(T, "2024-03-10 12:00:00", NULL)), EXPECT("Sunday", NULL));
    ft_check("monthname", "utf8", ARGS(ARR(T_DATE, "2024-03-10")), EXPECT("March"));
    ft_check("last_day", "date32", ARGS(ARR(T_DATE, "2024-02-10", NULL)), EXPECT("2024-02-29", NULL));
    ft_check("last_day", "date32", ARGS(ARR(T, "2023-02-10 12:00:00")), EXPECT("2023-02-28"));
    ft_check("date_add", "timestamp[us]", ARGS(ARR(T_DATE, "2024-01-31"), SCA(T_IV, "1/0/0")), EXPECT("2024-02-29 00:00:00"));
    ft_check("date_add", "timestamp[us]", ARGS(ARR(T, "2024-01-31 10:00:00"), SCA(T_IV, "0/1/0")), EXPECT("2024-02-01 10:00:00"));
    ft_check("date_add", "date32", ARGS(ARR(T_DATE, "2024-01-31"), SCA(T_I32, "3")), EXPECT("2024-02-03"));
    pl_datum out;
    pl_error err;
    char t[64];
    assert_int_equal(ft_run("now", 0, NULL, 5, &out, t, &err), PL_OK);
    assert_string_equal(t, "timestamp[us, UTC]");
    assert_true(out.is_scalar);
    assert_int_equal(out.scalar.v.i, INT64_C(1718000000123456));
    ft_datum_reset(&out);
    assert_int_equal(ft_run("current_date", 0, NULL, 5, &out, t, &err), PL_OK);
    assert_int_equal(out.scalar.v.i, 19884); /* 2024-06-10 */
    ft_datum_reset(&out);
    assert_true(ft_find("current_timestamp")->flags & PL_FN_VOLATILE);
    pl_type_release(T);
}

static void check_interval(const char *text, const char *render) {
    pl_interval iv;
    pl_error err;
    pl_error_init(&err);
    if (pl_interval_parse(text, &iv, &err)) fail_msg("\"%s\": %s", text, err.msg);
    char buf[128];
    pl_text_format_interval(iv.months, iv.days, iv.ns, buf);
    if (strcmp(buf, render)) fail_msg("\"%s\" renders \"%s\", expected \"%s\"", text, buf, render);
}

static void test_intervals(void **state) {
    (void)state;
    check_interval("1 day 2 hours 3 minutes 4 seconds", "1 day 02:03:04");
    check_interval("3 months", "3 months");
    check_interval("1 minute", "00:01:00");
    check_interval("14 months 3 days", "1 year 2 months 3 days");
    check_interval("-1 day", "-1 day");
    check_interval("-1 hour", "-01:00:00");
    check_interval("1 day -1 hour", "1 day -01:00:00");
    check_interval("0 seconds", "00:00:00");
    check_interval("1.5 seconds", "00:00:01.5");
    check_interval("0.000001 seconds", "00:00:00.000001");
    check_interval("1.5 hours", "01:30:00");
    check_interval("1.5 days", "1 day 12:00:00");
    check_interval("1.5 months", "1 month 15 days");
    check_interval("1.5 years", "1 year 6 months");
    check_interval("2 weeks", "14 days");
    check_interval("01:00:00", "01:00:00");
    check_interval("1 day 02:03:04", "1 day 02:03:04");
    check_interval("-01:30", "-01:30:00");
    check_interval("1 year ago", "-1 year");
    check_interval("100 hours", "100:00:00");
    check_interval("1 decade", "10 years");
    check_interval("1 quarter", "3 months");
    check_interval("1 h 30 m", "01:30:00");
    check_interval("1:2:3", "01:02:03");
    check_interval("2 years 3 mons", "2 years 3 months");
    check_interval("1 month -3 days", "1 month -3 days");
    check_interval("  5 MINUTES ", "00:05:00");
    pl_interval iv;
    pl_error err;
    assert_int_equal(pl_interval_parse("5 fortnights", &iv, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "unknown unit \"fortnights\""));
    assert_int_equal(pl_interval_parse("", &iv, &err), PL_ERR_TYPE);
    assert_int_equal(pl_interval_parse("abc", &iv, &err), PL_ERR_TYPE);
    assert_int_equal(pl_interval_parse("99999999999 years", &iv, &err), PL_ERR_TYPE);
    /* an interval array renders through the text writers */
    pl_datum d = ARR(T_IV, "0/1/7384000000000", NULL, "-14/0/0");
    pl_strbuf sb = {0};
    assert_int_equal(pl_text_format_value(d.array, 0, PL_TEXT_PLAIN, &sb, NULL), PL_OK);
    assert_string_equal(sb.data, "1 day 02:03:04");
    sb.len = 0;
    assert_int_equal(pl_text_format_value(d.array, 1, PL_TEXT_JSON, &sb, NULL), PL_OK);
    assert_string_equal(sb.data, "null");
    sb.len = 0;
    assert_int_equal(pl_text_format_value(d.array, 2, PL_TEXT_JSON, &sb, NULL), PL_OK);
    assert_string_equal(sb.data, "\"-1 year -2 months\"");
    pl_strbuf_reset(&sb);
    ft_datum_reset(&d);
}

/* Arithmetic through pl_temporal_add_bind / pl_temporal_sub_bind. */
static void arith_check(bool sub, pl_datum a, pl_datum b, const char *type, const char *want) {
    pl_datum args[2] = {a, b};
    ft_call c;
    memset(&c, 0, sizeof c);
    pl_error err;
    pl_error_init(&err);
    c.call.kind = PL_BEXPR_CALL;
    c.call.args = c.argv;
    c.call.sql_pos = -1;
    for (int i = 0; i < 2; i++) {
        c.nodes[i].kind = args[i].is_scalar ? PL_BEXPR_LIT : PL_BEXPR_COL;
        c.nodes[i].type = args[i].is_scalar ? args[i].scalar.type : args[i].array->type;
        if (args[i].is_scalar) c.nodes[i].lit = args[i].scalar;
        c.argv[i] = &c.nodes[i];
    }
    c.call.n_args = 2;
    c.call.type = NULL;
    pl_kernel_fn fn;
    pl_status st = sub ? pl_temporal_sub_bind(&c.call, &fn, &err) : pl_temporal_add_bind(&c.call, &fn, &err);
    if (st) fail_msg("bind: %s", err.msg);
    char tn[64];
    pl_type_to_string(c.call.type, tn, sizeof tn);
    if (strcmp(tn, type)) fail_msg("type %s, expected %s", tn, type);
    int64_t n = args[0].is_scalar ? (args[1].is_scalar ? 1 : args[1].array->length) : args[0].array->length;
    pl_datum out = {0};
    pl_eval_ctx ec = {0};
    st = fn(&ec, &c.call, args, n, &out, &err);
    if (st) fail_msg("exec: %s", err.msg);
    char buf[128];
    ft_render(&out, 0, buf, sizeof buf);
    if (strcmp(buf, want)) fail_msg("got \"%s\", expected \"%s\"", buf, want);
    ft_datum_reset(&out);
    ft_unbind(&c);
    ft_datum_reset(&args[0]);
    ft_datum_reset(&args[1]);
}

static void test_arithmetic(void **state) {
    (void)state;
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    pl_type *Ttime;
    assert_int_equal(pl_type_new_time64(PL_UNIT_US, &Ttime, NULL), PL_OK);
    arith_check(true, ARR(T, "2024-03-10 10:00:00"), ARR(T, "2024-03-08 08:30:01.5"), "interval", "0/2/5398500000000");
    arith_check(true, ARR(T, "2024-03-08 00:00:00"), SCA(T, "2024-03-10 10:00:00"), "interval", "0/-2/-36000000000000");
    arith_check(true, ARR(T_DATE, "2024-03-10"), ARR(T_DATE, "2024-01-01"), "int64", "69");
    arith_check(false, ARR(T_DATE, "2024-03-10"), SCA(T_IV, "1/0/0"), "timestamp[us]", "2024-04-10 00:00:00");
    arith_check(false, ARR(T_DATE, "2024-01-31"), SCA(T_IV, "1/0/0"), "timestamp[us]", "2024-02-29 00:00:00");
    arith_check(false, SCA(T_IV, "1/1/3600000000000"), ARR(T, "2024-01-31 10:00:00"), "timestamp[us]", "2024-03-01 11:00:00");
    arith_check(false, ARR(T_DATE, "2024-03-10"), SCA(T_I32, "5"), "date32", "2024-03-15");
    arith_check(true, ARR(T_DATE, "2024-03-10"), SCA(T_I32, "10"), "date32", "2024-02-29");
    arith_check(false, ARR(Ttime, "23:00:00"), SCA(T_IV, "0/0/7200000000000"), "time64[us]", "01:00:00");
    arith_check(false, ARR(T_IV, "0/0/3600000000000"), SCA(T_IV, "0/1/0"), "interval", "0/1/3600000000000");
    arith_check(true, ARR(T_IV, "0/2/0"), SCA(T_IV, "1/0/0"), "interval", "-1/2/0");
    arith_check(true, ARR(T, "2024-03-10 10:00:00"), SCA(T_IV, "0/0/60000000000"), "timestamp[us]", "2024-03-10 09:59:00");
    arith_check(true, ARR(T, "2024-03-31 10:00:00"), SCA(T_IV, "1/0/0"), "timestamp[us]", "2024-02-29 10:00:00");
    pl_type_release(Ttime);
    pl_type_release(T);
}

static void test_time_zones(void **state) {
    (void)state;
    pl_type *NY = ts_type(PL_UNIT_US, "America/New_York");
    pl_type *T = ts_type(PL_UNIT_US, NULL);
    /* local parts and truncation around the 2024-03-10 DST start */
    ft_check("hour", "int64", ARGS(ARR(NY, "2024-03-10 12:35:00+00", "2024-03-10 06:59:59+00", "2024-03-10 07:00:00+00", "2024-11-03 05:30:00+00", "2024-11-03 06:30:00+00")),
             EXPECT("8", "1", "3", "1", "1"));
    ft_check("date_part", "int64", ARGS(SCA(T_STR, "timezone"), ARR(NY, "2024-03-10 12:35:00+00", "2024-01-10 12:35:00+00")), EXPECT("-14400", "-18000"));
    ft_check("date_trunc", "timestamp[us, America/New_York]", ARGS(SCA(T_STR, "day"), ARR(NY, "2024-03-10 12:35:00+00")), EXPECT("2024-03-10 05:00:00"));
    ft_check("date_trunc", "timestamp[us, America/New_York]", ARGS(SCA(T_STR, "hour"), ARR(NY, "2024-11-03 05:30:00+00", "2024-11-03 06:30:00+00")),
             EXPECT("2024-11-03 06:00:00", "2024-11-03 06:00:00"));
    ft_check("strftime", "utf8", ARGS(ARR(NY, "2024-03-10 12:35:00+00"), SCA(T_STR, "%Y-%m-%d %H:%M:%S %z %Z")),
             EXPECT("2024-03-10 08:35:00 -04 America/New_York"));
    /* after the last transition in the file: the POSIX rule */
    ft_check("hour", "int64", ARGS(ARR(NY, "2050-03-13 06:59:59+00", "2050-03-13 07:00:00+00")), EXPECT("1", "3"));
    ft_check("date_trunc", "timestamp[us, America/New_York]", ARGS(SCA(T_STR, "month"), ARR(NY, "2050-03-13 07:00:00+00")), EXPECT("2050-03-01 05:00:00"));
    pl_type *BER = ts_type(PL_UNIT_US, "Europe/Berlin"), *SYD = ts_type(PL_UNIT_US, "Australia/Sydney"),
            *KOL = ts_type(PL_UNIT_US, "Asia/Kolkata"), *FIX = ts_type(PL_UNIT_US, "+05:30");
    ft_check("hour", "int64", ARGS(ARR(BER, "2030-07-01 12:00:00+00", "2030-01-01 12:00:00+00")), EXPECT("14", "13"));
    ft_check("date_trunc", "timestamp[us, Europe/Berlin]", ARGS(SCA(T_STR, "day"), ARR(BER, "2030-07-01 12:00:00+00", "2030-01-01 12:00:00+00")),
             EXPECT("2030-06-30 22:00:00", "2029-12-31 23:00:00"));
    ft_check("hour", "int64", ARGS(ARR(SYD, "2024-01-15 00:00:00+00", "2024-07-15 00:00:00+00", "2040-01-15 00:00:00+00")), EXPECT("11", "10", "11"));
    ft_check("date_trunc", "timestamp[us, Australia/Sydney]", ARGS(SCA(T_STR, "month"), ARR(SYD, "2024-01-15 00:00:00+00", "2024-07-15 00:00:00+00")),
             EXPECT("2023-12-31 13:00:00", "2024-06-30 14:00:00"));
    ft_check("hour", "int64", ARGS(ARR(KOL, "2024-03-10 12:35:00+00")), EXPECT("18"));
    ft_check("hour", "int64", ARGS(ARR(FIX, "2024-03-10 12:35:00+00")), EXPECT("18"));
    ft_check("date_trunc", "timestamp[us, Asia/Kolkata]", ARGS(SCA(T_STR, "month"), ARR(KOL, "2024-03-10 12:35:00+00")), EXPECT("2024-02-29 18:30:00"));
    /* time_bucket: UTC instants by default, a zone as third argument (DuckDB) */
    ft_check("time_bucket", "timestamp[us, America/New_York]", ARGS(SCA(T_IV, "0/1/0"), ARR(NY, "2024-03-10 12:35:00+00")), EXPECT("2024-03-10 00:00:00"));
    ft_check("time_bucket", "timestamp[us, America/New_York]", ARGS(SCA(T_IV, "0/1/0"), ARR(NY, "2024-03-10 12:35:00+00"), SCA(T_STR, "Asia/Kolkata")),
             EXPECT("2024-03-09 18:30:00"));
    ft_check("time_bucket", "timestamp[us, America/New_York]", ARGS(SCA(T_IV, "0/0/3600000000000"), ARR(NY, "2024-03-10 12:35:00+00"), SCA(T_STR, "Asia/Kolkata")),
             EXPECT("2024-03-10 12:30:00"));
    /* AT TIME ZONE: naive -> zoned (gap: offset before; overlap: the later instant), zoned -> naive */
    ft_check("timezone", "timestamp[us, America/New_York]", ARGS(SCA(T_STR, "America/New_York"), ARR(T, "2024-03-10 02:30:00", "2024-11-03 01:30:00", "2024-07-01 12:00:00")),
             EXPECT("2024-03-10 07:30:00", "2024-11-03 06:30:00", "2024-07-01 16:00:00"));
    ft_check("timezone", "timestamp[us]", ARGS(SCA(T_STR, "America/New_York"), ARR(NY, "2024-03-10 12:35:00+00")), EXPECT("2024-03-10 08:35:00"));
    ft_check("timezone", "timestamp[us, +05:30]", ARGS(SCA(T_STR, "+05:30"), ARR(T, "2024-03-10 12:00:00")), EXPECT("2024-03-10 06:30:00"));
    ft_check_error("timezone", ARGS(SCA(T_STR, "Mars/Olympus"), ARR(T, "2024-03-10 12:00:00")), PL_ERR_NOT_FOUND, "unknown time zone \"Mars/Olympus\"");
    ft_check_error("timezone", ARGS(SCA(T_STR, "../../etc/passwd"), ARR(T, "2024-03-10 12:00:00")), PL_ERR_NOT_FOUND, "unknown time zone");
    /* month arithmetic in local time across DST */
    arith_check(false, ARR(NY, "2024-03-09 12:00:00+00"), SCA(T_IV, "0/1/0"), "timestamp[us, America/New_York]", "2024-03-10 11:00:00");
    arith_check(false, ARR(NY, "2024-03-09 12:00:00+00"), SCA(T_IV, "0/0/86400000000000"), "timestamp[us, America/New_York]", "2024-03-10 12:00:00");
    arith_check(false, ARR(NY, "2024-01-31 12:00:00+00"), SCA(T_IV, "1/0/0"), "timestamp[us, America/New_York]", "2024-02-29 12:00:00");
    pl_type_release(NY);
    pl_type_release(BER);
    pl_type_release(SYD);
    pl_type_release(KOL);
    pl_type_release(FIX);
    pl_type_release(T);
}

/* A corrupt or truncated TZif file is an error, never a crash. */
static void test_tzif_corrupt(void **state) {
    (void)state;
    char dir[] = "/tmp/pl_tzdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    FILE *src = fopen("/usr/share/zoneinfo/America/New_York", "rb");
    assert_non_null(src);
    unsigned char data[8192];
    size_t n = fread(data, 1, sizeof data, src);
    fclose(src);
    setenv("TZDIR", dir, 1);
    pl_tz_cache_reset();
    for (size_t cut = 0; cut < n; cut += (cut < 100 ? 1 : 97)) {
        snprintf(path, sizeof path, "%s/Cut%zu", dir, cut);
        FILE *f = fopen(path, "wb");
        fwrite(data, 1, cut, f);
        fclose(f);
        const pl_tz *tz;
        pl_error err;
        char name[32];
        snprintf(name, sizeof name, "Cut%zu", cut);
        pl_status st = pl_tz_lookup(name, &tz, &err);
        if (!st) (void)pl_tz_offset_at_utc(tz, 1700000000);
        unlink(path);
    }
    /* flipped bytes */
    uint64_t rng = 7;
    for (int k = 0; k < 300; k++) {
        unsigned char copy[8192];
        memcpy(copy, data, n);
        for (int f2 = 0; f2 < 4; f2++) {
            rng = rng * 6364136223846793005ULL + 1;
            copy[(rng >> 33) % n] ^= (unsigned char)(rng >> 20);
        }
        snprintf(path, sizeof path, "%s/Flip%d", dir, k);
        FILE *f = fopen(path, "wb");
        fwrite(copy, 1, n, f);
        fclose(f);
        const pl_tz *tz;
        pl_error err;
        char name[32];
        snprintf(name, sizeof name, "Flip%d", k);
        if (!pl_tz_lookup(name, &tz, &err)) {
            (void)pl_tz_offset_at_utc(tz, 1700000000);
            (void)pl_tz_offset_for_local(tz, 2500000000);
            (void)pl_tz_abbrev_at_utc(tz, 0);
        }
        unlink(path);
    }
    rmdir(dir);
    unsetenv("TZDIR");
    pl_tz_cache_reset();
}

/* Random text through the interval parser and strptime: a value or a clean error. */
static void test_random_text(void **state) {
    (void)state;
    const char alpha[] = "0123456789:-+. .dayshourminutesecyrmonagoxZ";
    uint64_t rng = 4242;
    pl_builder *b;
    assert_int_equal(pl_builder_new(T_STR, 4000, &b, NULL), PL_OK);
    for (int i = 0; i < 4000; i++) {
        char buf[32];
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        int len = (int)((rng >> 33) % 24);
        for (int j = 0; j < len; j++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[j] = alpha[(rng >> 35) % (sizeof alpha - 1)];
        }
        buf[len] = 0;
        pl_interval iv;
        pl_error err;
        pl_status st = pl_interval_parse(buf, &iv, &err);
        assert_true(st == PL_OK || st == PL_ERR_TYPE);
        assert_int_equal(pl_builder_append_bytes(b, buf, len, NULL), PL_OK);
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    const char *fmts[] = {"%Y-%m-%d", "%H:%M:%S.%f", "%d %b %Y %I%p", "%j %y %z", "%c", "%Y%m%d%H%M%S"};
    for (size_t f = 0; f < PL_ARRAY_LEN(fmts); f++) {
        pl_datum args[2] = {{.array = a}, SCA(T_STR, fmts[f])};
        pl_datum out;
        pl_error err;
        assert_int_equal(ft_run("try_strptime", 2, args, 4000, &out, NULL, &err), PL_OK);
        ft_datum_reset(&out);
        pl_status st = ft_run("strptime", 2, args, 4000, &out, NULL, &err);
        if (st == PL_OK) ft_datum_reset(&out);
        else assert_int_equal(st, PL_ERR_INVALID_ARG);
        ft_datum_reset(&args[1]);
    }
    pl_array_release(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_date_trunc),
        cmocka_unit_test(test_time_bucket),
        cmocka_unit_test(test_bucket_model),
        cmocka_unit_test(test_date_diff),
        cmocka_unit_test(test_strftime_strptime),
        cmocka_unit_test(test_make_epoch_now),
        cmocka_unit_test(test_intervals),
        cmocka_unit_test(test_arithmetic),
        cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_tzif_corrupt),
        cmocka_unit_test(test_random_text),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pl_tz_cache_reset();
    return rc;
}
