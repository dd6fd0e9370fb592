/* metrics.c - Prometheus metrics for polaroid serve and the --metrics-listen endpoint.
 *
 * Hot path: pl_metrics_observe_call adds to one stripe of counters chosen per thread (a thread
 * gets its stripe index once, round robin), with relaxed atomic adds on cache-line-aligned
 * stripes, so concurrent callers rarely share a line and never take a lock. Rendering sums the
 * stripes; totals are exact once updaters are quiet, and a scrape during updates sees each
 * counter at some value between its start and end values (histogram _count is the sum of the
 * bucket counts read, so +Inf == _count always holds in one scrape).
 *
 * The HTTP endpoint is one thread running a poll loop over the listening socket, a wake-up pipe
 * (for stop) and at most PL_METRICS_HTTP_MAX_CONNS connections. A connection must send its
 * request head (at most PL_METRICS_HTTP_MAX_REQUEST bytes) and read the answer within
 * PL_METRICS_HTTP_TIMEOUT_MS; sockets are non-blocking, so a slow or hostile client only
 * occupies one slot until its deadline. Exposition format: Prometheus text format 0.0.4. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "server/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"

#define N_STRIPES 8
#define N_METHOD_SLOTS (PL_METRICS_MAX_METHODS + 1) /* last slot: unknown */
#define PEER_PROBES 32
#define CACHE_LINE 64

/* Upper bounds of the latency buckets in ns, and their "le" label text. */
static const int64_t bucket_ns[PL_METRICS_N_BUCKETS] = {
    50000LL,     100000LL,     250000LL,     500000LL,     1000000LL,
    2500000LL,   5000000LL,    10000000LL,   25000000LL,   50000000LL,
    100000000LL, 250000000LL,  500000000LL,  1000000000LL, 2500000000LL,
    5000000000LL, 10000000000LL, 30000000000LL, 60000000000LL};
static const char *const bucket_le[PL_METRICS_N_BUCKETS] = {
    "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",    "0.025",  "0.05",    "0.1",    "0.25",  "0.5",    "1",
    "2.5",     "5",      "10",      "30",     "60"};

/* Method labels: the last component of pl_srv_method_path, in pl_srv_method order. */
static const char *const method_names[PL_METRICS_MAX_METHODS] = {
    "Execute",      "Schema",     "Explain",    "Describe",   "Write",
    "CreateHandle", "Heartbeat",  "DropHandle", "CreateTable", "DropTable",
    "ListTables",   "Append",     "ServerInfo", "ReleaseSharedMemory", "Health.Check",
    "Health.Watch"};

static const char *const code_names[PL_METRICS_N_CODES] = {
    "OK",           "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS", "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",    "DATA_LOSS",
    "UNAUTHENTICATED"};

typedef struct stripe {
    _Atomic uint64_t calls[N_METHOD_SLOTS][PL_METRICS_N_CODES];
    _Atomic uint64_t buckets[N_METHOD_SLOTS][PL_METRICS_N_BUCKETS + 1]; /* last: +Inf only */
    _Atomic uint64_t sum_ns[N_METHOD_SLOTS];
    _Atomic uint64_t rows, bytes;
} __attribute__((aligned(CACHE_LINE))) stripe;

typedef struct peer_slot {
    uint64_t hash; /* 0 = empty */
    int64_t last_ns;
} peer_slot;

typedef struct gauge {
    _Atomic int64_t value;
    _Atomic int set; /* the transport stored a value (PL_METRIC_CONNECTED_CLIENTS) */
    pl_metrics_read_fn fn; /* protected by cb_lock */
    void *arg;             /* protected by cb_lock */
} gauge;

struct pl_metrics {
    void *block; /* the allocation the aligned stripes live in */
    stripe *stripes;
    gauge gauges[PL_METRIC_N_GAUGES];
    pthread_mutex_t cb_lock;
    pthread_mutex_t peer_lock;
    peer_slot *peers; /* protected by peer_lock */
    char version[64];
    int64_t start_mono_ns;
    double start_unix_s;
};

