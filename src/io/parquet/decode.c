/* decode.c - value decoders for one data page: PLAIN, dictionary indices (RLE_DICTIONARY /
 * PLAIN_DICTIONARY), RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
 * DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT, writing dense values into a pl_pq_sink in the leaf's
 * output representation (conversions such as INT96 -> timestamp[ns] or decimals -> decimal128
 * are applied on the way). Dictionary pages are decoded once, already converted, so data pages
 * only gather.
 *
 * Invariants: every read is checked against the page end; dictionary indices are checked
 * against the dictionary size; varlen data stays below 2 GiB per chunk (int32 offsets). */
#include <string.h>

#include "pq_int.h"

#define PQ_COPY_SLACK 16 /* bytes of slack after varlen data for 16-byte over-copies */

/* ---------------------------------------------------------------- scratch and sinks */

uint8_t *pl_pq_scratch_get(uint8_t **p, int64_t *cap, int64_t n) {
    if (n <= *cap && *p) return *p;
    int64_t c = *cap * 2 > n ? *cap * 2 : n;
    if (c < 4096) c = 4096;
    pl_free(*p);
    *p = pl_malloc((size_t)c + PQ_COPY_SLACK);
    *cap = *p ? c : 0;
    return *p;
}

void pl_pq_scratch_reset(pl_pq_scratch *s) {
    pl_free(s->chunk);
    pl_free(s->page);
    pl_free(s->tmp);
    pl_free(s->idx);
    pl_free(s->lv);
    pl_free(s->bits);
    pl_free(s->di);
    pl_free(s->dict);
    pl_free(s->msel);
    pl_free(s->fill);
    memset(s, 0, sizeof *s);
}

void pl_pq_dict_reset(pl_pq_dict *d) {
    if (!d->shared) {
        if (!d->borrowed) pl_free(d->values);
        pl_free(d->offsets);
        pl_free(d->data);
    }
    memset(d, 0, sizeof *d);
}

void pl_pq_sink_reset(pl_pq_sink *s) {
    pl_buf_release(s->values);
    pl_buf_release(s->data);
    s->values = s->data = NULL;
    s->n = s->cap = 0;
}

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory decoding values"); }

pl_status pl_pq_sink_reserve(pl_pq_sink *s, int64_t n, int64_t data_bytes, pl_error *err) {
    int64_t need = s->n + n;
    bool varlen = s->conv == PL_PQ_CONV_VARLEN;
    if (!s->values) {
        int64_t bytes = varlen ? (need + 1) * 4 : s->conv == PL_PQ_CONV_BOOL ? (need + 7) / 8 + 8
                                                                             : need * s->width;
        PL_TRY(pl_buf_new(bytes + PQ_COPY_SLACK, &s->values, err));
        s->cap = need;
        if (varlen) {
            ((int32_t *)(void *)s->values->data)[0] = 0;
            PL_TRY(pl_buf_new(data_bytes + PQ_COPY_SLACK, &s->data, err));
        }
    } else if (need > s->cap) {
        int64_t cap = s->cap * 2 > need ? s->cap * 2 : need;
        int64_t bytes = varlen ? (cap + 1) * 4 : s->conv == PL_PQ_CONV_BOOL ? (cap + 7) / 8 + 8
                                                                            : cap * s->width;
        if (s->values->release_fn) {
            /* a caller-provided view cannot grow: move to an owned buffer */
            int64_t used = varlen ? (s->n + 1) * 4 : s->conv == PL_PQ_CONV_BOOL ? (s->n + 7) / 8
                                                                               : s->n * s->width;
            pl_buf *nb;
            PL_TRY(pl_buf_new(bytes + PQ_COPY_SLACK, &nb, err));
            int64_t pre = PL_MIN(used, s->prefix ? s->prefix_bytes : 0);
            if (pre > 0) memcpy(nb->data, s->prefix, (size_t)pre);
            memcpy(nb->data + pre, s->values->data + pre, (size_t)(used - pre));
            s->prefix = NULL;
            s->prefix_bytes = 0;
            pl_buf_release(s->values);
            s->values = nb;
        } else {
            PL_TRY(pl_buf_reserve(s->values, bytes + PQ_COPY_SLACK, err));
        }
        s->cap = cap;
    }
    if (varlen) {
        int64_t used = ((int32_t *)(void *)s->values->data)[s->n];
        if (used + data_bytes > (int64_t)PL_MAX_VARLEN_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "string data of one column chunk exceeds %lld bytes",
                    (long long)PL_MAX_VARLEN_BYTES);
        if (used + data_bytes + PQ_COPY_SLACK > s->data->capacity)
            PL_TRY(pl_buf_reserve(s->data, used + data_bytes + PQ_COPY_SLACK, err));
    }
    return PL_OK;
}

