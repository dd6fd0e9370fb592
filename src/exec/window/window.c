/* window.c - window functions (placeholder until the window operator lands). */
#include "exec/exec.h"

bool pl_window_exists(const char *name) { PL_UNUSED(name); return false; }
pl_status pl_window_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                         pl_type **out_type, pl_error *err) {
    PL_UNUSED(n_args); PL_UNUSED(arg_types); PL_UNUSED(out_type);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "window function %s is not implemented yet", name);
}
pl_status pl_window_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_specs,
                             const pl_window_spec *specs, pl_schema *out_schema, pl_sink **out,
                             pl_error *err) {
    PL_UNUSED(ctx); PL_UNUSED(in); PL_UNUSED(n_specs); PL_UNUSED(specs); PL_UNUSED(out_schema);
    PL_UNUSED(out);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "window functions are not implemented yet");
}
