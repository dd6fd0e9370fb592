/* test_funcs_math.c - the math function set (kernels_math.c) against values checked with
 * DuckDB 2.0: result types, integer-preserving abs/round/trunc/sign, half-away-from-zero
 * rounding, NULLs, overflow errors, sliced arrays and the scalar path. */
#include "funcs_test.h"

#include <math.h>

static void test_abs_sign(void **state) {
    (void)state;
    ft_check("abs", "int64", ARGS(ARR(T_I64, "1", "-2", NULL, "0", "-9223372036854775807")),
             EXPECT("1", "2", NULL, "0", "9223372036854775807"));
    ft_check("abs", "int32", ARGS(ARR(T_I32, "-32768", "5")), EXPECT("32768", "5"));
    ft_check("abs", "int8", ARGS(ARR(T_I8, "-127", NULL)), EXPECT("127", NULL));
    ft_check("abs", "float64", ARGS(ARR(T_F64, "-1.5", "2.25")), EXPECT("1.5", "2.25"));
    ft_check("abs", "float32", ARGS(ARR(T_F32, "-1.5")), EXPECT("1.5"));
    ft_check("abs", "uint8", ARGS(ARR(T_U8, "200")), EXPECT("200"));
    ft_check("abs", "int64", ARGS(ARR(T_NA, NULL, NULL)), EXPECT(NULL, NULL));
    ft_check("sign", "int8", ARGS(ARR(T_I64, "-5", "0", "7", NULL)), EXPECT("-1", "0", "1", NULL));
    ft_check("sign", "int8", ARGS(ARR(T_F64, "-3.5", "0", "-0", "0.1")), EXPECT("-1", "0", "0", "1"));
    ft_check_error("abs", ARGS(ARR(T_I64, "1", "-9223372036854775808")), PL_ERR_INVALID_ARG,
                   "overflow on abs(-9223372036854775808) at row 1");
    ft_check_error("abs", ARGS(ARR(T_I8, "-128")), PL_ERR_INVALID_ARG, "overflow on abs(-128)");
    ft_check_error("abs", ARGS(ARR(T_STR, "x")), PL_ERR_TYPE, "no function abs(utf8)");
}

static void test_round(void **state) {
    (void)state;
    ft_check("round", "float64", ARGS(ARR(T_F64, "2.5", "-2.5", "-0.4", "0.5", NULL)),
             EXPECT("3", "-3", "-0", "1", NULL));
    ft_check("round", "float64", ARGS(ARR(T_F64, "1.234567", "0.285", "1.005", "1e300"), SCA(T_I32, "2")),
             EXPECT("1.23", "0.28", "1", "1e+300"));
    ft_check("round", "float64", ARGS(ARR(T_F64, "1234.5", "123.456"), SCA(T_I32, "-2")),
             EXPECT("1200", "100"));
    ft_check("round", "float64", ARGS(ARR(T_F64, "123.456"), SCA(T_I32, "-400")), EXPECT("0"));
    ft_check("round", "float64", ARGS(ARR(T_F64, "1.25"), SCA(T_I32, "400")), EXPECT("1.25"));
    ft_check("round", "float32", ARGS(ARR(T_F32, "1.5")), EXPECT("2"));
    ft_check("round", "int32", ARGS(ARR(T_I32, "15", "-15", "14", "-14", NULL), SCA(T_I32, "-1")),
             EXPECT("20", "-20", "10", "-10", NULL));
    ft_check("round", "int32", ARGS(ARR(T_I32, "14"), SCA(T_I32, "1")), EXPECT("14"));
    ft_check("round", "int64", ARGS(ARR(T_I64, "2"), SCA(T_I32, "-20")), EXPECT("0"));
    ft_check("round", "int64", ARGS(ARR(T_I64, "2"), SCA(T_I32, NULL)), EXPECT(NULL));
    /* per-row precision */
    ft_check("round", "float64", ARGS(ARR(T_F64, "1.234", "1.234", "1.234"), ARR(T_I32, "1", "2", NULL)),
             EXPECT("1.2", "1.23", NULL));
    ft_check_error("round", ARGS(ARR(T_I8, "127"), SCA(T_I32, "-1")), PL_ERR_INVALID_ARG,
                   "overflow in round of integer 127");
    ft_check_error("round", ARGS(ARR(T_F64, "1"), SCA(T_F64, "1")), PL_ERR_TYPE,
                   "no function round(float64, float64)");
}

