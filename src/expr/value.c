/* value.c - pl_value (typed scalars), pl_datum (array or scalar arguments of kernels), and the
 * buffer/bitmap/gather helpers the core kernels share (expr_core.h).
 *
 * Invariants: a pl_value always owns its type reference (NA once reset) and its bytes; bitmaps
 * made here start at bit 0 and have zeroed tails; result arrays have offset 0. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compute/compute.h"
#include "expr/expr_core.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- pl_value */

void pl_value_init_null(pl_value *v) {
    memset(v, 0, sizeof *v);
    v->type = pl_type_simple(PL_TYPE_NA);
    v->is_null = true;
}

void pl_value_reset(pl_value *v) {
    if (!v) return;
    pl_type_release(v->type);
    pl_free(v->str);
    pl_value_init_null(v);
}

pl_status pl_value_copy(const pl_value *src, pl_value *dst, pl_error *err) {
    pl_value t = *src;
    t.str = NULL;
    if (src->str) {
        t.str = pl_malloc((size_t)src->str_len + 1);
        if (!t.str) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a value");
        memcpy(t.str, src->str, (size_t)src->str_len);
        t.str[src->str_len] = '\0';
    }
    t.type = pl_type_retain(src->type ? src->type : pl_type_simple(PL_TYPE_NA));
    *dst = t;
    return PL_OK;
}

pl_status pl_value_set_bytes(pl_value *v, pl_type *t, const void *p, int64_t n, pl_error *err) {
    char *s = pl_malloc((size_t)n + 1);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a %lld-byte value", (long long)n);
    if (n > 0) memcpy(s, p, (size_t)n);
    s[n] = '\0';
    pl_value_reset(v);
    v->type = pl_type_retain(t);
    v->is_null = false;
    v->str = s;
    v->str_len = n;
    return PL_OK;
}

void pl_value_load(pl_type *t, const void *p, pl_value *out) {
    pl_value_init_null(out);
    out->type = pl_type_retain(t);
    out->is_null = false;
    switch (t->id) {
    case PL_TYPE_INT8: out->v.i = *(const int8_t *)p; break;
    case PL_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); out->v.i = x; break; }
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: { int32_t x; memcpy(&x, p, 4); out->v.i = x; break; }
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: memcpy(&out->v.i, p, 8); break;
    case PL_TYPE_UINT8: out->v.u = *(const uint8_t *)p; break;
    case PL_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); out->v.u = x; break; }
    case PL_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); out->v.u = x; break; }
    case PL_TYPE_UINT64: memcpy(&out->v.u, p, 8); break;
    case PL_TYPE_FLOAT32: { float x; memcpy(&x, p, 4); out->v.f = x; break; }
    case PL_TYPE_FLOAT64: memcpy(&out->v.f, p, 8); break;
    case PL_TYPE_DECIMAL128:
        memcpy(&out->v.dec.lo, p, 8);
        memcpy(&out->v.dec.hi, (const uint8_t *)p + 8, 8);
        break;
    case PL_TYPE_INTERVAL:
        memcpy(&out->v.iv.months, p, 4);
        memcpy(&out->v.iv.days, (const uint8_t *)p + 4, 4);
        memcpy(&out->v.iv.ns, (const uint8_t *)p + 8, 8);
        break;
    default: break;
    }
}

void pl_value_store(const pl_value *v, void *dst) {
    switch (v->type->id) {
    case PL_TYPE_INT8: *(int8_t *)dst = (int8_t)v->v.i; break;
    case PL_TYPE_INT16: { int16_t x = (int16_t)v->v.i; memcpy(dst, &x, 2); break; }
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: { int32_t x = (int32_t)v->v.i; memcpy(dst, &x, 4); break; }
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: memcpy(dst, &v->v.i, 8); break;
    case PL_TYPE_UINT8: *(uint8_t *)dst = (uint8_t)v->v.u; break;
    case PL_TYPE_UINT16: { uint16_t x = (uint16_t)v->v.u; memcpy(dst, &x, 2); break; }
    case PL_TYPE_UINT32: { uint32_t x = (uint32_t)v->v.u; memcpy(dst, &x, 4); break; }
    case PL_TYPE_UINT64: memcpy(dst, &v->v.u, 8); break;
    case PL_TYPE_FLOAT32: { float x = (float)v->v.f; memcpy(dst, &x, 4); break; }
    case PL_TYPE_FLOAT64: memcpy(dst, &v->v.f, 8); break;
    case PL_TYPE_DECIMAL128:
        memcpy(dst, &v->v.dec.lo, 8);
        memcpy((uint8_t *)dst + 8, &v->v.dec.hi, 8);
        break;
    case PL_TYPE_INTERVAL:
        memcpy(dst, &v->v.iv.months, 4);
        memcpy((uint8_t *)dst + 4, &v->v.iv.days, 4);
        memcpy((uint8_t *)dst + 8, &v->v.iv.ns, 8);
        break;
    default: break;
    }
}

