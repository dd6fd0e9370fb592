/* test_csv.c - unit tests for the CSV reader and writer (src/io/csv/): RFC 4180 quoting,
 * embedded newlines, CRLF, missing final newline, ragged rows, empty and header-only input,
 * type inference and overrides, NULL handling, projection, limit, parallel chunking equal to a
 * single chunk (also when a stray quote fools the boundary search), and write-then-read round
 * trips. Expectations follow RFC 4180 and what DuckDB/pyarrow read from the same text. */
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
#include "io/csv/csv.h"
#include "io/io_int.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- helpers */

#define READER_SCAN_BUFFER pl_csv_scan_buffer
#define READER_NAME "t.csv"
#include "../common/text_reader.h"

static const char *cell(pl_batch *b, int32_t c, int64_t r) {
    static char out[4096];
    if (pl_text_is_null(b->columns[c], r)) return "<NULL>";
    pl_strbuf sb = {0};
    assert_int_equal(pl_text_format_value(b->columns[c], r, PL_TEXT_PLAIN, &sb, NULL), PL_OK);
    snprintf(out, sizeof out, "%s", sb.data ? sb.data : "");
    pl_strbuf_reset(&sb);
    return out;
}

static pl_type_id col_type(pl_batch *b, int32_t c) { return b->schema->fields[c].type->id; }

/* ---------------------------------------------------------------- reading */

static void test_inference_basic(void **state) {
    (void)state;
    pl_table *t = read_ok("i,f,b,d,ts,s,tz,t\n"
                          "1,2.5,true,2020-01-01,2020-01-01 10:00:00,x,2020-01-01T10:00:00Z,12:00\n"
                          "-7,1e3,FALSE,1969-12-31,1969-12-31 23:59:59.5,hello,2020-01-01 12:00+02,"
                          "23:59:59.25\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 2);
    assert_int_equal(b->n_cols, 8);
    assert_int_equal(col_type(b, 7), PL_TYPE_TIME64);
    assert_string_equal(cell(b, 7, 0), "12:00:00");
    assert_string_equal(cell(b, 7, 1), "23:59:59.25");
    assert_int_equal(col_type(b, 0), PL_TYPE_INT64);
    assert_int_equal(col_type(b, 1), PL_TYPE_FLOAT64);
    assert_int_equal(col_type(b, 2), PL_TYPE_BOOL);
    assert_int_equal(col_type(b, 3), PL_TYPE_DATE32);
    assert_int_equal(col_type(b, 4), PL_TYPE_TIMESTAMP);
    assert_null(b->schema->fields[4].type->tz);
    assert_int_equal(col_type(b, 5), PL_TYPE_UTF8);
    assert_int_equal(col_type(b, 6), PL_TYPE_TIMESTAMP);
    assert_non_null(b->schema->fields[6].type->tz);
    assert_string_equal(cell(b, 0, 1), "-7");
    assert_string_equal(cell(b, 1, 1), "1000.0");
    assert_string_equal(cell(b, 2, 1), "false");
    assert_string_equal(cell(b, 3, 1), "1969-12-31");
    assert_string_equal(cell(b, 4, 1), "1969-12-31 23:59:59.5");
    assert_string_equal(cell(b, 6, 1), "2020-01-01 10:00:00+00");
    assert_string_equal(cell(b, 5, 0), "x");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_quotes_and_newlines(void **state) {
    (void)state;
    pl_table *t = read_ok("a,b\n"
                          "\"x,y\",\"he said \"\"hi\"\"\"\n"
                          "\"line1\nline2\",\"\"\n"
                          "plain,\"\"\"\"\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 3);
    assert_string_equal(cell(b, 0, 0), "x,y");
    assert_string_equal(cell(b, 1, 0), "he said \"hi\"");
    assert_string_equal(cell(b, 0, 1), "line1\nline2");
    assert_string_equal(cell(b, 1, 1), ""); /* quoted empty is the empty string */
    assert_string_equal(cell(b, 1, 2), "\"");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_crlf_and_no_final_newline(void **state) {
    (void)state;
    pl_table *t = read_ok("a,b\r\n1,2\r\n3,4", NULL);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 2);
    assert_int_equal(col_type(b, 1), PL_TYPE_INT64);
    assert_string_equal(cell(b, 1, 1), "4");
    assert_string_equal(b->schema->fields[1].name, "b");
    pl_batch_release(b);
    pl_table_release(t);
    /* BOM and blank lines */
    t = read_ok("\xEF\xBB\xBFx,y\n\n1,2\n\n", NULL);
    b = combine(t);
    assert_string_equal(b->schema->fields[0].name, "x");
    assert_int_equal(b->n_rows, 1);
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_ragged_rows(void **state) {
    (void)state;
    pl_error err;
    pl_error_init(&err);
    pl_table *t = NULL;
    const char *text = "a,b\n1,2\n3,4,5\n";
    assert_int_equal(read_text(text, (int64_t)strlen(text), NULL, &t, &err), PL_ERR_CORRUPT);
    assert_string_equal(err.msg, "expected 2 fields, found 3");
    assert_int_equal(err.row, 3); /* line number */
    assert_int_equal(err.byte_offset, 8);
    assert_string_equal(err.path, "t.csv");
    /* the same far beyond the inference sample */
    pl_strbuf sb = {0};
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "a,b\n"), PL_OK);
    for (int k = 0; k < 50; k++) assert_int_equal(pl_strbuf_appendf(&sb, NULL, "%d,%d\n", k, k), PL_OK);
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "9\n"), PL_OK);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_sample_rows = 5;
    pl_error_init(&err);
    assert_int_equal(read_text(sb.data, sb.len, &o, &t, &err), PL_ERR_CORRUPT);
    assert_string_equal(err.msg, "expected 2 fields, found 1");
    assert_int_equal(err.row, 52);
    pl_strbuf_reset(&sb);
    /* unterminated quote */
    pl_error_init(&err);
    text = "a\n\"abc\n";
    assert_int_equal(read_text(text, (int64_t)strlen(text), NULL, &t, &err), PL_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "unterminated"));
}

