/* kernels_json.c - DuckDB's JSON functions over VARCHAR or JSON text (pl_funcs_json): json_valid,
 * json_exists, json_extract / json_extract_path (the `->` operator), json_extract_string /
 * json_extract_path_text (`->>`), json_type, json_array_length. The JSON parsing is io/json's
 * (pl_json_locate / render / kind): values come out as compact JSON with DuckDB's normalised
 * numbers. Invalid JSON is an error naming the row (DuckDB), except in json_valid; a path that
 * is not there gives NULL, as does a JSON null for json_extract_string. json_extract gives the
 * JSON type. Builders (to_json, json_object, json_array, json_group_object's renderer) write
 * values with io/json's pl_json_append_value. Checked against DuckDB in
 * tests/sql/test_json_funcs.py and tests/sql/test_json_type.py. */
#include <stdio.h>
#include <string.h>

#include "expr/funcs_int.h"
#include "io/json/json.h"

typedef enum jop { J_VALID, J_EXISTS, J_EXTRACT, J_STRING, J_TYPE, J_LENGTH } jop;

static bool is_int_id(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }

/* (VARCHAR [, path]) -> res; the path is VARCHAR, or an integer index for extraction. */
static pl_status bind_json(pl_bexpr *call, pl_type_id res, bool int_path, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (i == 1 && int_path && is_int_id(id))
            PL_TRY(pl_bexpr_wrap_cast(&call->args[i], pl_type_simple(PL_TYPE_INT64), err));
        else
            PL_TRY(pl_fn_bind_text_arg(call, i, false, err));
    }
    call->type = pl_type_simple(res);
    return PL_OK;
}
static pl_status bind_valid(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_BOOL, false, err); }
/* A list of paths, or a constant path with a wildcard: the results as a list (DuckDB). */
static bool multi_path(const pl_bexpr *call) {
    if (call->n_args < 2) return false;
    const pl_bexpr *p = call->args[1];
    if (p->type->id == PL_TYPE_LIST) return true;
    return p->kind == PL_BEXPR_LIT && !p->lit.is_null && p->lit.type->id == PL_TYPE_UTF8 &&
           pl_json_path_has_wildcard(p->lit.str, p->lit.str_len);
}

/* list<item> for multi_path calls */
static pl_status bind_multi(pl_bexpr *call, pl_type *item, pl_error *err) {
    pl_bexpr *p = call->args[1];
    if (p->type->id == PL_TYPE_LIST) {
        pl_type_id it = p->type->children[0].type->id;
        if (it == PL_TYPE_NA) {
            pl_type *l;
            PL_TRY(pl_type_new_list("item", pl_type_simple(PL_TYPE_UTF8), true, &l, err));
            pl_status st = pl_bexpr_wrap_cast(&call->args[1], l, err);
            pl_type_release(l);
            PL_TRY(st);
        } else if (it != PL_TYPE_UTF8) {
            return pl_fn_no_function(call, err);
        }
    }
    PL_TRY(pl_fn_bind_text_arg(call, 0, false, err));
    return pl_type_new_list("item", item, true, &call->type, err);
}

static pl_status bind_extract(pl_bexpr *call, pl_error *err) {
    if (multi_path(call)) return bind_multi(call, pl_type_json(), err);
    PL_TRY(bind_json(call, PL_TYPE_UTF8, true, err));
    call->type = pl_type_json(); /* DuckDB: json_extract / -> / json() give JSON */
    return PL_OK;
}
static pl_status bind_extract_string(pl_bexpr *call, pl_error *err) {
    if (multi_path(call)) return bind_multi(call, pl_type_simple(PL_TYPE_UTF8), err);
    return bind_json(call, PL_TYPE_UTF8, true, err);
}
static pl_status bind_type(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_UTF8, false, err); }
static pl_status bind_length(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_UINT64, false, err); }

static const uint8_t *str_at(const pl_array *a, int64_t i, int64_t *len) {
    const int32_t *o = pl_array_offsets(a);
    *len = o[i + 1] - o[i];
    return a->data ? a->data->data + o[i] : (const uint8_t *)"";
}

/* Ends a string-building kernel: the result of call's type, or the failure st (b freed). */
static pl_status strb_done(pl_fn_strb *b, pl_status st, const pl_bexpr *call, pl_datum *out, pl_error *err) {
    if (st) {
        pl_fn_strb_reset(b);
        return st;
    }
    return pl_fn_strb_finish(b, pl_type_retain(call->type), out, err);
}

static pl_status row_error(pl_error *err, const pl_bexpr *call, int64_t row, const char *why) {
    pl_status st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s: %s at row %lld", call->fn->name, why,
                                (long long)row);
    if (err) err->row = row;
    return st;
}

/* Appends the value at `at` to the list builder's child: JSON text, or for unquote a string's
 * contents (a JSON null as NULL). */
static pl_status append_found(pl_builder *child, const uint8_t *d, int64_t len, int64_t at,
                              bool unquote, pl_strbuf *text, pl_error *err) {
    if (unquote && d[at] == 'n') return pl_builder_append_null(child, err);
    text->len = 0;
    PL_TRY(pl_json_render(d, len, at, unquote, text, err));
    return pl_builder_append_bytes(child, text->data, text->len, err);
}

