/* log.c - structured logs (text or JSON lines) for polaroid serve; see log.h for the formats.
 *
 * Each line is built in a stack buffer of PL_LOG_MAX_LINE bytes and written with one write(2)
 * (the kernel keeps a single write to a pipe under PIPE_BUF, and any write to a file or tty,
 * whole relative to other writes). When a value does not fit it is cut with "..." and the line is
 * closed properly, so a JSON line always parses. The settings are atomics: pl_log_init may run
 * while other threads log. */
#include "server/log.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "server/metrics.h"

#define RESERVE 16 /* room kept for closing a cut line: ...\"}\n and the NUL */

static _Atomic int log_format = PL_LOG_TEXT;
static _Atomic int log_level = PL_LOG_INFO;
static _Atomic int log_fd = 2;

static const char *const level_text[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
static const char *const level_json[] = {"debug", "info", "warn", "error", "off"};

void pl_log_init(pl_log_format format, pl_log_level min_level) {
    atomic_store(&log_format, format == PL_LOG_JSON ? PL_LOG_JSON : PL_LOG_TEXT);
    atomic_store(&log_level, min_level <= PL_LOG_OFF ? (int)min_level : PL_LOG_INFO);
}

void pl_log_set_fd(int fd) { atomic_store(&log_fd, fd); }

pl_status pl_log_parse_format(const char *s, pl_log_format *out, pl_error *err) {
    if (s && strcmp(s, "text") == 0) {
        *out = PL_LOG_TEXT;
        return PL_OK;
    }
    if (s && strcmp(s, "json") == 0) {
        *out = PL_LOG_JSON;
        return PL_OK;
    }
    PL_FAIL(err, PL_ERR_INVALID_ARG, "log format \"%s\" is not text or json", s ? s : "");
}

pl_status pl_log_parse_level(const char *s, pl_log_level *out, pl_error *err) {
    for (int i = 0; s && i <= PL_LOG_OFF; i++)
        if (strcmp(s, level_json[i]) == 0) {
            *out = (pl_log_level)i;
            return PL_OK;
        }
    if (s && strcmp(s, "warning") == 0) {
        *out = PL_LOG_WARN;
        return PL_OK;
    }
    PL_FAIL(err, PL_ERR_INVALID_ARG, "log level \"%s\" is not debug, info, warn, error or off",
            s ? s : "");
}

bool pl_log_enabled(pl_log_level level) {
    return level < PL_LOG_OFF && (int)level >= atomic_load_explicit(&log_level,
                                                                    memory_order_relaxed);
}

/* ---------------------------------------------------------------- request ids */

static _Atomic uint64_t id_counter;
static uint64_t id_seed;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;

static void id_init(void) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
            ((uint64_t)getpid() << 40);
    }
    id_seed = s;
}

