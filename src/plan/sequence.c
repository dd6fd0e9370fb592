/* sequence.c - generated rows (pl_df_range, SQL range / generate_series): a TABLE node without
 * a table whose stream makes its values batch by batch while the plan runs, so a long sequence
 * never sits in memory. Linear sequences (integers; timestamps stepped by days and time) compute
 * row k as start + k * step in 128-bit arithmetic (no overflow whatever the bounds); a timestamp
 * stepped by calendar months (or by days in a time zone other than UTC, where a day is a local
 * one) adds the interval to the previous value (2024-01-31, 02-29, 03-29, ... like DuckDB), and its row count is found by stepping once when the node is built (at most
 * a few million steps: months span the whole timestamp range in ~3.5 million). */
#include <stdio.h>
#include <string.h>

#include "expr/funcs_int.h"
#include "expr/time_int.h"
#include "plan/plan.h"

#define RANGE_BATCH_ROWS (4 * 65536)

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory generating a range"); }

typedef __int128 i128;

/* The step in the type's units for a linear sequence (no months); sets *linear. */
static i128 units_step(const pl_range_spec *s, int64_t per_sec) {
    if (s->type->id == PL_TYPE_INT64) return s->step_i64;
    i128 day = (i128)per_sec * 86400;
    return (i128)s->step_iv.days * day + (i128)s->step_iv.ns * per_sec / 1000000000;
}

/* Rows of start, start + step, ... before (or up to) stop. */
static unsigned __int128 linear_count(int64_t start, int64_t stop, i128 step, bool inclusive) {
    i128 diff = (i128)stop - start;
    if (step < 0) {
        diff = -diff;
        step = -step;
    }
    if (diff < 0 || (diff == 0 && !inclusive)) return 0;
    return (unsigned __int128)(inclusive ? diff / step + 1 : (diff + step - 1) / step);
}

/* t + iv for a (UTC or naive) timestamp in units of per_sec; false when the result leaves the
 * int64 range. Months first (day clamped to the month's length), then days, then the rest. */
static bool ts_step(int64_t t, pl_interval iv, int64_t per_sec, int64_t *out) {
    int64_t per_day = per_sec * 86400;
    int64_t day = pl_fn_floordiv(t, per_day);
    int64_t tod = t - day * per_day;
    if (iv.months) {
        int64_t y;
        int32_t m, d;
        pl_fn_civil_from_days(day, &y, &m, &d);
        int64_t mi = y * 12 + (m - 1) + iv.months;
        int64_t y2 = pl_fn_floordiv(mi, 12);
        int32_t m2 = (int32_t)(mi - y2 * 12) + 1;
        int32_t dim = pl_fn_days_in_month(y2, m2);
        day = pl_fn_days_from_civil(y2, m2, d > dim ? dim : d);
    }
    i128 r = ((i128)day + iv.days) * per_day + tod + (i128)iv.ns * per_sec / 1000000000;
    if (r > INT64_MAX || r < INT64_MIN) return false;
    *out = (int64_t)r;
    return true;
}

static bool before_stop(int64_t t, const pl_range_spec *s, bool up) {
    if (up) return s->inclusive ? t <= s->stop : t < s->stop;
    return s->inclusive ? t >= s->stop : t > s->stop;
}

/* ts_step in zone z (NULL: UTC or naive): months and days are local ones (a DST change moves
 * the UTC instant; a local time in a gap takes the offset before it), the rest is elapsed
 * time, as `ts + INTERVAL` does in that zone (time_arith.c) and DuckDB's range. */
static bool zone_step(int64_t t, pl_interval iv, int64_t per_sec, const pl_tz *z, int64_t *out) {
    if (!z || !(iv.months || iv.days)) return ts_step(t, iv, per_sec, out);
    int64_t d, lt;
    int64_t off = pl_tz_offset_at_utc(z, pl_fn_floordiv(t, per_sec));
    if (__builtin_mul_overflow(off, per_sec, &d) || __builtin_add_overflow(t, d, &lt)) return false;
    pl_interval cal = {iv.months, iv.days, 0}, rest = {0, 0, iv.ns};
    if (!ts_step(lt, cal, per_sec, &lt)) return false;
    off = pl_tz_offset_for_local(z, pl_fn_floordiv(lt, per_sec));
    if (__builtin_mul_overflow(off, per_sec, &d) || __builtin_sub_overflow(lt, d, &t)) return false;
    return ts_step(t, rest, per_sec, out);
}

