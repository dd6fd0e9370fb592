/* tz.c - time zones for the date/time functions: fixed offsets ("+05:30", "-08", "UTC") and
 * IANA zones read from the system's TZif files (RFC 8536; $TZDIR or /usr/share/zoneinfo).
 *
 * A zone is its transition list (UTC seconds -> local time type) plus the footer's POSIX TZ
 * rule ("EST5EDT,M3.2.0,M11.1.0") for instants after the last transition (slim TZif files
 * stop at the last rule change). Every count and index read from a file is checked against
 * the bytes present and against PL_TZ_MAX_* limits; a bad file is PL_ERR_CORRUPT.
 *
 * Zones are looked up once and cached for the life of the process (a mutex guards the
 * cache; zones are immutable once published, so readers need no lock). pl_tz_cache_reset
 * frees them (tests, shutdown; not while zones are in use). */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "io/text/text.h"

#define PL_TZ_MAX_FILE_BYTES (1 << 20)
#define PL_TZ_MAX_TRANSITIONS 100000
#define PL_TZ_MAX_TYPES 256
#define PL_TZ_MAX_NAME 128

typedef struct tz_rule_date {
    char kind; /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
    int32_t a, b, c;
    int32_t secs; /* local time of the change, seconds (may be negative or > 24h) */
} tz_rule_date;

typedef struct tz_rule {
    bool present, has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    char std_abbr[16], dst_abbr[16];
    tz_rule_date start, end;
} tz_rule;

struct pl_tz {
    char name[PL_TZ_MAX_NAME];
    bool fixed;
    int32_t fixed_off;
    char fixed_abbr[16];
    int32_t n_trans;
    int64_t *trans;     /* UTC seconds, ascending */
    uint8_t *trans_type;
    int32_t n_types;
    int32_t *type_off;
    char (*type_abbr)[16];
    tz_rule rule;
    struct pl_tz *next; /* cache list */
};

static pthread_mutex_t g_tz_lock = PTHREAD_MUTEX_INITIALIZER;
static pl_tz *g_tz_cache;

/* ---------------------------------------------------------------- POSIX TZ strings */

static int64_t floordiv(int64_t a, int64_t b) { /* b > 0 */
    int64_t q = a / b;
    return q - ((a % b) != 0 && (a < 0));
}
static int64_t floormod(int64_t a, int64_t b) { return a - floordiv(a, b) * b; }
static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static int32_t days_in_month(int64_t y, int32_t m) {
    return (int32_t)(pl_text_days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
                     pl_text_days_from_civil(y, m, 1));
}


static bool parse_abbr(const char **p, char *out, size_t out_size) {
    const char *s = *p;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while (*s && *s != '>') {
            if (n + 1 < out_size) out[n++] = *s;
            s++;
        }
        if (*s != '>') return false;
        s++;
    } else {
        while (isalpha((unsigned char)*s)) {
            if (n + 1 < out_size) out[n++] = *s;
            s++;
        }
    }
    out[n] = 0;
    *p = s;
    return n >= 1;
}

/* [+-]hh[:mm[:ss]] into seconds; max_hours bounds hh. */
static bool parse_hms(const char **p, int32_t max_hours, int32_t *out) {
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if (!isdigit((unsigned char)*s)) return false;
    int32_t h = 0, m = 0, sec = 0;
    while (isdigit((unsigned char)*s)) {
        h = h * 10 + (*s++ - '0');
        if (h > max_hours) return false;
    }
    if (*s == ':') {
        s++;
        if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return false;
        m = (s[0] - '0') * 10 + (s[1] - '0');
        s += 2;
        if (*s == ':') {
            s++;
            if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) return false;
            sec = (s[0] - '0') * 10 + (s[1] - '0');
            s += 2;
        }
    }
    if (m > 59 || sec > 59) return false;
    *out = sign * (h * 3600 + m * 60 + sec);
    *p = s;
    return true;
}

static bool parse_num(const char **p, int32_t lo, int32_t hi, int32_t *out) {
    const char *s = *p;
    if (!isdigit((unsigned char)*s)) return false;
    int32_t v = 0;
    while (isdigit((unsigned char)*s)) {
        v = v * 10 + (*s++ - '0');
        if (v > hi) return false;
    }
    if (v < lo) return false;
    *out = v;
    *p = s;
    return true;
}

