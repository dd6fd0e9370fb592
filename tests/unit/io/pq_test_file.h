/* pq_test_file.h - test helpers for the Parquet reader's tests that rewrite a file under a
 * reader (test_parquet_cache.c, test_parquet_select.c). Header-only: static functions, include
 * once per test file after cmocka.h. */
#ifndef PL_TEST_PQ_TEST_FILE_H
#define PL_TEST_PQ_TEST_FILE_H

#include <stdio.h>
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

#endif
