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
#define _GNU_SOURCE /* mremap */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>
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
    int32_t shm_max_files; /* files the client can take (ExecuteOptions.shared_memory_max_files) */
    bool sink_file;        /* the writer w writes into files[0] */
    bool w_finished;       /* w->finish was called (an empty result's schema message) */
    struct shm_file *files; /* the result files (n_files of them may exist), or NULL */
    int32_t n_files;
    int64_t file_bytes;     /* of every file */
    struct shm_run *runs;   /* the result's record batches in order */
    int32_t n_runs, cap_runs;
    /* run on a network thread (pl_srv_execute_start_inline): no file I/O, and at most
     * EXEC_INLINE_BYTES of messages; beyond, next_msg asks for a runner */
    bool on_network;
    bool begun; /* pl_df_execute and the writer started */
    bool keep_dicts;
    char lease_id[48];  /* the lease the files became */
    char shm_id[48];    /* the id of the files being written */
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

static pl_status shm_file_sink(void *ctx, const void *bytes, int64_t n, pl_error *err);

static pl_status exec_sink(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    pl_srv_exec *x = ctx;
    if (x->sink_file) return shm_file_sink(x->files, bytes, n, err);
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
static void files_free(pl_srv_exec *x);

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
    pl_srv_msg_free(x->buf);
    held_free(x);
    files_free(x);
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
    x->shm_max_files = o && o->shared_memory_max_files > 1 ? o->shared_memory_max_files : 1;
    x->timeout_ms = min_nonzero(cfg->query_timeout_ms, o ? o->timeout_ms : 0);
    if (x->timeout_ms > 0) x->query_deadline_ns = x->t0 + x->timeout_ms * 1000000;

    pl_srv_call_exec_opts(c, &x->opts); /* cancel flag, the server-wide memory account */
    x->opts.deadline_ns = min_nonzero(c->deadline_ns, x->query_deadline_ns);
    x->opts.memory_limit = min_nonzero(cfg->max_memory, o ? o->memory_limit_bytes : 0);

    pl_status st = PL_OK;
    if (!r->plan) st = pl_error_set(err, PL_ERR_INVALID_ARG, "ExecuteRequest has no plan");
    if (!st) {
        c->sql_script = true;
        c->sql_session = o && o->session_id && o->session_id[0] ? o->session_id : NULL;
        st = pl_srv_plan_to_df(c, r->plan, &x->df, err);
        c->sql_script = false;
        c->sql_session = NULL;
    }
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
static bool stop_requested(const pl_srv_exec *x) {
    bool cancelled = x->c->cancel && __atomic_load_n(x->c->cancel, __ATOMIC_ACQUIRE);
    return cancelled || (x->opts.deadline_ns && pl_now_ns() >= x->opts.deadline_ns);
}

/* The engine's next batch into *out (dictionaries decoded unless kept), skipping empty batches
 * once the schema went out; NULL at the end of the result (x->ended). */
static pl_status next_batch(pl_srv_exec *x, pl_batch **out, pl_error *err) {
    *out = NULL;
    if (x->ended) return PL_OK;
    if (stop_requested(x)) return stopped(x, PL_ERR_CANCELLED, err);
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
        return PL_OK;
    }
    if (x->out_schema) PL_TRY(decode_batch(x, b, &b, err));
    *out = b;
    return PL_OK;
}

static pl_status produce(pl_srv_exec *x, pl_srv_msg *out, bool *eos, pl_error *err) {
    *eos = false;
    memset(out, 0, sizeof *out);
    if (x->ended) {
        *eos = true;
        return PL_OK;
    }
    if (!x->cur) {
        pl_batch *b = NULL;
        PL_TRY(next_batch(x, &b, err));
        if (!b) {
            if (x->schema_sent) {
                *eos = true;
                return PL_OK;
            }
            x->w_finished = true;
            PL_TRY(x->w->finish(x->w, err)); /* an empty result: the schema (and EOS) alone */
            x->schema_sent = true;
            take_message(x, out);
            return PL_OK;
        }
        x->cur = b;
        x->cur_off = 0;
    } else if (stop_requested(x)) {
        return stopped(x, PL_ERR_CANCELLED, err);
    }
    int64_t rows = rows_that_fit(x);
    /* room for the estimate, so the buffer is not grown while writing */
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
        pl_srv_msg_free(x->buf);
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
    take_message(x, out);
    return PL_OK;
}

/* ---------------------------------------------------------------- same-host result files
 *
 * With ExecuteOptions.allow_shared_memory on a loopback or unix-socket call, the first
 * messages are held back until they reach shared_memory_min_bytes; a smaller result then goes
 * out as messages after all, a larger one continues into files under /dev/shm (created with
 * O_EXCL, mode 0600; one file, or several written at once when the client allows them:
 * "writing the files" below) that receive the Arrow IPC stream, and the call answers one
 * SharedMemoryResult. The files are charged to the server's memory account as they are written
 * (a result that would pass --max-memory fails with RESOURCE_EXHAUSTED, every file removed) and
 * become one lease.
 *
 * The lease is tied to the Execute call that made it: the transport keeps the call open after
 * the SharedMemoryResult (pl_srv_shm_attach; no runner waits) until the client releases the
 * lease (ReleaseSharedMemory, sent once the client has mapped the file: the mapping stays
 * valid, so the client then holds the only reference). If the client cancels or disconnects
 * first (a killed process closes its connection, and gRPC ends its calls), the transport drops
 * the lease at once (pl_srv_shm_detach): the file is gone within milliseconds. A client that
 * neither releases nor goes away within the hold time gets its summary anyway and the lease
 * then lives until the handle TTL; shutdown removes every lease.
 *
 * Reuse: a tmpfs page costs the kernel an allocation (and its accounting) the first time it is
 * written, ~1.2 us per 4 KiB; writing over a page the file has already costs about half. A
 * client that keeps the files mapped (the table it returned reads them) takes a shared flock(2)
 * on each file before mapping it, and may release with its process id: the lease is then
 * "lent" (pidfd_open, after checking that the files are locked: lease_locked): the files stay,
 * uncharged, as long as a lock is held — the lock lives as long as any mapping of the client's
 * open file does, in its process and in children that inherited the mapping, in any pid
 * namespace — and are looked at again when the client says it unmapped them
 * (ReleaseSharedMemory.unmapped, sent when its table is gone; the transport's housekeeping
 * thread checks right after), every second by the sweep, and when its process exits (the sweep
 * polls the pidfd); once no lock is held they go to a pool of this owner's files (charged to the
 * memory account again, at most pl_srv_config.shm_pool_bytes, each kept shm_pool_idle_ms at
 * most, and given up at once when a charge would pass --max-memory) that later results of the
 * same owner are written over (the largest first; one much larger than its new stream is cut
 * to it). A lent lease past its TTL is removed without reuse: the client may still map it.
 * Nothing a client says makes a locked file reusable: "unmapped" only asks for a look. */

#define SHM_FILE_BUF (1 << 20)

