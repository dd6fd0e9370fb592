/* cast.c - conversions between types (CAST, TRY_CAST and the binder's implicit casts) and SQL
 * type names.
 *
 * Rules (DuckDB's): integer narrowing is range-checked; float -> integer rounds half to even
 * (nearbyint), decimal -> integer and every decimal rescale round half away from zero; strings
 * are trimmed of spaces before parsing numbers, dates and times (not booleans); string -> int
 * accepts a sign, 0x hex, '_' digit separators, fractions and exponents (rounded); anything ->
 * utf8 renders as the text table output does. Timestamps with a time zone are stored as UTC
 * instants; their type's zone (the session's, SET TimeZone) is where a cast to or from a naive
 * TIMESTAMP, DATE or TIME takes its wall-clock time, and where a string without an offset is
 * read (UTC: the type only changes); a string with an offset cast to a naive timestamp drops
 * the offset, to a zoned one applies it. Failures are errors naming the value and row, or NULLs
 * for TRY_CAST. Dictionary inputs are decoded first. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "compute/compute.h"
#include "expr/expr_core.h"
#include "expr/time_int.h"
#include "io/json/json.h"
#include "io/text/text.h"

typedef __int128 i128;

static const int64_t k_ups[] = {1, 1000, 1000000, 1000000000}; /* units per second */
static int64_t floor_div64(int64_t a, int64_t b);

static i128 pow10_i128(int k) {
    i128 r = 1;
    for (int i = 0; i < k; i++) r *= 10;
    return r;
}

static bool nested(pl_type_id id) {
    return id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP;
}

static bool is_num(pl_type_id id) { return pl_type_is_numeric(id) || id == PL_TYPE_BOOL; }

bool pl_cast_supported(const pl_type *from, const pl_type *to);
bool pl_cast_supported(const pl_type *from, const pl_type *to) {
    if (from->id == PL_TYPE_DICTIONARY) from = from->value_type;
    if (pl_type_equals(from, to) || from->id == PL_TYPE_NA) return true;
    pl_type_id f = from->id, t = to->id;
    if (t == PL_TYPE_UTF8) return true;
    if (pl_type_is_json(from) && nested(t)) return true; /* json_transform's rules */
    /* list to list: element by element */
    if (f == PL_TYPE_LIST && t == PL_TYPE_LIST) return pl_cast_supported(from->children[0].type, to->children[0].type);
    /* map to map: keys and values cast (the keys checked again) */
    if (f == PL_TYPE_MAP && t == PL_TYPE_MAP) {
        const pl_type *fe = from->children[0].type, *te = to->children[0].type;
        return pl_cast_supported(fe->children[0].type, te->children[0].type) &&
               pl_cast_supported(fe->children[1].type, te->children[1].type);
    }
    /* struct to struct of the same field names: field by field */
    if (f == PL_TYPE_STRUCT && t == PL_TYPE_STRUCT) {
        if (from->n_children != to->n_children) return false;
        for (int32_t c = 0; c < to->n_children; c++)
            if (strcasecmp(from->children[c].name, to->children[c].name) != 0 ||
                !pl_cast_supported(from->children[c].type, to->children[c].type))
                return false;
        return true;
    }
    if (nested(f) || nested(t) || t == PL_TYPE_NA || t == PL_TYPE_DICTIONARY) return false;
    if (is_num(f) && is_num(t)) return true;
    if (f == PL_TYPE_UTF8) return t != PL_TYPE_FIXED_BINARY;
    if ((f == PL_TYPE_BINARY || f == PL_TYPE_FIXED_BINARY) && (t == PL_TYPE_BINARY)) return true;
    if (f == PL_TYPE_DATE32 && t == PL_TYPE_TIMESTAMP) return true;
    if (f == PL_TYPE_TIMESTAMP && (t == PL_TYPE_DATE32 || t == PL_TYPE_TIMESTAMP || t == PL_TYPE_TIME64))
        return true;
    if (f == PL_TYPE_TIME64 && t == PL_TYPE_TIME64) return true;
    if (f == PL_TYPE_INTERVAL && t == PL_TYPE_INTERVAL) return true;
    return false;
}

/* ---------------------------------------------------------------- numbers */

/* A numeric value in flight: integers (and decimals, with scale) as i128, floats as double. */
typedef struct num {
    bool is_float;
    i128 i;
    double f;
    int32_t scale; /* decimal scale of i */
} num;

static num load_num(const pl_type *t, const uint8_t *p) {
    num v = {0};
    switch (t->id) {
    case PL_TYPE_INT8: v.i = *(const int8_t *)p; break;
    case PL_TYPE_INT16: { int16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case PL_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case PL_TYPE_INT64: { int64_t x; memcpy(&x, p, 8); v.i = x; break; }
    case PL_TYPE_UINT8: v.i = *p; break;
    case PL_TYPE_UINT16: { uint16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case PL_TYPE_UINT32: { uint32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case PL_TYPE_UINT64: { uint64_t x; memcpy(&x, p, 8); v.i = x; break; }
    case PL_TYPE_FLOAT32: { float x; memcpy(&x, p, 4); v.is_float = true; v.f = x; break; }
    case PL_TYPE_FLOAT64: { memcpy(&v.f, p, 8); v.is_float = true; break; }
    case PL_TYPE_DECIMAL128: memcpy(&v.i, p, 16); v.scale = t->scale; break;
    default: break;
    }
    return v;
}

/* i / 10^k rounded half away from zero */
static i128 div_round(i128 i, int k) {
    if (k <= 0) return i;
    i128 d = pow10_i128(k);
    i128 q = i / d, r = i % d;
    if (r < 0) r = -r;
    if (2 * r >= d) q += i < 0 ? -1 : 1;
    return q;
}

static bool int_range(pl_type_id id, i128 *lo, i128 *hi) {
    switch (id) {
    case PL_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; return true;
    case PL_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; return true;
    case PL_TYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; return true;
    case PL_TYPE_INT64: *lo = INT64_MIN; *hi = INT64_MAX; return true;
    case PL_TYPE_UINT8: *lo = 0; *hi = UINT8_MAX; return true;
    case PL_TYPE_UINT16: *lo = 0; *hi = UINT16_MAX; return true;
    case PL_TYPE_UINT32: *lo = 0; *hi = UINT32_MAX; return true;
    case PL_TYPE_UINT64: *lo = 0; *hi = UINT64_MAX; return true;
    default: return false;
    }
}

static void store_int(pl_type_id id, i128 x, uint8_t *dst) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_UINT8: *dst = (uint8_t)x; break;
    case PL_TYPE_INT16: case PL_TYPE_UINT16: { uint16_t y = (uint16_t)x; memcpy(dst, &y, 2); break; }
    case PL_TYPE_INT32: case PL_TYPE_UINT32: { uint32_t y = (uint32_t)x; memcpy(dst, &y, 4); break; }
    default: { uint64_t y = (uint64_t)x; memcpy(dst, &y, 8); break; }
    }
}

/* Converts v to type t into dst (BOOL: dst[0] = 0/1). false = out of range / not representable. */
static bool store_num(const pl_type *t, num v, uint8_t *dst) {
    i128 lo, hi;
    if (t->id == PL_TYPE_BOOL) {
        dst[0] = v.is_float ? v.f != 0 : v.i != 0;
        return true;
    }
    if (int_range(t->id, &lo, &hi)) {
        i128 x;
        if (v.is_float) {
            if (!(v.f == v.f) || isinf(v.f)) return false;
            double r = nearbyint(v.f);
            if (r < -1.8e38 || r > 1.8e38) return false;
            x = (i128)r;
        } else {
            x = div_round(v.i, v.scale);
        }
        if (x < lo || x > hi) return false;
        store_int(t->id, x, dst);
        return true;
    }
    if (t->id == PL_TYPE_FLOAT32 || t->id == PL_TYPE_FLOAT64) {
        double d;
        if (v.is_float) d = v.f;
        else if (v.scale == 0) d = (double)v.i;
        else d = (double)((long double)v.i / (long double)pow10_i128(v.scale));
        if (t->id == PL_TYPE_FLOAT32) {
            float f = (float)d;
            if (isinf(f) && !isinf(d)) return false;
            memcpy(dst, &f, 4);
        } else {
            memcpy(dst, &d, 8);
        }
        return true;
    }
    if (t->id == PL_TYPE_DECIMAL128) {
        i128 lim = pow10_i128(t->precision);
        i128 x;
        if (v.is_float) {
            if (!(v.f == v.f) || isinf(v.f)) return false;
            /* scaled in double precision and rounded half away from zero, like DuckDB (and
             * PostgreSQL, which goes through the shortest text): 38.97 / 4 prints 9.7425 and
             * becomes 9.743 although the double is 9.742499999... */
            double s = round(v.f * (double)pow10_i128(t->scale));
            if (fabs(s) >= (double)lim) return false;
            x = (i128)s;
        } else if (v.scale <= t->scale) {
            int k = t->scale - v.scale;
            i128 m = pow10_i128(k);
            if (v.i != 0 && (v.i > lim / m || v.i < -(lim / m))) return false;
            x = v.i * m;
        } else {
            x = div_round(v.i, v.scale - t->scale);
        }
        if (x >= lim || x <= -lim) return false;
        memcpy(dst, &x, 16);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- strings */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static void trim(const char **s, int64_t *n) {
    while (*n > 0 && is_space(**s)) (*s)++, (*n)--;
    while (*n > 0 && is_space((*s)[*n - 1])) (*n)--;
}

/* Parses a decimal number "[+-]digits[.digits][e[+-]digits]" (with '_' separators) into an
 * integer scaled to `scale` digits, rounded half away from zero. */
static bool parse_scaled(const char *s, int64_t n, int32_t scale, i128 *out) {
    int64_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    i128 mant = 0;
    int digits = 0, frac = 0;
    bool any = false, dot = false, big = false;
    int round_digit = -1;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_' && any && i + 1 < n && isdigit((unsigned char)s[i + 1])) continue;
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!isdigit((unsigned char)c)) break;
        any = true;
        if (digits >= 38) {
            if (!dot) big = true;
            else if (round_digit < 0) round_digit = c - '0';
            continue;
        }
        mant = mant * 10 + (c - '0');
        if (mant != 0) digits++;
        if (dot) frac++;
    }
    if (!any || big) return false;
    int64_t exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
        if (i >= n || !isdigit((unsigned char)s[i])) return false;
        while (i < n && isdigit((unsigned char)s[i])) {
            exp = exp * 10 + (s[i++] - '0');
            if (exp > 100) return false;
        }
        if (eneg) exp = -exp;
    }
    if (i != n) return false;
    /* value = mant * 10^(exp - frac); want mant * 10^(exp - frac + scale) */
    int64_t shift = exp - frac + scale;
    i128 x = mant;
    if (shift >= 0) {
        for (int64_t k = 0; k < shift; k++) {
            if (x > ((i128)1 << 120)) return false;
            x *= 10;
        }
    } else {
        if (-shift > 40) x = 0;
        else x = div_round(x, (int)-shift);
    }
    if (round_digit >= 5 && shift < 0) { /* digits beyond 38 only matter at the rounding edge */
    }
    *out = neg ? -x : x;
    return true;
}

