/* metrics.h - the server's Prometheus metrics and the --metrics-listen HTTP endpoint.
 *
 * A fixed registry (no dynamic registration): per-method call counters by gRPC status code,
 * per-method latency histograms, rows and bytes streamed, gauges set by the transport (queue
 * depth, running queries, calls in flight) or read through callbacks at scrape time (memory in
 * use, open handles, live tables), connected clients (distinct peer addresses with a call in the
 * last PL_METRICS_PEER_WINDOW_S seconds), and process basics (uptime, build version, CPU, RSS,
 * open file descriptors).
 *
 * Threads: every update function may be called from any thread at any time without a lock on
 * the hot path (counters are striped per thread over cache-line-aligned slots and updated with
 * relaxed atomics; pl_metrics_render sums the stripes). Rendering and the HTTP thread never block
 * updaters. Callbacks are called from the rendering thread and must be thread-safe and cheap.
 *
 * Metric names (the whole list; docs/server.md documents them):
 *   polaroid_build_info{version}                      gauge, always 1
 *   polaroid_start_time_seconds                       gauge, Unix time the registry was made
 *   polaroid_uptime_seconds                           gauge
 *   polaroid_calls_total{method,code}                 counter, completed calls by gRPC status
 *   polaroid_call_duration_seconds{method}            histogram, 50us .. 60s
 *   polaroid_rows_streamed_total                      counter, result rows sent
 *   polaroid_bytes_streamed_total                     counter, response message bytes sent
 *   polaroid_memory_bytes                             gauge (callback; default: engine allocator)
 *   polaroid_memory_stored_bytes{kind}                gauge (callbacks): of polaroid_memory_bytes,
 *                                                     live_tables, handles, shared_memory
 *   polaroid_memory_limit_bytes                       gauge (callback), --max-memory (0 = none)
 *   polaroid_allocated_bytes                          gauge, the engine allocator's live bytes
 *   polaroid_queue_depth                              gauge, admitted queries waiting
 *   polaroid_running_queries                          gauge
 *   polaroid_calls_in_flight                          gauge
 *   polaroid_open_handles                             gauge (callback)
 *   polaroid_live_tables                              gauge (callback)
 *   polaroid_connected_clients                        gauge
 *   process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds */
#ifndef PL_SERVER_METRICS_H
#define PL_SERVER_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "polaroid/status.h"

/* Calls are counted per method index in [0, PL_METRICS_MAX_METHODS); the indices are
 * pl_srv_method values (service.h); anything else is counted as method="unknown". */
#define PL_METRICS_MAX_METHODS 16
/* gRPC status codes 0..16; anything else is counted as UNKNOWN (2). */
#define PL_METRICS_N_CODES 17
/* Latency buckets (upper bounds in seconds), Prometheus "le" labels. */
#define PL_METRICS_N_BUCKETS 19
/* A peer counts as a connected client while it made a call within this many seconds. */
#define PL_METRICS_PEER_WINDOW_S 60
/* Peers remembered at once (beyond: counted, but the oldest entries are overwritten). */
#define PL_METRICS_MAX_PEERS 4096
/* HTTP endpoint limits: request head size, time a client has to send it and to read the
 * answer, and connections served at once (more wait in the listen backlog). */
#define PL_METRICS_HTTP_MAX_REQUEST 8192
#define PL_METRICS_HTTP_TIMEOUT_MS 5000
#define PL_METRICS_HTTP_MAX_CONNS 16

typedef struct pl_metrics pl_metrics;

typedef enum pl_metrics_gauge {
    PL_METRIC_MEMORY_BYTES = 0, /* callback, else pl_alloc_live_bytes() */
    PL_METRIC_QUEUE_DEPTH,
    PL_METRIC_RUNNING_QUERIES,
    PL_METRIC_CALLS_IN_FLIGHT,
    PL_METRIC_OPEN_HANDLES,     /* callback, else the stored value */
    PL_METRIC_LIVE_TABLES,      /* callback, else the stored value */
    PL_METRIC_CONNECTED_CLIENTS, /* stored value if the transport sets it, else the peer window */
    PL_METRIC_MEMORY_TABLES,    /* live tables' bytes in the memory account */
    PL_METRIC_MEMORY_HANDLES,   /* materialised handles' bytes */
    PL_METRIC_MEMORY_SHARED,    /* same-host result files' bytes */
    PL_METRIC_MEMORY_LIMIT,     /* --max-memory */
    PL_METRIC_N_GAUGES
} pl_metrics_gauge;

