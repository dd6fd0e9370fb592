/* plan_select.c - SELECT planning: WITH, set operations, VALUES, and the core pipeline
 * FROM -> WHERE -> aggregate -> HAVING -> window -> projection -> DISTINCT -> ORDER BY ->
 * LIMIT -> drop hidden columns. Entry points pl_sql_plan_query and pl_sql_plan_const_expr. */
#include "sql/plan_int.h"

#include <regex.h>

#include <stdio.h>
#include <strings.h>

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory planning SQL")
#define SQ_MAX_DEPTH 64

/* ---------------------------------------------------------------- growable expr lists */

typedef struct elist {
    int32_t n, cap;
    pl_expr **v;
    char **names; /* owned, may be NULL entries */
    int32_t *pos;
} elist;

static pl_status el_push(elist *l, pl_expr *e, const char *name, int32_t pos, pl_error *err) {
    if (!e) return NOMEM(err);
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 8;
        pl_expr **v = pl_realloc(l->v, (size_t)cap * sizeof *v);
        if (v) l->v = v;
        char **nm = v ? pl_realloc(l->names, (size_t)cap * sizeof *nm) : NULL;
        if (nm) l->names = nm;
        int32_t *ps = nm ? pl_realloc(l->pos, (size_t)cap * sizeof *ps) : NULL;
        if (ps) l->pos = ps;
        if (!ps) {
            pl_expr_release(e);
            return NOMEM(err);
        }
        l->cap = cap;
    }
    char *nm = name ? pl_strdup(name) : NULL;
    if (name && !nm) {
        pl_expr_release(e);
        return NOMEM(err);
    }
    l->v[l->n] = e;
    l->names[l->n] = nm;
    l->pos[l->n] = pos;
    l->n++;
    return PL_OK;
}

static void el_reset(elist *l) {
    for (int32_t i = 0; i < l->n; i++) {
        pl_expr_release(l->v[i]);
        pl_free(l->names[i]);
    }
    pl_free(l->v);
    pl_free(l->names);
    pl_free(l->pos);
    memset(l, 0, sizeof *l);
}

static int32_t el_find(const elist *l, const pl_expr *e) {
    for (int32_t i = 0; i < l->n; i++)
        if (sq_expr_equal(l->v[i], e)) return i;
    return -1;
}

/* ---------------------------------------------------------------- DataFrame wrappers */

/* Finalises exprs against df and calls pl_df_select. */
static pl_status df_select(pl_df *df, int32_t n, pl_expr *const *exprs, char *const *names,
                           pl_df **out, pl_error *err) {
    pl_expr **fin = pl_calloc((size_t)(n ? n : 1), sizeof *fin);
    if (!fin) return NOMEM(err);
    pl_status st = PL_OK;
    int32_t i = 0;
    for (; i < n; i++) {
        st = sq_finalize(exprs[i], df, NULL, &fin[i], err);
        if (st) break;
    }
    if (!st) {
        st = pl_df_select(df, n, fin, (const char *const *)names, out, err);
        if (st) {
            int32_t pos = -1;
            for (int32_t k = 0; k < n && pos < 0; k++) pos = exprs[k]->sql_pos;
            sq_at(err, st, pos);
        }
    }
    for (int32_t k = 0; k < i; k++) pl_expr_release(fin[k]);
    pl_free(fin);
    return st;
}

/* ---------------------------------------------------------------- aggregation rewrite */

typedef struct agg_state {
    const sq_rel *in;  /* FROM relation */
    elist *keys;
    elist *aggs;
    const sq_rel *out; /* the aggregate's output relation */
} agg_state;

static pl_expr *const_agg(const pl_expr *col) {
    pl_expr *c = pl_expr_clone(col);
    if (!c) return NULL;
    const char *mn = pl_agg_canonical("min");
    return pl_expr_agg(mn ? mn : "min", 1, &c, false, NULL, 0, NULL);
}

static bool is_grouping_fn(const pl_expr *e) {
    return e->kind == PL_EXPR_CALL && e->name && !strcmp(e->name, SQ_GROUPING_FN);
}

static bool has_grouping_fn(const pl_expr *e) {
    if (!e) return false;
    if (is_grouping_fn(e)) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (has_grouping_fn(e->args[i])) return true;
    if (e->kind == PL_EXPR_WINDOW) {
        for (int32_t i = 0; i < e->n_partition; i++)
            if (has_grouping_fn(e->partition[i])) return true;
        for (int32_t i = 0; i < e->n_order; i++)
            if (has_grouping_fn(e->order[i].expr)) return true;
    }
    return false;
}

/* Collects aggregate calls (and constant columns outside them) of e into aggs. */
static pl_status collect_aggs(agg_state *as, const pl_expr *e, pl_error *err) {
    if (!e) return PL_OK;
    if (el_find(as->keys, e) >= 0) return PL_OK;
    if (e->kind == PL_EXPR_AGG || is_grouping_fn(e)) {
        if (el_find(as->aggs, e) >= 0) return PL_OK;
        return el_push(as->aggs, pl_expr_retain((pl_expr *)e), NULL, e->sql_pos, err);
    }
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0 && e->index < as->in->n_cols &&
        as->in->constant[e->index]) {
        pl_expr *a = const_agg(e);
        if (!a) return NOMEM(err);
        if (el_find(as->aggs, a) >= 0) {
            pl_expr_release(a);
            return PL_OK;
        }
        return el_push(as->aggs, a, NULL, e->sql_pos, err);
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(collect_aggs(as, e->args[i], err));
    if (e->kind == PL_EXPR_WINDOW) {
        PL_TRY(collect_aggs(as, e->filter, err));
        for (int32_t i = 0; i < e->n_partition; i++) PL_TRY(collect_aggs(as, e->partition[i], err));
        for (int32_t i = 0; i < e->n_order; i++) PL_TRY(collect_aggs(as, e->order[i].expr, err));
    }
    return PL_OK;
}

static pl_status rewrite_agg(agg_state *as, const pl_expr *e, pl_expr **out, pl_error *err);

static pl_status rewrite_slot_agg(agg_state *as, pl_expr **slot, pl_error *err) {
    pl_expr *n = NULL;
    PL_TRY(rewrite_agg(as, *slot, &n, err));
    pl_expr_release(*slot);
    *slot = n;
    return PL_OK;
}