static bool parse_rule_date(const char **p, tz_rule_date *d) {
    const char *s = *p;
    if (*s == 'J') {
        s++;
        d->kind = 'J';
        if (!parse_num(&s, 1, 365, &d->a)) return false;
    } else if (*s == 'M') {
        s++;
        d->kind = 'M';
        if (!parse_num(&s, 1, 12, &d->a) || *s++ != '.') return false;
        if (!parse_num(&s, 1, 5, &d->b) || *s++ != '.') return false;
        if (!parse_num(&s, 0, 6, &d->c)) return false;
    } else {
        d->kind = 'D';
        if (!parse_num(&s, 0, 365, &d->a)) return false;
    }
    d->secs = 7200;
    if (*s == '/') {
        s++;
        if (!parse_hms(&s, 167, &d->secs)) return false;
    }
    *p = s;
    return true;
}

/* Parses a POSIX TZ string (RFC 8536 section 3.3). Offsets are stored east of UTC. */
static bool parse_posix_tz(const char *s, tz_rule *r) {
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!parse_abbr(&s, r->std_abbr, sizeof r->std_abbr)) return false;
    if (!parse_hms(&s, 24, &off)) return false;
    r->std_off = -off;
    r->present = true;
    if (!*s) return true;
    if (!parse_abbr(&s, r->dst_abbr, sizeof r->dst_abbr)) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s && *s != ',') {
        if (!parse_hms(&s, 24, &off)) return false;
        r->dst_off = -off;
    }
    if (*s != ',') {
        /* no rule given: the US rules (POSIX default) */
        r->start = (tz_rule_date){'M', 3, 2, 0, 7200};
        r->end = (tz_rule_date){'M', 11, 1, 0, 7200};
        return *s == 0;
    }
    s++;
    if (!parse_rule_date(&s, &r->start) || *s++ != ',') return false;
    if (!parse_rule_date(&s, &r->end)) return false;
    return *s == 0;
}

/* Day (days since the epoch) of a rule date in year y. */
static int64_t rule_day(const tz_rule_date *d, int64_t y) {
    int64_t jan1 = pl_text_days_from_civil(y, 1, 1);
    if (d->kind == 'J') {
        int64_t day = d->a - 1;
        if (is_leap(y) && d->a >= 60) day++;
        return jan1 + day;
    }
    if (d->kind == 'D') return jan1 + d->a;
    /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
    int64_t first = pl_text_days_from_civil(y, d->a, 1);
    int64_t dow = floormod(first + 4, 7); /* 1970-01-01 was a Thursday */
    int64_t day = first + floormod(d->c - dow, 7) + (int64_t)(d->b - 1) * 7;
    int64_t dim = days_in_month(y, d->a);
    while (day >= first + dim) day -= 7;
    return day;
}

/* The offset in effect at UTC second t under rule r, and the range [lo, hi) around t where
 * it holds (conservative). */
static int32_t rule_offset(const tz_rule *r, int64_t t, int64_t *lo, int64_t *hi) {
    if (!r->has_dst) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        return r->std_off;
    }
    int64_t y;
    int32_t m, d;
    pl_text_civil_from_days(floordiv(t + r->std_off, 86400), &y, &m, &d);
    /* DST starts at the start rule's local standard time, ends at the end rule's local DST
     * time; look at this year's and the neighbours' changes. */
    int64_t best_lo = INT64_MIN, best_hi = INT64_MAX;
    int32_t off = r->std_off;
    int64_t changes[6];
    bool to_dst[6];
    int n = 0;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        changes[n] = rule_day(&r->start, yy) * 86400 + r->start.secs - r->std_off;
        to_dst[n++] = true;
        changes[n] = rule_day(&r->end, yy) * 86400 + r->end.secs - r->dst_off;
        to_dst[n++] = false;
    }
    /* sort the six changes (insertion sort) */
    for (int i = 1; i < n; i++) {
        for (int k = i; k > 0 && changes[k] < changes[k - 1]; k--) {
            int64_t tc = changes[k];
            changes[k] = changes[k - 1];
            changes[k - 1] = tc;
            bool tb = to_dst[k];
            to_dst[k] = to_dst[k - 1];
            to_dst[k - 1] = tb;
        }
    }
    int last = -1;
    for (int i = 0; i < n; i++)
        if (changes[i] <= t) last = i;
    if (last >= 0) {
        off = to_dst[last] ? r->dst_off : r->std_off;
        best_lo = changes[last];
    } else {
        /* before the first change considered: the opposite of the first change's target */
        off = to_dst[0] ? r->std_off : r->dst_off;
    }
    if (last + 1 < n) best_hi = changes[last + 1];
    *lo = best_lo;
    *hi = best_hi;
    return off;
}

/* ---------------------------------------------------------------- TZif */

static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static int64_t be64(const uint8_t *p) {
    return (int64_t)(((uint64_t)be32(p) << 32) | be32(p + 4));
}

