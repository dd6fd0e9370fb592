/* expr_int.h - bound expressions, the function registry and vectorised evaluation.
 *
 * A pl_expr (include/polaroid/expr.h) is data. Binding it against an input schema gives a
 * pl_bexpr: every node typed, every call resolved to a kernel (pl_func_def), implicit casts
 * inserted, per-call state prepared (compiled LIKE patterns, IN hash sets, time zones).
 * Evaluation runs kernels over whole batches (morsels): a kernel receives its arguments as
 * datums (an array of n_rows values, or one scalar) and returns a datum.
 *
 * Kernel contract:
 *   - args are never NULL-typed arrays of the wrong length: arrays have exactly n_rows
 *     values; scalars stand for n_rows copies;
 *   - array args may be DICTIONARY arrays only when the function's flags include
 *     PL_FN_DICT_OK; otherwise the evaluator decodes (or, for PL_FN_ELEMENTWISE functions with
 *     one dictionary argument and scalar others, evaluates on the dictionary values and
 *     gathers by the indices);
 *   - the result is an array of n_rows values of call->type, or a scalar when every argument
 *     is a scalar (constant folding evaluates calls with n_rows = 1 on scalars);
 *   - errors name the function and, when known, the row ("integer overflow in add at row
 *     12"); call->sql_pos is copied into err->sql_pos by the evaluator.
 * Files: expr.c (trees), value.c (pl_value), bind.c (binding, implicit casts, registry),
 * eval.c (evaluation), kernels_*.c (function sets). */
#ifndef PL_EXPR_INT_H
#define PL_EXPR_INT_H

#include "core/core.h"
#include "polaroid/expr.h"

struct pl_exec_ctx;

/* ---------------------------------------------------------------- datums */

typedef struct pl_datum {
    bool is_scalar;
    pl_array *array; /* !is_scalar: owned reference */
    pl_value scalar; /* is_scalar: owned */
} pl_datum;

void pl_datum_reset(pl_datum *d);
void pl_datum_set_array(pl_datum *d, pl_array *a); /* takes a */
/* Moves *v into d (v left a NULL of type NA). */
void pl_datum_set_scalar(pl_datum *d, pl_value *v);
/* An array of n_rows values: the array itself (dictionary decoded when decode_dict), or the
 * scalar repeated. New reference. */
pl_status pl_datum_to_array(const pl_datum *d, int64_t n_rows, bool decode_dict, pl_array **out,
                            pl_error *err);
/* An array of n copies of v. */
pl_status pl_array_from_value(const pl_value *v, int64_t n, pl_array **out, pl_error *err);

/* ---------------------------------------------------------------- bound expressions */

typedef enum pl_bexpr_kind { PL_BEXPR_COL = 0, PL_BEXPR_LIT, PL_BEXPR_CALL } pl_bexpr_kind;

typedef struct pl_bexpr pl_bexpr;
typedef struct pl_func_def pl_func_def;

/* The parameters of the lambdas being evaluated (kernels_lambda.c), innermost first: slot
 * arrays have one value per row of the batch the lambda's body runs on. */
typedef struct pl_lambda_frame {
    int64_t id;
    pl_array *slot[3];
    const struct pl_lambda_frame *up;
} pl_lambda_frame;

/* What a kernel can reach while it runs. */
typedef struct pl_eval_ctx {
    struct pl_exec_ctx *exec; /* may be NULL (constant folding, tests) */
    int64_t now_us;           /* now() for the whole query: one value per statement */
    const pl_lambda_frame *lambda; /* lambda parameters in scope (NULL outside lambdas) */
} pl_eval_ctx;

typedef pl_status (*pl_kernel_fn)(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                  int64_t n_rows, pl_datum *out, pl_error *err);

struct pl_bexpr {
    pl_bexpr_kind kind;
    pl_type *type; /* result type, owned reference */
    int32_t col;   /* COL: input column index */
    pl_value lit;  /* LIT */
    const pl_func_def *fn; /* CALL */
    int32_t n_args;
    pl_bexpr **args; /* owned */
    /* Kernel state made by fn->bind (e.g. a compiled pattern); freed with free_state. */
    void *state;
    void (*free_state)(void *state);
    pl_type *cast_to; /* CAST calls: the target type (also in type); owned reference */
    bool try_cast;
    /* LIT: the value of an explicit CAST (1::INTEGER, 127::TINYINT): a typed constant, not an
     * integer literal that takes a narrower operand's type in arithmetic */
    bool cast_lit;
    int32_t sql_pos;
};

