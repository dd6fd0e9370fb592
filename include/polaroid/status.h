/* polaroid/status.h - status codes and the error record every fallible call fills.
 *
 * Every fallible function returns pl_status and takes `pl_error *err` as its last argument
 * (err may be NULL). Outputs are written only on PL_OK. The layer that knows a fact fills its
 * field; callers fill fields that are still unset (-1 or "") on the way up. */
#ifndef POLAROID_STATUS_H
#define POLAROID_STATUS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PL_API __attribute__((visibility("default")))
#define PL_NODISCARD __attribute__((warn_unused_result))
#define PL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PL_API
#define PL_NODISCARD
#define PL_PRINTF(a, b)
#endif

typedef enum pl_status {
    PL_OK = 0,
    PL_ERR_INVALID_ARG, /* caller passed something unusable (bad option, bad argument) */
    PL_ERR_NOMEM,       /* allocation failed or the memory limit was hit */
    PL_ERR_IO,          /* the OS refused a read/write/open */
    PL_ERR_CORRUPT,     /* input bytes violate their format */
    PL_ERR_UNSUPPORTED, /* valid input that uses a feature polaroid does not implement */
    PL_ERR_SQL,         /* SQL syntax or binding error */
    PL_ERR_TYPE,        /* type mismatch or failed cast */
    PL_ERR_LIMIT,       /* a named limit (src/core/limits.h) was exceeded */
    PL_ERR_NOT_FOUND,   /* file, column or object does not exist */
    PL_ERR_CANCELLED,   /* the operation was cancelled or hit its deadline */
    PL_ERR_INTERNAL,    /* a bug in polaroid */
    PL_ERR_PERMISSION   /* refused: a path outside the server's data root, a missing right */
} pl_status;

typedef struct pl_error {
    pl_status code;
    char msg[512];  /* primary message: short, lower case, no trailing period */
    char hint[256]; /* optional advice ("" = none) */
    char path[256]; /* file the error is about ("" = n/a) */
    int64_t byte_offset, row;            /* -1 = not applicable */
    int32_t row_group, column, sql_pos;  /* -1 = not applicable */
    char column_name[128];               /* "" = n/a */
    /* sql_pos as 1-based line and column (in characters) of the SQL text, where the text is
     * known to whoever reports the error (the server's SQL scripts); -1 = not given */
    int32_t sql_line, sql_column;
} pl_error;

/* Resets every field to "not applicable". */
PL_API void pl_error_init(pl_error *err);

/* Records code and a printf-style message into err (if not NULL) and returns code. Context
 * fields are left as they are. */
PL_API pl_status pl_error_set(pl_error *err, pl_status code, const char *fmt, ...) PL_PRINTF(3, 4);
PL_API pl_status pl_error_setv(pl_error *err, pl_status code, const char *fmt, va_list ap);

/* Fills context fields that are still unset. Pass NULL/-1 to leave a field alone. */
PL_API void pl_error_set_path(pl_error *err, const char *path);
PL_API void pl_error_set_column(pl_error *err, int32_t column, const char *name);

/* Renders `"path": column "c", row group 3, byte 91234: msg (hint)` into buf; returns buf. */
PL_API const char *pl_error_format(const pl_error *err, char *buf, size_t buf_size);

/* Static name of a status ("corrupt input", ...). */
PL_API const char *pl_status_name(pl_status st);

#define PL_TRY(expr)                                                                               \
    do {                                                                                           \
        pl_status pl__st = (expr);                                                                 \
        if (pl__st != PL_OK) return pl__st;                                                        \
    } while (0)

/* Records the message and returns code (a constant, so the compiler sees the failure path). */
#define PL_FAIL(err, code, ...)                                                                    \
    do {                                                                                           \
        pl_error_set((err), (code), __VA_ARGS__);                                                  \
        return (code);                                                                             \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
