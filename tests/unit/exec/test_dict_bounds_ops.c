/* Every operator against a dictionary column whose indices leave the dictionary, assembled
 * through the C API (pl_array_new does not look at indices; the readers validate what they
 * decode): a sweep of SQL queries over such a table (sort and top-N, window partitions and
 * orders, group-by, distinct, joins, set operations, filters, functions, casts, writers) must each
 * either succeed (queries that never look at the bad row's value) or fail with PL_ERR_CORRUPT
 * naming the index, never read out of bounds (ASan). The sort key encoder (src/exec/sort) used
 * to index its dictionary table with the raw index: ORDER BY and window PARTITION/ORDER BY a
 * dictionary column crashed. NULL rows may hold any index: sorting such a column works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "polaroid/polaroid.h"

static pl_error g_err;
#define E (&g_err)

static void ok_(pl_status st, const pl_error *err, const char *expr, int line) {
    if (st != PL_OK) {
        char buf[1024];
        fail_msg("line %d: %s failed: %s", line, expr, pl_error_format(err, buf, sizeof buf));
    }
}
#define ok(expr) ok_((expr), E, #expr, __LINE__)

#define N_ROWS 20000
#define DICT_N 50

/* "s00".."s49" (int64 0..49 when ints) */
static pl_array *dict_values(bool ints) {
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(ints ? PL_TYPE_INT64 : PL_TYPE_UTF8), DICT_N, &b, E));
    for (int64_t i = 0; i < DICT_N; i++) {
        char s[16];
        int len = snprintf(s, sizeof s, "s%02lld", (long long)i);
        if (ints) ok(pl_builder_append_i64(b, i, E));
        else ok(pl_builder_append_bytes(b, s, len, E));
    }
    pl_array *a = NULL;
    ok(pl_builder_finish(b, &a, E));
    pl_builder_free(b);
    return a;
}

/* Row i has index (i * 7) % DICT_N; row bad_row (if >= 0) has index bad; every null_every-th
 * row (0 = none) is NULL with index 1 << 30. */
static pl_array *dict_column(bool ints, int64_t bad_row, int32_t bad, int64_t null_every) {
    pl_type *t = NULL;
    ok(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(ints ? PL_TYPE_INT64 : PL_TYPE_UTF8),
                              &t, E));
    pl_buf *idx = NULL, *valid = NULL;
    ok(pl_buf_new(N_ROWS * 4, &idx, E));
    idx->size = N_ROWS * 4;
    int32_t *p = (int32_t *)(void *)idx->data;
    int64_t nulls = 0;
    if (null_every) ok(pl_buf_new_zeroed(N_ROWS / 8 + 1, &valid, E));
    for (int64_t i = 0; i < N_ROWS; i++) {
        bool null = null_every && i % null_every == 3;
        p[i] = i == bad_row ? bad : null ? 1 << 30 : (int32_t)(i * 7 % DICT_N);
        if (valid && !null) pl_bit_set(valid->data, i);
        nulls += null;
    }
    pl_array *a = NULL;
    ok(pl_array_new(t, N_ROWS, nulls, valid, idx, NULL, 0, NULL, dict_values(ints), &a, E));
    return a;
}

/* t(k dictionary<int32, utf8>, v int64 = row, ki dictionary<int32, int64>) */
static pl_session *session(int64_t bad_row, int32_t bad, int64_t null_every) {
    pl_array *cols[3] = {dict_column(false, bad_row, bad, null_every), NULL,
                         dict_column(true, bad_row, bad, null_every)};
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), N_ROWS, &b, E));
    for (int64_t i = 0; i < N_ROWS; i++) ok(pl_builder_append_i64(b, i, E));
    ok(pl_builder_finish(b, &cols[1], E));
    pl_builder_free(b);
    pl_field f[3] = {{"k", cols[0]->type, true},
                     {"v", pl_type_simple(PL_TYPE_INT64), true},
                     {"ki", cols[2]->type, true}};
    pl_schema *sc = NULL;
    ok(pl_schema_new(3, f, &sc, E));
    pl_batch *bt = NULL;
    ok(pl_batch_new(pl_schema_retain(sc), N_ROWS, cols, &bt, E));
    pl_table *t = NULL;
    ok(pl_table_new(sc, &t, E));
    ok(pl_table_append(t, bt, E));
    pl_batch_release(bt);
    pl_schema_release(sc);
    pl_df *df = NULL;
    ok(pl_df_from_table(t, &df, E));
    pl_table_release(t);
    pl_session *s = NULL;
    ok(pl_session_new(&s, E));
    pl_exec_opts eo;
    pl_exec_opts_init(&eo);
    eo.n_threads = 2;
    pl_session_set_exec_opts(s, &eo);
    ok(pl_session_register(s, "t", df, E));
    pl_df_release(df);
    return s;
}

