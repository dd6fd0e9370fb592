/* test_dataframe.c - the lazy DataFrame API end to end (plan -> optimizer -> executor) against
 * a plain C model of the same table: filters, projections, renames, limits, unions, scans of
 * Parquet files with pushed-down projections and filters, joins rewritten from filters,
 * resolution errors, cancellation and EXPLAIN text. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "polaroid/dataframe.h"
#include "../common/test_util.h"

static pl_error g_err;
#define E (&g_err)
#define ok(expr) TEST_OK(expr, &g_err)

/* ---------------------------------------------------------------- the model table
 * row i: id = i (int64), g = i % 7 (int32, NULL when i % 11 == 0), x = i * 0.5 (float64),
 * s = "s<i % 5>" (utf8). Split into batches of uneven size so morsels cross batches. */
#define N_ROWS 200003

static bool g_null(int64_t i) { return i % 11 == 0; }

static pl_table *make_table(void) {
    pl_field f[4];
    ok(pl_field_init(&f[0], "id", pl_type_simple(PL_TYPE_INT64), false, E));
    ok(pl_field_init(&f[1], "g", pl_type_simple(PL_TYPE_INT32), true, E));
    ok(pl_field_init(&f[2], "x", pl_type_simple(PL_TYPE_FLOAT64), false, E));
    ok(pl_field_init(&f[3], "s", pl_type_simple(PL_TYPE_UTF8), false, E));
    pl_schema *schema = NULL;
    ok(pl_schema_new(4, f, &schema, E));
    for (int i = 0; i < 4; i++) pl_field_reset(&f[i]);
    pl_table *t = NULL;
    ok(pl_table_new(schema, &t, E));
    int64_t bounds[] = {0, 70000, 70001, 150000, N_ROWS};
    for (size_t k = 0; k + 1 < PL_ARRAY_LEN(bounds); k++) {
        pl_builder *b[4];
        for (int c = 0; c < 4; c++) ok(pl_builder_new(schema->fields[c].type, 0, &b[c], E));
        for (int64_t i = bounds[k]; i < bounds[k + 1]; i++) {
            ok(pl_builder_append_i64(b[0], i, E));
            if (g_null(i)) ok(pl_builder_append_null(b[1], E));
            else ok(pl_builder_append_i64(b[1], i % 7, E));
            ok(pl_builder_append_f64(b[2], (double)i * 0.5, E));
            char s[8];
            snprintf(s, sizeof s, "s%d", (int)(i % 5));
            ok(pl_builder_append_bytes(b[3], s, (int64_t)strlen(s), E));
        }
        pl_array *cols[4];
        for (int c = 0; c < 4; c++) {
            ok(pl_builder_finish(b[c], &cols[c], E));
            pl_builder_free(b[c]);
        }
        pl_batch *batch = NULL;
        ok(pl_batch_new(pl_schema_retain(schema), bounds[k + 1] - bounds[k], cols, &batch, E));
        ok(pl_table_append(t, batch, E));
        pl_batch_release(batch);
    }
    pl_schema_release(schema);
    return t;
}

static pl_table *g_table;
static pl_df *g_df;

static int setup(void **state) {
    (void)state;
    pl_error_init(&g_err);
    g_table = make_table();
    ok(pl_df_from_table(g_table, &g_df, E));
    return 0;
}

static int teardown(void **state) {
    (void)state;
    pl_df_release(g_df);
    pl_table_release(g_table);
    return 0;
}

static pl_table *collect(pl_df *df) {
    pl_table *t = NULL;
    ok(pl_df_collect(df, NULL, &t, E));
    return t;
}

/* value of column c, row r of a table (r counts across batches) */
static pl_array *cell(pl_table *t, int32_t c, int64_t r, int64_t *at) {
    for (int64_t b = 0; b < t->n_batches; b++) {
        if (r < t->batches[b]->n_rows) {
            *at = r;
            return t->batches[b]->columns[c];
        }
        r -= t->batches[b]->n_rows;
    }
    fail_msg("row out of range");
    return NULL;
}

static int64_t get_i64(pl_table *t, int32_t c, int64_t r) {
    int64_t at;
    pl_array *a = cell(t, c, r, &at);
    if (a->type->id == PL_TYPE_INT32) return ((const int32_t *)pl_array_values_ptr(a))[at];
    return ((const int64_t *)pl_array_values_ptr(a))[at];
}

