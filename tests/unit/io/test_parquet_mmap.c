/* Reading Parquet column chunks from a mapping of the file (src/core/file.c pl_file_map,
 * src/io/parquet/reader.c file_map, column.c source_read): every codec read from the mapping
 * must give exactly what pread gives (whole columns, selected rows, match mode, multi-file
 * scans); zstd chunks stay on pread; a file truncated under the mapping gives an error naming
 * the change, never a SIGBUS; a SIGBUS outside the reader's mappings still kills the process. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute/compute.h"
#include "io/parquet/pq_int.h"
#include "polaroid/polaroid.h"
#include "pq_test_file.h"
#include "../common/test_util.h"

#define N_ROWS 20000

/* the mixed-type file (pq_test_file.h): x from -5000, pages of 1500 bytes, five row groups */
static void write_file(const char *path, pl_codec codec) {
    pq_test_write_mixed(path, N_ROWS, -5000, 0, 1500, codec);
}

static char *temp_path(int k) {
    static char paths[4][64];
    char *path = paths[k];
    strcpy(path, "/tmp/pl_test_pqmap_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

static int64_t file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static bool fast_codec(pl_codec c) { return c != PL_CODEC_ZSTD && c != PL_CODEC_GZIP; }

static const pl_codec CODECS[] = {PL_CODEC_UNCOMPRESSED, PL_CODEC_SNAPPY, PL_CODEC_LZ4_RAW,
                                  PL_CODEC_ZSTD, PL_CODEC_GZIP};
#define N_CODECS (sizeof CODECS / sizeof *CODECS)

/* match mode: s = "beta" */
static pl_status match_beta(void *arg, pl_array *values, uint8_t *pass, pl_error *err) {
    (void)err;
    (*(int *)arg)++;
    for (int64_t i = 0; i < values->length; i++) {
        int32_t len = 0;
        const uint8_t *b = pl_array_bytes(values, i, &len);
        pass[i] = pl_array_is_valid(values, i) && len == 4 && memcmp(b, "beta", 4) == 0;
    }
    return PL_OK;
}

/* Every field of every row group read whole, with selections and (s) in match mode: from the
 * mapping, equal to the pread read of the same file. */
static void check_mapped_equals_pread(const char *path, pl_codec codec) {
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    assert_null(f->src.map); /* opening reads the footer only */
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    assert_int_equal(md->n_row_groups, N_ROWS / 4000);
    pl_array *ref[8][4];
    pl_pq_scratch scr = {0};
    for (int32_t rg = 0; rg < md->n_row_groups; rg++)
        for (int32_t field = 0; field < 4; field++)
            ok(pl_pq_read_field(f, rg, field, false, -1, NULL, &scr, &ref[rg][field], &err), &err);
    ok(pl_pq_file_ensure_fd(f, &err), &err);
    if (fast_codec(codec)) assert_non_null(f->src.map);
    else assert_null(f->src.map); /* zstd and gzip chunks are read with pread */
    int32_t *sel = malloc(sizeof *sel * N_ROWS);
    for (int32_t rg = 0; rg < md->n_row_groups; rg++) {
        int32_t rows = (int32_t)md->row_groups[rg].num_rows;
        for (int32_t field = 0; field < 4; field++) {
            pl_array *got = NULL, *want = NULL;
            ok(pl_pq_read_field(f, rg, field, false, -1, NULL, &scr, &got, &err), &err);
            if (!pl_array_equals(ref[rg][field], got))
                fail_msg("codec %d, row group %d, field %d: mapped read differs", (int)codec, rg,
                         field);
            pl_array_release(got);
            /* sparse rows and a block across pages */
            int64_t n = 0;
            for (int32_t i = 0; i < rows; i++)
                if (i % 37 == 0 || (i >= rows / 2 && i < rows / 2 + 500)) sel[n++] = i;
            ok(pl_pq_read_field_sel(f, rg, field, false, sel, n, &scr, &got, &err), &err);
            ok(pl_array_take_i32(ref[rg][field], sel, n, &want, &err), &err);
            if (!pl_array_equals(want, got))
                fail_msg("codec %d, row group %d, field %d: mapped selection differs", (int)codec,
                         rg, field);
            pl_array_release(got);
            pl_array_release(want);
        }
        /* match mode over s: rows whose value is "beta" (dictionary pages) */
        int32_t *msel = NULL;
        int64_t mn = -1;
        bool matched = false;
        int calls = 0;
        ok(pl_pq_match_field(f, rg, 1, match_beta, &calls, &scr, &msel, &mn, &matched, &err), &err);
        if (matched) {
            int64_t k = 0;
            for (int64_t i = 0; i < ref[rg][1]->length; i++) {
                int32_t len = 0;
                const uint8_t *b = pl_array_bytes(ref[rg][1], i, &len);
                if (!pl_array_is_valid(ref[rg][1], i) || len != 4 || memcmp(b, "beta", 4)) continue;
                assert_true(k < mn);
                assert_int_equal(msel[k], i);
                k++;
            }
            assert_int_equal(k, mn);
        }
        pl_free(msel);
    }
    free(sel);
    assert_false(f->src.map && pl_file_map_lost(f->src.map_slot));

    for (int32_t rg = 0; rg < md->n_row_groups; rg++)
        for (int32_t field = 0; field < 4; field++) pl_array_release(ref[rg][field]);
    pl_pq_scratch_reset(&scr);
    pl_pq_file_close(f);
}

static void test_mapped_equals_pread(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    for (size_t c = 0; c < N_CODECS; c++) {
        char *path = temp_path(0);
        write_file(path, CODECS[c]);
        check_mapped_equals_pread(path, CODECS[c]);
        unlink(path);
    }
    pl_file_map_test(PL_FMAP_TEST_NONE);
}

/* A whole scan (window path) of several files, once from mappings and once with pread. */
static pl_table *scan_all(int32_t n, const char *const *paths) {
    pl_error err;
    pl_error_init(&err);
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    pl_stream *s = NULL;
    ok(pl_scan_open(n, paths, PL_FORMAT_PARQUET, &ro, &s, &err), &err);
    pl_table *t = NULL;
    ok(pl_stream_collect(s, &t, &err), &err);
    pl_stream_free(s);
    return t;
}

static void test_scan_mapped_equals_pread(void **state) {
    (void)state;
    const pl_codec codecs[] = {PL_CODEC_SNAPPY, PL_CODEC_UNCOMPRESSED};
    char *a = temp_path(0), *b = temp_path(1);
    write_file(a, codecs[0]);
    write_file(b, codecs[1]);
    const char *paths[3] = {a, b, a};
    for (int32_t n = 1; n <= 3; n++) {
        pl_file_map_test(PL_FMAP_TEST_OFF);
        int64_t m0 = pl_file_map_count();
        pl_table *want = scan_all(n, paths);
        assert_int_equal(pl_file_map_count(), m0);
        pl_file_map_test(PL_FMAP_TEST_ALL);
        pl_table *got = scan_all(n, paths);
        assert_true(pl_file_map_count() >= m0 + n); /* every file was mapped */
        assert_int_equal(got->n_rows, (int64_t)n * N_ROWS);
        assert_true(pl_table_equals(want, got));
        pl_table_release(want);
        pl_table_release(got);
    }
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(a);
    unlink(b);
}

/* A 3 MB uncompressed file read by a scan: mapped, and the chunks' pages leave the address
 * space once decoded (they stay in the page cache), so the process's RSS does not grow by the
 * file's size (fault-around may leave up to 64 KiB past a chunk). */
static void test_scan_drops_mapped_pages(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL); /* (puts the handler back over cmocka's) */
    const int64_t n = 200000;
    pl_error err;
    pl_error_init(&err);
    pl_builder *bx = NULL, *bd = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), n, &bx, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_FLOAT64), n, &bd, &err), &err);
    for (int64_t i = 0; i < n; i++) {
        ok(pl_builder_append_i64(bx, i * 7919 % 100003, &err), &err);
        ok(pl_builder_append_f64(bd, (double)i * 0.5, &err), &err);
    }
    pl_array *cols[2];
    ok(pl_builder_finish(bx, &cols[0], &err), &err);
    ok(pl_builder_finish(bd, &cols[1], &err), &err);
    pl_builder_free(bx);
    pl_builder_free(bd);
    pl_field fl[2];
    ok(pl_field_init(&fl[0], "x", pl_type_simple(PL_TYPE_INT64), false, &err), &err);
    ok(pl_field_init(&fl[1], "d", pl_type_simple(PL_TYPE_FLOAT64), false, &err), &err);
    pl_schema *sc = NULL;
    ok(pl_schema_new(2, fl, &sc, &err), &err);
    pl_field_reset(&fl[0]);
    pl_field_reset(&fl[1]);
    pl_batch *batch = NULL;
    ok(pl_batch_new(sc, n, cols, &batch, &err), &err);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.codec = PL_CODEC_UNCOMPRESSED;
    wo.row_group_rows = 50000;
    wo.dict_max_bytes = 1; /* PLAIN */
    char *path = temp_path(0);
    rewrite_parquet(path, batch, &wo);
    pl_batch_release(batch);
    int64_t size = file_size(path);
    assert_true(size > (3 << 20));
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    pl_stream *s = NULL;
    int64_t m0 = pl_file_map_count();
    ok(pl_scan_open(1, (const char *const *)&path, PL_FORMAT_PARQUET, &ro, &s, &err), &err);
    pl_batch *b = NULL;
    int64_t rows = 0;
    double sum = 0;
    while (true) {
        ok(pl_stream_next(s, &b, &err), &err);
        if (!b) break;
        rows += b->n_rows;
        const double *d = (const double *)(const void *)b->columns[1]->values->data + b->columns[1]->offset;
        for (int64_t i = 0; i < b->n_rows; i++) sum += d[i];
        pl_batch_release(b);
        long rss = test_mapping_rss_kb(path); /* the file stays mapped until the stream ends */
        assert_true(rss >= 0);
        if (rss * 1024 > size / 4)
            fail_msg("%ld KiB of the %lld-byte file's mapping resident", rss, (long long)size);
    }
    assert_int_equal(rows, n);
    assert_true(sum == 0.5 * (double)n * (double)(n - 1) / 2);
    assert_true(pl_file_map_count() == m0 + 1);
    pl_stream_free(s);
    assert_int_equal(test_mapping_rss_kb(path), -1); /* unmapped */
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(path);
}

