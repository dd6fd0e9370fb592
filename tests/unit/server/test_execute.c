/* test_execute.c - execute.c without gRPC: ExecuteRequest bytes in, packed ExecuteResponse
 * messages out. The concatenated arrow_ipc payloads are decoded with pl_ipc_scan_buffer and
 * compared with the same relation collected directly (pl_srv_plan_to_df + pl_df_collect); the
 * size limit, empty results, the summary, cancellation, time limits, malformed requests and
 * allocation failures at every step (no leak, no crash) are checked. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "io/ipc/ipc.h"
#include "server/catalog.h"
#include "core/core.h"
#include "server/transport.h"
#include "srv_test_util.h"

typedef struct exec_out {
    pl_table *table;  /* the decoded IPC stream */
    int64_t summary_rows, summary_batches, summary_bytes;
    int n_msgs;
    size_t max_len;
    int n_ipc;
    int64_t ipc_bytes;
} exec_out;

static uint8_t *pack_exec(Polaroid__V1__Relation *root, const Polaroid__V1__ExecuteOptions *o,
                          size_t *n) {
    Polaroid__V1__Plan p = POLAROID__V1__PLAN__INIT;
    p.root = root;
    Polaroid__V1__ExecuteRequest r = POLAROID__V1__EXECUTE_REQUEST__INIT;
    r.plan = &p;
    r.options = (Polaroid__V1__ExecuteOptions *)o;
    *n = polaroid__v1__execute_request__get_packed_size(&r);
    uint8_t *b = pl_malloc(*n + 1);
    polaroid__v1__execute_request__pack(&r, b);
    return b;
}

/* Runs a request through start/next (the copying API) and decodes it. */
static pl_status run_exec(pl_srv_call *c, const uint8_t *req, size_t n, exec_out *out,
                          pl_error *err) {
    memset(out, 0, sizeof *out);
    out->summary_rows = -1;
    pl_srv_exec *x = NULL;
    PL_TRY(pl_srv_execute_start(c, req, n, &x, err));
    pl_buf *ipc;
    pl_status st = pl_buf_new(1 << 12, &ipc, err);
    if (st) {
        pl_srv_execute_free(x);
        return st;
    }
    for (;;) {
        uint8_t *m = NULL;
        size_t len = 0;
        bool done = false;
        st = pl_srv_execute_next(x, &m, &len, &done, err);
        if (st || done) break;
        out->n_msgs++;
        if (len > out->max_len) out->max_len = len;
        Polaroid__V1__ExecuteResponse *r = polaroid__v1__execute_response__unpack(NULL, len, m);
        assert_non_null(r);
        if (r->payload_case == POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_ARROW_IPC) {
            assert_int_equal(out->summary_rows, -1);
            out->n_ipc++;
            out->ipc_bytes += (int64_t)r->arrow_ipc.len;
            st = pl_buf_append(ipc, r->arrow_ipc.data, (int64_t)r->arrow_ipc.len, err);
        } else {
            assert_int_equal(r->payload_case, POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SUMMARY);
            out->summary_rows = r->summary->rows;
            out->summary_batches = r->summary->batches;
            out->summary_bytes = r->summary->bytes;
            assert_string_equal(r->summary->request_id, "test");
        }
        polaroid__v1__execute_response__free_unpacked(r, NULL);
        pl_free(m);
        if (st) break;
    }
    pl_srv_execute_free(x);
    if (!st) {
        pl_stream *s = NULL;
        st = pl_ipc_scan_buffer(ipc, "result", NULL, &s, err);
        if (!st) st = pl_stream_collect(s, &out->table, err);
        if (s) pl_stream_free(s);
    }
    pl_buf_release(ipc);
    return st;
}

/* t with its dictionary columns decoded (an independent path: whole columns at once). */
static pl_table *decoded(pl_table *t) {
    pl_batch *b = NULL;
    ok(pl_table_combine(t, &b, E));
    pl_field *f = calloc((size_t)b->n_cols, sizeof *f);
    pl_array **cols = calloc((size_t)b->n_cols, sizeof *cols);
    for (int32_t k = 0; k < b->n_cols; k++) {
        f[k] = b->schema->fields[k];
        if (f[k].type->id == PL_TYPE_DICTIONARY) f[k].type = f[k].type->value_type;
        ok(pl_array_decode_dictionary(b->columns[k], &cols[k], E));
    }
    pl_schema *s = NULL;
    ok(pl_schema_new(b->n_cols, f, &s, E));
    pl_batch *nb = NULL;
    ok(pl_batch_new(pl_schema_retain(s), b->n_rows, cols, &nb, E));
    pl_table *out = NULL;
    ok(pl_table_new(s, &out, E));
    ok(pl_table_append(out, nb, E));
    pl_batch_release(nb);
    pl_batch_release(b);
    pl_schema_release(s);
    free(f);
    free(cols);
    return out;
}

static void test_stream_sliced_under_limit(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    pl_table *ref = NULL, *ref_plain = NULL;
    ok(collect_rel(&c, rel_read("parts/*.parquet"), &ref));
    assert_int_equal(ref->schema->fields[1].type->id, PL_TYPE_DICTIONARY);
    ref_plain = decoded(ref);
    int64_t limits[] = {0, 4096, 1, -5, 1LL << 40};
    for (size_t k = 0; k < 2 * PL_ARRAY_LEN(limits); k++) {
        Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
        o.max_message_bytes = limits[k % PL_ARRAY_LEN(limits)];
        o.keep_dictionaries = k >= PL_ARRAY_LEN(limits);
        Polaroid__V1__Relation *root = rel_read("parts/*.parquet");
        size_t n;
        uint8_t *req = pack_exec(root, &o, &n);
        tree_free(&root->base);
        exec_out out;
        ok(run_exec(&c, req, n, &out, E));
        pl_free(req);
        assert_tables_equal(out.table, o.keep_dictionaries ? ref : ref_plain);
        assert_int_equal(out.summary_rows, 200);
        assert_int_equal(out.summary_bytes, out.ipc_bytes);
        assert_int_equal(out.summary_batches, out.n_ipc);
        if (o.max_message_bytes == 4096 || o.max_message_bytes == 1) { /* 4 KiB is the smallest limit honoured */
            assert_true(out.max_len <= 4096);
            assert_true(out.n_ipc > 2);
        }
        pl_table_release(out.table);
    }
    pl_table_release(ref);
    pl_table_release(ref_plain);
    pl_srv_free(s);
}