/* json_extract / json_extract_string with a list of paths or a wildcard path: a list per row. */
static pl_status multi_kernel(const pl_bexpr *call, pl_array *const *a, int64_t n, bool unquote,
                              pl_datum *out, pl_error *err) {
    pl_builder *b;
    PL_TRY(pl_builder_new(call->type, n, &b, err));
    pl_builder *child = pl_builder_child(b, 0);
    bool list = a[1]->type->id == PL_TYPE_LIST;
    const int32_t *po = list ? pl_array_offsets(a[1]) : NULL;
    const pl_array *paths = list ? a[1]->children[0] : NULL;
    pl_strbuf text = {0};
    pl_status st = PL_OK;
    char why[320];
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(a[0], i) || !pl_array_is_valid(a[1], i)) {
            st = pl_builder_append_null(b, err);
            continue;
        }
        int64_t len, at;
        const uint8_t *d = str_at(a[0], i, &len);
        if (list) {
            for (int64_t e = po[i]; e < po[i + 1] && !st; e++) {
                if (!pl_array_is_valid(paths, e)) {
                    st = pl_builder_append_null(child, err);
                    continue;
                }
                int64_t plen;
                const char *path = (const char *)str_at(paths, e, &plen);
                int r = pl_json_locate(d, len, path, plen, &at, why, sizeof why);
                if (r < 0) st = row_error(err, call, i, why);
                else if (r == 0) st = pl_builder_append_null(child, err);
                else st = append_found(child, d, len, at, unquote, &text, err);
            }
        } else {
            int64_t plen, *ats = NULL, n_ats = 0;
            const char *path = (const char *)str_at(a[1], i, &plen);
            int r = pl_json_locate_all(d, len, path, plen, &ats, &n_ats, why, sizeof why);
            if (r < 0) st = row_error(err, call, i, why);
            for (int64_t k = 0; k < n_ats && !st; k++)
                st = append_found(child, d, len, ats[k], unquote, &text, err);
            pl_free(ats);
        }
        if (!st) st = pl_builder_append_valid(b, err);
    }
    pl_strbuf_reset(&text);
    pl_array *r = NULL;
    if (!st) st = pl_builder_finish(b, &r, err);
    pl_builder_free(b);
    if (!st) pl_datum_set_array(out, r);
    return st;
}

static pl_status json_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err, jop op, pl_kernel_fn self) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, self, out, err);
    if (call->type->id == PL_TYPE_LIST) {
        pl_array *a[2] = {NULL, NULL};
        pl_status st = PL_OK;
        for (int32_t k = 0; k < 2 && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
        if (!st) st = multi_kernel(call, a, n, op == J_STRING, out, err);
        pl_array_release(a[0]);
        pl_array_release(a[1]);
        return st;
    }
    pl_buf *validity = NULL;
    int64_t null_count = 0;
    bool all_null = false;
    PL_TRY(pl_fn_and_validity(args, call->n_args, n, &validity, &null_count, &all_null, err));
    if (all_null) {
        pl_buf_release(validity);
        return pl_fn_out_nulls(out, call->type, n, err);
    }
    pl_array *a[2] = {NULL, NULL};
    pl_status st = PL_OK;
    for (int32_t k = 0; k < call->n_args && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
    bool str_out = op == J_EXTRACT || op == J_STRING || op == J_TYPE;
    pl_fn_strb b;
    pl_buf *values = NULL;
    pl_strbuf text = {0};
    memset(&b, 0, sizeof b);
    if (!st && str_out) st = pl_fn_strb_init(&b, n, n * 8, err);
    if (!st && !str_out) st = pl_fn_new_values(n, op == J_VALID || op == J_EXISTS ? 1 : 8, &values, err);
    if (!st && (op == J_VALID || op == J_EXISTS)) memset(values->data, 0, (size_t)values->size);
    if (!st && op == J_LENGTH && !validity) { /* rows whose path is not there become NULL */
        st = pl_fn_new_validity(n, &validity, err);
        if (!st) memset(validity->data, 0xff, (size_t)validity->size);
    }
    bool int_path = a[1] && a[1]->type->id == PL_TYPE_INT64;
    for (int64_t i = 0; i < n && !st; i++) {
        bool valid = !validity || pl_bit_get(validity->data, i);
        if (!valid) {
            if (str_out) st = pl_fn_strb_null(&b, err);
            continue;
        }
        int64_t len, plen = 1, at = 0;
        const uint8_t *d = str_at(a[0], i, &len);
        const char *path = "$"; /* json(x): the whole value, compacted */
        if (a[1] && !int_path) path = (const char *)str_at(a[1], i, &plen);
        char why[320];
        int r = int_path ? pl_json_locate_index(d, len, ((const int64_t *)pl_array_values_ptr(a[1]))[i],
                                                &at, why, sizeof why)
                         : pl_json_locate(d, len, path, plen, &at, why, sizeof why);
        if (op == J_VALID) {
            if (r == 1) pl_bit_set(values->data, i);
            continue;
        }
        if (r < 0) {
            st = row_error(err, call, i, why);
            break;
        }
        if (op == J_EXISTS) {
            if (r == 1) pl_bit_set(values->data, i);
            continue;
        }
        if (op == J_STRING && r == 1 && d[at] == 'n') r = 0; /* JSON null -> NULL */
        if (r == 0) {
            if (str_out) st = pl_fn_strb_null(&b, err);
            else pl_bit_clear(validity->data, i);
            continue;
        }
        if (op == J_EXTRACT || op == J_STRING) {
            text.len = 0;
            st = pl_json_render(d, len, at, op == J_STRING, &text, err);
            if (!st && text.len > 0) st = pl_fn_strb_append(&b, text.data, text.len, err);
            if (!st) st = pl_fn_strb_next(&b, err);
        } else {
            int64_t elems;
            const char *kind = pl_json_kind(d, len, at, &elems);
            if (!kind) kind = "NULL"; /* not reached: the text was validated */
            if (op == J_TYPE) {
                st = pl_fn_strb_append(&b, kind, (int64_t)strlen(kind), err);
                if (!st) st = pl_fn_strb_next(&b, err);
            } else {
                ((uint64_t *)values->data)[i] = elems < 0 ? 0 : (uint64_t)elems;
            }
        }
    }
    pl_strbuf_reset(&text);
    pl_array_release(a[0]);
    pl_array_release(a[1]);
    if (st) {
        if (str_out) pl_fn_strb_reset(&b);
        pl_buf_release(values);
        pl_buf_release(validity);
        return st;
    }
    if (str_out) {
        pl_buf_release(validity);
        return pl_fn_strb_finish(&b, pl_type_retain(call->type), out, err);
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

#define JSON_K(NAME, OP)                                                                           \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,          \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return json_kernel(ec, call, args, n, out, err, OP, k_##NAME);                              \
    }
JSON_K(json_valid, J_VALID)
JSON_K(json_exists, J_EXISTS)
JSON_K(json_extract, J_EXTRACT)
JSON_K(json_extract_string, J_STRING)
JSON_K(json_type, J_TYPE)
JSON_K(json_array_length, J_LENGTH)

/* ---------------------------------------------------------------- json_keys */

static pl_status bind_keys(pl_bexpr *call, pl_error *err) {
    if (call->n_args == 2 && call->args[1]->type->id == PL_TYPE_LIST)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "json_keys with a list of paths is not supported");
    PL_TRY(bind_json(call, PL_TYPE_UTF8, false, err));
    return pl_type_new_list("item", pl_type_simple(PL_TYPE_UTF8), true, &call->type, err);
}

typedef struct keys_ctx {
    pl_builder *child;
    pl_status st;
    pl_error *err;
} keys_ctx;

static bool push_key(void *ctx, const char *key, int64_t key_len, int64_t value_at) {
    (void)value_at;
    keys_ctx *k = ctx;
    k->st = pl_builder_append_bytes(k->child, key, key_len, k->err);
    return k->st == PL_OK;
}

/* json_keys(j [, path]): the keys of the object there in order (duplicates kept), [] for other
 * values, NULL when the path is not there (DuckDB). */
static pl_status k_json_keys(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, k_json_keys, out, err);
    pl_array *a[2] = {NULL, NULL};
    pl_status st = PL_OK;
    for (int32_t k = 0; k < call->n_args && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
    pl_builder *b = NULL;
    if (!st) st = pl_builder_new(call->type, n, &b, err);
    keys_ctx kc = {b ? pl_builder_child(b, 0) : NULL, PL_OK, err};
    char why[320];
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(a[0], i) || (a[1] && !pl_array_is_valid(a[1], i))) {
            st = pl_builder_append_null(b, err);
            continue;
        }
        int64_t len, plen = 1, at = 0;
        const uint8_t *d = str_at(a[0], i, &len);
        const char *path = a[1] ? (const char *)str_at(a[1], i, &plen) : "$";
        int r = pl_json_locate(d, len, path, plen, &at, why, sizeof why);
        if (r < 0) {
            st = row_error(err, call, i, why);
        } else if (r == 0) {
            st = pl_builder_append_null(b, err);
        } else {
            if (d[at] == '{' && pl_json_each(d, len, at, push_key, &kc) < -1)
                st = kc.st ? kc.st : pl_error_set(err, PL_ERR_INTERNAL, "json_keys: unreadable object");
            if (!st) st = pl_builder_append_valid(b, err);
        }
    }
    pl_array *r = NULL;
    if (!st) st = pl_builder_finish(b, &r, err);
    pl_builder_free(b);
    pl_array_release(a[0]);
    pl_array_release(a[1]);
    if (!st) pl_datum_set_array(out, r);
    return st;
}

