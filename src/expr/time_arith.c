/* time_arith.c - date/time arithmetic behind the "add" and "sub" operators
 * (pl_temporal_add_bind / pl_temporal_sub_bind, called by the core binders):
 *   timestamp +/- interval -> timestamp     date +/- interval -> timestamp[us]
 *   date +/- integer       -> date          date - date       -> int64 (days)
 *   timestamp - timestamp  -> interval      interval +/- interval -> interval
 *   time +/- interval      -> time          date + time       -> timestamp[us]
 * and interval * number, number * interval, interval / number -> interval
 * (pl_interval_mul_bind, called by the mul/div binders; rules at the end of the file).
 * Interval months are added as calendar months with the day clamped to the month's length
 * (2024-01-31 + 1 month = 2024-02-29), then days, then the time part, as DuckDB. For zoned
 * timestamps months and days are added in the zone's local time. ts - ts gives days and a
 * time remainder (no months), like DuckDB ("2 days 01:29:58.5"). Overflow is an error naming
 * the row. */
#include <math.h>
#include <string.h>

#include "expr/funcs_int.h"
#include "expr/time_int.h"

enum {
    TA_TS_IV,     /* a: timestamp (or date as timestamp), b: interval */
    TA_DATE_INT,  /* a: date, b: integer days */
    TA_DATE_DATE, /* a - b in days */
    TA_TS_TS,     /* a - b as an interval */
    TA_IV_IV,
    TA_TIME_IV,
    TA_DATE_TIME, /* date + time */
    TA_NULL,      /* an argument is the NULL type: all NULL */
};

typedef struct arith_state {
    int op;
    bool sub;
    bool swap; /* the interval/integer/time came first: args[0] and args[1] exchanged */
    const pl_tz *tz;
} arith_state;

static void arith_free(void *p) { pl_free(p); }

static bool is_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }

static pl_status no_op(pl_bexpr *call, bool sub, pl_error *err) {
    char a[64], b[64];
    pl_type_to_string(call->args[0]->type, a, sizeof a);
    pl_type_to_string(call->args[1]->type, b, sizeof b);
    PL_FAIL(err, PL_ERR_TYPE, "no operator %s(%s, %s)", sub ? "sub" : "add", a, b);
}

static pl_status arith_bind(pl_bexpr *call, bool sub, pl_kernel_fn *exec, pl_error *err);

pl_status pl_temporal_add_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err) {
    return arith_bind(call, false, exec, err);
}

pl_status pl_temporal_sub_bind(pl_bexpr *call, pl_kernel_fn *exec, pl_error *err) {
    return arith_bind(call, true, exec, err);
}

/* ---------------------------------------------------------------- kernel */

typedef struct iarg {
    bool scalar, null;
    int64_t v;
    pl_interval iv;
    const pl_array *a;
    int64_t *vals; /* owned: integer-like values widened */
    const uint8_t *ivs; /* interval array bytes (offset applied) */
} iarg;

static pl_status iarg_init(iarg *x, const pl_datum *d, pl_error *err) {
    memset(x, 0, sizeof *x);
    if (d->is_scalar) {
        x->scalar = true;
        x->null = d->scalar.is_null || d->scalar.type->id == PL_TYPE_NA;
        if (d->scalar.type->id == PL_TYPE_INTERVAL) x->iv = d->scalar.v.iv;
        else x->v = pl_fn_scalar_i64(&d->scalar);
        return PL_OK;
    }
    x->a = d->array;
    if (d->array->type->id == PL_TYPE_INTERVAL) {
        x->ivs = d->array->values->data + d->array->offset * 16;
        return PL_OK;
    }
    int64_t n = d->array->length;
    x->vals = pl_malloc((size_t)(n > 0 ? n : 1) * 8);
    if (!x->vals) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in date/time arithmetic");
    pl_fn_read_i64(d->array, x->vals);
    return PL_OK;
}

