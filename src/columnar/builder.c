/* builder.c - pl_builder: row-at-a-time construction of any array type, for readers of text
 * formats and for tests. Buffers grow geometrically; the validity bitmap is created on the
 * first NULL (never for the NA type). Dictionary builders dedupe values through an
 * open-addressing hash table whose slots hold indices into the value builder.
 * Invariant: values of an offsets type (UTF8, BINARY, LIST, MAP) always hold length + 1
 * offsets, starting with 0. A failed append leaves the builder usable only for
 * pl_builder_free. */
#include <string.h>

#include "columnar/columnar_int.h"

struct pl_builder {
    pl_type *type;
    int64_t length;
    int64_t null_count;
    pl_buf *validity; /* NULL until the first NULL */
    pl_buf *values;
    pl_buf *data;
    int32_t n_children;
    pl_builder **children;
    /* DICTIONARY */
    pl_builder *dict_values;
    int64_t *slots; /* -1 empty, else dictionary index */
    int64_t n_slots;
};

static bool stores_ints(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_DATE32: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

static bool has_offsets(pl_type_id id) {
    return pl_type_is_varlen(id) || id == PL_TYPE_LIST || id == PL_TYPE_MAP;
}

/* Fresh values/data buffers for an empty builder of b's type. */
static pl_status new_buffers(const pl_type *type, int64_t capacity, pl_buf **values,
                             pl_buf **data, pl_error *err) {
    pl_type_id id = type->id;
    *values = NULL;
    *data = NULL;
    pl_status st = PL_OK;
    if (id == PL_TYPE_BOOL) st = pl_buf_new((capacity + 7) / 8, values, err);
    else if (has_offsets(id)) st = pl_buf_new((capacity + 1) * 4, values, err);
    else if (id == PL_TYPE_FIXED_BINARY || (id != PL_TYPE_STRUCT && type->byte_width > 0))
        st = pl_buf_new(capacity * PL_MAX(type->byte_width, 1), values, err);
    if (!st && has_offsets(id)) {
        memset((*values)->data, 0, 4);
        (*values)->size = 4;
    }
    if (!st && pl_type_is_varlen(id)) st = pl_buf_new(capacity * 8, data, err);
    if (st) {
        pl_buf_release(*values);
        *values = NULL;
    }
    return st;
}

pl_status pl_builder_new(pl_type *type, int64_t capacity, pl_builder **out, pl_error *err) {
    if (!type) PL_FAIL(err, PL_ERR_INVALID_ARG, "builder without a type");
    if (type->id == PL_TYPE_DICTIONARY && type->value_type->id == PL_TYPE_DICTIONARY)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "dictionary of dictionaries");
    pl_builder *b = pl_calloc(1, sizeof *b);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a builder");
    b->type = pl_type_retain(type);
    if (capacity < 16) capacity = 16;
    pl_type_id id = type->id;
    pl_status st = new_buffers(type, capacity, &b->values, &b->data, err);
    if (!st && (id == PL_TYPE_LIST || id == PL_TYPE_MAP || id == PL_TYPE_STRUCT) &&
        type->n_children > 0) {
        b->children = pl_calloc((size_t)type->n_children, sizeof(pl_builder *));
        if (!b->children) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory allocating a builder");
        for (int32_t i = 0; !st && i < type->n_children; i++) {
            st = pl_builder_new(type->children[i].type, capacity, &b->children[i], err);
            if (!st) b->n_children = i + 1;
        }
    }
    if (!st && id == PL_TYPE_DICTIONARY)
        st = pl_builder_new(type->value_type, 64, &b->dict_values, err);
    if (st) {
        pl_builder_free(b);
        return st;
    }
    *out = b;
    return PL_OK;
}

void pl_builder_free(pl_builder *b) {
    if (!b) return;
    for (int32_t i = 0; i < b->n_children; i++) pl_builder_free(b->children[i]);
    pl_free(b->children);
    pl_builder_free(b->dict_values);
    pl_free(b->slots);
    pl_buf_release(b->validity);
    pl_buf_release(b->values);
    pl_buf_release(b->data);
    pl_type_release(b->type);
    pl_free(b);
}

pl_builder *pl_builder_child(pl_builder *b, int32_t i) {
    return (i >= 0 && i < b->n_children) ? b->children[i] : NULL;
}

