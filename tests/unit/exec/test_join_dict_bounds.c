/* Dictionary join keys with indices out of their dictionary's range, assembled through the C API
 * (pl_array_new does not look at indices; the readers validate what they decode): every join
 * path that indexes with them (the probe's dictionary map, one pass or per row, the foreign-key
 * output, the hash path of two keys, the build side) must fail with PL_ERR_CORRUPT naming the
 * index, never read out of bounds (ASan). NULL rows may hold any index: they must still join
 * as NULLs. Indices of every width and signedness, at the edges (-1, the dictionary's length,
 * past INT32_MAX), in one morsel of many. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polaroid/polaroid.h"

static pl_error g_err;
#define E (&g_err)

static void ok_(pl_status st, const pl_error *err, const char *expr, int line) {
    if (st != PL_OK) {
        char buf[1024];
        fail_msg("line %d: %s failed: %s", line, expr, pl_error_format(err, buf, sizeof buf));
    }
}
#define ok(expr) ok_((expr), E, #expr, __LINE__)

/* utf8 "s0".."s<n-1>" (int64 0..n-1 when ints) */
static pl_array *values(int64_t n, bool ints) {
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(ints ? PL_TYPE_INT64 : PL_TYPE_UTF8), n, &b, E));
    for (int64_t i = 0; i < n; i++) {
        char s[32];
        int len = snprintf(s, sizeof s, "s%lld", (long long)i);
        if (ints) ok(pl_builder_append_i64(b, i, E));
        else ok(pl_builder_append_bytes(b, s, len, E));
    }
    pl_array *a = NULL;
    ok(pl_builder_finish(b, &a, E));
    pl_builder_free(b);
    return a;
}

typedef struct dict_spec {
    pl_type_id index;  /* index type */
    int64_t dict_n;    /* dictionary values */
    int64_t n;         /* rows; row i has index i % mod (mod 0: dict_n) */
    int64_t bad_row;   /* this row gets index bad (-1: none) */
    int64_t bad;
    int64_t null_every; /* every null_every-th row (from 1) is NULL with index null_index; 0 = none */
    int64_t null_index;
    bool ints;          /* int64 dictionary values instead of utf8 */
    int64_t mod;
} dict_spec;

