/* type.c - pl_type and pl_field: immutable, refcounted type trees. Parameterless types are
 * static singletons (refcount < 0) so the common case allocates nothing. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

#define STATIC_TYPE(tid, width) {.id = (tid), .byte_width = (width), .refcount = -1}
static pl_type g_simple[] = {
    STATIC_TYPE(PL_TYPE_NA, 0),      STATIC_TYPE(PL_TYPE_BOOL, 0),    STATIC_TYPE(PL_TYPE_INT8, 1),
    STATIC_TYPE(PL_TYPE_INT16, 2),   STATIC_TYPE(PL_TYPE_INT32, 4),   STATIC_TYPE(PL_TYPE_INT64, 8),
    STATIC_TYPE(PL_TYPE_UINT8, 1),   STATIC_TYPE(PL_TYPE_UINT16, 2),  STATIC_TYPE(PL_TYPE_UINT32, 4),
    STATIC_TYPE(PL_TYPE_UINT64, 8),  STATIC_TYPE(PL_TYPE_FLOAT32, 4), STATIC_TYPE(PL_TYPE_FLOAT64, 8),
    STATIC_TYPE(PL_TYPE_DECIMAL128, 16), STATIC_TYPE(PL_TYPE_UTF8, 4), STATIC_TYPE(PL_TYPE_BINARY, 4),
};
static pl_type g_date32 = STATIC_TYPE(PL_TYPE_DATE32, 4);
static pl_type g_interval = STATIC_TYPE(PL_TYPE_INTERVAL, 16);
static pl_type g_json = {.id = PL_TYPE_UTF8, .byte_width = 4, .refcount = -1, .ext = PL_EXT_JSON};

pl_type *pl_type_json(void) { return &g_json; }

pl_type *pl_type_simple(pl_type_id id) {
    switch (id) {
    case PL_TYPE_NA: case PL_TYPE_BOOL: case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32:
    case PL_TYPE_INT64: case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32:
    case PL_TYPE_UINT64: case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
        return &g_simple[id];
    case PL_TYPE_DATE32:
        return &g_date32;
    case PL_TYPE_INTERVAL:
        return &g_interval;
    default:
        return NULL;
    }
}

static pl_status type_alloc(pl_type_id id, int32_t width, pl_type **out, pl_error *err) {
    pl_type *t = pl_calloc(1, sizeof *t);
    if (!t) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a type");
    t->id = id;
    t->byte_width = width;
    t->refcount = 1;
    *out = t;
    return PL_OK;
}

pl_status pl_type_new_decimal(int32_t precision, int32_t scale, pl_type **out, pl_error *err) {
    if (precision < 1 || precision > 38 || scale < 0 || scale > precision)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "invalid decimal precision %d and scale %d", precision, scale);
    pl_type *t;
    PL_TRY(type_alloc(PL_TYPE_DECIMAL128, 16, &t, err));
    t->precision = precision;
    t->scale = scale;
    *out = t;
    return PL_OK;
}

pl_status pl_type_new_fixed_binary(int32_t byte_width, pl_type **out, pl_error *err) {
    if (byte_width < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative fixed binary width %d", byte_width);
    return type_alloc(PL_TYPE_FIXED_BINARY, byte_width, out, err);
}

pl_status pl_type_new_time64(pl_time_unit unit, pl_type **out, pl_error *err) {
    if (unit != PL_UNIT_US && unit != PL_UNIT_NS)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "time64 takes unit us or ns");
    PL_TRY(type_alloc(PL_TYPE_TIME64, 8, out, err));
    (*out)->unit = unit;
    return PL_OK;
}

pl_status pl_type_new_timestamp(pl_time_unit unit, const char *tz, pl_type **out, pl_error *err) {
    if (unit < PL_UNIT_S || unit > PL_UNIT_NS) PL_FAIL(err, PL_ERR_INVALID_ARG, "invalid time unit");
    pl_type *t;
    PL_TRY(type_alloc(PL_TYPE_TIMESTAMP, 8, &t, err));
    t->unit = unit;
    if (tz) {
        t->tz = pl_strdup(tz);
        if (!t->tz) {
            pl_free(t);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a type");
        }
    }
    *out = t;
    return PL_OK;
}

static int32_t int_width(pl_type_id id) {
    pl_type *t = pl_type_simple(id);
    return t ? t->byte_width : 0;
}

pl_status pl_type_new_dictionary(pl_type_id index_id, pl_type *value_type, pl_type **out,
                                 pl_error *err) {
    if (index_id < PL_TYPE_INT8 || index_id > PL_TYPE_UINT64)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "dictionary index type must be an integer type");
    if (!value_type) PL_FAIL(err, PL_ERR_INVALID_ARG, "dictionary without a value type");
    pl_type *t;
    PL_TRY(type_alloc(PL_TYPE_DICTIONARY, int_width(index_id), &t, err));
    t->index_id = index_id;
    t->value_type = pl_type_retain(value_type);
    *out = t;
    return PL_OK;
}

pl_status pl_field_init(pl_field *f, const char *name, pl_type *type, bool nullable,
                        pl_error *err) {
    f->name = pl_strdup(name ? name : "");
    if (!f->name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a field name");
    f->type = pl_type_retain(type);
    f->nullable = nullable;
    return PL_OK;
}

void pl_field_reset(pl_field *f) {
    if (!f) return;
    pl_free(f->name);
    pl_type_release(f->type);
    f->name = NULL;
    f->type = NULL;
}

static pl_status type_with_children(pl_type_id id, int32_t width, int32_t n, const pl_field *fields,
                                    pl_type **out, pl_error *err) {
    for (int32_t i = 0; i < n; i++)
        if (!fields[i].type) PL_FAIL(err, PL_ERR_INVALID_ARG, "field %d without a type", i);
    pl_type *t;
    PL_TRY(type_alloc(id, width, &t, err));
    if (n > 0) {
        t->children = pl_calloc((size_t)n, sizeof(pl_field));
        if (!t->children) {
            pl_free(t);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a type");
        }
    }
    for (int32_t i = 0; i < n; i++) {
        if (pl_field_init(&t->children[i], fields[i].name, fields[i].type, fields[i].nullable, err)) {
            t->n_children = i;
            pl_type_release(t);
            return PL_ERR_NOMEM;
        }
    }
    t->n_children = n;
    *out = t;
    return PL_OK;
}

pl_status pl_type_new_list(const char *item_name, pl_type *item, bool item_nullable, pl_type **out,
                           pl_error *err) {
    pl_field f = {(char *)(item_name ? item_name : "item"), item, item_nullable};
    return type_with_children(PL_TYPE_LIST, 4, 1, &f, out, err);
}

pl_status pl_type_new_struct(int32_t n_fields, const pl_field *fields, pl_type **out,
                             pl_error *err) {
    if (n_fields < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative field count");
    return type_with_children(PL_TYPE_STRUCT, 0, n_fields, fields, out, err);
}

pl_status pl_type_new_map(pl_type *key, pl_type *value, bool value_nullable, pl_type **out,
                          pl_error *err) {
    if (!key || !value) PL_FAIL(err, PL_ERR_INVALID_ARG, "map without a key or value type");
    pl_field kv[2] = {{"key", key, false}, {"value", value, value_nullable}};
    pl_type *entries;
    PL_TRY(type_with_children(PL_TYPE_STRUCT, 0, 2, kv, &entries, err));
    pl_field e = {"entries", entries, false};
    pl_status st = type_with_children(PL_TYPE_MAP, 4, 1, &e, out, err);
    pl_type_release(entries);
    return st;
}

pl_type *pl_type_retain(pl_type *t) {
    /* static singletons have refcount < 0; the check itself must be an atomic read */
    if (t && __atomic_load_n(&t->refcount, __ATOMIC_RELAXED) >= 0)
        __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    return t;
}

