/* execute.c - Execute: a running query cut into ExecuteResponse messages under a size limit.
 *
 * pl_srv_execute_start decodes the ExecuteRequest, plans it (pl_srv_plan_to_df) and starts it
 * (pl_df_execute) with the call's cancel flag, a deadline (the client's gRPC deadline and the
 * query time limit, whichever comes first) and a memory limit. Each pl_srv_execute_next pulls
 * at most one batch from the engine and writes it (or a slice of it, so that the message stays
 * under the negotiated size) with an Arrow IPC stream writer whose sink appends to the very
 * buffer that goes out on the wire: the protobuf framing of ExecuteResponse.arrow_ipc (field
 * tag and length) is written in front of the IPC bytes afterwards, in room left for it, so the
 * bytes are copied once (column buffers -> message). The first message holds the schema and
 * the first batch; an empty result sends the schema alone; the summary ends the stream.
 *
 * Messages are produced on demand: the transport asks for the next one only when at most one
 * is in flight, so a slow client holds the query (and its memory) at a bounded number of
 * batches. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "io/ipc/ipc.h"
#include "server/catalog.h"
#include "server/transport.h"

/* room in front of the IPC bytes for the field tag and a varint length (< 2^35 bytes) */
#define EXEC_HDR 6
/* ExecuteResponse.arrow_ipc: field 1, wire type 2 (length-delimited) */
#define EXEC_TAG_ARROW_IPC 0x0a
/* allowance for the IPC metadata of a record batch message: fixed part and per node/buffer */
#define EXEC_META_FIXED 256
#define EXEC_META_PER_COL 96
/* smallest message budget a client may ask for (a smaller one still gets one row per message) */
#define EXEC_MIN_MESSAGE_BYTES 4096
/* the default when neither the client nor the server configuration says */
#define EXEC_DEFAULT_MESSAGE_BYTES (1 << 20)

enum exec_state { EXEC_STREAM, EXEC_SUMMARY, EXEC_DONE };

struct pl_srv_exec {
    pl_srv_call *c;
    pl_df *df;
    pl_stream *stream;
    pl_writer *w;
    pl_exec_opts opts;
    enum exec_state state;
    /* the message the writer's sink is filling: EXEC_HDR bytes of room, then IPC bytes */
    uint8_t *buf;
    size_t len, cap;
    int64_t max_msg; /* bytes of one ExecuteResponse */
    size_t expect;   /* estimated bytes of the message being written */
    pl_batch *cur;   /* the engine batch being sliced, and the next row to send */
    int64_t cur_off;
    bool schema_sent;
    int32_t n_cols;
    pl_array **sent_dicts; /* per top-level column: the dictionary the writer sent last */
    int64_t rows, batches, bytes, t0;
    int64_t query_deadline_ns; /* 0 = no query time limit */
    int64_t timeout_ms;
    pl_schema *out_schema; /* dictionary columns decoded, unless the client keeps them */
    bool ended; /* the engine's stream is exhausted */
    char request_id[64];
    /* same-host result file */
    bool shm_probe;   /* holding messages until shm_min bytes decide for a file */
    int64_t shm_min;
    pl_srv_msg *held; /* messages held back while probing */
    int32_t n_held, held_next, cap_held;
    int64_t held_bytes;
    int fd;           /* the file being written, or -1 */
    bool sink_file, finished_file;
    int64_t file_bytes;
    int64_t file_charged; /* bytes of the file charged to the memory account, not yet a lease's */
    char shm_path[128]; /* removed on failure */
    /* run on a network thread (pl_srv_execute_start_inline): no file I/O, and at most
     * EXEC_INLINE_BYTES of messages; beyond, next_msg asks for a runner */
    bool on_network;
    bool begun; /* pl_df_execute and the writer started */
    bool keep_dicts;
    char lease_id[48];  /* the lease the file became */
};

/* IPC bytes a query run on a network thread may produce before it moves to a runner */
#define EXEC_INLINE_BYTES (256 << 10)
/* ... and at most this many columns' worth of cells per row allowed */
#define EXEC_INLINE_COLUMNS 32
/* ExecuteRequests longer than this are never considered for a network thread */
#define EXEC_INLINE_REQUEST_BYTES 4096

/* ---------------------------------------------------------------- message buffers
 *
 * Result messages are ~1 MiB each, at the allocator's mmap threshold: a fresh mapping per
 * message costs a page fault per 4 KiB it fills. Buffers of 64 KiB .. 64 MiB (powers of two)
 * come from a small process-wide cache instead; gRPC hands them back (pl_srv_msg_free) once the
 * bytes are on the wire. A 16-byte header in front of the data records the size class. */

#define MB_MIN_SHIFT 16 /* 64 KiB */
#define MB_MAX_SHIFT 26 /* 64 MiB */
#define MB_PER_CLASS 8
#define MB_CACHE_BYTES (48LL << 20)
#define MB_HDR 16
#define MB_MAGIC 0x6d736762u

static pthread_mutex_t g_mb_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *g_mb_free[MB_MAX_SHIFT + 1][MB_PER_CLASS];
static int g_mb_n[MB_MAX_SHIFT + 1];
static int64_t g_mb_bytes;

/* A buffer with room for at least need bytes (*cap set); NULL when out of memory. Needs above
 * the largest class get an exact-size buffer that is never cached. */
static uint8_t *msgbuf_get(size_t need, size_t *cap) {
    uint32_t shift = MB_MIN_SHIFT;
    while (shift <= MB_MAX_SHIFT && ((size_t)1 << shift) < need) shift++;
    if (shift <= MB_MAX_SHIFT) {
        pthread_mutex_lock(&g_mb_mu);
        uint8_t *p = g_mb_n[shift] > 0 ? g_mb_free[shift][--g_mb_n[shift]] : NULL;
        if (p) g_mb_bytes -= (int64_t)1 << shift;
        pthread_mutex_unlock(&g_mb_mu);
        if (p) {
            *cap = (size_t)1 << shift;
            return p + MB_HDR;
        }
    }
    size_t size = shift <= MB_MAX_SHIFT ? (size_t)1 << shift : need;
    uint8_t *p = pl_malloc(size + MB_HDR);
    if (!p) return NULL;
    uint32_t hdr[2] = {shift, MB_MAGIC};
    memcpy(p, hdr, sizeof hdr);
    *cap = size;
    return p + MB_HDR;
}

