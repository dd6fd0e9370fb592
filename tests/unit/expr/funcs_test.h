/* funcs_test.h - a harness for the scalar function tests (test_funcs_*.c): arguments are
 * written as text values (NULL = SQL NULL) and built into arrays or scalars; a call node is
 * bound by hand (the function's own bind), executed on the arrays, and every row is executed
 * again with all-scalar arguments, so both kernel paths are compared with the expected text
 * (values checked against DuckDB). */
#ifndef PL_FUNCS_TEST_H
#define PL_FUNCS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "expr/funcs_int.h"
#include "io/text/text.h"

#define FT_UNUSED __attribute__((unused))

/* Results are validated, including their UTF-8 unless a test feeds invalid UTF-8 on purpose. */
FT_UNUSED static bool ft_check_utf8 = true;

FT_UNUSED static const pl_func_def *ft_find(const char *name) {
    const pl_func_set *sets[] = {&pl_funcs_math, &pl_funcs_string, &pl_funcs_time};
    for (size_t s = 0; s < 3; s++) {
        for (int32_t i = 0; i < sets[s]->n; i++) {
            const pl_func_def *d = &sets[s]->defs[i];
            if (!strcasecmp(d->name, name)) return d;
            if (d->aliases) {
                const char *p = d->aliases;
                size_t nl = strlen(name);
                while (*p) {
                    const char *e = strchr(p, ' ');
                    size_t l = e ? (size_t)(e - p) : strlen(p);
                    if (l == nl && !strncasecmp(p, name, nl)) return d;
                    p += l;
                    while (*p == ' ') p++;
                }
            }
        }
    }
    return NULL;
}

/* A value of type t from text into v (v->type retained). */
FT_UNUSED static void ft_parse_value(pl_type *t, const char *s, pl_value *v) {
    memset(v, 0, sizeof *v);
    v->type = pl_type_retain(t);
    if (!s || t->id == PL_TYPE_NA) {
        v->is_null = true;
        return;
    }
    switch (t->id) {
    case PL_TYPE_BOOL: v->v.b = !strcmp(s, "true"); break;
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
        v->v.u = strtoull(s, NULL, 10);
        break;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: v->v.f = strtod(s, NULL); break;
    case PL_TYPE_DECIMAL128: { /* "-12.34" with the type's scale */
        __int128 x = 0;
        bool neg = *s == '-';
        int frac = -1;
        for (const char *c = s + neg; *c; c++) {
            if (*c == '.') { frac = 0; continue; }
            x = x * 10 + (*c - '0');
            if (frac >= 0) frac++;
        }
        for (int k = frac < 0 ? 0 : frac; k < t->scale; k++) x *= 10;
        if (neg) x = -x;
        v->v.dec.lo = (uint64_t)x;
        v->v.dec.hi = (int64_t)(x >> 64);
        break;
    }
    case PL_TYPE_UTF8: case PL_TYPE_BINARY:
        v->str_len = (int64_t)strlen(s);
        v->str = pl_strdup(s);
        break;
    case PL_TYPE_DATE32: {
        int32_t d = 0;
        assert_true(pl_text_parse_date(s, (int64_t)strlen(s), &d));
        v->v.i = d;
        break;
    }
    case PL_TYPE_TIMESTAMP: {
        bool has_tz;
        assert_true(pl_text_parse_timestamp(s, (int64_t)strlen(s), t->unit, &v->v.i, &has_tz));
        break;
    }
    case PL_TYPE_TIME64: {
        int h = 0, m = 0;
        double sec = 0;
        sscanf(s, "%d:%d:%lf", &h, &m, &sec);
        int64_t us = ((int64_t)h * 3600 + m * 60) * 1000000 + (int64_t)(sec * 1e6 + 0.5);
        v->v.i = t->unit == PL_UNIT_NS ? us * 1000 : us;
        break;
    }
    case PL_TYPE_INTERVAL: {
        long long mo = 0, d = 0, ns = 0;
        sscanf(s, "%lld/%lld/%lld", &mo, &d, &ns); /* months/days/ns */
        v->v.iv.months = (int32_t)mo;
        v->v.iv.days = (int32_t)d;
        v->v.iv.ns = ns;
        break;
    }
    default: v->v.i = strtoll(s, NULL, 10); break;
    }
}

