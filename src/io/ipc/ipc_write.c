/* ipc_write.c - the Arrow IPC writer: the stream format (schema message, dictionary batches,
 * record batches, end-of-stream marker) or the file format (the same stream between "ARROW1"
 * magics, then a Footer with the schema and the blocks of every dictionary and record batch).
 *
 * Record batch bodies are written straight from the arrays' buffers (no copy) unless a slice
 * needs rebasing: validity/bool bitmaps at a bit offset are shifted, offsets not starting at 0
 * are rebased. With a codec (LZ4_FRAME or ZSTD) every buffer is compressed on the pool and
 * prefixed by its uncompressed length (-1 and the raw bytes when compression does not help).
 * Dictionary arrays are written as dictionary-encoded fields; a DictionaryBatch is emitted
 * whenever a column's dictionary differs from the last one written for its id (a replacement in
 * the stream format; in the file format only growth is allowed, written as a delta). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io/codecs/codec.h"
#include "io/io_int.h"
#include "io/ipc/ipc_int.h"

static const uint8_t g_zeros[64];

/* One body buffer: an optional int64 length prefix, then n bytes at p (own keeps them alive). */
typedef struct seg {
    const uint8_t *p;
    int64_t n;
    pl_buf *own;
    int64_t prefix;
    bool has_prefix;
} seg;

typedef struct body {
    const pl_array *const *remap_from; /* dictionary index substitutions */
    pl_buf *const *remap_to;
    int32_t n_remap;
    seg *segs;
    int64_t n_segs, cap_segs;
    int64_t *nodes; /* length, null count pairs */
    int64_t n_nodes, cap_nodes;
} body;

typedef struct block {
    int64_t offset;
    int32_t meta_len;
    int64_t body_len;
} block;

typedef struct ipc_writer {
    pl_ipc_sink_fn sink;
    void *ctx;
    FILE *f;
    bool own_file;
    bool file_format;
    pl_schema *schema;
    pl_codec codec;
    int32_t level, n_threads;
    int64_t pos;
    bool started, finished, failed;
    int32_t n_dicts;
    pl_array **last_dicts; /* last dictionary array seen per id */
    pl_array **acc_dicts;  /* file format: everything written so far per id */
    /* file format: dictionary-encoded arrays of the current batch whose indices were remapped
     * into the accumulated dictionary, and their new index buffers */
    const pl_array **remap_from;
    pl_buf **remap_to;
    int32_t n_remap;
    block *blocks[2]; /* dictionaries, record batches */
    int64_t n_blocks[2], cap_blocks[2];
} ipc_writer;

