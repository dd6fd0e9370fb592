/* table.c - the group table of hash aggregation: key hashing, the open addressing slot array,
 * key storage in Arrow layout and the vectorised group-id assignment of a morsel (with fast
 * paths for one dictionary key, one fixed-width key and one string key).
 *
 * Invariants: slots hold (hash >> 32) << 32 | (gid + 1), 0 = empty; at most half the slots are
 * used; hashes[g] is the full hash of group g's key tuple; key columns hold exactly n_groups
 * values (string offsets n_groups + 1). Hashes of equal keys are equal whatever the morsel or
 * table, so tables merge by probing one table's key columns into another. */
#include <math.h>

#include "exec/agg/agg_int.h"

#define H_NULL 0x5bd1e9955bd1e995ULL
#define H_NAN 0x7ff8dead7ff8beefULL
#define INIT_SLOTS 256

/* ---------------------------------------------------------------- hashing */

static inline uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint64_t rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Equality of two byte strings of length len (short ones without a call). */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, int64_t len) {
    if (len <= 16) {
        if (len >= 8) return rd64(a) == rd64(b) && rd64(a + len - 8) == rd64(b + len - 8);
        if (len >= 4) return rd32(a) == rd32(b) && rd32(a + len - 4) == rd32(b + len - 4);
        for (int64_t i = 0; i < len; i++)
            if (a[i] != b[i]) return false;
        return true;
    }
    return memcmp(a, b, (size_t)len) == 0;
}

/* Bytes hash: short strings with overlapping word loads (never reads outside [p, p+len)). */
static inline uint64_t hash_bytes(const uint8_t *p, int64_t len) {
    const uint64_t k0 = 0x9e3779b97f4a7c15ULL, k1 = 0xbf58476d1ce4e5b9ULL;
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 8) {
            a = rd64(p);
            b = rd64(p + len - 8);
        } else if (len >= 4) {
            a = rd32(p);
            b = rd32(p + len - 4);
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        uint64_t h = k1 ^ (uint64_t)len;
        int64_t i = 0;
        for (; i + 16 <= len; i += 16) {
            h = (h ^ (rd64(p + i) * k0)) * k1;
            h = ((h << 29) | (h >> 35)) ^ rd64(p + i + 8);
        }
        a = h ^ rd64(p + len - 16);
        b = rd64(p + len - 8);
    }
    return pl_hash_u64((a * k0) ^ ((b + (uint64_t)len) * k1) ^ ((uint64_t)len << 56));
}

static inline uint64_t hash_interval(const uint8_t *p) {
    __int128 key = pl_interval_ns(p);
    return hash_bytes((const uint8_t *)&key, 16);
}

static inline uint64_t hash_f64(double x) {
    if (x == 0) return pl_hash_u64(0);
    if (isnan(x)) return H_NAN;
    uint64_t b;
    memcpy(&b, &x, 8);
    return pl_hash_u64(b);
}

#define HLOOP(EXPR)                                                                                \
    do {                                                                                           \
        for (int64_t k = 0; k < n; k++) {                                                          \
            int64_t r = sel ? sel[k] : k;                                                          \
            (void)r;                                                                               \
            uint64_t hc = (EXPR);                                                                  \
            h[k] = combine ? pl_hash_combine(h[k], hc) : hc;                                       \
        }                                                                                          \
    } while (0)
#define HTYPED(T, CONV)                                                                            \
    do {                                                                                           \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        HLOOP(CONV(v[r]));                                                                         \
    } while (0)
#define CONV_S(x) pl_hash_u64((uint64_t)(int64_t)(x))
#define CONV_F(x) hash_f64((double)(x))

void agg_hash_column(const pl_array *a, int64_t n, const int32_t *sel, uint64_t *h, bool combine) {
    switch (a->type->id) {
    case PL_TYPE_NA: HLOOP(H_NULL); return;
    case PL_TYPE_BOOL: {
        const uint8_t *bits = a->values->data;
        int64_t off = a->offset;
        HLOOP(pl_hash_u64(pl_bit_get(bits, off + r)));
        break;
    }
    case PL_TYPE_INT8: HTYPED(int8_t, CONV_S); break;
    case PL_TYPE_INT16: HTYPED(int16_t, CONV_S); break;
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: HTYPED(int32_t, CONV_S); break;
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: HTYPED(int64_t, CONV_S); break;
    case PL_TYPE_UINT8: HTYPED(uint8_t, CONV_S); break;
    case PL_TYPE_UINT16: HTYPED(uint16_t, CONV_S); break;
    case PL_TYPE_UINT32: HTYPED(uint32_t, CONV_S); break;
    case PL_TYPE_UINT64: HTYPED(uint64_t, CONV_S); break;
    case PL_TYPE_FLOAT32: HTYPED(float, CONV_F); break;
    case PL_TYPE_FLOAT64: HTYPED(double, CONV_F); break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        const int32_t *o = pl_array_offsets(a);
        const uint8_t *d = a->data ? a->data->data : NULL;
        HLOOP(hash_bytes(d + o[r], o[r + 1] - o[r]));
        break;
    }
    case PL_TYPE_INTERVAL: { /* by length: 1 day and 24 hours are one group, like DuckDB */
        const uint8_t *v = pl_array_values_ptr(a);
        HLOOP(hash_interval(v + r * 16));
        break;
    }
    default: { /* DECIMAL128, FIXED_BINARY */
        int32_t w = a->type->byte_width;
        const uint8_t *v = pl_array_values_ptr(a);
        HLOOP(hash_bytes(v + r * w, w));
        break;
    }
    }
    if (a->validity && a->type->id != PL_TYPE_NA && pl_array_null_count((pl_array *)a) > 0) {
        const uint8_t *bits = a->validity->data;
        for (int64_t k = 0; k < n; k++) {
            int64_t r = sel ? sel[k] : k;
            if (!pl_bit_get(bits, a->offset + r)) {
                /* recompute: the combine above mixed in a value hash */
                h[k] = H_NULL; /* fixed below for combine */
            }
        }
    }
}

/* Index of row r of a DICTIONARY array (checked against the dictionary by the caller). */
static inline int64_t dict_index(const pl_array *a, int64_t r) {
    const void *p = pl_array_values_ptr(a);
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return ((const int8_t *)p)[r];
    case PL_TYPE_UINT8: return ((const uint8_t *)p)[r];
    case PL_TYPE_INT16: return ((const int16_t *)p)[r];
    case PL_TYPE_UINT16: return ((const uint16_t *)p)[r];
    case PL_TYPE_INT32: return ((const int32_t *)p)[r];
    case PL_TYPE_UINT32: return ((const uint32_t *)p)[r];
    case PL_TYPE_UINT64: return (int64_t)((const uint64_t *)p)[r];
    default: return ((const int64_t *)p)[r];
    }
}

/* A dictionary row as (values array, row); NULL index rows keep a and report invalid. */
static inline bool resolve_row(const pl_array **a, int64_t *r) {
    if ((*a)->type->id != PL_TYPE_DICTIONARY) return pl_array_is_valid(*a, *r);
    if (!pl_array_is_valid(*a, *r)) return false;
    int64_t i = dict_index(*a, *r);
    *a = (*a)->dictionary;
    *r = i;
    return pl_array_is_valid(*a, i);
}

/* Hashes of a DICTIONARY column's rows: its values' hashes (the dictionary is hashed once when
 * it is not larger than the morsel), NULL index -> H_NULL. */
static void hash_dict(const pl_array *a, int64_t n, const int32_t *sel, uint64_t *out) {
    const pl_array *d = a->dictionary;
    bool nulls = a->validity && pl_array_null_count((pl_array *)a) > 0;
    uint64_t *dh = d->length <= n ? pl_malloc((size_t)PL_MAX(d->length, 1) * 8) : NULL;
    if (dh) {
        agg_hash_column(d, d->length, NULL, dh, false);
        for (int64_t k = 0; k < n; k++) {
            int64_t r = sel ? sel[k] : k;
            out[k] = nulls && !pl_bit_get(a->validity->data, a->offset + r) ? H_NULL
                                                                          : dh[dict_index(a, r)];
        }
        pl_free(dh);
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t r = sel ? sel[k] : k;
        if (nulls && !pl_bit_get(a->validity->data, a->offset + r)) {
            out[k] = H_NULL;
            continue;
        }
        int32_t i = (int32_t)dict_index(a, r);
        agg_hash_column(d, 1, &i, &out[k], false);
    }
}

