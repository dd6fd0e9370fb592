/* polaroid/columnar.h - Arrow-compatible columnar memory: buffers, types, arrays, batches, tables.
 *
 * Layout follows the Arrow columnar format so that export through the Arrow C Data Interface
 * never copies:
 *   - pl_buf: 64-byte aligned, atomically refcounted bytes; immutable once shared.
 *   - pl_type: an immutable, refcounted type tree (nested types hold child fields).
 *   - pl_array: one column chunk: validity bitmap (LSB first, 1 = valid) + buffers as Arrow:
 *       BOOL                 values = bits
 *       fixed width          values = packed values (DECIMAL128: 16-byte little-endian two's
 *                            complement; FIXED_BINARY: byte_width bytes per value)
 *       UTF8/BINARY          values = int32 offsets [length+1], data = bytes
 *       LIST/MAP             values = int32 offsets [length+1], children[0] = the items
 *                            (MAP: children[0] is STRUCT<key, value>)
 *       STRUCT               children[i] = field i (same logical length as the struct)
 *       DICTIONARY           values = indices (type->index_id), dictionary = the values array
 *     `offset` is in elements and applies to validity and values, as in Arrow; children are
 *     addressed through the parent's offsets (LIST) or `offset` (STRUCT children start at
 *     parent offset, as in Arrow).
 *   - pl_batch: a schema and equally long columns. pl_table: a schema and a list of batches.
 * Arrays, batches and tables are refcounted and immutable once published; a slice is a new
 * view that retains the same buffers. */
#ifndef POLAROID_COLUMNAR_H
#define POLAROID_COLUMNAR_H

#include <stdbool.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- allocation */

/* All library memory goes through these. Counters of live and peak bytes are kept for
 * benchmarks. pl_alloc_fail_after(n) makes the n-th next allocation (0 = the next) and all
 * after it fail, for OOM tests; pass -1 to switch failing off. */
PL_API void *pl_malloc(size_t n_bytes);
PL_API void *pl_calloc(size_t n, size_t size);
PL_API void *pl_realloc(void *p, size_t n_bytes);
PL_API void pl_free(void *p);
PL_API char *pl_strdup(const char *s);
/* 64-byte aligned memory for column data; blocks of 1 MiB and more are mapped in size classes
 * and, once freed, kept for reuse (up to 512 MiB in all) so that batch after batch of column
 * buffers does not fault fresh pages in. Free with pl_aligned_free passing the same size. The
 * memory is not zeroed. */
PL_API void *pl_aligned_alloc(size_t n_bytes);
PL_API void pl_aligned_free(void *p, size_t n_bytes);
PL_API int64_t pl_alloc_live_bytes(void);
PL_API int64_t pl_alloc_peak_bytes(void);
PL_API void pl_alloc_fail_after(int64_t n);
/* Bytes held by the cache of freed blocks, and a call that returns them to the OS (a server
 * under memory pressure, a program about to idle). */
PL_API int64_t pl_alloc_cache_bytes(void);
PL_API void pl_alloc_cache_release(void);

/* ---------------------------------------------------------------- buffers */

#define PL_BUF_ALIGN 64

typedef struct pl_buf pl_buf;
struct pl_buf {
    uint8_t *data;    /* PL_BUF_ALIGN-aligned when owned */
    int64_t size;     /* bytes in use */
    int64_t capacity; /* bytes allocated (multiple of 64 when owned) */
    int64_t refcount; /* atomic; touch only through retain/release */
    /* Foreign memory (mmap, another library): called once on the last release. */
    void (*release_fn)(pl_buf *buf);
    void *owner;
};

/* New owned buffer with room for at least capacity bytes, size 0. Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_buf_new(int64_t capacity, pl_buf **out, pl_error *err);
/* Same, with size = capacity and all bytes zero. */
PL_API PL_NODISCARD pl_status pl_buf_new_zeroed(int64_t size, pl_buf **out, pl_error *err);
/* Wraps foreign memory; release_fn(buf) is called on the last release, then buf is freed. */
PL_API PL_NODISCARD pl_status pl_buf_wrap(uint8_t *data, int64_t size, void (*release_fn)(pl_buf *),
                                          void *owner, pl_buf **out, pl_error *err);
