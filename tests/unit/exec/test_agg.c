/* test_agg.c - the hash aggregation sink (src/exec/agg/) against a plain model: random rows
 * kept as C values, grouped by a linear model (row lists per group in input order), every
 * aggregate recomputed by simple loops and compared group by group. Inputs are fed in
 * random-size morsels (sliced batches) from two workers at once; several batches with
 * different dictionaries; NULL keys; many groups (the partitioned merge); errors. */
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

enum { C_K, C_KS, C_K3, C_X, C_F, C_B, C_S, C_FLT, C_DK, N_COLS };
static const char *k_names[N_COLS] = {"k", "ks", "k3", "x", "f", "b", "s", "flt", "dk"};

typedef struct mrow {
    bool valid[N_COLS];
    int64_t k, k3, x;
    double f;
    bool b, flt;
    char ks[32], s[24], dk[16];
} mrow;

static mrow *g_rows;
static int64_t g_n;
/* check_streaming groups by the string column ks instead of k: ks is k as digits zero-padded to
 * k % 23 characters (lengths 1-22: every comparison width), k = 0 the empty string, NULL where
 * k is NULL. */
static bool g_str_key;

static void str_of_key(int64_t k, char *buf) {
    if (k == 0) buf[0] = 0;
    else snprintf(buf, 32, "%0*lld", (int)(k % 23), (long long)k);
}

static void gen_rows(int64_t n, int64_t n_groups, int null_pct) {
    free(g_rows);
    g_rows = calloc((size_t)PL_MAX(n, 1), sizeof(mrow));
    g_n = n;
    for (int64_t i = 0; i < n; i++) {
        mrow *r = &g_rows[i];
        for (int c = 0; c < N_COLS; c++)
            r->valid[c] = null_pct == 0 || (int)(feed_rng() % 100) >= null_pct;
        r->valid[C_FLT] = true;
        r->k = (int64_t)(feed_rng() % (uint64_t)n_groups);
        r->k3 = (int64_t)(feed_rng() % 5);
        r->x = (int64_t)(feed_rng() % 2001) - 1000;
        r->f = (double)((int64_t)(feed_rng() % 4001) - 2000) / 8.0;
        r->b = feed_rng() % 3 != 0;
        r->flt = feed_rng() % 2;
        snprintf(r->ks, sizeof r->ks, "s%lld", (long long)(feed_rng() % (uint64_t)n_groups));
        if (g_str_key) {
            str_of_key(r->k, r->ks);
            r->valid[C_KS] = r->valid[C_K];
        }
        int len = (int)(feed_rng() % 12);
        for (int j = 0; j < len; j++) r->s[j] = (char)('a' + feed_rng() % 4);
        r->s[len] = 0;
        snprintf(r->dk, sizeof r->dk, "sym%02d", (int)(feed_rng() % 20));
    }
}

static pl_type *col_type(int c) {
    switch (c) {
    case C_K:
    case C_X: return pl_type_simple(PL_TYPE_INT64);
    case C_K3: return pl_type_simple(PL_TYPE_INT32);
    case C_F: return pl_type_simple(PL_TYPE_FLOAT64);
    case C_B:
    case C_FLT: return pl_type_simple(PL_TYPE_BOOL);
    default: return pl_type_simple(PL_TYPE_UTF8);
    }
}

static pl_type *g_dict_type;
static int64_t g_kmul = 1; /* key column values are k * g_kmul (wide ranges: no direct path) */

/* Batch of rows [a, b); the dictionary column gets its own dictionary, with values inserted in
 * an order that depends on `salt` (so indices differ between batches). */