/* Sequences made by stepping (not start + k * step): calendar months, and days in a zone. */
static bool stepped(const pl_range_spec *s, const pl_tz *z) {
    return s->step_iv.months || (z && s->step_iv.days);
}

pl_status pl_df_range(const char *name, const pl_range_spec *spec, pl_df **out, pl_error *err) {
    if (!name || !spec || !spec->type || !out)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_df_range: NULL argument");
    const pl_type *t = spec->type;
    const pl_tz *zone = NULL;
    int64_t per_sec = 1;
    int64_t max_rows = spec->max_rows > 0 ? spec->max_rows : PL_DF_RANGE_MAX_ROWS;
    bool up;
    if (t->id == PL_TYPE_INT64) {
        if (spec->step_i64 == 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "the step of a range cannot be 0");
        up = spec->step_i64 > 0;
    } else if (t->id == PL_TYPE_TIMESTAMP) {
        pl_interval iv = spec->step_iv;
        PL_TRY(pl_time_zone_of(t, &zone, err));
        per_sec = pl_fn_unit_per_sec(t->unit);
        int pos = (iv.months > 0) + (iv.days > 0) + (iv.ns > 0);
        int neg = (iv.months < 0) + (iv.days < 0) + (iv.ns < 0);
        if (pos && neg)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "a range step interval whose parts have mixed signs "
                    "is not supported");
        if (!pos && !neg) PL_FAIL(err, PL_ERR_INVALID_ARG, "the step of a range cannot be 0");
        if (!iv.months && units_step(spec, per_sec) == 0)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "the step of a range is shorter than the timestamp's unit");
        up = pos > 0;
    } else {
        char b[64];
        PL_FAIL(err, PL_ERR_TYPE, "a range of %s is not supported (BIGINT or TIMESTAMP)",
                pl_type_to_string(t, b, sizeof b));
    }
    unsigned __int128 rows;
    if (t->id == PL_TYPE_TIMESTAMP && zone && !spec->step_iv.months && spec->step_iv.days &&
        linear_count(spec->start, spec->stop, units_step(spec, per_sec), spec->inclusive) >
            (unsigned __int128)max_rows + 2) {
        /* local days differ from 24 hours by the offset changes only: far too many rows, known
         * without stepping through them */
        rows = linear_count(spec->start, spec->stop, units_step(spec, per_sec), spec->inclusive);
    } else if (t->id == PL_TYPE_TIMESTAMP && stepped(spec, zone)) {
        rows = 0;
        int64_t v = spec->start;
        while (before_stop(v, spec, up)) {
            if (++rows > (unsigned __int128)max_rows) break;
            if (!zone_step(v, spec->step_iv, per_sec, zone, &v)) break;
        }
    } else {
        rows = linear_count(spec->start, spec->stop, units_step(spec, per_sec), spec->inclusive);
    }
    if (rows > (unsigned __int128)max_rows)
        PL_FAIL(err, PL_ERR_LIMIT, "a range of more than %lld rows is refused (this one has %s%llu)",
                (long long)max_rows, rows > UINT64_MAX ? "more than " : "",
                (unsigned long long)(rows > UINT64_MAX ? UINT64_MAX : (uint64_t)rows));
    pl_field f;
    PL_TRY(pl_field_init(&f, name, spec->type, true, err));
    pl_schema *sch = NULL;
    pl_status st = pl_schema_new(1, &f, &sch, err);
    pl_field_reset(&f);
    PL_TRY(st);
    pl_df *d = pl_plan_node_new(PL_PLAN_TABLE, 0, NULL);
    if (!d) {
        pl_schema_release(sch);
        return nomem(err);
    }
    d->schema = sch;
    d->is_range = true;
    d->range = *spec;
    d->range.type = pl_type_retain(spec->type);
    d->range.max_rows = max_rows;
    d->range_rows = (int64_t)rows;
    d->est_rows = (int64_t)rows;
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- the stream */

