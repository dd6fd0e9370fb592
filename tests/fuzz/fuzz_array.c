/* fuzz_array.c - libFuzzer target for src/columnar/array.c: the input is a recipe for an array
 * of a type picked by the first byte (buffers, lengths, offsets, null counts, children and
 * dictionaries all come from the input, as an IPC or Parquet reader would assemble them from
 * untrusted bytes). The contract checked: pl_array_validate never crashes, and once it accepts
 * an array, null counts, slices, concatenation, dictionary decoding and equality never crash
 * and their results validate again and compare equal where they must. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reader {
    const uint8_t *p, *end;
} reader;

static uint8_t next_u8(reader *r) { return r->p < r->end ? *r->p++ : 0; }

/* Fills a new buffer of n bytes from the input (zeros once it runs out). */
static pl_buf *raw_buf(reader *r, int64_t n) {
    pl_buf *b;
    if (pl_buf_new_zeroed(n, &b, NULL)) return NULL;
    int64_t k = PL_MIN(n, (int64_t)(r->end - r->p));
    if (k > 0) memcpy(b->data, r->p, (size_t)k);
    r->p += k;
    return b;
}

/* Offsets for n values: either raw input bytes (mostly invalid) or running sums of one length
 * byte per value, capped so the total stays within `limit` when limit >= 0. */
static pl_buf *offsets_buf(reader *r, int64_t n, int64_t *total) {
    uint8_t mode = next_u8(r);
    if (mode & 1) {
        pl_buf *b = raw_buf(r, (n + 1) * 4);
        if (b) memcpy(total, b->data + n * 4, 4);
        return b;
    }
    pl_buf *b;
    if (pl_buf_new_zeroed((n + 1) * 4, &b, NULL)) return NULL;
    int32_t *o = (int32_t *)(void *)b->data, pos = mode >> 5;
    for (int64_t i = 0; i <= n; i++) {
        o[i] = pos;
        pos += next_u8(r) & 3;
    }
    *total = o[n];
    return b;
}

static pl_array *make(reader *r, pl_type *t, int depth);

static pl_array *make_children_and_buffers(reader *r, pl_type *t, int64_t len, int depth) {
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array *children[4] = {0}, *dict = NULL;
    int32_t n_children = t->id == PL_TYPE_STRUCT ? t->n_children : (t->id == PL_TYPE_LIST || t->id == PL_TYPE_MAP);
    uint8_t flags = next_u8(r);
    int64_t null_count = (flags & 2) ? -1 : (int64_t)next_u8(r) % (len + 1);
    if ((flags & 1) && t->id != PL_TYPE_NA) validity = raw_buf(r, (len + 7) / 8);
    int64_t total = 0;
    switch (t->id) {
    case PL_TYPE_NA: break;
    case PL_TYPE_BOOL: values = raw_buf(r, (len + 7) / 8); break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    {
        values = offsets_buf(r, len, &total);
        int64_t n_data = PL_MIN(PL_MAX(total, 0), 4096);
        if ((next_u8(r) & 3) == 0 && n_data > 0) n_data--; /* sometimes one byte short */
        data = raw_buf(r, n_data);
        break;
    }
    case PL_TYPE_LIST:
    case PL_TYPE_MAP:
        values = offsets_buf(r, len, &total);
        if (depth < 4) {
            /* a child as long as the offsets claim (sometimes one short) */
            int64_t clen = PL_MIN(PL_MAX(total, 0), 64);
            if ((next_u8(r) & 3) == 0 && clen > 0) clen--;
            children[0] = make_children_and_buffers(r, t->children[0].type, clen, depth + 1);
        }
        break;
    case PL_TYPE_STRUCT:
        for (int32_t i = 0; i < n_children && depth < 4; i++) children[i] = make(r, t->children[i].type, depth + 1);
        break;
    case PL_TYPE_DICTIONARY:
        values = raw_buf(r, len * t->byte_width);
        if (values && (next_u8(r) & 1)) {
            uint8_t dlen = next_u8(r) % 8 + 1; /* indices mostly in range */
            for (int64_t i = 0; i < len; i++) {
                int64_t v = values->data[i * t->byte_width] % dlen;
                memset(values->data + i * t->byte_width, 0, (size_t)t->byte_width);
                memcpy(values->data + i * t->byte_width, &v, 1);
            }
        }
        if (depth < 4) dict = make(r, t->value_type, depth + 1);
        break;
    default: values = raw_buf(r, len * t->byte_width); break;
    }
    for (int32_t i = 0; i < n_children; i++)
        if (!children[i]) {
            for (int32_t k = 0; k < n_children; k++) pl_array_release(children[k]);
            pl_buf_release(validity);
            pl_buf_release(values);
            pl_buf_release(data);
            pl_array_release(dict);
            return NULL;
        }
    pl_array *a;
    if (pl_array_new(pl_type_retain(t), len, null_count, validity, values, data, n_children, children, dict, &a, NULL))
        return NULL;
    /* a view as a reader might build it: any offset and length */
    if (flags & 4) {
        a->offset = next_u8(r) % 16;
        a->length = next_u8(r) % 64;
        a->null_count = (flags & 8) ? -1 : a->null_count;
    }
    return a;
}

static pl_array *make(reader *r, pl_type *t, int depth) {
    int64_t len = next_u8(r) % 48;
    return make_children_and_buffers(r, t, len, depth);
}