/* splitmix64's finalizer: a bijection on 64-bit words, so distinct counters give distinct ids */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void pl_log_request_id(char out[PL_LOG_REQUEST_ID_LEN + 1]) {
    pthread_once(&id_once, id_init);
    uint64_t n = atomic_fetch_add_explicit(&id_counter, 1, memory_order_relaxed);
    uint64_t v = mix64(id_seed + n);
    static const char hex[] = "0123456789abcdef";
    for (int i = PL_LOG_REQUEST_ID_LEN - 1; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[PL_LOG_REQUEST_ID_LEN] = 0;
}

/* ---------------------------------------------------------------- line building */

typedef struct lb {
    char *p;
    size_t len, limit; /* limit: usable bytes (the buffer's size minus RESERVE) */
    size_t mark;       /* length before the current field: a cut outside a string rolls back */
    bool cut;
    int in_str; /* 0: between fields; 1: in a quoted value (a cut closes it with ..."); 2: in
                 * the free-text message (a cut ends it with ...) */
} lb;

/* Appends n bytes whole or not at all (then the line is cut). */
static bool put(lb *b, const char *s, size_t n) {
    if (b->cut) return false;
    if (n > b->limit - b->len) {
        b->cut = true;
        return false;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return true;
}

static bool puts_(lb *b, const char *s) { return put(b, s, strlen(s)); }

static bool putf(lb *b, const char *fmt, ...) PL_PRINTF(2, 3);
static bool putf(lb *b, const char *fmt, ...) {
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return false;
    return put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes there are not one. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* A string's characters, escaped. JSON (without the quotes): RFC 8259 escapes, control
 * characters as \u00XX, invalid UTF-8 as \ufffd. Text: control characters and invalid UTF-8
 * bytes as \xXX; quotes and backslashes escaped too when quoted. */
static void escaped_chars(lb *b, const char *str, bool json, bool quoted) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str);
    bool quotes = json || quoted;
    for (size_t i = 0; i < n && !b->cut;) {
        unsigned char c = s[i];
        char esc[8];
        if (quotes && c == '"') {
            put(b, "\\\"", 2);
        } else if (quotes && c == '\\') {
            put(b, "\\\\", 2);
        } else if (c == '\n') {
            put(b, "\\n", 2);
        } else if (c == '\r') {
            put(b, "\\r", 2);
        } else if (c == '\t') {
            put(b, "\\t", 2);
        } else if (c < 0x20 || c == 0x7f) {
            if (json) snprintf(esc, sizeof esc, "\\u%04x", c);
            else snprintf(esc, sizeof esc, "\\x%02x", c);
            put(b, esc, json ? 6 : 4);
        } else if (c < 0x80) {
            put(b, (const char *)&s[i], 1);
        } else {
            size_t l = utf8_len(s + i, n - i);
            if (l == 0) {
                if (json) {
                    put(b, "\\ufffd", 6);
                } else {
                    snprintf(esc, sizeof esc, "\\x%02x", c);
                    put(b, esc, 4);
                }
                i++;
                continue;
            }
            put(b, (const char *)&s[i], l);
            i += l;
            continue;
        }
        i++;
    }
}

static bool text_needs_quotes(const char *s) {
    if (!*s) return true;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f) return true;
    return false;
}

static void put_double(lb *b, double d, bool json) {
    if (!isfinite(d)) {
        puts_(b, json ? "null" : "NaN");
        return;
    }
    putf(b, "%.6g", d);
}

static void json_field(lb *b, const pl_log_field *f) {
    b->mark = b->len;
    puts_(b, ",\"");
    escaped_chars(b, f->key, true, false);
    puts_(b, "\":");
    switch (f->kind) {
    case PL_LOG_STR:
        puts_(b, "\"");
        if (b->cut) break;
        b->in_str = 1;
        escaped_chars(b, f->s, true, false);
        if (!b->cut) {
            b->in_str = 0;
            puts_(b, "\"");
        }
        break;
    case PL_LOG_INT:
        putf(b, "%lld", (long long)f->i);
        break;
    case PL_LOG_DBL:
        put_double(b, f->d, true);
        break;
    case PL_LOG_BOOL:
        puts_(b, f->i ? "true" : "false");
        break;
    }
}

static void text_field(lb *b, const pl_log_field *f) {
    b->mark = b->len;
    puts_(b, " ");
    puts_(b, f->key);
    puts_(b, "=");
    switch (f->kind) {
    case PL_LOG_STR: {
        bool q = text_needs_quotes(f->s);
        if (q) puts_(b, "\"");
        if (b->cut) break;
        b->in_str = q ? 1 : 2; /* a cut value ends with ... (and its quote) */
        escaped_chars(b, f->s, false, q);
        if (!b->cut) {
            b->in_str = 0;
            if (q) puts_(b, "\"");
        }
        break;
    }
    case PL_LOG_INT:
        putf(b, "%lld", (long long)f->i);
        break;
    case PL_LOG_DBL:
        put_double(b, f->d, false);
        break;
    case PL_LOG_BOOL:
        puts_(b, f->i ? "true" : "false");
        break;
    }
}

