/* polaroid/parquet.h - Parquet file metadata, statistics and row-group reads.
 *
 * pl_pq_file_open reads and decodes a file's footer (schema, row groups, column chunks,
 * statistics, key/value metadata); pl_pq_file_metadata exposes it as plain structs that live
 * as long as the file handle (everything `polaroid schema` prints, and what predicate pruning
 * needs). pl_pq_read_row_group decodes one row group, optionally projected, into a pl_batch.
 * pl_pq_scan_open_ex is pl_scan_open for Parquet with Parquet-specific options.
 *
 * Type mapping (Parquet -> polaroid): BOOLEAN bool; INT32 int32 (INT(8|16|32, signed) ->
 * int8/16/32, unsigned -> uint8/16/32, DATE -> date32, TIME(MILLIS) -> time64[us],
 * DECIMAL -> decimal128); INT64 int64 (INT(64) -> int64/uint64, TIME(MICROS|NANOS) -> time64,
 * TIMESTAMP(unit, utc) -> timestamp[unit, "UTC" or naive], DECIMAL -> decimal128); INT96 ->
 * timestamp[us] naive (as DuckDB: nanoseconds would overflow for old dates); FLOAT float32; DOUBLE float64; BYTE_ARRAY STRING/ENUM/JSON -> utf8,
 * DECIMAL -> decimal128, else binary; FIXED_LEN_BYTE_ARRAY FLOAT16 -> float32, DECIMAL ->
 * decimal128, else fixed_binary[len] (UUID is fixed_binary[16]); GEOMETRY/GEOGRAPHY -> utf8
 * WKT text. Unknown logical types read as their physical type. Groups become structs,
 * LIST/repeated fields lists, MAP maps; VARIANT groups (binary or shredded) utf8 text as DuckDB
 * casts a VARIANT to VARCHAR. */
#ifndef POLAROID_PARQUET_H
#define POLAROID_PARQUET_H

#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- enums (Parquet's numbers) */

typedef enum pl_pq_physical {
    PL_PQ_BOOLEAN = 0,
    PL_PQ_INT32 = 1,
    PL_PQ_INT64 = 2,
    PL_PQ_INT96 = 3,
    PL_PQ_FLOAT = 4,
    PL_PQ_DOUBLE = 5,
    PL_PQ_BYTE_ARRAY = 6,
    PL_PQ_FIXED_LEN_BYTE_ARRAY = 7
} pl_pq_physical;

typedef enum pl_pq_repetition {
    PL_PQ_REQUIRED = 0,
    PL_PQ_OPTIONAL = 1,
    PL_PQ_REPEATED = 2
} pl_pq_repetition;

typedef enum pl_pq_encoding {
    PL_PQ_ENC_PLAIN = 0,
    PL_PQ_ENC_PLAIN_DICTIONARY = 2,
    PL_PQ_ENC_RLE = 3,
    PL_PQ_ENC_BIT_PACKED = 4,
    PL_PQ_ENC_DELTA_BINARY_PACKED = 5,
    PL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PL_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PL_PQ_ENC_RLE_DICTIONARY = 8,
    PL_PQ_ENC_BYTE_STREAM_SPLIT = 9
} pl_pq_encoding;

typedef enum pl_pq_page_type {
    PL_PQ_PAGE_DATA = 0,
    PL_PQ_PAGE_INDEX = 1,
    PL_PQ_PAGE_DICTIONARY = 2,
    PL_PQ_PAGE_DATA_V2 = 3
} pl_pq_page_type;

/* Parquet's CompressionCodec numbers (ColumnMetaData.codec). */
typedef enum pl_pq_codec_id {
    PL_PQ_CODEC_UNCOMPRESSED = 0,
    PL_PQ_CODEC_SNAPPY = 1,
    PL_PQ_CODEC_GZIP = 2,
    PL_PQ_CODEC_LZO = 3,
    PL_PQ_CODEC_BROTLI = 4,
    PL_PQ_CODEC_LZ4 = 5, /* the deprecated hadoop-framed LZ4 */
    PL_PQ_CODEC_ZSTD = 6,
    PL_PQ_CODEC_LZ4_RAW = 7
} pl_pq_codec_id;

