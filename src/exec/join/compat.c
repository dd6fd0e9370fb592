/* compat.c - TEMPORARY weak stand-ins for executor, compute and expression functions the join
 * uses that other parts of the engine (pipeline.c, compute/, expr/eval.c) define. Every
 * definition is weak: once the real (strong) one is linked in, it wins. Delete each function
 * here when its owner lands it. */
#include <math.h>

#include "exec/exec.h"

#define PL_WEAK __attribute__((weak))

/* ---------------------------------------------------------------- exec context */

PL_WEAK void pl_exec_ctx_init(pl_exec_ctx *ctx, const pl_exec_opts *opts) {
    memset(ctx, 0, sizeof *ctx);
    if (opts) ctx->opts = *opts;
    ctx->n_threads = ctx->opts.n_threads > 0 ? ctx->opts.n_threads : pl_pool_threads();
    ctx->eval.exec = ctx;
}

PL_WEAK pl_status pl_exec_check(pl_exec_ctx *ctx, pl_error *err) {
    if (__atomic_load_n(&ctx->failed, __ATOMIC_RELAXED)) return PL_ERR_CANCELLED;
    if (ctx->opts.cancel && __atomic_load_n(ctx->opts.cancel, __ATOMIC_RELAXED))
        PL_FAIL(err, PL_ERR_CANCELLED, "query cancelled");
    if (ctx->opts.deadline_ns && pl_now_ns() > ctx->opts.deadline_ns)
        PL_FAIL(err, PL_ERR_CANCELLED, "query deadline passed");
    return PL_OK;
}

