/* test_transport.c - the gRPC transport and Execute streaming end to end: a server started
 * in-process on 127.0.0.1:0 over a temporary data root with a generated Parquet file, and a
 * small gRPC C client (grpc_channel_create_call + batches). Results are checked against the
 * Parquet file read back by the engine's own reader (pl_read_table), the Arrow IPC stream the
 * server sent is decoded with pl_ipc_scan_buffer. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "core/core.h"
#include "io/ipc/ipc.h"
#include "grpc/health/v1/health.pb-c.h"
#include "server/catalog.h"
#include "server/server.h"
#include "server/transport.h"
#include "srv_data_util.h"

#define N_ROWS 300000
#define TOKEN "s3cret-token-1"

static char g_root[256];

/* ---------------------------------------------------------------- data */

/* id int64 0..n-1; name "row-<id>", NULL when id % 7 == 3 */
static void row(pl_builder **b, int64_t i) {
    pl_error err;
    assert_int_equal(pl_builder_append_i64(b[0], i, &err), PL_OK);
    if (i % 7 == 3) {
        assert_int_equal(pl_builder_append_null(b[1], &err), PL_OK);
    } else {
        char txt[32];
        int k = snprintf(txt, sizeof txt, "row-%lld", (long long)i);
        assert_int_equal(pl_builder_append_bytes(b[1], txt, k, &err), PL_OK);
    }
}

static int group_setup(void **state) {
    (void)state;
    srv_make_dir(g_root, sizeof g_root, "pl_test_transport");
    pl_field f[2] = {{(char *)"id", pl_type_simple(PL_TYPE_INT64), false},
                     {(char *)"name", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_table *t = srv_gen_table(2, f, N_ROWS, row);
    /* plain strings: every message must fit the size limit */
    srv_write_file(g_root, "t.parquet", t, PL_FORMAT_PARQUET, 50000, false);
    /* the same rows with dictionary-encoded strings (read back as dictionary arrays) */
    srv_write_file(g_root, "d.parquet", t, PL_FORMAT_PARQUET, 50000, true);
    pl_table_release(t);
    srv_write_text(g_root, "tokens.txt", "# tokens\n\nother-token\n  " TOKEN "  \n");
    grpc_init();
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    if (srv_remove_dir(g_root) != 0) return -1;
    grpc_shutdown_blocking();
    return 0;
}

/* ---------------------------------------------------------------- hook */

typedef struct hook_log {
    pthread_mutex_t mu;
    int n;
    int last_code;
    bool last_cancelled;
    int64_t last_rows;
    pl_srv_method last_method;
    int64_t last_queued_ns;
    int64_t last_bytes, last_streamed_bytes, last_streamed_rows;
    char last_request_id[64];
    int64_t streamed_rows, streamed_bytes; /* what on_streamed was told, in all */
} hook_log;

static hook_log g_hook = {PTHREAD_MUTEX_INITIALIZER, 0, 0, false, 0, 0, 0, 0, 0, 0, "", 0, 0};

static void on_streamed(void *user, int64_t rows, int64_t bytes) {
    hook_log *h = user;
    pthread_mutex_lock(&h->mu);
    h->streamed_rows += rows;
    h->streamed_bytes += bytes;
    pthread_mutex_unlock(&h->mu);
}

static void on_done(void *user, const pl_server_call_info *info) {
    hook_log *h = user;
    pthread_mutex_lock(&h->mu);
    h->n++;
    h->last_code = info->grpc_code;
    h->last_cancelled = info->client_cancelled;
    h->last_rows = info->rows;
    h->last_method = info->method;
    h->last_bytes = info->bytes;
    h->last_streamed_bytes = info->streamed_bytes;
    h->last_streamed_rows = info->streamed_rows;
    snprintf(h->last_request_id, sizeof h->last_request_id, "%s", info->request_id);
    h->last_queued_ns = info->queued_ns;
    pthread_mutex_unlock(&h->mu);
}

/* ---------------------------------------------------------------- server */

typedef struct srv_setup {
    int32_t max_concurrent, max_queued, max_parked;
    int64_t query_timeout_ms, grace_ms;
    bool tokens;
    int64_t inline_rows;
    int64_t shm_hold_ms, max_memory;
} srv_setup;

static pl_server *start(const srv_setup *ss) {
    pl_server_opts o;
    pl_server_opts_init(&o);
    o.srv.data_root = g_root;
    o.listen = "127.0.0.1:0";
    o.network_threads = 2;
    if (ss) {
        o.srv.max_concurrent_queries = ss->max_concurrent;
        o.srv.max_queued_queries = ss->max_queued;
        o.srv.query_timeout_ms = ss->query_timeout_ms;
        if (ss->grace_ms) o.shutdown_grace_ms = ss->grace_ms;
        o.max_parked_calls = ss->max_parked;
        o.inline_query_rows = ss->inline_rows;
        o.shm_hold_ms = ss->shm_hold_ms;
        o.srv.max_memory = ss->max_memory;
    }
    char tokens[512];
    snprintf(tokens, sizeof tokens, "%s/tokens.txt", g_root);
    if (ss && ss->tokens) o.token_file = tokens;
    o.on_call_done = on_done;
    o.on_streamed = on_streamed;
    o.hook_user = &g_hook;
    pl_server *s = NULL;
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_server_start(&o, &s, &err);
    if (st) fprintf(stderr, "start: %s\n", err.msg);
    assert_int_equal(st, PL_OK);
    assert_true(pl_server_port(s) > 0);
    return s;
}

/* ---------------------------------------------------------------- client */

typedef struct reply {
    grpc_status_code code;
    char details[1024];
    uint8_t *error_bin;
    size_t error_bin_len;
    int n_msgs;
    uint8_t *msgs[4096];
    size_t lens[4096];
} reply;

static void reply_free(reply *r) {
    for (int i = 0; i < r->n_msgs; i++) free(r->msgs[i]);
    free(r->error_bin);
    free(r);
}

static grpc_channel *connect_to(pl_server *s) {
    grpc_channel_credentials *cr = grpc_insecure_credentials_create();
    grpc_arg a = {GRPC_ARG_INTEGER, (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, {.integer = 64 << 20}};
    grpc_channel_args args = {1, &a};
    grpc_channel *ch = grpc_channel_create(pl_server_address(s), cr, &args);
    grpc_channel_credentials_release(cr);
    return ch;
}

typedef struct call_opts {
    const char *token;     /* NULL = none */
    const char *request_id; /* metadata "x-request-id"; NULL = none */
    int64_t timeout_ms;    /* 0 = 20 s */
    int cancel_after;      /* cancel once this many messages arrived (0 = never) */
    int stall_ms;          /* wait before reading the messages (a slow client) */
    int read_delay_ms;     /* wait between messages */
    /* called with each message as it arrives (before the next is read) */
    void (*on_msg)(void *user, const uint8_t *msg, size_t len);
    void *user;
} call_opts;

static void *pluck(grpc_completion_queue *cq, void *tag, bool *ok) {
    grpc_event ev = grpc_completion_queue_pluck(cq, tag, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    assert_int_equal(ev.type, GRPC_OP_COMPLETE);
    *ok = ev.success != 0;
    return ev.tag;
}

/* One call of method with request bytes; every response message and the status in *out. */
static reply *call(grpc_channel *ch, const char *method, const uint8_t *req, size_t n,
                   const call_opts *co) {
    call_opts dflt = {0};
    if (!co) co = &dflt;
    reply *r = calloc(1, sizeof *r);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_time_add(
        gpr_now(GPR_CLOCK_REALTIME),
        gpr_time_from_millis(co->timeout_ms ? co->timeout_ms : 20000, GPR_TIMESPAN));
    grpc_slice m = grpc_slice_from_static_string(method);
    grpc_call *c = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, m, NULL,
                                            deadline, NULL);
    grpc_metadata md[2];
    size_t n_md = 0;
    char auth[256];
    if (co->token) {
        snprintf(auth, sizeof auth, "Bearer %s", co->token);
        md[n_md].key = grpc_slice_from_static_string("authorization");
        md[n_md++].value = grpc_slice_from_copied_string(auth);
    }
    if (co->request_id) {
        md[n_md].key = grpc_slice_from_static_string("x-request-id");
        md[n_md++].value = grpc_slice_from_copied_string(co->request_id);
    }
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)req, n);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = n_md;
    ops[0].data.send_initial_metadata.metadata = n_md ? md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    assert_int_equal(grpc_call_start_batch(c, ops, 4, (void *)1, NULL), GRPC_CALL_OK);
    bool ok;
    pluck(cq, (void *)1, &ok);
    grpc_byte_buffer_destroy(bb);
    if (co->stall_ms) usleep((useconds_t)co->stall_ms * 1000);
    for (;;) {
        grpc_byte_buffer *in = NULL;
        grpc_op op;
        memset(&op, 0, sizeof op);
        op.op = GRPC_OP_RECV_MESSAGE;
        op.data.recv_message.recv_message = &in;
        assert_int_equal(grpc_call_start_batch(c, &op, 1, (void *)2, NULL), GRPC_CALL_OK);
        pluck(cq, (void *)2, &ok);
        if (!in) break;
        grpc_byte_buffer_reader rd;
        assert_true(grpc_byte_buffer_reader_init(&rd, in));
        grpc_slice sl = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
        grpc_byte_buffer_destroy(in);
        if (r->n_msgs < 4096) {
            size_t k = GRPC_SLICE_LENGTH(sl);
            r->msgs[r->n_msgs] = malloc(k ? k : 1);
            memcpy(r->msgs[r->n_msgs], GRPC_SLICE_START_PTR(sl), k);
            r->lens[r->n_msgs++] = k;
        }
        if (co->on_msg) co->on_msg(co->user, GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl));
        grpc_slice_unref(sl);
        if (co->cancel_after && r->n_msgs >= co->cancel_after) {
            grpc_call_cancel(c, NULL);
            break;
        }
        if (co->read_delay_ms) usleep((useconds_t)co->read_delay_ms * 1000);
    }
    grpc_slice details;
    grpc_op st;
    memset(&st, 0, sizeof st);
    st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    st.data.recv_status_on_client.trailing_metadata = &trailing;
    st.data.recv_status_on_client.status = &r->code;
    st.data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(c, &st, 1, (void *)3, NULL), GRPC_CALL_OK);
    pluck(cq, (void *)3, &ok);
    snprintf(r->details, sizeof r->details, "%.*s", (int)GRPC_SLICE_LENGTH(details),
             (const char *)GRPC_SLICE_START_PTR(details));
    grpc_slice_unref(details);
    for (size_t i = 0; i < trailing.count; i++) {
        if (grpc_slice_str_cmp(trailing.metadata[i].key, "polaroid-error-bin") == 0) {
            size_t k = GRPC_SLICE_LENGTH(trailing.metadata[i].value);
            r->error_bin = malloc(k ? k : 1);
            memcpy(r->error_bin, GRPC_SLICE_START_PTR(trailing.metadata[i].value), k);
            r->error_bin_len = k;
        }
    }
    for (size_t i = 0; i < n_md; i++) grpc_slice_unref(md[i].value);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(c);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    return r;
}

