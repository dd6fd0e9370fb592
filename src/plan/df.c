/* df.c - the lazy DataFrame API: plan nodes, name resolution and output schemas. */
#include <stdio.h>
#include <strings.h>

#include "plan/plan.h"

/* ---------------------------------------------------------------- nodes */

pl_df *pl_plan_node_new(pl_plan_kind kind, int32_t n_inputs, pl_df *const *inputs) {
    pl_df *d = pl_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->kind = kind;
    d->refcount = 1;
    d->n_inputs = n_inputs;
    for (int32_t i = 0; i < n_inputs; i++) d->inputs[i] = pl_df_retain(inputs[i]);
    d->n_cols = -1;
    d->scan_limit = -1;
    d->est_rows = -1;
    d->limit = -1;
    return d;
}

pl_df *pl_df_retain(pl_df *df) {
    if (df) __atomic_add_fetch(&df->refcount, 1, __ATOMIC_RELAXED);
    return df;
}

static void free_exprs(int32_t n, pl_expr **e) {
    for (int32_t i = 0; i < n && e; i++) pl_expr_release(e[i]);
    pl_free(e);
}

/* Frees a read option's (name, type) vector (the names live in the node's strings). */
static void free_named_types(const char *const *names, pl_type *const *types, int32_t n) {
    for (int32_t i = 0; i < n; i++) pl_type_release(types[i]);
    pl_free((void *)types);
    pl_free((void *)names);
}

void pl_df_release(pl_df *d) {
    if (!d || __atomic_sub_fetch(&d->refcount, 1, __ATOMIC_ACQ_REL) > 0) return;
    for (int32_t i = 0; i < d->n_inputs; i++) pl_df_release(d->inputs[i]);
    if (d->qualifiers && d->schema)
        for (int32_t i = 0; i < d->schema->n_fields; i++) pl_free(d->qualifiers[i]);
    pl_free(d->qualifiers);
    pl_schema_release(d->schema);
    for (int32_t i = 0; i < d->n_paths; i++) pl_free(d->paths[i]);
    pl_free(d->paths);
    for (int32_t i = 0; i < d->n_scan_strs; i++) pl_free(d->scan_strs[i]);
    pl_free(d->scan_strs);
    pl_free((void *)d->read_opts.csv_null_values);
    free_named_types(d->read_opts.csv_type_names, d->read_opts.csv_types, d->read_opts.n_csv_types);
    free_named_types(d->read_opts.csv_column_names, d->read_opts.csv_column_types,
                     d->read_opts.n_csv_columns);
    free_named_types(d->read_opts.json_column_names, d->read_opts.json_column_types,
                     d->read_opts.n_json_columns);
    pl_free((void *)d->read_opts.row_groups);
    pl_schema_release(d->file_schema);
    pl_free(d->cols);
    pl_expr_release(d->scan_filter);
    pl_free(d->scan_fonly);
    pl_table_release(d->table);
    pl_free(d->table_note);
    if (d->is_range) pl_type_release(d->range.type);
    pl_expr_release(d->pred);
    free_exprs(d->n_exprs, d->exprs);
    if (d->kind == PL_PLAN_SORT) {
        for (int32_t i = 0; i < d->n_keys; i++) pl_expr_release(d->sort_keys[i].expr);
        pl_free(d->sort_keys);
    } else {
        free_exprs(d->n_keys, d->keys);
        free_exprs(d->kind == PL_PLAN_JOIN ? d->n_keys : 0, d->right_keys);
    }
    pl_expr_release(d->residual);
    pl_free(d->key_ne);
    pl_free(d);
}

pl_schema *pl_df_schema(const pl_df *df) { return df->schema; }

const char *pl_df_column_qualifier(const pl_df *df, int32_t i) {
    if (!df->qualifiers || i < 0 || i >= df->schema->n_fields) return NULL;
    return df->qualifiers[i];
}

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory building a plan"); }

/* Sets d->schema from parallel arrays (names copied, types retained) and qualifiers
 * (copied; NULL entries allowed; quals may be NULL). */
static pl_status set_schema(pl_df *d, int32_t n, const char *const *names, pl_type *const *types,
                            const bool *nullable, const char *const *quals, pl_error *err) {
    pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
    if (!f) return nomem(err);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++)
        st = pl_field_init(&f[i], names[i], types[i], nullable ? nullable[i] : true, err);
    if (!st) st = pl_schema_new(n, f, &d->schema, err);
    for (int32_t i = 0; i < n; i++) pl_field_reset(&f[i]);
    pl_free(f);
    if (st) return st;
    if (quals) {
        d->qualifiers = pl_calloc((size_t)PL_MAX(n, 1), sizeof(char *));
        if (!d->qualifiers) return nomem(err);
        for (int32_t i = 0; i < n; i++)
            if (quals[i] && !(d->qualifiers[i] = pl_strdup(quals[i]))) return nomem(err);
    }
    return PL_OK;
}

/* Copies an input's schema and qualifiers. */
static pl_status copy_schema(pl_df *d, const pl_df *in, pl_error *err) {
    d->schema = pl_schema_retain(in->schema);
    if (in->qualifiers) {
        int32_t n = in->schema->n_fields;
        d->qualifiers = pl_calloc((size_t)PL_MAX(n, 1), sizeof(char *));
        if (!d->qualifiers) return nomem(err);
        for (int32_t i = 0; i < n; i++)
            if (in->qualifiers[i] && !(d->qualifiers[i] = pl_strdup(in->qualifiers[i])))
                return nomem(err);
    }
    return PL_OK;
}

/* The schema binding sees: dictionary fields as their value types. New reference. */
pl_status pl_plan_logical_schema(const pl_schema *s, pl_schema **out, pl_error *err) {
    bool any = false;
    for (int32_t i = 0; i < s->n_fields; i++) any |= s->fields[i].type->id == PL_TYPE_DICTIONARY;
    if (!any) {
        *out = pl_schema_retain((pl_schema *)s);
        return PL_OK;
    }
    pl_field *f = pl_calloc((size_t)s->n_fields, sizeof *f);
    if (!f) return nomem(err);
    for (int32_t i = 0; i < s->n_fields; i++) {
        f[i] = s->fields[i];
        if (f[i].type->id == PL_TYPE_DICTIONARY) f[i].type = f[i].type->value_type;
    }
    pl_status st = pl_schema_new(s->n_fields, f, out, err);
    pl_free(f);
    return st;
}

/* ---------------------------------------------------------------- resolution */

typedef struct resolve_ctx {
    pl_df *a, *b;
    pl_error *err;
} resolve_ctx;

static bool qual_eq(const char *q, const char *col_q) {
    return col_q && strcasecmp(q, col_q) == 0;
}