/* The types a recipe can pick. */
static pl_type *pick_type(uint8_t k) {
    pl_type *t = NULL, *inner = NULL;
    switch (k % 14) {
    case 0: return pl_type_retain(pl_type_simple(PL_TYPE_INT32));
    case 1: return pl_type_retain(pl_type_simple(PL_TYPE_INT8));
    case 2: return pl_type_retain(pl_type_simple(PL_TYPE_BOOL));
    case 3: return pl_type_retain(pl_type_simple(PL_TYPE_UTF8));
    case 4: return pl_type_retain(pl_type_simple(PL_TYPE_FLOAT64));
    case 5: return pl_type_retain(pl_type_simple(PL_TYPE_NA));
    case 6: (void)!pl_type_new_fixed_binary(3, &t, NULL); return t;
    case 7: (void)!pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &t, NULL); return t;
    case 8: (void)!pl_type_new_list("item", pl_type_simple(PL_TYPE_UTF8), true, &t, NULL); return t;
    case 9: {
        pl_field f[2] = {{"a", pl_type_simple(PL_TYPE_INT16), true}, {"b", pl_type_simple(PL_TYPE_UTF8), true}};
        (void)!pl_type_new_struct(2, f, &t, NULL);
        return t;
    }
    case 10: (void)!pl_type_new_dictionary(PL_TYPE_INT8, pl_type_simple(PL_TYPE_UTF8), &t, NULL); return t;
    case 11:
        (void)!pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &inner, NULL);
        if (inner) (void)!pl_type_new_dictionary(PL_TYPE_INT16, inner, &t, NULL);
        pl_type_release(inner);
        return t;
    case 12: (void)!pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT32), true, &t, NULL); return t;
    default: (void)!pl_type_new_dictionary(PL_TYPE_UINT8, pl_type_simple(PL_TYPE_INT64), &t, NULL); return t;
    }
}

static void must_validate(const pl_array *a) {
    pl_error err;
    pl_error_init(&err);
    if (pl_array_validate(a, true, &err) != PL_OK) abort(); /* an operation broke a valid array */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    reader r = {data, data + size};
    pl_type *t = pick_type(next_u8(&r));
    if (!t) return 0;
    pl_array *a = make(&r, t, 0);
    pl_type_release(t);
    if (!a) return 0;
    pl_error err;
    pl_error_init(&err);
    if (pl_array_validate(a, next_u8(&r) & 1, &err) != PL_OK) {
        if (err.code != PL_ERR_CORRUPT) abort();
        pl_array_release(a);
        return 0;
    }
    /* accepted (with UTF-8 maybe unchecked): everything below must be safe */
    bool utf8_ok = pl_array_validate(a, true, NULL) == PL_OK;
    int64_t nulls = pl_array_null_count(a);
    if (nulls < 0 || nulls > a->length) abort();
    int64_t off = a->length ? next_u8(&r) % (a->length + 1) : 0;
    int64_t len = next_u8(&r) % (a->length - off + 1);
    pl_array *s = NULL, *cat = NULL, *dec = NULL;
    if (pl_array_slice(a, off, len, &s, NULL)) abort();
    if (utf8_ok) must_validate(s);
    pl_array *parts[3] = {a, s, a};
    pl_status st = pl_array_concat(3, parts, &cat, &err);
    if (st == PL_OK) {
        if (cat->length != 2 * a->length + len) abort();
        if (utf8_ok) must_validate(cat);
        pl_array *back;
        if (pl_array_slice(cat, a->length, len, &back, NULL)) abort();
        if (!pl_array_equals(back, s)) abort();
        pl_array_release(back);
        if (pl_array_null_count(cat) != 2 * nulls + pl_array_null_count(s)) abort();
    } else if (st != PL_ERR_LIMIT) {
        abort();
    }
    pl_array *whole;
    if (pl_array_slice(a, 0, a->length, &whole, NULL)) abort();
    if (!pl_array_equals(a, whole)) abort();
    pl_array_release(whole);
    /* a second array of the same type from the rest of the input (other dictionaries) */
    pl_array *b = make(&r, a->type, 0);
    if (b && pl_array_validate(b, false, NULL) == PL_OK) {
        bool b_utf8 = pl_array_validate(b, true, NULL) == PL_OK;
        pl_array *ab[2] = {a, b}, *cab = NULL;
        st = pl_array_concat(2, ab, &cab, NULL);
        if (st == PL_OK) {
            if (utf8_ok && b_utf8) must_validate(cab);
            pl_array *pa, *pb;
            if (pl_array_slice(cab, 0, a->length, &pa, NULL) || pl_array_slice(cab, a->length, b->length, &pb, NULL)) abort();
            if (!pl_array_equals(pa, a) || !pl_array_equals(pb, b)) abort();
            pl_array_release(pa);
            pl_array_release(pb);
        } else if (st != PL_ERR_LIMIT) {
            abort();
        }
        pl_array_release(cab);
    }
    pl_array_release(b);
    if (pl_array_decode_dictionary(a, &dec, &err) == PL_OK) {
        if (utf8_ok) must_validate(dec);
        if (!pl_array_equals(dec, a)) abort();
    }
    pl_array_release(dec);
    pl_array_release(cat);
    pl_array_release(s);
    pl_array_release(a);
    return 0;
}