static void test_empty_and_header_only(void **state) {
    (void)state;
    /* DuckDB: an empty file is one text column "column0" without rows */
    pl_table *t = read_ok("", NULL);
    assert_int_equal(t->schema->n_fields, 1);
    assert_string_equal(t->schema->fields[0].name, "column0");
    assert_int_equal(t->schema->fields[0].type->id, PL_TYPE_UTF8);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    t = read_ok("a,b,c\n", NULL);
    assert_int_equal(t->schema->n_fields, 3);
    assert_int_equal(t->n_rows, 0);
    assert_int_equal(t->schema->fields[2].type->id, PL_TYPE_UTF8);
    pl_table_release(t);
    t = read_ok("a,b,c", NULL);
    assert_int_equal(t->schema->n_fields, 3);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
}

/* The header is sniffed like DuckDB's: a first row is a header when every column is text or
 * one of its values does not fit its column's type; unnamed columns are column0.. padded. */
static void test_header_sniffing(void **state) {
    (void)state;
    pl_table *t = read_ok("1,2\n3,4\n", NULL); /* numbers only: no header */
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(t->schema->fields[1].name, "column1");
    assert_int_equal(t->schema->fields[0].type->id, PL_TYPE_INT64);
    pl_table_release(t);
    t = read_ok("1,2\n", NULL); /* one row that fits its own types: data */
    assert_int_equal(t->n_rows, 1);
    pl_table_release(t);
    t = read_ok("x,1\n2,3\n", NULL); /* "x" is no integer: a header */
    assert_int_equal(t->n_rows, 1);
    assert_string_equal(t->schema->fields[1].name, "1");
    pl_table_release(t);
    t = read_ok("1,2\n3,x\n", NULL); /* "2" is text: the first row fits, so data */
    assert_int_equal(t->n_rows, 2);
    assert_int_equal(t->schema->fields[1].type->id, PL_TYPE_UTF8);
    pl_table_release(t);
    t = read_ok("a,b\nc,d\n", NULL); /* all text: a header */
    assert_int_equal(t->n_rows, 1);
    assert_string_equal(t->schema->fields[0].name, "a");
    pl_table_release(t);
    t = read_ok("0,1,2,3,4,5,6,7,8,9,10\n", NULL);
    assert_string_equal(t->schema->fields[0].name, "column00");
    assert_string_equal(t->schema->fields[10].name, "column10");
    pl_table_release(t);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_header = 1; /* given: the numbers are names */
    t = read_ok("1,2\n3,4\n", &o);
    assert_int_equal(t->n_rows, 1);
    assert_string_equal(t->schema->fields[0].name, "1");
    pl_table_release(t);
}

