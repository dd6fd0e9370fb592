/* transport.c - the gRPC C core under polaroid.v1: completion queues, call state machines,
 * runner threads, flow control, authentication, health, graceful shutdown.
 *
 * Threads (server.h has the overview): each completion queue (CQ) has one network thread that
 * polls it. Every method of service.h's table is registered (unary and server-streaming ones
 * with the request payload delivered together with the call) and a few requests per method
 * are kept armed on every CQ; each accepted call is re-armed at once. Unknown methods are
 * caught by a generic request and answered UNIMPLEMENTED.
 *
 * A call (tcall) is a small state machine driven by tags on its CQ:
 *   TAG_NEW    the call arrived: start RECV_CLOSE_ON_SERVER, check the token, then answer a
 *              light method inline, or queue the call for a runner (RESOURCE_EXHAUSTED when
 *              the queue is full), or start Append's first receive;
 *   TAG_CLOSE  the call is over; cancelled=1 (client cancel, disconnect, deadline, server
 *              cancel) sets the call's cancel flag, which the engine polls;
 *   TAG_SEND   a send batch finished: start the next queued one, wake a waiting runner; the
 *              batch with the status ends the call's processing (metrics hook);
 *   TAG_RECV   Append: the next client message (or the end of its stream) arrived.
 * A call holds two references, released by TAG_CLOSE and by the completion of the status
 * batch; both arrive on the call's CQ thread, which frees the call into that CQ's free list
 * (no locking, no malloc per call once warm).
 *
 * Sending: runner threads start their own send batches (grpc_call_start_batch is
 * thread-safe). One batch per call is in flight at a time; a runner that has a second message
 * ready waits until the first is sent (the "outbox" below), so a slow client holds at most
 * two messages of its query and the query itself waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "core/core.h"
#include "grpc/health/v1/health.pb-c.h"
#include "server/catalog.h"
#include "server/log.h"
#include "server/server.h"
#include "server/transport.h"

/* requests kept armed per method per completion queue */
#define TR_ARMED_PER_METHOD 4
#define TR_ARMED_EXECUTE 16
/* messages a runner may queue behind the one being sent (flow control) */
#define TR_OUTBOX_WAITING 1
/* messages shorter than this are copied into gRPC slices; longer ones are handed over */
#define TR_COPY_BELOW 1024
#define TR_DEFAULT_QUEUE 4096
#define TR_DEFAULT_GRACE_MS 10000
/* After the last call ended, connections stay open this long before a shutdown closes them:
 * a call is over for the server once its status is written to the socket, but its client may
 * still be reading the last messages. Closing the socket while the client's flow-control
 * frames still arrive makes the kernel answer with a reset, which discards what the client
 * had not read yet (seen as "Connection reset by peer" on an in-flight stream). */
#define TR_SHUTDOWN_LINGER_MS 250
#define TR_SWEEP_NS 1000000000LL
#define TR_MAX_TOKENS 4096
#define TR_MAX_TOKEN_BYTES 4096
#define TR_UNKNOWN_METHOD PL_SRV_N_METHODS
#define TR_ERROR_TEXT 1400
#define TR_MAX_STREAMS_PER_CONNECTION 1024
#define TR_KEEPALIVE_MS 60000
/* a runner waits this long for a slow client to take a message, then parks the call (the
 * runner moves on; the call resumes on a runner when the client has taken it) */
#define TR_PARK_AFTER_NS 20000000LL
/* parked calls at most (beyond, runners wait for their clients) */
#define TR_MAX_PARKED 4096
#define TR_KEEPALIVE_TIMEOUT_MS 20000
/* Execute queries over at most this many live-table rows run on the network thread (see
 * execute_on_network) */
#define TR_INLINE_ROWS 16384
/* an Execute call that answered with a same-host file waits this long for the client's
 * ReleaseSharedMemory (or its disconnect, which removes the file) before it ends anyway */
#define TR_LEASE_HOLD_NS 10000000000LL

typedef enum tag_kind { TAG_NEW, TAG_CLOSE, TAG_SEND, TAG_RECV, TAG_SHUTDOWN } tag_kind;
typedef enum job_kind { JOB_NONE, JOB_UNARY, JOB_EXECUTE, JOB_APPEND } job_kind;

typedef struct tcall tcall;
typedef struct cqctx cqctx;

typedef struct ttag {
    tag_kind kind;
    tcall *call;
} ttag;

typedef struct out_item {
    grpc_byte_buffer *bb; /* NULL: status only */
    bool final;           /* carries the status */
} out_item;

struct tcall {
    ttag t_new, t_close, t_send, t_recv;
    pl_server *s;
    cqctx *q;
    int method; /* pl_srv_method, or TR_UNKNOWN_METHOD */
    grpc_call *call;
    gpr_timespec deadline;
    grpc_call_details details; /* unknown methods only */
    grpc_metadata_array md;
    grpc_byte_buffer *payload;
    int close_cancelled; /* written by RECV_CLOSE_ON_SERVER */
    int cancel;          /* atomic: the engine's cancel flag */
    atomic_int refs;
    pl_srv_call sc;
    char request_id[64];
    char *peer; /* gpr_malloc'd */
    int64_t t_arrive, t_run;
    job_kind job;
    tcall *next; /* free list, runner queue, watch list */
    /* outbox */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool inflight, md_sent, watching;
    out_item cur;
    out_item waiting[TR_OUTBOX_WAITING + 1];
    int n_waiting;
    /* the status */
    grpc_status_code code;
    grpc_slice details_slice;
    bool has_details;
    grpc_metadata trailer;
    bool has_trailer;
    bool has_err;
    pl_error err;
    int64_t rows, bytes;
    int64_t streamed_rows, streamed_bytes; /* passed to on_streamed so far */
    /* Append */
    pl_srv_append *append;
    grpc_byte_buffer *recv_bb;
    grpc_byte_buffer *ack_bb;
    /* Execute in progress, and parking (a slow client): the message that did not fit, the
     * list of parked calls (the server's qmu), the continuation queue link */
    pl_srv_exec *exec;
    grpc_byte_buffer *parked_bb;
    grpc_byte_buffer *handoff_bb; /* a message a network thread could not queue: a runner's */
    bool parked;
    int64_t parked_deadline_ns;
    tcall *pnext, *pprev, *cnext;
    char lease_id[48]; /* the same-host result file the open call holds (call's lock) */
};

struct cqctx {
    pl_server *s;
    grpc_completion_queue *cq;
    pthread_t th;
    bool th_started;
    tcall *free_list;
};

struct pl_server {
    pl_server_opts o;
    pl_srv *srv;
    grpc_server *server;
    void *reg[PL_SRV_N_METHODS];
    int n_cq;
    cqctx *cqs;
    bool grpc_inited;
    /* runner queue */
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    tcall **ring;
    int64_t qcap, qhead, qlen;
    bool qstop;
    int n_runners, n_runners_started;
    int64_t inline_rows; /* Execute on the network thread up to this many rows; 0 = never */
    pthread_t *runners;
    atomic_llong running;
    tcall *cont_head, *cont_tail; /* parked calls ready to resume (before the queue) */
    tcall *parked;                /* parked calls waiting for their clients */
    int64_t n_parked, max_parked;
    /* tokens */
    char **tokens;
    int n_tokens;
    /* shutdown */
    atomic_int shutting_down; /* draining: new calls but health probes are refused */
    atomic_int grpc_closing;  /* grpc_server_shutdown_and_notify called: arm no more */
    pthread_mutex_t smu;
    pthread_cond_t scv;
    bool shutdown_started, shutdown_done, notified, hk_stop;
    bool shm_kick; /* a lent lease to look at (its locks) before the next tick (smu) */
    ttag t_shutdown;
    pthread_t hk;
    bool hk_started;
    /* Health.Watch calls */
    pthread_mutex_t wmu;
    tcall *watchers;
    /* numbers */
    atomic_llong open_calls, calls_total, id_counter;
    atomic_llong last_call_end_ns; /* pl_now_ns() when a call last ended (shutdown linger) */
    /* tags handed to gRPC (armed requests, call batches) whose events the CQ threads have not
     * handled yet: a CQ may shut down only at 0 (see pl_server_shutdown) */
    atomic_llong tags_out;
    uint32_t id_seed;
    int port;
    char address[512];
    char *data_root;
};

static void *cq_main(void *arg);
static void *runner_main(void *arg);
static void on_new(tcall *c, bool ok);

/* ---------------------------------------------------------------- small helpers */

