/* parse_guard.c - refuses parse trees nested too deeply before protobuf-c unpacks them; the
 * child visitor of unpacked trees (pl_sql_node_children).
 *
 * libpg_query hands the tree over as protobuf bytes; protobuf-c's unpack, and then the planner,
 * recurse once per level, so "SELECT 1+1+1+...+1" with thousands of terms (a left-deep tree of
 * operators) would overflow the stack. The bytes are walked here first (pb_wire.h), by the
 * message descriptors and without allocating, and refused beyond PL_SQL_MAX_TREE_DEPTH levels. */
#include "sql/pb_wire.h"
#include "sql/sql_int.h"

pl_status pl_sql_check_tree_depth(const uint8_t *buf, size_t len, pl_error *err) {
    int r = pl_pb_wire_check(&pg_query__parse_result__descriptor, buf, len, PL_SQL_MAX_TREE_DEPTH,
                             false);
    if (r == PL_PB_WIRE_TOO_DEEP)
        PL_FAIL(err, PL_ERR_LIMIT, "SQL nested too deeply (more than %d levels of expressions)",
                PL_SQL_MAX_TREE_DEPTH / 2);
    if (r != PL_PB_WIRE_OK) PL_FAIL(err, PL_ERR_INTERNAL, "malformed parse tree from libpg_query");
    return PL_OK;
}

bool pl_sql_node_children(const ProtobufCMessage *m, pl_sql_node_fn fn, void *ctx) {
    if (!m) return false;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char *base = (char *)(uintptr_t)m; /* the children are the caller's to change (fn's choice) */
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + f->quantifier_offset);
            ProtobufCMessage **v = *(ProtobufCMessage ***)(void *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (v[k] && fn(v[k], ctx)) return true;
        } else {
            ProtobufCMessage *c = *(ProtobufCMessage **)(void *)(base + f->offset);
            if (c && fn(c, ctx)) return true;
        }
    }
    return false;
}
