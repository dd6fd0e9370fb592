/* sink_feed.h - test helpers for the sort and window sinks: feeding a table to a sink in
 * morsels of varying size from several pool workers at once (each morsel with its seq), and
 * collecting the result. Header-only: static functions, include once per test file. */
#ifndef PL_TEST_SINK_FEED_H
#define PL_TEST_SINK_FEED_H

#include <stdatomic.h>

#include "exec/exec.h"
#include "polaroid/io.h"

/* feed_job/feed_task: one morsel per pool task (also used by test_agg.c). */
typedef struct feed_job {
    pl_sink *sink;
    pl_exec_ctx *ctx;
    pl_batch **morsels;
    atomic_int failed;
    pl_error err;
} feed_job;

__attribute__((unused)) static void feed_task(void *arg, int64_t i, int32_t worker) {
    feed_job *j = arg;
    pl_error e;
    memset(&e, 0, sizeof e);
    if (j->sink->consume(j->sink, j->ctx, worker, i, j->morsels[i], &e)) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&j->failed, &expect, 1)) j->err = e;
    }
}

/* The same through the executor's pl_exec_parallel (worker ids, first error wins). */
static pl_status feed_exec_task(void *arg, int64_t i, int32_t worker, pl_error *err) {
    feed_job *j = arg;
    return j->sink->consume(j->sink, j->ctx, worker, i, j->morsels[i], err);
}

static uint64_t feed_rng_state = 0x1234567ULL;
static uint64_t feed_rng(void) {
    feed_rng_state ^= feed_rng_state << 13;
    feed_rng_state ^= feed_rng_state >> 7;
    feed_rng_state ^= feed_rng_state << 17;
    return feed_rng_state;
}

static void test_ctx_init(pl_exec_ctx *ctx, int32_t n_threads) {
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.n_threads = n_threads;
    pl_exec_ctx_init(ctx, &o);
}

/* Cuts b into morsels (random sizes up to max_rows; slices, so offsets != 0), consumes them
 * concurrently, then finishes. Returns the finish status; *out the collected table. */
static pl_status feed_sink(pl_sink *sink, pl_batch *b, int64_t max_rows, pl_table **out,
                           pl_error *err) {
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    int64_t cap = 16, n = 0;
    pl_batch **m = malloc(sizeof(pl_batch *) * (size_t)cap);
    for (int64_t pos = 0; pos < b->n_rows;) {
        int64_t len = 1 + (int64_t)(feed_rng() % (uint64_t)max_rows);
        len = PL_MIN(len, b->n_rows - pos);
        if (n == cap) m = realloc(m, sizeof(pl_batch *) * (size_t)(cap *= 2));
        if (pl_batch_slice(b, pos, len, &m[n], err)) abort();
        n++;
        pos += len;
    }
    feed_job j;
    memset(&j, 0, sizeof j);
    j.sink = sink;
    j.ctx = &ctx;
    j.morsels = m;
    pl_status st = pl_exec_parallel(&ctx, n, feed_exec_task, &j, err);
    for (int64_t i = 0; i < n; i++) pl_batch_release(m[i]);
    free(m);
    if (st) return st;
    pl_stream *s;
    st = sink->finish(sink, &ctx, &s, err);
    if (st) return st;
    st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    if (ctx.mem_used != 0) abort(); /* every charge released */
    return st;
}

#endif