pl_status pl_value_from_array(pl_array *a, int64_t i, pl_value *out, pl_error *err) {
    if (!a || i < 0 || i >= a->length)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "row %lld out of range", (long long)i);
    pl_value v;
    pl_value_init_null(&v);
    if (a->type->id == PL_TYPE_DICTIONARY) {
        if (!pl_array_is_valid(a, i)) {
            v.type = pl_type_retain(a->type->value_type);
            pl_value_reset(out);
            *out = v;
            return PL_OK;
        }
        int64_t k = a->offset + i;
        int64_t idx;
        const uint8_t *p = a->values->data;
        switch (a->type->index_id) {
        case PL_TYPE_INT8: idx = ((const int8_t *)p)[k]; break;
        case PL_TYPE_UINT8: idx = p[k]; break;
        case PL_TYPE_INT16: idx = ((const int16_t *)(const void *)p)[k]; break;
        case PL_TYPE_UINT16: idx = ((const uint16_t *)(const void *)p)[k]; break;
        case PL_TYPE_INT32: idx = ((const int32_t *)(const void *)p)[k]; break;
        case PL_TYPE_UINT32: idx = ((const uint32_t *)(const void *)p)[k]; break;
        default: idx = ((const int64_t *)(const void *)p)[k]; break;
        }
        if (idx < 0 || idx >= a->dictionary->length)
            PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %lld out of range (size %lld)",
                    (long long)idx, (long long)a->dictionary->length);
        return pl_value_from_array(a->dictionary, idx, out, err);
    }
    switch (a->type->id) {
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP: {
        char tn[64];
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s values cannot be used as scalars yet",
                pl_type_to_string(a->type, tn, sizeof tn));
    }
    default: break;
    }
    if (!pl_array_is_valid(a, i)) {
        v.type = pl_type_retain(a->type);
        pl_value_reset(out);
        *out = v;
        return PL_OK;
    }
    switch (a->type->id) {
    case PL_TYPE_BOOL:
        v.type = pl_type_retain(a->type);
        v.is_null = false;
        v.v.b = pl_bit_get(a->values->data, a->offset + i);
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t len;
        const uint8_t *p = pl_array_bytes(a, i, &len);
        PL_TRY(pl_value_set_bytes(&v, a->type, p, len, err));
        break;
    }
    case PL_TYPE_FIXED_BINARY: {
        int64_t w = a->type->byte_width;
        PL_TRY(pl_value_set_bytes(&v, a->type, a->values->data + (a->offset + i) * w, w, err));
        break;
    }
    default:
        pl_value_load(a->type, (const uint8_t *)pl_array_values_ptr(a) + i * a->type->byte_width,
                      &v);
        break;
    }
    pl_value_reset(out);
    *out = v;
    return PL_OK;
}

static int format_interval(const pl_interval *iv, char *buf, size_t n) {
    size_t len = 0;
    buf[0] = '\0';
#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (len < n) len += (size_t)snprintf(buf + len, n - len, __VA_ARGS__);                    \
    } while (0)
    int32_t years = iv->months / 12, months = iv->months % 12;
    if (years) APPEND("%s%d year%s", len ? " " : "", years, years == 1 || years == -1 ? "" : "s");
    if (months)
        APPEND("%s%d month%s", len ? " " : "", months, months == 1 || months == -1 ? "" : "s");
    if (iv->days)
        APPEND("%s%d day%s", len ? " " : "", iv->days, iv->days == 1 || iv->days == -1 ? "" : "s");
    if (iv->ns || len == 0) {
        int64_t us = iv->ns / 1000; /* DuckDB intervals have microsecond precision */
        char t[64];
        pl_text_format_time(us, PL_UNIT_US, t);
        APPEND("%s%s", len ? " " : "", t);
    }
#undef APPEND
    return (int)len;
}