/* A result file's writable mapping in the server, kept for the file's life (result, lease,
 * pool): once pool_populate has filled its page table, a pooled file's later results are
 * copied in with memcpy alone. write(2) over tmpfs pages costs the kernel a page-cache lookup,
 * lock and LRU update per 4 KiB besides the copy; writing through an unpopulated mapping costs
 * a fault per page, so until it is ready the file is written with pwrite. The client runs as
 * the same user (the files are 0600) and could truncate a file under the server's mapping: the
 * mappings are guarded (pl_file_map_guard), so a write past the file's new end lands on
 * anonymous pages instead of raising SIGBUS, and the result fails with an error
 * (shm_put checks pl_file_map_lost). */
typedef struct shm_map {
    uint8_t *p; /* NULL: not mapped */
    int64_t len;
    int32_t slot; /* its pl_file_map_guard slot (when p) */
    bool ready;   /* its page table is filled (pool_populate): writes cost no fault */
} shm_map;

static void shm_unmap(shm_map *m) {
    if (m->p) {
        pl_file_map_unguard(m->slot);
        munmap(m->p, (size_t)m->len);
    }
    *m = (shm_map){0};
}

/* Maps the first size bytes of fd writable and guarded; false (m unchanged): not mapped, the
 * file is written with pwrite. */
static bool shm_map_make(shm_map *m, int fd, int64_t size) {
    if (size <= 0 || (uint64_t)size > SIZE_MAX / 2) return false;
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return false;
    int32_t slot = pl_file_map_guard(p, (size_t)size, true);
    if (slot < 0) {
        munmap(p, (size_t)size);
        return false;
    }
    *m = (shm_map){p, size, slot, false};
    return true;
}

/* The mapping resized to size bytes (the file was cut or grown); unmapped if that fails. */
static void shm_map_resize(shm_map *m, int64_t size) {
    if (size <= 0 || (uint64_t)size > SIZE_MAX / 2) {
        shm_unmap(m);
        return;
    }
    pl_file_map_unguard(m->slot);
    void *p = mremap(m->p, (size_t)m->len, (size_t)size, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) {
        munmap(m->p, (size_t)m->len);
        *m = (shm_map){0};
        return;
    }
    int32_t slot = pl_file_map_guard(p, (size_t)size, true);
    if (slot < 0) {
        munmap(p, (size_t)size);
        *m = (shm_map){0};
        return;
    }
    *m = (shm_map){p, size, slot, m->ready && size <= m->len};
}

typedef struct shm_lease {
    const pl_srv *srv;
    char id[48];
    char (*paths)[128]; /* the result's files */
    struct shm_map *maps; /* ... their writable mappings in this process (n_paths; may be NULL) */
    int32_t n_paths;
    char *owner;
    int64_t size;
    int64_t expires_ns;
    pl_status (*mem_hook)(void *user, int64_t delta, int64_t total);
    void *mem_user;
    /* the Execute call waiting for the release (pl_srv_shm_attach), until hold_until_ns */
    void (*wake)(void *user);
    void *wake_user;
    int64_t hold_until_ns;
    int pidfd;    /* lent: the client process that released them (-1: not lent) */
    int64_t next_check_ns; /* lent: when the sweep looks at the files' locks next */
    bool charged; /* size is charged to mem_hook (not while lent) */
    struct shm_lease *next;
} shm_lease;

/* A file of the reuse pool (g_shm_mu): its pages are allocated and charged. */
typedef struct shm_pooled {
    const pl_srv *srv;
    char *owner;
    char path[128];
    int64_t size;
    pl_status (*mem_hook)(void *user, int64_t delta, int64_t total);
    void *mem_user;
    int64_t idle_since_ns;
    shm_map map; /* its mapping (shm_map), if it has one */
    struct shm_pooled *next;
} shm_pooled;


/* how often the sweep checks that a lent lease's files are still mapped by its process */
#define SHM_LENT_CHECK_NS (1000000000LL)

static pthread_mutex_t g_shm_mu = PTHREAD_MUTEX_INITIALIZER;
static shm_lease *g_leases;
static shm_pooled *g_pool;
static atomic_uint_fast64_t g_shm_seq;
static _Atomic int64_t g_pool_reused; /* bytes of pooled files handed to new results */
static _Atomic int64_t g_pool_copied; /* ... of results copied into pooled files' mappings */

static void lease_drop(shm_lease *l) {
    for (int32_t i = 0; i < l->n_paths; i++) unlink(l->paths[i]);
    for (int32_t i = 0; l->maps && i < l->n_paths; i++) shm_unmap(&l->maps[i]);
    pl_free(l->maps);
    pl_free(l->paths);
    if (l->mem_hook && l->charged) (void)l->mem_hook(l->mem_user, -l->size, 0);
    if (l->pidfd >= 0) close(l->pidfd);
    pl_free(l->owner);
    pl_free(l);
}

static void pooled_free(shm_pooled *e) {
    shm_unmap(&e->map);
    unlink(e->path);
    if (e->mem_hook) (void)e->mem_hook(e->mem_user, -e->size, 0);
    pl_free(e->owner);
    pl_free(e);
}

/* The machine's memory in bytes (0: unknown). */
static int64_t phys_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (int64_t)pages * page : 0;
}

/* Bytes the pool may hold (pl_srv_config.shm_pool_bytes, at most half of --max-memory; by
 * default a third of the machine's memory). */
static int64_t pool_cap(const pl_srv *srv) {
    const pl_srv_config *cfg = pl_srv_get_config(srv);
    int64_t cap = cfg && cfg->shm_pool_bytes > 0 ? cfg->shm_pool_bytes : 0;
    if (cfg && cfg->shm_pool_bytes < 0) { /* a third of the memory and of /dev/shm */
        cap = phys_bytes() / 3;
        struct statvfs vs;
        if (statvfs("/dev/shm", &vs) == 0 && vs.f_frsize > 0)
            cap = PL_MIN(cap, (int64_t)(vs.f_blocks / 3) * (int64_t)vs.f_frsize);
    }
    if (cfg && cfg->max_memory > 0 && cfg->max_memory / 2 < cap) cap = cfg->max_memory / 2;
    return cap;
}

static int64_t pool_idle_ns(const pl_srv *srv) {
    const pl_srv_config *cfg = pl_srv_get_config(srv);
    return (cfg && cfg->shm_pool_idle_ms > 0 ? cfg->shm_pool_idle_ms : 30000) * 1000000;
}

/* The lease's files into the pool (each charged again; unlinked when the pool is full or the
 * charge fails), then the lease record freed. The caller owns l (unlinked from g_leases). */
