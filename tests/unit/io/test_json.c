/* test_json.c - unit tests for the JSON reader (src/io/json/json_read.c): type inference
 * (numbers, NULL-only keys, nested objects and arrays, mixed values as JSON text, ISO
 * dates/timestamps/times), string escapes and surrogate pairs, the array format and its
 * detection, top-level scalars, malformed input (truncation, bad escapes, lone surrogates,
 * invalid UTF-8, control characters, duplicate keys, nesting depth) with line and byte offset,
 * keys outside the sample, explicit columns, projection and limit, parallel chunking equal to a
 * single chunk (also for records spanning lines), OOM, and JSON writer -> reader round trips.
 * Expectations follow RFC 8259 and what DuckDB's read_json gives for the same text. */
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
#include "io/io_int.h"
#include "io/json/json.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- helpers */

#define READER_SCAN_BUFFER pl_json_scan_buffer
#define READER_NAME "t.json"
#include "../common/text_reader.h"

/* Reads text that must fail; returns the status, err filled. */
static pl_status read_bad(const char *text, int64_t n, const pl_read_opts *opts, pl_error *err) {
    pl_error_init(err);
    pl_table *t = NULL;
    pl_status st = read_text(text, n < 0 ? (int64_t)strlen(text) : n, opts, &t, err);
    if (!st) {
        pl_table_release(t);
        fail_msg("read of bad input succeeded: %s", text);
    }
    return st;
}

/* JSON-style text of cell (r, c) ("null" for NULL), so strings show their quotes. */
static const char *cell(pl_batch *b, int32_t c, int64_t r) {
    static char out[4096];
    pl_strbuf sb = {0};
    assert_int_equal(pl_text_format_value(b->columns[c], r, PL_TEXT_JSON, &sb, NULL), PL_OK);
    snprintf(out, sizeof out, "%s", sb.data ? sb.data : "");
    pl_strbuf_reset(&sb);
    return out;
}

static const char *type_of(pl_batch *b, int32_t c) {
    static char out[256];
    return pl_type_to_string(b->schema->fields[c].type, out, sizeof out);
}

/* ---------------------------------------------------------------- inference */