typedef struct tzif_counts {
    uint32_t isut, isstd, leap, time, type, chars;
} tzif_counts;

static bool read_header(const uint8_t *p, int64_t n, tzif_counts *c, int *version) {
    if (n < 44 || memcmp(p, "TZif", 4) != 0) return false;
    *version = p[4] == 0 ? 1 : p[4] - '0';
    c->isut = be32(p + 20);
    c->isstd = be32(p + 24);
    c->leap = be32(p + 28);
    c->time = be32(p + 32);
    c->type = be32(p + 36);
    c->chars = be32(p + 40);
    return true;
}

static int64_t block_bytes(const tzif_counts *c, int time_size) {
    return (int64_t)c->time * time_size + c->time + (int64_t)c->type * 6 + c->chars +
           (int64_t)c->leap * (time_size + 4) + c->isstd + c->isut;
}

static void tz_free(pl_tz *z) {
    if (!z) return;
    pl_free(z->trans);
    pl_free(z->trans_type);
    pl_free(z->type_off);
    pl_free(z->type_abbr);
    pl_free(z);
}

static pl_status parse_tzif(const char *name, const uint8_t *p, int64_t n, pl_tz *z,
                            pl_error *err) {
    tzif_counts c;
    int version;
    if (!read_header(p, n, &c, &version))
        PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": not a TZif file", name);
    int time_size = 4;
    const uint8_t *h = p;
    int64_t rest = n;
    if (c.time > PL_TZ_MAX_TRANSITIONS || c.type > PL_TZ_MAX_TYPES || c.chars > 4096 ||
        c.leap > 10000 || c.isstd > PL_TZ_MAX_TYPES || c.isut > PL_TZ_MAX_TYPES)
        PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": TZif counts out of range", name);
    if (version >= 2) {
        /* skip the version 1 block, read the 64-bit one */
        int64_t skip = 44 + block_bytes(&c, 4);
        if (skip > rest) PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": truncated TZif file", name);
        h = p + skip;
        rest -= skip;
        if (!read_header(h, rest, &c, &version))
            PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": bad second TZif header", name);
        time_size = 8;
        if (c.time > PL_TZ_MAX_TRANSITIONS || c.type > PL_TZ_MAX_TYPES || c.chars > 4096 ||
            c.leap > 10000 || c.isstd > PL_TZ_MAX_TYPES || c.isut > PL_TZ_MAX_TYPES)
            PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": TZif counts out of range", name);
    }
    if (c.type == 0 || c.chars == 0)
        PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": TZif file without time types", name);
    int64_t need = block_bytes(&c, time_size);
    if (need > rest - 44) PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": truncated TZif file", name);
    const uint8_t *q = h + 44;
    z->n_trans = (int32_t)c.time;
    z->n_types = (int32_t)c.type;
    z->trans = pl_malloc(sizeof(int64_t) * (c.time ? c.time : 1));
    z->trans_type = pl_malloc(c.time ? c.time : 1);
    z->type_off = pl_malloc(sizeof(int32_t) * c.type);
    z->type_abbr = pl_malloc(sizeof *z->type_abbr * c.type);
    if (!z->trans || !z->trans_type || !z->type_off || !z->type_abbr)
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory loading time zone \"%s\"", name);
    for (uint32_t i = 0; i < c.time; i++) {
        z->trans[i] = time_size == 8 ? be64(q + (int64_t)i * 8) : (int32_t)be32(q + (int64_t)i * 4);
        if (i > 0 && z->trans[i] <= z->trans[i - 1])
            PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": transitions out of order", name);
    }
    q += (int64_t)c.time * time_size;
    for (uint32_t i = 0; i < c.time; i++) {
        if (q[i] >= c.type)
            PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": transition type out of range", name);
        z->trans_type[i] = q[i];
    }
    q += c.time;
    const uint8_t *types = q;
    const char *chars = (const char *)(q + (int64_t)c.type * 6);
    for (uint32_t i = 0; i < c.type; i++) {
        int32_t off = (int32_t)be32(types + i * 6);
        uint8_t idx = types[i * 6 + 5];
        if (off < -25 * 3600 || off > 26 * 3600 || idx >= c.chars)
            PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": bad local time type", name);
        z->type_off[i] = off;
        size_t k = 0;
        while (idx + k < c.chars && chars[idx + k] && k + 1 < sizeof z->type_abbr[0]) {
            z->type_abbr[i][k] = chars[idx + k];
            k++;
        }
        z->type_abbr[i][k] = 0;
    }
    q = h + 44 + need;
    /* footer: \n TZ string \n */
    if (version >= 2 && q < p + n && *q == '\n') {
        const uint8_t *e = memchr(q + 1, '\n', (size_t)(p + n - (q + 1)));
        if (e && e - q - 1 < 128) {
            char tzs[128];
            memcpy(tzs, q + 1, (size_t)(e - q - 1));
            tzs[e - q - 1] = 0;
            if (tzs[0] && !parse_posix_tz(tzs, &z->rule))
                PL_FAIL(err, PL_ERR_CORRUPT, "time zone \"%s\": bad TZ rule \"%s\"", name, tzs);
        }
    }
    return PL_OK;
}

