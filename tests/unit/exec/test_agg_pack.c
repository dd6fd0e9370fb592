/* test_agg_pack.c - GROUP BY several keys packed into one word (src/exec/agg/pack.c) against a
 * model: rows kept as C values, grouped by sorting row numbers by their key tuple, aggregates
 * recomputed by loops. Keys: a dictionary column (its own dictionary per batch), a plain
 * string, an int64 and an int32 key, all with NULLs; values far outside the layout chosen
 * from the first morsel (the overflow into the plain sink); dictionaries that grow beyond
 * their bits; ranges at the edge of the layout; many groups (split tables, partitioned merge);
 * ties in arg_min/arg_max (the earliest row wins) and first/last; packing on and off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg/agg_int.h"
#include "sink_feed.h"

/* ---------------------------------------------------------------- model rows */

enum { C_DK, C_KS, C_K, C_K3, C_X, C_F, C_S, N_COLS };
static const char *k_names[N_COLS] = {"dk", "ks", "k", "k3", "x", "f", "s"};

typedef struct mrow {
    bool valid[N_COLS];
    char dk[32], ks[32], s[32];
    int64_t k, x;
    int32_t k3;
    double f;
} mrow;

static mrow *g_rows;
static int64_t g_n;
static pl_type *g_dict_type;

/* n rows; card: distinct values per key; far_pct: share of the rows after the first half whose
 * int64 key is far outside the first rows' range; dk_card: distinct dictionary values */
static void gen_rows(int64_t n, int64_t card, int null_pct, int far_pct, int64_t dk_card) {
    free(g_rows);
    g_rows = calloc((size_t)PL_MAX(n, 1), sizeof(mrow));
    g_n = n;
    for (int64_t i = 0; i < n; i++) {
        mrow *r = &g_rows[i];
        for (int c = 0; c < N_COLS; c++)
            r->valid[c] = null_pct == 0 || (int)(feed_rng() % 100) >= null_pct;
        snprintf(r->dk, sizeof r->dk, "d%lld", (long long)(feed_rng() % (uint64_t)dk_card));
        snprintf(r->ks, sizeof r->ks, "s%lld", (long long)(feed_rng() % (uint64_t)card));
        r->k = (int64_t)(feed_rng() % (uint64_t)card) * 1000 - 50000;
        if (i >= n / 2 && (int)(feed_rng() % 100) < far_pct) {
            switch (feed_rng() % 4) {
            case 0: r->k = INT64_MAX - (int64_t)(feed_rng() % 3); break;
            case 1: r->k = INT64_MIN + (int64_t)(feed_rng() % 3); break;
            case 2: r->k = (int64_t)3e18 + r->k; break;
            default: r->k = -(int64_t)3e18 + r->k; break;
            }
        }
        r->k3 = (int32_t)(feed_rng() % 7) - 3;
        r->x = (int64_t)(feed_rng() % 2001) - 1000;
        r->f = (double)(feed_rng() % 5); /* few values: ties */
        snprintf(r->s, sizeof r->s, "v%d", (int)(feed_rng() % 50));
    }
}

static pl_type *col_type(int c) {
    switch (c) {
    case C_DK: return g_dict_type;
    case C_K:
    case C_X: return pl_type_simple(PL_TYPE_INT64);
    case C_K3: return pl_type_simple(PL_TYPE_INT32);
    case C_F: return pl_type_simple(PL_TYPE_FLOAT64);
    default: return pl_type_simple(PL_TYPE_UTF8);
    }
}

