/* array.c - pl_array: assembly with buffer-size checks, slicing, null counts, validation of
 * untrusted arrays, dictionary decoding, concatenation and deep equality.
 * Invariants: a published array is never modified (null_count is cached atomically); every
 * function here except pl_array_validate assumes its inputs are valid arrays (arrays read from
 * files or the network go through pl_array_validate first), but dictionary indices are still
 * bounds-checked wherever they are dereferenced. */
#include <math.h>
#include <string.h>

#include "columnar/columnar_int.h"

static bool is_offsets_type(pl_type_id id) {
    return id == PL_TYPE_UTF8 || id == PL_TYPE_BINARY || id == PL_TYPE_LIST || id == PL_TYPE_MAP;
}

static bool is_fixed_type(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_DECIMAL128: case PL_TYPE_DATE32:
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: case PL_TYPE_FIXED_BINARY: case PL_TYPE_DICTIONARY:
    case PL_TYPE_INTERVAL:
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

/* Largest index a dictionary index type can hold. */
int64_t pl_dict_max_index(pl_type_id index_id) {
    switch (index_id) {
    case PL_TYPE_INT8: return INT8_MAX;
    case PL_TYPE_UINT8: return UINT8_MAX;
    case PL_TYPE_INT16: return INT16_MAX;
    case PL_TYPE_UINT16: return UINT16_MAX;
    case PL_TYPE_INT32: return INT32_MAX;
    case PL_TYPE_UINT32: return UINT32_MAX;
    default: return INT64_MAX;
    }
}

/* ---------------------------------------------------------------- bits */

void pl_bits_set_range(uint8_t *dst, int64_t off, int64_t n) {
    int64_t i = off, end = off + n;
    while (i < end && (i & 7)) pl_bit_set(dst, i++);
    if (end - i >= 8) {
        memset(dst + (i >> 3), 0xFF, (size_t)((end - i) >> 3));
        i += (end - i) & ~(int64_t)7;
    }
    while (i < end) pl_bit_set(dst, i++);
}

void pl_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n) {
    if (n <= 0) return;
    int64_t i = 0;
    if (((dst_off ^ src_off) & 7) == 0) {
        /* Same phase: bits up to a byte boundary, then whole bytes with memcpy. */
        while (i < n && ((dst_off + i) & 7)) {
            pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
            i++;
        }
        int64_t full = (n - i) >> 3;
        if (full > 0) memcpy(dst + ((dst_off + i) >> 3), src + ((src_off + i) >> 3), (size_t)full);
        i += full * 8;
        for (; i < n; i++) pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
        return;
    }
    /* Align the destination, then assemble each destination byte from two source bytes. */
    while (i < n && ((dst_off + i) & 7)) {
        pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
        i++;
    }
    int shift = (int)((src_off + i) & 7); /* != 0 here */
    /* With shift != 0 the 8 source bits of one step straddle bytes sb and sb + 1, both of
     * which hold bits still to copy, so src[sb + 1] is in bounds. */
    while (i + 8 <= n) {
        int64_t sb = (src_off + i) >> 3;
        unsigned v = ((unsigned)src[sb] >> shift) | ((unsigned)src[sb + 1] << (8 - shift));
        dst[(dst_off + i) >> 3] = (uint8_t)v;
        i += 8;
    }
    for (; i < n; i++) pl_bit_put(dst, dst_off + i, pl_bit_get(src, src_off + i));
}

/* ---------------------------------------------------------------- assembly */

static void release_children(int32_t n, pl_array **children) {
    for (int32_t i = 0; i < n; i++) pl_array_release(children ? children[i] : NULL);
}

pl_status pl_array_new(pl_type *type, int64_t length, int64_t null_count, pl_buf *validity,
                       pl_buf *values, pl_buf *data, int32_t n_children, pl_array **children,
                       pl_array *dictionary, pl_array **out, pl_error *err) {
    pl_status st = PL_OK;
    pl_array *a = NULL;
    char tn[128];
    if (!type || length < 0 || n_children < 0 || (n_children > 0 && !children)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                          "array without a type, with negative length or missing children");
        goto fail;
    }
    pl_type_to_string(type, tn, sizeof tn);
    if (validity && validity->size < bits_bytes(length)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                          "%s array: validity bitmap of %lld bytes is too small for %lld values", tn,
                          (long long)validity->size, (long long)length);
        goto fail;
    }
    if (n_children != expected_children(type)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: expected %d children, got %d", tn,
                          expected_children(type), n_children);
        goto fail;
    }
    if (type->id == PL_TYPE_BOOL) {
        if (length > 0 && (!values || values->size < bits_bytes(length))) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "bool array: values bitmap too small");
            goto fail;
        }
    } else if (is_fixed_type(type->id)) {
        int64_t w = type->byte_width;
        if (length > 0 && w > 0 && (!values || values->size / w < length)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "%s array: values buffer too small for %lld values", tn,
                              (long long)length);
            goto fail;
        }
        if (type->id == PL_TYPE_DICTIONARY &&
            (!dictionary || !pl_type_equals(dictionary->type, type->value_type))) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: missing or mistyped dictionary",
                              tn);
            goto fail;
        }
    } else if (is_offsets_type(type->id)) {
        if (length > 0 && (!values || values->size / 4 < length + 1)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "%s array: offsets buffer too small for %lld values", tn,
                              (long long)length);
            goto fail;
        }
    }
    for (int32_t i = 0; i < n_children; i++) {
        if (!children[i]) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s array: child %d is missing", tn, i);
            goto fail;
        }
        if (type->id == PL_TYPE_STRUCT && children[i]->length < length) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "struct array: field \"%s\" has %lld values, the struct %lld",
                              type->children[i].name, (long long)children[i]->length,
                              (long long)length);
            goto fail;
        }
    }
    a = pl_calloc(1, sizeof *a);
    if (!a || (n_children > 0 &&
               !(a->children = pl_malloc(sizeof(pl_array *) * (size_t)n_children)))) {
        pl_free(a);
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory allocating an array");
        goto fail;
    }
    a->type = type;
    a->length = length;
    a->offset = 0;
    if (type->id == PL_TYPE_NA) a->null_count = length;
    else a->null_count = validity ? null_count : 0;
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
    release_children(n_children, children);
    pl_array_release(dictionary);
    return st;
}