/* Hashes key columns of rows into h[k] (NULL keys hash to H_NULL per column). */
static void hash_keys(int32_t n_cols, pl_array *const *cols, int64_t n, const int32_t *sel,
                      uint64_t *h, uint64_t *tmp) {
    for (int32_t c = 0; c < n_cols; c++) {
        pl_array *a = cols[c];
        if (a->type->id == PL_TYPE_DICTIONARY) {
            hash_dict(a, n, sel, c == 0 ? h : tmp);
            if (c > 0)
                for (int64_t k = 0; k < n; k++) h[k] = pl_hash_combine(h[k], tmp[k]);
            continue;
        }
        bool nulls = a->type->id == PL_TYPE_NA ||
                     (a->validity && pl_array_null_count(a) > 0);
        if (c == 0) {
            agg_hash_column(a, n, sel, h, false);
            continue;
        }
        if (!nulls) {
            agg_hash_column(a, n, sel, h, true);
            continue;
        }
        agg_hash_column(a, n, sel, tmp, false); /* H_NULL at null rows */
        for (int64_t k = 0; k < n; k++) h[k] = pl_hash_combine(h[k], tmp[k]);
    }
}

/* ---------------------------------------------------------------- keys */

static agg_kc keycol_kind(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_NA: return KC_NA;
    case PL_TYPE_BOOL: return KC_BOOL;
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64: return KC_FLOAT;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: return KC_STR;
    case PL_TYPE_INTERVAL: return KC_IVL;
    default: return KC_FIXED;
    }
}

static inline bool kc_valid(const agg_keycol *kc, int64_t g) {
    return kc->kind != KC_NA && (!kc->valid || pl_bit_get(kc->valid->data, g));
}

/* Row r of a equals key g of kc (same logical type; NULL = NULL; NaN = NaN; -0.0 = 0.0). */
static inline bool key_eq(const agg_keycol *kc, int64_t g, const pl_array *a, int64_t r) {
    bool av = resolve_row(&a, &r), kv = kc_valid(kc, g);
    if (av != kv) return false;
    if (!av) return true;
    switch (kc->kind) {
    case KC_NA: return true;
    case KC_BOOL:
        return pl_bit_get(a->values->data, a->offset + r) == pl_bit_get(kc->vals->data, g);
    case KC_FLOAT: {
        double x, y;
        if (kc->width == 4) {
            x = ((const float *)pl_array_values_ptr(a))[r];
            y = ((const float *)(void *)kc->vals->data)[g];
        } else {
            x = ((const double *)pl_array_values_ptr(a))[r];
            y = ((const double *)(void *)kc->vals->data)[g];
        }
        return x == y || (isnan(x) && isnan(y));
    }
    case KC_FIXED: {
        int32_t w = kc->width;
        const uint8_t *p = (const uint8_t *)pl_array_values_ptr(a) + r * w;
        const uint8_t *q = kc->vals->data + g * w;
        switch (w) {
        case 1: return *p == *q;
        case 2: return memcmp(p, q, 2) == 0;
        case 4: return rd32(p) == rd32(q);
        case 8: return rd64(p) == rd64(q);
        case 16: return rd64(p) == rd64(q) && rd64(p + 8) == rd64(q + 8);
        default: return memcmp(p, q, (size_t)w) == 0;
        }
    }
    case KC_IVL:
        return pl_interval_ns((const uint8_t *)pl_array_values_ptr(a) + r * 16) ==
               pl_interval_ns(kc->vals->data + g * 16);
    case KC_STR: {
        const int32_t *o = pl_array_offsets(a);
        const int32_t *ko = (const int32_t *)(void *)kc->vals->data;
        int64_t len = o[r + 1] - o[r];
        if (len != ko[g + 1] - ko[g]) return false;
        return len == 0 || bytes_eq(a->data->data + o[r], kc->data->data + ko[g], len);
    }
    }
    return false;
}

pl_status agg_charge(agg_table *t, int64_t bytes, pl_error *err) {
    PL_TRY(pl_exec_charge(t->sink->ctx, bytes, err));
    t->charged += bytes;
    return PL_OK;
}