static bool is_null(pl_table *t, int32_t c, int64_t r) {
    int64_t at;
    pl_array *a = cell(t, c, r, &at);
    return !pl_array_is_valid(a, at);
}

/* ---------------------------------------------------------------- tests */

static void test_filter_and_project(void **state) {
    (void)state;
    /* SELECT id, id * 2 + 1 AS y FROM t WHERE x > 1000 AND g = 3 */
    pl_expr *pred = pl_expr_call2("and", pl_expr_call2("gt", pl_expr_col("x"), pl_expr_lit_f64(1000)),
                                  pl_expr_call2("eq", pl_expr_col("g"), pl_expr_lit_i64(3)));
    pl_df *f = NULL, *p = NULL;
    ok(pl_df_filter(g_df, pred, &f, E));
    pl_expr *ex[2] = {pl_expr_col("id"),
                      pl_expr_call2("add", pl_expr_call2("mul", pl_expr_col("id"), pl_expr_lit_i64(2)),
                                    pl_expr_lit_i64(1))};
    const char *names[2] = {NULL, "y"};
    ok(pl_df_select(f, 2, ex, names, &p, E));
    assert_string_equal(pl_df_schema(p)->fields[0].name, "id");
    assert_string_equal(pl_df_schema(p)->fields[1].name, "y");
    pl_table *t = collect(p);
    int64_t k = 0;
    for (int64_t i = 0; i < N_ROWS; i++) {
        if (!((double)i * 0.5 > 1000 && !g_null(i) && i % 7 == 3)) continue;
        assert_true(k < t->n_rows);
        assert_int_equal(get_i64(t, 0, k), i); /* order is kept */
        assert_int_equal(get_i64(t, 1, k), 2 * i + 1);
        k++;
    }
    assert_int_equal(t->n_rows, k);
    pl_table_release(t);
    /* g IS NULL */
    pl_df *n = NULL;
    pl_expr *isn = pl_expr_call1("is_null", pl_expr_col("g"));
    ok(pl_df_filter(g_df, isn, &n, E));
    pl_expr_release(isn);
    t = collect(n);
    int64_t nulls = 0;
    for (int64_t i = 0; i < N_ROWS; i++) nulls += g_null(i);
    assert_int_equal(t->n_rows, nulls);
    for (int64_t r = 0; r < t->n_rows; r++) assert_true(is_null(t, 1, r));
    pl_table_release(t);
    for (int i = 0; i < 2; i++) pl_expr_release(ex[i]);
    pl_expr_release(pred);
    pl_df_release(n);
    pl_df_release(f);
    pl_df_release(p);
}

static void test_with_columns_rename_drop(void **state) {
    (void)state;
    pl_expr *e[2] = {pl_expr_call2("mul", pl_expr_col("g"), pl_expr_lit_i64(10)),
                     pl_expr_call2("sub", pl_expr_col("id"), pl_expr_lit_i64(1))};
    const char *names[2] = {"g", "prev"};
    pl_df *w = NULL, *r = NULL, *d = NULL;
    ok(pl_df_with_columns(g_df, 2, e, names, &w, E));
    pl_schema *s = pl_df_schema(w);
    assert_int_equal(s->n_fields, 5); /* g replaced in place, prev appended */
    assert_string_equal(s->fields[1].name, "g");
    assert_string_equal(s->fields[4].name, "prev");
    const char *old[1] = {"prev"}, *nw[1] = {"before"}, *drop[2] = {"x", "s"};
    ok(pl_df_rename(w, 1, old, nw, &r, E));
    ok(pl_df_drop(r, 2, drop, &d, E));
    s = pl_df_schema(d);
    assert_int_equal(s->n_fields, 3);
    assert_string_equal(s->fields[2].name, "before");
    pl_table *t = collect(d);
    assert_int_equal(t->n_rows, N_ROWS);
    for (int64_t i = 0; i < N_ROWS; i += 997) {
        if (g_null(i)) assert_true(is_null(t, 1, i));
        else assert_int_equal(get_i64(t, 1, i), (i % 7) * 10);
        assert_int_equal(get_i64(t, 2, i), i - 1);
    }
    pl_table_release(t);
    assert_int_equal(pl_df_drop(d, 1, (const char *[]){"nope"}, &r, E), PL_ERR_NOT_FOUND);
    for (int i = 0; i < 2; i++) pl_expr_release(e[i]);
    pl_df_release(w);
    pl_df_release(r);
    pl_df_release(d);
}