pl_status pl_array_new_nulls(pl_type *type, int64_t length, pl_array **out, pl_error *err) {
    if (length < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative length");
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array **children = NULL;
    pl_array *dict = NULL;
    int32_t n_children = expected_children(type);
    pl_status st = PL_OK;
    if (n_children > 0 && !(children = pl_calloc((size_t)n_children, sizeof(pl_array *))))
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating an array");
    if (type->id != PL_TYPE_NA) st = pl_buf_new_zeroed(bits_bytes(length), &validity, err);
    if (st) {
    } else if (type->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed(bits_bytes(length), &values, err);
    } else if (is_fixed_type(type->id)) {
        st = pl_buf_new_zeroed(length * type->byte_width, &values, err);
    } else if (is_offsets_type(type->id)) {
        st = pl_buf_new_zeroed((length + 1) * 4, &values, err);
        /* an empty byte buffer, not none: kernels read value bytes at data->data + offset */
        if (!st && pl_type_is_varlen(type->id)) st = pl_buf_new_zeroed(0, &data, err);
    }
    if (!st && type->id == PL_TYPE_DICTIONARY)
        st = pl_array_new_nulls(type->value_type, 0, &dict, err);
    for (int32_t i = 0; !st && i < n_children; i++) {
        int64_t child_len = type->id == PL_TYPE_STRUCT ? length : 0;
        st = pl_array_new_nulls(type->children[i].type, child_len, &children[i], err);
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        pl_array_release(dict);
        release_children(n_children, children);
        pl_free(children);
        return st;
    }
    st = pl_array_new(pl_type_retain(type), length, length, validity, values, data, n_children,
                      children, dict, out, err);
    pl_free(children);
    return st;
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
    if (!s || (a->n_children > 0 &&
               !(s->children = pl_malloc(sizeof(pl_array *) * (size_t)a->n_children)))) {
        pl_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory slicing an array");
    }
    int64_t parent_nulls = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    s->type = pl_type_retain(a->type);
    s->length = length;
    s->offset = a->offset + offset;
    if (a->type->id == PL_TYPE_NA) s->null_count = length;
    else if (parent_nulls == 0 || !a->validity) s->null_count = 0;
    else if (length == a->length) s->null_count = parent_nulls;
    else s->null_count = -1;
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

/* Nulls in rows [off, off+n) of a (its own validity only). */
static int64_t range_nulls(const pl_array *a, int64_t off, int64_t n) {
    if (a->type->id == PL_TYPE_NA) return n;
    if (!a->validity || n == 0) return 0;
    if (off == 0 && n == a->length && a->null_count >= 0) return a->null_count;
    return n - pl_bitmap_count(a->validity->data, a->offset + off, n);
}

/* ---------------------------------------------------------------- dictionary indices */

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

#define PL_IDX_BLOCK 1024

/* Loads indices of rows [start, start+n) (n <= PL_IDX_BLOCK) into dst as int64; a typed loop
 * per index type so the compiler vectorises the widening. */
static void load_indices(const pl_array *a, int64_t start, int64_t n, int64_t *dst) {
    const uint8_t *p = a->values->data + (a->offset + start) * a->type->byte_width;
#define LOAD(T)                                                                                    \
    do {                                                                                           \
        for (int64_t i_ = 0; i_ < n; i_++) {                                                       \
            T v_;                                                                                  \
            memcpy(&v_, p + i_ * (int64_t)sizeof(T), sizeof(T));                                   \
            dst[i_] = (int64_t)v_;                                                                 \
        }                                                                                          \
    } while (0)
    switch (a->type->index_id) {
    case PL_TYPE_INT8: LOAD(int8_t); break;
    case PL_TYPE_UINT8: LOAD(uint8_t); break;
    case PL_TYPE_INT16: LOAD(int16_t); break;
    case PL_TYPE_UINT16: LOAD(uint16_t); break;
    case PL_TYPE_INT32: LOAD(int32_t); break;
    case PL_TYPE_UINT32: LOAD(uint32_t); break;
    default: LOAD(int64_t); break;
    }
#undef LOAD
}

static void store_index(uint8_t *p, int32_t w, int64_t v) {
    switch (w) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* ---------------------------------------------------------------- validation */

/* True when every byte of s[0, n) is ASCII (then any split of it is valid UTF-8). */
static bool all_ascii(const uint8_t *s, int64_t n) {
    uint64_t acc = 0;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) acc |= pl_load_u64le(s + i);
    for (; i < n; i++) acc |= s[i];
    return (acc & 0x8080808080808080ULL) == 0;
}

static pl_status check_child_type(const pl_array *a, int32_t i, pl_error *err) {
    const pl_type *want = a->type->children[i].type;
    if (pl_type_equals(a->children[i]->type, want)) return PL_OK;
    char w[128], f[128];
    PL_FAIL(err, PL_ERR_CORRUPT, "child \"%s\" has type %s, expected %s", a->type->children[i].name,
            pl_type_to_string(a->children[i]->type, f, sizeof f), pl_type_to_string(want, w, sizeof w));
}

static pl_status validate_dictionary(const pl_array *a, bool check_utf8, int depth, pl_error *err);
static pl_status validate_offsets(const pl_array *a, bool check_utf8, int depth, pl_error *err);
static pl_status validate_rec(const pl_array *a, bool check_utf8, int depth, pl_error *err);

static pl_status validate_dictionary(const pl_array *a, bool check_utf8, int depth,
                                     pl_error *err) {
    const pl_type *t = a->type;
    if (!t->value_type) PL_FAIL(err, PL_ERR_CORRUPT, "dictionary type without a value type");
    if (t->index_id < PL_TYPE_INT8 || t->index_id > PL_TYPE_UINT64)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index type is not an integer type");
    if (!a->dictionary) PL_FAIL(err, PL_ERR_CORRUPT, "dictionary array without a dictionary");
    if (!pl_type_equals(a->dictionary->type, t->value_type))
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary values do not have the dictionary's value type");
    if (t->byte_width != pl_type_simple(t->index_id)->byte_width)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index width %d does not match its index type",
                t->byte_width);
    PL_TRY(validate_rec(a->dictionary, check_utf8, depth + 1, err));
    int64_t n_dict = a->dictionary->length;
    int64_t idx[PL_IDX_BLOCK];
    for (int64_t start = 0; start < a->length; start += PL_IDX_BLOCK) {
        int64_t n = PL_MIN(PL_IDX_BLOCK, a->length - start);
        load_indices(a, start, n, idx);
        bool bad = false;
        for (int64_t i = 0; i < n; i++) bad |= (uint64_t)idx[i] >= (uint64_t)n_dict;
        if (!bad) continue;
        for (int64_t i = 0; i < n; i++) {
            if ((uint64_t)idx[i] < (uint64_t)n_dict || !pl_array_is_valid(a, start + i)) continue;
            pl_error_set(err, PL_ERR_CORRUPT, "dictionary index %lld out of range (size %lld)",
                         (long long)idx[i], (long long)n_dict);
            if (err && err->row < 0) err->row = start + i;
            return PL_ERR_CORRUPT;
        }
    }
    return PL_OK;
}

static pl_status validate_offsets(const pl_array *a, bool check_utf8, int depth, pl_error *err) {
    const pl_type *t = a->type;
    bool varlen = pl_type_is_varlen(t->id);
    if (!varlen) PL_TRY(check_child_type(a, 0, err));
    if (t->id == PL_TYPE_MAP) {
        const pl_type *e = t->children[0].type;
        if (e->id != PL_TYPE_STRUCT || e->n_children != 2)
            PL_FAIL(err, PL_ERR_CORRUPT, "map entries are not a struct of key and value");
    }
    if (a->length == 0) return varlen ? PL_OK : validate_rec(a->children[0], check_utf8, depth + 1, err);
    int64_t end = a->offset + a->length;
    if (!a->values || a->values->size / 4 < end + 1)
        PL_FAIL(err, PL_ERR_CORRUPT, "offsets buffer too small for %lld values", (long long)end);
    const int32_t *o = pl_array_offsets(a);
    if (o[0] < 0) PL_FAIL(err, PL_ERR_CORRUPT, "negative first offset %d", o[0]);
    bool decreasing = false;
    for (int64_t i = 0; i < a->length; i++) decreasing |= o[i + 1] < o[i];
    if (decreasing) {
        for (int64_t i = 0; i < a->length; i++) {
            if (o[i + 1] >= o[i]) continue;
            pl_error_set(err, PL_ERR_CORRUPT, "offsets decrease (%d then %d)", o[i], o[i + 1]);
            if (err && err->row < 0) err->row = i;
            return PL_ERR_CORRUPT;
        }
    }
    if (varlen) {
        int64_t limit = a->data ? a->data->size : 0;
        if (o[a->length] > limit)
            PL_FAIL(err, PL_ERR_CORRUPT, "offset %d past the end of %lld data bytes", o[a->length],
                    (long long)limit);
        if (check_utf8 && t->id == PL_TYPE_UTF8 && o[a->length] > o[0] &&
            !all_ascii(a->data->data + o[0], o[a->length] - o[0])) {
            for (int64_t i = 0; i < a->length; i++) {
                if (pl_utf8_valid(a->data->data + o[i], o[i + 1] - o[i])) continue;
                pl_error_set(err, PL_ERR_CORRUPT, "invalid UTF-8 in a utf8 value");
                if (err && err->row < 0) err->row = i;
                return PL_ERR_CORRUPT;
            }
        }
        return PL_OK;
    }
    const pl_array *child = a->children[0];
    if (o[a->length] > child->length)
        PL_FAIL(err, PL_ERR_CORRUPT, "list offset %d past the end of %lld child values",
                o[a->length], (long long)child->length);
    PL_TRY(validate_rec(child, check_utf8, depth + 1, err));
    if (t->id == PL_TYPE_MAP && child->n_children == 2) {
        /* Map keys may not be null (entries referenced by the map only). */
        const pl_array *keys = child->children[0];
        int64_t n = o[a->length] - o[0];
        if (range_nulls(keys, child->offset + o[0], n) > 0 ||
            (child->validity && range_nulls(child, o[0], n) > 0))
            PL_FAIL(err, PL_ERR_CORRUPT, "map with a null key or entry");
    }
    return PL_OK;
}

static pl_status validate_rec(const pl_array *a, bool check_utf8, int depth, pl_error *err) {
    if (depth > PL_IPC_MAX_NESTING) PL_FAIL(err, PL_ERR_CORRUPT, "array nesting deeper than %d", PL_IPC_MAX_NESTING);
    if (!a->type) PL_FAIL(err, PL_ERR_CORRUPT, "array without a type");
    const pl_type *t = a->type;
    if (t->id < 0 || t->id >= PL_TYPE__COUNT) PL_FAIL(err, PL_ERR_CORRUPT, "unknown type id %d", (int)t->id);
    if (a->offset < 0 || a->length < 0 || a->offset > INT64_MAX / 8 - a->length - 1)
        PL_FAIL(err, PL_ERR_CORRUPT, "invalid array offset %lld or length %lld", (long long)a->offset,
                (long long)a->length);
    int64_t end = a->offset + a->length;
    if (a->validity && a->validity->size < bits_bytes(end))
        PL_FAIL(err, PL_ERR_CORRUPT, "validity bitmap of %lld bytes too small for %lld values",
                (long long)a->validity->size, (long long)end);
    if (a->n_children != expected_children(t) || (a->n_children > 0 && !a->children))
        PL_FAIL(err, PL_ERR_CORRUPT, "expected %d child arrays, found %d", expected_children(t),
                a->n_children);
    for (int32_t i = 0; i < a->n_children; i++)
        if (!a->children[i]) PL_FAIL(err, PL_ERR_CORRUPT, "child array %d is missing", i);
    /* A cached null count others rely on must match the bitmap. */
    int64_t nc = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    if (nc >= 0) {
        int64_t actual = t->id == PL_TYPE_NA ? a->length
                         : !a->validity     ? 0
                                            : a->length - pl_bitmap_count(a->validity->data,
                                                                          a->offset, a->length);
        if (nc != actual)
            PL_FAIL(err, PL_ERR_CORRUPT, "null count %lld does not match the %lld nulls found",
                    (long long)nc, (long long)actual);
    }
    switch (t->id) {
    case PL_TYPE_NA:
        return PL_OK;
    case PL_TYPE_BOOL:
        if (a->length && (!a->values || a->values->size < bits_bytes(end)))
            PL_FAIL(err, PL_ERR_CORRUPT, "boolean values bitmap too small");
        return PL_OK;
    case PL_TYPE_STRUCT:
        for (int32_t i = 0; i < a->n_children; i++) {
            PL_TRY(check_child_type(a, i, err));
            if (a->children[i]->length < end)
                PL_FAIL(err, PL_ERR_CORRUPT, "struct field \"%s\" has %lld values, needs %lld",
                        t->children[i].name, (long long)a->children[i]->length, (long long)end);
            PL_TRY(validate_rec(a->children[i], check_utf8, depth + 1, err));
        }
        return PL_OK;
    default:
        break;
    }
    if (is_offsets_type(t->id)) return validate_offsets(a, check_utf8, depth, err);
    if (!is_fixed_type(t->id)) return PL_OK;
    if (t->byte_width < 0) PL_FAIL(err, PL_ERR_CORRUPT, "negative value width");
    if (a->length && t->byte_width && (!a->values || a->values->size / t->byte_width < end))
        PL_FAIL(err, PL_ERR_CORRUPT, "values buffer too small for %lld values", (long long)end);
    if (t->id == PL_TYPE_DICTIONARY) return validate_dictionary(a, check_utf8, depth, err);
    return PL_OK;
}

pl_status pl_array_validate(const pl_array *a, bool check_utf8, pl_error *err) {
    if (!a) PL_FAIL(err, PL_ERR_CORRUPT, "missing array");
    return validate_rec(a, check_utf8, 0, err);
}

/* ---------------------------------------------------------------- dictionary decoding */

static pl_status index_out_of_range(int64_t k, int64_t n_dict, int64_t row, pl_error *err) {
    pl_error_set(err, PL_ERR_CORRUPT, "dictionary index %lld out of range (size %lld)", (long long)k,
                 (long long)n_dict);
    if (err && err->row < 0) err->row = row;
    return PL_ERR_CORRUPT;
}

/* Nested dictionary values (rare): the output is the concatenation of slices of the
 * dictionary, one per run of consecutive indices, and of NULL arrays for runs of null rows. */
static pl_status take_nested(pl_array *a, pl_array **out, pl_error *err) {
    pl_array *dict = a->dictionary;
    int64_t n = a->length, n_dict = dict->length, n_parts = 0, cap = 16;
    pl_array **parts = pl_malloc(sizeof(pl_array *) * (size_t)cap);
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory decoding a dictionary");
    pl_status st = PL_OK;
    int64_t i = 0;
    while (!st && i < n) {
        int64_t run = 1, first = 0;
        bool valid = pl_array_is_valid(a, i);
        if (valid) {
            first = read_index(a, i);
            if ((uint64_t)first >= (uint64_t)n_dict) {
                st = index_out_of_range(first, n_dict, i, err);
                break;
            }
            while (i + run < n && pl_array_is_valid(a, i + run) && first + run < n_dict &&
                   read_index(a, i + run) == first + run)
                run++;
        } else {
            while (i + run < n && !pl_array_is_valid(a, i + run)) run++;
        }
        if (n_parts == cap) {
            pl_array **np = pl_realloc(parts, sizeof(pl_array *) * (size_t)(cap * 2));
            if (!np) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory decoding a dictionary");
                break;
            }
            parts = np;
            cap *= 2;
        }
        st = valid ? pl_array_slice(dict, first, run, &parts[n_parts], err)
                   : pl_array_new_nulls(dict->type, run, &parts[n_parts], err);
        if (!st) n_parts++;
        i += run;
    }
    if (!st && n_parts == 0) st = pl_array_new_nulls(dict->type, 0, out, err);
    else if (!st) st = pl_array_concat(n_parts, parts, out, err);
    for (int64_t k = 0; k < n_parts; k++) pl_array_release(parts[k]);
    pl_free(parts);
    return st;
}

