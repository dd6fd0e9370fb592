/* sort_key.c - order-preserving byte keys of values (pl_array_sort_key): lists, structs and
 * maps become BINARY keys whose byte order (memcmp, shorter prefix first) is DuckDB's order of
 * the values and whose equality is their grouping equality, so the operators that sort, group
 * or join by plain binary keys also take nested values (the planner wraps such keys in the
 * `__sortkey` function; src/plan/physical.c).
 *
 * Encoding of a valid value (a NULL value gives a NULL key; inside nested values):
 *   integers, dates, times, timestamps  8 bytes big-endian, sign bit flipped
 *   floats                              8 bytes of the double's order key: -0.0 as 0.0, every
 *                                       NaN alike and largest
 *   booleans                            1 byte
 *   decimals                            16 bytes big-endian, sign bit flipped
 *   intervals                           their length in ns (1 month = 30 days), 16 bytes as
 *                                       decimals (equal lengths are equal, like DuckDB)
 *   strings, blobs                      the bytes with 0x00 written 0x00 0xff, then 0x00 0x00
 *   fixed-size binary                   the bytes
 *   lists, maps                         per element 0x01 + its key, or 0x02 for a NULL
 *                                       element, then 0x00 (shorter lists first, NULL
 *                                       elements after every value)
 *   structs                             per field 0x01 + its key, or 0x02 for NULL
 * Dictionary arrays encode their values. The invariant: for two values x, y of one type,
 * memcmp order of their keys = pl_array_value_compare(x, y) with NULL elements last. */
#include <math.h>
#include <string.h>

#include "compute/compute.h"

typedef struct kbuf {
    uint8_t *p;
    int64_t len, cap;
    bool oom, too_long;
} kbuf;

static void put(kbuf *b, const void *src, int64_t n) {
    if (b->oom || b->too_long) return;
    if (b->len + n > PL_MAX_VARLEN_BYTES) {
        b->too_long = true;
        return;
    }
    if (b->len + n > b->cap) {
        int64_t cap = PL_MAX(b->cap * 2, b->len + n + 64);
        uint8_t *q = pl_realloc(b->p, (size_t)cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, (size_t)n);
    b->len += n;
}

static void put_byte(kbuf *b, uint8_t v) { put(b, &v, 1); }

static void put_u64be(kbuf *b, uint64_t v) {
    uint8_t x[8];
    for (int k = 0; k < 8; k++) x[k] = (uint8_t)(v >> (56 - 8 * k));
    put(b, x, 8);
}

static void put_i128(kbuf *b, __int128 v) {
    unsigned __int128 u = (unsigned __int128)v ^ ((unsigned __int128)1 << 127);
    put_u64be(b, (uint64_t)(u >> 64));
    put_u64be(b, (uint64_t)u);
}

static void put_f64(kbuf *b, double d) {
    uint64_t u;
    if (isnan(d)) {
        put_u64be(b, ~0ULL);
        return;
    }
    if (d == 0) d = 0.0; /* -0.0 */
    memcpy(&u, &d, 8);
    put_u64be(b, (u >> 63) ? ~u : u ^ (1ULL << 63));
}

static void encode(kbuf *b, const pl_array *a, int64_t i);

/* An element of a nested value: its marker, then its key. */
static void encode_elem(kbuf *b, const pl_array *a, int64_t i) {
    bool ok = pl_array_is_valid(a, i);
    if (ok && a->type->id == PL_TYPE_DICTIONARY) ok = pl_array_is_valid(a->dictionary, pl_dict_index(a, i));
    if (!ok) {
        put_byte(b, 2);
        return;
    }
    put_byte(b, 1);
    encode(b, a, i);
}

/* The key of valid value i of a (logical row, before a->offset). */
static void encode(kbuf *b, const pl_array *a, int64_t i) {
    if (a->type->id == PL_TYPE_DICTIONARY) {
        encode(b, a->dictionary, pl_dict_index(a, i));
        return;
    }
    const uint8_t *v = a->values ? a->values->data : NULL;
    int64_t j = a->offset + i;
    switch (a->type->id) {
    case PL_TYPE_NA: return;
    case PL_TYPE_BOOL: put_byte(b, pl_bit_get(v, j)); return;
#define SIGNED(T) put_u64be(b, (uint64_t)(int64_t)((const T *)(const void *)v)[j] ^ (1ULL << 63)); return
    case PL_TYPE_INT8: SIGNED(int8_t);
    case PL_TYPE_INT16: SIGNED(int16_t);
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: SIGNED(int32_t);
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: SIGNED(int64_t);
#undef SIGNED
    case PL_TYPE_UINT8: put_u64be(b, v[j]); return;
    case PL_TYPE_UINT16: put_u64be(b, ((const uint16_t *)(const void *)v)[j]); return;
    case PL_TYPE_UINT32: put_u64be(b, ((const uint32_t *)(const void *)v)[j]); return;
    case PL_TYPE_UINT64: put_u64be(b, ((const uint64_t *)(const void *)v)[j]); return;
    case PL_TYPE_FLOAT32: put_f64(b, ((const float *)(const void *)v)[j]); return;
    case PL_TYPE_FLOAT64: put_f64(b, ((const double *)(const void *)v)[j]); return;
    case PL_TYPE_DECIMAL128: {
        const uint8_t *p = v + j * 16;
        __int128 x = (__int128)(((unsigned __int128)pl_load_u64le(p + 8) << 64) | pl_load_u64le(p));
        put_i128(b, x);
        return;
    }
    case PL_TYPE_INTERVAL: put_i128(b, pl_interval_ns(v + j * 16)); return;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t len;
        const uint8_t *p = pl_array_bytes(a, i, &len);
        int32_t from = 0;
        for (int32_t k = 0; k < len; k++) {
            if (p[k]) continue;
            put(b, p + from, k + 1 - from);
            put_byte(b, 0xff);
            from = k + 1;
        }
        put(b, p + from, len - from);
        put_byte(b, 0);
        put_byte(b, 0);
        return;
    }
    case PL_TYPE_FIXED_BINARY: put(b, v + j * a->type->byte_width, a->type->byte_width); return;
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *o = pl_array_offsets(a);
        for (int32_t k = o[i]; k < o[i + 1]; k++) encode_elem(b, a->children[0], k);
        put_byte(b, 0);
        return;
    }
    case PL_TYPE_STRUCT:
        for (int32_t c = 0; c < a->n_children; c++) encode_elem(b, a->children[c], j);
        return;
    default: return;
    }
}

