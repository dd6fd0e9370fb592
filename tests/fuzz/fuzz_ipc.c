/* fuzz_ipc.c - libFuzzer target for the Arrow IPC reader (src/io/ipc/): the input is read as an
 * IPC stream or file (auto-detected) with every column, then again with a projection and a row
 * limit; every batch read must validate, and a table read successfully must survive a write and
 * read round trip through the stream format unchanged. Decompressed buffer claims are capped
 * (pl_ipc_set_max_buffer_bytes_for_testing) so the fuzzer's memory limit is not the bound.
 * Bad input must yield a pl_error, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/ipc/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pl_status read_all(pl_buf *buf, const pl_read_opts *o, pl_table **out) {
    pl_stream *s;
    PL_TRY(pl_ipc_scan_buffer(buf, "fuzz.arrows", o, &s, NULL));
    pl_status st = pl_stream_collect(s, out, NULL);
    s->free(s);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_ipc_set_max_buffer_bytes_for_testing(1 << 22);
    pl_buf *buf;
    if (pl_buf_new((int64_t)size + 1, &buf, NULL)) return 0;
    if (size) memcpy(buf->data, data, size);
    buf->size = (int64_t)size;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.n_threads = 2;
    pl_table *t = NULL;
    if (read_all(buf, &o, &t) == PL_OK) {
        for (int64_t b = 0; b < t->n_batches; b++)
            for (int32_t c = 0; c < t->batches[b]->n_cols; c++)
                if (pl_array_validate(t->batches[b]->columns[c], true, NULL)) abort();
        pl_buf *out = NULL;
        if (pl_ipc_write_table_buf(t, size & 1, NULL, &out, NULL) == PL_OK) {
            pl_table *back = NULL;
            if (read_all(out, &o, &back) != PL_OK) abort();
            if (!pl_table_equals(t, back)) abort();
            pl_table_release(back);
            pl_buf_release(out);
        }
        if (t->schema->n_fields > 0) {
            const char *cols[1] = {t->schema->fields[t->schema->n_fields - 1].name};
            o.columns = cols;
            o.n_columns = 1;
            o.limit = 3;
            pl_table *p = NULL;
            if (read_all(buf, &o, &p) == PL_OK && p->n_rows > 3) abort();
            pl_table_release(p);
        }
    }
    pl_table_release(t);
    pl_buf_release(buf);
    return 0;
}