static void lease_recycle(shm_lease *l) {
    int64_t cap = pool_cap(l->srv), now = pl_now_ns();
    if (l->mem_hook && l->charged) { /* the pool charges per file below */
        (void)l->mem_hook(l->mem_user, -l->size, 0);
        l->charged = false;
    }
    for (int32_t i = 0; i < l->n_paths; i++) {
        struct stat sb;
        shm_pooled *e = NULL;
        if (lstat(l->paths[i], &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
            (e = pl_calloc(1, sizeof *e)) && (e->owner = pl_strdup(l->owner ? l->owner : ""))) {
            e->srv = l->srv;
            snprintf(e->path, sizeof e->path, "%s", l->paths[i]);
            e->size = (int64_t)sb.st_size;
            e->idle_since_ns = now;
            if (l->maps && l->maps[i].p && l->maps[i].len == e->size) { /* goes with the file */
                e->map = l->maps[i];
                l->maps[i] = (shm_map){0};
            }
            if (!l->mem_hook || !l->mem_hook(l->mem_user, e->size, 0)) {
                e->mem_hook = l->mem_hook;
                e->mem_user = l->mem_user;
                pthread_mutex_lock(&g_shm_mu);
                int64_t held = 0;
                for (shm_pooled *q = g_pool; q; q = q->next)
                    if (q->srv == l->srv) held += q->size;
                bool fits = held + e->size <= cap;
                if (fits) {
                    e->next = g_pool;
                    g_pool = e;
                }
                pthread_mutex_unlock(&g_shm_mu);
                if (fits) continue;
            }
        }
        if (e) pooled_free(e); /* unlinks, gives back the charge it holds */
        else unlink(l->paths[i]);
    }
    l->n_paths = 0;
    lease_drop(l);
}

/* Whether another open file description holds a lock on one of l's files: a client maps each
 * file after taking a shared flock(2) on it, and the lock lives as long as any mapping of that
 * open file does (its own, and those that fork(2) children inherit), so "not locked" means no
 * client page of it is mapped any more, whatever the processes and pid namespaces. Files that
 * are gone count as unlocked. */
static bool lease_locked(const shm_lease *l) {
    for (int32_t i = 0; i < l->n_paths; i++) {
        int fd = open(l->paths[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) continue;
        bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(fd); /* drops the probe's own lock */
        if (held) return true;
    }
    return false;
}

/* Lends l to process pid (see "Reuse" above): true when the client holds its shared lock on
 * the files (lease_locked; a client that does not lock, e.g. an older one, gets them removed
 * as without reuse) and the pidfd is open; the charge is given back (the client holds the pages
 * now). Costs an open and a flock per file: fine on the network thread that runs the release. */
static bool lease_lend(shm_lease *l, int64_t pid) {
#ifdef SYS_pidfd_open
    if (pid <= 0 || pid > INT32_MAX || l->n_paths < 1 || l->pidfd >= 0) return false;
    if (!lease_locked(l)) return false;
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd < 0) return false;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
        close(fd);
        return false;
    }
    l->pidfd = fd;
    l->next_check_ns = pl_now_ns() + SHM_LENT_CHECK_NS;
    if (l->mem_hook && l->charged) (void)l->mem_hook(l->mem_user, -l->size, 0);
    l->charged = false;
    return true;
#else
    (void)l;
    (void)pid;
    return false;
#endif
}

static shm_pooled *pool_take(const pl_srv *srv, const char *owner) {
    pthread_mutex_lock(&g_shm_mu);
    shm_pooled **best = NULL;
    for (shm_pooled **p = &g_pool; *p; p = &(*p)->next)
        if ((*p)->srv == srv && !strcmp((*p)->owner, owner ? owner : "") &&
            (!best || (*p)->size > (*best)->size))
            best = p;
    shm_pooled *e = best ? *best : NULL;
    if (best) *best = e->next;
    pthread_mutex_unlock(&g_shm_mu);
    return e;
}

int64_t pl_srv_shm_pool_trim(const pl_srv *srv, int64_t want) {
    int64_t freed = 0;
    while (freed < want || want <= 0) {
        pthread_mutex_lock(&g_shm_mu);
        shm_pooled **p = &g_pool;
        while (*p && (*p)->srv != srv) p = &(*p)->next;
        shm_pooled *e = *p;
        if (e) *p = e->next;
        pthread_mutex_unlock(&g_shm_mu);
        if (!e) break;
        freed += e->size;
        pooled_free(e);
    }
    return freed;
}

int64_t pl_srv_shm_pool_bytes(const pl_srv *srv) {
    int64_t n = 0;
    pthread_mutex_lock(&g_shm_mu);
    for (shm_pooled *e = g_pool; e; e = e->next)
        if (e->srv == srv) n += e->size;
    pthread_mutex_unlock(&g_shm_mu);
    return n;
}

int64_t pl_srv_shm_reused_bytes(void) { return atomic_load(&g_pool_reused); }

int64_t pl_srv_shm_mapped_bytes(void) { return atomic_load(&g_pool_copied); }

/* The lease of srv with this id (g_shm_mu held), and the link pointing at it. */
static shm_lease **lease_find(const pl_srv *srv, const char *lease_id) {
    for (shm_lease **p = &g_leases; *p; p = &(*p)->next)
        if ((*p)->srv == srv && !strcmp((*p)->id, lease_id)) return p;
    return NULL;
}

bool pl_srv_shm_release_ex(const pl_srv *srv, const char *owner, const char *lease_id,
                           int64_t client_pid, bool unmapped) {
    pthread_mutex_lock(&g_shm_mu);
    shm_lease **p = lease_find(srv, lease_id);
    shm_lease *found = p && !strcmp((*p)->owner, owner ? owner : "") ? *p : NULL;
    if (found) *p = found->next;
    void (*wake)(void *) = found ? found->wake : NULL;
    void *user = found ? found->wake_user : NULL;
    if (found) found->wake = NULL;
    pthread_mutex_unlock(&g_shm_mu);
    if (!found) return false;
    if (unmapped && found->pidfd >= 0) {
        found->next_check_ns = 0; /* the next check looks whether it is unlocked indeed */
        pthread_mutex_lock(&g_shm_mu);
        found->next = g_leases;
        g_leases = found;
        pthread_mutex_unlock(&g_shm_mu);
    } else if (unmapped) {
        lease_recycle(found);
    } else if (client_pid > 0 && pool_cap(srv) > 0 && lease_lend(found, client_pid)) {
        pthread_mutex_lock(&g_shm_mu); /* kept, off the call, until unmapped or the pid exits */
        found->next = g_leases;
        g_leases = found;
        pthread_mutex_unlock(&g_shm_mu);
    } else {
        lease_drop(found);
    }
    if (wake) wake(user); /* the Execute call goes on to its summary */
    return true;
}

bool pl_srv_shm_release(const pl_srv *srv, const char *owner, const char *lease_id) {
    return pl_srv_shm_release_ex(srv, owner, lease_id, 0, false);
}

bool pl_srv_shm_attach(const pl_srv *srv, const char *lease_id, int64_t hold_until_ns,
                       const int *cancel, void (*wake)(void *user), void *user) {
    pthread_mutex_lock(&g_shm_mu);
    shm_lease **p = lease_find(srv, lease_id);
    /* a lent lease was released already (the client's release can overtake the transport's
     * attach): nothing to wait for */
    bool ok = p && !(*p)->wake && (*p)->pidfd < 0 &&
              !(cancel && __atomic_load_n(cancel, __ATOMIC_ACQUIRE));
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
    if (l && l->pidfd >= 0) drop = false; /* lent: no longer the call's */
    if (l && drop) *p = l->next;
    pthread_mutex_unlock(&g_shm_mu);
    if (l && drop) lease_drop(l);
    return had_wake;
}

/* Whether the process behind a lent lease's pidfd has exited. */
static bool lent_gone(const shm_lease *l) {
    struct pollfd pfd = {.fd = l->pidfd, .events = POLLIN};
    return poll(&pfd, 1, 0) > 0;
}

/* Leases of srv that match (g_shm_mu held): expired ones (or all) are unlinked into *gone, lent
 * ones whose process exited into *recycle; the wakes of calls whose hold time passed (or all of
 * them) are taken into wakes[]. Pool files idle too long (or all) go to *pool_gone. */
