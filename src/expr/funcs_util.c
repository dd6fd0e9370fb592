/* funcs_util.c - helpers for the scalar function kernels (see funcs_int.h): result assembly,
 * NULL propagation over argument bitmaps, evaluation on all-scalar arguments through 1-row
 * arrays, numeric readers for every integer/float width, and the UTF-8 result builder. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "expr/funcs_int.h"

bool pl_fn_all_scalar(const pl_datum *args, int32_t n_args) {
    for (int32_t i = 0; i < n_args; i++)
        if (!args[i].is_scalar) return false;
    return true;
}

pl_status pl_fn_bind_text_arg(pl_bexpr *call, int32_t i, bool blob_ok, pl_error *err) {
    pl_type_id id = call->args[i]->type->id;
    if (id == PL_TYPE_NA) return pl_bexpr_wrap_cast(&call->args[i], pl_type_simple(PL_TYPE_UTF8), err);
    if (id == PL_TYPE_UTF8 || (blob_ok && id == PL_TYPE_BINARY)) return PL_OK;
    return pl_fn_no_function(call, err);
}

pl_status pl_fn_no_function(const pl_bexpr *call, pl_error *err) {
    char buf[256], tn[64];
    size_t len = 0;
    buf[0] = 0;
    for (int32_t i = 0; i < call->n_args && len < sizeof buf - 70; i++) {
        pl_type_to_string(call->args[i]->type, tn, sizeof tn);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "", tn);
    }
    PL_FAIL(err, PL_ERR_TYPE, "no function %s(%s)", call->fn->name, buf);
}

static int64_t bytes_for_bits(int64_t n) { return (n + 7) / 8; }

void pl_fn_bits_copy(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n) {
    if ((src_off & 7) == 0) {
        memcpy(dst, src + (src_off >> 3), (size_t)bytes_for_bits(n));
        if (n & 7) dst[n >> 3] &= (uint8_t)((1u << (n & 7)) - 1);
        return;
    }
    int64_t full = n >> 3;
    const uint8_t *s = src + (src_off >> 3);
    int sh = (int)(src_off & 7);
    for (int64_t b = 0; b < full; b++) dst[b] = (uint8_t)((s[b] >> sh) | (s[b + 1] << (8 - sh)));
    if (n & 7) {
        dst[full] = 0;
        for (int64_t i = full * 8; i < n; i++)
            if (pl_bit_get(src, src_off + i)) pl_bit_set(dst, i);
    }
}

pl_status pl_fn_new_validity(int64_t n_rows, pl_buf **out, pl_error *err) {
    return pl_buf_new_zeroed(bytes_for_bits(n_rows) > 0 ? bytes_for_bits(n_rows) : 1, out, err);
}

pl_status pl_fn_copy_validity(const pl_array *a, pl_buf **out, pl_error *err) {
    *out = NULL;
    if (a->type->id == PL_TYPE_NA) return pl_fn_new_validity(a->length, out, err);
    if (!a->validity || pl_array_null_count((pl_array *)a) == 0) return PL_OK;
    pl_buf *v;
    PL_TRY(pl_fn_new_validity(a->length, &v, err));
    pl_fn_bits_copy(v->data, a->validity->data, a->offset, a->length);
    *out = v;
    return PL_OK;
}

pl_status pl_fn_and_validity(const pl_datum *args, int32_t n_args, int64_t n_rows,
                             pl_buf **validity, int64_t *null_count, bool *all_null,
                             pl_error *err) {
    *validity = NULL;
    *null_count = 0;
    *all_null = false;
    for (int32_t i = 0; i < n_args; i++) {
        if (args[i].is_scalar && args[i].scalar.is_null) {
            *all_null = true;
            *null_count = n_rows;
            return PL_OK;
        }
    }
    pl_buf *v = NULL;
    for (int32_t i = 0; i < n_args; i++) {
        if (args[i].is_scalar) continue;
        pl_array *a = args[i].array;
        if (a->type->id == PL_TYPE_NA) {
            pl_buf_release(v);
            *all_null = true;
            *null_count = n_rows;
            return PL_OK;
        }
        if (!a->validity || pl_array_null_count(a) == 0) continue;
        if (!v) {
            PL_TRY(pl_fn_copy_validity(a, &v, err));
            continue;
        }
        int64_t nb = bytes_for_bits(n_rows);
        uint8_t *tmp = pl_malloc((size_t)(nb > 0 ? nb : 1));
        if (!tmp) {
            pl_buf_release(v);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory combining NULL bitmaps");
        }
        pl_fn_bits_copy(tmp, a->validity->data, a->offset, n_rows);
        for (int64_t b = 0; b < nb; b++) v->data[b] &= tmp[b];
        pl_free(tmp);
    }
    if (v) {
        *null_count = n_rows - pl_bitmap_count(v->data, 0, n_rows);
        if (*null_count == 0) {
            pl_buf_release(v);
            v = NULL;
        }
    }
    *validity = v;
    return PL_OK;
}

pl_status pl_fn_new_values(int64_t n, int32_t byte_width, pl_buf **out, pl_error *err) {
    int64_t bytes = n * byte_width;
    pl_buf *b;
    *out = NULL;
    PL_TRY(pl_buf_new(bytes > 0 ? bytes : 1, &b, err));
    b->size = bytes;
    *out = b;
    return PL_OK;
}

pl_status pl_fn_new_result(const pl_array *a, int64_t n, int32_t byte_width, pl_buf **validity,
                           pl_buf **values, pl_error *err) {
    pl_buf *vd, *vs;
    PL_TRY(pl_fn_copy_validity(a, &vd, err));
    pl_status st = pl_fn_new_values(n, byte_width, &vs, err);
    if (st) {
        pl_buf_release(vd);
        return st;
    }
    *validity = vd;
    *values = vs;
    return PL_OK;
}

pl_status pl_fn_finish(pl_datum *out, pl_type *type, int64_t n_rows, pl_buf *validity,
                       int64_t null_count, pl_buf *values, pl_buf *data, pl_error *err) {
    pl_array *a;
    if (!validity) null_count = 0;
    PL_TRY(pl_array_new(type, n_rows, null_count, validity, values, data, 0, NULL, NULL, &a,
                        err));
    out->is_scalar = false;
    out->array = a;
    return PL_OK;
}

pl_status pl_fn_out_nulls(pl_datum *out, pl_type *type, int64_t n_rows, pl_error *err) {
    pl_array *a;
    PL_TRY(pl_array_new_nulls(type, n_rows, &a, err));
    out->is_scalar = false;
    out->array = a;
    return PL_OK;
}

void pl_fn_out_null_scalar(pl_datum *out, pl_type *type) {
    memset(&out->scalar, 0, sizeof out->scalar);
    out->is_scalar = true;
    out->array = NULL;
    out->scalar.type = pl_type_retain(type);
    out->scalar.is_null = true;
}

/* ---------------------------------------------------------------- scalars */

