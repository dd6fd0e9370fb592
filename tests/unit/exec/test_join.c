/* test_join.c - the hash join operator against a nested-loop model: every join kind, one and
 * two keys, int and string keys, NULL keys with and without null_equal, duplicates on both
 * sides, empty sides, residual conditions (also with outer joins), dictionary keys against
 * plain keys, inputs of several morsels probed from several workers, cross joins, per-key
 * null_equal (key_null_equal: one key IS NOT DISTINCT FROM, the other =). Output rows
 * are rendered as text and compared as sorted multisets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "../common/test_util.h"

/* ---------------------------------------------------------------- rows and tables */

typedef struct trow {
    bool k1v, k2v, vv;
    int64_t k1;
    int64_t k2; /* the string "s<k2>" */
    int64_t v;
} trow;

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) { return test_xorshift(&g_rng); }

static trow *gen_rows(int64_t n, int64_t k1_dom, int64_t k2_dom, int null_pct) {
    trow *r = calloc((size_t)(n ? n : 1), sizeof *r);
    for (int64_t i = 0; i < n; i++) {
        r[i].k1v = (int)(rnd() % 100) >= null_pct;
        r[i].k2v = (int)(rnd() % 100) >= null_pct;
        r[i].vv = (int)(rnd() % 100) >= null_pct;
        r[i].k1 = (int64_t)(rnd() % (uint64_t)k1_dom) - 2;
        r[i].k2 = (int64_t)(rnd() % (uint64_t)k2_dom);
        r[i].v = (int64_t)(rnd() % 1000);
    }
    return r;
}

static pl_type *k2_type(bool dict) {
    if (!dict) return pl_type_simple(PL_TYPE_UTF8);
    pl_type *t = NULL;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &t, NULL), PL_OK);
    return t;
}

static pl_schema *make_schema(const char *prefix, bool dict) {
    char n1[32], n2[32], n3[32];
    snprintf(n1, sizeof n1, "%sk1", prefix);
    snprintf(n2, sizeof n2, "%sk2", prefix);
    snprintf(n3, sizeof n3, "%sv", prefix);
    pl_type *t2 = k2_type(dict);
    pl_field f[3] = {{n1, pl_type_simple(PL_TYPE_INT64), true}, {n2, t2, true},
                     {n3, pl_type_simple(PL_TYPE_INT64), true}};
    pl_schema *s = NULL;
    assert_int_equal(pl_schema_new(3, f, &s, NULL), PL_OK);
    pl_type_release(t2);
    return s;
}

/* A table of rows in batches of batch_rows (k2 as dictionary when dict). */
static pl_table *make_table(const trow *r, int64_t n, bool dict, int64_t batch_rows,
                            pl_schema *schema) {
    pl_table *t = NULL;
    assert_int_equal(pl_table_new(schema, &t, NULL), PL_OK);
    for (int64_t off = 0; off < n; off += batch_rows) {
        int64_t m = n - off < batch_rows ? n - off : batch_rows;
        pl_builder *b[3];
        for (int c = 0; c < 3; c++)
            assert_int_equal(pl_builder_new(schema->fields[c].type, m, &b[c], NULL), PL_OK);
        for (int64_t i = off; i < off + m; i++) {
            char s[32];
            int len = snprintf(s, sizeof s, "s%lld", (long long)r[i].k2);
            assert_int_equal(r[i].k1v ? pl_builder_append_i64(b[0], r[i].k1, NULL)
                                      : pl_builder_append_null(b[0], NULL), PL_OK);
            assert_int_equal(r[i].k2v ? pl_builder_append_bytes(b[1], s, len, NULL)
                                      : pl_builder_append_null(b[1], NULL), PL_OK);
            assert_int_equal(r[i].vv ? pl_builder_append_i64(b[2], r[i].v, NULL)
                                     : pl_builder_append_null(b[2], NULL), PL_OK);
        }
        pl_array *cols[3];
        for (int c = 0; c < 3; c++) {
            assert_int_equal(pl_builder_finish(b[c], &cols[c], NULL), PL_OK);
            pl_builder_free(b[c]);
        }
        pl_batch *bt = NULL;
        assert_int_equal(pl_batch_new(pl_schema_retain(schema), m, cols, &bt, NULL), PL_OK);
        assert_int_equal(pl_table_append(t, bt, NULL), PL_OK);
        pl_batch_release(bt);
    }
    (void)dict;
    return t;
}

/* ---------------------------------------------------------------- rendering */

