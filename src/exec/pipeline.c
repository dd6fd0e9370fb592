/* pipeline.c - pipelines: a source stream, streaming operators, a sink (see exec.h).
 *
 * The driver pulls a batch from the source (sources decode in parallel themselves), cuts it
 * into morsels of PL_MORSEL_ROWS rows and runs each morsel through the operators on the
 * worker pool. Morsels get consecutive sequence numbers so sinks and the output stream keep
 * the source order. */
#include <pthread.h>

#include "exec/exec.h"
#include "io/io_int.h"

void pl_op_free(pl_op *op) {
    if (!op) return;
    if (op->free) op->free(op);
}

void pl_sink_free(pl_sink *s) {
    if (s && s->free) s->free(s);
}

pl_status pl_pipeline_new(pl_stream *source, pl_pipeline **out, pl_error *err) {
    pl_pipeline *p = pl_calloc(1, sizeof *p);
    if (!p) {
        pl_stream_free(source);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a pipeline");
    }
    p->source = source;
    *out = p;
    return PL_OK;
}

pl_status pl_pipeline_add_op(pl_pipeline *p, pl_op *op, pl_error *err) {
    pl_op **ops = pl_realloc(p->ops, sizeof *ops * (size_t)(p->n_ops + 1));
    if (!ops) {
        pl_op_free(op);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory adding an operator");
    }
    ops[p->n_ops++] = op;
    p->ops = ops;
    return PL_OK;
}

pl_schema *pl_pipeline_schema(pl_pipeline *p) {
    return p->n_ops ? p->ops[p->n_ops - 1]->schema : p->source->schema;
}

void pl_pipeline_free(pl_pipeline *p) {
    if (!p) return;
    pl_stream_free(p->source);
    for (int32_t i = 0; i < p->n_ops; i++) pl_op_free(p->ops[i]);
    pl_free(p->ops);
    pl_free(p);
}

/* Runs batch `in` (borrowed) through ops[first..n_ops); *out is the result or NULL. */
static pl_status run_ops(pl_exec_ctx *ctx, pl_pipeline *p, int32_t first, int32_t worker,
                         pl_batch *in, pl_batch **out, pl_error *err) {
    pl_batch *cur = pl_batch_retain(in);
    for (int32_t k = first; k < p->n_ops && cur; k++) {
        pl_op *op = p->ops[k];
        pl_batch *next = NULL;
        int64_t t0 = pl_now_ns();
        pl_status st = op->process(op, ctx, worker, cur, &next, err);
        pl_batch_release(cur);
        if (st) return st;
        if (next && next->n_rows == 0) {
            pl_batch_release(next);
            next = NULL;
        }
        __atomic_add_fetch(&op->time_ns, pl_now_ns() - t0, __ATOMIC_RELAXED);
        if (next) __atomic_add_fetch(&op->rows_out, next->n_rows, __ATOMIC_RELAXED);
        cur = next;
    }
    *out = cur;
    return PL_OK;
}

static pl_status prepare_ops(pl_exec_ctx *ctx, pl_pipeline *p, pl_error *err) {
    for (int32_t k = 0; k < p->n_ops; k++) {
        pl_op *op = p->ops[k];
        if (op->prepare) {
            int64_t t0 = pl_now_ns();
            PL_TRY(op->prepare(op, ctx, err));
            op->prepare = NULL; /* once */
            __atomic_add_fetch(&op->time_ns, pl_now_ns() - t0, __ATOMIC_RELAXED);
        }
    }
    return PL_OK;
}

/* One source batch cut into morsels, processed in parallel. Results land in outs[m] (when
 * outs is set) or go to the sink. */
typedef struct morsel_job {
    pl_exec_ctx *ctx;
    pl_pipeline *p;
    pl_batch *batch;
    int64_t n_morsels, seq0;
    pl_sink *sink;
    pl_batch **outs;
} morsel_job;

