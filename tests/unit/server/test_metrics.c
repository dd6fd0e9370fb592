/* test_metrics.c - src/server/metrics.c: exact totals under concurrent updates, the exposition
 * text checked line by line against the Prometheus text format (HELP/TYPE before samples,
 * cumulative buckets ending in +Inf == _count, _sum), gauges and callbacks, connected clients,
 * and the HTTP endpoint over real sockets with well-behaved, garbage, silent and oversized
 * clients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/core.h"
#include "server/metrics.h"

/* ---------------------------------------------------------------- a small exposition parser */

#define MAX_SAMPLES 4096

typedef struct sample {
    char name[128];
    char labels[256]; /* raw text between the braces */
    double value;
} sample;

typedef struct parsed {
    sample s[MAX_SAMPLES];
    int n;
    char types[64][128]; /* "name type" */
    int n_types;
} parsed;

static const char *type_of(const parsed *p, const char *family) {
    for (int i = 0; i < p->n_types; i++) {
        size_t l = strlen(family);
        if (strncmp(p->types[i], family, l) == 0 && p->types[i][l] == ' ')
            return p->types[i] + l + 1;
    }
    return NULL;
}

static bool valid_name(const char *s, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

/* Parses the whole text strictly; fails the test on any malformed line. */
static void parse_text(const char *text, parsed *p) {
    memset(p, 0, sizeof *p);
    const char *line = text;
    char help_for[128] = "";
    assert_true(strlen(text) > 0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    while (*line) {
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        size_t len = (size_t)(eol - line);
        char buf[1024];
        assert_true(len < sizeof buf);
        memcpy(buf, line, len);
        buf[len] = 0;
        if (strncmp(buf, "# HELP ", 7) == 0) {
            char *sp = strchr(buf + 7, ' ');
            assert_non_null(sp);
            assert_true(valid_name(buf + 7, (size_t)(sp - buf - 7)));
            snprintf(help_for, sizeof help_for, "%.*s", (int)(sp - buf - 7), buf + 7);
        } else if (strncmp(buf, "# TYPE ", 7) == 0) {
            char *sp = strchr(buf + 7, ' ');
            assert_non_null(sp);
            assert_true(valid_name(buf + 7, (size_t)(sp - buf - 7)));
            const char *t = sp + 1;
            assert_true(strcmp(t, "counter") == 0 || strcmp(t, "gauge") == 0 ||
                        strcmp(t, "histogram") == 0);
            /* HELP comes right before TYPE for the same family */
            assert_int_equal(strncmp(help_for, buf + 7, (size_t)(sp - buf - 7)), 0);
            assert_true(p->n_types < 64);
            /* each family declared once */
            *sp = 0;
            assert_null(type_of(p, buf + 7));
            *sp = ' ';
            snprintf(p->types[p->n_types++], 128, "%.120s", buf + 7);
        } else {
            assert_true(buf[0] != '#');
            assert_true(p->n < MAX_SAMPLES);
            sample *s = &p->s[p->n++];
            size_t nl = strcspn(buf, "{ ");
            assert_true(valid_name(buf, nl));
            snprintf(s->name, sizeof s->name, "%.*s", (int)nl, buf);
            const char *rest = buf + nl;
            if (*rest == '{') {
                const char *close = strchr(rest, '}');
                assert_non_null(close);
                snprintf(s->labels, sizeof s->labels, "%.*s", (int)(close - rest - 1), rest + 1);
                /* labels: name="value" pairs separated by commas */
                const char *q = s->labels;
                while (*q) {
                    size_t kl = strcspn(q, "=");
                    assert_true(valid_name(q, kl));
                    assert_int_equal(q[kl], '=');
                    assert_int_equal(q[kl + 1], '"');
                    q += kl + 2;
                    while (*q && *q != '"') q += (*q == '\\') ? 2 : 1;
                    assert_int_equal(*q, '"');
                    q++;
                    if (*q == ',') q++;
                }
                rest = close + 1;
            }
            assert_int_equal(*rest, ' ');
            char *end = NULL;
            s->value = strtod(rest + 1, &end);
            assert_true(end != rest + 1);
            assert_int_equal(*end, 0);
            /* the family (name without a histogram suffix) was declared before */
            char fam[128];
            snprintf(fam, sizeof fam, "%s", s->name);
            const char *t = type_of(p, fam);
            if (!t) {
                static const char *suf[] = {"_bucket", "_sum", "_count"};
                for (int i = 0; i < 3 && !t; i++) {
                    size_t fl = strlen(fam), sl = strlen(suf[i]);
                    if (fl > sl && strcmp(fam + fl - sl, suf[i]) == 0) {
                        char base[128];
                        snprintf(base, sizeof base, "%.*s", (int)(fl - sl), fam);
                        t = type_of(p, base);
                        if (t) assert_string_equal(t, "histogram");
                    }
                }
            }
            assert_non_null(t);
            if (strcmp(t, "counter") == 0) assert_true(s->value >= 0);
        }
        line = eol + 1;
    }
}

static const sample *find(const parsed *p, const char *name, const char *labels) {
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->s[i].name, name) == 0 && strcmp(p->s[i].labels, labels ? labels : "") == 0)
            return &p->s[i];
    return NULL;
}

