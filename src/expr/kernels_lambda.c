/* kernels_lambda.c - DuckDB's lambda functions over lists: list_transform (apply), list_filter
 * (filter) and list_reduce (reduce), planned by the SQL layer as
 *   __lambda_transform(l, body, id)   __lambda_filter(l, body, id)   __lambda_reduce(l, body, id [, init])
 * where the body refers to the lambda's parameters through __lambda_param(id, slot) (slot 0:
 * the element, or reduce's accumulator; then the element of reduce; last the 1-based index).
 * Binding (bind.c, bind_lambda_body) types the parameters from the list's element type. The
 * evaluator hands these calls to pl_lambda_eval (eval.c): the body runs once over a batch of
 * all the elements of the morsel's lists (each element's row gathered from the input: only the
 * columns the body reads, the others NULL), with the parameters in a pl_lambda_frame of the
 * evaluation context (enclosing lambdas' parameters gathered along, so bodies nest); reduce
 * runs the body once per element position over the lists that are that long. Lambdas are
 * volatile (never constant-folded: their body is not a value on its own). */
#include <string.h>

#include "compute/compute.h"
#include "expr/expr_core.h"
#include "expr/funcs_int.h"

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory evaluating a lambda")

static pl_type *logical(pl_type *t) { return t->id == PL_TYPE_DICTIONARY ? t->value_type : t; }

static bool is_param(const pl_bexpr *e) {
    return e->kind == PL_BEXPR_CALL && e->fn && !strcmp(e->fn->name, "__lambda_param");
}

/* The id of a lambda call or of a parameter's lambda. */
static int64_t lambda_id(const pl_bexpr *call) {
    const pl_bexpr *a = call->args[is_param(call) ? 0 : 2];
    return a->kind == PL_BEXPR_LIT && !a->lit.is_null ? a->lit.v.i : -1;
}

/* ---------------------------------------------------------------- binding */

static pl_status bind_param(pl_bexpr *call, pl_error *err) {
    const pl_bexpr *id = call->args[0], *slot = call->args[1];
    pl_type *t = NULL;
    if (id->kind == PL_BEXPR_LIT && slot->kind == PL_BEXPR_LIT && !id->lit.is_null && !slot->lit.is_null)
        t = pl_lambda_param_type(id->lit.v.i, (int32_t)slot->lit.v.i);
    if (!t) PL_FAIL(err, PL_ERR_SQL, "a lambda parameter used outside its lambda");
    call->type = pl_type_retain(t);
    return PL_OK;
}

static pl_status bind_transform(pl_bexpr *call, pl_error *err) {
    pl_type *bt = logical(call->args[1]->type);
    if (bt->id == PL_TYPE_NA) bt = pl_type_simple(PL_TYPE_INT32); /* like ARRAY[NULL] */
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], bt, err));
    return pl_type_new_list("item", bt, true, &call->type, err);
}

static pl_status bind_filter(pl_bexpr *call, pl_error *err) {
    /* the body's value cast to BOOLEAN like DuckDB (x -> x + 1 keeps non-zero values) */
    if (pl_bexpr_wrap_cast(&call->args[1], pl_type_simple(PL_TYPE_BOOL), NULL) != PL_OK) {
        char tn[64];
        PL_FAIL(err, PL_ERR_TYPE, "list_filter: the lambda gives %s, which is no boolean",
                pl_type_to_string(call->args[1]->type, tn, sizeof tn));
    }
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

static pl_status bind_reduce(pl_bexpr *call, pl_error *err) {
    pl_type *elem = call->args[0]->type->children[0].type;
    /* the accumulator keeps the element type: the body's and the initial value are cast */
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], elem, err));
    if (call->n_args == 4) PL_TRY(pl_bexpr_wrap_cast(&call->args[3], elem, err));
    call->type = pl_type_retain(elem);
    return PL_OK;
}

static pl_status k_never(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    (void)ec;
    (void)args;
    (void)n;
    (void)out;
    PL_FAIL(err, PL_ERR_INTERNAL, "%s evaluated outside a batch", call->fn->name);
}

/* ---------------------------------------------------------------- evaluation */

/* The input columns the body reads (parameters are not columns). */
static void mark_cols(const pl_bexpr *e, bool *used, int32_t n_cols) {
    if (e->kind == PL_BEXPR_COL) {
        if (e->col >= 0 && e->col < n_cols) used[e->col] = true;
        return;
    }
    if (e->kind != PL_BEXPR_CALL || is_param(e)) return;
    for (int32_t i = 0; i < e->n_args; i++) mark_cols(e->args[i], used, n_cols);
}