/* Strings of at most TAKE_SHORT bytes are gathered from a table with each value in a slot of its
 * own (one 16-byte load and store per row, the next row writing over the slack): the general
 * loop's memcpy per row was ~4 ns a value, most of the decoding of dictionary columns for a
 * client. */
#define TAKE_SHORT 16
#define TAKE_SHORT_MAX_DICT 4096

/* Decodes the string dictionary column a (no null rows, no null values, every value at most
 * TAKE_SHORT bytes) into *values / *data; false when it does not apply (no output then).
 * Indices are bounds-checked as in take_dict. */
static pl_status take_short_strings(const pl_array *a, pl_buf **values, pl_buf **data, bool *done,
                                    pl_error *err) {
    const pl_array *dict = a->dictionary;
    int64_t n = a->length, n_dict = dict->length;
    *done = false;
    /* the table costs a pass over the dictionary: worth it when the rows are at least as many */
    if (n_dict <= 0 || n_dict > TAKE_SHORT_MAX_DICT || n < n_dict || !dict->data) return PL_OK;
    const int32_t *dof = pl_array_offsets(dict);
    for (int64_t k = 0; k < n_dict; k++) {
        int32_t len = dof[k + 1] - dof[k];
        if (len < 0 || len > TAKE_SHORT) return PL_OK;
    }
    uint8_t (*slot)[TAKE_SHORT] = pl_calloc((size_t)n_dict, TAKE_SHORT);
    int32_t *lens = pl_malloc(sizeof(int32_t) * (size_t)n_dict);
    pl_status st = PL_OK;
    if (!slot || !lens) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory decoding a dictionary");
    for (int64_t k = 0; !st && k < n_dict; k++) {
        lens[k] = dof[k + 1] - dof[k];
        if (lens[k]) memcpy(slot[k], dict->data->data + dof[k], (size_t)lens[k]);
    }
    int64_t idx[PL_IDX_BLOCK], total = 0;
    for (int64_t start = 0; !st && start < n; start += PL_IDX_BLOCK) {
        int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
        load_indices(a, start, m, idx);
        uint64_t worst = 0;
        for (int64_t i = 0; i < m; i++) worst |= (uint64_t)idx[i] >= (uint64_t)n_dict;
        if (worst) {
            for (int64_t i = 0; i < m; i++)
                if ((uint64_t)idx[i] >= (uint64_t)n_dict) {
                    st = index_out_of_range(idx[i], n_dict, start + i, err);
                    break;
                }
            break;
        }
        for (int64_t i = 0; i < m; i++) total += lens[idx[i]];
    }
    if (!st && total > PL_MAX_VARLEN_BYTES)
        st = pl_error_set(err, PL_ERR_LIMIT, "decoded values exceed 2^31 bytes in one array");
    pl_buf *vo = NULL, *da = NULL;
    if (!st) st = pl_buf_new((n + 1) * 4, &vo, err);
    if (!st) st = pl_buf_new(total + TAKE_SHORT, &da, err); /* slack for the last 16-byte store */
    if (!st) {
        int32_t *no = (int32_t *)(void *)vo->data;
        uint8_t *out = da->data;
        int32_t pos = 0;
        for (int64_t start = 0; start < n; start += PL_IDX_BLOCK) {
            int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
            load_indices(a, start, m, idx);
            for (int64_t i = 0; i < m; i++) {
                no[start + i] = pos;
                memcpy(out + pos, slot[idx[i]], TAKE_SHORT);
                pos += lens[idx[i]];
            }
        }
        no[n] = pos;
        vo->size = (n + 1) * 4;
        da->size = pos;
        *values = vo;
        *data = da;
        *done = true;
    } else {
        pl_buf_release(vo);
        pl_buf_release(da);
    }
    pl_free(slot);
    pl_free(lens);
    return st;
}