static pl_status out_bytes(ipc_writer *w, const void *p, int64_t n, pl_error *err) {
    if (n == 0) return PL_OK;
    PL_TRY(w->sink(w->ctx, p, n, err));
    w->pos += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- bodies */

static void body_reset(body *b) {
    for (int64_t i = 0; i < b->n_segs; i++) pl_buf_release(b->segs[i].own);
    pl_free(b->segs);
    pl_free(b->nodes);
    memset(b, 0, sizeof *b);
}

static pl_status add_node(body *b, int64_t len, int64_t nulls, pl_error *err) {
    if (b->n_nodes == b->cap_nodes) {
        int64_t cap = b->cap_nodes ? b->cap_nodes * 2 : 16;
        int64_t *n = pl_realloc(b->nodes, sizeof(int64_t) * 2 * (size_t)cap);
        if (!n) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing a record batch");
        b->nodes = n;
        b->cap_nodes = cap;
    }
    b->nodes[2 * b->n_nodes] = len;
    b->nodes[2 * b->n_nodes + 1] = nulls;
    b->n_nodes++;
    return PL_OK;
}

/* Adds a buffer of n bytes at p; own (taken, may be NULL) keeps them alive. */
static pl_status add_seg(body *b, const uint8_t *p, int64_t n, pl_buf *own, pl_error *err) {
    if (b->n_segs == b->cap_segs) {
        int64_t cap = b->cap_segs ? b->cap_segs * 2 : 16;
        seg *s = pl_realloc(b->segs, sizeof(seg) * (size_t)cap);
        if (!s) {
            pl_buf_release(own);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing a record batch");
        }
        b->segs = s;
        b->cap_segs = cap;
    }
    b->segs[b->n_segs++] = (seg){p, n, own, 0, false};
    return PL_OK;
}

/* Bits [off, off + len) of bits as a buffer starting at bit 0. */
static pl_status add_bits(body *b, const uint8_t *bits, int64_t off, int64_t len, pl_error *err) {
    int64_t n_bytes = (len + 7) / 8;
    if (len == 0) return add_seg(b, NULL, 0, NULL, err);
    if ((off & 7) == 0) return add_seg(b, bits + off / 8, n_bytes, NULL, err);
    pl_buf *t;
    PL_TRY(pl_buf_new_zeroed(n_bytes, &t, err));
    int64_t shift = off & 7;
    const uint8_t *src = bits + off / 8;
    int64_t last = (off + len - 1) / 8 - off / 8; /* last readable source byte index */
    for (int64_t k = 0; k < n_bytes; k++) {
        unsigned lo = src[k] >> shift;
        unsigned hi = k + 1 <= last ? (unsigned)src[k + 1] << (8 - shift) : 0;
        t->data[k] = (uint8_t)(lo | hi);
    }
    if (len & 7) t->data[n_bytes - 1] &= (uint8_t)((1u << (len & 7)) - 1);
    return add_seg(b, t->data, n_bytes, t, err);
}

/* int32 offsets [len + 1] starting at o, rebased to 0 when needed. */
static pl_status add_offsets(body *b, const int32_t *o, int64_t len, pl_error *err) {
    if (!o) return add_seg(b, g_zeros, 4, NULL, err);
    if (o[0] == 0) return add_seg(b, (const uint8_t *)o, (len + 1) * 4, NULL, err);
    pl_buf *t;
    PL_TRY(pl_buf_new((len + 1) * 4, &t, err));
    int32_t *d = (int32_t *)(void *)t->data, base = o[0];
    for (int64_t i = 0; i <= len; i++) d[i] = o[i] - base;
    t->size = (len + 1) * 4;
    return add_seg(b, t->data, t->size, t, err);
}

/* Nodes and buffers of rows [off, off + len) (absolute element positions) of a, pre-order. */
static pl_status add_array(body *b, const pl_array *a, int64_t off, int64_t len, int depth,
                           pl_error *err) {
    const pl_type *t = a->type;
    if (depth > PL_IPC_MAX_NESTING) PL_FAIL(err, PL_ERR_LIMIT, "array nested too deeply");
    if (t->id == PL_TYPE_NA) return add_node(b, len, len, err);
    int64_t nulls = a->validity ? len - pl_bitmap_count(a->validity->data, off, len) : 0;
    PL_TRY(add_node(b, len, nulls, err));
    if (nulls) PL_TRY(add_bits(b, a->validity->data, off, len, err));
    else PL_TRY(add_seg(b, NULL, 0, NULL, err));
    switch (t->id) {
    case PL_TYPE_BOOL:
        return add_bits(b, a->values ? a->values->data : g_zeros, off, len, err);
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: {
        const int32_t *o = a->values ? (const int32_t *)(void *)a->values->data + off : NULL;
        PL_TRY(add_offsets(b, o, len, err));
        if (!o) return add_seg(b, NULL, 0, NULL, err);
        return add_seg(b, a->data ? a->data->data + o[0] : NULL, o[len] - o[0], NULL, err);
    }
    case PL_TYPE_LIST: case PL_TYPE_MAP: {
        const int32_t *o = a->values ? (const int32_t *)(void *)a->values->data + off : NULL;
        PL_TRY(add_offsets(b, o, len, err));
        const pl_array *c = a->children[0];
        int64_t o0 = o ? o[0] : 0, on = o ? o[len] : 0;
        return add_array(b, c, c->offset + o0, on - o0, depth + 1, err);
    }
    case PL_TYPE_STRUCT:
        for (int32_t k = 0; k < a->n_children; k++) {
            const pl_array *c = a->children[k];
            PL_TRY(add_array(b, c, c->offset + off, len, depth + 1, err));
        }
        return PL_OK;
    default: {
        int64_t w = t->byte_width;
        const pl_buf *vals = a->values;
        for (int32_t k = 0; t->id == PL_TYPE_DICTIONARY && k < b->n_remap; k++)
            if (b->remap_from[k] == a) vals = b->remap_to[k];
        if (!vals) return add_seg(b, NULL, 0, NULL, err);
        return add_seg(b, vals->data + off * w, len * w, NULL, err);
    }
    }
}

typedef struct compress_job {
    ipc_writer *w;
    body *b;
    pl_status *st;
} compress_job;

static pl_status compress_seg(ipc_writer *w, seg *s, pl_error *err) {
    if (s->n == 0) return PL_OK;
    int64_t cap = pl_codec_max_compressed(w->codec, s->n);
    pl_buf *t;
    PL_TRY(pl_buf_new(cap, &t, err));
    int64_t clen = 0;
    pl_status st = pl_codec_compress(w->codec, w->level, s->p, s->n, t->data, cap, &clen, err);
    if (st) {
        pl_buf_release(t);
        return st;
    }
    s->has_prefix = true;
    if (clen >= s->n) { /* not worth it: raw bytes with prefix -1 */
        pl_buf_release(t);
        s->prefix = -1;
        return PL_OK;
    }
    s->prefix = s->n;
    pl_buf_release(s->own);
    s->own = t;
    s->p = t->data;
    s->n = clen;
    t->size = clen;
    return PL_OK;
}

static void compress_task(void *arg, int64_t i, int32_t worker) {
    (void)worker;
    compress_job *j = arg;
    j->st[i] = compress_seg(j->w, &j->b->segs[i], NULL);
}

static pl_status compress_body(ipc_writer *w, body *b, pl_error *err) {
    if (w->codec == PL_CODEC_UNCOMPRESSED) return PL_OK;
    if (b->n_segs > 1) {
        pl_status *sts = pl_calloc((size_t)b->n_segs, sizeof *sts);
        if (!sts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory compressing a record batch");
        compress_job j = {w, b, sts};
        pl_parallel_for(b->n_segs, w->n_threads, compress_task, &j);
        for (int64_t i = 0; i < b->n_segs; i++) {
            if (!sts[i]) continue;
            pl_free(sts); /* redo the first failure for its message (the seg is unchanged) */
            pl_status st = compress_seg(w, &b->segs[i], err);
            return st ? st : pl_error_set(err, PL_ERR_INTERNAL, "compression result differs");
        }
        pl_free(sts);
        return PL_OK;
    }
    for (int64_t i = 0; i < b->n_segs; i++) PL_TRY(compress_seg(w, &b->segs[i], err));
    return PL_OK;
}

/* ---------------------------------------------------------------- messages */

static pl_status write_message(ipc_writer *w, pl_fb_builder *fb, const body *b, int64_t body_len,
                               int kind, pl_error *err) {
    if (fb->oom) PL_FAIL(err, PL_ERR_NOMEM, "out of memory encoding ipc metadata");
    int64_t start = w->pos;
    uint32_t hdr[2] = {PL_IPC_CONTINUATION, (uint32_t)fb->used};
    PL_TRY(out_bytes(w, hdr, 8, err));
    PL_TRY(out_bytes(w, pl_fb_data(fb), (int64_t)fb->used, err));
    for (int64_t i = 0; b && i < b->n_segs; i++) {
        const seg *s = &b->segs[i];
        if (s->has_prefix) PL_TRY(out_bytes(w, &s->prefix, 8, err));
        PL_TRY(out_bytes(w, s->p, s->n, err));
        int64_t pad = PL_ALIGN_UP(s->n, PL_IPC_ALIGN) - s->n;
        PL_TRY(out_bytes(w, g_zeros, pad, err));
    }
    if (kind >= 0) {
        int64_t n = w->n_blocks[kind];
        if (n == w->cap_blocks[kind]) {
            int64_t cap = n ? n * 2 : 16;
            block *nb = pl_realloc(w->blocks[kind], sizeof(block) * (size_t)cap);
            if (!nb) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing an arrow file");
            w->blocks[kind] = nb;
            w->cap_blocks[kind] = cap;
        }
        w->blocks[kind][n] = (block){start, (int32_t)(8 + fb->used), body_len};
        w->n_blocks[kind]++;
    }
    return PL_OK;
}

/* Message table around a header. */
static uint32_t message_table(pl_fb_builder *fb, uint8_t type, uint32_t header, int64_t body_len) {
    pl_fb_start(fb, 5);
    pl_fb_add_i16(fb, 0, PL_IPC_V5);
    pl_fb_add_u8(fb, 1, type);
    pl_fb_add_ref(fb, 2, header);
    pl_fb_add_i64(fb, 3, body_len);
    return pl_fb_end(fb);
}

/* RecordBatch table for body b; *body_len = its padded size. */
static uint32_t record_batch_table(ipc_writer *w, pl_fb_builder *fb, const body *b, int64_t n_rows,
                                   int64_t *body_len) {
    int64_t *bufs = pl_malloc(sizeof(int64_t) * 2 * (size_t)(b->n_segs ? b->n_segs : 1));
    if (!bufs) {
        fb->oom = true;
        return 0;
    }
    int64_t pos = 0;
    for (int64_t i = 0; i < b->n_segs; i++) {
        int64_t n = b->segs[i].n + (b->segs[i].has_prefix ? 8 : 0);
        bufs[2 * i] = pos;
        bufs[2 * i + 1] = n;
        pos += PL_ALIGN_UP(n, PL_IPC_ALIGN);
    }
    *body_len = pos;
    uint32_t nodes = pl_fb_create_vec(fb, b->nodes, (uint32_t)b->n_nodes, 16, 8);
    uint32_t buffers = pl_fb_create_vec(fb, bufs, (uint32_t)b->n_segs, 16, 8);
    pl_free(bufs);
    uint32_t comp = 0;
    if (w->codec != PL_CODEC_UNCOMPRESSED) {
        pl_fb_start(fb, 2);
        pl_fb_add_u8(fb, 0, w->codec == PL_CODEC_ZSTD ? PL_IPC_ZSTD : PL_IPC_LZ4_FRAME);
        pl_fb_add_u8(fb, 1, 0);
        comp = pl_fb_end(fb);
    }
    pl_fb_start(fb, 4);
    pl_fb_add_i64(fb, 0, n_rows);
    pl_fb_add_ref(fb, 1, nodes);
    pl_fb_add_ref(fb, 2, buffers);
    pl_fb_add_ref(fb, 3, comp);
    return pl_fb_end(fb);
}

static pl_status write_schema(ipc_writer *w, pl_error *err) {
    if (w->file_format) {
        static const uint8_t magic[8] = {'A', 'R', 'R', 'O', 'W', '1', 0, 0};
        PL_TRY(out_bytes(w, magic, 8, err));
    }
    pl_fb_builder fb;
    pl_fb_builder_init(&fb);
    uint32_t sch;
    pl_status st = pl_ipc_schema_encode(&fb, w->schema, &sch, err);
    if (!st) {
        uint32_t msg = message_table(&fb, PL_IPC_H_SCHEMA, sch, 0);
        pl_fb_finish(&fb, msg);
        st = write_message(w, &fb, NULL, 0, -1, err);
    }
    pl_fb_builder_reset(&fb);
    return st;
}

/* One record batch message (dict_id < 0) or dictionary batch of rows [off, off + len) of the
 * arrays. */
static pl_status write_batch_msg(ipc_writer *w, int32_t n_cols, pl_array *const *cols, int64_t len,
                                 int64_t dict_id, bool delta, int64_t dict_off, pl_error *err) {
    body b = {0};
    if (dict_id < 0) {
        b.remap_from = w->remap_from;
        b.remap_to = w->remap_to;
        b.n_remap = w->n_remap;
    }
    pl_status st = PL_OK;
    for (int32_t k = 0; k < n_cols && !st; k++) {
        int64_t off = cols[k]->offset + (dict_id >= 0 ? dict_off : 0);
        st = add_array(&b, cols[k], off, len, 0, err);
    }
    if (!st) st = compress_body(w, &b, err);
    pl_fb_builder fb;
    pl_fb_builder_init(&fb);
    if (!st) {
        int64_t body_len = 0;
        uint32_t rb = record_batch_table(w, &fb, &b, len, &body_len);
        uint32_t msg;
        if (dict_id >= 0) {
            pl_fb_start(&fb, 3);
            pl_fb_add_i64(&fb, 0, dict_id);
            pl_fb_add_ref(&fb, 1, rb);
            pl_fb_add_u8(&fb, 2, delta);
            uint32_t db = pl_fb_end(&fb);
            msg = message_table(&fb, PL_IPC_H_DICTIONARY, db, body_len);
        } else {
            msg = message_table(&fb, PL_IPC_H_RECORD_BATCH, rb, body_len);
        }
        pl_fb_finish(&fb, msg);
        st = write_message(w, &fb, &b, body_len, dict_id >= 0 ? 0 : 1, err);
    }
    pl_fb_builder_reset(&fb);
    body_reset(&b);
    return st;
}

/* ---------------------------------------------------------------- dictionaries */

static int32_t count_dicts(const pl_type *t) {
    int32_t n = 0;
    if (t->id == PL_TYPE_DICTIONARY) {
        n = 1;
        t = t->value_type;
    }
    for (int32_t k = 0; k < t->n_children; k++) n += count_dicts(t->children[k].type);
    return n;
}

/* The dictionary-encoded array (users) and its dictionary of every dictionary id, in pre-order
 * as the schema encoder numbers them. */
static void collect_dicts(const pl_type *t, pl_array *a, pl_array **dicts, pl_array **users,
                          int32_t *next) {
    if (t->id == PL_TYPE_DICTIONARY) {
        users[*next] = a;
        dicts[(*next)++] = a ? a->dictionary : NULL;
        a = a ? a->dictionary : NULL;
        t = t->value_type;
    }
    for (int32_t k = 0; k < t->n_children; k++)
        collect_dicts(t->children[k].type, a && k < a->n_children ? a->children[k] : NULL, dicts,
                      users, next);
}

/* ---- file format: dictionaries unified across batches (the format allows one dictionary per
 * id, extended by deltas). Values of a new batch's dictionary already written keep their index,
 * new ones are appended as a delta and the batch's indices are rewritten. */

static bool dedupable(const pl_type *t) {
    return t->id == PL_TYPE_UTF8 || t->id == PL_TYPE_BINARY ||
           (t->id != PL_TYPE_DICTIONARY && t->id != PL_TYPE_BOOL && t->byte_width > 0 &&
            t->n_children == 0);
}

/* Bytes of dictionary entry j (false for NULL). */
static bool entry_bytes(const pl_array *a, int64_t j, const uint8_t **p, int64_t *n) {
    if (!pl_array_is_valid(a, j)) return false;
    if (pl_type_is_varlen(a->type->id)) {
        int32_t len;
        *p = pl_array_bytes(a, j, &len);
        *n = len;
    } else {
        *n = a->type->byte_width;
        *p = a->values->data + (a->offset + j) * *n;
    }
    return true;
}

static uint64_t hash_bytes(const uint8_t *p, int64_t n, bool valid) {
    uint64_t h = valid ? 0xcbf29ce484222325ull : 0x9e3779b97f4a7c15ull;
    for (int64_t k = 0; k < n; k++) h = (h ^ p[k]) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

typedef struct dict_index {
    int64_t *slots; /* unified index + 1, 0 = empty */
    int64_t mask;
} dict_index;

/* Entry u of the unified dictionary: acc[0, n_acc) then d at news[u - n_acc]. */
static bool unified_bytes(const pl_array *acc, const pl_array *d, const int64_t *news, int64_t u,
                          const uint8_t **p, int64_t *n) {
    int64_t n_acc = acc->length;
    return u < n_acc ? entry_bytes(acc, u, p, n) : entry_bytes(d, news[u - n_acc], p, n);
}

/* Index in the unified dictionary of entry j of d, adding it (to news) if new. */
static int64_t unify_entry(dict_index *ix, const pl_array *acc, const pl_array *d, int64_t j,
                           int64_t *news, int64_t *n_news) {
    const uint8_t *p = NULL, *q = NULL;
    int64_t n = 0, m = 0;
    bool valid = entry_bytes(d, j, &p, &n);
    uint64_t h = hash_bytes(p, n, valid);
    for (int64_t s = (int64_t)(h & (uint64_t)ix->mask);; s = (s + 1) & ix->mask) {
        int64_t u = ix->slots[s] - 1;
        if (u < 0) {
            int64_t nu = acc->length + *n_news;
            news[(*n_news)++] = j;
            ix->slots[s] = nu + 1;
            return nu;
        }
        bool uvalid = unified_bytes(acc, d, news, u, &q, &m);
        if (uvalid == valid && (!valid || (m == n && memcmp(p, q, (size_t)n) == 0))) return u;
    }
}

static void index_insert(dict_index *ix, const pl_array *acc, int64_t u) {
    const uint8_t *p = NULL;
    int64_t n = 0;
    bool valid = entry_bytes(acc, u, &p, &n);
    int64_t s = (int64_t)(hash_bytes(p, n, valid) & (uint64_t)ix->mask);
    while (ix->slots[s]) s = (s + 1) & ix->mask;
    ix->slots[s] = u + 1;
}

/* The entries news[0, n) of d as a new array. */
static pl_status gather_entries(const pl_array *d, const int64_t *news, int64_t n, pl_array **out,
                                pl_error *err) {
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    bool varlen = pl_type_is_varlen(d->type->id);
    int64_t w = varlen ? 4 : d->type->byte_width, n_data = 0;
    pl_status st = pl_buf_new_zeroed((n + 7) / 8 + 1, &validity, err);
    if (!st) st = pl_buf_new_zeroed((n + 1) * w + 1, &values, err);
    for (int64_t k = 0; !st && varlen && k < n; k++) {
        const uint8_t *p;
        int64_t len = 0;
        if (entry_bytes(d, news[k], &p, &len)) n_data += len;
    }
    if (!st && varlen) st = pl_buf_new_zeroed(n_data + 1, &data, err);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    int64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        const uint8_t *p;
        int64_t len = 0;
        bool valid = entry_bytes(d, news[k], &p, &len);
        if (valid) pl_bit_set(validity->data, k);
        if (varlen) {
            if (valid) memcpy(data->data + pos, p, (size_t)len);
            pos += valid ? len : 0;
            ((int32_t *)(void *)values->data)[k + 1] = (int32_t)pos;
        } else if (valid) {
            memcpy(values->data + k * w, p, (size_t)w);
        }
    }
    values->size = varlen ? (n + 1) * 4 : n * w;
    return pl_array_new(pl_type_retain(d->type), n, -1, validity, values, data, 0, NULL, NULL, out,
                        err);
}

static int64_t index_max(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: return INT8_MAX;
    case PL_TYPE_UINT8: return UINT8_MAX;
    case PL_TYPE_INT16: return INT16_MAX;
    case PL_TYPE_UINT16: return UINT16_MAX;
    case PL_TYPE_INT32: return INT32_MAX;
    default: return INT64_MAX;
    }
}

static int64_t load_index(const uint8_t *p, pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: return (int8_t)*p;
    case PL_TYPE_UINT8: return *p;
    case PL_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); return v; }
    case PL_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case PL_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); return v; }
    case PL_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

