/* The CSV and Arrow IPC readers read their files through pl_file_load (src/core/file.c): a
 * guarded mapping (pl_file_map) or, for small files and with mappings off, a copy in memory.
 *   - pl_file_load itself: which files are mapped, that the bytes are the file's, that the
 *     last release unmaps, errors for missing files and directories (and pl_file_read_all,
 *     which copies small files instead of mapping them);
 *   - mapped and in-memory reads give the same tables (CSV, IPC stream and file formats);
 *   - a file truncated under a scan (after the scan opened it, between batches) makes the scan
 *     fail with PL_ERR_IO "file changed while it was being read" naming the file, never a
 *     SIGBUS, and nothing leaks (ASan/LSan);
 *   - IPC batches returned before the truncation are zero-copy views of the mapping: touching
 *     them afterwards reads zeros instead of faulting, and the stream's next call reports the
 *     change. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "io/csv/csv.h"
#include "polaroid/polaroid.h"
#include "../common/test_util.h"

static void ok_(pl_status st, const pl_error *err, const char *expr, int line) {
    if (st != PL_OK) {
        char buf[1024];
        fail_msg("line %d: %s failed: %s", line, expr, pl_error_format(err, buf, sizeof buf));
    }
}
#define ok(expr, err) ok_((expr), (err), #expr, __LINE__)

static char *temp_path(int k, const char *ext) {
    static char paths[4][96];
    snprintf(paths[k], sizeof paths[k], "/tmp/pl_test_trunc_%d_%d%s", (int)getpid(), k, ext);
    return paths[k];
}

static int64_t file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_size;
}

/* rows of "i,name_i,i/2" under a header; returns the text's size */
static int64_t write_csv(const char *path, int64_t rows) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "i,s,d\n");
    for (int64_t i = 0; i < rows; i++)
        fprintf(f, "%lld,name_%lld,%g\n", (long long)i, (long long)(i * 7919 % 100003),
                (double)i * 0.5);
    fclose(f);
    return file_size(path);
}

/* n_batches batches of rows rows (x int64, s utf8) in the IPC format the extension names */
static void write_ipc(const char *path, int32_t n_batches, int64_t rows) {
    pl_error err;
    pl_error_init(&err);
    pl_field fl[2];
    ok(pl_field_init(&fl[0], "x", pl_type_simple(PL_TYPE_INT64), false, &err), &err);
    ok(pl_field_init(&fl[1], "s", pl_type_simple(PL_TYPE_UTF8), true, &err), &err);
    pl_schema *sc = NULL;
    ok(pl_schema_new(2, fl, &sc, &err), &err);
    pl_field_reset(&fl[0]);
    pl_field_reset(&fl[1]);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.codec = PL_CODEC_UNCOMPRESSED; /* zero-copy reads */
    pl_writer *w = NULL;
    ok(pl_writer_open(path, PL_FORMAT_AUTO, sc, &wo, &w, &err), &err);
    for (int32_t b = 0; b < n_batches; b++) {
        pl_builder *bx = NULL, *bs = NULL;
        ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), rows, &bx, &err), &err);
        ok(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), rows, &bs, &err), &err);
        for (int64_t i = 0; i < rows; i++) {
            int64_t v = (int64_t)b * rows + i + 1; /* never 0 */
            ok(pl_builder_append_i64(bx, v, &err), &err);
            char s[32];
            int n = snprintf(s, sizeof s, "value %lld", (long long)v);
            if (i % 11 == 0) ok(pl_builder_append_null(bs, &err), &err);
            else ok(pl_builder_append_bytes(bs, s, n, &err), &err);
        }
        pl_array *cols[2];
        ok(pl_builder_finish(bx, &cols[0], &err), &err);
        ok(pl_builder_finish(bs, &cols[1], &err), &err);
        pl_builder_free(bx);
        pl_builder_free(bs);
        pl_batch *batch = NULL;
        ok(pl_batch_new(pl_schema_retain(sc), rows, cols, &batch, &err), &err);
        ok(pl_writer_write(w, batch, &err), &err);
        pl_batch_release(batch);
    }
    ok(pl_writer_finish(w, &err), &err);
    pl_writer_free(w);
    pl_schema_release(sc);
}

static void assert_changed(pl_status st, const pl_error *err, const char *path) {
    assert_int_equal(st, PL_ERR_IO);
    assert_non_null(strstr(err->msg, "file changed while it was being read"));
    assert_string_equal(err->path, path);
}

/* ---------------------------------------------------------------- pl_file_load */