/* rows [a, b); the dictionary column gets its own dictionary seeded in a salted order */
static pl_batch *make_batch(int64_t a, int64_t b, int salt, int64_t dk_card) {
    pl_error err;
    pl_field f[N_COLS];
    for (int c = 0; c < N_COLS; c++)
        assert_int_equal(pl_field_init(&f[c], k_names[c], col_type(c), true, &err), PL_OK);
    pl_schema *schema;
    assert_int_equal(pl_schema_new(N_COLS, f, &schema, &err), PL_OK);
    for (int c = 0; c < N_COLS; c++) pl_field_reset(&f[c]);
    pl_array *cols[N_COLS];
    int64_t seeds = PL_MIN(dk_card, 30);
    for (int c = 0; c < N_COLS; c++) {
        pl_builder *bl;
        assert_int_equal(pl_builder_new(col_type(c), b - a, &bl, &err), PL_OK);
        if (c == C_DK)
            for (int64_t j = 0; j < seeds; j++) {
                char v[32];
                snprintf(v, sizeof v, "d%lld", (long long)((j * 7 + salt * 3) % dk_card));
                assert_int_equal(pl_builder_append_bytes(bl, v, (int64_t)strlen(v), &err), PL_OK);
            }
        for (int64_t i = a; i < b; i++) {
            mrow *r = &g_rows[i];
            pl_status st;
            if (!r->valid[c]) st = pl_builder_append_null(bl, &err);
            else switch (c) {
                case C_DK: st = pl_builder_append_bytes(bl, r->dk, (int64_t)strlen(r->dk), &err); break;
                case C_KS: st = pl_builder_append_bytes(bl, r->ks, (int64_t)strlen(r->ks), &err); break;
                case C_S: st = pl_builder_append_bytes(bl, r->s, (int64_t)strlen(r->s), &err); break;
                case C_K: st = pl_builder_append_i64(bl, r->k, &err); break;
                case C_K3: st = pl_builder_append_i64(bl, r->k3, &err); break;
                case C_X: st = pl_builder_append_i64(bl, r->x, &err); break;
                default: st = pl_builder_append_f64(bl, r->f, &err); break;
                }
            assert_int_equal(st, PL_OK);
        }
        pl_array *full;
        assert_int_equal(pl_builder_finish(bl, &full, &err), PL_OK);
        pl_builder_free(bl);
        if (c == C_DK) {
            assert_int_equal(pl_array_slice(full, seeds, b - a, &cols[c], &err), PL_OK);
            pl_array_release(full);
        } else {
            cols[c] = full;
        }
    }
    pl_batch *out;
    assert_int_equal(pl_batch_new(schema, b - a, cols, &out, &err), PL_OK);
    return out;
}

/* ---------------------------------------------------------------- running the sink */

static pl_agg_spec SPEC(const char *name, int32_t a0, int32_t a1) {
    pl_agg_spec s;
    memset(&s, 0, sizeof s);
    s.name = name;
    s.n_args = a0 < 0 ? 0 : a1 < 0 ? 1 : 2;
    s.args[0] = a0;
    s.args[1] = a1;
    s.args[2] = s.args[3] = -1;
    s.filter_col = -1;
    return s;
}

enum { A_CSTAR, A_SUM, A_FIRST, A_LAST, A_ARGMIN, A_ARGMAX, A_MAXS, N_A };

static void make_specs(pl_agg_spec *sp) {
    sp[A_CSTAR] = SPEC("count", -1, -1);
    sp[A_SUM] = SPEC("sum", C_K3, -1);
    sp[A_FIRST] = SPEC("first", C_X, -1);
    sp[A_LAST] = SPEC("last", C_S, -1);
    sp[A_ARGMIN] = SPEC("arg_min", C_X, C_F);
    sp[A_ARGMAX] = SPEC("arg_max", C_S, C_F);
    sp[A_MAXS] = SPEC("max", C_S, -1);
}

/* Aggregates batches (cut into morsels of 1..max_rows rows, fed by two workers; max_rows 0:
 * each batch one morsel, in order, from one thread) by keys. */
