/* The cache of decoded Parquet footers (src/io/parquet/reader.c): a second open of an unchanged
 * file shares the first one's metadata; a file rewritten in place (same path, inode and size,
 * possibly the same mtime) is decoded again; entries outlive the cache while files use them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/parquet/pq_int.h"
#include "polaroid/polaroid.h"
#include "pq_test_file.h"

/* A one-column int64 file of n rows, values start, start+1, ... written over path in place
 * (truncate and rewrite: the inode stays). */
static void write_file(const char *path, int64_t n, int64_t start) {
    pl_error err;
    pl_error_init(&err);
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), n, &b, &err), &err);
    for (int64_t i = 0; i < n; i++) ok(pl_builder_append_i64(b, start + i, &err), &err);
    pl_array *a = NULL;
    ok(pl_builder_finish(b, &a, &err), &err);
    pl_builder_free(b);
    pl_field f;
    ok(pl_field_init(&f, "x", pl_type_simple(PL_TYPE_INT64), false, &err), &err);
    pl_schema *s = NULL;
    ok(pl_schema_new(1, &f, &s, &err), &err);
    pl_field_reset(&f);
    pl_batch *batch = NULL;
    ok(pl_batch_new(s, n, &a, &batch, &err), &err);
    rewrite_parquet(path, batch, NULL);
    pl_batch_release(batch); /* it holds the schema's reference */
}

static int64_t max_stat(const pl_pq_file *f) {
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    int64_t v;
    memcpy(&v, md->row_groups[0].columns[0].stats.max, 8);
    return v;
}

static void test_shared_and_rewritten(void **state) {
    (void)state;
    char path[] = "/tmp/pl_test_pqcache_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pl_pq_meta_cache_clear();
    write_file(path, 1000, 0);
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *a = NULL, *b = NULL, *c = NULL;
    ok(pl_pq_file_open(path, &a, &err), &err);
    ok(pl_pq_file_open(path, &b, &err), &err);
    assert_non_null(a->shared);
    assert_ptr_equal(a->shared, b->shared);
    assert_int_equal(pl_pq_file_metadata(b)->num_rows, 1000);
    assert_int_equal(max_stat(b), 999);
    /* same size, other values, at once (the mtime may not change) */
    write_file(path, 1000, 5000);
    ok(pl_pq_file_open(path, &c, &err), &err);
    assert_ptr_not_equal(c->shared, a->shared);
    assert_int_equal(max_stat(c), 5999);
    /* the old entry left the cache but a and b still read it */
    assert_int_equal(max_stat(a), 999);
    pl_pq_file_close(a);
    pl_pq_meta_cache_clear();
    assert_int_equal(max_stat(b), 999);
    assert_int_equal(max_stat(c), 5999);
    pl_pq_file_close(b);
    pl_pq_file_close(c);
    /* reading through the whole engine sees the new values */
    pl_table *t = NULL;
    const char *paths[1] = {path};
    ok(pl_read_table(1, paths, PL_FORMAT_PARQUET, NULL, &t, &err), &err);
    assert_int_equal(t->n_rows, 1000);
    pl_table_release(t);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_and_rewritten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
