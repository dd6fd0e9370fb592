/* sort_keys.c - normalised sort keys and the stable parallel MSD radix sort over them (see
 * sort_int.h for the record layout). Encoding runs in row blocks on the pool; the sort finds the
 * first key byte that varies, splits on it in parallel, then sorts the 256 buckets as separate
 * tasks (MSD radix recursion, insertion sort for small buckets). Every step is stable, so ties
 * keep ascending row ids. Strings tied on their prefix are re-sorted by full value last. */
#include <stdatomic.h>

#include "exec/sort/sort_int.h"

#define ENC_BLOCK 65536
#define MSD_SMALL 32
#define PAR_MIN_ROWS 100000

/* ---------------------------------------------------------------- value access */

static inline int64_t dict_index(const pl_array *a, int64_t r) {
    const uint8_t *v = a->values->data;
    int64_t i = a->offset + r;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[i];
    case PL_TYPE_UINT8: return v[i];
    case PL_TYPE_INT16: return ((const int16_t *)(const void *)v)[i];
    case PL_TYPE_UINT16: return ((const uint16_t *)(const void *)v)[i];
    case PL_TYPE_INT32: return ((const int32_t *)(const void *)v)[i];
    case PL_TYPE_UINT32: return ((const uint32_t *)(const void *)v)[i];
    default: return ((const int64_t *)(const void *)v)[i];
    }
}

/* Bytes of string value r of a (plain or dictionary); NULL when a NULL. */
static const uint8_t *str_at(const pl_array *a, int64_t r, int32_t *len) {
    if (!pl_array_is_valid(a, r)) return NULL;
    if (a->type->id == PL_TYPE_DICTIONARY) {
        int64_t i = dict_index(a, r);
        if (!pl_array_is_valid(a->dictionary, i)) return NULL;
        return pl_array_bytes(a->dictionary, i, len);
    }
    return pl_array_bytes(a, r, len);
}

/* ---------------------------------------------------------------- encoding */

static inline void put_be64(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}
static inline void put_be32(uint8_t *p, uint32_t v) {
    v = __builtin_bswap32(v);
    memcpy(p, &v, 4);
}
static inline void put_be16(uint8_t *p, uint16_t v) {
    v = __builtin_bswap16(v);
    memcpy(p, &v, 2);
}
static inline uint64_t norm_f64(double d) {
    if (d != d) return 0xFFF8000000000000ULL;
    if (d == 0) d = 0.0;
    uint64_t u;
    memcpy(&u, &d, 8);
    return (u >> 63) ? ~u : u ^ (1ULL << 63);
}
static inline uint32_t norm_f32(float d) {
    if (d != d) return 0xFFC00000U;
    if (d == 0) d = 0.0f;
    uint32_t u;
    memcpy(&u, &d, 4);
    return (u >> 31) ? ~u : u ^ (1U << 31);
}

/* Value bytes of a key of type t; -1 when the type cannot be a sort key. */
static int32_t value_width(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_NA: return 0;
    case PL_TYPE_BOOL: case PL_TYPE_INT8: case PL_TYPE_UINT8: return 1;
    case PL_TYPE_INT16: case PL_TYPE_UINT16: return 2;
    case PL_TYPE_INT32: case PL_TYPE_UINT32: case PL_TYPE_DATE32: case PL_TYPE_FLOAT32: return 4;
    case PL_TYPE_INT64: case PL_TYPE_UINT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
    case PL_TYPE_FLOAT64: return 8;
    case PL_TYPE_DECIMAL128: case PL_TYPE_INTERVAL: return 16;
    case PL_TYPE_FIXED_BINARY: return t->byte_width;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: return PL_SORT_STR_PREFIX + 1;
    case PL_TYPE_DICTIONARY: return value_width(t->value_type);
    default: return -1;
    }
}