static pl_batch *make_batch(int64_t a, int64_t b, int salt) {
    pl_error err;
    pl_field f[N_COLS];
    if (!g_dict_type)
        assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8),
                                                &g_dict_type, &err), PL_OK);
    for (int c = 0; c < N_COLS; c++)
        assert_int_equal(pl_field_init(&f[c], k_names[c], c == C_DK ? g_dict_type : col_type(c),
                                       true, &err), PL_OK);
    pl_schema *schema;
    assert_int_equal(pl_schema_new(N_COLS, f, &schema, &err), PL_OK);
    for (int c = 0; c < N_COLS; c++) pl_field_reset(&f[c]);
    pl_array *cols[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        pl_builder *bl;
        assert_int_equal(pl_builder_new(c == C_DK ? g_dict_type : col_type(c), b - a, &bl, &err), PL_OK);
        if (c == C_DK) { /* seed the dictionary in a salted order */
            for (int j = 0; j < 20; j++) {
                char v[16];
                snprintf(v, sizeof v, "sym%02d", (j * 7 + salt * 3) % 20);
                assert_int_equal(pl_builder_append_bytes(bl, v, (int64_t)strlen(v), &err), PL_OK);
            }
        }
        for (int64_t i = a; i < b; i++) {
            mrow *r = &g_rows[i];
            pl_status st;
            if (!r->valid[c]) st = pl_builder_append_null(bl, &err);
            else switch (c) {
                case C_K: st = pl_builder_append_i64(bl, r->k * g_kmul, &err); break;
                case C_K3: st = pl_builder_append_i64(bl, r->k3, &err); break;
                case C_X: st = pl_builder_append_i64(bl, r->x, &err); break;
                case C_F: st = pl_builder_append_f64(bl, r->f, &err); break;
                case C_B: st = pl_builder_append_bool(bl, r->b, &err); break;
                case C_FLT: st = pl_builder_append_bool(bl, r->flt, &err); break;
                case C_KS: st = pl_builder_append_bytes(bl, r->ks, (int64_t)strlen(r->ks), &err); break;
                case C_S: st = pl_builder_append_bytes(bl, r->s, (int64_t)strlen(r->s), &err); break;
                default: st = pl_builder_append_bytes(bl, r->dk, (int64_t)strlen(r->dk), &err); break;
                }
            assert_int_equal(st, PL_OK);
        }
        pl_array *full;
        assert_int_equal(pl_builder_finish(bl, &full, &err), PL_OK);
        pl_builder_free(bl);
        if (c == C_DK) { /* drop the 20 seed rows, keep the dictionary */
            assert_int_equal(pl_array_slice(full, 20, b - a, &cols[c], &err), PL_OK);
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

static pl_agg_spec SPEC(const char *name, int32_t a0) {
    pl_agg_spec s;
    memset(&s, 0, sizeof s);
    s.name = name;
    s.n_args = a0 >= 0 ? 1 : 0;
    s.args[0] = a0;
    s.args[1] = s.args[2] = s.args[3] = -1;
    s.filter_col = -1;
    return s;
}

static pl_value g_consts[8];

static pl_status run_agg(int64_t n_batches, pl_batch **batches, int32_t n_keys,
                         const int32_t *keys, int32_t n_aggs, pl_agg_spec *specs, int64_t max_rows,
                         pl_batch **out, pl_error *err) {
    pl_schema *in = batches[0]->schema;
    pl_field *f = calloc((size_t)(n_keys + n_aggs + 1), sizeof(pl_field));
    pl_type **types = calloc((size_t)(n_aggs + 1), sizeof(pl_type *));
    for (int32_t c = 0; c < n_keys; c++)
        assert_int_equal(pl_field_init(&f[c], in->fields[keys[c]].name, in->fields[keys[c]].type,
                                       true, err), PL_OK);
    for (int32_t i = 0; i < n_aggs; i++) {
        pl_type *at[4];
        const pl_value *cp[4] = {0};
        for (int32_t a = 0; a < specs[i].n_args; a++) {
            at[a] = specs[i].args[a] >= 0 ? in->fields[specs[i].args[a]].type : specs[i].consts[a].type;
            cp[a] = specs[i].args[a] >= 0 ? NULL : &specs[i].consts[a];
        }
        pl_status st = pl_agg_bind(specs[i].name, specs[i].n_args, at, cp, specs[i].distinct, &types[i], err);
        if (st) {
            for (int32_t c = 0; c < n_keys + i; c++) pl_field_reset(&f[c]);
            for (int32_t j = 0; j < i; j++) pl_type_release(types[j]);
            free(f);
            free(types);
            return st;
        }
        specs[i].result_type = types[i];
        char nm[16];
        snprintf(nm, sizeof nm, "a%d", i);
        assert_int_equal(pl_field_init(&f[n_keys + i], nm, types[i], true, err), PL_OK);
    }
    pl_schema *os;
    assert_int_equal(pl_schema_new(n_keys + n_aggs, f, &os, err), PL_OK);
    for (int32_t c = 0; c < n_keys + n_aggs; c++) pl_field_reset(&f[c]);
    free(f);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    pl_status st = pl_agg_sink_new(&ctx, in, n_keys, keys, n_aggs, specs, os, &sink, err);
    for (int32_t i = 0; i < n_aggs; i++) pl_type_release(types[i]);
    free(types);
    pl_schema_release(os);
    if (st) return st;
    /* morsels from every batch, seq in order */
    int64_t n;
    pl_batch **m = cut_morsels(batches, n_batches, max_rows, &n);
    st = feed_morsels(sink, &ctx, m, n, err);
    if (st) {
        sink->free(sink);
        return st;
    }
    pl_stream *s;
    st = sink->finish(sink, &ctx, &s, err);
    if (!st) {
        pl_table *t;
        st = pl_stream_collect(s, &t, err);
        pl_stream_free(s);
        if (!st) {
            st = pl_table_combine(t, out, err);
            pl_table_release(t);
        }
    }
    sink->free(sink);
    assert_int_equal(ctx.mem_used, 0); /* everything charged was released */
    return st;
}

/* ---------------------------------------------------------------- model groups */

typedef struct mgroup {
    int64_t n;
    int64_t *rows;
    int64_t cap;
} mgroup;

/* groups of the model by the key function; returns the number of groups */
typedef int64_t (*key_fn)(const mrow *r); /* group index, dense */

static mgroup *model_groups(key_fn fn, int64_t n_slots) {
    mgroup *g = calloc((size_t)n_slots, sizeof(mgroup));
    for (int64_t i = 0; i < g_n; i++) {
        int64_t x = fn(&g_rows[i]);
        mgroup *q = &g[x];
        if (q->n == q->cap) q->rows = realloc(q->rows, sizeof(int64_t) * (size_t)(q->cap = q->cap ? q->cap * 2 : 8));
        q->rows[q->n++] = i;
    }
    return g;
}

static void free_groups(mgroup *g, int64_t n) {
    for (int64_t i = 0; i < n; i++) free(g[i].rows);
    free(g);
}

static int64_t G; /* key range of the current test */
static int64_t key_k(const mrow *r) { return r->valid[C_K] ? r->k : G; }

static int64_t out_i64(pl_array *a, int64_t i) { return ((const int64_t *)pl_array_values_ptr(a))[i]; }
static double out_f64(pl_array *a, int64_t i) { return ((const double *)pl_array_values_ptr(a))[i]; }
static bool out_bool(pl_array *a, int64_t i) { return pl_bit_get(a->values->data, a->offset + i); }
static void out_str(pl_array *a, int64_t i, char *buf) {
    int32_t len;
    const uint8_t *p = pl_array_bytes(a, i, &len);
    memcpy(buf, p, (size_t)len);
    buf[len] = 0;
}

static bool near(double a, double b) {
    return fabs(a - b) <= 1e-9 * PL_MAX(1.0, PL_MAX(fabs(a), fabs(b)));
}

/* ---------------------------------------------------------------- tests */

enum { A_CSTAR, A_CNT, A_SUM, A_AVG, A_MIN, A_MAX, A_SUMF, A_VARS, A_SDP, A_BAND, A_BOR, A_CIF,
       A_FIRST, A_LAST, A_ANY, A_ARGMIN, A_ARGMAX, A_MINS, A_MAXS, A_SUMFLT, A_CFLT, A_MINF,
       A_MAXB, N_A };

static void check_streaming(int64_t n_rows, int64_t n_groups, int null_pct, int64_t max_rows) {
    gen_rows(n_rows, n_groups, null_pct);
    G = n_groups;
    int64_t half = n_rows / 2;
    pl_batch *bs[2] = {make_batch(0, half, 1), make_batch(half, n_rows, 2)};
    pl_agg_spec sp[N_A];
    sp[A_CSTAR] = SPEC("count", -1);
    sp[A_CNT] = SPEC("count", C_X);
    sp[A_SUM] = SPEC("sum", C_X);
    sp[A_AVG] = SPEC("mean", C_X);
    sp[A_MIN] = SPEC("min", C_X);
    sp[A_MAX] = SPEC("max", C_X);
    sp[A_SUMF] = SPEC("sum", C_F);
    sp[A_VARS] = SPEC("variance", C_F);
    sp[A_SDP] = SPEC("stddev_pop", C_F);
    sp[A_BAND] = SPEC("bool_and", C_B);
    sp[A_BOR] = SPEC("bool_or", C_B);
    sp[A_CIF] = SPEC("count_if", C_B);
    sp[A_FIRST] = SPEC("first", C_X);
    sp[A_LAST] = SPEC("last", C_S);
    sp[A_ANY] = SPEC("any_value", C_X);
    sp[A_ARGMIN] = SPEC("arg_min", C_X);
    sp[A_ARGMIN].n_args = 2;
    sp[A_ARGMIN].args[1] = C_F;
    sp[A_ARGMAX] = SPEC("max_by", C_S);
    sp[A_ARGMAX].n_args = 2;
    sp[A_ARGMAX].args[1] = C_X;
    sp[A_MINS] = SPEC("min", C_S);
    sp[A_MAXS] = SPEC("max", C_DK);
    sp[A_SUMFLT] = SPEC("sum", C_X);
    sp[A_SUMFLT].filter_col = C_FLT;
    sp[A_CFLT] = SPEC("count", -1);
    sp[A_CFLT].filter_col = C_FLT;
    sp[A_MINF] = SPEC("min", C_F);
    sp[A_MAXB] = SPEC("max", C_B);
    int32_t keys[1] = {g_str_key ? C_KS : C_K};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(2, bs, 1, keys, N_A, sp, max_rows, &out, &err), PL_OK);
    mgroup *mg = model_groups(key_k, G + 1);
    int64_t n_model = 0;
    for (int64_t x = 0; x <= G; x++) n_model += mg[x].n > 0;
    assert_int_equal(out->n_rows, n_model);
    pl_array *kc = out->columns[0];
    bool *seen = calloc((size_t)G + 1, 1);
    for (int64_t i = 0; i < out->n_rows; i++) {
        int64_t x = G;
        if (pl_array_is_valid(kc, i) && g_str_key) {
            char kb[32], want[32];
            out_str(kc, i, kb);
            x = atoll(kb);
            str_of_key(x, want);
            assert_string_equal(kb, want);
        } else if (pl_array_is_valid(kc, i)) {
            x = out_i64(kc, i) / g_kmul;
        }
        assert_true(x >= 0 && x <= G);
        assert_false(seen[x]);
        seen[x] = true;
        mgroup *q = &mg[x];
        assert_true(q->n > 0);
        /* model */
        int64_t cnt = 0, sum = 0, mn = INT64_MAX, mx = INT64_MIN, cf = 0, nb = 0, nband = 0, nbor = 0;
        int64_t cflt = 0, sumflt = 0, nflt = 0, nbt = 0;
        double sf = 0, mnf = INFINITY;
        int64_t nf = 0;
        const char *mins = NULL, *maxdk = NULL;
        int64_t any = -1, argmin = -1, argmax = -1;
        for (int64_t j = 0; j < q->n; j++) {
            mrow *r = &g_rows[q->rows[j]];
            if (r->valid[C_X]) {
                cnt++;
                sum += r->x;
                mn = PL_MIN(mn, r->x);
                mx = PL_MAX(mx, r->x);
                if (any < 0) any = q->rows[j];
                if (r->flt) {
                    sumflt += r->x;
                    nflt++;
                }
            }
            if (r->flt) cflt++;
            if (r->valid[C_F]) {
                sf += r->f;
                nf++;
                mnf = PL_MIN(mnf, r->f);
            }
            if (r->valid[C_B]) {
                nb++;
                nband += !r->b;
                nbor += r->b;
                nbt += r->b;
            }
            if (r->valid[C_S] && (!mins || strcmp(r->s, mins) < 0)) mins = r->s;
            if (r->valid[C_DK] && (!maxdk || strcmp(r->dk, maxdk) > 0)) maxdk = r->dk;
            if (r->valid[C_X] && r->valid[C_F] && (argmin < 0 || r->f < g_rows[argmin].f)) argmin = q->rows[j];
            if (r->valid[C_S] && r->valid[C_X] && (argmax < 0 || r->x > g_rows[argmax].x)) argmax = q->rows[j];
        }
        PL_UNUSED(cf);
        double mean = nf ? sf / (double)nf : 0, m2 = 0;
        for (int64_t j = 0; j < q->n; j++) {
            mrow *r = &g_rows[q->rows[j]];
            if (r->valid[C_F]) m2 += (r->f - mean) * (r->f - mean);
        }
        pl_array **c = out->columns + 1;
        assert_int_equal(out_i64(c[A_CSTAR], i), q->n);
        assert_int_equal(out_i64(c[A_CNT], i), cnt);
        assert_int_equal(pl_array_is_valid(c[A_SUM], i), cnt > 0);
        if (cnt) {
            assert_int_equal(out_i64(c[A_SUM], i), sum);
            assert_true(near(out_f64(c[A_AVG], i), (double)sum / (double)cnt));
            assert_int_equal(out_i64(c[A_MIN], i), mn);
            assert_int_equal(out_i64(c[A_MAX], i), mx);
            assert_int_equal(out_i64(c[A_ANY], i), g_rows[any].x);
        } else {
            assert_false(pl_array_is_valid(c[A_AVG], i));
            assert_false(pl_array_is_valid(c[A_MIN], i));
            assert_false(pl_array_is_valid(c[A_ANY], i));
        }
        assert_int_equal(pl_array_is_valid(c[A_SUMF], i), nf > 0);
        if (nf) {
            assert_true(near(out_f64(c[A_SUMF], i), sf));
            assert_true(near(out_f64(c[A_MINF], i), mnf));
            assert_true(near(out_f64(c[A_SDP], i), sqrt(m2 / (double)nf)));
        }
        assert_int_equal(pl_array_is_valid(c[A_VARS], i), nf > 1);
        if (nf > 1) assert_true(fabs(out_f64(c[A_VARS], i) - m2 / (double)(nf - 1)) <= 1e-6 * PL_MAX(1, m2));
        assert_int_equal(pl_array_is_valid(c[A_BAND], i), nb > 0);
        if (nb) {
            assert_int_equal(out_bool(c[A_BAND], i), nband == 0);
            assert_int_equal(out_bool(c[A_BOR], i), nbor > 0);
            assert_int_equal(out_i64(c[A_CIF], i), nbt);
            assert_int_equal(out_bool(c[A_MAXB], i), nbor > 0);
        }
        /* first/last: the group's first/last row, NULLs included */
        mrow *fr = &g_rows[q->rows[0]], *lr = &g_rows[q->rows[q->n - 1]];
        assert_int_equal(pl_array_is_valid(c[A_FIRST], i), fr->valid[C_X]);
        if (fr->valid[C_X]) assert_int_equal(out_i64(c[A_FIRST], i), fr->x);
        assert_int_equal(pl_array_is_valid(c[A_LAST], i), lr->valid[C_S]);
        char buf[64];
        if (lr->valid[C_S]) {
            out_str(c[A_LAST], i, buf);
            assert_string_equal(buf, lr->s);
        }
        assert_int_equal(pl_array_is_valid(c[A_ARGMIN], i), argmin >= 0);
        if (argmin >= 0) assert_int_equal(out_i64(c[A_ARGMIN], i), g_rows[argmin].x);
        assert_int_equal(pl_array_is_valid(c[A_ARGMAX], i), argmax >= 0);
        if (argmax >= 0) {
            out_str(c[A_ARGMAX], i, buf);
            assert_string_equal(buf, g_rows[argmax].s);
        }
        assert_int_equal(pl_array_is_valid(c[A_MINS], i), mins != NULL);
        if (mins) {
            out_str(c[A_MINS], i, buf);
            assert_string_equal(buf, mins);
        }
        assert_int_equal(pl_array_is_valid(c[A_MAXS], i), maxdk != NULL);
        if (maxdk) {
            out_str(c[A_MAXS], i, buf);
            assert_string_equal(buf, maxdk);
        }
        assert_int_equal(out_i64(c[A_CFLT], i), cflt);
        assert_int_equal(pl_array_is_valid(c[A_SUMFLT], i), nflt > 0);
        if (nflt) assert_int_equal(out_i64(c[A_SUMFLT], i), sumflt);
    }
    free(seen);
    free_groups(mg, G + 1);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
    pl_batch_release(bs[1]);
}

static void test_streaming_small(void **state) {
    (void)state;
    check_streaming(5000, 37, 10, 700);
}

static void test_streaming_morsels(void **state) {
    (void)state;
    check_streaming(300000, 1000, 10, PL_MORSEL_ROWS);
}

static void test_streaming_no_nulls(void **state) {
    (void)state;
    check_streaming(200000, 100, 0, PL_MORSEL_ROWS);
}

static void test_streaming_many_groups(void **state) {
    (void)state;
    check_streaming(400000, 150000, 5, PL_MORSEL_ROWS); /* > 64k groups: partitioned merge */
    g_kmul = 1000003; /* keys too spread for the direct path: hashing, one table per worker */
    check_streaming(400000, 150000, 5, PL_MORSEL_ROWS);
    int64_t before = pl_agg_set_split_groups(1 << 15); /* split tables */
    check_streaming(400000, 150000, 5, PL_MORSEL_ROWS);
    check_streaming(100000, 300, 5, 3000);
    pl_agg_set_split_groups(before);
    g_kmul = 1;
}

/* one string key (lengths 0-22, NULLs): few groups, many groups in one table per worker (the
 * prefetched probes), many groups in split tables */
static void test_string_key(void **state) {
    (void)state;
    g_str_key = true;
    check_streaming(5000, 37, 10, 700);
    check_streaming(300000, 100000, 5, PL_MORSEL_ROWS);
    check_streaming(100000, 90000, 0, 5000); /* no NULLs: the typed string probe */
    int64_t before = pl_agg_set_split_groups(1 << 14);
    check_streaming(300000, 100000, 5, PL_MORSEL_ROWS);
    check_streaming(100000, 90000, 0, 5000);
    pl_agg_set_split_groups(before);
    g_str_key = false;
}

/* the two-pass probe of one string key (table.c probe_str_2pass) with 0 and 3 tag bits
 * compared in pass 1: nearly every row, or one in 8, matches a wrong group there and pass 2
 * must find (or insert) the right one, in row order */
static void test_string_key_weak_tags(void **state) {
    (void)state;
    g_str_key = true;
    for (int32_t bits = 0; bits <= 3; bits += 3) {
        int32_t before = pl_agg_set_probe_tag_bits(bits);
        check_streaming(60000, 20000, 0, 5000);
        check_streaming(200000, 100000, 0, PL_MORSEL_ROWS);
        check_streaming(50000, 3000, 0, PL_MORSEL_ROWS); /* repeated keys within a morsel */
        pl_agg_set_probe_tag_bits(before);
    }
    assert_int_equal(pl_agg_set_probe_tag_bits(32), 32);
    g_str_key = false;
}

/* string + int32 keys, both with NULLs (NULLs group together) */
static int64_t g_ks_card;
static int64_t key_ks_k3(const mrow *r) {
    int64_t a = r->valid[C_KS] ? atoll(r->ks + 1) : g_ks_card;
    int64_t b = r->valid[C_K3] ? r->k3 : 5;
    return a * 6 + b;
}

static void check_multi_key(int64_t n_rows, int64_t card) {
    gen_rows(n_rows, card, 8);
    g_ks_card = card;
    pl_batch *bs[1] = {make_batch(0, n_rows, 0)};
    /* count(*), sum(x) (NULLs skipped), sum(x) FILTER (WHERE flt), count(*) FILTER (WHERE flt):
     * in split tables each aggregate has its own rows per partition */
    pl_agg_spec sp[4] = {SPEC("count", -1), SPEC("sum", C_X), SPEC("sum", C_X), SPEC("count", -1)};
    sp[2].filter_col = sp[3].filter_col = C_FLT;
    int32_t keys[2] = {C_KS, C_K3};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(1, bs, 2, keys, 4, sp, 5000, &out, &err), PL_OK);
    int64_t slots = (card + 1) * 6;
    mgroup *mg = model_groups(key_ks_k3, slots);
    int64_t n_model = 0;
    for (int64_t x = 0; x < slots; x++) n_model += mg[x].n > 0;
    assert_int_equal(out->n_rows, n_model);
    bool *seen = calloc((size_t)slots, 1);
    for (int64_t i = 0; i < out->n_rows; i++) {
        mrow r;
        memset(&r, 0, sizeof r);
        r.valid[C_KS] = pl_array_is_valid(out->columns[0], i);
        if (r.valid[C_KS]) out_str(out->columns[0], i, r.ks);
        r.valid[C_K3] = pl_array_is_valid(out->columns[1], i);
        if (r.valid[C_K3]) r.k3 = ((const int32_t *)pl_array_values_ptr(out->columns[1]))[i];
        int64_t x = key_ks_k3(&r);
        assert_false(seen[x]);
        seen[x] = true;
        mgroup *q = &mg[x];
        assert_int_equal(out_i64(out->columns[2], i), q->n);
        int64_t sum = 0, cnt = 0, fsum = 0, fcnt = 0, fstar = 0;
        for (int64_t j = 0; j < q->n; j++) {
            const mrow *m = &g_rows[q->rows[j]];
            if (m->valid[C_X]) sum += m->x, cnt++;
            if (m->flt) fstar++;
            if (m->flt && m->valid[C_X]) fsum += m->x, fcnt++;
        }
        assert_int_equal(pl_array_is_valid(out->columns[3], i), cnt > 0);
        if (cnt) assert_int_equal(out_i64(out->columns[3], i), sum);
        assert_int_equal(pl_array_is_valid(out->columns[4], i), fcnt > 0);
        if (fcnt) assert_int_equal(out_i64(out->columns[4], i), fsum);
        assert_int_equal(out_i64(out->columns[5], i), fstar);
    }
    free(seen);
    free_groups(mg, slots);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
}