/* Indices of user rewritten through map (NULL rows get 0) into a new buffer of the same
 * layout (offset kept). */
static pl_status remap_indices(const pl_array *user, const int64_t *map, int64_t n_map,
                               pl_buf **out, pl_error *err) {
    int64_t w = user->type->byte_width, end = user->offset + user->length;
    pl_buf *b;
    PL_TRY(pl_buf_new_zeroed(end * w + 1, &b, err));
    for (int64_t i = user->offset; i < end; i++) {
        if (!pl_array_is_valid(user, i - user->offset)) continue;
        int64_t k = load_index(user->values->data + i * w, user->type->index_id);
        if (k < 0 || k >= n_map) {
            pl_buf_release(b);
            PL_FAIL(err, PL_ERR_INVALID_ARG, "dictionary index %lld out of range (size %lld)",
                    (long long)k, (long long)n_map);
        }
        int64_t v = map[k];
        memcpy(b->data + i * w, &v, (size_t)w); /* little-endian truncation */
    }
    b->size = end * w;
    *out = b;
    return PL_OK;
}

static pl_status add_remap(ipc_writer *w, const pl_array *user, pl_buf *b, pl_error *err) {
    const pl_array **f = pl_realloc(w->remap_from, sizeof(void *) * (size_t)(w->n_remap + 1));
    if (f) w->remap_from = f;
    pl_buf **t = f ? pl_realloc(w->remap_to, sizeof(void *) * (size_t)(w->n_remap + 1)) : NULL;
    if (t) w->remap_to = t;
    if (!f || !t) {
        pl_buf_release(b);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing dictionaries");
    }
    w->remap_from[w->n_remap] = user;
    w->remap_to[w->n_remap++] = b;
    return PL_OK;
}

