/* service.h - polaroid.v1's methods on the engine side, with no gRPC in sight: requests come in
 * as protobuf bytes, responses go out as protobuf bytes. The gRPC transport (transport.c) only
 * moves bytes, checks tokens and schedules calls; the fuzzer (tests/fuzz/fuzz_request.c) and the
 * unit tests (tests/unit/server/) call these functions directly.
 *
 * Files of this directory (src/server/README.md has the whole map):
 *   service.h/.c   server-wide state (pl_srv), method table, unary dispatch
 *   plan_decode.c  polaroid.v1.Plan -> pl_df (relations, expressions, limits on depth and size)
 *   paths.c        path resolution under --data-root (no "..", absolute or symlink escapes)
 *   catalog.c      handles (owner, TTL) and live tables (append while read)
 *   errors.c       pl_status -> gRPC status code, pl_error -> polaroid.v1.ErrorDetail
 *   execute.c      Execute: a running query cut into ExecuteResponse messages under a size limit
 *   transport.c    the gRPC C core: completion queues, call state machines, flow control
 *   metrics.c      Prometheus counters and histograms, the --metrics-listen HTTP endpoint
 *   log.c          structured logs (text or JSON lines) with a request id per call
 *
 * Threads: handlers are called from query runner threads (never from the network threads) and
 * must be thread-safe; the catalog has its own lock. */
#ifndef PL_SERVER_SERVICE_H
#define PL_SERVER_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "polaroid/dataframe.h"
#include "polaroid/sql.h"
#include "polaroid/v1/polaroid.pb-c.h"

/* ---------------------------------------------------------------- configuration */

typedef struct pl_srv_config {
    const char *data_root;        /* directory the paths of requests resolve under */
    int32_t threads;              /* engine worker threads; 0 = one per core */
    int64_t max_memory;           /* bytes for all queries, live tables, materialised handles
                                   * and same-host result files together; 0 = no limit */
    int32_t max_concurrent_queries; /* queries running at once; 0 = 2 x threads */
    int32_t max_queued_queries;   /* admitted but waiting; beyond: RESOURCE_EXHAUSTED */
    int64_t query_timeout_ms;     /* per query; 0 = none */
    int64_t handle_ttl_s;         /* default handle TTL (300) */
    int64_t max_message_bytes;    /* largest request or response message (64 MiB) */
    int64_t default_message_bytes; /* Execute's batch message size when the client says 0 (1 MiB) */
    int32_t max_handles_per_client; /* 0 = 1000 */
    int32_t max_plan_depth;       /* relation + expression nesting; 0 = 256 */
    int64_t shm_pool_bytes;       /* same-host result files kept for reuse (at most half of
                                   * max_memory); 0 = none; < 0 = a third of the machine's
                                   * memory (the default) */
    int64_t shm_pool_idle_ms;     /* ... each kept unused at most this long (30 s) */
} pl_srv_config;

void pl_srv_config_init(pl_srv_config *c); /* the defaults above */

/* Server-wide state: configuration, catalog (handles, live tables), memory account, metrics. */
typedef struct pl_srv pl_srv;

pl_status pl_srv_new(const pl_srv_config *cfg, pl_srv **out, pl_error *err);
void pl_srv_free(pl_srv *s);
const pl_srv_config *pl_srv_get_config(const pl_srv *s);
/* Drops handles whose TTL has passed (the transport calls it about once a second). */
void pl_srv_sweep(pl_srv *s, int64_t now_ns);

/* ---------------------------------------------------------------- calls */

/* One call's context, filled by the transport. */
typedef struct pl_srv_call {
    pl_srv *srv;
    const char *owner;      /* who owns handles made by this call: the bearer token, or "" */
    const char *peer;       /* the client's address ("ipv4:127.0.0.1:5555", "unix:...") */
    const char *request_id; /* for logs and error details */
    /* where a client's own request id (ExecuteOptions.request_id) is copied, when the request
     * carries a valid one (pl_srv_request_id_ok); request_id points here. NULL = none. */
    char *request_id_buf;
    size_t request_id_size;
    const int *cancel;      /* non-zero once the client cancelled, disconnected or timed out */
    int64_t deadline_ns;    /* pl_now_ns() clock; 0 = none (the client's gRPC deadline) */
    bool same_host;         /* loopback or unix socket peer */
    /* Execute: a plan that is only SQL may be a script that changes tables and views */
    bool sql_script;
    /* Execute: the SQL session (ExecuteOptions.session_id) its script runs in; NULL = none */
    const char *sql_session;
    /* out: rows and cells (rows x columns) of the live-table snapshots pl_srv_plan_to_df took
     * (added to; after chunk pruning), the size pl_srv_execute_start_inline judges a query by */
    int64_t table_rows, table_cells;
} pl_srv_call;

/* The methods, in the order of the service in proto/polaroid/v1/polaroid.proto. */
typedef enum pl_srv_method {
    PL_SRV_EXECUTE = 0,
    PL_SRV_SCHEMA,
    PL_SRV_EXPLAIN,
    PL_SRV_DESCRIBE,
    PL_SRV_WRITE,
    PL_SRV_CREATE_HANDLE,
    PL_SRV_HEARTBEAT,
    PL_SRV_DROP_HANDLE,
    PL_SRV_CREATE_TABLE,
    PL_SRV_DROP_TABLE,
    PL_SRV_LIST_TABLES,
    PL_SRV_APPEND,
    PL_SRV_SERVER_INFO,
    PL_SRV_RELEASE_SHM,
    PL_SRV_HEALTH_CHECK, /* grpc.health.v1.Health */
    PL_SRV_HEALTH_WATCH,
    PL_SRV_N_METHODS
} pl_srv_method;