typedef struct collected {
    pl_table *last;
} collected;

static pl_status on_result(void *user, pl_sql_result *r, pl_error *err) {
    collected *c = user;
    if (!r->df) return PL_OK;
    pl_exec_opts eo;
    pl_exec_opts_init(&eo);
    eo.n_threads = 2;
    pl_table *t = NULL;
    PL_TRY(pl_df_collect(r->df, &eo, &t, err));
    pl_table_release(c->last);
    c->last = t;
    return PL_OK;
}

/* Runs a script; the last query's result in *out (NULL to drop it). */
static pl_status run(pl_session *s, const char *sql, pl_table **out) {
    collected c = {NULL};
    pl_error_init(E);
    pl_status st = pl_session_run(s, sql, on_result, &c, E);
    if (out && !st) *out = c.last;
    else pl_table_release(c.last);
    return st;
}

static void expect_corrupt(pl_status st, const char *sql) {
    if (st == PL_ERR_CORRUPT && strstr(g_err.msg, "dictionary index") &&
        strstr(g_err.msg, "out of range"))
        return;
    char buf[1024];
    fail_msg("%s: expected a dictionary index error, got %d: %s", sql, (int)st,
             pl_error_format(E, buf, sizeof buf));
}

/* queries whose result depends on the bad row's key: each must fail */
static const char *const MUST_FAIL[] = {
    "SELECT * FROM t ORDER BY k",
    "SELECT * FROM t ORDER BY ki DESC",
    "SELECT * FROM t ORDER BY k LIMIT 5",
    "SELECT * FROM t ORDER BY v, k DESC LIMIT 5000",
    "SELECT k, row_number() OVER (PARTITION BY k ORDER BY v) FROM t",
    "SELECT v, rank() OVER (ORDER BY k) FROM t",
    "SELECT v, sum(v) OVER (PARTITION BY ki) FROM t",
    "SELECT lag(k) OVER (ORDER BY k) FROM t",
    "SELECT count(*) FROM (SELECT DISTINCT ON (k) k, v FROM t ORDER BY k, v)",
    "SELECT k, count(*) FROM t GROUP BY k",
    "SELECT ki, sum(v) FROM t GROUP BY ki",
    "SELECT k, ki, count(*) FROM t GROUP BY k, ki",
    "SELECT count(DISTINCT k) FROM t",
    "SELECT DISTINCT k FROM t",
    "SELECT min(k), max(k) FROM t",
    "SELECT min(ki), max(ki), sum(ki) FROM t",
    "SELECT median(ki) FROM t",
    "SELECT arg_max(k, v) FROM t",
    "SELECT string_agg(k, ',') FROM t",
    "SELECT count(*) FROM t WHERE k = 's03'",
    "SELECT count(*) FROM t WHERE ki = 3",
    "SELECT count(*) FROM t WHERE k IN ('s01', 's02')",
    "SELECT count(*) FROM t WHERE k > 's20'",
    "SELECT count(*) FROM t WHERE k LIKE 's1%'",
    "SELECT upper(k) FROM t",
    "SELECT CAST(k AS VARCHAR) FROM t",
    "SELECT ki + 1 FROM t",
    "SELECT length(k) FROM t",
    "SELECT coalesce(k, 'z') FROM t",
    "SELECT CASE WHEN ki > 3 THEN k ELSE 'a' END FROM t",
    "SELECT count(*) FROM t a JOIN t b ON a.k = b.k WHERE a.v < 100",
    "SELECT count(*) FROM t a LEFT JOIN t b ON a.ki = b.ki AND a.v < 5",
    "SELECT v FROM t WHERE k IN (SELECT k FROM t WHERE v < 10)",
    "SELECT k FROM t UNION SELECT k FROM t",
    "SELECT k FROM t INTERSECT SELECT k FROM t",
    "SELECT k FROM t EXCEPT SELECT k FROM t WHERE v < 10",
    "SELECT k, sum(v) FROM t GROUP BY ROLLUP (k)",
    "CREATE TABLE c AS SELECT * FROM t",
    "COPY (SELECT * FROM t) TO '@.parquet'",
    "COPY (SELECT * FROM t) TO '@.csv'",
};