static _Atomic uint32_t next_stripe;
static _Thread_local int my_stripe = -1;
static _Thread_local uint64_t my_last_peer;
static _Thread_local int64_t my_last_peer_ns;

static stripe *thread_stripe(pl_metrics *m) {
    if (PL_UNLIKELY(my_stripe < 0))
        my_stripe = (int)(atomic_fetch_add_explicit(&next_stripe, 1, memory_order_relaxed) %
                          N_STRIPES);
    return &m->stripes[my_stripe];
}

static inline void add_u64(_Atomic uint64_t *p, uint64_t v) {
    atomic_fetch_add_explicit(p, v, memory_order_relaxed);
}
static inline uint64_t load_u64(_Atomic uint64_t *p) {
    return atomic_load_explicit(p, memory_order_relaxed);
}

static double unix_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

pl_status pl_metrics_new(const char *version, pl_metrics **out, pl_error *err) {
    pl_metrics *m = pl_calloc(1, sizeof *m);
    if (!m) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the metrics registry");
    m->block = pl_calloc(1, sizeof(stripe) * N_STRIPES + CACHE_LINE);
    m->peers = pl_calloc(PL_METRICS_MAX_PEERS, sizeof(peer_slot));
    if (!m->block || !m->peers) {
        pl_free(m->block);
        pl_free(m->peers);
        pl_free(m);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the metrics registry");
    }
    uintptr_t p = ((uintptr_t)m->block + CACHE_LINE - 1) & ~(uintptr_t)(CACHE_LINE - 1);
    m->stripes = (stripe *)p;
    pthread_mutex_init(&m->cb_lock, NULL);
    pthread_mutex_init(&m->peer_lock, NULL);
    snprintf(m->version, sizeof m->version, "%s", version ? version : "");
    m->start_mono_ns = pl_now_ns();
    m->start_unix_s = unix_now_s();
    *out = m;
    return PL_OK;
}

void pl_metrics_free(pl_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->cb_lock);
    pthread_mutex_destroy(&m->peer_lock);
    pl_free(m->peers);
    pl_free(m->block);
    pl_free(m);
}

const char *pl_metrics_method_name(int method) {
    return method >= 0 && method < PL_METRICS_MAX_METHODS ? method_names[method] : "unknown";
}

const char *pl_metrics_code_name(int grpc_code) {
    return grpc_code >= 0 && grpc_code < PL_METRICS_N_CODES ? code_names[grpc_code] : "UNKNOWN";
}

void pl_metrics_observe_call(pl_metrics *m, int method, int grpc_code, int64_t latency_ns,
                             int64_t rows, int64_t bytes) {
    if (!m) return;
    int ms = method >= 0 && method < PL_METRICS_MAX_METHODS ? method : PL_METRICS_MAX_METHODS;
    int code = grpc_code >= 0 && grpc_code < PL_METRICS_N_CODES ? grpc_code : 2;
    if (latency_ns < 0) latency_ns = 0;
    int b = 0;
    while (b < PL_METRICS_N_BUCKETS && latency_ns > bucket_ns[b]) b++;
    stripe *s = thread_stripe(m);
    add_u64(&s->calls[ms][code], 1);
    add_u64(&s->buckets[ms][b], 1);
    add_u64(&s->sum_ns[ms], (uint64_t)latency_ns);
    if (rows > 0) add_u64(&s->rows, (uint64_t)rows);
    if (bytes > 0) add_u64(&s->bytes, (uint64_t)bytes);
}

void pl_metrics_add_streamed(pl_metrics *m, int64_t rows, int64_t bytes) {
    if (!m) return;
    stripe *s = thread_stripe(m);
    if (rows > 0) add_u64(&s->rows, (uint64_t)rows);
    if (bytes > 0) add_u64(&s->bytes, (uint64_t)bytes);
}

void pl_metrics_gauge_set(pl_metrics *m, pl_metrics_gauge g, int64_t v) {
    if (!m || (unsigned)g >= PL_METRIC_N_GAUGES) return;
    atomic_store_explicit(&m->gauges[g].value, v, memory_order_relaxed);
    atomic_store_explicit(&m->gauges[g].set, 1, memory_order_relaxed);
}

