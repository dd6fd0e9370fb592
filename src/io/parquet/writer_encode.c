/* writer_encode.c - encodes one shredded leaf column into a Parquet column chunk: an optional
 * dictionary page (PLAIN values) followed by v1 data pages whose levels are RLE/bit-packed
 * hybrid and whose values are RLE_DICTIONARY indices or PLAIN. Also computes the chunk's
 * statistics (min/max in the column's sort order with NaN excluded, null count, distinct
 * count when a dictionary was built).
 *
 * The dictionary is an open-addressing hash table (linear probing, power-of-two size, at most
 * half full) over the dense physical values; when its PLAIN size passes dict_max_bytes the
 * whole chunk is written PLAIN instead. Pages end on record boundaries (repetition level 0)
 * once their estimated value bytes reach page_bytes. */
#include <math.h>
#include <string.h>

#include "writer_int.h"

/* ---------------------------------------------------------------- byte vector */

pl_status pl_pqw_vec_reserve(pl_pqw_vec *v, int64_t extra, pl_error *err) {
    if (v->len + extra <= v->cap) return PL_OK;
    int64_t cap = v->cap ? v->cap * 2 : 4096;
    while (cap < v->len + extra) cap *= 2;
    uint8_t *p = pl_realloc(v->data, (size_t)cap);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory (%lld bytes)", (long long)cap);
    v->data = p;
    v->cap = cap;
    return PL_OK;
}

pl_status pl_pqw_vec_append(pl_pqw_vec *v, const void *p, int64_t n, pl_error *err) {
    if (n <= 0) return PL_OK;
    PL_TRY(pl_pqw_vec_reserve(v, n, err));
    memcpy(v->data + v->len, p, (size_t)n);
    v->len += n;
    return PL_OK;
}

void pl_pqw_vec_free(pl_pqw_vec *v) {
    pl_free(v->data);
    memset(v, 0, sizeof *v);
}

/* ---------------------------------------------------------------- RLE / bit-packed hybrid */

static inline uint8_t *put_uvarint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static int bit_width_of(uint64_t max) { return max == 0 ? 0 : 64 - __builtin_clzll(max); }

/* Worst case: every 8 values a literal group (bw bytes) plus one header per group. */
static int64_t rle_bound(int64_t n, int bw) { return (n / 8 + 1) * (bw + 10) + 16; }

#define PL_PQW_DEFINE_RLE(NAME, T)                                                                 \
    pl_status NAME(pl_pqw_vec *out, const T *v, int64_t n, int bw, pl_error *err) {                \
        PL_TRY(pl_pqw_vec_reserve(out, rle_bound(n, bw), err));                                    \
        uint8_t *p = out->data + out->len;                                                         \
        int vbytes = (bw + 7) / 8;                                                                 \
        int64_t i = 0;                                                                             \
        while (i < n) {                                                                            \
            T x = v[i];                                                                            \
            int64_t j = i + 1;                                                                     \
            while (j < n && v[j] == x) j++;                                                        \
            if (j - i >= 8) {                                                                      \
                p = put_uvarint(p, (uint64_t)(j - i) << 1);                                        \
                uint32_t xv = (uint32_t)x;                                                         \
                for (int b = 0; b < vbytes; b++) *p++ = (uint8_t)(xv >> (8 * b));                  \
                i = j;                                                                             \
                continue;                                                                          \
            }                                                                                      \
            /* literal groups of 8 until a run of 8 equal values starts at a group boundary */     \
            int64_t k = i;                                                                         \
            for (;;) {                                                                             \
                k += 8;                                                                            \
                if (k >= n) {                                                                      \
                    k = n;                                                                         \
                    break;                                                                         \
                }                                                                                  \
                if (k + 8 <= n) {                                                                  \
                    T y = v[k];                                                                    \
                    int m = 1;                                                                     \
                    while (m < 8 && v[k + m] == y) m++;                                            \
                    if (m == 8) break;                                                             \
                }                                                                                  \
            }                                                                                      \
            int64_t groups = (k - i + 7) / 8;                                                      \
            p = put_uvarint(p, ((uint64_t)groups << 1) | 1);                                       \
            uint64_t acc = 0;                                                                      \
            int bits = 0;                                                                          \
            for (int64_t t = i; t < i + groups * 8; t++) {                                         \
                uint64_t val = t < k ? (uint64_t)v[t] : 0;                                         \
                acc |= val << bits;                                                                \
                bits += bw;                                                                        \
                while (bits >= 8) {                                                                \
                    *p++ = (uint8_t)acc;                                                           \
                    acc >>= 8;                                                                     \
                    bits -= 8;                                                                     \
                }                                                                                  \
            }                                                                                      \
            i = k;                                                                                 \
        }                                                                                          \
        out->len = p - out->data;                                                                  \
        return PL_OK;                                                                              \
    }

