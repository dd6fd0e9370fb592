/* writer_meta.c - Thrift (compact protocol) encoding of the Parquet writer's page headers and
 * FileMetaData footer, field ids as in parquet.thrift. Statistics carry both min_value/max_value
 * and, for signed-ordered primitive columns only, the deprecated min/max (which older readers
 * interpret with signed comparison), as pyarrow does. */
#include <string.h>

#include "io/ipc/ipc.h"
#include "writer_int.h"

void pl_pqw_meta_page_header(pl_thrift_enc *e, int32_t page_type, int32_t uncompressed,
                             int32_t compressed, int32_t num_values, int32_t encoding,
                             bool has_def_rep) {
    (void)has_def_rep;
    pl_thrift_enc_struct_begin(e);
    pl_thrift_enc_field_i32(e, 1, page_type);
    pl_thrift_enc_field_i32(e, 2, uncompressed);
    pl_thrift_enc_field_i32(e, 3, compressed);
    if (page_type == PL_PQW_PAGE_DICTIONARY) {
        pl_thrift_enc_field_struct_begin(e, 7);
        pl_thrift_enc_field_i32(e, 1, num_values);
        pl_thrift_enc_field_i32(e, 2, encoding);
        pl_thrift_enc_field_bool(e, 3, false);
        pl_thrift_enc_struct_end(e);
    } else {
        pl_thrift_enc_field_struct_begin(e, 5);
        pl_thrift_enc_field_i32(e, 1, num_values);
        pl_thrift_enc_field_i32(e, 2, encoding);
        pl_thrift_enc_field_i32(e, 3, PL_PQW_ENC_RLE);
        pl_thrift_enc_field_i32(e, 4, PL_PQW_ENC_RLE);
        pl_thrift_enc_struct_end(e);
    }
    pl_thrift_enc_struct_end(e);
}

static void logical_type(pl_thrift_enc *e, const pl_pqw_elem *el) {
    pl_thrift_enc_field_struct_begin(e, 10);
    switch (el->logical) {
    case PL_PQW_LT_DECIMAL:
        pl_thrift_enc_field_struct_begin(e, PL_PQW_LT_DECIMAL);
        pl_thrift_enc_field_i32(e, 1, el->scale);
        pl_thrift_enc_field_i32(e, 2, el->precision);
        pl_thrift_enc_struct_end(e);
        break;
    case PL_PQW_LT_TIME:
    case PL_PQW_LT_TIMESTAMP:
        pl_thrift_enc_field_struct_begin(e, (int16_t)el->logical);
        pl_thrift_enc_field_bool(e, 1, el->lt_utc);
        pl_thrift_enc_field_struct_begin(e, 2);
        pl_thrift_enc_field_empty_struct(e, (int16_t)el->lt_unit);
        pl_thrift_enc_struct_end(e);
        pl_thrift_enc_struct_end(e);
        break;
    case PL_PQW_LT_INTEGER:
        pl_thrift_enc_field_struct_begin(e, PL_PQW_LT_INTEGER);
        pl_thrift_enc_field_i8(e, 1, el->lt_bits);
        pl_thrift_enc_field_bool(e, 2, el->lt_signed);
        pl_thrift_enc_struct_end(e);
        break;
    default: /* STRING, MAP, LIST, DATE, UNKNOWN, JSON: empty structs */
        pl_thrift_enc_field_empty_struct(e, (int16_t)el->logical);
        break;
    }
    pl_thrift_enc_struct_end(e);
}

static void schema_elem(pl_thrift_enc *e, const pl_pqw_elem *el, bool root) {
    pl_thrift_enc_list_struct_begin(e);
    if (el->physical >= 0) pl_thrift_enc_field_i32(e, 1, el->physical);
    if (el->physical == PL_PQW_FLBA) pl_thrift_enc_field_i32(e, 2, el->type_length);
    if (!root) pl_thrift_enc_field_i32(e, 3, el->repetition);
    pl_thrift_enc_field_string(e, 4, el->name);
    if (el->physical < 0) pl_thrift_enc_field_i32(e, 5, el->num_children);
    if (el->converted != PL_PQW_CT_NONE) pl_thrift_enc_field_i32(e, 6, el->converted);
    if (el->logical == PL_PQW_LT_DECIMAL) {
        pl_thrift_enc_field_i32(e, 7, el->scale);
        pl_thrift_enc_field_i32(e, 8, el->precision);
    }
    if (el->logical != PL_PQW_LT_NONE) logical_type(e, el);
    pl_thrift_enc_struct_end(e);
}