/* Rows rows[0..m) of in as a batch: the used columns gathered (dictionaries decoded), the
 * others all NULL. */
static pl_status gather_batch(pl_batch *in, const bool *used, const int64_t *rows, int64_t m,
                              pl_batch **out, pl_error *err) {
    int32_t nc = in->n_cols;
    pl_array **cols = pl_calloc((size_t)PL_MAX(nc, 1), sizeof *cols);
    pl_field *f = pl_calloc((size_t)PL_MAX(nc, 1), sizeof *f);
    pl_status st = cols && f ? PL_OK : NOMEM(err);
    for (int32_t c = 0; c < nc && !st; c++) {
        pl_array *a = in->columns[c];
        if (!used[c]) {
            st = pl_array_new_nulls(logical(a->type), m, &cols[c], err);
        } else if (a->type->id == PL_TYPE_DICTIONARY) {
            pl_array *dec = NULL;
            st = pl_array_decode_dictionary(a, &dec, err);
            if (!st) st = pl_array_take(dec, rows, m, &cols[c], err);
            pl_array_release(dec);
        } else {
            st = pl_array_take(a, rows, m, &cols[c], err);
        }
        if (!st) {
            f[c].name = in->schema->fields[c].name;
            f[c].type = cols[c]->type;
            f[c].nullable = true;
        }
    }
    pl_schema *s = NULL;
    if (!st) st = pl_schema_new(nc, f, &s, err);
    pl_free(f);
    if (!st) {
        st = pl_batch_new(s, m, cols, out, err);
        for (int32_t c = 0; c < nc; c++) cols[c] = NULL; /* taken */
    }
    for (int32_t c = 0; cols && c < nc; c++) pl_array_release(cols[c]);
    pl_free(cols);
    return st;
}

/* The frames the body sees: fs[0] (the lambda's own, filled by the caller) then copies of the
 * enclosing frames with their slots gathered by rows (one row per body row). */
typedef struct frames {
    pl_lambda_frame *f;
    int32_t n;
} frames;

static void frames_free(frames *fs) {
    for (int32_t k = 0; fs->f && k < fs->n; k++)
        for (int32_t s = 0; s < 3; s++) pl_array_release(fs->f[k].slot[s]);
    pl_free(fs->f);
    memset(fs, 0, sizeof *fs);
}

static pl_status frames_new(int64_t id, const pl_lambda_frame *up, const int64_t *rows, int64_t m,
                            frames *fs, pl_error *err) {
    int32_t depth = 0;
    for (const pl_lambda_frame *p = up; p; p = p->up) depth++;
    fs->n = depth + 1;
    fs->f = pl_calloc((size_t)fs->n, sizeof *fs->f);
    if (!fs->f) return NOMEM(err);
    fs->f[0].id = id;
    int32_t k = 1;
    pl_status st = PL_OK;
    for (const pl_lambda_frame *p = up; p && !st; p = p->up, k++) {
        fs->f[k].id = p->id;
        for (int32_t s = 0; s < 3 && !st; s++)
            if (p->slot[s]) st = pl_array_take(p->slot[s], rows, m, &fs->f[k].slot[s], err);
    }
    for (int32_t j = 0; j + 1 < fs->n; j++) fs->f[j].up = &fs->f[j + 1];
    return st;
}

/* An INT64 array of m values from[k] (1-based positions). */
static pl_status int64_array(const int64_t *v, int64_t m, pl_array **out, pl_error *err) {
    pl_buf *b = NULL;
    PL_TRY(pl_fn_new_values(m, 8, &b, err));
    if (m) memcpy(b->data, v, (size_t)m * 8);
    return pl_array_new(pl_type_simple(PL_TYPE_INT64), m, 0, NULL, b, NULL, 0, NULL, NULL, out, err);
}

/* Runs body over rows[0..m) of in with the frame's slots; a plain array of m values. */
static pl_status run_body(pl_eval_ctx *ec, const pl_bexpr *body, pl_batch *in, const bool *used,
                          const int64_t *rows, int64_t m, frames *fs, pl_array **out, pl_error *err) {
    pl_batch *b = NULL;
    PL_TRY(gather_batch(in, used, rows, m, &b, err));
    pl_eval_ctx sub = ec ? *ec : (pl_eval_ctx){0};
    sub.lambda = &fs->f[0];
    pl_array *v = NULL;
    pl_status st = pl_bexpr_eval_array(&sub, body, b, &v, err);
    pl_batch_release(b);
    if (!st && v->type->id == PL_TYPE_DICTIONARY) {
        pl_array *d = NULL;
        st = pl_array_decode_dictionary(v, &d, err);
        pl_array_release(v);
        v = d;
    }
    if (st) {
        pl_array_release(v);
        return st;
    }
    *out = v;
    return PL_OK;
}

