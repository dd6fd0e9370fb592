/* text_reader.h - shared by the text-reader fuzz targets (CSV, JSON): read_all drains the
 * stream that `open` (a pl_*_scan_buffer) makes over buf into a table, rendering every value in
 * PLAIN and JSON style on the way; check_chunking reads data as one chunk, in chunks of
 * `small` bytes (in parallel, and sequentially on one thread) and gzip-compressed in windows of
 * `small` bytes (io/text/text_src.c: every row and value is cut by a window end somewhere) and
 * aborts when the outcomes differ, since neither chunking, threads nor windows may change what
 * is read. When the whole read succeeds, a read with a row limit must give its first rows and a
 * read with a projection its selected columns (the same values, also with ignore_errors). */
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

/* t's rows [0, k) (k < 0: all) and columns idx (NULL: all) as a new table. */
static pl_table *table_part(pl_table *t, int64_t k, int32_t n_idx, const int32_t *idx) {
    pl_batch *all = NULL, *rows = NULL, *cols = NULL;
    pl_table *out = NULL;
    if (pl_table_combine(t, &all, NULL)) return NULL;
    if (k < 0 || k > all->n_rows) k = all->n_rows;
    if (!pl_batch_slice(all, 0, k, &rows, NULL)) {
        if (!idx) cols = pl_batch_retain(rows);
        else if (pl_batch_select(rows, n_idx, idx, &cols, NULL)) cols = NULL;
    }
    if (cols && !pl_table_new(cols->schema, &out, NULL) && pl_table_append(out, cols, NULL)) {
        pl_table_release(out);
        out = NULL;
    }
    pl_batch_release(cols);
    pl_batch_release(rows);
    pl_batch_release(all);
    return out;
}

/* Aborts unless the read of buf with options o succeeds and gives want. */
static void expect_read(scan_buffer_fn open, pl_buf *buf, const pl_read_opts *o, pl_table *want) {
    if (!want) return; /* out of memory making it */
    pl_table *got = NULL;
    if (read_all(open, buf, o, &got, NULL)) abort();
    if (!pl_table_equals(want, got)) abort();
    pl_table_release(got);
    pl_table_release(want);
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
    if ((st1 == PL_OK) != (st2 == PL_OK)) abort();
    if (!st1 && !pl_table_equals(one, many)) abort();
    pl_table_release(many);
    many = NULL;
    /* the same small chunks, parsed one after the other on one thread */
    pl_read_opts seq = *o;
    seq.n_threads = 1;
    st2 = read_all(open, buf, &seq, &many, NULL);
    set_chunk_bytes(0);
    if ((st1 == PL_OK) != (st2 == PL_OK)) abort();
    if (!st1 && !pl_table_equals(one, many)) abort();
    pl_table_release(many);
    many = NULL;
    if (!st1 && o->limit < 0) {
        /* a limit keeps the first rows */
        pl_read_opts lim = *o;
        lim.limit = (int64_t)(size % 4);
        expect_read(open, buf, &lim, table_part(one, lim.limit, 0, NULL));
    }
    int32_t n_fields = st1 ? 0 : one->schema->n_fields;
    if (n_fields > 0 && !o->columns) {
        /* a projection keeps the columns (every other one from the last, backwards) */
        const char *names[8];
        int32_t idx[8], n_idx = 0;
        for (int32_t c = n_fields - 1; c >= 0 && n_idx < 8; c -= 2) {
            idx[n_idx] = c;
            names[n_idx++] = one->schema->fields[c].name;
        }
        bool unique = true; /* a name given twice is an error */
        for (int32_t a = 0; a < n_fields && unique; a++)
            for (int32_t b = a + 1; b < n_fields && unique; b++)
                unique = strcmp(one->schema->fields[a].name, one->schema->fields[b].name) != 0;
        if (unique) {
            pl_read_opts proj = *o;
            proj.columns = names;
            proj.n_columns = n_idx;
            expect_read(open, buf, &proj, table_part(one, -1, n_idx, idx));
        }
    }
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
