/* agg.c - hash aggregation (placeholder until the aggregation operator lands). */
#include "exec/exec.h"

bool pl_agg_exists(const char *name) { PL_UNUSED(name); return false; }
const char *pl_agg_canonical(const char *name) { PL_UNUSED(name); return NULL; }
pl_status pl_agg_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                      const pl_value *const *consts, bool distinct, pl_type **out_type,
                      pl_error *err) {
    PL_UNUSED(n_args); PL_UNUSED(arg_types); PL_UNUSED(consts); PL_UNUSED(distinct);
    PL_UNUSED(out_type);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "aggregate %s is not implemented yet", name);
}
pl_status pl_agg_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *keys,
                          int32_t n_aggs, const pl_agg_spec *aggs, pl_schema *out_schema,
                          pl_sink **out, pl_error *err) {
    PL_UNUSED(ctx); PL_UNUSED(in); PL_UNUSED(n_keys); PL_UNUSED(keys); PL_UNUSED(n_aggs);
    PL_UNUSED(aggs); PL_UNUSED(out_schema); PL_UNUSED(out);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "hash aggregation is not implemented yet");
}