const char *pl_value_to_string(const pl_value *v, char *buf, size_t buf_size) {
    if (!buf || buf_size == 0) return buf;
    buf[0] = '\0';
    if (!v || v->is_null || !v->type) {
        snprintf(buf, buf_size, "NULL");
        return buf;
    }
    char tmp[128];
    switch (v->type->id) {
    case PL_TYPE_BOOL: snprintf(buf, buf_size, "%s", v->v.b ? "true" : "false"); break;
    case PL_TYPE_INT8:
    case PL_TYPE_INT16:
    case PL_TYPE_INT32:
    case PL_TYPE_INT64: snprintf(buf, buf_size, "%" PRId64, v->v.i); break;
    case PL_TYPE_UINT8:
    case PL_TYPE_UINT16:
    case PL_TYPE_UINT32:
    case PL_TYPE_UINT64: snprintf(buf, buf_size, "%" PRIu64, v->v.u); break;
    case PL_TYPE_FLOAT32:
        pl_text_format_float(v->v.f != v->v.f ? NAN : (float)v->v.f, tmp);
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_FLOAT64:
        pl_text_format_double(v->v.f != v->v.f ? NAN : v->v.f, tmp); /* no "-nan" */
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_DECIMAL128:
        pl_text_format_decimal(v->v.dec.lo, v->v.dec.hi, v->type->scale, tmp);
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_DATE32:
        pl_text_format_date(v->v.i, tmp);
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_TIME64:
        pl_text_format_time(v->v.i, v->type->unit, tmp);
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_TIMESTAMP:
        pl_text_format_timestamp_tz(v->v.i, v->type->unit, v->type->tz, tmp);
        snprintf(buf, buf_size, "%s", tmp);
        break;
    case PL_TYPE_INTERVAL: format_interval(&v->v.iv, buf, buf_size); break;
    case PL_TYPE_UTF8: snprintf(buf, buf_size, "%.*s", (int)v->str_len, v->str ? v->str : ""); break;
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: {
        size_t len = 0;
        for (int64_t i = 0; i < v->str_len && len + 5 < buf_size; i++) {
            unsigned char c = (unsigned char)v->str[i];
            if (c >= 32 && c < 127 && c != '\\' && c != '\'' && c != '"') buf[len++] = (char)c;
            else len += (size_t)snprintf(buf + len, buf_size - len, "\\x%02X", c);
        }
        buf[len < buf_size ? len : buf_size - 1] = '\0';
        break;
    }
    default: snprintf(buf, buf_size, "?"); break;
    }
    return buf;
}

const char *pl_xtype_name(const pl_type *t, char *buf, size_t n) {
    if (!t) {
        snprintf(buf, n, "?");
        return buf;
    }
    if (t->id == PL_TYPE_NA) {
        snprintf(buf, n, "null");
        return buf;
    }
    return pl_type_to_string(t, buf, n);
}

/* ---------------------------------------------------------------- buffers and bitmaps */

pl_status pl_xbuf_new(int64_t n_bytes, pl_buf **out, pl_error *err) {
    pl_buf *b;
    PL_TRY(pl_buf_new(n_bytes > 0 ? n_bytes : 1, &b, err));
    b->size = n_bytes;
    int64_t tail = n_bytes & ~(int64_t)63;
    if (b->capacity > tail) memset(b->data + tail, 0, (size_t)(b->capacity - tail));
    *out = b;
    return PL_OK;
}

pl_status pl_xbuf_zeroed(int64_t n_bytes, pl_buf **out, pl_error *err) {
    pl_buf *b;
    PL_TRY(pl_buf_new(n_bytes > 0 ? n_bytes : 1, &b, err));
    memset(b->data, 0, (size_t)b->capacity);
    b->size = n_bytes;
    *out = b;
    return PL_OK;
}