void pl_metrics_gauge_add(pl_metrics *m, pl_metrics_gauge g, int64_t delta) {
    if (!m || (unsigned)g >= PL_METRIC_N_GAUGES) return;
    atomic_fetch_add_explicit(&m->gauges[g].value, delta, memory_order_relaxed);
    atomic_store_explicit(&m->gauges[g].set, 1, memory_order_relaxed);
}

void pl_metrics_gauge_callback(pl_metrics *m, pl_metrics_gauge g, pl_metrics_read_fn fn,
                               void *arg) {
    if (!m || (unsigned)g >= PL_METRIC_N_GAUGES) return;
    pthread_mutex_lock(&m->cb_lock);
    m->gauges[g].fn = fn;
    m->gauges[g].arg = arg;
    pthread_mutex_unlock(&m->cb_lock);
}

static uint64_t hash_peer(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h ? h : 1;
}

void pl_metrics_peer_seen(pl_metrics *m, const char *peer, int64_t now_ns) {
    if (!m || !peer) return;
    uint64_t h = hash_peer(peer);
    /* the same thread seeing the same peer again within a second: nothing to update worth a
     * lock (the window is a minute) */
    if (h == my_last_peer && now_ns - my_last_peer_ns < 1000000000LL && now_ns >= my_last_peer_ns)
        return;
    my_last_peer = h;
    my_last_peer_ns = now_ns;
    pthread_mutex_lock(&m->peer_lock);
    size_t mask = PL_METRICS_MAX_PEERS - 1, first_free = SIZE_MAX;
    int64_t window = (int64_t)PL_METRICS_PEER_WINDOW_S * 1000000000LL;
    bool done = false;
    for (size_t probe = 0; probe < PEER_PROBES; probe++) {
        peer_slot *ps = &m->peers[(h + probe) & mask];
        if (ps->hash == h) {
            ps->last_ns = now_ns;
            done = true;
            break;
        }
        bool expired = ps->hash != 0 && now_ns - ps->last_ns > window;
        if ((ps->hash == 0 || expired) && first_free == SIZE_MAX) first_free = (h + probe) & mask;
        if (ps->hash == 0) break;
    }
    if (!done) {
        size_t at = first_free != SIZE_MAX ? first_free : (h & mask); /* full: overwrite */
        m->peers[at].hash = h;
        m->peers[at].last_ns = now_ns;
    }
    pthread_mutex_unlock(&m->peer_lock);
}

/* Distinct peers seen within the window; drops expired entries (rebuilds the table so probe
 * chains stay short). */
static int64_t count_peers(pl_metrics *m, int64_t now_ns) {
    int64_t window = (int64_t)PL_METRICS_PEER_WINDOW_S * 1000000000LL, n = 0;
    pthread_mutex_lock(&m->peer_lock);
    bool any_expired = false;
    for (size_t i = 0; i < PL_METRICS_MAX_PEERS; i++) {
        if (!m->peers[i].hash) continue;
        if (now_ns - m->peers[i].last_ns > window)
            any_expired = true;
        else
            n++;
    }
    if (any_expired) {
        peer_slot *fresh = pl_calloc(PL_METRICS_MAX_PEERS, sizeof(peer_slot));
        if (fresh) {
            size_t mask = PL_METRICS_MAX_PEERS - 1;
            for (size_t i = 0; i < PL_METRICS_MAX_PEERS; i++) {
                peer_slot ps = m->peers[i];
                if (!ps.hash || now_ns - ps.last_ns > window) continue;
                size_t at = ps.hash & mask;
                for (size_t probe = 0; probe < PL_METRICS_MAX_PEERS && fresh[at].hash; probe++)
                    at = (at + 1) & mask;
                fresh[at] = ps;
            }
            pl_free(m->peers);
            m->peers = fresh;
        }
    }
    pthread_mutex_unlock(&m->peer_lock);
    return n;
}

