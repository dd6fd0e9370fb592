/* c_data.c - the Arrow C Data / C Stream Interface: zero-copy export of polaroid types, arrays,
 * batches and streams, and zero-copy import of foreign ones (polaroid/c_data.h).
 *
 * Export: every exported ArrowSchema / ArrowArray node owns a private block (format strings,
 * child pointer vectors, child structs, and for arrays a reference on the pl_array or pl_batch);
 * its release callback releases the children and the dictionary that were not moved away (their
 * release is not NULL), frees the block and marks the node released, as the specification says.
 * Import: the moved ArrowArray lives in one refcounted holder; every pl_buf wrapping one of its
 * buffers (at any depth) holds a reference, and the last release calls the producer's release.
 * Uses only the pl_stream struct of io.h (function pointers), no io-layer code. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/c_data.h"

#define PL_CDATA_MAX_DEPTH 64

static const int64_t g_zero_offsets[2];

/* ---------------------------------------------------------------- schema export */

typedef struct schema_priv {
    char format[64];
    char *name;
    char *metadata;
    struct ArrowSchema **child_ptrs;
    struct ArrowSchema *children;
    struct ArrowSchema *dict;
} schema_priv;

static void schema_release(struct ArrowSchema *s) {
    if (!s || !s->release) return;
    schema_priv *p = s->private_data;
    for (int64_t k = 0; k < s->n_children; k++) {
        struct ArrowSchema *c = s->children[k];
        if (c && c->release) c->release(c);
    }
    if (s->dictionary && s->dictionary->release) s->dictionary->release(s->dictionary);
    if (p) {
        pl_free(p->name);
        pl_free(p->metadata);
        pl_free(p->child_ptrs);
        pl_free(p->children);
        pl_free(p->dict);
        pl_free(p);
    }
    s->release = NULL;
    s->private_data = NULL;
}

static const char *index_format(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: return "c";
    case PL_TYPE_UINT8: return "C";
    case PL_TYPE_INT16: return "s";
    case PL_TYPE_UINT16: return "S";
    case PL_TYPE_INT32: return "i";
    case PL_TYPE_UINT32: return "I";
    case PL_TYPE_INT64: return "l";
    case PL_TYPE_UINT64: return "L";
    default: return NULL;
    }
}

static pl_status format_of(const pl_type *t, char *buf, size_t n, pl_error *err) {
    static const char units[] = {'s', 'm', 'u', 'n'};
    const char *f = index_format(t->id);
    if (f) {
        snprintf(buf, n, "%s", f);
        return PL_OK;
    }
    switch (t->id) {
    case PL_TYPE_NA: f = "n"; break;
    case PL_TYPE_BOOL: f = "b"; break;
    case PL_TYPE_FLOAT32: f = "f"; break;
    case PL_TYPE_FLOAT64: f = "g"; break;
    case PL_TYPE_UTF8: f = "u"; break;
    case PL_TYPE_BINARY: f = "z"; break;
    case PL_TYPE_DATE32: f = "tdD"; break;
    case PL_TYPE_LIST: f = "+l"; break;
    case PL_TYPE_STRUCT: f = "+s"; break;
    case PL_TYPE_MAP: f = "+m"; break;
    case PL_TYPE_DECIMAL128:
        snprintf(buf, n, "d:%d,%d", t->precision, t->scale);
        return PL_OK;
    case PL_TYPE_FIXED_BINARY:
        snprintf(buf, n, "w:%d", t->byte_width);
        return PL_OK;
    case PL_TYPE_TIME64:
        snprintf(buf, n, "tt%c", t->unit == PL_UNIT_NS ? 'n' : 'u');
        return PL_OK;
    case PL_TYPE_TIMESTAMP:
        if (t->tz && strlen(t->tz) > n - 8)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "time zone name too long to export");
        snprintf(buf, n, "ts%c:%s", units[t->unit & 3], t->tz ? t->tz : "");
        return PL_OK;
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "type id %d cannot be exported", (int)t->id);
    }
    snprintf(buf, n, "%s", f);
    return PL_OK;
}

static pl_status export_field(const pl_type *t, const char *name, bool nullable, int depth,
                              struct ArrowSchema *out, pl_error *err);

#define JSON_EXT_NAME "arrow.json"
#define EXT_NAME_KEY "ARROW:extension:name"
#define EXT_META_KEY "ARROW:extension:metadata"

