/* ipc_read.c - the Arrow IPC reader: stream format (encapsulated messages: 0xFFFFFFFF, int32
 * metadata size, Message flatbuffer padded to 8, body; metadata size 0 = end of stream; the
 * pre-0.15 form without the continuation marker is accepted) and file format ("ARROW1", the
 * stream, the Footer flatbuffer, int32 footer size, "ARROW1"; messages are located through the
 * footer's blocks), detected from the first bytes.
 *
 * Files are mapped (pl_file_load: a guarded mapping, checked for a concurrent truncation after
 * every message and at the end, or read into memory when small) and record batch buffers are
 * zero-copy views of the file buffer that keep it alive (a ref on it), unless they are compressed (LZ4_FRAME
 * or ZSTD per buffer, decompressed in parallel on the pool), misaligned (copied), or stored in a
 * layout polaroid converts (64-bit offsets, date64, time32, float16, fixed_size_list).
 * Everything is untrusted: message and buffer extents are checked against the file, node
 * lengths against buffer sizes, and every column is validated (offsets, dictionary indices,
 * UTF-8) before a batch is returned. Errors carry the path and the message's byte offset. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/codecs/codec.h"
#include "io/io_int.h"
#include "io/ipc/ipc_int.h"

static int64_t g_max_buffer_bytes; /* 0 = PL_IPC_MAX_BODY_BYTES */

void pl_ipc_set_max_buffer_bytes_for_testing(int64_t n_bytes) { g_max_buffer_bytes = n_bytes; }

typedef struct ipc_block {
    int64_t offset;
} ipc_block;

/* One open input (file or buffer). */
typedef struct ipc_src {
    pl_buf *buf;
    bool mapped;      /* buf is a guarded mapping (pl_file_load) in registry slot map_slot */
    int32_t map_slot;
    int64_t end;      /* stream: file size; file format: start of the footer */
    int64_t pos;      /* stream: next message */
    bool is_file;
    ipc_block *dict_blocks, *batch_blocks;
    int64_t n_dict_blocks, n_batch_blocks, next_block;
    pl_ipc_schema sch;
    pl_array **dicts; /* current dictionary per sch.dict_ids entry */
    int64_t *col_node, *col_buf; /* first node / buffer of each top-level column */
} ipc_src;

typedef struct ipc_msg {
    pl_fb_reader r;
    pl_fb_table header;
    uint8_t type;
    int64_t start, body_pos, body_len;
} ipc_msg;

static void set_offset(pl_error *err, int64_t off) {
    if (err && err->byte_offset < 0) err->byte_offset = off;
}

static void parent_release(pl_buf *b) { pl_buf_release((pl_buf *)b->owner); }

/* A view of parent's bytes [p, p + n) that keeps parent alive. */
static pl_status sub_buf(pl_buf *parent, const uint8_t *p, int64_t n, pl_buf **out, pl_error *err) {
    pl_buf_retain(parent);
    pl_status st = pl_buf_wrap((uint8_t *)p, n, parent_release, parent, out, err);
    if (st) pl_buf_release(parent);
    return st;
}

static pl_status zero_buf(int64_t n, pl_buf **out, pl_error *err) {
    return pl_buf_new_zeroed(n, out, err);
}

/* ---------------------------------------------------------------- messages */

/* Reads the message at pos (< end). *eos on the end-of-stream marker or at end. */
static pl_status read_msg(ipc_src *s, int64_t pos, int64_t end, ipc_msg *m, bool *eos,
                          pl_error *err) {
    memset(m, 0, sizeof *m);
    *eos = false;
    m->start = pos;
    if (pos == end) {
        *eos = true;
        return PL_OK;
    }
    const uint8_t *d = s->buf->data;
    if (pos < 0 || pos > end || end - pos < 4) {
        set_offset(err, pos);
        PL_FAIL(err, PL_ERR_CORRUPT, "truncated message header");
    }
    uint32_t w = pl_load_u32le(d + pos);
    int64_t p = pos + 4;
    int32_t meta_len;
    if (w == PL_IPC_CONTINUATION) {
        if (end - p < 4) {
            set_offset(err, pos);
            PL_FAIL(err, PL_ERR_CORRUPT, "truncated message header");
        }
        meta_len = (int32_t)pl_load_u32le(d + p);
        p += 4;
    } else {
        meta_len = (int32_t)w;
    }
    if (meta_len == 0) {
        *eos = true;
        return PL_OK;
    }
    set_offset(err, pos);
    if (meta_len < 0) PL_FAIL(err, PL_ERR_CORRUPT, "negative message metadata size %d", meta_len);
    if (meta_len > end - p)
        PL_FAIL(err, PL_ERR_CORRUPT, "message metadata of %d bytes runs past the end of the input",
                meta_len);
    if (meta_len > PL_IPC_MAX_METADATA_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "message metadata of %d bytes exceeds the limit of %lld",
                meta_len, (long long)PL_IPC_MAX_METADATA_BYTES);
    pl_fb_table msg;
    if (!pl_fb_reader_init(&m->r, d + p, (size_t)meta_len, &msg))
        PL_FAIL(err, PL_ERR_CORRUPT, "malformed message metadata: %s", m->r.why);
    int16_t version = pl_fb_i16(&msg, 0, 0);
    m->type = pl_fb_u8(&msg, 1, 0);
    m->header = pl_fb_table_field(&msg, 2);
    m->body_len = pl_fb_i64(&msg, 3, 0);
    if (m->r.bad) PL_FAIL(err, PL_ERR_CORRUPT, "malformed message metadata: %s", m->r.why);
    if (version < PL_IPC_V4)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "arrow ipc metadata version V%d (before arrow 0.8) is "
                "not supported", version + 1);
    if (!pl_fb_present(&m->header)) PL_FAIL(err, PL_ERR_CORRUPT, "message without a header");
    m->body_pos = p + meta_len;
    if (m->body_len < 0 || m->body_len > end - m->body_pos)
        PL_FAIL(err, PL_ERR_CORRUPT, "message body of %lld bytes runs past the end of the input",
                (long long)m->body_len);
    if (m->body_len > PL_IPC_MAX_BODY_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "message body of %lld bytes exceeds the limit",
                (long long)m->body_len);
    if (err) err->byte_offset = -1;
    return PL_OK;
}

