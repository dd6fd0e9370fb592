/* metadata.c - decodes Parquet's FileMetaData and PageHeader (parquet.thrift) from the Thrift
 * compact protocol into the structs of polaroid/parquet.h and pq_int.h.
 *
 * Field numbers follow parquet.thrift. Unknown fields are skipped. Decoded strings are copied
 * into the arena (NUL-terminated); statistics min/max point into the footer bytes, which the
 * caller keeps alive as long as the metadata. */
#include <string.h>

#include "pq_int.h"

typedef struct md_ctx {
    pl_pq_thrift *t;
    pl_pq_arena *arena;
    pl_error *err;
} md_ctx;

#define T (c->t)
#define ERR (c->err)

static pl_status nomem(md_ctx *c) {
    PL_FAIL(c->err, PL_ERR_NOMEM, "out of memory decoding parquet metadata");
}

static void *alloc_n(md_ctx *c, int32_t n, size_t size) {
    return pl_pq_arena_alloc(c->arena, (size_t)(n > 0 ? n : 1) * size);
}

static pl_status read_string(md_ctx *c, uint8_t ty, const char **out) {
    const uint8_t *s = NULL;
    int32_t n = 0;
    PL_TRY(pl_pq_thrift_binary(T, ty, &s, &n, ERR));
    char *p = pl_pq_arena_strndup(c->arena, s, (size_t)n);
    if (!p) return nomem(c);
    *out = p;
    return PL_OK;
}

/* Iterates the fields of a struct: FIELDS_BEGIN ... case N: ... FIELDS_END */
#define FIELDS_BEGIN                                                                               \
    PL_TRY(pl_pq_thrift_struct_begin(T, ERR));                                                     \
    int16_t last_id_ = 0, fid = 0;                                                                 \
    uint8_t ty = 0;                                                                                \
    for (;;) {                                                                                     \
        PL_TRY(pl_pq_thrift_field(T, &last_id_, &fid, &ty, ERR));                                  \
        if (ty == PL_PQ_T_STOP) break;                                                             \
        switch (fid) {
#define FIELDS_END                                                                                 \
    default:                                                                                       \
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));                                                     \
        break;                                                                                     \
        }                                                                                          \
        }                                                                                          \
        pl_pq_thrift_struct_end(T);

/* Like Thrift's generated code, a known field with an unexpected wire type is skipped (some
 * writers used field numbers that later meant something else). */
enum { PQ_W_INT, PQ_W_BINARY, PQ_W_BOOL, PQ_W_STRUCT, PQ_W_LIST };

static bool type_ok(uint8_t ty, int want) {
    switch (want) {
    case PQ_W_INT: return ty == PL_PQ_T_BYTE || ty == PL_PQ_T_I16 || ty == PL_PQ_T_I32 ||
                          ty == PL_PQ_T_I64;
    case PQ_W_BINARY: return ty == PL_PQ_T_BINARY;
    case PQ_W_BOOL: return ty == PL_PQ_T_TRUE || ty == PL_PQ_T_FALSE;
    case PQ_W_STRUCT: return ty == PL_PQ_T_STRUCT;
    default: return ty == PL_PQ_T_LIST || ty == PL_PQ_T_SET;
    }
}

#define WANT(k)                                                                                    \
    if (!type_ok(ty, k)) {                                                                         \
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));                                                     \
        break;                                                                                     \
    }

/* One field: `case id:` decoded by read when its wire type is want (a known field with another
 * wire type is skipped: WANT). FIELD_I32..FIELD_STR decode a scalar into dst. */
#define FIELD_READ(id, want, read)                                                                 \
    case id:                                                                                       \
        WANT(want);                                                                                \
        PL_TRY(read);                                                                              \
        break
#define FIELD_I32(id, dst) FIELD_READ(id, PQ_W_INT, pl_pq_thrift_i32(T, ty, &(dst), ERR))
#define FIELD_I64(id, dst) FIELD_READ(id, PQ_W_INT, pl_pq_thrift_int(T, ty, &(dst), ERR))
#define FIELD_BOOL(id, dst) FIELD_READ(id, PQ_W_BOOL, pl_pq_thrift_bool(T, ty, &(dst), ERR))
#define FIELD_STR(id, dst) FIELD_READ(id, PQ_W_BINARY, read_string(c, ty, &(dst)))
#define FIELD_STRUCT(id, read) FIELD_READ(id, PQ_W_STRUCT, read)
#define FIELD_LIST(id, read) FIELD_READ(id, PQ_W_LIST, read)

