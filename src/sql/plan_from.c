/* plan_from.c - FROM items: tables (CTEs, the session catalog, file paths), table functions
 * (read_parquet, read_csv, read_json, read_ipc), subqueries, LATERAL subqueries and joins (ON,
 * USING, NATURAL, comma and CROSS), and samples (USING SAMPLE / TABLESAMPLE). */
#include "expr/expr_int.h"
#include "sql/plan_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory planning SQL")

/* ---------------------------------------------------------------- aliases */

static pl_status rename_cols(pl_df **df, const PgQuery__Alias *a, int32_t pos, pl_error *err) {
    if (!a || a->n_colnames == 0) return PL_OK;
    pl_schema *sch = pl_df_schema(*df);
    /* hidden leading __ck columns (LATERAL) are not renamed */
    int32_t skip = 0;
    while (skip < sch->n_fields && strncmp(sch->fields[skip].name, "__ck", 4) == 0) skip++;
    if ((int32_t)a->n_colnames > sch->n_fields - skip)
        return sq_fail(err, PL_ERR_SQL, pos, "table \"%s\" has %d columns available but %d columns specified",
                       sq_nz(a->aliasname) ? a->aliasname : "?", (int)(sch->n_fields - skip), (int)a->n_colnames);
    const char **olds = pl_calloc(a->n_colnames, sizeof *olds);
    const char **news = pl_calloc(a->n_colnames, sizeof *news);
    if (!olds || !news) {
        pl_free(olds);
        pl_free(news);
        return NOMEM(err);
    }
    for (size_t i = 0; i < a->n_colnames; i++) {
        olds[i] = sch->fields[skip + (int32_t)i].name;
        news[i] = sq_str(a->colnames[i]);
    }
    pl_df *r = NULL;
    pl_status st = pl_df_rename(*df, (int32_t)a->n_colnames, olds, news, &r, err);
    pl_free(olds);
    pl_free(news);
    if (st) return sq_at(err, st, pos);
    pl_df_release(*df);
    *df = r;
    return PL_OK;
}

static pl_status apply_alias(pl_df **df, const char *name, const PgQuery__Alias *a, int32_t pos,
                             pl_error *err) {
    PL_TRY(rename_cols(df, a, pos, err));
    pl_df *r = NULL;
    PL_TRY(sq_at(err, pl_df_alias(*df, a && sq_nz(a->aliasname) ? a->aliasname : name, &r, err), pos));
    pl_df_release(*df);
    *df = r;
    return PL_OK;
}

/* ---------------------------------------------------------------- tables and files */

/* The items of a list written as list_value(...) (from ['a', 'b'], session_forms.c), a row
 * ('a', 'b') or ARRAY['a', 'b']; false for anything else. */
static bool list_items(const PgQuery__Node *a, PgQuery__Node *const **items, size_t *n) {
    const PgQuery__FuncCall *lv = a->node_case == PG_QUERY__NODE__NODE_FUNC_CALL ? a->func_call : NULL;
    const char *lv_name = lv && lv->n_funcname == 1 ? sq_str(lv->funcname[0]) : NULL;
    if (lv_name && !strcasecmp(lv_name, "list_value") && !lv->agg_star && !lv->over) {
        *items = lv->args;
        *n = lv->n_args;
    } else if (a->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        *items = a->row_expr->args;
        *n = a->row_expr->n_args;
    } else if (a->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR) {
        *items = a->a_array_expr->elements;
        *n = a->a_array_expr->n_elements;
    } else {
        return false;
    }
    return true;
}

static const char *const_str(const PgQuery__Node *n);

/* A list option of string constants (names=[...], types=[...]) as a new vector *out. */
static pl_status str_list_opt(const PgQuery__Node *val, const char *key, int32_t apos, const char ***out,
                              size_t *n_out, pl_error *err) {
    PgQuery__Node *const *items = NULL;
    size_t n = 0;
    if (!list_items(val, &items, &n) || n == 0)
        return sq_fail(err, PL_ERR_SQL, apos, "%s must be a list of strings, e.g. ['a', 'b']", key);
    const char **v = pl_calloc(n, sizeof *v);
    if (!v) return NOMEM(err);
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = const_str(items[i]))) {
            pl_free(v);
            return sq_fail(err, PL_ERR_SQL, sq_node_pos(items[i]), "%s must be a list of strings", key);
        }
    pl_free(*out);
    *out = v;
    *n_out = n;
    return PL_OK;
}

/* read_csv(..., types=['INTEGER', ...]): the first k columns of the scan df get these types,
 * by position; with keys (types={'a': 'INTEGER', ...}) the columns named keys (after the
 * renames of names=[...]) get them. df is scanned again with them by file column name. */
static pl_status csv_typed_rescan(sq_ctx *ctx, int32_t n_paths, const char *const *paths,
                                  pl_read_opts *opts, const char *const *keys,
                                  const char *const *renames, size_t n_renames,
                                  const char *const *type_strs, size_t n_types, int32_t pos,
                                  pl_df **df, pl_error *err);


static bool looks_like_path(const char *name) {
    return strchr(name, '.') || strchr(name, '/') || strchr(name, '*');
}

static void path_stem(const char *path, char *buf, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(buf, n, "%s", base);
    char *dot = strchr(buf, '.');
    if (dot && dot != buf) *dot = '\0';
    for (char *p = buf; *p; p++)
        if (*p == '*' || *p == '?') *p = '_';
}

/* hive: 1/0 = hive_partitioning true/false, -1 = auto-detected (plan_hive.c); by_name:
 * union_by_name (plan_multi.c). */
static pl_status scan_files_hive(sq_ctx *ctx, int32_t n, const char *const *paths, pl_format fmt,
                                 const pl_read_opts *opts, int hive, bool by_name, int32_t pos,
                                 pl_df **out, pl_error *err) {
    if (fmt == PL_FORMAT_AUTO) {
        fmt = pl_format_from_path(paths[0]);
        if (fmt == PL_FORMAT_AUTO)
            return sq_fail(err, PL_ERR_SQL, pos, "cannot tell the format of \"%s\" from its extension", paths[0]);
    }
    /* the session may map (and refuse) paths: a server keeps queries under its data root */
    char **resolved = pl_calloc((size_t)n, sizeof *resolved);
    if (!resolved) return NOMEM(err);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++)
        st = pl_session_resolve_path(ctx->s, paths[i], &resolved[i], err);
    *out = NULL;
    char **files = NULL;
    int32_t n_files = 0;
    if (!st) st = pl_glob_expand(n, (const char *const *)resolved, &files, &n_files, err);
    for (int32_t i = 0; i < n; i++) pl_free(resolved[i]);
    pl_free(resolved);
    const char *const *fl = (const char *const *)files;
    sq_multi m;
    memset(&m, 0, sizeof m);
    /* the files' schemas are looked at one by one for union_by_name and IPC (whose scan
     * checks the later files' schemas only as it reads them), else only when the multi-file
     * scan refuses them (Parquet files of other schemas) */
    bool look = by_name || (fmt == PL_FORMAT_IPC && n_files > 1);
    while (!st) {
        if (look) st = sq_multi_plan(n_files, fl, fmt, opts, by_name, &m, err);
        if (!st) st = sq_scan_hive(n_files, fl, fmt, opts, hive, &m, out, err);
        if (!st && !*out) st = sq_multi_scan(&m, 0, n_files, fl, fmt, opts, out, err);
        if (st != PL_ERR_TYPE || look || n_files < 2 ||
            (fmt != PL_FORMAT_PARQUET && fmt != PL_FORMAT_IPC))
            break;
        look = true;
        pl_error_init(err);
        st = PL_OK;
    }
    sq_multi_reset(&m);
    for (int32_t i = 0; i < n_files; i++) pl_free(files[i]);
    pl_free(files);
    return sq_at(err, st, pos);
}

static pl_status scan_files(sq_ctx *ctx, int32_t n, const char *const *paths, pl_format fmt,
                            const pl_read_opts *opts, int32_t pos, pl_df **out, pl_error *err) {
    return scan_files_hive(ctx, n, paths, fmt, opts, -1, false, pos, out, err);
}

static pl_status range_var(sq_ctx *ctx, const PgQuery__RangeVar *rv, sq_rel *out, pl_error *err) {
    const char *name = rv->relname;
    int32_t pos = rv->location;
    pl_df *df = NULL;
    char stem[256];
    const char *alias = name;
    if (!rv->schemaname || !rv->schemaname[0]) {
        for (sq_cte *c = ctx->ctes; c && !df; c = c->next)
            if (strcasecmp(c->name, name) == 0 && c->df) df = pl_df_retain(c->df);
    }
    if (!df) df = sq_lookup_table(ctx, name);
    /* FROM 'path' arrives as a quoted identifier (plan_pre.c), cut to 63 bytes by the parser
     * and with '' still doubled: read the literal from the original text */
    char *full = NULL;
    size_t sql_len = (size_t)pl_sql_text_len(ctx->sql);
    if (!df && pos >= 0 && (size_t)pos < sql_len && ctx->sql[pos] == '\'') {
        full = pl_malloc(sql_len - (size_t)pos);
        if (!full) return pl_error_set(err, PL_ERR_NOMEM, "out of memory planning SQL");
        size_t k = 0;
        for (const char *p = ctx->sql + pos + 1; *p; p++) {
            if (*p == '\'') {
                if (p[1] != '\'') break;
                p++;
            }
            full[k++] = *p;
        }
        full[k] = '\0';
        name = full;
    }
    if (!df && looks_like_path(name)) {
        pl_status sst = scan_files(ctx, 1, &name, PL_FORMAT_AUTO, NULL, pos, &df, err);
        if (sst) {
            pl_free(full);
            return sst;
        }
        path_stem(name, stem, sizeof stem);
        alias = stem;
    }
    if (!df) {
        pl_status fst = sq_fail(err, PL_ERR_NOT_FOUND, pos, "table \"%s\" does not exist", name);
        pl_free(full);
        return fst;
    }
    pl_status st = apply_alias(&df, alias, rv->alias, pos, err);
    pl_free(full);
    if (st) {
        pl_df_release(df);
        return st;
    }
    return sq_rel_init(out, df, err);
}

/* ---------------------------------------------------------------- table functions */

static const char *const_str(const PgQuery__Node *n) {
    if (n && n->node_case == PG_QUERY__NODE__NODE_A_CONST && !n->a_const->isnull &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL)
        return n->a_const->sval->sval;
    return NULL;
}

static bool const_bool(const PgQuery__Node *n, bool *v) {
    if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST || n->a_const->isnull) return false;
    const PgQuery__AConst *c = n->a_const;
    if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) {
        *v = c->boolval->boolval;
        return true;
    }
    if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        *v = c->ival->ival != 0;
        return true;
    }
    if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        *v = !strcasecmp(c->sval->sval, "true") || !strcmp(c->sval->sval, "1");
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- range / generate_series */

static bool is_int_type(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }

/* Where an argument starts: `INTERVAL 1 DAY` parses to a node placed after the keyword. */
static int32_t arg_pos(const sq_ctx *ctx, const PgQuery__Node *n) {
    int32_t p = sq_node_pos(n);
    if (p < 0 || !ctx->sql) return p;
    int32_t q = p;
    while (q > 0 && (ctx->sql[q - 1] == ' ' || ctx->sql[q - 1] == '\t' || ctx->sql[q - 1] == '\n')) q--;
    if (q >= 8 && q < p + 1 && !strncasecmp(ctx->sql + q - 8, "interval", 8) &&
        (q == 8 || !isalnum((unsigned char)ctx->sql[q - 9])))
        return q - 8;
    return p;
}

/* Arguments of range()/generate_series(): constant expressions (scalar subqueries allowed),
 * planned over a one-row relation, cast to the sequence's types (BIGINT; or TIMESTAMP /
 * TIMESTAMPTZ bounds, for DATE too, with an INTERVAL step) and evaluated now. *ts_type: the
 * timestamp type (owned) or NULL for BIGINT; vals[i] NULL-flagged values. */