void pl_srv_msg_free(void *base) {
    if (!base) return;
    uint8_t *p = (uint8_t *)base - MB_HDR;
    uint32_t hdr[2];
    memcpy(hdr, p, sizeof hdr);
    PL_ASSERT(hdr[1] == MB_MAGIC);
    uint32_t shift = hdr[0];
    if (shift <= MB_MAX_SHIFT) {
        pthread_mutex_lock(&g_mb_mu);
        bool keep = g_mb_n[shift] < MB_PER_CLASS && g_mb_bytes + ((int64_t)1 << shift) <= MB_CACHE_BYTES;
        if (keep) {
            g_mb_free[shift][g_mb_n[shift]++] = p;
            g_mb_bytes += (int64_t)1 << shift;
        }
        pthread_mutex_unlock(&g_mb_mu);
        if (keep) return;
    }
    pl_free(p);
}

static pl_status buf_reserve(pl_srv_exec *x, size_t need, pl_error *err) {
    if (need <= x->cap) return PL_OK;
    size_t cap = 0;
    uint8_t *p = msgbuf_get(need, &cap);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building a result message of %zu bytes", need);
    if (x->buf) memcpy(p, x->buf, x->len);
    pl_srv_msg_free(x->buf);
    x->buf = p;
    x->cap = cap;
    return PL_OK;
}

static pl_status file_sink(pl_srv_exec *x, const void *bytes, int64_t n, pl_error *err);

static pl_status exec_sink(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    pl_srv_exec *x = ctx;
    if (x->sink_file) return file_sink(x, bytes, n, err);
    if (!x->buf) {
        PL_TRY(buf_reserve(x, PL_MAX(x->expect, EXEC_HDR + (size_t)n + 1024), err));
        x->len = EXEC_HDR;
    }
    PL_TRY(buf_reserve(x, x->len + (size_t)n, err));
    memcpy(x->buf + x->len, bytes, (size_t)n);
    x->len += (size_t)n;
    return PL_OK;
}