/* Grows capacity to at least min_capacity (refcount must be 1, owned). Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_buf_reserve(pl_buf *buf, int64_t min_capacity, pl_error *err);
/* Appends n bytes (growing geometrically). Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_buf_append(pl_buf *buf, const void *bytes, int64_t n,
                                            pl_error *err);
PL_API pl_buf *pl_buf_retain(pl_buf *buf);
PL_API void pl_buf_release(pl_buf *buf);

/* ---------------------------------------------------------------- bitmaps */

static inline bool pl_bit_get(const uint8_t *bits, int64_t i) {
    return (bits[i >> 3] >> (i & 7)) & 1;
}
static inline void pl_bit_set(uint8_t *bits, int64_t i) { bits[i >> 3] |= (uint8_t)(1u << (i & 7)); }
static inline void pl_bit_clear(uint8_t *bits, int64_t i) {
    bits[i >> 3] &= (uint8_t)~(1u << (i & 7));
}
static inline void pl_bit_put(uint8_t *bits, int64_t i, bool v) {
    bits[i >> 3] = (uint8_t)((bits[i >> 3] & ~(1u << (i & 7))) | ((unsigned)v << (i & 7)));
}
/* Number of set bits in bits[offset, offset+length). */
PL_API int64_t pl_bitmap_count(const uint8_t *bits, int64_t offset, int64_t length);

/* ---------------------------------------------------------------- types */

typedef enum pl_type_id {
    PL_TYPE_NA = 0, /* the null type: every value is NULL, no buffers */
    PL_TYPE_BOOL,
    PL_TYPE_INT8,
    PL_TYPE_INT16,
    PL_TYPE_INT32,
    PL_TYPE_INT64,
    PL_TYPE_UINT8,
    PL_TYPE_UINT16,
    PL_TYPE_UINT32,
    PL_TYPE_UINT64,
    PL_TYPE_FLOAT32,
    PL_TYPE_FLOAT64,
    PL_TYPE_DECIMAL128, /* precision 1..38, scale */
    PL_TYPE_UTF8,
    PL_TYPE_BINARY,
    PL_TYPE_FIXED_BINARY, /* byte_width */
    PL_TYPE_DATE32,       /* days since 1970-01-01 */
    PL_TYPE_TIME64,       /* since midnight, unit US or NS, int64 */
    PL_TYPE_TIMESTAMP,    /* since the epoch, int64 with unit; tz NULL = naive (local) */
    PL_TYPE_DICTIONARY,   /* index_id (INT8..INT32, UINT*) into value_type */
    PL_TYPE_LIST,         /* children[0] = item field */
    PL_TYPE_STRUCT,       /* children = fields */
    PL_TYPE_MAP,          /* children[0] = "entries": STRUCT<key (non-null), value> */
    PL_TYPE_INTERVAL,     /* Arrow month_day_nano: int32 months, int32 days, int64 ns (16 bytes);
                           * expression values only so far (no I/O) */
    PL_TYPE__COUNT
} pl_type_id;

typedef enum pl_time_unit { PL_UNIT_S = 0, PL_UNIT_MS, PL_UNIT_US, PL_UNIT_NS } pl_time_unit;

/* Logical types stored as another type: JSON is UTF8 text holding one valid JSON value (SQL's
 * JSON; Arrow's canonical extension "arrow.json", Parquet's JSON logical type). Kernels that
 * look only at `id` see VARCHAR; pl_type_equals and the SQL type names tell them apart. */
typedef enum pl_type_ext { PL_EXT_NONE = 0, PL_EXT_JSON } pl_type_ext;

typedef struct pl_type pl_type;
typedef struct pl_field {
    char *name;    /* owned */
    pl_type *type; /* owned reference */
    bool nullable;
} pl_field;

struct pl_type {
    pl_type_id id;
    int32_t byte_width;   /* bytes per value for fixed-width types (BOOL: 0), FIXED_BINARY width */
    int32_t precision;    /* DECIMAL128 */
    int32_t scale;        /* DECIMAL128 */
    pl_time_unit unit;    /* TIME64, TIMESTAMP */
    char *tz;             /* TIMESTAMP: IANA name or "+HH:MM"; NULL = naive */
    int32_t n_children;   /* LIST/MAP: 1, STRUCT: n */
    pl_field *children;
    pl_type_id index_id;  /* DICTIONARY: the index type */
    pl_type *value_type;  /* DICTIONARY: type of the dictionary values */
    int64_t refcount;     /* < 0: static singleton, never freed */
    pl_type_ext ext;      /* a logical type over the storage id (UTF8: JSON), else NONE */
};