/* queries that never look at the bad row's key value: they may succeed */
static const char *const MAY_PASS[] = {
    "SELECT count(*) FROM t",
    "SELECT * FROM t",
    "SELECT * FROM t ORDER BY v LIMIT 3",
    "SELECT k FROM t LIMIT 10",
    "SELECT first_value(k) OVER (PARTITION BY v % 7 ORDER BY v) FROM t",
    "SELECT count(*) FROM t WHERE v < 10 AND k = 's00'",
    "COPY (SELECT * FROM t) TO '@.arrow'",
};

static void run_all(int32_t bad) {
    char tmp[64], sql[512];
    snprintf(tmp, sizeof tmp, "/tmp/pl_test_dictops_%d", (int)getpid());
    for (int64_t bad_row = 0; bad_row < N_ROWS; bad_row += N_ROWS / 2 - 1) {
        pl_session *s = session(bad_row, bad, 0);
        for (size_t q = 0; q < sizeof MUST_FAIL / sizeof *MUST_FAIL; q++) {
            const char *at = strchr(MUST_FAIL[q], '@');
            if (at) snprintf(sql, sizeof sql, "%.*s%s%s", (int)(at - MUST_FAIL[q]), MUST_FAIL[q],
                             tmp, at + 1);
            else snprintf(sql, sizeof sql, "%s", MUST_FAIL[q]);
            expect_corrupt(run(s, sql, NULL), sql);
        }
        for (size_t q = 0; q < sizeof MAY_PASS / sizeof *MAY_PASS; q++) {
            const char *at = strchr(MAY_PASS[q], '@');
            if (at) snprintf(sql, sizeof sql, "%.*s%s%s", (int)(at - MAY_PASS[q]), MAY_PASS[q],
                             tmp, at + 1);
            else snprintf(sql, sizeof sql, "%s", MAY_PASS[q]);
            pl_status st = run(s, sql, NULL);
            if (st) expect_corrupt(st, sql);
        }
        pl_session_free(s);
    }
    const char *exts[] = {".parquet", ".csv", ".arrow"};
    for (int k = 0; k < 3; k++) {
        snprintf(sql, sizeof sql, "%s%s", tmp, exts[k]);
        unlink(sql);
    }
}

static void test_index_past_the_end(void **state) {
    (void)state;
    run_all(DICT_N);
}

static void test_index_far_past_the_end(void **state) {
    (void)state;
    run_all(1 << 30);
}

static void test_negative_index(void **state) {
    (void)state;
    run_all(-1);
}

/* NULL rows with indices far out of range: sorting and window partitions work (NULLs last by
 * default), in the values' order. */
static void test_null_rows_sort(void **state) {
    (void)state;
    pl_session *s = session(-1, 0, 5);
    const char *sqls[] = {"SELECT k, ki FROM t ORDER BY k, v",
                          "SELECT k, ki FROM t ORDER BY ki, v",
                          "SELECT k, ki FROM (SELECT k, ki, v, row_number() OVER (PARTITION BY k "
                          "ORDER BY v) AS r FROM t) ORDER BY k, r"};
    for (size_t q = 0; q < sizeof sqls / sizeof *sqls; q++) {
        pl_table *t = NULL;
        ok(run(s, sqls[q], &t));
        assert_int_equal(t->n_rows, N_ROWS);
        pl_batch *b = NULL;
        ok(pl_table_combine(t, &b, E));
        pl_array *k = b->columns[0], *ki = b->columns[1];
        int64_t prev = -1, nulls = 0;
        for (int64_t i = 0; i < N_ROWS; i++) {
            if (!pl_array_is_valid(k, i)) {
                assert_false(pl_array_is_valid(ki, i));
                nulls++;
                continue;
            }
            assert_int_equal(nulls, 0); /* NULLs last */
            int64_t idx = ((const int32_t *)(const void *)k->values->data)[k->offset + i];
            assert_true(idx >= 0 && idx < DICT_N);
            int32_t len = 0;
            const uint8_t *p = pl_array_bytes(k->dictionary, idx, &len);
            int64_t val = (p[1] - '0') * 10 + (p[2] - '0');
            assert_true(val >= prev);
            prev = val;
        }
        assert_int_equal(nulls, N_ROWS / 5);
        pl_batch_release(b);
        pl_table_release(t);
    }
    pl_session_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_past_the_end),
        cmocka_unit_test(test_index_far_past_the_end),
        cmocka_unit_test(test_negative_index),
        cmocka_unit_test(test_null_rows_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