int64_t pl_metrics_gauge_get(pl_metrics *m, pl_metrics_gauge g) {
    if (!m || (unsigned)g >= PL_METRIC_N_GAUGES) return 0;
    pthread_mutex_lock(&m->cb_lock);
    pl_metrics_read_fn fn = m->gauges[g].fn;
    void *arg = m->gauges[g].arg;
    pthread_mutex_unlock(&m->cb_lock);
    if (fn) return fn(arg);
    if (g == PL_METRIC_MEMORY_BYTES && !atomic_load(&m->gauges[g].set))
        return pl_alloc_live_bytes();
    if (g == PL_METRIC_CONNECTED_CLIENTS && !atomic_load(&m->gauges[g].set))
        return count_peers(m, pl_now_ns());
    return atomic_load_explicit(&m->gauges[g].value, memory_order_relaxed);
}

/* ---------------------------------------------------------------- rendering */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) PL_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < room && b->p) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 16384;
        while (cap < b->len + (size_t)n + 1) cap *= 2;
        char *q = pl_realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

static void header(sbuf *b, const char *name, const char *type, const char *help) {
    sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge_line(sbuf *b, const char *name, const char *help, int64_t v) {
    header(b, name, "gauge", help);
    sb_printf(b, "%s %lld\n", name, (long long)v);
}

/* Label values are escaped per the text format: backslash, double quote and newline. The
 * version string is the only free text. */
static void escaped_label(sbuf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\')
            sb_printf(b, "\\\\");
        else if (*s == '"')
            sb_printf(b, "\\\"");
        else if (*s == '\n')
            sb_printf(b, "\\n");
        else
            sb_printf(b, "%c", *s);
    }
}

static int64_t proc_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "re");
    if (!f) return 0;
    long long size = 0, rss = 0;
    int n = fscanf(f, "%lld %lld", &size, &rss);
    fclose(f);
    return n == 2 ? rss * (int64_t)sysconf(_SC_PAGESIZE) : 0;
}

static int64_t proc_open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n > 0 ? n - 1 : 0; /* minus the directory's own descriptor */
}

