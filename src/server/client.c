/* client.c - the C client of include/polaroid/client.h over the gRPC C core.
 *
 * One channel per client; each call makes its own pluck completion queue, so calls from several
 * threads do not interfere. Execute: one batch sends the metadata (bearer token), the request
 * and the half-close; a second waits for the status; messages are received one at a time. Each
 * ExecuteResponse is read field by field without protobuf-c for the hot case (field 1,
 * arrow_ipc: its bytes are appended to a pending buffer); the summary is unpacked with
 * protobuf-c. The concatenated arrow_ipc bytes are an Arrow IPC stream: it is cut into whole
 * encapsulated messages (continuation, metadata length, the Message flatbuffer's bodyLength);
 * the schema message and dictionary messages are kept as a prefix, and each record batch
 * message is decoded on its own behind that prefix with pl_ipc_scan_buffer, as the caller
 * pulls batches. Responses are untrusted input: every length is checked against the bytes
 * present and the IPC limits. */
#include "polaroid/client.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/status.h>
#include <grpc/support/time.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "io/ipc/flatbuf.h"
#include "io/ipc/ipc.h"
#include "io/ipc/ipc_int.h"
#include "polaroid/v1/polaroid.pb-c.h"

#define EXECUTE_PATH "/polaroid.v1.Polaroid/Execute"
#define ERROR_TRAILER "polaroid-error-bin"
/* largest response message the client accepts (the server's limit is at most 2 GiB; its
 * default Execute message is 1 MiB) */
#define CLIENT_MAX_RECEIVE (512 << 20)

struct pl_client {
    grpc_channel *ch;
    char *auth; /* "Bearer <token>", or NULL */
    char *target;
    int64_t timeout_ms, max_message_bytes, memory_limit_bytes;
    const int *cancel;
};

static _Thread_local pl_client_summary last_summary;

void pl_client_opts_init(pl_client_opts *o) { memset(o, 0, sizeof *o); }

void pl_client_last_summary(pl_client_summary *out) { *out = last_summary; }

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *p = pl_malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

/* protobuf-c allocations through the engine's allocator */
static void *pb_alloc(void *data, size_t size) {
    PL_UNUSED(data);
    return pl_malloc(size ? size : 1);
}
static void pb_free(void *data, void *p) {
    PL_UNUSED(data);
    pl_free(p);
}
static ProtobufCAllocator g_alloc = {pb_alloc, pb_free, NULL};

pl_status pl_client_connect_opts(const char *target, const pl_client_opts *o, pl_client **out,
                                 pl_error *err) {
    if (!target || !*target) PL_FAIL(err, PL_ERR_INVALID_ARG, "no server address given");
    pl_client_opts defaults;
    pl_client_opts_init(&defaults);
    if (!o) o = &defaults;
    char *pem = NULL;
    if (o->tls_ca_file) {
        pl_buf *b = NULL;
        pl_status st = pl_file_read_all(o->tls_ca_file, &b, err);
        if (st) {
            pl_error_set_path(err, o->tls_ca_file);
            return st == PL_ERR_NOT_FOUND ? st : PL_ERR_IO;
        }
        pem = pl_malloc((size_t)b->size + 1);
        if (pem) {
            memcpy(pem, b->data, (size_t)b->size);
            pem[b->size] = 0;
        }
        pl_buf_release(b);
        if (!pem) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading TLS roots");
    }
    pl_client *c = pl_calloc(1, sizeof *c);
    if (!c) {
        pl_free(pem);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a client");
    }
    c->target = dup_str(target);
    if (o->token && *o->token) {
        size_t n = strlen(o->token) + 8;
        c->auth = pl_malloc(n);
        if (c->auth) snprintf(c->auth, n, "Bearer %s", o->token);
    }
    if (!c->target || (o->token && *o->token && !c->auth)) {
        pl_free(c->target);
        pl_free(c->auth);
        pl_free(c);
        pl_free(pem);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a client");
    }
    c->timeout_ms = o->timeout_ms;
    c->max_message_bytes = o->max_message_bytes;
    c->memory_limit_bytes = o->memory_limit_bytes;
    c->cancel = o->cancel;
    grpc_init();
    grpc_arg args[2];
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = CLIENT_MAX_RECEIVE;
    args[1].type = GRPC_ARG_STRING;
    args[1].key = (char *)GRPC_ARG_PRIMARY_USER_AGENT_STRING;
    args[1].value.string = (char *)"polaroid-c";
    grpc_channel_args ca = {2, args};
    grpc_channel_credentials *creds =
        pem ? grpc_ssl_credentials_create(pem, NULL, NULL, NULL) : grpc_insecure_credentials_create();
    c->ch = grpc_channel_create(target, creds, &ca);
    grpc_channel_credentials_release(creds);
    pl_free(pem);
    *out = c;
    return PL_OK;
}

