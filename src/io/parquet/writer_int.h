/* writer_int.h - internals shared by the Parquet writer's files:
 *   writer.c         pl_pq_writer_open: batches -> row groups -> file, footer
 *   writer_schema.c  polaroid schema -> Parquet schema elements and leaf column descriptors
 *   writer_shred.c   nested arrays -> repetition/definition levels + dense physical values
 *   writer_encode.c  RLE/bit-packed hybrid, PLAIN, dictionary building, statistics, pages
 *   writer_meta.c    Thrift encoding of page headers and the file footer
 * Nothing here is used outside src/io/parquet/writer*.c. Parquet enum values are those of
 * parquet.thrift, prefixed PL_PQW_ so they cannot clash with the reader's definitions. */
#ifndef PL_PQ_WRITER_INT_H
#define PL_PQ_WRITER_INT_H

#include "core/core.h"
#include "io/codecs/codec.h"
#include "polaroid/io.h"
#include "thrift_write.h"

/* physical types */
#define PL_PQW_BOOLEAN 0
#define PL_PQW_INT32 1
#define PL_PQW_INT64 2
#define PL_PQW_FLOAT 4
#define PL_PQW_DOUBLE 5
#define PL_PQW_BYTE_ARRAY 6
#define PL_PQW_FLBA 7
/* repetition */
#define PL_PQW_REQUIRED 0
#define PL_PQW_OPTIONAL 1
#define PL_PQW_REPEATED 2
/* converted types */
#define PL_PQW_CT_NONE (-1)
#define PL_PQW_CT_UTF8 0
#define PL_PQW_CT_MAP 1
#define PL_PQW_CT_LIST 3
#define PL_PQW_CT_DECIMAL 5
#define PL_PQW_CT_DATE 6
#define PL_PQW_CT_TIME_MILLIS 7
#define PL_PQW_CT_TIME_MICROS 8
#define PL_PQW_CT_TIMESTAMP_MILLIS 9
#define PL_PQW_CT_TIMESTAMP_MICROS 10
#define PL_PQW_CT_UINT_8 11
#define PL_PQW_CT_INT_8 15
#define PL_PQW_CT_JSON 19
/* logical type union members (field ids of LogicalType) */
#define PL_PQW_LT_NONE 0
#define PL_PQW_LT_STRING 1
#define PL_PQW_LT_MAP 2
#define PL_PQW_LT_LIST 3
#define PL_PQW_LT_DECIMAL 5
#define PL_PQW_LT_DATE 6
#define PL_PQW_LT_TIME 7
#define PL_PQW_LT_TIMESTAMP 8
#define PL_PQW_LT_INTEGER 10
#define PL_PQW_LT_UNKNOWN 11
#define PL_PQW_LT_JSON 12
/* TimeUnit union members */
#define PL_PQW_UNIT_MILLIS 1
#define PL_PQW_UNIT_MICROS 2
#define PL_PQW_UNIT_NANOS 3
/* encodings */
#define PL_PQW_ENC_PLAIN 0
#define PL_PQW_ENC_RLE 3
#define PL_PQW_ENC_RLE_DICTIONARY 8
/* page types */
#define PL_PQW_PAGE_DATA 0
#define PL_PQW_PAGE_DICTIONARY 2

/* writer defaults and bounds */
#define PL_PQW_DEFAULT_ROW_GROUP_ROWS (1LL << 20)
#define PL_PQW_DEFAULT_PAGE_BYTES (1LL << 20)
#define PL_PQW_DEFAULT_DICT_MAX_BYTES (1LL << 20)
#define PL_PQW_MAX_PAGE_LEVELS (1LL << 20)   /* level entries in one data page */
#define PL_PQW_MAX_STAT_BYTES 4096           /* longer binary min/max are not written */
#define PL_PQW_CREATED_BY "polaroid version 0.1.0"
#define PL_PQW_ARROW_SCHEMA_KEY "ARROW:schema"

/* ---------------------------------------------------------------- byte vector */

typedef struct pl_pqw_vec {
    uint8_t *data; /* pl_malloc'd */
    int64_t len, cap;
} pl_pqw_vec;

pl_status pl_pqw_vec_reserve(pl_pqw_vec *v, int64_t extra, pl_error *err);
pl_status pl_pqw_vec_append(pl_pqw_vec *v, const void *p, int64_t n, pl_error *err);
void pl_pqw_vec_free(pl_pqw_vec *v);

/* ---------------------------------------------------------------- schema */

typedef struct pl_pqw_elem {
    const char *name; /* borrowed from the writer's schema, or a static string */
    int32_t physical; /* -1 for groups */
    int32_t type_length;
    int32_t repetition;
    int32_t num_children; /* groups */
    int32_t converted;    /* PL_PQW_CT_NONE = not set */
    int32_t scale, precision;
    int32_t logical; /* PL_PQW_LT_* */
    int32_t lt_unit; /* TIME/TIMESTAMP */
    bool lt_utc;
    int8_t lt_bits;
    bool lt_signed;
} pl_pqw_elem;