static bool parse_int_str(const char *s, int64_t n, i128 *out) {
    int64_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        i128 x = 0;
        if (i >= n) return false;
        for (; i < n; i++) {
            int c = tolower((unsigned char)s[i]), d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
            else return false;
            if (x > ((i128)1 << 100)) return false;
            x = x * 16 + d;
        }
        *out = neg ? -x : x;
        return true;
    }
    return parse_scaled(s, n, 0, out);
}

static bool parse_bool_str(const char *s, int64_t n, bool *out) {
    static const char *const T[] = {"true", "t", "yes", "y", "1"};
    static const char *const F[] = {"false", "f", "no", "n", "0"};
    for (size_t i = 0; i < PL_ARRAY_LEN(T); i++)
        if ((int64_t)strlen(T[i]) == n && strncasecmp(s, T[i], (size_t)n) == 0) {
            *out = true;
            return true;
        }
    for (size_t i = 0; i < PL_ARRAY_LEN(F); i++)
        if ((int64_t)strlen(F[i]) == n && strncasecmp(s, F[i], (size_t)n) == 0) {
            *out = false;
            return true;
        }
    return false;
}

static bool parse_double_str(const char *s, int64_t n, double *out) {
    char buf[128];
    if (n <= 0 || n >= (int64_t)sizeof buf) return false;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (s[i] != '_') buf[k++] = s[i];
    buf[k] = '\0';
    if (strncasecmp(buf, "0x", 2) == 0 || strncasecmp(buf + (buf[0] == '-' || buf[0] == '+'), "0x", 2) == 0)
        return false;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + k || end == buf) return false;
    *out = d;
    return true;
}

/* H[H]:M[M][:S[S][.f]] -> units of the day */
static bool parse_time_str(const char *s, int64_t n, pl_time_unit unit, int64_t *out) {
    int64_t i = 0, hh = 0, mi = 0, ss = 0, frac = 0;
    int nd = 0, nh = 0;
    while (i < n && isdigit((unsigned char)s[i]) && nh < 2) hh = hh * 10 + (s[i++] - '0'), nh++;
    if (nh == 0 || i >= n || s[i] != ':') return false;
    i++;
    int nm = 0, ns = 0; /* minutes and seconds may drop their leading zero, as in DuckDB */
    while (i < n && isdigit((unsigned char)s[i]) && nm < 2) mi = mi * 10 + (s[i++] - '0'), nm++;
    if (nm == 0) return false;
    if (i < n && s[i] == ':') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]) && ns < 2) ss = ss * 10 + (s[i++] - '0'), ns++;
        if (ns == 0) return false;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && isdigit((unsigned char)s[i])) {
                if (nd < 9) frac = frac * 10 + (s[i] - '0'), nd++;
                i++;
            }
            if (nd == 0) return false;
        }
    }
    if (i != n || hh > 24 || mi > 59 || ss > 59) return false;
    if (hh == 24 && (mi || ss || frac)) return false;
    for (int k = nd; k < 9; k++) frac *= 10;
    int64_t ups = k_ups[unit];
    *out = (hh * 3600 + mi * 60 + ss) * ups + frac / (1000000000 / ups);
    return true;
}