static inline int64_t iarg_i64(const iarg *x, int64_t i) { return x->scalar ? x->v : x->vals[i]; }
static inline pl_interval iarg_iv(const iarg *x, int64_t i) {
    if (x->scalar) return x->iv;
    pl_interval r;
    memcpy(&r.months, x->ivs + i * 16, 4);
    memcpy(&r.days, x->ivs + i * 16 + 4, 4);
    memcpy(&r.ns, x->ivs + i * 16 + 8, 8);
    return r;
}

/* t + sign * iv for a timestamp in units of per_sec; false on overflow. */
static inline bool ts_add(int64_t t, pl_interval iv, int sign, int64_t per_sec, pl_tz_cursor *cur,
                          int64_t *out) {
    if (iv.months || iv.days) {
        int64_t per_day = per_sec * 86400;
        int64_t lt = cur->tz ? pl_tz_local(cur, t) : t;
        int64_t day = pl_fn_floordiv(lt, per_day);
        int64_t tod = pl_fn_floormod(lt, per_day); /* lt - day * per_day overflows near INT64_MIN */
        if (iv.months) {
            int64_t y;
            int32_t m, d;
            pl_fn_civil_from_days(day, &y, &m, &d);
            int64_t mi = y * 12 + (m - 1) + (int64_t)sign * iv.months;
            int64_t y2 = pl_fn_floordiv(mi, 12);
            int32_t m2 = (int32_t)(mi - y2 * 12) + 1;
            int32_t dim = pl_fn_days_in_month(y2, m2);
            day = pl_fn_days_from_civil(y2, m2, d > dim ? dim : d);
        }
        day += (int64_t)sign * iv.days;
        int64_t r;
        if (__builtin_mul_overflow(day, per_day, &r) || __builtin_add_overflow(r, tod, &r))
            return false;
        t = cur->tz ? pl_tz_utc(cur, r) : r;
    }
    if (iv.ns) {
        int64_t u = per_sec == 1000000000 ? iv.ns : (int64_t)((__int128)iv.ns * per_sec / 1000000000);
        if (__builtin_add_overflow(t, sign * u, &t)) return false;
    }
    *out = t;
    return true;
}