/* Field metadata naming an extension type: {EXT_NAME_KEY: ext, EXT_META_KEY: ""} in the C Data
 * Interface's encoding (int32 count, then int32-length-prefixed keys and values). */
static char *ext_metadata(const char *ext) {
    const char *kv[4] = {EXT_NAME_KEY, ext, EXT_META_KEY, ""};
    size_t n = 4;
    for (int k = 0; k < 4; k++) n += 4 + strlen(kv[k]);
    char *m = pl_malloc(n);
    if (!m) return NULL;
    int32_t cnt = 2;
    memcpy(m, &cnt, 4);
    size_t pos = 4;
    for (int k = 0; k < 4; k++) {
        int32_t len = (int32_t)strlen(kv[k]);
        memcpy(m + pos, &len, 4);
        memcpy(m + pos + 4, kv[k], (size_t)len);
        pos += 4 + (size_t)len;
    }
    return m;
}

/* True when a schema's metadata names the extension type ext. */
static bool has_ext(const char *m, const char *ext) {
    if (!m) return false;
    int32_t n;
    memcpy(&n, m, 4);
    m += 4;
    for (int32_t k = 0; k < n; k++) {
        int32_t kl, vl;
        memcpy(&kl, m, 4);
        const char *key = m + 4;
        m += 4 + kl;
        memcpy(&vl, m, 4);
        const char *val = m + 4;
        m += 4 + vl;
        if (kl == (int32_t)strlen(EXT_NAME_KEY) && !memcmp(key, EXT_NAME_KEY, (size_t)kl) &&
            vl == (int32_t)strlen(ext) && !memcmp(val, ext, (size_t)vl))
            return true;
    }
    return false;
}