/* Gathers dictionary values by index into a new plain array. Null rows (row null or value
 * null) get a zero value; every index of a valid row is bounds-checked. */
static pl_status take_dict(pl_array *a, pl_array **out, pl_error *err) {
    pl_array *dict = a->dictionary;
    pl_type *vt = dict->type;
    int64_t n = a->length, n_dict = dict->length;
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_status st = PL_OK;
    int64_t nulls = 0;
    int64_t idx[PL_IDX_BLOCK];
    bool row_nulls = pl_array_null_count(a) > 0, dict_nulls = pl_array_null_count(dict) > 0;
    if (!is_fixed_type(vt->id) && !pl_type_is_varlen(vt->id) && vt->id != PL_TYPE_BOOL &&
        vt->id != PL_TYPE_NA)
        return take_nested(a, out, err);
    if (!row_nulls && !dict_nulls && pl_type_is_varlen(vt->id)) {
        bool done = false;
        PL_TRY(take_short_strings(a, &values, &data, &done, err));
        if (done)
            return pl_array_new(pl_type_retain(vt), n, 0, NULL, values, data, 0, NULL, NULL, out,
                                err);
    }
    if (row_nulls || dict_nulls || vt->id == PL_TYPE_NA) {
        if (vt->id != PL_TYPE_NA) PL_TRY(pl_buf_new_zeroed(bits_bytes(n), &validity, err));
        if (validity && a->validity) pl_bits_copy(validity->data, 0, a->validity->data, a->offset, n);
        else if (validity) pl_bits_set_range(validity->data, 0, n);
    }
    /* Pass 1: bounds checks, dictionary-null rows, total bytes for strings. */
    const int32_t *dof = pl_type_is_varlen(vt->id) ? pl_array_offsets(dict) : NULL;
    int64_t total = 0;
    for (int64_t start = 0; start < n; start += PL_IDX_BLOCK) {
        int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
        load_indices(a, start, m, idx);
        for (int64_t i = 0; i < m; i++) {
            bool valid = !row_nulls || pl_array_is_valid(a, start + i);
            if (!valid) continue;
            if ((uint64_t)idx[i] >= (uint64_t)n_dict) {
                pl_buf_release(validity);
                return index_out_of_range(idx[i], n_dict, start + i, err);
            }
            if (dict_nulls && !pl_array_is_valid(dict, idx[i])) {
                pl_bit_clear(validity->data, start + i);
                continue;
            }
            if (dof) total += dof[idx[i] + 1] - dof[idx[i]];
        }
    }
    if (validity) nulls = n - pl_bitmap_count(validity->data, 0, n);
    else if (vt->id == PL_TYPE_NA) nulls = n;
#define VALID(i) (!validity || pl_bit_get(validity->data, (i)))
    if (vt->id == PL_TYPE_NA) {
    } else if (vt->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed(bits_bytes(n), &values, err);
        for (int64_t start = 0; !st && start < n; start += PL_IDX_BLOCK) {
            int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
            load_indices(a, start, m, idx);
            for (int64_t i = 0; i < m; i++)
                if (VALID(start + i) && pl_bit_get(dict->values->data, dict->offset + idx[i]))
                    pl_bit_set(values->data, start + i);
        }
    } else if (is_fixed_type(vt->id)) {
        int32_t w = vt->byte_width;
        st = pl_buf_new_zeroed(n * w, &values, err);
        const uint8_t *src = w ? pl_array_values_ptr(dict) : NULL;
        for (int64_t start = 0; !st && w && start < n; start += PL_IDX_BLOCK) {
            int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
            uint8_t *dst = values->data + start * w;
            load_indices(a, start, m, idx);
            if (!validity && w == 4) {
                for (int64_t i = 0; i < m; i++) memcpy(dst + i * 4, src + idx[i] * 4, 4);
            } else if (!validity && w == 8) {
                for (int64_t i = 0; i < m; i++) memcpy(dst + i * 8, src + idx[i] * 8, 8);
            } else {
                for (int64_t i = 0; i < m; i++)
                    if (VALID(start + i)) memcpy(dst + i * w, src + idx[i] * w, (size_t)w);
            }
        }
    } else {
        if (total > PL_MAX_VARLEN_BYTES)
            st = pl_error_set(err, PL_ERR_LIMIT, "decoded values exceed 2^31 bytes in one array");
        if (!st) st = pl_buf_new((n + 1) * 4, &values, err);
        if (!st) st = pl_buf_new(total, &data, err);
        if (!st) {
            int32_t *no = (int32_t *)(void *)values->data;
            const uint8_t *src = dict->data ? dict->data->data : NULL;
            int32_t pos = 0;
            for (int64_t start = 0; start < n; start += PL_IDX_BLOCK) {
                int64_t m = PL_MIN(PL_IDX_BLOCK, n - start);
                load_indices(a, start, m, idx);
                for (int64_t i = 0; i < m; i++) {
                    no[start + i] = pos;
                    if (!VALID(start + i)) continue;
                    int32_t from = dof[idx[i]], len = dof[idx[i] + 1] - from;
                    if (len) memcpy(data->data + pos, src + from, (size_t)len);
                    pos += len;
                }
            }
            no[n] = pos;
            values->size = (n + 1) * 4;
            data->size = pos;
        }
    }
#undef VALID
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        return st;
    }
    return pl_array_new(pl_type_retain(vt), n, nulls, validity, values, data, 0, NULL, NULL, out,
                        err);
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
    for (int64_t k = 0; k < n; k++) *nulls += pl_array_null_count(arrays[k]);
    if (*nulls == 0 || arrays[0]->type->id == PL_TYPE_NA) return PL_OK;
    PL_TRY(pl_buf_new_zeroed(bits_bytes(total), out, err));
    int64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        pl_array *a = arrays[k];
        if (a->validity) pl_bits_copy((*out)->data, pos, a->validity->data, a->offset, a->length);
        else pl_bits_set_range((*out)->data, pos, a->length);
        pos += a->length;
    }
    return PL_OK;
}