static int shm_collect(const pl_srv *srv, int64_t now_ns, bool all_leases, bool all_wakes,
                       shm_lease **gone, shm_pooled **pool_gone,
                       void (**wake)(void *), void **user, int max_wakes) {
    int n = 0;
    for (shm_lease **p = &g_leases; *p;) {
        shm_lease *l = *p;
        if (l->srv == srv && l->wake && n < max_wakes &&
            (all_wakes || all_leases || now_ns >= l->hold_until_ns)) {
            wake[n] = l->wake;
            user[n++] = l->wake_user;
            l->wake = NULL;
        }
        if (l->srv == srv && !all_leases && l->pidfd >= 0 && lent_gone(l))
            l->next_check_ns = 0; /* its process exited: unlocked unless a child maps them */
        if (l->srv == srv && !l->wake && (all_leases || now_ns >= l->expires_ns)) {
            *p = l->next;
            l->next = *gone;
            *gone = l;
        } else {
            p = &l->next;
        }
    }
    for (shm_pooled **p = &g_pool; *p;) {
        shm_pooled *e = *p;
        if (e->srv == srv && (all_leases || now_ns - e->idle_since_ns >= pool_idle_ns(srv))) {
            *p = e->next;
            e->next = *pool_gone;
            *pool_gone = e;
        } else {
            p = &e->next;
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
        shm_pooled *pool_gone = NULL;
        pthread_mutex_lock(&g_shm_mu);
        int n = shm_collect(srv, now_ns, all_leases, all_wakes, &gone, &pool_gone,
                            wake, user, BATCH);
        pthread_mutex_unlock(&g_shm_mu);
        while (gone) {
            shm_lease *l = gone;
            gone = l->next;
            lease_drop(l);
        }
        while (pool_gone) {
            shm_pooled *e = pool_gone;
            pool_gone = e->next;
            pooled_free(e);
        }
        for (int i = 0; i < n; i++) wake[i](user[i]);
        if (n < BATCH) break;
    }
}

/* Lent leases due for a look: those whose files no client locks any more (lease_locked: their
 * tables are gone, in every process that mapped them) go to the pool; the others are looked at
 * again in a second. Checked under g_shm_mu (an open and a flock per file), so a concurrent
 * release always finds its lease. */
static void lent_check(const pl_srv *srv, int64_t now_ns) {
    shm_lease *free_ = NULL;
    pthread_mutex_lock(&g_shm_mu);
    for (shm_lease **p = &g_leases; *p;) {
        shm_lease *l = *p;
        if (l->srv == srv && l->pidfd >= 0 && now_ns >= l->next_check_ns) {
            if (!lease_locked(l)) {
                *p = l->next;
                l->next = free_;
                free_ = l;
                continue;
            }
            l->next_check_ns = now_ns + SHM_LENT_CHECK_NS;
        }
        p = &l->next;
    }
    pthread_mutex_unlock(&g_shm_mu);
    while (free_) {
        shm_lease *l = free_;
        free_ = l->next;
        lease_recycle(l);
    }
}

void pl_srv_shm_check_lent(const pl_srv *srv, int64_t now_ns) { lent_check(srv, now_ns); }

static _Atomic int64_t g_shm_reserve; /* a test's reserve; 0 = a quarter of the memory */

void pl_srv_shm_set_reserve_for_testing(int64_t bytes) { atomic_store(&g_shm_reserve, bytes); }

/* /proc/meminfo's MemAvailable in bytes, or -1. */
static int64_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f) return -1;
    char line[128];
    int64_t kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %" SCNd64 " kB", &kb) == 1) break;
    fclose(f);
    return kb >= 0 ? kb * 1024 : -1;
}

/* The pool is a cache: tmpfs pages are not reclaimable (no swap here), so when the machine's
 * available memory falls under a reserve (a quarter of the memory) the pool gives up what is
 * missing, and a quarter of the reserve more, before other programs run short. */
static void pool_yield(const pl_srv *srv) {
    if (pl_srv_shm_pool_bytes(srv) <= 0) return;
    int64_t reserve = atomic_load(&g_shm_reserve);
    if (reserve <= 0) reserve = phys_bytes() / 4;
    int64_t avail = mem_available();
    if (avail >= 0 && avail < reserve) (void)pl_srv_shm_pool_trim(srv, reserve - avail + reserve / 4);
}

/* Fills the page tables of pooled files' mappings, up to budget bytes, on the housekeeping
 * thread (off any request's path): an entry is taken out of the pool while its mapping is
 * populated (MADV_POPULATE_READ: read faults that map present pages 16 at a time; shmem's
 * entries are writable), then put back. Populated at creation instead, a result that is never
 * reused (a client that keeps it, a quick next request) paid ~0.5 us a page for nothing. */
static void pool_populate(const pl_srv *srv, int64_t budget) {
    while (budget > 0) {
        pthread_mutex_lock(&g_shm_mu);
        shm_pooled **p = &g_pool, *e = NULL;
        for (; *p; p = &(*p)->next)
            if ((*p)->srv == srv && (*p)->map.p && !(*p)->map.ready) break;
        if (*p) {
            e = *p;
            *p = e->next;
        }
        pthread_mutex_unlock(&g_shm_mu);
        if (!e) return;
        if (madvise(e->map.p, (size_t)e->map.len, 22 /* MADV_POPULATE_READ, Linux 5.14 */) == 0)
            e->map.ready = true;
        else
            shm_unmap(&e->map); /* written with pwrite when reused */
        budget -= e->map.len > 0 ? e->map.len : 1;
        pthread_mutex_lock(&g_shm_mu);
        e->next = g_pool;
        g_pool = e;
        pthread_mutex_unlock(&g_shm_mu);
    }
}

void pl_srv_shm_sweep(const pl_srv *srv, int64_t now_ns, bool all) {
    shm_sweep_wakes(srv, now_ns, all, false);
    if (!all) {
        lent_check(srv, now_ns);
        pool_yield(srv);
        pool_populate(srv, 16LL << 30);
    }
}

void pl_srv_shm_wake_all(const pl_srv *srv) { shm_sweep_wakes(srv, 0, false, true); }