static void check_load(const char *path, int mode, bool want_mapped) {
    pl_file_map_test(mode);
    pl_error err;
    pl_error_init(&err);
    int64_t m0 = pl_file_map_count();
    pl_buf *b = NULL;
    int32_t slot = -7;
    ok(pl_file_load(path, &b, &slot, &err), &err);
    assert_int_equal(slot >= 0, want_mapped);
    assert_int_equal(pl_file_map_count(), m0 + (want_mapped ? 1 : 0));
    assert_int_equal(b->size, file_size(path));
    assert_int_equal(test_mapping_rss_kb(path) >= 0, want_mapped);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *want = malloc((size_t)b->size + 1);
    assert_int_equal(fread(want, 1, (size_t)b->size, f), (size_t)b->size);
    fclose(f);
    assert_memory_equal(b->data, want, (size_t)b->size);
    free(want);
    if (want_mapped) assert_false(pl_file_map_lost(slot));
    pl_buf_release(b);
    assert_int_equal(test_mapping_rss_kb(path), -1); /* the last release unmapped it */
    pl_file_map_test(PL_FMAP_TEST_NONE);
}

static void test_file_load(void **state) {
    (void)state;
    char *small = temp_path(0, ".csv"), *big = temp_path(1, ".csv");
    write_csv(small, 1000);
    assert_true(file_size(small) < (256 << 10));
    write_csv(big, 40000);
    assert_true(file_size(big) > (256 << 10));
    check_load(small, PL_FMAP_TEST_NONE, false); /* small: read into memory */
    check_load(small, PL_FMAP_TEST_ALL, true);
    check_load(small, PL_FMAP_TEST_OFF, false);
    check_load(big, PL_FMAP_TEST_ALL, true);
    check_load(big, PL_FMAP_TEST_OFF, false); /* mappings off: read into memory */
    /* pl_file_read_all (CA bundles, zone files): small files copied, larger ones mapped */
    for (int k = 0; k < 2; k++) {
        const char *p = k ? big : small;
        pl_error e2;
        pl_error_init(&e2);
        pl_buf *b = NULL;
        ok(pl_file_read_all(p, &b, &e2), &e2);
        assert_int_equal(b->size, file_size(p));
        assert_int_equal(test_mapping_rss_kb(p) >= 0, k == 1);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        uint8_t *want = malloc((size_t)b->size);
        assert_int_equal(fread(want, 1, (size_t)b->size, f), (size_t)b->size);
        fclose(f);
        assert_memory_equal(b->data, want, (size_t)b->size);
        free(want);
        pl_buf_release(b);
        assert_int_equal(test_mapping_rss_kb(p), -1);
    }
    /* the empty file */
    FILE *f = fopen(small, "wb");
    fclose(f);
    check_load(small, PL_FMAP_TEST_ALL, false);
    /* errors: missing file, a directory */
    pl_error err;
    pl_error_init(&err);
    pl_buf *b = NULL;
    int32_t slot = -7;
    unlink(small);
    assert_int_equal(pl_file_load(small, &b, &slot, &err), PL_ERR_NOT_FOUND);
    assert_string_equal(err.path, small);
    assert_null(b);
    assert_int_equal(slot, -7); /* outputs untouched on error */
    pl_error_init(&err);
    assert_int_equal(pl_file_load("/tmp", &b, &slot, &err), PL_ERR_IO);
    assert_non_null(strstr(err.msg, "not a regular file"));
    assert_null(b);
    unlink(big);
}

/* ---------------------------------------------------------------- CSV */

static pl_table *read_all(const char *path, pl_format fmt, int mode) {
    pl_file_map_test(mode);
    pl_error err;
    pl_error_init(&err);
    pl_table *t = NULL;
    ok(pl_read_table(1, &path, fmt, NULL, &t, &err), &err);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    return t;
}

static void test_csv_mapped_equals_memory(void **state) {
    (void)state;
    char *path = temp_path(0, ".csv");
    write_csv(path, 30000);
    int64_t m0 = pl_file_map_count();
    pl_table *want = read_all(path, PL_FORMAT_CSV, PL_FMAP_TEST_OFF);
    assert_int_equal(pl_file_map_count(), m0);
    pl_table *got = read_all(path, PL_FORMAT_CSV, PL_FMAP_TEST_ALL);
    assert_int_equal(pl_file_map_count(), m0 + 1);
    assert_int_equal(got->n_rows, 30000);
    assert_true(pl_table_equals(want, got));
    pl_table_release(want);
    pl_table_release(got);
    unlink(path);
}