/* An array datum of n text values (NULL = NULL) of type t (retained). */
FT_UNUSED static pl_datum ft_array(pl_type *t, int n, const char *const *vals) {
    pl_array *parts[64];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++) {
        pl_value v;
        ft_parse_value(t, vals[i], &v);
        assert_int_equal(pl_fn_array_from_value(&v, 1, &parts[i], NULL), PL_OK);
        pl_free(v.str);
        pl_type_release(v.type);
    }
    pl_datum d = {0};
    if (n == 0) {
        assert_int_equal(pl_array_new_nulls(t, 0, &d.array, NULL), PL_OK);
    } else {
        assert_int_equal(pl_array_concat(n, parts, &d.array, NULL), PL_OK);
    }
    for (int i = 0; i < n; i++) pl_array_release(parts[i]);
    return d;
}

FT_UNUSED static pl_datum ft_scalar(pl_type *t, const char *s) {
    pl_datum d = {0};
    d.is_scalar = true;
    ft_parse_value(t, s, &d.scalar);
    return d;
}

#define FT_STRS(...) ((const char *const[]){__VA_ARGS__})
#define FT_N(...) ((int)(sizeof(FT_STRS(__VA_ARGS__)) / sizeof(const char *)))
#define ARR(t, ...) ft_array((t), FT_N(__VA_ARGS__), FT_STRS(__VA_ARGS__))
#define SCA(t, s) ft_scalar((t), (s))
#define ARGS(...) (int)(sizeof((pl_datum[]){__VA_ARGS__}) / sizeof(pl_datum)), (pl_datum[]){__VA_ARGS__}
#define EXPECT(...) FT_N(__VA_ARGS__), FT_STRS(__VA_ARGS__)
#define T_I8 pl_type_simple(PL_TYPE_INT8)
#define T_I16 pl_type_simple(PL_TYPE_INT16)
#define T_I32 pl_type_simple(PL_TYPE_INT32)
#define T_I64 pl_type_simple(PL_TYPE_INT64)
#define T_U8 pl_type_simple(PL_TYPE_UINT8)
#define T_U64 pl_type_simple(PL_TYPE_UINT64)
#define T_F32 pl_type_simple(PL_TYPE_FLOAT32)
#define T_F64 pl_type_simple(PL_TYPE_FLOAT64)
#define T_STR pl_type_simple(PL_TYPE_UTF8)
#define T_BOOL pl_type_simple(PL_TYPE_BOOL)
#define T_NA pl_type_simple(PL_TYPE_NA)
#define T_DATE pl_type_simple(PL_TYPE_DATE32)
#define T_IV pl_type_simple(PL_TYPE_INTERVAL)

FT_UNUSED static void ft_datum_reset(pl_datum *d) {
    if (d->is_scalar) {
        pl_free(d->scalar.str);
        pl_type_release(d->scalar.type);
    } else {
        pl_array_release(d->array);
    }
    memset(d, 0, sizeof *d);
}