static int64_t gpr_to_ns(gpr_timespec t) {
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static bool is_cancelled(const tcall *c) { return __atomic_load_n(&c->cancel, __ATOMIC_ACQUIRE); }

static void free_pl(void *p) { pl_free(p); }

/* A byte buffer over len bytes at data inside base (taken; released with free_fn). */
static grpc_byte_buffer *bb_take(void *base, uint8_t *data, size_t len, void (*free_fn)(void *)) {
    grpc_slice sl;
    if (len < TR_COPY_BELOW) {
        sl = grpc_slice_from_copied_buffer((const char *)data, len);
        free_fn(base);
    } else {
        sl = grpc_slice_new_with_user_data(data, len, free_fn, base);
    }
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

/* The bytes of a received message as one slice (a reference when it is one slice already). */
static grpc_slice bb_read_all(grpc_byte_buffer *bb) {
    grpc_byte_buffer_reader r;
    if (!bb || !grpc_byte_buffer_reader_init(&r, bb)) return grpc_empty_slice();
    grpc_slice sl = grpc_byte_buffer_reader_readall(&r);
    grpc_byte_buffer_reader_destroy(&r);
    return sl;
}

/* ---------------------------------------------------------------- call objects */

static tcall *call_alloc(cqctx *q) {
    tcall *c = q->free_list;
    if (c) {
        q->free_list = c->next;
    } else {
        c = pl_calloc(1, sizeof *c);
        if (!c) return NULL;
        pthread_mutex_init(&c->mu, NULL);
        pthread_condattr_t ca; /* timed waits on pl_now_ns's clock */
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    /* reset everything but the synchronisation objects */
    size_t head = offsetof(tcall, mu);
    memset(c, 0, head);
    size_t tail = offsetof(tcall, inflight);
    memset((char *)c + tail, 0, sizeof *c - tail);
    c->s = q->s;
    c->q = q;
    c->t_new = (ttag){TAG_NEW, c};
    c->t_close = (ttag){TAG_CLOSE, c};
    c->t_send = (ttag){TAG_SEND, c};
    c->t_recv = (ttag){TAG_RECV, c};
    grpc_metadata_array_init(&c->md);
    return c;
}

/* Back to the free list (on the call's CQ thread, or before the threads run). */
static void call_recycle(tcall *c) {
    if (c->call) grpc_call_unref(c->call);
    c->call = NULL;
    grpc_metadata_array_destroy(&c->md);
    if (c->method == TR_UNKNOWN_METHOD) grpc_call_details_destroy(&c->details);
    if (c->payload) grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    if (c->recv_bb) grpc_byte_buffer_destroy(c->recv_bb);
    if (c->ack_bb) grpc_byte_buffer_destroy(c->ack_bb);
    c->recv_bb = c->ack_bb = NULL;
    if (c->peer) gpr_free(c->peer);
    c->peer = NULL;
    if (c->has_details) grpc_slice_unref(c->details_slice);
    if (c->has_trailer) grpc_slice_unref(c->trailer.value);
    c->has_details = c->has_trailer = false;
    if (c->append) pl_srv_append_close(c->append);
    c->append = NULL;
    if (c->exec) pl_srv_execute_free(c->exec); /* cannot happen: runners finish it */
    c->exec = NULL;
    if (c->parked_bb) grpc_byte_buffer_destroy(c->parked_bb);
    c->parked_bb = NULL;
    if (c->handoff_bb) grpc_byte_buffer_destroy(c->handoff_bb);
    c->handoff_bb = NULL;
    cqctx *q = c->q;
    c->next = q->free_list;
    q->free_list = c;
}

static void call_unref(tcall *c) {
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        atomic_store(&c->s->last_call_end_ns, pl_now_ns());
        atomic_fetch_sub(&c->s->open_calls, 1);
        call_recycle(c);
    }
}

static void free_list_destroy(cqctx *q) {
    while (q->free_list) {
        tcall *c = q->free_list;
        q->free_list = c->next;
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        pl_free(c);
    }
}

/* ---------------------------------------------------------------- arming requests */

static int armed_count(int method) {
    return method == PL_SRV_EXECUTE ? TR_ARMED_EXECUTE : TR_ARMED_PER_METHOD;
}

static void arm(cqctx *q, int method) {
    pl_server *s = q->s;
    if (atomic_load(&s->grpc_closing)) return;
    tcall *c = call_alloc(q);
    if (!c) return;
    c->method = method;
    atomic_fetch_add(&s->tags_out, 1);
    grpc_call_error e;
    if (method == TR_UNKNOWN_METHOD) {
        grpc_call_details_init(&c->details);
        e = grpc_server_request_call(s->server, &c->call, &c->details, &c->md, q->cq, q->cq,
                                     &c->t_new);
    } else {
        bool payload = pl_srv_method_kind((pl_srv_method)method) != PL_SRV_BIDI_STREAM;
        e = grpc_server_request_registered_call(s->server, s->reg[method], &c->call,
                                                &c->deadline, &c->md,
                                                payload ? &c->payload : NULL, q->cq, q->cq,
                                                &c->t_new);
    }
    if (e != GRPC_CALL_OK) {
        atomic_fetch_sub(&s->tags_out, 1);
        call_recycle(c);
    }
}

/* ---------------------------------------------------------------- sending */

static void send_done_locked(tcall *c, bool *final_done);

/* Starts the send batch for item (the call's lock held, nothing in flight). */
static void start_send_locked(tcall *c, out_item it) {
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    if (!c->md_sent) {
        ops[n].op = GRPC_OP_SEND_INITIAL_METADATA;
        n++;
        c->md_sent = true;
    }
    if (it.bb) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = it.bb;
        n++;
    }
    if (it.final) {
        ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
        ops[n].data.send_status_from_server.status = c->code;
        ops[n].data.send_status_from_server.status_details =
            c->has_details ? &c->details_slice : NULL;
        ops[n].data.send_status_from_server.trailing_metadata_count = c->has_trailer ? 1 : 0;
        ops[n].data.send_status_from_server.trailing_metadata =
            c->has_trailer ? &c->trailer : NULL;
        n++;
    }
    c->cur = it;
    c->inflight = true;
    atomic_fetch_add(&c->s->tags_out, 1);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL);
    if (e != GRPC_CALL_OK) {
        atomic_fetch_sub(&c->s->tags_out, 1);
        /* cannot happen with a well-formed batch; finish the item here */
        fprintf(stderr, "polaroid serve: grpc_call_start_batch failed (%d)\n", (int)e);
        bool final_done = false;
        send_done_locked(c, &final_done);
        PL_ASSERT(!final_done);
    }
}

/* Queues a message (bb, taken) or the status (final) of the call. A message waits while the
 * outbox is full (until deadline_ns, pl_now_ns clock, 0 = none); it is dropped (false) once
 * the call is cancelled or the deadline passed. The final item is never refused; after it the
 * caller must not touch the call. */
static bool outbox_push(tcall *c, grpc_byte_buffer *bb, bool final, int64_t deadline_ns) {
    pthread_mutex_lock(&c->mu);
    if (!final) {
        bool late = false;
        while (c->inflight && c->n_waiting >= TR_OUTBOX_WAITING && !is_cancelled(c) && !late) {
            if (deadline_ns) {
                struct timespec ts = {(time_t)(deadline_ns / 1000000000LL),
                                      (long)(deadline_ns % 1000000000LL)};
                late = pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT;
            } else {
                pthread_cond_wait(&c->cv, &c->mu);
            }
        }
        if (is_cancelled(c) || late) {
            pthread_mutex_unlock(&c->mu);
            if (bb) grpc_byte_buffer_destroy(bb);
            return false;
        }
    }
    out_item it = {bb, final};
    if (!c->inflight)
        start_send_locked(c, it);
    else
        c->waiting[c->n_waiting++] = it;
    pthread_mutex_unlock(&c->mu);
    return true;
}

enum { PUSH_QUEUED, PUSH_DROPPED, PUSH_PARKED };

static void parked_add(pl_server *s, tcall *c);

/* outbox_push for Execute's messages: after TR_PARK_AFTER_NS of waiting for a slow client the
 * message is kept aside and the call parked (PUSH_PARKED: the runner must let go of the call;
 * on_send resumes it). PUSH_DROPPED once cancelled or past deadline_ns. */
static int outbox_push_or_park(tcall *c, grpc_byte_buffer *bb, int64_t deadline_ns) {
    pl_server *s = c->s;
    int64_t park_at = pl_now_ns() + TR_PARK_AFTER_NS;
    pthread_mutex_lock(&c->mu);
    bool late = false, park = false;
    while (c->inflight && c->n_waiting >= TR_OUTBOX_WAITING && !is_cancelled(c) && !late &&
           !park) {
        int64_t until = deadline_ns && deadline_ns < park_at ? deadline_ns : park_at;
        struct timespec ts = {(time_t)(until / 1000000000LL), (long)(until % 1000000000LL)};
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT) {
            int64_t now = pl_now_ns();
            late = deadline_ns && now >= deadline_ns;
            park = !late && now >= park_at;
        }
    }
    if (is_cancelled(c) || late) {
        pthread_mutex_unlock(&c->mu);
        grpc_byte_buffer_destroy(bb);
        return PUSH_DROPPED;
    }
    if (park && c->inflight && c->n_waiting >= TR_OUTBOX_WAITING) {
        pthread_mutex_lock(&s->qmu);
        bool room = s->n_parked < s->max_parked;
        if (room) {
            c->parked_bb = bb;
            c->parked = true;
            c->parked_deadline_ns = deadline_ns;
            parked_add(s, c);
        }
        pthread_mutex_unlock(&s->qmu);
        if (room) {
            pthread_mutex_unlock(&c->mu);
            return PUSH_PARKED;
        }
        while (c->inflight && c->n_waiting >= TR_OUTBOX_WAITING && !is_cancelled(c))
            pthread_cond_wait(&c->cv, &c->mu); /* too many parked: wait as before */
        if (is_cancelled(c)) {
            pthread_mutex_unlock(&c->mu);
            grpc_byte_buffer_destroy(bb);
            return PUSH_DROPPED;
        }
    }
    out_item it = {bb, false};
    if (!c->inflight)
        start_send_locked(c, it);
    else
        c->waiting[c->n_waiting++] = it;
    pthread_mutex_unlock(&c->mu);
    return PUSH_QUEUED;
}