/* The head of a thrift list of structs (what: its name in errors): room for its elements, of
 * size bytes each, from the arena; *out and *n_out set together. More than limit elements is
 * an error "<owner> has <n> <noun> (limit <limit>)". */
static pl_status struct_list(md_ctx *c, uint8_t ty, const char *what, size_t size, int32_t limit,
                             const char *owner, const char *noun, void **out, int32_t *n_out) {
    uint8_t et = 0;
    int32_t n = 0;
    PL_TRY(pl_pq_thrift_list(T, ty, &et, &n, ERR));
    if (et != PL_PQ_T_STRUCT) return pl_pq_thrift_fail(T, ERR, "%s is not structs", what);
    if (n > limit) PL_FAIL(ERR, PL_ERR_LIMIT, "%s has %d %s (limit %d)", owner, n, noun, limit);
    void *v = alloc_n(c, n, size);
    if (!v) return nomem(c);
    *out = v;
    *n_out = n;
    return PL_OK;
}

/* ---------------------------------------------------------------- statistics */

static pl_status read_stats(md_ctx *c, pl_pq_stats *st) {
    const uint8_t *legacy_min = NULL, *legacy_max = NULL;
    int32_t legacy_min_len = 0, legacy_max_len = 0;
    bool has_lmin = false, has_lmax = false;
    FIELDS_BEGIN
    case 1:
        WANT(PQ_W_BINARY);
        PL_TRY(pl_pq_thrift_binary(T, ty, &legacy_max, &legacy_max_len, ERR));
        has_lmax = true;
        break;
    case 2:
        WANT(PQ_W_BINARY);
        PL_TRY(pl_pq_thrift_binary(T, ty, &legacy_min, &legacy_min_len, ERR));
        has_lmin = true;
        break;
    case 3:
        WANT(PQ_W_INT);
        PL_TRY(pl_pq_thrift_int(T, ty, &st->null_count, ERR));
        st->has_null_count = true;
        break;
    case 4:
        WANT(PQ_W_INT);
        PL_TRY(pl_pq_thrift_int(T, ty, &st->distinct_count, ERR));
        st->has_distinct_count = true;
        break;
    case 5:
        WANT(PQ_W_BINARY);
        PL_TRY(pl_pq_thrift_binary(T, ty, &st->max, &st->max_len, ERR));
        st->has_max = true;
        break;
    case 6:
        WANT(PQ_W_BINARY);
        PL_TRY(pl_pq_thrift_binary(T, ty, &st->min, &st->min_len, ERR));
        st->has_min = true;
        break;
    FIELD_BOOL(7, st->max_exact);
    FIELD_BOOL(8, st->min_exact);
    FIELDS_END
    if (!st->has_min && !st->has_max && (has_lmin || has_lmax)) {
        st->legacy = true;
        st->has_min = has_lmin;
        st->min = legacy_min;
        st->min_len = legacy_min_len;
        st->has_max = has_lmax;
        st->max = legacy_max;
        st->max_len = legacy_max_len;
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- schema */

static pl_status read_time_unit(md_ctx *c, pl_time_unit *unit) {
    *unit = PL_UNIT_MS;
    FIELDS_BEGIN
    case 1:
        *unit = PL_UNIT_MS;
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    case 2:
        *unit = PL_UNIT_US;
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    case 3:
        *unit = PL_UNIT_NS;
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    FIELDS_END
    return PL_OK;
}

static pl_status read_logical_inner(md_ctx *c, int16_t kind, pl_pq_logical *lt) {
    FIELDS_BEGIN
    case 1:
        if (kind == PL_PQ_LT_DECIMAL) PL_TRY(pl_pq_thrift_i32(T, ty, &lt->scale, ERR));
        else if (kind == PL_PQ_LT_TIME || kind == PL_PQ_LT_TIMESTAMP)
            PL_TRY(pl_pq_thrift_bool(T, ty, &lt->utc, ERR));
        else if (kind == PL_PQ_LT_INTEGER) PL_TRY(pl_pq_thrift_i32(T, ty, &lt->bit_width, ERR));
        else PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    case 2:
        if (kind == PL_PQ_LT_DECIMAL) PL_TRY(pl_pq_thrift_i32(T, ty, &lt->precision, ERR));
        else if (kind == PL_PQ_LT_TIME || kind == PL_PQ_LT_TIMESTAMP) {
            if (ty == PL_PQ_T_STRUCT) PL_TRY(read_time_unit(c, &lt->unit));
            else PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        } else if (kind == PL_PQ_LT_INTEGER) PL_TRY(pl_pq_thrift_bool(T, ty, &lt->is_signed, ERR));
        else PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    FIELDS_END
    return PL_OK;
}

static pl_status read_logical(md_ctx *c, pl_pq_logical *lt) {
    FIELDS_BEGIN
    case PL_PQ_LT_STRING:
    case PL_PQ_LT_MAP:
    case PL_PQ_LT_LIST:
    case PL_PQ_LT_ENUM:
    case PL_PQ_LT_DECIMAL:
    case PL_PQ_LT_DATE:
    case PL_PQ_LT_TIME:
    case PL_PQ_LT_TIMESTAMP:
    case PL_PQ_LT_INTEGER:
    case PL_PQ_LT_NULL:
    case PL_PQ_LT_JSON:
    case PL_PQ_LT_BSON:
    case PL_PQ_LT_UUID:
    case PL_PQ_LT_FLOAT16:
    case PL_PQ_LT_VARIANT:
    case PL_PQ_LT_GEOMETRY:
    case PL_PQ_LT_GEOGRAPHY:
        if (ty != PL_PQ_T_STRUCT) {
            PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
            lt->kind = PL_PQ_LT_UNKNOWN;
            break;
        }
        lt->kind = (pl_pq_logical_kind)fid;
        PL_TRY(read_logical_inner(c, fid, lt));
        break;
    default:
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        lt->kind = PL_PQ_LT_UNKNOWN;
        break;
        }
    }
    pl_pq_thrift_struct_end(T);
    return PL_OK;
}

