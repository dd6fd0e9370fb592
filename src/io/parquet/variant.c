/* variant.c - Parquet VARIANT columns rendered as text, and GEOMETRY/GEOGRAPHY columns as WKT.
 *
 * A VARIANT group (metadata, value, typed_value) is first assembled as a struct; each row is
 * then rendered the way DuckDB casts a VARIANT to VARCHAR: scalars as their text, arrays
 * "[a, b]", objects "{'k': v}" with keys sorted, NULL inside nested values, strings quoted
 * with '...' only when they need it. Shredded values (typed_value columns, partially shredded
 * objects) are merged with the binary `value` following the Parquet variant shredding spec.
 * Every offset read from variant bytes is checked; nesting is limited. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/text/text.h"
#include "pq_int.h"

#define PQ_VARIANT_MAX_DEPTH 64

typedef struct vmeta {
    const uint8_t *p;
    int64_t n;
    int64_t dict_size;
    int off_size;
    const uint8_t *offsets, *strings;
    int64_t strings_len;
} vmeta;

typedef struct vctx {
    pl_strbuf *out;
    pl_error *err;
    vmeta meta;
} vctx;

static pl_status vfail(vctx *c, const char *what) {
    PL_FAIL(c->err, PL_ERR_CORRUPT, "invalid variant: %s", what);
}

static uint64_t load_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; k++) v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static pl_status meta_parse(vctx *c, const uint8_t *p, int64_t n) {
    vmeta *m = &c->meta;
    memset(m, 0, sizeof *m);
    if (n < 1) return vfail(c, "empty metadata");
    uint8_t h = p[0];
    if ((h & 0x0f) != 1) return vfail(c, "unsupported metadata version");
    m->off_size = ((h >> 6) & 3) + 1;
    if (n < 1 + m->off_size) return vfail(c, "truncated metadata");
    m->dict_size = (int64_t)load_le(p + 1, m->off_size);
    int64_t hdr = 1 + (int64_t)m->off_size * (m->dict_size + 2);
    if (m->dict_size > n || hdr > n) return vfail(c, "truncated metadata dictionary");
    m->offsets = p + 1 + m->off_size;
    m->strings = p + hdr;
    m->strings_len = n - hdr;
    m->p = p;
    m->n = n;
    return PL_OK;
}

static pl_status meta_key(vctx *c, int64_t id, const char **s, int64_t *len) {
    vmeta *m = &c->meta;
    if (id < 0 || id >= m->dict_size) return vfail(c, "field id out of range");
    int64_t a = (int64_t)load_le(m->offsets + id * m->off_size, m->off_size);
    int64_t b = (int64_t)load_le(m->offsets + (id + 1) * m->off_size, m->off_size);
    if (a > b || b > m->strings_len) return vfail(c, "dictionary offset out of range");
    *s = (const char *)m->strings + a;
    *len = b - a;
    return PL_OK;
}

static pl_status put(vctx *c, const char *s, int64_t n) { return pl_strbuf_append(c->out, s, n, c->err); }
static pl_status puts_(vctx *c, const char *s) { return put(c, s, (int64_t)strlen(s)); }

/* ---------------------------------------------------------------- scalars */

static bool needs_quotes(const char *s, int64_t n) {
    if (n == 0) return true;
    if (s[0] == ' ' || s[n - 1] == ' ') return true;
    if (n == 4 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'u' && (s[2] | 0x20) == 'l' &&
        (s[3] | 0x20) == 'l')
        return true;
    for (int64_t k = 0; k < n; k++) {
        switch (s[k]) {
        case '\'': case '"': case ',': case '[': case ']': case '{': case '}': case '(': case ')':
        case ':': case '=': case '\\': case '\n': case '\t': case '\r':
            return true;
        default:
            break;
        }
    }
    return false;
}

static pl_status put_string(vctx *c, const char *s, int64_t n, bool nested) {
    if (!nested || !needs_quotes(s, n)) return put(c, s, n);
    PL_TRY(put(c, "'", 1));
    for (int64_t k = 0; k < n; k++) {
        if (s[k] == '\'') PL_TRY(put(c, "\\'", 2));
        else PL_TRY(put(c, s + k, 1));
    }
    return put(c, "'", 1);
}

