/* csv_write.c - the CSV writer: RFC 4180 with a header row. NULL is an empty unquoted field,
 * the empty string is "", and a field holding the delimiter, a quote, CR, LF or '#' (DuckDB's
 * comment character, which DuckDB's writer also quotes) is quoted with inner quotes doubled. Values are rendered by io/text (PLAIN style), so the output matches
 * DuckDB's COPY ... TO csv. Rows are rendered straight into the output buffer (large batches in
 * pieces of PL_TEXT_PIECE_ROWS rows on the worker pool, written in order); a field is re-emitted
 * quoted only when its rendered bytes need it. */
#include <string.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/text/text.h"

typedef struct csv_writer {
    pl_text_out out;
    pl_schema *schema;
    char delim;
    bool header_done, want_header, finished;
    int32_t n_threads;
    pl_strbuf tmp;
} csv_writer;

static inline bool needs_quotes(const char *s, int64_t n, char delim) {
    for (int64_t k = 0; k < n; k++) {
        char c = s[k];
        if (c == delim || c == '"' || c == '\n' || c == '\r' || c == '#') return true;
    }
    return false;
}

/* Quotes the bytes of b appended since `start` if they need it (tmp: scratch). */
static pl_status quote_tail(pl_strbuf *b, pl_strbuf *tmp, int64_t start, char delim,
                            pl_error *err) {
    int64_t n = b->len - start;
    if (n == 0) return pl_strbuf_append(b, "\"\"", 2, err);
    if (!needs_quotes(b->data + start, n, delim)) return PL_OK;
    tmp->len = 0;
    PL_TRY(pl_strbuf_append(tmp, b->data + start, n, err));
    b->len = start;
    PL_TRY(pl_strbuf_reserve(b, 2 * n + 2, err));
    char *p = b->data + b->len;
    *p++ = '"';
    for (int64_t k = 0; k < n; k++) {
        if (tmp->data[k] == '"') *p++ = '"';
        *p++ = tmp->data[k];
    }
    *p++ = '"';
    b->len = p - b->data;
    b->data[b->len] = '\0';
    return PL_OK;
}

static pl_status write_header(csv_writer *w, pl_error *err) {
    pl_strbuf *b = &w->out.buf;
    for (int32_t c = 0; c < w->schema->n_fields; c++) {
        if (c) PL_TRY(pl_strbuf_append(b, &w->delim, 1, err));
        int64_t start = b->len;
        const char *name = w->schema->fields[c].name;
        PL_TRY(pl_strbuf_append(b, name, (int64_t)strlen(name), err));
        PL_TRY(quote_tail(b, &w->tmp, start, w->delim, err));
    }
    return pl_strbuf_append(b, "\n", 1, err);
}

/* Renders rows [r0, r1) of batch into b (a pl_text_rows_fn; ctx is the writer). */
static pl_status format_rows(const void *ctx, const pl_batch *batch, int64_t r0, int64_t r1,
                             pl_strbuf *b, pl_strbuf *tmp, pl_error *err) {
    char delim = ((const csv_writer *)ctx)->delim;
    for (int64_t r = r0; r < r1; r++) {
        for (int32_t c = 0; c < batch->n_cols; c++) {
            if (c) PL_TRY(pl_strbuf_append(b, &delim, 1, err));
            const pl_array *a = batch->columns[c];
            if (pl_text_is_null(a, r)) continue;
            int64_t start = b->len;
            PL_TRY(pl_text_format_value(a, r, PL_TEXT_PLAIN, b, err));
            PL_TRY(quote_tail(b, tmp, start, delim, err));
        }
        PL_TRY(pl_strbuf_append(b, "\n", 1, err));
    }
    return PL_OK;
}

static pl_status csv_write(pl_writer *pw, pl_batch *batch, pl_error *err) {
    csv_writer *w = pw->impl;
    if (w->finished) PL_FAIL(err, PL_ERR_INVALID_ARG, "write after finish");
    if (batch->n_cols != w->schema->n_fields)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "batch has %d columns, the writer's schema %d",
                batch->n_cols, w->schema->n_fields);
    if (w->want_header && !w->header_done) {
        PL_TRY(write_header(w, err));
        w->header_done = true;
    }
    return pl_text_out_write_rows(&w->out, batch, w->n_threads, format_rows, w, err);
}

static pl_status csv_finish(pl_writer *pw, pl_error *err) {
    csv_writer *w = pw->impl;
    if (w->finished) return PL_OK;
    if (w->want_header && !w->header_done) {
        PL_TRY(write_header(w, err));
        w->header_done = true;
    }
    w->finished = true;
    return pl_text_out_close(&w->out, err);
}

static void csv_free(pl_writer *pw) {
    if (!pw) return;
    csv_writer *w = pw->impl;
    if (w) {
        pl_text_out_reset(&w->out);
        pl_strbuf_reset(&w->tmp);
        pl_schema_release(w->schema);
        pl_free(w);
    }
    pl_free(pw);
}

pl_status pl_csv_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                             pl_writer **out, pl_error *err) {
    pl_write_opts defaults;
    if (!opts) {
        pl_write_opts_init(&defaults);
        opts = &defaults;
    }
    char delim = opts->csv_delimiter ? opts->csv_delimiter : ',';
    size_t path_len = path ? strlen(path) : 0;
    if (!opts->csv_delimiter && path_len >= 4 && strcmp(path + path_len - 4, ".tsv") == 0)
        delim = '\t';
    if (delim == '"' || delim == '\n' || delim == '\r')
        PL_FAIL(err, PL_ERR_INVALID_ARG, "the CSV delimiter must differ from the quote and newline");
    csv_writer *w = pl_calloc(1, sizeof *w);
    pl_writer *pw = pl_calloc(1, sizeof *pw);
    if (!w || !pw) {
        pl_free(w);
        pl_free(pw);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_status st = pl_text_out_open(path, &w->out, err);
    if (st) {
        pl_free(w);
        pl_free(pw);
        return st;
    }
    w->schema = pl_schema_retain(schema);
    w->delim = delim;
    w->want_header = opts->csv_header;
    w->n_threads = opts->n_threads;
    pw->write = csv_write;
    pw->finish = csv_finish;
    pw->free = csv_free;
    pw->impl = w;
    *out = pw;
    return PL_OK;
}