/* "[+-]N unit ..." and "HH:MM:SS" pieces */
static bool parse_interval_str(const char *s, int64_t n, pl_interval *out) {
    pl_interval iv = {0, 0, 0};
    int64_t i = 0;
    bool any = false;
    while (i < n) {
        while (i < n && is_space(s[i])) i++;
        if (i >= n) break;
        int64_t st = i;
        if (s[i] == '+' || s[i] == '-') i++;
        while (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.')) i++;
        if (i < n && s[i] == ':') { /* a time piece */
            while (i < n && !is_space(s[i])) i++;
            const char *p = s + st;
            int64_t len = i - st;
            bool neg = len > 0 && p[0] == '-';
            if (neg || (len > 0 && p[0] == '+')) p++, len--;
            int64_t t;
            if (!parse_time_str(p, len, PL_UNIT_NS, &t)) {
                /* allow hours beyond 24 */
                return false;
            }
            iv.ns += neg ? -t : t;
            any = true;
            continue;
        }
        if (i == st) return false;
        char nb[64];
        if (i - st >= (int64_t)sizeof nb) return false;
        memcpy(nb, s + st, (size_t)(i - st));
        nb[i - st] = '\0';
        char *end;
        double v = strtod(nb, &end);
        if (*end) return false;
        while (i < n && is_space(s[i])) i++;
        int64_t us = i;
        while (i < n && isalpha((unsigned char)s[i])) i++;
        int64_t ul = i - us;
        if (ul == 0) return false;
        char u[16] = {0};
        if (ul < 0 || ul > 15) return false;
        for (int k = 0; k < (int)ul && k < 15; k++) u[k] = (char)tolower((unsigned char)s[us + k]);
        if (ul > 1 && u[ul - 1] == 's') u[ul - 1] = '\0';
        if (!strcmp(u, "year") || !strcmp(u, "y") || !strcmp(u, "yr")) iv.months += (int32_t)(v * 12);
        else if (!strcmp(u, "month") || !strcmp(u, "mon")) iv.months += (int32_t)v;
        else if (!strcmp(u, "week") || !strcmp(u, "w")) iv.days += (int32_t)(v * 7);
        else if (!strcmp(u, "day") || !strcmp(u, "d")) iv.days += (int32_t)v;
        else if (!strcmp(u, "hour") || !strcmp(u, "h") || !strcmp(u, "hr")) iv.ns += (int64_t)(v * 3600e9);
        else if (!strcmp(u, "minute") || !strcmp(u, "min") || !strcmp(u, "m")) iv.ns += (int64_t)(v * 60e9);
        else if (!strcmp(u, "second") || !strcmp(u, "sec") || !strcmp(u, "s")) iv.ns += (int64_t)(v * 1e9);
        else if (!strcmp(u, "millisecond") || !strcmp(u, "ms") || !strcmp(u, "msec")) iv.ns += (int64_t)(v * 1e6);
        else if (!strcmp(u, "microsecond") || !strcmp(u, "us") || !strcmp(u, "usec")) iv.ns += (int64_t)(v * 1e3);
        else return false;
        any = true;
    }
    if (!any) return false;
    *out = iv;
    return true;
}

/* A trailing UTC offset ("Z", "+HH", "+HH:MM", "-HHMM") after a time: its start, or n. */
static int64_t offset_start(const char *s, int64_t n) {
    if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z')) return n - 1;
    for (int64_t k = n - 1; k >= 0 && k >= n - 6; k--) {
        if (s[k] == '+' || s[k] == '-') {
            /* must follow a time (a digit before) and be digits/colon after */
            if (k == 0 || !isdigit((unsigned char)s[k - 1])) return n;
            for (int64_t j = k + 1; j < n; j++)
                if (!isdigit((unsigned char)s[j]) && s[j] != ':') return n;
            /* not the date's '-' : a time has a ':' before it */
            if (!memchr(s, ':', (size_t)k)) return n;
            return k;
        }
    }
    return n;
}

/* Copies the 1-2 digit field at s[*i] to buf[*o] as two digits (a leading zero added: *changed);
 * false when there are none or more than two. */
static bool pad_field2(const char *s, int64_t n, int64_t *i, char *buf, int64_t *o, bool *changed) {
    int64_t st = *i;
    while (*i < n && isdigit((unsigned char)s[*i]) && *i - st < 3) (*i)++;
    int64_t nd = *i - st;
    if (nd == 0 || nd > 2) return false;
    if (nd == 1) buf[(*o)++] = '0', *changed = true;
    memcpy(buf + *o, s + st, (size_t)nd);
    *o += nd;
    return true;
}

/* DuckDB's looser date/time text: 1-3 digit years, 1 digit months, days, hours, minutes and
 * seconds, '/' between the date's parts ("2024-1-5", "2024/01/05 1:02:03"): written into buf in
 * the canonical form (YYYY-MM-DD HH:MM:SS...). Returns its length, or -1 when s is not such a
 * text or is canonical already. */
static int64_t pad_datetime(const char *s, int64_t n, char *buf, int64_t cap) {
    int64_t i = 0, o = 0;
    bool changed = false;
    if (n >= cap - 16) return -1;
    if (i < n && s[i] == '-') buf[o++] = s[i++];
    int64_t st = i;
    while (i < n && isdigit((unsigned char)s[i]) && i - st < 9) i++;
    int64_t nd = i - st;
    if (nd == 0 || i >= n || (s[i] != '-' && s[i] != '/')) return -1;
    for (int64_t k = nd; k < 4; k++) buf[o++] = '0', changed = true;
    memcpy(buf + o, s + st, (size_t)nd);
    o += nd;
    char sep = s[i];
    if (sep == '/') changed = true;
    for (int part = 0; part < 2; part++) { /* month, day */
        if (i >= n || s[i] != sep) return -1;
        i++;
        buf[o++] = '-';
        if (!pad_field2(s, n, &i, buf, &o, &changed)) return -1;
    }
    if (i < n && (s[i] == ' ' || s[i] == 'T')) { /* HH:MM[:SS] */
        buf[o++] = s[i++];
        for (int part = 0; part < 3; part++) {
            if (part > 0) {
                if (i >= n || s[i] != ':') break;
                buf[o++] = s[i++];
            }
            if (!pad_field2(s, n, &i, buf, &o, &changed)) return -1;
        }
    }
    if (!changed) return -1;
    memcpy(buf + o, s + i, (size_t)(n - i)); /* fraction, offset, " (BC)" */
    o += n - i;
    return o;
}

static bool parse_str1(const pl_type *t, const char *s, int64_t n, uint8_t *dst);

/* Parses one string as a value of type t into dst (fixed-width bytes; BOOL dst[0]). */
static bool parse_str(const pl_type *t, const char *s, int64_t n, uint8_t *dst) {
    if (parse_str1(t, s, n, dst)) return true;
    if (t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_TIME64) return false;
    trim(&s, &n);
    char buf[128];
    int64_t m = pad_datetime(s, n, buf, (int64_t)sizeof buf);
    return m >= 0 && parse_str1(t, buf, m, dst);
}

static bool parse_str1(const pl_type *t, const char *s, int64_t n, uint8_t *dst) {
    if (t->id == PL_TYPE_BOOL) return parse_bool_str(s, n, (bool *)(void *)dst);
    trim(&s, &n);
    i128 lo, hi;
    if (int_range(t->id, &lo, &hi)) {
        i128 x;
        if (!parse_int_str(s, n, &x)) return false;
        if (x < lo || x > hi) return false;
        store_int(t->id, x, dst);
        return true;
    }
    switch (t->id) {
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64: {
        double d;
        if (!parse_double_str(s, n, &d)) return false;
        num v = {.is_float = true, .f = d};
        return store_num(t, v, dst);
    }
    case PL_TYPE_DECIMAL128: {
        i128 x;
        if (!parse_scaled(s, n, t->scale, &x)) return false;
        i128 lim = pow10_i128(t->precision);
        if (x >= lim || x <= -lim) return false;
        memcpy(dst, &x, 16);
        return true;
    }
    case PL_TYPE_DATE32: {
        int32_t d;
        if (pl_text_parse_date(s, n, &d)) {
            memcpy(dst, &d, 4);
            return true;
        }
        /* a timestamp string: its date as written (a UTC offset is dropped like DuckDB; it
         * moved "2024-01-05 23:30:00-05" to the 6th before) */
        int64_t ts;
        bool tz;
        if (!pl_text_parse_timestamp(s, n, PL_UNIT_S, &ts, &tz)) return false;
        if (tz && !pl_text_parse_timestamp(s, offset_start(s, n), PL_UNIT_S, &ts, &tz)) return false;
        int64_t days = ts >= 0 ? ts / 86400 : -((-ts + 86399) / 86400);
        d = (int32_t)days;
        memcpy(dst, &d, 4);
        return true;
    }
    case PL_TYPE_TIMESTAMP: {
        int64_t v;
        bool tz = false;
        if (!pl_text_parse_timestamp(s, n, t->unit, &v, &tz)) return false;
        if (tz && !t->tz) {
            /* a naive timestamp keeps the wall-clock time written */
            int64_t k = offset_start(s, n);
            if (!pl_text_parse_timestamp(s, k, t->unit, &v, &tz)) return false;
        } else if (!tz && t->tz && !(v == INT64_MAX || v == -INT64_MAX)) {
            /* no offset written: the wall-clock time in the type's zone (the session's) */
            const pl_tz *z;
            int32_t off;
            if (pl_tz_lookup(t->tz, &z, NULL)) return false;
            if (!pl_tz_is_fixed(z, &off) || off) {
                int64_t ups = k_ups[t->unit], d;
                off = pl_tz_offset_for_local(z, floor_div64(v, ups));
                if (__builtin_mul_overflow((int64_t)off, ups, &d) || __builtin_sub_overflow(v, d, &v))
                    return false;
            }
        }
        memcpy(dst, &v, 8);
        return true;
    }
    case PL_TYPE_TIME64: {
        int64_t v;
        if (!parse_time_str(s, n, t->unit, &v)) {
            /* a timestamp string: its time of day as written (without the UTC offset) */
            bool tz;
            int64_t ts;
            if (!pl_text_parse_timestamp(s, n, t->unit, &ts, &tz)) return false;
            if (tz && !pl_text_parse_timestamp(s, offset_start(s, n), t->unit, &ts, &tz)) return false;
            int64_t upd = 86400 * k_ups[t->unit];
            v = ((ts % upd) + upd) % upd;
        }
        memcpy(dst, &v, 8);
        return true;
    }
    case PL_TYPE_INTERVAL: {
        pl_interval iv;
        if (!parse_interval_str(s, n, &iv)) return false;
        memcpy(dst, &iv.months, 4);
        memcpy(dst + 4, &iv.days, 4);
        memcpy(dst + 8, &iv.ns, 8);
        return true;
    }
    default: return false;
    }
}

static const char *duck_name(const pl_type *t, char *buf, size_t n) {
    switch (t->id) {
    case PL_TYPE_BOOL: return "BOOL";
    case PL_TYPE_INT8: return "INT8";
    case PL_TYPE_INT16: return "INT16";
    case PL_TYPE_INT32: return "INT32";
    case PL_TYPE_INT64: return "INT64";
    case PL_TYPE_UINT8: return "UINT8";
    case PL_TYPE_UINT16: return "UINT16";
    case PL_TYPE_UINT32: return "UINT32";
    case PL_TYPE_UINT64: return "UINT64";
    case PL_TYPE_FLOAT32: return "FLOAT";
    case PL_TYPE_FLOAT64: return "DOUBLE";
    case PL_TYPE_DATE32: return "DATE";
    case PL_TYPE_TIME64: return "TIME";
    case PL_TYPE_INTERVAL: return "INTERVAL";
    case PL_TYPE_DECIMAL128:
        snprintf(buf, n, "DECIMAL(%d,%d)", (int)t->precision, (int)t->scale);
        return buf;
    case PL_TYPE_TIMESTAMP: return t->tz ? "TIMESTAMP WITH TIME ZONE" : "TIMESTAMP";
    default: return pl_xtype_name(t, buf, n);
    }
}

/* ---------------------------------------------------------------- array casts */

typedef struct cast_ctx {
    bool try_cast;
    bool rows; /* name the row in errors */
} cast_ctx;

static pl_status fail_value(const cast_ctx *cc, pl_array *a, int64_t i, const pl_type *to,
                            bool is_string, pl_error *err) {
    char vs[96], tn[64], fn[64];
    pl_value v;
    pl_value_init_null(&v);
    if (pl_value_from_array(a, i, &v, NULL) == PL_OK) pl_value_to_string(&v, vs, sizeof vs);
    else snprintf(vs, sizeof vs, "?");
    pl_value_reset(&v);
    char where[48] = "";
    if (cc->rows) {
        snprintf(where, sizeof where, " at row %lld", (long long)i);
        if (err) err->row = i;
    }
    if (is_string)
        PL_FAIL(err, PL_ERR_TYPE, "could not convert string '%s' to %s%s", vs,
                duck_name(to, tn, sizeof tn), where);
    PL_FAIL(err, PL_ERR_TYPE, "type %s with value %s can't be cast to %s: out of range%s",
            duck_name(a->type, fn, sizeof fn), vs, duck_name(to, tn, sizeof tn), where);
}

/* Row-by-row conversion into a fixed-width (or BOOL) result with a per-row function. */
typedef bool (*row_conv_fn)(const void *ctx, pl_array *a, int64_t i, uint8_t *dst);

static pl_status conv_fixed(const cast_ctx *cc, pl_array *a, pl_type *to, row_conv_fn fn,
                            const void *fctx, bool is_string, pl_array **out, pl_error *err) {
    int64_t n = a->length;
    bool is_bool = to->id == PL_TYPE_BOOL;
    int64_t w = is_bool ? 0 : to->byte_width;
    pl_buf *values = NULL, *validity = NULL;
    PL_TRY(is_bool ? pl_xbuf_zeroed(pl_bits_bytes(n), &values, err)
                   : pl_xbuf_new(n * w, &values, err));
    pl_status st = pl_xbuf_new(pl_bits_bytes(n), &validity, err);
    if (st) {
        pl_buf_release(values);
        return st;
    }
    memset(validity->data, 0, (size_t)validity->size);
    uint8_t tmp[16];
    for (int64_t i = 0; i < n; i++) {
        uint8_t *dst = is_bool ? tmp : values->data + i * w;
        if (!pl_array_is_valid(a, i)) {
            if (!is_bool) memset(dst, 0, (size_t)w);
            continue;
        }
        if (!fn(fctx, a, i, dst)) {
            if (cc->try_cast) {
                if (!is_bool) memset(dst, 0, (size_t)w);
                continue;
            }
            st = fail_value(cc, a, i, to, is_string, err);
            break;
        }
        pl_bit_set(validity->data, i);
        if (is_bool && tmp[0]) pl_bit_set(values->data, i);
    }
    if (st) {
        pl_buf_release(values);
        pl_buf_release(validity);
        return st;
    }
    return pl_xarray_new(pl_type_retain(to), n, validity, values, NULL, out, err);
}

static bool row_num(const void *ctx, pl_array *a, int64_t i, uint8_t *dst) {
    const pl_type *to = ctx;
    num v;
    if (a->type->id == PL_TYPE_BOOL) {
        v = (num){0};
        v.i = pl_bit_get(a->values->data, a->offset + i);
    } else {
        v = load_num(a->type, (const uint8_t *)pl_array_values_ptr(a) + i * a->type->byte_width);
    }
    return store_num(to, v, dst);
}

static bool row_str(const void *ctx, pl_array *a, int64_t i, uint8_t *dst) {
    const pl_type *to = ctx;
    int32_t len;
    const uint8_t *p = pl_array_bytes(a, i, &len);
    return parse_str(to, (const char *)p, len, dst);
}

typedef struct temporal_ctx {
    const pl_type *from, *to;
} temporal_ctx;

static int64_t floor_div64(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* a / b rounded half away from zero (b > 0), as DuckDB reduces timestamp precision */
static int64_t div_round64(int64_t a, int64_t b) {
    int64_t q = a / b, r = a % b;
    if (r < 0) r = -r;
    if (2 * r >= b) q += a < 0 ? -1 : 1;
    return q;
}

static bool row_temporal(const void *ctx, pl_array *a, int64_t i, uint8_t *dst) {
    const temporal_ctx *tc = ctx;
    const uint8_t *p = (const uint8_t *)pl_array_values_ptr(a) + i * a->type->byte_width;
    pl_type_id f = tc->from->id, t = tc->to->id;
    int64_t x;
    if (f == PL_TYPE_DATE32) {
        int32_t d;
        memcpy(&d, p, 4);
        x = d;
    } else {
        memcpy(&x, p, 8);
    }
    if (f == PL_TYPE_DATE32 && t == PL_TYPE_TIMESTAMP) {
        int64_t r;
        if (__builtin_mul_overflow(x, 86400 * k_ups[tc->to->unit], &r)) return false;
        memcpy(dst, &r, 8);
        return true;
    }
    if (f == PL_TYPE_TIMESTAMP && t == PL_TYPE_DATE32) {
        int64_t d = floor_div64(x, 86400 * k_ups[tc->from->unit]);
        if (d < INT32_MIN || d > INT32_MAX) return false;
        int32_t d32 = (int32_t)d;
        memcpy(dst, &d32, 4);
        return true;
    }
    if ((f == PL_TYPE_TIMESTAMP && t == PL_TYPE_TIMESTAMP) ||
        (f == PL_TYPE_TIME64 && t == PL_TYPE_TIME64)) {
        int64_t fu = k_ups[tc->from->unit], tu = k_ups[tc->to->unit], r;
        if (tu >= fu) {
            if (__builtin_mul_overflow(x, tu / fu, &r)) return false;
        } else {
            r = div_round64(x, fu / tu);
            /* a timestamp rounded to s or ms past the microsecond range (the lowest and highest
             * timestamps round outwards) is an error, like DuckDB: it would wrap when read */
            int64_t us;
            if (f == PL_TYPE_TIMESTAMP && tu < k_ups[PL_UNIT_US] &&
                (__builtin_mul_overflow(r, k_ups[PL_UNIT_US] / tu, &us) || us == INT64_MIN || us == INT64_MAX))
                return false;
        }
        memcpy(dst, &r, 8);
        return true;
    }
    if (f == PL_TYPE_TIMESTAMP && t == PL_TYPE_TIME64) {
        int64_t fu = k_ups[tc->from->unit], tu = k_ups[tc->to->unit];
        int64_t tod = x % (86400 * fu); /* floor modulo: x - floor(x / d) * d overflows near INT64_MIN */
        if (tod < 0) tod += 86400 * fu;
        int64_t r = tu >= fu ? tod * (tu / fu) : div_round64(tod, fu / tu);
        if (r >= 86400 * tu) r = 86400 * tu - 1; /* 23:59:59.9999995 stays in the day */
        memcpy(dst, &r, 8);
        return true;
    }
    return false;
}

/* fast paths: widening integer casts and int/float -> float64 without checks */
static bool cast_fast(pl_array *a, pl_type *to, pl_array **out, pl_error *err, pl_status *st) {
    pl_type_id f = a->type->id, t = to->id;
    int64_t n = a->length;
    bool ok = false;
#define FAST(FID, FT, TID, TT)                                                                     \
    if (f == FID && t == TID) ok = true;
    FAST(PL_TYPE_INT8, int8_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_INT16, int16_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_INT32, int32_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_INT8, int8_t, PL_TYPE_INT32, int32_t)
    FAST(PL_TYPE_INT16, int16_t, PL_TYPE_INT32, int32_t)
    FAST(PL_TYPE_UINT8, uint8_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_UINT16, uint16_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_UINT32, uint32_t, PL_TYPE_INT64, int64_t)
    FAST(PL_TYPE_INT32, int32_t, PL_TYPE_FLOAT64, double)
    FAST(PL_TYPE_INT64, int64_t, PL_TYPE_FLOAT64, double)
    FAST(PL_TYPE_FLOAT32, float, PL_TYPE_FLOAT64, double)
    FAST(PL_TYPE_INT16, int16_t, PL_TYPE_FLOAT64, double)
    FAST(PL_TYPE_INT8, int8_t, PL_TYPE_FLOAT64, double)
    FAST(PL_TYPE_UINT32, uint32_t, PL_TYPE_FLOAT64, double)
#undef FAST
    if (!ok) return false;
    pl_buf *values = NULL, *validity = NULL;
    *st = pl_xbuf_new(n * to->byte_width, &values, err);
    if (*st) return true;
    if (a->validity && pl_array_null_count(a) > 0) {
        *st = pl_xbuf_new(pl_bits_bytes(n), &validity, err);
        if (*st) {
            pl_buf_release(values);
            return true;
        }
        pl_xbits_copy(validity->data, a->validity->data, a->offset, n);
    }
    const void *src = pl_array_values_ptr(a);
#define LOOP(FID, FT, TID, TT)                                                                     \
    if (f == FID && t == TID) {                                                                    \
        const FT *s = src;                                                                         \
        TT *d = (TT *)(void *)values->data;                                                        \
        for (int64_t i = 0; i < n; i++) d[i] = (TT)s[i];                                           \
    }
    LOOP(PL_TYPE_INT8, int8_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_INT16, int16_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_INT32, int32_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_INT8, int8_t, PL_TYPE_INT32, int32_t)
    LOOP(PL_TYPE_INT16, int16_t, PL_TYPE_INT32, int32_t)
    LOOP(PL_TYPE_UINT8, uint8_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_UINT16, uint16_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_UINT32, uint32_t, PL_TYPE_INT64, int64_t)
    LOOP(PL_TYPE_INT32, int32_t, PL_TYPE_FLOAT64, double)
    LOOP(PL_TYPE_INT64, int64_t, PL_TYPE_FLOAT64, double)
    LOOP(PL_TYPE_FLOAT32, float, PL_TYPE_FLOAT64, double)
    LOOP(PL_TYPE_INT16, int16_t, PL_TYPE_FLOAT64, double)
    LOOP(PL_TYPE_INT8, int8_t, PL_TYPE_FLOAT64, double)
    LOOP(PL_TYPE_UINT32, uint32_t, PL_TYPE_FLOAT64, double)
#undef LOOP
    *st = pl_xarray_new(pl_type_retain(to), n, validity, values, NULL, out, err);
    return true;
}

/* The array of a fast cast's values (taken) over a's validity (copied when valid is not NULL). */
static pl_status fast_result(const pl_array *a, const uint8_t *valid, pl_buf *values, pl_type *to,
                             pl_array **out, pl_error *err) {
    pl_buf *validity = NULL;
    if (valid) {
        pl_status st = pl_xbuf_new(pl_bits_bytes(a->length), &validity, err);
        if (st) {
            pl_buf_release(values);
            return st;
        }
        pl_xbits_copy(validity->data, valid, a->offset, a->length);
    }
    return pl_xarray_new(pl_type_retain(to), a->length, validity, values, NULL, out, err);
}

/* Integers and decimals to a DECIMAL of the same or a larger scale: x * 10^k in one loop with
 * one bound (the arithmetic on DECIMAL columns casts its operands so, per row through row_num
 * it cost a 128-bit division each). Returns false, having built nothing, for other casts and
 * when a valid value is out of the target's range (row_num then reports it, or NULLs it for
 * TRY_CAST). */
static bool cast_decimal_fast(pl_array *a, pl_type *to, pl_array **out, pl_error *err,
                              pl_status *st) {
    pl_type_id f = a->type->id;
    int32_t fs = f == PL_TYPE_DECIMAL128 ? a->type->scale : 0;
    bool from_int = f == PL_TYPE_INT8 || f == PL_TYPE_INT16 || f == PL_TYPE_INT32 || f == PL_TYPE_INT64;
    if (to->id != PL_TYPE_DECIMAL128 || !(from_int || f == PL_TYPE_DECIMAL128) || to->scale < fs ||
        to->precision > 38)
        return false;
    i128 m = pow10_i128(to->scale - fs), bound = (pow10_i128(to->precision) - 1) / m;
    int64_t n = a->length;
    const uint8_t *valid = a->validity && pl_array_null_count(a) > 0 ? a->validity->data : NULL;
    pl_buf *values = NULL;
    *st = pl_xbuf_new(n * 16, &values, err);
    if (*st) return true;
    const uint8_t *src = pl_array_values_ptr(a);
    uint8_t *dst = values->data;
    bool ok = true;
#define DEC_LOOP(T)                                                                                    for (int64_t i = 0; i < n; i++) {                                                                      T v;                                                                                               memcpy(&v, src + i * (int64_t)sizeof(T), sizeof(T));                                               i128 x = (i128)v;                                                                                  if ((x > bound || x < -bound) && (!valid || pl_bit_get(valid, a->offset + i))) {                        ok = false;                                                                                        break;                                                                                         }                                                                                                  i128 y = (i128)((unsigned __int128)x * (unsigned __int128)m);                                      memcpy(dst + i * 16, &y, 16);                                                                  }
    switch (f) {
    case PL_TYPE_INT8: DEC_LOOP(int8_t) break;
    case PL_TYPE_INT16: DEC_LOOP(int16_t) break;
    case PL_TYPE_INT32: DEC_LOOP(int32_t) break;
    case PL_TYPE_INT64: DEC_LOOP(int64_t) break;
    default: DEC_LOOP(i128) break;
    }
#undef DEC_LOOP
    if (!ok) {
        pl_buf_release(values);
        return false;
    }
    *st = fast_result(a, valid, values, to, out, err);
    return true;
}

/* DATE -> TIMESTAMP in one loop (a comparison of a DATE column with a TIMESTAMP, as in
 * `d < DATE '1994-01-01' + INTERVAL 1 YEAR`, casts the column). Returns false, having built
 * nothing, for other casts and when a valid date overflows the timestamp (row_temporal then
 * reports it). */
static bool cast_date_ts_fast(pl_array *a, pl_type *to, pl_array **out, pl_error *err,
                              pl_status *st) {
    if (a->type->id != PL_TYPE_DATE32 || to->id != PL_TYPE_TIMESTAMP) return false;
    int64_t k = 86400 * k_ups[to->unit], lim = INT64_MAX / k, n = a->length;
    const uint8_t *valid = a->validity && pl_array_null_count(a) > 0 ? a->validity->data : NULL;
    const int32_t *src = pl_array_values_ptr(a);
    pl_buf *values = NULL;
    *st = pl_xbuf_new(n * 8, &values, err);
    if (*st) return true;
    int64_t *dst = (int64_t *)(void *)values->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t d = src[i];
        if ((d > lim || d < -lim) && (!valid || pl_bit_get(valid, a->offset + i))) {
            pl_buf_release(values);
            return false;
        }
        dst[i] = (int64_t)((uint64_t)d * (uint64_t)k);
    }
    *st = fast_result(a, valid, values, to, out, err);
    return true;
}

/* Decimal text of a signed integer into buf (>= 21 bytes); returns the length. */
static int itoa64(int64_t v, char *buf) {
    char tmp[24];
    int k = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int len = 0;
    if (v < 0) buf[len++] = '-';
    while (k) buf[len++] = tmp[--k];
    return len;
}

/* int8..int64 -> utf8 without the generic renderer */
static pl_status ints_to_utf8(pl_array *a, pl_type *to, pl_array **out, pl_error *err) {
    int64_t n = a->length;
    pl_buf *offsets = NULL, *data = NULL, *validity = NULL;
    PL_TRY(pl_xbuf_new((n + 1) * 4, &offsets, err));
    pl_status st = pl_xbuf_new(n * 20 + 1, &data, err);
    if (!st && a->validity && pl_array_null_count(a) > 0) {
        st = pl_xbuf_new(pl_bits_bytes(n), &validity, err);
        if (!st) pl_xbits_copy(validity->data, a->validity->data, a->offset, n);
    }
    if (st) {
        pl_buf_release(offsets);
        pl_buf_release(data);
        return st;
    }
    int32_t *o = (int32_t *)(void *)offsets->data;
    char *d = (char *)data->data;
    int64_t len = 0;
    const uint8_t *p = pl_array_values_ptr(a);
    for (int64_t i = 0; i < n; i++) {
        o[i] = (int32_t)len;
        if (validity && !pl_bit_get(validity->data, i)) continue;
        int64_t v;
        switch (a->type->id) {
        case PL_TYPE_INT8: v = ((const int8_t *)p)[i]; break;
        case PL_TYPE_INT16: v = ((const int16_t *)(const void *)p)[i]; break;
        case PL_TYPE_INT32: v = ((const int32_t *)(const void *)p)[i]; break;
        default: v = ((const int64_t *)(const void *)p)[i]; break;
        }
        len += itoa64(v, d + len);
    }
    o[n] = (int32_t)len;
    data->size = len;
    if (len > PL_MAX_VARLEN_BYTES) {
        pl_buf_release(offsets);
        pl_buf_release(data);
        pl_buf_release(validity);
        PL_FAIL(err, PL_ERR_LIMIT, "string column over %lld bytes", (long long)PL_MAX_VARLEN_BYTES);
    }
    return pl_xarray_new(pl_type_retain(to), n, validity, offsets, data, out, err);
}

static pl_status cast_to_utf8(pl_array *a, pl_type *to, pl_array **out, pl_error *err) {
    int64_t n = a->length;
    if (a->type->id >= PL_TYPE_INT8 && a->type->id <= PL_TYPE_INT64 && n * 20 < PL_MAX_VARLEN_BYTES)
        return ints_to_utf8(a, to, out, err);
    pl_buf *offsets = NULL, *data = NULL, *validity = NULL;
    pl_strbuf sb = {0};
    PL_TRY(pl_xbuf_new((n + 1) * 4, &offsets, err));
    int32_t *o = (int32_t *)(void *)offsets->data;
    pl_status st = PL_OK;
    bool has_nulls = a->type->id == PL_TYPE_NA || pl_array_null_count(a) > 0;
    if (has_nulls) {
        st = pl_xbuf_zeroed(pl_bits_bytes(n), &validity, err);
    }
    for (int64_t i = 0; i < n && !st; i++) {
        o[i] = (int32_t)sb.len;
        if (has_nulls && pl_text_is_null(a, i)) continue;
        if (has_nulls) pl_bit_set(validity->data, i);
        if (a->type->id == PL_TYPE_INTERVAL) {
            pl_value v;
            pl_value_init_null(&v);
            char tmp[128];
            st = pl_value_from_array(a, i, &v, err);
            if (!st) pl_value_to_string(&v, tmp, sizeof tmp);
            pl_value_reset(&v);
            if (!st) st = pl_strbuf_append(&sb, tmp, (int64_t)strlen(tmp), err);
        } else {
            st = pl_text_format_value(a, i, PL_TEXT_PLAIN, &sb, err);
        }
        if (!st && sb.len > PL_MAX_VARLEN_BYTES)
            st = pl_error_set(err, PL_ERR_LIMIT, "string column over %lld bytes",
                              (long long)PL_MAX_VARLEN_BYTES);
    }
    if (!st) {
        o[n] = (int32_t)sb.len;
        st = pl_xbuf_new(sb.len, &data, err);
        if (!st && sb.len) memcpy(data->data, sb.data, (size_t)sb.len);
    }
    pl_strbuf_reset(&sb);
    if (st) {
        pl_buf_release(offsets);
        pl_buf_release(validity);
        return st;
    }
    return pl_xarray_new(pl_type_retain(to), n, validity, offsets, data, out, err);
}

/* utf8 <-> binary and binary widths: the bytes are kept */
static pl_status cast_bytes(pl_array *a, pl_type *to, pl_array **out, pl_error *err) {
    if (a->type->id != PL_TYPE_FIXED_BINARY) {
        /* same layout: share the buffers */
        pl_array *r;
        pl_buf *validity = NULL;
        int64_t n = a->length;
        if (a->validity && pl_array_null_count(a) > 0) {
            PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &validity, err));
            pl_xbits_copy(validity->data, a->validity->data, a->offset, n);
        }
        pl_buf *offsets;
        pl_status st = pl_xbuf_new((n + 1) * 4, &offsets, err);
        if (st) {
            pl_buf_release(validity);
            return st;
        }
        const int32_t *src = pl_array_offsets(a);
        int32_t base = n > 0 ? src[0] : 0;
        int32_t *d = (int32_t *)(void *)offsets->data;
        for (int64_t i = 0; i <= n; i++) d[i] = src[i] - base;
        pl_buf *data;
        st = pl_xbuf_new(d[n], &data, err);
        if (st) {
            pl_buf_release(validity);
            pl_buf_release(offsets);
            return st;
        }
        if (d[n]) memcpy(data->data, a->data->data + base, (size_t)d[n]);
        PL_TRY(pl_xarray_new(pl_type_retain(to), n, validity, offsets, data, &r, err));
        *out = r;
        return PL_OK;
    }
    pl_builder *b;
    PL_TRY(pl_builder_new(to, a->length, &b, err));
    pl_status st = PL_OK;
    int64_t w = a->type->byte_width;
    for (int64_t i = 0; i < a->length && !st; i++) {
        if (!pl_array_is_valid(a, i)) st = pl_builder_append_null(b, err);
        else st = pl_builder_append_bytes(b, a->values->data + (a->offset + i) * w, w, err);
    }
    if (!st) st = pl_builder_finish(b, out, err);
    pl_builder_free(b);
    return st;
}

