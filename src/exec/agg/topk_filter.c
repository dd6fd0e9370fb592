/* topk_filter.c - a conservative pre-filter for "the first k rows of each partition":
 *
 *   SELECT ... FROM (SELECT ..., row_number() OVER (PARTITION BY p ORDER BY o DESC) AS rn ...)
 *   WHERE rn <= k
 *
 * placed before the window sink, so that the window sorts a few candidates per partition instead
 * of every input row. Each worker keeps, per partition (a group of the aggregation's hash table,
 * agg_table), the k best order values it has seen. A row is dropped when its worker has already
 * seen k rows of its partition with a strictly better order value: such a row has at least k
 * rows before it in any order, so its rank and row_number exceed k, and every row it could
 * precede or tie with is kept. Rows the filter keeps therefore get exactly the rank and
 * row_number they would get over the whole input (their better and tied rows all survive, in
 * input order), and the window and the filter above it still run as planned: the result is the
 * same, only cheaper. Rows with a NULL or NaN order value are always kept and never counted. */
#include <math.h>
#include <string.h>

#include "agg_int.h"

#define TOPK_MAX 64

typedef struct topk_worker {
    agg_table *table;
    double *vals;  /* k per group, best first */
    uint8_t *cnt;  /* values held per group */
    int64_t cap;   /* groups the arrays hold */
    int32_t *keep; /* scratch: kept rows */
    int64_t keep_cap;
} topk_worker;

typedef struct topk_filter {
    agg_sink sink; /* a key-only sink: the group table's owner (keys, schema, memory account) */
    int32_t order_col;
    bool desc;
    int32_t k;
    int32_t n_workers;
    topk_worker *w;
} topk_filter;

static pl_status grow(topk_filter *f, topk_worker *w, int64_t n, pl_exec_ctx *ctx, pl_error *err) {
    if (n <= w->cap) return PL_OK;
    int64_t cap = w->cap ? w->cap : 1024;
    while (cap < n) cap *= 2;
    PL_TRY(pl_exec_charge(ctx, (cap - w->cap) * (int64_t)(f->k * 8 + 1), err));
    double *v = pl_realloc(w->vals, (size_t)cap * (size_t)f->k * 8);
    if (v) w->vals = v;
    uint8_t *c = v ? pl_realloc(w->cnt, (size_t)cap) : NULL;
    if (!v || !c) {
        pl_exec_charge(ctx, -(cap - w->cap) * (int64_t)(f->k * 8 + 1), NULL);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the top-k filter");
    }
    w->cnt = c;
    memset(c + w->cap, 0, (size_t)(cap - w->cap));
    w->cap = cap;
    return PL_OK;
}

/* The order column's value of row r as a double (monotone: a strict inequality between the
 * doubles implies one between the values). false for NULL and NaN. */
static inline bool order_value(const pl_array *a, const void *vals, pl_type_id id, int64_t r,
                               double *out) {
    if (!pl_array_is_valid(a, r)) return false;
    int64_t i = r; /* vals: pl_array_values_ptr, offset applied */
    switch (id) {
    case PL_TYPE_INT8: *out = ((const int8_t *)vals)[i]; return true;
    case PL_TYPE_INT16: *out = ((const int16_t *)vals)[i]; return true;
    case PL_TYPE_INT32: case PL_TYPE_DATE32: *out = ((const int32_t *)vals)[i]; return true;
    case PL_TYPE_INT64: case PL_TYPE_TIMESTAMP: case PL_TYPE_TIME64:
        *out = (double)((const int64_t *)vals)[i];
        return true;
    case PL_TYPE_UINT8: *out = ((const uint8_t *)vals)[i]; return true;
    case PL_TYPE_UINT16: *out = ((const uint16_t *)vals)[i]; return true;
    case PL_TYPE_UINT32: *out = ((const uint32_t *)vals)[i]; return true;
    case PL_TYPE_UINT64: *out = (double)((const uint64_t *)vals)[i]; return true;
    case PL_TYPE_FLOAT32: *out = ((const float *)vals)[i]; return !isnan(*out);
    case PL_TYPE_FLOAT64: *out = ((const double *)vals)[i]; return !isnan(*out);
    default: return false;
    }
}

bool pl_topk_filter_supports(const pl_type *order_type) {
    switch (order_type->id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_DATE32: case PL_TYPE_TIMESTAMP:
    case PL_TYPE_TIME64:
        return true;
    default: return false;
    }
}

