/* hash.c - hashing of array values for hash tables, SQL grouping equality and sort order. */
#include <math.h>
#include <string.h>

#include "compute/compute.h"

#define NULL_HASH 0x5bd1e9955bd1e995ULL

static inline uint64_t hash_f64(double d) {
    if (d == 0) d = 0; /* -0.0 -> 0.0 */
    if (isnan(d)) return 0x7ff8000000000000ULL;
    int64_t i = (int64_t)d;
    if ((double)i == d) return pl_hash_u64((uint64_t)i); /* integral floats hash like ints */
    uint64_t u;
    memcpy(&u, &d, 8);
    return pl_hash_u64(u ^ 0xa0761d6478bd642fULL);
}

/* Hash of value i (logical index) of a plain (non-dictionary) array, ignoring validity. */
static uint64_t hash_one(pl_array *a, int64_t i) {
    const uint8_t *v = a->values ? a->values->data : NULL;
    int64_t j = a->offset + i;
    switch (a->type->id) {
    case PL_TYPE_BOOL: return pl_hash_u64(pl_bit_get(v, j));
    case PL_TYPE_INT8: return pl_hash_u64((uint64_t)(int64_t)((const int8_t *)v)[j]);
    case PL_TYPE_INT16: return pl_hash_u64((uint64_t)(int64_t)((const int16_t *)(const void *)v)[j]);
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: return pl_hash_u64((uint64_t)(int64_t)((const int32_t *)(const void *)v)[j]);
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: return pl_hash_u64((uint64_t)((const int64_t *)(const void *)v)[j]);
    case PL_TYPE_UINT8: return pl_hash_u64(v[j]);
    case PL_TYPE_UINT16: return pl_hash_u64(((const uint16_t *)(const void *)v)[j]);
    case PL_TYPE_UINT32: return pl_hash_u64(((const uint32_t *)(const void *)v)[j]);
    case PL_TYPE_UINT64: return pl_hash_u64(((const uint64_t *)(const void *)v)[j]);
    case PL_TYPE_FLOAT32: return hash_f64(((const float *)(const void *)v)[j]);
    case PL_TYPE_FLOAT64: return hash_f64(((const double *)(const void *)v)[j]);
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t len;
        const uint8_t *p = pl_array_bytes(a, i, &len);
        return pl_hash_bytes(p, len);
    }
    case PL_TYPE_STRUCT: {
        uint64_t h = 0x1234567;
        for (int32_t c = 0; c < a->n_children; c++) {
            pl_array *ch = a->children[c];
            bool ok = pl_array_is_valid(ch, j);
            h = pl_hash_combine(h, ok ? hash_one(ch, j) : NULL_HASH);
        }
        return h;
    }
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *o = pl_array_offsets(a);
        pl_array *ch = a->children[0];
        uint64_t h = 0x7654321;
        for (int32_t k = o[i]; k < o[i + 1]; k++)
            h = pl_hash_combine(h, pl_array_is_valid(ch, k) ? hash_one(ch, k) : NULL_HASH);
        return h;
    }
    case PL_TYPE_INTERVAL: { /* equal lengths hash alike (1 day = 24 hours) */
        __int128 k = pl_interval_ns(v + j * 16);
        return pl_hash_bytes((const uint8_t *)&k, 16);
    }
    default: {
        int64_t w = a->type->byte_width;
        return pl_hash_bytes(v + j * w, w);
    }
    }
}

#define HASH_LOOP(T)                                                                               \
    do {                                                                                           \
        const T *p = (const T *)(const void *)a->values->data + a->offset;                         \
        if (combine)                                                                               \
            for (int64_t i = 0; i < n; i++)                                                        \
                hashes[i] = pl_hash_combine(hashes[i], pl_hash_u64((uint64_t)(int64_t)p[i]));      \
        else                                                                                       \
            for (int64_t i = 0; i < n; i++) hashes[i] = pl_hash_u64((uint64_t)(int64_t)p[i]);      \
    } while (0)

