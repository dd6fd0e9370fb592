/* take.c - gather (take) and filter kernels over every array type, and batch helpers. */
#include <string.h>

#include "compute/compute.h"

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory gathering rows"); }

/* Validity of the gathered rows: NULL when every gathered row is valid. */
static pl_status take_validity(pl_array *a, const int64_t *idx, int64_t n, pl_buf **out,
                               int64_t *null_count, pl_error *err) {
    *out = NULL;
    *null_count = 0;
    bool src_nulls = a->validity && pl_array_null_count(a) > 0;
    bool any_neg = false;
    if (!src_nulls) {
        for (int64_t i = 0; i < n; i++) any_neg |= idx[i] < 0;
        if (!any_neg) return PL_OK;
    }
    pl_buf *v;
    PL_TRY(pl_buf_new_zeroed((n + 7) / 8, &v, err));
    int64_t valid = 0;
    const uint8_t *sb = src_nulls ? a->validity->data : NULL;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = idx[i];
        bool ok = j >= 0 && (!sb || pl_bit_get(sb, a->offset + j));
        if (ok) pl_bit_set(v->data, i);
        valid += ok;
    }
    *null_count = n - valid;
    if (*null_count == 0) {
        pl_buf_release(v);
        return PL_OK;
    }
    *out = v;
    return PL_OK;
}

#define GATHER(T)                                                                                  \
    do {                                                                                           \
        const T *s = (const T *)(const void *)src;                                                 \
        T *d = (T *)(void *)dst;                                                                   \
        for (int64_t i = 0; i < n; i++) d[i] = idx[i] >= 0 ? s[idx[i]] : (T)0;                     \
    } while (0)

static pl_status take_fixed(pl_array *a, const int64_t *idx, int64_t n, pl_buf **values,
                            pl_error *err) {
    int64_t w = a->type->byte_width;
    if (a->type->id == PL_TYPE_DICTIONARY) {
        static const int8_t widths[PL_TYPE__COUNT] = {
            [PL_TYPE_INT8] = 1,  [PL_TYPE_UINT8] = 1,  [PL_TYPE_INT16] = 2, [PL_TYPE_UINT16] = 2,
            [PL_TYPE_INT32] = 4, [PL_TYPE_UINT32] = 4, [PL_TYPE_INT64] = 8, [PL_TYPE_UINT64] = 8};
        w = widths[a->type->index_id];
    }
    pl_buf *b;
    PL_TRY(pl_buf_new(PL_MAX(n * w, 1), &b, err));
    b->size = n * w;
    const uint8_t *src = a->values->data + a->offset * w;
    uint8_t *dst = b->data;
    switch (w) {
    case 1: GATHER(uint8_t); break;
    case 2: GATHER(uint16_t); break;
    case 4: GATHER(uint32_t); break;
    case 8: GATHER(uint64_t); break;
    default:
        for (int64_t i = 0; i < n; i++) {
            if (idx[i] >= 0) memcpy(dst + i * w, src + idx[i] * w, (size_t)w);
            else memset(dst + i * w, 0, (size_t)w);
        }
    }
    *values = b;
    return PL_OK;
}

static pl_status take_bool(pl_array *a, const int64_t *idx, int64_t n, pl_buf **values,
                           pl_error *err) {
    pl_buf *b;
    PL_TRY(pl_buf_new_zeroed(PL_MAX((n + 7) / 8, 1), &b, err));
    b->size = (n + 7) / 8;
    const uint8_t *s = a->values->data;
    for (int64_t i = 0; i < n; i++)
        if (idx[i] >= 0 && pl_bit_get(s, a->offset + idx[i])) pl_bit_set(b->data, i);
    *values = b;
    return PL_OK;
}