/* ---------------------------------------------------------------- record batch bodies */

typedef struct batch_ctx {
    ipc_src *src;
    const uint8_t *body;
    int64_t body_len;
    pl_fb_vec nodes, bufs;
    pl_codec codec; /* UNCOMPRESSED = none */
    pl_buf **prepared; /* by buffer index */
    uint8_t *want;     /* by buffer index: prepare it */
    int64_t n_bufs;
    int64_t node_i, buf_i;
    pl_status *task_st; /* parallel preparation */
} batch_ctx;

static pl_status prep_buffer(batch_ctx *c, int64_t i, pl_buf **out, pl_error *err) {
    *out = NULL;
    const uint8_t *e = pl_fb_vec_elem(&c->bufs, (uint32_t)i, 16);
    int64_t off = (int64_t)pl_load_u64le(e), len = (int64_t)pl_load_u64le(e + 8);
    if (off < 0 || len < 0 || off > c->body_len || len > c->body_len - off)
        PL_FAIL(err, PL_ERR_CORRUPT, "buffer %lld at [%lld, +%lld) lies outside the message body "
                "of %lld bytes", (long long)i, (long long)off, (long long)len,
                (long long)c->body_len);
    if (len == 0) return PL_OK;
    const uint8_t *p = c->body + off;
    if (c->codec != PL_CODEC_UNCOMPRESSED) {
        if (len < 8)
            PL_FAIL(err, PL_ERR_CORRUPT, "compressed buffer %lld shorter than its length prefix",
                    (long long)i);
        int64_t ulen = (int64_t)pl_load_u64le(p);
        p += 8;
        len -= 8;
        if (ulen != -1) {
            int64_t limit = g_max_buffer_bytes ? g_max_buffer_bytes : PL_IPC_MAX_BODY_BYTES;
            if (ulen < 0)
                PL_FAIL(err, PL_ERR_CORRUPT, "compressed buffer %lld claims %lld bytes",
                        (long long)i, (long long)ulen);
            if (ulen > limit)
                PL_FAIL(err, PL_ERR_LIMIT, "compressed buffer %lld claims %lld bytes (limit %lld)",
                        (long long)i, (long long)ulen, (long long)limit);
            if (ulen / PL_IPC_MAX_EXPANSION > len + 64)
                PL_FAIL(err, PL_ERR_CORRUPT, "compressed buffer %lld claims %lld bytes from %lld "
                        "compressed bytes", (long long)i, (long long)ulen, (long long)len);
            pl_buf *b;
            PL_TRY(pl_buf_new(ulen > 0 ? ulen : 1, &b, err));
            if (ulen > 0) {
                pl_status st = pl_codec_decompress(c->codec, p, len, b->data, ulen, err);
                if (st) {
                    pl_buf_release(b);
                    return st;
                }
            }
            b->size = ulen;
            *out = b;
            return PL_OK;
        }
    }
    if (((uintptr_t)p & (PL_IPC_ALIGN - 1)) == 0) return sub_buf(c->src->buf, p, len, out, err);
    pl_buf *b;
    PL_TRY(pl_buf_new(len, &b, err));
    memcpy(b->data, p, (size_t)len);
    b->size = len;
    *out = b;
    return PL_OK;
}

static void prep_task(void *arg, int64_t i, int32_t worker) {
    (void)worker;
    batch_ctx *c = arg;
    if (!c->want[i]) return;
    c->task_st[i] = prep_buffer(c, i, &c->prepared[i], NULL);
}

/* Prepares every wanted buffer; decompression runs on the pool. */
static pl_status prep_all(batch_ctx *c, int32_t n_threads, pl_error *err) {
    int64_t n_compressed = 0;
    for (int64_t i = 0; i < c->n_bufs; i++) n_compressed += c->want[i];
    if (c->codec != PL_CODEC_UNCOMPRESSED && n_compressed > 1) {
        c->task_st = pl_calloc((size_t)c->n_bufs, sizeof *c->task_st);
        if (!c->task_st) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a record batch");
        pl_parallel_for(c->n_bufs, n_threads, prep_task, c);
        for (int64_t i = 0; i < c->n_bufs; i++) {
            if (!c->task_st[i]) continue;
            /* redo the first failure serially for its message */
            pl_buf_release(c->prepared[i]);
            pl_status st = prep_buffer(c, i, &c->prepared[i], err);
            return st ? st : pl_error_set(err, PL_ERR_INTERNAL, "buffer preparation differs");
        }
        return PL_OK;
    }
    for (int64_t i = 0; i < c->n_bufs; i++)
        if (c->want[i]) PL_TRY(prep_buffer(c, i, &c->prepared[i], err));
    return PL_OK;
}

static pl_status take_node(batch_ctx *c, int64_t *len, int64_t *nulls, pl_error *err) {
    const uint8_t *e = pl_fb_vec_elem(&c->nodes, (uint32_t)c->node_i, 16);
    if (!e) PL_FAIL(err, PL_ERR_CORRUPT, "record batch has too few field nodes");
    *len = (int64_t)pl_load_u64le(e);
    *nulls = (int64_t)pl_load_u64le(e + 8);
    if (*len < 0 || *nulls < 0 || *nulls > *len)
        PL_FAIL(err, PL_ERR_CORRUPT, "field node %lld: length %lld, null count %lld",
                (long long)c->node_i, (long long)*len, (long long)*nulls);
    if (*len > PL_IPC_MAX_NODE_LENGTH)
        PL_FAIL(err, PL_ERR_LIMIT, "field node %lld: length %lld exceeds the limit of %lld",
                (long long)c->node_i, (long long)*len, (long long)PL_IPC_MAX_NODE_LENGTH);
    c->node_i++;
    return PL_OK;
}

static pl_buf *take_buf(batch_ctx *c) {
    pl_buf *b = c->prepared[c->buf_i];
    c->prepared[c->buf_i++] = NULL;
    return b;
}

