/* eval.c - evaluation of bound expressions over batches.
 *
 * A call evaluates its arguments into datums and runs its kernel (pl_call_eval), which also
 * handles: NULL scalars of NULL-in-NULL-out functions (no kernel run), calls on scalars only
 * (run on one-row arrays, giving a scalar), and DICTIONARY arguments: kernels without
 * PL_FN_DICT_OK get them decoded, except that an elementwise function with one dictionary
 * argument and scalar others runs on the dictionary's values and gathers by the indices
 * (symbol = 'AAPL' compares each distinct symbol once). CASE is evaluated lazily: each branch
 * runs only on the rows that select it, so an error in a branch not taken for a row is no
 * error. */
#include <string.h>

#include "expr/expr_core.h"

static bool any_null_scalar(const pl_datum *args, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (args[i].is_scalar && args[i].scalar.is_null) return true;
    return false;
}

static pl_status null_result(const pl_bexpr *call, bool scalar, int64_t n, pl_datum *out,
                             pl_error *err) {
    if (scalar) {
        pl_value v;
        pl_value_init_null(&v);
        pl_type_release(v.type);
        v.type = pl_type_retain(call->type);
        pl_datum_set_scalar(out, &v);
        return PL_OK;
    }
    pl_array *a;
    PL_TRY(pl_array_new_nulls(call->type, n, &a, err));
    pl_datum_set_array(out, a);
    return PL_OK;
}

pl_status pl_eval_call_result(const pl_bexpr *call, pl_status st, pl_datum *res, pl_datum *out,
                              pl_error *err) {
    if (st) {
        pl_datum_reset(res);
        if (err && err->sql_pos < 0) err->sql_pos = call->sql_pos;
        return st;
    }
    pl_datum_reset(out);
    *out = *res;
    *res = (pl_datum){0};
    return PL_OK;
}

static pl_status run_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    pl_datum res = {0};
    pl_status st = call->fn->exec(ec, call, args, n, &res, err);
    return pl_eval_call_result(call, st, &res, out, err);
}

