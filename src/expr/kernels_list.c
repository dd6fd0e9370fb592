/* kernels_list.c - list functions (pl_funcs_list), with DuckDB's semantics:
 *   list_value(...) (ARRAY[...]), list_extract(l, i) (l[i]: 1-based, negative from the end, out
 *   of range NULL), list_contains / list_position, list_sort, list_distinct, list_sum / min /
 *   max / avg, list_concat, list_slice, array_to_string / list_string_agg, string_split,
 *   array_length, list_zip, range / generate_series (list-valued), list_intersect, list_select,
 *   array_resize, the vector functions (inner product, distance, cosine), struct_pack / struct_keys /
 *   struct_extract (structs). [] and [NULL] are lists of the null type ("NULL"[]), cast where they meet others.
 *   Lists are Arrow lists (int32 offsets, one child array); results are built with gathers of
 *   the children (pl_array_take), so any element type works, nested ones too.
 * Kernels of list results never see all-scalar arguments as one-row arrays standing for a
 * scalar: a list has no scalar form, so the evaluator runs them on n-row arrays (eval.c). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compute/compute.h"
#include "expr/funcs_int.h"

#define NOMEM(err, what) pl_error_set((err), PL_ERR_NOMEM, "out of memory in %s", (what))

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }

static pl_type *elem_type(const pl_type *t) { return t->children[0].type; }

static bool is_list(const pl_bexpr *e) { return e->type->id == PL_TYPE_LIST; }

/* A list type of elements t (retained). */
static pl_status list_of(pl_type *t, pl_type **out, pl_error *err) {
    return pl_type_new_list("item", t, true, out, err);
}

/* Argument k as a plain array of n rows (scalars repeated, dictionaries decoded). */
static pl_status arg_array(const pl_datum *args, int32_t k, int64_t n, pl_array **out, pl_error *err) {
    return pl_fn_plain_array(args, k, n, out, err);
}

static bool valid(const pl_array *a, int64_t i) { return pl_array_is_valid(a, i); }

/* The list result: offsets (n + 1 int32, taken), validity (taken, may be NULL), child (taken). */
static pl_status finish_list(pl_datum *out, const pl_bexpr *call, int64_t n, pl_buf *validity,
                             pl_buf *offsets, pl_array *child, pl_error *err) {
    pl_array *a = NULL;
    pl_status st = pl_array_new(pl_type_retain(call->type), n, -1, validity, offsets, NULL, 1,
                                &child, NULL, &a, err);
    if (st) return st;
    pl_datum_set_array(out, a);
    return PL_OK;
}

/* The validity of rows where keep[i] (NULL when every row is kept). */
static pl_status validity_of(const uint8_t *keep, int64_t n, pl_buf **out, pl_error *err) {
    return pl_fn_validity_of(keep, n, out, err);
}

/* A list result gathered from child: row i holds child[idx[o[i] .. o[i+1])] (idx -1: NULL
 * element), NULL where keep[i] is 0 (keep may be NULL: all valid). Takes nothing. */
static pl_status gather_list(pl_datum *out, const pl_bexpr *call, int64_t n, const uint8_t *keep,
                             const int32_t *o, pl_array *child, const int64_t *idx, pl_error *err) {
    pl_buf *offs = NULL, *validity = NULL;
    pl_array *c = NULL;
    PL_TRY(pl_fn_new_values(n + 1, 4, &offs, err));
    memcpy(offs->data, o, (size_t)(n + 1) * 4);
    pl_status st = keep ? validity_of(keep, n, &validity, err) : PL_OK;
    if (!st) st = pl_array_take(child, idx, o[n], &c, err);
    if (st) {
        pl_buf_release(offs);
        pl_buf_release(validity);
        return st;
    }
    return finish_list(out, call, n, validity, offs, c, err);
}

/* ---------------------------------------------------------------- list_value */

static pl_status bind_list_value(pl_bexpr *call, pl_error *err) {
    pl_type *t = NULL;
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type *a = call->args[i]->type;
        if (a->id == PL_TYPE_DICTIONARY) a = a->value_type;
        if (a->id == PL_TYPE_NA) continue;
        if (!t) {
            t = pl_type_retain(a);
            continue;
        }
        pl_type *s = pl_type_equals(t, a) ? pl_type_retain(t) : pl_type_common_super(t, a);
        pl_type_release(t);
        if (!s) return pl_fn_no_function(call, err);
        t = s;
    }
    if (!t) t = ty(PL_TYPE_NA); /* [] and [NULL]: DuckDB's "NULL"[], cast to another list type where combined */
    pl_status st = PL_OK;
    for (int32_t i = 0; i < call->n_args && !st; i++) st = pl_bexpr_wrap_cast(&call->args[i], t, err);
    if (!st) st = list_of(t, &call->type, err);
    pl_type_release(t);
    return st;
}

static pl_status k_list_value(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    (void)ec;
    int32_t k = call->n_args;
    pl_array **cols = pl_calloc((size_t)(k > 0 ? k : 1), sizeof *cols);
    int32_t *o = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(n * k > 0 ? n * k : 1));
    pl_status st = (!cols || !o || !idx) ? NOMEM(err, "list_value") : PL_OK;
    if (!st && n * k > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "list_value: more than 2^31 elements");
    int32_t made = 0;
    for (; !st && made < k; made++) {
        st = arg_array(args, made, n, &cols[made], err);
        if (st) break;
    }
    pl_array *all = NULL;
    if (!st && k > 0) st = pl_array_concat(k, cols, &all, err);
    if (!st && k == 0) st = pl_array_new_nulls(elem_type(call->type), 0, &all, err);
    if (!st) {
        for (int64_t i = 0; i <= n; i++) o[i] = (int32_t)(i * k);
        for (int64_t i = 0; i < n; i++)
            for (int32_t j = 0; j < k; j++) idx[i * k + j] = (int64_t)j * n + i;
        st = gather_list(out, call, n, NULL, o, all, idx, err);
    }
    pl_array_release(all);
    for (int32_t i = 0; i < made; i++) pl_array_release(cols[i]);
    pl_free(cols);
    pl_free(o);
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- list_extract */

static pl_status bind_list_extract(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id == PL_TYPE_STRUCT) { /* s['a'], DuckDB's struct access */
        const pl_func_def *fn = pl_func_lookup("struct_extract");
        if (!fn) return pl_fn_no_function(call, err);
        call->fn = fn;
        return fn->bind(call, err);
    }
    if (call->args[0]->type->id == PL_TYPE_MAP) { /* m[k], DuckDB's map access: the value or NULL */
        const pl_func_def *fn = pl_func_lookup("map_extract_value");
        if (!fn) return pl_fn_no_function(call, err);
        call->fn = fn;
        return fn->bind(call, err);
    }
    if (!is_list(call->args[0]) || !(pl_type_is_integer(call->args[1]->type->id) ||
                                     call->args[1]->type->id == PL_TYPE_NA))
        return pl_fn_no_function(call, err);
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], ty(PL_TYPE_INT64), err));
    call->type = pl_type_retain(elem_type(call->args[0]->type));
    return PL_OK;
}

/* 0-based position of 1-based index i (negative: from the end) in a list of len, or -1. */
static int64_t list_pos(int64_t i, int64_t len) {
    if (i > 0) return i <= len ? i - 1 : -1;
    if (i < 0) return i >= -len ? len + i : -1; /* no negation: INT64_MIN stays in range */
    return -1;
}

static pl_status k_list_extract(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *ix = NULL, *r = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = arg_array(args, 1, n, &ix, err);
    int64_t *idx = st ? NULL : pl_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!st && !idx) st = NOMEM(err, "list_extract");
    if (!st) {
        const int32_t *o = pl_array_offsets(l);
        const int64_t *iv = ix->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(ix) : NULL;
        for (int64_t i = 0; i < n; i++) {
            idx[i] = -1;
            if (!iv || !valid(l, i) || !valid(ix, i)) continue;
            int64_t p = list_pos(iv[i], o[i + 1] - o[i]);
            if (p >= 0) idx[i] = o[i] + p;
        }
        st = pl_array_take(l->children[0], idx, n, &r, err);
    }
    if (!st) pl_datum_set_array(out, r);
    pl_array_release(l);
    pl_array_release(ix);
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- list_contains, list_position */

/* A "NULL"[] list argument k ([], [NULL]) cast to a list of t. */
static pl_status typed_null_list(pl_bexpr *call, int32_t k, pl_type *t, pl_error *err) {
    if (!is_list(call->args[k]) || elem_type(call->args[k]->type)->id != PL_TYPE_NA ||
        t->id == PL_TYPE_NA)
        return PL_OK;
    pl_type *lt = NULL;
    PL_TRY(list_of(t, &lt, err));
    pl_status st = pl_bexpr_wrap_cast(&call->args[k], lt, err);
    pl_type_release(lt);
    return st;
}

static pl_status bind_list_find(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    pl_type *x = call->args[1]->type;
    PL_TRY(typed_null_list(call, 0, x->id == PL_TYPE_DICTIONARY ? x->value_type : x, err));
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], elem_type(call->args[0]->type), err));
    call->type = ty(strcmp(call->fn->name, "list_contains") == 0 ? PL_TYPE_BOOL : PL_TYPE_INT32);
    return PL_OK;
}

/* list_contains(l, x): NULL when l or x is NULL; list_position(l, x): the 1-based position of
 * the first element equal to x (NULL x finds a NULL element), NULL when none or l is NULL. */