static void test_empty_result(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    Polaroid__V1__Relation *root =
        rel_filter(rel_read("trades.parquet"), ex_call("lt", 2, ex_col("id"), ex_i64(-1)));
    size_t n;
    uint8_t *req = pack_exec(root, NULL, &n);
    tree_free(&root->base);
    exec_out out;
    ok(run_exec(&c, req, n, &out, E));
    pl_free(req);
    assert_int_equal(out.n_msgs, 2); /* the schema alone, then the summary */
    assert_int_equal(out.n_ipc, 1);
    assert_int_equal(out.table->n_rows, 0);
    assert_int_equal(out.table->schema->n_fields, 4);
    assert_string_equal(out.table->schema->fields[1].name, "sym");
    assert_int_equal(out.summary_rows, 0);
    pl_table_release(out.table);
    pl_srv_free(s);
}

static void test_bad_requests(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    pl_srv_exec *x = NULL;
    uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0x7f, 0x01};
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_start(&c, junk, sizeof junk, &x, E), PL_ERR_INVALID_ARG);
    assert_null(x);
    /* no plan */
    Polaroid__V1__ExecuteRequest r = POLAROID__V1__EXECUTE_REQUEST__INIT;
    uint8_t buf[16];
    size_t n = polaroid__v1__execute_request__pack(&r, buf);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_start(&c, buf, n, &x, E), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "plan"));
    /* a missing file: NOT_FOUND at start, before any message */
    Polaroid__V1__Relation *root = rel_read("nope.parquet");
    uint8_t *req = pack_exec(root, NULL, &n);
    tree_free(&root->base);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_start(&c, req, n, &x, E), PL_ERR_NOT_FOUND);
    pl_free(req);
    pl_srv_free(s);
}

static void test_cancel_and_time_limit(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    int cancel = 0;
    c.cancel = &cancel;
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.max_message_bytes = 4096;
    Polaroid__V1__Relation *root = rel_read("parts/*.parquet");
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    pl_srv_exec *x = NULL;
    ok(pl_srv_execute_start(&c, req, n, &x, E));
    pl_srv_msg m;
    bool done;
    ok(pl_srv_execute_next_msg(x, &m, &done, E));
    assert_false(done);
    pl_srv_msg_free(m.base);
    __atomic_store_n(&cancel, 1, __ATOMIC_RELEASE);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_next_msg(x, &m, &done, E), PL_ERR_CANCELLED);
    assert_non_null(strstr(g_err.msg, "cancelled by the client"));
    pl_srv_execute_free(x);
    pl_free(req);

    /* a 1 ms time limit, checked between messages */
    cancel = 0;
    o.timeout_ms = 1;
    req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    ok(pl_srv_execute_start(&c, req, n, &x, E));
    usleep(5000);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_next_msg(x, &m, &done, E), PL_ERR_CANCELLED);
    assert_non_null(strstr(g_err.msg, "time limit of 1 ms"));
    assert_true(pl_srv_execute_deadline(x) > 0);
    pl_srv_execute_free(x);
    pl_free(req);
    pl_srv_free(s);
}

/* Every allocation of a whole Execute fails in turn: an error or success, never a leak. */
/* Runs the request to its end with the k-th allocation failing (pl_alloc_fail_after), then
 * frees the execution: the allocation-failure sweeps' step. */
static pl_status exec_failing_at(pl_srv_call *c, const uint8_t *req, size_t n, int64_t k,
                                 pl_error *err) {
    pl_srv_exec *x = NULL;
    pl_alloc_fail_after(k);
    pl_status st = pl_srv_execute_start(c, req, n, &x, err);
    while (!st) {
        uint8_t *m = NULL;
        size_t len = 0;
        bool done = false;
        st = pl_srv_execute_next(x, &m, &len, &done, err);
        pl_free(m);
        if (done) break;
    }
    pl_alloc_fail_after(-1);
    pl_srv_execute_free(x);
    return st;
}

static void test_allocation_failures(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.max_message_bytes = 4096;
    Polaroid__V1__Relation *root = rel_read("trades.parquet");
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    int n_ok = 0;
    for (int64_t k = 0; k < 400; k++) {
        pl_error err;
        pl_error_init(&err);
        pl_status st = exec_failing_at(&c, req, n, k, &err);
        n_ok += st == PL_OK;
        if (st) assert_true(err.msg[0] != 0);
    }
    assert_true(n_ok > 0); /* late failure points are past the last allocation */
    pl_free(req);
    pl_srv_free(s);
}

/* ---------------------------------------------------------------- queries on the network thread
 *
 * pl_srv_execute_start_inline: which plans it takes (live tables, few rows after pruning), and
 * that a query it starts yields the very same messages as pl_srv_execute_start's, honours the
 * cancel flag, deadlines, time and memory limits, and hands over to a runner for file I/O and
 * results past its budget. */

static Polaroid__V1__Relation *rel_table(const char *name) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__TableRef *t = calloc(1, sizeof *t);
    polaroid__v1__table_ref__init(t);
    t->name = strdup(name);
    r->rel_case = POLAROID__V1__RELATION__REL_TABLE;
    r->table = t;
    return r;
}

static Polaroid__V1__Relation *rel_sort(Polaroid__V1__Relation *in, const char *col, bool desc) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__Sort *so = calloc(1, sizeof *so);
    polaroid__v1__sort__init(so);
    so->input = in;
    so->n_keys = 1;
    so->keys = calloc(1, sizeof *so->keys);
    so->keys[0] = calloc(1, sizeof *so->keys[0]);
    polaroid__v1__sort_key__init(so->keys[0]);
    so->keys[0]->expr = ex_col(col);
    so->keys[0]->descending = desc;
    r->rel_case = POLAROID__V1__RELATION__REL_SORT;
    r->sort = so;
    return r;
}

/* The messages of a query (copying API), concatenated: packed ExecuteResponses, the summary
 * left out (it holds the elapsed time). */
typedef struct msgs {
    pl_buf *bytes;
    int n;
    int handoffs;
} msgs;

static pl_status pull_all(pl_srv_exec *x, msgs *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    PL_TRY(pl_buf_new(1 << 12, &out->bytes, err));
    for (;;) {
        pl_srv_msg m;
        bool done = false;
        PL_TRY(pl_srv_execute_next_msg(x, &m, &done, err));
        if (done) break;
        if (!m.base) { /* the network thread's share is used up */
            out->handoffs++;
            pl_srv_execute_to_runner(x);
            continue;
        }
        if (!pl_srv_execute_finished(x)) {
            out->n++;
            pl_status st = pl_buf_append(out->bytes, m.data, (int64_t)m.len, err);
            if (st) {
                pl_srv_msg_free(m.base);
                return st;
            }
        }
        pl_srv_msg_free(m.base);
    }
    return PL_OK;
}

static void msgs_free(msgs *m) {
    if (m->bytes) pl_buf_release(m->bytes);
    m->bytes = NULL;
}

static void assert_same_msgs(const msgs *a, const msgs *b) {
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->bytes->size, b->bytes->size);
    assert_memory_equal(a->bytes->data, b->bytes->data, (size_t)a->bytes->size);
}

