/* test_batch.c - unit tests for src/columnar/batch.c: batch construction checks, slices and
 * column selection, table append/combine (serial and parallel paths), equality across
 * different batch boundaries, parallel release of large tables, and OOM loops for combine. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static pl_schema *make_schema(void) {
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, NULL), PL_OK);
    pl_field f[3] = {{"id", pl_type_simple(PL_TYPE_INT64), false},
                     {"name", pl_type_simple(PL_TYPE_UTF8), true},
                     {"tag", dt, true}};
    pl_schema *s;
    assert_int_equal(pl_schema_new(3, f, &s, NULL), PL_OK);
    pl_type_release(dt);
    return s;
}

/* Rows [from, from+n) of the reference data: id = row, name = "n<row>" (NULL every 5th),
 * tag = "t<row % 4>" (NULL every 7th). */
static pl_batch *make_batch(pl_schema *s, int64_t from, int64_t n) {
    pl_builder *b[3];
    for (int c = 0; c < 3; c++) assert_int_equal(pl_builder_new(s->fields[c].type, n, &b[c], NULL), PL_OK);
    char buf[32];
    for (int64_t r = from; r < from + n; r++) {
        assert_int_equal(pl_builder_append_i64(b[0], r, NULL), PL_OK);
        if (r % 5 == 0) assert_int_equal(pl_builder_append_null(b[1], NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bytes(b[1], buf, snprintf(buf, sizeof buf, "n%lld", (long long)r), NULL), PL_OK);
        if (r % 7 == 0) assert_int_equal(pl_builder_append_null(b[2], NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bytes(b[2], buf, snprintf(buf, sizeof buf, "t%lld", (long long)(r % 4)), NULL), PL_OK);
    }
    pl_array *cols[3];
    for (int c = 0; c < 3; c++) {
        assert_int_equal(pl_builder_finish(b[c], &cols[c], NULL), PL_OK);
        pl_builder_free(b[c]);
    }
    pl_batch *batch;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), n, cols, &batch, NULL), PL_OK);
    return batch;
}

/* A table of rows [0, total) cut at the given boundaries. */
static pl_table *make_table(pl_schema *s, const int64_t *sizes, int n_sizes) {
    pl_table *t;
    assert_int_equal(pl_table_new(s, &t, NULL), PL_OK);
    int64_t from = 0;
    for (int i = 0; i < n_sizes; i++) {
        pl_batch *b = make_batch(s, from, sizes[i]);
        assert_int_equal(pl_table_append(t, b, NULL), PL_OK);
        pl_batch_release(b);
        from += sizes[i];
    }
    return t;
}

static void check_rows(pl_batch *b, int64_t from) {
    const int64_t *ids = pl_array_values_ptr(b->columns[0]);
    pl_array *names = b->columns[1], *tags;
    assert_int_equal(pl_array_decode_dictionary(b->columns[2], &tags, NULL), PL_OK);
    char buf[32];
    for (int64_t i = 0; i < b->n_rows; i++) {
        int64_t r = from + i;
        assert_int_equal(ids[i], r);
        assert_int_equal(pl_array_is_valid(names, i), r % 5 != 0);
        if (r % 5) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(names, i, &len);
            int n = snprintf(buf, sizeof buf, "n%lld", (long long)r);
            assert_int_equal(len, n);
            assert_memory_equal(p, buf, (size_t)n);
        }
        assert_int_equal(pl_array_is_valid(tags, i), r % 7 != 0);
        if (r % 7) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(tags, i, &len);
            int n = snprintf(buf, sizeof buf, "t%lld", (long long)(r % 4));
            assert_int_equal(len, n);
            assert_memory_equal(p, buf, (size_t)n);
        }
    }
    pl_array_release(tags);
}