typedef enum pl_pq_converted {
    PL_PQ_CT_NONE = -1,
    PL_PQ_CT_UTF8 = 0,
    PL_PQ_CT_MAP = 1,
    PL_PQ_CT_MAP_KEY_VALUE = 2,
    PL_PQ_CT_LIST = 3,
    PL_PQ_CT_ENUM = 4,
    PL_PQ_CT_DECIMAL = 5,
    PL_PQ_CT_DATE = 6,
    PL_PQ_CT_TIME_MILLIS = 7,
    PL_PQ_CT_TIME_MICROS = 8,
    PL_PQ_CT_TIMESTAMP_MILLIS = 9,
    PL_PQ_CT_TIMESTAMP_MICROS = 10,
    PL_PQ_CT_UINT_8 = 11,
    PL_PQ_CT_UINT_16 = 12,
    PL_PQ_CT_UINT_32 = 13,
    PL_PQ_CT_UINT_64 = 14,
    PL_PQ_CT_INT_8 = 15,
    PL_PQ_CT_INT_16 = 16,
    PL_PQ_CT_INT_32 = 17,
    PL_PQ_CT_INT_64 = 18,
    PL_PQ_CT_JSON = 19,
    PL_PQ_CT_BSON = 20,
    PL_PQ_CT_INTERVAL = 21
} pl_pq_converted;

/* LogicalType union members (field ids of parquet.thrift's LogicalType). */
typedef enum pl_pq_logical_kind {
    PL_PQ_LT_NONE = 0,
    PL_PQ_LT_STRING = 1,
    PL_PQ_LT_MAP = 2,
    PL_PQ_LT_LIST = 3,
    PL_PQ_LT_ENUM = 4,
    PL_PQ_LT_DECIMAL = 5,
    PL_PQ_LT_DATE = 6,
    PL_PQ_LT_TIME = 7,
    PL_PQ_LT_TIMESTAMP = 8,
    PL_PQ_LT_INTEGER = 10,
    PL_PQ_LT_NULL = 11,
    PL_PQ_LT_JSON = 12,
    PL_PQ_LT_BSON = 13,
    PL_PQ_LT_UUID = 14,
    PL_PQ_LT_FLOAT16 = 15,
    PL_PQ_LT_VARIANT = 16,
    PL_PQ_LT_GEOMETRY = 17,
    PL_PQ_LT_GEOGRAPHY = 18,
    PL_PQ_LT_UNKNOWN = 1000 /* a member this reader does not know */
} pl_pq_logical_kind;

/* ---------------------------------------------------------------- metadata */

typedef struct pl_pq_logical {
    pl_pq_logical_kind kind;
    int32_t scale, precision; /* DECIMAL */
    pl_time_unit unit;        /* TIME, TIMESTAMP: PL_UNIT_MS, _US or _NS */
    bool utc;                 /* TIME, TIMESTAMP: isAdjustedToUTC */
    int32_t bit_width;        /* INTEGER: 8, 16, 32, 64 */
    bool is_signed;           /* INTEGER */
} pl_pq_logical;

/* One SchemaElement, in the file's depth-first order (element 0 is the root). */
typedef struct pl_pq_schema_element {
    const char *name;
    int32_t physical;     /* pl_pq_physical, or -1 for groups */
    int32_t type_length;  /* FIXED_LEN_BYTE_ARRAY width; -1 unset */
    int32_t repetition;   /* pl_pq_repetition, or -1 unset (the root) */
    int32_t num_children; /* 0 for primitives */
    int32_t converted;    /* pl_pq_converted (PL_PQ_CT_NONE = -1) */
    int32_t scale, precision, field_id; /* -1 unset */
    pl_pq_logical logical;
} pl_pq_schema_element;

/* Column chunk statistics. min/max are the raw PLAIN-encoded bytes (for BYTE_ARRAY without the
 * length prefix); decode them with pl_pq_stats_value. */
typedef struct pl_pq_stats {
    bool has_min, has_max, has_null_count, has_distinct_count;
    bool min_exact, max_exact;
    bool legacy; /* min/max come from the deprecated min/max fields (signed byte order) */
    int64_t null_count, distinct_count;
    const uint8_t *min, *max;
    int32_t min_len, max_len;
} pl_pq_stats;