static pl_status put_blob(vctx *c, const uint8_t *b, int64_t n) {
    static const char hex[] = "0123456789ABCDEF";
    for (int64_t k = 0; k < n; k++) {
        uint8_t v = b[k];
        if (v >= 0x20 && v < 0x7f && v != '\\' && v != '\'' && v != '"') {
            PL_TRY(put(c, (const char *)&b[k], 1));
        } else {
            char e[4] = {'\\', 'x', hex[v >> 4], hex[v & 15]};
            PL_TRY(put(c, e, 4));
        }
    }
    return PL_OK;
}

static pl_status put_uuid(vctx *c, const uint8_t *b) {
    static const char hex[] = "0123456789abcdef";
    char s[40];
    int pos = 0;
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10) s[pos++] = '-';
        s[pos++] = hex[b[k] >> 4];
        s[pos++] = hex[b[k] & 15];
    }
    return put(c, s, pos);
}

static pl_status put_i64(vctx *c, int64_t v) {
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return put(c, buf, n);
}

/* zoned nanosecond timestamps show as microseconds (DuckDB's TIMESTAMPTZ), truncated */
static pl_status put_ts(vctx *c, int64_t v, pl_time_unit unit, bool zoned) {
    char buf[80];
    if (zoned && unit == PL_UNIT_NS) {
        v /= 1000;
        unit = PL_UNIT_US;
    }
    int n = pl_text_format_timestamp(v, unit, zoned, buf);
    return put(c, buf, n);
}

/* ---------------------------------------------------------------- variant binary */

static pl_status render_value(vctx *c, const uint8_t *p, int64_t n, bool nested, int depth);

static pl_status render_primitive(vctx *c, int type, const uint8_t *p, int64_t n, bool nested) {
    char buf[80];
    int len;
#define NEED(k)                                                                                    \
    do {                                                                                           \
        if (n < (k)) return vfail(c, "truncated primitive value");                                 \
    } while (0)
    switch (type) {
    case 0: return puts_(c, "NULL");
    case 1: return puts_(c, "true");
    case 2: return puts_(c, "false");
    case 3: NEED(1); return put_i64(c, (int8_t)p[0]);
    case 4: NEED(2); return put_i64(c, (int16_t)load_le(p, 2));
    case 5: NEED(4); return put_i64(c, (int32_t)load_le(p, 4));
    case 6: NEED(8); return put_i64(c, (int64_t)load_le(p, 8));
    case 7: {
        NEED(8);
        double d;
        memcpy(&d, p, 8);
        len = pl_text_format_double(d, buf);
        return put(c, buf, len);
    }
    case 8: case 9: case 10: {
        int w = type == 8 ? 4 : type == 9 ? 8 : 16;
        NEED(1 + w);
        int32_t scale = p[0];
        uint64_t lo;
        int64_t hi;
        if (w == 16) {
            lo = load_le(p + 1, 8);
            hi = (int64_t)load_le(p + 9, 8);
        } else {
            int64_t v = w == 4 ? (int32_t)load_le(p + 1, 4) : (int64_t)load_le(p + 1, 8);
            lo = (uint64_t)v;
            hi = v < 0 ? -1 : 0;
        }
        if (scale > 38) return vfail(c, "decimal scale out of range");
        len = pl_text_format_decimal(lo, hi, scale, buf);
        return put(c, buf, len);
    }
    case 11: NEED(4); len = pl_text_format_date((int32_t)load_le(p, 4), buf); return put(c, buf, len);
    case 12: NEED(8); return put_ts(c, (int64_t)load_le(p, 8), PL_UNIT_US, true);
    case 13: NEED(8); return put_ts(c, (int64_t)load_le(p, 8), PL_UNIT_US, false);
    case 14: {
        NEED(4);
        float f;
        memcpy(&f, p, 4);
        len = pl_text_format_float(f, buf);
        return put(c, buf, len);
    }
    case 15: case 16: {
        NEED(4);
        int64_t l = (int64_t)load_le(p, 4);
        if (l > n - 4) return vfail(c, "truncated string");
        if (type == 15) return put_blob(c, p + 4, l);
        return put_string(c, (const char *)p + 4, l, nested);
    }
    case 17: NEED(8); len = pl_text_format_time((int64_t)load_le(p, 8), PL_UNIT_US, buf); return put(c, buf, len);
    case 18: NEED(8); return put_ts(c, (int64_t)load_le(p, 8), PL_UNIT_NS, true);
    case 19: NEED(8); return put_ts(c, (int64_t)load_le(p, 8), PL_UNIT_NS, false);
    case 20: NEED(16); return put_uuid(c, p);
    default: return vfail(c, "unknown primitive type");
    }
#undef NEED
}

