/* sort_util.c - column concatenation of buffered morsels for the sort and window sinks. */
#include "exec/sort/sort_int.h"

pl_status pl_sort_concat_column(int64_t n, pl_batch *const *batches, int32_t col, pl_type *t,
                                pl_array **out, pl_error *err) {
    if (n == 0) {
        /* an empty array of type t */
        pl_builder *b;
        PL_TRY(pl_builder_new(t, 0, &b, err));
        pl_status st = pl_builder_finish(b, out, err);
        pl_builder_free(b);
        return st;
    }
    if (n == 1) {
        *out = pl_array_retain(batches[0]->columns[col]);
        return PL_OK;
    }
    pl_array **parts = pl_malloc(sizeof(pl_array *) * (size_t)n);
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory concatenating sort input");
    for (int64_t i = 0; i < n; i++) parts[i] = batches[i]->columns[col];
    pl_status st = pl_array_concat(n, parts, out, err);
    pl_free(parts);
    return st;
}

static int64_t array_bytes(const pl_array *a) {
    int64_t n = a->length, bytes = a->validity ? (n + 7) / 8 : 0;
    switch (a->type->id) {
    case PL_TYPE_NA: return 0;
    case PL_TYPE_BOOL: return bytes + (n + 7) / 8;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: {
        const int32_t *o = pl_array_offsets(a);
        return bytes + (n + 1) * 4 + (n ? o[n] - o[0] : 0);
    }
    case PL_TYPE_LIST: case PL_TYPE_MAP: case PL_TYPE_STRUCT:
        return bytes + n * 16; /* an estimate: children are shared views */
    default: return bytes + n * a->type->byte_width;
    }
}

int64_t pl_sort_batch_bytes(const pl_batch *b) {
    int64_t bytes = 0;
    for (int32_t c = 0; c < b->n_cols; c++) bytes += array_bytes(b->columns[c]);
    return bytes;
}
