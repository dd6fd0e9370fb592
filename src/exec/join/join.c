/* join.c - hash join (placeholder until the join operator lands). */
#include "exec/exec.h"

pl_status pl_join_op_new(pl_exec_ctx *ctx, const pl_join_spec *spec, pl_schema *probe_schema,
                         pl_pipeline *build, pl_op **out, pl_error *err) {
    PL_UNUSED(ctx); PL_UNUSED(spec); PL_UNUSED(probe_schema); PL_UNUSED(out);
    pl_pipeline_free(build);
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "hash join is not implemented yet");
}
