/* text.c - value rendering for the text writers (CSV, JSON lines, table) and the CLI, plus the
 * ISO date/time parsers the CSV reader uses. The rules (src/io/text/README.md) reproduce what
 * DuckDB prints, since the conformance files under parquet-testing/expected/ were produced by
 * DuckDB. Invariants: every renderer writes into a caller buffer of documented size or a
 * pl_strbuf; nothing here allocates except pl_strbuf growth; calendar math is pure integer
 * arithmetic valid for any int64 day count (no gmtime). */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- strbuf */

pl_status pl_strbuf_reserve(pl_strbuf *sb, int64_t n, pl_error *err) {
    if (sb->len + n + 1 <= sb->cap) return PL_OK;
    int64_t cap = sb->cap ? sb->cap : 64;
    while (cap < sb->len + n + 1) cap *= 2;
    char *p = pl_realloc(sb->data, (size_t)cap);
    if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing a text buffer to %lld bytes",
                    (long long)cap);
    sb->data = p;
    sb->cap = cap;
    return PL_OK;
}

pl_status pl_strbuf_append(pl_strbuf *sb, const char *s, int64_t n, pl_error *err) {
    PL_TRY(pl_strbuf_reserve(sb, n, err));
    if (n > 0) memcpy(sb->data + sb->len, s, (size_t)n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return PL_OK;
}

pl_status pl_strbuf_appendf(pl_strbuf *sb, pl_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) PL_FAIL(err, PL_ERR_INTERNAL, "bad format string \"%s\"", fmt);
    if ((size_t)n < sizeof small) return pl_strbuf_append(sb, small, n, err);
    PL_TRY(pl_strbuf_reserve(sb, n, err));
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += n;
    return PL_OK;
}

void pl_strbuf_reset(pl_strbuf *sb) {
    pl_free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

static inline pl_status sb_putc(pl_strbuf *sb, char c, pl_error *err) {
    if (PL_UNLIKELY(sb->len + 2 > sb->cap)) PL_TRY(pl_strbuf_reserve(sb, 1, err));
    sb->data[sb->len++] = c;
    sb->data[sb->len] = '\0';
    return PL_OK;
}

static inline pl_status sb_puts(pl_strbuf *sb, const char *s, pl_error *err) {
    return pl_strbuf_append(sb, s, (int64_t)strlen(s), err);
}

/* ---------------------------------------------------------------- numbers */

/* Writes the decimal digits of v (no sign) ending at end; returns the start. */
static char *u64_digits_rev(uint64_t v, char *end) {
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

static int format_u64(uint64_t v, char *buf) {
    char tmp[24];
    char *p = u64_digits_rev(v, tmp + sizeof tmp);
    int n = (int)(tmp + sizeof tmp - p);
    memcpy(buf, p, (size_t)n);
    buf[n] = '\0';
    return n;
}

static int format_i64(int64_t v, char *buf) {
    if (v < 0) {
        buf[0] = '-';
        return 1 + format_u64((uint64_t)0 - (uint64_t)v, buf + 1);
    }
    return format_u64((uint64_t)v, buf);
}

/* Lays out significant digits d[0..n) with decimal exponent e (d[0] is at 10^e) as DuckDB
 * (and Python's repr) do: fixed for -4 <= e < 16 with at least one fraction digit, else
 * d.ddde[+-]XX. */
static int layout_digits(bool neg, const char *d, int n, int e, char *buf) {
    char *p = buf;
    if (neg) *p++ = '-';
    if (e < -4 || e >= 16) {
        *p++ = d[0];
        if (n > 1) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)(n - 1));
            p += n - 1;
        }
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        int ae = e < 0 ? -e : e;
        if (ae >= 100) *p++ = (char)('0' + ae / 100);
        *p++ = (char)('0' + ae / 10 % 10);
        *p++ = (char)('0' + ae % 10);
    } else if (e >= 0) {
        int int_digits = e + 1;
        if (n <= int_digits) {
            memcpy(p, d, (size_t)n);
            p += n;
            for (int k = n; k < int_digits; k++) *p++ = '0';
            *p++ = '.';
            *p++ = '0';
        } else {
            memcpy(p, d, (size_t)int_digits);
            p += int_digits;
            *p++ = '.';
            memcpy(p, d + int_digits, (size_t)(n - int_digits));
            p += n - int_digits;
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int k = 0; k < -e - 1; k++) *p++ = '0';
        memcpy(p, d, (size_t)n);
        p += n;
    }
    *p = '\0';
    return (int)(p - buf);
}

/* Splits "%.*e" output "d.ddde+XX" into digits (trailing zeros dropped) and exponent. */
static int split_sci(const char *s, char *digits, int *exp10) {
    int n = 0;
    const char *p = s;
    while (*p && *p != 'e') {
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
        p++;
    }
    *exp10 = (*p == 'e') ? atoi(p + 1) : 0;
    while (n > 1 && digits[n - 1] == '0') n--;
    return n;
}

static const double k_pow10_d[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

static bool roundtrips_double(double v, int prec, char *tmp) {
    snprintf(tmp, 40, "%.*e", prec - 1, v);
    return strtod(tmp, NULL) == v;
}

static bool roundtrips_float(float v, int prec, char *tmp) {
    snprintf(tmp, 40, "%.*e", prec - 1, (double)v);
    return strtof(tmp, NULL) == v;
}

/* Digits of the correctly rounded p-significant-digit text of a (> 0, finite). */
static int digits_at(double a, int p, char *digits, int *e) {
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, a);
    return split_sci(tmp, digits, e);
}

/* Exact fast path for values with few decimals (0.37, 1234.5): the smallest k with
 * m / 10^k == a for an integer m < 2^53 gives the shortest digits, since any text of at most 15
 * significant digits that reads back to a is the only one of its length (the 15-digit grid is
 * coarser than a's rounding interval). Division of two exact doubles is correctly rounded, so
 * the check is exact. */