/* The file shrinks after the scan opened it (header and sample parsed) and after some batches
 * were returned: the next parse fails with the change named, for cuts at the start, mid-page,
 * half way and just before the end. */
static void test_csv_truncated_under_scan(void **state) {
    (void)state;
    pl_csv_set_chunk_bytes_for_testing(16 << 10); /* many waves */
    for (int32_t before = 0; before < 3; before += 2) {
        for (int k = 0; k < 4; k++) {
            pl_file_map_test(PL_FMAP_TEST_ALL);
            char *path = temp_path(0, ".csv");
            int64_t size = write_csv(path, 40000);
            const int64_t cuts[4] = {0, 5000, size / 2, size - 4096 * 3};
            pl_error err;
            pl_error_init(&err);
            pl_read_opts ro;
            pl_read_opts_init(&ro);
            ro.n_threads = 2;
            pl_stream *s = NULL;
            ok(pl_scan_open(1, (const char *const *)&path, PL_FORMAT_CSV, &ro, &s, &err), &err);
            pl_status st = PL_OK;
            int64_t rows = 0;
            for (int32_t b = 0; b < before && !st; b++) {
                pl_batch *batch = NULL;
                st = pl_stream_next(s, &batch, &err);
                ok(st, &err);
                assert_non_null(batch);
                rows += batch->n_rows;
                pl_batch_release(batch);
            }
            assert_int_equal(truncate(path, cuts[k]), 0);
            for (;;) {
                pl_batch *batch = NULL;
                st = pl_stream_next(s, &batch, &err);
                if (st || !batch) break;
                rows += batch->n_rows;
                pl_batch_release(batch);
            }
            assert_changed(st, &err, path);
            assert_true(rows < 40000);
            pl_stream_free(s);
            pl_file_map_test(PL_FMAP_TEST_NONE);
            unlink(path);
        }
    }
    pl_csv_set_chunk_bytes_for_testing(0);
}

/* A multi-file scan: the second file is cut while the first is read (it is mapped only when
 * its turn comes: it is read whole, shorter; a row cut in half is a parse error or a short
 * last row, never a crash); then the second file is cut while it is being read. */
static void test_csv_second_file_truncated(void **state) {
    (void)state;
    pl_csv_set_chunk_bytes_for_testing(16 << 10);
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *a = temp_path(0, ".csv"), *b = temp_path(1, ".csv");
    write_csv(a, 20000);
    int64_t size_b = write_csv(b, 20000);
    const char *paths[2] = {a, b};
    pl_error err;
    pl_error_init(&err);
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    ro.n_threads = 2;
    pl_stream *s = NULL;
    ok(pl_scan_open(2, paths, PL_FORMAT_CSV, &ro, &s, &err), &err);
    pl_status st = PL_OK;
    int64_t rows = 0;
    bool cut = false;
    for (;;) {
        pl_batch *batch = NULL;
        st = pl_stream_next(s, &batch, &err);
        if (st || !batch) break;
        rows += batch->n_rows;
        pl_batch_release(batch);
        if (!cut && rows > 25000) { /* into the second file */
            assert_int_equal(truncate(b, size_b / 3), 0);
            cut = true;
        }
    }
    assert_true(cut);
    assert_changed(st, &err, b);
    pl_stream_free(s);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    pl_csv_set_chunk_bytes_for_testing(0);
    unlink(a);
    unlink(b);
}

/* A scan of a mapped CSV file: the parsed waves' pages leave the address space (they stay in
 * the page cache), so the mapping's resident size stays well below the file's; a parse error
 * after many dropped waves still names its line (counted over pages mapped again). */
