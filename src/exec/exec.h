/* exec.h - the executor: query context, pipelines of streaming operators ending in sinks, and
 * the constructors of the physical operators.
 *
 * Model (morsel-driven, pull at the top): a pipeline is a source stream (a scan, an in-memory
 * table, or the output of a pipeline breaker) followed by streaming operators (filter,
 * project, join probe, ...). The driver pulls one batch from the source, cuts it into morsels
 * (PL_MORSEL_ROWS rows) and runs every morsel through the operators on the worker pool, then
 * hands the results to the pipeline's sink (aggregation, join build, sort, window, collect)
 * or, at the top of the plan, returns them from a pl_stream in order. Sinks keep per-worker
 * state (worker ids are unique among running tasks) and merge it in finish(), in parallel.
 * Cancellation and the deadline are checked at every morsel; memory held by sinks is charged
 * to the query's account (pl_exec_charge).
 *
 * Operators never take a lock on the hot path; ordering is kept by the sequence numbers the
 * driver gives each morsel (seq), so results are deterministic for a given input. */
#ifndef PL_EXEC_H
#define PL_EXEC_H

#include "compute/compute.h"
#include "expr/expr_int.h"
#include "polaroid/dataframe.h"

#define PL_MORSEL_ROWS 65536

/* ---------------------------------------------------------------- query context */

typedef struct pl_exec_ctx {
    pl_exec_opts opts;
    int32_t n_threads;
    int64_t mem_used;  /* atomic: bytes charged now */
    int64_t mem_peak;  /* atomic */
    int failed;        /* atomic: set once any task failed; others stop early */
    pl_eval_ctx eval;  /* now() etc. for expression kernels */
    /* EXPLAIN ANALYZE: the plan's statistics point at operators' counters, so a join keeps its
     * finished build pipeline until the query ends instead of freeing it once built */
    bool keep_finished_ops;
} pl_exec_ctx;

void pl_exec_ctx_init(pl_exec_ctx *ctx, const pl_exec_opts *opts);
/* PL_ERR_CANCELLED when the cancel flag is set or the deadline passed, or when another task
 * of the query failed (err then untouched: the first error is reported). */
pl_status pl_exec_check(pl_exec_ctx *ctx, pl_error *err);
/* Charges (bytes > 0) or releases (bytes < 0) memory. Errors: PL_ERR_NOMEM "query memory
 * limit of N bytes exceeded", or what mem_hook returned. */
pl_status pl_exec_charge(pl_exec_ctx *ctx, int64_t bytes, pl_error *err);

/* Runs fn(arg, i, worker, err) for i in [0, n) on the pool (at most ctx->n_threads at once);
 * the first error stops the remaining tasks and is returned in err. */
typedef pl_status (*pl_exec_task_fn)(void *arg, int64_t i, int32_t worker, pl_error *err);
pl_status pl_exec_parallel(pl_exec_ctx *ctx, int64_t n, pl_exec_task_fn fn, void *arg,
                           pl_error *err);
/* Worker ids passed to tasks are < this (size per-worker state arrays with it). */
int32_t pl_exec_max_workers(void);

/* ---------------------------------------------------------------- operators and sinks */

typedef struct pl_op pl_op;
struct pl_op {
    const char *name;   /* for EXPLAIN ANALYZE ("filter", "hash join probe") */
    pl_schema *schema;  /* output schema, owned reference */
    /* Once, single-threaded, before the first batch (e.g. a join builds its hash table). */
    pl_status (*prepare)(pl_op *op, pl_exec_ctx *ctx, pl_error *err);
    /* One morsel: *out = the result (a new reference) or NULL for no rows. Called
     * concurrently from several workers. */
    pl_status (*process)(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                         pl_batch **out, pl_error *err);
    /* After the last morsel: extra rows (unmatched build rows of a right/full join), pushed
     * through the operators after this one; *out NULL = none. May be NULL. */
    pl_status (*flush)(pl_op *op, pl_exec_ctx *ctx, pl_batch **out, pl_error *err);
    void (*free)(pl_op *op);
    void *impl;
    int64_t rows_out; /* atomic, for EXPLAIN ANALYZE */
    int64_t time_ns;  /* atomic */
};
void pl_op_free(pl_op *op);

typedef struct pl_sink pl_sink;
struct pl_sink {
    const char *name;
    /* One morsel; seq orders morsels as the source produced them. Concurrent. */
    pl_status (*consume)(pl_sink *s, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                         pl_batch *in, pl_error *err);
    /* After the last morsel: the result as a stream (owned by the caller). Single call. */
    pl_status (*finish)(pl_sink *s, pl_exec_ctx *ctx, pl_stream **out, pl_error *err);
    void (*free)(pl_sink *s);
    void *impl;
    int64_t rows_out; /* for EXPLAIN ANALYZE (set by finish) */
    int64_t time_ns;
};
void pl_sink_free(pl_sink *s);

/* ---------------------------------------------------------------- pipelines */

typedef struct pl_pipeline {
    pl_stream *source; /* owned */
    int32_t n_ops;
    pl_op **ops; /* owned */
} pl_pipeline;