static void test_multi_key_nulls(void **state) {
    (void)state;
    check_multi_key(50000, 300);
    check_multi_key(300000, 40000); /* > 64k groups in all */
    /* split into the packed sink's shared partition tables, fed by two workers */
    int64_t before = pl_agg_set_split_groups(1 << 12);
    check_multi_key(300000, 40000);
    check_multi_key(200000, 150000); /* nearly a group per row */
    pl_agg_set_split_groups(before);
}

/* one dictionary key, a different dictionary per batch; output stays a dictionary array */
static int64_t key_dk(const mrow *r) { return r->valid[C_DK] ? atoll(r->dk + 3) : 20; }

static void test_dict_key(void **state) {
    (void)state;
    gen_rows(200000, 10, 5);
    pl_batch *bs[4] = {make_batch(0, 50000, 0), make_batch(50000, 100000, 1),
                       make_batch(100000, 150000, 2), make_batch(150000, 200000, 3)};
    pl_agg_spec sp[2] = {SPEC("count", -1), SPEC("sum", C_X)};
    int32_t keys[1] = {C_DK};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(4, bs, 1, keys, 2, sp, 20000, &out, &err), PL_OK);
    mgroup *mg = model_groups(key_dk, 21);
    assert_int_equal(out->n_rows, 21);
    assert_int_equal(out->columns[0]->type->id, PL_TYPE_DICTIONARY);
    pl_array *dec;
    assert_int_equal(pl_array_decode_dictionary(out->columns[0], &dec, &err), PL_OK);
    bool seen[21] = {0};
    for (int64_t i = 0; i < out->n_rows; i++) {
        mrow r;
        memset(&r, 0, sizeof r);
        r.valid[C_DK] = pl_array_is_valid(dec, i);
        if (r.valid[C_DK]) out_str(dec, i, r.dk);
        int64_t x = key_dk(&r);
        assert_false(seen[x]);
        seen[x] = true;
        assert_int_equal(out_i64(out->columns[1], i), mg[x].n);
        int64_t sum = 0;
        for (int64_t j = 0; j < mg[x].n; j++)
            if (g_rows[mg[x].rows[j]].valid[C_X]) sum += g_rows[mg[x].rows[j]].x;
        assert_int_equal(out_i64(out->columns[2], i), sum);
    }
    pl_array_release(dec);
    free_groups(mg, 21);
    pl_batch_release(out);
    /* dictionary key together with another key: decoded per morsel */
    int32_t keys2[2] = {C_DK, C_K3};
    assert_int_equal(run_agg(4, bs, 2, keys2, 2, sp, 20000, &out, &err), PL_OK);
    int64_t total = 0;
    for (int64_t i = 0; i < out->n_rows; i++) total += out_i64(out->columns[2], i);
    assert_int_equal(total, 200000);
    assert_true(out->n_rows <= 21 * 6 && out->n_rows > 100);
    pl_batch_release(out);
    for (int i = 0; i < 4; i++) pl_batch_release(bs[i]);
}