static inline int32_t *sink_offsets(pl_pq_sink *s) { return (int32_t *)(void *)s->values->data; }

/* ---------------------------------------------------------------- conversions */

static inline void store_dec(uint8_t *dst, int64_t v) {
    uint64_t lo = (uint64_t)v;
    uint64_t hi = v < 0 ? ~0ull : 0;
    memcpy(dst, &lo, 8);
    memcpy(dst + 8, &hi, 8);
}

/* big-endian two's complement of len bytes (len <= 16) -> 16 bytes little endian */
static inline void be_to_dec(const uint8_t *src, int32_t len, uint8_t *dst) {
    uint8_t fill = (len > 0 && (src[0] & 0x80)) ? 0xff : 0;
    memset(dst, fill, 16);
    for (int32_t k = 0; k < len; k++) dst[k] = src[len - 1 - k];
}

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    uint32_t f;
    if (exp == 0) {
        if (man == 0) {
            f = sign;
        } else {
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400));
            man &= 0x3ff;
            f = sign | ((uint32_t)(127 - 15 - e) << 23) | (man << 13);
        }
    } else if (exp == 31) {
        f = sign | 0x7f800000u | (man << 13);
    } else {
        f = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float out;
    memcpy(&out, &f, 4);
    return out;
}

#define PQ_JULIAN_EPOCH 2440588LL
#define PQ_US_PER_DAY 86400000000LL

/* Converts n fixed-width physical values (pw bytes each) at src into the output
 * representation at dst. */
static void convert_fixed(pl_pq_conv conv, const uint8_t *src, int32_t pw, uint8_t *dst,
                          int64_t n) {
    switch (conv) {
    case PL_PQ_CONV_I32_I8:
        for (int64_t i = 0; i < n; i++) dst[i] = (uint8_t)pl_load_u32le(src + 4 * i);
        break;
    case PL_PQ_CONV_I32_I16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t v = (uint16_t)pl_load_u32le(src + 4 * i);
            memcpy(dst + 2 * i, &v, 2);
        }
        break;
    case PL_PQ_CONV_I32_MS_US:
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)(int32_t)pl_load_u32le(src + 4 * i) * 1000;
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    case PL_PQ_CONV_I32_DEC:
        for (int64_t i = 0; i < n; i++) store_dec(dst + 16 * i, (int32_t)pl_load_u32le(src + 4 * i));
        break;
    case PL_PQ_CONV_I64_DEC:
        for (int64_t i = 0; i < n; i++) store_dec(dst + 16 * i, (int64_t)pl_load_u64le(src + 8 * i));
        break;
    case PL_PQ_CONV_FLBA_DEC:
        for (int64_t i = 0; i < n; i++) be_to_dec(src + (int64_t)pw * i, pw, dst + 16 * i);
        break;
    case PL_PQ_CONV_INT96_TS:
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *q = src + 12 * i;
            int64_t nanos = (int64_t)pl_load_u64le(q);
            int64_t day = (int64_t)pl_load_u32le(q + 8);
            uint64_t v = (uint64_t)(day - PQ_JULIAN_EPOCH) * (uint64_t)PQ_US_PER_DAY +
                         (uint64_t)(nanos / 1000);
            memcpy(dst + 8 * i, &v, 8);
        }
        break;
    case PL_PQ_CONV_F16_F32:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            float f = half_to_float(h);
            memcpy(dst + 4 * i, &f, 4);
        }
        break;
    default:
        memcpy(dst, src, (size_t)(n * pw));
        break;
    }
}

static pl_status short_page(pl_error *err, const char *what, int64_t need, int64_t have) {
    PL_FAIL(err, PL_ERR_CORRUPT, "%s needs %lld bytes but the page has %lld", what,
            (long long)need, (long long)have);
}