pl_status pl_fn_array_from_value(const pl_value *v, int64_t n, pl_array **out, pl_error *err) {
    pl_type *t = v->type;
    if (v->is_null || t->id == PL_TYPE_NA) return pl_array_new_nulls(t, n, out, err);
    pl_buf *values = NULL, *data = NULL;
    switch (t->id) {
    case PL_TYPE_BOOL:
        PL_TRY(pl_buf_new_zeroed(bytes_for_bits(n) > 0 ? bytes_for_bits(n) : 1, &values, err));
        if (v->v.b)
            for (int64_t i = 0; i < n; i++) pl_bit_set(values->data, i);
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int64_t len = v->str_len;
        if (len * n > INT32_MAX)
            PL_FAIL(err, PL_ERR_LIMIT, "string column of %lld bytes exceeds the 2 GiB limit",
                    (long long)(len * n));
        PL_TRY(pl_fn_new_values(n + 1, 4, &values, err));
        pl_status st = pl_fn_new_values(len * n, 1, &data, err);
        if (st) {
            pl_buf_release(values);
            return st;
        }
        int32_t *o = (int32_t *)(void *)values->data;
        for (int64_t i = 0; i <= n; i++) o[i] = (int32_t)(i * len);
        for (int64_t i = 0; i < n; i++) memcpy(data->data + i * len, v->str, (size_t)len);
        break;
    }
    default: {
        int32_t w = t->byte_width;
        if (w <= 0) PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot make an array of this scalar type");
        PL_TRY(pl_fn_new_values(n, w, &values, err));
        uint8_t tmp[16] = {0};
        switch (t->id) {
        case PL_TYPE_INT8: case PL_TYPE_UINT8: { uint8_t x = (uint8_t)v->v.u; memcpy(tmp, &x, 1); break; }
        case PL_TYPE_INT16: case PL_TYPE_UINT16: { uint16_t x = (uint16_t)v->v.u; memcpy(tmp, &x, 2); break; }
        case PL_TYPE_INT32: case PL_TYPE_UINT32: case PL_TYPE_DATE32: {
            uint32_t x = (uint32_t)v->v.u;
            memcpy(tmp, &x, 4);
            break;
        }
        case PL_TYPE_FLOAT32: { float x = (float)v->v.f; memcpy(tmp, &x, 4); break; }
        case PL_TYPE_FLOAT64: memcpy(tmp, &v->v.f, 8); break;
        case PL_TYPE_DECIMAL128: memcpy(tmp, &v->v.dec.lo, 8); memcpy(tmp + 8, &v->v.dec.hi, 8); break;
        case PL_TYPE_INTERVAL:
            memcpy(tmp, &v->v.iv.months, 4);
            memcpy(tmp + 4, &v->v.iv.days, 4);
            memcpy(tmp + 8, &v->v.iv.ns, 8);
            break;
        case PL_TYPE_FIXED_BINARY: break;
        default: memcpy(tmp, &v->v.i, 8); break;
        }
        for (int64_t i = 0; i < n; i++) {
            if (t->id == PL_TYPE_FIXED_BINARY)
                memcpy(values->data + i * w, v->str, (size_t)PL_MIN(w, v->str_len));
            else
                memcpy(values->data + i * w, tmp, (size_t)w);
        }
    }
    }
    return pl_array_new(pl_type_retain(t), n, 0, NULL, values, data, 0, NULL, NULL, out, err);
}

