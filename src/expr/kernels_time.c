/* kernels_time.c - the time function set (placeholder: filled in by the kernels work). */
#include "expr/expr_int.h"

const pl_func_set pl_funcs_time = {0, NULL};