pl_status pl_client_connect(const char *target, const char *token, pl_client **out,
                            pl_error *err) {
    pl_client_opts o;
    pl_client_opts_init(&o);
    o.token = token;
    return pl_client_connect_opts(target, &o, out, err);
}

void pl_client_close(pl_client *c) {
    if (!c) return;
    if (c->ch) grpc_channel_destroy(c->ch);
    pl_free(c->auth);
    pl_free(c->target);
    pl_free(c);
    grpc_shutdown();
}

/* ---------------------------------------------------------------- errors */

static pl_status status_from_grpc(int code) {
    switch (code) {
    case GRPC_STATUS_NOT_FOUND: return PL_ERR_NOT_FOUND;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_OUT_OF_RANGE: return PL_ERR_INVALID_ARG;
    case GRPC_STATUS_PERMISSION_DENIED:
    case GRPC_STATUS_UNAUTHENTICATED: return PL_ERR_PERMISSION;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_CANCELLED: return PL_ERR_CANCELLED;
    case GRPC_STATUS_RESOURCE_EXHAUSTED: return PL_ERR_LIMIT;
    case GRPC_STATUS_DATA_LOSS: return PL_ERR_CORRUPT;
    case GRPC_STATUS_UNAVAILABLE: return PL_ERR_IO;
    case GRPC_STATUS_UNIMPLEMENTED: return PL_ERR_UNSUPPORTED;
    default: return PL_ERR_INTERNAL;
    }
}

/* The engine status named by ErrorDetail.status ("not found", ...), or fallback. */
static pl_status status_from_name(const char *name, pl_status fallback) {
    for (int st = PL_ERR_INVALID_ARG; st <= PL_ERR_PERMISSION; st++)
        if (name && strcmp(name, pl_status_name((pl_status)st)) == 0) return (pl_status)st;
    return fallback;
}

static void copy_field(char *dst, size_t cap, const char *src) {
    if (src && *src) snprintf(dst, cap, "%s", src);
}