/* Finds the column for a COLUMN node: returns its index in a ++ b or -1 (err set). */
static int32_t find_column(resolve_ctx *rc, const pl_expr *e) {
    pl_df *sides[2] = {rc->a, rc->b};
    int32_t found = -1, n_found = 0, base = 0;
    /* exact-case match first, then case-insensitive */
    for (int pass = 0; pass < 2 && n_found == 0; pass++) {
        base = 0;
        for (int s = 0; s < 2; s++) {
            pl_df *d = sides[s];
            if (!d) continue;
            for (int32_t i = 0; i < d->schema->n_fields; i++) {
                const char *name = d->schema->fields[i].name;
                bool name_ok = pass == 0 ? strcmp(name, e->name) == 0
                                         : strcasecmp(name, e->name) == 0;
                if (!name_ok) continue;
                if (e->qualifier && !qual_eq(e->qualifier, pl_df_column_qualifier(d, i)))
                    continue;
                if (n_found == 0) found = base + i;
                n_found++;
            }
            base += d->schema->n_fields;
        }
    }
    if (n_found == 1) return found;
    char full[300];
    if (e->qualifier) snprintf(full, sizeof full, "%s.%s", e->qualifier, e->name);
    else snprintf(full, sizeof full, "%s", e->name);
    if (n_found > 1) {
        pl_error_set(rc->err, PL_ERR_SQL, "column reference \"%s\" is ambiguous", full);
    } else {
        /* hint: the known columns (first few) */
        char hint[200];
        size_t w = 0;
        hint[0] = 0;
        for (int s = 0; s < 2; s++) {
            pl_df *d = sides[s];
            if (!d) continue;
            for (int32_t i = 0; i < d->schema->n_fields && w < sizeof hint - 40; i++) {
                const char *q = pl_df_column_qualifier(d, i);
                int k = snprintf(hint + w, sizeof hint - w, "%s%s%s%s", w ? ", " : "",
                                 q ? q : "", q ? "." : "", d->schema->fields[i].name);
                if (k > 0) w += (size_t)k;
            }
        }
        pl_error_set(rc->err, PL_ERR_NOT_FOUND, "column \"%s\" not found", full);
        if (rc->err && hint[0]) snprintf(rc->err->hint, sizeof rc->err->hint, "columns: %s", hint);
    }
    if (rc->err && rc->err->sql_pos < 0) rc->err->sql_pos = e->sql_pos;
    return -1;
}

static pl_status resolve_rec(resolve_ctx *rc, pl_expr *e) {
    if (!e) return PL_OK;
    if (e->kind == PL_EXPR_COLUMN && e->index < 0) {
        int32_t i = find_column(rc, e);
        if (i < 0) return rc->err ? rc->err->code : PL_ERR_NOT_FOUND;
        e->index = i;
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(resolve_rec(rc, e->args[i]));
    PL_TRY(resolve_rec(rc, e->filter));
    for (int32_t i = 0; i < e->n_order; i++) PL_TRY(resolve_rec(rc, e->order[i].expr));
    for (int32_t i = 0; i < e->n_partition; i++) PL_TRY(resolve_rec(rc, e->partition[i]));
    return PL_OK;
}

pl_status pl_plan_resolve(const pl_expr *e, pl_df *a, pl_df *b, pl_expr **out, pl_error *err) {
    if (!e) return nomem(err);
    pl_expr *c = pl_expr_clone(e);
    if (!c) return nomem(err);
    resolve_ctx rc = {a, b, err};
    pl_status st = resolve_rec(&rc, c);
    if (st) {
        pl_expr_release(c);
        return st;
    }
    *out = c;
    return PL_OK;
}

pl_status pl_plan_expr_type(const pl_expr *e, const pl_schema *in, pl_type **out, bool *nullable,
                            pl_error *err) {
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0 && e->index < in->n_fields) {
        /* plain references keep the input type (dictionaries stay dictionaries) */
        *out = pl_type_retain(in->fields[e->index].type);
        if (nullable) *nullable = in->fields[e->index].nullable;
        return PL_OK;
    }
    pl_schema *ls = NULL;
    PL_TRY(pl_plan_logical_schema(in, &ls, err));
    pl_bexpr *b = NULL;
    pl_status st = pl_expr_bind(e, ls, &b, err);
    pl_schema_release(ls);
    if (st) {
        if (err && err->sql_pos < 0) err->sql_pos = e->sql_pos;
        return st;
    }
    *out = pl_type_retain(b->type);
    if (nullable) *nullable = true;
    pl_bexpr_free(b);
    return PL_OK;
}

/* ---------------------------------------------------------------- expression utilities */

static void remap_rec(pl_expr *e, const int32_t *map) {
    if (!e) return;
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0) e->index = map[e->index];
    for (int32_t i = 0; i < e->n_args; i++) remap_rec(e->args[i], map);
    remap_rec(e->filter, map);
    for (int32_t i = 0; i < e->n_order; i++) remap_rec(e->order[i].expr, map);
    for (int32_t i = 0; i < e->n_partition; i++) remap_rec(e->partition[i], map);
}

pl_expr *pl_expr_remap(const pl_expr *e, const int32_t *map) {
    pl_expr *c = pl_expr_clone(e);
    if (c) remap_rec(c, map);
    return c;
}

/* Replaces, in place, each COLUMN node k < n with a clone of subst[k] where that is not NULL. */
static bool subst_rec(pl_expr **slot, pl_expr *const *subst, int32_t n) {
    pl_expr *e = *slot;
    if (!e) return true;
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0 && e->index < n && subst[e->index]) {
        pl_expr *c = pl_expr_clone(subst[e->index]);
        if (!c) return false;
        pl_expr_release(e);
        *slot = c;
        return true;
    }
    for (int32_t i = 0; i < e->n_args; i++)
        if (!subst_rec(&e->args[i], subst, n)) return false;
    if (!subst_rec(&e->filter, subst, n)) return false;
    for (int32_t i = 0; i < e->n_order; i++)
        if (!subst_rec(&e->order[i].expr, subst, n)) return false;
    for (int32_t i = 0; i < e->n_partition; i++)
        if (!subst_rec(&e->partition[i], subst, n)) return false;
    return true;
}

pl_expr *pl_expr_substitute(const pl_expr *e, pl_expr *const *subst, int32_t n) {
    pl_expr *c = pl_expr_clone(e);
    if (c && !subst_rec(&c, subst, n)) {
        pl_expr_release(c);
        return NULL;
    }
    return c;
}

void pl_expr_mark_columns(const pl_expr *e, bool *used, int32_t n_used) {
    if (!e) return;
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0 && e->index < n_used) used[e->index] = true;
    for (int32_t i = 0; i < e->n_args; i++) pl_expr_mark_columns(e->args[i], used, n_used);
    pl_expr_mark_columns(e->filter, used, n_used);
    for (int32_t i = 0; i < e->n_order; i++) pl_expr_mark_columns(e->order[i].expr, used, n_used);
    for (int32_t i = 0; i < e->n_partition; i++)
        pl_expr_mark_columns(e->partition[i], used, n_used);
}

bool pl_expr_is_deterministic(const pl_expr *e) {
    if (!e) return true;
    if (e->kind == PL_EXPR_AGG || e->kind == PL_EXPR_WINDOW) return false;
    if (e->kind == PL_EXPR_CALL) {
        const pl_func_def *f = pl_func_lookup(e->name);
        if (f && (f->flags & PL_FN_VOLATILE)) return false;
    }
    for (int32_t i = 0; i < e->n_args; i++)
        if (!pl_expr_is_deterministic(e->args[i])) return false;
    return true;
}

static bool contains_kind(const pl_expr *e, pl_expr_kind k) {
    if (!e) return false;
    if (e->kind == k) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (contains_kind(e->args[i], k)) return true;
    return false;
}

/* ---------------------------------------------------------------- sources */

