/* kernels_json.c - DuckDB's JSON functions over VARCHAR JSON text (pl_funcs_json): json_valid,
 * json_exists, json_extract / json_extract_path (the `->` operator), json_extract_string /
 * json_extract_path_text (`->>`), json_type, json_array_length. The JSON parsing is io/json's
 * (pl_json_locate / render / kind): values come out as compact JSON with DuckDB's normalised
 * numbers. Invalid JSON is an error naming the row (DuckDB), except in json_valid; a path that
 * is not there gives NULL, as does a JSON null for json_extract_string. Results are VARCHAR (the
 * JSON type itself is not separate yet). Checked against DuckDB in tests/sql/test_json_funcs.py. */
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
static pl_status bind_extract(pl_bexpr *call, pl_error *err) {
    PL_TRY(bind_json(call, PL_TYPE_UTF8, true, err));
    call->type = pl_type_json(); /* DuckDB: json_extract / -> / json() give JSON */
    return PL_OK;
}
static pl_status bind_extract_string(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_UTF8, true, err); }
static pl_status bind_type(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_UTF8, false, err); }
static pl_status bind_length(pl_bexpr *call, pl_error *err) { return bind_json(call, PL_TYPE_UINT64, false, err); }

static const uint8_t *str_at(const pl_array *a, int64_t i, int64_t *len) {
    const int32_t *o = pl_array_offsets(a);
    *len = o[i + 1] - o[i];
    return a->data ? a->data->data + o[i] : (const uint8_t *)"";
}

static pl_status row_error(pl_error *err, const pl_bexpr *call, int64_t row, const char *why) {
    pl_status st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s: %s at row %lld", call->fn->name, why,
                                (long long)row);
    if (err) err->row = row;
    return st;
}

static pl_status json_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err, jop op, pl_kernel_fn self) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, self, out, err);
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
    if (st) {
        pl_fn_strb_reset(&b);
        return st;
    }
    return pl_fn_strb_finish(&b, pl_type_retain(call->type), out, err);
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
    if (st) {
        pl_fn_strb_reset(&b);
        return st;
    }
    return pl_fn_strb_finish(&b, pl_type_retain(call->type), out, err);
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
