/* pq_test_file.h - test helpers for the Parquet reader's tests that rewrite a file under a
 * reader (test_parquet_cache.c, test_parquet_select.c, test_parquet_mmap.c). Header-only: static functions, include
 * once per test file after cmocka.h. */
#ifndef PL_TEST_PQ_TEST_FILE_H
#define PL_TEST_PQ_TEST_FILE_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "polaroid/polaroid.h"

/* Fails the test with the error's message unless st is PL_OK. */
static void ok(pl_status st, const pl_error *err) {
    if (st) fail_msg("status %d: %s", (int)st, err ? err->msg : "");
}

/* Writes batch as a Parquet file over path in place (written next to it, then copied over it:
 * truncated and rewritten, so the inode stays). wo: NULL for the defaults. */
static void rewrite_parquet(const char *path, pl_batch *batch, const pl_write_opts *wo) {
    pl_error err;
    pl_error_init(&err);
    pl_table *t = NULL;
    ok(pl_table_new(batch->schema, &t, &err), &err);
    ok(pl_table_append(t, batch, &err), &err);
    pl_stream *st = NULL;
    ok(pl_stream_from_table(t, &st, &err), &err);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.new.parquet", path);
    ok(pl_write_stream(st, tmp, PL_FORMAT_PARQUET, wo, &err), &err);
    pl_stream_free(st);
    FILE *in = fopen(tmp, "rb"), *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, k, out), k);
    fclose(in);
    fclose(out);
    unlink(tmp);
    pl_table_release(t);
}

/* The mixed-type test file: x int64 (i * 3 + x_base + salt, NULL every 7th row), s utf8 (a few
 * words for the first half, NULL every 5th, then many distinct values so the dictionary
 * overflows to PLAIN), d float64 (no NULLs), b bool (NULL every 3rd); values shifted by salt.
 * n_rows rows in row groups of 4000, pages of page_bytes. Rewrites path in place (the inode
 * stays). */
__attribute__((unused)) static void pq_test_write_mixed(const char *path, int64_t n_rows,
                                                    int64_t x_base, int64_t salt,
                                                    int64_t page_bytes, pl_codec codec) {
    static const char *const words[] = {"alpha", "beta", "", "gamma delta", "e"};
    pl_error err;
    pl_error_init(&err);
    pl_builder *bx = NULL, *bs = NULL, *bd = NULL, *bb = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), n_rows, &bx, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), n_rows, &bs, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_FLOAT64), n_rows, &bd, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_BOOL), n_rows, &bb, &err), &err);
    for (int64_t i = 0; i < n_rows; i++) {
        if (i % 7 == 3) ok(pl_builder_append_null(bx, &err), &err);
        else ok(pl_builder_append_i64(bx, i * 3 + x_base + salt, &err), &err);
        if (i % 5 == 1) {
            ok(pl_builder_append_null(bs, &err), &err);
        } else {
            char buf[32];
            const char *w = buf;
            if (i < n_rows / 2) w = words[(i + salt) % 5];
            else snprintf(buf, sizeof buf, "w%06lld", (long long)(i * 7919 + salt) % 1000003);
            ok(pl_builder_append_bytes(bs, w, (int64_t)strlen(w), &err), &err);
        }
        ok(pl_builder_append_f64(bd, (double)(i % 100) / 8.0 + (double)salt, &err), &err);
        if (i % 3 == 2) ok(pl_builder_append_null(bb, &err), &err);
        else ok(pl_builder_append_bool(bb, (i + salt) % 4 == 0, &err), &err);
    }
    pl_array *cols[4];
    ok(pl_builder_finish(bx, &cols[0], &err), &err);
    ok(pl_builder_finish(bs, &cols[1], &err), &err);
    ok(pl_builder_finish(bd, &cols[2], &err), &err);
    ok(pl_builder_finish(bb, &cols[3], &err), &err);
    pl_builder_free(bx);
    pl_builder_free(bs);
    pl_builder_free(bd);
    pl_builder_free(bb);
    pl_field f[4];
    ok(pl_field_init(&f[0], "x", pl_type_simple(PL_TYPE_INT64), true, &err), &err);
    ok(pl_field_init(&f[1], "s", pl_type_simple(PL_TYPE_UTF8), true, &err), &err);
    ok(pl_field_init(&f[2], "d", pl_type_simple(PL_TYPE_FLOAT64), false, &err), &err);
    ok(pl_field_init(&f[3], "b", pl_type_simple(PL_TYPE_BOOL), true, &err), &err);
    pl_schema *s = NULL;
    ok(pl_schema_new(4, f, &s, &err), &err);
    for (int i = 0; i < 4; i++) pl_field_reset(&f[i]);
    pl_batch *batch = NULL;
    ok(pl_batch_new(s, n_rows, cols, &batch, &err), &err);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.codec = codec;
    wo.row_group_rows = 4000;
    wo.page_bytes = page_bytes;
    wo.dict_max_bytes = 2000;
    rewrite_parquet(path, batch, &wo);
    pl_batch_release(batch);
}

#endif