/* The runner's way: pl_srv_execute_start. */
static void run_runner(pl_srv_call *c, const uint8_t *req, size_t n, msgs *out) {
    pl_srv_exec *x = NULL;
    ok(pl_srv_execute_start(c, req, n, &x, E));
    ok(pull_all(x, out, E));
    assert_int_equal(out->handoffs, 0);
    pl_srv_execute_free(x);
}

static pl_srv *srv_with_big_table(void) {
    pl_srv *s = new_srv();
    pl_table *rows = make_trades(50000); /* id sorted: 16384-row chunks with min/max */
    ok(pl_catalog_table_create(pl_srv_catalog(s), "big", rows->schema, rows, false, true, NULL, E));
    pl_table_release(rows);
    return s;
}

static void test_inline_which_plans(void **state) {
    (void)state;
    pl_srv *s = srv_with_big_table();
    pl_srv_call c = make_call(s, "");
    struct {
        Polaroid__V1__Relation *rel;
        int64_t max_rows;
        int expect; /* 1 inline, 0 planned for a runner, -1 left to a runner */
    } cases[] = {
        {rel_filter(rel_table("big"), ex_call("eq", 2, ex_col("id"), ex_i64(20000))), 16384, 1},
        {rel_filter(rel_table("big"), ex_sql("id = 20000")), 16384, 1},
        {rel_filter(rel_table("big"), ex_sql("id = -5")), 1, 1}, /* every chunk pruned */
        /* the chunk (16384 rows) is over the budget, but it is sorted on id: the catalog cuts
         * it to the matching row by binary search, so the query is inline after all */
        {rel_filter(rel_table("big"), ex_sql("id = 20000")), 16383, 1},
        /* a predicate the binary search cannot cut (OR): the whole table, planned */
        {rel_filter(rel_table("big"), ex_sql("id = 20000 OR id = 20001")), 16384, 0},
        {rel_filter(rel_table("big"), ex_sql("id > 5")), 16384, 0},
        {rel_select(rel_filter(rel_table("big"), ex_sql("id < 100")), 1, named(ex_col("price"), "p")), 16384, 1},
        {rel_sort(rel_filter(rel_table("big"), ex_sql("id BETWEEN 10 AND 20")), "price", true), 16384, 1},
        {rel_filter(rel_select(rel_table("big"), 1, named(ex_col("id"), "id")), ex_sql("id = 7")), 16384, 0},
        {rel_filter(rel_table("big"), ex_sql("id = 20000")), 0, -1},
        {rel_filter(rel_read("trades.parquet"), ex_sql("id = 3")), 1 << 30, -1},
        {rel_sql("SELECT * FROM big WHERE id = 3"), 1 << 30, -1},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(cases); i++) {
        size_t n;
        uint8_t *req = pack_exec(cases[i].rel, NULL, &n);
        tree_free(&cases[i].rel->base);
        pl_srv_exec *x = NULL;
        bool inl = true;
        ok(pl_srv_execute_start_inline(&c, req, n, cases[i].max_rows, &x, &inl, E));
        if (cases[i].expect != (inl ? 1 : x ? 0 : -1)) fail_msg("case %zu: inline %d planned %d", i, inl, x != NULL);
        msgs a, b;
        if (x) { /* whichever way, the messages equal the runner's */
            ok(pull_all(x, &a, E));
            assert_int_equal(a.handoffs, 0);
            run_runner(&c, req, n, &b);
            assert_same_msgs(&a, &b);
            msgs_free(&a);
            msgs_free(&b);
            pl_srv_execute_free(x);
        }
        pl_free(req);
    }
    /* a wide table: one chunk of 40 columns is too many cells for the network thread */
    for (int w = 0; w < 2; w++) {
        char q[4096];
        int k = snprintf(q, sizeof q, "SELECT *");
        int extra = w ? 36 : 20; /* 4 + 36 = 40 columns, 4 + 20 = 24 */
        for (int i = 0; i < extra; i++) k += snprintf(q + k, sizeof q - (size_t)k, ", price * %d AS c%d", i, i);
        snprintf(q + k, sizeof q - (size_t)k, " FROM big");
        Polaroid__V1__CreateTableRequest ct = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
        ct.name = w ? "wide40" : "wide24";
        Polaroid__V1__Plan *pl = calloc(1, sizeof *pl);
        polaroid__v1__plan__init(pl);
        pl->root = rel_sql(q);
        ct.as_plan = pl;
        uint8_t *resp = NULL;
        size_t rn = 0;
        ok(call_method(&c, PL_SRV_CREATE_TABLE, &ct.base, &resp, &rn));
        pl_free(resp);
        tree_free(&pl->base);
        /* one whole chunk (binary search on the sorted id keeps rows 0..16383) */
        Polaroid__V1__Relation *pt = rel_filter(rel_table(ct.name), ex_sql("id < 16384"));
        size_t n;
        uint8_t *req = pack_exec(pt, NULL, &n);
        tree_free(&pt->base);
        pl_srv_exec *x = NULL;
        bool inl = true;
        ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
        assert_true(x != NULL);
        assert_int_equal(inl, w == 0);
        msgs a, b;
        ok(pull_all(x, &a, E));
        run_runner(&c, req, n, &b);
        assert_same_msgs(&a, &b);
        assert_true(a.n >= 1); /* 16384 rows: several messages */
        msgs_free(&a);
        msgs_free(&b);
        pl_srv_execute_free(x);
        pl_free(req);
    }
    /* a request over 4 KiB is never inspected on the network thread */
    char lit[6000];
    memset(lit, 'x', sizeof lit - 1);
    lit[sizeof lit - 1] = 0;
    Polaroid__V1__Relation *big = rel_filter(rel_table("big"), ex_call("eq", 2, ex_col("sym"), ex_str(lit)));
    size_t n;
    uint8_t *req = pack_exec(big, NULL, &n);
    tree_free(&big->base);
    pl_srv_exec *x = NULL;
    bool inl = true;
    ok(pl_srv_execute_start_inline(&c, req, n, 1 << 30, &x, &inl, E));
    assert_false(inl);
    assert_null(x);
    pl_free(req);
    /* errors are the request's, the same as on a runner */
    Polaroid__V1__Relation *bad[2] = {rel_filter(rel_table("nope"), ex_sql("id = 1")),
                                      rel_filter(rel_table("big"), ex_sql("nosuch = 1"))};
    pl_status want[2] = {PL_ERR_NOT_FOUND, PL_ERR_INVALID_ARG};
    for (int i = 0; i < 2; i++) {
        req = pack_exec(bad[i], NULL, &n);
        tree_free(&bad[i]->base);
        pl_error_init(E);
        assert_int_equal(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E), want[i]);
        char m1[512];
        snprintf(m1, sizeof m1, "%s", g_err.msg);
        pl_error_init(E);
        assert_int_equal(pl_srv_execute_start(&c, req, n, &x, E), want[i]);
        assert_string_equal(m1, g_err.msg);
        pl_free(req);
    }
    /* malformed bytes */
    uint8_t junk[8] = {0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_start_inline(&c, junk, sizeof junk, 16384, &x, &inl, E), PL_ERR_INVALID_ARG);
    pl_srv_free(s);
}