/* Renders value i of a plain array (or the scalar) as text. */
FT_UNUSED static void ft_render(const pl_datum *d, int64_t i, char *buf, size_t n) {
    pl_value v;
    if (d->is_scalar) {
        v = d->scalar;
    } else {
        assert_int_equal(pl_fn_value_from_array(d->array, i, &v, NULL), PL_OK);
    }
    if (v.is_null) {
        snprintf(buf, n, "NULL");
    } else {
        switch (v.type->id) {
        case PL_TYPE_BOOL: snprintf(buf, n, "%s", v.v.b ? "true" : "false"); break;
        case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
            snprintf(buf, n, "%llu", (unsigned long long)v.v.u);
            break;
        case PL_TYPE_FLOAT32: snprintf(buf, n, "%.7g", v.v.f); break;
        case PL_TYPE_FLOAT64: snprintf(buf, n, "%.15g", v.v.f); break;
        case PL_TYPE_DECIMAL128: {
            char tmp[64];
            pl_text_format_decimal(v.v.dec.lo, v.v.dec.hi, v.type->scale, tmp);
            snprintf(buf, n, "%s", tmp);
            break;
        }
        case PL_TYPE_UTF8: case PL_TYPE_BINARY: snprintf(buf, n, "%s", v.str); break;
        case PL_TYPE_DATE32: {
            char tmp[64];
            pl_text_format_date(v.v.i, tmp);
            snprintf(buf, n, "%s", tmp);
            break;
        }
        case PL_TYPE_TIMESTAMP: {
            char tmp[80];
            pl_text_format_timestamp(v.v.i, v.type->unit, false, tmp);
            snprintf(buf, n, "%s", tmp);
            break;
        }
        case PL_TYPE_TIME64: {
            char tmp[80];
            pl_text_format_time(v.v.i, v.type->unit, tmp);
            snprintf(buf, n, "%s", tmp);
            break;
        }
        case PL_TYPE_INTERVAL:
            snprintf(buf, n, "%d/%d/%lld", v.v.iv.months, v.v.iv.days, (long long)v.v.iv.ns);
            break;
        default: snprintf(buf, n, "%lld", (long long)v.v.i); break;
        }
    }
    if (!d->is_scalar) {
        pl_free(v.str);
        pl_type_release(v.type);
    }
}

/* A hand-bound call: args become COL nodes (arrays) or LIT nodes (scalars). */
typedef struct ft_call {
    pl_bexpr call;
    pl_bexpr nodes[8];
    pl_bexpr *argv[8];
} ft_call;

FT_UNUSED static pl_status ft_bind(ft_call *c, const char *name, int n_args, const pl_datum *args,
                                   pl_error *err) {
    memset(c, 0, sizeof *c);
    const pl_func_def *def = ft_find(name);
    assert_non_null(def);
    assert_true(n_args <= 8);
    for (int i = 0; i < n_args; i++) {
        pl_bexpr *a = &c->nodes[i];
        if (args[i].is_scalar) {
            a->kind = PL_BEXPR_LIT;
            a->type = args[i].scalar.type;
            a->lit = args[i].scalar; /* shallow: owned by the datum */
        } else {
            a->kind = PL_BEXPR_COL;
            a->type = args[i].array->type;
            a->col = i;
        }
        c->argv[i] = a;
    }
    c->call.kind = PL_BEXPR_CALL;
    c->call.fn = def;
    c->call.n_args = n_args;
    c->call.args = c->argv;
    c->call.sql_pos = -1;
    if (n_args < def->min_args || (def->max_args >= 0 && n_args > def->max_args))
        PL_FAIL(err, PL_ERR_TYPE, "wrong number of arguments");
    return def->bind(&c->call, err);
}

FT_UNUSED static void ft_unbind(ft_call *c) {
    pl_type_release(c->call.type);
    if (c->call.free_state) c->call.free_state(c->call.state);
    c->call.type = NULL;
    c->call.state = NULL;
}

/* Binds and runs name(args) over n_rows; returns the status (err filled). */
FT_UNUSED static pl_status ft_run(const char *name, int n_args, const pl_datum *args, int64_t n_rows,
                                  pl_datum *out, char *type_buf, pl_error *err) {
    ft_call c;
    pl_error_init(err);
    pl_status st = ft_bind(&c, name, n_args, args, err);
    if (!st) {
        if (type_buf) pl_type_to_string(c.call.type, type_buf, 64);
        pl_eval_ctx ec = {.exec = NULL, .now_us = INT64_C(1718000000123456)};
        memset(out, 0, sizeof *out);
        st = c.call.fn->exec(&ec, &c.call, args, n_rows, out, err);
        if (!st && !out->is_scalar) {
            assert_int_equal(out->array->length, n_rows);
            assert_int_equal(pl_array_validate(out->array, ft_check_utf8, NULL), PL_OK);
            assert_true(pl_type_equals(out->array->type, c.call.type));
        }
    }
    ft_unbind(&c);
    return st;
}

