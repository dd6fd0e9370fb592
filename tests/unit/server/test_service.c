#define _GNU_SOURCE
/* test_service.c - polaroid.v1 methods through pl_srv_unary with packed requests: ServerInfo,
 * Health, Schema, Explain, Describe, Write, handles, live tables, errors and their gRPC codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <grpc/status.h>

#include "grpc/health/v1/health.pb-c.h"
#include "io/ipc/ipc.h"
#include "srv_test_util.h"

#include <sys/wait.h>

static void test_method_table(void **state) {
    (void)state;
    assert_string_equal(pl_srv_method_path(PL_SRV_EXECUTE), "/polaroid.v1.Polaroid/Execute");
    assert_string_equal(pl_srv_method_path(PL_SRV_HEALTH_CHECK), "/grpc.health.v1.Health/Check");
    assert_int_equal(pl_srv_method_kind(PL_SRV_EXECUTE), PL_SRV_SERVER_STREAM);
    assert_int_equal(pl_srv_method_kind(PL_SRV_APPEND), PL_SRV_BIDI_STREAM);
    assert_int_equal(pl_srv_method_kind(PL_SRV_SCHEMA), PL_SRV_UNARY);
    assert_true(pl_srv_method_is_light(PL_SRV_SERVER_INFO));
    assert_false(pl_srv_method_is_light(PL_SRV_SCHEMA));
    assert_null(pl_srv_method_path(PL_SRV_N_METHODS));
    /* every path is distinct and every unary method has a handler */
    for (int i = 0; i < PL_SRV_N_METHODS; i++)
        for (int k = i + 1; k < PL_SRV_N_METHODS; k++)
            assert_string_not_equal(pl_srv_method_path(i), pl_srv_method_path(k));
}

static void test_server_info(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "tok");
    Polaroid__V1__ServerInfoRequest q = POLAROID__V1__SERVER_INFO_REQUEST__INIT;
    uint8_t *resp;
    size_t n;
    ok(call_method(&c, PL_SRV_SERVER_INFO, &q.base, &resp, &n));
    Polaroid__V1__ServerInfoResponse *r = polaroid__v1__server_info_response__unpack(NULL, n, resp);
    assert_non_null(r);
    assert_string_equal(r->version, "0.1.0");
    assert_true(r->same_host);
    assert_int_equal(r->limits->max_plan_depth, 256);
    assert_int_equal(r->limits->handle_ttl_seconds, 300);
    assert_true(r->threads > 0);
    bool has_exec = false;
    for (size_t i = 0; i < r->n_capabilities; i++)
        if (!strcmp(r->capabilities[i], "execute")) has_exec = true;
    assert_true(has_exec);
    polaroid__v1__server_info_response__free_unpacked(r, NULL);
    pl_free(resp);
    pl_srv_free(s);
}

static void test_health(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    Grpc__Health__V1__HealthCheckRequest q = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    uint8_t *resp;
    size_t n;
    ok(call_method(&c, PL_SRV_HEALTH_CHECK, &q.base, &resp, &n));
    Grpc__Health__V1__HealthCheckResponse *r = grpc__health__v1__health_check_response__unpack(NULL, n, resp);
    assert_int_equal(r->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING);
    grpc__health__v1__health_check_response__free_unpacked(r, NULL);
    pl_free(resp);
    q.service = "nope";
    assert_int_equal(call_method(&c, PL_SRV_HEALTH_CHECK, &q.base, &resp, &n), PL_ERR_NOT_FOUND);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_NOT_FOUND);
    pl_srv_set_serving(s, false);
    q.service = "polaroid.v1.Polaroid";
    ok(call_method(&c, PL_SRV_HEALTH_CHECK, &q.base, &resp, &n));
    r = grpc__health__v1__health_check_response__unpack(NULL, n, resp);
    assert_int_equal(r->status, GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    grpc__health__v1__health_check_response__free_unpacked(r, NULL);
    pl_free(resp);
    pl_srv_free(s);
}

static void test_schema(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    Polaroid__V1__PlanRequest *q = plan_req(rel_select(
        rel_filter(rel_read("trades.parquet"), ex_call("gt", 2, ex_col("price"), ex_i64(10))), 2,
        named(ex_col("sym"), NULL), named(ex_call("mul", 2, ex_col("qty"), ex_i64(2)), "q2")));
    uint8_t *resp;
    size_t n;
    ok(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n));
    Polaroid__V1__SchemaResponse *r = polaroid__v1__schema_response__unpack(NULL, n, resp);
    assert_non_null(r);
    assert_int_equal(r->n_fields, 2);
    assert_string_equal(r->fields[0]->name, "sym");
    assert_non_null(strstr(r->fields[0]->type, "utf8"));
    assert_string_equal(r->fields[1]->name, "q2");
    assert_string_equal(r->fields[1]->type, "int64");
    /* the IPC schema message reads back as the same schema */
    pl_schema *sch = NULL;
    ok(pl_srv_schema_from_ipc(r->arrow_schema.data, r->arrow_schema.len, &sch, E));
    assert_int_equal(sch->n_fields, 2);
    assert_string_equal(sch->fields[1].name, "q2");
    assert_int_equal(sch->fields[1].type->id, PL_TYPE_INT64);
    pl_schema_release(sch);
    polaroid__v1__schema_response__free_unpacked(r, NULL);
    pl_free(resp);
    tree_free(&q->base);
    pl_srv_free(s);
}