/* Ascending normalised bytes of valid value i of the plain array v. */
static void enc_value(const pl_array *v, int64_t i, uint8_t *p) {
    const uint8_t *b = v->values ? v->values->data : NULL;
    int64_t j = v->offset + i;
    switch (v->type->id) {
    case PL_TYPE_NA: break;
    case PL_TYPE_BOOL: p[0] = pl_bit_get(b, j); break;
    case PL_TYPE_INT8: p[0] = (uint8_t)(b[j] ^ 0x80); break;
    case PL_TYPE_UINT8: p[0] = b[j]; break;
    case PL_TYPE_INT16: put_be16(p, (uint16_t)(((const uint16_t *)(const void *)b)[j] ^ 0x8000)); break;
    case PL_TYPE_UINT16: put_be16(p, ((const uint16_t *)(const void *)b)[j]); break;
    case PL_TYPE_INT32: case PL_TYPE_DATE32:
        put_be32(p, ((const uint32_t *)(const void *)b)[j] ^ 0x80000000U);
        break;
    case PL_TYPE_UINT32: put_be32(p, ((const uint32_t *)(const void *)b)[j]); break;
    case PL_TYPE_FLOAT32: put_be32(p, norm_f32(((const float *)(const void *)b)[j])); break;
    case PL_TYPE_INT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        put_be64(p, ((const uint64_t *)(const void *)b)[j] ^ (1ULL << 63));
        break;
    case PL_TYPE_UINT64: put_be64(p, ((const uint64_t *)(const void *)b)[j]); break;
    case PL_TYPE_FLOAT64: put_be64(p, norm_f64(((const double *)(const void *)b)[j])); break;
    case PL_TYPE_DECIMAL128: {
        uint64_t lo = pl_load_u64le(b + j * 16), hi = pl_load_u64le(b + j * 16 + 8);
        put_be64(p, hi ^ (1ULL << 63));
        put_be64(p + 8, lo);
        break;
    }
    case PL_TYPE_INTERVAL: { /* by length, a month 30 days and a day 24 hours (DuckDB's order) */
        unsigned __int128 u = (unsigned __int128)pl_interval_ns(b + j * 16) ^ ((unsigned __int128)1 << 127);
        put_be64(p, (uint64_t)(u >> 64));
        put_be64(p + 8, (uint64_t)u);
        break;
    }
    case PL_TYPE_FIXED_BINARY: memcpy(p, b + j * v->type->byte_width, (size_t)v->type->byte_width); break;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: {
        int32_t len;
        const uint8_t *s = pl_array_bytes(v, i, &len);
        int32_t m = PL_MIN(len, PL_SORT_STR_PREFIX);
        memcpy(p, s, (size_t)m);
        memset(p + m, 0, (size_t)(PL_SORT_STR_PREFIX - m));
        p[PL_SORT_STR_PREFIX] = (uint8_t)m;
        break;
    }
    default: break;
    }
}

typedef struct enc_key {
    pl_array *a;
    int32_t vw, off;
    bool marker, desc, nf;
    uint8_t *table; /* dictionary: per entry a valid byte then vw value bytes (desc applied) */
    int64_t dict_n; /* entries of table */
} enc_key;

typedef struct enc_job {
    int32_t n_keys;
    enc_key *keys;
    uint8_t *recs;
    int32_t width, key_bytes;
    int64_t n;
    _Atomic int bad;          /* a valid row's dictionary index is outside its dictionary */
    _Atomic int64_t bad_index; /* one such index, bad_dict_n its dictionary's size */
    _Atomic int64_t bad_dict_n;
} enc_job;

static inline void invert(uint8_t *p, int32_t n) {
    for (int32_t i = 0; i < n; i++) p[i] = (uint8_t)~p[i];
}

#define ENC_LOOP(VALID, BODY)                                                                      \
    for (int64_t r = lo; r < hi; r++) {                                                            \
        uint8_t *p = recs + r * W + k->off;                                                        \
        if (k->marker) {                                                                           \
            bool ok_ = (VALID);                                                                    \
            *p++ = ok_ ? 1 : null_mark;                                                            \
            if (!ok_) {                                                                            \
                memset(p, 0, (size_t)vw);                                                          \
                continue;                                                                          \
            }                                                                                      \
        }                                                                                          \
        BODY;                                                                                      \
    }

/* Encodes key k of rows [lo, hi). A dictionary key's rows index the encoded table with their
 * raw indices, checked against its size (arrays assembled through the C API are not validated
 * anywhere else): a valid row's index outside it returns false with the index in *bad_index
 * (the rows are encoded as zeros). */