static void test_inline_limits(void **state) {
    (void)state;
    pl_srv *s = srv_with_big_table();
    pl_srv_call c = make_call(s, "");
    int cancel = 0;
    c.cancel = &cancel;
    Polaroid__V1__Relation *root = rel_sort(rel_filter(rel_table("big"), ex_sql("id < 16000")), "price", true);
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    pl_srv_exec *x = NULL;
    bool inl = false;
    pl_srv_msg m;
    bool done;
    /* the client cancelled (flag set) */
    cancel = 1;
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_next_msg(x, &m, &done, E), PL_ERR_CANCELLED);
    assert_non_null(strstr(g_err.msg, "cancelled by the client"));
    pl_srv_execute_free(x);
    cancel = 0;
    /* the call's deadline has passed */
    c.deadline_ns = pl_now_ns() - 1000;
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_next_msg(x, &m, &done, E), PL_ERR_CANCELLED);
    assert_non_null(strstr(g_err.msg, "deadline"));
    pl_srv_execute_free(x);
    c.deadline_ns = 0;
    pl_free(req);
    /* a 1 ms query time limit */
    o.timeout_ms = 1;
    req = pack_exec(root, &o, &n);
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    usleep(3000);
    pl_error_init(E);
    assert_int_equal(pl_srv_execute_next_msg(x, &m, &done, E), PL_ERR_CANCELLED);
    assert_non_null(strstr(g_err.msg, "time limit of 1 ms"));
    pl_srv_execute_free(x);
    pl_free(req);
    /* a memory limit the sort cannot keep: the same error as on a runner */
    o.timeout_ms = 0;
    o.memory_limit_bytes = 1024;
    req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    pl_error_init(E);
    pl_status st = PL_OK;
    while (!st) {
        st = pl_srv_execute_next_msg(x, &m, &done, E);
        if (st || done) break;
        pl_srv_msg_free(m.base);
    }
    assert_int_equal(st, PL_ERR_NOMEM);
    assert_non_null(strstr(g_err.msg, "memory limit"));
    pl_srv_execute_free(x);
    pl_srv_exec *y = NULL;
    ok(pl_srv_execute_start(&c, req, n, &y, E));
    pl_error_init(E);
    st = PL_OK;
    while (!st) {
        st = pl_srv_execute_next_msg(y, &m, &done, E);
        if (st || done) break;
        pl_srv_msg_free(m.base);
    }
    assert_int_equal(st, PL_ERR_NOMEM);
    pl_srv_execute_free(y);
    pl_free(req);
    pl_srv_free(s);
}

/* A result past the inline budget goes on on a runner; a same-host file is a runner's job. */
static void test_inline_handoffs(void **state) {
    (void)state;
    pl_srv *s = srv_with_big_table();
    pl_srv_call c = make_call(s, "");
    Polaroid__V1__Relation *root = rel_filter(rel_table("big"), ex_sql("id < 16384")); /* 1 chunk */
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.max_message_bytes = 4096;
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    pl_srv_exec *x = NULL;
    bool inl = false;
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    msgs a, b;
    ok(pull_all(x, &a, E));
    assert_int_equal(a.handoffs, 1); /* ~600 KB of messages: handed over after 256 KiB */
    assert_true(a.n > 100);
    run_runner(&c, req, n, &b);
    assert_same_msgs(&a, &b);
    msgs_free(&a);
    pl_srv_execute_free(x);
    pl_free(req);
    /* with the copying API the hand-over is invisible */
    req = pack_exec(root, &o, &n);
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    int64_t total = 0;
    for (;;) {
        uint8_t *mb = NULL;
        size_t len = 0;
        bool fin = false;
        ok(pl_srv_execute_next(x, &mb, &len, &fin, E));
        if (fin) break;
        assert_true(len > 0);
        total += (int64_t)len;
        pl_free(mb);
    }
    assert_true(total > (int64_t)b.bytes->size);
    pl_srv_execute_free(x);
    pl_free(req);
    msgs_free(&b);
    exec_out eo;

    /* allow_shared_memory, shm_min 0: the file is written after the hand-over */
    Polaroid__V1__ExecuteOptions so = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    so.allow_shared_memory = true;
    req = pack_exec(root, &so, &n);
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    pl_srv_msg m;
    bool done = false;
    ok(pl_srv_execute_next_msg(x, &m, &done, E));
    assert_false(done);
    assert_null(m.base); /* no file I/O on the network thread */
    pl_srv_execute_to_runner(x);
    ok(pl_srv_execute_next_msg(x, &m, &done, E));
    Polaroid__V1__ExecuteResponse *r = polaroid__v1__execute_response__unpack(NULL, m.len, m.data);
    assert_non_null(r);
    assert_int_equal(r->payload_case, POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SHARED_MEMORY);
    const char *paths[1] = {r->shared_memory->path};
    pl_table *got = NULL, *want = NULL;
    ok(pl_read_table(1, paths, PL_FORMAT_IPC, NULL, &got, E));
    ok(pl_srv_shm_release(s, "", r->shared_memory->lease_id) ? PL_OK : PL_ERR_NOT_FOUND);
    polaroid__v1__execute_response__free_unpacked(r, NULL);
    pl_srv_msg_free(m.base);
    pl_srv_execute_free(x);
    pl_free(req);
    req = pack_exec(root, NULL, &n);
    ok(run_exec(&c, req, n, &eo, E));
    want = eo.table;
    assert_int_equal(want->n_rows, 16384);
    assert_tables_equal(got, want);
    pl_table_release(got);
    pl_table_release(want);
    pl_free(req);
    /* a small result with a large shm_min comes as messages, all on the network thread */
    so.shared_memory_min_bytes = 8 << 20;
    Polaroid__V1__Relation *pt = rel_filter(rel_table("big"), ex_sql("id = 5"));
    req = pack_exec(pt, &so, &n);
    tree_free(&pt->base);
    ok(pl_srv_execute_start_inline(&c, req, n, 16384, &x, &inl, E));
    assert_true(inl);
    ok(pull_all(x, &a, E));
    assert_int_equal(a.handoffs, 0);
    assert_int_equal(a.n, 1);
    msgs_free(&a);
    pl_srv_execute_free(x);
    pl_free(req);
    tree_free(&root->base);
    pl_srv_free(s);
}


/* ---------------------------------------------------------------- same-host result files */

