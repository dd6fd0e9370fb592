/* pq_int.h - internals of the Parquet reader shared by its files: the Thrift compact-protocol
 * decoder, metadata and page-header decoding, the schema tree, level/value decoders, column
 * chunk decoding and record assembly. Nothing here is visible outside src/io/parquet. */
#ifndef PL_PQ_INT_H
#define PL_PQ_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"
#include "polaroid/parquet.h"

/* ---------------------------------------------------------------- arena (metadata lifetime) */

typedef struct pl_pq_arena_block pl_pq_arena_block;
typedef struct pl_pq_arena {
    pl_pq_arena_block *head;
} pl_pq_arena;

/* Zeroed, 16-byte aligned memory freed with the arena. NULL on OOM. */
void *pl_pq_arena_alloc(pl_pq_arena *a, size_t n);
char *pl_pq_arena_strndup(pl_pq_arena *a, const uint8_t *s, size_t n);
void pl_pq_arena_free(pl_pq_arena *a);

/* ---------------------------------------------------------------- thrift compact protocol */

enum {
    PL_PQ_T_STOP = 0,
    PL_PQ_T_TRUE = 1,
    PL_PQ_T_FALSE = 2,
    PL_PQ_T_BYTE = 3,
    PL_PQ_T_I16 = 4,
    PL_PQ_T_I32 = 5,
    PL_PQ_T_I64 = 6,
    PL_PQ_T_DOUBLE = 7,
    PL_PQ_T_BINARY = 8,
    PL_PQ_T_LIST = 9,
    PL_PQ_T_SET = 10,
    PL_PQ_T_MAP = 11,
    PL_PQ_T_STRUCT = 12
};

typedef struct pl_pq_thrift {
    const uint8_t *p, *end, *base;
    int64_t base_offset; /* file offset of base, for error messages */
    int32_t depth;
    const char *what; /* "file metadata", "page header" */
} pl_pq_thrift;

void pl_pq_thrift_init(pl_pq_thrift *t, const uint8_t *p, int64_t n, int64_t file_offset,
                       const char *what);
/* Fails with PL_ERR_CORRUPT naming the structure and byte offset. */
pl_status pl_pq_thrift_fail(pl_pq_thrift *t, pl_error *err, const char *fmt, ...) PL_PRINTF(3, 4);
pl_status pl_pq_thrift_struct_begin(pl_pq_thrift *t, pl_error *err);
void pl_pq_thrift_struct_end(pl_pq_thrift *t);
/* Next field of the current struct: *type PL_PQ_T_STOP at the end. last_id is per-struct. */
pl_status pl_pq_thrift_field(pl_pq_thrift *t, int16_t *last_id, int16_t *id, uint8_t *type,
                             pl_error *err);
/* Any integer element (byte, i16, i32, i64) of the given wire type. */
pl_status pl_pq_thrift_int(pl_pq_thrift *t, uint8_t type, int64_t *out, pl_error *err);
/* Integer that must fit int32. */
pl_status pl_pq_thrift_i32(pl_pq_thrift *t, uint8_t type, int32_t *out, pl_error *err);
/* A bool field (the value lives in the field type) or list element. */
pl_status pl_pq_thrift_bool(pl_pq_thrift *t, uint8_t type, bool *out, pl_error *err);
/* Binary/string: a pointer into the input (not copied). */
pl_status pl_pq_thrift_binary(pl_pq_thrift *t, uint8_t type, const uint8_t **out, int32_t *len,
                              pl_error *err);
/* List/set header: element type and count (count checked against the bytes left). */
pl_status pl_pq_thrift_list(pl_pq_thrift *t, uint8_t type, uint8_t *elem_type, int32_t *n,
                            pl_error *err);
/* Skips one value of the given type (recursively, depth-limited). */
pl_status pl_pq_thrift_skip(pl_pq_thrift *t, uint8_t type, pl_error *err);

/* ---------------------------------------------------------------- page headers */