/* ---------------------------------------------------------------- members, merge, contains */

/* The members of an object (keys copied) or the elements of an array (no keys) of a validated
 * text. */
typedef struct members {
    pl_strbuf keys;
    int64_t *key_off, *key_len, *val;
    int64_t n, cap;
    pl_status st;
    pl_error *err;
} members;

static void members_reset(members *m) {
    pl_strbuf_reset(&m->keys);
    pl_free(m->key_off);
    pl_free(m->key_len);
    pl_free(m->val);
    memset(m, 0, sizeof *m);
}

static bool push_member(void *ctx, const char *key, int64_t key_len, int64_t value_at) {
    members *m = ctx;
    if (m->n == m->cap) {
        int64_t cap = m->cap ? m->cap * 2 : 8;
        int64_t *ko = pl_realloc(m->key_off, (size_t)cap * sizeof *ko);
        if (ko) m->key_off = ko;
        int64_t *kl = ko ? pl_realloc(m->key_len, (size_t)cap * sizeof *kl) : NULL;
        if (kl) m->key_len = kl;
        int64_t *v = kl ? pl_realloc(m->val, (size_t)cap * sizeof *v) : NULL;
        if (!v) {
            m->st = pl_error_set(m->err, PL_ERR_NOMEM, "out of memory reading JSON");
            return false;
        }
        m->val = v;
        m->cap = cap;
    }
    m->key_off[m->n] = m->keys.len;
    m->key_len[m->n] = key ? key_len : 0;
    m->val[m->n] = value_at;
    if (key && key_len > 0 && (m->st = pl_strbuf_append(&m->keys, key, key_len, m->err))) return false;
    m->n++;
    return true;
}

/* Collects the members at `at` (an object or array); err on failure. */
static pl_status collect(const uint8_t *d, int64_t n, int64_t at, members *m, pl_error *err) {
    memset(m, 0, sizeof *m);
    m->err = err;
    int64_t r = pl_json_each(d, n, at, push_member, m);
    if (r == -3) return m->st;
    if (r < -1) PL_FAIL(err, PL_ERR_INTERNAL, "unreadable JSON value");
    return PL_OK;
}

/* The first member named key[0..kl), or -1. */
static int64_t member_at(const members *m, const char *key, int64_t kl) {
    for (int64_t i = 0; i < m->n; i++)
        if (m->key_len[i] == kl && (kl == 0 || !memcmp(m->keys.data + m->key_off[i], key, (size_t)kl)))
            return i;
    return -1;
}

static pl_status put_key(pl_strbuf *out, const members *m, int64_t i, pl_error *err) {
    PL_TRY(pl_json_append_string(out, m->keys.data ? m->keys.data + m->key_off[i] : "", m->key_len[i], err));
    return pl_strbuf_append(out, ":", 1, err);
}

