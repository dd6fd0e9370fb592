/* test_text_values.c - unit tests for pl_text_format_value on arrays (blobs, strings, nested
 * lists/structs/maps, dictionaries, zoned timestamps; PLAIN and JSON styles) and for the table
 * writer (src/io/text/table.c): alignment, NULL, UTF-8 widths, row and column elision.
 * Expected strings are DuckDB 2.0's output for the same values (CAST(... AS VARCHAR) and
 * COPY ... (FORMAT json)) or follow from the documented table layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/text/text.h"

static const char *fmt(const pl_array *a, int64_t i, pl_text_style style) {
    static char out[4096];
    pl_strbuf sb = {0};
    assert_int_equal(pl_text_format_value(a, i, style, &sb, NULL), PL_OK);
    snprintf(out, sizeof out, "%s", sb.data ? sb.data : "");
    pl_strbuf_reset(&sb);
    return out;
}

static pl_array *finish(pl_builder *b) {
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static pl_builder *builder(pl_type *t) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(t, 4, &b, NULL), PL_OK);
    return b;
}

static void append_str(pl_builder *b, const char *s) {
    assert_int_equal(pl_builder_append_bytes(b, s, (int64_t)strlen(s), NULL), PL_OK);
}

static void test_strings_and_blobs(void **state) {
    (void)state;
    pl_builder *b = builder(pl_type_simple(PL_TYPE_BINARY));
    assert_int_equal(pl_builder_append_bytes(b, "\x00" "ab\xFFz", 5, NULL), PL_OK);
    append_str(b, "a\\b'c\"d");
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    pl_array *a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "\\x00ab\\xFFz");
    assert_string_equal(fmt(a, 1, PL_TEXT_PLAIN), "a\\x5Cb\\x27c\\x22d");
    assert_string_equal(fmt(a, 2, PL_TEXT_PLAIN), "");
    assert_string_equal(fmt(a, 2, PL_TEXT_JSON), "null");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "\"\\\\x00ab\\\\xFFz\"");
    pl_array_release(a);

    b = builder(pl_type_simple(PL_TYPE_UTF8));
    append_str(b, "a\"b\\c\n\x01\xC3\xA9");
    append_str(b, "");
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"");
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "a\"b\\c\n\x01\xC3\xA9");
    assert_string_equal(fmt(a, 1, PL_TEXT_JSON), "\"\"");
    pl_array_release(a);

    b = builder(pl_type_simple(PL_TYPE_FLOAT64));
    assert_int_equal(pl_builder_append_f64(b, NAN, NULL), PL_OK);
    assert_int_equal(pl_builder_append_f64(b, 1e300, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "nan");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "null");
    assert_string_equal(fmt(a, 1, PL_TEXT_JSON), "1e+300");
    pl_array_release(a);
}

static void test_timestamp_tz_and_decimal(void **state) {
    (void)state;
    pl_type *t;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, "UTC", &t, NULL), PL_OK);
    pl_builder *b = builder(t);
    assert_int_equal(pl_builder_append_i64(b, 1577844000500000LL, NULL), PL_OK);
    pl_array *a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "2020-01-01 02:00:00.5+00");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "\"2020-01-01 02:00:00.5+00\"");
    pl_array_release(a);
    pl_type_release(t);

    assert_int_equal(pl_type_new_decimal(10, 3, &t, NULL), PL_OK);
    b = builder(t);
    assert_int_equal(pl_builder_append_decimal(b, 123450, 0, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "123.450");
    pl_array_release(a);
    pl_type_release(t);
}

static void test_nested(void **state) {
    (void)state;
    /* list<int64>: [1, 2, NULL], NULL, [] */
    pl_type *lt;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT64), true, &lt, NULL), PL_OK);
    pl_builder *b = builder(lt);
    pl_builder *items = pl_builder_child(b, 0);
    assert_int_equal(pl_builder_append_i64(items, 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(items, 2, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(items, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    pl_array *a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "[1, 2, NULL]");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "[1,2,null]");
    assert_string_equal(fmt(a, 1, PL_TEXT_JSON), "null");
    assert_string_equal(fmt(a, 2, PL_TEXT_PLAIN), "[]");
    pl_array_release(a);
    pl_type_release(lt);

    /* list<utf8>: ['a', NULL, 'b,c', 'x y', ''] as DuckDB prints it */
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_UTF8), true, &lt, NULL), PL_OK);
    b = builder(lt);
    items = pl_builder_child(b, 0);
    append_str(items, "a");
    assert_int_equal(pl_builder_append_null(items, NULL), PL_OK);
    append_str(items, "b,c");
    append_str(items, "x y");
    append_str(items, "");
    append_str(items, "q'q");
    append_str(items, "null");
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "[a, NULL, 'b,c', x y, '', 'q\\'q', 'null']");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "[\"a\",null,\"b,c\",\"x y\",\"\",\"q'q\",\"null\"]");
    pl_array_release(a);
    pl_type_release(lt);

    /* struct<a: int64, b: utf8> */
    pl_field fields[2];
    assert_int_equal(pl_field_init(&fields[0], "a", pl_type_simple(PL_TYPE_INT64), true, NULL), PL_OK);
    assert_int_equal(pl_field_init(&fields[1], "b", pl_type_simple(PL_TYPE_UTF8), true, NULL), PL_OK);
    pl_type *st;
    assert_int_equal(pl_type_new_struct(2, fields, &st, NULL), PL_OK);
    pl_field_reset(&fields[0]);
    pl_field_reset(&fields[1]);
    b = builder(st);
    assert_int_equal(pl_builder_append_i64(pl_builder_child(b, 0), 1, NULL), PL_OK);
    append_str(pl_builder_child(b, 1), "x y");
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(pl_builder_child(b, 0), NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(pl_builder_child(b, 1), NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "{'a': 1, 'b': x y}");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "{\"a\":1,\"b\":\"x y\"}");
    assert_string_equal(fmt(a, 1, PL_TEXT_JSON), "{\"a\":null,\"b\":null}");
    assert_string_equal(fmt(a, 1, PL_TEXT_PLAIN), "{'a': NULL, 'b': NULL}");
    /* a slice starts at the parent's offset */
    pl_array *sl;
    assert_int_equal(pl_array_slice(a, 1, 1, &sl, NULL), PL_OK);
    assert_string_equal(fmt(sl, 0, PL_TEXT_JSON), "{\"a\":null,\"b\":null}");
    pl_array_release(sl);
    pl_array_release(a);
    pl_type_release(st);

    /* map<utf8, int64>: {k=1, j=2}; map<int64, utf8>: {"1":"a"} in JSON */
    pl_type *mt;
    assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT64),
                                     true, &mt, NULL),
                     PL_OK);
    b = builder(mt);
    pl_builder *entries = pl_builder_child(b, 0);
    append_str(pl_builder_child(entries, 0), "k");
    assert_int_equal(pl_builder_append_i64(pl_builder_child(entries, 1), 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(entries, NULL), PL_OK);
    append_str(pl_builder_child(entries, 0), "j");
    assert_int_equal(pl_builder_append_null(pl_builder_child(entries, 1), NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(entries, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_PLAIN), "{k=1, j=NULL}");
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "{\"k\":1,\"j\":null}");
    pl_array_release(a);
    pl_type_release(mt);

    assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_INT64), pl_type_simple(PL_TYPE_UTF8),
                                     true, &mt, NULL),
                     PL_OK);
    b = builder(mt);
    entries = pl_builder_child(b, 0);
    assert_int_equal(pl_builder_append_i64(pl_builder_child(entries, 0), 1, NULL), PL_OK);
    append_str(pl_builder_child(entries, 1), "a");
    assert_int_equal(pl_builder_append_valid(entries, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    a = finish(b);
    assert_string_equal(fmt(a, 0, PL_TEXT_JSON), "{\"1\":\"a\"}");
    pl_array_release(a);
    pl_type_release(mt);
}

static void test_dictionary(void **state) {
    (void)state;
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, NULL),
                     PL_OK);
    pl_builder *b = builder(dt);
    append_str(b, "red");
    append_str(b, "green");
    append_str(b, "red");
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    pl_array *a = finish(b);
    assert_string_equal(fmt(a, 2, PL_TEXT_PLAIN), "red");
    assert_string_equal(fmt(a, 1, PL_TEXT_JSON), "\"green\"");
    assert_true(pl_text_is_null(a, 3));
    assert_false(pl_text_is_null(a, 0));
    pl_array_release(a);
    pl_type_release(dt);
}

