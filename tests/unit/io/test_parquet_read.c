/* test_parquet_read.c - the Parquet reader on real files from parquet-testing
 * (../shared/parquet-testing relative to the repository; skipped when missing): values are
 * compared with the expected/ CSVs (written by DuckDB) for every integer, boolean and string
 * column of several flat files covering PLAIN, dictionary, RLE, delta, byte-stream-split,
 * data page v1/v2 and codecs; nested files against their .jsonl rows; plus projection, row
 * limits, multi-file streams, statistics, and errors (encrypted, corrupt, missing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/parquet/pq_int.h"
#include "polaroid/parquet.h"

#define PT PL_SOURCE_DIR "/../shared/parquet-testing/"

static bool have_files(void) { return access(PT "data/alltypes_plain.parquet", R_OK) == 0; }

#define SKIP_IF_MISSING()                                                                          \
    do {                                                                                           \
        if (!have_files()) skip();                                                                 \
    } while (0)

/* ---------------------------------------------------------------- helpers */

/* Reads with dictionaries decoded, so that columns have the file's logical types (the
 * keep-dictionary default is tested on its own below). */
static pl_table *read_file(const char *path, const pl_read_opts *o) {
    pl_stream *s = NULL;
    pl_error err;
    pl_error_init(&err);
    pl_read_opts plain;
    if (o) plain = *o;
    else pl_read_opts_init(&plain);
    plain.decode_dictionary = true;
    pl_status st = pl_pq_scan_open(1, &path, &plain, &s, &err);
    if (st) fail_msg("open %s: %s", path, err.msg);
    pl_table *t = NULL;
    st = pl_table_new(s->schema, &t, &err);
    assert_int_equal(st, PL_OK);
    for (;;) {
        pl_batch *b;
        st = s->next(s, &b, &err);
        if (st) fail_msg("read %s: %s (column %s, row group %d)", path, err.msg, err.column_name,
                         err.row_group);
        if (!b) break;
        assert_int_equal(pl_table_append(t, b, &err), PL_OK);
        pl_batch_release(b);
    }
    s->free(s);
    return t;
}

static pl_batch *read_combined(const char *path, const pl_read_opts *o) {
    pl_table *t = read_file(path, o);
    pl_batch *b;
    pl_error err;
    assert_int_equal(pl_table_combine(t, &b, &err), PL_OK);
    pl_table_release(t);
    return b;
}

/* a minimal CSV reader for the expected files: returns rows of fields; quoted fields
 * ("" = empty string) are unquoted, an empty unquoted field is NULL (returned as NULL) */
typedef struct csv {
    int n_rows, n_cols;
    char ***cells;
} csv;

static char *read_all_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    s[n] = 0;
    fclose(f);
    return s;
}

static csv csv_load(const char *path) {
    csv c = {0};
    char *text = read_all_text(path);
    assert_non_null(text);
    char *p = text;
    int cap = 0;
    while (*p) {
        int cap_cols = c.n_rows ? c.n_cols : 512;
        char **row = calloc((size_t)cap_cols, sizeof *row);
        int nc = 0;
        for (;;) {
            assert_true(nc < cap_cols);
            /* a cell is at most as long as the rest of its line, or of the text when quoted */
            const char *q = p + (*p == '"');
            if (*p == '"')
                while (*q && !(*q == '"' && q[1] != '"')) q += (*q == '"') ? 2 : 1;
            else
                while (*q && *q != '\n') q++;
            char *cell = malloc((size_t)(q - p) + 1);
            int len = 0;
            bool quoted = false;
            if (*p == '"') {
                quoted = true;
                p++;
                for (;;) {
                    if (*p == '"' && p[1] == '"') {
                        cell[len++] = '"';
                        p += 2;
                    } else if (*p == '"') {
                        p++;
                        break;
                    } else {
                        cell[len++] = *p++;
                    }
                }
            } else {
                while (*p && *p != ',' && *p != '\n') cell[len++] = *p++;
            }
            cell[len] = 0;
            if (!quoted && len == 0) {
                free(cell);
                cell = NULL;
            }
            row[nc++] = cell;
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == '\n') p++;
            break;
        }
        if (c.n_rows == cap) {
            cap = cap ? cap * 2 : 64;
            c.cells = realloc(c.cells, (size_t)cap * sizeof *c.cells);
        }
        c.cells[c.n_rows++] = row;
        if (c.n_cols < nc) c.n_cols = nc;
    }
    free(text);
    return c;
}

static void csv_free(csv *c) {
    for (int r = 0; r < c->n_rows; r++) {
        for (int k = 0; k < (r ? c->n_cols : 512); k++) free(c->cells[r][k]);
        free(c->cells[r]);
    }
    free(c->cells);
}

/* renders value i of a flat array like the expected CSVs for ints, bools and strings; returns
 * false for types it does not render */
static bool render(pl_array *a, int64_t i, char *buf, size_t n, bool *is_null) {
    *is_null = !pl_array_is_valid(a, i);
    if (*is_null) return true;
    const void *v = pl_array_values_ptr(a);
    switch (a->type->id) {
    case PL_TYPE_BOOL:
        snprintf(buf, n, "%s", pl_bit_get(a->values->data, a->offset + i) ? "true" : "false");
        return true;
    case PL_TYPE_INT8: snprintf(buf, n, "%d", ((const int8_t *)v)[i]); return true;
    case PL_TYPE_INT16: snprintf(buf, n, "%d", ((const int16_t *)v)[i]); return true;
    case PL_TYPE_INT32: snprintf(buf, n, "%d", ((const int32_t *)v)[i]); return true;
    case PL_TYPE_INT64: snprintf(buf, n, "%lld", (long long)((const int64_t *)v)[i]); return true;
    case PL_TYPE_UINT8: snprintf(buf, n, "%u", ((const uint8_t *)v)[i]); return true;
    case PL_TYPE_UINT16: snprintf(buf, n, "%u", ((const uint16_t *)v)[i]); return true;
    case PL_TYPE_UINT32: snprintf(buf, n, "%u", ((const uint32_t *)v)[i]); return true;
    case PL_TYPE_UINT64:
        snprintf(buf, n, "%llu", (unsigned long long)((const uint64_t *)v)[i]);
        return true;
    case PL_TYPE_UTF8: {
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        snprintf(buf, n, "%.*s", (int)len, (const char *)s);
        return true;
    }
    default:
        return false;
    }
}

