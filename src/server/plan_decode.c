/* plan_decode.c - polaroid.v1.Plan -> pl_df.
 *
 * Relations are decoded depth first; each node is built with the C DataFrame API, so column
 * and type errors come from the engine. Every error names where in the plan it happened: the
 * path from the root ("root.filter.input.select.exprs[1]: column \"pricee\" not found").
 * Limits: nesting of relations and expressions together at most cfg->max_plan_depth
 * (PL_ERR_LIMIT "plan nested deeper than N"), at most PL_SRV_MAX_PLAN_NODES nodes in all.
 *
 * Column and function errors of operations are reported as PL_ERR_INVALID_ARG (a bad plan),
 * missing files, tables and handles as PL_ERR_NOT_FOUND. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "exec/exec.h"
#include "expr/expr_int.h"
#include "io/ipc/ipc.h"
#include "server/catalog.h"
#include "server/service.h"

#define PL_SRV_MAX_PLAN_NODES 100000

typedef struct dctx {
    pl_srv_call *call;
    pl_srv *srv;
    const pl_srv_config *cfg;
    int32_t depth, max_depth;
    int64_t n_nodes;
    char path[384];
    size_t path_len;
    bool located; /* the error message already has its plan path */
} dctx;

/* ---------------------------------------------------------------- paths and errors */

static size_t push(dctx *d, const char *fmt, ...) PL_PRINTF(2, 3);
static size_t push(dctx *d, const char *fmt, ...) {
    size_t old = d->path_len;
    if (old < sizeof d->path - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(d->path + old, sizeof d->path - old, fmt, ap);
        va_end(ap);
        if (n > 0) d->path_len = PL_MIN(old + (size_t)n, sizeof d->path - 1);
    }
    return old;
}

static void pop(dctx *d, size_t old) {
    d->path_len = old;
    d->path[old] = '\0';
}

/* Prefixes err's message with the current plan path (once, at the deepest point). */
static pl_status locate(dctx *d, pl_status st, pl_error *err) {
    if (st == PL_OK || d->located || !err) return st;
    d->located = true;
    char buf[sizeof err->msg + sizeof d->path + 4];
    snprintf(buf, sizeof buf, "%s: %s", d->path, err->msg);
    size_t n = PL_MIN(strlen(buf), sizeof err->msg - 1);
    memcpy(err->msg, buf, n);
    err->msg[n] = '\0';
    return st;
}

/* Column, function and type errors of an operation are a bad plan, not a missing object. */
static pl_status as_bad_plan(pl_status st, pl_error *err) {
    if (st == PL_ERR_NOT_FOUND && err && !err->path[0] && strncmp(err->msg, "table ", 6) != 0 &&
        strncmp(err->msg, "handle ", 7) != 0 && !strstr(err->msg, "no file matches")) {
        err->code = PL_ERR_INVALID_ARG;
        return PL_ERR_INVALID_ARG;
    }
    return st;
}

static pl_status fail(dctx *d, pl_error *err, pl_status code, const char *fmt, ...) PL_PRINTF(4, 5);
static pl_status fail(dctx *d, pl_error *err, pl_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl_error_setv(err, code, fmt, ap);
    va_end(ap);
    return locate(d, code, err);
}

static pl_status enter(dctx *d, pl_error *err) {
    if (++d->depth > d->max_depth)
        return fail(d, err, PL_ERR_LIMIT, "plan nested deeper than %d", (int)d->max_depth);
    if (++d->n_nodes > PL_SRV_MAX_PLAN_NODES)
        return fail(d, err, PL_ERR_LIMIT, "plan has more than %d nodes", PL_SRV_MAX_PLAN_NODES);
    return PL_OK;
}

/* Well-formed UTF-8 without NUL (protobuf-c does not check string fields). */
static bool utf8_ok(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        int n = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (*p == 0xC0 || *p == 0xC1) || *p > 0xF4) return false;
        for (int i = 1; i <= n; i++)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n + 1;
    }
    return true;
}

static pl_status check_name(dctx *d, const char *what, const char *s, bool allow_empty,
                            pl_error *err) {
    if (!s || (!s[0] && !allow_empty)) return fail(d, err, PL_ERR_INVALID_ARG, "%s is empty", what);
    if (!utf8_ok(s)) return fail(d, err, PL_ERR_INVALID_ARG, "%s is not valid UTF-8", what);
    return PL_OK;
}

/* ---------------------------------------------------------------- SQL expression cache
 *
 * Clients send the same SQL expression texts again and again ("price > 100"); parsing one costs
 * ~10 us (libpg_query), a lookup well under one. A direct-mapped cache of successful parses;
 * expressions are immutable and shared by reference. Process-wide, cleared by pl_srv_free. */

#define SQL_CACHE_SLOTS 512
#define SQL_CACHE_MAX_TEXT 2048

typedef struct sql_cache_ent {
    char *text;
    pl_expr *e;
    char *alias;
} sql_cache_ent;

static sql_cache_ent g_sql_cache[SQL_CACHE_SLOTS];
static pthread_mutex_t g_sql_mu = PTHREAD_MUTEX_INITIALIZER;

static size_t text_slot(const char *t) {
    uint64_t h = 1469598103934665603ull;
    for (; *t; t++) h = (h ^ (uint8_t)*t) * 1099511628211ull;
    return (size_t)(h % SQL_CACHE_SLOTS);
}

void pl_srv_sql_cache_clear(void) {
    pthread_mutex_lock(&g_sql_mu);
    for (size_t i = 0; i < SQL_CACHE_SLOTS; i++) {
        pl_free(g_sql_cache[i].text);
        pl_expr_release(g_sql_cache[i].e);
        pl_free(g_sql_cache[i].alias);
        memset(&g_sql_cache[i], 0, sizeof g_sql_cache[i]);
    }
    pthread_mutex_unlock(&g_sql_mu);
}

static pl_status parse_sql_cached(const char *text, pl_expr **out, char **alias, pl_error *err) {
    size_t n = strlen(text);
    if (n > SQL_CACHE_MAX_TEXT) return pl_sql_parse_named_expr(text, out, alias, err);
    size_t slot = text_slot(text);
    pthread_mutex_lock(&g_sql_mu);
    sql_cache_ent *c = &g_sql_cache[slot];
    if (c->text && !strcmp(c->text, text)) {
        pl_expr *e = pl_expr_retain(c->e);
        char *a = NULL;
        bool ok = true, had_alias = c->alias != NULL;
        if (alias && c->alias && !(a = pl_strdup(c->alias))) ok = false;
        pthread_mutex_unlock(&g_sql_mu);
        if (!ok) {
            pl_expr_release(e);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        if (!alias && had_alias) {
            /* an alias where none is allowed: let the parser say so */
            pl_expr_release(e);
            return pl_sql_parse_named_expr(text, out, alias, err);
        }
        *out = e;
        if (alias) *alias = a;
        return PL_OK;
    }
    pthread_mutex_unlock(&g_sql_mu);
    char *a = NULL;
    pl_expr *e = NULL;
    PL_TRY(pl_sql_parse_named_expr(text, &e, &a, err));
    char *t = pl_strdup(text);
    char *a2 = a ? pl_strdup(a) : NULL;
    if (t && (!a || a2)) {
        pthread_mutex_lock(&g_sql_mu);
        c = &g_sql_cache[slot];
        pl_free(c->text);
        pl_expr_release(c->e);
        pl_free(c->alias);
        c->text = t;
        c->e = pl_expr_retain(e);
        c->alias = a2;
        pthread_mutex_unlock(&g_sql_mu);
    } else {
        pl_free(t);
        pl_free(a2);
    }
    if (!alias && a) {
        pl_free(a);
        pl_expr_release(e);
        return pl_sql_parse_named_expr(text, out, alias, err);
    }
    *out = e;
    if (alias) *alias = a;
    else pl_free(a);
    return PL_OK;
}

/* ---------------------------------------------------------------- expressions */

static pl_status decode_expr(dctx *d, const Polaroid__V1__Expr *x, pl_expr **out, char **alias,
                             pl_error *err);

static pl_status expr_list(dctx *d, const char *field, size_t n, Polaroid__V1__Expr *const *xs,
                           pl_expr ***out, pl_error *err) {
    pl_expr **v = pl_calloc(n ? n : 1, sizeof *v);
    if (!v) return fail(d, err, PL_ERR_NOMEM, "out of memory decoding the plan");
    for (size_t i = 0; i < n; i++) {
        size_t old = push(d, ".%s[%zu]", field, i);
        pl_status st = decode_expr(d, xs[i], &v[i], NULL, err);
        pop(d, old);
        if (st) {
            for (size_t k = 0; k < i; k++) pl_expr_release(v[k]);
            pl_free(v);
            return st;
        }
    }
    *out = v;
    return PL_OK;
}

static void expr_list_free(pl_expr **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) pl_expr_release(v[i]);
    pl_free(v);
}