/* Dictionary unification: entries of all input dictionaries are deduplicated through an
 * open-addressing hash table; remap[base_k + old] is the new index of part k's entry old. */
typedef struct dict_unify {
    int64_t n_in;       /* entries over all input dictionaries */
    int64_t *remap;     /* [n_in] */
    int64_t n_out;
    int32_t *out_part;  /* [n_out] which input dictionary holds unified entry i */
    int64_t *out_entry; /* [n_out] and at which index */
} dict_unify;

static const uint8_t *dict_entry(const pl_array *d, int64_t k, int64_t *len) {
    if (pl_type_is_varlen(d->type->id)) {
        const int32_t *o = pl_array_offsets(d);
        *len = o[k + 1] - o[k];
        return d->data ? d->data->data + o[k] : (const uint8_t *)"";
    }
    *len = d->type->byte_width;
    return (const uint8_t *)pl_array_values_ptr(d) + k * d->type->byte_width;
}

uint64_t pl_hash_bytes(const uint8_t *p, int64_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n * 0xFF51AFD7ED558CCDULL;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h = (h ^ pl_load_u64le(p + i)) * 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 31;
    }
    uint64_t tail = 0;
    if (i < n) memcpy(&tail, p + i, (size_t)(n - i));
    h = (h ^ tail) * 0xFF51AFD7ED558CCDULL;
    return h ^ (h >> 33);
}

static bool can_unify(int64_t n, pl_array *const *arrays) {
    pl_type_id vid = arrays[0]->type->value_type->id;
    if (vid == PL_TYPE_BOOL || vid == PL_TYPE_DICTIONARY ||
        !(is_fixed_type(vid) || pl_type_is_varlen(vid)))
        return false;
    for (int64_t k = 0; k < n; k++)
        if (pl_array_null_count(arrays[k]->dictionary) > 0) return false;
    return true;
}

static void dict_unify_free(dict_unify *u) {
    pl_free(u->remap);
    pl_free(u->out_part);
    pl_free(u->out_entry);
}