/* csv_column_names/types: every column's name and type; the header is sniffed with the types */
static void test_given_columns(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    const char *names[] = {"p", "q"};
    pl_type *types[] = {pl_type_simple(PL_TYPE_INT32), pl_type_simple(PL_TYPE_UTF8)};
    o.csv_column_names = names;
    o.csv_column_types = types;
    o.n_csv_columns = 2;
    pl_table *t = read_ok("a,b\n1,x\n", &o); /* "a" is no INT32: a header */
    assert_int_equal(t->n_rows, 1);
    assert_string_equal(t->schema->fields[0].name, "p");
    assert_int_equal(t->schema->fields[0].type->id, PL_TYPE_INT32);
    pl_table_release(t);
    t = read_ok("1,x\n2,y\n", &o); /* fits: no header */
    assert_int_equal(t->n_rows, 2);
    pl_table_release(t);
    t = read_ok("", &o);
    assert_int_equal(t->schema->n_fields, 2);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(read_text("1,x,3\n", 6, &o, &t, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "columns gives 2 columns but the file has 3"));
}

static void test_nulls(void **state) {
    (void)state;
    pl_table *t = read_ok("i,s,f\n,,\n5,\"\",NA\n", NULL);
    pl_batch *b = combine(t);
    assert_int_equal(col_type(b, 0), PL_TYPE_INT64);
    assert_string_equal(cell(b, 0, 0), "<NULL>");
    assert_string_equal(cell(b, 1, 0), "<NULL>");
    assert_string_equal(cell(b, 1, 1), "");
    assert_int_equal(col_type(b, 2), PL_TYPE_UTF8);
    pl_batch_release(b);
    pl_table_release(t);
    pl_read_opts o;
    pl_read_opts_init(&o);
    const char *nulls[] = {"NA", ""};
    o.csv_null_values = nulls;
    o.n_csv_null_values = 2;
    t = read_ok("i,s,f\n,,\n5,\"\",NA\n6,x,1.5\n", &o);
    b = combine(t);
    assert_int_equal(col_type(b, 2), PL_TYPE_FLOAT64);
    assert_string_equal(cell(b, 2, 1), "<NULL>");
    assert_string_equal(cell(b, 2, 2), "1.5");
    assert_int_equal(pl_array_null_count(b->columns[2]), 2);
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_no_header_and_delimiter(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_header = 0;
    o.csv_delimiter = ';';
    pl_table *t = read_ok("1;a,b\n2;c\n", &o);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 2);
    assert_string_equal(b->schema->fields[0].name, "column0");
    assert_string_equal(b->schema->fields[1].name, "column1");
    assert_string_equal(cell(b, 1, 0), "a,b");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_overrides_projection_limit(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_type *dec;
    assert_int_equal(pl_type_new_decimal(10, 2, &dec, NULL), PL_OK);
    const char *names[] = {"a", "c"};
    pl_type *types[] = {pl_type_simple(PL_TYPE_INT16), dec};
    o.csv_type_names = names;
    o.csv_types = types;
    o.n_csv_types = 2;
    const char *cols[] = {"c", "a"};
    o.columns = cols;
    o.n_columns = 2;
    const char *text = "a,b,c\n1,x,1.5\n2,y,-0.255\n3,z,7\n";
    pl_table *t = read_ok(text, &o);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_cols, 2);
    assert_string_equal(b->schema->fields[0].name, "c");
    assert_int_equal(col_type(b, 0), PL_TYPE_DECIMAL128);
    assert_int_equal(col_type(b, 1), PL_TYPE_INT16);
    assert_string_equal(cell(b, 0, 0), "1.50");
    assert_string_equal(cell(b, 0, 1), "-0.26"); /* half away from zero */
    assert_string_equal(cell(b, 0, 2), "7.00");
    assert_string_equal(cell(b, 1, 2), "3");
    pl_batch_release(b);
    pl_table_release(t);
    o.limit = 2;
    t = read_ok(text, &o);
    assert_int_equal(t->n_rows, 2);
    pl_table_release(t);
    /* a value that does not fit the explicit type */
    pl_read_opts_init(&o);
    const char *n1[] = {"a"};
    pl_type *t1[] = {pl_type_simple(PL_TYPE_INT8)};
    o.csv_type_names = n1;
    o.csv_types = t1;
    o.n_csv_types = 1;
    pl_error err;
    pl_error_init(&err);
    text = "a\n1\n300\n";
    assert_int_equal(read_text(text, (int64_t)strlen(text), &o, &t, &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "cannot parse \"300\" as int8");
    assert_string_equal(err.column_name, "a");
    assert_int_equal(err.row, 3);
    /* unknown projection column */
    pl_read_opts_init(&o);
    const char *bad[] = {"nope"};
    o.columns = bad;
    o.n_columns = 1;
    pl_error_init(&err);
    assert_int_equal(read_text("a\n1\n", 4, &o, &t, &err), PL_ERR_NOT_FOUND);
    pl_type_release(dec);
}

/* DECIMAL(38, 0) takes 38 digits; 39 are refused, also where v * 10 passes 2^128 (the parse
 * once wrapped around there and kept a wrong value); integers beyond BIGINT infer as
 * DECIMAL(38, 0). */
static void test_decimal_38_digits(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_type *dec;
    assert_int_equal(pl_type_new_decimal(38, 0, &dec, NULL), PL_OK);
    const char *names[] = {"a"};
    pl_type *types[] = {dec};
    o.csv_type_names = names;
    o.csv_types = types;
    o.n_csv_types = 1;
    const char *text = "a\n99999999999999999999999999999999999999\n-12345678901234567890123456789012345678\n";
    pl_table *t = read_ok(text, &o);
    pl_batch *b = combine(t);
    assert_string_equal(cell(b, 0, 0), "99999999999999999999999999999999999999");
    assert_string_equal(cell(b, 0, 1), "-12345678901234567890123456789012345678");
    pl_batch_release(b);
    pl_table_release(t);
    static const char *const too_long[] = {"a\n700000000000000000000000000000000000000\n",
                                           "a\n100000000000000000000000000000000000000\n",
                                           "a\n3402823669209384634633746074317682114560\n"};
    for (size_t k = 0; k < sizeof too_long / sizeof *too_long; k++) {
        pl_error err;
        pl_error_init(&err);
        assert_int_equal(read_text(too_long[k], (int64_t)strlen(too_long[k]), &o, &t, &err), PL_ERR_TYPE);
    }
    pl_type_release(dec);
    pl_read_opts_init(&o);
    t = read_ok("a,b\n123456789012345678901,007\n-5,+3\n", &o);
    b = combine(t);
    assert_int_equal(col_type(b, 0), PL_TYPE_DECIMAL128);
    assert_int_equal(col_type(b, 1), PL_TYPE_UTF8);
    assert_string_equal(cell(b, 0, 0), "123456789012345678901");
    assert_string_equal(cell(b, 1, 1), "+3");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_inference_sample_miss(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_sample_rows = 3;
    pl_error err;
    pl_error_init(&err);
    pl_table *t;
    const char *text = "x,y\n1,a\n2,b\n3,c\nabc,d\n";
    assert_int_equal(read_text(text, (int64_t)strlen(text), &o, &t, &err), PL_ERR_TYPE);
    assert_string_equal(err.msg, "cannot parse \"abc\" as int64");
    assert_string_equal(err.column_name, "x");
    assert_int_equal(err.row, 5);
    assert_true(err.hint[0] != '\0');
}

/* Builds a CSV with quoted strings holding delimiters, quotes and newlines. */
static void make_big(pl_strbuf *sb, int64_t rows, bool stray_quotes) {
    assert_int_equal(pl_strbuf_appendf(sb, NULL, "id,val,txt,d\n"), PL_OK);
    uint64_t x = 12345;
    for (int64_t r = 0; r < rows; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int kind = (int)(x >> 60);
        const char *txt = kind < 4 ? "\"multi\nline, \"\"quoted\"\"\"" : kind < 8 ? "plain" : "";
        if (stray_quotes && kind == 9) txt = "ab\"c";
        double v = (double)(int64_t)(x >> 20) / 1024.0;
        if (kind == 15)
            assert_int_equal(pl_strbuf_appendf(sb, NULL, "%lld,,%s,2021-03-04\n", (long long)r, txt),
                             PL_OK);
        else
            assert_int_equal(pl_strbuf_appendf(sb, NULL, "%lld,%.17g,%s,%04d-0%d-1%d\n",
                                               (long long)r, v, txt, 1900 + (int)(x % 200),
                                               1 + (int)((x >> 8) % 9), (int)((x >> 16) % 9)),
                             PL_OK);
    }
}

/* sb read as one chunk (*one) and in chunks of 4093 bytes (*many). */
static void read_one_and_many(const pl_strbuf *sb, const pl_read_opts *o, pl_table **one,
                              pl_table **many) {
    pl_csv_set_chunk_bytes_for_testing(1LL << 40);
    assert_int_equal(read_text(sb->data, sb->len, o, one, NULL), PL_OK);
    pl_csv_set_chunk_bytes_for_testing(4093);
    assert_int_equal(read_text(sb->data, sb->len, o, many, NULL), PL_OK);
    pl_csv_set_chunk_bytes_for_testing(0);
}

static void check_chunking_equal(bool stray) {
    pl_strbuf sb = {0};
    make_big(&sb, 60000, stray);
    pl_read_opts o;
    pl_read_opts_init(&o);
    pl_table *one, *many;
    read_one_and_many(&sb, &o, &one, &many);
    assert_int_equal(one->n_rows, 60000);
    assert_int_equal(many->n_rows, 60000);
    assert_true(many->n_batches > 10);
    assert_true(pl_table_equals(one, many));
    pl_batch *b = combine(many);
    assert_int_equal(col_type(b, 0), PL_TYPE_INT64);
    assert_int_equal(col_type(b, 1), PL_TYPE_FLOAT64);
    assert_int_equal(col_type(b, 3), PL_TYPE_DATE32);
    for (int64_t r = 0; r < b->n_rows; r += 997) {
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)r);
        assert_string_equal(cell(b, 0, r), want);
    }
    pl_batch_release(b);
    pl_table_release(one);
    pl_table_release(many);
    pl_strbuf_reset(&sb);
}