static pl_status range_args(sq_ctx *ctx, const PgQuery__FuncCall *fc, const char *fname,
                            pl_type **ts_type, pl_value *vals, pl_error *err) {
    int32_t pos = fc->location;
    int32_t n = (int32_t)fc->n_args;
    *ts_type = NULL;
    if (n < 1 || n > 3 || fc->agg_star || fc->agg_distinct || fc->n_agg_order || fc->agg_filter || fc->over)
        return sq_fail(err, PL_ERR_SQL, pos, "%s takes (stop), (start, stop) or (start, stop, step)", fname);
    for (int32_t i = 0; i < n; i++)
        if (fc->args[i]->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR)
            return sq_fail(err, PL_ERR_SQL, sq_node_pos(fc->args[i]), "%s takes no named arguments", fname);
    pl_df *dual = NULL;
    PL_TRY(sq_dual(&dual, err));
    sq_rel rel;
    PL_TRY(sq_rel_init(&rel, dual, err));
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.rel = &rel;
    sc.allow = SQ_ALLOW_SUBQUERY;
    sc.clause = fname;
    pl_expr *ex[3] = {0}, *fin[3] = {0};
    pl_type *types[3] = {0};
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++) st = sq_expr(&sc, fc->args[i], &ex[i], err);
    if (st == PL_ERR_NOT_FOUND && err && !err->hint[0])
        snprintf(err->hint, sizeof err->hint, "the arguments of %s must be constants: columns of "
                 "other FROM items (LATERAL) are not supported", fname);
    for (int32_t i = 0; i < n && !st; i++) st = sq_finalize(ex[i], rel.df, NULL, &fin[i], err);
    pl_df *raw = NULL;
    static const char *const arg_names[3] = {"__a0", "__a1", "__a2"};
    if (!st) st = sq_at(err, pl_df_select(rel.df, n, fin, arg_names, &raw, err), pos);
    for (int32_t i = 0; i < n && !st; i++) {
        types[i] = pl_type_retain(pl_df_schema(raw)->fields[i].type);
        pl_expr_release(fin[i]);
        fin[i] = pl_expr_col_index(i, pl_df_schema(raw)->fields[i].name);
        if (!fin[i]) st = NOMEM(err);
    }
    /* decide the sequence's type: timestamps when a bound is a DATE or TIMESTAMP */
    bool ts = false, tz = false;
    for (int32_t i = 0; i < n && i < 2 && !st; i++) {
        pl_type_id id = types[i]->id;
        if (id == PL_TYPE_DATE32 || id == PL_TYPE_TIMESTAMP) ts = true;
        if (id == PL_TYPE_TIMESTAMP && types[i]->tz) tz = true;
    }
    pl_type *want[3] = {0};
    if (!st && ts) {
        if (n != 3)
            st = sq_fail(err, PL_ERR_SQL, pos, "%s of timestamps takes (start, stop, step) with an INTERVAL step", fname);
        if (!st) st = pl_type_new_timestamp(PL_UNIT_US, tz ? sq_session_zone(ctx) : NULL, ts_type, err);
        if (!st) want[0] = want[1] = *ts_type;
        if (!st) want[2] = pl_type_simple(PL_TYPE_INTERVAL);
    } else if (!st) {
        want[0] = want[1] = want[2] = pl_type_simple(PL_TYPE_INT64);
    }
    for (int32_t i = 0; i < n && !st; i++) {
        pl_type_id id = types[i]->id, w = want[i]->id;
        bool ok = id == PL_TYPE_NA || id == PL_TYPE_UTF8 ||
                  (w == PL_TYPE_INT64 && is_int_type(id)) ||
                  (w == PL_TYPE_TIMESTAMP && (id == PL_TYPE_DATE32 || id == PL_TYPE_TIMESTAMP)) ||
                  (w == PL_TYPE_INTERVAL && id == PL_TYPE_INTERVAL);
        if (!ok) {
            char tb[64];
            st = sq_fail(err, PL_ERR_TYPE, arg_pos(ctx, fc->args[i]),
                         "%s does not take %s arguments: it takes BIGINT bounds and step, or "
                         "TIMESTAMP/DATE bounds with an INTERVAL step", fname,
                         pl_sql_type_name(types[i], tb, sizeof tb));
            break;
        }
        if (!pl_type_equals(types[i], want[i])) {
            fin[i] = pl_expr_cast(fin[i], pl_type_retain(want[i]), false);
            if (!fin[i]) st = NOMEM(err);
        }
    }
    pl_df *sel = NULL;
    pl_table *t = NULL;
    if (!st) st = sq_at(err, pl_df_select(raw, n, fin, NULL, &sel, err), pos);
    if (!st) st = sq_at(err, pl_df_collect(sel, ctx->s ? pl_session_exec_opts(ctx->s) : NULL, &t, err), pos);
    if (!st && (t->n_rows != 1 || t->n_batches < 1))
        st = sq_fail(err, PL_ERR_INTERNAL, pos, "%s arguments gave %lld rows", fname, (long long)t->n_rows);
    for (int32_t i = 0; i < n && !st; i++) {
        pl_batch *b = t->batches[0];
        for (int64_t k = 0; k < t->n_batches && b->n_rows == 0; k++) b = t->batches[k];
        st = pl_value_from_array(b->columns[i], 0, &vals[i], err);
    }
    pl_table_release(t);
    pl_df_release(sel);
    pl_df_release(raw);
    for (int32_t i = 0; i < 3; i++) {
        pl_expr_release(ex[i]);
        pl_expr_release(fin[i]);
        pl_type_release(types[i]);
    }
    sq_rel_reset(&rel);
    if (st) {
        pl_type_release(*ts_type);
        *ts_type = NULL;
    }
    return st;
}

/* A one-column table function's relation (range(3) t, unnest(l) u(x)): with an alias without
 * column names the column takes the alias's name, like DuckDB and PostgreSQL, and (like
 * DuckDB) still answers to t.<name> (an other name of the relation, sq_rel.alts); takes df. */
static pl_status one_column_rel(pl_df *df, const char *name, const PgQuery__Alias *a, int32_t pos,
                                sq_rel *out, pl_error *err) {
    pl_status st;
    bool alt = false;
    if (a && sq_nz(a->aliasname) && a->n_colnames == 0) {
        alt = strcasecmp(a->aliasname, name) != 0;
        const char *olds[1] = {name}, *news[1] = {a->aliasname};
        pl_df *r = NULL;
        st = pl_df_rename(df, 1, olds, news, &r, err);
        pl_df_release(df);
        if (st) return sq_at(err, st, pos);
        df = r;
    }
    if (a && a->n_colnames > 1)
        return pl_df_release(df), sq_fail(err, PL_ERR_SQL, pos,
                                          "%s has 1 column but %d column names were given", name,
                                          (int)a->n_colnames);
    st = apply_alias(&df, name, a, pos, err);
    if (st) {
        pl_df_release(df);
        return st;
    }
    PL_TRY(sq_rel_init(out, df, err));
    if (alt && (st = sq_rel_add_alt(out, a->aliasname, name, 0, err))) sq_rel_reset(out);
    return st;
}

static pl_status range_function(sq_ctx *ctx, const PgQuery__RangeFunction *rf,
                                 const PgQuery__FuncCall *fc, const char *fname, bool inclusive,
                                 sq_rel *out, pl_error *err) {
    int32_t pos = fc->location;
    if (rf->ordinality)
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "WITH ORDINALITY is not supported");
    char lower[32];
    snprintf(lower, sizeof lower, "%s", inclusive ? "generate_series" : "range");
    pl_value vals[3];
    for (int i = 0; i < 3; i++) pl_value_init_null(&vals[i]);
    pl_type *ts_type = NULL;
    pl_status st = range_args(ctx, fc, lower, &ts_type, vals, err);
    int32_t n = (int32_t)fc->n_args;
    pl_range_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.type = ts_type ? ts_type : pl_type_simple(PL_TYPE_INT64);
    spec.inclusive = inclusive;
    bool any_null = false;
    for (int32_t i = 0; i < n && !st; i++) any_null |= vals[i].is_null;
    if (!st && !any_null) {
        if (n == 1) {
            spec.stop = vals[0].v.i;
        } else {
            spec.start = vals[0].v.i;
            spec.stop = vals[1].v.i;
        }
        spec.step_i64 = 1;
        if (n == 3 && ts_type) spec.step_iv = vals[2].v.iv;
        else if (n == 3) spec.step_i64 = vals[2].v.i;
    } else if (!st) {
        /* a NULL argument: no rows, like DuckDB */
        spec.step_i64 = 1;
        spec.step_iv.days = 1;
        spec.inclusive = false;
    }
    pl_df *df = NULL;
    if (!st) {
        st = pl_df_range(lower, &spec, &df, err);
        if (st && st != PL_ERR_LIMIT && n == 3) st = sq_at(err, st, arg_pos(ctx, fc->args[2]));
        else st = sq_at(err, st, pos);
    }
    for (int i = 0; i < 3; i++) pl_value_reset(&vals[i]);
    pl_type_release(ts_type);
    if (st) return st;
    return one_column_rel(df, lower, rf->alias, pos, out, err);
}

/* FROM unnest(list): one row per element, a column named unnest (or the alias, like range);
 * the argument is a constant expression (uncorrelated scalar subqueries allowed). */
static pl_status unnest_function(sq_ctx *ctx, const PgQuery__RangeFunction *rf, const PgQuery__FuncCall *fc,
                                 sq_rel *out, pl_error *err) {
    int32_t pos = fc->location;
    const char *fname = "unnest";
    if (rf->ordinality) return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "WITH ORDINALITY is not supported");
    if (fc->n_args != 1 || fc->agg_star || fc->agg_distinct || fc->n_agg_order || fc->agg_filter || fc->over)
        return sq_fail(err, PL_ERR_SQL, pos, "unnest takes one list argument");
    pl_df *dual = NULL;
    PL_TRY(sq_dual(&dual, err));
    sq_rel rel;
    PL_TRY(sq_rel_init(&rel, dual, err));
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.rel = &rel;
    sc.allow = SQ_ALLOW_SUBQUERY;
    sc.clause = "unnest";
    pl_expr *ex = NULL, *fin = NULL;
    pl_status st = sq_expr(&sc, fc->args[0], &ex, err);
    if (st == PL_ERR_NOT_FOUND && err && !err->hint[0])
        snprintf(err->hint, sizeof err->hint, "the argument of unnest in FROM must be a constant: columns of "
                 "other FROM items (LATERAL) are not supported; use unnest in the select list");
    if (!st) st = sq_finalize(ex, rel.df, NULL, &fin, err);
    pl_df *u = NULL, *df = NULL;
    if (!st) st = sq_at(err, pl_df_unnest(rel.df, 1, &fin, &fname, &u, err), pos);
    if (!st) {
        pl_expr *c = pl_expr_col_index(pl_df_schema(u)->n_fields - 1, fname);
        st = c ? pl_df_select(u, 1, &c, &fname, &df, err) : NOMEM(err);
        pl_expr_release(c);
    }
    pl_expr_release(ex);
    pl_expr_release(fin);
    if (u) pl_df_release(u);
    sq_rel_reset(&rel);
    if (st) return st;
    return one_column_rel(df, fname, rf->alias, pos, out, err);
}

/* columns={name: 'TYPE', ...} of read_json and read_csv (struct_pack(name := 'TYPE', ...) after
 * session_forms.c): *names and *types (n entries so far in *n) are the caller's to free (the
 * types released), also on failure. */
static pl_status columns_opt(const PgQuery__Node *val, int32_t pos, const char ***names,
                             pl_type ***types, int32_t *n, pl_error *err) {
    const PgQuery__FuncCall *fc = val && val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL ? val->func_call : NULL;
    const char *fn = fc && fc->n_funcname == 1 ? sq_str(fc->funcname[0]) : NULL;
    if (!fn || strcasecmp(fn, "struct_pack") || fc->n_args == 0 || *names)
        return sq_fail(err, PL_ERR_SQL, pos, "columns must be written {name: 'TYPE', ...}");
    *names = pl_calloc(fc->n_args, sizeof **names);
    *types = pl_calloc(fc->n_args, sizeof **types);
    if (!*names || !*types) return NOMEM(err);
    for (size_t i = 0; i < fc->n_args; i++) {
        const PgQuery__Node *a = fc->args[i];
        const char *ts = a->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR ? const_str(a->named_arg_expr->arg) : NULL;
        if (!ts) return sq_fail(err, PL_ERR_SQL, sq_node_pos(a), "columns must be written {name: 'TYPE', ...}");
        for (size_t k = 0; k < i; k++)
            if (!strcasecmp((*names)[k], a->named_arg_expr->name))
                return sq_fail(err, PL_ERR_SQL, sq_node_pos(a), "column \"%s\" given twice in columns",
                               a->named_arg_expr->name);
        pl_type *t = NULL;
        pl_status st = pl_sql_parse_type(ts, &t, err);
        if (st && err) err->sql_pos = -1; /* a position in the type text */
        if (st) return sq_at(err, st, sq_node_pos(a->named_arg_expr->arg));
        (*names)[i] = a->named_arg_expr->name;
        (*types)[i] = t;
        *n = (int32_t)i + 1;
    }
    return PL_OK;
}

/* {name: value, ...} (struct_pack after session_forms.c) */
static bool is_struct_pack(const PgQuery__Node *val) {
    const PgQuery__FuncCall *fc = val && val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL ? val->func_call : NULL;
    const char *fn = fc && fc->n_funcname == 1 ? sq_str(fc->funcname[0]) : NULL;
    return fn && !strcasecmp(fn, "struct_pack");
}

/* read_csv's types={name: 'TYPE', ...}: the names and the type strings, borrowed from the parse
 * tree, as new vectors *names and *strs (replacing earlier ones). */
static pl_status named_str_opt(const PgQuery__Node *val, const char *key, int32_t apos,
                               const char ***names, const char ***strs, size_t *n_out, pl_error *err) {
    const PgQuery__FuncCall *fc = val->func_call;
    if (fc->n_args == 0) return sq_fail(err, PL_ERR_SQL, apos, "%s needs at least one column", key);
    const char **nv = pl_calloc(fc->n_args, sizeof *nv), **sv = pl_calloc(fc->n_args, sizeof *sv);
    if (!nv || !sv) {
        pl_free(nv);
        pl_free(sv);
        return NOMEM(err);
    }
    for (size_t i = 0; i < fc->n_args; i++) {
        const PgQuery__Node *a = fc->args[i];
        bool named = a->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR;
        if (!named || !(sv[i] = const_str(a->named_arg_expr->arg))) {
            pl_free(nv);
            pl_free(sv);
            return sq_fail(err, PL_ERR_SQL, sq_node_pos(a), "%s must be written {name: 'TYPE', ...}", key);
        }
        nv[i] = a->named_arg_expr->name;
    }
    pl_free(*names);
    pl_free(*strs);
    *names = nv;
    *strs = sv;
    *n_out = fc->n_args;
    return PL_OK;
}