static pl_status call_eval(pl_eval_ctx *ec, const pl_bexpr *call, pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    int32_t na = call->n_args;
    uint32_t flags = call->fn->flags;
    bool all_scalar = na > 0;
    for (int32_t i = 0; i < na; i++) all_scalar &= args[i].is_scalar;
    if ((flags & PL_FN_NULL_IN_NULL_OUT) && any_null_scalar(args, na))
        return null_result(call, all_scalar, n, out, err);
    pl_type_id rid = call->type ? call->type->id : PL_TYPE_NA;
    if (all_scalar && (rid == PL_TYPE_LIST || rid == PL_TYPE_STRUCT || rid == PL_TYPE_MAP)) {
        /* a nested value has no scalar form: the kernel runs on n-row arrays (list_value(1, 2)) */
        pl_datum *full = pl_calloc((size_t)na, sizeof *full);
        if (!full) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating %s", call->fn->name);
        pl_status st = PL_OK;
        for (int32_t i = 0; i < na && !st; i++) {
            pl_array *a;
            st = pl_array_from_value(&args[i].scalar, n, &a, err);
            if (!st) pl_datum_set_array(&full[i], a);
        }
        if (!st) st = run_kernel(ec, call, full, n, out, err);
        for (int32_t i = 0; i < na; i++) pl_datum_reset(&full[i]);
        pl_free(full);
        return st;
    }
    if (all_scalar) {
        /* one-row arrays in, the row out as a scalar */
        pl_datum *one = pl_calloc((size_t)na, sizeof *one);
        if (!one) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating %s", call->fn->name);
        pl_status st = PL_OK;
        for (int32_t i = 0; i < na && !st; i++) {
            pl_array *a;
            st = pl_array_from_value(&args[i].scalar, 1, &a, err);
            if (!st) pl_datum_set_array(&one[i], a);
        }
        pl_datum res = {0};
        if (!st) st = run_kernel(ec, call, one, 1, &res, err);
        if (!st && !res.is_scalar) {
            pl_value v;
            pl_value_init_null(&v);
            st = pl_value_from_array(res.array, 0, &v, err);
            if (!st) pl_datum_set_scalar(&res, &v);
        }
        for (int32_t i = 0; i < na; i++) pl_datum_reset(&one[i]);
        pl_free(one);
        if (st) {
            pl_datum_reset(&res);
            return st;
        }
        pl_datum_reset(out);
        *out = res;
        return PL_OK;
    }
    if (!(flags & PL_FN_DICT_OK)) {
        int32_t n_dict = 0, dict_arg = -1, n_arrays = 0;
        for (int32_t i = 0; i < na; i++) {
            if (args[i].is_scalar) continue;
            n_arrays++;
            if (args[i].array->type->id == PL_TYPE_DICTIONARY) {
                n_dict++;
                dict_arg = i;
            }
        }
        if (n_dict == 1 && n_arrays == 1 && (flags & PL_FN_ELEMENTWISE)) {
            pl_array *d = args[dict_arg].array;
            bool nulls_ok = (flags & PL_FN_NULL_IN_NULL_OUT) || pl_array_null_count(d) == 0;
            if (nulls_ok && d->dictionary->length > 0 && d->dictionary->length <= n) {
                /* run on the dictionary values, then gather by the indices */
                pl_array *saved = args[dict_arg].array;
                args[dict_arg].array = d->dictionary;
                pl_datum res = {0};
                pl_status st = run_kernel(ec, call, args, d->dictionary->length, &res, err);
                args[dict_arg].array = saved;
                if (st) return st;
                pl_array *vals = NULL, *g = NULL;
                st = pl_datum_to_array(&res, d->dictionary->length, true, &vals, err);
                pl_datum_reset(&res);
                if (!st) st = pl_xtake_dict(vals, d, &g, err);
                pl_array_release(vals);
                if (st) return st;
                pl_datum_set_array(out, g);
                return PL_OK;
            }
        }
        if (n_dict > 0) {
            for (int32_t i = 0; i < na; i++) {
                if (args[i].is_scalar || args[i].array->type->id != PL_TYPE_DICTIONARY) continue;
                pl_array *dec;
                PL_TRY(pl_array_decode_dictionary(args[i].array, &dec, err));
                pl_datum_set_array(&args[i], dec);
            }
        }
    }
    return run_kernel(ec, call, args, n, out, err);
}

pl_status pl_call_eval(pl_eval_ctx *ec, const pl_bexpr *call, pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    pl_status st = call_eval(ec, call, args, n, out, err);
    /* in a query a kernel's row is one of an internal batch: not the user's row */
    if (st && ec && ec->exec) pl_error_forget_row(err);
    return st;
}

/* ---------------------------------------------------------------- lazy CASE */

static void mark_cols(const pl_bexpr *e, bool *used, int32_t n_cols) {
    if (e->kind == PL_BEXPR_COL) {
        if (e->col >= 0 && e->col < n_cols) used[e->col] = true;
        return;
    }
    for (int32_t i = 0; i < e->n_args; i++) mark_cols(e->args[i], used, n_cols);
}

static bool needs_rows(const pl_bexpr *e) { return e->kind == PL_BEXPR_CALL; }

