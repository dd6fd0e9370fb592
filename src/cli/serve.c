/* serve.c - `polaroid serve`: the gRPC server (src/server/server.h) over the engine. Parses the
 * options, starts the server, prints one ready line on standard output, then waits for SIGTERM
 * or SIGINT (blocked in every thread and taken with sigwait by the main thread, so no work
 * happens in a signal handler) and shuts down gracefully: no new calls, in-flight ones finish
 * within --shutdown-grace, the rest are cancelled; exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/core.h"
#include "server/log.h"
#include "server/observe.h"
#include "server/server.h"

static const char *const g_serve_help =
    "usage: polaroid serve [options]\n"
    "\n"
    "Serves the engine over gRPC (protocol polaroid.v1, proto/polaroid/v1/polaroid.proto, and\n"
    "grpc.health.v1): clients send whole lazy plans, results stream back as Arrow IPC. Prints one\n"
    "line when ready (address, data root, threads); SIGTERM or SIGINT shut it down gracefully\n"
    "(in-flight queries finish, up to --shutdown-grace) and it exits 0.\n"
    "\n"
    "options:\n"
    "  --listen ADDR             HOST:PORT or unix:PATH (default 127.0.0.1:50051; port 0 picks a\n"
    "                            free port, printed in the ready line)\n"
    "  --data-root DIR           paths in requests resolve under DIR (default: current directory);\n"
    "                            paths that leave it are refused\n"
    "  --threads N               engine worker threads (default: one per core)\n"
    "  --network-threads N       gRPC completion queues, one thread each (default: one per 4\n"
    "                            cores)\n"
    "  --inline-query-rows N     queries over live tables reading at most N rows (after chunk\n"
    "                            statistics) run on the network thread, not a runner (default\n"
    "                            16384; 0 = never)\n"
    "  --max-memory SIZE         memory for all queries, live tables, materialised handles and\n"
    "                            same-host results together (e.g. 4G, 512MiB; default: no\n"
    "                            limit)\n"
    "  --max-concurrent-queries N  queries running at once (default: 2 x threads)\n"
    "  --max-queued-queries N    queries waiting for a slot; beyond it calls fail at once with\n"
    "                            RESOURCE_EXHAUSTED (default 1024)\n"
    "  --query-timeout SECONDS   per-query time limit (DEADLINE_EXCEEDED; default: none)\n"
    "  --handle-ttl SECONDS      lifetime of a handle without a heartbeat (default 300)\n"
    "  --max-message-size SIZE   largest request or response message (default 64MiB)\n"
    "  --shm-reuse SIZE          same-host result files a client has unmapped are kept for its\n"
    "                            later results, up to SIZE (e.g. 8G; at most half of\n"
    "                            --max-memory; 0 = never; default auto = a third of the\n"
    "                            machine's memory)\n"
    "  --shm-reuse-idle SECONDS  ... each at most this long unused (default 30)\n"
    "  --token-file FILE         bearer tokens, one per line; clients send the metadata\n"
    "                            \"authorization: Bearer TOKEN\" (required unless listening on a\n"
    "                            loopback address or a unix socket; health checks need none)\n"
    "  --tls-cert FILE           TLS certificate chain (PEM); with --tls-key\n"
    "  --tls-key FILE            TLS private key (PEM)\n"
    "  --metrics-listen ADDR     serve Prometheus metrics over HTTP on HOST:PORT\n"
    "  --log-format F            text (default) or json (one object per line), on stderr\n"
    "  --shutdown-grace SECONDS  how long in-flight calls may run after SIGTERM (default 10)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Exit status: 0 after a graceful shutdown, 1 an error (cannot bind, bad token file, a\n"
    "non-loopback address without --token-file), 2 usage error.\n";

/* A whole number of seconds (fractions allowed) as milliseconds. */
static bool parse_seconds_ms(const char *s, int64_t *out_ms) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > 1e9) return false;
    *out_ms = (int64_t)(v * 1000.0 + 0.5);
    return true;
}

static int take_int(const char *opt, const char *v, int64_t lo, int64_t hi, int64_t *out) {
    int64_t n;
    if (!cli_parse_count(v, &n) || n < lo || n > hi)
        return cli_usage_error("serve", "%s takes a number from %lld to %lld, not \"%s\"", opt,
                               (long long)lo, (long long)hi, v);
    *out = n;
    return PL_EXIT_OK;
}