static pl_status k_arith(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_arith, out, err);
    const arith_state *s = call->state;
    if (s->op == TA_NULL) return pl_fn_out_nulls(out, call->type, n, err);
    const pl_datum *da = &args[s->swap ? 1 : 0], *db = &args[s->swap ? 0 : 1];
    pl_datum both[2] = {*da, *db};
    pl_buf *validity = NULL, *values = NULL;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(both, 2, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, call->type, n, err);
    iarg a, b;
    memset(&b, 0, sizeof b);
    pl_status st = iarg_init(&a, da, err);
    if (!st) st = iarg_init(&b, db, err);
    int32_t width = call->type->byte_width;
    if (!st) st = pl_fn_new_values(n, width, &values, err);
    if (st) {
        pl_free(a.vals);
        pl_free(b.vals);
        pl_buf_release(validity);
        return st;
    }
    const pl_type *ta = da->is_scalar ? da->scalar.type : da->array->type;
    const pl_type *tb = db->is_scalar ? db->scalar.type : db->array->type;
    int sign = s->sub ? -1 : 1;
    int64_t bad_row = -1;
    uint8_t *o8 = values->data;
    int64_t *o = (int64_t *)(void *)o8;
    switch (s->op) {
    case TA_TS_IV: {
        int64_t per_sec = pl_time_per_sec(call->type);
        bool from_date = ta->id == PL_TYPE_DATE32;
        pl_tz_cursor cur;
        pl_tz_cursor_init(&cur, s->tz, per_sec);
        /* fast path: a scalar interval of time only on a plain timestamp column */
        if (!from_date && b.scalar && !b.iv.months && !b.iv.days && !a.scalar) {
            int64_t u = per_sec == 1000000000 ? b.iv.ns : (int64_t)((__int128)b.iv.ns * per_sec / 1000000000);
            u *= sign;
            bool ovf = false;
            for (int64_t i = 0; i < n; i++) ovf |= __builtin_add_overflow(a.vals[i], u, &o[i]);
            if (ovf) {
                for (int64_t i = 0; i < n && bad_row < 0; i++) {
                    int64_t tmp;
                    if (__builtin_add_overflow(a.vals[i], u, &tmp) &&
                        (!validity || pl_bit_get(validity->data, i)))
                        bad_row = i;
                }
            }
            break;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t t = iarg_i64(&a, i);
            /* a date past the timestamp range overflows: out of range like the sum */
            bool bad = from_date && __builtin_mul_overflow(t, PL_US_PER_DAY, &t);
            if (bad || !ts_add(t, iarg_iv(&b, i), sign, per_sec, &cur, &o[i])) {
                o[i] = 0;
                if (!validity || pl_bit_get(validity->data, i)) {
                    bad_row = i;
                    break;
                }
            }
        }
        break;
    }
    case TA_DATE_INT: {
        int32_t *d = (int32_t *)(void *)o8;
        for (int64_t i = 0; i < n; i++) {
            int64_t r = iarg_i64(&a, i) + sign * iarg_i64(&b, i);
            if (r < INT32_MIN || r > INT32_MAX) {
                r = 0;
                if (!validity || pl_bit_get(validity->data, i)) {
                    bad_row = i;
                    break;
                }
            }
            d[i] = (int32_t)r;
        }
        break;
    }
    case TA_DATE_DATE:
        for (int64_t i = 0; i < n; i++) o[i] = iarg_i64(&a, i) - iarg_i64(&b, i);
        break;
    case TA_DATE_TIME: {
        int64_t tmul = tb->unit == PL_UNIT_NS ? 1000 : 1;
        for (int64_t i = 0; i < n; i++) {
            int64_t day_us;
            if (__builtin_mul_overflow(iarg_i64(&a, i), PL_US_PER_DAY, &day_us) ||
                __builtin_add_overflow(day_us, iarg_i64(&b, i) / tmul, &o[i])) {
                o[i] = 0;
                if (!validity || pl_bit_get(validity->data, i)) {
                    bad_row = i;
                    break;
                }
            }
        }
        break;
    }
    case TA_TS_TS: {
        int64_t pa = pl_time_per_sec(ta), pb = pl_time_per_sec(tb);
        int64_t ma = 1000000000 / pa, mb = 1000000000 / pb;
        bool da_date = ta->id == PL_TYPE_DATE32, db_date = tb->id == PL_TYPE_DATE32;
        const int64_t day_ns = INT64_C(86400000000000);
        for (int64_t i = 0; i < n; i++) {
            __int128 x = (__int128)iarg_i64(&a, i) * (da_date ? day_ns : ma);
            __int128 y = (__int128)iarg_i64(&b, i) * (db_date ? day_ns : mb);
            __int128 diff = x - y;
            __int128 days = diff / day_ns, rem = diff % day_ns;
            int32_t dd = (int32_t)days;
            int64_t ns = (int64_t)rem;
            int32_t zero = 0;
            if (days > INT32_MAX || days < INT32_MIN) {
                dd = 0;
                ns = 0;
                if (!validity || pl_bit_get(validity->data, i)) {
                    bad_row = i;
                    break;
                }
            }
            memcpy(o8 + i * 16, &zero, 4);
            memcpy(o8 + i * 16 + 4, &dd, 4);
            memcpy(o8 + i * 16 + 8, &ns, 8);
        }
        break;
    }
    case TA_IV_IV:
        for (int64_t i = 0; i < n; i++) {
            pl_interval x = iarg_iv(&a, i), y = iarg_iv(&b, i);
            int32_t mo, dd;
            int64_t ns;
            bool ovf = __builtin_add_overflow(x.months, sign * (int64_t)y.months, &mo) |
                       __builtin_add_overflow(x.days, sign * (int64_t)y.days, &dd) |
                       (s->sub ? __builtin_sub_overflow(x.ns, y.ns, &ns)
                               : __builtin_add_overflow(x.ns, y.ns, &ns));
            if (ovf) {
                mo = dd = 0;
                ns = 0;
                if (!validity || pl_bit_get(validity->data, i)) {
                    bad_row = i;
                    break;
                }
            }
            memcpy(o8 + i * 16, &mo, 4);
            memcpy(o8 + i * 16 + 4, &dd, 4);
            memcpy(o8 + i * 16 + 8, &ns, 8);
        }
        break;
    case TA_TIME_IV: {
        int64_t per_sec = pl_time_per_sec(ta), per_day = per_sec * 86400;
        for (int64_t i = 0; i < n; i++) {
            pl_interval iv = iarg_iv(&b, i);
            int64_t u = (int64_t)((__int128)iv.ns * per_sec / 1000000000 % per_day);
            o[i] = pl_fn_floormod(iarg_i64(&a, i) + sign * u, per_day);
        }
        break;
    }
    default: break;
    }
    pl_free(a.vals);
    pl_free(b.vals);
    if (bad_row >= 0) {
        pl_buf_release(validity);
        pl_buf_release(values);
        char tn[64];
        pl_type_to_string(call->type, tn, sizeof tn);
        if (err) err->row = bad_row;
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s out of range in %s at row %lld", tn,
                s->sub ? "sub" : "add", (long long)bad_row);
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, nc, values, NULL, err);
}