pl_status pl_fn_value_from_array(const pl_array *a, int64_t i, pl_value *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    pl_type *t = a->type;
    if (!pl_array_is_valid(a, i)) {
        out->type = pl_type_retain(t);
        out->is_null = true;
        return PL_OK;
    }
    int64_t k = a->offset + i;
    const uint8_t *p = a->values ? a->values->data : NULL;
    switch (t->id) {
    case PL_TYPE_BOOL: out->v.b = pl_bit_get(p, k); break;
    case PL_TYPE_INT8: out->v.i = ((const int8_t *)p)[k]; break;
    case PL_TYPE_INT16: out->v.i = ((const int16_t *)(const void *)p)[k]; break;
    case PL_TYPE_INT32: case PL_TYPE_DATE32: out->v.i = ((const int32_t *)(const void *)p)[k]; break;
    case PL_TYPE_UINT8: out->v.u = p[k]; break;
    case PL_TYPE_UINT16: out->v.u = ((const uint16_t *)(const void *)p)[k]; break;
    case PL_TYPE_UINT32: out->v.u = ((const uint32_t *)(const void *)p)[k]; break;
    case PL_TYPE_UINT64: out->v.u = ((const uint64_t *)(const void *)p)[k]; break;
    case PL_TYPE_INT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        out->v.i = ((const int64_t *)(const void *)p)[k];
        break;
    case PL_TYPE_FLOAT32: out->v.f = ((const float *)(const void *)p)[k]; break;
    case PL_TYPE_FLOAT64: out->v.f = ((const double *)(const void *)p)[k]; break;
    case PL_TYPE_DECIMAL128:
        memcpy(&out->v.dec.lo, p + k * 16, 8);
        memcpy(&out->v.dec.hi, p + k * 16 + 8, 8);
        break;
    case PL_TYPE_INTERVAL:
        memcpy(&out->v.iv.months, p + k * 16, 4);
        memcpy(&out->v.iv.days, p + k * 16 + 4, 4);
        memcpy(&out->v.iv.ns, p + k * 16 + 8, 8);
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: {
        int32_t len;
        const uint8_t *s;
        if (t->id == PL_TYPE_FIXED_BINARY) {
            len = t->byte_width;
            s = p + k * len;
        } else {
            s = pl_array_bytes(a, i, &len);
        }
        out->str = pl_malloc((size_t)len + 1);
        if (!out->str) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a string value");
        memcpy(out->str, s, (size_t)len);
        out->str[len] = 0;
        out->str_len = len;
        break;
    }
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot take a scalar of this type");
    }
    out->type = pl_type_retain(t);
    return PL_OK;
}