pl_status pl_metrics_render(pl_metrics *m, char **text, size_t *len, pl_error *err) {
    sbuf b = {0};
    int64_t now = pl_now_ns();

    header(&b, "polaroid_build_info", "gauge", "Build version of the polaroid server.");
    sb_printf(&b, "polaroid_build_info{version=\"");
    escaped_label(&b, m->version);
    sb_printf(&b, "\"} 1\n");
    header(&b, "polaroid_start_time_seconds", "gauge", "Unix time the server started.");
    sb_printf(&b, "polaroid_start_time_seconds %.3f\n", m->start_unix_s);
    header(&b, "polaroid_uptime_seconds", "gauge", "Seconds since the server started.");
    sb_printf(&b, "polaroid_uptime_seconds %.3f\n", (double)(now - m->start_mono_ns) / 1e9);

    /* sum the stripes once */
    static const size_t n_calls = (size_t)N_METHOD_SLOTS * PL_METRICS_N_CODES;
    static const size_t n_buckets = (size_t)N_METHOD_SLOTS * (PL_METRICS_N_BUCKETS + 1);
    uint64_t *calls = pl_calloc(n_calls + n_buckets + N_METHOD_SLOTS, sizeof(uint64_t));
    if (!calls) PL_FAIL(err, PL_ERR_NOMEM, "out of memory rendering metrics");
    uint64_t *buckets = calls + n_calls, *sums = buckets + n_buckets, rows = 0, bytes = 0;
    for (int s_idx = 0; s_idx < N_STRIPES; s_idx++) {
        stripe *s = &m->stripes[s_idx];
        for (int me = 0; me < N_METHOD_SLOTS; me++) {
            for (int c = 0; c < PL_METRICS_N_CODES; c++)
                calls[me * PL_METRICS_N_CODES + c] += load_u64(&s->calls[me][c]);
            for (int bk = 0; bk <= PL_METRICS_N_BUCKETS; bk++)
                buckets[me * (PL_METRICS_N_BUCKETS + 1) + bk] += load_u64(&s->buckets[me][bk]);
            sums[me] += load_u64(&s->sum_ns[me]);
        }
        rows += load_u64(&s->rows);
        bytes += load_u64(&s->bytes);
    }

    header(&b, "polaroid_calls_total", "counter", "Completed calls by method and gRPC status code.");
    for (int me = 0; me < N_METHOD_SLOTS; me++)
        for (int c = 0; c < PL_METRICS_N_CODES; c++) {
            uint64_t v = calls[me * PL_METRICS_N_CODES + c];
            if (v)
                sb_printf(&b, "polaroid_calls_total{method=\"%s\",code=\"%s\"} %llu\n",
                          pl_metrics_method_name(me), code_names[c], (unsigned long long)v);
        }

    header(&b, "polaroid_call_duration_seconds", "histogram",
           "Call latency from arrival to final status, by method.");
    for (int me = 0; me < N_METHOD_SLOTS; me++) {
        uint64_t *bk = &buckets[me * (PL_METRICS_N_BUCKETS + 1)], cum = 0;
        for (int i = 0; i <= PL_METRICS_N_BUCKETS; i++) cum += bk[i];
        if (!cum) continue;
        const char *name = pl_metrics_method_name(me);
        cum = 0;
        for (int i = 0; i < PL_METRICS_N_BUCKETS; i++) {
            cum += bk[i];
            sb_printf(&b, "polaroid_call_duration_seconds_bucket{method=\"%s\",le=\"%s\"} %llu\n",
                      name, bucket_le[i], (unsigned long long)cum);
        }
        cum += bk[PL_METRICS_N_BUCKETS];
        sb_printf(&b, "polaroid_call_duration_seconds_bucket{method=\"%s\",le=\"+Inf\"} %llu\n",
                  name, (unsigned long long)cum);
        sb_printf(&b, "polaroid_call_duration_seconds_sum{method=\"%s\"} %.9f\n", name,
                  (double)sums[me] / 1e9);
        sb_printf(&b, "polaroid_call_duration_seconds_count{method=\"%s\"} %llu\n", name,
                  (unsigned long long)cum);
    }
    pl_free(calls);

    header(&b, "polaroid_rows_streamed_total", "counter", "Result rows sent to clients.");
    sb_printf(&b, "polaroid_rows_streamed_total %llu\n", (unsigned long long)rows);
    header(&b, "polaroid_bytes_streamed_total", "counter", "Response message bytes sent to clients.");
    sb_printf(&b, "polaroid_bytes_streamed_total %llu\n", (unsigned long long)bytes);

    gauge_line(&b, "polaroid_memory_bytes", "Memory in use by queries and stored data.",
               pl_metrics_gauge_get(m, PL_METRIC_MEMORY_BYTES));
    header(&b, "polaroid_memory_stored_bytes", "gauge",
           "Bytes of polaroid_memory_bytes held by stored data, by kind.");
    static const struct {
        const char *kind;
        pl_metrics_gauge g;
    } stored[] = {{"live_tables", PL_METRIC_MEMORY_TABLES},
                  {"handles", PL_METRIC_MEMORY_HANDLES},
                  {"shared_memory", PL_METRIC_MEMORY_SHARED}};
    for (size_t i = 0; i < sizeof stored / sizeof stored[0]; i++)
        sb_printf(&b, "polaroid_memory_stored_bytes{kind=\"%s\"} %lld\n", stored[i].kind,
                  (long long)pl_metrics_gauge_get(m, stored[i].g));
    gauge_line(&b, "polaroid_memory_limit_bytes", "The server's memory limit (--max-memory; 0 = none).",
               pl_metrics_gauge_get(m, PL_METRIC_MEMORY_LIMIT));
    gauge_line(&b, "polaroid_allocated_bytes", "Bytes allocated by the engine's allocator.",
               pl_alloc_live_bytes());
    gauge_line(&b, "polaroid_queue_depth", "Admitted queries waiting for a slot.",
               pl_metrics_gauge_get(m, PL_METRIC_QUEUE_DEPTH));
    gauge_line(&b, "polaroid_running_queries", "Queries running now.",
               pl_metrics_gauge_get(m, PL_METRIC_RUNNING_QUERIES));
    gauge_line(&b, "polaroid_calls_in_flight", "Calls received and not yet finished.",
               pl_metrics_gauge_get(m, PL_METRIC_CALLS_IN_FLIGHT));
    gauge_line(&b, "polaroid_open_handles", "Stored DataFrame handles.",
               pl_metrics_gauge_get(m, PL_METRIC_OPEN_HANDLES));
    gauge_line(&b, "polaroid_live_tables", "Live tables.",
               pl_metrics_gauge_get(m, PL_METRIC_LIVE_TABLES));
    gauge_line(&b, "polaroid_connected_clients",
               "Client connections (distinct peer addresses) with a call in the last minute.",
               pl_metrics_gauge_get(m, PL_METRIC_CONNECTED_CLIENTS));

    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    header(&b, "process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
    sb_printf(&b, "process_cpu_seconds_total %.6f\n",
              (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
    gauge_line(&b, "process_resident_memory_bytes", "Resident memory size in bytes.",
               proc_rss_bytes());
    gauge_line(&b, "process_open_fds", "Number of open file descriptors.", proc_open_fds());

    if (b.oom || !b.p) {
        pl_free(b.p);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory rendering metrics");
    }
    *text = b.p;
    *len = b.len;
    return PL_OK;
}

/* ---------------------------------------------------------------- HTTP endpoint */

typedef struct conn {
    int fd; /* -1 = free slot */
    bool writing;
    size_t in_len;
    char in[PL_METRICS_HTTP_MAX_REQUEST];
    char *out; /* pl_malloc'd response */
    size_t out_len, out_off;
    int64_t deadline_ns;
} conn;

struct pl_metrics_http {
    pl_metrics *m;
    int listen_fd;
    int wake[2];
    pthread_t thread;
    int port;
    char address[128];
    conn conns[PL_METRICS_HTTP_MAX_CONNS];
};

static void conn_close(conn *c) {
    if (c->fd >= 0) close(c->fd);
    pl_free(c->out);
    c->fd = -1;
    c->out = NULL;
    c->writing = false;
    c->in_len = c->out_len = c->out_off = 0;
}

/* Sets c->out to a whole response; body may be NULL. On OOM the connection is just closed. */
static void respond(conn *c, const char *status, const char *extra_headers, const char *ctype,
                    const char *body, size_t body_len, bool head_only) {
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Connection: close\r\n\r\n",
                     status, ctype, body_len, extra_headers);
    if (n < 0 || (size_t)n >= sizeof head) {
        conn_close(c);
        return;
    }
    size_t total = (size_t)n + (head_only ? 0 : body_len);
    c->out = pl_malloc(total ? total : 1);
    if (!c->out) {
        conn_close(c);
        return;
    }
    memcpy(c->out, head, (size_t)n);
    if (!head_only && body_len) memcpy(c->out + n, body, body_len);
    c->out_len = total;
    c->out_off = 0;
    c->writing = true;
}

static void respond_text(conn *c, const char *status, const char *extra, const char *body) {
    respond(c, status, extra, "text/plain; charset=utf-8", body, strlen(body), false);
}

/* The request head is complete in c->in[0..end): answer it. */
static void handle_request(pl_metrics_http *h, conn *c, size_t end) {
    /* request line: METHOD SP TARGET SP HTTP/1.x */
    char *line = c->in, *eol = memchr(line, '\n', end);
    if (!eol) {
        respond_text(c, "400 Bad Request", "", "bad request\n");
        return;
    }
    *eol = 0;
    if (eol > line && eol[-1] == '\r') eol[-1] = 0;
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp1 == line) {
        respond_text(c, "400 Bad Request", "", "bad request\n");
        return;
    }
    *sp1 = 0;
    *sp2 = 0;
    const char *method = line, *target = sp1 + 1;
    bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
    size_t tlen = strlen("/metrics");
    bool metrics = strncmp(target, "/metrics", tlen) == 0 &&
                   (target[tlen] == 0 || target[tlen] == '?');
    if (!metrics) {
        respond_text(c, "404 Not Found", "", "not found; try /metrics\n");
        return;
    }
    if (!get && !head) {
        respond_text(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "method not allowed\n");
        return;
    }
    char *text = NULL;
    size_t len = 0;
    if (pl_metrics_render(h->m, &text, &len, NULL) != PL_OK) {
        respond_text(c, "500 Internal Server Error", "", "out of memory\n");
        return;
    }
    respond(c, "200 OK", "", "text/plain; version=0.0.4; charset=utf-8", text, len, head);
    pl_free(text);
}

/* Finds the end of the request head ("\r\n\r\n" or "\n\n"); returns its length or 0. */
static size_t head_end(const char *p, size_t n) {
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '\n' && p[i + 1] == '\n') return i + 2;
        if (i + 3 < n && p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
            return i + 4;
    }
    return 0;
}