static void render_value(pl_array *a, int64_t i, char *out, size_t cap) {
    if (!pl_array_is_valid(a, i)) {
        snprintf(out, cap, "N");
        return;
    }
    if (a->type->id == PL_TYPE_DICTIONARY) {
        int32_t k = ((const int32_t *)(const void *)a->values->data)[a->offset + i];
        render_value(a->dictionary, k, out, cap);
        return;
    }
    if (a->type->id == PL_TYPE_UTF8) {
        int32_t len;
        const uint8_t *p = pl_array_bytes(a, i, &len);
        snprintf(out, cap, "%.*s", (int)len, (const char *)p);
        return;
    }
    assert_int_equal(a->type->id, PL_TYPE_INT64);
    snprintf(out, cap, "%lld", (long long)((const int64_t *)pl_array_values_ptr(a))[i]);
}

static char *render_batch_row(pl_batch *b, int64_t i) {
    char buf[256], v[64];
    size_t n = 0;
    buf[0] = 0;
    for (int32_t c = 0; c < b->n_cols; c++) {
        render_value(b->columns[c], i, v, sizeof v);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", c ? "|" : "", v);
    }
    return strdup(buf);
}

static int render_trow(const trow *r, char *out, size_t cap) {
    char a[32], b[32], c[32];
    if (r) {
        r->k1v ? snprintf(a, sizeof a, "%lld", (long long)r->k1) : snprintf(a, sizeof a, "N");
        r->k2v ? snprintf(b, sizeof b, "s%lld", (long long)r->k2) : snprintf(b, sizeof b, "N");
        r->vv ? snprintf(c, sizeof c, "%lld", (long long)r->v) : snprintf(c, sizeof c, "N");
    } else {
        snprintf(a, sizeof a, "N");
        snprintf(b, sizeof b, "N");
        snprintf(c, sizeof c, "N");
    }
    return snprintf(out, cap, "%s|%s|%s", a, b, c);
}

typedef struct rowset {
    char **s;
    int64_t n, cap;
} rowset;

static void rs_add(rowset *rs, char *s) {
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 64;
        rs->s = realloc(rs->s, sizeof *rs->s * (size_t)rs->cap);
    }
    rs->s[rs->n++] = s;
}

static void rs_free(rowset *rs) {
    for (int64_t i = 0; i < rs->n; i++) free(rs->s[i]);
    free(rs->s);
    memset(rs, 0, sizeof *rs);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void rs_compare(rowset *got, rowset *want) {
    if (got->n) qsort(got->s, (size_t)got->n, sizeof *got->s, cmp_str);
    if (want->n) qsort(want->s, (size_t)want->n, sizeof *want->s, cmp_str);
    int64_t n = got->n < want->n ? got->n : want->n;
    for (int64_t i = 0; i < n; i++) {
        if (strcmp(got->s[i], want->s[i])) {
            print_error("row %lld differs: got \"%s\", want \"%s\"\n", (long long)i, got->s[i], want->s[i]);
            fail();
        }
    }
    if (got->n != want->n) {
        print_error("got %lld rows, want %lld\n", (long long)got->n, (long long)want->n);
        fail();
    }
}

/* ---------------------------------------------------------------- the residual */

/* (probe v + build v) % 3 != 0; NULL when either is NULL. */
static pl_status res_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    (void)ec;
    (void)call;
    pl_array *a = args[0].array, *b = args[1].array;
    pl_builder *bl = NULL;
    PL_TRY(pl_builder_new(pl_type_simple(PL_TYPE_BOOL), n, &bl, err));
    for (int64_t i = 0; i < n; i++) {
        if (!pl_array_is_valid(a, i) || !pl_array_is_valid(b, i)) {
            assert_int_equal(pl_builder_append_null(bl, NULL), PL_OK);
            continue;
        }
        int64_t x = ((const int64_t *)pl_array_values_ptr(a))[i];
        int64_t y = ((const int64_t *)pl_array_values_ptr(b))[i];
        assert_int_equal(pl_builder_append_bool(bl, (x + y) % 3 != 0, NULL), PL_OK);
    }
    pl_array *r = NULL;
    pl_status st = pl_builder_finish(bl, &r, err);
    pl_builder_free(bl);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->array = r;
    return PL_OK;
}

static const pl_func_def res_def = {"test_residual", NULL, 2, 2, PL_FN_ELEMENTWISE, NULL, res_kernel};

static pl_bexpr *col_ref(int32_t col) {
    pl_bexpr *r = pl_calloc(1, sizeof *r);
    r->kind = PL_BEXPR_COL;
    r->col = col;
    r->type = pl_type_simple(PL_TYPE_INT64);
    return r;
}