/* Frames the buffered IPC bytes as a packed ExecuteResponse{arrow_ipc} and hands it out. */
static void take_message(pl_srv_exec *x, pl_srv_msg *out) {
    size_t n = x->len - EXEC_HDR;
    uint8_t var[8];
    int k = 0;
    uint64_t v = n;
    do {
        var[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    uint8_t *start = x->buf + EXEC_HDR - 1 - k;
    start[0] = EXEC_TAG_ARROW_IPC;
    memcpy(start + 1, var, (size_t)k);
    out->base = x->buf;
    out->data = start;
    out->len = n + 1 + (size_t)k;
    x->bytes += (int64_t)n;
    x->buf = NULL;
    x->len = x->cap = 0;
}

/* ---------------------------------------------------------------- size estimates */

static int64_t pad8(int64_t n) { return (n + 7) & ~(int64_t)7; }

/* Bytes the IPC body of elements [off, off + len) of a takes (off includes a->offset); an
 * estimate that errs high. Offsets are read only where the buffer holds them. */
static int64_t est_array(const pl_array *a, int64_t off, int64_t len, int depth) {
    if (len <= 0 || depth > 64) return 0;
    int64_t n = a->validity ? pad8((len + 7) / 8) : 0;
    const pl_type *t = a->type;
    switch (t->id) {
    case PL_TYPE_NA:
        return 0;
    case PL_TYPE_BOOL:
        return n + pad8((len + 7) / 8);
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    case PL_TYPE_LIST:
    case PL_TYPE_MAP: {
        n += pad8(4 * (len + 1));
        if (!a->values || a->values->size < 4 * (off + len + 1) || off < 0) {
            /* cannot read the offsets: assume the whole child or data buffer */
            if (a->data) return n + pad8(a->data->size);
            if (a->n_children > 0) return n + est_array(a->children[0], a->children[0]->offset,
                                                        a->children[0]->length, depth + 1);
            return n;
        }
        const int32_t *o = (const int32_t *)(const void *)a->values->data;
        int64_t lo = o[off], hi = o[off + len];
        if (hi < lo) return n;
        if (t->id == PL_TYPE_UTF8 || t->id == PL_TYPE_BINARY) return n + pad8(hi - lo);
        if (a->n_children < 1) return n;
        const pl_array *ch = a->children[0];
        return n + est_array(ch, ch->offset + lo, hi - lo, depth + 1);
    }
    case PL_TYPE_STRUCT:
        for (int32_t i = 0; i < a->n_children; i++) {
            const pl_array *ch = a->children[i];
            n += est_array(ch, ch->offset + (off - a->offset), len, depth + 1);
        }
        return n;
    case PL_TYPE_DICTIONARY: {
        int32_t w = t->index_id == PL_TYPE_INT8 || t->index_id == PL_TYPE_UINT8     ? 1
                    : t->index_id == PL_TYPE_INT16 || t->index_id == PL_TYPE_UINT16 ? 2
                    : t->index_id == PL_TYPE_INT64 || t->index_id == PL_TYPE_UINT64 ? 8
                                                                                     : 4;
        return n + pad8(w * len);
    }
    default:
        return n + pad8((int64_t)(t->byte_width > 0 ? t->byte_width : 16) * len);
    }
}

/* Estimated message bytes for rows [off, off + len) of b, counting the dictionaries the writer
 * would have to send first (a top-level dictionary is sent again only when it changes). */
static int64_t est_slice(const pl_srv_exec *x, const pl_batch *b, int64_t off, int64_t len) {
    int64_t n = EXEC_META_FIXED;
    for (int32_t k = 0; k < b->n_cols; k++) {
        const pl_array *a = b->columns[k];
        n += EXEC_META_PER_COL + est_array(a, a->offset + off, len, 0);
        if (a->type->id == PL_TYPE_DICTIONARY && a->dictionary &&
            (!x->sent_dicts || x->sent_dicts[k] != a->dictionary))
            n += EXEC_META_FIXED + est_array(a->dictionary, a->dictionary->offset,
                                             a->dictionary->length, 0);
    }
    return n;
}

static int64_t est_schema(const pl_schema *s) {
    int64_t n = EXEC_META_FIXED;
    for (int32_t k = 0; k < s->n_fields; k++)
        n += EXEC_META_PER_COL + (int64_t)strlen(s->fields[k].name);
    return n;
}

/* Rows of the current batch (from cur_off) that fit in one message: all of them when they do,
 * else a proportional cut, shrunk until the estimate fits (at least one row). */
static int64_t rows_that_fit(const pl_srv_exec *x) {
    const pl_batch *b = x->cur;
    int64_t left = b->n_rows - x->cur_off;
    int64_t budget = x->max_msg - EXEC_HDR - (x->schema_sent ? 0 : est_schema(b->schema));
    if (budget < 1) budget = 1;
    int64_t est = est_slice(x, b, x->cur_off, left);
    if (est <= budget) return left;
    int64_t rows = left;
    for (int iter = 0; iter < 64 && rows > 1 && est > budget; iter++) {
        int64_t next = (int64_t)((double)rows * (double)budget / (double)est * 0.95);
        if (next >= rows) next = rows - 1;
        if (next < 1) next = 1;
        rows = next;
        est = est_slice(x, b, x->cur_off, rows);
    }
    return rows;
}

static void remember_dicts(pl_srv_exec *x, const pl_batch *b) {
    if (!x->sent_dicts) return;
    for (int32_t k = 0; k < b->n_cols && k < x->n_cols; k++) {
        pl_array *d = b->columns[k]->dictionary;
        if (b->columns[k]->type->id != PL_TYPE_DICTIONARY || !d || x->sent_dicts[k] == d) continue;
        pl_array_release(x->sent_dicts[k]);
        x->sent_dicts[k] = pl_array_retain(d);
    }
}

/* ---------------------------------------------------------------- dictionaries */

pl_status pl_srv_decoded_schema(const pl_schema *s, pl_schema **out, pl_error *err) {
    *out = NULL;
    bool any = false;
    for (int32_t k = 0; k < s->n_fields; k++) any |= s->fields[k].type->id == PL_TYPE_DICTIONARY;
    if (!any) return PL_OK;
    pl_field *f = pl_calloc((size_t)s->n_fields, sizeof *f);
    if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory decoding dictionaries");
    for (int32_t k = 0; k < s->n_fields; k++) {
        f[k] = s->fields[k];
        if (f[k].type->id == PL_TYPE_DICTIONARY) f[k].type = f[k].type->value_type;
    }
    pl_status st = pl_schema_new(s->n_fields, f, out, err);
    pl_free(f);
    return st;
}

/* b with its dictionary columns decoded (takes b). */
static pl_status decode_batch(pl_srv_exec *x, pl_batch *b, pl_batch **out, pl_error *err) {
    pl_array **cols = pl_calloc((size_t)b->n_cols + 1, sizeof *cols);
    if (!cols) {
        pl_batch_release(b);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory decoding dictionaries");
    }
    pl_status st = PL_OK;
    for (int32_t k = 0; k < b->n_cols && !st; k++)
        st = pl_array_decode_dictionary(b->columns[k], &cols[k], err);
    int64_t n_rows = b->n_rows;
    int32_t n_cols = b->n_cols;
    pl_batch_release(b);
    if (st) {
        for (int32_t k = 0; k < n_cols; k++)
            if (cols[k]) pl_array_release(cols[k]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(x->out_schema), n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

/* ---------------------------------------------------------------- start */

static int64_t min_nonzero(int64_t a, int64_t b) {
    if (a <= 0) return b > 0 ? b : 0;
    if (b <= 0) return a;
    return a < b ? a : b;
}

static void held_free(pl_srv_exec *x);

void pl_srv_execute_free(pl_srv_exec *x) {
    if (!x) return;
    if (x->w) x->w->free(x->w);
    if (x->stream) pl_stream_free(x->stream);
    if (x->df) pl_df_release(x->df);
    if (x->cur) pl_batch_release(x->cur);
    if (x->out_schema) pl_schema_release(x->out_schema);
    if (x->sent_dicts) {
        for (int32_t k = 0; k < x->n_cols; k++) pl_array_release(x->sent_dicts[k]);
        pl_free(x->sent_dicts);
    }
    if (x->sink_file) pl_free(x->buf);
    else pl_srv_msg_free(x->buf);
    held_free(x);
    if (x->fd >= 0) close(x->fd);
    if (x->shm_path[0]) unlink(x->shm_path);
    if (x->file_charged && x->opts.mem_hook) (void)x->opts.mem_hook(x->opts.mem_user, -x->file_charged, 0);
    pl_free(x);
}

/* Decodes the request and plans the query (no engine work yet). */
static pl_status exec_plan(pl_srv_call *c, Polaroid__V1__ExecuteRequest *r, pl_srv_exec **out,
                           pl_error *err) {
    pl_srv_exec *x = pl_calloc(1, sizeof *x);
    if (!x) PL_FAIL(err, PL_ERR_NOMEM, "out of memory starting a query");
    const pl_srv_config *cfg = pl_srv_get_config(c->srv);
    const Polaroid__V1__ExecuteOptions *o = r->options;
    x->c = c;
    x->fd = -1;
    x->t0 = pl_now_ns();
    x->state = EXEC_STREAM;
    int64_t server_max = cfg->max_message_bytes > 0 ? cfg->max_message_bytes : 64 << 20;
    int64_t dflt = cfg->default_message_bytes > 0 ? cfg->default_message_bytes
                                                  : EXEC_DEFAULT_MESSAGE_BYTES;
    x->max_msg = o && o->max_message_bytes > 0 ? o->max_message_bytes : dflt;
    if (x->max_msg > server_max) x->max_msg = server_max;
    if (x->max_msg < EXEC_MIN_MESSAGE_BYTES) x->max_msg = EXEC_MIN_MESSAGE_BYTES;
    if (o && o->request_id && c->request_id_buf &&
        pl_srv_request_id_ok(o->request_id, strlen(o->request_id))) /* logs and errors use it */
        snprintf(c->request_id_buf, c->request_id_size, "%s", o->request_id);
    const char *rid = o && o->request_id && o->request_id[0] ? o->request_id
                      : c->request_id                        ? c->request_id
                                                             : "";
    snprintf(x->request_id, sizeof x->request_id, "%s", rid);
    x->keep_dicts = o && o->keep_dictionaries;
    x->shm_probe = o && o->allow_shared_memory && c->same_host;
    x->shm_min = o && o->shared_memory_min_bytes > 0 ? o->shared_memory_min_bytes : 0;
    x->timeout_ms = min_nonzero(cfg->query_timeout_ms, o ? o->timeout_ms : 0);
    if (x->timeout_ms > 0) x->query_deadline_ns = x->t0 + x->timeout_ms * 1000000;

    pl_srv_call_exec_opts(c, &x->opts); /* cancel flag, the server-wide memory account */
    x->opts.deadline_ns = min_nonzero(c->deadline_ns, x->query_deadline_ns);
    x->opts.memory_limit = min_nonzero(cfg->max_memory, o ? o->memory_limit_bytes : 0);

    pl_status st = PL_OK;
    if (!r->plan) st = pl_error_set(err, PL_ERR_INVALID_ARG, "ExecuteRequest has no plan");
    if (!st) st = pl_srv_plan_to_df(c, r->plan, &x->df, err);
    if (st) {
        pl_srv_execute_free(x);
        return st;
    }
    *out = x;
    return PL_OK;
}

/* Starts the planned query: the engine's stream and the IPC writer. */
static pl_status exec_begin(pl_srv_exec *x, pl_error *err) {
    x->begun = true;
    pl_status st = pl_df_execute(x->df, &x->opts, &x->stream, err);
    if (!st && !x->keep_dicts) st = pl_srv_decoded_schema(x->stream->schema, &x->out_schema, err);
    pl_schema *out_schema = x->out_schema ? x->out_schema : (x->stream ? x->stream->schema : NULL);
    if (!st) st = pl_ipc_writer_open_sink(exec_sink, x, false, out_schema, NULL, &x->w, err);
    if (!st) {
        x->n_cols = out_schema->n_fields;
        bool any_dict = false;
        for (int32_t k = 0; k < x->n_cols; k++)
            any_dict |= out_schema->fields[k].type->id == PL_TYPE_DICTIONARY;
        if (any_dict && !(x->sent_dicts = pl_calloc((size_t)x->n_cols, sizeof(pl_array *))))
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory starting a query");
    }
    return st;
}

pl_status pl_srv_execute_start(pl_srv_call *c, const uint8_t *req, size_t n, pl_srv_exec **out,
                               pl_error *err) {
    ProtobufCAllocator *alloc = pl_srv_pb_allocator();
    ProtobufCMessage *msg = NULL;
    PL_TRY(pl_srv_unpack(c->srv, &polaroid__v1__execute_request__descriptor, req, n, &msg, err));
    pl_srv_exec *x = NULL;
    pl_status st = exec_plan(c, (Polaroid__V1__ExecuteRequest *)msg, &x, err);
    protobuf_c_message_free_unpacked(msg, alloc);
    if (!st) st = exec_begin(x, err);
    if (st) {
        pl_srv_execute_free(x);
        return st;
    }
    *out = x;
    return PL_OK;
}

/* Relations a network thread may plan: live tables under row-wise operations; no files, SQL
 * text relations, uploads, handles (they may be lazy plans over files), joins. */
static bool relation_is_light(const Polaroid__V1__Relation *r, int depth) {
    if (!r || depth > 32) return false;
    switch (r->rel_case) {
    case POLAROID__V1__RELATION__REL_TABLE:
        return true;
    case POLAROID__V1__RELATION__REL_SELECT:
        return r->select && relation_is_light(r->select->input, depth + 1);
    case POLAROID__V1__RELATION__REL_FILTER:
        return r->filter && relation_is_light(r->filter->input, depth + 1);
    case POLAROID__V1__RELATION__REL_WITH_COLUMNS:
        return r->with_columns && relation_is_light(r->with_columns->input, depth + 1);
    case POLAROID__V1__RELATION__REL_AGGREGATE:
        return r->aggregate && relation_is_light(r->aggregate->input, depth + 1);
    case POLAROID__V1__RELATION__REL_SORT:
        return r->sort && relation_is_light(r->sort->input, depth + 1);
    case POLAROID__V1__RELATION__REL_DISTINCT:
        return r->distinct && relation_is_light(r->distinct->input, depth + 1);
    case POLAROID__V1__RELATION__REL_LIMIT:
        return r->limit && relation_is_light(r->limit->input, depth + 1);
    case POLAROID__V1__RELATION__REL_RENAME:
        return r->rename && relation_is_light(r->rename->input, depth + 1);
    case POLAROID__V1__RELATION__REL_DROP:
        return r->drop && relation_is_light(r->drop->input, depth + 1);
    default:
        return false;
    }
}

pl_status pl_srv_execute_start_inline(pl_srv_call *c, const uint8_t *req, size_t n,
                                      int64_t max_rows, pl_srv_exec **out, bool *inline_ok,
                                      pl_error *err) {
    *out = NULL;
    *inline_ok = false;
    if (max_rows <= 0 || n > EXEC_INLINE_REQUEST_BYTES) return PL_OK;
    ProtobufCAllocator *alloc = pl_srv_pb_allocator();
    ProtobufCMessage *msg = NULL;
    PL_TRY(pl_srv_unpack(c->srv, &polaroid__v1__execute_request__descriptor, req, n, &msg, err));
    Polaroid__V1__ExecuteRequest *r = (Polaroid__V1__ExecuteRequest *)msg;
    if (!r->plan || !relation_is_light(r->plan->root, 0)) {
        protobuf_c_message_free_unpacked(msg, alloc);
        return PL_OK; /* a runner decodes it */
    }
    pl_srv_exec *x = NULL;
    c->table_rows = c->table_cells = 0;
    pl_status st = exec_plan(c, r, &x, err);
    protobuf_c_message_free_unpacked(msg, alloc);
    if (st) return st;
    if (c->table_rows <= max_rows && c->table_cells <= max_rows * EXEC_INLINE_COLUMNS) {
        st = exec_begin(x, err);
        if (st) {
            pl_srv_execute_free(x);
            return st;
        }
        x->on_network = true;
        *inline_ok = true;
    } /* else planned, not started: the runner's first pl_srv_execute_next_msg starts it */
    *out = x;
    return PL_OK;
}

void pl_srv_execute_to_runner(pl_srv_exec *x) { x->on_network = false; }

/* ---------------------------------------------------------------- next */

/* A cancelled engine call, or a deadline passed between batches: say which. */
static pl_status stopped(pl_srv_exec *x, pl_status st, pl_error *err) {
    int64_t now = pl_now_ns();
    bool client = x->c->cancel && __atomic_load_n(x->c->cancel, __ATOMIC_ACQUIRE);
    if (client) PL_FAIL(err, PL_ERR_CANCELLED, "query cancelled by the client");
    if (x->query_deadline_ns && now >= x->query_deadline_ns) {
        pl_error_set(err, PL_ERR_CANCELLED, "query exceeded its time limit of %" PRId64 " ms",
                     x->timeout_ms);
        if (err) snprintf(err->hint, sizeof err->hint, "raise the limit with ExecuteOptions."
                          "timeout_ms (at most the server's --query-timeout)");
        return PL_ERR_CANCELLED;
    }
    if (x->c->deadline_ns && now >= x->c->deadline_ns)
        PL_FAIL(err, PL_ERR_CANCELLED, "query exceeded the call's deadline");
    if (err && !err->msg[0]) pl_error_set(err, PL_ERR_CANCELLED, "query cancelled");
    return st;
}

static pl_status summary_message(pl_srv_exec *x, pl_srv_msg *out, pl_error *err) {
    Polaroid__V1__ExecuteSummary sum = POLAROID__V1__EXECUTE_SUMMARY__INIT;
    Polaroid__V1__ExecuteResponse resp = POLAROID__V1__EXECUTE_RESPONSE__INIT;
    sum.rows = x->rows;
    sum.batches = x->batches;
    sum.bytes = x->bytes;
    sum.elapsed_us = (pl_now_ns() - x->t0) / 1000;
    sum.request_id = x->request_id;
    resp.payload_case = POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SUMMARY;
    resp.summary = &sum;
    size_t n = polaroid__v1__execute_response__get_packed_size(&resp), cap;
    uint8_t *p = msgbuf_get(n ? n : 1, &cap);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory packing the summary");
    polaroid__v1__execute_response__pack(&resp, p);
    out->base = p;
    out->data = p;
    out->len = n;
    return PL_OK;
}

/* The next arrow_ipc message from the engine, or *eos once the result is complete (an empty
 * result first yields the schema alone). */
static pl_status produce(pl_srv_exec *x, pl_srv_msg *out, bool *eos, pl_error *err) {
    *eos = false;
    memset(out, 0, sizeof *out);
    if (x->ended) {
        *eos = true;
        return PL_OK;
    }
    bool cancelled = x->c->cancel && __atomic_load_n(x->c->cancel, __ATOMIC_ACQUIRE);
    if (cancelled || (x->opts.deadline_ns && pl_now_ns() >= x->opts.deadline_ns))
        return stopped(x, PL_ERR_CANCELLED, err);
    if (!x->cur) {
        pl_batch *b = NULL;
        pl_status st = pl_stream_next(x->stream, &b, err);
        while (!st && b && b->n_rows == 0 && x->schema_sent) { /* nothing to send */
            pl_batch_release(b);
            b = NULL;
            st = pl_stream_next(x->stream, &b, err);
        }
        if (st == PL_ERR_CANCELLED) return stopped(x, st, err);
        if (st) return st;
        if (!b) {
            x->ended = true;
            if (x->schema_sent) {
                *eos = true;
                return PL_OK;
            }
            PL_TRY(x->w->finish(x->w, err)); /* an empty result: the schema (and EOS) alone */
            x->schema_sent = true;
            if (x->sink_file) {
                x->finished_file = true;
                *eos = true;
                return PL_OK;
            }
            take_message(x, out);
            return PL_OK;
        }
        if (x->out_schema) PL_TRY(decode_batch(x, b, &b, err));
        x->cur = b;
        x->cur_off = 0;
    }
    int64_t rows = x->sink_file ? x->cur->n_rows - x->cur_off : rows_that_fit(x);
    if (!x->sink_file) /* room for the estimate, so the buffer is not grown while writing */
        x->expect = (size_t)PL_MIN(est_slice(x, x->cur, x->cur_off, rows) +
                                       (x->schema_sent ? 0 : est_schema(x->cur->schema)),
                                   x->max_msg + (1 << 16)) + EXEC_HDR;
    pl_batch *slice = NULL;
    pl_status st;
    if (x->cur_off == 0 && rows == x->cur->n_rows) {
        slice = pl_batch_retain(x->cur);
        st = PL_OK;
    } else {
        st = pl_batch_slice(x->cur, x->cur_off, rows, &slice, err);
    }
    if (!st) st = x->w->write(x->w, slice, err);
    if (!st) remember_dicts(x, slice);
    if (slice) pl_batch_release(slice);
    if (st) {
        if (x->sink_file) pl_free(x->buf);
        else pl_srv_msg_free(x->buf);
        x->buf = NULL;
        x->len = x->cap = 0;
        return st;
    }
    x->schema_sent = true;
    x->rows += rows;
    x->batches++;
    x->cur_off += rows;
    if (x->cur_off >= x->cur->n_rows) {
        pl_batch_release(x->cur);
        x->cur = NULL;
    }
    if (!x->sink_file) take_message(x, out);
    return PL_OK;
}

/* ---------------------------------------------------------------- same-host result files
 *
 * With ExecuteOptions.allow_shared_memory on a loopback or unix-socket call, the first
 * messages are held back until they reach shared_memory_min_bytes; a smaller result then goes
 * out as messages after all, a larger one continues into a file under /dev/shm (created with
 * O_EXCL, mode 0600) that receives the whole Arrow IPC stream, and the call answers one
 * SharedMemoryResult. The file is charged to the server's memory account as it is written
 * (a result that would pass --max-memory fails with RESOURCE_EXHAUSTED) and becomes a lease.
 *
 * The lease is tied to the Execute call that made it: the transport keeps the call open after
 * the SharedMemoryResult (pl_srv_shm_attach; no runner waits) until the client releases the
 * lease (ReleaseSharedMemory, sent once the client has mapped the file: the mapping stays
 * valid, so the client then holds the only reference). If the client cancels or disconnects
 * first (a killed process closes its connection, and gRPC ends its calls), the transport drops
 * the lease at once (pl_srv_shm_detach): the file is gone within milliseconds. A client that
 * neither releases nor goes away within the hold time gets its summary anyway and the lease
 * then lives until the handle TTL; shutdown removes every lease. */

#define SHM_FILE_BUF (1 << 20)

typedef struct shm_lease {
    const pl_srv *srv;
    char id[48];
    char path[128];
    char *owner;
    int64_t size;
    int64_t expires_ns;
    pl_status (*mem_hook)(void *user, int64_t delta, int64_t total);
    void *mem_user;
    /* the Execute call waiting for the release (pl_srv_shm_attach), until hold_until_ns */
    void (*wake)(void *user);
    void *wake_user;
    int64_t hold_until_ns;
    struct shm_lease *next;
} shm_lease;

static pthread_mutex_t g_shm_mu = PTHREAD_MUTEX_INITIALIZER;
static shm_lease *g_leases;
static atomic_uint_fast64_t g_shm_seq;

static void lease_drop(shm_lease *l) {
    unlink(l->path);
    if (l->mem_hook) (void)l->mem_hook(l->mem_user, -l->size, 0);
    pl_free(l->owner);
    pl_free(l);
}

/* The lease of srv with this id (g_shm_mu held), and the link pointing at it. */
static shm_lease **lease_find(const pl_srv *srv, const char *lease_id) {
    for (shm_lease **p = &g_leases; *p; p = &(*p)->next)
        if ((*p)->srv == srv && !strcmp((*p)->id, lease_id)) return p;
    return NULL;
}

bool pl_srv_shm_release(const pl_srv *srv, const char *owner, const char *lease_id) {
    pthread_mutex_lock(&g_shm_mu);
    shm_lease **p = lease_find(srv, lease_id);
    shm_lease *found = p && !strcmp((*p)->owner, owner ? owner : "") ? *p : NULL;
    if (found) *p = found->next;
    pthread_mutex_unlock(&g_shm_mu);
    if (!found) return false;
    void (*wake)(void *) = found->wake;
    void *user = found->wake_user;
    lease_drop(found);
    if (wake) wake(user); /* the Execute call goes on to its summary */
    return true;
}

bool pl_srv_shm_attach(const pl_srv *srv, const char *lease_id, int64_t hold_until_ns,
                       const int *cancel, void (*wake)(void *user), void *user) {
    pthread_mutex_lock(&g_shm_mu);
    shm_lease **p = lease_find(srv, lease_id);
    bool ok = p && !(*p)->wake && !(cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE));
    if (ok) {
        (*p)->wake = wake;
        (*p)->wake_user = user;
        (*p)->hold_until_ns = hold_until_ns;
    }
    pthread_mutex_unlock(&g_shm_mu);
    return ok;
}

bool pl_srv_shm_detach(const pl_srv *srv, const char *lease_id, bool drop) {
    pthread_mutex_lock(&g_shm_mu);
    shm_lease **p = lease_find(srv, lease_id);
    shm_lease *l = p ? *p : NULL;
    bool had_wake = l && l->wake;
    if (l) l->wake = NULL;
    if (l && drop) *p = l->next;
    pthread_mutex_unlock(&g_shm_mu);
    if (l && drop) lease_drop(l);
    return had_wake;
}

/* Leases of srv that match (g_shm_mu held): expired ones (or all) are unlinked into *gone; the
 * wakes of calls whose hold time passed (or all of them) are taken into wakes[]. */
static int shm_collect(const pl_srv *srv, int64_t now_ns, bool all_leases, bool all_wakes,
                       shm_lease **gone, void (**wake)(void *), void **user, int max_wakes) {
    int n = 0;
    for (shm_lease **p = &g_leases; *p;) {
        shm_lease *l = *p;
        if (l->srv == srv && l->wake && n < max_wakes &&
            (all_wakes || all_leases || now_ns >= l->hold_until_ns)) {
            wake[n] = l->wake;
            user[n++] = l->wake_user;
            l->wake = NULL;
        }
        if (l->srv == srv && !l->wake && (all_leases || now_ns >= l->expires_ns)) {
            *p = l->next;
            l->next = *gone;
            *gone = l;
        } else {
            p = &l->next;
        }
    }
    return n;
}

static void shm_sweep_wakes(const pl_srv *srv, int64_t now_ns, bool all_leases, bool all_wakes) {
    for (;;) {
        enum { BATCH = 64 };
        void (*wake[BATCH])(void *);
        void *user[BATCH];
        shm_lease *gone = NULL;
        pthread_mutex_lock(&g_shm_mu);
        int n = shm_collect(srv, now_ns, all_leases, all_wakes, &gone, wake, user, BATCH);
        pthread_mutex_unlock(&g_shm_mu);
        while (gone) {
            shm_lease *l = gone;
            gone = l->next;
            lease_drop(l);
        }
        for (int i = 0; i < n; i++) wake[i](user[i]);
        if (n < BATCH) break;
    }
}

void pl_srv_shm_sweep(const pl_srv *srv, int64_t now_ns, bool all) {
    shm_sweep_wakes(srv, now_ns, all, false);
}

void pl_srv_shm_wake_all(const pl_srv *srv) { shm_sweep_wakes(srv, 0, false, true); }

int64_t pl_srv_shm_bytes(const pl_srv *srv) {
    int64_t n = 0;
    pthread_mutex_lock(&g_shm_mu);
    for (shm_lease *l = g_leases; l; l = l->next)
        if (l->srv == srv) n += l->size;
    pthread_mutex_unlock(&g_shm_mu);
    return n;
}

void pl_srv_shm_remove_stale(void) {
    DIR *d = opendir("/dev/shm");
    if (!d) return;
    uid_t me = getuid();
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (strncmp(name, "polaroid-", 9) != 0) continue;
        char *end;
        long pid = strtol(name + 9, &end, 10);
        size_t n = strlen(name);
        if (end == name + 9 || *end != '-' || pid <= 0 || pid == (long)self || n < 7 ||
            strcmp(name + n - 7, ".arrows") != 0)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive (or not ours) */
        struct stat sb;
        if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode) ||
            sb.st_uid != me)
            continue;
        (void)unlinkat(dirfd(d), name, 0);
    }
    closedir(d);
}

const char *pl_srv_execute_lease(const pl_srv_exec *x) {
    return x->lease_id[0] ? x->lease_id : NULL;
}

/* Charges n more bytes of the file to the server's memory account before they are written. */
static pl_status file_charge(pl_srv_exec *x, int64_t n, pl_error *err) {
    if (!x->opts.mem_hook || n <= 0) return PL_OK;
    if (x->opts.mem_hook(x->opts.mem_user, n, 0)) {
        pl_error_set(err, PL_ERR_NOMEM, "the shared memory result (%" PRId64 " bytes written) "
                     "would exceed the server's memory limit (--max-memory)",
                     x->file_bytes + (int64_t)x->len);
        if (err) snprintf(err->hint, sizeof err->hint, "release earlier results, or ask "
                          "without allow_shared_memory");
        return PL_ERR_NOMEM;
    }
    x->file_charged += n;
    return PL_OK;
}

static pl_status write_all(pl_srv_exec *x, const uint8_t *p, int64_t n, pl_error *err) {
    PL_TRY(file_charge(x, n, err));
    int64_t off = 0;
    while (off < n) {
        ssize_t k = write(x->fd, p + off, (size_t)(n - off));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            pl_error_set(err, PL_ERR_IO, "cannot write the shared memory result: %s",
                         k < 0 ? strerror(errno) : "short write");
            if (err) snprintf(err->hint, sizeof err->hint, "is /dev/shm full? ask without "
                              "allow_shared_memory");
            return PL_ERR_IO;
        }
        off += k;
    }
    x->file_bytes += n;
    return PL_OK;
}