static void test_parallel_chunks_equal_single(void **state) {
    (void)state;
    check_chunking_equal(false);
}

static void test_parallel_chunks_stray_quotes(void **state) {
    (void)state;
    check_chunking_equal(true);
}

/* ignore_errors: bad rows (a field too many or too few, a value not of its type, a bad quote)
 * are skipped, whatever the chunking; NULLs of skipped rows leave no trace in the counts */
static void make_bad(pl_strbuf *sb, int64_t n) {
    assert_int_equal(pl_strbuf_appendf(sb, NULL, "i,s\n"), PL_OK);
    for (int64_t r = 0; r < n; r++) {
        const char *fmt = r % 7 == 3 ? "%lld,x,extra\n"       /* too many fields */
                          : r % 11 == 5 ? "x%lld,\n"           /* not an integer */
                          : r % 13 == 6 ? "%lld,\"q\"z\n"      /* text after a quote */
                          : r % 5 == 0 ? "%lld,\n"             /* NULL text */
                                       : "%lld,t\n";
        assert_int_equal(pl_strbuf_appendf(sb, NULL, fmt, (long long)r), PL_OK);
    }
}

static int64_t good_rows(int64_t n, int64_t *nulls) {
    int64_t k = 0;
    *nulls = 0;
    for (int64_t r = 0; r < n; r++) {
        if (r % 7 == 3 || r % 11 == 5 || r % 13 == 6) continue;
        k++;
        *nulls += r % 5 == 0;
    }
    return k;
}

