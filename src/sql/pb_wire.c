/* pb_wire.c - the protobuf wire walk of pb_wire.h. */
#include <string.h>

#include "sql/pb_wire.h"

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
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

static int walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end,
                int depth, int max_depth, bool refuse_nul) {
    if (depth > max_depth) return PL_PB_WIRE_TOO_DEEP;
    while (p < end) {
        uint64_t key, v;
        if (!read_varint(&p, end, &key)) return PL_PB_WIRE_MALFORMED;
        uint32_t field = (uint32_t)(key >> 3);
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &v)) return PL_PB_WIRE_MALFORMED;
            break;
        case 1:
            if (end - p < 8) return PL_PB_WIRE_MALFORMED;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return PL_PB_WIRE_MALFORMED;
            p += 4;
            break;
        case 2: {
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return PL_PB_WIRE_MALFORMED;
            const ProtobufCFieldDescriptor *f =
                field ? protobuf_c_message_descriptor_get_field(d, field) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                int r = walk(f->descriptor, p, p + v, depth + 1, max_depth, refuse_nul);
                if (r != PL_PB_WIRE_OK) return r;
            } else if (refuse_nul && f && f->type == PROTOBUF_C_TYPE_STRING && v &&
                       memchr(p, 0, (size_t)v)) {
                return PL_PB_WIRE_NUL_IN_STRING;
            }
            p += v;
            break;
        }
        default: return PL_PB_WIRE_MALFORMED; /* groups (3, 4) are not proto3; 6, 7 do not exist */
        }
    }
    return PL_PB_WIRE_OK;
}

int pl_pb_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                     int max_depth, bool refuse_nul) {
    static const uint8_t empty[1];
    if (!p) p = empty;
    return walk(d, p, p + n, 0, max_depth, refuse_nul);
}
