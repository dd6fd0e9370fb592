/* polaroid/dataframe.h - lazy DataFrames: logical plans built operation by operation, optimized
 * and run by the parallel executor when collected or executed.
 *
 *   pl_df *ticks, *f, *g;
 *   pl_df_scan(1, (const char *[]){"ticks/t*.parquet"}, PL_FORMAT_AUTO, NULL, &ticks, &err);
 *   pl_df_filter(ticks, pred, &f, &err);              // pred = symbol = 'AAPL'
 *   pl_df_aggregate(f, 1, keys, NULL, 2, aggs, names, &g, &err);
 *   pl_df_collect(g, NULL, &table, &err);             // or pl_df_execute: a stream of batches
 *
 * A pl_df is an immutable, refcounted plan node. Operations borrow their pl_df and pl_expr
 * arguments (they take their own references) and return a new pl_df. Column references in
 * expressions are resolved by name against the input's schema when the node is built, so
 * unknown columns, ambiguous names and type errors are reported at once, with the expression's
 * sql_pos when it came from SQL. */
#ifndef POLAROID_DATAFRAME_H
#define POLAROID_DATAFRAME_H

#include "expr.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_df pl_df;

/* ---------------------------------------------------------------- sources */

/* Files of one format (globs allowed). opts: columns/limit are also set by the optimizer;
 * CSV options and decode_dictionary are honoured. Errors: NOT_FOUND, IO, CORRUPT. */
PL_API PL_NODISCARD pl_status pl_df_scan(int32_t n_paths, const char *const *paths,
                                         pl_format format, const pl_read_opts *opts,
                                         pl_df **out, pl_error *err);
/* An in-memory table (retained, never modified). */
PL_API PL_NODISCARD pl_status pl_df_from_table(pl_table *t, pl_df **out, pl_error *err);
/* Generated rows, made batch by batch while the plan runs (SQL range / generate_series): one
 * column `name` (no NULLs) of type `type` with the values start, start + step, start + 2 step,
 * ... while before stop (inclusive: up to and including stop), counting down for a negative
 * step. type is INT64 (step: step_i64) or a TIMESTAMP of any unit (values in its unit; step:
 * step_iv, added to the previous value like timestamp + interval: calendar months with the day
 * clamped to the month's length, then days, then the time part; zoned timestamps only in UTC).
 * No rows when stop is not ahead of start. Errors: INVALID_ARG for a zero step or an interval
 * whose parts have mixed signs; LIMIT when the rows would exceed max_rows (<= 0: the default
 * PL_DF_RANGE_MAX_ROWS). Never overflows: bounds and steps may be any int64 values. */
#define PL_DF_RANGE_MAX_ROWS (1LL << 32)
typedef struct pl_range_spec {
    pl_type *type; /* borrowed */
    int64_t start, stop;
    int64_t step_i64;
    pl_interval step_iv;
    bool inclusive;
    int64_t max_rows;
} pl_range_spec;
PL_API PL_NODISCARD pl_status pl_df_range(const char *name, const pl_range_spec *spec,
                                          pl_df **out, pl_error *err);

/* ---------------------------------------------------------------- operations */

/* Rows where pred is TRUE (NULL and FALSE drop the row). pred must be boolean. */
PL_API PL_NODISCARD pl_status pl_df_filter(pl_df *df, pl_expr *pred, pl_df **out, pl_error *err);
/* Exactly these columns. names[i] NULL (or names NULL) = pl_expr_default_name. */
PL_API PL_NODISCARD pl_status pl_df_select(pl_df *df, int32_t n, pl_expr *const *exprs,
                                           const char *const *names, pl_df **out, pl_error *err);
/* Adds columns, replacing same-named ones in place. */
PL_API PL_NODISCARD pl_status pl_df_with_columns(pl_df *df, int32_t n, pl_expr *const *exprs,
                                                 const char *const *names, pl_df **out,
                                                 pl_error *err);
/* Group by keys and compute aggregates (PL_EXPR_AGG trees, or expressions over them such as
 * sum(a) / count(*)); output columns: the keys, then the aggregates. n_keys 0 = one row.
 * Names as in pl_df_select. */
PL_API PL_NODISCARD pl_status pl_df_aggregate(pl_df *df, int32_t n_keys, pl_expr *const *keys,
                                              const char *const *key_names, int32_t n_aggs,
                                              pl_expr *const *aggs, const char *const *agg_names,
                                              pl_df **out, pl_error *err);