static bool enc_key_rows(const enc_key *k, uint8_t *recs, int32_t W, int64_t lo, int64_t hi,
                         int64_t *bad_index) {
    const pl_array *a = k->a;
    int32_t vw = k->vw;
    uint8_t null_mark = k->nf ? 0 : 2;
    const uint8_t *vb = a->validity ? a->validity->data : NULL;
    int64_t ao = a->offset;
#define VALID_BIT (a->type->id != PL_TYPE_NA && (!vb || pl_bit_get(vb, ao + r)))
    if (k->table) {
        int32_t ew = vw + 1;
        uint64_t dn = (uint64_t)k->dict_n;
        bool bad = false;
        for (int64_t r = lo; r < hi; r++) {
            uint8_t *p = recs + r * W + k->off;
            const uint8_t *e = NULL;
            if (VALID_BIT) {
                int64_t d = dict_index(a, r);
                if ((uint64_t)d < dn) {
                    e = k->table + d * ew;
                } else if (!bad) {
                    bad = true;
                    *bad_index = d;
                }
            }
            if (k->marker) {
                bool ok_ = e && e[0];
                *p++ = ok_ ? 1 : null_mark;
                if (!ok_) {
                    memset(p, 0, (size_t)vw);
                    continue;
                }
            }
            if (e) memcpy(p, e + 1, (size_t)vw);
            else memset(p, 0, (size_t)vw);
        }
        return !bad;
    }
    uint64_t x64 = k->desc ? ~0ULL : 0;
    uint32_t x32 = (uint32_t)x64;
    switch (a->type->id) {
    case PL_TYPE_INT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: {
        const uint64_t *v = (const uint64_t *)pl_array_values_ptr(a);
        ENC_LOOP(VALID_BIT, put_be64(p, (v[r] ^ (1ULL << 63)) ^ x64));
        return true;
    }
    case PL_TYPE_INT32: case PL_TYPE_DATE32: {
        const uint32_t *v = (const uint32_t *)pl_array_values_ptr(a);
        ENC_LOOP(VALID_BIT, put_be32(p, (v[r] ^ 0x80000000U) ^ x32));
        return true;
    }
    case PL_TYPE_FLOAT64: {
        const double *v = (const double *)pl_array_values_ptr(a);
        ENC_LOOP(VALID_BIT, put_be64(p, norm_f64(v[r]) ^ x64));
        return true;
    }
    default:
        ENC_LOOP(VALID_BIT, {
            enc_value(a, r, p);
            if (k->desc) invert(p, vw);
        });
        return true;
    }
#undef VALID_BIT
}

static void enc_task(void *arg, int64_t blk, int32_t worker) {
    PL_UNUSED(worker);
    enc_job *j = arg;
    int64_t lo = blk * ENC_BLOCK, hi = PL_MIN(j->n, lo + ENC_BLOCK);
    int32_t W = j->width;
    int32_t pad = W - 8 - j->key_bytes;
    uint64_t zero = 0;
    for (int64_t r = lo; r < hi; r++) {
        uint8_t *p = j->recs + r * W;
        if (pad) memcpy(p + W - 16, &zero, 8); /* the padding is in the last key word */
        uint64_t id = (uint64_t)r;
        memcpy(p + W - 8, &id, 8);
    }
    for (int32_t k = 0; k < j->n_keys; k++) {
        int64_t bad = 0;
        if (!enc_key_rows(&j->keys[k], j->recs, W, lo, hi, &bad)) {
            atomic_store(&j->bad_index, bad);
            atomic_store(&j->bad_dict_n, j->keys[k].dict_n);
            atomic_store(&j->bad, 1);
        }
    }
}

/* ---------------------------------------------------------------- MSD radix sort */

typedef struct msd_ctx {
    int32_t W, K;
    const uint8_t *vary; /* [K]: 1 where some record differs from the first */
} msd_ctx;

static inline void copy_rec(uint8_t *dst, const uint8_t *src, int32_t W) {
    switch (W) {
    case 16: memcpy(dst, src, 16); break;
    case 24: memcpy(dst, src, 24); break;
    case 32: memcpy(dst, src, 32); break;
    default: memcpy(dst, src, (size_t)W);
    }
}

static inline void swap_rec(uint8_t *a, uint8_t *b, int32_t W) {
    for (int32_t i = 0; i < W; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        memcpy(a + i, &y, 8);
        memcpy(b + i, &x, 8);
    }
}

/* Key order of two records from key word w0 on: big-endian 8-byte words (the bytes between the
 * key and the row id are zero in every record, so whole words compare like memcmp). */
static inline int rec_cmp(const uint8_t *x, const uint8_t *y, int32_t w0, int32_t kw) {
    for (int32_t w = w0; w < kw; w++) {
        uint64_t a, b;
        memcpy(&a, x + w * 8, 8);
        memcpy(&b, y + w * 8, 8);
        if (a != b) return __builtin_bswap64(a) < __builtin_bswap64(b) ? -1 : 1;
    }
    return 0;
}

static void insertion_sort(uint8_t *a, int64_t n, int32_t W, int32_t d, int32_t K) {
    int32_t w0 = d / 8, kw = (K + 7) / 8;
    for (int64_t i = 1; i < n; i++)
        for (int64_t j = i; j > 0 && rec_cmp(a + (j - 1) * W, a + j * W, w0, kw) > 0; j--)
            swap_rec(a + (j - 1) * W, a + j * W, W);
}