/* A message of a query running on the network thread, which must never wait: queued, or the
 * call parked with it (PUSH_PARKED; the client's next take resumes it on a runner), or
 * PUSH_FULL when no call may park (the caller hands it to a runner), PUSH_DROPPED once
 * cancelled. */
enum { PUSH_FULL = PUSH_PARKED + 1 };
static int outbox_push_nowait(tcall *c, grpc_byte_buffer *bb, int64_t deadline_ns) {
    pl_server *s = c->s;
    pthread_mutex_lock(&c->mu);
    int r = PUSH_QUEUED;
    if (is_cancelled(c)) {
        r = PUSH_DROPPED;
    } else if (!c->inflight) {
        start_send_locked(c, (out_item){bb, false});
    } else if (c->n_waiting < TR_OUTBOX_WAITING) {
        c->waiting[c->n_waiting++] = (out_item){bb, false};
    } else {
        pthread_mutex_lock(&s->qmu);
        r = s->n_parked < s->max_parked ? PUSH_PARKED : PUSH_FULL;
        if (r == PUSH_PARKED) {
            c->parked_bb = bb;
            c->parked = true;
            c->parked_deadline_ns = deadline_ns;
            parked_add(s, c);
        }
        pthread_mutex_unlock(&s->qmu);
    }
    pthread_mutex_unlock(&c->mu);
    if (r == PUSH_DROPPED) grpc_byte_buffer_destroy(bb);
    return r;
}

/* ---------------------------------------------------------------- parked calls (qmu held) */

static void parked_add(pl_server *s, tcall *c) {
    c->pprev = NULL;
    c->pnext = s->parked;
    if (s->parked) s->parked->pprev = c;
    s->parked = c;
    s->n_parked++;
}

static void parked_remove(pl_server *s, tcall *c) {
    if (c->pprev)
        c->pprev->pnext = c->pnext;
    else
        s->parked = c->pnext;
    if (c->pnext) c->pnext->pprev = c->pprev;
    c->pnext = c->pprev = NULL;
    s->n_parked--;
}

/* An Execute call under way goes (back) to the runners, ahead of new calls (never refused). */
static void continue_on_runner(tcall *c, bool was_parked) {
    pl_server *s = c->s;
    pthread_mutex_lock(&s->qmu);
    if (was_parked) parked_remove(s, c);
    c->job = JOB_EXECUTE;
    c->cnext = NULL;
    if (s->cont_tail)
        s->cont_tail->cnext = c;
    else
        s->cont_head = c;
    s->cont_tail = c;
    pthread_mutex_unlock(&s->qmu);
    pthread_cond_signal(&s->qcv); /* after the unlock: the runner does not wake into a lock */
}

/* A parked call goes back to the runners. The call's lock is held and c->parked was true. */
static void resume_locked(tcall *c) {
    c->parked = false;
    continue_on_runner(c, true);
}

/* A send batch completed (lock held): free it, start the next. */
static void send_done_locked(tcall *c, bool *final_done) {
    if (c->cur.bb) grpc_byte_buffer_destroy(c->cur.bb);
    *final_done = c->cur.final;
    c->cur = (out_item){NULL, false};
    c->inflight = false;
    if (c->n_waiting > 0) {
        out_item it = c->waiting[0];
        for (int i = 1; i < c->n_waiting; i++) c->waiting[i - 1] = c->waiting[i];
        c->n_waiting--;
        start_send_locked(c, it);
    }
    pthread_cond_broadcast(&c->cv);
}

static void call_finished_hook(tcall *c) {
    pl_server *s = c->s;
    if (!s->o.on_call_done) return;
    pl_server_call_info info;
    memset(&info, 0, sizeof info);
    info.method = (pl_srv_method)c->method;
    info.grpc_code = (int)c->code;
    info.err = c->has_err ? &c->err : NULL;
    info.request_id = c->request_id;
    info.peer = c->peer ? c->peer : "";
    info.owner = c->sc.owner ? c->sc.owner : "";
    int64_t now = pl_now_ns();
    info.queued_ns = c->t_run ? c->t_run - c->t_arrive : 0;
    info.latency_ns = now - c->t_arrive;
    info.rows = c->rows;
    info.bytes = c->bytes;
    info.streamed_rows = c->streamed_rows;
    info.streamed_bytes = c->streamed_bytes;
    info.client_cancelled = c->close_cancelled != 0;
    s->o.on_call_done(s->o.hook_user, &info);
}

static void on_send(tcall *c, bool ok) {
    (void)ok;
    bool final_done = false;
    pthread_mutex_lock(&c->mu);
    send_done_locked(c, &final_done);
    if (c->parked && c->n_waiting < TR_OUTBOX_WAITING) { /* the client took a message */
        out_item it = {c->parked_bb, false};
        c->parked_bb = NULL;
        if (!c->inflight)
            start_send_locked(c, it);
        else
            c->waiting[c->n_waiting++] = it;
        resume_locked(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (final_done) {
        call_finished_hook(c);
        call_unref(c);
    }
}

/* ---------------------------------------------------------------- statuses */

static void set_status(tcall *c, grpc_status_code code, const char *msg) {
    c->code = code;
    if (c->has_details) grpc_slice_unref(c->details_slice);
    c->has_details = false;
    if (msg && msg[0]) {
        c->details_slice = grpc_slice_from_copied_string(msg);
        c->has_details = true;
    }
}

/* The status for an engine error: code, formatted message, ErrorDetail trailer. */
static void set_error(tcall *c, const pl_error *err_in, int override_code) {
    char text[TR_ERROR_TEXT];
    c->err = *err_in;
    const pl_error *err = &c->err;
    pl_srv_explain_error(c->s->srv, &c->err); /* no server paths; whose memory is full */
    pl_error_format(err, text, sizeof text);
    int code = override_code >= 0 ? override_code : pl_srv_grpc_code(err);
    if (err->code == PL_ERR_CANCELLED && override_code < 0)
        code = c->close_cancelled ? GRPC_STATUS_CANCELLED : GRPC_STATUS_DEADLINE_EXCEEDED;
    set_status(c, (grpc_status_code)code, text);
    c->has_err = true;
    uint8_t *detail = NULL;
    size_t n = 0;
    if (pl_srv_error_detail(err, c->s->data_root, c->request_id, &detail, &n) == PL_OK) {
        if (c->has_trailer) grpc_slice_unref(c->trailer.value);
        c->trailer.key = grpc_slice_from_static_string("polaroid-error-bin");
        c->trailer.value = grpc_slice_from_copied_buffer((const char *)detail, n);
        c->has_trailer = true;
        pl_free(detail);
    }
}

static void finish_error(tcall *c, int grpc_code, pl_status st, const char *fmt, ...)
    PL_PRINTF(4, 5);
static void finish_error(tcall *c, int grpc_code, pl_status st, const char *fmt, ...) {
    pl_error err;
    pl_error_init(&err);
    va_list ap;
    va_start(ap, fmt);
    pl_error_setv(&err, st, fmt, ap);
    va_end(ap);
    set_error(c, &err, grpc_code);
    outbox_push(c, NULL, true, 0);
}

static void finish_ok(tcall *c, grpc_byte_buffer *bb) {
    set_status(c, GRPC_STATUS_OK, NULL);
    outbox_push(c, bb, true, 0);
}

/* ---------------------------------------------------------------- health */

static int health_status(pl_server *s) {
    return atomic_load(&s->shutting_down)
               ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
               : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static grpc_byte_buffer *health_message(int status) {
    uint8_t b[2] = {0x08, (uint8_t)status}; /* field 1, varint */
    grpc_slice sl = grpc_slice_from_copied_buffer((const char *)b, status ? 2 : 0);
    grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&sl, 1);
    grpc_slice_unref(sl);
    return bb;
}

/* The service a HealthCheckRequest names: 1 known, 0 unknown, -1 malformed. */
static int health_service_known(tcall *c) {
    grpc_slice sl = bb_read_all(c->payload);
    ProtobufCAllocator *alloc = pl_srv_pb_allocator();
    Grpc__Health__V1__HealthCheckRequest *r = grpc__health__v1__health_check_request__unpack(
        alloc, GRPC_SLICE_LENGTH(sl), GRPC_SLICE_START_PTR(sl));
    grpc_slice_unref(sl);
    if (!r) return -1;
    int known = !r->service || !r->service[0] || !strcmp(r->service, "polaroid.v1.Polaroid");
    grpc__health__v1__health_check_request__free_unpacked(r, alloc);
    return known;
}

static void health_check(tcall *c) {
    int known = health_service_known(c);
    if (known < 0) {
        finish_error(c, GRPC_STATUS_INVALID_ARGUMENT, PL_ERR_INVALID_ARG,
                     "malformed HealthCheckRequest");
    } else if (!known) {
        finish_error(c, GRPC_STATUS_NOT_FOUND, PL_ERR_NOT_FOUND,
                     "unknown service (this server has \"\" and \"polaroid.v1.Polaroid\")");
    } else {
        finish_ok(c, health_message(health_status(c->s)));
    }
}

static void health_watch(tcall *c) {
    pl_server *s = c->s;
    int known = health_service_known(c);
    if (known < 0) {
        finish_error(c, GRPC_STATUS_INVALID_ARGUMENT, PL_ERR_INVALID_ARG,
                     "malformed HealthCheckRequest");
        return;
    }
    pthread_mutex_lock(&s->wmu);
    int status = known ? health_status(s)
                       : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
    bool closing = atomic_load(&s->shutting_down);
    if (!closing) {
        c->watching = true;
        c->next = s->watchers;
        s->watchers = c;
    }
    outbox_push(c, health_message(status), false, 0);
    pthread_mutex_unlock(&s->wmu);
    if (closing) finish_ok(c, NULL);
}

/* The client went away: take the call off the watch list and end it. */
static void health_watch_cancelled(tcall *c) {
    pl_server *s = c->s;
    pthread_mutex_lock(&s->wmu);
    bool found = false;
    for (tcall **p = &s->watchers; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            found = true;
            break;
        }
    }
    c->watching = false;
    pthread_mutex_unlock(&s->wmu);
    if (found) {
        set_status(c, GRPC_STATUS_CANCELLED, "cancelled");
        outbox_push(c, NULL, true, 0);
    }
}

/* Shutdown: every watcher hears NOT_SERVING, then its stream ends. */
static void health_watchers_close(pl_server *s) {
    pthread_mutex_lock(&s->wmu);
    tcall *list = s->watchers;
    s->watchers = NULL;
    for (tcall *c = list; c; c = c->next) c->watching = false;
    pthread_mutex_unlock(&s->wmu);
    while (list) {
        tcall *c = list;
        list = c->next;
        int not_serving = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
        outbox_push(c, health_message(not_serving), false, 0);
        finish_ok(c, NULL);
    }
}

/* ---------------------------------------------------------------- authentication */

static bool token_equal(const char *a, size_t na, const char *b) {
    size_t nb = strlen(b);
    unsigned char diff = (unsigned char)(na != nb);
    for (size_t i = 0; i < na; i++) diff |= (unsigned char)(a[i] ^ b[i < nb ? i : 0]);
    return diff == 0;
}

/* The token the call carries if it is one of the server's (compared in constant time over
 * every token), else NULL. */
static const char *check_token(tcall *c) {
    pl_server *s = c->s;
    const char *val = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->md.count; i++) {
        if (grpc_slice_str_cmp(c->md.metadata[i].key, "authorization") == 0) {
            val = (const char *)GRPC_SLICE_START_PTR(c->md.metadata[i].value);
            n = GRPC_SLICE_LENGTH(c->md.metadata[i].value);
            break;
        }
    }
    if (!val || n < 7 || strncasecmp(val, "Bearer ", 7) != 0) return NULL;
    val += 7;
    n -= 7;
    if (n == 0 || n > TR_MAX_TOKEN_BYTES) return NULL;
    const char *match = NULL;
    for (int i = 0; i < s->n_tokens; i++)
        if (token_equal(val, n, s->tokens[i]) && !match) match = s->tokens[i];
    return match;
}