int64_t pl_builder_length(const pl_builder *b) { return b->length; }

/* Appends one validity bit, creating the bitmap (all valid so far) on the first NULL. */
static pl_status push_valid(pl_builder *b, bool valid, pl_error *err) {
    if (b->type->id == PL_TYPE_NA) {
        if (valid) PL_FAIL(err, PL_ERR_TYPE, "a null-type builder takes only nulls");
        b->null_count++;
        return PL_OK;
    }
    if (!valid && !b->validity) {
        PL_TRY(pl_buf_new(PL_MAX((b->length + 8) / 8 * 2, 64), &b->validity, err));
        memset(b->validity->data, 0xFF, (size_t)b->validity->capacity);
        b->validity->size = (b->length + 7) / 8;
    }
    if (b->validity) {
        int64_t need = (b->length + 1 + 7) / 8;
        if (need > b->validity->capacity) {
            int64_t old = b->validity->capacity;
            PL_TRY(pl_buf_reserve(b->validity, need, err));
            memset(b->validity->data + old, 0xFF, (size_t)(b->validity->capacity - old));
        }
        b->validity->size = need;
        pl_bit_put(b->validity->data, b->length, valid);
    }
    if (!valid) b->null_count++;
    return PL_OK;
}

static pl_status push_fixed(pl_builder *b, const void *bytes, int64_t w, pl_error *err) {
    return pl_buf_append(b->values, bytes, w, err);
}

static pl_status push_offset(pl_builder *b, int64_t end, pl_error *err) {
    if (end > PL_MAX_VARLEN_BYTES) PL_FAIL(err, PL_ERR_LIMIT, "array exceeds 2^31 bytes or items");
    int32_t o = (int32_t)end;
    return pl_buf_append(b->values, &o, 4, err);
}

static pl_status push_bool_bit(pl_builder *b, bool v, pl_error *err) {
    int64_t need = (b->length + 1 + 7) / 8;
    if (need > b->values->capacity) PL_TRY(pl_buf_reserve(b->values, need, err));
    b->values->size = need;
    pl_bit_put(b->values->data, b->length, v);
    return PL_OK;
}

/* Appends a zero value of b's fixed width (the slot under a NULL). */
static pl_status push_zeros(pl_builder *b, int64_t w, pl_error *err) {
    if (w <= 0) return PL_OK;
    if (b->values->size + w > b->values->capacity)
        PL_TRY(pl_buf_reserve(b->values, b->values->size + w, err));
    memset(b->values->data + b->values->size, 0, (size_t)w);
    b->values->size += w;
    return PL_OK;
}

static pl_status dict_append(pl_builder *b, const void *bytes, int64_t n, pl_error *err);