/* Compares every renderable column of a flat file with its expected CSV. Returns the number
 * of columns compared. */
static int compare_with_csv(const char *file, const char *expected) {
    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_batch *b = read_combined(file, &o);
    csv c = csv_load(expected);
    assert_int_equal(c.n_rows - 1, b->n_rows);
    int compared = 0;
    char buf[4096];
    for (int32_t col = 0; col < b->n_cols; col++) {
        assert_string_equal(c.cells[0][col], b->schema->fields[col].name);
        pl_array *a = b->columns[col];
        bool rendered = true;
        for (int64_t r = 0; r < b->n_rows && rendered; r++) {
            bool is_null;
            rendered = render(a, r, buf, sizeof buf, &is_null);
            if (!rendered) break;
            const char *want = c.cells[r + 1][col];
            if (is_null) {
                if (want) fail_msg("%s col %s row %lld: got NULL, want %s", file,
                                   b->schema->fields[col].name, (long long)r, want);
            } else {
                if (!want) fail_msg("%s col %s row %lld: got %s, want NULL", file,
                                    b->schema->fields[col].name, (long long)r, buf);
                if (strcmp(want, buf) != 0)
                    fail_msg("%s col %s row %lld: got %s, want %s", file,
                             b->schema->fields[col].name, (long long)r, buf, want);
            }
        }
        compared += rendered;
    }
    csv_free(&c);
    pl_batch_release(b);
    return compared;
}

/* ---------------------------------------------------------------- tests */

static void test_flat_files_vs_expected(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    static const struct {
        const char *name;
        int min_cols;
    } files[] = {
        {"alltypes_plain", 6},
        {"alltypes_plain.snappy", 6},
        {"alltypes_dictionary", 6},
        {"alltypes_tiny_pages", 7},
        {"alltypes_tiny_pages_plain", 7},
        {"delta_binary_packed", 66},
        {"delta_byte_array", 9},
        {"delta_encoding_optional_column", 17},
        {"delta_encoding_required_column", 17},
        {"delta_length_byte_array", 1},
        {"int32_with_null_pages", 1},
        {"rle_boolean_encoding", 1},
        {"datapage_v1-snappy-compressed-checksum", 2},
        {"datapage_v1-uncompressed-checksum", 2},
        {"plain-dict-uncompressed-checksum", 1},
        {"rle-dict-snappy-checksum", 1},
        {"dict-page-offset-zero", 1},
        {"concatenated_gzip_members", 1},
        {"lz4_raw_compressed_larger", 1},
        {"overflow_i16_page_cnt", 1},
        {"page_v2_empty_compressed", 1},
        {"nation.dict-malformed", 2},
        {"sort_columns", 2},
        {"data_index_bloom_encoding_stats", 1},
        {"unknown-logical-type", 1},
    };
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char file[512], expected[512];
        snprintf(file, sizeof file, PT "data/%s.parquet", files[k].name);
        snprintf(expected, sizeof expected, PT "expected/data/%s.csv", files[k].name);
        int n = compare_with_csv(file, expected);
        if (n < files[k].min_cols)
            fail_msg("%s: compared %d columns, expected at least %d", files[k].name, n,
                     files[k].min_cols);
    }
}

