/* time_format.c - DuckDB's strftime/strptime format strings: compiling a format into items and
 * parsing text by one (strptime). Shared by the SQL functions (src/expr/time_fmt.c: strftime,
 * strptime, try_strptime) and the CSV reader's dateformat/timestampformat.
 *
 * strptime is strict: every literal must match, whitespace in the format matches any run of
 * whitespace, and trailing input is an error (the reason goes to *why). */
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "io/text/text.h"

const char *const pl_text_day_names[7] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
const char *const pl_text_month_names[12] = {"January", "February", "March", "April",
                                             "May", "June", "July", "August",
                                             "September", "October", "November", "December"};

enum { US_PER_SEC = 1000000 };

static int32_t days_in_month(int64_t y, int32_t m) {
    static const int8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

void pl_time_format_reset(pl_time_format *f) {
    pl_free(f->items);
    memset(f, 0, sizeof *f);
}

static bool spec_known(char c, bool parse) {
    const char *ok = "aAbBhcdfgnHIjmMpSUWwyYzZxXTGVu%";
    if (parse && c == 'T') return true;
    return c && strchr(ok, c) != NULL;
}

static bool spec_allows_nopad(char c) { return c && strchr("dHIjmMSy", c) != NULL; }

pl_status pl_time_format_compile(pl_time_format *s, const char *fmt, int64_t len, bool parse,
                                 const char *who, pl_error *err) {
    if (len >= (int64_t)sizeof s->fmt)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: format string too long", who);
    memcpy(s->fmt, fmt, (size_t)len);
    s->fmt[len] = 0;
    s->items = pl_calloc((size_t)(len + 1), sizeof *s->items);
    if (!s->items) PL_FAIL(err, PL_ERR_NOMEM, "out of memory parsing a format");
    int32_t n = 0;
    for (int64_t i = 0; i < len;) {
        if (fmt[i] != '%') {
            int64_t j = i;
            while (j < len && fmt[j] != '%') j++;
            s->items[n++] = (pl_fmt_item){0, false, (int32_t)i, (int32_t)(j - i)};
            i = j;
            continue;
        }
        bool no_pad = false;
        int64_t k = i + 1;
        if (k < len && fmt[k] == '-') {
            no_pad = true;
            k++;
        }
        char c = k < len ? fmt[k] : 0;
        if (!spec_known(c, parse) || (no_pad && !spec_allows_nopad(c))) {
            PL_FAIL(err, PL_ERR_INVALID_ARG,
                    "failed to parse format specifier \"%s\": unrecognized format %%%s%c",
                    s->fmt, no_pad ? "-" : "", c ? c : ' ');
        }
        if (c == 'z') s->has_tz_spec = true;
        s->items[n++] = (pl_fmt_item){c, no_pad, 0, 0};
        i = k + 1;
    }
    s->n_items = n;
    return PL_OK;
}

static bool isalnum_c(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool read_int(const char *s, int64_t len, int64_t *pos, int min_digits, int max_digits,
                     bool sign, int64_t *out) {
    int64_t p = *pos;
    bool neg = false;
    if (sign && p < len && (s[p] == '-' || s[p] == '+')) neg = s[p++] == '-';
    int64_t v = 0;
    int nd = 0;
    while (p < len && nd < max_digits && s[p] >= '0' && s[p] <= '9') {
        v = v * 10 + (s[p++] - '0');
        nd++;
    }
    if (nd < min_digits) return false;
    *out = neg ? -v : v;
    *pos = p;
    return true;
}

static int match_name(const char *s, int64_t len, int64_t *pos, const char *const *names,
                      int n_names) {
    for (int full = 1; full >= 0; full--) {
        for (int k = 0; k < n_names; k++) {
            size_t l = full ? strlen(names[k]) : 3;
            if (*pos + (int64_t)l <= len && !strncasecmp(s + *pos, names[k], l)) {
                *pos += (int64_t)l;
                return k;
            }
        }
    }
    return -1;
}

bool pl_time_format_parse(const pl_time_format *s, const char *str, int64_t len, int64_t *out_us,
                      const char **why) {
    int64_t pos = 0, y = 1900, m = 1, d = 1, h = 0, mi = 0, sec = 0, frac_us = 0, yday = -1;
    int64_t off_s = 0;
    bool pm = false, has_ampm = false, has_year = false;
    *why = "";
    while (pos < len && is_space(str[pos])) pos++;
    for (int32_t k = 0; k < s->n_items; k++) {
        const pl_fmt_item *it = &s->items[k];
        if (!it->spec) {
            for (int32_t c = 0; c < it->lit_len; c++) {
                char fc = s->fmt[it->lit_off + c];
                if (is_space(fc)) {
                    while (pos < len && is_space(str[pos])) pos++;
                    continue;
                }
                if (pos >= len || str[pos] != fc) {
                    *why = "literal does not match";
                    return false;
                }
                pos++;
            }
            continue;
        }
        int64_t v;
        switch (it->spec) {
        case 'Y':
            if (!read_int(str, len, &pos, 1, 6, true, &y)) { *why = "expected a year"; return false; }
            has_year = true;
            break;
        case 'y':
            if (!read_int(str, len, &pos, 1, 2, false, &v)) { *why = "expected a year"; return false; }
            y = v < 69 ? 2000 + v : 1900 + v;
            has_year = true;
            break;
        case 'G':
            if (!read_int(str, len, &pos, 1, 6, true, &y)) { *why = "expected a year"; return false; }
            break;
        case 'm':
            if (!read_int(str, len, &pos, 1, 2, false, &m)) { *why = "expected a month"; return false; }
            if (m < 1 || m > 12) { *why = "month out of range, expected a value between 1 and 12"; return false; }
            break;
        case 'd':
            if (!read_int(str, len, &pos, 1, 2, false, &d)) { *why = "expected a day"; return false; }
            if (d < 1 || d > 31) { *why = "day out of range, expected a value between 1 and 31"; return false; }
            break;
        case 'j':
            if (!read_int(str, len, &pos, 1, 3, false, &yday)) { *why = "expected a day of year"; return false; }
            if (yday < 1 || yday > 366) { *why = "day of year out of range"; return false; }
            break;
        case 'H':
            if (!read_int(str, len, &pos, 1, 2, false, &h)) { *why = "expected an hour"; return false; }
            if (h > 23) { *why = "hour out of range, expected a value between 0 and 23"; return false; }
            break;
        case 'I':
            if (!read_int(str, len, &pos, 1, 2, false, &h)) { *why = "expected an hour"; return false; }
            if (h < 1 || h > 12) { *why = "hour out of range, expected a value between 1 and 12"; return false; }
            break;
        case 'M':
            if (!read_int(str, len, &pos, 1, 2, false, &mi)) { *why = "expected a minute"; return false; }
            if (mi > 59) { *why = "minute out of range"; return false; }
            break;
        case 'S':
            if (!read_int(str, len, &pos, 1, 2, false, &sec)) { *why = "expected a second"; return false; }
            if (sec > 60) { *why = "second out of range"; return false; }
            break;
        case 'f': case 'g': case 'n': {
            int maxd = it->spec == 'g' ? 3 : it->spec == 'f' ? 6 : 9;
            int64_t p0 = pos;
            if (!read_int(str, len, &pos, 1, maxd, false, &v)) { *why = "expected a fraction"; return false; }
            int nd = (int)(pos - p0);
            int scale = it->spec == 'g' ? 3 : it->spec == 'f' ? 6 : 9;
            for (int z = nd; z < scale; z++) v *= 10;
            frac_us = it->spec == 'g' ? v * 1000 : it->spec == 'f' ? v : v / 1000;
            break;
        }
        case 'p':
            if (pos + 2 <= len && !strncasecmp(str + pos, "AM", 2)) pm = false;
            else if (pos + 2 <= len && !strncasecmp(str + pos, "PM", 2)) pm = true;
            else { *why = "expected AM or PM"; return false; }
            has_ampm = true;
            pos += 2;
            break;
        case 'b': case 'B': case 'h': {
            int k2 = match_name(str, len, &pos, pl_text_month_names, 12);
            if (k2 < 0) { *why = "expected a month name"; return false; }
            m = k2 + 1;
            break;
        }
        case 'a': case 'A':
            if (match_name(str, len, &pos, pl_text_day_names, 7) < 0) { *why = "expected a day name"; return false; }
            break;
        case 'w': case 'u':
            if (!read_int(str, len, &pos, 1, 1, false, &v)) { *why = "expected a weekday"; return false; }
            break;
        case 'U': case 'W': case 'V':
            if (!read_int(str, len, &pos, 1, 2, false, &v)) { *why = "expected a week"; return false; }
            break;
        case 'z': {
            if (pos < len && (str[pos] == 'Z' || str[pos] == 'z')) {
                pos++;
                off_s = 0;
                break;
            }
            if (pos >= len || (str[pos] != '+' && str[pos] != '-')) { *why = "expected a UTC offset"; return false; }
            int sign = str[pos++] == '-' ? -1 : 1;
            int64_t oh, om = 0;
            if (!read_int(str, len, &pos, 2, 2, false, &oh)) { *why = "expected a UTC offset"; return false; }
            if (pos < len && str[pos] == ':') pos++;
            if (pos < len && str[pos] >= '0' && str[pos] <= '9' &&
                !read_int(str, len, &pos, 2, 2, false, &om)) { *why = "expected a UTC offset"; return false; }
            off_s = sign * (oh * 3600 + om * 60);
            break;
        }
        case 'Z':
            while (pos < len && (isalnum_c(str[pos]) || str[pos] == '/' || str[pos] == '_' ||
                                 str[pos] == '+' || str[pos] == '-'))
                pos++;
            break;
        case 'c': case 'x': case 'X': case 'T': {
            /* composite: parse the pieces */
            if (it->spec == 'c' || it->spec == 'x') {
                if (!read_int(str, len, &pos, 1, 6, true, &y) || pos >= len || str[pos++] != '-' ||
                    !read_int(str, len, &pos, 1, 2, false, &m) || pos >= len || str[pos++] != '-' ||
                    !read_int(str, len, &pos, 1, 2, false, &d)) { *why = "expected a date"; return false; }
                has_year = true;
                if (it->spec == 'c') {
                    if (pos >= len || str[pos++] != ' ') { *why = "expected a space"; return false; }
                }
            }
            if (it->spec != 'x') {
                if (!read_int(str, len, &pos, 1, 2, false, &h) || pos >= len || str[pos++] != ':' ||
                    !read_int(str, len, &pos, 1, 2, false, &mi) || pos >= len || str[pos++] != ':' ||
                    !read_int(str, len, &pos, 1, 2, false, &sec)) { *why = "expected a time"; return false; }
            }
            break;
        }
        case '%':
            if (pos >= len || str[pos] != '%') { *why = "literal does not match"; return false; }
            pos++;
            break;
        default: break;
        }
    }
    while (pos < len && is_space(str[pos])) pos++;
    if (pos != len) {
        *why = "full specifier did not match: trailing characters";
        return false;
    }
    PL_UNUSED(has_year);
    if (has_ampm) {
        if (h == 12) h = 0;
        if (pm) h += 12;
    }
    int64_t day;
    if (yday > 0) {
        day = pl_text_days_from_civil(y, 1, 1) + yday - 1;
    } else {
        if (d > days_in_month(y, (int32_t)m)) {
            *why = "date out of range";
            return false;
        }
        day = pl_text_days_from_civil(y, (int32_t)m, (int32_t)d);
    }
    /* |day| is below 366 * 10^6 (6-digit years), so the seconds cannot overflow; the
     * microseconds can, for years beyond about 292,000 */
    int64_t secs = ((day * 24 + h) * 60 + mi) * 60 + sec - off_s, us;
    if (__builtin_mul_overflow(secs, (int64_t)US_PER_SEC, &us) ||
        __builtin_add_overflow(us, frac_us, out_us)) {
        *why = "timestamp out of range";
        return false;
    }
    return true;
}