static pl_status k_list_find(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err) {
    (void)ec;
    bool contains = strcmp(call->fn->name, "list_contains") == 0;
    pl_array *l = NULL, *x = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = arg_array(args, 1, n, &x, err);
    pl_buf *vals = NULL, *validity = NULL;
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && !keep) st = NOMEM(err, call->fn->name);
    if (!st) st = contains ? pl_fn_new_validity(n, &vals, err) /* zeroed bits */
                           : pl_fn_new_values(n, 4, &vals, err);
    if (!st) {
        const int32_t *o = pl_array_offsets(l);
        pl_array *c = l->children[0];
        int32_t *pos = contains ? NULL : (int32_t *)(void *)vals->data;
        for (int64_t i = 0; i < n; i++) {
            int64_t found = -1;
            bool xv = valid(x, i);
            keep[i] = valid(l, i) && (xv || !contains);
            if (keep[i]) {
                for (int32_t j = o[i]; j < o[i + 1] && found < 0; j++) {
                    bool cv = valid(c, j);
                    if (cv && xv ? pl_array_value_equal(c, j, x, i) : (!cv && !xv)) found = j - o[i];
                }
            }
            if (contains) {
                if (found >= 0) pl_bit_set(vals->data, i);
            } else {
                pos[i] = (int32_t)(found + 1);
                if (found < 0) keep[i] = 0;
            }
        }
        st = validity_of(keep, n, &validity, err);
    }
    if (!st) {
        st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
        vals = NULL;
        validity = NULL;
    }
    pl_buf_release(vals);
    pl_buf_release(validity);
    pl_free(keep);
    pl_array_release(l);
    pl_array_release(x);
    return st;
}

/* ---------------------------------------------------------------- array_length */

static pl_status bind_list_length(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    if (call->n_args > 1) {
        if (!pl_type_is_integer(call->args[1]->type->id)) return pl_fn_no_function(call, err);
    }
    call->type = ty(PL_TYPE_INT64);
    return PL_OK;
}

static pl_status k_list_length(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_buf *validity = NULL, *vals = NULL;
    pl_status st = pl_fn_new_result(l, n, 8, &validity, &vals, err);
    if (!st) {
        const int32_t *o = pl_array_offsets(l);
        int64_t *v = (int64_t *)(void *)vals->data;
        for (int64_t i = 0; i < n; i++) v[i] = o[i + 1] - o[i];
        st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
    }
    pl_array_release(l);
    return st;
}

/* ---------------------------------------------------------------- list_sort, list_distinct */

typedef struct sort_ctx {
    pl_array *c;
    bool desc, nulls_first;
} sort_ctx;

static int cmp_elem(const sort_ctx *s, int64_t a, int64_t b) {
    bool av = valid(s->c, a), bv = valid(s->c, b);
    if (!av || !bv) {
        if (av == bv) return 0;
        return (!av) == s->nulls_first ? -1 : 1;
    }
    int r = pl_array_value_compare(s->c, a, s->c, b, false);
    return s->desc ? -r : r;
}

/* Stable merge sort of v[0..n) by cmp_elem (tmp: n scratch slots). */
static void msort(const sort_ctx *s, int64_t *v, int64_t *tmp, int64_t n) {
    if (n < 2) return;
    if (n <= 8) {
        for (int64_t i = 1; i < n; i++) {
            int64_t x = v[i], j = i;
            while (j > 0 && cmp_elem(s, v[j - 1], x) > 0) {
                v[j] = v[j - 1];
                j--;
            }
            v[j] = x;
        }
        return;
    }
    int64_t h = n / 2;
    msort(s, v, tmp, h);
    msort(s, v + h, tmp, n - h);
    int64_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_elem(s, v[j], v[i]) < 0 ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, sizeof *v * (size_t)n);
}

static bool const_text(const pl_bexpr *e, const char **s) {
    if (e->kind != PL_BEXPR_LIT || e->lit.is_null || e->lit.type->id != PL_TYPE_UTF8) return false;
    *s = e->lit.str;
    return true;
}

typedef struct sort_opts {
    bool desc, nulls_first;
} sort_opts;

static void free_opts(void *p) { pl_free(p); }

static pl_status bind_list_sort(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    sort_opts *o = pl_calloc(1, sizeof *o);
    if (!o) return NOMEM(err, "list_sort");
    o->desc = strcmp(call->fn->name, "list_reverse_sort") == 0;
    int32_t a = 1;
    const char *s;
    if (!o->desc && call->n_args > a) {
        if (!const_text(call->args[a], &s) || (strcasecmp(s, "asc") && strcasecmp(s, "desc"))) {
            pl_free(o);
            PL_FAIL(err, PL_ERR_SQL, "%s: the sort order must be the constant 'ASC' or 'DESC'", call->fn->name);
        }
        o->desc = strcasecmp(s, "desc") == 0;
        a++;
    }
    if (call->n_args > a) {
        if (!const_text(call->args[a], &s) || (strcasecmp(s, "nulls first") && strcasecmp(s, "nulls last"))) {
            pl_free(o);
            PL_FAIL(err, PL_ERR_SQL, "%s: the NULL order must be the constant 'NULLS FIRST' or 'NULLS LAST'",
                    call->fn->name);
        }
        o->nulls_first = strcasecmp(s, "nulls first") == 0;
        a++;
    }
    if (a != call->n_args) {
        pl_free(o);
        return pl_fn_no_function(call, err);
    }
    call->state = o;
    call->free_state = free_opts;
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

static pl_status bind_list_same(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

/* list_sort (sorted copy), list_distinct (first occurrences, NULLs dropped), list_reverse. */
static pl_status k_list_reorder(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                pl_datum *out, pl_error *err) {
    (void)ec;
    bool distinct = strcmp(call->fn->name, "list_distinct") == 0;
    bool reverse = strcmp(call->fn->name, "list_reverse") == 0;
    pl_array *l = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    const int32_t *o = pl_array_offsets(l);
    int64_t total = o[n] - o[0];
    int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    int64_t *tmp = pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    int32_t *no = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    uint8_t *keep = pl_malloc((size_t)(n > 0 ? n : 1));
    pl_status st = (!idx || !tmp || !no || !keep) ? NOMEM(err, call->fn->name) : PL_OK;
    if (!st) {
        pl_array *c = l->children[0];
        const sort_opts *so = call->state;
        sort_ctx s = {c, so ? so->desc : false, so ? so->nulls_first : false};
        int64_t k = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            keep[i] = valid(l, i);
            int64_t start = k;
            if (keep[i]) {
                for (int32_t j = o[i]; j < o[i + 1]; j++) {
                    if (distinct) {
                        if (!valid(c, j)) continue;
                        bool seen = false;
                        for (int64_t q = start; q < k && !seen; q++) seen = pl_array_value_equal(c, idx[q], c, j);
                        if (seen) continue;
                    }
                    idx[k++] = j;
                }
                if (reverse) {
                    for (int64_t p = start, q = k - 1; p < q; p++, q--) {
                        int64_t x = idx[p];
                        idx[p] = idx[q];
                        idx[q] = x;
                    }
                } else if (!distinct) {
                    msort(&s, idx + start, tmp, k - start);
                }
            }
            no[i + 1] = (int32_t)k;
        }
        st = gather_list(out, call, n, keep, no, c, idx, err);
    }
    pl_free(idx);
    pl_free(tmp);
    pl_free(no);
    pl_free(keep);
    pl_array_release(l);
    return st;
}

/* ---------------------------------------------------------------- flatten, list_has_any/all */

static pl_status bind_flatten(pl_bexpr *call, pl_error *err) {
    if (is_list(call->args[0]) && elem_type(call->args[0]->type)->id == PL_TYPE_NA) {
        /* flatten([]) / flatten([NULL]): "NULL"[] like DuckDB */
        pl_type *inner = NULL, *outer = NULL;
        PL_TRY(list_of(ty(PL_TYPE_NA), &inner, err));
        pl_status st = list_of(inner, &outer, err);
        pl_type_release(inner);
        if (!st) st = pl_bexpr_wrap_cast(&call->args[0], outer, err);
        pl_type_release(outer);
        if (st) return st;
    }
    if (!is_list(call->args[0]) || elem_type(call->args[0]->type)->id != PL_TYPE_LIST)
        return pl_fn_no_function(call, err);
    call->type = pl_type_retain(elem_type(call->args[0]->type));
    return PL_OK;
}

/* flatten(list of lists): the inner lists' elements in order, NULL inner lists skipped. */
static pl_status k_flatten(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_array *in = l->children[0];
    const int32_t *o = pl_array_offsets(l), *io = pl_array_offsets(in);
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++)
        if (valid(l, i))
            for (int32_t j = o[i]; j < o[i + 1]; j++)
                if (valid(in, j)) total += io[j + 1] - io[j];
    pl_status st = total > INT32_MAX ? pl_error_set(err, PL_ERR_LIMIT, "flatten: more than 2^31 elements") : PL_OK;
    int64_t *idx = st ? NULL : pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    int32_t *no = st ? NULL : pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && (!idx || !no || !keep)) st = NOMEM(err, "flatten");
    if (!st) {
        int64_t q = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            keep[i] = valid(l, i);
            if (keep[i])
                for (int32_t j = o[i]; j < o[i + 1]; j++)
                    if (valid(in, j))
                        for (int32_t e = io[j]; e < io[j + 1]; e++) idx[q++] = e;
            no[i + 1] = (int32_t)q;
        }
        st = gather_list(out, call, n, keep, no, in->children[0], idx, err);
    }
    pl_free(idx);
    pl_free(no);
    pl_free(keep);
    pl_array_release(l);
    return st;
}