static void test_alltypes_types(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_batch *b = read_combined(PT "data/alltypes_plain.parquet", &o);
    assert_int_equal(b->n_rows, 8);
    assert_int_equal(b->n_cols, 11);
    /* float_col row 1 = 1.1, double_col = 10.1 */
    pl_array *f = b->columns[pl_schema_find(b->schema, "float_col")];
    assert_int_equal(f->type->id, PL_TYPE_FLOAT32);
    assert_true(((const float *)pl_array_values_ptr(f))[1] == 1.1f);
    pl_array *d = b->columns[pl_schema_find(b->schema, "double_col")];
    assert_true(((const double *)pl_array_values_ptr(d))[1] == 10.1);
    /* INT96 timestamp_col row 1 = 2009-03-01 00:01:00 */
    pl_array *ts = b->columns[pl_schema_find(b->schema, "timestamp_col")];
    assert_int_equal(ts->type->id, PL_TYPE_TIMESTAMP);
    assert_int_equal(((const int64_t *)pl_array_values_ptr(ts))[1], 1235865660000000LL);
    /* unannotated BYTE_ARRAY is binary: "03/01/09" */
    pl_array *ds = b->columns[pl_schema_find(b->schema, "date_string_col")];
    assert_int_equal(ds->type->id, PL_TYPE_BINARY);
    int32_t len;
    const uint8_t *s = pl_array_bytes(ds, 0, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(s, "03/01/09", 8);
    pl_batch_release(b);

    /* INT96 beyond the nanosecond range (DuckDB shows 9999-12-31 03:00:00) */
    b = read_combined(PT "data/int96_from_spark.parquet", &o);
    const int64_t *v = pl_array_values_ptr(b->columns[0]);
    assert_int_equal(v[2], 253402225200000000LL);
    assert_false(pl_array_is_valid(b->columns[0], 4));
    pl_batch_release(b);
}

static void test_decimals_and_floats(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_read_opts o;
    pl_read_opts_init(&o);
    /* every decimal file holds 1.00, 2.00, ... 24.00 with scale 2 */
    const char *names[] = {"int32_decimal", "int64_decimal", "fixed_length_decimal",
                           "fixed_length_decimal_legacy", "byte_array_decimal"};
    for (size_t k = 0; k < 5; k++) {
        char path[512];
        snprintf(path, sizeof path, PT "data/%s.parquet", names[k]);
        pl_batch *b = read_combined(path, &o);
        pl_array *a = b->columns[0];
        assert_int_equal(a->type->id, PL_TYPE_DECIMAL128);
        assert_int_equal(a->type->scale, 2);
        assert_int_equal(b->n_rows, 24);
        const uint8_t *vals = pl_array_values_ptr(a);
        for (int64_t r = 0; r < 24; r++) {
            int64_t lo, hi;
            memcpy(&lo, vals + 16 * r, 8);
            memcpy(&hi, vals + 16 * r + 8, 8);
            assert_int_equal(lo, (r + 1) * 100);
            assert_int_equal(hi, 0);
        }
        pl_batch_release(b);
    }
    /* byte stream split floats vs the expected CSV (parsed as float/double) */
    pl_batch *b = read_combined(PT "data/byte_stream_split.zstd.parquet", &o);
    csv c = csv_load(PT "expected/data/byte_stream_split.zstd.csv");
    assert_int_equal(b->n_rows, c.n_rows - 1);
    const float *f32 = pl_array_values_ptr(b->columns[0]);
    const double *f64 = pl_array_values_ptr(b->columns[1]);
    for (int64_t r = 0; r < b->n_rows; r++) {
        assert_true(f32[r] == strtof(c.cells[r + 1][0], NULL));
        assert_true(f64[r] == strtod(c.cells[r + 1][1], NULL));
    }
    csv_free(&c);
    pl_batch_release(b);
    /* float16 -> float32: 1.0, -2.0, nan, 0.0, -1.0, -0.0, 2.0 after a NULL */
    b = read_combined(PT "data/float16_nonzeros_and_nans.parquet", &o);
    pl_array *h = b->columns[0];
    assert_int_equal(h->type->id, PL_TYPE_FLOAT32);
    assert_false(pl_array_is_valid(h, 0));
    const float *hv = pl_array_values_ptr(h);
    assert_true(hv[1] == 1.0f && hv[2] == -2.0f && hv[3] != hv[3] && hv[7] == 2.0f);
    pl_batch_release(b);
}

static void test_nested(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_read_opts o;
    pl_read_opts_init(&o);
    /* {"int64_list":[1,2,3],"utf8_list":["abc","efg","hij"]}
     * {"int64_list":[null,1],"utf8_list":null}
     * {"int64_list":[4],"utf8_list":["efg",null,"hij","xyz"]} */
    pl_batch *b = read_combined(PT "data/list_columns.parquet", &o);
    assert_int_equal(b->n_rows, 3);
    pl_array *l = b->columns[0];
    assert_int_equal(l->type->id, PL_TYPE_LIST);
    const int32_t *off = pl_array_offsets(l);
    assert_int_equal(off[0], 0);
    assert_int_equal(off[1], 3);
    assert_int_equal(off[2], 5);
    assert_int_equal(off[3], 6);
    pl_array *items = l->children[0];
    const int64_t *iv = pl_array_values_ptr(items);
    assert_int_equal(iv[0], 1);
    assert_int_equal(iv[2], 3);
    assert_false(pl_array_is_valid(items, 3));
    assert_int_equal(iv[4], 1);
    assert_int_equal(iv[5], 4);
    pl_array *u = b->columns[1];
    assert_false(pl_array_is_valid(u, 1));
    const int32_t *uo = pl_array_offsets(u);
    assert_int_equal(uo[3] - uo[2], 4);
    assert_false(pl_array_is_valid(u->children[0], uo[2] + 1));
    int32_t len;
    const uint8_t *s = pl_array_bytes(u->children[0], uo[2] + 3, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(s, "xyz", 3);
    pl_batch_release(b);

    /* {"a":[[1,2],[3,4]]} (old 2-level list of lists) */
    b = read_combined(PT "data/old_list_structure.parquet", &o);
    assert_int_equal(b->n_rows, 1);
    l = b->columns[0];
    assert_int_equal(l->type->id, PL_TYPE_LIST);
    assert_int_equal(l->children[0]->type->id, PL_TYPE_LIST);
    assert_int_equal(pl_array_offsets(l)[1], 2);
    assert_int_equal(pl_array_offsets(l->children[0])[2], 4);
    pl_batch_release(b);

    /* maps: {"a":{"a":{"1":true,"2":false}},"b":1,"c":1.0} */
    b = read_combined(PT "data/nested_maps.snappy.parquet", &o);
    assert_int_equal(b->n_rows, 6);
    pl_array *m = b->columns[0];
    assert_int_equal(m->type->id, PL_TYPE_MAP);
    assert_int_equal(pl_array_offsets(m)[1], 1);
    pl_array *inner = m->children[0]->children[1];
    assert_int_equal(inner->type->id, PL_TYPE_MAP);
    assert_int_equal(pl_array_offsets(inner)[1], 2);
    pl_batch_release(b);

    /* a chunk starting with a stray continuation entry (rep 1): dropped as DuckDB does,
     * giving [1,2],[3,4],[5,6],[7,8],[9] */
    b = read_combined(PT "bad_data/ARROW-GH-45185.parquet", &o);
    assert_int_equal(b->n_rows, 5);
    l = b->columns[0];
    assert_int_equal(pl_array_offsets(l)[5], 9);
    assert_int_equal(((const int32_t *)pl_array_values_ptr(l->children[0]))[0], 1);
    assert_int_equal(((const int32_t *)pl_array_values_ptr(l->children[0]))[8], 9);
    pl_batch_release(b);

    /* repeated groups without LIST annotation: id 3 has phone [] and id 1 phoneNumbers null */
    b = read_combined(PT "data/repeated_no_annotation.parquet", &o);
    assert_int_equal(b->n_rows, 6);
    pl_array *pn = b->columns[1];
    assert_int_equal(pn->type->id, PL_TYPE_STRUCT);
    assert_false(pl_array_is_valid(pn, 0));
    pl_array *phone = pn->children[0];
    assert_int_equal(phone->type->id, PL_TYPE_LIST);
    assert_int_equal(pl_array_offsets(phone)[3] - pl_array_offsets(phone)[2], 0);
    assert_int_equal(pl_array_offsets(phone)[6] - pl_array_offsets(phone)[5], 3);
    pl_batch_release(b);
}

static void test_projection_limit_and_streams(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_read_opts o;
    pl_read_opts_init(&o);
    const char *cols[] = {"string_col", "id"};
    o.columns = cols;
    o.n_columns = 2;
    o.limit = 5;
    pl_batch *b = read_combined(PT "data/alltypes_tiny_pages.parquet", &o);
    assert_int_equal(b->n_rows, 5);
    assert_int_equal(b->n_cols, 2);
    assert_string_equal(b->schema->fields[0].name, "string_col");
    assert_int_equal(b->columns[1]->type->id, PL_TYPE_INT32);
    pl_batch_release(b);

    /* two files: rows add up; small batch_rows splits row groups */
    const char *paths[] = {PT "data/alltypes_plain.parquet", PT "data/alltypes_plain.parquet"};
    pl_read_opts_init(&o);
    o.batch_rows = 3;
    pl_stream *s;
    pl_error err;
    assert_int_equal(pl_pq_scan_open(2, paths, &o, &s, &err), PL_OK);
    int64_t rows = 0, batches = 0;
    for (;;) {
        pl_batch *nb;
        assert_int_equal(s->next(s, &nb, &err), PL_OK);
        if (!nb) break;
        assert_true(nb->n_rows <= 3);
        rows += nb->n_rows;
        batches++;
        pl_batch_release(nb);
    }
    s->free(s);
    assert_int_equal(rows, 16);
    assert_int_equal(batches, 6);

    /* schemas that differ: the error names both files */
    const char *mixed[] = {PT "data/alltypes_plain.parquet", PT "data/binary.parquet"};
    pl_error_init(&err);
    assert_int_equal(pl_pq_scan_open(2, mixed, NULL, &s, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "alltypes_plain.parquet"));
    assert_non_null(strstr(err.msg, "binary.parquet"));

    /* an unknown column */
    const char *bad[] = {"nope"};
    pl_read_opts_init(&o);
    o.columns = bad;
    o.n_columns = 1;
    pl_error_init(&err);
    assert_int_equal(pl_pq_scan_open(1, paths, &o, &s, &err), PL_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "nope"));
}

static void test_metadata_api(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_pq_file *f;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(PT "data/alltypes_tiny_pages.parquet", &f, &err), PL_OK);
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    assert_int_equal(md->num_rows, 7300);
    assert_int_equal(md->n_leaves, 13);
    assert_true(md->n_row_groups >= 1);
    const pl_pq_column_chunk *cc = &md->row_groups[0].columns[0];
    assert_string_equal(cc->path, "id");
    assert_true(cc->has_stats);
    pl_pq_value lo, hi;
    assert_true(pl_pq_stats_value(md, 0, &cc->stats, false, &lo));
    assert_true(pl_pq_stats_value(md, 0, &cc->stats, true, &hi));
    assert_int_equal(lo.kind, PL_PQ_VALUE_INT);
    assert_int_equal(lo.i, 0);
    assert_int_equal(hi.i, 7299);
    char buf[64];
    assert_string_equal(pl_pq_value_format(md, 0, &hi, buf, sizeof buf), "7299");
    assert_string_equal(pl_pq_physical_name(cc->physical), "INT32");
    /* read one row group with a projection */
    int32_t col = 0;
    pl_batch *b;
    assert_int_equal(pl_pq_read_row_group(f, 0, 1, &col, NULL, &b, &err), PL_OK);
    assert_int_equal(b->n_cols, 1);
    assert_int_equal(b->n_rows, md->row_groups[0].num_rows);
    pl_batch_release(b);
    assert_int_equal(pl_pq_read_row_group(f, 99, 1, &col, NULL, &b, &err), PL_ERR_INVALID_ARG);
    pl_pq_file_close(f);
}

