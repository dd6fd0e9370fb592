/* ctx.c - the per-query context: cancellation, deadline, memory account, parallel tasks. */
#include <sys/time.h>

#include "exec/exec.h"

void pl_exec_opts_init(pl_exec_opts *o) {
    memset(o, 0, sizeof *o);
    o->optimize = true;
}

void pl_exec_ctx_init(pl_exec_ctx *ctx, const pl_exec_opts *opts) {
    memset(ctx, 0, sizeof *ctx);
    if (opts) ctx->opts = *opts;
    else pl_exec_opts_init(&ctx->opts);
    int32_t pool = pl_pool_threads(); /* one per core, the calling thread included */
    ctx->n_threads = ctx->opts.n_threads > 0 ? PL_MIN(ctx->opts.n_threads, pool) : pool;
    ctx->eval.exec = ctx;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ctx->eval.now_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

pl_status pl_exec_check(pl_exec_ctx *ctx, pl_error *err) {
    if (__atomic_load_n(&ctx->failed, __ATOMIC_RELAXED)) return PL_ERR_CANCELLED;
    if (ctx->opts.cancel && __atomic_load_n(ctx->opts.cancel, __ATOMIC_RELAXED))
        PL_FAIL(err, PL_ERR_CANCELLED, "query cancelled");
    if (ctx->opts.deadline_ns && pl_now_ns() > ctx->opts.deadline_ns)
        PL_FAIL(err, PL_ERR_CANCELLED, "query deadline exceeded");
    return PL_OK;
}

pl_status pl_exec_charge(pl_exec_ctx *ctx, int64_t bytes, pl_error *err) {
    int64_t total = __atomic_add_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
    if (bytes > 0) {
        if (ctx->opts.memory_limit > 0 && total > ctx->opts.memory_limit) {
            __atomic_sub_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
            PL_FAIL(err, PL_ERR_NOMEM, "query memory limit of %lld bytes exceeded (%lld needed)",
                    (long long)ctx->opts.memory_limit, (long long)total);
        }
        int64_t peak = __atomic_load_n(&ctx->mem_peak, __ATOMIC_RELAXED);
        while (total > peak &&
               !__atomic_compare_exchange_n(&ctx->mem_peak, &peak, total, true, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED)) {
        }
    }
    if (ctx->opts.mem_hook) {
        pl_status st = ctx->opts.mem_hook(ctx->opts.mem_user, bytes, total);
        if (st && bytes > 0) {
            __atomic_sub_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
            PL_FAIL(err, st, "memory charge of %lld bytes refused by the query's memory hook",
                    (long long)bytes);
        }
    }
    return PL_OK;
}

int32_t pl_exec_max_workers(void) { return pl_pool_max_workers(); }

typedef struct par_job {
    pl_exec_ctx *ctx;
    pl_exec_task_fn fn;
    void *arg;
    int failed; /* atomic */
    pl_error err;
} par_job;

static void par_task(void *arg, int64_t i, int32_t worker) {
    par_job *j = arg;
    if (__atomic_load_n(&j->failed, __ATOMIC_RELAXED)) return;
    pl_error e;
    pl_error_init(&e);
    pl_status st = pl_exec_check(j->ctx, &e);
    if (!st) st = j->fn(j->arg, i, worker, &e);
    if (st) {
        int expected = 0;
        if (st != PL_ERR_CANCELLED || !__atomic_load_n(&j->ctx->failed, __ATOMIC_RELAXED) ||
            e.msg[0]) {
            if (__atomic_compare_exchange_n(&j->failed, &expected, 1, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED)) {
                if (!e.msg[0]) e.code = st;
                j->err = e;
                j->err.code = st;
            }
        }
        __atomic_store_n(&j->ctx->failed, 1, __ATOMIC_RELAXED);
    }
}

pl_status pl_exec_parallel(pl_exec_ctx *ctx, int64_t n, pl_exec_task_fn fn, void *arg,
                           pl_error *err) {
    if (n <= 0) return PL_OK;
    par_job j = {.ctx = ctx, .fn = fn, .arg = arg};
    pl_error_init(&j.err);
    pl_parallel_for(n, ctx->n_threads, par_task, &j);
    if (j.failed) {
        if (err) *err = j.err;
        return j.err.code ? j.err.code : PL_ERR_INTERNAL;
    }
    return PL_OK;
}