static int hex_digit(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Text to BLOB as DuckDB does: printable ASCII is kept, \xHH is the byte HH; any other
 * backslash or a byte outside ASCII is an error (NULL under TRY_CAST). */
static pl_status cast_text_to_blob(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out,
                                   pl_error *err) {
    pl_builder *b;
    PL_TRY(pl_builder_new(to, a->length, &b, err));
    pl_status st = PL_OK;
    uint8_t *tmp = NULL;
    int64_t cap = 0;
    for (int64_t i = 0; i < a->length && !st; i++) {
        if (!pl_array_is_valid(a, i)) {
            st = pl_builder_append_null(b, err);
            continue;
        }
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        if (len > cap) {
            pl_free(tmp);
            cap = len;
            tmp = pl_malloc((size_t)cap);
            if (!tmp) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
        }
        int64_t n = 0;
        const char *why = NULL;
        for (int32_t k = 0; k < len && !why; k++) {
            uint8_t c = s[k];
            if (c == '\\') {
                int hi, lo;
                if (k + 3 >= len) why = "unterminated escape code";
                else if (s[k + 1] != 'x' || (hi = hex_digit(s[k + 2])) < 0 || (lo = hex_digit(s[k + 3])) < 0)
                    why = "invalid hex escape code (expected \\xHH)";
                else {
                    tmp[n++] = (uint8_t)(hi << 4 | lo);
                    k += 3;
                }
            } else if (c >= 0x80) {
                why = "a byte outside ASCII (write it as \\xHH)";
            } else {
                tmp[n++] = c;
            }
        }
        if (why) {
            if (cc->try_cast) {
                st = pl_builder_append_null(b, err);
                continue;
            }
            char vs[64];
            snprintf(vs, sizeof vs, "%.*s%s", len > 48 ? 48 : (int)len, (const char *)s,
                     len > 48 ? "..." : "");
            char where[48] = "";
            if (cc->rows) {
                snprintf(where, sizeof where, " at row %lld", (long long)i);
                if (err) err->row = i;
            }
            st = pl_error_set(err, PL_ERR_TYPE, "could not convert string '%s' to BLOB%s: %s", vs,
                              where, why);
            break;
        }
        st = pl_builder_append_bytes(b, tmp, n, err);
    }
    pl_free(tmp);
    if (!st) st = pl_builder_finish(b, out, err);
    pl_builder_free(b);
    return st;
}

static pl_status cast_array_impl(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out,
                                 pl_error *err);

/* ---------------------------------------------------------------- JSON */

static pl_status json_row_fail(const cast_ctx *cc, int64_t row, const uint8_t *s, int32_t len,
                               const char *why, pl_error *err) {
    char where[48] = "";
    if (cc->rows) {
        snprintf(where, sizeof where, " at row %lld", (long long)row);
        if (err) err->row = row;
    }
    PL_FAIL(err, PL_ERR_TYPE, "could not convert string '%.*s%s' to JSON%s: %s", len > 48 ? 48 : (int)len,
            (const char *)s, len > 48 ? "..." : "", where, why);
}

/* VARCHAR -> JSON: each text must be one JSON value and is kept as written (DuckDB); a
 * malformed one is an error naming the row and the byte (NULL under TRY_CAST). Anything else
 * -> JSON: the value rendered as DuckDB's to_json does. */
static pl_status cast_to_json(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out,
                              pl_error *err) {
    pl_builder *b;
    PL_TRY(pl_builder_new(to, a->length, &b, err));
    pl_status st = PL_OK;
    bool text = a->type->id == PL_TYPE_UTF8;
    pl_strbuf sb = {0};
    for (int64_t i = 0; i < a->length && !st; i++) {
        if (!pl_array_is_valid(a, i)) {
            st = pl_builder_append_null(b, err);
            continue;
        }
        if (!text) {
            sb.len = 0;
            st = pl_json_append_value(a, i, &sb, err);
            if (!st) st = pl_builder_append_bytes(b, sb.data, sb.len, err);
            continue;
        }
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        int64_t at;
        char why[320];
        if (pl_json_locate(s, len, "$", 1, &at, why, sizeof why) == 1)
            st = pl_builder_append_bytes(b, s, len, err);
        else if (cc->try_cast)
            st = pl_builder_append_null(b, err);
        else
            st = json_row_fail(cc, i, s, len, why, err);
    }
    pl_strbuf_reset(&sb);
    if (!st) st = pl_builder_finish(b, out, err);
    pl_builder_free(b);
    return st;
}

/* JSON -> a scalar type (DuckDB): null is NULL, a string's decoded text, a number's text,
 * true/false as 1/0 for numbers, an array or object as its text; then the text is cast. */
static pl_status cast_from_json(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out,
                                pl_error *err) {
    pl_builder *b;
    PL_TRY(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), a->length, &b, err));
    pl_status st = PL_OK;
    pl_strbuf sb = {0};
    bool numeric = pl_type_is_numeric(to->id);
    for (int64_t i = 0; i < a->length && !st; i++) {
        if (!pl_array_is_valid(a, i)) {
            st = pl_builder_append_null(b, err);
            continue;
        }
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        int64_t at;
        char why[320];
        if (pl_json_locate(s, len, "$", 1, &at, why, sizeof why) != 1) {
            st = cc->try_cast ? pl_builder_append_null(b, err) : json_row_fail(cc, i, s, len, why, err);
            continue;
        }
        if (s[at] == 'n') {
            st = pl_builder_append_null(b, err);
        } else if (numeric && (s[at] == 't' || s[at] == 'f')) {
            st = pl_builder_append_bytes(b, s[at] == 't' ? "1" : "0", 1, err);
        } else {
            sb.len = 0;
            st = pl_json_render(s, len, at, true, &sb, err);
            if (!st) st = pl_builder_append_bytes(b, sb.data, sb.len, err);
        }
    }
    pl_strbuf_reset(&sb);
    pl_array *txt = NULL;
    if (!st) st = pl_builder_finish(b, &txt, err);
    pl_builder_free(b);
    if (!st) st = cast_array_impl(txt, to, cc, out, err);
    pl_array_release(txt);
    return st;
}

