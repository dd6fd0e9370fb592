/* test_text_src.c - unit tests for streamed compressed text input (src/io/text/text_src.c and
 * the incremental gzip / zstd decoder pl_codec_stream_* in src/io/codecs/codec.c): the decoder
 * fed and drained a few bytes at a time gives the whole-stream bytes (concatenated gzip members,
 * zero padding, concatenated zstd frames) and reports truncation and garbage with the compressed
 * offset; the CSV and JSON readers over .gz / .zst files read with windows of 1 byte up to 1 MiB
 * (so that every row, quoted multi-line field, JSON value and separator is cut somewhere) give
 * exactly the table of the same text read whole from memory, and the same error line and byte
 * offset for a bad row. */
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
#include "io/codecs/codec.h"
#include "io/csv/csv.h"
#include "io/io_int.h"
#include "io/json/json.h"
#include "io/text/text.h"
#include "io/text/text_src.h"
#include "../common/oom_loop.h"

/* ---------------------------------------------------------------- helpers */

static uint8_t *compress(pl_codec c, const char *text, int64_t n, int64_t *out_len) {
    int64_t cap = pl_codec_max_compressed(c, n);
    uint8_t *out = pl_malloc((size_t)cap);
    assert_non_null(out);
    assert_int_equal(pl_codec_compress(c, 0, (const uint8_t *)text, n, out, cap, out_len, NULL),
                     PL_OK);
    return out;
}

/* text compressed as two members / frames (split at a third), written to a new temp file. */
static void write_compressed(char *path, pl_codec c, const char *text, int64_t n) {
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int64_t cut = n / 3;
    int64_t l1, l2;
    uint8_t *a = compress(c, text, cut, &l1);
    uint8_t *b = compress(c, text + cut, n - cut, &l2);
    assert_int_equal(write(fd, a, (size_t)l1), l1);
    assert_int_equal(write(fd, b, (size_t)l2), l2);
    close(fd);
    pl_free(a);
    pl_free(b);
}

typedef pl_status (*scan_open_fn)(int32_t, const char *const *, const pl_read_opts *,
                                  pl_stream **, pl_error *);
typedef pl_status (*scan_buffer_fn)(pl_buf *, const char *, const pl_read_opts *, pl_stream **,
                                    pl_error *);

static pl_status collect(pl_stream *s, pl_status st, pl_table **out, pl_error *err) {
    PL_TRY(st);
    st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    return st;
}

static pl_status read_path(scan_open_fn open, const char *path, const pl_read_opts *o,
                           pl_table **out, pl_error *err) {
    pl_stream *s = NULL;
    return collect(s, open(1, &path, o, &s, err), out, err);
}

static pl_status read_mem(scan_buffer_fn open, const char *name, const char *text, int64_t n,
                          const pl_read_opts *o, pl_table **out, pl_error *err) {
    pl_buf *buf;
    PL_TRY(pl_buf_new(n + 1, &buf, err));
    memcpy(buf->data, text, (size_t)n);
    buf->size = n;
    pl_stream *s = NULL;
    pl_status st = open(buf, name, o, &s, err);
    pl_buf_release(buf);
    return collect(s, st, out, err);
}

static const int64_t k_windows[] = {1, 2, 3, 5, 17, 64, 1000, 1 << 20};

/* text read whole from memory, and as a gzip and a zstd file with every window size (and with
 * the parallel chunking on for the larger windows): the same table; or, for bad input, the same
 * error (status, line, byte offset, message). */
