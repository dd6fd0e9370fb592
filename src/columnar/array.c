/* array.c - pl_array: assembly with buffer-size checks, slicing, null counts, validation of
 * untrusted arrays, dictionary decoding, concatenation and deep equality.
 * Invariant: a published array is never modified (null_count is cached atomically). */
#include <math.h>
#include <string.h>

#include "core/core.h"

static bool is_offsets_type(pl_type_id id) {
    return id == PL_TYPE_UTF8 || id == PL_TYPE_BINARY || id == PL_TYPE_LIST || id == PL_TYPE_MAP;
}

static bool is_fixed_type(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_DECIMAL128: case PL_TYPE_DATE32:
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: case PL_TYPE_FIXED_BINARY: case PL_TYPE_DICTIONARY:
        return true;
    default:
        return false;
    }
}

static int32_t expected_children(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_LIST: case PL_TYPE_MAP: return 1;
    case PL_TYPE_STRUCT: return t->n_children;
    default: return 0;
    }
}

static int64_t bits_bytes(int64_t n_bits) { return (n_bits + 7) / 8; }

pl_status pl_array_new(pl_type *type, int64_t length, int64_t null_count, pl_buf *validity,
                       pl_buf *values, pl_buf *data, int32_t n_children, pl_array **children,
                       pl_array *dictionary, pl_array **out, pl_error *err) {
    pl_status st = PL_OK;
    pl_array *a = NULL;
    char tn[128];
    if (!type || length < 0) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "array without a type or with negative length");
        goto fail;
    }
    pl_type_to_string(type, tn, sizeof tn);
    int64_t end = length; /* offset is 0 for new arrays */
    if (validity && validity->size < bits_bytes(end)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: validity bitmap of %lld bytes is too small for %lld values",
                          tn, (long long)validity->size, (long long)length);
        goto fail;
    }
    if (n_children != expected_children(type)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: expected %d children, got %d", tn,
                          expected_children(type), n_children);
        goto fail;
    }
    if (type->id == PL_TYPE_BOOL) {
        if (length > 0 && (!values || values->size < bits_bytes(end))) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "bool array: values bitmap too small");
            goto fail;
        }
    } else if (is_fixed_type(type->id)) {
        if (length > 0 && (!values || values->size / (type->byte_width ? type->byte_width : 1) < end)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: values buffer too small for %lld values",
                              tn, (long long)length);
            goto fail;
        }
        if (type->id == PL_TYPE_DICTIONARY &&
            (!dictionary || !pl_type_equals(dictionary->type, type->value_type))) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: missing or mistyped dictionary", tn);
            goto fail;
        }
    } else if (is_offsets_type(type->id)) {
        if (length > 0 && (!values || values->size / 4 < end + 1)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: offsets buffer too small for %lld values",
                              tn, (long long)length);
            goto fail;
        }
    }
    if (type->id == PL_TYPE_STRUCT) {
        for (int32_t i = 0; i < n_children; i++) {
            if (!children[i] || children[i]->length < length) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "struct array: child %d shorter than the struct", i);
                goto fail;
            }
        }
    } else {
        for (int32_t i = 0; i < n_children; i++) {
            if (!children[i]) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: missing child", tn);
                goto fail;
            }
        }
    }
    a = pl_calloc(1, sizeof *a);
    if (!a || (n_children > 0 && !(a->children = pl_malloc(sizeof(pl_array *) * (size_t)n_children)))) {
        pl_free(a);
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory allocating an array");
        goto fail;
    }
    a->type = type;
    a->length = length;
    a->offset = 0;
    a->null_count = validity ? null_count : (type->id == PL_TYPE_NA ? length : 0);
    a->validity = validity;
    a->values = values;
    a->data = data;
    a->n_children = n_children;
    if (n_children > 0) memcpy(a->children, children, sizeof(pl_array *) * (size_t)n_children);
    a->dictionary = dictionary;
    a->refcount = 1;
    *out = a;
    return PL_OK;