PL_WEAK pl_status pl_exec_charge(pl_exec_ctx *ctx, int64_t bytes, pl_error *err) {
    int64_t now = __atomic_add_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
    if (bytes > 0 && ctx->opts.memory_limit > 0 && now > ctx->opts.memory_limit) {
        __atomic_sub_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
        PL_FAIL(err, PL_ERR_NOMEM, "query memory limit of %lld bytes exceeded",
                (long long)ctx->opts.memory_limit);
    }
    int64_t peak = __atomic_load_n(&ctx->mem_peak, __ATOMIC_RELAXED);
    while (now > peak && !__atomic_compare_exchange_n(&ctx->mem_peak, &peak, now, true,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return PL_OK;
}

typedef struct par_task {
    pl_exec_ctx *ctx;
    pl_exec_task_fn fn;
    void *arg;
    int stop;
    int have_err;
    pl_status st;
    pl_error err;
} par_task;

static void par_run(void *arg, int64_t i, int32_t worker) {
    par_task *t = arg;
    if (__atomic_load_n(&t->stop, __ATOMIC_RELAXED)) return;
    pl_error e;
    memset(&e, 0, sizeof e);
    pl_status st = t->fn(t->arg, i, worker, &e);
    if (st) {
        __atomic_store_n(&t->stop, 1, __ATOMIC_RELAXED);
        if (!__atomic_exchange_n(&t->have_err, 1, __ATOMIC_ACQ_REL)) {
            t->st = st;
            t->err = e;
        }
    }
}

PL_WEAK pl_status pl_exec_parallel(pl_exec_ctx *ctx, int64_t n, pl_exec_task_fn fn, void *arg,
                                   pl_error *err) {
    par_task t = {.ctx = ctx, .fn = fn, .arg = arg};
    pl_parallel_for(n, ctx->n_threads, par_run, &t);
    if (t.have_err) {
        if (err) *err = t.err;
        return t.st;
    }
    return PL_OK;
}

PL_WEAK int32_t pl_exec_max_workers(void) { return pl_pool_max_workers(); }

/* ---------------------------------------------------------------- pipelines */

PL_WEAK void pl_sink_free(pl_sink *s) {
    if (s && s->free) s->free(s);
}


PL_WEAK pl_status pl_pipeline_new(pl_stream *source, pl_pipeline **out, pl_error *err) {
    pl_pipeline *p = pl_calloc(1, sizeof *p);
    if (!p) {
        pl_stream_free(source);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a pipeline");
    }
    p->source = source;
    *out = p;
    return PL_OK;
}

PL_WEAK pl_status pl_pipeline_add_op(pl_pipeline *p, pl_op *op, pl_error *err) {
    pl_op **ops = pl_realloc(p->ops, sizeof *ops * (size_t)(p->n_ops + 1));
    if (!ops) {
        pl_op_free(op);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory adding an operator");
    }
    p->ops = ops;
    p->ops[p->n_ops++] = op;
    return PL_OK;
}

PL_WEAK pl_schema *pl_pipeline_schema(pl_pipeline *p) {
    return p->n_ops ? p->ops[p->n_ops - 1]->schema : p->source->schema;
}

/* Runs b through ops[from..] and into the sink. */
static pl_status run_ops(pl_exec_ctx *ctx, pl_pipeline *p, int32_t from, pl_sink *sink,
                         int64_t seq, pl_batch *b, pl_error *err) {
    pl_batch *cur = pl_batch_retain(b);
    for (int32_t i = from; i < p->n_ops && cur; i++) {
        pl_batch *next = NULL;
        pl_status st = p->ops[i]->process(p->ops[i], ctx, 0, cur, &next, err);
        pl_batch_release(cur);
        if (st) return st;
        cur = next;
    }
    pl_status st = PL_OK;
    if (cur && cur->n_rows > 0) st = sink->consume(sink, ctx, 0, seq, cur, err);
    pl_batch_release(cur);
    return st;
}

PL_WEAK pl_status pl_pipeline_run(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink,
                                  pl_error *err) {
    for (int32_t i = 0; i < p->n_ops; i++)
        if (p->ops[i]->prepare) PL_TRY(p->ops[i]->prepare(p->ops[i], ctx, err));
    int64_t seq = 0;
    for (;;) {
        pl_batch *b = NULL;
        PL_TRY(pl_stream_next(p->source, &b, err));
        if (!b) break;
        for (int64_t off = 0; off < b->n_rows; off += PL_MORSEL_ROWS) {
            pl_batch *m = NULL;
            pl_status st = pl_exec_check(ctx, err);
            if (!st) st = pl_batch_slice(b, off, PL_MIN(PL_MORSEL_ROWS, b->n_rows - off), &m, err);
            if (!st) st = run_ops(ctx, p, 0, sink, seq++, m, err);
            pl_batch_release(m);
            if (st) {
                pl_batch_release(b);
                return st;
            }
        }
        pl_batch_release(b);
    }
    for (int32_t i = 0; i < p->n_ops; i++) {
        if (!p->ops[i]->flush) continue;
        pl_batch *f = NULL;
        PL_TRY(p->ops[i]->flush(p->ops[i], ctx, &f, err));
        if (!f) continue;
        pl_status st = run_ops(ctx, p, i + 1, sink, seq++, f, err);
        pl_batch_release(f);
        PL_TRY(st);
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- compute */

PL_WEAK pl_status pl_batch_make(pl_schema *schema, int64_t n_rows, pl_array **cols,
                                pl_batch **out, pl_error *err) {
    pl_array **c = pl_malloc(sizeof *c * (size_t)PL_MAX(schema->n_fields, 1));
    if (!c) {
        for (int32_t i = 0; i < schema->n_fields; i++) pl_array_release(cols[i]);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory making a batch");
    }
    memcpy(c, cols, sizeof *c * (size_t)schema->n_fields);
    pl_status st = pl_batch_new(pl_schema_retain(schema), n_rows, c, out, err);
    pl_free(c);
    return st;
}

PL_WEAK uint64_t pl_hash_bytes(const uint8_t *p, int64_t n) {
    const uint8_t *s = p;
    uint64_t h = 0x243f6a8885a308d3ULL ^ (uint64_t)n;
    for (int64_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ULL;
    return pl_hash_u64(h);
}

static int64_t dict_index(const pl_array *a, int64_t i) {
    const uint8_t *v = a->values->data;
    int64_t k = a->offset + i;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[k];
    case PL_TYPE_UINT8: return ((const uint8_t *)v)[k];
    case PL_TYPE_INT16: return ((const int16_t *)(const void *)v)[k];
    case PL_TYPE_UINT16: return ((const uint16_t *)(const void *)v)[k];
    case PL_TYPE_INT32: return ((const int32_t *)(const void *)v)[k];
    case PL_TYPE_UINT32: return ((const uint32_t *)(const void *)v)[k];
    default: return ((const int64_t *)(const void *)v)[k];
    }
}

static uint64_t value_hash(pl_array *a, int64_t i) {
    if (!pl_array_is_valid(a, i)) return 0x5bd1e995ULL;
    const pl_type *t = a->type;
    if (t->id == PL_TYPE_DICTIONARY) return value_hash(a->dictionary, dict_index(a, i));
    if (t->id == PL_TYPE_BOOL) return pl_hash_u64(pl_bit_get(a->values->data, a->offset + i));
    if (pl_type_is_varlen(t->id)) {
        int32_t n;
        const uint8_t *p = pl_array_bytes(a, i, &n);
        return pl_hash_bytes(p, n);
    }
    if (t->id == PL_TYPE_FLOAT64 || t->id == PL_TYPE_FLOAT32) {
        double d = t->id == PL_TYPE_FLOAT64 ? ((const double *)pl_array_values_ptr(a))[i]
                                            : ((const float *)pl_array_values_ptr(a))[i];
        if (d == 0) d = 0;
        if (isnan(d)) d = NAN;
        uint64_t u;
        memcpy(&u, &d, 8);
        return pl_hash_u64(u);
    }
    if (t->byte_width > 0) {
        const uint8_t *p = (const uint8_t *)pl_array_values_ptr(a) + i * t->byte_width;
        int64_t v = 0;
        switch (t->id) {
        case PL_TYPE_INT8: v = *(const int8_t *)p; break;
        case PL_TYPE_INT16: v = *(const int16_t *)(const void *)p; break;
        case PL_TYPE_INT32: case PL_TYPE_DATE32: v = *(const int32_t *)(const void *)p; break;
        case PL_TYPE_UINT8: v = *p; break;
        case PL_TYPE_UINT16: v = *(const uint16_t *)(const void *)p; break;
        case PL_TYPE_UINT32: v = *(const uint32_t *)(const void *)p; break;
        case PL_TYPE_INT64: case PL_TYPE_UINT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
            v = *(const int64_t *)(const void *)p;
            break;
        default: return pl_hash_bytes(p, t->byte_width);
        }
        return pl_hash_u64((uint64_t)v);
    }
    return 0x1234567ULL; /* nested: all collide (equality decides) */
}

PL_WEAK void pl_hash_array(pl_array *a, uint64_t *hashes, bool combine) {
    for (int64_t i = 0; i < a->length; i++) {
        uint64_t h = value_hash(a, i);
        hashes[i] = combine ? pl_hash_combine(hashes[i], h) : h;
    }
}

PL_WEAK bool pl_array_value_equal(pl_array *a, int64_t i, pl_array *b, int64_t j) {
    if (a->type->id == PL_TYPE_DICTIONARY) return pl_array_value_equal(a->dictionary, dict_index(a, i), b, j);
    if (b->type->id == PL_TYPE_DICTIONARY) return pl_array_value_equal(a, i, b->dictionary, dict_index(b, j));
    bool va = pl_array_is_valid(a, i), vb = pl_array_is_valid(b, j);
    if (!va || !vb) return va == vb;
    pl_array *sa = NULL, *sb = NULL;
    bool eq = false;
    if (!pl_array_slice(a, i, 1, &sa, NULL) && !pl_array_slice(b, j, 1, &sb, NULL))
        eq = pl_array_equals(sa, sb);
    pl_array_release(sa);
    pl_array_release(sb);
    return eq;
}

/* Gather of one array by int64 indices (< 0: NULL). */
static pl_status take_any(pl_array *a, const int64_t *idx, int64_t n, pl_array **out,
                          pl_error *err) {
    pl_type *t = a->type;
    pl_buf *valid = NULL, *vals = NULL, *data = NULL;
    pl_array *dict = NULL;
    int64_t nulls = 0;
    pl_status st = PL_OK;
    if (t->id == PL_TYPE_NA) return pl_array_new_nulls(t, n, out, err);
    bool nested = !(t->id == PL_TYPE_BOOL || t->id == PL_TYPE_DICTIONARY ||
                    pl_type_is_varlen(t->id) || t->byte_width > 0);
    if (nested) {
        /* Slow path: one-row slices concatenated. */
        pl_array *nul = NULL;
        pl_array **parts = pl_calloc((size_t)PL_MAX(n, 1), sizeof *parts);
        if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in take");
        st = pl_array_new_nulls(t, 1, &nul, err);
        for (int64_t i = 0; !st && i < n; i++)
            st = idx[i] < 0 ? (parts[i] = pl_array_retain(nul), PL_OK)
                            : pl_array_slice(a, idx[i], 1, &parts[i], err);
        if (!st) st = n ? pl_array_concat(n, parts, out, err) : pl_array_slice(a, 0, 0, out, err);
        for (int64_t i = 0; i < n; i++) pl_array_release(parts[i]);
        pl_free(parts);
        pl_array_release(nul);
        return st;
    }
    st = pl_buf_new_zeroed((n + 7) / 8 + 1, &valid, err);
    if (st) return st;
    uint8_t *vb = valid->data;
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] >= 0 && pl_array_is_valid(a, idx[i])) pl_bit_set(vb, i);
        else nulls++;
    }
    if (t->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed((n + 7) / 8 + 1, &vals, err);
        for (int64_t i = 0; !st && i < n; i++)
            if (idx[i] >= 0 && pl_bit_get(a->values->data, a->offset + idx[i]))
                pl_bit_set(vals->data, i);
    } else if (pl_type_is_varlen(t->id)) {
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) {
            int32_t len = 0;
            if (idx[i] >= 0) pl_array_bytes(a, idx[i], &len);
            total += len;
        }
        if (total > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "take: string data over 2 GiB");
        if (!st) st = pl_buf_new_zeroed((n + 1) * 4, &vals, err);
        if (!st) st = pl_buf_new_zeroed(PL_MAX(total, 1), &data, err);
        if (!st) {
            int32_t *o = (int32_t *)(void *)vals->data;
            int32_t pos = 0;
            for (int64_t i = 0; i < n; i++) {
                o[i] = pos;
                if (idx[i] < 0) continue;
                int32_t len;
                const uint8_t *p = pl_array_bytes(a, idx[i], &len);
                memcpy(data->data + pos, p, (size_t)len);
                pos += len;
            }
            o[n] = pos;
            data->size = total;
        }
    } else {
        int32_t w = t->id == PL_TYPE_DICTIONARY ? pl_type_bit_width(pl_type_simple(t->index_id)) / 8
                                                : t->byte_width;
        st = pl_buf_new_zeroed(PL_MAX(n * w, 1), &vals, err);
        if (!st) {
            const uint8_t *src = a->values->data + a->offset * w;
            for (int64_t i = 0; i < n; i++)
                if (idx[i] >= 0) memcpy(vals->data + i * w, src + idx[i] * w, (size_t)w);
            vals->size = n * w;
        }
        if (t->id == PL_TYPE_DICTIONARY) dict = pl_array_retain(a->dictionary);
    }
    if (st) {
        pl_buf_release(valid);
        pl_buf_release(vals);
        pl_buf_release(data);
        return st;
    }
    if (!nulls) {
        pl_buf_release(valid);
        valid = NULL;
    }
    return pl_array_new(pl_type_retain(t), n, nulls, valid, vals, data, 0, NULL, dict, out, err);
}

