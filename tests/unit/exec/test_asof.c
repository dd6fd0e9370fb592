/* test_asof.c - the as-of join operator (src/exec/join/asof.c) against a nested-loop model:
 * the four inequalities, inner and probe-outer, with and without an equality key (plain or
 * dictionary strings), inequality keys compared as int64 (INT64, FLOAT64) and by value
 * (UTF8), NULL keys on both sides, many ties (the first build row of a tie wins), colliding
 * key hashes (pl_asof_set_hash_mask), inputs of several batches probed from two workers; errors of bad specs; the memory charged is
 * returned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "../common/test_util.h"

typedef struct arow {
    bool gv, kv;
    int64_t g, k;
} arow;

static uint64_t g_rng = 0x2545F4914F6CDD1DULL;
static uint64_t rnd(void) { return test_xorshift(&g_rng); }

static arow *gen(int64_t n, int64_t g_dom, int64_t k_dom, int null_pct) {
    arow *r = calloc((size_t)(n ? n : 1), sizeof *r);
    for (int64_t i = 0; i < n; i++) {
        r[i].gv = (int)(rnd() % 100) >= null_pct;
        r[i].kv = (int)(rnd() % 100) >= null_pct;
        r[i].g = (int64_t)(rnd() % (uint64_t)g_dom);
        r[i].k = (int64_t)(rnd() % (uint64_t)k_dom) - k_dom / 4;
    }
    return r;
}

typedef enum ktype { K_INT = 0, K_F64, K_STR } ktype;

static pl_type *g_type(bool dict) {
    if (!dict) return pl_type_simple(PL_TYPE_UTF8);
    pl_type *t = NULL;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &t, NULL), PL_OK);
    return t;
}

static pl_type *k_type(ktype kt) {
    return pl_type_simple(kt == K_INT ? PL_TYPE_INT64 : kt == K_F64 ? PL_TYPE_FLOAT64 : PL_TYPE_UTF8);
}

/* Columns: id (INT64, the row number), g, k. */
static pl_schema *schema_of(bool dict, ktype kt) {
    pl_type *gt = g_type(dict);
    pl_field f[3] = {{"id", pl_type_simple(PL_TYPE_INT64), false}, {"g", gt, true}, {"k", k_type(kt), true}};
    pl_schema *s = NULL;
    assert_int_equal(pl_schema_new(3, f, &s, NULL), PL_OK);
    pl_type_release(gt);
    return s;
}

static pl_table *table_of(const arow *r, int64_t n, pl_schema *s, ktype kt, int64_t batch_rows) {
    pl_table *t = NULL;
    assert_int_equal(pl_table_new(s, &t, NULL), PL_OK);
    for (int64_t off = 0; off < n; off += batch_rows) {
        int64_t m = n - off < batch_rows ? n - off : batch_rows;
        pl_builder *b[3];
        for (int c = 0; c < 3; c++) assert_int_equal(pl_builder_new(s->fields[c].type, m, &b[c], NULL), PL_OK);
        for (int64_t i = off; i < off + m; i++) {
            char gs[32], ks[32];
            int gl = snprintf(gs, sizeof gs, "g%lld", (long long)r[i].g);
            int kl = snprintf(ks, sizeof ks, "k%06lld", (long long)(r[i].k + 100000));
            assert_int_equal(pl_builder_append_i64(b[0], i, NULL), PL_OK);
            assert_int_equal(r[i].gv ? pl_builder_append_bytes(b[1], gs, gl, NULL) : pl_builder_append_null(b[1], NULL), PL_OK);
            pl_status st;
            if (!r[i].kv) st = pl_builder_append_null(b[2], NULL);
            else if (kt == K_INT) st = pl_builder_append_i64(b[2], r[i].k, NULL);
            else if (kt == K_F64) st = pl_builder_append_f64(b[2], (double)r[i].k * 0.5, NULL);
            else st = pl_builder_append_bytes(b[2], ks, kl, NULL);
            assert_int_equal(st, PL_OK);
        }
        pl_array *cols[3];
        for (int c = 0; c < 3; c++) {
            assert_int_equal(pl_builder_finish(b[c], &cols[c], NULL), PL_OK);
            pl_builder_free(b[c]);
        }
        pl_batch *bt = NULL;
        assert_int_equal(pl_batch_new(pl_schema_retain(s), m, cols, &bt, NULL), PL_OK);
        assert_int_equal(pl_table_append(t, bt, NULL), PL_OK);
        pl_batch_release(bt);
    }
    return t;
}

/* The model: the build row for probe row p, or -1. */
static int64_t model(const arow *p, const arow *b, int64_t nb, bool use_g, pl_asof_cmp cmp) {
    if (!p->kv || (use_g && !p->gv)) return -1;
    int64_t best = -1;
    for (int64_t i = 0; i < nb; i++) {
        if (!b[i].kv || (use_g && (!b[i].gv || b[i].g != p->g))) continue;
        bool ok = cmp == PL_ASOF_GE ? p->k >= b[i].k : cmp == PL_ASOF_GT ? p->k > b[i].k
                : cmp == PL_ASOF_LE ? p->k <= b[i].k : p->k < b[i].k;
        if (!ok) continue;
        bool up = cmp == PL_ASOF_GE || cmp == PL_ASOF_GT;
        if (best < 0 || (up ? b[i].k > b[best].k : b[i].k < b[best].k)) best = i;
    }
    return best;
}