static void test_inference_scalars(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"i\": 1, \"f\": 1.5, \"b\": true, \"s\": \"x\", \"n\": null, \"m\": 1}\n"
                          "{\"i\": -7, \"f\": 2, \"b\": false, \"s\": \"y\", \"n\": null, \"m\": 2.5}\n"
                          "{\"i\": null, \"f\": -0.0, \"z\": 3}\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 3);
    assert_int_equal(b->n_cols, 7);
    assert_string_equal(type_of(b, 0), "int64");
    assert_string_equal(type_of(b, 1), "float64");
    assert_string_equal(type_of(b, 2), "bool");
    assert_string_equal(type_of(b, 3), "utf8");
    assert_int_equal(b->schema->fields[4].type->id, PL_TYPE_NA);
    assert_string_equal(type_of(b, 5), "float64");
    assert_string_equal(b->schema->fields[6].name, "z");
    assert_string_equal(cell(b, 0, 1), "-7");
    assert_string_equal(cell(b, 0, 2), "null");
    assert_string_equal(cell(b, 1, 1), "2.0");
    assert_string_equal(cell(b, 2, 1), "false");
    assert_string_equal(cell(b, 3, 1), "\"y\"");
    assert_string_equal(cell(b, 3, 2), "null");
    assert_string_equal(cell(b, 6, 0), "null");
    assert_string_equal(cell(b, 6, 2), "3");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_inference_numbers(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"a\": 9223372036854775807, \"b\": 1, \"c\": 1e400, \"d\": 0}\n"
                          "{\"a\": -9223372036854775808, \"b\": 9223372036854775808, \"c\": 1E2, "
                          "\"d\": 123456789.125}\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_string_equal(type_of(b, 0), "int64");
    assert_string_equal(cell(b, 0, 0), "9223372036854775807");
    assert_string_equal(cell(b, 0, 1), "-9223372036854775808");
    /* beyond int64 within uint64: DuckDB's HUGEINT, decimal128(38, 0) here */
    assert_string_equal(type_of(b, 1), "decimal128(38, 0)");
    assert_string_equal(cell(b, 1, 1), "9223372036854775808");
    assert_string_equal(cell(b, 2, 1), "100.0");
    assert_string_equal(cell(b, 3, 1), "123456789.125");
    pl_batch_release(b);
    pl_table_release(t);
    /* beyond uint64 (or below int64): float64 */
    t = read_ok("{\"a\": 18446744073709551615, \"b\": -9223372036854775809}\n"
                "{\"a\": 18446744073709551616, \"b\": 1}\n", NULL);
    b = combine(t);
    assert_string_equal(type_of(b, 0), "float64");
    assert_string_equal(type_of(b, 1), "float64");
    assert_string_equal(cell(b, 0, 1), "1.8446744073709552e+19");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_inference_nested(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"a\": {\"c\": [{\"d\": 1}, {\"d\": 2, \"e\": \"x\"}]}, \"l\": [[1], []]}\n"
                          "{\"a\": null, \"l\": null}\n"
                          "{\"a\": {\"c\": null, \"f\": true}, \"l\": [[null, 3]]}\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_string_equal(type_of(b, 0), "struct<c: list<struct<d: int64, e: utf8>>, f: bool>");
    assert_string_equal(type_of(b, 1), "list<list<int64>>");
    assert_string_equal(cell(b, 0, 0), "{\"c\":[{\"d\":1,\"e\":null},{\"d\":2,\"e\":\"x\"}],\"f\":null}");
    assert_string_equal(cell(b, 0, 1), "null");
    assert_string_equal(cell(b, 0, 2), "{\"c\":null,\"f\":true}");
    assert_string_equal(cell(b, 1, 0), "[[1],[]]");
    assert_string_equal(cell(b, 1, 2), "[[null,3]]");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_mixed_json_text(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"m\": [1, {\"x\": 2}], \"l\": [1, \"a\"], \"e\": {}, \"ea\": []}\n"
                          "{\"m\": \"a\\\"b\\u00e9\\n\", \"l\": [true], \"e\": {}, \"ea\": []}\n"
                          "{\"m\": [1e3, 1.50, -0, 1e20, 1.5e-7, 2.5E-5, 1e21, 12345678901234567890123],"
                          " \"l\": [], \"e\": {}, \"ea\": []}\n",
                          NULL);
    pl_batch *b = combine(t);
    /* the JSON type (utf8 text tagged JSON), as DuckDB infers it */
    assert_string_equal(type_of(b, 0), "json");
    assert_string_equal(type_of(b, 1), "list<json>");
    assert_string_equal(type_of(b, 2), "map<utf8, json>");
    assert_string_equal(type_of(b, 3), "list<json>");
    /* JSON text: compact, strings keep their quotes, numbers normalised like DuckDB's JSON */
    assert_string_equal(cell(b, 0, 0), "\"[1,{\\\"x\\\":2}]\"");
    assert_string_equal(cell(b, 0, 1), "\"\\\"a\\\\\\\"b\xc3\xa9\\\\n\\\"\"");
    assert_string_equal(cell(b, 0, 2), "\"[1000.0,1.5,0,100000000000000000000.0,1.5e-7,0.000025,"
                                       "1e21,12345678901234567890123]\"");
    assert_string_equal(cell(b, 1, 0), "[\"1\",\"\\\"a\\\"\"]");
    assert_string_equal(cell(b, 2, 2), "{}");
    assert_string_equal(cell(b, 3, 2), "[]");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_temporal(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"d\": \"2024-01-02\", \"ts\": \"2024-01-02 03:04:05\", "
                          "\"tz\": \"2024-01-02T03:04:05Z\", \"t\": \"10:11:12\", "
                          "\"mix\": \"2024-01-02\", \"bad\": \"2024-02-30\", \"tf\": \"2024-01-02T03:04:05.5\"}\n"
                          "{\"d\": \"2024-2-3\", \"ts\": \"1969-12-31 23:59:59\", "
                          "\"tz\": \"2024-01-02 03:04:05+01:30\", \"t\": \"1:02\", "
                          "\"mix\": \"2024-01-02 03:04:05\", \"bad\": \"2024-01-01\", \"tf\": null}\n",
                          NULL);
    pl_batch *b = combine(t);
    assert_string_equal(type_of(b, 0), "date32");
    assert_string_equal(type_of(b, 1), "timestamp[us]");
    assert_string_equal(type_of(b, 2), "timestamp[us, UTC]");
    assert_string_equal(type_of(b, 3), "time64[us]");
    assert_string_equal(type_of(b, 4), "utf8"); /* dates and timestamps mixed */
    assert_string_equal(type_of(b, 5), "utf8"); /* not a valid date */
    assert_string_equal(type_of(b, 6), "utf8"); /* 'T' with a fraction: not DuckDB's formats */
    assert_string_equal(cell(b, 0, 1), "\"2024-02-03\"");
    assert_string_equal(cell(b, 1, 1), "\"1969-12-31 23:59:59\"");
    assert_string_equal(cell(b, 2, 1), "\"2024-01-02 01:34:05+00\"");
    assert_string_equal(cell(b, 3, 1), "\"01:02:00\"");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_strings_escapes(void **state) {
    (void)state;
    pl_table *t = read_ok("{\"s\": \"\\u00e9\\u4e2d\\ud83d\\ude00\\t\\\"\\\\\\/\\b\\f\\r\\u0001\"}\n"
                          "{\"s\": \"raw \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80 long enough for eight-byte steps\"}\n",
                          NULL);
    pl_batch *b = combine(t);
    int32_t len;
    const uint8_t *p = pl_array_bytes(b->columns[0], 0, &len);
    const char want[] = "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80\t\"\\/\b\f\r\x01";
    assert_int_equal(len, (int32_t)sizeof want - 1);
    assert_memory_equal(p, want, sizeof want - 1);
    assert_string_equal(cell(b, 0, 1),
                        "\"raw \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80 long enough for eight-byte steps\"");
    pl_batch_release(b);
    pl_table_release(t);
}

static void test_formats(void **state) {
    (void)state;
    /* a top-level array of objects, pretty-printed */
    pl_table *t = read_ok(" [\n {\"a\": 1},\n {\"a\": 2, \"b\": \"x\"}\n ]\n", NULL);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 2);
    assert_int_equal(b->n_cols, 2);
    assert_string_equal(cell(b, 1, 1), "\"x\"");
    pl_batch_release(b);
    pl_table_release(t);
    /* arrays one per line are newline-delimited values */
    t = read_ok("[1,2]\n[3]\n", NULL);
    b = combine(t);
    assert_int_equal(b->n_rows, 2);
    assert_string_equal(b->schema->fields[0].name, "json");
    assert_string_equal(type_of(b, 0), "list<int64>");
    pl_batch_release(b);
    pl_table_release(t);
    /* one array of scalars: its elements are the rows */
    t = read_ok("[1, 2.5, 3]", NULL);
    b = combine(t);
    assert_int_equal(b->n_rows, 3);
    assert_string_equal(type_of(b, 0), "float64");
    pl_batch_release(b);
    pl_table_release(t);
    /* top-level scalars, blank lines, CRLF, BOM, no final newline */
    t = read_ok("\xEF\xBB\xBF" "1\r\n\r\n  \n\"x\"\r\nnull", NULL);
    b = combine(t);
    assert_int_equal(b->n_rows, 3);
    assert_string_equal(cell(b, 0, 0), "\"1\"");
    assert_string_equal(cell(b, 0, 1), "\"\\\"x\\\"\"");
    assert_string_equal(cell(b, 0, 2), "null");
    pl_batch_release(b);
    pl_table_release(t);
    /* records=false: objects as one struct column */
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_records = 0;
    t = read_ok("{\"a\": 1}\n{\"b\": 2}\n", &o);
    b = combine(t);
    assert_int_equal(b->n_cols, 1);
    assert_string_equal(type_of(b, 0), "struct<a: int64, b: int64>");
    pl_batch_release(b);
    pl_table_release(t);
    /* empty input, empty array */
    t = read_ok("", NULL);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    t = read_ok("[]", NULL);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    /* explicit array format on newline-delimited text fails */
    o.json_records = -1;
    o.json_format = PL_JSON_ARRAY;
    pl_error err;
    assert_int_equal(read_bad("{\"a\": 1}\n", -1, &o, &err), PL_ERR_CORRUPT);
}

/* ---------------------------------------------------------------- errors */

static void expect_error(const char *text, int64_t n, pl_status code, const char *needle,
                         int64_t line, int64_t byte) {
    pl_error err;
    pl_status st = read_bad(text, n, NULL, &err);
    if (st != code || !strstr(err.msg, needle) || (line >= 0 && err.row != line) ||
        (byte >= 0 && err.byte_offset != byte))
        fail_msg("for %s: got status %d, row %lld, byte %lld: %s", text, st, (long long)err.row,
                 (long long)err.byte_offset, err.msg);
    assert_string_equal(err.path, "t.json");
}

static void test_errors(void **state) {
    (void)state;
    expect_error("{\"a\": 1}\n{\"a\": 2\n", -1, PL_ERR_CORRUPT, "expected ',' or '}'", 3, 17);
    expect_error("{\"a\": tru}\n", -1, PL_ERR_CORRUPT, "expected a JSON value", 1, 6);
    expect_error("{\"a\": \"\\ud800\"}\n", -1, PL_ERR_CORRUPT, "without a low surrogate", 1, 7);
    expect_error("{\"a\": \"\\udc00\"}\n", -1, PL_ERR_CORRUPT, "unpaired low surrogate", 1, 7);
    expect_error("{\"a\": \"\\ud800\\u0041\"}\n", -1, PL_ERR_CORRUPT, "without a low surrogate", 1, 7);
    expect_error("{\"a\": \"\\u12g4\"}\n", -1, PL_ERR_CORRUPT, "invalid \\u escape", 1, 9);
    expect_error("{\"a\": \"\\q\"}\n", -1, PL_ERR_CORRUPT, "invalid escape", 1, 7);
    expect_error("{\"a\": \"x\ty\"}\n", -1, PL_ERR_CORRUPT, "control character", 1, 8);
    expect_error("{\"a\": \"ok\"}\n{\"a\": \"\xff\"}\n", -1, PL_ERR_CORRUPT, "invalid UTF-8", 2, 18);
    expect_error("{\"a\": \"\xc3\"}\n", -1, PL_ERR_CORRUPT, "invalid UTF-8", 1, 6);
    expect_error("{\"a\": \"unterminated", -1, PL_ERR_CORRUPT, "unterminated string", 1, 6);
    expect_error("{\"a\": \"line\nbreak\"}", -1, PL_ERR_CORRUPT, "control character 0x0A", 1, 11);
    expect_error("{\"a\": 1, \"a\": 2}\n", -1, PL_ERR_CORRUPT, "duplicate key \"a\"", 1, 9);
    expect_error("{\"a\": 01}\n", -1, PL_ERR_CORRUPT, "leading zero", 1, 7);
    expect_error("{\"a\": 1.}\n", -1, PL_ERR_CORRUPT, "digit after the decimal point", 1, 8);
    expect_error("{\"a\": -}\n", -1, PL_ERR_CORRUPT, "a digit", 1, 7);
    expect_error("{\"a\": 1e}\n", -1, PL_ERR_CORRUPT, "exponent", 1, 8);
    expect_error("[{\"a\": 1},]", -1, PL_ERR_CORRUPT, "expected", 1, 10);
    expect_error("[{\"a\": 1}] x", -1, PL_ERR_CORRUPT, "after the top-level array", 1, 11);
    expect_error("[{\"a\": 1}", -1, PL_ERR_CORRUPT, "closing the top-level array", 1, 9);
    /* a NUL byte inside a value */
    expect_error("{\"a\": \"x\0\"}\n", 11, PL_ERR_CORRUPT, "control character", 1, 8);
    /* nesting deeper than the limit is an error, not a stack overflow */
    pl_strbuf sb = {0};
    for (int k = 0; k < 100000; k++) assert_int_equal(pl_strbuf_append(&sb, "[", 1, NULL), PL_OK);
    expect_error(sb.data, sb.len, PL_ERR_LIMIT, "nesting deeper", 1, -1);
    pl_strbuf_reset(&sb);
}

static void test_type_errors_after_sample(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_sample_rows = 1;
    pl_error err;
    assert_int_equal(read_bad("{\"a\": 1}\n{\"a\": 2, \"z\": 9}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "unknown key \"z\""));
    assert_int_equal(err.row, 2);
    assert_non_null(strstr(err.hint, "sample_size"));
    assert_int_equal(read_bad("{\"a\": 1}\n{\"a\": \"x\"}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "cannot read a string as int64"));
    assert_string_equal(err.column_name, "a");
    assert_int_equal(read_bad("{\"a\": 1}\n{\"a\": 1.5}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_int_equal(read_bad("{\"a\": \"2024-01-01\"}\n{\"a\": \"x\"}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "cannot read \"x\" as date32"));
    assert_int_equal(read_bad("{\"a\": [1]}\n{\"a\": {}}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_int_equal(read_bad("{\"a\": null}\n{\"a\": 1}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_int_equal(read_bad("{\"a\": 1}\n[1]\n", -1, &o, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "expected an object"));
    /* a text column takes other values as their JSON text */
    pl_table *t = read_ok("{\"a\": \"x\"}\n{\"a\": [1, 2]}\n", &o);
    pl_batch *b = combine(t);
    assert_string_equal(cell(b, 0, 1), "\"[1,2]\"");
    pl_batch_release(b);
    pl_table_release(t);
}

/* ---------------------------------------------------------------- options */

static void test_columns_projection_limit(void **state) {
    (void)state;
    const char *text = "{\"a\": 1, \"b\": \"x\", \"c\": [1]}\n{\"b\": \"y\", \"a\": 2}\n"
                       "{\"a\": 3, \"zz\": {\"q\": 1}}\n";
    pl_read_opts o;
    pl_read_opts_init(&o);
    const char *names[] = {"c", "a"};
    o.columns = names;
    o.n_columns = 2;
    o.json_sample_rows = 2;
    /* the projection skips the unread key "zz" only if it is known: it is not, so an error */
    pl_error err;
    assert_int_equal(read_bad(text, -1, &o, &err), PL_ERR_TYPE);
    o.json_sample_rows = 0;
    pl_table *t = read_ok(text, &o);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_cols, 2);
    assert_string_equal(b->schema->fields[0].name, "c");
    assert_string_equal(cell(b, 0, 0), "[1]");
    assert_string_equal(cell(b, 1, 2), "3");
    pl_batch_release(b);
    pl_table_release(t);
    o.limit = 2;
    t = read_ok(text, &o);
    assert_int_equal(t->n_rows, 2);
    pl_table_release(t);
    /* explicit columns: no inference, unknown keys skipped, range checks */
    pl_read_opts_init(&o);
    const char *cn[] = {"a", "b"};
    pl_type *ct[] = {pl_type_simple(PL_TYPE_INT8), pl_type_simple(PL_TYPE_UTF8)};
    o.json_column_names = cn;
    o.json_column_types = ct;
    o.n_json_columns = 2;
    t = read_ok(text, &o);
    b = combine(t);
    assert_string_equal(type_of(b, 0), "int8");
    assert_string_equal(cell(b, 1, 1), "\"y\"");
    assert_string_equal(cell(b, 1, 2), "null");
    pl_batch_release(b);
    pl_table_release(t);
    assert_int_equal(read_bad("{\"a\": 300}\n", -1, &o, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "out of range"));
}

/* ---------------------------------------------------------------- chunking */

static void make_big(pl_strbuf *sb, int n, bool pretty) {
    for (int i = 0; i < n; i++) {
        const char *nl = pretty ? "\n  " : " ";
        assert_int_equal(pl_strbuf_appendf(sb, NULL,
                                           "{%s\"id\": %d,%s\"px\": %d.%d,%s\"s\": \"v\\u00e9%d\",%s"
                                           "\"l\": [%d, %d],%s\"o\": {\"k\": %s}}\n",
                                           nl, i, nl, i, i % 10, nl, i, nl, i, i * 2, nl,
                                           i % 3 ? "null" : "true"),
                         PL_OK);
    }
}

static void check_chunking(bool pretty) {
    pl_strbuf sb = {0};
    make_big(&sb, 3000, pretty);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.n_threads = 1;
    pl_table *one = read_ok(sb.data, &o);
    assert_int_equal(one->n_rows, 3000);
    o.n_threads = 4;
    for (int64_t cb = 7; cb < 20000; cb = cb * 3 + 1) {
        pl_json_set_chunk_bytes_for_testing(cb);
        pl_table *many = read_ok(sb.data, &o);
        assert_true(pl_table_equals(one, many));
        pl_table_release(many);
    }
    pl_json_set_chunk_bytes_for_testing(0);
    pl_table_release(one);
    pl_strbuf_reset(&sb);
}

static void test_chunking(void **state) {
    (void)state;
    check_chunking(false);
    check_chunking(true); /* records spanning lines: the reader falls back to sequential */
}

/* An error in a later chunk is reported with its true line. */
static void test_chunked_error_line(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_big(&sb, 2000, false);
    const char *bad = "{\"id\": 1, \"px\": x}\n";
    assert_int_equal(pl_strbuf_append(&sb, bad, (int64_t)strlen(bad), NULL), PL_OK);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.n_threads = 4;
    pl_json_set_chunk_bytes_for_testing(4096);
    pl_error err;
    assert_int_equal(read_bad(sb.data, sb.len, &o, &err), PL_ERR_CORRUPT);
    assert_int_equal(err.row, 2001);
    pl_json_set_chunk_bytes_for_testing(0);
    pl_strbuf_reset(&sb);
}

static void test_oom(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_big(&sb, 200, false);
    const char *last = "{\"id\": 1, \"s\": \"\\n\", \"l\": [\"x\", 1]}\n";
    assert_int_equal(pl_strbuf_append(&sb, last, (int64_t)strlen(last), NULL), PL_OK);
    pl_json_set_chunk_bytes_for_testing(2048);
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.n_threads = 2;
    check_oom(sb.data, sb.len, &o, 201);
    pl_json_set_chunk_bytes_for_testing(0);
    pl_strbuf_reset(&sb);
}

/* ---------------------------------------------------------------- files, round trip */

static void test_files(void **state) {
    (void)state;
    char p1[] = "/tmp/pl_test_json_a_XXXXXX", p2[] = "/tmp/pl_test_json_b_XXXXXX";
    close(mkstemp(p1));
    close(mkstemp(p2));
    write_file(p1, "{\"a\": 1}\n{\"a\": 2}\n");
    write_file(p2, "[{\"a\": 3, \"b\": \"x\"}]");
    const char *paths[] = {p1, p2};
    pl_table *t = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_read_table(2, paths, PL_FORMAT_JSON, NULL, &t, &err), PL_OK);
    pl_batch *b = combine(t);
    assert_int_equal(b->n_rows, 3);
    assert_int_equal(b->n_cols, 2); /* the sample spans both files */
    assert_string_equal(cell(b, 1, 2), "\"x\"");
    pl_batch_release(b);
    pl_table_release(t);
    /* an error in the second file names it */
    write_file(p2, "{\"a\": }");
    pl_error_init(&err);
    assert_int_equal(pl_read_table(2, paths, PL_FORMAT_JSON, NULL, &t, &err), PL_ERR_CORRUPT);
    assert_string_equal(err.path, p2);
    unlink(p1);
    unlink(p2);
}

static void test_round_trip(void **state) {
    (void)state;
    const char *text = "{\"i\": 1, \"f\": 0.1, \"s\": \"q\\\"\\\\\\n\\u00e9\\ud83d\\ude00\", \"b\": true, "
                       "\"l\": [1, null], \"o\": {\"x\": 1.5, \"y\": [\"a\"]}, \"d\": \"2024-02-29\", "
                       "\"ts\": \"2024-02-29 12:00:00\"}\n"
                       "{\"i\": null, \"f\": -1e300, \"s\": null, \"b\": false, \"l\": [], "
                       "\"o\": null, \"d\": null, \"ts\": \"1900-01-01 00:00:00\"}\n";
    pl_table *t = read_ok(text, NULL);
    char path[] = "/tmp/pl_test_json_rt_XXXXXX";
    close(mkstemp(path));
    pl_stream *s;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_stream_from_table(t, &s, &err), PL_OK);
    assert_int_equal(pl_write_stream(s, path, PL_FORMAT_JSON, NULL, &err), PL_OK);
    pl_stream_free(s);
    const char *paths[] = {path};
    pl_table *back = NULL;
    assert_int_equal(pl_read_table(1, paths, PL_FORMAT_JSON, NULL, &back, &err), PL_OK);
    assert_true(pl_schema_equals(t->schema, back->schema));
    assert_true(pl_table_equals(t, back));
    pl_table_release(back);
    pl_table_release(t);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inference_scalars),
        cmocka_unit_test(test_inference_numbers),
        cmocka_unit_test(test_inference_nested),
        cmocka_unit_test(test_mixed_json_text),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_strings_escapes),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_type_errors_after_sample),
        cmocka_unit_test(test_columns_projection_limit),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_chunked_error_line),
        cmocka_unit_test(test_oom),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