static void clear_remaps(ipc_writer *w) {
    for (int32_t k = 0; k < w->n_remap; k++) pl_buf_release(w->remap_to[k]);
    w->n_remap = 0;
}

static pl_status write_dict_msg(ipc_writer *w, pl_array *d, int64_t id, bool delta, pl_error *err);

/* File format: unifies dictionary d (used by user) with what id has so far. */
static pl_status unify_dict(ipc_writer *w, int32_t id, pl_array *d, pl_array *user,
                            pl_error *err) {
    pl_array *acc = w->acc_dicts[id];
    if (!acc) {
        PL_TRY(write_dict_msg(w, d, id, false, err));
        w->acc_dicts[id] = pl_array_retain(d);
        return PL_OK;
    }
    if (!dedupable(d->type)) {
        if (pl_array_equals(acc, d)) return PL_OK;
        char tn[96];
        pl_error_set(err, PL_ERR_UNSUPPORTED, "the %s dictionary of a column changes between "
                     "batches, which the arrow file format cannot hold",
                     pl_type_to_string(d->type, tn, sizeof tn));
        if (err) snprintf(err->hint, sizeof err->hint, "write the stream format (.arrows) instead");
        return PL_ERR_UNSUPPORTED;
    }
    int64_t n_slots = 16;
    while (n_slots < 2 * (acc->length + d->length)) n_slots *= 2;
    dict_index ix = {pl_calloc((size_t)n_slots, sizeof(int64_t)), n_slots - 1};
    int64_t *news = pl_malloc(sizeof(int64_t) * (size_t)(d->length + 1));
    int64_t *map = pl_malloc(sizeof(int64_t) * (size_t)(d->length + 1));
    pl_status st = PL_OK;
    if (!ix.slots || !news || !map)
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory writing dictionaries");
    int64_t n_news = 0;
    bool identity = true;
    if (!st) {
        for (int64_t u = 0; u < acc->length; u++) index_insert(&ix, acc, u);
        for (int64_t j = 0; j < d->length; j++) {
            map[j] = unify_entry(&ix, acc, d, j, news, &n_news);
            identity &= map[j] == j;
        }
        if (acc->length + n_news - 1 > index_max(user->type->index_id)) {
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "a dictionary column's values across "
                              "batches (%lld) exceed its index type, which the arrow file format "
                              "needs", (long long)(acc->length + n_news));
            if (err)
                snprintf(err->hint, sizeof err->hint, "write the stream format (.arrows) instead");
        }
    }
    pl_array *delta = NULL, *cat = NULL;
    if (!st && n_news > 0) st = gather_entries(d, news, n_news, &delta, err);
    if (!st && delta) st = write_dict_msg(w, delta, id, true, err);
    if (!st && delta) {
        pl_array *both[2] = {acc, delta};
        st = pl_array_concat(2, both, &cat, err);
        if (!st) {
            pl_array_release(w->acc_dicts[id]);
            w->acc_dicts[id] = cat;
        }
    }
    if (!st && !identity) {
        pl_buf *nb = NULL;
        st = remap_indices(user, map, d->length, &nb, err);
        if (!st) st = add_remap(w, user, nb, err);
    }
    pl_array_release(delta);
    pl_free(ix.slots);
    pl_free(news);
    pl_free(map);
    return st;
}