/* Over probe columns (3) then build columns. */
static pl_bexpr *make_residual(void) {
    pl_bexpr *r = pl_calloc(1, sizeof *r);
    r->kind = PL_BEXPR_CALL;
    r->type = pl_type_simple(PL_TYPE_BOOL);
    r->fn = &res_def;
    r->n_args = 2;
    r->args = pl_calloc(2, sizeof *r->args);
    r->args[0] = col_ref(2);
    r->args[1] = col_ref(3 + 2);
    return r;
}

/* The same condition bound from an expression over probe then build columns. */
static pl_bexpr *bind_residual(pl_schema *ps, pl_schema *bs) {
    pl_field f[6];
    for (int i = 0; i < 3; i++) f[i] = ps->fields[i], f[3 + i] = bs->fields[i];
    pl_schema *all = NULL;
    assert_int_equal(pl_schema_new(6, f, &all, NULL), PL_OK);
    pl_expr *e = pl_expr_call2(
        "ne",
        pl_expr_call2("mod", pl_expr_call2("add", pl_expr_col_index(2, "p_v"), pl_expr_col_index(5, "b_v")),
                      pl_expr_lit_i64(3)),
        pl_expr_lit_i64(0));
    pl_bexpr *b = NULL;
    pl_error err;
    memset(&err, 0, sizeof err);
    if (pl_expr_bind(e, all, &b, &err)) {
        print_error("bind: %s\n", err.msg);
        fail();
    }
    pl_expr_release(e);
    pl_schema_release(all);
    return b;
}

static bool model_res(const trow *p, const trow *b) {
    return p->vv && b->vv && (p->v + b->v) % 3 != 0;
}

/* ---------------------------------------------------------------- running a join */

typedef struct jcase {
    pl_join_kind kind;
    int n_keys;     /* 0, 1 or 2 */
    int key_set;    /* 0: k1 | 1: k2 | 2: k1,k2 (n_keys from it when n_keys > 0) */
    bool null_equal;
    bool residual;
    bool pdict, bdict;
    int64_t np, nb;
    int64_t k1_dom, k2_dom;
    int null_pct;
    int64_t pbatch, bbatch;
    int threads;
    bool dict_out; /* the output asks for the (plain) build k2 as dictionary<int32, utf8> */
    bool bound;    /* the residual bound from an expression (add, mod, ne) */
    int ne_mask;   /* != 0: spec.key_null_equal per key, bit 0 = k1, bit 1 = k2 (null_equal
                    * then ignored by the operator; the model uses these bits) */
} jcase;

static bool key_ne(const jcase *c, int key) {
    return c->ne_mask ? (c->ne_mask >> key) & 1 : c->null_equal;
}

typedef struct run_ctx {
    pl_op *op;
    pl_exec_ctx *ctx;
    pl_batch **morsels;
    pl_batch **outs;
    int failed;
    pl_error err;
} run_ctx;

static void run_morsel(void *arg, int64_t i, int32_t worker) {
    run_ctx *rc = arg;
    pl_error e;
    memset(&e, 0, sizeof e);
    pl_status st = rc->op->process(rc->op, rc->ctx, worker, rc->morsels[i], &rc->outs[i], &e);
    if (st && !__atomic_exchange_n(&rc->failed, 1, __ATOMIC_ACQ_REL)) rc->err = e;
}

static bool keys_match(const jcase *c, const trow *p, const trow *b) {
    bool use1 = c->key_set == 0 || c->key_set == 2, use2 = c->key_set == 1 || c->key_set == 2;
    if (use1) {
        if (!p->k1v || !b->k1v) {
            if (!(key_ne(c, 0) && !p->k1v && !b->k1v)) return false;
        } else if (p->k1 != b->k1) {
            return false;
        }
    }
    if (use2) {
        if (!p->k2v || !b->k2v) {
            if (!(key_ne(c, 1) && !p->k2v && !b->k2v)) return false;
        } else if (p->k2 != b->k2) {
            return false;
        }
    }
    return true;
}