pl_status pl_df_from_table(pl_table *t, pl_df **out, pl_error *err) {
    pl_df *d = pl_plan_node_new(PL_PLAN_TABLE, 0, NULL);
    if (!d) return nomem(err);
    d->table = pl_table_retain(t);
    d->schema = pl_schema_retain(t->schema);
    d->est_rows = t->n_rows;
    *out = d;
    return PL_OK;
}

static char *keep_str(pl_df *d, const char *s) {
    if (!s) return NULL;
    char **v = pl_realloc(d->scan_strs, sizeof *v * (size_t)(d->n_scan_strs + 1));
    if (!v) return NULL;
    d->scan_strs = v;
    char *c = pl_strdup(s);
    if (c) d->scan_strs[d->n_scan_strs++] = c;
    return c;
}

/* A read option's (name, type) vector copied into d: the names kept in d's strings, the types
 * retained; *n_out counts the entries copied so far (free_named_types undoes a partial copy). */
static pl_status copy_named_types(pl_df *d, const char *const *names, pl_type *const *types,
                                  int32_t n, const char *const **names_out,
                                  pl_type *const **types_out, int32_t *n_out, pl_error *err) {
    if (n <= 0) return PL_OK;
    const char **nv = pl_calloc((size_t)n, sizeof *nv);
    pl_type **tv = pl_calloc((size_t)n, sizeof *tv);
    *names_out = nv;
    *types_out = tv;
    if (!nv || !tv) return nomem(err);
    for (int32_t i = 0; i < n; i++) {
        if (!(nv[i] = keep_str(d, names[i]))) return nomem(err);
        tv[i] = pl_type_retain(types[i]);
        *n_out = i + 1;
    }
    return PL_OK;
}

pl_status pl_plan_copy_read_opts(pl_df *d, const pl_read_opts *o, pl_error *err) {
    pl_read_opts_init(&d->read_opts);
    if (!o) return PL_OK;
    pl_read_opts *r = &d->read_opts;
    *r = *o;
    r->columns = NULL;
    r->n_columns = 0;
    r->limit = -1;
    r->csv_null_values = NULL;
    r->csv_type_names = NULL;
    r->csv_types = NULL;
    r->n_csv_types = 0;
    r->csv_filename = NULL;
    r->csv_column_names = NULL;
    r->csv_column_types = NULL;
    r->n_csv_columns = 0;
    r->json_column_names = NULL;
    r->json_column_types = NULL;
    r->n_json_columns = 0;
    r->row_groups = NULL;
    if (o->n_csv_null_values > 0) {
        const char **v = pl_calloc((size_t)o->n_csv_null_values, sizeof *v);
        if (!v) return nomem(err);
        r->csv_null_values = v;
        for (int32_t i = 0; i < o->n_csv_null_values; i++)
            if (!(v[i] = keep_str(d, o->csv_null_values[i]))) return nomem(err);
    }
    r->csv_date_format = r->csv_timestamp_format = NULL;
    if (o->csv_filename && !(r->csv_filename = keep_str(d, o->csv_filename))) return nomem(err);
    if (o->csv_date_format && !(r->csv_date_format = keep_str(d, o->csv_date_format)))
        return nomem(err);
    if (o->csv_timestamp_format &&
        !(r->csv_timestamp_format = keep_str(d, o->csv_timestamp_format)))
        return nomem(err);
    PL_TRY(copy_named_types(d, o->csv_type_names, o->csv_types, o->n_csv_types, &r->csv_type_names,
                            &r->csv_types, &r->n_csv_types, err));
    PL_TRY(copy_named_types(d, o->csv_column_names, o->csv_column_types, o->n_csv_columns,
                            &r->csv_column_names, &r->csv_column_types, &r->n_csv_columns, err));
    PL_TRY(copy_named_types(d, o->json_column_names, o->json_column_types, o->n_json_columns,
                            &r->json_column_names, &r->json_column_types, &r->n_json_columns, err));
    if (o->n_row_groups > 0) {
        int32_t *rg = pl_malloc(sizeof *rg * (size_t)o->n_row_groups);
        if (!rg) return nomem(err);
        memcpy(rg, o->row_groups, sizeof *rg * (size_t)o->n_row_groups);
        r->row_groups = rg;
    }
    return PL_OK;
}