static void conn_readable(pl_metrics_http *h, conn *c) {
    for (;;) {
        size_t room = sizeof c->in - c->in_len;
        if (room == 0) {
            respond_text(c, "431 Request Header Fields Too Large", "", "request too large\n");
            return;
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, room, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) conn_close(c);
            return;
        }
        if (r == 0) { /* the client went away before finishing its request */
            conn_close(c);
            return;
        }
        size_t scan_from = c->in_len > 3 ? c->in_len - 3 : 0;
        c->in_len += (size_t)r;
        size_t end = head_end(c->in + scan_from, c->in_len - scan_from);
        if (end) {
            handle_request(h, c, scan_from + end);
            return;
        }
    }
}

static void conn_writable(conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) conn_close(c);
            return;
        }
        c->out_off += (size_t)w;
    }
    shutdown(c->fd, SHUT_WR);
    conn_close(c);
}

/* Accepts pending connections. With every slot taken, the connection that has waited longest
 * for its request is dropped to make room, so idle clients cannot lock the endpoint. */
static void accept_some(pl_metrics_http *h) {
    for (int round = 0; round < PL_METRICS_HTTP_MAX_CONNS; round++) {
        int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return; /* EAGAIN, or out of descriptors: retry on the next round */
        conn *slot = NULL, *oldest = NULL;
        for (int i = 0; i < PL_METRICS_HTTP_MAX_CONNS && !slot; i++) {
            conn *c = &h->conns[i];
            if (c->fd < 0)
                slot = c;
            else if (!c->writing && (!oldest || c->deadline_ns < oldest->deadline_ns))
                oldest = c;
        }
        if (!slot && oldest) {
            conn_close(oldest);
            slot = oldest;
        }
        if (!slot) { /* every slot is sending an answer: refuse this one */
            close(fd);
            continue;
        }
        slot->fd = fd;
        slot->deadline_ns = pl_now_ns() + PL_METRICS_HTTP_TIMEOUT_MS * 1000000LL;
    }
}