static pl_status table_function(sq_ctx *ctx, const PgQuery__RangeFunction *rf, sq_rel *out,
                                 pl_error *err) {
    if (rf->n_functions != 1 || rf->functions[0]->node_case != PG_QUERY__NODE__NODE_LIST ||
        rf->functions[0]->list->n_items < 1 ||
        rf->functions[0]->list->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return pl_error_set(err, PL_ERR_UNSUPPORTED, "unsupported table function form");
    const PgQuery__FuncCall *fc = rf->functions[0]->list->items[0]->func_call;
    int32_t pos = fc->location;
    const char *fname = sq_str(fc->funcname[fc->n_funcname - 1]);
    if (!fname) return sq_fail(err, PL_ERR_SQL, pos, "bad table function");
    if (!strcasecmp(fname, "range") || !strcasecmp(fname, "generate_series"))
        return range_function(ctx, rf, fc, fname, !strcasecmp(fname, "generate_series"), out, err);
    if (!strcasecmp(fname, "unnest")) return unnest_function(ctx, rf, fc, out, err);
    pl_format fmt;
    bool csv = false, json = false;
    if (!strcasecmp(fname, "read_parquet") || !strcasecmp(fname, "parquet_scan")) {
        fmt = PL_FORMAT_PARQUET;
    } else if (!strcasecmp(fname, "read_csv") || !strcasecmp(fname, "read_csv_auto") ||
               !strcasecmp(fname, "csv_scan")) {
        fmt = PL_FORMAT_CSV;
        csv = true;
    } else if (!strcasecmp(fname, "read_json") || !strcasecmp(fname, "read_json_auto") ||
               !strcasecmp(fname, "read_ndjson") || !strcasecmp(fname, "read_ndjson_auto")) {
        fmt = PL_FORMAT_JSON;
        json = true;
    } else if (!strcasecmp(fname, "read_ipc") || !strcasecmp(fname, "read_arrow") ||
               !strcasecmp(fname, "read_feather")) {
        fmt = PL_FORMAT_IPC;
    } else {
        return sq_fail(err, PL_ERR_NOT_FOUND, pos, "unknown table function \"%s\"", fname);
    }
    if (rf->lateral || rf->ordinality)
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "LATERAL/WITH ORDINALITY table functions are not supported");
    if (fc->n_args < 1) return sq_fail(err, PL_ERR_SQL, pos, "%s needs a file path", fname);
    /* paths: 'a', list_value('a', 'b') (from ['a', 'b'], session_forms.c), ('a', 'b'),
     * ARRAY['a', 'b'] */
    const PgQuery__Node *a0 = fc->args[0];
    PgQuery__Node *const *items = NULL;
    size_t n_items = 0;
    if (!list_items(a0, &items, &n_items)) {
        items = (PgQuery__Node *const *)&fc->args[0];
        n_items = 1;
    }
    if (n_items == 0) return sq_fail(err, PL_ERR_SQL, pos, "%s needs at least one path", fname);
    const char **paths = pl_calloc(n_items, sizeof *paths);
    if (!paths) return NOMEM(err);
    pl_status st = PL_OK;
    for (size_t i = 0; !st && i < n_items; i++) {
        paths[i] = const_str(items[i]);
        if (!paths[i]) st = sq_fail(err, PL_ERR_SQL, sq_node_pos(items[i]), "file paths must be string constants");
    }
    pl_read_opts opts;
    pl_read_opts_init(&opts);
    const char **col_given = NULL; /* columns={...} */
    pl_type **col_types = NULL;
    int32_t n_col_given = 0, columns_pos = pos;
    const char **type_keys = NULL; /* types={name: 'TYPE', ...} */
    bool auto_detect = true;
    if (json && !strncasecmp(fname, "read_ndjson", 11)) opts.json_format = PL_JSON_NEWLINE_DELIMITED;
    const char *null_str = NULL;
    int hive = -1; /* hive_partitioning: auto */
    bool by_name = false;
    const char **col_names = NULL, **type_strs = NULL;
    size_t n_col_names = 0, n_type_strs = 0;
    int32_t types_pos = pos;
    for (size_t i = 1; !st && i < fc->n_args; i++) {
        const PgQuery__Node *a = fc->args[i];
        const char *key = NULL;
        const PgQuery__Node *val = NULL;
        int32_t apos = sq_node_pos(a);
        if (a->node_case == PG_QUERY__NODE__NODE_A_EXPR && a->a_expr->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP &&
            a->a_expr->lexpr && a->a_expr->lexpr->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
            a->a_expr->lexpr->column_ref->n_fields == 1) {
            key = sq_str(a->a_expr->lexpr->column_ref->fields[0]);
            val = a->a_expr->rexpr;
            apos = a->a_expr->lexpr->column_ref->location;
        } else if (a->node_case == PG_QUERY__NODE__NODE_NAMED_ARG_EXPR) {
            key = a->named_arg_expr->name;
            val = a->named_arg_expr->arg;
        }
        if (!key) {
            st = sq_fail(err, PL_ERR_SQL, apos, "%s options must be written name=value", fname);
            break;
        }
        bool b;
        const char *s = const_str(val);
        if (csv && (!strcasecmp(key, "delim") || !strcasecmp(key, "sep") || !strcasecmp(key, "delimiter"))) {
            if (!s || strlen(s) != 1) st = sq_fail(err, PL_ERR_SQL, apos, "delimiter must be a single character");
            else opts.csv_delimiter = s[0];
        } else if (csv && !strcasecmp(key, "quote")) {
            if (!s || strlen(s) != 1) st = sq_fail(err, PL_ERR_SQL, apos, "quote must be a single character");
            else opts.csv_quote = s[0];
        } else if (csv && !strcasecmp(key, "header")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "header must be true or false");
            else opts.csv_header = b ? 1 : 0;
        } else if (csv && (!strcasecmp(key, "nullstr") || !strcasecmp(key, "null"))) {
            if (!s) st = sq_fail(err, PL_ERR_SQL, apos, "nullstr must be a string");
            else null_str = s;
        } else if (csv && !strcasecmp(key, "sample_size")) {
            bool is_int;
            int64_t v = 0;
            sq_int_const(val, &is_int, &v);
            if (!is_int) st = sq_fail(err, PL_ERR_SQL, apos, "sample_size must be an integer");
            else opts.csv_sample_rows = v < 0 ? INT64_MAX : v;
        } else if (json && !strcasecmp(key, "format")) {
            if (s && !strcasecmp(s, "auto")) opts.json_format = PL_JSON_AUTO;
            else if (s && (!strcasecmp(s, "newline_delimited") || !strcasecmp(s, "nd") ||
                           !strcasecmp(s, "ndjson")))
                opts.json_format = PL_JSON_NEWLINE_DELIMITED;
            else if (s && !strcasecmp(s, "array")) opts.json_format = PL_JSON_ARRAY;
            else st = sq_fail(err, PL_ERR_SQL, apos, "format must be 'auto', 'newline_delimited' or 'array'");
        } else if (json && !strcasecmp(key, "records")) {
            if (s && !strcasecmp(s, "auto")) opts.json_records = -1;
            else if (!const_bool(val, &b) || (s && strcasecmp(s, "true") && strcasecmp(s, "false")))
                st = sq_fail(err, PL_ERR_SQL, apos, "records must be 'auto', true or false");
            else opts.json_records = b ? 1 : 0;
        } else if (json && !strcasecmp(key, "sample_size")) {
            bool is_int;
            int64_t v = 0;
            sq_int_const(val, &is_int, &v);
            if (!is_int || v == 0 || v < -1) st = sq_fail(err, PL_ERR_SQL, apos, "sample_size must be a positive integer or -1");
            else opts.json_sample_rows = v < 0 ? INT64_MAX : v;
        } else if ((json || csv) && !strcasecmp(key, "columns")) {
            st = columns_opt(val, apos, &col_given, &col_types, &n_col_given, err);
            columns_pos = apos;
        } else if (json && !strcasecmp(key, "ignore_errors")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "ignore_errors must be true or false");
            else if (b) st = sq_fail(err, PL_ERR_UNSUPPORTED, apos, "ignore_errors=true is not supported");
        } else if (json && !strcasecmp(key, "maximum_object_size")) {
            /* accepted and ignored: objects have no size limit here */
        } else if (json && (!strcasecmp(key, "maximum_depth") ||
                            !strcasecmp(key, "convert_strings_to_integers"))) {
            st = sq_fail(err, PL_ERR_UNSUPPORTED, apos, "%s option \"%s\" is not supported", fname, key);
        } else if (csv && !strcasecmp(key, "skip")) {
            bool is_int;
            int64_t v = 0;
            sq_int_const(val, &is_int, &v);
            if (!is_int || v < 0) st = sq_fail(err, PL_ERR_SQL, apos, "skip must be a non-negative integer");
            else opts.csv_skip_rows = v;
        } else if (csv && !strcasecmp(key, "all_varchar")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "all_varchar must be true or false");
            else opts.csv_all_varchar = b;
        } else if (csv && (!strcasecmp(key, "names") || !strcasecmp(key, "column_names"))) {
            st = str_list_opt(val, key, apos, &col_names, &n_col_names, err);
        } else if (csv && (!strcasecmp(key, "types") || !strcasecmp(key, "dtypes") ||
                           !strcasecmp(key, "column_types"))) {
            if (is_struct_pack(val))
                st = named_str_opt(val, key, apos, &type_keys, &type_strs, &n_type_strs, err);
            else {
                pl_free(type_keys);
                type_keys = NULL;
                st = str_list_opt(val, key, apos, &type_strs, &n_type_strs, err);
            }
            types_pos = apos;
        } else if (csv && !strcasecmp(key, "compression")) {
            /* compressed files are recognised by their first bytes */
            if (!s || (strcasecmp(s, "auto") && strcasecmp(s, "gzip") && strcasecmp(s, "zstd") &&
                       strcasecmp(s, "none")))
                st = sq_fail(err, PL_ERR_SQL, apos, "compression must be 'auto', 'gzip', 'zstd' or 'none'");
        } else if (!strcasecmp(key, "hive_partitioning")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "hive_partitioning must be true or false");
            else hive = b ? 1 : 0;
        } else if (!strcasecmp(key, "union_by_name")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "union_by_name must be true or false");
            else by_name = b;
        } else if (csv && (!strcasecmp(key, "dateformat") || !strcasecmp(key, "date_format"))) {
            if (!s) st = sq_fail(err, PL_ERR_SQL, apos, "dateformat must be a string");
            else opts.csv_date_format = s;
        } else if (csv && (!strcasecmp(key, "timestampformat") || !strcasecmp(key, "timestamp_format"))) {
            if (!s) st = sq_fail(err, PL_ERR_SQL, apos, "timestampformat must be a string");
            else opts.csv_timestamp_format = s;
        } else if (csv && !strcasecmp(key, "allow_quoted_nulls")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "allow_quoted_nulls must be true or false");
            else opts.csv_allow_quoted_nulls = b;
        } else if (csv && !strcasecmp(key, "ignore_errors")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "ignore_errors must be true or false");
            else opts.csv_ignore_errors = b;
        } else if (!strcasecmp(key, "filename")) {
            /* filename=true: a column "filename"; filename='name': a column of that name (CSV:
             * added by the reader; other formats: plan_multi.c) */
            if (s && strcasecmp(s, "true") && strcasecmp(s, "false")) opts.csv_filename = s;
            else if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "filename must be true, false or a column name");
            else opts.csv_filename = b ? "filename" : NULL;
        } else if (csv && !strcasecmp(key, "auto_detect")) {
            if (!const_bool(val, &b)) st = sq_fail(err, PL_ERR_SQL, apos, "auto_detect must be true or false");
            else auto_detect = b;
        } else if (!strcasecmp(key, "auto_detect") || !strcasecmp(key, "binary_as_string")) {
            /* accepted and ignored */
        } else {
            st = sq_fail(err, PL_ERR_SQL, apos, "unknown %s option \"%s\"", fname, key);
        }
    }
    if (null_str) {
        opts.csv_null_values = &null_str;
        opts.n_csv_null_values = 1;
    }
    if (!st && csv && n_col_given && (n_type_strs || n_col_names))
        st = sq_fail(err, PL_ERR_SQL, columns_pos, "columns gives the names and types: it cannot be "
                     "combined with %s", n_type_strs ? "types" : "names");
    if (!st && csv && !auto_detect && !n_col_given)
        st = sq_fail(err, PL_ERR_SQL, pos, "read_csv with auto_detect=false needs the columns, "
                     "e.g. columns={'a': 'INTEGER'}");
    if (!st && csv && !auto_detect && opts.csv_header < 0) opts.csv_header = 0;
    if (json) {
        opts.json_column_names = col_given;
        opts.json_column_types = col_types;
        opts.n_json_columns = n_col_given;
    } else {
        opts.csv_column_names = col_given;
        opts.csv_column_types = col_types;
        opts.n_csv_columns = n_col_given;
    }
    pl_df *df = NULL;
    if (!st) st = scan_files_hive(ctx, (int32_t)n_items, paths, fmt, &opts, hive, by_name, pos, &df, err);
    for (int32_t i = 0; i < n_col_given; i++) pl_type_release(col_types[i]);
    pl_free(col_types);
    pl_free(col_given);
    opts.csv_column_names = opts.json_column_names = NULL;
    opts.csv_column_types = opts.json_column_types = NULL;
    opts.n_csv_columns = opts.n_json_columns = 0;
    if (!st && n_type_strs && by_name)
        st = sq_fail(err, PL_ERR_UNSUPPORTED, types_pos, "types cannot be combined with union_by_name");
    if (!st && n_type_strs)
        st = csv_typed_rescan(ctx, (int32_t)n_items, paths, &opts, type_keys, col_names, n_col_names,
                              type_strs, n_type_strs, types_pos, &df, err);
    if (!st && n_col_names) {
        /* names=[...]: the first columns renamed, like an alias's column list */
        pl_schema *sch = pl_df_schema(df);
        if ((int32_t)n_col_names > sch->n_fields) {
            st = sq_fail(err, PL_ERR_SQL, pos, "names has %d entries but the file has %d columns",
                         (int)n_col_names, (int)sch->n_fields);
        } else {
            const char **olds = pl_calloc(n_col_names, sizeof *olds);
            pl_df *r = NULL;
            if (!olds) st = NOMEM(err);
            for (size_t i = 0; !st && i < n_col_names; i++) olds[i] = sch->fields[i].name;
            if (!st) st = sq_at(err, pl_df_rename(df, (int32_t)n_col_names, olds, col_names, &r, err), pos);
            pl_free(olds);
            if (!st) {
                pl_df_release(df);
                df = r;
            }
        }
    }
    pl_free(col_names);
    pl_free(type_strs);
    pl_free(type_keys);
    pl_free(paths);
    if (st) {
        pl_df_release(df);
        return st;
    }
    char lower[64];
    snprintf(lower, sizeof lower, "%s", fname);
    for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
    st = apply_alias(&df, lower, rf->alias, pos, err);
    if (st) {
        pl_df_release(df);
        return st;
    }
    return sq_rel_init(out, df, err);
}