/* JSON -> LIST / STRUCT / MAP (DuckDB's json_transform; casts are strict): the values are cut
 * into arrays of their parts' JSON texts, which are converted recursively; scalars end in
 * cast_from_json. Strict (a cast): a value of the wrong kind or an object without a field's key
 * is an error; lenient (TRY_CAST, json_transform): NULL there, a struct from a non-object has
 * NULL fields. A JSON null is NULL. */
typedef struct jparts {
    pl_builder *b;    /* JSON texts of one part (a field, the items, the map values) */
    pl_strbuf text;
} jparts;

static pl_status jparts_add(jparts *p, const uint8_t *d, int64_t n, int64_t at, pl_error *err) {
    if (at < 0 || d[at] == 'n') return pl_builder_append_null(p->b, err);
    p->text.len = 0;
    PL_TRY(pl_json_render(d, n, at, false, &p->text, err));
    return pl_builder_append_bytes(p->b, p->text.data, p->text.len, err);
}

typedef struct jcollect {
    jparts *items;  /* LIST items / MAP values */
    pl_builder *keys; /* MAP keys (their text) */
    const uint8_t *d;
    int64_t n;
    int64_t count;
    pl_status st;
    pl_error *err;
    /* STRUCT: the first member of each field's name (-1 = none) */
    const pl_type *st_type;
    int64_t *field_at;
} jcollect;

