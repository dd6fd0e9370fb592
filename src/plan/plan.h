/* plan.h - logical plan nodes (the struct behind pl_df), the optimizer and the physical
 * planner.
 *
 * Every node is immutable once built and carries its output schema and per-column qualifiers.
 * Expressions inside a node refer to the columns of the node's input(s) by index (names are
 * resolved when the node is built; JOIN residuals index left columns then right columns), so
 * the optimizer can rewrite plans by remapping indices.
 *
 * df.c        construction (the pl_df_* API), name resolution and output schemas
 * explain.c   plan text (EXPLAIN / EXPLAIN ANALYZE)
 * optimize.c  rewrites: constant folding, predicate and projection pushdown into scans with
 *             row-group pruning, limit pushdown into sorts (top-N) and scans, join build side
 * joinorder.c join ordering of inner join trees by estimated cardinality
 * physical.c  plan -> pipelines of operators (src/exec) and the result stream */
#ifndef PL_PLAN_H
#define PL_PLAN_H

#include "exec/exec.h"

typedef enum pl_plan_kind {
    PL_PLAN_SCAN = 0,
    PL_PLAN_TABLE,
    PL_PLAN_FILTER,
    PL_PLAN_PROJECT,
    PL_PLAN_AGGREGATE,
    PL_PLAN_JOIN,
    PL_PLAN_SORT,
    PL_PLAN_LIMIT,
    PL_PLAN_DISTINCT,
    PL_PLAN_UNION, /* n_inputs >= 2, all = UNION ALL */
    PL_PLAN_SETOP,
    PL_PLAN_WINDOW,
    PL_PLAN_UNNEST, /* exprs: lists over the input; output: the input columns, then the elements */
} pl_plan_kind;

struct pl_df {
    pl_plan_kind kind;
    int64_t refcount;
    pl_schema *schema;  /* output */
    char **qualifiers;  /* per output column (entries may be NULL); array may be NULL */
    int32_t n_inputs;
    pl_df *inputs[2];

    /* SCAN */
    char **paths;
    int32_t n_paths;
    pl_format format;
    pl_read_opts read_opts; /* columns/limit ignored: see below; strings owned in scan_strs */
    char **scan_strs;       /* owned copies of read_opts strings */
    int32_t n_scan_strs;
    pl_schema *file_schema; /* all columns of the files */
    int32_t n_cols;         /* projected file columns (output order); -1 = all */
    int32_t *cols;
    pl_expr *scan_filter;   /* pushed predicate over the output columns, or NULL */
    bool *scan_fonly;       /* per output column: read only for scan_filter, unused above the
                               scan (a scan that evaluates the filter may leave it NULL); NULL
                               when there is none */
    int64_t scan_limit;     /* -1 = none */
    int64_t est_rows;       /* from metadata, -1 unknown */
    /* TABLE */
    pl_table *table;
    char *table_note; /* EXPLAIN text of a table the optimizer made (metacount.c), or NULL */
    /* TABLE with table NULL: rows generated while the plan runs (pl_df_range, sequence.c);
     * range.type is an owned reference, range_rows the row count */
    bool is_range;
    pl_range_spec range;
    int64_t range_rows;
    /* FILTER */
    pl_expr *pred;
    /* PROJECT, WINDOW (appended columns), AGGREGATE (aggregate calls) */
    int32_t n_exprs;
    pl_expr **exprs;
    /* AGGREGATE keys, SORT keys (exprs in sort_keys), JOIN keys */
    int32_t n_keys;
    pl_expr **keys;       /* AGGREGATE keys; JOIN left keys */
    pl_expr **right_keys; /* JOIN */
    pl_sort_key *sort_keys;
    /* JOIN */
    pl_join_type join_type;
    bool null_equal;   /* not read after pl_df_join: key_ne holds each key's flag */
    bool *key_ne;      /* [n_keys] (JOIN, owned): NULL matches NULL on key i */
    pl_expr *residual; /* over left ++ right columns */
    bool build_left;   /* optimizer: build the hash table on the left input */
    pl_asof_cmp asof_cmp; /* ASOF joins: left key OP right key, of the last key pair */
    /* LIMIT, SORT (top-N when limit >= 0) */
    int64_t offset, limit;
    /* UNION / SETOP */
    bool all;
    pl_setop setop;
};