int64_t pl_srv_shm_bytes(const pl_srv *srv) {
    int64_t n = 0;
    pthread_mutex_lock(&g_shm_mu);
    for (shm_lease *l = g_leases; l; l = l->next)
        if (l->srv == srv) n += l->size;
    for (shm_pooled *e = g_pool; e; e = e->next)
        if (e->srv == srv) n += e->size;
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

/* ---------------------------------------------------------------- writing the files
 *
 * The result goes into up to K files at once (K = the files the client can take, at most the
 * worker pool's threads and SHM_MAX_FILES): writing a tmpfs file is the kernel's work per page
 * (allocate, charge, copy) under the file's inode lock, so one writer per file is what scales.
 * The runner pulls a round of batches from the engine (about SHM_ROUND_SEGS segments of
 * SHM_SEG_BYTES per file, at most SHM_ROUND_MAX_SEGS; a larger batch is sliced), then
 * pl_parallel_for writes the round's segments, each into the file with the fewest bytes so far
 * (round_assign; one task per file, so a file is written by one thread at a time; a file is
 * created when a segment first needs it). Each file is a whole Arrow IPC stream with its own
 * writer (file 0 continues the stream whose first messages were held back); the runs record
 * which record batches of which file make the result, in order. Every file is charged to the
 * memory account before it is written, and every file is removed on any failure. */

#define SHM_MAX_FILES 16
#define SHM_SEG_BYTES (4LL << 20)
#define SHM_ROUND_SEGS 8
#define SHM_ROUND_MAX_SEGS 64 /* a round holds at most 64 segments (256 MiB) of batches */
#define SHM_DIRECT_BYTES (64 << 10)

static _Atomic int64_t g_shm_seg_bytes; /* a test's segment size; 0 = SHM_SEG_BYTES */

void pl_srv_shm_set_segment_bytes_for_testing(int64_t n) { atomic_store(&g_shm_seg_bytes, n); }

static void (*_Atomic g_shm_before_copy)(const char *path);
void pl_srv_shm_set_before_copy_for_testing(void (*fn)(const char *path)) {
    atomic_store(&g_shm_before_copy, fn);
}

typedef struct shm_file {
    pl_srv_exec *x;
    int fd;         /* -1 until created */
    pl_writer *w;   /* file 0: x->w */
    uint8_t *buf;   /* SHM_FILE_BUF bytes of staging in front of write(2) */
    size_t len;
    int64_t bytes;   /* written into the file */
    int64_t charged; /* charged to the memory account (not yet a lease's) */
    int64_t pooled;  /* the size of the pooled file written over, else 0 */
    shm_map map;     /* the file mapped writable: [0, map.len) is the file's size */
    int64_t n_batches;
    char path[128]; /* removed by files_free unless a lease took it */
} shm_file;

typedef struct shm_run {
    uint32_t file;
    int64_t first, n;
} shm_run;

/* Charges the file's growth to f->bytes + n bytes (a pooled file comes charged for its size). */
static pl_status shm_file_charge(shm_file *f, int64_t n, pl_error *err) {
    pl_srv_exec *x = f->x;
    int64_t total = f->bytes + n;
    n = total - f->charged;
    if (!x->opts.mem_hook || n <= 0) return PL_OK;
    if (x->opts.mem_hook(x->opts.mem_user, n, 0)) {
        pl_error_set(err, PL_ERR_NOMEM, "the shared memory result (%" PRId64 " bytes in this "
                     "file) would exceed the server's memory limit (--max-memory)",
                     total);
        if (err) snprintf(err->hint, sizeof err->hint, "release earlier results, or ask "
                          "without allow_shared_memory");
        return PL_ERR_NOMEM;
    }
    f->charged += n;
    return PL_OK;
}

#define SHM_MAP_MIN (64 << 10) /* smaller files are not kept mapped */

/* Writes len bytes at src to offset at of f: the part below the file's mapping (a pooled
 * file's) with memcpy, the rest with pwrite(2) (a fresh file is written so: the kernel then
 * allocates each page without zeroing it first, which a fault in a mapping does). */
static pl_status shm_put(shm_file *f, int64_t at, const uint8_t *src, int64_t len, pl_error *err) {
    if (f->map.p && at < f->map.len) {
        int64_t k = PL_MIN(len, f->map.len - at);
        void (*hook)(const char *) = atomic_load_explicit(&g_shm_before_copy, memory_order_relaxed);
        if (hook) hook(f->path);
        memcpy(f->map.p + at, src, (size_t)k);
        if (pl_file_map_lost(f->map.slot)) { /* the file was cut under the mapping */
            pl_error_set(err, PL_ERR_IO, "the shared memory result \"%s\" was truncated by "
                         "another process while the server wrote it", f->path);
            if (err) snprintf(err->hint, sizeof err->hint, "leave the server's /dev/shm/"
                              "polaroid-* files alone; ask again");
            return PL_ERR_IO;
        }
        atomic_fetch_add_explicit(&g_pool_copied, k, memory_order_relaxed);
        at += k;
        src += k;
        len -= k;
    }
    bool trimmed = false;
    while (len > 0) {
        ssize_t k = pwrite(f->fd, src, (size_t)PL_MIN(len, (int64_t)1 << 30), (off_t)at);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno == ENOSPC && !trimmed) { /* /dev/shm full: the pool gives way */
            trimmed = true;
            if (pl_srv_shm_pool_trim(f->x->c->srv, len) > 0) continue;
        }
        if (k <= 0) {
            pl_error_set(err, PL_ERR_IO, "cannot write the shared memory result \"%s\": %s",
                         f->path, k < 0 ? strerror(errno) : "short write");
            if (err) snprintf(err->hint, sizeof err->hint, "is /dev/shm full? ask without "
                              "allow_shared_memory");
            return PL_ERR_IO;
        }
        at += k;
        src += k;
        len -= k;
    }
    return PL_OK;
}

/* Writes the staged bytes, then n bytes at p (none when n is 0). */
static pl_status shm_write_all(shm_file *f, const uint8_t *p, int64_t n, pl_error *err) {
    PL_TRY(shm_file_charge(f, (int64_t)f->len + n, err));
    int64_t total = (int64_t)f->len + n, at = f->bytes;
    if (f->len && !f->map.p && n) { /* both pieces to the kernel in one call */
        struct iovec iov[2] = {{f->buf, f->len}, {(void *)p, (size_t)n}};
        ssize_t k;
        do k = pwritev(f->fd, iov, 2, (off_t)at);
        while (k < 0 && errno == EINTR);
        if (k == (ssize_t)total) {
            f->len = 0;
            f->bytes += total;
            return PL_OK;
        }
        if (k < 0) k = 0; /* what is left goes piece by piece (an error is reported there) */
        if ((size_t)k < f->len) {
            PL_TRY(shm_put(f, at + k, f->buf + k, (int64_t)f->len - k, err));
            PL_TRY(shm_put(f, at + (int64_t)f->len, p, n, err));
        } else {
            PL_TRY(shm_put(f, at + k, p + (k - (ssize_t)f->len), total - k, err));
        }
    } else {
        if (f->len) PL_TRY(shm_put(f, at, f->buf, (int64_t)f->len, err));
        if (n) PL_TRY(shm_put(f, at + (int64_t)f->len, p, n, err));
    }
    f->len = 0;
    f->bytes += total;
    return PL_OK;
}

static pl_status shm_file_flush(shm_file *f, pl_error *err) {
    return f->len ? shm_write_all(f, NULL, 0, err) : PL_OK;
}

/* An IPC writer's sink for file f: small pieces (metadata, padding, small buffers) gather in a
 * SHM_FILE_BUF buffer; a column buffer of SHM_DIRECT_BYTES or more goes to the kernel from
 * where it is, behind what is staged (writev: no copy in user space). */
static pl_status shm_file_sink(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    shm_file *f = ctx;
    if (n >= SHM_DIRECT_BYTES) return shm_write_all(f, bytes, n, err);
    if (f->len + (size_t)n > SHM_FILE_BUF) PL_TRY(shm_file_flush(f, err));
    memcpy(f->buf + f->len, bytes, (size_t)n);
    f->len += (size_t)n;
    return PL_OK;
}