static pl_status csv_typed_rescan(sq_ctx *ctx, int32_t n_paths, const char *const *paths,
                                  pl_read_opts *opts, const char *const *keys,
                                  const char *const *renames, size_t n_renames,
                                  const char *const *type_strs, size_t n_types, int32_t pos,
                                  pl_df **df, pl_error *err) {
    pl_schema *sch = pl_df_schema(*df);
    if (!keys && (int32_t)n_types > sch->n_fields)
        return sq_fail(err, PL_ERR_SQL, pos, "types has %d entries but the file has %d columns",
                       (int)n_types, (int)sch->n_fields);
    const char **names = pl_calloc(n_types, sizeof *names);
    pl_type **types = pl_calloc(n_types, sizeof *types);
    pl_status st = names && types ? PL_OK : NOMEM(err);
    for (size_t i = 0; !st && i < n_types; i++) {
        int32_t col = (int32_t)i;
        if (keys) {
            /* by the column's name after names=[...]: exact, else ignoring case */
            col = -1;
            for (int pass = 0; pass < 2 && col < 0; pass++)
                for (int32_t k = 0; k < sch->n_fields && col < 0; k++) {
                    const char *nm = (size_t)k < n_renames ? renames[k] : sch->fields[k].name;
                    if (pass ? !strcasecmp(nm, keys[i]) : !strcmp(nm, keys[i])) col = k;
                }
            if (col < 0) {
                st = sq_fail(err, PL_ERR_SQL, pos, "types: the file has no column \"%s\"", keys[i]);
                break;
            }
        }
        names[i] = sch->fields[col].name;
        st = pl_type_from_sql_name(type_strs[i], &types[i], err);
        if (st) st = sq_fail(err, PL_ERR_SQL, pos, "types: unknown type \"%s\"", type_strs[i]);
    }
    pl_df *typed = NULL;
    if (!st) {
        opts->csv_type_names = names;
        opts->csv_types = types;
        opts->n_csv_types = (int32_t)n_types;
        st = scan_files(ctx, n_paths, paths, PL_FORMAT_CSV, opts, pos, &typed, err);
        opts->csv_type_names = NULL;
        opts->csv_types = NULL;
        opts->n_csv_types = 0;
    }
    for (size_t i = 0; types && i < n_types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(names);
    if (st) return st;
    pl_df_release(*df);
    *df = typed;
    return PL_OK;
}

/* ---------------------------------------------------------------- combining relations */

/* out = l's columns then r's, over joined (taken). l and r are left untouched. */
static pl_status rel_combine(const sq_rel *l, const sq_rel *r, pl_df *joined, sq_rel *out,
                             pl_error *err) {
    PL_TRY(sq_rel_init(out, joined, err));
    int32_t nl = l->n_cols;
    if (out->n_cols < nl + r->n_cols) return pl_error_set(err, PL_ERR_INTERNAL, "join lost columns");
    for (int32_t i = 0; i < nl; i++) {
        out->hidden[i] = l->hidden[i];
        out->constant[i] = l->constant[i];
        out->star_expr[i] = l->star_expr[i] ? pl_expr_clone(l->star_expr[i]) : NULL;
    }
    for (int32_t i = 0; i < r->n_cols; i++) {
        out->hidden[nl + i] = r->hidden[i];
        out->constant[nl + i] = r->constant[i];
        out->star_expr[nl + i] = r->star_expr[i] ? sq_shift(r->star_expr[i], 0, nl) : NULL;
    }
    int32_t nu = l->n_using + r->n_using;
    for (int32_t i = 0; i < l->n_alts; i++)
        PL_TRY(sq_rel_add_alt(out, l->alts[i].qual, l->alts[i].name, l->alts[i].col, err));
    for (int32_t i = 0; i < r->n_alts; i++)
        PL_TRY(sq_rel_add_alt(out, r->alts[i].qual, r->alts[i].name, nl + r->alts[i].col, err));
    if (nu > 0) {
        out->using_names = pl_calloc((size_t)nu, sizeof(char *));
        out->using_exprs = pl_calloc((size_t)nu, sizeof(pl_expr *));
        if (!out->using_names || !out->using_exprs) return NOMEM(err);
        for (int32_t i = 0; i < l->n_using; i++) {
            out->using_names[out->n_using] = pl_strdup(l->using_names[i]);
            out->using_exprs[out->n_using] = pl_expr_clone(l->using_exprs[i]);
            out->n_using++;
        }
        for (int32_t i = 0; i < r->n_using; i++) {
            out->using_names[out->n_using] = pl_strdup(r->using_names[i]);
            out->using_exprs[out->n_using] = sq_shift(r->using_exprs[i], 0, nl);
            out->n_using++;
        }
    }
    return PL_OK;
}

static pl_status add_using(sq_rel *r, const char *name, pl_expr *e, pl_error *err) {
    char **nn = pl_realloc(r->using_names, (size_t)(r->n_using + 1) * sizeof *nn);
    if (nn) r->using_names = nn;
    pl_expr **ne = nn ? pl_realloc(r->using_exprs, (size_t)(r->n_using + 1) * sizeof *ne) : NULL;
    if (ne) r->using_exprs = ne;
    char *s = ne ? pl_strdup(name) : NULL;
    if (!s || !e) {
        pl_free(s);
        pl_expr_release(e);
        return NOMEM(err);
    }
    r->using_names[r->n_using] = s;
    r->using_exprs[r->n_using] = e;
    r->n_using++;
    return PL_OK;
}

/* Column of name in r for USING: the merged expression when r already merged it. */
static pl_status using_side(sq_rel *r, const char *name, int32_t pos, pl_expr **e, int32_t *col,
                            pl_error *err) {
    *col = -1;
    for (int32_t u = 0; u < r->n_using; u++)
        if (strcasecmp(r->using_names[u], name) == 0) {
            *e = pl_expr_clone(r->using_exprs[u]);
            if (!*e) return NOMEM(err);
            if ((*e)->kind == PL_EXPR_COLUMN) *col = (*e)->index;
            return PL_OK;
        }
    int32_t i = sq_rel_find(r, NULL, name);
    if (i == -2) return sq_fail(err, PL_ERR_SQL, pos, "column \"%s\" in USING is ambiguous", name);
    if (i < 0) return sq_fail(err, PL_ERR_NOT_FOUND, pos, "column \"%s\" in USING not found on both sides", name);
    *e = sq_colref(r, i, pos);
    if (!*e) return NOMEM(err);
    *col = i;
    return PL_OK;
}

typedef struct keyset {
    int32_t n, cap;
    pl_expr **l, **r;
    bool *ne; /* key from IS NOT DISTINCT FROM: NULL matches NULL */
} keyset;

static pl_status ks_push_ne(keyset *k, pl_expr *l, pl_expr *r, bool ne, pl_error *err) {
    if (k->n == k->cap) {
        int32_t cap = k->cap ? k->cap * 2 : 4;
        pl_expr **nl = pl_realloc(k->l, (size_t)cap * sizeof *nl);
        if (nl) k->l = nl;
        pl_expr **nr = nl ? pl_realloc(k->r, (size_t)cap * sizeof *nr) : NULL;
        if (nr) k->r = nr;
        bool *nn = nr ? pl_realloc(k->ne, (size_t)cap * sizeof *nn) : NULL;
        if (nn) k->ne = nn;
        if (!nn) {
            pl_expr_release(l);
            pl_expr_release(r);
            return NOMEM(err);
        }
        k->cap = cap;
    }
    k->l[k->n] = l;
    k->r[k->n] = r;
    k->ne[k->n] = ne;
    k->n++;
    return PL_OK;
}

static pl_status ks_push(keyset *k, pl_expr *l, pl_expr *r, pl_error *err) {
    return ks_push_ne(k, l, r, false, err);
}

static void ks_reset(keyset *k) {
    for (int32_t i = 0; i < k->n; i++) {
        pl_expr_release(k->l[i]);
        pl_expr_release(k->r[i]);
    }
    pl_free(k->l);
    pl_free(k->r);
    pl_free(k->ne);
    memset(k, 0, sizeof *k);
}

/* Splits a predicate over (left ++ right) columns into equi-join keys (a = b, and
 * a IS NOT DISTINCT FROM b as a key where NULL matches NULL) and a residual. */
static pl_status split_join_pred(pl_expr *pred, int32_t nl, keyset *keys, pl_expr **resid,
                                 pl_error *err) {
    if (pred->kind == PL_EXPR_CALL && !strcmp(pred->name, "and") && pred->n_args == 2) {
        PL_TRY(split_join_pred(pred->args[0], nl, keys, resid, err));
        return split_join_pred(pred->args[1], nl, keys, resid, err);
    }
    bool ne = pred->kind == PL_EXPR_CALL && !strcmp(pred->name, "is_not_distinct_from");
    if (pred->kind == PL_EXPR_CALL && (ne || !strcmp(pred->name, "eq")) && pred->n_args == 2 &&
        !sq_has_ref(pred, 1) && !sq_has_kind(pred, PL_EXPR_AGG)) {
        int32_t alo, ahi, blo, bhi;
        sq_ref_range(pred->args[0], &alo, &ahi);
        sq_ref_range(pred->args[1], &blo, &bhi);
        pl_expr *l = NULL, *r = NULL;
        if (alo >= 0 && ahi < nl && blo >= nl) {
            l = pl_expr_retain(pred->args[0]);
            r = sq_shift(pred->args[1], 0, -nl);
        } else if (blo >= 0 && bhi < nl && alo >= nl) {
            l = pl_expr_retain(pred->args[1]);
            r = sq_shift(pred->args[0], 0, -nl);
        }
        if (l) return ks_push_ne(keys, l, r, ne, err);
    }
    if (!*resid) {
        *resid = pl_expr_retain(pred);
    } else {
        *resid = pl_expr_call2("and", *resid, pl_expr_retain(pred));
        if (!*resid) return NOMEM(err);
    }
    return PL_OK;
}

/* The smallest `location` in a parse-tree message (any node type, read through protobuf-c's
 * descriptors; oneof members only when set), or -1. The tree's depth is bounded by
 * parse_guard. */
static int32_t min_location(const ProtobufCMessage *m) {
    if (!m) return -1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    int32_t best = -1;
    for (unsigned f = 0; f < d->n_fields; f++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[f];
        if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(const void *)(base + fd->quantifier_offset) != fd->id)
            continue;
        int32_t v = -1;
        if (fd->type == PROTOBUF_C_TYPE_INT32 && fd->label != PROTOBUF_C_LABEL_REPEATED &&
            strcmp(fd->name, "location") == 0) {
            v = *(const int32_t *)(const void *)(base + fd->offset);
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(const void *)(base + fd->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(const void *)(base + fd->offset);
            for (size_t i = 0; i < n; i++) {
                int32_t w = min_location(arr[i]);
                if (w >= 0 && (v < 0 || w < v)) v = w;
            }
        } else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
            v = min_location(*(const ProtobufCMessage *const *)(const void *)(base + fd->offset));
        }
        if (v >= 0 && (best < 0 || v < best)) best = v;
    }
    return best;
}

