/* test_funcs_string.c - the string function set (kernels_string.c) against values checked with
 * DuckDB 2.0: UTF-8 character semantics, negative positions, NULL handling of concat vs ||,
 * padding errors, regular expressions (literal and per-row patterns), sliced inputs. */
#include "funcs_test.h"

static void test_length_case(void **state) {
    (void)state;
    ft_check("length", "int64", ARGS(ARR(T_STR, "héllo", "", NULL, "日本")), EXPECT("5", "0", NULL, "2"));
    ft_check("char_length", "int64", ARGS(ARR(T_STR, "ab")), EXPECT("2"));
    ft_check("octet_length", "int64", ARGS(ARR(T_STR, "héllo", NULL)), EXPECT("6", NULL));
    ft_check("strlen", "int64", ARGS(ARR(T_STR, "héllo")), EXPECT("6"));
    ft_check("upper", "utf8", ARGS(ARR(T_STR, "héllo", NULL, "ÿ strasse", "привет", "αβγ", "łódź")),
             EXPECT("HÉLLO", NULL, "Ÿ STRASSE", "ПРИВЕТ", "ΑΒΓ", "ŁÓDŹ"));
    ft_check("lower", "utf8", ARGS(ARR(T_STR, "ÀÉ × Ab", "ПРИВЕТ")), EXPECT("àé × ab", "привет"));
    ft_check("lower", "utf8", ARGS(ARR(T_STR, "ŁÓDŹ Ÿ")), EXPECT("łódź ÿ"));
    ft_check("length", "int64", ARGS(ARR(T_NA, NULL)), EXPECT(NULL));
    ft_check_error("length", ARGS(ARR(T_I64, "1")), PL_ERR_TYPE, "no function length(int64)");
}

static void test_trim(void **state) {
    (void)state;
    ft_check("trim", "utf8", ARGS(ARR(T_STR, "  a  ", "   ", NULL, "a b")), EXPECT("a", "", NULL, "a b"));
    ft_check("ltrim", "utf8", ARGS(ARR(T_STR, "xxaxx"), SCA(T_STR, "x")), EXPECT("axx"));
    ft_check("rtrim", "utf8", ARGS(ARR(T_STR, "xxaxx"), SCA(T_STR, "x")), EXPECT("xxa"));
    ft_check("trim", "utf8", ARGS(ARR(T_STR, "xyaxy", "éaé"), ARR(T_STR, "yx", "é")), EXPECT("a", "a"));
    ft_check("trim", "utf8", ARGS(ARR(T_STR, "  a  "), SCA(T_STR, NULL)), EXPECT(NULL));
}

static void test_substr(void **state) {
    (void)state;
    ft_check("substring", "utf8",
             ARGS(SCA(T_STR, "hello"), ARR(T_I64, "0", "-2", "-2", "2", "2", "10", "-10", "0", "-5", "-2", "1", "0", "-3", "2"),
                  ARR(T_I64, "3", "2", "5", "100", "-1", "1", "3", "1", "10", NULL, "-2", "100", "-1", "0")),
             EXPECT("he", "lo", "lo", "ello", "h", "", "", "", "hello", NULL, "", "hello", "e", ""));
    ft_check("substr", "utf8", ARGS(ARR(T_STR, "hello", "héllo", NULL), ARR(T_I64, "-2", "2", "1")),
             EXPECT("lo", "éllo", NULL));
    ft_check("substr", "utf8", ARGS(ARR(T_STR, "héllo"), SCA(T_I32, "2"), SCA(T_I32, "2")), EXPECT("él"));
    ft_check("left", "utf8", ARGS(ARR(T_STR, "héllo", "hello", "ab"), ARR(T_I64, "2", "-2", "0")),
             EXPECT("hé", "hel", ""));
    ft_check("right", "utf8", ARGS(ARR(T_STR, "héllo", "hello", "ab", "ab"), ARR(T_I64, "2", "-2", "0", "5")),
             EXPECT("lo", "llo", "", "ab"));
}

