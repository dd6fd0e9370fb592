/* fuzz_stream.c - libFuzzer target for whole-file decompression of compressed text inputs
 * (.csv.gz, .csv.zst: pl_codec_decompress_stream in src/io/codecs/codec.c). The codec is the
 * one the input's first bytes name (as the CSV reader picks it), else the first byte's low bit
 * picks gzip or zstd for the rest. Any input must give PL_OK or a pl_error, never a crash, leak,
 * hang or out-of-bounds read; output is capped at 16 MiB (PL_ERR_LIMIT beyond). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/codecs/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = calloc(size ? size : 1, 1); /* exact size: ASan catches reads past the end */
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    pl_codec c = pl_codec_sniff_stream(copy, (int64_t)size);
    const uint8_t *p = copy;
    int64_t n = (int64_t)size;
    if (c == PL_CODEC_UNCOMPRESSED && n > 0) {
        c = (p[0] & 1) ? PL_CODEC_ZSTD : PL_CODEC_GZIP;
        p++;
        n--;
    }
    pl_error err;
    pl_error_init(&err);
    pl_buf *out = NULL;
    if (pl_codec_decompress_stream(c, p, n, (int64_t)16 << 20, &out, &err) == PL_OK) {
        volatile uint8_t sink = 0;
        for (int64_t i = 0; i < out->size; i += 4096) sink ^= out->data[i];
        (void)sink;
        pl_buf_release(out);
    }
    free(copy);
    return 0;
}
