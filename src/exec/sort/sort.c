/* sort.c - sort and top-N (placeholder until the sort operator lands). */
#include "exec/exec.h"

pl_status pl_sort_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *cols,
                           const bool *desc, const bool *nulls_first, int64_t offset,
                           int64_t limit, pl_sink **out, pl_error *err) {
    PL_UNUSED(ctx); PL_UNUSED(in); PL_UNUSED(n_keys); PL_UNUSED(cols); PL_UNUSED(desc);
    PL_UNUSED(nulls_first); PL_UNUSED(offset); PL_UNUSED(limit); PL_UNUSED(out);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "sort is not implemented yet");
}