static pl_status literal(dctx *d, const Polaroid__V1__Literal *l, pl_expr **out, pl_error *err) {
    pl_expr *e = NULL;
    pl_value v;
    pl_value_init_null(&v);
    switch (l->value_case) {
    case POLAROID__V1__LITERAL__VALUE_IS_NULL: e = pl_expr_lit_null(); break;
    case POLAROID__V1__LITERAL__VALUE_BOOL_VALUE: e = pl_expr_lit_bool(l->bool_value); break;
    case POLAROID__V1__LITERAL__VALUE_INT64_VALUE: e = pl_expr_lit_i64(l->int64_value); break;
    case POLAROID__V1__LITERAL__VALUE_FLOAT64_VALUE: e = pl_expr_lit_f64(l->float64_value); break;
    case POLAROID__V1__LITERAL__VALUE_STRING_VALUE:
        if (!utf8_ok(l->string_value))
            return fail(d, err, PL_ERR_INVALID_ARG, "string literal is not valid UTF-8");
        e = pl_expr_lit_str(l->string_value);
        break;
    case POLAROID__V1__LITERAL__VALUE_BINARY_VALUE: {
        size_t n = l->binary_value.len;
        v.type = pl_type_simple(PL_TYPE_BINARY);
        v.is_null = false;
        v.str = pl_malloc(n + 1);
        if (!v.str) return fail(d, err, PL_ERR_NOMEM, "out of memory decoding a literal");
        if (n) memcpy(v.str, l->binary_value.data, n);
        v.str[n] = '\0';
        v.str_len = (int64_t)n;
        e = pl_expr_lit_value(&v);
        break;
    }
    case POLAROID__V1__LITERAL__VALUE_DATE_DAYS:
        v.type = pl_type_simple(PL_TYPE_DATE32);
        v.is_null = false;
        v.v.i = l->date_days;
        e = pl_expr_lit_value(&v);
        break;
    case POLAROID__V1__LITERAL__VALUE_TIMESTAMP_US: {
        pl_type *t = NULL;
        if (pl_type_new_timestamp(PL_UNIT_US, NULL, &t, err)) return locate(d, PL_ERR_NOMEM, err);
        v.type = t;
        v.is_null = false;
        v.v.i = l->timestamp_us;
        e = pl_expr_lit_value(&v);
        break;
    }
    case POLAROID__V1__LITERAL__VALUE_INTERVAL_VALUE:
        if (!l->interval_value) return fail(d, err, PL_ERR_INVALID_ARG, "interval literal without a value");
        e = pl_expr_lit_interval(l->interval_value->months, l->interval_value->days,
                                 l->interval_value->nanos);
        break;
    default: return fail(d, err, PL_ERR_INVALID_ARG, "literal without a value");
    }
    pl_value_reset(&v);
    if (!e) return fail(d, err, PL_ERR_NOMEM, "out of memory decoding a literal");
    *out = e;
    return PL_OK;
}

static pl_status decode_expr_inner(dctx *d, const Polaroid__V1__Expr *x, pl_expr **out,
                                   char **alias, pl_error *err) {
    if (!x) return fail(d, err, PL_ERR_INVALID_ARG, "missing expression");
    pl_expr *e = NULL;
    switch (x->kind_case) {
    case POLAROID__V1__EXPR__KIND_COLUMN: {
        const Polaroid__V1__ColumnRef *c = x->column;
        PL_TRY(check_name(d, "column name", c->name, false, err));
        PL_TRY(check_name(d, "column qualifier", c->qualifier, true, err));
        e = c->qualifier && c->qualifier[0] ? pl_expr_col_qualified(c->qualifier, c->name)
                                            : pl_expr_col(c->name);
        break;
    }
    case POLAROID__V1__EXPR__KIND_LITERAL: {
        size_t old = push(d, ".literal");
        pl_status st = literal(d, x->literal, &e, err);
        pop(d, old);
        PL_TRY(st);
        break;
    }
    case POLAROID__V1__EXPR__KIND_CALL: {
        const Polaroid__V1__Call *c = x->call;
        size_t old = push(d, ".call");
        PL_TRY(check_name(d, "function name", c->function, false, err));
        const pl_func_def *f = pl_func_lookup(c->function);
        if (!f) {
            if (pl_agg_canonical(c->function))
                return fail(d, err, PL_ERR_INVALID_ARG,
                            "\"%s\" is an aggregate function: send it as Expr.agg", c->function);
            return fail(d, err, PL_ERR_INVALID_ARG, "unknown function \"%.64s\"", c->function);
        }
        if (c->n_args > INT32_MAX / 2) return fail(d, err, PL_ERR_LIMIT, "too many arguments");
        pl_expr **args = NULL;
        PL_TRY(expr_list(d, "args", c->n_args, c->args, &args, err));
        pop(d, old);
        e = pl_expr_call(f->name, (int32_t)c->n_args, args);
        pl_free(args);
        break;
    }
    case POLAROID__V1__EXPR__KIND_CAST: {
        const Polaroid__V1__Cast *c = x->cast;
        size_t old = push(d, ".cast");
        PL_TRY(check_name(d, "cast type", c->type, false, err));
        pl_type *t = NULL;
        pl_status st = pl_sql_parse_type(c->type, &t, err);
        if (st) {
            if (st == PL_ERR_SQL && err) err->code = st = PL_ERR_INVALID_ARG;
            return locate(d, st, err);
        }
        pl_expr *a = NULL;
        size_t o2 = push(d, ".expr");
        st = decode_expr(d, c->expr, &a, NULL, err);
        pop(d, o2);
        if (st) {
            pl_type_release(t);
            return st;
        }
        pop(d, old);
        e = pl_expr_cast(a, t, c->try_cast);
        break;
    }
    case POLAROID__V1__EXPR__KIND_AGG: {
        const Polaroid__V1__AggCall *a = x->agg;
        size_t old = push(d, ".agg");
        PL_TRY(check_name(d, "aggregate function name", a->function, false, err));
        /* Polars spellings the engine does not know by these names */
        static const char *const agg_alias[][2] = {{"std", "stddev_samp"}, {"var", "var_samp"},
                                               {"mean", "avg"}, {"n_unique", "count"}};
        const char *fname = a->function;
        bool distinct = a->distinct;
        for (size_t i = 0; i < PL_ARRAY_LEN(agg_alias); i++)
            if (!strcasecmp(fname, agg_alias[i][0]) && !pl_agg_canonical(fname)) {
                fname = agg_alias[i][1];
                if (!strcmp(agg_alias[i][0], "n_unique")) distinct = true;
            }
        const char *canon = pl_agg_canonical(fname);
        if (!canon) return fail(d, err, PL_ERR_INVALID_ARG, "unknown aggregate function \"%.64s\"", a->function);
        pl_expr **args = NULL, *filter = NULL;
        PL_TRY(expr_list(d, "args", a->n_args, a->args, &args, err));
        if (a->filter) {
            size_t o2 = push(d, ".filter");
            pl_status st = decode_expr(d, a->filter, &filter, NULL, err);
            pop(d, o2);
            if (st) {
                expr_list_free(args, a->n_args);
                return st;
            }
        }
        pop(d, old);
        e = pl_expr_agg(canon, (int32_t)a->n_args, args, distinct, filter, 0, NULL);
        pl_free(args);
        break;
    }
    case POLAROID__V1__EXPR__KIND_SQL: {
        size_t old = push(d, ".sql");
        PL_TRY(check_name(d, "SQL expression", x->sql, false, err));
        pl_status st = parse_sql_cached(x->sql, &e, alias, err);
        if (st == PL_ERR_SQL || st == PL_ERR_NOT_FOUND) {
            if (err) err->code = PL_ERR_INVALID_ARG;
            st = PL_ERR_INVALID_ARG;
        }
        if (st) return locate(d, st, err);
        pop(d, old);
        break;
    }
    default: return fail(d, err, PL_ERR_INVALID_ARG, "expression without a kind (unknown or unset)");
    }
    if (!e) return fail(d, err, PL_ERR_NOMEM, "out of memory decoding an expression");
    *out = e;
    return PL_OK;
}