static pl_status keycol_append(agg_table *t, agg_keycol *kc, int64_t g, const pl_array *a,
                               int64_t r, pl_error *err) {
    bool valid = resolve_row(&a, &r);
    if (!valid && kc->kind != KC_NA && !kc->valid) {
        int64_t bytes = (t->grp_cap + 7) / 8;
        PL_TRY(pl_buf_new(bytes, &kc->valid, err));
        memset(kc->valid->data, 0xff, (size_t)bytes);
        kc->valid->size = bytes;
    }
    if (kc->valid) pl_bit_put(kc->valid->data, g, valid);
    switch (kc->kind) {
    case KC_NA: break;
    case KC_BOOL:
        pl_bit_put(kc->vals->data, g, valid && pl_bit_get(a->values->data, a->offset + r));
        kc->vals->size = (g + 1 + 7) / 8;
        break;
    case KC_FIXED:
    case KC_IVL:
    case KC_FLOAT: {
        int32_t w = kc->width;
        uint8_t *q = kc->vals->data + g * w;
        const uint8_t *p = (const uint8_t *)pl_array_values_ptr(a) + r * w;
        switch (valid ? w : 0) {
        case 0: memset(q, 0, (size_t)w); break;
        case 1: *q = *p; break;
        case 2: memcpy(q, p, 2); break;
        case 4: memcpy(q, p, 4); break;
        case 8: memcpy(q, p, 8); break;
        case 16: memcpy(q, p, 16); break;
        default: memcpy(q, p, (size_t)w); break;
        }
        kc->vals->size = (g + 1) * w;
        break;
    }
    case KC_STR: {
        int32_t *ko = (int32_t *)(void *)kc->vals->data;
        int64_t len = 0;
        if (valid) {
            const int32_t *o = pl_array_offsets(a);
            len = o[r + 1] - o[r];
            if (kc->data->size + len > PL_MAX_VARLEN_BYTES)
                PL_FAIL(err, PL_ERR_LIMIT, "group keys exceed %lld bytes of string data",
                        (long long)PL_MAX_VARLEN_BYTES);
            pl_buf *d = kc->data;
            if (d->size + len > d->capacity) {
                int64_t before = d->capacity;
                PL_TRY(pl_buf_reserve(d, d->size + len, err));
                PL_TRY(agg_charge(t, d->capacity - before, err));
            }
            const uint8_t *src = a->data->data + o[r];
            uint8_t *dst = d->data + d->size;
            if (len >= 8 && len <= 16) { /* short keys: two overlapping words, no call */
                memcpy(dst, src, 8);
                memcpy(dst + len - 8, src + len - 8, 8);
            } else if (len >= 4 && len < 8) {
                memcpy(dst, src, 4);
                memcpy(dst + len - 4, src + len - 4, 4);
            } else if (len) {
                memcpy(dst, src, (size_t)len);
            }
            d->size += len;
        }
        ko[g + 1] = ko[g] + (int32_t)len;
        if (kc->pfx) {
            uint8_t *kp = kc->pfx->data + g * 16;
            memset(kp, 0, 16);
            uint32_t l32 = (uint32_t)len;
            memcpy(kp, &l32, 4);
            if (len) memcpy(kp + 4, kc->data->data + ko[g], (size_t)PL_MIN(len, 12));
        }
        kc->vals->size = (g + 2) * 4;
        break;
    }
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- table */

pl_status agg_table_reserve(agg_table *t, int64_t n, pl_error *err) {
    if (n <= t->grp_cap) return PL_OK;
    int64_t cap = t->grp_cap ? t->grp_cap : 64;
    while (cap < n) cap *= 2;
    if (cap > (int64_t)UINT32_MAX - 2) cap = (int64_t)UINT32_MAX - 2;
    if (cap < n) PL_FAIL(err, PL_ERR_LIMIT, "more than %lld groups", (long long)cap);
    agg_sink *s = t->sink;
    int64_t grow = 0;
    uint64_t *h = pl_realloc(t->hashes, (size_t)cap * 8);
    if (!h) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing the group table to %lld groups",
                    (long long)cap);
    t->hashes = h;
    grow += (cap - t->grp_cap) * 8;
    for (int32_t c = 0; c < s->n_keys; c++) {
        agg_keycol *kc = &t->keys[c];
        int64_t bytes = 0;
        switch (kc->kind) {
        case KC_NA: break;
        case KC_BOOL: bytes = (cap + 7) / 8; break;
        case KC_FIXED:
        case KC_IVL:
        case KC_FLOAT: bytes = cap * kc->width; break;
        case KC_STR: bytes = (cap + 1) * 4; break;
        }
        if (bytes) {
            grow += bytes - kc->vals->capacity;
            PL_TRY(pl_buf_reserve(kc->vals, bytes, err));
        }
        if (kc->valid) PL_TRY(pl_buf_reserve(kc->valid, (cap + 7) / 8, err));
        if (kc->pfx) {
            grow += cap * 16 - kc->pfx->capacity;
            PL_TRY(pl_buf_reserve(kc->pfx, cap * 16, err));
        }
    }
    for (int32_t i = 0; i < s->n_aggs; i++) {
        int64_t w = s->aggs[i].width;
        if (!w) continue;
        /* not zeroed here: insert_row zeroes a group's states as it adds the group, so the
         * unused capacity never faults in and a page's first touch is a write (a first read of
         * a fresh page maps the zero page and the write then faults a second time) */
        uint8_t *p = pl_aligned_realloc(t->states[i], (size_t)(t->grp_cap * w), (size_t)(cap * w));
        if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing aggregate states");
        t->states[i] = p;
        grow += (cap - t->grp_cap) * w;
    }
    t->grp_cap = cap;
    return agg_charge(t, grow, err);
}

static pl_status rehash(agg_table *t, int64_t n_slots, pl_error *err) {
    PL_TRY(agg_charge(t, (n_slots - (t->mask + 1)) * 8, err)); /* before: nothing to undo */
    uint64_t *slots = pl_calloc((size_t)n_slots, 8);
    if (!slots) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing the group table");
    int64_t mask = n_slots - 1;
    for (int64_t g = 0; g < t->n_groups; g++) {
        uint64_t h = t->hashes[g];
        int64_t i = (int64_t)(h & (uint64_t)mask);
        while (slots[i]) i = (i + 1) & mask;
        slots[i] = ((h >> 32) << 32) | (uint64_t)(g + 1);
    }
    pl_free(t->slots);
    t->slots = slots;
    t->mask = mask;
    return PL_OK;
}

/* The zero (initial) states of group g. */
static inline void zero_states(agg_table *t, int64_t g) {
    agg_sink *s = t->sink;
    for (int32_t i = 0; i < s->n_aggs; i++) {
        int64_t w = s->aggs[i].width;
        uint8_t *p = t->states[i] + g * w;
        switch (w) {
        case 0: break;
        case 8: memset(p, 0, 8); break;
        case 16: memset(p, 0, 16); break;
        case 24: memset(p, 0, 24); break;
        case 32: memset(p, 0, 32); break;
        default: memset(p, 0, (size_t)w); break;
        }
    }
}

/* Adds a group with key row r of cols (NULL cols: a NULL key of a one-column table). */
static pl_status insert_row(agg_table *t, pl_array *const *cols, int64_t r, uint64_t h,
                            uint32_t *gid, pl_error *err) {
    int64_t g = t->n_groups;
    if (g + 1 > t->grp_cap) PL_TRY(agg_table_reserve(t, g + 1, err));
    if (t->dense ? (g + 1) * 10 > (t->mask + 1) * 7 : (g + 1) * 2 > t->mask + 1)
        PL_TRY(rehash(t, (t->mask + 1) * 2, err));
    for (int32_t c = 0; c < t->sink->n_keys; c++) PL_TRY(keycol_append(t, &t->keys[c], g, cols[c], r, err));
    zero_states(t, g);
    t->hashes[g] = h;
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = ((h >> 32) << 32) | (uint64_t)(g + 1);
    t->n_groups = g + 1;
    *gid = (uint32_t)g;
    return PL_OK;
}

pl_status agg_table_new(agg_sink *s, agg_table **out, pl_error *err) {
    agg_table *t = pl_calloc(1, sizeof(*t));
    if (!t) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    t->sink = s;
    t->null_gid = -1;
    t->keys = pl_calloc((size_t)PL_MAX(s->n_keys, 1), sizeof(agg_keycol));
    t->states = pl_calloc((size_t)PL_MAX(s->n_aggs, 1), sizeof(uint8_t *));
    t->heaps = pl_calloc((size_t)PL_MAX(s->n_aggs, 1), sizeof(agg_heap));
    t->collects = pl_calloc((size_t)PL_MAX(s->n_aggs, 1), sizeof(agg_collect));
    t->slots = pl_calloc(INIT_SLOTS, 8);
    t->mask = INIT_SLOTS - 1;
    pl_status st = PL_OK;
    if (!t->keys || !t->states || !t->heaps || !t->collects || !t->slots) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int32_t c = 0; c < s->n_keys && !st; c++) {
        agg_keycol *kc = &t->keys[c];
        kc->type = agg_base_type(s->in->fields[s->keys[c]].type);
        kc->kind = keycol_kind(kc->type);
        kc->width = kc->type->byte_width;
        if (kc->kind != KC_NA) st = pl_buf_new(64, &kc->vals, err);
        if (!st && kc->kind == KC_STR) {
            st = pl_buf_new(256, &kc->data, err);
            /* only the typed probe of a single string key reads the prefix records */
            if (!st && s->n_keys == 1) st = pl_buf_new(64 * 16, &kc->pfx, err);
            if (!st) {
                memset(kc->vals->data, 0, 4);
                kc->vals->size = 4;
            }
        }
    }
    if (!st) st = agg_table_reserve(t, 64, err);
    if (!st) st = agg_charge(t, INIT_SLOTS * 8, err);
    if (!st && s->n_keys == 0) {
        t->n_groups = 1; /* the single group */
        t->hashes[0] = 0;
        zero_states(t, 0);
    }
    if (st) goto fail;
    *out = t;
    return PL_OK;
fail:
    agg_table_free(t);
    return st;
}

void agg_table_free(agg_table *t) {
    if (!t) return;
    agg_sink *s = t->sink;
    pl_free(t->hist);
    if (t->charged) pl_exec_charge(s->ctx, -t->charged, NULL);
    if (t->keys) {
        for (int32_t c = 0; c < s->n_keys; c++) {
            pl_buf_release(t->keys[c].vals);
            pl_buf_release(t->keys[c].data);
            pl_buf_release(t->keys[c].valid);
            pl_buf_release(t->keys[c].pfx);
        }
    }
    for (int32_t i = 0; i < s->n_aggs; i++) {
        if (t->states && t->states[i]) pl_aligned_free(t->states[i], (size_t)(t->grp_cap * s->aggs[i].width));
        if (t->heaps) agg_heap_free(&t->heaps[i]);
        if (t->collects) agg_collect_free(&t->collects[i]);
    }
    for (int32_t i = 0; i < AGG_DICT_CACHE; i++) {
        pl_array_release(t->dmaps[i].dict);
        pl_free(t->dmaps[i].gid);
    }
    for (int32_t i = 0; i < AGG_MDICT_CACHE; i++) {
        for (int32_t c = 0; c < AGG_MDICT_MAX_KEYS; c++) pl_array_release(t->mdmaps[i].dicts[c]);
        pl_free(t->mdmaps[i].gid);
    }
    agg_table_free(t->loc);
    pl_free(t->lslot);
    pl_free(t->lrow);
    pl_free(t->keys);
    pl_free(t->states);
    pl_free(t->heaps);
    pl_free(t->collects);
    pl_free(t->slots);
    pl_free(t->hashes);
    pl_free(t->gids);
    pl_free(t->hbuf);
    pl_free(t->sel);
    pl_free(t->sel2);
    pl_free(t->prow);
    pl_free(t->part);
    pl_free(t->direct);
    if (t->sub && !t->sub_shared) {
        for (int32_t p = 0; p < t->n_sub; p++) agg_table_free(t->sub[p]);
        pl_free(t->sub);
    }
    pl_free(t);
}

