/* unnest.c - the UNNEST operator: one output row per list element (DuckDB's UNNEST in the
 * select list). Each morsel's lists are evaluated, every input row is repeated as many times
 * as its longest list has elements and the elements are gathered beside it; shorter lists give
 * NULLs, rows whose lists are all NULL or empty give no row. */
#include "exec/exec.h"

typedef struct unnest_op {
    int32_t n;
    pl_bexpr **exprs;
} unnest_op;

static pl_status unnest_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                                pl_batch **out, pl_error *err) {
    PL_UNUSED(worker);
    unnest_op *u = op->impl;
    int32_t nin = in->n_cols, nl = u->n;
    int64_t n = in->n_rows;
    *out = NULL;
    pl_array **lists = pl_calloc((size_t)nl, sizeof *lists);
    if (!lists) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in unnest");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < nl && !st; k++) st = pl_bexpr_eval_array(&ctx->eval, u->exprs[k], in, &lists[k], err);
    /* rows out per input row: the longest list */
    int64_t total = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t m = 0;
        for (int32_t k = 0; k < nl; k++) {
            pl_array *l = lists[k];
            if (l->type->id != PL_TYPE_LIST || !pl_array_is_valid(l, i)) continue;
            const int32_t *o = pl_array_offsets(l);
            if (o[i + 1] - o[i] > m) m = o[i + 1] - o[i];
        }
        total += m;
    }
    int64_t *rows = NULL, **eidx = NULL;
    pl_array **cols = NULL;
    if (!st && total > 0) {
        rows = pl_malloc(sizeof *rows * (size_t)total);
        eidx = pl_calloc((size_t)nl, sizeof *eidx);
        cols = pl_calloc((size_t)(nin + nl), sizeof *cols);
        if (!rows || !eidx || !cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in unnest");
        for (int32_t k = 0; k < nl && !st; k++)
            if (!(eidx[k] = pl_malloc(sizeof(int64_t) * (size_t)total)))
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in unnest");
    }
    if (!st && total > 0) {
        int64_t q = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t m = 0;
            for (int32_t k = 0; k < nl; k++) {
                pl_array *l = lists[k];
                if (l->type->id != PL_TYPE_LIST || !pl_array_is_valid(l, i)) continue;
                const int32_t *o = pl_array_offsets(l);
                if (o[i + 1] - o[i] > m) m = o[i + 1] - o[i];
            }
            for (int64_t j = 0; j < m; j++) {
                rows[q + j] = i;
                for (int32_t k = 0; k < nl; k++) {
                    pl_array *l = lists[k];
                    int64_t e = -1;
                    if (l->type->id == PL_TYPE_LIST && pl_array_is_valid(l, i)) {
                        const int32_t *o = pl_array_offsets(l);
                        if (j < o[i + 1] - o[i]) e = o[i] + j;
                    }
                    eidx[k][q + j] = e;
                }
            }
            q += m;
        }
        for (int32_t c = 0; c < nin && !st; c++) st = pl_array_take(in->columns[c], rows, total, &cols[c], err);
        for (int32_t k = 0; k < nl && !st; k++) {
            pl_type *want = op->schema->fields[nin + k].type;
            if (lists[k]->type->id == PL_TYPE_LIST) {
                st = pl_array_take(lists[k]->children[0], eidx[k], total, &cols[nin + k], err);
                if (!st && !pl_type_equals(cols[nin + k]->type, want)) {
                    pl_array *d = NULL;
                    if (cols[nin + k]->type->id == PL_TYPE_DICTIONARY && want->id != PL_TYPE_DICTIONARY)
                        st = pl_array_decode_dictionary(cols[nin + k], &d, err);
                    else
                        st = pl_cast_array(cols[nin + k], want, false, &d, err);
                    if (!st) {
                        pl_array_release(cols[nin + k]);
                        cols[nin + k] = d;
                    }
                }
            } else {
                st = pl_array_new_nulls(want, total, &cols[nin + k], err);
            }
        }
        if (!st) {
            st = pl_batch_make(op->schema, total, cols, out, err);
        } else {
            for (int32_t c = 0; c < nin + nl; c++) pl_array_release(cols[c]);
        }
    }
    for (int32_t k = 0; k < nl; k++) {
        pl_array_release(lists[k]);
        if (eidx) pl_free(eidx[k]);
    }
    pl_free(lists);
    pl_free(eidx);
    pl_free(rows);
    pl_free(cols);
    return st;
}

static void unnest_free(pl_op *op) {
    unnest_op *u = op->impl;
    for (int32_t i = 0; i < u->n; i++) pl_bexpr_free(u->exprs[i]);
    pl_free(u->exprs);
    pl_free(u);
    pl_schema_release(op->schema);
    pl_free(op);
}

pl_status pl_unnest_op_new(pl_exec_ctx *ctx, pl_schema *out_schema, int32_t n, pl_bexpr **exprs,
                           pl_op **out, pl_error *err) {
    PL_UNUSED(ctx);
    unnest_op *u = pl_calloc(1, sizeof *u);
    pl_op *op = pl_calloc(1, sizeof *op);
    if (!u || !op) {
        pl_free(u);
        pl_free(op);
        for (int32_t i = 0; i < n; i++) pl_bexpr_free(exprs[i]);
        pl_free(exprs);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating an unnest");
    }
    u->n = n;
    u->exprs = exprs;
    op->name = "unnest";
    op->schema = pl_schema_retain(out_schema);
    op->impl = u;
    op->process = unnest_process;
    op->free = unnest_free;
    *out = op;
    return PL_OK;
}