static void model(const jcase *c, const trow *pr, const trow *br, rowset *want) {
    bool *bmatched = calloc((size_t)(c->nb ? c->nb : 1), 1);
    char buf[256];
    bool build_only = c->kind == PL_JK_BUILD_SEMI || c->kind == PL_JK_BUILD_ANTI;
    bool semi = c->kind == PL_JK_SEMI || c->kind == PL_JK_ANTI || build_only;
    /* build rows listed by k1 (rows with a NULL k1 last), when k1 is a key */
    bool by_k1 = c->n_keys > 0 && c->key_set != 1;
    int64_t dom = c->k1_dom + 1, *start = NULL, *rows = NULL;
    if (by_k1) {
        start = calloc((size_t)dom + 1, sizeof *start);
        rows = malloc(sizeof *rows * (size_t)(c->nb ? c->nb : 1));
        for (int64_t b = 0; b < c->nb; b++) start[(br[b].k1v ? br[b].k1 + 2 : c->k1_dom) + 1]++;
        for (int64_t d = 0; d < dom; d++) start[d + 1] += start[d];
        int64_t *pos = malloc(sizeof *pos * (size_t)dom);
        memcpy(pos, start, sizeof *pos * (size_t)dom);
        for (int64_t b = 0; b < c->nb; b++) rows[pos[br[b].k1v ? br[b].k1 + 2 : c->k1_dom]++] = b;
        free(pos);
    }
    for (int64_t p = 0; p < c->np; p++) {
        int64_t nm = 0;
        int64_t lo = 0, hi = c->nb;
        if (by_k1) {
            int64_t d = pr[p].k1v ? pr[p].k1 + 2 : c->k1_dom;
            lo = start[d];
            hi = start[d + 1];
        }
        for (int64_t x = lo; x < hi; x++) {
            int64_t b = by_k1 ? rows[x] : x;
            if (c->n_keys > 0 && !keys_match(c, &pr[p], &br[b])) continue;
            if (c->residual && !model_res(&pr[p], &br[b])) continue;
            nm++;
            bmatched[b] = true;
            if (!semi) {
                int n = render_trow(&pr[p], buf, sizeof buf);
                buf[n++] = '|';
                render_trow(&br[b], buf + n, sizeof buf - (size_t)n);
                rs_add(want, strdup(buf));
            }
        }
        if ((c->kind == PL_JK_SEMI && nm) || (c->kind == PL_JK_ANTI && !nm)) {
            render_trow(&pr[p], buf, sizeof buf);
            rs_add(want, strdup(buf));
        }
        if (!nm && (c->kind == PL_JK_PROBE_OUTER || c->kind == PL_JK_FULL)) {
            int n = render_trow(&pr[p], buf, sizeof buf);
            buf[n++] = '|';
            render_trow(NULL, buf + n, sizeof buf - (size_t)n);
            rs_add(want, strdup(buf));
        }
    }
    if (c->kind == PL_JK_BUILD_OUTER || c->kind == PL_JK_FULL)
        for (int64_t b = 0; b < c->nb; b++) {
            if (bmatched[b]) continue;
            int n = render_trow(NULL, buf, sizeof buf);
            buf[n++] = '|';
            render_trow(&br[b], buf + n, sizeof buf - (size_t)n);
            rs_add(want, strdup(buf));
        }
    if (build_only)
        for (int64_t b = 0; b < c->nb; b++) {
            if (bmatched[b] != (c->kind == PL_JK_BUILD_SEMI)) continue;
            render_trow(&br[b], buf, sizeof buf);
            rs_add(want, strdup(buf));
        }
    free(bmatched);
    free(start);
    free(rows);
}

/* Builds the operator for case c over the tables; returns it prepared. */
static pl_status make_join(const jcase *c, pl_exec_ctx *ctx, pl_table *bt, pl_schema *ps,
                           pl_schema *bs, pl_op **out, pl_error *err) {
    int32_t pk[2], bk[2];
    bool kne[2] = {false, false};
    int n_keys = 0;
    if (c->n_keys > 0) {
        if (c->key_set == 0 || c->key_set == 2) kne[n_keys] = key_ne(c, 0), pk[n_keys] = bk[n_keys] = 0, n_keys++;
        if (c->key_set == 1 || c->key_set == 2) kne[n_keys] = key_ne(c, 1), pk[n_keys] = bk[n_keys] = 1, n_keys++;
    }
    int32_t po[3] = {0, 1, 2}, bo[3] = {0, 1, 2};
    bool build_only = c->kind == PL_JK_BUILD_SEMI || c->kind == PL_JK_BUILD_ANTI;
    bool semi = c->kind == PL_JK_SEMI || c->kind == PL_JK_ANTI || build_only;
    pl_field f[6];
    for (int i = 0; i < 3; i++) f[i] = build_only ? bs->fields[i] : ps->fields[i];
    for (int i = 0; i < 3; i++) f[3 + i] = bs->fields[i];
    pl_type *dt = k2_type(true);
    if (c->dict_out && !c->bdict) f[4].type = dt;
    pl_schema *os = NULL;
    assert_int_equal(pl_schema_new(semi ? 3 : 6, f, &os, NULL), PL_OK);
    pl_type_release(dt);
    pl_join_spec spec = {
        .kind = c->kind,
        .n_keys = n_keys,
        .probe_keys = pk,
        .build_keys = bk,
        .null_equal = c->null_equal,
        .key_null_equal = c->ne_mask ? kne : NULL,
        .residual = c->residual ? (c->bound ? bind_residual(ps, bs) : make_residual()) : NULL,
        .n_probe_out = build_only ? 0 : 3,
        .probe_out = po,
        .n_build_out = semi && !build_only ? 0 : 3,
        .build_out = bo,
        .out_schema = os,
    };
    pl_stream *src = NULL;
    pl_pipeline *pipe = NULL;
    assert_int_equal(pl_stream_from_table(bt, &src, NULL), PL_OK);
    assert_int_equal(pl_pipeline_new(src, &pipe, NULL), PL_OK);
    pl_op *op = NULL;
    pl_status st = pl_join_op_new(ctx, &spec, ps, pipe, &op, err);
    pl_schema_release(os);
    if (st) return st;
    st = op->prepare(op, ctx, err);
    if (st) {
        pl_op_free(op);
        return st;
    }
    *out = op;
    return PL_OK;
}