static pl_status dict_unify_build(int64_t n, pl_array *const *arrays, dict_unify *u,
                                  pl_error *err) {
    memset(u, 0, sizeof *u);
    for (int64_t k = 0; k < n; k++) u->n_in += arrays[k]->dictionary->length;
    int64_t n_slots = 16;
    while (n_slots < u->n_in * 2) n_slots *= 2;
    int64_t *slots = pl_malloc(sizeof(int64_t) * (size_t)n_slots);
    u->remap = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(u->n_in, 1));
    u->out_part = pl_malloc(sizeof(int32_t) * (size_t)PL_MAX(u->n_in, 1));
    u->out_entry = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(u->n_in, 1));
    if (!slots || !u->remap || !u->out_part || !u->out_entry) {
        pl_free(slots);
        dict_unify_free(u);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory unifying dictionaries");
    }
    memset(slots, 0xFF, sizeof(int64_t) * (size_t)n_slots);
    uint64_t mask = (uint64_t)n_slots - 1;
    int64_t base = 0;
    for (int64_t k = 0; k < n; k++) {
        const pl_array *d = arrays[k]->dictionary;
        for (int64_t e = 0; e < d->length; e++) {
            int64_t len;
            const uint8_t *p = dict_entry(d, e, &len);
            uint64_t h = pl_hash_bytes(p, len) & mask;
            int64_t found = -1;
            while (slots[h] >= 0) {
                int64_t olen;
                const uint8_t *op = dict_entry(arrays[u->out_part[slots[h]]]->dictionary,
                                               u->out_entry[slots[h]], &olen);
                if (olen == len && (len == 0 || memcmp(op, p, (size_t)len) == 0)) {
                    found = slots[h];
                    break;
                }
                h = (h + 1) & mask;
            }
            if (found < 0) {
                found = u->n_out++;
                u->out_part[found] = (int32_t)k;
                u->out_entry[found] = e;
                slots[h] = found;
            }
            u->remap[base + e] = found;
        }
        base += d->length;
    }
    pl_free(slots);
    return PL_OK;
}

/* Builds the unified dictionary array from the entries chosen by dict_unify_build. */
static pl_status dict_unify_values(int64_t n, pl_array *const *arrays, const dict_unify *u,
                                   pl_array **out, pl_error *err) {
    pl_type *vt = arrays[0]->type->value_type;
    pl_buf *values = NULL, *data = NULL;
    pl_status st = PL_OK;
    (void)n;
    if (pl_type_is_varlen(vt->id)) {
        int64_t total = 0;
        for (int64_t i = 0; i < u->n_out; i++) {
            int64_t len;
            dict_entry(arrays[u->out_part[i]]->dictionary, u->out_entry[i], &len);
            total += len;
        }
        if (total > PL_MAX_VARLEN_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "combined dictionary exceeds 2^31 bytes");
        st = pl_buf_new((u->n_out + 1) * 4, &values, err);
        if (!st) st = pl_buf_new(total, &data, err);
        if (!st) {
            int32_t *o = (int32_t *)(void *)values->data;
            int64_t pos = 0;
            for (int64_t i = 0; i < u->n_out; i++) {
                int64_t len;
                const uint8_t *p = dict_entry(arrays[u->out_part[i]]->dictionary, u->out_entry[i], &len);
                o[i] = (int32_t)pos;
                if (len) memcpy(data->data + pos, p, (size_t)len);
                pos += len;
            }
            o[u->n_out] = (int32_t)pos;
            values->size = (u->n_out + 1) * 4;
            data->size = pos;
        }
    } else {
        int32_t w = vt->byte_width;
        st = pl_buf_new(u->n_out * w, &values, err);
        for (int64_t i = 0; !st && i < u->n_out; i++) {
            int64_t len;
            const uint8_t *p = dict_entry(arrays[u->out_part[i]]->dictionary, u->out_entry[i], &len);
            memcpy(values->data + i * w, p, (size_t)w);
        }
        if (!st) values->size = u->n_out * w;
    }
    if (st) {
        pl_buf_release(values);
        pl_buf_release(data);
        return st;
    }
    return pl_array_new(pl_type_retain(vt), u->n_out, 0, NULL, values, data, 0, NULL, NULL, out,
                        err);
}

/* Writes the indices of all parts into values (already sized), mapped into the combined
 * dictionary: through remap when unifying, else shifted by the entries of earlier parts.
 * Null rows get index 0. */
static pl_status concat_dict_indices(int64_t n, pl_array *const *arrays, const int64_t *remap,
                                     uint8_t *values, pl_error *err) {
    int32_t w = arrays[0]->type->byte_width;
    int64_t row = 0, base = 0;
    int64_t idx[PL_IDX_BLOCK];
    for (int64_t k = 0; k < n; k++) {
        pl_array *a = arrays[k];
        int64_t n_dict = a->dictionary->length;
        bool nulls = pl_array_null_count(a) > 0;
        for (int64_t start = 0; start < a->length; start += PL_IDX_BLOCK) {
            int64_t m = PL_MIN(PL_IDX_BLOCK, a->length - start);
            load_indices(a, start, m, idx);
            for (int64_t i = 0; i < m; i++) {
                int64_t v = 0;
                if (!nulls || pl_array_is_valid(a, start + i)) {
                    if ((uint64_t)idx[i] >= (uint64_t)n_dict)
                        return index_out_of_range(idx[i], n_dict, row + start + i, err);
                    v = remap ? remap[base + idx[i]] : base + idx[i];
                }
                store_index(values + (row + start + i) * w, w, v);
            }
        }
        row += a->length;
        base += n_dict;
    }
    return PL_OK;
}