static void check_windows(scan_open_fn open, scan_buffer_fn open_buf, void (*set_chunk)(int64_t),
                          const char *text, const pl_read_opts *o) {
    int64_t n = (int64_t)strlen(text);
    pl_table *want = NULL;
    pl_error werr;
    pl_error_init(&werr);
    pl_status wst = read_mem(open_buf, "t", text, n, o, &want, &werr);
    const pl_codec codecs[] = {PL_CODEC_GZIP, PL_CODEC_ZSTD};
    for (size_t ci = 0; ci < PL_ARRAY_LEN(codecs); ci++) {
        char path[] = "/tmp/pl_test_text_src_XXXXXX";
        write_compressed(path, codecs[ci], text, n);
        for (size_t wi = 0; wi < PL_ARRAY_LEN(k_windows); wi++) {
            for (int par = 0; par < 2; par++) {
                pl_text_src_set_window_bytes_for_testing(k_windows[wi]);
                set_chunk(par ? 97 : 0);
                pl_table *got = NULL;
                pl_error err;
                pl_error_init(&err);
                pl_status st = read_path(open, path, o, &got, &err);
                pl_text_src_set_window_bytes_for_testing(0);
                set_chunk(0);
                if (st != wst)
                    fail_msg("%s window %lld: status %d (%s), whole: %d (%s)",
                             pl_codec_name(codecs[ci]), (long long)k_windows[wi], st, err.msg,
                             wst, werr.msg);
                if (st) {
                    assert_string_equal(err.msg, werr.msg);
                    assert_int_equal(err.row, werr.row);
                    assert_int_equal(err.byte_offset, werr.byte_offset);
                    assert_string_equal(err.path, path);
                    continue;
                }
                if (!pl_table_equals(want, got))
                    fail_msg("%s window %lld (parallel %d): %lld rows, whole %lld",
                             pl_codec_name(codecs[ci]), (long long)k_windows[wi], par,
                             (long long)got->n_rows, (long long)want->n_rows);
                pl_table_release(got);
            }
        }
        unlink(path);
    }
    pl_table_release(want);
}

/* ---------------------------------------------------------------- the decoder */

static void check_decoder(pl_codec c, const uint8_t *comp, int64_t clen, const char *want,
                          int64_t n, int64_t piece, int64_t out_cap) {
    pl_codec_stream *cs;
    assert_int_equal(pl_codec_stream_new(c, &cs, NULL), PL_OK);
    char *out = pl_malloc((size_t)n + 1);
    int64_t at = 0, made_all = 0, avail = piece;
    bool done = false;
    while (!done) {
        int64_t give = PL_MIN(avail, clen - at);
        int64_t cap = PL_MIN(out_cap, n + 1 - made_all);
        int64_t used, made;
        pl_error err;
        pl_error_init(&err);
        pl_status st = pl_codec_stream_run(cs, comp + at, give, at + give == clen, &used,
                                           (uint8_t *)out + made_all, cap, &made, &done, &err);
        if (st) fail_msg("%s: %s", pl_codec_name(c), err.msg);
        at += used;
        made_all += made;
        avail = used || made ? piece : avail + piece; /* no progress: more input at once */
        assert_true(made_all <= n);
    }
    assert_int_equal(made_all, n);
    assert_memory_equal(out, want, (size_t)n);
    assert_int_equal(pl_codec_stream_offset(cs), clen);
    pl_codec_stream_free(cs);
    pl_free(out);
}

static void test_decoder_pieces(void **state) {
    (void)state;
    int64_t n = 100000;
    char *text = pl_malloc((size_t)n + 1);
    uint64_t x = 7;
    for (int64_t k = 0; k < n; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        text[k] = (char)('a' + (x >> 59) % 7);
    }
    const pl_codec codecs[] = {PL_CODEC_GZIP, PL_CODEC_ZSTD};
    for (size_t ci = 0; ci < PL_ARRAY_LEN(codecs); ci++) {
        pl_codec c = codecs[ci];
        int64_t l1, l2;
        uint8_t *a = compress(c, text, n / 3, &l1);
        uint8_t *b = compress(c, text + n / 3, n - n / 3, &l2);
        int64_t clen = l1 + l2;
        uint8_t *comp = pl_malloc((size_t)clen + 16);
        memcpy(comp, a, (size_t)l1);
        memcpy(comp + l1, b, (size_t)l2);
        const int64_t pieces[] = {1, 3, 1000, 1 << 20};
        const int64_t caps[] = {1, 7, 4096, 1 << 20};
        for (size_t pi = 0; pi < PL_ARRAY_LEN(pieces); pi++)
            for (size_t k = 0; k < PL_ARRAY_LEN(caps); k++) {
                if (pieces[pi] == 1 && caps[k] == 1 && c == PL_CODEC_ZSTD) continue; /* slow */
                check_decoder(c, comp, clen, text, n, pieces[pi], caps[k]);
            }
        if (c == PL_CODEC_GZIP) { /* trailing zero padding is accepted */
            memset(comp + clen, 0, 16);
            check_decoder(c, comp, clen + 16, text, n, 5, 4096);
        }
        /* truncated: an error naming the compressed offset */
        pl_buf *outb = NULL;
        pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_codec_decompress_stream(c, comp, clen - 3, 0, &outb, &err),
                         PL_ERR_CORRUPT);
        assert_non_null(strstr(err.msg, "ends early at byte"));
        /* garbage after the stream */
        memcpy(comp + clen, "xyz", 3);
        pl_error_init(&err);
        assert_int_equal(pl_codec_decompress_stream(c, comp, clen + 3, 0, &outb, &err),
                         PL_ERR_CORRUPT);
        assert_non_null(strstr(err.msg, "byte"));
        pl_free(a);
        pl_free(b);
        pl_free(comp);
    }
    pl_free(text);
}