/* Opens a pooled file of this owner for f (its pages are written over); false: none usable. */
static bool shm_file_reuse(pl_srv_exec *x, shm_file *f) {
    shm_pooled *e;
    while ((e = pool_take(x->c->srv, x->c->owner))) {
        int fd = open(e->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        struct stat sb;
        if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == getuid() &&
            sb.st_nlink == 1) {
            f->fd = fd;
            snprintf(f->path, sizeof f->path, "%s", e->path);
            f->pooled = (int64_t)sb.st_size;
            /* the mapping goes with the file once populated; unpopulated, a write through it
             * would fault per page (more than write(2)): the file is written with pwrite */
            if (e->map.p && e->map.ready && e->map.len == f->pooled) {
                f->map = e->map;
                e->map = (shm_map){0};
            }
            if (e->mem_hook == x->opts.mem_hook && e->mem_user == x->opts.mem_user) {
                f->charged = e->size; /* the pool's charge goes with the file */
            } else if (e->mem_hook) {
                (void)e->mem_hook(e->mem_user, -e->size, 0);
            }
            atomic_fetch_add(&g_pool_reused, e->size);
            shm_unmap(&e->map);
            pl_free(e->owner);
            pl_free(e);
            return true;
        }
        if (fd >= 0) close(fd);
        pooled_free(e);
    }
    return false;
}

/* Creates file k of x's result (O_EXCL, mode 0600), or takes a pooled one of the same owner,
 * with its staging buffer and, beyond file 0, its own IPC writer. */
static pl_status shm_file_create(pl_srv_exec *x, int32_t k, pl_error *err) {
    shm_file *f = &x->files[k];
    if (k == 0) snprintf(f->path, sizeof f->path, "/dev/shm/polaroid-%s.arrows", x->shm_id);
    else snprintf(f->path, sizeof f->path, "/dev/shm/polaroid-%s-%d.arrows", x->shm_id, (int)k);
    if (!shm_file_reuse(x, f))
        f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f->fd < 0) {
        pl_status st = pl_error_set(err, PL_ERR_IO, "cannot create the shared memory result "
                                    "\"%s\": %s", f->path, strerror(errno));
        f->path[0] = 0;
        return st;
    }
    if (!(f->buf = pl_malloc(SHM_FILE_BUF)))
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing the shared memory result");
    if (k > 0) {
        pl_schema *schema = x->out_schema ? x->out_schema : x->stream->schema;
        PL_TRY(pl_ipc_writer_open_sink(shm_file_sink, f, false, schema, NULL, &f->w, err));
    }
    return PL_OK;
}

static void files_free(pl_srv_exec *x) {
    for (int32_t k = 0; x->files && k < x->n_files; k++) {
        shm_file *f = &x->files[k];
        if (k > 0 && f->w) f->w->free(f->w);
        pl_free(f->buf);
        shm_unmap(&f->map);
        if (f->fd >= 0) close(f->fd);
        if (f->path[0]) unlink(f->path);
        if (f->charged && x->opts.mem_hook) (void)x->opts.mem_hook(x->opts.mem_user, -f->charged, 0);
    }
    pl_free(x->files);
    x->files = NULL;
    x->n_files = 0;
    pl_free(x->runs);
    x->runs = NULL;
    x->n_runs = x->cap_runs = 0;
}

/* Appends n record batches of file k starting at its batch first, merged with the last run
 * when they continue it. */
static pl_status add_run(pl_srv_exec *x, int32_t k, int64_t first, int64_t n, pl_error *err) {
    if (n <= 0) return PL_OK;
    shm_run *last = x->n_runs ? &x->runs[x->n_runs - 1] : NULL;
    if (last && last->file == (uint32_t)k && last->first + last->n == first) {
        last->n += n;
        return PL_OK;
    }
    if (x->n_runs == x->cap_runs) {
        int32_t cap = x->cap_runs ? 2 * x->cap_runs : 16;
        shm_run *r = pl_realloc(x->runs, sizeof *r * (size_t)cap);
        if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory listing the shared memory result");
        x->runs = r;
        x->cap_runs = cap;
    }
    x->runs[x->n_runs++] = (shm_run){(uint32_t)k, first, n};
    return PL_OK;
}

/* One round: batches[seg_start[i] .. seg_start[i + 1]) is segment i. */
typedef struct shm_round {
    pl_srv_exec *x;
    pl_batch **batches;
    int32_t n_batches, cap_batches;
    int32_t seg_start[SHM_ROUND_MAX_SEGS + 1];
    int32_t seg_file[SHM_ROUND_MAX_SEGS];  /* the file segment i goes to */
    int64_t seg_first[SHM_ROUND_MAX_SEGS]; /* its first record batch in that file */
    double seg_bytes[SHM_ROUND_MAX_SEGS];  /* its estimated size */
    int32_t n_segs;
    pthread_mutex_t mu;
    _Atomic int failed;
    pl_status st; /* the first failure */
    pl_error err;
} shm_round;

static void round_fail(shm_round *r, pl_status st, const pl_error *e) {
    pthread_mutex_lock(&r->mu);
    if (!r->st) {
        r->st = st;
        r->err = *e;
    }
    pthread_mutex_unlock(&r->mu);
    atomic_store(&r->failed, 1);
}

/* Gives each segment of the round to the file with the fewest bytes so far (the lowest index
 * among equals): a result's files end up about the same size whichever worker writes what,
 * file 0's held messages included, and the pool's files fit later results of the same query
 * (a pooled file taken for a smaller stream keeps pages past it or is cut, one taken for a
 * larger stream grows by fresh pages: both kernel work the pool exists to avoid). A round of
 * n segments opens new files only up to n files in use (one segment never starts a second
 * file); files are created in order. Returns the files the round may write to. */
static int32_t round_assign(pl_srv_exec *x, shm_round *r) {
    double load[SHM_MAX_FILES];
    int32_t made = 0;
    while (made < x->n_files && x->files[made].fd >= 0) made++;
    int32_t open_to = PL_MIN(x->n_files, PL_MAX(made, r->n_segs));
    if (open_to < 1) open_to = 1;
    for (int32_t k = 0; k < open_to; k++)
        load[k] = (double)(x->files[k].bytes + (int64_t)x->files[k].len);
    int32_t used = 0;
    for (int32_t i = 0; i < r->n_segs; i++) {
        int32_t best = 0;
        for (int32_t k = 1; k < open_to; k++)
            if (load[k] < load[best]) best = k;
        r->seg_file[i] = best;
        load[best] += r->seg_bytes[i] > 0 ? r->seg_bytes[i] : 1;
        used = PL_MAX(used, best + 1);
    }
    return used;
}

/* Task k writes the round's segments assigned to file k, in order. */
static void round_task(void *arg, int64_t k, int32_t worker) {
    PL_UNUSED(worker);
    shm_round *r = arg;
    pl_srv_exec *x = r->x;
    if (atomic_load(&r->failed)) return;
    pl_error e;
    pl_error_init(&e);
    shm_file *f = &x->files[k];
    pl_status st = PL_OK;
    for (int32_t i = 0; !st && i < r->n_segs; i++) {
        if (r->seg_file[i] != (int32_t)k) continue;
        if (f->fd < 0) st = shm_file_create(x, (int32_t)k, &e);
        r->seg_first[i] = f->n_batches;
        for (int32_t j = r->seg_start[i]; !st && j < r->seg_start[i + 1]; j++) {
            if (atomic_load(&r->failed)) break;
            if (stop_requested(x)) {
                st = stopped(x, PL_ERR_CANCELLED, &e);
                break;
            }
            st = f->w->write(f->w, r->batches[j], &e);
            if (!st) f->n_batches++;
        }
    }
    if (st) round_fail(r, st, &e);
}