static pl_status read_schema_element(md_ctx *c, pl_pq_schema_element *e) {
    e->physical = -1;
    e->type_length = -1;
    e->repetition = -1;
    e->converted = PL_PQ_CT_NONE;
    e->scale = e->precision = e->field_id = -1;
    e->name = NULL;
    FIELDS_BEGIN
    FIELD_I32(1, e->physical);
    FIELD_I32(2, e->type_length);
    FIELD_I32(3, e->repetition);
    FIELD_STR(4, e->name);
    FIELD_I32(5, e->num_children);
    FIELD_I32(6, e->converted);
    FIELD_I32(7, e->scale);
    FIELD_I32(8, e->precision);
    FIELD_I32(9, e->field_id);
    FIELD_STRUCT(10, read_logical(c, &e->logical));
    FIELDS_END
    if (!e->name) return pl_pq_thrift_fail(T, ERR, "schema element without a name");
    if (e->physical < -1 || e->physical > PL_PQ_FIXED_LEN_BYTE_ARRAY)
        return pl_pq_thrift_fail(T, ERR, "schema element \"%s\" has unknown physical type %d",
                                 e->name, e->physical);
    if (e->num_children < 0)
        return pl_pq_thrift_fail(T, ERR, "schema element \"%s\" has %d children", e->name,
                                 e->num_children);
    return PL_OK;
}

/* ---------------------------------------------------------------- column chunks */

static pl_status read_path(md_ctx *c, uint8_t ty, const char **out) {
    uint8_t et = 0;
    int32_t n = 0;
    PL_TRY(pl_pq_thrift_list(T, ty, &et, &n, ERR));
    if (et != PL_PQ_T_BINARY) return pl_pq_thrift_fail(T, ERR, "path_in_schema is not strings");
    const uint8_t *parts[PL_PQ_MAX_NESTING + 1];
    int32_t lens[PL_PQ_MAX_NESTING + 1];
    if (n > PL_PQ_MAX_NESTING + 1)
        return pl_pq_thrift_fail(T, ERR, "path_in_schema has %d parts", n);
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        PL_TRY(pl_pq_thrift_binary(T, et, &parts[i], &lens[i], ERR));
        total += (size_t)lens[i] + 1;
    }
    char *s = pl_pq_arena_alloc(c->arena, total + 1);
    if (!s) return nomem(c);
    size_t pos = 0;
    for (int32_t i = 0; i < n; i++) {
        if (i) s[pos++] = '.';
        memcpy(s + pos, parts[i], (size_t)lens[i]);
        pos += (size_t)lens[i];
    }
    s[pos] = 0;
    *out = s;
    return PL_OK;
}

