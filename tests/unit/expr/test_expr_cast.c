/* test_expr_cast.c - casts (src/expr/cast.c): numeric range checks and rounding, strings to
 * every type (trimming, hex, separators, failures naming value and row, TRY_CAST), anything
 * to utf8 as DuckDB renders it, temporal conversions with DuckDB's rounding, and SQL type
 * names. Expected values were checked with DuckDB 2.0. */
#include "expr_test_util.h"

static const char *cast_text(pl_type *from, const char *spec, const char *to_name, bool try_cast) {
    pl_array *a = col(from, spec);
    pl_type *to;
    assert_int_equal(pl_type_from_sql_name(to_name, &to, NULL), PL_OK);
    pl_array *r = NULL;
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_cast_array(a, to, try_cast, &r, &err);
    if (st) fail_msg("cast to %s: %s", to_name, err.msg);
    assert_true(pl_type_equals(r->type, to));
    assert_int_equal(pl_array_validate(r, true, NULL), PL_OK);
    const char *s = render(r);
    pl_array_release(r);
    pl_array_release(a);
    pl_type_release(to);
    return s;
}

static pl_status cast_fail(pl_type *from, const char *spec, const char *to_name, pl_error *err) {
    pl_array *a = col(from, spec);
    pl_type *to;
    assert_int_equal(pl_type_from_sql_name(to_name, &to, NULL), PL_OK);
    pl_array *r = NULL;
    pl_error_init(err);
    pl_status st = pl_cast_array(a, to, false, &r, err);
    assert_int_not_equal(st, PL_OK);
    assert_null(r);
    pl_array_release(a);
    pl_type_release(to);
    return st;
}

static void test_numeric_casts(void **state) {
    (void)state;
    pl_error err;
    assert_string_equal(cast_text(T(PL_TYPE_INT64), "1,-5,NULL,127", "tinyint", false), "1,-5,NULL,127");
    /* DuckDB: Type INT32 with value 300 can't be cast ... destination type INT8 */
    assert_int_equal(cast_fail(T(PL_TYPE_INT64), "1,300", "tinyint", &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "value 300"));
    assert_non_null(strstr(err.msg, "INT8"));
    assert_int_equal(err.row, 1);
    assert_string_equal(cast_text(T(PL_TYPE_INT64), "1,300,-1", "tinyint", true), "1,NULL,-1");
    assert_int_equal(cast_fail(T(PL_TYPE_INT32), "-1", "utinyint", &err), PL_ERR_TYPE);
    /* select 3.5::double::int, -3.5::double::int, 2.5::float::int, 1.999::double::bigint: 4,-4,2,2 */
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT64), "3.5,-3.5,2.5,1.999,NULL", "int", false), "4,-4,2,2,NULL");
    assert_int_equal(cast_fail(T(PL_TYPE_FLOAT64), "1e20", "bigint", &err), PL_ERR_TYPE);
    assert_int_equal(cast_fail(T(PL_TYPE_FLOAT64), "nan", "int", &err), PL_ERR_TYPE);
    assert_string_equal(cast_text(T(PL_TYPE_INT32), "1,NULL,-7", "double", false), "1.0,NULL,-7.0");
    assert_string_equal(cast_text(T(PL_TYPE_INT16), "1,NULL,-7", "bigint", false), "1,NULL,-7");
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT32), "1.5,NULL", "double", false), "1.5,NULL");
    /* select true::int, 0::bool, 2::bool, 0.5::double::bool: 1, false, true, true */
    assert_string_equal(cast_text(T(PL_TYPE_BOOL), "true,false,NULL", "int", false), "1,0,NULL");
    assert_string_equal(cast_text(T(PL_TYPE_INT64), "0,2,NULL", "bool", false), "false,true,NULL");
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT64), "0.5,0", "bool", false), "true,false");
    assert_string_equal(cast_text(T(PL_TYPE_UINT64), "18446744073709551615,5", "double", false),
                        "1.8446744073709552e+19,5.0");
    assert_int_equal(cast_fail(T(PL_TYPE_UINT64), "18446744073709551615", "bigint", &err), PL_ERR_TYPE);
}

/* select 1.005::decimal(4,3)::decimal(3,2), 0.125::..., -0.125::... -> 1.01, 0.13, -0.13;
 * 123.45::decimal(5,2)::double = 123.45; 12345::int::decimal(7,2) = 12345.00;
 * 123.456::decimal(6,3)::int = 123, 2.5 -> 3, 3.5 -> 4, -2.5 -> -3; 12345::decimal(4,0) fails */