pl_status pl_builder_append_null(pl_builder *b, pl_error *err) {
    pl_type_id id = b->type->id;
    if (id == PL_TYPE_BOOL) PL_TRY(push_bool_bit(b, false, err));
    else if (pl_type_is_varlen(id)) PL_TRY(push_offset(b, b->data->size, err));
    else if (id == PL_TYPE_LIST || id == PL_TYPE_MAP) PL_TRY(push_offset(b, b->children[0]->length, err));
    else if (id == PL_TYPE_STRUCT)
        for (int32_t i = 0; i < b->n_children; i++) PL_TRY(pl_builder_append_null(b->children[i], err));
    else if (b->values) PL_TRY(push_zeros(b, b->type->byte_width, err));
    PL_TRY(push_valid(b, false, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_valid(pl_builder *b, pl_error *err) {
    pl_type_id id = b->type->id;
    if (id == PL_TYPE_LIST || id == PL_TYPE_MAP) {
        PL_TRY(push_offset(b, b->children[0]->length, err));
    } else if (id == PL_TYPE_STRUCT) {
        for (int32_t i = 0; i < b->n_children; i++)
            if (b->children[i]->length != b->length + 1)
                PL_FAIL(err, PL_ERR_INVALID_ARG,
                        "struct field \"%s\" has %lld values, the struct row needs %lld",
                        b->type->children[i].name, (long long)b->children[i]->length,
                        (long long)(b->length + 1));
    } else {
        PL_FAIL(err, PL_ERR_TYPE, "append_valid applies to list, map and struct builders");
    }
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_bool(pl_builder *b, bool v, pl_error *err) {
    if (b->type->id != PL_TYPE_BOOL) PL_FAIL(err, PL_ERR_TYPE, "append_bool on a non-bool builder");
    PL_TRY(push_bool_bit(b, v, err));
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_i64(pl_builder *b, int64_t v, pl_error *err) {
    pl_type_id id = b->type->id;
    if (id == PL_TYPE_DICTIONARY) {
        if (!stores_ints(b->type->value_type->id))
            PL_FAIL(err, PL_ERR_TYPE, "append_i64 on a dictionary of non-integers");
        /* little-endian: the low bytes come first */
        return dict_append(b, &v, b->type->value_type->byte_width, err);
    }
    if (!stores_ints(id)) PL_FAIL(err, PL_ERR_TYPE, "append_i64 on a builder of a non-integer type");
    PL_TRY(push_fixed(b, &v, b->type->byte_width, err));
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_f64(pl_builder *b, double v, pl_error *err) {
    pl_type_id id = b->type->id;
    bool dict = id == PL_TYPE_DICTIONARY;
    if (dict) id = b->type->value_type->id;
    if (id != PL_TYPE_FLOAT32 && id != PL_TYPE_FLOAT64)
        PL_FAIL(err, PL_ERR_TYPE, "append_f64 on a non-float builder");
    float f = (float)v;
    const void *bytes = id == PL_TYPE_FLOAT32 ? (const void *)&f : (const void *)&v;
    int64_t w = id == PL_TYPE_FLOAT32 ? 4 : 8;
    if (dict) return dict_append(b, bytes, w, err);
    PL_TRY(push_fixed(b, bytes, w, err));
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_decimal(pl_builder *b, uint64_t lo, int64_t hi, pl_error *err) {
    pl_type_id id = b->type->id == PL_TYPE_DICTIONARY ? b->type->value_type->id : b->type->id;
    if (id != PL_TYPE_DECIMAL128) PL_FAIL(err, PL_ERR_TYPE, "append_decimal on a non-decimal builder");
    uint8_t v[16];
    memcpy(v, &lo, 8);
    memcpy(v + 8, &hi, 8);
    if (b->type->id == PL_TYPE_DICTIONARY) return dict_append(b, v, 16, err);
    PL_TRY(push_fixed(b, v, 16, err));
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

static pl_status append_bytes_plain(pl_builder *b, const void *bytes, int64_t n, pl_error *err) {
    pl_type_id id = b->type->id;
    if (pl_type_is_varlen(id)) {
        if (n < 0 || n > PL_MAX_VARLEN_BYTES - b->data->size)
            PL_FAIL(err, PL_ERR_LIMIT, "array exceeds 2^31 bytes");
        PL_TRY(pl_buf_append(b->data, bytes, n, err));
        PL_TRY(push_offset(b, b->data->size, err));
    } else if (id == PL_TYPE_FIXED_BINARY) {
        if (n != b->type->byte_width)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "fixed_binary[%d] value of %lld bytes", b->type->byte_width,
                    (long long)n);
        PL_TRY(push_fixed(b, bytes, n, err));
    } else {
        PL_FAIL(err, PL_ERR_TYPE, "append_bytes on a builder of a non-binary type");
    }
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

pl_status pl_builder_append_bytes(pl_builder *b, const void *bytes, int64_t n, pl_error *err) {
    if (b->type->id == PL_TYPE_DICTIONARY) {
        pl_type_id vid = b->type->value_type->id;
        if (!pl_type_is_varlen(vid) && vid != PL_TYPE_FIXED_BINARY)
            PL_FAIL(err, PL_ERR_TYPE, "append_bytes on a dictionary of non-binary values");
        return dict_append(b, bytes, n, err);
    }
    return append_bytes_plain(b, bytes, n, err);
}

/* ---------------------------------------------------------------- dictionary */

static const uint8_t *dict_value(const pl_builder *vb, int64_t k, int64_t *n) {
    if (pl_type_is_varlen(vb->type->id)) {
        const int32_t *o = (const int32_t *)(const void *)vb->values->data;
        *n = o[k + 1] - o[k];
        return vb->data->data + o[k];
    }
    *n = vb->type->byte_width;
    return vb->values->data + k * vb->type->byte_width;
}

static pl_status dict_rehash(pl_builder *b, pl_error *err) {
    int64_t n_slots = b->n_slots ? b->n_slots * 2 : 64;
    int64_t *slots = pl_malloc(sizeof(int64_t) * (size_t)n_slots);
    if (!slots) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing a dictionary");
    memset(slots, 0xFF, sizeof(int64_t) * (size_t)n_slots);
    uint64_t mask = (uint64_t)n_slots - 1;
    for (int64_t k = 0; k < b->dict_values->length; k++) {
        int64_t n;
        const uint8_t *p = dict_value(b->dict_values, k, &n);
        uint64_t h = pl_hash_bytes(p, n) & mask;
        while (slots[h] >= 0) h = (h + 1) & mask;
        slots[h] = k;
    }
    pl_free(b->slots);
    b->slots = slots;
    b->n_slots = n_slots;
    return PL_OK;
}

static pl_status dict_append(pl_builder *b, const void *bytes, int64_t n, pl_error *err) {
    pl_builder *vb = b->dict_values;
    if ((vb->length + 1) * 2 > b->n_slots) PL_TRY(dict_rehash(b, err));
    uint64_t mask = (uint64_t)b->n_slots - 1;
    uint64_t h = pl_hash_bytes(bytes, n) & mask;
    int64_t k = -1;
    while (b->slots[h] >= 0) {
        int64_t len;
        const uint8_t *p = dict_value(vb, b->slots[h], &len);
        if (len == n && (n == 0 || memcmp(p, bytes, (size_t)n) == 0)) {
            k = b->slots[h];
            break;
        }
        h = (h + 1) & mask;
    }
    if (k < 0) {
        if (vb->length > pl_dict_max_index(b->type->index_id))
            PL_FAIL(err, PL_ERR_LIMIT, "dictionary of %lld values exceeds its index type",
                    (long long)vb->length);
        k = vb->length;
        if (pl_type_is_varlen(vb->type->id) || vb->type->id == PL_TYPE_FIXED_BINARY) {
            PL_TRY(append_bytes_plain(vb, bytes, n, err));
        } else {
            PL_TRY(push_fixed(vb, bytes, vb->type->byte_width, err));
            PL_TRY(push_valid(vb, true, err));
            vb->length++;
        }
        b->slots[h] = k;
    }
    PL_TRY(push_fixed(b, &k, b->type->byte_width, err)); /* little-endian low bytes */
    PL_TRY(push_valid(b, true, err));
    b->length++;
    return PL_OK;
}

/* ---------------------------------------------------------------- finish */

pl_status pl_builder_finish(pl_builder *b, pl_array **out, pl_error *err) {
    pl_array **children = NULL, *dict = NULL;
    pl_buf *nvalues = NULL, *ndata = NULL;
    pl_status st = PL_OK;
    /* Everything that can fail for this level is allocated before the data is handed over. */
    if (b->n_children > 0 && !(children = pl_calloc((size_t)b->n_children, sizeof(pl_array *))))
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory finishing a builder");
    st = new_buffers(b->type, 16, &nvalues, &ndata, err);
    for (int32_t i = 0; !st && i < b->n_children; i++)
        st = pl_builder_finish(b->children[i], &children[i], err);
    if (!st && b->dict_values) st = pl_builder_finish(b->dict_values, &dict, err);
    if (st) {
        for (int32_t i = 0; i < b->n_children; i++) pl_array_release(children[i]);
        pl_free(children);
        pl_array_release(dict);
        pl_buf_release(nvalues);
        pl_buf_release(ndata);
        return st;
    }
    pl_buf *validity = b->validity, *values = b->values, *data = b->data;
    int64_t length = b->length, nulls = b->null_count;
    b->validity = NULL;
    b->values = nvalues;
    b->data = ndata;
    b->length = 0;
    b->null_count = 0;
    pl_free(b->slots);
    b->slots = NULL;
    b->n_slots = 0;
    st = pl_array_new(pl_type_retain(b->type), length, nulls, validity, values, data,
                      b->n_children, children, dict, out, err);
    pl_free(children);
    return st;
}