pl_status pl_df_scan(int32_t n_paths, const char *const *paths, pl_format format,
                     const pl_read_opts *opts, pl_df **out, pl_error *err) {
    if (n_paths <= 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "scan without paths");
    pl_df *d = pl_plan_node_new(PL_PLAN_SCAN, 0, NULL);
    if (!d) return nomem(err);
    pl_status st = PL_OK;
    char **exp = NULL;
    int32_t n_exp = 0;
    st = pl_glob_expand(n_paths, paths, &exp, &n_exp, err);
    if (!st) {
        d->paths = exp;
        d->n_paths = n_exp;
        if (format == PL_FORMAT_AUTO) format = pl_format_from_path(exp[0]);
        d->format = format;
        st = pl_plan_copy_read_opts(d, opts, err);
    }
    if (!st) {
        /* the schema, from the files' metadata (a CSV sniffs its first rows) */
        pl_read_opts ro = d->read_opts;
        ro.limit = 0;
        pl_stream *s = NULL;
        st = pl_scan_open(d->n_paths, (const char *const *)d->paths, d->format, &ro, &s, err);
        if (!st) {
            d->file_schema = pl_schema_retain(s->schema);
            d->schema = pl_schema_retain(s->schema);
            pl_stream_free(s);
        }
    }
    if (!st) {
        /* a rough row estimate for join build-side choice: file bytes */
        int64_t bytes = 0;
        for (int32_t i = 0; i < d->n_paths; i++) {
            FILE *f = fopen(d->paths[i], "rb");
            if (!f) continue;
            if (fseek(f, 0, SEEK_END) == 0) bytes += ftell(f);
            fclose(f);
        }
        d->est_rows = d->format == PL_FORMAT_PARQUET ? bytes / 4 : bytes / 40;
    }
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- filter */

pl_status pl_df_filter(pl_df *df, pl_expr *pred, pl_df **out, pl_error *err) {
    if (!pred) return nomem(err);
    if (contains_kind(pred, PL_EXPR_AGG) || contains_kind(pred, PL_EXPR_WINDOW)) {
        pl_error_set(err, PL_ERR_SQL, "aggregate or window functions are not allowed in a filter");
        if (err) err->sql_pos = pred->sql_pos;
        return PL_ERR_SQL;
    }
    pl_expr *r = NULL;
    PL_TRY(pl_plan_resolve(pred, df, NULL, &r, err));
    pl_type *t = NULL;
    pl_status st = pl_plan_expr_type(r, df->schema, &t, NULL, err);
    if (!st && t->id != PL_TYPE_BOOL && t->id != PL_TYPE_NA) {
        char tb[64];
        st = pl_error_set(err, PL_ERR_TYPE, "filter condition must be boolean, not %s",
                          pl_type_to_string(t, tb, sizeof tb));
        if (err && err->sql_pos < 0) err->sql_pos = pred->sql_pos;
    }
    pl_type_release(t);
    pl_df *d = st ? NULL : pl_plan_node_new(PL_PLAN_FILTER, 1, &df);
    if (!st && !d) st = nomem(err);
    if (!st) st = copy_schema(d, df, err);
    if (st) {
        pl_expr_release(r);
        pl_df_release(d);
        return st;
    }
    d->pred = r;
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- projection */

/* A PROJECT node over df computing exprs (already resolved; taken) named names. quals: per
 * output column qualifier or NULL (plain column references keep theirs). */
static pl_status make_project(pl_df *df, int32_t n, pl_expr **exprs, char **names,
                              const char *const *quals, pl_df **out, pl_error *err) {
    pl_type **types = pl_calloc((size_t)PL_MAX(n, 1), sizeof *types);
    bool *nullable = pl_calloc((size_t)PL_MAX(n, 1), sizeof *nullable);
    const char **q = pl_calloc((size_t)PL_MAX(n, 1), sizeof *q);
    pl_status st = (!types || !nullable || !q) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        if (contains_kind(exprs[i], PL_EXPR_AGG) || contains_kind(exprs[i], PL_EXPR_WINDOW)) {
            st = pl_error_set(err, PL_ERR_SQL,
                              "aggregate or window function outside an aggregation or window");
            if (err) err->sql_pos = exprs[i]->sql_pos;
            break;
        }
        st = pl_plan_expr_type(exprs[i], df->schema, &types[i], &nullable[i], err);
        q[i] = quals ? quals[i]
                     : (exprs[i]->kind == PL_EXPR_COLUMN ? pl_df_column_qualifier(df, exprs[i]->index)
                                                         : NULL);
    }
    pl_df *d = st ? NULL : pl_plan_node_new(PL_PLAN_PROJECT, 1, &df);
    if (!st && !d) st = nomem(err);
    if (!st) st = set_schema(d, n, (const char *const *)names, types, nullable, q, err);
    for (int32_t i = 0; i < n && types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(nullable);
    pl_free(q);
    if (st) {
        pl_df_release(d);
        free_exprs(n, exprs);
        return st;
    }
    d->n_exprs = n;
    d->exprs = exprs;
    *out = d;
    return PL_OK;
}

static void free_names(int32_t n, char **names) {
    for (int32_t i = 0; i < n && names; i++) pl_free(names[i]);
    pl_free(names);
}

static pl_status name_of(const pl_expr *e, const char *given, char **out, pl_error *err) {
    char buf[256];
    const char *n = given ? given : pl_expr_default_name(e, buf, sizeof buf);
    *out = pl_strdup(n ? n : "?");
    return *out ? PL_OK : nomem(err);
}

pl_status pl_df_select(pl_df *df, int32_t n, pl_expr *const *exprs, const char *const *names,
                       pl_df **out, pl_error *err) {
    pl_expr **r = pl_calloc((size_t)PL_MAX(n, 1), sizeof *r);
    char **nm = pl_calloc((size_t)PL_MAX(n, 1), sizeof *nm);
    pl_status st = (!r || !nm) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        st = pl_plan_resolve(exprs[i], df, NULL, &r[i], err);
        if (!st) st = name_of(exprs[i], names ? names[i] : NULL, &nm[i], err);
    }
    if (st) {
        free_exprs(n, r);
        free_names(n, nm);
        return st;
    }
    st = make_project(df, n, r, nm, NULL, out, err);
    free_names(n, nm);
    return st;
}

pl_status pl_df_with_columns(pl_df *df, int32_t n, pl_expr *const *exprs,
                             const char *const *names, pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields;
    int32_t cap = nin + n;
    pl_expr **r = pl_calloc((size_t)PL_MAX(cap, 1), sizeof *r);
    char **nm = pl_calloc((size_t)PL_MAX(cap, 1), sizeof *nm);
    pl_status st = (!r || !nm) ? nomem(err) : PL_OK;
    int32_t k = 0;
    for (int32_t i = 0; i < nin && !st; i++) {
        r[k] = pl_expr_col_index(i, df->schema->fields[i].name);
        nm[k] = pl_strdup(df->schema->fields[i].name);
        if (!r[k] || !nm[k]) st = nomem(err);
        k++;
    }
    for (int32_t j = 0; j < n && !st; j++) {
        pl_expr *e = NULL;
        char *name = NULL;
        st = pl_plan_resolve(exprs[j], df, NULL, &e, err);
        if (!st) st = name_of(exprs[j], names ? names[j] : NULL, &name, err);
        if (st) {
            pl_expr_release(e);
            break;
        }
        int32_t at = -1;
        for (int32_t i = 0; i < k; i++)
            if (strcmp(nm[i], name) == 0) at = i;
        if (at >= 0) {
            pl_expr_release(r[at]);
            pl_free(nm[at]);
            r[at] = e;
            nm[at] = name;
        } else {
            r[k] = e;
            nm[k] = name;
            k++;
        }
    }
    if (st) {
        free_exprs(cap, r);
        free_names(cap, nm);
        return st;
    }
    st = make_project(df, k, r, nm, NULL, out, err);
    free_names(cap, nm);
    return st;
}

/* A projection passing input columns through: column i is kept unless drop[i], named
 * names[i] (or its own name) with qualifier quals[i] (or its own when quals is NULL). drop,
 * names may be NULL. */
static pl_status passthrough(pl_df *df, const bool *drop, const char *const *names,
                             const char *const *quals, pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields;
    pl_expr **r = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *r);
    char **nm = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *nm);
    const char **q = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *q);
    pl_status st = (!r || !nm || !q) ? nomem(err) : PL_OK;
    int32_t k = 0;
    for (int32_t i = 0; i < nin && !st; i++) {
        if (drop && drop[i]) continue;
        const char *own = df->schema->fields[i].name;
        r[k] = pl_expr_col_index(i, own);
        nm[k] = pl_strdup(names && names[i] ? names[i] : own);
        q[k] = quals ? quals[i] : pl_df_column_qualifier(df, i);
        if (!r[k] || !nm[k]) st = nomem(err);
        k++;
    }
    if (st) {
        free_exprs(nin, r);
        free_names(nin, nm);
        pl_free(q);
        return st;
    }
    st = make_project(df, k, r, nm, q, out, err);
    free_names(nin, nm);
    pl_free(q);
    return st;
}

pl_status pl_df_rename(pl_df *df, int32_t n, const char *const *old_names,
                       const char *const *new_names, pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields;
    for (int32_t j = 0; j < n; j++)
        if (pl_schema_find(df->schema, old_names[j]) < 0)
            PL_FAIL(err, PL_ERR_NOT_FOUND, "column \"%s\" not found", old_names[j]);
    const char **names = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *names);
    if (!names) return nomem(err);
    for (int32_t i = 0; i < nin; i++)
        for (int32_t j = 0; j < n; j++)
            if (strcmp(old_names[j], df->schema->fields[i].name) == 0) names[i] = new_names[j];
    pl_status st = passthrough(df, NULL, names, NULL, out, err);
    pl_free(names);
    return st;
}

pl_status pl_df_drop(pl_df *df, int32_t n, const char *const *names, pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields;
    for (int32_t j = 0; j < n; j++)
        if (pl_schema_find(df->schema, names[j]) < 0)
            PL_FAIL(err, PL_ERR_NOT_FOUND, "column \"%s\" not found", names[j]);
    bool *drop = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *drop);
    if (!drop) return nomem(err);
    for (int32_t i = 0; i < nin; i++)
        for (int32_t j = 0; j < n; j++) drop[i] |= strcmp(names[j], df->schema->fields[i].name) == 0;
    pl_status st = passthrough(df, drop, NULL, NULL, out, err);
    pl_free(drop);
    return st;
}

