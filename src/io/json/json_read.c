/* json_read.c - the JSON reader: newline-delimited JSON or one top-level array, type inference
 * over a sample like DuckDB's read_json, and a parallel chunked parser that appends values
 * straight into column builders.
 *
 * Flow: detect the format of the first input (newline-delimited, or an array when the first
 * value is an array of objects or the only value), infer a "shape" for every key from the
 * first json_sample_rows values (of up to PL_JSON_MAX_SAMPLE_FILES inputs), resolve shapes to
 * types (null only -> the null type, numbers -> int64 or float64, ISO date/time strings ->
 * date32/timestamp/time64, arrays -> list, objects -> struct (empty ones -> map), anything
 * mixed -> utf8 holding the value's JSON text), then stream. Each `next` pops a batch from a
 * queue; when it is empty a "wave" of chunks is parsed with pl_parallel_for. A
 * newline-delimited input is cut at '\n' bytes; each chunk parser must end exactly where its
 * successor begins (a record spanning lines makes it overrun), else the rest of the input is
 * parsed sequentially from the last verified boundary, so results never depend on the
 * chunking. Arrays are parsed sequentially.
 *
 * Invariants: the parser is a byte loop over the mapped input with an explicit depth limit
 * (PL_JSON_MAX_DEPTH); strings are views into the input unless they hold escapes (decoded into
 * a scratch buffer, \uXXXX surrogate pairs to UTF-8); strings are validated as UTF-8; errors
 * carry path, line (pl_error.row, 1-based), column and byte offset. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/text/text_src.h"
#include "io/json/json.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- cursor */

typedef struct jcur {
    const uint8_t *d;
    int64_t n, pos;
    int32_t depth;
    /* the first failure: where, what */
    pl_status code;
    int64_t err_pos;
    int32_t err_col; /* top-level column being read, -1 = none */
    char why[256];
    int32_t col;       /* top-level column being read now */
    pl_strbuf scratch; /* decoded strings */
    pl_strbuf text;    /* JSON text of values read into text columns */
    bool trailing_commas; /* `[1,]`, `{"a":1,}` (SQL's JSON functions, as DuckDB's) */
} jcur;

PL_PRINTF(4, 5)
static bool jfail(jcur *c, int64_t at, pl_status code, const char *fmt, ...) {
    if (c->code) return false;
    c->code = code;
    c->err_pos = at;
    c->err_col = c->col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof c->why, fmt, ap);
    va_end(ap);
    return false;
}

static bool jnomem(jcur *c) { return jfail(c, c->pos, PL_ERR_NOMEM, "out of memory"); }

static inline void skip_ws(jcur *c) {
    const uint8_t *d = c->d;
    int64_t p = c->pos, n = c->n;
    while (p < n && (d[p] == ' ' || d[p] == '\n' || d[p] == '\r' || d[p] == '\t')) p++;
    c->pos = p;
}

/* A short, printable description of the byte at pos for messages. */
static const char *found_what(const jcur *c, char *buf, size_t n) {
    if (c->pos >= c->n) return "the end of the data";
    uint8_t b = c->d[c->pos];
    if (b >= 0x20 && b < 0x7F) snprintf(buf, n, "'%c'", (char)b);
    else snprintf(buf, n, "byte 0x%02X", b);
    return buf;
}

static bool fail_unexpected(jcur *c, const char *expected) {
    char fb[32];
    return jfail(c, c->pos, PL_ERR_CORRUPT, "expected %s, found %s", expected,
                 found_what(c, fb, sizeof fb));
}

/* ---------------------------------------------------------------- strings */

#define K_ONES8 0x0101010101010101ull
#define K_HIGH8 0x8080808080808080ull

static inline uint64_t has_zero_byte(uint64_t v) { return (v - K_ONES8) & ~v & K_HIGH8; }

static int hex_val(uint8_t b) {
    if (b >= '0' && b <= '9') return b - '0';
    if (b >= 'a' && b <= 'f') return b - 'a' + 10;
    if (b >= 'A' && b <= 'F') return b - 'A' + 10;
    return -1;
}

static bool read_hex4(jcur *c, int64_t p, uint32_t *out) {
    if (c->n - p < 4) return jfail(c, p, PL_ERR_CORRUPT, "truncated \\u escape in a string");
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_val(c->d[p + k]);
        if (h < 0) return jfail(c, p, PL_ERR_CORRUPT, "invalid \\u escape in a string");
        v = v * 16 + (uint32_t)h;
    }
    *out = v;
    return true;
}

static int put_utf8(uint32_t cp, char *o) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads the string at c->pos (a quote). *s and *len: its decoded UTF-8 text, a view into the input
 * when it has no escapes, else into c->scratch (valid until the next string is read). */
static bool read_string(jcur *c, const char **s, int64_t *len) {
    const uint8_t *d = c->d;
    int64_t n = c->n, start = c->pos + 1, p = start;
    bool ascii = true;
    for (;;) {
        if (n - p >= 8) {
            uint64_t w;
            memcpy(&w, d + p, 8);
            uint64_t m = has_zero_byte(w ^ (K_ONES8 * '"')) | has_zero_byte(w ^ (K_ONES8 * '\\')) |
                         ((w - K_ONES8 * 0x20) & ~w & K_HIGH8) | (w & K_HIGH8);
            if (!m) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(m) >> 3;
        } else if (p >= n) {
            return jfail(c, c->pos, PL_ERR_CORRUPT, "unterminated string");
        }
        uint8_t b = d[p];
        if (b == '"') break;
        if (b == '\\') goto escaped;
        if (b < 0x20) return jfail(c, p, PL_ERR_CORRUPT, "control character 0x%02X in a string", b);
        if (b >= 0x80) ascii = false;
        p++;
    }
    if (!ascii && !pl_utf8_valid(d + start, p - start))
        return jfail(c, c->pos, PL_ERR_CORRUPT, "invalid UTF-8 in a string");
    *s = (const char *)d + start;
    *len = p - start;
    c->pos = p + 1;
    return true;
escaped:
    c->scratch.len = 0;
    if (pl_strbuf_reserve(&c->scratch, (p - start) + 64, NULL)) return jnomem(c);
    memcpy(c->scratch.data, d + start, (size_t)(p - start));
    c->scratch.len = p - start;
    for (;;) {
        if (p >= n) return jfail(c, c->pos, PL_ERR_CORRUPT, "unterminated string");
        uint8_t b = d[p];
        if (b == '"') break;
        if (c->scratch.len + 8 > c->scratch.cap &&
            pl_strbuf_reserve(&c->scratch, 8 + c->scratch.len / 2, NULL))
            return jnomem(c);
        char *o = c->scratch.data + c->scratch.len;
        if (b != '\\') {
            if (b < 0x20)
                return jfail(c, p, PL_ERR_CORRUPT, "control character 0x%02X in a string", b);
            if (b >= 0x80) ascii = false;
            *o = (char)b;
            c->scratch.len++;
            p++;
            continue;
        }
        if (p + 1 >= n) return jfail(c, c->pos, PL_ERR_CORRUPT, "unterminated string");
        uint8_t e = d[p + 1];
        char ch;
        switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (!read_hex4(c, p + 2, &cp)) return false;
            int64_t at = p;
            p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return jfail(c, at, PL_ERR_CORRUPT, "unpaired low surrogate \\u%04X in a string",
                             cp);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (n - p < 2 || d[p] != '\\' || d[p + 1] != 'u')
                    return jfail(c, at, PL_ERR_CORRUPT, "high surrogate \\u%04X without a low "
                                 "surrogate in a string", cp);
                if (!read_hex4(c, p + 2, &lo)) return false;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return jfail(c, at, PL_ERR_CORRUPT, "high surrogate \\u%04X without a low "
                                 "surrogate in a string", cp);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            c->scratch.len += put_utf8(cp, o);
            continue;
        }
        default:
            return jfail(c, p, PL_ERR_CORRUPT, "invalid escape '\\%c' in a string",
                         e >= 0x20 && e < 0x7F ? (char)e : '?');
        }
        *o = ch;
        c->scratch.len++;
        p += 2;
    }
    if (!ascii && !pl_utf8_valid((const uint8_t *)c->scratch.data, c->scratch.len))
        return jfail(c, c->pos, PL_ERR_CORRUPT, "invalid UTF-8 in a string");
    *s = c->scratch.data;
    *len = c->scratch.len;
    c->pos = p + 1;
    return true;
}

/* ---------------------------------------------------------------- numbers */

typedef struct jnum {
    bool integral; /* no fraction, no exponent */
    bool fits;     /* integral and within int64 */
    bool fits_u64; /* integral, beyond int64 and within uint64 (DuckDB infers HUGEINT) */
    int64_t i;
    uint64_t u;    /* fits_u64: the value */
    double f;
    int64_t start, len; /* the literal's text */
} jnum;

static const double k_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Reads the number at c->pos (JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?).
 * Doubles take an exact fast path (<= 15 significant digits, |power of ten| <= 22) and
 * strtod otherwise. */
static bool read_number(jcur *c, jnum *out) {
    const uint8_t *d = c->d;
    int64_t n = c->n, p = c->pos;
    bool neg = false;
    if (p < n && d[p] == '-') {
        neg = true;
        p++;
    }
    if (p >= n || d[p] < '0' || d[p] > '9') {
        c->pos = p;
        return fail_unexpected(c, "a digit");
    }
    uint64_t m = 0;
    int nd = 0; /* significant digits in m */
    int64_t exp10 = 0;
    bool overflow = false; /* more digits than m holds */
    if (d[p] == '0') {
        p++;
        if (p < n && d[p] >= '0' && d[p] <= '9')
            return jfail(c, p, PL_ERR_CORRUPT, "leading zero in a number");
    } else {
        for (; p < n && d[p] >= '0' && d[p] <= '9'; p++) {
            if (nd < 19) {
                m = m * 10 + (uint64_t)(d[p] - '0');
                nd++;
            } else {
                overflow = true;
                exp10++;
            }
        }
    }
    bool integral = true;
    if (p < n && d[p] == '.') {
        integral = false;
        p++;
        if (p >= n || d[p] < '0' || d[p] > '9') {
            c->pos = p;
            return fail_unexpected(c, "a digit after the decimal point");
        }
        for (; p < n && d[p] >= '0' && d[p] <= '9'; p++) {
            if (nd < 19) {
                if (m || d[p] != '0') nd += m ? 1 : (d[p] != '0');
                m = m * 10 + (uint64_t)(d[p] - '0');
                exp10--;
            } else if (d[p] != '0') {
                overflow = true;
            }
        }
    }
    if (p < n && (d[p] == 'e' || d[p] == 'E')) {
        integral = false;
        p++;
        bool eneg = false;
        if (p < n && (d[p] == '+' || d[p] == '-')) eneg = d[p++] == '-';
        if (p >= n || d[p] < '0' || d[p] > '9') {
            c->pos = p;
            return fail_unexpected(c, "a digit in the exponent");
        }
        int64_t ev = 0;
        for (; p < n && d[p] >= '0' && d[p] <= '9'; p++)
            if (ev < 100000) ev = ev * 10 + (d[p] - '0');
        exp10 += eneg ? -ev : ev;
    }
    out->start = c->pos;
    out->len = p - c->pos;
    out->integral = integral;
    out->fits = out->fits_u64 = false;
    bool in_range = m <= (uint64_t)INT64_MAX || (neg && m == (uint64_t)INT64_MAX + 1);
    if (integral && !overflow && in_range) {
        out->fits = true;
        out->i = neg ? (int64_t)(0 - m) : (int64_t)m;
        out->f = (double)out->i;
        c->pos = p;
        return true;
    }
    if (integral && !neg && out->len <= 20) {
        /* 19 or 20 digits beyond int64: exact when within uint64 */
        uint64_t x = 0;
        bool ok = true;
        for (int64_t k = 0; k < out->len && ok; k++) {
            unsigned dg = (unsigned)(d[out->start + k] - '0');
            ok = x <= (UINT64_MAX - dg) / 10;
            x = x * 10 + dg;
        }
        if (ok) {
            out->fits_u64 = true;
            out->u = x;
        }
    }
    if (m == 0) {
        out->f = neg ? -0.0 : 0.0;
    } else if (!overflow && nd <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / k_pow10[-exp10] : v * k_pow10[exp10];
        out->f = neg ? -v : v;
    } else {
        char small[128];
        char *tmp = out->len < (int64_t)sizeof small ? small : pl_malloc((size_t)out->len + 1);
        if (!tmp) return jnomem(c);
        memcpy(tmp, d + out->start, (size_t)out->len);
        tmp[out->len] = '\0';
        out->f = strtod(tmp, NULL);
        if (tmp != small) pl_free(tmp);
    }
    c->pos = p;
    return true;
}

