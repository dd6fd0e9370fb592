/* test_client.c - include/polaroid/client.h against a real server started in-process on
 * 127.0.0.1:0 (server.h) with the metrics and logs of observe.c attached: results of
 * pl_client_sql equal the same SQL run locally through a session on the same files (a result of
 * many response messages included), server errors come back as the engine's pl_error fields
 * (status, path, SQL position), tokens, the cancel flag and a server that is not there; and the
 * metrics registry counts the calls the client made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "polaroid/client.h"
#include "polaroid/sql.h"
#include "server/log.h"
#include "server/observe.h"
#include "server/server.h"
#include "srv_data_util.h"

#define N_ROWS 200000
#define TOKEN "client-test-token"

static char g_root[256];

/* id int64 0..n-1; name "name \"<id % 1000>\"" (NULL when id % 11 == 5); x float64 (NULL
 * when id % 13 == 2) */
static void row(pl_builder **b, int64_t i) {
    pl_error err;
    assert_int_equal(pl_builder_append_i64(b[0], i, &err), PL_OK);
    char txt[32];
    int len = snprintf(txt, sizeof txt, "name \"%lld\"", (long long)(i % 1000));
    if (i % 11 == 5)
        assert_int_equal(pl_builder_append_null(b[1], &err), PL_OK);
    else
        assert_int_equal(pl_builder_append_bytes(b[1], txt, len, &err), PL_OK);
    if (i % 13 == 2)
        assert_int_equal(pl_builder_append_null(b[2], &err), PL_OK);
    else
        assert_int_equal(pl_builder_append_f64(b[2], (double)(i % 977) / 7.0, &err), PL_OK);
}

static int group_setup(void **state) {
    (void)state;
    srv_make_dir(g_root, sizeof g_root, "pl_test_client");
    pl_field f[3] = {{(char *)"id", pl_type_simple(PL_TYPE_INT64), false},
                     {(char *)"name", pl_type_simple(PL_TYPE_UTF8), true},
                     {(char *)"x", pl_type_simple(PL_TYPE_FLOAT64), true}};
    pl_table *t = srv_gen_table(3, f, N_ROWS, row);
    /* plain strings: read back as utf8, like the server sends strings */
    srv_write_file(g_root, "t.parquet", t, PL_FORMAT_PARQUET, 30000, false);
    pl_table_release(t);
    srv_write_text(g_root, "tokens.txt", TOKEN "\n");
    /* call lines go nowhere: this test checks metrics, test_log.c checks lines */
    pl_log_set_fd(-1);
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    pl_log_set_fd(2);
    return srv_remove_dir(g_root);
}

typedef struct running {
    pl_server *srv;
    pl_srv_obs *obs;
    char addr[128];
} running;

static void start(running *r, bool tokens) {
    pl_server_opts o;
    pl_server_opts_init(&o);
    o.srv.data_root = g_root;
    o.srv.threads = 2;
    o.listen = "127.0.0.1:0";
    o.network_threads = 1;
    char tok[512];
    snprintf(tok, sizeof tok, "%s/tokens.txt", g_root);
    if (tokens) o.token_file = tok;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_srv_obs_new(&o, "127.0.0.1:0", "json", &r->obs, &err), PL_OK);
    assert_non_null(pl_srv_obs_metrics_address(r->obs));
    if (pl_server_start(&o, &r->srv, &err) != PL_OK) fail_msg("server: %s", err.msg);
    pl_srv_obs_attach(r->obs, r->srv);
    snprintf(r->addr, sizeof r->addr, "%s", pl_server_address(r->srv));
}

static void stop(running *r) {
    pl_server_shutdown(r->srv);
    pl_srv_obs_detach(r->obs);
    pl_server_free(r->srv);
    pl_srv_obs_free(r->obs);
}

/* The same SQL run locally, with paths under the root. */
static pl_table *local(const char *sql_fmt) {
    char sql[1024];
    snprintf(sql, sizeof sql, sql_fmt, g_root, g_root);
    pl_session *s;
    pl_error err;
    assert_int_equal(pl_session_new(&s, &err), PL_OK);
    pl_df *df;
    if (pl_session_query(s, sql, &df, &err) != PL_OK) fail_msg("local: %s", err.msg);
    pl_table *t;
    assert_int_equal(pl_df_collect(df, NULL, &t, &err), PL_OK);
    pl_df_release(df);
    pl_session_free(s);
    return t;
}

static pl_table *remote(pl_client *c, const char *sql_fmt) {
    char sql[1024];
    snprintf(sql, sizeof sql, sql_fmt, ".", ".");
    pl_table *t = NULL;
    pl_error err;
    pl_error_init(&err);
    if (pl_client_sql_table(c, sql, &t, &err) != PL_OK) fail_msg("remote: %s", err.msg);
    return t;
}