/* Fills err from a non-OK status: the ErrorDetail trailer when present, else the status. */
static pl_status call_error(const pl_client *c, grpc_status_code code, grpc_slice details,
                            const grpc_metadata_array *trailers, pl_error *err) {
    pl_status fallback = status_from_grpc(code);
    for (size_t i = 0; i < trailers->count; i++) {
        if (grpc_slice_str_cmp(trailers->metadata[i].key, ERROR_TRAILER) != 0) continue;
        grpc_slice v = trailers->metadata[i].value;
        Polaroid__V1__ErrorDetail *d = polaroid__v1__error_detail__unpack(
            &g_alloc, GRPC_SLICE_LENGTH(v), GRPC_SLICE_START_PTR(v));
        if (!d) break; /* malformed: use the status */
        pl_status st = status_from_name(d->status, fallback);
        const char *msg = d->message && *d->message ? d->message : "server error";
        if (d->plan_path && *d->plan_path) /* the status message's form: "root.filter: ..." */
            pl_error_set(err, st, "%s: %s", d->plan_path, msg);
        else
            pl_error_set(err, st, "%s", msg);
        if (err) {
            copy_field(err->hint, sizeof err->hint, d->hint);
            copy_field(err->column_name, sizeof err->column_name, d->column);
            pl_error_set_path(err, d->path && *d->path ? d->path : NULL);
            err->column = d->column_index;
            err->row_group = d->row_group;
            err->row = d->row;
            err->byte_offset = d->byte_offset;
            err->sql_pos = d->sql_position;
            if (d->sql_line > 0) err->sql_line = d->sql_line;
            if (d->sql_column > 0) err->sql_column = d->sql_column;
        }
        polaroid__v1__error_detail__free_unpacked(d, &g_alloc);
        return st;
    }
    size_t n = GRPC_SLICE_LENGTH(details);
    const char *msg = (const char *)GRPC_SLICE_START_PTR(details);
    if (code == GRPC_STATUS_UNAVAILABLE)
        pl_error_set(err, fallback, "cannot reach the server at \"%s\": %.*s", c->target,
                     (int)PL_MIN(n, 400), msg);
    else if (n)
        pl_error_set(err, fallback, "%.*s", (int)PL_MIN(n, 500), msg);
    else
        pl_error_set(err, fallback, "server call failed with gRPC status %d", (int)code);
    return fallback;
}

/* ---------------------------------------------------------------- responses */

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* One ExecuteResponse: arrow_ipc bytes appended to ipc, the summary kept, anything else
 * refused (shared memory was not asked for). */
static pl_status take_response(const uint8_t *p, size_t n, pl_buf *ipc, bool *summary_seen,
                               pl_error *err) {
    const uint8_t *end = p + n;
    while (p < end) {
        uint64_t key, len;
        if (!read_varint(&p, end, &key))
            PL_FAIL(err, PL_ERR_CORRUPT, "malformed response from the server (field key)");
        uint32_t field = (uint32_t)(key >> 3), wire = (uint32_t)(key & 7);
        if (wire == 0) { /* varint: unknown field, skip */
            if (!read_varint(&p, end, &len))
                PL_FAIL(err, PL_ERR_CORRUPT, "malformed response from the server (varint)");
            continue;
        }
        if (wire == 1 || wire == 5) {
            size_t w = wire == 1 ? 8 : 4;
            if (w > (size_t)(end - p))
                PL_FAIL(err, PL_ERR_CORRUPT, "malformed response from the server (fixed field)");
            p += w;
            continue;
        }
        if (wire != 2)
            PL_FAIL(err, PL_ERR_CORRUPT, "malformed response from the server (wire type %u)",
                    wire);
        if (!read_varint(&p, end, &len) || len > (uint64_t)(end - p))
            PL_FAIL(err, PL_ERR_CORRUPT, "malformed response from the server (length)");
        if (field == 1) {
            PL_TRY(pl_buf_append(ipc, p, (int64_t)len, err));
        } else if (field == 3) {
            Polaroid__V1__ExecuteSummary *s =
                polaroid__v1__execute_summary__unpack(&g_alloc, (size_t)len, p);
            if (!s) PL_FAIL(err, PL_ERR_CORRUPT, "malformed summary from the server");
            last_summary.rows = s->rows;
            last_summary.batches = s->batches;
            last_summary.bytes = s->bytes;
            last_summary.elapsed_us = s->elapsed_us;
            snprintf(last_summary.request_id, sizeof last_summary.request_id, "%s",
                     s->request_id ? s->request_id : "");
            polaroid__v1__execute_summary__free_unpacked(s, &g_alloc);
            *summary_seen = true;
        } else if (field == 2) {
            PL_FAIL(err, PL_ERR_UNSUPPORTED,
                    "the server answered with a shared-memory result, which was not asked for");
        }
        p += len;
    }
    return PL_OK;
}

static void *tag(intptr_t t) { return (void *)t; }

