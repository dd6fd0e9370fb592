/* pending_stubs.c - TEMPORARY weak placeholders for functions other parts of stage 2 are
 * writing now (the DataFrame layer, expression binding, the SQL planner), so that the session
 * code links before they land. Each returns PL_ERR_UNSUPPORTED (or does nothing); a real
 * definition anywhere in the library replaces it. Delete this file once they have all landed. */
#include "expr/expr_int.h"
#include "sql/sql_int.h"

#define PENDING(what) pl_error_set(err, PL_ERR_UNSUPPORTED, "%s is not built yet", what)
#define WEAK __attribute__((weak))

WEAK void pl_exec_opts_init(pl_exec_opts *o) {
    memset(o, 0, sizeof *o);
    o->optimize = true;
}
WEAK pl_df *pl_df_retain(pl_df *df) { return df; }
WEAK void pl_df_release(pl_df *df) { (void)df; }
WEAK pl_schema *pl_df_schema(const pl_df *df) { (void)df; return NULL; }
WEAK pl_status pl_df_from_table(pl_table *t, pl_df **out, pl_error *err) {
    return PENDING("pl_df_from_table");
}
WEAK pl_status pl_df_scan(int32_t n_paths, const char *const *paths, pl_format format,
                          const pl_read_opts *opts, pl_df **out, pl_error *err) {
    return PENDING("pl_df_scan");
}
WEAK pl_status pl_df_select(pl_df *df, int32_t n, pl_expr *const *exprs, const char *const *names,
                            pl_df **out, pl_error *err) {
    return PENDING("pl_df_select");
}
WEAK pl_status pl_df_rename(pl_df *df, int32_t n, const char *const *old_names,
                            const char *const *new_names, pl_df **out, pl_error *err) {
    return PENDING("pl_df_rename");
}
WEAK pl_status pl_df_execute(pl_df *df, const pl_exec_opts *opts, pl_stream **out, pl_error *err) {
    return PENDING("pl_df_execute");
}
WEAK pl_status pl_df_collect(pl_df *df, const pl_exec_opts *opts, pl_table **out, pl_error *err) {
    return PENDING("pl_df_collect");
}
WEAK pl_status pl_df_explain(pl_df *df, bool optimized, char **out, pl_error *err) {
    return PENDING("pl_df_explain");
}
WEAK pl_status pl_df_explain_analyze(pl_df *df, const pl_exec_opts *opts, char **out,
                                     pl_error *err) {
    return PENDING("pl_df_explain_analyze");
}
WEAK pl_expr *pl_expr_col(const char *name) { (void)name; return NULL; }
WEAK pl_expr *pl_expr_col_index(int32_t index, const char *name) { return NULL; }
WEAK pl_expr *pl_expr_lit_null(void) { return NULL; }
WEAK pl_expr *pl_expr_cast(pl_expr *e, pl_type *type, bool try_cast) {
    pl_type_release(type);
    return NULL;
}
WEAK pl_expr *pl_expr_retain(pl_expr *e) { return e; }
WEAK void pl_expr_release(pl_expr *e) { (void)e; }
WEAK pl_status pl_expr_bind(const pl_expr *e, const pl_schema *input, pl_bexpr **out,
                            pl_error *err) {
    return PENDING("pl_expr_bind");
}
WEAK pl_status pl_bexpr_fold(pl_bexpr **e, pl_error *err) { return PENDING("pl_bexpr_fold"); }
WEAK void pl_bexpr_free(pl_bexpr *e) { (void)e; }
WEAK pl_status pl_bexpr_eval_array(pl_eval_ctx *ec, const pl_bexpr *e, pl_batch *in,
                                   pl_array **out, pl_error *err) {
    return PENDING("pl_bexpr_eval_array");
}
WEAK void pl_value_init_null(pl_value *v) { memset(v, 0, sizeof *v); }
WEAK void pl_value_reset(pl_value *v) { memset(v, 0, sizeof *v); }
WEAK pl_status pl_value_copy(const pl_value *src, pl_value *dst, pl_error *err) {
    return PENDING("pl_value_copy");
}
WEAK pl_status pl_value_from_array(pl_array *a, int64_t i, pl_value *out, pl_error *err) {
    return PENDING("pl_value_from_array");
}
WEAK pl_status pl_array_from_value(const pl_value *v, int64_t n, pl_array **out, pl_error *err) {
    return PENDING("pl_array_from_value");
}
WEAK pl_status pl_sql_plan_query(pl_session *s, const char *sql, const PgQuery__Node *stmt,
                                 pl_df **out, pl_error *err) {
    return PENDING("the SQL query planner");
}
WEAK pl_status pl_sql_plan_const_expr(pl_session *s, const char *sql, const PgQuery__Node *node,
                                      pl_expr **out, pl_error *err) {
    return PENDING("the SQL expression planner");
}
WEAK pl_status pl_sql_type_from_node(const char *sql, const PgQuery__TypeName *tn, pl_type **out,
                                     pl_error *err) {
    return PENDING("SQL type names");
}