/* ---------------------------------------------------------------- binding */

static pl_status arith_bind(pl_bexpr *call, bool sub, pl_kernel_fn *exec, pl_error *err) {
    if (call->n_args != 2) return no_op(call, sub, err);
    const pl_type *a = call->args[0]->type, *b = call->args[1]->type;
    pl_type_id ia = a->id, ib = b->id;
    arith_state st = {.sub = sub, .op = -1};
    pl_type *rt = NULL;
    pl_status rc = PL_OK;
#define TS_LIKE(id) ((id) == PL_TYPE_TIMESTAMP || (id) == PL_TYPE_DATE32)
    if (ia == PL_TYPE_NA || ib == PL_TYPE_NA) {
        const pl_type *o = ia == PL_TYPE_NA ? b : a;
        st.op = TA_NULL;
        if (o->id == PL_TYPE_NA) return no_op(call, sub, err);
        if (o->id == PL_TYPE_DATE32 && sub && ia == PL_TYPE_DATE32) rt = pl_type_simple(PL_TYPE_INT64);
        else rt = pl_type_retain((pl_type *)o);
    } else if (ia == PL_TYPE_TIMESTAMP && ib == PL_TYPE_INTERVAL) {
        st.op = TA_TS_IV;
        rt = pl_type_retain((pl_type *)a);
    } else if (!sub && ia == PL_TYPE_INTERVAL && ib == PL_TYPE_TIMESTAMP) {
        st.op = TA_TS_IV;
        st.swap = true;
        rt = pl_type_retain((pl_type *)b);
    } else if (ia == PL_TYPE_DATE32 && ib == PL_TYPE_INTERVAL) {
        st.op = TA_TS_IV;
        rc = pl_type_new_timestamp(PL_UNIT_US, NULL, &rt, err);
    } else if (!sub && ia == PL_TYPE_INTERVAL && ib == PL_TYPE_DATE32) {
        st.op = TA_TS_IV;
        st.swap = true;
        rc = pl_type_new_timestamp(PL_UNIT_US, NULL, &rt, err);
    } else if (ia == PL_TYPE_DATE32 && is_int(ib)) {
        st.op = TA_DATE_INT;
        rt = pl_type_simple(PL_TYPE_DATE32);
    } else if (!sub && is_int(ia) && ib == PL_TYPE_DATE32) {
        st.op = TA_DATE_INT;
        st.swap = true;
        rt = pl_type_simple(PL_TYPE_DATE32);
    } else if (sub && ia == PL_TYPE_DATE32 && ib == PL_TYPE_DATE32) {
        st.op = TA_DATE_DATE;
        rt = pl_type_simple(PL_TYPE_INT64);
    } else if (sub && TS_LIKE(ia) && TS_LIKE(ib)) {
        st.op = TA_TS_TS;
        rt = pl_type_simple(PL_TYPE_INTERVAL);
    } else if (ia == PL_TYPE_INTERVAL && ib == PL_TYPE_INTERVAL) {
        st.op = TA_IV_IV;
        rt = pl_type_simple(PL_TYPE_INTERVAL);
    } else if (ia == PL_TYPE_TIME64 && ib == PL_TYPE_INTERVAL) {
        st.op = TA_TIME_IV;
        rt = pl_type_retain((pl_type *)a);
    } else if (!sub && ia == PL_TYPE_INTERVAL && ib == PL_TYPE_TIME64) {
        st.op = TA_TIME_IV;
        st.swap = true;
        rt = pl_type_retain((pl_type *)b);
    } else if (!sub && ia == PL_TYPE_DATE32 && ib == PL_TYPE_TIME64) {
        st.op = TA_DATE_TIME;
        rc = pl_type_new_timestamp(PL_UNIT_US, NULL, &rt, err);
    } else if (!sub && ia == PL_TYPE_TIME64 && ib == PL_TYPE_DATE32) {
        st.op = TA_DATE_TIME;
        st.swap = true;
        rc = pl_type_new_timestamp(PL_UNIT_US, NULL, &rt, err);
    }
#undef TS_LIKE
    if (rc) return rc;
    if (st.op < 0) return no_op(call, sub, err);
    if (st.op == TA_TS_IV && rt->tz) {
        rc = pl_time_zone_of(rt, &st.tz, err);
        if (rc) {
            pl_type_release(rt);
            return rc;
        }
    }
    arith_state *s = pl_malloc(sizeof *s);
    if (!s) {
        pl_type_release(rt);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding date/time arithmetic");
    }
    *s = st;
    call->state = s;
    call->free_state = arith_free;
    call->type = rt;
    *exec = k_arith;
    return PL_OK;
}