/* One nested level between a top-level column and a leaf. */
typedef enum pl_pqw_step_kind { PL_PQW_STEP_STRUCT, PL_PQW_STEP_LIST } pl_pqw_step_kind;
typedef struct pl_pqw_step {
    pl_pqw_step_kind kind;
    bool nullable;     /* this node is OPTIONAL (adds one definition level) */
    int32_t child;     /* STRUCT: which child; LIST: 0 */
    int16_t rep_level; /* LIST: the repetition level of its repeated group */
} pl_pqw_step;

/* How leaf values become physical values. */
typedef enum pl_pqw_conv {
    PL_PQW_CONV_NONE,      /* NA: no values */
    PL_PQW_CONV_BOOL,      /* bits -> one byte per value */
    PL_PQW_CONV_COPY,      /* same width (value_width bytes) */
    PL_PQW_CONV_I8_I32,
    PL_PQW_CONV_I16_I32,
    PL_PQW_CONV_U8_I32,
    PL_PQW_CONV_U16_I32,
    PL_PQW_CONV_I64_MUL,   /* int64 * mul (timestamp seconds -> millis) */
    PL_PQW_CONV_I64_I32_MUL, /* int64 * mul -> int32 (time64 s/ms -> millis) */
    PL_PQW_CONV_DEC_I32,   /* decimal128 low 32 bits */
    PL_PQW_CONV_DEC_I64,   /* decimal128 low 64 bits */
    PL_PQW_CONV_DEC_FLBA,  /* decimal128 -> big-endian, value_width bytes */
    PL_PQW_CONV_BYTES      /* utf8/binary -> (pointer, length) */
} pl_pqw_conv;

/* Statistics ordering. */
typedef enum pl_pqw_order {
    PL_PQW_ORDER_NONE,
    PL_PQW_ORDER_SIGNED,   /* ints, bool (false < true), decimal */
    PL_PQW_ORDER_UNSIGNED, /* unsigned ints, byte arrays (lexicographic) */
    PL_PQW_ORDER_FLOAT     /* NaN excluded */
} pl_pqw_order;

typedef struct pl_pqw_leaf {
    int32_t field;       /* top-level column */
    int32_t n_steps;
    pl_pqw_step *steps;  /* n_steps, pl_malloc'd */
    bool nullable;       /* the leaf node itself is OPTIONAL */
    int16_t max_def, max_rep;
    const pl_type *type; /* the leaf's value type (dictionary: its value type) */
    int32_t physical, type_length;
    pl_pqw_conv conv;
    int32_t value_width; /* bytes per dense value (BOOL: 1); 0 for BYTE_ARRAY/NA */
    int64_t mul;         /* PL_PQW_CONV_*_MUL */
    pl_pqw_order order;
    bool signed_flba;    /* decimal as FLBA: two's complement big-endian */
    int32_t n_path;
    const char **path;   /* path_in_schema; names borrowed */
    char *dotted;        /* "a.list.element" for messages, pl_malloc'd */
} pl_pqw_leaf;

typedef struct pl_pqw_schema {
    int32_t n_elems;
    pl_pqw_elem *elems; /* depth-first, root first */
    int32_t n_leaves;
    pl_pqw_leaf *leaves;
} pl_pqw_schema;

/* Maps a polaroid schema (borrowed; must outlive the result). Errors: PL_ERR_UNSUPPORTED (a
 * type Parquet cannot hold), PL_ERR_LIMIT (nesting deeper than PL_PQ_MAX_NESTING),
 * PL_ERR_NOMEM. */
pl_status pl_pqw_schema_build(const pl_schema *schema, pl_pqw_schema *out, pl_error *err);
void pl_pqw_schema_free(pl_pqw_schema *s);

/* ---------------------------------------------------------------- shredding */

typedef struct pl_pqw_bytes {
    const uint8_t *ptr;
    int64_t len;
} pl_pqw_bytes;

/* One leaf column's levels and dense (non-null) physical values for a row group. */
typedef struct pl_pqw_shred {
    uint16_t *def, *rep; /* rep is used only when max_rep > 0 */
    int64_t n_levels, cap_levels, cap_rep;
    uint8_t *fixed;      /* n_values * value_width bytes */
    pl_pqw_bytes *var;   /* BYTE_ARRAY: n_values refs into the source arrays */
    int64_t n_values, cap_var, cap_fixed_bytes;
    int64_t null_count;  /* leaf-level entries with def < max_def */
    int32_t n_held;      /* decoded dictionary arrays kept alive for `var` */
    pl_array **held;
    const pl_array *last_src; /* cache: dictionary array last decoded ... */
    pl_array *last_decoded;   /* ... and its plain version (also in held) */
} pl_pqw_shred;

/* Appends rows [offset, offset+length) of top-level column `col` for one leaf. Errors:
 * PL_ERR_INVALID_ARG (nulls in a non-nullable field), PL_ERR_TYPE, PL_ERR_NOMEM. */
pl_status pl_pqw_shred_append(pl_pqw_shred *s, const pl_pqw_leaf *leaf, pl_array *col,
                              int64_t offset, int64_t length, pl_error *err);
