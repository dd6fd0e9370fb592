/* test_agg_local.c - the aggregation sink's morsel pre-grouping (src/exec/agg/sink.c
 * consume_local: one 8-byte key, streaming aggregates; also the INT64 key that pack.c makes of
 * two integer keys) against a plain model: keys that repeat within morsels (time-ordered
 * bars: a "symbol" and a "minute"), keys that never repeat (too many groups: the usual path),
 * NULL keys (not pre-grouped), worker tables that split (and, packed, shared partition tables),
 * NULLs and NaN in values, ties in arg_min/arg_max (the first row wins), first/last with NULLs,
 * and an INT64 sum that overflows. Morsels of random sizes from two workers at once. */
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
#include "../common/test_util.h"

enum { C_K1, C_K2, C_K, C_X, C_F, C_T, N_COLS };
static const char *k_names[N_COLS] = {"k1", "k2", "k", "x", "f", "t"};

typedef struct row {
    int64_t k1, k2, k, x, t;
    double f;
    bool kv, xv, fv, tv;
} row;

static row *g_rows;
static int64_t g_n;

/* key modes */
enum { KM_BARS, KM_UNIQUE, KM_BARS_NULLS };

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { return test_xorshift(&rng_state); }

static void make_rows(int64_t n, int mode) {
    g_n = n;
    g_rows = calloc((size_t)n, sizeof(row));
    for (int64_t i = 0; i < n; i++) {
        row *r = &g_rows[i];
        r->k1 = (int64_t)(rnd() % 50);
        /* a "minute" every 2000 rows; spread so that the packed key is no small range */
        r->k2 = 27000000 + (i / 2000) * 99991;
        r->k = mode == KM_UNIQUE ? i * 1000003 : r->k1 + r->k2 * 1000003;
        r->kv = !(mode == KM_BARS_NULLS && rnd() % 100 == 0);
        r->xv = rnd() % 20 != 0;
        r->x = (int64_t)(rnd() % 2001) - 1000;
        uint64_t u = rnd() % 100;
        r->fv = u != 0;
        r->f = u == 1 ? NAN : (double)((int64_t)(rnd() % 1001) - 500) * 0.5;
        r->tv = rnd() % 25 != 0;
        r->t = (int64_t)(rnd() % 5); /* many ties */
    }
}

static pl_batch *rows_batch(void) {
    pl_error err;
    pl_array *cols[N_COLS];
    pl_field f[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        bool dbl = c == C_F;
        pl_builder *b;
        assert_int_equal(pl_builder_new(pl_type_simple(dbl ? PL_TYPE_FLOAT64 : PL_TYPE_INT64), g_n, &b, &err),
                         PL_OK);
        for (int64_t i = 0; i < g_n; i++) {
            row *r = &g_rows[i];
            bool v = c == C_K ? r->kv : c == C_X ? r->xv : c == C_F ? r->fv : c == C_T ? r->tv : true;
            int64_t iv = c == C_K1 ? r->k1 : c == C_K2 ? r->k2 : c == C_K ? r->k : c == C_X ? r->x : r->t;
            if (!v) assert_int_equal(pl_builder_append_null(b, &err), PL_OK);
            else if (dbl) assert_int_equal(pl_builder_append_f64(b, r->f, &err), PL_OK);
            else assert_int_equal(pl_builder_append_i64(b, iv, &err), PL_OK);
        }
        assert_int_equal(pl_builder_finish(b, &cols[c], &err), PL_OK);
        pl_builder_free(b);
        assert_int_equal(pl_field_init(&f[c], k_names[c], cols[c]->type, true, &err), PL_OK);
    }
    pl_schema *s;
    assert_int_equal(pl_schema_new(N_COLS, f, &s, &err), PL_OK);
    for (int c = 0; c < N_COLS; c++) pl_field_reset(&f[c]);
    pl_batch *b;
    assert_int_equal(pl_batch_new(s, g_n, cols, &b, &err), PL_OK);
    return b;
}