/* RFC 7386 MergePatch(target, patch) as yyjson (DuckDB) orders it: the target's members that
 * the patch does not name, then the patch's non-null members in its order, merged into the
 * target's value of that name. tat < 0: no target. */
static pl_status merge_rec(const uint8_t *td, int64_t tn, int64_t tat, const uint8_t *pd, int64_t pn,
                           int64_t pat, pl_strbuf *out, pl_error *err) {
    if (pd[pat] != '{') return pl_json_render(pd, pn, pat, false, out, err);
    members tm, pm;
    memset(&tm, 0, sizeof tm);
    pl_status st = collect(pd, pn, pat, &pm, err);
    if (!st && tat >= 0 && td[tat] == '{') st = collect(td, tn, tat, &tm, err);
    if (!st) st = pl_strbuf_append(out, "{", 1, err);
    bool first = true;
    for (int64_t i = 0; i < tm.n && !st; i++) {
        if (member_at(&pm, tm.keys.data + tm.key_off[i], tm.key_len[i]) >= 0) continue;
        if (!first) st = pl_strbuf_append(out, ",", 1, err);
        first = false;
        if (!st) st = put_key(out, &tm, i, err);
        if (!st) st = pl_json_render(td, tn, tm.val[i], false, out, err);
    }
    for (int64_t i = 0; i < pm.n && !st; i++) {
        if (pd[pm.val[i]] == 'n') continue;
        if (!first) st = pl_strbuf_append(out, ",", 1, err);
        first = false;
        int64_t t = member_at(&tm, pm.keys.data + pm.key_off[i], pm.key_len[i]);
        if (!st) st = put_key(out, &pm, i, err);
        if (!st) st = merge_rec(td, tn, t >= 0 ? tm.val[t] : -1, pd, pn, pm.val[i], out, err);
    }
    if (!st) st = pl_strbuf_append(out, "}", 1, err);
    members_reset(&tm);
    members_reset(&pm);
    return st;
}

static pl_status bind_merge_patch(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) PL_TRY(pl_fn_bind_text_arg(call, i, false, err));
    call->type = pl_type_json();
    return PL_OK;
}

/* Validates row i of a (the whole text); *at its value. */
static pl_status locate_root(const pl_bexpr *call, const pl_array *a, int64_t i, const uint8_t **d,
                             int64_t *len, int64_t *at, pl_error *err) {
    char why[320];
    *d = str_at(a, i, len);
    if (pl_json_locate(*d, *len, "$", 1, at, why, sizeof why) != 1) return row_error(err, call, i, why);
    return PL_OK;
}

/* json_merge_patch(target, patch, ...): the patches applied in turn; a NULL patch gives NULL, a
 * NULL target or one that is no object gives the patch as it is (nulls kept, DuckDB). */
static pl_status k_merge_patch(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, k_merge_patch, out, err);
    pl_array **a = pl_calloc((size_t)call->n_args, sizeof *a);
    if (!a) PL_FAIL(err, PL_ERR_NOMEM, "out of memory merging JSON");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < call->n_args && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_strbuf cur = {0}, next = {0};
    if (!st) st = pl_fn_strb_init(&b, n, n * 16, err);
    for (int64_t i = 0; i < n && !st; i++) {
        bool null = false;
        for (int32_t k = 1; k < call->n_args; k++) null = null || !pl_array_is_valid(a[k], i);
        if (null) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        bool have = pl_array_is_valid(a[0], i);
        cur.len = 0;
        if (have) {
            const uint8_t *d;
            int64_t len, at;
            st = locate_root(call, a[0], i, &d, &len, &at, err);
            if (!st) st = pl_json_render(d, len, at, false, &cur, err);
        }
        for (int32_t k = 1; k < call->n_args && !st; k++) {
            const uint8_t *d;
            int64_t len, at;
            st = locate_root(call, a[k], i, &d, &len, &at, err);
            next.len = 0;
            /* the first document, or a target that is no object: the patch as it is (DuckDB) */
            if (!st && (!have || cur.data[0] != '{')) st = pl_json_render(d, len, at, false, &next, err);
            else if (!st) st = merge_rec((const uint8_t *)cur.data, cur.len, 0, d, len, at, &next, err);
            pl_strbuf swap = cur;
            cur = next;
            next = swap;
            have = true;
        }
        if (!st) st = pl_fn_strb_append(&b, cur.data, cur.len, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    pl_strbuf_reset(&cur);
    pl_strbuf_reset(&next);
    for (int32_t k = 0; k < call->n_args; k++) pl_array_release(a[k]);
    pl_free(a);
    return strb_done(&b, st, call, out, err);
}

/* Scalars are equal when their compact texts are (numbers normalised: 1 and 1.0 differ, as
 * integers and reals do in DuckDB; strings decoded and escaped alike). */
static pl_status scalar_eq(const uint8_t *hd, int64_t hn, int64_t hat, const uint8_t *nd, int64_t nn,
                           int64_t nat, bool *eq, pl_error *err) {
    pl_strbuf x = {0}, y = {0};
    pl_status st = pl_json_render(hd, hn, hat, false, &x, err);
    if (!st) st = pl_json_render(nd, nn, nat, false, &y, err);
    *eq = !st && x.len == y.len && (x.len == 0 || !memcmp(x.data, y.data, (size_t)x.len));
    pl_strbuf_reset(&x);
    pl_strbuf_reset(&y);
    return st;
}

/* The needle matches the haystack value: equal scalars; an object whose every member matches
 * the haystack object's member of that name; an array whose every element matches some
 * element of the haystack array. */
static pl_status fuzzy_eq(const uint8_t *hd, int64_t hn, int64_t hat, const uint8_t *nd, int64_t nn,
                          int64_t nat, bool *eq, pl_error *err) {
    uint8_t hk = hd[hat], nk = nd[nat];
    *eq = false;
    if (nk != '{' && nk != '[') {
        if (hk == '{' || hk == '[') return PL_OK;
        return scalar_eq(hd, hn, hat, nd, nn, nat, eq, err);
    }
    if (hk != nk) return PL_OK;
    members hm, nm;
    memset(&hm, 0, sizeof hm);
    pl_status st = collect(nd, nn, nat, &nm, err);
    if (!st) st = collect(hd, hn, hat, &hm, err);
    bool all = true;
    for (int64_t i = 0; i < nm.n && all && !st; i++) {
        bool found = false;
        if (nk == '{') {
            int64_t h = member_at(&hm, nm.keys.data + nm.key_off[i], nm.key_len[i]);
            if (h >= 0) st = fuzzy_eq(hd, hn, hm.val[h], nd, nn, nm.val[i], &found, err);
        } else {
            for (int64_t h = 0; h < hm.n && !found && !st; h++)
                st = fuzzy_eq(hd, hn, hm.val[h], nd, nn, nm.val[i], &found, err);
        }
        all = found;
    }
    members_reset(&hm);
    members_reset(&nm);
    *eq = all && !st;
    return st;
}

/* json_contains(haystack, needle): the needle matches the haystack or any value nested in it. */
static pl_status contains_rec(const uint8_t *hd, int64_t hn, int64_t hat, const uint8_t *nd, int64_t nn,
                              int64_t nat, bool *found, pl_error *err) {
    PL_TRY(fuzzy_eq(hd, hn, hat, nd, nn, nat, found, err));
    if (*found || (hd[hat] != '{' && hd[hat] != '[')) return PL_OK;
    members hm;
    pl_status st = collect(hd, hn, hat, &hm, err);
    for (int64_t h = 0; h < hm.n && !*found && !st; h++)
        st = contains_rec(hd, hn, hm.val[h], nd, nn, nat, found, err);
    members_reset(&hm);
    return st;
}

static pl_status bind_contains(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_BOOL, false, err); }