static void run_case(const jcase *c) {
    trow *pr = gen_rows(c->np, c->k1_dom, c->k2_dom, c->null_pct);
    trow *br = gen_rows(c->nb, c->k1_dom, c->k2_dom, c->null_pct);
    pl_schema *ps = make_schema("p_", c->pdict), *bs = make_schema("b_", c->bdict);
    pl_table *pt = make_table(pr, c->np, c->pdict, c->pbatch, ps);
    pl_table *bt = make_table(br, c->nb, c->bdict, c->bbatch, bs);
    pl_exec_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.n_threads = c->threads;
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, &opts);
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_op *op = NULL;
    pl_status st = make_join(c, &ctx, bt, ps, bs, &op, &err);
    if (st) {
        print_error("join failed: %s\n", err.msg);
        fail();
    }
    /* morsels */
    int64_t nm = 0;
    pl_batch **morsels = calloc((size_t)(c->np / 1000 + pt->n_batches + 8), sizeof *morsels);
    for (int64_t b = 0; b < pt->n_batches; b++) {
        pl_batch *bb = pt->batches[b];
        for (int64_t off = 0; off < bb->n_rows; off += PL_MORSEL_ROWS) {
            int64_t m = bb->n_rows - off < PL_MORSEL_ROWS ? bb->n_rows - off : PL_MORSEL_ROWS;
            assert_int_equal(pl_batch_slice(bb, off, m, &morsels[nm++], NULL), PL_OK);
        }
    }
    pl_batch **outs = calloc((size_t)nm + 1, sizeof *outs);
    run_ctx rc = {.op = op, .ctx = &ctx, .morsels = morsels, .outs = outs};
    pl_parallel_for(nm, c->threads, run_morsel, &rc);
    if (rc.failed) {
        print_error("probe failed: %s\n", rc.err.msg);
        fail();
    }
    assert_int_equal(op->flush(op, &ctx, &outs[nm], &err), PL_OK);
    rowset got = {0}, want = {0};
    for (int64_t i = 0; i <= nm; i++) {
        if (!outs[i]) continue;
        assert_true(pl_schema_equals(outs[i]->schema, op->schema));
        for (int64_t r = 0; r < outs[i]->n_rows; r++) rs_add(&got, render_batch_row(outs[i], r));
        pl_batch_release(outs[i]);
    }
    for (int64_t i = 0; i < nm; i++) pl_batch_release(morsels[i]);
    free(morsels);
    free(outs);
    model(c, pr, br, &want);
    rs_compare(&got, &want);
    rs_free(&got);
    rs_free(&want);
    pl_op_free(op);
    pl_table_release(pt);
    pl_table_release(bt);
    pl_schema_release(ps);
    pl_schema_release(bs);
    free(pr);
    free(br);
    assert_true(ctx.mem_used == 0);
}

static const pl_join_kind all_kinds[] = {PL_JK_INNER, PL_JK_PROBE_OUTER, PL_JK_BUILD_OUTER,
                                         PL_JK_FULL,  PL_JK_SEMI,        PL_JK_ANTI,
                                         PL_JK_BUILD_SEMI, PL_JK_BUILD_ANTI};

/* ---------------------------------------------------------------- tests */

static void test_small_all(void **state) {
    (void)state;
    for (int k = 0; k < 8; k++)
        for (int ks = 0; ks < 3; ks++)
            for (int ne = 0; ne < 2; ne++)
                for (int res = 0; res < 2; res++)
                    for (int d = 0; d < 4; d++) {
                        jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = ks,
                                   .null_equal = ne, .residual = res, .pdict = d & 1,
                                   .bdict = d >> 1, .np = 300, .nb = 120, .k1_dom = 12,
                                   .k2_dom = 9, .null_pct = 10, .pbatch = 70, .bbatch = 50,
                                   .threads = 2};
                        run_case(&c);
                    }
}

