/* srv_data_util.h - test data for the server's unit tests: tables generated row by row, a
 * temporary data root with Parquet and text files in it, and the cmocka group fixtures that
 * make and remove it. Shared by srv_test_util.h (the engine-side tests) and the end-to-end tests
 * over gRPC (test_transport.c, test_client.c). Include after <cmocka.h>. */
#ifndef PL_SRV_DATA_UTIL_H
#define PL_SRV_DATA_UTIL_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/io.h"

/* Appends row i of a generated table to the builders (one per field). */
typedef void (*srv_row_fn)(pl_builder **b, int64_t i);

/* A table of n rows of these fields, filled by row(), in batches of 65536 rows. */
static inline pl_table *srv_gen_table(int32_t n_fields, const pl_field *f, int64_t n,
                                      srv_row_fn row) {
    pl_error err;
    pl_error_init(&err);
    pl_schema *s = NULL;
    assert_int_equal(pl_schema_new(n_fields, f, &s, &err), PL_OK);
    pl_table *t = NULL;
    assert_int_equal(pl_table_new(s, &t, &err), PL_OK);
    pl_builder **b = calloc((size_t)n_fields, sizeof *b);
    pl_array **cols = calloc((size_t)n_fields, sizeof *cols);
    assert_non_null(b);
    assert_non_null(cols);
    for (int64_t off = 0; off < n || (n == 0 && off == 0); off += 65536) {
        int64_t m = PL_MIN(65536, n - off);
        for (int32_t k = 0; k < n_fields; k++)
            assert_int_equal(pl_builder_new(s->fields[k].type, m, &b[k], &err), PL_OK);
        for (int64_t i = off; i < off + m; i++) row(b, i);
        for (int32_t k = 0; k < n_fields; k++) {
            assert_int_equal(pl_builder_finish(b[k], &cols[k], &err), PL_OK);
            pl_builder_free(b[k]);
        }
        pl_batch *bt = NULL;
        assert_int_equal(pl_batch_new(pl_schema_retain(s), m, cols, &bt, &err), PL_OK);
        assert_int_equal(pl_table_append(t, bt, &err), PL_OK);
        pl_batch_release(bt);
        if (n == 0) break;
    }
    free(b);
    free(cols);
    pl_schema_release(s);
    return t;
}

/* A fresh directory /tmp/<prefix>_XXXXXX, its real path in root. */
static inline void srv_make_dir(char *root, size_t cap, const char *prefix) {
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/%s_XXXXXX", prefix);
    assert_non_null(mkdtemp(tmpl));
    char real[PATH_MAX];
    assert_non_null(realpath(tmpl, real));
    assert_true(strlen(real) < cap);
    snprintf(root, cap, "%s", real);
}

/* rm -rf root (only a directory under /tmp); 0 when done. */
static inline int srv_remove_dir(const char *root) {
    if (strncmp(root, "/tmp/", 5) != 0 || strchr(root, '\'')) return -1;
    char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : -1;
}

/* t written under root as rel in fmt; row_group_rows and use_dictionary for Parquet (0, true:
 * the writer's defaults). */
static inline void srv_write_file(const char *root, const char *rel, pl_table *t, pl_format fmt,
                                  int64_t row_group_rows, bool use_dictionary) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    pl_error err;
    pl_error_init(&err);
    pl_stream *st = NULL;
    assert_int_equal(pl_stream_from_table(t, &st, &err), PL_OK);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    if (row_group_rows) wo.row_group_rows = row_group_rows;
    wo.use_dictionary = use_dictionary;
    assert_int_equal(pl_write_stream(st, path, fmt, &wo, &err), PL_OK);
    pl_stream_free(st);
}

/* text written under root as rel. */
static inline void srv_write_text(const char *root, const char *rel, const char *text) {
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#endif