/* ---------------------------------------------------------------- varlen helpers */

/* Appends n PLAIN byte arrays from [p, end) to offsets/data of a varlen sink. */
static pl_status plain_varlen(const uint8_t *p, const uint8_t *end, int64_t n, pl_pq_sink *s,
                              pl_error *err) {
    int64_t avail = end - p;
    if (n > avail / 4) return short_page(err, "byte_array values", n * 4, avail);
    PL_TRY(pl_pq_sink_reserve(s, n, avail, err));
    int32_t *off = sink_offsets(s) + s->n;
    uint8_t *data = s->data->data;
    int64_t pos = off[0];
    for (int64_t i = 0; i < n; i++) {
        if (end - p < 4) return short_page(err, "byte_array length", 4, end - p);
        uint32_t len = pl_load_u32le(p);
        p += 4;
        if (len > (uint64_t)(end - p)) return short_page(err, "byte_array value", len, end - p);
        /* short values: one 16-byte copy (the sink has PQ_COPY_SLACK bytes after the data) */
        if (len <= 16 && end - p >= 16) memcpy(data + pos, p, 16);
        else memcpy(data + pos, p, len);
        p += len;
        pos += len;
        off[i + 1] = (int32_t)pos;
    }
    s->n += n;
    s->data->size = pos;
    return PL_OK;
}

/* A temporary varlen representation for conversions (FLBA/decimal from delta encodings). */
typedef struct varlen_tmp {
    int32_t *off;
    uint8_t *data;
} varlen_tmp;

/* Converts n byte arrays (offsets/data) into fixed output values of the sink. */
static pl_status varlen_to_fixed(const pl_pq_leaf_desc *leaf, const int32_t *off,
                                 const uint8_t *data, int64_t n, pl_pq_sink *s, pl_error *err) {
    PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
    uint8_t *dst = s->values->data + s->n * s->width;
    for (int64_t i = 0; i < n; i++) {
        int32_t len = off[i + 1] - off[i];
        const uint8_t *v = data + off[i];
        if (leaf->conv == PL_PQ_CONV_BA_DEC) {
            if (len > 16)
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "decimal value of %d bytes (at most 16)", len);
            be_to_dec(v, len, dst + 16 * i);
            continue;
        }
        if (len != leaf->phys_width)
            PL_FAIL(err, PL_ERR_CORRUPT, "fixed_len_byte_array value of %d bytes, expected %d", len,
                    leaf->phys_width);
        convert_fixed(leaf->conv, v, leaf->phys_width, dst + (int64_t)s->width * i, 1);
    }
    s->n += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- PLAIN */

static pl_status decode_plain(const pl_pq_leaf_desc *leaf, const uint8_t *p, const uint8_t *end,
                              int64_t n, pl_pq_sink *s, pl_error *err) {
    int64_t avail = end - p;
    switch (leaf->conv) {
    case PL_PQ_CONV_BOOL: {
        int64_t need = (n + 7) / 8;
        if (need > avail) return short_page(err, "boolean values", need, avail);
        PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
        pl_pq_bits_copy(s->values->data, s->n, p, 0, n);
        s->n += n;
        return PL_OK;
    }
    case PL_PQ_CONV_VARLEN:
        return plain_varlen(p, end, n, s, err);
    case PL_PQ_CONV_BA_DEC: {
        PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
        uint8_t *dst = s->values->data + s->n * 16;
        for (int64_t i = 0; i < n; i++) {
            if (end - p < 4) return short_page(err, "byte_array length", 4, end - p);
            uint32_t len = pl_load_u32le(p);
            p += 4;
            if (len > (uint64_t)(end - p)) return short_page(err, "byte_array value", len, end - p);
            if (len > 16)
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "decimal value of %u bytes (at most 16)", len);
            be_to_dec(p, (int32_t)len, dst + 16 * i);
            p += len;
        }
        s->n += n;
        return PL_OK;
    }
    default: {
        int64_t pw = leaf->phys_width;
        if (n > avail / (pw > 0 ? pw : 1)) return short_page(err, "plain values", n * pw, avail);
        PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
        convert_fixed(leaf->conv, p, (int32_t)pw, s->values->data + s->n * s->width, n);
        s->n += n;
        return PL_OK;
    }
    }
}