/* Sorts the n records in a from key byte d on (t: scratch of the same size). The result ends
 * in t when to_t, else in a: buckets ping-pong between the two buffers, so each level moves
 * every record once. */
static void msd(const msd_ctx *c, uint8_t *a, uint8_t *t, int64_t n, int32_t d, bool to_t) {
    int32_t W = c->W, K = c->K;
    for (;;) {
        while (d < K && !c->vary[d]) d++;
        if (d >= K || n < 2 || n <= MSD_SMALL) {
            if (d < K && n >= 2) insertion_sort(a, n, W, d, K);
            if (to_t) memcpy(t, a, (size_t)(n * W));
            return;
        }
        int64_t cnt[256] = {0};
        for (int64_t i = 0; i < n; i++) cnt[a[i * W + d]]++;
        bool one = false;
        for (int b = 0; b < 256; b++)
            if (cnt[b] == n) one = true;
        if (one) {
            d++;
            continue;
        }
        int64_t pos[256], s = 0;
        for (int b = 0; b < 256; b++) {
            pos[b] = s;
            s += cnt[b];
        }
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *r = a + i * W;
            copy_rec(t + (pos[r[d]]++) * W, r, W);
        }
        /* the records are in t now: the children sort t into a unless the result goes to t */
        s = 0;
        for (int b = 0; b < 256; b++) {
            if (cnt[b]) msd(c, t + s * W, a + s * W, cnt[b], d + 1, !to_t);
            s += cnt[b];
        }
        return;
    }
}

/* ---------------------------------------------------------------- parallel driver */

typedef struct par_sort {
    msd_ctx c;
    uint8_t *recs, *tmp;
    int64_t n, n_parts, part_rows;
    int32_t kw;     /* words compared for the vary mask */
    uint64_t *diff; /* [n_parts][kw] */
} par_sort;

static void vary_task(void *arg, int64_t p, int32_t worker) {
    PL_UNUSED(worker);
    par_sort *ps = arg;
    int64_t lo = p * ps->part_rows, hi = PL_MIN(ps->n, lo + ps->part_rows);
    int32_t W = ps->c.W, kw = ps->kw;
    uint64_t *d = ps->diff + p * kw;
    const uint8_t *first = ps->recs;
    for (int32_t w = 0; w < kw; w++) {
        uint64_t f, acc = 0;
        memcpy(&f, first + w * 8, 8);
        for (int64_t r = lo; r < hi; r++) {
            uint64_t x;
            memcpy(&x, ps->recs + r * W + w * 8, 8);
            acc |= x ^ f;
        }
        d[w] = acc;
    }
}

/* One parallel MSD level over records a[0..n) on byte d: histogram and scatter into t in parts,
 * then the buckets as tasks (large buckets split in parallel again, so a skewed first byte
 * does not leave workers idle). */
typedef struct split_job {
    const msd_ctx *c;
    uint8_t *a, *t;
    int64_t n, n_parts, part_rows;
    int32_t d, T;
    bool to_t;
    int64_t (*cnt)[256];
    int64_t bucket_start[257];
} split_job;

static void par_split(const msd_ctx *c, uint8_t *a, uint8_t *t, int64_t n, int32_t d, bool to_t,
                      int32_t T);

static void hist_task(void *arg, int64_t p, int32_t worker) {
    PL_UNUSED(worker);
    split_job *j = arg;
    int64_t lo = p * j->part_rows, hi = PL_MIN(j->n, lo + j->part_rows);
    int32_t W = j->c->W, d = j->d;
    int64_t *cnt = j->cnt[p];
    memset(cnt, 0, sizeof(int64_t) * 256);
    for (int64_t r = lo; r < hi; r++) cnt[j->a[r * W + d]]++;
}

static void scatter_task(void *arg, int64_t p, int32_t worker) {
    PL_UNUSED(worker);
    split_job *j = arg;
    int64_t lo = p * j->part_rows, hi = PL_MIN(j->n, lo + j->part_rows);
    int32_t W = j->c->W, d = j->d;
    int64_t *pos = j->cnt[p]; /* turned into start positions */
    for (int64_t r = lo; r < hi; r++) {
        const uint8_t *src = j->a + r * W;
        copy_rec(j->t + (pos[src[d]]++) * W, src, W);
    }
}

