/* fuzz_json.c - libFuzzer target for the JSON reader (src/io/json/json_read.c) and the text
 * renderers. The first input byte picks options (format auto/newline-delimited/array, records
 * auto/false, sample size, limit); the rest is the JSON text. Every batch is rendered in PLAIN
 * and JSON style. The input is parsed twice, as one chunk and in tiny parallel chunks, and the
 * two results must be equal: the newline chunking may never change what is read. Bad input must
 * yield a pl_error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/json/json.h"
#include "io/text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pl_status read_all(pl_buf *buf, const pl_read_opts *o, pl_table **out, pl_error *err) {
    pl_stream *s;
    PL_TRY(pl_json_scan_buffer(buf, "fuzz.json", o, &s, err));
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    pl_buf *buf;
    if (pl_buf_new((int64_t)size + 1, &buf, NULL)) return 0;
    if (size) memcpy(buf->data, data, size);
    buf->size = (int64_t)size;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_format = (flags & 3) == 3 ? PL_JSON_AUTO : (int32_t)(flags & 3);
    o.json_records = (flags & 4) ? 0 : -1;
    o.json_sample_rows = (flags & 8) ? 2 : 0;
    o.limit = (flags & 16) ? 3 : -1;
    o.n_threads = 2;
    pl_table *one = NULL, *many = NULL;
    pl_json_set_chunk_bytes_for_testing(1LL << 40);
    pl_status st1 = read_all(buf, &o, &one, NULL);
    pl_json_set_chunk_bytes_for_testing(1 + (flags >> 5));
    pl_status st2 = read_all(buf, &o, &many, NULL);
    pl_json_set_chunk_bytes_for_testing(0);
    if ((st1 == PL_OK) != (st2 == PL_OK)) abort();
    if (!st1 && !pl_table_equals(one, many)) abort();
    pl_table_release(one);
    pl_table_release(many);
    pl_buf_release(buf);
    return 0;
}