static pl_status concat_dictionary(int64_t n, pl_array *const *arrays, pl_buf *values,
                                   pl_array **dict, pl_error *err) {
    const pl_type *t = arrays[0]->type;
    bool same = true;
    for (int64_t k = 1; k < n && same; k++) {
        pl_array *d0 = arrays[0]->dictionary, *dk = arrays[k]->dictionary;
        same = dk == d0 || (dk->length == d0->length && pl_array_equals(dk, d0));
    }
    if (same) {
        /* One dictionary for all: the indices are copied as they are. */
        int32_t w = t->byte_width;
        int64_t pos = 0;
        for (int64_t k = 0; k < n; k++) {
            if (arrays[k]->length)
                memcpy(values->data + pos * w, pl_array_values_ptr(arrays[k]),
                       (size_t)(arrays[k]->length * w));
            pos += arrays[k]->length;
        }
        *dict = pl_array_retain(arrays[0]->dictionary);
        return PL_OK;
    }
    pl_status st;
    if (can_unify(n, arrays)) {
        dict_unify u;
        PL_TRY(dict_unify_build(n, arrays, &u, err));
        st = PL_OK;
        if (u.n_out > 0 && u.n_out - 1 > pl_dict_max_index(t->index_id))
            st = pl_error_set(err, PL_ERR_LIMIT,
                              "combined dictionary of %lld values too large for its index type",
                              (long long)u.n_out);
        if (!st) st = dict_unify_values(n, arrays, &u, dict, err);
        if (!st) st = concat_dict_indices(n, arrays, u.remap, values->data, err);
        dict_unify_free(&u);
    } else {
        /* Values that cannot be hashed as bytes (nested, bool, with nulls): append the
         * dictionaries and shift each part's indices by the entries before it. */
        pl_array **dicts = pl_malloc(sizeof(pl_array *) * (size_t)n);
        if (!dicts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory concatenating dictionaries");
        for (int64_t k = 0; k < n; k++) dicts[k] = arrays[k]->dictionary;
        st = pl_array_concat(n, dicts, dict, err);
        pl_free(dicts);
        if (!st && (*dict)->length > 0 && (*dict)->length - 1 > pl_dict_max_index(t->index_id))
            st = pl_error_set(err, PL_ERR_LIMIT, "combined dictionary too large for its index type");
        if (!st) st = concat_dict_indices(n, arrays, NULL, values->data, err);
    }
    if (st) {
        pl_array_release(*dict);
        *dict = NULL;
    }
    return st;
}

static pl_status concat_offsets(int64_t n, pl_array *const *arrays, int64_t total, pl_buf **values,
                                pl_buf **data, pl_array **child, pl_error *err) {
    bool varlen = pl_type_is_varlen(arrays[0]->type->id);
    int64_t total_data = 0;
    for (int64_t k = 0; k < n; k++) {
        if (!arrays[k]->length) continue;
        const int32_t *o = pl_array_offsets(arrays[k]);
        total_data += o[arrays[k]->length] - o[0];
    }
    if (total_data > PL_MAX_VARLEN_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "concatenated %s exceed 2^31", varlen ? "bytes" : "list items");
    pl_array **parts = NULL;
    pl_status st = pl_buf_new((total + 1) * 4, values, err);
    if (!st && varlen) st = pl_buf_new(total_data, data, err);
    if (!st && !varlen && !(parts = pl_calloc((size_t)n, sizeof(pl_array *))))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory concatenating lists");
    int64_t pos = 0, dpos = 0;
    for (int64_t k = 0; !st && k < n; k++) {
        pl_array *a = arrays[k];
        int32_t *no = (int32_t *)(void *)(*values)->data + pos;
        int32_t first = 0, last = 0;
        if (a->length) {
            const int32_t *o = pl_array_offsets(a);
            first = o[0];
            last = o[a->length];
            int32_t shift = (int32_t)(dpos - first);
            for (int64_t i = 0; i < a->length; i++) no[i] = o[i] + shift;
        }
        if (varlen && last > first)
            memcpy((*data)->data + dpos, a->data->data + first, (size_t)(last - first));
        if (!varlen) st = pl_array_slice(a->children[0], first, last - first, &parts[k], err);
        pos += a->length;
        dpos += last - first;
    }
    if (!st) {
        ((int32_t *)(void *)(*values)->data)[total] = (int32_t)dpos;
        (*values)->size = (total + 1) * 4;
        if (*data) (*data)->size = dpos;
        if (!varlen) st = pl_array_concat(n, parts, child, err);
    }
    if (parts)
        for (int64_t k = 0; k < n; k++) pl_array_release(parts[k]);
    pl_free(parts);
    return st;
}

static pl_status concat_struct(int64_t n, pl_array *const *arrays, int32_t n_children,
                               pl_array **children, pl_error *err) {
    pl_array **parts = pl_calloc((size_t)n, sizeof(pl_array *));
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory concatenating structs");
    pl_status st = PL_OK;
    for (int32_t c = 0; !st && c < n_children; c++) {
        for (int64_t k = 0; !st && k < n; k++)
            st = pl_array_slice(arrays[k]->children[c], arrays[k]->offset, arrays[k]->length,
                                &parts[k], err);
        if (!st) st = pl_array_concat(n, parts, &children[c], err);
        for (int64_t k = 0; k < n; k++) {
            pl_array_release(parts[k]);
            parts[k] = NULL;
        }
    }
    pl_free(parts);
    return st;
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
        if (!pl_type_equals(arrays[k]->type, t)) {
            char a[128], b[128];
            PL_FAIL(err, PL_ERR_TYPE, "cannot concatenate %s and %s arrays",
                    pl_type_to_string(t, a, sizeof a), pl_type_to_string(arrays[k]->type, b, sizeof b));
        }
        total += arrays[k]->length;
    }
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array **children = NULL, *dict = NULL;
    int32_t n_children = expected_children(t);
    int64_t nulls = 0;
    if (n_children > 0 && !(children = pl_calloc((size_t)n_children, sizeof(pl_array *))))
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory concatenating arrays");
    pl_status st = concat_validity(n, arrays, total, &validity, &nulls, err);
    if (st) {
    } else if (t->id == PL_TYPE_NA) {
        nulls = total;
    } else if (t->id == PL_TYPE_BOOL) {
        st = pl_buf_new_zeroed(bits_bytes(total), &values, err);
        int64_t pos = 0;
        for (int64_t k = 0; !st && k < n; k++) {
            if (arrays[k]->length)
                pl_bits_copy(values->data, pos, arrays[k]->values->data, arrays[k]->offset,
                             arrays[k]->length);
            pos += arrays[k]->length;
        }
    } else if (t->id == PL_TYPE_DICTIONARY) {
        st = pl_buf_new(total * t->byte_width, &values, err);
        if (!st) {
            values->size = total * t->byte_width;
            st = concat_dictionary(n, arrays, values, &dict, err);
        }
    } else if (is_fixed_type(t->id)) {
        int64_t w = t->byte_width;
        st = pl_buf_new(total * w, &values, err);
        int64_t pos = 0;
        for (int64_t k = 0; !st && k < n; k++) {
            if (arrays[k]->length && w)
                memcpy(values->data + pos * w, pl_array_values_ptr(arrays[k]),
                       (size_t)(arrays[k]->length * w));
            pos += arrays[k]->length;
        }
        if (!st) values->size = total * w;
    } else if (is_offsets_type(t->id)) {
        st = concat_offsets(n, arrays, total, &values, &data, children, err);
    } else if (t->id == PL_TYPE_STRUCT) {
        st = concat_struct(n, arrays, n_children, children, err);
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        pl_array_release(dict);
        release_children(n_children, children);
        pl_free(children);
        return st;
    }
    st = pl_array_new(pl_type_retain(t), total, nulls, validity, values, data, n_children, children,
                      dict, out, err);
    pl_free(children);
    return st;
}

/* ---------------------------------------------------------------- equality */

static bool value_equals(pl_array *a, int64_t i, pl_array *b, int64_t j);

/* Logical NULL: the slot is null, or (dictionaries) the value it points at is. */
static bool logical_null(pl_array *a, int64_t i) {
    if (!pl_array_is_valid(a, i)) return true;
    if (a->type->id != PL_TYPE_DICTIONARY) return false;
    int64_t k = read_index(a, i);
    if ((uint64_t)k >= (uint64_t)a->dictionary->length) return true; /* invalid: never equal */
    return logical_null(a->dictionary, k);
}