/* two dictionary keys without NULLs (the combined-indices map), a different dictionary per
 * batch: the same groups and sums as the model */
static void test_multi_dict_keys(void **state) {
    (void)state;
    gen_rows(200000, 10, 0);
    pl_batch *bs[4] = {make_batch(0, 50000, 0), make_batch(50000, 100000, 1),
                       make_batch(100000, 150000, 2), make_batch(150000, 200000, 3)};
    pl_agg_spec sp[2] = {SPEC("count", -1), SPEC("sum", C_X)};
    int32_t keys[2] = {C_DK, C_DK};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(4, bs, 2, keys, 2, sp, 20000, &out, &err), PL_OK);
    mgroup *mg = model_groups(key_dk, 21);
    assert_int_equal(out->n_rows, 20);
    bool seen[21] = {0};
    for (int64_t i = 0; i < out->n_rows; i++) {
        char k[2][16];
        for (int c = 0; c < 2; c++) {
            pl_array *a = out->columns[c], *dec = NULL;
            if (a->type->id == PL_TYPE_DICTIONARY) {
                assert_int_equal(pl_array_decode_dictionary(a, &dec, &err), PL_OK);
                a = dec;
            }
            out_str(a, i, k[c]);
            pl_array_release(dec);
        }
        assert_string_equal(k[0], k[1]);
        mrow r;
        memset(&r, 0, sizeof r);
        r.valid[C_DK] = true;
        strcpy(r.dk, k[0]);
        int64_t x = key_dk(&r);
        assert_false(seen[x]);
        seen[x] = true;
        assert_int_equal(out_i64(out->columns[2], i), mg[x].n);
        int64_t sum = 0;
        for (int64_t j = 0; j < mg[x].n; j++) sum += g_rows[mg[x].rows[j]].x;
        assert_int_equal(out_i64(out->columns[3], i), sum);
    }
    free_groups(mg, 21);
    pl_batch_release(out);
    /* a dictionary key and an integer key (the integer's range as its code) */
    int32_t keys2[2] = {C_DK, C_K3};
    assert_int_equal(run_agg(4, bs, 2, keys2, 2, sp, 20000, &out, &err), PL_OK);
    int64_t cnt[20][5] = {{0}}, sums[20][5] = {{0}};
    for (int64_t i = 0; i < g_n; i++) {
        cnt[atoi(g_rows[i].dk + 3)][g_rows[i].k3]++;
        sums[atoi(g_rows[i].dk + 3)][g_rows[i].k3] += g_rows[i].x;
    }
    int64_t n_model = 0;
    for (int a = 0; a < 20; a++)
        for (int b = 0; b < 5; b++) n_model += cnt[a][b] > 0;
    assert_int_equal(out->n_rows, n_model);
    for (int64_t i = 0; i < out->n_rows; i++) {
        pl_array *a = out->columns[0], *dec = NULL;
        if (a->type->id == PL_TYPE_DICTIONARY) {
            assert_int_equal(pl_array_decode_dictionary(a, &dec, &err), PL_OK);
            a = dec;
        }
        char k[16];
        out_str(a, i, k);
        pl_array_release(dec);
        int32_t k3 = ((const int32_t *)pl_array_values_ptr(out->columns[1]))[i];
        assert_int_equal(out_i64(out->columns[2], i), cnt[atoi(k + 3)][k3]);
        assert_int_equal(out_i64(out->columns[3], i), sums[atoi(k + 3)][k3]);
        cnt[atoi(k + 3)][k3] = -1; /* each group once */
    }
    pl_batch_release(out);
    for (int i = 0; i < 4; i++) pl_batch_release(bs[i]);
}