fail:
    pl_type_release(type);
    pl_buf_release(validity);
    pl_buf_release(values);
    pl_buf_release(data);
    for (int32_t i = 0; i < n_children; i++) pl_array_release(children ? children[i] : NULL);
    pl_array_release(dictionary);
    return st;
}

pl_status pl_array_new_nulls(pl_type *type, int64_t length, pl_array **out, pl_error *err) {
    pl_buf *validity = NULL, *values = NULL;
    pl_array *children[PL_MAX(1, 0) + 64] = {0};
    pl_array *dict = NULL;
    int32_t n_children = expected_children(type);
    if (n_children > 64) PL_FAIL(err, PL_ERR_UNSUPPORTED, "struct with more than 64 fields");
    if (length < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative length");
    if (type->id != PL_TYPE_NA) PL_TRY(pl_buf_new_zeroed(bits_bytes(length), &validity, err));
    pl_status st = PL_OK;
    if (type->id == PL_TYPE_BOOL) st = pl_buf_new_zeroed(bits_bytes(length), &values, err);
    else if (is_fixed_type(type->id)) st = pl_buf_new_zeroed(length * type->byte_width, &values, err);
    else if (is_offsets_type(type->id)) st = pl_buf_new_zeroed((length + 1) * 4, &values, err);
    if (!st && type->id == PL_TYPE_DICTIONARY) st = pl_array_new_nulls(type->value_type, 0, &dict, err);
    for (int32_t i = 0; !st && i < n_children; i++) {
        int64_t child_len = type->id == PL_TYPE_STRUCT ? length : 0;
        st = pl_array_new_nulls(type->children[i].type, child_len, &children[i], err);
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_array_release(dict);
        for (int32_t i = 0; i < n_children; i++) pl_array_release(children[i]);
        return st;
    }
    return pl_array_new(pl_type_retain(type), length, length, validity, values, NULL, n_children,
                        children, dict, out, err);
}

pl_array *pl_array_retain(pl_array *a) {
    if (a) __atomic_add_fetch(&a->refcount, 1, __ATOMIC_RELAXED);
    return a;
}

void pl_array_release(pl_array *a) {
    if (!a) return;
    if (__atomic_sub_fetch(&a->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int32_t i = 0; i < a->n_children; i++) pl_array_release(a->children[i]);
    pl_free(a->children);
    pl_array_release(a->dictionary);
    pl_buf_release(a->validity);
    pl_buf_release(a->values);
    pl_buf_release(a->data);
    pl_type_release(a->type);
    pl_free(a);
}

pl_status pl_array_slice(pl_array *a, int64_t offset, int64_t length, pl_array **out,
                         pl_error *err) {
    if (offset < 0 || length < 0 || offset > a->length || length > a->length - offset)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "slice [%lld, +%lld) out of range for %lld values",
                (long long)offset, (long long)length, (long long)a->length);
    pl_array *s = pl_calloc(1, sizeof *s);
    if (!s || (a->n_children > 0 && !(s->children = pl_malloc(sizeof(pl_array *) * (size_t)a->n_children)))) {
        pl_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory slicing an array");
    }
    s->type = pl_type_retain(a->type);
    s->length = length;
    s->offset = a->offset + offset;
    s->null_count = (a->null_count == 0 || a->type->id == PL_TYPE_NA) ? (a->null_count == 0 ? 0 : length) : -1;
    s->validity = pl_buf_retain(a->validity);
    s->values = pl_buf_retain(a->values);
    s->data = pl_buf_retain(a->data);
    s->n_children = a->n_children;
    for (int32_t i = 0; i < a->n_children; i++) s->children[i] = pl_array_retain(a->children[i]);
    s->dictionary = pl_array_retain(a->dictionary);
    s->refcount = 1;
    *out = s;
    return PL_OK;
}

int64_t pl_array_null_count(pl_array *a) {
    int64_t n = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    if (n >= 0) return n;
    if (a->type->id == PL_TYPE_NA) n = a->length;
    else if (!a->validity) n = 0;
    else n = a->length - pl_bitmap_count(a->validity->data, a->offset, a->length);
    __atomic_store_n(&a->null_count, n, __ATOMIC_RELAXED);
    return n;
}

/* ---------------------------------------------------------------- validation */

static int64_t read_index(const pl_array *a, int64_t i) {
    const uint8_t *p = a->values->data + (a->offset + i) * a->type->byte_width;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return *(const int8_t *)p;
    case PL_TYPE_UINT8: return *p;
    case PL_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
    case PL_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case PL_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
    case PL_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

static bool utf8_valid(const uint8_t *s, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int k;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) { k = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { k = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { k = 3; cp = c & 0x07; }
        else return false;
        if (n - i <= k) return false;
        for (int j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static pl_status validate_rec(const pl_array *a, bool check_utf8, int depth, pl_error *err) {
    const pl_type *t = a->type;
    if (depth > 64) PL_FAIL(err, PL_ERR_CORRUPT, "array nesting deeper than 64");
    if (a->offset < 0 || a->length < 0 || a->offset > INT64_MAX - a->length - 1)
        PL_FAIL(err, PL_ERR_CORRUPT, "negative or overflowing array offset/length");
    int64_t end = a->offset + a->length;
    if (a->validity && a->validity->size < bits_bytes(end))
        PL_FAIL(err, PL_ERR_CORRUPT, "validity bitmap of %lld bytes too small for %lld values",
                (long long)a->validity->size, (long long)end);
    if (a->n_children != expected_children(t))
        PL_FAIL(err, PL_ERR_CORRUPT, "expected %d child arrays, found %d", expected_children(t), a->n_children);
    if (t->id == PL_TYPE_BOOL) {
        if (a->length && (!a->values || a->values->size < bits_bytes(end)))
            PL_FAIL(err, PL_ERR_CORRUPT, "boolean values bitmap too small");
    } else if (is_fixed_type(t->id)) {
        if (a->length && (!a->values || (t->byte_width && a->values->size / t->byte_width < end)))
            PL_FAIL(err, PL_ERR_CORRUPT, "values buffer too small for %lld values", (long long)end);
        if (t->id == PL_TYPE_DICTIONARY) {
            if (!a->dictionary) PL_FAIL(err, PL_ERR_CORRUPT, "dictionary array without a dictionary");
            PL_TRY(validate_rec(a->dictionary, check_utf8, depth + 1, err));
            int64_t n_dict = a->dictionary->length;
            for (int64_t i = 0; i < a->length; i++) {
                if (!pl_array_is_valid(a, i)) continue;
                int64_t k = read_index(a, i);
                if (k < 0 || k >= n_dict)
                    PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %lld out of range (size %lld) at row %lld",
                            (long long)k, (long long)n_dict, (long long)i);
            }
        }
    } else if (is_offsets_type(t->id)) {
        if (a->length == 0) return t->id == PL_TYPE_LIST || t->id == PL_TYPE_MAP
                                      ? validate_rec(a->children[0], check_utf8, depth + 1, err)
                                      : PL_OK;
        if (!a->values || a->values->size / 4 < end + 1)
            PL_FAIL(err, PL_ERR_CORRUPT, "offsets buffer too small for %lld values", (long long)end);
        const int32_t *o = pl_array_offsets(a);
        if (o[0] < 0) PL_FAIL(err, PL_ERR_CORRUPT, "negative first offset %d", o[0]);
        for (int64_t i = 0; i < a->length; i++)
            if (o[i + 1] < o[i])
                PL_FAIL(err, PL_ERR_CORRUPT, "offsets decrease at row %lld (%d then %d)", (long long)i,
                        o[i], o[i + 1]);
        int64_t limit;
        if (t->id == PL_TYPE_UTF8 || t->id == PL_TYPE_BINARY) {
            limit = a->data ? a->data->size : 0;
            if (o[a->length] > limit)
                PL_FAIL(err, PL_ERR_CORRUPT, "offset %d past the end of %lld data bytes", o[a->length],
                        (long long)limit);
            if (check_utf8 && t->id == PL_TYPE_UTF8 && a->length &&
                !utf8_valid(a->data->data + o[0], o[a->length] - o[0]))
                PL_FAIL(err, PL_ERR_CORRUPT, "invalid UTF-8 in a utf8 column");
        } else {
            limit = a->children[0]->length;
            if (o[a->length] > limit)
                PL_FAIL(err, PL_ERR_CORRUPT, "list offset %d past the end of %lld child values",
                        o[a->length], (long long)limit);
            PL_TRY(validate_rec(a->children[0], check_utf8, depth + 1, err));
        }
    } else if (t->id == PL_TYPE_STRUCT) {
        for (int32_t i = 0; i < a->n_children; i++) {
            if (a->children[i]->length < end)
                PL_FAIL(err, PL_ERR_CORRUPT, "struct field \"%s\" shorter than the struct",
                        t->children[i].name);
            PL_TRY(validate_rec(a->children[i], check_utf8, depth + 1, err));
        }
    }
    return PL_OK;
}

pl_status pl_array_validate(const pl_array *a, bool check_utf8, pl_error *err) {
    return validate_rec(a, check_utf8, 0, err);
}

/* ---------------------------------------------------------------- bit copy */

/* Copies n bits from src[src_off..] to dst[dst_off..]. */
static void copy_bits(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n) {
    if (n <= 0) return;
    if ((dst_off & 7) == 0 && (src_off & 7) == 0) {
        int64_t full = n >> 3;
        memcpy(dst + (dst_off >> 3), src + (src_off >> 3), (size_t)full);
        for (int64_t i = full * 8; i < n; i++) pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
        return;
    }
    int64_t i = 0;
    /* Align the destination, then move whole bytes assembled from two source bytes. */
    while (i < n && ((dst_off + i) & 7)) {
        pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
        i++;
    }
    int shift = (int)((src_off + i) & 7);
    while (i + 8 <= n) {
        int64_t sb = (src_off + i) >> 3;
        unsigned v = src[sb] >> shift;
        if (shift) v |= (unsigned)src[sb + 1] << (8 - shift);
        dst[(dst_off + i) >> 3] = (uint8_t)v;
        i += 8;
    }
    for (; i < n; i++) pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
}

/* ---------------------------------------------------------------- dictionary decoding */

/* Gathers values of `values` at `idx` (validity from `nulls_from` rows) into a new array. */
static pl_status take_dict(pl_array *a, pl_array **out, pl_error *err) {
    pl_array *dict = a->dictionary;
    pl_type *vt = dict->type;
    int64_t n = a->length;
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_status st = PL_OK;
    int64_t nulls = 0;
    /* validity = row valid and dictionary value valid */
    bool any_null = pl_array_null_count(a) > 0 || pl_array_null_count(dict) > 0;
    if (any_null) {
        PL_TRY(pl_buf_new_zeroed(bits_bytes(n), &validity, err));
        for (int64_t i = 0; i < n; i++) {
            if (pl_array_is_valid(a, i) && pl_array_is_valid(dict, read_index(a, i)))
                pl_bit_set(validity->data, i);
            else nulls++;
        }
    }
#define IDX(i) (read_index(a, (i)))
#define VALID(i) (!validity || pl_bit_get(validity->data, (i)))
    if (vt->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed(bits_bytes(n), &values, err);
        for (int64_t i = 0; !st && i < n; i++)
            if (VALID(i) && pl_bit_get(dict->values->data, dict->offset + IDX(i))) pl_bit_set(values->data, i);
    } else if (is_fixed_type(vt->id)) {
        int32_t w = vt->byte_width;
        st = pl_buf_new_zeroed(n * w, &values, err);
        const uint8_t *src = pl_array_values_ptr(dict);
        for (int64_t i = 0; !st && i < n; i++)
            if (VALID(i)) memcpy(values->data + i * w, src + IDX(i) * w, (size_t)w);
    } else if (pl_type_is_varlen(vt->id)) {
        int64_t total = 0;
        const int32_t *o = pl_array_offsets(dict);
        for (int64_t i = 0; i < n; i++)
            if (VALID(i)) total += o[IDX(i) + 1] - o[IDX(i)];
        if (total > PL_MAX_VARLEN_BYTES) {
            st = pl_error_set(err, PL_ERR_LIMIT, "decoded strings exceed 2 GiB in one array");
        }
        if (!st) st = pl_buf_new_zeroed((n + 1) * 4, &values, err);
        if (!st) st = pl_buf_new(total, &data, err);
        if (!st) {
            int32_t *no = (int32_t *)(void *)values->data;
            int32_t pos = 0;
            for (int64_t i = 0; i < n; i++) {
                no[i] = pos;
                if (VALID(i)) {
                    int64_t k = IDX(i);
                    int32_t len = o[k + 1] - o[k];
                    memcpy(data->data + pos, dict->data->data + o[k], (size_t)len);
                    pos += len;
                }
            }
            no[n] = pos;
            data->size = pos;
        }
    } else {
        st = pl_error_set(err, PL_ERR_UNSUPPORTED, "decoding a dictionary of nested values");
    }
#undef IDX
#undef VALID
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        return st;
    }
    return pl_array_new(pl_type_retain(vt), n, nulls, validity, values, data, 0, NULL, NULL, out, err);
}

pl_status pl_array_decode_dictionary(pl_array *a, pl_array **out, pl_error *err) {
    if (a->type->id != PL_TYPE_DICTIONARY) {
        *out = pl_array_retain(a);
        return PL_OK;
    }
    return take_dict(a, out, err);
}

/* ---------------------------------------------------------------- concatenation */

static pl_status concat_validity(int64_t n, pl_array *const *arrays, int64_t total, pl_buf **out,
                                 int64_t *nulls, pl_error *err) {
    *out = NULL;
    *nulls = 0;
    bool any = false;
    for (int64_t k = 0; k < n; k++) if (pl_array_null_count(arrays[k]) > 0) any = true;
    if (!any) return PL_OK;
    PL_TRY(pl_buf_new_zeroed(bits_bytes(total), out, err));
    int64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        pl_array *a = arrays[k];
        if (a->validity) copy_bits((*out)->data, pos, a->validity->data, a->offset, a->length);
        else if (a->type->id != PL_TYPE_NA)
            for (int64_t i = 0; i < a->length; i++) pl_bit_set((*out)->data, pos + i);
        *nulls += pl_array_null_count(a);
        pos += a->length;
    }
    return PL_OK;
}

pl_status pl_array_concat(int64_t n, pl_array *const *arrays, pl_array **out, pl_error *err) {
    if (n <= 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "concatenating no arrays");
    if (n == 1) {
        *out = pl_array_retain(arrays[0]);
        return PL_OK;
    }
    pl_type *t = arrays[0]->type;
    int64_t total = 0;
    for (int64_t k = 0; k < n; k++) {
        if (!pl_type_equals(arrays[k]->type, t))
            PL_FAIL(err, PL_ERR_TYPE, "cannot concatenate arrays of different types");
        total += arrays[k]->length;
    }
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array *children[64] = {0};
    pl_array *dict = NULL;
    int32_t n_children = expected_children(t);
    int64_t nulls = 0;
    pl_status st;
    pl_array **parts = NULL;
    if (n_children > 64) PL_FAIL(err, PL_ERR_UNSUPPORTED, "struct with more than 64 fields");
    st = concat_validity(n, arrays, total, &validity, &nulls, err);
    if (st) return st;
    if (t->id == PL_TYPE_NA) {
        nulls = total;
    } else if (t->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed(bits_bytes(total), &values, err);
        int64_t pos = 0;
        for (int64_t k = 0; !st && k < n; k++) {
            copy_bits(values->data, pos, arrays[k]->values->data, arrays[k]->offset, arrays[k]->length);
            pos += arrays[k]->length;
        }
    } else if (is_fixed_type(t->id)) {
        int32_t w = t->byte_width;
        st = pl_buf_new(total * w, &values, err);
        int64_t pos = 0;
        for (int64_t k = 0; !st && k < n; k++) {
            if (arrays[k]->length)
                memcpy(values->data + pos * w, pl_array_values_ptr(arrays[k]), (size_t)(arrays[k]->length * w));
            pos += arrays[k]->length;
        }
        if (!st) values->size = total * w;
        if (!st && t->id == PL_TYPE_DICTIONARY) {
            /* Same dictionary everywhere: keep it. Otherwise append dictionaries and shift
             * the indices of each part by the values before it. */
            bool same = true;
            for (int64_t k = 1; k < n; k++) same = same && arrays[k]->dictionary == arrays[0]->dictionary;
            if (same) {
                dict = pl_array_retain(arrays[0]->dictionary);
            } else {
                pl_array **dicts = pl_malloc(sizeof(pl_array *) * (size_t)n);
                if (!dicts) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                for (int64_t k = 0; !st && k < n; k++) dicts[k] = arrays[k]->dictionary;
                if (!st) st = pl_array_concat(n, dicts, &dict, err);
                pl_free(dicts);
                int64_t base = 0, row = 0;
                int64_t max_index = t->byte_width >= 8 ? INT64_MAX : (INT64_C(1) << (t->byte_width * 8 - 1)) - 1;
                if (!st && dict->length - 1 > max_index)
                    st = pl_error_set(err, PL_ERR_LIMIT, "combined dictionary too large for its index type");
                for (int64_t k = 0; !st && k < n; k++) {
                    for (int64_t i = 0; i < arrays[k]->length; i++, row++) {
                        int64_t v = read_index(arrays[k], i) + base;
                        uint8_t *p = values->data + row * w;
                        if (w == 1) *p = (uint8_t)v;
                        else if (w == 2) { int16_t x = (int16_t)v; memcpy(p, &x, 2); }
                        else if (w == 4) { int32_t x = (int32_t)v; memcpy(p, &x, 4); }
                        else memcpy(p, &v, 8);
                    }
                    base += arrays[k]->dictionary->length;
                }
            }
        }
    } else if (is_offsets_type(t->id)) {
        bool varlen = pl_type_is_varlen(t->id);
        int64_t total_data = 0;
        for (int64_t k = 0; k < n; k++) {
            if (!arrays[k]->length) continue;
            const int32_t *o = pl_array_offsets(arrays[k]);
            total_data += o[arrays[k]->length] - o[0];
        }
        if (total_data > PL_MAX_VARLEN_BYTES) {
            st = pl_error_set(err, PL_ERR_LIMIT, "concatenated %s exceed 2^31 bytes or items",
                              varlen ? "values" : "list items");
        }
        if (!st) st = pl_buf_new((total + 1) * 4, &values, err);
        if (!st && varlen) st = pl_buf_new(total_data, &data, err);
        if (!st && !varlen) {
            parts = pl_calloc((size_t)n, sizeof(pl_array *));
            if (!parts) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        }
        int32_t *no = values ? (int32_t *)(void *)values->data : NULL;
        int64_t pos = 0, dpos = 0;
        for (int64_t k = 0; !st && k < n; k++) {
            pl_array *a = arrays[k];
            const int32_t *o = a->length ? pl_array_offsets(a) : NULL;
            int32_t first = o ? o[0] : 0, last = o ? o[a->length] : 0;
            for (int64_t i = 0; i < a->length; i++) no[pos + i] = (int32_t)(dpos + o[i] - first);
            if (varlen && last > first) memcpy(data->data + dpos, a->data->data + first, (size_t)(last - first));
            if (!varlen) st = pl_array_slice(a->children[0], first, last - first, &parts[k], err);
            pos += a->length;
            dpos += last - first;
        }
        if (!st) {
            no[total] = (int32_t)dpos;
            values->size = (total + 1) * 4;
            if (data) data->size = dpos;
        }
        if (!st && !varlen) st = pl_array_concat(n, parts, &children[0], err);
        if (parts) for (int64_t k = 0; k < n; k++) pl_array_release(parts[k]);
    } else if (t->id == PL_TYPE_STRUCT) {
        parts = pl_calloc((size_t)n, sizeof(pl_array *));
        if (!parts) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t c = 0; !st && c < n_children; c++) {
            for (int64_t k = 0; !st && k < n; k++)
                st = pl_array_slice(arrays[k]->children[c], arrays[k]->offset, arrays[k]->length, &parts[k], err);
            if (!st) st = pl_array_concat(n, parts, &children[c], err);
            for (int64_t k = 0; k < n; k++) {
                pl_array_release(parts[k]);
                parts[k] = NULL;
            }
        }
    }
    pl_free(parts);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        pl_array_release(dict);
        for (int32_t c = 0; c < n_children; c++) pl_array_release(children[c]);
        return st;
    }
    return pl_array_new(pl_type_retain(t), total, nulls, validity, values, data, n_children, children,
                        dict, out, err);
}