pl_status pl_fn_datum_array(const pl_datum *d, int64_t n_rows, pl_array **out, pl_error *err) {
    if (!d->is_scalar) {
        *out = pl_array_retain(d->array);
        return PL_OK;
    }
    return pl_fn_array_from_value(&d->scalar, n_rows, out, err);
}

pl_status pl_fn_validity_of(const uint8_t *keep, int64_t n_rows, pl_buf **out, pl_error *err) {
    *out = NULL;
    bool all = true;
    for (int64_t i = 0; i < n_rows && all; i++) all = keep[i] != 0;
    if (all) return PL_OK;
    PL_TRY(pl_fn_new_validity(n_rows, out, err));
    for (int64_t i = 0; i < n_rows; i++)
        if (keep[i]) pl_bit_set((*out)->data, i);
    return PL_OK;
}

pl_status pl_fn_plain_array(const pl_datum *args, int32_t k, int64_t n_rows, pl_array **out, pl_error *err) {
    pl_array *a = NULL;
    PL_TRY(pl_fn_datum_array(&args[k], n_rows, &a, err));
    if (a->type->id == PL_TYPE_DICTIONARY) {
        pl_array *d = NULL;
        pl_status st = pl_array_decode_dictionary(a, &d, err);
        pl_array_release(a);
        if (st) return st;
        a = d;
    }
    *out = a;
    return PL_OK;
}

pl_status pl_fn_eval_scalars(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             pl_kernel_fn fn, pl_datum *out, pl_error *err) {
    int32_t n = call->n_args;
    pl_datum tmp[16];
    pl_datum *arr = n <= 16 ? tmp : pl_calloc((size_t)n, sizeof *arr);
    if (!arr) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating a scalar call");
    memset(arr, 0, sizeof *arr * (size_t)(n > 0 ? n : 0));
    pl_status st = PL_OK;
    int32_t made = 0;
    for (; made < n; made++) {
        st = pl_fn_array_from_value(&args[made].scalar, 1, &arr[made].array, err);
        if (st) break;
    }
    pl_datum res = {0};
    if (!st) st = fn(ec, call, arr, 1, &res, err);
    if (!st) {
        if (res.is_scalar) {
            *out = res;
        } else {
            pl_value v;
            st = pl_fn_value_from_array(res.array, 0, &v, err);
            pl_array_release(res.array);
            if (!st) {
                out->is_scalar = true;
                out->array = NULL;
                out->scalar = v;
            }
        }
    }
    for (int32_t i = 0; i < made; i++) pl_array_release(arr[i].array);
    if (arr != tmp) pl_free(arr);
    return st;
}

/* ---------------------------------------------------------------- numeric readers */

#define READ_LOOP(T, CONV)                                                                         \
    do {                                                                                           \
        const T *src = (const T *)(const void *)a->values->data + a->offset;                      \
        for (int64_t i = 0; i < n; i++) dst[i] = CONV(src[i]);                                    \
    } while (0)
#define AS_F64(x) ((double)(x))
#define AS_I64(x) ((int64_t)(x))

static double pow10_int(int32_t e) {
    double r = 1;
    for (int32_t i = 0; i < e; i++) r *= 10;
    return r;
}

static double dec_to_f64(const uint8_t *p, int32_t scale) {
    uint64_t lo;
    int64_t hi;
    memcpy(&lo, p, 8);
    memcpy(&hi, p + 8, 8);
    double v;
    if (hi < 0) {
        /* negate the 128-bit value */
        uint64_t nlo = ~lo + 1;
        uint64_t nhi = ~(uint64_t)hi + (nlo == 0);
        v = -((double)nhi * 18446744073709551616.0 + (double)nlo);
    } else {
        v = (double)(uint64_t)hi * 18446744073709551616.0 + (double)lo;
    }
    return v / pow10_int(scale);
}