/* ---------------------------------------------------------------- dictionaries */

pl_status pl_pq_decode_dict(const pl_pq_leaf_desc *leaf, const uint8_t *p, const uint8_t *end,
                            int64_t n, pl_pq_dict *d, pl_pq_scratch *scr, pl_error *err) {
    (void)scr;
    pl_pq_dict_reset(d);
    pl_pq_sink s = {0};
    s.conv = leaf->conv;
    s.width = leaf->out_width;
    pl_status st;
    if (leaf->conv == PL_PQ_CONV_BOOL) {
        /* booleans: one byte per dictionary value */
        int64_t avail = end - p;
        if ((n + 7) / 8 > avail) return short_page(err, "boolean dictionary", (n + 7) / 8, avail);
        d->values = pl_malloc((size_t)n + PQ_COPY_SLACK);
        if (!d->values) return nomem(err);
        for (int64_t i = 0; i < n; i++) d->values[i] = pl_bit_get(p, i);
        d->n = n;
        d->width = 1;
        return PL_OK;
    }
    st = decode_plain(leaf, p, end, n, &s, err);
    if (st) {
        pl_pq_sink_reset(&s);
        return st;
    }
    d->n = n;
    if (leaf->conv == PL_PQ_CONV_VARLEN) {
        int32_t *off = sink_offsets(&s);
        d->offsets = pl_malloc((size_t)(n + 1) * sizeof(int32_t));
        d->data_bytes = off[n];
        d->data = pl_malloc((size_t)d->data_bytes + PQ_COPY_SLACK);
        if (!d->offsets || !d->data) {
            pl_pq_sink_reset(&s);
            pl_pq_dict_reset(d);
            return nomem(err);
        }
        memcpy(d->offsets, off, (size_t)(n + 1) * sizeof(int32_t));
        memcpy(d->data, s.data->data, (size_t)d->data_bytes);
        memset(d->data + d->data_bytes, 0, PQ_COPY_SLACK);
        int32_t mx = 0;
        for (int64_t i = 0; i < n; i++) mx = PL_MAX(mx, off[i + 1] - off[i]);
        d->max_len = mx;
        d->width = 0;
    } else {
        d->width = leaf->out_width;
        d->values = pl_malloc((size_t)(n * d->width) + PQ_COPY_SLACK);
        if (!d->values) {
            pl_pq_sink_reset(&s);
            return nomem(err);
        }
        memcpy(d->values, s.values->data, (size_t)(n * d->width));
    }
    pl_pq_sink_reset(&s);
    return PL_OK;
}

static pl_status bad_index(pl_error *err, uint32_t idx, int64_t n) {
    PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %u out of range (size %lld)", idx, (long long)n);
}

