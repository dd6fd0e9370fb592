/* errors.c - engine errors as gRPC statuses and polaroid.v1.ErrorDetail messages, and the
 * protobuf-c allocator that bounds what a request may make the server allocate.
 *
 * Mapping (pl_status -> grpc_status_code):
 *   NOT_FOUND -> NOT_FOUND; INVALID_ARG, SQL, TYPE -> INVALID_ARGUMENT ("... already exists"
 *   -> ALREADY_EXISTS; a SQL statement whose table another request changed meanwhile,
 *   "changed by another request while this statement ran", -> ABORTED); LIMIT -> INVALID_ARGUMENT for limits a request's shape breaks (plan
 *   depth, plan size, message size: the message names the limit and the request is wrong, not
 *   the server busy), RESOURCE_EXHAUSTED otherwise (handles per client, memory); NOMEM ->
 *   RESOURCE_EXHAUSTED; CANCELLED -> DEADLINE_EXCEEDED when the message says a deadline or
 *   time limit passed ("query deadline exceeded"), else CANCELLED; PERMISSION ->
 *   PERMISSION_DENIED; CORRUPT -> DATA_LOSS (a file under the data root is damaged; a corrupt
 *   upload from the client is reported as INVALID_ARG by the service); IO -> UNAVAILABLE;
 *   UNSUPPORTED -> UNIMPLEMENTED; INTERNAL -> INTERNAL.
 *
 * Messages never show the server's data root: pl_srv_error_detail and pl_srv_error_strip
 * replace "<root>/" by "" in the path and the message. */
#include <ctype.h>
#include <grpc/status.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "server/catalog.h"
#include "server/service.h"

static bool contains(const char *s, const char *needle) { return s && strstr(s, needle); }

int pl_srv_grpc_code(const pl_error *err) {
    if (!err) return GRPC_STATUS_UNKNOWN;
    switch (err->code) {
    case PL_OK: return GRPC_STATUS_OK;
    case PL_ERR_NOT_FOUND: return GRPC_STATUS_NOT_FOUND;
    case PL_ERR_INVALID_ARG:
    case PL_ERR_SQL:
    case PL_ERR_TYPE:
        if (contains(err->msg, "changed by another request while this statement ran"))
            return GRPC_STATUS_ABORTED;
        return contains(err->msg, "already exists") ? GRPC_STATUS_ALREADY_EXISTS
                                                    : GRPC_STATUS_INVALID_ARGUMENT;
    case PL_ERR_LIMIT:
        if (contains(err->msg, "plan nested deeper") || contains(err->msg, "plan has more than") ||
            contains(err->msg, "nested too deeply"))
            return GRPC_STATUS_INVALID_ARGUMENT;
        return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case PL_ERR_NOMEM: return GRPC_STATUS_RESOURCE_EXHAUSTED;
    case PL_ERR_CANCELLED:
        return contains(err->msg, "deadline") || contains(err->msg, "time limit")
                   ? GRPC_STATUS_DEADLINE_EXCEEDED
                   : GRPC_STATUS_CANCELLED;
    case PL_ERR_PERMISSION: return GRPC_STATUS_PERMISSION_DENIED;
    case PL_ERR_CORRUPT: return GRPC_STATUS_DATA_LOSS;
    case PL_ERR_IO: return GRPC_STATUS_UNAVAILABLE;
    case PL_ERR_UNSUPPORTED: return GRPC_STATUS_UNIMPLEMENTED;
    case PL_ERR_INTERNAL: return GRPC_STATUS_INTERNAL;
    }
    return GRPC_STATUS_UNKNOWN;
}

/* Replaces every "<root>/" in s by "" and a bare "<root>" by ".", in place. */
void pl_srv_strip_root(char *s, const char *root) {
    if (!s || !root) return;
    size_t rn = strlen(root);
    while (rn > 1 && root[rn - 1] == '/') rn--;
    if (rn <= 1) return; /* the root is "/": nothing to hide */
    for (char *p = s; *p;) {
        if (strncmp(p, root, rn) != 0) {
            p++;
            continue;
        }
        char c = p[rn];
        if (c == '/') {
            memmove(p, p + rn + 1, strlen(p + rn + 1) + 1);
        } else if (c == '\0' || strchr("\"' :,;)", c)) {
            p[0] = '.';
            memmove(p + 1, p + rn, strlen(p + rn) + 1);
            p++;
        } else {
            p++;
        }
    }
}

