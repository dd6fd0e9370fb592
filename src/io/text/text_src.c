/* text_src.c - text inputs for the CSV and JSON readers (text_src.h): plain files mapped whole,
 * buffers, and gzip / zstd files decompressed one window at a time.
 *
 * Invariants: a compressed input's window never holds more than the unconsumed bytes plus one
 * refill (PL_TEXT_WINDOW_BYTES, or twice the window for a record that does not fit), so a
 * scan's memory is bounded by the window and the batches made from it, not by the file. The
 * compressed file itself is mapped; the pages decompressed so far leave the address space after
 * every refill. base and lines_before let readers report input offsets and line numbers. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/text/text_src.h"

static int64_t g_test_window_bytes;

void pl_text_src_set_window_bytes_for_testing(int64_t n_bytes) { g_test_window_bytes = n_bytes; }

/* The window a refill aims at: PL_TEXT_WINDOW_BYTES, or the test hook's, or the environment's
 * PL_TEXT_WINDOW_BYTES (tests that put chunk boundaries everywhere). */
static int64_t window_bytes(void) {
    if (g_test_window_bytes > 0) return g_test_window_bytes;
    const char *e = getenv("PL_TEXT_WINDOW_BYTES");
    long long v = e ? atoll(e) : 0;
    return v > 0 ? (int64_t)v : PL_TEXT_WINDOW_BYTES;
}


void pl_text_src_close(pl_text_src *s) {
    pl_buf_release(s->win);
    pl_buf_release(s->raw);
    pl_codec_stream_free(s->cs);
    memset(s, 0, sizeof *s);
    s->slot = s->raw_slot = -1;
}

static int64_t count_newlines(const uint8_t *p, int64_t n) {
    int64_t cnt = 0;
    const uint8_t *end = p + n;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) break;
        cnt++;
        p = nl + 1;
    }
    return cnt;
}

int64_t pl_text_src_line(const pl_text_src *s, int64_t off) {
    int64_t n = s->win ? PL_MIN(off, s->win->size) : 0;
    return s->lines_before + 1 + (n > 0 ? count_newlines(s->win->data, n) : 0);
}

/* Decompresses into the window until it holds `target` bytes or the stream ends. */
static pl_status fill(pl_text_src *s, int64_t target, pl_error *err) {
    pl_buf *w = s->win;
    if (w->capacity < target) PL_TRY(pl_buf_reserve(w, target, err));
    while (!s->eof && w->size < target) {
        int64_t used, made;
        bool done;
        pl_status st = pl_codec_stream_run(s->cs, s->raw->data + s->raw_pos,
                                           s->raw->size - s->raw_pos, true, &used,
                                           w->data + w->size, target - w->size, &made, &done, err);
        if (st && s->raw_slot >= 0 && pl_file_map_lost(s->raw_slot)) break; /* zeros read */
        PL_TRY(st);
        s->raw_pos += used;
        w->size += made;
        s->eof = done;
        if (!done && !used && !made)
            PL_FAIL(err, PL_ERR_INTERNAL, "the decompressor made no progress at byte %lld",
                    (long long)s->raw_pos);
    }
    /* the compressed pages read so far leave the address space (they stay in the page cache) */
    if (s->raw_slot >= 0 && s->raw_pos > 0) pl_file_map_drop(s->raw->data, (size_t)s->raw_pos);
    if (s->raw_slot >= 0 && pl_file_map_lost(s->raw_slot)) {
        pl_error_init(err);
        PL_FAIL(err, PL_ERR_IO, "file changed while it was being read");
    }
    return PL_OK;
}

static pl_status named(const pl_text_src *s, pl_status st, pl_error *err) {
    if (st) pl_error_set_path(err, s->name);
    return st;
}

/* s over raw (taken): plain bytes whole, or a compressed stream's first window. */
static pl_status open_raw(pl_text_src *s, pl_buf *raw, int32_t slot, const char *name,
                          pl_error *err) {
    memset(s, 0, sizeof *s);
    s->slot = s->raw_slot = -1;
    s->name = name;
    pl_codec c = pl_codec_sniff_stream(raw->data, raw->size);
    if (c == PL_CODEC_UNCOMPRESSED) {
        s->win = raw;
        s->slot = slot;
        s->eof = true;
        return PL_OK;
    }
    s->raw = raw;
    s->raw_slot = slot;
    pl_status st = pl_codec_stream_new(c, &s->cs, err);
    if (!st) st = pl_buf_new(window_bytes(), &s->win, err);
    if (!st) st = fill(s, window_bytes(), err);
    if (st) {
        named(s, st, err);
        pl_text_src_close(s);
        s->name = name;
    }
    return st;
}

pl_status pl_text_src_open(pl_text_src *s, const char *path, pl_error *err) {
    pl_buf *raw = NULL;
    int32_t slot = -1;
    memset(s, 0, sizeof *s);
    s->slot = s->raw_slot = -1;
    s->name = path;
    PL_TRY(pl_file_load(path, &raw, &slot, err));
    return open_raw(s, raw, slot, path, err);
}

pl_status pl_text_src_open_buf(pl_text_src *s, pl_buf *buf, const char *name, pl_error *err) {
    return open_raw(s, pl_buf_retain(buf), -1, name, err);
}

pl_status pl_text_src_next(pl_text_src *s, int64_t consumed, bool grow, pl_error *err) {
    pl_buf *w = s->win;
    if (consumed > w->size) consumed = w->size;
    s->lines_before += count_newlines(w->data, consumed);
    s->base += consumed;
    memmove(w->data, w->data + consumed, (size_t)(w->size - consumed));
    w->size -= consumed;
    int64_t target = window_bytes();
    if (grow) {
        target = PL_MAX(target, w->size * 2);
        target = PL_MAX(target, 64);
        if (w->size >= PL_TEXT_MAX_RECORD_BYTES) {
            pl_error_set_path(err, s->name);
            pl_error_set(err, PL_ERR_LIMIT, "a record longer than %lld bytes (an unterminated "
                         "quote or string?)", (long long)PL_TEXT_MAX_RECORD_BYTES);
            if (err) {
                err->row = s->lines_before + 1;
                err->byte_offset = s->base;
            }
            return PL_ERR_LIMIT;
        }
    }
    return named(s, fill(s, target, err), err);
}

pl_status pl_text_input_open(pl_text_src *s, pl_buf *mem, char *const *paths, int32_t idx,
                             const char **name, pl_error *err) {
    pl_text_src_close(s);
    if (mem) return pl_text_src_open_buf(s, mem, *name, err);
    *name = paths[idx];
    return pl_text_src_open(s, paths[idx], err);
}

pl_status pl_text_input_next(pl_text_src *s, int64_t *pos, pl_buf **cur, pl_error *err) {
    PL_TRY(pl_text_src_next(s, *pos, *pos == 0, err));
    *pos = 0;
    *cur = s->win;
    return PL_OK;
}

pl_status pl_text_input_skip_bom(pl_text_src *s, int64_t *pos, pl_buf **cur, pl_error *err) {
    *pos = 0;
    *cur = s->win;
    while (s->win->size < 3 && !s->eof) PL_TRY(pl_text_input_next(s, pos, cur, err));
    if (s->win->size >= 3 && memcmp(s->win->data, "\xEF\xBB\xBF", 3) == 0) *pos = 3;
    return PL_OK;
}