int cmd_serve(int argc, char **argv) {
    pl_server_opts o;
    pl_server_opts_init(&o);
    cli_args a = {argc, argv, 1, "serve"};
    const char *data_root = ".";
    const char *metrics_listen = NULL; /* observe.c starts the endpoint */
    const char *log_format = "text";
    int32_t threads = 0;
    while (a.i < a.argc) {
        const char *v;
        int r;
        int64_t n = 0;
        if (cli_take_flag(&a, "-h|--help")) {
            fputs(g_serve_help, stdout);
            return PL_EXIT_OK;
        }
        if ((r = cli_take_value(&a, "--listen", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error("serve", "--listen needs HOST:PORT or unix:PATH");
            o.listen = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--data-root", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error("serve", "--data-root needs a directory");
            data_root = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--threads", &v))) {
            if (r < 0 || cli_apply_threads("serve", v, &threads)) return PL_EXIT_USAGE;
            o.srv.threads = threads;
            continue;
        }
        if ((r = cli_take_value(&a, "--network-threads", &v))) {
            if (r < 0 || take_int("--network-threads", v, 1, 256, &n)) return PL_EXIT_USAGE;
            o.network_threads = (int32_t)n;
            continue;
        }
        if ((r = cli_take_value(&a, "--inline-query-rows", &v))) {
            if (r < 0 || take_int("--inline-query-rows", v, 0, 1LL << 40, &n)) return PL_EXIT_USAGE;
            o.inline_query_rows = n > 0 ? n : -1;
            continue;
        }
        if ((r = cli_take_value(&a, "--max-memory", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_size(v, &o.srv.max_memory))
                return cli_usage_error("serve", "--max-memory takes a size such as 4G or "
                                       "512MiB, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(&a, "--max-concurrent-queries", &v))) {
            if (r < 0 || take_int("--max-concurrent-queries", v, 1, 4096, &n))
                return PL_EXIT_USAGE;
            o.srv.max_concurrent_queries = (int32_t)n;
            continue;
        }
        if ((r = cli_take_value(&a, "--max-queued-queries", &v))) {
            if (r < 0 || take_int("--max-queued-queries", v, 1, 1 << 20, &n)) return PL_EXIT_USAGE;
            o.srv.max_queued_queries = (int32_t)n;
            continue;
        }
        if ((r = cli_take_value(&a, "--query-timeout", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!parse_seconds_ms(v, &o.srv.query_timeout_ms))
                return cli_usage_error("serve", "--query-timeout takes seconds, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(&a, "--handle-ttl", &v))) {
            if (r < 0 || take_int("--handle-ttl", v, 1, 365LL * 86400, &n)) return PL_EXIT_USAGE;
            o.srv.handle_ttl_s = n;
            continue;
        }
        if ((r = cli_take_value(&a, "--shm-reuse", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (strcmp(v, "0") == 0) o.srv.shm_pool_bytes = 0; /* never */
            else if (strcmp(v, "auto") == 0) o.srv.shm_pool_bytes = -1;
            else if (!cli_parse_size(v, &o.srv.shm_pool_bytes))
                return cli_usage_error("serve", "--shm-reuse takes a size such as 8G, auto or 0, not "
                                       "\"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(&a, "--shm-reuse-idle", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!parse_seconds_ms(v, &o.srv.shm_pool_idle_ms) || o.srv.shm_pool_idle_ms <= 0)
                return cli_usage_error("serve", "--shm-reuse-idle takes seconds, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(&a, "--max-message-size", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_size(v, &o.srv.max_message_bytes) || o.srv.max_message_bytes < 4096 ||
                o.srv.max_message_bytes > INT32_MAX)
                return cli_usage_error("serve", "--max-message-size takes a size from 4KiB to "
                                       "2GiB, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(&a, "--token-file", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            o.token_file = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--tls-cert", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            o.tls_cert = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--tls-key", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            o.tls_key = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--metrics-listen", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            metrics_listen = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--log-format", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (strcmp(v, "text") && strcmp(v, "json"))
                return cli_usage_error("serve", "--log-format is text or json, not \"%s\"", v);
            log_format = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--shutdown-grace", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!parse_seconds_ms(v, &o.shutdown_grace_ms))
                return cli_usage_error("serve", "--shutdown-grace takes seconds, not \"%s\"", v);
            continue;
        }
        if (a.argv[a.i][0] == '-')
            return cli_usage_error("serve", "unknown option \"%s\"", a.argv[a.i]);
        return cli_usage_error("serve", "unexpected argument \"%s\"", a.argv[a.i]);
    }
    if ((o.tls_cert == NULL) != (o.tls_key == NULL))
        return cli_usage_error("serve", "--tls-cert and --tls-key go together");

    pl_error err;
    pl_error_init(&err);
    char root[PATH_MAX];
    struct stat st;
    if (!realpath(data_root, root) || stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        pl_error_set(&err, PL_ERR_NOT_FOUND, "the data root is not a directory");
        pl_error_set_path(&err, data_root);
        return cli_report(&err);
    }
    o.srv.data_root = root;

    /* SIGTERM and SIGINT are taken by sigwait below: block them before any thread starts so
     * that every thread inherits the mask. A client that goes away must not kill us. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    pl_server *srv = NULL;
    pl_srv_obs *obs = NULL; /* metrics and logs: installs the per-call hook in o */
    if (pl_srv_obs_new(&o, metrics_listen, log_format, &obs, &err)) return cli_report(&err);
    if (pl_server_start(&o, &srv, &err)) {
        pl_srv_obs_free(obs);
        return cli_report(&err);
    }
    pl_srv_obs_attach(obs, srv);
    const pl_srv_config *cfg = pl_srv_get_config(pl_server_service(srv));
    int32_t n_threads = cfg->threads > 0 ? cfg->threads : pl_pool_threads();
    printf("polaroid serve: listening on %s, data root %s, %d threads\n",
           pl_server_address(srv), root, (int)n_threads);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {
    }
    pl_log(PL_LOG_INFO, NULL, "%s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    pl_server_shutdown(srv);
    pl_srv_obs_detach(obs);
    pl_server_free(srv);
    pl_srv_obs_free(obs);
    pl_log(PL_LOG_INFO, NULL, "stopped");
    return PL_EXIT_OK;
}
