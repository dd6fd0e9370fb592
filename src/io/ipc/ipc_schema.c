/* ipc_schema.c - Arrow IPC Schema (Schema.fbs) to polaroid types and back. Decoding builds, for
 * each field, the polaroid type plus its physical layout in record batch bodies (pl_ipc_field),
 * converting types polaroid stores differently (large_utf8/large_binary/large_list, date64,
 * time32, float16, fixed_size_list) and refusing the ones it cannot hold with
 * PL_ERR_UNSUPPORTED. Encoding writes a pl_schema; dictionary ids are assigned in pre-order of
 * the field tree, the order the writer walks arrays in. */
#include <stdio.h>
#include <string.h>

#include "io/ipc/ipc_int.h"

/* ---------------------------------------------------------------- decoding */

static void field_reset(pl_ipc_field *f) {
    if (!f) return;
    for (int32_t k = 0; k < f->n_children; k++) field_reset(&f->children[k]);
    pl_free(f->children);
    pl_type_release(f->type);
    memset(f, 0, sizeof *f);
}

void pl_ipc_schema_reset(pl_ipc_schema *s) {
    if (!s) return;
    if (s->fields && s->schema)
        for (int32_t k = 0; k < s->schema->n_fields; k++) field_reset(&s->fields[k]);
    pl_free(s->fields);
    pl_schema_release(s->schema);
    pl_free(s->dict_ids);
    pl_free(s->dict_fields);
    memset(s, 0, sizeof *s);
}