/* The rows sel[0..m) of batch b, taking only the columns e uses (others become NULLs). */
static pl_status take_rows(const pl_bexpr *e, pl_batch *b, const int32_t *sel, int64_t m,
                           pl_batch **out, pl_error *err) {
    int32_t nc = b->n_cols;
    bool *used = pl_calloc((size_t)(nc > 0 ? nc : 1), sizeof *used);
    pl_array **cols = pl_calloc((size_t)(nc > 0 ? nc : 1), sizeof *cols);
    pl_status st = PL_OK;
    if (!used || !cols) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating CASE");
        goto done;
    }
    mark_cols(e, used, nc);
    for (int32_t c = 0; c < nc && !st; c++) {
        pl_array *a = b->columns[c];
        if (!used[c]) {
            pl_type *t = a->type->id == PL_TYPE_DICTIONARY ? a->type->value_type : a->type;
            st = pl_array_new_nulls(t, m, &cols[c], err);
        } else if (a->type->id == PL_TYPE_DICTIONARY) {
            pl_array *dec = NULL;
            st = pl_array_decode_dictionary(a, &dec, err);
            if (!st) st = pl_xtake(dec, sel, m, &cols[c], err);
            pl_array_release(dec);
        } else {
            st = pl_xtake(a, sel, m, &cols[c], err);
        }
    }
    if (st) goto done;
    /* a schema matching the taken columns (dictionaries were decoded) */
    pl_field *fields = pl_calloc((size_t)(nc > 0 ? nc : 1), sizeof *fields);
    if (!fields) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating CASE");
        goto done;
    }
    for (int32_t c = 0; c < nc; c++) {
        fields[c].name = b->schema->fields[c].name;
        fields[c].type = cols[c]->type;
        fields[c].nullable = true;
    }
    pl_schema *s = NULL;
    st = pl_schema_new(nc, fields, &s, err);
    pl_free(fields);
    if (st) goto done;
    st = pl_batch_new(s, m, cols, out, err);
    for (int32_t c = 0; c < nc; c++) cols[c] = NULL; /* taken */
done:
    for (int32_t c = 0; cols && c < nc; c++) pl_array_release(cols[c]);
    pl_free(cols);
    pl_free(used);
    return st;
}

static pl_status eval_on_rows(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *b, const int32_t *sel,
                              int64_t m, bool all, pl_array **out, pl_error *err) {
    pl_datum d = {0};
    pl_status st;
    if (all || !needs_rows(e)) {
        st = pl_bexpr_eval(ec, e, b, &d, err);
        if (!st && !all && !d.is_scalar) {
            /* a column: pick the rows */
            pl_array *full = NULL;
            st = pl_datum_to_array(&d, b->n_rows, true, &full, err);
            if (!st) st = pl_xtake(full, sel, m, out, err);
            pl_array_release(full);
            pl_datum_reset(&d);
            return st;
        }
        if (!st) st = pl_datum_to_array(&d, all ? b->n_rows : m, true, out, err);
        pl_datum_reset(&d);
        return st;
    }
    pl_batch *sub = NULL;
    PL_TRY(take_rows(e, b, sel, m, &sub, err));
    st = pl_bexpr_eval(ec, e, sub, &d, err);
    if (!st) st = pl_datum_to_array(&d, m, true, out, err);
    pl_datum_reset(&d);
    pl_batch_release(sub);
    return st;
}