static void test_limit_union(void **state) {
    (void)state;
    pl_df *l = NULL, *u = NULL, *ul = NULL;
    ok(pl_df_limit(g_df, 69998, 5, &l, E)); /* crosses the first batch boundary */
    pl_table *t = collect(l);
    assert_int_equal(t->n_rows, 5);
    for (int64_t r = 0; r < 5; r++) assert_int_equal(get_i64(t, 0, r), 69998 + r);
    pl_table_release(t);
    ok(pl_df_union(g_df, g_df, true, &u, E));
    ok(pl_df_limit(u, N_ROWS - 2, 4, &ul, E));
    t = collect(ul);
    assert_int_equal(t->n_rows, 4);
    assert_int_equal(get_i64(t, 0, 0), N_ROWS - 2);
    assert_int_equal(get_i64(t, 0, 2), 0);
    pl_table_release(t);
    t = collect(u);
    assert_int_equal(t->n_rows, 2 * N_ROWS);
    pl_table_release(t);
    pl_df_release(l);
    pl_df_release(u);
    pl_df_release(ul);
}

static void test_resolution_errors(void **state) {
    (void)state;
    pl_df *out = NULL;
    pl_expr *bad = pl_expr_col("nope");
    bad->sql_pos = 17;
    pl_error_init(&g_err);
    assert_int_equal(pl_df_filter(g_df, bad, &out, E), PL_ERR_NOT_FOUND);
    assert_non_null(strstr(g_err.msg, "nope"));
    assert_int_equal(g_err.sql_pos, 17);
    assert_non_null(strstr(g_err.hint, "id"));
    /* ambiguous after a self join; qualified references resolve */
    pl_df *a = NULL, *b = NULL, *j = NULL, *p = NULL;
    ok(pl_df_alias(g_df, "a", &a, E));
    ok(pl_df_alias(g_df, "b", &b, E));
    pl_expr *lk = pl_expr_col("id"), *rk = pl_expr_col("id");
    ok(pl_df_join(a, b, PL_JOIN_INNER, 1, &lk, &rk, NULL, &j, E));
    pl_expr *amb = pl_expr_col("id");
    pl_error_init(&g_err);
    assert_int_equal(pl_df_select(j, 1, &amb, NULL, &p, E), PL_ERR_SQL);
    assert_non_null(strstr(g_err.msg, "ambiguous"));
    pl_expr *q = pl_expr_col_qualified("b", "x");
    ok(pl_df_select(j, 1, &q, NULL, &p, E));
    assert_string_equal(pl_df_column_qualifier(p, 0), "b");
    /* a non-boolean filter is a type error */
    pl_df *f = NULL;
    pl_error_init(&g_err);
    assert_int_equal(pl_df_filter(g_df, lk, &f, E), PL_ERR_TYPE);
    pl_expr_release(bad);
    pl_expr_release(amb);
    pl_expr_release(q);
    pl_expr_release(lk);
    pl_expr_release(rk);
    pl_df_release(a);
    pl_df_release(b);
    pl_df_release(j);
    pl_df_release(p);
}

/* Writes the test table to a new temporary Parquet file (path: a mkstemps template ending in
 * ".parquet", filled in) in row groups of row_group_rows. */
static void write_temp_parquet(char *path, int64_t row_group_rows) {
    int fd = mkstemps(path, 8);
    assert_true(fd >= 0);
    close(fd);
    pl_stream *s = NULL;
    ok(pl_stream_from_table(g_table, &s, E));
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.row_group_rows = row_group_rows;
    ok(pl_write_stream(s, path, PL_FORMAT_PARQUET, &wo, E));
    pl_stream_free(s);
}