enum { A_CSTAR, A_CNT, A_SUM, A_MIN, A_MAX, A_SUMF, A_MINF, A_MAXF, A_ARGMIN, A_ARGMAX, A_FIRST,
       A_LAST, A_AVGF, N_A };

#define SPEC(nm, col) ((pl_agg_spec){.name = nm, .n_args = (col) >= 0 ? 1 : 0, .args = {col, -1, -1, -1}, .filter_col = -1})

/* Runs the sink over the rows (keys: k, or k1 and k2) in morsels of up to max_rows rows. */
static pl_status run(bool two_keys, int64_t max_rows, pl_table **out, pl_error *err) {
    pl_batch *b = rows_batch();
    pl_agg_spec sp[N_A];
    sp[A_CSTAR] = SPEC("count_star", -1);
    sp[A_CNT] = SPEC("count", C_X);
    sp[A_SUM] = SPEC("sum", C_X);
    sp[A_MIN] = SPEC("min", C_X);
    sp[A_MAX] = SPEC("max", C_X);
    sp[A_SUMF] = SPEC("sum", C_F);
    sp[A_MINF] = SPEC("min", C_F);
    sp[A_MAXF] = SPEC("max", C_F);
    sp[A_ARGMIN] = SPEC("arg_min", C_X);
    sp[A_ARGMIN].n_args = 2;
    sp[A_ARGMIN].args[1] = C_T;
    sp[A_ARGMAX] = SPEC("arg_max", C_X);
    sp[A_ARGMAX].n_args = 2;
    sp[A_ARGMAX].args[1] = C_T;
    sp[A_FIRST] = SPEC("first", C_X);
    sp[A_LAST] = SPEC("last", C_X);
    sp[A_AVGF] = SPEC("avg", C_F);
    int32_t keys2[2] = {C_K1, C_K2}, keys1[1] = {C_K};
    int32_t nk = two_keys ? 2 : 1;
    const int32_t *keys = two_keys ? keys2 : keys1;
    pl_schema *in = b->schema;
    pl_field f[2 + N_A];
    pl_type *types[N_A];
    for (int32_t c = 0; c < nk; c++)
        assert_int_equal(pl_field_init(&f[c], in->fields[keys[c]].name, in->fields[keys[c]].type, true, err), PL_OK);
    for (int32_t i = 0; i < N_A; i++) {
        pl_type *at[2];
        const pl_value *cp[2] = {0};
        for (int32_t a = 0; a < sp[i].n_args; a++) at[a] = in->fields[sp[i].args[a]].type;
        assert_int_equal(pl_agg_bind(sp[i].name, sp[i].n_args, at, cp, false, &types[i], err), PL_OK);
        sp[i].result_type = types[i];
        char nm[16];
        snprintf(nm, sizeof nm, "a%d", i);
        assert_int_equal(pl_field_init(&f[nk + i], nm, types[i], true, err), PL_OK);
    }
    pl_schema *os;
    assert_int_equal(pl_schema_new(nk + N_A, f, &os, err), PL_OK);
    for (int32_t c = 0; c < nk + N_A; c++) pl_field_reset(&f[c]);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    pl_status st = pl_agg_sink_new(&ctx, in, nk, keys, N_A, sp, os, &sink, err);
    for (int32_t i = 0; i < N_A; i++) pl_type_release(types[i]);
    pl_schema_release(os);
    if (!st) st = feed_sink(sink, b, max_rows, out, err);
    pl_sink_free(sink);
    pl_batch_release(b);
    return st;
}

static int64_t cell_i64(pl_array *a, int64_t i) { return ((const int64_t *)pl_array_values_ptr(a))[i]; }
static double cell_f64(pl_array *a, int64_t i) { return ((const double *)pl_array_values_ptr(a))[i]; }

typedef struct grp {
    bool used;
    int64_t key_row; /* first row */
    int64_t n, cnt, sum, mn, mx, nf, n_nan, argmin, argmax, last;
    double sf, mnf, mxf;
} grp;

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The model's group of row i (keys as one value: k, or k1 + k2 * 1000003; NULL key -> -1). */
static int64_t row_key(const row *r, bool two_keys) {
    if (two_keys) return r->k1 + r->k2 * 1000003;
    return r->kv ? r->k : -1;
}

