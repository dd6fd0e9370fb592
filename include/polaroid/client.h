/* polaroid/client.h - a small C client for `polaroid serve` (protocol polaroid.v1 over gRPC).
 *
 *   pl_client *c;
 *   if (pl_client_connect("127.0.0.1:50051", NULL, &c, &err)) ...;
 *   pl_stream *s;
 *   if (pl_client_sql(c, "SELECT * FROM 'ticks.parquet' LIMIT 10", &s, &err)) ...;
 *   ... pl_stream_next(s, &batch, &err) ...; pl_stream_free(s);
 *   pl_client_close(c);
 *
 * pl_client_sql returns once the result's schema has arrived (errors found before any row, such
 * as a missing file or a bad query, are returned by it); batches are then received and decoded
 * as the stream is read, so memory stays bounded by a few response messages. Freeing the stream
 * before its end cancels the rest of the call. Server errors
 * come back as the engine's pl_error: the "polaroid-error-bin" trailer (polaroid.v1.ErrorDetail)
 * carries the status, message, hint, path, column, row group, row, byte offset and SQL position.
 * Errors without that trailer map from the gRPC status: NOT_FOUND -> PL_ERR_NOT_FOUND,
 * INVALID_ARGUMENT -> PL_ERR_INVALID_ARG, PERMISSION_DENIED and UNAUTHENTICATED ->
 * PL_ERR_PERMISSION, DEADLINE_EXCEEDED and CANCELLED -> PL_ERR_CANCELLED, RESOURCE_EXHAUSTED ->
 * PL_ERR_LIMIT, DATA_LOSS -> PL_ERR_CORRUPT, UNAVAILABLE (server down) -> PL_ERR_IO,
 * UNIMPLEMENTED -> PL_ERR_UNSUPPORTED, others -> PL_ERR_INTERNAL.
 *
 * Threads: a client may be used by several threads at once (each call has its own completion
 * queue; the channel is shared). Part of the polaroid_server library (needs the gRPC C core). */
#ifndef POLAROID_CLIENT_H
#define POLAROID_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_client pl_client;

typedef struct pl_client_opts {
    const char *token;        /* bearer token ("authorization: Bearer ..."); NULL = none */
    const char *tls_ca_file;  /* PEM roots: connect with TLS; NULL = plaintext */
    int64_t timeout_ms;       /* deadline of each call; 0 = none */
    int64_t max_message_bytes; /* Execute response messages; 0 = the server's default */
    int64_t memory_limit_bytes; /* per query, at most the server's; 0 = the server's */
    const int *cancel;        /* non-zero (set from any thread or a signal handler) cancels the
                               * running call within ~50 ms: PL_ERR_CANCELLED; NULL = none */
} pl_client_opts;

PL_API void pl_client_opts_init(pl_client_opts *o);

/* A client for target ("HOST:PORT", "unix:PATH", any gRPC target). The connection is made by
 * the first call. token may be NULL. Errors: PL_ERR_INVALID_ARG (empty target), PL_ERR_IO (the
 * TLS roots cannot be read), PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_client_connect(const char *target, const char *token,
                                                pl_client **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_client_connect_opts(const char *target, const pl_client_opts *o,
                                                     pl_client **out, pl_error *err);
/* Closes the channel; calls must have returned. NULL is a no-op. */
PL_API void pl_client_close(pl_client *c);

/* Runs SQL on the server (a Plan whose root is Relation{sql}); *out streams the result.
 * Errors: the server's (see above), PL_ERR_CORRUPT (a malformed response). */
PL_API PL_NODISCARD pl_status pl_client_sql(pl_client *c, const char *sql, pl_stream **out,
                                            pl_error *err);
/* pl_client_sql + pl_stream_collect. */
PL_API PL_NODISCARD pl_status pl_client_sql_table(pl_client *c, const char *sql, pl_table **out,
                                                  pl_error *err);
/* Runs a serialised polaroid.v1.Plan (plan_len bytes). */
PL_API PL_NODISCARD pl_status pl_client_execute(pl_client *c, const void *plan, size_t plan_len,
                                                pl_stream **out, pl_error *err);

/* What the server reported for the last successful call of this thread (ExecuteSummary). */
typedef struct pl_client_summary {
    int64_t rows, batches, bytes, elapsed_us;
    char request_id[64];
} pl_client_summary;
PL_API void pl_client_last_summary(pl_client_summary *out);

/* For the fuzzer (tests/fuzz/fuzz_client.c): data is a sequence of [u32 little-endian length]
 * [ExecuteResponse bytes], decoded as the client decodes a response stream (fields, IPC message
 * boundaries, schema and dictionary prefix, record batches); *rows = rows decoded. */
pl_status pl_client_decode_for_testing(const uint8_t *data, size_t n, int64_t *rows,
                                       pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