PL_WEAK pl_status pl_array_take(pl_array *a, const int64_t *idx, int64_t n, pl_array **out,
                                pl_error *err) {
    return take_any(a, idx, n, out, err);
}

PL_WEAK pl_status pl_array_take_i32(pl_array *a, const int32_t *idx, int64_t n, pl_array **out,
                                    pl_error *err) {
    int64_t *w = pl_malloc(sizeof *w * (size_t)PL_MAX(n, 1));
    if (!w) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in take");
    for (int64_t i = 0; i < n; i++) w[i] = idx[i];
    pl_status st = take_any(a, w, n, out, err);
    pl_free(w);
    return st;
}

/* ---------------------------------------------------------------- expressions */

PL_WEAK void pl_datum_reset(pl_datum *d) {
    if (!d->is_scalar) pl_array_release(d->array);
    memset(d, 0, sizeof *d);
}

PL_WEAK void pl_bexpr_free(pl_bexpr *e) {
    if (!e) return;
    for (int32_t i = 0; i < e->n_args; i++) pl_bexpr_free(e->args[i]);
    pl_free(e->args);
    if (e->free_state) e->free_state(e->state);
    pl_type_release(e->type);
    pl_type_release(e->cast_to);
    pl_free(e);
}

/* Columns and calls over columns only. */
static pl_status eval_node(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in, pl_datum *out,
                           pl_error *err) {
    memset(out, 0, sizeof *out);
    if (e->kind == PL_BEXPR_COL) {
        out->array = pl_array_retain(in->columns[e->col]);
        return PL_OK;
    }
    if (e->kind != PL_BEXPR_CALL) PL_FAIL(err, PL_ERR_UNSUPPORTED, "literal in compat evaluator");
    pl_datum args[8];
    memset(args, 0, sizeof args);
    pl_status st = PL_OK;
    int32_t n = 0;
    for (; n < e->n_args && n < 8 && !st; n++) st = eval_node(ec, e->args[n], in, &args[n], err);
    if (!st) st = e->fn->exec(ec, e, args, in->n_rows, out, err);
    for (int32_t i = 0; i < n; i++) pl_datum_reset(&args[i]);
    return st;
}

PL_WEAK pl_status pl_bexpr_eval_filter(pl_eval_ctx *ec, const pl_bexpr *pred, pl_batch *in,
                                       int32_t **sel, int64_t *n_sel, pl_error *err) {
    pl_datum d;
    PL_TRY(eval_node(ec, pred, in, &d, err));
    int32_t *s = pl_malloc(sizeof *s * (size_t)PL_MAX(in->n_rows, 1));
    if (!s) {
        pl_datum_reset(&d);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating a filter");
    }
    int64_t k = 0;
    for (int64_t i = 0; i < in->n_rows; i++)
        if (pl_array_is_valid(d.array, i) && pl_bit_get(d.array->values->data, d.array->offset + i))
            s[k++] = (int32_t)i;
    pl_datum_reset(&d);
    *sel = s;
    *n_sel = k;
    return PL_OK;
}