static pl_status morsel_task(void *arg, int64_t m, int32_t worker, pl_error *err) {
    morsel_job *j = arg;
    pl_batch *in = NULL, *res = NULL;
    int64_t off = m * PL_MORSEL_ROWS;
    int64_t len = PL_MIN((int64_t)PL_MORSEL_ROWS, j->batch->n_rows - off);
    if (j->n_morsels == 1) in = pl_batch_retain(j->batch);
    else PL_TRY(pl_batch_slice(j->batch, off, len, &in, err));
    pl_status st = run_ops(j->ctx, j->p, 0, worker, in, &res, err);
    pl_batch_release(in);
    if (st) return st;
    if (!res) return PL_OK;
    if (j->outs) {
        j->outs[m] = res;
        return PL_OK;
    }
    int64_t t0 = pl_now_ns();
    st = j->sink->consume(j->sink, j->ctx, worker, j->seq0 + m, res, err);
    __atomic_add_fetch(&j->sink->time_ns, pl_now_ns() - t0, __ATOMIC_RELAXED);
    pl_batch_release(res);
    return st;
}

static pl_status run_batch(pl_exec_ctx *ctx, pl_pipeline *p, pl_batch *b, int64_t seq0,
                           pl_sink *sink, pl_batch **outs, int64_t *n_morsels, pl_error *err) {
    int64_t nm = (b->n_rows + PL_MORSEL_ROWS - 1) / PL_MORSEL_ROWS;
    *n_morsels = nm;
    if (nm == 0) return PL_OK;
    morsel_job j = {ctx, p, b, nm, seq0, sink, outs};
    return pl_exec_parallel(ctx, nm, morsel_task, &j, err);
}

/* Flushes ops after the source ended: each flush result goes through the later ops. */
static pl_status flush_ops(pl_exec_ctx *ctx, pl_pipeline *p, int32_t *next_op, pl_batch **out,
                           pl_error *err) {
    *out = NULL;
    while (*next_op < p->n_ops) {
        pl_op *op = p->ops[(*next_op)++];
        if (!op->flush) continue;
        pl_batch *b = NULL;
        PL_TRY(op->flush(op, ctx, &b, err));
        if (!b) continue;
        __atomic_add_fetch(&op->rows_out, b->n_rows, __ATOMIC_RELAXED);
        pl_batch *res = NULL;
        pl_status st = run_ops(ctx, p, *next_op, 0, b, &res, err);
        pl_batch_release(b);
        PL_TRY(st);
        if (res) {
            *out = res;
            return PL_OK;
        }
    }
    return PL_OK;
}

/* Unit-parallel driving (a source that pl_pq_scan_units accepts): as many tasks as threads,
 * each claiming the next unit, decoding it and running its morsels through the operators into
 * the sink on the same thread, so that nothing waits between decoding and consuming and the
 * decoded columns are consumed while still in cache. Unit i's morsels get sequence numbers
 * from seq0[i] on (a unit's morsel count bounded by its rows before the predicate), so sinks
 * see the source order as with the serial driver. */
typedef struct unit_job {
    pl_exec_ctx *ctx;
    pl_pipeline *p;
    pl_sink *sink;
    int64_t n_units;
    const int64_t *seq0;
    int64_t next; /* atomic: the next unit to claim */
} unit_job;

static pl_status unit_task(void *arg, int64_t slot, int32_t worker, pl_error *err) {
    unit_job *j = arg;
    for (;;) {
        PL_TRY(pl_exec_check(j->ctx, err));
        int64_t i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED);
        if (i >= j->n_units) return PL_OK;
        pl_batch *b = NULL;
        PL_TRY(pl_pq_scan_unit(j->p->source, i, (int32_t)slot, worker, &b, err));
        if (!b) continue;
        int64_t nm = (b->n_rows + PL_MORSEL_ROWS - 1) / PL_MORSEL_ROWS;
        morsel_job mj = {j->ctx, j->p, b, nm, j->seq0[i], j->sink, NULL};
        pl_status st = PL_OK;
        for (int64_t m = 0; m < nm && !st; m++) st = morsel_task(&mj, m, worker, err);
        pl_batch_release(b);
        PL_TRY(st);
    }
}