typedef struct range_stream {
    pl_range_spec spec; /* type borrowed from the schema */
    i128 step;          /* linear sequences */
    int64_t per_sec;
    int64_t rows, done;
    int64_t cur;        /* stepped sequences: the next value */
    const pl_tz *zone;  /* TIMESTAMPTZ in a zone other than UTC */
} range_stream;

static pl_status range_next(pl_stream *s, pl_batch **out, pl_error *err) {
    range_stream *r = s->impl;
    *out = NULL;
    int64_t n = r->rows - r->done;
    if (n <= 0) return PL_OK;
    if (n > RANGE_BATCH_ROWS) n = RANGE_BATCH_ROWS;
    pl_buf *vals = NULL;
    PL_TRY(pl_buf_new(n * 8, &vals, err));
    vals->size = n * 8;
    int64_t *v = (int64_t *)vals->data;
    if (r->spec.type->id == PL_TYPE_TIMESTAMP && stepped(&r->spec, r->zone)) {
        for (int64_t i = 0; i < n; i++) {
            v[i] = r->cur;
            /* the count was found by the same steps: only a step past the last row may fail */
            if (!zone_step(r->cur, r->spec.step_iv, r->per_sec, r->zone, &r->cur)) r->cur = 0;
        }
    } else {
        i128 base = (i128)r->spec.start + r->step * r->done;
        for (int64_t i = 0; i < n; i++) v[i] = (int64_t)(base + r->step * i);
    }
    pl_array *a = NULL;
    pl_status st = pl_array_new(pl_type_retain(s->schema->fields[0].type), n, 0, NULL, vals, NULL,
                                0, NULL, NULL, &a, err);
    if (st) return st;
    pl_batch *b = NULL;
    PL_TRY(pl_batch_new(pl_schema_retain(s->schema), n, &a, &b, err));
    r->done += n;
    *out = b;
    return PL_OK;
}

static void range_free(pl_stream *s) {
    pl_free(s->impl);
    pl_schema_release(s->schema);
    pl_free(s);
}

pl_status pl_range_stream(const pl_df *d, pl_stream **out, pl_error *err) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    range_stream *r = pl_calloc(1, sizeof *r);
    if (!s || !r) {
        pl_free(s);
        pl_free(r);
        return nomem(err);
    }
    pl_status st = pl_time_zone_of(d->range.type, &r->zone, err);
    if (st) {
        pl_free(s);
        pl_free(r);
        return st;
    }
    r->spec = d->range;
    r->per_sec = d->range.type->id == PL_TYPE_TIMESTAMP ? pl_fn_unit_per_sec(d->range.type->unit) : 1;
    r->step = units_step(&d->range, r->per_sec);
    r->rows = d->range_rows;
    r->cur = d->range.start;
    s->impl = r;
    s->schema = pl_schema_retain(d->schema);
    s->next = range_next;
    s->free = range_free;
    *out = s;
    return PL_OK;
}

void pl_range_describe(const pl_df *d, char *buf, size_t n) {
    const pl_range_spec *s = &d->range;
    const char *kind = s->inclusive ? "GENERATE_SERIES" : "RANGE";
    if (s->type->id == PL_TYPE_INT64)
        snprintf(buf, n, "%s %lld to %lld step %lld (%lld rows)", kind, (long long)s->start,
                 (long long)s->stop, (long long)s->step_i64, (long long)d->range_rows);
    else
        snprintf(buf, n, "%s of timestamps step %d months %d days %lld ns (%lld rows)", kind,
                 (int)s->step_iv.months, (int)s->step_iv.days, (long long)s->step_iv.ns,
                 (long long)d->range_rows);
}