typedef struct pl_pq_page_header {
    int32_t type; /* pl_pq_page_type (or unknown) */
    int32_t uncompressed_size, compressed_size;
    int32_t num_values;  /* data, v2 and dictionary pages */
    int32_t encoding;
    int32_t def_encoding, rep_encoding; /* v1 */
    int32_t num_nulls, num_rows;        /* v2 */
    int32_t def_bytes, rep_bytes;       /* v2 */
    bool is_compressed;                 /* v2 (default true) */
    bool has_data, has_dict, has_v2;
    bool has_stats;                     /* data pages: statistics (min/max point into the */
    pl_pq_stats stats;                  /* header's bytes) */
} pl_pq_page_header;

/* Decodes a page header from [p, p+n); *header_len = its encoded length. Errors: CORRUPT. */
pl_status pl_pq_page_header_decode(const uint8_t *p, int64_t n, int64_t file_offset,
                                   pl_pq_page_header *out, int64_t *header_len, pl_error *err);

/* Decodes FileMetaData into md (allocations in arena; strings/stats point into footer bytes
 * that must outlive md). Errors: CORRUPT, LIMIT, NOMEM, UNSUPPORTED (encryption). */
pl_status pl_pq_metadata_decode(const uint8_t *p, int64_t n, int64_t file_offset,
                                pl_pq_arena *arena, pl_pq_metadata *md, pl_error *err);

/* ---------------------------------------------------------------- schema tree */

typedef enum pl_pq_node_kind {
    PL_PQ_NODE_LEAF = 0,
    PL_PQ_NODE_STRUCT,
    PL_PQ_NODE_LIST,
    PL_PQ_NODE_MAP,
    PL_PQ_NODE_VARIANT /* a VARIANT group: assembled as a struct, rendered as utf8 text */
} pl_pq_node_kind;

/* One node of the polaroid type tree built from the Parquet schema. Levels: a node is non-null
 * where def >= def_level; a LIST/MAP has an element where def >= elem_def, and rep is the
 * repetition level of its repeated field. */
typedef struct pl_pq_node pl_pq_node;
struct pl_pq_node {
    pl_pq_node_kind kind;
    const char *name;
    bool nullable;
    int16_t def_level, elem_def, rep;
    int32_t leaf;                 /* LEAF: leaf index */
    int32_t first_leaf, n_leaves; /* leaves under this node */
    int32_t n_children;
    pl_pq_node *children; /* LIST: [element]; MAP: [entries struct(key, value)] */
    pl_type *type;        /* owned reference */
    pl_type *struct_type; /* VARIANT: the struct the group is assembled as (owned) */
};

/* How physical values become the leaf's polaroid values. */
typedef enum pl_pq_conv {
    PL_PQ_CONV_NONE = 0,  /* bytes as stored (fixed width) */
    PL_PQ_CONV_BOOL,      /* bit-packed output */
    PL_PQ_CONV_VARLEN,    /* BYTE_ARRAY -> utf8/binary */
    PL_PQ_CONV_I32_I8,
    PL_PQ_CONV_I32_I16,
    PL_PQ_CONV_I32_MS_US, /* TIME(MILLIS) -> time64[us] */
    PL_PQ_CONV_I32_DEC,
    PL_PQ_CONV_I64_DEC,
    PL_PQ_CONV_FLBA_DEC,  /* big-endian two's complement -> decimal128 */
    PL_PQ_CONV_BA_DEC,
    PL_PQ_CONV_INT96_TS,  /* -> timestamp[us] (as DuckDB; ns would overflow old dates) */
    PL_PQ_CONV_F16_F32
} pl_pq_conv;

typedef struct pl_pq_leaf_desc {
    int32_t physical, type_length;
    int16_t max_def, max_rep;
    pl_pq_conv conv;
    int32_t phys_width; /* bytes per PLAIN value for fixed-width physical types; 0 otherwise */
    int32_t out_width;  /* bytes per output value; 0 for bool and varlen */
    pl_type *type;      /* output value type (owned) */
    bool wkt;           /* GEOMETRY/GEOGRAPHY: WKB values become WKT text */
    int32_t field_index;
    const char *path;
    const char *name;   /* top-level field name (for errors) */
} pl_pq_leaf_desc;

typedef struct pl_pq_schema_tree {
    int32_t n_fields;
    pl_pq_node *fields; /* top-level nodes */
    int32_t n_leaves;
    pl_pq_leaf_desc *leaves;
    pl_schema *schema;
} pl_pq_schema_tree;

