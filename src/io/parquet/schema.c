/* schema.c - turns the flat Parquet schema (depth-first SchemaElements) into polaroid's type
 * tree: one pl_pq_node per polaroid field with the definition/repetition levels record
 * assembly needs, one pl_pq_leaf_desc per primitive column (how its physical values convert),
 * and the pl_schema.
 *
 * Lists follow the LIST backward-compatibility rules of the Parquet spec (3-level lists,
 * 2-level lists, "array" and "<name>_tuple" elements, repeated fields without annotation);
 * MAP/MAP_KEY_VALUE groups become maps; other groups structs. */
#include <stdio.h>
#include <string.h>

#include "pq_int.h"

typedef struct build_ctx {
    pl_pq_metadata *md;
    pl_pq_arena *arena;
    int32_t *end;           /* end[i]: one past the last element of i's subtree */
    pl_pq_leaf_desc *leaves;
    int32_t n_leaves;
    int32_t field_index;
    const char *field_name;
    const char *path[PL_PQ_MAX_NESTING + 2];
    int32_t path_len;
    pl_error *err;
} build_ctx;

static pl_status index_subtree(build_ctx *c, int32_t i, int32_t depth, int32_t *end) {
    if (depth > PL_PQ_MAX_NESTING)
        PL_FAIL(c->err, PL_ERR_LIMIT, "schema nesting deeper than %d", PL_PQ_MAX_NESTING);
    const pl_pq_schema_element *e = &c->md->schema[i];
    int32_t pos = i + 1;
    for (int32_t k = 0; k < e->num_children; k++) {
        if (pos >= c->md->n_schema)
            PL_FAIL(c->err, PL_ERR_CORRUPT,
                    "invalid schema: element \"%s\" claims %d children but the schema ends",
                    e->name, e->num_children);
        PL_TRY(index_subtree(c, pos, depth + 1, &pos));
    }
    c->end[i] = pos;
    *end = pos;
    return PL_OK;
}

static bool is_group(const pl_pq_schema_element *e) { return e->num_children > 0 || e->physical < 0; }

static pl_status set_type(build_ctx *c, pl_status st) {
    if (st) pl_error_set_column(c->err, c->field_index, c->field_name);
    return st;
}

/* ---------------------------------------------------------------- leaf types */

static pl_status decimal_type(build_ctx *c, const pl_pq_schema_element *e, pl_type **out) {
    int32_t precision = e->logical.kind == PL_PQ_LT_DECIMAL ? e->logical.precision : e->precision;
    int32_t scale = e->logical.kind == PL_PQ_LT_DECIMAL ? e->logical.scale : e->scale;
    if (scale < 0) scale = 0;
    if (precision <= 0 || precision > 38 || scale > precision)
        PL_FAIL(c->err, PL_ERR_UNSUPPORTED, "decimal(%d, %d) of column \"%s\" is not supported",
                precision, scale, e->name);
    return pl_type_new_decimal(precision, scale, out, c->err);
}

