/* codec.h - block compression codecs used by Parquet pages and Arrow IPC bodies, over the
 * Debian libraries (zstd, snappy, zlib, lz4, brotli; snappy is decoded by our own
 * snappy_dec.c). Stateless; safe from any thread. */
#ifndef PL_CODEC_H
#define PL_CODEC_H

#include "polaroid/io.h"

/* Decompresses src into dst, which must receive exactly dst_len bytes (the uncompressed size
 * recorded by the container). Errors: PL_ERR_CORRUPT (bad stream, or a size other than
 * dst_len), PL_ERR_UNSUPPORTED (unknown codec), PL_ERR_NOMEM. LZ4_HADOOP also accepts plain
 * LZ4 blocks (older writers), GZIP accepts concatenated members and zlib streams. */
pl_status pl_codec_decompress(pl_codec codec, const uint8_t *src, int64_t src_len, uint8_t *dst,
                              int64_t dst_len, pl_error *err);
/* Whole-file compression of text inputs (.csv.gz, .csv.zst): the codec whose frame src starts
 * with (gzip magic 1f 8b, zstd magic 28 b5 2f fd), else PL_CODEC_UNCOMPRESSED. */
pl_codec pl_codec_sniff_stream(const uint8_t *src, int64_t n);
/* Decompresses a whole gzip (concatenated members too) or zstd (concatenated frames too)
 * stream of unknown decompressed size into a new buffer *out. Errors name the compressed byte
 * offset of a corrupt stream (the caller adds the file). More than max_out decompressed bytes
 * is PL_ERR_LIMIT (0 = no limit). Errors: PL_ERR_CORRUPT (bad or truncated stream),
 * PL_ERR_UNSUPPORTED (another codec), PL_ERR_NOMEM, PL_ERR_LIMIT. */
pl_status pl_codec_decompress_stream(pl_codec codec, const uint8_t *src, int64_t n, int64_t max_out,
                                     pl_buf **out, pl_error *err);
/* Incremental decompression of a whole-file gzip (concatenated members, trailing zero padding)
 * or zstd (concatenated frames) stream, for readers that take the decompressed bytes in
 * bounded pieces (io/text/text_src.c). Not thread-safe; one stream per input. */
typedef struct pl_codec_stream pl_codec_stream;
/* Errors: PL_ERR_UNSUPPORTED (another codec), PL_ERR_NOMEM. */
pl_status pl_codec_stream_new(pl_codec codec, pl_codec_stream **out, pl_error *err);
/* Decompresses from in (n bytes; `last` when no input follows them) into out (cap bytes):
 * *n_read input bytes were consumed and *n_written output bytes made; the caller passes the
 * unconsumed rest again with more input appended. *done when the stream ended (only with
 * `last`). Errors: PL_ERR_CORRUPT naming the compressed byte offset (a corrupt stream, garbage
 * after it, or its end missing when `last`), PL_ERR_INTERNAL. */
pl_status pl_codec_stream_run(pl_codec_stream *s, const uint8_t *in, int64_t n, bool last,
                              int64_t *n_read, uint8_t *out, int64_t cap, int64_t *n_written,
                              bool *done, pl_error *err);
/* Compressed bytes consumed so far. */
int64_t pl_codec_stream_offset(const pl_codec_stream *s);
void pl_codec_stream_free(pl_codec_stream *s);
/* Upper bound of compressed size for n input bytes. */
int64_t pl_codec_max_compressed(pl_codec codec, int64_t n);
/* Compresses src into dst (capacity dst_cap >= pl_codec_max_compressed), *out_len = bytes
 * written. level 0 = the codec's default. Errors: PL_ERR_UNSUPPORTED, PL_ERR_INTERNAL. */
pl_status pl_codec_compress(pl_codec codec, int32_t level, const uint8_t *src, int64_t n,
                            uint8_t *dst, int64_t dst_cap, int64_t *out_len, pl_error *err);
/* Lower-case name ("zstd", "snappy", ...); "unknown" for bad values. */
const char *pl_codec_name(pl_codec codec);
/* Codec from a lower-case name; returns -1 if unknown. */
int pl_codec_from_name(const char *name);

#endif