void pl_fn_read_f64(const pl_array *a, double *dst) {
    int64_t n = a->length;
    switch (a->type->id) {
    case PL_TYPE_INT8: READ_LOOP(int8_t, AS_F64); break;
    case PL_TYPE_INT16: READ_LOOP(int16_t, AS_F64); break;
    case PL_TYPE_INT32: READ_LOOP(int32_t, AS_F64); break;
    case PL_TYPE_INT64: READ_LOOP(int64_t, AS_F64); break;
    case PL_TYPE_UINT8: READ_LOOP(uint8_t, AS_F64); break;
    case PL_TYPE_UINT16: READ_LOOP(uint16_t, AS_F64); break;
    case PL_TYPE_UINT32: READ_LOOP(uint32_t, AS_F64); break;
    case PL_TYPE_UINT64: READ_LOOP(uint64_t, AS_F64); break;
    case PL_TYPE_FLOAT32: READ_LOOP(float, AS_F64); break;
    case PL_TYPE_FLOAT64: memcpy(dst, pl_array_values_ptr(a), (size_t)n * 8); break;
    case PL_TYPE_DECIMAL128: {
        const uint8_t *p = a->values->data + a->offset * 16;
        for (int64_t i = 0; i < n; i++) dst[i] = dec_to_f64(p + i * 16, a->type->scale);
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = 0;
    }
}

void pl_fn_read_i64(const pl_array *a, int64_t *dst) {
    int64_t n = a->length;
    switch (a->type->id) {
    case PL_TYPE_INT8: READ_LOOP(int8_t, AS_I64); break;
    case PL_TYPE_INT16: READ_LOOP(int16_t, AS_I64); break;
    case PL_TYPE_INT32: case PL_TYPE_DATE32: READ_LOOP(int32_t, AS_I64); break;
    case PL_TYPE_INT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        memcpy(dst, pl_array_values_ptr(a), (size_t)n * 8);
        break;
    case PL_TYPE_UINT8: READ_LOOP(uint8_t, AS_I64); break;
    case PL_TYPE_UINT16: READ_LOOP(uint16_t, AS_I64); break;
    case PL_TYPE_UINT32: READ_LOOP(uint32_t, AS_I64); break;
    case PL_TYPE_UINT64: READ_LOOP(uint64_t, AS_I64); break;
    case PL_TYPE_FLOAT32: READ_LOOP(float, AS_I64); break;
    case PL_TYPE_FLOAT64: READ_LOOP(double, AS_I64); break;
    default:
        for (int64_t i = 0; i < n; i++) dst[i] = 0;
    }
}

double pl_fn_scalar_f64(const pl_value *v) {
    switch (v->type->id) {
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
        return (double)v->v.u;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: return v->v.f;
    case PL_TYPE_DECIMAL128: {
        uint8_t tmp[16];
        memcpy(tmp, &v->v.dec.lo, 8);
        memcpy(tmp + 8, &v->v.dec.hi, 8);
        return dec_to_f64(tmp, v->type->scale);
    }
    default: return (double)v->v.i;
    }
}

int64_t pl_fn_scalar_i64(const pl_value *v) {
    switch (v->type->id) {
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
        return (int64_t)v->v.u;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: return (int64_t)v->v.f;
    default: return v->v.i;
    }
}

/* ---------------------------------------------------------------- string builder */

pl_status pl_fn_strb_init(pl_fn_strb *b, int64_t n_rows, int64_t est_bytes, pl_error *err) {
    memset(b, 0, sizeof *b);
    b->n_rows = n_rows;
    PL_TRY(pl_fn_new_values(n_rows + 1, 4, &b->offsets, err));
    ((int32_t *)(void *)b->offsets->data)[0] = 0;
    pl_status st = pl_buf_new(est_bytes > 0 ? est_bytes : 64, &b->data, err);
    if (st) {
        pl_buf_release(b->offsets);
        b->offsets = NULL;
    }
    return st;
}

pl_status pl_fn_strb_reserve(pl_fn_strb *b, int64_t n, uint8_t **dst, pl_error *err) {
    if (n < 0) PL_FAIL(err, PL_ERR_INTERNAL, "string builder: negative length %lld", (long long)n);
    if (n > PL_MAX_VARLEN_BYTES - b->len) /* b->len <= PL_MAX_VARLEN_BYTES: no overflow */
        PL_FAIL(err, PL_ERR_LIMIT, "string result of %.0f bytes in one batch is too large (the limit is 2 GiB)",
                (double)b->len + (double)n);
    if (b->len + n > b->data->capacity) {
        int64_t cap = b->data->capacity * 2;
        if (cap < b->len + n) cap = b->len + n;
        PL_TRY(pl_buf_reserve(b->data, cap, err));
    }
    *dst = b->data->data + b->len;
    return PL_OK;
}

pl_status pl_fn_strb_append(pl_fn_strb *b, const void *bytes, int64_t n, pl_error *err) {
    uint8_t *dst;
    PL_TRY(pl_fn_strb_reserve(b, n, &dst, err));
    if (n > 0) memcpy(dst, bytes, (size_t)n);
    b->len += n;
    return PL_OK;
}

pl_status pl_fn_strb_append_repeat(pl_fn_strb *b, const void *bytes, int64_t n, int64_t times,
                                   pl_error *err) {
    if (n <= 0 || times <= 0) return PL_OK;
    int64_t total;
    if (__builtin_mul_overflow(n, times, &total) || total > PL_MAX_VARLEN_BYTES - b->len)
        PL_FAIL(err, PL_ERR_LIMIT, "string result of %.0f bytes in one batch is too large (the limit is 2 GiB)",
                (double)b->len + (double)n * (double)times);
    uint8_t *dst;
    PL_TRY(pl_fn_strb_reserve(b, total, &dst, err));
    memcpy(dst, bytes, (size_t)n);
    /* doubling: each copy reads the bytes already written */
    for (int64_t done = n; done < total;) {
        int64_t k = PL_MIN(done, total - done);
        memcpy(dst + done, dst, (size_t)k);
        done += k;
    }
    b->len += total;
    return PL_OK;
}

pl_status pl_fn_strb_next(pl_fn_strb *b, pl_error *err) {
    PL_UNUSED(err);
    if (b->validity) pl_bit_set(b->validity->data, b->row);
    b->row++;
    ((int32_t *)(void *)b->offsets->data)[b->row] = (int32_t)b->len;
    return PL_OK;
}

pl_status pl_fn_strb_null(pl_fn_strb *b, pl_error *err) {
    if (!b->validity) {
        PL_TRY(pl_buf_new_zeroed(bytes_for_bits(b->n_rows) > 0 ? bytes_for_bits(b->n_rows) : 1,
                                 &b->validity, err));
        for (int64_t i = 0; i < b->row; i++) pl_bit_set(b->validity->data, i);
    }
    b->null_count++;
    b->row++;
    ((int32_t *)(void *)b->offsets->data)[b->row] = (int32_t)b->len;
    return PL_OK;
}

pl_status pl_fn_strb_finish(pl_fn_strb *b, pl_type *type, pl_datum *out, pl_error *err) {
    b->data->size = b->len;
    pl_status st = pl_fn_finish(out, type, b->n_rows, b->validity, b->null_count, b->offsets,
                                b->data, err);
    b->validity = b->offsets = b->data = NULL;
    return st;
}

void pl_fn_strb_reset(pl_fn_strb *b) {
    pl_buf_release(b->offsets);
    pl_buf_release(b->data);
    pl_buf_release(b->validity);
    memset(b, 0, sizeof *b);
}

int64_t pl_fn_utf8_count(const uint8_t *s, int64_t n) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += (s[i] & 0xC0) != 0x80;
    return c;
}

int64_t pl_fn_unit_per_sec(pl_time_unit unit) {
    switch (unit) {
    case PL_UNIT_S: return 1;
    case PL_UNIT_MS: return 1000;
    case PL_UNIT_US: return 1000000;
    default: return 1000000000;
    }
}
