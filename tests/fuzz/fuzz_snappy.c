/* fuzz_snappy.c - libFuzzer target for polaroid's Snappy decoder (src/io/codecs/snappy_dec.c).
 * The first byte picks the mode:
 *   even: the rest is a Snappy block, decoded by pl_snappy_decode and by libsnappy; whatever ours
 *         accepts, libsnappy must accept with the same bytes (and the same length header);
 *   odd:  the rest is data, compressed by libsnappy's snappy_compress, then decoded by ours,
 *         which must give the data back.
 * Output buffers have exactly the header's size (so ASan catches a write past them); a header
 * larger than the input could possibly decode to (64 bytes per input byte) gets a smaller
 * buffer, and ours must then fail. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>

#include "io/codecs/snappy_dec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EXPANSION 64 /* a 3-byte copy-2 element makes at most 64 bytes (a 2-byte copy-1: 11) */

static void check_block(const uint8_t *src, size_t n) {
    int header_bytes = 0;
    int64_t ulen = pl_snappy_decoded_length(src, (int64_t)n, &header_bytes);
    size_t lib_ulen = 0;
    int lib_header_ok = snappy_uncompressed_length((const char *)src, n, &lib_ulen) == SNAPPY_OK;
    if (ulen >= 0 && (!lib_header_ok || lib_ulen != (size_t)ulen)) abort();
    if (ulen < 0) {
        if (pl_snappy_decode(NULL, 0, src, (int64_t)n) != -1) abort();
        return;
    }
    int64_t cap = ulen;
    if (cap > (int64_t)n * MAX_EXPANSION) cap = (int64_t)n * MAX_EXPANSION;
    uint8_t *out = malloc(cap ? (size_t)cap : 1);
    if (!out) return;
    int64_t r = pl_snappy_decode(out, cap, src, (int64_t)n);
    if (cap < ulen && r != -1) abort();
    if (r >= 0) {
        if (r != ulen) abort();
        uint8_t *lib = malloc(ulen ? (size_t)ulen : 1);
        size_t lib_len = (size_t)ulen;
        if (!lib) abort();
        if (snappy_uncompress((const char *)src, n, (char *)lib, &lib_len) != SNAPPY_OK) abort();
        if (lib_len != (size_t)r || (r && memcmp(lib, out, (size_t)r) != 0)) abort();
        free(lib);
    }
    free(out);
}

static void check_roundtrip(const uint8_t *data, size_t n) {
    size_t clen = snappy_max_compressed_length(n);
    uint8_t *comp = malloc(clen);
    if (!comp) return;
    if (snappy_compress((const char *)data, n, (char *)comp, &clen) != SNAPPY_OK) abort();
    uint8_t *exact = malloc(clen); /* exactly the compressed size: over-reads are caught */
    uint8_t *out = malloc(n ? n : 1);
    if (!exact || !out) abort();
    memcpy(exact, comp, clen);
    if (pl_snappy_decode(out, (int64_t)n, exact, (int64_t)clen) != (int64_t)n) abort();
    if (n && memcmp(out, data, n) != 0) abort();
    free(out);
    free(exact);
    free(comp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 1) check_roundtrip(data + 1, size - 1);
    else check_block(data + 1, size - 1);
    return 0;
}
