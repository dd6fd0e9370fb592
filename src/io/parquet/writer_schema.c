/* writer_schema.c - maps a polaroid schema to Parquet schema elements (depth-first, root
 * first) and one descriptor per leaf column: its path, maximum levels, the nested steps that
 * lead to it, its physical type and the conversion from Arrow values to physical values.
 * Lists are written as the standard 3-level LIST (list / element), maps as MAP (key_value /
 * key, value), dictionary columns as their value type. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "writer_int.h"

typedef struct builder {
    pl_pqw_schema *s;
    int32_t cap_elems, cap_leaves;
    pl_pqw_step steps[PL_PQ_MAX_NESTING];
    const char *path[PL_PQ_MAX_NESTING * 2 + 2];
    int32_t n_steps, n_path;
} builder;

static pl_status push_elem(builder *b, const pl_pqw_elem *e, int32_t *idx, pl_error *err) {
    pl_pqw_schema *s = b->s;
    if (s->n_elems == b->cap_elems) {
        int32_t cap = b->cap_elems ? b->cap_elems * 2 : 16;
        pl_pqw_elem *p = pl_realloc(s->elems, (size_t)cap * sizeof *p);
        if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the parquet schema");
        s->elems = p;
        b->cap_elems = cap;
    }
    *idx = s->n_elems;
    s->elems[s->n_elems++] = *e;
    return PL_OK;
}

static pl_pqw_elem group_elem(const char *name, int32_t repetition, int32_t n_children) {
    pl_pqw_elem e;
    memset(&e, 0, sizeof e);
    e.name = name;
    e.physical = -1;
    e.repetition = repetition;
    e.num_children = n_children;
    e.converted = PL_PQW_CT_NONE;
    e.logical = PL_PQW_LT_NONE;
    return e;
}

/* Smallest number of bytes holding every decimal of this precision in two's complement. */
static int32_t decimal_bytes(int32_t precision) {
    return (int32_t)ceil((precision * 3.3219280948873623 + 1.0) / 8.0);
}

static void set_int(pl_pqw_elem *e, pl_pqw_leaf *leaf, int32_t physical, int bits, bool sign,
                    pl_pqw_conv conv, int32_t width) {
    e->physical = physical;
    e->logical = PL_PQW_LT_INTEGER;
    e->lt_bits = (int8_t)bits;
    e->lt_signed = sign;
    int log2b = bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3;
    e->converted = (sign ? PL_PQW_CT_INT_8 : PL_PQW_CT_UINT_8) + log2b;
    leaf->conv = conv;
    leaf->value_width = width;
    leaf->order = sign ? PL_PQW_ORDER_SIGNED : PL_PQW_ORDER_UNSIGNED;
}