/* ---------------------------------------------------------------- CSV */

static void csv_chunk(int64_t n) { pl_csv_set_chunk_bytes_for_testing(n); }

static void make_csv(pl_strbuf *sb, int64_t rows, bool crlf) {
    const char *eol = crlf ? "\r\n" : "\n";
    assert_int_equal(pl_strbuf_appendf(sb, NULL, "id,val,txt,d%s", eol), PL_OK);
    uint64_t x = 99;
    for (int64_t r = 0; r < rows; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int kind = (int)(x >> 60);
        const char *txt = kind < 4    ? "\"multi\nline, \"\"quoted\"\"\r\nfield\""
                          : kind < 6  ? "\"\""
                          : kind < 9  ? "plain text"
                          : kind < 10 ? "h\xC3\xA9llo \xE2\x82\xAC" /* multi-byte UTF-8 */
                                      : "";
        if (kind == 15)
            assert_int_equal(pl_strbuf_appendf(sb, NULL, "%s", eol), PL_OK); /* blank line */
        assert_int_equal(pl_strbuf_appendf(sb, NULL, "%lld,%.6f,%s,2021-0%d-1%d%s", (long long)r,
                                           (double)(int64_t)(x >> 40) / 7.0, txt,
                                           1 + (int)((x >> 8) % 9), (int)((x >> 16) % 9), eol),
                         PL_OK);
    }
}

static void test_csv_windows(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_sample_rows = 20;
    for (int crlf = 0; crlf < 2; crlf++) {
        pl_strbuf sb = {0};
        make_csv(&sb, 300, crlf);
        check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, sb.data, &o);
        pl_strbuf_reset(&sb);
    }
    /* one row without a final newline; a header only; a quote that never closes */
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, "a,b\n1,\"x\ny\"", &o);
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, "a,b\r\n", &o);
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, "1\n2\n\n3\r\n\r\n4", &o);
    /* blank lines before the header, across windows (a fuzzer find) */
    o.csv_header = 1;
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, "\n\r", &o);
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, "\r\n\n\ra,b\n\n1,2\n", &o);
    o.csv_header = -1;
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk,
                  "a,b\n1,x\n2,y\n3,\"open\n4,z\n", &o);
}

static void test_csv_errors(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_sample_rows = 20;
    pl_strbuf sb = {0};
    make_csv(&sb, 200, false);
    /* past the sample: a value of the wrong type, then a row with a field too few */
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "abc,1.0,x,2021-01-01\n"), PL_OK);
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, sb.data, &o);
    sb.len -= 21;
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "7,1.0,\"x\nx\"\n8,1.0\n"), PL_OK);
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, sb.data, &o);
    /* ignore_errors skips the same rows */
    o.csv_ignore_errors = true;
    check_windows(pl_csv_scan_open, pl_csv_scan_buffer, csv_chunk, sb.data, &o);
    pl_strbuf_reset(&sb);
}

/* ---------------------------------------------------------------- JSON */

static void json_chunk(int64_t n) { pl_json_set_chunk_bytes_for_testing(n); }

static void make_json(pl_strbuf *sb, int64_t rows, bool array, bool pretty) {
    if (array) assert_int_equal(pl_strbuf_appendf(sb, NULL, "[\n"), PL_OK);
    uint64_t x = 5;
    for (int64_t r = 0; r < rows; r++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const char *sep = pretty ? "\n  " : " ";
        assert_int_equal(
            pl_strbuf_appendf(sb, NULL,
                              "%s{\"id\": %lld,%s\"v\": %.6f,%s\"s\": \"q\\\"\\n\\u00e9 \xE2\x82\xAC"
                              " %d\",%s\"l\": [1, {\"k\": null}, %d],%s\"b\": %s}%s",
                              array && r ? ", " : "", (long long)r, sep,
                              (double)(int64_t)(x >> 40) / 3.0, sep, (int)(x >> 58), sep,
                              (int)(x >> 60), sep, (x >> 63) ? "true" : "false",
                              array ? "\n" : "\n\n"),
            PL_OK);
    }
    if (array) assert_int_equal(pl_strbuf_appendf(sb, NULL, "]\n"), PL_OK);
}