/* ---------------------------------------------------------------- date_add() */

pl_status pl_time_bind_date_add(pl_bexpr *call, pl_error *err) {
    pl_kernel_fn fn;
    return arith_bind(call, false, &fn, err);
}

pl_status pl_time_k_date_add(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n_rows, pl_datum *out, pl_error *err) {
    return k_arith(ec, call, args, n_rows, out, err);
}

/* ---------------------------------------------------------------- interval * number, / number
 *
 * As DuckDB (PostgreSQL's interval_mul): interval * integer multiplies each part exactly (the
 * integer must fit 32 bits; overflow is an error); interval * DOUBLE/DECIMAL and
 * interval / number (= interval * (1 / number)) keep the whole months and days and cascade
 * the fractions down: a fraction of a month becomes 30-day days (rounded to a microsecond of a
 * day), what is left of a day becomes time, rounded half to even to the microsecond. Nothing
 * cascades up (12 hours * 3 is 36:00:00). Division by zero is an error. */

typedef struct ivmul_state {
    bool swap;   /* the number came first */
    bool fp;     /* double path (else exact integer path) */
    bool div;
    bool null;   /* the number is the NULL type */
} ivmul_state;

static double round_us(double x) { return nearbyint(x * 1e6) / 1e6; }

/* iv * f by the fractional rule; false on overflow. */
static bool iv_mul_f64(pl_interval iv, double f, pl_interval *out) {
    double mf = (double)iv.months * f, df = (double)iv.days * f;
    if (isnan(mf) || mf < INT32_MIN || mf > INT32_MAX || isnan(df) || df < INT32_MIN || df > INT32_MAX)
        return false;
    int32_t m = (int32_t)mf, d = (int32_t)df;
    double month_rem = round_us((mf - m) * 30.0);
    int32_t day_rem = (int32_t)month_rem;
    double sec_rem = round_us((df - d + month_rem - day_rem) * 86400.0);
    int64_t days = (int64_t)d;
    if (fabs(sec_rem) >= 86400.0) {
        int32_t carry = (int32_t)(sec_rem / 86400.0);
        days += carry;
        sec_rem -= (double)carry * 86400.0;
    }
    days += day_rem;
    double us = nearbyint((double)iv.ns / 1000.0 * f + sec_rem * 1e6);
    if (isnan(us) || us < -9.2233720368547e15 || us > 9.2233720368547e15 || days < INT32_MIN ||
        days > INT32_MAX)
        return false;
    out->months = m;
    out->days = (int32_t)days;
    out->ns = (int64_t)us * 1000;
    return true;
}

