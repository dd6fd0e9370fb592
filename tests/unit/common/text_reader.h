/* text_reader.h - helpers of the text-reader tests (CSV, JSON): read a string through the
 * reader's scan-from-buffer entry point into a table (read_text; read_ok fails the test with
 * the formatted error), combine a table into one batch, check that every allocation failure
 * while reading gives PL_ERR_NOMEM and leaks nothing (check_oom), write a file. Define READER_SCAN_BUFFER (the
 * pl_*_scan_buffer function) and READER_NAME (the name errors carry) first; include after
 * cmocka.h and core/core.h. */
#ifndef PL_TEST_TEXT_READER_H
#define PL_TEST_TEXT_READER_H

#include <stdio.h>
#include <string.h>

#include "oom_loop.h"

static pl_status read_text(const char *text, int64_t n, const pl_read_opts *opts, pl_table **out,
                           pl_error *err) {
    pl_buf *buf;
    PL_TRY(pl_buf_new(n + 1, &buf, err));
    memcpy(buf->data, text, (size_t)n);
    buf->size = n;
    pl_stream *s;
    pl_status st = READER_SCAN_BUFFER(buf, READER_NAME, opts, &s, err);
    pl_buf_release(buf);
    PL_TRY(st);
    pl_table *t = NULL;
    st = pl_table_new(s->schema, &t, err);
    while (!st) {
        pl_batch *b;
        st = s->next(s, &b, err);
        if (st || !b) break;
        st = pl_table_append(t, b, err);
        pl_batch_release(b);
    }
    s->free(s);
    if (st) {
        pl_table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

static pl_table *read_ok(const char *text, const pl_read_opts *opts) {
    pl_error err;
    pl_error_init(&err);
    pl_table *t = NULL;
    pl_status st = read_text(text, (int64_t)strlen(text), opts, &t, &err);
    if (st) {
        char buf[1024];
        fail_msg("read failed: %s", pl_error_format(&err, buf, sizeof buf));
    }
    return t;
}

static pl_batch *combine(pl_table *t) {
    pl_batch *b = NULL;
    assert_int_equal(pl_table_combine(t, &b, NULL), PL_OK);
    return b;
}

/* PLAIN text of cell (r, c); "<NULL>" for NULL. */

typedef struct text_read_ctx {
    const char *text;
    int64_t len;
    const pl_read_opts *opts;
} text_read_ctx;

static pl_status text_read(void *ctx, pl_table **out, pl_error *err) {
    const text_read_ctx *c = ctx;
    return read_text(c->text, c->len, c->opts, out, err);
}

/* Reads text with the n-th allocation failing, n = 0, 1, ... until the read succeeds (then it
 * must give `rows` rows): each failure must be PL_ERR_NOMEM and leave no memory behind. */
static void check_oom(const char *text, int64_t len, const pl_read_opts *opts, int64_t rows) {
    text_read_ctx c = {text, len, opts};
    check_oom_loop(text_read, &c, rows);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

#endif
