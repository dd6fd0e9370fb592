/* error.c - pl_error: recording, context fields and rendering. See include/polaroid/status.h. */
#include <stdio.h>
#include <string.h>

#include "core.h"

void pl_error_init(pl_error *err) {
    if (!err) return;
    memset(err, 0, sizeof *err);
    err->byte_offset = -1;
    err->row = -1;
    err->row_group = -1;
    err->column = -1;
    err->sql_pos = -1;
    err->sql_line = -1;
    err->sql_column = -1;
}

pl_status pl_error_setv(pl_error *err, pl_status code, const char *fmt, va_list ap) {
    if (!err) return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

pl_status pl_error_set(pl_error *err, pl_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void pl_error_forget_row(pl_error *err) {
    if (!err) return;
    if (err->row < 0) {
        /* a kernel that wrote " at row N" without setting err->row: the first such phrase */
        for (char *p = strstr(err->msg, " at row "); p; p = strstr(p + 1, " at row ")) {
            char *q = p + 8;
            if (*q < '0' || *q > '9') continue;
            while (*q >= '0' && *q <= '9') q++;
            memmove(p, q, strlen(q) + 1);
            break;
        }
        return;
    }
    char pat[40];
    int k = snprintf(pat, sizeof pat, " at row %lld", (long long)err->row);
    for (char *p = strstr(err->msg, pat); k > 0 && p; p = strstr(p + 1, pat)) {
        char next = p[k];
        if (next >= '0' && next <= '9') continue; /* " at row 12" is not row 1 */
        memmove(p, p + k, strlen(p + k) + 1);
        break;
    }
    err->row = -1;
}

void pl_error_set_path(pl_error *err, const char *path) {
    if (!err || !path || err->path[0]) return;
    snprintf(err->path, sizeof err->path, "%s", path);
}

void pl_error_set_column(pl_error *err, int32_t column, const char *name) {
    if (!err) return;
    if (err->column < 0 && column >= 0) err->column = column;
    if (!err->column_name[0] && name) snprintf(err->column_name, sizeof err->column_name, "%s", name);
}

const char *pl_error_format(const pl_error *err, char *buf, size_t buf_size) {
    if (!buf || buf_size == 0) return buf;
    buf[0] = 0;
    if (!err) return buf;
    size_t n = 0;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (n < buf_size) {                                                                        \
            int w_ = snprintf(buf + n, buf_size - n, __VA_ARGS__);                                 \
            if (w_ > 0) n += (size_t)w_;                                                           \
        }                                                                                          \
    } while (0)
    const char *sep = "";
    if (err->path[0]) { PUT("\"%s\"", err->path); sep = ": "; }
    if (err->column_name[0]) { PUT("%scolumn \"%s\"", sep, err->column_name); sep = ", "; }
    else if (err->column >= 0) { PUT("%scolumn %d", sep, err->column); sep = ", "; }
    if (err->row_group >= 0) { PUT("%srow group %d", sep, err->row_group); sep = ", "; }
    if (err->row >= 0) { PUT("%srow %lld", sep, (long long)err->row); sep = ", "; }
    if (err->byte_offset >= 0) { PUT("%sbyte %lld", sep, (long long)err->byte_offset); sep = ", "; }
    if (err->sql_line > 0 && err->sql_column > 0) {
        PUT("%sline %d, column %d", sep, (int)err->sql_line, (int)err->sql_column);
        sep = ", ";
    } else if (err->sql_pos >= 0) {
        PUT("%sposition %d", sep, err->sql_pos + 1);
        sep = ", ";
    }
    if (*sep) PUT(": ");
    PUT("%s", err->msg[0] ? err->msg : pl_status_name(err->code));
    if (err->hint[0]) PUT(" (hint: %s)", err->hint);
#undef PUT
    return buf;
}

const char *pl_status_name(pl_status st) {
    switch (st) {
    case PL_OK: return "ok";
    case PL_ERR_INVALID_ARG: return "invalid argument";
    case PL_ERR_NOMEM: return "out of memory";
    case PL_ERR_IO: return "i/o error";
    case PL_ERR_CORRUPT: return "corrupt input";
    case PL_ERR_UNSUPPORTED: return "unsupported";
    case PL_ERR_SQL: return "sql error";
    case PL_ERR_TYPE: return "type error";
    case PL_ERR_LIMIT: return "limit exceeded";
    case PL_ERR_NOT_FOUND: return "not found";
    case PL_ERR_CANCELLED: return "cancelled";
    case PL_ERR_INTERNAL: return "internal error";
    case PL_ERR_PERMISSION: return "permission denied";
    }
    return "unknown status";
}