/* One key compared with IS NOT DISTINCT FROM, the other with = (and both, and neither, given
 * per key), with null_equal set to the opposite of the first key to show it is overridden. */
static void test_mixed_null_equal(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++)
        for (int mask = 1; mask < 4; mask++)
            for (int res = 0; res < 2; res++)
                for (int d = 0; d < 4; d++) {
                    jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = 2,
                               .null_equal = !(mask & 1), .ne_mask = mask, .residual = res,
                               .pdict = d & 1, .bdict = d >> 1, .np = 400, .nb = 150,
                               .k1_dom = 6, .k2_dom = 5, .null_pct = 25, .pbatch = 90,
                               .bbatch = 40, .threads = 2};
                    run_case(&c);
                }
    /* a single key given per key: the integer mode's NULL side list */
    for (int k = 0; k < 6; k++)
        for (int ks = 0; ks < 2; ks++) {
            jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = ks, .null_equal = false,
                       .ne_mask = 3, .np = 500, .nb = 300, .k1_dom = 7, .k2_dom = 7,
                       .null_pct = 30, .pbatch = 100, .bbatch = 64, .threads = 2};
            run_case(&c);
        }
    /* many rows, NULL-heavy (skew), several workers */
    for (int k = 0; k < 6; k++) {
        jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = 2, .ne_mask = 2, .np = 6000,
                   .nb = 5000, .k1_dom = 300, .k2_dom = 40, .null_pct = 40, .pbatch = 1024,
                   .bbatch = 700, .threads = 2};
        run_case(&c);
    }
}

static void test_empty_sides(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++)
        for (int ks = 0; ks < 3; ks++)
            for (int e = 0; e < 3; e++) {
                jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = ks, .np = e == 0 ? 0 : 50,
                           .nb = e == 1 ? 0 : 40, .k1_dom = 5, .k2_dom = 5, .null_pct = 10,
                           .pbatch = 64, .bbatch = 64, .threads = 1};
                if (e == 2) c.k1_dom = 1000000, c.k2_dom = 1000000; /* nothing matches */
                run_case(&c);
            }
}

static void test_cross(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++)
        for (int res = 0; res < 2; res++)
            for (int e = 0; e < 2; e++) {
                jcase c = {.kind = all_kinds[k], .n_keys = 0, .residual = res, .np = 150,
                           .nb = e ? 0 : 37, .k1_dom = 5, .k2_dom = 5, .null_pct = 10,
                           .pbatch = 64, .bbatch = 10, .threads = 2};
                run_case(&c);
            }
    /* a block boundary inside a probe row's build range */
    jcase c = {.kind = PL_JK_INNER, .n_keys = 0, .residual = true, .np = 300, .nb = 700,
               .k1_dom = 5, .k2_dom = 5, .null_pct = 5, .pbatch = 300, .bbatch = 256, .threads = 2};
    run_case(&c);
}

/* Several morsels probed from two workers; build larger than one chunk; many duplicates. */
static void test_large(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++)
        for (int ks = 0; ks < 3; ks++) {
            if ((ks == 2 && k > 1) || k == 2 || k == 4) continue;
            jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = ks, .residual = k % 2 == 1,
                       .pdict = ks == 1, .np = 100000, .nb = 40, .k1_dom = 60, .k2_dom = 50,
                       .null_pct = 3, .pbatch = 150000, .bbatch = 7, .threads = 2};
            run_case(&c);
        }
}

/* Large build side (several chunks and partitions), unique-ish and duplicate int keys. */
static void test_large_build(void **state) {
    (void)state;
    pl_join_kind kinds[] = {PL_JK_INNER, PL_JK_FULL, PL_JK_ANTI, PL_JK_BUILD_SEMI, PL_JK_BUILD_ANTI};
    for (int k = 0; k < 5; k++)
        for (int ks = 0; ks < 2; ks++) {
            /* INNER, ANTI, BUILD_*: int key; FULL, BUILD_SEMI: two keys, dictionary */
            if (ks != (k == 1) && !(k == 3 && ks == 1)) continue;
            jcase c = {.kind = kinds[k], .n_keys = 1, .key_set = ks == 0 ? 0 : 2,
                       .null_equal = k == 1, .bdict = ks == 1, .np = 4000, .nb = 270000,
                       .k1_dom = 400000, .k2_dom = 3, .null_pct = 2, .pbatch = 1000,
                       .bbatch = 100000, .threads = 2};
            run_case(&c);
        }
}