static pl_batch *run_agg(int64_t n_batches, pl_batch **batches, int32_t n_keys,
                         const int32_t *keys, int64_t max_rows) {
    pl_error err;
    pl_schema *in = batches[0]->schema;
    pl_agg_spec sp[N_A];
    make_specs(sp);
    pl_field f[8 + N_A];
    pl_type *types[N_A];
    for (int32_t c = 0; c < n_keys; c++)
        assert_int_equal(pl_field_init(&f[c], in->fields[keys[c]].name, in->fields[keys[c]].type,
                                       true, &err), PL_OK);
    for (int32_t i = 0; i < N_A; i++) {
        pl_type *at[2];
        for (int32_t a = 0; a < sp[i].n_args; a++) at[a] = in->fields[sp[i].args[a]].type;
        assert_int_equal(pl_agg_bind(sp[i].name, sp[i].n_args, at, NULL, false, &types[i], &err),
                         PL_OK);
        sp[i].result_type = types[i];
        char nm[16];
        snprintf(nm, sizeof nm, "a%d", i);
        assert_int_equal(pl_field_init(&f[n_keys + i], nm, types[i], true, &err), PL_OK);
    }
    pl_schema *os;
    assert_int_equal(pl_schema_new(n_keys + N_A, f, &os, &err), PL_OK);
    for (int32_t c = 0; c < n_keys + N_A; c++) pl_field_reset(&f[c]);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    assert_int_equal(pl_agg_sink_new(&ctx, in, n_keys, keys, N_A, sp, os, &sink, &err), PL_OK);
    for (int32_t i = 0; i < N_A; i++) pl_type_release(types[i]);
    pl_schema_release(os);
    for (int64_t bi = 0; bi < n_batches && !max_rows; bi++)
        assert_int_equal(sink->consume(sink, &ctx, (int32_t)(bi % 2), bi, batches[bi], &err), PL_OK);
    int64_t n = 0;
    pl_batch **m = cut_morsels(batches, max_rows ? n_batches : 0, max_rows, &n);
    assert_int_equal(feed_morsels(sink, &ctx, m, n, &err), PL_OK);
    pl_stream *s;
    assert_int_equal(sink->finish(sink, &ctx, &s, &err), PL_OK);
    pl_table *t;
    assert_int_equal(pl_stream_collect(s, &t, &err), PL_OK);
    pl_stream_free(s);
    pl_batch *out;
    assert_int_equal(pl_table_combine(t, &out, &err), PL_OK);
    pl_table_release(t);
    sink->free(sink);
    assert_int_equal(ctx.mem_used, 0);
    return out;
}

/* ---------------------------------------------------------------- the model */

static int32_t g_keys[4];
static int32_t g_nk;

static int cmp_col(const mrow *a, const mrow *b, int c) {
    if (a->valid[c] != b->valid[c]) return a->valid[c] ? 1 : -1;
    if (!a->valid[c]) return 0;
    switch (c) {
    case C_DK: return strcmp(a->dk, b->dk);
    case C_KS: return strcmp(a->ks, b->ks);
    case C_K: return a->k < b->k ? -1 : a->k > b->k;
    case C_X: return a->x < b->x ? -1 : a->x > b->x;
    default: return a->k3 < b->k3 ? -1 : a->k3 > b->k3;
    }
}

static int cmp_tuple(const mrow *a, const mrow *b) {
    for (int32_t i = 0; i < g_nk; i++) {
        int r = cmp_col(a, b, g_keys[i]);
        if (r) return r;
    }
    return 0;
}

static int cmp_rows(const void *x, const void *y) {
    int64_t i = *(const int64_t *)x, j = *(const int64_t *)y;
    int r = cmp_tuple(&g_rows[i], &g_rows[j]);
    return r ? r : (i > j) - (i < j); /* stable: input order within a group */
}

static mrow *g_out; /* the output's key tuples */
static int cmp_out(const void *x, const void *y) {
    return cmp_tuple(&g_out[*(const int64_t *)x], &g_out[*(const int64_t *)y]);
}

static void out_str(pl_array *a, int64_t i, char *buf) {
    int32_t len;
    const uint8_t *p = pl_array_bytes(a, i, &len);
    memcpy(buf, p, (size_t)len);
    buf[len] = 0;
}