static void bucket_task(void *arg, int64_t b, int32_t worker) {
    PL_UNUSED(worker);
    split_job *j = arg;
    int64_t s = j->bucket_start[b], m = j->bucket_start[b + 1] - s;
    int32_t W = j->c->W;
    if (m == 0) return;
    /* the records are in t: sort them back into a unless the result goes to t */
    if (m >= PAR_MIN_ROWS && m > j->n / j->T)
        par_split(j->c, j->t + s * W, j->a + s * W, m, j->d + 1, !j->to_t, j->T);
    else
        msd(j->c, j->t + s * W, j->a + s * W, m, j->d + 1, !j->to_t);
}

static void par_split(const msd_ctx *c, uint8_t *a, uint8_t *t, int64_t n, int32_t d, bool to_t,
                      int32_t T) {
    int32_t K = c->K, W = c->W;
    while (d < K && !c->vary[d]) d++;
    split_job j;
    memset(&j, 0, sizeof j);
    j.n_parts = T * 4;
    if (n < PAR_MIN_ROWS || T < 2 || d >= K ||
        !(j.cnt = pl_malloc(sizeof(int64_t) * 256 * (size_t)j.n_parts))) {
        msd(c, a, t, n, d, to_t); /* serial (also when the counters cannot be allocated) */
        return;
    }
    j.c = c;
    j.a = a;
    j.t = t;
    j.n = n;
    j.T = T;
    j.to_t = to_t;
    j.part_rows = (n + j.n_parts - 1) / j.n_parts;
    j.n_parts = (n + j.part_rows - 1) / j.part_rows;
    for (;;) {
        while (d < K && !c->vary[d]) d++;
        if (d >= K) {
            if (to_t) memcpy(t, a, (size_t)(n * W));
            pl_free(j.cnt);
            return;
        }
        j.d = d;
        pl_parallel_for(j.n_parts, T, hist_task, &j);
        int64_t run = 0;
        bool one = false;
        for (int b = 0; b < 256; b++) {
            j.bucket_start[b] = run;
            int64_t tot = 0;
            for (int64_t p = 0; p < j.n_parts; p++) {
                int64_t k = j.cnt[p][b];
                j.cnt[p][b] = run;
                run += k;
                tot += k;
            }
            one |= tot == n;
        }
        j.bucket_start[256] = run;
        if (!one) break;
        d++; /* every record has the same byte here */
    }
    pl_parallel_for(j.n_parts, T, scatter_task, &j);
    pl_parallel_for(256, T, bucket_task, &j);
    pl_free(j.cnt);
}

/* Sorts s->recs in place (result back in s->recs). */
static pl_status radix_sort(pl_sortkeys *s, int32_t n_threads, pl_error *err) {
    int64_t n = s->n;
    int32_t W = s->width, K = s->key_bytes;
    if (n < 2 || K == 0) return PL_OK;
    par_sort ps;
    memset(&ps, 0, sizeof ps);
    ps.c.W = W;
    ps.c.K = K;
    ps.recs = s->recs;
    ps.n = n;
    ps.kw = (K + 7) / 8;
    int32_t T = PL_MAX(1, n_threads);
    ps.n_parts = n < PAR_MIN_ROWS ? 1 : T * 4;
    ps.part_rows = (n + ps.n_parts - 1) / ps.n_parts;
    ps.n_parts = (n + ps.part_rows - 1) / ps.part_rows;
    uint8_t *vary = pl_calloc((size_t)ps.kw * 8, 1);
    ps.diff = pl_malloc(sizeof(uint64_t) * (size_t)(ps.n_parts * ps.kw));
    ps.tmp = pl_malloc((size_t)(n * W));
    if (!vary || !ps.diff || !ps.tmp) {
        pl_free(vary);
        pl_free(ps.diff);
        pl_free(ps.tmp);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory sorting %lld rows", (long long)n);
    }
    pl_parallel_for(ps.n_parts, T, vary_task, &ps);
    for (int32_t w = 0; w < ps.kw; w++) {
        uint64_t acc = 0;
        for (int64_t p = 0; p < ps.n_parts; p++) acc |= ps.diff[p * ps.kw + w];
        for (int32_t b = 0; b < 8; b++) vary[w * 8 + b] = (uint8_t)(((acc >> (8 * b)) & 0xFF) != 0);
    }
    ps.c.vary = vary;
    par_split(&ps.c, s->recs, ps.tmp, n, 0, false, T);
    pl_free(vary);
    pl_free(ps.diff);
    pl_free(ps.tmp);
    return PL_OK;
}

/* ---------------------------------------------------------------- string tie fix-up */