static void test_no_keys(void **state) {
    (void)state;
    gen_rows(100000, 10, 10);
    pl_batch *bs[1] = {make_batch(0, 100000, 0)};
    pl_agg_spec sp[4] = {SPEC("count", -1), SPEC("sum", C_X), SPEC("min", C_S), SPEC("count_if", C_B)};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(1, bs, 0, NULL, 4, sp, PL_MORSEL_ROWS, &out, &err), PL_OK);
    assert_int_equal(out->n_rows, 1);
    int64_t sum = 0;
    for (int64_t i = 0; i < g_n; i++) sum += g_rows[i].valid[C_X] ? g_rows[i].x : 0;
    assert_int_equal(out_i64(out->columns[0], 0), 100000);
    assert_int_equal(out_i64(out->columns[1], 0), sum);
    char buf[64];
    out_str(out->columns[2], 0, buf);
    assert_string_equal(buf, ""); /* some strings are empty */
    pl_batch_release(out);
    pl_batch_release(bs[0]);
    /* empty input: one row, count 0, the rest NULL */
    gen_rows(0, 10, 0);
    bs[0] = make_batch(0, 0, 0);
    assert_int_equal(run_agg(1, bs, 0, NULL, 4, sp, 100, &out, &err), PL_OK);
    assert_int_equal(out->n_rows, 1);
    assert_int_equal(out_i64(out->columns[0], 0), 0);
    assert_false(pl_array_is_valid(out->columns[1], 0));
    assert_false(pl_array_is_valid(out->columns[2], 0));
    assert_false(pl_array_is_valid(out->columns[3], 0));
    pl_batch_release(out);
    /* empty input with keys: no rows */
    int32_t keys[1] = {C_K};
    assert_int_equal(run_agg(1, bs, 1, keys, 4, sp, 100, &out, &err), PL_OK);
    assert_int_equal(out->n_rows, 0);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { H_CD, H_SD, H_AD, H_MED, H_QC, H_QD, H_SA, H_SAO, H_FO, H_LO, H_CNT, N_H };

