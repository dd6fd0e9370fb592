/* io_int.h - what the format-independent I/O entry points (src/io/io.c) call in each format.
 * Paths given to the *_scan_open functions are already glob-expanded (at least one). A writer's
 * path NULL or "-" means stdout. Each function documents its errors in its format's header. */
#ifndef PL_IO_INT_H
#define PL_IO_INT_H

#include "polaroid/io.h"

pl_status pl_pq_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                          pl_stream **out, pl_error *err);
pl_status pl_csv_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                           pl_stream **out, pl_error *err);
pl_status pl_ipc_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                           pl_stream **out, pl_error *err);

pl_status pl_pq_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                            pl_writer **out, pl_error *err);
pl_status pl_csv_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                             pl_writer **out, pl_error *err);
pl_status pl_json_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                              pl_writer **out, pl_error *err);
pl_status pl_ipc_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                             pl_writer **out, pl_error *err);
/* The human-readable table (src/io/text/table.c). */
pl_status pl_table_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                               pl_writer **out, pl_error *err);

#endif