/* Empties s for the next chunk, keeping its buffers; releases held arrays. */
void pl_pqw_shred_reset(pl_pqw_shred *s);
void pl_pqw_shred_free(pl_pqw_shred *s);

/* ---------------------------------------------------------------- encoding */

/* Options resolved from pl_write_opts. */
typedef struct pl_pqw_opts {
    pl_codec codec;
    int32_t pq_codec; /* parquet CompressionCodec */
    int32_t level;
    int64_t row_group_rows, page_bytes, dict_max_bytes;
    bool use_dictionary, write_statistics;
    int32_t n_threads;
} pl_pqw_opts;

/* One encoded column chunk. Offsets are relative to the chunk start until the writer places
 * it in the file. */
typedef struct pl_pqw_chunk {
    pl_pqw_vec bytes; /* pages, freed once written */
    int64_t dict_page_offset; /* -1 = none */
    int64_t data_page_offset;
    int64_t total_uncompressed, total_compressed;
    int64_t num_values;
    bool has_dict, has_plain;
    /* statistics (PLAIN-encoded values) */
    bool has_min_max;
    pl_pqw_vec min, max;
    int64_t null_count;
    int64_t distinct_count; /* -1 = not known */
} pl_pqw_chunk;

/* A chunk's dictionary: open-addressing table plus entries. Buffers are kept between chunks. */
typedef struct pl_pqw_dict {
    uint32_t *slots; /* entry + 1; 0 = empty */
    int64_t cap_slots, mask;
    int64_t n;
    int64_t plain_bytes; /* PLAIN size of the dictionary page */
    pl_pqw_vec fixed;    /* fixed-width entries, value_width bytes each */
    pl_pqw_bytes *var;   /* BYTE_ARRAY entries (referencing the source arrays) */
    uint64_t *var_hash;
    int64_t cap_var;
    uint32_t *idx; /* one index per dense value */
    int64_t cap_idx;
    uint8_t *slot_mem; /* 4/8-byte values: slots holding key and entry together */
    int64_t cap_slot_bytes;
} pl_pqw_dict;

/* Per-worker buffers reused from chunk to chunk and row group to row group, so large blocks are
 * faulted in once rather than once per column chunk. */
typedef struct pl_pqw_scratch {
    pl_pqw_shred shred;
    pl_pqw_dict dict;
    pl_pqw_vec page, comp; /* one page body, uncompressed and compressed */
    pl_thrift_enc hdr;
} pl_pqw_scratch;

void pl_pqw_scratch_free(pl_pqw_scratch *s);

/* Encodes a shredded leaf column into pages appended to out->bytes (whose buffer, if any, is
 * reused; other fields are reset). Errors: PL_ERR_NOMEM, PL_ERR_LIMIT, PL_ERR_INTERNAL (codec
 * failure). */
pl_status pl_pqw_encode_chunk(const pl_pqw_leaf *leaf, const pl_pqw_shred *s,
                              const pl_pqw_opts *opts, pl_pqw_scratch *scr, pl_pqw_chunk *out,
                              pl_error *err);
void pl_pqw_chunk_free(pl_pqw_chunk *c);

/* RLE/bit-packed hybrid of n values of bit_width bits (no length prefix). */
pl_status pl_pqw_rle_u16(pl_pqw_vec *out, const uint16_t *v, int64_t n, int bit_width,
                         pl_error *err);
pl_status pl_pqw_rle_u32(pl_pqw_vec *out, const uint32_t *v, int64_t n, int bit_width,
                         pl_error *err);

/* ---------------------------------------------------------------- metadata */

typedef struct pl_pqw_row_group {
    int64_t n_rows, file_offset, total_byte_size, total_compressed;
    pl_pqw_chunk *chunks; /* one per leaf, bytes already freed */
} pl_pqw_row_group;

/* Encodes a data or dictionary page header. */
void pl_pqw_meta_page_header(pl_thrift_enc *e, int32_t page_type, int32_t uncompressed,
                             int32_t compressed, int32_t num_values, int32_t encoding,
                             bool has_def_rep);
/* Encodes FileMetaData. arrow_schema (may be NULL) is stored as "ARROW:schema" in the key/value
 * metadata, replacing one the schema's metadata may carry. */
void pl_pqw_meta_footer(pl_thrift_enc *e, const pl_schema *schema, const pl_pqw_schema *s,
                        const pl_pqw_opts *opts, int64_t n_rows, int64_t n_row_groups,
                        const pl_pqw_row_group *rgs, const char *arrow_schema);
/* The Arrow schema as pyarrow stores it in Parquet files: the base64 of the IPC-encapsulated
 * Schema message (*out, a pl_malloc'd string; NULL when the IPC writer cannot express the
 * schema). Readers that know it (pyarrow, Polars) restore types Parquet cannot express
 * (dictionaries, the null type, time zone names, list item names). Errors: PL_ERR_NOMEM. */
pl_status pl_pqw_arrow_schema(pl_schema *schema, char **out, pl_error *err);

#endif