static pl_status file_flush(pl_srv_exec *x, pl_error *err) {
    pl_status st = write_all(x, x->buf, (int64_t)x->len, err);
    x->len = 0;
    return st;
}

/* The writer's sink while writing the file: a 1 MiB buffer in front of write(2). */
static pl_status file_sink(pl_srv_exec *x, const void *bytes, int64_t n, pl_error *err) {
    if (x->len + (size_t)n > x->cap) PL_TRY(file_flush(x, err));
    if ((size_t)n >= x->cap) return write_all(x, bytes, n, err);
    memcpy(x->buf + x->len, bytes, (size_t)n);
    x->len += (size_t)n;
    return PL_OK;
}

static void held_free(pl_srv_exec *x) {
    for (int32_t i = x->held_next; i < x->n_held; i++) pl_srv_msg_free(x->held[i].base);
    pl_free(x->held);
    x->held = NULL;
    x->n_held = x->held_next = x->cap_held = 0;
}

static pl_status hold(pl_srv_exec *x, pl_srv_msg m, pl_error *err) {
    if (x->n_held == x->cap_held) {
        int32_t cap = x->cap_held ? 2 * x->cap_held : 8;
        pl_srv_msg *h = pl_realloc(x->held, sizeof *h * (size_t)cap);
        if (!h) {
            pl_srv_msg_free(m.base);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory holding result messages");
        }
        x->held = h;
        x->cap_held = cap;
    }
    x->held[x->n_held++] = m;
    x->held_bytes += (int64_t)m.len;
    return PL_OK;
}