typedef struct acase {
    pl_join_kind kind;
    pl_asof_cmp cmp;
    bool use_g, pdict, bdict;
    ktype kt;
    int64_t np, nb, g_dom, k_dom, pbatch, bbatch;
    int null_pct;
} acase;

typedef struct run_ctx {
    pl_op *op;
    pl_exec_ctx *ctx;
    pl_batch **in, **out;
    int failed;
} run_ctx;

static void run_morsel(void *arg, int64_t i, int32_t worker) {
    run_ctx *rc = arg;
    if (rc->op->process(rc->op, rc->ctx, worker, rc->in[i], &rc->out[i], NULL))
        __atomic_store_n(&rc->failed, 1, __ATOMIC_RELEASE);
}

static pl_status make_op(pl_exec_ctx *ctx, const acase *c, pl_schema *ps, pl_schema *bs,
                         pl_table *bt, pl_bexpr *residual, pl_op **out, pl_error *err) {
    int32_t pk[2] = {1, 2}, bk[2] = {1, 2}, po[3] = {0, 1, 2}, bo[3] = {0, 1, 2};
    pl_field f[6];
    for (int i = 0; i < 3; i++) f[i] = ps->fields[i], f[3 + i] = bs->fields[i];
    pl_schema *os = NULL;
    assert_int_equal(pl_schema_new(6, f, &os, NULL), PL_OK);
    pl_join_spec spec = {.kind = c->kind, .n_keys = c->use_g ? 2 : 1,
                         .probe_keys = c->use_g ? pk : pk + 1, .build_keys = c->use_g ? bk : bk + 1,
                         .residual = residual, .n_probe_out = 3, .probe_out = po, .n_build_out = 3,
                         .build_out = bo, .out_schema = os};
    pl_stream *src = NULL;
    pl_pipeline *pipe = NULL;
    assert_int_equal(pl_stream_from_table(bt, &src, NULL), PL_OK);
    assert_int_equal(pl_pipeline_new(src, &pipe, NULL), PL_OK);
    pl_status st = pl_asof_op_new(ctx, &spec, c->cmp, ps, pipe, out, err);
    pl_schema_release(os);
    if (!st) {
        st = (*out)->prepare(*out, ctx, err);
        if (st) pl_op_free(*out);
    }
    return st;
}

static void run_case(const acase *c) {
    arow *pr = gen(c->np, c->g_dom, c->k_dom, c->null_pct), *br = gen(c->nb, c->g_dom, c->k_dom, c->null_pct);
    pl_schema *ps = schema_of(c->pdict, c->kt), *bs = schema_of(c->bdict, c->kt);
    pl_table *pt = table_of(pr, c->np, ps, c->kt, c->pbatch), *bt = table_of(br, c->nb, bs, c->kt, c->bbatch);
    pl_exec_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.n_threads = 2;
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, &opts);
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_op *op = NULL;
    if (make_op(&ctx, c, ps, bs, bt, NULL, &op, &err)) {
        print_error("as-of join failed: %s\n", err.msg);
        fail();
    }
    int64_t nm = pt->n_batches;
    pl_batch **outs = calloc((size_t)nm + 1, sizeof *outs);
    run_ctx rc = {.op = op, .ctx = &ctx, .in = pt->batches, .out = outs};
    pl_parallel_for(nm, 2, run_morsel, &rc);
    assert_int_equal(rc.failed, 0);
    /* every probe row at most once, with the model's build row */
    int64_t *got = malloc(sizeof *got * (size_t)(c->np ? c->np : 1));
    bool *seen = calloc((size_t)(c->np ? c->np : 1), 1);
    for (int64_t i = 0; i < c->np; i++) got[i] = -2;
    int64_t prev_id = -1;
    for (int64_t m = 0; m < nm; m++) {
        if (!outs[m]) continue;
        pl_batch *b = outs[m];
        assert_true(pl_schema_equals(b->schema, op->schema));
        const int64_t *pid = pl_array_values_ptr(b->columns[0]);
        for (int64_t r = 0; r < b->n_rows; r++) {
            int64_t id = pid[r];
            assert_true(id > prev_id); /* probe order kept */
            prev_id = id;
            assert_false(seen[id]);
            seen[id] = true;
            pl_array *bid = b->columns[3];
            got[id] = pl_array_is_valid(bid, r) ? ((const int64_t *)pl_array_values_ptr(bid))[r] : -1;
        }
        pl_batch_release(b);
    }
    for (int64_t i = 0; i < c->np; i++) {
        int64_t want = model(&pr[i], br, c->nb, c->use_g, c->cmp);
        if (want < 0 && c->kind == PL_JK_INNER) want = -2; /* no output row */
        if (got[i] != want) {
            print_error("probe row %lld: got build row %lld, want %lld (cmp %d kind %d kt %d)\n",
                        (long long)i, (long long)got[i], (long long)want, (int)c->cmp, (int)c->kind, (int)c->kt);
            fail();
        }
    }
    free(got);
    free(seen);
    free(outs);
    pl_op_free(op);
    assert_int_equal(ctx.mem_used, 0);
    pl_table_release(pt);
    pl_table_release(bt);
    pl_schema_release(ps);
    pl_schema_release(bs);
    free(pr);
    free(br);
}