void pl_bexpr_free(pl_bexpr *e);

/* ---------------------------------------------------------------- functions */

enum {
    PL_FN_ELEMENTWISE = 1u << 0, /* row i of the result depends only on row i of the args */
    PL_FN_DICT_OK = 1u << 1,     /* the kernel accepts DICTIONARY array arguments itself */
    PL_FN_VOLATILE = 1u << 2,    /* never constant-folded (now(), random()) */
    PL_FN_NULL_IN_NULL_OUT = 1u << 3, /* any NULL argument gives NULL (enables shortcuts) */
    PL_FN_LAMBDA = 1u << 4, /* __lambda_*(list, body, id, ...): the body binds with the lambda's
                             * parameters and runs per element (kernels_lambda.c, eval.c) */
};

struct pl_func_def {
    const char *name;    /* canonical, lower case */
    const char *aliases; /* other accepted names, space separated, or NULL */
    int32_t min_args;
    int32_t max_args;    /* -1 = variadic */
    uint32_t flags;
    /* Called with call->args bound (their types known) and call->type NULL: sets call->type
     * (a new reference), may wrap arguments in casts (pl_bexpr_wrap_cast) and may set
     * call->state. Errors: PL_ERR_TYPE naming the function and the argument types
     * ("no function lower(int64)"), PL_ERR_SQL for bad literal arguments. */
    pl_status (*bind)(pl_bexpr *call, pl_error *err);
    pl_kernel_fn exec;
};

typedef struct pl_func_set {
    int32_t n;
    const pl_func_def *defs;
} pl_func_set;

/* The function sets, one per kernels_*.c file (registry in bind.c). */
extern const pl_func_set pl_funcs_core;   /* operators, logic, comparison, conditionals, cast */
extern const pl_func_set pl_funcs_math;   /* abs round floor ceil sqrt ln exp pow ... */
extern const pl_func_set pl_funcs_string; /* length lower upper trim substr concat replace ... */
extern const pl_func_set pl_funcs_time;   /* extract date_trunc time_bucket strftime now ... */
extern const pl_func_set pl_funcs_lambda; /* __lambda_transform / filter / reduce, __lambda_param */
extern const pl_func_set pl_funcs_list;   /* list_value list_extract list_contains unnest ... */
extern const pl_func_set pl_funcs_extra;  /* fmod gcd lcm factorial levenshtein sha256 hex printf ... */
extern const pl_func_set pl_funcs_json;   /* json_valid json_extract json_extract_string json_type ... */

/* Date/time arithmetic, implemented with the time functions (kernels_time.c): the core "add"
 * and "sub" binders delegate here when an argument is DATE32, TIME64, TIMESTAMP or INTERVAL
 * (ts + interval, date + int, date - date, ts - ts, interval * int ...). They finish binding
 * call exactly as a pl_func_def.bind would (set type, state) and return the kernel to run
 * in *exec, or PL_ERR_TYPE. */
pl_status pl_temporal_add_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err);
pl_status pl_temporal_sub_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err);
/* interval * number, number * interval (div false) or interval / number (div true), like
 * DuckDB; numbers are cast to BIGINT (multiplication by an integer) or DOUBLE (time_arith.c). */
pl_status pl_interval_mul_bind(pl_bexpr *call, bool div, pl_kernel_fn *exec, pl_error *err);

/* Parses an interval literal ("1 hour", "5 minutes", "1 day 2 hours", "01:00:00",
 * "1 day 02:03:04", "1.5 hours", "2 years 3 months", "1 year ago"; units from nanoseconds
 * to millennia with DuckDB/PostgreSQL spellings; a bare number is seconds). Errors:
 * PL_ERR_TYPE naming the text. (kernels in time_fmt.c) */
pl_status pl_interval_parse(const char *text, pl_interval *out, pl_error *err);

/* The SQL type name of t as DuckDB spells it (typeof(), CAST(...) column names): "INTEGER",
 * "DECIMAL(10,2)", "TIMESTAMP WITH TIME ZONE", "VARCHAR[]", "STRUCT(a INTEGER)", "\"NULL\""
 * for the NULL type; dictionaries as their values. Written into buf (truncated to n); returns
 * buf. (expr.c) */
const char *pl_sql_type_name(const pl_type *t, char *buf, size_t n);