static void test_results_equal_local(void **state) {
    (void)state;
    running r;
    start(&r, false);
    pl_client *c = NULL;
    pl_error err;
    assert_int_equal(pl_client_connect(r.addr, NULL, &c, &err), PL_OK);
    static const char *queries[] = {
        "SELECT * FROM '%s/t.parquet' ORDER BY id",
        /* no float sums: their order (and so their last bits) depends on the threads */
        ("SELECT name, count(*) AS n, sum(id) AS s, min(x) AS lo, max(x) AS hi FROM "
         "'%s/t.parquet' GROUP BY name ORDER BY name NULLS FIRST"),
        "SELECT id, x FROM '%s/t.parquet' WHERE id %% 1000 = 7 AND x > 3 ORDER BY id",
        "SELECT * FROM '%s/t.parquet' WHERE id < 0",
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(queries); i++) {
        pl_table *want = local(queries[i]);
        pl_table *got = remote(c, queries[i]);
        assert_int_equal(got->n_rows, want->n_rows);
        if (!pl_table_equals(got, want)) fail_msg("query %zu: results differ", i);
        pl_client_summary sum;
        pl_client_last_summary(&sum);
        assert_int_equal(sum.rows, want->n_rows);
        if (i == 0) { /* many messages */
            if (!(sum.batches > 1 && sum.bytes > (2 << 20)))
                fail_msg("batches %lld bytes %lld", (long long)sum.batches, (long long)sum.bytes);
        }
        pl_table_release(want);
        pl_table_release(got);
    }
    /* a small message size: the same rows in many more, smaller messages */
    pl_client_close(c);
    pl_client_opts o;
    pl_client_opts_init(&o);
    o.max_message_bytes = 64 << 10;
    assert_int_equal(pl_client_connect_opts(r.addr, &o, &c, &err), PL_OK);
    pl_table *want = local(queries[0]);
    pl_table *got = remote(c, queries[0]);
    assert_true(pl_table_equals(got, want));
    pl_table_release(want);
    pl_table_release(got);

    /* batches arrive as the stream is read; stopping early cancels the rest of the call */
    pl_stream *st = NULL;
    assert_int_equal(pl_client_sql(c, "SELECT * FROM 't.parquet' ORDER BY id", &st, &err), PL_OK);
    assert_int_equal(st->schema->n_fields, 3);
    pl_batch *b = NULL;
    assert_int_equal(pl_stream_next(st, &b, &err), PL_OK);
    assert_non_null(b);
    assert_true(b->n_rows > 0 && b->n_rows < N_ROWS);
    pl_batch_release(b);
    pl_stream_free(st);
    want = local(queries[3]);
    got = remote(c, queries[3]); /* the client goes on */
    assert_true(pl_table_equals(got, want));
    pl_table_release(want);
    pl_table_release(got);

    /* the metrics saw every call */
    char *text = NULL;
    size_t len = 0;
    /* the cancelled call's hook (and the running-queries gauge, which its runner lowers when
     * the query's last reference goes) may settle a moment after the client moved on */
    for (int tries = 0; tries < 200; tries++) {
        assert_int_equal(pl_metrics_render(pl_srv_obs_metrics(r.obs), &text, &len, &err), PL_OK);
        if (strstr(text, "polaroid_call_duration_seconds_count{method=\"Execute\"} 7\n") &&
            strstr(text, "polaroid_running_queries 0\n"))
            break;
        pl_free(text);
        text = NULL;
        usleep(10000);
    }
    assert_non_null(text);
    /* 6 OK, and the stream stopped early is CANCELLED, or OK when the server had already sent
     * everything by then */
    const char *ok = strstr(text, "polaroid_calls_total{method=\"Execute\",code=\"OK\"} ");
    assert_non_null(ok);
    long n_ok = strtol(ok + strlen("polaroid_calls_total{method=\"Execute\",code=\"OK\"} "), NULL, 10);
    assert_true(n_ok == 6 || n_ok == 7);
    assert_non_null(strstr(text, "polaroid_call_duration_seconds_count{method=\"Execute\"} 7\n"));
    assert_non_null(strstr(text, "polaroid_running_queries 0\n"));
    pl_free(text);
    pl_client_close(c);
    stop(&r);
}