/* Fills out for type t (a dictionary's value type goes to out->dictionary). */
static pl_status export_field(const pl_type *t, const char *name, bool nullable, int depth,
                              struct ArrowSchema *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    if (depth > PL_CDATA_MAX_DEPTH) PL_FAIL(err, PL_ERR_LIMIT, "type nested too deeply to export");
    schema_priv *p = pl_calloc(1, sizeof *p);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting a schema");
    out->private_data = p;
    out->release = schema_release;
    out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
    pl_status st = PL_OK;
    const pl_type *vt = t;
    if (t->id == PL_TYPE_DICTIONARY) {
        snprintf(p->format, sizeof p->format, "%s", index_format(t->index_id));
        vt = t->value_type;
        p->dict = pl_calloc(1, sizeof *p->dict);
        if (!p->dict) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory exporting a schema");
        else if (!(st = export_field(vt, NULL, true, depth + 1, p->dict, err)))
            out->dictionary = p->dict;
    } else {
        st = format_of(t, p->format, sizeof p->format, err);
    }
    out->format = p->format;
    if (!st && pl_type_is_json(t)) { /* Arrow's canonical extension type "arrow.json" */
        if (!(p->metadata = ext_metadata(JSON_EXT_NAME)))
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory exporting a schema");
        out->metadata = p->metadata;
    }
    if (!st && name && !(p->name = pl_strdup(name)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory exporting a schema");
    out->name = p->name;
    const pl_type *ct = t->id == PL_TYPE_DICTIONARY ? NULL : t;
    int32_t n = ct ? ct->n_children : 0;
    if (!st && n > 0) {
        p->children = pl_calloc((size_t)n, sizeof *p->children);
        p->child_ptrs = pl_calloc((size_t)n, sizeof *p->child_ptrs);
        if (!p->children || !p->child_ptrs)
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory exporting a schema");
        for (int32_t k = 0; !st && k < n; k++) {
            p->child_ptrs[k] = &p->children[k];
            out->n_children = k + 1;
            out->children = p->child_ptrs;
            st = export_field(ct->children[k].type, ct->children[k].name, ct->children[k].nullable,
                              depth + 1, &p->children[k], err);
        }
    }
    if (st) schema_release(out);
    return st;
}

pl_status pl_type_export(const pl_type *t, const char *name, bool nullable, struct ArrowSchema *out,
                         pl_error *err) {
    return export_field(t, name, nullable, 0, out, err);
}

static char *encode_metadata(const pl_schema *s) {
    size_t n = 4;
    for (int32_t k = 0; k < s->n_meta; k++)
        n += 8 + strlen(s->meta_keys[k]) + strlen(s->meta_values[k]);
    char *m = pl_malloc(n);
    if (!m) return NULL;
    int32_t cnt = s->n_meta;
    memcpy(m, &cnt, 4);
    size_t pos = 4;
    for (int32_t k = 0; k < s->n_meta; k++) {
        const char *kv[2] = {s->meta_keys[k], s->meta_values[k]};
        for (int j = 0; j < 2; j++) {
            int32_t len = (int32_t)strlen(kv[j]);
            memcpy(m + pos, &len, 4);
            memcpy(m + pos + 4, kv[j], (size_t)len);
            pos += 4 + (size_t)len;
        }
    }
    return m;
}

pl_status pl_schema_export(const pl_schema *s, struct ArrowSchema *out, pl_error *err) {
    pl_type *st_type;
    PL_TRY(pl_type_new_struct(s->n_fields, s->fields, &st_type, err));
    pl_status st = export_field(st_type, "", false, 0, out, err);
    pl_type_release(st_type);
    if (st) return st;
    if (s->n_meta > 0) {
        schema_priv *p = out->private_data;
        p->metadata = encode_metadata(s);
        if (!p->metadata) {
            schema_release(out);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting a schema");
        }
        out->metadata = p->metadata;
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- array export */

typedef struct array_priv {
    pl_array *arr;   /* the exported array (NULL for a batch) */
    pl_batch *batch; /* the exported batch */
    const void *bufs[3];
    struct ArrowArray **child_ptrs;
    struct ArrowArray *children;
    struct ArrowArray *dict;
} array_priv;

static void array_release(struct ArrowArray *a) {
    if (!a || !a->release) return;
    array_priv *p = a->private_data;
    for (int64_t k = 0; k < a->n_children; k++) {
        struct ArrowArray *c = a->children[k];
        if (c && c->release) c->release(c);
    }
    if (a->dictionary && a->dictionary->release) a->dictionary->release(a->dictionary);
    if (p) {
        pl_array_release(p->arr);
        pl_batch_release(p->batch);
        pl_free(p->child_ptrs);
        pl_free(p->children);
        pl_free(p->dict);
        pl_free(p);
    }
    a->release = NULL;
    a->private_data = NULL;
}

static pl_status alloc_children(array_priv *p, struct ArrowArray *out, int64_t n, pl_error *err) {
    if (n == 0) return PL_OK;
    p->children = pl_calloc((size_t)n, sizeof *p->children);
    p->child_ptrs = pl_calloc((size_t)n, sizeof *p->child_ptrs);
    if (!p->children || !p->child_ptrs)
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting an array");
    for (int64_t k = 0; k < n; k++) p->child_ptrs[k] = &p->children[k];
    out->children = p->child_ptrs;
    return PL_OK;
}

static pl_status export_array(pl_array *a, int depth, struct ArrowArray *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    if (depth > PL_CDATA_MAX_DEPTH) PL_FAIL(err, PL_ERR_LIMIT, "array nested too deeply to export");
    array_priv *p = pl_calloc(1, sizeof *p);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting an array");
    p->arr = pl_array_retain(a);
    out->private_data = p;
    out->release = array_release;
    out->length = a->length;
    out->offset = a->offset;
    out->null_count = pl_array_null_count(a);
    out->buffers = p->bufs;
    p->bufs[0] = a->validity ? a->validity->data : NULL;
    const void *values = a->values ? (const void *)a->values->data : NULL;
    switch (a->type->id) {
    case PL_TYPE_NA:
        out->n_buffers = 0;
        break;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY:
        out->n_buffers = 3;
        p->bufs[1] = values ? values : (const void *)g_zero_offsets;
        p->bufs[2] = a->data ? (const void *)a->data->data : (const void *)g_zero_offsets;
        break;
    case PL_TYPE_LIST: case PL_TYPE_MAP:
        out->n_buffers = 2;
        p->bufs[1] = values ? values : (const void *)g_zero_offsets;
        break;
    case PL_TYPE_STRUCT:
        out->n_buffers = 1;
        break;
    default:
        out->n_buffers = 2;
        p->bufs[1] = values ? values : (const void *)g_zero_offsets;
        break;
    }
    pl_status st = alloc_children(p, out, a->n_children, err);
    for (int32_t k = 0; !st && k < a->n_children; k++) {
        out->n_children = k + 1;
        st = export_array(a->children[k], depth + 1, &p->children[k], err);
    }
    if (!st && a->dictionary) {
        p->dict = pl_calloc(1, sizeof *p->dict);
        if (!p->dict) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory exporting an array");
        else if (!(st = export_array(a->dictionary, depth + 1, p->dict, err)))
            out->dictionary = p->dict;
    }
    if (st) array_release(out);
    return st;
}

pl_status pl_array_export(pl_array *a, struct ArrowArray *out, pl_error *err) {
    return export_array(a, 0, out, err);
}

pl_status pl_batch_export(pl_batch *b, struct ArrowArray *out, struct ArrowSchema *out_schema,
                          pl_error *err) {
    memset(out, 0, sizeof *out);
    if (out_schema) PL_TRY(pl_schema_export(b->schema, out_schema, err));
    array_priv *p = pl_calloc(1, sizeof *p);
    if (!p) {
        if (out_schema) schema_release(out_schema);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting a batch");
    }
    p->batch = pl_batch_retain(b);
    out->private_data = p;
    out->release = array_release;
    out->length = b->n_rows;
    out->n_buffers = 1;
    out->buffers = p->bufs;
    pl_status st = alloc_children(p, out, b->n_cols, err);
    for (int32_t k = 0; !st && k < b->n_cols; k++) {
        out->n_children = k + 1;
        st = export_array(b->columns[k], 1, &p->children[k], err);
    }
    if (st) {
        array_release(out);
        if (out_schema) schema_release(out_schema);
    }
    return st;
}

/* ---------------------------------------------------------------- stream export */

typedef struct stream_priv {
    pl_stream *s;
    char last_error[1024];
} stream_priv;

static int errno_of(pl_status st) {
    switch (st) {
    case PL_OK: return 0;
    case PL_ERR_NOMEM: return ENOMEM;
    case PL_ERR_INVALID_ARG: case PL_ERR_TYPE: return EINVAL;
    case PL_ERR_UNSUPPORTED: return ENOSYS;
    case PL_ERR_CANCELLED: return ECANCELED;
    default: return EIO;
    }
}

static int stream_fail(stream_priv *p, pl_status st, const pl_error *e) {
    pl_error_format(e, p->last_error, sizeof p->last_error);
    return errno_of(st);
}

static int stream_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
    stream_priv *p = s->private_data;
    pl_error e;
    pl_error_init(&e);
    pl_status st = pl_schema_export(p->s->schema, out, &e);
    return st ? stream_fail(p, st, &e) : 0;
}

static int stream_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
    stream_priv *p = s->private_data;
    pl_error e;
    pl_error_init(&e);
    pl_batch *b = NULL;
    pl_status st = p->s->next(p->s, &b, &e);
    if (st) return stream_fail(p, st, &e);
    if (!b) {
        memset(out, 0, sizeof *out); /* end of stream: a released array */
        return 0;
    }
    st = pl_batch_export(b, out, NULL, &e);
    pl_batch_release(b);
    return st ? stream_fail(p, st, &e) : 0;
}

static const char *stream_last_error(struct ArrowArrayStream *s) {
    stream_priv *p = s->private_data;
    return p->last_error[0] ? p->last_error : NULL;
}

static void stream_release(struct ArrowArrayStream *s) {
    if (!s || !s->release) return;
    stream_priv *p = s->private_data;
    if (p) {
        if (p->s) p->s->free(p->s);
        pl_free(p);
    }
    s->release = NULL;
    s->private_data = NULL;
}

pl_status pl_stream_export(pl_stream *s, struct ArrowArrayStream *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    stream_priv *p = pl_calloc(1, sizeof *p);
    if (!p) {
        s->free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory exporting a stream");
    }
    p->s = s;
    out->private_data = p;
    out->get_schema = stream_get_schema;
    out->get_next = stream_get_next;
    out->get_last_error = stream_last_error;
    out->release = stream_release;
    return PL_OK;
}

/* ---------------------------------------------------------------- type import */

static pl_status parse_int(const char **pp, int32_t *out) {
    const char *p = *pp;
    bool neg = *p == '-';
    if (neg) p++;
    if (*p < '0' || *p > '9') return PL_ERR_INVALID_ARG;
    int64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');
        if (v > INT32_MAX) return PL_ERR_INVALID_ARG;
    }
    *out = (int32_t)(neg ? -v : v);
    *pp = p;
    return PL_OK;
}

static pl_type_id simple_format(const char *f) {
    if (!f[0] || f[1]) return PL_TYPE__COUNT;
    switch (f[0]) {
    case 'n': return PL_TYPE_NA;
    case 'b': return PL_TYPE_BOOL;
    case 'c': return PL_TYPE_INT8;
    case 'C': return PL_TYPE_UINT8;
    case 's': return PL_TYPE_INT16;
    case 'S': return PL_TYPE_UINT16;
    case 'i': return PL_TYPE_INT32;
    case 'I': return PL_TYPE_UINT32;
    case 'l': return PL_TYPE_INT64;
    case 'L': return PL_TYPE_UINT64;
    case 'f': return PL_TYPE_FLOAT32;
    case 'g': return PL_TYPE_FLOAT64;
    case 'u': return PL_TYPE_UTF8;
    case 'z': return PL_TYPE_BINARY;
    default: return PL_TYPE__COUNT;
    }
}

static pl_status import_type(const struct ArrowSchema *s, int depth, pl_type **out, pl_error *err);

static pl_status import_value_type(const struct ArrowSchema *s, int depth, pl_type **out,
                                   pl_error *err) {
    const char *f = s->format;
    if (!f) PL_FAIL(err, PL_ERR_INVALID_ARG, "ArrowSchema without a format");
    pl_type_id id = simple_format(f);
    if (id == PL_TYPE_UTF8 && has_ext(s->metadata, JSON_EXT_NAME)) {
        *out = pl_type_json();
        return PL_OK;
    }
    if (id != PL_TYPE__COUNT) {
        *out = pl_type_simple(id);
        return PL_OK;
    }
    const char *p;
    int32_t a, b;
    if (f[0] == 'd' && f[1] == ':') {
        p = f + 2;
        int32_t bits = 128;
        if (parse_int(&p, &a) || *p++ != ',' || parse_int(&p, &b))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed decimal format \"%s\"", f);
        if (*p == ',' && (p++, parse_int(&p, &bits)))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed decimal format \"%s\"", f);
        if (*p || bits != 128)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "decimal format \"%s\" is not supported", f);
        pl_status st = pl_type_new_decimal(a, b, out, err);
        if (st == PL_ERR_INVALID_ARG && err) err->code = PL_ERR_UNSUPPORTED;
        return st == PL_ERR_INVALID_ARG ? PL_ERR_UNSUPPORTED : st;
    }
    if (f[0] == 'w' && f[1] == ':') {
        p = f + 2;
        if (parse_int(&p, &a) || *p || a < 0)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed fixed binary format \"%s\"", f);
        return pl_type_new_fixed_binary(a, out, err);
    }
    if (!strcmp(f, "tdD")) {
        *out = pl_type_simple(PL_TYPE_DATE32);
        return PL_OK;
    }
    if (!strcmp(f, "ttu") || !strcmp(f, "ttn"))
        return pl_type_new_time64(f[2] == 'u' ? PL_UNIT_US : PL_UNIT_NS, out, err);
    if (f[0] == 't' && f[1] == 's' && f[2] && f[3] == ':') {
        const char *u = strchr("smun", f[2]);
        if (!u) PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed timestamp format \"%s\"", f);
        return pl_type_new_timestamp((pl_time_unit)(u - "smun"), f[4] ? f + 4 : NULL, out, err);
    }
    if (!strcmp(f, "+l") || !strcmp(f, "+m") || !strcmp(f, "+s")) {
        int64_t n = s->n_children;
        if (n < 0 || n > 100000 || (n > 0 && !s->children))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "ArrowSchema with %lld children", (long long)n);
        if (f[1] != 's' && n != 1)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "format \"%s\" with %lld children", f, (long long)n);
        pl_field *fs = pl_calloc((size_t)(n ? n : 1), sizeof *fs);
        if (!fs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory importing a schema");
        pl_status st = PL_OK;
        for (int64_t k = 0; !st && k < n; k++) {
            const struct ArrowSchema *c = s->children[k];
            if (!c) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "NULL child schema");
                break;
            }
            st = import_type(c, depth + 1, &fs[k].type, err);
            fs[k].name = (char *)(c->name ? c->name : "");
            fs[k].nullable = (c->flags & ARROW_FLAG_NULLABLE) != 0;
        }
        if (!st) {
            if (f[1] == 's') st = pl_type_new_struct((int32_t)n, fs, out, err);
            else if (f[1] == 'l')
                st = pl_type_new_list(fs[0].name, fs[0].type, fs[0].nullable, out, err);
            else if (fs[0].type->id != PL_TYPE_STRUCT || fs[0].type->n_children != 2)
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "map entries are not a struct of 2 fields");
            else
                st = pl_type_new_map(fs[0].type->children[0].type, fs[0].type->children[1].type,
                                     fs[0].type->children[1].nullable, out, err);
        }
        for (int64_t k = 0; k < n; k++) pl_type_release(fs[k].type);
        pl_free(fs);
        return st;
    }
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "arrow format \"%s\" is not supported", f);
}

