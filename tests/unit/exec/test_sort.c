/* test_sort.c - the sort sink (src/exec/sort/) against a plain model: random rows kept as C
 * values, sorted by a stable merge sort with an independent comparator, compared row by row
 * (through a unique id column, so stability is checked too). Inputs are fed in random-size
 * morsels (sliced batches) from two workers at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_feed.h"

/* ---------------------------------------------------------------- model rows */

enum { C_ID, C_I64, C_F64, C_STR, C_DICT, C_I32, C_BOOL, C_DEC, C_TS, N_COLS };

typedef struct mrow {
    int64_t id;
    bool valid[N_COLS];
    int64_t i64, i32, dec, ts;
    double f64;
    bool b;
    char str[40];
    char dict[16];
} mrow;

static mrow *g_rows;
static int64_t g_n;

static void gen_rows(int64_t n, int64_t card) {
    g_rows = calloc((size_t)PL_MAX(n, 1), sizeof(mrow));
    g_n = n;
    static const char *pref[] = {"", "a", "ab", "abcdefghijkl", "abcdefghijklmnop", "zz", "abcdefghijkk"};
    for (int64_t i = 0; i < n; i++) {
        mrow *r = &g_rows[i];
        r->id = i;
        for (int c = 0; c < N_COLS; c++) r->valid[c] = c == C_ID || feed_rng() % 10 != 0;
        r->i64 = (int64_t)(feed_rng() % (uint64_t)card) - card / 2;
        if (feed_rng() % 50 == 0) r->i64 = feed_rng() % 2 ? INT64_MAX : INT64_MIN;
        r->i32 = (int64_t)(int32_t)(feed_rng() % (uint64_t)card) - card / 3;
        uint64_t f = feed_rng() % 20;
        r->f64 = f == 0 ? NAN : f == 1 ? -0.0 : f == 2 ? 0.0 : f == 3 ? INFINITY : f == 4 ? -INFINITY
                                                                : ((double)(int64_t)(feed_rng() % (uint64_t)card) - card / 2) / 4.0;
        r->b = feed_rng() % 2;
        r->dec = (int64_t)(feed_rng() % 2000) - 1000;
        r->ts = (int64_t)(feed_rng() % (uint64_t)card) * 1000000;
        snprintf(r->str, sizeof r->str, "%s%lld", pref[feed_rng() % 7], (long long)(feed_rng() % (uint64_t)card));
        if (feed_rng() % 30 == 0) r->str[0] = 0;
        snprintf(r->dict, sizeof r->dict, "d%lld", (long long)(feed_rng() % 7));
    }
}

static pl_type *col_type(int c) {
    pl_type *t = NULL;
    switch (c) {
    case C_ID: case C_I64: return pl_type_simple(PL_TYPE_INT64);
    case C_F64: return pl_type_simple(PL_TYPE_FLOAT64);
    case C_STR: return pl_type_simple(PL_TYPE_UTF8);
    case C_DICT: assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &t, NULL), PL_OK); return t;
    case C_I32: return pl_type_simple(PL_TYPE_INT32);
    case C_BOOL: return pl_type_simple(PL_TYPE_BOOL);
    case C_DEC: assert_int_equal(pl_type_new_decimal(20, 2, &t, NULL), PL_OK); return t;
    case C_TS: assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &t, NULL), PL_OK); return t;
    }
    return NULL;
}

static const char *col_names[N_COLS] = {"id", "i64", "f64", "str", "dict", "i32", "b", "dec", "ts"};

static pl_schema *make_schema(void) { return test_schema_of(N_COLS, col_names, col_type); }

