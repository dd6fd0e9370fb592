/* log.h - the server's structured logs: one line per event on stderr, as text or JSON lines.
 *
 * Text:  2026-11-27T03:40:00.123Z INFO request_id=3f9a0c21d4e5b677 method=Execute status=OK
 *        rows=10 bytes=1234 ms=1.2 peer=ipv4:127.0.0.1:5555 call done
 *        (key=value pairs; a value with spaces, quotes, '=' or control characters is written in
 *        double quotes with C-style escapes; the free-text message comes last, escaped too)
 * JSON:  {"ts":"2026-11-27T03:40:00.123Z","level":"info","request_id":"3f9a...","method":
 *        "Execute","status":"OK","rows":10,"bytes":1234,"ms":1.2,"peer":"...","msg":"call done"}
 *        (one object per line; strings escaped per RFC 8259, control characters as \u00XX,
 *        invalid UTF-8 bytes replaced by U+FFFD)
 *
 * Threads: every function may be called from any thread; each line is built in a local buffer
 * and written with one write(2) (lines are capped at PL_LOG_MAX_LINE bytes; longer values are
 * cut and end with "..."), so lines from different threads never interleave. */
#ifndef PL_SERVER_LOG_H
#define PL_SERVER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "polaroid/status.h"

#define PL_LOG_MAX_LINE 4096
/* request ids are 16 lowercase hex characters */
#define PL_LOG_REQUEST_ID_LEN 16

typedef enum pl_log_format { PL_LOG_TEXT = 0, PL_LOG_JSON } pl_log_format;
typedef enum pl_log_level {
    PL_LOG_DEBUG = 0,
    PL_LOG_INFO,
    PL_LOG_WARN,
    PL_LOG_ERROR,
    PL_LOG_OFF
} pl_log_level;

/* Sets the format and the lowest level written (defaults: text, info). May be called again. */
void pl_log_init(pl_log_format format, pl_log_level min_level);
/* Where lines go (default 2, stderr); for tests. */
void pl_log_set_fd(int fd);
/* "text" | "json"; "debug" | "info" | "warn" | "error" | "off". Errors: PL_ERR_INVALID_ARG. */
pl_status pl_log_parse_format(const char *s, pl_log_format *out, pl_error *err);
pl_status pl_log_parse_level(const char *s, pl_log_level *out, pl_error *err);
/* Whether a line at this level would be written (skip building expensive messages). */
bool pl_log_enabled(pl_log_level level);

/* A new request id: 16 hex characters and a NUL into out. Unique in the process (a counter
 * mixed by a bijection, started at a random point), so ids from restarts differ too. */
void pl_log_request_id(char out[PL_LOG_REQUEST_ID_LEN + 1]);

/* A free-text line; request_id may be NULL. */
void pl_log(pl_log_level level, const char *request_id, const char *fmt, ...) PL_PRINTF(3, 4);

/* A key/value field for pl_log_kv. */
typedef enum pl_log_kind { PL_LOG_STR, PL_LOG_INT, PL_LOG_DBL, PL_LOG_BOOL } pl_log_kind;
typedef struct pl_log_field {
    const char *key; /* [A-Za-z0-9_.] expected; written as given (escaped in JSON) */
    pl_log_kind kind;
    const char *s; /* PL_LOG_STR (NULL: field skipped) */
    int64_t i;     /* PL_LOG_INT, PL_LOG_BOOL */
    double d;      /* PL_LOG_DBL */
} pl_log_field;
#define PL_LOG_S(k, v) ((pl_log_field){.key = (k), .kind = PL_LOG_STR, .s = (v)})
#define PL_LOG_I(k, v) ((pl_log_field){.key = (k), .kind = PL_LOG_INT, .i = (int64_t)(v)})
#define PL_LOG_D(k, v) ((pl_log_field){.key = (k), .kind = PL_LOG_DBL, .d = (double)(v)})
#define PL_LOG_B(k, v) ((pl_log_field){.key = (k), .kind = PL_LOG_BOOL, .i = (v) ? 1 : 0})

/* A line with fields in the given order and a message (may be NULL or ""). */
void pl_log_kv(pl_log_level level, const char *request_id, const pl_log_field *fields,
               size_t n_fields, const char *msg);

/* A finished call, as the transport logs it: INFO for OK, WARN for server-side failures
 * (INTERNAL, UNKNOWN, DATA_LOSS, RESOURCE_EXHAUSTED, UNAVAILABLE), INFO for client errors;
 * cheap methods that succeed (light = true: health checks, ServerInfo, heartbeats) log at DEBUG.
 * error may be NULL; rows/bytes < 0 are left out. */
typedef struct pl_log_call_info {
    const char *request_id;
    const char *method; /* "Execute" */
    int grpc_code;
    int64_t latency_ns;
    int64_t rows, bytes;
    const char *peer;
    const char *error; /* the error message sent to the client, or NULL */
    bool light;
    int64_t queued_ns; /* time waiting for a query slot; <= 0: left out */
    bool cancelled;    /* the client cancelled, disconnected or hit its deadline */
} pl_log_call_info;
void pl_log_call(const pl_log_call_info *ci);

/* Into buf (cap bytes, NUL-terminated), without writing: the line pl_log_kv would write (with
 * the trailing newline), given a timestamp in Unix ms. Returns the length. For tests. */
size_t pl_log_format_line(char *buf, size_t cap, pl_log_format format, int64_t unix_ms,
                          pl_log_level level, const char *request_id, const pl_log_field *fields,
                          size_t n_fields, const char *msg);

#endif
