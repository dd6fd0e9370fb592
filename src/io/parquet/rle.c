/* rle.c - bit unpacking and the RLE/bit-packed hybrid encoding (levels, dictionary indices,
 * RLE booleans), plus bitmap helpers.
 *
 * Bit-packed groups of 8 values are unpacked with one specialised loop per bit width (the
 * width is a compile-time constant in each case, so shifts and masks fold); groups too close
 * to the end of the input go through a zero-padded copy, so no read ever passes the end. */
#include <string.h>

#include "pq_int.h"

int pl_pq_bit_width(uint32_t v) { return v ? 32 - __builtin_clz(v) : 0; }

/* ---------------------------------------------------------------- bitmaps */

void pl_pq_bits_fill(uint8_t *bits, int64_t off, int64_t n, bool v) {
    while (n > 0 && (off & 7)) {
        pl_bit_put(bits, off++, v);
        n--;
    }
    if (n >= 8) {
        memset(bits + (off >> 3), v ? 0xff : 0, (size_t)(n >> 3));
        off += n & ~(int64_t)7;
        n &= 7;
    }
    while (n-- > 0) pl_bit_put(bits, off++, v);
}

void pl_pq_bits_copy(uint8_t *dst, int64_t doff, const uint8_t *src, int64_t soff, int64_t n) {
    while (n > 0 && (doff & 7)) {
        pl_bit_put(dst, doff++, pl_bit_get(src, soff++));
        n--;
    }
    int64_t bytes = n >> 3;
    uint8_t *d = dst + (doff >> 3);
    const uint8_t *s = src + (soff >> 3);
    int sh = (int)(soff & 7);
    if (sh == 0) {
        memmove(d, s, (size_t)bytes);
    } else {
        for (int64_t k = 0; k < bytes; k++)
            d[k] = (uint8_t)((s[k] >> sh) | (s[k + 1] << (8 - sh)));
    }
    doff += bytes * 8;
    soff += bytes * 8;
    n &= 7;
    while (n-- > 0) pl_bit_put(dst, doff++, pl_bit_get(src, soff++));
}

/* ---------------------------------------------------------------- unpacking */

static inline __attribute__((always_inline)) void unpack_groups(const uint8_t *in, uint32_t *out,
                                                                 int64_t groups, const int bw) {
    const uint64_t mask = bw >= 32 ? 0xffffffffull : (((uint64_t)1 << bw) - 1);
    for (int64_t g = 0; g < groups; g++) {
        for (int k = 0; k < 8; k++) {
            const int bit = k * bw;
            uint64_t w = pl_load_u64le(in + (bit >> 3));
            out[k] = (uint32_t)((w >> (bit & 7)) & mask);
        }
        in += bw;
        out += 8;
    }
}

#define PQ_CASES(X)                                                                                \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16) X(17)   \
    X(18) X(19) X(20) X(21) X(22) X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32)

static void unpack_fast(const uint8_t *in, uint32_t *out, int64_t groups, int bw) {
    switch (bw) {
#define PQ_CASE(W)                                                                                 \
    case W:                                                                                        \
        unpack_groups(in, out, groups, W);                                                         \
        break;
        PQ_CASES(PQ_CASE)
#undef PQ_CASE
    default:
        break;
    }
}

void pl_pq_unpack32(const uint8_t *in, int64_t in_len, int bw, uint32_t *out, int64_t n) {
    if (n <= 0) return;
    if (bw == 0) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    int64_t groups = n >> 3;
    /* group g reads bytes [g*bw, g*bw + bw + 8) at most */
    int64_t fast = in_len >= bw + 8 ? (in_len - 8) / bw : 0;
    if (fast > groups) fast = groups;
    if (fast > 0) unpack_fast(in, out, fast, bw);
    int64_t done = fast * 8;
    in += fast * bw;
    in_len -= fast * bw;
    while (done < n) {
        uint8_t pad[48] = {0};
        int64_t take = in_len < bw ? in_len : bw;
        if (take > 0) memcpy(pad, in, (size_t)take);
        uint32_t tmp[8];
        unpack_fast(pad, tmp, 1, bw);
        int64_t k = n - done < 8 ? n - done : 8;
        memcpy(out + done, tmp, (size_t)k * sizeof *tmp);
        done += k;
        in += bw;
        in_len -= bw;
    }
}