typedef enum pl_srv_kind { PL_SRV_UNARY, PL_SRV_SERVER_STREAM, PL_SRV_BIDI_STREAM } pl_srv_kind;

/* "/polaroid.v1.Polaroid/Execute", ... */
const char *pl_srv_method_path(pl_srv_method m);
pl_srv_kind pl_srv_method_kind(pl_srv_method m);
/* Runs on the network thread without a query slot (cheap, no I/O): ServerInfo, Health,
 * Heartbeat, DropHandle, ReleaseSharedMemory. */
bool pl_srv_method_is_light(pl_srv_method m);

/* A unary method: unpacks req (n bytes; malformed -> PL_ERR_INVALID_ARG), runs it, packs the
 * response into *resp (pl_malloc'd, *resp_len bytes; caller pl_free's). Every error fills err
 * (the transport maps it with pl_srv_grpc_code and pl_srv_error_detail). */
pl_status pl_srv_unary(pl_srv_call *c, pl_srv_method m, const uint8_t *req, size_t n,
                       uint8_t **resp, size_t *resp_len, pl_error *err);

/* ---------------------------------------------------------------- Execute (execute.c) */

typedef struct pl_srv_exec pl_srv_exec;

/* Decodes an ExecuteRequest, plans and starts the query. */
pl_status pl_srv_execute_start(pl_srv_call *c, const uint8_t *req, size_t n, pl_srv_exec **out,
                               pl_error *err);
/* For a network thread: decodes the request and starts the query only when it is tiny enough
 * to run there: a request of at most 4 KiB whose plan reads nothing but live tables (no files,
 * SQL text relations, uploads, handles or joins: no I/O) through row-wise operations (select,
 * filter, with_columns, aggregate, sort, distinct, limit, rename, drop), and whose table
 * snapshots hold at most max_rows rows and max_rows x 32 cells in all after chunk pruning (a
 * point filter on a sorted key reads one chunk; a wide table's chunk is too much). Then *inline_ok = true and *out is running; its messages come from
 * pl_srv_execute_next_msg, which never does file I/O for it and stops after 256 KiB of
 * messages: a message with base == NULL (and !done) means "go on on a runner" (call
 * pl_srv_execute_to_runner, then pull again there). Otherwise *inline_ok = false and *out is
 * NULL (a runner starts from the request bytes) or a planned query a runner continues with
 * pl_srv_execute_next_msg. Errors are the request's (bad plan, unknown table, ...). */
pl_status pl_srv_execute_start_inline(pl_srv_call *c, const uint8_t *req, size_t n,
                                      int64_t max_rows, pl_srv_exec **out, bool *inline_ok,
                                      pl_error *err);
void pl_srv_execute_to_runner(pl_srv_exec *x);
/* The next packed ExecuteResponse (schema, then batches sliced under the message size limit,
 * then the summary); *done = true and *msg = NULL after the summary. Blocks while the engine
 * computes; returns PL_ERR_CANCELLED promptly once *c->cancel is set. */
pl_status pl_srv_execute_next(pl_srv_exec *x, uint8_t **msg, size_t *len, bool *done,
                              pl_error *err);
void pl_srv_execute_free(pl_srv_exec *x);
/* s with its top-level dictionary columns as their value types (what Execute sends unless the
 * client keeps dictionaries, and what Schema, handles and tables report); *out = NULL when s
 * has none. */
pl_status pl_srv_decoded_schema(const pl_schema *s, pl_schema **out, pl_error *err);

/* ---------------------------------------------------------------- Append (bidi stream) */

typedef struct pl_srv_append pl_srv_append;
pl_status pl_srv_append_open(pl_srv_call *c, pl_srv_append **out, pl_error *err);
/* One AppendRequest in, one packed AppendAck out (*ack pl_malloc'd). */
pl_status pl_srv_append_one(pl_srv_append *a, const uint8_t *req, size_t n, uint8_t **ack,
                            size_t *ack_len, pl_error *err);
void pl_srv_append_close(pl_srv_append *a);

/* A request id a client may choose (ExecuteOptions.request_id, metadata "x-request-id"): 1 to
 * 63 bytes of letters, digits and . _ - : / + = (it goes into logs and error details). */
bool pl_srv_request_id_ok(const char *id, size_t n);

/* ---------------------------------------------------------------- the engine side's pieces */

/* A Plan as a lazy DataFrame (plan_decode.c). Sources resolve under the data root; handles
 * must belong to c->owner; depth and sizes are checked against the limits. Errors:
 * INVALID_ARG (bad plan or expression, with what and where), NOT_FOUND, PERMISSION (a path
 * that escapes the data root, another client's handle), LIMIT (depth, size). */
pl_status pl_srv_plan_to_df(pl_srv_call *c, const Polaroid__V1__Plan *plan, pl_df **out,
                            pl_error *err);

/* Resolves a client path (relative; globs allowed) under root into an absolute path that
 * cannot leave it (paths.c). Errors: PL_ERR_PERMISSION, PL_ERR_INVALID_ARG (empty path). */
pl_status pl_srv_resolve_path(const char *root, const char *path, char **out, pl_error *err);

/* errors.c: gRPC status code (grpc_status_code values) for an engine error, and the
 * ErrorDetail message for the "polaroid-error-bin" trailer (pl_malloc'd bytes). */
int pl_srv_grpc_code(const pl_error *err);
pl_status pl_srv_error_detail(const pl_error *err, const char *data_root, const char *request_id,
                              uint8_t **out, size_t *out_len);

/* A protobuf-c allocator that charges pl_malloc and refuses requests beyond the message limit
 * (so a hostile length field cannot make the server allocate gigabytes). */
ProtobufCAllocator *pl_srv_pb_allocator(void);

#endif