static pl_status k_contains(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_contains, out, err);
    pl_buf *validity = NULL, *values = NULL;
    int64_t null_count = 0;
    bool all_null = false;
    PL_TRY(pl_fn_and_validity(args, 2, n, &validity, &null_count, &all_null, err));
    if (all_null) {
        pl_buf_release(validity);
        return pl_fn_out_nulls(out, call->type, n, err);
    }
    pl_array *a[2] = {NULL, NULL};
    pl_status st = PL_OK;
    for (int32_t k = 0; k < 2 && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
    if (!st) st = pl_fn_new_values(n, 1, &values, err);
    if (!st) memset(values->data, 0, (size_t)values->size);
    for (int64_t i = 0; i < n && !st; i++) {
        if (validity && !pl_bit_get(validity->data, i)) continue;
        const uint8_t *hd, *nd;
        int64_t hn, hat, nn, nat;
        bool found = false;
        st = locate_root(call, a[0], i, &hd, &hn, &hat, err);
        if (!st) st = locate_root(call, a[1], i, &nd, &nn, &nat, err);
        if (!st) st = contains_rec(hd, hn, hat, nd, nn, nat, &found, err);
        if (!st && found) pl_bit_set(values->data, i);
    }
    pl_array_release(a[0]);
    pl_array_release(a[1]);
    if (st) {
        pl_buf_release(values);
        pl_buf_release(validity);
        return st;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- json_structure */

/* A structure tree (DuckDB's json_structure): leaves are type names; objects have their keys
 * in first-seen order (duplicates merged), arrays one merged element; merging NULL with X is X,
 * UBIGINT with BIGINT HUGEINT, integers with DOUBLE DOUBLE, objects key by key, arrays by
 * element, and anything else JSON. */
typedef enum skind { SK_NULL, SK_BOOL, SK_UBIG, SK_BIG, SK_HUGE, SK_DBL, SK_STR, SK_JSON, SK_OBJ, SK_ARR } skind;

typedef struct snode {
    skind kind;
    int64_t first, next; /* children (OBJ members, ARR element), siblings: node indices, -1 */
    int64_t key_off, key_len;
} snode;

typedef struct stree {
    snode *v;
    int64_t n, cap;
    pl_strbuf keys;
    pl_error *err;
} stree;

static int64_t snew(stree *t, skind kind, pl_status *st) {
    if (t->n == t->cap) {
        int64_t cap = t->cap ? t->cap * 2 : 16;
        snode *v = pl_realloc(t->v, (size_t)cap * sizeof *v);
        if (!v) {
            *st = pl_error_set(t->err, PL_ERR_NOMEM, "out of memory in json_structure");
            return -1;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n] = (snode){kind, -1, -1, 0, 0};
    return t->n++;
}

static bool is_int_kind(skind k) { return k == SK_UBIG || k == SK_BIG || k == SK_HUGE; }

/* Merges the structure of the value at `at` into node `into` (-1: a new node, *out). */
static pl_status smerge(stree *t, int64_t into, const uint8_t *d, int64_t n, int64_t at, int64_t *out);

typedef struct smember_ctx {
    stree *t;
    int64_t node;
    const uint8_t *d;
    int64_t n;
    pl_status st;
} smember_ctx;

static bool smember(void *ctx, const char *key, int64_t key_len, int64_t value_at) {
    smember_ctx *c = ctx;
    stree *t = c->t;
    int64_t child = -1, last = -1;
    if (key) {
        for (int64_t k = t->v[c->node].first; k >= 0; last = k, k = t->v[k].next)
            if (t->v[k].key_len == key_len && !memcmp(t->keys.data + t->v[k].key_off, key, (size_t)key_len)) {
                child = k;
                break;
            }
    } else {
        child = t->v[c->node].first;
    }
    if (child >= 0) {
        c->st = smerge(t, child, c->d, c->n, value_at, &child);
        return c->st == PL_OK;
    }
    int64_t off = t->keys.len;
    if (key && key_len && (c->st = pl_strbuf_append(&t->keys, key, key_len, t->err))) return false;
    if ((c->st = smerge(t, -1, c->d, c->n, value_at, &child))) return false;
    t->v[child].key_off = off;
    t->v[child].key_len = key ? key_len : 0;
    if (last >= 0) t->v[last].next = child;
    else t->v[c->node].first = child;
    return true;
}

static pl_status smerge(stree *t, int64_t into, const uint8_t *d, int64_t n, int64_t at, int64_t *out) {
    pl_status st = PL_OK;
    skind k;
    int64_t elems;
    switch (d[at]) {
    case 'n': k = SK_NULL; break;
    case 't': case 'f': k = SK_BOOL; break;
    case '"': k = SK_STR; break;
    case '{': k = SK_OBJ; break;
    case '[': k = SK_ARR; break;
    default: {
        const char *nm = pl_json_kind(d, n, at, &elems);
        k = nm && !strcmp(nm, "UBIGINT") ? SK_UBIG : nm && !strcmp(nm, "BIGINT") ? SK_BIG : SK_DBL;
    }
    }
    if (into < 0) {
        into = snew(t, k, &st);
        if (into < 0) return st;
    } else {
        skind cur = t->v[into].kind;
        if (cur == SK_NULL) t->v[into].kind = k;
        else if (k == SK_NULL || cur == k || cur == SK_JSON) { /* kept */
        } else if (is_int_kind(cur) && is_int_kind(k)) t->v[into].kind = SK_HUGE;
        else if ((is_int_kind(cur) || cur == SK_DBL) && (is_int_kind(k) || k == SK_DBL)) t->v[into].kind = SK_DBL;
        else {
            t->v[into].kind = SK_JSON;
            t->v[into].first = -1;
        }
    }
    *out = into;
    skind now = t->v[into].kind;
    if ((k == SK_OBJ || k == SK_ARR) && now == k) {
        smember_ctx c = {t, into, d, n, PL_OK};
        if (pl_json_each(d, n, at, smember, &c) < -1)
            return c.st ? c.st : pl_error_set(t->err, PL_ERR_INTERNAL, "unreadable JSON value");
        if (k == SK_ARR && t->v[into].first < 0) { /* [] -> ["NULL"] */
            int64_t e = snew(t, SK_NULL, &st);
            if (e < 0) return st;
            t->v[into].first = e;
        }
    }
    return PL_OK;
}

static pl_status srender(const stree *t, int64_t i, pl_strbuf *out, pl_error *err) {
    static const char *const names[] = {"NULL", "BOOLEAN", "UBIGINT", "BIGINT", "HUGEINT", "DOUBLE", "VARCHAR", "JSON"};
    const snode *s = &t->v[i];
    if (s->kind == SK_ARR) {
        PL_TRY(pl_strbuf_append(out, "[", 1, err));
        PL_TRY(srender(t, s->first, out, err));
        return pl_strbuf_append(out, "]", 1, err);
    }
    if (s->kind == SK_OBJ && s->first >= 0) {
        PL_TRY(pl_strbuf_append(out, "{", 1, err));
        for (int64_t k = s->first; k >= 0; k = t->v[k].next) {
            if (k != s->first) PL_TRY(pl_strbuf_append(out, ",", 1, err));
            PL_TRY(pl_json_append_string(out, t->keys.data ? t->keys.data + t->v[k].key_off : "", t->v[k].key_len, err));
            PL_TRY(pl_strbuf_append(out, ":", 1, err));
            PL_TRY(srender(t, k, out, err));
        }
        return pl_strbuf_append(out, "}", 1, err);
    }
    const char *nm = s->kind == SK_OBJ ? "JSON" : names[s->kind]; /* {} -> "JSON" */
    return pl_json_append_string(out, nm, (int64_t)strlen(nm), err);
}

static pl_status bind_structure(pl_bexpr *call, pl_error *err) {
    PL_TRY(pl_fn_bind_text_arg(call, 0, false, err));
    call->type = pl_type_json();
    return PL_OK;
}

static pl_status k_structure(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_structure, out, err);
    pl_array *a = NULL;
    PL_TRY(pl_fn_datum_array(&args[0], n, &a, err));
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_strbuf text = {0};
    stree t = {NULL, 0, 0, {0}, err};
    pl_status st = pl_fn_strb_init(&b, n, n * 16, err);
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(a, i)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        const uint8_t *d;
        int64_t len, at, root = -1;
        t.n = 0;
        t.keys.len = 0;
        text.len = 0;
        st = locate_root(call, a, i, &d, &len, &at, err);
        if (!st) st = smerge(&t, -1, d, len, at, &root);
        if (!st) st = srender(&t, root, &text, err);
        if (!st) st = pl_fn_strb_append(&b, text.data, text.len, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    pl_free(t.v);
    pl_strbuf_reset(&t.keys);
    pl_strbuf_reset(&text);
    pl_array_release(a);
    return strb_done(&b, st, call, out, err);
}

/* ---------------------------------------------------------------- json_transform */

/* The type a json_transform structure describes: an object is a STRUCT of its members, an array
 * of one element a LIST of it, a string a type name ("INTEGER", "VARCHAR[]", "JSON"). */
static pl_status structure_type(const uint8_t *d, int64_t n, int64_t at, pl_type **out, pl_error *err) {
    if (d[at] == '"') {
        pl_strbuf name = {0};
        pl_status st = pl_json_render(d, n, at, true, &name, err);
        if (!st) st = pl_type_from_sql_name(name.data ? name.data : "", out, err);
        pl_strbuf_reset(&name);
        return st;
    }
    if (d[at] != '{' && d[at] != '[')
        PL_FAIL(err, PL_ERR_SQL, "json_transform: the structure holds type names (strings), objects and "
                "arrays, not %.*s", (int)PL_MIN(n - at, 40), (const char *)d + at);
    members m;
    PL_TRY(collect(d, n, at, &m, err));
    pl_status st = PL_OK;
    if (d[at] == '[') {
        pl_type *item = NULL;
        if (m.n != 1)
            st = pl_error_set(err, PL_ERR_SQL, "json_transform: an array in the structure holds one element "
                              "type, not %lld", (long long)m.n);
        if (!st) st = structure_type(d, n, m.val[0], &item, err);
        if (!st) st = pl_type_new_list("item", item, true, out, err);
        pl_type_release(item);
        members_reset(&m);
        return st;
    }
    if (m.n == 0) st = pl_error_set(err, PL_ERR_SQL, "json_transform: an empty object in the structure");
    pl_field *f = st ? NULL : pl_calloc((size_t)m.n, sizeof *f);
    if (!st && !f) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory binding json_transform");
    for (int64_t i = 0; i < m.n && !st; i++) {
        for (int64_t j = 0; j < i && !st; j++)
            if (m.key_len[i] == m.key_len[j] && !memcmp(m.keys.data + m.key_off[i], m.keys.data + m.key_off[j],
                                                         (size_t)m.key_len[i]))
                st = pl_error_set(err, PL_ERR_SQL, "json_transform: key \"%.*s\" twice in the structure",
                                  (int)m.key_len[i], m.keys.data + m.key_off[i]);
        if (!st) st = structure_type(d, n, m.val[i], &f[i].type, err);
        f[i].nullable = true;
    }
    for (int64_t i = 0; i < m.n && !st; i++) {
        f[i].name = pl_malloc((size_t)m.key_len[i] + 1);
        if (!f[i].name) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory binding json_transform");
        else {
            if (m.key_len[i]) memcpy(f[i].name, m.keys.data + m.key_off[i], (size_t)m.key_len[i]);
            f[i].name[m.key_len[i]] = 0;
        }
    }
    if (!st) st = pl_type_new_struct((int32_t)m.n, f, out, err);
    for (int64_t i = 0; f && i < m.n; i++) {
        pl_free(f[i].name);
        pl_type_release(f[i].type);
    }
    pl_free(f);
    members_reset(&m);
    return st;
}

static pl_status bind_transform(pl_bexpr *call, pl_error *err) {
    PL_TRY(pl_fn_bind_text_arg(call, 0, false, err));
    const pl_bexpr *s = call->args[1];
    if (s->kind != PL_BEXPR_LIT || s->lit.is_null || s->lit.type->id != PL_TYPE_UTF8)
        PL_FAIL(err, PL_ERR_SQL, "the structure argument of %s must be a constant string", call->fn->name);
    const uint8_t *d = (const uint8_t *)s->lit.str;
    int64_t at;
    char why[320];
    if (pl_json_locate(d, s->lit.str_len, "$", 1, &at, why, sizeof why) != 1)
        PL_FAIL(err, PL_ERR_SQL, "%s: the structure is not JSON: %s", call->fn->name, why);
    return structure_type(d, s->lit.str_len, at, &call->type, err);
}

/* json_transform / from_json (lenient: a value that does not fit is NULL) and the _strict forms
 * (errors): the text validated as JSON, then cast by cast.c's JSON rules. */
static pl_status transform_kernel(const pl_bexpr *call, const pl_datum *args, int64_t n, bool strict,
                                  pl_datum *out, pl_error *err) {
    pl_array *a = NULL, *j = NULL, *r = NULL;
    PL_TRY(pl_fn_datum_array(&args[0], n, &a, err));
    pl_status st = pl_type_is_json(a->type) ? (j = pl_array_retain(a), PL_OK)
                                             : pl_cast_array(a, pl_type_json(), false, &j, err);
    if (!st) st = pl_cast_array(j, call->type, !strict, &r, err);
    pl_array_release(a);
    pl_array_release(j);
    if (!st) pl_datum_set_array(out, r);
    return st;
}

static pl_status k_transform(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err) {
    (void)ec;
    return transform_kernel(call, args, n, false, out, err);
}

static pl_status k_transform_strict(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                    int64_t n, pl_datum *out, pl_error *err) {
    (void)ec;
    return transform_kernel(call, args, n, true, out, err);
}

/* ---------------------------------------------------------------- building JSON */

typedef enum jbuild { JB_VALUE, JB_OBJECT, JB_ARRAY } jbuild;

static pl_status bind_to_json(pl_bexpr *call, pl_error *err) {
    (void)err;
    call->type = pl_type_json();
    return PL_OK;
}

static pl_status bind_array_to_json(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id != PL_TYPE_LIST && call->args[0]->type->id != PL_TYPE_NA)
        PL_FAIL(err, PL_ERR_TYPE, "array_to_json() argument type must be LIST");
    return bind_to_json(call, err);
}

static pl_status bind_row_to_json(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id != PL_TYPE_STRUCT && call->args[0]->type->id != PL_TYPE_NA)
        PL_FAIL(err, PL_ERR_TYPE, "row_to_json() argument type must be STRUCT");
    return bind_to_json(call, err);
}

static pl_status bind_array(pl_bexpr *call, pl_error *err) { return bind_to_json(call, err); }

static pl_status bind_object(pl_bexpr *call, pl_error *err) {
    if (call->n_args % 2)
        PL_FAIL(err, PL_ERR_TYPE, "json_object() requires an even number of arguments");
    for (int32_t k = 0; k < call->n_args; k += 2)
        if (call->args[k]->type->id != PL_TYPE_UTF8)
            PL_FAIL(err, PL_ERR_TYPE, "json_object() keys must be VARCHAR, add an explicit cast to "
                    "argument %d", k + 1);
    return bind_to_json(call, err);
}

/* to_json / json_quote / array_to_json / row_to_json (JB_VALUE: NULL in, NULL out),
 * json_object(k, v, ...) and json_array(v, ...) (NULL values are JSON nulls). */
static pl_status build_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err, jbuild op, pl_kernel_fn self) {
    if (call->n_args > 0 && pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, self, out, err);
    pl_array **a = pl_calloc((size_t)(call->n_args > 0 ? call->n_args : 1), sizeof *a);
    if (!a) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building JSON");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < call->n_args && !st; k++) st = pl_fn_datum_array(&args[k], n, &a[k], err);
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_strbuf text = {0};
    if (!st) st = pl_fn_strb_init(&b, n, n * 16, err);
    for (int64_t i = 0; i < n && !st; i++) {
        text.len = 0;
        if (op == JB_VALUE) {
            if (!pl_array_is_valid(a[0], i)) {
                st = pl_fn_strb_null(&b, err);
                continue;
            }
            st = pl_json_append_value(a[0], i, &text, err);
        } else {
            st = pl_strbuf_append(&text, op == JB_OBJECT ? "{" : "[", 1, err);
            for (int32_t k = 0; k < call->n_args && !st; k++) {
                if (k > 0) st = pl_strbuf_append(&text, (op == JB_OBJECT && k % 2) ? ":" : ",", 1, err);
                if (!st && op == JB_OBJECT && k % 2 == 0 && !pl_array_is_valid(a[k], i))
                    st = row_error(err, call, i, "JSON key cannot be NULL");
                if (!st) st = pl_json_append_value(a[k], i, &text, err);
            }
            if (!st) st = pl_strbuf_append(&text, op == JB_OBJECT ? "}" : "]", 1, err);
        }
        if (!st && text.len > 0) st = pl_fn_strb_append(&b, text.data, text.len, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    pl_strbuf_reset(&text);
    for (int32_t k = 0; k < call->n_args; k++) pl_array_release(a[k]);
    pl_free(a);
    return strb_done(&b, st, call, out, err);
}

/* __json_group_object(list<struct<k, v>>): json_group_object's pairs (the SQL planner gathers
 * them with list(struct_pack(k, v))) as one object, keys as text, duplicates kept (DuckDB). */
static pl_status bind_group_object(pl_bexpr *call, pl_error *err) {
    const pl_type *t = call->args[0]->type;
    if (t->id != PL_TYPE_LIST || t->children[0].type->id != PL_TYPE_STRUCT ||
        t->children[0].type->n_children != 2)
        return pl_fn_no_function(call, err);
    return bind_to_json(call, err);
}

static pl_status k_group_object(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_group_object, out, err);
    pl_array *l = NULL;
    PL_TRY(pl_fn_datum_array(&args[0], n, &l, err));
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_strbuf text = {0}, key = {0};
    pl_status st = pl_fn_strb_init(&b, n, n * 16, err);
    const pl_array *pairs = l->children[0];
    const int32_t *o = pl_array_offsets(l);
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(l, i)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        text.len = 0;
        st = pl_strbuf_append(&text, "{", 1, err);
        for (int64_t e = o[i]; e < o[i + 1] && !st; e++) {
            int64_t pk = pairs->offset + e;
            if (e > o[i]) st = pl_strbuf_append(&text, ",", 1, err);
            if (!st && (!pl_array_is_valid(pairs, e) || !pl_array_is_valid(pairs->children[0], pk)))
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "json_group_object key cannot be NULL");
            key.len = 0;
            if (!st) st = pl_text_format_value(pairs->children[0], pk, PL_TEXT_PLAIN, &key, err);
            if (!st) st = pl_json_append_string(&text, key.data ? key.data : "", key.len, err);
            if (!st) st = pl_strbuf_append(&text, ":", 1, err);
            if (!st) st = pl_json_append_value(pairs->children[1], pk, &text, err);
        }
        if (!st) st = pl_strbuf_append(&text, "}", 1, err);
        if (!st) st = pl_fn_strb_append(&b, text.data, text.len, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    pl_strbuf_reset(&text);
    pl_strbuf_reset(&key);
    pl_array_release(l);
    return strb_done(&b, st, call, out, err);
}

#define JSON_B(NAME, OP)                                                                           \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,          \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return build_kernel(ec, call, args, n, out, err, OP, k_##NAME);                             \
    }