/* A Parquet copy of the table: scans get the projection and the filter pushed down. */
static void test_parquet_pushdown(void **state) {
    (void)state;
    char path[] = "/tmp/pl_test_df_XXXXXX.parquet";
    write_temp_parquet(path, 50000);
    pl_df *scan = NULL, *f = NULL, *p = NULL;
    const char *paths[1] = {path};
    ok(pl_df_scan(1, paths, PL_FORMAT_AUTO, NULL, &scan, E));
    assert_int_equal(pl_df_schema(scan)->n_fields, 4);
    pl_expr *pred = pl_expr_call2("lt", pl_expr_col("id"), pl_expr_lit_i64(1000));
    ok(pl_df_filter(scan, pred, &f, E));
    pl_expr *x = pl_expr_col("x");
    ok(pl_df_select(f, 1, &x, NULL, &p, E));
    char *plan = NULL;
    ok(pl_df_explain(p, true, &plan, E));
    /* the scan reads id (for the filter) and x only, and filters itself */
    assert_non_null(strstr(plan, "columns [id, x]"));
    assert_non_null(strstr(plan, "filter"));
    assert_null(strstr(plan, "FILTER"));
    pl_free(plan);
    pl_table *t = collect(p);
    assert_int_equal(t->n_rows, 1000);
    for (int64_t r = 0; r < 1000; r++) {
        int64_t at;
        pl_array *a = cell(t, 0, r, &at);
        assert_true(((const double *)pl_array_values_ptr(a))[at] == (double)r * 0.5);
    }
    pl_table_release(t);
    /* through a window: the scan reads what the window and the parent read (g, x), not all */
    {
        pl_sort_key ok_[1] = {{pl_expr_col("x"), true, false}};
        pl_expr *part = pl_expr_col("g");
        pl_expr *w = pl_expr_window("row_number", 0, NULL, 1, &part, 1, ok_, NULL);
        const char *wn = "rn";
        pl_df *wd = NULL, *ws = NULL;
        ok(pl_df_window(scan, 1, &w, &wn, &wd, E));
        pl_expr *sel[2] = {pl_expr_col("x"), pl_expr_col("rn")};
        ok(pl_df_select(wd, 2, sel, NULL, &ws, E));
        ok(pl_df_explain(ws, true, &plan, E));
        assert_non_null(strstr(plan, "columns [g, x]"));
        pl_free(plan);
        pl_table *wt = collect(ws);
        assert_int_equal(wt->n_rows, pl_df_schema(scan) ? g_table->n_rows : 0);
        assert_int_equal(wt->schema->n_fields, 2);
        assert_string_equal(wt->schema->fields[1].name, "rn");
        pl_table_release(wt);
        for (int k = 0; k < 2; k++) pl_expr_release(sel[k]);
        pl_expr_release(w);
        pl_df_release(wd);
        pl_df_release(ws);
    }
    /* row-group pruning (5 row groups of 50000 rows): the last row group only, or none */
    int64_t lows[3] = {199000, -5, 49999};
    for (int k = 0; k < 3; k++) {
        pl_df *pf = NULL;
        pl_expr *pp = pl_expr_call2("ge", pl_expr_col("id"), pl_expr_lit_i64(lows[k]));
        if (k == 1) {
            pl_expr_release(pp);
            pp = pl_expr_call2("lt", pl_expr_col("id"), pl_expr_lit_i64(lows[k]));
        }
        if (k == 2) pp = pl_expr_call2("and", pp, pl_expr_call2("le", pl_expr_col("id"), pl_expr_lit_i64(50000)));
        ok(pl_df_filter(scan, pp, &pf, E));
        t = collect(pf);
        int64_t want = k == 0 ? N_ROWS - 199000 : (k == 1 ? 0 : 2);
        assert_int_equal(t->n_rows, want);
        if (want > 0) assert_int_equal(get_i64(t, 0, 0), k == 0 ? 199000 : 49999);
        assert_int_equal(t->schema->n_fields, 4);
        pl_table_release(t);
        pl_expr_release(pp);
        pl_df_release(pf);
    }
    /* LIMIT over a plain scan reaches the reader */
    pl_df *l = NULL;
    ok(pl_df_limit(scan, 0, 3, &l, E));
    ok(pl_df_explain(l, true, &plan, E));
    assert_non_null(strstr(plan, "limit 3"));
    pl_free(plan);
    t = collect(l);
    assert_int_equal(t->n_rows, 3);
    pl_table_release(t);
    pl_expr_release(pred);
    pl_expr_release(x);
    pl_df_release(scan);
    pl_df_release(f);
    pl_df_release(p);
    pl_df_release(l);
    unlink(path);
}