/* Unsigned 64-bit value of an integral literal (for uint64 columns). */
static bool num_u64(const jcur *c, const jnum *v, uint64_t *out) {
    (void)c;
    if (v->fits_u64) {
        *out = v->u;
        return true;
    }
    if (!v->fits || v->i < 0) return false;
    *out = (uint64_t)v->i;
    return true;
}

/* ---------------------------------------------------------------- literals, generic values */

static bool read_word(jcur *c, const char *w, int64_t wl) {
    if (c->n - c->pos < wl || memcmp(c->d + c->pos, w, (size_t)wl) != 0)
        return fail_unexpected(c, "a JSON value");
    c->pos += wl;
    return true;
}

static bool enter(jcur *c) {
    if (++c->depth > PL_JSON_MAX_DEPTH)
        return jfail(c, c->pos, PL_ERR_LIMIT, "nesting deeper than %d levels", PL_JSON_MAX_DEPTH);
    return true;
}

/* Opens the object or array at c->pos (enters a nesting level); *empty when `close` follows at
 * once (consumed, the level left). */
static bool open_container(jcur *c, char close, bool *empty) {
    if (!enter(c)) return false;
    c->pos++;
    skip_ws(c);
    *empty = c->pos < c->n && c->d[c->pos] == close;
    if (*empty) {
        c->pos++;
        c->depth--;
    }
    return true;
}

/* After a member or element: 1 when ',' follows, 0 when `close` ends the container (the level
 * left), -1 on an error (recorded); the byte is consumed. */
static int next_member(jcur *c, char close) {
    skip_ws(c);
    if (c->pos < c->n && c->d[c->pos] == ',') {
        c->pos++;
        if (c->trailing_commas) {
            skip_ws(c);
            if (c->pos < c->n && c->d[c->pos] == close) {
                c->pos++;
                c->depth--;
                return 0;
            }
        }
        return 1;
    }
    if (c->pos < c->n && c->d[c->pos] == close) {
        c->pos++;
        c->depth--;
        return 0;
    }
    fail_unexpected(c, close == '}' ? "',' or '}'" : "',' or ']'");
    return -1;
}

/* Reads a member's key and the ':' after it; *at: the key's offset. */
static bool read_key(jcur *c, const char **k, int64_t *len, int64_t *at) {
    skip_ws(c);
    if (c->pos >= c->n || c->d[c->pos] != '"') return fail_unexpected(c, "a key string");
    *at = c->pos;
    if (!read_string(c, k, len)) return false;
    skip_ws(c);
    if (c->pos >= c->n || c->d[c->pos] != ':') return fail_unexpected(c, "':'");
    c->pos++;
    return true;
}

static bool put_text(jcur *c, pl_strbuf *out, const char *s, int64_t n) {
    if (pl_strbuf_append(out, s, n, NULL)) return jnomem(c);
    return true;
}

/* Appends s as a JSON string literal (escaping '"', '\\' and control characters). */
static bool put_json_string(jcur *c, pl_strbuf *out, const char *s, int64_t n) {
    if (pl_strbuf_reserve(out, n + 2, NULL)) return jnomem(c);
    out->data[out->len++] = '"';
    int64_t run = 0;
    for (int64_t k = 0; k < n; k++) {
        uint8_t b = (uint8_t)s[k];
        if (b >= 0x20 && b != '"' && b != '\\') continue;
        if (!put_text(c, out, s + run, k - run)) return false;
        char esc[8];
        int el = 2;
        esc[0] = '\\';
        switch (b) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default: el = snprintf(esc, sizeof esc, "\\u%04x", b);
        }
        if (!put_text(c, out, esc, el)) return false;
        run = k + 1;
    }
    if (!put_text(c, out, s + run, n - run)) return false;
    return put_text(c, out, "\"", 1);
}

/* The shortest round-trip text of a finite double as DuckDB's JSON type prints it: fixed
 * notation for decimal exponents -6..20 ("0.000025", "1e20" as "100000000000000000000.0"),
 * else d[.ddd]e<exp> without a plus sign or padding ("1.5e-7", "1e21"). Returns the length. */
int pl_json_format_double(double v, char *out) {
    char buf[48], dig[32];
    int n = pl_text_format_double(v, buf), nd = 0, int_digits = -1, k = 0;
    bool neg = buf[0] == '-';
    if (neg) k = 1;
    int exp10 = 0;
    for (; k < n; k++) {
        char ch = buf[k];
        if (ch == '.') {
            int_digits = nd;
        } else if (ch == 'e' || ch == 'E') {
            exp10 = atoi(buf + k + 1);
            break;
        } else if (nd < (int)sizeof dig) {
            dig[nd++] = ch;
        }
    }
    if (int_digits < 0) int_digits = nd;
    int lead = 0;
    while (lead < nd && dig[lead] == '0') lead++;
    while (nd > lead && dig[nd - 1] == '0') nd--;
    int o = 0;
    if (neg) out[o++] = '-';
    if (lead == nd) {
        memcpy(out + o, "0.0", 3);
        return o + 3;
    }
    const char *dg = dig + lead;
    int m = nd - lead, point = int_digits - lead + exp10; /* value = 0.dg * 10^point */
    int sci = point - 1;
    if (sci >= 21 || sci <= -7) {
        out[o++] = dg[0];
        if (m > 1) {
            out[o++] = '.';
            memcpy(out + o, dg + 1, (size_t)(m - 1));
            o += m - 1;
        }
        return o + snprintf(out + o, 16, "e%d", sci);
    }
    if (point <= 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int z = 0; z < -point; z++) out[o++] = '0';
        memcpy(out + o, dg, (size_t)m);
        return o + m;
    }
    if (point >= m) {
        memcpy(out + o, dg, (size_t)m);
        o += m;
        for (int z = m; z < point; z++) out[o++] = '0';
        memcpy(out + o, ".0", 2);
        return o + 2;
    }
    memcpy(out + o, dg, (size_t)point);
    o += point;
    out[o++] = '.';
    memcpy(out + o, dg + point, (size_t)(m - point));
    return o + m - point;
}

/* Appends a number's normalised text: int64 values as integers, other integers as written,
 * others as the shortest round-trip double in DuckDB's JSON form. */
static bool put_json_number(jcur *c, pl_strbuf *out, const jnum *v) {
    char buf[64];
    int k;
    if (v->fits) k = snprintf(buf, sizeof buf, "%lld", (long long)v->i);
    else if (v->integral) return put_text(c, out, (const char *)c->d + v->start, v->len);
    else if (!isfinite(v->f)) return put_text(c, out, (const char *)c->d + v->start, v->len);
    else k = pl_json_format_double(v->f, buf);
    return put_text(c, out, buf, k);
}

/* Reads any value at c->pos (after whitespace); out != NULL: appends its compact JSON text. */
static bool gen_value(jcur *c, pl_strbuf *out) {
    skip_ws(c);
    if (c->pos >= c->n) return fail_unexpected(c, "a JSON value");
    uint8_t b = c->d[c->pos];
    switch (b) {
    case '{':
    case '[': {
        bool obj = b == '{', empty;
        char close = obj ? '}' : ']';
        if (!open_container(c, close, &empty)) return false;
        if (out && !put_text(c, out, obj ? "{" : "[", 1)) return false;
        for (int more = !empty; more == 1;) {
            if (obj) {
                const char *k;
                int64_t len, at;
                if (!read_key(c, &k, &len, &at)) return false;
                if (out && (!put_json_string(c, out, k, len) || !put_text(c, out, ":", 1)))
                    return false;
            }
            if (!gen_value(c, out)) return false;
            if ((more = next_member(c, close)) < 0) return false;
            if (more && out && !put_text(c, out, ",", 1)) return false;
        }
        return out ? put_text(c, out, obj ? "}" : "]", 1) : true;
    }
    case '"': {
        const char *s;
        int64_t len;
        if (!read_string(c, &s, &len)) return false;
        return out ? put_json_string(c, out, s, len) : true;
    }
    case 't':
        if (!read_word(c, "true", 4)) return false;
        return out ? put_text(c, out, "true", 4) : true;
    case 'f':
        if (!read_word(c, "false", 5)) return false;
        return out ? put_text(c, out, "false", 5) : true;
    case 'n':
        if (!read_word(c, "null", 4)) return false;
        return out ? put_text(c, out, "null", 4) : true;
    default: {
        if (b != '-' && (b < '0' || b > '9')) return fail_unexpected(c, "a JSON value");
        jnum v;
        if (!read_number(c, &v)) return false;
        return out ? put_json_number(c, out, &v) : true;
    }
    }
}

/* ---------------------------------------------------------------- date and time strings */

/* Temporal classes of a string (one at most); a column is temporal when every string in the
 * sample has the same class (DuckDB detects one format per column). */
enum {
    TF_DATE = 1,   /* YYYY-MM-DD */
    TF_TS = 2,     /* YYYY-MM-DD HH:MM:SS */
    TF_TSF = 4,    /* YYYY-MM-DD HH:MM:SS.f */
    TF_TST = 8,    /* YYYY-MM-DDTHH:MM:SS */
    TF_TSTZ = 16,  /* YYYY-MM-DD[T ]HH:MM:SS[.f] with Z or +-HH[:MM] */
    TF_TIME = 32,  /* H[H]:MM[:SS[.f]] */
    TF_ALL = 63,
};

static int digits_at(const char *s, int64_t n, int64_t p, int max) {
    int k = 0;
    while (p + k < n && k < max && s[p + k] >= '0' && s[p + k] <= '9') k++;
    return k;
}

static int64_t num_at(const char *s, int64_t p, int k) {
    int64_t v = 0;
    for (int i = 0; i < k; i++) v = v * 10 + (s[p + i] - '0');
    return v;
}