static pl_status import_type(const struct ArrowSchema *s, int depth, pl_type **out, pl_error *err) {
    if (depth > PL_CDATA_MAX_DEPTH) PL_FAIL(err, PL_ERR_LIMIT, "schema nested too deeply");
    if (!s->dictionary) return import_value_type(s, depth, out, err);
    pl_type_id idx = simple_format(s->format ? s->format : "");
    if (idx < PL_TYPE_INT8 || idx > PL_TYPE_UINT64)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "dictionary index format \"%s\" is not an integer",
                s->format ? s->format : "");
    pl_type *vt;
    PL_TRY(import_type(s->dictionary, depth + 1, &vt, err));
    pl_status st = pl_type_new_dictionary(idx, vt, out, err);
    pl_type_release(vt);
    return st;
}

pl_status pl_type_import(const struct ArrowSchema *s, pl_type **out, pl_error *err) {
    return import_type(s, 0, out, err);
}

pl_status pl_schema_import(const struct ArrowSchema *s, pl_schema **out, pl_error *err) {
    if (!s->format || strcmp(s->format, "+s"))
        PL_FAIL(err, PL_ERR_INVALID_ARG, "a schema must be a struct (\"+s\"), not \"%s\"",
                s->format ? s->format : "");
    pl_type *t;
    PL_TRY(import_type(s, 0, &t, err));
    pl_schema *sch;
    pl_status st = pl_schema_new(t->n_children, t->children, &sch, err);
    pl_type_release(t);
    if (st) return st;
    const char *m = s->metadata;
    if (m) {
        int32_t n;
        memcpy(&n, m, 4);
        m += 4;
        for (int32_t k = 0; !st && k < n; k++) {
            int32_t kl, vl;
            memcpy(&kl, m, 4);
            char *key = pl_malloc((size_t)kl + 1);
            if (key) {
                memcpy(key, m + 4, (size_t)kl);
                key[kl] = 0;
            }
            m += 4 + kl;
            memcpy(&vl, m, 4);
            char *val = pl_malloc((size_t)vl + 1);
            if (val) {
                memcpy(val, m + 4, (size_t)vl);
                val[vl] = 0;
            }
            m += 4 + vl;
            st = key && val ? pl_schema_add_meta(sch, key, val, err)
                            : pl_error_set(err, PL_ERR_NOMEM, "out of memory importing metadata");
            pl_free(key);
            pl_free(val);
        }
    }
    if (st) {
        pl_schema_release(sch);
        return st;
    }
    *out = sch;
    return PL_OK;
}