static void test_cancel(void **state) {
    (void)state;
    int cancel = 1;
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.cancel = &cancel;
    pl_df *f = NULL;
    pl_expr *nn = pl_expr_call1("is_not_null", pl_expr_col("g"));
    ok(pl_df_filter(g_df, nn, &f, E));
    pl_expr_release(nn);
    pl_table *t = NULL;
    pl_error_init(&g_err);
    assert_int_equal(pl_df_collect(f, &o, &t, E), PL_ERR_CANCELLED);
    assert_null(t);
    pl_df_release(f);
}

static int64_t g_hook_total, g_hook_calls;
static pl_status mem_hook(void *user, int64_t delta, int64_t total) {
    (void)user;
    g_hook_calls++;
    g_hook_total = total;
    return delta > 0 && total > (int64_t)1 << 40 ? PL_ERR_NOMEM : PL_OK;
}

/* The memory account: a grouping of 200003 distinct ids is charged; a small limit stops the
 * query with PL_ERR_NOMEM naming the limit, the hook sees charges and releases. */
static void test_memory_accounting(void **state) {
    (void)state;
    pl_expr *key = pl_expr_col("id");
    pl_expr *agg = pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL);
    pl_df *g = NULL;
    ok(pl_df_aggregate(g_df, 1, &key, NULL, 1, &agg, NULL, &g, E));
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.mem_hook = mem_hook;
    pl_table *t = NULL;
    ok(pl_df_collect(g, &o, &t, E));
    assert_int_equal(t->n_rows, N_ROWS);
    pl_table_release(t);
    t = NULL;
    assert_true(g_hook_calls > 0);
    assert_int_equal(g_hook_total, 0); /* everything charged was released */
    o.mem_hook = NULL;
    o.memory_limit = 64 * 1024;
    pl_error_init(&g_err);
    assert_int_equal(pl_df_collect(g, &o, &t, E), PL_ERR_NOMEM);
    assert_non_null(strstr(g_err.msg, "memory limit"));
    assert_null(t);
    pl_expr_release(key);
    pl_expr_release(agg);
    pl_df_release(g);
}

static void test_join_from_filter(void **state) {
    (void)state;
    /* FROM a, b WHERE a.id = b.id AND b.g = 2: the cross join becomes a hash join on id and
     * b.g = 2 moves to b's side */
    pl_df *a = NULL, *b = NULL, *c = NULL, *f = NULL;
    ok(pl_df_alias(g_df, "a", &a, E));
    ok(pl_df_alias(g_df, "b", &b, E));
    ok(pl_df_join(a, b, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &c, E));
    pl_expr *pred = pl_expr_call2(
        "and", pl_expr_call2("eq", pl_expr_col_qualified("a", "id"), pl_expr_col_qualified("b", "id")),
        pl_expr_call2("eq", pl_expr_col_qualified("b", "g"), pl_expr_lit_i64(2)));
    ok(pl_df_filter(c, pred, &f, E));
    char *plan = NULL;
    ok(pl_df_explain(f, true, &plan, E));
    assert_non_null(strstr(plan, "HASH JOIN INNER ON"));
    assert_null(strstr(plan, "CROSS"));
    pl_free(plan);
    pl_expr_release(pred);
    pl_df_release(a);
    pl_df_release(b);
    pl_df_release(c);
    pl_df_release(f);
}

static void test_sort_topn(void **state) {
    (void)state;
    /* ORDER BY g DESC NULLS FIRST, x ASC, then the same with LIMIT 10 OFFSET 5 (top-N) */
    pl_sort_key keys[2] = {{pl_expr_col("g"), true, true}, {pl_expr_col("x"), false, false}};
    pl_df *s = NULL, *l = NULL;
    ok(pl_df_sort(g_df, 2, keys, &s, E));
    ok(pl_df_limit(s, 5, 10, &l, E));
    char *plan = NULL;
    ok(pl_df_explain(l, true, &plan, E));
    assert_non_null(strstr(plan, "TOP-N"));
    pl_free(plan);
    pl_table *t = collect(s), *top = collect(l);
    assert_int_equal(t->n_rows, N_ROWS);
    assert_int_equal(top->n_rows, 10);
    /* model order: NULL g first (by id), then g = 6..0, each by id */
    int64_t r = 0;
    for (int64_t i = 0; i < N_ROWS; i++)
        if (g_null(i)) {
            assert_true(is_null(t, 1, r));
            assert_int_equal(get_i64(t, 0, r), i);
            r++;
        }
    for (int g = 6; g >= 0; g--)
        for (int64_t i = 0; i < N_ROWS; i++)
            if (!g_null(i) && i % 7 == g) {
                if (r < 40 || r % 1013 == 0) assert_int_equal(get_i64(t, 0, r), i);
                r++;
            }
    for (int64_t k = 0; k < 10; k++) assert_int_equal(get_i64(top, 0, k), get_i64(t, 0, 5 + k));
    pl_table_release(t);
    pl_table_release(top);
    pl_expr_release(keys[0].expr);
    pl_expr_release(keys[1].expr);
    pl_df_release(s);
    pl_df_release(l);
}