static void check_holistic(int64_t n_rows, int64_t n_groups, int null_pct) {
    gen_rows(n_rows, n_groups, null_pct);
    G = n_groups;
    for (int64_t i = 0; i < n_rows; i++) g_rows[i].x %= 50; /* duplicates for DISTINCT */
    pl_batch *bs[2] = {make_batch(0, n_rows / 3, 0), make_batch(n_rows / 3, n_rows, 1)};
    pl_agg_spec sp[N_H];
    sp[H_CD] = SPEC("count", C_X);
    sp[H_CD].distinct = true;
    sp[H_SD] = SPEC("sum", C_X);
    sp[H_SD].distinct = true;
    sp[H_AD] = SPEC("avg", C_X);
    sp[H_AD].distinct = true;
    sp[H_MED] = SPEC("median", C_F);
    sp[H_QC] = SPEC("quantile_cont", C_F);
    sp[H_QC].n_args = 2;
    g_consts[0].type = pl_type_simple(PL_TYPE_FLOAT64);
    g_consts[0].v.f = 0.25;
    sp[H_QC].consts[1] = g_consts[0];
    sp[H_QD] = SPEC("percentile_disc", C_X);
    sp[H_QD].n_args = 2;
    sp[H_QD].consts[1] = g_consts[0];
    sp[H_QD].consts[1].v.f = 0.9;
    sp[H_SA] = SPEC("string_agg", C_S);
    sp[H_SA].n_args = 2;
    g_consts[1].type = pl_type_simple(PL_TYPE_UTF8);
    g_consts[1].str = (char *)"|";
    g_consts[1].str_len = 1;
    sp[H_SA].consts[1] = g_consts[1];
    sp[H_SAO] = SPEC("listagg", C_S);
    sp[H_SAO].n_order = 1;
    sp[H_SAO].order_cols[0] = C_X;
    sp[H_SAO].order_desc[0] = true;
    sp[H_SAO].order_nulls_first[0] = false;
    sp[H_FO] = SPEC("first", C_S);
    sp[H_FO].n_order = 1;
    sp[H_FO].order_cols[0] = C_F;
    sp[H_FO].order_nulls_first[0] = false;
    sp[H_LO] = SPEC("last", C_X);
    sp[H_LO].n_order = 1;
    sp[H_LO].order_cols[0] = C_F;
    sp[H_LO].order_nulls_first[0] = false;
    sp[H_CNT] = SPEC("count", -1);
    int32_t keys[1] = {C_K};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(2, bs, 1, keys, N_H, sp, 9000, &out, &err), PL_OK);
    mgroup *mg = model_groups(key_k, G + 1);
    int64_t n_model = 0;
    for (int64_t x = 0; x <= G; x++) n_model += mg[x].n > 0;
    assert_int_equal(out->n_rows, n_model);
    int64_t *xs = malloc(sizeof(int64_t) * (size_t)(n_rows + 1));
    double *fs = malloc(sizeof(double) * (size_t)(n_rows + 1));
    int64_t *ord = malloc(sizeof(int64_t) * (size_t)(n_rows + 1));
    char *sbuf = malloc((size_t)n_rows * 16 + 16), *obuf = malloc((size_t)n_rows * 16 + 16);
    for (int64_t i = 0; i < out->n_rows; i++) {
        pl_array *kc = out->columns[0];
        int64_t x = pl_array_is_valid(kc, i) ? out_i64(kc, i) : G;
        mgroup *q = &mg[x];
        pl_array **c = out->columns + 1;
        assert_int_equal(out_i64(c[H_CNT], i), q->n);
        int64_t nx = 0, nf = 0;
        for (int64_t j = 0; j < q->n; j++) {
            mrow *r = &g_rows[q->rows[j]];
            if (r->valid[C_X]) xs[nx++] = r->x;
            if (r->valid[C_F]) fs[nf++] = r->f;
        }
        qsort(xs, (size_t)nx, 8, cmp_i64);
        qsort(fs, (size_t)nf, 8, cmp_d);
        int64_t nd = 0, sd = 0;
        for (int64_t j = 0; j < nx; j++)
            if (j == 0 || xs[j] != xs[j - 1]) nd++, sd += xs[j];
        assert_int_equal(out_i64(c[H_CD], i), nd);
        assert_int_equal(pl_array_is_valid(c[H_SD], i), nd > 0);
        if (nd) {
            assert_int_equal(out_i64(c[H_SD], i), sd);
            assert_true(near(out_f64(c[H_AD], i), (double)sd / (double)nd));
            int64_t k = (int64_t)ceil((double)nx * 0.9) - 1;
            assert_int_equal(out_i64(c[H_QD], i), xs[PL_MAX(k, 0)]);
        }
        assert_int_equal(pl_array_is_valid(c[H_MED], i), nf > 0);
        if (nf) {
            double pos = 0.5 * (double)(nf - 1);
            int64_t lo = (int64_t)floor(pos);
            double med = fs[lo] + (pos - (double)lo) * (fs[PL_MIN(lo + 1, nf - 1)] - fs[lo]);
            assert_true(near(out_f64(c[H_MED], i), med));
            pos = 0.25 * (double)(nf - 1);
            lo = (int64_t)floor(pos);
            double qc = fs[lo] + (pos - (double)lo) * (fs[PL_MIN(lo + 1, nf - 1)] - fs[lo]);
            assert_true(near(out_f64(c[H_QC], i), qc));
        }
        /* string_agg in input order */
        int64_t o = 0, ns = 0;
        for (int64_t j = 0; j < q->n; j++) {
            mrow *r = &g_rows[q->rows[j]];
            if (!r->valid[C_S]) continue;
            if (ns++) sbuf[o++] = '|';
            o += sprintf(sbuf + o, "%s", r->s);
        }
        assert_int_equal(pl_array_is_valid(c[H_SA], i), ns > 0);
        if (ns) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(c[H_SA], i, &len);
            assert_int_equal(len, o);
            assert_memory_equal(p, sbuf, (size_t)o);
        }
        /* string_agg ORDER BY x DESC NULLS LAST, stable: rows by (x desc, input order) */
        int64_t m = 0;
        for (int64_t j = 0; j < q->n; j++)
            if (g_rows[q->rows[j]].valid[C_S]) ord[m++] = q->rows[j];
        for (int64_t a = 1; a < m; a++) { /* insertion sort, stable */
            int64_t v = ord[a], b = a;
            while (b > 0) {
                mrow *p = &g_rows[ord[b - 1]], *r = &g_rows[v];
                int c2;
                if (p->valid[C_X] != r->valid[C_X]) c2 = p->valid[C_X] ? -1 : 1;
                else if (!p->valid[C_X]) c2 = 0;
                else c2 = p->x > r->x ? -1 : p->x < r->x;
                if (c2 <= 0) break;
                ord[b] = ord[b - 1];
                b--;
            }
            ord[b] = v;
        }
        o = 0;
        for (int64_t j = 0; j < m; j++) {
            if (j) obuf[o++] = ',';
            o += sprintf(obuf + o, "%s", g_rows[ord[j]].s);
        }
        if (m) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(c[H_SAO], i, &len);
            assert_int_equal(len, o);
            assert_memory_equal(p, obuf, (size_t)o);
        }
        /* first(s ORDER BY f NULLS LAST), last(x ORDER BY f NULLS LAST): stable */
        int64_t fr = -1, lr = -1;
        for (int64_t j = 0; j < q->n; j++) {
            int64_t ri = q->rows[j];
            mrow *r = &g_rows[ri];
            if (fr < 0) fr = ri;
            else {
                mrow *b = &g_rows[fr];
                bool better = r->valid[C_F] && (!b->valid[C_F] || r->f < b->f);
                if (better) fr = ri;
            }
            if (lr < 0) lr = ri;
            else {
                mrow *b = &g_rows[lr];
                bool later = !r->valid[C_F] || (b->valid[C_F] && r->f >= b->f);
                if (later) lr = ri;
            }
        }
        assert_int_equal(pl_array_is_valid(c[H_FO], i), g_rows[fr].valid[C_S]);
        if (g_rows[fr].valid[C_S]) {
            char b[64];
            out_str(c[H_FO], i, b);
            assert_string_equal(b, g_rows[fr].s);
        }
        assert_int_equal(pl_array_is_valid(c[H_LO], i), g_rows[lr].valid[C_X]);
        if (g_rows[lr].valid[C_X]) assert_int_equal(out_i64(c[H_LO], i), g_rows[lr].x);
    }
    free(xs);
    free(fs);
    free(ord);
    free(sbuf);
    free(obuf);
    free_groups(mg, G + 1);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
    pl_batch_release(bs[1]);
}

static void test_holistic(void **state) {
    (void)state;
    check_holistic(3000, 7, 10);
    check_holistic(200000, 300, 10);
    check_holistic(300000, 100000, 10); /* partitioned merge */
    check_holistic(50000, 40, 0);       /* no NULLs: chunks keep no row lists */
}

/* DISTINCT rows: the sink with no aggregates and every column a key */
/* median / quantile_cont edge cases against a sorted model (NaN largest): groups of 0 (all
 * NULL), 1, 2, 3 and up to ~2000 values; all equal, few distinct values (duplicates around the
 * selected rank), NaNs (fewer or more than half, at the interpolated neighbour), -0.0; float64
 * and int32 arguments; many groups (several scatter parts and selection tasks). */
static int cmp_nan_last(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    return x < y ? -1 : x > y;
}

static double model_quantile(double *v, int64_t n, double q) {
    qsort(v, (size_t)n, 8, cmp_nan_last);
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos), hi = (int64_t)ceil(pos);
    if (hi == lo) return v[lo];
    return v[lo] + (pos - (double)lo) * (v[hi] - v[lo]);
}

static bool same_double(double a, double b) {
    return (isnan(a) && isnan(b)) || a == b || near(a, b);
}