static pl_status flatten_and(pl_expr *e, pl_expr ***v, int32_t *n, int32_t *cap, pl_error *err) {
    if (e->kind == PL_EXPR_CALL && !strcmp(e->name, "and") && e->n_args == 2) {
        PL_TRY(flatten_and(e->args[0], v, n, cap, err));
        return flatten_and(e->args[1], v, n, cap, err);
    }
    if (*n == *cap) {
        int32_t c = *cap ? *cap * 2 : 4;
        pl_expr **nv = pl_realloc(*v, sizeof *nv * (size_t)c);
        if (!nv) return NOMEM(err);
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = e;
    return PL_OK;
}

/* ASOF JOIN conditions: the equality keys stay keys, the one inequality between the two sides
 * (in the residual of ON, or the last USING column as left >= right) becomes the last key
 * pair with *cmp; anything else is refused like DuckDB. */
static pl_status asof_keys(keyset *keys, pl_expr **resid, bool using_cols, int32_t nl, int32_t pos,
                           pl_asof_cmp *cmp, pl_error *err) {
    *cmp = PL_ASOF_GE;
    for (int32_t i = 0; i < keys->n; i++)
        if (keys->ne[i])
            return sq_fail(err, PL_ERR_UNSUPPORTED, keys->l[i]->sql_pos >= 0 ? keys->l[i]->sql_pos : pos,
                           "IS NOT DISTINCT FROM is not supported in ASOF JOIN conditions");
    if (using_cols) {
        if (*resid || keys->n == 0)
            return sq_fail(err, PL_ERR_SQL, pos, "missing ASOF JOIN inequality");
        return PL_OK; /* the last USING column: left >= right */
    }
    if (!*resid) return sq_fail(err, PL_ERR_SQL, pos, "missing ASOF JOIN inequality");
    pl_expr **c = NULL;
    int32_t n = 0, cap = 0, found = -1;
    pl_status st = flatten_and(*resid, &c, &n, &cap, err);
    static const char *const names[] = {"ge", "gt", "le", "lt"};
    static const pl_asof_cmp flipped[] = {PL_ASOF_LE, PL_ASOF_LT, PL_ASOF_GE, PL_ASOF_GT};
    for (int32_t i = 0; i < n && !st; i++) {
        pl_expr *e = c[i];
        int k = -1;
        for (int m = 0; m < 4 && e->kind == PL_EXPR_CALL && e->n_args == 2; m++)
            if (!strcmp(e->name, names[m])) k = m;
        int32_t alo = -1, ahi = -1, blo = -1, bhi = -1;
        if (k >= 0 && !sq_has_ref(e, 1) && !sq_has_kind(e, PL_EXPR_AGG)) {
            sq_ref_range(e->args[0], &alo, &ahi);
            sq_ref_range(e->args[1], &blo, &bhi);
        }
        bool lr = alo >= 0 && ahi < nl && blo >= nl, rl = blo >= 0 && bhi < nl && alo >= nl;
        int32_t at = e->sql_pos >= 0 ? e->sql_pos : pos;
        if (!lr && !rl) {
            st = sq_fail(err, PL_ERR_UNSUPPORTED, at,
                         "ASOF JOIN conditions must be equalities and one inequality (>=, >, <=, <) "
                         "between the two sides");
        } else if (found >= 0) {
            st = sq_fail(err, PL_ERR_SQL, at, "multiple ASOF JOIN inequalities");
        } else {
            found = i;
            *cmp = lr ? (pl_asof_cmp)k : flipped[k];
            pl_expr *l = pl_expr_retain(e->args[lr ? 0 : 1]);
            pl_expr *r = sq_shift(e->args[lr ? 1 : 0], 0, -nl);
            st = r ? ks_push(keys, l, r, err) : NOMEM(err);
            if (!r) pl_expr_release(l);
        }
    }
    pl_free(c);
    if (st) return st;
    pl_expr_release(*resid);
    *resid = NULL;
    return PL_OK;
}

static pl_status join_expr(sq_ctx *ctx, sq_scope *outer, const PgQuery__JoinExpr *je, sq_rel *out,
                           pl_error *err);

static pl_status lateral_join(sq_ctx *ctx, sq_rel *left, const PgQuery__RangeSubselect *rs,
                              pl_join_type type, sq_rel *out, pl_error *err);

/* A derived table in the FROM of a correlated subquery (ctx->from_corr), planned with the
 * subquery's outer scope: when it refers to the outer query, the subquery's first plan records
 * the columns and fails (so that it is planned again flattened), and its flattened plan plans
 * the derived table flattened over the same distinct outer values D, D's columns first (hidden,
 * named __fc<id>_<j>, recorded in ctx->from_corr for flat_begin). Otherwise it is an ordinary
 * derived table. st: its query, pos: its place; cols (may be NULL): a CTE's column names,
 * alias/name: the FROM item's alias or default name. */
static pl_status correlated_derived(sq_ctx *ctx, sq_scope *outer, const PgQuery__SelectStmt *st, int32_t pos,
                                    const PgQuery__Alias *cols, const PgQuery__Alias *alias, const char *name,
                                    sq_rel *out, pl_error *err) {
    sq_from_corr *fc = ctx->from_corr;
    sq_flat f;
    sq_corr c;
    memset(&c, 0, sizeof c);
    c.pos = -1;
    PL_TRY(sq_flat_init(&f, fc->flat->n_outer, err));
    sq_select_opts o = {outer, &c, false, false, false, false, false, 0, NULL};
    o.flat = &f;
    pl_df *df = NULL;
    pl_status rc = sq_plan_query(ctx, st, &o, &df, err);
    int32_t n_keys = 0;
    if (rc != PL_ERR_NOMEM && sq_flat_any(&f)) {
        if (df) pl_df_release(df);
        df = NULL;
        sq_corr_reset(&c);
        if (!fc->flat->apply) {
            for (int32_t i = 0; i < f.n_outer; i++) fc->flat->used[i] |= f.used[i];
            if (!rc)
                rc = sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                             "a derived table that refers to the outer query must be planned flattened");
        } else {
            bool grew = false; /* columns the subquery's first plan did not see */
            for (int32_t i = 0; i < f.n_outer; i++)
                if (f.used[i] && !fc->flat->used[i]) grew = fc->flat->used[i] = true;
            if (grew) {
                fc->flat->grew = true;
                sq_flat_reset(&f);
                return sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                               "a derived table uses outer columns its subquery's first plan did not see");
            }
            if (rc && err) pl_error_init(err); /* the first plan's error, now retried */
            memcpy(f.used, fc->flat->used, (size_t)f.n_outer * sizeof *f.used);
            f.apply = true;
            f.agg = sq_select_scalar_agg(st);
            sq_select_opts o2 = {outer, &c, false, false, false, false, false, 0, NULL};
            o2.flat = &f;
            rc = sq_plan_flat(ctx, st, &o2, &df, err);
            for (int32_t i = 0; i < f.n_outer; i++)
                if (f.used[i] && !fc->flat->used[i]) fc->flat->grew = fc->flat->used[i] = true;
            n_keys = c.n_keys;
            if (!rc && (c.n_keys != f.n_d || c.n_resid > 0))
                rc = sq_fail(err, PL_ERR_INTERNAL, pos, "a correlated derived table has %d keys, not %d",
                             (int)c.n_keys, (int)f.n_d);
        }
    } else if (!rc && (c.n_keys > 0 || c.n_resid > 0)) {
        rc = sq_fail(err, PL_ERR_INTERNAL, pos, "a derived table correlated without outer columns");
    }
    sq_corr_reset(&c);
    sq_flat_reset(&f);
    if (!rc && cols) rc = rename_cols(&df, cols, pos, err);
    if (!rc) rc = apply_alias(&df, name, alias, -1, err);
    int32_t id = ctx->next_id++;
    if (!rc && n_keys > 0) {
        /* its keys under names of their own (several derived tables may have them) */
        const char **olds = pl_calloc((size_t)n_keys, sizeof *olds);
        char **news = pl_calloc((size_t)n_keys, sizeof *news);
        char *buf = pl_malloc((size_t)n_keys * 32);
        if (!olds || !news || !buf) rc = NOMEM(err);
        for (int32_t j = 0; !rc && j < n_keys; j++) {
            olds[j] = pl_df_schema(df)->fields[j].name;
            news[j] = buf + (size_t)j * 32;
            snprintf(news[j], 32, "__fc%d_%d", (int)id, (int)j);
        }
        pl_df *r = NULL;
        if (!rc) rc = pl_df_rename(df, n_keys, olds, (const char *const *)news, &r, err);
        if (!rc) {
            pl_df_release(df);
            df = r;
        }
        pl_free(olds);
        pl_free(news);
        pl_free(buf);
        if (!rc && fc->n == fc->cap) {
            int32_t cap = fc->cap ? fc->cap * 2 : 4;
            int32_t *v = pl_realloc(fc->ids, (size_t)cap * sizeof *v);
            if (!v) rc = NOMEM(err);
            else {
                fc->ids = v;
                fc->cap = cap;
            }
        }
        if (!rc) fc->ids[fc->n++] = id;
    }
    if (rc) {
        if (df) pl_df_release(df);
        return rc;
    }
    PL_TRY(sq_rel_init(out, df, err));
    for (int32_t j = 0; j < n_keys && j < out->n_cols; j++) out->hidden[j] = true;
    return PL_OK;
}

/* A reference to a CTE that refers to the outer query (sq_cte.corr): planned here like a
 * derived table of its query, named like the CTE. */
static pl_status correlated_cte(sq_ctx *ctx, sq_scope *outer, const sq_cte *c, const PgQuery__RangeVar *rv,
                                sq_rel *out, pl_error *err) {
    const PgQuery__SelectStmt *st = c->corr->ctequery->select_stmt;
    PgQuery__Alias cols = PG_QUERY__ALIAS__INIT;
    cols.aliasname = c->name;
    cols.n_colnames = c->corr->n_aliascolnames;
    cols.colnames = c->corr->aliascolnames;
    if (outer && ctx->from_corr)
        return correlated_derived(ctx, outer, st, rv->location, &cols, rv->alias, c->name, out, err);
    /* not in a correlated subquery's FROM: planned on its own, which fails like the CTE did */
    pl_df *df = NULL;
    PL_TRY(sq_plan_query(ctx, st, NULL, &df, err));
    pl_status rc = rename_cols(&df, &cols, rv->location, err);
    if (!rc) rc = apply_alias(&df, c->name, rv->alias, -1, err);
    if (rc) {
        pl_df_release(df);
        return rc;
    }
    return sq_rel_init(out, df, err);
}

pl_status sq_rel_zone(const sq_ctx *ctx, sq_rel *r, pl_error *err) {
    const char *zone = sq_session_zone(ctx);
    const pl_schema *sch = pl_df_schema(r->df);
    int32_t n = sch->n_fields, n_zoned = 0;
    for (int32_t i = 0; i < n; i++) {
        const pl_type *t = sch->fields[i].type;
        if (t->id == PL_TYPE_TIMESTAMP && t->tz && strcmp(t->tz, zone)) n_zoned++;
    }
    if (!n_zoned) return PL_OK;
    pl_expr **ex = pl_calloc((size_t)n, sizeof *ex);
    const char **names = pl_calloc((size_t)n, sizeof *names);
    pl_status st = ex && names ? PL_OK : NOMEM(err);
    for (int32_t i = 0; !st && i < n; i++) {
        const pl_type *t = sch->fields[i].type;
        names[i] = sch->fields[i].name;
        ex[i] = pl_expr_col_index(i, names[i]);
        if (ex[i] && t->id == PL_TYPE_TIMESTAMP && t->tz && strcmp(t->tz, zone)) {
            pl_type *zt = NULL;
            st = pl_type_new_timestamp(t->unit, zone, &zt, err);
            if (!st) ex[i] = pl_expr_cast(ex[i], zt, false); /* same instants: values copied */
        }
        if (!st && !ex[i]) st = NOMEM(err);
    }
    pl_df *df = NULL;
    if (!st) st = pl_df_select(r->df, n, ex, names, &df, err);
    for (int32_t i = 0; ex && i < n; i++) pl_expr_release(ex[i]);
    pl_free(ex);
    pl_free(names);
    if (st) {
        sq_rel_reset(r);
        return st;
    }
    pl_df_release(r->df);
    r->df = df;
    return PL_OK;
}