/* Reads the element table of an object/array: count, ids (objects), offsets; *data = start of
 * the values. */
typedef struct vtable {
    int64_t count;
    int id_size, off_size;
    const uint8_t *ids, *offs, *data;
    int64_t data_len;
} vtable;

static pl_status read_table(vctx *c, const uint8_t *p, int64_t n, bool object, vtable *t) {
    uint8_t h = p[0] >> 2;
    t->off_size = (h & 3) + 1;
    t->id_size = object ? ((h >> 2) & 3) + 1 : 0;
    bool large = object ? (h >> 4) & 1 : (h >> 2) & 1;
    int cnt_size = large ? 4 : 1;
    if (n < 1 + cnt_size) return vfail(c, "truncated object/array header");
    t->count = (int64_t)load_le(p + 1, cnt_size);
    int64_t pos = 1 + cnt_size;
    if (t->count > n) return vfail(c, "element count out of range");
    int64_t ids_bytes = t->count * t->id_size, offs_bytes = (t->count + 1) * t->off_size;
    if (ids_bytes + offs_bytes > n - pos) return vfail(c, "truncated object/array");
    t->ids = p + pos;
    t->offs = p + pos + ids_bytes;
    t->data = t->offs + offs_bytes;
    t->data_len = n - (pos + ids_bytes + offs_bytes);
    return PL_OK;
}

static pl_status element(vctx *c, const vtable *t, int64_t k, const uint8_t **v, int64_t *len) {
    int64_t a = (int64_t)load_le(t->offs + k * t->off_size, t->off_size);
    int64_t end = (int64_t)load_le(t->offs + t->count * t->off_size, t->off_size);
    if (a >= t->data_len || end > t->data_len) return vfail(c, "element offset out of range");
    *v = t->data + a;
    /* elements need not be in offset order: a value's own encoding bounds it */
    *len = t->data_len - a;
    return PL_OK;
}

static pl_status render_value(vctx *c, const uint8_t *p, int64_t n, bool nested, int depth) {
    if (depth > PQ_VARIANT_MAX_DEPTH) return vfail(c, "nested too deeply");
    if (n < 1) return vfail(c, "empty value");
    int basic = p[0] & 3;
    int hdr = p[0] >> 2;
    if (basic == 0) return render_primitive(c, hdr, p + 1, n - 1, nested);
    if (basic == 1) {
        if (hdr > n - 1) return vfail(c, "truncated short string");
        return put_string(c, (const char *)p + 1, hdr, nested);
    }
    vtable t;
    PL_TRY(read_table(c, p, n, basic == 2, &t));
    PL_TRY(put(c, basic == 2 ? "{" : "[", 1));
    for (int64_t k = 0; k < t.count; k++) {
        if (k) PL_TRY(put(c, ", ", 2));
        if (basic == 2) {
            const char *key;
            int64_t klen;
            PL_TRY(meta_key(c, (int64_t)load_le(t.ids + k * t.id_size, t.id_size), &key, &klen));
            PL_TRY(put(c, "'", 1));
            PL_TRY(put(c, key, klen));
            PL_TRY(put(c, "': ", 3));
        }
        const uint8_t *v;
        int64_t vlen;
        PL_TRY(element(c, &t, k, &v, &vlen));
        PL_TRY(render_value(c, v, vlen, true, depth + 1));
    }
    return put(c, basic == 2 ? "}" : "]", 1);
}

/* ---------------------------------------------------------------- shredded values */

static const pl_array *child_named(const pl_array *s, const char *name) {
    if (!s || s->type->id != PL_TYPE_STRUCT) return NULL;
    for (int32_t k = 0; k < s->type->n_children; k++)
        if (strcmp(s->type->children[k].name, name) == 0) return s->children[k];
    return NULL;
}

static bool valid_at(const pl_array *a, int64_t i) { return a && pl_array_is_valid(a, i); }

static pl_status render_typed(vctx *c, const pl_array *a, int64_t i, bool nested, int depth);