static pl_status map_leaf(const pl_type *t, pl_pqw_elem *e, pl_pqw_leaf *leaf, pl_error *err) {
    char tbuf[128];
    leaf->order = PL_PQW_ORDER_SIGNED;
    leaf->mul = 1;
    switch (t->id) {
    case PL_TYPE_NA:
        e->physical = PL_PQW_INT32;
        e->logical = PL_PQW_LT_UNKNOWN;
        leaf->conv = PL_PQW_CONV_NONE;
        leaf->value_width = 4;
        leaf->order = PL_PQW_ORDER_NONE;
        break;
    case PL_TYPE_BOOL:
        e->physical = PL_PQW_BOOLEAN;
        leaf->conv = PL_PQW_CONV_BOOL;
        leaf->value_width = 1;
        break;
    case PL_TYPE_INT8: set_int(e, leaf, PL_PQW_INT32, 8, true, PL_PQW_CONV_I8_I32, 4); break;
    case PL_TYPE_INT16: set_int(e, leaf, PL_PQW_INT32, 16, true, PL_PQW_CONV_I16_I32, 4); break;
    case PL_TYPE_INT32: set_int(e, leaf, PL_PQW_INT32, 32, true, PL_PQW_CONV_COPY, 4); break;
    case PL_TYPE_INT64: set_int(e, leaf, PL_PQW_INT64, 64, true, PL_PQW_CONV_COPY, 8); break;
    case PL_TYPE_UINT8: set_int(e, leaf, PL_PQW_INT32, 8, false, PL_PQW_CONV_U8_I32, 4); break;
    case PL_TYPE_UINT16: set_int(e, leaf, PL_PQW_INT32, 16, false, PL_PQW_CONV_U16_I32, 4); break;
    case PL_TYPE_UINT32: set_int(e, leaf, PL_PQW_INT32, 32, false, PL_PQW_CONV_COPY, 4); break;
    case PL_TYPE_UINT64: set_int(e, leaf, PL_PQW_INT64, 64, false, PL_PQW_CONV_COPY, 8); break;
    case PL_TYPE_FLOAT32:
        e->physical = PL_PQW_FLOAT;
        leaf->conv = PL_PQW_CONV_COPY;
        leaf->value_width = 4;
        leaf->order = PL_PQW_ORDER_FLOAT;
        break;
    case PL_TYPE_FLOAT64:
        e->physical = PL_PQW_DOUBLE;
        leaf->conv = PL_PQW_CONV_COPY;
        leaf->value_width = 8;
        leaf->order = PL_PQW_ORDER_FLOAT;
        break;
    case PL_TYPE_DECIMAL128:
        if (t->precision < 1 || t->precision > 38)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "decimal precision %d is outside 1..38",
                    (int)t->precision);
        e->converted = PL_PQW_CT_DECIMAL;
        e->logical = PL_PQW_LT_DECIMAL;
        e->precision = t->precision;
        e->scale = t->scale;
        if (t->precision <= 9) {
            e->physical = PL_PQW_INT32;
            leaf->conv = PL_PQW_CONV_DEC_I32;
            leaf->value_width = 4;
        } else if (t->precision <= 18) {
            e->physical = PL_PQW_INT64;
            leaf->conv = PL_PQW_CONV_DEC_I64;
            leaf->value_width = 8;
        } else {
            e->physical = PL_PQW_FLBA;
            e->type_length = decimal_bytes(t->precision);
            leaf->conv = PL_PQW_CONV_DEC_FLBA;
            leaf->value_width = e->type_length;
            leaf->signed_flba = true;
        }
        break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
        e->physical = PL_PQW_BYTE_ARRAY;
        if (t->id == PL_TYPE_UTF8) { /* JSON text: Parquet's JSON logical type */
            e->converted = pl_type_is_json(t) ? PL_PQW_CT_JSON : PL_PQW_CT_UTF8;
            e->logical = pl_type_is_json(t) ? PL_PQW_LT_JSON : PL_PQW_LT_STRING;
        }
        leaf->conv = PL_PQW_CONV_BYTES;
        leaf->value_width = 0;
        leaf->order = PL_PQW_ORDER_UNSIGNED;
        break;
    case PL_TYPE_FIXED_BINARY:
        if (t->byte_width <= 0)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "fixed_binary of width %d cannot be written",
                    (int)t->byte_width);
        e->physical = PL_PQW_FLBA;
        e->type_length = t->byte_width;
        leaf->conv = PL_PQW_CONV_COPY;
        leaf->value_width = t->byte_width;
        leaf->order = PL_PQW_ORDER_UNSIGNED;
        break;
    case PL_TYPE_DATE32:
        e->physical = PL_PQW_INT32;
        e->converted = PL_PQW_CT_DATE;
        e->logical = PL_PQW_LT_DATE;
        leaf->conv = PL_PQW_CONV_COPY;
        leaf->value_width = 4;
        break;
    case PL_TYPE_TIME64:
        e->logical = PL_PQW_LT_TIME;
        e->lt_utc = false;
        if (t->unit == PL_UNIT_US || t->unit == PL_UNIT_NS) {
            e->physical = PL_PQW_INT64;
            e->lt_unit = t->unit == PL_UNIT_US ? PL_PQW_UNIT_MICROS : PL_PQW_UNIT_NANOS;
            leaf->conv = PL_PQW_CONV_COPY;
            leaf->value_width = 8;
        } else {
            e->physical = PL_PQW_INT32;
            e->lt_unit = PL_PQW_UNIT_MILLIS;
            leaf->conv = PL_PQW_CONV_I64_I32_MUL;
            leaf->mul = t->unit == PL_UNIT_S ? 1000 : 1;
            leaf->value_width = 4;
        }
        break;
    case PL_TYPE_TIMESTAMP:
        e->physical = PL_PQW_INT64;
        e->logical = PL_PQW_LT_TIMESTAMP;
        e->lt_utc = t->tz != NULL;
        leaf->value_width = 8;
        leaf->conv = PL_PQW_CONV_COPY;
        switch (t->unit) {
        case PL_UNIT_S:
            leaf->conv = PL_PQW_CONV_I64_MUL;
            leaf->mul = 1000;
            e->lt_unit = PL_PQW_UNIT_MILLIS;
            break;
        case PL_UNIT_MS: e->lt_unit = PL_PQW_UNIT_MILLIS; break;
        case PL_UNIT_US: e->lt_unit = PL_PQW_UNIT_MICROS; break;
        case PL_UNIT_NS: e->lt_unit = PL_PQW_UNIT_NANOS; break;
        }
        /* the converted types TIMESTAMP_MILLIS/MICROS mean "adjusted to UTC" */
        if (e->lt_utc && e->lt_unit == PL_PQW_UNIT_MILLIS) e->converted = PL_PQW_CT_TIMESTAMP_MILLIS;
        if (e->lt_utc && e->lt_unit == PL_PQW_UNIT_MICROS) e->converted = PL_PQW_CT_TIMESTAMP_MICROS;
        break;
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "type %s cannot be written to parquet",
                pl_type_to_string(t, tbuf, sizeof tbuf));
    }
    leaf->physical = e->physical;
    leaf->type_length = e->type_length;
    leaf->type = t;
    return PL_OK;
}