static inline bool str_flag(const pl_sortkeys *s, const uint8_t *rec, int32_t k) {
    uint8_t b = rec[s->len_off[k]];
    return b == (s->desc[k] ? (uint8_t)~PL_SORT_STR_PREFIX : PL_SORT_STR_PREFIX);
}

static int str_cmp_rows(const pl_array *a, int64_t ra, int64_t rb) {
    int32_t la = 0, lb = 0;
    const uint8_t *pa = str_at(a, ra, &la), *pb = str_at(a, rb, &lb);
    int c = memcmp(pa, pb, (size_t)PL_MIN(la, lb));
    if (c) return c;
    return (la > lb) - (la < lb);
}

static inline bool same_prefix(const pl_sortkeys *s, int64_t a, int64_t b, int32_t nbytes) {
    return memcmp(s->recs + a * s->width, s->recs + b * s->width, (size_t)nbytes) == 0;
}

/* Order of two records tied on every byte before key k0: key by key from k0, strings that are
 * longer than the prefix in both records by full value, everything else by its bytes. */
static int full_cmp(const pl_sortkeys *s, const uint8_t *ra, const uint8_t *rb, int32_t k0) {
    for (int32_t k = k0; k < s->n_keys; k++) {
        int32_t o0 = s->key_off[k], o1 = s->key_off[k + 1];
        int c = memcmp(ra + o0, rb + o0, (size_t)(o1 - o0));
        if (c) return c;
        if (s->len_off[k] >= 0 && str_flag(s, ra, k)) {
            uint64_t ia, ib;
            memcpy(&ia, ra + s->width - 8, 8);
            memcpy(&ib, rb + s->width - 8, 8);
            c = str_cmp_rows(s->keys[k], (int64_t)ia, (int64_t)ib);
            if (c) return s->desc[k] ? -c : c;
        }
    }
    return 0;
}

static void run_merge_sort(const pl_sortkeys *s, uint8_t *a, uint8_t *t, int64_t n, int32_t k0) {
    int32_t W = s->width;
    if (n <= 16) {
        for (int64_t i = 1; i < n; i++)
            for (int64_t j = i; j > 0 && full_cmp(s, a + (j - 1) * W, a + j * W, k0) > 0; j--)
                swap_rec(a + (j - 1) * W, a + j * W, W);
        return;
    }
    int64_t h = n / 2;
    run_merge_sort(s, a, t, h, k0);
    run_merge_sort(s, a + h * W, t, n - h, k0);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) {
        if (full_cmp(s, a + j * W, a + i * W, k0) < 0) copy_rec(t + (o++) * W, a + (j++) * W, W);
        else copy_rec(t + (o++) * W, a + (i++) * W, W);
    }
    while (i < h) copy_rec(t + (o++) * W, a + (i++) * W, W);
    while (j < n) copy_rec(t + (o++) * W, a + (j++) * W, W);
    memcpy(a, t, (size_t)(n * W));
}

typedef struct fix_run {
    int64_t lo, hi;
} fix_run;

typedef struct fix_ctx {
    const pl_sortkeys *s;
    int32_t n_str;
    int32_t str_keys[64]; /* string keys in key order (at most 64 are fixed up) */
    int64_t block_rows;
    fix_run **runs;   /* [block]: runs tied on the first string key, found read-only */
    int64_t *n_runs;  /* [block] */
    fix_run *all;
    atomic_int failed;
} fix_ctx;

static int32_t str_end(const fix_ctx *fc, int32_t q) {
    return fc->s->key_off[fc->str_keys[q] + 1];
}

static void find_task(void *arg, int64_t blk, int32_t worker) {
    PL_UNUSED(worker);
    fix_ctx *fc = arg;
    const pl_sortkeys *s = fc->s;
    int32_t e = str_end(fc, 0);
    int64_t lo = blk * fc->block_rows, hi = PL_MIN(s->n, lo + fc->block_rows);
    int64_t i = lo, cap = 0;
    if (i > 0)
        while (i < hi && same_prefix(s, i - 1, i, e)) i++;
    while (i < hi) {
        int64_t j = i + 1;
        while (j < s->n && same_prefix(s, i, j, e)) j++;
        if (j - i > 1 && (fc->n_str > 1 || str_flag(s, s->recs + i * s->width, fc->str_keys[0]))) {
            if (fc->n_runs[blk] == cap) {
                cap = cap ? cap * 2 : 16;
                fix_run *nr = pl_realloc(fc->runs[blk], sizeof(fix_run) * (size_t)cap);
                if (!nr) {
                    atomic_store(&fc->failed, 1);
                    return;
                }
                fc->runs[blk] = nr;
            }
            fc->runs[blk][fc->n_runs[blk]++] = (fix_run){i, j};
        }
        i = j;
    }
}

