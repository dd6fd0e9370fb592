/* pending_stubs.c - TEMPORARY weak placeholders for functions other parts of stage 2 are
 * writing now (the DataFrame layer, the SQL planner), so that the session
 * code links before they land. Each returns PL_ERR_UNSUPPORTED (or does nothing); a real
 * definition anywhere in the library replaces it. Delete this file once they have all landed. */
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