static char *dup_str(const char *p, uint32_t n) {
    char *s = pl_malloc((size_t)n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static const char *type_name(uint8_t tag) {
    static const char *names[] = {"none", "null", "int", "floating point", "binary", "utf8",
                                  "bool", "decimal", "date", "time", "timestamp", "interval",
                                  "list", "struct", "union", "fixed_size_binary",
                                  "fixed_size_list", "map", "duration", "large_binary",
                                  "large_utf8", "large_list", "run_end_encoded", "binary_view",
                                  "utf8_view", "list_view", "large_list_view"};
    return tag < PL_ARRAY_LEN(names) ? names[tag] : "unknown";
}

static pl_status corrupt_fb(const pl_fb_reader *r, pl_error *err) {
    PL_FAIL(err, PL_ERR_CORRUPT, "malformed schema metadata: %s (metadata byte %u)",
            r->why ? r->why : "bad flatbuffer", r->where);
}

static pl_type_id int_type(int32_t bits, bool is_signed) {
    switch (bits) {
    case 8: return is_signed ? PL_TYPE_INT8 : PL_TYPE_UINT8;
    case 16: return is_signed ? PL_TYPE_INT16 : PL_TYPE_UINT16;
    case 32: return is_signed ? PL_TYPE_INT32 : PL_TYPE_UINT32;
    case 64: return is_signed ? PL_TYPE_INT64 : PL_TYPE_UINT64;
    default: return PL_TYPE__COUNT;
    }
}

void pl_ipc_field_counts(const pl_ipc_field *f, bool as_value, int32_t *n_nodes,
                         int32_t *n_buffers) {
    if (f->dict_id >= 0 && !as_value) {
        *n_nodes = 1;
        *n_buffers = 2;
        return;
    }
    int32_t nodes = 1, bufs;
    switch (f->kind) {
    case PL_IPC_K_NULL: bufs = 0; break;
    case PL_IPC_K_BIN32: case PL_IPC_K_BIN64: bufs = 3; break;
    case PL_IPC_K_FSL: case PL_IPC_K_STRUCT: bufs = 1; break;
    default: bufs = 2; break;
    }
    for (int32_t k = 0; k < f->n_children; k++) {
        nodes += f->children[k].n_nodes;
        bufs += f->children[k].n_buffers;
    }
    *n_nodes = nodes;
    *n_buffers = bufs;
}

/* Builds the value type of field f (children already decoded) from its Type table. */
static pl_status decode_type(const pl_fb_table *ft, const char *fname, pl_ipc_field *f,
                             pl_type **out, pl_error *err) {
    uint8_t tag = pl_fb_u8(ft, PL_IPC_F_TYPE_TYPE, 0);
    pl_fb_table tt = pl_fb_table_field(ft, PL_IPC_F_TYPE);
    if (ft->r->bad) return corrupt_fb(ft->r, err);
    int32_t want_children = 0;
    pl_type *t = NULL;
    pl_status st = PL_OK;
    f->kind = PL_IPC_K_FIXED;
    switch (tag) {
    case PL_IPC_T_NULL:
        f->kind = PL_IPC_K_NULL;
        t = pl_type_simple(PL_TYPE_NA);
        break;
    case PL_IPC_T_BOOL:
        f->kind = PL_IPC_K_BOOL;
        t = pl_type_simple(PL_TYPE_BOOL);
        break;
    case PL_IPC_T_INT: {
        pl_type_id id = int_type(pl_fb_i32(&tt, 0, 0), pl_fb_bool(&tt, 1, false));
        if (id == PL_TYPE__COUNT)
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": int type of bit width %d", fname,
                    pl_fb_i32(&tt, 0, 0));
        t = pl_type_simple(id);
        break;
    }
    case PL_IPC_T_FLOAT: {
        int16_t prec = pl_fb_i16(&tt, 0, 0);
        if (prec == 0) f->kind = PL_IPC_K_FLOAT16;
        else if (prec != 1 && prec != 2)
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": floating point precision %d", fname, prec);
        t = pl_type_simple(prec == 2 ? PL_TYPE_FLOAT64 : PL_TYPE_FLOAT32);
        break;
    }
    case PL_IPC_T_UTF8: case PL_IPC_T_BINARY:
    case PL_IPC_T_LARGE_UTF8: case PL_IPC_T_LARGE_BINARY:
        f->kind = tag == PL_IPC_T_UTF8 || tag == PL_IPC_T_BINARY ? PL_IPC_K_BIN32 : PL_IPC_K_BIN64;
        t = pl_type_simple(tag == PL_IPC_T_UTF8 || tag == PL_IPC_T_LARGE_UTF8 ? PL_TYPE_UTF8
                                                                              : PL_TYPE_BINARY);
        break;
    case PL_IPC_T_DECIMAL: {
        int32_t prec = pl_fb_i32(&tt, 0, 0), scale = pl_fb_i32(&tt, 1, 0);
        int32_t bits = pl_fb_i32(&tt, 2, 128);
        if (bits != 128)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "field \"%s\": decimal of %d bits is not supported "
                    "(only decimal128)", fname, bits);
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "field \"%s\": decimal precision %d scale %d is not "
                    "supported (precision 1..38, scale 0..precision)", fname, prec, scale);
        st = pl_type_new_decimal(prec, scale, &t, err);
        break;
    }
    case PL_IPC_T_FIXED_BINARY: {
        int32_t w = pl_fb_i32(&tt, 0, 0);
        if (w < 0)
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": fixed_size_binary width %d", fname, w);
        st = pl_type_new_fixed_binary(w, &t, err);
        break;
    }
    case PL_IPC_T_DATE: {
        int16_t unit = pl_fb_i16(&tt, 0, 1);
        if (unit == 0) t = pl_type_simple(PL_TYPE_DATE32);
        else if (unit == 1) {
            f->kind = PL_IPC_K_DATE64;
            t = pl_type_simple(PL_TYPE_DATE32);
        } else PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": date unit %d", fname, unit);
        break;
    }
    case PL_IPC_T_TIME: {
        int16_t unit = pl_fb_i16(&tt, 0, 1);
        int32_t bits = pl_fb_i32(&tt, 1, 32);
        if ((unit == 0 || unit == 1) && bits == 32) {
            f->kind = PL_IPC_K_TIME32;
            f->width = unit == 0 ? 1000000 : 1000;
            st = pl_type_new_time64(PL_UNIT_US, &t, err);
        } else if ((unit == 2 || unit == 3) && bits == 64) {
            st = pl_type_new_time64(unit == 2 ? PL_UNIT_US : PL_UNIT_NS, &t, err);
        } else {
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": time of unit %d and bit width %d", fname,
                    unit, bits);
        }
        break;
    }
    case PL_IPC_T_TIMESTAMP: {
        int16_t unit = pl_fb_i16(&tt, 0, 0);
        uint32_t tz_len;
        const char *tz = pl_fb_string_field(&tt, 1, &tz_len);
        if (unit < 0 || unit > 3)
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": timestamp unit %d", fname, unit);
        if (tt.r && tt.r->bad) return corrupt_fb(tt.r, err);
        char *tzs = NULL;
        if (tz && tz_len > 0 && !(tzs = dup_str(tz, tz_len)))
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
        if (tzs && !tzs[0]) { /* "" (or a NUL first) means naive, as a missing zone */
            pl_free(tzs);
            tzs = NULL;
        }
        st = pl_type_new_timestamp((pl_time_unit)unit, tzs, &t, err);
        pl_free(tzs);
        break;
    }
    case PL_IPC_T_LIST: case PL_IPC_T_LARGE_LIST: case PL_IPC_T_FIXED_LIST:
        want_children = 1;
        if (f->n_children != 1) break;
        if (tag == PL_IPC_T_FIXED_LIST) {
            f->kind = PL_IPC_K_FSL;
            f->width = pl_fb_i32(&tt, 0, -1);
            if (f->width < 0)
                PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": fixed_size_list size %d", fname,
                        f->width);
        } else {
            f->kind = tag == PL_IPC_T_LIST ? PL_IPC_K_LIST32 : PL_IPC_K_LIST64;
        }
        break;
    case PL_IPC_T_STRUCT:
        f->kind = PL_IPC_K_STRUCT;
        want_children = f->n_children;
        break;
    case PL_IPC_T_MAP:
        f->kind = PL_IPC_K_LIST32;
        want_children = 1;
        if (f->n_children == 1 && (f->children[0].type->id != PL_TYPE_STRUCT ||
                                   f->children[0].type->n_children != 2))
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": map entries are not a struct of 2 fields",
                    fname);
        break;
    case PL_IPC_T_INTERVAL: {
        /* IntervalUnit: YEAR_MONTH 0, DAY_TIME 1, MONTH_DAY_NANO 2 (polaroid's own layout) */
        int16_t unit = pl_fb_i16(&tt, 0, 0);
        if (unit != 2)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "field \"%s\": interval unit %s is not supported "
                    "(only month_day_nano)", fname, unit == 0 ? "year_month"
                    : unit == 1 ? "day_time" : "(unknown)");
        t = pl_type_simple(PL_TYPE_INTERVAL);
        break;
    }
    case PL_IPC_T_UNION: case PL_IPC_T_DURATION: case PL_IPC_T_RUN_END:
    case PL_IPC_T_BINARY_VIEW: case PL_IPC_T_UTF8_VIEW: case PL_IPC_T_LIST_VIEW:
    case PL_IPC_T_LARGE_LIST_VIEW:
        pl_error_set(err, PL_ERR_UNSUPPORTED, "field \"%s\": arrow type %s is not supported", fname,
                     type_name(tag));
        if (err && (tag == PL_IPC_T_UTF8_VIEW || tag == PL_IPC_T_BINARY_VIEW))
            snprintf(err->hint, sizeof err->hint, "cast the column to %s before writing",
                     tag == PL_IPC_T_UTF8_VIEW ? "string (utf8)" : "binary");
        return PL_ERR_UNSUPPORTED;
    default:
        PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": unknown arrow type tag %u", fname, tag);
    }
    if (st) return st;
    if (tag == PL_IPC_T_LIST || tag == PL_IPC_T_LARGE_LIST || tag == PL_IPC_T_FIXED_LIST ||
        tag == PL_IPC_T_STRUCT || tag == PL_IPC_T_MAP) {
        if (f->n_children != want_children)
            PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": %s type with %d children", fname,
                    type_name(tag), f->n_children);
        pl_ipc_field *c = f->children;
        pl_type *ct = c ? c->type : NULL;
        if (tag == PL_IPC_T_STRUCT) {
            pl_field *fs = pl_calloc((size_t)(f->n_children ? f->n_children : 1), sizeof *fs);
            if (!fs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
            pl_fb_vec kids = pl_fb_vec_field(ft, PL_IPC_F_CHILDREN, 4);
            char **names = pl_calloc((size_t)(f->n_children ? f->n_children : 1), sizeof(char *));
            if (!names) {
                pl_free(fs);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
            }
            for (int32_t k = 0; k < f->n_children && !st; k++) {
                pl_fb_table kt = pl_fb_vec_table(&kids, (uint32_t)k);
                uint32_t n;
                const char *nm = pl_fb_string_field(&kt, PL_IPC_F_NAME, &n);
                names[k] = dup_str(nm ? nm : "", nm ? n : 0);
                if (!names[k])
                    st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading a schema");
                fs[k].name = names[k];
                fs[k].type = c[k].type;
                fs[k].nullable = pl_fb_bool(&kt, PL_IPC_F_NULLABLE, false);
            }
            if (!st) st = pl_type_new_struct(f->n_children, fs, &t, err);
            for (int32_t k = 0; k < f->n_children; k++) pl_free(names[k]);
            pl_free(names);
            pl_free(fs);
        } else {
            pl_fb_vec kids = pl_fb_vec_field(ft, PL_IPC_F_CHILDREN, 4);
            pl_fb_table kt = pl_fb_vec_table(&kids, 0);
            uint32_t n;
            const char *nm = pl_fb_string_field(&kt, PL_IPC_F_NAME, &n);
            bool kid_nullable = pl_fb_bool(&kt, PL_IPC_F_NULLABLE, false);
            if (tag == PL_IPC_T_MAP) {
                st = pl_type_new_map(ct->children[0].type, ct->children[1].type,
                                     ct->children[1].nullable, &t, err);
            } else {
                char *name = dup_str(nm ? nm : "item", nm ? n : 4);
                if (!name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
                st = pl_type_new_list(name, ct, kid_nullable, &t, err);
                pl_free(name);
            }
        }
        if (st) return st;
    } else if (f->n_children != 0) {
        pl_type_release(t);
        PL_FAIL(err, PL_ERR_CORRUPT, "field \"%s\": %s type with %d children", fname,
                type_name(tag), f->n_children);
    }
    if (ft->r->bad) {
        pl_type_release(t);
        return corrupt_fb(ft->r, err);
    }
    if (f->kind == PL_IPC_K_FIXED) f->width = t->byte_width;
    *out = t;
    return PL_OK;
}

