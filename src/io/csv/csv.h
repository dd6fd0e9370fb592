/* csv.h - the CSV format's interface inside the library (besides the entry points in
 * io/io_int.h): reading from a buffer already in memory, for tests and the fuzzer. */
#ifndef PL_CSV_H
#define PL_CSV_H

#include "polaroid/io.h"

/* Rows per chunk the parallel reader aims at, and its chunk size bounds in bytes. */
#define PL_CSV_DEFAULT_SAMPLE_ROWS 10000
#define PL_CSV_MIN_CHUNK_BYTES (256LL << 10)
#define PL_CSV_MAX_CHUNK_BYTES (8LL << 20)
#define PL_CSV_CHUNKS_PER_THREAD 4

/* Opens a stream over CSV bytes in buf (retained; released when the stream is freed; gzip or
 * zstd bytes are read as from a .csv.gz file). name is used in error messages as the path.
 * Same options and errors as pl_csv_scan_open. */
pl_status pl_csv_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                             pl_stream **out, pl_error *err);

/* Test hook: forces the chunk size (bytes) of the parallel reader; 0 = automatic. */
void pl_csv_set_chunk_bytes_for_testing(int64_t n_bytes);

#endif