static void test_floor_ceil_trunc(void **state) {
    (void)state;
    ft_check("floor", "float64", ARGS(ARR(T_F64, "-1.5", "1.5", NULL)), EXPECT("-2", "1", NULL));
    ft_check("floor", "float64", ARGS(ARR(T_I32, "3")), EXPECT("3"));
    ft_check("ceiling", "float64", ARGS(ARR(T_F64, "2.5", "-2.5")), EXPECT("3", "-2"));
    ft_check("ceil", "float32", ARGS(ARR(T_F32, "1.5")), EXPECT("2"));
    ft_check("trunc", "float64", ARGS(ARR(T_F64, "-1.7", "1.7")), EXPECT("-1", "1"));
    ft_check("trunc", "int64", ARGS(ARR(T_I64, "3", "-9223372036854775808")), EXPECT("3", "-9223372036854775808"));
    ft_check("trunc", "int8", ARGS(ARR(T_I8, "5")), EXPECT("5"));
}

static void test_float_functions(void **state) {
    (void)state;
    ft_check("sqrt", "float64", ARGS(ARR(T_I32, "4", "2", NULL)), EXPECT("2", "1.4142135623731", NULL));
    ft_check("sqrt", "float64", ARGS(ARR(T_F64, "-1")), EXPECT("-nan"));
    ft_check("cbrt", "float64", ARGS(ARR(T_F64, "27")), EXPECT("3"));
    ft_check("ln", "float64", ARGS(ARR(T_F64, "0", "-1", "1")), EXPECT("-inf", "-nan", "0"));
    ft_check("log", "float64", ARGS(ARR(T_I64, "100")), EXPECT("2"));
    ft_check("log", "float64", ARGS(SCA(T_I64, "2"), ARR(T_I64, "8", "1024")), EXPECT("3", "10"));
    ft_check("log10", "float64", ARGS(ARR(T_F64, "1000")), EXPECT("3"));
    ft_check("log2", "float64", ARGS(ARR(T_F64, "8")), EXPECT("3"));
    ft_check("exp", "float64", ARGS(ARR(T_I32, "1")), EXPECT("2.71828182845905"));
    ft_check("pow", "float64", ARGS(ARR(T_I32, "2", "-8", "0"), ARR(T_F64, "0.5", "0.333", "-1")),
             EXPECT("1.4142135623731", "-nan", "inf"));
    ft_check("power", "float64", ARGS(ARR(T_I32, "2", NULL), SCA(T_I64, "10")), EXPECT("1024", NULL));
    ft_check("power", "float64", ARGS(SCA(T_I64, "2"), ARR(T_I32, "3", NULL)), EXPECT("8", NULL));
    ft_check("atan2", "float64", ARGS(ARR(T_I32, "1", "0"), ARR(T_I32, "1", "-1")),
             EXPECT("0.785398163397448", "3.14159265358979"));
    ft_check("degrees", "float64", ARGS(ARR(T_I32, "1")), EXPECT("57.2957795130823"));
    ft_check("radians", "float64", ARGS(ARR(T_I32, "180")), EXPECT("3.14159265358979"));
    ft_check("cot", "float64", ARGS(ARR(T_I32, "1")), EXPECT("0.642092615934331"));
    ft_check("asin", "float64", ARGS(ARR(T_I32, "2")), EXPECT("nan"));
    ft_check("acos", "float64", ARGS(ARR(T_F64, "0.5")), EXPECT("1.0471975511966"));
    ft_check("sin", "float64", ARGS(ARR(T_F64, "0")), EXPECT("0"));
    ft_check("isnan", "bool", ARGS(ARR(T_F64, "nan", "1", NULL)), EXPECT("true", "false", NULL));
    ft_check("isinf", "bool", ARGS(ARR(T_F64, "inf", "-inf", "1")), EXPECT("true", "true", "false"));
    ft_check("isnan", "bool", ARGS(ARR(T_I32, "1")), EXPECT("false"));
    ft_check("isfinite", "bool", ARGS(ARR(T_F64, "inf", "1"), ), EXPECT("false", "true"));
    ft_check("isfinite", "bool", ARGS(ARR(T_I64, "1")), EXPECT("true"));
}

static void test_pi_random(void **state) {
    (void)state;
    pl_datum out;
    pl_error err;
    char t[64];
    assert_int_equal(ft_run("pi", 0, NULL, 1, &out, t, &err), PL_OK);
    assert_true(out.is_scalar);
    assert_true(out.scalar.v.f == M_PI);
    ft_datum_reset(&out);
    assert_int_equal(ft_run("random", 0, NULL, 100000, &out, t, &err), PL_OK);
    assert_string_equal(t, "float64");
    const double *d = pl_array_values_ptr(out.array);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        assert_true(d[i] >= 0 && d[i] < 1);
        sum += d[i];
    }
    assert_true(fabs(sum / 100000 - 0.5) < 0.01);
    ft_datum_reset(&out);
    assert_true(ft_find("random")->flags & PL_FN_VOLATILE);
}

