/* exec_weak.c - TEMPORARY weak stand-ins for the query context functions of exec.h
 * (pl_exec_ctx_init, pl_exec_check, pl_exec_charge, pl_exec_parallel, pl_exec_max_workers) so
 * the aggregation sink links and tests run before src/exec/ctx.c lands. The real (strong)
 * definitions replace these at link time; delete this file once ctx.c is on main. */
#include "exec/exec.h"

__attribute__((weak)) void pl_exec_ctx_init(pl_exec_ctx *ctx, const pl_exec_opts *opts) {
    memset(ctx, 0, sizeof *ctx);
    if (opts) ctx->opts = *opts;
    int32_t pool = pl_pool_threads();
    ctx->n_threads = ctx->opts.n_threads > 0 ? PL_MIN(ctx->opts.n_threads, pool) : pool;
}

__attribute__((weak)) pl_status pl_exec_check(pl_exec_ctx *ctx, pl_error *err) {
    if (__atomic_load_n(&ctx->failed, __ATOMIC_RELAXED)) return PL_ERR_CANCELLED;
    if (ctx->opts.cancel && __atomic_load_n(ctx->opts.cancel, __ATOMIC_RELAXED))
        PL_FAIL(err, PL_ERR_CANCELLED, "query cancelled");
    return PL_OK;
}

__attribute__((weak)) pl_status pl_exec_charge(pl_exec_ctx *ctx, int64_t bytes, pl_error *err) {
    int64_t total = __atomic_add_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
    if (bytes > 0 && ctx->opts.memory_limit > 0 && total > ctx->opts.memory_limit) {
        __atomic_sub_fetch(&ctx->mem_used, bytes, __ATOMIC_RELAXED);
        PL_FAIL(err, PL_ERR_NOMEM, "query memory limit of %lld bytes exceeded",
                (long long)ctx->opts.memory_limit);
    }
    return PL_OK;
}

__attribute__((weak)) int32_t pl_exec_max_workers(void) { return pl_pool_max_workers(); }

typedef struct weak_job {
    pl_exec_ctx *ctx;
    pl_exec_task_fn fn;
    void *arg;
    int failed;
    pl_error err;
} weak_job;

static void weak_task(void *arg, int64_t i, int32_t worker) {
    weak_job *j = arg;
    if (__atomic_load_n(&j->failed, __ATOMIC_RELAXED)) return;
    pl_error e;
    pl_error_init(&e);
    pl_status st = j->fn(j->arg, i, worker, &e);
    if (st) {
        int expected = 0;
        if (__atomic_compare_exchange_n(&j->failed, &expected, 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            e.code = st;
            j->err = e;
        }
    }
}

__attribute__((weak)) pl_status pl_exec_parallel(pl_exec_ctx *ctx, int64_t n, pl_exec_task_fn fn,
                                                 void *arg, pl_error *err) {
    weak_job j = {ctx, fn, arg, 0, {0}};
    pl_parallel_for(n, ctx->n_threads, weak_task, &j);
    if (j.failed) {
        if (err) *err = j.err;
        return j.err.code;
    }
    return PL_OK;
}