/* Large dictionary-encoded probe key against a small plain build table (the ticks shape). */
static void test_dict_probe(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++)
        for (int ne = 0; ne < 2; ne++) {
            if (ne && (k == 1 || k == 2 || k == 4)) continue;
            jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = 1, .null_equal = ne,
                       .pdict = true, .np = 70000, .nb = 30, .k1_dom = 5, .k2_dom = 40,
                       .null_pct = k == 0 ? 0 : 2, .pbatch = 35000, .bbatch = 30, .threads = 2};
            run_case(&c);
        }
    /* build k2 emitted as a dictionary over the build column */
    for (int k = 0; k < 4; k++) {
        jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = k % 2 ? 1 : 2, .residual = k == 1,
                   .pdict = true, .np = 20000, .nb = 60, .k1_dom = 5, .k2_dom = 40,
                   .null_pct = 5, .pbatch = 20000, .bbatch = 30, .threads = 2, .dict_out = true};
        run_case(&c);
    }
    /* unique build keys, no NULLs: the one-pass path */
    jcase c = {.kind = PL_JK_INNER, .n_keys = 1, .key_set = 1, .pdict = true, .np = 140000,
               .nb = 30, .k1_dom = 5, .k2_dom = 40, .null_pct = 0, .pbatch = 70000,
               .bbatch = 30, .threads = 2};
    run_case(&c);
}

static void test_bound_residual(void **state) {
    (void)state;
    for (int k = 0; k < 6; k++) {
        jcase c = {.kind = all_kinds[k], .n_keys = 1, .key_set = k % 3, .residual = true,
                   .bound = true, .pdict = k == 2, .np = 5000, .nb = 300, .k1_dom = 40,
                   .k2_dom = 30, .null_pct = 5, .pbatch = 2000, .bbatch = 100, .threads = 2};
        run_case(&c);
    }
    jcase c = {.kind = PL_JK_PROBE_OUTER, .n_keys = 0, .residual = true, .bound = true,
               .np = 500, .nb = 200, .k1_dom = 5, .k2_dom = 5, .null_pct = 5, .pbatch = 128,
               .bbatch = 64, .threads = 2};
    run_case(&c);
}

/* One FLOAT64 key column each side; returns the number of output rows. */
static int64_t float_join(const double *pv, const bool *pvalid, int np, const double *bv,
                          const bool *bvalid, int nb, pl_join_kind kind, bool null_equal) {
    pl_field pf = {"p", pl_type_simple(PL_TYPE_FLOAT64), true}, bf = {"b", pl_type_simple(PL_TYPE_FLOAT64), true};
    pl_schema *ps = NULL, *bs = NULL;
    assert_int_equal(pl_schema_new(1, &pf, &ps, NULL), PL_OK);
    assert_int_equal(pl_schema_new(1, &bf, &bs, NULL), PL_OK);
    pl_table *tabs[2];
    for (int side = 0; side < 2; side++) {
        pl_builder *b = NULL;
        assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_FLOAT64), 8, &b, NULL), PL_OK);
        int n = side ? nb : np;
        for (int i = 0; i < n; i++) {
            bool v = side ? bvalid[i] : pvalid[i];
            double d = side ? bv[i] : pv[i];
            assert_int_equal(v ? pl_builder_append_f64(b, d, NULL) : pl_builder_append_null(b, NULL), PL_OK);
        }
        pl_array *a = NULL;
        assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
        pl_builder_free(b);
        pl_batch *bt = NULL;
        assert_int_equal(pl_batch_new(pl_schema_retain(side ? bs : ps), n, &a, &bt, NULL), PL_OK);
        assert_int_equal(pl_table_new(side ? bs : ps, &tabs[side], NULL), PL_OK);
        assert_int_equal(pl_table_append(tabs[side], bt, NULL), PL_OK);
        pl_batch_release(bt);
    }
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, NULL);
    int32_t k = 0;
    pl_join_spec spec = {.kind = kind, .n_keys = 1, .probe_keys = &k, .build_keys = &k,
                         .null_equal = null_equal, .n_probe_out = 1, .probe_out = &k,
                         .out_schema = ps};
    pl_stream *src = NULL;
    pl_pipeline *pipe = NULL;
    assert_int_equal(pl_stream_from_table(tabs[1], &src, NULL), PL_OK);
    assert_int_equal(pl_pipeline_new(src, &pipe, NULL), PL_OK);
    pl_op *op = NULL;
    assert_int_equal(pl_join_op_new(&ctx, &spec, ps, pipe, &op, NULL), PL_OK);
    assert_int_equal(op->prepare(op, &ctx, NULL), PL_OK);
    pl_batch *out = NULL;
    assert_int_equal(op->process(op, &ctx, 0, tabs[0]->batches[0], &out, NULL), PL_OK);
    int64_t n = out ? out->n_rows : 0;
    pl_batch_release(out);
    pl_op_free(op);
    pl_table_release(tabs[0]);
    pl_table_release(tabs[1]);
    pl_schema_release(ps);
    pl_schema_release(bs);
    return n;
}