static void test_csv_drops_parsed_pages(void **state) {
    (void)state;
    pl_csv_set_chunk_bytes_for_testing(64 << 10); /* waves of 8 x 64 KiB with 2 threads */
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *path = temp_path(0, ".csv");
    int64_t size = write_csv(path, 200000);
    assert_true(size > (4 << 20));
    pl_error err;
    pl_error_init(&err);
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    ro.n_threads = 2;
    pl_stream *s = NULL;
    ok(pl_scan_open(1, (const char *const *)&path, PL_FORMAT_CSV, &ro, &s, &err), &err);
    int64_t rows = 0;
    long max_rss = 0;
    for (;;) {
        pl_batch *b = NULL;
        ok(pl_stream_next(s, &b, &err), &err);
        if (!b) break;
        rows += b->n_rows;
        pl_batch_release(b);
        long rss = test_mapping_rss_kb(path);
        if (rss > max_rss) max_rss = rss;
    }
    assert_int_equal(rows, 200000);
    if (max_rss * 1024 > size / 4)
        fail_msg("%ld KiB of the %lld-byte file's mapping resident", max_rss, (long long)size);
    pl_stream_free(s);
    assert_int_equal(test_mapping_rss_kb(path), -1);
    /* a bad value on line 180002 (row 180000 after the header) */
    {
        FILE *in = fopen(path, "r+b");
        assert_non_null(in);
        char line[64];
        int64_t at = 0;
        for (int64_t l = 0; l < 180001 && fgets(line, sizeof line, in); l++) at += (int64_t)strlen(line);
        fseek(in, at, SEEK_SET);
        fputc('x', in); /* "x..." where an integer is expected */
        fclose(in);
    }
    pl_error_init(&err);
    pl_table *t = NULL;
    assert_int_equal(pl_read_table(1, (const char *const *)&path, PL_FORMAT_CSV, &ro, &t, &err),
                     PL_ERR_TYPE);
    assert_null(t);
    assert_int_equal(err.row, 180002);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    pl_csv_set_chunk_bytes_for_testing(0);
    unlink(path);
}

/* ---------------------------------------------------------------- Arrow IPC */

static void test_ipc_mapped_equals_memory(void **state) {
    (void)state;
    const char *exts[2] = {".arrows", ".arrow"}; /* stream, file format */
    for (int f = 0; f < 2; f++) {
        char *path = temp_path(0, exts[f]);
        write_ipc(path, 6, 5000);
        pl_table *want = read_all(path, PL_FORMAT_IPC, PL_FMAP_TEST_OFF);
        int64_t m0 = pl_file_map_count();
        pl_table *got = read_all(path, PL_FORMAT_IPC, PL_FMAP_TEST_ALL);
        assert_int_equal(pl_file_map_count(), m0 + 1);
        assert_int_equal(got->n_rows, 30000);
        assert_true(pl_table_equals(want, got));
        assert_true(test_mapping_rss_kb(path) >= 0); /* the table's buffers are views of the mapping */
        pl_table_release(want);
        pl_table_release(got);
        assert_int_equal(test_mapping_rss_kb(path), -1);
        unlink(path);
    }
}

/* Cut after the first batch (kept) was returned: reading on fails with the change named; the
 * kept batch reads zeros where it lost its pages, and never faults. */
static void test_ipc_truncated_under_scan(void **state) {
    (void)state;
    const char *exts[2] = {".arrows", ".arrow"};
    for (int f = 0; f < 2; f++) {
        for (int k = 0; k < 3; k++) {
            pl_file_map_test(PL_FMAP_TEST_ALL);
            char *path = temp_path(0, exts[f]);
            write_ipc(path, 6, 5000);
            int64_t size = file_size(path);
            const int64_t cuts[3] = {0, 4096, size / 2};
            pl_error err;
            pl_error_init(&err);
            pl_stream *s = NULL;
            ok(pl_scan_open(1, (const char *const *)&path, PL_FORMAT_IPC, NULL, &s, &err), &err);
            pl_batch *first = NULL;
            ok(pl_stream_next(s, &first, &err), &err);
            assert_non_null(first);
            assert_int_equal(first->n_rows, 5000);
            assert_int_equal(truncate(path, cuts[k]), 0);
            pl_status st = PL_OK;
            int64_t rows = first->n_rows;
            for (;;) {
                pl_batch *batch = NULL;
                st = pl_stream_next(s, &batch, &err);
                if (st || !batch) break;
                rows += batch->n_rows;
                pl_batch_release(batch);
            }
            assert_changed(st, &err, path);
            assert_true(rows < 30000);
            /* the kept batch: every value is what was written or zero */
            const int64_t *x = (const int64_t *)(const void *)first->columns[0]->values->data +
                               first->columns[0]->offset;
            for (int64_t i = 0; i < first->n_rows; i++) assert_true(x[i] == i + 1 || x[i] == 0);
            pl_batch_release(first);
            pl_stream_free(s);
            pl_file_map_test(PL_FMAP_TEST_NONE);
            unlink(path);
        }
    }
}

/* Cut after the whole file was read into a batch held by the caller, then the batch touched:
 * the next call (the end of the stream) still reports the change. */