/* Allocates a node of kind with a reference to each input. */
pl_df *pl_plan_node_new(pl_plan_kind kind, int32_t n_inputs, pl_df *const *inputs);
/* Sets scan node d's read options to a copy of o (NULL = defaults) whose arrays (CSV NULL
 * strings and types, JSON columns, row groups) d owns; columns and limit are reset (a scan's
 * projection and limit live in the node). Errors: PL_ERR_NOMEM. */
pl_status pl_plan_copy_read_opts(pl_df *d, const pl_read_opts *o, pl_error *err);
/* Resolves column names in e against the columns of df (and, for joins, a second frame whose
 * columns follow), returning a new tree with every COLUMN's index set. */
pl_status pl_plan_resolve(const pl_expr *e, pl_df *a, pl_df *b, pl_expr **out, pl_error *err);
/* Type of e over schema `in` (binds it). New reference. */
pl_status pl_plan_expr_type(const pl_expr *e, const pl_schema *in, pl_type **out, bool *nullable,
                            pl_error *err);
/* The schema expressions bind against: DICTIONARY fields appear as their value types. */
pl_status pl_plan_logical_schema(const pl_schema *s, pl_schema **out, pl_error *err);
/* Result types of an aggregate call / a window call over schema `in`. */
pl_status pl_plan_agg_type(const pl_expr *agg, const pl_schema *in, pl_type **out, pl_error *err);
pl_status pl_plan_window_type(const pl_expr *w, const pl_schema *in, pl_type **out,
                              pl_error *err);
/* A new expression with every COLUMN index i replaced by map[i] (map[i] < 0 = internal error).
 * NULL when out of memory. */
pl_expr *pl_expr_remap(const pl_expr *e, const int32_t *map);
/* A new expression with every COLUMN node k < n for which subst[k] is not NULL replaced by a
 * copy of subst[k] (other columns keep their index). NULL when out of memory. */
pl_expr *pl_expr_substitute(const pl_expr *e, pl_expr *const *subst, int32_t n);
/* Marks columns used by e in used[] (indices of COLUMN nodes). */
void pl_expr_mark_columns(const pl_expr *e, bool *used, int32_t n_used);
/* True when e is free of aggregates/windows and volatile calls. */
bool pl_expr_is_deterministic(const pl_expr *e);

/* A copy of the plan d whose every node is new (the optimizer edits its copy in place).
 * Errors: PL_ERR_NOMEM. */
pl_status pl_plan_deep_copy(pl_df *d, pl_df **out, pl_error *err);
/* Optimizer: a new, equivalent plan. */
pl_status pl_plan_optimize(pl_df *df, pl_df **out, pl_error *err);
/* Optimizer pass (joinorder.c): reorders each tree of 3 or more inner joins, in place in a
 * plan that it owns (after predicate pushdown, before projection pushdown), to minimise the
 * estimated sizes of the intermediate results; *slot may be replaced. */
pl_status pl_plan_join_order(pl_df **slot, pl_error *err);
/* Optimizer pass (metacount.c): replaces, in place in an optimized plan that it owns, each
 * keyless aggregate of only count(*) over a row-preserving Parquet scan with a one-row table
 * of the footers' row counts. */
pl_status pl_plan_count_from_metadata(pl_df **slot, pl_error *err);

/* The stream of a generated TABLE node (is_range; sequence.c). */
pl_status pl_range_stream(const pl_df *d, pl_stream **out, pl_error *err);
/* Its EXPLAIN text into buf. */
void pl_range_describe(const pl_df *d, char *buf, size_t n);

/* Stats a physical operator keeps for its plan node (EXPLAIN ANALYZE). */
typedef struct pl_node_stats {
    const pl_df *node;
    int64_t *rows;
    int64_t *time_ns;
} pl_node_stats;

typedef struct pl_physical pl_physical;
/* Builds the operators for df (already optimized) and returns the result stream. stats
 * (optional) receives a per-node record valid while the stream lives. ctx must outlive the
 * stream. */
pl_status pl_physical_stream(pl_exec_ctx *ctx, pl_df *df, pl_stream **out, pl_error *err);

/* Plan text; stats_text (optional) gives per-node annotations. */
pl_status pl_plan_explain(pl_df *df, char **out, pl_error *err);

#endif