pl_status agg_table_key_arrays(agg_table *t, pl_array **out, pl_error *err) {
    agg_sink *s = t->sink;
    int64_t n = t->n_groups;
    for (int32_t c = 0; c < s->n_keys; c++) {
        agg_keycol *kc = &t->keys[c];
        pl_status st;
        if (kc->kind == KC_NA) {
            st = pl_array_new_nulls(kc->type, n, &out[c], err);
        } else {
            if (kc->valid) kc->valid->size = (n + 7) / 8;
            if (kc->kind == KC_BOOL) kc->vals->size = (n + 7) / 8;
            st = pl_array_new(pl_type_retain(kc->type), n, -1,
                              kc->valid ? pl_buf_retain(kc->valid) : NULL, pl_buf_retain(kc->vals),
                              kc->data ? pl_buf_retain(kc->data) : NULL, 0, NULL, NULL, &out[c],
                              err);
        }
        if (st) {
            for (int32_t i = 0; i < c; i++) pl_array_release(out[i]);
            return st;
        }
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- probing */

static pl_status scratch(agg_table *t, int64_t n, pl_error *err) {
    /* hbuf: 2 * n hashes; gids, sel, sel2: n entries; sized together by t->scratch_n */
    if (n <= t->scratch_n) return PL_OK;
    int64_t m = PL_MAX(n, 1024);
    uint64_t *hb = pl_malloc((size_t)m * 16);
    uint32_t *g = pl_malloc((size_t)m * 4);
    int32_t *s1 = pl_malloc((size_t)m * 4), *s2 = pl_malloc((size_t)m * 4);
    int32_t *pr = pl_malloc((size_t)m * 4);
    uint8_t *pt = pl_malloc((size_t)m);
    if (!hb || !g || !s1 || !s2 || !pr || !pt) {
        pl_free(hb), pl_free(g), pl_free(s1), pl_free(s2), pl_free(pr), pl_free(pt);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_free(t->hbuf), pl_free(t->gids), pl_free(t->sel), pl_free(t->sel2);
    pl_free(t->prow), pl_free(t->part);
    t->hbuf = hb, t->gids = g, t->sel = s1, t->sel2 = s2, t->prow = pr, t->part = pt;
    t->scratch_n = m;
    return PL_OK;
}

pl_status agg_table_scratch(agg_table *t, int64_t n, pl_error *err) { return scratch(t, n, err); }

/* The group of the NULL key in a one-key table. */
static pl_status null_group(agg_table *t, pl_array *a, int64_t r, uint32_t *gid, pl_error *err) {
    if (t->null_gid >= 0) {
        *gid = (uint32_t)t->null_gid;
        return PL_OK;
    }
    uint64_t h = H_NULL;
    uint32_t tag = (uint32_t)(h >> 32);
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        uint64_t e = t->slots[i];
        if (!e) break;
        if ((uint32_t)(e >> 32) == tag && !kc_valid(&t->keys[0], (int64_t)(uint32_t)e - 1)) {
            t->null_gid = (int64_t)(uint32_t)e - 1;
            *gid = (uint32_t)t->null_gid;
            return PL_OK;
        }
        i = (i + 1) & t->mask;
    }
    PL_TRY(insert_row(t, &a, r, h, gid, err));
    t->null_gid = *gid;
    return PL_OK;
}

/* Probing hides the cache misses of tables beyond the cache with staged prefetches while row k
 * probes: the slot of row k + AGG_PF_SLOT, and the key of the group in the first slot of row
 * k + AGG_PF_KEY (KEY_PF: the fixed-width value, or a string key's 16-byte prefix record). */
#define AGG_PF_SLOT 32
#define AGG_PF_KEY 16
#define PROBE_HASH(k_) (hashes ? hashes[sel ? sel[k_] : (k_)] : hb[k_])
/* The group in the first slot of row k_ when its tag matches, else -1. */
#define PROBE_FIRST(k_)                                                                            \
    ({                                                                                             \
        uint64_t h_ = PROBE_HASH(k_);                                                              \
        uint64_t e_ = t->slots[h_ & (uint64_t)t->mask];                                            \
        e_ && (uint32_t)(e_ >> 32) == (uint32_t)(h_ >> 32) ? (int64_t)(uint32_t)e_ - 1 : -1;       \
    })
#define PROBE_BEGIN_PF(KEY_PF)                                                                     \
    bool pf = t->mask >= (1 << 12);                                                                \
    for (int64_t k = 0; k < n; k++) {                                                              \
        int64_t r = sel ? sel[k] : k;                                                              \
        uint64_t h = hashes ? hashes[r] : hb[k];                                                   \
        if (pf && k + AGG_PF_SLOT < n) {                                                           \
            __builtin_prefetch(&t->slots[PROBE_HASH(k + AGG_PF_SLOT) & (uint64_t)t->mask]);        \
            int64_t gk_ = PROBE_FIRST(k + AGG_PF_KEY);                                             \
            if (gk_ >= 0) KEY_PF(gk_);                                                             \
        }                                                                                          \
        uint32_t tag = (uint32_t)(h >> 32);                                                        \
        int64_t i = (int64_t)(h & (uint64_t)t->mask);                                              \
        uint32_t g;                                                                                \
        for (;;) {                                                                                 \
            uint64_t e = t->slots[i];                                                              \
            if (!e) {                                                                              \
                PL_TRY(insert_row(t, cols, r, h, &g, err));                                        \
                break;                                                                             \
            }                                                                                      \
            if ((uint32_t)(e >> 32) == tag) {                                                      \
                g = (uint32_t)e - 1;
#define PROBE_END                                                                                  \
            }                                                                                      \
            i = (i + 1) & t->mask;                                                                 \
        }                                                                                          \
        gids[k] = g;                                                                               \
    }
#define PF_NONE(g_) ((void)(g_))
#define PROBE_BEGIN PROBE_BEGIN_PF(PF_NONE)

/* One fixed-width integer-like key without NULLs. */
#define PF_FIXED(g_) __builtin_prefetch((const uint8_t *)t->keys[0].vals->data + (g_) * kc0->width)
#define PROBE_FIXED(T)                                                                             \
    do {                                                                                           \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        PROBE_BEGIN_PF(PF_FIXED)                                                                   \
        if (((const T *)(void *)t->keys[0].vals->data)[g] == v[r]) break;                          \
        PROBE_END                                                                                  \
    } while (0)
/* One string key: its length and first bytes. */
#define PF_STR_PFX(g_) __builtin_prefetch(t->keys[0].pfx->data + (g_) * 16)

static pl_status find_dict(agg_table *t, pl_array *a, int64_t n, uint32_t *gids, pl_error *err);
static pl_status find_direct(agg_table *t, pl_array *a, int64_t n, uint32_t *gids, bool *done,
                             pl_error *err);

static pl_status find_multi_dict(agg_table *t, pl_array *const *cols, int64_t n, uint32_t *gids,
                                 bool *done, pl_error *err);

/* One string key without NULLs, rows 0..n-1 with their hashes hb: the probe in two passes.
 * Pass 1 walks the slots only (prefetched AGG_PF_SLOT2 rows ahead) and takes the first slot
 * whose 32-bit tag matches, marked AGG_VERIFY in gids (a key it inserts needs no check). Pass 2
 * checks each marked row's key against its group's prefix record, prefetched AGG_PF_VERIFY rows
 * ahead from the gids of pass 1 (rows are cheap there: distance 128, 32 left ~3% more CPU
 * waiting on records). The one-pass probe loaded the record right after the slot, a
 * chain of two misses per row, and its staged key prefetch was itself a load of a slot that
 * was often not there yet (h2o q3/q7: ~a third of the probe's time waited on that load). A
 * row whose key differs (two keys with equal tags in one chain: ~2^-32 per probe) is probed
 * again comparing keys (probe_row), in row order, so later rows of the same key find the group
 * it inserts. */
#define AGG_PF_SLOT2 64
#define AGG_PF_VERIFY 128
#define AGG_VERIFY 0x80000000u
/* tests: the tag bits pass 1 compares (pl_agg_set_probe_tag_bits); fewer bits make false
 * matches, which pass 2 must catch */
static uint32_t agg_probe_tmask = 0xffffffffu;

int32_t pl_agg_set_probe_tag_bits(int32_t bits) {
    int32_t before = __builtin_popcount(agg_probe_tmask);
    if (bits < 0 || bits > 32) bits = 32;
    agg_probe_tmask = bits == 32 ? 0xffffffffu : (uint32_t)((1u << bits) - 1);
    return before;
}

static pl_status probe_row(agg_table *t, pl_array *const *cols, int64_t r, uint64_t h,
                           uint32_t *gid, pl_error *err) {
    int32_t nk = t->sink->n_keys;
    uint32_t tag = (uint32_t)(h >> 32);
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        uint64_t e = t->slots[i];
        if (!e) return insert_row(t, cols, r, h, gid, err);
        if ((uint32_t)(e >> 32) == tag) {
            uint32_t g = (uint32_t)e - 1;
            bool eq = true;
            for (int32_t c = 0; c < nk && eq; c++) eq = key_eq(&t->keys[c], g, cols[c], r);
            if (eq) {
                *gid = g;
                return PL_OK;
            }
        }
        i = (i + 1) & t->mask;
    }
}

/* Pass 1 of the two-pass probes: walks hash h's slots to the first empty one (row becomes a
 * new group, *g) or to the first whose tag matches under tmask (*g = that group | AGG_VERIFY:
 * pass 2 compares the keys). */
static inline __attribute__((always_inline)) pl_status
probe_tag(agg_table *t, pl_array *const *cols, int64_t row, uint64_t h, uint32_t tmask,
          uint32_t *g, pl_error *err) {
    uint32_t tag = (uint32_t)(h >> 32);
    int64_t i = (int64_t)(h & (uint64_t)t->mask);
    for (;;) {
        uint64_t e = t->slots[i];
        if (!e) return insert_row(t, cols, row, h, g, err);
        if ((((uint32_t)(e >> 32) ^ tag) & tmask) == 0) {
            *g = ((uint32_t)e - 1) | AGG_VERIFY;
            return PL_OK;
        }
        i = (i + 1) & t->mask;
    }
}

static pl_status probe_str_2pass(agg_table *t, pl_array *const *cols, int64_t n,
                                 const uint64_t *hb, uint32_t *gids, pl_error *err) {
    const pl_array *a = cols[0];
    const int32_t *o = pl_array_offsets(a);
    const uint8_t *d = a->data ? a->data->data : NULL;
    uint32_t tmask = agg_probe_tmask;
    for (int64_t k = 0; k < n; k++) {
        if (k + AGG_PF_SLOT2 < n)
            __builtin_prefetch(&t->slots[hb[k + AGG_PF_SLOT2] & (uint64_t)t->mask]);
        uint32_t g;
        PL_TRY(probe_tag(t, cols, k, hb[k], tmask, &g, err));
        gids[k] = g;
    }
    const uint8_t *pfx = t->keys[0].pfx->data;
    for (int64_t k = 0; k < n; k++) {
        if (k + AGG_PF_VERIFY < n) {
            uint32_t gn = gids[k + AGG_PF_VERIFY];
            if (gn & AGG_VERIFY) __builtin_prefetch(pfx + (int64_t)(gn & ~AGG_VERIFY) * 16);
        }
        uint32_t g = gids[k];
        if (!(g & AGG_VERIFY)) continue;
        g &= ~AGG_VERIFY;
        const uint8_t *kp = pfx + (int64_t)g * 16;
        int64_t len = o[k + 1] - o[k];
        bool eq = false;
        if (rd32(kp) == (uint64_t)len) {
            const uint8_t *p = d + o[k];
            if (len <= 12) {
                eq = bytes_eq(p, kp + 4, len);
            } else if (bytes_eq(p, kp + 4, 12)) {
                const int32_t *ko = (const int32_t *)(void *)t->keys[0].vals->data;
                eq = bytes_eq(p + 12, t->keys[0].data->data + ko[g] + 12, len - 12);
            }
        }
        if (!eq) {
            PL_TRY(probe_row(t, cols, k, hb[k], &g, err));
            pfx = t->keys[0].pfx->data; /* it may have inserted (and moved the records) */
        }
        gids[k] = g;
    }
    return PL_OK;
}

/* One INT64-like key without NULLs (pack.c's packed key), rows r = sel ? sel[k] : k, their
 * hashes by position (hk[k]): the two-pass probe of probe_str_2pass with the key values as
 * records. Pass 1 walks the slots (prefetched AGG_PF_SLOT2 rows ahead, with the row's key
 * value an insert copies) and inserts the new keys, pass 2 compares the values of the marked
 * groups, prefetched AGG_PF_VERIFY rows ahead. h2o q10 probes 64 partition tables of ~156 Ki
 * groups with ~1 Ki rows per table and morsel: the one-pass probe read each hash through the
 * selection (a gather over the morsel) and its staged key prefetch loaded a slot that was often
 * not there yet. */
static bool fixed8_2pass_ok(const agg_table *t, pl_array *const *cols, int64_t n) {
    pl_array *a = cols[0];
    const agg_keycol *kc0 = &t->keys[0];
    return t->sink->n_keys == 1 && a->type->id != PL_TYPE_DICTIONARY &&
           a->type->id != PL_TYPE_NA && !(a->validity && pl_array_null_count(a) > 0) &&
           kc0->kind == KC_FIXED && kc0->width == 8 && !kc0->valid && t->mask >= (1 << 12) &&
           t->n_groups + n < (int64_t)AGG_VERIFY;
}

static pl_status probe_fixed8_2pass(agg_table *t, pl_array *const *cols, int64_t n,
                                    const int32_t *sel, const uint64_t *hk, uint32_t *gids,
                                    pl_error *err) {
    const int64_t *v = (const int64_t *)pl_array_values_ptr(cols[0]);
    uint32_t tmask = agg_probe_tmask;
    for (int64_t k = 0; k < n; k++) {
        if (k + AGG_PF_SLOT2 < n) {
            __builtin_prefetch(&t->slots[hk[k + AGG_PF_SLOT2] & (uint64_t)t->mask]);
            if (sel) __builtin_prefetch(v + sel[k + AGG_PF_SLOT2]);
        }
        uint32_t g;
        PL_TRY(probe_tag(t, cols, sel ? sel[k] : k, hk[k], tmask, &g, err));
        gids[k] = g;
    }
    const int64_t *kv = (const int64_t *)(void *)t->keys[0].vals->data;
    for (int64_t k = 0; k < n; k++) {
        if (k + AGG_PF_VERIFY < n) {
            uint32_t gn = gids[k + AGG_PF_VERIFY];
            if (gn & AGG_VERIFY) __builtin_prefetch(kv + (gn & ~AGG_VERIFY));
        }
        uint32_t g = gids[k];
        if (!(g & AGG_VERIFY)) continue;
        g &= ~AGG_VERIFY;
        int64_t r = sel ? sel[k] : k;
        if (PL_UNLIKELY(kv[g] != v[r])) {
            PL_TRY(probe_row(t, cols, r, hk[k], &g, err));
            kv = (const int64_t *)(void *)t->keys[0].vals->data; /* it may have inserted */
        }
        gids[k] = g;
    }
    return PL_OK;
}

pl_status agg_table_find(agg_table *t, pl_array *const *cols, int64_t n, const int32_t *sel,
                         const uint64_t *hashes, uint32_t *gids, pl_error *err) {
    agg_sink *s = t->sink;
    if (s->n_keys == 0) {
        memset(gids, 0, (size_t)n * 4);
        return PL_OK;
    }
    if (n == 0) return PL_OK;
    if (s->n_keys == 1 && cols[0]->type->id == PL_TYPE_DICTIONARY && !sel)
        return find_dict(t, cols[0], n, gids, err);
    if (s->n_keys > 1 && !sel && !hashes) {
        bool done = false;
        PL_TRY(find_multi_dict(t, cols, n, gids, &done, err));
        if (done) return PL_OK;
    }
    if (s->n_keys == 1 && !sel && !hashes && !t->direct_off) {
        bool done = false;
        PL_TRY(find_direct(t, cols[0], n, gids, &done, err));
        if (done) return PL_OK;
    }
    uint64_t *hb = NULL;
    if (!hashes) {
        PL_TRY(scratch(t, n, err));
        hb = t->hbuf;
        hash_keys(s->n_keys, cols, n, sel, hb, hb + n);
    }
    if (hb && fixed8_2pass_ok(t, cols, n)) return probe_fixed8_2pass(t, cols, n, sel, hb, gids, err);
    pl_array *a = cols[0];
    bool one = s->n_keys == 1 && a->type->id != PL_TYPE_DICTIONARY;
    bool nonull = !(a->validity && pl_array_null_count(a) > 0) && a->type->id != PL_TYPE_NA;
    const agg_keycol *kc0 = &t->keys[0];
    bool fixed = one && nonull && kc0->kind == KC_FIXED && !kc0->valid;
    if (fixed && kc0->width == 8) {
        PROBE_FIXED(int64_t);
    } else if (fixed && kc0->width == 4) {
        PROBE_FIXED(int32_t);
    } else if (fixed && kc0->width == 2) {
        PROBE_FIXED(int16_t);
    } else if (fixed && kc0->width == 1) {
        PROBE_FIXED(int8_t);
    } else if (one && nonull && kc0->kind == KC_STR && !kc0->valid && !sel && hb &&
               t->mask >= (1 << 12) &&
               t->n_groups + n < (int64_t)AGG_VERIFY) {
        PL_TRY(probe_str_2pass(t, cols, n, hb, gids, err));
    } else if (one && nonull && kc0->kind == KC_STR && !kc0->valid) {
        const int32_t *o = pl_array_offsets(a);
        const uint8_t *d = a->data ? a->data->data : NULL;
        PROBE_BEGIN_PF(PF_STR_PFX)
        const uint8_t *kp = t->keys[0].pfx->data + (int64_t)g * 16;
        int64_t len = o[r + 1] - o[r];
        if (rd32(kp) == (uint64_t)len) {
            const uint8_t *p = d + o[r];
            if (len <= 12) {
                if (bytes_eq(p, kp + 4, len)) break;
            } else if (bytes_eq(p, kp + 4, 12)) {
                const int32_t *ko = (const int32_t *)(void *)t->keys[0].vals->data;
                if (bytes_eq(p + 12, t->keys[0].data->data + ko[g] + 12, len - 12)) break;
            }
        }
        PROBE_END
    } else {
        int32_t nk = s->n_keys;
        PROBE_BEGIN
        bool eq = true;
        for (int32_t c = 0; c < nk && eq; c++) eq = key_eq(&t->keys[c], g, cols[c], r);
        if (eq) break;
        PROBE_END
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- dictionary keys */

/* Pass 1: indices not resolved yet are marked -2 and listed (once each) in todo; pass 2 (after
 * one batched probe of the dictionary rows in todo) writes the group ids. */
#define DICT_PASS1(T)                                                                              \
    do {                                                                                           \
        const T *ix = (const T *)pl_array_values_ptr(a);                                           \
        for (int64_t r = 0; r < n; r++) {                                                          \
            if (nulls && !pl_bit_get(a->validity->data, a->offset + r)) continue;                  \
            int64_t idx = (int64_t)ix[r];                                                          \
            if (PL_UNLIKELY((uint64_t)idx >= (uint64_t)m->len)) {                                  \
                bad = idx;                                                                         \
                break;                                                                             \
            }                                                                                      \
            if (PL_UNLIKELY(m->gid[idx] == -1)) {                                                  \
                m->gid[idx] = -2;                                                                  \
                todo[n_todo++] = (int32_t)idx;                                                     \
            }                                                                                      \
        }                                                                                          \
    } while (0)
#define DICT_PASS2(T)                                                                              \
    do {                                                                                           \
        const T *ix = (const T *)pl_array_values_ptr(a);                                           \
        if (!nulls) {                                                                              \
            for (int64_t r = 0; r < n; r++) gids[r] = (uint32_t)m->gid[ix[r]];                     \
            break;                                                                                 \
        }                                                                                          \
        for (int64_t r = 0; r < n; r++) {                                                          \
            if (!pl_bit_get(a->validity->data, a->offset + r)) {                                   \
                uint32_t g0;                                                                       \
                PL_TRY(null_group(t, a, r, &g0, err));                                             \
                gids[r] = g0;                                                                      \
            } else {                                                                               \
                gids[r] = (uint32_t)m->gid[ix[r]];                                                 \
            }                                                                                      \
        }                                                                                          \
    } while (0)
#define IDX_SWITCH(M)                                                                              \
    switch (a->type->index_id) {                                                                   \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_INT32: M(int32_t); break;                                                         \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_INT64: M(int64_t); break;                                                         \
    case PL_TYPE_UINT64: M(uint64_t); break;                                                       \
    default: PL_FAIL(err, PL_ERR_UNSUPPORTED, "dictionary index type not supported");            \
    }

static pl_status find_dict(agg_table *t, pl_array *a, int64_t n, uint32_t *gids, pl_error *err) {
    pl_array *dict = a->dictionary;
    agg_dict_map *m = NULL;
    for (int32_t i = 0; i < AGG_DICT_CACHE; i++) {
        if (t->dmaps[i].dict == dict && t->dmaps[i].len == dict->length) {
            m = &t->dmaps[i];
            break;
        }
    }
    if (!m) {
        m = &t->dmaps[t->dmap_next];
        t->dmap_next = (t->dmap_next + 1) % AGG_DICT_CACHE;
        int32_t *gid = pl_malloc((size_t)PL_MAX(dict->length, 1) * 4);
        if (!gid) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        memset(gid, 0xff, (size_t)dict->length * 4);
        pl_array_release(m->dict);
        pl_free(m->gid);
        m->dict = pl_array_retain(dict);
        m->gid = gid;
        m->len = dict->length;
    }
    bool nulls = a->validity && pl_array_null_count(a) > 0;
    /* todo and its group ids: at most min(n, dictionary length) entries */
    int64_t cap = PL_MIN(n, m->len);
    int32_t *todo = pl_malloc((size_t)PL_MAX(cap, 1) * 8);
    if (!todo) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t n_todo = 0, bad = -1;
    pl_status st = PL_OK;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: DICT_PASS1(int8_t); break;
    case PL_TYPE_UINT8: DICT_PASS1(uint8_t); break;
    case PL_TYPE_INT16: DICT_PASS1(int16_t); break;
    case PL_TYPE_UINT16: DICT_PASS1(uint16_t); break;
    case PL_TYPE_INT32: DICT_PASS1(int32_t); break;
    case PL_TYPE_UINT32: DICT_PASS1(uint32_t); break;
    case PL_TYPE_INT64: DICT_PASS1(int64_t); break;
    case PL_TYPE_UINT64: DICT_PASS1(uint64_t); break;
    default: st = pl_error_set(err, PL_ERR_UNSUPPORTED, "dictionary index type not supported");
    }
    if (bad >= 0 || bad < -1)
        st = pl_error_set(err, PL_ERR_CORRUPT, "dictionary index %lld out of range (size %lld)",
                          (long long)bad, (long long)m->len);
    if (st) {
        for (int64_t k = 0; k < n_todo; k++) m->gid[todo[k]] = -1;
    } else if (n_todo) {
        uint32_t *tg = (uint32_t *)(todo + cap);
        st = agg_table_find(t, &dict, n_todo, todo, NULL, tg, err);
        for (int64_t k = 0; k < n_todo; k++) m->gid[todo[k]] = st ? -1 : (int32_t)tg[k];
    }
    pl_free(todo);
    if (st) return st;
    IDX_SWITCH(DICT_PASS2)
    return PL_OK;
}

/* Several keys without NULL rows, each a dictionary or an integer, whose dictionary sizes and
 * integer ranges multiply to at most AGG_MDICT_MAX_SIZE: each row's combination of codes is
 * looked up in a direct map of the tuple of dictionaries and ranges (cached; integer ranges
 * grow to the union of those seen, so the map settles); combinations not seen yet are resolved
 * once each through the hash table. *done = false when the path does not apply. gids doubles as
 * the combinations' scratch. */
#define INT_KEY_SWITCH(a, M)                                                                       \
    switch ((a)->type->id) {                                                                       \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_INT32: case PL_TYPE_DATE32: M(int32_t); break;                                    \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_INT64: M(int64_t); break;                                                         \
    default: return PL_OK;                                                                         \
    }

static pl_status find_multi_dict(agg_table *t, pl_array *const *cols, int64_t n, uint32_t *gids,
                                 bool *done, pl_error *err) {
    int32_t nk = t->sink->n_keys;
    *done = false;
    if (nk > AGG_MDICT_MAX_KEYS || n == 0) return PL_OK;
    int64_t lo[AGG_MDICT_MAX_KEYS], hi[AGG_MDICT_MAX_KEYS];
    int64_t size = 1;
    for (int32_t c = 0; c < nk; c++) {
        pl_array *a = cols[c];
        if (a->validity && pl_array_null_count(a) > 0) return PL_OK;
        if (a->type->id == PL_TYPE_DICTIONARY) {
            if (a->dictionary->length == 0) return PL_OK;
            size *= a->dictionary->length;
        } else {
            int64_t mn = INT64_MAX, mx = INT64_MIN;
#define RANGE(T)                                                                                   \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        T tmn = v[0], tmx = v[0];                                                                  \
        for (int64_t r = 1; r < n; r++) {                                                          \
            tmn = v[r] < tmn ? v[r] : tmn;                                                         \
            tmx = v[r] > tmx ? v[r] : tmx;                                                         \
        }                                                                                          \
        mn = (int64_t)tmn;                                                                         \
        mx = (int64_t)tmx;                                                                         \
    }
            INT_KEY_SWITCH(a, RANGE)
#undef RANGE
            if (t->mrange_set) {
                mn = PL_MIN(mn, t->mrange_lo[c]);
                mx = PL_MAX(mx, t->mrange_hi[c]);
            }
            if ((uint64_t)mx - (uint64_t)mn >= (uint64_t)AGG_MDICT_MAX_SIZE) return PL_OK;
            lo[c] = mn;
            hi[c] = mx;
            size *= mx - mn + 1;
        }
        if (size > AGG_MDICT_MAX_SIZE) return PL_OK;
    }
    for (int32_t c = 0; c < nk; c++) {
        if (cols[c]->type->id == PL_TYPE_DICTIONARY) continue;
        t->mrange_lo[c] = lo[c];
        t->mrange_hi[c] = hi[c];
    }
    t->mrange_set = true;
    agg_mdict_map *m = NULL;
    for (int32_t i = 0; i < AGG_MDICT_CACHE && !m; i++) {
        agg_mdict_map *x = &t->mdmaps[i];
        bool same = x->gid != NULL;
        for (int32_t c = 0; c < nk && same; c++) {
            pl_array *a = cols[c];
            if (a->type->id == PL_TYPE_DICTIONARY)
                same = x->dicts[c] == a->dictionary && x->lens[c] == a->dictionary->length;
            else
                same = !x->dicts[c] && lo[c] >= x->lo[c] && hi[c] < x->lo[c] + x->lens[c];
        }
        if (same) m = x;
    }
    if (!m) {
        m = &t->mdmaps[t->mdmap_next];
        t->mdmap_next = (t->mdmap_next + 1) % AGG_MDICT_CACHE;
        int32_t *gid = pl_malloc((size_t)size * 4);
        if (!gid) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        memset(gid, 0xff, (size_t)size * 4);
        for (int32_t c = 0; c < AGG_MDICT_MAX_KEYS; c++) {
            pl_array_release(m->dicts[c]);
            m->dicts[c] = NULL;
            m->lo[c] = 0;
            m->lens[c] = 0;
            if (c >= nk) continue;
            pl_array *a = cols[c];
            if (a->type->id == PL_TYPE_DICTIONARY) {
                m->dicts[c] = pl_array_retain(a->dictionary);
                m->lens[c] = a->dictionary->length;
            } else {
                m->lo[c] = lo[c];
                m->lens[c] = hi[c] - lo[c] + 1;
            }
        }
        pl_free(m->gid);
        m->gid = gid;
        m->size = size;
    }
    /* pass 1: the combination of each row into gids */
    int64_t stride = 1, bad = -1;
    for (int32_t c = 0; c < nk && bad < 0; c++) {
        pl_array *a = cols[c];
        uint64_t len = (uint64_t)m->lens[c];
        if (a->type->id != PL_TYPE_DICTIONARY) {
            int64_t base = m->lo[c];
#define ICOMB(T)                                                                                   \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (c == 0)                                                                                \
            for (int64_t r = 0; r < n; r++) gids[r] = (uint32_t)((int64_t)v[r] - base);            \
        else                                                                                       \
            for (int64_t r = 0; r < n; r++)                                                        \
                gids[r] += (uint32_t)((int64_t)v[r] - base) * (uint32_t)stride;                    \
    }
            INT_KEY_SWITCH(a, ICOMB)
#undef ICOMB
            stride *= (int64_t)len;
            continue;
        }
        uint64_t mx = 0;
#define COMB(T)                                                                                    \
    {                                                                                              \
        const T *ix = (const T *)pl_array_values_ptr(a);                                           \
        for (int64_t r = 0; r < n; r++) {                                                          \
            uint64_t k = (uint64_t)(int64_t)ix[r];                                                 \
            mx = k > mx ? k : mx;                                                                  \
        }                                                                                          \
        if (mx >= len) {                                                                           \
            bad = (int64_t)mx;                                                                     \
            break;                                                                                 \
        }                                                                                          \
        if (c == 0)                                                                                \
            for (int64_t r = 0; r < n; r++) gids[r] = (uint32_t)ix[r];                             \
        else                                                                                       \
            for (int64_t r = 0; r < n; r++) gids[r] += (uint32_t)ix[r] * (uint32_t)stride;         \
    }
        IDX_SWITCH(COMB)
#undef COMB
        stride *= (int64_t)len;
    }
    if (bad >= 0)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %lld out of range", (long long)bad);
    /* combinations not resolved yet: one row each, through the hash table */
    int64_t cap = PL_MIN(n, m->size);
    int32_t *todo = pl_malloc((size_t)PL_MAX(cap, 1) * 8);
    if (!todo) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t n_todo = 0;
    for (int64_t r = 0; r < n; r++) {
        uint32_t k = gids[r];
        if (PL_UNLIKELY(m->gid[k] == -1)) {
            m->gid[k] = -2;
            todo[n_todo++] = (int32_t)r;
        }
    }
    pl_status st = PL_OK;
    if (n_todo) {
        uint32_t *tg = (uint32_t *)(todo + cap);
        st = agg_table_find(t, cols, n_todo, todo, NULL, tg, err);
        for (int64_t k = 0; k < n_todo; k++) m->gid[gids[todo[k]]] = st ? -1 : (int32_t)tg[k];
    }
    pl_free(todo);
    if (st) return st;
    for (int64_t r = 0; r < n; r++) gids[r] = (uint32_t)m->gid[gids[r]];
    *done = true;
    return PL_OK;
}
#undef INT_KEY_SWITCH