void pl_xbits_copy(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n) {
    if (n <= 0) return;
    int64_t nb = pl_bits_bytes(n);
    const uint8_t *s = src + (src_off >> 3);
    int sh = (int)(src_off & 7);
    if (sh == 0) {
        memcpy(dst, s, (size_t)nb);
    } else {
        int64_t last = (sh + n - 1) >> 3; /* last source byte index that holds a wanted bit */
        for (int64_t k = 0; k < nb; k++) {
            unsigned lo = s[k] >> sh;
            unsigned hi = k + 1 <= last ? (unsigned)s[k + 1] << (8 - sh) : 0;
            dst[k] = (uint8_t)(lo | hi);
        }
    }
    if (n & 7) dst[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
}

void pl_xbits_and(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n) {
    if (n <= 0) return;
    int64_t nb = pl_bits_bytes(n);
    const uint8_t *s = src + (src_off >> 3);
    int sh = (int)(src_off & 7);
    if (sh == 0) {
        for (int64_t k = 0; k < nb; k++) dst[k] &= s[k];
    } else {
        int64_t last = (sh + n - 1) >> 3;
        for (int64_t k = 0; k < nb; k++) {
            unsigned lo = s[k] >> sh;
            unsigned hi = k + 1 <= last ? (unsigned)s[k + 1] << (8 - sh) : 0;
            dst[k] &= (uint8_t)(lo | hi);
        }
    }
    if (n & 7) dst[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
}

int64_t pl_xbits_count(const uint8_t *bits, int64_t n) {
    int64_t c = 0, full = n >> 6;
    for (int64_t w = 0; w < full; w++) {
        uint64_t x;
        memcpy(&x, bits + w * 8, 8);
        c += __builtin_popcountll(x);
    }
    for (int64_t i = full << 6; i < n; i++) c += pl_bit_get(bits, i);
    return c;
}

pl_status pl_validity_and(int32_t n, pl_array *const *arrays, int64_t n_rows, pl_buf **out,
                          int64_t *null_count, pl_error *err) {
    pl_buf *v = NULL;
    for (int32_t k = 0; k < n; k++) {
        pl_array *a = arrays[k];
        if (!a) continue;
        if (a->type->id == PL_TYPE_NA) {
            if (!v) PL_TRY(pl_xbuf_zeroed(pl_bits_bytes(n_rows), &v, err));
            else memset(v->data, 0, (size_t)v->size);
            continue;
        }
        if (!a->validity || pl_array_null_count(a) == 0) continue;
        if (!v) {
            PL_TRY(pl_xbuf_new(pl_bits_bytes(n_rows), &v, err));
            pl_xbits_copy(v->data, a->validity->data, a->offset, n_rows);
        } else {
            pl_xbits_and(v->data, a->validity->data, a->offset, n_rows);
        }
    }
    int64_t nulls = 0;
    if (v) {
        nulls = n_rows - pl_xbits_count(v->data, n_rows);
        if (nulls == 0) {
            pl_buf_release(v);
            v = NULL;
        }
    }
    *out = v;
    if (null_count) *null_count = nulls;
    return PL_OK;
}

pl_status pl_xarray_new(pl_type *type, int64_t n, pl_buf *validity, pl_buf *values, pl_buf *data,
                        pl_array **out, pl_error *err) {
    int64_t nc = validity ? n - pl_xbits_count(validity->data, n) : 0;
    if (validity && nc == 0) {
        pl_buf_release(validity);
        validity = NULL;
    }
    return pl_array_new(type, n, nc, validity, values, data, 0, NULL, NULL, out, err);
}

/* ---------------------------------------------------------------- gathers */

static bool takeable(pl_type_id id) {
    switch (id) {
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP:
    case PL_TYPE_DICTIONARY: return false;
    default: return true;
    }
}

/* pl_xinterleave of lists, structs and maps: the sources concatenated, then gathered. */
static pl_status interleave_nested(pl_type *type, int32_t n_srcs, pl_array *const *srcs,
                                   const int32_t *which, const int32_t *pos, int64_t n,
                                   pl_array **out, pl_error *err) {
    pl_array **parts = pl_malloc((size_t)PL_MAX(n_srcs, 1) * sizeof *parts);
    int64_t *base = pl_malloc((size_t)PL_MAX(n_srcs, 1) * 8);
    int64_t *idx = pl_malloc((size_t)PL_MAX(n, 1) * 8);
    pl_array *all = NULL;
    pl_status st = PL_OK;
    if (!parts || !base || !idx) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory combining values");
    int32_t np = 0;
    int64_t total = 0;
    for (int32_t k = 0; k < n_srcs && !st; k++) {
        base[k] = -1;
        if (!srcs[k] || srcs[k]->type->id == PL_TYPE_NA) continue;
        if (!pl_type_equals(srcs[k]->type, type)) {
            char a[64], b[64];
            st = pl_error_set(err, PL_ERR_TYPE, "cannot combine %s values with %s values",
                              pl_type_to_string(srcs[k]->type, a, sizeof a),
                              pl_type_to_string(type, b, sizeof b));
            break;
        }
        base[k] = total;
        parts[np++] = srcs[k];
        total += srcs[k]->length;
    }
    if (!st && np == 0) st = pl_array_new_nulls(type, n, out, err);
    else if (!st) st = pl_array_concat(np, parts, &all, err);
    if (!st && all) {
        for (int64_t i = 0; i < n; i++) {
            int32_t w = which[i];
            idx[i] = w >= 0 && w < n_srcs && base[w] >= 0 ? base[w] + pos[i] : -1;
        }
        st = pl_array_take(all, idx, n, out, err);
    }
    pl_array_release(all);
    pl_free(parts);
    pl_free(base);
    pl_free(idx);
    return st;
}

pl_status pl_xinterleave(pl_type *type, int32_t n_srcs, pl_array *const *srcs,
                         const int32_t *which, const int32_t *pos, int64_t n, pl_array **out,
                         pl_error *err) {
    if (type->id == PL_TYPE_LIST || type->id == PL_TYPE_STRUCT || type->id == PL_TYPE_MAP)
        return interleave_nested(type, n_srcs, srcs, which, pos, n, out, err);
    if (!takeable(type->id)) {
        char tn[64];
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot combine %s values row by row yet",
                pl_type_to_string(type, tn, sizeof tn));
    }
    if (type->id == PL_TYPE_NA) return pl_array_new_nulls(type, n, out, err);
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_status st = pl_xbuf_new(pl_bits_bytes(n), &validity, err);
    if (st) return st;
    uint8_t *vb = validity->data;
    memset(vb, 0, (size_t)validity->size);
    {
        /* per source: NULL-free sources need no bit lookups */
        const uint8_t *vbits[64];
        int64_t voff[64];
        bool small = n_srcs <= 64;
        for (int32_t k = 0; small && k < n_srcs; k++) {
            pl_array *s = srcs[k];
            vbits[k] = s && s->validity && pl_array_null_count(s) > 0 ? s->validity->data : NULL;
            voff[k] = s ? s->offset : 0;
        }
        for (int64_t i = 0; i < n; i++) {
            int32_t w = which[i];
            bool ok;
            if (w < 0 || w >= n_srcs || !srcs[w] || srcs[w]->type->id == PL_TYPE_NA) ok = false;
            else if (small) ok = !vbits[w] || pl_bit_get(vbits[w], voff[w] + pos[i]);
            else ok = pl_array_is_valid(srcs[w], pos[i]);
            if (ok) pl_bit_set(vb, i);
        }
    }
    switch (type->id) {
    case PL_TYPE_BOOL:
        st = pl_xbuf_zeroed(pl_bits_bytes(n), &values, err);
        if (st) goto fail;
        for (int64_t i = 0; i < n; i++) {
            if (!pl_bit_get(vb, i)) continue;
            const pl_array *s = srcs[which[i]];
            if (pl_bit_get(s->values->data, s->offset + pos[i])) pl_bit_set(values->data, i);
        }
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        st = pl_xbuf_new((n + 1) * 4, &values, err);
        if (st) goto fail;
        int32_t *o = (int32_t *)(void *)values->data;
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) {
            o[i] = (int32_t)total;
            if (!pl_bit_get(vb, i)) continue;
            int32_t len;
            pl_array_bytes(srcs[which[i]], pos[i], &len);
            total += len;
            if (total > PL_MAX_VARLEN_BYTES) {
                st = pl_error_set(err, PL_ERR_LIMIT, "string column over %lld bytes",
                                  (long long)PL_MAX_VARLEN_BYTES);
                goto fail;
            }
        }
        o[n] = (int32_t)total;
        st = pl_xbuf_new(total, &data, err);
        if (st) goto fail;
        for (int64_t i = 0; i < n; i++) {
            if (!pl_bit_get(vb, i)) continue;
            int32_t len;
            const uint8_t *p = pl_array_bytes(srcs[which[i]], pos[i], &len);
            if (len) memcpy(data->data + o[i], p, (size_t)len);
        }
        break;
    }
    default: {
        int64_t w = type->byte_width;
        st = pl_xbuf_new(n * w, &values, err);
        if (st) goto fail;
        uint8_t *dst = values->data;
        const uint8_t *base[64];
        bool typed = n_srcs <= 64 && (w == 1 || w == 2 || w == 4 || w == 8);
        for (int32_t k = 0; typed && k < n_srcs; k++)
            base[k] = srcs[k] && srcs[k]->type->id != PL_TYPE_NA && srcs[k]->values
                          ? (const uint8_t *)pl_array_values_ptr(srcs[k])
                          : NULL;
        if (typed) {
            switch (w) {
#define MERGE(T)                                                                                   \
    {                                                                                              \
        T *d = (T *)(void *)dst;                                                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            int32_t k = which[i];                                                                  \
            d[i] = (k >= 0 && base[k]) ? ((const T *)(const void *)base[k])[pos[i]] : 0;           \
        }                                                                                          \
    }                                                                                              \
    break;
            case 1: MERGE(uint8_t)
            case 2: MERGE(uint16_t)
            case 4: MERGE(uint32_t)
            default: MERGE(uint64_t)
#undef MERGE
            }
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            if (!pl_bit_get(vb, i)) {
                memset(dst + i * w, 0, (size_t)w);
                continue;
            }
            const pl_array *s = srcs[which[i]];
            memcpy(dst + i * w, s->values->data + (s->offset + pos[i]) * w, (size_t)w);
        }
        break;
    }
    }
    return pl_xarray_new(pl_type_retain(type), n, validity, values, data, out, err);