static void test_concat(void **state) {
    (void)state;
    ft_check("concat", "utf8", ARGS(ARR(T_STR, "a", NULL, "c"), SCA(T_NA, NULL), ARR(T_I64, "1", "2", NULL), SCA(T_F64, "2.5")),
             EXPECT("a12.5", "22.5", "c2.5"));
    ft_check("concat", "utf8", ARGS(SCA(T_STR, NULL), SCA(T_STR, NULL)), EXPECT(""));
    ft_check("concat_op", "utf8", ARGS(ARR(T_STR, "ab", "x", NULL), ARR(T_I64, "1", NULL, "3")),
             EXPECT("ab1", NULL, NULL));
    ft_check("concat_op", "utf8", ARGS(SCA(T_I64, "1"), SCA(T_I64, "2")), EXPECT("12"));
    ft_check("concat", "utf8", ARGS(ARR(T_I32, "1"), ARR(T_BOOL, "true"), ARR(T_DATE, "2024-01-01")),
             EXPECT("1true2024-01-01"));
    ft_check("concat_ws", "utf8", ARGS(SCA(T_STR, ","), ARR(T_STR, "a", "a"), ARR(T_STR, NULL, "c"), SCA(T_STR, "b")),
             EXPECT("a,b", "a,c,b"));
    ft_check("concat_ws", "utf8", ARGS(SCA(T_STR, NULL), ARR(T_STR, "a")), EXPECT(NULL));
}

static void test_search_replace(void **state) {
    (void)state;
    ft_check("replace", "utf8", ARGS(ARR(T_STR, "aaa", "aaa", "héhé", NULL), ARR(T_STR, "a", "", "é", "a"), SCA(T_STR, "bb")),
             EXPECT("bbbbbb", "aaa", "hbbhbb", NULL));
    ft_check("starts_with", "bool", ARGS(ARR(T_STR, "abc", "abc", NULL), SCA(T_STR, "ab")), EXPECT("true", "true", NULL));
    ft_check("prefix", "bool", ARGS(ARR(T_STR, "abc", "x"), SCA(T_STR, "ab")), EXPECT("true", "false"));
    ft_check("ends_with", "bool", ARGS(ARR(T_STR, "abc", "c", ""), SCA(T_STR, "bc")), EXPECT("true", "false", "false"));
    ft_check("suffix", "bool", ARGS(ARR(T_STR, "abc"), SCA(T_STR, "")), EXPECT("true"));
    ft_check("contains", "bool", ARGS(ARR(T_STR, "abc", "abc"), ARR(T_STR, "b", "z")), EXPECT("true", "false"));
    ft_check("strpos", "int64", ARGS(ARR(T_STR, "héllo", "abc", "abc", NULL), ARR(T_STR, "l", "z", "", "a")),
             EXPECT("3", "0", "1", NULL));
    ft_check("instr", "int64", ARGS(ARR(T_STR, "abc"), SCA(T_STR, "c")), EXPECT("3"));
    ft_check("position", "int64", ARGS(SCA(T_STR, "abc"), SCA(T_STR, "b")), EXPECT("2"));
    ft_check("split_part", "utf8",
             ARGS(ARR(T_STR, "a,b,c", "a,b,c", "a,b,c", "a,b,c", "abc", "a,,b", "", "a,b,c", "a,b,c", "a||b"),
                  ARR(T_STR, ",", ",", ",", ",", "", ",", ",", ",", ",", "||"),
                  ARR(T_I64, "2", "5", "-1", "0", "1", "2", "1", "-3", "-4", "2")),
             EXPECT("b", "", "c", "", "a", "", "", "a", "", "b"));
}

