/* thrift_write.c - Thrift compact-protocol encoder used by the Parquet writer. See
 * thrift_write.h. Field ids are delta-encoded against the last id at the current struct depth;
 * integers are zigzag varints; a failed allocation sets `failed` and later writes are dropped. */
#include <string.h>

#include "core/core.h"
#include "thrift_write.h"

void pl_thrift_enc_init(pl_thrift_enc *e) { memset(e, 0, sizeof *e); }

void pl_thrift_enc_reset(pl_thrift_enc *e) {
    pl_free(e->data);
    memset(e, 0, sizeof *e);
}

void pl_thrift_enc_clear(pl_thrift_enc *e) {
    e->len = 0;
    e->depth = 0;
    e->failed = false;
    e->last_fid[0] = 0;
}

pl_status pl_thrift_enc_status(const pl_thrift_enc *e, pl_error *err) {
    if (!e->failed) return PL_OK;
    if (e->depth >= PL_THRIFT_ENC_MAX_DEPTH)
        PL_FAIL(err, PL_ERR_INTERNAL, "thrift encoder: nesting deeper than %d",
                PL_THRIFT_ENC_MAX_DEPTH);
    PL_FAIL(err, PL_ERR_NOMEM, "thrift encoder: out of memory");
}

static bool reserve(pl_thrift_enc *e, int64_t extra) {
    if (e->failed) return false;
    if (e->len + extra <= e->cap) return true;
    int64_t cap = e->cap ? e->cap * 2 : 256;
    while (cap < e->len + extra) cap *= 2;
    uint8_t *p = pl_realloc(e->data, (size_t)cap);
    if (!p) {
        e->failed = true;
        return false;
    }
    e->data = p;
    e->cap = cap;
    return true;
}

static void put_byte(pl_thrift_enc *e, uint8_t b) {
    if (!reserve(e, 1)) return;
    e->data[e->len++] = b;
}

static void put_varint(pl_thrift_enc *e, uint64_t v) {
    if (!reserve(e, 10)) return;
    while (v >= 0x80) {
        e->data[e->len++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    e->data[e->len++] = (uint8_t)v;
}

static uint64_t zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }

static void put_bytes(pl_thrift_enc *e, const void *p, int64_t n) {
    put_varint(e, (uint64_t)n);
    if (n <= 0 || !reserve(e, n)) return;
    memcpy(e->data + e->len, p, (size_t)n);
    e->len += n;
}

static void field_header(pl_thrift_enc *e, int16_t fid, int type) {
    int16_t *last = &e->last_fid[e->depth];
    int delta = fid - *last;
    if (delta > 0 && delta <= 15) {
        put_byte(e, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(e, (uint8_t)type);
        put_varint(e, zigzag64(fid));
    }
    *last = fid;
}

void pl_thrift_enc_struct_begin(pl_thrift_enc *e) {
    if (e->depth + 1 >= PL_THRIFT_ENC_MAX_DEPTH) {
        e->failed = true;
        return;
    }
    e->depth++;
    e->last_fid[e->depth] = 0;
}

void pl_thrift_enc_struct_end(pl_thrift_enc *e) {
    put_byte(e, 0); /* STOP */
    if (e->depth > 0) e->depth--;
}

void pl_thrift_enc_field_bool(pl_thrift_enc *e, int16_t fid, bool v) {
    field_header(e, fid, v ? PL_TCE_BOOL_TRUE : PL_TCE_BOOL_FALSE);
}

void pl_thrift_enc_field_i8(pl_thrift_enc *e, int16_t fid, int8_t v) {
    field_header(e, fid, PL_TCE_BYTE);
    put_byte(e, (uint8_t)v);
}

void pl_thrift_enc_field_i16(pl_thrift_enc *e, int16_t fid, int16_t v) {
    field_header(e, fid, PL_TCE_I16);
    put_varint(e, zigzag64(v));
}

void pl_thrift_enc_field_i32(pl_thrift_enc *e, int16_t fid, int32_t v) {
    field_header(e, fid, PL_TCE_I32);
    put_varint(e, zigzag64(v));
}

void pl_thrift_enc_field_i64(pl_thrift_enc *e, int16_t fid, int64_t v) {
    field_header(e, fid, PL_TCE_I64);
    put_varint(e, zigzag64(v));
}

void pl_thrift_enc_field_binary(pl_thrift_enc *e, int16_t fid, const void *p, int64_t n) {
    field_header(e, fid, PL_TCE_BINARY);
    put_bytes(e, p, n);
}

void pl_thrift_enc_field_string(pl_thrift_enc *e, int16_t fid, const char *s) {
    pl_thrift_enc_field_binary(e, fid, s, (int64_t)strlen(s));
}

void pl_thrift_enc_field_struct_begin(pl_thrift_enc *e, int16_t fid) {
    field_header(e, fid, PL_TCE_STRUCT);
    pl_thrift_enc_struct_begin(e);
}

void pl_thrift_enc_field_empty_struct(pl_thrift_enc *e, int16_t fid) {
    pl_thrift_enc_field_struct_begin(e, fid);
    pl_thrift_enc_struct_end(e);
}

void pl_thrift_enc_field_list_begin(pl_thrift_enc *e, int16_t fid, int elem_type, int64_t n) {
    field_header(e, fid, PL_TCE_LIST);
    if (n < 15) {
        put_byte(e, (uint8_t)((n << 4) | elem_type));
    } else {
        put_byte(e, (uint8_t)(0xF0 | elem_type));
        put_varint(e, (uint64_t)n);
    }
}

void pl_thrift_enc_list_i32(pl_thrift_enc *e, int32_t v) { put_varint(e, zigzag64(v)); }
void pl_thrift_enc_list_i64(pl_thrift_enc *e, int64_t v) { put_varint(e, zigzag64(v)); }
void pl_thrift_enc_list_binary(pl_thrift_enc *e, const void *p, int64_t n) { put_bytes(e, p, n); }
void pl_thrift_enc_list_string(pl_thrift_enc *e, const char *s) {
    put_bytes(e, s, (int64_t)strlen(s));
}
void pl_thrift_enc_list_struct_begin(pl_thrift_enc *e) { pl_thrift_enc_struct_begin(e); }