static pl_status read_i32_list(md_ctx *c, uint8_t ty, int32_t **out, int32_t *n_out) {
    uint8_t et = 0;
    int32_t n = 0;
    PL_TRY(pl_pq_thrift_list(T, ty, &et, &n, ERR));
    int32_t *v = alloc_n(c, n, sizeof *v);
    if (!v) return nomem(c);
    for (int32_t i = 0; i < n; i++) PL_TRY(pl_pq_thrift_i32(T, et, &v[i], ERR));
    *out = v;
    *n_out = n;
    return PL_OK;
}

static pl_status read_encoding_stats(md_ctx *c, uint8_t lty, pl_pq_column_chunk *cc) {
    void *list = NULL;
    PL_TRY(struct_list(c, lty, "encoding_stats", sizeof *cc->encoding_stats, INT32_MAX, NULL, NULL,
                       &list, &cc->n_encoding_stats));
    cc->encoding_stats = list;
    for (int32_t i = 0; i < cc->n_encoding_stats; i++) {
        pl_pq_encoding_stats *es = &cc->encoding_stats[i];
        FIELDS_BEGIN
        FIELD_I32(1, es->page_type);
        FIELD_I32(2, es->encoding);
        FIELD_I32(3, es->count);
        FIELDS_END
    }
    return PL_OK;
}

static pl_codec codec_from_id(int32_t id) {
    switch (id) {
    case PL_PQ_CODEC_SNAPPY: return PL_CODEC_SNAPPY;
    case PL_PQ_CODEC_GZIP: return PL_CODEC_GZIP;
    case PL_PQ_CODEC_BROTLI: return PL_CODEC_BROTLI;
    case PL_PQ_CODEC_LZ4: return PL_CODEC_LZ4_HADOOP;
    case PL_PQ_CODEC_ZSTD: return PL_CODEC_ZSTD;
    case PL_PQ_CODEC_LZ4_RAW: return PL_CODEC_LZ4_RAW;
    default: return PL_CODEC_UNCOMPRESSED;
    }
}

static pl_status read_column_meta(md_ctx *c, pl_pq_column_chunk *cc) {
    cc->has_meta = true;
    FIELDS_BEGIN
    FIELD_I32(1, cc->physical);
    FIELD_LIST(2, read_i32_list(c, ty, &cc->encodings, &cc->n_encodings));
    FIELD_LIST(3, read_path(c, ty, &cc->path));
    case 4:
        WANT(PQ_W_INT);
        PL_TRY(pl_pq_thrift_i32(T, ty, &cc->codec_id, ERR));
        cc->codec = codec_from_id(cc->codec_id);
        break;
    FIELD_I64(5, cc->num_values);
    FIELD_I64(6, cc->total_uncompressed_size);
    FIELD_I64(7, cc->total_compressed_size);
    FIELD_I64(9, cc->data_page_offset);
    FIELD_I64(10, cc->index_page_offset);
    FIELD_I64(11, cc->dictionary_page_offset);
    case 12:
        WANT(PQ_W_STRUCT);
        PL_TRY(read_stats(c, &cc->stats));
        cc->has_stats = true;
        break;
    FIELD_LIST(13, read_encoding_stats(c, ty, cc));
    FIELD_I64(14, cc->bloom_filter_offset);
    FIELD_I32(15, cc->bloom_filter_length);
    FIELDS_END
    if (cc->num_values < 0 || cc->total_compressed_size < 0 || cc->total_uncompressed_size < 0 ||
        cc->data_page_offset < 0)
        return pl_pq_thrift_fail(T, ERR, "negative size or offset in column \"%s\"",
                                 cc->path ? cc->path : "?");
    return PL_OK;
}