/* make_bad's n rows into sb and the options both ignore_errors tests read them with: column i
 * typed BIGINT, bad rows skipped, the file name in column fname. */
static void bad_input(pl_strbuf *sb, int64_t n, pl_read_opts *o, const char *fname) {
    static const char *const tn[] = {"i"};
    static pl_type *tt[1];
    tt[0] = pl_type_simple(PL_TYPE_INT64);
    make_bad(sb, n);
    pl_read_opts_init(o);
    o->csv_type_names = tn;
    o->csv_types = tt;
    o->n_csv_types = 1;
    o->csv_ignore_errors = true;
    o->csv_filename = fname;
}

static void test_ignore_errors(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    pl_read_opts o;
    bad_input(&sb, 30000, &o, "fn");
    pl_table *one, *many;
    read_one_and_many(&sb, &o, &one, &many);
    int64_t nulls;
    int64_t want = good_rows(30000, &nulls);
    assert_int_equal(one->n_rows, want);
    assert_true(pl_table_equals(one, many));
    pl_batch *b = combine(many);
    assert_int_equal(b->columns[1]->null_count, nulls);
    assert_int_equal(b->columns[0]->null_count, 0);
    assert_string_equal(b->schema->fields[2].name, "fn");
    assert_string_equal(cell(b, 2, want - 1), READER_NAME);
    assert_string_equal(cell(b, 0, 1), "1");
    pl_batch_release(b);
    pl_table_release(one);
    pl_table_release(many);
    /* without ignore_errors the first bad row fails */
    o.csv_ignore_errors = false;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(read_text(sb.data, sb.len, &o, &one, &err), PL_ERR_CORRUPT);
    assert_string_equal(err.msg, "expected 2 fields, found 3");
    pl_strbuf_reset(&sb);
}