void pl_type_release(pl_type *t) {
    if (!t || __atomic_load_n(&t->refcount, __ATOMIC_RELAXED) < 0) return;
    if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int32_t i = 0; i < t->n_children; i++) pl_field_reset(&t->children[i]);
    pl_free(t->children);
    pl_type_release(t->value_type);
    pl_free(t->tz);
    pl_free(t);
}

bool pl_type_equals(const pl_type *a, const pl_type *b) {
    if (a == b) return true;
    if (!a || !b || a->id != b->id || a->ext != b->ext) return false;
    switch (a->id) {
    case PL_TYPE_DECIMAL128:
        return a->precision == b->precision && a->scale == b->scale;
    case PL_TYPE_FIXED_BINARY:
        return a->byte_width == b->byte_width;
    case PL_TYPE_TIME64:
        return a->unit == b->unit;
    case PL_TYPE_TIMESTAMP:
        if (a->unit != b->unit) return false;
        if (!a->tz || !b->tz) return a->tz == b->tz;
        return strcmp(a->tz, b->tz) == 0;
    case PL_TYPE_DICTIONARY:
        return a->index_id == b->index_id && pl_type_equals(a->value_type, b->value_type);
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP:
        if (a->n_children != b->n_children) return false;
        for (int32_t i = 0; i < a->n_children; i++) {
            /* List item names differ between writers ("item", "element"); they do not
             * change the type. Struct field names do. */
            if (a->id == PL_TYPE_STRUCT && strcmp(a->children[i].name, b->children[i].name))
                return false;
            if (a->children[i].nullable != b->children[i].nullable) return false;
            if (!pl_type_equals(a->children[i].type, b->children[i].type)) return false;
        }
        return true;
    default:
        return true;
    }
}