/* list_transform / list_filter: the body over every element at once. */
static pl_status eval_map(pl_eval_ctx *ec, const pl_bexpr *call, pl_batch *in, pl_array *l,
                          const bool *used, bool filter, pl_datum *out, pl_error *err) {
    int64_t n = l->length;
    const int32_t *o = pl_array_offsets(l);
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++)
        if (pl_array_is_valid(l, i)) total += o[i + 1] - o[i];
    int64_t *rows = pl_malloc((size_t)PL_MAX(total, 1) * 8), *eidx = pl_malloc((size_t)PL_MAX(total, 1) * 8);
    int64_t *pos = pl_malloc((size_t)PL_MAX(total, 1) * 8);
    frames fs = {0};
    pl_array *v = NULL, *child = NULL, *r = NULL;
    pl_buf *offs = NULL, *validity = NULL;
    pl_status st = rows && eidx && pos ? PL_OK : NOMEM(err);
    int64_t k = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(l, i)) continue;
        for (int32_t j = o[i]; j < o[i + 1]; j++, k++) {
            rows[k] = i;
            eidx[k] = j;
            pos[k] = j - o[i] + 1;
        }
    }
    if (!st) st = frames_new(lambda_id(call), ec ? ec->lambda : NULL, rows, total, &fs, err);
    if (!st) st = pl_array_take(l->children[0], eidx, total, &fs.f[0].slot[0], err);
    if (!st) st = int64_array(pos, total, &fs.f[0].slot[1], err);
    if (!st) st = run_body(ec, call->args[1], in, used, rows, total, &fs, &v, err);
    if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
    if (!st) st = pl_fn_copy_validity(l, &validity, err);
    if (!st) {
        /* filter: the elements whose body is true (their positions in eidx, reused) */
        int32_t *no = (int32_t *)(void *)offs->data;
        int64_t q = 0, e = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            if (pl_array_is_valid(l, i)) {
                for (int32_t j = o[i]; j < o[i + 1]; j++, e++) {
                    if (!filter) q++;
                    else if (pl_array_is_valid(v, e) && pl_bit_get(v->values->data, v->offset + e))
                        eidx[q++] = e;
                }
            }
            no[i + 1] = (int32_t)q;
        }
        if (filter) st = pl_array_take(fs.f[0].slot[0], eidx, q, &child, err);
        else child = pl_array_retain(v);
    }
    if (!st) {
        st = pl_array_new(pl_type_retain(call->type), n, -1, validity, offs, NULL, 1, &child, NULL, &r, err);
        validity = offs = NULL;
        child = NULL;
    }
    pl_buf_release(offs);
    pl_buf_release(validity);
    pl_array_release(child);
    pl_array_release(v);
    frames_free(&fs);
    pl_free(rows);
    pl_free(eidx);
    pl_free(pos);
    if (st) return st;
    pl_datum_set_array(out, r);
    return PL_OK;
}

/* list_reduce: the accumulator (one per row) folded with the elements at position s over the
 * lists longer than s, s = 0 (with an initial value) or 1, 2, ... */