static void test_batch_checks_slice_select(void **state) {
    (void)state;
    pl_schema *s = make_schema();
    pl_batch *b = make_batch(s, 0, 50);
    check_rows(b, 0);
    /* mismatched type and missing schema are refused (and the references taken) */
    pl_array *cols[3];
    for (int c = 0; c < 3; c++) cols[c] = pl_array_retain(b->columns[c]);
    pl_array *tmp = cols[0];
    cols[0] = cols[1];
    cols[1] = tmp;
    pl_batch *bad;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_batch_new(pl_schema_retain(s), 50, cols, &bad, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "\"id\""));
    for (int c = 0; c < 3; c++) cols[c] = pl_array_retain(b->columns[c]);
    assert_int_equal(pl_batch_new(NULL, 50, cols, &bad, NULL), PL_ERR_INVALID_ARG);
    for (int c = 0; c < 3; c++) pl_array_release(cols[c]); /* schema NULL: nothing taken */

    pl_batch *sl;
    assert_int_equal(pl_batch_slice(b, 17, 20, &sl, NULL), PL_OK);
    assert_int_equal(sl->n_rows, 20);
    check_rows(sl, 17);
    assert_int_equal(pl_batch_slice(b, 40, 11, &bad, NULL), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_batch_slice(b, -1, 1, &bad, NULL), PL_ERR_INVALID_ARG);
    int32_t idx[2] = {2, 0};
    pl_batch *sel;
    assert_int_equal(pl_batch_select(sl, 2, idx, &sel, NULL), PL_OK);
    assert_int_equal(sel->n_cols, 2);
    assert_string_equal(sel->schema->fields[0].name, "tag");
    assert_string_equal(sel->schema->fields[1].name, "id");
    assert_ptr_equal(sel->columns[1], sl->columns[0]); /* shared, not copied */
    idx[1] = 3;
    assert_int_equal(pl_batch_select(sl, 2, idx, &bad, NULL), PL_ERR_NOT_FOUND);
    pl_batch_release(sel);
    pl_batch_release(sl);
    pl_batch_release(b);
    pl_schema_release(s);
}

static void test_table_equals_across_boundaries(void **state) {
    (void)state;
    pl_schema *s = make_schema();
    int64_t a_sizes[] = {100, 0, 37, 63};
    int64_t b_sizes[] = {1, 199};
    int64_t c_sizes[] = {50, 50, 50, 50};
    pl_table *a = make_table(s, a_sizes, 4), *b = make_table(s, b_sizes, 2), *c = make_table(s, c_sizes, 4);
    assert_int_equal(a->n_rows, 200);
    assert_true(pl_table_equals(a, b));
    assert_true(pl_table_equals(b, c));
    assert_true(pl_table_equals(c, a));
    /* one different value in the last batch of one table */
    pl_table *d;
    assert_int_equal(pl_table_new(s, &d, NULL), PL_OK);
    pl_batch *p1 = make_batch(s, 0, 150), *p2 = make_batch(s, 151, 50), *p3;
    assert_int_equal(pl_batch_slice(p2, 0, 50, &p3, NULL), PL_OK);
    assert_int_equal(pl_table_append(d, p1, NULL), PL_OK);
    assert_int_equal(pl_table_append(d, p3, NULL), PL_OK);
    assert_int_equal(d->n_rows, 200);
    assert_false(pl_table_equals(a, d));
    /* fewer rows */
    pl_table *e = make_table(s, b_sizes, 1);
    assert_false(pl_table_equals(a, e));
    /* another schema */
    pl_field f[1] = {{"id", pl_type_simple(PL_TYPE_INT64), false}};
    pl_schema *s2;
    assert_int_equal(pl_schema_new(1, f, &s2, NULL), PL_OK);
    pl_table *g;
    assert_int_equal(pl_table_new(s2, &g, NULL), PL_OK);
    assert_false(pl_table_equals(a, g));
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_table_append(g, p1, &err), PL_ERR_TYPE);
    /* empty tables */
    pl_table *h;
    assert_int_equal(pl_table_new(s2, &h, NULL), PL_OK);
    assert_true(pl_table_equals(g, h));
    pl_batch *comb;
    assert_int_equal(pl_table_combine(h, &comb, NULL), PL_OK);
    assert_int_equal(comb->n_rows, 0);
    assert_int_equal(comb->n_cols, 1);
    pl_batch_release(comb);
    pl_table_release(h);
    pl_table_release(g);
    pl_schema_release(s2);
    pl_table_release(e);
    pl_batch_release(p1);
    pl_batch_release(p2);
    pl_batch_release(p3);
    pl_table_release(d);
    pl_table_release(a);
    pl_table_release(b);
    pl_table_release(c);
    pl_schema_release(s);
}