typedef struct pl_pq_encoding_stats {
    int32_t page_type; /* pl_pq_page_type */
    int32_t encoding;  /* pl_pq_encoding */
    int32_t count;
} pl_pq_encoding_stats;

typedef struct pl_pq_column_chunk {
    const char *path;      /* dotted path_in_schema ("a.list.element") */
    const char *file_path; /* NULL = this file */
    int32_t physical;      /* pl_pq_physical */
    int32_t codec_id;      /* pl_pq_codec_id as stored */
    pl_codec codec;        /* the polaroid codec (UNCOMPRESSED when unknown, see codec_id) */
    int32_t n_encodings;
    int32_t *encodings;    /* pl_pq_encoding values */
    int64_t num_values;    /* level entries (including nulls) */
    int64_t total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1 when absent */
    int64_t index_page_offset;      /* -1 when absent */
    int64_t offset_index_offset, column_index_offset, bloom_filter_offset; /* -1 absent */
    int32_t offset_index_length, column_index_length, bloom_filter_length; /* -1 absent */
    bool has_stats;
    pl_pq_stats stats;
    int32_t n_encoding_stats;
    pl_pq_encoding_stats *encoding_stats;
    bool encrypted; /* has crypto metadata (not readable without keys) */
    bool has_meta;  /* ColumnMetaData was present */
} pl_pq_column_chunk;

typedef struct pl_pq_sorting_column {
    int32_t column_idx;
    bool descending, nulls_first;
} pl_pq_sorting_column;

typedef struct pl_pq_row_group {
    int64_t num_rows, total_byte_size;
    int64_t total_compressed_size; /* -1 unset */
    int64_t file_offset;           /* -1 unset */
    int32_t ordinal;               /* -1 unset */
    int32_t n_columns;             /* == metadata n_leaves */
    pl_pq_column_chunk *columns;
    int32_t n_sorting_columns;
    pl_pq_sorting_column *sorting_columns;
} pl_pq_row_group;

/* A leaf (primitive) column of the schema. */
typedef struct pl_pq_leaf {
    const char *path;      /* dotted path */
    int32_t schema_index;  /* index into schema[] */
    int32_t field_index;   /* top-level field of the polaroid schema it belongs to */
    int32_t physical, type_length;
    int16_t max_def, max_rep;
    pl_type *type;         /* the polaroid type its values are decoded to (borrowed) */
} pl_pq_leaf;

typedef struct pl_pq_metadata {
    int32_t version;
    int64_t num_rows;
    const char *created_by; /* NULL when absent */
    int32_t n_kv;
    const char **kv_keys;
    const char **kv_values; /* an entry is NULL when the value is absent */
    int32_t n_schema;
    pl_pq_schema_element *schema;
    int32_t n_row_groups;
    pl_pq_row_group *row_groups;
    int32_t n_leaves;
    pl_pq_leaf *leaves;
    int64_t file_size, footer_bytes;
} pl_pq_metadata;

/* ---------------------------------------------------------------- files */

typedef struct pl_pq_file pl_pq_file;

/* Opens a file and decodes its footer. Errors: PL_ERR_NOT_FOUND, PL_ERR_IO, PL_ERR_CORRUPT
 * (not Parquet, bad footer), PL_ERR_UNSUPPORTED (encrypted files, schemas polaroid cannot
 * represent), PL_ERR_LIMIT, PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_pq_file_open(const char *path, pl_pq_file **out, pl_error *err);
/* Same over bytes in memory, which must outlive the handle; name is used in errors. */
PL_API PL_NODISCARD pl_status pl_pq_file_open_memory(const uint8_t *data, int64_t size,
                                                     const char *name, pl_pq_file **out,
                                                     pl_error *err);
PL_API void pl_pq_file_close(pl_pq_file *f);
/* Borrowed; valid until pl_pq_file_close. */
PL_API const pl_pq_metadata *pl_pq_file_metadata(const pl_pq_file *f);
/* The polaroid schema of the whole file (borrowed). */
PL_API pl_schema *pl_pq_file_schema(const pl_pq_file *f);