/* Records [lo, hi) tie on every byte up to the end of string key q: finish their order. */
static bool fix_range(fix_ctx *fc, int64_t lo, int64_t hi, int32_t q) {
    const pl_sortkeys *s = fc->s;
    int32_t k = fc->str_keys[q];
    if (str_flag(s, s->recs + lo * s->width, k)) {
        uint8_t *t = pl_malloc((size_t)((hi - lo) * s->width));
        if (!t) return false;
        run_merge_sort(s, s->recs + lo * s->width, t, hi - lo, k);
        pl_free(t);
        return true;
    }
    if (q + 1 >= fc->n_str) return true;
    int32_t e = str_end(fc, q + 1);
    for (int64_t i = lo; i < hi;) {
        int64_t j = i + 1;
        while (j < hi && same_prefix(s, i, j, e)) j++;
        if (j - i > 1 && !fix_range(fc, i, j, q + 1)) return false;
        i = j;
    }
    return true;
}

static void fix_task(void *arg, int64_t ri, int32_t worker) {
    PL_UNUSED(worker);
    fix_ctx *fc = arg;
    if (!fix_range(fc, fc->all[ri].lo, fc->all[ri].hi, 0)) atomic_store(&fc->failed, 1);
}

/* Re-sorts runs of records tied on a string key's prefix where the strings are longer. */
static pl_status fix_strings(pl_sortkeys *s, int32_t n_threads, pl_error *err) {
    fix_ctx fc;
    memset(&fc, 0, sizeof fc);
    fc.s = s;
    for (int32_t k = 0; k < s->n_keys && fc.n_str < 64; k++)
        if (s->len_off[k] >= 0) fc.str_keys[fc.n_str++] = k;
    if (fc.n_str == 0 || s->n < 2) return PL_OK;
    fc.block_rows = ENC_BLOCK;
    atomic_init(&fc.failed, 0);
    int64_t n_blocks = (s->n + ENC_BLOCK - 1) / ENC_BLOCK;
    fc.runs = pl_calloc((size_t)n_blocks, sizeof(fix_run *));
    fc.n_runs = pl_calloc((size_t)n_blocks, sizeof(int64_t));
    pl_status st = PL_OK;
    if (!fc.runs || !fc.n_runs) atomic_store(&fc.failed, 1);
    else pl_parallel_for(n_blocks, n_threads, find_task, &fc);
    int64_t total = 0;
    if (!atomic_load(&fc.failed)) {
        for (int64_t b = 0; b < n_blocks; b++) total += fc.n_runs[b];
        if (total > 0 && !(fc.all = pl_malloc(sizeof(fix_run) * (size_t)total)))
            atomic_store(&fc.failed, 1);
    }
    if (!atomic_load(&fc.failed) && total > 0) {
        int64_t o = 0;
        for (int64_t b = 0; b < n_blocks; b++)
            for (int64_t r = 0; r < fc.n_runs[b]; r++) fc.all[o++] = fc.runs[b][r];
        pl_parallel_for(total, n_threads, fix_task, &fc);
    }
    if (atomic_load(&fc.failed)) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory sorting strings");
    if (fc.runs)
        for (int64_t b = 0; b < n_blocks; b++) pl_free(fc.runs[b]);
    pl_free(fc.runs);
    pl_free(fc.n_runs);
    pl_free(fc.all);
    return st;
}

/* ---------------------------------------------------------------- public */

void pl_sortkeys_reset(pl_sortkeys *s) {
    if (!s) return;
    for (int32_t k = 0; k < s->n_keys; k++) pl_array_release(s->keys ? s->keys[k] : NULL);
    pl_free(s->keys);
    pl_free(s->key_off);
    pl_free(s->len_off);
    pl_free(s->desc);
    pl_free(s->recs);
    memset(s, 0, sizeof *s);
}