static void test_errors_and_codes(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    /* unknown column: INVALID_ARGUMENT, with the place in the plan */
    Polaroid__V1__PlanRequest *q =
        plan_req(rel_filter(rel_read("trades.parquet"), ex_call("gt", 2, ex_col("pricee"), ex_i64(10))));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_INVALID_ARGUMENT);
    assert_non_null(strstr(g_err.msg, "root.filter"));
    assert_non_null(strstr(g_err.msg, "pricee"));
    /* ... and in ErrorDetail, the place in its own field and the message without it */
    uint8_t *db = NULL;
    size_t dn = 0;
    assert_int_equal(pl_srv_error_detail(&g_err, g_root, "r", &db, &dn), PL_OK);
    Polaroid__V1__ErrorDetail *dd = polaroid__v1__error_detail__unpack(NULL, dn, db);
    assert_string_equal(dd->plan_path, "root.filter");
    assert_true(strncmp(dd->message, "column \"pricee\" not found", 26) == 0);
    polaroid__v1__error_detail__free_unpacked(dd, NULL);
    pl_free(db);
    tree_free(&q->base);
    /* missing file: NOT_FOUND, relative path only */
    q = plan_req(rel_read("missing.parquet"));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_NOT_FOUND);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_NOT_FOUND);
    assert_null(strstr(g_err.msg, g_root));
    assert_null(strstr(g_err.path, g_root));
    if (!strstr(g_err.msg, "missing.parquet") && !strstr(g_err.path, "missing.parquet")) fail_msg("msg %s path %s", g_err.msg, g_err.path);
    tree_free(&q->base);
    /* escapes: PERMISSION_DENIED */
    q = plan_req(rel_read("../etc/passwd.csv"));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_PERMISSION);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_PERMISSION_DENIED);
    tree_free(&q->base);
    q = plan_req(rel_read("/etc/passwd.csv"));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_PERMISSION);
    tree_free(&q->base);
    /* SQL reading a file outside the root */
    q = plan_req(rel_sql("SELECT * FROM '/etc/passwd.csv'"));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_PERMISSION);
    tree_free(&q->base);
    q = plan_req(rel_sql("SELECT * FROM read_csv('../x.csv')"));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_PERMISSION);
    tree_free(&q->base);
    /* malformed bytes */
    static const uint8_t junk[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    pl_error_init(&g_err);
    assert_int_equal(pl_srv_unary(&c, PL_SRV_SCHEMA, junk, sizeof junk, &resp, &n, &g_err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "malformed PlanRequest request"));
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_INVALID_ARGUMENT);
    /* no plan */
    Polaroid__V1__PlanRequest empty = POLAROID__V1__PLAN_REQUEST__INIT;
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &empty.base, &resp, &n), PL_ERR_INVALID_ARG);
    /* a streaming method through pl_srv_unary */
    assert_int_equal(call_method(&c, PL_SRV_EXECUTE, &empty.base, &resp, &n), PL_ERR_UNSUPPORTED);
    pl_srv_free(s);
}


static Polaroid__V1__Plan *plan_of(Polaroid__V1__Relation *root) {
    Polaroid__V1__Plan *p = calloc(1, sizeof *p);
    polaroid__v1__plan__init(p);
    p->root = root;
    return p;
}

static void test_explain_describe(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    Polaroid__V1__ExplainRequest *q = calloc(1, sizeof *q);
    polaroid__v1__explain_request__init(q);
    q->plan = plan_of(rel_filter(rel_read("trades.parquet"), ex_sql("price > 10")));
    ok(call_method(&c, PL_SRV_EXPLAIN, &q->base, &resp, &n));
    Polaroid__V1__ExplainResponse *r = polaroid__v1__explain_response__unpack(NULL, n, resp);
    assert_non_null(strstr(r->text, "trades.parquet"));
    assert_null(strstr(r->text, g_root)); /* never the server's root */
    polaroid__v1__explain_response__free_unpacked(r, NULL);
    pl_free(resp);
    q->analyze = true;
    ok(call_method(&c, PL_SRV_EXPLAIN, &q->base, &resp, &n));
    r = polaroid__v1__explain_response__unpack(NULL, n, resp);
    assert_non_null(r->text);
    assert_null(strstr(r->text, g_root));
    polaroid__v1__explain_response__free_unpacked(r, NULL);
    pl_free(resp);
    tree_free(&q->base);

    /* Describe: count, null_count, mean, std, min, max as text */
    Polaroid__V1__PlanRequest *d = plan_req(rel_read("trades.parquet"));
    ok(call_method(&c, PL_SRV_DESCRIBE, &d->base, &resp, &n));
    Polaroid__V1__DescribeResponse *dr = polaroid__v1__describe_response__unpack(NULL, n, resp);
    pl_buf *b = NULL;
    ok(pl_buf_new((int64_t)dr->arrow_ipc.len, &b, E));
    memcpy(b->data, dr->arrow_ipc.data, dr->arrow_ipc.len);
    b->size = (int64_t)dr->arrow_ipc.len;
    pl_stream *st = NULL;
    ok(pl_ipc_scan_buffer(b, "describe", NULL, &st, E));
    pl_table *t = NULL;
    ok(pl_stream_collect(st, &t, E));
    pl_stream_free(st);
    pl_buf_release(b);
    assert_int_equal(t->n_rows, 6);
    assert_int_equal(t->schema->n_fields, 5);
    assert_string_equal(t->schema->fields[0].name, "statistic");
    pl_batch *one = NULL;
    ok(pl_table_combine(t, &one, E));
    char buf[64];
    pl_value v;
    /* qty: 100 rows, 10 NULL; id: min 0, max 99, mean 49.5 */
    const char *want_qty[] = {"90", "10"};
    for (int k = 0; k < 2; k++) {
        pl_value_init_null(&v);
        ok(pl_value_from_array(one->columns[4], k, &v, E));
        assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), want_qty[k]);
        pl_value_reset(&v);
    }
    pl_value_init_null(&v);
    ok(pl_value_from_array(one->columns[1], 2, &v, E));
    assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), "49.5");
    pl_value_reset(&v);
    pl_value_init_null(&v);
    ok(pl_value_from_array(one->columns[1], 5, &v, E));
    assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), "99");
    pl_value_reset(&v);
    pl_value_init_null(&v);
    ok(pl_value_from_array(one->columns[2], 4, &v, E)); /* sym min */
    assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), "AAPL");
    pl_value_reset(&v);
    pl_value_init_null(&v);
    ok(pl_value_from_array(one->columns[2], 2, &v, E)); /* no mean of a string */
    assert_true(v.is_null);
    pl_value_reset(&v);
    pl_batch_release(one);
    pl_table_release(t);
    polaroid__v1__describe_response__free_unpacked(dr, NULL);
    pl_free(resp);
    tree_free(&d->base);
    pl_srv_free(s);
}