static void store(uint8_t *p, int32_t w, int64_t v) {
    switch (w) {
    case 1: { int8_t x = (int8_t)v; memcpy(p, &x, 1); break; }
    case 2: { int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
    case 4: { int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

static pl_array *dict_column(const dict_spec *s) {
    pl_type *t = NULL;
    ok(pl_type_new_dictionary(s->index, pl_type_simple(s->ints ? PL_TYPE_INT64 : PL_TYPE_UTF8), &t, E));
    int32_t w = t->byte_width;
    pl_buf *idx = NULL, *valid = NULL;
    ok(pl_buf_new(s->n * w + 8, &idx, E));
    idx->size = s->n * w;
    int64_t nulls = 0;
    if (s->null_every) {
        ok(pl_buf_new_zeroed((s->n + 7) / 8 + 1, &valid, E));
        for (int64_t i = 0; i < s->n; i++) {
            if ((i + 1) % s->null_every == 0) nulls++;
            else pl_bit_set(valid->data, i);
        }
    }
    for (int64_t i = 0; i < s->n; i++) {
        bool null = s->null_every && (i + 1) % s->null_every == 0;
        int64_t mod = s->mod ? s->mod : s->dict_n;
        store(idx->data + i * w, w, i == s->bad_row ? s->bad : null ? s->null_index : i % mod);
    }
    pl_array *a = NULL;
    ok(pl_array_new(t, s->n, nulls, valid, idx, NULL, 0, NULL, values(s->dict_n, s->ints), &a, E));
    return a;
}

/* A one-batch table of (k, v) with v = row number (and a second key k2 = 1 when two_keys). */
static pl_df *table_df(const char *prefix, pl_array *k, bool two_keys) {
    int64_t n = k->length;
    pl_array *cols[3] = {k, values(n, true), NULL};
    int32_t nc = 2;
    pl_field f[3];
    char names[3][16];
    snprintf(names[0], 16, "%sk", prefix);
    snprintf(names[1], 16, "%sv", prefix);
    snprintf(names[2], 16, "%sk2", prefix);
    f[0] = (pl_field){names[0], k->type, true};
    f[1] = (pl_field){names[1], pl_type_simple(PL_TYPE_INT64), true};
    if (two_keys) {
        pl_builder *b = NULL;
        ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), n, &b, E));
        for (int64_t i = 0; i < n; i++) ok(pl_builder_append_i64(b, 1, E));
        ok(pl_builder_finish(b, &cols[2], E));
        pl_builder_free(b);
        f[2] = (pl_field){names[2], pl_type_simple(PL_TYPE_INT64), true};
        nc = 3;
    }
    pl_schema *sc = NULL;
    ok(pl_schema_new(nc, f, &sc, E));
    pl_batch *bt = NULL;
    ok(pl_batch_new(pl_schema_retain(sc), n, cols, &bt, E));
    pl_table *t = NULL;
    ok(pl_table_new(sc, &t, E));
    ok(pl_table_append(t, bt, E));
    pl_batch_release(bt);
    pl_schema_release(sc);
    pl_df *df = NULL;
    ok(pl_df_from_table(t, &df, E));
    pl_table_release(t);
    return df;
}

/* left JOIN right ON lk = rk [AND lk2 = rk2]; the status, and the row count on success */
static pl_status run_join(pl_array *left_key, pl_array *right_key, bool two_keys, int64_t *rows) {
    pl_df *l = table_df("l", left_key, two_keys), *r = table_df("r", right_key, two_keys);
    pl_expr *lk[2] = {pl_expr_col("lk"), pl_expr_col("lk2")};
    pl_expr *rk[2] = {pl_expr_col("rk"), pl_expr_col("rk2")};
    pl_df *j = NULL;
    ok(pl_df_join(l, r, PL_JOIN_INNER, two_keys ? 2 : 1, lk, rk, NULL, &j, E));
    pl_exec_opts eo;
    pl_exec_opts_init(&eo);
    eo.n_threads = 2;
    pl_table *t = NULL;
    pl_error_init(E);
    pl_status st = pl_df_collect(j, &eo, &t, E);
    if (!st) {
        *rows = t->n_rows;
        pl_table_release(t);
    } else {
        assert_null(t);
    }
    for (int k = 0; k < 2; k++) {
        pl_expr_release(lk[k]);
        pl_expr_release(rk[k]);
    }
    pl_df_release(j);
    pl_df_release(l);
    pl_df_release(r);
    return st;
}

static void expect_corrupt(pl_status st) {
    if (st != PL_ERR_CORRUPT) {
        char buf[1024];
        fail_msg("expected PL_ERR_CORRUPT, got %d: %s", (int)st, pl_error_format(E, buf, sizeof buf));
    }
    assert_non_null(strstr(g_err.msg, "dictionary index"));
    assert_non_null(strstr(g_err.msg, "out of range"));
}

/* the other side: plain keys s0..s<n-1> (ints: 0..n-1), each `dup` times */
static pl_array *plain_keys(int64_t n, int64_t dup, bool ints) {
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(ints ? PL_TYPE_INT64 : PL_TYPE_UTF8), n * dup, &b, E));
    for (int64_t d = 0; d < dup; d++)
        for (int64_t i = 0; i < n; i++) {
            char s[32];
            int len = snprintf(s, sizeof s, "s%lld", (long long)i);
            if (ints) ok(pl_builder_append_i64(b, i, E));
            else ok(pl_builder_append_bytes(b, s, len, E));
        }
    pl_array *a = NULL;
    ok(pl_builder_finish(b, &a, E));
    pl_builder_free(b);
    return a;
}

/* A large dictionary-keyed side (the probe) against a small plain side (the build): unique
 * build keys (one-pass map and foreign-key output) and duplicated ones (the per-row map). */
static void test_probe_out_of_range(void **state) {
    (void)state;
    const int64_t bads[] = {50, -1, 1000, (int64_t)1 << 30};
    const int64_t bad_rows[] = {0, 77777, 199999};
    for (int dup = 1; dup <= 2; dup++)
        for (size_t b = 0; b < sizeof bads / sizeof *bads; b++)
            for (size_t r = 0; r < sizeof bad_rows / sizeof *bad_rows; r++) {
                dict_spec s = {PL_TYPE_INT32, 50, 200000, bad_rows[r], bads[b], 0, 0, false, 0};
                int64_t rows = 0;
                expect_corrupt(run_join(dict_column(&s), plain_keys(50, dup, false), false, &rows));
            }
}