/* Static singletons for parameterless types (never NULL, retain/release are no-ops):
 * NA, BOOL, INT*, UINT*, FLOAT*, UTF8, BINARY, DATE32, INTERVAL. Returns NULL for other ids. */
PL_API pl_type *pl_type_simple(pl_type_id id);
/* The JSON type: a static singleton, id UTF8 with ext PL_EXT_JSON. */
PL_API pl_type *pl_type_json(void);
static inline bool pl_type_is_json(const pl_type *t) { return t && t->ext == PL_EXT_JSON; }
PL_API PL_NODISCARD pl_status pl_type_new_decimal(int32_t precision, int32_t scale, pl_type **out,
                                                  pl_error *err);
PL_API PL_NODISCARD pl_status pl_type_new_fixed_binary(int32_t byte_width, pl_type **out,
                                                       pl_error *err);
PL_API PL_NODISCARD pl_status pl_type_new_time64(pl_time_unit unit, pl_type **out, pl_error *err);
/* tz may be NULL (naive). */
PL_API PL_NODISCARD pl_status pl_type_new_timestamp(pl_time_unit unit, const char *tz,
                                                    pl_type **out, pl_error *err);
/* Takes a new reference to value_type. */
PL_API PL_NODISCARD pl_status pl_type_new_dictionary(pl_type_id index_id, pl_type *value_type,
                                                     pl_type **out, pl_error *err);