/* *done = false when the source does not read by units (nothing happened then); else runs
 * the whole source into the sink and returns the next sequence number in *seq. */
static pl_status run_units(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink, bool *done,
                           int64_t *seq, pl_error *err) {
    int64_t n = 0;
    int32_t slots = 0;
    *done = false;
    if (!pl_pq_scan_units(p->source, &n, &slots)) return PL_OK;
    int64_t *seq0 = pl_malloc(sizeof *seq0 * (size_t)(n > 0 ? n : 1));
    if (!seq0) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning the scan's units");
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++) {
        seq0[i] = s;
        s += (pl_pq_scan_unit_rows(p->source, i) + PL_MORSEL_ROWS - 1) / PL_MORSEL_ROWS;
    }
    unit_job j = {ctx, p, sink, n, seq0, 0};
    int64_t tasks = PL_MIN((int64_t)ctx->n_threads, PL_MIN(n, (int64_t)slots));
    pl_status st = pl_exec_parallel(ctx, tasks, unit_task, &j, err);
    pl_free(seq0);
    *done = true;
    *seq = s;
    return st;
}

pl_status pl_pipeline_run(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink, pl_error *err) {
    PL_TRY(prepare_ops(ctx, p, err));
    int64_t seq = 0;
    bool by_units = false;
    PL_TRY(run_units(ctx, p, sink, &by_units, &seq, err));
    for (; !by_units;) {
        PL_TRY(pl_exec_check(ctx, err));
        pl_batch *b = NULL;
        PL_TRY(pl_stream_next(p->source, &b, err));
        if (!b) break;
        int64_t nm = 0;
        pl_status st = run_batch(ctx, p, b, seq, sink, NULL, &nm, err);
        pl_batch_release(b);
        PL_TRY(st);
        seq += nm;
    }
    int32_t next_op = 0;
    for (;;) {
        pl_batch *extra = NULL;
        PL_TRY(flush_ops(ctx, p, &next_op, &extra, err));
        if (!extra) break;
        pl_status st = sink->consume(sink, ctx, 0, seq++, extra, err);
        pl_batch_release(extra);
        PL_TRY(st);
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- pipeline as a stream */

typedef struct pipe_stream {
    pl_exec_ctx *ctx;
    pl_pipeline *p;
    pl_batch **queue; /* results of the current source batch, in order */
    int64_t q_len, q_pos, q_cap;
    bool prepared, source_done;
    int32_t flush_op;
    int64_t seq;
} pipe_stream;

static pl_status pipe_next(pl_stream *s, pl_batch **out, pl_error *err) {
    pipe_stream *ps = s->impl;
    *out = NULL;
    if (!ps->prepared) {
        PL_TRY(prepare_ops(ps->ctx, ps->p, err));
        ps->prepared = true;
    }
    for (;;) {
        while (ps->q_pos < ps->q_len) {
            pl_batch *b = ps->queue[ps->q_pos];
            ps->queue[ps->q_pos++] = NULL;
            if (b) {
                *out = b;
                return PL_OK;
            }
        }
        ps->q_len = ps->q_pos = 0;
        PL_TRY(pl_exec_check(ps->ctx, err));
        if (ps->source_done) {
            pl_batch *extra = NULL;
            PL_TRY(flush_ops(ps->ctx, ps->p, &ps->flush_op, &extra, err));
            *out = extra;
            return PL_OK;
        }
        pl_batch *b = NULL;
        PL_TRY(pl_stream_next(ps->p->source, &b, err));
        if (!b) {
            ps->source_done = true;
            continue;
        }
        if (ps->p->n_ops == 0) { /* nothing to run: pass the batch through */
            if (b->n_rows == 0) {
                pl_batch_release(b);
                continue;
            }
            *out = b;
            return PL_OK;
        }
        int64_t nm = (b->n_rows + PL_MORSEL_ROWS - 1) / PL_MORSEL_ROWS;
        if (nm > ps->q_cap) {
            pl_batch **q = pl_realloc(ps->queue, sizeof *q * (size_t)nm);
            if (!q) {
                pl_batch_release(b);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory queueing results");
            }
            ps->queue = q;
            ps->q_cap = nm;
        }
        for (int64_t i = 0; i < nm; i++) ps->queue[i] = NULL;
        int64_t got = 0;
        pl_status st = run_batch(ps->ctx, ps->p, b, ps->seq, NULL, ps->queue, &got, err);
        pl_batch_release(b);
        ps->q_len = nm;
        ps->seq += nm;
        if (st) return st;
    }
}

static void pipe_free(pl_stream *s) {
    pipe_stream *ps = s->impl;
    for (int64_t i = ps->q_pos; i < ps->q_len; i++) pl_batch_release(ps->queue[i]);
    pl_free(ps->queue);
    pl_pipeline_free(ps->p);
    pl_schema_release(s->schema);
    pl_free(ps);
    pl_free(s);
}

pl_status pl_pipeline_stream(pl_exec_ctx *ctx, pl_pipeline *p, pl_stream **out, pl_error *err) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    pipe_stream *ps = pl_calloc(1, sizeof *ps);
    if (!s || !ps) {
        pl_free(s);
        pl_free(ps);
        pl_pipeline_free(p);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a stream");
    }
    ps->ctx = ctx;
    ps->p = p;
    s->impl = ps;
    s->schema = pl_schema_retain(pl_pipeline_schema(p));
    s->next = pipe_next;
    s->free = pipe_free;
    *out = s;
    return PL_OK;
}

/* ---------------------------------------------------------------- breaker stream */

typedef struct breaker_stream {
    pl_exec_ctx *ctx;
    pl_pipeline *p;
    pl_sink *sink;
    pl_stream *result;
} breaker_stream;

static pl_status breaker_next(pl_stream *s, pl_batch **out, pl_error *err) {
    breaker_stream *bs = s->impl;
    *out = NULL;
    if (!bs->result) {
        PL_TRY(pl_pipeline_run(bs->ctx, bs->p, bs->sink, err));
        /* sinks record their output rows and finish time themselves */
        PL_TRY(bs->sink->finish(bs->sink, bs->ctx, &bs->result, err));
        /* the input is no longer needed: free its memory before producing output (unless
         * EXPLAIN ANALYZE reads its operators' counters at the end) */
        if (!bs->ctx->keep_finished_ops) {
            pl_stream_free(bs->p->source);
            bs->p->source = NULL;
        }
    }
    return pl_stream_next(bs->result, out, err);
}

static void breaker_free(pl_stream *s) {
    breaker_stream *bs = s->impl;
    pl_stream_free(bs->result);
    pl_pipeline_free(bs->p);
    pl_sink_free(bs->sink);
    pl_schema_release(s->schema);
    pl_free(bs);
    pl_free(s);
}

pl_status pl_breaker_stream(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink, pl_schema *schema,
                            pl_stream **out, pl_error *err) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    breaker_stream *bs = pl_calloc(1, sizeof *bs);
    if (!s || !bs) {
        pl_free(s);
        pl_free(bs);
        pl_pipeline_free(p);
        pl_sink_free(sink);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a stream");
    }
    bs->ctx = ctx;
    bs->p = p;
    bs->sink = sink;
    s->impl = bs;
    s->schema = pl_schema_retain(schema);
    s->next = breaker_next;
    s->free = breaker_free;
    *out = s;
    return PL_OK;
}