/* Packs ExecuteResponse{shared_memory}. */
static pl_status shm_message(pl_srv_exec *x, const char *path, const char *lease_id,
                             pl_srv_msg *out, pl_error *err) {
    Polaroid__V1__SharedMemoryResult r = POLAROID__V1__SHARED_MEMORY_RESULT__INIT;
    Polaroid__V1__ExecuteResponse resp = POLAROID__V1__EXECUTE_RESPONSE__INIT;
    r.path = (char *)path;
    r.size = x->file_bytes;
    r.lease_id = (char *)lease_id;
    resp.payload_case = POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SHARED_MEMORY;
    resp.shared_memory = &r;
    size_t n = polaroid__v1__execute_response__get_packed_size(&resp), cap;
    uint8_t *p = msgbuf_get(n ? n : 1, &cap);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory packing the result");
    polaroid__v1__execute_response__pack(&resp, p);
    out->base = p;
    out->data = p;
    out->len = n;
    return PL_OK;
}

/* The held messages and the rest of the result into a new /dev/shm file; *out = the
 * SharedMemoryResult. */
static pl_status to_file(pl_srv_exec *x, pl_srv_msg *out, pl_error *err) {
    uint64_t seq = atomic_fetch_add(&g_shm_seq, 1) + 1;
    char path[128], id[48];
    snprintf(id, sizeof id, "%d-%" PRIu64 "-%08x", (int)getpid(), seq,
             (unsigned)((uint64_t)pl_now_ns() * 2654435761u));
    snprintf(path, sizeof path, "/dev/shm/polaroid-%s.arrows", id);
    x->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (x->fd < 0)
        PL_FAIL(err, PL_ERR_IO, "cannot create the shared memory result \"%s\": %s", path,
                strerror(errno));
    x->sink_file = true;
    snprintf(x->shm_path, sizeof x->shm_path, "%s", path);
    pl_srv_msg_free(x->buf);
    x->buf = pl_malloc(SHM_FILE_BUF);
    x->len = 0;
    x->cap = x->buf ? SHM_FILE_BUF : 0;
    pl_status st = x->buf ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < x->n_held; i++) { /* the IPC bytes of each held message */
        const pl_srv_msg *m = &x->held[i];
        const uint8_t *ipc = (const uint8_t *)m->base + EXEC_HDR;
        st = file_sink(x, ipc, (int64_t)(m->len - (size_t)(ipc - m->data)), err);
    }
    held_free(x);
    while (!st) {
        pl_srv_msg m;
        bool eos;
        st = produce(x, &m, &eos, err);
        if (st || eos) break;
        if (m.base) { /* an empty result's schema message: already in the file */
            pl_srv_msg_free(m.base);
        }
    }
    if (!st && !x->finished_file) {
        st = x->w->finish(x->w, err); /* end-of-stream marker */
        x->finished_file = true;
    }
    if (!st) st = file_flush(x, err);
    if (close(x->fd) != 0 && !st) st = pl_error_set(err, PL_ERR_IO, "cannot close the file");
    x->fd = -1;
    shm_lease *l = NULL;
    if (!st) {
        l = pl_calloc(1, sizeof *l);
        if (!l || !(l->owner = pl_strdup(x->c->owner ? x->c->owner : ""))) {
            pl_free(l);
            l = NULL;
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        }
    }
    if (!st) st = shm_message(x, path, id, out, err);
    if (st) {
        if (l) pl_free(l->owner);
        pl_free(l);
        unlink(path);
        x->shm_path[0] = 0;
        return st; /* pl_srv_execute_free gives back what the file was charged */
    }
    l->srv = x->c->srv;
    snprintf(l->id, sizeof l->id, "%s", id);
    snprintf(l->path, sizeof l->path, "%s", path);
    l->size = x->file_bytes;
    const pl_srv_config *cfg = pl_srv_get_config(x->c->srv);
    l->expires_ns = pl_now_ns() + (cfg->handle_ttl_s > 0 ? cfg->handle_ttl_s : 300) * 1000000000LL;
    l->mem_hook = x->opts.mem_hook;
    l->mem_user = x->opts.mem_user;
    x->file_charged = 0; /* the lease carries the charge now */
    snprintf(x->lease_id, sizeof x->lease_id, "%s", id);
    pthread_mutex_lock(&g_shm_mu);
    l->next = g_leases;
    g_leases = l;
    pthread_mutex_unlock(&g_shm_mu);
    x->shm_path[0] = 0; /* the lease owns it now */
    x->bytes = x->file_bytes;
    return PL_OK;
}