static pl_status rewrite_agg(agg_state *as, const pl_expr *e, pl_expr **out, pl_error *err) {
    int32_t k = el_find(as->keys, e);
    if (k >= 0) {
        pl_expr *r = sq_colref(as->out, k, e->sql_pos);
        if (!r) return NOMEM(err);
        *out = r;
        return PL_OK;
    }
    if (is_grouping_fn(e)) {
        int32_t j = el_find(as->aggs, e);
        pl_expr *r = j >= 0 ? sq_colref(as->out, as->keys->n + j, e->sql_pos) : NULL;
        if (!r) return j >= 0 ? NOMEM(err) : sq_fail(err, PL_ERR_INTERNAL, e->sql_pos, "GROUPING not collected");
        *out = r;
        return PL_OK;
    }
    switch (e->kind) {
    case PL_EXPR_AGG: {
        int32_t j = el_find(as->aggs, e);
        if (j < 0) return sq_fail(err, PL_ERR_INTERNAL, e->sql_pos, "aggregate not collected");
        pl_expr *r = sq_colref(as->out, as->keys->n + j, e->sql_pos);
        if (!r) return NOMEM(err);
        *out = r;
        return PL_OK;
    }
    case PL_EXPR_LITERAL:
        *out = pl_expr_retain((pl_expr *)e);
        return PL_OK;
    case PL_EXPR_COLUMN: {
        if (e->index <= SQ_OUTER_BASE || e->index < 0) {
            *out = pl_expr_retain((pl_expr *)e);
            return PL_OK;
        }
        if (e->index < as->in->n_cols && as->in->constant[e->index]) {
            pl_expr *a = const_agg(e);
            if (!a) return NOMEM(err);
            int32_t j = el_find(as->aggs, a);
            pl_expr_release(a);
            if (j >= 0) {
                pl_expr *r = sq_colref(as->out, as->keys->n + j, e->sql_pos);
                if (!r) return NOMEM(err);
                *out = r;
                return PL_OK;
            }
        }
        return sq_fail(err, PL_ERR_SQL, e->sql_pos,
                       "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function",
                       e->name);
    }
    default: {
        pl_expr *c = pl_expr_clone(e);
        if (!c) return NOMEM(err);
        pl_status st = PL_OK;
        for (int32_t i = 0; !st && i < c->n_args; i++) st = rewrite_slot_agg(as, &c->args[i], err);
        if (!st && c->filter) st = rewrite_slot_agg(as, &c->filter, err);
        for (int32_t i = 0; !st && i < c->n_partition; i++) st = rewrite_slot_agg(as, &c->partition[i], err);
        for (int32_t i = 0; !st && i < c->n_order; i++) st = rewrite_slot_agg(as, &c->order[i].expr, err);
        if (st) {
            pl_expr_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    }
}

/* ---------------------------------------------------------------- window and unnest rewrite
 * Window calls and unnest calls are computed by their own plan nodes (window, UNNEST) as
 * columns appended to the relation: the distinct calls are collected, then every expression
 * is rewritten with each call replaced by its column. */

typedef bool (*sq_match_fn)(const pl_expr *e);

static bool is_window(const pl_expr *e) { return e->kind == PL_EXPR_WINDOW; }

static bool is_unnest(const pl_expr *e) {
    return e->kind == PL_EXPR_CALL && e->name && !strcmp(e->name, SQ_UNNEST_FN);
}

static bool contains_match(const pl_expr *e, sq_match_fn match) {
    if (match(e)) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (contains_match(e->args[i], match)) return true;
    return false;
}

/* The distinct sub-expressions of e that match (not looked into) appended to l. */
static pl_status collect_matching(elist *l, const pl_expr *e, sq_match_fn match, pl_error *err) {
    if (!e) return PL_OK;
    if (match(e)) {
        if (el_find(l, e) >= 0) return PL_OK;
        return el_push(l, pl_expr_retain((pl_expr *)e), NULL, e->sql_pos, err);
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(collect_matching(l, e->args[i], match, err));
    return PL_OK;
}

/* e with every matching sub-expression replaced by column base + its index in l of r;
 * subtrees without one are shared, not copied. */
static pl_status rewrite_matching(const elist *l, sq_match_fn match, const sq_rel *r, int32_t base,
                                  const pl_expr *e, pl_expr **out, pl_error *err) {
    if (match(e)) {
        int32_t j = el_find(l, e);
        pl_expr *c = j >= 0 ? sq_colref(r, base + j, e->sql_pos) : NULL;
        if (!c) return NOMEM(err);
        *out = c;
        return PL_OK;
    }
    if (e->n_args == 0 || !contains_match(e, match)) {
        *out = pl_expr_retain((pl_expr *)e);
        return PL_OK;
    }
    pl_expr *c = pl_expr_clone(e);
    if (!c) return NOMEM(err);
    for (int32_t i = 0; i < c->n_args; i++) {
        pl_expr *n = NULL;
        pl_status st = rewrite_matching(l, match, r, base, c->args[i], &n, err);
        if (st) {
            pl_expr_release(c);
            return st;
        }
        pl_expr_release(c->args[i]);
        c->args[i] = n;
    }
    *out = c;
    return PL_OK;
}

/* ---------------------------------------------------------------- unnest */

/* unnest(list) calls of the select list (and ORDER BY extras): one UNNEST node over the
 * relation after windows and QUALIFY, its element columns hidden; the calls become references
 * to them. *any: whether there was one. */
static pl_status plan_unnests(sq_rel *rel, elist *items, elist *extras, bool *any, pl_error *err) {
    elist u = {0};
    pl_status rc = PL_OK;
    for (int32_t i = 0; !rc && i < items->n; i++) rc = collect_matching(&u, items->v[i], is_unnest, err);
    for (int32_t i = 0; !rc && i < extras->n; i++) rc = collect_matching(&u, extras->v[i], is_unnest, err);
    *any = u.n > 0;
    if (rc || u.n == 0) {
        el_reset(&u);
        return rc;
    }
    pl_expr **fa = pl_calloc((size_t)u.n, sizeof *fa);
    char **names = pl_calloc((size_t)u.n, sizeof *names);
    char *namebuf = pl_malloc((size_t)u.n * 16);
    int32_t done = 0;
    if (!fa || !names || !namebuf) rc = NOMEM(err);
    for (; !rc && done < u.n; done++) {
        rc = sq_finalize(u.v[done]->args[0], rel->df, NULL, &fa[done], err);
        if (rc) break;
        names[done] = namebuf + (size_t)done * 16;
        snprintf(names[done], 16, "__u%d", (int)done);
    }
    pl_df *udf = NULL;
    if (!rc) {
        rc = pl_df_unnest(rel->df, u.n, fa, (const char *const *)names, &udf, err);
        if (rc) sq_at(err, rc, u.pos[0]);
    }
    for (int32_t i = 0; i < done; i++) pl_expr_release(fa[i]);
    pl_free(fa);
    pl_free(names);
    pl_free(namebuf);
    int32_t base = rel->n_cols;
    if (!rc) rc = sq_rel_extend(rel, udf, true, false, err);
    for (int32_t k = 0; k < 2 && !rc; k++) {
        elist *l = k ? extras : items;
        for (int32_t i = 0; !rc && i < l->n; i++) {
            pl_expr *n = NULL;
            rc = rewrite_matching(&u, is_unnest, rel, base, l->v[i], &n, err);
            if (!rc) {
                pl_expr_release(l->v[i]);
                l->v[i] = n;
            }
        }
    }
    el_reset(&u);
    return rc;
}

/* ---------------------------------------------------------------- LIMIT */

/* The value of a LIMIT / OFFSET: a constant expression (arithmetic, casts, uncorrelated scalar
 * subqueries: `LIMIT 2 * 5`, `LIMIT (SELECT count(*) FROM t)`), cast to BIGINT like DuckDB
 * (`LIMIT 2.5` is 3, `LIMIT '3'` is 3) and evaluated now; NULL means none (-1). */
static pl_status limit_value(sq_ctx *ctx, const PgQuery__Node *n, const char *what, int64_t *out,
                             pl_error *err) {
    pl_df *dual = NULL;
    PL_TRY(sq_dual(&dual, err));
    sq_rel rel;
    PL_TRY(sq_rel_init(&rel, dual, err));
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.rel = &rel;
    sc.allow = SQ_ALLOW_SUBQUERY;
    sc.clause = what;
    pl_expr *e = NULL, *f = NULL;
    int32_t pos = sq_node_pos(n);
    pl_status st = sq_expr(&sc, n, &e, err);
    if (st == PL_ERR_NOT_FOUND && err && !err->hint[0])
        snprintf(err->hint, sizeof err->hint, "%s takes a constant expression", what);
    if (!st && e->kind == PL_EXPR_LITERAL && !e->value.is_null && e->value.type &&
        (e->value.type->id == PL_TYPE_INT64 || e->value.type->id == PL_TYPE_INT32)) {
        *out = e->value.v.i; /* the common case, without running anything */
    } else if (!st) {
        pl_df *sel = NULL;
        pl_table *t = NULL;
        const char *nm = "__limit";
        st = sq_finalize(e, rel.df, NULL, &f, err);
        if (!st) {
            f = pl_expr_cast(f, pl_type_simple(PL_TYPE_INT64), false);
            if (!f) st = NOMEM(err);
        }
        if (!st) st = sq_at(err, pl_df_select(rel.df, 1, &f, &nm, &sel, err), pos);
        if (!st) st = sq_at(err, pl_df_collect(sel, ctx->s ? pl_session_exec_opts(ctx->s) : NULL, &t, err), pos);
        if (!st && t->n_rows != 1)
            st = sq_fail(err, PL_ERR_INTERNAL, pos, "%s gave %lld rows", what, (long long)t->n_rows);
        pl_value v;
        pl_value_init_null(&v);
        for (int64_t k = 0; !st && k < t->n_batches; k++)
            if (t->batches[k]->n_rows > 0) {
                st = pl_value_from_array(t->batches[k]->columns[0], 0, &v, err);
                break;
            }
        *out = v.is_null ? -1 : v.v.i;
        if (!st && v.is_null) {
            pl_expr_release(e);
            e = NULL;
        }
        pl_value_reset(&v);
        if (t) pl_table_release(t);
        if (sel) pl_df_release(sel);
    }
    if (!st && e && *out < 0) st = sq_fail(err, PL_ERR_SQL, pos, "%s must not be negative", what);
    pl_expr_release(e);
    pl_expr_release(f);
    sq_rel_reset(&rel);
    return st;
}

/* LIMIT/OFFSET of st over *df. A correlated subquery's result (n_ck > 0: its first n_ck
 * columns are the correlation keys) is limited per key, as the subquery would be per outer
 * row: row_number() OVER (PARTITION BY the keys ORDER BY sort) within (offset, offset + limit]
 * (sort: n_sort keys finalised over *df, taken; may be NULL when n_sort is 0). */
static pl_status apply_limit(sq_ctx *ctx, const PgQuery__SelectStmt *st, int32_t n_ck, int32_t n_sort,
                             pl_sort_key *sort, pl_df **df, pl_error *err) {
    pl_status rc = PL_OK;
    int64_t limit = -1, offset = 0;
    if (!st->limit_count && !st->limit_offset) goto done;
    if (st->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES) {
        rc = pl_error_set(err, PL_ERR_UNSUPPORTED, "FETCH ... WITH TIES is not supported");
        goto done;
    }
    if (st->limit_count) rc = limit_value(ctx, st->limit_count, "LIMIT", &limit, err);
    if (!rc && st->limit_offset) {
        rc = limit_value(ctx, st->limit_offset, "OFFSET", &offset, err);
        if (offset < 0) offset = 0;
    }
    if (rc) goto done;
    pl_df *o = NULL;
    if (n_ck == 0) {
        rc = pl_df_limit(*df, offset, limit, &o, err);
    } else {
        pl_expr **part = pl_calloc((size_t)n_ck, sizeof *part);
        if (!part) rc = NOMEM(err);
        for (int32_t i = 0; !rc && i < n_ck; i++)
            if (!(part[i] = pl_expr_col_index(i, pl_df_schema(*df)->fields[i].name))) rc = NOMEM(err);
        pl_window_frame frame;
        memset(&frame, 0, sizeof frame);
        pl_value_init_null(&frame.start_offset);
        pl_value_init_null(&frame.end_offset);
        pl_expr *rn = NULL;
        if (!rc) {
            rn = pl_expr_window("row_number", 0, NULL, n_ck, part, n_sort, sort, &frame);
            n_sort = 0; /* taken */
            if (!rn) rc = NOMEM(err);
        } else if (part) {
            for (int32_t i = 0; i < n_ck; i++) pl_expr_release(part[i]);
        }
        pl_free(part);
        const char *rn_name = "__lrn";
        pl_df *w = NULL, *f = NULL;
        if (!rc) rc = pl_df_window(*df, 1, &rn, &rn_name, &w, err);
        pl_expr *pred = NULL;
        if (!rc) {
            pl_expr *r = pl_expr_col(rn_name);
            pred = pl_expr_call2("gt", r ? pl_expr_retain(r) : NULL, pl_expr_lit_i64(offset));
            if (pred && limit >= 0)
                pred = pl_expr_call2("and", pred,
                                     pl_expr_call2("le", pl_expr_retain(r),
                                                   pl_expr_lit_i64(limit > INT64_MAX - offset ? INT64_MAX
                                                                                             : offset + limit)));
            pl_expr_release(r);
            rc = pred ? pl_df_filter(w, pred, &f, err) : NOMEM(err);
        }
        if (!rc) rc = pl_df_drop(f, 1, &rn_name, &o, err);
        pl_expr_release(rn);
        pl_expr_release(pred);
        if (w) pl_df_release(w);
        if (f) pl_df_release(f);
    }
    if (!rc) {
        pl_df_release(*df);
        *df = o;
    }
done:
    for (int32_t i = 0; i < n_sort; i++) pl_expr_release(sort[i].expr);
    return rc;
}

/* A copy of the window call w partitioned first by the n_ck correlation keys ck (over the same
 * relation): a correlated subquery's window functions see one outer row's rows. New reference. */
static pl_expr *window_by_keys(const pl_expr *w, pl_expr *const *ck, int32_t n_ck) {
    pl_expr *c = pl_expr_clone(w);
    if (!c || n_ck == 0) return c;
    pl_expr **p = pl_malloc((size_t)(n_ck + c->n_partition) * sizeof *p);
    if (!p) {
        pl_expr_release(c);
        return NULL;
    }
    for (int32_t i = 0; i < n_ck; i++) p[i] = pl_expr_retain(ck[i]);
    for (int32_t i = 0; i < c->n_partition; i++) p[n_ck + i] = c->partition[i];
    pl_free(c->partition);
    c->partition = p;
    c->n_partition += n_ck;
    return c;
}

/* ---------------------------------------------------------------- the core SELECT */

typedef struct sel_state {
    sq_ctx *ctx;
    const PgQuery__SelectStmt *st;
    sq_select_opts *o;
    sq_rel rel;
    sq_scope sc;
    elist items;   /* select list (over rel before aggregation) */
    elist extras;  /* hidden ORDER BY expressions */
    elist keys;    /* GROUP BY keys */
    elist aggs;
    pl_expr *having;
    pl_expr *qualify;
    PgQuery__ParseResult *qualify_tree; /* the QUALIFY condition's own parse (plan_qualify.c) */
    int32_t qualify_pos;
    int32_t n_sets;  /* GROUPING SETS / ROLLUP / CUBE: bit masks over keys; 0 = plain GROUP BY */
    uint64_t *sets;
    int32_t n_don; /* DISTINCT ON keys (output refs like sort_col) */
    int32_t *don_col;
    int32_t n_sort;
    pl_sort_key *sort; /* expr NULL: sort_col is an output column index */
    int32_t *sort_col;
    sq_alias *aliases;
    int32_t flat_marker; /* flattened aggregate: the column set only on matched rows, else -1 */
    sq_from_corr fc;     /* a correlated subquery's FROM: its derived tables planned over D */
    sq_defer defer;      /* a grouped query's subqueries planned after aggregation */
    pl_expr **defer_done; /* [defer.n]: each one's planned expression once planned */
    bool grouped, by_all; /* select_aggregates, GROUP BY ALL */
    sq_rel pre;          /* the relation before aggregation, while deferred ones are planned */
    sq_post *post;       /* outer aggregates found missing (kept across attempts) */
} sel_state;

static void sel_reset(sel_state *s) {
    sq_rel_reset(&s->rel);
    sq_rel_reset(&s->pre);
    for (int32_t i = 0; s->defer_done && i < s->defer.n; i++) pl_expr_release(s->defer_done[i]);
    pl_free(s->defer_done);
    pl_free((void *)s->defer.v);
    if (s->post) {
        s->post->pre = NULL;
        s->post->keys = s->post->aggs = NULL;
        s->post->n_keys = s->post->n_aggs = 0;
    }
    el_reset(&s->items);
    el_reset(&s->extras);
    el_reset(&s->keys);
    el_reset(&s->aggs);
    pl_expr_release(s->having);
    pl_expr_release(s->qualify);
    if (s->qualify_tree) pg_query__parse_result__free_unpacked(s->qualify_tree, NULL);
    pl_free(s->sets);
    pl_free(s->sort);
    pl_free(s->sort_col);
    pl_free(s->don_col);
    pl_free(s->aliases);
    pl_free(s->fc.ids);
}

/* The position of the name in a REPLACE item `expr AS name` starting at loc (else loc). */
static int32_t replace_name_pos(const char *sql, int32_t loc) {
    int32_t len = pl_sql_text_len(sql), p = loc, d = 0;
    sq_token t;
    while (sq_lex_next(sql, len, p, &t)) {
        p = t.end;
        if (sq_tok_is(sql, &t, "(") || sq_tok_is(sql, &t, "[")) d++;
        else if (sq_tok_is(sql, &t, ")") || sq_tok_is(sql, &t, "]")) {
            if (--d < 0) break;
        } else if (d == 0 && sq_tok_is(sql, &t, ",")) break;
        else if (d == 0 && sq_tok_is(sql, &t, "as") && sq_lex_next(sql, len, p, &t)) return t.start;
    }
    return loc;
}

/* `*` / `t.*` with DuckDB's modifiers EXCLUDE (names), REPLACE (expr AS name: the column's
 * value replaced, its name and place kept) and RENAME (name AS new_name), read from the
 * original text (the parser saw them blanked, see pl_sql_preprocess). */
static pl_status expand_star(sel_state *s, const PgQuery__ColumnRef *cr, pl_error *err) {
    const char *qual = NULL;
    if (cr->n_fields >= 2) qual = sq_str(cr->fields[cr->n_fields - 2]);
    sq_names ex, rf, rt;
    memset(&rf, 0, sizeof rf);
    memset(&rt, 0, sizeof rt);
    PgQuery__ParseResult *rtree = NULL;
    PgQuery__Node *const *ritems = NULL;
    size_t n_rep = 0;
    pl_expr **rexpr = NULL;
    PL_TRY(sq_read_exclude(s->ctx->sql, cr->location, &ex, err));
    pl_status st = sq_read_rename(s->ctx->sql, cr->location, &rf, &rt, err);
    if (!st) st = sq_replace_parse(s->ctx->sql, cr->location, &rtree, &ritems, &n_rep, err);
    int32_t n_used = ex.n + rf.n + (int32_t)n_rep;
    bool *used = st ? NULL : pl_calloc((size_t)(n_used ? n_used : 1), sizeof(bool));
    if (!st && n_rep) rexpr = pl_calloc(n_rep, sizeof *rexpr);
    if (!st && (!used || (n_rep && !rexpr))) st = NOMEM(err);
    bool *rep_used = used ? used + ex.n + rf.n : NULL;
    bool *ren_used = used ? used + ex.n : NULL;
    for (size_t k = 0; !st && k < n_rep; k++) {
        const PgQuery__ResTarget *t = ritems[k]->res_target;
        for (int32_t j = 0; !st && j < rf.n; j++)
            if (strcasecmp(rf.names[j], t->name) == 0)
                st = sq_fail(err, PL_ERR_SQL, rf.pos[j],
                             "column \"%s\" cannot occur in both REPLACE and RENAME", t->name);
        for (size_t j = 0; !st && j < k; j++)
            if (strcasecmp(ritems[j]->res_target->name, t->name) == 0)
                st = sq_fail(err, PL_ERR_SQL, replace_name_pos(s->ctx->sql, t->location),
                             "column \"%s\" occurs twice in REPLACE", t->name);
        for (int32_t j = 0; !st && j < ex.n; j++)
            if (strcasecmp(ex.names[j], t->name) == 0)
                st = sq_fail(err, PL_ERR_SQL, replace_name_pos(s->ctx->sql, t->location),
                             "column \"%s\" cannot occur in both EXCLUDE and REPLACE", t->name);
        if (st) break;
        s->sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY;
        s->sc.clause = "SELECT";
        st = sq_expr(&s->sc, t->val, &rexpr[k], err);
    }
    for (int32_t k = 0; !st && k < rf.n; k++) {
        for (int32_t j = 0; !st && j < k; j++)
            if (strcasecmp(rf.names[j], rf.names[k]) == 0)
                st = sq_fail(err, PL_ERR_SQL, rf.pos[k], "column \"%s\" occurs twice in RENAME",
                             rf.names[k]);
        for (int32_t j = 0; !st && j < ex.n; j++)
            if (strcasecmp(ex.names[j], rf.names[k]) == 0)
                st = sq_fail(err, PL_ERR_SQL, rf.pos[k],
                             "column \"%s\" cannot occur in both EXCLUDE and RENAME", rf.names[k]);
    }
    int32_t added = 0;
    sq_rel *r = &s->rel;
    for (int32_t i = 0; !st && i < r->n_cols; i++) {
        const char *name = sq_rel_name(r, i);
        if (qual) {
            const char *q = sq_rel_qual(r, i);
            if (!q || strcasecmp(q, qual) != 0) continue;
            if (strncmp(name, "__", 2) == 0 && r->hidden[i]) continue;
        } else if (r->hidden[i]) {
            continue;
        }
        bool skip = false;
        for (int32_t k = 0; k < ex.n; k++)
            if (strcasecmp(ex.names[k], name) == 0) {
                used[k] = true;
                skip = true;
            }
        if (skip) continue;
        added++;
        pl_expr *e = NULL;
        int32_t epos = cr->location;
        for (size_t k = 0; !e && k < n_rep; k++)
            if (strcasecmp(ritems[k]->res_target->name, name) == 0) {
                rep_used[k] = true;
                e = pl_expr_retain(rexpr[k]);
                epos = ritems[k]->res_target->location;
            }
        const char *out_name = name;
        for (int32_t k = 0; k < rf.n; k++)
            if (strcasecmp(rf.names[k], name) == 0) {
                ren_used[k] = true;
                out_name = rt.names[k];
            }
        if (!e) {
            e = (!qual && r->star_expr[i]) ? pl_expr_clone(r->star_expr[i]) : sq_colref(r, i, cr->location);
            if (e) e->sql_pos = cr->location;
        }
        st = el_push(&s->items, e, out_name, epos, err);
    }
    for (int32_t k = 0; !st && k < ex.n; k++)
        if (!used[k])
            st = sq_fail(err, PL_ERR_NOT_FOUND, ex.pos[k], "column \"%s\" in EXCLUDE list not found",
                         ex.names[k]);
    for (size_t k = 0; !st && k < n_rep; k++)
        if (!rep_used[k])
            st = sq_fail(err, PL_ERR_NOT_FOUND, replace_name_pos(s->ctx->sql, ritems[k]->res_target->location),
                         "column \"%s\" in REPLACE list not found", ritems[k]->res_target->name);
    for (int32_t k = 0; !st && k < rf.n; k++)
        if (!ren_used[k])
            st = sq_fail(err, PL_ERR_NOT_FOUND, rf.pos[k], "column \"%s\" in RENAME list not found",
                         rf.names[k]);
    if (!st && added == 0 && qual)
        st = sq_fail(err, PL_ERR_NOT_FOUND, cr->location, "table \"%s\" not found", qual);
    for (size_t k = 0; rexpr && k < n_rep; k++) pl_expr_release(rexpr[k]);
    pl_free(rexpr);
    if (rtree) pg_query__parse_result__free_unpacked(rtree, NULL);
    pl_free(used);
    sq_names_reset(&ex);
    sq_names_reset(&rf);
    sq_names_reset(&rt);
    return st;
}

/* ---------------------------------------------------------------- COLUMNS(...) */

/* The string of a string constant node, or NULL. */
static const char *sq_const_str(const PgQuery__Node *n) {
    if (!n || n->node_case != PG_QUERY__NODE__NODE_A_CONST) return NULL;
    const PgQuery__AConst *c = n->a_const;
    return !c->isnull && c->val_case == PG_QUERY__A__CONST__VAL_SVAL && c->sval ? c->sval->sval : NULL;
}

/* The first COLUMNS(...) call of an expression (not inside a subquery, nor inside an aggregate's
 * FILTER (WHERE ...), which expands on its own); more: another one with different arguments. */
typedef struct {
    const PgQuery__FuncCall *first;
    bool more;
    const PgQuery__Node *skip; /* the FILTER clause of the call being visited */
} columns_find;

static bool find_columns_call(ProtobufCMessage *m, void *vctx) {
    columns_find *cf = vctx;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &pg_query__select_stmt__descriptor || (cf->skip && m == &cf->skip->base)) return false;
    if (d == &pg_query__func_call__descriptor) {
        const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
        const char *nm = fc->n_funcname == 1 ? sq_str(fc->funcname[0]) : NULL;
        if (nm && strcasecmp(nm, "columns") == 0) {
            if (!cf->first) {
                cf->first = fc;
            } else {
                /* the same arguments (the same text) count as one */
                size_t la = pg_query__func_call__get_packed_size(cf->first);
                size_t lb = pg_query__func_call__get_packed_size(fc);
                bool same = la == lb && cf->first->n_args == fc->n_args && cf->first->agg_star == fc->agg_star;
                for (size_t k = 0; same && k < fc->n_args; k++) {
                    const PgQuery__Node *a = cf->first->args[k], *b = fc->args[k];
                    same = a->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                           b->node_case == PG_QUERY__NODE__NODE_A_CONST && sq_const_str(a) &&
                           sq_const_str(b) && !strcmp(sq_const_str(a), sq_const_str(b));
                }
                if (!same) cf->more = true;
            }
            return false;
        }
        const PgQuery__Node *saved = cf->skip;
        cf->skip = fc->agg_filter;
        pl_sql_node_children(m, find_columns_call, cf);
        cf->skip = saved;
        return false;
    }
    pl_sql_node_children(m, find_columns_call, cf);
    return false;
}

/* The columns COLUMNS(...) selects: `*` or `t.*` (like the star, hidden columns left out), a
 * regular expression matched anywhere in the name (POSIX extended, case-sensitive like DuckDB's),
 * or a list of names ['a', 'b'] (in the relation's order, like DuckDB). pick[] gets rel indices. */
static pl_status columns_select(sq_scope *sc, const PgQuery__FuncCall *fc, int32_t *pick, int32_t *n_pick,
                                pl_error *err) {
    sq_rel *r = sc->rel;
    const char *sql = sc->ctx->sql;
    int32_t pos = fc->location, n = 0;
    const char *qual = NULL;
    const PgQuery__Node *a = fc->n_args == 1 ? fc->args[0] : NULL;
    bool star = fc->agg_star && fc->n_args == 0;
    if (a && a->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && a->column_ref->n_fields >= 2 &&
        a->column_ref->fields[a->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
        star = true;
        qual = sq_str(a->column_ref->fields[a->column_ref->n_fields - 2]);
    }
    if (fc->agg_distinct || fc->n_agg_order || fc->agg_filter || fc->over)
        return sq_fail(err, PL_ERR_SQL, pos, "COLUMNS takes no DISTINCT, ORDER BY, FILTER or OVER");
    const char *re_text = a ? sq_const_str(a) : NULL;
    /* COLUMNS(['a']) reached the parser as COLUMNS(('a')), a plain string: look for the '[' */
    bool list = false;
    int32_t len = pl_sql_text_len(sql);
    if (sql && pos >= 0 && pos < len) {
        sq_token t;
        if (sq_lex_next(sql, len, pos, &t) && sq_lex_next(sql, len, t.end, &t) && sq_tok_is(sql, &t, "(") &&
            sq_lex_next(sql, len, t.end, &t))
            list = sq_tok_is(sql, &t, "[");
    }
    if (list && re_text) {
        int32_t i = sq_rel_find(r, NULL, re_text);
        if (i == -2) return sq_fail(err, PL_ERR_SQL, sq_node_pos(a), "column reference \"%s\" is ambiguous", re_text);
        if (i < 0) return sq_fail(err, PL_ERR_NOT_FOUND, sq_node_pos(a), "column \"%s\" not found", re_text);
        pick[0] = i;
        *n_pick = 1;
        return PL_OK;
    }
    if (star || re_text) {
        regex_t re;
        if (!star) {
            int rc = regcomp(&re, re_text, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char msg[128];
                regerror(rc, &re, msg, sizeof msg);
                return sq_fail(err, PL_ERR_INVALID_ARG, sq_node_pos(a), "invalid regular expression \"%s\": %s",
                               re_text, msg);
            }
        }
        for (int32_t i = 0; i < r->n_cols; i++) {
            const char *name = sq_rel_name(r, i);
            if (qual) {
                const char *q = sq_rel_qual(r, i);
                if (!q || strcasecmp(q, qual) != 0) continue;
                if (strncmp(name, "__", 2) == 0 && r->hidden[i]) continue;
            } else if (r->hidden[i]) {
                continue;
            }
            if (!star && regexec(&re, name, 0, NULL, 0) != 0) continue;
            pick[n++] = i;
        }
        if (!star) regfree(&re);
        if (n == 0) {
            if (qual) return sq_fail(err, PL_ERR_NOT_FOUND, pos, "table \"%s\" not found", qual);
            if (!star)
                return sq_fail(err, PL_ERR_NOT_FOUND, sq_node_pos(a), "no columns match the regular expression \"%s\"",
                               re_text);
        }
        *n_pick = n;
        return PL_OK;
    }
    if (a && (a->node_case == PG_QUERY__NODE__NODE_ROW_EXPR || a->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR)) {
        /* ['a', 'b']: the preprocessor made it a row ('a', 'b') */
        PgQuery__Node *const *el = a->node_case == PG_QUERY__NODE__NODE_ROW_EXPR ? a->row_expr->args : a->a_array_expr->elements;
        size_t ne = a->node_case == PG_QUERY__NODE__NODE_ROW_EXPR ? a->row_expr->n_args : a->a_array_expr->n_elements;
        for (size_t k = 0; k < ne; k++) {
            const char *nm = sq_const_str(el[k]);
            if (!nm || el[k]->node_case != PG_QUERY__NODE__NODE_A_CONST)
                return sq_fail(err, PL_ERR_SQL, sq_node_pos(el[k]), "COLUMNS([...]) takes column names as strings");
            int32_t i = sq_rel_find(r, NULL, nm);
            if (i == -2) return sq_fail(err, PL_ERR_SQL, sq_node_pos(el[k]), "column reference \"%s\" is ambiguous", nm);
            if (i < 0) return sq_fail(err, PL_ERR_NOT_FOUND, sq_node_pos(el[k]), "column \"%s\" not found", nm);
            bool dup = false;
            for (int32_t j = 0; j < n; j++) dup = dup || pick[j] == i;
            if (!dup) pick[n++] = i;
        }
        /* in the relation's column order, like DuckDB */
        for (int32_t j = 1; j < n; j++)
            for (int32_t q = j; q > 0 && pick[q - 1] > pick[q]; q--) {
                int32_t t = pick[q];
                pick[q] = pick[q - 1];
                pick[q - 1] = t;
            }
        *n_pick = n;
        return PL_OK;
    }
    return sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                   "COLUMNS takes *, t.*, a regular expression or a list of column names");
}

/* The columns the COLUMNS(...) of expression n selects (see find_columns_call): *pick (rel
 * indices, pl_free) and *n_pick; *pick NULL when n holds none. Errors: several different
 * COLUMNS(...) (at pos), or what columns_select refuses. */
static bool is_star(const PgQuery__Node *n);

static pl_status columns_of(sq_scope *sc, const PgQuery__Node *n, int32_t pos, int32_t **pick, int32_t *n_pick,
                            pl_error *err) {
    *pick = NULL;
    *n_pick = 0;
    columns_find cf = {NULL, false, NULL};
    if (n) find_columns_call((ProtobufCMessage *)(uintptr_t)&n->base, &cf);
    if (cf.more)
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "several different COLUMNS(...) in one expression are not supported");
    if (!cf.first) return PL_OK;
    if (sc->clause && !strcmp(sc->clause, "ORDER BY") && (cf.first->agg_star || (cf.first->n_args == 1 && is_star(cf.first->args[0]))))
        /* DuckDB sorts by the select list's columns there, not by the FROM columns */
        return sq_fail(err, PL_ERR_UNSUPPORTED, cf.first->location,
                       "COLUMNS(*) is not supported in ORDER BY (ORDER BY ALL sorts by every output column)");
    int32_t *p = pl_calloc((size_t)PL_MAX(sc->rel->n_cols, 1), sizeof *p);
    if (!p) return NOMEM(err);
    pl_status st = columns_select(sc, cf.first, p, n_pick, err);
    if (st) {
        pl_free(p);
        return st;
    }
    *pick = p;
    return PL_OK;
}

/* A select item holding COLUMNS(...): one output column per selected column, the item evaluated
 * with COLUMNS(...) standing for that column; named by the item's alias, else the column. */
static pl_status expand_columns(sel_state *s, const PgQuery__ResTarget *rt, const int32_t *pick, int32_t n,
                                pl_error *err) {
    pl_status st = PL_OK;
    for (int32_t k = 0; !st && k < n; k++) {
        pl_expr *e = NULL;
        s->sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY;
        s->sc.clause = "SELECT";
        s->sc.columns_pick = pick[k] + 1;
        st = sq_expr(&s->sc, rt->val, &e, err);
        s->sc.columns_pick = 0;
        if (st) break;
        const char *name = sq_nz(rt->name) ? rt->name : sq_rel_name(&s->rel, pick[k]);
        st = el_push(&s->items, e, name, rt->location, err);
    }
    return st;
}

pl_status sq_expr_columns_and(sq_scope *sc, const PgQuery__Node *n, pl_expr **out, pl_error *err) {
    int32_t *pick = NULL, n_pick = 0;
    if (sc->rel) PL_TRY(columns_of(sc, n, sq_node_pos(n), &pick, &n_pick, err));
    if (!pick) return sq_expr(sc, n, out, err);
    int32_t saved = sc->columns_pick;
    pl_expr **parts = pl_calloc((size_t)PL_MAX(n_pick, 1), sizeof *parts);
    pl_status st = parts ? PL_OK : NOMEM(err);
    for (int32_t k = 0; !st && k < n_pick; k++) {
        sc->columns_pick = pick[k] + 1;
        st = sq_expr(sc, n, &parts[k], err);
    }
    sc->columns_pick = saved;
    pl_expr *e = NULL;
    if (!st) {
        if (n_pick == 1) {
            e = parts[0];
            parts[0] = NULL;
        } else {
            /* COLUMNS(*) of a relation without visible columns: true, like an empty AND */
            e = n_pick == 0 ? pl_expr_lit_bool(true) : pl_expr_call("and", n_pick, parts);
            if (n_pick > 1) memset(parts, 0, (size_t)n_pick * sizeof *parts); /* taken by the call */
            if (!e) st = NOMEM(err);
            else e->sql_pos = sq_node_pos(n);
        }
    }
    for (int32_t k = 0; parts && k < n_pick; k++) pl_expr_release(parts[k]);
    pl_free(parts);
    pl_free(pick);
    if (!st) *out = e;
    return st;
}

static bool is_star(const PgQuery__Node *n) {
    return n && n->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && n->column_ref->n_fields > 0 &&
           n->column_ref->fields[n->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
}

/* ---------------------------------------------------------------- deferred subqueries */

static bool is_deferred(const pl_expr *e) {
    return e->kind == PL_EXPR_CALL && e->name && !strcmp(e->name, SQ_DEFER_FN);
}

/* *slot with every deferred subquery (sq_defer) planned now over s->rel, in s->sc (after the
 * aggregation: s->sc.post set; before it: a subquery that became a GROUP BY key). Each is
 * planned once; later occurrences reuse its expression. */
static bool has_deferred(const pl_expr *e) {
    if (!e) return false;
    if (is_deferred(e) || has_deferred(e->filter)) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (has_deferred(e->args[i])) return true;
    for (int32_t i = 0; i < e->n_order; i++)
        if (has_deferred(e->order[i].expr)) return true;
    for (int32_t i = 0; i < e->n_partition; i++)
        if (has_deferred(e->partition[i])) return true;
    return false;
}

static pl_status undefer(sel_state *s, pl_expr **slot, pl_error *err) {
    pl_expr *e = *slot;
    if (!has_deferred(e)) return PL_OK;
    if (is_deferred(e)) {
        int32_t i = (int32_t)e->args[0]->value.v.i;
        if (i < 0 || i >= s->defer.n) return sq_fail(err, PL_ERR_INTERNAL, e->sql_pos, "bad deferred subquery");
        if (!s->defer_done) {
            s->defer_done = pl_calloc((size_t)s->defer.n, sizeof *s->defer_done);
            if (!s->defer_done) return NOMEM(err);
        }
        if (!s->defer_done[i]) {
            pl_expr *x = NULL;
            if (e->n_args > 1) {
                x = pl_expr_retain(e->args[1]);
                pl_status sx = undefer(s, &x, err); /* a subquery inside IN's left side */
                if (sx) {
                    pl_expr_release(x);
                    return sx;
                }
            }
            uint32_t allow = s->sc.allow;
            sq_defer *d = s->sc.defer;
            s->sc.allow = SQ_ALLOW_SUBQUERY;
            s->sc.defer = NULL;
            pl_status st = sq_sublink_now(&s->sc, s->defer.v[i], x, &s->defer_done[i], err);
            s->sc.allow = allow;
            s->sc.defer = d;
            PL_TRY(st);
        }
        pl_expr_release(e);
        *slot = pl_expr_retain(s->defer_done[i]);
        return PL_OK;
    }
    pl_expr *c = pl_expr_clone(e);
    if (!c) return NOMEM(err);
    pl_expr_release(e);
    *slot = c;
    for (int32_t i = 0; i < c->n_args; i++) PL_TRY(undefer(s, &c->args[i], err));
    PL_TRY(undefer(s, &c->filter, err));
    for (int32_t i = 0; i < c->n_order; i++) PL_TRY(undefer(s, &c->order[i].expr, err));
    for (int32_t i = 0; i < c->n_partition; i++) PL_TRY(undefer(s, &c->partition[i], err));
    return PL_OK;
}

/* undefer over every expression of the select list, ORDER BY, HAVING and QUALIFY. */
static pl_status undefer_all(sel_state *s, pl_error *err) {
    if (s->defer.n == 0) return PL_OK;
    for (int32_t i = 0; i < s->items.n; i++) PL_TRY(undefer(s, &s->items.v[i], err));
    for (int32_t i = 0; i < s->extras.n; i++) PL_TRY(undefer(s, &s->extras.v[i], err));
    PL_TRY(undefer(s, &s->having, err));
    return undefer(s, &s->qualify, err);
}

/* Whether st aggregates (GROUP BY, HAVING, or an aggregate call in its select list or ORDER BY):
 * then its subqueries there are planned after the aggregation. */
static bool select_aggregates(const PgQuery__SelectStmt *st) {
    if (st->n_group_clause > 0 || st->having_clause) return true;
    for (size_t i = 0; i < st->n_target_list; i++)
        if (sq_calls_agg((const ProtobufCMessage *)st->target_list[i])) return true;
    for (size_t i = 0; i < st->n_sort_clause; i++)
        if (sq_calls_agg((const ProtobufCMessage *)st->sort_clause[i])) return true;
    return false;
}

bool sq_select_scalar_agg(const PgQuery__SelectStmt *st) {
    return st->op == PG_QUERY__SET_OPERATION__SETOP_NONE && st->n_group_clause == 0 && st->n_values_lists == 0 &&
           select_aggregates(st);
}

/* Whether st has GROUP BY ALL. */
static bool group_by_all(const sel_state *s) {
    for (size_t i = 0; i < s->st->n_group_clause; i++) {
        const PgQuery__Node *g = s->st->group_clause[i];
        if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET &&
            g->grouping_set->kind == PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY &&
            sq_text_is_word_at(s->ctx->sql, g->grouping_set->location, "all"))
            return true;
    }
    return false;
}

static pl_status plan_select_list(sel_state *s, pl_error *err) {
    const PgQuery__SelectStmt *st = s->st;
    for (size_t i = 0; i < st->n_target_list; i++) {
        const PgQuery__Node *t = st->target_list[i];
        if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return pl_error_set(err, PL_ERR_SQL, "bad select list");
        const PgQuery__ResTarget *rt = t->res_target;
        /* a grouped query's subqueries see its groups (planned after aggregating), except in an
         * item that GROUP BY ALL makes a key */
        s->sc.defer = s->grouped && !(s->by_all && !sq_calls_agg((const ProtobufCMessage *)rt->val))
                          ? &s->defer
                          : NULL;
        if (is_star(rt->val)) {
            PL_TRY(expand_star(s, rt->val->column_ref, err));
            continue;
        }
        int32_t *pick = NULL, n_pick = 0;
        PL_TRY(columns_of(&s->sc, rt->val, rt->location, &pick, &n_pick, err));
        if (pick) {
            pl_status stc = expand_columns(s, rt, pick, n_pick, err);
            pl_free(pick);
            if (stc) return stc;
            continue;
        }
        pl_expr *e = NULL;
        s->sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY;
        s->sc.clause = "SELECT";
        /* an item may not refer to its own alias */
        for (int32_t a = 0; a < s->sc.n_aliases; a++)
            if (s->aliases[a].node == rt->val) s->aliases[a].busy = true;
        pl_status stt = sq_expr(&s->sc, rt->val, &e, err);
        for (int32_t a = 0; a < s->sc.n_aliases; a++) s->aliases[a].busy = false;
        if (stt) return stt;
        char *name = NULL;
        if (sq_nz(rt->name)) {
            name = pl_strdup(rt->name);
        } else if (rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF) {
            const PgQuery__ColumnRef *cr = rt->val->column_ref;
            name = pl_strdup(sq_str(cr->fields[cr->n_fields - 1]));
        } else {
            name = sq_expr_name(s->ctx->sql, rt->val);
        }
        if (!name) {
            pl_expr_release(e);
            return NOMEM(err);
        }
        pl_status ps = el_push(&s->items, e, name, rt->location, err);
        pl_free(name);
        PL_TRY(ps);
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- GROUP BY and grouping sets */

#define SQ_MAX_GROUPING_SETS 4096

typedef struct set_list {
    int32_t n, cap;
    uint64_t *v;
} set_list;

static pl_status sl_push(set_list *l, uint64_t m, int32_t pos, pl_error *err) {
    if (l->n >= SQ_MAX_GROUPING_SETS)
        return sq_fail(err, PL_ERR_LIMIT, pos, "more than %d grouping sets", SQ_MAX_GROUPING_SETS);
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 8;
        uint64_t *v = pl_realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return NOMEM(err);
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = m;
    return PL_OK;
}

/* The key index of one GROUP BY expression (an ordinal, an alias or an expression), added to
 * s->keys when new. */
static pl_status group_key(sel_state *s, const PgQuery__Node *g, int32_t *out, pl_error *err) {
    bool is_int;
    int64_t k;
    sq_int_const(g, &is_int, &k);
    pl_expr *e = NULL;
    int32_t pos = sq_node_pos(g);
    if (is_int) {
        if (k < 1 || k > s->items.n)
            return sq_fail(err, PL_ERR_SQL, pos, "GROUP BY position %lld is not in select list",
                           (long long)k);
        PL_TRY(undefer(s, &s->items.v[k - 1], err)); /* a subquery item as a key: planned now */
        e = s->items.v[k - 1];
        if (sq_has_kind(e, PL_EXPR_AGG) || has_grouping_fn(e))
            return sq_fail(err, PL_ERR_SQL, pos, "GROUP BY position %lld refers to an aggregate",
                           (long long)k);
        pl_expr_retain(e);
    } else {
        /* the alias of a select item holding a deferred subquery (not a column's name): that
         * item, planned now, is the key */
        const char *alias = g->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && g->column_ref->n_fields == 1
                                ? sq_str(g->column_ref->fields[0])
                                : NULL;
        for (int32_t k2 = 0; alias && !e && k2 < s->items.n; k2++)
            if (s->items.names[k2] && !strcasecmp(s->items.names[k2], alias) && has_deferred(s->items.v[k2]) &&
                sq_rel_find(&s->rel, NULL, alias) == -1) {
                PL_TRY(undefer(s, &s->items.v[k2], err));
                e = pl_expr_retain(s->items.v[k2]);
            }
        s->sc.allow = SQ_ALLOW_SUBQUERY;
        s->sc.clause = "GROUP BY";
        if (!e) PL_TRY(sq_expr(&s->sc, g, &e, err));
    }
    int32_t at = el_find(&s->keys, e);
    if (at >= 0) {
        pl_expr_release(e);
        *out = at;
        return PL_OK;
    }
    *out = s->keys.n;
    return el_push(&s->keys, e, NULL, pos, err);
}

static uint64_t key_bit(int32_t k) { return k >= 0 && k < 64 ? (uint64_t)1 << k : 0; }

/* A grouping element: an expression, or a parenthesised list of them (a RowExpr). */
static pl_status group_mask(sel_state *s, const PgQuery__Node *n, uint64_t *mask, int32_t *max_key,
                            pl_error *err) {
    if (n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        for (size_t i = 0; i < n->row_expr->n_args; i++)
            PL_TRY(group_mask(s, n->row_expr->args[i], mask, max_key, err));
        return PL_OK;
    }
    if (n->node_case == PG_QUERY__NODE__NODE_GROUPING_SET) {
        const PgQuery__GroupingSet *gs = n->grouping_set;
        if (gs->kind == PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY) return PL_OK;
        if (gs->kind != PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SIMPLE)
            return sq_fail(err, PL_ERR_SQL, gs->location, "nested ROLLUP, CUBE or GROUPING SETS are not allowed here");
        for (size_t i = 0; i < gs->n_content; i++) PL_TRY(group_mask(s, gs->content[i], mask, max_key, err));
        return PL_OK;
    }
    int32_t k = 0;
    PL_TRY(group_key(s, n, &k, err));
    *mask |= key_bit(k);
    if (k > *max_key) *max_key = k;
    return PL_OK;
}

/* The grouping sets of one GROUP BY item. */
static pl_status group_item_sets(sel_state *s, const PgQuery__Node *g, set_list *out, int32_t *max_key,
                                 pl_error *err) {
    if (g->node_case != PG_QUERY__NODE__NODE_GROUPING_SET) {
        uint64_t m = 0;
        PL_TRY(group_mask(s, g, &m, max_key, err));
        return sl_push(out, m, sq_node_pos(g), err);
    }
    const PgQuery__GroupingSet *gs = g->grouping_set;
    int32_t pos = gs->location;
    size_t n = gs->n_content;
    switch (gs->kind) {
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY:
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SIMPLE: {
        uint64_t m = 0;
        PL_TRY(group_mask(s, g, &m, max_key, err));
        return sl_push(out, m, pos, err);
    }
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_ROLLUP:
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_CUBE: {
        bool cube = gs->kind == PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_CUBE;
        if (cube && n > 12) return sq_fail(err, PL_ERR_LIMIT, pos, "CUBE takes at most 12 elements");
        uint64_t m[64];
        if (n > 64) return sq_fail(err, PL_ERR_LIMIT, pos, "ROLLUP takes at most 64 elements");
        for (size_t i = 0; i < n; i++) {
            m[i] = 0;
            PL_TRY(group_mask(s, gs->content[i], &m[i], max_key, err));
        }
        if (!cube) {
            for (size_t len = n + 1; len-- > 0;) {
                uint64_t x = 0;
                for (size_t i = 0; i < len; i++) x |= m[i];
                PL_TRY(sl_push(out, x, pos, err));
            }
            return PL_OK;
        }
        /* every subset, largest first (the element bits of the subset index reversed) */
        for (uint64_t sub = ((uint64_t)1 << n); sub-- > 0;) {
            uint64_t x = 0;
            for (size_t i = 0; i < n; i++)
                if (sub & ((uint64_t)1 << (n - 1 - i))) x |= m[i];
            PL_TRY(sl_push(out, x, pos, err));
        }
        return PL_OK;
    }
    case PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_SETS:
        for (size_t i = 0; i < n; i++) PL_TRY(group_item_sets(s, gs->content[i], out, max_key, err));
        return PL_OK;
    default:
        return sq_fail(err, PL_ERR_SQL, pos, "bad grouping set");
    }
}

static pl_status plan_group_by(sel_state *s, bool *grouped, pl_error *err) {
    const PgQuery__SelectStmt *st = s->st;
    *grouped = st->n_group_clause > 0;
    set_list total = {0}, item = {0}, next = {0};
    pl_status rc = sl_push(&total, 0, -1, err);
    bool any_set = false;
    int32_t max_key = -1, set_pos = -1;
    for (size_t i = 0; !rc && i < st->n_group_clause; i++) {
        const PgQuery__Node *g = st->group_clause[i];
        item.n = 0;
        if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET &&
            g->grouping_set->kind == PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY &&
            sq_text_is_word_at(s->ctx->sql, g->grouping_set->location, "all")) {
            /* GROUP BY ALL: every select item without an aggregate or window */
            uint64_t m = 0;
            for (int32_t k = 0; !rc && k < s->items.n; k++) {
                pl_expr *e = s->items.v[k];
                if (sq_has_kind(e, PL_EXPR_AGG) || sq_has_kind(e, PL_EXPR_WINDOW) || has_grouping_fn(e))
                    continue;
                int32_t at = el_find(&s->keys, e);
                if (at < 0) {
                    at = s->keys.n;
                    rc = el_push(&s->keys, pl_expr_retain(e), NULL, e->sql_pos, err);
                }
                m |= key_bit(at);
                if (at > max_key) max_key = at;
            }
            if (!rc) rc = sl_push(&item, m, -1, err);
        } else {
            if (g->node_case == PG_QUERY__NODE__NODE_GROUPING_SET &&
                g->grouping_set->kind != PG_QUERY__GROUPING_SET_KIND__GROUPING_SET_EMPTY) {
                any_set = true;
                if (set_pos < 0) set_pos = g->grouping_set->location;
            }
            rc = group_item_sets(s, g, &item, &max_key, err);
        }
        /* the sets so far times this item's sets */
        next.n = 0;
        for (int32_t a = 0; !rc && a < total.n; a++)
            for (int32_t b = 0; !rc && b < item.n; b++) rc = sl_push(&next, total.v[a] | item.v[b], set_pos, err);
        if (!rc) {
            set_list t = total;
            total = next;
            next = t;
        }
    }
    if (!rc && any_set) {
        if (max_key >= 64) {
            rc = sq_fail(err, PL_ERR_LIMIT, set_pos, "grouping sets over more than 64 expressions are not supported");
        } else {
            s->sets = total.v;
            s->n_sets = total.n;
            total.v = NULL;
        }
    }
    pl_free(total.v);
    pl_free(item.v);
    pl_free(next.v);
    return rc;
}

/* An ORDER BY / DISTINCT ON item: an ordinal, an output name, or an expression that equals a
 * select item or becomes a hidden extra column. *col: item index, or -2 - extra index. */
static pl_status output_ref(sel_state *s, const PgQuery__Node *nd, const char *clause, int32_t *col,
                            pl_error *err) {
    bool is_int;
    int64_t k;
    sq_int_const(nd, &is_int, &k);
    int32_t pos = sq_node_pos(nd);
    if (is_int) {
        if (k < 1 || k > s->items.n)
            return sq_fail(err, PL_ERR_SQL, pos, "%s position %lld is not in select list", clause,
                           (long long)k);
        *col = (int32_t)k - 1;
        return PL_OK;
    }
    if (nd->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && nd->column_ref->n_fields == 1 &&
        sq_str(nd->column_ref->fields[0])) {
        const char *name = sq_str(nd->column_ref->fields[0]);
        for (int32_t k2 = 0; k2 < s->items.n; k2++)
            if (s->items.names[k2] && strcasecmp(s->items.names[k2], name) == 0) {
                *col = k2;
                return PL_OK;
            }
    }
    s->sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY;
    s->sc.clause = clause;
    pl_expr *e = NULL;
    PL_TRY(sq_expr(&s->sc, nd, &e, err));
    int32_t k2 = el_find(&s->items, e);
    if (k2 >= 0) {
        pl_expr_release(e);
        *col = k2;
        return PL_OK;
    }
    int32_t k3 = el_find(&s->extras, e);
    if (k3 >= 0) {
        pl_expr_release(e);
    } else {
        char nm[32];
        snprintf(nm, sizeof nm, "__o%d", (int)s->extras.n);
        k3 = s->extras.n;
        PL_TRY(el_push(&s->extras, e, nm, pos, err));
    }
    *col = -2 - k3;
    return PL_OK;
}

/* ORDER BY ALL (rewritten to ORDER BY 1 before parsing, "all" in the original text). */
static bool sort_is_all(const char *sql, const PgQuery__SortBy *sb) {
    bool is_int;
    int64_t k;
    sq_int_const(sb->node, &is_int, &k);
    return is_int && k == 1 && sq_text_is_word_at(sql, sq_node_pos(sb->node), "all");
}

static pl_status plan_order_by(sel_state *s, const PgQuery__SelectStmt *st, pl_error *err) {
    int32_t n = (int32_t)st->n_sort_clause;
    if (n == 0) return PL_OK;
    if (n == 1 && sort_is_all(s->ctx->sql, st->sort_clause[0]->sort_by)) {
        /* ORDER BY ALL: every output column, left to right, in the one direction */
        int32_t m = s->items.n;
        s->sort = pl_calloc((size_t)PL_MAX(m, 1), sizeof *s->sort);
        s->sort_col = pl_calloc((size_t)PL_MAX(m, 1), sizeof *s->sort_col);
        if (!s->sort || !s->sort_col) return NOMEM(err);
        for (int32_t i = 0; i < m; i++) {
            sq_sortby_dir(st->sort_clause[0]->sort_by, &s->sort[i].descending, &s->sort[i].nulls_first);
            s->sort_col[i] = i;
        }
        s->n_sort = m;
        return PL_OK;
    }
    s->sort = pl_calloc((size_t)n, sizeof *s->sort);
    s->sort_col = pl_calloc((size_t)n, sizeof *s->sort_col);
    if (!s->sort || !s->sort_col) return NOMEM(err);
    int32_t cap = n;
    for (int32_t i = 0; i < n; i++) {
        const PgQuery__SortBy *sb = st->sort_clause[i]->sort_by;
        /* an item with COLUMNS(...) is a key per selected column (of the FROM relation) */
        int32_t *pick = NULL, n_pick = 1;
        s->sc.clause = "ORDER BY";
        PL_TRY(columns_of(&s->sc, sb->node, sq_node_pos(sb->node), &pick, &n_pick, err));
        if (!pick) n_pick = 1;
        pl_status rc = PL_OK;
        if (s->n_sort + n_pick > cap) {
            int32_t ncap = s->n_sort + n_pick + (n - i);
            pl_sort_key *ns = pl_realloc(s->sort, (size_t)ncap * sizeof *ns);
            if (ns) s->sort = ns;
            int32_t *nc = ns ? pl_realloc(s->sort_col, (size_t)ncap * sizeof *nc) : NULL;
            if (nc) s->sort_col = nc;
            if (!nc) rc = NOMEM(err);
            else cap = ncap;
        }
        for (int32_t k = 0; !rc && k < n_pick; k++) {
            int32_t at = s->n_sort;
            memset(&s->sort[at], 0, sizeof s->sort[at]);
            sq_sortby_dir(sb, &s->sort[at].descending, &s->sort[at].nulls_first);
            s->n_sort = at + 1;
            s->sc.columns_pick = pick ? pick[k] + 1 : 0;
            rc = output_ref(s, sb->node, "ORDER BY", &s->sort_col[at], err);
            s->sc.columns_pick = 0;
        }
        pl_free(pick);
        PL_TRY(rc);
    }
    return PL_OK;
}

static pl_status plan_where(sel_state *s, pl_error *err) {
    const PgQuery__SelectStmt *st = s->st;
    if (!st->where_clause) return PL_OK;
    const PgQuery__Node **conj;
    int32_t n_conj;
    PL_TRY(sq_conjuncts(st->where_clause, &conj, &n_conj, err));
    pl_status rc = PL_OK;
    pl_expr *filter = NULL;
    for (int32_t i = 0; !rc && i < n_conj; i++) {
        bool done = false;
        s->sc.allow = SQ_ALLOW_SUBQUERY;
        s->sc.clause = "WHERE";
        /* a conjunct with COLUMNS(...) is an expression (the AND of its expansions) */
        columns_find cf = {NULL, false, NULL};
        find_columns_call((ProtobufCMessage *)(uintptr_t)&conj[i]->base, &cf);
        if (!cf.first) rc = sq_where_sublink(&s->sc, conj[i], &done, err);
        if (rc || done) continue;
        pl_expr *e = NULL;
        rc = sq_expr_columns_and(&s->sc, conj[i], &e, err);
        if (rc) break;
        if (sq_has_ref(e, 1)) {
            sq_corr *c = s->o ? s->o->corr : NULL;
            if (!c) {
                pl_expr_release(e);
                rc = sq_fail(err, PL_ERR_UNSUPPORTED, e->sql_pos, "unsupported correlated subquery");
                break;
            }
            /* inner_expr = outer_expr becomes a join key; anything else a residual */
            bool key = false;
            bool ne = e->kind == PL_EXPR_CALL && !strcmp(e->name, "is_not_distinct_from") &&
                      e->n_args == 2 && c->allow_ne;
            if (e->kind == PL_EXPR_CALL && (ne || !strcmp(e->name, "eq")) && e->n_args == 2) {
                pl_expr *a = e->args[0], *b = e->args[1];
                bool a_in = sq_has_ref(a, 0), a_out = sq_has_ref(a, 1);
                bool b_in = sq_has_ref(b, 0), b_out = sq_has_ref(b, 1);
                pl_expr *inner = NULL, *outer = NULL;
                if (a_in && !a_out && b_out && !b_in) {
                    inner = a;
                    outer = b;
                } else if (b_in && !b_out && a_out && !a_in) {
                    inner = b;
                    outer = a;
                }
                if (inner) {
                    key = true;
                    if (c->n_keys == c->cap_keys) {
                        int32_t cap = c->cap_keys ? c->cap_keys * 2 : 4;
                        pl_expr **ni = pl_realloc(c->inner, (size_t)cap * sizeof *ni);
                        if (ni) c->inner = ni;
                        pl_expr **no = ni ? pl_realloc(c->outer, (size_t)cap * sizeof *no) : NULL;
                        if (no) c->outer = no;
                        bool *nn = no ? pl_realloc(c->ne, (size_t)cap * sizeof *nn) : NULL;
                        if (nn) c->ne = nn;
                        if (!nn) {
                            pl_expr_release(e);
                            rc = NOMEM(err);
                            break;
                        }
                        c->cap_keys = cap;
                    }
                    /* outer refs back to plain indices into the outer relation */
                    pl_expr *oc = pl_expr_clone(outer);
                    if (!oc) {
                        pl_expr_release(e);
                        rc = NOMEM(err);
                        break;
                    }
                    pl_expr *fix = sq_shift(oc, INT32_MIN, 0);
                    pl_expr_release(oc);
                    /* convert SQ_OUTER_BASE - i to i */
                    if (fix) {
                        pl_expr *stack[64];
                        int sp = 0;
                        stack[sp++] = fix;
                        while (sp > 0) {
                            pl_expr *x = stack[--sp];
                            if (x->kind == PL_EXPR_COLUMN && x->index <= SQ_OUTER_BASE)
                                x->index = SQ_OUTER_BASE - x->index;
                            for (int32_t a2 = 0; a2 < x->n_args && sp < 64; a2++) stack[sp++] = x->args[a2];
                        }
                    }
                    c->inner[c->n_keys] = pl_expr_retain(inner);
                    c->outer[c->n_keys] = fix;
                    c->ne[c->n_keys] = ne;
                    c->n_keys++;
                    if (c->pos < 0) c->pos = e->sql_pos;
                }
            }
            if (!key) {
                if (c->n_resid == c->cap_resid) {
                    int32_t cap = c->cap_resid ? c->cap_resid * 2 : 4;
                    pl_expr **nr = pl_realloc(c->resid, (size_t)cap * sizeof *nr);
                    if (!nr) {
                        pl_expr_release(e);
                        rc = NOMEM(err);
                        break;
                    }
                    c->resid = nr;
                    c->cap_resid = cap;
                }
                c->resid[c->n_resid++] = pl_expr_retain(e);
                if (c->pos < 0) c->pos = e->sql_pos;
            }
            pl_expr_release(e);
            continue;
        }
        if (!filter) {
            filter = e;
        } else {
            filter = pl_expr_call2("and", filter, e);
            if (!filter) rc = NOMEM(err);
        }
    }
    pl_free(conj);
    if (!rc && filter) rc = sq_rel_filter(&s->rel, filter, err);
    pl_expr_release(filter);
    if (!rc && s->o && s->o->empty_input) {
        pl_expr *none = pl_expr_lit_bool(false);
        rc = none ? sq_rel_filter(&s->rel, none, err) : NOMEM(err);
        pl_expr_release(none);
    }
    return rc;
}

/* GROUPING SETS / ROLLUP / CUBE (and grouping() calls): one aggregation per grouping set,
 * with the keys outside the set as NULLs and grouping(...) as that set's bit mask of its
 * arguments (1 = not grouped, first argument highest), concatenated. fk: the finalised keys
 * then aggregates (grouping() entries unused), names their output names. The result has the
 * layout of a plain aggregation (keys, then aggregates). */
static pl_status aggregate_sets(sel_state *s, int32_t nk, int32_t na, pl_expr **fk, char **names,
                                pl_df **out, pl_error *err) {
    uint64_t all = 0;
    if (nk > 64) return sq_fail(err, PL_ERR_LIMIT, s->keys.pos[0], "GROUPING with more than 64 group keys is not supported");
    for (int32_t k = 0; k < nk; k++) all |= key_bit(k);
    int32_t n_sets = s->n_sets > 0 ? s->n_sets : 1;
    const uint64_t *sets = s->n_sets > 0 ? s->sets : &all;
    /* each grouping() argument's key index */
    for (int32_t j = 0; j < na; j++) {
        const pl_expr *g = s->aggs.v[j];
        if (!is_grouping_fn(g)) continue;
        for (int32_t i = 0; i < g->n_args; i++)
            if (el_find(&s->keys, g->args[i]) < 0)
                return sq_fail(err, PL_ERR_SQL, g->args[i]->sql_pos >= 0 ? g->args[i]->sql_pos : g->sql_pos,
                               "arguments of GROUPING must be GROUP BY expressions");
    }
    /* the key types (NULLs of them stand for keys outside a set) */
    pl_df *kdf = NULL;
    PL_TRY(pl_df_select(s->rel.df, nk, fk, (const char *const *)names, &kdf, err));
    pl_schema *ks = pl_df_schema(kdf);
    int32_t cap = nk + na + 1;
    pl_expr **bk = pl_calloc((size_t)cap, sizeof *bk);
    const char **bn = pl_calloc((size_t)cap, sizeof *bn);
    pl_expr **ra = pl_calloc((size_t)cap, sizeof *ra);
    const char **rn = pl_calloc((size_t)cap, sizeof *rn);
    pl_expr **sel = pl_calloc((size_t)cap, sizeof *sel);
    pl_status rc = bk && bn && ra && rn && sel ? PL_OK : NOMEM(err);
    int32_t nra = 0;
    for (int32_t j = 0; !rc && j < na; j++)
        if (!is_grouping_fn(s->aggs.v[j])) {
            ra[nra] = fk[nk + j];
            rn[nra++] = names[nk + j];
        }
    pl_df *acc = NULL;
    for (int32_t si = 0; !rc && si < n_sets; si++) {
        uint64_t m = sets[si];
        int32_t nbk = 0;
        for (int32_t k = 0; k < nk; k++)
            if (m & key_bit(k)) {
                bk[nbk] = fk[k];
                bn[nbk++] = names[k];
            }
        pl_df *b = NULL, *p = NULL;
        rc = pl_df_aggregate(s->rel.df, nbk, bk, bn, nra, ra, rn, &b, err);
        int32_t ns = 0;
        for (int32_t k = 0; !rc && k < nk; k++, ns++) {
            if (m & key_bit(k)) {
                sel[ns] = pl_expr_col(names[k]);
            } else {
                pl_type *t = ks->fields[k].type;
                if (t->id == PL_TYPE_DICTIONARY) t = t->value_type;
                sel[ns] = pl_expr_cast(pl_expr_lit_null(), pl_type_retain(t), false);
            }
            if (!sel[ns]) rc = NOMEM(err);
        }
        for (int32_t j = 0; !rc && j < na; j++, ns++) {
            const pl_expr *g = s->aggs.v[j];
            if (is_grouping_fn(g)) {
                int64_t v = 0;
                for (int32_t i = 0; i < g->n_args; i++)
                    v = (v << 1) | ((m & key_bit(el_find(&s->keys, g->args[i]))) ? 0 : 1);
                sel[ns] = pl_expr_lit_i64(v);
            } else {
                sel[ns] = pl_expr_col(names[nk + j]);
            }
            if (!sel[ns]) rc = NOMEM(err);
        }
        if (!rc) rc = pl_df_select(b, nk + na, sel, (const char *const *)names, &p, err);
        for (int32_t i = 0; i < ns; i++) pl_expr_release(sel[i]);
        if (b) pl_df_release(b);
        if (!rc && acc) {
            pl_df *u = NULL;
            rc = pl_df_union(acc, p, true, &u, err);
            pl_df_release(acc);
            pl_df_release(p);
            acc = rc ? NULL : u;
        } else if (!rc) {
            acc = p;
        }
    }
    pl_df_release(kdf);
    pl_free(bk);
    pl_free(bn);
    pl_free(ra);
    pl_free(rn);
    pl_free(sel);
    if (rc) {
        if (acc) pl_df_release(acc);
        return rc;
    }
    *out = acc;
    return PL_OK;
}

/* ---------------------------------------------------------------- flattened correlated subqueries */

/* D: the distinct values of the outer columns f->cols, under unique hidden names. */
static pl_status flat_values(sq_ctx *ctx, const sq_rel *outer, const sq_flat *f, pl_df **out,
                             pl_error *err) {
    int32_t n = f->n_d, id = ctx->next_id++;
    pl_expr **ex = pl_calloc((size_t)n, sizeof *ex);
    char **names = pl_calloc((size_t)n, sizeof *names);
    char *buf = pl_malloc((size_t)n * 32);
    pl_status rc = ex && names && buf ? PL_OK : NOMEM(err);
    for (int32_t j = 0; !rc && j < n; j++) {
        names[j] = buf + (size_t)j * 32;
        snprintf(names[j], 32, "__s%d_%d", (int)id, (int)j);
        if (!(ex[j] = pl_expr_col_index(f->cols[j], sq_rel_name(outer, f->cols[j])))) rc = NOMEM(err);
    }
    pl_df *sel = NULL, *dist = NULL;
    if (!rc) rc = pl_df_select(outer->df, n, ex, (const char *const *)names, &sel, err);
    if (!rc) rc = pl_df_distinct(sel, &dist, err);
    if (!rc) {
        char al[32];
        snprintf(al, sizeof al, "__s%d", (int)id);
        rc = pl_df_alias(dist, al, out, err);
    }
    for (int32_t j = 0; ex && j < n; j++) pl_expr_release(ex[j]);
    pl_free(ex);
    pl_free(names);
    pl_free(buf);
    if (sel) pl_df_release(sel);
    if (dist) pl_df_release(dist);
    return rc;
}

/* After FROM: D cross-joined onto the relation (hidden), each used outer column mapped to its
 * column of D; *base: D's first column. */
static pl_status flat_begin(sel_state *s, int32_t *base, pl_error *err) {
    sq_flat *f = s->o->flat;
    const sq_rel *outer = s->o->outer->rel;
    if (f->n_outer != outer->n_cols)
        return pl_error_set(err, PL_ERR_INTERNAL, "flattened subquery: the outer relation changed");
    f->n_d = 0;
    for (int32_t i = 0; i < f->n_outer; i++) {
        f->map[i] = -1;
        if (f->used[i]) f->cols[f->n_d++] = i;
    }
    pl_df *d = NULL, *j = NULL;
    PL_TRY(flat_values(s->ctx, outer, f, &d, err));
    pl_status rc = pl_df_join(s->rel.df, d, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &j, err);
    pl_df_release(d);
    if (rc) return rc;
    *base = s->rel.n_cols;
    PL_TRY(sq_rel_extend(&s->rel, j, true, false, err));
    for (int32_t k = 0; k < f->n_d; k++) f->map[f->cols[k]] = *base + k;
    /* rows of derived tables planned over D keep their D value (correlated_derived) */
    pl_expr *pred = NULL;
    for (int32_t g = 0; g < s->fc.n; g++)
        for (int32_t k = 0; k < f->n_d; k++) {
            char nm[32];
            snprintf(nm, sizeof nm, "__fc%d_%d", (int)s->fc.ids[g], (int)k);
            int32_t col = -1;
            for (int32_t i = 0; i < s->rel.n_cols && col < 0; i++)
                if (!strcmp(sq_rel_name(&s->rel, i), nm)) col = i;
            if (col < 0) {
                pl_expr_release(pred);
                return pl_error_set(err, PL_ERR_INTERNAL, "key \"%s\" of a correlated derived table not found", nm);
            }
            pl_expr *eq = pl_expr_call2("is_not_distinct_from", sq_colref(&s->rel, col, -1),
                                        sq_colref(&s->rel, *base + k, -1));
            pred = pred ? pl_expr_call2("and", pred, eq) : eq;
            if (!pred) return NOMEM(err);
        }
    if (pred) {
        pl_status rc2 = sq_rel_filter(&s->rel, pred, err);
        pl_expr_release(pred);
        if (rc2) return rc2;
    }
    return PL_OK;
}

/* After WHERE: for an aggregate without GROUP BY, the rows get a marker column and D is right
 * joined again (NULL matching NULL), so every D row has rows (only its marker tells whether any
 * matched: the aggregates are filtered by it); then D's columns become the correlation keys
 * (IS NOT DISTINCT FROM the outer columns). */
static pl_status flat_keys(sel_state *s, int32_t base, pl_error *err) {
    sq_flat *f = s->o->flat;
    sq_corr *c = s->o->corr;
    const sq_rel *outer = s->o->outer->rel;
    int32_t n = f->n_d;
    pl_status rc = PL_OK;
    if (f->agg && !s->o->exists_mode) {
        pl_expr *t = pl_expr_lit_bool(true);
        const char *mn = "__fm";
        pl_df *m = NULL, *d = NULL;
        rc = t ? pl_df_with_columns(s->rel.df, 1, &t, &mn, &m, err) : NOMEM(err);
        pl_expr_release(t);
        if (!rc) rc = sq_rel_extend(&s->rel, m, true, false, err);
        if (rc) return rc;
        s->flat_marker = s->rel.n_cols - 1;
        PL_TRY(flat_values(s->ctx, outer, f, &d, err));
        pl_expr **lk = pl_calloc((size_t)n, sizeof *lk), **rk = pl_calloc((size_t)n, sizeof *rk);
        if (!lk || !rk) rc = NOMEM(err);
        for (int32_t j = 0; !rc && j < n; j++) {
            lk[j] = sq_colref(&s->rel, base + j, -1);
            rk[j] = pl_expr_col_index(j, pl_df_schema(d)->fields[j].name);
            if (!lk[j] || !rk[j]) rc = NOMEM(err);
        }
        int32_t base2 = s->rel.n_cols;
        if (!rc) {
            rc = sq_join_append(&s->rel, d, PL_JOIN_RIGHT, n, lk, rk, NULL, true, NULL, -1, err);
            d = NULL;
        }
        for (int32_t j = 0; j < n; j++) {
            if (lk) pl_expr_release(lk[j]);
            if (rk) pl_expr_release(rk[j]);
        }
        pl_free(lk);
        pl_free(rk);
        if (d) pl_df_release(d);
        if (rc) return rc;
        for (int32_t i = base2; i < s->rel.n_cols; i++) s->rel.hidden[i] = true;
        for (int32_t j = 0; j < n; j++) f->map[f->cols[j]] = base2 + j;
        base = base2;
    }
    pl_expr **in = pl_realloc(c->inner, (size_t)(n ? n : 1) * sizeof *in);
    if (in) c->inner = in;
    pl_expr **ou = in ? pl_realloc(c->outer, (size_t)(n ? n : 1) * sizeof *ou) : NULL;
    if (ou) c->outer = ou;
    bool *ne = ou ? pl_realloc(c->ne, (size_t)(n ? n : 1) * sizeof *ne) : NULL;
    if (ne) c->ne = ne;
    if (!ne) return NOMEM(err);
    c->cap_keys = n ? n : 1;
    for (int32_t j = 0; j < n; j++) {
        c->inner[j] = sq_colref(&s->rel, base + j, -1);
        c->outer[j] = pl_expr_col_index(f->cols[j], sq_rel_name(outer, f->cols[j]));
        c->ne[j] = true;
        c->n_keys = j + 1;
        if (!c->inner[j] || !c->outer[j]) return NOMEM(err);
    }
    return PL_OK;
}

/* A finalised aggregate of a flattened aggregate subquery restricted to the matched rows
 * (FILTER (WHERE marker IS NOT NULL)); *a replaced. */
static pl_status flat_filter_agg(sel_state *s, pl_expr **a, pl_error *err) {
    if ((*a)->kind != PL_EXPR_AGG) return PL_OK;
    pl_expr *m = pl_expr_call1("is_not_null", sq_colref(&s->rel, s->flat_marker, -1)), *fm = NULL;
    if (!m) return NOMEM(err);
    pl_status rc = sq_finalize(m, s->rel.df, NULL, &fm, err);
    pl_expr_release(m);
    if (rc) return rc;
    pl_expr *c = pl_expr_clone(*a);
    if (c && c->filter) fm = pl_expr_call2("and", c->filter, fm);
    if (!c || !fm) {
        pl_expr_release(c);
        pl_expr_release(fm);
        return NOMEM(err);
    }
    c->filter = fm;
    pl_expr_release(*a);
    *a = c;
    return PL_OK;
}

static pl_status select_core_once(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o,
                                  sq_post *agg_post, pl_df **out, pl_error *err) {
    sel_state s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.st = st;
    s.o = o;
    s.post = agg_post;
    s.grouped = select_aggregates(st);
    s.by_all = s.grouped && group_by_all(&s);
    pl_status rc;
    sq_scope *outer = o ? o->outer : NULL;
    if (st->n_from_clause == 0) {
        pl_df *dual = NULL;
        PL_TRY(sq_dual(&dual, err));
        PL_TRY(sq_rel_init(&s.rel, dual, err));
        s.rel.hidden[0] = true;
    } else {
        int32_t dummy;
        sq_from_corr *saved = ctx->from_corr;
        s.fc.flat = o && o->outer && o->flat && !o->empty_input ? o->flat : NULL;
        ctx->from_corr = s.fc.flat ? &s.fc : NULL;
        rc = sq_plan_from(ctx, outer, st->from_clause, st->n_from_clause, &s.rel, &dummy, err);
        ctx->from_corr = saved;
        if (rc) {
            pl_free(s.fc.ids);
            return rc;
        }
    }
    s.sc.ctx = ctx;
    s.sc.rel = &s.rel;
    s.sc.outer = outer;
    s.sc.sel = st;
    s.flat_marker = -1;
    bool flat = o && o->outer && o->corr && o->flat && o->flat->apply && !o->empty_input;
    int32_t flat_base = -1;
    if (o && o->outer && o->flat && !o->empty_input) s.sc.flat = o->flat;
    if (flat) {
        rc = flat_begin(&s, &flat_base, err);
        if (rc) goto fail;
    }
    /* select-list aliases */
    if (st->n_target_list) {
        s.aliases = pl_calloc(st->n_target_list, sizeof *s.aliases);
        if (!s.aliases) {
            sel_reset(&s);
            return NOMEM(err);
        }
        for (size_t i = 0; i < st->n_target_list; i++) {
            const PgQuery__Node *t = st->target_list[i];
            if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET && sq_nz(t->res_target->name)) {
                s.aliases[s.sc.n_aliases].name = t->res_target->name;
                s.aliases[s.sc.n_aliases].node = t->res_target->val;
                s.sc.n_aliases++;
            }
        }
        s.sc.aliases = s.aliases;
    }

    rc = plan_where(&s, err);
    if (!rc && flat) rc = flat_keys(&s, flat_base, err);
    if (rc) goto fail;
    if (o && o->exists_mode) {
        *out = pl_df_retain(s.rel.df);
        sel_reset(&s);
        return PL_OK;
    }
    rc = plan_select_list(&s, err);
    s.sc.defer = NULL;
    if (rc) goto fail;
    bool grouped;
    rc = plan_group_by(&s, &grouped, err);
    if (rc) goto fail;
    s.sc.defer = s.grouped ? &s.defer : NULL; /* HAVING, QUALIFY, ORDER BY, DISTINCT ON */
    if (st->having_clause) {
        s.sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_SUBQUERY;
        s.sc.clause = "HAVING";
        rc = sq_expr(&s.sc, st->having_clause, &s.having, err);
        if (rc) goto fail;
    }
    {
        const PgQuery__Node *qn = NULL;
        rc = sq_qualify_parse(ctx->sql, st, &s.qualify_tree, &qn, err);
        if (rc) goto fail;
        if (qn) {
            s.sc.allow = SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY;
            s.sc.clause = "QUALIFY";
            s.qualify_pos = sq_node_pos(qn);
            rc = sq_expr(&s.sc, qn, &s.qualify, err);
            if (rc) goto fail;
            bool any_window = sq_has_kind(s.qualify, PL_EXPR_WINDOW);
            for (int32_t i = 0; !any_window && i < s.items.n; i++)
                any_window = sq_has_kind(s.items.v[i], PL_EXPR_WINDOW);
            if (!any_window) {
                rc = sq_fail(err, PL_ERR_SQL, s.qualify_pos,
                             "at least one window function must appear in the SELECT list or the QUALIFY clause");
                goto fail;
            }
        }
    }
    rc = plan_order_by(&s, st, err);
    if (rc) goto fail;
    bool distinct_on = st->n_distinct_clause > 0 &&
                       !(st->n_distinct_clause == 1 &&
                         (!st->distinct_clause[0] ||
                          st->distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET));
    if (distinct_on) {
        s.don_col = pl_calloc(st->n_distinct_clause, sizeof *s.don_col);
        if (!s.don_col) {
            rc = NOMEM(err);
            goto fail;
        }
        for (size_t i = 0; !rc && i < st->n_distinct_clause; i++) {
            rc = output_ref(&s, st->distinct_clause[i], "DISTINCT ON", &s.don_col[i], err);
            s.n_don = (int32_t)i + 1;
        }
        if (rc) goto fail;
    }

    s.sc.defer = NULL;
    sq_corr *corr = o && !o->empty_input ? o->corr : NULL;
    int32_t n_ck = corr ? corr->n_keys : 0;
    bool has_agg = grouped || s.having;
    for (int32_t i = 0; !has_agg && i < s.items.n; i++) has_agg = sq_has_kind(s.items.v[i], PL_EXPR_AGG);
    for (int32_t i = 0; !has_agg && i < s.extras.n; i++) has_agg = sq_has_kind(s.extras.v[i], PL_EXPR_AGG);
    if (!has_agg && s.qualify) has_agg = sq_has_kind(s.qualify, PL_EXPR_AGG);
    for (int32_t i = 0; !has_agg && i < s.items.n; i++) has_agg = has_grouping_fn(s.items.v[i]);
    for (int32_t i = 0; !has_agg && i < s.extras.n; i++) has_agg = has_grouping_fn(s.extras.v[i]);
    if (o) o->scalar_agg = has_agg && st->n_group_clause == 0;

    /* correlation keys: grouped by when aggregating, projected first */
    elist proj = {0};
    if (has_agg && n_ck > 0) {
        elist k2 = {0};
        for (int32_t i = 0; !rc && i < n_ck; i++)
            if (el_find(&k2, corr->inner[i]) < 0)
                rc = el_push(&k2, pl_expr_retain(corr->inner[i]), NULL, corr->pos, err);
        for (int32_t i = 0; !rc && i < s.keys.n; i++)
            if (el_find(&k2, s.keys.v[i]) < 0)
                rc = el_push(&k2, pl_expr_retain(s.keys.v[i]), NULL, s.keys.pos[i], err);
        el_reset(&s.keys);
        s.keys = k2;
        if (rc) goto fail;
    }

    if (has_agg) {
        agg_state as = {&s.rel, &s.keys, &s.aggs, NULL};
        /* aggregates that subqueries of an earlier attempt used (sq_post) */
        for (int32_t i = 0; !rc && i < agg_post->n_missing; i++)
            if (el_find(&s.aggs, agg_post->missing[i]) < 0)
                rc = el_push(&s.aggs, pl_expr_retain(agg_post->missing[i]), NULL, agg_post->missing[i]->sql_pos,
                             err);
        for (int32_t i = 0; !rc && i < s.items.n; i++) rc = collect_aggs(&as, s.items.v[i], err);
        for (int32_t i = 0; !rc && i < s.extras.n; i++) rc = collect_aggs(&as, s.extras.v[i], err);
        if (!rc && s.having) rc = collect_aggs(&as, s.having, err);
        if (!rc && s.qualify) rc = collect_aggs(&as, s.qualify, err);
        if (rc) goto fail;
        int32_t nk = s.keys.n, na = s.aggs.n;
        pl_expr **fk = pl_calloc((size_t)(nk + na + 1), sizeof *fk);
        char **names = pl_calloc((size_t)(nk + na + 1), sizeof *names);
        char *namebuf = pl_malloc((size_t)(nk + na + 1) * 16);
        if (!fk || !names || !namebuf) {
            pl_free(fk);
            pl_free(names);
            pl_free(namebuf);
            rc = NOMEM(err);
            goto fail;
        }
        int32_t done = 0;
        for (; done < nk + na; done++) {
            pl_expr *src = done < nk ? s.keys.v[done] : s.aggs.v[done - nk];
            rc = sq_finalize(src, s.rel.df, NULL, &fk[done], err);
            if (!rc && done >= nk && s.flat_marker >= 0) {
                rc = flat_filter_agg(&s, &fk[done], err);
                if (rc) done++; /* fk[done] is still set */
            }
            if (rc) break;
            names[done] = namebuf + (size_t)done * 16;
            snprintf(names[done], 16, done < nk ? "__g%d" : "__a%d", (int)(done < nk ? done : done - nk));
        }
        pl_df *agg_df = NULL;
        if (!rc) {
            bool sets = s.n_sets > 0;
            for (int32_t j = 0; !sets && j < na; j++) sets = is_grouping_fn(s.aggs.v[j]);
            if (sets)
                rc = aggregate_sets(&s, nk, na, fk, names, &agg_df, err);
            else
                rc = pl_df_aggregate(s.rel.df, nk, fk, (const char *const *)names, na, fk + nk,
                                     (const char *const *)(names + nk), &agg_df, err);
            if (rc) {
                int32_t pos = na ? s.aggs.pos[0] : (nk ? s.keys.pos[0] : -1);
                sq_at(err, rc, pos);
            }
        }
        for (int32_t i = 0; i < done; i++) pl_expr_release(fk[i]);
        pl_free(fk);
        pl_free(names);
        pl_free(namebuf);
        if (rc) goto fail;
        sq_rel post;
        rc = sq_rel_init(&post, agg_df, err);
        if (rc) goto fail;
        as.out = &post;
        for (int32_t i = 0; !rc && i < s.items.n; i++) {
            pl_expr *n = NULL;
            rc = rewrite_agg(&as, s.items.v[i], &n, err);
            if (!rc) {
                pl_expr_release(s.items.v[i]);
                s.items.v[i] = n;
            }
        }
        for (int32_t i = 0; !rc && i < s.extras.n; i++) {
            pl_expr *n = NULL;
            rc = rewrite_agg(&as, s.extras.v[i], &n, err);
            if (!rc) {
                pl_expr_release(s.extras.v[i]);
                s.extras.v[i] = n;
            }
        }
        if (!rc && s.having) {
            pl_expr *n = NULL;
            rc = rewrite_agg(&as, s.having, &n, err);
            if (!rc) {
                pl_expr_release(s.having);
                s.having = n;
            }
        }
        if (!rc && s.qualify) {
            pl_expr *n = NULL;
            rc = rewrite_agg(&as, s.qualify, &n, err);
            if (!rc) {
                pl_expr_release(s.qualify);
                s.qualify = n;
            }
        }
        /* correlation keys are the first group keys */
        for (int32_t i = 0; !rc && i < n_ck; i++) {
            int32_t k = el_find(&s.keys, corr->inner[i]);
            char nm[32];
            snprintf(nm, sizeof nm, "__ck%d", (int)i);
            rc = el_push(&proj, sq_colref(&post, k, corr->pos), nm, corr->pos, err);
        }
        s.pre = s.rel;
        s.rel = post;
        if (rc) goto fail_proj;
        /* the subqueries deferred until now see the groups */
        agg_post->pre = &s.pre;
        agg_post->keys = s.keys.v;
        agg_post->n_keys = s.keys.n;
        agg_post->aggs = s.aggs.v;
        agg_post->n_aggs = s.aggs.n;
        s.sc.post = agg_post;
        rc = undefer_all(&s, err);
        s.sc.post = NULL;
        if (rc) goto fail_proj;
        if (s.having) {
            rc = sq_rel_filter(&s.rel, s.having, err);
            if (rc) goto fail_proj;
        }
    } else {
        rc = undefer_all(&s, err);
        for (int32_t i = 0; !rc && i < n_ck; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "__ck%d", (int)i);
            rc = el_push(&proj, pl_expr_retain(corr->inner[i]), nm, corr->pos, err);
        }
        if (rc) goto fail_proj;
    }

    /* windows */
    bool any_window = false;
    {
        elist wins = {0};
        for (int32_t i = 0; !rc && i < s.items.n; i++) rc = collect_matching(&wins, s.items.v[i], is_window, err);
        for (int32_t i = 0; !rc && i < s.extras.n; i++) rc = collect_matching(&wins, s.extras.v[i], is_window, err);
        if (!rc && s.qualify) rc = collect_matching(&wins, s.qualify, is_window, err);
        if (!rc && wins.n > 0) {
            pl_expr **fw = pl_calloc((size_t)wins.n, sizeof *fw);
            char **names = pl_calloc((size_t)wins.n, sizeof *names);
            char *namebuf = pl_malloc((size_t)wins.n * 16);
            int32_t done = 0;
            if (!fw || !names || !namebuf) rc = NOMEM(err);
            for (; !rc && done < wins.n; done++) {
                pl_expr *wk = window_by_keys(wins.v[done], proj.v, n_ck);
                rc = wk ? sq_finalize(wk, s.rel.df, NULL, &fw[done], err) : NOMEM(err);
                pl_expr_release(wk);
                if (rc) break;
                names[done] = namebuf + (size_t)done * 16;
                snprintf(names[done], 16, "__w%d", (int)done);
            }
            pl_df *wdf = NULL;
            if (!rc) {
                rc = pl_df_window(s.rel.df, wins.n, fw, (const char *const *)names, &wdf, err);
                if (rc) sq_at(err, rc, wins.pos[0]);
            }
            for (int32_t i = 0; i < done; i++) pl_expr_release(fw[i]);
            pl_free(fw);
            pl_free(names);
            pl_free(namebuf);
            int32_t base = s.rel.n_cols;
            if (!rc) rc = sq_rel_extend(&s.rel, wdf, true, false, err);
            for (int32_t i = 0; !rc && i < s.items.n; i++) {
                pl_expr *n = NULL;
                rc = rewrite_matching(&wins, is_window, &s.rel, base, s.items.v[i], &n, err);
                if (!rc) {
                    pl_expr_release(s.items.v[i]);
                    s.items.v[i] = n;
                }
            }
            for (int32_t i = 0; !rc && i < s.extras.n; i++) {
                pl_expr *n = NULL;
                rc = rewrite_matching(&wins, is_window, &s.rel, base, s.extras.v[i], &n, err);
                if (!rc) {
                    pl_expr_release(s.extras.v[i]);
                    s.extras.v[i] = n;
                }
            }
            if (!rc && s.qualify) {
                pl_expr *n = NULL;
                rc = rewrite_matching(&wins, is_window, &s.rel, base, s.qualify, &n, err);
                if (!rc) {
                    pl_expr_release(s.qualify);
                    s.qualify = n;
                }
            }
        }
        any_window = wins.n > 0;
        el_reset(&wins);
        if (rc) goto fail_proj;
    }

    /* QUALIFY: over the window results, before the projection, DISTINCT and ORDER BY */
    if (s.qualify) {
        rc = sq_rel_filter(&s.rel, s.qualify, err);
        if (rc) {
            sq_at(err, rc, s.qualify_pos);
            goto fail_proj;
        }
    }

    /* unnest(list) in the select list: after windows and QUALIFY, before the projection */
    bool any_unnest = false;
    rc = plan_unnests(&s.rel, &s.items, &s.extras, &any_unnest, err);
    if (rc) goto fail_proj;

    /* projection: correlation keys, items, hidden ORDER BY expressions */
    int32_t n_vis = n_ck + s.items.n;
    for (int32_t i = 0; !rc && i < s.items.n; i++)
        rc = el_push(&proj, pl_expr_retain(s.items.v[i]), s.items.names[i], s.items.pos[i], err);
    for (int32_t i = 0; !rc && i < s.extras.n; i++)
        rc = el_push(&proj, pl_expr_retain(s.extras.v[i]), s.extras.names[i], s.extras.pos[i], err);
    if (rc) goto fail_proj;
    if (o) {
        o->rows_only = !has_agg && !any_window && !any_unnest && !s.qualify && st->n_distinct_clause == 0 &&
                       !st->limit_count && !st->limit_offset;
    }
    if (o && o->keep_from && o->rows_only) {
        /* the FROM/WHERE columns, for residual join conditions over them (LATERAL) */
        o->n_from_cols = s.rel.n_cols;
        for (int32_t i = 0; !rc && i < s.rel.n_cols; i++) {
            char nm[32];
            snprintf(nm, sizeof nm, "__cr%d", (int)i);
            rc = el_push(&proj, sq_colref(&s.rel, i, -1), nm, -1, err);
        }
        if (rc) goto fail_proj;
    }
    pl_df *df = NULL;
    rc = df_select(s.rel.df, proj.n, proj.v, proj.names, &df, err);
    if (rc) goto fail_proj;

    /* DISTINCT */
    if (distinct_on) {
        /* the first row of each DISTINCT ON group in ORDER BY order: row_number() = 1 */
        int32_t n_part = n_ck + s.n_don; /* per outer row when correlated */
        pl_expr **part = pl_calloc((size_t)n_part, sizeof *part);
        pl_sort_key *ord = pl_calloc((size_t)(s.n_sort ? s.n_sort : 1), sizeof *ord);
        if (!part || !ord) rc = NOMEM(err);
        for (int32_t i = 0; !rc && i < n_part; i++) {
            int32_t dc = i < n_ck ? -1 : s.don_col[i - n_ck];
            int32_t col = i < n_ck ? i : dc >= 0 ? n_ck + dc : n_vis + (-2 - dc);
            pl_expr *e = pl_expr_col_index(col, pl_df_schema(df)->fields[col].name);
            rc = e ? sq_finalize(e, df, NULL, &part[i], err) : NOMEM(err);
            pl_expr_release(e);
        }
        for (int32_t i = 0; !rc && i < s.n_sort; i++) {
            int32_t col = s.sort_col[i] >= 0 ? n_ck + s.sort_col[i] : n_vis + (-2 - s.sort_col[i]);
            pl_expr *e = pl_expr_col_index(col, pl_df_schema(df)->fields[col].name);
            rc = e ? sq_finalize(e, df, NULL, &ord[i].expr, err) : NOMEM(err);
            pl_expr_release(e);
            ord[i].descending = s.sort[i].descending;
            ord[i].nulls_first = s.sort[i].nulls_first;
        }
        pl_expr *rn = NULL;
        pl_df *w = NULL, *f = NULL;
        if (!rc) {
            pl_window_frame frame;
            memset(&frame, 0, sizeof frame);
            pl_value_init_null(&frame.start_offset);
            pl_value_init_null(&frame.end_offset);
            rn = pl_expr_window("row_number", 0, NULL, n_part, part, s.n_sort, ord, &frame);
            pl_free(part); /* the expressions were taken */
            pl_free(ord);
            part = NULL;
            ord = NULL;
            if (!rn) rc = NOMEM(err);
        }
        const char *rn_name = "__rn";
        if (!rc) rc = pl_df_window(df, 1, &rn, &rn_name, &w, err);
        pl_expr *pred = NULL;
        if (!rc) {
            pred = pl_expr_call2("eq", pl_expr_col(rn_name), pl_expr_lit_i64(1));
            rc = pred ? pl_df_filter(w, pred, &f, err) : NOMEM(err);
        }
        pl_df *d = NULL;
        if (!rc) rc = pl_df_drop(f, 1, &rn_name, &d, err);
        if (part)
            for (int32_t i = 0; i < n_part; i++) pl_expr_release(part[i]);
        if (ord)
            for (int32_t i = 0; i < s.n_sort; i++) pl_expr_release(ord[i].expr);
        pl_free(part);
        pl_free(ord);
        pl_expr_release(rn);
        pl_expr_release(pred);
        if (w) pl_df_release(w);
        if (f) pl_df_release(f);
        if (rc) goto fail_df;
        pl_df_release(df);
        df = d;
    } else if (st->n_distinct_clause > 0) {
        if (s.extras.n > 0) {
            rc = sq_fail(err, PL_ERR_SQL, s.extras.pos[0],
                         "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
        } else {
            pl_df *d = NULL;
            rc = pl_df_distinct(df, &d, err);
            if (!rc) {
                pl_df_release(df);
                df = d;
            }
        }
        if (rc) goto fail_df;
    }

    /* ORDER BY (a correlated subquery's LIMIT orders per outer row instead, apply_limit) */
    bool per_key = n_ck > 0 && (st->limit_count || st->limit_offset);
    if (s.n_sort > 0) {
        for (int32_t i = 0; i < s.n_sort; i++) {
            int32_t col = s.sort_col[i] >= 0 ? n_ck + s.sort_col[i] : n_vis + (-2 - s.sort_col[i]);
            pl_expr *e = pl_expr_col_index(col, pl_df_schema(df)->fields[col].name);
            pl_expr *f = NULL;
            if (e) {
                rc = sq_finalize(e, df, NULL, &f, err);
                pl_expr_release(e);
            } else {
                rc = NOMEM(err);
            }
            s.sort[i].expr = f;
            if (rc) break;
        }
        pl_df *sorted = NULL;
        if (!rc && !per_key) rc = pl_df_sort(df, s.n_sort, s.sort, &sorted, err);
        if (rc || !per_key)
            for (int32_t i = 0; i < s.n_sort; i++) {
                pl_expr_release(s.sort[i].expr);
                s.sort[i].expr = NULL;
            }
        if (rc) goto fail_df;
        if (!per_key) {
            pl_df_release(df);
            df = sorted;
        }
    }
    rc = apply_limit(ctx, st, per_key ? n_ck : 0, per_key ? s.n_sort : 0, s.sort, &df, err);
    for (int32_t i = 0; per_key && i < s.n_sort; i++) s.sort[i].expr = NULL; /* taken */
    if (rc) goto fail_df;
    if (s.extras.n > 0) {
        pl_df *d = NULL;
        rc = pl_df_drop(df, s.extras.n, (const char *const *)s.extras.names, &d, err);
        if (rc) goto fail_df;
        pl_df_release(df);
        df = d;
    }
    el_reset(&proj);
    sel_reset(&s);
    *out = df;
    return PL_OK;
fail_df:
    pl_df_release(df);
fail_proj:
    el_reset(&proj);
fail:
    sel_reset(&s);
    return rc;
}

/* Attempts at a grouped query whose subqueries use aggregates it does not compute itself. */
#define SQ_MAX_OUTER_AGG_ATTEMPTS 8

/* The core SELECT pipeline. A subquery of a grouped query that uses an aggregate of it the
 * query does not compute itself (`(SELECT ... WHERE u.v < max(t.x))`) is found only when the
 * subquery is planned, after the aggregation: the query is then planned again with it added. */
static pl_status plan_select_core(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o,
                                  pl_df **out, pl_error *err) {
    sq_post post;
    memset(&post, 0, sizeof post);
    pl_status rc;
    for (int attempt = 0;; attempt++) {
        int32_t before = post.n_missing;
        rc = select_core_once(ctx, st, o, &post, out, err);
        if (!rc || rc == PL_ERR_NOMEM || post.n_missing == before || attempt + 1 >= SQ_MAX_OUTER_AGG_ATTEMPTS)
            break;
        if (err) pl_error_init(err);
        if (o && o->corr) {
            bool allow_ne = o->corr->allow_ne;
            sq_corr_reset(o->corr);
            o->corr->allow_ne = allow_ne;
        }
    }
    sq_post_reset(&post);
    return rc;
}

/* ---------------------------------------------------------------- VALUES */

/* The range of a small integer type (INT8/16, UINT8/16); false for others. */
static bool small_int_range(pl_type_id id, int64_t *lo, int64_t *hi) {
    switch (id) {
    case PL_TYPE_INT8: *lo = INT8_MIN, *hi = INT8_MAX; return true;
    case PL_TYPE_INT16: *lo = INT16_MIN, *hi = INT16_MAX; return true;
    case PL_TYPE_UINT8: *lo = 0, *hi = UINT8_MAX; return true;
    case PL_TYPE_UINT16: *lo = 0, *hi = UINT16_MAX; return true;
    default: return false;
    }
}

/* Literal cells of a VALUES column typed like DuckDB, which folds the rows' types from the
 * first: after a typed value, a string literal takes its type (`(1.0::DOUBLE), ('inf')` is
 * DOUBLE) and an integer literal a small integer type when it fits (`(1::TINYINT), (-1)` is
 * TINYINT, `(1::TINYINT), (300)` INTEGER); before any, they keep their own types (`(7),
 * (1::TINYINT)` is INTEGER, `('x'), (1::INTEGER)` an error). cells/types: [n_rows][n_cols];
 * cells replaced by casts, changed[r] set for the rows to plan again. */
static pl_status values_literal_types(PgQuery__Node *const *rows, int32_t n_rows, int32_t n_cols,
                                      pl_expr **cells, pl_type *const *types, bool *changed,
                                      pl_error *err) {
    for (int32_t c = 0; c < n_cols; c++) {
        const pl_type *acc = NULL; /* the column's type so far (from typed values) */
        for (int32_t r = 0; r < n_rows; r++) {
            pl_expr **e = &cells[r * n_cols + c];
            const PgQuery__Node *nd = rows[r]->list->items[c];
            const pl_type *t = types[r * n_cols + c];
            bool str_lit = nd->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                           nd->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL;
            bool int_lit = (*e)->kind == PL_EXPR_LITERAL && !(*e)->typed_lit && !(*e)->value.is_null &&
                           (*e)->value.type && (*e)->value.type->id == PL_TYPE_INT32;
            int64_t lo, hi, alo, ahi;
            const pl_type *to = NULL;
            if (t->id == PL_TYPE_NA || (!acc && (str_lit || int_lit))) continue;
            bool acc_small = acc && small_int_range(acc->id, &alo, &ahi);
            if (str_lit && acc->id != PL_TYPE_UTF8) {
                to = acc;
            } else if (int_lit && acc_small) {
                if ((*e)->value.v.i >= alo && (*e)->value.v.i <= ahi) to = acc;
                else acc = t; /* INTEGER from here on */
            } else if (!str_lit && !int_lit &&
                       (!acc || (acc_small && (!small_int_range(t->id, &lo, &hi) || lo < alo || hi > ahi)))) {
                acc = t;
            }
            if (!to) continue;
            int32_t pos = (*e)->sql_pos;
            *e = pl_expr_cast(*e, pl_type_retain((pl_type *)(uintptr_t)to), false);
            if (!*e) return NOMEM(err);
            (*e)->sql_pos = pos;
            changed[r] = true;
        }
    }
    return PL_OK;
}

/* One VALUES row over a one-row table. */
static pl_status values_row(int32_t n_cols, pl_expr *const *ex, pl_df **out, pl_error *err) {
    pl_df *dual = NULL;
    PL_TRY(sq_dual(&dual, err));
    char **names = pl_calloc((size_t)(n_cols ? n_cols : 1), sizeof *names);
    char *nb = pl_malloc((size_t)(n_cols ? n_cols : 1) * 16);
    pl_status rc = names && nb ? PL_OK : NOMEM(err);
    for (int32_t c = 0; !rc && c < n_cols; c++) {
        names[c] = nb + (size_t)c * 16;
        snprintf(names[c], 16, "col%d", (int)c);
    }
    if (!rc) rc = pl_df_select(dual, n_cols, ex, (const char *const *)names, out, err);
    pl_free(names);
    pl_free(nb);
    pl_df_release(dual);
    return rc;
}

static pl_status plan_values(sq_ctx *ctx, const PgQuery__SelectStmt *st, pl_df **out, pl_error *err) {
    int32_t n_rows = (int32_t)st->n_values_lists, n_cols = 0;
    sq_scope sc = {0};
    sc.ctx = ctx;
    sc.clause = "VALUES";
    for (int32_t r = 0; r < n_rows; r++) {
        const PgQuery__Node *row = st->values_lists[r];
        if (row->node_case != PG_QUERY__NODE__NODE_LIST) return pl_error_set(err, PL_ERR_SQL, "bad VALUES row");
        const PgQuery__List *l = row->list;
        if (r == 0) n_cols = (int32_t)l->n_items;
        if ((int32_t)l->n_items != n_cols)
            return sq_fail(err, PL_ERR_SQL, l->n_items ? sq_node_pos(l->items[0]) : -1,
                           "VALUES lists must all be the same length");
    }
    size_t n_cells = (size_t)n_rows * (size_t)n_cols;
    pl_expr **cells = pl_calloc(n_cells ? n_cells : 1, sizeof *cells);
    pl_type **types = pl_calloc(n_cells ? n_cells : 1, sizeof *types);
    pl_df **dfs = pl_calloc((size_t)(n_rows ? n_rows : 1), sizeof *dfs);
    bool *changed = pl_calloc((size_t)(n_rows ? n_rows : 1), sizeof *changed);
    pl_status rc = cells && types && dfs && changed ? PL_OK : NOMEM(err);
    for (int32_t r = 0; !rc && r < n_rows; r++) {
        const PgQuery__List *l = st->values_lists[r]->list;
        for (int32_t c = 0; !rc && c < n_cols; c++) rc = sq_expr(&sc, l->items[c], &cells[r * n_cols + c], err);
        if (!rc) rc = values_row(n_cols, cells + r * n_cols, &dfs[r], err);
        for (int32_t c = 0; !rc && c < n_cols; c++)
            types[r * n_cols + c] = pl_type_retain(pl_df_schema(dfs[r])->fields[c].type);
    }
    if (!rc && n_rows > 1)
        rc = values_literal_types(st->values_lists, n_rows, n_cols, cells, types, changed, err);
    for (int32_t r = 0; !rc && r < n_rows; r++) {
        if (!changed[r]) continue;
        pl_df_release(dfs[r]);
        dfs[r] = NULL;
        rc = values_row(n_cols, cells + r * n_cols, &dfs[r], err);
    }
    pl_df *acc = NULL;
    for (int32_t r = 0; !rc && r < n_rows; r++) {
        if (!acc) {
            acc = pl_df_retain(dfs[r]);
            continue;
        }
        pl_df *u = NULL;
        rc = pl_df_union(acc, dfs[r], true, &u, err);
        pl_df_release(acc);
        acc = rc ? NULL : u;
    }
    for (size_t k = 0; k < n_cells && cells; k++) {
        pl_expr_release(cells[k]);
        if (types) pl_type_release(types[k]);
    }
    for (int32_t r = 0; dfs && r < n_rows; r++)
        if (dfs[r]) pl_df_release(dfs[r]);
    pl_free(cells);
    pl_free(types);
    pl_free(dfs);
    pl_free(changed);
    if (rc) {
        if (acc) pl_df_release(acc);
        return rc;
    }
    *out = acc;
    return PL_OK;
}

/* ---------------------------------------------------------------- ORDER BY over a result */

static pl_status order_result(sq_ctx *ctx, const PgQuery__SelectStmt *st, int32_t n_ck, pl_df **df,
                              pl_error *err) {
    int32_t n = (int32_t)st->n_sort_clause;
    bool per_key = n_ck > 0 && (st->limit_count || st->limit_offset);
    if (n > 0 && n_ck > 0 && !per_key) n = 0; /* a correlated subquery's order does not matter */
    if (n > 0) {
        sq_rel rel;
        pl_status rc = sq_rel_init(&rel, pl_df_retain(*df), err);
        if (rc) return rc;
        for (int32_t i = 0; i < n_ck && i < rel.n_cols; i++) rel.hidden[i] = true;
        /* ORDER BY ALL: every column of the result */
        bool all = n == 1 && sort_is_all(ctx->sql, st->sort_clause[0]->sort_by);
        if (all) n = rel.n_cols - n_ck;
        pl_sort_key *keys = pl_calloc((size_t)PL_MAX(n, 1), sizeof *keys);
        if (!keys) {
            sq_rel_reset(&rel);
            return NOMEM(err);
        }
        sq_scope sc = {0};
        sc.ctx = ctx;
        sc.rel = &rel;
        sc.clause = "ORDER BY";
        int32_t done = 0;
        for (; !rc && done < n; done++) {
            const PgQuery__SortBy *sb = st->sort_clause[all ? 0 : done]->sort_by;
            sq_sortby_dir(sb, &keys[done].descending, &keys[done].nulls_first);
            bool is_int;
            int64_t k;
            sq_int_const(sb->node, &is_int, &k);
            if (all) k = done + 1;
            pl_expr *e = NULL;
            if (is_int) {
                if (k < 1 || k > rel.n_cols - n_ck) {
                    rc = sq_fail(err, PL_ERR_SQL, sq_node_pos(sb->node), "ORDER BY position %lld is not in select list",
                                 (long long)k);
                    break;
                }
                e = sq_colref(&rel, n_ck + (int32_t)k - 1, sq_node_pos(sb->node));
                if (!e) rc = NOMEM(err);
            } else {
                rc = sq_expr(&sc, sb->node, &e, err);
            }
            if (rc) break;
            rc = sq_finalize(e, *df, NULL, &keys[done].expr, err);
            pl_expr_release(e);
            if (rc) break;
        }
        if (!rc && per_key) { /* LIMIT per outer row, in this order */
            sq_rel_reset(&rel);
            rc = apply_limit(ctx, st, n_ck, n, keys, df, err);
            pl_free(keys);
            return rc;
        }
        pl_df *sorted = NULL;
        if (!rc) rc = pl_df_sort(*df, n, keys, &sorted, err);
        for (int32_t i = 0; i < done; i++) pl_expr_release(keys[i].expr);
        pl_free(keys);
        sq_rel_reset(&rel);
        if (rc) return rc;
        pl_df_release(*df);
        *df = sorted;
    }
    return apply_limit(ctx, st, per_key ? n_ck : 0, 0, NULL, df, err);
}

/* The sides of a set operation inside a correlated subquery (o: its options). The first plan
 * records the outer columns the sides use (o->flat) and fails when there are any, so that the
 * caller plans it again flattened; flattened, each side is planned over the same distinct outer
 * values D (its first columns D's, like a flattened subquery's keys), the set operation then
 * works on (D, row) tuples, which is the operation per outer row, and o->corr gets D's keys. */
static pl_status setop_sides(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o, pl_df **a,
                             pl_df **b, pl_error *err) {
    const PgQuery__SelectStmt *side[2] = {st->larg, st->rarg};
    pl_df **out[2] = {a, b};
    pl_status rc = PL_OK;
    for (int k = 0; !rc && k < 2; k++) {
        sq_corr c;
        memset(&c, 0, sizeof c);
        c.pos = -1;
        c.allow_ne = o->corr->allow_ne;
        sq_flat f;
        rc = sq_flat_init(&f, o->flat->n_outer, err);
        if (rc) break;
        memcpy(f.used, o->flat->used, (size_t)f.n_outer * sizeof *f.used);
        f.apply = o->flat->apply;
        f.agg = f.apply && sq_select_scalar_agg(side[k]);
        sq_select_opts so = {o->outer, &c, false, false, false, false, false, 0, NULL};
        so.flat = &f;
        rc = sq_plan_query(ctx, side[k], &so, out[k], err);
        /* the columns this side used (flattened: the ones met only now, planned again) */
        for (int32_t i = 0; i < f.n_outer; i++) o->flat->used[i] |= f.used[i];
        if (f.grew) o->flat->grew = true;
        if (!rc && f.apply && (c.n_keys != f.n_d || c.n_resid > 0))
            rc = pl_error_set(err, PL_ERR_INTERNAL, "a side of a correlated set operation has %d keys, not %d",
                              (int)c.n_keys, (int)f.n_d);
        if (!rc && f.apply && k == 0) {
            /* both sides have D's keys; the left side's stand for the result's */
            o->flat->n_d = f.n_d;
            memcpy(o->flat->cols, f.cols, (size_t)f.n_d * sizeof *f.cols);
            sq_corr_reset(o->corr);
            *o->corr = c;
            memset(&c, 0, sizeof c);
        }
        sq_corr_reset(&c);
        sq_flat_reset(&f);
    }
    if (!rc && !o->flat->apply && sq_flat_any(o->flat))
        rc = pl_error_set(err, PL_ERR_UNSUPPORTED, "a correlated set operation must be planned flattened");
    if (rc) {
        if (*a) pl_df_release(*a);
        if (*b) pl_df_release(*b);
        *a = *b = NULL;
    }
    return rc;
}

/* ---------------------------------------------------------------- queries */

static void pop_ctes(sq_ctx *ctx, sq_cte *until) {
    while (ctx->ctes && ctx->ctes != until) {
        sq_cte *c = ctx->ctes;
        ctx->ctes = c->next;
        pl_free(c->name);
        if (c->df) pl_df_release(c->df);
        pl_free(c);
    }
}

/* Runs a CTE's plan now and replaces it by its rows: every reference then reads the same
 * result (MATERIALIZED; a volatile CTE referenced more than once). */
static pl_status materialize_cte(sq_ctx *ctx, pl_df **df, int32_t pos, pl_error *err) {
    const pl_exec_opts *opts = ctx->s ? pl_session_exec_opts(ctx->s) : NULL;
    pl_table *t = NULL;
    pl_status st = pl_df_collect(*df, opts, &t, err);
    if (st) return sq_at(err, st, pos);
    pl_df *m = NULL;
    st = pl_df_from_table(t, &m, err);
    pl_table_release(t);
    if (st) return st;
    pl_df_release(*df);
    *df = m;
    return PL_OK;
}

/* Whether the CTE i of the WITH clause of st is computed once at planning time: DuckDB
 * evaluates a CTE once (materialized) unless NOT MATERIALIZED; polaroid inlines its plan into
 * each reference instead (filters and projections then push into it) when that gives the same
 * rows: when it is referenced at most once, or it calls no volatile function (random()). */
typedef struct {
    const sq_ctx *ctx;
} volatile_refs;

static bool volatile_refs_visit(ProtobufCMessage *m, void *vctx) {
    volatile_refs *v = vctx;
    if (m->descriptor == &pg_query__range_var__descriptor) {
        const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
        if (sq_nz(rv->schemaname) || !rv->relname) return false;
        for (const sq_cte *c = v->ctx->ctes; c; c = c->next)
            if (strcasecmp(c->name, rv->relname) == 0) return c->is_volatile;
        return false;
    }
    return pl_sql_node_children(m, volatile_refs_visit, v);
}

/* Whether a CTE's query gives other rows at each evaluation: it calls random() or the like,
 * or reads an inlined CTE that does. */
static bool cte_volatile(const sq_ctx *ctx, const PgQuery__CommonTableExpr *cte) {
    volatile_refs v = {ctx};
    return sq_calls_volatile(&cte->ctequery->base) ||
           volatile_refs_visit((ProtobufCMessage *)(uintptr_t)&cte->ctequery->base, &v);
}

static bool cte_materialize(const sq_ctx *ctx, const PgQuery__SelectStmt *st, size_t i,
                            bool *is_volatile) {
    const PgQuery__WithClause *w = st->with_clause;
    const PgQuery__CommonTableExpr *cte = w->ctes[i]->common_table_expr;
    *is_volatile = cte_volatile(ctx, cte);
    if (cte->ctematerialized == PG_QUERY__CTEMATERIALIZE__CTEMaterializeNever) return false;
    bool always = cte->ctematerialized == PG_QUERY__CTEMATERIALIZE__CTEMaterializeAlways;
    if (!always && !*is_volatile) return false;
    int32_t refs = sq_count_refs(&st->base, &w->base, cte->ctename);
    for (size_t j = i + 1; j < w->n_ctes && refs < 2; j++)
        if (w->ctes[j]->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR)
            refs += sq_count_refs(&w->ctes[j]->common_table_expr->base, NULL, cte->ctename);
    return refs >= 2;
}

/* corr: st is a correlated subquery (its CTEs may refer to the outer query). */
static pl_status push_ctes(sq_ctx *ctx, const PgQuery__SelectStmt *st, bool corr, pl_error *err) {
    const PgQuery__WithClause *w = st->with_clause;
    for (size_t i = 0; i < w->n_ctes; i++) {
        const PgQuery__Node *n = w->ctes[i];
        if (n->node_case != PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR) return pl_error_set(err, PL_ERR_SQL, "bad WITH");
        const PgQuery__CommonTableExpr *cte = n->common_table_expr;
        if (!cte->ctequery || cte->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return sq_fail(err, PL_ERR_UNSUPPORTED, cte->location, "only SELECT is supported in WITH");
        pl_df *df = NULL;
        int32_t self_pos = -1;
        bool recursive = w->recursive && sq_refers_to(&cte->ctequery->base, cte->ctename, &self_pos);
        const PgQuery__CommonTableExpr *deferred = NULL;
        if (recursive) {
            PL_TRY(sq_plan_recursive_cte(ctx, cte, &df, err));
        } else {
            pl_status pr = sq_plan_query(ctx, cte->ctequery->select_stmt, NULL, &df, err);
            if (pr && pr != PL_ERR_NOMEM && corr) {
                /* may refer to the outer query: planned at each reference instead */
                if (err) pl_error_init(err);
                deferred = cte;
            } else if (pr) {
                return pr;
            }
        }
        if (!recursive && !deferred && cte->n_aliascolnames > 0) {
            pl_schema *sch = pl_df_schema(df);
            if ((int32_t)cte->n_aliascolnames > sch->n_fields) {
                pl_df_release(df);
                return sq_fail(err, PL_ERR_SQL, cte->location, "WITH query \"%s\" has %d columns but %d names were given",
                               cte->ctename, (int)sch->n_fields, (int)cte->n_aliascolnames);
            }
            const char **olds = pl_calloc(cte->n_aliascolnames, sizeof *olds);
            const char **news = pl_calloc(cte->n_aliascolnames, sizeof *news);
            pl_status rc = (!olds || !news) ? NOMEM(err) : PL_OK;
            for (size_t k = 0; !rc && k < cte->n_aliascolnames; k++) {
                olds[k] = sch->fields[k].name;
                news[k] = sq_str(cte->aliascolnames[k]);
            }
            pl_df *r = NULL;
            if (!rc) rc = pl_df_rename(df, (int32_t)cte->n_aliascolnames, olds, news, &r, err);
            pl_free(olds);
            pl_free(news);
            pl_df_release(df);
            if (rc) return sq_at(err, rc, cte->location);
            df = r;
        }
        bool is_volatile = false;
        if (!recursive && !deferred && cte_materialize(ctx, st, i, &is_volatile)) {
            pl_status rc = materialize_cte(ctx, &df, cte->location, err);
            if (rc) {
                pl_df_release(df);
                return rc;
            }
            is_volatile = false;
        }
        sq_cte *c = pl_calloc(1, sizeof *c);
        char *nm = c ? pl_strdup(cte->ctename) : NULL;
        if (!nm) {
            pl_free(c);
            pl_df_release(df);
            return NOMEM(err);
        }
        c->name = nm;
        c->df = df;
        c->is_volatile = is_volatile;
        c->corr = deferred;
        c->next = ctx->ctes;
        ctx->ctes = c;
    }
    return PL_OK;
}

/* UNION [ALL] BY NAME (DuckDB): both sides projected onto the columns of the left side, then
 * the right side's other columns, matched by name ignoring case; a column a side lacks is NULL
 * there (of the other side's type). *a and *b are replaced. */
static pl_status union_by_name(pl_df **a, pl_df **b, pl_error *err) {
    pl_schema *sa = pl_df_schema(*a), *sb = pl_df_schema(*b);
    int32_t na = sa->n_fields, nb = sb->n_fields, n = 0;
    int32_t cap = na + nb;
    int32_t *ia = pl_calloc((size_t)(cap ? cap : 1), sizeof *ia), *ib = pl_calloc((size_t)(cap ? cap : 1), sizeof *ib);
    const char **names = pl_calloc((size_t)(cap ? cap : 1), sizeof *names);
    pl_expr **ea = pl_calloc((size_t)(cap ? cap : 1), sizeof *ea), **eb = pl_calloc((size_t)(cap ? cap : 1), sizeof *eb);
    pl_status rc = ia && ib && names && ea && eb ? PL_OK : NOMEM(err);
    for (int32_t side = 0; !rc && side < 2; side++) {
        const pl_schema *sc = side ? sb : sa;
        for (int32_t i = 0; !rc && i < sc->n_fields; i++)
            for (int32_t j = 0; !rc && j < i; j++)
                if (!strcasecmp(sc->fields[i].name, sc->fields[j].name))
                    rc = pl_error_set(err, PL_ERR_SQL,
                                      "UNION BY NAME: the name \"%s\" occurs more than once in a select list",
                                      sc->fields[i].name);
    }
    for (int32_t i = 0; !rc && i < na; i++) {
        ia[n] = i;
        ib[n] = -1;
        for (int32_t j = 0; j < nb; j++)
            if (!strcasecmp(sa->fields[i].name, sb->fields[j].name)) {
                ib[n] = j;
                break;
            }
        names[n++] = sa->fields[i].name;
    }
    for (int32_t j = 0; !rc && j < nb; j++) {
        bool seen = false;
        for (int32_t i = 0; i < na && !seen; i++) seen = !strcasecmp(sa->fields[i].name, sb->fields[j].name);
        if (seen) continue;
        ia[n] = -1;
        ib[n] = j;
        names[n++] = sb->fields[j].name;
    }
    for (int32_t k = 0; !rc && k < n; k++) {
        pl_type *ta = ia[k] >= 0 ? sa->fields[ia[k]].type : sb->fields[ib[k]].type;
        pl_type *tb = ib[k] >= 0 ? sb->fields[ib[k]].type : sa->fields[ia[k]].type;
        if (ta->id == PL_TYPE_DICTIONARY) ta = ta->value_type;
        if (tb->id == PL_TYPE_DICTIONARY) tb = tb->value_type;
        ea[k] = ia[k] >= 0 ? pl_expr_col_index(ia[k], sa->fields[ia[k]].name)
                           : pl_expr_cast(pl_expr_lit_null(), pl_type_retain(tb), false);
        eb[k] = ib[k] >= 0 ? pl_expr_col_index(ib[k], sb->fields[ib[k]].name)
                           : pl_expr_cast(pl_expr_lit_null(), pl_type_retain(ta), false);
        if (!ea[k] || !eb[k]) rc = NOMEM(err);
    }
    pl_df *pa = NULL, *pb = NULL;
    if (!rc) rc = pl_df_select(*a, n, ea, names, &pa, err);
    if (!rc) rc = pl_df_select(*b, n, eb, names, &pb, err);
    for (int32_t k = 0; k < n; k++) {
        if (ea) pl_expr_release(ea[k]);
        if (eb) pl_expr_release(eb[k]);
    }
    pl_free(ia);
    pl_free(ib);
    pl_free(names);
    pl_free(ea);
    pl_free(eb);
    if (rc) {
        if (pa) pl_df_release(pa);
        return rc;
    }
    pl_df_release(*a);
    pl_df_release(*b);
    *a = pa;
    *b = pb;
    return PL_OK;
}

pl_status sq_plan_query(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o,
                        pl_df **out, pl_error *err) {
    if (ctx->depth >= SQ_MAX_DEPTH)
        return pl_error_set(err, PL_ERR_LIMIT, "query nesting deeper than %d levels", SQ_MAX_DEPTH);
    ctx->depth++;
    sq_cte *saved = ctx->ctes;
    pl_status rc = PL_OK;
    if (st->with_clause) rc = push_ctes(ctx, st, o && o->outer && o->flat && !o->empty_input, err);
    pl_df *df = NULL;
    if (!rc) {
        if (st->op != PG_QUERY__SET_OPERATION__SETOP_NONE &&
            st->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED) {
            pl_df *a = NULL, *b = NULL;
            bool corr_sides = o && o->outer && o->corr && o->flat && !o->empty_input;
            if (corr_sides)
                rc = setop_sides(ctx, st, o, &a, &b, err);
            else {
                rc = sq_plan_query(ctx, st->larg, NULL, &a, err);
                if (!rc) rc = sq_plan_query(ctx, st->rarg, NULL, &b, err);
            }
            int32_t n_ck = corr_sides && o->flat->apply ? o->corr->n_keys : 0;
            if (!rc && st->op == PG_QUERY__SET_OPERATION__SETOP_UNION && sq_union_by_name(ctx->sql, st))
                rc = union_by_name(&a, &b, err);
            if (!rc && pl_df_schema(a)->n_fields != pl_df_schema(b)->n_fields)
                rc = pl_error_set(err, PL_ERR_SQL,
                                  "set operation sides have different numbers of columns (%d and %d)",
                                  (int)(pl_df_schema(a)->n_fields - n_ck), (int)(pl_df_schema(b)->n_fields - n_ck));
            if (!rc) {
                if (st->op == PG_QUERY__SET_OPERATION__SETOP_UNION)
                    rc = pl_df_union(a, b, st->all, &df, err);
                else
                    rc = pl_df_setop(a, b,
                                     st->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? PL_SETOP_INTERSECT
                                                                                        : PL_SETOP_EXCEPT,
                                     st->all, &df, err);
            }
            if (a) pl_df_release(a);
            if (b) pl_df_release(b);
            if (!rc) rc = order_result(ctx, st, n_ck, &df, err);
        } else if (st->n_values_lists > 0) {
            rc = plan_values(ctx, st, &df, err);
            if (!rc) rc = order_result(ctx, st, 0, &df, err);
        } else {
            rc = plan_select_core(ctx, st, o, &df, err);
        }
    }
    pop_ctes(ctx, saved);
    ctx->depth--;
    if (rc) {
        if (df) pl_df_release(df);
        return rc;
    }
    *out = df;
    return PL_OK;
}

pl_status pl_sql_plan_query(pl_session *s, const char *sql, const PgQuery__Node *stmt,
                            pl_df **out, pl_error *err) {
    if (!stmt || stmt->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return pl_error_set(err, PL_ERR_SQL, "not a query");
    sq_ctx ctx = {s, sql, 0, NULL, 0, NULL, NULL};
    pl_status st = sq_plan_query(&ctx, stmt->select_stmt, NULL, out, err);
    sq_ctx_reset(&ctx);
    return st;
}

pl_status pl_sql_plan_const_expr(pl_session *s, const char *sql, const PgQuery__Node *node,
                                 pl_expr **out, pl_error *err) {
    sq_ctx ctx = {s, sql, 0, NULL, 0, NULL, NULL};
    sq_scope sc = {0};
    sc.ctx = &ctx;
    sc.clause = "VALUES";
    pl_status st = sq_expr(&sc, node, out, err);
    sq_ctx_reset(&ctx);
    return st;
}

static bool sublink_visit(ProtobufCMessage *m, void *vctx) {
    if (m->descriptor == &pg_query__sub_link__descriptor) return true;
    return pl_sql_node_children(m, sublink_visit, vctx);
}

bool pl_sql_has_sublink(const PgQuery__Node *n) {
    return n && sublink_visit((ProtobufCMessage *)(uintptr_t)n, NULL);
}

pl_status pl_sql_eval_row_value(pl_session *s, const char *sql, const PgQuery__Node *node,
                                pl_type *type, pl_value *out, pl_error *err) {
    sq_ctx ctx = {s, sql, 0, NULL, 0, NULL, NULL};
    pl_df *dual = NULL;
    PL_TRY(sq_dual(&dual, err));
    sq_rel rel;
    PL_TRY(sq_rel_init(&rel, dual, err));
    sq_scope sc = {0};
    sc.ctx = &ctx;
    sc.rel = &rel;
    sc.allow = SQ_ALLOW_SUBQUERY;
    sc.clause = "VALUES";
    pl_expr *e = NULL, *f = NULL;
    pl_df *sel = NULL;
    pl_table *t = NULL;
    int32_t pos = sq_node_pos(node);
    pl_status rc = sq_expr(&sc, node, &e, err);
    if (!rc) rc = sq_finalize(e, rel.df, NULL, &f, err);
    if (!rc && type) {
        f = pl_expr_cast(f, pl_type_retain(type), false);
        if (!f) rc = NOMEM(err);
        else f->sql_pos = e->sql_pos >= 0 ? e->sql_pos : pos;
    }
    static const char *const name = "__v";
    if (!rc) rc = sq_at(err, pl_df_select(rel.df, 1, &f, &name, &sel, err), pos);
    if (!rc) rc = sq_at(err, pl_df_collect(sel, s ? pl_session_exec_opts(s) : NULL, &t, err), pos);
    if (!rc && t->n_rows != 1)
        rc = sq_fail(err, PL_ERR_INTERNAL, pos, "a VALUES item gave %lld rows", (long long)t->n_rows);
    for (int64_t k = 0; !rc && k < t->n_batches; k++)
        if (t->batches[k]->n_rows > 0) {
            rc = pl_value_from_array(t->batches[k]->columns[0], 0, out, err);
            break;
        }
    pl_table_release(t);
    if (sel) pl_df_release(sel);
    pl_expr_release(e);
    pl_expr_release(f);
    sq_rel_reset(&rel);
    sq_ctx_reset(&ctx);
    return rc;
}
