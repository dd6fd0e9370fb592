/* json_write.c - the JSON-lines writer: one compact object per row ({"a":1,"b":[1,2]}),
 * values rendered by io/text in JSON style (nested values as arrays and objects, map keys as
 * strings, temporal values as strings, nan/inf as null), matching the expected .jsonl files of
 * the conformance suite. Column names are escaped once at open. Large batches are rendered in
 * pieces on the worker pool and written in order. */
#include <string.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/text/text.h"

typedef struct json_writer {
    pl_text_out out;
    pl_schema *schema;
    pl_strbuf keys;     /* "{\"a\":" then ",\"b\":" ... concatenated */
    int64_t *key_off;   /* n_fields + 1 offsets into keys */
    bool finished;
    int32_t n_threads;
} json_writer;

/* Renders rows [r0, r1) of batch into b (a pl_text_rows_fn; ctx is the writer). */
static pl_status format_rows(const void *ctx, const pl_batch *batch, int64_t r0, int64_t r1,
                             pl_strbuf *b, pl_strbuf *scratch, pl_error *err) {
    (void)scratch;
    const json_writer *w = ctx;
    for (int64_t r = r0; r < r1; r++) {
        if (batch->n_cols == 0) PL_TRY(pl_strbuf_append(b, "{", 1, err));
        for (int32_t c = 0; c < batch->n_cols; c++) {
            PL_TRY(pl_strbuf_append(b, w->keys.data + w->key_off[c],
                                    w->key_off[c + 1] - w->key_off[c], err));
            PL_TRY(pl_text_format_value(batch->columns[c], r, PL_TEXT_JSON, b, err));
        }
        PL_TRY(pl_strbuf_append(b, "}\n", 2, err));
    }
    return PL_OK;
}

static pl_status json_write(pl_writer *pw, pl_batch *batch, pl_error *err) {
    json_writer *w = pw->impl;
    if (w->finished) PL_FAIL(err, PL_ERR_INVALID_ARG, "write after finish");
    if (batch->n_cols != w->schema->n_fields)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "batch has %d columns, the writer's schema %d",
                batch->n_cols, w->schema->n_fields);
    return pl_text_out_write_rows(&w->out, batch, w->n_threads, format_rows, w, err);
}

static pl_status json_finish(pl_writer *pw, pl_error *err) {
    json_writer *w = pw->impl;
    if (w->finished) return PL_OK;
    w->finished = true;
    return pl_text_out_close(&w->out, err);
}

static void json_free(pl_writer *pw) {
    if (!pw) return;
    json_writer *w = pw->impl;
    if (w) {
        pl_text_out_reset(&w->out);
        pl_strbuf_reset(&w->keys);
        pl_free(w->key_off);
        pl_schema_release(w->schema);
        pl_free(w);
    }
    pl_free(pw);
}

/* Appends "name": with JSON escapes. */
static pl_status append_key(pl_strbuf *b, const char *name, pl_error *err) {
    static const char k_hex[] = "0123456789abcdef";
    PL_TRY(pl_strbuf_append(b, "\"", 1, err));
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        int n = 2;
        switch (*p) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            if (*p < 0x20) {
                memcpy(esc + 1, "u00", 3);
                esc[4] = k_hex[*p >> 4];
                esc[5] = k_hex[*p & 15];
                n = 6;
            } else {
                esc[0] = (char)*p;
                n = 1;
            }
        }
        PL_TRY(pl_strbuf_append(b, esc, n, err));
    }
    return pl_strbuf_append(b, "\":", 2, err);
}

pl_status pl_json_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                              pl_writer **out, pl_error *err) {
    json_writer *w = pl_calloc(1, sizeof *w);
    pl_writer *pw = pl_calloc(1, sizeof *pw);
    if (w) w->key_off = pl_calloc((size_t)schema->n_fields + 1, sizeof *w->key_off);
    if (!w || !pw || !w->key_off) {
        if (w) pl_free(w->key_off);
        pl_free(w);
        pl_free(pw);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_status st = PL_OK;
    for (int32_t c = 0; c < schema->n_fields && !st; c++) {
        w->key_off[c] = w->keys.len;
        st = pl_strbuf_append(&w->keys, c ? "," : "{", 1, err);
        if (!st) st = append_key(&w->keys, schema->fields[c].name, err);
    }
    w->key_off[schema->n_fields] = w->keys.len;
    if (!st) st = pl_text_out_open(path, &w->out, err);
    if (st) {
        pl_strbuf_reset(&w->keys);
        pl_free(w->key_off);
        pl_free(w);
        pl_free(pw);
        return st;
    }
    w->schema = pl_schema_retain(schema);
    w->n_threads = opts ? opts->n_threads : 0;
    pw->write = json_write;
    pw->finish = json_finish;
    pw->free = json_free;
    pw->impl = w;
    *out = pw;
    return PL_OK;
}