static pl_status bind_list_has(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0]) || !(is_list(call->args[1]) || call->args[1]->type->id == PL_TYPE_NA))
        return pl_fn_no_function(call, err);
    if (is_list(call->args[1])) PL_TRY(typed_null_list(call, 0, elem_type(call->args[1]->type), err));
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], call->args[0]->type, err));
    call->type = ty(PL_TYPE_BOOL);
    return PL_OK;
}

/* list_has_any(a, b): a non-NULL element of b is in a; list_has_all(a, b): every non-NULL
 * element of b is. NULL when a list is NULL. */
static pl_status k_list_has(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    (void)ec;
    bool all = strcmp(call->fn->name, "list_has_all") == 0;
    pl_array *a = NULL, *b = NULL;
    PL_TRY(arg_array(args, 0, n, &a, err));
    pl_status st = arg_array(args, 1, n, &b, err);
    pl_buf *vals = NULL, *validity = NULL;
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && !keep) st = NOMEM(err, call->fn->name);
    if (!st) st = pl_fn_new_validity(n, &vals, err);
    if (!st) {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        pl_array *ca = a->children[0], *cb = b->children[0];
        for (int64_t i = 0; i < n; i++) {
            keep[i] = valid(a, i) && valid(b, i);
            if (!keep[i]) continue;
            bool res = all;
            for (int32_t k = ob[i]; k < ob[i + 1] && res == all; k++) {
                if (!valid(cb, k)) continue;
                bool found = false;
                for (int32_t j = oa[i]; j < oa[i + 1] && !found; j++)
                    found = valid(ca, j) && pl_array_value_equal(ca, j, cb, k);
                if (all ? !found : found) res = !all;
            }
            if (res) pl_bit_set(vals->data, i);
        }
        st = validity_of(keep, n, &validity, err);
    }
    if (!st) {
        st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
        vals = NULL;
    }
    pl_buf_release(vals);
    pl_free(keep);
    pl_array_release(a);
    pl_array_release(b);
    return st;
}

/* ---------------------------------------------------------------- list_intersect */

/* The buffers of a gathered list result (gather_list): total element indices, n + 1 offsets,
 * n keep flags; all or none allocated. */
static pl_status gather_bufs(int64_t n, int64_t total, const char *what, int64_t **idx, int32_t **no,
                             uint8_t **keep, pl_error *err) {
    *idx = pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    *no = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    *keep = pl_malloc((size_t)(n > 0 ? n : 1));
    if (*idx && *no && *keep) return PL_OK;
    pl_free(*idx);
    pl_free(*no);
    pl_free(*keep);
    *idx = NULL;
    *no = NULL;
    *keep = NULL;
    return NOMEM(err, what);
}

/* Both arguments cast to lists of their elements' common type (NULL literals and "NULL"[]
 * lists take the other's); *elem gets that type (borrowed from call->args[0]). */
static pl_status bind_two_lists(pl_bexpr *call, pl_type **elem, pl_error *err) {
    pl_type *t = NULL;
    for (int32_t k = 0; k < 2; k++) {
        pl_type *a = call->args[k]->type;
        if (a->id == PL_TYPE_NA) continue;
        if (a->id != PL_TYPE_LIST) {
            pl_type_release(t);
            return pl_fn_no_function(call, err);
        }
        pl_type *e = elem_type(a);
        if (e->id == PL_TYPE_NA) continue;
        if (!t) {
            t = pl_type_retain(e);
            continue;
        }
        pl_type *s = pl_type_equals(t, e) ? pl_type_retain(t) : pl_type_common_super(t, e);
        pl_type_release(t);
        if (!s) return pl_fn_no_function(call, err);
        t = s;
    }
    if (!t) t = pl_type_retain(ty(PL_TYPE_NA));
    pl_type *lt = NULL;
    pl_status st = list_of(t, &lt, err);
    pl_type_release(t);
    for (int32_t k = 0; k < 2 && !st; k++) st = pl_bexpr_wrap_cast(&call->args[k], lt, err);
    pl_type_release(lt);
    if (!st) *elem = elem_type(call->args[0]->type);
    return st;
}

static pl_status bind_list_intersect(pl_bexpr *call, pl_error *err) {
    pl_type *e = NULL;
    PL_TRY(bind_two_lists(call, &e, err));
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

/* list_intersect(a, b): the distinct non-NULL elements of b that are in a, in the order of
 * their first occurrence in b (DuckDB leaves the order unspecified: compare sorted); NULL
 * when a is NULL, [] when only b is (DuckDB). */
static pl_status k_list_intersect(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                  int64_t n, pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *a = NULL, *b = NULL;
    PL_TRY(arg_array(args, 0, n, &a, err));
    pl_status st = arg_array(args, 1, n, &b, err);
    const int32_t *oa = st ? NULL : pl_array_offsets(a), *ob = st ? NULL : pl_array_offsets(b);
    int64_t total = st ? 0 : ob[n] - ob[0];
    int64_t *idx = NULL;
    int32_t *no = NULL;
    uint8_t *keep = NULL;
    if (!st) st = gather_bufs(n, total, "list_intersect", &idx, &no, &keep, err);
    if (!st) {
        pl_array *ca = a->children[0], *cb = b->children[0];
        int64_t q = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            keep[i] = valid(a, i);
            int64_t start = q;
            if (keep[i] && valid(b, i)) {
                for (int32_t k = ob[i]; k < ob[i + 1]; k++) {
                    if (!valid(cb, k)) continue;
                    bool seen = false;
                    for (int64_t p = start; p < q && !seen; p++) seen = pl_array_value_equal(cb, idx[p], cb, k);
                    bool found = false;
                    for (int32_t j = oa[i]; j < oa[i + 1] && !found && !seen; j++)
                        found = valid(ca, j) && pl_array_value_equal(ca, j, cb, k);
                    if (found) idx[q++] = k;
                }
            }
            no[i + 1] = (int32_t)q;
        }
        st = gather_list(out, call, n, keep, no, cb, idx, err);
    }
    pl_free(idx);
    pl_free(no);
    pl_free(keep);
    pl_array_release(a);
    pl_array_release(b);
    return st;
}

/* ---------------------------------------------------------------- list_select, array_resize */

static pl_status bind_list_select(pl_bexpr *call, pl_error *err) {
    pl_type *ix = call->args[1]->type;
    if (!is_list(call->args[0]) || !is_list(call->args[1])) return pl_fn_no_function(call, err);
    pl_type_id e = elem_type(ix)->id;
    if (!((pl_type_is_integer(e) && e != PL_TYPE_UINT64) || e == PL_TYPE_NA)) return pl_fn_no_function(call, err);
    pl_type *lt = NULL;
    PL_TRY(list_of(ty(PL_TYPE_INT64), &lt, err));
    pl_status st = pl_bexpr_wrap_cast(&call->args[1], lt, err);
    pl_type_release(lt);
    if (!st) call->type = pl_type_retain(call->args[0]->type);
    return st;
}

/* list_select(l, [i, ...]): the elements at 1-based positions (out of range, 0 or negative: a
 * NULL element); a NULL position is an error (DuckDB). */
static pl_status k_list_select(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *x = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = arg_array(args, 1, n, &x, err);
    const int32_t *ol = st ? NULL : pl_array_offsets(l), *ox = st ? NULL : pl_array_offsets(x);
    int64_t total = st ? 0 : ox[n] - ox[0];
    int64_t *idx = NULL;
    int32_t *no = NULL;
    uint8_t *keep = NULL;
    if (!st) st = gather_bufs(n, total, "list_select", &idx, &no, &keep, err);
    if (!st) {
        pl_array *cx = x->children[0];
        const int64_t *xv = cx->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(cx) : NULL;
        int64_t q = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n && !st; i++) {
            keep[i] = valid(l, i) && valid(x, i);
            for (int32_t k = keep[i] ? ox[i] : 0; keep[i] && k < ox[i + 1]; k++) {
                if (!xv || !valid(cx, k)) {
                    st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                      "list_select: NULLs are not allowed as list elements in the "
                                      "second input parameter (row %lld)", (long long)i);
                    break;
                }
                int64_t len = ol[i + 1] - ol[i], p = xv[k];
                idx[q++] = p >= 1 && p <= len ? ol[i] + p - 1 : -1;
            }
            no[i + 1] = (int32_t)q;
        }
        if (!st) st = gather_list(out, call, n, keep, no, l->children[0], idx, err);
    }
    pl_free(idx);
    pl_free(no);
    pl_free(keep);
    pl_array_release(l);
    pl_array_release(x);
    return st;
}

static pl_status bind_array_resize(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    pl_type_id s = call->args[1]->type->id;
    if (!pl_type_is_numeric(s) && s != PL_TYPE_NA) return pl_fn_no_function(call, err);
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], ty(PL_TYPE_INT64), err));
    if (call->n_args > 2) PL_TRY(pl_bexpr_wrap_cast(&call->args[2], elem_type(call->args[0]->type), err));
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

/* array_resize(l, n [, fill]): l cut to n elements or grown with fill (default NULL); NULL l
 * gives NULL, a NULL size [] (DuckDB); a negative size is an error. */
