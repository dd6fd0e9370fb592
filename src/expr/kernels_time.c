/* kernels_time.c - the date/time function set (pl_funcs_time): extract/date_part and the
 * single-part shorthands (year(), hour(), ...), date_trunc, time_bucket, date_diff, now,
 * current_date, timezone (AT TIME ZONE), epoch/epoch_ms/epoch_us/epoch_ns, to_timestamp,
 * make_date, make_timestamp, make_time, last_day, dayname/monthname, date_add; strftime/strptime and the temporal +/- operators live
 * in time_fmt.c and time_arith.c.
 *
 * Timestamps are int64 counts of their unit since the epoch; a zoned timestamp (type->tz set)
 * is a UTC instant, and the calendar functions work in that zone's local time (offsets from
 * tz.c, cached per range of constant offset so sorted data costs one lookup per transition).
 * time_bucket follows DuckDB: on zoned timestamps it buckets UTC instants unless a zone is
 * given as third argument. Dates are days; date arguments are converted to timestamp[us].
 *
 * Speed: the hot paths (date_trunc to a fixed unit, time_bucket with a fixed width, extract of
 * time-of-day parts, on timestamp[us]) are branch-free integer loops with compile-time
 * divisors for the common widths; calendar parts use integer civil-from-days arithmetic with
 * a one-day memo (no libc time functions per row). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr/funcs_int.h"
#include "expr/time_int.h"

#define no_function pl_fn_no_function

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }

/* ---------------------------------------------------------------- date parts */

typedef struct part_name {
    const char *name;
    int part;
} part_name;

static const part_name g_parts[] = {
    {"year", PT_YEAR}, {"years", PT_YEAR}, {"y", PT_YEAR}, {"yr", PT_YEAR}, {"yrs", PT_YEAR},
    {"quarter", PT_QUARTER}, {"quarters", PT_QUARTER},
    {"month", PT_MONTH}, {"months", PT_MONTH}, {"mon", PT_MONTH}, {"mons", PT_MONTH},
    {"week", PT_WEEK}, {"weeks", PT_WEEK}, {"w", PT_WEEK}, {"weekofyear", PT_WEEK},
    {"day", PT_DAY}, {"days", PT_DAY}, {"d", PT_DAY}, {"dayofmonth", PT_DAY},
    {"dayofweek", PT_DOW}, {"dow", PT_DOW}, {"weekday", PT_DOW},
    {"isodow", PT_ISODOW},
    {"dayofyear", PT_DOY}, {"doy", PT_DOY},
    {"hour", PT_HOUR}, {"hours", PT_HOUR}, {"h", PT_HOUR}, {"hr", PT_HOUR}, {"hrs", PT_HOUR},
    {"minute", PT_MINUTE}, {"minutes", PT_MINUTE}, {"m", PT_MINUTE}, {"min", PT_MINUTE},
    {"mins", PT_MINUTE},
    {"second", PT_SECOND}, {"seconds", PT_SECOND}, {"s", PT_SECOND}, {"sec", PT_SECOND},
    {"secs", PT_SECOND},
    {"millisecond", PT_MS}, {"milliseconds", PT_MS}, {"ms", PT_MS}, {"msec", PT_MS},
    {"msecs", PT_MS},
    {"microsecond", PT_US}, {"microseconds", PT_US}, {"us", PT_US}, {"usec", PT_US},
    {"usecs", PT_US},
    {"nanosecond", PT_NS}, {"nanoseconds", PT_NS}, {"ns", PT_NS},
    {"epoch", PT_EPOCH},
    {"isoyear", PT_ISOYEAR},
    {"decade", PT_DECADE}, {"decades", PT_DECADE}, {"dec", PT_DECADE},
    {"century", PT_CENTURY}, {"centuries", PT_CENTURY}, {"c", PT_CENTURY},
    {"millennium", PT_MILLENNIUM}, {"millennia", PT_MILLENNIUM}, {"mil", PT_MILLENNIUM},
    {"yearweek", PT_YEARWEEK},
    {"era", PT_ERA},
    {"julian", PT_JULIAN},
    {"timezone", PT_TZ}, {"timezone_hour", PT_TZ_HOUR}, {"timezone_minute", PT_TZ_MINUTE},
};

int pl_time_part_from_name(const char *s, int64_t len) {
    char buf[32];
    if (len <= 0 || len >= (int64_t)sizeof buf) return -1;
    for (int64_t i = 0; i < len; i++) buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
    buf[len] = 0;
    for (size_t i = 0; i < PL_ARRAY_LEN(g_parts); i++)
        if (!strcmp(g_parts[i].name, buf)) return g_parts[i].part;
    return -1;
}