static void check(pl_batch *out, int32_t nk, const int32_t *keys) {
    pl_error err;
    g_nk = nk;
    memcpy(g_keys, keys, sizeof(int32_t) * (size_t)nk);
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)PL_MAX(g_n, 1));
    for (int64_t i = 0; i < g_n; i++) rows[i] = i;
    qsort(rows, (size_t)g_n, sizeof(int64_t), cmp_rows);
    int64_t no = out->n_rows;
    g_out = calloc((size_t)PL_MAX(no, 1), sizeof(mrow));
    pl_array *dec[4] = {0};
    for (int32_t c = 0; c < nk; c++) {
        pl_array *a = out->columns[c];
        assert_int_equal(pl_array_decode_dictionary(a, &dec[c], &err), PL_OK);
    }
    for (int64_t i = 0; i < no; i++) {
        for (int32_t c = 0; c < nk; c++) {
            pl_array *a = dec[c];
            int kc = keys[c];
            mrow *r = &g_out[i];
            r->valid[kc] = pl_array_is_valid(a, i);
            if (!r->valid[kc]) continue;
            switch (kc) {
            case C_DK: out_str(a, i, r->dk); break;
            case C_KS: out_str(a, i, r->ks); break;
            case C_K: r->k = ((const int64_t *)pl_array_values_ptr(a))[i]; break;
            case C_X: r->x = ((const int64_t *)pl_array_values_ptr(a))[i]; break;
            default: r->k3 = ((const int32_t *)pl_array_values_ptr(a))[i]; break;
            }
        }
    }
    for (int32_t c = 0; c < nk; c++) pl_array_release(dec[c]);
    int64_t *orows = malloc(sizeof(int64_t) * (size_t)PL_MAX(no, 1));
    for (int64_t i = 0; i < no; i++) orows[i] = i;
    qsort(orows, (size_t)no, sizeof(int64_t), cmp_out);
    pl_array **ac = out->columns + nk;
    int64_t gi = 0;
    char buf[32];
    for (int64_t a = 0; a < g_n;) {
        int64_t b = a + 1;
        while (b < g_n && cmp_tuple(&g_rows[rows[a]], &g_rows[rows[b]]) == 0) b++;
        assert_true(gi < no);
        int64_t o = orows[gi++];
        assert_int_equal(cmp_tuple(&g_out[o], &g_rows[rows[a]]), 0);
        int64_t sum = 0, nsum = 0, amin = -1, amax = -1;
        for (int64_t q = a; q < b; q++) {
            mrow *r = &g_rows[rows[q]];
            if (r->valid[C_K3]) sum += r->k3, nsum++;
            if (r->valid[C_X] && r->valid[C_F] && (amin < 0 || r->f < g_rows[amin].f)) amin = rows[q];
            if (r->valid[C_S] && r->valid[C_F] && (amax < 0 || r->f > g_rows[amax].f)) amax = rows[q];
        }
        assert_int_equal(((const int64_t *)pl_array_values_ptr(ac[A_CSTAR]))[o], b - a);
        assert_int_equal(pl_array_is_valid(ac[A_SUM], o), nsum > 0);
        if (nsum) assert_int_equal(((const int64_t *)pl_array_values_ptr(ac[A_SUM]))[o], sum);
        mrow *fr = &g_rows[rows[a]], *lr = &g_rows[rows[b - 1]];
        assert_int_equal(pl_array_is_valid(ac[A_FIRST], o), fr->valid[C_X]);
        if (fr->valid[C_X])
            assert_int_equal(((const int64_t *)pl_array_values_ptr(ac[A_FIRST]))[o], fr->x);
        assert_int_equal(pl_array_is_valid(ac[A_LAST], o), lr->valid[C_S]);
        if (lr->valid[C_S]) {
            out_str(ac[A_LAST], o, buf);
            assert_string_equal(buf, lr->s);
        }
        assert_int_equal(pl_array_is_valid(ac[A_ARGMIN], o), amin >= 0);
        if (amin >= 0)
            assert_int_equal(((const int64_t *)pl_array_values_ptr(ac[A_ARGMIN]))[o], g_rows[amin].x);
        assert_int_equal(pl_array_is_valid(ac[A_ARGMAX], o), amax >= 0);
        if (amax >= 0) {
            out_str(ac[A_ARGMAX], o, buf);
            assert_string_equal(buf, g_rows[amax].s);
        }
        a = b;
    }
    assert_int_equal(gi, no); /* every output group matched once */
    free(orows);
    free(g_out);
    free(rows);
}