/* ---------------------------------------------------------------- split mode */

void agg_table_partition(agg_table *t, pl_array *const *cols, int64_t n) {
    agg_sink *s = t->sink;
    uint64_t *hb = t->hbuf;
    hash_keys(s->n_keys, cols, n, NULL, hb, hb + n);
    int64_t *off = t->poff;
    memset(off, 0, sizeof(t->poff));
    for (int64_t r = 0; r < n; r++) {
        uint8_t p = (uint8_t)AGG_PART_OF(hb[r]);
        t->part[r] = p;
        off[p + 1]++;
    }
    for (int32_t p = 0; p < AGG_N_PARTS; p++) off[p + 1] += off[p];
    int64_t pos[AGG_N_PARTS];
    memcpy(pos, off, sizeof pos);
    uint64_t *ph = hb + n; /* the hashes by position (free after hash_keys) */
    t->n_part_rows = n;
    for (int64_t r = 0; r < n; r++) {
        int64_t q = pos[t->part[r]]++;
        t->prow[q] = (int32_t)r;
        ph[q] = hb[r];
    }
}

pl_status agg_table_find_part(agg_table *t, int32_t p, pl_array *const *cols, uint32_t *gids,
                              pl_error *err) {
    int64_t a = t->poff[p], b = t->poff[p + 1];
    if (a == b) return PL_OK;
    uint32_t *pg = (uint32_t *)t->sel2; /* gids by position, scattered to rows below */
    agg_table *sub = t->sub[p];
    if (fixed8_2pass_ok(sub, cols, b - a))
        PL_TRY(probe_fixed8_2pass(sub, cols, b - a, t->prow + a, t->hbuf + t->n_part_rows + a,
                                  pg + a, err));
    else
        PL_TRY(agg_table_find(sub, cols, b - a, t->prow + a, t->hbuf, pg + a, err));
    for (int64_t k = a; k < b; k++) gids[t->prow[k]] = pg[k];
    return PL_OK;
}