PL_PQW_DEFINE_RLE(pl_pqw_rle_u16, uint16_t)
PL_PQW_DEFINE_RLE(pl_pqw_rle_u32, uint32_t)

/* ---------------------------------------------------------------- hashing */

static inline uint64_t fmix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_bytes(const uint8_t *p, int64_t n) {
    const uint64_t k = 0x9E3779B97F4A7C15ULL;
    uint64_t h = 0x243F6A8885A308D3ULL ^ ((uint64_t)n * k);
    while (n >= 8) {
        h = (h ^ pl_load_u64le(p)) * k;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t t = 0;
        memcpy(&t, p, (size_t)n);
        h = (h ^ t) * k;
    }
    return fmix64(h);
}

/* ---------------------------------------------------------------- dictionary */

typedef pl_pqw_dict dict;

static inline uint64_t hash_fixed(const uint8_t *p, int32_t w) {
    if (w == 4) return fmix64(pl_load_u32le(p));
    if (w == 8) return fmix64(pl_load_u64le(p));
    return hash_bytes(p, w);
}

/* (Re)builds the hash table with cap slots from the entries. */
static pl_status dict_rehash(dict *d, int64_t cap, int32_t w, bool var, pl_error *err) {
    if (cap > d->cap_slots) {
        uint32_t *slots = pl_realloc(d->slots, (size_t)cap * sizeof *slots);
        if (!slots) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the dictionary hash table");
        d->slots = slots;
        d->cap_slots = cap;
    }
    memset(d->slots, 0, (size_t)cap * sizeof *d->slots);
    int64_t mask = cap - 1;
    for (int64_t e = 0; e < d->n; e++) {
        uint64_t h = var ? d->var_hash[e] : hash_fixed(d->fixed.data + e * w, w);
        int64_t s = (int64_t)(h & (uint64_t)mask);
        while (d->slots[s]) s = (s + 1) & mask;
        d->slots[s] = (uint32_t)(e + 1);
    }
    d->mask = mask;
    return PL_OK;
}

#define PL_PQW_DICT_INITIAL_SLOTS 1024
/* After this many values, when nearly every value so far was new and the dictionary growing at
 * that rate would end far above the limit, give up early instead of hashing values that will be
 * written PLAIN anyway (unique ids, timestamps, measurements). */
#define PL_PQW_DICT_PROBE_VALUES 65536

static bool dict_hopeless(const dict *d, int64_t seen, int64_t n, int64_t max_bytes) {
    double projected = (double)d->plain_bytes * ((double)n / (double)seen);
    return d->n * 10 > seen * 9 && projected > 2.0 * (double)max_bytes;
}

static pl_status dict_build_u32(dict *d, const uint8_t *vals, int64_t n, int64_t max_bytes,
                                bool *fallback, pl_error *err);
static pl_status dict_build_u64(dict *d, const uint8_t *vals, int64_t n, int64_t max_bytes,
                                bool *fallback, pl_error *err);

/* Builds the dictionary of s's values. *fallback = true (and PL_OK) when it grows past
 * max_bytes. */