typedef struct shm_out {
    pl_table *table;   /* the files' record batches in the order of the runs */
    int n_files;       /* files listed (0: the single-file answer, path only) */
    int64_t rows, batches; /* of the summary */
    char paths[16][128];
    char lease[48];
} shm_out;

/* set by the reuse test: files may be pooled ones (another name, longer than the stream) */
static bool g_shm_reused_ok;

/* The first size bytes of path (a reused file is longer than its stream) read as a table. */
static void read_stream_prefix(const char *path, int64_t size, pl_table **out) {
    char tmp[] = "/tmp/pl-test-shm-XXXXXX";
    int out_fd = mkstemp(tmp);
    assert_true(out_fd >= 0);
    int in_fd = open(path, O_RDONLY);
    assert_true(in_fd >= 0);
    uint8_t *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(pread(in_fd, buf, (size_t)size, 0), size);
    assert_int_equal(write(out_fd, buf, (size_t)size), size);
    free(buf);
    close(in_fd);
    close(out_fd);
    const char *p = tmp;
    ok(pl_read_table(1, &p, PL_FORMAT_IPC, NULL, out, E));
    unlink(tmp);
}

/* Runs a request asking for a same-host answer through start/next, checks the answer (files of
 * mode 0600 and the listed sizes; runs covering every record batch of every file once, in each
 * file's order) and assembles the table from the runs. The lease is left to the caller. */
static pl_status run_shm(pl_srv_call *c, const uint8_t *req, size_t n, shm_out *out,
                         pl_error *err) {
    memset(out, 0, sizeof *out);
    pl_srv_exec *x = NULL;
    PL_TRY(pl_srv_execute_start(c, req, n, &x, err));
    Polaroid__V1__SharedMemoryResult *res = NULL;
    Polaroid__V1__ExecuteResponse *r = NULL;
    pl_status st = PL_OK;
    for (;;) {
        uint8_t *m = NULL;
        size_t len = 0;
        bool done = false;
        st = pl_srv_execute_next(x, &m, &len, &done, err);
        if (st || done) break;
        Polaroid__V1__ExecuteResponse *u = polaroid__v1__execute_response__unpack(NULL, len, m);
        pl_free(m);
        assert_non_null(u);
        if (u->payload_case == POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SHARED_MEMORY) {
            assert_null(res);
            r = u;
            res = u->shared_memory;
            continue;
        }
        assert_int_equal(u->payload_case, POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SUMMARY);
        assert_non_null(res);
        out->rows = u->summary->rows;
        out->batches = u->summary->batches;
        polaroid__v1__execute_response__free_unpacked(u, NULL);
    }
    pl_srv_execute_free(x);
    if (st) {
        assert_null(res);
        return st;
    }
    assert_non_null(res);
    snprintf(out->lease, sizeof out->lease, "%s", res->lease_id);
    out->n_files = (int)res->n_files;
    int nf = res->n_files ? (int)res->n_files : 1;
    assert_true(nf <= 16);
    pl_table *files[16] = {0};
    int64_t used[16] = {0};
    for (int k = 0; k < nf; k++) {
        const char *path = res->n_files ? res->files[k]->path : res->path;
        int64_t size = res->n_files ? res->files[k]->size : res->size;
        snprintf(out->paths[k], sizeof out->paths[k], "%s", path);
        char want[128]; /* /dev/shm/polaroid-<lease id>[-<k>].arrows */
        if (k == 0) snprintf(want, sizeof want, "/dev/shm/polaroid-%s.arrows", res->lease_id);
        else snprintf(want, sizeof want, "/dev/shm/polaroid-%s-%d.arrows", res->lease_id, k);
        if (!g_shm_reused_ok) assert_string_equal(path, want);
        snprintf(want, sizeof want, "%d-", (int)getpid());
        assert_true(strncmp(res->lease_id, want, strlen(want)) == 0);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        if (g_shm_reused_ok) {
            assert_true(sb.st_size >= size);
            read_stream_prefix(path, size, &files[k]);
            continue;
        }
        assert_int_equal(sb.st_size, size);
        ok(pl_read_table(1, &path, PL_FORMAT_IPC, NULL, &files[k], E));
    }
    if (res->n_files == 1) { /* one file: listed both ways */
        assert_string_equal(res->path, res->files[0]->path);
        assert_int_equal(res->size, res->files[0]->size);
    }
    if (res->n_files > 1) assert_true(res->path[0] == 0);
    ok(pl_table_new(files[0]->schema, &out->table, E));
    bool *seen[16] = {0};
    for (int k = 0; k < nf; k++) assert_non_null(seen[k] = calloc((size_t)files[k]->n_batches + 1, 1));
    if (!res->n_files) {
        assert_int_equal(res->n_run_file, 0);
        for (int64_t i = 0; i < files[0]->n_batches; i++)
            ok(pl_table_append(out->table, files[0]->batches[i], E));
        used[0] = files[0]->n_batches;
    }
    assert_int_equal(res->n_run_file, res->n_run_first);
    assert_int_equal(res->n_run_file, res->n_run_batches);
    for (size_t i = 0; i < res->n_run_file; i++) {
        uint32_t k = res->run_file[i];
        assert_true(k < res->n_files);
        assert_true(res->run_batches[i] > 0 && res->run_first[i] >= 0);
        assert_true(res->run_first[i] + res->run_batches[i] <= files[k]->n_batches);
        for (int64_t j = 0; j < res->run_batches[i]; j++) {
            assert_false(seen[k][res->run_first[i] + j]); /* no batch twice */
            seen[k][res->run_first[i] + j] = true;
            ok(pl_table_append(out->table, files[k]->batches[res->run_first[i] + j], E));
        }
        used[k] += res->run_batches[i];
    }
    for (int k = 0; k < nf; k++) {
        assert_int_equal(used[k], files[k]->n_batches); /* every batch of every file */
        pl_table_release(files[k]);
        free(seen[k]);
    }
    assert_int_equal(out->rows, out->table->n_rows);
    assert_int_equal(out->batches, out->table->n_batches);
    polaroid__v1__execute_response__free_unpacked(r, NULL);
    return PL_OK;
}

/* Files of this process's same-host results in /dev/shm. */
static int shm_files_of_mine(void) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "polaroid-%d-", (int)getpid());
    DIR *d = opendir("/dev/shm");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

static void shm_release(pl_srv *s, shm_out *o) {
    assert_true(pl_srv_shm_release(s, "", o->lease));
    for (int k = 0; k < (o->n_files ? o->n_files : 1); k++) assert_int_equal(access(o->paths[k], F_OK), -1);
    pl_table_release(o->table);
    o->table = NULL;
}

/* A result written into several files at once equals the streamed one, in every shape: many
 * small segments, batches sliced across segments, one file only, one file for older clients,
 * dictionaries kept per file, an empty result. */