static pl_status decode_field(const pl_fb_table *ft, int depth, pl_ipc_field *f, char **name_out,
                              bool *nullable_out, pl_error *err) {
    memset(f, 0, sizeof *f);
    f->dict_id = -1;
    if (depth > PL_IPC_MAX_NESTING)
        PL_FAIL(err, PL_ERR_LIMIT, "schema nested deeper than %d levels", PL_IPC_MAX_NESTING);
    if (!pl_fb_present(ft)) PL_FAIL(err, PL_ERR_CORRUPT, "schema holds an empty field entry");
    uint32_t name_len;
    const char *nm = pl_fb_string_field(ft, PL_IPC_F_NAME, &name_len);
    char *name = dup_str(nm ? nm : "", nm ? name_len : 0);
    if (!name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
    bool nullable = pl_fb_bool(ft, PL_IPC_F_NULLABLE, false);
    pl_fb_vec kids = pl_fb_vec_field(ft, PL_IPC_F_CHILDREN, 4);
    pl_status st = PL_OK;
    if (ft->r->bad) {
        st = corrupt_fb(ft->r, err);
        goto done;
    }
    if (kids.len > PL_IPC_MAX_FIELDS) {
        st = pl_error_set(err, PL_ERR_LIMIT, "field \"%s\" has %u children (limit %d)", name,
                          kids.len, PL_IPC_MAX_FIELDS);
        goto done;
    }
    if (kids.len) {
        f->children = pl_calloc(kids.len, sizeof *f->children);
        if (!f->children) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading a schema");
            goto done;
        }
    }
    for (uint32_t k = 0; k < kids.len && !st; k++) {
        pl_fb_table kt = pl_fb_vec_table(&kids, k);
        if (ft->r->bad) {
            st = corrupt_fb(ft->r, err);
            break;
        }
        st = decode_field(&kt, depth + 1, &f->children[k], NULL, NULL, err);
        f->n_children = (int32_t)k + 1;
    }
    if (st) goto done;
    pl_type *vt = NULL;
    st = decode_type(ft, name, f, &vt, err);
    if (st) goto done;
    f->type = vt;
    pl_fb_table dt = pl_fb_table_field(ft, PL_IPC_F_DICT);
    if (pl_fb_present(&dt)) {
        f->dict_id = pl_fb_i64(&dt, 0, 0);
        pl_fb_table it = pl_fb_table_field(&dt, 1);
        pl_type_id idx = PL_TYPE_INT32;
        if (pl_fb_present(&it)) idx = int_type(pl_fb_i32(&it, 0, 0), pl_fb_bool(&it, 1, false));
        if (ft->r->bad) {
            st = corrupt_fb(ft->r, err);
            goto done;
        }
        if (idx == PL_TYPE__COUNT) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "field \"%s\": bad dictionary index type", name);
            goto done;
        }
        if (f->dict_id < 0) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "field \"%s\": negative dictionary id", name);
            goto done;
        }
        pl_type *dt_type;
        st = pl_type_new_dictionary(idx, vt, &dt_type, err);
        if (st) goto done;
        f->type = dt_type;
        f->index_width = dt_type->byte_width;
        pl_type_release(vt);
    }
    pl_ipc_field_counts(f, false, &f->n_nodes, &f->n_buffers);