static pl_status k_array_resize(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *sz = NULL, *fill = NULL, *all = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = arg_array(args, 1, n, &sz, err);
    if (!st && call->n_args > 2) st = arg_array(args, 2, n, &fill, err);
    const int32_t *o = st ? NULL : pl_array_offsets(l);
    const int64_t *sv = st || sz->type->id != PL_TYPE_INT64 ? NULL : pl_array_values_ptr(sz);
    int64_t total = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (!valid(l, i) || !sv || !valid(sz, i)) continue;
        if (sv[i] < 0) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "array_resize: the size must not be negative, found %lld at row %lld",
                              (long long)sv[i], (long long)i);
            break;
        }
        if (sv[i] > INT32_MAX || (total += sv[i]) > INT32_MAX)
            st = pl_error_set(err, PL_ERR_LIMIT, "array_resize: more than 2^31 elements");
    }
    if (!st) {
        pl_array *parts[2] = {l->children[0], fill};
        st = fill ? pl_array_concat(2, parts, &all, err) : (all = pl_array_retain(l->children[0]), PL_OK);
    }
    int64_t *idx = NULL;
    int32_t *no = NULL;
    uint8_t *keep = NULL;
    if (!st) st = gather_bufs(n, total, "array_resize", &idx, &no, &keep, err);
    if (!st) {
        int64_t q = 0, base = l->children[0]->length;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            keep[i] = valid(l, i);
            int64_t want = keep[i] && sv && valid(sz, i) ? sv[i] : 0, len = o[i + 1] - o[i];
            for (int64_t p = 0; p < want; p++) idx[q++] = p < len ? o[i] + p : fill && valid(fill, i) ? base + i : -1;
            no[i + 1] = (int32_t)q;
        }
        st = gather_list(out, call, n, keep, no, all, idx, err);
    }
    pl_free(idx);
    pl_free(no);
    pl_free(keep);
    pl_array_release(all);
    pl_array_release(l);
    pl_array_release(sz);
    pl_array_release(fill);
    return st;
}

/* ---------------------------------------------------------------- vector distances */

typedef enum vec_op { VEC_DOT, VEC_NEG_DOT, VEC_DIST, VEC_COS_SIM, VEC_COS_DIST } vec_op;

static vec_op vec_op_of(const char *f) {
    if (!strcmp(f, "list_negative_inner_product")) return VEC_NEG_DOT;
    if (!strcmp(f, "list_distance")) return VEC_DIST;
    if (!strcmp(f, "list_cosine_similarity")) return VEC_COS_SIM;
    if (!strcmp(f, "list_cosine_distance")) return VEC_COS_DIST;
    return VEC_DOT;
}

/* Lists of numbers: FLOAT when one side is FLOAT[] and the other FLOAT[] or of integers,
 * DOUBLE otherwise (DuckDB); both arguments cast to lists of that type. */
static pl_status bind_list_vec(pl_bexpr *call, pl_error *err) {
    bool any_f32 = false, all_f32_or_int = true;
    for (int32_t k = 0; k < 2; k++) {
        if (call->args[k]->type->id == PL_TYPE_NA) continue; /* NULL: cast to the list type */
        if (!is_list(call->args[k])) return pl_fn_no_function(call, err);
        pl_type_id e = elem_type(call->args[k]->type)->id;
        if (!pl_type_is_numeric(e) && e != PL_TYPE_NA) return pl_fn_no_function(call, err);
        any_f32 |= e == PL_TYPE_FLOAT32;
        all_f32_or_int &= e == PL_TYPE_FLOAT32 || pl_type_is_integer(e);
    }
    pl_type *lt = NULL;
    PL_TRY(list_of(ty(any_f32 && all_f32_or_int ? PL_TYPE_FLOAT32 : PL_TYPE_FLOAT64), &lt, err));
    pl_status st = PL_OK;
    for (int32_t k = 0; k < 2 && !st; k++) st = pl_bexpr_wrap_cast(&call->args[k], lt, err);
    if (!st) call->type = pl_type_retain(elem_type(lt));
    pl_type_release(lt);
    return st;
}

/* One row: the sums over element pairs in the result's precision (float for FLOAT). */
#define VEC_ROW(T, SQRT)                                                                           \
    do {                                                                                           \
        const T *x = len ? pl_array_values_ptr(ca) : NULL, *y = len ? pl_array_values_ptr(cb) : NULL;                        \
        T dot = 0, nx = 0, ny = 0, d2 = 0;                                                         \
        for (int32_t k = 0; k < len; k++) {                                                        \
            T u = x[oa[i] + k], v = y[ob[i] + k];                                                  \
            dot += u * v;                                                                          \
            nx += u * u;                                                                           \
            ny += v * v;                                                                           \
            d2 += (u - v) * (u - v);                                                               \
        }                                                                                          \
        T r = dot;                                                                                 \
        if (op == VEC_NEG_DOT) r = -dot;                                                           \
        else if (op == VEC_DIST) r = SQRT(d2);                                                     \
        else if (op == VEC_COS_SIM || op == VEC_COS_DIST) {                                        \
            r = dot / SQRT(nx * ny);                                                               \
            if (r > 1) r = 1; /* NaN (a zero vector) stays NaN */                                  \
            if (r < -1) r = -1;                                                                    \
            if (op == VEC_COS_DIST) r = 1 - r;                                                     \
        }                                                                                          \
        ((T *)(void *)vals->data)[i] = r;                                                          \
    } while (0)

/* list_inner_product / list_dot_product, list_negative_inner_product, list_distance
 * (Euclidean), list_cosine_similarity / list_cosine_distance: NULL for a NULL list, an error
 * for a NULL element or lists of different lengths; the cosine of empty lists is NULL. */
static pl_status k_list_vec(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    (void)ec;
    const char *f = call->fn->name;
    vec_op op = vec_op_of(f);
    bool f32 = call->type->id == PL_TYPE_FLOAT32;
    pl_array *a = NULL, *b = NULL;
    PL_TRY(arg_array(args, 0, n, &a, err));
    pl_status st = arg_array(args, 1, n, &b, err);
    pl_buf *vals = NULL, *validity = NULL;
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && !keep) st = NOMEM(err, f);
    if (!st) st = pl_fn_new_values(n, f32 ? 4 : 8, &vals, err);
    if (!st) {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        pl_array *ca = a->children[0], *cb = b->children[0];
        for (int64_t i = 0; i < n && !st; i++) {
            keep[i] = valid(a, i) && valid(b, i);
            if (!keep[i]) continue;
            int32_t len = oa[i + 1] - oa[i];
            if (len != ob[i + 1] - ob[i]) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "%s: list dimensions must be equal, got left length '%d' and "
                                  "right length '%d' (row %lld)", f, len, ob[i + 1] - ob[i], (long long)i);
                break;
            }
            for (int32_t k = 0; k < len && !st; k++)
                if (!valid(ca, oa[i] + k) || !valid(cb, ob[i] + k))
                    st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                      "%s: %s argument can not contain NULL values (row %lld)", f,
                                      valid(ca, oa[i] + k) ? "right" : "left", (long long)i);
            if (st) break;
            if (len == 0 && (op == VEC_COS_SIM || op == VEC_COS_DIST)) keep[i] = 0;
            if (f32) VEC_ROW(float, sqrtf);
            else VEC_ROW(double, sqrt);
        }
        if (!st) st = validity_of(keep, n, &validity, err);
    }
    if (!st) {
        st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
        vals = NULL;
    }
    pl_buf_release(vals);
    pl_free(keep);
    pl_array_release(a);
    pl_array_release(b);
    return st;
}

/* ---------------------------------------------------------------- list_sum, min, max, avg */

static pl_status bind_list_agg(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    pl_type *e = elem_type(call->args[0]->type);
    const char *f = call->fn->name;
    if (!strcmp(f, "list_min") || !strcmp(f, "list_max")) {
        if (e->id == PL_TYPE_LIST || e->id == PL_TYPE_STRUCT || e->id == PL_TYPE_MAP)
            return pl_fn_no_function(call, err);
        call->type = pl_type_retain(e);
        return PL_OK;
    }
    if (!strcmp(f, "list_count")) {
        call->type = ty(PL_TYPE_INT64);
        return PL_OK;
    }
    bool isint = pl_type_is_integer(e->id) || e->id == PL_TYPE_BOOL;
    bool isfloat = e->id == PL_TYPE_FLOAT32 || e->id == PL_TYPE_FLOAT64 || e->id == PL_TYPE_DECIMAL128;
    if (e->id == PL_TYPE_NA) isint = true;
    if (!isint && !isfloat) return pl_fn_no_function(call, err);
    if (!strcmp(f, "list_avg")) call->type = ty(PL_TYPE_FLOAT64);
    else if (isint && e->id != PL_TYPE_UINT64) call->type = ty(PL_TYPE_INT64);
    else call->type = ty(PL_TYPE_FLOAT64);
    return PL_OK;
}