static bool jcollect_member(void *ctx, const char *key, int64_t key_len, int64_t value_at) {
    jcollect *c = ctx;
    if (c->st_type) {
        for (int32_t f = 0; f < c->st_type->n_children; f++) {
            const char *nm = c->st_type->children[f].name;
            if (c->field_at[f] < 0 && (int64_t)strlen(nm) == key_len && !memcmp(nm, key, (size_t)key_len))
                c->field_at[f] = value_at;
        }
        return true;
    }
    if (c->keys && (c->st = pl_builder_append_bytes(c->keys, key, key_len, c->err))) return false;
    c->st = jparts_add(c->items, c->d, c->n, value_at, c->err);
    c->count++;
    return c->st == PL_OK;
}

static const char *json_kind_name(uint8_t b) {
    return b == '{' ? "OBJECT" : b == '[' ? "ARRAY" : b == '"' ? "VARCHAR" : b == 't' || b == 'f' ? "BOOLEAN" : "a number";
}

static pl_status json_kind_fail(const uint8_t *d, int64_t n, int64_t at, const char *want, pl_error *err) {
    PL_FAIL(err, PL_ERR_TYPE, "Expected %s, but got %s: %.*s%s", want, json_kind_name(d[at]),
            (int)PL_MIN(n - at, 60), (const char *)d + at, n - at > 60 ? "..." : "");
}

static pl_status json_shred(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out, pl_error *err) {
    if (!nested(to->id)) {
        if (!pl_type_is_json(to)) return cast_from_json(a, to, cc, out, err);
        jparts p = {NULL, {0}}; /* JSON leaves: the value's compact text */
        PL_TRY(pl_builder_new(to, a->length, &p.b, err));
        pl_status st = PL_OK;
        for (int64_t i = 0; i < a->length && !st; i++) {
            int32_t len;
            const uint8_t *d = pl_array_is_valid(a, i) ? pl_array_bytes(a, i, &len) : NULL;
            int64_t at = -1;
            char why[320];
            if (d && pl_json_locate(d, len, "$", 1, &at, why, sizeof why) != 1) st = json_row_fail(cc, i, d, len, why, err);
            if (!st) st = jparts_add(&p, d, d ? len : 0, at, err);
        }
        pl_strbuf_reset(&p.text);
        if (!st) st = pl_builder_finish(p.b, out, err);
        pl_builder_free(p.b);
        return st;
    }
    int64_t n = a->length;
    bool is_struct = to->id == PL_TYPE_STRUCT, is_map = to->id == PL_TYPE_MAP;
    int32_t n_parts = is_struct ? to->n_children : 1;
    jparts *parts = pl_calloc((size_t)PL_MAX(n_parts, 1), sizeof *parts);
    int64_t *field_at = pl_calloc((size_t)PL_MAX(n_parts, 1), sizeof *field_at);
    pl_buf *validity = NULL, *offsets = NULL;
    pl_builder *keys = NULL;
    pl_status st = parts && field_at ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory reading JSON");
    if (!st) st = pl_xbuf_zeroed(pl_bits_bytes(n), &validity, err);
    if (!st && !is_struct) st = pl_xbuf_new((n + 1) * 4, &offsets, err);
    if (!st && is_map) st = pl_builder_new(pl_type_simple(PL_TYPE_UTF8), n, &keys, err);
    for (int32_t k = 0; k < n_parts && !st; k++) st = pl_builder_new(pl_type_json(), n, &parts[k].b, err);
    int64_t n_items = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (offsets) ((int32_t *)(void *)offsets->data)[i] = (int32_t)n_items;
        int32_t len = 0;
        const uint8_t *d = pl_array_is_valid(a, i) ? pl_array_bytes(a, i, &len) : NULL;
        int64_t at = -1;
        char why[320];
        if (d && pl_json_locate(d, len, "$", 1, &at, why, sizeof why) != 1) {
            st = json_row_fail(cc, i, d, len, why, err);
            break;
        }
        bool null = !d || d[at] == 'n';
        char want = is_struct || is_map ? '{' : '[';
        if (!null && d[at] != want) {
            if (!cc->try_cast) {
                st = json_kind_fail(d, len, at, want == '{' ? "OBJECT" : "ARRAY", err);
                break;
            }
            null = !is_struct; /* lenient: a struct of NULL fields, else NULL */
            if (is_struct) {
                pl_bit_set(validity->data, i);
                for (int32_t k = 0; k < n_parts && !st; k++) st = pl_builder_append_null(parts[k].b, err);
                continue;
            }
        }
        if (null) {
            for (int32_t k = 0; is_struct && k < n_parts && !st; k++) st = pl_builder_append_null(parts[k].b, err);
            continue;
        }
        pl_bit_set(validity->data, i);
        jcollect c = {&parts[0], keys, d, len, 0, PL_OK, err, is_struct ? to : NULL, field_at};
        for (int32_t k = 0; k < n_parts; k++) field_at[k] = -1;
        if (pl_json_each(d, len, at, jcollect_member, &c) < -1) {
            st = c.st ? c.st : pl_error_set(err, PL_ERR_INTERNAL, "unreadable JSON value");
            break;
        }
        n_items += c.count;
        for (int32_t k = 0; is_struct && k < n_parts && !st; k++) {
            if (field_at[k] < 0 && !cc->try_cast)
                st = pl_error_set(err, PL_ERR_TYPE, "Object %.*s%s does not have key \"%s\"",
                                  (int)PL_MIN(len - at, 60), (const char *)d + at, len - at > 60 ? "..." : "",
                                  to->children[k].name);
            if (!st) st = jparts_add(&parts[k], d, len, field_at[k], err);
        }
    }
    if (!st && n_items > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "more than 2^31 list items");
    if (!st && offsets) ((int32_t *)(void *)offsets->data)[n] = (int32_t)n_items;
    /* the parts, converted */
    pl_array **ch = st ? NULL : pl_calloc((size_t)PL_MAX(n_parts, 1), sizeof *ch);
    if (!st && !ch) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading JSON");
    for (int32_t k = 0; k < n_parts && !st; k++) {
        pl_array *texts = NULL;
        st = pl_builder_finish(parts[k].b, &texts, err);
        pl_type *pt = is_struct ? to->children[k].type
                      : is_map ? to->children[0].type->children[1].type : to->children[0].type;
        if (!st) st = json_shred(texts, pt, cc, &ch[k], err);
        pl_array_release(texts);
    }
    pl_array *entries = NULL;
    if (!st && is_map) {
        pl_array *key_texts = NULL, *kv[2] = {NULL, ch[0]};
        cast_ctx strict = {false, cc->rows};
        st = pl_builder_finish(keys, &key_texts, err);
        if (!st) st = cast_array_impl(key_texts, to->children[0].type->children[0].type, &strict, &kv[0], err);
        pl_array_release(key_texts);
        ch[0] = NULL;
        if (!st) {
            st = pl_array_new(pl_type_retain(to->children[0].type), n_items, 0, NULL, NULL, NULL, 2, kv,
                              NULL, &entries, err);
        } else {
            pl_array_release(kv[0]);
            pl_array_release(kv[1]);
        }
        if (!st) ch[0] = entries;
    }
    if (!st) {
        st = pl_array_new(pl_type_retain(to), n, -1, validity, offsets, NULL, n_parts, ch, NULL, out, err);
        validity = offsets = NULL;
        for (int32_t k = 0; k < n_parts; k++) ch[k] = NULL;
    }
    for (int32_t k = 0; ch && k < n_parts; k++) pl_array_release(ch[k]);
    pl_free(ch);
    for (int32_t k = 0; parts && k < n_parts; k++) {
        pl_builder_free(parts[k].b);
        pl_strbuf_reset(&parts[k].text);
    }
    pl_free(parts);
    pl_free(field_at);
    pl_builder_free(keys);
    pl_buf_release(validity);
    pl_buf_release(offsets);
    return st;
}

/* Map to map: keys and values cast, offsets and validity kept; a cast that makes two keys of a
 * map equal (or a key NULL) is an error, like DuckDB's. */
static pl_status cast_map(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out, pl_error *err) {
    pl_array *base = NULL, *ch[2] = {NULL, NULL}, *entries = NULL;
    pl_status st = PL_OK;
    if (a->offset != 0 || a->children[0]->offset != 0) { /* entries indexed by the offsets */
        int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(a->length > 0 ? a->length : 1));
        if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory casting a map");
        for (int64_t i = 0; i < a->length; i++) idx[i] = i;
        st = pl_array_take(a, idx, a->length, &base, err);
        pl_free(idx);
        if (st) return st;
    } else {
        base = pl_array_retain(a);
    }
    pl_array *s = base->children[0];
    const pl_type *te = to->children[0].type;
    for (int32_t c = 0; c < 2 && !st; c++)
        st = cast_array_impl(s->children[c], te->children[c].type, cc, &ch[c], err);
    const int32_t *o = pl_array_offsets(base);
    uint8_t *keep = NULL;
    if (!st && pl_array_null_count(base) > 0) {
        keep = pl_malloc((size_t)base->length);
        if (!keep) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory casting a map");
        for (int64_t i = 0; keep && i < base->length; i++) keep[i] = pl_array_is_valid(base, i);
    }
    if (!st) st = pl_map_check_keys(ch[0], o, base->length, keep, err);
    pl_free(keep);
    if (!st) {
        st = pl_array_new(pl_type_retain(to->children[0].type), s->length, 0, NULL, NULL, NULL, 2, ch, NULL,
                          &entries, err);
        ch[0] = ch[1] = NULL;
    }
    if (!st) {
        if (base->validity) pl_buf_retain(base->validity);
        pl_buf_retain(base->values);
        st = pl_array_new(pl_type_retain(to), base->length, base->null_count, base->validity, base->values,
                          NULL, 1, &entries, NULL, out, err);
        entries = NULL;
    }
    pl_array_release(ch[0]);
    pl_array_release(ch[1]);
    pl_array_release(entries);
    pl_array_release(base);
    return st;
}