JSON_B(to_json, JB_VALUE)
JSON_B(json_object, JB_OBJECT)
JSON_B(json_array, JB_ARRAY)

#define EW (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def g_json[] = {
    {"json_valid", NULL, 1, 1, EW, bind_valid, k_json_valid},
    {"json_exists", NULL, 2, 2, EW, bind_valid, k_json_exists},
    {"json_extract", "json_extract_path", 2, 2, EW, bind_extract, k_json_extract},
    {"json_extract_string", "json_extract_path_text", 2, 2, EW, bind_extract_string, k_json_extract_string},
    {"json", NULL, 1, 1, EW, bind_extract, k_json_extract},
    {"json_keys", NULL, 1, 2, EW, bind_keys, k_json_keys},
    {"json_merge_patch", NULL, 2, -1, PL_FN_ELEMENTWISE, bind_merge_patch, k_merge_patch},
    {"json_contains", NULL, 2, 2, EW, bind_contains, k_contains},
    {"json_transform", "from_json", 2, 2, EW, bind_transform, k_transform},
    {"json_structure", NULL, 1, 1, EW, bind_structure, k_structure},
    {"json_transform_strict", "from_json_strict", 2, 2, EW, bind_transform, k_transform_strict},
    {"to_json", "json_quote", 1, 1, EW, bind_to_json, k_to_json},
    {"array_to_json", NULL, 1, 1, EW, bind_array_to_json, k_to_json},
    {"row_to_json", NULL, 1, 1, EW, bind_row_to_json, k_to_json},
    {"json_object", NULL, 0, -1, PL_FN_ELEMENTWISE, bind_object, k_json_object},
    {"json_array", NULL, 0, -1, PL_FN_ELEMENTWISE, bind_array, k_json_array},
    {"__json_group_object", NULL, 1, 1, EW, bind_group_object, k_group_object},
    {"json_type", NULL, 1, 2, EW, bind_type, k_json_type},
    {"json_array_length", NULL, 1, 2, EW, bind_length, k_json_array_length},
};

const pl_func_set pl_funcs_json = {(int32_t)PL_ARRAY_LEN(g_json), g_json};
