/* server.h - the gRPC server as the CLI (`polaroid serve`) and the tests start it: options,
 * start, wait, graceful shutdown. The transport (transport.c) owns the gRPC C core objects
 * (server, completion queues, network threads), the query runner threads and the housekeeping
 * thread; the engine side (service.h) owns the handles, tables and the request handlers.
 *
 * Threads of a running server:
 *   - one network thread per completion queue (--network-threads, default one per 4
 *     cores): accepts calls, checks tokens, answers light methods inline (ServerInfo, Health,
 *     Heartbeat, DropHandle, ReleaseSharedMemory), runs tiny Execute queries inline (live
 *     tables only, no I/O, at most inline_query_rows rows after chunk pruning: a point query)
 *     and hands everything else to the runners;
 *   - max_concurrent_queries runner threads: take calls from a bounded queue, run them through
 *     service.h and send the responses themselves (at most two Execute messages of a call are
 *     held at once: one being sent, one ready). A runner whose client is slow to take the next
 *     message parks the call after 20 ms and moves on; the call resumes on a runner (ahead of
 *     new calls) once the client has taken a message;
 *   - one housekeeping thread: handle TTLs (pl_srv_sweep) once a second. */
#ifndef PL_SERVER_SERVER_H
#define PL_SERVER_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "server/service.h"

/* What the transport knows about a finished call, for metrics and logs (srvops' metrics.c and
 * log.c). Called once per call from a network thread, after the final status went out (or
 * failed to); must be quick and must not block. */
typedef struct pl_server_call_info {
    pl_srv_method method;      /* PL_SRV_N_METHODS for an unknown method */
    int grpc_code;             /* the status sent (grpc_status_code) */
    const pl_error *err;       /* the engine error behind a non-OK status, else NULL */
    const char *request_id;
    const char *peer;
    const char *owner;         /* the token ("" without tokens) */
    int64_t queued_ns;         /* from arrival to a runner taking it (0 for inline calls) */
    int64_t latency_ns;        /* from arrival to the final status sent */
    int64_t rows;              /* Execute: rows streamed; Append: rows appended */
    int64_t bytes;             /* response bytes sent */
    int64_t streamed_rows;     /* of those, already passed to on_streamed while streaming */
    int64_t streamed_bytes;
    bool client_cancelled;     /* cancel, disconnect or the client's deadline */
} pl_server_call_info;

typedef void (*pl_server_call_hook)(void *user, const pl_server_call_info *info);
/* Rows and bytes of an Execute message or an Append ack just handed to gRPC, while the call
 * streams (a runner or network thread calls it; must be quick). */
typedef void (*pl_server_stream_hook)(void *user, int64_t rows, int64_t bytes);

typedef struct pl_server_opts {
    pl_srv_config srv;         /* the engine side's configuration (data root, limits) */
    const char *listen;        /* "HOST:PORT" (port 0 = any free port) or "unix:PATH" */
    int32_t network_threads;   /* completion queues and their threads; 0 = one per 4 cores */
    const char *token_file;    /* one bearer token per line; NULL = no authentication */
    const char *tls_cert;      /* PEM files; both or neither */
    const char *tls_key;
    int64_t shutdown_grace_ms; /* in-flight calls may finish this long after shutdown (10 s) */
    /* Execute calls parked for slow clients at most; 0 = 4096, < 0 = never park (a runner then
     * waits for its client) */
    int32_t max_parked_calls;
    /* Execute queries whose plans read only live tables (no I/O) and at most this many rows of
     * them after chunk pruning run on the network thread that received them, with no hand-off
     * to a runner (pl_srv_execute_start_inline); 0 = 16384, < 0 = never */
    int64_t inline_query_rows;
    /* an Execute call that answered with a same-host file stays open this long for the
     * client's ReleaseSharedMemory (its disconnect meanwhile removes the file); 0 = 10 s */
    int64_t shm_hold_ms;
    /* per-call completion hook (metrics, logs); NULL = none */
    pl_server_call_hook on_call_done;
    pl_server_stream_hook on_streamed; /* NULL = none; called with hook_user */
    void *hook_user;
} pl_server_opts;

void pl_server_opts_init(pl_server_opts *o);

typedef struct pl_server pl_server;

/* Loads tokens and TLS files, binds the address, starts every thread. Errors: INVALID_ARG (a
 * non-loopback address without a token file, a bad address, TLS cert without key), IO (cannot
 * read a file, cannot bind), NOMEM. */
pl_status pl_server_start(const pl_server_opts *o, pl_server **out, pl_error *err);
/* The bound TCP port (the actual one after "HOST:0"), or 0 for a unix socket. */
int pl_server_port(const pl_server *s);
/* The address the server listens on, with the actual port ("127.0.0.1:41234", "unix:/x"). */
const char *pl_server_address(const pl_server *s);
pl_srv *pl_server_service(pl_server *s);

/* Live numbers for metrics: calls waiting for a runner, running on runners, parked, open. */
typedef struct pl_server_stats {
    int64_t queued;
    int64_t running;
    int64_t parked; /* Execute calls waiting for a slow client, off the runners */
    int64_t open_calls;
    int64_t calls_total;
} pl_server_stats;
void pl_server_get_stats(pl_server *s, pl_server_stats *out);

/* Graceful shutdown: stops accepting calls, reports NOT_SERVING to health checks, lets
 * in-flight calls finish for up to shutdown_grace_ms, cancels the rest, waits for every call
 * to end and stops every thread. Thread-safe; the first call does the work, later ones (and
 * pl_server_wait) block until it is done. */
void pl_server_shutdown(pl_server *s);
/* Blocks until a shutdown (from another thread) has completed. */
void pl_server_wait(pl_server *s);
/* Frees a server (shuts it down first if that has not happened). */
void pl_server_free(pl_server *s);

#endif