/* The part named by a literal argument, or an error. */
static pl_status literal_part(const pl_bexpr *call, int32_t arg, int *part, pl_error *err) {
    const pl_bexpr *a = call->args[arg];
    if (a->kind != PL_BEXPR_LIT || a->lit.type->id != PL_TYPE_UTF8 || a->lit.is_null)
        PL_FAIL(err, PL_ERR_SQL, "%s: the date part must be a constant string", call->fn->name);
    int p = pl_time_part_from_name(a->lit.str, a->lit.str_len);
    if (p < 0) PL_FAIL(err, PL_ERR_SQL, "unknown date part '%.*s'", (int)PL_MIN(a->lit.str_len, 64), a->lit.str);
    *part = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- state */

static void tstate_free(void *p) {
    pl_time_state *s = p;
    if (!s) return;
    pl_time_format_reset(&s->tf);
    pl_free(s);
}

pl_status pl_time_state_new(pl_bexpr *call, pl_time_state **out, pl_error *err) {
    pl_time_state *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding %s", call->fn->name);
    call->state = s;
    call->free_state = tstate_free;
    *out = s;
    return PL_OK;
}

pl_status pl_time_zone_of(const pl_type *t, const pl_tz **tz, pl_error *err) {
    *tz = NULL;
    if (t->id != PL_TYPE_TIMESTAMP || !t->tz) return PL_OK;
    const pl_tz *z;
    PL_TRY(pl_tz_lookup(t->tz, &z, err));
    int32_t off;
    if (pl_tz_is_fixed(z, &off) && off == 0) return PL_OK; /* UTC: no conversion */
    *tz = z;
    return PL_OK;
}

/* ---------------------------------------------------------------- input */

/* The values of a timestamp/date argument as int64 timestamps: a pointer into the array for
 * TIMESTAMP (no copy), or a converted copy (*owned) for DATE32 (-> microseconds). */
static pl_status ts_values(const pl_array *a, const int64_t **v, int64_t **owned, pl_error *err) {
    *owned = NULL;
    if (a->type->id == PL_TYPE_TIMESTAMP || a->type->id == PL_TYPE_TIME64) {
        *v = pl_array_values_ptr(a);
        return PL_OK;
    }
    int64_t n = a->length;
    int64_t *o = pl_malloc((size_t)(n > 0 ? n : 1) * 8);
    if (!o) PL_FAIL(err, PL_ERR_NOMEM, "out of memory converting dates");
    if (a->type->id == PL_TYPE_DATE32) {
        const int32_t *d = pl_array_values_ptr(a);
        for (int64_t i = 0; i < n; i++) {
            /* a date past about 292000 years has no microsecond timestamp: an error (the
             * product overflowed), a NULL slot's value is ignored */
            if (__builtin_mul_overflow((int64_t)d[i], PL_US_PER_DAY, &o[i])) {
                o[i] = 0;
                if (pl_array_is_valid(a, i)) {
                    pl_free(o);
                    PL_FAIL(err, PL_ERR_INVALID_ARG, "date out of the timestamp range at row %lld",
                            (long long)i);
                }
            }
        }
    } else {
        memset(o, 0, (size_t)n * 8);
    }
    *owned = o;
    *v = o;
    return PL_OK;
}

/* The start of a kernel over a's timestamps (dates as microseconds): a's validity copied,
 * room for n values of width bytes, and a's values as int64 (ts_values: *owned to free). */
static pl_status ts_kernel_start(const pl_array *a, int64_t n, int32_t width, pl_buf **validity,
                                 pl_buf **values, const int64_t **t, int64_t **owned,
                                 pl_error *err) {
    pl_buf *vd, *vs;
    PL_TRY(pl_fn_new_result(a, n, width, &vd, &vs, err));
    pl_status st = ts_values(a, t, owned, err);
    if (st) {
        pl_buf_release(vd);
        pl_buf_release(vs);
        return st;
    }
    *validity = vd;
    *values = vs;
    return PL_OK;
}

/* Unit per second of a temporal type (dates are handled as microseconds). */
int64_t pl_time_per_sec(const pl_type *t) {
    if (t->id == PL_TYPE_TIMESTAMP || t->id == PL_TYPE_TIME64) return pl_fn_unit_per_sec(t->unit);
    return PL_US_PER_SEC;
}

/* ---------------------------------------------------------------- calendar fields */

typedef struct civil {
    int64_t y;
    int32_t m, d;
    int64_t day; /* days since the epoch */
} civil;

static inline void civil_of(int64_t day, civil *c) {
    c->day = day;
    pl_fn_civil_from_days(day, &c->y, &c->m, &c->d);
}

/* ISO 8601 week and week-year of a day. */
static inline void iso_week(int64_t day, int64_t *iso_year, int64_t *week) {
    int64_t wd = pl_fn_floormod(day + 3, 7); /* 0 = Monday */
    int64_t thursday = day - wd + 3;
    int64_t y;
    int32_t m, d;
    pl_fn_civil_from_days(thursday, &y, &m, &d);
    int64_t jan1 = pl_fn_days_from_civil(y, 1, 1);
    *iso_year = y;
    *week = (thursday - jan1) / 7 + 1;
}

/* Monday of ISO week 1 of iso year y. */
static inline int64_t iso_year_start(int64_t y) {
    int64_t jan4 = pl_fn_days_from_civil(y, 1, 4);
    return jan4 - pl_fn_floormod(jan4 + 3, 7);
}

/* Integer part value from civil fields and the time of day (in units). */
static inline int64_t part_value(int part, const civil *c, int64_t tod, int64_t per_sec,
                                 int64_t off_s) {
    switch (part) {
    case PT_YEAR: return c->y;
    case PT_QUARTER: return (c->m - 1) / 3 + 1;
    case PT_MONTH: return c->m;
    case PT_DAY: return c->d;
    case PT_DOW: return pl_fn_floormod(c->day + 4, 7);
    case PT_ISODOW: return pl_fn_floormod(c->day + 3, 7) + 1;
    case PT_DOY: return c->day - pl_fn_days_from_civil(c->y, 1, 1) + 1;
    case PT_WEEK: {
        int64_t iy, w;
        iso_week(c->day, &iy, &w);
        return w;
    }
    case PT_ISOYEAR: {
        int64_t iy, w;
        iso_week(c->day, &iy, &w);
        return iy;
    }
    case PT_YEARWEEK: {
        int64_t iy, w;
        iso_week(c->day, &iy, &w);
        return iy * 100 + w;
    }
    case PT_DECADE: return pl_fn_floordiv(c->y, 10);
    case PT_CENTURY: return c->y > 0 ? (c->y - 1) / 100 + 1 : -((-c->y) / 100 + 1);
    case PT_MILLENNIUM: return c->y > 0 ? (c->y - 1) / 1000 + 1 : -((-c->y) / 1000 + 1);
    case PT_ERA: return c->y > 0 ? 1 : 0;
    case PT_HOUR: return tod / (3600 * per_sec);
    case PT_MINUTE: return tod / (60 * per_sec) % 60;
    case PT_SECOND: return tod / per_sec % 60;
    case PT_MS: return tod % (60 * per_sec) * 1000 / per_sec;
    case PT_US: return per_sec >= 1000000 ? tod % (60 * per_sec) / (per_sec / 1000000)
                                          : tod % (60 * per_sec) * (1000000 / per_sec);
    case PT_NS: return per_sec >= 1000000000 ? tod % (60 * per_sec)
                                             : tod % (60 * per_sec) * (1000000000 / per_sec);
    case PT_TZ: return off_s;
    case PT_TZ_HOUR: return off_s / 3600;
    case PT_TZ_MINUTE: return off_s / 60 % 60;
    default: return 0;
    }
}

static bool part_is_double(int part) { return part == PT_EPOCH || part == PT_JULIAN; }
static bool part_is_time_of_day(int part) {
    return part == PT_HOUR || part == PT_MINUTE || part == PT_SECOND || part == PT_MS ||
           part == PT_US || part == PT_NS;
}

/* ---------------------------------------------------------------- local time */

void pl_tz_cursor_init(pl_tz_cursor *c, const pl_tz *tz, int64_t per_sec) {
    c->tz = tz;
    c->per_sec = per_sec;
    c->lo = 1;
    c->hi = 0; /* empty: the first lookup fills it */
    c->off_s = 0;
    c->last_local = INT64_MIN;
    c->last_utc = 0;
}

/* ---------------------------------------------------------------- extract */

static pl_status bind_extract_common(pl_bexpr *call, int part, int32_t xarg, pl_error *err) {
    const pl_type *t = call->args[xarg]->type;
    pl_type_id id = t->id;
    if (id == PL_TYPE_NA) id = PL_TYPE_TIMESTAMP;
    bool ok = id == PL_TYPE_TIMESTAMP || id == PL_TYPE_DATE32 ||
              (id == PL_TYPE_TIME64 && (part_is_time_of_day(part) || part == PT_EPOCH)) ||
              (id == PL_TYPE_INTERVAL &&
               (part == PT_YEAR || part == PT_MONTH || part == PT_DAY || part == PT_HOUR ||
                part == PT_MINUTE || part == PT_SECOND || part == PT_MS || part == PT_US ||
                part == PT_EPOCH || part == PT_QUARTER || part == PT_DECADE ||
                part == PT_CENTURY || part == PT_MILLENNIUM));
    if (!ok) {
        if (id == PL_TYPE_TIMESTAMP || id == PL_TYPE_DATE32 || id == PL_TYPE_TIME64 ||
            id == PL_TYPE_INTERVAL) {
            char tn[64];
            pl_type_to_string(t, tn, sizeof tn);
            PL_FAIL(err, PL_ERR_TYPE, "%s: date part not supported for %s", call->fn->name, tn);
        }
        return no_function(call, err);
    }
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    s->part = part;
    PL_TRY(pl_time_zone_of(t, &s->tz, err));
    call->type = ty(part_is_double(part) ? PL_TYPE_FLOAT64 : PL_TYPE_INT64);
    return PL_OK;
}

static pl_status bind_extract(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id != PL_TYPE_UTF8) return no_function(call, err);
    int part;
    PL_TRY(literal_part(call, 0, &part, err));
    return bind_extract_common(call, part, 1, err);
}

/* year(x), hour(x), ...: the part is the function's name. */
static pl_status bind_part_fn(pl_bexpr *call, pl_error *err) {
    int part = pl_time_part_from_name(call->fn->name, (int64_t)strlen(call->fn->name));
    if (part < 0) PL_FAIL(err, PL_ERR_INTERNAL, "no date part for %s", call->fn->name);
    return bind_extract_common(call, part, 0, err);
}

static inline __attribute__((always_inline)) void extract_loop(int part, const int64_t *t,
                                                               int64_t n, int64_t per_sec,
                                                               pl_tz_cursor *cur, int64_t *o) {
    int64_t per_day = per_sec * 86400;
    if (!cur->tz && part_is_time_of_day(part)) {
        /* one loop per part so each is a straight-line body with constant divisors */
#define TOD_LOOP(EXPR)                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                              \
        int64_t tod = t[i] % per_day;                                                              \
        tod += (tod >> 63) & per_day;                                                              \
        o[i] = (EXPR);                                                                             \
    }
        switch (part) {
        case PT_HOUR: TOD_LOOP(tod / (3600 * per_sec)); break;
        case PT_MINUTE: TOD_LOOP(tod % (3600 * per_sec) / (60 * per_sec)); break;
        case PT_SECOND: TOD_LOOP(tod % (60 * per_sec) / per_sec); break;
        default: TOD_LOOP(part_value(part, NULL, tod, per_sec, 0)); break;
        }
#undef TOD_LOOP
        return;
    }
    civil c;
    int64_t last_day = INT64_MIN;
    c.y = 1970;
    c.m = c.d = 1;
    c.day = 0;
    int64_t last_v = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t lt = cur->tz ? pl_tz_local(cur, t[i]) : t[i];
        int64_t day = pl_fn_floordiv(lt, per_day);
        int64_t tod = pl_fn_floormod(lt, per_day); /* lt - day * per_day overflows near INT64_MIN */
        if (part_is_time_of_day(part) || part == PT_TZ || part == PT_TZ_HOUR ||
            part == PT_TZ_MINUTE) {
            o[i] = part_value(part, &c, tod, per_sec, cur->off_s);
            continue;
        }
        if (day != last_day) {
            civil_of(day, &c);
            last_day = day;
            last_v = part_value(part, &c, 0, per_sec, 0);
        }
        o[i] = last_v;
    }
}