/* ---------------------------------------------------------------- runners */

static bool enqueue(pl_server *s, tcall *c, job_kind job) {
    pthread_mutex_lock(&s->qmu);
    if (s->qlen >= s->qcap || s->qstop) {
        pthread_mutex_unlock(&s->qmu);
        return false;
    }
    c->job = job;
    s->ring[(s->qhead + s->qlen) % s->qcap] = c;
    s->qlen++;
    pthread_mutex_unlock(&s->qmu);
    pthread_cond_signal(&s->qcv); /* after the unlock: the runner does not wake into a lock */
    return true;
}

static void queue_full(tcall *c) {
    pl_server *s = c->s;
    finish_error(c, GRPC_STATUS_RESOURCE_EXHAUSTED, PL_ERR_LIMIT,
                 "server busy: %d queries running and %" PRId64 " waiting, the most it queues "
                 "(--max-queued-queries); retry later",
                 s->n_runners, s->qcap);
}

static void run_unary(tcall *c) {
    grpc_slice sl = bb_read_all(c->payload);
    uint8_t *resp = NULL;
    size_t n = 0;
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_srv_unary(&c->sc, (pl_srv_method)c->method, GRPC_SLICE_START_PTR(sl),
                                GRPC_SLICE_LENGTH(sl), &resp, &n, &err);
    grpc_slice_unref(sl);
    if (st) {
        set_error(c, &err, -1);
        outbox_push(c, NULL, true, 0);
        return;
    }
    c->bytes = (int64_t)n;
    finish_ok(c, bb_take(resp, resp, n, free_pl));
}

/* Metrics as the messages go out (counted when handed to gRPC), not only at the end of the
 * call. */
static void report_streamed(tcall *c, pl_srv_exec *x) {
    pl_server *s = c->s;
    if (!s->o.on_streamed) return;
    int64_t rows, ipc_bytes;
    pl_srv_execute_progress(x, &rows, &ipc_bytes);
    int64_t dr = rows - c->streamed_rows, db = c->bytes - c->streamed_bytes;
    c->streamed_rows = rows;
    c->streamed_bytes = c->bytes;
    if (dr > 0 || db > 0) s->o.on_streamed(s->o.hook_user, dr, db);
}

/* A call waiting for its client's ReleaseSharedMemory goes on (any thread, no lock held). */
static void lease_wake(void *user) { continue_on_runner(user, false); }

/* After the SharedMemoryResult went out: the call stays open, off the runners, until the
 * client releases the file or goes away (on_close drops the file then). True when the call
 * waits (the runner lets go of it). */
static bool lease_wait(tcall *c, pl_srv_exec *x) {
    const char *id = pl_srv_execute_lease(x);
    if (!id || c->lease_id[0] || atomic_load(&c->s->shutting_down))
        return false; /* no file, it waited already, or the server is closing */
    pthread_mutex_lock(&c->mu);
    snprintf(c->lease_id, sizeof c->lease_id, "%s", id);
    pthread_mutex_unlock(&c->mu);
    int64_t hold = c->s->o.shm_hold_ms > 0 ? c->s->o.shm_hold_ms * 1000000 : TR_LEASE_HOLD_NS;
    return pl_srv_shm_attach(c->s->srv, c->lease_id, pl_now_ns() + hold, &c->cancel, lease_wake,
                             c);
}

/* Execute: starts the query (first time) or resumes a parked one, then sends messages until
 * the end, an error, or the client is too slow (the call is parked and the runner lets go).
 * net: a query started by execute_on_network, on the network thread: it never waits; a
 * message that cannot be queued parks the call, and a result that needs file I/O or grows
 * past the inline budget goes on on a runner. */
static void run_execute(tcall *c, bool net) {
    pl_error err;
    pl_error_init(&err);
    pl_status st = PL_OK;
    if (!c->exec) {
        grpc_slice sl = bb_read_all(c->payload);
        st = pl_srv_execute_start(&c->sc, GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl),
                                  &c->exec, &err);
        grpc_slice_unref(sl);
        grpc_byte_buffer_destroy(c->payload);
        c->payload = NULL;
    }
    pl_srv_exec *x = c->exec;
    grpc_byte_buffer *last = NULL;
    if (!st && is_cancelled(c)) st = pl_srv_execute_stop_reason(x, &err);
    if (!st && c->handoff_bb) { /* the message the network thread could not queue */
        grpc_byte_buffer *bb = c->handoff_bb;
        c->handoff_bb = NULL;
        int r = outbox_push_or_park(c, bb, pl_srv_execute_deadline(x));
        if (r == PUSH_PARKED) return;
        if (r == PUSH_DROPPED) st = pl_srv_execute_stop_reason(x, &err);
    }
    while (!st) {
        pl_srv_msg m;
        bool done = false;
        st = pl_srv_execute_next_msg(x, &m, &done, &err);
        if (st || done) break;
        if (!m.base) { /* the network thread's part ends here */
            PL_ASSERT(net);
            pl_srv_execute_to_runner(x);
            continue_on_runner(c, false);
            return;
        }
        c->bytes += (int64_t)m.len;
        grpc_byte_buffer *bb = bb_take(m.base, m.data, m.len, pl_srv_msg_free);
        if (pl_srv_execute_finished(x)) { /* the summary: goes out with the status */
            last = bb;
            break;
        }
        report_streamed(c, x); /* before the push: after it the call may be another's */
        int64_t deadline = pl_srv_execute_deadline(x);
        int r = net ? outbox_push_nowait(c, bb, deadline) : outbox_push_or_park(c, bb, deadline);
        if (r == PUSH_PARKED || r == PUSH_FULL) { /* the call is not ours any more */
            if (net) pl_srv_execute_to_runner(x); /* a runner resumes it */
            if (r == PUSH_FULL) {
                c->handoff_bb = bb;
                continue_on_runner(c, false);
            }
            return;
        }
        if (r == PUSH_DROPPED) st = pl_srv_execute_stop_reason(x, &err);
        else if (lease_wait(c, x)) return; /* likewise, until the file is released */
    }
    if (c->handoff_bb) grpc_byte_buffer_destroy(c->handoff_bb);
    c->handoff_bb = NULL;
    if (c->lease_id[0] && is_cancelled(c)) /* the client left before releasing its file */
        (void)pl_srv_shm_detach(c->s->srv, c->lease_id, true);
    if (x) {
        int64_t ipc_bytes;
        pl_srv_execute_progress(x, &c->rows, &ipc_bytes);
        pl_srv_execute_free(x);
        c->exec = NULL;
    }
    if (st) {
        if (last) grpc_byte_buffer_destroy(last);
        set_error(c, &err, -1);
        outbox_push(c, NULL, true, 0);
        return;
    }
    finish_ok(c, last);
}

