/* expr_test_util.h - helpers for the expression tests: columns from compact text specs, batches,
 * binding + evaluation in one call, and results rendered back to text ("1,NULL,3") so that
 * expected values read like the DuckDB output they were checked against. */
#ifndef EXPR_TEST_UTIL_H
#define EXPR_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr/expr_core.h"

/* A column of type t from "v1,v2,NULL,..." (sep splits; "NULL" is a null). Ints, floats,
 * bools and strings go through builders; other types are parsed from strings by a cast. */
static inline pl_array *col_sep(pl_type *t, char sep, const char *spec) {
    pl_type *bt = t;
    bool via_cast = !(pl_type_is_integer(t->id) || t->id == PL_TYPE_FLOAT32 ||
                      t->id == PL_TYPE_FLOAT64 || t->id == PL_TYPE_BOOL || t->id == PL_TYPE_UTF8 ||
                      t->id == PL_TYPE_BINARY);
    if (via_cast) bt = pl_type_simple(PL_TYPE_UTF8);
    pl_builder *b;
    assert_int_equal(pl_builder_new(bt, 8, &b, NULL), PL_OK);
    const char *p = *spec ? spec : NULL;
    while (p) {
        const char *q = strchr(p, sep);
        size_t n = q ? (size_t)(q - p) : strlen(p);
        char tok[256];
        assert_true(n < sizeof tok);
        memcpy(tok, p, n);
        tok[n] = 0;
        if (strcmp(tok, "NULL") == 0) {
            assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        } else if (bt->id == PL_TYPE_UTF8 || bt->id == PL_TYPE_BINARY) {
            assert_int_equal(pl_builder_append_bytes(b, tok, (int64_t)n, NULL), PL_OK);
        } else if (bt->id == PL_TYPE_BOOL) {
            assert_int_equal(pl_builder_append_bool(b, strcmp(tok, "true") == 0, NULL), PL_OK);
        } else if (bt->id == PL_TYPE_FLOAT32 || bt->id == PL_TYPE_FLOAT64) {
            assert_int_equal(pl_builder_append_f64(b, strtod(tok, NULL), NULL), PL_OK);
        } else if (bt->id == PL_TYPE_UINT64) {
            assert_int_equal(pl_builder_append_i64(b, (int64_t)strtoull(tok, NULL, 10), NULL), PL_OK);
        } else {
            assert_int_equal(pl_builder_append_i64(b, strtoll(tok, NULL, 10), NULL), PL_OK);
        }
        p = q ? q + 1 : NULL;
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    if (via_cast) {
        pl_array *c;
        pl_error err;
        pl_error_init(&err);
        pl_status st = pl_cast_array(a, t, false, &c, &err);
        if (st) fail_msg("cast in col(): %s", err.msg);
        pl_array_release(a);
        a = c;
    }
    return a;
}
static inline pl_array *col(pl_type *t, const char *spec) { return col_sep(t, ',', spec); }
static inline pl_type *T(pl_type_id id) { return pl_type_simple(id); }

/* Renders an array as "v1,v2,NULL". */
static inline const char *render(pl_array *a) {
    static char out[1 << 16];
    size_t len = 0;
    out[0] = 0;
    for (int64_t i = 0; i < a->length; i++) {
        pl_value v;
        pl_value_init_null(&v);
        assert_int_equal(pl_value_from_array(a, i, &v, NULL), PL_OK);
        char buf[256];
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "",
                                pl_value_to_string(&v, buf, sizeof buf));
        pl_value_reset(&v);
    }
    return out;
}

/* A batch with columns named a, b, c, ... (arrays taken). */
static inline pl_batch *batch_n(int32_t n, pl_array **cols) {
    pl_field f[16];
    memset(f, 0, sizeof f);
    char names[16][2];
    for (int32_t i = 0; i < n; i++) {
        names[i][0] = (char)('a' + i);
        names[i][1] = 0;
        pl_type *t = cols[i]->type;
        if (t->id == PL_TYPE_DICTIONARY) t = t->value_type; /* the logical schema */
        f[i].name = names[i];
        f[i].type = t;
        f[i].nullable = true;
    }
    pl_schema *s;
    assert_int_equal(pl_schema_new(n, f, &s, NULL), PL_OK);
    pl_batch *b = pl_calloc(1, sizeof *b);
    /* the batch is assembled directly: dictionary columns under a logical schema, as the
     * executor hands them to expressions */
    b->schema = s;
    b->n_rows = n ? cols[0]->length : 0;
    b->n_cols = n;
    b->columns = pl_calloc((size_t)(n ? n : 1), sizeof *b->columns);
    for (int32_t i = 0; i < n; i++) b->columns[i] = cols[i];
    b->refcount = 1;
    return b;
}
static inline pl_batch *batch1(pl_array *a) { return batch_n(1, &a); }
static inline pl_batch *batch2(pl_array *a, pl_array *b) {
    pl_array *c[2] = {a, b};
    return batch_n(2, c);
}
static inline pl_batch *batch3(pl_array *a, pl_array *b, pl_array *c) {
    pl_array *x[3] = {a, b, c};
    return batch_n(3, x);
}