pl_status pl_pipeline_new(pl_stream *source, pl_pipeline **out, pl_error *err); /* takes source */
pl_status pl_pipeline_add_op(pl_pipeline *p, pl_op *op, pl_error *err);         /* takes op */
pl_schema *pl_pipeline_schema(pl_pipeline *p); /* of the last op, or the source */
void pl_pipeline_free(pl_pipeline *p);
/* Drives the pipeline to its end into sink (consume only; the caller calls finish). */
pl_status pl_pipeline_run(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink, pl_error *err);
/* The pipeline's output as an ordered stream (takes p). */
pl_status pl_pipeline_stream(pl_exec_ctx *ctx, pl_pipeline *p, pl_stream **out, pl_error *err);
/* A stream whose first next() runs p into sink, then returns sink's finish() output, whose
 * schema is `schema` (retained). Takes p and sink. */
pl_status pl_breaker_stream(pl_exec_ctx *ctx, pl_pipeline *p, pl_sink *sink, pl_schema *schema,
                            pl_stream **out, pl_error *err);

/* ---------------------------------------------------------------- simple operators (ops.c) */

/* Rows where pred (bound over the input) is TRUE. Takes pred. */
pl_status pl_filter_op_new(pl_exec_ctx *ctx, pl_schema *in, pl_bexpr *pred, pl_op **out,
                           pl_error *err);
/* Evaluates exprs into a batch of schema `out_schema` (retained). Takes exprs and the array. */
pl_status pl_project_op_new(pl_exec_ctx *ctx, pl_schema *out_schema, int32_t n, pl_bexpr **exprs,
                            pl_op **out, pl_error *err);
/* One row per list element (unnest.c): out_schema (retained) is the input's columns, then one
 * element column per list expression (bound over the input); lists are zipped, shorter ones
 * padded with NULL, rows whose lists are all NULL or empty dropped. Takes exprs and the array. */
pl_status pl_unnest_op_new(pl_exec_ctx *ctx, pl_schema *out_schema, int32_t n, pl_bexpr **exprs,
                           pl_op **out, pl_error *err);
/* Collects every batch in seq order; finish streams them. */
pl_status pl_collect_sink_new(pl_exec_ctx *ctx, pl_schema *schema, pl_sink **out, pl_error *err);

/* ---------------------------------------------------------------- hash aggregation (agg/) */

/* One aggregate over pre-projected input columns. The planner evaluates key and argument
 * expressions into columns first (a project op), so specs refer to columns only. */
typedef struct pl_agg_spec {
    const char *name;     /* canonical aggregate name (pl_agg_lookup) */
    int32_t n_args;
    int32_t args[4];      /* input column per argument, or -1 for a constant argument */
    pl_value consts[4];   /* constant arguments (string_agg separator, quantile fraction) */
    bool distinct;
    int32_t filter_col;   /* BOOL column: only TRUE rows count; -1 = none */
    int32_t n_order;      /* ORDER BY within the aggregate / WITHIN GROUP */
    int32_t order_cols[4];
    bool order_desc[4];
    bool order_nulls_first[4];
    pl_type *result_type; /* as pl_agg_bind gave; borrowed */
} pl_agg_spec;

/* Whether name (case-insensitive, aliases included) is an aggregate function. */
bool pl_agg_exists(const char *name);
/* The canonical name for name or an alias ("stddev" -> "stddev_samp"), or NULL. */
const char *pl_agg_canonical(const char *name);
/* Result type of an aggregate given its argument types (constants: their literal types);
 * new reference. Errors: TYPE ("no aggregate sum(utf8)"), SQL (bad constant argument). */
pl_status pl_agg_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                      const pl_value *const *consts, bool distinct, pl_type **out_type,
                      pl_error *err);
/* Groups by key columns, computes the aggregates. Output: keys then one column per spec, with
 * exactly the types of out_schema (retained): for a DICTIONARY key column the planner asks for
 * the dictionary's value type (decode the key values on output). n_keys 0: exactly one output row. Specs are
 * copied. */
pl_status pl_agg_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *keys,
                          int32_t n_aggs, const pl_agg_spec *aggs, pl_schema *out_schema,
                          pl_sink **out, pl_error *err);
/* Tests: the number of groups at which a worker's hash table splits into partition tables
 * (0 restores the default); returns the previous value. Not for use while queries run. */
int64_t pl_agg_set_split_groups(int64_t n);
/* Tests: how many of the 32 tag bits the first pass of the two-pass string-key probe compares
 * (agg/table.c; fewer bits make false matches its second pass must catch; out of 0..32: 32);
 * returns the previous value. Not for use while queries run. */
int32_t pl_agg_set_probe_tag_bits(int32_t bits);

/* A conservative pre-filter for "rank() or row_number() OVER (PARTITION BY part_cols ORDER BY
 * order_col) <= k" (agg/topk_filter.c): drops rows that have k rows strictly before them in
 * their partition, keeps every row whose rank could be <= k. Placed before the window sink; the
 * window and the filter still run. part_cols: 1..8 columns, not dictionaries; order_col: a type
 * pl_topk_filter_supports accepts; 1 <= k <= 64. */
