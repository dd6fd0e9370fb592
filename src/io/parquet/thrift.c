/* thrift.c - Thrift compact-protocol decoding primitives for Parquet metadata and page headers,
 * plus the arena that holds decoded metadata.
 *
 * Invariants: every read checks the bytes left before touching them; lengths and list counts
 * are checked against the bytes remaining (each element takes at least one byte) and against
 * src/core/limits.h; nesting is limited to PL_THRIFT_MAX_DEPTH; unknown fields are skipped so
 * files from newer Parquet versions decode. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pq_int.h"

/* ---------------------------------------------------------------- arena */

struct pl_pq_arena_block {
    pl_pq_arena_block *next;
    size_t used, cap;
    _Alignas(16) uint8_t data[];
};

#define PQ_ARENA_BLOCK (64 * 1024)

void *pl_pq_arena_alloc(pl_pq_arena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    pl_pq_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > PQ_ARENA_BLOCK / 4 ? n : PQ_ARENA_BLOCK;
        b = pl_malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        if (n > PQ_ARENA_BLOCK / 4 && a->head) {
            /* big blocks go behind the head so the head keeps serving small requests */
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *pl_pq_arena_strndup(pl_pq_arena *a, const uint8_t *s, size_t n) {
    char *p = pl_pq_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void pl_pq_arena_free(pl_pq_arena *a) {
    pl_pq_arena_block *b = a->head;
    while (b) {
        pl_pq_arena_block *next = b->next;
        pl_free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---------------------------------------------------------------- decoding */

void pl_pq_thrift_init(pl_pq_thrift *t, const uint8_t *p, int64_t n, int64_t file_offset,
                       const char *what) {
    t->p = p;
    t->base = p;
    t->end = p + n;
    t->base_offset = file_offset;
    t->depth = 0;
    t->what = what;
}

pl_status pl_pq_thrift_fail(pl_pq_thrift *t, pl_error *err, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int64_t off = t->base_offset + (int64_t)(t->p - t->base);
    if (err && err->byte_offset < 0) err->byte_offset = off;
    return pl_error_set(err, PL_ERR_CORRUPT, "invalid %s: %s", t->what, msg);
}

static pl_status read_varint(pl_pq_thrift *t, uint64_t *out, pl_error *err) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated varint");
        uint8_t b = *t->p++;
        if (shift == 63 && (b & 0x7e))
            return pl_pq_thrift_fail(t, err, "varint longer than 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return PL_OK;
        }
    }
    return pl_pq_thrift_fail(t, err, "varint longer than 10 bytes");
}

static int64_t zigzag(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

pl_status pl_pq_thrift_struct_begin(pl_pq_thrift *t, pl_error *err) {
    if (t->depth >= PL_THRIFT_MAX_DEPTH)
        return pl_pq_thrift_fail(t, err, "nesting deeper than %d", PL_THRIFT_MAX_DEPTH);
    t->depth++;
    return PL_OK;
}

void pl_pq_thrift_struct_end(pl_pq_thrift *t) { t->depth--; }

pl_status pl_pq_thrift_field(pl_pq_thrift *t, int16_t *last_id, int16_t *id, uint8_t *type,
                             pl_error *err) {
    if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated struct (no stop field)");
    uint8_t b = *t->p++;
    uint8_t ty = b & 0x0f;
    if (ty == PL_PQ_T_STOP) {
        if (b != 0) return pl_pq_thrift_fail(t, err, "bad field header 0x%02x", b);
        *type = PL_PQ_T_STOP;
        *id = 0;
        return PL_OK;
    }
    if (ty > PL_PQ_T_STRUCT) return pl_pq_thrift_fail(t, err, "unknown field type %d", ty);
    int delta = b >> 4;
    if (delta) {
        int32_t nid = *last_id + delta;
        if (nid > INT16_MAX) return pl_pq_thrift_fail(t, err, "field id overflow");
        *id = (int16_t)nid;
    } else {
        uint64_t v = 0;
        PL_TRY(read_varint(t, &v, err));
        int64_t z = zigzag(v);
        if (z < INT16_MIN || z > INT16_MAX)
            return pl_pq_thrift_fail(t, err, "field id %lld out of range", (long long)z);
        *id = (int16_t)z;
    }
    *last_id = *id;
    *type = ty;
    return PL_OK;
}

pl_status pl_pq_thrift_int(pl_pq_thrift *t, uint8_t type, int64_t *out, pl_error *err) {
    switch (type) {
    case PL_PQ_T_BYTE:
        if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated byte");
        *out = (int8_t)*t->p++;
        return PL_OK;
    case PL_PQ_T_I16:
    case PL_PQ_T_I32:
    case PL_PQ_T_I64: {
        uint64_t v = 0;
        PL_TRY(read_varint(t, &v, err));
        int64_t z = zigzag(v);
        if (type == PL_PQ_T_I16 && (z < INT16_MIN || z > INT16_MAX))
            return pl_pq_thrift_fail(t, err, "i16 value %lld out of range", (long long)z);
        if (type == PL_PQ_T_I32 && (z < INT32_MIN || z > INT32_MAX))
            return pl_pq_thrift_fail(t, err, "i32 value %lld out of range", (long long)z);
        *out = z;
        return PL_OK;
    }
    default:
        return pl_pq_thrift_fail(t, err, "expected an integer, found wire type %d", type);
    }
}

pl_status pl_pq_thrift_i32(pl_pq_thrift *t, uint8_t type, int32_t *out, pl_error *err) {
    int64_t v = 0;
    PL_TRY(pl_pq_thrift_int(t, type, &v, err));
    if (v < INT32_MIN || v > INT32_MAX)
        return pl_pq_thrift_fail(t, err, "value %lld does not fit i32", (long long)v);
    *out = (int32_t)v;
    return PL_OK;
}

pl_status pl_pq_thrift_bool(pl_pq_thrift *t, uint8_t type, bool *out, pl_error *err) {
    if (type == PL_PQ_T_TRUE || type == PL_PQ_T_FALSE) {
        *out = type == PL_PQ_T_TRUE;
        return PL_OK;
    }
    return pl_pq_thrift_fail(t, err, "expected a bool, found wire type %d", type);
}

/* A bool inside a list is one byte: 1 true, anything else (0 or 2) false. */
static pl_status list_bool(pl_pq_thrift *t, pl_error *err) {
    if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated bool");
    t->p++;
    return PL_OK;
}

pl_status pl_pq_thrift_binary(pl_pq_thrift *t, uint8_t type, const uint8_t **out, int32_t *len,
                              pl_error *err) {
    if (type != PL_PQ_T_BINARY)
        return pl_pq_thrift_fail(t, err, "expected binary, found wire type %d", type);
    uint64_t n = 0;
    PL_TRY(read_varint(t, &n, err));
    if (n > (uint64_t)PL_THRIFT_MAX_STRING)
        return pl_pq_thrift_fail(t, err, "string of %llu bytes exceeds the limit",
                                 (unsigned long long)n);
    if (n > (uint64_t)(t->end - t->p))
        return pl_pq_thrift_fail(t, err, "string of %llu bytes but only %lld left",
                                 (unsigned long long)n, (long long)(t->end - t->p));
    *out = t->p;
    *len = (int32_t)n;
    t->p += n;
    return PL_OK;
}

pl_status pl_pq_thrift_list(pl_pq_thrift *t, uint8_t type, uint8_t *elem_type, int32_t *n,
                            pl_error *err) {
    if (type != PL_PQ_T_LIST && type != PL_PQ_T_SET)
        return pl_pq_thrift_fail(t, err, "expected a list, found wire type %d", type);
    if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated list header");
    uint8_t b = *t->p++;
    uint64_t count = b >> 4;
    if (count == 15) PL_TRY(read_varint(t, &count, err));
    uint8_t et = b & 0x0f;
    if (et == PL_PQ_T_STOP || et > PL_PQ_T_STRUCT)
        return pl_pq_thrift_fail(t, err, "bad list element type %d", et);
    if (count > (uint64_t)PL_THRIFT_MAX_LIST)
        return pl_pq_thrift_fail(t, err, "list of %llu elements exceeds the limit",
                                 (unsigned long long)count);
    /* every element takes at least one byte */
    if (count > (uint64_t)(t->end - t->p))
        return pl_pq_thrift_fail(t, err, "list of %llu elements but only %lld bytes left",
                                 (unsigned long long)count, (long long)(t->end - t->p));
    *elem_type = et;
    *n = (int32_t)count;
    return PL_OK;
}

pl_status pl_pq_thrift_skip(pl_pq_thrift *t, uint8_t type, pl_error *err) {
    switch (type) {
    case PL_PQ_T_TRUE:
    case PL_PQ_T_FALSE:
        return PL_OK; /* field bools carry their value in the type */
    case PL_PQ_T_BYTE:
    case PL_PQ_T_I16:
    case PL_PQ_T_I32:
    case PL_PQ_T_I64: {
        int64_t v = 0;
        return pl_pq_thrift_int(t, type, &v, err);
    }
    case PL_PQ_T_DOUBLE:
        if (t->end - t->p < 8) return pl_pq_thrift_fail(t, err, "truncated double");
        t->p += 8;
        return PL_OK;
    case PL_PQ_T_BINARY: {
        const uint8_t *s = NULL;
        int32_t n = 0;
        return pl_pq_thrift_binary(t, type, &s, &n, err);
    }
    case PL_PQ_T_LIST:
    case PL_PQ_T_SET: {
        uint8_t et = 0;
        int32_t n = 0;
        PL_TRY(pl_pq_thrift_list(t, type, &et, &n, err));
        PL_TRY(pl_pq_thrift_struct_begin(t, err));
        for (int32_t i = 0; i < n; i++) {
            if (et == PL_PQ_T_TRUE || et == PL_PQ_T_FALSE) PL_TRY(list_bool(t, err));
            else PL_TRY(pl_pq_thrift_skip(t, et, err));
        }
        pl_pq_thrift_struct_end(t);
        return PL_OK;
    }
    case PL_PQ_T_MAP: {
        uint64_t n = 0;
        PL_TRY(read_varint(t, &n, err));
        if (n == 0) return PL_OK;
        if (n > (uint64_t)PL_THRIFT_MAX_LIST || n > (uint64_t)(t->end - t->p))
            return pl_pq_thrift_fail(t, err, "map of %llu entries is too large",
                                     (unsigned long long)n);
        if (t->p >= t->end) return pl_pq_thrift_fail(t, err, "truncated map header");
        uint8_t kv = *t->p++;
        uint8_t kt = kv >> 4, vt = kv & 0x0f;
        if (kt == 0 || kt > PL_PQ_T_STRUCT || vt == 0 || vt > PL_PQ_T_STRUCT)
            return pl_pq_thrift_fail(t, err, "bad map types 0x%02x", kv);
        PL_TRY(pl_pq_thrift_struct_begin(t, err));
        for (uint64_t i = 0; i < n; i++) {
            if (kt <= PL_PQ_T_FALSE) PL_TRY(list_bool(t, err));
            else PL_TRY(pl_pq_thrift_skip(t, kt, err));
            if (vt <= PL_PQ_T_FALSE) PL_TRY(list_bool(t, err));
            else PL_TRY(pl_pq_thrift_skip(t, vt, err));
        }
        pl_pq_thrift_struct_end(t);
        return PL_OK;
    }
    case PL_PQ_T_STRUCT: {
        PL_TRY(pl_pq_thrift_struct_begin(t, err));
        int16_t last = 0, id = 0;
        uint8_t ft = 0;
        for (;;) {
            PL_TRY(pl_pq_thrift_field(t, &last, &id, &ft, err));
            if (ft == PL_PQ_T_STOP) break;
            PL_TRY(pl_pq_thrift_skip(t, ft, err));
        }
        pl_pq_thrift_struct_end(t);
        return PL_OK;
    }
    default:
        return pl_pq_thrift_fail(t, err, "unknown wire type %d", type);
    }
}