static pl_status take_validity(batch_ctx *c, int64_t len, int64_t nulls, pl_buf **out,
                               pl_error *err) {
    pl_buf *v = take_buf(c);
    if (nulls == 0) {
        pl_buf_release(v);
        *out = NULL;
        return PL_OK;
    }
    if (!v || v->size < (len + 7) / 8) {
        pl_buf_release(v);
        PL_FAIL(err, PL_ERR_CORRUPT, "validity bitmap too small for %lld values with %lld nulls",
                (long long)len, (long long)nulls);
    }
    *out = v;
    return PL_OK;
}

/* Checks that buffer b holds at least n elements of width bytes (n * width, no overflow);
 * for an empty array (arr_len 0) or zero-width values (fixed_size_binary(0)) a missing or
 * short buffer is replaced by a zeroed one. */
static pl_status need_bytes(pl_buf **b, int64_t n, int64_t width, int64_t arr_len,
                            const char *what, pl_error *err) {
    if ((arr_len == 0 || width == 0) && (!*b || (*b)->size < n * width)) {
        pl_buf_release(*b);
        *b = NULL;
        return zero_buf(n * width + 1, b, err);
    }
    if (!*b || (width && (*b)->size / width < n))
        PL_FAIL(err, PL_ERR_CORRUPT, "%s buffer of %lld bytes too small for %lld values", what,
                (long long)(*b ? (*b)->size : 0), (long long)n);
    return PL_OK;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, f;
    if (exp == 0) {
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    }
    if (exp == 31) f = sign | 0x7f800000u | (mant << 13);
    else f = sign | ((exp + 112) << 23) | (mant << 13);
    float r;
    memcpy(&r, &f, 4);
    return r;
}

/* Converts int64 offsets [len + 1] to int32 offsets rebased at 0; o0 and on receive the first
 * and the last offset. */
static pl_status narrow_offsets(const pl_buf *src, int64_t len, int64_t limit, pl_buf **out,
                                int64_t *o0, int64_t *on, pl_error *err) {
    const uint8_t *p = src->data;
    int64_t first = (int64_t)pl_load_u64le(p), last = (int64_t)pl_load_u64le(p + 8 * len);
    if (first < 0 || last < first || last > limit)
        PL_FAIL(err, PL_ERR_CORRUPT, "64-bit offsets [%lld, %lld] outside [0, %lld]",
                (long long)first, (long long)last, (long long)limit);
    if (last - first > INT32_MAX)
        PL_FAIL(err, PL_ERR_LIMIT, "a large (64-bit offset) column holds %lld bytes or items in "
                "one batch; polaroid arrays hold at most 2 GiB", (long long)(last - first));
    pl_buf *b;
    PL_TRY(pl_buf_new((len + 1) * 4, &b, err));
    int32_t *o = (int32_t *)(void *)b->data;
    int64_t prev = first;
    for (int64_t i = 0; i <= len; i++) {
        int64_t v = (int64_t)pl_load_u64le(p + 8 * i);
        if (v < prev || v > last) {
            pl_buf_release(b);
            PL_FAIL(err, PL_ERR_CORRUPT, "64-bit offsets not increasing at %lld", (long long)i);
        }
        o[i] = (int32_t)(v - first);
        prev = v;
    }
    b->size = (len + 1) * 4;
    *out = b;
    *o0 = first;
    *on = last;
    return PL_OK;
}

static pl_type *value_type(const pl_ipc_field *f) {
    return f->dict_id >= 0 ? f->type->value_type : f->type;
}

static pl_array *find_dict(ipc_src *s, int64_t id) {
    for (int32_t k = 0; k < s->sch.n_dicts; k++)
        if (s->sch.dict_ids[k] == id) return s->dicts[k];
    return NULL;
}

/* pl_array_new, with argument complaints reported as corrupt input. */
static pl_status new_array(pl_type *t, int64_t len, pl_buf *validity, pl_buf *values,
                           pl_buf *data, int32_t n_children, pl_array **children, pl_array *dict,
                           pl_array **out, pl_error *err) {
    pl_status st = pl_array_new(pl_type_retain(t), len, -1, validity, values, data, n_children,
                                children, dict, out, err);
    if (st && st != PL_ERR_NOMEM) {
        if (err) err->code = PL_ERR_CORRUPT;
        return PL_ERR_CORRUPT;
    }
    return st;
}

static pl_status assemble(batch_ctx *c, const pl_ipc_field *f, bool as_value, int depth,
                          pl_array **out, pl_error *err);

static pl_status assemble_children(batch_ctx *c, const pl_ipc_field *f, int depth,
                                   pl_array ***out, pl_error *err) {
    pl_array **kids = pl_calloc((size_t)(f->n_children ? f->n_children : 1), sizeof *kids);
    if (!kids) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a record batch");
    for (int32_t k = 0; k < f->n_children; k++) {
        pl_status st = assemble(c, &f->children[k], false, depth + 1, &kids[k], err);
        if (st) {
            for (int32_t j = 0; j < k; j++) pl_array_release(kids[j]);
            pl_free(kids);
            return st;
        }
    }
    *out = kids;
    return PL_OK;
}