static void test_decimal_casts(void **state) {
    (void)state;
    pl_error err;
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "1.005,0.125,-0.125,NULL", "decimal(4,3)", false),
                        "1.005,0.125,-0.125,NULL");
    pl_type *d43;
    assert_int_equal(pl_type_new_decimal(4, 3, &d43, NULL), PL_OK);
    assert_string_equal(cast_text(d43, "1.005,0.125,-0.125", "decimal(3,2)", false), "1.01,0.13,-0.13");
    assert_string_equal(cast_text(d43, "1.005,-0.125", "double", false), "1.005,-0.125");
    pl_type *d21;
    assert_int_equal(pl_type_new_decimal(2, 1, &d21, NULL), PL_OK);
    assert_string_equal(cast_text(d21, "2.5,3.5,-2.5,NULL", "int", false), "3,4,-3,NULL");
    assert_string_equal(cast_text(T(PL_TYPE_INT32), "12345,-1", "decimal(7,2)", false), "12345.00,-1.00");
    assert_int_equal(cast_fail(T(PL_TYPE_INT32), "12345", "decimal(4,0)", &err), PL_ERR_TYPE);
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT64), "1.5,1.35", "decimal(5,2)", false), "1.50,1.35");
    /* select '1.25'::decimal(3,1), '1.35'::decimal(3,1), '-1.25'::decimal(3,1) -> 1.3, 1.4, -1.3 */
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "1.25,1.35,-1.25", "decimal(3,1)", false), "1.3,1.4,-1.3");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "123.000", "decimal(10,3)", false), "123.000");
    assert_string_equal(cast_text(d21, "-0.5", "varchar", false), "-0.5");
    pl_type_release(d43);
    pl_type_release(d21);
}

/* select '0x1F'::int, '-12'::tinyint, '1_000_000'::bigint, '2.5'::int, '-2.5'::int, '1e3'::int,
 * ' 7 '::smallint -> 31, -12, 1000000, 3, -3, 1000, 7; 'abc'::int: Could not convert string
 * 'abc' to INT32 */
static void test_string_to_number(void **state) {
    (void)state;
    pl_error err;
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "0x1F,-12,1_000_000,2.5,-2.5,1e3, 7 ,NULL", "int", false),
                        "31,-12,1000000,3,-3,1000,7,NULL");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "1,2,abc", "int", &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string 'abc' to INT32 at row 2");
    assert_int_equal(err.row, 2);
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "128", "tinyint", &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string '128' to INT8 at row 0");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "1,abc,128,NULL", "tinyint", true), "1,NULL,NULL,NULL");
    /* select '1.5'::double, 'inf'::double, '-Infinity'::double, ' 1.5e3 '::double, '.5'::double */
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "1.5,inf,-Infinity, 1.5e3 ,.5,nan", "double", false),
                        "1.5,inf,-inf,1500.0,0.5,nan");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "1.5e", "double", &err), PL_ERR_TYPE);
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "1.2.3", "double", &err), PL_ERR_TYPE);
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "1,", "int", &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string '' to INT32 at row 1");
    /* booleans: 't','yes','1','TRUE','y' true; 'f','FALSE','no','0','n' false; ' true ' and
     * 'on' fail */
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "t,yes,1,TRUE,y,f,FALSE,no,0,n", "bool", false),
                        "true,true,true,true,true,false,false,false,false,false");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), " true ", "bool", &err), PL_ERR_TYPE);
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "on", "bool", &err), PL_ERR_TYPE);
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "9223372036854775807,-9223372036854775808", "bigint", false),
                        "9223372036854775807,-9223372036854775808");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "9223372036854775808", "bigint", &err), PL_ERR_TYPE);
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "18446744073709551615", "ubigint", false),
                        "18446744073709551615");
}

static void test_string_to_temporal(void **state) {
    (void)state;
    pl_error err;
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "2024-01-01, 2024-02-29 ,NULL", "date", false),
                        "2024-01-01,2024-02-29,NULL");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "2023-02-29", "date", &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string '2023-02-29' to DATE at row 0");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "2024-01-01,2024-01-01 10:00,2024-01-01T10:00:00.123456",
                                  "timestamp", false),
                        "2024-01-01 00:00:00,2024-01-01 10:00:00,2024-01-01 10:00:00.123456");
    /* '2024-01-01 10:00:00+02'::timestamp keeps 10:00, ::timestamptz gives 08:00 UTC */
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "2024-01-01 10:00:00+02", "timestamp", false),
                        "2024-01-01 10:00:00");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "2024-01-01 10:00:00+02", "timestamptz", false),
                        "2024-01-01 08:00:00+00");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "2024-01-01T10:00:00.123456789", "timestamp_ns", false),
                        "2024-01-01 10:00:00.123456789");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "10:30,10:30:00.5,NULL", "time", false),
                        "10:30:00,10:30:00.5,NULL");
    assert_int_equal(cast_fail(T(PL_TYPE_UTF8), "25:00:00", "time", &err), PL_ERR_TYPE);
    /* '1 day'::interval, '2 hours 3 minutes', '1 year 2 months', '01:02:03' */
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "1 day,2 hours 3 minutes,1 year 2 months,01:02:03", "interval",
                                  false),
                        "1 day,02:03:00,1 year 2 months,01:02:03");
}