static pl_status leaf_type(build_ctx *c, const pl_pq_schema_element *e, pl_pq_leaf_desc *d) {
    pl_pq_logical_kind lk = e->logical.kind;
    int32_t ct = e->converted;
    pl_error *err = c->err;
    /* logical types win; converted types are the fallback for older writers */
    bool known_lt = lk != PL_PQ_LT_NONE && lk != PL_PQ_LT_UNKNOWN;
    /* an unknown logical type falls back to the converted type, then the physical type */
    bool is_decimal = known_lt ? lk == PL_PQ_LT_DECIMAL : ct == PL_PQ_CT_DECIMAL;
    d->conv = PL_PQ_CONV_NONE;
    d->type = NULL;
    switch (e->physical) {
    case PL_PQ_BOOLEAN:
        d->conv = PL_PQ_CONV_BOOL;
        d->phys_width = 0;
        d->out_width = 0;
        d->type = pl_type_simple(PL_TYPE_BOOL);
        return PL_OK;
    case PL_PQ_INT32: {
        d->phys_width = 4;
        d->out_width = 4;
        pl_type_id id = PL_TYPE_INT32;
        int bw = 32;
        bool sign = true;
        if (known_lt && lk == PL_PQ_LT_INTEGER) {
            bw = e->logical.bit_width;
            sign = e->logical.is_signed;
        } else if (!known_lt && ct >= PL_PQ_CT_UINT_8 && ct <= PL_PQ_CT_INT_64) {
            static const int widths[] = {8, 16, 32, 64, 8, 16, 32, 64};
            bw = widths[ct - PL_PQ_CT_UINT_8];
            sign = ct >= PL_PQ_CT_INT_8;
        }
        if (is_decimal) {
            d->conv = PL_PQ_CONV_I32_DEC;
            d->out_width = 16;
            return set_type(c, decimal_type(c, e, &d->type));
        }
        if ((known_lt && lk == PL_PQ_LT_DATE) || (!known_lt && ct == PL_PQ_CT_DATE)) {
            d->type = pl_type_simple(PL_TYPE_DATE32);
            return PL_OK;
        }
        if ((known_lt && lk == PL_PQ_LT_TIME) || (!known_lt && ct == PL_PQ_CT_TIME_MILLIS)) {
            d->conv = PL_PQ_CONV_I32_MS_US;
            d->out_width = 8;
            return set_type(c, pl_type_new_time64(PL_UNIT_US, &d->type, err));
        }
        if (bw == 8) {
            id = sign ? PL_TYPE_INT8 : PL_TYPE_UINT8;
            d->conv = PL_PQ_CONV_I32_I8;
            d->out_width = 1;
        } else if (bw == 16) {
            id = sign ? PL_TYPE_INT16 : PL_TYPE_UINT16;
            d->conv = PL_PQ_CONV_I32_I16;
            d->out_width = 2;
        } else if (bw == 32 && !sign) {
            id = PL_TYPE_UINT32;
        }
        d->type = pl_type_simple(id);
        return PL_OK;
    }
    case PL_PQ_INT64: {
        d->phys_width = 8;
        d->out_width = 8;
        if (is_decimal) {
            d->conv = PL_PQ_CONV_I64_DEC;
            d->out_width = 16;
            return set_type(c, decimal_type(c, e, &d->type));
        }
        if (known_lt && lk == PL_PQ_LT_TIMESTAMP)
            return set_type(c, pl_type_new_timestamp(e->logical.unit, e->logical.utc ? "UTC" : NULL,
                                                     &d->type, err));
        if (!known_lt && (ct == PL_PQ_CT_TIMESTAMP_MILLIS || ct == PL_PQ_CT_TIMESTAMP_MICROS))
            return set_type(c, pl_type_new_timestamp(
                                   ct == PL_PQ_CT_TIMESTAMP_MILLIS ? PL_UNIT_MS : PL_UNIT_US, NULL,
                                   &d->type, err));
        if (known_lt && lk == PL_PQ_LT_TIME && e->logical.unit != PL_UNIT_MS)
            return set_type(c, pl_type_new_time64(e->logical.unit, &d->type, err));
        if (!known_lt && ct == PL_PQ_CT_TIME_MICROS)
            return set_type(c, pl_type_new_time64(PL_UNIT_US, &d->type, err));
        bool unsig = (known_lt && lk == PL_PQ_LT_INTEGER && !e->logical.is_signed) ||
                     (!known_lt && ct == PL_PQ_CT_UINT_64);
        d->type = pl_type_simple(unsig ? PL_TYPE_UINT64 : PL_TYPE_INT64);
        return PL_OK;
    }
    case PL_PQ_INT96:
        d->phys_width = 12;
        d->out_width = 8;
        d->conv = PL_PQ_CONV_INT96_TS;
        return set_type(c, pl_type_new_timestamp(PL_UNIT_US, NULL, &d->type, err));
    case PL_PQ_FLOAT:
        d->phys_width = d->out_width = 4;
        d->type = pl_type_simple(PL_TYPE_FLOAT32);
        return PL_OK;
    case PL_PQ_DOUBLE:
        d->phys_width = d->out_width = 8;
        d->type = pl_type_simple(PL_TYPE_FLOAT64);
        return PL_OK;
    case PL_PQ_BYTE_ARRAY: {
        d->phys_width = 0;
        d->out_width = 0;
        if (is_decimal) {
            d->conv = PL_PQ_CONV_BA_DEC;
            d->out_width = 16;
            return set_type(c, decimal_type(c, e, &d->type));
        }
        d->conv = PL_PQ_CONV_VARLEN;
        /* geometries read as WKT text, as DuckDB shows them */
        d->wkt = known_lt && (lk == PL_PQ_LT_GEOMETRY || lk == PL_PQ_LT_GEOGRAPHY);
        bool str = known_lt ? (lk == PL_PQ_LT_STRING || lk == PL_PQ_LT_ENUM || lk == PL_PQ_LT_JSON ||
                               d->wkt)
                            : (ct == PL_PQ_CT_UTF8 || ct == PL_PQ_CT_ENUM || ct == PL_PQ_CT_JSON);
        bool json = known_lt ? lk == PL_PQ_LT_JSON : ct == PL_PQ_CT_JSON;
        d->type = json ? pl_type_json() : pl_type_simple(str ? PL_TYPE_UTF8 : PL_TYPE_BINARY);
        return PL_OK;
    }
    case PL_PQ_FIXED_LEN_BYTE_ARRAY: {
        int32_t w = e->type_length;
        if (w <= 0 || w > (1 << 24))
            PL_FAIL(err, PL_ERR_CORRUPT, "invalid schema: fixed_len_byte_array column \"%s\" has "
                    "length %d", e->name, w);
        d->phys_width = w;
        d->out_width = w;
        if (is_decimal) {
            if (w > 16)
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "decimal column \"%s\" of %d bytes is not "
                        "supported (at most 16)", e->name, w);
            d->conv = PL_PQ_CONV_FLBA_DEC;
            d->out_width = 16;
            return set_type(c, decimal_type(c, e, &d->type));
        }
        if (known_lt && lk == PL_PQ_LT_FLOAT16 && w == 2) {
            d->conv = PL_PQ_CONV_F16_F32;
            d->out_width = 4;
            d->type = pl_type_simple(PL_TYPE_FLOAT32);
            return PL_OK;
        }
        return set_type(c, pl_type_new_fixed_binary(w, &d->type, err));
    }
    default:
        PL_FAIL(err, PL_ERR_CORRUPT, "invalid schema: column \"%s\" has unknown physical type %d",
                e->name, e->physical);
    }
}