static double value_of(const parsed *p, const char *name, const char *labels) {
    const sample *s = find(p, name, labels);
    if (!s) fail_msg("no sample %s{%s}", name, labels ? labels : "");
    return s->value;
}

/* Checks every histogram of the family: le ascending, counts cumulative, +Inf last and equal
 * to _count. Returns the number of series seen. */
static int check_histograms(const parsed *p, const char *family) {
    char bname[160], cname[160];
    snprintf(bname, sizeof bname, "%s_bucket", family);
    snprintf(cname, sizeof cname, "%s_count", family);
    int series = 0;
    for (int i = 0; i < p->n; i++) {
        if (strcmp(p->s[i].name, cname) != 0) continue;
        series++;
        const char *series_labels = p->s[i].labels;
        double prev_le = -1, prev_count = 0;
        bool inf_seen = false;
        int n_buckets = 0;
        for (int k = 0; k < p->n; k++) {
            if (strcmp(p->s[k].name, bname) != 0) continue;
            const char *lab = p->s[k].labels;
            if (strncmp(lab, series_labels, strlen(series_labels)) != 0) continue;
            const char *le = strstr(lab, "le=\"");
            assert_non_null(le);
            le += 4;
            double lv = strncmp(le, "+Inf\"", 5) == 0 ? INFINITY : strtod(le, NULL);
            assert_false(inf_seen);
            assert_true(lv > prev_le);
            assert_true(p->s[k].value >= prev_count);
            prev_le = lv;
            prev_count = p->s[k].value;
            if (isinf(lv)) inf_seen = true;
            n_buckets++;
        }
        assert_true(inf_seen);
        assert_int_equal(n_buckets, PL_METRICS_N_BUCKETS + 1);
        assert_true(prev_count == p->s[i].value);
    }
    return series;
}

static parsed *render_parse(pl_metrics *m) {
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pl_metrics_render(m, &text, &len, NULL), PL_OK);
    assert_int_equal(strlen(text), len);
    parsed *p = malloc(sizeof *p);
    parse_text(text, p);
    pl_free(text);
    return p;
}

/* ---------------------------------------------------------------- counters and histograms */