static pl_status add_leaf(builder *b, pl_pqw_elem *e, const pl_type *t, bool nullable,
                          int32_t field, int16_t def, int16_t rep, pl_error *err) {
    pl_pqw_schema *s = b->s;
    if (s->n_leaves == b->cap_leaves) {
        int32_t cap = b->cap_leaves ? b->cap_leaves * 2 : 8;
        pl_pqw_leaf *p = pl_realloc(s->leaves, (size_t)cap * sizeof *p);
        if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the parquet schema");
        s->leaves = p;
        b->cap_leaves = cap;
    }
    pl_pqw_leaf *leaf = &s->leaves[s->n_leaves];
    memset(leaf, 0, sizeof *leaf);
    PL_TRY(map_leaf(t, e, leaf, err));
    leaf->field = field;
    leaf->nullable = nullable;
    leaf->max_def = def;
    leaf->max_rep = rep;
    leaf->n_steps = b->n_steps;
    leaf->n_path = b->n_path;
    leaf->steps = pl_malloc(sizeof(pl_pqw_step) * (size_t)(b->n_steps ? b->n_steps : 1));
    leaf->path = pl_malloc(sizeof(char *) * (size_t)b->n_path);
    int64_t dotted_len = 1;
    for (int32_t i = 0; i < b->n_path; i++) dotted_len += (int64_t)strlen(b->path[i]) + 1;
    leaf->dotted = pl_malloc((size_t)dotted_len);
    if (!leaf->steps || !leaf->path || !leaf->dotted) {
        pl_free(leaf->steps);
        pl_free(leaf->path);
        pl_free(leaf->dotted);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the parquet schema");
    }
    if (b->n_steps) memcpy(leaf->steps, b->steps, sizeof(pl_pqw_step) * (size_t)b->n_steps);
    memcpy(leaf->path, b->path, sizeof(char *) * (size_t)b->n_path);
    char *d = leaf->dotted;
    for (int32_t i = 0; i < b->n_path; i++) {
        size_t n = strlen(b->path[i]);
        if (i) *d++ = '.';
        memcpy(d, b->path[i], n);
        d += n;
    }
    *d = 0;
    s->n_leaves++;
    return PL_OK;
}

static pl_status add_node(builder *b, const char *name, const pl_type *t, bool nullable,
                          int32_t field, int16_t def, int16_t rep, pl_error *err);

static pl_status push_step(builder *b, pl_pqw_step_kind kind, bool nullable, int32_t child,
                           int16_t rep_level, pl_error *err) {
    if (b->n_steps >= PL_PQ_MAX_NESTING)
        PL_FAIL(err, PL_ERR_LIMIT, "column nesting deeper than %d levels", PL_PQ_MAX_NESTING);
    pl_pqw_step st = {kind, nullable, child, rep_level};
    b->steps[b->n_steps++] = st;
    return PL_OK;
}