/* ---------------------------------------------------------------- requests */

typedef struct packed {
    uint8_t *p;
    size_t n;
} packed;

static const char *g_exec_request_id; /* ExecuteOptions.request_id of the next requests */

static packed execute_request_full(const char *path, int64_t max_msg, int64_t timeout_ms,
                                   bool shm, int64_t shm_min, bool keep_dicts) {
    Polaroid__V1__ReadFiles rf = POLAROID__V1__READ_FILES__INIT;
    char *paths[1] = {(char *)path};
    rf.n_paths = 1;
    rf.paths = paths;
    Polaroid__V1__Relation rel = POLAROID__V1__RELATION__INIT;
    rel.rel_case = POLAROID__V1__RELATION__REL_READ;
    rel.read = &rf;
    Polaroid__V1__Plan plan = POLAROID__V1__PLAN__INIT;
    plan.root = &rel;
    Polaroid__V1__ExecuteOptions eo = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    eo.max_message_bytes = max_msg;
    eo.timeout_ms = timeout_ms;
    eo.allow_shared_memory = shm;
    eo.shared_memory_min_bytes = shm_min;
    eo.keep_dictionaries = keep_dicts;
    eo.request_id = (char *)(g_exec_request_id ? g_exec_request_id : "");
    Polaroid__V1__ExecuteRequest req = POLAROID__V1__EXECUTE_REQUEST__INIT;
    req.plan = &plan;
    req.options = &eo;
    packed out;
    out.n = polaroid__v1__execute_request__get_packed_size(&req);
    out.p = malloc(out.n + 1);
    polaroid__v1__execute_request__pack(&req, out.p);
    return out;
}

static packed execute_request(const char *path, int64_t max_msg, int64_t timeout_ms) {
    return execute_request_full(path, max_msg, timeout_ms, false, 0, false);
}

static packed execute_request_shm(const char *path, int64_t max_msg, int64_t timeout_ms,
                                  bool shm, int64_t shm_min) {
    return execute_request_full(path, max_msg, timeout_ms, shm, shm_min, true);
}

static const char *const EXECUTE = "/polaroid.v1.Polaroid/Execute";

/* The IPC stream of an Execute reply as a table; *summary gets the summary's row count. */
static pl_table *decode_execute(const reply *r, int64_t *summary_rows, int64_t max_msg) {
    pl_buf *buf;
    pl_error err;
    assert_int_equal(pl_buf_new(1 << 16, &buf, &err), PL_OK);
    *summary_rows = -1;
    for (int i = 0; i < r->n_msgs; i++) {
        Polaroid__V1__ExecuteResponse *m =
            polaroid__v1__execute_response__unpack(NULL, r->lens[i], r->msgs[i]);
        assert_non_null(m);
        if (max_msg) assert_true((int64_t)r->lens[i] <= max_msg);
        if (m->payload_case == POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_ARROW_IPC) {
            assert_int_equal(*summary_rows, -1); /* nothing after the summary */
            assert_int_equal(pl_buf_append(buf, m->arrow_ipc.data, (int64_t)m->arrow_ipc.len, &err),
                             PL_OK);
        } else {
            assert_int_equal(m->payload_case, POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SUMMARY);
            assert_int_equal(i, r->n_msgs - 1);
            *summary_rows = m->summary->rows;
            assert_true(m->summary->request_id[0] != 0);
        }
        polaroid__v1__execute_response__free_unpacked(m, NULL);
    }
    pl_stream *st;
    pl_status s = pl_ipc_scan_buffer(buf, "response", NULL, &st, &err);
    if (s) fprintf(stderr, "decode: %s\n", err.msg);
    assert_int_equal(s, PL_OK);
    pl_table *t;
    assert_int_equal(pl_stream_collect(st, &t, &err), PL_OK);
    pl_stream_free(st);
    pl_buf_release(buf);
    return t;
}

static pl_table *reference_table_opt(const char *name, bool decode_dicts) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, name);
    const char *paths[1] = {path};
    pl_table *t;
    pl_error err;
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    ro.decode_dictionary = decode_dicts;
    assert_int_equal(pl_read_table(1, paths, PL_FORMAT_PARQUET, &ro, &t, &err), PL_OK);
    return t;
}

static pl_table *reference_table(const char *name) {
    return reference_table_opt(name, false);
}

static bool wait_for(pl_server *s, int64_t running, int64_t queued, int ms) {
    for (int i = 0; i < ms; i++) {
        pl_server_stats st;
        pl_server_get_stats(s, &st);
        if ((running < 0 || st.running == running) && (queued < 0 || st.queued == queued))
            return true;
        usleep(1000);
    }
    return false;
}

/* How many calls the hook has seen. */
static int hook_count(void) {
    pthread_mutex_lock(&g_hook.mu);
    int n = g_hook.n;
    pthread_mutex_unlock(&g_hook.mu);
    return n;
}

/* The hook's record of the next call to finish after n_before calls. */
static hook_log hook_after(int n_before) {
    hook_log h;
    for (int i = 0; i < 3000; i++) {
        pthread_mutex_lock(&g_hook.mu);
        h = g_hook;
        pthread_mutex_unlock(&g_hook.mu);
        if (h.n > n_before) break;
        usleep(1000);
    }
    assert_true(h.n > n_before);
    return h;
}

/* Waits until s has no open (or parked) call; *st its last stats. */
static void wait_idle(pl_server *s, pl_server_stats *st) {
    for (int i = 0; i < 3000; i++) {
        pl_server_get_stats(s, st);
        if (st->open_calls == 0 && st->parked == 0) break;
        usleep(1000);
    }
    assert_int_equal(st->open_calls, 0);
    assert_int_equal(st->parked, 0);
}

/* The hook's count once every call of these servers has ended (its hook has run). */
static int settled_count(pl_server *a, pl_server *b) {
    pl_server_stats st;
    wait_idle(a, &st);
    wait_idle(b, &st);
    return hook_count();
}

/* ---------------------------------------------------------------- tests */

