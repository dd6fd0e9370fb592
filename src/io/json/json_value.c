/* json_value.c - one column value as JSON text, the way DuckDB's to_json / json_object /
 * CAST(x AS JSON) render it (pl_json_append_value, declared in json.h). Leaves that JSON has no
 * type for (dates, times, timestamps, intervals, blobs, decimals' text) reuse io/text's PLAIN
 * rendering; values of the JSON type are re-read and written compact, so malformed stored text
 * is an error rather than broken output. Nesting is bounded by PL_JSON_MAX_DEPTH. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "io/json/json.h"

static pl_status append_rec(const pl_array *a, int64_t i, int depth, pl_strbuf *out, pl_error *err);

static pl_status append_double(double d, pl_strbuf *out, pl_error *err) {
    char buf[64];
    if (isnan(d)) return pl_strbuf_append(out, "NaN", 3, err);
    if (isinf(d)) return d < 0 ? pl_strbuf_append(out, "-Infinity", 9, err)
                               : pl_strbuf_append(out, "Infinity", 8, err);
    int n = pl_json_format_double(d, buf);
    return pl_strbuf_append(out, buf, n, err);
}

/* The value's PLAIN text (io/text) as a JSON string. */
static pl_status append_text_string(const pl_array *a, int64_t i, pl_strbuf *out, pl_error *err) {
    pl_strbuf tmp = {0};
    pl_status st = pl_text_format_value(a, i, PL_TEXT_PLAIN, &tmp, err);
    if (!st) st = pl_json_append_string(out, tmp.data ? tmp.data : "", tmp.len, err);
    pl_strbuf_reset(&tmp);
    return st;
}

/* A stored JSON text, validated and compacted. */
static pl_status append_json_text(const uint8_t *s, int64_t n, pl_strbuf *out, pl_error *err) {
    int64_t at = 0;
    char why[320];
    int r = pl_json_locate(s, n, "$", 1, &at, why, sizeof why);
    if (r != 1) PL_FAIL(err, PL_ERR_INVALID_ARG, "%s", why);
    return pl_json_render(s, n, at, false, out, err);
}

static pl_status append_rec(const pl_array *a, int64_t i, int depth, pl_strbuf *out, pl_error *err) {
    if (depth > PL_JSON_MAX_DEPTH)
        PL_FAIL(err, PL_ERR_LIMIT, "value nested deeper than %d levels for JSON", PL_JSON_MAX_DEPTH);
    if (a->type->id == PL_TYPE_NA || !pl_array_is_valid(a, i))
        return pl_strbuf_append(out, "null", 4, err);
    const pl_type *t = a->type;
    int64_t k = a->offset + i;
    switch (t->id) {
    case PL_TYPE_BOOL:
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_DECIMAL128:
        return pl_text_format_value(a, i, PL_TEXT_PLAIN, out, err);
    case PL_TYPE_FLOAT32: return append_double(((const float *)(const void *)a->values->data)[k], out, err);
    case PL_TYPE_FLOAT64: return append_double(((const double *)(const void *)a->values->data)[k], out, err);
    case PL_TYPE_UTF8: {
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        if (pl_type_is_json(t)) return append_json_text(s, len, out, err);
        return pl_json_append_string(out, (const char *)s, len, err);
    }
    case PL_TYPE_DICTIONARY: {
        /* the dictionary's value at this row: render it through a decoded one-row view */
        pl_array *dec = NULL, *one = NULL;
        pl_status st = pl_array_slice((pl_array *)a, i, 1, &one, err);
        if (!st) st = pl_array_decode_dictionary(one, &dec, err);
        if (!st) st = append_rec(dec, 0, depth, out, err);
        pl_array_release(dec);
        pl_array_release(one);
        return st;
    }
    case PL_TYPE_LIST: {
        const int32_t *o = pl_array_offsets(a);
        PL_TRY(pl_strbuf_append(out, "[", 1, err));
        for (int64_t e = o[i]; e < o[i + 1]; e++) {
            if (e > o[i]) PL_TRY(pl_strbuf_append(out, ",", 1, err));
            PL_TRY(append_rec(a->children[0], e, depth + 1, out, err));
        }
        return pl_strbuf_append(out, "]", 1, err);
    }
    case PL_TYPE_STRUCT: {
        PL_TRY(pl_strbuf_append(out, "{", 1, err));
        for (int32_t c = 0; c < a->n_children; c++) {
            const char *name = t->children[c].name ? t->children[c].name : "";
            if (c) PL_TRY(pl_strbuf_append(out, ",", 1, err));
            PL_TRY(pl_json_append_string(out, name, (int64_t)strlen(name), err));
            PL_TRY(pl_strbuf_append(out, ":", 1, err));
            PL_TRY(append_rec(a->children[c], k, depth + 1, out, err));
        }
        return pl_strbuf_append(out, "}", 1, err);
    }
    case PL_TYPE_MAP: {
        const int32_t *o = pl_array_offsets(a);
        const pl_array *entries = a->children[0];
        PL_TRY(pl_strbuf_append(out, "{", 1, err));
        for (int64_t e = o[i]; e < o[i + 1]; e++) {
            int64_t ek = entries->offset + e;
            if (e > o[i]) PL_TRY(pl_strbuf_append(out, ",", 1, err));
            PL_TRY(append_text_string(entries->children[0], ek, out, err));
            PL_TRY(pl_strbuf_append(out, ":", 1, err));
            if (entries->n_children > 1) PL_TRY(append_rec(entries->children[1], ek, depth + 1, out, err));
            else PL_TRY(pl_strbuf_append(out, "null", 4, err));
        }
        return pl_strbuf_append(out, "}", 1, err);
    }
    default: return append_text_string(a, i, out, err);
    }
}

pl_status pl_json_append_value(const pl_array *a, int64_t i, pl_strbuf *out, pl_error *err) {
    return append_rec(a, i, 0, out, err);
}
