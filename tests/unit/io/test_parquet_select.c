/* Selective reads of Parquet columns (src/io/parquet/column.c, reader.c): decoding only the
 * selected rows of a row group (pl_pq_read_field_sel) must give exactly what decoding the whole
 * column and taking those rows gives (an independent path), for many small pages, nulls,
 * dictionary pages falling back to PLAIN, with and without compression; match mode
 * (pl_pq_match_field) must give the rows a row-by-row evaluation gives; cached dictionaries
 * must not survive a rewrite of the file; bad selections are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compute/compute.h"
#include "io/parquet/pq_int.h"
#include "polaroid/polaroid.h"
#include "pq_test_file.h"

#define N_ROWS 9000

/* the mixed-type file (pq_test_file.h) with pages of 700 bytes, values shifted by salt */
static void write_file(const char *path, int64_t salt, pl_codec codec) {
    pq_test_write_mixed(path, N_ROWS, 0, salt, 700, codec);
}

static char *temp_path(void) {
    static char path[64];
    strcpy(path, "/tmp/pl_test_pqsel_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    return path;
}

/* Selected rows of field `field` of row group rg two ways; they must be equal. */
static void check_sel(pl_pq_file *f, int32_t rg, int32_t field, bool keep, const int32_t *sel,
                      int64_t n) {
    pl_error err;
    pl_error_init(&err);
    pl_pq_scratch scr = {0};
    pl_array *whole = NULL, *ref = NULL, *got = NULL;
    ok(pl_pq_read_field(f, rg, field, keep, -1, NULL, &scr, &whole, &err), &err);
    ok(pl_array_take_i32(whole, sel, n, &ref, &err), &err);
    ok(pl_pq_read_field_sel(f, rg, field, keep, sel, n, &scr, &got, &err), &err);
    assert_int_equal(got->length, n);
    if (!pl_array_equals(ref, got))
        fail_msg("field %d of row group %d: %lld selected rows differ", field, rg, (long long)n);
    pl_array_release(whole);
    pl_array_release(ref);
    pl_array_release(got);
    pl_pq_scratch_reset(&scr);
}

static void check_file(const char *path) {
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    int32_t *sel = malloc(sizeof *sel * N_ROWS);
    unsigned seed = 12345;
    for (int32_t rg = 0; rg < md->n_row_groups; rg++) {
        int32_t rows = (int32_t)md->row_groups[rg].num_rows;
        for (int32_t field = 0; field < 4; field++) {
            for (int keep = 0; keep < 2; keep++) {
                bool kd = keep && pl_pq_field_all_dict(f, field);
                if (keep && !kd) continue;
                int64_t n = 0;
                check_sel(f, rg, field, kd, sel, 0); /* nothing */
                sel[0] = 0;
                check_sel(f, rg, field, kd, sel, 1); /* the first row */
                sel[0] = rows - 1;
                check_sel(f, rg, field, kd, sel, 1); /* the last row */
                for (int32_t i = 0; i < rows; i++) sel[i] = i;
                check_sel(f, rg, field, kd, sel, rows); /* every row */
                n = 0;
                for (int32_t i = 0; i < rows; i += 3) sel[n++] = i;
                check_sel(f, rg, field, kd, sel, n); /* every third */
                n = 0;
                for (int32_t i = 0; i < rows; i++) {
                    seed = seed * 1103515245u + 12345u;
                    if ((seed >> 16) % 97 == 0) sel[n++] = i;
                }
                check_sel(f, rg, field, kd, sel, n); /* sparse */
                n = 0;
                for (int32_t i = rows / 3; i < rows / 3 + 300 && i < rows; i++) sel[n++] = i;
                check_sel(f, rg, field, kd, sel, n); /* a block across pages */
            }
        }
    }
    free(sel);
    pl_pq_file_close(f);
}

static void test_select_equals_take(void **state) {
    (void)state;
    const pl_codec codecs[] = {PL_CODEC_UNCOMPRESSED, PL_CODEC_SNAPPY, PL_CODEC_ZSTD};
    for (size_t c = 0; c < sizeof codecs / sizeof *codecs; c++) {
        char *path = temp_path();
        write_file(path, 0, codecs[c]);
        check_file(path);
        unlink(path);
    }
}

static void test_select_refuses_bad_rows(void **state) {
    (void)state;
    char *path = temp_path();
    write_file(path, 0, PL_CODEC_SNAPPY);
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    pl_pq_scratch scr = {0};
    pl_array *got = NULL;
    int32_t sel[2] = {5, 4000}; /* row group 0 has 4000 rows */
    assert_int_equal(pl_pq_read_field_sel(f, 0, 0, false, sel, 2, &scr, &got, &err),
                     PL_ERR_INTERNAL);
    assert_null(got);
    sel[0] = -1;
    pl_error_init(&err);
    assert_int_equal(pl_pq_read_field_sel(f, 0, 1, false, sel, 1, &scr, &got, &err),
                     PL_ERR_INTERNAL);
    pl_pq_scratch_reset(&scr);
    pl_pq_file_close(f);
    unlink(path);
}

/* A file rewritten in place: the next open decodes the new footer, and selective reads must
 * not use the dictionaries cached for the old content. */
static void test_cached_dictionaries_follow_rewrites(void **state) {
    (void)state;
    char *path = temp_path();
    pl_pq_meta_cache_clear();
    for (int64_t salt = 0; salt < 3; salt++) {
        write_file(path, salt, PL_CODEC_SNAPPY);
        for (int rep = 0; rep < 2; rep++) { /* the second read takes cached dictionaries */
            pl_error err;
            pl_error_init(&err);
            pl_pq_file *f = NULL;
            ok(pl_pq_file_open(path, &f, &err), &err);
            int32_t sel[3] = {2, 1000, 3999};
            for (int32_t field = 0; field < 4; field++) check_sel(f, 0, field, false, sel, 3);
            pl_pq_file_close(f);
        }
    }
    pl_pq_meta_cache_clear();
    unlink(path);
}

/* match mode: s = "beta" or s IS NULL, evaluated on the dictionary */
static pl_status match_beta_or_null(void *arg, pl_array *values, uint8_t *pass, pl_error *err) {
    (void)err;
    int *calls = arg;
    (*calls)++;
    for (int64_t i = 0; i < values->length; i++) {
        int32_t len = 0;
        const uint8_t *b = pl_array_bytes(values, i, &len);
        pass[i] = !pl_array_is_valid(values, i) || (len == 4 && memcmp(b, "beta", 4) == 0);
    }
    return PL_OK;
}

static void test_match_mode(void **state) {
    (void)state;
    char *path = temp_path();
    write_file(path, 0, PL_CODEC_ZSTD);
    pl_error err;
    pl_error_init(&err);
    pl_pq_file *f = NULL;
    ok(pl_pq_file_open(path, &f, &err), &err);
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    int n_ok = 0;
    for (int32_t rg = 0; rg < md->n_row_groups; rg++) {
        pl_pq_scratch scr = {0};
        int calls = 0;
        int32_t *sel = NULL;
        int64_t n = -1;
        bool matched = false;
        ok(pl_pq_match_field(f, rg, 1, match_beta_or_null, &calls, &scr, &sel, &n, &matched, &err),
           &err);
        pl_array *whole = NULL;
        ok(pl_pq_read_field(f, rg, 1, false, -1, NULL, &scr, &whole, &err), &err);
        if (matched) {
            n_ok++;
            assert_true(calls >= 1);
            int64_t k = 0;
            for (int64_t i = 0; i < whole->length; i++) {
                int32_t len = 0;
                const uint8_t *b = pl_array_bytes(whole, i, &len);
                bool pass = !pl_array_is_valid(whole, i) || (len == 4 && memcmp(b, "beta", 4) == 0);
                if (!pass) continue;
                assert_true(k < n);
                assert_int_equal(sel[k], i);
                k++;
            }
            assert_int_equal(k, n);
        } else {
            assert_null(sel); /* a PLAIN fallback page: not applicable */
        }
        pl_free(sel);
        pl_array_release(whole);
        pl_pq_scratch_reset(&scr);
    }
    assert_true(n_ok >= 1);
    pl_pq_file_close(f);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_equals_take),
        cmocka_unit_test(test_select_refuses_bad_rows),
        cmocka_unit_test(test_cached_dictionaries_follow_rewrites),
        cmocka_unit_test(test_match_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