/* Builds rows [lo, hi) as one batch (dictionary columns get their own dictionary). */
static pl_batch *build_batch(pl_schema *s, int64_t lo, int64_t hi) {
    pl_array *cols[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        pl_builder *b;
        assert_int_equal(pl_builder_new(s->fields[c].type, hi - lo, &b, NULL), PL_OK);
        for (int64_t i = lo; i < hi; i++) {
            mrow *r = &g_rows[i];
            if (!r->valid[c]) {
                assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
                continue;
            }
            pl_status st = PL_OK;
            switch (c) {
            case C_ID: st = pl_builder_append_i64(b, r->id, NULL); break;
            case C_I64: st = pl_builder_append_i64(b, r->i64, NULL); break;
            case C_I32: st = pl_builder_append_i64(b, r->i32, NULL); break;
            case C_TS: st = pl_builder_append_i64(b, r->ts, NULL); break;
            case C_F64: st = pl_builder_append_f64(b, r->f64, NULL); break;
            case C_BOOL: st = pl_builder_append_bool(b, r->b, NULL); break;
            case C_DEC: st = pl_builder_append_decimal(b, (uint64_t)r->dec, r->dec < 0 ? -1 : 0, NULL); break;
            case C_STR: st = pl_builder_append_bytes(b, r->str, (int64_t)strlen(r->str), NULL); break;
            case C_DICT: st = pl_builder_append_bytes(b, r->dict, (int64_t)strlen(r->dict), NULL); break;
            }
            assert_int_equal(st, PL_OK);
        }
        assert_int_equal(pl_builder_finish(b, &cols[c], NULL), PL_OK);
        pl_builder_free(b);
    }
    pl_batch *out;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), hi - lo, cols, &out, NULL), PL_OK);
    return out;
}

/* The whole input as one batch of several concatenated pieces (different dictionaries). */
static pl_batch *build_input(pl_schema *s) {
    pl_table *t;
    assert_int_equal(pl_table_new(s, &t, NULL), PL_OK);
    int64_t step = 70000;
    for (int64_t lo = 0; lo < g_n; lo += step) {
        pl_batch *b = build_batch(s, lo, PL_MIN(g_n, lo + step));
        assert_int_equal(pl_table_append(t, b, NULL), PL_OK);
        pl_batch_release(b);
    }
    pl_batch *all;
    if (g_n == 0) all = build_batch(s, 0, 0);
    else assert_int_equal(pl_table_combine(t, &all, NULL), PL_OK);
    pl_table_release(t);
    return all;
}

/* ---------------------------------------------------------------- model comparator */

static int g_nk;
static int g_keys[8];
static bool g_desc[8], g_nf[8];

static int cmp_val(const mrow *a, const mrow *b, int c) {
    switch (c) {
    case C_ID: return (a->id > b->id) - (a->id < b->id);
    case C_I64: return (a->i64 > b->i64) - (a->i64 < b->i64);
    case C_I32: return (a->i32 > b->i32) - (a->i32 < b->i32);
    case C_TS: return (a->ts > b->ts) - (a->ts < b->ts);
    case C_DEC: return (a->dec > b->dec) - (a->dec < b->dec);
    case C_BOOL: return (int)a->b - (int)b->b;
    case C_F64: {
        bool na = isnan(a->f64), nb = isnan(b->f64);
        if (na || nb) return (int)na - (int)nb;
        return (a->f64 > b->f64) - (a->f64 < b->f64);
    }
    case C_STR: { int r = strcmp(a->str, b->str); return (r > 0) - (r < 0); }
    case C_DICT: { int r = strcmp(a->dict, b->dict); return (r > 0) - (r < 0); }
    }
    return 0;
}

static int cmp_rows(const mrow *a, const mrow *b) {
    for (int k = 0; k < g_nk; k++) {
        int c = g_keys[k];
        bool va = a->valid[c], vb = b->valid[c];
        if (!va || !vb) {
            if (va == vb) continue;
            return (!va ? -1 : 1) * (g_nf[k] ? 1 : -1);
        }
        int r = cmp_val(a, b, c);
        if (r) return g_desc[k] ? -r : r;
    }
    return 0;
}

static void merge_sort(int64_t *idx, int64_t *tmp, int64_t n) {
    if (n < 2) return;
    int64_t h = n / 2;
    merge_sort(idx, tmp, h);
    merge_sort(idx + h, tmp, n - h);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = cmp_rows(&g_rows[idx[j]], &g_rows[idx[i]]) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[o++] = idx[i++];
    while (j < n) tmp[o++] = idx[j++];
    memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
}