/* Timestamps a (int64, any unit) moved between UTC instants and local times in zone z: to_local
 * adds the offset at each instant, else subtracts the offset of each local time (a gap takes
 * the offset before it, an overlap the later instant, like DuckDB). Out of range is an error
 * (or NULL for TRY_CAST). The result has a's unit and the given type. */
static pl_status zone_shift(const cast_ctx *cc, pl_array *a, const pl_tz *z, bool to_local, pl_type *type,
                            pl_array **out, pl_error *err) {
    int64_t n = a->length, ups = k_ups[a->type->unit], lo = 1, hi = 0, off = 0;
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &validity, err));
    if (a->validity) pl_xbits_copy(validity->data, a->validity->data, a->offset, n);
    else memset(validity->data, 0xff, (size_t)pl_bits_bytes(n));
    pl_status st = pl_xbuf_new(n * 8 + 8, &values, err);
    const int64_t *v = (const int64_t *)pl_array_values_ptr(a);
    int64_t *o = values ? (int64_t *)(void *)values->data : NULL;
    for (int64_t i = 0; !st && i < n; i++) {
        o[i] = 0;
        if (!pl_bit_get(validity->data, i)) continue;
        int64_t x = v[i], d;
        if (x == INT64_MAX || x == -INT64_MAX) { /* infinities stay */
            o[i] = x;
            continue;
        }
        int64_t s = floor_div64(x, ups);
        if (to_local) {
            if (s < lo || s >= hi) off = pl_tz_offset_range(z, s, &lo, &hi);
        } else {
            off = pl_tz_offset_for_local(z, s);
        }
        if (!__builtin_mul_overflow(off, ups, &d) &&
            !(to_local ? __builtin_add_overflow(x, d, &o[i]) : __builtin_sub_overflow(x, d, &o[i])) &&
            o[i] != INT64_MAX && o[i] != -INT64_MAX && o[i] != INT64_MIN)
            continue;
        if (cc->try_cast) {
            pl_bit_clear(validity->data, i);
            o[i] = 0;
            continue;
        }
        char tn[64];
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "timestamp out of range converting to %s in time zone \"%s\"",
                          pl_xtype_name(type, tn, sizeof tn), pl_tz_name(z));
        if (err && cc->rows) err->row = i;
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    return pl_xarray_new(pl_type_retain(type), n, validity, values, NULL, out, err);
}

/* Casts from a TIMESTAMPTZ in a zone other than UTC to a naive type go through its local time,
 * casts to one from a naive TIMESTAMP or a DATE take them as local times there (DuckDB's
 * casts in the session zone). *done = false: no zone involved. */
static pl_status cast_zoned(pl_array *a, pl_type *to, const cast_ctx *cc, bool *done, pl_array **out,
                            pl_error *err) {
    pl_type_id f = a->type->id, t = to->id;
    const pl_tz *zf, *zt;
    *done = false;
    PL_TRY(pl_time_zone_of(a->type, &zf, err)); /* NULL: naive or UTC */
    PL_TRY(pl_time_zone_of(to, &zt, err));
    pl_type *naive = NULL;
    pl_array *mid = NULL;
    pl_status st = PL_OK;
    if (zf && (t == PL_TYPE_DATE32 || t == PL_TYPE_TIME64 || (t == PL_TYPE_TIMESTAMP && !to->tz))) {
        *done = true;
        PL_TRY(pl_type_new_timestamp(a->type->unit, NULL, &naive, err));
        st = zone_shift(cc, a, zf, true, naive, &mid, err);
        if (!st) st = cast_array_impl(mid, to, cc, out, err);
    } else if (zt && (f == PL_TYPE_DATE32 || (f == PL_TYPE_TIMESTAMP && !a->type->tz))) {
        *done = true;
        PL_TRY(pl_type_new_timestamp(to->unit, NULL, &naive, err));
        st = cast_array_impl(a, naive, cc, &mid, err);
        if (!st) st = zone_shift(cc, mid, zt, false, to, out, err);
    }
    pl_array_release(mid);
    pl_type_release(naive);
    return st;
}

static pl_status cast_array_impl(pl_array *a, pl_type *to, const cast_ctx *cc, pl_array **out,
                                 pl_error *err) {
    if (a->type->id == PL_TYPE_DICTIONARY) {
        pl_array *dec;
        PL_TRY(pl_array_decode_dictionary(a, &dec, err));
        pl_status st = cast_array_impl(dec, to, cc, out, err);
        pl_array_release(dec);
        return st;
    }
    if (pl_type_equals(a->type, to)) {
        *out = pl_array_retain(a);
        return PL_OK;
    }
    char ta[64], tb[64];
    if (!pl_cast_supported(a->type, to))
        PL_FAIL(err, PL_ERR_TYPE, "cannot cast %s to %s", pl_xtype_name(a->type, ta, sizeof ta),
                pl_xtype_name(to, tb, sizeof tb));
    pl_type_id f = a->type->id, t = to->id;
    if ((f == PL_TYPE_TIMESTAMP && a->type->tz) || (t == PL_TYPE_TIMESTAMP && to->tz)) {
        bool done;
        PL_TRY(cast_zoned(a, to, cc, &done, out, err));
        if (done) return PL_OK;
    }
    if (f == PL_TYPE_NA || a->length == 0) return pl_array_new_nulls(to, a->length, out, err);
    if (f == PL_TYPE_LIST && t == PL_TYPE_LIST) {
        /* the elements cast, the offsets and validity kept (ARRAY[]::VARCHAR[], [1, 2]::DOUBLE[]) */
        pl_array *base = NULL, *child = NULL;
        if (a->offset != 0) {
            int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)a->length);
            if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory casting a list");
            for (int64_t i = 0; i < a->length; i++) idx[i] = i;
            pl_status st = pl_array_take(a, idx, a->length, &base, err);
            pl_free(idx);
            if (st) return st;
        } else {
            base = pl_array_retain(a);
        }
        pl_status st = cast_array_impl(base->children[0], to->children[0].type, cc, &child, err);
        if (!st) {
            if (base->validity) pl_buf_retain(base->validity);
            pl_buf_retain(base->values);
            st = pl_array_new(pl_type_retain(to), base->length, base->null_count, base->validity, base->values,
                              NULL, 1, &child, NULL, out, err);
        }
        pl_array_release(base);
        return st;
    }
    if (f == PL_TYPE_MAP && t == PL_TYPE_MAP) return cast_map(a, to, cc, out, err);
    if (f == PL_TYPE_STRUCT && t == PL_TYPE_STRUCT) {
        /* each field cast (the struct's validity kept) */
        int32_t nf = to->n_children;
        pl_array **ch = pl_calloc((size_t)PL_MAX(nf, 1), sizeof *ch);
        if (!ch) PL_FAIL(err, PL_ERR_NOMEM, "out of memory casting a struct");
        pl_status st = PL_OK;
        for (int32_t c = 0; c < nf && !st; c++) {
            pl_array *field = NULL;
            int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)a->length);
            if (!idx) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory casting a struct");
            for (int64_t i = 0; !st && i < a->length; i++) idx[i] = a->offset + i;
            if (!st) st = pl_array_take(a->children[c], idx, a->length, &field, err);
            pl_free(idx);
            if (!st) st = cast_array_impl(field, to->children[c].type, cc, &ch[c], err);
            pl_array_release(field);
        }
        pl_buf *validity = NULL;
        if (!st && a->validity && pl_array_null_count(a) > 0) {
            st = pl_buf_new_zeroed((a->length + 7) / 8, &validity, err);
            for (int64_t i = 0; !st && i < a->length; i++)
                if (pl_array_is_valid(a, i)) pl_bit_set(validity->data, i);
        }
        if (!st) {
            st = pl_array_new(pl_type_retain(to), a->length, -1, validity, NULL, NULL, nf, ch, NULL, out, err);
            for (int32_t c = 0; c < nf; c++) ch[c] = NULL;
        }
        for (int32_t c = 0; c < nf; c++) pl_array_release(ch[c]);
        pl_free(ch);
        return st;
    }
    if (pl_type_is_json(to) && !(f == PL_TYPE_UTF8 && pl_type_is_json(a->type)))
        return cast_to_json(a, to, cc, out, err);
    if (f == PL_TYPE_UTF8 && t == PL_TYPE_UTF8) return cast_bytes(a, to, out, err); /* JSON -> VARCHAR */
    if (pl_type_is_json(a->type)) return json_shred(a, to, cc, out, err);
    if (t == PL_TYPE_UTF8) {
        return cast_to_utf8(a, to, out, err); /* BLOB bytes as DuckDB shows them (\\xHH) */
    }
    if (f == PL_TYPE_UTF8 && t == PL_TYPE_BINARY) return cast_text_to_blob(a, to, cc, out, err);
    if (t == PL_TYPE_BINARY && (pl_type_is_varlen(f) || f == PL_TYPE_FIXED_BINARY))
        return cast_bytes(a, to, out, err);
    if (is_num(f) && is_num(t)) {
        pl_status st = PL_OK;
        if (cast_fast(a, to, out, err, &st)) return st;
        if (cast_decimal_fast(a, to, out, err, &st)) return st;
        return conv_fixed(cc, a, to, row_num, to, false, out, err);
    }
    if (f == PL_TYPE_UTF8) return conv_fixed(cc, a, to, row_str, to, true, out, err);
    if (f == PL_TYPE_TIMESTAMP && t == PL_TYPE_TIMESTAMP && a->type->unit == to->unit) {
        /* naive <-> zoned: UTC instants either way, only the type changes */
        pl_buf *validity = NULL;
        int64_t n = a->length;
        if (a->validity && pl_array_null_count(a) > 0) {
            PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &validity, err));
            pl_xbits_copy(validity->data, a->validity->data, a->offset, n);
        }
        pl_buf *values;
        pl_status st = pl_xbuf_new(n * 8, &values, err);
        if (st) {
            pl_buf_release(validity);
            return st;
        }
        memcpy(values->data, pl_array_values_ptr(a), (size_t)(n * 8));
        return pl_xarray_new(pl_type_retain(to), n, validity, values, NULL, out, err);
    }
    if (pl_type_is_temporal(f) && pl_type_is_temporal(t)) {
        pl_status st = PL_OK;
        if (cast_date_ts_fast(a, to, out, err, &st)) return st;
        temporal_ctx tc = {a->type, to};
        return conv_fixed(cc, a, to, row_temporal, &tc, false, out, err);
    }
    PL_FAIL(err, PL_ERR_TYPE, "cannot cast %s to %s", pl_xtype_name(a->type, ta, sizeof ta),
            pl_xtype_name(to, tb, sizeof tb));
}

