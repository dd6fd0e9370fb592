/* examples/c/common.h - what the C examples share (examples/c/README.md).
 *
 * Every example runs its SQL through one of two backends, chosen on the command line:
 *   --server HOST:PORT   `polaroid serve` through the C client (include/polaroid/client.h);
 *                        paths are relative to the server's data root
 *   --data-root DIR      the engine embedded in this process (sql.h + dataframe.h); paths are
 *                        relative to DIR (default data/sample, made by `make run`)
 * Both give a pl_stream of record batches (ex_stream) or a whole table (ex_query); errors come
 * back as the engine's pl_status + pl_error in both cases, so the examples do not care which
 * backend they talk to. Both may be called from many threads at once. */
#ifndef POLAROID_EXAMPLES_COMMON_H
#define POLAROID_EXAMPLES_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include <polaroid/client.h>
#include <polaroid/polaroid.h>

#define EX_MAX_FILES 64

typedef struct ex_ctx {
    /* options (defaults set by the example before ex_parse_args) */
    const char *server;      /* --server: NULL = the embedded engine */
    const char *data_root;   /* --data-root */
    const char *files[EX_MAX_FILES]; /* --files F... (relative to the data root) */
    int n_files;
    bool quick;              /* --quick: a short run (the tests use it) */
    int concurrency;         /* --concurrency N */
    int tasks;               /* --tasks N */
    double seconds;          /* --seconds S */
    double drain;            /* --drain S: graceful shutdown's deadline (default 5) */
    /* state */
    pl_client *client;       /* server mode */
    int cancel;              /* set to 1 (from any thread) to cancel the running queries */
} ex_ctx;

/* Parses the common options into x (exits 2 with a usage message on a bad one). */
void ex_parse_args(ex_ctx *x, int argc, char **argv, const char *usage);
/* Connects (server mode). */
pl_status ex_open(ex_ctx *x, pl_error *err);
void ex_close(ex_ctx *x);
/* "server 127.0.0.1:50051" or "embedded engine, data root data/sample". */
const char *ex_backend_name(const ex_ctx *x);

/* Runs one SQL query: *out streams its batches (the caller frees it; freeing early cancels). */
pl_status ex_stream(ex_ctx *x, const char *sql, pl_stream **out, pl_error *err);
/* ex_stream + pl_stream_collect. */
pl_status ex_query(ex_ctx *x, const char *sql, pl_table **out, pl_error *err);

/* Cell values (NaN / NULL for a null or a non-numeric / non-string column). Strings are
 * returned with their length (not NUL-terminated); dictionary-encoded columns are looked up. */
double ex_batch_num(const pl_batch *b, int col, int64_t row);
const char *ex_batch_str(const pl_batch *b, int col, int64_t row, int *len);
double ex_table_num(const pl_table *t, int col, int64_t row);
const char *ex_table_str(const pl_table *t, int col, int64_t row, int *len);

/* Seconds on a monotonic clock. */
double ex_now(void);
/* Prints "what: <status name>: <message (hint)>" to stderr. */
void ex_print_error(const char *what, const pl_error *err);
/* The short form of an error for one line of output: "not found: ...". */
const char *ex_error_text(const pl_error *err, char *buf, size_t n);

#endif