static pl_status k_list_agg(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    (void)ec;
    const char *f = call->fn->name;
    pl_array *l = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    const int32_t *o = pl_array_offsets(l);
    pl_array *c = l->children[0];
    uint8_t *keep = pl_malloc((size_t)(n > 0 ? n : 1));
    pl_status st = keep ? PL_OK : NOMEM(err, f);
    bool is_min = !strcmp(f, "list_min"), is_max = !strcmp(f, "list_max");
    if (!st && (is_min || is_max)) {
        /* the element itself: a gather of the best index per row */
        int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
        pl_array *r = NULL;
        if (!idx) st = NOMEM(err, f);
        for (int64_t i = 0; !st && i < n; i++) {
            idx[i] = -1;
            if (!valid(l, i)) continue;
            for (int32_t j = o[i]; j < o[i + 1]; j++) {
                if (!valid(c, j)) continue;
                if (idx[i] < 0) idx[i] = j;
                else {
                    int r2 = pl_array_value_compare(c, j, c, idx[i], false);
                    if (is_min ? r2 < 0 : r2 > 0) idx[i] = j;
                }
            }
        }
        if (!st) st = pl_array_take(c, idx, n, &r, err);
        if (!st) pl_datum_set_array(out, r);
        pl_free(idx);
    } else if (!st) {
        bool count = !strcmp(f, "list_count");
        bool as_int = call->type->id == PL_TYPE_INT64;
        pl_array *cd = NULL;
        int64_t cn = c->length;
        pl_buf *vals = NULL, *validity = NULL;
        st = pl_fn_new_values(n, 8, &vals, err);
        /* the elements as int64 or double (decimals through a cast to double) */
        double *fv = NULL;
        int64_t *iv = NULL;
        if (!st && !count && c->type->id != PL_TYPE_NA) {
            if (c->type->id == PL_TYPE_DECIMAL128) st = pl_cast_array(c, ty(PL_TYPE_FLOAT64), false, &cd, err);
            else if (c->type->id == PL_TYPE_BOOL) st = pl_cast_array(c, ty(PL_TYPE_INT64), false, &cd, err);
            else cd = pl_array_retain(c);
            if (!st) {
                if (as_int) {
                    iv = pl_malloc(sizeof *iv * (size_t)(cn > 0 ? cn : 1));
                    if (!iv) st = NOMEM(err, f);
                    else pl_fn_read_i64(cd, iv);
                } else {
                    fv = pl_malloc(sizeof *fv * (size_t)(cn > 0 ? cn : 1));
                    if (!fv) st = NOMEM(err, f);
                    else pl_fn_read_f64(cd, fv);
                }
            }
        }
        for (int64_t i = 0; !st && i < n; i++) {
            int64_t cntv = 0, si = 0;
            double sf = 0;
            keep[i] = 0;
            if (valid(l, i)) {
                for (int32_t j = o[i]; j < o[i + 1] && !st; j++) {
                    if (!valid(c, j)) continue;
                    cntv++;
                    if (count) continue;
                    if (iv) {
                        if (__builtin_add_overflow(si, iv[j], &si))
                            st = pl_error_set(err, PL_ERR_INVALID_ARG, "overflow in %s at row %lld", f, (long long)i);
                    } else if (fv) {
                        sf += fv[j];
                    }
                }
                keep[i] = count || cntv > 0;
            }
            if (count) ((int64_t *)(void *)vals->data)[i] = valid(l, i) ? cntv : 0;
            else if (!strcmp(f, "list_avg"))
                ((double *)(void *)vals->data)[i] = cntv ? (iv ? (double)si : sf) / (double)cntv : 0;
            else if (as_int) ((int64_t *)(void *)vals->data)[i] = si;
            else ((double *)(void *)vals->data)[i] = sf;
            if (count && !valid(l, i)) keep[i] = 0;
        }
        if (!st) st = validity_of(keep, n, &validity, err);
        if (!st) {
            st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
            vals = NULL;
        }
        pl_buf_release(vals);
        pl_array_release(cd);
        pl_free(iv);
        pl_free(fv);
    }
    pl_free(keep);
    pl_array_release(l);
    return st;
}

/* ---------------------------------------------------------------- list_concat */

static pl_status bind_list_concat(pl_bexpr *call, pl_error *err) {
    pl_type *t = NULL;
    for (int32_t i = 0; i < 2; i++) {
        pl_type *a = call->args[i]->type;
        if (a->id == PL_TYPE_NA) continue;
        if (a->id != PL_TYPE_LIST) return pl_fn_no_function(call, err);
        pl_type *e = elem_type(a);
        if (!t) t = pl_type_retain(e);
        else if (!pl_type_equals(t, e)) {
            pl_type *s = pl_type_common_super(t, e);
            pl_type_release(t);
            if (!s) return pl_fn_no_function(call, err); /* nested: cast element by element */
            t = s;
        }
    }
    if (!t) t = pl_type_retain(ty(PL_TYPE_INT32));
    pl_status st = list_of(t, &call->type, err);
    pl_type_release(t);
    return st;
}

/* NULL lists count as empty (DuckDB: list_concat([1], NULL) is [1]); the operator l1 || l2
 * (__list_concat_op, bound from concat_op: kernels_string.c) gives NULL for a NULL side. */
static pl_status k_list_concat(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    (void)ec;
    bool strict = strcmp(call->fn->name, "__list_concat_op") == 0;
    pl_type *et = elem_type(call->type);
    pl_array *l[2] = {NULL, NULL}, *ch[2] = {NULL, NULL}, *all = NULL;
    int64_t base[2] = {0, 0};
    pl_status st = PL_OK;
    for (int32_t k = 0; k < 2 && !st; k++) {
        st = arg_array(args, k, n, &l[k], err);
        if (st) break;
        if (l[k]->type->id != PL_TYPE_LIST) {
            st = pl_array_new_nulls(et, 0, &ch[k], err);
        } else if (!pl_type_equals(elem_type(l[k]->type), et)) {
            st = pl_cast_array(l[k]->children[0], et, false, &ch[k], err);
        } else {
            ch[k] = pl_array_retain(l[k]->children[0]);
        }
    }
    if (!st) {
        base[1] = ch[0]->length;
        st = pl_array_concat(2, ch, &all, err);
    }
    int64_t total = 0;
    for (int32_t k = 0; k < 2 && !st; k++)
        if (l[k]->type->id == PL_TYPE_LIST) {
            const int32_t *o = pl_array_offsets(l[k]);
            for (int64_t i = 0; i < n; i++)
                if (valid(l[k], i)) total += o[i + 1] - o[i];
        }
    if (!st && total > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "list_concat: more than 2^31 elements");
    int64_t *idx = st ? NULL : pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    int32_t *no = st ? NULL : pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    uint8_t *keep = st || !strict ? NULL : pl_malloc((size_t)PL_MAX(n, 1));
    if (!st && (!idx || !no || (strict && !keep))) st = NOMEM(err, "list_concat");
    if (!st) {
        int64_t q = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            if (strict) {
                keep[i] = valid(l[0], i) && valid(l[1], i);
                if (!keep[i]) {
                    no[i + 1] = (int32_t)q;
                    continue;
                }
            }
            for (int32_t k = 0; k < 2; k++) {
                if (l[k]->type->id != PL_TYPE_LIST || !valid(l[k], i)) continue;
                const int32_t *o = pl_array_offsets(l[k]);
                for (int32_t j = o[i]; j < o[i + 1]; j++) idx[q++] = base[k] + j;
            }
            no[i + 1] = (int32_t)q;
        }
        st = gather_list(out, call, n, keep, no, all, idx, err);
    }
    pl_free(keep);
    pl_free(idx);
    pl_free(no);
    pl_array_release(all);
    for (int32_t k = 0; k < 2; k++) {
        pl_array_release(l[k]);
        pl_array_release(ch[k]);
    }
    return st;
}

/* ---------------------------------------------------------------- list_slice */

static pl_status bind_list_slice(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    for (int32_t i = 1; i < 3; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (!pl_type_is_integer(id) && id != PL_TYPE_NA) return pl_fn_no_function(call, err);
        PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(PL_TYPE_INT64), err));
    }
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

/* 1-based, both ends included; negative bounds count from the end; begin 0 is 1 (DuckDB). */
static pl_status k_list_slice(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *b = NULL, *e = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = arg_array(args, 1, n, &b, err);
    if (!st) st = arg_array(args, 2, n, &e, err);
    const int32_t *o = st ? NULL : pl_array_offsets(l);
    int64_t total = st ? 0 : o[n] - o[0];
    int64_t *idx = st ? NULL : pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    int32_t *no = st ? NULL : pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && (!idx || !no || !keep)) st = NOMEM(err, "list_slice");
    if (!st) {
        const int64_t *bv = b->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(b) : NULL;
        const int64_t *ev = e->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(e) : NULL;
        int64_t q = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            keep[i] = bv && ev && valid(l, i) && valid(b, i) && valid(e, i);
            if (keep[i]) {
                int64_t len = o[i + 1] - o[i], lo = bv[i], hi = ev[i];
                if (lo < 0) lo = lo < -len ? 1 : len + lo + 1;
                if (lo == 0) lo = 1;
                if (hi < 0) hi = hi < -len ? 0 : len + hi + 1;
                if (hi > len) hi = len;
                for (int64_t p = lo; p <= hi; p++) idx[q++] = o[i] + p - 1;
            }
            no[i + 1] = (int32_t)q;
        }
        st = gather_list(out, call, n, keep, no, l->children[0], idx, err);
    }
    pl_free(idx);
    pl_free(no);
    pl_free(keep);
    pl_array_release(l);
    pl_array_release(b);
    pl_array_release(e);
    return st;
}

/* ---------------------------------------------------------------- array_to_string */