static void test_empty_registry_renders(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("0.1.0-\"x\"\\", &m, NULL), PL_OK);
    parsed *p = render_parse(m);
    /* the version label is escaped */
    assert_true(value_of(p, "polaroid_build_info", "version=\"0.1.0-\\\"x\\\"\\\\\"") == 1);
    assert_true(value_of(p, "polaroid_uptime_seconds", NULL) >= 0);
    assert_true(value_of(p, "polaroid_rows_streamed_total", NULL) == 0);
    assert_true(value_of(p, "polaroid_memory_bytes", NULL) >= 0);
    assert_true(value_of(p, "process_open_fds", NULL) > 0);
    assert_true(value_of(p, "process_resident_memory_bytes", NULL) > 0);
    assert_string_equal(type_of(p, "polaroid_calls_total"), "counter");
    assert_string_equal(type_of(p, "polaroid_call_duration_seconds"), "histogram");
    assert_string_equal(type_of(p, "polaroid_queue_depth"), "gauge");
    assert_int_equal(check_histograms(p, "polaroid_call_duration_seconds"), 0);
    free(p);
    pl_metrics_free(m);
    pl_metrics_free(NULL);
}

static void test_bucket_boundaries(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("t", &m, NULL), PL_OK);
    /* le is inclusive: exactly 50us lands in the first bucket, 50us+1ns in the second */
    pl_metrics_observe_call(m, 0, 0, 50000, 0, 0);
    pl_metrics_observe_call(m, 0, 0, 50001, 0, 0);
    pl_metrics_observe_call(m, 0, 0, 60000000000LL, 0, 0);
    pl_metrics_observe_call(m, 0, 0, 60000000001LL, 0, 0); /* only +Inf */
    pl_metrics_observe_call(m, 0, 0, -5, 0, 0);            /* clamped to 0 */
    parsed *p = render_parse(m);
    const char *b = "polaroid_call_duration_seconds_bucket";
    assert_true(value_of(p, b, "method=\"Execute\",le=\"0.00005\"") == 2);
    assert_true(value_of(p, b, "method=\"Execute\",le=\"0.0001\"") == 3);
    assert_true(value_of(p, b, "method=\"Execute\",le=\"30\"") == 3);
    assert_true(value_of(p, b, "method=\"Execute\",le=\"60\"") == 4);
    assert_true(value_of(p, b, "method=\"Execute\",le=\"+Inf\"") == 5);
    assert_true(value_of(p, "polaroid_call_duration_seconds_count", "method=\"Execute\"") == 5);
    double sum = value_of(p, "polaroid_call_duration_seconds_sum", "method=\"Execute\"");
    assert_true(fabs(sum - (50000 + 50001 + 60000000000.0 + 60000000001.0) / 1e9) < 1e-6);
    assert_int_equal(check_histograms(p, "polaroid_call_duration_seconds"), 1);
    /* unknown method and code are counted, not dropped */
    free(p);
    pl_metrics_observe_call(m, 99, 42, 1000, 0, 0);
    pl_metrics_observe_call(m, -1, 3, 1000, 0, 0);
    p = render_parse(m);
    assert_true(value_of(p, "polaroid_calls_total", "method=\"unknown\",code=\"UNKNOWN\"") == 1);
    assert_true(value_of(p, "polaroid_calls_total",
                         "method=\"unknown\",code=\"INVALID_ARGUMENT\"") == 1);
    assert_int_equal(check_histograms(p, "polaroid_call_duration_seconds"), 2);
    free(p);
    pl_metrics_free(m);
}

#define N_THREADS 8
#define N_PER_THREAD 100000

typedef struct worker_arg {
    pl_metrics *m;
    int id;
} worker_arg;

/* deterministic per (thread, i): method, code, latency, rows, bytes */
static void call_of(int t, int i, int *method, int *code, int64_t *lat, int64_t *rows) {
    *method = (t + i) % PL_METRICS_MAX_METHODS;
    *code = (i % 7 == 0) ? 3 : (i % 11 == 0 ? 8 : 0);
    *lat = (int64_t)((i * 7919LL + t * 104729LL) % 2000000000LL); /* 0 .. 2 s */
    *rows = i % 5;
}