pl_status pl_df_alias(pl_df *df, const char *name, pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields;
    const char **quals = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *quals);
    if (!quals) return nomem(err);
    for (int32_t i = 0; i < nin; i++) quals[i] = name;
    pl_status st = passthrough(df, NULL, NULL, quals, out, err);
    pl_free(quals);
    return st;
}

/* ---------------------------------------------------------------- aggregation */

typedef struct agg_collect {
    pl_expr **aggs; /* distinct aggregate calls found */
    int32_t n, cap;
} agg_collect;

static pl_status collect_aggs(pl_expr *e, agg_collect *ac, pl_error *err) {
    if (!e) return PL_OK;
    if (e->kind == PL_EXPR_AGG) {
        for (int32_t i = 0; i < ac->n; i++)
            if (pl_expr_equals(ac->aggs[i], e)) return PL_OK;
        if (ac->n == ac->cap) {
            int32_t cap = ac->cap ? ac->cap * 2 : 8;
            pl_expr **v = pl_realloc(ac->aggs, sizeof *v * (size_t)cap);
            if (!v) return nomem(err);
            ac->aggs = v;
            ac->cap = cap;
        }
        ac->aggs[ac->n++] = pl_expr_retain(e);
        return PL_OK;
    }
    if (e->kind == PL_EXPR_WINDOW) {
        pl_error_set(err, PL_ERR_SQL, "window functions are not allowed in an aggregation");
        if (err) err->sql_pos = e->sql_pos;
        return PL_ERR_SQL;
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(collect_aggs(e->args[i], ac, err));
    return PL_OK;
}

/* Rewrites an outer aggregate expression over the aggregate node's output: aggregate calls
 * become references to their output column; column references must be group keys. */
static pl_expr *rewrite_outer(const pl_expr *e, agg_collect *ac, int32_t n_keys,
                              pl_expr *const *keys, pl_error *err, pl_status *st) {
    if (e->kind == PL_EXPR_AGG) {
        for (int32_t i = 0; i < ac->n; i++)
            if (pl_expr_equals(ac->aggs[i], e)) return pl_expr_col_index(n_keys + i, e->name);
    }
    for (int32_t k = 0; k < n_keys; k++)
        if (pl_expr_equals(keys[k], e)) {
            char buf[128];
            return pl_expr_col_index(k, pl_expr_default_name(e, buf, sizeof buf));
        }
    if (e->kind == PL_EXPR_COLUMN) {
        *st = pl_error_set(err, PL_ERR_SQL,
                           "column \"%s\" must appear in the GROUP BY clause or be used in an "
                           "aggregate function",
                           e->name);
        if (err) err->sql_pos = e->sql_pos;
        return NULL;
    }
    pl_expr *c = pl_expr_clone(e);
    if (!c) {
        *st = nomem(err);
        return NULL;
    }
    for (int32_t i = 0; i < c->n_args; i++) {
        pl_expr *a = rewrite_outer(e->args[i], ac, n_keys, keys, err, st);
        if (!a) {
            pl_expr_release(c);
            return NULL;
        }
        pl_expr_release(c->args[i]);
        c->args[i] = a;
    }
    return c;
}

pl_status pl_plan_agg_type(const pl_expr *a, const pl_schema *in, pl_type **out, pl_error *err) {
    pl_type *types[8] = {0};
    const pl_value *consts[8] = {0};
    int32_t n = PL_MIN(a->n_args, 8);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        st = pl_plan_expr_type(a->args[i], in, &types[i], NULL, err);
        if (!st && types[i]->id == PL_TYPE_DICTIONARY) {
            pl_type *v = pl_type_retain(types[i]->value_type);
            pl_type_release(types[i]);
            types[i] = v;
        }
        if (a->args[i]->kind == PL_EXPR_LITERAL) consts[i] = &a->args[i]->value;
    }
    if (!st) st = pl_agg_bind(a->name, n, types, consts, a->distinct, out, err);
    if (st && err && err->sql_pos < 0) err->sql_pos = a->sql_pos;
    for (int32_t i = 0; i < n; i++) pl_type_release(types[i]);
    return st;
}