static void test_write(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    Polaroid__V1__WriteRequest *q = calloc(1, sizeof *q);
    polaroid__v1__write_request__init(q);
    q->plan = plan_of(rel_filter(rel_read("trades.parquet"), ex_sql("id < 10")));
    q->path = strdup("sub/out.parquet");
    q->compression = strdup("snappy");
    ok(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n));
    Polaroid__V1__WriteResponse *r = polaroid__v1__write_response__unpack(NULL, n, resp);
    assert_int_equal(r->rows, 10);
    assert_true(r->bytes > 0);
    assert_string_equal(r->path, "sub/out.parquet");
    polaroid__v1__write_response__free_unpacked(r, NULL);
    pl_free(resp);
    pl_table *back = sql_table("SELECT * FROM 'sub/out.parquet'");
    pl_table *want = sql_table("SELECT * FROM 'trades.parquet' WHERE id < 10");
    assert_tables_equal(back, want);
    pl_table_release(back);
    pl_table_release(want);
    /* exists: ALREADY_EXISTS, unless overwrite */
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_ALREADY_EXISTS);
    q->overwrite = true;
    ok(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n));
    pl_free(resp);
    /* escapes, bad compression, no extension */
    free(q->path);
    q->path = strdup("../out.parquet");
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_PERMISSION);
    free(q->path);
    q->path = strdup("sub/x.csv");
    free(q->compression);
    q->compression = strdup("rar");
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_INVALID_ARG);
    free(q->compression);
    q->compression = strdup("");
    free(q->path);
    q->path = strdup("sub/noext");
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_INVALID_ARG);
    q->format = POLAROID__V1__READ_FILES__FORMAT__FORMAT_CSV;
    ok(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n));
    pl_free(resp);
    /* a missing directory: NOT_FOUND; a directory as the target: INVALID_ARGUMENT */
    free(q->path);
    q->path = strdup("nodir/x.csv");
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_NOT_FOUND);
    assert_non_null(strstr(g_err.msg, "directory \"nodir\" does not exist"));
    free(q->path);
    q->path = strdup("sub");
    q->overwrite = true;
    assert_int_equal(call_method(&c, PL_SRV_WRITE, &q->base, &resp, &n), PL_ERR_INVALID_ARG);
    tree_free(&q->base);
    pl_srv_free(s);
}

static void test_handles(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "alice");
    pl_srv_call other = make_call(s, "bob");
    uint8_t *resp;
    size_t n;
    Polaroid__V1__CreateHandleRequest *q = calloc(1, sizeof *q);
    polaroid__v1__create_handle_request__init(q);
    q->plan = plan_of(rel_filter(rel_read("trades.parquet"), ex_sql("id < 10")));
    q->materialize = true;
    ok(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n));
    Polaroid__V1__HandleInfo *h = polaroid__v1__handle_info__unpack(NULL, n, resp);
    pl_free(resp);
    assert_int_equal(h->num_rows, 10);
    assert_int_equal(h->ttl_seconds, 300);
    assert_int_equal(strlen(h->id), 32);
    assert_int_equal(h->schema->n_fields, 4);
    /* the handle as a relation: its owner sees it, another does not */
    Polaroid__V1__Relation *hr = rel_new();
    Polaroid__V1__HandleRef *ref = calloc(1, sizeof *ref);
    polaroid__v1__handle_ref__init(ref);
    ref->id = strdup(h->id);
    hr->rel_case = POLAROID__V1__RELATION__REL_HANDLE;
    hr->handle = ref;
    Polaroid__V1__PlanRequest *pr = plan_req(hr);
    ok(call_method(&c, PL_SRV_SCHEMA, &pr->base, &resp, &n));
    pl_free(resp);
    assert_int_equal(call_method(&other, PL_SRV_SCHEMA, &pr->base, &resp, &n), PL_ERR_NOT_FOUND);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_NOT_FOUND);
    /* heartbeat: alive for the owner, unknown for others */
    Polaroid__V1__HeartbeatRequest hb = POLAROID__V1__HEARTBEAT_REQUEST__INIT;
    char *ids[2] = {h->id, "0123456789abcdef0123456789abcdef"};
    hb.n_handle_ids = 2;
    hb.handle_ids = ids;
    ok(call_method(&c, PL_SRV_HEARTBEAT, &hb.base, &resp, &n));
    Polaroid__V1__HeartbeatResponse *hbr = polaroid__v1__heartbeat_response__unpack(NULL, n, resp);
    assert_int_equal(hbr->n_alive, 1);
    assert_string_equal(hbr->alive[0], h->id);
    assert_int_equal(hbr->n_unknown, 1);
    polaroid__v1__heartbeat_response__free_unpacked(hbr, NULL);
    pl_free(resp);
    ok(call_method(&other, PL_SRV_HEARTBEAT, &hb.base, &resp, &n));
    hbr = polaroid__v1__heartbeat_response__unpack(NULL, n, resp);
    assert_int_equal(hbr->n_alive, 0);
    polaroid__v1__heartbeat_response__free_unpacked(hbr, NULL);
    pl_free(resp);
    /* drop: another owner drops nothing */
    Polaroid__V1__DropHandleRequest dq = POLAROID__V1__DROP_HANDLE_REQUEST__INIT;
    dq.n_handle_ids = 1;
    dq.handle_ids = ids;
    ok(call_method(&other, PL_SRV_DROP_HANDLE, &dq.base, &resp, &n));
    Polaroid__V1__DropHandleResponse *dr = polaroid__v1__drop_handle_response__unpack(NULL, n, resp);
    assert_int_equal(dr->dropped, 0);
    polaroid__v1__drop_handle_response__free_unpacked(dr, NULL);
    pl_free(resp);
    ok(call_method(&c, PL_SRV_DROP_HANDLE, &dq.base, &resp, &n));
    dr = polaroid__v1__drop_handle_response__unpack(NULL, n, resp);
    assert_int_equal(dr->dropped, 1);
    polaroid__v1__drop_handle_response__free_unpacked(dr, NULL);
    pl_free(resp);
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &pr->base, &resp, &n), PL_ERR_NOT_FOUND);
    /* a short TTL, swept */
    q->materialize = false;
    q->ttl_seconds = 1;
    ok(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n));
    Polaroid__V1__HandleInfo *h2 = polaroid__v1__handle_info__unpack(NULL, n, resp);
    pl_free(resp);
    assert_int_equal(h2->num_rows, -1);
    assert_int_equal(pl_catalog_n_handles(pl_srv_catalog(s)), 1);
    pl_srv_sweep(s, pl_now_ns() + 2000000000ll);
    assert_int_equal(pl_catalog_n_handles(pl_srv_catalog(s)), 0);
    polaroid__v1__handle_info__free_unpacked(h2, NULL);
    polaroid__v1__handle_info__free_unpacked(h, NULL);
    tree_free(&pr->base);
    tree_free(&q->base);
    pl_srv_free(s);
}