/* ---------------------------------------------------------------- next */

pl_status pl_srv_execute_next_msg(pl_srv_exec *x, pl_srv_msg *out, bool *done, pl_error *err) {
    *done = false;
    memset(out, 0, sizeof *out);
    if (!x->begun) PL_TRY(exec_begin(x, err));
    if (!x->shm_probe && x->held_next < x->n_held) { /* a small result held back for the file */
        *out = x->held[x->held_next++];
        return PL_OK;
    }
    if (x->state == EXEC_DONE) {
        *done = true;
        return PL_OK;
    }
    if (x->state == EXEC_SUMMARY) {
        PL_TRY(summary_message(x, out, err));
        x->state = EXEC_DONE;
        return PL_OK;
    }
    bool eos = false;
    if (x->shm_probe) {
        for (;;) {
            if (x->n_held > 0 && x->held_bytes >= x->shm_min) { /* large: into a file */
                if (x->on_network) return PL_OK;            /* file I/O: a runner's job */
                x->shm_probe = false;
                PL_TRY(to_file(x, out, err));
                x->state = EXEC_SUMMARY;
                return PL_OK;
            }
            if (x->on_network && x->bytes >= EXEC_INLINE_BYTES) return PL_OK;
            pl_srv_msg m;
            PL_TRY(produce(x, &m, &eos, err));
            if (eos) break;
            PL_TRY(hold(x, m, err));
        }
        x->shm_probe = false; /* the whole result was small: send what was held */
        x->state = EXEC_SUMMARY;
        if (x->held_next < x->n_held) {
            *out = x->held[x->held_next++];
            return PL_OK;
        }
    } else {
        if (x->on_network && x->bytes >= EXEC_INLINE_BYTES) return PL_OK;
        PL_TRY(produce(x, out, &eos, err));
        if (!eos) return PL_OK;
    }
    PL_TRY(summary_message(x, out, err));
    x->state = EXEC_DONE;
    return PL_OK;
}