static const char *const g_names[PL_TYPE__COUNT] = {
    "null", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float32", "float64", "decimal128", "utf8", "binary", "fixed_binary", "date32", "time64",
    "timestamp", "dictionary", "list", "struct", "map", "interval"};
static const char *const g_units[] = {"s", "ms", "us", "ns"};

static size_t type_str(const pl_type *t, char *buf, size_t n) {
    size_t w = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int k_ = snprintf(buf + (w < n ? w : n), w < n ? n - w : 0, __VA_ARGS__);                  \
        if (k_ > 0) w += (size_t)k_;                                                               \
    } while (0)
#define SUB(tt)                                                                                    \
    do {                                                                                           \
        w += type_str((tt), buf + (w < n ? w : n), w < n ? n - w : 0);                             \
    } while (0)
    if (!t || t->id < 0 || t->id >= PL_TYPE__COUNT) {
        PUT("?");
        return w;
    }
    if (t->ext == PL_EXT_JSON) {
        PUT("json");
        return w;
    }
    switch (t->id) {
    case PL_TYPE_DECIMAL128: PUT("decimal128(%d, %d)", t->precision, t->scale); break;
    case PL_TYPE_FIXED_BINARY: PUT("fixed_binary[%d]", t->byte_width); break;
    case PL_TYPE_TIME64: PUT("time64[%s]", g_units[t->unit & 3]); break;
    case PL_TYPE_TIMESTAMP:
        if (t->tz) PUT("timestamp[%s, %s]", g_units[t->unit & 3], t->tz);
        else PUT("timestamp[%s]", g_units[t->unit & 3]);
        break;
    case PL_TYPE_DICTIONARY:
        PUT("dictionary<%s, ", g_names[t->index_id]);
        SUB(t->value_type);
        PUT(">");
        break;
    case PL_TYPE_LIST:
        PUT("list<");
        SUB(t->children[0].type);
        PUT(">");
        break;
    case PL_TYPE_MAP: {
        const pl_type *e = t->children[0].type;
        PUT("map<");
        SUB(e->children[0].type);
        PUT(", ");
        SUB(e->children[1].type);
        PUT(">");
        break;
    }
    case PL_TYPE_STRUCT:
        PUT("struct<");
        for (int32_t i = 0; i < t->n_children; i++) {
            PUT("%s%s: ", i ? ", " : "", t->children[i].name);
            SUB(t->children[i].type);
        }
        PUT(">");
        break;
    default: PUT("%s", g_names[t->id]); break;
    }
#undef PUT
#undef SUB
    return w;
}

const char *pl_type_to_string(const pl_type *t, char *buf, size_t buf_size) {
    if (!buf || !buf_size) return buf;
    buf[0] = 0;
    type_str(t, buf, buf_size);
    return buf;
}

int32_t pl_type_bit_width(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_BOOL: return 1;
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_DECIMAL128: case PL_TYPE_DATE32:
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: case PL_TYPE_FIXED_BINARY: case PL_TYPE_DICTIONARY:
    case PL_TYPE_INTERVAL:
        return t->byte_width * 8;
    default: return 0;
    }
}