static pl_status decode_expr(dctx *d, const Polaroid__V1__Expr *x, pl_expr **out, char **alias,
                             pl_error *err) {
    if (alias) *alias = NULL;
    PL_TRY(enter(d, err));
    pl_status st = decode_expr_inner(d, x, out, alias, err);
    d->depth--;
    return st;
}

/* NamedExpr lists: expressions and names (NULL = default; an SQL alias counts as a name). */
typedef struct named_list {
    size_t n;
    pl_expr **exprs;
    char **names;
} named_list;

static void named_list_reset(named_list *l) {
    for (size_t i = 0; i < l->n; i++) {
        if (l->exprs) pl_expr_release(l->exprs[i]);
        if (l->names) pl_free(l->names[i]);
    }
    pl_free(l->exprs);
    pl_free(l->names);
    memset(l, 0, sizeof *l);
}

static pl_status named_list_decode(dctx *d, const char *field, size_t n,
                                   Polaroid__V1__NamedExpr *const *xs, named_list *out,
                                   pl_error *err) {
    named_list l = {0};
    l.exprs = pl_calloc(n ? n : 1, sizeof *l.exprs);
    l.names = pl_calloc(n ? n : 1, sizeof *l.names);
    if (!l.exprs || !l.names) {
        named_list_reset(&l);
        return fail(d, err, PL_ERR_NOMEM, "out of memory decoding the plan");
    }
    pl_status st = PL_OK;
    for (size_t i = 0; i < n && !st; i++) {
        size_t old = push(d, ".%s[%zu]", field, i);
        const Polaroid__V1__NamedExpr *ne = xs[i];
        char *alias = NULL;
        st = check_name(d, "output name", ne->name, true, err);
        if (!st) st = decode_expr(d, ne->expr, &l.exprs[i], &alias, err);
        if (!st) {
            l.n = i + 1;
            if (ne->name && ne->name[0]) {
                pl_free(alias);
                if (!(l.names[i] = pl_strdup(ne->name))) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
            } else {
                l.names[i] = alias;
            }
        }
        pop(d, old);
    }
    if (st) {
        named_list_reset(&l);
        return st;
    }
    l.n = n;
    *out = l;
    return PL_OK;
}

/* ---------------------------------------------------------------- relations */

static int cmp_name_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A DataFrame operation's output has distinct column names, as in Polars (SQL results may
 * repeat one; later operations could not tell the two apart). On a clash *df is released. */
static pl_status unique_names(dctx *d, pl_df **df, const char *op, pl_error *err) {
    const pl_schema *sch = pl_df_schema(*df);
    int32_t n = sch->n_fields;
    if (n < 2) return PL_OK;
    const char **v = pl_malloc((size_t)n * sizeof *v);
    if (!v) return fail(d, err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) v[i] = sch->fields[i].name;
    qsort(v, (size_t)n, sizeof *v, cmp_name_ptr);
    const char *dup = NULL;
    for (int32_t i = 1; i < n && !dup; i++)
        if (!strcmp(v[i - 1], v[i])) dup = v[i];
    pl_status st = PL_OK;
    if (dup) {
        st = fail(d, err, PL_ERR_INVALID_ARG, "%s output has two columns named \"%.200s\"", op, dup);
        if (err)
            snprintf(err->hint, sizeof err->hint, "give one of them another name with alias() or rename()");
    }
    pl_free(v);
    if (st) {
        pl_df_release(*df);
        *df = NULL;
    }
    return st;
}

static pl_status decode_rel(dctx *d, const Polaroid__V1__Relation *r, pl_df **out, pl_error *err);

static pl_status input_rel(dctx *d, const Polaroid__V1__Relation *r, pl_df **out, pl_error *err) {
    size_t old = push(d, ".input");
    pl_status st = decode_rel(d, r, out, err);
    pop(d, old);
    return st;
}

/* The result of an operation: the engine's error located and classified. */
static pl_status op_done(dctx *d, pl_status st, pl_error *err) {
    return locate(d, as_bad_plan(st, err), err);
}