static bool legacy_stats_ok(const pl_pqw_leaf *leaf) {
    bool prim = leaf->physical == PL_PQW_BOOLEAN || leaf->physical == PL_PQW_INT32 ||
                leaf->physical == PL_PQW_INT64 || leaf->physical == PL_PQW_FLOAT ||
                leaf->physical == PL_PQW_DOUBLE;
    return prim && (leaf->order == PL_PQW_ORDER_SIGNED || leaf->order == PL_PQW_ORDER_FLOAT);
}

static void statistics(pl_thrift_enc *e, const pl_pqw_leaf *leaf, const pl_pqw_chunk *c) {
    pl_thrift_enc_field_struct_begin(e, 12);
    if (c->has_min_max && legacy_stats_ok(leaf)) {
        pl_thrift_enc_field_binary(e, 1, c->max.data, c->max.len);
        pl_thrift_enc_field_binary(e, 2, c->min.data, c->min.len);
    }
    pl_thrift_enc_field_i64(e, 3, c->null_count);
    if (c->distinct_count >= 0) pl_thrift_enc_field_i64(e, 4, c->distinct_count);
    if (c->has_min_max) {
        pl_thrift_enc_field_binary(e, 5, c->max.data, c->max.len);
        pl_thrift_enc_field_binary(e, 6, c->min.data, c->min.len);
    }
    pl_thrift_enc_struct_end(e);
}

static void column_chunk(pl_thrift_enc *e, const pl_pqw_leaf *leaf, const pl_pqw_chunk *c,
                         const pl_pqw_opts *opts) {
    pl_thrift_enc_list_struct_begin(e);
    pl_thrift_enc_field_i64(e, 2, c->dict_page_offset >= 0 ? c->dict_page_offset
                                                           : c->data_page_offset);
    pl_thrift_enc_field_struct_begin(e, 3);
    pl_thrift_enc_field_i32(e, 1, leaf->physical);
    int32_t encs[3];
    int n_encs = 0;
    if (c->has_dict || c->has_plain) encs[n_encs++] = PL_PQW_ENC_PLAIN;
    if (leaf->max_def > 0 || leaf->max_rep > 0) encs[n_encs++] = PL_PQW_ENC_RLE;
    if (c->has_dict) encs[n_encs++] = PL_PQW_ENC_RLE_DICTIONARY;
    if (n_encs == 0) encs[n_encs++] = PL_PQW_ENC_PLAIN;
    pl_thrift_enc_field_list_begin(e, 2, PL_TCE_I32, n_encs);
    for (int i = 0; i < n_encs; i++) pl_thrift_enc_list_i32(e, encs[i]);
    pl_thrift_enc_field_list_begin(e, 3, PL_TCE_BINARY, leaf->n_path);
    for (int32_t i = 0; i < leaf->n_path; i++) pl_thrift_enc_list_string(e, leaf->path[i]);
    pl_thrift_enc_field_i32(e, 4, opts->pq_codec);
    pl_thrift_enc_field_i64(e, 5, c->num_values);
    pl_thrift_enc_field_i64(e, 6, c->total_uncompressed);
    pl_thrift_enc_field_i64(e, 7, c->total_compressed);
    pl_thrift_enc_field_i64(e, 9, c->data_page_offset);
    if (c->dict_page_offset >= 0) pl_thrift_enc_field_i64(e, 11, c->dict_page_offset);
    if (opts->write_statistics) statistics(e, leaf, c);
    pl_thrift_enc_struct_end(e);
    pl_thrift_enc_struct_end(e);
}