static int64_t batch_bytes(const pl_batch *b, int64_t off, int64_t len) {
    int64_t n = EXEC_META_FIXED;
    for (int32_t k = 0; k < b->n_cols; k++) {
        const pl_array *a = b->columns[k];
        n += EXEC_META_PER_COL + est_array(a, a->offset + off, len, 0);
    }
    return n;
}

static pl_status round_add(shm_round *r, pl_batch *b, pl_error *err) {
    if (r->n_batches == r->cap_batches) {
        int32_t cap = r->cap_batches ? 2 * r->cap_batches : 64;
        pl_batch **p = pl_realloc(r->batches, sizeof *p * (size_t)cap);
        if (!p) {
            pl_batch_release(b);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing the shared memory result");
        }
        r->batches = p;
        r->cap_batches = cap;
    }
    r->batches[r->n_batches++] = b;
    return PL_OK;
}

static void round_clear(shm_round *r) {
    for (int32_t j = 0; j < r->n_batches; j++) pl_batch_release(r->batches[j]);
    r->n_batches = 0;
    r->n_segs = 0;
}

/* Pulls the next round (rows [cur_off, ..) of x->cur first, if any) into r: segments of about
 * SHM_SEG_BYTES, batches above that sliced, up to n_files * SHM_ROUND_SEGS segments (the rest
 * of a batch that does not fit waits in x->cur). */
static pl_status round_fill(pl_srv_exec *x, shm_round *r, pl_error *err) {
    round_clear(r);
    int32_t max_segs = PL_MIN(x->n_files * SHM_ROUND_SEGS, SHM_ROUND_MAX_SEGS);
    int64_t seg_max = atomic_load(&g_shm_seg_bytes) > 0 ? atomic_load(&g_shm_seg_bytes)
                                                        : SHM_SEG_BYTES;
    double seg_bytes = 0;
    r->seg_start[0] = 0;
    while (r->n_segs < max_segs) {
        pl_batch *b = NULL;
        int64_t off = 0;
        if (x->cur) {
            b = x->cur;
            off = x->cur_off;
            x->cur = NULL;
        } else {
            PL_TRY(next_batch(x, &b, err));
            if (!b) break;
        }
        int64_t rows = b->n_rows - off;
        double per_row = (double)batch_bytes(b, off, rows) / (double)(rows > 0 ? rows : 1);
        int64_t per = per_row > 0 ? (int64_t)((double)seg_max / per_row) : rows;
        if (per < 1) per = 1;
        pl_status st = PL_OK;
        int64_t p = off;
        while (!st && p < b->n_rows) {
            int64_t len = PL_MIN(per, b->n_rows - p);
            pl_batch *piece = NULL;
            if (p == 0 && len == b->n_rows) piece = pl_batch_retain(b);
            else st = pl_batch_slice(b, p, len, &piece, err);
            if (!st) st = round_add(r, piece, err);
            if (st) break;
            p += len;
            seg_bytes += per_row * (double)len;
            if (seg_bytes >= (double)seg_max) { /* the segment is complete */
                r->seg_bytes[r->n_segs] = seg_bytes;
                r->seg_start[++r->n_segs] = r->n_batches;
                seg_bytes = 0;
                if (r->n_segs == max_segs) break;
            }
        }
        if (!st && p < b->n_rows) { /* the round is full: the rest starts the next one */
            x->cur = b;
            x->cur_off = p;
            break;
        }
        pl_batch_release(b);
        PL_TRY(st);
    }
    if (r->seg_start[r->n_segs] < r->n_batches) {
        r->seg_bytes[r->n_segs] = seg_bytes;
        r->seg_start[++r->n_segs] = r->n_batches;
    }
    return PL_OK;
}

/* Packs ExecuteResponse{shared_memory} for the n created files. */
static pl_status shm_message(pl_srv_exec *x, int32_t n, pl_srv_msg *out, pl_error *err) {
    Polaroid__V1__SharedMemoryResult r = POLAROID__V1__SHARED_MEMORY_RESULT__INIT;
    Polaroid__V1__ExecuteResponse resp = POLAROID__V1__EXECUTE_RESPONSE__INIT;
    Polaroid__V1__SharedMemoryFile fs[SHM_MAX_FILES], *fp[SHM_MAX_FILES];
    uint32_t *rf = NULL;
    int64_t *rfirst = NULL, *rn = NULL;
    r.lease_id = x->shm_id;
    if (n == 1) {
        r.path = x->files[0].path;
        r.size = x->files[0].bytes;
    }
    if (x->shm_max_files > 1) {
        for (int32_t k = 0; k < n; k++) {
            polaroid__v1__shared_memory_file__init(&fs[k]);
            fs[k].path = x->files[k].path;
            fs[k].size = x->files[k].bytes;
            fp[k] = &fs[k];
        }
        r.n_files = (size_t)n;
        r.files = fp;
        size_t m = (size_t)(x->n_runs > 0 ? x->n_runs : 1);
        rf = pl_malloc(sizeof *rf * m);
        rfirst = pl_malloc(sizeof *rfirst * m);
        rn = pl_malloc(sizeof *rn * m);
        if (!rf || !rfirst || !rn) {
            pl_free(rf);
            pl_free(rfirst);
            pl_free(rn);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory packing the result");
        }
        for (int32_t i = 0; i < x->n_runs; i++) {
            rf[i] = x->runs[i].file;
            rfirst[i] = x->runs[i].first;
            rn[i] = x->runs[i].n;
        }
        r.n_run_file = r.n_run_first = r.n_run_batches = (size_t)x->n_runs;
        r.run_file = rf;
        r.run_first = rfirst;
        r.run_batches = rn;
    }
    resp.payload_case = POLAROID__V1__EXECUTE_RESPONSE__PAYLOAD_SHARED_MEMORY;
    resp.shared_memory = &r;
    size_t len = polaroid__v1__execute_response__get_packed_size(&resp), cap;
    uint8_t *p = msgbuf_get(len ? len : 1, &cap);
    if (p) polaroid__v1__execute_response__pack(&resp, p);
    pl_free(rf);
    pl_free(rfirst);
    pl_free(rn);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory packing the result");
    out->base = p;
    out->data = p;
    out->len = len;
    return PL_OK;
}