done:
    if (st || !name_out) pl_free(name);
    else *name_out = name;
    if (nullable_out) *nullable_out = nullable;
    return st;
}

static pl_status register_dicts(pl_ipc_schema *s, const pl_ipc_field *f, int32_t *cap,
                                pl_error *err) {
    if (f->dict_id >= 0) {
        for (int32_t k = 0; k < s->n_dicts; k++) {
            if (s->dict_ids[k] != f->dict_id) continue;
            if (!pl_type_equals(s->dict_fields[k]->type, f->type))
                PL_FAIL(err, PL_ERR_CORRUPT, "dictionary id %lld is used by fields of different "
                        "types", (long long)f->dict_id);
            goto children;
        }
        if (s->n_dicts == *cap) {
            int32_t nc = *cap ? *cap * 2 : 8;
            int64_t *ids = pl_realloc(s->dict_ids, sizeof(int64_t) * (size_t)nc);
            if (!ids) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
            s->dict_ids = ids;
            const pl_ipc_field **fs = pl_realloc(s->dict_fields, sizeof(void *) * (size_t)nc);
            if (!fs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
            s->dict_fields = fs;
            *cap = nc;
        }
        s->dict_ids[s->n_dicts] = f->dict_id;
        s->dict_fields[s->n_dicts++] = f;
    }
children:
    for (int32_t k = 0; k < f->n_children; k++)
        PL_TRY(register_dicts(s, &f->children[k], cap, err));
    return PL_OK;
}

pl_status pl_ipc_schema_decode(const pl_fb_table *sch, pl_ipc_schema *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    if (pl_fb_i16(sch, 0, 0) != 0)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "big-endian arrow data is not supported");
    pl_fb_vec fields = pl_fb_vec_field(sch, 1, 4);
    pl_fb_vec meta = pl_fb_vec_field(sch, 2, 4);
    if (sch->r->bad) return corrupt_fb(sch->r, err);
    if (fields.len > PL_IPC_MAX_FIELDS)
        PL_FAIL(err, PL_ERR_LIMIT, "schema has %u fields (limit %d)", fields.len,
                PL_IPC_MAX_FIELDS);
    int32_t n = (int32_t)fields.len;
    pl_status st = PL_OK;
    pl_field *pf = pl_calloc((size_t)(n ? n : 1), sizeof *pf);
    out->fields = pl_calloc((size_t)(n ? n : 1), sizeof *out->fields);
    if (!pf || !out->fields) {
        pl_free(pf);
        pl_free(out->fields);
        out->fields = NULL;
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a schema");
    }
    int32_t n_done = 0;
    for (int32_t k = 0; k < n && !st; k++) {
        pl_fb_table ft = pl_fb_vec_table(&fields, (uint32_t)k);
        if (sch->r->bad) {
            st = corrupt_fb(sch->r, err);
            break;
        }
        st = decode_field(&ft, 0, &out->fields[k], &pf[k].name, &pf[k].nullable, err);
        pf[k].type = out->fields[k].type;
        n_done = k + 1;
    }
    if (!st) st = pl_schema_new(n, pf, &out->schema, err);
    for (uint32_t k = 0; !st && k < meta.len; k++) {
        pl_fb_table kv = pl_fb_vec_table(&meta, k);
        uint32_t kl, vl;
        const char *key = pl_fb_string_field(&kv, 0, &kl);
        const char *val = pl_fb_string_field(&kv, 1, &vl);
        if (sch->r->bad) {
            st = corrupt_fb(sch->r, err);
            break;
        }
        char *ks = dup_str(key ? key : "", key ? kl : 0);
        char *vs = dup_str(val ? val : "", val ? vl : 0);
        if (!ks || !vs) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading a schema");
        else st = pl_schema_add_meta(out->schema, ks, vs, err);
        pl_free(ks);
        pl_free(vs);
    }
    for (int32_t k = 0; k < n; k++) pl_free(pf[k].name);
    pl_free(pf);
    int32_t cap = 0;
    for (int32_t k = 0; !st && k < n; k++) st = register_dicts(out, &out->fields[k], &cap, err);
    if (st) {
        for (int32_t k = 0; k < n_done; k++) field_reset(&out->fields[k]);
        pl_free(out->fields);
        pl_schema_release(out->schema);
        pl_free(out->dict_ids);
        pl_free(out->dict_fields);
        memset(out, 0, sizeof *out);
    }
    return st;
}