static pl_status append_json(pl_srv_append *a, const char *table, uint64_t seq, const char *rows,
                             Polaroid__V1__AppendAck **ack) {
    Polaroid__V1__AppendRequest q = POLAROID__V1__APPEND_REQUEST__INIT;
    q.table = (char *)(table ? table : "");
    q.seq = seq;
    q.data_case = POLAROID__V1__APPEND_REQUEST__DATA_JSON_ROWS;
    q.json_rows = (char *)rows;
    size_t n = polaroid__v1__append_request__get_packed_size(&q);
    uint8_t *buf = malloc(n + 1);
    polaroid__v1__append_request__pack(&q, buf);
    uint8_t *out = NULL;
    size_t out_len = 0;
    pl_error_init(&g_err);
    pl_status st = pl_srv_append_one(a, buf, n, &out, &out_len, &g_err);
    free(buf);
    if (!st) {
        *ack = polaroid__v1__append_ack__unpack(NULL, out_len, out);
        pl_free(out);
    }
    return st;
}

static void test_tables_and_append(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    Polaroid__V1__CreateTableRequest ct = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
    Polaroid__V1__ColumnDef cd[3] = {POLAROID__V1__COLUMN_DEF__INIT, POLAROID__V1__COLUMN_DEF__INIT,
                                     POLAROID__V1__COLUMN_DEF__INIT};
    Polaroid__V1__ColumnDef *cds[3] = {&cd[0], &cd[1], &cd[2]};
    cd[0].name = "sym";
    cd[0].type = "VARCHAR";
    cd[1].name = "px";
    cd[1].type = "DOUBLE";
    cd[2].name = "ts";
    cd[2].type = "TIMESTAMP";
    ct.name = "ticks";
    ct.n_columns = 3;
    ct.columns = cds;
    ok(call_method(&c, PL_SRV_CREATE_TABLE, &ct.base, &resp, &n));
    Polaroid__V1__TableInfo *ti = polaroid__v1__table_info__unpack(NULL, n, resp);
    assert_int_equal(ti->num_rows, 0);
    assert_int_equal(ti->schema->n_fields, 3);
    assert_string_equal(ti->schema->fields[2]->type, "timestamp[us]");
    polaroid__v1__table_info__free_unpacked(ti, NULL);
    pl_free(resp);
    assert_int_equal(call_method(&c, PL_SRV_CREATE_TABLE, &ct.base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_ALREADY_EXISTS);
    cd[1].type = "NOTATYPE";
    ct.replace = true;
    assert_int_equal(call_method(&c, PL_SRV_CREATE_TABLE, &ct.base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "px"));
    ct.replace = false;

    /* appends: JSON rows, visible at once to SQL and Relation.table */
    pl_srv_append *a = NULL;
    ok(pl_srv_append_open(&c, &a, E));
    Polaroid__V1__AppendAck *ack = NULL;
    ok(append_json(a, "ticks", 7,
                   "{\"sym\": \"AAPL\", \"px\": 1.5, \"ts\": \"2024-01-02 09:30:00\"}\n"
                   "{\"sym\": \"caf\\u00e9\", \"px\": null}\n",
                   &ack));
    assert_int_equal(ack->seq, 7);
    assert_int_equal(ack->rows, 2);
    assert_int_equal(ack->table_rows, 2);
    polaroid__v1__append_ack__free_unpacked(ack, NULL);
    ok(append_json(a, NULL, 8, "{\"px\": 3}", &ack)); /* the table is remembered */
    assert_int_equal(ack->table_rows, 3);
    polaroid__v1__append_ack__free_unpacked(ack, NULL);
    /* bad rows change nothing */
    assert_int_equal(append_json(a, NULL, 9, "{\"nope\": 1}", &ack), PL_ERR_INVALID_ARG);
    assert_int_equal(append_json(a, NULL, 9, "{\"px\": \"abc\"}", &ack), PL_ERR_INVALID_ARG);
    assert_int_equal(append_json(a, NULL, 9, "{\"px\": 1", &ack), PL_ERR_INVALID_ARG);
    assert_int_equal(append_json(a, NULL, 9, "[1]", &ack), PL_ERR_INVALID_ARG);
    assert_int_equal(append_json(a, "missing", 9, "{}", &ack), PL_ERR_NOT_FOUND);
    pl_srv_append_close(a);
    pl_srv_append *a2 = NULL;
    ok(pl_srv_append_open(&c, &a2, E));
    assert_int_equal(append_json(a2, NULL, 1, "{}", &ack), PL_ERR_INVALID_ARG); /* no table yet */
    /* Arrow IPC rows with columns in another order and another numeric type */
    pl_table *src = sql_table("SELECT 2.5 AS px, 'MSFT' AS sym, TIMESTAMP '2024-01-03 10:00:00' AS ts");
    pl_buf *ipc = NULL;
    ok(pl_ipc_write_table_buf(src, false, NULL, &ipc, E));
    Polaroid__V1__AppendRequest aq = POLAROID__V1__APPEND_REQUEST__INIT;
    aq.table = "ticks";
    aq.seq = 2;
    aq.data_case = POLAROID__V1__APPEND_REQUEST__DATA_ARROW_IPC;
    aq.arrow_ipc.data = ipc->data;
    aq.arrow_ipc.len = (size_t)ipc->size;
    size_t qn = polaroid__v1__append_request__get_packed_size(&aq);
    uint8_t *qb = malloc(qn);
    polaroid__v1__append_request__pack(&aq, qb);
    uint8_t *out = NULL;
    size_t out_len = 0;
    ok(pl_srv_append_one(a2, qb, qn, &out, &out_len, E));
    ack = polaroid__v1__append_ack__unpack(NULL, out_len, out);
    assert_int_equal(ack->rows, 1);
    assert_int_equal(ack->table_rows, 4);
    polaroid__v1__append_ack__free_unpacked(ack, NULL);
    pl_free(out);
    free(qb);
    pl_buf_release(ipc);
    pl_table_release(src);
    pl_srv_append_close(a2);

    /* SQL over the live table */
    Polaroid__V1__Relation *rq = rel_sql("SELECT count(*) AS n, count(px) AS npx, sum(px) AS s, "
                                         "max(sym) AS m FROM ticks");
    pl_table *got = NULL;
    ok(collect_rel(&c, rq, &got));
    pl_table *want = sql_table("SELECT 4::BIGINT AS n, 3::BIGINT AS npx, 7.0 AS s, 'café' AS m");
    pl_batch *gb = NULL;
    ok(pl_table_combine(got, &gb, E));
    char buf[64];
    pl_value v;
    const char *expect[] = {"4", "3", "7.0", "café"};
    for (int i = 0; i < 4; i++) {
        pl_value_init_null(&v);
        ok(pl_value_from_array(gb->columns[i], 0, &v, E));
        assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), expect[i]);
        pl_value_reset(&v);
    }
    pl_batch_release(gb);
    pl_table_release(got);
    pl_table_release(want);

    /* ListTables, DropTable */
    Polaroid__V1__ListTablesRequest lq = POLAROID__V1__LIST_TABLES_REQUEST__INIT;
    ok(call_method(&c, PL_SRV_LIST_TABLES, &lq.base, &resp, &n));
    Polaroid__V1__ListTablesResponse *lr = polaroid__v1__list_tables_response__unpack(NULL, n, resp);
    assert_int_equal(lr->n_tables, 1);
    assert_string_equal(lr->tables[0]->name, "ticks");
    assert_int_equal(lr->tables[0]->num_rows, 4);
    polaroid__v1__list_tables_response__free_unpacked(lr, NULL);
    pl_free(resp);
    /* CREATE TABLE AS a plan */
    Polaroid__V1__CreateTableRequest ca = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
    ca.name = "copy";
    ca.as_plan = plan_of(rel_read("trades.csv"));
    ok(call_method(&c, PL_SRV_CREATE_TABLE, &ca.base, &resp, &n));
    ti = polaroid__v1__table_info__unpack(NULL, n, resp);
    assert_int_equal(ti->num_rows, 100);
    polaroid__v1__table_info__free_unpacked(ti, NULL);
    pl_free(resp);
    tree_free(&ca.as_plan->base);
    Polaroid__V1__DropTableRequest dq = POLAROID__V1__DROP_TABLE_REQUEST__INIT;
    dq.name = "ticks";
    ok(call_method(&c, PL_SRV_DROP_TABLE, &dq.base, &resp, &n));
    pl_free(resp);
    assert_int_equal(call_method(&c, PL_SRV_DROP_TABLE, &dq.base, &resp, &n), PL_ERR_NOT_FOUND);
    dq.if_exists = true;
    ok(call_method(&c, PL_SRV_DROP_TABLE, &dq.base, &resp, &n));
    Polaroid__V1__DropTableResponse *dr = polaroid__v1__drop_table_response__unpack(NULL, n, resp);
    assert_false(dr->dropped);
    polaroid__v1__drop_table_response__free_unpacked(dr, NULL);
    pl_free(resp);
    pl_srv_free(s);
}