/* Files below the size threshold stay on pread unless the hook says ALL. */
static void test_small_files_use_pread(void **state) {
    (void)state;
    char *path = temp_path(0);
    write_file(path, PL_CODEC_SNAPPY);
    assert_true(file_size(path) < (256 << 10));
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    ok(pl_pq_file_ensure_fd(f, &err), &err);
    assert_null(f->src.map);
    pl_pq_file_close(f);
    unlink(path);
}

/* The file is truncated under a live mapping: chunks past the new end read as zeros and the
 * read fails with an I/O error naming the change; the process survives, nothing leaks. */
static void test_truncated_under_mapping(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    const int64_t cuts[] = {-1, 0, 4096}; /* half, everything, all but the first page */
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char *path = temp_path(0);
        write_file(path, PL_CODEC_UNCOMPRESSED);
        int64_t size = file_size(path);
        pl_error err;
        pl_error_init(&err);
        pl_pq_file *f = NULL;
        ok(pl_pq_file_open(path, &f, &err), &err);
        ok(pl_pq_file_ensure_fd(f, &err), &err);
        assert_non_null(f->src.map);
        pl_pq_scratch scr = {0};
        pl_array *a = NULL;
        ok(pl_pq_read_field(f, 0, 1, false, -1, NULL, &scr, &a, &err), &err); /* touched */
        pl_array_release(a);
        a = NULL;
        int64_t cut = cuts[k] < 0 ? size / 2 : cuts[k];
        assert_int_equal(truncate(path, cut), 0);
        const pl_pq_metadata *md = pl_pq_file_metadata(f);
        int32_t last = md->n_row_groups - 1;
        pl_status st = PL_OK;
        for (int32_t field = 0; field < 4 && !st; field++) {
            pl_error_init(&err);
            st = pl_pq_read_field(f, last, field, false, -1, NULL, &scr, &a, &err);
            if (!st) pl_array_release(a);
            a = NULL;
        }
        assert_int_equal(st, PL_ERR_IO);
        assert_non_null(strstr(err.msg, "changed while it was being read"));
        assert_true(pl_file_map_lost(f->src.map_slot));
        /* the whole row group through the public API: the same error */
        pl_batch *b = NULL;
        pl_error_init(&err);
        assert_int_equal(pl_pq_read_row_group(f, last, 0, NULL, NULL, &b, &err), PL_ERR_IO);
        assert_null(b);
        pl_pq_scratch_reset(&scr);
        pl_pq_file_close(f);
        unlink(path);
    }
    pl_file_map_test(PL_FMAP_TEST_NONE);
}