/* Writes the held messages and the rest of the result into the files. */
static pl_status write_files(pl_srv_exec *x, pl_error *err) {
    PL_TRY(shm_file_create(x, 0, err));
    x->sink_file = true; /* x->w writes into file 0 from now on */
    pl_status st = PL_OK;
    for (int32_t i = 0; !st && i < x->n_held; i++) { /* the IPC bytes of each held message */
        const pl_srv_msg *m = &x->held[i];
        const uint8_t *ipc = (const uint8_t *)m->base + EXEC_HDR;
        st = shm_file_sink(&x->files[0], ipc, (int64_t)(m->len - (size_t)(ipc - m->data)), err);
    }
    held_free(x);
    PL_TRY(st);
    x->files[0].w = x->w;
    x->files[0].n_batches = x->batches;
    PL_TRY(add_run(x, 0, 0, x->batches, err));

    shm_round *r = pl_calloc(1, sizeof *r);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing the shared memory result");
    r->x = x;
    pthread_mutex_init(&r->mu, NULL);
    while (!st) {
        st = round_fill(x, r, err);
        if (st || r->n_segs == 0) break;
        atomic_store(&r->failed, 0);
        int32_t n_tasks = round_assign(x, r);
        pl_parallel_for(n_tasks, n_tasks, round_task, r);
        if (r->st) {
            st = r->st;
            if (err) *err = r->err;
            break;
        }
        for (int32_t i = 0; !st && i < r->n_segs; i++) {
            int64_t n = r->seg_start[i + 1] - r->seg_start[i];
            st = add_run(x, r->seg_file[i], r->seg_first[i], n, err);
            x->batches += n;
            for (int32_t j = r->seg_start[i]; j < r->seg_start[i + 1]; j++)
                x->rows += r->batches[j]->n_rows;
        }
    }
    round_clear(r);
    pl_free(r->batches);
    pthread_mutex_destroy(&r->mu);
    pl_free(r);
    PL_TRY(st);
    for (int32_t k = 0; k < x->n_files; k++) { /* end-of-stream markers, the last bytes */
        shm_file *f = &x->files[k];
        if (f->fd < 0) continue;
        if (k > 0 || !x->w_finished) PL_TRY(f->w->finish(f->w, err));
        if (k == 0) x->w_finished = true;
        PL_TRY(shm_file_flush(f, err));
        /* a larger pooled file keeps its pages past the stream (read up to size), unless its
         * charge did not come with it, or it is much larger than the stream (the client would
         * hold its pages, uncharged, for as long as it keeps this result): then it is cut to
         * the stream */
        bool cut = f->pooled > 2 * f->bytes + SHM_SEG_BYTES;
        if (cut && x->opts.mem_hook && f->charged > f->bytes) {
            (void)x->opts.mem_hook(x->opts.mem_user, -(f->charged - f->bytes), 0);
            f->charged = f->bytes;
        }
        if (f->pooled > f->bytes && (cut || (x->opts.mem_hook && f->charged < f->pooled))) {
            if (ftruncate(f->fd, f->bytes) != 0)
                PL_FAIL(err, PL_ERR_IO, "cannot truncate the shared memory result \"%s\": %s",
                        f->path, strerror(errno));
            f->pooled = 0;
        }
        int64_t size = PL_MAX(f->bytes, f->pooled);
        /* the file keeps a writable mapping of its size in the server, for the results written
         * over it later: memcpy into it costs no write(2) work per page (page-cache lookup,
         * folio lock, the LRU activation of the second write: ~1 CPU-s per 7.9 GB). Its page
         * table is filled once the file is pooled (pool_populate, housekeeping), not here: a
         * result that is never reused would pay for it for nothing. */
        if (f->map.p && f->map.len != size) {
            shm_map_resize(&f->map, size);
        } else if (!f->map.p && size >= SHM_MAP_MIN && pool_cap(x->c->srv) > 0) {
            /* (no pool, no reuse: nothing to map for) */
            (void)shm_map_make(&f->map, f->fd, size);
        }
        int fd = f->fd;
        f->fd = -1;
        if (close(fd) != 0)
            PL_FAIL(err, PL_ERR_IO, "cannot close the shared memory result \"%s\": %s", f->path,
                    strerror(errno));
    }
    return PL_OK;
}

/* The held messages and the rest of the result into new /dev/shm files; *out = the
 * SharedMemoryResult, and the files become a lease. */
static pl_status to_file(pl_srv_exec *x, pl_srv_msg *out, pl_error *err) {
    uint64_t seq = atomic_fetch_add(&g_shm_seq, 1) + 1;
    snprintf(x->shm_id, sizeof x->shm_id, "%d-%" PRIu64 "-%08x", (int)getpid(), seq,
             (unsigned)((uint64_t)pl_now_ns() * 2654435761u));
    int32_t k = PL_MIN(x->shm_max_files, SHM_MAX_FILES);
    k = PL_MIN(k, pl_pool_threads());
    if (k < 1) k = 1;
    x->files = pl_calloc((size_t)k, sizeof *x->files);
    if (!x->files) PL_FAIL(err, PL_ERR_NOMEM, "out of memory writing the shared memory result");
    x->n_files = k;
    for (int32_t i = 0; i < k; i++) {
        x->files[i].x = x;
        x->files[i].fd = -1;
    }
    PL_TRY(write_files(x, err)); /* pl_srv_execute_free removes the files, gives back the charge */
    int32_t n = 0; /* files are created in order: the ones made are 0 .. n-1 */
    while (n < x->n_files && x->files[n].path[0]) n++;
    shm_lease *l = pl_calloc(1, sizeof *l);
    pl_status st = l ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (!st && !(l->owner = pl_strdup(x->c->owner ? x->c->owner : "")))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (!st && !(l->paths = pl_calloc((size_t)n, sizeof *l->paths)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (!st && n > 0 && !(l->maps = pl_calloc((size_t)n, sizeof *l->maps)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (!st) st = shm_message(x, n, out, err);
    if (st) {
        if (l) {
            pl_free(l->owner);
            pl_free(l->paths);
            pl_free(l->maps);
        }
        pl_free(l);
        return st;
    }
    l->srv = x->c->srv;
    l->pidfd = -1;
    l->charged = true;
    snprintf(l->id, sizeof l->id, "%s", x->shm_id);
    l->n_paths = n;
    x->file_bytes = 0;
    for (int32_t i = 0; i < n; i++) {
        shm_file *f = &x->files[i];
        snprintf(l->paths[i], sizeof l->paths[i], "%s", f->path);
        l->maps[i] = f->map; /* the mapping goes with the file */
        f->map = (shm_map){0};
        l->size += PL_MAX(f->bytes, f->pooled); /* the file's size */
        x->file_bytes += f->bytes;
    }
    const pl_srv_config *cfg = pl_srv_get_config(x->c->srv);
    l->expires_ns = pl_now_ns() + (cfg->handle_ttl_s > 0 ? cfg->handle_ttl_s : 300) * 1000000000LL;
    l->mem_hook = x->opts.mem_hook;
    l->mem_user = x->opts.mem_user;
    int64_t charged = 0;
    for (int32_t i = 0; i < x->n_files; i++) {
        charged += x->files[i].charged;
        x->files[i].charged = 0; /* the lease carries the charge now */
        x->files[i].path[0] = 0; /* and owns the files */
    }
    PL_ASSERT(charged == l->size || !l->mem_hook);
    snprintf(x->lease_id, sizeof x->lease_id, "%s", x->shm_id);
    pthread_mutex_lock(&g_shm_mu);
    l->next = g_leases;
    g_leases = l;
    pthread_mutex_unlock(&g_shm_mu);
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
        if (x->lease_id[0] && x->state == EXEC_SUMMARY) /* the SharedMemoryResult is lost */
            (void)pl_srv_shm_detach(x->c->srv, x->lease_id, true);
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