static void test_hostile(void **state) {
    (void)state;
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    /* a plan nested 300 deep: refused by the decoder */
    Polaroid__V1__Relation *r = rel_read("trades.parquet");
    for (int i = 0; i < 300; i++) r = rel_filter(r, ex_sql("true"));
    Polaroid__V1__PlanRequest *q = plan_req(r);
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q->base, &resp, &n), PL_ERR_LIMIT);
    assert_non_null(strstr(g_err.msg, "plan nested deeper than 256"));
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_INVALID_ARGUMENT);
    tree_free(&q->base);
    /* nested a million levels deep on the wire: refused before protobuf-c recurses */
    size_t depth = 1000000;
    uint8_t *deep = malloc(depth * 6 + 16);
    size_t len = 0;
    /* PlanRequest.plan(1) -> Plan.root(1) -> Relation.filter(11) -> Filter.input(1) -> ... :
     * written inside out as tag + one-byte-or-more lengths; a truncated innermost length is
     * fine, the depth check comes first */
    for (size_t i = 0; i < depth; i++) {
        deep[len++] = 0x0a; /* field 1, length-delimited */
        deep[len++] = 0x00;
    }
    pl_error_init(&g_err);
    pl_status st = pl_srv_unary(&c, PL_SRV_SCHEMA, deep, len, &resp, &n, &g_err);
    assert_true(st == PL_ERR_INVALID_ARG || st == PL_ERR_LIMIT);
    free(deep);
    /* a length prefix claiming gigabytes */
    static const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00};
    pl_error_init(&g_err);
    assert_int_equal(pl_srv_unary(&c, PL_SRV_SCHEMA, huge, sizeof huge, &resp, &n, &g_err), PL_ERR_INVALID_ARG);
    /* a NUL byte inside a string: refused, not cut short ("t.csv\0..." is not "t.csv") */
    Polaroid__V1__PlanRequest *qn = plan_req(rel_read("trades.csvXX/../../etc/passwd"));
    size_t qlen = polaroid__v1__plan_request__get_packed_size(qn);
    uint8_t *qb = malloc(qlen);
    polaroid__v1__plan_request__pack(qn, qb);
    uint8_t *hit = memmem(qb, qlen, "XX", 2);
    assert_non_null(hit);
    hit[0] = 0;
    pl_error_init(&g_err);
    assert_int_equal(pl_srv_unary(&c, PL_SRV_SCHEMA, qb, qlen, &resp, &n, &g_err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "NUL byte"));
    free(qb);
    tree_free(&qn->base);
    /* unknown oneof / fields are skipped; an unset relation is an error */
    Polaroid__V1__PlanRequest *q2 = plan_req(rel_new());
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "relation without a kind"));
    tree_free(&q2->base);
    /* bad UTF-8 in a column name */
    q2 = plan_req(rel_select(rel_read("trades.parquet"), 1, named(ex_col("a\xff"), NULL)));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "UTF-8"));
    tree_free(&q2->base);
    /* unknown function, wrong types, bad SQL expression */
    q2 = plan_req(rel_filter(rel_read("trades.parquet"), ex_call("frobnicate", 1, ex_col("id"))));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "unknown function \"frobnicate\""));
    tree_free(&q2->base);
    q2 = plan_req(rel_filter(rel_read("trades.parquet"), ex_call("add", 2, ex_col("sym"), ex_col("price"))));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n) != PL_OK, true);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_INVALID_ARGUMENT);
    tree_free(&q2->base);
    q2 = plan_req(rel_filter(rel_read("trades.parquet"), ex_sql("price >")));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    assert_true(g_err.sql_pos >= 0 && g_err.sql_pos <= 7);
    tree_free(&q2->base);
    q2 = plan_req(rel_filter(rel_read("trades.parquet"), ex_sql("1 FROM x")));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    tree_free(&q2->base);
    q2 = plan_req(rel_filter(rel_read("trades.parquet"), ex_sql("true; DROP TABLE x")));
    assert_int_equal(call_method(&c, PL_SRV_SCHEMA, &q2->base, &resp, &n), PL_ERR_INVALID_ARG);
    tree_free(&q2->base);
    pl_srv_free(s);
}

