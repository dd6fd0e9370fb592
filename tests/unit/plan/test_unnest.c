/* test_unnest.c - pl_df_unnest (the UNNEST node behind SQL's unnest): every output row checked
 * against a plain C model over a table of list columns spanning several morsels and batches
 * (NULL lists, empty lists, NULL elements), two lists zipped (the shorter padded with NULL), a
 * list expression (not only a column), one and two threads, no rows at all, and the errors
 * (a non-list argument). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/dataframe.h"
#include "../common/test_util.h"

static pl_error g_err;
#define E (&g_err)
#define ok(expr) TEST_OK(expr, &g_err)

/* Row i of list k: NULL (-1), or its length; element j's value, or NULL when nullel. */
static int64_t list_len(int k, int64_t i) {
    int64_t m = (i * (k + 3)) % 9;
    if (m == 0) return -1;
    return (m - 1) % (k ? 3 : 5);
}
static bool elem_null(int k, int64_t i, int64_t j) { return (i + j + k) % 7 == 3; }
static int64_t elem_val(int k, int64_t i, int64_t j) { return i * 10 + j + k * 1000000; }

#define NB 3
#define ROWS_PER_BATCH 50000

static pl_df *make_df(void) {
    pl_type *lt = NULL;
    ok(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT64), true, &lt, E));
    pl_field f[3];
    ok(pl_field_init(&f[0], "id", pl_type_simple(PL_TYPE_INT64), false, E));
    ok(pl_field_init(&f[1], "a", lt, true, E));
    ok(pl_field_init(&f[2], "b", lt, true, E));
    pl_schema *s = NULL;
    ok(pl_schema_new(3, f, &s, E));
    for (int i = 0; i < 3; i++) pl_field_reset(&f[i]);
    pl_table *t = NULL;
    ok(pl_table_new(s, &t, E));
    for (int b = 0; b < NB; b++) {
        pl_builder *bi = NULL, *bl[2] = {0};
        ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), ROWS_PER_BATCH, &bi, E));
        for (int k = 0; k < 2; k++) ok(pl_builder_new(lt, ROWS_PER_BATCH, &bl[k], E));
        for (int64_t r = 0; r < ROWS_PER_BATCH; r++) {
            int64_t i = (int64_t)b * ROWS_PER_BATCH + r;
            ok(pl_builder_append_i64(bi, i, E));
            for (int k = 0; k < 2; k++) {
                int64_t n = list_len(k, i);
                if (n < 0) {
                    ok(pl_builder_append_null(bl[k], E));
                    continue;
                }
                pl_builder *c = pl_builder_child(bl[k], 0);
                for (int64_t j = 0; j < n; j++) {
                    if (elem_null(k, i, j)) ok(pl_builder_append_null(c, E));
                    else ok(pl_builder_append_i64(c, elem_val(k, i, j), E));
                }
                ok(pl_builder_append_valid(bl[k], E));
            }
        }
        pl_array *cols[3];
        ok(pl_builder_finish(bi, &cols[0], E));
        for (int k = 0; k < 2; k++) ok(pl_builder_finish(bl[k], &cols[1 + k], E));
        pl_builder_free(bi);
        for (int k = 0; k < 2; k++) pl_builder_free(bl[k]);
        pl_batch *batch = NULL;
        ok(pl_batch_new(pl_schema_retain(s), ROWS_PER_BATCH, cols, &batch, E));
        ok(pl_table_append(t, batch, E));
        pl_batch_release(batch);
    }
    pl_schema_release(s);
    pl_type_release(lt);
    pl_df *df = NULL;
    ok(pl_df_from_table(t, &df, E));
    pl_table_release(t);
    return df;
}

static bool get_i64(pl_array *a, int64_t i, int64_t *v) {
    if (!pl_array_is_valid(a, i)) return false;
    *v = ((const int64_t *)a->values->data)[a->offset + i];
    return true;
}