static int fast_digits(double a, char *digits, int *e) {
    if (!(a >= 1e-5 && a < 1e15)) return 0;
    for (int k = 0; k <= 17; k++) {
        double scaled = a * k_pow10_d[k];
        if (scaled >= 9007199254740992.0) return 0;
        double m = nearbyint(scaled);
        if (m == 0 || m / k_pow10_d[k] != a) continue;
        char tmp[24];
        char *p = u64_digits_rev((uint64_t)m, tmp + sizeof tmp);
        int n = (int)(tmp + sizeof tmp - p);
        *e = n - 1 - k;
        while (n > 1 && p[n - 1] == '0') n--;
        if (n > 15) return 0;
        memcpy(digits, p, (size_t)n);
        return n;
    }
    return 0;
}

/* Shortest round trip: the exact fast path, else 15 significant digits (which, when they read
 * back, are the shortest once trailing zeros go, by the uniqueness argument above), else 16,
 * else 17 (always enough). */
int pl_text_format_double(double v, char *buf) {
    if (isnan(v)) return signbit(v) ? (int)(strcpy(buf, "-nan"), 4) : (int)(strcpy(buf, "nan"), 3);
    if (isinf(v)) return v < 0 ? (int)(strcpy(buf, "-inf"), 4) : (int)(strcpy(buf, "inf"), 3);
    bool neg = signbit(v) != 0;
    double a = neg ? -v : v;
    if (a == 0) return layout_digits(neg, "0", 1, 0, buf);
    char tmp[48], digits[24];
    int e;
    int n = fast_digits(a, digits, &e);
    if (n) return layout_digits(neg, digits, n, e, buf);
    int p = 15;
    if (a < DBL_MIN) { /* subnormal: fewer bits, so search every precision */
        int lo = 1, hi = 17;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (roundtrips_double(a, mid, tmp)) hi = mid;
            else lo = mid + 1;
        }
        p = lo;
    }
    while (p < 17 && !roundtrips_double(a, p, tmp)) p++;
    n = digits_at(a, p, digits, &e);
    return layout_digits(neg, digits, n, e, buf);
}

/* Floats: 6 significant digits are below float resolution, so the same argument applies. */
int pl_text_format_float(float v, char *buf) {
    if (isnan(v)) return signbit(v) ? (int)(strcpy(buf, "-nan"), 4) : (int)(strcpy(buf, "nan"), 3);
    if (isinf(v)) return v < 0 ? (int)(strcpy(buf, "-inf"), 4) : (int)(strcpy(buf, "inf"), 3);
    bool neg = signbit(v) != 0;
    float a = neg ? -v : v;
    if (a == 0) return layout_digits(neg, "0", 1, 0, buf);
    char tmp[48], digits[24];
    int p = 6;
    if (a < FLT_MIN) {
        int lo = 1, hi = 9;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (roundtrips_float(a, mid, tmp)) hi = mid;
            else lo = mid + 1;
        }
        p = lo;
    }
    while (p < 9 && !roundtrips_float(a, p, tmp)) p++;
    int e;
    int n = digits_at((double)a, p, digits, &e);
    return layout_digits(neg, digits, n, e, buf);
}

