/* kernels_time.c - the time function set (placeholder: filled in by the kernels work). */
#include "expr/expr_int.h"

const pl_func_set pl_funcs_time = {0, NULL};

pl_status pl_temporal_add_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err) {
    PL_UNUSED(call); PL_UNUSED(exec);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "date/time arithmetic is not implemented yet");
}
pl_status pl_temporal_sub_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err) {
    PL_UNUSED(call); PL_UNUSED(exec);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "date/time arithmetic is not implemented yet");
}