/* select '2024-02-29 13:45:01.123456'::timestamp::date / ::time, '2024-02-29'::date::timestamp,
 * '...123456789'::timestamp_ns::timestamp -> ...123457 (rounded), '1969-12-31 23:59:59.5'
 * ::timestamp::date -> 1969-12-31, '...00.9995'::timestamp::timestamp_ms -> 00:00:01,
 * '1969-12-31 23:59:59.0005' -> 23:59:59 */
static void test_temporal_casts(void **state) {
    (void)state;
    pl_type *ts, *tsn;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &ts, NULL), PL_OK);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_NS, NULL, &tsn, NULL), PL_OK);
    assert_string_equal(cast_text(ts, "2024-02-29 13:45:01.123456,1969-12-31 23:59:59.5,NULL", "date", false),
                        "2024-02-29,1969-12-31,NULL");
    assert_string_equal(cast_text(ts, "2024-02-29 13:45:01.123456", "time", false), "13:45:01.123456");
    assert_string_equal(cast_text(T(PL_TYPE_DATE32), "2024-02-29", "timestamp", false), "2024-02-29 00:00:00");
    assert_string_equal(cast_text(tsn, "2024-02-29 13:45:01.123456789", "timestamp", false),
                        "2024-02-29 13:45:01.123457");
    assert_string_equal(cast_text(ts, "2024-01-01 00:00:00.9995,2024-01-01 00:00:00.9994,1969-12-31 23:59:59.0005",
                                  "timestamp_ms", false),
                        "2024-01-01 00:00:01,2024-01-01 00:00:00.999,1969-12-31 23:59:59");
    /* naive <-> zoned: the same instant, only the type changes */
    assert_string_equal(cast_text(ts, "2024-01-01 10:00:00", "timestamptz", false), "2024-01-01 10:00:00+00");
    pl_type_release(ts);
    pl_type_release(tsn);
}

/* select 1.5::double::varchar, 1::float::varchar, 123::decimal(10,3)::varchar,
 * (-5)::tinyint::varchar, '13:00'::time::varchar, ..., interval '1 day 2 hours'::varchar */
static void test_to_string(void **state) {
    (void)state;
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT64), "1.5,1,1e20,0.1,NULL", "varchar", false),
                        "1.5,1.0,1e+20,0.1,NULL");
    assert_string_equal(cast_text(T(PL_TYPE_FLOAT32), "1", "varchar", false), "1.0");
    assert_string_equal(cast_text(T(PL_TYPE_INT8), "-5", "varchar", false), "-5");
    assert_string_equal(cast_text(T(PL_TYPE_INT64), "-9223372036854775808,0,NULL,9223372036854775807,-10", "varchar", false),
                        "-9223372036854775808,0,NULL,9223372036854775807,-10");
    assert_string_equal(cast_text(T(PL_TYPE_INT16), "-32768,NULL,7", "text", false), "-32768,NULL,7");
    assert_string_equal(cast_text(T(PL_TYPE_UINT32), "4294967295", "varchar", false), "4294967295");
    {
        pl_array *a = col(T(PL_TYPE_INT32), "1,NULL,-3,44,NULL"), *sl, *r;
        assert_int_equal(pl_array_slice(a, 1, 3, &sl, NULL), PL_OK);
        assert_int_equal(pl_cast_array(sl, T(PL_TYPE_UTF8), false, &r, NULL), PL_OK);
        assert_string_equal(render(r), "NULL,-3,44");
        assert_int_equal(pl_array_validate(r, true, NULL), PL_OK);
        pl_array_release(r);
        pl_array_release(sl);
        pl_array_release(a);
    }
    assert_string_equal(cast_text(T(PL_TYPE_BOOL), "true,false", "varchar", false), "true,false");
    assert_string_equal(cast_text(T(PL_TYPE_UTF8), "13:00", "time", false), "13:00:00");
    pl_type *ts;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &ts, NULL), PL_OK);
    assert_string_equal(cast_text(ts, "2024-01-01 01:02:03.5", "varchar", false), "2024-01-01 01:02:03.5");
    pl_type_release(ts);
    pl_batch *b = batch1(col(T(PL_TYPE_INT64), "1"));
    assert_string_equal(run(CAST(pl_expr_lit_interval(0, 1, 7200000000000LL), "varchar", false), b),
                        "1 day 02:00:00");
    /* the expression form: TRY_CAST in a tree */
    assert_string_equal(run(CAST(S("abc"), "int", true), b), "NULL");
    pl_batch_release(b);
}

