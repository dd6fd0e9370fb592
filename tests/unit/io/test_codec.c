/* test_codec.c - unit tests for src/io/codecs/codec.c: every codec round-trips several inputs
 * (empty, tiny, compressible, random, multi-megabyte), names map both ways, and corrupt,
 * truncated or wrongly sized input gives PL_ERR_CORRUPT. Also checks interop framings the
 * reader must accept: concatenated gzip members, zlib and raw deflate streams, LZ4 hadoop
 * framing with several blocks and plain LZ4 blocks under LZ4_HADOOP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <lz4.h>
#include <zlib.h>

#include "core/core.h"
#include "io/codecs/codec.h"

static const pl_codec all_codecs[] = {
    PL_CODEC_UNCOMPRESSED, PL_CODEC_SNAPPY,     PL_CODEC_GZIP, PL_CODEC_LZ4_RAW,
    PL_CODEC_LZ4_FRAME,    PL_CODEC_LZ4_HADOOP, PL_CODEC_ZSTD, PL_CODEC_BROTLI,
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* kind 0: random bytes, 1: text-like (compressible), 2: all one byte */
static uint8_t *make_input(int64_t n, int kind) {
    uint8_t *p = pl_malloc((size_t)(n ? n : 1));
    assert_non_null(p);
    static const char words[] = "polaroid columnar parquet arrow engine ";
    for (int64_t i = 0; i < n; i++) {
        if (kind == 0) p[i] = (uint8_t)rng();
        else if (kind == 1) p[i] = (uint8_t)words[(i * 7 + (int64_t)(rng() % 3)) % (sizeof words - 1)];
        else p[i] = 'x';
    }
    return p;
}

static uint8_t *compress_or_die(pl_codec c, const uint8_t *src, int64_t n, int64_t *out_len) {
    int64_t cap = pl_codec_max_compressed(c, n);
    assert_true(cap >= 0);
    uint8_t *dst = pl_malloc((size_t)(cap ? cap : 1));
    assert_non_null(dst);
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_codec_compress(c, 0, src, n, dst, cap ? cap : 1, out_len, &err);
    if (st != PL_OK) fail_msg("%s compress: %s", pl_codec_name(c), err.msg);
    assert_true(*out_len <= cap || cap == 0);
    return dst;
}

static void test_roundtrip_all(void **state) {
    (void)state;
    const int64_t sizes[] = {0, 1, 7, 100, 4096, 65537, 3 << 20};
    for (size_t ci = 0; ci < PL_ARRAY_LEN(all_codecs); ci++) {
        pl_codec c = all_codecs[ci];
        for (size_t si = 0; si < PL_ARRAY_LEN(sizes); si++) {
            for (int kind = 0; kind < 3; kind++) {
                int64_t n = sizes[si];
                if (c == PL_CODEC_BROTLI && n > 100000 && kind == 0) continue; /* slow */
                uint8_t *src = make_input(n, kind);
                int64_t clen = 0;
                uint8_t *comp = compress_or_die(c, src, n, &clen);
                if (kind == 2 && n >= 4096 && c != PL_CODEC_UNCOMPRESSED)
                    assert_true(clen < n / 4);
                uint8_t *back = pl_malloc((size_t)(n + 1));
                pl_error err;
                pl_error_init(&err);
                pl_status st = pl_codec_decompress(c, comp, clen, back, n, &err);
                if (st != PL_OK)
                    fail_msg("%s n=%lld kind=%d: %s", pl_codec_name(c), (long long)n, kind,
                             err.msg);
                assert_memory_equal(back, src, (size_t)n ? (size_t)n : 0);
                pl_free(back);
                pl_free(comp);
                pl_free(src);
            }
        }
    }
}

static void test_wrong_size_is_corrupt(void **state) {
    (void)state;
    int64_t n = 10000;
    uint8_t *src = make_input(n, 1);
    uint8_t *back = pl_malloc((size_t)n + 100);
    for (size_t ci = 0; ci < PL_ARRAY_LEN(all_codecs); ci++) {
        pl_codec c = all_codecs[ci];
        int64_t clen;
        uint8_t *comp = compress_or_die(c, src, n, &clen);
        pl_error err;
        /* expected size smaller than the real one */
        pl_error_init(&err);
        assert_int_equal(pl_codec_decompress(c, comp, clen, back, n - 1, &err), PL_ERR_CORRUPT);
        assert_true(strlen(err.msg) > 0);
        /* expected size larger than the real one; must not write past the real size... */
        pl_error_init(&err);
        assert_int_equal(pl_codec_decompress(c, comp, clen, back, n + 100, &err), PL_ERR_CORRUPT);
        assert_true(strlen(err.msg) > 0);
        pl_free(comp);
    }
    pl_free(back);
    pl_free(src);
}