static void check_quantiles(int64_t n_groups, int64_t max_rows) {
    pl_error err;
    pl_field f[3];
    assert_int_equal(pl_field_init(&f[0], "k", pl_type_simple(PL_TYPE_INT64), true, &err), PL_OK);
    assert_int_equal(pl_field_init(&f[1], "v", pl_type_simple(PL_TYPE_FLOAT64), true, &err), PL_OK);
    assert_int_equal(pl_field_init(&f[2], "iv", pl_type_simple(PL_TYPE_INT32), true, &err), PL_OK);
    pl_schema *schema;
    assert_int_equal(pl_schema_new(3, f, &schema, &err), PL_OK);
    for (int c = 0; c < 3; c++) pl_field_reset(&f[c]);
    /* group g: its size and value pattern from g */
    int64_t total = 0;
    int64_t *size = malloc(sizeof(int64_t) * (size_t)n_groups);
    for (int64_t g = 0; g < n_groups; g++) {
        static const int64_t sizes[] = {0, 1, 2, 3, 4, 17, 18, 301, 1000, 1001, 2048};
        size[g] = g < 11 ? sizes[g] : (int64_t)(feed_rng() % 40);
        total += size[g] + 1; /* + one NULL value row */
    }
    /* rows in random order: (group, value) */
    int64_t *rg = malloc(sizeof(int64_t) * (size_t)total);
    int64_t n = 0;
    for (int64_t g = 0; g < n_groups; g++)
        for (int64_t j = 0; j <= size[g]; j++) rg[n++] = j == size[g] ? -1 - g : g;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(feed_rng() % (uint64_t)(i + 1)), t = rg[i];
        rg[i] = rg[j];
        rg[j] = t;
    }
    double *val = malloc(sizeof(double) * (size_t)total);
    int32_t *ival = malloc(sizeof(int32_t) * (size_t)total);
    for (int64_t i = 0; i < n; i++) {
        int64_t g = rg[i] < 0 ? -1 - rg[i] : rg[i];
        uint64_t r = feed_rng();
        double x;
        switch (g % 6) {
        case 0: x = 7.5; break;                                   /* all equal */
        case 1: x = (double)(r % 3); break;                       /* few distinct */
        case 2: x = r % 3 == 0 ? NAN : (double)(r % 1000) / 7; break; /* a third NaN */
        case 3: x = r % 4 == 0 ? (double)(r % 50) : NAN; break;   /* mostly NaN */
        case 4: x = r % 2 ? -0.0 : 0.0; break;
        default: x = (double)(int64_t)(r % 2000001) - 1e6; break;
        }
        val[i] = x;
        ival[i] = (int32_t)(r % 101) - 50;
    }
    /* two batches */
    pl_batch *bs[2];
    for (int b = 0; b < 2; b++) {
        int64_t a0 = b ? n / 2 : 0, a1 = b ? n : n / 2;
        pl_builder *bl[3];
        pl_type *ty[3] = {pl_type_simple(PL_TYPE_INT64), pl_type_simple(PL_TYPE_FLOAT64),
                          pl_type_simple(PL_TYPE_INT32)};
        for (int c = 0; c < 3; c++) assert_int_equal(pl_builder_new(ty[c], a1 - a0, &bl[c], &err), PL_OK);
        for (int64_t i = a0; i < a1; i++) {
            bool null_row = rg[i] < 0;
            int64_t g = null_row ? -1 - rg[i] : rg[i];
            assert_int_equal(pl_builder_append_i64(bl[0], g, &err), PL_OK);
            if (null_row) {
                assert_int_equal(pl_builder_append_null(bl[1], &err), PL_OK);
                assert_int_equal(pl_builder_append_null(bl[2], &err), PL_OK);
            } else {
                assert_int_equal(pl_builder_append_f64(bl[1], val[i], &err), PL_OK);
                assert_int_equal(pl_builder_append_i64(bl[2], ival[i], &err), PL_OK);
            }
        }
        pl_array *cols[3];
        for (int c = 0; c < 3; c++) {
            assert_int_equal(pl_builder_finish(bl[c], &cols[c], &err), PL_OK);
            pl_builder_free(bl[c]);
        }
        assert_int_equal(pl_batch_new(pl_schema_retain(schema), a1 - a0, cols, &bs[b], &err), PL_OK);
    }
    pl_schema_release(schema);
    enum { Q_MED, Q_10, Q_90, Q_IMED, Q_I33, N_Q };
    static const double qs[N_Q] = {0.5, 0.1, 0.9, 0.5, 1.0 / 3};
    pl_agg_spec sp[N_Q + 2]; /* + min(v), max(v): NaN is the largest */
    for (int i = 0; i < N_Q; i++) {
        bool iv = i >= Q_IMED;
        sp[i] = SPEC(i == Q_MED || i == Q_IMED ? "median" : "quantile_cont", iv ? 2 : 1);
        if (i != Q_MED && i != Q_IMED) {
            sp[i].n_args = 2;
            g_consts[2 + i].type = pl_type_simple(PL_TYPE_FLOAT64);
            g_consts[2 + i].v.f = qs[i];
            sp[i].consts[1] = g_consts[2 + i];
        }
    }
    sp[N_Q] = SPEC("min", 1);
    sp[N_Q + 1] = SPEC("max", 1);
    int32_t keys[1] = {0};
    pl_batch *out;
    assert_int_equal(run_agg(2, bs, 1, keys, N_Q + 2, sp, max_rows, &out, &err), PL_OK);
    assert_int_equal(out->n_rows, n_groups);
    /* model: values per group */
    int64_t *start = calloc((size_t)n_groups + 1, 8), *cur = malloc(8 * (size_t)n_groups);
    for (int64_t i = 0; i < n; i++)
        if (rg[i] >= 0) start[rg[i] + 1]++;
    for (int64_t g = 0; g < n_groups; g++) start[g + 1] += start[g];
    memcpy(cur, start, 8 * (size_t)n_groups);
    double *gv = malloc(8 * (size_t)PL_MAX(start[n_groups], 1));
    double *gi = malloc(8 * (size_t)PL_MAX(start[n_groups], 1));
    for (int64_t i = 0; i < n; i++)
        if (rg[i] >= 0) {
            gv[cur[rg[i]]] = val[i];
            gi[cur[rg[i]]++] = ival[i];
        }
    bool *seen = calloc((size_t)n_groups, 1);
    double *tmp = malloc(8 * (size_t)PL_MAX(start[n_groups], 1));
    for (int64_t r = 0; r < out->n_rows; r++) {
        int64_t g = out_i64(out->columns[0], r);
        assert_true(g >= 0 && g < n_groups && !seen[g]);
        seen[g] = true;
        int64_t m = start[g + 1] - start[g];
        for (int i = 0; i < N_Q; i++) {
            pl_array *c = out->columns[1 + i];
            assert_int_equal(pl_array_is_valid(c, r), m > 0);
            if (!m) continue;
            memcpy(tmp, (i >= Q_IMED ? gi : gv) + start[g], 8 * (size_t)m);
            double want = model_quantile(tmp, m, qs[i]), got = out_f64(c, r);
            if (!same_double(got, want))
                fail_msg("group %lld (size %lld) quantile %g: got %.17g, want %.17g", (long long)g,
                         (long long)m, qs[i], got, want);
        }
        for (int i = 0; i < 2; i++) { /* tmp holds the group's v sorted, NaN last */
            pl_array *c = out->columns[1 + N_Q + i];
            assert_int_equal(pl_array_is_valid(c, r), m > 0);
            if (!m) continue;
            memcpy(tmp, gv + start[g], 8 * (size_t)m);
            qsort(tmp, (size_t)m, 8, cmp_nan_last);
            double want = i ? tmp[m - 1] : tmp[0], got = out_f64(c, r);
            if (!same_double(got, want))
                fail_msg("group %lld %s: got %.17g, want %.17g", (long long)g, i ? "max" : "min",
                         got, want);
        }
    }
    free(seen), free(tmp), free(gv), free(gi), free(start), free(cur);
    free(size), free(rg), free(val), free(ival);
    pl_batch_release(out);
    pl_batch_release(bs[0]);
    pl_batch_release(bs[1]);
}