pl_status sq_plan_from_item(sq_ctx *ctx, sq_scope *outer, const PgQuery__Node *item, sq_rel *left,
                            sq_rel *out, pl_error *err) {
    PL_UNUSED(left);
    switch (item->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR: {
        const PgQuery__RangeVar *rv = item->range_var;
        for (const sq_cte *c = sq_nz(rv->schemaname) ? NULL : ctx->ctes; c; c = c->next)
            if (strcasecmp(c->name, rv->relname) == 0) {
                if (c->corr && c->busy) continue; /* a CTE does not see itself */
                if (c->corr) {
                    sq_cte *m = (sq_cte *)(uintptr_t)c;
                    m->busy = true;
                    pl_status rc = correlated_cte(ctx, outer, c, rv, out, err);
                    m->busy = false;
                    return rc;
                }
                break;
            }
        PL_TRY(range_var(ctx, rv, out, err));
        return sq_rel_zone(ctx, out, err);
    }
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION:
        PL_TRY(table_function(ctx, item->range_function, out, err));
        return sq_rel_zone(ctx, out, err);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT: {
        const PgQuery__RangeSubselect *rs = item->range_subselect;
        if (!rs->subquery || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return pl_error_set(err, PL_ERR_SQL, "bad subquery in FROM");
        if (outer && ctx->from_corr)
            return correlated_derived(ctx, outer, rs->subquery->select_stmt, sq_node_pos(rs->subquery), NULL,
                                      rs->alias, NULL, out, err);
        pl_df *df = NULL;
        PL_TRY(sq_plan_query(ctx, rs->subquery->select_stmt, NULL, &df, err));
        pl_status st = apply_alias(&df, rs->alias ? sq_nz(rs->alias->aliasname) : NULL, rs->alias, -1, err);
        if (st) {
            pl_df_release(df);
            return st;
        }
        return sq_rel_init(out, df, err);
    }
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return join_expr(ctx, outer, item->join_expr, out, err);
    default:
        return pl_error_set(err, PL_ERR_UNSUPPORTED, "unsupported FROM item (node %d)", (int)item->node_case);
    }
}

static bool is_lateral(const PgQuery__Node *n) {
    return n && n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT && n->range_subselect->lateral;
}

/* The cross join of l and r filtered by the condition quals, which may hold subqueries
 * (correlated with either side, DuckDB runs them): they join onto the cross join like in WHERE
 * (the optimizer turns the condition's equalities into hash keys). l and r are kept. */
static pl_status cross_filtered(sq_ctx *ctx, const sq_rel *l, const sq_rel *r, const PgQuery__Node *quals,
                                int32_t pos, sq_rel *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    pl_df *cross = NULL;
    pl_status st = pl_df_join(l->df, r->df, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &cross, err);
    if (st) sq_at(err, st, pos);
    if (!st) st = rel_combine(l, r, cross, out, err);
    else if (cross) pl_df_release(cross);
    if (!st) {
        sq_scope sc = {0};
        sc.ctx = ctx;
        sc.rel = out;
        sc.allow = SQ_ALLOW_SUBQUERY;
        sc.clause = "JOIN conditions";
        pl_expr *pred = NULL;
        st = sq_expr(&sc, quals, &pred, err);
        if (!st) st = sq_rel_filter(out, pred, err);
        pl_expr_release(pred);
    }
    if (st) sq_rel_reset(out);
    return st;
}

/* An INNER JOIN whose ON condition has subqueries: cross_filtered. l and r are taken. */
static pl_status join_filtered(sq_ctx *ctx, sq_rel *l, sq_rel *r, const PgQuery__Node *quals, int32_t pos,
                               sq_rel *out, pl_error *err) {
    pl_status st = cross_filtered(ctx, l, r, quals, pos, out, err);
    sq_rel_reset(l);
    sq_rel_reset(r);
    return st;
}

/* A row number column (hidden, a name of its own) appended to r; *col: its index. */
static pl_status number_rows(sq_ctx *ctx, sq_rel *r, int32_t *col, pl_error *err) {
    char name[32];
    snprintf(name, sizeof name, "__s%d_rn", (int)ctx->next_id++);
    pl_window_frame frame;
    memset(&frame, 0, sizeof frame);
    pl_value_init_null(&frame.start_offset);
    pl_value_init_null(&frame.end_offset);
    pl_expr *rn = pl_expr_window("row_number", 0, NULL, 0, NULL, 0, NULL, &frame);
    const char *nm = name;
    pl_df *w = NULL;
    pl_status st = rn ? pl_df_window(r->df, 1, &rn, &nm, &w, err) : NOMEM(err);
    pl_expr_release(rn);
    *col = r->n_cols;
    if (!st) st = sq_rel_extend(r, w, true, false, err);
    return st;
}

/* A LEFT / RIGHT / FULL JOIN whose ON condition has subqueries: both sides' rows are
 * numbered, the pairs of numbers that match are found by cross_filtered (M), and the join is
 * (l LEFT JOIN M on l's number) <type> JOIN r on M's r number: a row without a match has no
 * number of the other side, so the outer join fills it with NULLs (joins keep the columns'
 * qualifiers). l and r are taken. */
static pl_status outer_join_filtered(sq_ctx *ctx, sq_rel *l, sq_rel *r, pl_join_type type,
                                     const PgQuery__Node *quals, int32_t pos, sq_rel *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    int32_t lid = -1, rid = -1;
    pl_status st = number_rows(ctx, l, &lid, err);
    if (!st) st = number_rows(ctx, r, &rid, err);
    sq_rel cr;
    memset(&cr, 0, sizeof cr);
    if (!st) st = cross_filtered(ctx, l, r, quals, pos, &cr, err);
    pl_df *m = NULL, *a = NULL, *b = NULL;
    int32_t nl = l->n_cols;
    if (!st) {
        pl_expr *ids[2] = {pl_expr_col_index(lid, sq_rel_name(&cr, lid)),
                           pl_expr_col_index(nl + rid, sq_rel_name(&cr, nl + rid))};
        static const char *const names[2] = {"__ml", "__mr"};
        st = ids[0] && ids[1] ? pl_df_select(cr.df, 2, ids, names, &m, err) : NOMEM(err);
        pl_expr_release(ids[0]);
        pl_expr_release(ids[1]);
    }
    if (!st) {
        pl_expr *lk = pl_expr_col_index(lid, sq_rel_name(l, lid)), *rk = pl_expr_col_index(0, "__ml");
        st = lk && rk ? pl_df_join(l->df, m, PL_JOIN_LEFT, 1, &lk, &rk, NULL, &a, err) : NOMEM(err);
        pl_expr_release(lk);
        pl_expr_release(rk);
    }
    if (!st) st = sq_rel_extend(l, a, true, false, err); /* l's columns, then __ml, __mr */
    if (!st) {
        pl_expr *lk = pl_expr_col_index(l->n_cols - 1, "__mr"), *rk = pl_expr_col_index(rid, sq_rel_name(r, rid));
        st = lk && rk ? pl_df_join(l->df, r->df, type, 1, &lk, &rk, NULL, &b, err) : NOMEM(err);
        pl_expr_release(lk);
        pl_expr_release(rk);
    }
    if (st) sq_at(err, st, pos);
    if (!st) {
        st = rel_combine(l, r, b, out, err);
        if (st) sq_rel_reset(out);
    } else if (b) {
        pl_df_release(b);
    }
    if (m) pl_df_release(m);
    sq_rel_reset(&cr);
    sq_rel_reset(l);
    sq_rel_reset(r);
    return st;
}

/* Joins l and r (both taken) into out. */
static pl_status join_rels(sq_ctx *ctx, sq_rel *l, sq_rel *r, pl_join_type type,
                           const PgQuery__Node *quals, PgQuery__Node *const *using_nodes,
                           size_t n_using, bool natural, int32_t pos, sq_rel *out, pl_error *err) {
    if (quals && !natural && n_using == 0 && pl_sql_has_sublink(quals)) {
        if (type == PL_JOIN_INNER) return join_filtered(ctx, l, r, quals, pos, out, err);
        if (type == PL_JOIN_LEFT || type == PL_JOIN_RIGHT || type == PL_JOIN_FULL)
            return outer_join_filtered(ctx, l, r, type, quals, pos, out, err);
    }
    keyset keys = {0};
    pl_expr *resid = NULL;
    pl_status st = PL_OK;
    int32_t nl = l->n_cols;
    memset(out, 0, sizeof *out); /* reset on every error path below */
    /* USING / NATURAL column names */
    const char **unames = NULL;
    int32_t n_un = 0;
    int32_t *lcols = NULL, *rcols = NULL;
    if (natural) {
        unames = pl_calloc((size_t)(l->n_cols + 1), sizeof *unames);
        if (!unames) st = NOMEM(err);
        for (int32_t i = 0; !st && i < l->n_cols; i++) {
            if (l->hidden[i] && !l->star_expr[i]) continue;
            const char *nm = sq_rel_name(l, i);
            for (int32_t k = 0; k < r->n_cols; k++)
                if (!r->hidden[k] && strcasecmp(sq_rel_name(r, k), nm) == 0) {
                    unames[n_un++] = nm;
                    break;
                }
        }
    } else if (n_using > 0) {
        unames = pl_calloc(n_using, sizeof *unames);
        if (!unames) st = NOMEM(err);
        for (size_t i = 0; !st && i < n_using; i++) unames[n_un++] = sq_str(using_nodes[i]);
    }
    if (!st && n_un > 0) {
        lcols = pl_calloc((size_t)n_un, sizeof *lcols);
        rcols = pl_calloc((size_t)n_un, sizeof *rcols);
        if (!lcols || !rcols) st = NOMEM(err);
        for (int32_t i = 0; !st && i < n_un; i++) {
            pl_expr *le = NULL, *re = NULL;
            st = using_side(l, unames[i], pos, &le, &lcols[i], err);
            if (!st) st = using_side(r, unames[i], pos, &re, &rcols[i], err);
            if (st) {
                pl_expr_release(le);
                break;
            }
            st = ks_push(&keys, le, re, err);
        }
    }
    /* ON */
    if (!st && quals) {
        pl_df *tmp = NULL;
        st = pl_df_join(l->df, r->df, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &tmp, err);
        sq_rel comb;
        memset(&comb, 0, sizeof comb);
        if (!st) st = rel_combine(l, r, tmp, &comb, err);
        else tmp = NULL;
        if (!st) {
            sq_scope sc = {0};
            sc.ctx = ctx;
            sc.rel = &comb;
            sc.clause = "JOIN conditions";
            pl_expr *pred = NULL;
            st = sq_expr(&sc, quals, &pred, err);
            if (!st) st = split_join_pred(pred, nl, &keys, &resid, err);
            pl_expr_release(pred);
        }
        sq_rel_reset(&comb);
    }
    pl_asof_cmp cmp = PL_ASOF_GE;
    bool asof = type == PL_JOIN_ASOF || type == PL_JOIN_ASOF_LEFT;
    bool semi = type == PL_JOIN_SEMI || type == PL_JOIN_ANTI;
    if (!st && asof) st = asof_keys(&keys, &resid, n_un > 0, nl, pos, &cmp, err);
    if (!st && type == PL_JOIN_INNER && keys.n == 0 && !resid) type = PL_JOIN_CROSS;
    pl_df *joined = NULL;
    if (!st) {
        pl_expr **fl = pl_calloc((size_t)(keys.n + 1), sizeof *fl);
        pl_expr **fr = pl_calloc((size_t)(keys.n + 1), sizeof *fr);
        pl_expr *fres = NULL;
        int32_t done = 0;
        if (!fl || !fr) st = NOMEM(err);
        for (; !st && done < keys.n; done++) {
            st = sq_finalize(keys.l[done], l->df, NULL, &fl[done], err);
            if (!st) st = sq_finalize(keys.r[done], r->df, NULL, &fr[done], err);
            if (st) {
                pl_expr_release(fl[done]);
                break;
            }
        }
        if (!st && resid) st = sq_finalize(resid, l->df, r->df, &fres, err);
        if (!st) {
            pl_join_opts jo = {false, fres, keys.ne, cmp};
            st = pl_df_join(l->df, r->df, type, keys.n, fl, fr, &jo, &joined, err);
            if (st) sq_at(err, st, pos);
        }
        for (int32_t i = 0; i < done; i++) {
            pl_expr_release(fl[i]);
            pl_expr_release(fr[i]);
        }
        pl_free(fl);
        pl_free(fr);
        pl_expr_release(fres);
    }
    if (!st && semi) {
        /* SEMI / ANTI JOIN: the left relation's columns only */
        *out = *l;
        memset(l, 0, sizeof *l);
        pl_df_release(out->df);
        out->df = joined;
    } else if (!st) {
        st = rel_combine(l, r, joined, out, err);
    }
    /* merged USING columns */
    for (int32_t i = 0; !st && !semi && i < n_un; i++) {
        int32_t lc = lcols[i], rc = rcols[i] >= 0 ? nl + rcols[i] : -1;
        pl_expr *merged = NULL;
        if (lc < 0 || rc < 0) {
            /* already merged on one side: keep that side's expression */
            merged = lc >= 0 ? sq_colref(out, lc, pos) : sq_shift(keys.r[i], 0, nl);
        } else if (type == PL_JOIN_FULL) {
            merged = pl_expr_call2("coalesce", sq_colref(out, lc, pos), sq_colref(out, rc, pos));
        } else if (type == PL_JOIN_RIGHT) {
            merged = sq_colref(out, rc, pos);
        } else {
            merged = sq_colref(out, lc, pos);
        }
        if (!merged) {
            st = NOMEM(err);
            break;
        }
        if (lc >= 0 && rc >= 0) {
            out->hidden[rc] = true;
            if (type == PL_JOIN_FULL || type == PL_JOIN_RIGHT) {
                pl_expr_release(out->star_expr[lc]);
                out->star_expr[lc] = pl_expr_clone(merged);
            }
        }
        st = add_using(out, unames[i], merged, err);
    }
    pl_free(unames);
    pl_free(lcols);
    pl_free(rcols);
    ks_reset(&keys);
    pl_expr_release(resid);
    sq_rel_reset(l);
    sq_rel_reset(r);
    if (st) sq_rel_reset(out);
    return st;
}

/* POSITIONAL JOIN: row i of l beside row i of r, the shorter side padded with NULLs (DuckDB):
 * each side numbered by row_number() OVER () (input order), a FULL join on the numbers, sorted
 * by them, the numbers dropped. l and r are taken. */
static pl_status positional_join(sq_rel *l, sq_rel *r, int32_t pos, sq_rel *out, pl_error *err) {
    static const char *const names[2] = {"__pl_posl", "__pl_posr"};
    memset(out, 0, sizeof *out);
    pl_df *w[2] = {NULL, NULL}, *j = NULL, *srt = NULL, *fin = NULL;
    pl_status st = PL_OK;
    for (int side = 0; side < 2 && !st; side++) {
        pl_expr *rn = pl_expr_window("row_number", 0, NULL, 0, NULL, 0, NULL, NULL);
        st = rn ? pl_df_window(side ? r->df : l->df, 1, &rn, &names[side], &w[side], err) : NOMEM(err);
        pl_expr_release(rn);
    }
    int32_t nl = pl_df_schema(l->df)->n_fields, nr = pl_df_schema(r->df)->n_fields;
    if (!st) {
        pl_expr *lk = pl_expr_col_index(nl, names[0]), *rk = pl_expr_col_index(nr, names[1]);
        st = lk && rk ? pl_df_join(w[0], w[1], PL_JOIN_FULL, 1, &lk, &rk, NULL, &j, err) : NOMEM(err);
        pl_expr_release(lk);
        pl_expr_release(rk);
    }
    if (!st) {
        pl_sort_key key = {pl_expr_call2("coalesce", pl_expr_col_index(nl, names[0]),
                                         pl_expr_col_index(nl + 1 + nr, names[1])),
                           false, false};
        st = key.expr ? pl_df_sort(j, 1, &key, &srt, err) : NOMEM(err);
        pl_expr_release(key.expr);
    }
    if (!st) st = pl_df_drop(srt, 2, names, &fin, err);
    if (st) sq_at(err, st, pos);
    pl_df_release(w[0]);
    pl_df_release(w[1]);
    pl_df_release(j);
    pl_df_release(srt);
    if (!st) st = rel_combine(l, r, fin, out, err);
    else pl_df_release(fin);
    sq_rel_reset(l);
    sq_rel_reset(r);
    if (st) sq_rel_reset(out);
    return st;
}

static pl_status join_expr(sq_ctx *ctx, sq_scope *outer, const PgQuery__JoinExpr *je, sq_rel *out,
                           pl_error *err) {
    pl_join_type type;
    switch (je->jointype) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER: type = PL_JOIN_INNER; break;
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT: type = PL_JOIN_LEFT; break;
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT: type = PL_JOIN_RIGHT; break;
    case PG_QUERY__JOIN_TYPE__JOIN_FULL: type = PL_JOIN_FULL; break;
    default: return pl_error_set(err, PL_ERR_UNSUPPORTED, "unsupported join type");
    }
    int32_t pos = sq_node_pos(je->rarg);
    int32_t kw = -1;
    sq_join_mark mk = sq_join_marker(ctx->sql, min_location((const ProtobufCMessage *)je->rarg), &kw);
    if (mk != SQ_JOIN_PLAIN) {
        static const char *const words[] = {"", "ASOF", "SEMI", "ANTI", "POSITIONAL"};
        if (is_lateral(je->rarg))
            return sq_fail(err, PL_ERR_UNSUPPORTED, kw, "LATERAL is not supported in %s JOIN", words[mk]);
        if (je->is_natural)
            return sq_fail(err, PL_ERR_UNSUPPORTED, kw, "NATURAL %s JOIN is not supported", words[mk]);
        if (mk == SQ_JOIN_ASOF && (type == PL_JOIN_RIGHT || type == PL_JOIN_FULL))
            return sq_fail(err, PL_ERR_UNSUPPORTED, kw, "ASOF %s JOIN is not supported (ASOF JOIN and ASOF LEFT JOIN are)",
                           type == PL_JOIN_RIGHT ? "RIGHT" : "FULL");
        if (mk == SQ_JOIN_ASOF) type = type == PL_JOIN_LEFT ? PL_JOIN_ASOF_LEFT : PL_JOIN_ASOF;
        else if (mk == SQ_JOIN_SEMI) type = PL_JOIN_SEMI;
        else if (mk == SQ_JOIN_ANTI) type = PL_JOIN_ANTI;
        else if (je->quals || je->n_using_clause || type != PL_JOIN_INNER)
            return sq_fail(err, PL_ERR_SQL, kw, "POSITIONAL JOIN takes no join condition");
        if (pos < 0) pos = kw;
    }
    sq_rel l, r;
    int32_t n_fc0 = ctx->from_corr ? ctx->from_corr->n : 0;
    PL_TRY(sq_plan_from_item(ctx, outer, je->larg, NULL, &l, err));
    int32_t n_fc1 = ctx->from_corr ? ctx->from_corr->n : 0;
    pl_status st;
    if (is_lateral(je->rarg)) {
        if (je->quals) {
            /* only ON true is meaningful for a decorrelated LATERAL */
            const PgQuery__Node *q = je->quals;
            bool is_true = q->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                           q->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL && q->a_const->boolval->boolval;
            if (!is_true) {
                sq_rel_reset(&l);
                return sq_fail(err, PL_ERR_UNSUPPORTED, sq_node_pos(q), "LATERAL joins support only ON true");
            }
        }
        st = lateral_join(ctx, &l, je->rarg->range_subselect, type, out, err);
        sq_rel_reset(&l);
        if (st) return st;
    } else {
        st = sq_plan_from_item(ctx, outer, je->rarg, NULL, &r, err);
        int32_t n_fc2 = ctx->from_corr ? ctx->from_corr->n : 0;
        /* a derived table planned over the outer values (correlated_derived) on the side an
         * outer join fills with NULLs would lose its outer value there */
        bool nullable_corr = (n_fc2 > n_fc1 && (type == PL_JOIN_LEFT || type == PL_JOIN_FULL)) ||
                             (n_fc1 > n_fc0 && (type == PL_JOIN_RIGHT || type == PL_JOIN_FULL));
        if (!st && nullable_corr) {
            sq_rel_reset(&r);
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                         "a derived table that refers to the outer query is not supported on the NULL-filled "
                         "side of an outer join");
        }
        if (st) {
            sq_rel_reset(&l);
            return st;
        }
        if (mk == SQ_JOIN_POSITIONAL)
            PL_TRY(positional_join(&l, &r, pos, out, err));
        else
            PL_TRY(join_rels(ctx, &l, &r, type, je->quals, je->using_clause, je->n_using_clause,
                             je->is_natural, pos, out, err));
    }
    if (je->alias) {
        pl_df *df = pl_df_retain(out->df);
        st = apply_alias(&df, sq_nz(je->alias->aliasname), je->alias, pos, err);
        if (st) {
            pl_df_release(df);
            sq_rel_reset(out);
            return st;
        }
        pl_df_release(out->df);
        out->df = df;
    }
    return PL_OK;
}