/* "+05:30", "-08", "+0530", "UTC", "Z", "GMT": fixed offsets. */
static bool parse_fixed(const char *s, int32_t *off) {
    if (!strcasecmp(s, "UTC") || !strcasecmp(s, "Z") || !strcasecmp(s, "GMT") ||
        !strcasecmp(s, "Etc/UTC") || !strcasecmp(s, "Zulu")) {
        *off = 0;
        return true;
    }
    if (*s != '+' && *s != '-') return false;
    int sign = *s == '-' ? -1 : 1;
    s++;
    int digits[4], nd = 0;
    bool colon = false;
    for (; *s; s++) {
        if (*s == ':' && nd == 2 && !colon) {
            colon = true;
            continue;
        }
        if (!isdigit((unsigned char)*s) || nd == 4) return false;
        digits[nd++] = *s - '0';
    }
    if (nd != 2 && nd != 4) return false;
    if (colon && nd != 4) return false;
    int32_t h = digits[0] * 10 + digits[1], m = nd == 4 ? digits[2] * 10 + digits[3] : 0;
    if (h > 18 || m > 59) return false;
    *off = sign * (h * 3600 + m * 60);
    return true;
}

static bool valid_zone_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= PL_TZ_MAX_NAME || s[0] == '/' || strstr(s, "..")) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(isalnum((unsigned char)c) || c == '/' || c == '_' || c == '-' || c == '+'))
            return false;
    }
    return true;
}

static pl_status load_zone(const char *name, pl_tz **out, pl_error *err) {
    pl_tz *z = pl_calloc(1, sizeof *z);
    if (!z) PL_FAIL(err, PL_ERR_NOMEM, "out of memory loading time zone \"%s\"", name);
    snprintf(z->name, sizeof z->name, "%s", name);
    int32_t off;
    if (parse_fixed(name, &off)) {
        z->fixed = true;
        z->fixed_off = off;
        if (off == 0) {
            snprintf(z->fixed_abbr, sizeof z->fixed_abbr, "UTC");
        } else {
            int32_t a = off < 0 ? -off : off;
            if (a % 3600)
                snprintf(z->fixed_abbr, sizeof z->fixed_abbr, "%c%02d:%02d", off < 0 ? '-' : '+',
                         a / 3600, a % 3600 / 60);
            else
                snprintf(z->fixed_abbr, sizeof z->fixed_abbr, "%c%02d", off < 0 ? '-' : '+', a / 3600);
        }
        *out = z;
        return PL_OK;
    }
    if (!valid_zone_name(name)) {
        pl_free(z);
        PL_FAIL(err, PL_ERR_NOT_FOUND, "unknown time zone \"%s\"", name);
    }
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = "/usr/share/zoneinfo";
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    pl_buf *buf = NULL;
    pl_error tmp;
    pl_error_init(&tmp);
    pl_status rd = pl_file_read_all(path, &buf, &tmp);
    if (rd != PL_OK) {
        pl_free(z);
        if (rd == PL_ERR_NOMEM) PL_FAIL(err, PL_ERR_NOMEM, "out of memory loading time zone \"%s\"", name);
        PL_FAIL(err, PL_ERR_NOT_FOUND, "unknown time zone \"%s\"", name);
    }
    pl_status st = PL_OK;
    if (buf->size > PL_TZ_MAX_FILE_BYTES)
        st = pl_error_set(err, PL_ERR_CORRUPT, "time zone \"%s\": TZif file too large", name);
    else
        st = parse_tzif(name, buf->data, buf->size, z, err);
    pl_buf_release(buf);
    if (st) {
        tz_free(z);
        return st;
    }
    *out = z;
    return PL_OK;
}