static bool valid_ymd(int64_t y, int64_t m, int64_t d) {
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* YYYY-M[M]-D[D]: days since 1970-01-01. */
static bool parse_date_text(const char *s, int64_t n, int32_t *out) {
    if (n < 8 || digits_at(s, n, 0, 4) != 4 || s[4] != '-') return false;
    int km = digits_at(s, n, 5, 2);
    if (!km || 5 + km >= n || s[5 + km] != '-') return false;
    int64_t p = 6 + km;
    int kd = digits_at(s, n, p, 2);
    if (!kd || p + kd != n) return false;
    int64_t y = num_at(s, 0, 4), m = num_at(s, 5, km), d = num_at(s, p, kd);
    if (!valid_ymd(y, m, d)) return false;
    *out = (int32_t)pl_text_days_from_civil(y, (int32_t)m, (int32_t)d);
    return true;
}

/* H[H]:MM[:SS[.f{1,6}]] in microseconds. */
static bool parse_time_text(const char *s, int64_t n, int64_t *out) {
    int kh = digits_at(s, n, 0, 2);
    if (!kh || kh >= n || s[kh] != ':') return false;
    int64_t p = kh + 1;
    if (digits_at(s, n, p, 2) != 2) return false;
    int64_t h = num_at(s, 0, kh), mi = num_at(s, p, 2), sec = 0, us = 0;
    p += 2;
    if (p < n) {
        if (s[p] != ':' || digits_at(s, n, p + 1, 2) != 2) return false;
        sec = num_at(s, p + 1, 2);
        p += 3;
        if (p < n) {
            if (s[p] != '.') return false;
            int kf = digits_at(s, n, p + 1, 6);
            if (!kf || p + 1 + kf != n) return false;
            us = num_at(s, p + 1, kf);
            for (int k = kf; k < 6; k++) us *= 10;
            p = n;
        }
    }
    if (h > 23 || mi > 59 || sec > 59) return false;
    *out = ((h * 60 + mi) * 60 + sec) * 1000000 + us;
    return true;
}

/* The temporal class of s (0 = none). */
static unsigned classify_string(const char *s, int64_t n) {
    if (n < 4 || n > 40) return 0;
    int32_t days;
    int64_t v;
    if (s[2] == ':' || s[1] == ':') return parse_time_text(s, n, &v) ? TF_TIME : 0;
    if (n <= 10) return parse_date_text(s, n, &days) ? TF_DATE : 0;
    /* YYYY-MM-DD[T ]HH:MM:SS */
    if (n < 19 || (s[10] != 'T' && s[10] != ' ')) return 0;
    if (digits_at(s, n, 0, 4) != 4 || s[4] != '-' || digits_at(s, n, 5, 2) != 2 || s[7] != '-' ||
        digits_at(s, n, 8, 2) != 2 || digits_at(s, n, 11, 2) != 2 || s[13] != ':' ||
        digits_at(s, n, 14, 2) != 2 || s[16] != ':' || digits_at(s, n, 17, 2) != 2)
        return 0;
    bool t_sep = s[10] == 'T';
    int64_t p = 19;
    bool frac = false;
    if (p < n && s[p] == '.') {
        int kf = digits_at(s, n, p + 1, 6);
        if (!kf) return 0;
        frac = true;
        p += 1 + kf;
    }
    bool tz = false;
    if (p < n) {
        if (s[p] == 'Z' && p + 1 == n) {
            tz = true;
        } else if (s[p] == '+' || s[p] == '-') {
            int64_t q = p + 1;
            if (digits_at(s, n, q, 2) != 2) return 0;
            q += 2;
            if (q < n && s[q] == ':') q++;
            if (q < n && digits_at(s, n, q, 2) == 2) q += 2;
            if (q != n) return 0;
            tz = true;
        } else {
            return 0;
        }
    }
    bool has_tz;
    if (!pl_text_parse_timestamp(s, n, PL_UNIT_US, &v, &has_tz)) return 0;
    if (tz) return TF_TSTZ;
    if (t_sep) return frac ? 0 : TF_TST;
    return frac ? TF_TSF : TF_TS;
}

/* ---------------------------------------------------------------- inference */

enum { S_NULL = 1, S_BOOL = 2, S_INT = 4, S_DBL = 8, S_STR = 16, S_ARR = 32, S_OBJ = 64,
       S_UBIG = 128 /* integers beyond int64 within uint64 */ };

typedef struct shape shape;
struct shape {
    unsigned kinds;
    unsigned tfmt; /* temporal classes every string seen so far has (TF_*) */
    shape *item;   /* arrays: the elements */
    /* objects: keys in the order first seen */
    int32_t n_keys, cap_keys, hint;
    char **keys;
    int64_t *key_lens;
    shape **vals;
    int64_t *stamp; /* per key: the object (inference counter) it was last seen in */
};

static void shape_free(shape *s) {
    if (!s) return;
    shape_free(s->item);
    for (int32_t k = 0; k < s->n_keys; k++) {
        pl_free(s->keys[k]);
        shape_free(s->vals[k]);
    }
    pl_free(s->keys);
    pl_free(s->key_lens);
    pl_free(s->vals);
    pl_free(s->stamp);
    pl_free(s);
}

static shape *shape_new(void) {
    shape *s = pl_calloc(1, sizeof *s);
    if (s) s->tfmt = TF_ALL;
    return s;
}

typedef struct infer_ctx {
    jcur *c;
    int64_t object_no; /* counter of objects seen: duplicate-key stamps */
} infer_ctx;

static int32_t shape_key(shape *s, const char *k, int64_t len) {
    int32_t h = s->hint;
    if (h < s->n_keys && s->key_lens[h] == len && memcmp(s->keys[h], k, (size_t)len) == 0) return h;
    for (int32_t i = 0; i < s->n_keys; i++)
        if (s->key_lens[i] == len && memcmp(s->keys[i], k, (size_t)len) == 0) return i;
    return -1;
}

static bool infer_value(infer_ctx *ic, shape *s);

static bool infer_object(infer_ctx *ic, shape *s) {
    jcur *c = ic->c;
    int64_t me = ++ic->object_no;
    bool empty;
    if (!open_container(c, '}', &empty)) return false;
    s->hint = 0;
    for (int more = !empty; more == 1;) {
        int64_t key_at;
        const char *k;
        int64_t len;
        if (!read_key(c, &k, &len, &key_at)) return false;
        int32_t idx = shape_key(s, k, len);
        if (idx < 0) {
            if (s->n_keys >= PL_JSON_MAX_KEYS)
                return jfail(c, key_at, PL_ERR_LIMIT, "more than %d distinct keys in an object",
                             PL_JSON_MAX_KEYS);
            if (s->n_keys == s->cap_keys) {
                int32_t cap = s->cap_keys ? s->cap_keys * 2 : 8;
                char **nk = pl_realloc(s->keys, (size_t)cap * sizeof *nk);
                if (nk) s->keys = nk;
                int64_t *nl = nk ? pl_realloc(s->key_lens, (size_t)cap * sizeof *nl) : NULL;
                if (nl) s->key_lens = nl;
                shape **nv = nl ? pl_realloc(s->vals, (size_t)cap * sizeof *nv) : NULL;
                if (nv) s->vals = nv;
                int64_t *ns = nv ? pl_realloc(s->stamp, (size_t)cap * sizeof *ns) : NULL;
                if (!ns) return jnomem(c);
                s->stamp = ns;
                s->cap_keys = cap;
            }
            char *kc = pl_malloc((size_t)len + 1);
            shape *v = kc ? shape_new() : NULL;
            if (!v) {
                pl_free(kc);
                return jnomem(c);
            }
            memcpy(kc, k, (size_t)len);
            kc[len] = '\0';
            idx = s->n_keys++;
            s->keys[idx] = kc;
            s->key_lens[idx] = len;
            s->vals[idx] = v;
            s->stamp[idx] = 0;
        }
        if (s->stamp[idx] == me)
            return jfail(c, key_at, PL_ERR_CORRUPT, "duplicate key \"%.*s\" in an object",
                         (int)PL_MIN(len, 100), k);
        s->stamp[idx] = me;
        s->hint = idx + 1;
        if (!infer_value(ic, s->vals[idx])) return false;
        if ((more = next_member(c, '}')) < 0) return false;
    }
    return true;
}

static bool infer_value(infer_ctx *ic, shape *s) {
    jcur *c = ic->c;
    skip_ws(c);
    if (c->pos >= c->n) return fail_unexpected(c, "a JSON value");
    uint8_t b = c->d[c->pos];
    switch (b) {
    case '{':
        s->kinds |= S_OBJ;
        return infer_object(ic, s);
    case '[': {
        s->kinds |= S_ARR;
        bool empty;
        if (!open_container(c, ']', &empty)) return false;
        if (!empty && !s->item && !(s->item = shape_new())) return jnomem(c);
        for (int more = !empty; more == 1;) {
            if (!infer_value(ic, s->item)) return false;
            if ((more = next_member(c, ']')) < 0) return false;
        }
        return true;
    }
    case '"': {
        const char *str;
        int64_t len;
        if (!read_string(c, &str, &len)) return false;
        s->kinds |= S_STR;
        if (s->tfmt) s->tfmt &= classify_string(str, len);
        return true;
    }
    case 't':
    case 'f':
        s->kinds |= S_BOOL;
        return b == 't' ? read_word(c, "true", 4) : read_word(c, "false", 5);
    case 'n':
        s->kinds |= S_NULL;
        return read_word(c, "null", 4);
    default: {
        if (b != '-' && (b < '0' || b > '9')) return fail_unexpected(c, "a JSON value");
        jnum v;
        if (!read_number(c, &v)) return false;
        s->kinds |= v.fits ? S_INT : v.fits_u64 ? S_UBIG : S_DBL;
        return true;
    }
    }
}

/* ---------------------------------------------------------------- conversions */

typedef enum cv_kind {
    CV_NA,
    CV_BOOL,
    CV_INT, /* signed and unsigned up to 32 bits, and int64: range checked */
    CV_U64,
    CV_DEC, /* DECIMAL128(p, s) from the number's text */
    CV_F32,
    CV_F64,
    CV_STR,  /* strings as their text, other values as JSON text */
    CV_JSON, /* every value as JSON text */
    CV_DATE,
    CV_TIME,
    CV_TS,
    CV_LIST,
    CV_MAP, /* object -> map<utf8, value> */
    CV_STRUCT,
} cv_kind;

typedef struct conv conv;
struct conv {
    cv_kind kind;
    const pl_type *type; /* borrowed from the schema's type tree */
    int64_t min, max;
    int32_t n_children; /* LIST, MAP: 1 (items, values); STRUCT: fields */
    conv *children;
    /* STRUCT: field names and a hash of them (slots hold field index + 1) */
    char **names;
    int64_t *name_lens;
    int32_t *slots;
    uint32_t slot_mask;
};

static void conv_reset(conv *cv) {
    if (!cv) return;
    for (int32_t k = 0; k < cv->n_children; k++) conv_reset(&cv->children[k]);
    pl_free(cv->children);
    if (cv->names)
        for (int32_t k = 0; k < cv->n_children; k++) pl_free(cv->names[k]);
    pl_free(cv->names);
    pl_free(cv->name_lens);
    pl_free(cv->slots);
    memset(cv, 0, sizeof *cv);
}

static inline uint32_t key_hash(const char *s, int64_t n) {
    uint32_t h = 2166136261u;
    for (int64_t k = 0; k < n; k++) h = (h ^ (uint8_t)s[k]) * 16777619u;
    return h;
}

static int32_t conv_field(const conv *cv, const char *k, int64_t len, int32_t hint) {
    if (hint >= 0 && hint < cv->n_children && cv->name_lens[hint] == len &&
        memcmp(cv->names[hint], k, (size_t)len) == 0)
        return hint;
    uint32_t h = key_hash(k, len) & cv->slot_mask;
    for (;;) {
        int32_t s = cv->slots[h];
        if (!s) return -1;
        if (cv->name_lens[s - 1] == len && memcmp(cv->names[s - 1], k, (size_t)len) == 0)
            return s - 1;
        h = (h + 1) & cv->slot_mask;
    }
}

/* A conversion for type t (its children from the type tree; text columns take strings as
 * text: CV_STR). json_text: t is utf8 holding JSON text (CV_JSON). */
static pl_status conv_for_type(conv *cv, const pl_type *t, const char *name, pl_error *err) {
    memset(cv, 0, sizeof *cv);
    cv->type = t;
    cv->min = INT64_MIN;
    cv->max = INT64_MAX;
    switch (t->id) {
    case PL_TYPE_NA: cv->kind = CV_NA; break;
    case PL_TYPE_BOOL: cv->kind = CV_BOOL; break;
    case PL_TYPE_INT8: cv->kind = CV_INT, cv->min = INT8_MIN, cv->max = INT8_MAX; break;
    case PL_TYPE_INT16: cv->kind = CV_INT, cv->min = INT16_MIN, cv->max = INT16_MAX; break;
    case PL_TYPE_INT32: cv->kind = CV_INT, cv->min = INT32_MIN, cv->max = INT32_MAX; break;
    case PL_TYPE_INT64: cv->kind = CV_INT; break;
    case PL_TYPE_UINT8: cv->kind = CV_INT, cv->min = 0, cv->max = UINT8_MAX; break;
    case PL_TYPE_UINT16: cv->kind = CV_INT, cv->min = 0, cv->max = UINT16_MAX; break;
    case PL_TYPE_UINT32: cv->kind = CV_INT, cv->min = 0, cv->max = UINT32_MAX; break;
    case PL_TYPE_UINT64: cv->kind = CV_U64; break;
    case PL_TYPE_DECIMAL128: cv->kind = CV_DEC; break;
    case PL_TYPE_FLOAT32: cv->kind = CV_F32; break;
    case PL_TYPE_FLOAT64: cv->kind = CV_F64; break;
    case PL_TYPE_UTF8: cv->kind = pl_type_is_json(t) ? CV_JSON : CV_STR; break;
    case PL_TYPE_DATE32: cv->kind = CV_DATE; break;
    case PL_TYPE_TIME64: cv->kind = CV_TIME; break;
    case PL_TYPE_TIMESTAMP: cv->kind = CV_TS; break;
    case PL_TYPE_LIST:
    case PL_TYPE_MAP:
    case PL_TYPE_STRUCT: {
        if (t->id == PL_TYPE_MAP) {
            const pl_type *e = t->children[0].type;
            if (e->n_children != 2 || e->children[0].type->id != PL_TYPE_UTF8) {
                char tb[96];
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot read JSON column \"%s\" as %s (map keys "
                        "must be varchar)", name, pl_type_to_string(t, tb, sizeof tb));
            }
            t = e; /* the value conversion is the entry's second field */
        }
        int32_t n = t->id == PL_TYPE_STRUCT && cv->type->id == PL_TYPE_STRUCT ? t->n_children : 1;
        cv->kind = cv->type->id == PL_TYPE_LIST ? CV_LIST
                   : cv->type->id == PL_TYPE_MAP ? CV_MAP : CV_STRUCT;
        cv->children = pl_calloc((size_t)(n ? n : 1), sizeof *cv->children);
        if (!cv->children) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        cv->n_children = n;
        if (cv->kind == CV_LIST)
            return conv_for_type(&cv->children[0], t->children[0].type, name, err);
        if (cv->kind == CV_MAP)
            return conv_for_type(&cv->children[0], t->children[1].type, name, err);
        cv->names = pl_calloc((size_t)(n ? n : 1), sizeof *cv->names);
        cv->name_lens = pl_calloc((size_t)(n ? n : 1), sizeof *cv->name_lens);
        uint32_t n_slots = 4;
        while (n_slots < 2u * (uint32_t)n) n_slots *= 2;
        cv->slots = pl_calloc(n_slots, sizeof *cv->slots);
        cv->slot_mask = n_slots - 1;
        if (!cv->names || !cv->name_lens || !cv->slots) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; k < n; k++) {
            const char *fname = t->children[k].name;
            PL_TRY(conv_for_type(&cv->children[k], t->children[k].type, name, err));
            cv->names[k] = pl_strdup(fname);
            if (!cv->names[k]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            cv->name_lens[k] = (int64_t)strlen(fname);
            uint32_t h = key_hash(fname, cv->name_lens[k]) & cv->slot_mask;
            while (cv->slots[h]) h = (h + 1) & cv->slot_mask;
            cv->slots[h] = k + 1;
        }
        break;
    }
    default: {
        char tb[96];
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot read JSON column \"%s\" as %s", name,
                pl_type_to_string(t, tb, sizeof tb));
    }
    }
    return PL_OK;
}