static void test_shm_files(void **state) {
    (void)state;
    pl_srv *s = srv_with_big_table();
    pl_srv_call c = make_call(s, "");
    pl_table *want = NULL;
    ok(collect_rel(&c, rel_table("big"), &want));
    int before = shm_files_of_mine();
    int64_t base = pl_srv_memory_in_use(s);
    int64_t seg[] = {1, 3000, 50000, 0};
    int max_files_seen = 0;
    for (size_t i = 0; i < PL_ARRAY_LEN(seg); i++) {
        for (int attempt = 0; attempt < 20; attempt++) { /* the pool's helper may be late */
            pl_srv_shm_set_segment_bytes_for_testing(seg[i]);
            Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
            o.allow_shared_memory = true;
            o.shared_memory_max_files = 4;
            o.max_message_bytes = 4096; /* held messages slice the first batch */
            o.shared_memory_min_bytes = 10000;
            Polaroid__V1__Relation *root = rel_table("big");
            size_t n;
            uint8_t *req = pack_exec(root, &o, &n);
            tree_free(&root->base);
            shm_out out;
            ok(run_shm(&c, req, n, &out, E));
            pl_free(req);
            assert_true(out.n_files >= 1 && out.n_files <= PL_MIN(4, pl_pool_threads()));
            if (seg[i] == 0) assert_int_equal(out.n_files, 1); /* ~2 MB: one 4 MiB segment */
            assert_tables_equal(out.table, want);
            int64_t sizes = 0, smallest = INT64_MAX, largest = 0;
            for (int k = 0; k < out.n_files; k++) {
                struct stat sb;
                assert_int_equal(stat(out.paths[k], &sb), 0);
                sizes += sb.st_size;
                smallest = PL_MIN(smallest, (int64_t)sb.st_size);
                largest = PL_MAX(largest, (int64_t)sb.st_size);
            }
            /* each segment goes to the file with the fewest bytes: the files' sizes differ by
             * about one segment (plus metadata), whichever worker wrote which file */
            if (seg[i] == 50000 && out.n_files > 1) assert_true(largest - smallest <= 2 * 50000 + 16384);
            assert_int_equal(pl_srv_shm_bytes(s), sizes); /* charged: every file's bytes */
            assert_int_equal(pl_srv_memory_in_use(s) - base, sizes);
            shm_release(s, &out);
            if (out.n_files > max_files_seen) max_files_seen = out.n_files;
            if (seg[i] != 1 || out.n_files > 1 || pl_pool_threads() < 2) break;
        }
    }
    if (pl_pool_threads() >= 2) assert_true(max_files_seen >= 2);
    /* an older client (no shared_memory_max_files): one file, path only */
    pl_srv_shm_set_segment_bytes_for_testing(1);
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.allow_shared_memory = true;
    Polaroid__V1__Relation *root = rel_table("big");
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    shm_out out;
    ok(run_shm(&c, req, n, &out, E));
    pl_free(req);
    assert_int_equal(out.n_files, 0);
    assert_tables_equal(out.table, want);
    shm_release(s, &out);
    pl_table_release(want);
    /* an empty result (shm_min 0): the schema alone, in one file */
    o.shared_memory_max_files = 4;
    root = rel_filter(rel_table("big"), ex_sql("id < 0"));
    req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    ok(run_shm(&c, req, n, &out, E));
    pl_free(req);
    assert_int_equal(out.n_files, 1);
    assert_int_equal(out.table->n_rows, 0);
    assert_int_equal(out.table->schema->n_fields, 4);
    shm_release(s, &out);
    /* dictionaries kept: each file carries its own */
    pl_table *ref = NULL;
    ok(collect_rel(&c, rel_read("parts/*.parquet"), &ref));
    assert_int_equal(ref->schema->fields[1].type->id, PL_TYPE_DICTIONARY);
    for (int attempt = 0; attempt < 20; attempt++) {
        o.keep_dictionaries = true;
        o.max_message_bytes = 0;
        o.shared_memory_min_bytes = 0;
        root = rel_read("parts/*.parquet");
        req = pack_exec(root, &o, &n);
        tree_free(&root->base);
        ok(run_shm(&c, req, n, &out, E));
        pl_free(req);
        assert_tables_equal(out.table, ref);
        assert_int_equal(out.table->schema->fields[1].type->id, PL_TYPE_DICTIONARY);
        shm_release(s, &out);
        if (out.n_files > 1 || pl_pool_threads() < 2) break;
    }
    pl_table_release(ref);
    assert_int_equal(pl_srv_shm_bytes(s), 0);
    assert_int_equal(shm_files_of_mine(), before);
    pl_srv_shm_set_segment_bytes_for_testing(0);
    pl_srv_free(s);
}

/* Maps (or unmaps) every file of o, as a client holding its table does. */
static void map_files(shm_out *o, void **maps, size_t *lens, bool on) {
    for (int k = 0; k < (o->n_files ? o->n_files : 1); k++) {
        if (!on) {
            assert_int_equal(munmap(maps[k], lens[k]), 0);
            continue;
        }
        int fd = open(o->paths[k], O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_SH | LOCK_NB), 0); /* as the clients do */
        struct stat sb;
        assert_int_equal(fstat(fd, &sb), 0);
        lens[k] = (size_t)sb.st_size;
        maps[k] = mmap(NULL, lens[k], PROT_READ, MAP_SHARED, fd, 0);
        assert_true(maps[k] != MAP_FAILED);
        close(fd);
    }
}

static int64_t files_size(const shm_out *o) {
    int64_t n = 0;
    for (int k = 0; k < (o->n_files ? o->n_files : 1); k++) {
        struct stat sb;
        assert_int_equal(stat(o->paths[k], &sb), 0);
        n += sb.st_size;
    }
    return n;
}

static bool all_exist(const shm_out *o, bool exist) {
    for (int k = 0; k < (o->n_files ? o->n_files : 1); k++)
        if ((access(o->paths[k], F_OK) == 0) != exist) return false;
    return true;
}

/* A server with a pool of same-host result files (opted in: 1 GiB) and a 50000-row table
 * "big" (*want: its rows as collected); the SIGBUS guard's handler put back over cmocka's. */
static pl_srv *shm_pool_server(pl_table **want) {
    pl_file_map_test(PL_FMAP_TEST_NONE);
    pl_srv_config cfg;
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.shm_pool_bytes = 1LL << 30;
    pl_srv *s = NULL;
    ok(pl_srv_new(&cfg, &s, E));
    pl_table *rows = make_trades(50000);
    ok(pl_catalog_table_create(pl_srv_catalog(s), "big", rows->schema, rows, false, true, NULL, E));
    pl_table_release(rows);
    pl_srv_call c = make_call(s, "");
    ok(collect_rel(&c, rel_table("big"), want));
    return s;
}

/* An Execute request for table "big" asking for a same-host answer in at most max_files files
 * (0: the field left out, as older clients send it). */