void pl_srv_error_strip(pl_error *err, const char *data_root) {
    if (!err || !data_root) return;
    pl_srv_strip_root(err->msg, data_root);
    pl_srv_strip_root(err->hint, data_root);
    pl_srv_strip_root(err->path, data_root);
}

/* Length of the plan path the plan decoder puts in front of its messages ("root",
 * then ".name" or "[n]" steps, then ": "), without the ": "; 0 when msg has none. */
static size_t plan_path_len(const char *msg) {
    if (strncmp(msg, "root", 4) != 0) return 0;
    size_t i = 4;
    for (;;) {
        if (msg[i] == '.' && (islower((unsigned char)msg[i + 1]) || msg[i + 1] == '_')) {
            i++;
            while (islower((unsigned char)msg[i]) || isdigit((unsigned char)msg[i]) || msg[i] == '_') i++;
        } else if (msg[i] == '[' && isdigit((unsigned char)msg[i + 1])) {
            i++;
            while (isdigit((unsigned char)msg[i])) i++;
            if (msg[i] != ']') return 0;
            i++;
        } else {
            break;
        }
    }
    return msg[i] == ':' && msg[i + 1] == ' ' ? i : 0;
}

pl_status pl_srv_error_detail(const pl_error *err, const char *data_root, const char *request_id,
                              uint8_t **out, size_t *out_len) {
    if (!err || !out || !out_len) return PL_ERR_INVALID_ARG;
    pl_error e = *err;
    pl_srv_error_strip(&e, data_root);
    Polaroid__V1__ErrorDetail d = POLAROID__V1__ERROR_DETAIL__INIT;
    d.status = (char *)pl_status_name(e.code);
    /* a plan error's place ("root.filter.predicate: ...") goes to its own field */
    char plan_path[sizeof e.msg];
    size_t pn = plan_path_len(e.msg);
    memcpy(plan_path, e.msg, pn);
    plan_path[pn] = '\0';
    d.plan_path = plan_path;
    d.message = pn ? e.msg + pn + 2 : e.msg;
    d.hint = e.hint;
    d.path = e.path;
    d.column = e.column_name;
    d.column_index = e.column;
    d.row_group = e.row_group;
    d.row = e.row;
    d.byte_offset = e.byte_offset;
    d.sql_position = e.sql_pos;
    d.sql_line = e.sql_line > 0 ? e.sql_line : 0;
    d.sql_column = e.sql_column > 0 ? e.sql_column : 0;
    d.request_id = (char *)(request_id ? request_id : "");
    size_t n = polaroid__v1__error_detail__get_packed_size(&d);
    uint8_t *buf = pl_malloc(n ? n : 1);
    if (!buf) return PL_ERR_NOMEM;
    polaroid__v1__error_detail__pack(&d, buf);
    *out = buf;
    *out_len = n;
    return PL_OK;
}

/* ---------------------------------------------------------------- protobuf-c allocator */

static _Atomic int64_t g_pb_max_alloc = 64ll << 20;
static _Atomic int64_t g_pb_bytes;

void pl_srv_pb_set_max_alloc(int64_t n_bytes) {
    atomic_store(&g_pb_max_alloc, n_bytes > 0 ? n_bytes : (64ll << 20));
}

int64_t pl_srv_pb_allocated_bytes(void) { return atomic_load(&g_pb_bytes); }

/* Each block carries its size in a 16-byte header so frees can be counted. */
static void *pb_alloc(void *data, size_t size) {
    PL_UNUSED(data);
    /* protobuf-c sizes repeated fields from the element count it has already seen, and
     * strings and bytes from their length prefix: a hostile prefix is refused here */
    if ((int64_t)size > atomic_load(&g_pb_max_alloc) || size > SIZE_MAX - 16) return NULL;
    uint8_t *p = pl_malloc(size + 16);
    if (!p) return NULL;
    memcpy(p, &size, sizeof size);
    atomic_fetch_add(&g_pb_bytes, (int64_t)size);
    return p + 16;
}

static void pb_free(void *data, void *ptr) {
    PL_UNUSED(data);
    if (!ptr) return;
    uint8_t *p = (uint8_t *)ptr - 16;
    size_t size;
    memcpy(&size, p, sizeof size);
    atomic_fetch_sub(&g_pb_bytes, (int64_t)size);
    pl_free(p);
}

static ProtobufCAllocator g_pb_allocator = {pb_alloc, pb_free, NULL};

ProtobufCAllocator *pl_srv_pb_allocator(void) { return &g_pb_allocator; }
