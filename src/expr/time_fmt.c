/* time_fmt.c - text forms of dates and times: strftime and strptime/try_strptime with
 * DuckDB's format specifiers, and the interval literal parser (pl_interval_parse).
 *
 * Formats are parsed once at bind (they must be constant) into items; an unknown specifier is
 * an error naming it. strftime works in the local time of a zoned timestamp (%z its offset,
 * %Z its zone name; "+00" and "" for naive ones, as DuckDB). strptime is strict: every
 * literal must match, whitespace in the format matches any run of whitespace, and trailing
 * input is an error ("could not parse string ... according to format specifier ..."). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr/funcs_int.h"
#include "expr/time_int.h"
#include "io/text/text.h"

#define no_function pl_fn_no_function


/* ---------------------------------------------------------------- format parsing */

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static pl_status parse_format(pl_bexpr *call, pl_time_state *s, const char *fmt, int64_t len,
                              bool parse, pl_error *err) {
    return pl_time_format_compile(&s->tf, fmt, len, parse, call->fn->name, err);
}

/* ---------------------------------------------------------------- strftime */

pl_status pl_time_bind_strftime(pl_bexpr *call, pl_error *err) {
    const pl_type *t = call->args[0]->type;
    const pl_bexpr *f = call->args[1];
    if ((t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_NA) ||
        f->type->id != PL_TYPE_UTF8)
        return no_function(call, err);
    if (f->kind != PL_BEXPR_LIT)
        PL_FAIL(err, PL_ERR_SQL, "strftime: the format must be a constant string");
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    if (f->lit.is_null) {
        s->null_result = true;
    } else {
        PL_TRY(parse_format(call, s, f->lit.str, f->lit.str_len, false, err));
    }
    PL_TRY(pl_time_zone_of(t, &s->tz, err));
    call->type = pl_type_simple(PL_TYPE_UTF8);
    return PL_OK;
}

static inline char *put_num(char *p, int64_t v, int width, bool no_pad) {
    char tmp[24];
    bool neg = v < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (!no_pad)
        while (n < width) tmp[n++] = '0';
    if (neg) *p++ = '-';
    while (n) *p++ = tmp[--n];
    return p;
}

typedef struct tm_fields {
    int64_t y, day, tod, per_sec;
    int32_t m, d;
    int64_t off_s;
    const char *zone;
    bool zoned;
} tm_fields;