/* count(*) of a Parquet scan comes from the footers (plan/metacount.c): a one-row table in
 * EXPLAIN with the sum of the files' row counts (a file listed twice counts twice); a filter
 * below the count, another aggregate, or an in-memory source keep the scan and aggregate;
 * every allocation failure while optimizing fails cleanly (ASan checks leaks). */
static int64_t count_of(pl_df *df, const char *want_in_plan, bool present) {
    char *plan = NULL;
    ok(pl_df_explain(df, true, &plan, E));
    if (present) assert_non_null(strstr(plan, want_in_plan));
    else assert_null(strstr(plan, want_in_plan));
    pl_free(plan);
    pl_table *t = collect(df);
    assert_int_equal(t->n_rows, 1);
    int64_t v = get_i64(t, 0, 0);
    pl_table_release(t);
    return v;
}

static void test_count_from_footers(void **state) {
    (void)state;
    char path[] = "/tmp/pl_test_df_XXXXXX.parquet";
    write_temp_parquet(path, 30000);
    const char *paths[2] = {path, path};
    pl_df *scan = NULL, *c = NULL, *f = NULL, *cf = NULL, *c2 = NULL, *ct = NULL;
    ok(pl_df_scan(2, paths, PL_FORMAT_AUTO, NULL, &scan, E));
    pl_expr *aggs[2] = {pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL),
                        pl_expr_agg("sum", 1, (pl_expr *[]){pl_expr_col("id")}, false, NULL, 0,
                                    NULL)};
    ok(pl_df_aggregate(scan, 0, NULL, NULL, 1, aggs, NULL, &c, E));
    assert_int_equal(count_of(c, "TABLE (1 rows) count(*) from Parquet footers of 2 files", true),
                     2 * N_ROWS);
    pl_expr *pred = pl_expr_call2("lt", pl_expr_col("id"), pl_expr_lit_i64(1000));
    ok(pl_df_filter(scan, pred, &f, E));
    ok(pl_df_aggregate(f, 0, NULL, NULL, 1, aggs, NULL, &cf, E));
    assert_int_equal(count_of(cf, "footers", false), 2 * 1000);
    ok(pl_df_aggregate(scan, 0, NULL, NULL, 2, aggs, NULL, &c2, E));
    assert_int_equal(count_of(c2, "footers", false), 2 * N_ROWS);
    ok(pl_df_aggregate(g_df, 0, NULL, NULL, 1, aggs, NULL, &ct, E));
    assert_int_equal(count_of(ct, "footers", false), N_ROWS);
    /* allocation failures while planning the footer path */
    int n_ok = 0;
    for (int64_t k = 0; k < 2000 && n_ok == 0; k++) {
        char *plan = NULL;
        pl_error_init(&g_err);
        pl_alloc_fail_after(k);
        pl_status st = pl_df_explain(c, true, &plan, E);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            assert_non_null(strstr(plan, "footers"));
            n_ok++;
        } else {
            assert_int_equal(st, PL_ERR_NOMEM);
            assert_null(plan);
        }
        pl_free(plan);
    }
    assert_int_equal(n_ok, 1);
    pl_error_init(&g_err);
    pl_expr_release(pred);
    pl_expr_release(aggs[0]);
    pl_expr_release(aggs[1]);
    pl_df_release(c);
    pl_df_release(cf);
    pl_df_release(c2);
    pl_df_release(ct);
    pl_df_release(f);
    pl_df_release(scan);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_and_project), cmocka_unit_test(test_with_columns_rename_drop),
        cmocka_unit_test(test_limit_union),        cmocka_unit_test(test_resolution_errors),
        cmocka_unit_test(test_parquet_pushdown),   cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_join_from_filter),   cmocka_unit_test(test_sort_topn),
        cmocka_unit_test(test_memory_accounting), cmocka_unit_test(test_count_from_footers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