/* Execute on the network thread that received it, when the query is tiny
 * (pl_srv_execute_start_inline: live tables only, no I/O, few rows, e.g. a point filter that
 * chunk statistics narrow to one chunk): no hand-off to a runner, no wake-up of another
 * thread; the sends start on the thread that owns the call's completion queue. Otherwise the
 * call goes to the runners (with its query already planned when the plan was light). */
static void execute_on_network(tcall *c) {
    pl_server *s = c->s;
    grpc_slice sl = bb_read_all(c->payload);
    pl_error err;
    pl_error_init(&err);
    pl_srv_exec *x = NULL;
    bool inline_ok = false;
    pl_status st = pl_srv_execute_start_inline(&c->sc, GRPC_SLICE_START_PTR(sl),
                                               GRPC_SLICE_LENGTH(sl), s->inline_rows, &x,
                                               &inline_ok, &err);
    grpc_slice_unref(sl);
    if (st) {
        set_error(c, &err, -1);
        outbox_push(c, NULL, true, 0);
        return;
    }
    if (x) {
        grpc_byte_buffer_destroy(c->payload);
        c->payload = NULL;
    }
    c->exec = x;
    if (inline_ok) {
        run_execute(c, true);
    } else if (!enqueue(s, c, JOB_EXECUTE)) {
        if (c->exec) pl_srv_execute_free(c->exec);
        c->exec = NULL;
        queue_full(c);
    }
}

/* Append: the first receive, or the next one together with the previous ack. */
static void append_recv(tcall *c, grpc_byte_buffer *ack) {
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    size_t n = 0;
    pthread_mutex_lock(&c->mu);
    if (!c->md_sent) {
        ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
        c->md_sent = true;
    }
    pthread_mutex_unlock(&c->mu);
    if (ack) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n].data.send_message.send_message = ack;
        n++;
    }
    c->ack_bb = ack;
    ops[n].op = GRPC_OP_RECV_MESSAGE;
    ops[n].data.recv_message.recv_message = &c->recv_bb;
    n++;
    atomic_fetch_add(&c->s->tags_out, 1);
    grpc_call_error e = grpc_call_start_batch(c->call, ops, n, &c->t_recv, NULL);
    if (e != GRPC_CALL_OK) {
        atomic_fetch_sub(&c->s->tags_out, 1);
        c->ack_bb = NULL;
        if (ack) grpc_byte_buffer_destroy(ack);
        finish_error(c, GRPC_STATUS_INTERNAL, PL_ERR_INTERNAL, "cannot receive (%d)", (int)e);
    }
}

static void on_recv(tcall *c, bool ok) {
    (void)ok;
    if (c->ack_bb) grpc_byte_buffer_destroy(c->ack_bb);
    c->ack_bb = NULL;
    if (!enqueue(c->s, c, JOB_APPEND)) {
        if (c->recv_bb) grpc_byte_buffer_destroy(c->recv_bb);
        c->recv_bb = NULL;
        queue_full(c);
    }
}

static void run_append(tcall *c) {
    pl_error err;
    pl_error_init(&err);
    grpc_byte_buffer *in = c->recv_bb;
    c->recv_bb = NULL;
    if (!in) { /* the client closed its side, or the call is gone */
        if (c->append) pl_srv_append_close(c->append);
        c->append = NULL;
        if (is_cancelled(c)) {
            set_status(c, GRPC_STATUS_CANCELLED, "cancelled");
            outbox_push(c, NULL, true, 0);
        } else {
            finish_ok(c, NULL);
        }
        return;
    }
    pl_status st = PL_OK;
    if (!c->append) st = pl_srv_append_open(&c->sc, &c->append, &err);
    uint8_t *ack = NULL;
    size_t n = 0;
    if (!st) {
        grpc_slice sl = bb_read_all(in);
        st = pl_srv_append_one(c->append, GRPC_SLICE_START_PTR(sl), GRPC_SLICE_LENGTH(sl), &ack,
                               &n, &err);
        grpc_slice_unref(sl);
    }
    grpc_byte_buffer_destroy(in);
    if (st) {
        if (c->append) pl_srv_append_close(c->append);
        c->append = NULL;
        set_error(c, &err, -1);
        outbox_push(c, NULL, true, 0);
        return;
    }
    c->bytes += (int64_t)n;
    if (c->s->o.on_streamed) { /* a long-lived Append stream shows its acks as they go */
        c->s->o.on_streamed(c->s->o.hook_user, 0, c->bytes - c->streamed_bytes);
        c->streamed_bytes = c->bytes;
    }
    append_recv(c, bb_take(ack, ack, n, free_pl));
}