fail:
    pl_buf_release(validity);
    pl_buf_release(values);
    pl_buf_release(data);
    return st;
}

/* Validity of a gather: bit i = idx[i] >= 0 and a valid at idx[i]; NULL when all valid. */
static pl_status take_validity(pl_array *a, const int32_t *idx, int64_t n, bool neg, pl_buf **out,
                               pl_error *err) {
    bool a_nulls = a->validity && pl_array_null_count(a) > 0;
    *out = NULL;
    if (!a_nulls && !neg) return PL_OK;
    pl_buf *v;
    PL_TRY(pl_xbuf_zeroed(pl_bits_bytes(n), &v, err));
    const uint8_t *src = a_nulls ? a->validity->data : NULL;
    int64_t off = a->offset;
    for (int64_t i = 0; i < n; i += 8) {
        int64_t m = PL_MIN(8, n - i);
        unsigned byte = 0;
        for (int64_t j = 0; j < m; j++) {
            int32_t k = idx[i + j];
            bool ok = k >= 0 && (!src || pl_bit_get(src, off + k));
            byte |= (unsigned)ok << j;
        }
        v->data[i >> 3] = (uint8_t)byte;
    }
    *out = v;
    return PL_OK;
}

pl_status pl_xtake(pl_array *a, const int32_t *idx, int64_t n, pl_array **out, pl_error *err) {
    pl_type_id id = a->type->id;
    bool fixed = id != PL_TYPE_BOOL && !pl_type_is_varlen(id) && takeable(id) && id != PL_TYPE_NA &&
                 a->type->byte_width > 0;
    if (fixed || id == PL_TYPE_BOOL) {
        bool neg = false;
        for (int64_t i = 0; i < n; i++) neg |= idx[i] < 0;
        pl_buf *values = NULL, *validity = NULL;
        PL_TRY(take_validity(a, idx, n, neg, &validity, err));
        int64_t w = a->type->byte_width;
        pl_status st = id == PL_TYPE_BOOL ? pl_xbuf_zeroed(pl_bits_bytes(n), &values, err)
                                          : pl_xbuf_new(n * w, &values, err);
        if (st) {
            pl_buf_release(validity);
            return st;
        }
        if (id == PL_TYPE_BOOL) {
            const uint8_t *src = a->values->data;
            int64_t off = a->offset;
            for (int64_t i = 0; i < n; i += 8) {
                int64_t m = PL_MIN(8, n - i);
                unsigned byte = 0;
                for (int64_t j = 0; j < m; j++) {
                    int32_t k = idx[i + j];
                    byte |= (unsigned)(k >= 0 && pl_bit_get(src, off + k)) << j;
                }
                values->data[i >> 3] = (uint8_t)byte;
            }
        } else {
            const uint8_t *src = pl_array_values_ptr(a);
            switch (w) {
#define GATHER(T)                                                                                  \
    {                                                                                              \
        const T *s = (const T *)(const void *)src;                                                 \
        T *d = (T *)(void *)values->data;                                                          \
        if (neg)                                                                                   \
            for (int64_t i = 0; i < n; i++) d[i] = idx[i] >= 0 ? s[idx[i]] : 0;                    \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) d[i] = s[idx[i]];                                      \
    }                                                                                              \
    break;
            case 1: GATHER(uint8_t)
            case 2: GATHER(uint16_t)
            case 4: GATHER(uint32_t)
            case 8: GATHER(uint64_t)
#undef GATHER
            default:
                for (int64_t i = 0; i < n; i++) {
                    if (idx[i] >= 0) memcpy(values->data + i * w, src + idx[i] * w, (size_t)w);
                    else memset(values->data + i * w, 0, (size_t)w);
                }
                break;
            }
        }
        return pl_xarray_new(pl_type_retain(a->type), n, validity, values, NULL, out, err);
    }
    int32_t *which = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (!which) PL_FAIL(err, PL_ERR_NOMEM, "out of memory gathering rows");
    for (int64_t i = 0; i < n; i++) which[i] = idx[i] < 0 ? -1 : 0;
    pl_status st = pl_xinterleave(a->type, 1, &a, which, idx, n, out, err);
    pl_free(which);
    return st;
}