/* ---------------------------------------------------------------- table writer */

static char *render_table(pl_batch *batch, int32_t max_width, int64_t max_rows) {
    char path[] = "/tmp/pl_test_table_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pl_write_opts o;
    pl_write_opts_init(&o);
    o.table_max_width = max_width;
    o.table_max_rows = max_rows;
    pl_writer *w;
    assert_int_equal(pl_table_writer_open(path, batch->schema, &o, &w, NULL), PL_OK);
    /* feed in two pieces to exercise head/tail retention */
    pl_batch *a, *b;
    int64_t half = batch->n_rows / 2;
    assert_int_equal(pl_batch_slice(batch, 0, half, &a, NULL), PL_OK);
    assert_int_equal(pl_batch_slice(batch, half, batch->n_rows - half, &b, NULL), PL_OK);
    assert_int_equal(w->write(w, a, NULL), PL_OK);
    assert_int_equal(w->write(w, b, NULL), PL_OK);
    pl_batch_release(a);
    pl_batch_release(b);
    assert_int_equal(w->finish(w, NULL), PL_OK);
    w->free(w);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *s = calloc(1, 1 << 20);
    size_t n = fread(s, 1, (1 << 20) - 1, f);
    s[n] = '\0';
    fclose(f);
    unlink(path);
    return s;
}