void pl_pqw_meta_footer(pl_thrift_enc *e, const pl_schema *schema, const pl_pqw_schema *s,
                        const pl_pqw_opts *opts, int64_t n_rows, int64_t n_row_groups,
                        const pl_pqw_row_group *rgs, const char *arrow_schema) {
    pl_thrift_enc_struct_begin(e);
    pl_thrift_enc_field_i32(e, 1, 2);
    pl_thrift_enc_field_list_begin(e, 2, PL_TCE_STRUCT, s->n_elems);
    for (int32_t i = 0; i < s->n_elems; i++) schema_elem(e, &s->elems[i], i == 0);
    pl_thrift_enc_field_i64(e, 3, n_rows);
    pl_thrift_enc_field_list_begin(e, 4, PL_TCE_STRUCT, n_row_groups);
    for (int64_t g = 0; g < n_row_groups; g++) {
        const pl_pqw_row_group *rg = &rgs[g];
        pl_thrift_enc_list_struct_begin(e);
        pl_thrift_enc_field_list_begin(e, 1, PL_TCE_STRUCT, s->n_leaves);
        for (int32_t c = 0; c < s->n_leaves; c++)
            column_chunk(e, &s->leaves[c], &rg->chunks[c], opts);
        pl_thrift_enc_field_i64(e, 2, rg->total_byte_size);
        pl_thrift_enc_field_i64(e, 3, rg->n_rows);
        pl_thrift_enc_field_i64(e, 5, rg->file_offset);
        pl_thrift_enc_field_i64(e, 6, rg->total_compressed);
        pl_thrift_enc_field_i16(e, 7, (int16_t)(g < INT16_MAX ? g : INT16_MAX));
        pl_thrift_enc_struct_end(e);
    }
    int32_t n_kv = arrow_schema ? 1 : 0;
    for (int32_t i = 0; i < schema->n_meta; i++)
        n_kv += !(arrow_schema && strcmp(schema->meta_keys[i], PL_PQW_ARROW_SCHEMA_KEY) == 0);
    if (n_kv > 0) {
        pl_thrift_enc_field_list_begin(e, 5, PL_TCE_STRUCT, n_kv);
        for (int32_t i = 0; i < schema->n_meta; i++) {
            if (arrow_schema && strcmp(schema->meta_keys[i], PL_PQW_ARROW_SCHEMA_KEY) == 0)
                continue;
            pl_thrift_enc_list_struct_begin(e);
            pl_thrift_enc_field_string(e, 1, schema->meta_keys[i]);
            if (schema->meta_values[i]) pl_thrift_enc_field_string(e, 2, schema->meta_values[i]);
            pl_thrift_enc_struct_end(e);
        }
        if (arrow_schema) {
            pl_thrift_enc_list_struct_begin(e);
            pl_thrift_enc_field_string(e, 1, PL_PQW_ARROW_SCHEMA_KEY);
            pl_thrift_enc_field_string(e, 2, arrow_schema);
            pl_thrift_enc_struct_end(e);
        }
    }
    pl_thrift_enc_field_string(e, 6, PL_PQW_CREATED_BY);
    pl_thrift_enc_field_list_begin(e, 7, PL_TCE_STRUCT, s->n_leaves);
    for (int32_t c = 0; c < s->n_leaves; c++) {
        pl_thrift_enc_list_struct_begin(e);
        pl_thrift_enc_field_empty_struct(e, 1); /* TYPE_ORDER */
        pl_thrift_enc_struct_end(e);
    }
    pl_thrift_enc_struct_end(e);
}

/* ---------------------------------------------------------------- ARROW:schema */

static pl_status collect(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    return pl_pqw_vec_append(ctx, bytes, n, err);
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pl_status pl_pqw_arrow_schema(pl_schema *schema, char **out, pl_error *err) {
    *out = NULL;
    pl_pqw_vec v = {0};
    pl_writer *w = NULL;
    pl_error ipc_err;
    pl_error_init(&ipc_err);
    pl_status st = pl_ipc_writer_open_sink(collect, &v, false, schema, NULL, &w, &ipc_err);
    if (st == PL_OK) {
        st = w->finish(w, &ipc_err);
        w->free(w);
    }
    if (st != PL_OK) {
        pl_pqw_vec_free(&v);
        if (st == PL_ERR_NOMEM) PL_FAIL(err, PL_ERR_NOMEM, "out of memory encoding ARROW:schema");
        return PL_OK; /* a schema the IPC writer cannot express: no ARROW:schema */
    }
    /* drop the end-of-stream marker: the value is the schema message alone */
    static const uint8_t eos[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    if (v.len >= 8 && memcmp(v.data + v.len - 8, eos, 8) == 0) v.len -= 8;
    if (v.len == 0) {
        pl_pqw_vec_free(&v);
        return PL_OK;
    }
    char *s = pl_malloc((size_t)((v.len + 2) / 3 * 4 + 1));
    if (!s) {
        pl_pqw_vec_free(&v);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory encoding ARROW:schema");
    }
    char *o = s;
    for (int64_t i = 0; i < v.len; i += 3) {
        uint32_t b = (uint32_t)v.data[i] << 16;
        if (i + 1 < v.len) b |= (uint32_t)v.data[i + 1] << 8;
        if (i + 2 < v.len) b |= v.data[i + 2];
        *o++ = b64_alphabet[(b >> 18) & 63];
        *o++ = b64_alphabet[(b >> 12) & 63];
        *o++ = i + 1 < v.len ? b64_alphabet[(b >> 6) & 63] : '=';
        *o++ = i + 2 < v.len ? b64_alphabet[b & 63] : '=';
    }
    *o = 0;
    pl_pqw_vec_free(&v);
    *out = s;
    return PL_OK;
}
