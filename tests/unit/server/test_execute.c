/* test_execute.c - execute.c without gRPC: ExecuteRequest bytes in, packed ExecuteResponse
 * messages out. The concatenated arrow_ipc payloads are decoded with pl_ipc_scan_buffer and
 * compared with the same relation collected directly (pl_srv_plan_to_df + pl_df_collect); the
 * size limit, empty results, the summary, cancellation, time limits, malformed requests and
 * allocation failures at every step (no leak, no crash) are checked. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/ipc/ipc.h"
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

static int setup(void **state) {
    (void)state;
    make_root();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    remove_root();
    return 0;
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
        pl_srv_exec *x = NULL;
        pl_error err;
        pl_error_init(&err);
        pl_alloc_fail_after(k);
        pl_status st = pl_srv_execute_start(&c, req, n, &x, &err);
        while (!st) {
            uint8_t *m = NULL;
            size_t len = 0;
            bool done = false;
            st = pl_srv_execute_next(x, &m, &len, &done, &err);
            pl_free(m);
            if (done) break;
        }
        pl_alloc_fail_after(-1);
        pl_srv_execute_free(x);
        n_ok += st == PL_OK;
        if (st) assert_true(err.msg[0] != 0);
    }
    assert_true(n_ok > 0); /* late failure points are past the last allocation */
    pl_free(req);
    pl_srv_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_sliced_under_limit),
        cmocka_unit_test(test_empty_result),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_cancel_and_time_limit),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