pl_status pl_df_aggregate(pl_df *df, int32_t n_keys, pl_expr *const *keys,
                          const char *const *key_names, int32_t n_aggs, pl_expr *const *aggs,
                          const char *const *agg_names, pl_df **out, pl_error *err) {
    pl_status st = PL_OK;
    pl_expr **rk = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof *rk);
    pl_expr **ra = pl_calloc((size_t)PL_MAX(n_aggs, 1), sizeof *ra);
    agg_collect ac = {0};
    pl_df *d = NULL;
    if (!rk || !ra) st = nomem(err);
    for (int32_t i = 0; i < n_keys && !st; i++) {
        st = pl_plan_resolve(keys[i], df, NULL, &rk[i], err);
        if (!st && (contains_kind(rk[i], PL_EXPR_AGG) || contains_kind(rk[i], PL_EXPR_WINDOW))) {
            st = pl_error_set(err, PL_ERR_SQL, "aggregate functions are not allowed in GROUP BY");
            if (err) err->sql_pos = keys[i]->sql_pos;
        }
    }
    for (int32_t i = 0; i < n_aggs && !st; i++) {
        st = pl_plan_resolve(aggs[i], df, NULL, &ra[i], err);
        if (!st) st = collect_aggs(ra[i], &ac, err);
    }
    /* the aggregate node: keys then the distinct aggregate calls */
    int32_t nout = n_keys + ac.n;
    char **names = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *names);
    pl_type **types = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *types);
    bool *nullable = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *nullable);
    const char **quals = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *quals);
    if (!st && (!names || !types || !nullable || !quals)) st = nomem(err);
    /* are the outputs exactly the aggregate calls, in order? then no projection on top */
    bool plain = !st && ac.n == n_aggs;
    for (int32_t i = 0; i < n_aggs && plain; i++) plain = ra[i]->kind == PL_EXPR_AGG && pl_expr_equals(ra[i], ac.aggs[i]);
    for (int32_t i = 0; i < n_keys && !st; i++) {
        st = pl_plan_expr_type(rk[i], df->schema, &types[i], &nullable[i], err);
        if (!st && types[i]->id == PL_TYPE_DICTIONARY) { /* keys come out decoded */
            pl_type *v = pl_type_retain(types[i]->value_type);
            pl_type_release(types[i]);
            types[i] = v;
        }
        if (!st) st = name_of(keys[i], key_names ? key_names[i] : NULL, &names[i], err);
        if (!st && rk[i]->kind == PL_EXPR_COLUMN) quals[i] = pl_df_column_qualifier(df, rk[i]->index);
    }
    for (int32_t i = 0; i < ac.n && !st; i++) {
        st = pl_plan_agg_type(ac.aggs[i], df->schema, &types[n_keys + i], err);
        nullable[n_keys + i] = true;
        const char *given = plain && agg_names ? agg_names[i] : NULL;
        if (!st) st = name_of(ac.aggs[i], given, &names[n_keys + i], err);
    }
    if (!st && !(d = pl_plan_node_new(PL_PLAN_AGGREGATE, 1, &df))) st = nomem(err);
    if (!st) st = set_schema(d, nout, (const char *const *)names, types, nullable, quals, err);
    for (int32_t i = 0; i < nout && types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(nullable);
    pl_free(quals);
    free_names(nout, names);
    if (!st) {
        d->n_keys = n_keys;
        d->keys = rk;
        rk = NULL;
        d->n_exprs = ac.n;
        d->exprs = ac.aggs;
        ac.aggs = NULL;
    }
    if (!st && !plain) {
        /* a projection computing the requested outputs over the aggregate node */
        int32_t np = n_keys + n_aggs;
        pl_expr **pe = pl_calloc((size_t)PL_MAX(np, 1), sizeof *pe);
        char **pn = pl_calloc((size_t)PL_MAX(np, 1), sizeof *pn);
        if (!pe || !pn) st = nomem(err);
        for (int32_t i = 0; i < n_keys && !st; i++) {
            pe[i] = pl_expr_col_index(i, d->schema->fields[i].name);
            pn[i] = pl_strdup(d->schema->fields[i].name);
            if (!pe[i] || !pn[i]) st = nomem(err);
        }
        agg_collect ac2 = {d->exprs, d->n_exprs, d->n_exprs};
        for (int32_t i = 0; i < n_aggs && !st; i++) {
            pe[n_keys + i] = rewrite_outer(ra[i], &ac2, n_keys, d->keys, err, &st);
            if (!st) st = name_of(aggs[i], agg_names ? agg_names[i] : NULL, &pn[n_keys + i], err);
        }
        pl_df *p = NULL;
        if (!st) {
            st = make_project(d, np, pe, pn, NULL, &p, err);
            pe = NULL;
        }
        free_exprs(pe ? np : 0, pe);
        free_names(np, pn);
        pl_df_release(d);
        d = st ? NULL : p;
    }
    free_exprs(rk ? n_keys : 0, rk);
    free_exprs(n_aggs, ra);
    free_exprs(ac.aggs ? ac.n : 0, ac.aggs);
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

pl_status pl_df_distinct(pl_df *df, pl_df **out, pl_error *err) {
    pl_df *d = pl_plan_node_new(PL_PLAN_DISTINCT, 1, &df);
    if (!d) return nomem(err);
    pl_status st = copy_schema(d, df, err);
    if (!st && df->schema->n_fields > 0) {
        /* dictionary columns come out decoded */
        bool any = false;
        for (int32_t i = 0; i < df->schema->n_fields; i++)
            any |= df->schema->fields[i].type->id == PL_TYPE_DICTIONARY;
        if (any) {
            pl_schema *ls = NULL;
            st = pl_plan_logical_schema(df->schema, &ls, err);
            if (!st) {
                pl_schema_release(d->schema);
                d->schema = ls;
            }
        }
    }
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- joins */

pl_status pl_df_join(pl_df *left, pl_df *right, pl_join_type type, int32_t n_keys,
                     pl_expr *const *left_keys, pl_expr *const *right_keys,
                     const pl_join_opts *opts, pl_df **out, pl_error *err) {
    pl_status st = PL_OK;
    pl_df *in[2] = {left, right};
    pl_df *d = pl_plan_node_new(PL_PLAN_JOIN, 2, in);
    if (!d) return nomem(err);
    d->join_type = type;
    d->n_keys = n_keys;
    d->null_equal = opts && opts->null_equal;
    bool asof = type == PL_JOIN_ASOF || type == PL_JOIN_ASOF_LEFT;
    if (asof) {
        d->asof_cmp = opts ? opts->asof_cmp : PL_ASOF_GE;
        if (n_keys < 1 || (opts && (opts->residual || opts->null_equal)) ||
            d->asof_cmp < PL_ASOF_GE || d->asof_cmp > PL_ASOF_LT) {
            pl_df_release(d);
            return pl_error_set(err, PL_ERR_INVALID_ARG,
                                "an as-of join takes equality keys and one inequality key pair, "
                                "no residual condition");
        }
        for (int32_t i = 0; opts && opts->key_null_equal && i < n_keys; i++)
            if (opts->key_null_equal[i]) {
                pl_df_release(d);
                return pl_error_set(err, PL_ERR_INVALID_ARG,
                                    "as-of join keys cannot match NULL with NULL");
            }
    }
    d->keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(pl_expr *));
    d->right_keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(pl_expr *));
    d->key_ne = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof *d->key_ne);
    if (!d->keys || !d->right_keys || !d->key_ne) st = nomem(err);
    for (int32_t i = 0; i < n_keys && !st; i++)
        d->key_ne[i] = opts && opts->key_null_equal ? opts->key_null_equal[i] : d->null_equal;
    for (int32_t i = 0; i < n_keys && !st; i++) {
        st = pl_plan_resolve(left_keys[i], left, NULL, &d->keys[i], err);
        if (!st) st = pl_plan_resolve(right_keys[i], right, NULL, &d->right_keys[i], err);
        pl_type *lt = NULL, *rt = NULL;
        if (!st) st = pl_plan_expr_type(d->keys[i], left->schema, &lt, NULL, err);
        if (!st) st = pl_plan_expr_type(d->right_keys[i], right->schema, &rt, NULL, err);
        if (!st) {
            pl_type *l = lt->id == PL_TYPE_DICTIONARY ? lt->value_type : lt;
            pl_type *r = rt->id == PL_TYPE_DICTIONARY ? rt->value_type : rt;
            pl_type *sup = pl_type_common_super(l, r);
            if (!sup) {
                char a[64], b[64];
                st = pl_error_set(err, PL_ERR_TYPE, "cannot join %s with %s",
                                  pl_type_to_string(l, a, sizeof a), pl_type_to_string(r, b, sizeof b));
                if (err && err->sql_pos < 0) err->sql_pos = left_keys[i]->sql_pos;
            }
            pl_type_release(sup);
        }
        pl_type_release(lt);
        pl_type_release(rt);
    }
    if (!st && opts && opts->residual) {
        st = pl_plan_resolve(opts->residual, left, right, &d->residual, err);
        if (!st) {
            /* type check over the combined columns */
            int32_t nl = left->schema->n_fields, nr = right->schema->n_fields;
            pl_field *f = pl_calloc((size_t)PL_MAX(nl + nr, 1), sizeof *f);
            pl_schema *cs = NULL;
            if (!f) st = nomem(err);
            for (int32_t i = 0; i < nl && !st; i++) f[i] = left->schema->fields[i];
            for (int32_t i = 0; i < nr && !st; i++) f[nl + i] = right->schema->fields[i];
            if (!st) st = pl_schema_new(nl + nr, f, &cs, err);
            pl_free(f);
            pl_type *t = NULL;
            if (!st) st = pl_plan_expr_type(d->residual, cs, &t, NULL, err);
            if (!st && t->id != PL_TYPE_BOOL && t->id != PL_TYPE_NA)
                st = pl_error_set(err, PL_ERR_TYPE, "join condition must be boolean");
            pl_type_release(t);
            pl_schema_release(cs);
        }
    }
    if (!st) {
        bool semi = type == PL_JOIN_SEMI || type == PL_JOIN_ANTI;
        int32_t nl = left->schema->n_fields, nr = semi ? 0 : right->schema->n_fields;
        int32_t n = nl + nr;
        const char **names = pl_calloc((size_t)PL_MAX(n, 1), sizeof *names);
        pl_type **types = pl_calloc((size_t)PL_MAX(n, 1), sizeof *types);
        bool *nullable = pl_calloc((size_t)PL_MAX(n, 1), sizeof *nullable);
        const char **quals = pl_calloc((size_t)PL_MAX(n, 1), sizeof *quals);
        if (!names || !types || !nullable || !quals) st = nomem(err);
        bool lnull = type == PL_JOIN_RIGHT || type == PL_JOIN_FULL;
        bool rnull = type == PL_JOIN_LEFT || type == PL_JOIN_FULL || type == PL_JOIN_ASOF_LEFT;
        for (int32_t i = 0; i < nl && !st; i++) {
            names[i] = left->schema->fields[i].name;
            types[i] = left->schema->fields[i].type;
            nullable[i] = left->schema->fields[i].nullable || lnull;
            quals[i] = pl_df_column_qualifier(left, i);
        }
        for (int32_t i = 0; i < nr && !st; i++) {
            names[nl + i] = right->schema->fields[i].name;
            types[nl + i] = right->schema->fields[i].type;
            nullable[nl + i] = right->schema->fields[i].nullable || rnull;
            quals[nl + i] = pl_df_column_qualifier(right, i);
        }
        if (!st) st = set_schema(d, n, names, types, nullable, quals, err);
        pl_free(names);
        pl_free(types);
        pl_free(nullable);
        pl_free(quals);
    }
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- sort / limit */