/* Builds the tree from md->schema, fills md->leaves. Errors: CORRUPT, UNSUPPORTED, LIMIT. */
pl_status pl_pq_schema_build(pl_pq_metadata *md, pl_pq_arena *arena, pl_pq_schema_tree *out,
                             pl_error *err);
void pl_pq_schema_tree_reset(pl_pq_schema_tree *t);

/* ---------------------------------------------------------------- RLE / bit-packing */

/* Unpacks n values of bw bits (LSB-first, Parquet order) from in (in_len bytes available,
 * at least ceil(n*bw/8)) into out. bw <= 32. */
void pl_pq_unpack32(const uint8_t *in, int64_t in_len, int bw, uint32_t *out, int64_t n);
/* Same for up to 64 bits. */
void pl_pq_unpack64(const uint8_t *in, int64_t in_len, int bw, uint64_t *out, int64_t n);

/* Decodes exactly n values of the RLE/bit-packed hybrid from [p, end). Errors: CORRUPT. */
pl_status pl_pq_rle_u32(const uint8_t *p, const uint8_t *end, int bw, uint32_t *out, int64_t n,
                        pl_error *err);
pl_status pl_pq_rle_u8(const uint8_t *p, const uint8_t *end, int bw, uint8_t *out, int64_t n,
                       pl_error *err);
/* bw 1 into a bitmap at bit offset `bit`; *n_set = number of 1s. */
pl_status pl_pq_rle_bits(const uint8_t *p, const uint8_t *end, uint8_t *bits, int64_t bit,
                         int64_t n, int64_t *n_set, pl_error *err);
/* Deprecated BIT_PACKED level encoding (MSB first). */
pl_status pl_pq_bitpacked_levels(const uint8_t *p, const uint8_t *end, int bw, uint8_t *out,
                                 int64_t n, pl_error *err);
/* Bitmap helpers: set/clear n bits from off; copy n bits between bit offsets. */
void pl_pq_bits_fill(uint8_t *bits, int64_t off, int64_t n, bool v);
void pl_pq_bits_copy(uint8_t *dst, int64_t doff, const uint8_t *src, int64_t soff, int64_t n);
/* Bit width needed for max_level. */
int pl_pq_bit_width(uint32_t v);

/* ---------------------------------------------------------------- delta encodings */

/* DELTA_BINARY_PACKED: decodes n values (int32 when width 4, else int64) into out. *used =
 * bytes consumed. Errors: CORRUPT. */
pl_status pl_pq_delta_decode(const uint8_t *p, const uint8_t *end, int width, void *out, int64_t n,
                             int64_t *used, pl_error *err);
/* Number of values announced by a DELTA_BINARY_PACKED header (for sizing). */
pl_status pl_pq_delta_count(const uint8_t *p, const uint8_t *end, int64_t *count, pl_error *err);

/* ---------------------------------------------------------------- value sinks */

/* Decoded values of one leaf: fixed-width values, bits, or offsets + bytes. */
typedef struct pl_pq_sink {
    pl_pq_conv conv;
    int32_t width;  /* output bytes per value for fixed width */
    pl_buf *values; /* fixed: values; bool: bits; varlen: int32 offsets (n+1) */
    pl_buf *data;   /* varlen bytes */
    int64_t n;      /* values in the sink */
    int64_t cap;    /* values the buffers have room for */
    /* a fill view (column.c): the first prefix_bytes of the values live in prefix (the view's
     * filled pages), not in values->data (the staging buffer) */
    const uint8_t *prefix;
    int64_t prefix_bytes;
} pl_pq_sink;

/* A decoded dictionary (values already converted to the output representation). */
typedef struct pl_pq_dict {
    int64_t n;
    int32_t width;        /* fixed width; 0 for bool/varlen */
    uint8_t *values;      /* fixed: n*width bytes; bool: one byte per value */
    int32_t *offsets;     /* varlen: n+1 */
    uint8_t *data;        /* varlen bytes */
    int64_t data_bytes;
    int32_t max_len;
    bool borrowed; /* values live in the scratch (pl_pq_scratch.dict), not freed here */
    bool shared;   /* everything belongs to the dictionary cache (read-only, not freed here);
                      fixed-width values then have a zeroed slot after the last */
} pl_pq_dict;