void pl_pq_unpack64(const uint8_t *in, int64_t in_len, int bw, uint64_t *out, int64_t n) {
    if (n <= 0) return;
    if (bw <= 32) {
        uint32_t tmp[1024];
        int64_t done = 0;
        while (done < n) {
            int64_t k = n - done < 1024 ? n - done : 1024;
            int64_t byte = (done * bw) >> 3;
            pl_pq_unpack32(in + byte, in_len - byte, bw, tmp, k);
            for (int64_t i = 0; i < k; i++) out[done + i] = tmp[i];
            done += k;
        }
        return;
    }
    const uint64_t mask = bw == 64 ? ~0ull : (((uint64_t)1 << bw) - 1);
    for (int64_t i = 0; i < n; i++) {
        int64_t bit = i * bw;
        int64_t byte = bit >> 3;
        int sh = (int)(bit & 7);
        uint8_t pad[16] = {0};
        int64_t avail = in_len - byte;
        if (avail > 9) avail = 9;
        if (avail > 0) memcpy(pad, in + byte, (size_t)avail);
        uint64_t lo = pl_load_u64le(pad);
        uint64_t v = lo >> sh;
        if (sh + bw > 64) v |= (uint64_t)pad[8] << (64 - sh);
        out[i] = v & mask;
    }
}

/* ---------------------------------------------------------------- RLE hybrid */

static inline bool read_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return false;
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return true;
        }
    }
    return false;
}

static pl_status rle_truncated(pl_error *err, int64_t got, int64_t n) {
    PL_FAIL(err, PL_ERR_CORRUPT, "rle/bit-packed data ends after %lld of %lld values",
            (long long)got, (long long)n);
}

/* A bit-packed run of groups * 8 values of bw bits with avail bytes left: *cnt values in
 * *bytes bytes (a short final run: what the bytes hold). False when it holds no value. */
static inline bool bp_run(uint64_t groups, int64_t avail, int bw, int64_t *cnt, uint64_t *bytes) {
    uint64_t b = groups * (uint64_t)bw;
    int64_t c = (int64_t)(groups > (uint64_t)INT64_MAX / 8 ? INT64_MAX : groups * 8);
    if (bw > 0 && b > (uint64_t)avail) {
        c = avail * 8 / bw;
        b = (uint64_t)avail;
        if (c == 0) return false;
    }
    *cnt = c;
    *bytes = b;
    return true;
}

pl_status pl_pq_rle_u32(const uint8_t *p, const uint8_t *end, int bw, uint32_t *out, int64_t n,
                        pl_error *err) {
    if (bw < 0 || bw > 32) PL_FAIL(err, PL_ERR_CORRUPT, "invalid rle bit width %d", bw);
    int vbytes = (bw + 7) / 8;
    int64_t i = 0;
    while (i < n) {
        uint64_t h;
        if (!read_uleb(&p, end, &h)) return rle_truncated(err, i, n);
        if (h & 1) {
            int64_t avail = end - p, cnt;
            uint64_t bytes;
            if (!bp_run(h >> 1, avail, bw, &cnt, &bytes)) return rle_truncated(err, i, n);
            int64_t take = cnt < n - i ? cnt : n - i;
            pl_pq_unpack32(p, avail, bw, out + i, take);
            p += bytes;
            i += take;
        } else {
            int64_t cnt = (int64_t)(h >> 1);
            if (cnt < 0) return rle_truncated(err, i, n);
            if (vbytes > end - p) return rle_truncated(err, i, n);
            uint32_t v = 0;
            for (int k = 0; k < vbytes; k++) v |= (uint32_t)p[k] << (8 * k);
            p += vbytes;
            int64_t take = cnt < n - i ? cnt : n - i;
            uint32_t *o = out + i;
            for (int64_t k = 0; k < take; k++) o[k] = v;
            i += take;
        }
    }
    return PL_OK;
}