pl_status pl_tz_lookup(const char *name, const pl_tz **out, pl_error *err) {
    if (!name) PL_FAIL(err, PL_ERR_INVALID_ARG, "no time zone name");
    pthread_mutex_lock(&g_tz_lock);
    for (pl_tz *z = g_tz_cache; z; z = z->next) {
        if (!strcmp(z->name, name)) {
            pthread_mutex_unlock(&g_tz_lock);
            *out = z;
            return PL_OK;
        }
    }
    pl_tz *z = NULL;
    pl_status st = load_zone(name, &z, err);
    if (!st) {
        z->next = g_tz_cache;
        g_tz_cache = z;
        *out = z;
    }
    pthread_mutex_unlock(&g_tz_lock);
    return st;
}

void pl_tz_cache_reset(void) {
    pthread_mutex_lock(&g_tz_lock);
    pl_tz *z = g_tz_cache;
    g_tz_cache = NULL;
    pthread_mutex_unlock(&g_tz_lock);
    while (z) {
        pl_tz *next = z->next;
        tz_free(z);
        z = next;
    }
}

/* ---------------------------------------------------------------- queries */

int32_t pl_tz_offset_range(const pl_tz *tz, int64_t t, int64_t *lo, int64_t *hi) {
    if (tz->fixed) {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
        return tz->fixed_off;
    }
    if (tz->n_trans == 0 || t < tz->trans[0]) {
        if (tz->n_trans == 0 && tz->rule.present) return rule_offset(&tz->rule, t, lo, hi);
        *lo = INT64_MIN;
        *hi = tz->n_trans ? tz->trans[0] : INT64_MAX;
        return tz->type_off[0];
    }
    int32_t a = 0, b = tz->n_trans - 1; /* last transition <= t */
    while (a < b) {
        int32_t mid = a + (b - a + 1) / 2;
        if (tz->trans[mid] <= t) a = mid;
        else b = mid - 1;
    }
    if (a == tz->n_trans - 1 && tz->rule.present) {
        int32_t off = rule_offset(&tz->rule, t, lo, hi);
        if (*lo < tz->trans[a]) *lo = tz->trans[a];
        return off;
    }
    *lo = tz->trans[a];
    *hi = a + 1 < tz->n_trans ? tz->trans[a + 1] : INT64_MAX;
    return tz->type_off[tz->trans_type[a]];
}

int32_t pl_tz_offset_at_utc(const pl_tz *tz, int64_t t) {
    int64_t lo, hi;
    return pl_tz_offset_range(tz, t, &lo, &hi);
}

int32_t pl_tz_offset_for_local(const pl_tz *tz, int64_t local_t) {
    if (tz->fixed) return tz->fixed_off;
    int32_t early = pl_tz_offset_at_utc(tz, local_t - 86400);
    int32_t late = pl_tz_offset_at_utc(tz, local_t + 86400);
    if (early == late) {
        /* one offset around; still check the exact instant (transitions closer than 2 days) */
        int32_t at = pl_tz_offset_at_utc(tz, local_t - early);
        return at == early ? early : at;
    }
    bool early_ok = pl_tz_offset_at_utc(tz, local_t - early) == early;
    bool late_ok = pl_tz_offset_at_utc(tz, local_t - late) == late;
    if (early_ok && late_ok) return late; /* overlap: the later instant (offset after) */
    if (late_ok) return late;
    if (early_ok) return early;
    return early; /* gap: the offset before the transition */
}

const char *pl_tz_abbrev_at_utc(const pl_tz *tz, int64_t t) {
    if (tz->fixed) return tz->fixed_abbr;
    if (tz->n_trans == 0 || t < tz->trans[0]) {
        if (tz->n_trans == 0 && tz->rule.present) {
            int64_t lo, hi;
            int32_t off = rule_offset(&tz->rule, t, &lo, &hi);
            return tz->rule.has_dst && off == tz->rule.dst_off ? tz->rule.dst_abbr
                                                               : tz->rule.std_abbr;
        }
        return tz->type_abbr[0];
    }
    int32_t a = 0, b = tz->n_trans - 1;
    while (a < b) {
        int32_t mid = a + (b - a + 1) / 2;
        if (tz->trans[mid] <= t) a = mid;
        else b = mid - 1;
    }
    if (a == tz->n_trans - 1 && tz->rule.present) {
        int64_t lo, hi;
        int32_t off = rule_offset(&tz->rule, t, &lo, &hi);
        return tz->rule.has_dst && off == tz->rule.dst_off ? tz->rule.dst_abbr : tz->rule.std_abbr;
    }
    return tz->type_abbr[tz->trans_type[a]];
}

bool pl_tz_is_fixed(const pl_tz *tz, int32_t *offset_s) {
    if (tz->fixed && offset_s) *offset_s = tz->fixed_off;
    return tz->fixed;
}

const char *pl_tz_name(const pl_tz *tz) { return tz->name; }