static pl_status bind_list_to_string(pl_bexpr *call, pl_error *err) {
    if (!is_list(call->args[0])) return pl_fn_no_function(call, err);
    if (call->n_args > 1) PL_TRY(pl_bexpr_wrap_cast(&call->args[1], ty(PL_TYPE_UTF8), err));
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

/* The elements as text joined by the separator (list_string_agg: ','), NULL elements skipped;
 * no element left gives NULL, except that array_to_string of an empty list is '' (DuckDB). */
static pl_status k_list_to_string(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                  pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *sep = NULL, *txt = NULL;
    PL_TRY(arg_array(args, 0, n, &l, err));
    pl_status st = call->n_args > 1 ? arg_array(args, 1, n, &sep, err) : PL_OK;
    if (!st) st = pl_cast_array(l->children[0], ty(PL_TYPE_UTF8), false, &txt, err);
    pl_fn_strb sb;
    bool sb_on = false;
    if (!st) {
        st = pl_fn_strb_init(&sb, n, 16 * (txt->length + 1), err);
        sb_on = !st;
    }
    const int32_t *o = st ? NULL : pl_array_offsets(l);
    for (int64_t i = 0; !st && i < n; i++) {
        if (!valid(l, i) || (sep && !valid(sep, i))) {
            st = pl_fn_strb_null(&sb, err);
            continue;
        }
        const uint8_t *sp = (const uint8_t *)",";
        int32_t sl = 1;
        if (sep) sp = pl_array_bytes(sep, i, &sl);
        bool first = true;
        for (int32_t j = o[i]; j < o[i + 1] && !st; j++) {
            if (!valid(txt, j)) continue;
            if (!first) st = pl_fn_strb_append(&sb, sp, sl, err);
            int32_t tl;
            const uint8_t *tp = pl_array_bytes(txt, j, &tl);
            if (!st) st = pl_fn_strb_append(&sb, tp, tl, err);
            first = false;
        }
        if (!st && first && (!sep || o[i + 1] > o[i])) st = pl_fn_strb_null(&sb, err);
        else if (!st) st = pl_fn_strb_next(&sb, err);
    }
    if (!st) {
        st = pl_fn_strb_finish(&sb, ty(PL_TYPE_UTF8), out, err);
        sb_on = false;
    }
    if (sb_on) pl_fn_strb_reset(&sb);
    pl_array_release(l);
    pl_array_release(sep);
    pl_array_release(txt);
    return st;
}

/* ---------------------------------------------------------------- string_split */

static pl_status bind_string_split(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < 2; i++) {
        pl_type *t = call->args[i]->type;
        if (t->id == PL_TYPE_DICTIONARY) t = t->value_type;
        if (t->id != PL_TYPE_UTF8 && t->id != PL_TYPE_NA) return pl_fn_no_function(call, err);
        PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(PL_TYPE_UTF8), err));
    }
    return list_of(ty(PL_TYPE_UTF8), &call->type, err);
}

/* Pieces of row i: calls piece(p, len) for each (NULL callback: counts only). */
static int64_t split_row(const uint8_t *p, int32_t len, const uint8_t *sp, int32_t sl, pl_fn_strb *sb,
                         pl_status *st, pl_error *err) {
    int64_t k = 0;
    if (sl == 0) {
        /* one piece per UTF-8 character; '' gives one empty piece */
        for (int32_t j = 0; j < len && !*st;) {
            int32_t cl = p[j] < 0x80 ? 1 : p[j] < 0xE0 ? 2 : p[j] < 0xF0 ? 3 : 4;
            if (j + cl > len) cl = len - j;
            if (sb) {
                *st = pl_fn_strb_append(sb, p + j, cl, err);
                if (!*st) *st = pl_fn_strb_next(sb, err);
            }
            k++;
            j += cl;
        }
        if (len == 0 && !*st) {
            if (sb) *st = pl_fn_strb_next(sb, err);
            k++;
        }
        return k;
    }
    int32_t start = 0;
    for (int32_t j = 0; j + sl <= len && !*st;) {
        if (memcmp(p + j, sp, (size_t)sl) == 0) {
            if (sb) {
                *st = pl_fn_strb_append(sb, p + start, j - start, err);
                if (!*st) *st = pl_fn_strb_next(sb, err);
            }
            k++;
            j += sl;
            start = j;
        } else {
            j++;
        }
    }
    if (sb && !*st) {
        *st = pl_fn_strb_append(sb, p + start, len - start, err);
        if (!*st) *st = pl_fn_strb_next(sb, err);
    }
    return k + 1;
}

/* string_split(s, sep): the pieces between separators (an empty separator: each character). */
static pl_status k_string_split(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *s = NULL, *sep = NULL, *child = NULL;
    PL_TRY(arg_array(args, 0, n, &s, err));
    pl_status st = arg_array(args, 1, n, &sep, err);
    pl_buf *offs = NULL, *validity = NULL;
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    if (!st && !keep) st = NOMEM(err, "string_split");
    if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
    int32_t *no = st ? NULL : (int32_t *)(void *)offs->data;
    if (!st) {
        /* pass 1: the pieces per row */
        int64_t k = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n && !st; i++) {
            keep[i] = s->type->id == PL_TYPE_UTF8 && sep->type->id == PL_TYPE_UTF8 && valid(s, i) &&
                      valid(sep, i);
            if (keep[i]) {
                int32_t len, sl;
                const uint8_t *p = pl_array_bytes(s, i, &len);
                const uint8_t *sp = pl_array_bytes(sep, i, &sl);
                k += split_row(p, len, sp, sl, NULL, &st, err);
            }
            if (k > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "string_split: more than 2^31 pieces");
            no[i + 1] = (int32_t)k;
        }
    }
    pl_fn_strb sb;
    bool sb_on = false;
    if (!st) {
        int64_t bytes = s->type->id == PL_TYPE_UTF8 ? pl_array_offsets(s)[n] - pl_array_offsets(s)[0] : 0;
        st = pl_fn_strb_init(&sb, no[n], bytes, err);
        sb_on = !st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        if (!keep[i]) continue;
        int32_t len, sl;
        const uint8_t *p = pl_array_bytes(s, i, &len);
        const uint8_t *sp = pl_array_bytes(sep, i, &sl);
        split_row(p, len, sp, sl, &sb, &st, err);
    }
    if (!st) {
        pl_datum d = {0};
        st = pl_fn_strb_finish(&sb, ty(PL_TYPE_UTF8), &d, err);
        sb_on = false;
        if (!st && d.is_scalar) st = pl_error_set(err, PL_ERR_INTERNAL, "string_split: scalar pieces");
        if (!st) child = pl_array_retain(d.array);
        pl_datum_reset(&d);
    }
    if (sb_on) pl_fn_strb_reset(&sb);
    if (!st) st = validity_of(keep, n, &validity, err);
    if (!st) {
        st = finish_list(out, call, n, validity, offs, child, err);
        offs = NULL;
        child = NULL;
    }
    pl_buf_release(offs);
    pl_array_release(child);
    pl_free(keep);
    pl_array_release(s);
    pl_array_release(sep);
    return st;
}

/* ---------------------------------------------------------------- structs */

/* The string constant of argument k, or NULL. */
static const char *lit_str(const pl_bexpr *call, int32_t k) {
    const pl_bexpr *a = call->args[k];
    if (a->kind != PL_BEXPR_LIT || a->lit.is_null || !a->lit.type || a->lit.type->id != PL_TYPE_UTF8)
        return NULL;
    return a->lit.str;
}

/* struct_pack('a', x, 'b', y, ...): the SQL planner passes each field's name as a string
 * constant before its value (from struct_pack(a := x, ...) and {'a': x, ...}). */
static pl_status bind_struct_pack(pl_bexpr *call, pl_error *err) {
    int32_t nf = call->n_args / 2;
    if (nf == 0 || call->n_args % 2) return pl_fn_no_function(call, err);
    pl_field *f = pl_calloc((size_t)nf, sizeof *f);
    if (!f) return NOMEM(err, "struct_pack");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < nf && !st; k++) {
        const char *name = lit_str(call, 2 * k);
        if (!name) {
            st = pl_fn_no_function(call, err);
            break;
        }
        pl_bexpr **v = &call->args[2 * k + 1];
        if ((*v)->type->id == PL_TYPE_NA) st = pl_bexpr_wrap_cast(v, ty(PL_TYPE_INT32), err); /* like ARRAY[NULL] */
        pl_type *t = (*v)->type->id == PL_TYPE_DICTIONARY ? (*v)->type->value_type : (*v)->type;
        if (!st) st = pl_field_init(&f[k], name, t, true, err);
    }
    if (!st) st = pl_type_new_struct(nf, f, &call->type, err);
    for (int32_t k = 0; k < nf; k++) pl_field_reset(&f[k]);
    pl_free(f);
    return st;
}

static pl_status k_struct_pack(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    (void)ec;
    int32_t nf = call->n_args / 2;
    pl_array **ch = pl_calloc((size_t)nf, sizeof *ch);
    if (!ch) return NOMEM(err, "struct_pack");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < nf && !st; k++) st = arg_array(args, 2 * k + 1, n, &ch[k], err);
    pl_array *a = NULL;
    if (!st) {
        st = pl_array_new(pl_type_retain(call->type), n, 0, NULL, NULL, NULL, nf, ch, NULL, &a, err);
        for (int32_t k = 0; k < nf; k++) ch[k] = NULL; /* taken */
    }
    for (int32_t k = 0; k < nf; k++) pl_array_release(ch[k]);
    pl_free(ch);
    if (st) return st;
    pl_datum_set_array(out, a);
    return PL_OK;
}

/* The field struct_extract(s, 'name') names (case-insensitive, DuckDB's rule), or -1. DuckDB
 * takes a position only for unnamed structs, which SQL cannot make here. */