static char *format_one(const pl_time_state *s, const tm_fields *f, char *p) {
    for (int32_t k = 0; k < s->tf.n_items; k++) {
        const pl_fmt_item *it = &s->tf.items[k];
        if (!it->spec) {
            memcpy(p, s->tf.fmt + it->lit_off, (size_t)it->lit_len);
            p += it->lit_len;
            continue;
        }
        int64_t ps = f->per_sec;
        int64_t hour = f->tod / (3600 * ps), minute = f->tod / (60 * ps) % 60, sec = f->tod / ps % 60;
        int64_t frac = f->tod % ps; /* in units */
        int64_t wday = pl_fn_floormod(f->day + 4, 7);
        int64_t yday = f->day - pl_fn_days_from_civil(f->y, 1, 1);
        switch (it->spec) {
        case 'a': memcpy(p, pl_text_day_names[wday], 3); p += 3; break;
        case 'A': { size_t l = strlen(pl_text_day_names[wday]); memcpy(p, pl_text_day_names[wday], l); p += l; break; }
        case 'b': case 'h': memcpy(p, pl_text_month_names[f->m - 1], 3); p += 3; break;
        case 'B': { size_t l = strlen(pl_text_month_names[f->m - 1]); memcpy(p, pl_text_month_names[f->m - 1], l); p += l; break; }
        case 'c':
            p = put_num(p, f->y, 4, false); *p++ = '-'; p = put_num(p, f->m, 2, false); *p++ = '-';
            p = put_num(p, f->d, 2, false); *p++ = ' ';
            p = put_num(p, hour, 2, false); *p++ = ':'; p = put_num(p, minute, 2, false); *p++ = ':';
            p = put_num(p, sec, 2, false);
            break;
        case 'x':
            p = put_num(p, f->y, 4, false); *p++ = '-'; p = put_num(p, f->m, 2, false); *p++ = '-';
            p = put_num(p, f->d, 2, false);
            break;
        case 'X': case 'T':
            p = put_num(p, hour, 2, false); *p++ = ':'; p = put_num(p, minute, 2, false); *p++ = ':';
            p = put_num(p, sec, 2, false);
            break;
        case 'd': p = put_num(p, f->d, 2, it->no_pad); break;
        case 'f': p = put_num(p, ps >= 1000000 ? frac / (ps / 1000000) : frac * (1000000 / ps), 6, false); break;
        case 'g': p = put_num(p, ps >= 1000 ? frac / (ps / 1000) : frac * (1000 / ps), 3, false); break;
        case 'n': p = put_num(p, frac * (1000000000 / ps), 9, false); break;
        case 'H': p = put_num(p, hour, 2, it->no_pad); break;
        case 'I': p = put_num(p, hour % 12 == 0 ? 12 : hour % 12, 2, it->no_pad); break;
        case 'j': p = put_num(p, yday + 1, 3, it->no_pad); break;
        case 'm': p = put_num(p, f->m, 2, it->no_pad); break;
        case 'M': p = put_num(p, minute, 2, it->no_pad); break;
        case 'p': memcpy(p, hour < 12 ? "AM" : "PM", 2); p += 2; break;
        case 'S': p = put_num(p, sec, 2, it->no_pad); break;
        case 'U': p = put_num(p, (yday + 7 - wday) / 7, 2, false); break;
        case 'W': p = put_num(p, (yday + 7 - pl_fn_floormod(wday + 6, 7)) / 7, 2, false); break;
        case 'w': p = put_num(p, wday, 1, false); break;
        case 'y': p = put_num(p, pl_fn_floormod(f->y, 100), 2, it->no_pad); break;
        case 'Y': p = put_num(p, f->y, 4, false); break;
        case 'G': case 'V': case 'u': {
            int64_t wd = pl_fn_floormod(f->day + 3, 7);
            if (it->spec == 'u') {
                p = put_num(p, wd + 1, 1, false);
                break;
            }
            int64_t thursday = f->day - wd + 3, ty;
            int32_t tm, td;
            pl_fn_civil_from_days(thursday, &ty, &tm, &td);
            if (it->spec == 'G') p = put_num(p, ty, 4, false);
            else p = put_num(p, (thursday - pl_fn_days_from_civil(ty, 1, 1)) / 7 + 1, 2, false);
            break;
        }
        case 'z': {
            int64_t o = f->off_s, a = o < 0 ? -o : o;
            *p++ = o < 0 ? '-' : '+';
            p = put_num(p, a / 3600, 2, false);
            if (a % 3600) {
                *p++ = ':';
                p = put_num(p, a % 3600 / 60, 2, false);
            }
            break;
        }
        case 'Z': {
            if (f->zoned && f->zone) {
                size_t l = strlen(f->zone);
                memcpy(p, f->zone, l);
                p += l;
            }
            break;
        }
        case '%': *p++ = '%'; break;
        default: break;
        }
    }
    return p;
}