static pl_status decode_dict_page(const pl_pq_leaf_desc *leaf, const uint8_t *p,
                                  const uint8_t *end, int64_t n, const pl_pq_dict *d,
                                  pl_pq_sink *s, pl_pq_scratch *scr, pl_error *err) {
    if (!d)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary-encoded page without a dictionary page");
    if (n == 0) return PL_OK;
    if (p >= end) return short_page(err, "dictionary indices", 1, 0);
    int bw = *p++;
    if (bw > 32) PL_FAIL(err, PL_ERR_CORRUPT, "invalid dictionary index bit width %d", bw);
    uint32_t *idx = (uint32_t *)(void *)pl_pq_scratch_get(&scr->idx, &scr->idx_cap,
                                                          n * (int64_t)sizeof(uint32_t));
    if (!idx) return nomem(err);
    PL_TRY(pl_pq_rle_u32(p, end, bw, idx, n, err));
    uint32_t mx = 0;
    for (int64_t i = 0; i < n; i++) mx = idx[i] > mx ? idx[i] : mx;
    if ((int64_t)mx >= d->n) return bad_index(err, mx, d->n);
    if (leaf->conv == PL_PQ_CONV_BOOL) {
        PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
        uint8_t *bits = s->values->data;
        for (int64_t i = 0; i < n; i++) pl_bit_put(bits, s->n + i, d->values[idx[i]]);
        s->n += n;
        return PL_OK;
    }
    if (leaf->conv == PL_PQ_CONV_VARLEN) {
        const int32_t *doff = d->offsets;
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += doff[idx[i] + 1] - doff[idx[i]];
        PL_TRY(pl_pq_sink_reserve(s, n, total, err));
        int32_t *off = sink_offsets(s) + s->n;
        uint8_t *data = s->data->data;
        int32_t pos = off[0];
        const uint8_t *dd = d->data;
        for (int64_t i = 0; i < n; i++) {
            uint32_t k = idx[i];
            int32_t start = doff[k], len = doff[k + 1] - start;
            const uint8_t *src = dd + start;
            uint8_t *dst = data + pos;
            /* 16-byte over-copies: both buffers have PQ_COPY_SLACK bytes of slack */
            int32_t c = 0;
            do {
                memcpy(dst + c, src + c, 16);
                c += 16;
            } while (c < len);
            pos += len;
            off[i + 1] = pos;
        }
        s->n += n;
        s->data->size = pos;
        return PL_OK;
    }
    PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
    uint8_t *dst = s->values->data + s->n * s->width;
    switch (d->width) {
    case 4: {
        const uint32_t *dv = (const uint32_t *)(const void *)d->values;
        uint32_t *o = (uint32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) o[i] = dv[idx[i]];
        break;
    }
    case 8: {
        const uint64_t *dv = (const uint64_t *)(const void *)d->values;
        uint64_t *o = (uint64_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) o[i] = dv[idx[i]];
        break;
    }
    case 1:
        for (int64_t i = 0; i < n; i++) dst[i] = d->values[idx[i]];
        break;
    case 2:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 2 * i, d->values + 2 * (int64_t)idx[i], 2);
        break;
    case 16:
        for (int64_t i = 0; i < n; i++) memcpy(dst + 16 * i, d->values + 16 * (int64_t)idx[i], 16);
        break;
    default: {
        int64_t w = d->width;
        for (int64_t i = 0; i < n; i++) memcpy(dst + w * i, d->values + w * (int64_t)idx[i], (size_t)w);
        break;
    }
    }
    s->n += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- delta encodings */

static pl_status decode_delta_ints(const pl_pq_leaf_desc *leaf, const uint8_t *p,
                                   const uint8_t *end, int64_t n, pl_pq_sink *s,
                                   pl_pq_scratch *scr, pl_error *err) {
    int pw = leaf->phys_width;
    if (leaf->physical != PL_PQ_INT32 && leaf->physical != PL_PQ_INT64)
        PL_FAIL(err, PL_ERR_CORRUPT, "delta_binary_packed encoding on a %s column",
                pl_pq_physical_name(leaf->physical));
    PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
    if (leaf->conv == PL_PQ_CONV_NONE) {
        PL_TRY(pl_pq_delta_decode(p, end, pw, s->values->data + s->n * s->width, n, NULL, err));
    } else {
        uint8_t *tmp = pl_pq_scratch_get(&scr->tmp, &scr->tmp_cap, n * pw + 8);
        if (!tmp) return nomem(err);
        PL_TRY(pl_pq_delta_decode(p, end, pw, tmp, n, NULL, err));
        convert_fixed(leaf->conv, tmp, pw, s->values->data + s->n * s->width, n);
    }
    s->n += n;
    return PL_OK;
}

/* Decodes the lengths stream of a delta byte array encoding into scratch. */
static pl_status delta_lengths(const uint8_t **pp, const uint8_t *end, int64_t n, int32_t **out,
                               uint8_t **buf, int64_t *cap, pl_error *err) {
    int64_t count;
    PL_TRY(pl_pq_delta_count(*pp, end, &count, err));
    if (count < n)
        PL_FAIL(err, PL_ERR_CORRUPT, "delta lengths hold %lld values, expected %lld",
                (long long)count, (long long)n);
    int32_t *len = (int32_t *)(void *)pl_pq_scratch_get(buf, cap, (n + 1) * 4);
    if (!len) return nomem(err);
    int64_t used;
    PL_TRY(pl_pq_delta_decode(*pp, end, 4, len, n, &used, err));
    *pp += used;
    *out = len;
    return PL_OK;
}