/* A (value, typed_value) group at row i of struct g. *missing: both are null. */
static pl_status render_group(vctx *c, const pl_array *g, int64_t i, bool nested, int depth,
                              bool *missing);

typedef struct kv {
    char *key;
    int64_t key_len;
    char *text;
    int64_t text_len;
    int64_t order; /* typed fields first: on a duplicate key the shredded value wins */
} kv;

static int kv_cmp(const void *a, const void *b) {
    const kv *x = a, *y = b;
    int64_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int r = memcmp(x->key, y->key, (size_t)n);
    if (r) return r;
    if (x->key_len != y->key_len) return x->key_len < y->key_len ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Renders a shredded object: typed fields plus the fields of the binary value (if any). */
static pl_status render_object(vctx *c, const pl_array *typed, int64_t i, const uint8_t *val,
                               int64_t val_len, int depth) {
    int64_t n_typed = typed->type->n_children;
    vtable t = {0};
    bool has_val = val && val_len > 0 && (val[0] & 3) == 2;
    if (has_val) PL_TRY(read_table(c, val, val_len, true, &t));
    int64_t cap = n_typed + t.count;
    kv *items = pl_calloc((size_t)(cap > 0 ? cap : 1), sizeof *items);
    if (!items) PL_FAIL(c->err, PL_ERR_NOMEM, "out of memory rendering a variant");
    int64_t n_items = 0;
    pl_strbuf *saved = c->out;
    pl_status st = PL_OK;
    int64_t ci = typed->offset + i;
    for (int64_t k = 0; k < n_typed && !st; k++) {
        pl_strbuf tmp = {0};
        c->out = &tmp;
        bool missing = false;
        st = render_group(c, typed->children[k], ci, true, depth + 1, &missing);
        c->out = saved;
        if (st || missing) {
            pl_strbuf_reset(&tmp);
            continue;
        }
        const char *name = typed->type->children[k].name;
        items[n_items].key = (char *)name;
        items[n_items].key_len = (int64_t)strlen(name);
        items[n_items].text = tmp.data;
        items[n_items].text_len = tmp.len;
        items[n_items].order = n_items;
        n_items++;
    }
    for (int64_t k = 0; k < t.count && !st; k++) {
        const char *key;
        int64_t klen;
        const uint8_t *v;
        int64_t vlen;
        st = meta_key(c, (int64_t)load_le(t.ids + k * t.id_size, t.id_size), &key, &klen);
        if (!st) st = element(c, &t, k, &v, &vlen);
        if (st) break;
        pl_strbuf tmp = {0};
        c->out = &tmp;
        st = render_value(c, v, vlen, true, depth + 1);
        c->out = saved;
        if (st) {
            pl_strbuf_reset(&tmp);
            break;
        }
        items[n_items].key = (char *)key;
        items[n_items].key_len = klen;
        items[n_items].text = tmp.data;
        items[n_items].text_len = tmp.len;
        items[n_items].order = n_items;
        n_items++;
    }
    if (!st) {
        qsort(items, (size_t)n_items, sizeof *items, kv_cmp);
        st = put(c, "{", 1);
        bool first = true;
        for (int64_t k = 0; k < n_items && !st; k++) {
            if (k > 0 && items[k].key_len == items[k - 1].key_len &&
                memcmp(items[k].key, items[k - 1].key, (size_t)items[k].key_len) == 0)
                continue;
            if (!first) st = put(c, ", ", 2);
            first = false;
            if (!st) st = put(c, "'", 1);
            if (!st) st = put(c, items[k].key, items[k].key_len);
            if (!st) st = put(c, "': ", 3);
            if (!st) st = put(c, items[k].text ? items[k].text : "", items[k].text_len);
        }
        if (!st) st = put(c, "}", 1);
    }
    for (int64_t k = 0; k < n_items; k++) pl_free(items[k].text);
    pl_free(items);
    return st;
}

static pl_status render_typed(vctx *c, const pl_array *a, int64_t i, bool nested, int depth) {
    if (depth > PQ_VARIANT_MAX_DEPTH) return vfail(c, "nested too deeply");
    const void *vals = a->values ? pl_array_values_ptr(a) : NULL;
    char buf[80];
    int len;
    switch (a->type->id) {
    case PL_TYPE_BOOL:
        return puts_(c, pl_bit_get(a->values->data, a->offset + i) ? "true" : "false");
    case PL_TYPE_INT8: return put_i64(c, ((const int8_t *)vals)[i]);
    case PL_TYPE_INT16: return put_i64(c, ((const int16_t *)vals)[i]);
    case PL_TYPE_INT32: return put_i64(c, ((const int32_t *)vals)[i]);
    case PL_TYPE_INT64: return put_i64(c, ((const int64_t *)vals)[i]);
    case PL_TYPE_UINT8: return put_i64(c, ((const uint8_t *)vals)[i]);
    case PL_TYPE_UINT16: return put_i64(c, ((const uint16_t *)vals)[i]);
    case PL_TYPE_UINT32: return put_i64(c, ((const uint32_t *)vals)[i]);
    case PL_TYPE_UINT64: {
        len = snprintf(buf, sizeof buf, "%llu", (unsigned long long)((const uint64_t *)vals)[i]);
        return put(c, buf, len);
    }
    case PL_TYPE_FLOAT32: len = pl_text_format_float(((const float *)vals)[i], buf); return put(c, buf, len);
    case PL_TYPE_FLOAT64: len = pl_text_format_double(((const double *)vals)[i], buf); return put(c, buf, len);
    case PL_TYPE_DECIMAL128: {
        const uint8_t *d = (const uint8_t *)vals + 16 * i;
        len = pl_text_format_decimal(load_le(d, 8), (int64_t)load_le(d + 8, 8), a->type->scale, buf);
        return put(c, buf, len);
    }
    case PL_TYPE_DATE32: len = pl_text_format_date(((const int32_t *)vals)[i], buf); return put(c, buf, len);
    case PL_TYPE_TIME64: len = pl_text_format_time(((const int64_t *)vals)[i], a->type->unit, buf); return put(c, buf, len);
    case PL_TYPE_TIMESTAMP:
        return put_ts(c, ((const int64_t *)vals)[i], a->type->unit, a->type->tz != NULL);
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t l;
        const uint8_t *s = pl_array_bytes(a, i, &l);
        if (a->type->id == PL_TYPE_BINARY) return put_blob(c, s, l);
        return put_string(c, (const char *)s, l, nested);
    }
    case PL_TYPE_FIXED_BINARY: {
        const uint8_t *b = (const uint8_t *)vals + (int64_t)a->type->byte_width * i;
        if (a->type->byte_width == 16) return put_uuid(c, b);
        return put_blob(c, b, a->type->byte_width);
    }
    case PL_TYPE_LIST: {
        const int32_t *o = pl_array_offsets(a);
        const pl_array *el = a->children[0];
        PL_TRY(put(c, "[", 1));
        for (int32_t k = o[i]; k < o[i + 1]; k++) {
            if (k > o[i]) PL_TRY(put(c, ", ", 2));
            bool missing = false;
            PL_TRY(render_group(c, el, k, true, depth + 1, &missing));
            if (missing) PL_TRY(puts_(c, "NULL"));
        }
        return put(c, "]", 1);
    }
    case PL_TYPE_STRUCT:
        return render_object(c, a, i, NULL, 0, depth);
    default:
        PL_FAIL(c->err, PL_ERR_UNSUPPORTED, "shredded variant values of this type are not supported");
    }
}