/* A multi-file scan whose second file shrinks after the scan opened it: refused when the file
 * is reopened (its size changed), with the same kind of error. */
static void test_scan_file_shrinks(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *a = temp_path(0), *b = temp_path(1);
    write_file(a, PL_CODEC_SNAPPY);
    write_file(b, PL_CODEC_SNAPPY);
    const char *paths[2] = {a, b};
    pl_error err;
    pl_error_init(&err);
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    pl_stream *s = NULL;
    ok(pl_scan_open(2, paths, PL_FORMAT_PARQUET, &ro, &s, &err), &err);
    assert_int_equal(truncate(b, file_size(b) / 2), 0);
    pl_table *t = NULL;
    assert_int_equal(pl_stream_collect(s, &t, &err), PL_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(err.msg, "changed"));
    pl_stream_free(s);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(a);
    unlink(b);
}

/* A SIGBUS outside the reader's mappings is not swallowed by its handler. */
static void test_foreign_sigbus_still_kills(void **state) {
    (void)state;
    pl_file_map_test(PL_FMAP_TEST_ALL);
    char *path = temp_path(0), *other = temp_path(1);
    write_file(path, PL_CODEC_UNCOMPRESSED);
    write_file(other, PL_CODEC_UNCOMPRESSED);
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    ok(pl_pq_file_ensure_fd(f, &err), &err); /* the handler is installed */
    assert_non_null(f->src.map);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* the default action underneath (not the test harness's handler), the reader's on top */
        signal(SIGBUS, SIG_DFL);
        pl_file_map_test(PL_FMAP_TEST_ALL);
        FILE *o = fopen(other, "rb");
        if (!o) _exit(3);
        volatile uint8_t *m = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fileno(o), 0);
        if (m == MAP_FAILED) _exit(4);
        if (truncate(other, 0) != 0) _exit(5);
        uint8_t v = m[8192]; /* past the end: SIGBUS */
        (void)v;
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) {
        /* ASan's own SIGBUS report exits with 1; 0 would mean the fault was swallowed */
        assert_true(WEXITSTATUS(status) != 0);
        assert_true(WEXITSTATUS(status) < 3 || WEXITSTATUS(status) > 5);
    } else {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGBUS);
    }
    pl_pq_file_close(f);
    pl_file_map_test(PL_FMAP_TEST_NONE);
    unlink(path);
    unlink(other);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mapped_equals_pread),
        cmocka_unit_test(test_scan_mapped_equals_pread),
        cmocka_unit_test(test_small_files_use_pread),
        cmocka_unit_test(test_scan_drops_mapped_pages),
        cmocka_unit_test(test_truncated_under_mapping),
        cmocka_unit_test(test_scan_file_shrinks),
        cmocka_unit_test(test_foreign_sigbus_still_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
