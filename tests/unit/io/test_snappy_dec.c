/* test_snappy_dec.c - unit tests for src/io/codecs/snappy_dec.c: data compressed by libsnappy
 * (random, runs, text, periodic 8-byte values like timestamps; every length 0..300 and 1-4 MB)
 * decodes to the same bytes; random element streams built here (every element kind and length
 * encoding, copy-4, overlapping copies of every small offset) decode like a byte-by-byte
 * reference and like libsnappy; malformed blocks (bad or truncated header, cut elements,
 * offset 0 or past the output, too short or too long output, trailing bytes, every prefix of a
 * valid block) return -1, and a mutated block is only accepted when libsnappy accepts it with
 * the same output. Buffers are allocated at their exact size, so ASan catches any read or write
 * past them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "../common/test_util.h"
#include "io/codecs/snappy_dec.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) { return test_xorshift(&rng_state); }

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    assert_non_null(p);
    return p;
}

/* ---------------------------------------------------------------- helpers */

/* libsnappy's decoding of src: the output (exact size, caller frees) or NULL if it rejects it */
static uint8_t *libsnappy_decode(const uint8_t *src, size_t n, size_t *out_len) {
    size_t ulen;
    if (snappy_uncompressed_length((const char *)src, n, &ulen) != SNAPPY_OK) return NULL;
    if (ulen > ((size_t)1 << 28)) return NULL;
    uint8_t *out = xmalloc(ulen);
    *out_len = ulen;
    if (snappy_uncompress((const char *)src, n, (char *)out, out_len) != SNAPPY_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* ours on a copy of src of exactly n bytes into exactly cap bytes */
static int64_t decode_exact(const uint8_t *src, size_t n, uint8_t **out, int64_t cap) {
    uint8_t *in = xmalloc(n);
    if (n) memcpy(in, src, n);
    *out = cap ? xmalloc((size_t)cap) : NULL;
    int64_t r = pl_snappy_decode(*out, cap, in, (int64_t)n);
    free(in);
    return r;
}

static void check_roundtrip(const uint8_t *data, size_t n) {
    size_t clen = snappy_max_compressed_length(n);
    uint8_t *comp = xmalloc(clen);
    assert_int_equal(snappy_compress((const char *)data, n, (char *)comp, &clen), SNAPPY_OK);
    uint8_t *out;
    int64_t r = decode_exact(comp, clen, &out, (int64_t)n);
    if (r != (int64_t)n) fail_msg("n=%zu: decoded %lld", n, (long long)r);
    if (n) assert_memory_equal(out, data, n);
    free(out);
    free(comp);
}

/* kind 0 random, 1 runs, 2 text, 3 ascending 8-byte timestamps, 4 doubles with few distinct
 * high bytes, 5 short-period patterns (period 1..15) */
static void fill(uint8_t *p, size_t n, int kind) {
    static const char words[] = "polaroid columnar parquet arrow engine snappy ";
    uint64_t ts = 1700000000000000ull + (rng() % 1000), period = 1 + rng() % 15;
    for (size_t i = 0; i < n;) {
        switch (kind) {
        case 0: p[i++] = (uint8_t)rng(); break;
        case 1: {
            uint8_t b = (uint8_t)(rng() % 4);
            for (size_t k = rng() % 40; k-- && i < n;) p[i++] = b;
            break;
        }
        case 2:
            p[i] = (uint8_t)words[(i * 7 + rng() % 3) % (sizeof words - 1)];
            i++;
            break;
        case 3:
        case 4: {
            uint8_t v[8];
            ts += kind == 3 ? 1000 + rng() % 50 : 0;
            uint64_t x = kind == 3 ? ts : (0x4059000000000000ull | (rng() % 4096) << 20);
            memcpy(v, &x, 8);
            for (int k = 0; k < 8 && i < n; k++) p[i++] = v[k];
            break;
        }
        default: p[i] = i < period ? (uint8_t)rng() : p[i - period]; i++; break;
        }
    }
}

/* ---------------------------------------------------------------- libsnappy round trips */

static void test_roundtrip_small(void **state) {
    (void)state;
    uint8_t buf[300];
    for (int kind = 0; kind < 6; kind++)
        for (size_t n = 0; n <= 300; n++) {
            fill(buf, n, kind);
            check_roundtrip(buf, n);
        }
}

static void test_roundtrip_large(void **state) {
    (void)state;
    const size_t sizes[] = {1 << 20, (4 << 20) - 3, 65536 * 3 + 17};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int kind = 0; kind < 6; kind++) {
            uint8_t *buf = xmalloc(sizes[si]);
            fill(buf, sizes[si], kind);
            check_roundtrip(buf, sizes[si]);
            free(buf);
        }
}

/* ---------------------------------------------------------------- hand-built element streams */

typedef struct sbuf {
    uint8_t *p;
    size_t n, cap;
} sbuf;

/* noinline: inlined into build(), GCC -O3 warns a false stringop-overflow on the realloc */
__attribute__((noinline)) static void put(sbuf *b, uint8_t v) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 256;
        b->p = realloc(b->p, b->cap);
        assert_non_null(b->p);
    }
    b->p[b->n++] = v;
}