static void test_pad_reverse_repeat(void **state) {
    (void)state;
    ft_check("lpad", "utf8", ARGS(ARR(T_STR, "ab", "hello", "ab", "ab", "é"), ARR(T_I32, "5", "3", "-1", "5", "3"), ARR(T_STR, "xy", "x", "x", NULL, "ü")),
             EXPECT("xyxab", "hel", "", NULL, "üüé"));
    ft_check("rpad", "utf8", ARGS(ARR(T_STR, "ab"), SCA(T_I32, "5"), SCA(T_STR, "xy")), EXPECT("abxyx"));
    ft_check_error("lpad", ARGS(ARR(T_STR, "ab"), SCA(T_I32, "5"), SCA(T_STR, "")), PL_ERR_INVALID_ARG,
                   "insufficient padding in LPAD");
    ft_check("reverse", "utf8", ARGS(ARR(T_STR, "héllo", "", NULL)), EXPECT("olléh", "", NULL));
    ft_check("repeat", "utf8", ARGS(ARR(T_STR, "ab", "ab", "é"), ARR(T_I64, "3", "-1", "2")), EXPECT("ababab", "", "éé"));
    ft_check("ascii", "int32", ARGS(ARR(T_STR, "A", "é", "")), EXPECT("65", "233", "0"));
    ft_check("chr", "utf8", ARGS(ARR(T_I32, "65", "233", "26085")), EXPECT("A", "é", "日"));
    ft_check_error("chr", ARGS(ARR(T_I32, "-1")), PL_ERR_INVALID_ARG, "invalid code point");
    ft_check("md5", "utf8", ARGS(ARR(T_STR, "", "abc", "The quick brown fox jumps over the lazy dog", NULL,
                                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")),
             EXPECT("d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72",
                    "9e107d9d372bb6826bd81d3542a419d6", NULL, "36a92cc94a9e0fa21f625f8bfb007adf"));
    ft_check("md5", "utf8", ARGS(ARR(T_STR, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")), EXPECT("cc7ed669cf88f201c3297c6a91e1d18d", "014842d480b571495a4a0363793f7367"));
}

/* The string builder's bounds: repeat by doubling copies, the 2 GiB limit checked before any
 * allocation (also for counts whose byte size passes 64 bits), negative lengths refused. */
static void test_strb_bounds(void **state) {
    (void)state;
    pl_fn_strb b;
    pl_error err;
    uint8_t *dst;
    assert_int_equal(pl_fn_strb_init(&b, 4, 1, &err), PL_OK);
    assert_int_equal(pl_fn_strb_append_repeat(&b, "abc", 3, 5, &err), PL_OK);
    assert_int_equal(pl_fn_strb_next(&b, &err), PL_OK);
    assert_int_equal(pl_fn_strb_append_repeat(&b, "x", 1, 0, &err), PL_OK);
    assert_int_equal(pl_fn_strb_append_repeat(&b, "", 0, INT64_MAX, &err), PL_OK);
    assert_int_equal(pl_fn_strb_next(&b, &err), PL_OK);
    assert_int_equal(pl_fn_strb_append_repeat(&b, "xy", 2, 1000, &err), PL_OK);
    assert_int_equal(pl_fn_strb_next(&b, &err), PL_OK);
    assert_int_equal(b.len, 15 + 2000);
    assert_memory_equal(b.data->data, "abcabcabcabcabc", 15);
    for (int i = 0; i < 1000; i++) assert_memory_equal(b.data->data + 15 + 2 * i, "xy", 2);
    assert_int_equal(pl_fn_strb_append_repeat(&b, "abc", 3, INT64_MAX / 2, &err), PL_ERR_LIMIT);
    assert_non_null(strstr(err.msg, "too large"));
    assert_int_equal(pl_fn_strb_append_repeat(&b, "a", 1, INT32_MAX, &err), PL_ERR_LIMIT);
    assert_int_equal(pl_fn_strb_reserve(&b, INT64_MAX, &dst, &err), PL_ERR_LIMIT);
    assert_int_equal(pl_fn_strb_reserve(&b, -1, &dst, &err), PL_ERR_INTERNAL);
    assert_int_equal(b.len, 2015); /* failures leave the builder as it was */
    assert_int_equal(pl_fn_strb_append(&b, "z", 1, &err), PL_OK);
    assert_int_equal(pl_fn_strb_next(&b, &err), PL_OK);
    pl_datum out;
    assert_int_equal(pl_fn_strb_finish(&b, pl_type_simple(PL_TYPE_UTF8), &out, &err), PL_OK);
    assert_int_equal(out.array->length, 4);
    pl_datum_reset(&out);
    pl_fn_strb_reset(&b);
    ft_check("repeat", "utf8", ARGS(ARR(T_STR, "", "ab", NULL), ARR(T_I64, "9223372036854775807", "0", "5")),
             EXPECT("", "", NULL));
    ft_check_error("repeat", ARGS(ARR(T_STR, "ab"), SCA(T_I64, "1073741824")), PL_ERR_LIMIT, "too large");
    ft_check_error("rpad", ARGS(ARR(T_STR, "a"), SCA(T_I64, "2147483647"), SCA(T_STR, "\xc3\xa9")),
                   PL_ERR_LIMIT, "too large");
    ft_check_error("lpad", ARGS(ARR(T_STR, "a"), SCA(T_I64, "2147483648"), SCA(T_STR, "x")), PL_ERR_LIMIT,
                   "too large");
}

static void test_regex(void **state) {
    (void)state;
    ft_check("regexp_matches", "bool", ARGS(ARR(T_STR, "abc", "xyz", NULL, "a1"), SCA(T_STR, "b|\\d")),
             EXPECT("true", "false", NULL, "true"));
    ft_check("regexp_matches", "bool", ARGS(ARR(T_STR, "ABC"), SCA(T_STR, "b"), SCA(T_STR, "i")), EXPECT("true"));
    ft_check("regexp_full_match", "bool", ARGS(ARR(T_STR, "abc", "abcd"), SCA(T_STR, "a.c")), EXPECT("true", "false"));
    /* per-row patterns */
    ft_check("regexp_matches", "bool", ARGS(ARR(T_STR, "abc", "abc", "abc"), ARR(T_STR, "^a", "^b", NULL)),
             EXPECT("true", "false", NULL));
    ft_check("regexp_replace", "utf8", ARGS(ARR(T_STR, "abcb", "a.b", NULL), SCA(T_STR, "b|\\."), SCA(T_STR, "X")),
             EXPECT("aXcb", "aXb", NULL));
    ft_check("regexp_replace", "utf8", ARGS(ARR(T_STR, "abcb"), SCA(T_STR, "b"), SCA(T_STR, "X"), SCA(T_STR, "g")),
             EXPECT("aXcX"));
    ft_check("regexp_replace", "utf8", ARGS(ARR(T_STR, "ABC"), SCA(T_STR, "b"), SCA(T_STR, "x"), SCA(T_STR, "gi")),
             EXPECT("AxC"));
    ft_check("regexp_replace", "utf8", ARGS(ARR(T_STR, "john smith"), SCA(T_STR, "([a-z]+) ([a-z]+)"), SCA(T_STR, "\\2, \\1")),
             EXPECT("smith, john"));
    ft_check("regexp_replace", "utf8", ARGS(ARR(T_STR, "abc"), SCA(T_STR, "x*"), SCA(T_STR, "-"), SCA(T_STR, "g")),
             EXPECT("-a-b-c-"));
    ft_check("regexp_extract", "utf8", ARGS(ARR(T_STR, "abc123", "abc", NULL), SCA(T_STR, "[0-9]+")),
             EXPECT("123", "", NULL));
    ft_check("regexp_extract", "utf8", ARGS(ARR(T_STR, "abc123"), SCA(T_STR, "([a-z]+)([0-9]+)"), SCA(T_I32, "2")),
             EXPECT("123"));
    ft_check_error("regexp_matches", ARGS(ARR(T_STR, "a"), SCA(T_STR, "(")), PL_ERR_INVALID_ARG,
                   "invalid regular expression \"(\"");
    ft_check_error("regexp_extract", ARGS(ARR(T_STR, "a"), SCA(T_STR, "a"), SCA(T_I32, "3")), PL_ERR_INVALID_ARG,
                   "group 3 out of range");
}

/* A large sliced column with NULLs through substr and upper, against a plain model. */
static void test_large_sliced(void **state) {
    (void)state;
    int64_t n = 70000;
    pl_builder *b;
    assert_int_equal(pl_builder_new(T_STR, n, &b, NULL), PL_OK);
    char buf[64];
    for (int64_t i = 0; i < n; i++) {
        if (i % 5 == 1) {
            assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
            continue;
        }
        int len = snprintf(buf, sizeof buf, "row%lldé", (long long)i);
        assert_int_equal(pl_builder_append_bytes(b, buf, len, NULL), PL_OK);
    }
    pl_array *full, *sl;
    assert_int_equal(pl_builder_finish(b, &full, NULL), PL_OK);
    pl_builder_free(b);
    assert_int_equal(pl_array_slice(full, 3, n - 3, &sl, NULL), PL_OK);
    pl_datum args[3] = {{.array = sl}, SCA(T_I64, "2"), SCA(T_I64, "4")};
    pl_datum out;
    pl_error err;
    assert_int_equal(ft_run("substr", 3, args, n - 3, &out, NULL, &err), PL_OK);
    for (int64_t i = 0; i < n - 3; i++) {
        int64_t src = i + 3;
        assert_int_equal(pl_array_is_valid(out.array, i), src % 5 != 1);
        if (src % 5 == 1) continue;
        snprintf(buf, sizeof buf, "row%lldé", (long long)src);
        int32_t len;
        const uint8_t *p = pl_array_bytes(out.array, i, &len);
        /* model: 4 characters from the second */
        const char *t = buf + 1;
        int want = 0;
        for (int c = 0; c < 4 && t[want]; c++) want += ((unsigned char)t[want] >= 0xC0) ? 2 : 1;
        assert_int_equal(len, want);
        assert_memory_equal(p, t, (size_t)want);
    }
    ft_datum_reset(&out);
    assert_int_equal(ft_run("upper", 1, args, n - 3, &out, NULL, &err), PL_OK);
    for (int64_t i = 0; i < n - 3; i++) {
        int64_t src = i + 3;
        if (src % 5 == 1) continue;
        int blen = snprintf(buf, sizeof buf, "ROW%lldÉ", (long long)src);
        int32_t len;
        const uint8_t *p = pl_array_bytes(out.array, i, &len);
        assert_int_equal(len, blen);
        assert_memory_equal(p, buf, (size_t)blen);
    }
    ft_datum_reset(&out);
    ft_datum_reset(&args[1]);
    ft_datum_reset(&args[2]);
    pl_array_release(sl);
    pl_array_release(full);
}

/* Random bytes (invalid UTF-8 included) through every string function: results or clean
 * errors, never a crash or an out-of-bounds read (ASan). */
static void test_random_bytes(void **state) {
    (void)state;
    ft_check_utf8 = false;
    int64_t n = 3000;
    uint64_t rng = 99;
    pl_builder *b1, *b2;
    assert_int_equal(pl_builder_new(T_STR, n, &b1, NULL), PL_OK);
    assert_int_equal(pl_builder_new(T_STR, n, &b2, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 2; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            int len = (int)((rng >> 33) % 12);
            uint8_t buf[16];
            for (int j = 0; j < len; j++) {
                rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
                uint8_t c = (uint8_t)(rng >> 40);
                buf[j] = (rng >> 20) % 3 ? (uint8_t)('a' + c % 4) : c; /* mostly a-d, some high bytes */
            }
            assert_int_equal(pl_builder_append_bytes(k ? b2 : b1, buf, len, NULL), PL_OK);
        }
    }
    pl_array *a1, *a2;
    assert_int_equal(pl_builder_finish(b1, &a1, NULL), PL_OK);
    assert_int_equal(pl_builder_finish(b2, &a2, NULL), PL_OK);
    pl_builder_free(b1);
    pl_builder_free(b2);
    const char *one[] = {"length", "upper", "lower", "trim", "reverse", "ascii", "md5", "octet_length"};
    const char *two[] = {"trim", "ltrim", "rtrim", "starts_with", "ends_with", "contains", "strpos",
                         "concat", "concat_op", "regexp_matches"};
    pl_datum out;
    pl_error err;
    for (size_t f = 0; f < PL_ARRAY_LEN(one); f++) {
        pl_datum args[1] = {{.array = a1}};
        if (ft_run(one[f], 1, args, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
    }
    for (size_t f = 0; f < PL_ARRAY_LEN(two); f++) {
        pl_datum args[2] = {{.array = a1}, {.array = a2}};
        if (ft_run(two[f], 2, args, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
    }
    const char *si[] = {"left", "right", "repeat"};
    for (size_t f = 0; f < PL_ARRAY_LEN(si); f++) {
        for (int k = -3; k <= 3; k++) {
            char kb[16];
            snprintf(kb, sizeof kb, "%d", k);
            pl_datum args[2] = {{.array = a1}, SCA(T_I64, kb)};
            if (ft_run(si[f], 2, args, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            ft_datum_reset(&args[1]);
        }
    }
    for (int st = -4; st <= 4; st++) {
        for (int ln = -2; ln <= 3; ln++) {
            char sb[16], lb[16];
            snprintf(sb, sizeof sb, "%d", st);
            snprintf(lb, sizeof lb, "%d", ln);
            pl_datum args[3] = {{.array = a1}, SCA(T_I64, sb), SCA(T_I64, lb)};
            if (ft_run("substr", 3, args, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            pl_datum pargs[3] = {{.array = a1}, SCA(T_I64, lb), {.array = a2}};
            if (ft_run("lpad", 3, pargs, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            if (ft_run("rpad", 3, pargs, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            pl_datum sp[3] = {{.array = a1}, {.array = a2}, SCA(T_I64, sb)};
            if (ft_run("split_part", 3, sp, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            pl_datum rp[3] = {{.array = a1}, {.array = a2}, SCA(T_STR, "x")};
            if (ft_run("replace", 3, rp, n, &out, NULL, &err) == PL_OK) ft_datum_reset(&out);
            ft_datum_reset(&args[1]);
            ft_datum_reset(&args[2]);
            ft_datum_reset(&pargs[1]);
            ft_datum_reset(&sp[2]);
            ft_datum_reset(&rp[2]);
        }
    }
    pl_array_release(a1);
    pl_array_release(a2);
    ft_check_utf8 = true;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_case),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_substr),
        cmocka_unit_test(test_concat),
        cmocka_unit_test(test_search_replace),
        cmocka_unit_test(test_pad_reverse_repeat),
        cmocka_unit_test(test_strb_bounds),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_large_sliced),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