#define CANCEL_POLL_MS 50

static void pluck(grpc_completion_queue *cq, intptr_t t) {
    grpc_completion_queue_pluck(cq, tag(t), gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
}

/* Waits for tag t; with a cancel flag, polls it and cancels the call once it is set (the
 * operation then completes at once). */
static void pluck_cancellable(const pl_client *c, grpc_call *call, grpc_completion_queue *cq,
                              intptr_t t, bool *cancelled) {
    if (!c->cancel) {
        pluck(cq, t);
        return;
    }
    for (;;) {
        gpr_timespec dl = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                       gpr_time_from_millis(CANCEL_POLL_MS, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_pluck(cq, tag(t), dl, NULL);
        if (ev.type == GRPC_OP_COMPLETE) return;
        if (!*cancelled && __atomic_load_n(c->cancel, __ATOMIC_RELAXED)) {
            *cancelled = true;
            grpc_call_cancel(call, NULL);
        }
    }
}

/* ---------------------------------------------------------------- a call in progress */

typedef struct xcall {
    pl_client *c;
    grpc_completion_queue *cq;
    grpc_call *call;
    grpc_byte_buffer *send_bb;
    grpc_metadata md;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code code;
    grpc_slice details;
    bool ended;     /* the response stream ended and the status is in */
    bool cancelled; /* the cancel flag stopped the call */
    bool summary_seen;
    pl_buf *pending;     /* IPC bytes received and not yet taken as whole messages */
    int64_t pending_off; /* first byte not yet taken */
    pl_buf *prefix;      /* the schema message and every dictionary message so far */
} xcall;

static void xcall_free(xcall *x) {
    if (!x) return;
    if (x->call) {
        if (!x->ended) {
            /* the reader stopped early: cancel, then collect the outstanding operations */
            grpc_call_cancel(x->call, NULL);
            pluck(x->cq, 1);
            pluck(x->cq, 2);
        }
        grpc_call_unref(x->call);
    }
    if (x->send_bb) grpc_byte_buffer_destroy(x->send_bb);
    grpc_metadata_array_destroy(&x->initial_md);
    grpc_metadata_array_destroy(&x->trailing_md);
    grpc_slice_unref(x->details);
    if (x->cq) {
        grpc_completion_queue_shutdown(x->cq);
        grpc_completion_queue_destroy(x->cq);
    }
    pl_buf_release(x->pending);
    pl_buf_release(x->prefix);
    pl_free(x);
}

/* Starts Execute with a packed ExecuteRequest. */
static pl_status xcall_start(pl_client *c, const uint8_t *req, size_t req_len, xcall **out,
                             pl_error *err) {
    xcall *x = pl_calloc(1, sizeof *x);
    if (!x) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a call");
    x->c = c;
    x->code = GRPC_STATUS_UNKNOWN;
    x->details = grpc_empty_slice();
    grpc_metadata_array_init(&x->initial_md);
    grpc_metadata_array_init(&x->trailing_md);
    pl_status st = pl_buf_new(1 << 16, &x->pending, err);
    if (!st) st = pl_buf_new(1 << 12, &x->prefix, err);
    if (st) {
        xcall_free(x);
        return st;
    }
    memset(&last_summary, 0, sizeof last_summary);
    x->cq = grpc_completion_queue_create_for_pluck(NULL);
    gpr_timespec deadline = gpr_inf_future(GPR_CLOCK_REALTIME);
    if (c->timeout_ms > 0)
        deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                gpr_time_from_millis(c->timeout_ms, GPR_TIMESPAN));
    x->call = grpc_channel_create_call(c->ch, NULL, GRPC_PROPAGATE_DEFAULTS, x->cq,
                                       grpc_slice_from_static_string(EXECUTE_PATH), NULL,
                                       deadline, NULL);
    size_t n_md = 0;
    if (c->auth) {
        x->md.key = grpc_slice_from_static_string("authorization");
        x->md.value = grpc_slice_from_static_string(c->auth);
        n_md = 1;
    }
    grpc_slice req_slice = grpc_slice_from_copied_buffer((const char *)req, req_len);
    x->send_bb = grpc_raw_byte_buffer_create(&req_slice, 1);
    grpc_slice_unref(req_slice);

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = n_md;
    ops[0].data.send_initial_metadata.metadata = n_md ? &x->md : NULL;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = x->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &x->initial_md;
    grpc_call_error ce = grpc_call_start_batch(x->call, ops, 4, tag(1), NULL);
    if (ce != GRPC_CALL_OK) {
        x->ended = true; /* nothing outstanding */
        xcall_free(x);
        PL_FAIL(err, PL_ERR_INTERNAL, "cannot start a call (gRPC error %d)", (int)ce);
    }
    grpc_op status_op;
    memset(&status_op, 0, sizeof status_op);
    status_op.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    status_op.data.recv_status_on_client.trailing_metadata = &x->trailing_md;
    status_op.data.recv_status_on_client.status = &x->code;
    status_op.data.recv_status_on_client.status_details = &x->details;
    ce = grpc_call_start_batch(x->call, &status_op, 1, tag(2), NULL);
    if (ce != GRPC_CALL_OK) {
        grpc_call_cancel(x->call, NULL);
        pluck(x->cq, 1);
        x->ended = true;
        xcall_free(x);
        PL_FAIL(err, PL_ERR_INTERNAL, "cannot start a call (gRPC error %d)", (int)ce);
    }
    *out = x;
    return PL_OK;
}

/* The stream ended (or broke): collects the status. Returns the call's error, or OK. */
static pl_status xcall_end(xcall *x, pl_error *err) {
    if (!x->ended) {
        pluck(x->cq, 1);
        pluck(x->cq, 2);
        x->ended = true;
    }
    if (x->cancelled) PL_FAIL(err, PL_ERR_CANCELLED, "query cancelled");
    if (x->code != GRPC_STATUS_OK) {
        pl_error local;
        pl_error_init(&local);
        pl_status st = call_error(x->c, x->code, x->details, &x->trailing_md, &local);
        if (err) *err = local;
        return st;
    }
    if (!x->summary_seen)
        PL_FAIL(err, PL_ERR_CORRUPT, "the server ended the result early (no summary message)");
    return PL_OK;
}

/* Receives one response message into x->pending; *got = false at the end of the stream (then
 * the call's status decides: an error is returned). */
static pl_status xcall_recv(xcall *x, bool *got, pl_error *err) {
    *got = false;
    if (x->ended) return xcall_end(x, err);
    grpc_byte_buffer *bb = NULL;
    grpc_op rop;
    memset(&rop, 0, sizeof rop);
    rop.op = GRPC_OP_RECV_MESSAGE;
    rop.data.recv_message.recv_message = &bb;
    if (grpc_call_start_batch(x->call, &rop, 1, tag(3), NULL) != GRPC_CALL_OK)
        return xcall_end(x, err);
    pluck_cancellable(x->c, x->call, x->cq, 3, &x->cancelled);
    if (!bb) return xcall_end(x, err); /* end of the stream, or the call failed */
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, bb)) {
        grpc_byte_buffer_destroy(bb);
        grpc_call_cancel(x->call, NULL);
        (void)xcall_end(x, NULL);
        PL_FAIL(err, PL_ERR_CORRUPT, "cannot read a response message");
    }
    grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    grpc_byte_buffer_destroy(bb);
    /* drop what was taken before appending */
    if (x->pending_off > 0) {
        int64_t rest = x->pending->size - x->pending_off;
        if (rest > 0) memmove(x->pending->data, x->pending->data + x->pending_off, (size_t)rest);
        x->pending->size = rest;
        x->pending_off = 0;
    }
    pl_status st = take_response(GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl), x->pending,
                                 &x->summary_seen, err);
    grpc_slice_unref(sl);
    if (st) {
        grpc_call_cancel(x->call, NULL);
        pl_error server;
        pl_error_init(&server);
        pl_status st2 = xcall_end(x, &server);
        /* the server's error wins over a local one caused by the broken stream */
        if (st2 && !x->cancelled && x->code != GRPC_STATUS_OK && x->code != GRPC_STATUS_CANCELLED) {
            if (err) *err = server;
            return st2;
        }
        return st;
    }
    *got = true;
    return PL_OK;
}