static int32_t struct_field(const pl_bexpr *call) {
    const pl_type *t = call->args[0]->type;
    const char *name = lit_str(call, 1);
    for (int32_t c = 0; name && c < t->n_children; c++)
        if (!strcasecmp(t->children[c].name, name)) return c;
    return -1;
}

static pl_status bind_struct_extract(pl_bexpr *call, pl_error *err) {
    const pl_type *t = call->args[0]->type;
    if (t->id != PL_TYPE_STRUCT) return pl_fn_no_function(call, err);
    int32_t c = struct_field(call);
    if (c < 0) {
        char tn[128];
        const char *name = lit_str(call, 1);
        if (name)
            return pl_error_set(err, PL_ERR_SQL, "struct %s has no field \"%s\"",
                                pl_type_to_string(t, tn, sizeof tn), name);
        return pl_error_set(err, PL_ERR_SQL, "struct_extract: the field must be a constant name");
    }
    call->type = pl_type_retain(t->children[c].type);
    return PL_OK;
}

static pl_status bind_struct_keys(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id == PL_TYPE_NA)
        PL_TRY(pl_bexpr_wrap_cast(&call->args[0], ty(PL_TYPE_UTF8), err)); /* NULL: NULL */
    else if (call->args[0]->type->id != PL_TYPE_STRUCT)
        return pl_error_set(err, PL_ERR_TYPE, "struct_keys() expects a STRUCT argument, found %s",
                            pl_type_to_string(call->args[0]->type, (char[64]){0}, 64));
    return list_of(ty(PL_TYPE_UTF8), &call->type, err);
}

/* struct_keys(s): the field names as a VARCHAR list (from the type); NULL where s is NULL. */
static pl_status k_struct_keys(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    (void)ec;
    const pl_type *t = call->args[0]->type;
    int32_t k = t->id == PL_TYPE_STRUCT ? t->n_children : 0;
    pl_array *s = NULL, *child = NULL;
    PL_TRY(arg_array(args, 0, n, &s, err));
    pl_buf *offs = NULL, *validity = NULL;
    pl_status st = n * k > INT32_MAX ? pl_error_set(err, PL_ERR_LIMIT, "struct_keys: more than 2^31 elements")
                                     : pl_fn_new_values(n + 1, 4, &offs, err);
    pl_fn_strb sb;
    bool sb_on = false;
    if (!st) {
        st = pl_fn_strb_init(&sb, n * k, 8 * n * k + 1, err);
        sb_on = !st;
    }
    int32_t *o = st ? NULL : (int32_t *)(void *)offs->data;
    if (!st) o[0] = 0;
    int64_t q = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (k > 0 && valid(s, i)) {
            for (int32_t c = 0; c < k && !st; c++) {
                st = pl_fn_strb_append(&sb, t->children[c].name, (int64_t)strlen(t->children[c].name), err);
                if (!st) st = pl_fn_strb_next(&sb, err);
                q++;
            }
        }
        o[i + 1] = (int32_t)q;
    }
    if (!st) {
        pl_datum d = {0};
        pl_fn_strb *b = &sb;
        b->n_rows = q; /* the names written */
        st = pl_fn_strb_finish(b, ty(PL_TYPE_UTF8), &d, err);
        sb_on = false;
        if (!st && d.is_scalar) st = pl_error_set(err, PL_ERR_INTERNAL, "struct_keys: scalar names");
        if (!st) child = pl_array_retain(d.array);
        pl_datum_reset(&d);
    }
    if (sb_on) pl_fn_strb_reset(&sb);
    if (!st && k > 0) st = pl_fn_copy_validity(s, &validity, err);
    if (!st && k == 0) st = pl_fn_new_validity(n, &validity, err); /* a NULL argument */
    if (!st) {
        st = finish_list(out, call, n, validity, offs, child, err);
        offs = NULL;
        child = NULL;
    }
    pl_buf_release(offs);
    pl_array_release(child);
    pl_array_release(s);
    return st;
}

/* The field's values; NULL where the struct is NULL. */
static pl_status k_struct_extract(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                  pl_datum *out, pl_error *err) {
    (void)ec;
    int32_t c = struct_field(call);
    if (c < 0) return pl_error_set(err, PL_ERR_INTERNAL, "struct_extract: field not found");
    pl_array *s = NULL, *r = NULL;
    PL_TRY(arg_array(args, 0, n, &s, err));
    int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    pl_status st = idx ? PL_OK : NOMEM(err, "struct_extract");
    if (!st) {
        for (int64_t i = 0; i < n; i++) idx[i] = valid(s, i) ? s->offset + i : -1;
        st = pl_array_take(s->children[c], idx, n, &r, err);
    }
    pl_free(idx);
    pl_array_release(s);
    if (st) return st;
    pl_datum_set_array(out, r);
    return PL_OK;
}

/* ---------------------------------------------------------------- __sortkey */

/* __sortkey(x): the order-preserving BINARY key of a list, struct or map (pl_array_sort_key),
 * which the planner sorts, groups and joins by in place of the nested value. */
static pl_status bind_sortkey(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (id != PL_TYPE_LIST && id != PL_TYPE_STRUCT && id != PL_TYPE_MAP) return pl_fn_no_function(call, err);
    call->type = ty(PL_TYPE_BINARY);
    return PL_OK;
}

static pl_status k_sortkey(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    (void)ec;
    (void)call;
    pl_array *a = NULL, *k = NULL;
    PL_TRY(arg_array(args, 0, n, &a, err));
    pl_status st = pl_array_sort_key(a, &k, err);
    pl_array_release(a);
    if (st) return st;
    pl_datum_set_array(out, k);
    return PL_OK;
}

/* ---------------------------------------------------------------- range, generate_series */

/* range(stop) / range(start, stop[, step]) and generate_series (stop included): DuckDB's
 * list-valued scalar forms over integers (BIGINT[]); NULL when an argument is NULL, [] for a
 * zero step. */
static pl_status bind_list_range(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id == PL_TYPE_DICTIONARY) id = call->args[i]->type->value_type->id;
        if (!pl_type_is_integer(id) && id != PL_TYPE_NA) {
            char tn[64];
            PL_FAIL(err, PL_ERR_UNSUPPORTED,
                    "%s: argument %d is %s; the list-valued form takes integers only (timestamp "
                    "ranges: not supported)", call->fn->name, (int)i + 1,
                    pl_sql_type_name(call->args[i]->type, tn, sizeof tn));
        }
        PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(PL_TYPE_INT64), err));
    }
    return list_of(ty(PL_TYPE_INT64), &call->type, err);
}

/* The number of elements of one range (__int128: no overflow near the int64 limits). */
static __int128 range_count(int64_t a, int64_t b, int64_t s, bool inclusive) {
    __int128 d = s > 0 ? (__int128)b - a : (__int128)a - b, st = s > 0 ? s : -(__int128)s;
    if (s == 0 || d < 0 || (d == 0 && !inclusive)) return 0;
    return inclusive ? d / st + 1 : (d - 1) / st + 1;
}

static pl_status k_list_range(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    (void)ec;
    bool inclusive = strcmp(call->fn->name, "generate_series") == 0;
    int32_t k = call->n_args;
    pl_array *a[3] = {NULL, NULL, NULL};
    pl_status st = PL_OK;
    for (int32_t j = 0; j < k && !st; j++) st = arg_array(args, j, n, &a[j], err);
    uint8_t *keep = st ? NULL : pl_malloc((size_t)(n > 0 ? n : 1));
    pl_buf *offs = NULL, *vals = NULL, *validity = NULL;
    if (!st && !keep) st = NOMEM(err, call->fn->name);
    if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
    int64_t total = 0;
    int32_t *o = st ? NULL : (int32_t *)(void *)offs->data;
    for (int64_t i = 0; i < n && !st; i++) {
        o[i] = (int32_t)total;
        keep[i] = 1;
        for (int32_t j = 0; j < k; j++) keep[i] &= valid(a[j], i);
        if (!keep[i]) continue;
        int64_t x = k == 1 ? 0 : ((const int64_t *)pl_array_values_ptr(a[0]))[i];
        int64_t y = ((const int64_t *)pl_array_values_ptr(a[k == 1 ? 0 : 1]))[i];
        int64_t s = k == 3 ? ((const int64_t *)pl_array_values_ptr(a[2]))[i] : 1;
        __int128 c = range_count(x, y, s, inclusive);
        if (total + c > INT32_MAX)
            st = pl_error_set(err, PL_ERR_LIMIT, "%s: more than 2^31 list elements", call->fn->name);
        else
            total += (int64_t)c;
    }
    if (!st) {
        o[n] = (int32_t)total;
        st = pl_fn_new_values(total, 8, &vals, err);
    }
    if (!st) {
        int64_t *v = (int64_t *)(void *)vals->data;
        for (int64_t i = 0; i < n; i++) {
            if (!keep[i]) continue;
            int64_t x = k == 1 ? 0 : ((const int64_t *)pl_array_values_ptr(a[0]))[i];
            int64_t s = k == 3 ? ((const int64_t *)pl_array_values_ptr(a[2]))[i] : 1;
            for (int32_t e = o[i]; e < o[i + 1]; e++) v[e] = (int64_t)(x + (__int128)s * (e - o[i]));
        }
        st = validity_of(keep, n, &validity, err);
    }
    pl_array *child = NULL;
    if (!st) {
        st = pl_array_new(ty(PL_TYPE_INT64), total, 0, NULL, vals, NULL, 0, NULL, NULL, &child, err);
        vals = NULL;
    }
    if (!st) {
        st = finish_list(out, call, n, validity, offs, child, err);
        offs = NULL;
        validity = NULL;
    }
    pl_buf_release(offs);
    pl_buf_release(vals);
    pl_buf_release(validity);
    pl_free(keep);
    for (int32_t j = 0; j < k; j++) pl_array_release(a[j]);
    return st;
}