static void extract_interval(int part, const pl_array *a, int64_t n, int64_t *o, double *od) {
    const uint8_t *p = a->values->data + a->offset * 16;
    for (int64_t i = 0; i < n; i++) {
        int32_t months, days;
        int64_t ns;
        memcpy(&months, p + i * 16, 4);
        memcpy(&days, p + i * 16 + 4, 4);
        memcpy(&ns, p + i * 16 + 8, 8);
        int64_t v = 0;
        switch (part) {
        case PT_YEAR: v = months / 12; break;
        case PT_QUARTER: v = months % 12 / 3 + 1; break;
        case PT_MONTH: v = months % 12; break;
        case PT_DECADE: v = months / 120; break;
        case PT_CENTURY: v = months / 1200; break;
        case PT_MILLENNIUM: v = months / 12000; break;
        case PT_DAY: v = days; break;
        case PT_HOUR: v = ns / INT64_C(3600000000000); break;
        case PT_MINUTE: v = ns / INT64_C(60000000000) % 60; break;
        case PT_SECOND: v = ns / INT64_C(1000000000) % 60; break;
        case PT_MS: v = ns % INT64_C(60000000000) / 1000000; break;
        case PT_US: v = ns % INT64_C(60000000000) / 1000; break;
        case PT_EPOCH:
            /* like DuckDB: whole years of 365.25 days, the other months of 30 days */
            od[i] = (double)(months / 12) * 365.25 * 86400 + (double)(months % 12) * 30 * 86400 +
                    (double)days * 86400 + (double)ns / 1e9;
            continue;
        default: break;
        }
        o[i] = v;
    }
}

static pl_status k_extract(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_extract, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[call->n_args - 1].array;
    pl_type *rt = call->type;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, rt, n, err);
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    int64_t *o = (int64_t *)(void *)values->data;
    double *od = (double *)(void *)values->data;
    if (a->type->id == PL_TYPE_INTERVAL) {
        extract_interval(s->part, a, n, o, od);
        return pl_fn_finish(out, pl_type_retain(rt), n, validity, -1, values, NULL, err);
    }
    const int64_t *t;
    int64_t *owned;
    pl_status st = ts_values(a, &t, &owned, err);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    int64_t per_sec = pl_time_per_sec(a->type);
    if (s->part == PT_EPOCH) {
        double inv = 1.0 / (double)per_sec;
        for (int64_t i = 0; i < n; i++) od[i] = (double)(t[i] / per_sec) + (double)(t[i] % per_sec) * inv;
        if (a->type->id == PL_TYPE_TIME64)
            for (int64_t i = 0; i < n; i++) od[i] = (double)t[i] * inv;
    } else if (s->part == PT_JULIAN) {
        pl_tz_cursor cur;
        pl_tz_cursor_init(&cur, s->tz, per_sec);
        int64_t per_day = per_sec * 86400;
        for (int64_t i = 0; i < n; i++) {
            int64_t lt = s->tz ? pl_tz_local(&cur, t[i]) : t[i];
            int64_t day = pl_fn_floordiv(lt, per_day);
            od[i] = (double)(day + 2440588) + (double)pl_fn_floormod(lt, per_day) / (double)per_day;
        }
    } else {
        pl_tz_cursor cur;
        pl_tz_cursor_init(&cur, s->tz, per_sec);
        if (per_sec == PL_US_PER_SEC) extract_loop(s->part, t, n, PL_US_PER_SEC, &cur, o);
        else extract_loop(s->part, t, n, per_sec, &cur, o);
    }
    pl_free(owned);
    return pl_fn_finish(out, pl_type_retain(rt), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- date_trunc */

/* Local time lt truncated to part (units of per_sec); civil parts use the memo in *c. */
static inline int64_t trunc_civil(int part, int64_t day, int64_t per_day) {
    int64_t y, r, start;
    int32_t m, d;
    switch (part) {
    case PT_WEEK: start = day - pl_fn_floormod(day + 3, 7); goto done;
    case PT_ISOYEAR: {
        int64_t iy, w;
        iso_week(day, &iy, &w);
        start = iso_year_start(iy);
        goto done;
    }
    default: break;
    }
    pl_fn_civil_from_days(day, &y, &m, &d);
    switch (part) {
    case PT_MONTH: d = 1; break;
    case PT_QUARTER: m = (m - 1) / 3 * 3 + 1; d = 1; break;
    case PT_YEAR: m = 1; d = 1; break;
    case PT_DECADE: y -= pl_fn_floormod(y, 10); m = 1; d = 1; break;
    case PT_CENTURY: y -= pl_fn_floormod(y, 100); m = 1; d = 1; break;
    case PT_MILLENNIUM: y -= pl_fn_floormod(y, 1000); m = 1; d = 1; break;
    default: break;
    }
    start = pl_fn_days_from_civil(y, m, d);
done:
    /* INT64_MIN: before the timestamp range (the caller fails) */
    return __builtin_mul_overflow(start, per_day, &r) ? INT64_MIN : r;
}

/* Fixed width in units of a sub-day part (0 = not fixed). */
static int64_t trunc_width(int part, int64_t per_sec) {
    switch (part) {
    case PT_US: return per_sec >= 1000000 ? per_sec / 1000000 : 1;
    case PT_MS: return per_sec >= 1000 ? per_sec / 1000 : 1;
    case PT_NS: return 1;
    case PT_SECOND: return per_sec;
    case PT_MINUTE: return 60 * per_sec;
    case PT_HOUR: return 3600 * per_sec;
    case PT_DAY: case PT_DOW: case PT_ISODOW: case PT_DOY: return 86400 * per_sec;
    default: return 0;
    }
}

#define TRUNC_FIXED(W)                                                                             \
    for (int64_t i = 0; i < n; i++) {                                                              \
        int64_t r_ = t[i] % (W);                                                                   \
        r_ += (r_ >> 63) & (W);                                                                    \
        bad |= __builtin_sub_overflow(t[i], r_, &o[i]);                                            \
    }

/* false when a result is before the lowest timestamp (the first, partial day of the range) */
static bool trunc_fixed(const int64_t *t, int64_t n, int64_t w, int64_t *o) {
    bool bad = false;
    switch (w) {
    case 1: memmove(o, t, (size_t)n * 8); break;
    case INT64_C(1000000): TRUNC_FIXED(INT64_C(1000000)); break;
    case INT64_C(60000000): TRUNC_FIXED(INT64_C(60000000)); break;
    case INT64_C(3600000000): TRUNC_FIXED(INT64_C(3600000000)); break;
    case INT64_C(86400000000): TRUNC_FIXED(INT64_C(86400000000)); break;
    case INT64_C(1000): TRUNC_FIXED(INT64_C(1000)); break;
    case INT64_C(60000000000): TRUNC_FIXED(INT64_C(60000000000)); break;
    default: TRUNC_FIXED(w); break;
    }
    return !bad;
}

static pl_status bind_date_trunc(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id != PL_TYPE_UTF8) return no_function(call, err);
    const pl_type *t = call->args[1]->type;
    if (t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_NA)
        return no_function(call, err);
    int part;
    PL_TRY(literal_part(call, 0, &part, err));
    if (part == PT_EPOCH || part == PT_JULIAN || part == PT_TZ || part == PT_TZ_HOUR ||
        part == PT_TZ_MINUTE || part == PT_ERA || part == PT_YEARWEEK)
        PL_FAIL(err, PL_ERR_SQL, "date_trunc: cannot truncate to '%s'", call->args[0]->lit.str);
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    s->part = part;
    PL_TRY(pl_time_zone_of(t, &s->tz, err));
    if (t->id == PL_TYPE_TIMESTAMP) {
        call->type = pl_type_retain((pl_type *)t);
        return PL_OK;
    }
    return pl_type_new_timestamp(PL_UNIT_US, NULL, &call->type, err);
}

static pl_status k_date_trunc(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                              int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_date_trunc, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[1].array;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    pl_buf *validity, *values;
    const int64_t *t;
    int64_t *owned;
    PL_TRY(ts_kernel_start(a, n, 8, &validity, &values, &t, &owned, err));
    int64_t *o = (int64_t *)(void *)values->data;
    int64_t per_sec = pl_time_per_sec(a->type), per_day = per_sec * 86400;
    int64_t w = trunc_width(s->part, per_sec);
    bool ok = true;
    if (!s->tz && w) {
        ok = trunc_fixed(t, n, w, o);
    } else {
        pl_tz_cursor cur;
        pl_tz_cursor_init(&cur, s->tz, per_sec);
        int64_t last_day = INT64_MIN, last_v = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t lt = s->tz ? pl_tz_local(&cur, t[i]) : t[i];
            int64_t r;
            if (w) {
                ok &= !__builtin_sub_overflow(lt, pl_fn_floormod(lt, w), &r);
            } else {
                int64_t day = pl_fn_floordiv(lt, per_day);
                if (day != last_day) {
                    last_day = day;
                    last_v = trunc_civil(s->part, day, per_day);
                }
                r = last_v;
                ok &= r != INT64_MIN;
            }
            o[i] = s->tz ? pl_tz_utc(&cur, r) : r;
        }
    }
    pl_free(owned);
    if (!ok) {
        pl_buf_release(validity);
        pl_buf_release(values);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "date_trunc: the truncated timestamp is before the lowest timestamp "
                "(290309-12-21 BC)");
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- time_bucket */