static void test_keep_dictionary(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    /* every string column of these files: read with keep_dictionary, decoded, equals the
     * plain read; dictionary pages (with and without encoding stats) stay dictionaries */
    static const char *const files[] = {"data_index_bloom_encoding_with_length", "alltypes_plain",
                                        "alltypes_tiny_pages", "sort_columns",
                                        "delta_byte_array", "nation.dict-malformed"};
    int n_dict = 0;
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char path[512];
        snprintf(path, sizeof path, PT "data/%s.parquet", files[k]);
        pl_pq_file *f;
        pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_pq_file_open(path, &f, &err), PL_OK);
        pl_pq_read_opts o;
        pl_pq_read_opts_init(&o);
        o.keep_dictionary = true;
        for (int32_t r = 0; r < pl_pq_file_metadata(f)->n_row_groups; r++) {
            pl_batch *kb, *pb;
            assert_int_equal(pl_pq_read_row_group(f, r, 0, NULL, &o, &kb, &err), PL_OK);
            assert_int_equal(pl_pq_read_row_group(f, r, 0, NULL, NULL, &pb, &err), PL_OK);
            for (int32_t c = 0; c < kb->n_cols; c++) {
                pl_array *a = kb->columns[c];
                if (a->type->id != PL_TYPE_DICTIONARY) {
                    assert_true(pl_array_equals(a, pb->columns[c]));
                    continue;
                }
                assert_true(pl_pq_field_all_dict(f, c));
                n_dict++;
                assert_int_equal(pl_array_validate(a, false, &err), PL_OK);
                pl_array *plain;
                assert_int_equal(pl_array_decode_dictionary(a, &plain, &err), PL_OK);
                assert_true(pl_array_equals(plain, pb->columns[c]));
                pl_array_release(plain);
            }
            pl_batch_release(kb);
            pl_batch_release(pb);
        }
        pl_pq_file_close(f);
    }
    assert_true(n_dict >= 4);

    /* a chunk whose dictionary overflowed (pyarrow: dictionary page, RLE_DICTIONARY page, then
     * PLAIN pages): in keep-dictionary mode the fallback values join the dictionary */
    const char *fb = PL_SOURCE_DIR "/tests/fuzz/corpus/parquet/dict_fallback.parquet";
    pl_pq_file *f;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(fb, &f, &err), PL_OK);
    assert_false(pl_pq_field_all_dict(f, 0)); /* its encoding stats show PLAIN data pages */
    pl_pq_scratch scr;
    memset(&scr, 0, sizeof scr);
    pl_array *kept, *plain, *decoded;
    assert_int_equal(pl_pq_read_field(f, 0, 0, true, -1, NULL, &scr, &kept, &err), PL_OK);
    assert_int_equal(pl_pq_read_field(f, 0, 0, false, -1, NULL, &scr, &plain, &err), PL_OK);
    assert_int_equal(kept->type->id, PL_TYPE_DICTIONARY);
    assert_int_equal(pl_array_validate(kept, true, &err), PL_OK);
    assert_true(kept->dictionary->length > 10);
    assert_int_equal(pl_array_decode_dictionary(kept, &decoded, &err), PL_OK);
    assert_true(pl_array_equals(decoded, plain));
    /* values from the generator: NULL every 13th row, v(i%10) then v(i) from row 2500 */
    assert_false(pl_array_is_valid(plain, 0));
    int32_t len;
    const uint8_t *sv = pl_array_bytes(plain, 4999, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(sv, "v4999", 5);
    pl_array_release(decoded);
    pl_array_release(kept);
    pl_array_release(plain);
    pl_pq_scratch_reset(&scr);
    pl_pq_file_close(f);
}