static pl_status split_shared(agg_table *t, pl_error *err);

pl_status agg_table_split(agg_table *t, pl_error *err) {
    agg_sink *s = t->sink;
    if (s->shared_split) return split_shared(t, err);
    int64_t n = t->n_groups;
    agg_table **sub = pl_calloc(AGG_N_PARTS, sizeof(agg_table *));
    pl_array **keys = pl_calloc((size_t)PL_MAX(s->n_keys, 1), sizeof(pl_array *));
    int32_t *rows = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    uint32_t *map = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    int64_t off[AGG_N_PARTS + 1] = {0}, pos[AGG_N_PARTS];
    pl_status st = PL_OK;
    bool have_keys = false;
    if (!sub || !keys || !rows || !map) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory splitting the group table");
        goto done;
    }
    for (int32_t p = 0; p < AGG_N_PARTS && !st; p++) {
        st = agg_table_new(s, &sub[p], err);
        if (!st) sub[p]->dense = true;
    }
    if (!st) st = agg_table_key_arrays(t, keys, err);
    if (st) goto done;
    have_keys = true;
    for (int64_t g = 0; g < n; g++) off[AGG_PART_OF(t->hashes[g]) + 1]++;
    for (int32_t p = 0; p < AGG_N_PARTS; p++) off[p + 1] += off[p];
    memcpy(pos, off, sizeof pos);
    for (int64_t g = 0; g < n; g++) rows[pos[AGG_PART_OF(t->hashes[g])]++] = (int32_t)g;
    for (int32_t p = 0; p < AGG_N_PARTS && !st; p++) {
        int64_t a = off[p], b = off[p + 1];
        if (a == b) continue;
        st = agg_table_find(sub[p], keys, b - a, rows + a, t->hashes, map, err);
        for (int32_t i = 0; i < s->n_aggs && !st; i++)
            st = agg_combine(&s->aggs[i], sub[p]->states[i], &sub[p]->heaps[i], t->states[i],
                             &t->heaps[i], rows + a, map, b - a, err);
        if (!st && t->overflow) {
            sub[p]->overflow = true;
            sub[p]->overflow_spec = t->overflow_spec;
        }
    }