static void test_cast_expr_errors(void **state) {
    (void)state;
    pl_batch *b = batch1(col(T(PL_TYPE_UTF8), "1,x,3"));
    pl_error err;
    assert_int_equal(run_err(CAST(C("a"), "bigint", false), b, &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string 'x' to INT64 at row 1");
    assert_string_equal(run(CAST(C("a"), "bigint", true), b), "1,NULL,3");
    /* a literal that cannot convert fails at bind time, without a row */
    pl_expr *e = CAST(S("zz"), "date", false);
    e->sql_pos = 9;
    assert_int_equal(run_err(e, b, &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "could not convert string 'zz' to DATE");
    assert_int_equal(err.sql_pos, 9);
    pl_batch *bd = batch1(col(T(PL_TYPE_DATE32), "2024-01-01"));
    assert_int_equal(run_err(CAST(C("a"), "int", false), bd, &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "cannot cast date32 to int32");
    pl_batch_release(b);
    pl_batch_release(bd);
}

static const char *tname(const char *sql) {
    static char out[600];
    pl_type *t;
    pl_error err;
    pl_error_init(&err);
    if (pl_type_from_sql_name(sql, &t, &err)) {
        snprintf(out, sizeof out, "ERR %s", err.msg);
        return out;
    }
    pl_type_to_string(t, out, sizeof out);
    pl_type_release(t);
    return out;
}

static void test_type_names(void **state) {
    (void)state;
    assert_string_equal(tname("boolean"), "bool");
    assert_string_equal(tname("BOOL"), "bool");
    assert_string_equal(tname("tinyint"), "int8");
    assert_string_equal(tname("int2"), "int16");
    assert_string_equal(tname("integer"), "int32");
    assert_string_equal(tname("pg_catalog.int4"), "int32");
    assert_string_equal(tname("pg_catalog.int8"), "int64");
    assert_string_equal(tname("bigint"), "int64");
    assert_string_equal(tname("utinyint"), "uint8");
    assert_string_equal(tname("ubigint"), "uint64");
    assert_string_equal(tname("real"), "float32");
    assert_string_equal(tname("float4"), "float32");
    assert_string_equal(tname("float"), "float32");
    assert_string_equal(tname("double"), "float64");
    assert_string_equal(tname("double precision"), "float64");
    assert_string_equal(tname("pg_catalog.float8"), "float64");
    assert_string_equal(tname("decimal"), "decimal128(18, 3)");
    assert_string_equal(tname("numeric(10,2)"), "decimal128(10, 2)");
    assert_string_equal(tname("pg_catalog.numeric(10, 2)"), "decimal128(10, 2)");
    assert_string_equal(tname("decimal(5)"), "decimal128(5, 0)");
    assert_string_equal(tname("varchar"), "utf8");
    assert_string_equal(tname("pg_catalog.varchar(20)"), "utf8");
    assert_string_equal(tname("text"), "utf8");
    assert_string_equal(tname("char(3)"), "utf8");
    assert_string_equal(tname("blob"), "binary");
    assert_string_equal(tname("bytea"), "binary");
    assert_string_equal(tname("date"), "date32");
    assert_string_equal(tname("time"), "time64[us]");
    assert_string_equal(tname("timestamp"), "timestamp[us]");
    assert_string_equal(tname("timestamptz"), "timestamp[us, UTC]");
    assert_string_equal(tname("pg_catalog.timestamptz"), "timestamp[us, UTC]");
    assert_string_equal(tname("timestamp with time zone"), "timestamp[us, UTC]");
    assert_string_equal(tname("timestamp without time zone"), "timestamp[us]");
    assert_string_equal(tname("timestamp_ns"), "timestamp[ns]");
    assert_string_equal(tname("timestamp_ms"), "timestamp[ms]");
    assert_string_equal(tname("timestamp_s"), "timestamp[s]");
    assert_string_equal(tname("interval"), "interval");
    assert_string_equal(tname("int[]"), "list<int32>");
    assert_string_equal(tname("hugeint"), "decimal128(38, 0)");
    assert_string_equal(tname("decimal(40,2)"),
                        "ERR invalid decimal type \"decimal(40,2)\": precision 1..38, scale 0..precision");
    assert_string_equal(tname("frobnicate"), "ERR unknown type \"frobnicate\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numeric_casts),
        cmocka_unit_test(test_decimal_casts),
        cmocka_unit_test(test_string_to_number),
        cmocka_unit_test(test_string_to_temporal),
        cmocka_unit_test(test_temporal_casts),
        cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_cast_expr_errors),
        cmocka_unit_test(test_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