static void test_errors(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_pq_file *f;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(PT "data/uniform_encryption.parquet.encrypted", &f, &err),
                     PL_ERR_UNSUPPORTED);
    assert_string_equal(err.msg, "encrypted parquet files are not supported");
    assert_non_null(strstr(err.path, "uniform_encryption"));
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(PT "bad_data/PARQUET-1481.parquet", &f, &err), PL_ERR_CORRUPT);
    assert_true(err.byte_offset >= 0);
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(PT "data/does-not-exist.parquet", &f, &err), PL_ERR_NOT_FOUND);
    pl_error_init(&err);
    assert_int_equal(pl_pq_file_open(PT "INDEX.md", &f, &err), PL_ERR_CORRUPT);
    /* a column chunk past the end of the file: the error names column and row group */
    const char *p = PT "bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet";
    pl_stream *s;
    pl_error_init(&err);
    pl_status st = pl_pq_scan_open(1, &p, NULL, &s, &err);
    if (st == PL_OK) {
        pl_batch *b = NULL;
        st = s->next(s, &b, &err);
        pl_batch_release(b);
        s->free(s);
    }
    assert_int_not_equal(st, PL_OK);
    assert_true(err.msg[0] != 0);
    /* truncated copies of a good file never crash */
    FILE *fp = fopen(PT "data/nested_maps.snappy.parquet", "rb");
    assert_non_null(fp);
    uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    for (size_t cut = 0; cut < n; cut += 7) {
        uint8_t *copy = pl_malloc(n);
        memcpy(copy, buf, n);
        /* corrupt the middle, keep the footer */
        if (cut + 8 < n) memset(copy + cut, 0xff, 8 < n - cut - 8 ? 8 : n - cut - 8);
        pl_error_init(&err);
        if (pl_pq_file_open_memory(copy, (int64_t)n, "mutated", &f, &err) == PL_OK) {
            for (int32_t r = 0; r < pl_pq_file_metadata(f)->n_row_groups; r++) {
                pl_batch *b;
                if (pl_pq_read_row_group(f, r, 0, NULL, NULL, &b, &err) == PL_OK) pl_batch_release(b);
            }
            pl_pq_file_close(f);
        }
        pl_free(copy);
    }
}


/* A file large enough that the scan decodes flat columns into slab views (written with the
 * Parquet writer): the stream's values equal the generated ones and pl_pq_read_row_group's
 * (which allocates per column). */