static pl_status write_dict_msg(ipc_writer *w, pl_array *d, int64_t id, bool delta,
                                pl_error *err) {
    return write_batch_msg(w, 1, &d, d->length, id, delta, 0, err);
}

static pl_status write_dicts(ipc_writer *w, pl_batch *batch, pl_error *err) {
    clear_remaps(w);
    if (w->n_dicts == 0) return PL_OK;
    pl_array **dicts = pl_calloc((size_t)w->n_dicts * 2, sizeof *dicts);
    if (!dicts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing dictionaries");
    pl_array **users = dicts + w->n_dicts;
    int32_t next = 0;
    for (int32_t k = 0; k < batch->n_cols; k++)
        collect_dicts(batch->schema->fields[k].type, batch->columns[k], dicts, users, &next);
    pl_status st = PL_OK;
    for (int32_t id = w->n_dicts; id-- > 0 && !st;) { /* inner dictionaries first */
        pl_array *d = dicts[id], *last = w->last_dicts[id];
        if (!d) continue;
        if (w->file_format) {
            bool nested = count_dicts(d->type) > 0;
            if (nested && last && d != last && !pl_array_equals(last, d)) {
                st = pl_error_set(err, PL_ERR_UNSUPPORTED, "a dictionary holding dictionaries "
                                  "changes between batches, which the arrow file format cannot "
                                  "hold");
                if (err)
                    snprintf(err->hint, sizeof err->hint, "write the stream format (.arrows) "
                             "instead");
            } else if (!nested || !last) {
                st = unify_dict(w, id, d, users[id], err);
            }
        } else if (!last || (d != last && !pl_array_equals(last, d))) {
            st = write_dict_msg(w, d, id, false, err);
        }
        if (!st) {
            pl_array_release(w->last_dicts[id]);
            w->last_dicts[id] = pl_array_retain(d);
        }
    }
    pl_free(dicts);
    return st;
}

/* ---------------------------------------------------------------- the writer */

static pl_status ipc_write(pl_writer *pw, pl_batch *batch, pl_error *err) {
    ipc_writer *w = pw->impl;
    if (w->finished) PL_FAIL(err, PL_ERR_INVALID_ARG, "write after finish");
    if (w->failed) PL_FAIL(err, PL_ERR_INVALID_ARG, "write after a failed write");
    if (!pl_schema_equals(batch->schema, w->schema))
        PL_FAIL(err, PL_ERR_TYPE, "batch schema differs from the writer's schema");
    pl_status st = PL_OK;
    if (!w->started) {
        st = write_schema(w, err);
        w->started = true;
    }
    if (!st) st = write_dicts(w, batch, err);
    if (!st)
        st = write_batch_msg(w, batch->n_cols, batch->columns, batch->n_rows, -1, false, 0, err);
    if (st) w->failed = true;
    return st;
}

static pl_status write_footer(ipc_writer *w, pl_error *err) {
    pl_fb_builder fb;
    pl_fb_builder_init(&fb);
    uint32_t sch;
    pl_status st = pl_ipc_schema_encode(&fb, w->schema, &sch, err);
    if (!st) {
        uint32_t vecs[2];
        for (int kind = 0; kind < 2; kind++) {
            int64_t n = w->n_blocks[kind];
            uint8_t *raw = pl_calloc((size_t)(n ? n : 1), 24);
            if (!raw) {
                fb.oom = true;
                break;
            }
            for (int64_t i = 0; i < n; i++) {
                const block *bl = &w->blocks[kind][i];
                memcpy(raw + 24 * i, &bl->offset, 8);
                memcpy(raw + 24 * i + 8, &bl->meta_len, 4);
                memcpy(raw + 24 * i + 16, &bl->body_len, 8);
            }
            vecs[kind] = pl_fb_create_vec(&fb, raw, (uint32_t)n, 24, 8);
            pl_free(raw);
        }
        if (!fb.oom) {
            pl_fb_start(&fb, 4);
            pl_fb_add_i16(&fb, 0, PL_IPC_V5);
            pl_fb_add_ref(&fb, 1, sch);
            pl_fb_add_ref(&fb, 2, vecs[0]);
            pl_fb_add_ref(&fb, 3, vecs[1]);
            pl_fb_finish(&fb, pl_fb_end(&fb));
        }
        if (fb.oom) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory writing the file footer");
    }
    if (!st) st = out_bytes(w, pl_fb_data(&fb), (int64_t)fb.used, err);
    if (!st) {
        int32_t n = (int32_t)fb.used;
        st = out_bytes(w, &n, 4, err);
    }
    if (!st) st = out_bytes(w, PL_IPC_MAGIC, PL_IPC_MAGIC_BYTES, err);
    pl_fb_builder_reset(&fb);
    return st;
}

static pl_status ipc_finish(pl_writer *pw, pl_error *err) {
    ipc_writer *w = pw->impl;
    if (w->finished) return PL_OK;
    if (w->failed) PL_FAIL(err, PL_ERR_INVALID_ARG, "finish after a failed write");
    w->finished = true;
    pl_status st = PL_OK;
    if (!w->started) {
        st = write_schema(w, err);
        w->started = true;
    }
    static const uint32_t eos[2] = {PL_IPC_CONTINUATION, 0};
    if (!st) st = out_bytes(w, eos, 8, err);
    if (!st && w->file_format) st = write_footer(w, err);
    if (w->f) {
        if (!st && fflush(w->f) != 0) st = pl_error_set(err, PL_ERR_IO, "cannot write the output");
        if (w->own_file) {
            if (fclose(w->f) != 0 && !st)
                st = pl_error_set(err, PL_ERR_IO, "cannot close the output");
            w->f = NULL;
        }
    }
    return st;
}

static void ipc_free(pl_writer *pw) {
    if (!pw) return;
    ipc_writer *w = pw->impl;
    if (w) {
        if (w->f && w->own_file) fclose(w->f);
        for (int32_t k = 0; k < 2 * w->n_dicts; k++) pl_array_release(w->last_dicts[k]);
        pl_free(w->last_dicts);
        clear_remaps(w);
        pl_free(w->remap_from);
        pl_free(w->remap_to);
        pl_free(w->blocks[0]);
        pl_free(w->blocks[1]);
        pl_schema_release(w->schema);
        pl_free(w);
    }
    pl_free(pw);
}

static pl_status file_sink(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    FILE *f = ctx;
    if (fwrite(bytes, 1, (size_t)n, f) != (size_t)n)
        PL_FAIL(err, PL_ERR_IO, "cannot write the output");
    return PL_OK;
}

pl_status pl_ipc_writer_open_sink(pl_ipc_sink_fn sink, void *ctx, bool file_format,
                                  pl_schema *schema, const pl_write_opts *opts, pl_writer **out,
                                  pl_error *err) {
    pl_codec codec = opts ? opts->codec : PL_CODEC_UNCOMPRESSED;
    if (codec == PL_CODEC_DEFAULT) codec = PL_CODEC_UNCOMPRESSED;
    if (codec == PL_CODEC_LZ4_RAW) codec = PL_CODEC_LZ4_FRAME;
    if (codec != PL_CODEC_UNCOMPRESSED && codec != PL_CODEC_ZSTD && codec != PL_CODEC_LZ4_FRAME)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "arrow ipc compresses with lz4 or zstd only, not %s",
                pl_codec_name(codec));
    pl_fb_builder fb; /* refuse unwritable types up front */
    pl_fb_builder_init(&fb);
    uint32_t ref;
    pl_status st = pl_ipc_schema_encode(&fb, schema, &ref, err);
    pl_fb_builder_reset(&fb);
    if (st) return st;
    ipc_writer *w = pl_calloc(1, sizeof *w);
    pl_writer *pw = pl_calloc(1, sizeof *pw);
    int32_t n_dicts = 0;
    for (int32_t k = 0; k < schema->n_fields; k++) n_dicts += count_dicts(schema->fields[k].type);
    if (w && n_dicts) w->last_dicts = pl_calloc((size_t)n_dicts * 2, sizeof(pl_array *));
    if (!w || !pw || (n_dicts && !w->last_dicts)) {
        if (w) pl_free(w->last_dicts);
        pl_free(w);
        pl_free(pw);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening an arrow writer");
    }
    w->sink = sink;
    w->ctx = ctx;
    w->file_format = file_format;
    w->schema = pl_schema_retain(schema);
    w->codec = codec;
    w->level = opts ? opts->codec_level : 0;
    w->n_threads = opts ? opts->n_threads : 0;
    w->n_dicts = n_dicts;
    w->acc_dicts = n_dicts ? w->last_dicts + n_dicts : NULL;
    pw->impl = w;
    pw->write = ipc_write;
    pw->finish = ipc_finish;
    pw->free = ipc_free;
    *out = pw;
    return PL_OK;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

pl_status pl_ipc_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                             pl_writer **out, pl_error *err) {
    bool to_stdout = !path || !strcmp(path, "-");
    bool file_format = !to_stdout && (ends_with(path, ".arrow") || ends_with(path, ".feather"));
    FILE *f = to_stdout ? stdout : fopen(path, "wb");
    if (!f) {
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_IO, "cannot create the output file");
    }
    pl_writer *pw;
    pl_status st = pl_ipc_writer_open_sink(file_sink, f, file_format, schema, opts, &pw, err);
    if (st) {
        if (!to_stdout) fclose(f);
        return st;
    }
    ipc_writer *w = pw->impl;
    w->f = f;
    w->own_file = !to_stdout;
    if (w->own_file) setvbuf(f, NULL, _IOFBF, 1 << 20);
    *out = pw;
    return PL_OK;
}

static pl_status buf_sink(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    return pl_buf_append((pl_buf *)ctx, bytes, n, err);
}

pl_status pl_ipc_write_table_buf(pl_table *t, bool file_format, const pl_write_opts *opts,
                                 pl_buf **out, pl_error *err) {
    pl_buf *b;
    PL_TRY(pl_buf_new(1 << 12, &b, err));
    pl_writer *w = NULL;
    pl_status st = pl_ipc_writer_open_sink(buf_sink, b, file_format, t->schema, opts, &w, err);
    for (int64_t i = 0; !st && i < t->n_batches; i++) st = w->write(w, t->batches[i], err);
    if (!st) st = w->finish(w, err);
    if (w) w->free(w);
    if (st) {
        pl_buf_release(b);
        return st;
    }
    *out = b;
    return PL_OK;
}