/* Large and sliced inputs: results agree with libm row by row. */
static void test_large_sliced(void **state) {
    (void)state;
    int64_t n = 70000;
    pl_builder *b;
    assert_int_equal(pl_builder_new(T_I64, n, &b, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) {
        if (i % 7 == 3) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_i64(b, (i % 2 ? -i : i) * 1000003, NULL), PL_OK);
    }
    pl_array *full, *sl;
    assert_int_equal(pl_builder_finish(b, &full, NULL), PL_OK);
    pl_builder_free(b);
    assert_int_equal(pl_array_slice(full, 5, n - 10, &sl, NULL), PL_OK);
    pl_datum args[2] = {{.array = sl}};
    pl_datum out;
    pl_error err;
    assert_int_equal(ft_run("abs", 1, args, n - 10, &out, NULL, &err), PL_OK);
    for (int64_t i = 0; i < n - 10; i++) {
        int64_t src = i + 5;
        bool valid = src % 7 != 3;
        assert_int_equal(pl_array_is_valid(out.array, i), valid);
        if (valid) assert_int_equal(((const int64_t *)pl_array_values_ptr(out.array))[i], src * 1000003);
    }
    ft_datum_reset(&out);
    args[1] = SCA(T_I32, "-3");
    assert_int_equal(ft_run("round", 2, args, n - 10, &out, NULL, &err), PL_OK);
    for (int64_t i = 0; i < n - 10; i++) {
        int64_t src = i + 5;
        if (src % 7 == 3) continue;
        int64_t x = (src % 2 ? -src : src) * 1000003;
        int64_t want = (int64_t)llround((double)x / 1000.0) * 1000;
        assert_int_equal(((const int64_t *)pl_array_values_ptr(out.array))[i], want);
    }
    ft_datum_reset(&out);
    ft_datum_reset(&args[1]);
    assert_int_equal(ft_run("sqrt", 1, args, n - 10, &out, NULL, &err), PL_OK);
    for (int64_t i = 0; i < n - 10; i++) {
        int64_t src = i + 5;
        if (src % 7 == 3) continue;
        double want = sqrt((double)((src % 2 ? -src : src) * 1000003));
        double got = ((const double *)pl_array_values_ptr(out.array))[i];
        assert_true(isnan(want) ? isnan(got) : got == want);
    }
    ft_datum_reset(&out);
    pl_array_release(sl);
    pl_array_release(full);
}

static pl_type *dec(int32_t p, int32_t s) {
    pl_type *t;
    assert_int_equal(pl_type_new_decimal(p, s, &t, NULL), PL_OK);
    return t;
}

/* Decimals stay decimal (DuckDB): abs keeps the type, floor/ceil/trunc/round drop scale. */
static void test_decimal(void **state) {
    (void)state;
    pl_type *D42 = dec(4, 2), *D52 = dec(5, 2), *D21 = dec(2, 1), *D31 = dec(3, 1);
    ft_check("abs", "decimal128(4, 2)", ARGS(ARR(D42, "-99.95", "1.50", NULL)), EXPECT("99.95", "1.50", NULL));
    ft_check("round", "decimal128(4, 1)", ARGS(ARR(D42, "1.25", "-1.25", "99.95"), SCA(T_I32, "1")), EXPECT("1.3", "-1.3", "100.0"));
    ft_check("round", "decimal128(4, 0)", ARGS(ARR(D42, "-1.25", "1.50")), EXPECT("-1", "2"));
    ft_check("round", "decimal128(5, 0)", ARGS(ARR(D52, "123.45", "-125.00"), SCA(T_I32, "-1")), EXPECT("120", "-130"));
    ft_check("round", "decimal128(5, 2)", ARGS(ARR(D52, "123.45"), SCA(T_I32, "5")), EXPECT("123.45"));
    ft_check("round", "decimal128(5, 0)", ARGS(ARR(D52, "123.45"), SCA(T_I32, "-50")), EXPECT("0"));
    ft_check("ceil", "decimal128(4, 0)", ARGS(ARR(D42, "-1.25", "1.01", "2.00")), EXPECT("-1", "2", "2"));
    ft_check("floor", "decimal128(4, 0)", ARGS(ARR(D42, "-1.25", "1.99")), EXPECT("-2", "1"));
    ft_check("trunc", "decimal128(4, 0)", ARGS(ARR(D42, "-1.75", "1.75")), EXPECT("-1", "1"));
    ft_check("round", "decimal128(2, 0)", ARGS(ARR(D21, "9.9")), EXPECT("10"));
    ft_check("sign", "int8", ARGS(ARR(D31, "-0.5", "0.0", "2.5")), EXPECT("-1", "0", "1"));
    ft_check("sqrt", "float64", ARGS(ARR(D31, "4.0")), EXPECT("2"));
    pl_type_release(D42);
    pl_type_release(D52);
    pl_type_release(D21);
    pl_type_release(D31);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abs_sign),
        cmocka_unit_test(test_round),
        cmocka_unit_test(test_floor_ceil_trunc),
        cmocka_unit_test(test_float_functions),
        cmocka_unit_test(test_pi_random),
        cmocka_unit_test(test_large_sliced),
        cmocka_unit_test(test_decimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
