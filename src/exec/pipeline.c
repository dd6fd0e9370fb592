/* pipeline.c - pipelines: a source stream, streaming operators, a sink (see exec.h). */
#include "exec/exec.h"

void pl_op_free(pl_op *op) {
    if (op && op->free) op->free(op);
}

void pl_pipeline_free(pl_pipeline *p) {
    if (!p) return;
    pl_stream_free(p->source);
    for (int32_t i = 0; i < p->n_ops; i++) pl_op_free(p->ops[i]);
    pl_free(p->ops);
    pl_free(p);
}
