/* loadgen.c - a small closed-loop gRPC load generator on the gRPC C core (bench/README.md,
 * "Server group"). Protocol-agnostic: it sends pre-serialised request messages (a file of
 * [u32 little-endian length][bytes] records, used round-robin) to one method, unary or
 * server-streaming, and drains every response message. So it drives polaroid.v1 Execute,
 * the grpc.aio peer (same protocol) and Arrow Flight's DoGet (a Ticket per record) alike.
 *
 *   loadgen --target 127.0.0.1:PORT --method /polaroid.v1.Polaroid/Execute --requests FILE
 *           [--callers 50] [--connections 50] [--threads 1] [--duration 5] [--warmup 1]
 *           [--server-pid PID]
 *
 * `callers` calls are in flight at all times (each caller starts its next call when the last
 * one ends), spread over `connections` channels (each with its own TCP connection) and
 * `threads` threads, each polling its own completion queue. Calls completing in the warm-up
 * are not counted; those completing in the next `duration` seconds are. At the end one line:
 *   LOADGEN {"calls":...,"errors":...,"qps":...,"p50_us":...,"p99_us":...,"client_cpu_s":...,
 *            "server_cpu_s":...,"window_s":...,...}
 * CPU figures cover the measured window: this process's getrusage, the server's
 * /proc/PID/stat utime+stime (all threads).
 *
 * Build: cc -O2 -o build/bench/loadgen bench/server/loadgen.c -lgrpc -lgpr -lpthread */
#define _GNU_SOURCE
#include <grpc/byte_buffer.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ latency histogram (us) */
/* 1 us resolution below 256 us, then 128 sub-buckets per power of two (< 0.8 % error). */
#define H_LINEAR 256
#define H_SUB 128
#define H_OCTAVES 34
#define H_N (H_LINEAR + H_OCTAVES * H_SUB)

typedef struct hist {
    uint64_t b[H_N];
    uint64_t n, max;
    double sum;
} hist;

static int h_index(uint64_t v) {
    if (v < H_LINEAR) return (int)v;
    int e = 63 - __builtin_clzll(v); /* >= 8 */
    int idx = H_LINEAR + (e - 8) * H_SUB + (int)((v >> (e - 7)) & (H_SUB - 1));
    return idx < H_N ? idx : H_N - 1;
}

static uint64_t h_value(int idx) { /* the middle of the bucket */
    if (idx < H_LINEAR) return (uint64_t)idx;
    int e = (idx - H_LINEAR) / H_SUB + 8, sub = (idx - H_LINEAR) % H_SUB;
    uint64_t lo = ((uint64_t)(H_SUB + sub)) << (e - 7), w = 1ull << (e - 7);
    return lo + w / 2;
}

static void h_add(hist *h, uint64_t v) {
    h->b[h_index(v)]++;
    h->n++;
    h->sum += (double)v;
    if (v > h->max) h->max = v;
}

static uint64_t h_pct(const hist *h, double p) {
    if (!h->n) return 0;
    uint64_t want = (uint64_t)(p * (double)h->n + 0.5), acc = 0;
    if (want < 1) want = 1;
    for (int i = 0; i < H_N; i++) {
        acc += h->b[i];
        if (acc >= want) return h_value(i);
    }
    return h->max;
}

/* ------------------------------------------------------------------ state */

typedef struct request {
    const uint8_t *data;
    size_t len;
} request;

typedef struct worker worker;

typedef struct caller {
    worker *w;
    int id;
    grpc_channel *ch;
    void *method; /* registered call handle of ch */
    grpc_call *call;
    grpc_byte_buffer *send, *recv;
    grpc_metadata_array md_initial, md_trailing;
    grpc_status_code status;
    grpc_slice details;
    int pending; /* outstanding batches of the current call */
    int64_t t_start;
    uint64_t msgs, bytes;
    _Alignas(8) char tags[2]; /* completion tags: &tags[0] the main batch, &tags[1] a receive */
} caller;

#define MAX_CODES 17

struct worker {
    pthread_t th;
    grpc_completion_queue *cq;
    caller *callers;
    int ncallers, active;
    hist h;
    uint64_t calls, errors, msgs, bytes, codes[MAX_CODES];
    char first_error[256];
};

