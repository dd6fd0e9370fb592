/* kernels_string.c - the string function set (placeholder: filled in by the kernels work). */
#include "expr/expr_int.h"

const pl_func_set pl_funcs_string = {0, NULL};