pl_status pl_sortkeys_build(int32_t n_keys, pl_array *const *keys, const bool *desc,
                            const bool *nulls_first, int64_t n, int32_t n_threads, int32_t flags,
                            pl_sortkeys *out, pl_error *err) {
    pl_sortkeys s;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.n_keys = n_keys;
    enc_key *ek = NULL;
    pl_status st = PL_OK;
    s.keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(pl_array *));
    s.key_off = pl_calloc((size_t)n_keys + 1, sizeof(int32_t));
    s.len_off = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(int32_t));
    s.desc = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(bool));
    ek = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(enc_key));
    if (!s.keys || !s.key_off || !s.len_off || !s.desc || !ek) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory preparing sort keys");
        goto done;
    }
    int32_t off = 0;
    for (int32_t k = 0; k < n_keys; k++) {
        pl_array *a = keys[k];
        s.keys[k] = pl_array_retain(a);
        s.desc[k] = desc[k];
        int32_t vw = value_width(a->type);
        if (vw < 0) {
            char tb[64];
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "cannot sort by a value of type %s",
                              pl_type_to_string(a->type, tb, sizeof tb));
            goto done;
        }
        enc_key *e = &ek[k];
        e->a = a;
        e->vw = vw;
        e->desc = desc[k];
        e->nf = nulls_first[k];
        e->marker = (flags & PL_SORTKEYS_MARKERS) || a->type->id == PL_TYPE_NA ||
                    pl_array_null_count(a) > 0;
        if (a->type->id == PL_TYPE_DICTIONARY) {
            pl_array *dv = a->dictionary;
            if (pl_array_null_count(dv) > 0) e->marker = true;
            e->dict_n = dv->length;
            e->table = pl_malloc((size_t)(dv->length * (vw + 1)) + 1);
            if (!e->table) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory encoding a dictionary key");
                goto done;
            }
            for (int64_t i = 0; i < dv->length; i++) {
                uint8_t *p = e->table + i * (vw + 1);
                p[0] = pl_array_is_valid(dv, i);
                memset(p + 1, 0, (size_t)vw);
                if (p[0]) {
                    enc_value(dv, i, p + 1);
                    if (e->desc) invert(p + 1, vw);
                }
            }
        }
        e->off = off;
        s.key_off[k] = off;
        int32_t vstart = off + (e->marker ? 1 : 0);
        bool is_str = pl_type_is_varlen(a->type->id) ||
                      (a->type->id == PL_TYPE_DICTIONARY && pl_type_is_varlen(a->type->value_type->id));
        s.len_off[k] = is_str ? vstart + PL_SORT_STR_PREFIX : -1;
        off = vstart + vw;
    }
    s.key_off[n_keys] = off;
    s.key_bytes = off;
    s.width = (int32_t)PL_ALIGN_UP(off, 8) + 8;
    if (n > 0) {
        s.recs = pl_malloc((size_t)(n * s.width));
        if (!s.recs) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory sorting %lld rows", (long long)n);
            goto done;
        }
        enc_job job = {n_keys, ek, s.recs, s.width, s.key_bytes, n, 0, 0, 0};
        pl_parallel_for((n + ENC_BLOCK - 1) / ENC_BLOCK, PL_MAX(1, n_threads), enc_task, &job);
        if (atomic_load(&job.bad)) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "sort key dictionary index %lld out of range "
                              "(%lld dictionary values)", (long long)atomic_load(&job.bad_index),
                              (long long)atomic_load(&job.bad_dict_n));
            goto done;
        }
        if (!(flags & PL_SORTKEYS_NO_SORT)) {
            st = radix_sort(&s, n_threads, err);
            if (!st) st = fix_strings(&s, PL_MAX(1, n_threads), err);
        }
    }
done:
    if (ek)
        for (int32_t k = 0; k < n_keys; k++) pl_free(ek[k].table);
    pl_free(ek);
    if (st) {
        pl_sortkeys_reset(&s);
        return st;
    }
    *out = s;
    return PL_OK;
}

bool pl_sortkeys_same(const pl_sortkeys *s, int32_t k0, int32_t k1, int64_t a, int64_t b) {
    if (k0 >= k1) return true;
    const uint8_t *ra = s->recs + a * s->width, *rb = s->recs + b * s->width;
    int32_t o0 = s->key_off[k0], o1 = s->key_off[k1];
    if (memcmp(ra + o0, rb + o0, (size_t)(o1 - o0))) return false;
    for (int32_t k = k0; k < k1; k++) {
        if (s->len_off[k] < 0 || !str_flag(s, ra, k)) continue;
        uint64_t ia, ib;
        memcpy(&ia, ra + s->width - 8, 8);
        memcpy(&ib, rb + s->width - 8, 8);
        if (str_cmp_rows(s->keys[k], (int64_t)ia, (int64_t)ib)) return false;
    }
    return true;
}

void pl_sortkeys_ids(const pl_sortkeys *s, int64_t lo, int64_t hi, int64_t *ids) {
    const uint8_t *p = s->recs + lo * s->width + s->width - 8;
    for (int64_t i = lo; i < hi; i++, p += s->width) {
        uint64_t r;
        memcpy(&r, p, 8);
        ids[i - lo] = (int64_t)r;
    }
}