enum { MSG_SCHEMA = 1, MSG_DICTIONARY = 2, MSG_RECORD_BATCH = 3 };

/* Looks at the IPC bytes d[0, avail): *len = the size of the whole encapsulated message there
 * (0 when more bytes are needed), *type its header type; an end-of-stream marker is *type = -1
 * with its size. */
static pl_status split_message(const uint8_t *d, int64_t avail, int *type, int64_t *len,
                               pl_error *err) {
    *len = 0;
    if (avail < 8) return PL_OK;
    uint32_t w = pl_load_u32le(d);
    int64_t hdr = w == PL_IPC_CONTINUATION ? 8 : 4;
    int32_t meta_len = (int32_t)(w == PL_IPC_CONTINUATION ? pl_load_u32le(d + 4) : w);
    if (meta_len == 0) { /* end-of-stream marker */
        *type = -1;
        *len = hdr;
        return PL_OK;
    }
    if (meta_len < 0 || meta_len > PL_IPC_MAX_METADATA_BYTES)
        PL_FAIL(err, PL_ERR_CORRUPT, "bad IPC message from the server (metadata size %d)",
                meta_len);
    int64_t need = hdr + meta_len;
    if (avail < need) return PL_OK;
    pl_fb_reader r;
    pl_fb_table msg;
    if (!pl_fb_reader_init(&r, d + hdr, (size_t)meta_len, &msg))
        PL_FAIL(err, PL_ERR_CORRUPT, "malformed IPC message from the server: %s", r.why);
    int t = pl_fb_u8(&msg, 1, 0);
    int64_t body = pl_fb_i64(&msg, 3, 0);
    if (r.bad || body < 0 || body > PL_IPC_MAX_BODY_BYTES)
        PL_FAIL(err, PL_ERR_CORRUPT, "malformed IPC message from the server");
    need += body;
    if (avail < need) return PL_OK;
    *type = t;
    *len = need;
    return PL_OK;
}