void pl_pq_dict_reset(pl_pq_dict *d);

/* Per-worker scratch memory, reused across chunks and pages. */
typedef struct pl_pq_scratch {
    uint8_t *chunk;
    int64_t chunk_cap;
    uint8_t *page;
    int64_t page_cap;
    uint8_t *tmp;
    int64_t tmp_cap;
    uint8_t *idx; /* uint32 dictionary indices */
    int64_t idx_cap;
    uint8_t *lv;
    int64_t lv_cap;
    uint8_t *bits; /* selective reads: a page's validity bits */
    int64_t bits_cap;
    uint8_t *di; /* selective reads: int32 value positions of the selected rows */
    int64_t di_cap;
    uint8_t *dict; /* fixed-width dictionaries used in place */
    int64_t dict_cap;
    uint8_t *msel; /* match mode: int32 passing rows */
    int64_t msel_cap;
    uint8_t *fill; /* staging of a chunk's values bound for a fill region (pl_pq_prealloc) */
    int64_t fill_cap;
} pl_pq_scratch;

void pl_pq_scratch_reset(pl_pq_scratch *s);
/* Grows *p to at least n bytes (contents not kept). NULL on OOM. */
uint8_t *pl_pq_scratch_get(uint8_t **p, int64_t *cap, int64_t n);

/* Decodes n dense (non-null) values of a page's value section [p, end) in `encoding` into the
 * sink (appending). dict is the chunk's dictionary (or NULL). Errors: CORRUPT, UNSUPPORTED,
 * NOMEM. */
pl_status pl_pq_decode_values(const pl_pq_leaf_desc *leaf, int32_t encoding, const uint8_t *p,
                              const uint8_t *end, int64_t n, const pl_pq_dict *dict,
                              pl_pq_sink *sink, pl_pq_scratch *scr, pl_error *err);
/* Decodes a dictionary page (PLAIN values) into d. Errors: CORRUPT, NOMEM. */
pl_status pl_pq_decode_dict(const pl_pq_leaf_desc *leaf, const uint8_t *p, const uint8_t *end,
                            int64_t n, pl_pq_dict *d, pl_pq_scratch *scr, pl_error *err);
/* Makes room for n more values in the sink (data_bytes more bytes for varlen). */
pl_status pl_pq_sink_reserve(pl_pq_sink *s, int64_t n, int64_t data_bytes, pl_error *err);
void pl_pq_sink_reset(pl_pq_sink *s);

/* ---------------------------------------------------------------- column chunks */

/* Where file bytes come from: a descriptor (pread), memory, or a guarded mapping of the file
 * (pl_file_map; made by pl_pq_file_ensure_fd, undone by pl_pq_file_drop_fd). */
typedef struct pl_pq_source {
    int fd;               /* -1 for memory */
    const uint8_t *mem;
    int64_t size;
    const char *path;
    const uint8_t *map; /* the file's mapping (size bytes), or NULL: read with pread */
    int32_t map_slot;   /* its pl_file_map slot, -1 without */
} pl_pq_source;

/* The decoded content of one leaf of one row group. In flat mode (top-level leaf, no
 * repetition) values are slot-aligned with a validity bitmap; otherwise values are dense
 * (non-null only) and def/rep levels are kept for assembly. */
typedef struct pl_pq_leaf_data {
    bool flat;
    int64_t n_levels;   /* level entries (== rows when flat) */
    uint8_t *def, *rep; /* nested: pl_malloc'd, n_levels each (NULL when max level is 0) */
    pl_buf *validity;   /* flat: NULL if no nulls */
    int64_t null_count; /* flat */
    pl_pq_sink sink;    /* values (flat: n_levels slots; nested: dense) */
    pl_array *dict;     /* keep-dictionary mode: the dictionary values; sink holds int32 indices */
} pl_pq_leaf_data;

void pl_pq_leaf_data_reset(pl_pq_leaf_data *d);
/* Whether column chunks compressed with codec are read from the file's mapping (when it has
 * one) rather than with pread (column.c). */
