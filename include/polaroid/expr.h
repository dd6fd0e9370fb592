/* polaroid/expr.h - expressions as plain, immutable, refcounted trees (plans are data).
 *
 * An expression names what to compute, not how: column references by name (resolved to an
 * input column index when a plan node is built), literals, calls of functions and operators by
 * their canonical lower-case name, casts, aggregate calls and window calls. The same tree is
 * printed by EXPLAIN, serialised by the server's protocol and bound to vectorised kernels by
 * the executor (src/expr/).
 *
 * Operators are calls too. Canonical names (the SQL front end maps syntax onto them):
 *   arithmetic  "add" "sub" "mul" "div" "mod" "neg"
 *   comparison  "eq" "ne" "lt" "le" "gt" "ge" "is_distinct_from" "is_not_distinct_from"
 *   logic       "and" "or" "not" "is_null" "is_not_null" "is_true" "is_false"
 *   sets        "in" (args: value, item...), "between" (value, low, high)
 *   patterns    "like" "ilike" (value, pattern[, escape])
 *   conditional "case" (when1, then1, ..., [else]) "coalesce" "nullif" "greatest" "least"
 *   strings     "concat_op" (SQL ||: NULL if any argument is NULL), "concat" (the function:
 *               NULL arguments skipped), "length", "lower", "upper", ... (see docs/sql.md)
 *   integer division "int_div" (DuckDB //); "div" of two integers gives a float64 like DuckDB
 * Function names are looked up case-insensitively with aliases (pow/power, substr/substring).
 *
 * Ownership: constructors TAKE the references passed to them (args, filter, types are
 * retained by the caller if still needed) and return a new reference, or NULL when memory ran
 * out or an argument was NULL, so trees can be built in one nested expression; the plan
 * functions that receive a NULL expression fail with PL_ERR_NOMEM. */
#ifndef POLAROID_EXPR_H
#define POLAROID_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "columnar.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- values (scalars) */

/* Arrow's month_day_nano interval. */
typedef struct pl_interval {
    int32_t months;
    int32_t days;
    int64_t ns;
} pl_interval;

/* One typed value. type is an owned reference (never NULL once initialised: the NULL literal
 * has type PL_TYPE_NA). Integer-backed types (INT*, DATE32, TIME64, TIMESTAMP) use v.i,
 * UINT* use v.u, FLOAT* v.f, BOOL v.b, DECIMAL128 v.dec, INTERVAL v.iv, UTF8/BINARY/
 * FIXED_BINARY the owned bytes str/str_len (NUL-terminated for convenience). */
typedef struct pl_value {
    pl_type *type;
    bool is_null;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        double f;
        struct {
            uint64_t lo;
            int64_t hi;
        } dec;
        pl_interval iv;
    } v;
    char *str;
    int64_t str_len;
} pl_value;

PL_API void pl_value_init_null(pl_value *v); /* NULL of type NA */
PL_API void pl_value_reset(pl_value *v);     /* frees, leaves a NULL of type NA */
/* Deep copy. Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_value_copy(const pl_value *src, pl_value *dst, pl_error *err);
/* Value i of an array (dictionary arrays yield the decoded value). Errors: NOMEM,
 * UNSUPPORTED for nested types. */
PL_API PL_NODISCARD pl_status pl_value_from_array(pl_array *a, int64_t i, pl_value *out,
                                                  pl_error *err);
/* Renders like the text table output ("NULL", "2024-01-02 09:30:00", "abc"). */
PL_API const char *pl_value_to_string(const pl_value *v, char *buf, size_t buf_size);

/* ---------------------------------------------------------------- expressions */

typedef enum pl_expr_kind {
    PL_EXPR_COLUMN = 0, /* name (+ optional qualifier); index set when bound to a plan input */
    PL_EXPR_LITERAL,    /* value */
    PL_EXPR_CALL,       /* scalar function or operator: name, args */
    PL_EXPR_CAST,       /* args[0] to cast_type; try_cast: failures give NULL, not an error */
    PL_EXPR_AGG,        /* aggregate: name, args, distinct, filter, order (string_agg,
                         * percentile ... WITHIN GROUP); only inside an aggregate node */
    PL_EXPR_WINDOW,     /* window function or aggregate OVER (...); only in a window node */
} pl_expr_kind;

typedef struct pl_expr pl_expr;

typedef struct pl_sort_key {
    pl_expr *expr; /* owned reference */
    bool descending;
    bool nulls_first; /* SQL default: NULLS LAST for ASC, NULLS FIRST for DESC */
} pl_sort_key;

typedef enum pl_frame_unit { PL_FRAME_ROWS = 0, PL_FRAME_RANGE, PL_FRAME_GROUPS } pl_frame_unit;
typedef enum pl_frame_bound_kind {
    PL_BOUND_UNBOUNDED_PRECEDING = 0,
    PL_BOUND_PRECEDING, /* offset rows / range value before */
    PL_BOUND_CURRENT_ROW,
    PL_BOUND_FOLLOWING,
    PL_BOUND_UNBOUNDED_FOLLOWING,
} pl_frame_bound_kind;
/* EXCLUDE of a frame: which rows around the current one leave the frame (SQL:2011). */
typedef enum pl_frame_exclude {
    PL_EXCLUDE_NO_OTHERS = 0,
    PL_EXCLUDE_CURRENT_ROW,
    PL_EXCLUDE_GROUP, /* the current row and its peers */
    PL_EXCLUDE_TIES,  /* its peers but not the current row */
} pl_frame_exclude;