#define BUCKET_LOW (-(INT64_C(1) << 62))

/* o[i] = the start of t[i]'s bucket of width w (units) aligned to origin. Exact for every
 * t >= base (base = origin shifted far into the past); returns false when some value lies
 * below base (then the caller runs the exact slow loop). */
#define BUCKET_CONST(W)                                                                            \
    for (int64_t i = 0; i < n; i++) {                                                              \
        uint64_t d_ = (uint64_t)t[i] - (uint64_t)base;                                             \
        bad |= t[i] < base;                                                                        \
        o[i] = (int64_t)((uint64_t)t[i] - d_ % (uint64_t)(W));                                     \
    }

static bool bucket_fast(const int64_t *t, int64_t n, int64_t w, int64_t origin, int64_t *o) {
    if (w <= 0 || w >= (INT64_C(1) << 61)) return false;
    int64_t k = (origin - BUCKET_LOW) / w + 1;
    int64_t base = origin - k * w;
    bool bad = false;
    switch (w) {
    case INT64_C(1000000): BUCKET_CONST(INT64_C(1000000)); break;
    case INT64_C(60000000): BUCKET_CONST(INT64_C(60000000)); break;
    case INT64_C(300000000): BUCKET_CONST(INT64_C(300000000)); break;
    case INT64_C(900000000): BUCKET_CONST(INT64_C(900000000)); break;
    case INT64_C(3600000000): BUCKET_CONST(INT64_C(3600000000)); break;
    case INT64_C(86400000000): BUCKET_CONST(INT64_C(86400000000)); break;
    default:
        if (w >= (INT64_C(1) << 14)) {
            /* q = d / w from a double reciprocal (error below one for q < 2^50), then one
             * correction each way */
            double inv = 1.0 / (double)w;
            for (int64_t i = 0; i < n; i++) {
                uint64_t d = (uint64_t)t[i] - (uint64_t)base;
                bad |= (t[i] < base) | ((int64_t)d < 0);
                int64_t di = (int64_t)(d & ~(UINT64_C(1) << 63));
                int64_t q = (int64_t)((double)di * inv);
                int64_t r = di - q * w;
                r += w & (r >> 63);
                r -= w & ~((r - w) >> 63);
                o[i] = (int64_t)((uint64_t)t[i] - (uint64_t)r);
            }
        } else {
            BUCKET_CONST(w);
        }
    }
    return !bad;
}

static void bucket_slow(const int64_t *t, int64_t n, int64_t w, int64_t origin, int64_t *o) {
    for (int64_t i = 0; i < n; i++) {
        __int128 d = (__int128)t[i] - origin;
        __int128 r = d % w;
        if (r < 0) r += w;
        __int128 res = (__int128)t[i] - r;
        o[i] = res < INT64_MIN ? INT64_MIN : (int64_t)res;
    }
}

/* Month buckets: months since the origin's month, floored to a multiple of w. */
static inline int64_t bucket_month(int64_t lt, int32_t w, int64_t origin_month, int64_t per_day) {
    int64_t day = pl_fn_floordiv(lt, per_day);
    int64_t y;
    int32_t m, d;
    pl_fn_civil_from_days(day, &y, &m, &d);
    int64_t mi = y * 12 + (m - 1) - origin_month;
    int64_t b = pl_fn_floordiv(mi, w) * w + origin_month;
    int64_t by = pl_fn_floordiv(b, 12);
    int32_t bm = (int32_t)(b - by * 12) + 1;
    return pl_fn_days_from_civil(by, bm, 1) * per_day;
}

/* 2000-01-03 (a Monday) and 2000-01-01 in days since the epoch. */
#define ORIGIN_DAY_FIXED 10959
#define ORIGIN_DAY_MONTH 10957

static pl_status bind_time_bucket(pl_bexpr *call, pl_error *err) {
    const pl_bexpr *wa = call->args[0];
    const pl_type *t = call->args[1]->type;
    if (wa->type->id != PL_TYPE_INTERVAL ||
        (t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_NA))
        return no_function(call, err);
    if (wa->kind != PL_BEXPR_LIT || wa->lit.is_null)
        PL_FAIL(err, PL_ERR_SQL, "time_bucket: the bucket width must be a constant interval");
    pl_interval iv = wa->lit.v.iv;
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    int64_t per_sec = pl_time_per_sec(t);
    if (iv.months != 0) {
        if (iv.days != 0 || iv.ns != 0)
            PL_FAIL(err, PL_ERR_UNSUPPORTED,
                    "time_bucket: month intervals cannot have day or time component");
        if (iv.months < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "time_bucket: period must be greater than 0");
        s->months = iv.months;
    } else {
        __int128 ns = (__int128)iv.days * INT64_C(86400000000000) + iv.ns;
        if (ns <= 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "time_bucket: period must be greater than 0");
        __int128 units = ns * per_sec / 1000000000;
        if (units <= 0) units = 1;
        if (units >= ((__int128)1 << 62))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "time_bucket: period is too large");
        s->width = (int64_t)units;
    }
    /* the zone: of a third string argument (zoned timestamps), else none (UTC instants) */
    int64_t per_day = per_sec * 86400;
    s->origin = (int64_t)(s->months ? ORIGIN_DAY_MONTH : ORIGIN_DAY_FIXED) * per_day;
    if (call->n_args == 3) {
        const pl_bexpr *x = call->args[2];
        if (x->kind != PL_BEXPR_LIT)
            PL_FAIL(err, PL_ERR_SQL, "time_bucket: the origin/offset must be a constant");
        if (x->lit.is_null) {
            /* NULL origin: NULL results (handled in the kernel) */
            s->null_result = true;
        } else if (x->type->id == PL_TYPE_INTERVAL) {
            pl_interval off = x->lit.v.iv;
            if (off.months != 0)
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "time_bucket: offset with months is not supported");
            s->origin += (int64_t)((__int128)off.days * per_day +
                                   (__int128)off.ns * per_sec / 1000000000);
        } else if (x->type->id == PL_TYPE_TIMESTAMP || x->type->id == PL_TYPE_DATE32) {
            int64_t o = x->lit.v.i;
            if (x->type->id == PL_TYPE_DATE32) o *= per_day;
            else {
                int64_t ops = pl_fn_unit_per_sec(x->type->unit);
                o = (int64_t)((__int128)o * per_sec / ops);
            }
            s->origin = o;
        } else if (x->type->id == PL_TYPE_UTF8) {
            if (t->id != PL_TYPE_TIMESTAMP || !t->tz)
                return no_function(call, err);
            PL_TRY(pl_tz_lookup(x->lit.str, &s->tz, err));
        } else {
            return no_function(call, err);
        }
    }
    if (s->months) {
        int64_t oday = pl_fn_floordiv(s->origin, per_day);
        int64_t y;
        int32_t m, d;
        pl_fn_civil_from_days(oday, &y, &m, &d);
        s->origin_month = y * 12 + (m - 1);
        /* an origin inside a month shifts the buckets by its distance to the month start */
        s->origin_shift = s->origin - pl_fn_days_from_civil(y, m, 1) * per_day;
    }
    if (t->id == PL_TYPE_DATE32) {
        call->type = ty(PL_TYPE_DATE32);
        return PL_OK;
    }
    if (t->id == PL_TYPE_NA) return pl_type_new_timestamp(PL_UNIT_US, NULL, &call->type, err);
    call->type = pl_type_retain((pl_type *)t);
    return PL_OK;
}