pl_status pl_time_k_strftime(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, pl_time_k_strftime, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[0].array;
    if (s->null_result || a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    int64_t per_sec = pl_time_per_sec(a->type);
    bool is_date = a->type->id == PL_TYPE_DATE32;
    const int64_t *tv = is_date ? NULL : pl_array_values_ptr(a);
    const int32_t *dv = is_date ? pl_array_values_ptr(a) : NULL;
    /* the longest expansion of one item is under 48 bytes (names, zone names) */
    int64_t zone_len = a->type->tz ? (int64_t)strlen(a->type->tz) : 0;
    int64_t per_row = (int64_t)strlen(s->tf.fmt) + (int64_t)s->tf.n_items * 48 + zone_len * s->tf.n_items;
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, per_row * (n < 1024 ? n : 1024) + 64, err));
    pl_tz_cursor cur;
    pl_tz_cursor_init(&cur, s->tz, per_sec);
    tm_fields f = {.per_sec = per_sec, .zone = a->type->tz, .zoned = a->type->tz != NULL};
    int64_t per_day = per_sec * 86400, last_day = INT64_MIN;
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        if (!pl_array_is_valid(a, i)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        /* a date is taken by its day (far dates have no timestamp: the product overflowed) */
        int64_t lt = is_date ? 0 : tv[i];
        if (s->tz && !is_date) {
            lt = pl_tz_local(&cur, lt);
            f.off_s = cur.off_s;
        }
        int64_t day = is_date ? (int64_t)dv[i] : pl_fn_floordiv(lt, per_day);
        if (day != last_day) {
            last_day = day;
            f.day = day;
            pl_fn_civil_from_days(day, &f.y, &f.m, &f.d);
        }
        f.tod = is_date ? 0 : pl_fn_floormod(lt, per_day);
        uint8_t *dst;
        st = pl_fn_strb_reserve(&b, per_row, &dst, err);
        if (st) break;
        char *e = format_one(s, &f, (char *)dst);
        pl_fn_strb_commit(&b, e - (char *)dst);
        st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, pl_type_simple(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

/* dayname(x) / monthname(x): strftime with "%A" / "%B". */
pl_status pl_time_bind_name(pl_bexpr *call, pl_error *err) {
    const pl_type *t = call->args[0]->type;
    if (t->id != PL_TYPE_TIMESTAMP && t->id != PL_TYPE_DATE32 && t->id != PL_TYPE_NA)
        return no_function(call, err);
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    const char *fmt = !strcmp(call->fn->name, "dayname") ? "%A" : "%B";
    PL_TRY(parse_format(call, s, fmt, 2, false, err));
    PL_TRY(pl_time_zone_of(t, &s->tz, err));
    call->type = pl_type_simple(PL_TYPE_UTF8);
    return PL_OK;
}

/* ---------------------------------------------------------------- strptime */

pl_status pl_time_bind_strptime(pl_bexpr *call, pl_error *err) {
    const pl_bexpr *f = call->args[1];
    pl_type_id sid = call->args[0]->type->id;
    if ((sid != PL_TYPE_UTF8 && sid != PL_TYPE_NA) || f->type->id != PL_TYPE_UTF8)
        return no_function(call, err);
    if (f->kind != PL_BEXPR_LIT)
        PL_FAIL(err, PL_ERR_SQL, "%s: the format must be a constant string", call->fn->name);
    pl_time_state *s;
    PL_TRY(pl_time_state_new(call, &s, err));
    s->try_mode = !strcmp(call->fn->name, "try_strptime");
    if (f->lit.is_null) s->null_result = true;
    else PL_TRY(parse_format(call, s, f->lit.str, f->lit.str_len, true, err));
    return pl_type_new_timestamp(PL_UNIT_US, s->tf.has_tz_spec ? "UTC" : NULL, &call->type, err);
}

pl_status pl_time_k_strptime(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, pl_time_k_strptime, out, err);
    const pl_time_state *s = call->state;
    const pl_array *a = args[0].array;
    if (s->null_result || a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, call->type, n, err);
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    pl_status st = PL_OK;
    int64_t *o = (int64_t *)(void *)values->data;
    const int32_t *off = pl_array_offsets(a);
    const char *data = a->data ? (const char *)a->data->data : "";
    for (int64_t i = 0; i < n; i++) {
        o[i] = 0;
        if (!pl_array_is_valid(a, i)) continue;
        const char *why;
        if (pl_time_format_parse(&s->tf, data + off[i], off[i + 1] - off[i], &o[i], &why)) continue;
        if (s->try_mode) {
            if (!validity) {
                st = pl_fn_new_validity(n, &validity, err);
                if (st) break;
                for (int64_t k = 0; k < n; k++) pl_bit_set(validity->data, k);
            }
            pl_bit_clear(validity->data, i);
            continue;
        }
        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                          "could not parse string \"%.*s\" according to format specifier \"%s\" at "
                          "row %lld: %s",
                          (int)PL_MIN(off[i + 1] - off[i], 100), data + off[i], s->tf.fmt, (long long)i, why);
        if (err) err->row = i;
        break;
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- intervals */

typedef struct iv_unit {
    const char *name;
    char kind;      /* 'M' months, 'D' days, 'N' nanoseconds */
    int64_t mult;   /* per unit: months, days or ns */
} iv_unit;

static const iv_unit g_iv_units[] = {
    {"millennium", 'M', 12000}, {"millennia", 'M', 12000}, {"millenniums", 'M', 12000},
    {"century", 'M', 1200}, {"centuries", 'M', 1200},
    {"decade", 'M', 120}, {"decades", 'M', 120},
    {"year", 'M', 12}, {"years", 'M', 12}, {"y", 'M', 12}, {"yr", 'M', 12}, {"yrs", 'M', 12},
    {"quarter", 'M', 3}, {"quarters", 'M', 3},
    {"month", 'M', 1}, {"months", 'M', 1}, {"mon", 'M', 1}, {"mons", 'M', 1},
    {"week", 'D', 7}, {"weeks", 'D', 7}, {"w", 'D', 7},
    {"day", 'D', 1}, {"days", 'D', 1}, {"d", 'D', 1},
    {"hour", 'N', INT64_C(3600000000000)}, {"hours", 'N', INT64_C(3600000000000)},
    {"h", 'N', INT64_C(3600000000000)}, {"hr", 'N', INT64_C(3600000000000)},
    {"hrs", 'N', INT64_C(3600000000000)},
    {"minute", 'N', INT64_C(60000000000)}, {"minutes", 'N', INT64_C(60000000000)},
    {"m", 'N', INT64_C(60000000000)}, {"min", 'N', INT64_C(60000000000)},
    {"mins", 'N', INT64_C(60000000000)},
    {"second", 'N', INT64_C(1000000000)}, {"seconds", 'N', INT64_C(1000000000)},
    {"s", 'N', INT64_C(1000000000)}, {"sec", 'N', INT64_C(1000000000)},
    {"secs", 'N', INT64_C(1000000000)},
    {"millisecond", 'N', 1000000}, {"milliseconds", 'N', 1000000}, {"ms", 'N', 1000000},
    {"msec", 'N', 1000000}, {"msecs", 'N', 1000000},
    {"microsecond", 'N', 1000}, {"microseconds", 'N', 1000}, {"us", 'N', 1000},
    {"usec", 'N', 1000}, {"usecs", 'N', 1000},
    {"nanosecond", 'N', 1}, {"nanoseconds", 'N', 1}, {"ns", 'N', 1},
};

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

pl_status pl_interval_parse(const char *text, pl_interval *out, pl_error *err) {
    const char *s = text ? text : "";
    int64_t len = (int64_t)strlen(s), pos = 0;
    __int128 months = 0, days = 0, ns = 0;
    bool any = false, ago = false;
#define IV_FAIL() PL_FAIL(err, PL_ERR_TYPE, "invalid interval \"%.*s\"", (int)PL_MIN(len, 100), s)
    if (len > 0 && s[0] == '@') pos++;
    while (true) {
        while (pos < len && is_space(s[pos])) pos++;
        if (pos >= len) break;
        if (is_alpha(s[pos])) {
            int64_t p0 = pos;
            while (pos < len && is_alpha(s[pos])) pos++;
            if (pos - p0 == 3 && !strncasecmp(s + p0, "ago", 3) && any) {
                ago = true;
                continue;
            }
            IV_FAIL();
        }
        /* a number, or a time H:MM[:SS[.f]] */
        bool neg = false;
        int64_t p0 = pos;
        if (s[pos] == '+' || s[pos] == '-') neg = s[pos++] == '-';
        if (pos >= len || !(is_digit(s[pos]) || s[pos] == '.')) IV_FAIL();
        int64_t ip = 0;
        int nd = 0;
        while (pos < len && is_digit(s[pos])) {
            if (ip > (INT64_MAX - 9) / 10) IV_FAIL();
            ip = ip * 10 + (s[pos++] - '0');
            nd++;
        }
        if (pos < len && s[pos] == ':') {
            /* time: hours:minutes[:seconds[.fraction]] */
            int64_t mm = 0, ss = 0, frac = 0;
            int fd = 0;
            pos++;
            int md = 0;
            while (pos < len && is_digit(s[pos]) && md < 2) { mm = mm * 10 + (s[pos++] - '0'); md++; }
            if (md == 0 || mm > 59) IV_FAIL();
            if (pos < len && s[pos] == ':') {
                pos++;
                int sd = 0;
                while (pos < len && is_digit(s[pos]) && sd < 2) { ss = ss * 10 + (s[pos++] - '0'); sd++; }
                if (sd == 0 || ss > 59) IV_FAIL();
                if (pos < len && s[pos] == '.') {
                    pos++;
                    while (pos < len && is_digit(s[pos])) {
                        if (fd < 9) { frac = frac * 10 + (s[pos] - '0'); fd++; }
                        pos++;
                    }
                    for (int z = fd; z < 9; z++) frac *= 10;
                }
            }
            __int128 t = (__int128)ip * INT64_C(3600000000000) + (__int128)mm * INT64_C(60000000000) +
                         (__int128)ss * INT64_C(1000000000) + frac;
            ns += neg ? -t : t;
            any = true;
            continue;
        }
        /* fraction */
        int64_t frac = 0, frac_div = 1;
        if (pos < len && s[pos] == '.') {
            pos++;
            while (pos < len && is_digit(s[pos])) {
                if (frac_div < INT64_C(1000000000000000)) {
                    frac = frac * 10 + (s[pos] - '0');
                    frac_div *= 10;
                }
                pos++;
                nd++;
            }
        }
        if (nd == 0) IV_FAIL();
        while (pos < len && is_space(s[pos])) pos++;
        int64_t u0 = pos;
        while (pos < len && is_alpha(s[pos])) pos++;
        const iv_unit *unit = NULL;
        if (pos == u0) {
            static const iv_unit seconds = {"second", 'N', INT64_C(1000000000)};
            unit = &seconds; /* a bare number is seconds (PostgreSQL) */
        } else {
            for (size_t k = 0; k < PL_ARRAY_LEN(g_iv_units); k++) {
                if ((int64_t)strlen(g_iv_units[k].name) == pos - u0 &&
                    !strncasecmp(s + u0, g_iv_units[k].name, (size_t)(pos - u0))) {
                    unit = &g_iv_units[k];
                    break;
                }
            }
            if (!unit) {
                PL_FAIL(err, PL_ERR_TYPE, "invalid interval \"%.*s\": unknown unit \"%.*s\"",
                        (int)PL_MIN(len, 100), s, (int)PL_MIN(pos - u0, 32), s + u0);
            }
        }
        PL_UNUSED(p0);
        __int128 sign = neg ? -1 : 1;
        if (unit->kind == 'M') {
            months += sign * ip * unit->mult;
            if (frac) {
                /* fractional months spill into days (30 per month), then time */
                __int128 fm_num = (__int128)frac * unit->mult; /* months * frac_div */
                __int128 whole = fm_num / frac_div;
                months += sign * whole;
                __int128 rem = fm_num - whole * frac_div; /* months fraction * frac_div */
                __int128 dd = rem * 30;
                days += sign * (dd / frac_div);
                ns += sign * ((dd % frac_div) * INT64_C(86400000000000) / frac_div);
            }
        } else if (unit->kind == 'D') {
            days += sign * ip * unit->mult;
            if (frac) {
                __int128 fd_num = (__int128)frac * unit->mult;
                days += sign * (fd_num / frac_div);
                ns += sign * ((fd_num % frac_div) * INT64_C(86400000000000) / frac_div);
            }
        } else {
            ns += sign * ((__int128)ip * unit->mult + (__int128)frac * unit->mult / frac_div);
        }
        any = true;
        if (months > INT32_MAX || months < INT32_MIN || days > INT32_MAX || days < INT32_MIN ||
            ns > INT64_MAX || ns < INT64_MIN)
            PL_FAIL(err, PL_ERR_TYPE, "interval \"%.*s\" out of range", (int)PL_MIN(len, 100), s);
    }
    if (!any) IV_FAIL();
#undef IV_FAIL
    if (ago) {
        months = -months;
        days = -days;
        ns = -ns;
    }
    out->months = (int32_t)months;
    out->days = (int32_t)days;
    out->ns = (int64_t)ns;
    return PL_OK;
}
