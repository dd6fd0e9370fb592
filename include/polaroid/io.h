/* polaroid/io.h - batch streams and the format-independent read/write entry points.
 *
 * Every reader produces a pl_stream: a pull-based stream of record batches with a fixed
 * schema, so results can be consumed batch by batch with bounded memory ("collect into a
 * table" is one consumer). Every writer consumes batches through pl_writer. The per-format
 * headers (parquet.h, csv.h, ipc.h, json.h) add format-specific options and calls. */
#ifndef POLAROID_IO_H
#define POLAROID_IO_H

#include "columnar.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- streams */

typedef struct pl_stream pl_stream;
struct pl_stream {
    /* Next batch into *out, or *out = NULL at the end. Batches have the stream's schema. */
    pl_status (*next)(pl_stream *s, pl_batch **out, pl_error *err);
    void (*free)(pl_stream *s); /* releases everything the stream holds, and s itself */
    pl_schema *schema;          /* owned by the stream */
    void *impl;
};

PL_API PL_NODISCARD pl_status pl_stream_next(pl_stream *s, pl_batch **out, pl_error *err);
PL_API void pl_stream_free(pl_stream *s);
/* Drains the stream into a table. */
PL_API PL_NODISCARD pl_status pl_stream_collect(pl_stream *s, pl_table **out, pl_error *err);
/* A stream over an existing table's batches (the table is retained). */
PL_API PL_NODISCARD pl_status pl_stream_from_table(pl_table *t, pl_stream **out, pl_error *err);

/* ---------------------------------------------------------------- formats */

typedef enum pl_format {
    PL_FORMAT_AUTO = 0, /* from the file extension */
    PL_FORMAT_PARQUET,
    PL_FORMAT_CSV,
    PL_FORMAT_JSON,  /* JSON: written as JSON lines; read as newline-delimited or an array */
    PL_FORMAT_IPC,   /* Arrow IPC stream (.arrow, .arrows, .ipc) */
    PL_FORMAT_TABLE, /* a human-readable text table (writer only) */
} pl_format;

/* Format from a path's extension (".parquet", ".csv", ".tsv", ".json", ".jsonl", ".ndjson",
 * ".arrow", ".arrows", ".ipc", ".feather"); PL_FORMAT_AUTO if unknown. */
PL_API pl_format pl_format_from_path(const char *path);
/* Format from a name ("parquet", "csv", "json", "arrow"/"ipc", "table"); PL_FORMAT_AUTO if
 * unknown. */
PL_API pl_format pl_format_from_name(const char *name);

/* ---------------------------------------------------------------- reading */

typedef struct pl_read_opts {
    const char *const *columns; /* project to these columns, in this order; NULL = all */
    int32_t n_columns;
    int64_t limit;              /* at most this many rows; -1 = all */
    int32_t n_threads;          /* 0 = the pool's size */
    int64_t batch_rows;         /* preferred rows per batch; 0 = format default */
    /* Parquet: only these row groups (indices into each file's row groups); NULL = all. */
    const int32_t *row_groups;
    int32_t n_row_groups;
    /* Parquet: dictionary-encoded columns stay dictionary arrays in memory (like a categorical)
     * when every file encodes them with a dictionary; set this to decode them to plain arrays. */
    bool decode_dictionary;
    /* CSV */
    char csv_delimiter;         /* 0 = sniffed (',' '|' ';' tab; tab for .tsv) */
    char csv_quote;             /* 0 = '"' */
    int32_t csv_header;         /* -1 = sniffed like DuckDB (the first row is a header when one
                                 * of its values does not fit its column's type, or when every
                                 * column is text), 0 = no header, 1 = header */
    const char *const *csv_null_values; /* strings read as NULL; NULL = {""} */
    int32_t n_csv_null_values;
    int64_t csv_sample_rows;    /* rows used for type inference; 0 = default */
    int64_t csv_skip_rows;      /* lines skipped at the start of each file, before the header */
    bool csv_all_varchar;       /* every column not given a type explicitly is utf8 */
    /* Explicit column types (override inference), matched by name. */
    const char *const *csv_type_names;
    pl_type *const *csv_types;
    int32_t n_csv_types;
    /* Every column's name and type, in file order (no name or type inference; the file must
     * have exactly this many columns); NULL = from the header and the sample. */
    const char *const *csv_column_names;
    pl_type *const *csv_column_types;
    int32_t n_csv_columns;
    bool csv_ignore_errors;     /* skip rows that do not parse (wrong field count, a value not
                                 * of its column's type, a bad quote) instead of failing */
    bool csv_allow_quoted_nulls; /* a quoted field equal to a null string is NULL too (DuckDB's
                                  * default: its `""` is NULL); false: `""` is the empty string */
    const char *csv_filename;   /* add a text column of this name holding each row's file path;
                                 * NULL = none */
    /* strptime formats (DuckDB's specifiers) of DATE / TIMESTAMP values: inference and explicit
     * DATE / TIMESTAMP columns read values by them instead of the ISO forms; NULL = ISO */
    const char *csv_date_format;
    const char *csv_timestamp_format;
    /* JSON */
    int32_t json_format;        /* PL_JSON_AUTO (0), PL_JSON_NEWLINE_DELIMITED, PL_JSON_ARRAY */
    int32_t json_records;       /* -1 = auto (objects become columns), 0 = one column "json",
                                 * 1 = every value must be an object */
    int64_t json_sample_rows;   /* values used for type inference; 0 = default (20480) */
    /* The columns and their types (no inference; other keys are skipped); NULL = infer. */
    const char *const *json_column_names;
    pl_type *const *json_column_types;
    int32_t n_json_columns;
} pl_read_opts;