static pl_status k_time_bucket(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                               int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_time_bucket, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[1].array;
    if (a->type->id == PL_TYPE_NA || s->null_result || (args[0].is_scalar && args[0].scalar.is_null))
        return pl_fn_out_nulls(out, call->type, n, err);
    pl_buf *validity, *values;
    const int64_t *t;
    int64_t *owned;
    PL_TRY(ts_kernel_start(a, n, 8, &validity, &values, &t, &owned, err));
    int64_t *o = (int64_t *)(void *)values->data;
    int64_t per_sec = pl_time_per_sec(a->type), per_day = per_sec * 86400;
    if (!s->months && !s->tz) {
        if (!bucket_fast(t, n, s->width, s->origin, o)) bucket_slow(t, n, s->width, s->origin, o);
    } else {
        pl_tz_cursor cur;
        pl_tz_cursor_init(&cur, s->tz, per_sec);
        int64_t last_day = INT64_MIN, last_v = 0;
        for (int64_t i = 0; i < n; i++) {
            int64_t lt = s->tz ? pl_tz_local(&cur, t[i]) : t[i];
            int64_t r;
            if (s->months) {
                int64_t x = lt - s->origin_shift;
                int64_t day = pl_fn_floordiv(x, per_day);
                if (day != last_day) {
                    last_day = day;
                    last_v = bucket_month(x, s->months, s->origin_month, per_day);
                }
                r = last_v + s->origin_shift;
            } else {
                bucket_slow(&lt, 1, s->width, s->origin, &r);
            }
            o[i] = s->tz ? pl_tz_utc(&cur, r) : r;
        }
    }
    pl_free(owned);
    if (call->type->id == PL_TYPE_DATE32) {
        int32_t *d = (int32_t *)(void *)values->data;
        for (int64_t i = 0; i < n; i++) d[i] = (int32_t)pl_fn_floordiv(o[i], per_day);
        values->size = n * 4;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- date_diff, date_sub, age */

/* Functions of two timestamps (or dates), compared in local time: date_diff(part, a, b) counts
 * the part's boundaries crossed, date_sub(part, a, b) the complete parts between them, age(b, a)
 * the interval between them in years, months, days and time (PostgreSQL's and DuckDB's). */
enum { PAIR_DIFF = 0, PAIR_SUB, PAIR_AGE };

static pl_status bind_ts_pair(pl_bexpr *call, pl_error *err) {
    int pair = !strcmp(call->fn->name, "age") ? PAIR_AGE : !strcmp(call->fn->name, "date_sub") ? PAIR_SUB : PAIR_DIFF;
    int first = pair == PAIR_AGE ? 0 : 1;
    if (pair != PAIR_AGE && call->args[0]->type->id != PL_TYPE_UTF8) return no_function(call, err);
    for (int i = first; i < first + 2; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id != PL_TYPE_TIMESTAMP && id != PL_TYPE_DATE32 && id != PL_TYPE_NA)
            return no_function(call, err);
    }
    int part = PT_DAY;
    if (pair != PAIR_AGE) {
        PL_TRY(literal_part(call, 0, &part, err));
        if ((part == PT_EPOCH && pair == PAIR_DIFF) || part == PT_JULIAN || part == PT_TZ ||
            part == PT_TZ_HOUR || part == PT_TZ_MINUTE || part == PT_ERA)
            PL_FAIL(err, PL_ERR_SQL, "%s: unsupported date part '%s'", call->fn->name, call->args[0]->lit.str);
    }
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    s->part = part;
    s->pair = pair;
    PL_TRY(pl_time_zone_of(call->args[first]->type, &s->tz, err));
    PL_TRY(pl_time_zone_of(call->args[first + 1]->type, &s->tz2, err));
    call->type = pair == PAIR_AGE ? ty(PL_TYPE_INTERVAL) : ty(PL_TYPE_INT64);
    return PL_OK;
}

/* Index of the part's unit containing local time lt (units), for boundary counting (128 bits:
 * nanoseconds of a microsecond timestamp pass 64 bits; the caller checks the difference). */
static inline __int128 diff_index(int part, int64_t lt, int64_t per_sec) {
    int64_t per_day = per_sec * 86400;
    int64_t day = pl_fn_floordiv(lt, per_day);
    int64_t y;
    int32_t m, d;
    switch (part) {
    case PT_US: return per_sec >= 1000000 ? pl_fn_floordiv(lt, per_sec / 1000000) : (__int128)lt * (1000000 / per_sec);
    case PT_NS: return per_sec >= 1000000000 ? lt : (__int128)lt * (1000000000 / per_sec);
    case PT_MS: return per_sec >= 1000 ? pl_fn_floordiv(lt, per_sec / 1000) : (__int128)lt * (1000 / per_sec);
    case PT_SECOND: return pl_fn_floordiv(lt, per_sec);
    case PT_MINUTE: return pl_fn_floordiv(lt, 60 * per_sec);
    case PT_HOUR: return pl_fn_floordiv(lt, 3600 * per_sec);
    case PT_DAY: case PT_DOW: case PT_ISODOW: case PT_DOY: case PT_WEEK: return day;
    case PT_ISOYEAR: {
        int64_t iy, w;
        iso_week(day, &iy, &w);
        return iy;
    }
    default: break;
    }
    pl_fn_civil_from_days(day, &y, &m, &d);
    switch (part) {
    case PT_MONTH: return y * 12 + m - 1;
    case PT_QUARTER: return y * 4 + (m - 1) / 3;
    case PT_DECADE: return pl_fn_floordiv(y, 10);
    case PT_CENTURY: return pl_fn_floordiv(y, 100);
    case PT_MILLENNIUM: return pl_fn_floordiv(y, 1000);
    default: return y; /* YEAR, YEARWEEK */
    }
}

/* A local time split into its civil date and the time of day (units). */
typedef struct civil_ts {
    int64_t y, tod;
    int32_t m, d;
} civil_ts;

static void civil_time_of(int64_t lt, int64_t per_day, civil_ts *c) {
    int64_t day = pl_fn_floordiv(lt, per_day);
    c->tod = pl_fn_floormod(lt, per_day);
    pl_fn_civil_from_days(day, &c->y, &c->m, &c->d);
}

/* b - a for a <= b, field by field with borrows (a day of 24 hours, then the days of a's
 * month): whole months, days and time of day. */
static void age_fields(const civil_ts *a, const civil_ts *b, int64_t per_day, int64_t *months,
                       int64_t *days, int64_t *tod) {
    int64_t y = b->y - a->y, m = b->m - a->m, d = b->d - a->d, t = b->tod - a->tod;
    if (t < 0) {
        t += per_day;
        d--;
    }
    if (d < 0) {
        d += pl_fn_days_in_month(a->y, a->m);
        m--;
    }
    if (m < 0) {
        m += 12;
        y--;
    }
    *months = y * 12 + m;
    *days = d;
    *tod = t;
}

/* date_sub: the complete parts from local time a to b (negative when b is before a). Months
 * count like age(), except that an end on the last day of its month completes the month of a
 * later start day (01-31 to 02-29 is a month). */
static __int128 sub_value(int part, int64_t a, int64_t b, int64_t per_sec) {
    if (b < a) return -sub_value(part, b, a, per_sec);
    int64_t per_day = per_sec * 86400;
    __int128 diff = (__int128)b - a; /* up to 2^64 units: the caller checks the result */
    switch (part) {
    case PT_US: return per_sec >= 1000000 ? diff / (per_sec / 1000000) : diff * (1000000 / per_sec);
    case PT_NS: return per_sec >= 1000000000 ? diff : diff * (1000000000 / per_sec);
    case PT_MS: return per_sec >= 1000 ? diff / (per_sec / 1000) : diff * (1000 / per_sec);
    case PT_SECOND: case PT_EPOCH: return diff / per_sec;
    case PT_MINUTE: return diff / (60 * per_sec);
    case PT_HOUR: return diff / (3600 * per_sec);
    case PT_DAY: case PT_DOW: case PT_ISODOW: case PT_DOY: return diff / per_day;
    case PT_WEEK: case PT_YEARWEEK: return diff / (7 * per_day);
    default: break;
    }
    civil_ts ca, cb;
    civil_time_of(a, per_day, &ca);
    civil_time_of(b, per_day, &cb);
    int32_t end_days = pl_fn_days_in_month(cb.y, cb.m);
    if (cb.d == end_days && ca.d > end_days) ca.d = end_days;
    int64_t months, days, tod;
    age_fields(&ca, &cb, per_day, &months, &days, &tod);
    switch (part) {
    case PT_QUARTER: return months / 3;
    case PT_DECADE: return months / 120;
    case PT_CENTURY: return months / 1200;
    case PT_MILLENNIUM: return months / 12000;
    case PT_MONTH: return months;
    default: return months / 12; /* YEAR, ISOYEAR */
    }
}

/* age: local time a minus local time b as months, days and time (negated when a is before b);
 * false when it does not fit an interval. */
static bool age_value(int64_t a, int64_t b, int64_t per_sec, pl_interval *o) {
    bool neg = a < b;
    civil_ts lo, hi;
    civil_time_of(neg ? a : b, per_sec * 86400, &lo);
    civil_time_of(neg ? b : a, per_sec * 86400, &hi);
    int64_t months, days, tod, ns;
    age_fields(&lo, &hi, per_sec * 86400, &months, &days, &tod);
    if (per_sec >= 1000000000) ns = tod / (per_sec / 1000000000);
    else if (__builtin_mul_overflow(tod, 1000000000 / per_sec, &ns)) return false;
    if (months > INT32_MAX) return false;
    o->months = (int32_t)(neg ? -months : months);
    o->days = (int32_t)(neg ? -days : days);
    o->ns = neg ? -ns : ns;
    return true;
}

static pl_status k_ts_pair(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    const pl_time_state *s = call->state;
    int first = s->pair == PAIR_AGE ? 0 : 1;
    if (pl_fn_all_scalar(args, first + 2)) return pl_fn_eval_scalars(ec, call, args, k_ts_pair, out, err);
    pl_buf *validity = NULL, *values = NULL;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(args + first, 2, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, call->type, n, err);
    pl_array *arr[2] = {NULL, NULL};
    const int64_t *tv[2] = {NULL, NULL};
    int64_t *owned[2] = {NULL, NULL};
    int64_t width = s->pair == PAIR_AGE ? 16 : 8;
    pl_status st = pl_fn_new_values(n, width, &values, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    int64_t ps[2];
    for (int k = 0; k < 2 && !st; k++) {
        st = pl_fn_datum_array(&args[k + first], n, &arr[k], err);
        if (!st) st = ts_values(arr[k], &tv[k], &owned[k], err);
        if (!st) ps[k] = pl_time_per_sec(arr[k]->type);
    }
    if (!st) {
        /* a common unit: the finer one */
        int64_t per_sec = PL_MAX(ps[0], ps[1]);
        int64_t m0 = per_sec / ps[0], m1 = per_sec / ps[1];
        pl_tz_cursor c0, c1;
        pl_tz_cursor_init(&c0, s->tz, per_sec);
        pl_tz_cursor_init(&c1, s->tz2, per_sec);
        int64_t *o = (int64_t *)(void *)values->data;
        const uint8_t *vb = validity ? validity->data : NULL;
        for (int64_t i = 0; i < n && !st; i++) {
            if (vb && !pl_bit_get(vb, i)) {
                memset((uint8_t *)o + i * width, 0, (size_t)width);
                continue;
            }
            int64_t a = tv[0][i] * m0, b = tv[1][i] * m1;
            if (s->tz) a = pl_tz_local(&c0, a);
            if (s->tz2) b = pl_tz_local(&c1, b);
            if (s->pair == PAIR_AGE) {
                pl_interval r = {0, 0, 0};
                if (!age_value(a, b, per_sec, &r))
                    st = pl_error_set(err, PL_ERR_INVALID_ARG, "age: interval out of range");
                memcpy((uint8_t *)o + i * 16, &r.months, 4);
                memcpy((uint8_t *)o + i * 16 + 4, &r.days, 4);
                memcpy((uint8_t *)o + i * 16 + 8, &r.ns, 8);
            } else {
                __int128 r;
                if (s->pair == PAIR_SUB) {
                    r = sub_value(s->part, a, b, per_sec);
                } else if (s->part == PT_WEEK || s->part == PT_YEARWEEK) { /* DuckDB: yearweek counts weeks */
                    int64_t per_day = per_sec * 86400;
                    r = (pl_fn_floordiv(b, per_day) - pl_fn_floordiv(a, per_day)) / 7;
                } else {
                    r = diff_index(s->part, b, per_sec) - diff_index(s->part, a, per_sec);
                }
                if (r < INT64_MIN || r > INT64_MAX) {
                    st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                      "%s: the difference in '%s' at row %lld is out of the range of BIGINT",
                                      call->fn->name, call->args[0]->lit.str, (long long)i);
                    break;
                }
                o[i] = (int64_t)r;
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        pl_free(owned[k]);
        pl_array_release(arr[k]);
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, nc, values, NULL, err);
}

/* ---------------------------------------------------------------- now, current_date */

static pl_status bind_now(pl_bexpr *call, pl_error *err) {
    return pl_type_new_timestamp(PL_UNIT_US, "UTC", &call->type, err);
}

static pl_status k_now(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    PL_UNUSED(args); PL_UNUSED(n); PL_UNUSED(err);
    memset(out, 0, sizeof *out);
    out->is_scalar = true;
    out->scalar.type = pl_type_retain(call->type);
    out->scalar.v.i = ec ? ec->now_us : 0;
    return PL_OK;
}

/* current_time / get_current_time: the time of day of now() in UTC (the session's zone), a
 * TIME (DuckDB: TIME WITH TIME ZONE, a type polaroid lacks) */
static pl_status bind_current_time(pl_bexpr *call, pl_error *err) {
    return pl_type_new_time64(PL_UNIT_US, &call->type, err);
}

static pl_status k_current_time(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(args); PL_UNUSED(n); PL_UNUSED(err);
    memset(out, 0, sizeof *out);
    out->is_scalar = true;
    out->scalar.type = pl_type_retain(call->type);
    int64_t now = ec ? ec->now_us : 0;
    out->scalar.v.i = now - pl_fn_floordiv(now, PL_US_PER_DAY) * PL_US_PER_DAY;
    return PL_OK;
}

static pl_status bind_current_date(pl_bexpr *call, pl_error *err) {
    PL_UNUSED(err);
    call->type = ty(PL_TYPE_DATE32);
    return PL_OK;
}

static pl_status k_current_date(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(args); PL_UNUSED(n); PL_UNUSED(err);
    memset(out, 0, sizeof *out);
    out->is_scalar = true;
    out->scalar.type = pl_type_retain(call->type);
    out->scalar.v.i = pl_fn_floordiv(ec ? ec->now_us : 0, PL_US_PER_DAY);
    return PL_OK;
}

/* ---------------------------------------------------------------- timezone (AT TIME ZONE) */

static pl_status bind_timezone(pl_bexpr *call, pl_error *err) {
    const pl_bexpr *z = call->args[0];
    const pl_type *t = call->args[1]->type;
    if (z->type->id != PL_TYPE_UTF8 || (t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32))
        return no_function(call, err);
    if (z->kind != PL_BEXPR_LIT || z->lit.is_null)
        PL_FAIL(err, PL_ERR_SQL, "timezone: the zone must be a constant string");
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    PL_TRY(pl_tz_lookup(z->lit.str, &s->tz, err));
    pl_time_unit unit = t->id == PL_TYPE_TIMESTAMP ? t->unit : PL_UNIT_US;
    if (t->id == PL_TYPE_TIMESTAMP && t->tz) {
        s->to_naive = true; /* zoned -> the local time in the zone */
        return pl_type_new_timestamp(unit, NULL, &call->type, err);
    }
    return pl_type_new_timestamp(unit, z->lit.str, &call->type, err);
}

static pl_status k_timezone(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_timezone, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[1].array;
    pl_buf *validity, *values;
    const int64_t *t;
    int64_t *owned;
    PL_TRY(ts_kernel_start(a, n, 8, &validity, &values, &t, &owned, err));
    int64_t *o = (int64_t *)(void *)values->data;
    pl_tz_cursor cur;
    pl_tz_cursor_init(&cur, s->tz, pl_time_per_sec(a->type));
    for (int64_t i = 0; i < n; i++) o[i] = s->to_naive ? pl_tz_local(&cur, t[i]) : pl_tz_utc(&cur, t[i]);
    pl_free(owned);
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- __session_zone */

/* __session_zone(x, 'zone') (the SQL planner's, under SET TimeZone): a zoned timestamp x as the
 * same instants in that zone (DuckDB's TIMESTAMPTZ shows and computes in the session zone);
 * anything else unchanged. */
static pl_status bind_session_zone(pl_bexpr *call, pl_error *err) {
    const pl_bexpr *z = call->args[1];
    if (z->type->id != PL_TYPE_UTF8 || z->kind != PL_BEXPR_LIT || z->lit.is_null) return no_function(call, err);
    const pl_type *t = call->args[0]->type;
    const pl_tz *tz;
    PL_TRY(pl_tz_lookup(z->lit.str, &tz, err));
    if (t->id == PL_TYPE_TIMESTAMP && t->tz)
        return pl_type_new_timestamp(t->unit, z->lit.str, &call->type, err);
    call->type = pl_type_retain((pl_type *)(uintptr_t)t);
    return PL_OK;
}

static pl_status k_session_zone(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                                pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(n);
    memset(out, 0, sizeof *out);
    if (args[0].is_scalar) {
        out->is_scalar = true;
        return pl_cast_value(&args[0].scalar, call->type, false, &out->scalar, err);
    }
    pl_array *r = NULL;
    PL_TRY(pl_cast_array(args[0].array, call->type, false, &r, err));
    pl_datum_set_array(out, r);
    return PL_OK;
}

/* ---------------------------------------------------------------- epoch conversions */

typedef enum epoch_op { EP_SECONDS, EP_MS, EP_US, EP_NS } epoch_op;

static int epoch_op_of(const char *name) {
    if (!strcmp(name, "epoch")) return EP_SECONDS;
    if (!strcmp(name, "epoch_ms")) return EP_MS;
    if (!strcmp(name, "epoch_us")) return EP_US;
    return EP_NS;
}

static pl_status bind_epoch(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    int op = epoch_op_of(call->fn->name);
    if (op == EP_MS && id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64) {
        /* epoch_ms(bigint): milliseconds -> timestamp */
        return pl_type_new_timestamp(PL_UNIT_US, NULL, &call->type, err);
    }
    if (id != PL_TYPE_TIMESTAMP && id != PL_TYPE_DATE32 && id != PL_TYPE_NA && id != PL_TYPE_INTERVAL)
        return no_function(call, err);
    call->type = ty(op == EP_SECONDS ? PL_TYPE_FLOAT64 : PL_TYPE_INT64);
    return PL_OK;
}

/* epoch(interval): seconds with years of 365.25 days (date_part('epoch', ...)); epoch_ms/us/ns:
 * whole units with months of 30 days (truncated toward zero), like DuckDB. */
static pl_status epoch_interval(const pl_bexpr *call, const pl_array *a, int op, int64_t n,
                                pl_buf *validity, pl_buf *values, pl_datum *out, pl_error *err) {
    const uint8_t *p = a->values->data + a->offset * 16;
    int64_t *o = (int64_t *)(void *)values->data;
    double *od = (double *)(void *)values->data;
    const uint8_t *vb = validity ? validity->data : NULL;
    int64_t div = op == EP_MS ? 1000000 : op == EP_US ? 1000 : 1;
    for (int64_t i = 0; i < n; i++) {
        int32_t months, days;
        int64_t ns;
        memcpy(&months, p + i * 16, 4);
        memcpy(&days, p + i * 16 + 4, 4);
        memcpy(&ns, p + i * 16 + 8, 8);
        if (op == EP_SECONDS) {
            od[i] = (double)(months / 12) * 365.25 * 86400 + (double)(months % 12) * 30 * 86400 +
                    (double)days * 86400 + (double)ns / 1e9;
            continue;
        }
        __int128 total = ((__int128)months * 30 + days) * INT64_C(86400000000000) + ns;
        total /= div;
        if (total > INT64_MAX || total < INT64_MIN) {
            if (!vb || pl_bit_get(vb, i)) {
                pl_buf_release(validity);
                pl_buf_release(values);
                PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: interval out of range at row %lld", call->fn->name,
                        (long long)i);
            }
            total = 0;
        }
        o[i] = (int64_t)total;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

static pl_status k_epoch(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_epoch, out, err);
    const pl_array *a = args[0].array;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    int op = epoch_op_of(call->fn->name);
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    int64_t *o = (int64_t *)(void *)values->data;
    if (a->type->id == PL_TYPE_INTERVAL) return epoch_interval(call, a, op, n, validity, values, out, err);
    if (call->type->id == PL_TYPE_TIMESTAMP) {
        pl_fn_read_i64(a, o);
        for (int64_t i = 0; i < n; i++) {
            if (__builtin_mul_overflow(o[i], 1000, &o[i]) && pl_array_is_valid(a, i)) {
                pl_buf_release(validity);
                pl_buf_release(values);
                PL_FAIL(err, PL_ERR_INVALID_ARG, "epoch_ms: value out of range at row %lld", (long long)i);
            }
        }
        return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
    }
    const int64_t *t;
    int64_t *owned;
    pl_status st = ts_values(a, &t, &owned, err);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    int64_t per_sec = pl_time_per_sec(a->type);
    if (op == EP_SECONDS) {
        double *od = (double *)(void *)values->data;
        for (int64_t i = 0; i < n; i++)
            od[i] = (double)(t[i] / per_sec) + (double)(t[i] % per_sec) / (double)per_sec;
    } else {
        int64_t target = op == EP_MS ? 1000 : op == EP_US ? 1000000 : 1000000000;
        /* like DuckDB, epoch_ms of a microsecond timestamp rounds half away from zero (its cast
         * to TIMESTAMP_MS); other coarser units are floored */
        bool round_ms = op == EP_MS && per_sec == 1000000;
        const uint8_t *vb = validity ? validity->data : NULL;
        for (int64_t i = 0; i < n; i++) {
            if (target >= per_sec) {
                /* epoch_ns of a date or timestamp outside 1677..2262 does not fit 64 bits: an
                 * error like DuckDB's (the product overflowed) */
                if (__builtin_mul_overflow(t[i], target / per_sec, &o[i])) {
                    o[i] = 0;
                    if (!vb || pl_bit_get(vb, i)) {
                        pl_free(owned);
                        pl_buf_release(validity);
                        pl_buf_release(values);
                        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: value out of range at row %lld",
                                call->fn->name, (long long)i);
                    }
                }
            } else if (round_ms) {
                uint64_t u = t[i] >= 0 ? (uint64_t)t[i] : (uint64_t)0 - (uint64_t)t[i];
                int64_t r = (int64_t)((u + 500) / 1000);
                o[i] = t[i] >= 0 ? r : -r;
            }
            else o[i] = pl_fn_floordiv(t[i], per_sec / target);
        }
    }
    pl_free(owned);
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

static pl_status bind_to_timestamp(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (!(id >= PL_TYPE_INT8 && id <= PL_TYPE_FLOAT64) && id != PL_TYPE_DECIMAL128 && id != PL_TYPE_NA)
        return no_function(call, err);
    return pl_type_new_timestamp(PL_UNIT_US, "UTC", &call->type, err);
}

static pl_status k_to_timestamp(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_to_timestamp, out, err);
    const pl_array *a = args[0].array;
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    double *d = (double *)(void *)values->data;
    int64_t *o = (int64_t *)(void *)values->data;
    pl_fn_read_f64(a, d);
    for (int64_t i = 0; i < n; i++) {
        double us = nearbyint(d[i] * 1e6);
        if (!(us > -9.2e18 && us < 9.2e18)) {
            if (pl_array_is_valid(a, i)) {
                double bad = d[i]; /* d is values' memory: read before the release */
                pl_buf_release(validity);
                pl_buf_release(values);
                PL_FAIL(err, PL_ERR_INVALID_ARG, "to_timestamp: %g seconds is out of range at row %lld",
                        bad, (long long)i);
            }
            us = 0;
        }
        o[i] = (int64_t)us;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- make_date / make_timestamp */

static bool is_num_id(pl_type_id id) {
    return (id >= PL_TYPE_INT8 && id <= PL_TYPE_FLOAT64) || id == PL_TYPE_DECIMAL128 || id == PL_TYPE_NA;
}

static pl_status bind_make(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++)
        if (!is_num_id(call->args[i]->type->id)) return no_function(call, err);
    const char *name = call->fn->name;
    if (!strcmp(name, "make_date")) {
        if (call->n_args != 3) return no_function(call, err);
        call->type = ty(PL_TYPE_DATE32);
        return PL_OK;
    }
    if (!strcmp(name, "make_time")) {
        if (call->n_args != 3) return no_function(call, err);
        return pl_type_new_time64(PL_UNIT_US, &call->type, err);
    }
    if (call->n_args != 1 && call->n_args != 6) return no_function(call, err);
    return pl_type_new_timestamp(PL_UNIT_US, NULL, &call->type, err);
}

static pl_status k_make(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, k_make, out, err);
    int32_t na = call->n_args;
    pl_buf *validity = NULL, *values = NULL;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(args, na, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, call->type, n, err);
    double *cols[6] = {0};
    pl_status st = pl_fn_new_values(n, 8, &values, err);
    for (int32_t k = 0; k < na && !st; k++) {
        cols[k] = pl_malloc((size_t)(n > 0 ? n : 1) * 8);
        if (!cols[k]) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in %s", call->fn->name);
            break;
        }
        if (args[k].is_scalar) {
            double v = pl_fn_scalar_f64(&args[k].scalar);
            for (int64_t i = 0; i < n; i++) cols[k][i] = v;
        } else {
            pl_fn_read_f64(args[k].array, cols[k]);
        }
    }
    const char *name = call->fn->name;
    bool is_date = !strcmp(name, "make_date"), is_time = !strcmp(name, "make_time");
    /* make_timestamp(micros): an integer is read exactly (a double has 53 bits) */
    int64_t *micros = NULL;
    pl_type_id id0 = args[0].is_scalar ? args[0].scalar.type->id : args[0].array->type->id;
    if (!st && !is_date && !is_time && na == 1 && id0 >= PL_TYPE_INT8 && id0 <= PL_TYPE_UINT64) {
        micros = pl_malloc((size_t)(n > 0 ? n : 1) * 8);
        if (!micros) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in %s", name);
        else if (args[0].is_scalar)
            for (int64_t i = 0; i < n; i++) micros[i] = pl_fn_scalar_i64(&args[0].scalar);
        else pl_fn_read_i64(args[0].array, micros);
    }
    int64_t *o = st ? NULL : (int64_t *)(void *)values->data;
    for (int64_t i = 0; i < n && !st; i++) {
        bool valid = !validity || pl_bit_get(validity->data, i);
        if (!valid) {
            o[i] = 0;
            continue;
        }
        if (!is_date && !is_time && na == 1) {
            /* DuckDB: +-INT64_MAX are the infinities, not microseconds; a UINT64 above
             * INT64_MAX reads as negative, caught by its double */
            double v = cols[0][i];
            bool bad = micros ? micros[i] == INT64_MAX || micros[i] == -INT64_MAX ||
                                    (id0 == PL_TYPE_UINT64 && micros[i] < 0)
                              : !(v > -9223372036854775808.0 && v < 9223372036854775808.0);
            if (bad) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "make_timestamp: %.17g microseconds is out of range at row %lld",
                                  v, (long long)i);
                break;
            }
            o[i] = micros ? micros[i] : (int64_t)v;
            continue;
        }
        if (is_time) {
            double h = cols[0][i], mi = cols[1][i], sec = cols[2][i];
            if (h < 0 || h > 24 || mi < 0 || mi >= 60 || sec < 0 || sec >= 60) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "make_time: time out of range at row %lld", (long long)i);
                break;
            }
            o[i] = (int64_t)h * PL_US_PER_HOUR + (int64_t)mi * PL_US_PER_MIN + (int64_t)round(sec * 1e6);
            continue;
        }
        double y = cols[0][i], m = cols[1][i], d = cols[2][i];
        if (!(y > -290000 && y < 294000) || m < 1 || m > 12 || d < 1 ||
            d > pl_fn_days_in_month((int64_t)y, (int32_t)m)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "date out of range: %lld-%lld-%lld at row %lld",
                              (long long)y, (long long)m, (long long)d, (long long)i);
            break;
        }
        int64_t day = pl_fn_days_from_civil((int64_t)y, (int32_t)m, (int32_t)d);
        if (is_date) {
            o[i] = day;
            continue;
        }
        double h = cols[3][i], mi = cols[4][i], sec = cols[5][i];
        if (h < 0 || h >= 24 || mi < 0 || mi >= 60 || sec < 0 || sec >= 60) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "make_timestamp: time out of range at row %lld", (long long)i);
            break;
        }
        /* seconds round half away from zero, like DuckDB; a year near 294000 overflows */
        int64_t tod = (int64_t)h * PL_US_PER_HOUR + (int64_t)mi * PL_US_PER_MIN + (int64_t)round(sec * 1e6);
        if (__builtin_mul_overflow(day, PL_US_PER_DAY, &o[i]) || __builtin_add_overflow(o[i], tod, &o[i])) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "make_timestamp: timestamp out of range at row %lld",
                              (long long)i);
            break;
        }
    }
    for (int32_t k = 0; k < na; k++) pl_free(cols[k]);
    pl_free(micros);
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    if (is_date) {
        int32_t *d32 = (int32_t *)(void *)values->data;
        for (int64_t i = 0; i < n; i++) d32[i] = (int32_t)o[i];
        values->size = n * 4;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, nc, values, NULL, err);
}