/* Resolves an inferred shape to a type; *json_text tells that the type is utf8 holding JSON
 * text (marked in the conversion tree later by mark_json). */
typedef struct rtype {
    pl_type *type;
    bool json_text;          /* CV_JSON instead of CV_STR */
    int32_t n_children;      /* list / map value / struct fields, parallel to type children */
    struct rtype *children;
} rtype;

static void rtype_reset(rtype *r) {
    if (!r) return;
    for (int32_t k = 0; k < r->n_children; k++) rtype_reset(&r->children[k]);
    pl_free(r->children);
    pl_type_release(r->type);
    memset(r, 0, sizeof *r);
}

static pl_status resolve(const shape *s, rtype *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    unsigned k = s ? s->kinds & ~(unsigned)S_NULL : 0;
    if (k == 0) {
        out->type = pl_type_simple(PL_TYPE_NA);
    } else if (k == S_BOOL) {
        out->type = pl_type_simple(PL_TYPE_BOOL);
    } else if ((k & ~(unsigned)(S_INT | S_DBL | S_UBIG)) == 0) {
        /* like DuckDB: integers beyond BIGINT within UBIGINT make HUGEINT (DECIMAL(38, 0)
         * here), any fraction, exponent or larger integer DOUBLE */
        if (k & S_DBL) out->type = pl_type_simple(PL_TYPE_FLOAT64);
        else if (k & S_UBIG) PL_TRY(pl_type_new_decimal(38, 0, &out->type, err));
        else out->type = pl_type_simple(PL_TYPE_INT64);
    } else if (k == S_STR) {
        unsigned f = s->tfmt;
        if (f == TF_DATE) out->type = pl_type_simple(PL_TYPE_DATE32);
        else if (f == TF_TIME) PL_TRY(pl_type_new_time64(PL_UNIT_US, &out->type, err));
        else if (f == TF_TS || f == TF_TSF || f == TF_TST)
            PL_TRY(pl_type_new_timestamp(PL_UNIT_US, NULL, &out->type, err));
        else if (f == TF_TSTZ) PL_TRY(pl_type_new_timestamp(PL_UNIT_US, "UTC", &out->type, err));
        else out->type = pl_type_simple(PL_TYPE_UTF8);
    } else if (k == S_ARR || (k == S_OBJ && s->n_keys == 0)) {
        out->children = pl_calloc(1, sizeof *out->children);
        if (!out->children) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        out->n_children = 1;
        rtype *it = &out->children[0];
        if (k == S_ARR && s->item && s->item->kinds) {
            PL_TRY(resolve(s->item, it, err));
        } else {
            /* only empty arrays / empty objects: items (values) are JSON text, like DuckDB */
            it->type = pl_type_json();
            it->json_text = true;
        }
        if (k == S_ARR) PL_TRY(pl_type_new_list("item", it->type, true, &out->type, err));
        else PL_TRY(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), it->type, true, &out->type, err));
    } else if (k == S_OBJ) {
        int32_t n = s->n_keys;
        out->children = pl_calloc((size_t)n, sizeof *out->children);
        pl_field *fields = pl_calloc((size_t)n, sizeof *fields);
        pl_status st = PL_OK;
        if (!out->children || !fields) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        if (out->children) out->n_children = n;
        for (int32_t i = 0; i < n && !st; i++) {
            st = resolve(s->vals[i], &out->children[i], err);
            if (!st) st = pl_field_init(&fields[i], s->keys[i], out->children[i].type, true, err);
        }
        if (!st) st = pl_type_new_struct(n, fields, &out->type, err);
        for (int32_t i = 0; fields && i < n; i++) pl_field_reset(&fields[i]);
        pl_free(fields);
        return st;
    } else {
        out->type = pl_type_json(); /* DuckDB's JSON type */
        out->json_text = true;
    }
    return PL_OK;
}

/* Marks the CV_STR conversions that the inference made JSON text. */
static void mark_json(conv *cv, const rtype *r) {
    if (r->json_text && cv->kind == CV_STR) cv->kind = CV_JSON;
    for (int32_t k = 0; k < cv->n_children && k < r->n_children; k++)
        mark_json(&cv->children[k], &r->children[k]);
}

/* ---------------------------------------------------------------- reading values */

static const char *kind_name(uint8_t b) {
    switch (b) {
    case '{': return "an object";
    case '[': return "an array";
    case '"': return "a string";
    case 't':
    case 'f': return "a boolean";
    case 'n': return "null";
    default: return "a number";
    }
}

static bool type_mismatch(jcur *c, const conv *cv, int64_t at, const char *what) {
    char tb[96];
    return jfail(c, at, PL_ERR_TYPE, "cannot read %s as %s", what,
                 pl_type_to_string(cv->type, tb, sizeof tb));
}

static bool bnomem(jcur *c, pl_status st) {
    return st == PL_ERR_NOMEM ? jnomem(c)
                              : jfail(c, c->pos, st, "value does not fit the column (more than "
                                      "2^31 bytes or items in one chunk)");
}

static bool put_value(jcur *c, const conv *cv, pl_builder *b);

/* Reads an object into a struct conversion: fields into kids (kid k NULL = skip field k),
 * unknown keys skipped when ignore_unknown, else an error; fields the object lacks become
 * NULL. row: the row every kid is at before the object. top: the fields are the columns. */
static bool put_object(jcur *c, const conv *cv, pl_builder **kids, pl_builder *parent,
                       int64_t row, bool ignore_unknown, bool top) {
    int32_t hint = 0;
    bool empty;
    if (!open_container(c, '}', &empty)) return false;
    for (int more = !empty; more == 1;) {
        int64_t key_at;
        const char *k;
        int64_t len;
        if (!read_key(c, &k, &len, &key_at)) return false;
        int32_t idx = conv_field(cv, k, len, hint);
        pl_builder *kb = idx < 0 ? NULL : kids ? kids[idx] : pl_builder_child(parent, idx);
        if (idx < 0 && !ignore_unknown)
            return jfail(c, key_at, PL_ERR_TYPE, "unknown key \"%.*s\" (not in the inference "
                         "sample)", (int)PL_MIN(len, 100), k);
        if (!kb) {
            if (!gen_value(c, NULL)) return false;
        } else {
            hint = idx + 1;
            if (pl_builder_length(kb) != row)
                return jfail(c, key_at, PL_ERR_CORRUPT, "duplicate key \"%.*s\" in an object",
                             (int)PL_MIN(len, 100), k);
            if (top) c->col = idx;
            if (!put_value(c, &cv->children[idx], kb)) return false;
            if (top) c->col = -1;
        }
        if ((more = next_member(c, '}')) < 0) return false;
    }
    for (int32_t k = 0; k < cv->n_children; k++) {
        pl_builder *kb = kids ? kids[k] : pl_builder_child(parent, k);
        if (kb && pl_builder_length(kb) == row) {
            pl_status st = pl_builder_append_null(kb, NULL);
            if (st) return bnomem(c, st);
        }
    }
    return true;
}