int pl_text_format_decimal(uint64_t lo, int64_t hi, int32_t scale, char *buf) {
    unsigned __int128 v = ((unsigned __int128)(uint64_t)hi << 64) | lo;
    bool neg = hi < 0;
    if (neg) v = (unsigned __int128)0 - v;
    char tmp[48];
    char *end = tmp + sizeof tmp, *p = end;
    do {
        *--p = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    int n_digits = (int)(end - p);
    char *o = buf;
    if (neg) *o++ = '-';
    if (scale <= 0) {
        memcpy(o, p, (size_t)n_digits);
        o += n_digits;
        for (int k = 0; k < -scale && k < 38; k++) *o++ = '0';
    } else {
        if (scale > 38) scale = 38;
        if (n_digits <= scale) {
            *o++ = '0';
            *o++ = '.';
            for (int k = n_digits; k < scale; k++) *o++ = '0';
            memcpy(o, p, (size_t)n_digits);
            o += n_digits;
        } else {
            int int_digits = n_digits - scale;
            memcpy(o, p, (size_t)int_digits);
            o += int_digits;
            *o++ = '.';
            memcpy(o, p + int_digits, (size_t)scale);
            o += scale;
        }
    }
    *o = '\0';
    return (int)(o - buf);
}

/* ---------------------------------------------------------------- calendar */

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the classic era/day-of-era method). */
int64_t pl_text_days_from_civil(int64_t y, int32_t m, int32_t d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                       /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;     /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void pl_text_civil_from_days(int64_t days, int64_t *y, int32_t *m, int32_t *d) {
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    *d = (int32_t)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int32_t)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static inline char *put2(char *p, int64_t v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* "YYYY-MM-DD" without the BC marker; sets *bc for years <= 0. */
static char *put_date(char *p, int64_t days, bool *bc) {
    int64_t y;
    int32_t m, d;
    pl_text_civil_from_days(days, &y, &m, &d);
    *bc = y <= 0;
    if (*bc) y = 1 - y;
    if (y < 10000) {
        *p++ = (char)('0' + y / 1000);
        *p++ = (char)('0' + y / 100 % 10);
        p = put2(p, y % 100);
    } else {
        p += format_i64(y, p);
    }
    *p++ = '-';
    p = put2(p, m);
    *p++ = '-';
    return put2(p, d);
}

int pl_text_format_date(int64_t days, char *buf) {
    bool bc;
    char *p = put_date(buf, days, &bc);
    if (bc) {
        memcpy(p, " (BC)", 5);
        p += 5;
    }
    *p = '\0';
    return (int)(p - buf);
}

static const int64_t k_units_per_sec[] = {1, 1000, 1000000, 1000000000};
static const int k_frac_digits[] = {0, 3, 6, 9};

/* "HH:MM:SS[.fff]" of a non-negative time of day in unit; hours may exceed 23. */
static char *put_time(char *p, int64_t v, pl_time_unit unit) {
    int64_t ups = k_units_per_sec[unit];
    int64_t secs = v / ups, frac = v % ups;
    int64_t h = secs / 3600;
    if (h < 100) p = put2(p, h);
    else p += format_i64(h, p);
    *p++ = ':';
    p = put2(p, secs / 60 % 60);
    *p++ = ':';
    p = put2(p, secs % 60);
    if (frac) {
        int nd = k_frac_digits[unit];
        *p++ = '.';
        char *start = p;
        for (int k = nd - 1; k >= 0; k--) {
            start[k] = (char)('0' + frac % 10);
            frac /= 10;
        }
        p = start + nd;
        while (p[-1] == '0') p--;
    }
    return p;
}

int pl_text_format_time(int64_t v, pl_time_unit unit, char *buf) {
    char *p = buf;
    if ((unsigned)unit > PL_UNIT_NS) unit = PL_UNIT_US;
    if (v < 0) {
        *p++ = '-';
        v = v == INT64_MIN ? INT64_MAX : -v;
    }
    p = put_time(p, v, unit);
    *p = '\0';
    return (int)(p - buf);
}

int pl_text_format_timestamp(int64_t v, pl_time_unit unit, bool zoned, char *buf) {
    if ((unsigned)unit > PL_UNIT_NS) unit = PL_UNIT_US;
    /* DuckDB's timestamp infinities */
    if (unit == PL_UNIT_US && (v == INT64_MAX || v == -INT64_MAX)) {
        return (int)(strcpy(buf, v > 0 ? "infinity" : "-infinity"), v > 0 ? 8 : 9);
    }
    int64_t upd = k_units_per_sec[unit] * 86400;
    int64_t days = floor_div(v, upd);
    int64_t tod = v % upd; /* not v - days * upd: that overflows near INT64_MIN */
    if (tod < 0) tod += upd;
    bool bc;
    char *p = put_date(buf, days, &bc);
    if (bc) {
        memcpy(p, " (BC)", 5);
        p += 5;
    }
    *p++ = ' ';
    p = put_time(p, tod, unit);
    if (zoned) {
        memcpy(p, "+00", 3);
        p += 3;
    }
    *p = '\0';
    return (int)(p - buf);
}

int pl_text_format_timestamp_tz(int64_t v, pl_time_unit unit, const char *tz, char *buf) {
    if (!tz) return pl_text_format_timestamp(v, unit, false, buf);
    if ((unsigned)unit > PL_UNIT_NS) unit = PL_UNIT_US;
    const pl_tz *z = NULL;
    int32_t off = 0;
    int64_t ups = k_units_per_sec[unit], local;
    /* an unknown zone (an Arrow file's tz metadata) prints in UTC: the same instant */
    if ((unit == PL_UNIT_US && (v == INT64_MAX || v == -INT64_MAX)) || pl_tz_lookup(tz, &z, NULL) ||
        (pl_tz_is_fixed(z, &off) && off == 0))
        return pl_text_format_timestamp(v, unit, true, buf);
    off = pl_tz_offset_at_utc(z, floor_div(v, ups));
    if (__builtin_mul_overflow((int64_t)off, ups, &local) || __builtin_add_overflow(v, local, &local))
        return pl_text_format_timestamp(v, unit, true, buf);
    int n = pl_text_format_timestamp(local, unit, false, buf);
    /* DuckDB's offset: +HH, +HH:MM, +HH:MM:SS (local mean time before 1900) */
    int32_t a = off < 0 ? -off : off;
    n += sprintf(buf + n, "%c%02d", off < 0 ? '-' : '+', (int)(a / 3600));
    if (a % 3600) n += sprintf(buf + n, ":%02d", (int)(a / 60 % 60));
    if (a % 60) n += sprintf(buf + n, ":%02d", (int)(a % 60));
    return n;
}

/* DuckDB's INTERVAL text: "1 year 2 months 3 days 04:05:06.5", "-1 day", "00:01:00";
 * every component keeps its own sign, the time part is [-]HH:MM:SS[.f] with hours unbounded
 * and trailing fraction zeros trimmed, and an all-zero interval is "00:00:00". */
int pl_text_format_interval(int32_t months, int32_t days, int64_t ns, char *buf) {
    char *p = buf;
    int32_t years = months / 12, mons = months % 12;
    const char *names[3] = {"year", "month", "day"};
    int32_t vals[3] = {years, mons, days};
    for (int k = 0; k < 3; k++) {
        if (!vals[k]) continue;
        if (p != buf) *p++ = ' ';
        p += sprintf(p, "%d %s%s", vals[k], names[k], (vals[k] == 1 || vals[k] == -1) ? "" : "s");
    }
    if (ns != 0 || p == buf) {
        if (p != buf) *p++ = ' ';
        uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
        if (ns < 0) *p++ = '-';
        uint64_t secs = u / 1000000000u, frac = u % 1000000000u;
        p += sprintf(p, "%02llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
                     (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
        if (frac) {
            char f[16];
            int n = sprintf(f, "%09llu", (unsigned long long)frac);
            while (n > 0 && f[n - 1] == '0') n--;
            *p++ = '.';
            memcpy(p, f, (size_t)n);
            p += n;
        }
    }
    *p = '\0';
    return (int)(p - buf);
}

/* ---------------------------------------------------------------- parsing */

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Reads exactly n digits at s[*pos]. */
static bool read_digits(const char *s, int64_t len, int64_t *pos, int n, int64_t *out) {
    if (n > len - *pos) return false;
    int64_t v = 0;
    for (int k = 0; k < n; k++) {
        char c = s[*pos + k];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    *pos += n;
    *out = v;
    return true;
}

/* One or two digits (months, days, hours, minutes and seconds may drop their leading zero:
 * "2024-1-3 9:05:00", as DuckDB reads them). */
static bool read_1or2_digits(const char *s, int64_t len, int64_t *pos, int64_t *out) {
    if (*pos >= len || !is_digit(s[*pos])) return false;
    int64_t v = s[(*pos)++] - '0';
    if (*pos < len && is_digit(s[*pos])) v = v * 10 + (s[(*pos)++] - '0');
    *out = v;
    return true;
}

static int days_in_month(int64_t y, int32_t m) {
    static const int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2) {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; /* also right for y <= 0 */
        return leap ? 29 : 28;
    }
    return k_days[m - 1];
}

/* Date at the start of s; advances *pos. */
static bool parse_date_prefix(const char *s, int64_t n, int64_t *pos, int64_t *days) {
    int64_t p = *pos;
    bool neg = false;
    if (p < n && s[p] == '-') {
        neg = true;
        p++;
    }
    int64_t y = 0;
    int nd = 0;
    while (p < n && is_digit(s[p]) && nd < 9) {
        y = y * 10 + (s[p] - '0');
        p++;
        nd++;
    }
    if (nd < 4 || p >= n || s[p] != '-') return false;
    p++;
    if (neg) y = -y;
    int64_t m, d;
    if (!read_1or2_digits(s, n, &p, &m) || p >= n || s[p] != '-') return false;
    p++;
    if (!read_1or2_digits(s, n, &p, &d)) return false;
    if (n - p >= 5 && memcmp(s + p, " (BC)", 5) == 0) { /* DuckDB's era marker */
        if (neg || y < 1) return false;
        y = 1 - y;
        p += 5;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int32_t)m)) return false;
    *days = pl_text_days_from_civil(y, (int32_t)m, (int32_t)d);
    *pos = p;
    return true;
}

bool pl_text_parse_date(const char *s, int64_t n, int32_t *out_days) {
    int64_t pos = 0, days;
    if (!parse_date_prefix(s, n, &pos, &days) || pos != n) return false;
    if (days < INT32_MIN || days > INT32_MAX) return false;
    *out_days = (int32_t)days;
    return true;
}

bool pl_text_parse_timestamp(const char *s, int64_t n, pl_time_unit unit, int64_t *out,
                             bool *has_tz) {
    int64_t pos = 0, days;
    if ((unsigned)unit > PL_UNIT_NS) return false;
    if (!parse_date_prefix(s, n, &pos, &days)) return false;
    int64_t hh = 0, mi = 0, ss = 0, frac_ns = 0;
    bool tz = false;
    int64_t tz_secs = 0;
    if (pos < n) {
        if (s[pos] != 'T' && s[pos] != ' ') return false;
        pos++;
        if (!read_1or2_digits(s, n, &pos, &hh) || pos >= n || s[pos] != ':') return false;
        pos++;
        if (!read_1or2_digits(s, n, &pos, &mi)) return false;
        if (pos < n && s[pos] == ':') {
            pos++;
            if (!read_1or2_digits(s, n, &pos, &ss)) return false;
            if (pos < n && s[pos] == '.') {
                pos++;
                int nd = 0;
                while (pos < n && is_digit(s[pos])) {
                    if (nd < 9) frac_ns = frac_ns * 10 + (s[pos] - '0');
                    nd++;
                    pos++;
                }
                if (nd == 0 || nd > 9) return false;
                for (int k = nd; k < 9; k++) frac_ns *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 59) return false;
        if (pos < n) {
            if (s[pos] == 'Z') {
                tz = true;
                pos++;
            } else if (s[pos] == '+' || s[pos] == '-') {
                int sign = s[pos] == '-' ? -1 : 1;
                int64_t th, tm = 0;
                pos++;
                if (!read_digits(s, n, &pos, 2, &th)) return false;
                if (pos < n && s[pos] == ':') pos++;
                if (pos < n && !read_digits(s, n, &pos, 2, &tm)) return false;
                if (th > 23 || tm > 59) return false;
                tz = true;
                tz_secs = sign * (th * 3600 + tm * 60);
            }
        }
        if (pos != n) return false;
    }
    int64_t ups = k_units_per_sec[unit];
    int64_t secs_of_day = hh * 3600 + mi * 60 + ss - tz_secs;
    /* days * 86400 * ups must fit: bound days first */
    int64_t max_days = INT64_MAX / (86400 * ups) - 2;
    if (days > max_days || days < -max_days) return false;
    int64_t v = (days * 86400 + secs_of_day) * ups + frac_ns / (1000000000 / ups);
    *out = v;
    if (has_tz) *has_tz = tz;
    return true;
}

/* ---------------------------------------------------------------- values */

static inline bool is_printable_blob_byte(uint8_t c) {
    return c >= 32 && c <= 126 && c != '\\' && c != '\'' && c != '"';
}

static pl_status append_blob(pl_strbuf *sb, const uint8_t *b, int64_t n, pl_error *err) {
    static const char k_hex[] = "0123456789ABCDEF";
    PL_TRY(pl_strbuf_reserve(sb, n * 4, err));
    char *p = sb->data + sb->len;
    for (int64_t k = 0; k < n; k++) {
        uint8_t c = b[k];
        if (is_printable_blob_byte(c)) {
            *p++ = (char)c;
        } else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = k_hex[c >> 4];
            *p++ = k_hex[c & 15];
        }
    }
    sb->len = p - sb->data;
    sb->data[sb->len] = '\0';
    return PL_OK;
}

static pl_status append_json_string(pl_strbuf *sb, const char *s, int64_t n, pl_error *err) {
    static const char k_hex[] = "0123456789abcdef";
    PL_TRY(pl_strbuf_reserve(sb, n * 6 + 2, err));
    char *p = sb->data + sb->len;
    *p++ = '"';
    for (int64_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        switch (c) {
        case '"': *p++ = '"'; break;
        case '\\': *p++ = '\\'; break;
        case '\n': *p++ = 'n'; break;
        case '\r': *p++ = 'r'; break;
        case '\t': *p++ = 't'; break;
        case '\b': *p++ = 'b'; break;
        case '\f': *p++ = 'f'; break;
        default:
            *p++ = 'u';
            *p++ = '0';
            *p++ = '0';
            *p++ = k_hex[c >> 4];
            *p++ = k_hex[c & 15];
        }
    }
    *p++ = '"';
    sb->len = p - sb->data;
    sb->data[sb->len] = '\0';
    return PL_OK;
}

/* DuckDB quotes a string inside a nested value when it is empty, starts or ends with white
 * space, is "null" in any case, or holds a character that the nested-value syntax uses. */
static bool nested_needs_quotes(const char *s, int64_t n) {
    if (n == 0) return true;
    if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') return true;
    char last = s[n - 1];
    if (last == ' ' || last == '\t' || last == '\n' || last == '\r') return true;
    if (n == 4 && (s[0] | 32) == 'n' && (s[1] | 32) == 'u' && (s[2] | 32) == 'l' &&
        (s[3] | 32) == 'l')
        return true;
    for (int64_t k = 0; k < n; k++) {
        switch (s[k]) {
        case '[': case ']': case '{': case '}': case '(': case ')': case ',': case ':':
        case '=': case '\'': case '"': case '\\':
            return true;
        default: break;
        }
    }
    return false;
}

static pl_status append_single_quoted(pl_strbuf *sb, const char *s, int64_t n, pl_error *err) {
    PL_TRY(pl_strbuf_reserve(sb, n * 2 + 2, err));
    char *p = sb->data + sb->len;
    *p++ = '\'';
    for (int64_t k = 0; k < n; k++) {
        if (s[k] == '\'' || s[k] == '\\') *p++ = '\\';
        *p++ = s[k];
    }
    *p++ = '\'';
    sb->len = p - sb->data;
    sb->data[sb->len] = '\0';
    return PL_OK;
}

/* Where a rendered leaf goes: top-level PLAIN (raw), inside a nested PLAIN value (quoted when
 * needed), or JSON (a JSON string). */
typedef enum leaf_ctx { LEAF_RAW, LEAF_NESTED, LEAF_JSON } leaf_ctx;

static pl_status emit_text(pl_strbuf *sb, const char *s, int64_t n, leaf_ctx ctx, pl_error *err) {
    switch (ctx) {
    case LEAF_RAW: return pl_strbuf_append(sb, s, n, err);
    case LEAF_NESTED:
        if (nested_needs_quotes(s, n)) return append_single_quoted(sb, s, n, err);
        return pl_strbuf_append(sb, s, n, err);
    case LEAF_JSON: return append_json_string(sb, s, n, err);
    }
    return PL_OK;
}

static bool dict_index(const pl_array *a, int64_t i, int64_t *out) {
    int64_t k = a->offset + i;
    const uint8_t *v = a->values->data;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: *out = ((const int8_t *)v)[k]; return true;
    case PL_TYPE_UINT8: *out = v[k]; return true;
    case PL_TYPE_INT16: *out = ((const int16_t *)(const void *)v)[k]; return true;
    case PL_TYPE_UINT16: *out = ((const uint16_t *)(const void *)v)[k]; return true;
    case PL_TYPE_INT32: *out = ((const int32_t *)(const void *)v)[k]; return true;
    case PL_TYPE_UINT32: *out = ((const uint32_t *)(const void *)v)[k]; return true;
    case PL_TYPE_INT64: *out = ((const int64_t *)(const void *)v)[k]; return true;
    case PL_TYPE_UINT64: {
        uint64_t u = ((const uint64_t *)(const void *)v)[k];
        if (u > INT64_MAX) return false;
        *out = (int64_t)u;
        return true;
    }
    default: return false;
    }
}

static pl_status format_rec(const pl_array *a, int64_t i, pl_text_style style, bool nested,
                            pl_strbuf *out, pl_error *err);

static pl_status format_list_items(const pl_array *child, int64_t begin, int64_t end,
                                   pl_text_style style, pl_strbuf *out, pl_error *err) {
    bool json = style == PL_TEXT_JSON;
    PL_TRY(sb_putc(out, '[', err));
    for (int64_t k = begin; k < end; k++) {
        if (k > begin) PL_TRY(json ? sb_putc(out, ',', err) : pl_strbuf_append(out, ", ", 2, err));
        PL_TRY(format_rec(child, k, style, true, out, err));
    }
    return sb_putc(out, ']', err);
}

static pl_status format_rec(const pl_array *a, int64_t i, pl_text_style style, bool nested,
                            pl_strbuf *out, pl_error *err) {
    bool json = style == PL_TEXT_JSON;
    if (!pl_array_is_valid(a, i)) {
        if (json) return pl_strbuf_append(out, "null", 4, err);
        return nested ? pl_strbuf_append(out, "NULL", 4, err) : PL_OK;
    }
    leaf_ctx ctx = json ? LEAF_JSON : nested ? LEAF_NESTED : LEAF_RAW;
    const pl_type *t = a->type;
    const uint8_t *vals = a->values ? a->values->data : NULL;
    int64_t k = a->offset + i;
    char buf[96];
    int n;
    switch (t->id) {
    case PL_TYPE_NA:
        if (json) return pl_strbuf_append(out, "null", 4, err);
        return nested ? pl_strbuf_append(out, "NULL", 4, err) : PL_OK;
    case PL_TYPE_BOOL:
        return pl_bit_get(vals, k) ? pl_strbuf_append(out, "true", 4, err)
                                   : pl_strbuf_append(out, "false", 5, err);
    case PL_TYPE_INT8: n = format_i64(((const int8_t *)vals)[k], buf); break;
    case PL_TYPE_INT16: n = format_i64(((const int16_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_INT32: n = format_i64(((const int32_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_INT64: n = format_i64(((const int64_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_UINT8: n = format_u64(vals[k], buf); break;
    case PL_TYPE_UINT16: n = format_u64(((const uint16_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_UINT32: n = format_u64(((const uint32_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_UINT64: n = format_u64(((const uint64_t *)(const void *)vals)[k], buf); break;
    case PL_TYPE_FLOAT32: {
        float f = ((const float *)(const void *)vals)[k];
        if (json && !isfinite(f)) return pl_strbuf_append(out, "null", 4, err);
        n = pl_text_format_float(f, buf);
        break;
    }
    case PL_TYPE_FLOAT64: {
        double d = ((const double *)(const void *)vals)[k];
        if (json && !isfinite(d)) return pl_strbuf_append(out, "null", 4, err);
        n = pl_text_format_double(d, buf);
        break;
    }
    case PL_TYPE_DECIMAL128: {
        const uint8_t *p = vals + k * 16;
        n = pl_text_format_decimal(pl_load_u64le(p), (int64_t)pl_load_u64le(p + 8), t->scale, buf);
        break;
    }
    case PL_TYPE_UTF8: {
        int32_t len;
        const uint8_t *s = pl_array_bytes(a, i, &len);
        return emit_text(out, (const char *)s, len, ctx, err);
    }
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: {
        int32_t len;
        const uint8_t *s;
        if (t->id == PL_TYPE_BINARY) {
            s = pl_array_bytes(a, i, &len);
        } else {
            len = t->byte_width;
            s = vals + k * (int64_t)t->byte_width;
        }
        if (ctx == LEAF_RAW) return append_blob(out, s, len, err);
        pl_strbuf tmp = {0};
        pl_status st = append_blob(&tmp, s, len, err);
        if (!st) st = emit_text(out, tmp.data, tmp.len, ctx, err);
        pl_strbuf_reset(&tmp);
        return st;
    }
    case PL_TYPE_DATE32:
        n = pl_text_format_date(((const int32_t *)(const void *)vals)[k], buf);
        return emit_text(out, buf, n, ctx, err);
    case PL_TYPE_TIME64:
        n = pl_text_format_time(((const int64_t *)(const void *)vals)[k], t->unit, buf);
        return emit_text(out, buf, n, ctx, err);
    case PL_TYPE_TIMESTAMP:
        n = pl_text_format_timestamp_tz(((const int64_t *)(const void *)vals)[k], t->unit, t->tz, buf);
        return emit_text(out, buf, n, ctx, err);
    case PL_TYPE_INTERVAL: {
        const uint8_t *q = vals + k * 16;
        int32_t months, days;
        int64_t ns;
        memcpy(&months, q, 4);
        memcpy(&days, q + 4, 4);
        memcpy(&ns, q + 8, 8);
        n = pl_text_format_interval(months, days, ns, buf);
        return emit_text(out, buf, n, ctx, err);
    }
    case PL_TYPE_DICTIONARY: {
        int64_t idx;
        if (!dict_index(a, i, &idx) || !a->dictionary || idx < 0 ||
            idx >= a->dictionary->length)
            PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index out of range at row %lld",
                    (long long)i);
        return format_rec(a->dictionary, idx, style, nested, out, err);
    }
    case PL_TYPE_LIST: {
        const int32_t *o = pl_array_offsets(a);
        return format_list_items(a->children[0], o[i], o[i + 1], style, out, err);
    }
    case PL_TYPE_STRUCT: {
        PL_TRY(sb_putc(out, '{', err));
        for (int32_t c = 0; c < a->n_children; c++) {
            const char *name = t->children[c].name ? t->children[c].name : "";
            int64_t name_len = (int64_t)strlen(name);
            if (c > 0) PL_TRY(json ? sb_putc(out, ',', err) : pl_strbuf_append(out, ", ", 2, err));
            if (json) {
                PL_TRY(append_json_string(out, name, name_len, err));
                PL_TRY(sb_putc(out, ':', err));
            } else {
                PL_TRY(append_single_quoted(out, name, name_len, err));
                PL_TRY(pl_strbuf_append(out, ": ", 2, err));
            }
            PL_TRY(format_rec(a->children[c], k, style, true, out, err));
        }
        return sb_putc(out, '}', err);
    }
    case PL_TYPE_MAP: {
        const int32_t *o = pl_array_offsets(a);
        const pl_array *entries = a->children[0];
        const pl_array *keys = entries->children[0];
        const pl_array *values = entries->n_children > 1 ? entries->children[1] : NULL;
        PL_TRY(sb_putc(out, '{', err));
        for (int64_t e = o[i]; e < o[i + 1]; e++) {
            int64_t ek = entries->offset + e;
            if (e > o[i]) PL_TRY(json ? sb_putc(out, ',', err) : pl_strbuf_append(out, ", ", 2, err));
            if (json) {
                pl_strbuf key = {0};
                pl_status st = format_rec(keys, ek, PL_TEXT_PLAIN, false, &key, err);
                if (!st) st = append_json_string(out, key.data ? key.data : "", key.len, err);
                pl_strbuf_reset(&key);
                PL_TRY(st);
                PL_TRY(sb_putc(out, ':', err));
            } else {
                PL_TRY(format_rec(keys, ek, style, true, out, err));
                PL_TRY(sb_putc(out, '=', err));
            }
            if (values) PL_TRY(format_rec(values, ek, style, true, out, err));
            else PL_TRY(sb_puts(out, json ? "null" : "NULL", err));
        }
        return sb_putc(out, '}', err);
    }
    default:
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot render type id %d as text", (int)t->id);
    }
    return pl_strbuf_append(out, buf, n, err);
}

pl_status pl_text_format_value(const pl_array *a, int64_t i, pl_text_style style, pl_strbuf *out,
                               pl_error *err) {
    return format_rec(a, i, style, false, out, err);
}

bool pl_text_is_null(const pl_array *a, int64_t i) {
    if (!pl_array_is_valid(a, i)) return true;
    if (a->type->id == PL_TYPE_DICTIONARY) {
        int64_t idx;
        if (!a->dictionary || !dict_index(a, i, &idx) || idx < 0 || idx >= a->dictionary->length)
            return false; /* rendering reports the corruption */
        return pl_text_is_null(a->dictionary, idx);
    }
    return false;
}

/* ---------------------------------------------------------------- display width */

static bool is_wide(uint32_t cp) {
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
           (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
           (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

static bool is_zero_width(uint32_t cp) {
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x20D0 && cp <= 0x20FF);
}

int64_t pl_text_display_width(const char *s, int64_t n) {
    int64_t w = 0;
    const uint8_t *u = (const uint8_t *)s;
    for (int64_t k = 0; k < n;) {
        uint8_t c = u[k];
        if (c < 0x80) {
            w++;
            k++;
            continue;
        }
        int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        if (len > n - k) len = (int)(n - k);
        uint32_t cp = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
        for (int m = 1; m < len; m++) cp = (cp << 6) | (u[k + m] & 0x3Fu);
        w += is_zero_width(cp) ? 0 : is_wide(cp) ? 2 : 1;
        k += len;
    }
    return w;
}

/* ---------------------------------------------------------------- output */

pl_status pl_text_out_open(const char *path, pl_text_out *o, pl_error *err) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (!path || strcmp(path, "-") == 0) {
        o->fd = 1;
        snprintf(o->path, sizeof o->path, "<stdout>");
        return PL_OK;
    }
    snprintf(o->path, sizeof o->path, "%s", path);
    o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (o->fd < 0) {
        int e = errno;
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_IO, "cannot create file: %s", strerror(e));
    }
    o->owned = true;
    return PL_OK;
}

pl_status pl_text_out_flush(pl_text_out *o, bool force, pl_error *err) {
    if (o->buf.len == 0 || (!force && o->buf.len < PL_TEXT_OUT_FLUSH_BYTES)) return PL_OK;
    int64_t done = 0;
    while (done < o->buf.len) {
        ssize_t w = write(o->fd, o->buf.data + done, (size_t)(o->buf.len - done));
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            pl_error_set_path(err, o->path);
            PL_FAIL(err, PL_ERR_IO, "cannot write: %s", strerror(e));
        }
        done += w;
    }
    o->buf.len = 0;
    return PL_OK;
}

pl_status pl_text_out_close(pl_text_out *o, pl_error *err) {
    pl_status st = pl_text_out_flush(o, true, err);
    if (o->owned && o->fd >= 0) {
        if (close(o->fd) != 0 && !st) {
            int e = errno;
            pl_error_set_path(err, o->path);
            st = pl_error_set(err, PL_ERR_IO, "cannot close: %s", strerror(e));
        }
    }
    o->fd = -1;
    o->owned = false;
    pl_strbuf_reset(&o->buf);
    return st;
}

void pl_text_out_reset(pl_text_out *o) {
    if (o->owned && o->fd >= 0) close(o->fd);
    o->fd = -1;
    o->owned = false;
    pl_strbuf_reset(&o->buf);
}

typedef struct text_piece {
    pl_text_rows_fn fn;
    const void *ctx;
    const pl_batch *batch;
    int64_t r0, r1;
    pl_strbuf text, scratch;
    pl_status st;
    pl_error err;
} text_piece;

static void render_piece(void *arg, int64_t index, int32_t worker) {
    (void)worker;
    text_piece *p = &((text_piece *)arg)[index];
    pl_error_init(&p->err);
    p->st = p->fn(p->ctx, p->batch, p->r0, p->r1, &p->text, &p->scratch, &p->err);
}

pl_status pl_text_out_write_rows(pl_text_out *o, const pl_batch *batch, int32_t n_threads,
                                 pl_text_rows_fn fn, const void *ctx, pl_error *err) {
    int64_t n_pieces = (batch->n_rows + PL_TEXT_PIECE_ROWS - 1) / PL_TEXT_PIECE_ROWS;
    if (n_pieces <= 1 || n_threads == 1) {
        pl_strbuf scratch = {0};
        pl_status st = fn(ctx, batch, 0, batch->n_rows, &o->buf, &scratch, err);
        pl_strbuf_reset(&scratch);
        return st ? st : pl_text_out_flush(o, false, err);
    }
    text_piece *ps = pl_calloc((size_t)n_pieces, sizeof *ps);
    if (!ps) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; k < n_pieces; k++) {
        ps[k].fn = fn;
        ps[k].ctx = ctx;
        ps[k].batch = batch;
        ps[k].r0 = k * PL_TEXT_PIECE_ROWS;
        ps[k].r1 = PL_MIN(batch->n_rows, ps[k].r0 + PL_TEXT_PIECE_ROWS);
    }
    pl_parallel_for(n_pieces, n_threads, render_piece, ps);
    pl_status st = PL_OK;
    for (int64_t k = 0; k < n_pieces; k++) {
        if (!st && ps[k].st) {
            st = ps[k].st;
            if (err) *err = ps[k].err;
        }
        if (!st) st = pl_strbuf_append(&o->buf, ps[k].text.data, ps[k].text.len, err);
        if (!st) st = pl_text_out_flush(o, false, err);
        pl_strbuf_reset(&ps[k].text);
        pl_strbuf_reset(&ps[k].scratch);
    }
    pl_free(ps);
    return st;
}

/* ---------------------------------------------------------------- WKB to WKT */

typedef struct wkb_reader {
    const uint8_t *p, *start, *end;
} wkb_reader;

static bool wkb_u32(wkb_reader *r, bool le, uint32_t *out) {
    if (r->end - r->p < 4) return false;
    uint32_t v = pl_load_u32le(r->p);
    if (!le) v = __builtin_bswap32(v);
    r->p += 4;
    *out = v;
    return true;
}

static bool wkb_f64(wkb_reader *r, bool le, double *out) {
    if (r->end - r->p < 8) return false;
    uint64_t v = pl_load_u64le(r->p);
    if (!le) v = __builtin_bswap64(v);
    memcpy(out, &v, 8);
    r->p += 8;
    return true;
}

static pl_status wkb_fail(const wkb_reader *r, pl_error *err, const char *what) {
    PL_FAIL(err, PL_ERR_CORRUPT, "invalid WKB at byte %lld: %s", (long long)(r->p - r->start),
            what);
}

/* One coordinate tuple "x y[ z[ m]]"; integral values without ".0". */
static pl_status wkb_coords(wkb_reader *r, bool le, int dims, pl_strbuf *out, pl_error *err) {
    for (int k = 0; k < dims; k++) {
        double v;
        if (!wkb_f64(r, le, &v)) return wkb_fail(r, err, "truncated coordinate");
        char buf[40];
        int n = pl_text_format_double(v, buf);
        if (n > 2 && buf[n - 2] == '.' && buf[n - 1] == '0') n -= 2;
        if (k) PL_TRY(sb_putc(out, ' ', err));
        PL_TRY(pl_strbuf_append(out, buf, n, err));
    }
    return PL_OK;
}

/* "(x y, x y, ...)" or "EMPTY" for a point sequence. */
static pl_status wkb_points(wkb_reader *r, bool le, int dims, pl_strbuf *out, pl_error *err) {
    uint32_t n;
    if (!wkb_u32(r, le, &n)) return wkb_fail(r, err, "truncated point count");
    if (n == 0) return pl_strbuf_append(out, "EMPTY", 5, err);
    if ((uint64_t)n * (uint64_t)dims * 8 > (uint64_t)(r->end - r->p))
        return wkb_fail(r, err, "point count exceeds the bytes left");
    PL_TRY(sb_putc(out, '(', err));
    for (uint32_t k = 0; k < n; k++) {
        if (k) PL_TRY(pl_strbuf_append(out, ", ", 2, err));
        PL_TRY(wkb_coords(r, le, dims, out, err));
    }
    return sb_putc(out, ')', err);
}

static pl_status wkb_geometry(wkb_reader *r, int depth, bool tagged, int parent_kind,
                              pl_strbuf *out, pl_error *err);

/* A collection of sub-geometries: "(g, g)" or EMPTY; tagged: sub-geometries print their type
 * (GEOMETRYCOLLECTION), else only their body (MULTI*). */
static pl_status wkb_parts(wkb_reader *r, bool le, int depth, bool tagged, int kind,
                           pl_strbuf *out, pl_error *err) {
    uint32_t n;
    if (!wkb_u32(r, le, &n)) return wkb_fail(r, err, "truncated part count");
    if (n == 0) return pl_strbuf_append(out, "EMPTY", 5, err);
    if (n > (uint64_t)(r->end - r->p)) return wkb_fail(r, err, "part count exceeds the bytes left");
    PL_TRY(sb_putc(out, '(', err));
    for (uint32_t k = 0; k < n; k++) {
        if (k) PL_TRY(pl_strbuf_append(out, ", ", 2, err));
        PL_TRY(wkb_geometry(r, depth + 1, tagged, kind, out, err));
    }
    return sb_putc(out, ')', err);
}

static pl_status wkb_geometry(wkb_reader *r, int depth, bool tagged, int parent_kind,
                              pl_strbuf *out, pl_error *err) {
    static const char *const k_names[] = {"",           "POINT",           "LINESTRING",
                                          "POLYGON",    "MULTIPOINT",      "MULTILINESTRING",
                                          "MULTIPOLYGON", "GEOMETRYCOLLECTION"};
    if (depth > PL_TEXT_WKB_MAX_DEPTH) return wkb_fail(r, err, "geometry nested too deeply");
    if (r->p >= r->end) return wkb_fail(r, err, "truncated byte order");
    uint8_t order = *r->p++;
    if (order > 1) return wkb_fail(r, err, "byte order is neither 0 nor 1");
    bool le = order == 1;
    uint32_t code;
    if (!wkb_u32(r, le, &code)) return wkb_fail(r, err, "truncated geometry type");
    bool has_z = (code & 0x80000000u) != 0, has_m = (code & 0x40000000u) != 0;
    if (code & 0x20000000u) { /* EWKB SRID */
        uint32_t srid;
        if (!wkb_u32(r, le, &srid)) return wkb_fail(r, err, "truncated SRID");
    }
    code &= 0x0FFFFFFFu;
    uint32_t iso = code / 1000, kind = code % 1000;
    if (iso == 1 || iso == 3) has_z = true;
    if (iso == 2 || iso == 3) has_m = true;
    if (iso > 3 || kind < 1 || kind > 7) return wkb_fail(r, err, "unknown geometry type");
    int dims = 2 + has_z + has_m;
    /* MULTI* parts must be of the matching simple kind */
    if (parent_kind >= 4 && parent_kind <= 6 && (int)kind != parent_kind - 3)
        return wkb_fail(r, err, "part of a multi-geometry has the wrong type");
    if (tagged) {
        PL_TRY(sb_puts(out, k_names[kind], err));
        PL_TRY(sb_puts(out, has_z && has_m ? " ZM " : has_z ? " Z " : has_m ? " M " : " ", err));
    }
    switch (kind) {
    case 1: { /* POINT: all-NaN coordinates mean EMPTY */
        if ((int64_t)dims * 8 > r->end - r->p) return wkb_fail(r, err, "truncated point");
        bool all_nan = true;
        wkb_reader peek = *r;
        for (int k = 0; k < dims; k++) {
            double v = 0;
            if (!wkb_f64(&peek, le, &v) || !isnan(v)) all_nan = false;
        }
        if (all_nan && tagged) {
            r->p = peek.p;
            return pl_strbuf_append(out, "EMPTY", 5, err);
        }
        if (tagged) PL_TRY(sb_putc(out, '(', err));
        PL_TRY(wkb_coords(r, le, dims, out, err));
        return tagged ? sb_putc(out, ')', err) : PL_OK;
    }
    case 2: return wkb_points(r, le, dims, out, err);
    case 3: {
        uint32_t n_rings;
        if (!wkb_u32(r, le, &n_rings)) return wkb_fail(r, err, "truncated ring count");
        if (n_rings == 0) return pl_strbuf_append(out, "EMPTY", 5, err);
        if (n_rings > (uint64_t)(r->end - r->p) / 4)
            return wkb_fail(r, err, "ring count exceeds the bytes left");
        PL_TRY(sb_putc(out, '(', err));
        for (uint32_t k = 0; k < n_rings; k++) {
            if (k) PL_TRY(pl_strbuf_append(out, ", ", 2, err));
            PL_TRY(wkb_points(r, le, dims, out, err));
        }
        return sb_putc(out, ')', err);
    }
    case 4:
    case 5:
    case 6: return wkb_parts(r, le, depth, false, (int)kind, out, err);
    default: return wkb_parts(r, le, depth, true, 7, out, err);
    }
}

pl_status pl_text_wkb_to_wkt(const uint8_t *wkb, int64_t n, pl_strbuf *out, pl_error *err) {
    wkb_reader r = {wkb, wkb, wkb + n};
    int64_t mark = out->len;
    pl_status st = wkb_geometry(&r, 0, true, 0, out, err);
    if (st) {
        out->len = mark;
        if (out->data) out->data[mark] = '\0';
    }
    return st;
}

bool pl_text_parse_decimal(const char *s, int64_t n, int32_t precision, int32_t scale,
                           uint64_t *lo, int64_t *hi) {
    while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    int64_t k = 0;
    bool neg = false;
    if (k < n && (s[k] == '+' || s[k] == '-')) neg = s[k++] == '-';
    unsigned __int128 v = 0;
    /* v * 10 + 9 still fits below this; 10^38 (the largest precision's bound) is far below it */
    const unsigned __int128 limit = (~(unsigned __int128)0 - 9) / 10;
    int digits = 0, frac = 0;
    bool any = false, dot = false, round_up = false;
    for (; k < n; k++) {
        char c = s[k];
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!is_digit(c)) return false;
        any = true;
        if (dot && frac >= scale) {
            if (frac == scale && !round_up) round_up = c >= '5';
            frac++;
            continue;
        }
        if (dot) frac++;
        if (v > limit) return false;
        v = v * 10 + (unsigned)(c - '0');
        if (v) digits++;
    }
    if (!any) return false;
    if (frac > scale) frac = scale;
    for (; frac < scale; frac++) {
        if (v > limit) return false;
        v *= 10;
    }
    if (round_up) v++;
    unsigned __int128 max = 1;
    for (int32_t d = 0; d < precision; d++) max *= 10;
    if (v >= max) return false;
    if (neg) v = (unsigned __int128)0 - v;
    *lo = (uint64_t)v;
    *hi = (int64_t)(uint64_t)(v >> 64);
    return true;
}