static pl_status add_node(builder *b, const char *name, const pl_type *t, bool nullable,
                          int32_t field, int16_t def, int16_t rep, pl_error *err) {
    if (t->id == PL_TYPE_NA) nullable = true; /* the null type has only nulls */
    int32_t rep_kind = nullable ? PL_PQW_OPTIONAL : PL_PQW_REQUIRED;
    int16_t my_def = (int16_t)(def + (nullable ? 1 : 0));
    int32_t idx;
    b->path[b->n_path++] = name;
    if (t->id == PL_TYPE_DICTIONARY) t = t->value_type;
    switch (t->id) {
    case PL_TYPE_STRUCT: {
        if (t->n_children == 0)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "struct \"%s\" without fields cannot be written",
                    name);
        pl_pqw_elem e = group_elem(name, rep_kind, t->n_children);
        PL_TRY(push_elem(b, &e, &idx, err));
        for (int32_t c = 0; c < t->n_children; c++) {
            PL_TRY(push_step(b, PL_PQW_STEP_STRUCT, nullable, c, 0, err));
            const pl_field *f = &t->children[c];
            PL_TRY(add_node(b, f->name, f->type, f->nullable, field, my_def, rep, err));
            b->n_steps--;
        }
        break;
    }
    case PL_TYPE_LIST: {
        pl_pqw_elem e = group_elem(name, rep_kind, 1);
        e.converted = PL_PQW_CT_LIST;
        e.logical = PL_PQW_LT_LIST;
        PL_TRY(push_elem(b, &e, &idx, err));
        pl_pqw_elem l = group_elem("list", PL_PQW_REPEATED, 1);
        PL_TRY(push_elem(b, &l, &idx, err));
        b->path[b->n_path++] = "list";
        PL_TRY(push_step(b, PL_PQW_STEP_LIST, nullable, 0, (int16_t)(rep + 1), err));
        const pl_field *item = &t->children[0];
        PL_TRY(add_node(b, "element", item->type, item->nullable, field, (int16_t)(my_def + 1),
                        (int16_t)(rep + 1), err));
        b->n_steps--;
        b->n_path--;
        break;
    }
    case PL_TYPE_MAP: {
        const pl_type *entries = t->children[0].type;
        if (entries->id != PL_TYPE_STRUCT || entries->n_children != 2)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "map \"%s\" entries are not a struct<key, value>",
                    name);
        pl_pqw_elem e = group_elem(name, rep_kind, 1);
        e.converted = PL_PQW_CT_MAP;
        e.logical = PL_PQW_LT_MAP;
        PL_TRY(push_elem(b, &e, &idx, err));
        pl_pqw_elem kv = group_elem("key_value", PL_PQW_REPEATED, 2);
        PL_TRY(push_elem(b, &kv, &idx, err));
        b->path[b->n_path++] = "key_value";
        PL_TRY(push_step(b, PL_PQW_STEP_LIST, nullable, 0, (int16_t)(rep + 1), err));
        static const char *const kv_names[2] = {"key", "value"};
        for (int32_t c = 0; c < 2; c++) {
            PL_TRY(push_step(b, PL_PQW_STEP_STRUCT, false, c, 0, err));
            const pl_field *f = &entries->children[c];
            bool f_nullable = c == 0 ? false : f->nullable;
            PL_TRY(add_node(b, kv_names[c], f->type, f_nullable, field, (int16_t)(my_def + 1),
                            (int16_t)(rep + 1), err));
            b->n_steps--;
        }
        b->n_steps--;
        b->n_path--;
        break;
    }
    default: {
        pl_pqw_elem e = group_elem(name, rep_kind, 0);
        PL_TRY(add_leaf(b, &e, t, nullable, field, my_def, rep, err));
        PL_TRY(push_elem(b, &e, &idx, err));
        break;
    }
    }
    b->n_path--;
    return PL_OK;
}

pl_status pl_pqw_schema_build(const pl_schema *schema, pl_pqw_schema *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    builder b;
    memset(&b, 0, sizeof b);
    b.s = out;
    int32_t idx;
    pl_pqw_elem root = group_elem("schema", PL_PQW_REQUIRED, schema->n_fields);
    pl_status st = push_elem(&b, &root, &idx, err);
    for (int32_t f = 0; st == PL_OK && f < schema->n_fields; f++) {
        const pl_field *fld = &schema->fields[f];
        st = add_node(&b, fld->name, fld->type, fld->nullable, f, 0, 0, err);
        if (st != PL_OK) pl_error_set_column(err, f, fld->name);
    }
    if (st != PL_OK) pl_pqw_schema_free(out);
    return st;
}

void pl_pqw_schema_free(pl_pqw_schema *s) {
    for (int32_t i = 0; i < s->n_leaves; i++) {
        pl_free(s->leaves[i].steps);
        pl_free(s->leaves[i].path);
        pl_free(s->leaves[i].dotted);
    }
    pl_free(s->leaves);
    pl_free(s->elems);
    memset(s, 0, sizeof *s);
}