static void test_large_file_slab_path(void **state) {
    (void)state;
    enum { N = 400000 };
    pl_error err;
    pl_error_init(&err);
    pl_buf *v64, *f64, *valid, *off, *data;
    assert_int_equal(pl_buf_new(N * 8, &v64, &err), PL_OK);
    assert_int_equal(pl_buf_new(N * 8, &f64, &err), PL_OK);
    assert_int_equal(pl_buf_new_zeroed((N + 7) / 8, &valid, &err), PL_OK);
    assert_int_equal(pl_buf_new((N + 1) * 4, &off, &err), PL_OK);
    assert_int_equal(pl_buf_new(N * 4, &data, &err), PL_OK);
    int64_t *iv = (int64_t *)(void *)v64->data;
    double *dv = (double *)(void *)f64->data;
    int32_t *ov = (int32_t *)(void *)off->data;
    int64_t nulls = 0, pos = 0;
    static const char *const syms[] = {"AAPL", "MSFT", "X", "GOOG", "BRK.B"};
    ov[0] = 0;
    for (int64_t i = 0; i < N; i++) {
        iv[i] = i * 3 - 7;
        dv[i] = (double)i / 8.0;
        if (i % 97 != 5) pl_bit_set(valid->data, i);
        else nulls++;
        const char *sym = syms[(i * 7) % 5];
        memcpy(data->data + pos, sym, strlen(sym));
        pos += (int64_t)strlen(sym);
        ov[i + 1] = (int32_t)pos;
    }
    v64->size = f64->size = N * 8;
    valid->size = (N + 7) / 8;
    off->size = (N + 1) * 4;
    data->size = pos;
    pl_array *cols[3];
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_INT64), N, nulls, valid, v64, NULL, 0,
                                  NULL, NULL, &cols[0], &err), PL_OK);
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_FLOAT64), N, 0, NULL, f64, NULL, 0, NULL,
                                  NULL, &cols[1], &err), PL_OK);
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_UTF8), N, 0, NULL, off, data, 0, NULL,
                                  NULL, &cols[2], &err), PL_OK);
    pl_field fields[3] = {{"i", pl_type_simple(PL_TYPE_INT64), true},
                          {"f", pl_type_simple(PL_TYPE_FLOAT64), true},
                          {"s", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_schema *schema;
    assert_int_equal(pl_schema_new(3, fields, &schema, &err), PL_OK);
    pl_batch *b;
    assert_int_equal(pl_batch_new(pl_schema_retain(schema), N, cols, &b, &err), PL_OK);
    char path[] = "/tmp/polaroid_pq_read_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.row_group_rows = N / 2;
    pl_writer *w;
    if (pl_writer_open(path, PL_FORMAT_PARQUET, schema, &wo, &w, &err) != PL_OK) {
        /* the writer is not built yet */
        pl_batch_release(b);
        pl_schema_release(schema);
        unlink(path);
        skip();
    }
    assert_int_equal(pl_writer_write(w, b, &err), PL_OK);
    assert_int_equal(pl_writer_finish(w, &err), PL_OK);
    pl_writer_free(w);

    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_batch *got = read_combined(path, &o);
    assert_int_equal(got->n_rows, N);
    for (int32_t c = 0; c < 3; c++) assert_true(pl_array_equals(got->columns[c], b->columns[c]));
    /* row group reads (no slab) give the same arrays */
    pl_pq_file *f;
    assert_int_equal(pl_pq_file_open(path, &f, &err), PL_OK);
    assert_int_equal(pl_pq_file_metadata(f)->n_row_groups, 2);
    pl_batch *rg;
    assert_int_equal(pl_pq_read_row_group(f, 1, 0, NULL, NULL, &rg, &err), PL_OK);
    for (int32_t c = 0; c < 3; c++) {
        pl_array *sl;
        assert_int_equal(pl_array_slice(got->columns[c], N / 2, N / 2, &sl, &err), PL_OK);
        assert_true(pl_array_equals(sl, rg->columns[c]));
        pl_array_release(sl);
    }
    pl_batch_release(rg);
    pl_pq_file_close(f);
    pl_batch_release(got);
    pl_batch_release(b);
    pl_schema_release(schema);
    unlink(path);
}

/* ---------------------------------------------------------------- fill regions */

static pl_batch *scan_all(const char *const *paths, int32_t n_paths, bool keep, int64_t limit) {
    pl_error err;
    pl_error_init(&err);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.limit = limit;
    o.n_threads = 2;
    o.decode_dictionary = !keep;
    pl_pq_read_opts po;
    pl_pq_read_opts_init(&po);
    po.keep_dictionary = keep;
    pl_stream *s = NULL;
    if (pl_pq_scan_open_ex(n_paths, paths, &o, &po, &s, &err)) fail_msg("open: %s", err.msg);
    pl_table *t = NULL;
    assert_int_equal(pl_table_new(s->schema, &t, &err), PL_OK);
    for (;;) {
        pl_batch *b = NULL;
        if (s->next(s, &b, &err)) fail_msg("read: %s (column %s)", err.msg, err.column_name);
        if (!b) break;
        assert_int_equal(pl_table_append(t, b, &err), PL_OK);
        pl_batch_release(b);
    }
    s->free(s);
    pl_batch *out = NULL;
    assert_int_equal(pl_table_combine(t, &out, &err), PL_OK);
    pl_table_release(t);
    return out;
}

/* Large column outputs are decoded into a staging buffer and copied into their pages by
 * pl_fill_copy (userfaultfd) instead of faulting them in; PLAIN pages without nulls go
 * page-wise straight from the decompressed page (fill_append): the scan must give the same result
 * with the fill path on, off, and with the kernel refusing every copy (the rescue path), for
 * values with nulls (spread in the staging buffer), without, required, booleans, dictionary-
 * encoded numbers, strings kept as dictionaries (int32 codes) or decoded (offsets), strings
 * whose dictionary falls back to PLAIN mid-chunk, several pages per chunk (page ends not on
 * 4 KiB boundaries), several row groups and files, and row limits that stop inside a chunk. */
static void test_fill_region_matches_populate(void **state) {
    (void)state;
    enum { N = 240000 };
    pl_error err;
    pl_error_init(&err);
    pl_type *types[8] = {pl_type_simple(PL_TYPE_INT64),  pl_type_simple(PL_TYPE_FLOAT64),
                         pl_type_simple(PL_TYPE_INT32),  pl_type_simple(PL_TYPE_BOOL),
                         pl_type_simple(PL_TYPE_INT64),  pl_type_simple(PL_TYPE_UTF8),
                         pl_type_simple(PL_TYPE_UTF8),   pl_type_simple(PL_TYPE_FLOAT32)};
    char *names[8] = {"i_nulls", "f", "i32_req", "b", "i_dict", "s_dict", "s_many", "f32"};
    pl_builder *bl[8];
    for (int c = 0; c < 8; c++) assert_int_equal(pl_builder_new(types[c], N, &bl[c], &err), PL_OK);
    static const char *const syms[] = {"AAPL", "MSFT", "X", "GOOG", "BRK.B", "", "ZNU"};
    char buf[32];
    for (int64_t i = 0; i < N; i++) {
        if (i % 97 == 5) assert_int_equal(pl_builder_append_null(bl[0], &err), PL_OK);
        else assert_int_equal(pl_builder_append_i64(bl[0], i * 3 - 7, &err), PL_OK);
        assert_int_equal(pl_builder_append_f64(bl[1], (double)i / 8.0 - 1000.5, &err), PL_OK);
        assert_int_equal(pl_builder_append_i64(bl[2], (int32_t)(i * 2654435761u), &err), PL_OK);
        if (i % 11 == 0) assert_int_equal(pl_builder_append_null(bl[3], &err), PL_OK);
        else assert_int_equal(pl_builder_append_bool(bl[3], (i * 7) % 3 == 1, &err), PL_OK);
        assert_int_equal(pl_builder_append_i64(bl[4], (i * 13) % 17 - 8, &err), PL_OK);
        const char *sym = syms[(i * 7) % 7];
        if (i % 53 == 1) assert_int_equal(pl_builder_append_null(bl[5], &err), PL_OK);
        else assert_int_equal(pl_builder_append_bytes(bl[5], sym, (int64_t)strlen(sym), &err), PL_OK);
        /* distinct values after the first rows of each row group: the dictionary overflows */
        int len = snprintf(buf, sizeof buf, "v%lld", (long long)(i % 40000 < 300 ? i % 5 : i));
        assert_int_equal(pl_builder_append_bytes(bl[6], buf, len, &err), PL_OK);
        assert_int_equal(pl_builder_append_f64(bl[7], (float)i * 0.25f, &err), PL_OK);
    }
    pl_array *cols[8];
    pl_field fields[8];
    for (int c = 0; c < 8; c++) {
        assert_int_equal(pl_builder_finish(bl[c], &cols[c], &err), PL_OK);
        pl_builder_free(bl[c]);
        fields[c].name = names[c];
        fields[c].type = types[c];
        fields[c].nullable = c != 2;
    }
    pl_schema *schema;
    assert_int_equal(pl_schema_new(8, fields, &schema, &err), PL_OK);
    pl_batch *src;
    assert_int_equal(pl_batch_new(pl_schema_retain(schema), N, cols, &src, &err), PL_OK);
    char p1[] = "/tmp/polaroid_pq_fill_XXXXXX", p2[] = "/tmp/polaroid_pq_fill_XXXXXX";
    char *paths[2] = {p1, p2};
    for (int k = 0; k < 2; k++) {
        int fd = mkstemp(paths[k]);
        assert_true(fd >= 0);
        close(fd);
        pl_write_opts wo;
        pl_write_opts_init(&wo);
        wo.row_group_rows = 50000 + 10000 * k; /* row groups of 50000 and 60000 rows */
        wo.page_bytes = 100000;                /* several pages per chunk */
        wo.dict_max_bytes = 4096;              /* s_many falls back to PLAIN */
        pl_writer *w;
        assert_int_equal(pl_writer_open(paths[k], PL_FORMAT_PARQUET, schema, &wo, &w, &err), PL_OK);
        assert_int_equal(pl_writer_write(w, src, &err), PL_OK);
        assert_int_equal(pl_writer_finish(w, &err), PL_OK);
        pl_writer_free(w);
    }
    const char *const cp[2] = {p1, p2};
    static const int modes[3] = {PL_FILL_TEST_OFF, PL_FILL_TEST_NONE, PL_FILL_TEST_COPY_FAILS};
    static const int64_t limits[3] = {-1, 123457, N + 77777};
    for (int keep = 0; keep < 2; keep++)
        for (int li = 0; li < 3; li++) {
            pl_batch *ref = NULL;
            for (int m = 0; m < 3; m++) {
                pl_fill_test(modes[m]);
                /* fresh slabs (a block reused from the allocator's cache is resident already
                 * and takes the populate path, which skips resident memory) */
                pl_alloc_cache_release();
                int64_t before = pl_fill_copied_bytes();
                pl_batch *got = scan_all(cp, 2, keep, limits[li]);
                int64_t copied = pl_fill_copied_bytes() - before;
                pl_fill_test(PL_FILL_TEST_NONE);
                int64_t want_rows = limits[li] < 0 ? 2 * N : PL_MIN(limits[li], 2 * N);
                assert_int_equal(got->n_rows, want_rows);
                if (modes[m] != PL_FILL_TEST_NONE || !pl_fill_on()) assert_int_equal(copied, 0);
                else assert_true(copied >= (int64_t)N * 8); /* the large outputs went by copy */
                if (!ref) {
                    ref = got;
                    /* the populate path against the generated values (both files hold src) */
                    for (int c = 0; c < 8 && !keep; c++) {
                        for (int64_t off = 0; off < want_rows; off += N) {
                            int64_t n = PL_MIN((int64_t)N, want_rows - off);
                            pl_array *a, *e;
                            assert_int_equal(pl_array_slice(got->columns[c], off, n, &a, &err), PL_OK);
                            assert_int_equal(pl_array_slice(src->columns[c], 0, n, &e, &err), PL_OK);
                            if (!pl_array_equals(a, e))
                                fail_msg("column %s rows %lld..: differs from the source", names[c],
                                         (long long)off);
                            pl_array_release(a);
                            pl_array_release(e);
                        }
                    }
                    continue;
                }
                for (int c = 0; c < 8; c++)
                    if (!pl_array_equals(got->columns[c], ref->columns[c]))
                        fail_msg("column %s (keep %d, limit %lld, mode %d) differs from the "
                                 "populate path", names[c], keep, (long long)limits[li], modes[m]);
                pl_batch_release(got);
            }
            if (keep) assert_int_equal(ref->columns[5]->type->id, PL_TYPE_DICTIONARY);
            pl_batch_release(ref);
        }
    pl_batch_release(src);
    pl_schema_release(schema);
    unlink(p1);
    unlink(p2);
}

static void expect_utf8(pl_array *a, int64_t i, const char *want) {
    if (!want) {
        assert_false(pl_array_is_valid(a, i));
        return;
    }
    assert_true(pl_array_is_valid(a, i));
    int32_t len;
    const uint8_t *s = pl_array_bytes(a, i, &len);
    if ((size_t)len != strlen(want) || memcmp(s, want, (size_t)len) != 0)
        fail_msg("row %lld: got %.*s, want %s", (long long)i, (int)len, (const char *)s, want);
}

/* VARIANT groups (shredded and not) read as DuckDB's text of the variant; GEOMETRY as WKT.
 * Expected values from the .jsonl files of expected/shredded_variant and from
 * expected/data/geospatial. */
static void test_variant_and_geometry(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    pl_read_opts o;
    pl_read_opts_init(&o);
    static const struct {
        const char *file;
        int64_t row;
        const char *text;
    } cases[] = {
        {"case-001", 0, "[comedy, drama]"},
        {"case-020", 0, "2024-11-07 12:33:54.123456+00"},
        {"case-028", 0, "9876543210.123456789"},
        {"case-034", 0, "1957-11-07 12:33:54.123457+00"},
        {"case-037", 0, "f24f9b64-81fa-49d1-b74e-8c09a6e31c56"},
        {"case-044", 0, "{'c': {'a': 34, 'b': iceberg}, 'd': -0.0}"},
        {"case-046", 0, "{'a': NULL, 'b': ''}"},
        {"case-047", 0, NULL},
        {"case-083", 2, "{'c': 8, 'd': -0.0}"},
        {"case-086", 0, "[comedy, NULL, drama]"},
        {"case-125-INVALID", 0, "{'a': NULL, 'b': iceberg}"},
        {"case-126", 1, "[{'a': 3, 'b': action, 'c': str}, {'a': 4, 'b': horror, 'd': 2024-01-30}]"},
        {"case-136", 0, "[[comedy, drama], []]"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[512];
        snprintf(path, sizeof path, PT "shredded_variant/%s.parquet", cases[k].file);
        pl_batch *b = read_combined(path, &o);
        int32_t col = pl_schema_find(b->schema, "var");
        assert_true(col >= 0);
        assert_int_equal(b->columns[col]->type->id, PL_TYPE_UTF8);
        expect_utf8(b->columns[col], cases[k].row, cases[k].text);
        pl_batch_release(b);
    }
    pl_batch *b = read_combined(PT "data/geospatial/geospatial.parquet", &o);
    int32_t col = pl_schema_find(b->schema, "geometry");
    assert_true(col >= 0);
    expect_utf8(b->columns[col], 0, "POINT (30 10)");
    pl_batch_release(b);
}

/* Every allocation failure while opening and reading files (flat, nested, dictionary, variant)
 * returns PL_ERR_NOMEM and leaks nothing (LeakSanitizer checks at exit). */
static void test_out_of_memory(void **state) {
    (void)state;
    SKIP_IF_MISSING();
    static const char *const files[] = {PT "data/alltypes_plain.parquet",
                                        PT "data/nullable.impala.parquet",
                                        PT "data/delta_byte_array.parquet",
                                        PT "shredded_variant/case-126.parquet",
                                        PT "data/nested_maps.snappy.parquet"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        bool done = false;
        for (int64_t n = 0; n < 100000 && !done; n++) {
            pl_error err;
            pl_error_init(&err);
            pl_alloc_fail_after(n);
            pl_stream *s = NULL;
            pl_pq_read_opts po;
            pl_pq_read_opts_init(&po);
            po.keep_dictionary = n % 2;
            pl_status st = pl_pq_scan_open_ex(1, &files[k], NULL, &po, &s, &err);
            int64_t rows = 0;
            while (!st) {
                pl_batch *b = NULL;
                st = s->next(s, &b, &err);
                if (st || !b) break;
                rows += b->n_rows;
                pl_batch_release(b);
            }
            if (s) s->free(s);
            pl_alloc_fail_after(-1);
            if (st == PL_OK) {
                assert_true(rows > 0);
                done = true;
            } else if (st != PL_ERR_NOMEM) {
                fail_msg("%s with allocation %lld failing: status %d: %s", files[k], (long long)n,
                         st, err.msg);
            }
        }
        assert_true(done);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_files_vs_expected),
        cmocka_unit_test(test_alltypes_types),
        cmocka_unit_test(test_decimals_and_floats),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_projection_limit_and_streams),
        cmocka_unit_test(test_metadata_api),
        cmocka_unit_test(test_keep_dictionary),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_large_file_slab_path),
        cmocka_unit_test(test_fill_region_matches_populate),
        cmocka_unit_test(test_variant_and_geometry),
        cmocka_unit_test(test_out_of_memory),
    };
    if (getenv("PL_TEST_FILTER")) cmocka_set_test_filter(getenv("PL_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