static pl_status read_files(dctx *d, const Polaroid__V1__ReadFiles *rf, pl_df **out,
                            pl_error *err) {
    if (rf->n_paths == 0) return fail(d, err, PL_ERR_INVALID_ARG, "read needs at least one path");
    if (rf->n_paths > 100000) return fail(d, err, PL_ERR_LIMIT, "read of %zu paths", rf->n_paths);
    pl_format fmt;
    switch (rf->format) {
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_AUTO: fmt = PL_FORMAT_AUTO; break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_PARQUET: fmt = PL_FORMAT_PARQUET; break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_CSV: fmt = PL_FORMAT_CSV; break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_IPC: fmt = PL_FORMAT_IPC; break;
    default: return fail(d, err, PL_ERR_INVALID_ARG, "unknown file format %d", (int)rf->format);
    }
    const char *root = d->cfg->data_root;
    if (fmt == PL_FORMAT_AUTO) {
        fmt = pl_format_from_path(rf->paths[0]);
        if (fmt == PL_FORMAT_AUTO || fmt == PL_FORMAT_JSON || fmt == PL_FORMAT_TABLE)
            return fail(d, err, PL_ERR_INVALID_ARG,
                        "cannot tell the format of \"%.200s\" from its extension; set ReadFiles.format",
                        rf->paths[0]);
    }
    pl_read_opts opts;
    pl_read_opts_init(&opts);
    const Polaroid__V1__CsvOptions *csv = rf->csv;
    if (csv) {
        if (csv->no_header) opts.csv_header = 0;
        if (csv->delimiter && csv->delimiter[0]) {
            if (strlen(csv->delimiter) != 1)
                return fail(d, err, PL_ERR_INVALID_ARG, "csv.delimiter must be one byte");
            opts.csv_delimiter = csv->delimiter[0];
        }
        if (csv->quote && csv->quote[0]) {
            if (strlen(csv->quote) != 1) return fail(d, err, PL_ERR_INVALID_ARG, "csv.quote must be one byte");
            opts.csv_quote = csv->quote[0];
        }
        if (csv->n_null_values) {
            opts.csv_null_values = (const char *const *)csv->null_values;
            opts.n_csv_null_values = (int32_t)PL_MIN(csv->n_null_values, (size_t)INT32_MAX);
        }
    }
    char **paths = pl_calloc(rf->n_paths, sizeof *paths);
    if (!paths) return fail(d, err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (size_t i = 0; i < rf->n_paths && !st; i++) {
        size_t old = push(d, ".paths[%zu]", i);
        st = check_name(d, "path", rf->paths[i], false, err);
        if (!st) st = locate(d, pl_srv_resolve_path(root, rf->paths[i], &paths[i], err), err);
        pop(d, old);
    }
    if (!st) {
        st = pl_df_scan((int32_t)rf->n_paths, (const char *const *)paths, fmt, &opts, out, err);
        if (st) {
            pl_srv_error_strip(err, root);
            st = locate(d, st, err);
        }
    }
    for (size_t i = 0; i < rf->n_paths; i++) pl_free(paths[i]);
    pl_free(paths);
    return st;
}

static pl_status sql_path(void *user, const char *path, char **out, pl_error *err) {
    dctx *d = user;
    return pl_srv_resolve_path(d->cfg->data_root, path, out, err);
}

/* After a script in SQL session id (taken with its state `old`): the session keeps the
 * temporary objects s has now (also when the script failed part-way: the statements before
 * stay done), or `old` when the memory account refuses them. st: the script's status. */
static pl_status session_give(dctx *d, const char *id, pl_session *s, void *old, pl_status st,
                              pl_error *err) {
    pl_catalog *cat = pl_srv_catalog(d->srv);
    pl_srv_sql_temps *now = NULL;
    pl_error e2;
    pl_error_init(&e2);
    pl_status gst = pl_srv_sql_temps_take(s, &now, &e2);
    if (!gst) gst = pl_catalog_session_give(cat, d->call->owner, id, now, pl_srv_sql_temps_bytes(now),
                                            pl_now_ns(), &e2);
    if (!gst) {
        pl_srv_sql_temps_free(old);
        return st;
    }
    pl_srv_sql_temps_free(now);
    if (pl_catalog_session_give(cat, d->call->owner, id, old, pl_srv_sql_temps_bytes(old),
                                pl_now_ns(), NULL))
        pl_srv_sql_temps_free(old); /* the session was dropped meanwhile */
    if (st || gst == PL_ERR_NOT_FOUND) return st;
    if (err) *err = e2;
    return locate(d, gst, err);
}

static pl_status sql_query(dctx *d, const Polaroid__V1__SqlQuery *q, pl_df **out, pl_error *err) {
    PL_TRY(check_name(d, "SQL query", q->query, false, err));
    pl_session *s = NULL;
    if (pl_session_new(&s, err)) return locate(d, PL_ERR_NOMEM, err);
    pl_session_set_path_fn(s, sql_path, d);
    pl_exec_opts o;
    pl_srv_call_exec_opts(d->call, &o);
    pl_session_set_exec_opts(s, &o); /* INSERT ... SELECT and CREATE TABLE AS run now */
    /* live tables and views first, then the client's session's temporary ones (which hide
     * them), so inputs of the same name win */
    pl_catalog *cat = pl_srv_catalog(d->srv);
    pl_status st = pl_srv_sql_lend(cat, s, err);
    bool script = d->call->sql_script && d->depth == 1;
    const char *sess = script ? d->call->sql_session : NULL;
    void *temps = NULL;
    bool taken = false;
    if (!st && sess) {
        st = pl_catalog_session_take(cat, d->call->owner, sess, pl_now_ns(), &temps, err);
        taken = !st;
    }
    if (!st) st = pl_srv_sql_temps_restore(s, temps, err);
    if (st) st = locate(d, st, err);
    for (size_t i = 0; !st && i < q->n_inputs; i++) {
        const Polaroid__V1__NamedRelation *nr = q->inputs[i];
        size_t old = push(d, ".inputs[%zu]", i);
        st = check_name(d, "input name", nr->name, false, err);
        pl_df *df = NULL;
        if (!st) st = decode_rel(d, nr->relation, &df, err);
        if (!st) st = locate(d, pl_session_register(s, nr->name, df, err), err);
        pl_df_release(df);
        pop(d, old);
    }
    /* a whole Execute plan that is SQL may be a script (CREATE, INSERT, DROP ...) */
    if (!st) {
        st = script ? pl_srv_sql_script(pl_srv_catalog(d->srv), s, q->query, out, err)
                    : pl_session_query(s, q->query, out, err);
        if (st) {
            pl_srv_error_strip(err, d->cfg->data_root);
            if (err && err->sql_pos >= 0) /* the line and column, as polaroid sql shows them */
                pl_sql_locate(q->query, err->sql_pos, &err->sql_line, &err->sql_column, NULL, 0);
            if (st == PL_ERR_SQL) st = err ? (err->code = PL_ERR_INVALID_ARG) : PL_ERR_INVALID_ARG;
            st = locate(d, as_bad_plan(st, err), err);
        }
    }
    if (taken) st = session_give(d, sess, s, temps, st, err);
    pl_session_free(s);
    return st;
}

static pl_status arrow_data(dctx *d, const Polaroid__V1__ArrowData *a, pl_df **out, pl_error *err) {
    pl_buf *buf = NULL;
    size_t n = a->ipc_stream.len;
    if (n == 0) return fail(d, err, PL_ERR_INVALID_ARG, "arrow.ipc_stream is empty");
    if (pl_buf_new((int64_t)n, &buf, err)) return locate(d, PL_ERR_NOMEM, err);
    memcpy(buf->data, a->ipc_stream.data, n);
    buf->size = (int64_t)n;
    pl_stream *s = NULL;
    pl_table *t = NULL;
    pl_status st = pl_ipc_scan_buffer(buf, "arrow upload", NULL, &s, err);
    pl_buf_release(buf);
    if (!st) {
        st = pl_stream_collect(s, &t, err);
        pl_stream_free(s);
    }
    if (!st) {
        st = pl_df_from_table(t, out, err);
        pl_table_release(t);
    }
    /* a broken upload is the client's mistake, not a damaged file of the server */
    if (st == PL_ERR_CORRUPT || st == PL_ERR_UNSUPPORTED) {
        if (err) err->code = PL_ERR_INVALID_ARG;
        st = PL_ERR_INVALID_ARG;
    }
    return locate(d, st, err);
}

/* Every key a plain column reference (no qualifier). */
static bool col_refs(Polaroid__V1__Expr *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!keys[i] || keys[i]->kind_case != POLAROID__V1__EXPR__KIND_COLUMN || !keys[i]->column->name ||
            (keys[i]->column->qualifier && keys[i]->column->qualifier[0]))
            return false;
    return true;
}

/* One of the (column) keys is named name. */
static bool names_col(Polaroid__V1__Expr *const *keys, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i]->column->name, name)) return true;
    return false;
}