/* ---------------------------------------------------------------- tree */

static pl_status build(build_ctx *c, int32_t i, int16_t pdef, int16_t prep, bool as_elem,
                       int32_t depth, pl_pq_node *out);

static pl_status alloc_children(build_ctx *c, pl_pq_node *n, int32_t k) {
    n->children = pl_pq_arena_alloc(c->arena, sizeof(pl_pq_node) * (size_t)(k > 0 ? k : 1));
    if (!n->children) PL_FAIL(c->err, PL_ERR_NOMEM, "out of memory building the schema");
    n->n_children = k;
    return PL_OK;
}

static pl_status make_list_type(build_ctx *c, pl_pq_node *n) {
    pl_pq_node *el = &n->children[0];
    return set_type(c, pl_type_new_list(el->name, el->type, el->nullable, &n->type, c->err));
}

static pl_status build_struct(build_ctx *c, int32_t i, int16_t def, int16_t prep, int32_t depth,
                              pl_pq_node *out) {
    const pl_pq_schema_element *e = &c->md->schema[i];
    if (e->num_children == 0)
        PL_FAIL(c->err, PL_ERR_UNSUPPORTED, "group \"%s\" has no fields", e->name);
    out->kind = PL_PQ_NODE_STRUCT;
    PL_TRY(alloc_children(c, out, e->num_children));
    int32_t pos = i + 1;
    for (int32_t k = 0; k < e->num_children; k++) {
        PL_TRY(build(c, pos, def, prep, false, depth + 1, &out->children[k]));
        pos = c->end[pos];
    }
    pl_field *fields = pl_calloc((size_t)out->n_children, sizeof *fields);
    if (!fields) PL_FAIL(c->err, PL_ERR_NOMEM, "out of memory building the schema");
    for (int32_t k = 0; k < out->n_children; k++) {
        fields[k].name = (char *)out->children[k].name;
        fields[k].type = out->children[k].type;
        fields[k].nullable = out->children[k].nullable;
    }
    pl_status st = pl_type_new_struct(out->n_children, fields, &out->type, c->err);
    pl_free(fields);
    return set_type(c, st);
}