/* item/children/value types are retained, names copied. */
PL_API PL_NODISCARD pl_status pl_type_new_list(const char *item_name, pl_type *item,
                                               bool item_nullable, pl_type **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_type_new_struct(int32_t n_fields, const pl_field *fields,
                                                 pl_type **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_type_new_map(pl_type *key, pl_type *value, bool value_nullable,
                                              pl_type **out, pl_error *err);
PL_API pl_type *pl_type_retain(pl_type *t);
PL_API void pl_type_release(pl_type *t);
PL_API bool pl_type_equals(const pl_type *a, const pl_type *b);
/* Writes a readable name ("timestamp[us, UTC]", "list<int64>") into buf; returns buf. */
PL_API const char *pl_type_to_string(const pl_type *t, char *buf, size_t buf_size);
/* Storage width of one value in bits for fixed-width ids (BOOL 1, INT32 32, ...); 0 otherwise. */
PL_API int32_t pl_type_bit_width(const pl_type *t);
static inline bool pl_type_is_varlen(pl_type_id id) {
    return id == PL_TYPE_UTF8 || id == PL_TYPE_BINARY;
}

/* Field helpers: copy name, retain type. */
PL_API PL_NODISCARD pl_status pl_field_init(pl_field *f, const char *name, pl_type *type,
                                            bool nullable, pl_error *err);
PL_API void pl_field_reset(pl_field *f);

/* ---------------------------------------------------------------- schema */

typedef struct pl_schema {
    int32_t n_fields;
    pl_field *fields;
    int32_t n_meta; /* key/value metadata (owned strings) */
    char **meta_keys;
    char **meta_values;
    int64_t refcount;
} pl_schema;

/* Copies the fields (names copied, types retained). */
PL_API PL_NODISCARD pl_status pl_schema_new(int32_t n_fields, const pl_field *fields,
                                            pl_schema **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_schema_add_meta(pl_schema *s, const char *key, const char *value,
                                                 pl_error *err);
/* Index of the field called name, or -1. */
PL_API int32_t pl_schema_find(const pl_schema *s, const char *name);
PL_API pl_schema *pl_schema_retain(pl_schema *s);
PL_API void pl_schema_release(pl_schema *s);
PL_API bool pl_schema_equals(const pl_schema *a, const pl_schema *b);

/* ---------------------------------------------------------------- arrays */

typedef struct pl_array pl_array;
struct pl_array {
    pl_type *type;      /* owned reference */
    int64_t length;     /* logical length */
    int64_t offset;     /* element offset into validity/values */
    int64_t null_count; /* -1 = not computed yet (see pl_array_null_count) */
    pl_buf *validity;   /* NULL = no nulls */
    pl_buf *values;     /* see the layout table above */
    pl_buf *data;       /* UTF8/BINARY bytes */
    int32_t n_children;
    pl_array **children;  /* owned references */
    pl_array *dictionary; /* DICTIONARY: owned reference */
    int64_t refcount;
};

/* Assembles an array, taking ownership of the passed references (type, buffers, children,
 * dictionary), also on failure. children is copied (the array owns a new pointer vector).
 * Validates lengths against buffer sizes. Errors: PL_ERR_NOMEM, PL_ERR_INVALID_ARG. */
PL_API PL_NODISCARD pl_status pl_array_new(pl_type *type, int64_t length, int64_t null_count,
                                           pl_buf *validity, pl_buf *values, pl_buf *data,
                                           int32_t n_children, pl_array **children,
                                           pl_array *dictionary, pl_array **out, pl_error *err);
/* An array of `length` NULLs of the given type (type is retained, not taken). */
PL_API PL_NODISCARD pl_status pl_array_new_nulls(pl_type *type, int64_t length, pl_array **out,
                                                 pl_error *err);
PL_API pl_array *pl_array_retain(pl_array *a);
PL_API void pl_array_release(pl_array *a);
/* Zero-copy view of rows [offset, offset+length). Errors: PL_ERR_INVALID_ARG, PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_array_slice(pl_array *a, int64_t offset, int64_t length,
                                             pl_array **out, pl_error *err);
/* Null count, computed and cached on first call. */
PL_API int64_t pl_array_null_count(pl_array *a);
/* Checks every buffer length, offset monotonicity and bounds, dictionary indices and UTF-8
 * (if check_utf8). Errors: PL_ERR_CORRUPT with the reason. */
PL_API PL_NODISCARD pl_status pl_array_validate(const pl_array *a, bool check_utf8, pl_error *err);
/* Converts a DICTIONARY array to a plain array of its value type (a new reference; other
 * arrays are returned retained). Errors: PL_ERR_NOMEM, PL_ERR_LIMIT, PL_ERR_CORRUPT (an index
 * out of the dictionary's range). */
PL_API PL_NODISCARD pl_status pl_array_decode_dictionary(pl_array *a, pl_array **out,
                                                         pl_error *err);
/* Concatenates arrays of equal type into one. Errors: PL_ERR_TYPE, PL_ERR_NOMEM, PL_ERR_LIMIT,
 * PL_ERR_CORRUPT (a dictionary index out of range). */
PL_API PL_NODISCARD pl_status pl_array_concat(int64_t n, pl_array *const *arrays, pl_array **out,
                                              pl_error *err);
/* Deep value equality (same type, same values and nulls; dictionary arrays compare decoded;
 * floats compare bitwise except that all NaNs are equal). */
PL_API bool pl_array_equals(pl_array *a, pl_array *b);

static inline bool pl_array_is_valid(const pl_array *a, int64_t i) {
    return a->type->id != PL_TYPE_NA &&
           (a->validity == NULL || pl_bit_get(a->validity->data, a->offset + i));
}
/* Pointer to the first logical value of a fixed-width array (offset applied). */
static inline const void *pl_array_values_ptr(const pl_array *a) {
    return a->values->data + (a->offset * (int64_t)a->type->byte_width);
}
static inline const int32_t *pl_array_offsets(const pl_array *a) {
    return (const int32_t *)(void *)a->values->data + a->offset;
}
/* Bytes of value i of a UTF8/BINARY array. */
static inline const uint8_t *pl_array_bytes(const pl_array *a, int64_t i, int32_t *len) {
    const int32_t *o = pl_array_offsets(a);
    *len = o[i + 1] - o[i];
    return a->data->data + o[i];
}

/* ---------------------------------------------------------------- builders */

/* A row-at-a-time builder for any type, for readers of text formats and for tests. Nested:
 * for LIST/MAP append items to pl_builder_child(b, 0) then call pl_builder_append_valid(b);
 * for STRUCT append one value to every child, then pl_builder_append_valid(b) or
 * pl_builder_append_null(b) (which also appends a null to every child). DICTIONARY builders
 * dedupe values appended with append_bytes/append_i64 etc into the dictionary. */
typedef struct pl_builder pl_builder;
PL_API PL_NODISCARD pl_status pl_builder_new(pl_type *type, int64_t capacity, pl_builder **out,
                                             pl_error *err);
PL_API void pl_builder_free(pl_builder *b);
PL_API pl_builder *pl_builder_child(pl_builder *b, int32_t i);
PL_API int64_t pl_builder_length(const pl_builder *b);
PL_API PL_NODISCARD pl_status pl_builder_append_null(pl_builder *b, pl_error *err);
/* Marks the row valid: for LIST/MAP closes the current list; for STRUCT, the row. */
PL_API PL_NODISCARD pl_status pl_builder_append_valid(pl_builder *b, pl_error *err);
PL_API PL_NODISCARD pl_status pl_builder_append_bool(pl_builder *b, bool v, pl_error *err);
/* Any integer-backed type: INT*, UINT* (as bit pattern), DATE32, TIME64, TIMESTAMP. Errors:
 * PL_ERR_TYPE if the builder's type does not store integers. No range check is done. */
PL_API PL_NODISCARD pl_status pl_builder_append_i64(pl_builder *b, int64_t v, pl_error *err);
PL_API PL_NODISCARD pl_status pl_builder_append_f64(pl_builder *b, double v, pl_error *err);
/* DECIMAL128 from its 128-bit two's complement value (lo word, hi word). */
PL_API PL_NODISCARD pl_status pl_builder_append_decimal(pl_builder *b, uint64_t lo, int64_t hi,
                                                        pl_error *err);
/* UTF8/BINARY/FIXED_BINARY (n must equal byte_width). No UTF-8 check. */
PL_API PL_NODISCARD pl_status pl_builder_append_bytes(pl_builder *b, const void *bytes, int64_t n,
                                                      pl_error *err);
/* Finishes the array (the builder is reset and reusable). */
PL_API PL_NODISCARD pl_status pl_builder_finish(pl_builder *b, pl_array **out, pl_error *err);

/* ---------------------------------------------------------------- batches and tables */

typedef struct pl_batch {
    pl_schema *schema; /* owned reference */
    int64_t n_rows;
    int32_t n_cols; /* == schema->n_fields */
    pl_array **columns; /* owned references */
    int64_t refcount;
} pl_batch;

/* Takes the schema and column references (also on failure). Checks lengths and types.
 * Errors: PL_ERR_INVALID_ARG, PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_batch_new(pl_schema *schema, int64_t n_rows, pl_array **columns,
                                           pl_batch **out, pl_error *err);
PL_API pl_batch *pl_batch_retain(pl_batch *b);
PL_API void pl_batch_release(pl_batch *b);
PL_API PL_NODISCARD pl_status pl_batch_slice(pl_batch *b, int64_t offset, int64_t length,
                                             pl_batch **out, pl_error *err);
/* Keeps the named columns in the given order. Errors: PL_ERR_NOT_FOUND naming the column. */
PL_API PL_NODISCARD pl_status pl_batch_select(pl_batch *b, int32_t n_idx, const int32_t *idx,
                                              pl_batch **out, pl_error *err);

typedef struct pl_table {
    pl_schema *schema; /* owned reference */
    int64_t n_rows;
    int64_t n_batches;
    pl_batch **batches; /* owned references; each has `schema` */
    int64_t cap_batches;
    int64_t refcount;
} pl_table;

/* Empty table with a schema (retained). */
PL_API PL_NODISCARD pl_status pl_table_new(pl_schema *schema, pl_table **out, pl_error *err);
/* Appends a batch (retained) whose schema must equal the table's. Errors: PL_ERR_TYPE, NOMEM. */
PL_API PL_NODISCARD pl_status pl_table_append(pl_table *t, pl_batch *b, pl_error *err);
PL_API pl_table *pl_table_retain(pl_table *t);
PL_API void pl_table_release(pl_table *t);
/* One batch holding every row (columns concatenated). */
PL_API PL_NODISCARD pl_status pl_table_combine(pl_table *t, pl_batch **out, pl_error *err);
/* Deep equality of schemas and values, whatever the batch boundaries. */
PL_API bool pl_table_equals(pl_table *a, pl_table *b);

/* Arrays read from Arrow IPC files larger than 256 KiB are zero-copy views of the file's
 * mapping: they show the file's current bytes, so a file rewritten or truncated later changes
 * (or zeroes) them. Whatever must keep the values as read (tables stored by SQL sessions and the
 * server) goes through these: buffers in a file mapping are copied into memory and the copies
 * validated again (offsets, dictionary indices, UTF-8); everything else is shared. Without such
 * buffers the input comes back retained. Errors: PL_ERR_NOMEM, PL_ERR_CORRUPT (the file changed
 * between the read and the copy). */
PL_API PL_NODISCARD pl_status pl_array_detach_files(pl_array *a, pl_array **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_batch_detach_files(pl_batch *b, pl_batch **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_table_detach_files(pl_table *t, pl_table **out, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