pl_status pl_srv_execute_next(pl_srv_exec *x, uint8_t **msg, size_t *len, bool *done,
                              pl_error *err) {
    pl_srv_msg m;
    PL_TRY(pl_srv_execute_next_msg(x, &m, done, err));
    while (!*done && !m.base) { /* a network thread's part ends here: go on as a runner */
        pl_srv_execute_to_runner(x);
        PL_TRY(pl_srv_execute_next_msg(x, &m, done, err));
    }
    if (*done) {
        *msg = NULL;
        *len = 0;
        return PL_OK;
    }
    uint8_t *copy = pl_malloc(m.len ? m.len : 1);
    if (!copy) {
        pl_srv_msg_free(m.base);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a result message");
    }
    memcpy(copy, m.data, m.len);
    pl_srv_msg_free(m.base);
    *msg = copy;
    *len = m.len;
    return PL_OK;
}

void pl_srv_execute_progress(const pl_srv_exec *x, int64_t *rows, int64_t *bytes) {
    *rows = x->rows;
    *bytes = x->bytes;
}

bool pl_srv_execute_finished(const pl_srv_exec *x) { return x->state == EXEC_DONE; }

int64_t pl_srv_execute_deadline(const pl_srv_exec *x) { return x->opts.deadline_ns; }

pl_status pl_srv_execute_stop_reason(pl_srv_exec *x, pl_error *err) {
    return stopped(x, PL_ERR_CANCELLED, err);
}