/* Case-insensitive lookup of a scalar function by name or alias; NULL if none. */
const pl_func_def *pl_func_lookup(const char *name);

/* ---------------------------------------------------------------- binding */

/* Binds e against the input schema. The planner passes the LOGICAL schema: DICTIONARY fields
 * appear as their value type (a dictionary column of utf8 binds as utf8), while the arrays met
 * at run time may still be DICTIONARY arrays; the evaluator decodes them (or uses the
 * dictionary fast path) for kernels without PL_FN_DICT_OK. Column references use e->index when >= 0, else the
 * unique field with that name. Errors: NOT_FOUND (unknown column, with a hint naming close
 * matches), TYPE, SQL; err->sql_pos from the failing node. */
pl_status pl_expr_bind(const pl_expr *e, const pl_schema *input, pl_bexpr **out, pl_error *err);
/* Replaces *arg by cast(*arg AS to) unless it already has that type (to is retained).
 * Literal arguments are cast at once (so errors surface at bind time). */
pl_status pl_bexpr_wrap_cast(pl_bexpr **arg, pl_type *to, pl_error *err);
/* While a lambda's body binds: the type of its parameter slot (borrowed), or NULL. */
pl_type *pl_lambda_param_type(int64_t id, int32_t slot);
/* eval.c: evaluates a PL_FN_LAMBDA call or __lambda_param over batch in (kernels_lambda.c). */
pl_status pl_lambda_eval(pl_eval_ctx *ec, const pl_bexpr *call, pl_batch *in, pl_datum *out,
                         pl_error *err);
/* Folds calls whose arguments are all literals (and that are not volatile) into literals. */
pl_status pl_bexpr_fold(pl_bexpr **e, pl_error *err);

/* Type rules (SQL/DuckDB-like implicit widening):
 *   ints widen to the larger int (signed+unsigned -> next signed), int+float -> float64,
 *   decimal+int -> decimal, decimal+float -> float64, NA (NULL literal) -> the other,
 *   date32 + timestamp -> timestamp, utf8 vs anything in comparisons: the string literal is
 *   cast to the other type. Returns a new reference, or NULL when there is none. */
pl_type *pl_type_common_super(const pl_type *a, const pl_type *b);
bool pl_type_is_integer(pl_type_id id); /* INT*, UINT* */
bool pl_type_is_numeric(pl_type_id id); /* integers, floats, decimal */
bool pl_type_is_temporal(pl_type_id id);

/* ---------------------------------------------------------------- casts */

/* Converts an array to `to` (dictionary inputs are decoded first). try_cast: values that do
 * not convert become NULL; otherwise the first failure is an error naming the value and the
 * row ("cannot cast 'abc' to int64 at row 3"). Integer narrowing is range-checked. */
pl_status pl_cast_array(pl_array *a, pl_type *to, bool try_cast, pl_array **out, pl_error *err);
pl_status pl_cast_value(const pl_value *v, pl_type *to, bool try_cast, pl_value *out,
                        pl_error *err);
/* Parses a SQL type name ("bigint", "varchar", "decimal(10,2)", "timestamp with time zone",
 * "double precision", "int[]"...) into a type. Errors: PL_ERR_SQL. */
pl_status pl_type_from_sql_name(const char *name, pl_type **out, pl_error *err);

/* ---------------------------------------------------------------- evaluation */

/* Evaluates e over the batch's rows. */
pl_status pl_bexpr_eval(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in, pl_datum *out,
                        pl_error *err);
/* Same, always giving an array of in->n_rows values (dictionary arrays stay dictionaries
 * only for plain column references). */
/* The end of a call's evaluation: on success (st == PL_OK) moves *res into *out (replacing what
 * out held); on failure resets *res and points err at the call's SQL position. Returns st. */
pl_status pl_eval_call_result(const pl_bexpr *call, pl_status st, pl_datum *res, pl_datum *out,
                              pl_error *err);
pl_status pl_bexpr_eval_array(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in, pl_array **out,
                              pl_error *err);
/* Evaluates a boolean predicate into the rows that are TRUE: *sel gets their indices
 * (ascending, pl_malloc'ed, caller frees) and *n_sel their count. */
pl_status pl_bexpr_eval_filter(pl_eval_ctx *ec, const pl_bexpr *pred, pl_batch *in,
                               int32_t **sel, int64_t *n_sel, pl_error *err);

#endif