static request *g_reqs;
static size_t g_nreqs;
static atomic_size_t g_next_req;
static int64_t g_t_warm, g_t_end; /* ns: measuring window [g_t_warm, g_t_end) */
static atomic_int g_stop;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s\n", what);
    exit(2);
}

static void start_call(caller *c) {
    size_t r = atomic_fetch_add_explicit(&g_next_req, 1, memory_order_relaxed) % g_nreqs;
    grpc_slice s = grpc_slice_from_static_buffer(g_reqs[r].data, g_reqs[r].len);
    c->send = grpc_raw_byte_buffer_create(&s, 1);
    c->call = grpc_channel_create_registered_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, c->w->cq,
                                                  c->method, gpr_inf_future(GPR_CLOCK_REALTIME),
                                                  NULL);
    grpc_metadata_array_init(&c->md_initial);
    grpc_metadata_array_init(&c->md_trailing);
    c->msgs = c->bytes = 0;
    c->t_start = now_ns();
    grpc_op ops[5];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->md_initial;
    ops[4].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[4].data.recv_status_on_client.trailing_metadata = &c->md_trailing;
    ops[4].data.recv_status_on_client.status = &c->status;
    ops[4].data.recv_status_on_client.status_details = &c->details;
    if (grpc_call_start_batch(c->call, ops, 5, &c->tags[0], NULL) != GRPC_CALL_OK)
        die("start_batch (main) failed");
    grpc_op rop;
    memset(&rop, 0, sizeof rop);
    rop.op = GRPC_OP_RECV_MESSAGE;
    rop.data.recv_message.recv_message = &c->recv;
    if (grpc_call_start_batch(c->call, &rop, 1, &c->tags[1], NULL) != GRPC_CALL_OK)
        die("start_batch (recv) failed");
    c->pending = 2;
}

static void finish_call(caller *c) {
    worker *w = c->w;
    int64_t t = now_ns();
    if (t >= g_t_warm && t < g_t_end) {
        h_add(&w->h, (uint64_t)((t - c->t_start) / 1000));
        w->calls++;
        w->msgs += c->msgs;
        w->bytes += c->bytes;
        if (c->status != GRPC_STATUS_OK) {
            w->errors++;
            if (!w->first_error[0]) {
                char *d = grpc_slice_to_c_string(c->details);
                snprintf(w->first_error, sizeof w->first_error, "code %d: %s", (int)c->status, d);
                gpr_free(d);
            }
        }
        if ((unsigned)c->status < MAX_CODES) w->codes[c->status]++;
    }
    grpc_slice_unref(c->details);
    grpc_metadata_array_destroy(&c->md_initial);
    grpc_metadata_array_destroy(&c->md_trailing);
    grpc_byte_buffer_destroy(c->send);
    grpc_call_unref(c->call);
    c->call = NULL;
    if (atomic_load_explicit(&g_stop, memory_order_relaxed) || t >= g_t_end) {
        w->active--;
        return;
    }
    start_call(c);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    for (int i = 0; i < w->ncallers; i++) start_call(&w->callers[i]);
    w->active = w->ncallers;
    while (w->active > 0) {
        grpc_event ev = grpc_completion_queue_next(
            w->cq, gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(200, GPR_TIMESPAN)),
            NULL);
        if (ev.type == GRPC_QUEUE_TIMEOUT) {
            if (now_ns() > g_t_end + 30ll * 1000000000) { /* calls stuck long after the end */
                for (int i = 0; i < w->ncallers; i++)
                    if (w->callers[i].call) grpc_call_cancel(w->callers[i].call, NULL);
            }
            continue;
        }
        if (ev.type != GRPC_OP_COMPLETE) die("unexpected completion queue event");
        char *tag = ev.tag;
        int is_recv = (int)((uintptr_t)tag & 1); /* tags[0] is at an even address */
        caller *c = (caller *)(tag - is_recv - offsetof(caller, tags));
        if (is_recv) {
            if (ev.success && c->recv) {
                c->msgs++;
                c->bytes += grpc_byte_buffer_length(c->recv);
                grpc_byte_buffer_destroy(c->recv);
                c->recv = NULL;
                grpc_op rop;
                memset(&rop, 0, sizeof rop);
                rop.op = GRPC_OP_RECV_MESSAGE;
                rop.data.recv_message.recv_message = &c->recv;
                if (grpc_call_start_batch(c->call, &rop, 1, &c->tags[1], NULL) != GRPC_CALL_OK)
                    die("start_batch (recv) failed");
                continue;
            }
        }
        if (--c->pending == 0) finish_call(c);
    }
    return NULL;
}