static pl_status dict_build(dict *d, const pl_pqw_leaf *leaf, const pl_pqw_shred *s,
                            int64_t max_bytes, bool *fallback, pl_error *err) {
    d->n = 0;
    d->plain_bytes = 0;
    d->fixed.len = 0;
    *fallback = false;
    int64_t n = s->n_values;
    bool var = leaf->conv == PL_PQW_CONV_BYTES;
    int32_t w = leaf->value_width;
    if (n > d->cap_idx) {
        uint32_t *idx = pl_realloc(d->idx, (size_t)n * sizeof *idx);
        if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for dictionary indices");
        d->idx = idx;
        d->cap_idx = n;
    }
    if (!var && w == 4) return dict_build_u32(d, s->fixed, n, max_bytes, fallback, err);
    if (!var && w == 8) return dict_build_u64(d, s->fixed, n, max_bytes, fallback, err);
    PL_TRY(dict_rehash(d, PL_PQW_DICT_INITIAL_SLOTS, w, var, err));
    for (int64_t i = 0; i < n; i++) {
        if (i == PL_PQW_DICT_PROBE_VALUES && dict_hopeless(d, i, n, max_bytes)) {
            *fallback = true;
            return PL_OK;
        }
        uint64_t h;
        const uint8_t *vp = NULL;
        int64_t vlen = 0;
        if (var) {
            vp = s->var[i].ptr;
            vlen = s->var[i].len;
            h = hash_bytes(vp, vlen);
        } else {
            vp = s->fixed + i * w;
            h = hash_fixed(vp, w);
        }
        int64_t slot = (int64_t)(h & (uint64_t)d->mask);
        for (;;) {
            uint32_t e = d->slots[slot];
            if (e == 0) break;
            e--;
            bool eq;
            if (var) {
                eq = d->var_hash[e] == h && d->var[e].len == vlen &&
                     (vlen == 0 || memcmp(d->var[e].ptr, vp, (size_t)vlen) == 0);
            } else if (w == 4) {
                eq = pl_load_u32le(d->fixed.data + e * 4) == pl_load_u32le(vp);
            } else if (w == 8) {
                eq = pl_load_u64le(d->fixed.data + e * 8) == pl_load_u64le(vp);
            } else {
                eq = memcmp(d->fixed.data + e * w, vp, (size_t)w) == 0;
            }
            if (eq) {
                d->idx[i] = e;
                goto next;
            }
            slot = (slot + 1) & d->mask;
        }
        /* new entry */
        if (var) {
            if (d->n == d->cap_var) {
                int64_t cap = d->cap_var ? d->cap_var * 2 : 1024;
                pl_pqw_bytes *nv = pl_realloc(d->var, (size_t)cap * sizeof *nv);
                if (!nv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the dictionary");
                d->var = nv;
                uint64_t *nh = pl_realloc(d->var_hash, (size_t)cap * sizeof *nh);
                if (!nh) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the dictionary");
                d->var_hash = nh;
                d->cap_var = cap;
            }
            d->var[d->n].ptr = vp;
            d->var[d->n].len = vlen;
            d->var_hash[d->n] = h;
            d->plain_bytes += 4 + vlen;
        } else {
            PL_TRY(pl_pqw_vec_append(&d->fixed, vp, w, err));
            d->plain_bytes += w;
        }
        d->slots[slot] = (uint32_t)(d->n + 1);
        d->idx[i] = (uint32_t)d->n;
        d->n++;
        if (d->plain_bytes > max_bytes || d->n >= INT32_MAX / 2) {
            *fallback = true;
            return PL_OK;
        }
        if (d->n * 2 > d->mask + 1) PL_TRY(dict_rehash(d, (d->mask + 1) * 2, w, var, err));
    next:;
    }
    return PL_OK;
}

/* 4- and 8-byte values: each slot holds the key next to its entry number, so a probe touches
 * one cache line; Fibonacci hashing (multiply, keep the high bits). */
#define PL_PQW_FIB 0x9E3779B97F4A7C15ULL

#define PL_PQW_DEFINE_DICT_FIXED(NAME, KT, W)                                                      \
    typedef struct NAME##_slot {                                                                   \
        KT key;                                                                                    \
        uint32_t idx1; /* entry + 1; 0 = empty */                                                  \
    } NAME##_slot;                                                                                 \
    static pl_status NAME##_rehash(dict *d, int64_t cap, int *shift, pl_error *err) {              \
        int64_t bytes = cap * (int64_t)sizeof(NAME##_slot);                                        \
        if (bytes > d->cap_slot_bytes) {                                                           \
            uint8_t *m = pl_realloc(d->slot_mem, (size_t)bytes);                                   \
            if (!m) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the dictionary hash table");     \
            d->slot_mem = m;                                                                       \
            d->cap_slot_bytes = bytes;                                                             \
        }                                                                                          \
        memset(d->slot_mem, 0, (size_t)bytes);                                                     \
        NAME##_slot *S = (NAME##_slot *)(void *)d->slot_mem;                                       \
        *shift = 64 - __builtin_ctzll((uint64_t)cap);                                              \
        int64_t mask = cap - 1;                                                                    \
        for (int64_t e = 0; e < d->n; e++) {                                                       \
            KT k;                                                                                  \
            memcpy(&k, d->fixed.data + e * W, W);                                                  \
            int64_t h = (int64_t)(((uint64_t)k * PL_PQW_FIB) >> *shift);                           \
            while (S[h].idx1) h = (h + 1) & mask;                                                  \
            S[h].key = k;                                                                          \
            S[h].idx1 = (uint32_t)(e + 1);                                                         \
        }                                                                                          \
        d->mask = mask;                                                                            \
        return PL_OK;                                                                              \
    }                                                                                              \
    static pl_status NAME(dict *d, const uint8_t *vals, int64_t n, int64_t max_bytes,              \
                          bool *fallback, pl_error *err) {                                         \
        int shift;                                                                                 \
        PL_TRY(NAME##_rehash(d, PL_PQW_DICT_INITIAL_SLOTS, &shift, err));                          \
        NAME##_slot *S = (NAME##_slot *)(void *)d->slot_mem;                                       \
        int64_t mask = d->mask;                                                                    \
        uint32_t *idx = d->idx;                                                                    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            if (i == PL_PQW_DICT_PROBE_VALUES && dict_hopeless(d, i, n, max_bytes)) {            \
                *fallback = true;                                                                  \
                return PL_OK;                                                                      \
            }                                                                                      \
            KT k;                                                                                  \
            memcpy(&k, vals + i * W, W);                                                           \
            int64_t h = (int64_t)(((uint64_t)k * PL_PQW_FIB) >> shift);                            \
            for (;;) {                                                                             \
                NAME##_slot *sl = &S[h];                                                           \
                if (sl->idx1 == 0) {                                                               \
                    PL_TRY(pl_pqw_vec_append(&d->fixed, &k, W, err));                              \
                    sl->key = k;                                                                   \
                    sl->idx1 = (uint32_t)(d->n + 1);                                               \
                    idx[i] = (uint32_t)d->n;                                                       \
                    d->n++;                                                                        \
                    d->plain_bytes += W;                                                           \
                    if (d->plain_bytes > max_bytes || d->n >= INT32_MAX / 2) {                     \
                        *fallback = true;                                                          \
                        return PL_OK;                                                              \
                    }                                                                              \
                    if (d->n * 2 > mask + 1) {                                                     \
                        PL_TRY(NAME##_rehash(d, (mask + 1) * 2, &shift, err));                     \
                        S = (NAME##_slot *)(void *)d->slot_mem;                                    \
                        mask = d->mask;                                                            \
                    }                                                                              \
                    break;                                                                         \
                }                                                                                  \
                if (sl->key == k) {                                                                \
                    idx[i] = sl->idx1 - 1;                                                         \
                    break;                                                                         \
                }                                                                                  \
                h = (h + 1) & mask;                                                                \
            }                                                                                      \
        }                                                                                          \
        return PL_OK;                                                                              \
    }

PL_PQW_DEFINE_DICT_FIXED(dict_build_u32, uint32_t, 4)
PL_PQW_DEFINE_DICT_FIXED(dict_build_u64, uint64_t, 8)

/* ---------------------------------------------------------------- statistics */

static int cmp_bytes(const uint8_t *a, int64_t na, const uint8_t *b, int64_t nb) {
    int c = memcmp(a, b, (size_t)PL_MIN(na, nb));
    if (c) return c;
    return na < nb ? -1 : na > nb;
}

/* big-endian two's complement */
static int cmp_signed_be(const uint8_t *a, const uint8_t *b, int32_t w) {
    if (a[0] != b[0]) return (int8_t)a[0] < (int8_t)b[0] ? -1 : 1;
    return memcmp(a + 1, b + 1, (size_t)(w - 1));
}

/* Min/max over n fixed-width values (or var refs) in the leaf's order. */
static pl_status compute_min_max(const pl_pqw_leaf *leaf, const uint8_t *fixed,
                                 const pl_pqw_bytes *var, int64_t n, pl_pqw_chunk *c,
                                 pl_error *err) {
    c->has_min_max = false;
    if (n == 0 || leaf->order == PL_PQW_ORDER_NONE) return PL_OK;
    int32_t w = leaf->value_width;
    switch (leaf->physical) {
    case PL_PQW_BOOLEAN: {
        uint8_t mn = 1, mx = 0;
        for (int64_t i = 0; i < n; i++) {
            mn &= fixed[i];
            mx |= fixed[i];
        }
        PL_TRY(pl_pqw_vec_append(&c->min, &mn, 1, err));
        PL_TRY(pl_pqw_vec_append(&c->max, &mx, 1, err));
        break;
    }
    case PL_PQW_INT32: {
        const uint8_t *p = fixed;
        if (leaf->order == PL_PQW_ORDER_UNSIGNED) {
            uint32_t mn = UINT32_MAX, mx = 0;
            for (int64_t i = 0; i < n; i++) {
                uint32_t v = pl_load_u32le(p + i * 4);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            PL_TRY(pl_pqw_vec_append(&c->min, &mn, 4, err));
            PL_TRY(pl_pqw_vec_append(&c->max, &mx, 4, err));
        } else {
            int32_t mn = INT32_MAX, mx = INT32_MIN;
            for (int64_t i = 0; i < n; i++) {
                int32_t v = (int32_t)pl_load_u32le(p + i * 4);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            PL_TRY(pl_pqw_vec_append(&c->min, &mn, 4, err));
            PL_TRY(pl_pqw_vec_append(&c->max, &mx, 4, err));
        }
        break;
    }
    case PL_PQW_INT64: {
        const uint8_t *p = fixed;
        if (leaf->order == PL_PQW_ORDER_UNSIGNED) {
            uint64_t mn = UINT64_MAX, mx = 0;
            for (int64_t i = 0; i < n; i++) {
                uint64_t v = pl_load_u64le(p + i * 8);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            PL_TRY(pl_pqw_vec_append(&c->min, &mn, 8, err));
            PL_TRY(pl_pqw_vec_append(&c->max, &mx, 8, err));
        } else {
            int64_t mn = INT64_MAX, mx = INT64_MIN;
            for (int64_t i = 0; i < n; i++) {
                int64_t v = (int64_t)pl_load_u64le(p + i * 8);
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            PL_TRY(pl_pqw_vec_append(&c->min, &mn, 8, err));
            PL_TRY(pl_pqw_vec_append(&c->max, &mx, 8, err));
        }
        break;
    }
    case PL_PQW_FLOAT: {
        float mn = INFINITY, mx = -INFINITY;
        bool any = false;
        for (int64_t i = 0; i < n; i++) {
            float v;
            memcpy(&v, fixed + i * 4, 4);
            if (isnan(v)) continue;
            any = true;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (!any) return PL_OK;
        if (mn == 0.0f) mn = -0.0f;
        if (mx == 0.0f) mx = 0.0f;
        PL_TRY(pl_pqw_vec_append(&c->min, &mn, 4, err));
        PL_TRY(pl_pqw_vec_append(&c->max, &mx, 4, err));
        break;
    }
    case PL_PQW_DOUBLE: {
        double mn = INFINITY, mx = -INFINITY;
        bool any = false;
        for (int64_t i = 0; i < n; i++) {
            double v;
            memcpy(&v, fixed + i * 8, 8);
            if (isnan(v)) continue;
            any = true;
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        if (!any) return PL_OK;
        if (mn == 0.0) mn = -0.0;
        if (mx == 0.0) mx = 0.0;
        PL_TRY(pl_pqw_vec_append(&c->min, &mn, 8, err));
        PL_TRY(pl_pqw_vec_append(&c->max, &mx, 8, err));
        break;
    }
    case PL_PQW_FLBA: {
        const uint8_t *mn = fixed, *mx = fixed;
        for (int64_t i = 1; i < n; i++) {
            const uint8_t *v = fixed + i * w;
            int cmn = leaf->signed_flba ? cmp_signed_be(v, mn, w) : memcmp(v, mn, (size_t)w);
            int cmx = leaf->signed_flba ? cmp_signed_be(v, mx, w) : memcmp(v, mx, (size_t)w);
            if (cmn < 0) mn = v;
            if (cmx > 0) mx = v;
        }
        if (w > PL_PQW_MAX_STAT_BYTES) return PL_OK;
        PL_TRY(pl_pqw_vec_append(&c->min, mn, w, err));
        PL_TRY(pl_pqw_vec_append(&c->max, mx, w, err));
        break;
    }
    case PL_PQW_BYTE_ARRAY: {
        const pl_pqw_bytes *mn = &var[0], *mx = &var[0];
        for (int64_t i = 1; i < n; i++) {
            const pl_pqw_bytes *v = &var[i];
            if (cmp_bytes(v->ptr, v->len, mn->ptr, mn->len) < 0) mn = v;
            if (cmp_bytes(v->ptr, v->len, mx->ptr, mx->len) > 0) mx = v;
        }
        if (mn->len > PL_PQW_MAX_STAT_BYTES || mx->len > PL_PQW_MAX_STAT_BYTES) return PL_OK;
        PL_TRY(pl_pqw_vec_append(&c->min, mn->ptr, mn->len, err));
        PL_TRY(pl_pqw_vec_append(&c->max, mx->ptr, mx->len, err));
        break;
    }
    default: return PL_OK;
    }
    c->has_min_max = true;
    return PL_OK;
}

/* ---------------------------------------------------------------- pages */

typedef struct page_ctx {
    const pl_pqw_leaf *leaf;
    const pl_pqw_opts *opts;
    pl_pqw_chunk *c;
    pl_pqw_vec *page; /* uncompressed page body (scratch) */
    pl_pqw_vec *comp; /* compressed page body (scratch) */
    pl_thrift_enc *hdr;
} page_ctx;

/* Compresses ctx->page and appends header + body to the chunk. */
static pl_status flush_page(page_ctx *ctx, int32_t page_type, int64_t num_values,
                            int32_t encoding, pl_error *err) {
    pl_pqw_chunk *c = ctx->c;
    int64_t ulen = ctx->page->len;
    if (ulen > INT32_MAX)
        PL_FAIL(err, PL_ERR_LIMIT, "page of %lld bytes exceeds the parquet limit of 2 GiB",
                (long long)ulen);
    const uint8_t *body = ctx->page->data;
    int64_t clen = ulen;
    if (ctx->opts->codec != PL_CODEC_UNCOMPRESSED) {
        int64_t cap = pl_codec_max_compressed(ctx->opts->codec, ulen);
        ctx->comp->len = 0;
        PL_TRY(pl_pqw_vec_reserve(ctx->comp, cap + 1, err));
        static const uint8_t empty[1] = {0};
        PL_TRY(pl_codec_compress(ctx->opts->codec, ctx->opts->level, ulen ? body : empty, ulen,
                                 ctx->comp->data, cap + 1, &clen, err));
        if (clen > INT32_MAX)
            PL_FAIL(err, PL_ERR_LIMIT, "compressed page of %lld bytes exceeds 2 GiB",
                    (long long)clen);
        body = ctx->comp->data;
    }
    pl_thrift_enc_clear(ctx->hdr);
    pl_pqw_meta_page_header(ctx->hdr, page_type, (int32_t)ulen, (int32_t)clen,
                            (int32_t)num_values, encoding, true);
    PL_TRY(pl_thrift_enc_status(ctx->hdr, err));
    if (page_type == PL_PQW_PAGE_DICTIONARY) c->dict_page_offset = c->bytes.len;
    else if (c->data_page_offset < 0) c->data_page_offset = c->bytes.len;
    PL_TRY(pl_pqw_vec_reserve(&c->bytes, ctx->hdr->len + clen, err));
    memcpy(c->bytes.data + c->bytes.len, ctx->hdr->data, (size_t)ctx->hdr->len);
    c->bytes.len += ctx->hdr->len;
    if (clen) memcpy(c->bytes.data + c->bytes.len, body, (size_t)clen);
    c->bytes.len += clen;
    c->total_uncompressed += ctx->hdr->len + ulen;
    c->total_compressed += ctx->hdr->len + clen;
    return PL_OK;
}

/* Appends levels with the 4-byte length prefix of data page v1. */
static pl_status put_levels(pl_pqw_vec *v, const uint16_t *lv, int64_t n, int bw,
                            pl_error *err) {
    PL_TRY(pl_pqw_vec_reserve(v, 4, err));
    int64_t at = v->len;
    v->len += 4;
    PL_TRY(pl_pqw_rle_u16(v, lv, n, bw, err));
    pl_store_u32le(v->data + at, (uint32_t)(v->len - at - 4));
    return PL_OK;
}

/* PLAIN values [from, from+n) of the dense values. */
static pl_status put_plain(pl_pqw_vec *v, const pl_pqw_leaf *leaf, const pl_pqw_shred *s,
                           int64_t from, int64_t n, pl_error *err) {
    if (n == 0 || leaf->conv == PL_PQW_CONV_NONE) return PL_OK;
    int32_t w = leaf->value_width;
    if (leaf->physical == PL_PQW_BOOLEAN) {
        int64_t nb = (n + 7) / 8;
        PL_TRY(pl_pqw_vec_reserve(v, nb, err));
        uint8_t *p = v->data + v->len;
        memset(p, 0, (size_t)nb);
        const uint8_t *src = s->fixed + from;
        for (int64_t i = 0; i < n; i++) p[i >> 3] |= (uint8_t)(src[i] << (i & 7));
        v->len += nb;
        return PL_OK;
    }
    if (leaf->conv == PL_PQW_CONV_BYTES) {
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += 4 + s->var[from + i].len;
        PL_TRY(pl_pqw_vec_reserve(v, total, err));
        uint8_t *p = v->data + v->len;
        for (int64_t i = 0; i < n; i++) {
            const pl_pqw_bytes *b = &s->var[from + i];
            pl_store_u32le(p, (uint32_t)b->len);
            if (b->len) memcpy(p + 4, b->ptr, (size_t)b->len);
            p += 4 + b->len;
        }
        v->len += total;
        return PL_OK;
    }
    return pl_pqw_vec_append(v, s->fixed + from * w, n * w, err);
}

static pl_status write_dict_page(page_ctx *ctx, const dict *d, pl_error *err) {
    const pl_pqw_leaf *leaf = ctx->leaf;
    ctx->page->len = 0;
    if (leaf->conv == PL_PQW_CONV_BYTES) {
        PL_TRY(pl_pqw_vec_reserve(ctx->page, d->plain_bytes, err));
        uint8_t *p = ctx->page->data;
        for (int64_t e = 0; e < d->n; e++) {
            pl_store_u32le(p, (uint32_t)d->var[e].len);
            if (d->var[e].len) memcpy(p + 4, d->var[e].ptr, (size_t)d->var[e].len);
            p += 4 + d->var[e].len;
        }
        ctx->page->len = d->plain_bytes;
    } else {
        PL_TRY(pl_pqw_vec_append(ctx->page, d->fixed.data, d->fixed.len, err));
    }
    return flush_page(ctx, PL_PQW_PAGE_DICTIONARY, d->n, PL_PQW_ENC_PLAIN, err);
}

static pl_status write_data_pages(page_ctx *ctx, const pl_pqw_shred *s, const dict *d,
                                  pl_error *err) {
    const pl_pqw_leaf *leaf = ctx->leaf;
    int def_bw = bit_width_of((uint64_t)leaf->max_def);
    int rep_bw = bit_width_of((uint64_t)leaf->max_rep);
    int idx_bw = d ? PL_MAX(1, bit_width_of((uint64_t)(d->n > 0 ? d->n - 1 : 0))) : 0;
    /* estimated bits per value */
    int64_t fixed_bits = d ? idx_bw
                           : leaf->physical == PL_PQW_BOOLEAN ? 1 : (int64_t)leaf->value_width * 8;
    bool var_plain = !d && leaf->conv == PL_PQW_CONV_BYTES;
    int64_t budget_bits = ctx->opts->page_bytes * 8;
    uint16_t max_def = (uint16_t)leaf->max_def;
    int64_t lvl = 0, val = 0;
    bool first = true;
    while (lvl < s->n_levels || first) {
        first = false;
        int64_t l = lvl, nv = 0, bits = 0;
        while (l < s->n_levels) {
            if (l > lvl && (leaf->max_rep == 0 || s->rep[l] == 0) &&
                (bits >= budget_bits || l - lvl >= PL_PQW_MAX_PAGE_LEVELS))
                break;
            if (s->def[l] == max_def && leaf->conv != PL_PQW_CONV_NONE) {
                bits += var_plain ? (4 + s->var[val + nv].len) * 8 : fixed_bits;
                nv++;
            }
            l++;
        }
        int64_t nl = l - lvl;
        ctx->page->len = 0;
        if (leaf->max_rep > 0) PL_TRY(put_levels(ctx->page, s->rep + lvl, nl, rep_bw, err));
        if (leaf->max_def > 0) PL_TRY(put_levels(ctx->page, s->def + lvl, nl, def_bw, err));
        int32_t enc = PL_PQW_ENC_PLAIN;
        if (d) {
            enc = PL_PQW_ENC_RLE_DICTIONARY;
            PL_TRY(pl_pqw_vec_reserve(ctx->page, 1, err));
            ctx->page->data[ctx->page->len++] = (uint8_t)idx_bw;
            PL_TRY(pl_pqw_rle_u32(ctx->page, d->idx + val, nv, idx_bw, err));
            ctx->c->has_dict = true;
        } else {
            PL_TRY(put_plain(ctx->page, leaf, s, val, nv, err));
            ctx->c->has_plain = true;
        }
        PL_TRY(flush_page(ctx, PL_PQW_PAGE_DATA, nl, enc, err));
        lvl = l;
        val += nv;
    }
    return PL_OK;
}

pl_status pl_pqw_encode_chunk(const pl_pqw_leaf *leaf, const pl_pqw_shred *s,
                              const pl_pqw_opts *opts, pl_pqw_scratch *scr, pl_pqw_chunk *c,
                              pl_error *err) {
    pl_pqw_vec bytes = c->bytes;
    memset(c, 0, sizeof *c);
    c->bytes = bytes;
    c->bytes.len = 0;
    c->dict_page_offset = -1;
    c->data_page_offset = -1;
    c->distinct_count = -1;
    c->num_values = s->n_levels;
    c->null_count = s->n_levels - s->n_values;
    page_ctx ctx = {leaf, opts, c, &scr->page, &scr->comp, &scr->hdr};
    dict *d = &scr->dict;
    bool use_dict = false;
    pl_status st = PL_OK;
    if (opts->use_dictionary && leaf->physical != PL_PQW_BOOLEAN &&
        leaf->conv != PL_PQW_CONV_NONE && s->n_values > 0) {
        bool fallback = false;
        st = dict_build(d, leaf, s, opts->dict_max_bytes, &fallback, err);
        if (st != PL_OK) goto done;
        use_dict = !fallback;
    }
    if (opts->write_statistics) {
        if (use_dict) st = compute_min_max(leaf, d->fixed.data, d->var, d->n, c, err);
        else st = compute_min_max(leaf, s->fixed, s->var, s->n_values, c, err);
        if (st != PL_OK) goto done;
        if (use_dict && leaf->order != PL_PQW_ORDER_FLOAT) c->distinct_count = d->n;
    }
    if (use_dict) {
        st = write_dict_page(&ctx, d, err);
        if (st != PL_OK) goto done;
    }
    st = write_data_pages(&ctx, s, use_dict ? d : NULL, err);
done:
    if (st != PL_OK) pl_pqw_chunk_free(c);
    return st;
}

void pl_pqw_scratch_free(pl_pqw_scratch *scr) {
    pl_pqw_shred_free(&scr->shred);
    dict *d = &scr->dict;
    pl_free(d->slots);
    pl_pqw_vec_free(&d->fixed);
    pl_free(d->var);
    pl_free(d->var_hash);
    pl_free(d->idx);
    pl_free(d->slot_mem);
    pl_pqw_vec_free(&scr->page);
    pl_pqw_vec_free(&scr->comp);
    pl_thrift_enc_reset(&scr->hdr);
    memset(scr, 0, sizeof *scr);
}

void pl_pqw_chunk_free(pl_pqw_chunk *c) {
    pl_pqw_vec_free(&c->bytes);
    pl_pqw_vec_free(&c->min);
    pl_pqw_vec_free(&c->max);
}
