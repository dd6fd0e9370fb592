/* time_int.h - shared pieces of the date/time functions (kernels_time.c, time_fmt.c,
 * time_arith.c): date part codes, the per-call bound state, and the local-time cursor that
 * caches a zone's offset over the range of instants where it is constant. */
#ifndef PL_TIME_INT_H
#define PL_TIME_INT_H

#include "expr/funcs_int.h"
#include "io/text/text.h"

enum {
    PT_YEAR, PT_QUARTER, PT_MONTH, PT_WEEK, PT_DAY, PT_DOW, PT_ISODOW, PT_DOY, PT_HOUR,
    PT_MINUTE, PT_SECOND, PT_MS, PT_US, PT_NS, PT_EPOCH, PT_ISOYEAR, PT_DECADE, PT_CENTURY,
    PT_MILLENNIUM, PT_YEARWEEK, PT_ERA, PT_JULIAN, PT_TZ, PT_TZ_HOUR, PT_TZ_MINUTE
};

/* A date part from its (case-insensitive) name or alias, or -1. */
int pl_time_part_from_name(const char *s, int64_t len);

typedef struct pl_time_state {
    int part;
    const pl_tz *tz;  /* local time of the (first) timestamp argument; NULL = none/UTC */
    const pl_tz *tz2; /* date_diff: of the second */
    int pair;         /* date_diff / date_sub / age (PAIR_*, kernels_time.c) */
    /* time_bucket */
    int64_t width;    /* units of the argument, fixed-width buckets */
    int32_t months;   /* month buckets */
    int64_t origin;   /* units */
    int64_t origin_month, origin_shift;
    bool null_result;
    /* timezone() */
    bool to_naive;
    /* strftime / strptime */
    pl_time_format tf;
    bool try_mode;
} pl_time_state;

/* A zeroed state set as call->state (freed with the call). */
pl_status pl_time_state_new(pl_bexpr *call, pl_time_state **out, pl_error *err);
/* The zone of a zoned timestamp type (NULL for naive ones and for UTC). */
pl_status pl_time_zone_of(const pl_type *t, const pl_tz **tz, pl_error *err);
/* Units per second of TIMESTAMP/TIME64 (DATE32 values are handled as microseconds). */
int64_t pl_time_per_sec(const pl_type *t);

/* Local time from UTC instants (and back) for one zone, caching the offset range. */
typedef struct pl_tz_cursor {
    const pl_tz *tz;
    int64_t per_sec;
    int64_t lo, hi;  /* UTC seconds where off_s holds */
    int64_t off_s;
    int64_t last_local, last_utc; /* memo of the last local -> UTC conversion */
} pl_tz_cursor;

void pl_tz_cursor_init(pl_tz_cursor *c, const pl_tz *tz, int64_t per_sec);

static inline int64_t pl_tz_local(pl_tz_cursor *c, int64_t t) {
    int64_t s = pl_fn_floordiv(t, c->per_sec);
    if (PL_UNLIKELY(s < c->lo || s >= c->hi)) c->off_s = pl_tz_offset_range(c->tz, s, &c->lo, &c->hi);
    return t + c->off_s * c->per_sec;
}

static inline int64_t pl_tz_utc(pl_tz_cursor *c, int64_t local) {
    if (local == c->last_local) return c->last_utc;
    int64_t off = pl_tz_offset_for_local(c->tz, pl_fn_floordiv(local, c->per_sec));
    c->last_local = local;
    c->last_utc = local - off * c->per_sec;
    return c->last_utc;
}

/* strftime / strptime (time_fmt.c) */
pl_status pl_time_bind_strftime(pl_bexpr *call, pl_error *err);
pl_status pl_time_k_strftime(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n_rows, pl_datum *out, pl_error *err);
pl_status pl_time_bind_name(pl_bexpr *call, pl_error *err); /* dayname, monthname */
pl_status pl_time_bind_strptime(pl_bexpr *call, pl_error *err);
pl_status pl_time_k_strptime(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n_rows, pl_datum *out, pl_error *err);

/* to_years/quarters/months/weeks/days/hours/minutes/seconds/milliseconds/microseconds,
 * to_decades/centuries/millennia(n): an interval of n units, like DuckDB (time_arith.c) */
pl_status pl_time_bind_to_interval(pl_bexpr *call, pl_error *err);
pl_status pl_time_k_to_interval(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n_rows, pl_datum *out, pl_error *err);

/* date_add(x, interval | integer days) (time_arith.c) */
pl_status pl_time_bind_date_add(pl_bexpr *call, pl_error *err);
pl_status pl_time_k_date_add(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n_rows, pl_datum *out, pl_error *err);

#endif