typedef struct pl_window_frame {
    bool present; /* false = the SQL default (RANGE UNBOUNDED PRECEDING..CURRENT ROW with ORDER
                   * BY, the whole partition without) */
    pl_frame_unit unit;
    pl_frame_bound_kind start_kind, end_kind;
    pl_value start_offset, end_offset; /* ROWS: int64 count of rows; GROUPS: int64 count of peer
                                        * groups; RANGE: a value/interval */
    pl_frame_exclude exclude; /* only with present; ignored by ranking functions and lag/lead */
} pl_window_frame;

struct pl_expr {
    pl_expr_kind kind;
    char *name;       /* COLUMN: column name; CALL/AGG/WINDOW: function name (canonical) */
    char *qualifier;  /* COLUMN: table name or alias it was written with, or NULL */
    int32_t index;    /* COLUMN: input column index once bound, -1 before */
    pl_value value;   /* LITERAL */
    pl_type *cast_type; /* CAST: owned reference */
    bool try_cast;
    /* LITERAL: a typed constant (a folded CAST or expression), which keeps its type in
     * arithmetic; without it an INT32 literal (SQL's integer literal) takes the type of a
     * narrower integer operand it fits, like DuckDB's (tinyint_col + 1 is TINYINT) */
    bool typed_lit;
    int32_t n_args;
    pl_expr **args; /* owned references */
    /* AGG and WINDOW */
    bool distinct;
    pl_expr *filter;     /* AGG: FILTER (WHERE ...), or NULL */
    int32_t n_order;     /* AGG: ORDER BY inside the call / WITHIN GROUP; WINDOW: OVER's */
    pl_sort_key *order;
    bool ignore_nulls;   /* WINDOW: lag/lead/first_value/... IGNORE NULLS */
    int32_t n_partition; /* WINDOW: PARTITION BY */
    pl_expr **partition;
    pl_window_frame frame;
    int32_t sql_pos; /* 0-based byte offset in the SQL text it came from, -1 = none */
    int64_t refcount;
};

PL_API pl_expr *pl_expr_col(const char *name);
PL_API pl_expr *pl_expr_col_qualified(const char *qualifier, const char *name);
/* A reference by input position (name used for printing; may be NULL). */
PL_API pl_expr *pl_expr_col_index(int32_t index, const char *name);
PL_API pl_expr *pl_expr_lit_null(void);
PL_API pl_expr *pl_expr_lit_bool(bool v);
PL_API pl_expr *pl_expr_lit_i64(int64_t v);
PL_API pl_expr *pl_expr_lit_f64(double v);
PL_API pl_expr *pl_expr_lit_str(const char *s); /* UTF8, copied */
PL_API pl_expr *pl_expr_lit_interval(int32_t months, int32_t days, int64_t ns);
/* Takes the value (moved: *v is left a NULL of type NA). */
PL_API pl_expr *pl_expr_lit_value(pl_value *v);
/* Takes args[0..n). */
PL_API pl_expr *pl_expr_call(const char *name, int32_t n_args, pl_expr **args);
PL_API pl_expr *pl_expr_call1(const char *name, pl_expr *a);
PL_API pl_expr *pl_expr_call2(const char *name, pl_expr *a, pl_expr *b);
PL_API pl_expr *pl_expr_call3(const char *name, pl_expr *a, pl_expr *b, pl_expr *c);
/* Takes e and type. */
PL_API pl_expr *pl_expr_cast(pl_expr *e, pl_type *type, bool try_cast);
/* An aggregate call; takes args, filter (may be NULL) and order[i].expr. n_args 0 with name
 * "count" is count(*). */
PL_API pl_expr *pl_expr_agg(const char *name, int32_t n_args, pl_expr **args, bool distinct,
                            pl_expr *filter, int32_t n_order, pl_sort_key *order);
/* A window call; takes args, partition and order exprs; frame copied (its values moved). */
PL_API pl_expr *pl_expr_window(const char *name, int32_t n_args, pl_expr **args,
                               int32_t n_partition, pl_expr **partition, int32_t n_order,
                               pl_sort_key *order, const pl_window_frame *frame);
PL_API pl_expr *pl_expr_retain(pl_expr *e);
PL_API void pl_expr_release(pl_expr *e);
/* Deep copy (a fresh tree whose nodes may then be edited). NULL when out of memory. */
PL_API pl_expr *pl_expr_clone(const pl_expr *e);
/* Structural equality (names, values, args; ignores sql_pos). */
PL_API bool pl_expr_equals(const pl_expr *a, const pl_expr *b);
/* SQL-like text: "(price > 100) AND (symbol = 'AAPL')", "sum(size) FILTER (WHERE ...)". */
PL_API const char *pl_expr_to_string(const pl_expr *e, char *buf, size_t buf_size);
/* The output column name a projection of e gets when none is given: the column name for a
 * column, the function name for a call ("sum", "add"), DuckDB-like. Returns buf. */
PL_API const char *pl_expr_default_name(const pl_expr *e, char *buf, size_t buf_size);

#ifdef __cplusplus
}
#endif
#endif