static void *worker(void *arg) {
    worker_arg *w = arg;
    for (int i = 0; i < N_PER_THREAD; i++) {
        int method, code;
        int64_t lat, rows;
        call_of(w->id, i, &method, &code, &lat, &rows);
        pl_metrics_observe_call(w->m, method, code, lat, rows, rows * 10);
        if (i % 100 == 0) {
            pl_metrics_gauge_add(w->m, PL_METRIC_CALLS_IN_FLIGHT, 1);
            pl_metrics_add_streamed(w->m, 1, 2);
            pl_metrics_gauge_add(w->m, PL_METRIC_CALLS_IN_FLIGHT, -1);
        }
    }
    return NULL;
}

typedef struct scraper_arg {
    pl_metrics *m;
    _Atomic int stop;
    int scrapes;
} scraper_arg;

/* renders while the workers update: every scrape must parse and be self-consistent */
static void *scraper(void *arg) {
    scraper_arg *s = arg;
    while (!atomic_load(&s->stop)) {
        parsed *p = render_parse(s->m);
        check_histograms(p, "polaroid_call_duration_seconds");
        free(p);
        s->scrapes++;
    }
    return NULL;
}

static void test_concurrent_exact_totals(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("t", &m, NULL), PL_OK);
    pthread_t th[N_THREADS], sc;
    worker_arg wa[N_THREADS];
    scraper_arg sa = {.m = m};
    assert_int_equal(pthread_create(&sc, NULL, scraper, &sa), 0);
    for (int t = 0; t < N_THREADS; t++) {
        wa[t] = (worker_arg){m, t};
        assert_int_equal(pthread_create(&th[t], NULL, worker, &wa[t]), 0);
    }
    for (int t = 0; t < N_THREADS; t++) pthread_join(th[t], NULL);
    atomic_store(&sa.stop, 1);
    pthread_join(sc, NULL);
    assert_true(sa.scrapes >= 1);

    /* the expected totals, computed independently */
    static uint64_t calls[PL_METRICS_MAX_METHODS][PL_METRICS_N_CODES];
    static uint64_t le_1ms[PL_METRICS_MAX_METHODS], count[PL_METRICS_MAX_METHODS];
    static double sum_s[PL_METRICS_MAX_METHODS];
    memset(calls, 0, sizeof calls);
    memset(le_1ms, 0, sizeof le_1ms);
    memset(count, 0, sizeof count);
    memset(sum_s, 0, sizeof sum_s);
    uint64_t rows = 0, bytes = 0;
    for (int t = 0; t < N_THREADS; t++)
        for (int i = 0; i < N_PER_THREAD; i++) {
            int method, code;
            int64_t lat, r;
            call_of(t, i, &method, &code, &lat, &r);
            calls[method][code]++;
            count[method]++;
            if (lat <= 1000000) le_1ms[method]++;
            sum_s[method] += (double)lat;
            rows += (uint64_t)r;
            bytes += (uint64_t)r * 10;
            if (i % 100 == 0) {
                rows += 1;
                bytes += 2;
            }
        }
    parsed *p = render_parse(m);
    for (int me = 0; me < PL_METRICS_MAX_METHODS; me++) {
        char lab[128];
        for (int c = 0; c < PL_METRICS_N_CODES; c++) {
            snprintf(lab, sizeof lab, "method=\"%s\",code=\"%s\"", pl_metrics_method_name(me),
                     pl_metrics_code_name(c));
            const sample *s = find(p, "polaroid_calls_total", lab);
            if (calls[me][c] == 0)
                assert_null(s);
            else
                assert_true(s && s->value == (double)calls[me][c]);
        }
        snprintf(lab, sizeof lab, "method=\"%s\"", pl_metrics_method_name(me));
        assert_true(value_of(p, "polaroid_call_duration_seconds_count", lab) == count[me]);
        double sum = value_of(p, "polaroid_call_duration_seconds_sum", lab);
        assert_true(fabs(sum - sum_s[me] / 1e9) < 1e-5);
        snprintf(lab, sizeof lab, "method=\"%s\",le=\"0.001\"", pl_metrics_method_name(me));
        assert_true(value_of(p, "polaroid_call_duration_seconds_bucket", lab) == le_1ms[me]);
    }
    assert_int_equal(check_histograms(p, "polaroid_call_duration_seconds"),
                     PL_METRICS_MAX_METHODS);
    assert_true(value_of(p, "polaroid_rows_streamed_total", NULL) == (double)rows);
    assert_true(value_of(p, "polaroid_bytes_streamed_total", NULL) == (double)bytes);
    assert_true(value_of(p, "polaroid_calls_in_flight", NULL) == 0);
    free(p);
    pl_metrics_free(m);
}

