/* snappy_dec.h - polaroid's own decoder of the raw Snappy block format (google/snappy
 * format_description.txt), used for Parquet SNAPPY pages instead of libsnappy's decoder. */
#ifndef PL_SNAPPY_DEC_H
#define PL_SNAPPY_DEC_H

#include <stdint.h>

/* The uncompressed length in the varint header of src (n bytes): 0 .. 2^32-1, with
 * *header_bytes set to the header's size (1..5), or -1 if the header is truncated or longer
 * than 32 bits (the same rule as libsnappy's snappy_uncompressed_length). */
int64_t pl_snappy_decoded_length(const uint8_t *src, int64_t n, int *header_bytes);

/* Decodes the whole Snappy block src (n bytes) into dst (capacity cap). Returns the decoded
 * length (the header's, which must be <= cap), or -1 if src is not exactly one valid block:
 * a bad header, an element cut off by the end of src, a copy offset of 0 or beyond the output
 * so far, output longer or shorter than the header says. Everything this accepts, libsnappy
 * accepts with the same output. Reads only src[0, n), writes only dst[0, decoded length). */
int64_t pl_snappy_decode(uint8_t *dst, int64_t cap, const uint8_t *src, int64_t n);

#endif