/* The next whole encapsulated IPC message: [*start, *start + *len) of x->pending, its header
 * type in *type; *type = 0 at the end. Receives more as needed. */
static pl_status next_message(xcall *x, int *type, int64_t *start, int64_t *len, pl_error *err) {
    for (;;) {
        int64_t n = 0;
        int t = 0;
        PL_TRY(split_message(x->pending->data + x->pending_off,
                             x->pending->size - x->pending_off, &t, &n, err));
        if (n > 0) {
            *start = x->pending_off;
            x->pending_off += n;
            if (t == -1) continue; /* end-of-stream marker */
            *type = t;
            *len = n;
            return PL_OK;
        }
        bool got = false;
        PL_TRY(xcall_recv(x, &got, err));
        if (!got) {
            if (x->pending->size - x->pending_off > 0)
                PL_FAIL(err, PL_ERR_CORRUPT, "the server's result ends inside an IPC message");
            *type = 0;
            return PL_OK;
        }
    }
}

/* The record batch of [prefix + the message msg[0, len)]. */
static pl_status decode_batch(const pl_buf *prefix, const uint8_t *msg, int64_t len,
                              pl_batch **out, pl_error *err) {
    pl_buf *b = NULL;
    PL_TRY(pl_buf_new(prefix->size + len, &b, err));
    pl_status st = pl_buf_append(b, prefix->data, prefix->size, err);
    if (!st) st = pl_buf_append(b, msg, len, err);
    pl_stream *s = NULL;
    if (!st) {
        pl_read_opts ro;
        pl_read_opts_init(&ro);
        st = pl_ipc_scan_buffer(b, "server result", &ro, &s, err);
    }
    pl_buf_release(b);
    if (st) return st;
    st = pl_stream_next(s, out, err);
    pl_stream_free(s);
    return st;
}