/* ---------------------------------------------------------------- encoding */

static uint32_t enc_int(pl_fb_builder *b, int32_t bits, bool is_signed) {
    pl_fb_start(b, 2);
    pl_fb_add_i32(b, 0, bits);
    pl_fb_add_u8(b, 1, is_signed);
    return pl_fb_end(b);
}

static bool id_signed(pl_type_id id) {
    return id == PL_TYPE_INT8 || id == PL_TYPE_INT16 || id == PL_TYPE_INT32 || id == PL_TYPE_INT64;
}

/* Type table of t (not a dictionary); *tag = its union tag. */
static pl_status enc_type(pl_fb_builder *b, const pl_type *t, uint8_t *tag, uint32_t *out,
                          pl_error *err) {
    uint32_t tz = 0;
    switch (t->id) {
    case PL_TYPE_NA: *tag = PL_IPC_T_NULL; break;
    case PL_TYPE_BOOL: *tag = PL_IPC_T_BOOL; break;
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
        *tag = PL_IPC_T_INT;
        *out = enc_int(b, t->byte_width * 8, id_signed(t->id));
        return PL_OK;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64:
        *tag = PL_IPC_T_FLOAT;
        pl_fb_start(b, 1);
        pl_fb_add_i16(b, 0, t->id == PL_TYPE_FLOAT32 ? 1 : 2);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_DECIMAL128:
        *tag = PL_IPC_T_DECIMAL;
        pl_fb_start(b, 3);
        pl_fb_add_i32(b, 0, t->precision);
        pl_fb_add_i32(b, 1, t->scale);
        pl_fb_add_i32(b, 2, 128);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_UTF8: *tag = PL_IPC_T_UTF8; break;
    case PL_TYPE_BINARY: *tag = PL_IPC_T_BINARY; break;
    case PL_TYPE_FIXED_BINARY:
        *tag = PL_IPC_T_FIXED_BINARY;
        pl_fb_start(b, 1);
        pl_fb_add_i32(b, 0, t->byte_width);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_DATE32:
        *tag = PL_IPC_T_DATE;
        pl_fb_start(b, 1);
        pl_fb_add_i16(b, 0, 0);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_TIME64:
        *tag = PL_IPC_T_TIME;
        pl_fb_start(b, 2);
        pl_fb_add_i16(b, 0, (int16_t)t->unit);
        pl_fb_add_i32(b, 1, 64);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_TIMESTAMP:
        *tag = PL_IPC_T_TIMESTAMP;
        if (t->tz) tz = pl_fb_create_string(b, t->tz, strlen(t->tz));
        pl_fb_start(b, 2);
        pl_fb_add_i16(b, 0, (int16_t)t->unit);
        pl_fb_add_ref(b, 1, tz);
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_INTERVAL:
        *tag = PL_IPC_T_INTERVAL;
        pl_fb_start(b, 1);
        pl_fb_add_i16(b, 0, 2); /* MONTH_DAY_NANO */
        *out = pl_fb_end(b);
        return PL_OK;
    case PL_TYPE_LIST: *tag = PL_IPC_T_LIST; break;
    case PL_TYPE_STRUCT: *tag = PL_IPC_T_STRUCT; break;
    case PL_TYPE_MAP:
        *tag = PL_IPC_T_MAP;
        pl_fb_start(b, 1);
        pl_fb_add_u8(b, 0, 0);
        *out = pl_fb_end(b);
        return PL_OK;
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "type id %d cannot be written to arrow ipc", (int)t->id);
    }
    pl_fb_start(b, 0);
    *out = pl_fb_end(b);
    return PL_OK;
}