static pl_status assemble(batch_ctx *c, const pl_ipc_field *f, bool as_value, int depth,
                          pl_array **out, pl_error *err) {
    int64_t len, nulls;
    PL_TRY(take_node(c, &len, &nulls, err));
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_array **kids = NULL;
    pl_status st = PL_OK;
    if (f->dict_id >= 0 && !as_value) {
        PL_TRY(take_validity(c, len, nulls, &validity, err));
        values = take_buf(c);
        pl_array *dict = find_dict(c->src, f->dict_id);
        if (!dict) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "record batch uses dictionary id %lld before "
                              "any dictionary batch defined it", (long long)f->dict_id);
            goto fail;
        }
        if ((st = need_bytes(&values, len, f->index_width, len, "dictionary index", err)))
            goto fail;
        return new_array(f->type, len, validity, values, NULL, 0, NULL, pl_array_retain(dict), out,
                         err);
    }
    pl_type *t = value_type(f);
    if (f->kind == PL_IPC_K_NULL)
        return new_array(t, len, NULL, NULL, NULL, 0, NULL, NULL, out, err);
    PL_TRY(take_validity(c, len, nulls, &validity, err));
    switch (f->kind) {
    case PL_IPC_K_BOOL:
        values = take_buf(c);
        if (len == 0 && !values) st = zero_buf(1, &values, err);
        else if (!values || values->size < (len + 7) / 8)
            st = pl_error_set(err, PL_ERR_CORRUPT, "bool buffer too small for %lld values",
                              (long long)len);
        break;
    case PL_IPC_K_FIXED:
        values = take_buf(c);
        st = need_bytes(&values, len, f->width, len, "values", err);
        break;
    case PL_IPC_K_DATE64: case PL_IPC_K_TIME32: case PL_IPC_K_FLOAT16: {
        pl_buf *src = take_buf(c);
        int64_t w = f->kind == PL_IPC_K_DATE64 ? 8 : f->kind == PL_IPC_K_TIME32 ? 4 : 2;
        st = need_bytes(&src, len, w, len, "values", err);
        if (!st) st = pl_buf_new(len * t->byte_width + 1, &values, err);
        if (!st) {
            const uint8_t *p = src->data;
            if (f->kind == PL_IPC_K_DATE64) {
                int32_t *o = (int32_t *)(void *)values->data;
                for (int64_t i = 0; i < len; i++) {
                    int64_t ms = (int64_t)pl_load_u64le(p + 8 * i);
                    int64_t days = ms / 86400000, rem = ms % 86400000;
                    o[i] = (int32_t)(days - (rem < 0));
                }
            } else if (f->kind == PL_IPC_K_TIME32) {
                int64_t *o = (int64_t *)(void *)values->data;
                for (int64_t i = 0; i < len; i++)
                    o[i] = (int64_t)(int32_t)pl_load_u32le(p + 4 * i) * f->width;
            } else {
                float *o = (float *)(void *)values->data;
                for (int64_t i = 0; i < len; i++) {
                    uint16_t h;
                    memcpy(&h, p + 2 * i, 2);
                    o[i] = half_to_float(h);
                }
            }
            values->size = len * t->byte_width;
        }
        pl_buf_release(src);
        break;
    }
    case PL_IPC_K_BIN32:
        values = take_buf(c);
        data = take_buf(c);
        if (!(st = need_bytes(&values, len + 1, 4, len, "offsets", err)) && !data)
            st = zero_buf(0, &data, err);
        break;
    case PL_IPC_K_BIN64: {
        pl_buf *o64 = take_buf(c);
        pl_buf *raw = take_buf(c);
        int64_t o0 = 0, on = 0;
        st = need_bytes(&o64, len + 1, 8, len, "offsets", err);
        if (!st && !raw) st = zero_buf(0, &raw, err);
        if (!st) st = narrow_offsets(o64, len, raw->size, &values, &o0, &on, err);
        if (!st) st = o0 == 0 ? (data = pl_buf_retain(raw), PL_OK)
                              : sub_buf(raw, raw->data + o0, on - o0, &data, err);
        pl_buf_release(o64);
        pl_buf_release(raw);
        break;
    }
    case PL_IPC_K_LIST32: case PL_IPC_K_LIST64: case PL_IPC_K_FSL: {
        pl_buf *offs = f->kind == PL_IPC_K_FSL ? NULL : take_buf(c);
        if ((st = assemble_children(c, f, depth, &kids, err))) {
            pl_buf_release(offs);
            break;
        }
        if (f->kind == PL_IPC_K_LIST32) {
            values = offs;
            st = need_bytes(&values, len + 1, 4, len, "offsets", err);
        } else if (f->kind == PL_IPC_K_LIST64) {
            int64_t o0 = 0, on = 0;
            st = need_bytes(&offs, len + 1, 8, len, "offsets", err);
            if (!st) st = narrow_offsets(offs, len, kids[0]->length, &values, &o0, &on, err);
            pl_buf_release(offs);
            pl_array *sl;
            if (!st && (o0 != 0 || on != kids[0]->length) &&
                !(st = pl_array_slice(kids[0], o0, on - o0, &sl, err))) {
                pl_array_release(kids[0]);
                kids[0] = sl;
            }
        } else {
            int64_t n = f->width;
            if (n > 0 && len > kids[0]->length / n)
                st = pl_error_set(err, PL_ERR_CORRUPT, "fixed_size_list child of %lld values too "
                                  "short for %lld lists of %lld", (long long)kids[0]->length,
                                  (long long)len, (long long)n);
            else if (len * n > INT32_MAX)
                st = pl_error_set(err, PL_ERR_LIMIT, "fixed_size_list holds more than 2^31 items");
            if (!st) st = pl_buf_new((len + 1) * 4, &values, err);
            if (!st) {
                int32_t *o = (int32_t *)(void *)values->data;
                for (int64_t i = 0; i <= len; i++) o[i] = (int32_t)(i * n);
                values->size = (len + 1) * 4;
            }
        }
        if (st) goto fail;
        st = new_array(t, len, validity, values, NULL, 1, kids, NULL, out, err);
        pl_free(kids);
        return st;
    }
    case PL_IPC_K_STRUCT:
        if ((st = assemble_children(c, f, depth, &kids, err))) break;
        for (int32_t k = 0; k < f->n_children; k++)
            if (kids[k]->length < len) {
                st = pl_error_set(err, PL_ERR_CORRUPT, "struct child %d has %lld values, the "
                                  "struct %lld", k, (long long)kids[k]->length, (long long)len);
                goto fail;
            }
        st = new_array(t, len, validity, NULL, NULL, f->n_children, kids, NULL, out, err);
        pl_free(kids);
        return st;
    default:
        st = pl_error_set(err, PL_ERR_INTERNAL, "unknown ipc layout %d", (int)f->kind);
        break;
    }
    if (st) goto fail;
    return new_array(t, len, validity, values, data, 0, NULL, NULL, out, err);
