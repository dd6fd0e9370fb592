/* ipc_int.h - internals shared by the Arrow IPC reader (ipc_read.c), writer (ipc_write.c) and
 * schema codec (ipc_schema.c): the flatbuffer ids of Schema.fbs / Message.fbs / File.fbs and the
 * decoded field tree that tells the reader each column's physical layout in the file. */
#ifndef PL_IPC_INT_H
#define PL_IPC_INT_H

#include "core/core.h"
#include "io/ipc/flatbuf.h"
#include "io/ipc/ipc.h"

/* Framing */
#define PL_IPC_CONTINUATION 0xFFFFFFFFu
#define PL_IPC_ALIGN 8 /* metadata and body buffers are padded to this */
#define PL_IPC_MAGIC "ARROW1"
#define PL_IPC_MAGIC_BYTES 6
/* zstd's largest possible expansion (a 128 KiB RLE block from 4 bytes) bounds what a
 * compressed buffer may claim as its uncompressed size */
#define PL_IPC_MAX_EXPANSION 32768
/* values in one array of a record batch (keeps every size computed from a length far from
 * int64 overflow) */
#define PL_IPC_MAX_NODE_LENGTH (1LL << 40)

/* Schema.fbs: MetadataVersion */
enum { PL_IPC_V4 = 3, PL_IPC_V5 = 4 };

/* Schema.fbs: union Type (0 = NONE) */
enum {
    PL_IPC_T_NULL = 1, PL_IPC_T_INT, PL_IPC_T_FLOAT, PL_IPC_T_BINARY, PL_IPC_T_UTF8, PL_IPC_T_BOOL,
    PL_IPC_T_DECIMAL, PL_IPC_T_DATE, PL_IPC_T_TIME, PL_IPC_T_TIMESTAMP, PL_IPC_T_INTERVAL,
    PL_IPC_T_LIST, PL_IPC_T_STRUCT, PL_IPC_T_UNION, PL_IPC_T_FIXED_BINARY, PL_IPC_T_FIXED_LIST,
    PL_IPC_T_MAP, PL_IPC_T_DURATION, PL_IPC_T_LARGE_BINARY, PL_IPC_T_LARGE_UTF8,
    PL_IPC_T_LARGE_LIST, PL_IPC_T_RUN_END, PL_IPC_T_BINARY_VIEW, PL_IPC_T_UTF8_VIEW,
    PL_IPC_T_LIST_VIEW, PL_IPC_T_LARGE_LIST_VIEW
};

/* Message.fbs: union MessageHeader */
enum { PL_IPC_H_SCHEMA = 1, PL_IPC_H_DICTIONARY = 2, PL_IPC_H_RECORD_BATCH = 3 };
/* Message.fbs: CompressionType */
enum { PL_IPC_LZ4_FRAME = 0, PL_IPC_ZSTD = 1 };

/* Field table ids */
enum { PL_IPC_F_NAME = 0, PL_IPC_F_NULLABLE, PL_IPC_F_TYPE_TYPE, PL_IPC_F_TYPE, PL_IPC_F_DICT,
       PL_IPC_F_CHILDREN, PL_IPC_F_METADATA };

/* Physical layout of a column's values in the IPC body, and the conversion to polaroid's. */
typedef enum pl_ipc_kind {
    PL_IPC_K_NULL,    /* no buffers */
    PL_IPC_K_BOOL,    /* validity, bits */
    PL_IPC_K_FIXED,   /* validity, values (width bytes each) */
    PL_IPC_K_BIN32,   /* validity, int32 offsets, data */
    PL_IPC_K_BIN64,   /* validity, int64 offsets, data -> int32 offsets */
    PL_IPC_K_LIST32,  /* validity, int32 offsets; child (LIST and MAP) */
    PL_IPC_K_LIST64,  /* validity, int64 offsets; child -> LIST */
    PL_IPC_K_FSL,     /* validity; child with width items per value -> LIST */
    PL_IPC_K_STRUCT,  /* validity; children */
    PL_IPC_K_DATE64,  /* validity, int64 ms -> DATE32 days */
    PL_IPC_K_TIME32,  /* validity, int32 s or ms (width = factor to us) -> TIME64[us] */
    PL_IPC_K_FLOAT16, /* validity, binary16 -> FLOAT32 */
} pl_ipc_kind;

typedef struct pl_ipc_field {
    pl_type *type;     /* the produced type (DICTIONARY for dictionary-encoded fields) */
    pl_ipc_kind kind;  /* layout of the values (of the dictionary values if encoded) */
    int32_t width;     /* FIXED: bytes per value; TIME32: factor; FSL: items per list */
    int64_t dict_id;   /* -1 = not dictionary-encoded */
    int32_t index_width; /* bytes per dictionary index */
    int32_t n_children;
    struct pl_ipc_field *children;
    int32_t n_nodes, n_buffers; /* nodes and buffers of this field in a record batch */
} pl_ipc_field;

/* A decoded schema: the polaroid schema plus the layout tree of each top-level field, and the
 * dictionary-encoded fields by id. */
typedef struct pl_ipc_schema {
    pl_schema *schema;
    pl_ipc_field *fields; /* schema->n_fields */
    int32_t n_dicts;
    int64_t *dict_ids;
    const pl_ipc_field **dict_fields; /* value layout (the field itself, decoded as values) */
} pl_ipc_schema;

/* Decodes a Schema table. Errors: PL_ERR_CORRUPT, PL_ERR_UNSUPPORTED, PL_ERR_LIMIT, NOMEM. */
pl_status pl_ipc_schema_decode(const pl_fb_table *schema, pl_ipc_schema *out, pl_error *err);
void pl_ipc_schema_reset(pl_ipc_schema *s);
/* Nodes and buffers one field occupies in a record batch when decoded as values (for a
 * dictionary-encoded field: the dictionary batch) or as indices. */
void pl_ipc_field_counts(const pl_ipc_field *f, bool as_value, int32_t *n_nodes,
                         int32_t *n_buffers);

/* Encodes a schema into the builder (dictionary ids assigned in pre-order from 0); returns the
 * Schema table position, 0 on OOM. Errors: PL_ERR_UNSUPPORTED, PL_ERR_NOMEM. */
pl_status pl_ipc_schema_encode(pl_fb_builder *b, const pl_schema *s, uint32_t *out, pl_error *err);

#endif