static bool put_value(jcur *c, const conv *cv, pl_builder *b) {
    skip_ws(c);
    if (c->pos >= c->n) return fail_unexpected(c, "a JSON value");
    int64_t at = c->pos;
    uint8_t ch = c->d[at];
    pl_status st = PL_OK;
    if (ch == 'n') {
        if (!read_word(c, "null", 4)) return false;
        st = pl_builder_append_null(b, NULL);
        return st ? bnomem(c, st) : true;
    }
    switch (cv->kind) {
    case CV_NA: return type_mismatch(c, cv, at, kind_name(ch));
    case CV_BOOL:
        if (ch == 't') {
            if (!read_word(c, "true", 4)) return false;
            st = pl_builder_append_bool(b, true, NULL);
        } else if (ch == 'f') {
            if (!read_word(c, "false", 5)) return false;
            st = pl_builder_append_bool(b, false, NULL);
        } else {
            return type_mismatch(c, cv, at, kind_name(ch));
        }
        break;
    case CV_INT:
    case CV_U64:
    case CV_DEC:
    case CV_F32:
    case CV_F64: {
        if (ch != '-' && (ch < '0' || ch > '9')) {
            if (ch == '{' || ch == '[' || ch == '"' || ch == 't' || ch == 'f')
                return type_mismatch(c, cv, at, kind_name(ch));
            return fail_unexpected(c, "a JSON value");
        }
        jnum v;
        if (!read_number(c, &v)) return false;
        if (cv->kind == CV_F64) {
            st = pl_builder_append_f64(b, v.f, NULL);
        } else if (cv->kind == CV_F32) {
            st = pl_builder_append_f64(b, (double)(float)v.f, NULL);
        } else if (cv->kind == CV_DEC) {
            uint64_t lo;
            int64_t hi;
            const char *txt = (const char *)c->d + v.start;
            bool expo = memchr(txt, 'e', (size_t)v.len) || memchr(txt, 'E', (size_t)v.len);
            if (expo || !pl_text_parse_decimal(txt, v.len, cv->type->precision, cv->type->scale,
                                               &lo, &hi))
                return type_mismatch(c, cv, at, expo ? "a number with an exponent"
                                                     : "a number out of range");
            st = pl_builder_append_decimal(b, lo, hi, NULL);
        } else if (cv->kind == CV_U64) {
            uint64_t u;
            if (!num_u64(c, &v, &u)) {
                c->pos = at;
                return type_mismatch(c, cv, at, "a number out of range");
            }
            st = pl_builder_append_i64(b, (int64_t)u, NULL);
        } else {
            if (!v.fits || v.i < cv->min || v.i > cv->max)
                return type_mismatch(c, cv, at,
                                     v.integral ? "a number out of range"
                                                : "a number with a fraction or exponent");
            st = pl_builder_append_i64(b, v.i, NULL);
        }
        break;
    }
    case CV_STR:
    case CV_JSON:
        if (ch == '"' && cv->kind == CV_STR) {
            const char *s;
            int64_t len;
            if (!read_string(c, &s, &len)) return false;
            st = pl_builder_append_bytes(b, s, len, NULL);
            break;
        }
        c->text.len = 0; /* other values (all in JSON columns) as JSON text */
        if (!gen_value(c, &c->text)) return false;
        st = pl_builder_append_bytes(b, c->text.data, c->text.len, NULL);
        break;
    case CV_DATE:
    case CV_TIME:
    case CV_TS: {
        if (ch != '"') return type_mismatch(c, cv, at, kind_name(ch));
        const char *s;
        int64_t len;
        if (!read_string(c, &s, &len)) return false;
        bool ok;
        int64_t v = 0;
        if (cv->kind == CV_DATE) {
            int32_t days = 0;
            ok = parse_date_text(s, len, &days);
            v = days;
        } else if (cv->kind == CV_TIME) {
            ok = parse_time_text(s, len, &v);
            if (ok && cv->type->unit == PL_UNIT_NS) v *= 1000;
        } else {
            bool tz;
            ok = pl_text_parse_timestamp(s, len, cv->type->unit, &v, &tz);
        }
        if (!ok) {
            char tb[96];
            return jfail(c, at, PL_ERR_TYPE, "cannot read \"%.*s\" as %s", (int)PL_MIN(len, 60), s,
                         pl_type_to_string(cv->type, tb, sizeof tb));
        }
        st = pl_builder_append_i64(b, v, NULL);
        break;
    }
    case CV_LIST: {
        if (ch != '[') return type_mismatch(c, cv, at, kind_name(ch));
        bool empty;
        if (!open_container(c, ']', &empty)) return false;
        pl_builder *ib = pl_builder_child(b, 0);
        for (int more = !empty; more == 1;) {
            if (!put_value(c, &cv->children[0], ib)) return false;
            if ((more = next_member(c, ']')) < 0) return false;
        }
        st = pl_builder_append_valid(b, NULL);
        break;
    }
    case CV_MAP: {
        if (ch != '{') return type_mismatch(c, cv, at, kind_name(ch));
        bool empty;
        if (!open_container(c, '}', &empty)) return false;
        pl_builder *eb = pl_builder_child(b, 0);
        pl_builder *kb = pl_builder_child(eb, 0), *vb = pl_builder_child(eb, 1);
        for (int more = !empty; more == 1;) {
            const char *k;
            int64_t len, key_at;
            if (!read_key(c, &k, &len, &key_at)) return false;
            st = pl_builder_append_bytes(kb, k, len, NULL);
            if (st) return bnomem(c, st);
            if (!put_value(c, &cv->children[0], vb)) return false;
            st = pl_builder_append_valid(eb, NULL);
            if (st) return bnomem(c, st);
            if ((more = next_member(c, '}')) < 0) return false;
        }
        st = pl_builder_append_valid(b, NULL);
        break;
    }
    case CV_STRUCT:
        if (ch != '{') return type_mismatch(c, cv, at, kind_name(ch));
        if (!put_object(c, cv, NULL, b, pl_builder_length(b), false, false)) return false;
        st = pl_builder_append_valid(b, NULL);
        break;
    }
    return st ? bnomem(c, st) : true;
}

/* ---------------------------------------------------------------- reader state */

typedef struct json_reader {
    /* schema: the root conversion is a struct over the file's columns (records) or one column */
    bool records;
    pl_type *root_type; /* the conversions borrow its types */
    conv root;
    bool ignore_unknown;    /* explicit columns: other keys are skipped */
    int32_t n_file_cols;
    char **col_names;       /* output names (deduplicated), per file column */
    int32_t *out_idx;       /* file column -> output column, -1 = not read */
    int32_t *out_file_col;  /* output column -> file column */
    int32_t n_out;
    pl_schema *schema;
    /* inputs */
    int32_t n_src, cur_src;
    char **paths;
    pl_buf *mem;
    pl_text_src src; /* the current input */
    pl_buf *cur;     /* src.win: the bytes at hand (borrowed) */
    const char *cur_name;
    int32_t opt_format; /* PL_JSON_* from the options */
    int32_t format;     /* of the current input */
    int32_t arr_state;  /* ARRAY: 0 = before the first element, 1 = after an element, 2 = done */
    int64_t pos;    /* in cur */
    bool sequential;
    bool need_more; /* parsing reached the end of a window that is not the input's end */
    /* output */
    pl_batch_queue queue;
    int64_t limit_left;
    int32_t n_threads;
    int64_t chunk_bytes;
    int64_t row_bytes_est;
} json_reader;

static int64_t g_test_chunk_bytes;

void pl_json_set_chunk_bytes_for_testing(int64_t n_bytes) { g_test_chunk_bytes = n_bytes; }

/* An error at window offset off: its line and input offset. */
static void error_at(const json_reader *r, int64_t off, pl_error *err) {
    if (!err) return;
    if (err->row < 0) err->row = pl_text_src_line(&r->src, off);
    if (err->byte_offset < 0) err->byte_offset = r->src.base + off;
}

/* Whether the value at p (after white space) runs into the end of a window after which the
 * input goes on: then it is read again, whole, from the next window. A structural scan
 * (strings, brackets); a value that is whole but malformed is not cut. */
static bool value_cut(const uint8_t *d, int64_t n, int64_t p) {
    while (p < n && (d[p] == ' ' || d[p] == '\n' || d[p] == '\r' || d[p] == '\t')) p++;
    int32_t depth = 0;
    for (; p < n; p++) {
        uint8_t b = d[p];
        if (b == '"') {
            for (p++; p < n && d[p] != '"'; p++)
                if (d[p] == '\\') p++;
            if (p >= n) return true;
            if (depth == 0) return false;
        } else if (b == '{' || b == '[') {
            depth++;
        } else if (b == '}' || b == ']') {
            if (--depth <= 0) return false;
        } else if (depth == 0 && (b == ' ' || b == '\n' || b == '\r' || b == '\t' || b == ',')) {
            return false; /* the end of a scalar */
        }
    }
    return true;
}

/* Turns the cursor's failure into err with the context. */
static pl_status cursor_error(const json_reader *r, const jcur *c, pl_error *err) {
    pl_status code = c->code ? c->code : PL_ERR_INTERNAL;
    pl_error_set(err, code, "%s", c->code ? c->why : "JSON parse failed");
    error_at(r, PL_MIN(c->err_pos, c->n), err);
    if (err) {
        if (code == PL_ERR_TYPE && !r->ignore_unknown)
            snprintf(err->hint, sizeof err->hint, "give the columns and types with columns= or "
                     "raise sample_size");
    }
    if (c->err_col >= 0 && c->err_col < r->n_file_cols)
        pl_error_set_column(err, c->err_col, r->col_names[c->err_col]);
    pl_error_set_path(err, r->cur_name);
    return code;
}

static void cursor_init(jcur *c, const json_reader *r, int64_t pos) {
    memset(c, 0, sizeof *c);
    c->d = r->cur->data;
    c->n = r->cur->size;
    c->pos = pos;
    c->err_col = c->col = -1;
}

static void cursor_reset(jcur *c) {
    pl_strbuf_reset(&c->scratch);
    pl_strbuf_reset(&c->text);
}

/* ---------------------------------------------------------------- chunk parsing */

typedef struct chunk_job {
    const json_reader *r;
    int64_t start, end;
    bool soft;       /* stop at the first record end at or after `end` (or after max_rows) */
    bool array;      /* the input is one array; *arr_state is its state */
    bool more;       /* the input goes on after the window's end */
    bool cut;        /* parsing stopped at a value the window's end cuts (only with more) */
    int32_t arr_state;
    int64_t max_rows;
    int64_t stop;
    int64_t n_rows;
    pl_batch *batch;
    pl_status st;
    pl_error err;
} chunk_job;

/* One top-level value as a row. */
static bool put_record(jcur *c, const json_reader *r, pl_builder **cols, int64_t row) {
    skip_ws(c);
    if (c->pos >= c->n) return fail_unexpected(c, "a JSON value");
    if (!r->records) {
        if (!cols[0]) return gen_value(c, NULL);
        c->col = 0;
        bool ok = put_value(c, &r->root.children[0], cols[0]);
        c->col = -1;
        return ok;
    }
    uint8_t ch = c->d[c->pos];
    if (ch == 'n') {
        if (!read_word(c, "null", 4)) return false;
        for (int32_t k = 0; k < r->n_file_cols; k++) {
            pl_status st = cols[k] ? pl_builder_append_null(cols[k], NULL) : PL_OK;
            if (st) return bnomem(c, st);
        }
        return true;
    }
    if (ch != '{') {
        if (ch == '[' || ch == '"' || ch == 't' || ch == 'f' || ch == '-' ||
            (ch >= '0' && ch <= '9'))
            return jfail(c, c->pos, PL_ERR_TYPE, "expected an object (a record), found %s",
                         kind_name(ch));
        return fail_unexpected(c, "a JSON value");
    }
    return put_object(c, &r->root, cols, NULL, row, r->ignore_unknown, true);
}

static pl_status make_batch(const json_reader *r, pl_builder **full, int64_t n_rows,
                            pl_batch **out, pl_error *err) {
    pl_array **arrays = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *arrays);
    if (!arrays) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < r->n_out && !st; k++) st = pl_builder_finish(full[k], &arrays[k], err);
    if (!st) {
        /* takes the column references (also on failure); the vector stays ours */
        st = pl_batch_new(pl_schema_retain(r->schema), n_rows, arrays, out, err);
    } else {
        for (int32_t k = 0; k < r->n_out; k++) pl_array_release(arrays[k]);
    }
    pl_free(arrays);
    return st;
}