static pl_status topk_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                              pl_batch **out, pl_error *err) {
    topk_filter *f = op->impl;
    int64_t n = in->n_rows;
    *out = NULL;
    if (n == 0) return PL_OK;
    if (worker < 0 || worker >= f->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "top-k filter: worker id %d out of range", worker);
    if (n > INT32_MAX) PL_FAIL(err, PL_ERR_LIMIT, "top-k filter: morsel of %lld rows", (long long)n);
    topk_worker *w = &f->w[worker];
    if (!w->table) PL_TRY(agg_table_new(&f->sink, &w->table, err));
    agg_table *t = w->table;
    PL_TRY(agg_table_scratch(t, n, err));
    pl_array *kc[8];
    for (int32_t c = 0; c < f->sink.n_keys; c++) kc[c] = in->columns[f->sink.keys[c]];
    PL_TRY(agg_table_find(t, kc, n, NULL, NULL, t->gids, err));
    PL_TRY(grow(f, w, t->n_groups, ctx, err));
    if (n > w->keep_cap) {
        int32_t *k = pl_realloc(w->keep, (size_t)n * 4);
        if (!k) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the top-k filter");
        w->keep = k;
        w->keep_cap = n;
    }
    const pl_array *oa = in->columns[f->order_col];
    const void *ov = pl_array_values_ptr(oa);
    pl_type_id id = oa->type->id;
    /* compare as "larger is better": negate for ascending order */
    double sign = f->desc ? 1.0 : -1.0;
    int32_t K = f->k, m = 0;
    const uint32_t *gids = t->gids;
    for (int64_t r = 0; r < n; r++) {
        double v;
        if (!order_value(oa, ov, id, r, &v)) {
            w->keep[m++] = (int32_t)r;
            continue;
        }
        v *= sign;
        uint32_t g = gids[r];
        double *best = w->vals + (int64_t)g * K;
        int32_t c = w->cnt[g];
        if (c == K) {
            if (v < best[K - 1]) continue; /* k rows strictly better: cannot be in the top k */
            w->keep[m++] = (int32_t)r;
            if (v == best[K - 1]) continue;
            c = K - 1; /* v replaces the current k-th best */
        } else {
            w->keep[m++] = (int32_t)r;
            w->cnt[g] = (uint8_t)(c + 1);
        }
        int32_t j = c;
        while (j > 0 && best[j - 1] < v) {
            best[j] = best[j - 1];
            j--;
        }
        best[j] = v;
    }
    if (m == 0) return PL_OK;
    if (m == n) {
        *out = pl_batch_retain(in);
        return PL_OK;
    }
    return pl_batch_take_i32(in, w->keep, m, out, err);
}

static void topk_free(pl_op *op) {
    topk_filter *f = op->impl;
    if (f) {
        for (int32_t i = 0; i < f->n_workers && f->w; i++) {
            topk_worker *w = &f->w[i];
            if (w->cap) pl_exec_charge(f->sink.ctx, -w->cap * (int64_t)(f->k * 8 + 1), NULL);
            agg_table_free(w->table);
            pl_free(w->vals);
            pl_free(w->cnt);
            pl_free(w->keep);
        }
        pl_free(f->w);
        pl_free(f->sink.keys);
        pl_schema_release(f->sink.in);
        pl_free(f);
    }
    pl_schema_release(op->schema);
    pl_free(op);
}

pl_status pl_topk_filter_op_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_part,
                                const int32_t *part_cols, int32_t order_col, bool descending,
                                int32_t k, pl_op **out, pl_error *err) {
    if (n_part < 1 || n_part > 8 || k < 1 || k > TOPK_MAX || order_col < 0 ||
        order_col >= in->n_fields || !pl_topk_filter_supports(in->fields[order_col].type))
        PL_FAIL(err, PL_ERR_INTERNAL, "top-k filter: unsupported arguments");
    for (int32_t c = 0; c < n_part; c++)
        if (part_cols[c] < 0 || part_cols[c] >= in->n_fields ||
            in->fields[part_cols[c]].type->id == PL_TYPE_DICTIONARY)
            PL_FAIL(err, PL_ERR_INTERNAL, "top-k filter: unsupported partition column");
    pl_op *op = pl_calloc(1, sizeof *op);
    topk_filter *f = pl_calloc(1, sizeof *f);
    if (op) op->impl = f;
    if (f) {
        f->n_workers = pl_exec_max_workers();
        f->w = pl_calloc((size_t)f->n_workers, sizeof *f->w);
        f->sink.keys = pl_malloc(sizeof(int32_t) * (size_t)n_part);
    }
    if (!op || !f || !f->w || !f->sink.keys) {
        if (op) {
            op->free = topk_free;
            topk_free(op);
        } else {
            pl_free(f);
        }
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    f->sink.ctx = ctx;
    f->sink.in = pl_schema_retain(in);
    f->sink.n_keys = n_part;
    memcpy(f->sink.keys, part_cols, sizeof(int32_t) * (size_t)n_part);
    f->order_col = order_col;
    f->desc = descending;
    f->k = k;
    op->name = "top-k filter";
    op->schema = pl_schema_retain(in);
    op->process = topk_process;
    op->free = topk_free;
    *out = op;
    return PL_OK;
}