done:
    if (have_keys)
        for (int32_t c = 0; c < s->n_keys; c++) pl_array_release(keys[c]);
    pl_free(keys);
    pl_free(rows);
    pl_free(map);
    if (st) {
        if (sub)
            for (int32_t p = 0; p < AGG_N_PARTS; p++) agg_table_free(sub[p]);
        pl_free(sub);
        return st;
    }
    /* the dictionary caches and the NULL group pointed at groups of this table */
    for (int32_t i = 0; i < AGG_DICT_CACHE; i++) {
        pl_array_release(t->dmaps[i].dict);
        pl_free(t->dmaps[i].gid);
        memset(&t->dmaps[i], 0, sizeof(t->dmaps[i]));
    }
    t->null_gid = -1;
    t->sub = sub;
    t->n_sub = AGG_N_PARTS;
    return PL_OK;
}

/* Moves t's groups into the sink's shared partition tables (made by the first split). */
static pl_status split_shared(agg_table *t, pl_error *err) {
    agg_sink *s = t->sink;
    int64_t n = t->n_groups;
    pl_status st = PL_OK;
    pthread_mutex_lock(&s->shared_mu);
    for (int32_t p = 0; p < AGG_N_PARTS && !st; p++)
        if (!s->parts[p]) {
            st = agg_table_new(s, &s->parts[p], err);
            if (!st) s->parts[p]->dense = true;
        }
    pthread_mutex_unlock(&s->shared_mu);
    if (st) return st;
    pl_array **keys = pl_calloc((size_t)PL_MAX(s->n_keys, 1), sizeof(pl_array *));
    int32_t *rows = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    uint32_t *map = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    int64_t off[AGG_N_PARTS + 1] = {0}, pos[AGG_N_PARTS];
    bool have_keys = false;
    if (!keys || !rows || !map) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory splitting the group table");
        goto done;
    }
    st = agg_table_key_arrays(t, keys, err);
    if (st) goto done;
    have_keys = true;
    for (int64_t g = 0; g < n; g++) off[AGG_PART_OF(t->hashes[g]) + 1]++;
    for (int32_t p = 0; p < AGG_N_PARTS; p++) off[p + 1] += off[p];
    memcpy(pos, off, sizeof pos);
    for (int64_t g = 0; g < n; g++) rows[pos[AGG_PART_OF(t->hashes[g])]++] = (int32_t)g;
    for (int32_t p = 0; p < AGG_N_PARTS && !st; p++) {
        int64_t a = off[p], b = off[p + 1];
        if (a == b) continue;
        agg_table *d = s->parts[p];
        pthread_mutex_lock(&s->part_mu[p]);
        st = agg_table_find(d, keys, b - a, rows + a, t->hashes, map, err);
        for (int32_t i = 0; i < s->n_aggs && !st; i++)
            st = agg_combine(&s->aggs[i], d->states[i], &d->heaps[i], t->states[i], &t->heaps[i],
                             rows + a, map, b - a, err);
        if (!st && t->overflow && !d->overflow) {
            d->overflow = true;
            d->overflow_spec = t->overflow_spec;
        }
        pthread_mutex_unlock(&s->part_mu[p]);
    }