/* ---------------------------------------------------------------- equality */

static bool value_equals(pl_array *a, int64_t i, pl_array *b, int64_t j);

static bool range_equals(pl_array *a, int64_t ai, pl_array *b, int64_t bi, int64_t n) {
    for (int64_t k = 0; k < n; k++)
        if (!value_equals(a, ai + k, b, bi + k)) return false;
    return true;
}

static bool value_equals(pl_array *a, int64_t i, pl_array *b, int64_t j) {
    bool va = pl_array_is_valid(a, i), vb = pl_array_is_valid(b, j);
    if (a->type->id == PL_TYPE_DICTIONARY) {
        if (!va) return !(b->type->id == PL_TYPE_DICTIONARY ? pl_array_is_valid(b, j) : vb);
        return value_equals(a->dictionary, read_index(a, i), b, j);
    }
    if (b->type->id == PL_TYPE_DICTIONARY) {
        if (!vb) return !va;
        return value_equals(a, i, b->dictionary, read_index(b, j));
    }
    if (va != vb) return false;
    if (!va) return true;
    const pl_type *t = a->type;
    switch (t->id) {
    case PL_TYPE_BOOL:
        return pl_bit_get(a->values->data, a->offset + i) == pl_bit_get(b->values->data, b->offset + j);
    case PL_TYPE_FLOAT32: {
        float x = ((const float *)pl_array_values_ptr(a))[i], y = ((const float *)pl_array_values_ptr(b))[j];
        if (isnan(x) && isnan(y)) return true;
        return memcmp(&x, &y, 4) == 0;
    }
    case PL_TYPE_FLOAT64: {
        double x = ((const double *)pl_array_values_ptr(a))[i], y = ((const double *)pl_array_values_ptr(b))[j];
        if (isnan(x) && isnan(y)) return true;
        return memcmp(&x, &y, 8) == 0;
    }
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t la, lb;
        const uint8_t *pa = pl_array_bytes(a, i, &la), *pb = pl_array_bytes(b, j, &lb);
        return la == lb && (la == 0 || memcmp(pa, pb, (size_t)la) == 0);
    }
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        int64_t na = oa[i + 1] - oa[i], nb = ob[j + 1] - ob[j];
        return na == nb && range_equals(a->children[0], oa[i], b->children[0], ob[j], na);
    }
    case PL_TYPE_STRUCT:
        for (int32_t c = 0; c < a->n_children; c++)
            if (!value_equals(a->children[c], a->offset + i, b->children[c], b->offset + j)) return false;
        return true;
    case PL_TYPE_NA:
        return true;
    default: {
        int32_t w = t->byte_width;
        return memcmp((const uint8_t *)pl_array_values_ptr(a) + i * w,
                      (const uint8_t *)pl_array_values_ptr(b) + j * w, (size_t)w) == 0;
    }
    }
}

bool pl_array_equals(pl_array *a, pl_array *b) {
    if (a->length != b->length) return false;
    const pl_type *ta = a->type->id == PL_TYPE_DICTIONARY ? a->type->value_type : a->type;
    const pl_type *tb = b->type->id == PL_TYPE_DICTIONARY ? b->type->value_type : b->type;
    if (!pl_type_equals(ta, tb)) return false;
    return range_equals(a, 0, b, 0, a->length);
}