bool pl_topk_filter_supports(const pl_type *order_type);
pl_status pl_topk_filter_op_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_part,
                                const int32_t *part_cols, int32_t order_col, bool descending,
                                int32_t k, pl_op **out, pl_error *err);

/* ---------------------------------------------------------------- hash join (join/) */

typedef enum pl_join_kind {
    PL_JK_INNER = 0,
    PL_JK_PROBE_OUTER, /* every probe row, NULLs for build columns without a match */
    PL_JK_BUILD_OUTER, /* every build row (unmatched ones flushed at the end) */
    PL_JK_FULL,
    PL_JK_SEMI,        /* probe rows with a match (probe columns only) */
    PL_JK_ANTI,        /* probe rows without a match */
    PL_JK_BUILD_SEMI,  /* build rows with a match (build columns only, flushed at the end) */
    PL_JK_BUILD_ANTI,  /* build rows without a match (build columns only, flushed at the end) */
} pl_join_kind;

typedef struct pl_join_spec {
    pl_join_kind kind;
    int32_t n_keys; /* 0 = every pair matches (cross / nested loop with residual) */
    const int32_t *probe_keys;
    const int32_t *build_keys; /* same types as the probe keys (the planner casts) */
    bool null_equal;
    /* [n_keys]: per key, whether NULL matches NULL (IS NOT DISTINCT FROM); NULL = null_equal
     * for every key. Copied. */
    const bool *key_null_equal;
    /* Over probe columns then build columns (input schemas); NULL = none. Taken. */
    pl_bexpr *residual;
    /* Output: these probe columns then these build columns. */
    int32_t n_probe_out;
    const int32_t *probe_out;
    int32_t n_build_out;
    const int32_t *build_out;
    pl_schema *out_schema; /* retained */
} pl_join_spec;

/* The probe operator of a hash join. Its prepare() runs the build pipeline (taken) into a
 * hash table; process() probes morsels; flush() emits unmatched build rows (BUILD_OUTER,
 * FULL, BUILD_ANTI) or the matched ones (BUILD_SEMI). Arrays in spec are copied. */
pl_status pl_join_op_new(pl_exec_ctx *ctx, const pl_join_spec *spec, pl_schema *probe_schema,
                         pl_pipeline *build, pl_op **out, pl_error *err);

/* The probe operator of an as-of join (join/asof.c): spec as for pl_join_op_new with kind
 * INNER or PROBE_OUTER, n_keys >= 1 whose last key pair is the inequality `probe key cmp
 * build key` (the others equalities; NULL keys never match), no residual. prepare() runs the
 * build pipeline (taken) and sorts its rows by (equality keys' hash, inequality key, row);
 * process() finds, per probe row, the build row with equal keys whose inequality key is the
 * closest satisfying cmp (ties: the first in build order) by binary search, on several
 * workers at once. Arrays in spec are copied. Errors: INVALID_ARG (bad spec), NOMEM. */
pl_status pl_asof_op_new(pl_exec_ctx *ctx, const pl_join_spec *spec, pl_asof_cmp cmp,
                         pl_schema *probe_schema, pl_pipeline *build, pl_op **out,
                         pl_error *err);
/* Tests: the bits of the equality keys' hashes the as-of join keeps (0: every key in one run,
 * so the probe must skip rows of other keys); returns the previous mask. Not for use while
 * queries run. */
uint64_t pl_asof_set_hash_mask(uint64_t mask);

/* ---------------------------------------------------------------- sort (sort/) */

/* Stable sort of all rows by key columns; with limit >= 0 keeps rows [offset, offset+limit)
 * of the order only (top-N, bounded memory). finish streams the sorted rows. */
pl_status pl_sort_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *cols,
                           const bool *desc, const bool *nulls_first, int64_t offset,
                           int64_t limit, pl_sink **out, pl_error *err);

/* ---------------------------------------------------------------- window (window/) */

typedef struct pl_window_spec {
    const char *name; /* row_number rank dense_rank percent_rank cume_dist ntile lag lead
                       * first_value last_value nth_value, or an aggregate name */
    int32_t n_args;
    int32_t args[3];    /* input columns, -1 = constant */
    pl_value consts[3]; /* constant args (lag offset/default, ntile n, nth_value n) */
    bool distinct;      /* count(DISTINCT x) OVER (...) */
    bool ignore_nulls;
    int32_t filter_col;
    int32_t n_partition;
    int32_t partition_cols[8];
    int32_t n_order;
    int32_t order_cols[8];
    bool order_desc[8];
    bool order_nulls_first[8];
    pl_window_frame frame; /* offsets are values (RANGE: in the order column's type) */
    pl_type *result_type;  /* from pl_window_bind; borrowed */
} pl_window_spec;

bool pl_window_exists(const char *name); /* ranking/navigation functions (not aggregates) */
pl_status pl_window_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                         pl_type **out_type, pl_error *err);
/* Output: the input columns, then one column per spec (out_schema retained). Rows come out
 * in partition, order-key order. */
pl_status pl_window_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_specs,
                             const pl_window_spec *specs, pl_schema *out_schema, pl_sink **out,
                             pl_error *err);

#endif