static void test_ignore_errors_oom(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    pl_read_opts o;
    bad_input(&sb, 300, &o, "filename");
    o.csv_date_format = "%d/%m/%Y";
    pl_csv_set_chunk_bytes_for_testing(2048);
    int64_t nulls;
    check_oom(sb.data, sb.len, &o, good_rows(300, &nulls));
    pl_csv_set_chunk_bytes_for_testing(0);
    pl_strbuf_reset(&sb);
}

/* dateformat / timestampformat: inference and given DATE / TIMESTAMP columns use them */
static void test_date_formats(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_date_format = "%d/%m/%Y";
    o.csv_timestamp_format = "%d/%m/%Y %H:%M";
    pl_table *t = read_ok("d,t,iso\n05/01/2024,05/01/2024 10:30,2024-01-05\n", &o);
    pl_batch *b = combine(t);
    assert_int_equal(col_type(b, 0), PL_TYPE_DATE32);
    assert_string_equal(cell(b, 0, 0), "2024-01-05");
    assert_int_equal(col_type(b, 1), PL_TYPE_TIMESTAMP);
    assert_string_equal(cell(b, 1, 0), "2024-01-05 10:30:00");
    assert_int_equal(col_type(b, 2), PL_TYPE_UTF8); /* ISO is not the given form */
    pl_batch_release(b);
    pl_table_release(t);
    o.csv_date_format = "%Q";
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(read_text("d\n1\n", 4, &o, &t, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "%Q"));
    assert_non_null(strstr(err.hint, "dateformat"));
}

/* ---------------------------------------------------------------- writing */

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static void write_table(pl_table *t, pl_format fmt, const char *path) {
    pl_writer *w;
    pl_error err;
    pl_error_init(&err);
    pl_status st;
    if (fmt == PL_FORMAT_CSV) st = pl_csv_writer_open(path, t->schema, NULL, &w, &err);
    else st = pl_json_writer_open(path, t->schema, NULL, &w, &err);
    assert_int_equal(st, PL_OK);
    for (int64_t k = 0; k < t->n_batches; k++)
        assert_int_equal(w->write(w, t->batches[k], &err), PL_OK);
    assert_int_equal(w->finish(w, &err), PL_OK);
    w->free(w);
}

static void test_writer_exact_text(void **state) {
    (void)state;
    pl_table *t = read_ok("s,i,f\n\"a,b\",1,0.1\n\"\",,1e300\n,3,-0.0\n\"q\"\"x\",4,nan\n"
                          "\"n\nl\",5,1.5\na#b,6,2\n",
                          NULL);
    char path[] = "/tmp/pl_test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_table(t, PL_FORMAT_CSV, path);
    char *s = slurp(path);
    /* RFC 4180, NULL empty and unquoted, "" for the empty string; as DuckDB writes it */
    assert_string_equal(s, "s,i,f\n\"a,b\",1,0.1\n\"\",,1e+300\n,3,-0.0\n\"q\"\"x\",4,nan\n"
                           "\"n\nl\",5,1.5\n\"a#b\",6,2.0\n");
    free(s);
    write_table(t, PL_FORMAT_JSON, path);
    s = slurp(path);
    assert_string_equal(s, "{\"s\":\"a,b\",\"i\":1,\"f\":0.1}\n"
                           "{\"s\":\"\",\"i\":null,\"f\":1e+300}\n"
                           "{\"s\":null,\"i\":3,\"f\":-0.0}\n"
                           "{\"s\":\"q\\\"x\",\"i\":4,\"f\":null}\n"
                           "{\"s\":\"n\\nl\",\"i\":5,\"f\":1.5}\n"
                           "{\"s\":\"a#b\",\"i\":6,\"f\":2.0}\n");
    free(s);
    unlink(path);
    pl_table_release(t);
}