static void parse_chunk(chunk_job *j) {
    const json_reader *r = j->r;
    pl_error_init(&j->err);
    jcur c;
    cursor_init(&c, r, j->start);
    int32_t n_file = r->n_file_cols;
    pl_builder **full = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *full);
    pl_builder **cols = pl_calloc((size_t)(n_file ? n_file : 1), sizeof *cols);
    int64_t n_rows = 0;
    pl_status st = full && cols ? PL_OK : pl_error_set(&j->err, PL_ERR_NOMEM, "out of memory");
    int64_t cap = (j->end - j->start) / (r->row_bytes_est > 0 ? r->row_bytes_est : 64) + 16;
    if (cap > j->max_rows) cap = j->max_rows + 1;
    if (cap > (1 << 20)) cap = 1 << 20;
    for (int32_t k = 0; k < r->n_out && !st; k++) {
        st = pl_builder_new(r->schema->fields[k].type, cap, &full[k], &j->err);
        if (!st) cols[r->out_file_col[k]] = full[k];
    }
    int64_t n = c.n;
    int32_t arr = j->arr_state;
    bool ok = !st;
    while (ok && n_rows < j->max_rows) {
        int64_t rec_start = c.pos; /* before the separator */
        int32_t arr_before = arr;
        if (j->soft) {
            if (c.pos >= j->end && n_rows > 0) break;
            skip_ws(&c);
        } else {
            while (c.pos < j->end && (c.d[c.pos] == ' ' || c.d[c.pos] == '\n' ||
                                      c.d[c.pos] == '\r' || c.d[c.pos] == '\t'))
                c.pos++;
            if (c.pos >= j->end) break;
        }
        if (j->array) {
            if (arr == 2) {
                /* only white space may follow the array (in later windows too) */
                if (c.pos < n)
                    ok = fail_unexpected(&c, "the end of the data after the top-level array");
                break;
            }
            if (c.pos >= n && j->more) {
                c.pos = rec_start;
                j->cut = true;
                break;
            }
            if (c.pos >= n) {
                ok = fail_unexpected(&c, "',' or ']' closing the top-level array");
                break;
            }
            if (arr == 1 && c.d[c.pos] != ',' && c.d[c.pos] != ']') {
                ok = fail_unexpected(&c, "',' or ']'");
                break;
            }
            bool comma = false;
            if (arr == 1 && c.d[c.pos] == ',') {
                c.pos++;
                comma = true;
                skip_ws(&c);
            }
            if (c.pos < n && c.d[c.pos] == ']' && !comma) {
                c.pos++;
                skip_ws(&c);
                arr = 2;
                continue;
            }
        } else if (c.pos >= n) {
            break;
        }
        if (j->more && value_cut(c.d, n, c.pos)) {
            /* the window ends inside the value: the next window holds it whole */
            c.pos = rec_start;
            arr = arr_before;
            j->cut = true;
            break;
        }
        ok = put_record(&c, r, cols, n_rows);
        if (!ok) break;
        n_rows++;
        if (j->array) arr = 1;
    }
    if (st) {
        /* the builders could not be made */
    } else if (!ok) {
        st = cursor_error(r, &c, &j->err);
    } else {
        j->stop = c.pos;
        j->n_rows = n_rows;
        j->arr_state = arr;
        if (n_rows > 0) st = make_batch(r, full, n_rows, &j->batch, &j->err);
    }
    for (int32_t k = 0; full && k < r->n_out; k++) pl_builder_free(full[k]);
    pl_free(full);
    pl_free(cols);
    cursor_reset(&c);
    j->st = st;
}

static void parse_chunk_task(void *arg, int64_t index, int32_t worker) {
    (void)worker;
    parse_chunk(&((chunk_job *)arg)[index]);
}

/* ---------------------------------------------------------------- streaming */

/* Parses the next piece of the current input into the queue. */
static pl_status run_wave(json_reader *r, pl_error *err) {
    const uint8_t *d = r->cur->data;
    int64_t n = r->cur->size;
    int32_t threads = r->n_threads > 0 ? r->n_threads : pl_pool_threads();
    if (threads < 1) threads = 1;
    int64_t max_chunks = (int64_t)threads * PL_JSON_CHUNKS_PER_THREAD;
    bool array = r->format == PL_JSON_ARRAY;
    bool seq = array || r->sequential || r->limit_left >= 0 || threads == 1;
    if (seq) max_chunks = 1;
    chunk_job *jobs = pl_calloc((size_t)max_chunks, sizeof *jobs);
    if (!jobs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t n_jobs = 0, at = r->pos;
    if (seq) {
        chunk_job *j = &jobs[n_jobs++];
        j->r = r;
        j->start = at;
        j->soft = true;
        j->array = array;
        j->arr_state = r->arr_state;
        j->more = !r->src.eof;
        j->end = PL_MIN(n, at + r->chunk_bytes);
        j->max_rows = r->limit_left >= 0 ? r->limit_left : INT64_MAX;
    } else {
        int64_t prev = at;
        while (n_jobs < max_chunks && prev < n) {
            int64_t nominal = prev + r->chunk_bytes, end = n;
            if (nominal < n) {
                const uint8_t *nl = memchr(d + nominal, '\n', (size_t)(n - nominal));
                end = nl ? (nl - d) + 1 : n;
            }
            chunk_job *j = &jobs[n_jobs++];
            j->r = r;
            j->start = prev;
            j->end = end;
            j->more = !r->src.eof; /* a value may run past its chunk to the window end */
            j->max_rows = INT64_MAX;
            prev = end;
        }
    }
    pl_parallel_for(n_jobs, threads, parse_chunk_task, jobs);
    pl_status st = PL_OK;
    for (int64_t k = 0; k < n_jobs; k++) {
        chunk_job *j = &jobs[k];
        if (j->st) {
            if (err) *err = j->err;
            st = j->st;
            break;
        }
        if (j->batch) {
            st = pl_batch_queue_push(&r->queue, j->batch, err);
            j->batch = NULL;
            if (st) break;
        }
        r->pos = j->stop;
        if (j->array) r->arr_state = j->arr_state;
        if (j->cut) {
            r->need_more = true; /* the window ends inside a value: the next window has it */
            break;
        }
        if (!j->array && j->soft && j->n_rows == 0) r->pos = n; /* only white space was left */
        if (!j->soft && j->stop != j->end) {
            r->sequential = true; /* a record spans lines: later chunks started mid-record */
            break;
        }
    }
    for (int64_t m = 0; m < n_jobs; m++) pl_batch_release(jobs[m].batch);
    pl_free(jobs);
    return st;
}

/* Format of the current input at r->pos (after the BOM): an array when the first value is
 * an array that starts with an object or is empty, or that is the only value in the input. */
static pl_status detect_format(json_reader *r, pl_error *err) {
    r->arr_state = 0;
    r->format = r->opt_format;
    while (r->opt_format == PL_JSON_AUTO) {
        r->format = PL_JSON_NEWLINE_DELIMITED;
        jcur c;
        cursor_init(&c, r, r->pos);
        skip_ws(&c);
        /* the window of a compressed input ends too soon to tell (also within leading
         * whitespace) */
        bool undecided = c.pos >= c.n && !r->src.eof;
        if (c.pos < c.n && c.d[c.pos] == '[') {
            int64_t open = c.pos;
            c.pos++;
            skip_ws(&c);
            if (c.pos < c.n && (c.d[c.pos] == '{' || c.d[c.pos] == ']')) {
                r->format = PL_JSON_ARRAY;
            } else if (!r->src.eof && value_cut(c.d, c.n, open)) {
                undecided = true;
            } else {
                c.pos = open;
                if (gen_value(&c, NULL)) {
                    skip_ws(&c);
                    if (c.pos >= c.n) r->format = PL_JSON_ARRAY;
                    undecided = c.pos >= c.n && !r->src.eof;
                }
            }
        }
        cursor_reset(&c);
        if (!undecided) break;
        PL_TRY(pl_text_src_next(&r->src, 0, true, err));
        r->cur = r->src.win;
    }
    if (r->format == PL_JSON_ARRAY) {
        const uint8_t *d = r->cur->data;
        int64_t n = r->cur->size, p = r->pos;
        for (;;) {
            while (p < n && (d[p] == ' ' || d[p] == '\n' || d[p] == '\r' || d[p] == '\t')) p++;
            if (p < n || r->src.eof) break;
            /* a compressed input's window ended within the leading white space */
            PL_TRY(pl_text_src_next(&r->src, 0, true, err));
            r->cur = r->src.win;
            d = r->cur->data;
            n = r->cur->size;
        }
        if (p >= n || d[p] != '[') {
            pl_error_set_path(err, r->cur_name);
            pl_error_set(err, PL_ERR_CORRUPT, "expected a top-level array ('[') for format "
                         "'array'");
            error_at(r, p, err);
            return PL_ERR_CORRUPT;
        }
        r->pos = p + 1;
    }
    return PL_OK;
}

static pl_status open_input(json_reader *r, int32_t idx, pl_error *err) {
    PL_TRY(pl_text_input_open(&r->src, r->mem, r->paths, idx, &r->cur_name, err));
    r->cur = r->src.win;
    r->cur_src = idx;
    r->sequential = r->need_more = false;
    PL_TRY(pl_text_input_skip_bom(&r->src, &r->pos, &r->cur, err));
    return detect_format(r, err);
}

/* Infers the root shape from up to *left values of the current input; *cut when the window of
 * a compressed input ended the sample early. object_no counts the objects of the whole sample
 * (duplicate-key stamps). */
static pl_status infer_window(json_reader *r, shape *root, int64_t *left, int64_t *n_values,
                              int64_t *n_bytes, int64_t *object_no, bool *cut, pl_error *err) {
    jcur c;
    cursor_init(&c, r, r->pos);
    infer_ctx ic = {&c, *object_no};
    bool ok = true;
    bool array = r->format == PL_JSON_ARRAY;
    bool more = !r->src.eof; /* the sample ends at a value the window cuts */
    int32_t arr = 0;
    int64_t from = c.pos;
    while (ok && *left > 0) {
        skip_ws(&c);
        if (array) {
            if (c.pos >= c.n && more) {
                *cut = true;
                break;
            }
            if (c.pos >= c.n) {
                ok = fail_unexpected(&c, "',' or ']' closing the top-level array");
                break;
            }
            bool comma = false;
            if (arr == 1) {
                if (c.d[c.pos] == ',') {
                    c.pos++;
                    comma = true;
                } else if (c.d[c.pos] != ']') {
                    ok = fail_unexpected(&c, "',' or ']'");
                    break;
                }
                skip_ws(&c);
            }
            if (c.pos < c.n && c.d[c.pos] == ']' && !comma) break;
        } else if (c.pos >= c.n) {
            *cut = more;
            break;
        }
        if (more && value_cut(c.d, c.n, c.pos)) {
            *cut = true;
            break;
        }
        ok = infer_value(&ic, root);
        arr = 1;
        (*left)--;
        (*n_values)++;
    }
    *n_bytes += c.pos - from;
    *object_no = ic.object_no;
    pl_status st = ok ? PL_OK : cursor_error(r, &c, err);
    cursor_reset(&c);
    return st;
}

/* infer_window over a window that holds the sample's values (a compressed input's first
 * window grows up to PL_TEXT_MAX_SAMPLE_BYTES for them; inference is a union, so the values
 * seen before the window grew may be seen again). */
static pl_status infer_input(json_reader *r, shape *root, int64_t *left, int64_t *n_values,
                             int64_t *n_bytes, int64_t *object_no, pl_error *err) {
    int64_t left0 = *left, n_values0 = *n_values, n_bytes0 = *n_bytes;
    for (;;) {
        bool cut = false;
        PL_TRY(infer_window(r, root, left, n_values, n_bytes, object_no, &cut, err));
        if (!cut || r->cur->size >= PL_TEXT_MAX_SAMPLE_BYTES) return PL_OK;
        PL_TRY(pl_text_src_next(&r->src, 0, true, err)); /* window offsets stay */
        r->cur = r->src.win;
        *left = left0;
        *n_values = n_values0;
        *n_bytes = n_bytes0;
    }
}

static void free_names(char **names, int32_t n) {
    if (!names) return;
    for (int32_t k = 0; k < n; k++) pl_free(names[k]);
    pl_free(names);
}

static void reader_free(json_reader *r) {
    if (!r) return;
    conv_reset(&r->root);
    pl_type_release(r->root_type);
    free_names(r->col_names, r->n_file_cols);
    pl_free(r->out_idx);
    pl_free(r->out_file_col);
    pl_schema_release(r->schema);
    free_names(r->paths, r->n_src);
    pl_buf_release(r->mem);
    pl_text_src_close(&r->src);
    pl_batch_queue_free(&r->queue);
    pl_free(r);
}

static pl_status check_unchanged(json_reader *r, pl_status st, pl_error *err) {
    return pl_io_check_unchanged(r->cur, r->src.slot, r->cur_name, &r->queue, st, err);
}

static pl_status json_next(pl_stream *s, pl_batch **out, pl_error *err) {
    json_reader *r = s->impl;
    for (;;) {
        PL_TRY(pl_batch_queue_pop(&r->queue, &r->limit_left, out, err));
        if (*out) return PL_OK;
        if (r->limit_left == 0) break;
        if (r->need_more || (r->pos >= r->cur->size && !r->src.eof)) {
            /* the next window of a compressed input, from the value it cut */
            PL_TRY(pl_text_input_next(&r->src, &r->pos, &r->cur, err));
            r->need_more = false;
            continue;
        }
        if (r->pos >= r->cur->size) {
            if (r->format == PL_JSON_ARRAY && r->arr_state != 2) {
                pl_error_set_path(err, r->cur_name);
                pl_error_set(err, PL_ERR_CORRUPT, "expected ',' or ']' closing the top-level "
                             "array, found the end of the data");
                error_at(r, r->cur->size, err);
                return PL_ERR_CORRUPT;
            }
            if (r->cur_src + 1 >= r->n_src) break;
            PL_TRY(check_unchanged(r, open_input(r, r->cur_src + 1, err), err));
            continue;
        }
        PL_TRY(check_unchanged(r, run_wave(r, err), err));
        if (r->src.slot >= 0 && r->pos > 0) pl_file_map_drop(r->cur->data, (size_t)r->pos);
    }
    *out = NULL;
    return PL_OK;
}

static void json_stream_free(pl_stream *s) {
    if (!s) return;
    reader_free(s->impl);
    pl_schema_release(s->schema);
    pl_free(s);
}

/* Output names: duplicates ignoring case (DuckDB's column names are case-insensitive) get
 * "_1", "_2"; empty names become "column<i>". */
static pl_status dedupe_names(char **names, int32_t n, pl_error *err) {
    for (int32_t k = 0; k < n; k++) {
        if (!names[k][0]) {
            char tmp[32];
            snprintf(tmp, sizeof tmp, "column%d", k);
            pl_free(names[k]);
            names[k] = pl_strdup(tmp);
            if (!names[k]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        for (int32_t dup = 1;; dup++) {
            bool clash = false;
            for (int32_t m = 0; m < k && !clash; m++) clash = strcasecmp(names[m], names[k]) == 0;
            if (!clash) break;
            size_t len = strlen(names[k]) + 16;
            char *nn = pl_malloc(len);
            if (!nn) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            snprintf(nn, len, "%s_%d", names[k], dup);
            pl_free(names[k]);
            names[k] = nn;
        }
    }
    return PL_OK;
}

/* The root type: explicit columns, or inferred from the sample. Fills r->records and *root
 * (a struct over the columns). */
static pl_status build_root(json_reader *r, const pl_read_opts *o, rtype *root, pl_error *err) {
    memset(root, 0, sizeof *root);
    if (o->json_column_names && o->n_json_columns > 0) {
        int32_t n = o->n_json_columns;
        pl_field *fields = pl_calloc((size_t)n, sizeof *fields);
        if (!fields) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        pl_status st = PL_OK;
        for (int32_t k = 0; k < n && !st; k++)
            st = pl_field_init(&fields[k], o->json_column_names[k], o->json_column_types[k], true,
                               err);
        if (!st) st = pl_type_new_struct(n, fields, &root->type, err);
        for (int32_t k = 0; k < n; k++) pl_field_reset(&fields[k]);
        pl_free(fields);
        r->records = o->json_records != 0;
        r->ignore_unknown = true;
        if (!r->records && n != 1 && !st)
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "records=false reads one column, %d given",
                              n);
        return st;
    }
    shape *top = shape_new();
    if (!top) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t left = o->json_sample_rows > 0 ? o->json_sample_rows : PL_JSON_DEFAULT_SAMPLE_ROWS;
    int64_t n_values = 0, n_bytes = 0, object_no = 0;
    pl_status st = infer_input(r, top, &left, &n_values, &n_bytes, &object_no, err);
    /* more inputs while the sample is not full (the first one stays open for reading) */
    json_reader peek = *r; /* reads the other inputs of the sample; shares nothing it frees */
    memset(&peek.src, 0, sizeof peek.src);
    peek.cur = NULL;
    peek.mem = NULL;
    memset(&peek.queue, 0, sizeof peek.queue);
    for (int32_t k = 1; !st && left > 0 && !r->mem && k < r->n_src && k < PL_JSON_MAX_SAMPLE_FILES;
         k++) {
        peek.cur_src = k;
        st = open_input(&peek, k, err);
        if (!st) st = infer_input(&peek, top, &left, &n_values, &n_bytes, &object_no, err);
        if (!st) st = check_unchanged(&peek, PL_OK, err);
    }
    pl_text_src_close(&peek.src);
    if (n_values > 0) r->row_bytes_est = PL_MAX(n_bytes / n_values, 1);
    unsigned kinds = top->kinds & ~(unsigned)S_NULL;
    bool objects = kinds == S_OBJ;
    r->records = o->json_records == 1 || (o->json_records < 0 && objects);
    if (!st && r->records && kinds && !objects) {
        pl_error_set_path(err, r->cur_name);
        st = pl_error_set(err, PL_ERR_TYPE, "records=true needs objects, the sample holds other "
                          "values");
    }
    if (!st && r->records) {
        st = resolve(top, root, err);
        if (!st && root->type->id != PL_TYPE_STRUCT) {
            /* only nulls or empty objects: no columns */
            rtype_reset(root);
            st = pl_type_new_struct(0, NULL, &root->type, err);
        }
    } else if (!st) {
        /* one column "json" */
        root->children = pl_calloc(1, sizeof *root->children);
        if (!root->children) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else root->n_children = 1;
        if (!st) st = resolve(top, &root->children[0], err);
        if (!st && !kinds) {
            /* nothing but nulls, or no value at all: JSON text like DuckDB's JSON column */
            rtype_reset(&root->children[0]);
            root->children[0].type = pl_type_json();
            root->children[0].json_text = true;
        }
        pl_field f;
        if (!st) st = pl_field_init(&f, "json", root->children[0].type, true, err);
        if (!st) {
            st = pl_type_new_struct(1, &f, &root->type, err);
            pl_field_reset(&f);
        }
    }
    shape_free(top);
    return st;
}

static pl_status setup(json_reader *r, const pl_read_opts *o, pl_error *err) {
    r->opt_format = o->json_format;
    if (r->opt_format < PL_JSON_AUTO || r->opt_format > PL_JSON_ARRAY)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "unknown JSON format %d", (int)r->opt_format);
    r->limit_left = o->limit >= 0 ? o->limit : -1;
    r->n_threads = o->n_threads;
    r->row_bytes_est = 64;
    PL_TRY(open_input(r, 0, err));
    rtype root;
    pl_status st = build_root(r, o, &root, err);
    pl_field *fields = NULL;
    int32_t n = 0;
    if (!st) {
        r->root_type = pl_type_retain(root.type);
        st = conv_for_type(&r->root, r->root_type, "json", err);
        if (!st) mark_json(&r->root, &root);
        n = root.type->n_children;
        r->n_file_cols = n;
        r->col_names = pl_calloc((size_t)(n ? n : 1), sizeof *r->col_names);
        r->out_idx = pl_calloc((size_t)(n ? n : 1), sizeof *r->out_idx);
        if (!r->col_names || !r->out_idx) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; k < n && !st; k++) {
            r->col_names[k] = pl_strdup(root.type->children[k].name);
            if (!r->col_names[k]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            r->out_idx[k] = -1;
        }
        if (!st) st = dedupe_names(r->col_names, n, err);
    }
    /* projection */
    if (!st) {
        r->n_out = o->columns ? o->n_columns : n;
        r->out_file_col = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof(int32_t));
        fields = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *fields);
        if (!r->out_file_col || !fields) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int32_t c = 0; c < r->n_out && !st; c++) {
        int32_t k = c;
        if (o->columns) {
            k = 0;
            while (k < n && strcmp(r->col_names[k], o->columns[c]) != 0) k++;
            if (k == n) {
                pl_error_set_path(err, r->cur_name);
                st = pl_error_set(err, PL_ERR_NOT_FOUND, "no column \"%s\"", o->columns[c]);
                break;
            }
            if (r->out_idx[k] >= 0) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "column \"%s\" selected twice",
                                  o->columns[c]);
                break;
            }
        }
        r->out_file_col[c] = k;
        r->out_idx[k] = c;
        st = pl_field_init(&fields[c], r->col_names[k], root.type->children[k].type, true, err);
    }
    if (!st) st = pl_schema_new(r->n_out, fields, &r->schema, err);
    if (fields) {
        for (int32_t c = 0; c < r->n_out; c++) pl_field_reset(&fields[c]);
        pl_free(fields);
    }
    rtype_reset(&root);
    if (st) return st;
    int64_t size = r->cur->size;
    int32_t threads = o->n_threads > 0 ? o->n_threads : pl_pool_threads();
    if (threads < 1) threads = 1;
    int64_t cb = size / ((int64_t)threads * PL_JSON_CHUNKS_PER_THREAD);
    r->chunk_bytes = PL_MIN(PL_MAX(cb, PL_JSON_MIN_CHUNK_BYTES), PL_JSON_MAX_CHUNK_BYTES);
    if (g_test_chunk_bytes > 0) r->chunk_bytes = g_test_chunk_bytes;
    return PL_OK;
}