/* ---------------------------------------------------------------- gauges */

static int64_t read_42(void *arg) { return *(int64_t *)arg; }

static void test_gauges_and_callbacks(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("t", &m, NULL), PL_OK);
    pl_metrics_gauge_set(m, PL_METRIC_QUEUE_DEPTH, 7);
    pl_metrics_gauge_add(m, PL_METRIC_QUEUE_DEPTH, -2);
    pl_metrics_gauge_add(m, PL_METRIC_RUNNING_QUERIES, 3);
    int64_t handles = 42;
    pl_metrics_gauge_callback(m, PL_METRIC_OPEN_HANDLES, read_42, &handles);
    pl_metrics_gauge_set(m, PL_METRIC_OPEN_HANDLES, 1); /* ignored: the callback wins */
    pl_metrics_gauge_set(m, PL_METRIC_LIVE_TABLES, 4);
    int64_t mem = 123456789;
    pl_metrics_gauge_callback(m, PL_METRIC_MEMORY_BYTES, read_42, &mem);
    pl_metrics_gauge_set(m, (pl_metrics_gauge)99, 1); /* out of range: ignored */
    parsed *p = render_parse(m);
    assert_true(value_of(p, "polaroid_queue_depth", NULL) == 5);
    assert_true(value_of(p, "polaroid_running_queries", NULL) == 3);
    assert_true(value_of(p, "polaroid_open_handles", NULL) == 42);
    assert_true(value_of(p, "polaroid_live_tables", NULL) == 4);
    assert_true(value_of(p, "polaroid_memory_bytes", NULL) == 123456789);
    free(p);
    handles = 43;
    assert_int_equal(pl_metrics_gauge_get(m, PL_METRIC_OPEN_HANDLES), 43);
    pl_metrics_gauge_callback(m, PL_METRIC_OPEN_HANDLES, NULL, NULL);
    assert_int_equal(pl_metrics_gauge_get(m, PL_METRIC_OPEN_HANDLES), 1);
    /* NULL registry: every update is a no-op */
    pl_metrics_observe_call(NULL, 0, 0, 1, 1, 1);
    pl_metrics_gauge_add(NULL, PL_METRIC_QUEUE_DEPTH, 1);
    pl_metrics_free(m);
}

static void test_connected_clients_window(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("t", &m, NULL), PL_OK);
    int64_t now = pl_now_ns();
    char peer[64];
    for (int i = 0; i < 50; i++) {
        snprintf(peer, sizeof peer, "ipv4:127.0.0.1:%d", 40000 + i);
        pl_metrics_peer_seen(m, peer, now);
        pl_metrics_peer_seen(m, peer, now + 1); /* the same peer twice counts once */
    }
    pl_metrics_peer_seen(m, NULL, now);
    assert_int_equal(pl_metrics_gauge_get(m, PL_METRIC_CONNECTED_CLIENTS), 50);
    /* peers older than the window drop out */
    int64_t old = now - (int64_t)(PL_METRICS_PEER_WINDOW_S + 5) * 1000000000LL;
    for (int i = 0; i < 30; i++) {
        snprintf(peer, sizeof peer, "ipv6:[::1]:%d", 50000 + i);
        pl_metrics_peer_seen(m, peer, old);
    }
    assert_int_equal(pl_metrics_gauge_get(m, PL_METRIC_CONNECTED_CLIENTS), 50);
    /* more peers than the table holds: still a sane count */
    for (int i = 0; i < PL_METRICS_MAX_PEERS + 100; i++) {
        snprintf(peer, sizeof peer, "ipv4:10.0.%d.%d:1", i / 250, i % 250);
        pl_metrics_peer_seen(m, peer, now);
    }
    int64_t n = pl_metrics_gauge_get(m, PL_METRIC_CONNECTED_CLIENTS);
    assert_true(n > PL_METRICS_MAX_PEERS / 2 && n <= PL_METRICS_MAX_PEERS);
    /* the transport can set the gauge itself */
    pl_metrics_gauge_set(m, PL_METRIC_CONNECTED_CLIENTS, 3);
    assert_int_equal(pl_metrics_gauge_get(m, PL_METRIC_CONNECTED_CLIENTS), 3);
    pl_metrics_free(m);
}

