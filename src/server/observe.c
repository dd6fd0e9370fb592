/* observe.c - the server's metrics and logs wired to the transport (see observe.h).
 *
 * The call hook runs on a network thread once per finished call: one lock-free metrics update,
 * one peer-table touch (a short lock, skipped when the same thread saw the same peer within a
 * second) and, when the level lets it through, one log line (one write(2)). Gauge callbacks run
 * on the metrics thread and take ob->lock, so detach can make them stop reading the server
 * before it is freed. */
#include "server/observe.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/status.h"
#include "server/catalog.h"
#include "server/log.h"
#include "server/transport.h"

/* the build version, as ServerInfo reports it (service.c) */
#ifndef PL_VERSION
#define PL_VERSION "0.1.0"
#endif

typedef enum {
    G_QUEUED,
    G_RUNNING,
    G_OPEN,
    G_MEMORY,
    G_HANDLES,
    G_TABLES,
    G_MEM_TABLES,
    G_MEM_HANDLES,
    G_MEM_SHARED,
    G_MEM_LIMIT,
    G_N
} gauge_kind;

typedef struct gauge_arg {
    struct pl_srv_obs *ob;
    gauge_kind kind;
} gauge_arg;

struct pl_srv_obs {
    pl_metrics *m;
    pl_metrics_http *http;
    pthread_mutex_t lock;
    pl_server *srv; /* protected by lock; NULL when detached */
    gauge_arg args[G_N]; /* what each gauge callback reads */
};

static void on_call_done(void *user, const pl_server_call_info *ci) {
    pl_srv_obs *ob = user;
    int method = (int)ci->method;
    bool streams = ci->method == PL_SRV_EXECUTE || ci->method == PL_SRV_APPEND;
    int64_t rows = streams && ci->method == PL_SRV_EXECUTE ? ci->rows : 0;
    /* what on_streamed counted while the call streamed is not counted again */
    pl_metrics_observe_call(ob->m, method, ci->grpc_code, ci->latency_ns, rows - ci->streamed_rows,
                            ci->bytes - ci->streamed_bytes);
    pl_metrics_peer_seen(ob->m, ci->peer, pl_now_ns());
    bool light = ci->method < PL_SRV_N_METHODS && pl_srv_method_is_light(ci->method);
    if (!pl_log_enabled(PL_LOG_WARN)) return; /* logs are off */
    char msg[1024];
    if (ci->err) pl_error_format(ci->err, msg, sizeof msg);
    pl_log_call(&(pl_log_call_info){
        .request_id = ci->request_id && *ci->request_id ? ci->request_id : NULL,
        .method = pl_metrics_method_name(method),
        .grpc_code = ci->grpc_code,
        .latency_ns = ci->latency_ns,
        .queued_ns = ci->queued_ns,
        .rows = streams ? ci->rows : -1,
        .bytes = ci->bytes,
        .peer = ci->peer && *ci->peer ? ci->peer : NULL,
        .error = ci->err ? msg : NULL,
        .light = light,
        .cancelled = ci->client_cancelled,
    });
}

static void on_streamed(void *user, int64_t rows, int64_t bytes) {
    pl_srv_obs *ob = user;
    pl_metrics_add_streamed(ob->m, rows, bytes);
}

/* ---------------------------------------------------------------- gauges */

static int64_t read_gauge(void *arg) {
    gauge_arg *g = arg;
    pl_srv_obs *ob = g->ob;
    int64_t v = 0;
    pthread_mutex_lock(&ob->lock);
    pl_server *s = ob->srv;
    if (s) {
        pl_server_stats st;
        switch (g->kind) {
        case G_QUEUED:
        case G_RUNNING:
        case G_OPEN:
            pl_server_get_stats(s, &st);
            v = g->kind == G_QUEUED ? st.queued : g->kind == G_RUNNING ? st.running : st.open_calls;
            break;
        case G_MEMORY: v = pl_srv_memory_in_use(pl_server_service(s)); break;
        case G_HANDLES: v = pl_catalog_n_handles(pl_srv_catalog(pl_server_service(s))); break;
        case G_MEM_TABLES:
        case G_MEM_HANDLES: {
            int64_t tb = 0, hb = 0;
            pl_catalog_memory(pl_srv_catalog(pl_server_service(s)), &tb, &hb);
            v = g->kind == G_MEM_TABLES ? tb : hb;
            break;
        }
        case G_MEM_SHARED: v = pl_srv_shm_bytes(pl_server_service(s)); break;
        case G_MEM_LIMIT: v = pl_srv_get_config(pl_server_service(s))->max_memory; break;
        case G_N: break;
        case G_TABLES: {
            char **names = NULL;
            int32_t n = 0;
            if (pl_catalog_table_names(pl_srv_catalog(pl_server_service(s)), &names, &n, NULL) ==
                PL_OK) {
                for (int32_t i = 0; i < n; i++) pl_free(names[i]);
                pl_free(names);
                v = n;
            }
            break;
        }
        }
    }
    pthread_mutex_unlock(&ob->lock);
    return v;
}