static int64_t *model_order(void) {
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)PL_MAX(g_n, 1));
    int64_t *tmp = malloc(sizeof(int64_t) * (size_t)PL_MAX(g_n, 1));
    for (int64_t i = 0; i < g_n; i++) idx[i] = i;
    merge_sort(idx, tmp, g_n);
    free(tmp);
    return idx;
}

/* ---------------------------------------------------------------- running */

/* Sorts the input by the current keys with offset/limit; checks ids and the key values. */
static void run_case(pl_schema *s, pl_batch *in, int64_t offset, int64_t limit, int64_t morsel) {
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    int32_t cols[8];
    for (int k = 0; k < g_nk; k++) cols[k] = g_keys[k];
    pl_error err;
    assert_int_equal(pl_sort_sink_new(&ctx, s, g_nk, cols, g_desc, g_nf, offset, limit, &sink, &err), PL_OK);
    pl_table *t = NULL;
    pl_status st = feed_sink(sink, in, morsel, &t, &err);
    if (st) fail_msg("sort failed: %s", err.msg);
    sink->free(sink);
    int64_t *exp = model_order();
    int64_t lo = 0, hi = g_n;
    if (limit >= 0) {
        lo = PL_MIN(offset, g_n);
        hi = PL_MIN(g_n, offset + limit);
        if (hi < lo) hi = lo;
    }
    assert_int_equal(t->n_rows, hi - lo);
    assert_true(pl_schema_equals(t->schema, s));
    int64_t pos = lo;
    for (int64_t bi = 0; bi < t->n_batches; bi++) {
        pl_batch *b = t->batches[bi];
        assert_true(b->n_rows <= (1 << 20));
        const int64_t *ids = pl_array_values_ptr(b->columns[C_ID]);
        for (int64_t i = 0; i < b->n_rows; i++, pos++) {
            if (ids[i] != exp[pos]) {
                fail_msg("row %lld: id %lld, expected %lld (keys %d, first key %d)", (long long)pos,
                         (long long)ids[i], (long long)exp[pos], g_nk, g_keys[0]);
            }
        }
        /* the gathered key columns hold the values of the ids' rows */
        pl_array *sc = b->columns[C_STR];
        for (int64_t i = 0; i < b->n_rows; i += 97) {
            mrow *r = &g_rows[ids[i]];
            assert_int_equal(pl_array_is_valid(sc, i), r->valid[C_STR]);
            if (r->valid[C_STR]) {
                int32_t len;
                const uint8_t *p = pl_array_bytes(sc, i, &len);
                assert_int_equal(len, (int)strlen(r->str));
                assert_memory_equal(p, r->str, (size_t)len);
            }
        }
    }
    free(exp);
    pl_table_release(t);
}

static void set_keys(int nk, const int *keys, const bool *desc, const bool *nf) {
    g_nk = nk;
    for (int k = 0; k < nk; k++) {
        g_keys[k] = keys[k];
        g_desc[k] = desc[k];
        g_nf[k] = nf[k];
    }
}