/* Every line of the table has the same display width; returns it. */
static int64_t check_rect(const char *s) {
    int64_t width = -1;
    while (*s) {
        const char *nl = strchr(s, '\n');
        assert_non_null(nl);
        int64_t w = pl_text_display_width(s, nl - s);
        if (width < 0) width = w;
        assert_int_equal(w, width);
        s = nl + 1;
    }
    return width;
}

static pl_batch *make_batch(int64_t rows, int32_t n_int_cols) {
    int32_t n_cols = n_int_cols + 1;
    pl_field *fields = calloc((size_t)n_cols, sizeof *fields);
    pl_array **cols = calloc((size_t)n_cols, sizeof *cols);
    assert_int_equal(pl_field_init(&fields[0], "name", pl_type_simple(PL_TYPE_UTF8), true, NULL),
                     PL_OK);
    pl_builder *b = builder(pl_type_simple(PL_TYPE_UTF8));
    for (int64_t r = 0; r < rows; r++) {
        if (r == 1) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else append_str(b, r % 2 ? "\xE6\x97\xA5\xE6\x9C\xAC" : "ab"); /* 日本 */
    }
    cols[0] = finish(b);
    for (int32_t c = 1; c < n_cols; c++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", c);
        assert_int_equal(pl_field_init(&fields[c], name, pl_type_simple(PL_TYPE_INT64), true, NULL),
                         PL_OK);
        b = builder(pl_type_simple(PL_TYPE_INT64));
        for (int64_t r = 0; r < rows; r++)
            assert_int_equal(pl_builder_append_i64(b, r * 1000 + c, NULL), PL_OK);
        cols[c] = finish(b);
    }
    pl_schema *s;
    assert_int_equal(pl_schema_new(n_cols, fields, &s, NULL), PL_OK);
    for (int32_t c = 0; c < n_cols; c++) pl_field_reset(&fields[c]);
    free(fields);
    pl_batch *batch;
    assert_int_equal(pl_batch_new(s, rows, cols, &batch, NULL), PL_OK);
    free(cols);
    return batch;
}

static void test_table_small(void **state) {
    (void)state;
    pl_batch *b = make_batch(4, 1);
    char *s = render_table(b, 120, 40);
    check_rect(s);
    assert_non_null(strstr(s, "name"));
    assert_non_null(strstr(s, "int64"));
    assert_non_null(strstr(s, "NULL"));
    assert_non_null(strstr(s, "\xE6\x97\xA5\xE6\x9C\xAC")); /* wide text kept */
    assert_non_null(strstr(s, " 3001 \xE2\x94\x82"));        /* numbers right-aligned */
    assert_non_null(strstr(s, "\xE2\x94\x82 ab "));          /* text left-aligned */
    assert_null(strstr(s, "shown"));
    free(s);
    pl_batch_release(b);
}

static void test_table_elision(void **state) {
    (void)state;
    pl_batch *b = make_batch(100, 30);
    char *s = render_table(b, 80, 10);
    int64_t w = check_rect(s);
    assert_true(w <= 80);
    assert_non_null(strstr(s, "100 rows (10 shown)"));
    assert_non_null(strstr(s, "31 columns"));
    assert_non_null(strstr(s, "\xC2\xB7"));     /* · rows */
    assert_non_null(strstr(s, "99030"));        /* last row, last column */
    assert_null(strstr(s, "50030"));            /* a middle row is elided */
    assert_non_null(strstr(s, "\xE2\x80\xA6")); /* … column */
    free(s);
    s = render_table(b, 10000, -1); /* everything */
    check_rect(s);
    assert_non_null(strstr(s, "50030"));
    free(s);
    pl_batch_release(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings_and_blobs), cmocka_unit_test(test_timestamp_tz_and_decimal),
        cmocka_unit_test(test_nested),            cmocka_unit_test(test_dictionary),
        cmocka_unit_test(test_table_small),       cmocka_unit_test(test_table_elision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