pl_status pl_df_sort(pl_df *df, int32_t n_keys, const pl_sort_key *keys, pl_df **out,
                     pl_error *err) {
    pl_df *d = pl_plan_node_new(PL_PLAN_SORT, 1, &df);
    if (!d) return nomem(err);
    pl_status st = copy_schema(d, df, err);
    d->sort_keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof *d->sort_keys);
    if (!st && !d->sort_keys) st = nomem(err);
    for (int32_t i = 0; i < n_keys && !st; i++) {
        d->sort_keys[i] = keys[i];
        d->sort_keys[i].expr = NULL;
        d->n_keys = i + 1;
        st = pl_plan_resolve(keys[i].expr, df, NULL, &d->sort_keys[i].expr, err);
        pl_type *t = NULL;
        if (!st) st = pl_plan_expr_type(d->sort_keys[i].expr, df->schema, &t, NULL, err);
        pl_type_release(t);
    }
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

pl_status pl_df_limit(pl_df *df, int64_t offset, int64_t limit, pl_df **out, pl_error *err) {
    if (offset < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "OFFSET must not be negative");
    pl_df *d = pl_plan_node_new(PL_PLAN_LIMIT, 1, &df);
    if (!d) return nomem(err);
    d->offset = offset;
    d->limit = limit < 0 ? -1 : limit;
    pl_status st = copy_schema(d, df, err);
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- set operations */

pl_status pl_df_union(pl_df *a, pl_df *b, bool all, pl_df **out, pl_error *err) {
    int32_t n = a->schema->n_fields;
    if (b->schema->n_fields != n)
        PL_FAIL(err, PL_ERR_SQL, "set operation inputs have %d and %d columns", n,
                b->schema->n_fields);
    pl_df *in[2] = {a, b};
    pl_df *d = pl_plan_node_new(PL_PLAN_UNION, 2, in);
    if (!d) return nomem(err);
    d->all = true;
    const char **names = pl_calloc((size_t)PL_MAX(n, 1), sizeof *names);
    pl_type **types = pl_calloc((size_t)PL_MAX(n, 1), sizeof *types);
    bool *nullable = pl_calloc((size_t)PL_MAX(n, 1), sizeof *nullable);
    pl_status st = (!names || !types || !nullable) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        pl_type *ta = a->schema->fields[i].type, *tb = b->schema->fields[i].type;
        if (pl_type_equals(ta, tb)) {
            types[i] = pl_type_retain(ta);
        } else {
            if (ta->id == PL_TYPE_DICTIONARY) ta = ta->value_type;
            if (tb->id == PL_TYPE_DICTIONARY) tb = tb->value_type;
            types[i] = pl_type_common_super(ta, tb);
            if (!types[i]) {
                char x[64], y[64];
                st = pl_error_set(err, PL_ERR_TYPE,
                                  "set operation column %d has types %s and %s", i + 1,
                                  pl_type_to_string(ta, x, sizeof x), pl_type_to_string(tb, y, sizeof y));
            }
        }
        names[i] = a->schema->fields[i].name;
        nullable[i] = a->schema->fields[i].nullable || b->schema->fields[i].nullable;
    }
    if (!st) st = set_schema(d, n, names, types, nullable, NULL, err);
    for (int32_t i = 0; i < n && types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(names);
    pl_free(nullable);
    if (st) {
        pl_df_release(d);
        return st;
    }
    if (!all) {
        pl_df *dd = NULL;
        st = pl_df_distinct(d, &dd, err);
        pl_df_release(d);
        if (st) return st;
        d = dd;
    }
    *out = d;
    return PL_OK;
}

/* Casts df's columns to the types of `like` (a projection; df retained when equal). */
static pl_status conform(pl_df *df, const pl_schema *like, pl_df **out, pl_error *err) {
    int32_t n = df->schema->n_fields;
    bool same = true;
    for (int32_t i = 0; i < n; i++) same &= pl_type_equals(df->schema->fields[i].type, like->fields[i].type);
    if (same) {
        *out = pl_df_retain(df);
        return PL_OK;
    }
    pl_expr **e = pl_calloc((size_t)PL_MAX(n, 1), sizeof *e);
    char **nm = pl_calloc((size_t)PL_MAX(n, 1), sizeof *nm);
    pl_status st = (!e || !nm) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        const char *name = df->schema->fields[i].name;
        e[i] = pl_expr_col_index(i, name);
        if (!pl_type_equals(df->schema->fields[i].type, like->fields[i].type))
            e[i] = pl_expr_cast(e[i], pl_type_retain(like->fields[i].type), false);
        nm[i] = pl_strdup(like->fields[i].name);
        if (!e[i] || !nm[i]) st = nomem(err);
    }
    if (st) {
        free_exprs(n, e);
        free_names(n, nm);
        return st;
    }
    st = make_project(df, n, e, nm, NULL, out, err);
    free_names(n, nm);
    return st;
}

/* Appends a row_number() OVER (PARTITION BY every column) column named __pl_rn. */
static pl_status number_duplicates(pl_df *df, pl_df **out, pl_error *err) {
    int32_t n = df->schema->n_fields;
    pl_expr **part = pl_calloc((size_t)PL_MAX(n, 1), sizeof *part);
    if (!part) return nomem(err);
    for (int32_t i = 0; i < n; i++) part[i] = pl_expr_col_index(i, df->schema->fields[i].name);
    pl_expr *w = pl_expr_window("row_number", 0, NULL, n, part, 0, NULL, NULL);
    pl_free(part);
    if (!w) return nomem(err);
    const char *nm = "__pl_rn";
    pl_status st = pl_df_window(df, 1, &w, &nm, out, err);
    pl_expr_release(w);
    return st;
}

