/* text_reader.h - shared by the text-reader fuzz targets (CSV, JSON): read_all drains the
 * stream that `open` (a pl_*_scan_buffer) makes over buf into a table, rendering every value in
 * PLAIN and JSON style on the way; check_chunking reads data as one chunk, in chunks of
 * `small` bytes and gzip-compressed in windows of `small` bytes (io/text/text_src.c: every
 * row and value is cut by a window end somewhere) and aborts when the outcomes differ, since
 * neither chunking nor windows may change what is read. */
#ifndef PL_FUZZ_TEXT_READER_H
#define PL_FUZZ_TEXT_READER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/codecs/codec.h"
#include "io/text/text.h"
#include "io/text/text_src.h"

typedef pl_status (*scan_buffer_fn)(pl_buf *buf, const char *name, const pl_read_opts *opts,
                                    pl_stream **out, pl_error *err);

static pl_status read_all(scan_buffer_fn open, pl_buf *buf, const pl_read_opts *o,
                          pl_table **out, pl_error *err) {
    pl_stream *s;
    PL_TRY(open(buf, "fuzz", o, &s, err));
    pl_table *t = NULL;
    pl_status st = pl_table_new(s->schema, &t, err);
    if (st) {
        s->free(s);
        return st;
    }
    pl_strbuf sb = {0};
    while (!st) {
        pl_batch *b;
        st = s->next(s, &b, err);
        if (st || !b) break;
        for (int32_t c = 0; c < b->n_cols && !st; c++)
            for (int64_t r = 0; r < b->n_rows && !st; r++) {
                sb.len = 0;
                st = pl_text_format_value(b->columns[c], r, PL_TEXT_PLAIN, &sb, err);
                if (!st) st = pl_text_format_value(b->columns[c], r, PL_TEXT_JSON, &sb, err);
            }
        if (!st) st = pl_table_append(t, b, err);
        pl_batch_release(b);
    }
    pl_strbuf_reset(&sb);
    s->free(s);
    if (st) {
        pl_table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

static void check_chunking(const uint8_t *data, size_t size, scan_buffer_fn open,
                           void (*set_chunk_bytes)(int64_t), const pl_read_opts *o,
                           int64_t small) {
    pl_buf *buf;
    if (pl_buf_new((int64_t)size + 1, &buf, NULL)) return;
    if (size) memcpy(buf->data, data, size);
    buf->size = (int64_t)size;
    pl_table *one = NULL, *many = NULL;
    set_chunk_bytes(1LL << 40);
    pl_status st1 = read_all(open, buf, o, &one, NULL);
    set_chunk_bytes(small);
    pl_status st2 = read_all(open, buf, o, &many, NULL);
    set_chunk_bytes(0);
    if ((st1 == PL_OK) != (st2 == PL_OK)) abort();
    if (!st1 && !pl_table_equals(one, many)) abort();
    pl_table_release(many);
    many = NULL;
    /* the same bytes as a gzip stream read in tiny windows */
    pl_buf *gz = NULL;
    int64_t cap = pl_codec_max_compressed(PL_CODEC_GZIP, (int64_t)size);
    if (size > 0 && pl_codec_sniff_stream(buf->data, buf->size) == PL_CODEC_UNCOMPRESSED &&
        !pl_buf_new(cap, &gz, NULL) &&
        !pl_codec_compress(PL_CODEC_GZIP, 1, buf->data, (int64_t)size, gz->data, cap, &gz->size,
                           NULL)) {
        pl_text_src_set_window_bytes_for_testing(small);
        pl_status st3 = read_all(open, gz, o, &many, NULL);
        pl_text_src_set_window_bytes_for_testing(0);
        if ((st1 == PL_OK) != (st3 == PL_OK)) abort();
        if (!st1 && !pl_table_equals(one, many)) abort();
        pl_table_release(many);
    }
    pl_buf_release(gz);
    pl_table_release(one);
    pl_buf_release(buf);
}

#endif