static uint8_t *shm_request(int32_t max_files, size_t *n) {
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.allow_shared_memory = true;
    o.shared_memory_max_files = max_files;
    Polaroid__V1__Relation *root = rel_table("big");
    uint8_t *req = pack_exec(root, &o, n);
    tree_free(&root->base);
    return req;
}

static int g_truncated;
static void truncate_file(const char *path) {
    assert_int_equal(truncate(path, 0), 0);
    g_truncated++;
}

/* A pooled file cut by another process (the client runs as the same user) while the server
 * writes the next result over it through its mapping: that result fails with an error naming
 * the file, the server does not die of SIGBUS, and the next result is right. */
static void test_shm_truncated_while_written(void **state) {
    (void)state;
    pl_table *want = NULL;
    pl_srv *s = shm_pool_server(&want);
    pl_srv_call c = make_call(s, "");
    size_t n;
    uint8_t *req = shm_request(0, &n);
    shm_out a, b;
    void *maps[16];
    size_t lens[16];
    ok(run_shm(&c, req, n, &a, E));
    map_files(&a, maps, lens, true);
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, (int64_t)getpid(), false));
    pl_table_release(a.table);
    map_files(&a, maps, lens, false);
    pl_srv_shm_sweep(s, pl_now_ns() + 4000000000LL, false); /* pooled and populated */
    assert_true(pl_srv_shm_pool_bytes(s) > 0);
    int64_t copied = pl_srv_shm_mapped_bytes();
    pl_srv_shm_set_before_copy_for_testing(truncate_file);
    g_shm_reused_ok = true;
    pl_error_init(E);
    assert_int_not_equal(run_shm(&c, req, n, &b, E), PL_OK);
    pl_srv_shm_set_before_copy_for_testing(NULL);
    assert_true(g_truncated > 0); /* written through the mapping, cut there */
    assert_non_null(strstr(E->msg, "was truncated by another process"));
    assert_int_equal(pl_srv_shm_mapped_bytes(), copied); /* nothing counted as written */
    pl_error_init(E);
    ok(run_shm(&c, req, n, &b, E)); /* the server goes on */
    g_shm_reused_ok = false;
    assert_tables_equal(b.table, want);
    shm_release(s, &b);
    assert_true(pl_srv_shm_pool_trim(s, 0) >= 0);
    pl_table_release(want);
    pl_free(req);
    pl_srv_free(s);
}

/* Reuse of a result's files: lent to a process that maps them (uncharged, kept while mapped,
 * even when it says "unmapped" too early), pooled once unmapped (charged), written over by the
 * next result (equal to the data), given up by a trim; a forked child that still maps them
 * keeps them from reuse; a process that exits has its files pooled; idle pooled files go; a
 * release without the client's lock on the files gets nothing kept. */
static void test_shm_reuse(void **state) {
    (void)state;
    pl_table *want = NULL;
    pl_srv *s = shm_pool_server(&want);
    pl_srv_call c = make_call(s, "");
    int before = shm_files_of_mine();
    int64_t base = pl_srv_memory_in_use(s);
    pl_srv_shm_set_segment_bytes_for_testing(50000);
    size_t n;
    uint8_t *req = shm_request(4, &n);
    shm_out a, b;
    void *maps[16];
    size_t lens[16];
    ok(run_shm(&c, req, n, &a, E));
    assert_tables_equal(a.table, want);
    int64_t a_size = files_size(&a);
    map_files(&a, maps, lens, true);
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, (int64_t)getpid(), false));
    assert_true(all_exist(&a, true));                   /* lent: kept */
    assert_int_equal(pl_srv_memory_in_use(s), base);    /* ... and not charged */
    /* the release can overtake the transport's attach: a lent lease is released already, so
     * the call must not be held waiting for a release that came (it waited out the hold) */
    assert_false(pl_srv_shm_attach(s, a.lease, pl_now_ns() + 10000000000LL, NULL, NULL, NULL));
    /* "unmapped" while still mapped: not believed; the sweep leaves it too */
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, 0, true));
    pl_srv_shm_sweep(s, pl_now_ns() + 2000000000LL, false);
    assert_true(all_exist(&a, true));
    assert_int_equal(pl_srv_shm_pool_bytes(s), 0);
    /* unmapped (the test's own reader of the files takes no lock: it is not a client): the
     * sweep finds no lock left and pools the files, charged */
    pl_table_release(a.table);
    a.table = NULL;
    map_files(&a, maps, lens, false);
    pl_srv_shm_sweep(s, pl_now_ns() + 4000000000LL, false);
    assert_int_equal(pl_srv_shm_pool_bytes(s), a_size);
    assert_int_equal(pl_srv_memory_in_use(s) - base, a_size);
    assert_true(all_exist(&a, true));
    /* the next result is written over them, equal to the data; another owner's is not */
    int64_t reused = pl_srv_shm_reused_bytes();
    pl_srv_call other = make_call(s, "someone-else");
    shm_out x;
    ok(run_shm(&other, req, n, &x, E));
    assert_int_equal(pl_srv_shm_reused_bytes(), reused);
    assert_true(pl_srv_shm_release(s, "someone-else", x.lease));
    assert_true(all_exist(&x, false));
    pl_table_release(x.table);
    g_shm_reused_ok = true;
    int64_t copied = pl_srv_shm_mapped_bytes();
    ok(run_shm(&c, req, n, &b, E));
    g_shm_reused_ok = false;
    assert_true(pl_srv_shm_reused_bytes() > reused);
    assert_true(pl_srv_shm_mapped_bytes() > copied); /* through the pooled files' mappings */
    assert_tables_equal(b.table, want);
    int64_t b_size = files_size(&b);
    assert_int_equal(pl_srv_memory_in_use(s) - base, b_size + pl_srv_shm_pool_bytes(s));
    assert_int_equal(pl_srv_shm_bytes(s), b_size + pl_srv_shm_pool_bytes(s));
    shm_release(s, &b); /* no pid (an older client): removed */
    assert_true(pl_srv_shm_pool_trim(s, 0) >= 0);
    assert_int_equal(pl_srv_shm_pool_bytes(s), 0);
    assert_int_equal(pl_srv_memory_in_use(s), base);
    assert_int_equal(shm_files_of_mine(), before);
    /* a child that inherited the mapping keeps the files from reuse after the parent unmapped
     * them and said so, and after the parent's pid exits (the lock lives with the mapping) */
    ok(run_shm(&c, req, n, &a, E));
    map_files(&a, maps, lens, true);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pause();
        _exit(0);
    }
    pl_table_release(a.table);
    a.table = NULL;
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, (int64_t)getpid(), false));
    map_files(&a, maps, lens, false);
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, 0, true));
    pl_srv_shm_check_lent(s, pl_now_ns());
    pl_srv_shm_sweep(s, pl_now_ns() + 2000000000LL, false);
    assert_int_equal(pl_srv_shm_pool_bytes(s), 0); /* the child still maps them */
    assert_true(all_exist(&a, true));
    kill(child, SIGKILL);
    assert_int_equal(waitpid(child, NULL, 0), child);
    pl_srv_shm_sweep(s, pl_now_ns() + 3000000000LL, false);
    assert_true(pl_srv_shm_pool_bytes(s) > 0);
    /* the pool gives way when the machine's available memory is under the reserve */
    pl_srv_shm_set_reserve_for_testing(INT64_MAX / 4);
    pl_srv_shm_sweep(s, pl_now_ns() + 3500000000LL, false);
    pl_srv_shm_set_reserve_for_testing(0);
    assert_int_equal(pl_srv_shm_pool_bytes(s), 0);
    assert_true(all_exist(&a, false));
    /* a process that maps the files and exits: pooled, then removed once idle */
    ok(run_shm(&c, req, n, &a, E));
    map_files(&a, maps, lens, true);
    pid_t kid = fork();
    assert_true(kid >= 0);
    if (kid == 0) {
        pause();
        _exit(0);
    }
    map_files(&a, maps, lens, false); /* only the child maps them now */
    pl_table_release(a.table);
    a.table = NULL;
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, (int64_t)kid, false));
    assert_true(all_exist(&a, true));
    kill(kid, SIGKILL);
    assert_int_equal(waitpid(kid, NULL, 0), kid);
    pl_srv_shm_sweep(s, pl_now_ns(), false);
    assert_true(pl_srv_shm_pool_bytes(s) > 0);
    pl_srv_shm_sweep(s, pl_now_ns() + 31000000000LL, false); /* idle past 30 s */
    assert_int_equal(pl_srv_shm_pool_bytes(s), 0);
    assert_true(all_exist(&a, false));
    /* a release with a pid but no lock on the files (an older client, or one that lies):
     * removed at once, as without reuse */
    ok(run_shm(&c, req, n, &a, E));
    assert_true(pl_srv_shm_release_ex(s, "", a.lease, (int64_t)getppid(), false));
    assert_true(all_exist(&a, false));
    assert_false(pl_srv_shm_release_ex(s, "", a.lease, 0, true)); /* gone */
    pl_table_release(a.table);
    pl_table_release(want);
    pl_free(req);
    assert_int_equal(pl_srv_memory_in_use(s), base);
    assert_int_equal(shm_files_of_mine(), before);
    pl_srv_shm_set_segment_bytes_for_testing(0);
    pl_srv_free(s);
}

