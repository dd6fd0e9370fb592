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
pl_status pl_json_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                            pl_stream **out, pl_error *err);
pl_status pl_ipc_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                           pl_stream **out, pl_error *err);

/* A predicate a scan evaluates itself (late materialisation): the columns it reads are decoded
 * first; the other projected columns are decoded only for the rows that pass, and only the
 * pages holding such rows are decompressed. eval gets a batch of columns cols[0..n_cols)
 * (positions among the projected columns, in that order) and returns the passing rows
 * (ascending, pl_malloc'ed) like pl_bexpr_eval_filter; it runs on worker threads, several at a
 * time. The scan copies cols; arg must outlive the stream. */
typedef struct pl_scan_pred {
    int32_t n_cols;
    const int32_t *cols;
    pl_status (*eval)(void *arg, pl_batch *in, int32_t **sel, int64_t *n_sel, pl_error *err);
    /* When the predicate reads one column, cannot fail and each row's result depends only on
     * that row's value: the same evaluation over distinct values (a dictionary, plus a NULL),
     * whose rows are not counted as passing rows; the scan then reports the rows that pass
     * through passed(arg, n). NULL otherwise. */
    pl_status (*eval_values)(void *arg, pl_batch *in, int32_t **sel, int64_t *n_sel,
                             pl_error *err);
    void (*passed)(void *arg, int64_t n);
    void *arg;
    /* per projected column (NULL = none): nobody reads it after the predicate, so the stream
     * may give all-NULL arrays of its type instead of its values */
    const bool *skip;
} pl_scan_pred;

/* pl_scan_open with a predicate evaluated in the scan (Parquet only; other formats fail with
 * PL_ERR_UNSUPPORTED). The stream yields only the rows that pass. */
pl_status pl_scan_open_pred(int32_t n_paths, const char *const *paths, pl_format format,
                            const pl_read_opts *opts, const pl_scan_pred *pred, pl_stream **out,
                            pl_error *err);
pl_status pl_pq_scan_open_pred(int32_t n_paths, const char *const *paths,
                               const pl_read_opts *opts, const pl_scan_pred *pred,
                               pl_stream **out, pl_error *err);

/* Unit-parallel reading of a Parquet scan stream (src/io/parquet/scan.c): the pipeline driver's
 * own tasks decode the scan's units (row groups), concurrently and in any order, and consume
 * each where it was decoded. pl_pq_scan_units says whether s supports it (a Parquet scan
 * without a row limit, not yet read from): *n_units units, at most *max_slots concurrent
 * callers. pl_pq_scan_unit_rows: the rows unit i has before any predicate. pl_pq_scan_unit
 * decodes unit i (each exactly once) as caller `slot` (0 <= slot < max_slots; one call at a
 * time per slot) on pool worker `worker`: *out its rows that pass the scan's predicate, NULL
 * when none do. s must not be read with pl_stream_next afterwards. */
bool pl_pq_scan_units(pl_stream *s, int64_t *n_units, int32_t *max_slots);
int64_t pl_pq_scan_unit_rows(pl_stream *s, int64_t i);
pl_status pl_pq_scan_unit(pl_stream *s, int64_t i, int32_t slot, int32_t worker, pl_batch **out,
                          pl_error *err);

/* The batches a text reader (CSV, JSON) parsed ahead, in order: pushed after each wave of
 * chunks, handed out one by one by the stream. Zero-initialised; pl_batch_queue_free at the
 * end. */
typedef struct pl_batch_queue {
    pl_batch **v;
    int64_t head, len, cap;
} pl_batch_queue;
/* Takes b (released on failure). Errors: PL_ERR_NOMEM. */
pl_status pl_batch_queue_push(pl_batch_queue *q, pl_batch *b, pl_error *err);
/* The next batch into *out (NULL when the queue is empty); with *limit_left >= 0 the batch is
 * cut to it and it counts down. Errors: PL_ERR_NOMEM. */
pl_status pl_batch_queue_pop(pl_batch_queue *q, int64_t *limit_left, pl_batch **out,
                             pl_error *err);
void pl_batch_queue_clear(pl_batch_queue *q); /* releases the queued batches */
void pl_batch_queue_free(pl_batch_queue *q);  /* clear, and the vector */
/* Pages of a mapped input (pl_file_load's slot >= 0) truncated while a reader parsed it read
 * as zeros: whatever was parsed from them is void, so the outcome st of a piece becomes
 * PL_ERR_IO "file changed while it was being read" naming path, and the queued batches are
 * dropped. Otherwise returns st. */
pl_status pl_io_check_unchanged(const pl_buf *input, int32_t slot, const char *path,
                                pl_batch_queue *q, pl_status st, pl_error *err);
/* A stream over impl with the given callbacks and a retained reference to schema. On failure
 * (PL_ERR_NOMEM) nothing is taken: the caller still owns impl. */
pl_status pl_io_stream_new(pl_status (*next)(pl_stream *, pl_batch **, pl_error *),
                           void (*free_fn)(pl_stream *), pl_schema *schema, void *impl,
                           pl_stream **out, pl_error *err);
/* opts, or *defaults filled by pl_read_opts_init when opts is NULL. */
const pl_read_opts *pl_read_opts_or_default(const pl_read_opts *opts, pl_read_opts *defaults);

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
