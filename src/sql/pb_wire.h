/* pb_wire.h - a check of protobuf bytes before protobuf-c unpacks them: the message is walked
 * by its descriptors, without allocating, so that nesting beyond a limit (protobuf-c and the
 * code after it recurse once per level) and malformed framing are refused up front. Used for
 * libpg_query's parse trees (src/sql/parse_guard.c) and the server's requests
 * (src/server/service.c). */
#ifndef PL_SQL_PB_WIRE_H
#define PL_SQL_PB_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    PL_PB_WIRE_OK = 1,
    PL_PB_WIRE_MALFORMED = 0,
    PL_PB_WIRE_TOO_DEEP = -1,
    PL_PB_WIRE_NUL_IN_STRING = -2, /* only when refuse_nul: C strings would end there */
};

/* One of the PL_PB_WIRE_* values for the n bytes at p as a message of descriptor d, at most
 * max_depth message levels deep. */
int pl_pb_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                     int max_depth, bool refuse_nul);

#endif