static pl_status open_stream(json_reader *r, const pl_read_opts *opts, pl_stream **out,
                             pl_error *err) {
    pl_read_opts defaults;
    pl_status st = check_unchanged(r, setup(r, pl_read_opts_or_default(opts, &defaults), err),
                                   err);
    if (!st) st = pl_io_stream_new(json_next, json_stream_free, r->schema, r, out, err);
    if (st) reader_free(r);
    return st;
}

pl_status pl_json_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                            pl_stream **out, pl_error *err) {
    if (n_paths < 1) PL_FAIL(err, PL_ERR_INVALID_ARG, "no JSON input given");
    json_reader *r = pl_calloc(1, sizeof *r);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    r->src.slot = r->src.raw_slot = -1;
    r->paths = pl_calloc((size_t)n_paths, sizeof(char *));
    if (!r->paths) {
        pl_free(r);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    r->n_src = n_paths;
    for (int32_t k = 0; k < n_paths; k++) {
        r->paths[k] = pl_strdup(paths[k]);
        if (!r->paths[k]) {
            reader_free(r);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
    }
    return open_stream(r, opts, out, err);
}

pl_status pl_json_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                              pl_stream **out, pl_error *err) {
    json_reader *r = pl_calloc(1, sizeof *r);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    r->src.slot = r->src.raw_slot = -1;
    r->mem = pl_buf_retain(buf);
    r->n_src = 1;
    r->cur_name = name ? name : "<buffer>";
    return open_stream(r, opts, out, err);
}

/* ---------------------------------------------------------------- values of SQL's JSON functions */

/* A cursor over one JSON text d[0..n) (no reader: no path, no column). */
static void text_cursor(jcur *c, const uint8_t *d, int64_t n) {
    memset(c, 0, sizeof *c);
    c->d = d;
    c->n = n;
    c->err_col = c->col = -1;
    c->trailing_commas = true;
}

pl_status pl_json_append_string(pl_strbuf *out, const char *s, int64_t n, pl_error *err) {
    jcur c;
    text_cursor(&c, NULL, 0);
    bool ok = put_json_string(&c, out, s, n);
    cursor_reset(&c);
    return ok ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory rendering JSON");
}

static int text_fail(jcur *c, char *why, size_t why_n) {
    snprintf(why, why_n, "malformed JSON at byte %lld: %s", (long long)c->err_pos, c->why);
    cursor_reset(c);
    return -1;
}

/* Reads the next step of a '$' path at path[*p] into a key (k, kl) or an index (*idx, *from_end).
 * 1: a step; 0: the end; -1: a syntax error; 2: '.*' (every member); 3: '[*]' (every element). */
static int path_step(const char *path, int64_t plen, int64_t *p, const char **k, int64_t *kl,
                     int64_t *idx, bool *from_end) {
    int64_t i = *p;
    if (i >= plen) return 0;
    *k = NULL;
    if (path[i] == '.') {
        i++;
        if (i < plen && path[i] == '"') {
            int64_t s = ++i;
            while (i < plen && path[i] != '"') i++;
            if (i >= plen) return -1;
            *k = path + s;
            *kl = i - s;
            *p = i + 1;
            return 1;
        }
        int64_t s = i;
        while (i < plen && path[i] != '.' && path[i] != '[') i++;
        if (i == s) return -1;
        *k = path + s;
        *kl = i - s;
        *p = i;
        return *kl == 1 && **k == '*' ? 2 : 1;
    }
    if (path[i] != '[') return -1;
    i++;
    if (i + 1 < plen && path[i] == '*' && path[i + 1] == ']') {
        *p = i + 2;
        return 3;
    }
    *from_end = i < plen && path[i] == '#';
    if (*from_end) {
        i++;
        if (i < plen && path[i] == ']') { /* [#]: one past the end: never found */
            *idx = 0;
            *p = i + 1;
            return 1;
        }
        if (i >= plen || path[i] != '-') return -1;
        i++;
    }
    int64_t v = 0, s = i;
    while (i < plen && path[i] >= '0' && path[i] <= '9' && i - s < 18) v = v * 10 + (path[i++] - '0');
    if (i == s || i >= plen || path[i] != ']') return -1;
    *idx = v;
    *p = i + 1;
    return 1;
}

/* At c->pos (after whitespace): moves to the member `k` of an object, or the element `idx` of an
 * array (from the end when from_end). 1 found, 0 not there, -1 error. */
static int descend(jcur *c, const char *k, int64_t kl, int64_t idx, bool from_end) {
    skip_ws(c);
    uint8_t b = c->d[c->pos];
    bool empty;
    if (k && b == '{') {
        if (!open_container(c, '}', &empty)) return -1;
        for (int more = !empty; more == 1;) {
            const char *key;
            int64_t len, at;
            if (!read_key(c, &key, &len, &at)) return -1;
            if (len == kl && memcmp(key, k, (size_t)kl) == 0) {
                skip_ws(c);
                return 1;
            }
            if (!gen_value(c, NULL)) return -1;
            if ((more = next_member(c, '}')) < 0) return -1;
        }
        return 0;
    }
    if (!k && b == '[') {
        if (from_end) { /* count the elements first */
            int64_t start = c->pos, count = 0;
            if (!open_container(c, ']', &empty)) return -1;
            for (int more = !empty; more == 1; count++) {
                if (!gen_value(c, NULL)) return -1;
                if ((more = next_member(c, ']')) < 0) return -1;
            }
            if (idx < 1 || idx > count) return 0;
            c->pos = start;
            idx = count - idx;
        }
        if (!open_container(c, ']', &empty)) return -1;
        for (int64_t i = 0, more = !empty; more == 1; i++) {
            if (i == idx) {
                skip_ws(c);
                return 1;
            }
            if (!gen_value(c, NULL)) return -1;
            if ((more = next_member(c, ']')) < 0) return -1;
        }
        return 0;
    }
    return 0;
}

/* Validates the text d[0..n) (one JSON value, white space around it) and sets c at its start;
 * false (why filled, c reset) when it is malformed. */
static bool open_text(jcur *c, const uint8_t *d, int64_t n, char *why, size_t why_n) {
    text_cursor(c, d, n);
    if (!gen_value(c, NULL)) return text_fail(c, why, why_n), false;
    skip_ws(c);
    if (c->pos < c->n) {
        fail_unexpected(c, "the end of the data");
        return text_fail(c, why, why_n), false;
    }
    c->pos = 0;
    c->depth = 0;
    return true;
}

int pl_json_locate(const uint8_t *d, int64_t n, const char *path, int64_t plen, int64_t *at,
                   char *why, size_t why_n) {
    jcur c;
    if (!open_text(&c, d, n, why, why_n)) return -1;
    skip_ws(&c);
    int found = 1;
    if (plen > 0 && path[0] == '$') {
        int64_t p = 1;
        for (;;) {
            const char *k = NULL;
            int64_t kl = 0, idx = 0;
            bool from_end = false;
            int r = path_step(path, plen, &p, &k, &kl, &idx, &from_end);
            if (r == 0) break;
            if (r < 0 || r > 1) { /* wildcards: pl_json_locate_all */
                snprintf(why, why_n, "JSON path error near '%.*s'", (int)PL_MIN(plen - p, 40), path + p);
                cursor_reset(&c);
                return -2;
            }
            if ((found = descend(&c, k, kl, idx, from_end)) != 1) break;
        }
    } else if (plen > 0 && path[0] == '/') { /* JSON pointer (RFC 6901) */
        pl_strbuf seg = {0};
        for (int64_t p = 1; p <= plen && found == 1;) {
            int64_t e = p;
            while (e < plen && path[e] != '/') e++;
            seg.len = 0;
            for (int64_t i = p; i < e; i++) {
                char ch = path[i];
                if (ch == '~' && i + 1 < e && (path[i + 1] == '0' || path[i + 1] == '1')) ch = path[++i] == '0' ? '~' : '/';
                if (pl_strbuf_append(&seg, &ch, 1, NULL)) {
                    pl_strbuf_reset(&seg);
                    cursor_reset(&c);
                    snprintf(why, why_n, "out of memory");
                    return -1;
                }
            }
            bool digits = seg.len > 0 && seg.len < 18;
            int64_t idx = 0;
            for (int64_t i = 0; i < seg.len && digits; i++) {
                if (seg.data[i] < '0' || seg.data[i] > '9') digits = false;
                else idx = idx * 10 + (seg.data[i] - '0');
            }
            if (c.d[c.pos] == '[') found = digits ? descend(&c, NULL, 0, idx, false) : 0;
            else found = descend(&c, seg.len ? seg.data : "", seg.len, 0, false);
            p = e + 1;
        }
        pl_strbuf_reset(&seg);
    } else if (plen > 0) { /* a bare key */
        found = descend(&c, path, plen, 0, false);
    }
    if (found < 0) return text_fail(&c, why, why_n);
    *at = c.pos;
    cursor_reset(&c);
    return found;
}

bool pl_json_path_has_wildcard(const char *path, int64_t plen) {
    if (plen <= 0 || path[0] != '$') return false;
    for (int64_t p = 1;;) {
        const char *k = NULL;
        int64_t kl = 0, idx = 0;
        bool from_end = false;
        int r = path_step(path, plen, &p, &k, &kl, &idx, &from_end);
        if (r <= 0) return false;
        if (r > 1) return true;
    }
}

typedef struct at_list {
    int64_t *v;
    int64_t n, cap;
} at_list;

static bool at_push(jcur *c, at_list *l, int64_t at) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 8;
        int64_t *v = pl_realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return jnomem(c);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = at;
    return true;
}

