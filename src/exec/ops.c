/* ops.c - the simple streaming operators (filter, project) and the collect sink. */
#include <pthread.h>

#include "exec/exec.h"

/* ---------------------------------------------------------------- filter */

typedef struct filter_op {
    pl_bexpr *pred;
} filter_op;

static pl_status filter_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                                pl_batch **out, pl_error *err) {
    filter_op *f = op->impl;
    int32_t *sel = NULL;
    int64_t n_sel = 0;
    PL_TRY(pl_bexpr_eval_filter(&ctx->eval, f->pred, in, &sel, &n_sel, err));
    pl_status st = PL_OK;
    if (n_sel == 0) *out = NULL;
    else if (n_sel == in->n_rows) *out = pl_batch_retain(in);
    else st = pl_batch_take_i32(in, sel, n_sel, out, err);
    pl_free(sel);
    return st;
}

static void filter_free(pl_op *op) {
    filter_op *f = op->impl;
    pl_bexpr_free(f->pred);
    pl_free(f);
    pl_schema_release(op->schema);
    pl_free(op);
}

static pl_status op_alloc(const char *name, pl_schema *schema, void *impl, pl_op **out,
                          pl_error *err) {
    pl_op *op = pl_calloc(1, sizeof *op);
    if (!op) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating an operator");
    op->name = name;
    op->schema = pl_schema_retain(schema);
    op->impl = impl;
    *out = op;
    return PL_OK;
}

pl_status pl_filter_op_new(pl_exec_ctx *ctx, pl_schema *in, pl_bexpr *pred, pl_op **out,
                           pl_error *err) {
    PL_UNUSED(ctx);
    filter_op *f = pl_calloc(1, sizeof *f);
    pl_op *op = NULL;
    if (!f || op_alloc("filter", in, f, &op, err)) {
        pl_free(f);
        pl_bexpr_free(pred);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a filter");
    }
    f->pred = pred;
    op->process = filter_process;
    op->free = filter_free;
    *out = op;
    return PL_OK;
}

/* ---------------------------------------------------------------- project */

typedef struct project_op {
    int32_t n;
    pl_bexpr **exprs;
} project_op;

