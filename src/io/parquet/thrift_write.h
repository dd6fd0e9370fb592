/* thrift_write.h - a Thrift compact-protocol encoder for the Parquet writer (page headers and
 * the file footer). Writes into a growable byte vector; an allocation failure is remembered and
 * reported once by pl_thrift_enc_status, so encoding code needs no per-call error checks.
 *
 * Usage: struct_begin / field_* ... / struct_end. Nested structs: field_struct_begin(fid) ...
 * struct_end. Lists: field_list_begin(fid, elem_type, n) then n list_* elements (for struct
 * elements: list_struct_begin ... struct_end). */
#ifndef PL_PQ_THRIFT_WRITE_H
#define PL_PQ_THRIFT_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "polaroid/status.h"

/* Compact protocol element types (as they appear in field and list headers). */
enum {
    PL_TCE_BOOL_TRUE = 1,
    PL_TCE_BOOL_FALSE = 2,
    PL_TCE_BYTE = 3,
    PL_TCE_I16 = 4,
    PL_TCE_I32 = 5,
    PL_TCE_I64 = 6,
    PL_TCE_DOUBLE = 7,
    PL_TCE_BINARY = 8,
    PL_TCE_LIST = 9,
    PL_TCE_SET = 10,
    PL_TCE_MAP = 11,
    PL_TCE_STRUCT = 12
};

#define PL_THRIFT_ENC_MAX_DEPTH 32

typedef struct pl_thrift_enc {
    uint8_t *data; /* pl_malloc'd */
    int64_t len, cap;
    int16_t last_fid[PL_THRIFT_ENC_MAX_DEPTH];
    int32_t depth;
    bool failed; /* an allocation failed or depth overflowed */
} pl_thrift_enc;

void pl_thrift_enc_init(pl_thrift_enc *e);
/* Frees the buffer. */
void pl_thrift_enc_reset(pl_thrift_enc *e);
/* Empties the buffer for reuse (keeps capacity). */
void pl_thrift_enc_clear(pl_thrift_enc *e);
/* PL_OK, or PL_ERR_NOMEM / PL_ERR_INTERNAL if anything went wrong while encoding. */
pl_status pl_thrift_enc_status(const pl_thrift_enc *e, pl_error *err);

void pl_thrift_enc_struct_begin(pl_thrift_enc *e);
void pl_thrift_enc_struct_end(pl_thrift_enc *e);
void pl_thrift_enc_field_bool(pl_thrift_enc *e, int16_t fid, bool v);
void pl_thrift_enc_field_i8(pl_thrift_enc *e, int16_t fid, int8_t v);
void pl_thrift_enc_field_i16(pl_thrift_enc *e, int16_t fid, int16_t v);
void pl_thrift_enc_field_i32(pl_thrift_enc *e, int16_t fid, int32_t v);
void pl_thrift_enc_field_i64(pl_thrift_enc *e, int16_t fid, int64_t v);
void pl_thrift_enc_field_binary(pl_thrift_enc *e, int16_t fid, const void *p, int64_t n);
void pl_thrift_enc_field_string(pl_thrift_enc *e, int16_t fid, const char *s);
/* Starts a struct-valued field; finish it with pl_thrift_enc_struct_end. */
void pl_thrift_enc_field_struct_begin(pl_thrift_enc *e, int16_t fid);
/* An empty struct-valued field (e.g. union members such as StringType). */
void pl_thrift_enc_field_empty_struct(pl_thrift_enc *e, int16_t fid);
void pl_thrift_enc_field_list_begin(pl_thrift_enc *e, int16_t fid, int elem_type, int64_t n);
void pl_thrift_enc_list_i32(pl_thrift_enc *e, int32_t v);
void pl_thrift_enc_list_i64(pl_thrift_enc *e, int64_t v);
void pl_thrift_enc_list_binary(pl_thrift_enc *e, const void *p, int64_t n);
void pl_thrift_enc_list_string(pl_thrift_enc *e, const char *s);
/* Starts a struct element of a list; finish it with pl_thrift_enc_struct_end. */
void pl_thrift_enc_list_struct_begin(pl_thrift_enc *e);

#endif