static pl_status enc_field(pl_fb_builder *b, const char *name, const pl_type *t, bool nullable,
                           int64_t *next_dict, int depth, uint32_t *out, pl_error *err) {
    if (depth > PL_IPC_MAX_NESTING)
        PL_FAIL(err, PL_ERR_LIMIT, "type nested deeper than %d levels", PL_IPC_MAX_NESTING);
    const pl_type *vt = t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
    int64_t dict_id = t->id == PL_TYPE_DICTIONARY ? (*next_dict)++ : -1;
    int32_t n_kids = vt->n_children;
    uint32_t *kids = NULL;
    if (n_kids > 0) {
        kids = pl_calloc((size_t)n_kids, sizeof *kids);
        if (!kids) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing a schema");
    }
    pl_status st = PL_OK;
    for (int32_t k = 0; k < n_kids && !st; k++)
        st = enc_field(b, vt->children[k].name, vt->children[k].type, vt->children[k].nullable,
                       next_dict, depth + 1, &kids[k], err);
    uint32_t kids_vec = 0, type_tab = 0, dict_tab = 0;
    uint8_t tag = 0;
    if (!st) {
        kids_vec = pl_fb_create_ref_vec(b, kids ? kids : (const uint32_t *)&tag, (uint32_t)n_kids);
        st = enc_type(b, vt, &tag, &type_tab, err);
    }
    pl_free(kids);
    if (st) return st;
    if (dict_id >= 0) {
        uint32_t idx =
            enc_int(b, pl_type_simple(t->index_id)->byte_width * 8, id_signed(t->index_id));
        pl_fb_start(b, 4);
        pl_fb_add_i64(b, 0, dict_id);
        pl_fb_add_ref(b, 1, idx);
        pl_fb_add_u8(b, 2, 0);
        dict_tab = pl_fb_end(b);
    }
    uint32_t name_ref = pl_fb_create_string(b, name ? name : "", name ? strlen(name) : 0);
    pl_fb_start(b, 7);
    pl_fb_add_ref(b, PL_IPC_F_NAME, name_ref);
    pl_fb_add_u8(b, PL_IPC_F_NULLABLE, nullable);
    pl_fb_add_u8(b, PL_IPC_F_TYPE_TYPE, tag);
    pl_fb_add_ref(b, PL_IPC_F_TYPE, type_tab);
    pl_fb_add_ref(b, PL_IPC_F_DICT, dict_tab);
    pl_fb_add_ref(b, PL_IPC_F_CHILDREN, kids_vec);
    *out = pl_fb_end(b);
    if (b->oom) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing a schema");
    return PL_OK;
}

