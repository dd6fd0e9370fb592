/* observe.h - metrics and logs wired to a running server (`polaroid serve`): the per-call hook
 * of server.h feeds the metrics registry (metrics.h) and writes one log line per call (log.h);
 * gauges read the server's live numbers at scrape time; --metrics-listen starts the HTTP
 * endpoint. The CLI makes one before pl_server_start and frees it after pl_server_free:
 *
 *   pl_srv_obs_new(&opts, metrics_listen, log_format, &ob, &err);   sets opts.on_call_done
 *   pl_server_start(&opts, &srv, &err);  pl_srv_obs_attach(ob, srv);
 *   ... pl_srv_obs_detach(ob); pl_server_shutdown(srv); pl_server_free(srv); pl_srv_obs_free(ob);
 *
 * The log level comes from the environment variable POLAROID_LOG_LEVEL (debug, info, warn,
 * error, off; default info). */
#ifndef PL_SERVER_OBSERVE_H
#define PL_SERVER_OBSERVE_H

#include "server/metrics.h"
#include "server/server.h"

typedef struct pl_srv_obs pl_srv_obs;

/* Sets up logging (format "text" or "json", NULL = text), the metrics registry, and the HTTP
 * endpoint when metrics_listen is not NULL (its address is logged); installs the call hook in
 * o. Errors: PL_ERR_INVALID_ARG (format, level, address), PL_ERR_IO (cannot bind), NOMEM. */
pl_status pl_srv_obs_new(pl_server_opts *o, const char *metrics_listen, const char *log_format,
                         pl_srv_obs **out, pl_error *err);
/* Gauges read srv from now on (until detach). */
void pl_srv_obs_attach(pl_srv_obs *ob, pl_server *srv);
/* Gauges stop reading the server (call before pl_server_free). */
void pl_srv_obs_detach(pl_srv_obs *ob);
/* The metrics endpoint's bound address ("127.0.0.1:9090"), or NULL without one. */
const char *pl_srv_obs_metrics_address(const pl_srv_obs *ob);
pl_metrics *pl_srv_obs_metrics(pl_srv_obs *ob);
/* Stops the endpoint and frees everything. NULL is a no-op. */
void pl_srv_obs_free(pl_srv_obs *ob);

#endif