/* Runs df (id, a, b, then n_lists element columns) and checks it against the model. */
static void check(pl_df *df, int n_lists, const int *which, int32_t threads) {
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.n_threads = threads;
    pl_table *t = NULL;
    ok(pl_df_collect(df, &o, &t, E));
    int64_t want_rows = 0;
    for (int64_t i = 0; i < (int64_t)NB * ROWS_PER_BATCH; i++) {
        int64_t m = 0;
        for (int q = 0; q < n_lists; q++) m = PL_MAX(m, list_len(which[q], i));
        want_rows += m;
    }
    assert_int_equal(t->n_rows, want_rows);
    int64_t prev = -1, j = 0;
    for (int64_t bi = 0; bi < t->n_batches; bi++) {
        pl_batch *b = t->batches[bi];
        assert_int_equal(b->n_cols, 3 + n_lists);
        for (int64_t r = 0; r < b->n_rows; r++) {
            int64_t id = -1, v = 0;
            assert_true(get_i64(b->columns[0], r, &id));
            j = id == prev ? j + 1 : 0;
            if (id != prev) assert_true(id > prev);
            prev = id;
            for (int q = 0; q < n_lists; q++) {
                int k = which[q];
                bool has = get_i64(b->columns[3 + q], r, &v);
                int64_t n = list_len(k, id);
                bool want = j < n && !elem_null(k, id, j);
                if (has != want) fail_msg("row of id %lld element %lld list %d: valid %d, want %d", (long long)id,
                                          (long long)j, k, has, want);
                if (has && v != elem_val(k, id, j))
                    fail_msg("id %lld element %lld: %lld, want %lld", (long long)id, (long long)j, (long long)v,
                             (long long)elem_val(k, id, j));
            }
        }
    }
    pl_table_release(t);
}

static void test_unnest_one_and_two_lists(void **state) {
    (void)state;
    pl_df *df = make_df();
    for (int32_t threads = 1; threads <= 2; threads++) {
        pl_df *u = NULL;
        pl_expr *e = pl_expr_col("a");
        ok(pl_df_unnest(df, 1, &e, NULL, &u, E));
        assert_string_equal(pl_df_schema(u)->fields[3].name, "unnest");
        int w1[1] = {0};
        check(u, 1, w1, threads);
        pl_df_release(u);
        pl_expr_release(e);
        pl_expr *e2[2] = {pl_expr_col("a"), pl_expr_col("b")};
        const char *names[2] = {"x", "y"};
        ok(pl_df_unnest(df, 2, e2, names, &u, E));
        assert_string_equal(pl_df_schema(u)->fields[4].name, "y");
        int w2[2] = {0, 1};
        check(u, 2, w2, threads);
        pl_df_release(u);
        pl_expr_release(e2[0]);
        pl_expr_release(e2[1]);
    }
    pl_df_release(df);
}

static void test_unnest_empty_input_and_errors(void **state) {
    (void)state;
    pl_df *df = make_df();
    /* no rows: a filter that keeps none */
    pl_df *f = NULL, *u = NULL;
    pl_expr *pred = pl_expr_call2("lt", pl_expr_col("id"), pl_expr_lit_i64(0));
    ok(pl_df_filter(df, pred, &f, E));
    pl_expr_release(pred);
    pl_expr *e = pl_expr_col("a");
    ok(pl_df_unnest(f, 1, &e, NULL, &u, E));
    pl_table *t = NULL;
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    ok(pl_df_collect(u, &o, &t, E));
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    pl_df_release(u);
    pl_df_release(f);
    pl_expr_release(e);
    /* not a list */
    e = pl_expr_col("id");
    assert_int_equal(pl_df_unnest(df, 1, &e, NULL, &u, E), PL_ERR_TYPE);
    assert_non_null(strstr(g_err.msg, "list"));
    pl_expr_release(e);
    /* no list at all, unknown column */
    assert_int_equal(pl_df_unnest(df, 0, NULL, NULL, &u, E), PL_ERR_INVALID_ARG);
    e = pl_expr_col("nope");
    assert_int_equal(pl_df_unnest(df, 1, &e, NULL, &u, E), PL_ERR_NOT_FOUND);
    pl_expr_release(e);
    pl_df_release(df);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unnest_one_and_two_lists),
        cmocka_unit_test(test_unnest_empty_input_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