pl_status pl_ipc_schema_encode(pl_fb_builder *b, const pl_schema *s, uint32_t *out, pl_error *err) {
    int32_t n = s->n_fields;
    uint32_t *refs = pl_calloc((size_t)(n ? n : 1), sizeof *refs);
    uint32_t *kv = pl_calloc((size_t)(s->n_meta ? s->n_meta : 1), sizeof *kv);
    if (!refs || !kv) {
        pl_free(refs);
        pl_free(kv);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing a schema");
    }
    int64_t next_dict = 0;
    pl_status st = PL_OK;
    for (int32_t k = 0; k < n && !st; k++)
        st = enc_field(b, s->fields[k].name, s->fields[k].type, s->fields[k].nullable, &next_dict,
                       0, &refs[k], err);
    for (int32_t k = 0; k < s->n_meta && !st; k++) {
        uint32_t key = pl_fb_create_string(b, s->meta_keys[k], strlen(s->meta_keys[k]));
        uint32_t val = pl_fb_create_string(b, s->meta_values[k], strlen(s->meta_values[k]));
        pl_fb_start(b, 2);
        pl_fb_add_ref(b, 0, key);
        pl_fb_add_ref(b, 1, val);
        kv[k] = pl_fb_end(b);
    }
    if (!st) {
        uint32_t fields = pl_fb_create_ref_vec(b, refs, (uint32_t)n);
        uint32_t meta = s->n_meta ? pl_fb_create_ref_vec(b, kv, (uint32_t)s->n_meta) : 0;
        pl_fb_start(b, 4);
        pl_fb_add_i16(b, 0, 0);
        pl_fb_add_ref(b, 1, fields);
        pl_fb_add_ref(b, 2, meta);
        *out = pl_fb_end(b);
        if (b->oom) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory writing a schema");
    }
    pl_free(refs);
    pl_free(kv);
    return st;
}