static void test_limits_of_queries(void **state) {
    (void)state;
    /* a deadline that has passed: DEADLINE_EXCEEDED */
    pl_srv *s = new_srv();
    pl_srv_call c = make_call(s, "");
    c.deadline_ns = pl_now_ns() - 1;
    uint8_t *resp;
    size_t n;
    Polaroid__V1__CreateHandleRequest *q = calloc(1, sizeof *q);
    polaroid__v1__create_handle_request__init(q);
    q->plan = plan_of(rel_sql("SELECT sym, sum(price) FROM 'trades.parquet' GROUP BY sym ORDER BY 2"));
    q->materialize = true;
    assert_int_equal(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n), PL_ERR_CANCELLED);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_DEADLINE_EXCEEDED);
    /* cancelled by the client: CANCELLED */
    int cancel = 1;
    c.deadline_ns = 0;
    c.cancel = &cancel;
    assert_int_equal(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n), PL_ERR_CANCELLED);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_CANCELLED);
    assert_int_equal(pl_catalog_n_handles(pl_srv_catalog(s)), 0);
    pl_srv_free(s);
    /* the server-wide memory account: a tiny --max-memory refuses the query */
    pl_srv_config cfg;
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.max_memory = 1024;
    ok(pl_srv_new(&cfg, &s, E));
    c = make_call(s, "");
    pl_status st = call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n);
    if (st == PL_OK) {
        pl_free(resp);
        fail_msg("expected the memory limit to refuse the query");
    }
    assert_int_equal(st, PL_ERR_NOMEM);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(g_err.msg, "needs more memory than the server has left"));
    assert_non_null(strstr(g_err.msg, "--max-memory limit of 1.0 KiB"));
    assert_int_equal(pl_srv_memory_in_use(s), 0); /* every charge given back */
    pl_srv_free(s);
    /* per-client handle limit: RESOURCE_EXHAUSTED */
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.max_handles_per_client = 2;
    ok(pl_srv_new(&cfg, &s, E));
    c = make_call(s, "x");
    q->materialize = false;
    for (int i = 0; i < 2; i++) {
        ok(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n));
        pl_free(resp);
    }
    assert_int_equal(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n), PL_ERR_LIMIT);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_RESOURCE_EXHAUSTED);
    pl_srv_call c2 = make_call(s, "y");
    ok(call_method(&c2, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n));
    pl_free(resp);
    pl_srv_free(s);
    /* a request over the message size limit */
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.max_message_bytes = 64;
    ok(pl_srv_new(&cfg, &s, E));
    c = make_call(s, "");
    assert_int_equal(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n), PL_ERR_LIMIT);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_RESOURCE_EXHAUSTED);
    pl_srv_free(s);
    pl_srv_pb_set_max_alloc(0);
    tree_free(&q->base);
    /* a data root that is not a directory */
    pl_srv_config_init(&cfg);
    cfg.data_root = "/nonexistent/dir";
    pl_error_init(&g_err);
    assert_int_equal(pl_srv_new(&cfg, &s, &g_err), PL_ERR_NOT_FOUND);
}

/* Live tables and materialised handles count in --max-memory: an append, a table or a handle
 * that would pass it is RESOURCE_EXHAUSTED and changes nothing; drops give the bytes back. */