static pl_status render_group(vctx *c, const pl_array *g, int64_t i, bool nested, int depth,
                              bool *missing) {
    *missing = false;
    if (depth > PQ_VARIANT_MAX_DEPTH) return vfail(c, "nested too deeply");
    int64_t ci = g->offset + i;
    const pl_array *value = child_named(g, "value");
    const pl_array *typed = child_named(g, "typed_value");
    bool has_typed = valid_at(typed, ci);
    bool has_value = valid_at(value, ci);
    if (!pl_array_is_valid(g, i) || (!has_typed && !has_value)) {
        *missing = true;
        return PL_OK;
    }
    const uint8_t *vb = NULL;
    int32_t vlen = 0;
    if (has_value) vb = pl_array_bytes(value, ci, &vlen);
    if (has_typed) {
        if (typed->type->id == PL_TYPE_STRUCT)
            return render_object(c, typed, ci, vb, vlen, depth);
        return render_typed(c, typed, ci, nested, depth);
    }
    return render_value(c, vb, vlen, nested, depth);
}

pl_status pl_pq_variant_to_text(pl_array *s, pl_array **out, pl_error *err) {
    int64_t n = s->length;
    const pl_array *meta = child_named(s, "metadata");
    pl_buf *off = NULL, *valid = NULL;
    pl_strbuf data = {0};
    pl_status st = pl_buf_new((n + 1) * 4, &off, err);
    if (!st) st = pl_buf_new_zeroed((n + 7) / 8 + 8, &valid, err);
    int64_t nulls = 0;
    vctx c = {&data, err, {0}};
    int32_t *o = off ? (int32_t *)(void *)off->data : NULL;
    if (o) o[0] = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t mark = data.len;
        bool missing = true;
        if (pl_array_is_valid(s, i) && meta && valid_at(meta, s->offset + i)) {
            int32_t mlen;
            const uint8_t *mb = pl_array_bytes(meta, s->offset + i, &mlen);
            st = meta_parse(&c, mb, mlen);
            if (!st) st = render_group(&c, s, i, false, 0, &missing);
            /* a top-level variant null reads as NULL */
            const pl_array *value = child_named(s, "value"), *typed = child_named(s, "typed_value");
            int64_t ci = s->offset + i;
            if (!st && !missing && valid_at(value, ci) && !valid_at(typed, ci)) {
                int32_t vlen;
                const uint8_t *vb = pl_array_bytes(value, ci, &vlen);
                if (vlen >= 1 && vb[0] == 0) {
                    missing = true;
                    data.len = mark;
                }
            }
        }
        if (!st && data.len > (int64_t)PL_MAX_VARLEN_BYTES)
            st = pl_error_set(err, PL_ERR_LIMIT, "variant text exceeds %lld bytes",
                              (long long)PL_MAX_VARLEN_BYTES);
        if (missing) nulls++;
        else pl_bit_set(valid->data, i);
        if (o) o[i + 1] = (int32_t)data.len;
    }
    pl_buf *bytes = NULL;
    if (!st) st = pl_buf_new(data.len + 1, &bytes, err);
    if (!st) {
        if (data.len) memcpy(bytes->data, data.data, (size_t)data.len);
        bytes->size = data.len;
        off->size = (n + 1) * 4;
        valid->size = (n + 7) / 8;
        if (nulls == 0) {
            pl_buf_release(valid);
            valid = NULL;
        }
        pl_strbuf_reset(&data);
        return pl_array_new(pl_type_simple(PL_TYPE_UTF8), n, nulls, valid, off, bytes, 0, NULL,
                            NULL, out, err);
    }
    pl_strbuf_reset(&data);
    pl_buf_release(off);
    pl_buf_release(valid);
    pl_buf_release(bytes);
    return st;
}

