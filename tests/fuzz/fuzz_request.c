/* fuzz_request.c - request decoding and planning of `polaroid serve` (the engine side of every
 * polaroid.v1 method): the first byte picks a method, the rest is the request's protobuf bytes,
 * given to pl_srv_unary (unary methods), the Append stream (pl_srv_append_*) or Execute
 * (pl_srv_execute_start/next, at most 64 messages; and pl_srv_plan_to_df alone).
 * The data root is a temporary directory with a small CSV and Parquet file ("t.csv",
 * "t.parquet"). Must never crash, hang or leak; errors are the expected outcome. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "server/catalog.h"
#include "server/service.h"
#include "server/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char g_root[64];
static pl_srv *g_srv;
static int g_runs;

static void cleanup(void) {
    pl_srv_free(g_srv);
    g_srv = NULL;
    if (g_root[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
        if (system(cmd) != 0) fprintf(stderr, "fuzz_request: could not remove %s\n", g_root);
    }
}

static void setup(void) {
    if (g_root[0]) return;
    snprintf(g_root, sizeof g_root, "/tmp/pl_fuzz_request_XXXXXX");
    if (!mkdtemp(g_root)) abort();
    char path[128];
    snprintf(path, sizeof path, "%s/t.csv", g_root);
    FILE *f = fopen(path, "w");
    if (!f) abort();
    fputs("id,sym,price\n1,a,1.5\n2,b,2.5\n3,a,\n", f);
    fclose(f);
    /* the same rows as Parquet, through the engine */
    const char *src = path;
    pl_table *t = NULL;
    if (pl_read_table(1, &src, PL_FORMAT_CSV, NULL, &t, NULL) == PL_OK) {
        snprintf(path, sizeof path, "%s/t.parquet", g_root);
        pl_stream *s = NULL;
        if (pl_stream_from_table(t, &s, NULL) == PL_OK) {
            if (pl_write_stream(s, path, PL_FORMAT_PARQUET, NULL, NULL)) { /* fine: CSV only */
            }
            pl_stream_free(s);
        }
        pl_table_release(t);
    }
    snprintf(path, sizeof path, "%s/sub", g_root);
    mkdir(path, 0700);
    atexit(cleanup);
}

static pl_srv *server(void) {
    /* a fresh server now and then: handles and tables made by inputs do not pile up */
    if (g_srv && ++g_runs % 500 == 0) {
        pl_srv_free(g_srv);
        g_srv = NULL;
    }
    if (!g_srv) {
        pl_srv_config cfg;
        pl_srv_config_init(&cfg);
        cfg.data_root = g_root;
        cfg.max_message_bytes = 1 << 20;
        cfg.max_handles_per_client = 20;
        if (pl_srv_new(&cfg, &g_srv, NULL)) abort();
        /* a live table "t" (the CSV's rows): plans over it may run the network thread's way */
        char path[128];
        snprintf(path, sizeof path, "%s/t.csv", g_root);
        const char *src = path;
        pl_table *t = NULL;
        if (pl_read_table(1, &src, PL_FORMAT_CSV, NULL, &t, NULL) == PL_OK) {
            (void)pl_catalog_table_create(pl_srv_catalog(g_srv), "t", t->schema, t, false, true,
                                          NULL, NULL);
            pl_table_release(t);
        }
    }
    return g_srv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    setup();
    pl_srv *s = server();
    int zero = 0;
    pl_srv_call c;
    memset(&c, 0, sizeof c);
    c.srv = s;
    c.owner = (data[0] & 0x80) ? "other" : "fuzz";
    c.peer = "unix:fuzz";
    c.request_id = "fuzz";
    c.cancel = &zero;
    c.deadline_ns = pl_now_ns() + 5000000000ll;
    c.same_host = true;
    pl_srv_method m = (pl_srv_method)((data[0] & 0x7F) % PL_SRV_N_METHODS);
    const uint8_t *req = data + 1;
    size_t n = size - 1;
    pl_error err;
    pl_error_init(&err);
    switch (pl_srv_method_kind(m)) {
    case PL_SRV_UNARY: {
        uint8_t *resp = NULL;
        size_t len = 0;
        if (pl_srv_unary(&c, m, req, n, &resp, &len, &err) == PL_OK) pl_free(resp);
        else if (pl_srv_grpc_code(&err) == 0) abort(); /* an error must map to a failure code */
        break;
    }
    case PL_SRV_BIDI_STREAM: {
        /* Append: the input split into up to 4 requests at the bytes 0xA5 0x5A */
        pl_srv_append *a = NULL;
        if (pl_srv_append_open(&c, &a, &err)) break;
        const uint8_t *p = req, *end = req + n;
        for (int k = 0; k < 4 && p <= end; k++) {
            const uint8_t *q = p;
            while (q + 1 < end && !(q[0] == 0xA5 && q[1] == 0x5A)) q++;
            if (q + 1 >= end) q = end;
            uint8_t *ack = NULL;
            size_t len = 0;
            pl_error_init(&err);
            if (pl_srv_append_one(a, p, (size_t)(q - p), &ack, &len, &err) == PL_OK) pl_free(ack);
            p = q + 2;
        }
        pl_srv_append_close(a);
        break;
    }
    default: {
        if (m != PL_SRV_EXECUTE) break;
        /* Execute (execute.c): planned, run and cut into messages, at most 64 of them */
        pl_srv_exec *x = NULL;
        if (pl_srv_execute_start(&c, req, n, &x, &err) == PL_OK) {
            for (int k = 0; k < 64; k++) {
                uint8_t *msg = NULL;
                size_t len = 0;
                bool done = false;
                pl_error_init(&err);
                if (pl_srv_execute_next(x, &msg, &len, &done, &err) != PL_OK) break;
                pl_free(msg);
                if (done) break;
            }
            pl_srv_execute_free(x);
        }
        /* the network thread's way (live tables only, no I/O): the same messages or the same
         * error, and the hand-over to a runner part-way */
        x = NULL;
        bool inl = false;
        pl_error e1;
        pl_error_init(&e1);
        if (pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, &e1) == PL_OK && x) {
            for (int k = 0; k < 64; k++) {
                pl_srv_msg m2;
                bool done = false;
                pl_error_init(&e1);
                if (pl_srv_execute_next_msg(x, &m2, &done, &e1) != PL_OK || done) break;
                if (!m2.base) pl_srv_execute_to_runner(x);
                else pl_srv_msg_free(m2.base);
            }
            pl_srv_execute_free(x);
        }
        /* and the plan alone, with its schema as an IPC message */
        ProtobufCMessage *pm = NULL;
        pl_error e2;
        pl_error_init(&e2);
        if (pl_srv_unpack(s, &polaroid__v1__execute_request__descriptor, req, n, &pm, &e2)) break;
        const Polaroid__V1__ExecuteRequest *q = (const void *)pm;
        pl_df *df = NULL;
        if (pl_srv_plan_to_df(&c, q->plan, &df, &e2) == PL_OK) {
            uint8_t *bytes = NULL;
            size_t len = 0;
            if (pl_srv_schema_message(pl_df_schema(df), &bytes, &len, NULL) == PL_OK) pl_free(bytes);
            pl_df_release(df);
        }
        protobuf_c_message_free_unpacked(pm, pl_srv_pb_allocator());
        break;
    }
    }
    /* error details pack for any error */
    if (err.code != PL_OK) {
        uint8_t *d = NULL;
        size_t len = 0;
        if (pl_srv_error_detail(&err, g_root, "fuzz", &d, &len) == PL_OK) pl_free(d);
    }
    return 0;
}