static void test_stored_data_memory(void **state) {
    (void)state;
    pl_srv_config cfg;
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    cfg.max_memory = 256 << 10;
    pl_srv *s = NULL;
    ok(pl_srv_new(&cfg, &s, E));
    pl_catalog *cat = pl_srv_catalog(s);
    pl_srv_call c = make_call(s, "");
    uint8_t *resp;
    size_t n;
    int64_t tb = 0, hb = 0;
    /* a table made from a query: its rows are charged */
    Polaroid__V1__CreateTableRequest *ct = calloc(1, sizeof *ct);
    polaroid__v1__create_table_request__init(ct);
    ct->name = strdup("copy");
    ct->as_plan = plan_of(rel_read("trades.parquet"));
    ok(call_method(&c, PL_SRV_CREATE_TABLE, &ct->base, &resp, &n));
    pl_free(resp);
    pl_catalog_memory(cat, &tb, &hb);
    assert_true(tb >= 100 * 8 * 3 && hb == 0);
    assert_int_equal(pl_srv_memory_in_use(s), tb);
    /* a materialised handle too (a lazy one holds no rows) */
    Polaroid__V1__CreateHandleRequest *q = calloc(1, sizeof *q);
    polaroid__v1__create_handle_request__init(q);
    q->plan = plan_of(rel_read("trades.parquet"));
    q->materialize = true;
    ok(call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n));
    Polaroid__V1__HandleInfo *h = polaroid__v1__handle_info__unpack(NULL, n, resp);
    pl_free(resp);
    pl_catalog_memory(cat, &tb, &hb);
    assert_true(hb >= 100 * 8 * 3);
    assert_int_equal(pl_srv_memory_in_use(s), tb + hb);
    /* appends until the limit refuses one: that append changes nothing */
    Polaroid__V1__CreateTableRequest t2 = POLAROID__V1__CREATE_TABLE_REQUEST__INIT;
    Polaroid__V1__ColumnDef cd[2] = {POLAROID__V1__COLUMN_DEF__INIT, POLAROID__V1__COLUMN_DEF__INIT};
    Polaroid__V1__ColumnDef *cds[2] = {&cd[0], &cd[1]};
    cd[0].name = "sym";
    cd[0].type = "VARCHAR";
    cd[1].name = "px";
    cd[1].type = "DOUBLE";
    t2.name = "ticks";
    t2.n_columns = 2;
    t2.columns = cds;
    ok(call_method(&c, PL_SRV_CREATE_TABLE, &t2.base, &resp, &n));
    pl_free(resp);
    size_t cap = 3000 * 40;
    char *rows = malloc(cap);
    size_t len = 0;
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(rows + len, cap - len, "{\"sym\": \"S%05d\", \"px\": %d.5}\n", i, i);
    pl_srv_append *a = NULL;
    ok(pl_srv_append_open(&c, &a, E));
    Polaroid__V1__AppendAck *ack = NULL;
    int64_t rows_before = 0, used_before = 0, rows_after_small = 0;
    pl_status st = PL_OK;
    for (int i = 0; i < 1000 && st == PL_OK; i++) {
        ok(pl_catalog_table_rows(cat, "ticks", &rows_before, E));
        used_before = pl_srv_memory_in_use(s);
        st = append_json(a, i ? NULL : "ticks", (uint64_t)i + 1, rows, &ack);
        if (!st) polaroid__v1__append_ack__free_unpacked(ack, NULL);
    }
    pl_status big = st;
    pl_error big_err = g_err;
    int64_t rows_now = 0;
    ok(pl_catalog_table_rows(cat, "ticks", &rows_now, E));
    assert_int_equal(rows_now, rows_before); /* the refused append changed nothing */
    assert_int_equal(pl_srv_memory_in_use(s), used_before);
    /* then small ones, until even those no longer fit (the account is all but full) */
    rows[0] = 0;
    for (int i = 0; i < 10; i++)
        snprintf(rows + strlen(rows), cap - strlen(rows), "{\"sym\": \"x\", \"px\": %d}\n", i);
    for (int i = 0; i < 100000; i++) {
        st = append_json(a, NULL, (uint64_t)i + 5000, rows, &ack);
        if (st) break;
        polaroid__v1__append_ack__free_unpacked(ack, NULL);
    }
    assert_int_equal(st, PL_ERR_NOMEM);
    used_before = pl_srv_memory_in_use(s);
    ok(pl_catalog_table_rows(cat, "ticks", &rows_after_small, E));
    pl_srv_append_close(a);
    free(rows);
    st = big;
    g_err = big_err;
    assert_int_equal(st, PL_ERR_NOMEM);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_non_null(strstr(g_err.msg, "appending to table \"ticks\""));
    assert_non_null(strstr(g_err.msg, "memory limit"));
    assert_true(rows_before >= 3000);
    int64_t rows_after = 0;
    ok(pl_catalog_table_rows(cat, "ticks", &rows_after, E));
    assert_int_equal(rows_after, rows_after_small);
    assert_int_equal(pl_srv_memory_in_use(s), used_before);
    pl_catalog_memory(cat, &tb, &hb);
    assert_int_equal(pl_srv_memory_in_use(s), tb + hb);
    /* a handle or a table that no longer fits */
    st = call_method(&c, PL_SRV_CREATE_HANDLE, &q->base, &resp, &n);
    if (st == PL_OK) pl_free(resp);
    assert_int_equal(st, PL_ERR_NOMEM);
    assert_int_equal(pl_srv_grpc_code(&g_err), GRPC_STATUS_RESOURCE_EXHAUSTED);
    assert_int_equal(pl_catalog_n_handles(cat), 1);
    assert_int_equal(pl_srv_memory_in_use(s), used_before);
    /* a lazy handle holds its plan (uploaded data, long SQL): charged about its size */
    char *sql = malloc(8192);
    int k = snprintf(sql, 8192, "SELECT id FROM 'trades.parquet' /* ");
    memset(sql + k, 'x', 6000);
    snprintf(sql + k + 6000, 8192 - (size_t)k - 6000, " */");
    Polaroid__V1__CreateHandleRequest *lazy = calloc(1, sizeof *lazy);
    polaroid__v1__create_handle_request__init(lazy);
    lazy->plan = plan_of(rel_sql(sql));
    free(sql);
    st = call_method(&c, PL_SRV_CREATE_HANDLE, &lazy->base, &resp, &n);
    if (st == PL_OK) pl_free(resp);
    assert_int_equal(st, PL_ERR_NOMEM);
    assert_non_null(strstr(g_err.msg, "storing the handle's plan"));
    assert_int_equal(pl_catalog_n_handles(cat), 1);
    assert_int_equal(pl_srv_memory_in_use(s), used_before);
    /* drops give it back */
    Polaroid__V1__DropTableRequest dt = POLAROID__V1__DROP_TABLE_REQUEST__INIT;
    dt.name = "ticks";
    ok(call_method(&c, PL_SRV_DROP_TABLE, &dt.base, &resp, &n));
    pl_free(resp);
    dt.name = "copy";
    ok(call_method(&c, PL_SRV_DROP_TABLE, &dt.base, &resp, &n));
    pl_free(resp);
    pl_catalog_memory(cat, &tb, &hb);
    assert_int_equal(tb, 0);
    assert_int_equal(pl_srv_memory_in_use(s), hb);
    Polaroid__V1__DropHandleRequest dq = POLAROID__V1__DROP_HANDLE_REQUEST__INIT;
    char *ids[1] = {h->id};
    dq.n_handle_ids = 1;
    dq.handle_ids = ids;
    ok(call_method(&c, PL_SRV_DROP_HANDLE, &dq.base, &resp, &n));
    pl_free(resp);
    assert_int_equal(pl_srv_memory_in_use(s), 0);
    /* with room, the lazy handle is stored and charged until dropped */
    ok(call_method(&c, PL_SRV_CREATE_HANDLE, &lazy->base, &resp, &n));
    Polaroid__V1__HandleInfo *lh = polaroid__v1__handle_info__unpack(NULL, n, resp);
    pl_free(resp);
    assert_true(pl_srv_memory_in_use(s) >= 6000);
    pl_catalog_memory(cat, &tb, &hb);
    assert_int_equal(hb, pl_srv_memory_in_use(s));
    ids[0] = lh->id;
    ok(call_method(&c, PL_SRV_DROP_HANDLE, &dq.base, &resp, &n));
    pl_free(resp);
    assert_int_equal(pl_srv_memory_in_use(s), 0);
    polaroid__v1__handle_info__free_unpacked(lh, NULL);
    tree_free(&lazy->base);
    polaroid__v1__handle_info__free_unpacked(h, NULL);
    tree_free(&q->base);
    tree_free(&ct->base);
    pl_srv_free(s);
}

/* A server that died (SIGKILL, crash) leaves its same-host result files: the next server's
 * start removes the files of processes that no longer exist, and only those. */
static void test_stale_result_files(void **state) {
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) _exit(0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child); /* a pid that is gone */
    char dead[128], dead2[128], alive[128], other[128];
    snprintf(dead, sizeof dead, "/dev/shm/polaroid-%d-1-0badf00d.arrows", (int)child);
    /* the second file of a result written in several files */
    snprintf(dead2, sizeof dead2, "/dev/shm/polaroid-%d-1-0badf00d-1.arrows", (int)child);
    snprintf(alive, sizeof alive, "/dev/shm/polaroid-%d-1-0badf00d.arrows", (int)getppid());
    snprintf(other, sizeof other, "/dev/shm/polaroid-%d-x.txt", (int)child);
    const char *paths[4] = {dead, alive, other, dead2};
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(paths[i], "w");
        assert_non_null(f);
        fputs("x", f);
        fclose(f);
    }
    pl_srv *s = new_srv();
    struct stat sb;
    assert_int_not_equal(stat(dead, &sb), 0);
    assert_int_not_equal(stat(dead2, &sb), 0);
    assert_int_equal(stat(alive, &sb), 0); /* its server still runs */
    assert_int_equal(stat(other, &sb), 0); /* not a result file */
    unlink(alive);
    unlink(other);
    pl_srv_free(s);
}