static void test_quantile_edges(void **state) {
    (void)state;
    check_quantiles(12, 500);
    check_quantiles(60, 100000);
    check_quantiles(20000, 7000); /* several selection tasks and scatter parts */
}

static void test_distinct_rows(void **state) {
    (void)state;
    gen_rows(100000, 50, 10);
    pl_batch *bs[1] = {make_batch(0, 100000, 0)};
    int32_t keys[2] = {C_K3, C_B};
    pl_error err;
    pl_batch *out;
    assert_int_equal(run_agg(1, bs, 2, keys, 0, NULL, 3000, &out, &err), PL_OK);
    assert_int_equal(out->n_cols, 2);
    assert_int_equal(out->n_rows, 6 * 3); /* k3 in 0..4 or NULL, b true/false/NULL */
    pl_batch_release(out);
    pl_batch_release(bs[0]);
}

static void test_overflow(void **state) {
    (void)state;
    gen_rows(1000, 3, 0);
    for (int64_t i = 0; i < g_n; i++) g_rows[i].x = INT64_MAX / 100;
    pl_batch *bs[1] = {make_batch(0, 1000, 0)};
    pl_agg_spec sp[1] = {SPEC("sum", C_X)};
    int32_t keys[1] = {C_K};
    pl_error err;
    pl_batch *out = NULL;
    assert_int_equal(run_agg(1, bs, 1, keys, 1, sp, 100, &out, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "overflow"));
    /* avg does not overflow: 128-bit sums */
    sp[0] = SPEC("avg", C_X);
    assert_int_equal(run_agg(1, bs, 1, keys, 1, sp, 100, &out, &err), PL_OK);
    assert_true(near(out_f64(out->columns[1], 0), (double)(INT64_MAX / 100)));
    pl_batch_release(out);
    pl_batch_release(bs[0]);
}

static void test_bind(void **state) {
    (void)state;
    assert_true(pl_agg_exists("SUM"));
    assert_true(pl_agg_exists("group_concat"));
    assert_false(pl_agg_exists("sqrt"));
    assert_string_equal(pl_agg_canonical("stddev"), "stddev_samp");
    assert_string_equal(pl_agg_canonical("min_by"), "arg_min");
    assert_string_equal(pl_agg_canonical("percentile_cont"), "quantile_cont");
    assert_null(pl_agg_canonical("nope"));
    pl_error err;
    pl_type *t;
    pl_type *i32 = pl_type_simple(PL_TYPE_INT32), *utf8 = pl_type_simple(PL_TYPE_UTF8);
    assert_int_equal(pl_agg_bind("sum", 1, &i32, NULL, false, &t, &err), PL_OK);
    assert_int_equal(t->id, PL_TYPE_INT64);
    assert_int_equal(pl_agg_bind("avg", 1, &i32, NULL, false, &t, &err), PL_OK);
    assert_int_equal(t->id, PL_TYPE_FLOAT64);
    assert_int_equal(pl_agg_bind("min", 1, &utf8, NULL, false, &t, &err), PL_OK);
    assert_int_equal(t->id, PL_TYPE_UTF8);
    assert_int_equal(pl_agg_bind("sum", 1, &utf8, NULL, false, &t, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "sum(utf8)"));
    pl_type *dec;
    assert_int_equal(pl_type_new_decimal(10, 2, &dec, &err), PL_OK);
    assert_int_equal(pl_agg_bind("sum", 1, &dec, NULL, false, &t, &err), PL_OK);
    assert_int_equal(t->id, PL_TYPE_DECIMAL128);
    assert_int_equal(t->precision, 38);
    assert_int_equal(t->scale, 2);
    pl_type_release(t);
    pl_type_release(dec);
    pl_type *args[2] = {pl_type_simple(PL_TYPE_FLOAT64), pl_type_simple(PL_TYPE_FLOAT64)};
    pl_value q;
    memset(&q, 0, sizeof q);
    q.type = pl_type_simple(PL_TYPE_FLOAT64);
    q.v.f = 1.5;
    const pl_value *cp[2] = {NULL, &q};
    assert_int_equal(pl_agg_bind("quantile_cont", 2, args, cp, false, &t, &err), PL_ERR_SQL);
    q.v.f = 0.5;
    assert_int_equal(pl_agg_bind("quantile_cont", 2, args, cp, false, &t, &err), PL_OK);
    assert_int_equal(pl_agg_bind("count", 0, NULL, NULL, false, &t, &err), PL_OK);
    assert_int_equal(t->id, PL_TYPE_INT64);
    assert_int_equal(pl_agg_bind("arg_min", 1, args, NULL, false, &t, &err), PL_ERR_TYPE);
}

static void test_sink_errors(void **state) {
    (void)state;
    gen_rows(100, 3, 0);
    pl_batch *bs[1] = {make_batch(0, 100, 0)};
    int32_t keys[1] = {C_K};
    pl_error err;
    pl_batch *out = NULL;
    pl_agg_spec sp[1] = {SPEC("no_such_agg", C_X)};
    assert_int_equal(run_agg(1, bs, 1, keys, 1, sp, 50, &out, &err), PL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no_such_agg"));
    sp[0] = SPEC("sum", C_S); /* sum(utf8) */
    assert_int_equal(run_agg(1, bs, 1, keys, 1, sp, 50, &out, &err), PL_ERR_TYPE);
    /* FILTER on a non-boolean column: refused when the sink is made */
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    sp[0] = SPEC("count", -1);
    sp[0].filter_col = C_X;
    sp[0].result_type = pl_type_simple(PL_TYPE_INT64);
    pl_sink *sink = NULL;
    assert_int_equal(pl_agg_sink_new(&ctx, bs[0]->schema, 1, keys, 1, sp, bs[0]->schema, &sink, &err),
                     PL_ERR_INVALID_ARG); /* the output schema has the wrong width */
    pl_field f[2];
    assert_int_equal(pl_field_init(&f[0], "k", pl_type_simple(PL_TYPE_INT64), true, &err), PL_OK);
    assert_int_equal(pl_field_init(&f[1], "n", pl_type_simple(PL_TYPE_INT64), true, &err), PL_OK);
    pl_schema *os;
    assert_int_equal(pl_schema_new(2, f, &os, &err), PL_OK);
    pl_field_reset(&f[0]);
    pl_field_reset(&f[1]);
    assert_int_equal(pl_agg_sink_new(&ctx, bs[0]->schema, 1, keys, 1, sp, os, &sink, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "FILTER"));
    int32_t bad_key[1] = {99};
    sp[0].filter_col = -1;
    assert_int_equal(pl_agg_sink_new(&ctx, bs[0]->schema, 1, bad_key, 1, sp, os, &sink, &err),
                     PL_ERR_INVALID_ARG);
    assert_int_equal(ctx.mem_used, 0);
    pl_schema_release(os);
    pl_batch_release(bs[0]);
}

int main(void) {
    (void)feed_sink; /* the shared helper; this file feeds several batches (cut_morsels) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind),
        cmocka_unit_test(test_streaming_small),
        cmocka_unit_test(test_streaming_morsels),
        cmocka_unit_test(test_streaming_no_nulls),
        cmocka_unit_test(test_streaming_many_groups),
        cmocka_unit_test(test_string_key),
        cmocka_unit_test(test_string_key_weak_tags),
        cmocka_unit_test(test_multi_key_nulls),
        cmocka_unit_test(test_dict_key),
        cmocka_unit_test(test_multi_dict_keys),
        cmocka_unit_test(test_no_keys),
        cmocka_unit_test(test_holistic),
        cmocka_unit_test(test_quantile_edges),
        cmocka_unit_test(test_distinct_rows),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_sink_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(g_rows);
    pl_type_release(g_dict_type);
    return rc;
}