static bool iv_mul_i64(pl_interval iv, int64_t k, pl_interval *out) {
    if (k < INT32_MIN || k > INT32_MAX) return false;
    return !__builtin_mul_overflow(iv.months, (int32_t)k, &out->months) &&
           !__builtin_mul_overflow(iv.days, (int32_t)k, &out->days) &&
           !__builtin_mul_overflow(iv.ns, k, &out->ns);
}

static pl_status k_ivmul(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_ivmul, out, err);
    const ivmul_state *s = call->state;
    if (s->null) return pl_fn_out_nulls(out, call->type, n, err);
    const pl_datum *di = &args[s->swap ? 1 : 0], *dn = &args[s->swap ? 0 : 1];
    pl_datum both[2] = {*di, *dn};
    pl_buf *validity = NULL, *values = NULL;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(both, 2, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, call->type, n, err);
    iarg a;
    pl_status st = iarg_init(&a, di, err);
    if (!st) st = pl_fn_new_values(n, 16, &values, err);
    /* the number: int64 or float64 (cast when bound) */
    int64_t ki = 0;
    double kf = 0;
    const int64_t *vi = NULL;
    const double *vf = NULL;
    if (dn->is_scalar) {
        if (s->fp) kf = pl_fn_scalar_f64(&dn->scalar);
        else ki = pl_fn_scalar_i64(&dn->scalar);
    } else if (s->fp) {
        vf = (const double *)(const void *)dn->array->values->data + dn->array->offset;
    } else {
        vi = (const int64_t *)(const void *)dn->array->values->data + dn->array->offset;
    }
    if (st) {
        pl_free(a.vals);
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    uint8_t *o8 = values->data;
    int64_t bad_row = -1, wide_k = 0;
    bool by_zero = false, wide = false;
    for (int64_t i = 0; i < n; i++) {
        pl_interval r = {0, 0, 0};
        bool valid = !validity || pl_bit_get(validity->data, i);
        if (valid) {
            pl_interval iv = iarg_iv(&a, i);
            bool okv;
            if (s->fp) {
                double f = vf ? vf[i] : kf;
                if (s->div) {
                    if (f == 0) {
                        by_zero = true;
                        bad_row = i;
                        break;
                    }
                    f = 1.0 / f;
                }
                okv = iv_mul_f64(iv, f, &r);
            } else {
                int64_t k = vi ? vi[i] : ki;
                okv = iv_mul_i64(iv, k, &r);
                if (k < INT32_MIN || k > INT32_MAX) {
                    wide = true;
                    wide_k = k;
                }
            }
            if (!okv) {
                bad_row = i;
                break;
            }
        }
        memcpy(o8 + i * 16, &r.months, 4);
        memcpy(o8 + i * 16 + 4, &r.days, 4);
        memcpy(o8 + i * 16 + 8, &r.ns, 8);
    }
    pl_free(a.vals);
    if (bad_row >= 0) {
        pl_buf_release(validity);
        pl_buf_release(values);
        if (err) err->row = bad_row;
        if (by_zero) PL_FAIL(err, PL_ERR_INVALID_ARG, "division by zero in interval division at row %lld",
                             (long long)bad_row);
        if (wide)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "interval multiplied by %lld at row %lld: an integer "
                    "factor must fit 32 bits (multiply by a DOUBLE instead)", (long long)wide_k,
                    (long long)bad_row);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "interval out of range in %s at row %lld",
                s->div ? "division" : "multiplication", (long long)bad_row);
    }
    return pl_fn_finish(out, pl_type_simple(PL_TYPE_INTERVAL), n, validity, nc, values, NULL, err);
}