/* ---------------------------------------------------------------- HTTP endpoint */

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* Reads until EOF (or timeout); returns a malloc'd NUL-terminated string. */
static char *read_all(int fd) {
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    for (;;) {
        if (len + 1 == cap) b = realloc(b, cap *= 2);
        ssize_t r = recv(fd, b + len, cap - len - 1, 0);
        if (r <= 0) break;
        len += (size_t)r;
    }
    b[len] = 0;
    return b;
}

static char *request(int port, const char *req, size_t n) {
    int fd = connect_to(port);
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(fd, req + off, n - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += (size_t)w;
    }
    char *resp = read_all(fd);
    close(fd);
    return resp;
}

static void test_http_endpoint(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("9.9.9", &m, NULL), PL_OK);
    pl_metrics_observe_call(m, 0, 0, 1000000, 10, 100);
    pl_metrics_http *h = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_metrics_http_start(m, "127.0.0.1:0", &h, &err), PL_OK);
    int port = pl_metrics_http_port(h);
    assert_true(port > 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    assert_string_equal(pl_metrics_http_address(h), want);

    const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n";
    char *r = request(port, get, strlen(get));
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strstr(r, "Content-Type: text/plain; version=0.0.4"));
    char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    body += 4;
    const char *cl = strstr(r, "Content-Length: ");
    assert_non_null(cl);
    assert_int_equal(strtol(cl + 16, NULL, 10), (long)strlen(body));
    parsed *p = malloc(sizeof *p);
    parse_text(body, p);
    assert_true(value_of(p, "polaroid_build_info", "version=\"9.9.9\"") == 1);
    assert_true(value_of(p, "polaroid_rows_streamed_total", NULL) == 10);
    free(p);
    free(r);

    /* a query string is fine; HEAD gets the headers only */
    r = request(port, "GET /metrics?x=1 HTTP/1.0\n\n", 27);
    assert_non_null(strstr(r, "200 OK"));
    free(r);
    r = request(port, "HEAD /metrics HTTP/1.1\r\n\r\n", 26);
    assert_non_null(strstr(r, "200 OK"));
    assert_null(strstr(r, "polaroid_build_info"));
    free(r);

    r = request(port, "GET / HTTP/1.1\r\n\r\n", 18);
    assert_non_null(strstr(r, "HTTP/1.1 404 Not Found"));
    free(r);
    r = request(port, "GET /metricsx HTTP/1.1\r\n\r\n", 26);
    assert_non_null(strstr(r, "404"));
    free(r);
    r = request(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 45);
    assert_non_null(strstr(r, "405 Method Not Allowed"));
    free(r);

    /* garbage */
    static const char junk[] = "\x01\x02\xff garbage\r\n\r\n";
    r = request(port, junk, sizeof junk - 1);
    assert_non_null(strstr(r, "400 Bad Request"));
    free(r);
    r = request(port, "\r\n\r\n", 4);
    assert_non_null(strstr(r, "400"));
    free(r);

    /* a head over the cap */
    size_t big = PL_METRICS_HTTP_MAX_REQUEST + 1000;
    char *huge = malloc(big);
    memset(huge, 'A', big);
    memcpy(huge, "GET /metrics HTTP/1.1\r\nX: ", 26);
    r = request(port, huge, big);
    assert_non_null(strstr(r, "431"));
    free(r);
    free(huge);

    /* a client that connects and leaves at once, and one that sends half a request and leaves */
    close(connect_to(port));
    int fd = connect_to(port);
    assert_int_equal(send(fd, "GET /met", 8, 0), 8);
    close(fd);

    /* many silent clients do not lock the endpoint out: a real request still gets through */
    int idle[PL_METRICS_HTTP_MAX_CONNS + 4];
    for (size_t i = 0; i < PL_ARRAY_LEN(idle); i++) idle[i] = connect_to(port);
    usleep(100000);
    int64_t t0 = pl_now_ns();
    r = request(port, get, strlen(get));
    assert_non_null(strstr(r, "200 OK"));
    assert_true(pl_now_ns() - t0 < 4000000000LL); /* not the 5 s of waiting for a slot */
    free(r);
    for (size_t i = 0; i < PL_ARRAY_LEN(idle); i++) close(idle[i]);

    /* a silent client is dropped after the timeout */
    fd = connect_to(port);
    t0 = pl_now_ns();
    char c;
    ssize_t got = recv(fd, &c, 1, 0); /* EOF when the server closes */
    int64_t waited = pl_now_ns() - t0;
    assert_int_equal(got, 0);
    assert_true(waited >= (PL_METRICS_HTTP_TIMEOUT_MS - 200) * 1000000LL);
    assert_true(waited < (PL_METRICS_HTTP_TIMEOUT_MS + 8000) * 1000000LL); /* loaded machines */
    close(fd);

    /* stop with a client still connected: prompt, no leak */
    fd = connect_to(port);
    t0 = pl_now_ns();
    pl_metrics_http_stop(h);
    assert_true(pl_now_ns() - t0 < 3000000000LL);
    got = recv(fd, &c, 1, 0);
    assert_true(got <= 0);
    close(fd);
    pl_metrics_http_stop(NULL);
    pl_metrics_free(m);
}