static void *http_main(void *arg) {
    pl_metrics_http *h = arg;
    struct pollfd pfd[2 + PL_METRICS_HTTP_MAX_CONNS];
    int map[2 + PL_METRICS_HTTP_MAX_CONNS];
    for (;;) {
        int64_t now = pl_now_ns(), next_deadline = INT64_MAX;
        int n = 0;
        pfd[n++] = (struct pollfd){.fd = h->wake[0], .events = POLLIN};
        for (int i = 0; i < PL_METRICS_HTTP_MAX_CONNS; i++) {
            conn *c = &h->conns[i];
            if (c->fd < 0) continue;
            if (now >= c->deadline_ns) { /* too slow */
                conn_close(c);
                continue;
            }
            if (c->deadline_ns < next_deadline) next_deadline = c->deadline_ns;
            map[n] = i;
            pfd[n++] = (struct pollfd){.fd = c->fd, .events = c->writing ? POLLOUT : POLLIN};
        }
        int listen_at = n;
        pfd[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
        int timeout = -1;
        if (next_deadline != INT64_MAX) timeout = (int)((next_deadline - now) / 1000000 + 1);
        int r = poll(pfd, (nfds_t)n, timeout);
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pfd[0].revents) break; /* stop */
        for (int k = 1; k < n; k++) {
            if (k == listen_at || !pfd[k].revents) continue;
            conn *c = &h->conns[map[k]];
            if (c->writing)
                conn_writable(c);
            else
                conn_readable(h, c);
            /* a request answered in one go: try to write at once */
            if (c->fd >= 0 && c->writing && (pfd[k].events & POLLIN)) conn_writable(c);
        }
        if (pfd[listen_at].revents) accept_some(h);
    }
    return NULL;
}