static void check(bool two_keys, int64_t max_rows, int mode) {
    pl_error err;
    pl_table *t = NULL;
    assert_int_equal(run(two_keys, max_rows, &t, &err), PL_OK);
    /* distinct keys of the model, sorted; groups indexed by position */
    int64_t *ks = malloc(sizeof(int64_t) * (size_t)g_n);
    for (int64_t i = 0; i < g_n; i++) ks[i] = row_key(&g_rows[i], two_keys);
    qsort(ks, (size_t)g_n, sizeof *ks, cmp_i64);
    int64_t nd = 0;
    for (int64_t i = 0; i < g_n; i++)
        if (i == 0 || ks[i] != ks[i - 1]) ks[nd++] = ks[i];
    grp *g = calloc((size_t)nd, sizeof(grp));
    for (int64_t i = 0; i < g_n; i++) {
        row *r = &g_rows[i];
        int64_t key = row_key(r, two_keys);
        int64_t *p = bsearch(&key, ks, (size_t)nd, sizeof *ks, cmp_i64);
        grp *q = &g[p - ks];
        if (!q->used) {
            q->used = true;
            q->key_row = i;
            q->mn = INT64_MAX;
            q->mx = INT64_MIN;
            q->argmin = q->argmax = -1;
            q->mnf = NAN;
            q->mxf = NAN;
        }
        q->n++;
        q->last = i;
        if (r->xv) {
            q->cnt++;
            q->sum += r->x;
            if (r->x < q->mn) q->mn = r->x;
            if (r->x > q->mx) q->mx = r->x;
        }
        if (r->fv) {
            q->nf++;
            q->sf += r->f;
            if (isnan(r->f)) q->n_nan++;
            else {
                if (isnan(q->mnf) || r->f < q->mnf) q->mnf = r->f;
                if (isnan(q->mxf) || r->f > q->mxf) q->mxf = r->f;
            }
        }
        if (r->xv && r->tv) {
            if (q->argmin < 0 || r->t < g_rows[q->argmin].t) q->argmin = i;
            if (q->argmax < 0 || r->t > g_rows[q->argmax].t) q->argmax = i;
        }
    }
    assert_int_equal(t->n_rows, nd);
    int32_t nk = two_keys ? 2 : 1;
    int64_t seen = 0;
    for (int64_t bi = 0; bi < t->n_batches; bi++) {
        pl_batch *b = t->batches[bi];
        for (int64_t i = 0; i < b->n_rows; i++) {
            int64_t key;
            if (two_keys) key = cell_i64(b->columns[0], i) + cell_i64(b->columns[1], i) * 1000003;
            else key = pl_array_is_valid(b->columns[0], i) ? cell_i64(b->columns[0], i) : -1;
            int64_t *p = bsearch(&key, ks, (size_t)nd, sizeof *ks, cmp_i64);
            assert_non_null(p);
            grp *q = &g[p - ks];
            assert_true(q->used);
            q->used = false; /* each group once */
            seen++;
            pl_array **c = b->columns + nk;
            assert_int_equal(cell_i64(c[A_CSTAR], i), q->n);
            assert_int_equal(cell_i64(c[A_CNT], i), q->cnt);
            assert_int_equal(pl_array_is_valid(c[A_SUM], i), q->cnt > 0);
            if (q->cnt) {
                assert_int_equal(cell_i64(c[A_SUM], i), q->sum);
                assert_int_equal(cell_i64(c[A_MIN], i), q->mn);
                assert_int_equal(cell_i64(c[A_MAX], i), q->mx);
            }
            assert_int_equal(pl_array_is_valid(c[A_SUMF], i), q->nf > 0);
            if (q->nf) {
                double sf = cell_f64(c[A_SUMF], i), av = cell_f64(c[A_AVGF], i);
                if (q->n_nan) {
                    assert_true(isnan(sf) && isnan(av));
                    assert_true(isnan(cell_f64(c[A_MAXF], i))); /* NaN is the largest */
                } else {
                    assert_true(sf == q->sf); /* halves: exact in any order */
                    assert_true(fabs(av - q->sf / (double)q->nf) <= 1e-9 * (1 + fabs(av)));
                    assert_true(cell_f64(c[A_MAXF], i) == q->mxf);
                }
                double mnf = cell_f64(c[A_MINF], i);
                if (q->n_nan == q->nf) assert_true(isnan(mnf));
                else assert_true(mnf == q->mnf);
            }
            assert_int_equal(pl_array_is_valid(c[A_ARGMIN], i), q->argmin >= 0);
            if (q->argmin >= 0) {
                assert_int_equal(cell_i64(c[A_ARGMIN], i), g_rows[q->argmin].x);
                assert_int_equal(cell_i64(c[A_ARGMAX], i), g_rows[q->argmax].x);
            }
            row *fr = &g_rows[q->key_row], *lr = &g_rows[q->last];
            assert_int_equal(pl_array_is_valid(c[A_FIRST], i), fr->xv);
            if (fr->xv) assert_int_equal(cell_i64(c[A_FIRST], i), fr->x);
            assert_int_equal(pl_array_is_valid(c[A_LAST], i), lr->xv);
            if (lr->xv) assert_int_equal(cell_i64(c[A_LAST], i), lr->x);
        }
    }
    assert_int_equal(seen, nd);
    PL_UNUSED(mode);
    free(g);
    free(ks);
    pl_table_release(t);
}