static void test_http_bad_addresses(void **state) {
    (void)state;
    pl_metrics *m = NULL;
    assert_int_equal(pl_metrics_new("t", &m, NULL), PL_OK);
    pl_metrics_http *h = NULL;
    pl_error err;
    static const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000",
                                "[::1:80", "no.such.host.invalid:80"};
    for (size_t i = 0; i < PL_ARRAY_LEN(bad); i++) {
        pl_error_init(&err);
        assert_int_equal(pl_metrics_http_start(m, bad[i], &h, &err), PL_ERR_INVALID_ARG);
        assert_non_null(strstr(err.msg, "metrics address"));
        assert_null(h);
    }
    /* a port in use */
    pl_metrics_http *h1 = NULL;
    assert_int_equal(pl_metrics_http_start(m, "127.0.0.1:0", &h1, NULL), PL_OK);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", pl_metrics_http_port(h1));
    pl_error_init(&err);
    assert_int_equal(pl_metrics_http_start(m, addr, &h, &err), PL_ERR_IO);
    assert_non_null(strstr(err.msg, "in use"));
    pl_metrics_http_stop(h1);
    /* IPv6 loopback, when the machine has it */
    if (pl_metrics_http_start(m, "[::1]:0", &h, NULL) == PL_OK) {
        assert_non_null(strstr(pl_metrics_http_address(h), "[::1]:"));
        pl_metrics_http_stop(h);
    }
    pl_metrics_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_registry_renders),
        cmocka_unit_test(test_bucket_boundaries),
        cmocka_unit_test(test_concurrent_exact_totals),
        cmocka_unit_test(test_gauges_and_callbacks),
        cmocka_unit_test(test_connected_clients_window),
        cmocka_unit_test(test_http_endpoint),
        cmocka_unit_test(test_http_bad_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