static pl_status take_varlen(pl_array *a, const int64_t *idx, int64_t n, pl_buf **values,
                             pl_buf **data, pl_error *err) {
    const int32_t *o = pl_array_offsets(a);
    const uint8_t *src = a->data ? a->data->data : NULL;
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++)
        if (idx[i] >= 0) total += o[idx[i] + 1] - o[idx[i]];
    if (total > INT32_MAX)
        PL_FAIL(err, PL_ERR_LIMIT, "gathered strings exceed 2 GiB in one array (%lld bytes)",
                (long long)total);
    pl_buf *ob, *db;
    PL_TRY(pl_buf_new((n + 1) * 4, &ob, err));
    if (pl_buf_new(PL_MAX(total, 1), &db, err)) {
        pl_buf_release(ob);
        return PL_ERR_NOMEM;
    }
    int32_t *no = (int32_t *)(void *)ob->data;
    uint8_t *d = db->data;
    int32_t pos = 0;
    no[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        if (idx[i] >= 0) {
            int32_t s = o[idx[i]], len = o[idx[i] + 1] - s;
            if (len > 0) memcpy(d + pos, src + s, (size_t)len);
            pos += len;
        }
        no[i + 1] = pos;
    }
    ob->size = (n + 1) * 4;
    db->size = total;
    *values = ob;
    *data = db;
    return PL_OK;
}

pl_status pl_array_take(pl_array *a, const int64_t *idx, int64_t n, pl_array **out,
                        pl_error *err) {
    pl_type *t = a->type;
    if (t->id == PL_TYPE_NA) return pl_array_new_nulls(t, n, out, err);
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    int64_t nulls = 0;
    PL_TRY(take_validity(a, idx, n, &validity, &nulls, err));
    pl_status st = PL_OK;
    pl_array **children = NULL;
    int32_t n_children = 0;
    pl_array *dict = NULL;
    switch (t->id) {
    case PL_TYPE_BOOL: st = take_bool(a, idx, n, &values, err); break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: st = take_varlen(a, idx, n, &values, &data, err); break;
    case PL_TYPE_DICTIONARY:
        st = take_fixed(a, idx, n, &values, err);
        dict = pl_array_retain(a->dictionary);
        break;
    case PL_TYPE_STRUCT: {
        n_children = a->n_children;
        children = pl_calloc((size_t)PL_MAX(n_children, 1), sizeof *children);
        int64_t *cidx = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        if (!children || !cidx) {
            pl_free(cidx);
            st = nomem(err);
            break;
        }
        for (int64_t i = 0; i < n; i++) cidx[i] = idx[i] >= 0 ? idx[i] + a->offset : -1;
        for (int32_t c = 0; c < n_children && !st; c++)
            st = pl_array_take(a->children[c], cidx, n, &children[c], err);
        pl_free(cidx);
        break;
    }
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *o = pl_array_offsets(a);
        int64_t total = 0;
        for (int64_t i = 0; i < n; i++)
            if (idx[i] >= 0) total += o[idx[i] + 1] - o[idx[i]];
        pl_buf *ob = NULL;
        int64_t *cidx = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(total, 1));
        if (!cidx || pl_buf_new((n + 1) * 4, &ob, err)) {
            pl_free(cidx);
            st = nomem(err);
            break;
        }
        int32_t *no = (int32_t *)(void *)ob->data;
        int64_t k = 0;
        no[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            if (idx[i] >= 0)
                for (int32_t j = o[idx[i]]; j < o[idx[i] + 1]; j++) cidx[k++] = j;
            no[i + 1] = (int32_t)k;
        }
        ob->size = (n + 1) * 4;
        values = ob;
        n_children = 1;
        children = pl_calloc(1, sizeof *children);
        if (!children) st = nomem(err);
        else st = pl_array_take(a->children[0], cidx, total, &children[0], err);
        pl_free(cidx);
        break;
    }
    default: st = take_fixed(a, idx, n, &values, err); break;
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        for (int32_t c = 0; c < n_children && children; c++) pl_array_release(children[c]);
        pl_free(children);
        pl_array_release(dict);
        return st;
    }
    st = pl_array_new(pl_type_retain(t), n, nulls, validity, values, data, n_children, children,
                      dict, out, err);
    pl_free(children);
    return st;
}

pl_status pl_array_take_i32(pl_array *a, const int32_t *idx, int64_t n, pl_array **out,
                            pl_error *err) {
    int64_t *w = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!w) return nomem(err);
    for (int64_t i = 0; i < n; i++) w[i] = idx[i];
    pl_status st = pl_array_take(a, w, n, out, err);
    pl_free(w);
    return st;
}

