/* ipc.h - the Arrow IPC format's interface inside the library (besides pl_ipc_scan_open and
 * pl_ipc_writer_open in io/io_int.h): reading from bytes already in memory and writing to a
 * callback or into a buffer, for tests, the fuzzer and the server.
 *
 * Reading auto-detects the stream format (a sequence of encapsulated messages) and the file
 * format ("ARROW1" magic, the stream, a footer). Writing produces the stream format, or the
 * file format when file_format is true (pl_ipc_writer_open picks the file format for ".arrow"
 * and ".feather" paths and the stream format otherwise, see src/io/ipc/README.md). */
#ifndef PL_IPC_H
#define PL_IPC_H

#include "polaroid/io.h"

/* Opens a stream over IPC bytes in buf (retained; released when the stream is freed). name is
 * used in error messages as the path. Same options and errors as pl_ipc_scan_open: PL_ERR_CORRUPT
 * (malformed metadata or body, with the byte offset), PL_ERR_UNSUPPORTED (a type or feature
 * polaroid does not read, e.g. unions, views, big-endian data), PL_ERR_LIMIT, PL_ERR_NOMEM,
 * PL_ERR_NOT_FOUND (a projected column). */
pl_status pl_ipc_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                             pl_stream **out, pl_error *err);

/* Receives the output bytes of a writer in order. Errors returned are passed on. */
typedef pl_status (*pl_ipc_sink_fn)(void *ctx, const void *bytes, int64_t n, pl_error *err);

/* A writer whose bytes go to sink(ctx, ...). The schema is written by the first write or by
 * finish. Errors: PL_ERR_UNSUPPORTED (codec other than UNCOMPRESSED, LZ4_FRAME, ZSTD),
 * PL_ERR_NOMEM; write: PL_ERR_TYPE (batch schema differs), PL_ERR_UNSUPPORTED (in the file
 * format, a dictionary that changes between batches without extending the previous one). */
pl_status pl_ipc_writer_open_sink(pl_ipc_sink_fn sink, void *ctx, bool file_format,
                                  pl_schema *schema, const pl_write_opts *opts, pl_writer **out,
                                  pl_error *err);

/* Writes a whole table into a new buffer (*out, caller releases). Errors as above. */
pl_status pl_ipc_write_table_buf(pl_table *t, bool file_format, const pl_write_opts *opts,
                                 pl_buf **out, pl_error *err);

/* Test hook: the largest buffer a compressed body may claim to decompress to (bytes);
 * 0 = the default (PL_IPC_MAX_BODY_BYTES). */
void pl_ipc_set_max_buffer_bytes_for_testing(int64_t n_bytes);

#endif