static pl_status decode_delta_length(const pl_pq_leaf_desc *leaf, const uint8_t *p,
                                     const uint8_t *end, int64_t n, pl_pq_sink *s,
                                     pl_pq_scratch *scr, pl_error *err) {
    int32_t *len;
    PL_TRY(delta_lengths(&p, end, n, &len, &scr->tmp, &scr->tmp_cap, err));
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (len[i] < 0) PL_FAIL(err, PL_ERR_CORRUPT, "negative byte_array length %d", len[i]);
        total += len[i];
    }
    if (total > end - p) return short_page(err, "delta_length_byte_array data", total, end - p);
    if (leaf->conv == PL_PQ_CONV_VARLEN) {
        PL_TRY(pl_pq_sink_reserve(s, n, total, err));
        int32_t *off = sink_offsets(s) + s->n;
        int32_t pos = off[0];
        memcpy(s->data->data + pos, p, (size_t)total);
        for (int64_t i = 0; i < n; i++) {
            pos += len[i];
            off[i + 1] = pos;
        }
        s->n += n;
        s->data->size = pos;
        return PL_OK;
    }
    /* fixed outputs: offsets relative to p */
    int32_t *off = pl_malloc((size_t)(n + 1) * sizeof(int32_t));
    if (!off) return nomem(err);
    off[0] = 0;
    for (int64_t i = 0; i < n; i++) off[i + 1] = off[i] + len[i];
    pl_status st = varlen_to_fixed(leaf, off, p, n, s, err);
    pl_free(off);
    return st;
}

static pl_status decode_delta_byte_array(const pl_pq_leaf_desc *leaf, const uint8_t *p,
                                         const uint8_t *end, int64_t n, pl_pq_sink *s,
                                         pl_pq_scratch *scr, pl_error *err) {
    int32_t *pre, *suf;
    PL_TRY(delta_lengths(&p, end, n, &pre, &scr->tmp, &scr->tmp_cap, err));
    PL_TRY(delta_lengths(&p, end, n, &suf, &scr->idx, &scr->idx_cap, err));
    int64_t total = 0, suf_total = 0;
    int64_t prev_len = 0;
    for (int64_t i = 0; i < n; i++) {
        if (pre[i] < 0 || suf[i] < 0 || pre[i] > prev_len)
            PL_FAIL(err, PL_ERR_CORRUPT, "invalid delta_byte_array prefix %d / suffix %d", pre[i],
                    suf[i]);
        prev_len = (int64_t)pre[i] + suf[i];
        total += prev_len;
        suf_total += suf[i];
        if (total > (int64_t)PL_MAX_VARLEN_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "string data of one page exceeds %lld bytes",
                    (long long)PL_MAX_VARLEN_BYTES);
    }
    if (suf_total > end - p) return short_page(err, "delta_byte_array data", suf_total, end - p);
    pl_pq_sink tmp = {0};
    pl_pq_sink *out = s;
    if (leaf->conv != PL_PQ_CONV_VARLEN) {
        tmp.conv = PL_PQ_CONV_VARLEN;
        out = &tmp;
    }
    pl_status st = pl_pq_sink_reserve(out, n, total, err);
    if (st) goto done;
    int32_t *off = sink_offsets(out) + out->n;
    uint8_t *data = out->data->data;
    int32_t pos = off[0];
    int32_t prev = pos; /* start of the previous value in data */
    for (int64_t i = 0; i < n; i++) {
        if (pre[i] > 0) memmove(data + pos, data + prev, (size_t)pre[i]);
        memcpy(data + pos + pre[i], p, (size_t)suf[i]);
        p += suf[i];
        prev = pos;
        pos += pre[i] + suf[i];
        off[i + 1] = pos;
    }
    out->n += n;
    out->data->size = pos;
    if (out == &tmp) st = varlen_to_fixed(leaf, sink_offsets(&tmp), tmp.data->data, n, s, err);
done:
    pl_pq_sink_reset(&tmp);
    return st;
}

/* ---------------------------------------------------------------- byte stream split */