static void test_single_keys(void **state) {
    (void)state;
    gen_rows(150000, 1000);
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    for (int c = 1; c < N_COLS; c++) {
        for (int v = 0; v < 4; v++) {
            bool d = v & 1, nf = v & 2;
            set_keys(1, &c, &d, &nf);
            run_case(s, in, 0, -1, 65536);
        }
    }
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

static void test_multi_keys(void **state) {
    (void)state;
    gen_rows(120000, 30);
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    for (int rep = 0; rep < 24; rep++) {
        int nk = 1 + (int)(feed_rng() % 4);
        int keys[4];
        bool d[4], nf[4];
        for (int k = 0; k < nk; k++) {
            keys[k] = 1 + (int)(feed_rng() % (N_COLS - 1));
            d[k] = feed_rng() % 2;
            nf[k] = feed_rng() % 2;
        }
        set_keys(nk, keys, d, nf);
        run_case(s, in, 0, -1, 1 + (int64_t)(feed_rng() % 70000));
    }
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

static void test_long_strings(void **state) {
    (void)state;
    /* low cardinality strings longer than the key prefix: ties resolved by full compare */
    gen_rows(100000, 50);
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    int keys[2] = {C_STR, C_I32};
    bool d[2] = {true, false}, nf[2] = {false, true};
    set_keys(2, keys, d, nf);
    run_case(s, in, 0, -1, 4000);
    d[0] = false;
    set_keys(2, keys, d, nf);
    run_case(s, in, 0, -1, 4000);
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

static void test_topn(void **state) {
    (void)state;
    gen_rows(200000, 5000);
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    int keys[2] = {C_I64, C_STR};
    bool d[2] = {false, true}, nf[2] = {false, false};
    set_keys(2, keys, d, nf);
    int64_t cases[][2] = {{0, 0}, {0, 1}, {0, 10}, {5, 10}, {100, 1000}, {0, 40000},
                          {0, 300000}, {199990, 100}, {250000, 5}, {30, 0}, {0, 200000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(s, in, cases[i][0], cases[i][1], 1 + (int64_t)(feed_rng() % 65536));
    /* ties everywhere: stability across compactions */
    int k1 = C_BOOL;
    bool d1 = false, nf1 = true;
    set_keys(1, &k1, &d1, &nf1);
    run_case(s, in, 7, 50000, 3000);
    run_case(s, in, 0, 100, 3000);
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

static void test_empty_and_small(void **state) {
    (void)state;
    pl_schema *s = make_schema();
    for (int64_t n = 0; n < 4; n++) {
        gen_rows(n, 10);
        pl_batch *in = build_input(s);
        int k = C_F64;
        bool d = true, nf = false;
        set_keys(1, &k, &d, &nf);
        run_case(s, in, 0, -1, 2);
        run_case(s, in, 1, 2, 2);
        set_keys(0, &k, &d, &nf);
        run_case(s, in, 0, -1, 2);
        pl_batch_release(in);
        free(g_rows);
    }
    pl_schema_release(s);
}

static void test_no_keys_keeps_order(void **state) {
    (void)state;
    gen_rows(100000, 10);
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    set_keys(0, NULL, NULL, NULL);
    run_case(s, in, 0, -1, 5000);
    run_case(s, in, 10, 20, 5000);
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

static void test_unsupported_key(void **state) {
    (void)state;
    pl_type *lt;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &lt, NULL), PL_OK);
    pl_field f;
    assert_int_equal(pl_field_init(&f, "l", lt, true, NULL), PL_OK);
    pl_schema *s;
    assert_int_equal(pl_schema_new(1, &f, &s, NULL), PL_OK);
    pl_field_reset(&f);
    pl_type_release(lt);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink = NULL;
    int32_t col = 0;
    bool d = false, nf = false;
    pl_error err;
    assert_int_equal(pl_sort_sink_new(&ctx, s, 1, &col, &d, &nf, 0, -1, &sink, &err), PL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "\"l\""));
    col = 3;
    assert_int_equal(pl_sort_sink_new(&ctx, s, 1, &col, &d, &nf, 0, -1, &sink, &err), PL_ERR_INVALID_ARG);
    pl_schema_release(s);
}


static void test_limits_and_nested_payload(void **state) {
    (void)state;
    /* a list column rides along; the memory limit and cancellation stop the sort */
    pl_type *lt;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT64), true, &lt, NULL), PL_OK);
    pl_field f[2];
    assert_int_equal(pl_field_init(&f[0], "k", pl_type_simple(PL_TYPE_INT64), true, NULL), PL_OK);
    assert_int_equal(pl_field_init(&f[1], "l", lt, true, NULL), PL_OK);
    pl_schema *s;
    assert_int_equal(pl_schema_new(2, f, &s, NULL), PL_OK);
    pl_field_reset(&f[0]);
    pl_field_reset(&f[1]);
    int64_t n = 5000;
    pl_builder *bk, *bl;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_INT64), n, &bk, NULL), PL_OK);
    assert_int_equal(pl_builder_new(lt, n, &bl, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = (i * 7919) % n;
        assert_int_equal(pl_builder_append_i64(bk, k, NULL), PL_OK);
        for (int64_t j = 0; j < k % 3; j++)
            assert_int_equal(pl_builder_append_i64(pl_builder_child(bl, 0), k * 10 + j, NULL), PL_OK);
        assert_int_equal(pl_builder_append_valid(bl, NULL), PL_OK);
    }
    pl_array *cols[2];
    assert_int_equal(pl_builder_finish(bk, &cols[0], NULL), PL_OK);
    assert_int_equal(pl_builder_finish(bl, &cols[1], NULL), PL_OK);
    pl_builder_free(bk);
    pl_builder_free(bl);
    pl_batch *in;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), n, cols, &in, NULL), PL_OK);
    int32_t key = 0;
    bool d = true, nf = false;
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    pl_error err;
    assert_int_equal(pl_sort_sink_new(&ctx, s, 1, &key, &d, &nf, 0, -1, &sink, &err), PL_OK);
    pl_table *t;
    if (feed_sink(sink, in, 700, &t, &err)) fail_msg("%s", err.msg);
    sink->free(sink);
    pl_batch *all;
    assert_int_equal(pl_table_combine(t, &all, NULL), PL_OK);
    const int64_t *kv = pl_array_values_ptr(all->columns[0]);
    pl_array *l = all->columns[1];
    const int32_t *lo = pl_array_offsets(l);
    const int64_t *items = pl_array_values_ptr(l->children[0]);
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(kv[i], n - 1 - i);
        assert_int_equal(lo[i + 1] - lo[i], kv[i] % 3);
        for (int32_t j = lo[i]; j < lo[i + 1]; j++) assert_int_equal(items[j], kv[i] * 10 + (j - lo[i]));
    }
    pl_batch_release(all);
    pl_table_release(t);
    /* memory limit */
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.n_threads = 2;
    o.memory_limit = 10000;
    pl_exec_ctx_init(&ctx, &o);
    assert_int_equal(pl_sort_sink_new(&ctx, s, 1, &key, &d, &nf, 0, -1, &sink, &err), PL_OK);
    pl_batch *sl;
    assert_int_equal(pl_batch_slice(in, 0, 4000, &sl, NULL), PL_OK);
    assert_int_equal(sink->consume(sink, &ctx, 0, 0, sl, &err), PL_ERR_NOMEM);
    assert_non_null(strstr(err.msg, "memory limit"));
    pl_batch_release(sl);
    sink->free(sink);
    assert_int_equal(ctx.mem_used, 0);
    /* cancellation */
    int cancel = 0;
    o.memory_limit = 0;
    o.cancel = &cancel;
    pl_exec_ctx_init(&ctx, &o);
    assert_int_equal(pl_sort_sink_new(&ctx, s, 1, &key, &d, &nf, 0, -1, &sink, &err), PL_OK);
    assert_int_equal(sink->consume(sink, &ctx, 0, 0, in, &err), PL_OK);
    assert_true(ctx.mem_used > 0);
    cancel = 1;
    pl_stream *st;
    assert_int_equal(sink->finish(sink, &ctx, &st, &err), PL_ERR_CANCELLED);
    sink->free(sink);
    assert_int_equal(ctx.mem_used, 0);
    pl_batch_release(in);
    pl_schema_release(s);
    pl_type_release(lt);
}


static void test_skewed_parallel(void **state) {
    (void)state;
    /* one leading-key value holds 90% of the rows: the big bucket is split in parallel again */
    gen_rows(320000, 100000);
    for (int64_t i = 0; i < g_n; i++) {
        g_rows[i].b = feed_rng() % 10 != 0;
        g_rows[i].valid[C_BOOL] = true;
    }
    pl_schema *s = make_schema();
    pl_batch *in = build_input(s);
    int keys[3] = {C_BOOL, C_I64, C_STR};
    bool d[3] = {true, false, false}, nf[3] = {false, true, false};
    set_keys(3, keys, d, nf);
    run_case(s, in, 0, -1, 65536);
    pl_batch_release(in);
    pl_schema_release(s);
    free(g_rows);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_keys),      cmocka_unit_test(test_multi_keys),
        cmocka_unit_test(test_long_strings),     cmocka_unit_test(test_topn),
        cmocka_unit_test(test_empty_and_small),  cmocka_unit_test(test_no_keys_keeps_order),
        cmocka_unit_test(test_unsupported_key),  cmocka_unit_test(test_limits_and_nested_payload),
        cmocka_unit_test(test_skewed_parallel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