/* ------------------------------------------------------------------ CPU */

static double self_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double proc_cpu_s(long pid) { /* utime + stime of all threads, or -1 */
    if (pid <= 0) return -1;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14)
     * stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------ main */

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    size_t k;
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    *len = n;
    return b;
}

static void usage(void) {
    fprintf(stderr,
            "usage: loadgen --target HOST:PORT --method /pkg.Service/Method --requests FILE\n"
            "               [--callers N] [--connections N] [--threads N] [--duration S]\n"
            "               [--warmup S] [--server-pid PID]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *target = NULL, *method = NULL, *reqfile = NULL;
    int callers = 1, conns = 1, nthreads = 1;
    double duration = 5, warmup = 1;
    long server_pid = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "--target")) target = v;
        else if (!strcmp(a, "--method")) method = v;
        else if (!strcmp(a, "--requests")) reqfile = v;
        else if (!strcmp(a, "--callers")) callers = atoi(v);
        else if (!strcmp(a, "--connections")) conns = atoi(v);
        else if (!strcmp(a, "--threads")) nthreads = atoi(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--server-pid")) server_pid = atol(v);
        else usage();
        i++;
    }
    if (!target || !method || !reqfile || callers < 1 || conns < 1 || nthreads < 1) usage();
    if (conns > callers) conns = callers;
    if (nthreads > callers) nthreads = callers;

    size_t flen;
    uint8_t *fbuf = read_file(reqfile, &flen);
    size_t cap = 16;
    g_reqs = malloc(cap * sizeof *g_reqs);
    for (size_t off = 0; off + 4 <= flen;) {
        uint32_t len = (uint32_t)fbuf[off] | (uint32_t)fbuf[off + 1] << 8 |
                       (uint32_t)fbuf[off + 2] << 16 | (uint32_t)fbuf[off + 3] << 24;
        off += 4;
        if (len > flen - off) die("truncated request file");
        if (g_nreqs == cap) g_reqs = realloc(g_reqs, (cap *= 2) * sizeof *g_reqs);
        g_reqs[g_nreqs++] = (request){fbuf + off, len};
        off += len;
    }
    if (!g_nreqs) die("no requests in the request file");

    grpc_init();
    grpc_arg args[3];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL; /* one connection per channel */
    args[0].value.integer = 1;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[1].value.integer = -1;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = GRPC_ARG_ENABLE_RETRIES;
    args[2].value.integer = 0;
    grpc_channel_args cargs = {3, args};
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel **chans = calloc((size_t)conns, sizeof *chans);
    void **handles = calloc((size_t)conns, sizeof *handles);
    for (int i = 0; i < conns; i++) {
        chans[i] = grpc_channel_create(target, creds, &cargs);
        handles[i] = grpc_channel_register_call(chans[i], method, NULL, NULL);
    }
    /* connect every channel before the clock starts */
    for (int i = 0; i < conns; i++) {
        gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(10, GPR_TIMESPAN));
        grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
        grpc_connectivity_state st;
        while ((st = grpc_channel_check_connectivity_state(chans[i], 1)) != GRPC_CHANNEL_READY) {
            grpc_channel_watch_connectivity_state(chans[i], st, dl, cq, NULL);
            grpc_event ev = grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
            if (!ev.success) {
                fprintf(stderr, "loadgen: cannot connect to %s\n", target);
                return 2;
            }
        }
        grpc_completion_queue_shutdown(cq);
        while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(cq);
    }

    worker *ws = calloc((size_t)nthreads, sizeof *ws);
    caller *cs = calloc((size_t)callers, sizeof *cs);
    for (int t = 0; t < nthreads; t++) {
        ws[t].cq = grpc_completion_queue_create_for_next(NULL);
        ws[t].callers = cs + (size_t)callers * (size_t)t / (size_t)nthreads;
        ws[t].ncallers = (int)((size_t)callers * (size_t)(t + 1) / (size_t)nthreads -
                               (size_t)callers * (size_t)t / (size_t)nthreads);
    }
    for (int i = 0; i < callers; i++) {
        int t = 0;
        while (cs + i >= ws[t].callers + ws[t].ncallers) t++;
        cs[i].w = &ws[t];
        cs[i].id = i;
        cs[i].ch = chans[i % conns];
        cs[i].method = handles[i % conns];
    }
    int64_t t0 = now_ns();
    g_t_warm = t0 + (int64_t)(warmup * 1e9);
    g_t_end = g_t_warm + (int64_t)(duration * 1e9);
    for (int t = 0; t < nthreads; t++) pthread_create(&ws[t].th, NULL, worker_main, &ws[t]);

    /* sample CPU at the window's edges */
    struct timespec ts;
    int64_t d = g_t_warm - now_ns();
    if (d > 0) {
        ts.tv_sec = d / 1000000000;
        ts.tv_nsec = d % 1000000000;
        nanosleep(&ts, NULL);
    }
    double c0 = self_cpu_s(), s0 = proc_cpu_s(server_pid);
    int64_t w0 = now_ns();
    d = g_t_end - now_ns();
    if (d > 0) {
        ts.tv_sec = d / 1000000000;
        ts.tv_nsec = d % 1000000000;
        nanosleep(&ts, NULL);
    }
    double c1 = self_cpu_s(), s1 = proc_cpu_s(server_pid);
    int64_t w1 = now_ns();
    atomic_store(&g_stop, 1);
    for (int t = 0; t < nthreads; t++) pthread_join(ws[t].th, NULL);

    hist h;
    memset(&h, 0, sizeof h);
    uint64_t calls = 0, errors = 0, msgs = 0, bytes = 0, codes[MAX_CODES] = {0};
    const char *first_error = "";
    for (int t = 0; t < nthreads; t++) {
        for (int i = 0; i < H_N; i++) h.b[i] += ws[t].h.b[i];
        h.n += ws[t].h.n;
        h.sum += ws[t].h.sum;
        if (ws[t].h.max > h.max) h.max = ws[t].h.max;
        calls += ws[t].calls;
        errors += ws[t].errors;
        msgs += ws[t].msgs;
        bytes += ws[t].bytes;
        for (int k = 0; k < MAX_CODES; k++) codes[k] += ws[t].codes[k];
        if (!first_error[0] && ws[t].first_error[0]) first_error = ws[t].first_error;
    }
    double win = (double)(w1 - w0) / 1e9, wspan = duration;
    printf("LOADGEN {\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"qps\":%.1f,\"window_s\":%.3f,"
           "\"p50_us\":%" PRIu64 ",\"p90_us\":%" PRIu64 ",\"p99_us\":%" PRIu64 ",\"p999_us\":%" PRIu64
           ",\"max_us\":%" PRIu64 ",\"mean_us\":%.1f,\"msgs\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"client_cpu_s\":%.3f,\"server_cpu_s\":%.3f,\"callers\":%d,\"connections\":%d,"
           "\"threads\":%d,\"ok\":%" PRIu64 ",\"first_error\":\"",
           calls, errors, (double)calls / wspan, win, h_pct(&h, 0.50), h_pct(&h, 0.90),
           h_pct(&h, 0.99), h_pct(&h, 0.999), h.max, h.n ? h.sum / (double)h.n : 0.0, msgs, bytes,
           c1 - c0, (s0 >= 0 && s1 >= 0) ? s1 - s0 : -1.0, callers, conns, nthreads, codes[0]);
    for (const char *p = first_error; *p; p++) { /* JSON string escape */
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch < 0x20) printf("\\u%04x", ch);
        else putchar(ch);
    }
    printf("\"}\n");
    fflush(stdout);

    for (int t = 0; t < nthreads; t++) {
        grpc_completion_queue_shutdown(ws[t].cq);
        while (grpc_completion_queue_next(ws[t].cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
               GRPC_QUEUE_SHUTDOWN) {
        }
        grpc_completion_queue_destroy(ws[t].cq);
    }
    for (int i = 0; i < conns; i++) grpc_channel_destroy(chans[i]);
    grpc_channel_credentials_release(creds);
    grpc_shutdown();
    free(ws);
    free(cs);
    free(chans);
    free(handles);
    free(g_reqs);
    free(fbuf);
    return 0;
}