static void *runner_main(void *arg) {
    pl_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->qmu);
        while (s->qlen == 0 && !s->cont_head && !s->qstop) pthread_cond_wait(&s->qcv, &s->qmu);
        tcall *c = s->cont_head;
        if (c) { /* a resumed call first: it holds a query already */
            s->cont_head = c->cnext;
            if (!s->cont_head) s->cont_tail = NULL;
        } else if (s->qlen > 0) {
            c = s->ring[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
        } else {
            pthread_mutex_unlock(&s->qmu);
            break;
        }
        pthread_mutex_unlock(&s->qmu);
        atomic_fetch_add(&s->running, 1);
        if (!c->t_run) c->t_run = pl_now_ns();
        job_kind job = c->job;
        c->job = JOB_NONE;
        if (is_cancelled(c) && job != JOB_APPEND && !c->exec) {
            set_status(c, GRPC_STATUS_CANCELLED, "cancelled before it started");
            outbox_push(c, NULL, true, 0);
        } else if (job == JOB_UNARY) {
            run_unary(c);
        } else if (job == JOB_EXECUTE) {
            run_execute(c, false);
        } else if (job == JOB_APPEND) {
            run_append(c);
        }
        atomic_fetch_sub(&s->running, 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- a new call */

static bool loopback_peer(const char *peer) {
    return !strncmp(peer, "ipv4:127.", 9) || !strncmp(peer, "ipv6:[::1]", 10) ||
           !strncmp(peer, "unix:", 5) || !strncmp(peer, "ipv6:[::ffff:127.", 17);
}

/* Takes the request id from the call's "x-request-id" metadata when it is a valid one. */
static bool client_request_id(tcall *c) {
    for (size_t i = 0; i < c->md.count; i++) {
        if (grpc_slice_str_cmp(c->md.metadata[i].key, "x-request-id") != 0) continue;
        const char *v = (const char *)GRPC_SLICE_START_PTR(c->md.metadata[i].value);
        size_t n = GRPC_SLICE_LENGTH(c->md.metadata[i].value);
        if (!pl_srv_request_id_ok(v, n)) return false;
        memcpy(c->request_id, v, n);
        c->request_id[n] = '\0';
        return true;
    }
    return false;
}

static void on_new(tcall *c, bool ok) {
    cqctx *q = c->q;
    pl_server *s = c->s;
    if (!ok) { /* the server is shutting down: the request ends unanswered */
        call_recycle(c);
        return;
    }
    arm(q, c->method);
    atomic_init(&c->refs, 2);
    atomic_fetch_add(&s->open_calls, 1);
    uint64_t id = (uint64_t)atomic_fetch_add(&s->calls_total, 1) + 1;
    c->t_arrive = pl_now_ns();
    if (!client_request_id(c)) /* the client's "x-request-id", else ours */
        snprintf(c->request_id, sizeof c->request_id, "%08x-%06" PRIx64, s->id_seed, id);
    c->peer = grpc_call_get_peer(c->call);
    c->sc.srv = s->srv;
    c->sc.owner = "";
    c->sc.peer = c->peer ? c->peer : "";
    c->sc.request_id = c->request_id;
    c->sc.request_id_buf = c->request_id;
    c->sc.request_id_size = sizeof c->request_id;
    c->sc.cancel = &c->cancel;
    c->sc.same_host = c->peer && loopback_peer(c->peer);
    if (c->method != TR_UNKNOWN_METHOD &&
        gpr_time_cmp(c->deadline, gpr_inf_future(c->deadline.clock_type)) != 0) {
        gpr_timespec left = gpr_time_sub(c->deadline, gpr_now(c->deadline.clock_type));
        c->sc.deadline_ns = c->t_arrive + (gpr_to_ns(left) > 0 ? gpr_to_ns(left) : 0);
        if (!c->sc.deadline_ns) c->sc.deadline_ns = 1;
    }

    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    op.data.recv_close_on_server.cancelled = &c->close_cancelled;
    atomic_fetch_add(&s->tags_out, 1);
    if (grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL) != GRPC_CALL_OK) {
        atomic_fetch_sub(&s->tags_out, 1); /* cannot happen; keep the counts right */
        atomic_fetch_sub(&c->refs, 1);
    }

    if (c->method == TR_UNKNOWN_METHOD) {
        char *m = grpc_slice_to_c_string(c->details.method);
        finish_error(c, GRPC_STATUS_UNIMPLEMENTED, PL_ERR_UNSUPPORTED,
                     "unknown method \"%.200s\"", m);
        gpr_free(m);
        return;
    }
    pl_srv_method m = (pl_srv_method)c->method;
    bool health = m == PL_SRV_HEALTH_CHECK || m == PL_SRV_HEALTH_WATCH; /* probes need no token */
    if (s->n_tokens > 0 && !health) {
        const char *tok = check_token(c);
        if (!tok) {
            finish_error(c, GRPC_STATUS_UNAUTHENTICATED, PL_ERR_PERMISSION,
                         "missing or unknown bearer token (metadata \"authorization: Bearer "
                         "<token>\")");
            return;
        }
        c->sc.owner = tok;
    }
    if (!health && atomic_load(&s->shutting_down)) {
        finish_error(c, GRPC_STATUS_UNAVAILABLE, PL_ERR_IO,
                     "the server is shutting down (it finishes the calls it had, then stops)");
        return;
    }
    pl_srv_kind kind = pl_srv_method_kind(m);
    if (kind != PL_SRV_BIDI_STREAM && !c->payload) {
        finish_error(c, GRPC_STATUS_INVALID_ARGUMENT, PL_ERR_INVALID_ARG,
                     "the call carries no request message");
        return;
    }
    if (m == PL_SRV_HEALTH_CHECK) {
        health_check(c);
    } else if (m == PL_SRV_HEALTH_WATCH) {
        health_watch(c);
    } else if (kind == PL_SRV_BIDI_STREAM) {
        append_recv(c, NULL);
    } else if (kind == PL_SRV_UNARY && pl_srv_method_is_light(m)) {
        run_unary(c);
    } else if (m == PL_SRV_EXECUTE && s->inline_rows > 0) {
        execute_on_network(c);
    } else if (!enqueue(s, c, kind == PL_SRV_UNARY ? JOB_UNARY : JOB_EXECUTE)) {
        queue_full(c);
    }
}

static void on_close(tcall *c) {
    if (c->close_cancelled) {
        __atomic_store_n(&c->cancel, 1, __ATOMIC_RELEASE);
        pthread_mutex_lock(&c->mu);
        pthread_cond_broadcast(&c->cv);
        if (c->parked) { /* a runner ends it */
            if (c->parked_bb) grpc_byte_buffer_destroy(c->parked_bb);
            c->parked_bb = NULL;
            resume_locked(c);
        }
        char lease[sizeof c->lease_id];
        snprintf(lease, sizeof lease, "%s", c->lease_id);
        pthread_mutex_unlock(&c->mu);
        /* the client went away holding a same-host file it never released: remove it now */
        if (lease[0] && pl_srv_shm_detach(c->s->srv, lease, true)) lease_wake(c);
        if (c->method == PL_SRV_HEALTH_WATCH) health_watch_cancelled(c);
    }
    call_unref(c);
}

static void *cq_main(void *arg) {
    cqctx *q = arg;
    pl_server *s = q->s;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(q->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        ttag *t = ev.tag;
        tag_kind kind = t->kind; /* the handler may recycle the call */
        switch (kind) {
        case TAG_NEW:
            on_new(t->call, ev.success != 0);
            break;
        case TAG_CLOSE:
            on_close(t->call);
            break;
        case TAG_SEND:
            on_send(t->call, ev.success != 0);
            break;
        case TAG_RECV:
            on_recv(t->call, ev.success != 0);
            break;
        case TAG_SHUTDOWN:
            pthread_mutex_lock(&s->smu);
            s->notified = true;
            pthread_cond_broadcast(&s->scv);
            pthread_mutex_unlock(&s->smu);
            break;
        }
        /* after the handler: what it started (the call's next batch, a re-armed request) is
         * counted before this event's tag is let go, so the count never passes through 0
         * while a call is still under way */
        if (kind != TAG_SHUTDOWN) atomic_fetch_sub(&s->tags_out, 1);
    }
    return NULL;
}

/* ---------------------------------------------------------------- housekeeping */

static void *hk_main(void *arg) {
    pl_server *s = arg;
    pthread_mutex_lock(&s->smu);
    struct timespec tick;
    clock_gettime(CLOCK_REALTIME, &tick);
    tick.tv_sec += 1;
    while (!s->hk_stop) {
        int rc = 0;
        while (!s->hk_stop && !s->shm_kick && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&s->scv, &s->smu, &tick);
        if (s->hk_stop) break;
        struct timespec now_ts;
        clock_gettime(CLOCK_REALTIME, &now_ts);
        bool tick_due = now_ts.tv_sec > tick.tv_sec ||
                        (now_ts.tv_sec == tick.tv_sec && now_ts.tv_nsec >= tick.tv_nsec);
        if (s->shm_kick && !tick_due) { /* a release: only the lent leases' checks */
            s->shm_kick = false;
            pthread_mutex_unlock(&s->smu);
            pl_srv_shm_check_lent(s->srv, pl_now_ns());
            pthread_mutex_lock(&s->smu);
            continue;
        }
        s->shm_kick = false; /* the tick checks the lent leases too */
        pthread_mutex_unlock(&s->smu);
        int64_t now = pl_now_ns();
        pl_srv_sweep(s->srv, now);
        pthread_mutex_lock(&s->qmu); /* parked calls past their deadline */
        for (tcall *c = s->parked; c; c = c->pnext)
            if (c->parked_deadline_ns && now >= c->parked_deadline_ns)
                grpc_call_cancel_with_status(c->call, GRPC_STATUS_DEADLINE_EXCEEDED,
                                             "query exceeded its time limit", NULL);
        pthread_mutex_unlock(&s->qmu);
        pl_srv_shm_sweep(s->srv, now, false);
        pthread_mutex_lock(&s->smu);
        clock_gettime(CLOCK_REALTIME, &tick);
        tick.tv_sec += 1;
    }
    pthread_mutex_unlock(&s->smu);
    return NULL;
}

/* ---------------------------------------------------------------- start */

void pl_server_opts_init(pl_server_opts *o) {
    memset(o, 0, sizeof *o);
    pl_srv_config_init(&o->srv);
    o->listen = "127.0.0.1:50051";
    o->shutdown_grace_ms = TR_DEFAULT_GRACE_MS;
}

static pl_status read_text_file(const char *path, const char *what, char **out, pl_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        pl_error_set_path(err, path);
        PL_FAIL(err, errno == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot open the %s: %s",
                what, strerror(errno));
    }
    size_t cap = 4096, n = 0;
    char *buf = pl_malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            if (cap > (64u << 20)) break;
            char *nb = pl_realloc(buf, cap * 2);
            if (!nb) {
                pl_free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0) break;
        n += got;
    }
    bool bad = ferror(f) || (buf && n + 1 >= cap);
    fclose(f);
    if (!buf || bad) {
        pl_free(buf);
        pl_error_set_path(err, path);
        PL_FAIL(err, buf ? PL_ERR_IO : PL_ERR_NOMEM, "cannot read the %s", what);
    }
    buf[n] = 0;
    *out = buf;
    return PL_OK;
}

static pl_status load_tokens(pl_server *s, const char *path, pl_error *err) {
    char *text;
    PL_TRY(read_text_file(path, "token file", &text, err));
    s->tokens = pl_calloc(TR_MAX_TOKENS, sizeof(char *));
    if (!s->tokens) {
        pl_free(text);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory loading tokens");
    }
    pl_status st = PL_OK;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && !st; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) n--;
        while (n && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
        line[n] = 0;
        if (n == 0 || line[0] == '#') continue;
        if (n > TR_MAX_TOKEN_BYTES) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "a token is longer than %d bytes",
                              TR_MAX_TOKEN_BYTES);
        } else if (s->n_tokens >= TR_MAX_TOKENS) {
            st = pl_error_set(err, PL_ERR_LIMIT, "more than %d tokens", TR_MAX_TOKENS);
        } else if (!(s->tokens[s->n_tokens++] = pl_strdup(line))) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory loading tokens");
        }
    }
    pl_free(text);
    if (!st && s->n_tokens == 0)
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "the token file has no token");
    if (st) pl_error_set_path(err, path);
    return st;
}

