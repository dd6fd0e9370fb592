/* test_funcs_oom.c - every allocation of the function kernels may fail: for n = 0, 1, 2, ...
 * the n-th allocation fails until the call succeeds; each failure must be PL_ERR_NOMEM and
 * leak nothing (LeakSanitizer checks at exit). */
#include "funcs_test.h"

static void oom_loop(const char *name, int n_args, pl_datum *args, int64_t n_rows) {
    pl_datum out;
    pl_error err;
    for (int64_t k = 0; k < 10000; k++) {
        pl_alloc_fail_after(k);
        pl_status st = ft_run(name, n_args, args, n_rows, &out, NULL, &err);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            ft_datum_reset(&out);
            break;
        }
        if (st != PL_ERR_NOMEM) fail_msg("%s: allocation %lld failed with %s: %s", name, (long long)k, pl_status_name(st), err.msg);
    }
    for (int i = 0; i < n_args; i++) ft_datum_reset(&args[i]);
}

#define OOM(name, ...) oom_loop((name), __VA_ARGS__)

static void test_oom(void **state) {
    (void)state;
    pl_type *T, *NY, *D;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &T, NULL), PL_OK);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, "America/New_York", &NY, NULL), PL_OK);
    assert_int_equal(pl_type_new_decimal(10, 2, &D, NULL), PL_OK);
    OOM("upper", ARGS(ARR(T_STR, "abc", NULL, "é")), 3);
    OOM("substr", ARGS(ARR(T_STR, "hello", NULL), ARR(T_I64, "2", "1"), SCA(T_I64, "2")), 2);
    OOM("concat", ARGS(ARR(T_STR, "a", NULL), ARR(T_I64, "1", "2"), SCA(T_F64, "2.5")), 2);
    OOM("concat_ws", ARGS(SCA(T_STR, ","), ARR(T_STR, "a", NULL), ARR(T_STR, "b", "c")), 2);
    OOM("regexp_replace", ARGS(ARR(T_STR, "abcb", NULL), SCA(T_STR, "b"), SCA(T_STR, "X"), SCA(T_STR, "g")), 2);
    OOM("regexp_matches", ARGS(ARR(T_STR, "abc", "x"), ARR(T_STR, "b", "y")), 2);
    OOM("split_part", ARGS(ARR(T_STR, "a,b", NULL), SCA(T_STR, ","), SCA(T_I64, "2")), 2);
    OOM("lpad", ARGS(ARR(T_STR, "ab"), SCA(T_I32, "5"), SCA(T_STR, "xy")), 1);
    OOM("round", ARGS(ARR(T_F64, "1.25", NULL), ARR(T_I32, "1", "2")), 2);
    OOM("round", ARGS(ARR(D, "1.25", NULL), SCA(T_I32, "1")), 2);
    OOM("abs", ARGS(ARR(T_I64, "-1", NULL)), 2);
    OOM("pow", ARGS(ARR(T_F64, "2", NULL), ARR(T_F64, "3", "1")), 2);
    OOM("isnan", ARGS(ARR(T_F64, "2", NULL)), 2);
    OOM("time_bucket", ARGS(SCA(T_IV, "0/0/60000000000"), ARR(T, "2024-03-10 14:35:27", NULL)), 2);
    OOM("time_bucket", ARGS(SCA(T_IV, "1/0/0"), ARR(T_DATE, "2024-03-10", NULL)), 2);
    OOM("date_trunc", ARGS(SCA(T_STR, "month"), ARR(NY, "2024-03-10 14:35:27", NULL)), 2);
    OOM("date_part", ARGS(SCA(T_STR, "hour"), ARR(NY, "2024-03-10 14:35:27", NULL)), 2);
    OOM("date_diff", ARGS(SCA(T_STR, "day"), ARR(T_DATE, "2024-03-10", NULL), ARR(T, "2024-03-10 14:35:27", "2024-03-10 14:35:27")), 2);
    OOM("strftime", ARGS(ARR(NY, "2024-03-10 14:35:27", NULL), SCA(T_STR, "%Y-%m-%d %H %Z")), 2);
    OOM("strptime", ARGS(ARR(T_STR, "2024-03-10", NULL), SCA(T_STR, "%Y-%m-%d")), 2);
    OOM("try_strptime", ARGS(ARR(T_STR, "2024-13-10", NULL), SCA(T_STR, "%Y-%m-%d")), 2);
    OOM("timezone", ARGS(SCA(T_STR, "Europe/Berlin"), ARR(T, "2024-03-10 14:35:27", NULL)), 2);
    OOM("make_timestamp", ARGS(SCA(T_I64, "2024"), SCA(T_I64, "2"), ARR(T_I64, "29", NULL), SCA(T_I64, "1"), SCA(T_I64, "2"), SCA(T_F64, "3.5")), 2);
    pl_type_release(T);
    pl_type_release(NY);
    pl_type_release(D);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oom),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pl_tz_cache_reset();
    return rc;
}