static void test_errors_carry_the_engine_fields(void **state) {
    (void)state;
    running r;
    start(&r, false);
    pl_client *c = NULL;
    pl_error err;
    assert_int_equal(pl_client_connect(r.addr, "ignored-token", &c, &err), PL_OK);
    pl_stream *s = NULL;

    pl_error_init(&err);
    assert_int_equal(pl_client_sql(c, "SELECT * FROM 'nope.parquet'", &s, &err), PL_ERR_NOT_FOUND);
    assert_null(s);
    assert_string_equal(err.path, "nope.parquet"); /* relative: the root is not shown */
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_int_equal(err.sql_pos, 14);

    /* an error without paths: exactly the local one */
    static const char *bad_sql[] = {"SELECT nope FROM 't.parquet'", "SELECT 1 +", "SELECT 'a' + 1"};
    for (size_t i = 0; i < PL_ARRAY_LEN(bad_sql); i++) {
        pl_session *ls;
        assert_int_equal(pl_session_new(&ls, NULL), PL_OK);
        pl_df *df = NULL;
        pl_error lerr;
        pl_error_init(&lerr);
        char sql[600];
        snprintf(sql, sizeof sql, "%s", bad_sql[i]);
        if (strstr(sql, "'t.parquet'")) snprintf(sql, sizeof sql, "SELECT nope FROM '%s/t.parquet'", g_root);
        pl_status lst = pl_session_query(ls, sql, &df, &lerr);
        pl_table *lt = NULL;
        if (lst == PL_OK) {
            lst = pl_df_collect(df, NULL, &lt, &lerr);
            pl_df_release(df);
        }
        pl_session_free(ls);
        assert_int_not_equal(lst, PL_OK);
        pl_error_init(&err);
        /* the server may report column and type errors of a plan as INVALID_ARG */
        pl_status got = pl_client_sql(c, bad_sql[i], &s, &err);
        assert_true(got == lst || got == PL_ERR_INVALID_ARG);
        assert_int_equal(err.code, got);
        assert_string_equal(err.msg + (strncmp(err.msg, "root.sql: ", 10) ? 0 : 10), lerr.msg);
        assert_string_equal(err.hint, lerr.hint);
        if (i > 0) assert_int_equal(err.sql_pos, lerr.sql_pos); /* same text */
        else assert_int_equal(err.sql_pos, 7);
    }

    pl_error_init(&err);
    assert_int_equal(pl_client_sql(c, "SELECT * FROM '../x.parquet'", &s, &err), PL_ERR_PERMISSION);

    /* a malformed plan */
    static const uint8_t junk[] = {0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff};
    pl_error_init(&err);
    assert_int_equal(pl_client_execute(c, junk, sizeof junk, &s, &err), PL_ERR_INVALID_ARG);

    /* the metrics count the failures by code (a call is counted just after its status went
     * out: wait for the last one) */
    char *text = NULL;
    size_t len = 0;
    for (int tries = 0; tries < 200; tries++) {
        assert_int_equal(pl_metrics_render(pl_srv_obs_metrics(r.obs), &text, &len, &err), PL_OK);
        if (strstr(text, "{method=\"Execute\",code=\"INVALID_ARGUMENT\"} 4\n")) break;
        pl_free(text);
        text = NULL;
        usleep(10000);
    }
    assert_non_null(text);
    assert_non_null(strstr(text, "{method=\"Execute\",code=\"NOT_FOUND\"} 1\n"));
    assert_non_null(strstr(text, "{method=\"Execute\",code=\"PERMISSION_DENIED\"} 1\n"));
    pl_free(text);
    pl_client_close(c);
    stop(&r);
}

static void test_tokens_and_no_server(void **state) {
    (void)state;
    running r;
    start(&r, true);
    pl_client *c = NULL;
    pl_error err;
    pl_table *t = NULL;
    assert_int_equal(pl_client_connect(r.addr, TOKEN, &c, &err), PL_OK);
    assert_int_equal(pl_client_sql_table(c, "SELECT count(*) AS n FROM 't.parquet'", &t, &err),
                     PL_OK);
    assert_int_equal(t->n_rows, 1);
    pl_table_release(t);
    pl_client_close(c);
    static const char *bad[] = {NULL, "wrong"};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pl_client_connect(r.addr, bad[i], &c, &err), PL_OK);
        pl_error_init(&err);
        assert_int_equal(pl_client_sql_table(c, "SELECT 1", &t, &err), PL_ERR_PERMISSION);
        assert_non_null(strstr(err.msg, "token"));
        pl_client_close(c);
    }
    stop(&r);
    /* nobody listens there any more */
    assert_int_equal(pl_client_connect(r.addr, NULL, &c, &err), PL_OK);
    pl_error_init(&err);
    assert_int_equal(pl_client_sql_table(c, "SELECT 1", &t, &err), PL_ERR_IO);
    assert_non_null(strstr(err.msg, "cannot reach the server"));
    pl_client_close(c);
    assert_int_equal(pl_client_connect("", NULL, &c, &err), PL_ERR_INVALID_ARG);
    pl_client_opts o;
    pl_client_opts_init(&o);
    o.tls_ca_file = "/nonexistent/ca.pem";
    assert_int_equal(pl_client_connect_opts("127.0.0.1:1", &o, &c, &err), PL_ERR_NOT_FOUND);
}