/* Binds e against b's schema, evaluates it (without folding, then after folding: both must
 * agree) and renders the result. Releases e. Fails the test on any error. */
static inline const char *run(pl_expr *e, pl_batch *b) {
    static char out[1 << 16];
    assert_non_null(e);
    pl_error err;
    pl_error_init(&err);
    pl_bexpr *be = NULL;
    pl_status st = pl_expr_bind(e, b->schema, &be, &err);
    if (st) fail_msg("bind: %s", err.msg);
    pl_eval_ctx ec = {0};
    pl_array *r = NULL;
    st = pl_bexpr_eval_array(&ec, be, b, &r, &err);
    if (st) fail_msg("eval: %s", err.msg);
    assert_int_equal(r->length, b->n_rows);
    assert_int_equal(pl_array_validate(r, true, NULL), PL_OK);
    snprintf(out, sizeof out, "%s", render(r));
    pl_array_release(r);
    st = pl_bexpr_fold(&be, &err);
    if (st) fail_msg("fold: %s", err.msg);
    st = pl_bexpr_eval_array(&ec, be, b, &r, &err);
    if (st) fail_msg("eval after fold: %s", err.msg);
    assert_string_equal(render(r), out);
    pl_array_release(r);
    pl_bexpr_free(be);
    pl_expr_release(e);
    return out;
}

/* The bound type of e against b, as a string. */
static inline const char *bound_type(pl_expr *e, pl_batch *b) {
    static char out[128];
    pl_error err;
    pl_error_init(&err);
    pl_bexpr *be = NULL;
    pl_status st = pl_expr_bind(e, b->schema, &be, &err);
    if (st) fail_msg("bind: %s", err.msg);
    pl_type_to_string(be->type, out, sizeof out);
    pl_bexpr_free(be);
    pl_expr_release(e);
    return out;
}

/* Binds and evaluates e expecting a failure (at bind or at evaluation); returns the status and
 * fills *err. Releases e. */
static inline pl_status run_err(pl_expr *e, pl_batch *b, pl_error *err) {
    assert_non_null(e);
    pl_error_init(err);
    pl_bexpr *be = NULL;
    pl_status st = pl_expr_bind(e, b->schema, &be, err);
    pl_expr_release(e);
    if (st) return st;
    pl_eval_ctx ec = {0};
    pl_array *r = NULL;
    st = pl_bexpr_eval_array(&ec, be, b, &r, err);
    pl_array_release(r);
    pl_bexpr_free(be);
    assert_int_not_equal(st, PL_OK);
    return st;
}

/* short constructors */
static inline pl_expr *C(const char *name) { return pl_expr_col(name); }
static inline pl_expr *I(int64_t v) { return pl_expr_lit_i64(v); }
static inline pl_expr *F(double v) { return pl_expr_lit_f64(v); }
static inline pl_expr *S(const char *s) { return pl_expr_lit_str(s); }
static inline pl_expr *B(bool v) { return pl_expr_lit_bool(v); }
static inline pl_expr *N(void) { return pl_expr_lit_null(); }
static inline pl_expr *f1(const char *n, pl_expr *a) { return pl_expr_call1(n, a); }
static inline pl_expr *f2(const char *n, pl_expr *a, pl_expr *b) { return pl_expr_call2(n, a, b); }
static inline pl_expr *f3(const char *n, pl_expr *a, pl_expr *b, pl_expr *c) {
    return pl_expr_call3(n, a, b, c);
}
static inline pl_expr *fn(const char *n, int32_t k, ...) {
    pl_expr *args[32];
    va_list ap;
    va_start(ap, k);
    for (int32_t i = 0; i < k; i++) args[i] = va_arg(ap, pl_expr *);
    va_end(ap);
    return pl_expr_call(n, k, args);
}
static inline pl_expr *CAST(pl_expr *e, const char *type_name, bool try_cast) {
    pl_type *t = NULL;
    assert_int_equal(pl_type_from_sql_name(type_name, &t, NULL), PL_OK);
    return pl_expr_cast(e, t, try_cast);
}
/* A typed literal from text (e.g. LIT("decimal(5,2)", "1.25")). */
static inline pl_expr *LIT(const char *type_name, const char *text) {
    return CAST(S(text), type_name, false);
}

#endif