pl_status pl_dict_indices_i32(pl_array *d, int32_t **out, pl_error *err) {
    int64_t n = d->length;
    int32_t *idx = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading dictionary indices");
    const uint8_t *p = d->values->data;
    int64_t off = d->offset, dl = d->dictionary->length;
    switch (d->type->index_id) {
#define CONV(T)                                                                                    \
    {                                                                                              \
        const T *s = (const T *)(const void *)p + off;                                             \
        for (int64_t i = 0; i < n; i++) idx[i] = (int32_t)s[i];                                    \
    }                                                                                              \
    break;
    case PL_TYPE_INT8: CONV(int8_t)
    case PL_TYPE_UINT8: CONV(uint8_t)
    case PL_TYPE_INT16: CONV(int16_t)
    case PL_TYPE_UINT16: CONV(uint16_t)
    case PL_TYPE_INT32: CONV(int32_t)
    case PL_TYPE_UINT32: CONV(uint32_t)
    case PL_TYPE_INT64: CONV(int64_t)
    case PL_TYPE_UINT64: CONV(uint64_t)
#undef CONV
    default: break;
    }
    bool has_nulls = d->validity && pl_array_null_count(d) > 0;
    bool bad = false;
    for (int64_t i = 0; i < n; i++) {
        if (has_nulls && !pl_bit_get(d->validity->data, off + i)) {
            idx[i] = -1;
            continue;
        }
        bad |= idx[i] < 0 || idx[i] >= dl;
    }
    if (bad) {
        pl_free(idx);
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index out of range (size %lld)", (long long)dl);
    }
    *out = idx;
    return PL_OK;
}