pl_status pl_df_setop(pl_df *a, pl_df *b, pl_setop op, bool all, pl_df **out, pl_error *err) {
    /* Built from primitives: INTERSECT = semi join on all columns (NULLs equal), EXCEPT = anti
     * join; the ALL forms number duplicate rows on each side first so that row k of a value
     * matches row k of the other side (min / difference of multiplicities). */
    pl_df *u = NULL; /* for the common types */
    PL_TRY(pl_df_union(a, b, true, &u, err));
    pl_df *ca = NULL, *cb = NULL, *la = NULL, *lb = NULL, *j = NULL, *res = NULL;
    pl_status st = conform(a, u->schema, &ca, err);
    if (!st) st = conform(b, u->schema, &cb, err);
    pl_df_release(u);
    if (!st && all) {
        st = number_duplicates(ca, &la, err);
        if (!st) st = number_duplicates(cb, &lb, err);
    } else if (!st) {
        la = pl_df_retain(ca);
        lb = pl_df_retain(cb);
    }
    int32_t n = la ? la->schema->n_fields : 0;
    pl_expr **lk = pl_calloc((size_t)PL_MAX(n, 1), sizeof *lk);
    pl_expr **rk = pl_calloc((size_t)PL_MAX(n, 1), sizeof *rk);
    if (!st && (!lk || !rk)) st = nomem(err);
    for (int32_t i = 0; i < n && !st; i++) {
        lk[i] = pl_expr_col_index(i, la->schema->fields[i].name);
        rk[i] = pl_expr_col_index(i, lb->schema->fields[i].name);
        if (!lk[i] || !rk[i]) st = nomem(err);
    }
    pl_join_opts jo = {.null_equal = true};
    if (!st)
        st = pl_df_join(la, lb, op == PL_SETOP_INTERSECT ? PL_JOIN_SEMI : PL_JOIN_ANTI, n, lk, rk,
                        &jo, &j, err);
    free_exprs(n, lk);
    free_exprs(n, rk);
    if (!st && all) {
        const char *drop = "__pl_rn";
        st = pl_df_drop(j, 1, &drop, &res, err);
    } else if (!st) {
        st = pl_df_distinct(j, &res, err);
    }
    pl_df_release(ca);
    pl_df_release(cb);
    pl_df_release(la);
    pl_df_release(lb);
    pl_df_release(j);
    if (st) return st;
    *out = res;
    return PL_OK;
}

/* ---------------------------------------------------------------- windows */

pl_status pl_plan_window_type(const pl_expr *w, const pl_schema *in, pl_type **out,
                              pl_error *err) {
    if (pl_window_exists(w->name)) {
        pl_type *types[4] = {0};
        int32_t n = PL_MIN(w->n_args, 4);
        pl_status st = PL_OK;
        for (int32_t i = 0; i < n && !st; i++) {
            st = pl_plan_expr_type(w->args[i], in, &types[i], NULL, err);
            if (!st && types[i]->id == PL_TYPE_DICTIONARY) {
                pl_type *v = pl_type_retain(types[i]->value_type);
                pl_type_release(types[i]);
                types[i] = v;
            }
        }
        if (!st) st = pl_window_bind(w->name, n, types, out, err);
        for (int32_t i = 0; i < n; i++) pl_type_release(types[i]);
        if (st && err && err->sql_pos < 0) err->sql_pos = w->sql_pos;
        return st;
    }
    return pl_plan_agg_type(w, in, out, err);
}

pl_status pl_df_window(pl_df *df, int32_t n, pl_expr *const *exprs, const char *const *names,
                       pl_df **out, pl_error *err) {
    int32_t nin = df->schema->n_fields, nout = nin + n;
    pl_df *d = pl_plan_node_new(PL_PLAN_WINDOW, 1, &df);
    if (!d) return nomem(err);
    d->exprs = pl_calloc((size_t)PL_MAX(n, 1), sizeof(pl_expr *));
    const char **nm = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *nm);
    char **own = pl_calloc((size_t)PL_MAX(n, 1), sizeof *own);
    pl_type **types = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *types);
    bool *nullable = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *nullable);
    const char **quals = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *quals);
    pl_status st = (!d->exprs || !nm || !own || !types || !nullable || !quals) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < nin && !st; i++) {
        nm[i] = df->schema->fields[i].name;
        types[i] = pl_type_retain(df->schema->fields[i].type);
        nullable[i] = df->schema->fields[i].nullable;
        quals[i] = pl_df_column_qualifier(df, i);
    }
    for (int32_t i = 0; i < n && !st; i++) {
        if (!exprs[i] || exprs[i]->kind != PL_EXPR_WINDOW) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "pl_df_window takes window expressions");
            break;
        }
        st = pl_plan_resolve(exprs[i], df, NULL, &d->exprs[i], err);
        if (st) break;
        d->n_exprs = i + 1;
        st = pl_plan_window_type(d->exprs[i], df->schema, &types[nin + i], err);
        nullable[nin + i] = true;
        if (!st) st = name_of(exprs[i], names ? names[i] : NULL, &own[i], err);
        nm[nin + i] = own[i];
    }
    if (!st) st = set_schema(d, nout, nm, types, nullable, quals, err);
    for (int32_t i = 0; i < nout && types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(nullable);
    pl_free(quals);
    pl_free(nm);
    free_names(n, own);
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

/* ---------------------------------------------------------------- unnest */

pl_status pl_df_unnest(pl_df *df, int32_t n, pl_expr *const *exprs, const char *const *names,
                       pl_df **out, pl_error *err) {
    if (n < 1) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_df_unnest needs at least one list");
    int32_t nin = df->schema->n_fields, nout = nin + n;
    pl_df *d = pl_plan_node_new(PL_PLAN_UNNEST, 1, &df);
    if (!d) return nomem(err);
    d->exprs = pl_calloc((size_t)n, sizeof(pl_expr *));
    const char **nm = pl_calloc((size_t)nout, sizeof *nm);
    pl_type **types = pl_calloc((size_t)nout, sizeof *types);
    bool *nullable = pl_calloc((size_t)nout, sizeof *nullable);
    const char **quals = pl_calloc((size_t)nout, sizeof *quals);
    pl_status st = (!d->exprs || !nm || !types || !nullable || !quals) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < nin && !st; i++) {
        nm[i] = df->schema->fields[i].name;
        types[i] = pl_type_retain(df->schema->fields[i].type);
        nullable[i] = df->schema->fields[i].nullable;
        quals[i] = pl_df_column_qualifier(df, i);
    }
    for (int32_t i = 0; i < n && !st; i++) {
        if (!exprs[i]) {
            st = nomem(err);
            break;
        }
        st = pl_plan_resolve(exprs[i], df, NULL, &d->exprs[i], err);
        if (st) break;
        d->n_exprs = i + 1;
        pl_type *t = NULL;
        st = pl_plan_expr_type(d->exprs[i], df->schema, &t, NULL, err);
        if (st) break;
        if (t->id == PL_TYPE_LIST) {
            types[nin + i] = pl_type_retain(t->children[0].type);
        } else if (t->id == PL_TYPE_NA) {
            types[nin + i] = pl_type_simple(PL_TYPE_INT32);
        } else {
            char tn[64];
            st = pl_error_set(err, PL_ERR_TYPE, "unnest needs a list, not %s", pl_type_to_string(t, tn, sizeof tn));
            if (err && err->sql_pos < 0) err->sql_pos = exprs[i]->sql_pos;
        }
        pl_type_release(t);
        nullable[nin + i] = true;
        nm[nin + i] = names && names[i] ? names[i] : "unnest";
    }
    if (!st) st = set_schema(d, nout, nm, types, nullable, quals, err);
    for (int32_t i = 0; i < nout && types; i++) pl_type_release(types[i]);
    pl_free(types);
    pl_free(nullable);
    pl_free(quals);
    pl_free(nm);
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}