static pl_status build(build_ctx *c, int32_t i, int16_t pdef, int16_t prep, bool as_elem,
                       int32_t depth, pl_pq_node *out) {
    const pl_pq_schema_element *e = &c->md->schema[i];
    if (depth > PL_PQ_MAX_NESTING)
        PL_FAIL(c->err, PL_ERR_LIMIT, "schema nesting deeper than %d", PL_PQ_MAX_NESTING);
    memset(out, 0, sizeof *out);
    out->name = e->name;
    out->first_leaf = c->n_leaves;
    out->leaf = -1;
    if (c->path_len >= (int32_t)PL_ARRAY_LEN(c->path))
        PL_FAIL(c->err, PL_ERR_LIMIT, "schema nesting deeper than %d", PL_PQ_MAX_NESTING);
    bool pushed = false;
    if (!as_elem) {
        c->path[c->path_len++] = e->name;
        pushed = true;
    }
    pl_status st = PL_OK;
    if (!as_elem && e->repetition == PL_PQ_REPEATED) {
        /* a repeated field without LIST annotation: a non-null list of required elements */
        out->kind = PL_PQ_NODE_LIST;
        out->nullable = false;
        out->def_level = pdef;
        out->elem_def = (int16_t)(pdef + 1);
        out->rep = (int16_t)(prep + 1);
        if ((st = alloc_children(c, out, 1))) goto done;
        if ((st = build(c, i, out->elem_def, out->rep, true, depth + 1, &out->children[0])))
            goto done;
        st = make_list_type(c, out);
        goto done;
    }
    int16_t def = (int16_t)(pdef + (!as_elem && e->repetition == PL_PQ_OPTIONAL ? 1 : 0));
    out->nullable = !as_elem && e->repetition == PL_PQ_OPTIONAL;
    out->def_level = def;
    if (!is_group(e)) {
        out->kind = PL_PQ_NODE_LEAF;
        pl_pq_leaf_desc *d = &c->leaves[c->n_leaves];
        memset(d, 0, sizeof *d);
        if ((st = leaf_type(c, e, d))) goto done;
        d->physical = e->physical;
        d->type_length = e->type_length;
        d->max_def = def;
        d->max_rep = prep;
        d->field_index = c->field_index;
        d->name = c->field_name;
        size_t len = 0;
        for (int32_t k = 0; k < c->path_len; k++) len += strlen(c->path[k]) + 1;
        char *path = pl_pq_arena_alloc(c->arena, len + 1);
        if (!path) {
            st = pl_error_set(c->err, PL_ERR_NOMEM, "out of memory building the schema");
            goto done;
        }
        for (int32_t k = 0; k < c->path_len; k++) {
            if (k) strcat(path, ".");
            strcat(path, c->path[k]);
        }
        d->path = path;
        out->leaf = c->n_leaves;
        out->type = pl_type_retain(d->type);
        c->n_leaves++;
        goto done;
    }
    bool ann_list = e->logical.kind == PL_PQ_LT_LIST ||
                    (e->logical.kind == PL_PQ_LT_NONE && e->converted == PL_PQ_CT_LIST);
    bool ann_map = e->logical.kind == PL_PQ_LT_MAP ||
                   (e->logical.kind == PL_PQ_LT_NONE &&
                    (e->converted == PL_PQ_CT_MAP || e->converted == PL_PQ_CT_MAP_KEY_VALUE));
    int32_t ci = i + 1;
    const pl_pq_schema_element *r = e->num_children == 1 ? &c->md->schema[ci] : NULL;
    if (ann_list && r && r->repetition == PL_PQ_REPEATED) {
        out->kind = PL_PQ_NODE_LIST;
        out->elem_def = (int16_t)(def + 1);
        out->rep = (int16_t)(prep + 1);
        if ((st = alloc_children(c, out, 1))) goto done;
        size_t nl = strlen(e->name);
        bool tuple = strlen(r->name) == nl + 6 && strncmp(r->name, e->name, nl) == 0 &&
                     strcmp(r->name + nl, "_tuple") == 0;
        c->path[c->path_len++] = r->name;
        if (!is_group(r) || r->num_children != 1 || strcmp(r->name, "array") == 0 || tuple) {
            /* 2-level list: the repeated field is the element */
            st = build(c, ci, out->elem_def, out->rep, true, depth + 1, &out->children[0]);
        } else {
            /* 3-level list: repeated group "list" with the element as its only child */
            st = build(c, ci + 1, out->elem_def, out->rep, false, depth + 2, &out->children[0]);
        }
        c->path_len--;
        if (st) goto done;
        st = make_list_type(c, out);
        goto done;
    }
    if (ann_map && r && r->repetition == PL_PQ_REPEATED && is_group(r)) {
        if (r->num_children != 2) {
            pl_error_set_column(c->err, c->field_index, c->field_name);
            st = pl_error_set(c->err, PL_ERR_UNSUPPORTED,
                              "map \"%s\" must have a key and a value field (found %d fields)",
                              e->name, r->num_children);
            goto done;
        }
        out->kind = PL_PQ_NODE_MAP;
        out->elem_def = (int16_t)(def + 1);
        out->rep = (int16_t)(prep + 1);
        if ((st = alloc_children(c, out, 1))) goto done;
        c->path[c->path_len++] = r->name;
        pl_pq_node *ent = &out->children[0];
        memset(ent, 0, sizeof *ent);
        st = build_struct(c, ci, out->elem_def, out->rep, depth + 1, ent);
        c->path_len--;
        if (st) goto done;
        ent->name = "entries";
        ent->nullable = false;
        ent->def_level = out->elem_def;
        ent->leaf = -1;
        ent->first_leaf = out->first_leaf;
        ent->n_leaves = c->n_leaves - out->first_leaf;
        pl_pq_node *key = &ent->children[0], *val = &ent->children[1];
        st = set_type(c, pl_type_new_map(key->type, val->type, val->nullable, &out->type, c->err));
        if (st) goto done;
        /* entries arrays carry the map type's own entries struct type */
        pl_type_release(ent->type);
        ent->type = pl_type_retain(out->type->children[0].type);
        goto done;
    }
    st = build_struct(c, i, def, prep, depth, out);
    if (!st && e->logical.kind == PL_PQ_LT_VARIANT) {
        out->kind = PL_PQ_NODE_VARIANT;
        out->struct_type = out->type;
        out->type = pl_type_retain(pl_type_simple(PL_TYPE_UTF8));
    }
done:
    if (pushed) c->path_len--;
    out->n_leaves = c->n_leaves - out->first_leaf;
    return st;
}