static void test_server_info_and_health(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    reply *r = call(ch, "/polaroid.v1.Polaroid/ServerInfo", NULL, 0, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_int_equal(r->n_msgs, 1);
    Polaroid__V1__ServerInfoResponse *info =
        polaroid__v1__server_info_response__unpack(NULL, r->lens[0], r->msgs[0]);
    assert_non_null(info);
    assert_true(info->same_host); /* 127.0.0.1 */
    polaroid__v1__server_info_response__free_unpacked(info, NULL);
    reply_free(r);

    r = call(ch, "/grpc.health.v1.Health/Check", NULL, 0, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_int_equal(r->n_msgs, 1);
    Grpc__Health__V1__HealthCheckResponse *h =
        grpc__health__v1__health_check_response__unpack(NULL, r->lens[0], r->msgs[0]);
    assert_int_equal(h->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    grpc__health__v1__health_check_response__free_unpacked(h, NULL);
    reply_free(r);

    uint8_t other[] = {0x0a, 0x03, 'f', 'o', 'o'}; /* service "foo" */
    r = call(ch, "/grpc.health.v1.Health/Check", other, sizeof other, NULL);
    assert_int_equal(r->code, GRPC_STATUS_NOT_FOUND);
    reply_free(r);

    uint8_t junk[] = {0xff, 0xff, 0xff};
    r = call(ch, "/grpc.health.v1.Health/Check", junk, sizeof junk, NULL);
    assert_int_equal(r->code, GRPC_STATUS_INVALID_ARGUMENT);
    reply_free(r);

    r = call(ch, "/polaroid.v1.Polaroid/NoSuchMethod", NULL, 0, NULL);
    assert_int_equal(r->code, GRPC_STATUS_UNIMPLEMENTED);
    assert_non_null(strstr(r->details, "NoSuchMethod"));
    reply_free(r);

    r = call(ch, EXECUTE, junk, sizeof junk, NULL); /* malformed protobuf */
    assert_int_equal(r->code, GRPC_STATUS_INVALID_ARGUMENT);
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

static void test_execute_streams_parquet(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    pl_table *ref = reference_table("t.parquet");
    int64_t limits[2] = {0, 64 << 10}; /* the default (1 MiB) and 64 KiB messages */
    for (int k = 0; k < 2; k++) {
        packed req = execute_request("t.parquet", limits[k], 0);
        reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
        free(req.p);
        if (r->code) fprintf(stderr, "execute: %d %s\n", r->code, r->details);
        assert_int_equal(r->code, GRPC_STATUS_OK);
        int64_t rows;
        pl_table *t = decode_execute(r, &rows, limits[k] ? limits[k] : 1 << 20);
        assert_int_equal(rows, N_ROWS);
        assert_int_equal(t->n_rows, N_ROWS);
        assert_true(pl_table_equals(t, ref));
        if (k == 1) assert_true(r->n_msgs > 40); /* ~4.5 MB in 64 KiB messages */
        pl_table_release(t);
        reply_free(r);
    }
    pl_table_release(ref);

    /* dictionary columns: a dictionary goes out once per change, in the message of the first
     * rows that use it (a dictionary larger than the limit still goes, as one message) */
    ref = reference_table("d.parquet");
    assert_int_equal(ref->schema->fields[1].type->id, PL_TYPE_DICTIONARY);
    packed req = execute_request_full("d.parquet", 64 << 10, 0, false, 0, true);
    reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    int64_t rows;
    pl_table *t = decode_execute(r, &rows, 0);
    assert_int_equal(rows, N_ROWS);
    assert_true(pl_table_equals(t, ref));
    int n_big = 0;
    for (int i = 0; i < r->n_msgs; i++) n_big += r->lens[i] > (64 << 10);
    assert_true(n_big <= (N_ROWS + 49999) / 50000); /* one per row group's dictionary */
    pl_table_release(t);
    reply_free(r);
    pl_table_release(ref);
    /* by default dictionaries are decoded: the types pyarrow reads from the file */
    ref = reference_table_opt("d.parquet", true);
    assert_int_equal(ref->schema->fields[1].type->id, PL_TYPE_UTF8);
    req = execute_request("d.parquet", 64 << 10, 0);
    r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    t = decode_execute(r, &rows, 64 << 10);
    assert_true(pl_table_equals(t, ref));
    pl_table_release(t);
    reply_free(r);
    pl_table_release(ref);
    grpc_channel_destroy(ch);
    pl_server_free(s);
    pthread_mutex_lock(&g_hook.mu);
    assert_int_equal(g_hook.last_code, GRPC_STATUS_OK);
    assert_int_equal(g_hook.last_rows, N_ROWS);
    assert_int_equal(g_hook.last_method, PL_SRV_EXECUTE);
    pthread_mutex_unlock(&g_hook.mu);
}

static void test_execute_missing_file(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    packed req = execute_request("no/such.parquet", 0, 0);
    reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_NOT_FOUND);
    assert_int_equal(r->n_msgs, 0);
    assert_non_null(strstr(r->details, "such.parquet"));
    assert_non_null(r->error_bin);
    Polaroid__V1__ErrorDetail *d =
        polaroid__v1__error_detail__unpack(NULL, r->error_bin_len, r->error_bin);
    assert_non_null(d);
    assert_true(d->message[0] != 0);
    assert_true(d->request_id[0] != 0);
    polaroid__v1__error_detail__free_unpacked(d, NULL);
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* Rows and bytes reach the metrics hook as the messages go out, not at the end of the call. */
typedef struct progress_probe {
    int n;
    int64_t bytes_before; /* message bytes received before the third message */
    int64_t seen_at_third;
} progress_probe;

static void progress_on_msg(void *user, const uint8_t *msg, size_t len) {
    (void)msg;
    progress_probe *p = user;
    if (++p->n == 3) {
        /* the runner reports a message before it hands it over and makes the next one only
         * after that: by the third message the first two were counted */
        pthread_mutex_lock(&g_hook.mu);
        p->seen_at_third = g_hook.streamed_bytes;
        pthread_mutex_unlock(&g_hook.mu);
    }
    if (p->n < 3) p->bytes_before += (int64_t)len;
}

static void test_streamed_progress(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    pthread_mutex_lock(&g_hook.mu);
    g_hook.streamed_rows = g_hook.streamed_bytes = 0;
    pthread_mutex_unlock(&g_hook.mu);
    packed req = execute_request("t.parquet", 64 << 10, 0);
    progress_probe p = {0, 0, 0};
    call_opts co = {0};
    co.on_msg = progress_on_msg;
    co.user = &p;
    reply *r = call(ch, EXECUTE, req.p, req.n, &co);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_true(r->n_msgs > 40);
    assert_true(p.seen_at_third >= p.bytes_before);
    int64_t total = 0;
    for (int i = 0; i < r->n_msgs; i++) total += (int64_t)r->lens[i];
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s); /* the final hook has run */
    pthread_mutex_lock(&g_hook.mu);
    assert_int_equal(g_hook.streamed_rows, N_ROWS); /* every row counted while streaming */
    assert_int_equal(g_hook.last_streamed_rows, N_ROWS);
    assert_int_equal(g_hook.last_bytes, total);
    /* streamed + what the final hook adds (the summary) = every byte, counted once */
    assert_int_equal(g_hook.streamed_bytes, g_hook.last_streamed_bytes);
    assert_true(g_hook.last_bytes > g_hook.last_streamed_bytes);
    pthread_mutex_unlock(&g_hook.mu);
}

/* The client's request id (ExecuteOptions.request_id, or metadata "x-request-id" on any
 * method) names the call in the hook (logs) and in the error details; an invalid one is
 * ignored for the server's own. */
static void test_client_request_id(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    const char *ids[3] = {"client-req:7", "bad id", NULL};
    for (int k = 0; k < 3; k++) {
        g_exec_request_id = ids[k];
        packed req = execute_request("no/such.parquet", 0, 0);
        g_exec_request_id = NULL;
        reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
        free(req.p);
        assert_int_equal(r->code, GRPC_STATUS_NOT_FOUND);
        Polaroid__V1__ErrorDetail *d =
            polaroid__v1__error_detail__unpack(NULL, r->error_bin_len, r->error_bin);
        assert_non_null(d);
        if (k == 0) assert_string_equal(d->request_id, "client-req:7");
        else assert_true(d->request_id[0] && !strstr(d->request_id, "bad"));
        polaroid__v1__error_detail__free_unpacked(d, NULL);
        reply_free(r);
        for (int i = 0; i < 2000; i++) { /* the hook runs just after the status went out */
            pthread_mutex_lock(&g_hook.mu);
            bool same = k != 0 || !strcmp(g_hook.last_request_id, "client-req:7");
            pthread_mutex_unlock(&g_hook.mu);
            if (same) break;
            usleep(1000);
        }
        pthread_mutex_lock(&g_hook.mu);
        if (k == 0) assert_string_equal(g_hook.last_request_id, "client-req:7");
        pthread_mutex_unlock(&g_hook.mu);
    }
    /* metadata, on a unary method */
    call_opts co = {0};
    co.request_id = "meta-id-1";
    static const uint8_t bad[] = {0x0a, 0x02, 0x0a, 0x00}; /* a plan without a root */
    reply *r = call(ch, "/polaroid.v1.Polaroid/Schema", bad, sizeof bad, &co);
    assert_int_not_equal(r->code, GRPC_STATUS_OK);
    Polaroid__V1__ErrorDetail *d = polaroid__v1__error_detail__unpack(NULL, r->error_bin_len, r->error_bin);
    assert_non_null(d);
    assert_string_equal(d->request_id, "meta-id-1");
    polaroid__v1__error_detail__free_unpacked(d, NULL);
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

static void test_tokens(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.tokens = true;
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    const char *info = "/polaroid.v1.Polaroid/ServerInfo";
    reply *r = call(ch, info, NULL, 0, NULL);
    assert_int_equal(r->code, GRPC_STATUS_UNAUTHENTICATED);
    reply_free(r);
    call_opts co = {0};
    co.token = "s3cret-token-2";
    r = call(ch, info, NULL, 0, &co);
    assert_int_equal(r->code, GRPC_STATUS_UNAUTHENTICATED);
    reply_free(r);
    co.token = "s3cret-token-1x";
    r = call(ch, info, NULL, 0, &co);
    assert_int_equal(r->code, GRPC_STATUS_UNAUTHENTICATED);
    reply_free(r);
    co.token = TOKEN;
    r = call(ch, info, NULL, 0, &co);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    reply_free(r);
    co.token = "other-token";
    r = call(ch, "/polaroid.v1.Polaroid/ServerInfo", NULL, 0, &co);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    reply_free(r);
    r = call(ch, "/grpc.health.v1.Health/Check", NULL, 0, NULL); /* probes need no token */
    assert_int_equal(r->code, GRPC_STATUS_OK);
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s);

    /* no token file on a non-loopback address: refused */
    pl_server_opts o;
    pl_server_opts_init(&o);
    o.srv.data_root = g_root;
    o.listen = "0.0.0.0:0";
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_server_start(&o, &s, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "token"));
}

/* A client that does not read holds its runner (flow control); the next call waits in the
 * queue, the one after is refused at once. */
typedef struct bg_call {
    pl_server *s;
    grpc_channel *ch;
    call_opts co;
    int64_t max_msg;
    reply *r;
    pthread_t th;
} bg_call;

static void *bg_main(void *arg) {
    bg_call *b = arg;
    packed req = execute_request("t.parquet", b->max_msg, 0);
    b->r = call(b->ch, EXECUTE, req.p, req.n, &b->co);
    free(req.p);
    return NULL;
}

static void bg_start(bg_call *b, pl_server *s, grpc_channel *ch, int64_t max_msg) {
    b->s = s;
    b->ch = ch;
    b->max_msg = max_msg;
    assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static void test_queue_full(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.max_concurrent = 1;
    ss.max_queued = 1;
    ss.max_parked = -1; /* the slow client keeps its runner */
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    bg_call slow = {0};
    slow.co.cancel_after = 1;
    slow.co.stall_ms = 1500; /* does not read for 1.5 s, then cancels */
    bg_start(&slow, s, ch, 4096);
    assert_true(wait_for(s, 1, 0, 5000));
    bg_call queued = {0};
    bg_start(&queued, s, ch, 0);
    assert_true(wait_for(s, 1, 1, 5000));
    int64_t t0 = pl_now_ns();
    packed req = execute_request("t.parquet", 0, 0);
    reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_true(pl_now_ns() - t0 < 1000000000LL); /* at once */
    assert_non_null(strstr(r->details, "busy"));
    reply_free(r);
    pthread_join(slow.th, NULL);
    assert_int_equal(slow.r->code, GRPC_STATUS_CANCELLED);
    reply_free(slow.r);
    pthread_join(queued.th, NULL);
    assert_int_equal(queued.r->code, GRPC_STATUS_OK);
    reply_free(queued.r);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* A client that stops reading does not hold a runner: its call is parked, other queries run
 * on the only runner meanwhile, and the parked call resumes and completes when it reads. */
static void test_slow_client_parked(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.max_concurrent = 1;
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    grpc_channel *ch2 = connect_to(s); /* its own connection: no shared flow-control window */
    bg_call slow = {0};
    slow.co.stall_ms = 1500;
    bg_start(&slow, s, ch, 4096);
    pl_server_stats st = {0};
    for (int i = 0; i < 5000 && st.parked == 0; i++) {
        pl_server_get_stats(s, &st);
        usleep(1000);
    }
    assert_int_equal(st.parked, 1);
    assert_int_equal(st.running, 0);
    pl_table *ref = reference_table("t.parquet");
    for (int k = 0; k < 3; k++) { /* the only runner is free for others */
        packed req = execute_request("t.parquet", 0, 0);
        reply *r = call(ch2, EXECUTE, req.p, req.n, NULL);
        free(req.p);
        assert_int_equal(r->code, GRPC_STATUS_OK);
        int64_t rows;
        pl_table *t = decode_execute(r, &rows, 0);
        assert_true(pl_table_equals(t, ref));
        pl_table_release(t);
        reply_free(r);
    }
    pthread_join(slow.th, NULL);
    assert_int_equal(slow.r->code, GRPC_STATUS_OK);
    int64_t rows;
    pl_table *t = decode_execute(slow.r, &rows, 4096);
    assert_true(pl_table_equals(t, ref));
    assert_int_equal(rows, N_ROWS);
    pl_table_release(t);
    reply_free(slow.r);
    pl_table_release(ref);
    pl_server_get_stats(s, &st);
    assert_int_equal(st.parked, 0);
    grpc_channel_destroy(ch);
    grpc_channel_destroy(ch2);
    pl_server_free(s);
}

static void test_cancel_mid_stream(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    int n_before = hook_count();
    call_opts co = {0};
    co.cancel_after = 3;
    packed req = execute_request("t.parquet", 4096, 0);
    int64_t t0 = pl_now_ns();
    reply *r = call(ch, EXECUTE, req.p, req.n, &co);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_CANCELLED);
    assert_int_equal(r->n_msgs, 3);
    reply_free(r);
    /* the query stops at once: the runner is free and the call is over */
    assert_true(wait_for(s, 0, 0, 2000));
    hook_log h = hook_after(n_before);
    assert_true(h.last_cancelled);
    assert_true(h.last_rows < N_ROWS);
    assert_true(pl_now_ns() - t0 < 3000000000LL);
    pl_server_stats st;
    pl_server_get_stats(s, &st);
    assert_int_equal(st.open_calls, 0);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

static void test_deadlines(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.query_timeout_ms = 300;
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    /* a slow client past the query time limit: DEADLINE_EXCEEDED from the server */
    call_opts co = {0};
    co.stall_ms = 1200;
    packed req = execute_request("t.parquet", 4096, 0);
    reply *r = call(ch, EXECUTE, req.p, req.n, &co);
    assert_int_equal(r->code, GRPC_STATUS_DEADLINE_EXCEEDED);
    assert_non_null(strstr(r->details, "time limit"));
    reply_free(r);
    /* the client's own deadline */
    memset(&co, 0, sizeof co);
    co.timeout_ms = 200;
    co.stall_ms = 600;
    r = call(ch, EXECUTE, req.p, req.n, &co);
    assert_int_equal(r->code, GRPC_STATUS_DEADLINE_EXCEEDED);
    reply_free(r);
    free(req.p);
    assert_true(wait_for(s, 0, 0, 2000));
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* Shutdown with a query in flight: it finishes within the grace period (a slowly reading
 * client) while new queries are refused (UNAVAILABLE); a stalled one past the grace period is
 * cancelled; Health.Watch sees NOT_SERVING. */
typedef struct watch_call {
    grpc_channel *ch;
    reply *r;
    pthread_t th;
} watch_call;

static void *watch_main(void *arg) {
    watch_call *w = arg;
    w->r = call(w->ch, "/grpc.health.v1.Health/Watch", NULL, 0, NULL);
    return NULL;
}

static void *shutdown_main(void *arg) {
    pl_server_shutdown(arg);
    return NULL;
}

static void test_shutdown_in_flight(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.grace_ms = 5000;
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    watch_call w = {ch, NULL, 0};
    assert_int_equal(pthread_create(&w.th, NULL, watch_main, &w), 0);
    bg_call reader = {0};
    reader.co.read_delay_ms = 10; /* 300k rows in 256 KiB messages: ~20 messages, ~200 ms */
    bg_start(&reader, s, ch, 256 << 10);
    assert_true(wait_for(s, 1, -1, 5000));
    pl_server_stats stats = {0};
    for (int i = 0; i < 5000 && stats.open_calls < 2; i++) { /* the watch is open too */
        pl_server_get_stats(s, &stats);
        usleep(1000);
    }
    assert_int_equal(stats.open_calls, 2);
    int64_t t0 = pl_now_ns();
    pthread_t sd;
    assert_int_equal(pthread_create(&sd, NULL, shutdown_main, s), 0);
    /* while it drains, health answers NOT_SERVING and a new query is refused at once */
    for (int i = 0; i < 500; i++) {
        reply *h = call(ch, "/grpc.health.v1.Health/Check", NULL, 0, NULL);
        bool serving = h->code == GRPC_STATUS_OK && h->n_msgs == 1 && h->lens[0] == 2 &&
                       h->msgs[0][1] == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        reply_free(h);
        if (!serving) break;
        usleep(1000);
    }
    packed req = execute_request("t.parquet", 0, 0);
    reply *late = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(late->code, GRPC_STATUS_UNAVAILABLE);
    reply_free(late);
    pthread_join(sd, NULL);
    assert_true(pl_now_ns() - t0 < 5000000000LL);
    pthread_join(reader.th, NULL);
    if (reader.r->code) fprintf(stderr, "reader: %d %s\n", reader.r->code, reader.r->details);
    assert_int_equal(reader.r->code, GRPC_STATUS_OK);
    int64_t rows;
    pl_table *t = decode_execute(reader.r, &rows, 0);
    assert_int_equal(t->n_rows, N_ROWS);
    pl_table_release(t);
    reply_free(reader.r);
    pthread_join(w.th, NULL);
    if (w.r->code) fprintf(stderr, "watch: %d %s\n", w.r->code, w.r->details);
    assert_int_equal(w.r->code, GRPC_STATUS_OK);
    assert_int_equal(w.r->n_msgs, 2); /* SERVING, then NOT_SERVING */
    Grpc__Health__V1__HealthCheckResponse *h =
        grpc__health__v1__health_check_response__unpack(NULL, w.r->lens[1], w.r->msgs[1]);
    assert_int_equal(h->status,
                     GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    grpc__health__v1__health_check_response__free_unpacked(h, NULL);
    reply_free(w.r);
    pl_server_free(s);
    grpc_channel_destroy(ch);

    /* past the grace period: cancelled */
    ss.grace_ms = 200;
    s = start(&ss);
    ch = connect_to(s);
    bg_call stalled = {0};
    stalled.co.stall_ms = 1500;
    bg_start(&stalled, s, ch, 4096);
    assert_true(wait_for(s, 1, -1, 5000));
    t0 = pl_now_ns();
    pl_server_shutdown(s);
    assert_true(pl_now_ns() - t0 < 1500000000LL);
    pthread_join(stalled.th, NULL);
    assert_true(stalled.r->code != GRPC_STATUS_OK);
    reply_free(stalled.r);
    pl_server_free(s);
    grpc_channel_destroy(ch);
}

/* Shutdown past its grace period while calls are in every state: stalled clients (their calls
 * parked, a message in flight and one queued behind it), slow readers, a client cancelling,
 * queued queries (2 runners), a Health.Watch, and new calls arriving all along. gRPC's
 * shutdown tag came while the last events of the cancelled calls were still queued; the
 * completion queues were shut down then, and a send started by such an event (the message
 * queued behind the one in flight, a status) aborted the process in gRPC (call.cc
 * "grpc_cq_begin_op"), or a parked call woken by its close was left on the stopped runners'
 * queue (leaked). Each round waits a different time before the shutdown. */
typedef struct hammer {
    grpc_channel *ch;
    atomic_int stop;
    int calls;
    pthread_t th;
} hammer;

static void *hammer_main(void *arg) {
    hammer *h = arg;
    packed req = execute_request("t.parquet", 0, 0);
    call_opts co = {0};
    co.timeout_ms = 5000;
    while (!atomic_load(&h->stop)) {
        bool exec = h->calls % 2 == 0;
        reply *r = exec ? call(h->ch, EXECUTE, req.p, req.n, &co)
                        : call(h->ch, "/grpc.health.v1.Health/Check", NULL, 0, &co);
        reply_free(r);
        h->calls++;
    }
    free(req.p);
    return NULL;
}

static void test_shutdown_storm(void **state) {
    (void)state;
    enum { N_STALLED = 3, N_SLOW = 2, N_CANCEL = 2 };
    for (int round = 0; round < 4; round++) {
        srv_setup ss = {0};
        ss.grace_ms = 150;
        ss.max_concurrent = 2;
        pl_server *s = start(&ss);
        grpc_channel *ch = connect_to(s);
        watch_call w = {ch, NULL, 0};
        assert_int_equal(pthread_create(&w.th, NULL, watch_main, &w), 0);
        bg_call stalled[N_STALLED], slow[N_SLOW], cancelling[N_CANCEL];
        memset(stalled, 0, sizeof stalled);
        memset(slow, 0, sizeof slow);
        memset(cancelling, 0, sizeof cancelling);
        for (int i = 0; i < N_STALLED; i++) {
            stalled[i].co.stall_ms = 700 + 100 * i;
            bg_start(&stalled[i], s, ch, 4096);
        }
        for (int i = 0; i < N_SLOW; i++) {
            slow[i].co.read_delay_ms = 2 + i;
            bg_start(&slow[i], s, ch, 64 << 10);
        }
        for (int i = 0; i < N_CANCEL; i++) {
            cancelling[i].co.stall_ms = 20 * round + 10 * i;
            cancelling[i].co.cancel_after = 2;
            bg_start(&cancelling[i], s, ch, 4096);
        }
        hammer h = {.ch = ch};
        atomic_init(&h.stop, 0);
        assert_int_equal(pthread_create(&h.th, NULL, hammer_main, &h), 0);
        pl_server_stats st = {0};
        for (int i = 0; i < 5000 && st.open_calls < 4; i++) {
            pl_server_get_stats(s, &st);
            usleep(1000);
        }
        assert_true(st.open_calls >= 4);
        usleep((useconds_t)(15000 * round));
        int64_t t0 = pl_now_ns();
        pl_server_shutdown(s);
        /* the grace period, then the cancelled calls end at once */
        assert_true(pl_now_ns() - t0 < 10000000000LL);
        pl_server_get_stats(s, &st);
        assert_int_equal(st.open_calls, 0); /* every call ended: none left behind */
        assert_int_equal(st.parked, 0);
        assert_int_equal(st.queued, 0);
        atomic_store(&h.stop, 1);
        pthread_join(h.th, NULL);
        for (int i = 0; i < N_STALLED; i++) {
            pthread_join(stalled[i].th, NULL);
            assert_true(stalled[i].r->code != GRPC_STATUS_OK); /* past the grace period */
            reply_free(stalled[i].r);
        }
        for (int i = 0; i < N_SLOW; i++) {
            pthread_join(slow[i].th, NULL);
            reply_free(slow[i].r);
        }
        for (int i = 0; i < N_CANCEL; i++) {
            pthread_join(cancelling[i].th, NULL);
            reply_free(cancelling[i].r);
        }
        pthread_join(w.th, NULL);
        reply_free(w.r);
        pl_server_free(s);
        grpc_channel_destroy(ch);
    }
}

/* What a same-host client does on a SharedMemoryResult: checks the file (mode 0600, the
 * result's rows), then releases it as the Python client does once it has mapped it, which
 * lets the call go on to its summary. */
typedef struct shm_client {
    pl_server *s;
    pl_table *ref; /* NULL: do not check the rows */
    bool release;
    char path[256];
    bool existed, released;
} shm_client;

static void shm_on_msg(void *user, const uint8_t *msg, size_t len) {
    shm_client *sc = user;
    Polaroid__V1__ExecuteResponse *m = polaroid__v1__execute_response__unpack(NULL, len, msg);
    assert_non_null(m);
    if (m->payload_case == POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SHARED_MEMORY) {
        const char *path = m->shared_memory->path;
        snprintf(sc->path, sizeof sc->path, "%s", path);
        assert_true(strncmp(path, "/dev/shm/polaroid-", 18) == 0);
        struct stat sb;
        sc->existed = stat(path, &sb) == 0;
        assert_true(sc->existed);
        assert_int_equal(sb.st_mode & 0777, 0600);
        assert_int_equal(sb.st_size, m->shared_memory->size);
        if (sc->ref) {
            pl_buf *buf;
            pl_error err;
            assert_int_equal(pl_file_read_all(path, &buf, &err), PL_OK);
            pl_stream *st;
            assert_int_equal(pl_ipc_scan_buffer(buf, path, NULL, &st, &err), PL_OK);
            pl_table *t;
            assert_int_equal(pl_stream_collect(st, &t, &err), PL_OK);
            pl_stream_free(st);
            pl_buf_release(buf);
            assert_true(pl_table_equals(t, sc->ref));
            pl_table_release(t);
        }
        if (sc->release) {
            pl_srv *srv = pl_server_service(sc->s);
            /* another owner cannot release it; the owner can, once */
            assert_false(pl_srv_shm_release(srv, "someone", m->shared_memory->lease_id));
            sc->released = pl_srv_shm_release(srv, "", m->shared_memory->lease_id);
            assert_false(pl_srv_shm_release(srv, "", m->shared_memory->lease_id));
            assert_int_not_equal(stat(path, &sb), 0); /* released: removed at once */
        }
    }
    polaroid__v1__execute_response__free_unpacked(m, NULL);
}

static bool gone_within(const char *path, int ms) {
    struct stat sb;
    for (int i = 0; i < ms && stat(path, &sb) == 0; i++) usleep(1000);
    return stat(path, &sb) != 0;
}

/* Same-host fast path: the whole IPC stream in a /dev/shm file (mode 0600), one
 * SharedMemoryResult, then the summary once the client released the file; a client that
 * cancels (or disconnects) instead has its file removed at once; a result under the threshold
 * comes as messages. */
static void test_shared_memory(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.shm_hold_ms = 400;
    pl_server *s = start(&ss);
    pl_srv *srv = pl_server_service(s);
    grpc_channel *ch = connect_to(s);
    pl_table *ref = reference_table("d.parquet");
    packed req = execute_request_shm("d.parquet", 64 << 10, 0, true, 1 << 20);
    shm_client sc = {s, ref, true, "", false, false};
    call_opts co = {0};
    co.on_msg = shm_on_msg;
    co.user = &sc;
    reply *r = call(ch, EXECUTE, req.p, req.n, &co);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_true(sc.existed && sc.released);
    assert_int_equal(r->n_msgs, 2);
    Polaroid__V1__ExecuteResponse *sum =
        polaroid__v1__execute_response__unpack(NULL, r->lens[1], r->msgs[1]);
    assert_int_equal(sum->payload_case, POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SUMMARY);
    assert_int_equal(sum->summary->rows, N_ROWS);
    polaroid__v1__execute_response__free_unpacked(sum, NULL);
    reply_free(r);
    assert_int_equal(pl_srv_shm_bytes(srv), 0);
    assert_int_equal(pl_srv_memory_in_use(srv), 0);

    /* a client that cancels before releasing: the file goes with the call */
    shm_client keep = {s, NULL, false, "", false, false};
    co.user = &keep;
    co.cancel_after = 1;
    r = call(ch, EXECUTE, req.p, req.n, &co);
    assert_true(keep.existed);
    assert_true(gone_within(keep.path, 2000));
    reply_free(r);
    for (int i = 0; i < 2000 && pl_srv_memory_in_use(srv) != 0; i++) usleep(1000);
    assert_int_equal(pl_srv_memory_in_use(srv), 0);

    /* a client that neither releases nor goes away: the summary after the hold time; the
     * lease stays charged until its TTL or shutdown */
    memset(&keep, 0, sizeof keep);
    keep.s = s;
    co.cancel_after = 0;
    int64_t t0 = pl_now_ns();
    r = call(ch, EXECUTE, req.p, req.n, &co);
    assert_true(pl_now_ns() - t0 >= 350000000LL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_int_equal(r->n_msgs, 2);
    reply_free(r);
    char kept[256];
    snprintf(kept, sizeof kept, "%s", keep.path);
    struct stat sb;
    assert_int_equal(stat(kept, &sb), 0);
    assert_true(pl_srv_shm_bytes(srv) > 0);
    assert_int_equal(pl_srv_memory_in_use(srv), pl_srv_shm_bytes(srv));
    free(req.p);

    /* under the threshold: ordinary messages */
    req = execute_request_shm("d.parquet", 64 << 10, 0, true, 1LL << 40);
    r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    int64_t rows;
    pl_table *t = decode_execute(r, &rows, 0);
    assert_true(pl_table_equals(t, ref));
    pl_table_release(t);
    reply_free(r);

    /* the lease left alone is removed at shutdown */
    pl_table_release(ref);
    grpc_channel_destroy(ch);
    pl_server_free(s);
    assert_int_not_equal(stat(kept, &sb), 0);
}

/* Shutdown while a call waits for its client's release: the call ends at once (not after the
 * hold time or the grace period) and the file goes with the server. */
typedef struct shm_bg {
    grpc_channel *ch;
    packed req;
    call_opts co;
    reply *r;
} shm_bg;

static void *shm_bg_main(void *arg) {
    shm_bg *b = arg;
    b->r = call(b->ch, EXECUTE, b->req.p, b->req.n, &b->co);
    return NULL;
}

static void test_shared_memory_shutdown(void **state) {
    (void)state;
    pl_server *s = start(NULL); /* the default hold: 10 s */
    grpc_channel *ch = connect_to(s);
    shm_client keep = {s, NULL, false, "", false, false};
    shm_bg bg;
    memset(&bg, 0, sizeof bg);
    bg.ch = ch;
    bg.req = execute_request_shm("t.parquet", 0, 0, true, 1);
    bg.co.on_msg = shm_on_msg;
    bg.co.user = &keep;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, shm_bg_main, &bg), 0);
    for (int i = 0; i < 10000 && !keep.existed; i++) usleep(1000);
    assert_true(keep.existed);
    usleep(50000); /* the call is waiting for the release now */
    int64_t t0 = pl_now_ns();
    pl_server_shutdown(s);
    assert_true(pl_now_ns() - t0 < 5000000000LL);
    pthread_join(th, NULL);
    assert_int_equal(bg.r->code, GRPC_STATUS_OK);
    assert_int_equal(bg.r->n_msgs, 2); /* the file's name, then the summary */
    reply_free(bg.r);
    free(bg.req.p);
    pl_server_free(s);
    struct stat sb;
    assert_int_not_equal(stat(keep.path, &sb), 0);
    grpc_channel_destroy(ch);
}

/* The result file counts against --max-memory: a result larger than the limit fails with
 * RESOURCE_EXHAUSTED naming it, and leaves no file behind. */
static void test_shared_memory_limit(void **state) {
    (void)state;
    srv_setup ss = {0};
    ss.max_memory = 1 << 20; /* the file of t.parquet takes ~5 MB */
    pl_server *s = start(&ss);
    grpc_channel *ch = connect_to(s);
    packed req = execute_request_shm("t.parquet", 64 << 10, 0, true, 1);
    reply *r = call(ch, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r->details, "memory limit"));
    reply_free(r);
    assert_int_equal(pl_srv_shm_bytes(pl_server_service(s)), 0);
    assert_int_equal(pl_srv_memory_in_use(pl_server_service(s)), 0);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* Append: a bidi stream, one ack per request in order; the rows are visible to the next query. */
static void test_append_stream(void **state) {
    (void)state;
    pl_server *s = start(NULL);
    grpc_channel *ch = connect_to(s);
    Polaroid__V1__ColumnDef c1 = POLAROID__V1__COLUMN_DEF__INIT, c2 = POLAROID__V1__COLUMN_DEF__INIT;
    c1.name = (char *)"k";
    c1.type = (char *)"BIGINT";
    c2.name = (char *)"v";
    c2.type = (char *)"VARCHAR";
    Polaroid__V1__ColumnDef *cols[2] = {&c1, &c2};
    Polaroid__V1__CreateTableRequest ct = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
    ct.name = (char *)"live";
    ct.n_columns = 2;
    ct.columns = cols;
    uint8_t buf[256];
    size_t n = polaroid__v1__create_table_request__pack(&ct, buf);
    reply *r = call(ch, "/polaroid.v1.Polaroid/CreateTable", buf, n, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    reply_free(r);

    grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_millis(20000, GPR_TIMESPAN));
    grpc_call *c = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq,
                                            grpc_slice_from_static_string(
                                                "/polaroid.v1.Polaroid/Append"),
                                            NULL, deadline, NULL);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_op ops[2];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[1].data.recv_initial_metadata.recv_initial_metadata = &initial;
    assert_int_equal(grpc_call_start_batch(c, ops, 2, (void *)1, NULL), GRPC_CALL_OK);
    bool ok;
    const char *rows[3] = {"{\"k\": 1, \"v\": \"a\"}\n{\"k\": 2, \"v\": \"b\"}",
                           "{\"k\": 3, \"v\": null}", "{\"k\": 4}\n{\"k\": 5}\n{\"k\": 6}"};
    int64_t want_rows[3] = {2, 1, 3}, total = 0, acked_bytes = 0;
    pthread_mutex_lock(&g_hook.mu);
    int64_t streamed0 = g_hook.streamed_bytes;
    pthread_mutex_unlock(&g_hook.mu);
    for (int i = 0; i < 3; i++) {
        if (i == 0) pluck(cq, (void *)1, &ok);
        Polaroid__V1__AppendRequest ar = POLAROID__V1__APPEND_REQUEST__INIT;
        ar.table = i == 0 ? (char *)"live" : (char *)"";
        ar.seq = (uint64_t)(100 + i);
        ar.data_case = POLAROID__V1__APPEND_REQUEST__DATA_JSON_ROWS;
        ar.json_rows = (char *)rows[i];
        n = polaroid__v1__append_request__pack(&ar, buf);
        grpc_slice sl = grpc_slice_from_copied_buffer((const char *)buf, n);
        grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
        grpc_slice_unref(sl);
        grpc_byte_buffer *in = NULL;
        memset(ops, 0, sizeof ops);
        ops[0].op = GRPC_OP_SEND_MESSAGE;
        ops[0].data.send_message.send_message = bb;
        ops[1].op = GRPC_OP_RECV_MESSAGE;
        ops[1].data.recv_message.recv_message = &in;
        assert_int_equal(grpc_call_start_batch(c, ops, 2, (void *)2, NULL), GRPC_CALL_OK);
        pluck(cq, (void *)2, &ok);
        grpc_byte_buffer_destroy(bb);
        assert_non_null(in);
        grpc_byte_buffer_reader rd;
        assert_true(grpc_byte_buffer_reader_init(&rd, in));
        grpc_slice got = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
        grpc_byte_buffer_destroy(in);
        Polaroid__V1__AppendAck *ack = polaroid__v1__append_ack__unpack(
            NULL, GRPC_SLICE_LENGTH(got), GRPC_SLICE_START_PTR(got));
        acked_bytes += (int64_t)GRPC_SLICE_LENGTH(got);
        grpc_slice_unref(got);
        assert_non_null(ack);
        total += want_rows[i];
        assert_int_equal(ack->seq, 100 + i);
        assert_int_equal(ack->rows, want_rows[i]);
        assert_int_equal(ack->table_rows, total);
        polaroid__v1__append_ack__free_unpacked(ack, NULL);
        /* the acks count in the streamed bytes as they go, not when the stream ends */
        pthread_mutex_lock(&g_hook.mu);
        assert_int_equal(g_hook.streamed_bytes - streamed0, acked_bytes);
        pthread_mutex_unlock(&g_hook.mu);
    }
    grpc_status_code code;
    grpc_slice details;
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[1].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[1].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[1].data.recv_status_on_client.status = &code;
    ops[1].data.recv_status_on_client.status_details = &details;
    assert_int_equal(grpc_call_start_batch(c, ops, 2, (void *)3, NULL), GRPC_CALL_OK);
    pluck(cq, (void *)3, &ok);
    assert_int_equal(code, GRPC_STATUS_OK);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_call_unref(c);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_pluck(cq, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);

    /* the rows are there for the next query */
    Polaroid__V1__TableRef tr = POLAROID__V1__TABLE_REF__INIT;
    tr.name = (char *)"live";
    Polaroid__V1__Relation rel = POLAROID__V1__RELATION__INIT;
    rel.rel_case = POLAROID__V1__RELATION__REL_TABLE;
    rel.table = &tr;
    Polaroid__V1__Plan plan = POLAROID__V1__PLAN__INIT;
    plan.root = &rel;
    Polaroid__V1__ExecuteRequest er = POLAROID__V1__EXECUTE_REQUEST__INIT;
    er.plan = &plan;
    n = polaroid__v1__execute_request__pack(&er, buf);
    r = call(ch, EXECUTE, buf, n, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    int64_t got_rows;
    pl_table *t = decode_execute(r, &got_rows, 0);
    assert_int_equal(t->n_rows, 6);
    pl_table_release(t);
    reply_free(r);

    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* Hostile bytes to every method (unary and streaming): an error status, never a crash; the
 * server keeps serving. Also a unix socket listener. */
static void test_hostile_requests(void **state) {
    (void)state;
    pl_server_opts o;
    pl_server_opts_init(&o);
    o.srv.data_root = g_root;
    char sock[300];
    snprintf(sock, sizeof sock, "unix:%s/s.sock", g_root);
    o.listen = sock;
    o.network_threads = 1;
    pl_server *s = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_server_start(&o, &s, &err), PL_OK);
    assert_int_equal(pl_server_port(s), 0);
    assert_string_equal(pl_server_address(s), sock);
    grpc_channel *ch = connect_to(s);
    uint8_t junk[64];
    uint32_t seed = 12345;
    for (int m = 0; m < PL_SRV_N_METHODS; m++) {
        if (pl_srv_method_kind((pl_srv_method)m) == PL_SRV_BIDI_STREAM) continue;
        if (m == PL_SRV_HEALTH_WATCH) continue; /* a valid watch stays open */
        for (int k = 0; k < 8; k++) {
            size_t n = (size_t)(k * 8);
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                junk[i] = (uint8_t)(seed >> 16);
            }
            if (k == 1) { /* a length prefix claiming 2 GB */
                junk[0] = 0x0a;
                junk[1] = 0xff;
                junk[2] = 0xff;
                junk[3] = 0xff;
                junk[4] = 0xff;
                junk[5] = 0x07;
            }
            reply *r = call(ch, pl_srv_method_path((pl_srv_method)m), junk, n, NULL);
            if (r->code == GRPC_STATUS_OK) { /* empty requests are valid for some methods */
                assert_true(n == 0 || m == PL_SRV_SERVER_INFO || m == PL_SRV_LIST_TABLES ||
                            m == PL_SRV_HEALTH_CHECK || m == PL_SRV_HEARTBEAT ||
                            m == PL_SRV_DROP_HANDLE || m == PL_SRV_RELEASE_SHM);
            } else {
                if (r->code != GRPC_STATUS_INVALID_ARGUMENT && r->code != GRPC_STATUS_NOT_FOUND &&
                    r->code != GRPC_STATUS_RESOURCE_EXHAUSTED)
                    fprintf(stderr, "method %d, %zu bytes: %d %s\n", m, n, r->code, r->details);
                assert_true(r->code == GRPC_STATUS_INVALID_ARGUMENT ||
                            r->code == GRPC_STATUS_NOT_FOUND ||
                            r->code == GRPC_STATUS_RESOURCE_EXHAUSTED);
            }
            reply_free(r);
        }
    }
    reply *r = call(ch, "/polaroid.v1.Polaroid/ServerInfo", NULL, 0, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    Polaroid__V1__ServerInfoResponse *info =
        polaroid__v1__server_info_response__unpack(NULL, r->lens[0], r->msgs[0]);
    assert_true(info->same_host); /* a unix socket peer */
    polaroid__v1__server_info_response__free_unpacked(info, NULL);
    reply_free(r);
    grpc_channel_destroy(ch);
    pl_server_free(s);
}

/* ---------------------------------------------------------------- queries on the network thread */

/* Execute of filter(table, pred) (optionally sorted by id descending) with options. */
static packed table_query(const char *table, const char *pred, int64_t max_msg, int64_t mem_limit,
                          bool sort) {
    Polaroid__V1__TableRef tr = POLAROID__V1__TABLE_REF__INIT;
    tr.name = (char *)table;
    Polaroid__V1__Relation trel = POLAROID__V1__RELATION__INIT;
    trel.rel_case = POLAROID__V1__RELATION__REL_TABLE;
    trel.table = &tr;
    Polaroid__V1__Expr pe = POLAROID__V1__EXPR__INIT;
    pe.kind_case = POLAROID__V1__EXPR__KIND_SQL;
    pe.sql = (char *)pred;
    Polaroid__V1__Filter f = POLAROID__V1__FILTER__INIT;
    f.input = &trel;
    f.predicate = &pe;
    Polaroid__V1__Relation frel = POLAROID__V1__RELATION__INIT;
    frel.rel_case = POLAROID__V1__RELATION__REL_FILTER;
    frel.filter = &f;
    Polaroid__V1__ColumnRef cr = POLAROID__V1__COLUMN_REF__INIT;
    cr.name = (char *)"id";
    Polaroid__V1__Expr ke = POLAROID__V1__EXPR__INIT;
    ke.kind_case = POLAROID__V1__EXPR__KIND_COLUMN;
    ke.column = &cr;
    Polaroid__V1__SortKey sk = POLAROID__V1__SORT_KEY__INIT;
    sk.expr = &ke;
    sk.descending = true;
    Polaroid__V1__SortKey *sks[1] = {&sk};
    Polaroid__V1__Sort so = POLAROID__V1__SORT__INIT;
    so.input = &frel;
    so.n_keys = 1;
    so.keys = sks;
    Polaroid__V1__Relation srel = POLAROID__V1__RELATION__INIT;
    srel.rel_case = POLAROID__V1__RELATION__REL_SORT;
    srel.sort = &so;
    Polaroid__V1__Plan plan = POLAROID__V1__PLAN__INIT;
    plan.root = sort ? &srel : &frel;
    Polaroid__V1__ExecuteOptions eo = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    eo.max_message_bytes = max_msg;
    eo.memory_limit_bytes = mem_limit;
    Polaroid__V1__ExecuteRequest req = POLAROID__V1__EXECUTE_REQUEST__INIT;
    req.plan = &plan;
    req.options = &eo;
    packed out;
    out.n = polaroid__v1__execute_request__get_packed_size(&req);
    out.p = malloc(out.n + 1);
    polaroid__v1__execute_request__pack(&req, out.p);
    return out;
}

/* CreateTable name AS read(path). */
static void create_table_from(grpc_channel *ch, const char *name, const char *path) {
    Polaroid__V1__ReadFiles rf = POLAROID__V1__READ_FILES__INIT;
    char *paths[1] = {(char *)path};
    rf.n_paths = 1;
    rf.paths = paths;
    Polaroid__V1__Relation rel = POLAROID__V1__RELATION__INIT;
    rel.rel_case = POLAROID__V1__RELATION__REL_READ;
    rel.read = &rf;
    Polaroid__V1__Plan plan = POLAROID__V1__PLAN__INIT;
    plan.root = &rel;
    Polaroid__V1__CreateTableRequest ct = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
    ct.name = (char *)name;
    ct.as_plan = &plan;
    uint8_t buf[512];
    size_t n = polaroid__v1__create_table_request__pack(&ct, buf);
    reply *r = call(ch, "/polaroid.v1.Polaroid/CreateTable", buf, n, NULL);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    reply_free(r);
}

/* Every message but the summary the same, byte for byte. */
static void assert_same_ipc(const reply *a, const reply *b) {
    assert_int_equal(a->code, b->code);
    assert_int_equal(a->n_msgs, b->n_msgs);
    for (int i = 0; i + 1 < a->n_msgs; i++) {
        assert_int_equal(a->lens[i], b->lens[i]);
        assert_memory_equal(a->msgs[i], b->msgs[i], a->lens[i]);
    }
}

/* Tiny queries on live tables run on the network thread (queued_ns 0 in the hook) and answer
 * exactly what a runner answers: rows, NULLs, empty results, errors, limits; a large result
 * started there is parked or handed to a runner when the client is slow, and can be
 * cancelled. */
static void test_inline_execute(void **state) {
    (void)state;
    srv_setup on = {0}, off = {0}, nopark = {0};
    off.inline_rows = -1;
    nopark.max_parked = -1;
    pl_server *sa = start(&on), *sb = start(&off), *sc = start(&nopark);
    grpc_channel *ca = connect_to(sa), *cb = connect_to(sb), *cc = connect_to(sc);
    create_table_from(ca, "t", "t.parquet");
    create_table_from(cb, "t", "t.parquet");
    create_table_from(cc, "t", "t.parquet");
    pl_table *ref = reference_table("t.parquet");
    /* OR is not pruned by chunk statistics: 300000 rows, a runner's query */
    const char *preds[] = {"id = 0", "id = 3", "id = 16383", "id = 16384", "id = 299999",
                           "id = -1", "id = 150000 OR id = 150001", "id BETWEEN 10 AND 20 AND name IS NULL"};
    int64_t want_rows[] = {1, 1, 1, 1, 1, 0, 2, 2};
    bool inl[] = {true, true, true, true, true, true, false, true};
    for (size_t i = 0; i < PL_ARRAY_LEN(preds); i++) {
        packed req = table_query("t", preds[i], 0, 0, false);
        int n0 = settled_count(sa, sb);
        reply *ra = call(ca, EXECUTE, req.p, req.n, NULL);
        hook_log ha = hook_after(n0);
        n0 = settled_count(sa, sb);
        reply *rb = call(cb, EXECUTE, req.p, req.n, NULL);
        hook_log hb = hook_after(n0);
        free(req.p);
        assert_int_equal(ra->code, GRPC_STATUS_OK);
        assert_same_ipc(ra, rb);
        if (inl[i]) {
            /* never queued: on the network thread. A client that reads slowly (a loaded machine)
             * can still make the network thread park the call for a runner after it started:
             * retried a few times, one call must run through inline */
            for (int k = 0; k < 5 && ha.last_queued_ns != 0; k++) {
                n0 = settled_count(sa, sb);
                packed rq = table_query("t", preds[i], 0, 0, false);
                reply *again = call(ca, EXECUTE, rq.p, rq.n, NULL);
                free(rq.p);
                ha = hook_after(n0);
                assert_int_equal(again->code, GRPC_STATUS_OK);
                assert_same_ipc(again, rb);
                reply_free(again);
            }
            assert_int_equal(ha.last_queued_ns, 0);
        } else {
            assert_true(ha.last_queued_ns > 0);
        }
        assert_true(hb.last_queued_ns > 0);
        assert_int_equal(ha.last_rows, want_rows[i]);
        int64_t rows;
        pl_table *t = decode_execute(ra, &rows, 0);
        assert_int_equal(rows, want_rows[i]);
        assert_int_equal(t->n_rows, want_rows[i]);
        if (i == 1) { /* id 3: name NULL (i % 7 == 3) as in the file */
            assert_false(pl_array_is_valid(t->batches[0]->columns[1], 0));
            assert_true(pl_array_is_valid(ref->batches[0]->columns[1], 2));
        }
        pl_table_release(t);
        reply_free(ra);
        reply_free(rb);
    }
    /* errors: the same status and text */
    const char *bad[] = {"nosuch = 1", "id = 'x' +"};
    for (size_t i = 0; i < PL_ARRAY_LEN(bad); i++) {
        packed req = table_query("t", bad[i], 0, 0, false);
        reply *ra = call(ca, EXECUTE, req.p, req.n, NULL);
        reply *rb = call(cb, EXECUTE, req.p, req.n, NULL);
        free(req.p);
        assert_int_equal(ra->code, GRPC_STATUS_INVALID_ARGUMENT);
        assert_int_equal(rb->code, ra->code);
        assert_string_equal(ra->details, rb->details);
        assert_non_null(ra->error_bin);
        reply_free(ra);
        reply_free(rb);
    }
    packed req = table_query("missing", "id = 1", 0, 0, false);
    reply *r = call(ca, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_NOT_FOUND);
    reply_free(r);
    /* a memory limit the sort cannot keep */
    req = table_query("t", "id < 5000", 0, 1024, true);
    r = call(ca, EXECUTE, req.p, req.n, NULL);
    reply *rb = call(cb, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_int_equal(rb->code, GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(r->details, "memory limit"));
    reply_free(r);
    reply_free(rb);
    /* sorted, one chunk: inline, identical */
    req = table_query("t", "id < 16384 AND id % 3 = 0", 0, 0, true);
    r = call(ca, EXECUTE, req.p, req.n, NULL);
    rb = call(cb, EXECUTE, req.p, req.n, NULL);
    free(req.p);
    assert_int_equal(r->code, GRPC_STATUS_OK);
    assert_same_ipc(r, rb);
    reply_free(r);
    reply_free(rb);

    /* a whole chunk in 4 KiB messages to a slow client: parked from the network thread (or,
     * with parking off, handed to a runner), resumed on a runner, complete and in order */
    req = table_query("t", "id < 16384", 4096, 0, false);
    call_opts slow = {0};
    slow.stall_ms = 200;
    reply *want = call(cb, EXECUTE, req.p, req.n, NULL);
    assert_int_equal(want->code, GRPC_STATUS_OK);
    assert_true(want->n_msgs > 50);
    grpc_channel *chs[2] = {ca, cc};
    for (int k = 0; k < 2; k++) {
        int n0 = settled_count(sa, sc);
        r = call(chs[k], EXECUTE, req.p, req.n, &slow);
        hook_log h = hook_after(n0);
        assert_same_ipc(r, want);
        assert_true(h.last_queued_ns > 0); /* finished on a runner */
        assert_int_equal(h.last_rows, 16384);
        int64_t rows;
        pl_table *t = decode_execute(r, &rows, 4096);
        assert_int_equal(rows, 16384);
        pl_table_release(t);
        reply_free(r);
    }
    reply_free(want);
    /* cancelled after 3 messages: CANCELLED, the query stops. On a loaded machine the server
     * can write the whole result into the connection's flow-control window before the
     * client's cancel arrives (then the call ended complete and OK on the server's side):
     * that race is retried, and one of the attempts must be stopped by the cancel. */
    call_opts co = {0};
    co.cancel_after = 3;
    bool stopped = false;
    for (int attempt = 0; attempt < 8 && !stopped; attempt++) {
        int n0 = settled_count(sa, sb);
        r = call(ca, EXECUTE, req.p, req.n, &co);
        assert_int_equal(r->code, GRPC_STATUS_CANCELLED);
        hook_log h = hook_after(n0);
        if (h.last_cancelled) {
            assert_true(h.last_rows < 16384);
            stopped = true;
        } else { /* the server finished first: everything was sent */
            assert_int_equal(h.last_code, GRPC_STATUS_OK);
            assert_int_equal(h.last_rows, 16384);
        }
        reply_free(r);
    }
    assert_true(stopped);
    free(req.p);
    assert_true(wait_for(sa, 0, 0, 2000));
    pl_server_stats st;
    wait_idle(sa, &st);
    pl_table_release(ref);
    grpc_channel_destroy(ca);
    grpc_channel_destroy(cb);
    grpc_channel_destroy(cc);
    pl_server_free(sa);
    pl_server_free(sb);
    pl_server_free(sc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_info_and_health),
        cmocka_unit_test(test_execute_streams_parquet),
        cmocka_unit_test(test_execute_missing_file),
        cmocka_unit_test(test_streamed_progress),
        cmocka_unit_test(test_client_request_id),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_slow_client_parked),
        cmocka_unit_test(test_cancel_mid_stream),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_shutdown_in_flight),
        cmocka_unit_test(test_shutdown_storm),
        cmocka_unit_test(test_shared_memory),
        cmocka_unit_test(test_shared_memory_limit),
        cmocka_unit_test(test_shared_memory_shutdown),
        cmocka_unit_test(test_append_stream),
        cmocka_unit_test(test_hostile_requests),
        cmocka_unit_test(test_inline_execute),
    };
    if (getenv("PL_TEST_FILTER")) cmocka_set_test_filter(getenv("PL_TEST_FILTER"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