static void put_varint(sbuf *b, uint64_t v) {
    for (; v >= 0x80; v >>= 7) put(b, (uint8_t)(v | 0x80));
    put(b, (uint8_t)v);
}

static void put_le(sbuf *b, uint64_t v, int n_bytes) {
    for (int i = 0; i < n_bytes; i++) put(b, (uint8_t)(v >> (8 * i)));
}

/* a literal of len bytes; n_len_bytes 0 = in the tag (len <= 60), else 1..4 extra bytes */
static void put_literal(sbuf *b, const uint8_t *d, size_t len, int n_len_bytes) {
    if (n_len_bytes == 0) {
        put(b, (uint8_t)((len - 1) << 2));
    } else {
        put(b, (uint8_t)((59 + n_len_bytes) << 2));
        put_le(b, len - 1, n_len_bytes);
    }
    for (size_t i = 0; i < len; i++) put(b, d[i]);
}

/* kind 1: len 4..11, off < 2048; kind 2: len 1..64, off < 65536; kind 4: len 1..64 */
static void put_copy(sbuf *b, int kind, uint32_t off, uint32_t len) {
    if (kind == 1) {
        put(b, (uint8_t)(1 | (len - 4) << 2 | (off >> 8) << 5));
        put(b, (uint8_t)off);
    } else {
        put(b, (uint8_t)((kind == 2 ? 2 : 3) | (len - 1) << 2));
        put_le(b, off, kind == 2 ? 2 : 4);
    }
}

/* a random valid stream of out_len bytes into *b (header included); *want = its output */
static void random_stream(sbuf *b, size_t out_len, uint8_t *want) {
    b->n = 0;
    put_varint(b, out_len);
    size_t pos = 0;
    while (pos < out_len) {
        size_t rem = out_len - pos;
        if (pos == 0 || rng() % 3 == 0) {
            size_t len = 1 + rng() % (rng() % 8 == 0 ? 200 : 20);
            if (len > rem) len = rem;
            for (size_t i = 0; i < len; i++) want[pos + i] = (uint8_t)rng();
            int n_len_bytes = len > 60 || rng() % 8 == 0 ? 1 + (int)(rng() % 4) : 0;
            if (len > 256 && n_len_bytes == 1) n_len_bytes = 2;
            put_literal(b, want + pos, len, n_len_bytes);
            pos += len;
            continue;
        }
        int kind = (int)(rng() % 3);
        kind = kind == 0 ? 1 : kind == 1 ? 2 : 4;
        uint32_t max_len = kind == 1 ? 11 : 64, min_len = kind == 1 ? 4 : 1;
        if (rem < min_len) kind = 2, max_len = 64, min_len = 1;
        uint32_t len = min_len + (uint32_t)(rng() % (max_len - min_len + 1));
        if (len > rem) len = (uint32_t)rem;
        size_t max_off = pos;
        if (kind == 1 && max_off > 2047) max_off = 2047;
        if (kind == 2 && max_off > 65535) max_off = 65535;
        uint32_t off = (uint32_t)(1 + (rng() % 2 ? rng() % (max_off < 16 ? max_off : 16)
                                                 : rng() % max_off));
        put_copy(b, kind, off, len);
        for (uint32_t i = 0; i < len; i++) want[pos + i] = want[pos + i - off];
        pos += len;
    }
}