static void node_reset(pl_pq_node *n) {
    for (int32_t k = 0; k < n->n_children; k++) node_reset(&n->children[k]);
    pl_type_release(n->type);
    pl_type_release(n->struct_type);
    n->type = n->struct_type = NULL;
}

void pl_pq_schema_tree_reset(pl_pq_schema_tree *t) {
    for (int32_t k = 0; k < t->n_fields; k++) node_reset(&t->fields[k]);
    for (int32_t k = 0; k < t->n_leaves; k++) pl_type_release(t->leaves[k].type);
    pl_free(t->leaves);
    pl_schema_release(t->schema);
    memset(t, 0, sizeof *t);
}

pl_status pl_pq_schema_build(pl_pq_metadata *md, pl_pq_arena *arena, pl_pq_schema_tree *out,
                             pl_error *err) {
    memset(out, 0, sizeof *out);
    build_ctx c = {0};
    c.md = md;
    c.arena = arena;
    c.err = err;
    c.end = pl_pq_arena_alloc(arena, sizeof(int32_t) * (size_t)md->n_schema);
    if (!c.end) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the schema");
    int32_t end = 0;
    PL_TRY(index_subtree(&c, 0, 0, &end));
    if (end != md->n_schema)
        PL_FAIL(err, PL_ERR_CORRUPT, "invalid schema: %d elements but the root's tree has %d",
                md->n_schema, end);
    int32_t n_prim = 0;
    for (int32_t k = 1; k < md->n_schema; k++) n_prim += !is_group(&md->schema[k]);
    c.leaves = pl_calloc((size_t)(n_prim > 0 ? n_prim : 1), sizeof *c.leaves);
    if (!c.leaves) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the schema");
    const pl_pq_schema_element *root = &md->schema[0];
    out->leaves = c.leaves;
    out->fields = pl_pq_arena_alloc(arena, sizeof(pl_pq_node) * (size_t)(root->num_children + 1));
    if (!out->fields) {
        pl_free(c.leaves);
        out->leaves = NULL;
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the schema");
    }
    pl_status st = PL_OK;
    int32_t pos = 1;
    for (int32_t k = 0; k < root->num_children; k++) {
        c.field_index = k;
        c.field_name = md->schema[pos].name;
        st = build(&c, pos, 0, 0, false, 1, &out->fields[k]);
        out->n_fields = k + 1;
        out->n_leaves = c.n_leaves;
        if (st) goto fail;
        pos = c.end[pos];
    }
    pl_field *fields = pl_calloc((size_t)(out->n_fields + 1), sizeof *fields);
    if (!fields) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building the schema");
        goto fail;
    }
    for (int32_t k = 0; k < out->n_fields; k++) {
        fields[k].name = (char *)out->fields[k].name;
        fields[k].type = out->fields[k].type;
        fields[k].nullable = out->fields[k].nullable;
    }
    st = pl_schema_new(out->n_fields, fields, &out->schema, err);
    pl_free(fields);
    if (st) goto fail;
    for (int32_t k = 0; k < md->n_kv && !st; k++)
        if (md->kv_values[k] && strcmp(md->kv_keys[k], "ARROW:schema") != 0)
            st = pl_schema_add_meta(out->schema, md->kv_keys[k], md->kv_values[k], err);
    if (st) goto fail;
    md->leaves = pl_pq_arena_alloc(arena, sizeof(pl_pq_leaf) * (size_t)(c.n_leaves + 1));
    if (!md->leaves) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building the schema");
        goto fail;
    }
    md->n_leaves = c.n_leaves;
    int32_t leaf = 0;
    for (int32_t k = 1; k < md->n_schema; k++) {
        if (is_group(&md->schema[k])) continue;
        pl_pq_leaf *l = &md->leaves[leaf];
        const pl_pq_leaf_desc *d = &c.leaves[leaf];
        l->path = d->path;
        l->schema_index = k;
        l->field_index = d->field_index;
        l->physical = d->physical;
        l->type_length = d->type_length;
        l->max_def = d->max_def;
        l->max_rep = d->max_rep;
        l->type = d->type;
        leaf++;
    }
    return PL_OK;
fail:
    pl_pq_schema_tree_reset(out);
    return st;
}