static void test_table_combine_serial_and_parallel(void **state) {
    (void)state;
    pl_schema *s = make_schema();
    int64_t small[] = {10, 0, 7, 13};
    int64_t large[] = {30000, 1, 29999, 12345, 20000}; /* >= 64Ki rows: parallel path */
    int64_t *sizes[2] = {small, large};
    int n_sizes[2] = {4, 5};
    for (int k = 0; k < 2; k++) {
        pl_table *t = make_table(s, sizes[k], n_sizes[k]);
        pl_batch *b;
        assert_int_equal(pl_table_combine(t, &b, NULL), PL_OK);
        assert_int_equal(b->n_rows, t->n_rows);
        check_rows(b, 0);
        for (int c = 0; c < 3; c++) assert_int_equal(pl_array_validate(b->columns[c], true, NULL), PL_OK);
        /* one dictionary for the whole column, deduplicated */
        assert_int_equal(b->columns[2]->dictionary->length, 4);
        pl_table *one;
        assert_int_equal(pl_table_new(s, &one, NULL), PL_OK);
        assert_int_equal(pl_table_append(one, b, NULL), PL_OK);
        assert_true(pl_table_equals(t, one));
        /* a single-batch table combines to that batch */
        pl_batch *same;
        assert_int_equal(pl_table_combine(one, &same, NULL), PL_OK);
        assert_ptr_equal(same, b);
        pl_batch_release(same);
        pl_table_release(one);
        pl_batch_release(b);
        pl_table_release(t);
    }
    pl_schema_release(s);
}

/* A table of >= 4 Mi values is released on the worker pool: batches sharing one buffer
 * (slices of one batch) and a batch the caller still holds survive correctly, and every byte
 * comes back. */
static void test_table_release_parallel(void **state) {
    (void)state;
    pl_pool_set_threads(2);
    int64_t before = pl_alloc_live_bytes();
    const int64_t n = 1LL << 22, parts = 64, step = n / parts;
    pl_field f = {"v", pl_type_simple(PL_TYPE_INT64), false};
    pl_schema *s;
    assert_int_equal(pl_schema_new(1, &f, &s, NULL), PL_OK);
    pl_buf *vals;
    assert_int_equal(pl_buf_new(n * 8, &vals, NULL), PL_OK);
    int64_t *v = (int64_t *)(void *)vals->data;
    for (int64_t i = 0; i < n; i++) v[i] = i * 3;
    vals->size = n * 8;
    pl_array *col;
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_INT64), n, 0, NULL, vals, NULL, 0, NULL,
                                  NULL, &col, NULL), PL_OK);
    pl_batch *whole;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), n, &col, &whole, NULL), PL_OK);
    pl_table *t;
    assert_int_equal(pl_table_new(s, &t, NULL), PL_OK);
    for (int64_t k = 0; k < parts; k++) {
        pl_batch *sl;
        assert_int_equal(pl_batch_slice(whole, k * step, step, &sl, NULL), PL_OK);
        assert_int_equal(pl_table_append(t, sl, NULL), PL_OK);
        pl_batch_release(sl);
    }
    pl_batch_release(whole);
    assert_int_equal(t->n_rows, n);
    pl_batch *kept = pl_batch_retain(t->batches[parts / 2]);
    pl_table_release(t);
    const pl_array *a = kept->columns[0];
    const int64_t *kv = (const int64_t *)(const void *)a->values->data + a->offset;
    for (int64_t i = 0; i < step; i++) assert_int_equal(kv[i], ((parts / 2) * step + i) * 3);
    pl_batch_release(kept);
    /* a table below the threshold takes the serial path */
    pl_table *small;
    assert_int_equal(pl_table_new(s, &small, NULL), PL_OK);
    pl_table_release(small);
    pl_schema_release(s);
    assert_int_equal(pl_alloc_live_bytes(), before);
}

static void test_oom_table_combine(void **state) {
    (void)state;
    pl_schema *s = make_schema();
    int64_t sizes[] = {40, 3, 25};
    pl_table *t = make_table(s, sizes, 3);
    int64_t failures = 0;
    for (int64_t n = 0;; n++) {
        pl_batch *b = NULL, *sl = NULL;
        pl_alloc_fail_after(n);
        pl_status st = pl_table_combine(t, &b, NULL);
        if (!st) st = pl_batch_slice(b, 5, 30, &sl, NULL);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            check_rows(b, 0);
            check_rows(sl, 5);
            pl_batch_release(sl);
            pl_batch_release(b);
            break;
        }
        pl_batch_release(b);
        assert_int_equal(st, PL_ERR_NOMEM);
        failures++;
        assert_true(n < 1000);
    }
    assert_true(failures > 5);
    pl_table_release(t);
    pl_schema_release(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_checks_slice_select),
        cmocka_unit_test(test_table_equals_across_boundaries),
        cmocka_unit_test(test_table_combine_serial_and_parallel),
        cmocka_unit_test(test_table_release_parallel),
        cmocka_unit_test(test_oom_table_combine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