static pl_status decode_bss(const pl_pq_leaf_desc *leaf, const uint8_t *p, const uint8_t *end,
                            int64_t n, pl_pq_sink *s, pl_pq_scratch *scr, pl_error *err) {
    int64_t w = leaf->phys_width;
    if (w <= 0 || leaf->physical == PL_PQ_INT96)
        PL_FAIL(err, PL_ERR_CORRUPT, "byte_stream_split encoding on a %s column",
                pl_pq_physical_name(leaf->physical));
    int64_t avail = end - p;
    int64_t stride = avail / w;
    if (stride < n) return short_page(err, "byte_stream_split values", n * w, avail);
    PL_TRY(pl_pq_sink_reserve(s, n, 0, err));
    uint8_t *dst = s->values->data + s->n * s->width;
    uint8_t *raw = dst;
    if (leaf->conv != PL_PQ_CONV_NONE) {
        raw = pl_pq_scratch_get(&scr->tmp, &scr->tmp_cap, n * w);
        if (!raw) return nomem(err);
    }
    if (w == 4) {
        for (int64_t i = 0; i < n; i++) {
            uint8_t *o = raw + 4 * i;
            o[0] = p[i];
            o[1] = p[stride + i];
            o[2] = p[2 * stride + i];
            o[3] = p[3 * stride + i];
        }
    } else if (w == 8) {
        for (int64_t i = 0; i < n; i++) {
            uint8_t *o = raw + 8 * i;
            for (int k = 0; k < 8; k++) o[k] = p[k * stride + i];
        }
    } else {
        for (int64_t k = 0; k < w; k++) {
            const uint8_t *q = p + k * stride;
            for (int64_t i = 0; i < n; i++) raw[w * i + k] = q[i];
        }
    }
    if (raw != dst) convert_fixed(leaf->conv, raw, (int32_t)w, dst, n);
    s->n += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- entry */

pl_status pl_pq_decode_values(const pl_pq_leaf_desc *leaf, int32_t encoding, const uint8_t *p,
                              const uint8_t *end, int64_t n, const pl_pq_dict *dict,
                              pl_pq_sink *sink, pl_pq_scratch *scr, pl_error *err) {
    switch (encoding) {
    case PL_PQ_ENC_PLAIN:
        return decode_plain(leaf, p, end, n, sink, err);
    case PL_PQ_ENC_PLAIN_DICTIONARY:
    case PL_PQ_ENC_RLE_DICTIONARY:
        return decode_dict_page(leaf, p, end, n, dict, sink, scr, err);
    case PL_PQ_ENC_RLE: {
        if (leaf->conv != PL_PQ_CONV_BOOL)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "rle encoding of %s values is not supported",
                    pl_pq_physical_name(leaf->physical));
        if (n == 0) return PL_OK;
        if (end - p < 4) return short_page(err, "rle boolean length", 4, end - p);
        uint32_t len = pl_load_u32le(p);
        p += 4;
        if (len > (uint64_t)(end - p)) return short_page(err, "rle boolean values", len, end - p);
        PL_TRY(pl_pq_sink_reserve(sink, n, 0, err));
        int64_t set;
        PL_TRY(pl_pq_rle_bits(p, p + len, sink->values->data, sink->n, n, &set, err));
        sink->n += n;
        return PL_OK;
    }
    case PL_PQ_ENC_DELTA_BINARY_PACKED:
        return decode_delta_ints(leaf, p, end, n, sink, scr, err);
    case PL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
        if (leaf->physical != PL_PQ_BYTE_ARRAY)
            PL_FAIL(err, PL_ERR_CORRUPT, "delta_length_byte_array encoding on a %s column",
                    pl_pq_physical_name(leaf->physical));
        return decode_delta_length(leaf, p, end, n, sink, scr, err);
    case PL_PQ_ENC_DELTA_BYTE_ARRAY:
        if (leaf->physical != PL_PQ_BYTE_ARRAY && leaf->physical != PL_PQ_FIXED_LEN_BYTE_ARRAY)
            PL_FAIL(err, PL_ERR_CORRUPT, "delta_byte_array encoding on a %s column",
                    pl_pq_physical_name(leaf->physical));
        return decode_delta_byte_array(leaf, p, end, n, sink, scr, err);
    case PL_PQ_ENC_BYTE_STREAM_SPLIT:
        return decode_bss(leaf, p, end, n, sink, scr, err);
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "page encoding %s is not supported",
                pl_pq_encoding_name(encoding));
    }
}
