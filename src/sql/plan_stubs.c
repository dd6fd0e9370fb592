/* plan_stubs.c - TEMPORARY weak placeholders for the DataFrame and expression functions the SQL
 * planner calls, so the library links before those parts land (a real definition anywhere in
 * the library replaces each). Delete once src/plan and src/expr have landed. */
#include "sql/plan_int.h"

#define PENDING(what) pl_error_set(err, PL_ERR_UNSUPPORTED, "%s is not built yet", what)
#define WEAK __attribute__((weak))

WEAK pl_status pl_df_aggregate(pl_df *df, int32_t n_keys, pl_expr *const *keys,
                               const char *const *key_names, int32_t n_aggs, pl_expr *const *aggs,
                               const char *const *agg_names, pl_df **out, pl_error *err) {
    (void)df, (void)n_keys, (void)keys, (void)key_names, (void)n_aggs, (void)aggs, (void)agg_names, (void)out;
    return PENDING("pl_df_aggregate");
}
WEAK pl_status pl_df_alias(pl_df *df, const char *name, pl_df **out, pl_error *err) {
    (void)df, (void)name, (void)out;
    return PENDING("pl_df_alias");
}
WEAK const char *pl_df_column_qualifier(const pl_df *df, int32_t i) {
    (void)df, (void)i;
    return NULL;
}
WEAK pl_status pl_df_distinct(pl_df *df, pl_df **out, pl_error *err) {
    (void)df, (void)out;
    return PENDING("pl_df_distinct");
}
WEAK pl_status pl_df_drop(pl_df *df, int32_t n, const char *const *names, pl_df **out, pl_error *err) {
    (void)df, (void)n, (void)names, (void)out;
    return PENDING("pl_df_drop");
}
WEAK pl_status pl_df_filter(pl_df *df, pl_expr *pred, pl_df **out, pl_error *err) {
    (void)df, (void)pred, (void)out;
    return PENDING("pl_df_filter");
}
WEAK pl_status pl_df_join(pl_df *left, pl_df *right, pl_join_type type, int32_t n_keys,
                          pl_expr *const *left_keys, pl_expr *const *right_keys,
                          const pl_join_opts *opts, pl_df **out, pl_error *err) {
    (void)left, (void)right, (void)type, (void)n_keys, (void)left_keys, (void)right_keys, (void)opts, (void)out;
    return PENDING("pl_df_join");
}
WEAK pl_status pl_df_limit(pl_df *df, int64_t offset, int64_t limit, pl_df **out, pl_error *err) {
    (void)df, (void)offset, (void)limit, (void)out;
    return PENDING("pl_df_limit");
}
WEAK pl_status pl_df_setop(pl_df *a, pl_df *b, pl_setop op, bool all, pl_df **out, pl_error *err) {
    (void)a, (void)b, (void)op, (void)all, (void)out;
    return PENDING("pl_df_setop");
}
WEAK pl_status pl_df_sort(pl_df *df, int32_t n_keys, const pl_sort_key *keys, pl_df **out,
                          pl_error *err) {
    (void)df, (void)n_keys, (void)keys, (void)out;
    return PENDING("pl_df_sort");
}
WEAK pl_status pl_df_union(pl_df *a, pl_df *b, bool all, pl_df **out, pl_error *err) {
    (void)a, (void)b, (void)all, (void)out;
    return PENDING("pl_df_union");
}
WEAK pl_status pl_df_window(pl_df *df, int32_t n, pl_expr *const *exprs, const char *const *names,
                            pl_df **out, pl_error *err) {
    (void)df, (void)n, (void)exprs, (void)names, (void)out;
    return PENDING("pl_df_window");
}
WEAK pl_expr *pl_expr_agg(const char *name, int32_t n_args, pl_expr **args, bool distinct,
                          pl_expr *filter, int32_t n_order, pl_sort_key *order) {
    (void)name, (void)n_args, (void)args, (void)distinct, (void)filter, (void)n_order, (void)order;
    return NULL;
}
WEAK pl_expr *pl_expr_call(const char *name, int32_t n_args, pl_expr **args) {
    (void)name, (void)n_args, (void)args;
    return NULL;
}
WEAK pl_expr *pl_expr_call1(const char *name, pl_expr *a) {
    (void)name, (void)a;
    return NULL;
}
WEAK pl_expr *pl_expr_call2(const char *name, pl_expr *a, pl_expr *b) {
    (void)name, (void)a, (void)b;
    return NULL;
}
WEAK pl_expr *pl_expr_clone(const pl_expr *e) {
    (void)e;
    return NULL;
}
WEAK pl_expr *pl_expr_col_qualified(const char *qualifier, const char *name) {
    (void)qualifier, (void)name;
    return NULL;
}
WEAK pl_expr *pl_expr_lit_bool(bool v) {
    (void)v;
    return NULL;
}
WEAK pl_expr *pl_expr_lit_f64(double v) {
    (void)v;
    return NULL;
}
WEAK pl_expr *pl_expr_lit_i64(int64_t v) {
    (void)v;
    return NULL;
}
WEAK pl_expr *pl_expr_lit_interval(int32_t months, int32_t days, int64_t ns) {
    (void)months, (void)days, (void)ns;
    return NULL;
}
WEAK pl_expr *pl_expr_lit_str(const char *s) {
    (void)s;
    return NULL;
}
WEAK pl_expr *pl_expr_window(const char *name, int32_t n_args, pl_expr **args, int32_t n_partition,
                             pl_expr **partition, int32_t n_order, pl_sort_key *order,
                             const pl_window_frame *frame) {
    (void)name, (void)n_args, (void)args, (void)n_partition, (void)partition, (void)n_order, (void)order, (void)frame;
    return NULL;
}
WEAK const pl_func_def *pl_func_lookup(const char *name) {
    (void)name;
    return NULL;
}
WEAK pl_status pl_value_copy(const pl_value *src, pl_value *dst, pl_error *err) {
    (void)src, (void)dst;
    return PENDING("pl_value_copy");
}
WEAK void pl_value_init_null(pl_value *v) { memset(v, 0, sizeof *v); }
WEAK void pl_value_reset(pl_value *v) { (void)v; }
WEAK pl_status pl_value_from_array(pl_array *a, int64_t i, pl_value *out, pl_error *err) {
    (void)a, (void)i, (void)out;
    return PENDING("pl_value_from_array");
}
WEAK const char *pl_value_to_string(const pl_value *v, char *buf, size_t buf_size) {
    (void)v;
    if (buf_size) buf[0] = '\0';
    return buf;
}