static void test_writer_round_trip(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_big(&sb, 40000, false); /* several writer pieces per batch */
    pl_csv_set_chunk_bytes_for_testing(1LL << 40);
    pl_table *t = read_ok(sb.data, NULL);
    pl_csv_set_chunk_bytes_for_testing(0);
    assert_int_equal(t->n_batches, 1);
    char path[] = "/tmp/pl_test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_table(t, PL_FORMAT_CSV, path);
    const char *paths[] = {path};
    pl_stream *s;
    assert_int_equal(pl_csv_scan_open(1, paths, NULL, &s, NULL), PL_OK);
    pl_table *back;
    assert_int_equal(pl_table_new(s->schema, &back, NULL), PL_OK);
    for (;;) {
        pl_batch *b;
        assert_int_equal(s->next(s, &b, NULL), PL_OK);
        if (!b) break;
        assert_int_equal(pl_table_append(back, b, NULL), PL_OK);
        pl_batch_release(b);
    }
    s->free(s);
    assert_true(pl_table_equals(t, back));
    unlink(path);
    pl_table_release(back);
    pl_table_release(t);
    pl_strbuf_reset(&sb);
}

/* Every allocation failure is reported as PL_ERR_NOMEM and leaks nothing (pl_alloc_fail_after
 * for n = 0, 1, 2, ... until the read succeeds). */
static void test_oom(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_big(&sb, 300, false);
    pl_csv_set_chunk_bytes_for_testing(2048); /* several chunks in parallel */
    check_oom(sb.data, sb.len, NULL, 300);
    pl_csv_set_chunk_bytes_for_testing(0);
    pl_strbuf_reset(&sb);
}

static void test_multiple_files(void **state) {
    (void)state;
    char p1[] = "/tmp/pl_test_csv_a_XXXXXX", p2[] = "/tmp/pl_test_csv_b_XXXXXX";
    close(mkstemp(p1));
    close(mkstemp(p2));
    write_file(p1, "a,b\n1,x\n2,y\n");
    write_file(p2, "a,b\n3,z\n");
    const char *paths[] = {p1, p2};
    pl_stream *s;
    assert_int_equal(pl_csv_scan_open(2, paths, NULL, &s, NULL), PL_OK);
    int64_t rows = 0;
    for (;;) {
        pl_batch *b;
        assert_int_equal(s->next(s, &b, NULL), PL_OK);
        if (!b) break;
        rows += b->n_rows;
        pl_batch_release(b);
    }
    s->free(s);
    assert_int_equal(rows, 3);
    /* a file whose columns differ */
    write_file(p2, "a,c\n3,z\n");
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_csv_scan_open(2, paths, NULL, &s, &err), PL_OK);
    pl_status st = PL_OK;
    for (;;) {
        pl_batch *b;
        st = s->next(s, &b, &err);
        if (st || !b) break;
        pl_batch_release(b);
    }
    s->free(s);
    assert_int_equal(st, PL_ERR_TYPE);
    assert_string_equal(err.path, p2);
    unlink(p1);
    unlink(p2);
}

static void test_missing_file(void **state) {
    (void)state;
    const char *paths[] = {"/nonexistent/x.csv"};
    pl_stream *s;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_csv_scan_open(1, paths, NULL, &s, &err), PL_ERR_NOT_FOUND);
    assert_string_equal(err.path, "/nonexistent/x.csv");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inference_basic),
        cmocka_unit_test(test_quotes_and_newlines),
        cmocka_unit_test(test_crlf_and_no_final_newline),
        cmocka_unit_test(test_ragged_rows),
        cmocka_unit_test(test_empty_and_header_only),
        cmocka_unit_test(test_header_sniffing),
        cmocka_unit_test(test_ignore_errors),
        cmocka_unit_test(test_ignore_errors_oom),
        cmocka_unit_test(test_date_formats),
        cmocka_unit_test(test_given_columns),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_no_header_and_delimiter),
        cmocka_unit_test(test_overrides_projection_limit),
        cmocka_unit_test(test_decimal_38_digits),
        cmocka_unit_test(test_inference_sample_miss),
        cmocka_unit_test(test_parallel_chunks_equal_single),
        cmocka_unit_test(test_parallel_chunks_stray_quotes),
        cmocka_unit_test(test_writer_exact_text),
        cmocka_unit_test(test_writer_round_trip),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_multiple_files),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