/* BOOL values by raw dictionary indices in one pass (a predicate over a dictionary column,
 * evaluated once per distinct value): a byte table of the values, 64 rows per output word. */
static pl_status take_dict_bool(pl_array *values, pl_array *d, pl_array **out, pl_error *err) {
    int64_t n = d->length, dl = values->length;
    uint8_t *lut = pl_malloc((size_t)(dl > 0 ? dl : 1));
    if (!lut) PL_FAIL(err, PL_ERR_NOMEM, "out of memory gathering rows");
    bool vnull = values->validity && pl_array_null_count(values) > 0;
    for (int64_t k = 0; k < dl; k++)
        lut[k] = (uint8_t)(pl_bit_get(values->values->data, values->offset + k) |
                           (pl_array_is_valid(values, k) << 1));
    bool rnull = d->validity && pl_array_null_count(d) > 0;
    pl_buf *bits = NULL, *valid = NULL;
    int64_t nb = pl_bits_bytes(n);
    pl_status st = pl_xbuf_zeroed(PL_ALIGN_UP(nb, 8), &bits, err);
    if (!st && (vnull || rnull)) st = pl_xbuf_zeroed(PL_ALIGN_UP(nb, 8), &valid, err);
    if (st) {
        pl_free(lut);
        pl_buf_release(bits);
        return st;
    }
    const uint8_t *rv = rnull ? d->validity->data : NULL;
    int64_t off = d->offset;
    bool bad = false;
#define LOOP(T)                                                                                    \
    {                                                                                              \
        const T *ix = (const T *)(const void *)d->values->data + off;                              \
        if (!rv && !valid) {                                                                       \
            /* no NULLs: check the indices in one pass, then gather without branches */            \
            uint64_t mx = 0;                                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                uint64_t k = (uint64_t)(int64_t)ix[i];                                             \
                mx = k > mx ? k : mx;                                                              \
            }                                                                                      \
            if (n > 0 && mx >= (uint64_t)dl) {                                                     \
                bad = true;                                                                        \
                break;                                                                             \
            }                                                                                      \
            for (int64_t i = 0; i < n; i += 64) {                                                  \
                int64_t m = PL_MIN(64, n - i);                                                     \
                uint64_t wb = 0;                                                                   \
                for (int64_t j = 0; j < m; j++) wb |= (uint64_t)(lut[(uint64_t)(int64_t)ix[i + j]] & 1) << j; \
                memcpy(bits->data + i / 8, &wb, (size_t)((m + 7) / 8));                            \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        for (int64_t i = 0; i < n; i += 64) {                                                      \
            int64_t m = PL_MIN(64, n - i);                                                         \
            uint64_t wb = 0, wv = 0;                                                               \
            for (int64_t j = 0; j < m; j++) {                                                      \
                uint64_t k = (uint64_t)(int64_t)ix[i + j];                                         \
                uint64_t row_ok = rv ? pl_bit_get(rv, off + i + j) : 1;                            \
                bool in = k < (uint64_t)dl;                                                        \
                bad |= row_ok && !in;                                                              \
                uint64_t e = in ? lut[k] : 0;                                                      \
                wb |= (e & row_ok) << j;                                                           \
                wv |= ((e >> 1) & row_ok) << j;                                                    \
            }                                                                                      \
            memcpy(bits->data + i / 8, &wb, (size_t)((m + 7) / 8));                                \
            if (valid) memcpy(valid->data + i / 8, &wv, (size_t)((m + 7) / 8));                     \
        }                                                                                          \
    }                                                                                              \
    break;
    switch (d->type->index_id) {
    case PL_TYPE_INT8: LOOP(int8_t)
    case PL_TYPE_UINT8: LOOP(uint8_t)
    case PL_TYPE_INT16: LOOP(int16_t)
    case PL_TYPE_UINT16: LOOP(uint16_t)
    case PL_TYPE_INT32: LOOP(int32_t)
    case PL_TYPE_UINT32: LOOP(uint32_t)
    case PL_TYPE_INT64: LOOP(int64_t)
    case PL_TYPE_UINT64: LOOP(uint64_t)
    default: bad = true; break;
    }
#undef LOOP
    pl_free(lut);
    if (bad) {
        pl_buf_release(bits);
        pl_buf_release(valid);
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index out of range (size %lld)", (long long)dl);
    }
    bits->size = nb;
    if (valid) valid->size = nb;
    return pl_xarray_new(pl_type_retain(values->type), n, valid, bits, NULL, out, err);
}

pl_status pl_xtake_dict(pl_array *values, pl_array *dict_arr, pl_array **out, pl_error *err) {
    if (values->type->id == PL_TYPE_BOOL) return take_dict_bool(values, dict_arr, out, err);
    int32_t *idx;
    PL_TRY(pl_dict_indices_i32(dict_arr, &idx, err));
    pl_status st = pl_xtake(values, idx, dict_arr->length, out, err);
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- datums */

void pl_datum_reset(pl_datum *d) {
    if (!d) return;
    pl_array_release(d->array);
    d->array = NULL;
    if (d->is_scalar) pl_value_reset(&d->scalar);
    else pl_value_init_null(&d->scalar);
    d->is_scalar = false;
}

void pl_datum_set_array(pl_datum *d, pl_array *a) {
    pl_datum_reset(d);
    d->is_scalar = false;
    d->array = a;
}

void pl_datum_set_scalar(pl_datum *d, pl_value *v) {
    pl_datum_reset(d);
    d->is_scalar = true;
    d->scalar = *v;
    pl_value_init_null(v);
}

pl_status pl_array_from_value(const pl_value *v, int64_t n, pl_array **out, pl_error *err) {
    pl_type *t = v->type;
    if (v->is_null || t->id == PL_TYPE_NA) return pl_array_new_nulls(t, n, out, err);
    pl_buf *values = NULL, *data = NULL;
    switch (t->id) {
    case PL_TYPE_BOOL:
        PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &values, err));
        memset(values->data, v->v.b ? 0xff : 0, (size_t)values->size);
        if (n & 7) values->data[values->size - 1] &= (uint8_t)((1u << (n & 7)) - 1);
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        if (v->str_len * n > PL_MAX_VARLEN_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "string column over %lld bytes",
                    (long long)PL_MAX_VARLEN_BYTES);
        PL_TRY(pl_xbuf_new((n + 1) * 4, &values, err));
        pl_status st = pl_xbuf_new(v->str_len * n, &data, err);
        if (st) {
            pl_buf_release(values);
            return st;
        }
        int32_t *o = (int32_t *)(void *)values->data;
        int32_t len = (int32_t)v->str_len;
        for (int64_t i = 0; i <= n; i++) o[i] = (int32_t)(i * len);
        for (int64_t i = 0; i < n; i++) memcpy(data->data + i * len, v->str, (size_t)len);
        break;
    }
    case PL_TYPE_FIXED_BINARY: {
        int64_t w = t->byte_width;
        PL_TRY(pl_xbuf_new(n * w, &values, err));
        for (int64_t i = 0; i < n; i++)
            memcpy(values->data + i * w, v->str, (size_t)PL_MIN(w, v->str_len));
        break;
    }
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP:
    case PL_TYPE_DICTIONARY: {
        char tn[64];
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot make a column of %s constants yet",
                pl_type_to_string(t, tn, sizeof tn));
    }
    default: {
        int64_t w = t->byte_width;
        PL_TRY(pl_xbuf_new(n * w, &values, err));
        uint8_t one[16];
        pl_value_store(v, one);
        switch (w) {
#define FILL(T)                                                                                    \
    {                                                                                              \
        T x;                                                                                       \
        memcpy(&x, one, sizeof x);                                                                 \
        T *d = (T *)(void *)values->data;                                                          \
        for (int64_t i = 0; i < n; i++) d[i] = x;                                                  \
    }                                                                                              \
    break;
        case 1: FILL(uint8_t)
        case 2: FILL(uint16_t)
        case 4: FILL(uint32_t)
        case 8: FILL(uint64_t)
#undef FILL
        default:
            for (int64_t i = 0; i < n; i++) memcpy(values->data + i * w, one, (size_t)w);
            break;
        }
        break;
    }
    }
    return pl_array_new(pl_type_retain(t), n, 0, NULL, values, data, 0, NULL, NULL, out, err);
}

pl_status pl_datum_to_array(const pl_datum *d, int64_t n_rows, bool decode_dict, pl_array **out,
                            pl_error *err) {
    if (d->is_scalar) return pl_array_from_value(&d->scalar, n_rows, out, err);
    if (decode_dict && d->array->type->id == PL_TYPE_DICTIONARY)
        return pl_array_decode_dictionary(d->array, out, err);
    *out = pl_array_retain(d->array);
    return PL_OK;
}