done:
    if (have_keys)
        for (int32_t c = 0; c < s->n_keys; c++) pl_array_release(keys[c]);
    pl_free(keys);
    pl_free(rows);
    pl_free(map);
    if (st) return st; /* groups already moved are counted twice: the query fails anyway */
    for (int32_t i = 0; i < AGG_DICT_CACHE; i++) {
        pl_array_release(t->dmaps[i].dict);
        pl_free(t->dmaps[i].gid);
        memset(&t->dmaps[i], 0, sizeof(t->dmaps[i]));
    }
    t->null_gid = -1;
    t->sub = s->parts;
    t->n_sub = AGG_N_PARTS;
    t->sub_shared = true;
    return PL_OK;
}

/* ---------------------------------------------------------------- one small-range integer key */

#define MINMAX(T)                                                                                  \
    do {                                                                                           \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (!nulls) {                                                                              \
            for (int64_t r = 0; r < n; r++) {                                                      \
                int64_t x = (int64_t)v[r];                                                         \
                mn = x < mn ? x : mn;                                                              \
                mx = x > mx ? x : mx;                                                              \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t r = 0; r < n; r++) {                                                      \
                if (!pl_bit_get(a->validity->data, a->offset + r)) continue;                       \
                int64_t x = (int64_t)v[r];                                                         \
                mn = x < mn ? x : mn;                                                              \
                mx = x > mx ? x : mx;                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define DIRECT_LOOP(T)                                                                             \
    do {                                                                                           \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        for (int64_t r = 0; r < n; r++) {                                                          \
            if (nulls && !pl_bit_get(a->validity->data, a->offset + r)) {                          \
                uint32_t g0;                                                                       \
                PL_TRY(null_group(t, a, r, &g0, err));                                             \
                gids[r] = g0;                                                                      \
                continue;                                                                          \
            }                                                                                      \
            int64_t i = (int64_t)v[r] - base;                                                      \
            int32_t g = map[i];                                                                    \
            if (PL_UNLIKELY(g < 0)) {                                                              \
                int32_t one = (int32_t)r;                                                          \
                uint32_t g1;                                                                       \
                PL_TRY(agg_table_find(t, &a, 1, &one, NULL, &g1, err));                            \
                map[i] = g = (int32_t)g1;                                                          \
            }                                                                                      \
            gids[r] = (uint32_t)g;                                                                 \
        }                                                                                          \
    } while (0)

#define INT_KEY_SWITCH(M)                                                                          \
    switch (a->type->id) {                                                                         \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_INT32:                                                                            \
    case PL_TYPE_DATE32: M(int32_t); break;                                                        \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_INT64: M(int64_t); break;                                                         \
    default: break;                                                                                \
    }

/* Group ids through an array indexed by key - dmin while the keys seen span at most
 * AGG_DIRECT_MAX values; *done = false when the path does not apply (the caller probes). New
 * keys are inserted by the hash path, so the table stays a normal group table. */
static pl_status find_direct(agg_table *t, pl_array *a, int64_t n, uint32_t *gids, bool *done,
                             pl_error *err) {
    switch (a->type->id) {
    case PL_TYPE_INT8: case PL_TYPE_UINT8: case PL_TYPE_INT16: case PL_TYPE_UINT16:
    case PL_TYPE_INT32: case PL_TYPE_DATE32: case PL_TYPE_UINT32: case PL_TYPE_INT64: break;
    default: t->direct_off = true; return PL_OK;
    }
    bool nulls = a->validity && pl_array_null_count(a) > 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    INT_KEY_SWITCH(MINMAX)
    if (mn <= mx) {
        int64_t lo = t->direct ? PL_MIN(mn, t->dmin) : mn;
        int64_t hi = t->direct ? PL_MAX(mx, t->dmin + t->dlen - 1) : mx;
        if ((uint64_t)hi - (uint64_t)lo >= (uint64_t)AGG_DIRECT_MAX) {
            if (t->direct) PL_TRY(agg_charge(t, -t->dlen * 4, err));
            pl_free(t->direct);
            t->direct = NULL;
            t->direct_off = true;
            return PL_OK;
        }
        if (!t->direct || lo < t->dmin || hi > t->dmin + t->dlen - 1) {
            /* grow with slack so slowly widening ranges do not rebuild every morsel */
            int64_t len = hi - lo + 1;
            int64_t pad = PL_MIN(len / 2, ((int64_t)AGG_DIRECT_MAX - len) / 2);
            int64_t nlo = lo > INT64_MIN + pad ? lo - pad : lo;
            int64_t nlen = PL_MIN(len + 2 * pad, (int64_t)AGG_DIRECT_MAX);
            if (nlo + nlen - 1 < hi) nlen = hi - nlo + 1;
            PL_TRY(agg_charge(t, (nlen - t->dlen) * 4, err));
            int32_t *map = pl_malloc((size_t)nlen * 4);
            if (!map) {
                agg_charge(t, -(nlen - t->dlen) * 4, NULL);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the group table");
            }
            memset(map, 0xff, (size_t)nlen * 4);
            if (t->direct) memcpy(map + (t->dmin - nlo), t->direct, (size_t)t->dlen * 4);
            pl_free(t->direct);
            t->direct = map;
            t->dmin = nlo;
            t->dlen = nlen;
        }
    }
    *done = true;
    int32_t *map = t->direct;
    int64_t base = t->dmin;
    if (!map) { /* every key NULL */
        for (int64_t r = 0; r < n; r++) {
            uint32_t g0;
            PL_TRY(null_group(t, a, r, &g0, err));
            gids[r] = g0;
        }
        return PL_OK;
    }
    INT_KEY_SWITCH(DIRECT_LOOP)
    return PL_OK;
}