pl_status pl_srv_obs_new(pl_server_opts *o, const char *metrics_listen, const char *log_format,
                         pl_srv_obs **out, pl_error *err) {
    pl_log_format fmt = PL_LOG_TEXT;
    pl_log_level level = PL_LOG_INFO;
    if (log_format) PL_TRY(pl_log_parse_format(log_format, &fmt, err));
    const char *env = getenv("POLAROID_LOG_LEVEL");
    if (env && *env) PL_TRY(pl_log_parse_level(env, &level, err));
    pl_srv_obs *ob = pl_calloc(1, sizeof *ob);
    if (!ob) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&ob->lock, NULL);
    pl_status st = pl_metrics_new(PL_VERSION, &ob->m, err);
    if (st) {
        pl_srv_obs_free(ob);
        return st;
    }
    pl_log_init(fmt, level);
    static const struct { pl_metrics_gauge g; gauge_kind k; } map[] = {
        {PL_METRIC_QUEUE_DEPTH, G_QUEUED},    {PL_METRIC_RUNNING_QUERIES, G_RUNNING},
        {PL_METRIC_CALLS_IN_FLIGHT, G_OPEN},  {PL_METRIC_MEMORY_BYTES, G_MEMORY},
        {PL_METRIC_OPEN_HANDLES, G_HANDLES},  {PL_METRIC_LIVE_TABLES, G_TABLES},
        {PL_METRIC_MEMORY_TABLES, G_MEM_TABLES}, {PL_METRIC_MEMORY_HANDLES, G_MEM_HANDLES},
        {PL_METRIC_MEMORY_SHARED, G_MEM_SHARED}, {PL_METRIC_MEMORY_LIMIT, G_MEM_LIMIT}};
    for (size_t i = 0; i < PL_ARRAY_LEN(map); i++) {
        ob->args[i] = (gauge_arg){ob, map[i].k};
        pl_metrics_gauge_callback(ob->m, map[i].g, read_gauge, &ob->args[i]);
    }
    if (metrics_listen) {
        st = pl_metrics_http_start(ob->m, metrics_listen, &ob->http, err);
        if (st) {
            pl_srv_obs_free(ob);
            return st;
        }
        pl_log(PL_LOG_INFO, NULL, "metrics endpoint listening on http://%s/metrics",
               pl_metrics_http_address(ob->http));
    }
    o->on_call_done = on_call_done;
    o->on_streamed = on_streamed;
    o->hook_user = ob;
    *out = ob;
    return PL_OK;
}

void pl_srv_obs_attach(pl_srv_obs *ob, pl_server *srv) {
    if (!ob) return;
    pthread_mutex_lock(&ob->lock);
    ob->srv = srv;
    pthread_mutex_unlock(&ob->lock);
}

void pl_srv_obs_detach(pl_srv_obs *ob) { pl_srv_obs_attach(ob, NULL); }

const char *pl_srv_obs_metrics_address(const pl_srv_obs *ob) {
    return ob && ob->http ? pl_metrics_http_address(ob->http) : NULL;
}

pl_metrics *pl_srv_obs_metrics(pl_srv_obs *ob) { return ob ? ob->m : NULL; }

void pl_srv_obs_free(pl_srv_obs *ob) {
    if (!ob) return;
    pl_metrics_http_stop(ob->http);
    pl_metrics_free(ob->m);
    pthread_mutex_destroy(&ob->lock);
    pl_free(ob);
}