static void test_json_windows(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_sample_rows = 10;
    for (int k = 0; k < 4; k++) {
        pl_strbuf sb = {0};
        make_json(&sb, 150, k & 1, k & 2);
        check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, sb.data, &o);
        pl_strbuf_reset(&sb);
    }
    /* scalars (one json column), a number at the very end, an array of lists, garbage after an
     * array, a value that never ends */
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk,
                  "1\n\"two\"\n[3, 4]\ntrue\nnull\n12345", &o);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, "[[1, 2], [3]]  \n", &o);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, "[{\"a\": 1}] x", &o);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk,
                  "{\"a\": 1}\n{\"a\": 2}\n{\"a\": \"x", &o);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, "", &o);
}

static void test_json_errors(void **state) {
    (void)state;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_sample_rows = 10;
    pl_strbuf sb = {0};
    make_json(&sb, 100, false, true);
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "{\"id\": \"text\"}\n"), PL_OK);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, sb.data, &o);
    sb.len -= 15;
    assert_int_equal(pl_strbuf_appendf(&sb, NULL, "{\"id\": 1,, }\n"), PL_OK);
    check_windows(pl_json_scan_open, pl_json_scan_buffer, json_chunk, sb.data, &o);
    pl_strbuf_reset(&sb);
}

/* ---------------------------------------------------------------- streams */

/* A truncated or corrupt file is an error naming the file and the compressed offset, also after
 * batches were read; an empty .gz is an empty input. */
static void test_truncated_and_empty(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_csv(&sb, 3000, false);
    int64_t clen;
    uint8_t *comp = compress(PL_CODEC_GZIP, sb.data, sb.len, &clen);
    char path[] = "/tmp/pl_test_text_src_cut_XXXXXX";
    int fd = mkstemp(path);
    assert_int_equal(write(fd, comp, (size_t)(clen - 10)), clen - 10);
    close(fd);
    pl_text_src_set_window_bytes_for_testing(4096);
    pl_table *t = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(read_path(pl_csv_scan_open, path, NULL, &t, &err), PL_ERR_CORRUPT);
    pl_text_src_set_window_bytes_for_testing(0);
    assert_string_equal(err.path, path);
    assert_non_null(strstr(err.msg, "ends early at byte"));
    unlink(path);
    pl_free(comp);
    pl_strbuf_reset(&sb);
    /* an empty .gz */
    comp = compress(PL_CODEC_GZIP, "", 0, &clen);
    char epath[] = "/tmp/pl_test_text_src_empty_XXXXXX";
    fd = mkstemp(epath);
    assert_int_equal(write(fd, comp, (size_t)clen), clen);
    close(fd);
    assert_int_equal(read_path(pl_csv_scan_open, epath, NULL, &t, NULL), PL_OK);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    assert_int_equal(read_path(pl_json_scan_open, epath, NULL, &t, NULL), PL_OK);
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    unlink(epath);
    pl_free(comp);
}

static pl_status read_csv_path(void *path, pl_table **out, pl_error *err) {
    return read_path(pl_csv_scan_open, path, NULL, out, err);
}

/* Every allocation failure while reading a compressed file in small windows is PL_ERR_NOMEM and
 * leaks nothing. */
static void test_oom(void **state) {
    (void)state;
    pl_strbuf sb = {0};
    make_csv(&sb, 40, false);
    char path[] = "/tmp/pl_test_text_src_oom_XXXXXX";
    write_compressed(path, PL_CODEC_ZSTD, sb.data, sb.len);
    pl_text_src_set_window_bytes_for_testing(100);
    check_oom_loop(read_csv_path, path, 40);
    pl_text_src_set_window_bytes_for_testing(0);
    unlink(path);
    pl_strbuf_reset(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoder_pieces),
        cmocka_unit_test(test_csv_windows),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_json_windows),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_truncated_and_empty),
        cmocka_unit_test(test_oom),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