/* Expects name(args) to fail with code and a message containing msg. Frees args. */
FT_UNUSED static void ft_check_error(const char *name, int n_args, pl_datum *args, pl_status code,
                                     const char *msg) {
    int64_t n_rows = 1;
    for (int i = 0; i < n_args; i++)
        if (!args[i].is_scalar) n_rows = args[i].array->length;
    pl_error err;
    pl_datum out;
    pl_status st = ft_run(name, n_args, args, n_rows, &out, NULL, &err);
    if (!st) {
        ft_datum_reset(&out);
        fail_msg("%s: expected an error \"%s\"", name, msg);
    }
    assert_int_equal(st, code);
    if (!strstr(err.msg, msg)) fail_msg("%s: error \"%s\" lacks \"%s\"", name, err.msg, msg);
    for (int i = 0; i < n_args; i++) ft_datum_reset(&args[i]);
}

/* Checks name(args) gives the expected texts (type: expected result type, or NULL), through
 * the array path and row by row through the scalar path. Frees args. */
FT_UNUSED static void ft_check(const char *name, const char *type, int n_args, pl_datum *args,
                               int n_exp, const char *const *expected) {
    int64_t n_rows = -1;
    for (int i = 0; i < n_args; i++)
        if (!args[i].is_scalar) n_rows = args[i].array->length;
    pl_error err;
    pl_datum out;
    char tbuf[64], vbuf[512];
    if (n_rows >= 0) {
        assert_int_equal(n_rows, n_exp);
        pl_status st = ft_run(name, n_args, args, n_rows, &out, tbuf, &err);
        if (st) fail_msg("%s: %s", name, err.msg);
        if (type && strcmp(type, tbuf)) fail_msg("%s: type %s, expected %s", name, tbuf, type);
        for (int64_t r = 0; r < n_rows; r++) {
            ft_render(&out, out.is_scalar ? 0 : r, vbuf, sizeof vbuf);
            const char *e = expected[r] ? expected[r] : "NULL";
            if (strcmp(vbuf, e)) fail_msg("%s row %lld: got \"%s\", expected \"%s\"", name, (long long)r, vbuf, e);
        }
        ft_datum_reset(&out);
    }
    /* row by row with scalars */
    int64_t rows = n_rows >= 0 ? n_rows : 1;
    for (int64_t r = 0; r < rows; r++) {
        pl_datum sargs[8];
        for (int i = 0; i < n_args; i++) {
            memset(&sargs[i], 0, sizeof sargs[i]);
            sargs[i].is_scalar = true;
            if (args[i].is_scalar) {
                sargs[i].scalar = args[i].scalar;
                sargs[i].scalar.type = pl_type_retain(args[i].scalar.type);
                if (args[i].scalar.str) {
                    sargs[i].scalar.str = pl_malloc((size_t)args[i].scalar.str_len + 1);
                    memcpy(sargs[i].scalar.str, args[i].scalar.str, (size_t)args[i].scalar.str_len + 1);
                }
            } else {
                assert_int_equal(pl_fn_value_from_array(args[i].array, r, &sargs[i].scalar, NULL), PL_OK);
            }
        }
        pl_status st = ft_run(name, n_args, sargs, 1, &out, tbuf, &err);
        if (st) fail_msg("%s (scalars, row %lld): %s", name, (long long)r, err.msg);
        if (!out.is_scalar) fail_msg("%s: scalar arguments gave an array", name);
        if (type && strcmp(type, tbuf)) fail_msg("%s: type %s, expected %s", name, tbuf, type);
        ft_render(&out, 0, vbuf, sizeof vbuf);
        const char *e = expected[r] ? expected[r] : "NULL";
        if (strcmp(vbuf, e)) fail_msg("%s scalar row %lld: got \"%s\", expected \"%s\"", name, (long long)r, vbuf, e);
        ft_datum_reset(&out);
        for (int i = 0; i < n_args; i++) ft_datum_reset(&sargs[i]);
    }
    for (int i = 0; i < n_args; i++) ft_datum_reset(&args[i]);
}

#endif