static void test_bars_one_key(void **state) {
    (void)state;
    make_rows(300000, KM_BARS);
    check(false, PL_MORSEL_ROWS, KM_BARS);
    check(false, 9000, KM_BARS);
    int64_t before = pl_agg_set_split_groups(1 << 10); /* worker tables split */
    check(false, PL_MORSEL_ROWS, KM_BARS);
    pl_agg_set_split_groups(before);
    free(g_rows);
}

static void test_bars_two_keys_packed(void **state) {
    (void)state;
    make_rows(300000, KM_BARS);
    check(true, PL_MORSEL_ROWS, KM_BARS);
    int64_t before = pl_agg_set_split_groups(1 << 10); /* shared partition tables */
    check(true, PL_MORSEL_ROWS, KM_BARS);
    check(true, 5000, KM_BARS);
    pl_agg_set_split_groups(before);
    free(g_rows);
}

static void test_unique_keys(void **state) {
    (void)state;
    make_rows(200000, KM_UNIQUE); /* every morsel has too many groups */
    check(false, PL_MORSEL_ROWS, KM_UNIQUE);
    int64_t before = pl_agg_set_split_groups(1 << 12);
    check(false, PL_MORSEL_ROWS, KM_UNIQUE);
    pl_agg_set_split_groups(before);
    free(g_rows);
}

static void test_null_keys(void **state) {
    (void)state;
    make_rows(200000, KM_BARS_NULLS); /* morsels with a NULL key are not pre-grouped */
    check(false, PL_MORSEL_ROWS, KM_BARS_NULLS);
    free(g_rows);
}

static void test_sum_overflow(void **state) {
    (void)state;
    make_rows(100000, KM_BARS);
    for (int64_t i = 0; i < 3; i++) {
        g_rows[5000 + i].xv = true;
        g_rows[5000 + i].x = INT64_MAX / 2;
        g_rows[5000 + i].k = g_rows[5000].k;
        g_rows[5000 + i].kv = true;
    }
    pl_error err;
    pl_table *t = NULL;
    pl_status st = run(false, PL_MORSEL_ROWS, &t, &err);
    assert_int_equal(st, PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "overflow"));
    pl_table_release(t);
    free(g_rows);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bars_one_key),  cmocka_unit_test(test_bars_two_keys_packed),
        cmocka_unit_test(test_unique_keys),   cmocka_unit_test(test_null_keys),
        cmocka_unit_test(test_sum_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