pl_status pl_pq_wkb_to_text(pl_pq_sink *s, const uint8_t *validity, pl_error *err) {
    if (s->conv != PL_PQ_CONV_VARLEN || !s->values) return PL_OK;
    int64_t n = s->n;
    const int32_t *o = (const int32_t *)(const void *)s->values->data;
    pl_strbuf text = {0};
    pl_buf *off = NULL, *bytes = NULL;
    pl_status st = pl_buf_new((n + 1) * 4 + 64, &off, err);
    int32_t *no = off ? (int32_t *)(void *)off->data : NULL;
    if (no) no[0] = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (!validity || pl_bit_get(validity, i))
            st = pl_text_wkb_to_wkt(s->data->data + o[i], o[i + 1] - o[i], &text, err);
        if (!st && text.len > (int64_t)PL_MAX_VARLEN_BYTES)
            st = pl_error_set(err, PL_ERR_LIMIT, "geometry text exceeds %lld bytes",
                              (long long)PL_MAX_VARLEN_BYTES);
        if (!st) no[i + 1] = (int32_t)text.len;
    }
    if (!st) st = pl_buf_new(text.len + 64, &bytes, err);
    if (st) {
        pl_strbuf_reset(&text);
        pl_buf_release(off);
        return st;
    }
    if (text.len) memcpy(bytes->data, text.data, (size_t)text.len);
    bytes->size = text.len;
    pl_strbuf_reset(&text);
    pl_buf_release(s->values);
    pl_buf_release(s->data);
    s->values = off;
    s->data = bytes;
    s->cap = n;
    return PL_OK;
}