/* A LATERAL subquery correlated with `left` by equalities: planned grouped by the correlation
 * keys and joined back. left is not consumed. */
static pl_status lateral_join(sq_ctx *ctx, sq_rel *left, const PgQuery__RangeSubselect *rs,
                              pl_join_type type, sq_rel *out, pl_error *err) {
    if (!rs->subquery || rs->subquery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return pl_error_set(err, PL_ERR_SQL, "bad LATERAL subquery");
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.rel = left;
    sq_corr corr;
    memset(&corr, 0, sizeof corr);
    corr.pos = -1;
    const PgQuery__SelectStmt *stmt = rs->subquery->select_stmt;
    sq_flat fo;
    PL_TRY(sq_flat_init(&fo, left->n_cols, err));
    sq_select_opts o = {&sc, &corr, false, false, false, false, false, 0, NULL};
    o.flat = &fo;
    pl_df *sub = NULL;
    pl_status st = sq_plan_query(ctx, stmt, &o, &sub, err);
    pl_expr *resid = NULL;
    int32_t n_from = 0;
    /* flattened (sq_flat): correlated by other conditions unless a query of plain rows, outer
     * columns used outside WHERE, or an aggregate without GROUP BY with HAVING (which decides
     * per outer row whether its row exists) */
    bool plain = stmt->op == PG_QUERY__SET_OPERATION__SETOP_NONE && o.rows_only;
    bool flat = st ? st != PL_ERR_NOMEM && sq_flat_any(&fo)
                   : (corr.n_resid > 0 && !plain) || (o.scalar_agg && corr.n_keys > 0 && stmt->having_clause);
    if (flat) {
        if (sub) pl_df_release(sub);
        sub = NULL;
        if (st && err) pl_error_init(err); /* the first plan's error, now retried */
        sq_corr_reset(&corr);
        fo.apply = true;
        fo.agg = st ? sq_select_scalar_agg(stmt) : o.scalar_agg;
        sq_select_opts o2 = {&sc, &corr, false, false, false, false, false, 0, NULL};
        o2.flat = &fo;
        st = sq_plan_flat(ctx, stmt, &o2, &sub, err);
        o = o2;
    }
    sq_flat_reset(&fo);
    if (!st && corr.n_resid > 0) {
        /* other correlated conditions: a query of plain FROM/WHERE rows is planned again with
         * its FROM columns kept, and the conditions join over them */
        pl_df_release(sub);
        sub = NULL;
        sq_corr_reset(&corr);
        sq_select_opts o2 = {&sc, &corr, false, false, false, true, false, 0, NULL};
        st = sq_plan_query(ctx, stmt, &o2, &sub, err);
        if (!st && (!o2.rows_only || corr.n_resid == 0))
            st = sq_fail(err, PL_ERR_INTERNAL, corr.pos, "LATERAL subquery planned differently");
        int32_t shift = left->n_cols + pl_df_schema(sub ? sub : left->df)->n_fields - o2.n_from_cols;
        for (int32_t i = 0; !st && i < corr.n_resid; i++) {
            pl_expr *c = sq_resid_for_join(corr.resid[i], shift);
            if (!c) {
                st = NOMEM(err);
                break;
            }
            resid = resid ? pl_expr_call2("and", resid, c) : c;
            if (!resid) st = NOMEM(err);
        }
        n_from = o2.n_from_cols;
    }
    /* an aggregate without GROUP BY: one row for every outer row, matched or not (a
     * flattened one has them already) */
    bool complete = !st && !flat && o.scalar_agg && corr.n_keys > 0;
    if (complete)
        st = sq_complete_scalar_agg(&sc, rs->subquery->select_stmt, &corr, left->df, &sub,
                                    sq_node_pos(rs->subquery), err);
    if (!st) st = apply_alias(&sub, rs->alias ? sq_nz(rs->alias->aliasname) : NULL, rs->alias, -1, err);
    if (st) {
        if (sub) pl_df_release(sub);
        sq_corr_reset(&corr);
        pl_expr_release(resid);
        return st;
    }
    sq_rel r;
    st = sq_rel_init(&r, sub, err);
    if (st) {
        sq_corr_reset(&corr);
        pl_expr_release(resid);
        return st;
    }
    for (int32_t i = 0; i < corr.n_keys && i < r.n_cols; i++) r.hidden[i] = true;
    for (int32_t i = r.n_cols - n_from; i < r.n_cols; i++) r.hidden[i] = true;
    keyset keys = {0};
    for (int32_t i = 0; !st && i < corr.n_keys; i++)
        st = ks_push(&keys, pl_expr_retain(corr.outer[i]), sq_colref(&r, i, corr.pos), err);
    if (!st && type == PL_JOIN_INNER && keys.n == 0 && !resid) type = PL_JOIN_CROSS;
    pl_df *joined = NULL;
    if (!st) {
        pl_expr **fl = pl_calloc((size_t)(keys.n + 1), sizeof *fl);
        pl_expr **fr = pl_calloc((size_t)(keys.n + 1), sizeof *fr);
        int32_t done = 0;
        if (!fl || !fr) st = NOMEM(err);
        for (; !st && done < keys.n; done++) {
            st = sq_finalize(keys.l[done], left->df, NULL, &fl[done], err);
            if (!st) st = sq_finalize(keys.r[done], r.df, NULL, &fr[done], err);
            if (st) {
                pl_expr_release(fl[done]);
                break;
            }
        }
        pl_expr *fres = NULL;
        if (!st && resid) st = sq_finalize(resid, left->df, r.df, &fres, err);
        /* NULL outer keys find their completed row, or their row of D when flattened */
        pl_join_opts jo = {complete || flat, fres, NULL, PL_ASOF_GE};
        if (!st) st = pl_df_join(left->df, r.df, type, keys.n, fl, fr, &jo, &joined, err);
        pl_expr_release(fres);
        for (int32_t i = 0; i < done; i++) {
            pl_expr_release(fl[i]);
            pl_expr_release(fr[i]);
        }
        pl_free(fl);
        pl_free(fr);
    }
    if (!st) st = rel_combine(left, &r, joined, out, err);
    ks_reset(&keys);
    sq_rel_reset(&r);
    sq_corr_reset(&corr);
    pl_expr_release(resid);
    return st;
}

/* The function call of a FROM item `name(...)` (a one-function RangeFunction) whose last name
 * part is name (case-insensitively), or NULL. */
static const PgQuery__FuncCall *range_call_named(const PgQuery__Node *n, const char *name) {
    if (!n || n->node_case != PG_QUERY__NODE__NODE_RANGE_FUNCTION) return NULL;
    const PgQuery__RangeFunction *rf = n->range_function;
    if (rf->n_functions != 1 || rf->functions[0]->node_case != PG_QUERY__NODE__NODE_LIST ||
        rf->functions[0]->list->n_items < 1 ||
        rf->functions[0]->list->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return NULL;
    const PgQuery__FuncCall *fc = rf->functions[0]->list->items[0]->func_call;
    const char *nm = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
    return nm && !strcasecmp(nm, name) ? fc : NULL;
}

/* Whether n is `unnest(...)` as a FROM item. */
static bool is_unnest_item(const PgQuery__Node *n) {
    const PgQuery__FuncCall *fc = range_call_named(n, "unnest");
    return fc && fc->n_funcname == 1;
}

/* `FROM t, unnest(t.l) [u[(x)]]` (DuckDB's implicit LATERAL): an UNNEST node over the relation
 * so far, its element column appended (named x, u or unnest; also u.x / unnest.unnest). The
 * argument may use the columns of the FROM items before it; a constant list gives the same
 * rows as a cross join. */
static pl_status lateral_unnest(sq_ctx *ctx, sq_rel *acc, const PgQuery__RangeFunction *rf, pl_error *err) {
    const PgQuery__FuncCall *fc = rf->functions[0]->list->items[0]->func_call;
    int32_t pos = fc->location;
    if (rf->ordinality) return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "WITH ORDINALITY is not supported");
    if (fc->n_args != 1 || fc->agg_star || fc->agg_distinct || fc->n_agg_order || fc->agg_filter || fc->over)
        return sq_fail(err, PL_ERR_SQL, pos, "unnest takes one list argument");
    const PgQuery__Alias *a = rf->alias;
    if (a && a->n_colnames > 1)
        return sq_fail(err, PL_ERR_SQL, pos, "unnest has 1 column but %d column names were given", (int)a->n_colnames);
    const char *qual = a && sq_nz(a->aliasname) ? a->aliasname : "unnest";
    const char *name = a && a->n_colnames == 1 && sq_str(a->colnames[0]) ? sq_str(a->colnames[0])
                       : a && sq_nz(a->aliasname)                         ? a->aliasname
                                                                          : "unnest";
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.rel = acc;
    sc.allow = SQ_ALLOW_SUBQUERY;
    sc.clause = "unnest";
    pl_expr *ex = NULL, *fin = NULL;
    pl_status st = sq_expr(&sc, fc->args[0], &ex, err);
    if (!st) st = sq_finalize(ex, acc->df, NULL, &fin, err);
    pl_df *u = NULL;
    if (!st) st = sq_at(err, pl_df_unnest(acc->df, 1, &fin, &name, &u, err), pos);
    pl_expr_release(ex);
    pl_expr_release(fin);
    int32_t col = acc->n_cols;
    if (!st) st = sq_rel_extend(acc, u, false, false, err);
    if (!st) st = sq_rel_add_alt(acc, qual, name, col, err);
    if (!st && strcasecmp(name, "unnest") != 0 && !(a && a->n_colnames == 1))
        st = sq_rel_add_alt(acc, qual, "unnest", col, err);
    return st;
}

/* ---------------------------------------------------------------- samples */

/* DuckDB's USING SAMPLE / TABLESAMPLE, rewritten before parsing (session_forms.c) into a FROM
 * item __sample(size, 'percent' | 'rows', 'bernoulli' | 'system' | 'reservoir' | '', seed | NULL)
 * after the items it samples. Percentages of bernoulli and system keep each row with that
 * probability (system too: polaroid has no blocks to sample); a number of rows, or reservoir
 * with a percentage (of the row count, rounded), takes that many rows uniformly at random. The
 * random key is random(), or with a seed __sample_rand(row number, seed): repeatable for the
 * same input order. */
typedef struct sample_spec {
    double size;
    bool percent, reservoir, has_seed;
    int64_t seed;
} sample_spec;

static bool is_sample_item(const PgQuery__Node *n) { return range_call_named(n, "__sample") != NULL; }

static pl_status sample_spec_of(const PgQuery__Node *n, sample_spec *s, int32_t *pos, pl_error *err) {
    const PgQuery__FuncCall *fc = n->range_function->functions[0]->list->items[0]->func_call;
    *pos = fc->location;
    memset(s, 0, sizeof *s);
    const PgQuery__Node *const *a = (const PgQuery__Node *const *)fc->args;
    const PgQuery__AConst *c = fc->n_args == 4 && a[0]->node_case == PG_QUERY__NODE__NODE_A_CONST
                                   ? a[0]->a_const : NULL;
    const char *unit = fc->n_args == 4 ? const_str(a[1]) : NULL;
    const char *method = fc->n_args == 4 ? const_str(a[2]) : NULL;
    if (!c || !unit || !method || c->isnull ||
        (c->val_case != PG_QUERY__A__CONST__VAL_IVAL && c->val_case != PG_QUERY__A__CONST__VAL_FVAL))
        return sq_fail(err, PL_ERR_SQL, *pos, "bad sample: expected a number of rows or a percentage");
    s->size = c->val_case == PG_QUERY__A__CONST__VAL_IVAL ? (double)c->ival->ival
                                                          : strtod(c->fval->fval, NULL);
    s->percent = !strcmp(unit, "percent");
    if (a[3]->node_case == PG_QUERY__NODE__NODE_A_CONST && !a[3]->a_const->isnull) {
        if (a[3]->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
            return sq_fail(err, PL_ERR_SQL, *pos, "the sample seed must be an integer");
        s->has_seed = true;
        s->seed = a[3]->a_const->ival->ival;
    }
    if (s->percent && !(s->size >= 0 && s->size <= 100))
        return sq_fail(err, PL_ERR_SQL, *pos, "sample percentage %g out of range: it must be between "
                       "0 and 100", s->size);
    if (!s->percent && !strcmp(method, "bernoulli"))
        return sq_fail(err, PL_ERR_SQL, *pos, "bernoulli sampling takes a percentage, not a number "
                       "of rows (use reservoir sampling for rows)");
    if (method[0] && strcmp(method, "bernoulli") && strcmp(method, "system") && strcmp(method, "reservoir"))
        return sq_fail(err, PL_ERR_SQL, *pos, "unknown sample method \"%s\" (bernoulli, system or "
                       "reservoir)", method);
    s->reservoir = !s->percent || !strcmp(method, "reservoir");
    return PL_OK;
}

/* acc sampled per s (acc's columns unchanged). */
static pl_status apply_sample(sq_rel *acc, const sample_spec *s, int32_t pos, pl_error *err) {
    static const char *const rn = "__pl_sample_rn", *const wn[2] = {"__pl_sample_n", "__pl_sample_k"};
    int32_t nc = pl_df_schema(acc->df)->n_fields;
    pl_df *w = NULL, *res = NULL, *tmp = NULL;
    pl_status st = PL_OK;
    pl_expr *key = NULL;
    if (s->has_seed) {
        pl_expr *e = pl_expr_window("row_number", 0, NULL, 0, NULL, 0, NULL, NULL);
        st = e ? pl_df_window(acc->df, 1, &e, &rn, &w, err) : NOMEM(err);
        pl_expr_release(e);
        key = pl_expr_call2("__sample_rand", pl_expr_col_index(nc, rn), pl_expr_lit_i64(s->seed));
    } else {
        w = pl_df_retain(acc->df);
        key = pl_expr_call("random", 0, NULL);
    }
    if (!st && !key) st = NOMEM(err);
    int32_t nw = nc + (s->has_seed ? 1 : 0); /* columns of w */
    if (!st && !s->reservoir) {
        pl_expr *pred = pl_expr_call2("lt", pl_expr_retain(key), pl_expr_lit_f64(s->size / 100));
        st = pred ? pl_df_filter(w, pred, &res, err) : NOMEM(err);
        pl_expr_release(pred);
    } else if (!st && !s->percent) {
        pl_sort_key k = {pl_expr_retain(key), false, false};
        st = pl_df_sort(w, 1, &k, &tmp, err);
        pl_expr_release(k.expr);
        if (!st) st = pl_df_limit(tmp, 0, (int64_t)floor(s->size + 0.5), &res, err);
    } else if (!st) {
        /* the first round(n * p / 100) rows in the key's order */
        pl_sort_key k = {pl_expr_retain(key), false, false};
        pl_expr *e[2] = {pl_expr_window("count_star", 0, NULL, 0, NULL, 0, NULL, NULL),
                         pl_expr_window("row_number", 0, NULL, 0, NULL, 1, &k, NULL)};
        st = e[0] && e[1] ? pl_df_window(w, 2, e, wn, &tmp, err) : NOMEM(err);
        pl_expr_release(e[0]);
        pl_expr_release(e[1]); /* it took k.expr */
        pl_expr *lim = pl_expr_call1(
            "floor", pl_expr_call2("add",
                                   pl_expr_call2("div", pl_expr_call2("mul", pl_expr_col_index(nw, wn[0]),
                                                                      pl_expr_lit_f64(s->size)),
                                                 pl_expr_lit_f64(100)),
                                   pl_expr_lit_f64(0.5)));
        pl_expr *pred = pl_expr_call2("le", pl_expr_col_index(nw + 1, wn[1]), lim);
        if (!st) st = pred ? pl_df_filter(tmp, pred, &res, err) : NOMEM(err);
        pl_expr_release(pred);
        if (!st) {
            pl_df_release(tmp);
            tmp = res;
            res = NULL;
            st = pl_df_drop(tmp, 2, wn, &res, err);
        }
    }
    pl_expr_release(key);
    if (!st && s->has_seed) {
        pl_df_release(tmp);
        tmp = res;
        res = NULL;
        st = pl_df_drop(tmp, 1, &rn, &res, err);
    }
    pl_df_release(w);
    pl_df_release(tmp);
    if (st) {
        pl_df_release(res);
        return sq_at(err, st, pos);
    }
    pl_df_release(acc->df);
    acc->df = res;
    return PL_OK;
}

pl_status sq_plan_from(sq_ctx *ctx, sq_scope *outer, PgQuery__Node **items, size_t n_items,
                       sq_rel *out, int32_t *n_item_cols, pl_error *err) {
    sq_rel acc;
    PL_TRY(sq_plan_from_item(ctx, outer, items[0], NULL, &acc, err));
    *n_item_cols = acc.n_cols;
    for (size_t i = 1; i < n_items; i++) {
        sq_rel next;
        pl_status st;
        if (is_sample_item(items[i])) { /* USING SAMPLE / TABLESAMPLE: of the items before */
            sample_spec sp;
            int32_t pos;
            st = sample_spec_of(items[i], &sp, &pos, err);
            if (!st) st = apply_sample(&acc, &sp, pos, err);
            if (st) {
                sq_rel_reset(&acc);
                return st;
            }
            continue;
        }
        if (is_unnest_item(items[i])) {
            st = lateral_unnest(ctx, &acc, items[i]->range_function, err);
            if (st) {
                sq_rel_reset(&acc);
                return st;
            }
            continue;
        }
        if (is_lateral(items[i])) {
            st = lateral_join(ctx, &acc, items[i]->range_subselect, PL_JOIN_INNER, &next, err);
            sq_rel_reset(&acc);
            if (st) return st;
            acc = next;
            continue;
        }
        sq_rel r;
        st = sq_plan_from_item(ctx, outer, items[i], NULL, &r, err);
        if (st) {
            sq_rel_reset(&acc);
            return st;
        }
        PL_TRY(join_rels(ctx, &acc, &r, PL_JOIN_CROSS, NULL, NULL, 0, false, sq_node_pos(items[i]),
                         &next, err));
        acc = next;
    }
    *out = acc;
    return PL_OK;
}

void sq_corr_reset(sq_corr *c) {
    for (int32_t i = 0; i < c->n_keys; i++) {
        pl_expr_release(c->inner[i]);
        pl_expr_release(c->outer[i]);
    }
    for (int32_t i = 0; i < c->n_resid; i++) pl_expr_release(c->resid[i]);
    pl_free(c->inner);
    pl_free(c->outer);
    pl_free(c->ne);
    pl_free(c->resid);
    memset(c, 0, sizeof *c);
    c->pos = -1;
}

pl_status sq_corr_refuse(const sq_corr *c, const char *what, const char *rewrite, pl_error *err) {
    int32_t pos = c->n_resid > 0 && c->resid[0]->sql_pos >= 0 ? c->resid[0]->sql_pos : c->pos;
    return sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                   "%s are supported only when correlated by equalities: this condition compares with the "
                   "outer query otherwise, and polaroid decorrelates only equalities (it never runs a "
                   "subquery once per row); %s",
                   what, rewrite);
}