size_t pl_log_format_line(char *buf, size_t cap, pl_log_format format, int64_t unix_ms,
                          pl_log_level level, const char *request_id, const pl_log_field *fields,
                          size_t n_fields, const char *msg) {
    if (cap < RESERVE + 64) {
        if (cap) buf[0] = 0;
        return 0;
    }
    lb b = {.p = buf, .limit = cap - RESERVE};
    bool json = format == PL_LOG_JSON;
    if ((unsigned)level > PL_LOG_ERROR) level = PL_LOG_ERROR;

    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[96];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));

    pl_log_field rid = PL_LOG_S("request_id", request_id);
    if (json) {
        putf(&b, "{\"ts\":\"%s\",\"level\":\"%s\"", ts, level_json[level]);
        if (request_id) json_field(&b, &rid);
        for (size_t i = 0; i < n_fields && !b.cut; i++)
            if (fields[i].kind != PL_LOG_STR || fields[i].s) json_field(&b, &fields[i]);
        if (msg && !b.cut) {
            pl_log_field mf = PL_LOG_S("msg", msg);
            json_field(&b, &mf);
        }
    } else {
        putf(&b, "%s %s", ts, level_text[level]);
        if (request_id) text_field(&b, &rid);
        for (size_t i = 0; i < n_fields && !b.cut; i++)
            if (fields[i].kind != PL_LOG_STR || fields[i].s) text_field(&b, &fields[i]);
        if (msg && *msg && !b.cut) {
            b.mark = b.len;
            puts_(&b, " ");
            b.in_str = 2;
            escaped_chars(&b, msg, false, false);
            if (!b.cut) b.in_str = 0;
        }
    }
    /* close the line in the reserved room */
    b.limit = cap - 1;
    if (b.cut) {
        if (b.in_str) {
            b.cut = false;
            put(&b, "...", 3);
            if (b.in_str == 1) put(&b, "\"", 1);
        } else {
            b.len = b.mark; /* drop the half-written field */
        }
        b.cut = false;
    }
    if (json) put(&b, "}", 1);
    put(&b, "\n", 1);
    buf[b.len] = 0;
    return b.len;
}

static void write_line(const char *p, size_t n) {
    int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere to report a failing log */
        }
        p += w;
        n -= (size_t)w;
    }
}

static int64_t unix_ms_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pl_log_kv(pl_log_level level, const char *request_id, const pl_log_field *fields,
               size_t n_fields, const char *msg) {
    if (!pl_log_enabled(level)) return;
    char buf[PL_LOG_MAX_LINE];
    size_t n = pl_log_format_line(buf, sizeof buf, (pl_log_format)atomic_load(&log_format),
                                  unix_ms_now(), level, request_id, fields, n_fields, msg);
    write_line(buf, n);
}

void pl_log(pl_log_level level, const char *request_id, const char *fmt, ...) {
    if (!pl_log_enabled(level)) return;
    char msg[PL_LOG_MAX_LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_log_kv(level, request_id, NULL, 0, msg);
}

void pl_log_call(const pl_log_call_info *ci) {
    int code = ci->grpc_code;
    pl_log_level level = PL_LOG_INFO;
    /* server-side failures: INTERNAL, UNKNOWN, DATA_LOSS, RESOURCE_EXHAUSTED, UNAVAILABLE */
    if (code == 13 || code == 2 || code == 15 || code == 8 || code == 14) level = PL_LOG_WARN;
    else if (code == 0 && ci->light) level = PL_LOG_DEBUG;
    if (!pl_log_enabled(level)) return;
    pl_log_field f[9];
    size_t n = 0;
    f[n++] = PL_LOG_S("method", ci->method ? ci->method : "unknown");
    f[n++] = PL_LOG_S("status", pl_metrics_code_name(code));
    if (ci->rows >= 0) f[n++] = PL_LOG_I("rows", ci->rows);
    if (ci->bytes >= 0) f[n++] = PL_LOG_I("bytes", ci->bytes);
    /* milliseconds to the microsecond: 1.9, not 1.89974 */
    f[n++] = PL_LOG_D("ms", (double)llround((double)ci->latency_ns / 1e3) / 1e3);
    if (ci->queued_ns > 0)
        f[n++] = PL_LOG_D("queue_ms", (double)llround((double)ci->queued_ns / 1e3) / 1e3);
    if (ci->cancelled) f[n++] = PL_LOG_B("cancelled", true);
    if (ci->peer) f[n++] = PL_LOG_S("peer", ci->peer);
    pl_log_kv(level, ci->request_id, f, n, ci->error ? ci->error : "call done");
}