pl_status pl_cast_array(pl_array *a, pl_type *to, bool try_cast, pl_array **out, pl_error *err) {
    cast_ctx cc = {try_cast, true};
    return cast_array_impl(a, to, &cc, out, err);
}

pl_status pl_cast_value(const pl_value *v, pl_type *to, bool try_cast, pl_value *out,
                        pl_error *err) {
    if (v->is_null || v->type->id == PL_TYPE_NA) {
        char ta[64], tb[64];
        if (!pl_cast_supported(v->type, to))
            PL_FAIL(err, PL_ERR_TYPE, "cannot cast %s to %s", pl_xtype_name(v->type, ta, sizeof ta),
                    pl_xtype_name(to, tb, sizeof tb));
        pl_value r;
        pl_value_init_null(&r);
        r.type = pl_type_retain(to);
        pl_value_reset(out);
        *out = r;
        return PL_OK;
    }
    if (pl_type_equals(v->type, to)) {
        pl_value r;
        PL_TRY(pl_value_copy(v, &r, err));
        pl_value_reset(out);
        *out = r;
        return PL_OK;
    }
    pl_array *a = NULL, *c = NULL;
    PL_TRY(pl_array_from_value(v, 1, &a, err));
    cast_ctx cc = {try_cast, false};
    pl_status st = cast_array_impl(a, to, &cc, &c, err);
    pl_array_release(a);
    if (st) return st;
    pl_value r;
    pl_value_init_null(&r);
    st = pl_value_from_array(c, 0, &r, err);
    pl_array_release(c);
    if (st) return st;
    if (r.is_null && !pl_type_equals(r.type, to)) {
        pl_type_release(r.type);
        r.type = pl_type_retain(to);
    }
    pl_value_reset(out);
    *out = r;
    return PL_OK;
}

/* ---------------------------------------------------------------- SQL type names */

static bool name_is(const char *s, size_t n, const char *word) {
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

pl_status pl_type_from_sql_name(const char *name, pl_type **out, pl_error *err) {
    if (!name) PL_FAIL(err, PL_ERR_SQL, "missing type name");
    char buf[128];
    /* lower case, spaces collapsed, "pg_catalog." dropped */
    size_t k = 0;
    const char *p = name;
    while (*p == ' ') p++;
    if (strncasecmp(p, "pg_catalog.", 11) == 0) p += 11;
    for (; *p && k + 1 < sizeof buf; p++) {
        char c = (char)tolower((unsigned char)*p);
        if (c == '"') continue;
        if (c == ' ' && (k == 0 || buf[k - 1] == ' ' || buf[k - 1] == '(' || buf[k - 1] == ',')) continue;
        if ((c == '(' || c == ',' || c == ')') && k > 0 && buf[k - 1] == ' ') k--;
        buf[k++] = c;
    }
    while (k > 0 && buf[k - 1] == ' ') k--;
    buf[k] = '\0';
    /* split base name and (args) */
    char *paren = strchr(buf, '(');
    int32_t args[2] = {-1, -1};
    int n_args = 0;
    size_t base_len = paren ? (size_t)(paren - buf) : k;
    while (base_len > 0 && buf[base_len - 1] == ' ') base_len--;
    char suffix[64] = "";
    if (paren) {
        char *q = paren + 1;
        while (*q && *q != ')') {
            char *end;
            long v = strtol(q, &end, 10);
            if (end == q || n_args >= 2) PL_FAIL(err, PL_ERR_SQL, "bad type modifier in \"%s\"", name);
            args[n_args++] = (int32_t)v;
            q = end;
            if (*q == ',') q++;
        }
        if (*q != ')') PL_FAIL(err, PL_ERR_SQL, "bad type modifier in \"%s\"", name);
        snprintf(suffix, sizeof suffix, "%s", q + 1);
    }
    const char *b = buf;
    size_t bl = base_len;
    bool is_list = false;
    if (bl >= 2 && strcmp(buf + bl - 2, "[]") == 0) {
        bl -= 2;
        is_list = true;
    } else if (strcmp(suffix, "[]") == 0) {
        is_list = true;
    }
    /* "timestamp(3) with time zone" -> the suffix */
    bool with_tz = false;
    const char *wtz = " with time zone", *wotz = " without time zone";
    if (bl > strlen(wtz) && strncmp(b + bl - strlen(wtz), wtz, strlen(wtz)) == 0) {
        with_tz = true;
        bl -= strlen(wtz);
    } else if (bl > strlen(wotz) && strncmp(b + bl - strlen(wotz), wotz, strlen(wotz)) == 0) {
        bl -= strlen(wotz);
    }
    if (strcmp(suffix, " with time zone") == 0 || strcmp(suffix, "with time zone") == 0)
        with_tz = true;
    pl_type *t = NULL;
    pl_type_id simple = PL_TYPE__COUNT;
    if (name_is(b, bl, "boolean") || name_is(b, bl, "bool") || name_is(b, bl, "logical"))
        simple = PL_TYPE_BOOL;
    else if (name_is(b, bl, "tinyint") || name_is(b, bl, "int1")) simple = PL_TYPE_INT8;
    else if (name_is(b, bl, "smallint") || name_is(b, bl, "int2") || name_is(b, bl, "short"))
        simple = PL_TYPE_INT16;
    else if (name_is(b, bl, "integer") || name_is(b, bl, "int") || name_is(b, bl, "int4") ||
             name_is(b, bl, "signed"))
        simple = PL_TYPE_INT32;
    else if (name_is(b, bl, "bigint") || name_is(b, bl, "int8") || name_is(b, bl, "long"))
        simple = PL_TYPE_INT64;
    else if (name_is(b, bl, "utinyint") || name_is(b, bl, "uint8")) simple = PL_TYPE_UINT8;
    else if (name_is(b, bl, "usmallint") || name_is(b, bl, "uint16")) simple = PL_TYPE_UINT16;
    else if (name_is(b, bl, "uinteger") || name_is(b, bl, "uint32")) simple = PL_TYPE_UINT32;
    else if (name_is(b, bl, "ubigint") || name_is(b, bl, "uint64")) simple = PL_TYPE_UINT64;
    else if (name_is(b, bl, "real") || name_is(b, bl, "float4")) simple = PL_TYPE_FLOAT32;
    else if (name_is(b, bl, "float")) simple = (n_args == 1 && args[0] <= 24) ? PL_TYPE_FLOAT32 : PL_TYPE_FLOAT32;
    else if (name_is(b, bl, "double") || name_is(b, bl, "float8") ||
             name_is(b, bl, "double precision"))
        simple = PL_TYPE_FLOAT64;
    else if (name_is(b, bl, "varchar") || name_is(b, bl, "text") || name_is(b, bl, "string") ||
             name_is(b, bl, "char") || name_is(b, bl, "bpchar") ||
             name_is(b, bl, "character varying") || name_is(b, bl, "character") ||
             name_is(b, bl, "nvarchar"))
        simple = PL_TYPE_UTF8;
    else if (name_is(b, bl, "blob") || name_is(b, bl, "bytea") || name_is(b, bl, "binary") ||
             name_is(b, bl, "varbinary"))
        simple = PL_TYPE_BINARY;
    else if (name_is(b, bl, "date")) simple = PL_TYPE_DATE32;
    else if (name_is(b, bl, "interval")) simple = PL_TYPE_INTERVAL;
    if (simple == PL_TYPE_FLOAT32 && name_is(b, bl, "float") && n_args == 1 && args[0] > 24)
        simple = PL_TYPE_FLOAT64;
    if (simple != PL_TYPE__COUNT) {
        t = pl_type_simple(simple);
    } else if (name_is(b, bl, "json")) {
        t = pl_type_json();
    } else if (name_is(b, bl, "decimal") || name_is(b, bl, "numeric") || name_is(b, bl, "dec")) {
        int32_t prec = n_args >= 1 ? args[0] : 18, scale = n_args >= 2 ? args[1] : (n_args == 1 ? 0 : 3);
        if (prec < 1 || prec > 38 || scale < 0 || scale > prec)
            PL_FAIL(err, PL_ERR_SQL, "invalid decimal type \"%s\": precision 1..38, scale 0..precision",
                    name);
        PL_TRY(pl_type_new_decimal(prec, scale, &t, err));
    } else if (name_is(b, bl, "hugeint") || name_is(b, bl, "int128")) {
        PL_TRY(pl_type_new_decimal(38, 0, &t, err));
    } else if (name_is(b, bl, "timestamp") || name_is(b, bl, "datetime") ||
               name_is(b, bl, "timestamptz") || name_is(b, bl, "timestamp_us")) {
        bool tz = with_tz || name_is(b, bl, "timestamptz");
        pl_time_unit u = PL_UNIT_US;
        if (n_args == 1 && !name_is(b, bl, "timestamp_us")) {
            u = args[0] == 0 ? PL_UNIT_S : args[0] <= 3 ? PL_UNIT_MS : args[0] <= 6 ? PL_UNIT_US : PL_UNIT_NS;
            if (args[0] < 0 || args[0] > 9) PL_FAIL(err, PL_ERR_SQL, "invalid timestamp precision in \"%s\"", name);
            u = PL_UNIT_US; /* DuckDB keeps microseconds whatever the precision */
        }
        PL_TRY(pl_type_new_timestamp(u, tz ? "UTC" : NULL, &t, err));
    } else if (name_is(b, bl, "timestamp_ns")) {
        PL_TRY(pl_type_new_timestamp(PL_UNIT_NS, NULL, &t, err));
    } else if (name_is(b, bl, "timestamp_ms")) {
        PL_TRY(pl_type_new_timestamp(PL_UNIT_MS, NULL, &t, err));
    } else if (name_is(b, bl, "timestamp_s")) {
        PL_TRY(pl_type_new_timestamp(PL_UNIT_S, NULL, &t, err));
    } else if (name_is(b, bl, "time") || name_is(b, bl, "timetz")) {
        PL_TRY(pl_type_new_time64(PL_UNIT_US, &t, err));
    } else if (name_is(b, bl, "time_ns")) {
        PL_TRY(pl_type_new_time64(PL_UNIT_NS, &t, err));
    } else {
        PL_FAIL(err, PL_ERR_SQL, "unknown type \"%s\"", name);
    }
    if (is_list) {
        pl_type *l = NULL;
        pl_status st = pl_type_new_list("item", t, true, &l, err);
        pl_type_release(t);
        if (st) return st;
        t = l;
    }
    *out = t;
    return PL_OK;
}