static pl_status eval_case(pl_eval_ctx *ec, const pl_bexpr *call, pl_batch *in, pl_datum *out,
                           pl_error *err) {
    int64_t n = in->n_rows;
    int32_t na = call->n_args, n_pairs = na / 2;
    bool has_else = na % 2 == 1;
    int32_t n_src = n_pairs + 1;
    size_t rows = (size_t)(n > 0 ? n : 1);
    int32_t *which = pl_malloc(rows * sizeof(int32_t));
    int32_t *pos = pl_malloc(rows * sizeof(int32_t));
    int32_t *rem = pl_malloc(rows * sizeof(int32_t));  /* undecided rows (of in) */
    int32_t *tsel = pl_malloc(rows * sizeof(int32_t)); /* rows selected by this WHEN */
    int32_t *fsel = pl_malloc(rows * sizeof(int32_t));
    pl_array **srcs = pl_calloc((size_t)n_src, sizeof *srcs);
    pl_batch *cur = pl_batch_retain(in); /* the undecided rows as a batch */
    pl_status st = PL_OK;
    if (!which || !pos || !rem || !tsel || !fsel || !srcs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating CASE");
        goto done;
    }
    int64_t n_rem = n;
    for (int64_t i = 0; i < n; i++) {
        which[i] = -1;
        pos[i] = 0;
        rem[i] = (int32_t)i;
    }
    for (int32_t k = 0; k < n_pairs && n_rem > 0 && !st; k++) {
        pl_datum c = {0};
        st = pl_bexpr_eval(ec, call->args[2 * k], cur, &c, err);
        if (st) break;
        int64_t nt = 0, nf = 0;
        for (int64_t j = 0; j < n_rem; j++) {
            bool t;
            if (c.is_scalar) t = !c.scalar.is_null && c.scalar.v.b;
            else t = pl_array_is_valid(c.array, j) &&
                     pl_bit_get(c.array->values->data, c.array->offset + j);
            if (t) tsel[nt++] = (int32_t)j;
            else fsel[nf++] = (int32_t)j;
        }
        pl_datum_reset(&c);
        if (nt > 0) {
            st = eval_on_rows(ec, call->args[2 * k + 1], cur, tsel, nt, nt == n_rem, &srcs[k],
                              err);
            if (st) break;
            for (int64_t j = 0; j < nt; j++) {
                which[rem[tsel[j]]] = k;
                pos[rem[tsel[j]]] = (int32_t)j;
            }
        }
        if (nf < n_rem) {
            pl_batch *next = NULL;
            /* the next WHENs see only the rows still undecided */
            if (nf > 0) {
                pl_bexpr probe = {0}; /* all columns the rest of the CASE uses */
                probe.kind = PL_BEXPR_CALL;
                probe.n_args = na - 2 * (k + 1);
                probe.args = call->args + 2 * (k + 1);
                st = take_rows(&probe, cur, fsel, nf, &next, err);
                if (st) break;
            }
            for (int64_t j = 0; j < nf; j++) rem[j] = rem[fsel[j]];
            pl_batch_release(cur);
            cur = next;
            n_rem = nf;
        }
    }
    if (!st && has_else && n_rem > 0) {
        for (int64_t j = 0; j < n_rem; j++) tsel[j] = (int32_t)j;
        st = eval_on_rows(ec, call->args[na - 1], cur, tsel, n_rem, true, &srcs[n_pairs], err);
        for (int64_t j = 0; !st && j < n_rem; j++) {
            which[rem[j]] = n_pairs;
            pos[rem[j]] = (int32_t)j;
        }
    }
    if (!st) {
        /* branch results may carry the NA type (NULL literals): those rows stay NULL */
        for (int32_t k = 0; k < n_src; k++)
            if (srcs[k] && !pl_type_equals(srcs[k]->type, call->type)) {
                pl_array_release(srcs[k]);
                srcs[k] = NULL;
            }
        pl_array *r;
        st = pl_xinterleave(call->type, n_src, srcs, which, pos, n, &r, err);
        if (!st) pl_datum_set_array(out, r);
    }
done:
    if (st && err && err->sql_pos < 0) err->sql_pos = call->sql_pos;
    pl_batch_release(cur);
    for (int32_t k = 0; srcs && k < n_src; k++) pl_array_release(srcs[k]);
    pl_free(srcs);
    pl_free(which);
    pl_free(pos);
    pl_free(rem);
    pl_free(tsel);
    pl_free(fsel);
    return st;
}

/* ---------------------------------------------------------------- entry points */