typedef enum pl_join_type {
    PL_JOIN_INNER = 0,
    PL_JOIN_LEFT,
    PL_JOIN_RIGHT,
    PL_JOIN_FULL,
    PL_JOIN_SEMI, /* left rows with a match; left columns only */
    PL_JOIN_ANTI, /* left rows without a match; left columns only */
    PL_JOIN_CROSS,
    /* as-of joins: the last key pair is an inequality (pl_join_opts.asof_cmp), the others
     * equalities; each left row takes the one right row with equal keys whose inequality key
     * is the closest that satisfies it (ties: the first such row in the right input's order) */
    PL_JOIN_ASOF,      /* left rows with such a row */
    PL_JOIN_ASOF_LEFT, /* every left row, NULLs for right columns without one */
} pl_join_type;

/* The inequality of an as-of join: left key OP right key. */
typedef enum pl_asof_cmp {
    PL_ASOF_GE = 0, /* the right row with the largest key <= the left key */
    PL_ASOF_GT,     /* the largest key < the left key */
    PL_ASOF_LE,     /* the smallest key >= the left key */
    PL_ASOF_LT,     /* the smallest key > the left key */
} pl_asof_cmp;

/* Equi-join on left_keys[i] = right_keys[i] (expressions over each side; NULL keys never
 * match unless null_equal), plus an optional residual condition over the joined columns (left
 * columns then right columns). Output: left columns then right columns (SEMI/ANTI: left only).
 * n_keys 0 with a residual is a nested-loop join (or, for CROSS, none at all).
 * ASOF / ASOF_LEFT: n_keys >= 1 (the last pair is the inequality), no residual, keys never
 * NULL-equal; errors: PL_ERR_INVALID_ARG otherwise.
 *
 * Column resolution: every column of a pl_df may carry a qualifier (the table name or alias it
 * came from; see pl_df_alias). A reference with a qualifier matches only columns with that
 * qualifier; an unqualified reference must match exactly one column by name, else the error
 * says the reference is ambiguous. Joined columns keep their sides' qualifiers. */
typedef struct pl_join_opts {
    bool null_equal;       /* keys compare with IS NOT DISTINCT FROM (set operations) */
    pl_expr *residual;     /* borrowed; may be NULL */
    /* [n_keys], borrowed, may be NULL: per key, whether NULL matches NULL (overrides
     * null_equal), for conditions mixing = and IS NOT DISTINCT FROM */
    const bool *key_null_equal;
    pl_asof_cmp asof_cmp; /* PL_JOIN_ASOF[_LEFT]: the last key pair's inequality */
} pl_join_opts;
PL_API PL_NODISCARD pl_status pl_df_join(pl_df *left, pl_df *right, pl_join_type type,
                                         int32_t n_keys, pl_expr *const *left_keys,
                                         pl_expr *const *right_keys, const pl_join_opts *opts,
                                         pl_df **out, pl_error *err);
/* Stable sort on keys (sort_key.expr over the input). */
PL_API PL_NODISCARD pl_status pl_df_sort(pl_df *df, int32_t n_keys, const pl_sort_key *keys,
                                         pl_df **out, pl_error *err);
/* Rows [offset, offset+limit); limit -1 = all. */
PL_API PL_NODISCARD pl_status pl_df_limit(pl_df *df, int64_t offset, int64_t limit, pl_df **out,
                                          pl_error *err);
/* Distinct rows (NULLs equal to each other). */
PL_API PL_NODISCARD pl_status pl_df_distinct(pl_df *df, pl_df **out, pl_error *err);
/* Rows of a then b (columns matched by position, types widened; names from a). all false =
 * distinct rows of the union. */
PL_API PL_NODISCARD pl_status pl_df_union(pl_df *a, pl_df *b, bool all, pl_df **out,
                                          pl_error *err);
/* INTERSECT / EXCEPT [ALL] by position, NULLs equal. */
typedef enum pl_setop { PL_SETOP_INTERSECT = 0, PL_SETOP_EXCEPT } pl_setop;
PL_API PL_NODISCARD pl_status pl_df_setop(pl_df *a, pl_df *b, pl_setop op, bool all,
                                          pl_df **out, pl_error *err);
