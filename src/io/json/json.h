/* json.h - the JSON format's interface inside the library (besides the entry points in
 * io/io_int.h): reading from a buffer already in memory, for tests and the fuzzer, and the
 * reader's tuning constants. */
#ifndef PL_JSON_H
#define PL_JSON_H

#include "polaroid/io.h"

/* Records read for type inference (DuckDB's default sample_size), and the most files the
 * sample is taken from. */
#define PL_JSON_DEFAULT_SAMPLE_ROWS 20480
#define PL_JSON_MAX_SAMPLE_FILES 32
/* Chunk size bounds of the parallel newline-delimited reader, in bytes. */
#define PL_JSON_MIN_CHUNK_BYTES (256LL << 10)
#define PL_JSON_MAX_CHUNK_BYTES (8LL << 20)
#define PL_JSON_CHUNKS_PER_THREAD 4

/* Opens a stream over JSON bytes in buf (retained; released when the stream is freed; gzip
 * or zstd bytes are read as from a .json.gz file). name is used in error messages as the path.
 * Same options and errors as pl_json_scan_open. */
pl_status pl_json_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                              pl_stream **out, pl_error *err);

/* Test hook: forces the chunk size (bytes) of the parallel reader; 0 = automatic. */
void pl_json_set_chunk_bytes_for_testing(int64_t n_bytes);

#endif