/* Splits "HOST:PORT" / "[V6]:PORT" into host (no brackets) and port text. */
static pl_status split_addr(const char *addr, char *host, size_t host_cap, char *port,
                            size_t port_cap, pl_error *err) {
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1])
        PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\" is not HOST:PORT", addr);
    const char *h0 = addr, *h1 = colon;
    if (*h0 == '[') {
        if (h1 == h0 || h1[-1] != ']')
            PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\": unclosed \"[\"", addr);
        h0++;
        h1--;
    }
    size_t hl = (size_t)(h1 - h0), pl = strlen(colon + 1);
    if (hl >= host_cap || pl >= port_cap)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\" is too long", addr);
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\": port is not a number", addr);
    if (atol(colon + 1) > 65535)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\": port over 65535", addr);
    memcpy(host, h0, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl);
    port[pl] = 0;
    return PL_OK;
}

static pl_status open_listener(const char *addr, int *out_fd, int *out_port, char *bound,
                               size_t bound_cap, pl_error *err) {
    char host[256], port[16];
    PL_TRY(split_addr(addr, host, sizeof host, port, sizeof port, err));
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gr = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (gr != 0)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "metrics address \"%s\": %s", addr, gai_strerror(gr));
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        PL_FAIL(err, PL_ERR_IO, "cannot listen for metrics on \"%s\": %s", addr, strerror(saved));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int p = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *in = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
            p = ntohs(in->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
            p = ntohs(in6->sin6_port);
        }
    }
    if (ss.ss_family == AF_INET6)
        snprintf(bound, bound_cap, "[%s]:%d", ip, p);
    else
        snprintf(bound, bound_cap, "%s:%d", ip, p);
    *out_fd = fd;
    *out_port = p;
    return PL_OK;
}

pl_status pl_metrics_http_start(pl_metrics *m, const char *addr, pl_metrics_http **out,
                                pl_error *err) {
    if (!m || !addr) PL_FAIL(err, PL_ERR_INVALID_ARG, "no metrics registry or address");
    pl_metrics_http *h = pl_calloc(1, sizeof *h);
    if (!h) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for the metrics endpoint");
    h->m = m;
    for (int i = 0; i < PL_METRICS_HTTP_MAX_CONNS; i++) h->conns[i].fd = -1;
    pl_status st = open_listener(addr, &h->listen_fd, &h->port, h->address, sizeof h->address, err);
    if (st) {
        pl_free(h);
        return st;
    }
    if (pipe2(h->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        int e = errno;
        close(h->listen_fd);
        pl_free(h);
        PL_FAIL(err, PL_ERR_IO, "cannot create the metrics wake-up pipe: %s", strerror(e));
    }
    /* the thread takes no signals: the server's signal handling stays with its own threads */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int pr = pthread_create(&h->thread, NULL, http_main, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pr != 0) {
        close(h->listen_fd);
        close(h->wake[0]);
        close(h->wake[1]);
        pl_free(h);
        PL_FAIL(err, PL_ERR_IO, "cannot start the metrics thread: %s", strerror(pr));
    }
    *out = h;
    return PL_OK;
}

int pl_metrics_http_port(const pl_metrics_http *h) { return h ? h->port : 0; }

const char *pl_metrics_http_address(const pl_metrics_http *h) { return h ? h->address : ""; }

void pl_metrics_http_stop(pl_metrics_http *h) {
    if (!h) return;
    char one = 1;
    while (write(h->wake[1], &one, 1) < 0 && errno == EINTR) {
    }
    pthread_join(h->thread, NULL);
    for (int i = 0; i < PL_METRICS_HTTP_MAX_CONNS; i++) conn_close(&h->conns[i]);
    close(h->listen_fd);
    close(h->wake[0]);
    close(h->wake[1]);
    pl_free(h);
}