pl_status pl_bexpr_eval(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in, pl_datum *out,
                        pl_error *err) {
    switch (e->kind) {
    case PL_BEXPR_COL:
        if (!in || e->col < 0 || e->col >= in->n_cols)
            PL_FAIL(err, PL_ERR_INTERNAL, "column #%d not in the input batch", (int)e->col);
        pl_datum_set_array(out, pl_array_retain(in->columns[e->col]));
        return PL_OK;
    case PL_BEXPR_LIT: {
        pl_value v;
        PL_TRY(pl_value_copy(&e->lit, &v, err));
        pl_datum_set_scalar(out, &v);
        return PL_OK;
    }
    case PL_BEXPR_CALL: break;
    }
    if (in && in->n_rows == 0) {
        /* no rows: an empty column of the call's type (kernels never see empty arrays) */
        pl_array *a;
        PL_TRY(pl_array_new_nulls(e->type, 0, &a, err));
        pl_datum_set_array(out, a);
        return PL_OK;
    }
    if (e->fn->flags & PL_FN_LAMBDA) return pl_lambda_eval(ec, e, in, out, err);
    if (pl_fn_is_case(e->fn) && in && !pl_bexpr_cannot_fail(e)) return eval_case(ec, e, in, out, err);
    int32_t na = e->n_args;
    pl_datum small[4] = {{0}};
    pl_datum *args = na <= 4 ? small : pl_calloc((size_t)na, sizeof *args);
    if (!args) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating %s", e->fn->name);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < na && !st; i++) st = pl_bexpr_eval(ec, e->args[i], in, &args[i], err);
    if (!st) st = pl_call_eval(ec, e, args, in ? in->n_rows : 1, out, err);
    for (int32_t i = 0; i < na; i++) pl_datum_reset(&args[i]);
    if (args != small) pl_free(args);
    return st;
}

pl_status pl_bexpr_eval_array(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in, pl_array **out,
                              pl_error *err) {
    pl_datum d = {0};
    PL_TRY(pl_bexpr_eval(ec, e, in, &d, err));
    pl_array *a = NULL;
    pl_status st = pl_datum_to_array(&d, in->n_rows, e->kind != PL_BEXPR_COL, &a, err);
    pl_datum_reset(&d);
    if (st) return st;
    /* a NULL literal or a scalar of another width: the array has the expression's type */
    *out = a;
    return PL_OK;
}

static pl_status eval_filter(pl_eval_ctx *ec, const pl_bexpr *pred, pl_batch *in, int32_t **sel,
                             int64_t *n_sel, pl_error *err);

/* A filter over AND / OR evaluated term by term, each term only on the rows still undecided
 * (like DuckDB: WHERE y <> 0 AND x // y > 1 is no division by zero). Only run when evaluating
 * the whole predicate failed, so the common path pays nothing. */
static pl_status filter_lazy(pl_eval_ctx *ec, const pl_bexpr *pred, bool is_and, pl_batch *in,
                             int32_t **sel, int64_t *n_sel, pl_error *err) {
    int64_t n = in->n_rows;
    size_t rows = (size_t)(n > 0 ? n : 1);
    int32_t *rem = pl_malloc(rows * sizeof(int32_t)); /* undecided rows of in */
    uint8_t *hit = is_and ? NULL : pl_calloc(rows, 1); /* OR: rows found true */
    if (!rem || (!is_and && !hit)) {
        pl_free(rem);
        pl_free(hit);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory filtering %lld rows", (long long)n);
    }
    int64_t m = n;
    for (int64_t i = 0; i < n; i++) rem[i] = (int32_t)i;
    pl_status st = PL_OK;
    /* terms that cannot fail first (DuckDB reorders cheap terms first too: WHERE x // y > 1
     * AND y <> 0 is no error there), then the others in the order written */
    for (int32_t kk = 0; kk < 2 * pred->n_args && m > 0 && !st; kk++) {
        int32_t k = kk % pred->n_args;
        if (pl_bexpr_cannot_fail(pred->args[k]) != (kk < pred->n_args)) continue;
        pl_batch *sub = NULL;
        if (m == n) sub = pl_batch_retain(in);
        else st = take_rows(pred->args[k], in, rem, m, &sub, err);
        if (st) break;
        int32_t *sk = NULL;
        int64_t mk = 0;
        st = pl_bexpr_eval_filter(ec, pred->args[k], sub, &sk, &mk, err);
        pl_batch_release(sub);
        if (st) break;
        if (is_and) { /* the rows still true stay undecided */
            for (int64_t j = 0; j < mk; j++) rem[j] = rem[sk[j]];
            m = mk;
        } else { /* rows found true are decided; the others stay */
            int64_t o = 0, q = 0;
            for (int64_t j = 0; j < m; j++) {
                if (q < mk && sk[q] == j) {
                    hit[rem[j]] = 1;
                    q++;
                } else {
                    rem[o++] = rem[j];
                }
            }
            m = o;
        }
        pl_free(sk);
    }
    if (st) {
        pl_free(rem);
        pl_free(hit);
        return st;
    }
    if (!is_and) { /* the rows found true, in order */
        m = 0;
        for (int64_t i = 0; i < n; i++)
            if (hit[i]) rem[m++] = (int32_t)i;
        pl_free(hit);
    }
    *sel = rem;
    *n_sel = m;
    return PL_OK;
}