static void test_truncated_and_garbage_is_corrupt(void **state) {
    (void)state;
    int64_t n = 50000;
    uint8_t *src = make_input(n, 1);
    uint8_t *back = pl_malloc((size_t)n);
    for (size_t ci = 0; ci < PL_ARRAY_LEN(all_codecs); ci++) {
        pl_codec c = all_codecs[ci];
        int64_t clen;
        uint8_t *comp = compress_or_die(c, src, n, &clen);
        pl_error err;
        /* truncated: every prefix length class */
        const int64_t cuts[] = {0, 1, 5, clen / 2, clen - 1};
        for (size_t k = 0; k < PL_ARRAY_LEN(cuts); k++) {
            pl_error_init(&err);
            pl_status st = pl_codec_decompress(c, comp, cuts[k], back, n, &err);
            if (st != PL_ERR_CORRUPT)
                fail_msg("%s truncated to %lld: status %d", pl_codec_name(c), (long long)cuts[k],
                         (int)st);
        }
        /* garbage (uncompressed data has no structure to violate) */
        if (c == PL_CODEC_UNCOMPRESSED) {
            pl_free(comp);
            continue;
        }
        uint8_t *junk = make_input(clen, 0);
        pl_error_init(&err);
        assert_int_equal(pl_codec_decompress(c, junk, clen, back, n, &err), PL_ERR_CORRUPT);
        pl_free(junk);
        /* a flipped byte in the middle must never crash; it is either detected or (for
         * codecs without checksums) decodes to some bytes of the right size */
        comp[clen / 2] ^= 0x5a;
        pl_error_init(&err);
        pl_status st = pl_codec_decompress(c, comp, clen, back, n, &err);
        assert_true(st == PL_OK || st == PL_ERR_CORRUPT);
        pl_free(comp);
    }
    pl_free(back);
    pl_free(src);
}

static void test_trailing_bytes_are_corrupt(void **state) {
    (void)state;
    int64_t n = 3000;
    uint8_t *src = make_input(n, 1);
    uint8_t *back = pl_malloc((size_t)n);
    const pl_codec cs[] = {PL_CODEC_ZSTD, PL_CODEC_GZIP, PL_CODEC_BROTLI, PL_CODEC_LZ4_FRAME};
    for (size_t ci = 0; ci < PL_ARRAY_LEN(cs); ci++) {
        int64_t clen;
        uint8_t *comp = compress_or_die(cs[ci], src, n, &clen);
        uint8_t *longer = pl_malloc((size_t)clen + 3);
        memcpy(longer, comp, (size_t)clen);
        memcpy(longer + clen, "abc", 3);
        pl_error err;
        pl_error_init(&err);
        pl_status st = pl_codec_decompress(cs[ci], longer, clen + 3, back, n, &err);
        if (st != PL_ERR_CORRUPT) fail_msg("%s accepted trailing garbage", pl_codec_name(cs[ci]));
        pl_free(longer);
        pl_free(comp);
    }
    pl_free(back);
    pl_free(src);
}

/* zlib-format and raw deflate streams, and two concatenated gzip members, all decode as GZIP */
static void test_gzip_variants(void **state) {
    (void)state;
    int64_t n = 20000;
    uint8_t *src = make_input(n, 1);
    uint8_t *back = pl_malloc((size_t)n);
    uLong cap = compressBound((uLong)n) + 64;
    uint8_t *buf = pl_malloc(cap * 2);
    pl_error err;
    /* zlib (windowBits 15) and raw (-15) */
    const int wbits[] = {15, -15};
    for (size_t k = 0; k < PL_ARRAY_LEN(wbits); k++) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, wbits[k], 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = src;
        zs.avail_in = (uInt)n;
        zs.next_out = buf;
        zs.avail_out = (uInt)cap;
        assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
        int64_t clen = (int64_t)zs.total_out;
        deflateEnd(&zs);
        pl_error_init(&err);
        if (pl_codec_decompress(PL_CODEC_GZIP, buf, clen, back, n, &err) != PL_OK)
            fail_msg("windowBits %d: %s", wbits[k], err.msg);
        assert_memory_equal(back, src, (size_t)n);
    }
    /* two members: first half and second half */
    int64_t half = n / 2, l1, l2;
    uint8_t *m1 = compress_or_die(PL_CODEC_GZIP, src, half, &l1);
    uint8_t *m2 = compress_or_die(PL_CODEC_GZIP, src + half, n - half, &l2);
    memcpy(buf, m1, (size_t)l1);
    memcpy(buf + l1, m2, (size_t)l2);
    pl_error_init(&err);
    if (pl_codec_decompress(PL_CODEC_GZIP, buf, l1 + l2, back, n, &err) != PL_OK)
        fail_msg("two members: %s", err.msg);
    assert_memory_equal(back, src, (size_t)n);
    /* only the first member's worth of output expected: the second member is too much */
    pl_error_init(&err);
    assert_int_equal(pl_codec_decompress(PL_CODEC_GZIP, buf, l1 + l2, back, half, &err),
                     PL_ERR_CORRUPT);
    pl_free(m1);
    pl_free(m2);
    pl_free(buf);
    pl_free(back);
    pl_free(src);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* hadoop framing with three blocks, and a plain lz4 block, both under LZ4_HADOOP */