static pl_status xstream_next(pl_stream *s, pl_batch **out, pl_error *err) {
    xcall *x = s->impl;
    for (;;) {
        int type = 0;
        int64_t start = 0, len = 0;
        PL_TRY(next_message(x, &type, &start, &len, err));
        if (type == 0) {
            *out = NULL;
            return PL_OK;
        }
        if (type == MSG_DICTIONARY) {
            PL_TRY(pl_buf_append(x->prefix, x->pending->data + start, len, err));
            continue;
        }
        if (type != MSG_RECORD_BATCH)
            PL_FAIL(err, PL_ERR_CORRUPT, "unexpected IPC message type %d from the server", type);
        pl_batch *b = NULL;
        PL_TRY(decode_batch(x->prefix, x->pending->data + start, len, &b, err));
        if (!b) PL_FAIL(err, PL_ERR_CORRUPT, "an IPC record batch message without a batch");
        *out = b;
        return PL_OK;
    }
}

static void xstream_free(pl_stream *s) {
    if (!s) return;
    xcall_free(s->impl);
    pl_schema_release(s->schema);
    pl_free(s);
}

/* Starts the call and waits for the schema: errors before any result (a missing file, a bad
 * query) are returned here, the rest by the stream. */
static pl_status run_execute(pl_client *c, const uint8_t *req, size_t req_len, pl_stream **out,
                             pl_error *err) {
    xcall *x = NULL;
    PL_TRY(xcall_start(c, req, req_len, &x, err));
    int type = 0;
    int64_t start = 0, len = 0;
    pl_status st = next_message(x, &type, &start, &len, err);
    if (!st && type != MSG_SCHEMA)
        st = pl_error_set(err, PL_ERR_CORRUPT, "the server's result does not start with a schema");
    if (!st) st = pl_buf_append(x->prefix, x->pending->data + start, len, err);
    pl_stream *schema_only = NULL;
    if (!st) {
        pl_read_opts ro;
        pl_read_opts_init(&ro);
        st = pl_ipc_scan_buffer(x->prefix, "server result", &ro, &schema_only, err);
    }
    pl_stream *s = st ? NULL : pl_calloc(1, sizeof *s);
    if (!st && !s) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory for a result stream");
    if (st) {
        if (schema_only) pl_stream_free(schema_only);
        xcall_free(x);
        return st;
    }
    s->schema = pl_schema_retain(schema_only->schema);
    pl_stream_free(schema_only);
    s->next = xstream_next;
    s->free = xstream_free;
    s->impl = x;
    *out = s;
    return PL_OK;
}

