/* parse_guard.c - refuses parse trees nested too deeply before protobuf-c unpacks them.
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
