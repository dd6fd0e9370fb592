/* text_src.h - the bytes of a text input (CSV, JSON) for its reader: a plain file whole (a
 * guarded mapping, pl_file_load), a buffer in memory, or a gzip / zstd compressed file
 * decompressed a window at a time (bounded memory: the window, not the file). Readers parse
 * the window win; at its end they hand back how many bytes they consumed (up to the start of a
 * record the window cuts) and get the next window, which starts with the unconsumed rest. */
#ifndef PL_TEXT_SRC_H
#define PL_TEXT_SRC_H

#include "io/codecs/codec.h"
#include "polaroid/columnar.h"

typedef struct pl_text_src {
    pl_buf *win;          /* the bytes at hand: input bytes [base, base + win->size) */
    int64_t base;         /* input offset of win->data[0] */
    int64_t lines_before; /* '\n' bytes of the input before base */
    bool eof;             /* win reaches the end of the input */
    int32_t slot;         /* plain files: win's pl_file_load mapping slot; else -1 */
    const char *name;     /* the path or buffer name errors give (borrowed) */
    /* compressed input */
    pl_codec_stream *cs;
    pl_buf *raw;      /* the compressed file (pl_file_load) */
    int32_t raw_slot; /* its mapping slot, -1 when it was read into memory */
    int64_t raw_pos;  /* compressed bytes consumed */
} pl_text_src;

/* Opens path: plain bytes whole (eof at once), or, when the file starts with a gzip or zstd
 * frame, its first PL_TEXT_WINDOW_BYTES decompressed bytes. name is kept (borrowed) for
 * errors. Errors: those of pl_file_load, PL_ERR_CORRUPT for a corrupt or truncated stream
 * (naming the file and the compressed byte offset), PL_ERR_IO when the file changed while it
 * was read, PL_ERR_NOMEM. On failure s is closed. */
pl_status pl_text_src_open(pl_text_src *s, const char *path, pl_error *err);
/* buf (retained) as an input, named name in errors: like a file of these bytes (compressed
 * ones are decompressed a window at a time). Errors: as pl_text_src_open. */
pl_status pl_text_src_open_buf(pl_text_src *s, pl_buf *buf, const char *name, pl_error *err);
/* A compressed input's next window: the first `consumed` bytes of win are dropped, the rest
 * moves to the front, and decompressed bytes follow up to PL_TEXT_WINDOW_BYTES (with grow: to
 * twice the current size, for a record longer than the window). Only for !eof. Errors: those
 * of pl_text_src_open, PL_ERR_LIMIT for a record longer than PL_TEXT_MAX_RECORD_BYTES. */
pl_status pl_text_src_next(pl_text_src *s, int64_t consumed, bool grow, pl_error *err);
/* A reader's input idx: mem when given (a buffer, named *name), else paths[idx]
 * (then *name = paths[idx]); s is closed first. Errors: those of pl_text_src_open. */
pl_status pl_text_input_open(pl_text_src *s, pl_buf *mem, char *const *paths, int32_t idx,
                             const char **name, pl_error *err);
/* A reader's next window: the bytes before *pos were parsed (a window cut the row or value at
 * *pos; when that is the window's start the window grows); then *pos = 0 and *cur = s->win.
 * Errors: those of pl_text_src_next. */
pl_status pl_text_input_next(pl_text_src *s, int64_t *pos, pl_buf **cur, pl_error *err);
/* At the start of an input: *pos = 3 past a UTF-8 byte order mark, else 0, and *cur = s->win
 * (a window shorter than the mark grows first, so that a mark cut by a window end is still
 * seen). Errors: those of pl_text_src_next. */
pl_status pl_text_input_skip_bom(pl_text_src *s, int64_t *pos, pl_buf **cur, pl_error *err);
/* The 1-based line number of window offset off. */
int64_t pl_text_src_line(const pl_text_src *s, int64_t off);
/* Test hook: the window size of compressed inputs (bytes); 0 = PL_TEXT_WINDOW_BYTES, or the
 * environment variable PL_TEXT_WINDOW_BYTES when set. */
void pl_text_src_set_window_bytes_for_testing(int64_t n_bytes);
/* Releases everything; s can be opened again. */
void pl_text_src_close(pl_text_src *s);

#endif