static bool float_run_equal(const uint8_t *pa, const uint8_t *pb, int64_t n, int32_t w) {
    if (memcmp(pa, pb, (size_t)(n * w)) == 0) return true;
    for (int64_t k = 0; k < n; k++) {
        if (w == 4) {
            float x, y;
            memcpy(&x, pa + k * 4, 4);
            memcpy(&y, pb + k * 4, 4);
            if (!(isnan(x) && isnan(y)) && memcmp(&x, &y, 4)) return false;
        } else {
            double x, y;
            memcpy(&x, pa + k * 8, 8);
            memcpy(&y, pb + k * 8, 8);
            if (!(isnan(x) && isnan(y)) && memcmp(&x, &y, 8)) return false;
        }
    }
    return true;
}

/* n <= 64 bits of bits starting at bit off, LSB first; all ones when bits is NULL. Reads only
 * the bytes holding those bits. */
static uint64_t bits64(const uint8_t *bits, int64_t off, int64_t n) {
    uint64_t mask = n == 64 ? ~0ULL : ((1ULL << n) - 1);
    if (!bits) return mask;
    int sh = (int)(off & 7);
    uint8_t tmp[16] = {0};
    memcpy(tmp, bits + (off >> 3), (size_t)((sh + n + 7) / 8));
    uint64_t w = pl_load_u64le(tmp) >> sh;
    if (sh) w |= (uint64_t)tmp[8] << (64 - sh);
    return w & mask;
}

static bool fixed_block_equal(pl_array *a, int64_t ai, pl_array *b, int64_t bi, int64_t n) {
    pl_type_id id = a->type->id;
    if (id == PL_TYPE_BOOL)
        return bits64(a->values->data, a->offset + ai, n) == bits64(b->values->data, b->offset + bi, n);
    int32_t w = a->type->byte_width;
    if (w == 0) return true;
    const uint8_t *pa = (const uint8_t *)pl_array_values_ptr(a) + ai * w;
    const uint8_t *pb = (const uint8_t *)pl_array_values_ptr(b) + bi * w;
    if (id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64) return float_run_equal(pa, pb, n, w);
    return memcmp(pa, pb, (size_t)(n * w)) == 0;
}

bool pl_array_range_equals(pl_array *a, int64_t ai, pl_array *b, int64_t bi, int64_t n) {
    if (n <= 0) return true;
    pl_type_id id = a->type->id;
    if (id == b->type->id && id == PL_TYPE_NA) return true;
    /* Fixed-width plain types and booleans: 64 rows at a time, validity words compared
     * first, values of fully valid blocks compared in one go. */
    if (id == b->type->id && id != PL_TYPE_DICTIONARY && (is_fixed_type(id) || id == PL_TYPE_BOOL)) {
        const uint8_t *va_bits = a->validity ? a->validity->data : NULL;
        const uint8_t *vb_bits = b->validity ? b->validity->data : NULL;
        for (int64_t start = 0; start < n; start += 64) {
            int64_t m = PL_MIN(64, n - start);
            uint64_t va = bits64(va_bits, a->offset + ai + start, m);
            uint64_t vb = bits64(vb_bits, b->offset + bi + start, m);
            if (va != vb) return false;
            if (va == bits64(NULL, 0, m)) {
                if (!fixed_block_equal(a, ai + start, b, bi + start, m)) return false;
                continue;
            }
            if (id == PL_TYPE_BOOL) {
                uint64_t x = bits64(a->values->data, a->offset + ai + start, m) ^
                             bits64(b->values->data, b->offset + bi + start, m);
                if (x & va) return false;
                continue;
            }
            int32_t w = a->type->byte_width;
            const uint8_t *pa = (const uint8_t *)pl_array_values_ptr(a) + (ai + start) * w;
            const uint8_t *pb = (const uint8_t *)pl_array_values_ptr(b) + (bi + start) * w;
            bool is_float = id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64;
            while (va) {
                int bit = __builtin_ctzll(va);
                va &= va - 1;
                if (memcmp(pa + bit * w, pb + bit * w, (size_t)w) == 0) continue;
                if (!is_float || !float_run_equal(pa + bit * w, pb + bit * w, 1, w)) return false;
            }
        }
        return true;
    }
    for (int64_t k = 0; k < n; k++)
        if (!value_equals(a, ai + k, b, bi + k)) return false;
    return true;
}

static bool value_equals(pl_array *a, int64_t i, pl_array *b, int64_t j) {
    if (a->type->id == PL_TYPE_DICTIONARY || b->type->id == PL_TYPE_DICTIONARY) {
        bool na = logical_null(a, i), nb = logical_null(b, j);
        if (na || nb) return na && nb;
        if (a->type->id == PL_TYPE_DICTIONARY) return value_equals(a->dictionary, read_index(a, i), b, j);
        return value_equals(a, i, b->dictionary, read_index(b, j));
    }
    bool va = pl_array_is_valid(a, i), vb = pl_array_is_valid(b, j);
    if (va != vb) return false;
    if (!va) return true;
    const pl_type *t = a->type;
    switch (t->id) {
    case PL_TYPE_BOOL:
        return pl_bit_get(a->values->data, a->offset + i) == pl_bit_get(b->values->data, b->offset + j);
    case PL_TYPE_FLOAT32:
        return float_run_equal((const uint8_t *)pl_array_values_ptr(a) + i * 4,
                               (const uint8_t *)pl_array_values_ptr(b) + j * 4, 1, 4);
    case PL_TYPE_FLOAT64:
        return float_run_equal((const uint8_t *)pl_array_values_ptr(a) + i * 8,
                               (const uint8_t *)pl_array_values_ptr(b) + j * 8, 1, 8);
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        int32_t la = oa[i + 1] - oa[i], lb = ob[j + 1] - ob[j];
        if (la != lb) return false;
        return la == 0 || memcmp(a->data->data + oa[i], b->data->data + ob[j], (size_t)la) == 0;
    }
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        const int32_t *oa = pl_array_offsets(a), *ob = pl_array_offsets(b);
        int64_t na = oa[i + 1] - oa[i], nb = ob[j + 1] - ob[j];
        return na == nb && pl_array_range_equals(a->children[0], oa[i], b->children[0], ob[j], na);
    }
    case PL_TYPE_STRUCT:
        for (int32_t c = 0; c < a->n_children; c++)
            if (!value_equals(a->children[c], a->offset + i, b->children[c], b->offset + j))
                return false;
        return true;
    case PL_TYPE_NA:
        return true;
    default: {
        int32_t w = t->byte_width;
        if (w == 0) return true;
        return memcmp((const uint8_t *)pl_array_values_ptr(a) + i * w,
                      (const uint8_t *)pl_array_values_ptr(b) + j * w, (size_t)w) == 0;
    }
    }
}

bool pl_array_equals(pl_array *a, pl_array *b) {
    if (a == b) return true;
    if (!a || !b || a->length != b->length) return false;
    const pl_type *ta = a->type->id == PL_TYPE_DICTIONARY ? a->type->value_type : a->type;
    const pl_type *tb = b->type->id == PL_TYPE_DICTIONARY ? b->type->value_type : b->type;
    if (!pl_type_equals(ta, tb)) return false;
    return pl_array_range_equals(a, 0, b, 0, a->length);
}