static void test_random_streams(void **state) {
    (void)state;
    sbuf b = {0};
    uint8_t *want = xmalloc(1 << 20);
    for (int iter = 0; iter < 2060; iter++) {
        size_t out_len = iter < 2000 ? (size_t)(rng() % 400) : (size_t)(rng() % (1 << 20));
        random_stream(&b, out_len, want);
        uint8_t *out;
        int64_t r = decode_exact(b.p, b.n, &out, (int64_t)out_len);
        if (r != (int64_t)out_len) fail_msg("iter %d len %zu: decoded %lld", iter, out_len, (long long)r);
        if (out_len) assert_memory_equal(out, want, out_len);
        free(out);
        size_t lib_len = 0;
        uint8_t *lib = libsnappy_decode(b.p, b.n, &lib_len);
        assert_non_null(lib); /* the stream is valid: libsnappy agrees */
        assert_int_equal(lib_len, out_len);
        if (out_len) assert_memory_equal(lib, want, out_len);
        free(lib);
        /* a larger capacity changes nothing */
        uint8_t *big;
        assert_int_equal(decode_exact(b.p, b.n, &big, (int64_t)out_len + 100), (int64_t)out_len);
        if (out_len) assert_memory_equal(big, want, out_len);
        free(big);
    }
    free(want);
    free(b.p);
}

/* ---------------------------------------------------------------- malformed input */

static int64_t decode_bytes(const uint8_t *src, size_t n, int64_t cap) {
    uint8_t *out;
    int64_t r = decode_exact(src, n, &out, cap);
    free(out);
    return r;
}

static void test_header(void **state) {
    (void)state;
    int hb = 0;
    assert_int_equal(pl_snappy_decoded_length(NULL, 0, &hb), -1);
    const uint8_t trunc[] = {0x80, 0x80};
    assert_int_equal(pl_snappy_decoded_length(trunc, 2, &hb), -1);
    const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(pl_snappy_decoded_length(max, 5, &hb), 0xffffffffll);
    assert_int_equal(hb, 5);
    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0x10};
    assert_int_equal(pl_snappy_decoded_length(over, 5, &hb), -1);
    const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    assert_int_equal(pl_snappy_decoded_length(six, 6, &hb), -1);
    const uint8_t long0[] = {0x80, 0x00}; /* non-minimal varints are fine (as in libsnappy) */
    assert_int_equal(pl_snappy_decoded_length(long0, 2, &hb), 0);
    assert_int_equal(hb, 2);
    assert_int_equal(decode_bytes(long0, 2, 0), 0);
    const uint8_t zero[] = {0x00};
    assert_int_equal(decode_bytes(zero, 1, 0), 0);
    assert_int_equal(decode_bytes(zero, 0, 0), -1); /* no header */
    const uint8_t zero_extra[] = {0x00, 0x00, 'a'}; /* 0 bytes, then a literal */
    assert_int_equal(decode_bytes(zero_extra, 3, 10), -1);
    /* the header's length above the capacity */
    const uint8_t lit[] = {0x03, 0x08, 'a', 'b', 'c'};
    assert_int_equal(decode_bytes(lit, 5, 3), 3);
    assert_int_equal(decode_bytes(lit, 5, 2), -1);
}

/* a stream of n_fill literal bytes, then the element bytes el, then n_tail literal bytes; the
 * header says out_len. Built so that el is reached in the fast loop when n_tail is large. */
static void build(sbuf *b, uint64_t out_len, size_t n_fill, const uint8_t *el, size_t n_el,
                  size_t n_tail) {
    uint8_t fill_bytes[256];
    for (size_t i = 0; i < sizeof fill_bytes; i++) fill_bytes[i] = (uint8_t)rng();
    b->n = 0;
    put_varint(b, out_len);
    if (n_fill) put_literal(b, fill_bytes, n_fill, n_fill > 60 ? 1 : 0);
    for (size_t i = 0; i < n_el; i++) put(b, el[i]);
    if (n_tail) put_literal(b, fill_bytes, n_tail, n_tail > 60 ? 1 : 0);
}