static void run_check(int64_t n, int64_t card, int null_pct, int far_pct, int64_t dk_card,
                      int32_t nk, const int32_t *keys, int64_t max_rows) {
    gen_rows(n, card, null_pct, far_pct, dk_card);
    pl_batch *bs[4];
    for (int i = 0; i < 4; i++) bs[i] = make_batch(n * i / 4, n * (i + 1) / 4, i, dk_card);
    pl_batch *out = run_agg(4, bs, nk, keys, max_rows);
    check(out, nk, keys);
    pl_batch_release(out);
    for (int i = 0; i < 4; i++) pl_batch_release(bs[i]);
}

/* ---------------------------------------------------------------- tests */

static void test_four_keys(void **state) {
    (void)state;
    int32_t keys[4] = {C_DK, C_KS, C_K, C_K3};
    run_check(60000, 40, 5, 0, 12, 4, keys, 5000);
    run_check(60000, 40, 0, 0, 12, 4, keys, 70000); /* no NULLs */
    int32_t keys2[3] = {C_K3, C_KS, C_DK};
    run_check(30000, 200, 10, 0, 25, 3, keys2, 3000);
}

static void test_overflow_to_plain(void **state) {
    (void)state;
    int32_t keys[4] = {C_DK, C_KS, C_K, C_K3};
    run_check(80000, 50, 5, 20, 12, 4, keys, 10000); /* int64 keys far outside the layout */
    run_check(40000, 50, 5, 20, 12, 4, keys, 7);     /* tiny first morsels: poor estimates */
    /* a dictionary key whose later dictionaries hold many more values than the first */
    int32_t keys2[2] = {C_DK, C_K};
    run_check(40000, 30, 5, 0, 3000, 2, keys2, 2000);
}

static void test_many_groups(void **state) {
    (void)state;
    int32_t keys[3] = {C_KS, C_K, C_K3}; /* > 64k groups: split tables, partitioned merge */
    run_check(300000, 100000, 3, 0, 10, 3, keys, PL_MORSEL_ROWS);
    int64_t before = pl_agg_set_split_groups(1 << 15); /* shared partition tables */
    run_check(300000, 100000, 3, 0, 10, 3, keys, PL_MORSEL_ROWS);
    run_check(300000, 100000, 3, 10, 10, 3, keys, PL_MORSEL_ROWS);
    pl_agg_set_split_groups(before);
}

/* The two-pass probe of one INT64 key (table.c probe_fixed8_2pass: the packed key in split
 * partition tables, a plain int64 key in one table) with weak tags: 0 and 3 tag bits make
 * pass 1 take wrong groups, which pass 2 must catch and probe again. Also NULL keys (the
 * one-pass probe) and the full tags. */
static void test_int64_key_weak_tags(void **state) {
    (void)state;
    int32_t keys[3] = {C_KS, C_K, C_K3};
    int32_t k1[1] = {C_K};
    int bits[3] = {0, 3, 32};
    for (int b = 0; b < 3; b++) {
        int32_t tb = pl_agg_set_probe_tag_bits(bits[b]);
        run_check(120000, 100000, 0, 0, 10, 1, k1, PL_MORSEL_ROWS); /* one table */
        run_check(120000, 30000, 0, 0, 10, 1, k1, 5000); /* repeated keys, small morsels */
        run_check(60000, 50000, 3, 0, 10, 1, k1, PL_MORSEL_ROWS); /* NULL keys */
        /* split into shared partition tables of >= 4 Ki slots (the two-pass threshold) */
        int64_t before = pl_agg_set_split_groups(1 << 14);
        run_check(500000, 400000, 0, 0, 10, 3, keys, PL_MORSEL_ROWS); /* packed, no NULLs */
        if (b == 1) {
            run_check(400000, 300000, 0, 0, 10, 1, k1, PL_MORSEL_ROWS);
            run_check(300000, 200000, 4, 5, 10, 3, keys, PL_MORSEL_ROWS); /* NULLs, overflow */
        }
        pl_agg_set_split_groups(before);
        pl_agg_set_probe_tag_bits(tb);
    }
}