static pl_status read_column_chunk(md_ctx *c, pl_pq_column_chunk *cc) {
    cc->dictionary_page_offset = cc->index_page_offset = -1;
    cc->offset_index_offset = cc->column_index_offset = cc->bloom_filter_offset = -1;
    cc->offset_index_length = cc->column_index_length = cc->bloom_filter_length = -1;
    cc->path = "";
    FIELDS_BEGIN
    FIELD_STR(1, cc->file_path);
    FIELD_STRUCT(3, read_column_meta(c, cc));
    FIELD_I64(4, cc->offset_index_offset);
    FIELD_I32(5, cc->offset_index_length);
    FIELD_I64(6, cc->column_index_offset);
    FIELD_I32(7, cc->column_index_length);
    case 8:
    case 9:
        cc->encrypted = true;
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    FIELDS_END
    return PL_OK;
}

static pl_status read_sorting_column(md_ctx *c, pl_pq_sorting_column *sc) {
    FIELDS_BEGIN
    FIELD_I32(1, sc->column_idx);
    FIELD_BOOL(2, sc->descending);
    FIELD_BOOL(3, sc->nulls_first);
    FIELDS_END
    return PL_OK;
}

static pl_status read_row_group(md_ctx *c, pl_pq_row_group *rg) {
    rg->total_compressed_size = rg->file_offset = -1;
    rg->ordinal = -1;
    FIELDS_BEGIN
    case 1: {
        void *list = NULL;
        PL_TRY(struct_list(c, ty, "columns", sizeof *rg->columns, INT32_MAX, NULL, NULL,
                           &list, &rg->n_columns));
        rg->columns = list;
        for (int32_t i = 0; i < rg->n_columns; i++) PL_TRY(read_column_chunk(c, &rg->columns[i]));
        break;
    }
    FIELD_I64(2, rg->total_byte_size);
    FIELD_I64(3, rg->num_rows);
    case 4: {
        void *list = NULL;
        PL_TRY(struct_list(c, ty, "sorting_columns", sizeof *rg->sorting_columns, INT32_MAX, NULL,
                           NULL, &list, &rg->n_sorting_columns));
        rg->sorting_columns = list;
        for (int32_t i = 0; i < rg->n_sorting_columns; i++)
            PL_TRY(read_sorting_column(c, &rg->sorting_columns[i]));
        break;
    }
    FIELD_I64(5, rg->file_offset);
    FIELD_I64(6, rg->total_compressed_size);
    case 7: {
        int64_t v = 0;
        PL_TRY(pl_pq_thrift_int(T, ty, &v, ERR));
        rg->ordinal = (int32_t)v;
        break;
    }
    FIELDS_END
    if (rg->num_rows < 0) return pl_pq_thrift_fail(T, ERR, "row group with negative row count");
    return PL_OK;
}

static pl_status read_kv(md_ctx *c, uint8_t lty, pl_pq_metadata *md) {
    uint8_t et = 0;
    int32_t n = 0;
    PL_TRY(pl_pq_thrift_list(T, lty, &et, &n, ERR));
    if (et != PL_PQ_T_STRUCT) return pl_pq_thrift_fail(T, ERR, "key_value_metadata is not structs");
    md->kv_keys = alloc_n(c, n, sizeof(char *));
    md->kv_values = alloc_n(c, n, sizeof(char *));
    if (!md->kv_keys || !md->kv_values) return nomem(c);
    md->n_kv = n;
    for (int32_t i = 0; i < n; i++) {
        md->kv_keys[i] = "";
        FIELDS_BEGIN
        FIELD_STR(1, md->kv_keys[i]);
        FIELD_STR(2, md->kv_values[i]);
        FIELDS_END
    }
    return PL_OK;
}