fail:
    pl_buf_release(validity);
    pl_buf_release(values);
    pl_buf_release(data);
    if (kids) {
        for (int32_t k = 0; k < f->n_children; k++) pl_array_release(kids[k]);
        pl_free(kids);
    }
    return st;
}

static void batch_ctx_reset(batch_ctx *c) {
    if (c->prepared)
        for (int64_t i = 0; i < c->n_bufs; i++) pl_buf_release(c->prepared[i]);
    pl_free(c->prepared);
    pl_free(c->want);
    pl_free(c->task_st);
    memset(c, 0, sizeof *c);
}

/* Sets up c for a RecordBatch table; n_bufs_needed buffers are addressable. */
static pl_status batch_ctx_init(batch_ctx *c, ipc_src *s, const ipc_msg *m, const pl_fb_table *rb,
                                int64_t n_nodes, int64_t n_bufs, pl_error *err) {
    memset(c, 0, sizeof *c);
    c->src = s;
    c->body = s->buf->data + m->body_pos;
    c->body_len = m->body_len;
    c->nodes = pl_fb_vec_field(rb, 1, 16);
    c->bufs = pl_fb_vec_field(rb, 2, 16);
    pl_fb_table comp = pl_fb_table_field(rb, 3);
    c->codec = PL_CODEC_UNCOMPRESSED;
    if (pl_fb_present(&comp)) {
        int8_t codec = (int8_t)pl_fb_u8(&comp, 0, 0);
        uint8_t method = pl_fb_u8(&comp, 1, 0);
        if (method != 0)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "body compression method %u is not supported", method);
        if (codec == PL_IPC_LZ4_FRAME) c->codec = PL_CODEC_LZ4_FRAME;
        else if (codec == PL_IPC_ZSTD) c->codec = PL_CODEC_ZSTD;
        else PL_FAIL(err, PL_ERR_UNSUPPORTED, "body compression codec %d is not supported", codec);
    }
    if (m->r.bad) PL_FAIL(err, PL_ERR_CORRUPT, "malformed record batch metadata: %s", m->r.why);
    if ((int64_t)c->nodes.len < n_nodes || (int64_t)c->bufs.len < n_bufs)
        PL_FAIL(err, PL_ERR_CORRUPT, "record batch has %u field nodes and %u buffers, the schema "
                "needs %lld and %lld", c->nodes.len, c->bufs.len, (long long)n_nodes,
                (long long)n_bufs);
    c->n_bufs = n_bufs;
    c->prepared = pl_calloc((size_t)(n_bufs ? n_bufs : 1), sizeof *c->prepared);
    c->want = pl_calloc((size_t)(n_bufs ? n_bufs : 1), 1);
    if (!c->prepared || !c->want)
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a record batch");
    return PL_OK;
}

typedef struct validate_job {
    pl_array **cols;
    pl_status *st;
} validate_job;

static void validate_task(void *arg, int64_t i, int32_t worker) {
    (void)worker;
    validate_job *j = arg;
    j->st[i] = pl_array_validate(j->cols[i], true, NULL);
}

/* Validates columns (on the pool when there are several); names the failing column. */
static pl_status validate_cols(pl_array **cols, const int32_t *col_idx, int32_t n,
                               const pl_schema *schema, int32_t n_threads, pl_error *err) {
    pl_status *sts = n > 1 ? pl_calloc((size_t)n, sizeof *sts) : NULL;
    if (sts) {
        validate_job j = {cols, sts};
        pl_parallel_for(n, n_threads, validate_task, &j);
    }
    for (int32_t k = 0; k < n; k++) {
        if (sts && !sts[k]) continue;
        pl_status st = pl_array_validate(cols[k], true, err);
        if (st) {
            pl_free(sts);
            pl_error_set_column(err, col_idx[k], schema->fields[col_idx[k]].name);
            return st;
        }
    }
    pl_free(sts);
    return PL_OK;
}

static pl_status apply_dictionary(ipc_src *s, const ipc_msg *m, int32_t n_threads, pl_error *err) {
    int64_t id = pl_fb_i64(&m->header, 0, 0);
    pl_fb_table rb = pl_fb_table_field(&m->header, 1);
    bool delta = pl_fb_bool(&m->header, 2, false);
    if (m->r.bad) PL_FAIL(err, PL_ERR_CORRUPT, "malformed dictionary batch metadata: %s", m->r.why);
    if (!pl_fb_present(&rb)) PL_FAIL(err, PL_ERR_CORRUPT, "dictionary batch without data");
    int32_t k = 0;
    while (k < s->sch.n_dicts && s->sch.dict_ids[k] != id) k++;
    if (k == s->sch.n_dicts)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary batch for id %lld, which no field uses",
                (long long)id);
    const pl_ipc_field *f = s->sch.dict_fields[k];
    int32_t n_nodes, n_bufs;
    pl_ipc_field_counts(f, true, &n_nodes, &n_bufs);
    batch_ctx c;
    pl_status st = batch_ctx_init(&c, s, m, &rb, n_nodes, n_bufs, err);
    pl_array *dict = NULL;
    if (!st) {
        memset(c.want, 1, (size_t)n_bufs);
        st = prep_all(&c, n_threads, err);
    }
    if (!st) st = assemble(&c, f, true, 0, &dict, err);
    if (!st) st = pl_array_validate(dict, true, err);
    batch_ctx_reset(&c);
    if (!st && delta && s->dicts[k]) {
        pl_array *both[2] = {s->dicts[k], dict}, *cat;
        st = pl_array_concat(2, both, &cat, err);
        pl_array_release(dict);
        dict = st ? NULL : cat;
        if (!st && dict->length > PL_IPC_MAX_NODE_LENGTH)
            st = pl_error_set(err, PL_ERR_LIMIT, "dictionary %lld grows past %lld values",
                              (long long)id, (long long)PL_IPC_MAX_NODE_LENGTH);
    }
    if (st) {
        pl_array_release(dict);
        return st;
    }
    pl_array_release(s->dicts[k]);
    s->dicts[k] = dict;
    return PL_OK;
}