static pl_status join(dctx *d, const Polaroid__V1__Join *j, pl_df **out, pl_error *err) {
    pl_join_type type;
    switch (j->type) {
    case POLAROID__V1__JOIN__TYPE__JOIN_INNER: type = PL_JOIN_INNER; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_LEFT: type = PL_JOIN_LEFT; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_RIGHT: type = PL_JOIN_RIGHT; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_FULL: type = PL_JOIN_FULL; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_SEMI: type = PL_JOIN_SEMI; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_ANTI: type = PL_JOIN_ANTI; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_CROSS: type = PL_JOIN_CROSS; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_ASOF: type = PL_JOIN_ASOF; break;
    case POLAROID__V1__JOIN__TYPE__JOIN_ASOF_LEFT: type = PL_JOIN_ASOF_LEFT; break;
    default: return fail(d, err, PL_ERR_INVALID_ARG, "unknown join type %d", (int)j->type);
    }
    pl_asof_cmp cmp;
    switch (j->asof_op) {
    case POLAROID__V1__JOIN__ASOF_OP__ASOF_GE: cmp = PL_ASOF_GE; break;
    case POLAROID__V1__JOIN__ASOF_OP__ASOF_GT: cmp = PL_ASOF_GT; break;
    case POLAROID__V1__JOIN__ASOF_OP__ASOF_LE: cmp = PL_ASOF_LE; break;
    case POLAROID__V1__JOIN__ASOF_OP__ASOF_LT: cmp = PL_ASOF_LT; break;
    default: return fail(d, err, PL_ERR_INVALID_ARG, "unknown as-of join inequality %d", (int)j->asof_op);
    }
    if ((type == PL_JOIN_ASOF || type == PL_JOIN_ASOF_LEFT) && j->null_equal)
        return fail(d, err, PL_ERR_INVALID_ARG, "an as-of join takes no null_equal");
    if (j->n_on && (j->n_left_on || j->n_right_on))
        return fail(d, err, PL_ERR_INVALID_ARG, "join takes either on or left_on/right_on, not both");
    if (j->n_left_on != j->n_right_on)
        return fail(d, err, PL_ERR_INVALID_ARG, "join has %zu left_on and %zu right_on keys",
                    j->n_left_on, j->n_right_on);
    size_t n_keys = j->n_on ? j->n_on : j->n_left_on;
    if (type == PL_JOIN_CROSS && n_keys)
        return fail(d, err, PL_ERR_INVALID_ARG, "a cross join takes no keys");
    if (type != PL_JOIN_CROSS && n_keys == 0)
        return fail(d, err, PL_ERR_INVALID_ARG, "join needs keys (on, or left_on and right_on)");
    const char *suffix = j->suffix && j->suffix[0] ? j->suffix : "_right";
    PL_TRY(check_name(d, "join suffix", suffix, false, err));
    pl_df *left = NULL, *right = NULL, *joined = NULL;
    size_t old = push(d, ".left");
    pl_status st = decode_rel(d, j->left, &left, err);
    pop(d, old);
    if (st) return st;
    old = push(d, ".right");
    st = decode_rel(d, j->right, &right, err);
    pop(d, old);
    if (st) {
        pl_df_release(left);
        return st;
    }
    pl_expr **lk = NULL, **rk = NULL;
    if (j->n_on) {
        lk = pl_calloc(n_keys, sizeof *lk);
        rk = pl_calloc(n_keys, sizeof *rk);
        if (!lk || !rk) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < n_keys; i++) {
            size_t o2 = push(d, ".on[%zu]", i);
            st = check_name(d, "join column", j->on[i], false, err);
            if (!st && pl_schema_find(pl_df_schema(left), j->on[i]) < 0)
                st = fail(d, err, PL_ERR_INVALID_ARG, "join column \"%s\" is not in the left input", j->on[i]);
            if (!st && pl_schema_find(pl_df_schema(right), j->on[i]) < 0)
                st = fail(d, err, PL_ERR_INVALID_ARG, "join column \"%s\" is not in the right input", j->on[i]);
            if (!st) {
                lk[i] = pl_expr_col(j->on[i]);
                rk[i] = pl_expr_col(j->on[i]);
                if (!lk[i] || !rk[i]) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
            }
            pop(d, o2);
        }
    } else if (n_keys) {
        st = expr_list(d, "left_on", n_keys, j->left_on, &lk, err);
        if (!st) st = expr_list(d, "right_on", n_keys, j->right_on, &rk, err);
    }
    if (!st) {
        pl_join_opts jo = {j->null_equal, NULL, NULL, cmp};
        st = op_done(d, pl_df_join(left, right, type, (int32_t)n_keys, lk, rk, &jo, &joined, err), err);
    }
    if (lk) expr_list_free(lk, n_keys);
    if (rk) expr_list_free(rk, n_keys);
    pl_schema *ls = pl_df_schema(left), *rs = pl_df_schema(right);
    int32_t nl = ls->n_fields, nr = rs->n_fields;
    pl_df_release(left);
    pl_df_release(right);
    if (st) return st;
    if (type == PL_JOIN_SEMI || type == PL_JOIN_ANTI) {
        st = op_done(d, pl_df_alias(joined, NULL, out, err), err);
        pl_df_release(joined);
        return st;
    }
    /* Polars' output: left columns, then right columns without the `on` keys, clashing right
     * names suffixed; FULL coalesces the `on` keys of both sides; RIGHT drops the left's `on`
     * keys and keeps the right's in their place among the right's columns */
    pl_schema *js = pl_df_schema(joined);
    nl = PL_MIN(nl, js->n_fields);
    nr = js->n_fields - nl;
    bool right_keys = type == PL_JOIN_RIGHT && j->n_on;
    /* left_on/right_on keys that are plain columns: like Polars, an inner or left join keeps
     * only the left's key columns, a right join only the right's (a full join both) */
    bool col_keys = j->n_left_on && col_refs(j->left_on, j->n_left_on) &&
                    col_refs(j->right_on, j->n_right_on) &&
                    (type == PL_JOIN_INNER || type == PL_JOIN_LEFT || type == PL_JOIN_RIGHT);
    int32_t n_out = 0;
    pl_expr **ex = pl_calloc((size_t)(nl + nr + 1), sizeof *ex);
    char **nm = pl_calloc((size_t)(nl + nr + 1), sizeof *nm);
    if (!ex || !nm) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < nl; i++) {
        const char *name = js->fields[i].name;
        int32_t on_idx = -1;
        for (size_t k = 0; k < j->n_on; k++)
            if (!strcmp(j->on[k], name)) on_idx = (int32_t)k;
        if (on_idx >= 0 && right_keys) continue;
        if (col_keys && type == PL_JOIN_RIGHT && names_col(j->left_on, j->n_left_on, name)) continue;
        pl_expr *e = pl_expr_col_index(i, name);
        if (e && on_idx >= 0 && type == PL_JOIN_FULL) {
            int32_t ri = -1;
            for (int32_t k = 0; k < nr; k++)
                if (!strcmp(js->fields[nl + k].name, name)) ri = nl + k;
            if (ri >= 0) e = pl_expr_call2("coalesce", e, pl_expr_col_index(ri, name));
        }
        ex[n_out] = e;
        nm[n_out] = pl_strdup(name);
        if (!e || !nm[n_out]) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        n_out++;
    }
    int32_t n_left = n_out;
    for (int32_t k = 0; !st && k < nr; k++) {
        const char *name = js->fields[nl + k].name;
        bool is_on = false;
        for (size_t q = 0; q < j->n_on; q++)
            if (!strcmp(j->on[q], name)) is_on = true;
        if (is_on && !right_keys) continue;
        if (col_keys && type != PL_JOIN_RIGHT && names_col(j->right_on, j->n_right_on, name)) continue;
        bool clash = false; /* with a left column kept in the output */
        for (int32_t i = 0; !is_on && i < n_left; i++)
            if (!strcmp(nm[i], name)) clash = true;
        char buf[512];
        snprintf(buf, sizeof buf, "%s%s", name, clash ? suffix : "");
        for (int32_t i = 0; i < n_out; i++)
            if (!strcmp(nm[i], buf)) {
                st = fail(d, err, PL_ERR_INVALID_ARG,
                          "join output would have two columns named \"%s\" (the right's \"%s\" with "
                          "suffix \"%s\"); choose another suffix or rename a column", buf, name, suffix);
                break;
            }
        if (st) break;
        ex[n_out] = pl_expr_col_index(nl + k, name);
        nm[n_out] = pl_strdup(buf);
        if (!ex[n_out] || !nm[n_out]) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        n_out++;
    }
    pl_df *sel = NULL;
    if (!st)
        st = op_done(d, pl_df_select(joined, n_out, ex, (const char *const *)nm, &sel, err), err);
    for (int32_t i = 0; i < n_out; i++) {
        if (ex[i]) pl_expr_release(ex[i]);
        pl_free(nm[i]);
    }
    pl_free(ex);
    pl_free(nm);
    pl_df_release(joined);
    if (st) return st;
    st = op_done(d, pl_df_alias(sel, NULL, out, err), err);
    pl_df_release(sel);
    return st;
}