typedef struct canceller {
    int *flag;
    int delay_ms;
} canceller;

static void *cancel_later(void *arg) {
    canceller *k = arg;
    usleep((useconds_t)k->delay_ms * 1000);
    __atomic_store_n(k->flag, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void test_cancel_and_timeout(void **state) {
    (void)state;
    running r;
    start(&r, false);
    /* a long query: a cross join counted */
    const char *slow = "SELECT count(*) FROM read_parquet('t.parquet') a, read_parquet('t.parquet') "
                       "b WHERE a.x + b.x < -1";
    int flag = 0;
    pl_client_opts o;
    pl_client_opts_init(&o);
    o.cancel = &flag;
    pl_client *c = NULL;
    pl_error err;
    assert_int_equal(pl_client_connect_opts(r.addr, &o, &c, &err), PL_OK);
    canceller k = {&flag, 300};
    pthread_t th;
    pthread_create(&th, NULL, cancel_later, &k);
    int64_t t0 = pl_now_ns();
    pl_table *t = NULL;
    pl_error_init(&err);
    assert_int_equal(pl_client_sql_table(c, slow, &t, &err), PL_ERR_CANCELLED);
    int64_t took = pl_now_ns() - t0;
    pthread_join(th, NULL);
    assert_true(took < 5000000000LL);
    pl_client_close(c);
    /* the client's deadline */
    pl_client_opts_init(&o);
    o.timeout_ms = 300;
    assert_int_equal(pl_client_connect_opts(r.addr, &o, &c, &err), PL_OK);
    t0 = pl_now_ns();
    pl_error_init(&err);
    assert_int_equal(pl_client_sql_table(c, slow, &t, &err), PL_ERR_CANCELLED);
    assert_true(pl_now_ns() - t0 < 5000000000LL);
    pl_client_close(c);
    stop(&r);
}

/* The response decoding alone (the fuzz target's entry): the committed seeds, built from a
 * pyarrow stream of 30 rows in 3 batches with a dictionary column, sent whole, one message per
 * response, and cut in the middle of a message; then hostile variants. */
static void test_decode_responses(void **state) {
    (void)state;
    static const char *seeds[] = {"generated_whole", "generated_per_message", "generated_split"};
    for (size_t i = 0; i < PL_ARRAY_LEN(seeds); i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/client/%s", PL_SOURCE_DIR, seeds[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        uint8_t buf[1 << 16];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        int64_t rows = -1;
        pl_error err;
        pl_error_init(&err);
        if (pl_client_decode_for_testing(buf, n, &rows, &err) != PL_OK)
            fail_msg("%s: %s", seeds[i], err.msg);
        assert_int_equal(rows, 30);
        /* every truncation is an error or fewer rows, never a crash */
        for (size_t cut = 0; cut < n; cut += 7) {
            int64_t r2 = -1;
            if (pl_client_decode_for_testing(buf, cut, &r2, NULL) == PL_OK) assert_true(r2 <= 30);
        }
        /* flipped bytes */
        for (size_t k = 0; k < n; k += 13) {
            buf[k] ^= 0x5a;
            int64_t r2 = -1;
            (void)pl_client_decode_for_testing(buf, n, &r2, NULL);
            buf[k] ^= 0x5a;
        }
    }
    /* a shared-memory answer that was not asked for, and a huge length */
    static const uint8_t shm[] = {4, 0, 0, 0, 0x12, 0x02, 0x0a, 0x00};
    pl_error err;
    int64_t rows;
    assert_int_equal(pl_client_decode_for_testing(shm, sizeof shm, &rows, &err), PL_ERR_UNSUPPORTED);
    static const uint8_t huge[] = {6, 0, 0, 0, 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(pl_client_decode_for_testing(huge, sizeof huge, &rows, &err), PL_ERR_CORRUPT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_equal_local),
        cmocka_unit_test(test_errors_carry_the_engine_fields),
        cmocka_unit_test(test_tokens_and_no_server),
        cmocka_unit_test(test_cancel_and_timeout),
        cmocka_unit_test(test_decode_responses),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
