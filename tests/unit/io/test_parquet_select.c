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

static const char *const WORDS[] = {"alpha", "beta", "", "gamma delta", "e"};

/* x int64 (NULL every 7th row), s utf8 (few values, NULL every 5th, then many distinct values
 * so the dictionary overflows), d float64 (no NULLs), b bool (NULL every 3rd); values shifted
 * by `salt`. Rewrites path in place (the inode stays). */
static void write_file(const char *path, int64_t salt, pl_codec codec) {
    pl_error err;
    pl_error_init(&err);
    pl_builder *bx = NULL, *bs = NULL, *bd = NULL, *bb = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), N_ROWS, &bx, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), N_ROWS, &bs, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_FLOAT64), N_ROWS, &bd, &err), &err);
    ok(pl_builder_new(pl_type_simple(PL_TYPE_BOOL), N_ROWS, &bb, &err), &err);
    for (int64_t i = 0; i < N_ROWS; i++) {
        if (i % 7 == 3) ok(pl_builder_append_null(bx, &err), &err);
        else ok(pl_builder_append_i64(bx, i * 3 + salt, &err), &err);
        if (i % 5 == 1) {
            ok(pl_builder_append_null(bs, &err), &err);
        } else {
            char buf[32];
            const char *w = buf;
            if (i < N_ROWS / 2) w = WORDS[(i + salt) % 5];
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
    ok(pl_batch_new(s, N_ROWS, cols, &batch, &err), &err);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.codec = codec;
    wo.row_group_rows = 4000;
    wo.page_bytes = 700;
    wo.dict_max_bytes = 2000;
    rewrite_parquet(path, batch, &wo);
    pl_batch_release(batch);
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