/* Failures part-way (the memory limit, a cancel) leave no file and no charge behind. */
static void test_shm_files_failures(void **state) {
    (void)state;
    pl_srv_config cfg;
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.max_memory = 10 << 20;
    pl_srv *s = NULL;
    ok(pl_srv_new(&cfg, &s, E));
    pl_table *rows = make_trades(200000); /* ~6 MB as IPC */
    ok(pl_catalog_table_create(pl_srv_catalog(s), "big", rows->schema, rows, false, true, NULL, E));
    pl_table_release(rows);
    int64_t base = pl_srv_memory_in_use(s);
    assert_true(base > (4 << 20) && base < (7 << 20)); /* the table fits, table + result not */
    int before = shm_files_of_mine();
    pl_srv_shm_set_segment_bytes_for_testing(64 << 10);
    pl_srv_call c = make_call(s, "");
    for (int round = 0; round < 2; round++) {
        Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
        o.allow_shared_memory = true;
        o.shared_memory_max_files = 4;
        /* round 0: the table and its result pass 10 MiB; round 1: out of time while writing */
        if (round == 1) {
            o.timeout_ms = 1;
        }
        Polaroid__V1__Relation *root = round == 1 ? rel_filter(rel_table("big"), ex_sql("id < 100000"))
                                                  : rel_table("big");
        size_t n;
        uint8_t *req = pack_exec(root, &o, &n);
        tree_free(&root->base);
        pl_srv_exec *x = NULL;
        ok(pl_srv_execute_start(&c, req, n, &x, E));
        pl_free(req);
        pl_error_init(E);
        pl_status st = PL_OK;
        for (;;) {
            uint8_t *m = NULL;
            size_t len = 0;
            bool done = false;
            st = pl_srv_execute_next(x, &m, &len, &done, E);
            if (st || done) break;
            pl_free(m);
        }
        if (round == 0) {
            assert_int_equal(st, PL_ERR_NOMEM);
            assert_non_null(strstr(g_err.msg, "memory limit"));
        } else if (st) {
            assert_int_equal(st, PL_ERR_CANCELLED);
            assert_non_null(strstr(g_err.msg, "time limit"));
        }
        pl_srv_execute_free(x);
        if (st == PL_OK) pl_srv_shm_sweep(s, INT64_MAX, true); /* finished in time: drop it */
        assert_int_equal(shm_files_of_mine(), before);
        assert_int_equal(pl_srv_memory_in_use(s), base);
        assert_int_equal(pl_srv_shm_bytes(s), 0);
    }
    /* allocation failures at every step: an error, no file, no charge, no leak */
    pl_srv_shm_set_segment_bytes_for_testing(4096);
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.allow_shared_memory = true;
    o.shared_memory_max_files = 4;
    Polaroid__V1__Relation *root = rel_filter(rel_table("big"), ex_sql("id < 3000"));
    size_t n;
    uint8_t *req = pack_exec(root, &o, &n);
    tree_free(&root->base);
    int n_ok = 0;
    for (int64_t k = 0; k < 1500 && n_ok < 3; k++) {
        pl_error err;
        pl_error_init(&err);
        pl_status st = exec_failing_at(&c, req, n, k, &err);
        n_ok += st == PL_OK;
        if (st) assert_true(err.msg[0] != 0);
        /* a failure after the SharedMemoryResult went out (the summary) leaves a lease for the
         * client to release; anything else must be gone already */
        pl_srv_shm_sweep(s, INT64_MAX, true);
        assert_int_equal(shm_files_of_mine(), before);
        assert_int_equal(pl_srv_memory_in_use(s), base);
    }
    assert_true(n_ok > 0);
    pl_free(req);
    pl_srv_shm_set_segment_bytes_for_testing(0);
    pl_srv_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_sliced_under_limit),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_cancel_and_time_limit),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_inline_which_plans),
        cmocka_unit_test(test_inline_limits),
        cmocka_unit_test(test_inline_handoffs),
        cmocka_unit_test(test_shm_files),
        cmocka_unit_test(test_shm_files_failures),
        cmocka_unit_test(test_shm_reuse),
        cmocka_unit_test(test_shm_truncated_while_written),
    };
    return cmocka_run_group_tests(tests, root_setup, root_teardown);
}
