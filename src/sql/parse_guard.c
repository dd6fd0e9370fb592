/* parse_guard.c - refuses parse trees nested too deeply before protobuf-c unpacks them.
 *
 * libpg_query hands the tree over as protobuf bytes; protobuf-c's unpack, and then the planner,
 * recurse once per level, so "SELECT 1+1+1+...+1" with thousands of terms (a left-deep tree of
 * operators) would overflow the stack. The bytes are walked here first, by the message
 * descriptors and without allocating, and refused beyond PL_SQL_MAX_TREE_DEPTH levels. */
#include "sql/sql_int.h"

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* 1 ok, 0 malformed, -1 too deep */
static int walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                int32_t depth, int32_t max_depth) {
    if (depth > max_depth) return -1;
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key)) return 0;
        switch (key & 7) {
        case 0:
            if (!varint(&p, end, &v)) return 0;
            break;
        case 1:
            if (end - p < 8) return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return 0;
            p += 4;
            break;
        case 2: {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p)) return 0;
            const ProtobufCFieldDescriptor *f =
                protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int r = walk(f->descriptor, p, p + v, depth + 1, max_depth);
                if (r <= 0) return r;
            }
            p += v;
            break;
        }
        default: return 0;
        }
    }
    return 1;
}

pl_status pl_sql_check_tree_depth(const uint8_t *buf, size_t len, pl_error *err) {
    int r = walk(&pg_query__parse_result__descriptor, buf, buf + len, 0, PL_SQL_MAX_TREE_DEPTH);
    if (r < 0)
        PL_FAIL(err, PL_ERR_LIMIT, "SQL nested too deeply (more than %d levels of expressions)",
                PL_SQL_MAX_TREE_DEPTH / 2);
    if (r == 0) PL_FAIL(err, PL_ERR_INTERNAL, "malformed parse tree from libpg_query");
    return PL_OK;
}