/* ---------------------------------------------------------------- array import */

typedef struct import_holder {
    struct ArrowArray arr;
    int64_t refs;
} import_holder;

static void holder_unref(import_holder *h) {
    if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (h->arr.release) h->arr.release(&h->arr);
    pl_free(h);
}

static void holder_buf_release(pl_buf *b) { holder_unref(b->owner); }

static pl_status wrap(import_holder *h, const void *p, int64_t n, pl_buf **out, pl_error *err) {
    *out = NULL;
    if (!p) {
        if (n > 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "NULL buffer of %lld bytes", (long long)n);
        return pl_buf_new_zeroed(8, out, err);
    }
    __atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
    pl_status st = pl_buf_wrap((uint8_t *)p, n, holder_buf_release, h, out, err);
    if (st) holder_unref(h);
    return st;
}

static int32_t expected_buffers(pl_type_id id) {
    switch (id) {
    case PL_TYPE_NA: return 0;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: return 3;
    case PL_TYPE_STRUCT: return 1;
    default: return 2;
    }
}

static pl_status import_array(import_holder *h, const struct ArrowArray *a, const pl_type *t,
                              int depth, pl_array **out, pl_error *err) {
    if (depth > PL_CDATA_MAX_DEPTH) PL_FAIL(err, PL_ERR_LIMIT, "array nested too deeply");
    int32_t want = expected_buffers(t->id);
    int32_t want_children = t->id == PL_TYPE_STRUCT ? t->n_children
                            : (t->id == PL_TYPE_LIST || t->id == PL_TYPE_MAP) ? 1 : 0;
    char tn[96];
    if (a->length < 0 || a->offset < 0 || a->offset > INT64_MAX / 2 - a->length)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "ArrowArray with length %lld and offset %lld",
                (long long)a->length, (long long)a->offset);
    if (a->n_buffers != want || a->n_children != want_children ||
        (want && !a->buffers) || (want_children && !a->children) ||
        (t->id == PL_TYPE_DICTIONARY) != (a->dictionary != NULL))
        PL_FAIL(err, PL_ERR_INVALID_ARG, "ArrowArray shape (%lld buffers, %lld children) does not "
                "match type %s", (long long)a->n_buffers, (long long)a->n_children,
                pl_type_to_string(t, tn, sizeof tn));
    int64_t end = a->offset + a->length;
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array **kids = NULL, *dict = NULL;
    pl_status st = PL_OK;
    if (want > 0 && a->buffers[0] && a->null_count != 0)
        st = wrap(h, a->buffers[0], (end + 7) / 8, &validity, err);
    switch (t->id) {
    case PL_TYPE_NA: case PL_TYPE_STRUCT:
        break;
    case PL_TYPE_BOOL:
        if (!st) st = wrap(h, a->buffers[1], (end + 7) / 8, &values, err);
        break;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: case PL_TYPE_LIST: case PL_TYPE_MAP: {
        const int32_t *o = a->buffers[1];
        if (!o && end > 0) st = pl_error_set(err, PL_ERR_INVALID_ARG, "NULL offsets buffer");
        if (!st) st = wrap(h, o ? (const void *)o : (const void *)g_zero_offsets,
                           o ? (end + 1) * 4 : 0, &values, err);
        if (!st && want == 3) {
            int64_t n_data = o ? o[end] : 0;
            if (n_data < 0) st = pl_error_set(err, PL_ERR_INVALID_ARG, "negative offset");
            else st = wrap(h, a->buffers[2], n_data, &data, err);
        }
        break;
    }
    default:
        if (!st) st = wrap(h, a->buffers[1], end * t->byte_width, &values, err);
        break;
    }
    if (!st && want_children) {
        kids = pl_calloc((size_t)want_children, sizeof *kids);
        if (!kids) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory importing an array");
        for (int32_t k = 0; !st && k < want_children; k++) {
            if (!a->children[k]) st = pl_error_set(err, PL_ERR_INVALID_ARG, "NULL child array");
            else
                st = import_array(h, a->children[k], t->children[k].type, depth + 1, &kids[k],
                                  err);
        }
    }
    if (!st && t->id == PL_TYPE_DICTIONARY)
        st = import_array(h, a->dictionary, t->value_type, depth + 1, &dict, err);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        for (int32_t k = 0; kids && k < want_children; k++) pl_array_release(kids[k]);
        pl_free(kids);
        pl_array_release(dict);
        return st;
    }
    pl_array *arr;
    st = pl_array_new(pl_type_retain((pl_type *)t), end, validity ? a->null_count : 0, validity,
                      values, data, want_children, kids, dict, &arr, err);
    pl_free(kids);
    if (st) return st;
    arr->offset = a->offset;
    arr->length = a->length;
    arr->null_count = validity ? a->null_count : (t->id == PL_TYPE_NA ? a->length : 0);
    *out = arr;
    return PL_OK;
}