static void test_lz4_hadoop_variants(void **state) {
    (void)state;
    int64_t n = 30000;
    uint8_t *src = make_input(n, 1);
    uint8_t *back = pl_malloc((size_t)n);
    int cap = LZ4_compressBound((int)n);
    uint8_t *buf = pl_malloc((size_t)cap * 2 + 64);
    int64_t pos = 0;
    const int64_t parts[] = {0, 10000, 25000, 30000};
    for (int k = 0; k < 3; k++) {
        int len = (int)(parts[k + 1] - parts[k]);
        int r = LZ4_compress_default((const char *)src + parts[k], (char *)buf + pos + 8, len, cap);
        assert_true(r > 0);
        put_be32(buf + pos, (uint32_t)len);
        put_be32(buf + pos + 4, (uint32_t)r);
        pos += 8 + r;
    }
    pl_error err;
    pl_error_init(&err);
    if (pl_codec_decompress(PL_CODEC_LZ4_HADOOP, buf, pos, back, n, &err) != PL_OK)
        fail_msg("hadoop 3 blocks: %s", err.msg);
    assert_memory_equal(back, src, (size_t)n);
    /* a plain block */
    int r = LZ4_compress_default((const char *)src, (char *)buf, (int)n, cap);
    pl_error_init(&err);
    if (pl_codec_decompress(PL_CODEC_LZ4_HADOOP, buf, r, back, n, &err) != PL_OK)
        fail_msg("plain block: %s", err.msg);
    assert_memory_equal(back, src, (size_t)n);
    /* neither */
    pl_error_init(&err);
    assert_int_equal(pl_codec_decompress(PL_CODEC_LZ4_HADOOP, buf, r / 2, back, n, &err),
                     PL_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "lz4"));
    pl_free(buf);
    pl_free(back);
    pl_free(src);
}

static void test_names_and_bad_codec(void **state) {
    (void)state;
    for (size_t ci = 0; ci < PL_ARRAY_LEN(all_codecs); ci++)
        assert_int_equal(pl_codec_from_name(pl_codec_name(all_codecs[ci])), (int)all_codecs[ci]);
    assert_int_equal(pl_codec_from_name("ZSTD"), PL_CODEC_ZSTD);
    assert_int_equal(pl_codec_from_name("none"), PL_CODEC_UNCOMPRESSED);
    assert_int_equal(pl_codec_from_name("lz4"), PL_CODEC_LZ4_RAW);
    assert_int_equal(pl_codec_from_name("bogus"), -1);
    assert_int_equal(pl_codec_from_name(NULL), -1);
    assert_string_equal(pl_codec_name((pl_codec)99), "unknown");
    uint8_t b[4] = {0};
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_codec_decompress((pl_codec)99, b, 4, b, 4, &err), PL_ERR_UNSUPPORTED);
    int64_t out_len;
    assert_int_equal(pl_codec_compress((pl_codec)99, 0, b, 0, b, 4, &out_len, &err),
                     PL_ERR_UNSUPPORTED);
    /* uncompressed with a size mismatch */
    assert_int_equal(pl_codec_decompress(PL_CODEC_UNCOMPRESSED, b, 3, b, 4, &err), PL_ERR_CORRUPT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_all),
        cmocka_unit_test(test_wrong_size_is_corrupt),
        cmocka_unit_test(test_truncated_and_garbage_is_corrupt),
        cmocka_unit_test(test_trailing_bytes_are_corrupt),
        cmocka_unit_test(test_gzip_variants),
        cmocka_unit_test(test_lz4_hadoop_variants),
        cmocka_unit_test(test_names_and_bad_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
