/* test_parquet_read_rle.c - the reader's RLE/bit-packed hybrid, bit unpacking, deprecated
 * BIT_PACKED levels and DELTA_BINARY_PACKED decoders (src/io/parquet/rle.c, delta.c), checked
 * against the examples of the Parquet encodings spec and against a small reference encoder
 * written here from the spec, for every bit width; truncated inputs must fail cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/parquet/pq_int.h"
#include "../common/test_util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { return test_xorshift(&rng_state); }

/* reference: LSB-first bit packing of n values (the RLE hybrid's bit-packed runs) */
static int64_t ref_pack(const uint64_t *v, int64_t n, int bw, uint8_t *out) {
    int64_t bytes = (n * bw + 7) / 8;
    memset(out, 0, (size_t)bytes);
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < bw; k++)
            if ((v[i] >> k) & 1) out[(i * bw + k) / 8] |= (uint8_t)(1u << ((i * bw + k) % 8));
    return bytes;
}

static int uleb(uint8_t *out, uint64_t v) {
    int n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* hybrid encoding: alternating RLE runs (of value v, count c) and bit-packed runs */
typedef struct hyb {
    uint8_t buf[1 << 16];
    int64_t n;
} hyb;

static void hyb_rle(hyb *h, uint32_t v, int64_t count, int bw) {
    h->n += uleb(h->buf + h->n, (uint64_t)count << 1);
    for (int k = 0; k < (bw + 7) / 8; k++) h->buf[h->n++] = (uint8_t)(v >> (8 * k));
}

static void hyb_packed(hyb *h, const uint64_t *v, int64_t groups, int bw) {
    h->n += uleb(h->buf + h->n, ((uint64_t)groups << 1) | 1);
    h->n += ref_pack(v, groups * 8, bw, h->buf + h->n);
}

static void test_spec_examples(void **state) {
    (void)state;
    pl_error err;
    pl_error_init(&err);
    /* RLE hybrid bit-packing of 0..7 at width 3 (spec: 10001000 11000110 11111010) */
    uint8_t packed[] = {0x03, 0x88, 0xc6, 0xfa};
    uint32_t out[8];
    assert_int_equal(pl_pq_rle_u32(packed, packed + sizeof packed, 3, out, 8, &err), PL_OK);
    for (uint32_t k = 0; k < 8; k++) assert_int_equal(out[k], k);
    /* deprecated BIT_PACKED of 0..7 at width 3 (spec: 00000101 00111001 01110111) */
    uint8_t msb[] = {0x05, 0x39, 0x77};
    uint8_t lv[8];
    assert_int_equal(pl_pq_bitpacked_levels(msb, msb + 3, 3, lv, 8, &err), PL_OK);
    for (int k = 0; k < 8; k++) assert_int_equal(lv[k], k);
    /* DELTA_BINARY_PACKED of 1..5 (spec example: all deltas 1, widths 0) */
    uint8_t delta[] = {0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
    int32_t v32[5];
    int64_t used;
    assert_int_equal(pl_pq_delta_decode(delta, delta + sizeof delta, 4, v32, 5, &used, &err), PL_OK);
    for (int k = 0; k < 5; k++) assert_int_equal(v32[k], k + 1);
    assert_int_equal(used, sizeof delta);
    assert_int_equal(pl_pq_bit_width(0), 0);
    assert_int_equal(pl_pq_bit_width(1), 1);
    assert_int_equal(pl_pq_bit_width(7), 3);
    assert_int_equal(pl_pq_bit_width(8), 4);
}

static void test_unpack_every_width(void **state) {
    (void)state;
    enum { N = 1003 };
    static uint64_t v[N];
    static uint8_t packed[N * 8 + 8];
    static uint32_t out32[N];
    static uint64_t out64[N];
    for (int bw = 0; bw <= 64; bw++) {
        uint64_t mask = bw == 64 ? ~0ull : (1ull << bw) - 1;
        for (int i = 0; i < N; i++) v[i] = rnd() & mask;
        int64_t bytes = ref_pack(v, N, bw, packed);
        /* exact-size heap copy: reads past the end would be caught by ASan */
        uint8_t *exact = pl_malloc((size_t)(bytes > 0 ? bytes : 1));
        memcpy(exact, packed, (size_t)bytes);
        if (bw <= 32) {
            pl_pq_unpack32(exact, bytes, bw, out32, N);
            for (int i = 0; i < N; i++) assert_int_equal(out32[i], v[i]);
        }
        pl_pq_unpack64(exact, bytes, bw, out64, N);
        for (int i = 0; i < N; i++) assert_true(out64[i] == v[i]);
        pl_free(exact);
    }
}

static void test_hybrid_mixed_runs(void **state) {
    (void)state;
    static hyb h;
    static uint64_t vals[4096];
    static uint32_t expect[8192], got[8192];
    static uint8_t got8[8192];
    pl_error err;
    for (int bw = 0; bw <= 32; bw++) {
        uint64_t mask = bw == 32 ? 0xffffffffull : (1ull << bw) - 1;
        h.n = 0;
        int64_t n = 0;
        for (int run = 0; run < 12; run++) {
            if (run % 2 == 0) {
                uint32_t v = (uint32_t)(rnd() & mask);
                int64_t c = 1 + (int64_t)(rnd() % 300);
                hyb_rle(&h, v, c, bw);
                for (int64_t k = 0; k < c; k++) expect[n++] = v;
            } else {
                int64_t groups = 1 + (int64_t)(rnd() % 20);
                for (int64_t k = 0; k < groups * 8; k++) vals[k] = rnd() & mask;
                hyb_packed(&h, vals, groups, bw);
                for (int64_t k = 0; k < groups * 8; k++) expect[n++] = (uint32_t)vals[k];
            }
        }
        uint8_t *exact = pl_malloc((size_t)h.n);
        memcpy(exact, h.buf, (size_t)h.n);
        pl_error_init(&err);
        assert_int_equal(pl_pq_rle_u32(exact, exact + h.n, bw, got, n, &err), PL_OK);
        for (int64_t k = 0; k < n; k++) assert_int_equal(got[k], expect[k]);
        /* fewer values than encoded is fine (padding of the last group) */
        assert_int_equal(pl_pq_rle_u32(exact, exact + h.n, bw, got, n - 3, &err), PL_OK);
        /* more values than encoded is corrupt */
        assert_int_equal(pl_pq_rle_u32(exact, exact + h.n, bw, got, n + 1, &err), PL_ERR_CORRUPT);
        if (bw <= 8) {
            assert_int_equal(pl_pq_rle_u8(exact, exact + h.n, bw, got8, n, &err), PL_OK);
            for (int64_t k = 0; k < n; k++) assert_int_equal(got8[k], expect[k]);
        }
        /* every truncation fails cleanly or decodes a prefix */
        for (int64_t cut = 0; cut < h.n; cut += 1 + h.n / 50) {
            uint8_t *t = pl_malloc((size_t)(cut > 0 ? cut : 1));
            memcpy(t, exact, (size_t)cut);
            pl_error_init(&err);
            pl_status st = pl_pq_rle_u32(t, t + cut, bw, got, n, &err);
            if (bw > 0) assert_int_equal(st, PL_ERR_CORRUPT);
            pl_free(t);
        }
        pl_free(exact);
    }
}

static void test_rle_bits(void **state) {
    (void)state;
    static hyb h;
    static uint64_t vals[512];
    static uint8_t expect[4096];
    uint8_t bits[600];
    pl_error err;
    for (int iter = 0; iter < 50; iter++) {
        h.n = 0;
        int64_t n = 0;
        for (int run = 0; run < 8; run++) {
            if (rnd() & 1) {
                uint32_t v = (uint32_t)(rnd() & 1);
                int64_t c = 1 + (int64_t)(rnd() % 200);
                hyb_rle(&h, v, c, 1);
                for (int64_t k = 0; k < c; k++) expect[n++] = (uint8_t)v;
            } else {
                int64_t groups = 1 + (int64_t)(rnd() % 10);
                for (int64_t k = 0; k < groups * 8; k++) vals[k] = rnd() & 1;
                hyb_packed(&h, vals, groups, 1);
                for (int64_t k = 0; k < groups * 8; k++) expect[n++] = (uint8_t)vals[k];
            }
        }
        int64_t off = (int64_t)(rnd() % 13);
        memset(bits, 0xa5, sizeof bits);
        int64_t set = -1;
        pl_error_init(&err);
        assert_int_equal(pl_pq_rle_bits(h.buf, h.buf + h.n, bits, off, n, &set, &err), PL_OK);
        int64_t want_set = 0;
        for (int64_t k = 0; k < n; k++) {
            assert_int_equal(pl_bit_get(bits, off + k), expect[k]);
            want_set += expect[k];
        }
        assert_int_equal(set, want_set);
        /* bits before the offset are untouched */
        for (int64_t k = 0; k < off; k++) assert_int_equal(pl_bit_get(bits, k), (0xa5 >> k % 8) & 1);
    }
}

static int64_t ref_hdr_len;

/* reference DELTA_BINARY_PACKED encoder (block 128, 4 miniblocks of 32) */
static int64_t ref_delta(const int64_t *v, int64_t n, int width, uint8_t *out) {
    int64_t p = 0;
    p += uleb(out + p, 128);
    p += uleb(out + p, 4);
    p += uleb(out + p, (uint64_t)n);
    int64_t first = n ? v[0] : 0;
    p += uleb(out + p, ((uint64_t)first << 1) ^ (uint64_t)(first >> 63));
    ref_hdr_len = p;
    uint64_t wmask = width == 4 ? 0xffffffffull : ~0ull;
    for (int64_t i = 1; i < n; i += 128) {
        int64_t m = n - i < 128 ? n - i : 128;
        uint64_t d[128];
        for (int64_t k = 0; k < m; k++) d[k] = ((uint64_t)v[i + k] - (uint64_t)v[i + k - 1]) & wmask;
        /* min delta as a signed value of the width */
        int64_t mind = INT64_MAX;
        for (int64_t k = 0; k < m; k++) {
            int64_t s = width == 4 ? (int64_t)(int32_t)(uint32_t)d[k] : (int64_t)d[k];
            if (s < mind) mind = s;
        }
        p += uleb(out + p, ((uint64_t)mind << 1) ^ (uint64_t)(mind >> 63));
        uint64_t adj[128] = {0};
        for (int64_t k = 0; k < m; k++) adj[k] = (d[k] - (uint64_t)mind) & wmask;
        int64_t wpos = p;
        p += 4;
        for (int mb = 0; mb < 4; mb++) {
            int bw = 0;
            if (mb * 32 < m) {
                for (int k = mb * 32; k < mb * 32 + 32 && k < m; k++)
                    while (bw < 64 && (adj[k] >> bw) != 0) bw++;
            }
            out[wpos + mb] = (uint8_t)bw;
            if (mb * 32 < m) p += ref_pack(adj + mb * 32, 32, bw, out + p);
        }
    }
    return p;
}

static void test_delta_roundtrip(void **state) {
    (void)state;
    static int64_t v[3000], got64[3000];
    static int32_t got32[3000];
    static uint8_t enc[3000 * 9 + 100];
    pl_error err;
    for (int iter = 0; iter < 40; iter++) {
        int width = iter % 2 ? 8 : 4;
        int64_t n = (int64_t)(rnd() % 2999) + 1;
        int kind = iter % 4;
        for (int64_t k = 0; k < n; k++) {
            uint64_t r = rnd();
            int64_t x = kind == 0 ? (int64_t)(r % 1000) : kind == 1 ? (int64_t)r
                        : kind == 2 ? (int64_t)k * 7 - 100 : (k % 2 ? INT64_MAX : INT64_MIN);
            v[k] = width == 4 ? (int64_t)(int32_t)x : x;
        }
        int64_t len = ref_delta(v, n, width, enc);
        uint8_t *exact = pl_malloc((size_t)len);
        memcpy(exact, enc, (size_t)len);
        int64_t used;
        pl_error_init(&err);
        if (width == 4) {
            assert_int_equal(pl_pq_delta_decode(exact, exact + len, 4, got32, n, &used, &err), PL_OK);
            for (int64_t k = 0; k < n; k++) assert_int_equal(got32[k], v[k]);
        } else {
            assert_int_equal(pl_pq_delta_decode(exact, exact + len, 8, got64, n, &used, &err), PL_OK);
            for (int64_t k = 0; k < n; k++) assert_true(got64[k] == v[k]);
        }
        assert_int_equal(used, len);
        int64_t count;
        assert_int_equal(pl_pq_delta_count(exact, exact + len, &count, &err), PL_OK);
        assert_int_equal(count, n);
        /* truncated streams fail: inside the header, inside the first block header */
        int64_t cuts[2] = {ref_hdr_len - 1, ref_hdr_len + 2};
        for (int c = 0; c < (n > 1 ? 2 : 1); c++) {
            pl_error_init(&err);
            pl_status st = pl_pq_delta_decode(exact, exact + cuts[c], width, got64, n, &used, &err);
            assert_int_equal(st, PL_ERR_CORRUPT);
        }
        pl_free(exact);
    }
    /* a bad header */
    uint8_t bad[] = {0x81, 0x01, 0x04, 0x05, 0x02};
    pl_error_init(&err);
    assert_int_equal(pl_pq_delta_decode(bad, bad + sizeof bad, 4, got32, 5, NULL, &err),
                     PL_ERR_CORRUPT);
}

static void test_bits_helpers(void **state) {
    (void)state;
    uint8_t src[40], dst[40], ref[40];
    for (int iter = 0; iter < 300; iter++) {
        for (int k = 0; k < 40; k++) src[k] = (uint8_t)rnd(), dst[k] = ref[k] = (uint8_t)rnd();
        int64_t soff = (int64_t)(rnd() % 40), doff = (int64_t)(rnd() % 40);
        int64_t n = (int64_t)(rnd() % 200);
        pl_pq_bits_copy(dst, doff, src, soff, n);
        for (int64_t k = 0; k < n; k++) pl_bit_put(ref, doff + k, pl_bit_get(src, soff + k));
        assert_memory_equal(dst, ref, 40);
        bool v = rnd() & 1;
        pl_pq_bits_fill(dst, doff, n, v);
        for (int64_t k = 0; k < n; k++) pl_bit_put(ref, doff + k, v);
        assert_memory_equal(dst, ref, 40);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),   cmocka_unit_test(test_unpack_every_width),
        cmocka_unit_test(test_hybrid_mixed_runs), cmocka_unit_test(test_rle_bits),
        cmocka_unit_test(test_delta_roundtrip), cmocka_unit_test(test_bits_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