pl_status pl_array_import(struct ArrowArray *arr, const pl_type *type, pl_array **out,
                          pl_error *err) {
    if (!arr || !arr->release) PL_FAIL(err, PL_ERR_INVALID_ARG, "importing a released ArrowArray");
    import_holder *h = pl_calloc(1, sizeof *h);
    if (!h) PL_FAIL(err, PL_ERR_NOMEM, "out of memory importing an array");
    h->arr = *arr;
    h->refs = 1; /* the importer's own reference, dropped below */
    pl_array *a = NULL;
    pl_status st = import_array(h, &h->arr, type, 0, &a, err);
    if (st) {
        h->arr.release = NULL; /* failure: the caller keeps ownership */
        holder_unref(h);
        return st;
    }
    arr->release = NULL; /* moved */
    holder_unref(h);
    *out = a;
    return PL_OK;
}

pl_status pl_batch_import(struct ArrowArray *arr, pl_schema *schema, pl_batch **out,
                          pl_error *err) {
    pl_type *t;
    PL_TRY(pl_type_new_struct(schema->n_fields, schema->fields, &t, err));
    pl_array *sa;
    pl_status st = pl_array_import(arr, t, &sa, err);
    pl_type_release(t);
    if (st) return st;
    pl_array **cols = pl_calloc((size_t)(schema->n_fields ? schema->n_fields : 1), sizeof *cols);
    if (!cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory importing a batch");
    for (int32_t k = 0; !st && k < schema->n_fields; k++) {
        pl_array *c = sa->children[k];
        if (sa->offset == 0 && c->length == sa->length) cols[k] = pl_array_retain(c);
        else st = pl_array_slice(c, sa->offset, sa->length, &cols[k], err);
    }
    int64_t n_rows = sa->length;
    if (!st && pl_array_null_count(sa) != 0)
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "a batch struct array has null rows");
    pl_array_release(sa);
    if (st) {
        for (int32_t k = 0; cols && k < schema->n_fields; k++) pl_array_release(cols[k]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(schema), n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

/* ---------------------------------------------------------------- stream import */

typedef struct imported_stream {
    struct ArrowArrayStream in;
} imported_stream;

static pl_status imported_next(pl_stream *s, pl_batch **out, pl_error *err) {
    imported_stream *is = s->impl;
    struct ArrowArray arr;
    memset(&arr, 0, sizeof arr);
    int rc = is->in.get_next(&is->in, &arr);
    if (rc) {
        const char *m = is->in.get_last_error ? is->in.get_last_error(&is->in) : NULL;
        PL_FAIL(err, PL_ERR_IO, "arrow stream producer failed: %s", m ? m : strerror(rc));
    }
    if (!arr.release) {
        *out = NULL;
        return PL_OK;
    }
    pl_status st = pl_batch_import(&arr, s->schema, out, err);
    if (st && arr.release) arr.release(&arr);
    return st;
}

static void imported_free(pl_stream *s) {
    if (!s) return;
    imported_stream *is = s->impl;
    if (is) {
        if (is->in.release) is->in.release(&is->in);
        pl_free(is);
    }
    pl_schema_release(s->schema);
    pl_free(s);
}

pl_status pl_stream_import(struct ArrowArrayStream *in, pl_stream **out, pl_error *err) {
    if (!in || !in->release) PL_FAIL(err, PL_ERR_INVALID_ARG, "importing a released stream");
    struct ArrowSchema sch;
    memset(&sch, 0, sizeof sch);
    int rc = in->get_schema(in, &sch);
    if (rc) {
        const char *m = in->get_last_error ? in->get_last_error(in) : NULL;
        PL_FAIL(err, PL_ERR_IO, "arrow stream producer failed: %s", m ? m : strerror(rc));
    }
    pl_schema *schema;
    pl_status st = pl_schema_import(&sch, &schema, err);
    if (sch.release) sch.release(&sch);
    if (st) return st;
    pl_stream *s = pl_calloc(1, sizeof *s);
    imported_stream *is = pl_calloc(1, sizeof *is);
    if (!s || !is) {
        pl_free(s);
        pl_free(is);
        pl_schema_release(schema);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory importing a stream");
    }
    is->in = *in;
    in->release = NULL;
    s->impl = is;
    s->schema = schema;
    s->next = imported_next;
    s->free = imported_free;
    *out = s;
    return PL_OK;
}