static void test_error_mapping(void **state) {
    (void)state;
    static const struct {
        pl_status st;
        const char *msg;
        int code;
    } cases[] = {
        {PL_ERR_NOT_FOUND, "x", GRPC_STATUS_NOT_FOUND},
        {PL_ERR_INVALID_ARG, "bad", GRPC_STATUS_INVALID_ARGUMENT},
        {PL_ERR_SQL, "syntax error", GRPC_STATUS_INVALID_ARGUMENT},
        {PL_ERR_TYPE, "no add(utf8, int64)", GRPC_STATUS_INVALID_ARGUMENT},
        {PL_ERR_INVALID_ARG, "table \"t\" already exists", GRPC_STATUS_ALREADY_EXISTS},
        {PL_ERR_LIMIT, "plan nested deeper than 256", GRPC_STATUS_INVALID_ARGUMENT},
        {PL_ERR_LIMIT, "too many handles", GRPC_STATUS_RESOURCE_EXHAUSTED},
        {PL_ERR_NOMEM, "memory limit", GRPC_STATUS_RESOURCE_EXHAUSTED},
        {PL_ERR_CANCELLED, "query deadline exceeded", GRPC_STATUS_DEADLINE_EXCEEDED},
        {PL_ERR_CANCELLED, "query cancelled", GRPC_STATUS_CANCELLED},
        {PL_ERR_PERMISSION, "leaves the data root", GRPC_STATUS_PERMISSION_DENIED},
        {PL_ERR_CORRUPT, "bad page", GRPC_STATUS_DATA_LOSS},
        {PL_ERR_IO, "read failed", GRPC_STATUS_UNAVAILABLE},
        {PL_ERR_UNSUPPORTED, "unions", GRPC_STATUS_UNIMPLEMENTED},
        {PL_ERR_INTERNAL, "bug", GRPC_STATUS_INTERNAL},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(cases); i++) {
        pl_error e;
        pl_error_init(&e);
        pl_error_set(&e, cases[i].st, "%s", cases[i].msg);
        assert_int_equal(pl_srv_grpc_code(&e), cases[i].code);
    }
    /* the detail: every field, the root stripped */
    pl_error e;
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_CORRUPT, "\"%s/a/b.parquet\": bad page", g_root);
    pl_error_set_path(&e, "/x");
    assert_true(strlen(g_root) < 200);
    snprintf(e.path, sizeof e.path, "%.200s/a/b.parquet", g_root);
    snprintf(e.hint, sizeof e.hint, "rewrite it");
    e.row_group = 3;
    e.byte_offset = 91234;
    e.sql_pos = -1;
    pl_error_set_column(&e, 2, "price");
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(pl_srv_error_detail(&e, g_root, "req-1", &bytes, &len), PL_OK);
    Polaroid__V1__ErrorDetail *d = polaroid__v1__error_detail__unpack(NULL, len, bytes);
    assert_non_null(d);
    assert_string_equal(d->status, pl_status_name(PL_ERR_CORRUPT));
    assert_string_equal(d->message, "\"a/b.parquet\": bad page");
    assert_string_equal(d->path, "a/b.parquet");
    assert_string_equal(d->hint, "rewrite it");
    assert_string_equal(d->column, "price");
    assert_int_equal(d->column_index, 2);
    assert_int_equal(d->row_group, 3);
    assert_int_equal(d->byte_offset, 91234);
    assert_int_equal(d->sql_position, -1);
    assert_string_equal(d->request_id, "req-1");
    assert_string_equal(d->plan_path, "");
    polaroid__v1__error_detail__free_unpacked(d, NULL);
    pl_free(bytes);
    /* plan paths: "root", ".name" and "[n]" steps, then ": "; anything else is message */
    static const struct {
        const char *msg, *path, *rest;
    } pp[] = {{"root: bad", "root", "bad"},
              {"root.select.exprs[12].call.args[0]: x: y", "root.select.exprs[12].call.args[0]", "x: y"},
              {"root.join.on[0].left_on: z", "root.join.on[0].left_on", "z"},
              {"rooted: no", "", "rooted: no"},
              {"root.x[1: no", "", "root.x[1: no"},
              {"root.[1]: no", "", "root.[1]: no"},
              {"root.a:no", "", "root.a:no"},
              {"column \"root.a\": no", "", "column \"root.a\": no"}};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++) {
        pl_error pe;
        pl_error_init(&pe);
        pl_error_set(&pe, PL_ERR_INVALID_ARG, "%s", pp[i].msg);
        assert_int_equal(pl_srv_error_detail(&pe, g_root, "", &bytes, &len), PL_OK);
        d = polaroid__v1__error_detail__unpack(NULL, len, bytes);
        assert_string_equal(d->plan_path, pp[i].path);
        assert_string_equal(d->message, pp[i].rest);
        polaroid__v1__error_detail__free_unpacked(d, NULL);
        pl_free(bytes);
    }
    /* the allocator refuses what a hostile length could ask for, and counts */
    ProtobufCAllocator *a = pl_srv_pb_allocator();
    pl_srv_pb_set_max_alloc(1 << 20);
    int64_t before = pl_srv_pb_allocated_bytes();
    void *p = a->alloc(a->allocator_data, 1000);
    assert_non_null(p);
    assert_int_equal(pl_srv_pb_allocated_bytes() - before, 1000);
    a->free(a->allocator_data, p);
    assert_int_equal(pl_srv_pb_allocated_bytes(), before);
    assert_null(a->alloc(a->allocator_data, (size_t)2 << 20));
    pl_srv_pb_set_max_alloc(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_table),
        cmocka_unit_test(test_server_info),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_errors_and_codes),
        cmocka_unit_test(test_explain_describe),
        cmocka_unit_test(test_write),
        cmocka_unit_test(test_handles),
        cmocka_unit_test(test_tables_and_append),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_limits_of_queries),
        cmocka_unit_test(test_stored_data_memory),
        cmocka_unit_test(test_stale_result_files),
        cmocka_unit_test(test_error_mapping),
    };
    return cmocka_run_group_tests(tests, root_setup, root_teardown);
}