/* Distinct on a subset: the first row (in input order) of each distinct subset, via
 * row_number() OVER (PARTITION BY subset) = 1. */
static pl_status distinct_subset(dctx *d, pl_df *in, const Polaroid__V1__Distinct *ds, pl_df **out,
                                 pl_error *err) {
    size_t n = ds->n_subset;
    pl_expr **part = pl_calloc(n, sizeof *part);
    if (!part) return fail(d, err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (size_t i = 0; !st && i < n; i++) {
        size_t old = push(d, ".subset[%zu]", i);
        st = check_name(d, "column name", ds->subset[i], false, err);
        if (!st && pl_schema_find(pl_df_schema(in), ds->subset[i]) < 0)
            st = fail(d, err, PL_ERR_INVALID_ARG, "column \"%s\" not found", ds->subset[i]);
        if (!st && !(part[i] = pl_expr_col(ds->subset[i]))) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        pop(d, old);
    }
    if (st) {
        for (size_t i = 0; i < n; i++)
            if (part[i]) pl_expr_release(part[i]);
        pl_free(part);
        return st;
    }
    pl_window_frame frame;
    memset(&frame, 0, sizeof frame);
    pl_value_init_null(&frame.start_offset);
    pl_value_init_null(&frame.end_offset);
    pl_expr *rn = pl_expr_window("row_number", 0, NULL, (int32_t)n, part, 0, NULL, &frame);
    pl_free(part);
    if (!rn) return fail(d, err, PL_ERR_NOMEM, "out of memory");
    const char *rn_name = "__pl_distinct_rn";
    pl_df *w = NULL, *f = NULL;
    st = op_done(d, pl_df_window(in, 1, &rn, &rn_name, &w, err), err);
    pl_expr_release(rn);
    if (st) return st;
    pl_expr *pred = pl_expr_call2("eq", pl_expr_col(rn_name), pl_expr_lit_i64(1));
    st = op_done(d, pl_df_filter(w, pred, &f, err), err);
    if (pred) pl_expr_release(pred);
    pl_df_release(w);
    if (st) return st;
    st = op_done(d, pl_df_drop(f, 1, &rn_name, out, err), err);
    pl_df_release(f);
    return st;
}

/* ---------------------------------------------------------------- live table pruning */

/* A literal usable against a column of type ct: integers and floats against numeric columns,
 * dates, times and timestamps only against their own type. */
static bool prune_value(const pl_type *ct, const pl_value *v, pl_prune_cond *c) {
    if (v->is_null || !v->type) return false;
    pl_type_id lt = v->type->id;
    switch (ct->id) {
    case PL_TYPE_INT8:
    case PL_TYPE_INT16:
    case PL_TYPE_INT32:
    case PL_TYPE_INT64:
    case PL_TYPE_UINT8:
    case PL_TYPE_UINT16:
    case PL_TYPE_UINT32:
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64:
        if (lt >= PL_TYPE_INT8 && lt <= PL_TYPE_INT64) {
            c->i = v->v.i;
            return true;
        }
        if (lt == PL_TYPE_FLOAT64 || lt == PL_TYPE_FLOAT32) {
            c->is_float = true;
            c->f = v->v.f;
            return true;
        }
        return false;
    case PL_TYPE_DATE32:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP:
        if (!pl_type_equals(ct, v->type)) return false;
        c->i = v->v.i;
        return true;
    default: return false;
    }
}

static void prune_conds(const pl_expr *e, const pl_schema *sch, pl_prune_cond *out, int32_t *n,
                        int32_t max) {
    if (!e || e->kind != PL_EXPR_CALL || *n >= max) return;
    if (!strcmp(e->name, "and")) {
        for (int32_t i = 0; i < e->n_args; i++) prune_conds(e->args[i], sch, out, n, max);
        return;
    }
    static const struct {
        const char *name;
        pl_prune_op op, flipped;
    } ops[] = {{"eq", PL_PRUNE_EQ, PL_PRUNE_EQ}, {"lt", PL_PRUNE_LT, PL_PRUNE_GT},
               {"le", PL_PRUNE_LE, PL_PRUNE_GE}, {"gt", PL_PRUNE_GT, PL_PRUNE_LT},
               {"ge", PL_PRUNE_GE, PL_PRUNE_LE}};
    if (!strcmp(e->name, "between") && e->n_args == 3 && e->args[0]->kind == PL_EXPR_COLUMN &&
        e->args[1]->kind == PL_EXPR_LITERAL && e->args[2]->kind == PL_EXPR_LITERAL && *n + 2 <= max) {
        int32_t col = pl_schema_find(sch, e->args[0]->name);
        if (col < 0) return;
        pl_prune_cond lo = {col, PL_PRUNE_GE, false, 0, 0}, hi = {col, PL_PRUNE_LE, false, 0, 0};
        if (prune_value(sch->fields[col].type, &e->args[1]->value, &lo) &&
            prune_value(sch->fields[col].type, &e->args[2]->value, &hi)) {
            out[(*n)++] = lo;
            out[(*n)++] = hi;
        }
        return;
    }
    if (e->n_args != 2) return;
    for (size_t k = 0; k < PL_ARRAY_LEN(ops); k++) {
        if (strcmp(e->name, ops[k].name) != 0) continue;
        const pl_expr *a = e->args[0], *b = e->args[1];
        pl_prune_op op = ops[k].op;
        if (a->kind == PL_EXPR_LITERAL && b->kind == PL_EXPR_COLUMN) {
            const pl_expr *t = a;
            a = b;
            b = t;
            op = ops[k].flipped;
        }
        if (a->kind != PL_EXPR_COLUMN || b->kind != PL_EXPR_LITERAL || a->index >= 0) return;
        int32_t col = pl_schema_find(sch, a->name);
        if (col < 0) return;
        pl_prune_cond c = {col, op, false, 0, 0};
        if (prune_value(sch->fields[col].type, &b->value, &c)) out[(*n)++] = c;
        return;
    }
}

/* A frame over a catalog table's snapshot t (taken), its rows and cells counted for the call. */
static pl_status table_df(dctx *d, pl_table *t, pl_df **out, pl_error *err) {
    d->call->table_rows += t->n_rows;
    d->call->table_cells += t->n_rows * (t->schema ? t->schema->n_fields : 1);
    pl_status st = locate(d, pl_df_from_table(t, out, err), err);
    pl_table_release(t);
    return st;
}

/* Filter directly over a live table: the snapshot holds only the batches whose statistics
 * allow the predicate's simple conjuncts (column op literal). */
static pl_status pruned_table(dctx *d, const Polaroid__V1__TableRef *tr, const pl_expr *pred,
                              pl_df **out, pl_error *err) {
    size_t old = push(d, ".input.table");
    pl_status st = check_name(d, "table name", tr->name, false, err);
    pl_catalog *cat = pl_srv_catalog(d->srv);
    pl_schema *sch = NULL;
    if (!st) st = locate(d, pl_catalog_table_schema(cat, tr->name, &sch, err), err);
    pl_table *t = NULL;
    if (!st) {
        pl_prune_cond conds[16];
        int32_t n = 0;
        prune_conds(pred, sch, conds, &n, 16);
        st = locate(d, pl_catalog_table_snapshot_pruned(cat, tr->name, n, conds, &t, err), err);
    }
    if (sch) pl_schema_release(sch);
    if (!st) st = table_df(d, t, out, err);
    pop(d, old);
    return st;
}

/* The same over a materialised handle. */
static pl_status pruned_handle(dctx *d, const Polaroid__V1__HandleRef *hr, const pl_expr *pred,
                               pl_df **out, pl_error *err) {
    size_t old = push(d, ".input.handle");
    pl_status st = check_name(d, "handle id", hr->id, false, err);
    pl_catalog *cat = pl_srv_catalog(d->srv);
    int64_t now = pl_now_ns();
    pl_df *df = NULL;
    if (!st) st = locate(d, pl_catalog_handle_get(cat, d->call->owner, hr->id, now, &df, NULL, err), err);
    if (!st) {
        pl_prune_cond conds[16];
        int32_t n = 0;
        prune_conds(pred, pl_df_schema(df), conds, &n, 16);
        if (n == 0) {
            *out = df;
            df = NULL;
        } else {
            st = locate(d, pl_catalog_handle_get_pruned(cat, d->call->owner, hr->id, now, n, conds, out, err), err);
        }
    }
    if (df) pl_df_release(df);
    pop(d, old);
    return st;
}

static pl_status decode_rel_inner(dctx *d, const Polaroid__V1__Relation *r, pl_df **out,
                                  pl_error *err) {
    pl_df *in = NULL;
    pl_status st = PL_OK;
    switch (r->rel_case) {
    case POLAROID__V1__RELATION__REL_READ: {
        size_t old = push(d, ".read");
        st = read_files(d, r->read, out, err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_SQL: {
        size_t old = push(d, ".sql");
        st = sql_query(d, r->sql, out, err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_ARROW: {
        size_t old = push(d, ".arrow");
        st = arrow_data(d, r->arrow, out, err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_HANDLE: {
        size_t old = push(d, ".handle");
        st = check_name(d, "handle id", r->handle->id, false, err);
        if (!st)
            st = locate(d, pl_catalog_handle_get(pl_srv_catalog(d->srv), d->call->owner,
                                                 r->handle->id, pl_now_ns(), out, NULL, err),
                        err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_TABLE: {
        size_t old = push(d, ".table");
        st = check_name(d, "table name", r->table->name, false, err);
        pl_table *t = NULL;
        if (!st) st = locate(d, pl_catalog_table_snapshot(pl_srv_catalog(d->srv), r->table->name, &t, err), err);
        if (!st) st = table_df(d, t, out, err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_SELECT:
    case POLAROID__V1__RELATION__REL_WITH_COLUMNS: {
        bool sel = r->rel_case == POLAROID__V1__RELATION__REL_SELECT;
        size_t old = push(d, sel ? ".select" : ".with_columns");
        const Polaroid__V1__Relation *input = sel ? r->select->input : r->with_columns->input;
        size_t n = sel ? r->select->n_exprs : r->with_columns->n_exprs;
        Polaroid__V1__NamedExpr **xs = sel ? r->select->exprs : r->with_columns->exprs;
        named_list l = {0};
        st = input_rel(d, input, &in, err);
        if (!st && sel && n == 0) st = fail(d, err, PL_ERR_INVALID_ARG, "select needs at least one expression");
        if (!st) st = named_list_decode(d, "exprs", n, xs, &l, err);
        if (!st)
            st = op_done(d, sel ? pl_df_select(in, (int32_t)n, l.exprs, (const char *const *)l.names, out, err)
                                : pl_df_with_columns(in, (int32_t)n, l.exprs, (const char *const *)l.names, out, err),
                         err);
        if (!st) st = unique_names(d, out, sel ? "select" : "with_columns", err);
        named_list_reset(&l);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_FILTER: {
        size_t old = push(d, ".filter");
        pl_expr *pred = NULL;
        const Polaroid__V1__Relation *fin = r->filter->input;
        if (fin && (fin->rel_case == POLAROID__V1__RELATION__REL_TABLE ||
                    fin->rel_case == POLAROID__V1__RELATION__REL_HANDLE)) {
            /* the predicate first: it picks the table's batches */
            size_t o2 = push(d, ".predicate");
            st = decode_expr(d, r->filter->predicate, &pred, NULL, err);
            pop(d, o2);
            if (!st) st = enter(d, err);
            if (!st) {
                st = fin->rel_case == POLAROID__V1__RELATION__REL_TABLE
                         ? pruned_table(d, fin->table, pred, &in, err)
                         : pruned_handle(d, fin->handle, pred, &in, err);
                d->depth--;
            }
        } else {
            st = input_rel(d, fin, &in, err);
            if (!st) {
                size_t o2 = push(d, ".predicate");
                st = decode_expr(d, r->filter->predicate, &pred, NULL, err);
                pop(d, o2);
            }
        }
        if (!st) st = op_done(d, pl_df_filter(in, pred, out, err), err);
        if (pred) pl_expr_release(pred);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_AGGREGATE: {
        const Polaroid__V1__Aggregate *a = r->aggregate;
        size_t old = push(d, ".aggregate");
        named_list keys = {0}, aggs = {0};
        st = input_rel(d, a->input, &in, err);
        if (!st) st = named_list_decode(d, "keys", a->n_keys, a->keys, &keys, err);
        if (!st) st = named_list_decode(d, "aggs", a->n_aggs, a->aggs, &aggs, err);
        if (!st && a->n_keys == 0 && a->n_aggs == 0)
            st = fail(d, err, PL_ERR_INVALID_ARG, "aggregate needs keys or aggregates");
        if (!st)
            st = op_done(d, pl_df_aggregate(in, (int32_t)keys.n, keys.exprs, (const char *const *)keys.names,
                                            (int32_t)aggs.n, aggs.exprs, (const char *const *)aggs.names, out, err),
                         err);
        if (!st) st = unique_names(d, out, "aggregate", err);
        named_list_reset(&keys);
        named_list_reset(&aggs);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_JOIN: {
        size_t old = push(d, ".join");
        st = join(d, r->join, out, err);
        pop(d, old);
        return st;
    }
    case POLAROID__V1__RELATION__REL_SORT: {
        const Polaroid__V1__Sort *s = r->sort;
        size_t old = push(d, ".sort");
        st = input_rel(d, s->input, &in, err);
        if (!st && s->n_keys == 0) st = fail(d, err, PL_ERR_INVALID_ARG, "sort needs at least one key");
        pl_sort_key *keys = NULL;
        size_t n_done = 0;
        if (!st && !(keys = pl_calloc(s->n_keys, sizeof *keys))) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        for (; !st && n_done < s->n_keys; n_done++) {
            const Polaroid__V1__SortKey *k = s->keys[n_done];
            size_t o2 = push(d, ".keys[%zu]", n_done);
            st = decode_expr(d, k->expr, &keys[n_done].expr, NULL, err);
            pop(d, o2);
            if (st) break;
            keys[n_done].descending = k->descending;
            keys[n_done].nulls_first = k->nulls == POLAROID__V1__SORT_KEY__NULLS__NULLS_FIRST ? true
                                       : k->nulls == POLAROID__V1__SORT_KEY__NULLS__NULLS_LAST ? false
                                                                                             : k->descending;
        }
        if (!st) st = op_done(d, pl_df_sort(in, (int32_t)s->n_keys, keys, out, err), err);
        for (size_t i = 0; keys && i < n_done; i++) pl_expr_release(keys[i].expr);
        pl_free(keys);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_DISTINCT: {
        size_t old = push(d, ".distinct");
        st = input_rel(d, r->distinct->input, &in, err);
        if (!st) {
            if (r->distinct->n_subset) st = distinct_subset(d, in, r->distinct, out, err);
            else st = op_done(d, pl_df_distinct(in, out, err), err);
        }
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_LIMIT: {
        size_t old = push(d, ".limit");
        st = input_rel(d, r->limit->input, &in, err);
        if (!st && r->limit->offset < 0)
            st = fail(d, err, PL_ERR_INVALID_ARG, "limit offset %lld is negative", (long long)r->limit->offset);
        if (!st && r->limit->limit < -1)
            st = fail(d, err, PL_ERR_INVALID_ARG, "limit %lld is negative (-1 = all)", (long long)r->limit->limit);
        if (!st) st = op_done(d, pl_df_limit(in, r->limit->offset, r->limit->limit, out, err), err);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_RENAME: {
        const Polaroid__V1__Rename *rn = r->rename;
        size_t old = push(d, ".rename");
        st = input_rel(d, rn->input, &in, err);
        if (!st && rn->n_old_names != rn->n_new_names)
            st = fail(d, err, PL_ERR_INVALID_ARG, "rename has %zu old and %zu new names", rn->n_old_names,
                      rn->n_new_names);
        for (size_t i = 0; !st && i < rn->n_old_names; i++) {
            st = check_name(d, "old name", rn->old_names[i], false, err);
            if (!st) st = check_name(d, "new name", rn->new_names[i], false, err);
        }
        if (!st)
            st = op_done(d, pl_df_rename(in, (int32_t)rn->n_old_names, (const char *const *)rn->old_names,
                                         (const char *const *)rn->new_names, out, err),
                         err);
        if (!st) st = unique_names(d, out, "rename", err);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_DROP: {
        size_t old = push(d, ".drop");
        st = input_rel(d, r->drop->input, &in, err);
        for (size_t i = 0; !st && i < r->drop->n_columns; i++)
            st = check_name(d, "column name", r->drop->columns[i], false, err);
        if (!st)
            st = op_done(d, pl_df_drop(in, (int32_t)r->drop->n_columns, (const char *const *)r->drop->columns,
                                       out, err),
                         err);
        pop(d, old);
        break;
    }
    case POLAROID__V1__RELATION__REL_UNION: {
        const Polaroid__V1__Union *u = r->union_;
        size_t old = push(d, ".union");
        if (u->n_inputs == 0) st = fail(d, err, PL_ERR_INVALID_ARG, "union needs at least one input");
        pl_df **v = st ? NULL : pl_calloc(u->n_inputs, sizeof *v);
        if (!st && !v) st = fail(d, err, PL_ERR_NOMEM, "out of memory");
        size_t n_done = 0;
        for (; !st && n_done < u->n_inputs; n_done++) {
            size_t o2 = push(d, ".inputs[%zu]", n_done);
            st = decode_rel(d, u->inputs[n_done], &v[n_done], err);
            pop(d, o2);
            if (st) break;
        }
        /* pairwise, so the engine sees a tree log2(n) deep, not a chain n deep */
        size_t n = n_done;
        while (!st && n > 1) {
            size_t k = 0;
            for (size_t i = 0; i < n; i += 2) {
                if (i + 1 == n) {
                    v[k++] = v[i];
                    continue;
                }
                pl_df *y = NULL;
                if (!st) st = op_done(d, pl_df_union(v[i], v[i + 1], true, &y, err), err);
                pl_df_release(v[i]);
                pl_df_release(v[i + 1]);
                v[k++] = y;
            }
            n = k;
            if (st) break;
        }
        if (!st && u->distinct) {
            st = op_done(d, pl_df_distinct(v[0], out, err), err);
        } else if (!st) {
            *out = pl_df_retain(v[0]);
        }
        for (size_t i = 0; v && i < n; i++)
            if (v[i]) pl_df_release(v[i]);
        pl_free(v);
        pop(d, old);
        return st;
    }
    default: return fail(d, err, PL_ERR_INVALID_ARG, "relation without a kind (unknown or unset)");
    }
    pl_df_release(in);
    return st;
}

static pl_status decode_rel(dctx *d, const Polaroid__V1__Relation *r, pl_df **out, pl_error *err) {
    if (!r) return fail(d, err, PL_ERR_INVALID_ARG, "missing relation");
    PL_TRY(enter(d, err));
    pl_status st = decode_rel_inner(d, r, out, err);
    d->depth--;
    return st;
}

pl_status pl_srv_plan_to_df(pl_srv_call *c, const Polaroid__V1__Plan *plan, pl_df **out,
                            pl_error *err) {
    if (!c || !c->srv) PL_FAIL(err, PL_ERR_INTERNAL, "pl_srv_plan_to_df needs a call");
    if (!plan || !plan->root) PL_FAIL(err, PL_ERR_INVALID_ARG, "the request has no plan");
    dctx d;
    memset(&d, 0, sizeof d);
    d.call = c;
    d.srv = c->srv;
    d.cfg = pl_srv_get_config(c->srv);
    d.max_depth = d.cfg->max_plan_depth > 0 ? d.cfg->max_plan_depth : 256;
    push(&d, "root");
    pl_df *df = NULL;
    pl_status st = decode_rel(&d, plan->root, &df, err);
    if (st) {
        pl_srv_error_strip(err, d.cfg->data_root);
        return st;
    }
    *out = df;
    return PL_OK;
}

/* ---------------------------------------------------------------- schemas as IPC */

typedef struct sink_buf {
    pl_buf *b;
} sink_buf;

static pl_status to_buf(void *ctx, const void *bytes, int64_t n, pl_error *err) {
    sink_buf *s = ctx;
    return pl_buf_append(s->b, bytes, n, err);
}

pl_status pl_srv_schema_message(pl_schema *schema, uint8_t **out, size_t *out_len, pl_error *err) {
    sink_buf s = {NULL};
    PL_TRY(pl_buf_new(1024, &s.b, err));
    pl_writer *w = NULL;
    pl_status st = pl_ipc_writer_open_sink(to_buf, &s, false, schema, NULL, &w, err);
    if (!st) st = pl_writer_finish(w, err);
    if (w) pl_writer_free(w);
    if (!st) {
        /* the stream is the schema message then the 8-byte end-of-stream marker */
        int64_t n = s.b->size >= 8 ? s.b->size - 8 : s.b->size;
        uint8_t *m = pl_malloc((size_t)(n ? n : 1));
        if (!m) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory encoding a schema");
        } else {
            memcpy(m, s.b->data, (size_t)n);
            *out = m;
            *out_len = (size_t)n;
        }
    }
    pl_buf_release(s.b);
    return st;
}

pl_status pl_srv_schema_from_ipc(const uint8_t *bytes, size_t n, pl_schema **out, pl_error *err) {
    if (n == 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "empty Arrow schema");
    pl_buf *b = NULL;
    PL_TRY(pl_buf_new((int64_t)n + 8, &b, err));
    memcpy(b->data, bytes, n);
    /* an end-of-stream marker, so a lone schema message reads as an empty stream */
    static const uint8_t eos[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0};
    memcpy(b->data + n, eos, 8);
    b->size = (int64_t)n + 8;
    pl_stream *s = NULL;
    pl_status st = pl_ipc_scan_buffer(b, "arrow schema", NULL, &s, err);
    pl_buf_release(b);
    if (st) {
        if (st == PL_ERR_CORRUPT || st == PL_ERR_UNSUPPORTED) {
            if (err) err->code = PL_ERR_INVALID_ARG;
            st = PL_ERR_INVALID_ARG;
        }
        return st;
    }
    *out = pl_schema_retain(s->schema);
    pl_stream_free(s);
    return PL_OK;
}
