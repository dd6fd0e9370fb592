/* sort_take.c - the gather kernel the sort and window operators use to emit rows in sorted order
 * (fixed-width, bool, strings, dictionary indices), and column concatenation of batches. */
#include "exec/sort/sort_int.h"

static pl_status take_nomem(pl_error *err) {
    PL_FAIL(err, PL_ERR_NOMEM, "out of memory gathering sorted rows");
}

#define GATHER(T)                                                                                  \
    do {                                                                                           \
        const T *s_ = (const T *)pl_array_values_ptr(a);                                           \
        T *d_ = (T *)(void *)values->data;                                                         \
        for (int64_t i = 0; i < n; i++) d_[i] = idx[i] >= 0 ? s_[idx[i]] : (T)0;                   \
    } while (0)

pl_status pl_sort_take(pl_array *a, const int64_t *idx, int64_t n, pl_array **out,
                       pl_error *err) {
    pl_type_id id = a->type->id;
    if (id == PL_TYPE_NA) return pl_array_new_nulls(a->type, n, out, err);
    bool src_nulls = pl_array_null_count(a) > 0;
    bool any_neg = false;
    for (int64_t i = 0; i < n; i++) any_neg |= idx[i] < 0;
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    int64_t null_count = 0;
    if (src_nulls || any_neg) {
        PL_TRY(pl_buf_new_zeroed((n + 7) / 8, &validity, err));
        const uint8_t *sb = src_nulls ? a->validity->data : NULL;
        for (int64_t i = 0; i < n; i++) {
            int64_t j = idx[i];
            bool ok = j >= 0 && (!sb || pl_bit_get(sb, a->offset + j));
            if (ok) pl_bit_set(validity->data, i);
            else null_count++;
        }
        if (!null_count) {
            pl_buf_release(validity);
            validity = NULL;
        }
    }
    pl_status st = PL_OK;
    switch (id) {
    case PL_TYPE_BOOL: {
        st = pl_buf_new_zeroed((n + 7) / 8, &values, err);
        if (st) break;
        const uint8_t *sb = a->values->data;
        for (int64_t i = 0; i < n; i++)
            if (idx[i] >= 0 && pl_bit_get(sb, a->offset + idx[i])) pl_bit_set(values->data, i);
        break;
    }
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: {
        const int32_t *so = pl_array_offsets(a);
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++)
            if (idx[i] >= 0) total += so[idx[i] + 1] - so[idx[i]];
        if (total > PL_MAX_VARLEN_BYTES) {
            st = pl_error_set(err, PL_ERR_LIMIT, "sorted string column chunk exceeds 2^31 bytes");
            break;
        }
        st = pl_buf_new((n + 1) * 4, &values, err);
        if (!st) st = pl_buf_new(PL_MAX(total, 1), &data, err);
        if (st) break;
        values->size = (n + 1) * 4;
        data->size = total;
        int32_t *o = (int32_t *)(void *)values->data;
        const uint8_t *sd = a->data->data;
        int64_t pos = 0;
        o[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            if (idx[i] >= 0) {
                int32_t s0 = so[idx[i]], len = so[idx[i] + 1] - s0;
                memcpy(data->data + pos, sd + s0, (size_t)len);
                pos += len;
            }
            o[i + 1] = (int32_t)pos;
        }
        break;
    }
    default: {
        int32_t w = a->type->byte_width;
        if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP || w <= 0) {
            char tb[64];
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "cannot gather rows of type %s yet",
                              pl_type_to_string(a->type, tb, sizeof tb));
            break;
        }
        st = pl_buf_new(PL_MAX(n * w, 1), &values, err);
        if (st) break;
        values->size = n * w;
        switch (w) {
        case 1: GATHER(uint8_t); break;
        case 2: GATHER(uint16_t); break;
        case 4: GATHER(uint32_t); break;
        case 8: GATHER(uint64_t); break;
        default: {
            const uint8_t *s = pl_array_values_ptr(a);
            for (int64_t i = 0; i < n; i++) {
                if (idx[i] >= 0) memcpy(values->data + i * w, s + idx[i] * w, (size_t)w);
                else memset(values->data + i * w, 0, (size_t)w);
            }
        }
        }
    }
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        return st;
    }
    pl_array *dict = a->dictionary ? pl_array_retain(a->dictionary) : NULL;
    return pl_array_new(pl_type_retain(a->type), n, null_count, validity, values, data, 0, NULL,
                        dict, out, err);
}

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
    if (!parts) return take_nomem(err);
    for (int64_t i = 0; i < n; i++) parts[i] = batches[i]->columns[col];
    pl_status st = pl_array_concat(n, parts, out, err);
    pl_free(parts);
    return st;
}