/* "unix:..." and loopback hosts need no token. */
static bool loopback_listen(const char *addr) {
    if (!strncmp(addr, "unix:", 5) || !strncmp(addr, "unix-abstract:", 14)) return true;
    const char *colon = strrchr(addr, ':');
    size_t n = colon ? (size_t)(colon - addr) : strlen(addr);
    char host[256];
    if (n >= sizeof host) return false;
    memcpy(host, addr, n);
    host[n] = 0;
    const char *h = host;
    if (!strncmp(h, "ipv4:", 5) || !strncmp(h, "ipv6:", 5)) h += 5;
    if (h[0] == '[') {
        h++;
        size_t k = strlen(h);
        if (k && h[k - 1] == ']') ((char *)h)[k - 1] = 0;
    }
    return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "::1");
}

static pl_status make_credentials(const pl_server_opts *o, grpc_server_credentials **out,
                                  pl_error *err) {
    if (!o->tls_cert && !o->tls_key) {
        *out = grpc_insecure_server_credentials_create();
        return PL_OK;
    }
    if (!o->tls_cert || !o->tls_key)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "TLS needs both --tls-cert and --tls-key");
    char *cert = NULL, *key = NULL;
    PL_TRY(read_text_file(o->tls_cert, "TLS certificate", &cert, err));
    pl_status st = read_text_file(o->tls_key, "TLS key", &key, err);
    if (st) {
        pl_free(cert);
        return st;
    }
    grpc_ssl_pem_key_cert_pair pair = {key, cert};
    *out = grpc_ssl_server_credentials_create(NULL, &pair, 1, 0, NULL);
    memset(key, 0, strlen(key));
    pl_free(cert);
    pl_free(key);
    if (!*out) PL_FAIL(err, PL_ERR_INVALID_ARG, "gRPC refused the TLS certificate or key");
    return PL_OK;
}

static void server_destroy(pl_server *s);

/* ReleaseSharedMemory (service.c) calls this. */
static bool shm_release(void *user, const char *owner, const char *lease_id, int64_t client_pid,
                        bool unmapped) {
    pl_server *s = user;
    bool found = pl_srv_shm_release_ex(s->srv, owner, lease_id, client_pid, unmapped);
    if (found && unmapped) { /* a lent lease to look at: the sweep's check, now */
        pthread_mutex_lock(&s->smu);
        s->shm_kick = true;
        pthread_cond_broadcast(&s->scv);
        pthread_mutex_unlock(&s->smu);
    }
    return found;
}

static int64_t shm_trim(void *user, int64_t want) { return pl_srv_shm_pool_trim(user, want); }

/* gRPC core's own log lines (what GRPC_VERBOSITY and GRPC_TRACE let through) as polaroid's log
 * lines, so that --log-format json gives JSON lines only: source "grpc", file and line. */
static void grpc_log_line(gpr_log_func_args *a) {
    pl_log_level level = a->severity == GPR_LOG_SEVERITY_ERROR  ? PL_LOG_ERROR
                         : a->severity == GPR_LOG_SEVERITY_INFO ? PL_LOG_INFO
                                                                : PL_LOG_DEBUG;
    pl_log_field f[3] = {PL_LOG_S("source", "grpc"), PL_LOG_S("file", a->file),
                         PL_LOG_I("line", a->line)};
    pl_log_kv(level, NULL, f, a->file ? 3 : 1, a->message ? a->message : "");
}