static void test_all_ops(void **state) {
    (void)state;
    static const pl_asof_cmp cmps[] = {PL_ASOF_GE, PL_ASOF_GT, PL_ASOF_LE, PL_ASOF_LT};
    for (int ci = 0; ci < 4; ci++)
        for (int kind = 0; kind < 2; kind++)
            for (int kt = 0; kt < 3; kt++)
                for (int use_g = 0; use_g < 2; use_g++) {
                    acase c = {.kind = kind ? PL_JK_PROBE_OUTER : PL_JK_INNER, .cmp = cmps[ci],
                               .use_g = use_g, .pdict = kt == 1, .bdict = kt == 2, .kt = (ktype)kt,
                               .np = 2000, .nb = 800, .g_dom = 7, .k_dom = 300, .pbatch = 500,
                               .bbatch = 300, .null_pct = 5};
                    run_case(&c);
                }
}

/* Larger than one sort chunk (parallel chunk sorts and merges), few keys: long runs of ties. */
static void test_large_build(void **state) {
    (void)state;
    acase c = {.kind = PL_JK_PROBE_OUTER, .cmp = PL_ASOF_GE, .use_g = true, .kt = K_INT, .np = 2000,
               .nb = 150000, .g_dom = 3, .k_dom = 5000, .pbatch = 1000, .bbatch = 40000, .null_pct = 2};
    run_case(&c);
    c.cmp = PL_ASOF_LT;
    c.kind = PL_JK_INNER;
    run_case(&c);
}

/* Every equality key hashed alike (and 3 bits: partial collisions): the walk over candidates
 * skips rows of other keys. */
static void test_hash_collisions(void **state) {
    (void)state;
    static const pl_asof_cmp cmps[] = {PL_ASOF_GE, PL_ASOF_GT, PL_ASOF_LE, PL_ASOF_LT};
    static const uint64_t masks[] = {0, (uint64_t)7 << 61};
    for (int mi = 0; mi < 2; mi++) {
        uint64_t old = pl_asof_set_hash_mask(masks[mi]);
        for (int ci = 0; ci < 4; ci++)
            for (int kt = 0; kt < 3; kt += 2) {
                acase c = {.kind = PL_JK_PROBE_OUTER, .cmp = cmps[ci], .use_g = true, .kt = (ktype)kt,
                           .np = 1500, .nb = 600, .g_dom = 9, .k_dom = 200, .pbatch = 500,
                           .bbatch = 250, .null_pct = 5};
                run_case(&c);
            }
        pl_asof_set_hash_mask(old);
    }
}

static void test_empty(void **state) {
    (void)state;
    acase c = {.kind = PL_JK_PROBE_OUTER, .cmp = PL_ASOF_GE, .use_g = true, .kt = K_INT, .np = 100,
               .nb = 0, .g_dom = 3, .k_dom = 50, .pbatch = 64, .bbatch = 64};
    run_case(&c);
    c.nb = 50;
    c.null_pct = 100; /* every key NULL */
    run_case(&c);
}

static void test_errors(void **state) {
    (void)state;
    pl_schema *ps = schema_of(false, K_INT), *bs = schema_of(false, K_F64);
    pl_table *bt = NULL;
    assert_int_equal(pl_table_new(bs, &bt, NULL), PL_OK);
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, NULL);
    pl_error err;
    pl_op *op = NULL;
    acase c = {.kind = PL_JK_INNER, .cmp = PL_ASOF_GE, .use_g = true};
    /* INT64 against FLOAT64: the planner casts, the operator refuses */
    assert_int_equal(make_op(&ctx, &c, ps, bs, bt, NULL, &op, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "differ in type"));
    pl_table_release(bt);
    pl_schema_release(bs);
    bs = schema_of(false, K_INT);
    assert_int_equal(pl_table_new(bs, &bt, NULL), PL_OK);
    c.kind = PL_JK_SEMI;
    assert_int_equal(make_op(&ctx, &c, ps, bs, bt, NULL, &op, &err), PL_ERR_INVALID_ARG);
    c.kind = PL_JK_INNER;
    c.cmp = (pl_asof_cmp)9;
    assert_int_equal(make_op(&ctx, &c, ps, bs, bt, NULL, &op, &err), PL_ERR_INVALID_ARG);
    assert_int_equal(ctx.mem_used, 0);
    pl_table_release(bt);
    pl_schema_release(ps);
    pl_schema_release(bs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_ops),
        cmocka_unit_test(test_large_build),
        cmocka_unit_test(test_hash_collisions),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