bool pl_pq_codec_mapped(pl_codec codec);

/* Output buffers prepared by the caller for a flat leaf (exactly sized from the metadata,
 * usually views into one large slab); ownership passes to the chunk reader. */
typedef struct pl_pq_prealloc {
    pl_buf *values;   /* fixed values, bits, or int32 offsets */
    pl_buf *validity; /* NULL when the leaf is required */
    /* values is page-aligned, owns its pages up to the next 4 KiB boundary, and lies in a
     * registered fill region (pl_fill_register): the chunk is decoded into the worker's
     * staging buffer and copied into those pages with pl_fill_copy at the end; nothing may
     * touch them before */
    bool fill;
} pl_pq_prealloc;

/* A predicate evaluated on a dictionary: values has the dictionary's values plus one NULL at
 * the end; pass[i] is set to 1 where value i passes (0 otherwise). */
typedef pl_status (*pl_pq_dict_pred_fn)(void *arg, pl_array *values, uint8_t *pass,
                                        pl_error *err);

typedef struct pl_pq_meta_entry pl_pq_meta_entry;

/* The dictionary cache (reader.c): decoded dictionaries of row group rg, leaf `leaf` of a file
 * in the metadata cache, kept while the entry lives, within a global byte budget. get returns
 * NULL on a miss; put caches a copy of d and returns the cached dictionary (the copy, or one
 * another thread cached first), or NULL when it cannot be cached (budget, size, memory). Cached
 * dictionaries are read-only and live as long as the entry (files opened from it hold it). */
const pl_pq_dict *pl_pq_dict_cache_get(pl_pq_meta_entry *e, int32_t rg, int32_t leaf);
const pl_pq_dict *pl_pq_dict_cache_put(pl_pq_meta_entry *e, int32_t rg, int32_t leaf,
                                       const pl_pq_dict *d);

typedef struct pl_pq_chunk_ctx {
    const pl_pq_source *src;
    const pl_pq_metadata *md;
    const pl_pq_leaf_desc *leaf;
    const pl_pq_column_chunk *cc;
    int32_t rg, leaf_index;
    bool flat;
    bool keep_dict;
    int64_t max_rows; /* flat: stop after this many rows (-1 = all) */
    pl_pq_prealloc *pre; /* flat: caller-provided buffers (taken), or NULL */
    /* flat, selective read: only rows sel[0..n_sel) (ascending, distinct, < the row group's
     * rows) are decoded, into slots 0..n_sel; pages without selected rows are skipped without
     * decompressing them. NULL = all rows. */
    const int32_t *sel;
    int64_t n_sel;
    /* flat, match mode (match_fn set): no values are produced; the predicate is evaluated once
     * on the dictionary and the rows whose codes pass go to *match_sel / *match_n (ascending,
     * pl_malloc'ed). *match_ok false (and PL_OK) when a data page is not dictionary-encoded:
     * the caller then decodes the column as usual. */
    pl_pq_dict_pred_fn match_fn;
    void *match_arg;
    int32_t **match_sel;
    int64_t *match_n;
    bool *match_ok;
    /* selective and match modes: the file's entry in the metadata cache, whose dictionary
     * cache keeps decoded dictionaries across reads (NULL = no caching) */
    pl_pq_meta_entry *dict_cache;
} pl_pq_chunk_ctx;

pl_status pl_pq_read_chunk(const pl_pq_chunk_ctx *c, pl_pq_scratch *scr, pl_pq_leaf_data *out,
                           pl_error *err);

/* Builds the array of a top-level node from its leaves' data. n_rows: rows of the row group
 * (for top-level leaves). Errors: CORRUPT (inconsistent levels), NOMEM. */
pl_status pl_pq_assemble(const pl_pq_node *node, pl_pq_leaf_data *leaves, const pl_pq_leaf_desc *descs,
                         pl_array **out, pl_error *err);

/* ---------------------------------------------------------------- variant and geometry */

/* Renders an assembled VARIANT struct (metadata, value, typed_value) as a utf8 array the way
 * DuckDB casts VARIANT to VARCHAR. Errors: CORRUPT (bad variant bytes), NOMEM, LIMIT. */