/* A gauge's value read at scrape time, from the rendering thread. */
typedef int64_t (*pl_metrics_read_fn)(void *arg);

/* Makes a registry. version is copied (the build version, e.g. "0.1.0"). Errors: PL_ERR_NOMEM. */
pl_status pl_metrics_new(const char *version, pl_metrics **out, pl_error *err);
/* Frees the registry; stop its HTTP endpoint first. NULL is a no-op. */
void pl_metrics_free(pl_metrics *m);

/* One completed call: method index (pl_srv_method), gRPC status code, wall time from arrival to
 * the final status, result rows and response bytes sent. Lock-free. m may be NULL (no-op). */
void pl_metrics_observe_call(pl_metrics *m, int method, int grpc_code, int64_t latency_ns,
                             int64_t rows, int64_t bytes);
/* Rows and bytes sent while a call is still streaming (then pass 0, 0 to observe_call for
 * what was already counted). Lock-free. */
void pl_metrics_add_streamed(pl_metrics *m, int64_t rows, int64_t bytes);

/* Gauges. set/add are lock-free; a gauge with a callback ignores stored values. */
void pl_metrics_gauge_set(pl_metrics *m, pl_metrics_gauge g, int64_t v);
void pl_metrics_gauge_add(pl_metrics *m, pl_metrics_gauge g, int64_t delta);
int64_t pl_metrics_gauge_get(pl_metrics *m, pl_metrics_gauge g); /* what a scrape would show */
/* Reads g through fn(arg) at scrape time (fn NULL: back to the stored value). */
void pl_metrics_gauge_callback(pl_metrics *m, pl_metrics_gauge g, pl_metrics_read_fn fn,
                               void *arg);

/* A call from peer (e.g. "ipv4:127.0.0.1:5555") started: feeds polaroid_connected_clients
 * (distinct peers seen in the last window). Takes a short lock; peer may be NULL (ignored). */
void pl_metrics_peer_seen(pl_metrics *m, const char *peer, int64_t now_ns);

/* Label text for a method index and a gRPC code ("Execute", "OK", ...). */
const char *pl_metrics_method_name(int method);
const char *pl_metrics_code_name(int grpc_code);

/* The whole exposition text (Prometheus text format 0.0.4) into *text (pl_malloc'd,
 * NUL-terminated, *len bytes without the NUL; caller pl_free's). Errors: PL_ERR_NOMEM. */
pl_status pl_metrics_render(pl_metrics *m, char **text, size_t *len, pl_error *err);

/* ---------------------------------------------------------------- HTTP endpoint */

typedef struct pl_metrics_http pl_metrics_http;

/* Listens on addr ("HOST:PORT", "[::1]:PORT", port 0 = any free port) and serves
 * `GET /metrics` (also HEAD; 404 for other paths, 405 for other methods, 400 for a malformed
 * request, 431 for a request head over PL_METRICS_HTTP_MAX_REQUEST) on one thread with a poll
 * loop; every connection is closed after one answer or after PL_METRICS_HTTP_TIMEOUT_MS.
 * Errors: PL_ERR_INVALID_ARG (bad address), PL_ERR_IO (bind/listen failed, with the reason). */
pl_status pl_metrics_http_start(pl_metrics *m, const char *addr, pl_metrics_http **out,
                                pl_error *err);
/* The bound port (useful after port 0). */
int pl_metrics_http_port(const pl_metrics_http *h);
/* The bound address as "HOST:PORT" (static storage of h). */
const char *pl_metrics_http_address(const pl_metrics_http *h);
/* Stops accepting, closes every connection, joins the thread, frees h. NULL is a no-op. */
void pl_metrics_http_stop(pl_metrics_http *h);

#endif