pl_status pl_server_start(const pl_server_opts *o, pl_server **out, pl_error *err) {
    if (!o->listen || !o->listen[0]) PL_FAIL(err, PL_ERR_INVALID_ARG, "no address to listen on");
    if (!o->token_file && !loopback_listen(o->listen)) {
        pl_error_set(err, PL_ERR_INVALID_ARG,
                     "refusing to listen on \"%s\" without --token-file: only loopback "
                     "addresses and unix sockets may go without authentication",
                     o->listen);
        if (err) snprintf(err->hint, sizeof err->hint, "pass --token-file FILE (one token per "
                          "line), or listen on 127.0.0.1");
        return PL_ERR_INVALID_ARG;
    }
    pl_server *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory starting the server");
    s->o = *o;
    s->o.listen = NULL;
    pthread_mutex_init(&s->qmu, NULL);
    pthread_cond_init(&s->qcv, NULL);
    pthread_mutex_init(&s->smu, NULL);
    pthread_cond_init(&s->scv, NULL);
    pthread_mutex_init(&s->wmu, NULL);
    s->t_shutdown = (ttag){TAG_SHUTDOWN, NULL};
    s->id_seed = (uint32_t)getpid() * 2654435761u ^ (uint32_t)pl_now_ns();
    pl_status st = PL_OK;
    if (o->token_file) st = load_tokens(s, o->token_file, err);
    grpc_server_credentials *creds = NULL;
    if (!st) st = make_credentials(o, &creds, err);
    if (!st) st = pl_srv_new(&o->srv, &s->srv, err);
    if (st) {
        if (creds) grpc_server_credentials_release(creds);
        server_destroy(s);
        return st;
    }
    pl_srv_set_shm_release(s->srv, shm_release, s);
    pl_srv_set_shm_trim(s->srv, shm_trim, s->srv);
    const pl_srv_config *cfg = pl_srv_get_config(s->srv);
    if (!(s->data_root = pl_strdup(cfg->data_root ? cfg->data_root : "."))) {
        grpc_server_credentials_release(creds);
        server_destroy(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory starting the server");
    }

    gpr_set_log_function(grpc_log_line); /* gRPC's own lines in --log-format too */
    grpc_init();
    s->grpc_inited = true;
    int64_t max_msg = cfg->max_message_bytes > 0 ? cfg->max_message_bytes : 64 << 20;
    if (max_msg > INT32_MAX) max_msg = INT32_MAX;
    grpc_arg args[6];
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)max_msg;
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[1].value.integer = (int)max_msg;
    args[2].type = GRPC_ARG_INTEGER; /* a second server on the same port must fail */
    args[2].key = (char *)GRPC_ARG_ALLOW_REUSEPORT;
    args[2].value.integer = 0;
    args[3].type = GRPC_ARG_INTEGER; /* calls at once per connection (more wait client-side) */
    args[3].key = (char *)GRPC_ARG_MAX_CONCURRENT_STREAMS;
    args[3].value.integer = TR_MAX_STREAMS_PER_CONNECTION;
    args[4].type = GRPC_ARG_INTEGER; /* find dead peers, so their queries are cancelled */
    args[4].key = (char *)GRPC_ARG_KEEPALIVE_TIME_MS;
    args[4].value.integer = TR_KEEPALIVE_MS;
    args[5].type = GRPC_ARG_INTEGER;
    args[5].key = (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
    args[5].value.integer = TR_KEEPALIVE_TIMEOUT_MS;
    grpc_channel_args cargs = {6, args};
    s->server = grpc_server_create(&cargs, NULL);

    int n_cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    /* one network thread per 4 cores: gRPC's epoll1 poller lets one thread poll at a time and
     * hands the poller role to another queue's thread on every wake-up, so each extra thread
     * costs switches (2 threads on 2 cores: ~5 more per call at low load, 45 -> 115 us of
     * server CPU per point query at 1 caller, 36 -> 45 at 500) */
    s->n_cq = o->network_threads > 0 ? o->network_threads : (n_cores > 0 ? (n_cores + 3) / 4 : 1);
    s->cqs = pl_calloc((size_t)s->n_cq, sizeof *s->cqs);
    s->n_runners = cfg->max_concurrent_queries > 0 ? cfg->max_concurrent_queries
                                                   : 2 * (cfg->threads > 0 ? cfg->threads
                                                                           : (n_cores > 0 ? n_cores : 1));
    s->max_parked = o->max_parked_calls > 0 ? o->max_parked_calls
                    : o->max_parked_calls < 0 ? 0
                                              : TR_MAX_PARKED;
    s->inline_rows = o->inline_query_rows > 0   ? o->inline_query_rows
                     : o->inline_query_rows < 0 ? 0
                                                : TR_INLINE_ROWS;
    s->qcap = cfg->max_queued_queries > 0 ? cfg->max_queued_queries : TR_DEFAULT_QUEUE;
    s->ring = pl_calloc((size_t)s->qcap, sizeof(tcall *));
    s->runners = pl_calloc((size_t)s->n_runners, sizeof(pthread_t));
    if (!s->cqs || !s->ring || !s->runners) {
        grpc_server_credentials_release(creds);
        server_destroy(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory starting the server");
    }
    for (int m = 0; m < PL_SRV_N_METHODS; m++) {
        pl_srv_kind kind = pl_srv_method_kind((pl_srv_method)m);
        s->reg[m] = grpc_server_register_method(
            s->server, pl_srv_method_path((pl_srv_method)m), NULL,
            kind == PL_SRV_BIDI_STREAM ? GRPC_SRM_PAYLOAD_NONE
                                       : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
            0);
    }
    for (int i = 0; i < s->n_cq; i++) {
        s->cqs[i].s = s;
        s->cqs[i].cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(s->server, s->cqs[i].cq, NULL);
    }
    int port = grpc_server_add_http2_port(s->server, o->listen, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        server_destroy(s);
        pl_error_set(err, PL_ERR_IO, "cannot listen on \"%s\"", o->listen);
        if (err) snprintf(err->hint, sizeof err->hint, "is the address in use, or not local?");
        return PL_ERR_IO;
    }
    bool unix_sock = !strncmp(o->listen, "unix:", 5) || !strncmp(o->listen, "unix-abstract:", 14);
    s->port = unix_sock ? 0 : port;
    if (unix_sock) {
        snprintf(s->address, sizeof s->address, "%s", o->listen);
    } else {
        const char *colon = strrchr(o->listen, ':');
        int hn = colon ? (int)(colon - o->listen) : (int)strlen(o->listen);
        snprintf(s->address, sizeof s->address, "%.*s:%d", hn, o->listen, port);
    }
    grpc_server_start(s->server);
    for (int i = 0; i < s->n_cq; i++) {
        for (int m = 0; m < PL_SRV_N_METHODS; m++)
            for (int k = 0; k < armed_count(m); k++) arm(&s->cqs[i], m);
        arm(&s->cqs[i], TR_UNKNOWN_METHOD);
    }
    bool threads_ok = true;
    for (int i = 0; i < s->n_cq && threads_ok; i++) {
        threads_ok = pthread_create(&s->cqs[i].th, NULL, cq_main, &s->cqs[i]) == 0;
        s->cqs[i].th_started = threads_ok;
    }
    for (int i = 0; i < s->n_runners && threads_ok; i++) {
        threads_ok = pthread_create(&s->runners[i], NULL, runner_main, s) == 0;
        if (threads_ok) s->n_runners_started++;
    }
    if (threads_ok) {
        threads_ok = pthread_create(&s->hk, NULL, hk_main, s) == 0;
        s->hk_started = threads_ok;
    }
    if (!threads_ok) {
        pl_server_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "cannot start the server's threads");
    }
    *out = s;
    return PL_OK;
}

int pl_server_port(const pl_server *s) { return s->port; }
const char *pl_server_address(const pl_server *s) { return s->address; }
pl_srv *pl_server_service(pl_server *s) { return s->srv; }

void pl_server_get_stats(pl_server *s, pl_server_stats *out) {
    pthread_mutex_lock(&s->qmu);
    out->queued = s->qlen;
    out->parked = s->n_parked;
    pthread_mutex_unlock(&s->qmu);
    out->running = atomic_load(&s->running);
    out->open_calls = atomic_load(&s->open_calls);
    out->calls_total = atomic_load(&s->calls_total);
}

/* ---------------------------------------------------------------- shutdown */

/* Waits for the shutdown tag (at most grace_ms; < 0 = no limit); true once it came. */
static bool wait_notified(pl_server *s, int64_t grace_ms) {
    pthread_mutex_lock(&s->smu);
    if (grace_ms >= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (grace_ms % 1000) * 1000000;
        ts.tv_sec += grace_ms / 1000 + ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        while (!s->notified)
            if (pthread_cond_timedwait(&s->scv, &s->smu, &ts) == ETIMEDOUT) break;
    } else {
        while (!s->notified) pthread_cond_wait(&s->scv, &s->smu);
    }
    bool notified = s->notified;
    pthread_mutex_unlock(&s->smu);
    return notified;
}

/* Frees what start made (threads already joined, the gRPC server destroyed or never
 * started). */
static void server_destroy(pl_server *s) {
    if (s->server) grpc_server_destroy(s->server);
    for (int i = 0; s->cqs && i < s->n_cq; i++) {
        if (s->cqs[i].cq) grpc_completion_queue_destroy(s->cqs[i].cq);
        free_list_destroy(&s->cqs[i]);
    }
    if (s->grpc_inited) grpc_shutdown_blocking();
    if (s->srv) {
        pl_srv_shm_sweep(s->srv, 0, true);
        pl_srv_free(s->srv);
    }
    for (int i = 0; i < s->n_tokens; i++) {
        memset(s->tokens[i], 0, strlen(s->tokens[i]));
        pl_free(s->tokens[i]);
    }
    pl_free(s->tokens);
    pl_free(s->cqs);
    pl_free(s->ring);
    pl_free(s->runners);
    pl_free(s->data_root);
    pthread_mutex_destroy(&s->qmu);
    pthread_cond_destroy(&s->qcv);
    pthread_mutex_destroy(&s->smu);
    pthread_cond_destroy(&s->scv);
    pthread_mutex_destroy(&s->wmu);
    pl_free(s);
}

void pl_server_shutdown(pl_server *s) {
    pthread_mutex_lock(&s->smu);
    if (s->shutdown_started) {
        while (!s->shutdown_done) pthread_cond_wait(&s->scv, &s->smu);
        pthread_mutex_unlock(&s->smu);
        return;
    }
    s->shutdown_started = true;
    pthread_mutex_unlock(&s->smu);

    atomic_store(&s->shutting_down, 1);
    pl_srv_set_serving(s->srv, false);
    health_watchers_close(s);
    pl_srv_shm_wake_all(s->srv); /* calls waiting for a release end now */
    int64_t grace_ms = s->o.shutdown_grace_ms > 0 ? s->o.shutdown_grace_ms : 0;
    int64_t grace_end = pl_now_ns() + grace_ms * 1000000LL;
    /* Drain before telling gRPC: once gRPC's server shuts down, each connection closes as soon
     * as its last stream has ended, while its client may still be reading that stream's tail;
     * the client's flow-control frames then hit a closed socket, and the reset the kernel
     * answers with discards what the client had not read. So: wait for the calls to end (new
     * ones are refused with UNAVAILABLE), then linger, then shut gRPC down. */
    while (atomic_load(&s->open_calls) > 0 && pl_now_ns() < grace_end) {
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    bool drained = atomic_load(&s->open_calls) == 0;
    if (drained) { /* the clients of recently ended calls read their tails meanwhile */
        int64_t now = pl_now_ns();
        int64_t linger_end = atomic_load(&s->last_call_end_ns) + TR_SHUTDOWN_LINGER_MS * 1000000LL;
        if (linger_end > grace_end) linger_end = grace_end;
        if (linger_end > now) {
            struct timespec ts = {(linger_end - now) / 1000000000LL, (linger_end - now) % 1000000000LL};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        }
    }
    atomic_store(&s->grpc_closing, 1);
    grpc_server_shutdown_and_notify(s->server, s->cqs[0].cq, &s->t_shutdown);
    int64_t left_ms = (grace_end - pl_now_ns()) / 1000000;
    bool cancelled = false;
    if (!drained || !wait_notified(s, left_ms > 100 ? left_ms : 100)) {
        grpc_server_cancel_all_calls(s->server);
        cancelled = true;
        wait_notified(s, -1);
    }
    /* gRPC's tag says that its connections are gone, not that our side of each call is over:
     * the last events of a cancelled call (its close, the end of a send, which starts the
     * next queued one) may still be queued, a runner may still be about to send a status, a
     * parked call woken by its close goes back to a runner. Each of these starts a batch, and
     * a batch started on a completion queue that is shut down is an assertion failure in
     * gRPC (call.cc: grpc_cq_begin_op). So the runners, the housekeeper and the queues stay
     * up until every call ended (open_calls) and every tag handed to gRPC came back (the
     * armed requests, which gRPC fails at shutdown, and each call's batches). */
    bool all_cq_threads = true;
    for (int i = 0; i < s->n_cq; i++) all_cq_threads = all_cq_threads && s->cqs[i].th_started;
    while (all_cq_threads && (atomic_load(&s->open_calls) > 0 || atomic_load(&s->tags_out) > 0)) {
        if (!cancelled && pl_now_ns() >= grace_end) { /* a call that came late and lingers */
            grpc_server_cancel_all_calls(s->server);
            cancelled = true;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    /* every call has ended: stop the runners and the housekeeper, drain the queues */
    pthread_mutex_lock(&s->qmu);
    s->qstop = true;
    pthread_cond_broadcast(&s->qcv);
    pthread_mutex_unlock(&s->qmu);
    for (int i = 0; i < s->n_runners_started; i++) pthread_join(s->runners[i], NULL);
    s->n_runners_started = 0;
    pthread_mutex_lock(&s->smu);
    s->hk_stop = true;
    pthread_cond_broadcast(&s->scv);
    pthread_mutex_unlock(&s->smu);
    if (s->hk_started) pthread_join(s->hk, NULL);
    s->hk_started = false;
    grpc_server_destroy(s->server);
    s->server = NULL;
    for (int i = 0; i < s->n_cq; i++) grpc_completion_queue_shutdown(s->cqs[i].cq);
    for (int i = 0; i < s->n_cq; i++)
        if (s->cqs[i].th_started) pthread_join(s->cqs[i].th, NULL);
    for (int i = 0; i < s->n_cq; i++) s->cqs[i].th_started = false;

    pthread_mutex_lock(&s->smu);
    s->shutdown_done = true;
    pthread_cond_broadcast(&s->scv);
    pthread_mutex_unlock(&s->smu);
}

void pl_server_wait(pl_server *s) {
    pthread_mutex_lock(&s->smu);
    while (!s->shutdown_done) pthread_cond_wait(&s->scv, &s->smu);
    pthread_mutex_unlock(&s->smu);
}

void pl_server_free(pl_server *s) {
    if (!s) return;
    if (s->server) pl_server_shutdown(s);
    server_destroy(s);
}
