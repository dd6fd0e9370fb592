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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_table),
        cmocka_unit_test(test_server_info),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_errors_and_codes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