pl_status pl_interval_mul_bind(pl_bexpr *call, bool div, pl_kernel_fn *exec, pl_error *err) {
    const char *op = div ? "div" : "mul";
    if (call->n_args != 2) PL_FAIL(err, PL_ERR_TYPE, "%s takes 2 arguments", op);
    pl_type_id ia = call->args[0]->type->id, ib = call->args[1]->type->id;
    ivmul_state st = {.div = div};
    if (ia == PL_TYPE_INTERVAL && ib == PL_TYPE_INTERVAL) {
        PL_FAIL(err, PL_ERR_TYPE, "no operator %s(interval, interval)", op);
    } else if (ib == PL_TYPE_INTERVAL) {
        if (div) {
            char a[64];
            pl_type_to_string(call->args[0]->type, a, sizeof a);
            PL_FAIL(err, PL_ERR_TYPE, "no operator div(%s, interval): an interval can only be divided by a number", a);
        }
        st.swap = true;
    }
    pl_bexpr **num = &call->args[st.swap ? 0 : 1];
    pl_type_id in = (*num)->type->id;
    if (in == PL_TYPE_NA) {
        st.null = true;
    } else if (is_int(in) && !div) {
        PL_TRY(pl_bexpr_wrap_cast(num, pl_type_simple(PL_TYPE_INT64), err));
    } else if (is_int(in) || in == PL_TYPE_FLOAT32 || in == PL_TYPE_FLOAT64 || in == PL_TYPE_DECIMAL128) {
        st.fp = true;
        PL_TRY(pl_bexpr_wrap_cast(num, pl_type_simple(PL_TYPE_FLOAT64), err));
    } else {
        char a[64], b[64];
        pl_type_to_string(call->args[0]->type, a, sizeof a);
        pl_type_to_string(call->args[1]->type, b, sizeof b);
        PL_FAIL(err, PL_ERR_TYPE, "no operator %s(%s, %s): an interval %s only by a number", op, a, b,
                div ? "divides" : "multiplies");
    }
    ivmul_state *s = pl_malloc(sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding interval arithmetic");
    *s = st;
    call->state = s;
    call->free_state = arith_free;
    call->type = pl_type_simple(PL_TYPE_INTERVAL);
    *exec = k_ivmul;
    return PL_OK;
}

/* ---------------------------------------------------------------- to_days(), to_hours(), ...
 *
 * DuckDB's interval constructors: to_years/quarters/months/weeks/days/hours/minutes/
 * microseconds, to_decades/centuries/millennia take an integer; to_seconds and
 * to_milliseconds also a DOUBLE (rounded to the microsecond, half to even). The months and
 * days of the result must fit 32 bits, its time part the interval's nanoseconds. */

typedef struct to_iv_state {
    int32_t months, days; /* per unit */
    int64_t us;           /* microseconds per unit */
    bool fp;
} to_iv_state;

static const struct {
    const char *name;
    int32_t months, days;
    int64_t us;
    bool fp;
} g_to_iv[] = {
    {"to_years", 12, 0, 0, false},          {"to_quarters", 3, 0, 0, false},
    {"to_months", 1, 0, 0, false},          {"to_decades", 120, 0, 0, false},
    {"to_centuries", 1200, 0, 0, false},    {"to_millennia", 12000, 0, 0, false},
    {"to_weeks", 0, 7, 0, false},           {"to_days", 0, 1, 0, false},
    {"to_hours", 0, 0, INT64_C(3600000000), false},
    {"to_minutes", 0, 0, INT64_C(60000000), false},
    {"to_seconds", 0, 0, INT64_C(1000000), true},
    {"to_milliseconds", 0, 0, INT64_C(1000), true},
    {"to_microseconds", 0, 0, 1, false},
};

pl_status pl_time_bind_to_interval(pl_bexpr *call, pl_error *err) {
    const char *name = call->fn->name;
    int k = -1;
    for (int i = 0; i < (int)PL_ARRAY_LEN(g_to_iv); i++)
        if (!strcmp(g_to_iv[i].name, name)) k = i;
    if (k < 0 || call->n_args != 1) return pl_fn_no_function(call, err);
    pl_type_id id = call->args[0]->type->id;
    to_iv_state st = {g_to_iv[k].months, g_to_iv[k].days, g_to_iv[k].us, false};
    /* DuckDB's BIGINT/DOUBLE-argument ones (the time units) also read strings */
    bool strings = g_to_iv[k].us != 0 && id == PL_TYPE_UTF8;
    if (is_int(id) || id == PL_TYPE_NA || (strings && !g_to_iv[k].fp)) {
        PL_TRY(pl_bexpr_wrap_cast(&call->args[0], pl_type_simple(PL_TYPE_INT64), err));
    } else if (g_to_iv[k].fp && (strings || id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64 ||
                                 id == PL_TYPE_DECIMAL128)) {
        st.fp = true;
        PL_TRY(pl_bexpr_wrap_cast(&call->args[0], pl_type_simple(PL_TYPE_FLOAT64), err));
    } else {
        char a[64];
        PL_FAIL(err, PL_ERR_TYPE, "no function %s(%s): it takes %s", name,
                pl_type_to_string(call->args[0]->type, a, sizeof a),
                g_to_iv[k].fp ? "an integer or a DOUBLE" : "an integer");
    }
    to_iv_state *s = pl_malloc(sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding %s", name);
    *s = st;
    call->state = s;
    call->free_state = arith_free;
    call->type = pl_type_simple(PL_TYPE_INTERVAL);
    return PL_OK;
}

static bool to_iv_i64(const to_iv_state *s, int64_t x, pl_interval *o) {
    int64_t m, d, us;
    if (__builtin_mul_overflow(x, (int64_t)s->months, &m) || m < INT32_MIN || m > INT32_MAX ||
        __builtin_mul_overflow(x, (int64_t)s->days, &d) || d < INT32_MIN || d > INT32_MAX ||
        __builtin_mul_overflow(x, s->us, &us) || __builtin_mul_overflow(us, (int64_t)1000, &o->ns))
        return false;
    o->months = (int32_t)m;
    o->days = (int32_t)d;
    return true;
}

pl_status pl_time_k_to_interval(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, pl_time_k_to_interval, out, err);
    const to_iv_state *s = call->state;
    const pl_array *a = args[0].array;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(pl_fn_new_result(a, n, 16, &validity, &values, err));
    const uint8_t *vb = validity ? validity->data : NULL;
    uint8_t *o8 = values->data;
    int64_t bad = -1;
    for (int64_t i = 0; i < n; i++) {
        pl_interval r = {0, 0, 0};
        if (!vb || pl_bit_get(vb, i)) {
            bool okv;
            if (s->fp) {
                double us = nearbyint(((const double *)(const void *)a->values->data)[a->offset + i] *
                                      (double)s->us);
                okv = !isnan(us) && us > -9.2233720368547e15 && us < 9.2233720368547e15;
                if (okv) r.ns = (int64_t)us * 1000;
            } else {
                okv = to_iv_i64(s, ((const int64_t *)(const void *)a->values->data)[a->offset + i], &r);
            }
            if (!okv) {
                bad = i;
                break;
            }
        }
        memcpy(o8 + i * 16, &r.months, 4);
        memcpy(o8 + i * 16 + 4, &r.days, 4);
        memcpy(o8 + i * 16 + 8, &r.ns, 8);
    }
    if (bad >= 0) {
        pl_buf_release(validity);
        pl_buf_release(values);
        if (err) err->row = bad;
        PL_FAIL(err, PL_ERR_INVALID_ARG, "interval out of range in %s at row %lld", call->fn->name,
                (long long)bad);
    }
    return pl_fn_finish(out, pl_type_simple(PL_TYPE_INTERVAL), n, validity, -1, values, NULL, err);
}