static void test_malformed(void **state) {
    (void)state;
    sbuf b = {0};
    /* one element after a 100-byte literal (and before a tail literal): its bytes, the output
     * length the header claims (without the tail), and whether the block is valid */
    static const struct {
        uint8_t el[5];
        size_t n_el;
        uint64_t out_len;
        bool valid;
    } cases[] = {
        {{2 | 9 << 2, 100, 0}, 3, 110, true},           /* copy-2 offset 100 length 10 */
        {{3 | 9 << 2, 100, 0, 0, 0}, 5, 110, true},     /* copy-4: all the output so far */
        {{1 | 2 << 2, 0}, 2, 106, false},               /* offset 0, in each copy kind */
        {{2 | 9 << 2, 0, 0}, 3, 110, false},
        {{3 | 9 << 2, 0, 0, 0, 0}, 5, 110, false},
        {{1 | 2 << 2, 101}, 2, 106, false},             /* offset 101 > the 100 bytes so far */
        {{2 | 9 << 2, 101, 0}, 3, 110, false},
        {{3 | 9 << 2, 0, 0, 0, 0x80}, 5, 110, false},   /* offset 2^31 */
        {{2 | 9 << 2, 100, 0}, 3, 111, false},          /* output shorter than the header says */
        {{2 | 9 << 2, 100, 0}, 3, 109, false},          /* output longer than the header says */
        {{61 << 2, 0xff, 0xff}, 3, 100 + 65536, false}, /* a literal of 65536 past the input */
        {{63 << 2, 0xff, 0xff, 0xff, 0xff}, 5, 100, false}, /* 2^32 (libsnappy: 0 bytes) */
    };
    const size_t tails[] = {0, 200}; /* 0: the exact loop, 200: the fast loop */
    for (size_t ti = 0; ti < 2; ti++)
        for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
            uint64_t out_len = cases[ci].out_len + tails[ti];
            build(&b, out_len, 100, cases[ci].el, cases[ci].n_el, tails[ti]);
            int64_t r = decode_bytes(b.p, b.n, (int64_t)out_len);
            if (r != (cases[ci].valid ? (int64_t)out_len : -1))
                fail_msg("case %zu, tail %zu: decoded %lld", ci, tails[ti], (long long)r);
        }
    /* a copy at the very start (nothing decoded yet) */
    const uint8_t first[] = {2 | 9 << 2, 1, 0};
    build(&b, 10, 0, first, 3, 0);
    assert_int_equal(decode_bytes(b.p, b.n, 10), -1);
    build(&b, 10 + 200, 0, first, 3, 200);
    assert_int_equal(decode_bytes(b.p, b.n, 10 + 200), -1);
    /* cut elements at the end of the input */
    const uint8_t cuts[][6] = {
        {5, 4 << 2, 'a', 'b'},         /* literal of 5, 2 bytes there */
        {5, 60 << 2},                  /* literal length byte missing */
        {5, 62 << 2, 1, 0},            /* 3 length bytes, 2 there */
        {5, 0, 'a', 1 | 0 << 2},       /* copy-1 without its offset byte */
        {5, 0, 'a', 2 | 3 << 2, 1},    /* copy-2 with 1 of 2 offset bytes */
        {5, 0, 'a', 3 | 3 << 2, 1, 0}, /* copy-4 with 2 of 4 offset bytes */
    };
    const size_t cut_lens[] = {4, 2, 4, 4, 5, 6};
    for (size_t ci = 0; ci < 6; ci++) assert_int_equal(decode_bytes(cuts[ci], cut_lens[ci], 5), -1);
    /* trailing bytes after a complete output */
    const uint8_t trailing[] = {1, 0, 'a', 0, 'b'};
    assert_int_equal(decode_bytes(trailing, 3, 1), 1);
    assert_int_equal(decode_bytes(trailing, 5, 2), -1);
    /* every prefix of a valid block is rejected */
    uint8_t *want = xmalloc(5000);
    for (int iter = 0; iter < 20; iter++) {
        random_stream(&b, 1 + rng() % 5000, want);
        for (size_t cut = 0; cut < b.n; cut++) assert_int_equal(decode_bytes(b.p, cut, 5000), -1);
    }
    free(want);
    free(b.p);
}

/* mutated valid blocks: whatever ours accepts, libsnappy accepts with the same bytes */
static void test_mutations(void **state) {
    (void)state;
    sbuf b = {0};
    uint8_t *want = xmalloc(3000);
    int n_accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t out_len = 1 + rng() % 3000;
        random_stream(&b, out_len, want);
        for (int m = 1 + (int)(rng() % 3); m--;) b.p[rng() % b.n] ^= (uint8_t)(1u << (rng() % 8));
        uint8_t *out;
        int64_t r = decode_exact(b.p, b.n, &out, 4000);
        if (r >= 0) {
            n_accepted++;
            size_t lib_len = 0;
            uint8_t *lib = libsnappy_decode(b.p, b.n, &lib_len);
            if (!lib) fail_msg("iter %d: accepted here, rejected by libsnappy", iter);
            assert_int_equal(lib_len, (size_t)r);
            if (r) assert_memory_equal(lib, out, (size_t)r);
            free(lib);
        }
        free(out);
    }
    assert_true(n_accepted > 0); /* some mutations (in literal bytes) stay valid */
    free(want);
    free(b.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_small), cmocka_unit_test(test_roundtrip_large),
        cmocka_unit_test(test_random_streams),  cmocka_unit_test(test_header),
        cmocka_unit_test(test_malformed),       cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