/* ExecuteOptions as bytes (field 2 of ExecuteRequest), into buf; returns the length. */
static size_t pack_options(const pl_client *c, uint8_t **buf) {
    Polaroid__V1__ExecuteOptions o = POLAROID__V1__EXECUTE_OPTIONS__INIT;
    o.max_message_bytes = c->max_message_bytes;
    o.timeout_ms = c->timeout_ms;
    o.memory_limit_bytes = c->memory_limit_bytes;
    size_t n = polaroid__v1__execute_options__get_packed_size(&o);
    *buf = pl_malloc(n ? n : 1);
    if (*buf) polaroid__v1__execute_options__pack(&o, *buf);
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

pl_status pl_client_execute(pl_client *c, const void *plan, size_t plan_len, pl_stream **out,
                            pl_error *err) {
    if (!c || (!plan && plan_len)) PL_FAIL(err, PL_ERR_INVALID_ARG, "no client or plan");
    uint8_t *opts = NULL;
    size_t opts_len = pack_options(c, &opts);
    uint8_t *req = opts ? pl_malloc(plan_len + opts_len + 24) : NULL;
    if (!req) {
        pl_free(opts);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a request");
    }
    size_t n = 0;
    req[n++] = 0x0a; /* field 1 (plan), length-delimited */
    n += put_varint(req + n, plan_len);
    if (plan_len) memcpy(req + n, plan, plan_len);
    n += plan_len;
    if (opts_len) {
        req[n++] = 0x12; /* field 2 (options) */
        n += put_varint(req + n, opts_len);
        memcpy(req + n, opts, opts_len);
        n += opts_len;
    }
    pl_free(opts);
    pl_status st = run_execute(c, req, n, out, err);
    pl_free(req);
    return st;
}

pl_status pl_client_sql(pl_client *c, const char *sql, pl_stream **out, pl_error *err) {
    if (!c || !sql) PL_FAIL(err, PL_ERR_INVALID_ARG, "no client or SQL");
    Polaroid__V1__SqlQuery q = POLAROID__V1__SQL_QUERY__INIT;
    q.query = (char *)sql;
    Polaroid__V1__Relation rel = POLAROID__V1__RELATION__INIT;
    rel.rel_case = POLAROID__V1__RELATION__REL_SQL;
    rel.sql = &q;
    Polaroid__V1__Plan plan = POLAROID__V1__PLAN__INIT;
    plan.root = &rel;
    size_t n = polaroid__v1__plan__get_packed_size(&plan);
    uint8_t *buf = pl_malloc(n ? n : 1);
    if (!buf) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a request");
    polaroid__v1__plan__pack(&plan, buf);
    pl_status st = pl_client_execute(c, buf, n, out, err);
    pl_free(buf);
    return st;
}

pl_status pl_client_sql_table(pl_client *c, const char *sql, pl_table **out, pl_error *err) {
    pl_stream *s = NULL;
    PL_TRY(pl_client_sql(c, sql, &s, err));
    pl_status st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    return st;
}

/* ---------------------------------------------------------------- for the fuzzer */

pl_status pl_client_decode_for_testing(const uint8_t *data, size_t n, int64_t *rows,
                                       pl_error *err) {
    pl_buf *pending = NULL, *prefix = NULL;
    pl_status st = pl_buf_new(1 << 12, &pending, err);
    if (!st) st = pl_buf_new(1 << 12, &prefix, err);
    bool summary = false, have_schema = false;
    int64_t off = 0, total = 0;
    const uint8_t *end = data + n;
    while (!st && (size_t)(end - data) >= 4) {
        uint32_t len = pl_load_u32le(data);
        data += 4;
        if (len > (size_t)(end - data)) len = (uint32_t)(end - data);
        st = take_response(data, len, pending, &summary, err);
        data += len;
        while (!st) {
            int t = 0;
            int64_t m = 0;
            st = split_message(pending->data + off, pending->size - off, &t, &m, err);
            if (st || m == 0) break;
            const uint8_t *msg = pending->data + off;
            off += m;
            if (t == -1) continue;
            if (!have_schema) {
                if (t != MSG_SCHEMA) {
                    st = pl_error_set(err, PL_ERR_CORRUPT, "no schema first");
                    break;
                }
                have_schema = true;
                st = pl_buf_append(prefix, msg, m, err);
            } else if (t == MSG_DICTIONARY) {
                st = pl_buf_append(prefix, msg, m, err);
            } else if (t == MSG_RECORD_BATCH) {
                pl_batch *b = NULL;
                st = decode_batch(prefix, msg, m, &b, err);
                if (!st && b) {
                    total += b->n_rows;
                    pl_batch_release(b);
                }
            } else {
                st = pl_error_set(err, PL_ERR_CORRUPT, "unexpected message type %d", t);
            }
        }
    }
    pl_buf_release(pending);
    pl_buf_release(prefix);
    if (!st) *rows = total;
    return st;
}