typedef struct pl_pq_read_opts {
    bool keep_dictionary; /* dictionary-encoded strings stay dictionary<int32, utf8> arrays
                             when the metadata shows dictionary encoding for every chunk
                             (encoding statistics with only dictionary data pages, or without
                             them a dictionary encoding in the chunk's encodings; values of a
                             fallback page are then appended to the dictionary); default false */
    int32_t n_threads;    /* 0 = the pool's size */
    int64_t max_rows;     /* read at most this many rows of the row group; -1 = all */
} pl_pq_read_opts;

PL_API void pl_pq_read_opts_init(pl_pq_read_opts *o);

/* Decodes row group rg with the top-level fields cols[0..n_cols) (indices into
 * pl_pq_file_schema; cols NULL = all) into a batch, columns decoded in parallel. Errors:
 * PL_ERR_INVALID_ARG (bad index), PL_ERR_CORRUPT, PL_ERR_UNSUPPORTED, PL_ERR_IO, PL_ERR_NOMEM;
 * err names the file, row group, column and byte offset where known. */
PL_API PL_NODISCARD pl_status pl_pq_read_row_group(pl_pq_file *f, int32_t rg, int32_t n_cols,
                                                   const int32_t *cols, const pl_pq_read_opts *o,
                                                   pl_batch **out, pl_error *err);

/* pl_scan_open for Parquet files (already glob-expanded) with Parquet options (pq may be NULL).
 * One batch per row group, large row groups split into batches of at most opts->batch_rows
 * (default 1Mi) rows. Errors as pl_scan_open. */
PL_API PL_NODISCARD pl_status pl_pq_scan_open_ex(int32_t n_paths, const char *const *paths,
                                                 const pl_read_opts *opts,
                                                 const pl_pq_read_opts *pq, pl_stream **out,
                                                 pl_error *err);

/* ---------------------------------------------------------------- statistics */

typedef enum pl_pq_value_kind {
    PL_PQ_VALUE_NONE = 0,
    PL_PQ_VALUE_BOOL,
    PL_PQ_VALUE_INT,     /* i: integers, dates (days), times and timestamps in the leaf's unit */
    PL_PQ_VALUE_UINT,    /* u */
    PL_PQ_VALUE_DOUBLE,  /* d: float, double, float16 */
    PL_PQ_VALUE_DECIMAL, /* dec_lo/dec_hi: 128-bit two's complement, scale of the leaf type */
    PL_PQ_VALUE_BYTES    /* bytes/len: strings, binary, fixed binary (borrowed) */
} pl_pq_value_kind;

typedef struct pl_pq_value {
    pl_pq_value_kind kind;
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    uint64_t dec_lo;
    int64_t dec_hi;
    const uint8_t *bytes;
    int32_t len;
} pl_pq_value;

/* Decodes the min (want_max false) or max statistic of chunk `leaf` into a value typed like
 * md->leaves[leaf].type. Returns false (kind NONE) when the statistic is absent or
 * malformed. */
PL_API bool pl_pq_stats_value(const pl_pq_metadata *md, int32_t leaf, const pl_pq_stats *st,
                              bool want_max, pl_pq_value *out);
/* Renders a value for display ("12", "3.5", "\"abc\"", "2024-01-02", decimals with scale);
 * returns buf. */
PL_API const char *pl_pq_value_format(const pl_pq_metadata *md, int32_t leaf,
                                      const pl_pq_value *v, char *buf, size_t buf_size);

/* Names for display: "INT32", "RLE_DICTIONARY", "DATA_PAGE_V2", "ZSTD", "UTF8", "REQUIRED";
 * "UNKNOWN(n)" style names are not produced: unknown values give "UNKNOWN". */
PL_API const char *pl_pq_physical_name(int32_t physical);
PL_API const char *pl_pq_encoding_name(int32_t encoding);
PL_API const char *pl_pq_page_type_name(int32_t page_type);
PL_API const char *pl_pq_codec_name(int32_t codec_id);
PL_API const char *pl_pq_converted_name(int32_t converted);
PL_API const char *pl_pq_repetition_name(int32_t repetition);
/* "STRING", "DECIMAL(10,2)", "TIMESTAMP(MICROS,UTC)", "INTEGER(8,unsigned)", "" for none. */
PL_API const char *pl_pq_logical_format(const pl_pq_logical *lt, char *buf, size_t buf_size);

#ifdef __cplusplus
}
#endif
#endif
