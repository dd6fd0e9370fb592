/* sink_feed.h - test helpers for the sort, window and aggregate sinks: feeding batches to a
 * sink in morsels of varying size from several pool workers at once (each morsel with its seq),
 * and collecting the result. Header-only: static functions, include once per test file. */
#ifndef PL_TEST_SINK_FEED_H
#define PL_TEST_SINK_FEED_H

#include "exec/exec.h"
#include "polaroid/io.h"
#include "../common/test_util.h"

/* feed_job/feed_exec_task: one morsel per task of pl_exec_parallel (worker ids, first error
 * wins). */
typedef struct feed_job {
    pl_sink *sink;
    pl_exec_ctx *ctx;
    pl_batch **morsels;
} feed_job;

static pl_status feed_exec_task(void *arg, int64_t i, int32_t worker, pl_error *err) {
    feed_job *j = arg;
    return j->sink->consume(j->sink, j->ctx, worker, i, j->morsels[i], err);
}

static uint64_t feed_rng_state = 0x1234567ULL;
static uint64_t feed_rng(void) { return test_xorshift(&feed_rng_state); }

static void test_ctx_init(pl_exec_ctx *ctx, int32_t n_threads) {
    pl_exec_opts o;
    pl_exec_opts_init(&o);
    o.n_threads = n_threads;
    pl_exec_ctx_init(ctx, &o);
}

/* Cuts each of the n_batches batches, in order, into morsels of random sizes up to max_rows
 * (slices, so offsets != 0). Returns the morsels (free with feed_morsels); *n_out their count. */
static pl_batch **cut_morsels(pl_batch *const *batches, int64_t n_batches, int64_t max_rows,
                              int64_t *n_out) {
    pl_error err;
    int64_t cap = 16, n = 0;
    pl_batch **m = malloc(sizeof(pl_batch *) * (size_t)cap);
    for (int64_t bi = 0; bi < n_batches; bi++) {
        pl_batch *b = batches[bi];
        for (int64_t pos = 0; pos < b->n_rows;) {
            int64_t len = 1 + (int64_t)(feed_rng() % (uint64_t)max_rows);
            len = PL_MIN(len, b->n_rows - pos);
            if (n == cap) m = realloc(m, sizeof(pl_batch *) * (size_t)(cap *= 2));
            if (pl_batch_slice(b, pos, len, &m[n], &err)) abort();
            n++;
            pos += len;
        }
    }
    *n_out = n;
    return m;
}

/* Consumes the n morsels m concurrently (seq = index), then releases them and m. */
static pl_status feed_morsels(pl_sink *sink, pl_exec_ctx *ctx, pl_batch **m, int64_t n,
                              pl_error *err) {
    feed_job j = {.sink = sink, .ctx = ctx, .morsels = m};
    pl_status st = pl_exec_parallel(ctx, n, feed_exec_task, &j, err);
    for (int64_t i = 0; i < n; i++) pl_batch_release(m[i]);
    free(m);
    return st;
}

/* Cuts b into morsels (cut_morsels), consumes them concurrently, then finishes. Returns the
 * finish status; *out the collected table. */
static pl_status feed_sink(pl_sink *sink, pl_batch *b, int64_t max_rows, pl_table **out,
                           pl_error *err) {
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    int64_t n;
    pl_batch **m = cut_morsels(&b, 1, max_rows, &n);
    pl_status st = feed_morsels(sink, &ctx, m, n, err);
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