enum { PL_JSON_AUTO = 0, PL_JSON_NEWLINE_DELIMITED = 1, PL_JSON_ARRAY = 2 };

PL_API void pl_read_opts_init(pl_read_opts *o);

/* Opens one or more files (each path may be a glob such as "data/part-*.parquet") of one
 * format as one stream. Schemas of all files must agree. Errors: PL_ERR_NOT_FOUND (no file
 * matches), PL_ERR_IO, PL_ERR_CORRUPT, PL_ERR_UNSUPPORTED, PL_ERR_TYPE (schemas differ). */
PL_API PL_NODISCARD pl_status pl_scan_open(int32_t n_paths, const char *const *paths,
                                           pl_format format, const pl_read_opts *opts,
                                           pl_stream **out, pl_error *err);
/* pl_scan_open + pl_stream_collect. */
PL_API PL_NODISCARD pl_status pl_read_table(int32_t n_paths, const char *const *paths,
                                            pl_format format, const pl_read_opts *opts,
                                            pl_table **out, pl_error *err);
/* Expands globs (sorted matches; a path without wildcards is kept as it is). The caller frees
 * each string and the vector with pl_free. Errors: PL_ERR_NOT_FOUND when a glob matches nothing. */
PL_API PL_NODISCARD pl_status pl_glob_expand(int32_t n_paths, const char *const *paths,
                                             char ***out_paths, int32_t *out_n, pl_error *err);

/* ---------------------------------------------------------------- writing */

typedef enum pl_codec {
    PL_CODEC_UNCOMPRESSED = 0,
    PL_CODEC_SNAPPY,
    PL_CODEC_GZIP,
    PL_CODEC_LZ4_RAW,   /* raw LZ4 block */
    PL_CODEC_LZ4_FRAME, /* LZ4 frame format (Arrow IPC) */
    PL_CODEC_LZ4_HADOOP,/* Parquet's deprecated LZ4 with hadoop framing (read only) */
    PL_CODEC_ZSTD,
    PL_CODEC_BROTLI,
    PL_CODEC_DEFAULT, /* the format's default: zstd for Parquet, uncompressed for Arrow IPC */
} pl_codec;

typedef struct pl_write_opts {
    pl_codec codec;            /* PL_CODEC_DEFAULT (the init value): the format's default */
    int32_t codec_level;       /* 0 = codec default */
    int64_t row_group_rows;    /* Parquet: rows per row group; 0 = default (1Mi rows) */
    int64_t page_bytes;        /* Parquet: target data page size; 0 = default (1 MiB) */
    int64_t dict_max_bytes;    /* Parquet: dictionary size before falling back to PLAIN */
    bool use_dictionary;       /* Parquet: default true */
    bool write_statistics;     /* Parquet: default true */
    int32_t n_threads;         /* 0 = the pool's size */
    /* CSV */
    char csv_delimiter;        /* 0 = ',' */
    bool csv_header;           /* default true */
    /* TABLE */
    int32_t table_max_width;   /* 0 = terminal width or 120 */
    int64_t table_max_rows;    /* rows shown before eliding the middle; 0 = 40, -1 = all */
} pl_write_opts;

PL_API void pl_write_opts_init(pl_write_opts *o);

/* A writer of one output file (or FILE* stream) in one format. */
typedef struct pl_writer pl_writer;
struct pl_writer {
    pl_status (*write)(pl_writer *w, pl_batch *b, pl_error *err);
    pl_status (*finish)(pl_writer *w, pl_error *err); /* flushes footers; then only free */
    void (*free)(pl_writer *w);
    void *impl;
};

/* Opens a writer. path NULL or "-" writes to stdout. format AUTO takes it from path.
 * Errors: PL_ERR_IO, PL_ERR_INVALID_ARG, PL_ERR_UNSUPPORTED (type not writable in the format). */
PL_API PL_NODISCARD pl_status pl_writer_open(const char *path, pl_format format,
                                             pl_schema *schema, const pl_write_opts *opts,
                                             pl_writer **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_writer_write(pl_writer *w, pl_batch *b, pl_error *err);
PL_API PL_NODISCARD pl_status pl_writer_finish(pl_writer *w, pl_error *err);
PL_API void pl_writer_free(pl_writer *w);
/* Writes a whole stream (then finishes the writer). */
PL_API PL_NODISCARD pl_status pl_write_stream(pl_stream *s, const char *path, pl_format format,
                                              const pl_write_opts *opts, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