/* Decodes a RecordBatch message into a batch of the projected columns. */
static pl_status decode_batch(ipc_src *s, const ipc_msg *m, const int32_t *proj, int32_t n_proj,
                              pl_schema *out_schema, int32_t n_threads, pl_batch **out,
                              pl_error *err) {
    const pl_fb_table *rb = &m->header;
    int64_t n_rows = pl_fb_i64(rb, 0, 0);
    int32_t n_fields = s->sch.schema->n_fields;
    if (n_rows < 0) PL_FAIL(err, PL_ERR_CORRUPT, "record batch of %lld rows", (long long)n_rows);
    batch_ctx c;
    pl_status st = batch_ctx_init(&c, s, m, rb, s->col_node[n_fields], s->col_buf[n_fields], err);
    if (st) {
        batch_ctx_reset(&c);
        return st;
    }
    for (int32_t k = 0; k < n_proj; k++)
        memset(c.want + s->col_buf[proj[k]], 1,
               (size_t)(s->col_buf[proj[k] + 1] - s->col_buf[proj[k]]));
    st = prep_all(&c, n_threads, err);
    pl_array **cols = pl_calloc((size_t)(n_proj ? n_proj : 1), sizeof *cols);
    if (!st && !cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading a record batch");
    for (int32_t k = 0; k < n_proj && !st; k++) {
        int32_t col = proj[k];
        c.node_i = s->col_node[col];
        c.buf_i = s->col_buf[col];
        st = assemble(&c, &s->sch.fields[col], false, 0, &cols[k], err);
        if (!st && cols[k]->length != n_rows)
            st = pl_error_set(err, PL_ERR_CORRUPT, "column of %lld values in a record batch of "
                              "%lld rows", (long long)cols[k]->length, (long long)n_rows);
        if (st) pl_error_set_column(err, col, s->sch.schema->fields[col].name);
    }
    batch_ctx_reset(&c);
    if (!st) st = validate_cols(cols, proj, n_proj, s->sch.schema, n_threads, err);
    if (st) {
        for (int32_t k = 0; cols && k < n_proj; k++) pl_array_release(cols[k]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(out_schema), n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

/* ---------------------------------------------------------------- opening */

static void src_reset(ipc_src *s) {
    if (s->dicts)
        for (int32_t k = 0; k < s->sch.n_dicts; k++) pl_array_release(s->dicts[k]);
    pl_free(s->dicts);
    pl_ipc_schema_reset(&s->sch);
    pl_free(s->dict_blocks);
    pl_free(s->batch_blocks);
    pl_free(s->col_node);
    pl_free(s->col_buf);
    pl_buf_release(s->buf);
    memset(s, 0, sizeof *s);
}

static pl_status read_stdin(pl_buf **out, pl_error *err) {
    pl_buf *b;
    PL_TRY(pl_buf_new(1 << 16, &b, err));
    for (;;) {
        if (b->capacity - b->size < (1 << 15)) {
            pl_status st = pl_buf_reserve(b, b->capacity * 2, err);
            if (st) {
                pl_buf_release(b);
                return st;
            }
        }
        ssize_t n = read(0, b->data + b->size, (size_t)(b->capacity - b->size));
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            pl_buf_release(b);
            PL_FAIL(err, PL_ERR_IO, "cannot read standard input: %s", strerror(e));
        }
        b->size += n;
    }
    *out = b;
    return PL_OK;
}

static pl_status read_blocks(const pl_fb_table *footer, int id, int64_t file_end, ipc_block **out,
                             int64_t *n_out, pl_error *err) {
    pl_fb_vec v = pl_fb_vec_field(footer, id, 24);
    if (footer->r->bad) PL_FAIL(err, PL_ERR_CORRUPT, "malformed file footer: %s", footer->r->why);
    ipc_block *b = pl_calloc(v.len ? v.len : 1, sizeof *b);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a file footer");
    for (uint32_t k = 0; k < v.len; k++) {
        b[k].offset = (int64_t)pl_load_u64le(pl_fb_vec_elem(&v, k, 24));
        if (b[k].offset < 0 || b[k].offset >= file_end) {
            int64_t off = b[k].offset;
            pl_free(b);
            PL_FAIL(err, PL_ERR_CORRUPT, "file footer block %u at byte %lld outside the file", k,
                    (long long)off);
        }
    }
    *out = b;
    *n_out = v.len;
    return PL_OK;
}

/* Column start indices and dictionary slots once the schema is known. */
static pl_status src_prepare(ipc_src *s, pl_error *err) {
    int32_t n = s->sch.schema->n_fields;
    s->col_node = pl_calloc((size_t)n + 1, sizeof(int64_t));
    s->col_buf = pl_calloc((size_t)n + 1, sizeof(int64_t));
    s->dicts = pl_calloc((size_t)(s->sch.n_dicts ? s->sch.n_dicts : 1), sizeof(pl_array *));
    if (!s->col_node || !s->col_buf || !s->dicts)
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening an arrow file");
    for (int32_t k = 0; k < n; k++) {
        s->col_node[k + 1] = s->col_node[k] + s->sch.fields[k].n_nodes;
        s->col_buf[k + 1] = s->col_buf[k] + s->sch.fields[k].n_buffers;
    }
    return PL_OK;
}

/* Opens buf (taken) as a stream or file; reads the schema (and the file's dictionaries). */
static pl_status src_open(pl_buf *buf, ipc_src *s, int32_t n_threads, pl_error *err) {
    memset(s, 0, sizeof *s);
    s->buf = buf;
    int64_t size = buf->size;
    const uint8_t *d = buf->data;
    pl_status st;
    if (size >= PL_IPC_MAGIC_BYTES && memcmp(d, PL_IPC_MAGIC, PL_IPC_MAGIC_BYTES) == 0) {
        s->is_file = true;
        int64_t min = 2 * PL_IPC_MAGIC_BYTES + 2 + 4;
        if (size < min || memcmp(d + size - PL_IPC_MAGIC_BYTES, PL_IPC_MAGIC, PL_IPC_MAGIC_BYTES))
            PL_FAIL(err, PL_ERR_CORRUPT, "arrow file without the closing \"ARROW1\" (truncated?)");
        int32_t flen = (int32_t)pl_load_u32le(d + size - PL_IPC_MAGIC_BYTES - 4);
        if (flen <= 0 || flen > size - min) {
            set_offset(err, size - PL_IPC_MAGIC_BYTES - 4);
            PL_FAIL(err, PL_ERR_CORRUPT, "arrow file footer size %d out of range", flen);
        }
        if (flen > PL_IPC_MAX_METADATA_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "arrow file footer of %d bytes exceeds the limit", flen);
        s->end = size - PL_IPC_MAGIC_BYTES - 4 - flen;
        pl_fb_reader r;
        pl_fb_table footer;
        if (!pl_fb_reader_init(&r, d + s->end, (size_t)flen, &footer)) {
            set_offset(err, s->end);
            PL_FAIL(err, PL_ERR_CORRUPT, "malformed file footer: %s", r.why);
        }
        pl_fb_table sch = pl_fb_table_field(&footer, 1);
        if (r.bad || !pl_fb_present(&sch)) {
            set_offset(err, s->end);
            PL_FAIL(err, PL_ERR_CORRUPT, "file footer without a schema");
        }
        st = pl_ipc_schema_decode(&sch, &s->sch, err);
        if (!st) st = read_blocks(&footer, 2, s->end, &s->dict_blocks, &s->n_dict_blocks, err);
        if (!st) st = read_blocks(&footer, 3, s->end, &s->batch_blocks, &s->n_batch_blocks, err);
        if (!st) st = src_prepare(s, err);
        for (int64_t k = 0; !st && k < s->n_dict_blocks; k++) {
            ipc_msg m;
            bool eos;
            st = read_msg(s, s->dict_blocks[k].offset, s->end, &m, &eos, err);
            if (!st && (eos || m.type != PL_IPC_H_DICTIONARY)) {
                set_offset(err, s->dict_blocks[k].offset);
                st = pl_error_set(err, PL_ERR_CORRUPT, "file footer dictionary block is not a "
                                  "dictionary batch");
            }
            if (!st) {
                st = apply_dictionary(s, &m, n_threads, err);
                if (st) set_offset(err, m.start);
            }
        }
        return st;
    }
    if (size >= 4 && memcmp(d, "FEA1", 4) == 0) {
        pl_error_set(err, PL_ERR_UNSUPPORTED, "feather version 1 files are not supported");
        if (err) snprintf(err->hint, sizeof err->hint, "rewrite it as feather version 2 (arrow)");
        return PL_ERR_UNSUPPORTED;
    }
    s->end = size;
    ipc_msg m;
    bool eos;
    PL_TRY(read_msg(s, 0, s->end, &m, &eos, err));
    if (eos) PL_FAIL(err, PL_ERR_CORRUPT, "arrow stream without a schema message");
    if (m.type != PL_IPC_H_SCHEMA) {
        set_offset(err, 0);
        PL_FAIL(err, PL_ERR_CORRUPT, "arrow stream starts with message type %u, not a schema",
                m.type);
    }
    st = pl_ipc_schema_decode(&m.header, &s->sch, err);
    if (st) {
        set_offset(err, 0);
        return st;
    }
    s->pos = m.body_pos + m.body_len;
    return src_prepare(s, err);
}

/* ---------------------------------------------------------------- the stream */

typedef struct ipc_scan {
    char **paths;
    int32_t n_paths, path_i;
    pl_buf *first_buf; /* pl_ipc_scan_buffer: the input */
    ipc_src src;
    bool src_open;
    pl_schema *file_schema;
    int32_t *proj, n_proj;
    int64_t remaining; /* rows still allowed; -1 = no limit */
    int32_t n_threads;
} ipc_scan;

/* Pages of a mapped file that was truncated under the reader read as zeros (core/file.c):
 * whatever was decoded from them is void, so after each message (and at the end of the file)
 * the outcome st becomes an error naming the change. Batches already returned keep their
 * zero-copy views: pages they lose read as zeros from then on (no fault), and the stream's
 * next call reports the change. */
static pl_status src_check_unchanged(ipc_src *s, pl_status st, pl_error *err) {
    if (!s->mapped || !pl_file_map_lost(s->map_slot)) return st;
    pl_error_init(err);
    return pl_error_set(err, PL_ERR_IO, "file changed while it was being read (truncated to less "
                        "than its %lld bytes)", (long long)s->buf->size);
}

static pl_status open_path(ipc_scan *sc, int32_t i, pl_error *err) {
    pl_buf *buf = NULL;
    int32_t slot = -1;
    if (i == 0 && sc->first_buf) buf = pl_buf_retain(sc->first_buf);
    else if (!strcmp(sc->paths[i], "-")) PL_TRY(read_stdin(&buf, err));
    else PL_TRY(pl_file_load(sc->paths[i], &buf, &slot, err));
    pl_status st = src_open(buf, &sc->src, sc->n_threads, err);
    sc->src.mapped = slot >= 0;
    sc->src.map_slot = slot;
    st = src_check_unchanged(&sc->src, st, err); /* the footer, schema and dictionaries */
    if (!st && sc->file_schema && !pl_schema_equals(sc->file_schema, sc->src.sch.schema))
        st = pl_error_set(err, PL_ERR_TYPE, "schema differs from the first file's");
    if (st) {
        src_reset(&sc->src);
        pl_error_set_path(err, sc->paths[i]);
        return st;
    }
    sc->src_open = true;
    return PL_OK;
}

/* Next message of the current source; *eos at its end. */
static pl_status next_msg(ipc_src *s, ipc_msg *m, bool *eos, pl_error *err) {
    if (s->is_file) {
        if (s->next_block >= s->n_batch_blocks) {
            *eos = true;
            return PL_OK;
        }
        int64_t off = s->batch_blocks[s->next_block++].offset;
        PL_TRY(read_msg(s, off, s->end, m, eos, err));
        if (*eos || m->type != PL_IPC_H_RECORD_BATCH) {
            set_offset(err, off);
            PL_FAIL(err, PL_ERR_CORRUPT, "file footer record batch block is not a record batch");
        }
        return PL_OK;
    }
    PL_TRY(read_msg(s, s->pos, s->end, m, eos, err));
    if (!*eos) s->pos = m->body_pos + m->body_len;
    return PL_OK;
}

static pl_status scan_next(pl_stream *st_, pl_batch **out, pl_error *err) {
    ipc_scan *sc = st_->impl;
    *out = NULL;
    for (;;) {
        if (sc->remaining == 0) return PL_OK;
        if (!sc->src_open) {
            if (sc->path_i >= sc->n_paths) return PL_OK;
            PL_TRY(open_path(sc, sc->path_i, err));
        }
        ipc_src *s = &sc->src;
        ipc_msg m;
        bool eos = false;
        pl_status st = next_msg(s, &m, &eos, err);
        if (eos) st = src_check_unchanged(s, st, err);
        if (!st && eos) {
            src_reset(s);
            sc->src_open = false;
            sc->path_i++;
            continue;
        }
        if (!st) {
            switch (m.type) {
            case PL_IPC_H_DICTIONARY:
                st = apply_dictionary(s, &m, sc->n_threads, err);
                break;
            case PL_IPC_H_RECORD_BATCH:
                st = decode_batch(s, &m, sc->proj, sc->n_proj, st_->schema, sc->n_threads, out,
                                  err);
                break;
            case PL_IPC_H_SCHEMA:
                st = pl_error_set(err, PL_ERR_CORRUPT, "a second schema message in the stream");
                break;
            default:
                st = pl_error_set(err, PL_ERR_UNSUPPORTED, "arrow ipc message type %u (tensor?) is "
                                  "not supported", m.type);
                break;
            }
            if (st) set_offset(err, m.start);
        }
        st = src_check_unchanged(s, st, err);
        if (st) {
            pl_batch_release(*out);
            *out = NULL;
            pl_error_set_path(err, sc->paths[sc->path_i]);
            return st;
        }
        if (!*out) continue;
        if (sc->remaining > 0 && (*out)->n_rows >= sc->remaining) {
            if ((*out)->n_rows > sc->remaining) {
                pl_batch *sl;
                st = pl_batch_slice(*out, 0, sc->remaining, &sl, err);
                pl_batch_release(*out);
                *out = NULL;
                if (st) return st;
                *out = sl;
            }
            sc->remaining = 0;
        } else if (sc->remaining > 0) {
            sc->remaining -= (*out)->n_rows;
        }
        return PL_OK;
    }
}

static void scan_free(pl_stream *s) {
    if (!s) return;
    ipc_scan *sc = s->impl;
    if (sc) {
        src_reset(&sc->src);
        for (int32_t i = 0; i < sc->n_paths; i++) pl_free(sc->paths ? sc->paths[i] : NULL);
        pl_free(sc->paths);
        pl_buf_release(sc->first_buf);
        pl_schema_release(sc->file_schema);
        pl_free(sc->proj);
        pl_free(sc);
    }
    pl_schema_release(s->schema);
    pl_free(s);
}

static pl_status scan_open(int32_t n_paths, const char *const *paths, pl_buf *buf,
                           const pl_read_opts *opts, pl_stream **out, pl_error *err) {
    pl_read_opts defaults;
    opts = pl_read_opts_or_default(opts, &defaults);
    pl_stream *s = pl_calloc(1, sizeof *s);
    ipc_scan *sc = pl_calloc(1, sizeof *sc);
    if (!s || !sc) {
        pl_free(s);
        pl_free(sc);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening an arrow stream");
    }
    s->impl = sc;
    s->next = scan_next;
    s->free = scan_free;
    sc->remaining = opts->limit;
    sc->n_threads = opts->n_threads;
    sc->first_buf = buf ? pl_buf_retain(buf) : NULL;
    pl_status st = PL_OK;
    sc->paths = pl_calloc((size_t)n_paths, sizeof(char *));
    if (!sc->paths) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory opening an arrow stream");
    for (int32_t i = 0; !st && i < n_paths; i++) {
        sc->paths[i] = pl_strdup(paths[i]);
        if (!sc->paths[i]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        sc->n_paths = i + 1;
    }
    if (!st) st = open_path(sc, 0, err);
    if (!st) {
        sc->file_schema = pl_schema_retain(sc->src.sch.schema);
        const pl_schema *fs = sc->file_schema;
        int32_t n = opts->columns ? opts->n_columns : fs->n_fields;
        sc->proj = pl_calloc((size_t)(n ? n : 1), sizeof(int32_t));
        pl_field *pf = pl_calloc((size_t)(n ? n : 1), sizeof(pl_field));
        if (!sc->proj || !pf) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; !st && k < n; k++) {
            int32_t idx = opts->columns ? pl_schema_find(fs, opts->columns[k]) : k;
            if (idx < 0) {
                st = pl_error_set(err, PL_ERR_NOT_FOUND, "column \"%s\" not found",
                                  opts->columns[k]);
                pl_error_set_path(err, paths[0]);
                break;
            }
            sc->proj[k] = idx;
            pf[k] = fs->fields[idx];
        }
        sc->n_proj = n;
        if (!st) st = pl_schema_new(n, pf, &s->schema, err);
        for (int32_t k = 0; !st && k < fs->n_meta; k++)
            st = pl_schema_add_meta(s->schema, fs->meta_keys[k], fs->meta_values[k], err);
        pl_free(pf);
    }
    if (st) {
        scan_free(s);
        return st;
    }
    *out = s;
    return PL_OK;
}

pl_status pl_ipc_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                           pl_stream **out, pl_error *err) {
    if (n_paths <= 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "no input files given");
    return scan_open(n_paths, paths, NULL, opts, out, err);
}

pl_status pl_ipc_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                             pl_stream **out, pl_error *err) {
    const char *paths[1] = {name ? name : "<buffer>"};
    return scan_open(1, paths, buf, opts, out, err);
}