pl_status pl_bexpr_eval_filter(pl_eval_ctx *ec, const pl_bexpr *pred, pl_batch *in,
                               int32_t **sel, int64_t *n_sel, pl_error *err) {
    pl_status st = eval_filter(ec, pred, in, sel, n_sel, err);
    bool is_and = false;
    if (st && st != PL_ERR_NOMEM && in && in->n_rows > 0 && pred->kind == PL_BEXPR_CALL &&
        pred->n_args >= 2 && pl_fn_is_and_or(pred->fn, &is_and)) {
        /* a term failed on some row: maybe one an earlier term excludes */
        st = filter_lazy(ec, pred, is_and, in, sel, n_sel, err);
        if (!st && err) pl_error_init(err);
    }
    return st;
}

static pl_status eval_filter(pl_eval_ctx *ec, const pl_bexpr *pred, pl_batch *in, int32_t **sel,
                             int64_t *n_sel, pl_error *err) {
    pl_datum d = {0};
    PL_TRY(pl_bexpr_eval(ec, pred, in, &d, err));
    int64_t n = in->n_rows;
    int32_t *s = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (!s) {
        pl_datum_reset(&d);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory filtering %lld rows", (long long)n);
    }
    int64_t m = 0;
    if (d.is_scalar) {
        if (!d.scalar.is_null && d.scalar.type->id == PL_TYPE_BOOL && d.scalar.v.b)
            for (int64_t i = 0; i < n; i++) s[m++] = (int32_t)i;
    } else {
        pl_array *a = d.array;
        pl_array *dec = NULL;
        if (a->type->id == PL_TYPE_DICTIONARY) {
            pl_status st = pl_array_decode_dictionary(a, &dec, err);
            if (st) {
                pl_free(s);
                pl_datum_reset(&d);
                return st;
            }
            a = dec;
        }
        if (a->type->id == PL_TYPE_BOOL) {
            int64_t nb = pl_bits_bytes(n);
            uint8_t *bits = pl_malloc((size_t)nb + 8);
            if (!bits) {
                pl_array_release(dec);
                pl_free(s);
                pl_datum_reset(&d);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory filtering %lld rows", (long long)n);
            }
            memset(bits, 0, (size_t)nb + 8);
            pl_xbits_copy(bits, a->values->data, a->offset, n);
            if (a->validity) pl_xbits_and(bits, a->validity->data, a->offset, n);
            for (int64_t w = 0; w * 64 < n; w++) {
                uint64_t x;
                memcpy(&x, bits + w * 8, 8);
                while (x) {
                    int b = __builtin_ctzll(x);
                    s[m++] = (int32_t)(w * 64 + b);
                    x &= x - 1;
                }
            }
            pl_free(bits);
        } else if (a->type->id != PL_TYPE_NA) {
            char tn[64];
            pl_array_release(dec);
            pl_free(s);
            pl_datum_reset(&d);
            PL_FAIL(err, PL_ERR_TYPE, "a filter must be boolean, got %s",
                    pl_xtype_name(a->type, tn, sizeof tn));
        }
        pl_array_release(dec);
    }
    pl_datum_reset(&d);
    *sel = s;
    *n_sel = m;
    return PL_OK;
}