/* Every index type: signed -1 (as an unsigned byte, 255, it would be inside the 300-value
 * dictionary the int8 rows use the first 100 of), the dictionary's length (255 for uint8), and
 * the top of the unsigned 64-bit range. */
static void test_index_types(void **state) {
    (void)state;
    const pl_type_id types[] = {PL_TYPE_INT8, PL_TYPE_UINT8, PL_TYPE_INT16, PL_TYPE_UINT16,
                                PL_TYPE_INT32, PL_TYPE_UINT32, PL_TYPE_INT64, PL_TYPE_UINT64};
    for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
        bool is_signed = types[t] == PL_TYPE_INT8 || types[t] == PL_TYPE_INT16 ||
                         types[t] == PL_TYPE_INT32 || types[t] == PL_TYPE_INT64;
        int64_t dict_n = types[t] == PL_TYPE_UINT8 ? 255 : 300;
        int64_t mod = types[t] == PL_TYPE_INT8 ? 100 : 0;
        int64_t bads[2] = {is_signed ? -1 : dict_n, types[t] == PL_TYPE_UINT64 ? -1 : dict_n};
        if (types[t] == PL_TYPE_INT8) bads[1] = 129; /* stored as -127 */
        for (int b = 0; b < 2; b++) {
            dict_spec s = {types[t], dict_n, 5000, 4321, bads[b], 0, 0, false, mod};
            int64_t rows = 0;
            expect_corrupt(run_join(dict_column(&s), plain_keys(dict_n, 1, false), false, &rows));
        }
        /* and in range: joins */
        dict_spec s = {types[t], dict_n, 5000, -1, 0, 0, 0, false, mod};
        int64_t rows = 0;
        ok(run_join(dict_column(&s), plain_keys(dict_n, 1, false), false, &rows));
        assert_int_equal(rows, 5000);
    }
}

/* NULL rows holding out-of-range indices are fine (they never match); a valid bad row among
 * them is not. */
static void test_null_rows_any_index(void **state) {
    (void)state;
    for (int dup = 1; dup <= 2; dup++) {
        dict_spec s = {PL_TYPE_INT32, 50, 100000, -1, 0, 7, (int64_t)1 << 30, false, 0};
        int64_t rows = 0;
        ok(run_join(dict_column(&s), plain_keys(50, dup, false), false, &rows));
        assert_int_equal(rows, (100000 - 100000 / 7) * dup);
        s.null_index = -5;
        ok(run_join(dict_column(&s), plain_keys(50, dup, false), false, &rows));
        assert_int_equal(rows, (100000 - 100000 / 7) * dup);
        s.bad_row = 99998; /* a valid row ((i + 1) % 7 != 0) */
        s.bad = 50;
        expect_corrupt(run_join(dict_column(&s), plain_keys(50, dup, false), false, &rows));
    }
}

/* Two keys: the hash path (hashes of the dictionary's values by index). */
static void test_two_keys_hash_path(void **state) {
    (void)state;
    dict_spec s = {PL_TYPE_INT32, 50, 100000, 31337, 4096, 0, 0, false, 0};
    int64_t rows = 0;
    expect_corrupt(run_join(dict_column(&s), plain_keys(50, 1, false), true, &rows));
    s.bad_row = -1;
    ok(run_join(dict_column(&s), plain_keys(50, 1, false), true, &rows));
    assert_int_equal(rows, 100000);
}

/* The bad dictionary on the small (build) side, utf8 and int64 values (the int64 key's build
 * reads batches in place). */
static void test_build_side(void **state) {
    (void)state;
    for (int ints = 0; ints < 2; ints++) {
        dict_spec s = {PL_TYPE_INT32, 50, 60, 55, 50, 0, 0, ints == 1, 0};
        int64_t rows = 0;
        expect_corrupt(run_join(plain_keys(50, 2000, ints == 1), dict_column(&s), false, &rows));
        s.bad = -3;
        expect_corrupt(run_join(plain_keys(50, 2000, ints == 1), dict_column(&s), false, &rows));
        s.bad_row = -1;
        ok(run_join(plain_keys(50, 2000, ints == 1), dict_column(&s), false, &rows));
        assert_int_equal(rows, 2000 * 60);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_out_of_range),
        cmocka_unit_test(test_index_types),
        cmocka_unit_test(test_null_rows_any_index),
        cmocka_unit_test(test_two_keys_hash_path),
        cmocka_unit_test(test_build_side),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