/* ---------------------------------------------------------------- list_zip */

/* list_zip(l1, ..., lk[, truncate BOOLEAN]): the lists' elements side by side as structs
 * (element1 .. elementk), as long as the longest list (truncate: the shortest), missing elements
 * NULL; a NULL list counts as empty, so the result is never NULL (DuckDB). */
static int32_t zip_lists(const pl_bexpr *call) {
    int32_t k = call->n_args;
    return k >= 2 && call->args[k - 1]->type->id == PL_TYPE_BOOL ? k - 1 : k;
}

static pl_status bind_list_zip(pl_bexpr *call, pl_error *err) {
    int32_t k = zip_lists(call);
    pl_field *f = pl_calloc((size_t)PL_MAX(k, 1), sizeof *f);
    if (!f) return NOMEM(err, "list_zip");
    pl_status st = PL_OK;
    int32_t made = 0;
    for (; made < k && !st; made++) {
        const pl_type *t = call->args[made]->type;
        if (t->id != PL_TYPE_LIST && t->id != PL_TYPE_NA) {
            char tn[64];
            st = pl_error_set(err, PL_ERR_TYPE, "list_zip: argument %d is %s, not a list",
                              (int)made + 1, pl_sql_type_name(t, tn, sizeof tn));
            break;
        }
        char name[32];
        snprintf(name, sizeof name, "element%d", (int)made + 1);
        st = pl_field_init(&f[made], name, t->id == PL_TYPE_LIST ? elem_type(t) : ty(PL_TYPE_NA),
                           true, err);
        if (st) break;
    }
    pl_type *s = NULL;
    if (!st) st = pl_type_new_struct(k, f, &s, err);
    for (int32_t c = 0; c < made; c++) pl_field_reset(&f[c]);
    pl_free(f);
    if (!st) st = list_of(s, &call->type, err);
    pl_type_release(s);
    return st;
}

static pl_status k_list_zip(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    (void)ec;
    int32_t k = zip_lists(call);
    pl_array **l = pl_calloc((size_t)k + 1, sizeof *l), **fields = pl_calloc((size_t)k, sizeof *fields);
    int32_t *o = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    int64_t *idx = NULL;
    pl_status st = !l || !fields || !o ? NOMEM(err, "list_zip") : PL_OK;
    for (int32_t j = 0; j <= k && !st; j++)
        if (j < k || k < call->n_args) st = arg_array(args, j, n, &l[j], err);
    const pl_array *tr = k < call->n_args && !st ? l[k] : NULL;
    int64_t total = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        bool trunc = tr && valid(tr, i) && pl_bit_get(tr->values->data, tr->offset + i);
        int64_t len = -1;
        for (int32_t j = 0; j < k; j++) {
            const int32_t *lo = l[j]->type->id == PL_TYPE_LIST ? pl_array_offsets(l[j]) : NULL;
            int64_t m = lo && valid(l[j], i) ? lo[i + 1] - lo[i] : 0;
            len = len < 0 ? m : trunc ? PL_MIN(len, m) : PL_MAX(len, m);
        }
        o[i] = (int32_t)total;
        total += len < 0 ? 0 : len;
        if (total > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "list_zip: more than 2^31 elements");
    }
    if (!st) {
        o[n] = (int32_t)total;
        idx = pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
        if (!idx) st = NOMEM(err, "list_zip");
    }
    for (int32_t j = 0; j < k && !st; j++) {
        pl_type *ft = call->type->children[0].type->children[j].type;
        if (l[j]->type->id != PL_TYPE_LIST) {
            st = pl_array_new_nulls(ft, total, &fields[j], err);
            continue;
        }
        const int32_t *lo = pl_array_offsets(l[j]);
        for (int64_t i = 0; i < n; i++) {
            int64_t m = valid(l[j], i) ? lo[i + 1] - lo[i] : 0;
            for (int32_t e = o[i]; e < o[i + 1]; e++) idx[e] = e - o[i] < m ? lo[i] + (e - o[i]) : -1;
        }
        st = pl_array_take(l[j]->children[0], idx, total, &fields[j], err);
    }
    pl_array *s = NULL;
    if (!st) {
        st = pl_array_new(pl_type_retain(call->type->children[0].type), total, 0, NULL, NULL, NULL, k,
                          fields, NULL, &s, err);
        for (int32_t j = 0; j < k; j++) fields[j] = NULL; /* taken */
    }
    if (!st) {
        pl_buf *offs = NULL;
        st = pl_fn_new_values(n + 1, 4, &offs, err);
        if (!st) {
            memcpy(offs->data, o, (size_t)(n + 1) * 4);
            st = finish_list(out, call, n, NULL, offs, s, err);
        } else {
            pl_array_release(s);
        }
    }
    for (int32_t j = 0; l && j <= k; j++) pl_array_release(l[j]);
    for (int32_t j = 0; fields && j < k; j++) pl_array_release(fields[j]);
    pl_free(l);
    pl_free(fields);
    pl_free(o);
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- the set */

#define NN PL_FN_NULL_IN_NULL_OUT

static const pl_func_def k_defs[] = {
    {"list_value", "list_pack", 0, -1, 0, bind_list_value, k_list_value},
    {"list_extract", "list_element array_extract", 2, 2, NN, bind_list_extract, k_list_extract},
    {"list_contains", "list_has array_contains array_has", 2, 2, 0, bind_list_find, k_list_find},
    {"list_position", "list_indexof array_position array_indexof", 2, 2, 0, bind_list_find, k_list_find},
    {"array_length", NULL, 1, 2, NN, bind_list_length, k_list_length},
    {"list_sort", "array_sort", 1, 3, NN, bind_list_sort, k_list_reorder},
    {"list_reverse_sort", "array_reverse_sort", 1, 2, NN, bind_list_sort, k_list_reorder},
    {"list_distinct", "array_distinct", 1, 1, NN, bind_list_same, k_list_reorder},
    {"list_reverse", "array_reverse", 1, 1, NN, bind_list_same, k_list_reorder},
    {"flatten", NULL, 1, 1, NN, bind_flatten, k_flatten},
    {"list_has_any", "array_has_any", 2, 2, NN, bind_list_has, k_list_has},
    {"list_has_all", "array_has_all", 2, 2, NN, bind_list_has, k_list_has},
    {"list_intersect", "array_intersect", 2, 2, 0, bind_list_intersect, k_list_intersect},
    {"list_select", "array_select", 2, 2, NN, bind_list_select, k_list_select},
    {"array_resize", "list_resize", 2, 3, 0, bind_array_resize, k_array_resize},
    {"list_inner_product", "list_dot_product", 2, 2, NN, bind_list_vec, k_list_vec},
    {"list_negative_inner_product", "list_negative_dot_product", 2, 2, NN, bind_list_vec, k_list_vec},
    {"list_distance", NULL, 2, 2, NN, bind_list_vec, k_list_vec},
    {"list_cosine_similarity", NULL, 2, 2, NN, bind_list_vec, k_list_vec},
    {"list_cosine_distance", NULL, 2, 2, NN, bind_list_vec, k_list_vec},
    {"list_sum", "array_sum", 1, 1, NN, bind_list_agg, k_list_agg},
    {"list_min", "array_min", 1, 1, NN, bind_list_agg, k_list_agg},
    {"list_max", "array_max", 1, 1, NN, bind_list_agg, k_list_agg},
    {"list_avg", "array_avg", 1, 1, NN, bind_list_agg, k_list_agg},
    {"list_count", NULL, 1, 1, NN, bind_list_agg, k_list_agg},
    {"list_concat", "list_cat array_concat array_cat", 2, 2, 0, bind_list_concat, k_list_concat},
    {"__list_concat_op", NULL, 2, 2, PL_FN_ELEMENTWISE, bind_list_concat, k_list_concat},
    {"list_slice", "array_slice", 3, 3, NN, bind_list_slice, k_list_slice},
    {"array_to_string", "list_to_string array_join", 2, 2, NN, bind_list_to_string, k_list_to_string},
    {"list_string_agg", "array_string_agg", 1, 1, NN, bind_list_to_string, k_list_to_string},
    {"string_split", "str_split string_to_array split", 2, 2, NN, bind_string_split, k_string_split},
    {"__sortkey", NULL, 1, 1, PL_FN_ELEMENTWISE, bind_sortkey, k_sortkey},
    {"range", NULL, 1, 3, 0, bind_list_range, k_list_range},
    {"generate_series", NULL, 1, 3, 0, bind_list_range, k_list_range},
    {"list_zip", NULL, 1, -1, 0, bind_list_zip, k_list_zip},
    {"struct_pack", NULL, 2, -1, PL_FN_ELEMENTWISE, bind_struct_pack, k_struct_pack},
    {"struct_extract", NULL, 2, 2, PL_FN_ELEMENTWISE, bind_struct_extract, k_struct_extract},
    {"struct_keys", NULL, 1, 1, PL_FN_ELEMENTWISE, bind_struct_keys, k_struct_keys},
};

const pl_func_set pl_funcs_list = {(int32_t)(sizeof k_defs / sizeof k_defs[0]), k_defs};
