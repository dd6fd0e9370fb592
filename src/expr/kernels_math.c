/* kernels_math.c - the math function set (placeholder: filled in by the kernels work). */
#include "expr/expr_int.h"

const pl_func_set pl_funcs_math = {0, NULL};
