/* test_io.c - unit tests for the format-independent I/O layer (src/io/io.c): format names and
 * extensions, option defaults, glob expansion, format detection and dispatch of pl_scan_open /
 * pl_writer_open, stream collection (including a failing stream), and a CSV round trip through
 * pl_write_stream and pl_read_table when the CSV formats are built in. */
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
#include "polaroid/io.h"

static char g_dir[64];

static void write_file(const char *name, const void *bytes, size_t n) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, n, fp), n);
    fclose(fp);
}

static int setup(void **state) {
    (void)state;
    strcpy(g_dir, "/tmp/pl_test_io_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_formats_and_defaults(void **state) {
    (void)state;
    assert_int_equal(pl_format_from_path("a/b.parquet"), PL_FORMAT_PARQUET);
    assert_int_equal(pl_format_from_path("B.PARQUET"), PL_FORMAT_PARQUET);
    assert_int_equal(pl_format_from_path("x.csv"), PL_FORMAT_CSV);
    assert_int_equal(pl_format_from_path("x.tsv"), PL_FORMAT_CSV);
    assert_int_equal(pl_format_from_path("x.jsonl"), PL_FORMAT_JSON);
    assert_int_equal(pl_format_from_path("x.ndjson"), PL_FORMAT_JSON);
    assert_int_equal(pl_format_from_path("x.json"), PL_FORMAT_JSON);
    assert_int_equal(pl_format_from_path("x.arrow"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_path("x.arrows"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_path("x.feather"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_path("x.ipc"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_path("x.txt"), PL_FORMAT_AUTO);
    assert_int_equal(pl_format_from_path("parquet"), PL_FORMAT_AUTO);
    assert_int_equal(pl_format_from_path(NULL), PL_FORMAT_AUTO);
    assert_int_equal(pl_format_from_name("parquet"), PL_FORMAT_PARQUET);
    assert_int_equal(pl_format_from_name("CSV"), PL_FORMAT_CSV);
    assert_int_equal(pl_format_from_name("json"), PL_FORMAT_JSON);
    assert_int_equal(pl_format_from_name("arrow"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_name("ipc"), PL_FORMAT_IPC);
    assert_int_equal(pl_format_from_name("table"), PL_FORMAT_TABLE);
    assert_int_equal(pl_format_from_name("xml"), PL_FORMAT_AUTO);

    pl_read_opts r;
    memset(&r, 0x5A, sizeof r);
    pl_read_opts_init(&r);
    assert_null(r.columns);
    assert_int_equal(r.limit, -1);
    assert_int_equal(r.csv_header, -1);
    assert_int_equal(r.n_threads, 0);
    assert_null(r.row_groups);
    pl_write_opts w;
    memset(&w, 0x5A, sizeof w);
    pl_write_opts_init(&w);
    assert_int_equal(w.codec, PL_CODEC_DEFAULT);
    assert_true(w.use_dictionary);
    assert_true(w.write_statistics);
    assert_true(w.csv_header);
    assert_int_equal(w.row_group_rows, 0);
    assert_int_equal(w.csv_delimiter, 0);
}

static void free_paths(char **p, int32_t n) {
    for (int32_t i = 0; i < n; i++) pl_free(p[i]);
    pl_free(p);
}

static void test_glob_expand(void **state) {
    (void)state;
    write_file("b.csv", "x\n1\n", 4);
    write_file("a.csv", "x\n2\n", 4);
    write_file("c.txt", "x\n3\n", 4);
    write_file("x[1].csv", "x\n4\n", 4);
    char pat[128], lit[128], missing[128], none[128];
    snprintf(pat, sizeof pat, "%s/*.csv", g_dir);
    snprintf(lit, sizeof lit, "%s/x[1].csv", g_dir);
    snprintf(missing, sizeof missing, "%s/nope.csv", g_dir);
    snprintf(none, sizeof none, "%s/*.zzz", g_dir);
    const char *in[3] = {pat, lit, missing};
    char **out;
    int32_t n;
    assert_int_equal(pl_glob_expand(3, in, &out, &n, NULL), PL_OK);
    assert_int_equal(n, 5);
    const char *want[] = {"a.csv", "b.csv", "x[1].csv", "x[1].csv", "nope.csv"};
    for (int i = 0; i < 5; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s/%s", g_dir, want[i]);
        assert_string_equal(out[i], full);
    }
    free_paths(out, n);
    const char *in2[2] = {pat, none};
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_glob_expand(2, in2, &out, &n, &err), PL_ERR_NOT_FOUND);
    assert_string_equal(err.path, none);
    /* OOM anywhere in the expansion returns NOMEM and leaks nothing */
    for (int64_t k = 0;; k++) {
        pl_alloc_fail_after(k);
        pl_status st = pl_glob_expand(3, in, &out, &n, NULL);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            assert_int_equal(n, 5);
            free_paths(out, n);
            break;
        }
        assert_int_equal(st, PL_ERR_NOMEM);
        assert_true(k < 100);
    }
}

static void test_scan_dispatch(void **state) {
    (void)state;
    char path[256];
    pl_stream *s = NULL;
    pl_error err;
    /* unknown extension, Parquet magic: handed to the Parquet reader, which refuses the bytes
     * (or is not built) - never "cannot tell the format" */
    write_file("data.bin", "PAR1\x01\x02\x03\x04PAR1", 12);
    snprintf(path, sizeof path, "%s/data.bin", g_dir);
    const char *p1[1] = {path};
    pl_error_init(&err);
    pl_status st = pl_scan_open(1, p1, PL_FORMAT_AUTO, NULL, &s, &err);
    assert_int_not_equal(st, PL_OK);
    assert_int_not_equal(st, PL_ERR_INVALID_ARG);
    /* unknown extension and unknown bytes */
    write_file("data.xyz", "hello world", 11);
    snprintf(path, sizeof path, "%s/data.xyz", g_dir);
    pl_error_init(&err);
    assert_int_equal(pl_scan_open(1, p1, PL_FORMAT_AUTO, NULL, &s, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "format"));
    assert_string_equal(err.path, path);
    /* a missing file with an unknown extension */
    snprintf(path, sizeof path, "%s/missing.xyz", g_dir);
    pl_error_init(&err);
    assert_int_equal(pl_scan_open(1, p1, PL_FORMAT_AUTO, NULL, &s, &err), PL_ERR_NOT_FOUND);
    /* a glob that matches nothing */
    snprintf(path, sizeof path, "%s/*.none", g_dir);
    assert_int_equal(pl_scan_open(1, p1, PL_FORMAT_AUTO, NULL, &s, NULL), PL_ERR_NOT_FOUND);
    /* no paths; a write-only format */
    assert_int_equal(pl_scan_open(0, p1, PL_FORMAT_CSV, NULL, &s, NULL), PL_ERR_INVALID_ARG);
    snprintf(path, sizeof path, "%s/data.xyz", g_dir);
    assert_int_equal(pl_scan_open(1, p1, PL_FORMAT_TABLE, NULL, &s, NULL), PL_ERR_UNSUPPORTED);
    /* writers: unknown extension */
    pl_field f[1] = {{"x", pl_type_simple(PL_TYPE_INT64), true}};
    pl_schema *sch;
    assert_int_equal(pl_schema_new(1, f, &sch, NULL), PL_OK);
    pl_writer *w;
    snprintf(path, sizeof path, "%s/out.xyz", g_dir);
    pl_error_init(&err);
    assert_int_equal(pl_writer_open(path, PL_FORMAT_AUTO, sch, NULL, &w, &err), PL_ERR_INVALID_ARG);
    assert_string_equal(err.path, path);
    pl_schema_release(sch);
}

/* A stream of `left` one-row batches that fails after `fail_at` batches. */
typedef struct test_stream {
    int left, fail_at, done;
} test_stream;

static pl_status ts_next(pl_stream *s, pl_batch **out, pl_error *err) {
    test_stream *ts = s->impl;
    if (ts->done == ts->fail_at) PL_FAIL(err, PL_ERR_CORRUPT, "broken batch %d", ts->done);
    if (ts->left == 0) return PL_OK;
    pl_builder *b;
    PL_TRY(pl_builder_new(s->schema->fields[0].type, 1, &b, err));
    pl_array *col = NULL;
    pl_status st = pl_builder_append_i64(b, ts->done, err);
    if (!st) st = pl_builder_finish(b, &col, err);
    pl_builder_free(b);
    if (!st) st = pl_batch_new(pl_schema_retain(s->schema), 1, &col, out, err);
    if (st) return st;
    ts->left--;
    ts->done++;
    return PL_OK;
}

static void ts_free(pl_stream *s) {
    pl_schema_release(s->schema);
    pl_free(s->impl);
    pl_free(s);
}

static pl_stream *test_stream_new(int n, int fail_at) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    test_stream *ts = pl_calloc(1, sizeof *ts);
    assert_non_null(s);
    assert_non_null(ts);
    ts->left = n;
    ts->fail_at = fail_at;
    pl_field f[1] = {{"v", pl_type_simple(PL_TYPE_INT64), true}};
    assert_int_equal(pl_schema_new(1, f, &s->schema, NULL), PL_OK);
    s->impl = ts;
    s->next = ts_next;
    s->free = ts_free;
    return s;
}

static void test_stream_collect(void **state) {
    (void)state;
    pl_stream *s = test_stream_new(5, -1);
    pl_table *t;
    assert_int_equal(pl_stream_collect(s, &t, NULL), PL_OK);
    assert_int_equal(t->n_rows, 5);
    assert_int_equal(t->n_batches, 5);
    assert_int_equal(((const int64_t *)pl_array_values_ptr(t->batches[4]->columns[0]))[0], 4);
    pl_stream_free(s);
    /* the table stream hands the batches back, then NULL */
    pl_stream *ts;
    assert_int_equal(pl_stream_from_table(t, &ts, NULL), PL_OK);
    pl_table_release(t); /* the stream holds its own reference */
    pl_batch *b;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pl_stream_next(ts, &b, NULL), PL_OK);
        assert_non_null(b);
        assert_int_equal(((const int64_t *)pl_array_values_ptr(b->columns[0]))[0], i);
        pl_batch_release(b);
    }
    assert_int_equal(pl_stream_next(ts, &b, NULL), PL_OK);
    assert_null(b);
    pl_stream_free(ts);
    pl_stream_free(NULL);
    /* an error in the middle is returned and the partial table freed */
    s = test_stream_new(5, 3);
    pl_error err;
    pl_error_init(&err);
    t = NULL;
    assert_int_equal(pl_stream_collect(s, &t, &err), PL_ERR_CORRUPT);
    assert_null(t);
    assert_string_equal(err.msg, "broken batch 3");
    pl_stream_free(s);
}

static void test_csv_round_trip(void **state) {
    (void)state;
    /* int64 and utf8 columns, NULLs included (no empty strings: CSV reads "" as NULL) */
    pl_field f[2] = {{"id", pl_type_simple(PL_TYPE_INT64), true}, {"name", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_schema *sch;
    assert_int_equal(pl_schema_new(2, f, &sch, NULL), PL_OK);
    pl_table *t;
    assert_int_equal(pl_table_new(sch, &t, NULL), PL_OK);
    for (int part = 0; part < 3; part++) {
        pl_builder *bi, *bs;
        assert_int_equal(pl_builder_new(f[0].type, 0, &bi, NULL), PL_OK);
        assert_int_equal(pl_builder_new(f[1].type, 0, &bs, NULL), PL_OK);
        for (int r = 0; r < 10; r++) {
            int v = part * 10 + r;
            char name[32];
            int n = snprintf(name, sizeof name, "name %d, \"q\"", v);
            if (v % 4 == 1) assert_int_equal(pl_builder_append_null(bi, NULL), PL_OK);
            else assert_int_equal(pl_builder_append_i64(bi, v * 1000003LL, NULL), PL_OK);
            if (v % 6 == 2) assert_int_equal(pl_builder_append_null(bs, NULL), PL_OK);
            else assert_int_equal(pl_builder_append_bytes(bs, name, n, NULL), PL_OK);
        }
        pl_array *cols[2];
        assert_int_equal(pl_builder_finish(bi, &cols[0], NULL), PL_OK);
        assert_int_equal(pl_builder_finish(bs, &cols[1], NULL), PL_OK);
        pl_builder_free(bi);
        pl_builder_free(bs);
        pl_batch *b;
        assert_int_equal(pl_batch_new(pl_schema_retain(sch), 10, cols, &b, NULL), PL_OK);
        assert_int_equal(pl_table_append(t, b, NULL), PL_OK);
        pl_batch_release(b);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/round.csv", g_dir);
    pl_stream *s;
    assert_int_equal(pl_stream_from_table(t, &s, NULL), PL_OK);
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_write_stream(s, path, PL_FORMAT_AUTO, NULL, &err);
    pl_stream_free(s);
    if (st == PL_ERR_UNSUPPORTED) {
        pl_table_release(t);
        pl_schema_release(sch);
        skip(); /* the CSV writer is not in this build */
    }
    assert_int_equal(st, PL_OK);
    const char *paths[1] = {path};
    pl_table *back = NULL;
    pl_error_init(&err);
    st = pl_read_table(1, paths, PL_FORMAT_AUTO, NULL, &back, &err);
    if (st == PL_ERR_UNSUPPORTED) {
        pl_table_release(t);
        pl_schema_release(sch);
        skip();
    }
    assert_int_equal(st, PL_OK);
    assert_int_equal(back->n_rows, 30);
    assert_true(pl_table_equals(t, back));
    pl_table_release(back);
    pl_table_release(t);
    pl_schema_release(sch);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_and_defaults),
        cmocka_unit_test(test_glob_expand),
        cmocka_unit_test(test_scan_dispatch),
        cmocka_unit_test(test_stream_collect),
        cmocka_unit_test(test_csv_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