pl_status pl_pq_metadata_decode(const uint8_t *p, int64_t n, int64_t file_offset,
                                pl_pq_arena *arena, pl_pq_metadata *md, pl_error *err) {
    pl_pq_thrift t;
    pl_pq_thrift_init(&t, p, n, file_offset, "file metadata");
    md_ctx cc = {&t, arena, err}, *c = &cc;
    bool encrypted = false;
    FIELDS_BEGIN
    FIELD_I32(1, md->version);
    case 2: {
        void *list = NULL;
        PL_TRY(struct_list(c, ty, "schema", sizeof *md->schema, PL_PQ_MAX_SCHEMA_ELEMENTS, "schema",
                           "elements", &list, &md->n_schema));
        md->schema = list;
        for (int32_t i = 0; i < md->n_schema; i++) PL_TRY(read_schema_element(c, &md->schema[i]));
        break;
    }
    FIELD_I64(3, md->num_rows);
    case 4: {
        void *list = NULL;
        PL_TRY(struct_list(c, ty, "row_groups", sizeof *md->row_groups, PL_PQ_MAX_ROW_GROUPS, "file",
                           "row groups", &list, &md->n_row_groups));
        md->row_groups = list;
        for (int32_t i = 0; i < md->n_row_groups; i++)
            PL_TRY(read_row_group(c, &md->row_groups[i]));
        break;
    }
    FIELD_LIST(5, read_kv(c, ty, md));
    FIELD_STR(6, md->created_by);
    case 8:
        encrypted = true;
        PL_TRY(pl_pq_thrift_skip(T, ty, ERR));
        break;
    FIELDS_END
    if (encrypted)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "encrypted parquet files are not supported");
    if (md->n_schema == 0) PL_FAIL(err, PL_ERR_CORRUPT, "invalid file metadata: empty schema");
    return PL_OK;
}

/* ---------------------------------------------------------------- page headers */

static pl_status read_data_page_header(md_ctx *c, pl_pq_page_header *h) {
    h->has_data = true;
    FIELDS_BEGIN
    FIELD_I32(1, h->num_values);
    FIELD_I32(2, h->encoding);
    FIELD_I32(3, h->def_encoding);
    FIELD_I32(4, h->rep_encoding);
    case 5:
        WANT(PQ_W_STRUCT);
        PL_TRY(read_stats(c, &h->stats));
        h->has_stats = true;
        break;
    FIELDS_END
    return PL_OK;
}

static pl_status read_dict_page_header(md_ctx *c, pl_pq_page_header *h) {
    h->has_dict = true;
    FIELDS_BEGIN
    FIELD_I32(1, h->num_values);
    FIELD_I32(2, h->encoding);
    FIELDS_END
    return PL_OK;
}

static pl_status read_v2_page_header(md_ctx *c, pl_pq_page_header *h) {
    h->has_v2 = true;
    FIELDS_BEGIN
    FIELD_I32(1, h->num_values);
    FIELD_I32(2, h->num_nulls);
    FIELD_I32(3, h->num_rows);
    FIELD_I32(4, h->encoding);
    FIELD_I32(5, h->def_bytes);
    FIELD_I32(6, h->rep_bytes);
    FIELD_BOOL(7, h->is_compressed);
    case 8:
        WANT(PQ_W_STRUCT);
        PL_TRY(read_stats(c, &h->stats));
        h->has_stats = true;
        break;
    FIELDS_END
    return PL_OK;
}

pl_status pl_pq_page_header_decode(const uint8_t *p, int64_t n, int64_t file_offset,
                                   pl_pq_page_header *h, int64_t *header_len, pl_error *err) {
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->uncompressed_size = h->compressed_size = -1;
    h->is_compressed = true;
    if (n > PL_PQ_MAX_PAGE_HEADER_BYTES) n = PL_PQ_MAX_PAGE_HEADER_BYTES;
    pl_pq_thrift t;
    pl_pq_thrift_init(&t, p, n, file_offset, "page header");
    md_ctx cc = {&t, NULL, err}, *c = &cc;
    FIELDS_BEGIN
    FIELD_I32(1, h->type);
    FIELD_I32(2, h->uncompressed_size);
    FIELD_I32(3, h->compressed_size);
    FIELD_STRUCT(5, read_data_page_header(c, h));
    FIELD_STRUCT(7, read_dict_page_header(c, h));
    FIELD_STRUCT(8, read_v2_page_header(c, h));
    FIELDS_END
    if (h->uncompressed_size < 0 || h->compressed_size < 0)
        return pl_pq_thrift_fail(T, ERR, "missing or negative page size");
    if (h->num_values < 0 || h->num_nulls < 0 || h->def_bytes < 0 || h->rep_bytes < 0)
        return pl_pq_thrift_fail(T, ERR, "negative count in page header");
    *header_len = (int64_t)(t.p - p);
    return PL_OK;
}
