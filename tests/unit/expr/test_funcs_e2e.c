/* test_funcs_e2e.c - the math/string/time function sets through the real binder and evaluator
 * (pl_expr_bind, pl_bexpr_eval_array, folding): literal casts feeding literal-only arguments
 * (time_bucket widths, date parts, formats), NULL literals, dictionary columns through the
 * elementwise path, temporal operators through the core "add"/"sub". Values checked with
 * DuckDB 2.0. */
#include "expr_test_util.h"

static pl_array *dict_col(const char *const *vals, int n) {
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, NULL), PL_OK);
    pl_builder *bl;
    assert_int_equal(pl_builder_new(dt, 8, &bl, NULL), PL_OK);
    for (int i = 0; i < n; i++) {
        if (vals[i]) assert_int_equal(pl_builder_append_bytes(bl, vals[i], (int64_t)strlen(vals[i]), NULL), PL_OK);
        else assert_int_equal(pl_builder_append_null(bl, NULL), PL_OK);
    }
    pl_array *d;
    assert_int_equal(pl_builder_finish(bl, &d, NULL), PL_OK);
    pl_builder_free(bl);
    pl_type_release(dt);
    return d;
}

static void test_strings_e2e(void **state) {
    (void)state;
    const char *vals[] = {"AAPL", "msft", NULL, "AAPL", "Goog"};
    pl_batch *b = batch2(dict_col(vals, 5), col(T(PL_TYPE_INT64), "1,2,3,NULL,5"));
    assert_string_equal(run(f1("upper", C("a")), b), "AAPL,MSFT,NULL,AAPL,GOOG");
    assert_string_equal(run(f1("length", C("a")), b), "4,4,NULL,4,4");
    assert_string_equal(run(f3("substr", C("a"), I(2), I(2)), b), "AP,sf,NULL,AP,oo");
    assert_string_equal(run(f3("substring", C("a"), C("b"), I(2)), b), "AA,sf,NULL,NULL,");
    assert_string_equal(run(fn("concat", 3, C("a"), N(), C("b")), b), "AAPL1,msft2,3,AAPL,Goog5");
    assert_string_equal(run(f2("concat_op", C("a"), S("!")), b), "AAPL!,msft!,NULL,AAPL!,Goog!");
    assert_string_equal(run(f2("concat_op", C("a"), N()), b), "NULL,NULL,NULL,NULL,NULL");
    assert_string_equal(run(f2("starts_with", C("a"), S("AA")), b), "true,false,NULL,true,false");
    assert_string_equal(run(f2("regexp_matches", C("a"), S("^[A-Z]+$")), b), "true,false,NULL,true,false");
    assert_string_equal(run(f3("regexp_replace", C("a"), S("[aeiou]"), S("_")), b), "AAPL,msft,NULL,AAPL,G_og");
    assert_string_equal(run(f1("lower", S("ÀB")), b), "àb,àb,àb,àb,àb");
    pl_batch_release(b);
}

static void test_math_e2e(void **state) {
    (void)state;
    pl_batch *b = batch2(col(T(PL_TYPE_FLOAT64), "1.25,-2.5,NULL,3.14159"), col(T(PL_TYPE_INT32), "-3,4,NULL,0"));
    assert_string_equal(run(f2("round", C("a"), I(1)), b), "1.3,-2.5,NULL,3.1");
    assert_string_equal(run(f1("abs", C("b")), b), "3,4,NULL,0");
    assert_string_equal(bound_type(f1("abs", C("b")), b), "int32");
    assert_string_equal(run(f2("pow", C("b"), I(2)), b), "9.0,16.0,NULL,0.0");
    assert_string_equal(run(f1("sqrt", F(16)), b), "4.0,4.0,4.0,4.0");
    assert_string_equal(run(f1("abs", N()), b), "NULL,NULL,NULL,NULL");
    assert_string_equal(run(f1("sign", C("b")), b), "-1,1,NULL,0");
    pl_batch_release(b);
}

static void test_time_e2e(void **state) {
    (void)state;
    pl_batch *b = batch2(col(T(PL_TYPE_UTF8), "2024-03-10 14:35:27.123456,NULL,1969-12-31 23:59:30.5"),
                         col(T(PL_TYPE_UTF8), "2024-03-10,2024-01-01,NULL"));
    pl_expr *ts = CAST(C("a"), "timestamp", false);
    assert_string_equal(run(f2("time_bucket", LIT("interval", "1 minute"), pl_expr_retain(ts)), b),
                        "2024-03-10 14:35:00,NULL,1969-12-31 23:59:00");
    assert_string_equal(run(f2("date_trunc", S("minute"), pl_expr_retain(ts)), b),
                        "2024-03-10 14:35:00,NULL,1969-12-31 23:59:00");
    assert_string_equal(run(f2("date_part", S("hour"), pl_expr_retain(ts)), b), "14,NULL,23");
    assert_string_equal(run(f2("strftime", pl_expr_retain(ts), S("%Y/%m/%d %H:%M")), b),
                        "2024/03/10 14:35,NULL,1969/12/31 23:59");
    assert_string_equal(run(f2("add", pl_expr_retain(ts), LIT("interval", "1 day 2 hours")), b),
                        "2024-03-11 16:35:27.123456,NULL,1970-01-02 01:59:30.5");
    assert_string_equal(run(f2("sub", pl_expr_retain(ts), LIT("timestamp", "2024-03-08 12:00:00")), b),
                        "2 days 02:35:27.123456,NULL,-19790 days -12:00:29.5");
    pl_expr *d = CAST(C("b"), "date", false);
    assert_string_equal(run(f2("sub", pl_expr_retain(d), LIT("date", "2024-01-01")), b), "69,0,NULL");
    assert_string_equal(run(f2("add", pl_expr_retain(d), I(5)), b), "2024-03-15,2024-01-06,NULL");
    assert_string_equal(run(f2("add", pl_expr_retain(d), LIT("interval", "1 month")), b),
                        "2024-04-10 00:00:00,2024-02-01 00:00:00,NULL");
    assert_string_equal(run(f3("date_diff", S("day"), pl_expr_retain(d), pl_expr_retain(ts)), b), "0,NULL,NULL");
    pl_error err;
    assert_int_equal(run_err(f2("date_part", S("foo"), pl_expr_retain(ts)), b, &err), PL_ERR_SQL);
    assert_non_null(strstr(err.msg, "unknown date part 'foo'"));
    pl_expr_release(ts);
    pl_expr_release(d);
    pl_batch_release(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_e2e),
        cmocka_unit_test(test_math_e2e),
        cmocka_unit_test(test_time_e2e),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