/* Appends one column per window expression (PL_EXPR_WINDOW). */
/* One row per element of the lists (exprs: list-typed expressions over df): the columns of df
 * repeated, then one column per list with its elements (names[i], or "unnest"). Several lists
 * are zipped: a row of df gives as many rows as its longest list, shorter ones padded with
 * NULL; rows whose lists are all NULL or empty give none (DuckDB's UNNEST). */
PL_API PL_NODISCARD pl_status pl_df_unnest(pl_df *df, int32_t n, pl_expr *const *exprs,
                                           const char *const *names, pl_df **out, pl_error *err);
PL_API PL_NODISCARD pl_status pl_df_window(pl_df *df, int32_t n, pl_expr *const *exprs,
                                           const char *const *names, pl_df **out,
                                           pl_error *err);
/* Renames columns (old -> new); unknown names: NOT_FOUND. */
PL_API PL_NODISCARD pl_status pl_df_rename(pl_df *df, int32_t n, const char *const *old_names,
                                           const char *const *new_names, pl_df **out,
                                           pl_error *err);
/* The same rows with every column's qualifier set to name (SQL "FROM t AS name"); NULL clears
 * qualifiers. */
PL_API PL_NODISCARD pl_status pl_df_alias(pl_df *df, const char *name, pl_df **out,
                                          pl_error *err);
/* Qualifier of column i, or NULL. */
PL_API const char *pl_df_column_qualifier(const pl_df *df, int32_t i);
/* Drops the named columns. */
PL_API PL_NODISCARD pl_status pl_df_drop(pl_df *df, int32_t n, const char *const *names,
                                         pl_df **out, pl_error *err);

PL_API pl_df *pl_df_retain(pl_df *df);
PL_API void pl_df_release(pl_df *df);
/* The output schema (borrowed; lives as long as df). */
PL_API pl_schema *pl_df_schema(const pl_df *df);

/* ---------------------------------------------------------------- running */

/* Per-query options. Zero-initialise or call pl_exec_opts_init. */
typedef struct pl_exec_opts {
    int32_t n_threads; /* 0 = the pool's size */
    /* Cancellation: the query stops with PL_ERR_CANCELLED at the next morsel boundary once
     * *cancel is non-zero (read atomically; the caller owns the flag). NULL = none. */
    const int *cancel;
    int64_t deadline_ns; /* pl_now_ns()-based deadline, 0 = none -> PL_ERR_CANCELLED */
    /* Memory accounting: every large allocation of the query (hash tables, sort buffers,
     * materialised intermediates) is charged; above memory_limit (0 = none) the query fails
     * with PL_ERR_NOMEM naming the limit. mem_hook, when set, sees each charge (delta > 0) and
     * release (delta < 0) with the new total and may refuse a charge by returning an error. */
    int64_t memory_limit;
    pl_status (*mem_hook)(void *user, int64_t delta, int64_t total);
    void *mem_user;
    /* EXPLAIN ANALYZE: per-operator rows and time are recorded into the plan text returned by
     * pl_df_explain_analyze. */
    bool optimize; /* default true; false runs the plan as written (tests) */
} pl_exec_opts;
PL_API void pl_exec_opts_init(pl_exec_opts *o);

/* Optimizes the plan and starts it: batches come out of the stream as the executor produces
 * them (the caller pulls; a slow consumer slows the query). opts may be NULL. The stream holds
 * its own references; free it to cancel. */
PL_API PL_NODISCARD pl_status pl_df_execute(pl_df *df, const pl_exec_opts *opts,
                                            pl_stream **out, pl_error *err);
/* pl_df_execute + pl_stream_collect. */
PL_API PL_NODISCARD pl_status pl_df_collect(pl_df *df, const pl_exec_opts *opts, pl_table **out,
                                            pl_error *err);
/* The plan as indented text (optimized when `optimized`); caller frees with pl_free. */
PL_API PL_NODISCARD pl_status pl_df_explain(pl_df *df, bool optimized, char **out,
                                            pl_error *err);
/* Runs the query (result discarded) and returns the optimized plan annotated with each
 * operator's output rows and time, and the total. Caller frees with pl_free. */
PL_API PL_NODISCARD pl_status pl_df_explain_analyze(pl_df *df, const pl_exec_opts *opts,
                                                    char **out, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