pl_status pl_pq_variant_to_text(pl_array *s, pl_array **out, pl_error *err);
/* Replaces the WKB values of a varlen sink by their WKT text (values whose validity bit is 0
 * are skipped; validity NULL = all valid). Errors: CORRUPT, NOMEM, LIMIT. */
pl_status pl_pq_wkb_to_text(pl_pq_sink *s, const uint8_t *validity, pl_error *err);

/* ---------------------------------------------------------------- files */

struct pl_pq_file {
    char *path;
    pl_pq_source src;
    uint8_t *footer; /* owned copy of the footer bytes (NULL for memory sources) */
    pl_pq_arena arena;
    pl_pq_metadata md;
    pl_pq_schema_tree tree;
    /* When set, footer/arena/md/tree belong to this entry of the metadata cache (reader.c):
     * md and tree are shallow copies, read-only, shared with other opens of the same file. */
    pl_pq_meta_entry *shared;
};

/* Decodes top-level field `field` of row group rg into *out. pre (may be NULL) holds output
 * buffers for a flat field, which are taken in every case. */
pl_status pl_pq_read_field(pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                           int64_t max_rows, pl_pq_prealloc *pre, pl_pq_scratch *scr,
                           pl_array **out, pl_error *err);
/* Decodes rows sel[0..n_sel) (ascending, distinct, < the row group's rows) of top-level field
 * `field` of row group rg into *out (n_sel rows). Flat fields decode only the pages holding
 * selected rows and gather the selected values; nested fields are decoded whole and taken. */
pl_status pl_pq_read_field_sel(pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                               const int32_t *sel, int64_t n_sel, pl_pq_scratch *scr,
                               pl_array **out, pl_error *err);
/* Match mode on a flat field (see pl_pq_chunk_ctx.match_fn): the rows of row group rg whose
 * dictionary codes pass fn, or *ok false when the field is not a flat leaf or a data page is not
 * dictionary-encoded. */
pl_status pl_pq_match_field(pl_pq_file *f, int32_t rg, int32_t field, pl_pq_dict_pred_fn fn,
                            void *arg, pl_pq_scratch *scr, int32_t **sel, int64_t *n_sel,
                            bool *ok, pl_error *err);
/* Bytes of the values and validity buffers of a flat field's chunk (0, 0 when the field is
 * not flat); each rounded up to PL_BUF_ALIGN. */
void pl_pq_field_sizes(const pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                       int64_t *values_bytes, int64_t *validity_bytes);
/* Whether field (a flat utf8/binary leaf) is read as dictionary<int32, ...> in keep-dictionary
 * mode: encoding statistics show only dictionary data pages, or (without statistics) every
 * chunk lists a dictionary encoding. */
bool pl_pq_field_all_dict(const pl_pq_file *f, int32_t field);
/* The type of a field in keep-dictionary mode (a new reference). */
pl_status pl_pq_field_type(const pl_pq_file *f, int32_t field, bool keep_dict, pl_type **out,
                           pl_error *err);
/* A scan over many files keeps descriptors open only for files being decoded: drop_fd
 * closes the descriptor (metadata stays), ensure_fd reopens it (checking the size did not
 * change). Errors: PL_ERR_NOT_FOUND, PL_ERR_IO. */
void pl_pq_file_drop_fd(pl_pq_file *f);
/* Empties the cache of decoded footers (reader.c; entries in use live on until closed). */
void pl_pq_meta_cache_clear(void);
pl_status pl_pq_file_ensure_fd(pl_pq_file *f, pl_error *err);
/* pl_pq_scan_open_ex with a predicate evaluated in the scan (pred may be NULL; see
 * pl_scan_pred in io/io_int.h). */
struct pl_scan_pred;
pl_status pl_pq_scan_open_pred_ex(int32_t n_paths, const char *const *paths,
                                  const pl_read_opts *opts, const pl_pq_read_opts *pq,
                                  const struct pl_scan_pred *pred, pl_stream **out,
                                  pl_error *err);
/* Fills path/row group/column of err if unset. */
void pl_pq_error_context(pl_error *err, const char *path, int32_t rg, int32_t column,
                         const char *column_name);

#endif