/* ---------------------------------------------------------------- last_day */

static pl_status bind_last_day(pl_bexpr *call, pl_error *err) {
    const pl_type *t = call->args[0]->type;
    if (t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_NA)
        return no_function(call, err);
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    PL_TRY(pl_time_zone_of(t, &s->tz, err));
    call->type = ty(PL_TYPE_DATE32);
    return PL_OK;
}

static pl_status k_last_day(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_last_day, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[0].array;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    pl_buf *validity, *values;
    const int64_t *t;
    int64_t *owned;
    PL_TRY(ts_kernel_start(a, n, 4, &validity, &values, &t, &owned, err));
    int32_t *o = (int32_t *)(void *)values->data;
    int64_t per_sec = pl_time_per_sec(a->type), per_day = per_sec * 86400;
    pl_tz_cursor cur;
    pl_tz_cursor_init(&cur, s->tz, per_sec);
    for (int64_t i = 0; i < n; i++) {
        int64_t lt = s->tz ? pl_tz_local(&cur, t[i]) : t[i];
        int64_t day = pl_fn_floordiv(lt, per_day), y;
        int32_t m, d;
        pl_fn_civil_from_days(day, &y, &m, &d);
        o[i] = (int32_t)pl_fn_days_from_civil(y, m, pl_fn_days_in_month(y, m));
    }
    pl_free(owned);
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- the set */

#define EW (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def g_time[] = {
    {"date_part", "extract datepart", 2, 2, EW, bind_extract, k_extract},
    {"year", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"quarter", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"month", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"week", "weekofyear", 1, 1, EW, bind_part_fn, k_extract},
    {"day", "dayofmonth", 1, 1, EW, bind_part_fn, k_extract},
    {"dayofweek", "weekday", 1, 1, EW, bind_part_fn, k_extract},
    {"isodow", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"dayofyear", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"hour", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"minute", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"second", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"millisecond", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"microsecond", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"nanosecond", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"isoyear", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"yearweek", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"decade", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"century", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"millennium", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"era", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"julian", NULL, 1, 1, EW, bind_part_fn, k_extract},
    {"date_trunc", "datetrunc", 2, 2, EW, bind_date_trunc, k_date_trunc},
    {"time_bucket", NULL, 2, 3, EW, bind_time_bucket, k_time_bucket},
    {"date_diff", "datediff", 3, 3, EW, bind_ts_pair, k_ts_pair},
    {"date_sub", "datesub", 3, 3, EW, bind_ts_pair, k_ts_pair},
    {"age", NULL, 2, 2, EW, bind_ts_pair, k_ts_pair},
    {"now", "current_timestamp get_current_timestamp transaction_timestamp", 0, 0, PL_FN_VOLATILE,
     bind_now, k_now},
    {"current_date", "today", 0, 0, PL_FN_VOLATILE, bind_current_date, k_current_date},
    {"current_time", "get_current_time localtime", 0, 0, PL_FN_VOLATILE, bind_current_time,
     k_current_time},
    {"timezone", NULL, 2, 2, EW, bind_timezone, k_timezone},
    {"__session_zone", NULL, 2, 2, PL_FN_ELEMENTWISE, bind_session_zone, k_session_zone},
    {"epoch", NULL, 1, 1, EW, bind_epoch, k_epoch},
    {"epoch_ms", NULL, 1, 1, EW, bind_epoch, k_epoch},
    {"epoch_us", NULL, 1, 1, EW, bind_epoch, k_epoch},
    {"epoch_ns", NULL, 1, 1, EW, bind_epoch, k_epoch},
    {"to_timestamp", NULL, 1, 1, EW, bind_to_timestamp, k_to_timestamp},
    {"make_date", NULL, 3, 3, EW, bind_make, k_make},
    {"make_time", NULL, 3, 3, EW, bind_make, k_make},
    {"make_timestamp", NULL, 1, 6, EW, bind_make, k_make},
    {"strftime", NULL, 2, 2, EW, pl_time_bind_strftime, pl_time_k_strftime},
    {"dayname", NULL, 1, 1, EW, pl_time_bind_name, pl_time_k_strftime},
    {"monthname", NULL, 1, 1, EW, pl_time_bind_name, pl_time_k_strftime},
    {"last_day", NULL, 1, 1, EW, bind_last_day, k_last_day},
    {"date_add", NULL, 2, 2, EW, pl_time_bind_date_add, pl_time_k_date_add},
    {"to_years", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_quarters", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_months", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_decades", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_centuries", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_millennia", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_weeks", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_days", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_hours", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_minutes", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_seconds", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_milliseconds", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"to_microseconds", NULL, 1, 1, EW, pl_time_bind_to_interval, pl_time_k_to_interval},
    {"strptime", NULL, 2, 2, EW, pl_time_bind_strptime, pl_time_k_strptime},
    {"try_strptime", NULL, 2, 2, EW, pl_time_bind_strptime, pl_time_k_strptime},
};

const pl_func_set pl_funcs_time = {(int32_t)PL_ARRAY_LEN(g_time), g_time};