static pl_status project_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                                 pl_batch **out, pl_error *err) {
    project_op *p = op->impl;
    pl_array **cols = pl_calloc((size_t)PL_MAX(p->n, 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory projecting");
    pl_status st = PL_OK;
    for (int32_t i = 0; i < p->n && !st; i++) {
        pl_bexpr *e = p->exprs[i];
        if (e->kind == PL_BEXPR_COL) {
            cols[i] = pl_array_retain(in->columns[e->col]);
            continue;
        }
        st = pl_bexpr_eval_array(&ctx->eval, e, in, &cols[i], err);
    }
    if (!st) {
        /* the schema's type wins for plain column references kept as dictionaries */
        for (int32_t i = 0; i < p->n; i++) {
            pl_type *want = op->schema->fields[i].type;
            if (!pl_type_equals(cols[i]->type, want)) {
                pl_array *c = NULL;
                if (cols[i]->type->id == PL_TYPE_DICTIONARY && want->id != PL_TYPE_DICTIONARY)
                    st = pl_array_decode_dictionary(cols[i], &c, err);
                else
                    st = pl_cast_array(cols[i], want, false, &c, err);
                if (st) break;
                pl_array_release(cols[i]);
                cols[i] = c;
            }
        }
    }
    if (st) {
        for (int32_t i = 0; i < p->n; i++) pl_array_release(cols[i]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_make(op->schema, in->n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

static void project_free(pl_op *op) {
    project_op *p = op->impl;
    for (int32_t i = 0; i < p->n; i++) pl_bexpr_free(p->exprs[i]);
    pl_free(p->exprs);
    pl_free(p);
    pl_schema_release(op->schema);
    pl_free(op);
}

pl_status pl_project_op_new(pl_exec_ctx *ctx, pl_schema *out_schema, int32_t n, pl_bexpr **exprs,
                            pl_op **out, pl_error *err) {
    PL_UNUSED(ctx);
    project_op *p = pl_calloc(1, sizeof *p);
    pl_op *op = NULL;
    if (!p || op_alloc("project", out_schema, p, &op, err)) {
        pl_free(p);
        for (int32_t i = 0; i < n; i++) pl_bexpr_free(exprs[i]);
        pl_free(exprs);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a projection");
    }
    p->n = n;
    p->exprs = exprs;
    op->process = project_process;
    op->free = project_free;
    *out = op;
    return PL_OK;
}

/* ---------------------------------------------------------------- collect sink */

typedef struct collect_sink {
    pl_schema *schema;
    pthread_mutex_t mu;
    pl_batch **batches;
    int64_t *seqs;
    int64_t n, cap;
    int64_t bytes;
} collect_sink;

static int64_t batch_bytes(const pl_batch *b) {
    int64_t n = 0;
    for (int32_t c = 0; c < b->n_cols; c++) {
        const pl_array *a = b->columns[c];
        if (a->values) n += a->values->capacity;
        if (a->data) n += a->data->capacity;
        if (a->validity) n += a->validity->capacity;
    }
    return n;
}

static pl_status collect_consume(pl_sink *s, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                                 pl_batch *in, pl_error *err) {
    collect_sink *c = s->impl;
    int64_t bytes = batch_bytes(in);
    PL_TRY(pl_exec_charge(ctx, bytes, err));
    pthread_mutex_lock(&c->mu);
    if (c->n == c->cap) {
        int64_t cap = c->cap ? c->cap * 2 : 64;
        pl_batch **b = pl_realloc(c->batches, sizeof *b * (size_t)cap);
        int64_t *q = b ? pl_realloc(c->seqs, sizeof *q * (size_t)cap) : NULL;
        if (b) c->batches = b;
        if (q) c->seqs = q;
        if (!b || !q) {
            pthread_mutex_unlock(&c->mu);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory collecting results");
        }
        c->cap = cap;
    }
    c->batches[c->n] = pl_batch_retain(in);
    c->seqs[c->n++] = seq;
    c->bytes += bytes;
    pthread_mutex_unlock(&c->mu);
    return PL_OK;
}

static pl_status collect_finish(pl_sink *s, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    collect_sink *c = s->impl;
    /* order by seq (insertion sort on mostly ordered input) */
    for (int64_t i = 1; i < c->n; i++) {
        pl_batch *b = c->batches[i];
        int64_t q = c->seqs[i], j = i - 1;
        while (j >= 0 && c->seqs[j] > q) {
            c->batches[j + 1] = c->batches[j];
            c->seqs[j + 1] = c->seqs[j];
            j--;
        }
        c->batches[j + 1] = b;
        c->seqs[j + 1] = q;
    }
    pl_table *t = NULL;
    PL_TRY(pl_table_new(c->schema, &t, err));
    for (int64_t i = 0; i < c->n; i++) {
        pl_status st = pl_table_append(t, c->batches[i], err);
        if (st) {
            pl_table_release(t);
            return st;
        }
    }
    s->rows_out = t->n_rows;
    pl_status st = pl_stream_from_table(t, out, err);
    pl_table_release(t);
    PL_UNUSED(ctx);
    return st;
}

static void collect_free(pl_sink *s) {
    collect_sink *c = s->impl;
    for (int64_t i = 0; i < c->n; i++) pl_batch_release(c->batches[i]);
    pl_free(c->batches);
    pl_free(c->seqs);
    pthread_mutex_destroy(&c->mu);
    pl_schema_release(c->schema);
    pl_free(c);
    pl_free(s);
}

pl_status pl_collect_sink_new(pl_exec_ctx *ctx, pl_schema *schema, pl_sink **out, pl_error *err) {
    PL_UNUSED(ctx);
    pl_sink *s = pl_calloc(1, sizeof *s);
    collect_sink *c = pl_calloc(1, sizeof *c);
    if (!s || !c) {
        pl_free(s);
        pl_free(c);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a sink");
    }
    pthread_mutex_init(&c->mu, NULL);
    c->schema = pl_schema_retain(schema);
    s->name = "collect";
    s->impl = c;
    s->consume = collect_consume;
    s->finish = collect_finish;
    s->free = collect_free;
    *out = s;
    return PL_OK;
}