/* DuckDB: 0.0 = -0.0 and NaN = NaN in joins. */
static void test_float_keys(void **state) {
    (void)state;
    double pv[] = {0.0, -0.0, NAN, 1.5, 0.0};
    bool pvalid[] = {true, true, true, true, false};
    double bv[] = {-0.0, NAN, 0.0, 2.0};
    bool bvalid[] = {true, true, false, true};
    assert_int_equal(float_join(pv, pvalid, 5, bv, bvalid, 4, PL_JK_SEMI, false), 3);
    assert_int_equal(float_join(pv, pvalid, 5, bv, bvalid, 4, PL_JK_SEMI, true), 4);
    assert_int_equal(float_join(pv, pvalid, 5, bv, bvalid, 4, PL_JK_ANTI, false), 2);
}

/* A cross join that would make 1e8 rows from one morsel stops at the memory limit. */
static void test_memory_limit(void **state) {
    (void)state;
    jcase c = {.kind = PL_JK_INNER, .n_keys = 0, .np = 1000, .nb = 100000, .k1_dom = 5,
               .k2_dom = 5, .pbatch = 1000, .bbatch = 50000, .threads = 1};
    trow *pr = gen_rows(c.np, 5, 5, 0), *br = gen_rows(c.nb, 5, 5, 0);
    pl_schema *ps = make_schema("p_", false), *bs = make_schema("b_", false);
    pl_table *pt = make_table(pr, c.np, false, c.pbatch, ps);
    pl_table *bt = make_table(br, c.nb, false, c.bbatch, bs);
    pl_exec_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.memory_limit = 64 << 20;
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, &opts);
    pl_error err;
    memset(&err, 0, sizeof err);
    pl_op *op = NULL;
    assert_int_equal(make_join(&c, &ctx, bt, ps, bs, &op, &err), PL_OK);
    pl_batch *out = NULL;
    assert_int_equal(op->process(op, &ctx, 0, pt->batches[0], &out, &err), PL_ERR_NOMEM);
    assert_null(out);
    assert_non_null(strstr(err.msg, "memory limit"));
    pl_op_free(op);
    assert_true(ctx.mem_used == 0);
    pl_table_release(pt);
    pl_table_release(bt);
    pl_schema_release(ps);
    pl_schema_release(bs);
    free(pr);
    free(br);
}

static void test_errors(void **state) {
    (void)state;
    pl_schema *ps = make_schema("p_", false), *bs = make_schema("b_", false);
    pl_table *bt = NULL;
    assert_int_equal(pl_table_new(bs, &bt, NULL), PL_OK);
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, NULL);
    int32_t pk[1] = {0}, bk[1] = {1}, po[1] = {0};
    pl_join_spec spec = {.kind = PL_JK_INNER, .n_keys = 1, .probe_keys = pk, .build_keys = bk,
                         .n_probe_out = 1, .probe_out = po, .out_schema = ps,
                         .residual = make_residual()};
    pl_stream *src = NULL;
    pl_pipeline *pipe = NULL;
    assert_int_equal(pl_stream_from_table(bt, &src, NULL), PL_OK);
    assert_int_equal(pl_pipeline_new(src, &pipe, NULL), PL_OK);
    pl_op *op = NULL;
    pl_error err;
    memset(&err, 0, sizeof err);
    /* int64 key against a utf8 key; the output schema has 3 fields for 1 column too */
    assert_int_equal(pl_join_op_new(&ctx, &spec, ps, pipe, &op, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "differ in type"));
    pl_table_release(bt);
    pl_schema_release(ps);
    pl_schema_release(bs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_all),   cmocka_unit_test(test_empty_sides),
        cmocka_unit_test(test_mixed_null_equal),
        cmocka_unit_test(test_cross),       cmocka_unit_test(test_large),
        cmocka_unit_test(test_large_build), cmocka_unit_test(test_dict_probe),
        cmocka_unit_test(test_bound_residual), cmocka_unit_test(test_float_keys),
        cmocka_unit_test(test_memory_limit), cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