static pl_status eval_reduce(pl_eval_ctx *ec, const pl_bexpr *call, pl_batch *in, pl_array *l,
                             const bool *used, pl_datum *out, pl_error *err) {
    int64_t n = l->length;
    const int32_t *o = pl_array_offsets(l);
    pl_type *et = call->type;
    bool has_init = call->n_args == 4;
    int64_t longest = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!pl_array_is_valid(l, i)) continue;
        int64_t len = o[i + 1] - o[i];
        if (len == 0 && !has_init)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "list_reduce of an empty list (give an initial value: "
                    "list_reduce(l, lambda x, y: ..., init))");
        longest = PL_MAX(longest, len);
    }
    int64_t *rows = pl_malloc((size_t)PL_MAX(n, 1) * 8), *eidx = pl_malloc((size_t)PL_MAX(n, 1) * 8);
    int64_t *pos = pl_malloc((size_t)PL_MAX(n, 1) * 8);
    int32_t *which = pl_malloc((size_t)PL_MAX(n, 1) * 4), *wpos = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    pl_array *acc = NULL;
    pl_status st = rows && eidx && pos && which && wpos ? PL_OK : NOMEM(err);
    if (!st && has_init) {
        st = pl_bexpr_eval_array(ec, call->args[3], in, &acc, err);
        if (!st && acc->type->id == PL_TYPE_DICTIONARY) {
            pl_array *d = NULL;
            st = pl_array_decode_dictionary(acc, &d, err);
            pl_array_release(acc);
            acc = d;
        }
    } else if (!st) {
        for (int64_t i = 0; i < n; i++)
            eidx[i] = pl_array_is_valid(l, i) && o[i + 1] > o[i] ? o[i] : -1;
        st = pl_array_take(l->children[0], eidx, n, &acc, err);
    }
    for (int64_t s = has_init ? 0 : 1; s < longest && !st; s++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++) {
            bool on = pl_array_is_valid(l, i) && o[i + 1] - o[i] > s;
            which[i] = on ? 1 : 0;
            wpos[i] = on ? (int32_t)m : (int32_t)i;
            if (on) {
                rows[m] = i;
                eidx[m] = o[i] + s;
                pos[m] = s + 1;
                m++;
            }
        }
        frames fs = {0};
        pl_array *v = NULL, *next = NULL;
        st = frames_new(lambda_id(call), ec ? ec->lambda : NULL, rows, m, &fs, err);
        if (!st) st = pl_array_take(acc, rows, m, &fs.f[0].slot[0], err);
        if (!st) st = pl_array_take(l->children[0], eidx, m, &fs.f[0].slot[1], err);
        if (!st) st = int64_array(pos, m, &fs.f[0].slot[2], err);
        if (!st) st = run_body(ec, call->args[1], in, used, rows, m, &fs, &v, err);
        pl_array *src[2] = {acc, v};
        if (!st) st = pl_xinterleave(et, 2, src, which, wpos, n, &next, err);
        frames_free(&fs);
        pl_array_release(v);
        if (!st) {
            pl_array_release(acc);
            acc = next;
        }
    }
    pl_array *r = NULL;
    if (!st) { /* NULL for NULL lists */
        for (int64_t i = 0; i < n; i++) {
            which[i] = pl_array_is_valid(l, i) ? 0 : -1;
            wpos[i] = (int32_t)i;
        }
        st = pl_xinterleave(et, 1, &acc, which, wpos, n, &r, err);
    }
    pl_array_release(acc);
    pl_free(rows);
    pl_free(eidx);
    pl_free(pos);
    pl_free(which);
    pl_free(wpos);
    if (st) return st;
    pl_datum_set_array(out, r);
    return PL_OK;
}

pl_status pl_lambda_eval(pl_eval_ctx *ec, const pl_bexpr *call, pl_batch *in, pl_datum *out,
                         pl_error *err) {
    if (is_param(call)) {
        int64_t id = lambda_id(call);
        int32_t slot = (int32_t)call->args[1]->lit.v.i;
        for (const pl_lambda_frame *f = ec ? ec->lambda : NULL; f; f = f->up) {
            if (f->id != id) continue;
            pl_array *a = slot >= 0 && slot < 3 ? f->slot[slot] : NULL;
            if (!a || !in || a->length != in->n_rows) break;
            pl_datum_reset(out);
            pl_datum_set_array(out, pl_array_retain(a));
            return PL_OK;
        }
        PL_FAIL(err, PL_ERR_INTERNAL, "lambda parameter %d of lambda %lld not in scope", (int)slot, (long long)id);
    }
    if (!in) PL_FAIL(err, PL_ERR_INTERNAL, "%s evaluated outside a batch", call->fn->name);
    pl_array *l = NULL;
    PL_TRY(pl_bexpr_eval_array(ec, call->args[0], in, &l, err));
    bool *used = pl_calloc((size_t)PL_MAX(in->n_cols, 1), sizeof *used);
    pl_status st = used ? PL_OK : NOMEM(err);
    if (!st) mark_cols(call->args[1], used, in->n_cols);
    pl_datum res = {0};
    if (!st) {
        if (!strcmp(call->fn->name, "__lambda_reduce")) st = eval_reduce(ec, call, in, l, used, &res, err);
        else st = eval_map(ec, call, in, l, used, !strcmp(call->fn->name, "__lambda_filter"), &res, err);
    }
    pl_free(used);
    pl_array_release(l);
    return pl_eval_call_result(call, st, &res, out, err);
}

#define LAMBDA (PL_FN_LAMBDA | PL_FN_VOLATILE)

static const pl_func_def k_defs[] = {
    {"__lambda_transform", NULL, 3, 3, LAMBDA, bind_transform, k_never},
    {"__lambda_filter", NULL, 3, 3, LAMBDA, bind_filter, k_never},
    {"__lambda_reduce", NULL, 3, 4, LAMBDA, bind_reduce, k_never},
    {"__lambda_param", NULL, 2, 2, LAMBDA, bind_param, k_never},
};

const pl_func_set pl_funcs_lambda = {(int32_t)(sizeof k_defs / sizeof k_defs[0]), k_defs};