static pl_status make_free(pl_schema *schema, int64_t n_rows, pl_array **cols, pl_batch **out,
                           pl_error *err);

pl_status pl_batch_take(pl_batch *b, const int64_t *idx, int64_t n, pl_batch **out,
                        pl_error *err) {
    pl_array **cols = pl_calloc((size_t)PL_MAX(b->n_cols, 1), sizeof *cols);
    if (!cols) return nomem(err);
    pl_status st = PL_OK;
    for (int32_t c = 0; c < b->n_cols && !st; c++)
        st = pl_array_take(b->columns[c], idx, n, &cols[c], err);
    if (st) {
        for (int32_t c = 0; c < b->n_cols; c++) pl_array_release(cols[c]);
        pl_free(cols);
        return st;
    }
    return make_free(b->schema, n, cols, out, err);
}

pl_status pl_batch_take_i32(pl_batch *b, const int32_t *sel, int64_t n, pl_batch **out,
                            pl_error *err) {
    if (n == b->n_rows) { /* every row selected (sel is ascending) */
        *out = pl_batch_retain(b);
        return PL_OK;
    }
    int64_t *w = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!w) return nomem(err);
    for (int64_t i = 0; i < n; i++) w[i] = sel[i];
    pl_status st = pl_batch_take(b, w, n, out, err);
    pl_free(w);
    return st;
}

pl_status pl_array_filter(pl_array *a, pl_array *mask, pl_array **out, pl_error *err) {
    int64_t n = mask->length;
    int64_t *w = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!w) return nomem(err);
    int64_t k = 0;
    const uint8_t *mv = mask->values->data, *mn = mask->validity ? mask->validity->data : NULL;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = mask->offset + i;
        if (pl_bit_get(mv, j) && (!mn || pl_bit_get(mn, j))) w[k++] = i;
    }
    pl_status st = pl_array_take(a, w, k, out, err);
    pl_free(w);
    return st;
}

pl_status pl_batch_make(pl_schema *schema, int64_t n_rows, pl_array **cols, pl_batch **out,
                        pl_error *err) {
    return pl_batch_new(pl_schema_retain(schema), n_rows, cols, out, err);
}

/* pl_batch_make, then frees the column vector. */
static pl_status make_free(pl_schema *schema, int64_t n_rows, pl_array **cols, pl_batch **out,
                           pl_error *err) {
    pl_status st = pl_batch_make(schema, n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

pl_status pl_batch_with_schema(pl_batch *b, pl_schema *schema, pl_batch **out, pl_error *err) {
    pl_array **cols = pl_calloc((size_t)PL_MAX(b->n_cols, 1), sizeof *cols);
    if (!cols) return nomem(err);
    for (int32_t c = 0; c < b->n_cols; c++) cols[c] = pl_array_retain(b->columns[c]);
    return make_free(schema, b->n_rows, cols, out, err);
}

pl_status pl_batches_concat(pl_schema *schema, int64_t n, pl_batch *const *batches,
                            pl_batch **out, pl_error *err) {
    if (n == 1) {
        *out = pl_batch_retain(batches[0]);
        return PL_OK;
    }
    int32_t nc = schema->n_fields;
    pl_array **cols = pl_calloc((size_t)PL_MAX(nc, 1), sizeof *cols);
    pl_array **parts = pl_malloc(sizeof *parts * (size_t)PL_MAX(n, 1));
    if (!cols || !parts) {
        pl_free(cols);
        pl_free(parts);
        return nomem(err);
    }
    int64_t rows = 0;
    for (int64_t i = 0; i < n; i++) rows += batches[i]->n_rows;
    pl_status st = PL_OK;
    for (int32_t c = 0; c < nc && !st; c++) {
        if (n == 0) {
            st = pl_array_new_nulls(schema->fields[c].type, 0, &cols[c], err);
            continue;
        }
        for (int64_t i = 0; i < n; i++) parts[i] = batches[i]->columns[c];
        st = pl_array_concat(n, parts, &cols[c], err);
    }
    pl_free(parts);
    if (st) {
        for (int32_t c = 0; c < nc; c++) pl_array_release(cols[c]);
        pl_free(cols);
        return st;
    }
    return make_free(schema, rows, cols, out, err);
}