static int cmp_k(const void *x, const void *y) {
    const mrow *a = x, *b = y;
    return (a->k > b->k) - (a->k < b->k);
}

/* Rows sorted by one key (each morsel's rows fall into few groups), > 32k groups: shared
 * partition tables fed by both workers with runs of the same groups. */
static void test_sorted_many_groups(void **state) {
    (void)state;
    int32_t keys[2] = {C_K, C_DK};
    gen_rows(600000, 40000, 2, 0, 2);
    qsort(g_rows, (size_t)g_n, sizeof(mrow), cmp_k);
    pl_batch *bs[4];
    for (int i = 0; i < 4; i++) bs[i] = make_batch(g_n * i / 4, g_n * (i + 1) / 4, i, 2);
    int64_t before = pl_agg_set_split_groups(1 << 15);
    pl_batch *out = run_agg(4, bs, 2, keys, PL_MORSEL_ROWS);
    pl_agg_set_split_groups(before);
    assert_true(out->n_rows > 70000);
    check(out, 2, keys);
    pl_batch_release(out);
    for (int i = 0; i < 4; i++) pl_batch_release(bs[i]);
}

/* Packing on and off give the same groups (the model check runs in both modes). */
static void test_plain_mode(void **state) {
    (void)state;
    int32_t keys[4] = {C_DK, C_KS, C_K, C_K3};
    agg_pack_set_enabled(false);
    run_check(50000, 40, 5, 10, 12, 4, keys, 5000);
    agg_pack_set_enabled(true);
}

/* Integer keys at the edges of the layout: the first morsel spans [0, 2^31) for two int64 keys
 * (32 + 32 bits, no slack); later values just inside and just outside each key's range. */
static void test_layout_edges(void **state) {
    (void)state;
    int64_t lo = -(((1LL << 32) - 1 - (1LL << 31)) / 2); /* mn - (cap - range) / 2 */
    int64_t hi = lo + ((1LL << 32) - 1) - 1;
    int64_t first_vals[] = {0, (1LL << 31) - 1};
    int64_t edge[] = {lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, INT64_MIN, INT64_MAX, 0, 5};
    int n_edge = (int)(sizeof edge / sizeof edge[0]);
    free(g_rows);
    g_rows = calloc(4 + 3 * (size_t)(n_edge * n_edge), sizeof(mrow));
    int64_t n = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            mrow *r = &g_rows[n++];
            for (int c = 0; c < N_COLS; c++) r->valid[c] = true;
            strcpy(r->dk, "d0");
            strcpy(r->s, "v");
            r->k = first_vals[i];
            r->x = first_vals[j];
        }
    int64_t first = n;
    for (int rep = 0; rep < 3; rep++)
        for (int i = 0; i < n_edge; i++)
            for (int j = 0; j < n_edge; j++) {
                mrow *r = &g_rows[n++];
                for (int c = 0; c < N_COLS; c++) r->valid[c] = true;
                r->valid[C_K] = i != n_edge - 1; /* NULL keys too */
                strcpy(r->dk, "d0");
                snprintf(r->s, sizeof r->s, "v%d", rep);
                r->k = edge[i];
                r->x = edge[j];
                r->f = rep;
            }
    g_n = n;
    pl_batch *bs[2] = {make_batch(0, first, 0, 1), make_batch(first, n, 1, 1)};
    int32_t keys[2] = {C_K, C_X};
    pl_batch *out = run_agg(2, bs, 2, keys, 0);
    check(out, 2, keys);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
    pl_batch_release(bs[1]);
}

int main(void) {
    (void)feed_sink; /* the shared helper; this file feeds several batches (cut_morsels) */
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8),
                                            &g_dict_type, NULL), PL_OK);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_keys),
        cmocka_unit_test(test_overflow_to_plain),
        cmocka_unit_test(test_many_groups),
        cmocka_unit_test(test_int64_key_weak_tags),
        cmocka_unit_test(test_sorted_many_groups),
        cmocka_unit_test(test_plain_mode),
        cmocka_unit_test(test_layout_edges),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_rows);
    pl_type_release(g_dict_type);
    return rc;
}