pl_status pl_array_sort_key(pl_array *a, pl_array **out, pl_error *err) {
    int64_t n = a->length;
    pl_buf *offs = NULL, *data = NULL, *validity = NULL;
    kbuf b = {0};
    pl_status st = pl_buf_new_zeroed((n + 1) * 4, &offs, err);
    int64_t n_null = 0;
    if (!st) {
        int32_t *o = (int32_t *)(void *)offs->data;
        for (int64_t i = 0; i < n; i++) {
            bool ok = pl_array_is_valid(a, i);
            if (ok && a->type->id == PL_TYPE_DICTIONARY)
                ok = pl_array_is_valid(a->dictionary, pl_dict_index(a, i));
            if (ok) {
                encode(&b, a, i);
            } else {
                if (!validity) {
                    st = pl_buf_new_zeroed((n + 7) / 8, &validity, err);
                    if (st) break;
                    memset(validity->data, 0xff, (size_t)validity->size);
                }
                pl_bit_clear(validity->data, i);
                n_null++;
            }
            if (b.oom || b.too_long) break;
            o[i + 1] = (int32_t)b.len;
        }
    }
    if (!st && b.oom) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory making sort keys");
    if (!st && b.too_long)
        st = pl_error_set(err, PL_ERR_LIMIT, "sort keys of nested values exceed %lld bytes in one batch",
                          (long long)PL_MAX_VARLEN_BYTES);
    if (!st) st = pl_buf_new(PL_MAX(b.len, 1), &data, err);
    if (!st) {
        if (b.len) memcpy(data->data, b.p, (size_t)b.len);
        data->size = b.len;
    }
    pl_free(b.p);
    if (st) {
        pl_buf_release(offs);
        pl_buf_release(data);
        pl_buf_release(validity);
        return st;
    }
    return pl_array_new(pl_type_simple(PL_TYPE_BINARY), n, n_null, validity, offs, data, 0, NULL,
                        NULL, out, err);
}