static void test_ipc_truncated_before_end(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *path = temp_path(0, ".arrows");
    write_ipc(path, 1, 60000);
    pl_error err;
    pl_error_init(&err);
    pl_stream *s = NULL;
    ok(pl_scan_open(1, (const char *const *)&path, PL_FORMAT_IPC, NULL, &s, &err), &err);
    pl_batch *only = NULL;
    ok(pl_stream_next(s, &only, &err), &err);
    assert_non_null(only);
    assert_int_equal(truncate(path, 0), 0);
    const int64_t *x = (const int64_t *)(const void *)only->columns[0]->values->data +
                       only->columns[0]->offset;
    int64_t zeros = 0;
    for (int64_t i = 0; i < only->n_rows; i++) zeros += x[i] == 0;
    assert_true(zeros > 0); /* its pages were gone */
    pl_batch *next = NULL;
    assert_changed(pl_stream_next(s, &next, &err), &err, path);
    assert_null(next);
    pl_batch_release(only);
    pl_stream_free(s);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(path);
}


static bool table_in_file(const pl_table *t) {
    for (int64_t b = 0; b < t->n_batches; b++)
        for (int32_t k = 0; k < t->batches[b]->n_cols; k++) {
            const pl_array *a = t->batches[b]->columns[k];
            if ((a->validity && pl_file_map_holds(a->validity->data)) ||
                (a->values && pl_file_map_holds(a->values->data)) ||
                (a->data && pl_file_map_holds(a->data->data)))
                return true;
        }
    return false;
}

/* Overwrites the whole file in place (no truncation) with 0xAB bytes. */
static void scribble(const char *path) {
    int64_t size = file_size(path);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    for (int64_t i = 0; i < size; i++) fputc(0xAB, f);
    fclose(f);
}

static pl_status keep_nothing(void *user, pl_sql_result *r, pl_error *err) {
    (void)user; (void)r; (void)err;
    return PL_OK;
}

/* IPC tables read in place are views of the file: pl_table_detach_files copies them out, and
 * the tables that SQL sessions store (CREATE TABLE AS) keep the values as read when the file
 * is rewritten in place afterwards, while a plain view shows the new bytes. */
static void test_ipc_detach_files(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *path = temp_path(0, ".arrows");
    write_ipc(path, 3, 20000);
    pl_error err;
    pl_error_init(&err);
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    pl_table *view = NULL, *own = NULL, *again = NULL, *ref = NULL;
    ok(pl_read_table(1, (const char *const *)&path, PL_FORMAT_IPC, &ro, &view, &err), &err);
    assert_true(table_in_file(view));
    ok(pl_table_detach_files(view, &own, &err), &err);
    assert_ptr_not_equal(own, view);
    assert_false(table_in_file(own));
    assert_true(pl_table_equals(own, view));
    ok(pl_table_detach_files(own, &again, &err), &err); /* nothing left to copy: shared */
    assert_ptr_equal(again, own);
    pl_table_release(again);
    pl_file_map_test(PL_FMAP_TEST_OFF); /* the reference: read into memory */
    ok(pl_read_table(1, (const char *const *)&path, PL_FORMAT_IPC, &ro, &ref, &err), &err);
    assert_false(table_in_file(ref));
    pl_file_map_test(PL_FMAP_TEST_ALL);

    /* a SQL session's stored table */
    pl_session *ss = NULL;
    ok(pl_session_new(&ss, &err), &err);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE t AS SELECT * FROM '%s'", path);
    ok(pl_session_run(ss, sql, keep_nothing, NULL, &err), &err);

    scribble(path);
    const pl_array *x = view->batches[0]->columns[0];
    int64_t first;
    memcpy(&first, x->values->data + 8 * x->offset, 8);
    assert_int_not_equal(first, 1); /* the view shows the file's new bytes */
    assert_true(pl_table_equals(own, ref));

    pl_df *df = NULL;
    ok(pl_session_query(ss, "SELECT * FROM t", &df, &err), &err);
    pl_exec_opts eo;
    pl_exec_opts_init(&eo);
    pl_table *stored = NULL;
    ok(pl_df_collect(df, &eo, &stored, &err), &err);
    assert_true(pl_table_equals(stored, ref));
    pl_table_release(stored);
    pl_df_release(df);
    pl_session_free(ss);
    pl_table_release(view);
    pl_table_release(own);
    pl_table_release(ref);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipc_detach_files),
        cmocka_unit_test(test_file_load),
        cmocka_unit_test(test_csv_mapped_equals_memory),
        cmocka_unit_test(test_csv_truncated_under_scan),
        cmocka_unit_test(test_csv_second_file_truncated),
        cmocka_unit_test(test_csv_drops_parsed_pages),
        cmocka_unit_test(test_ipc_mapped_equals_memory),
        cmocka_unit_test(test_ipc_truncated_under_scan),
        cmocka_unit_test(test_ipc_truncated_before_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