/* The values path[p..] reaches from c->pos, in document order, onto out. 1 (or 0: none) /
 * -1 on an error (recorded in c). */
static int locate_all_rec(jcur *c, const char *path, int64_t plen, int64_t p, at_list *out) {
    for (;;) {
        const char *k = NULL;
        int64_t kl = 0, idx = 0;
        bool from_end = false;
        int r = path_step(path, plen, &p, &k, &kl, &idx, &from_end);
        if (r == 0) {
            skip_ws(c);
            return at_push(c, out, c->pos) ? 1 : -1;
        }
        if (r == 1) {
            int f = descend(c, k, kl, idx, from_end);
            if (f != 1) return f;
            continue;
        }
        bool obj = r == 2, empty;
        char close = obj ? '}' : ']';
        skip_ws(c);
        if (c->d[c->pos] != (obj ? '{' : '[')) return 0;
        if (!open_container(c, close, &empty)) return -1;
        for (int more = !empty; more == 1;) {
            if (obj) {
                const char *key;
                int64_t len, kat;
                if (!read_key(c, &key, &len, &kat)) return -1;
            }
            skip_ws(c);
            int64_t v = c->pos;
            int32_t depth = c->depth;
            if (locate_all_rec(c, path, plen, p, out) < 0) return -1;
            c->pos = v;
            c->depth = depth;
            if (!gen_value(c, NULL)) return -1;
            if ((more = next_member(c, close)) < 0) return -1;
        }
        return 1;
    }
}

int pl_json_locate_all(const uint8_t *d, int64_t n, const char *path, int64_t plen, int64_t **ats,
                       int64_t *n_ats, char *why, size_t why_n) {
    *ats = NULL;
    *n_ats = 0;
    for (int64_t p = 1;;) { /* the path first: a bad one is an error whatever the text */
        const char *k = NULL;
        int64_t kl = 0, idx = 0;
        bool from_end = false;
        int64_t p0 = p;
        int r = plen > 0 && path[0] == '$' ? path_step(path, plen, &p, &k, &kl, &idx, &from_end) : -1;
        if (r == 0) break;
        if (r < 0) {
            snprintf(why, why_n, "JSON path error near '%.*s'", (int)PL_MIN(plen - p0, 40), path + p0);
            return -2;
        }
    }
    jcur c;
    if (!open_text(&c, d, n, why, why_n)) return -1;
    at_list out = {0};
    if (locate_all_rec(&c, path, plen, 1, &out) < 0) {
        pl_free(out.v);
        return text_fail(&c, why, why_n);
    }
    cursor_reset(&c);
    *ats = out.v;
    *n_ats = out.n;
    return 1;
}

int64_t pl_json_each(const uint8_t *d, int64_t n, int64_t at, pl_json_member_fn fn, void *ctx) {
    jcur c;
    text_cursor(&c, d, n);
    c.pos = at;
    skip_ws(&c);
    uint8_t b = c.pos < n ? d[c.pos] : 0;
    if (b != '{' && b != '[') return -1;
    bool obj = b == '{', empty;
    char close = obj ? '}' : ']';
    int64_t count = 0;
    if (!open_container(&c, close, &empty)) count = -2;
    for (int more = !empty; count >= 0 && more == 1; count++) {
        const char *key = NULL;
        int64_t len = 0, kat;
        if (obj && !read_key(&c, &key, &len, &kat)) {
            count = -2;
            break;
        }
        skip_ws(&c);
        int64_t v = c.pos;
        if (!fn(ctx, key, len, v)) {
            count = -3;
            break;
        }
        if (!gen_value(&c, NULL) || (more = next_member(&c, close)) < 0) count = -2;
    }
    cursor_reset(&c);
    return count;
}

int pl_json_locate_index(const uint8_t *d, int64_t n, int64_t index, int64_t *at, char *why,
                         size_t why_n) {
    char path[32];
    int k = index < 0 ? snprintf(path, sizeof path, "$[#%lld]", (long long)index)
                      : snprintf(path, sizeof path, "$[%lld]", (long long)index);
    return pl_json_locate(d, n, path, k, at, why, why_n);
}

pl_status pl_json_render(const uint8_t *d, int64_t n, int64_t at, bool unquote, pl_strbuf *out,
                         pl_error *err) {
    jcur c;
    text_cursor(&c, d, n);
    c.pos = at;
    bool ok;
    if (unquote && at < n && d[at] == '"') {
        const char *s;
        int64_t len;
        ok = read_string(&c, &s, &len) && put_text(&c, out, s, len);
    } else {
        ok = gen_value(&c, out);
    }
    pl_status st = ok ? PL_OK : pl_error_set(err, c.code ? c.code : PL_ERR_INTERNAL, "%s", c.why);
    cursor_reset(&c);
    return st;
}

const char *pl_json_kind(const uint8_t *d, int64_t n, int64_t at, int64_t *n_elems) {
    jcur c;
    text_cursor(&c, d, n);
    c.pos = at;
    *n_elems = -1;
    const char *name = NULL;
    switch (d[at]) {
    case '{': name = "OBJECT"; break;
    case '"': name = "VARCHAR"; break;
    case 't':
    case 'f': name = "BOOLEAN"; break;
    case 'n': name = "NULL"; break;
    case '[': {
        bool empty;
        int64_t count = 0;
        name = "ARRAY";
        if (!open_container(&c, ']', &empty)) break;
        for (int more = !empty; more == 1; count++) {
            if (!gen_value(&c, NULL)) break;
            if ((more = next_member(&c, ']')) < 0) break;
        }
        *n_elems = count;
        break;
    }
    default: {
        jnum v;
        uint64_t u;
        if (!read_number(&c, &v)) break;
        name = v.fits && v.i < 0 ? "BIGINT" : num_u64(&c, &v, &u) ? "UBIGINT" : "DOUBLE";
    }
    }
    cursor_reset(&c);
    return name;
}