void pl_hash_array(pl_array *a, uint64_t *hashes, bool combine) {
    int64_t n = a->length;
    pl_type_id id = a->type->id;
    bool nulls = id == PL_TYPE_NA || (a->validity && pl_array_null_count(a) > 0);
    if (id == PL_TYPE_DICTIONARY) {
        /* hash each dictionary value once, then look up per row */
        pl_array *d = a->dictionary;
        uint64_t *dh = pl_malloc(sizeof(uint64_t) * (size_t)PL_MAX(d->length, 1));
        if (dh) {
            for (int64_t k = 0; k < d->length; k++)
                dh[k] = pl_array_is_valid(d, k) ? hash_one(d, k) : NULL_HASH;
            for (int64_t i = 0; i < n; i++) {
                uint64_t h = pl_array_is_valid(a, i) ? dh[pl_dict_index(a, i)] : NULL_HASH;
                hashes[i] = combine ? pl_hash_combine(hashes[i], h) : h;
            }
            pl_free(dh);
            return;
        }
        for (int64_t i = 0; i < n; i++) { /* out of memory: slow path, same result */
            uint64_t h = NULL_HASH;
            if (pl_array_is_valid(a, i)) {
                int64_t k = pl_dict_index(a, i);
                if (pl_array_is_valid(d, k)) h = hash_one(d, k);
            }
            hashes[i] = combine ? pl_hash_combine(hashes[i], h) : h;
        }
        return;
    }
    if (!nulls) {
        switch (id) {
        case PL_TYPE_INT32:
        case PL_TYPE_DATE32: HASH_LOOP(int32_t); return;
        case PL_TYPE_INT64:
        case PL_TYPE_TIME64:
        case PL_TYPE_TIMESTAMP: HASH_LOOP(int64_t); return;
        default: break;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        uint64_t h = pl_array_is_valid(a, i) ? hash_one(a, i) : NULL_HASH;
        hashes[i] = combine ? pl_hash_combine(hashes[i], h) : h;
    }
}

/* Resolves dictionary arrays to (values array, index); false when the row is NULL. */
static bool resolve(pl_array **a, int64_t *i) {
    if (!pl_array_is_valid(*a, *i)) return false;
    if ((*a)->type->id == PL_TYPE_DICTIONARY) {
        *i = pl_dict_index(*a, *i);
        *a = (*a)->dictionary;
        return pl_array_is_valid(*a, *i);
    }
    return true;
}

static int cmp_f64(double x, double y) {
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
    return (x > y) - (x < y);
}

/* Compares two valid plain values of the same logical type. */
static int cmp_valid(pl_array *a, int64_t i, pl_array *b, int64_t j, bool nulls_first) {
    const uint8_t *va = a->values ? a->values->data : NULL, *vb = b->values ? b->values->data : NULL;
    int64_t x = a->offset + i, y = b->offset + j;
    switch (a->type->id) {
    case PL_TYPE_BOOL: return (int)pl_bit_get(va, x) - (int)pl_bit_get(vb, y);
#define CMPT(T)                                                                                    \
    {                                                                                              \
        T p = ((const T *)(const void *)va)[x], q = ((const T *)(const void *)vb)[y];              \
        return (p > q) - (p < q);                                                                  \
    }
    case PL_TYPE_INT8: CMPT(int8_t)
    case PL_TYPE_INT16: CMPT(int16_t)
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: CMPT(int32_t)
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: CMPT(int64_t)
    case PL_TYPE_UINT8: CMPT(uint8_t)
    case PL_TYPE_UINT16: CMPT(uint16_t)
    case PL_TYPE_UINT32: CMPT(uint32_t)
    case PL_TYPE_UINT64: CMPT(uint64_t)
#undef CMPT
    case PL_TYPE_FLOAT32:
        return cmp_f64(((const float *)(const void *)va)[x], ((const float *)(const void *)vb)[y]);
    case PL_TYPE_FLOAT64:
        return cmp_f64(((const double *)(const void *)va)[x], ((const double *)(const void *)vb)[y]);
    case PL_TYPE_DECIMAL128: {
        const uint8_t *p = va + x * 16, *q = vb + y * 16;
        int64_t ph = (int64_t)pl_load_u64le(p + 8), qh = (int64_t)pl_load_u64le(q + 8);
        if (ph != qh) return ph < qh ? -1 : 1;
        uint64_t pl = pl_load_u64le(p), ql = pl_load_u64le(q);
        return (pl > ql) - (pl < ql);
    }
    case PL_TYPE_INTERVAL: { /* by length (1 month = 30 days, 1 day = 24 hours), like DuckDB */
        __int128 p = pl_interval_ns(va + x * 16), q = pl_interval_ns(vb + y * 16);
        return (p > q) - (p < q);
    }
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t la, lb;
        const uint8_t *p = pl_array_bytes(a, i, &la), *q = pl_array_bytes(b, j, &lb);
        int r = memcmp(p, q, (size_t)PL_MIN(la, lb));
        if (r) return r < 0 ? -1 : 1;
        return (la > lb) - (la < lb);
    }
    case PL_TYPE_FIXED_BINARY: {
        int r = memcmp(va + x * a->type->byte_width, vb + y * b->type->byte_width,
                       (size_t)a->type->byte_width);
        return (r > 0) - (r < 0);
    }
    case PL_TYPE_STRUCT:
        for (int32_t c = 0; c < a->n_children; c++) {
            int r = pl_array_value_compare(a->children[c], x, b->children[c], y, nulls_first);
            if (r) return r;
        }
        return 0;
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        int32_t na = oa[i + 1] - oa[i], nb = ob[j + 1] - ob[j];
        for (int32_t k = 0; k < PL_MIN(na, nb); k++) {
            int r = pl_array_value_compare(a->children[0], oa[i] + k, b->children[0], ob[j] + k,
                                           nulls_first);
            if (r) return r;
        }
        return (na > nb) - (na < nb);
    }
    default: return 0;
    }
}

int pl_array_value_compare(pl_array *a, int64_t i, pl_array *b, int64_t j, bool nulls_first) {
    bool va = resolve(&a, &i), vb = resolve(&b, &j);
    if (!va || !vb) {
        if (va == vb) return 0;
        return (!va) == nulls_first ? -1 : 1;
    }
    return cmp_valid(a, i, b, j, nulls_first);
}

uint64_t pl_array_value_hash(pl_array *a, int64_t i) {
    if (a->type->id == PL_TYPE_NA) return NULL_HASH;
    return resolve(&a, &i) ? hash_one(a, i) : NULL_HASH;
}

bool pl_array_value_equal(pl_array *a, int64_t i, pl_array *b, int64_t j) {
    bool va = resolve(&a, &i), vb = resolve(&b, &j);
    if (!va || !vb) return va == vb;
    return cmp_valid(a, i, b, j, false) == 0;
}