pl_status pl_pq_rle_u8(const uint8_t *p, const uint8_t *end, int bw, uint8_t *out, int64_t n,
                       pl_error *err) {
    if (bw < 0 || bw > 8) PL_FAIL(err, PL_ERR_CORRUPT, "invalid level bit width %d", bw);
    int64_t i = 0;
    uint32_t tmp[512];
    while (i < n) {
        uint64_t h;
        if (!read_uleb(&p, end, &h)) return rle_truncated(err, i, n);
        if (h & 1) {
            int64_t avail = end - p, cnt;
            uint64_t bytes;
            if (!bp_run(h >> 1, avail, bw, &cnt, &bytes)) return rle_truncated(err, i, n);
            int64_t take = cnt < n - i ? cnt : n - i;
            const uint8_t *q = p;
            int64_t qlen = avail;
            for (int64_t done = 0; done < take;) {
                int64_t k = take - done < 512 ? take - done : 512;
                pl_pq_unpack32(q, qlen, bw, tmp, k);
                for (int64_t j = 0; j < k; j++) out[i + done + j] = (uint8_t)tmp[j];
                done += k;
                q += (k * bw) >> 3; /* k is a multiple of 8 except at the very end */
                qlen -= (k * bw) >> 3;
            }
            p += bytes;
            i += take;
        } else {
            int64_t cnt = (int64_t)(h >> 1);
            if (bw > 0 && end - p < 1) return rle_truncated(err, i, n);
            uint8_t v = bw > 0 ? *p++ : 0;
            int64_t take = cnt < n - i ? cnt : n - i;
            memset(out + i, v, (size_t)take);
            i += take;
        }
    }
    return PL_OK;
}

pl_status pl_pq_rle_bits(const uint8_t *p, const uint8_t *end, uint8_t *bits, int64_t bit,
                         int64_t n, int64_t *n_set, pl_error *err) {
    int64_t i = 0;
    while (i < n) {
        uint64_t h;
        if (!read_uleb(&p, end, &h)) return rle_truncated(err, i, n);
        if (h & 1) {
            int64_t cnt;
            uint64_t bytes;
            if (!bp_run(h >> 1, end - p, 1, &cnt, &bytes)) return rle_truncated(err, i, n);
            int64_t take = cnt < n - i ? cnt : n - i;
            pl_pq_bits_copy(bits, bit + i, p, 0, take);
            p += bytes;
            i += take;
        } else {
            int64_t cnt = (int64_t)(h >> 1);
            if (end - p < 1) return rle_truncated(err, i, n);
            bool v = *p++ & 1;
            int64_t take = cnt < n - i ? cnt : n - i;
            pl_pq_bits_fill(bits, bit + i, take, v);
            i += take;
        }
    }
    *n_set = pl_bitmap_count(bits, bit, n);
    return PL_OK;
}

pl_status pl_pq_bitpacked_levels(const uint8_t *p, const uint8_t *end, int bw, uint8_t *out,
                                 int64_t n, pl_error *err) {
    if (bw < 0 || bw > 8) PL_FAIL(err, PL_ERR_CORRUPT, "invalid level bit width %d", bw);
    int64_t need = (n * bw + 7) / 8;
    if (need > end - p)
        PL_FAIL(err, PL_ERR_CORRUPT, "bit-packed levels need %lld bytes, %lld left",
                (long long)need, (long long)(end - p));
    for (int64_t i = 0; i < n; i++) {
        uint32_t v = 0;
        for (int k = 0; k < bw; k++) {
            int64_t b = i * bw + k;
            v = (v << 1) | ((p[b >> 3] >> (7 - (b & 7))) & 1);
        }
        out[i] = (uint8_t)v;
    }
    return PL_OK;
}
