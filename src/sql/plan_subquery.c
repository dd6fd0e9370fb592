/* plan_subquery.c - subqueries in expressions, decorrelated into joins (never run per row):
 *   x IN (SELECT ...) / EXISTS (...) as WHERE conjuncts   -> semi / anti joins (correlated:
 *                                                            equality keys + residual)
 *   scalar (SELECT ...)                                   -> cross join of its one row, or a left
 *                                                            join on the correlation keys
 *   EXISTS / IN elsewhere (SELECT list, OR, NOT IN)       -> left join against the distinct
 *                                                            values plus NULL-aware counts */
#include "sql/plan_int.h"

#include <stdio.h>
#include <strings.h>

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory planning SQL")

static pl_expr *outer_to_inner_copy(const pl_expr *e, int32_t nl);

static pl_status need_rel(sq_scope *sc, int32_t pos, pl_error *err) {
    if (!sc->rel || !(sc->allow & SQ_ALLOW_SUBQUERY))
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "subqueries are not supported in %s",
                       sc->clause ? sc->clause : "this context");
    return PL_OK;
}

pl_status sq_flat_init(sq_flat *f, int32_t n_outer, pl_error *err) {
    memset(f, 0, sizeof *f);
    size_t n = (size_t)(n_outer > 0 ? n_outer : 1);
    f->n_outer = n_outer;
    f->used = pl_calloc(n, sizeof *f->used);
    f->map = pl_calloc(n, sizeof *f->map);
    f->cols = pl_calloc(n, sizeof *f->cols);
    if (!f->used || !f->map || !f->cols) {
        sq_flat_reset(f);
        return NOMEM(err);
    }
    return PL_OK;
}

void sq_flat_reset(sq_flat *f) {
    pl_free(f->used);
    pl_free(f->map);
    pl_free(f->cols);
    memset(f, 0, sizeof *f);
}

pl_status sq_plan_flat(sq_ctx *ctx, const PgQuery__SelectStmt *st, sq_select_opts *o, pl_df **out,
                       pl_error *err) {
    sq_flat *f = o->flat;
    pl_status rc = PL_OK;
    for (int32_t attempt = 0; attempt <= f->n_outer; attempt++) {
        f->grew = false;
        rc = sq_plan_query(ctx, st, o, out, err);
        if (!rc || rc == PL_ERR_NOMEM || !f->grew) break;
        if (err) pl_error_init(err);
        bool allow_ne = o->corr->allow_ne;
        sq_corr_reset(o->corr);
        o->corr->allow_ne = allow_ne;
    }
    return rc;
}

bool sq_flat_any(const sq_flat *f) {
    for (int32_t i = 0; i < f->n_outer; i++)
        if (f->used[i]) return true;
    return false;
}

void sq_ctx_reset(sq_ctx *ctx) {
    while (ctx->flat_memo) {
        sq_flat_memo *m = ctx->flat_memo;
        ctx->flat_memo = m->next;
        for (int32_t i = 0; i < m->n_used; i++) pl_free(m->names[i]);
        pl_free(m->names);
        pl_free(m->cols);
        pl_free(m);
    }
}

/* "qualifier.name" of column i of r (pl_free). */
static char *col_key(const sq_rel *r, int32_t i) {
    const char *q = sq_rel_qual(r, i), *n = sq_rel_name(r, i);
    size_t len = (q ? strlen(q) : 0) + strlen(n) + 2;
    char *k = pl_malloc(len);
    if (k) snprintf(k, len, "%s.%s", q ? q : "", n);
    return k;
}

/* The memo of st planned with mode over the outer relation r: fills f (used, agg) and returns
 * true when the columns it recorded are still there under the same names. */
static bool flat_memo_get(sq_ctx *ctx, const void *st, uint32_t mode, const sq_rel *r, sq_flat *f) {
    for (sq_flat_memo *m = ctx->flat_memo; m; m = m->next) {
        if (m->node != st || m->mode != mode) continue;
        for (int32_t i = 0; i < m->n_used; i++) {
            if (m->cols[i] >= r->n_cols || m->cols[i] >= f->n_outer) return false;
            char *k = col_key(r, m->cols[i]);
            bool same = k && !strcmp(k, m->names[i]);
            pl_free(k);
            if (!same) return false;
        }
        for (int32_t i = 0; i < m->n_used; i++) f->used[m->cols[i]] = true;
        f->agg = m->agg;
        return true;
    }
    return false;
}

/* Records that st planned with mode over r is flattened with f's used columns (best effort:
 * out of memory only loses the memo). */
static void flat_memo_put(sq_ctx *ctx, const void *st, uint32_t mode, const sq_rel *r, const sq_flat *f) {
    sq_flat_memo *m = pl_calloc(1, sizeof *m);
    if (!m) return;
    int32_t n = 0;
    for (int32_t i = 0; i < f->n_outer; i++) n += f->used[i];
    m->node = st;
    m->mode = mode;
    m->agg = f->agg;
    m->cols = pl_calloc((size_t)(n ? n : 1), sizeof *m->cols);
    m->names = pl_calloc((size_t)(n ? n : 1), sizeof *m->names);
    bool ok = m->cols && m->names;
    for (int32_t i = 0; ok && i < f->n_outer && i < r->n_cols; i++) {
        if (!f->used[i]) continue;
        m->cols[m->n_used] = i;
        if (!(m->names[m->n_used] = col_key(r, i))) ok = false;
        else m->n_used++;
    }
    if (ok && m->n_used != n) ok = false;
    m->next = ctx->flat_memo;
    ctx->flat_memo = m;
    if (!ok) m->node = NULL; /* never matches; freed with the rest */
}

/* Plans the subquery of sl, taking its correlated conjuncts into *corr. exists_mode: only its
 * FROM/WHERE rows matter; *rows (optional) tells whether *out is that relation (corr->inner
 * over it) or the whole query, whose first corr->n_keys columns are then the correlation keys
 * (`__ck<i>`). The subquery is flattened (sq_flat) when its correlation is more than
 * equalities (resid_rows: the caller joins such conditions itself when *rows), when it uses
 * outer columns outside WHERE, or when it is a correlated aggregate without GROUP BY with
 * HAVING; *flat (optional) tells, and with it an aggregate without GROUP BY already has one
 * row per key, matched or not. */
static pl_status plan_sub(sq_scope *sc, const PgQuery__SubLink *sl, bool exists_mode, bool allow_ne,
                          bool resid_rows, sq_corr *corr, pl_df **out, bool *scalar_agg, bool *rows,
                          bool *flat, pl_error *err) {
    memset(corr, 0, sizeof *corr);
    corr->pos = -1;
    corr->allow_ne = allow_ne;
    if (flat) *flat = false;
    if (!sl->subselect || sl->subselect->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return sq_fail(err, PL_ERR_SQL, sl->location, "bad subquery");
    const PgQuery__SelectStmt *st = sl->subselect->select_stmt;
    /* EXISTS only needs FROM/WHERE when nothing else changes the row set */
    bool simple = st->op == PG_QUERY__SET_OPERATION__SETOP_NONE && st->n_group_clause == 0 &&
                  !st->having_clause && !st->limit_count && !st->limit_offset && st->n_values_lists == 0 &&
                  st->n_from_clause > 0;
    if (exists_mode && simple) {
        for (size_t i = 0; i < st->n_target_list && simple; i++) {
            /* aggregates in the select list make EXISTS always true: plan fully */
            const PgQuery__Node *t = st->target_list[i];
            if (t->node_case == PG_QUERY__NODE__NODE_RES_TARGET && t->res_target->val &&
                t->res_target->val->node_case == PG_QUERY__NODE__NODE_FUNC_CALL &&
                !t->res_target->val->func_call->over) {
                const PgQuery__FuncCall *fc = t->res_target->val->func_call;
                const char *nm = sq_str(fc->funcname[fc->n_funcname - 1]);
                if (nm && pl_agg_exists(nm)) simple = false;
            }
        }
    }
    sq_flat fl;
    PL_TRY(sq_flat_init(&fl, sc->rel->n_cols, err));
    sq_select_opts o = {sc, corr, exists_mode && simple, false, false, false, false, 0, NULL};
    o.flat = &fl;
    uint32_t mode = (exists_mode ? 1u : 0u) | (allow_ne ? 2u : 0u) | (resid_rows ? 4u : 0u);
    /* known to need flattening here: straight to that plan */
    bool memo = flat_memo_get(sc->ctx, st, mode, sc->rel, &fl);
    pl_status st2 = memo ? PL_OK : sq_plan_query(sc->ctx, st, &o, out, err);
    bool redo = memo || (st2 ? st2 != PL_ERR_NOMEM && sq_flat_any(&fl)
                             : (corr->n_resid > 0 && !(resid_rows && o.exists_mode)) ||
                                   (o.scalar_agg && st->having_clause && corr->n_keys > 0));
    if (redo) {
        if (!st2 && !memo) pl_df_release(*out);
        *out = NULL;
        sq_corr_reset(corr);
        corr->allow_ne = allow_ne;
        fl.apply = true;
        /* a first plan that failed early (a reference two levels out) did not tell */
        if (!memo) fl.agg = st2 ? sq_select_scalar_agg(st) : o.scalar_agg;
        if (st2 && err) pl_error_init(err); /* the first plan's error, now retried */
        sq_select_opts o2 = {sc, corr, exists_mode && simple, false, false, false, false, 0, NULL};
        o2.flat = &fl;
        st2 = sq_plan_flat(sc->ctx, st, &o2, out, err);
        o = o2;
        if (flat) *flat = true;
        if (!st2 && !memo) flat_memo_put(sc->ctx, st, mode, sc->rel, &fl);
    }
    sq_flat_reset(&fl);
    if (st2) {
        sq_corr_reset(corr);
        return st2;
    }
    if (scalar_agg) *scalar_agg = o.scalar_agg && (redo || !st->having_clause);
    if (rows) *rows = o.exists_mode;
    return PL_OK;
}

/* The correlation key i of a subquery planned by plan_sub (rows: its *rows). New reference. */
static pl_expr *inner_key(const sq_corr *corr, pl_df *sub, bool rows, int32_t i) {
    if (rows) return pl_expr_retain(corr->inner[i]);
    return pl_expr_col_index(i, pl_df_schema(sub)->fields[i].name);
}

/* Columns of df renamed to unique hidden names, all qualified by one hidden alias. */
static pl_status hide_columns(sq_ctx *ctx, pl_df **df, pl_error *err) {
    pl_schema *sch = pl_df_schema(*df);
    int32_t n = sch->n_fields;
    int32_t id = ctx->next_id++;
    const char **olds = pl_calloc((size_t)(n ? n : 1), sizeof *olds);
    char **news = pl_calloc((size_t)(n ? n : 1), sizeof *news);
    char *buf = pl_malloc((size_t)(n ? n : 1) * 32);
    pl_status st = (!olds || !news || !buf) ? NOMEM(err) : PL_OK;
    pl_df *r1 = NULL, *r2 = NULL;
    if (!st) {
        for (int32_t i = 0; i < n; i++) {
            olds[i] = sch->fields[i].name;
            news[i] = buf + (size_t)i * 32;
            snprintf(news[i], 32, "__s%d_%d", (int)id, (int)i);
        }
        /* pl_df_rename maps names; duplicates in the subquery output need a projection */
        pl_expr **ex = pl_calloc((size_t)(n ? n : 1), sizeof *ex);
        if (!ex) st = NOMEM(err);
        for (int32_t i = 0; !st && i < n; i++) {
            ex[i] = pl_expr_col_index(i, olds[i]);
            if (!ex[i]) st = NOMEM(err);
        }
        if (!st) st = pl_df_select(*df, n, ex, (const char *const *)news, &r1, err);
        for (int32_t i = 0; ex && i < n; i++) pl_expr_release(ex[i]);
        pl_free(ex);
    }
    if (!st) {
        char al[32];
        snprintf(al, sizeof al, "__s%d", (int)id);
        st = pl_df_alias(r1, al, &r2, err);
    }
    if (r1) pl_df_release(r1);
    pl_free(olds);
    pl_free(news);
    pl_free(buf);
    if (st) return st;
    pl_df_release(*df);
    *df = r2;
    return PL_OK;
}

/* One-row aggregate of df: count(*) and, when col >= 0, count(col). */
static pl_status counts(pl_df *df, int32_t col, pl_df **out, pl_error *err) {
    const char *cnt = pl_agg_canonical("count");
    if (!cnt) cnt = "count";
    pl_expr *aggs[2] = {pl_expr_agg(cnt, 0, NULL, false, NULL, 0, NULL), NULL};
    int32_t n = 1;
    if (col >= 0) {
        pl_expr *c = pl_expr_col_index(col, pl_df_schema(df)->fields[col].name);
        aggs[1] = pl_expr_agg(cnt, 1, &c, false, NULL, 0, NULL);
        n = 2;
    }
    const char *names[2] = {"__n", "__nn"};
    pl_status st = (!aggs[0] || (n == 2 && !aggs[1])) ? NOMEM(err)
                                                     : pl_df_aggregate(df, 0, NULL, NULL, n, aggs, names, out, err);
    pl_expr_release(aggs[0]);
    pl_expr_release(aggs[1]);
    return st;
}

/* Appends df's columns (hidden) to the scope's relation with a cross join (df has one row). */
static pl_status append_cross(sq_scope *sc, pl_df *df, bool constant, int32_t pos, int32_t *first,
                              pl_error *err) {
    sq_rel *r = sc->rel;
    *first = r->n_cols;
    pl_df *j = NULL;
    pl_status st = pl_df_join(r->df, df, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &j, err);
    pl_df_release(df);
    if (st) return sq_at(err, st, pos);
    return sq_rel_extend(r, j, true, constant, err);
}

pl_expr *sq_resid_for_join(const pl_expr *e, int32_t shift) { return outer_to_inner_copy(e, shift); }

static pl_expr *outer_to_inner_copy(const pl_expr *e, int32_t nl) {
    /* residual: inner refs shift by nl, outer refs become plain indices */
    pl_expr *c = sq_shift(e, 0, nl);
    if (!c) return NULL;
    pl_expr *stack[256];
    int sp = 0;
    stack[sp++] = c;
    while (sp > 0) {
        pl_expr *x = stack[--sp];
        if (x->kind == PL_EXPR_COLUMN && x->index <= SQ_OUTER_BASE) x->index = SQ_OUTER_BASE - x->index;
        for (int32_t i = 0; i < x->n_args && sp < 256; i++) stack[sp++] = x->args[i];
    }
    return c;
}

/* ---------------------------------------------------------------- WHERE conjuncts */

pl_status sq_where_sublink(sq_scope *sc, const PgQuery__Node *conj, bool *done, pl_error *err) {
    *done = false;
    bool negate = false;
    const PgQuery__Node *n = conj;
    if (n->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
        n->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR && n->bool_expr->n_args == 1) {
        negate = true;
        n = n->bool_expr->args[0];
    }
    if (n->node_case != PG_QUERY__NODE__NODE_SUB_LINK) return PL_OK;
    const PgQuery__SubLink *sl = n->sub_link;
    bool is_exists = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK;
    bool is_in = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK &&
                 (sl->n_oper_name == 0 || (sq_str(sl->oper_name[sl->n_oper_name - 1]) &&
                                           !strcmp(sq_str(sl->oper_name[sl->n_oper_name - 1]), "=")));
    if (!is_exists && !(is_in && !negate)) return PL_OK; /* NOT IN: NULL-aware expression path */
    PL_TRY(need_rel(sc, sl->location, err));
    sq_corr corr;
    pl_df *sub = NULL;
    bool rows = false;
    PL_TRY(plan_sub(sc, sl, is_exists, true, is_exists, &corr, &sub, NULL, &rows, NULL, err));
    pl_status st = PL_OK;
    sq_rel *r = sc->rel;
    int32_t nl = r->n_cols;
    if (is_exists && corr.n_keys == 0 && corr.n_resid == 0) {
        /* uncorrelated: one count, cross joined */
        pl_df *c = NULL;
        st = counts(sub, -1, &c, err);
        pl_df_release(sub);
        int32_t first;
        if (!st) st = hide_columns(sc->ctx, &c, err);
        if (!st) st = append_cross(sc, c, true, sl->location, &first, err);
        if (!st) {
            pl_expr *pred = pl_expr_call2(negate ? "eq" : "gt", sq_colref(r, first, sl->location), pl_expr_lit_i64(0));
            if (!pred) st = NOMEM(err);
            else {
                pred->sql_pos = sl->location;
                st = sq_rel_filter(r, pred, err);
                pl_expr_release(pred);
            }
        }
        sq_corr_reset(&corr);
        if (!st) *done = true;
        return st;
    }
    /* keys: outer exprs over r, inner exprs over sub */
    int32_t n_keys = corr.n_keys;
    int32_t n_sub_cols = pl_df_schema(sub)->n_fields;
    pl_expr **lk = pl_calloc((size_t)(n_keys + 4), sizeof *lk);
    pl_expr **rk = pl_calloc((size_t)(n_keys + 4), sizeof *rk);
    bool *kne = pl_calloc((size_t)(n_keys + 4), sizeof *kne); /* IS NOT DISTINCT FROM keys */
    pl_expr *resid = NULL;
    int32_t nk = 0;
    if (!lk || !rk || !kne) st = NOMEM(err);
    for (int32_t i = 0; !st && i < n_keys; i++) kne[i] = corr.ne[i];
    if (!st && is_exists) {
        /* a grouped (or limited...) subquery: its correlated conditions other than keys would
         * apply to its FROM rows, which its result no longer has */
        if (!rows && corr.n_resid > 0)
            st = sq_corr_refuse(&corr, "EXISTS subqueries with GROUP BY, HAVING, LIMIT or set operations",
                                "write the condition inside a derived table, or as a join", err);
        for (int32_t i = 0; !st && i < n_keys; i++) {
            lk[nk] = pl_expr_retain(corr.outer[i]);
            rk[nk] = inner_key(&corr, sub, rows, i);
            nk++;
        }
    } else if (!st) {
        /* IN: sub = [__ck..., item] */
        if (corr.n_resid > 0)
            st = sq_corr_refuse(&corr, "IN subqueries", "write it as EXISTS (... AND item = value)", err);
        int32_t n_items = n_sub_cols - n_keys;
        for (int32_t i = 0; !st && i < n_keys; i++) {
            lk[nk] = pl_expr_retain(corr.outer[i]);
            rk[nk] = pl_expr_col_index(i, pl_df_schema(sub)->fields[i].name);
            nk++;
        }
        const PgQuery__Node *t = sl->testexpr;
        PgQuery__Node *const *tests = (PgQuery__Node *const *)&sl->testexpr;
        int32_t n_tests = 1;
        if (t && t->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
            tests = t->row_expr->args;
            n_tests = (int32_t)t->row_expr->n_args;
        }
        if (!st && n_tests != n_items)
            st = sq_fail(err, PL_ERR_SQL, sl->location, "subquery has %d columns but %d are compared",
                         (int)n_items, (int)n_tests);
        if (!st && n_tests > 4) st = sq_fail(err, PL_ERR_UNSUPPORTED, sl->location, "too many IN columns");
        for (int32_t i = 0; !st && i < n_tests; i++) {
            st = sq_expr(sc, tests[i], &lk[nk], err);
            if (st) break;
            rk[nk] = pl_expr_col_index(n_keys + i, pl_df_schema(sub)->fields[n_keys + i].name);
            nk++;
        }
    }
    if (!st && corr.n_resid > 0) {
        for (int32_t i = 0; !st && i < corr.n_resid; i++) {
            pl_expr *c = outer_to_inner_copy(corr.resid[i], nl);
            if (!c) {
                st = NOMEM(err);
                break;
            }
            resid = resid ? pl_expr_call2("and", resid, c) : c;
            if (!resid) st = NOMEM(err);
        }
    }
    if (!st) {
        /* the semi join's right keys are plain index refs over sub; finalise both sides */
        pl_expr **fl = pl_calloc((size_t)(nk + 1), sizeof *fl);
        pl_expr **fr = pl_calloc((size_t)(nk + 1), sizeof *fr);
        pl_expr *fres = NULL;
        int32_t d = 0;
        if (!fl || !fr) st = NOMEM(err);
        for (; !st && d < nk; d++) {
            st = sq_finalize(lk[d], r->df, NULL, &fl[d], err);
            if (!st) st = sq_finalize(rk[d], sub, NULL, &fr[d], err);
            if (st) {
                pl_expr_release(fl[d]);
                break;
            }
        }
        if (!st && resid) st = sq_finalize(resid, r->df, sub, &fres, err);
        pl_df *j = NULL;
        if (!st) {
            pl_join_opts jo = {false, fres, kne, PL_ASOF_GE};
            st = pl_df_join(r->df, sub, negate ? PL_JOIN_ANTI : PL_JOIN_SEMI, nk, fl, fr, &jo, &j, err);
            if (st) sq_at(err, st, sl->location);
        }
        for (int32_t i = 0; i < d; i++) {
            pl_expr_release(fl[i]);
            pl_expr_release(fr[i]);
        }
        pl_free(fl);
        pl_free(fr);
        pl_expr_release(fres);
        if (!st) {
            pl_df_release(r->df);
            r->df = j;
        }
    }
    for (int32_t i = 0; i < nk; i++) {
        pl_expr_release(lk[i]);
        pl_expr_release(rk[i]);
    }
    pl_free(lk);
    pl_free(rk);
    pl_free(kne);
    pl_expr_release(resid);
    pl_df_release(sub);
    sq_corr_reset(&corr);
    if (!st) *done = true;
    return st;
}

/* ---------------------------------------------------------------- expressions */

/* Left-joins sub (its first n_keys columns equal the outer keys) onto the relation; returns the
 * index of sub's first column in the relation. Keys compare with IS NOT DISTINCT FROM when
 * null_equal, else as corr->ne says. */
static pl_status append_left(sq_scope *sc, pl_df *sub, const sq_corr *corr, int32_t n_keys,
                             bool null_equal, int32_t pos, int32_t *first, pl_error *err) {
    PL_TRY(hide_columns(sc->ctx, &sub, err));
    sq_rel *r = sc->rel;
    *first = r->n_cols;
    pl_expr **lk = pl_calloc((size_t)(n_keys + 1), sizeof *lk);
    pl_expr **rk = pl_calloc((size_t)(n_keys + 1), sizeof *rk);
    pl_status st = (!lk || !rk) ? NOMEM(err) : PL_OK;
    for (int32_t i = 0; !st && i < n_keys; i++) {
        lk[i] = pl_expr_retain(corr->outer[i]);
        rk[i] = pl_expr_col_index(i, pl_df_schema(sub)->fields[i].name);
        if (!rk[i]) st = NOMEM(err);
    }
    if (!st) {
        st = sq_join_append(r, sub, PL_JOIN_LEFT, n_keys, lk, rk, NULL, null_equal,
                            null_equal ? NULL : corr->ne, pos, err);
        sub = NULL;
    }
    if (!st)
        for (int32_t i = *first; i < r->n_cols; i++) r->hidden[i] = true;
    for (int32_t i = 0; i < n_keys; i++) {
        if (lk) pl_expr_release(lk[i]);
        if (rk) pl_expr_release(rk[i]);
    }
    pl_free(lk);
    pl_free(rk);
    if (sub) pl_df_release(sub);
    return st;
}

static pl_status scalar_sub(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err) {
    sq_corr corr;
    pl_df *sub = NULL;
    bool scalar_agg = false, flat = false;
    PL_TRY(plan_sub(sc, sl, false, false, false, &corr, &sub, &scalar_agg, NULL, &flat, err));
    pl_status st = PL_OK;
    int32_t n_cols = pl_df_schema(sub)->n_fields - corr.n_keys;
    if (corr.n_resid > 0)
        st = sq_corr_refuse(&corr, "scalar subqueries",
                            "rewrite it as a LEFT JOIN on the condition with GROUP BY the outer row's "
                            "columns (or as a window function)",
                            err);
    else if (n_cols != 1)
        st = sq_fail(err, PL_ERR_SQL, sl->location, "subquery returns %d columns, expected 1", (int)n_cols);
    if (st) {
        pl_df_release(sub);
        sq_corr_reset(&corr);
        return st;
    }
    int32_t first;
    sq_rel *r = sc->rel;
    if (corr.n_keys == 0) {
        /* one row: an aggregate over the subquery's (at most one) row */
        const char *fn = pl_agg_canonical("first");
        if (!fn) fn = pl_agg_canonical("any_value");
        if (!fn) fn = pl_agg_canonical("min");
        if (!fn) fn = "min";
        pl_expr *c = pl_expr_col_index(0, pl_df_schema(sub)->fields[0].name);
        /* and the row count: more than one row is an error, like DuckDB (__single_row) */
        pl_expr *a[2] = {pl_expr_agg(fn, 1, &c, false, NULL, 0, NULL),
                         pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL)};
        const char *nm[2] = {"__v", "__n"};
        pl_df *one = NULL;
        st = a[0] && a[1] ? pl_df_aggregate(sub, 0, NULL, NULL, 2, a, nm, &one, err) : NOMEM(err);
        pl_expr_release(a[0]);
        pl_expr_release(a[1]);
        pl_df_release(sub);
        if (!st) st = hide_columns(sc->ctx, &one, err);
        if (!st) st = append_cross(sc, one, true, sl->location, &first, err);
        else if (one) pl_df_release(one);
        sq_corr_reset(&corr);
        if (st) return sq_at(err, st, sl->location);
        pl_expr *e = pl_expr_call2("__single_row", sq_colref(r, first + 1, sl->location),
                                   sq_colref(r, first, sl->location));
        if (!e) return NOMEM(err);
        e->sql_pos = sl->location;
        *out = e;
        return PL_OK;
    }
    int32_t nk = corr.n_keys;
    /* an aggregate without GROUP BY: a row for every key, also without matches (count bug;
     * a flattened one has them already) */
    if (scalar_agg && !flat)
        st = sq_complete_scalar_agg(sc, sl->subselect->select_stmt, &corr, r->df, &sub, sl->location, err);
    if (st) {
        pl_df_release(sub);
        sq_corr_reset(&corr);
        return st;
    }
    if (!scalar_agg) {
        /* rows per key: more than one for an outer row is an error, like DuckDB (the join
         * would repeat the outer row) */
        pl_expr **part = pl_calloc((size_t)nk, sizeof *part);
        if (!part) st = NOMEM(err);
        for (int32_t i = 0; !st && i < nk; i++)
            if (!(part[i] = pl_expr_col_index(i, pl_df_schema(sub)->fields[i].name))) st = NOMEM(err);
        pl_expr *w = st ? NULL : pl_expr_window("count", 0, NULL, nk, part, 0, NULL, NULL);
        if (!st && !w) st = NOMEM(err);
        if (part && !w)
            for (int32_t i = 0; i < nk; i++) pl_expr_release(part[i]);
        pl_free(part);
        const char *wn = "__n";
        pl_df *counted = NULL;
        if (!st) st = pl_df_window(sub, 1, &w, &wn, &counted, err);
        pl_expr_release(w);
        pl_df_release(sub);
        sub = counted;
        if (st) {
            sq_corr_reset(&corr);
            return sq_at(err, st, sl->location);
        }
    }
    st = append_left(sc, sub, &corr, nk, scalar_agg, sl->location, &first, err);
    sq_corr_reset(&corr);
    if (st) return st;
    pl_expr *e = sq_colref(r, first + nk, sl->location);
    if (e && !scalar_agg) e = pl_expr_call2("__single_row", sq_colref(r, first + nk + 1, sl->location), e);
    if (!e) return NOMEM(err);
    e->sql_pos = sl->location;
    *out = e;
    return PL_OK;
}

/* ARRAY(SELECT y ...): the subquery's column as a list in its row order, [] without rows, like
 * DuckDB; correlated by equalities (or flattened) like a scalar subquery: the rows numbered by
 * row_number() OVER () (their order), list(y ORDER BY the number) per correlation key, left
 * joined. */
static pl_status array_sub(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err) {
    sq_corr corr;
    pl_df *sub = NULL;
    bool scalar_agg = false, flat = false;
    PL_TRY(plan_sub(sc, sl, false, false, false, &corr, &sub, &scalar_agg, NULL, &flat, err));
    pl_status st = PL_OK;
    int32_t nk = corr.n_keys;
    int32_t n_cols = pl_df_schema(sub)->n_fields - nk;
    if (corr.n_resid > 0)
        st = sq_corr_refuse(&corr, "ARRAY subqueries", "correlate by equalities only", err);
    else if (n_cols != 1)
        st = sq_fail(err, PL_ERR_SQL, sl->location, "ARRAY subquery returns %d columns, expected 1", (int)n_cols);
    /* an aggregate without GROUP BY: a row for every key, also without matches */
    if (!st && nk > 0 && scalar_agg && !flat)
        st = sq_complete_scalar_agg(sc, sl->subselect->select_stmt, &corr, sc->rel->df, &sub, sl->location, err);
    pl_df *num = NULL, *agg = NULL;
    const char *rn_name = "__rn";
    if (!st) {
        pl_expr *rn = pl_expr_window("row_number", 0, NULL, 0, NULL, 0, NULL, NULL);
        st = rn ? pl_df_window(sub, 1, &rn, &rn_name, &num, err) : NOMEM(err);
        pl_expr_release(rn);
    }
    pl_df_release(sub);
    pl_expr **keys = st ? NULL : pl_calloc((size_t)nk + 1, sizeof *keys);
    char **kn = st ? NULL : pl_calloc((size_t)nk + 1, sizeof *kn);
    char *kbuf = st ? NULL : pl_malloc(((size_t)nk + 1) * 16);
    if (!st && (!keys || !kn || !kbuf)) st = NOMEM(err);
    for (int32_t i = 0; !st && i < nk; i++) {
        kn[i] = kbuf + (size_t)i * 16;
        snprintf(kn[i], 16, "__ck%d", (int)i);
        if (!(keys[i] = pl_expr_col_index(i, pl_df_schema(num)->fields[i].name))) st = NOMEM(err);
    }
    if (!st) {
        const char *lf = pl_agg_canonical("list");
        pl_expr *c = pl_expr_col_index(nk, pl_df_schema(num)->fields[nk].name);
        pl_sort_key ord = {pl_expr_col_index(nk + 1, rn_name), false, false};
        pl_expr *a = c && ord.expr ? pl_expr_agg(lf ? lf : "list", 1, &c, false, NULL, 1, &ord) : NULL;
        if (!a) {
            if (!c || !ord.expr) {
                pl_expr_release(c);
                pl_expr_release(ord.expr);
            }
            st = NOMEM(err);
        }
        const char *an = "__l";
        if (!st) st = pl_df_aggregate(num, nk, keys, (const char *const *)kn, 1, &a, &an, &agg, err);
        pl_expr_release(a);
    }
    for (int32_t i = 0; keys && i < nk; i++) pl_expr_release(keys[i]);
    pl_free(keys);
    pl_free(kn);
    pl_free(kbuf);
    pl_df_release(num);
    int32_t first = -1;
    sq_rel *r = sc->rel;
    if (!st && nk == 0) {
        st = hide_columns(sc->ctx, &agg, err);
        if (!st) {
            st = append_cross(sc, agg, true, sl->location, &first, err);
            agg = NULL;
        }
    } else if (!st) {
        /* an aggregate's row for a NULL key (sq_complete_scalar_agg) matches it, as for a
         * scalar subquery */
        st = append_left(sc, agg, &corr, nk, scalar_agg, sl->location, &first, err);
        agg = NULL;
    }
    if (agg) pl_df_release(agg);
    sq_corr_reset(&corr);
    if (st) return sq_at(err, st, sl->location);
    pl_expr *e = pl_expr_call2("coalesce", sq_colref(r, first + nk, sl->location),
                               pl_expr_call("list_value", 0, NULL));
    if (!e) return NOMEM(err);
    e->sql_pos = sl->location;
    *out = e;
    return PL_OK;
}

static pl_status exists_expr(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err) {
    sq_corr corr;
    pl_df *sub = NULL;
    bool rows = false;
    PL_TRY(plan_sub(sc, sl, true, true, false, &corr, &sub, NULL, &rows, NULL, err));
    sq_rel *r = sc->rel;
    pl_status st = PL_OK;
    int32_t first;
    if (corr.n_resid > 0) {
        st = sq_corr_refuse(&corr, "EXISTS subqueries outside WHERE conjuncts",
                            "move it into a WHERE conjunct, or count the matches with a LEFT JOIN on the "
                            "condition",
                            err);
    } else if (corr.n_keys == 0) {
        pl_df *c = NULL;
        st = counts(sub, -1, &c, err);
        if (!st) st = hide_columns(sc->ctx, &c, err);
        if (!st) st = append_cross(sc, c, true, sl->location, &first, err);
        if (!st) {
            *out = pl_expr_call2("gt", sq_colref(r, first, sl->location), pl_expr_lit_i64(0));
            if (!*out) st = NOMEM(err);
            else (*out)->sql_pos = sl->location;
        }
    } else {
        /* distinct correlation keys with a marker count, left joined */
        int32_t nk = corr.n_keys;
        pl_expr **keys = pl_calloc((size_t)nk, sizeof *keys);
        char **kn = pl_calloc((size_t)nk, sizeof *kn);
        char *buf = pl_malloc((size_t)nk * 16);
        if (!keys || !kn || !buf) st = NOMEM(err);
        int32_t d = 0;
        for (; !st && d < nk; d++) {
            pl_expr *ik = inner_key(&corr, sub, rows, d);
            st = ik ? sq_finalize(ik, sub, NULL, &keys[d], err) : NOMEM(err);
            pl_expr_release(ik);
            kn[d] = buf + (size_t)d * 16;
            snprintf(kn[d], 16, "__ck%d", (int)d);
        }
        const char *cnt = pl_agg_canonical("count");
        pl_expr *m = pl_expr_agg(cnt ? cnt : "count", 0, NULL, false, NULL, 0, NULL);
        const char *mn = "__m";
        pl_df *g = NULL;
        if (!st) st = m ? pl_df_aggregate(sub, nk, keys, (const char *const *)kn, 1, &m, &mn, &g, err) : NOMEM(err);
        pl_expr_release(m);
        for (int32_t i = 0; i < d; i++) pl_expr_release(keys[i]);
        pl_free(keys);
        pl_free(kn);
        pl_free(buf);
        if (!st) st = append_left(sc, g, &corr, nk, false, sl->location, &first, err);
        else if (g) pl_df_release(g);
        if (!st) {
            *out = pl_expr_call1("is_not_null", sq_colref(r, first + nk, sl->location));
            if (!*out) st = NOMEM(err);
            else (*out)->sql_pos = sl->location;
        }
    }
    pl_df_release(sub);
    sq_corr_reset(&corr);
    return st;
}

/* The operator negated for ALL: x op ALL (S) is NOT (x neg(op) ANY (S)) in three-valued logic. */
static const char *quant_op(const char *op, bool negate) {
    static const char *const ops[][3] = {{"=", "eq", "<>"},  {"<>", "ne", "="}, {"!=", "ne", "="},
                                         {"<", "lt", ">="},  {"<=", "le", ">"}, {">", "gt", "<="},
                                         {">=", "ge", "<"}};
    for (size_t i = 0; i < PL_ARRAY_LEN(ops); i++)
        if (!strcmp(op, ops[i][0])) {
            if (!negate) return ops[i][0];
            return ops[i][2];
        }
    return NULL;
}

static const char *quant_fn(const char *op) {
    if (!strcmp(op, "=")) return "eq";
    if (!strcmp(op, "<>") || !strcmp(op, "!=")) return "ne";
    if (!strcmp(op, "<")) return "lt";
    if (!strcmp(op, "<=")) return "le";
    if (!strcmp(op, ">")) return "gt";
    return "ge";
}

static void release_exprs(pl_expr **v, int32_t n) {
    for (int32_t i = 0; v && i < n; i++) pl_expr_release(v[i]);
    pl_free(v);
}

/* Column refs 0..n-1 of df (named) in a new array; NULL when out of memory. */
static pl_expr **col_refs(const pl_df *df, int32_t first, int32_t n) {
    pl_expr **v = pl_calloc((size_t)(n ? n : 1), sizeof *v);
    for (int32_t i = 0; v && i < n; i++)
        if (!(v[i] = pl_expr_col_index(first + i, pl_df_schema(df)->fields[first + i].name))) {
            release_exprs(v, i);
            return NULL;
        }
    return v;
}

/* df filtered to rows where one of columns [first, first + n) is NULL. Takes df. */
static pl_status filter_any_null(pl_df *df, int32_t first, int32_t n, pl_df **out, pl_error *err) {
    pl_expr *pred = NULL;
    for (int32_t i = 0; i < n; i++) {
        pl_expr *t = pl_expr_call1("is_null", pl_expr_col_index(first + i, pl_df_schema(df)->fields[first + i].name));
        pred = pred ? pl_expr_call2("or", pred, t) : t;
    }
    pl_status st = pred ? pl_df_filter(df, pred, out, err) : NOMEM(err);
    pl_expr_release(pred);
    pl_df_release(df);
    return st;
}

/* The (keys, x) rows of d (nk + k columns) with a row of s (nk + k columns, the same keys)
 * that may equal them: every pair x_i = y_i true or NULL. Takes d and s (retained by the
 * caller when shared). */
static pl_status maybe_pairs(pl_df *d, pl_df *s, int32_t nk, int32_t k, const bool *kne, pl_df **out,
                             pl_error *err) {
    int32_t w = nk + k;
    pl_expr **lk = col_refs(d, 0, nk), **rk = col_refs(s, 0, nk);
    pl_df *j = NULL, *f = NULL;
    pl_status st = lk && rk ? PL_OK : NOMEM(err);
    if (!st) {
        pl_join_opts jo = {false, NULL, kne, PL_ASOF_GE};
        st = pl_df_join(d, s, nk ? PL_JOIN_INNER : PL_JOIN_CROSS, nk, lk, rk, nk ? &jo : NULL, &j, err);
    }
    release_exprs(lk, nk);
    release_exprs(rk, nk);
    pl_df_release(d);
    pl_df_release(s);
    if (st) return st;
    pl_expr *pred = NULL;
    for (int32_t i = 0; i < k; i++) {
        pl_expr *x = pl_expr_col_index(nk + i, pl_df_schema(j)->fields[nk + i].name);
        pl_expr *y = pl_expr_col_index(w + nk + i, pl_df_schema(j)->fields[w + nk + i].name);
        pl_expr *t = pl_expr_call1("not", pl_expr_call1("is_false", pl_expr_call2("eq", x, y)));
        pred = pred ? pl_expr_call2("and", pred, t) : t;
    }
    st = pred ? pl_df_filter(j, pred, &f, err) : NOMEM(err);
    pl_expr_release(pred);
    pl_df_release(j);
    if (st) return st;
    pl_expr **cols = col_refs(f, 0, w);
    char **names = pl_calloc((size_t)w, sizeof *names);
    char *buf = pl_malloc((size_t)w * 16);
    st = cols && names && buf ? PL_OK : NOMEM(err);
    for (int32_t i = 0; !st && i < w; i++) {
        names[i] = buf + (size_t)i * 16;
        snprintf(names[i], 16, "__d%d", (int)i);
    }
    if (!st) st = pl_df_select(f, w, cols, (const char *const *)names, out, err);
    release_exprs(cols, w);
    pl_free(names);
    pl_free(buf);
    pl_df_release(f);
    return st;
}

/* (x1, ..., xk) IN (SELECT y1, ..., yk ...) outside WHERE conjuncts (also = ANY, and NOT IN /
 * <> ALL as its negation), with SQL's three-valued logic like DuckDB: true when a row equals
 * field by field, else NULL when a row may (every pair equal or NULL), else false; false over
 * no rows. Planned as: n = count(*) per correlation key; hit = a left join on (keys, x) against
 * the distinct (keys, y) (a NULL never matches); maybe = a left join against the distinct
 * (keys, x) that have such a row, found by joining the outer (keys, x) that hold a NULL with the
 * subquery's rows and all outer (keys, x) with the subquery's rows that hold a NULL (so the
 * pairs looked at are those with a NULL on one side). */
static pl_status row_in_expr(sq_scope *sc, const PgQuery__SubLink *sl, bool is_all, pl_expr **out,
                             pl_error *err) {
    const PgQuery__RowExpr *re = sl->testexpr->row_expr;
    int32_t k = (int32_t)re->n_args, pos = sl->location;
    sq_corr corr;
    pl_df *sub = NULL;
    PL_TRY(plan_sub(sc, sl, false, false, false, &corr, &sub, NULL, NULL, NULL, err));
    sq_rel *r = sc->rel;
    int32_t nk = corr.n_keys, w = nk + k;
    pl_status st = PL_OK;
    if (corr.n_resid > 0)
        st = sq_corr_refuse(&corr, "IN subqueries of a row outside WHERE conjuncts",
                            "correlate by equalities only", err);
    else if (pl_df_schema(sub)->n_fields - nk != k)
        st = sq_fail(err, PL_ERR_SQL, pos, "subquery has %d columns but %d are compared",
                     (int)(pl_df_schema(sub)->n_fields - nk), (int)k);
    pl_expr **x = st ? NULL : pl_calloc((size_t)k, sizeof *x);
    if (!st && !x) st = NOMEM(err);
    for (int32_t i = 0; !st && i < k; i++) st = sq_expr(sc, re->args[i], &x[i], err);
    /* n per key */
    int32_t s_first = -1, h_first = -1, m_first = -1;
    pl_expr **keys = st ? NULL : col_refs(sub, 0, w);
    if (!st && !keys) st = NOMEM(err);
    char **kn = st ? NULL : pl_calloc((size_t)w + 1, sizeof *kn);
    char *kbuf = st ? NULL : pl_malloc(((size_t)w + 1) * 16);
    if (!st && (!kn || !kbuf)) st = NOMEM(err);
    for (int32_t i = 0; !st && i < w; i++) {
        kn[i] = kbuf + (size_t)i * 16;
        snprintf(kn[i], 16, "__ck%d", (int)i);
    }
    const char *cnt = pl_agg_canonical("count");
    if (!st) {
        pl_df *stats = NULL;
        pl_expr *a = pl_expr_agg(cnt ? cnt : "count", 0, NULL, false, NULL, 0, NULL);
        const char *an = "__n";
        st = a ? pl_df_aggregate(sub, nk, keys, (const char *const *)kn, 1, &a, &an, &stats, err) : NOMEM(err);
        pl_expr_release(a);
        if (!st && nk == 0) {
            st = hide_columns(sc->ctx, &stats, err);
            if (!st) st = append_cross(sc, stats, true, pos, &s_first, err);
            else pl_df_release(stats);
        } else if (!st) {
            st = append_left(sc, stats, &corr, nk, false, pos, &s_first, err);
            if (!st) s_first += nk;
        }
    }
    /* the distinct (keys, y) of the subquery, with a marker */
    pl_df *dist = NULL;
    if (!st) {
        pl_expr *a = pl_expr_agg(cnt ? cnt : "count", 0, NULL, false, NULL, 0, NULL);
        const char *an = "__m";
        st = a ? pl_df_aggregate(sub, w, keys, (const char *const *)kn, 1, &a, &an, &dist, err) : NOMEM(err);
        pl_expr_release(a);
    }
    bool *kne = st ? NULL : pl_calloc((size_t)w, sizeof *kne);
    if (!st && !kne) st = NOMEM(err);
    for (int32_t i = 0; !st && i < nk; i++) kne[i] = corr.ne[i];
    pl_expr **lk = st ? NULL : pl_calloc((size_t)w, sizeof *lk);
    if (!st && !lk) st = NOMEM(err);
    for (int32_t i = 0; !st && i < w; i++)
        if (!(lk[i] = i < nk ? pl_expr_retain(corr.outer[i]) : pl_expr_clone(x[i - nk]))) st = NOMEM(err);
    /* the outer (keys, x), distinct: before the joins below add columns */
    pl_df *d = NULL;
    if (!st) {
        pl_expr **fin = pl_calloc((size_t)w, sizeof *fin);
        st = fin ? PL_OK : NOMEM(err);
        for (int32_t i = 0; !st && i < w; i++) st = sq_finalize(lk[i], r->df, NULL, &fin[i], err);
        pl_df *proj = NULL;
        if (!st) st = pl_df_select(r->df, w, fin, (const char *const *)kn, &proj, err);
        release_exprs(fin, w);
        if (!st) st = pl_df_distinct(proj, &d, err);
        pl_df_release(proj);
    }
    /* hit: (keys, x) among the subquery's rows; x compares with = (NULL never matches) */
    if (!st) {
        pl_df *dk = dist;
        dist = NULL;
        st = hide_columns(sc->ctx, &dk, err);
        pl_expr **rk = st ? NULL : col_refs(dk, 0, w);
        if (!st && !rk) st = NOMEM(err);
        h_first = r->n_cols;
        if (!st) st = sq_join_append(r, dk, PL_JOIN_LEFT, w, lk, rk, NULL, false, kne, pos, err);
        else pl_df_release(dk);
        release_exprs(rk, w);
        if (!st)
            for (int32_t i = h_first; i < r->n_cols; i++) r->hidden[i] = true;
    }
    /* maybe: the outer (keys, x) with a NULL against all rows, all against rows with a NULL */
    if (!st) {
        pl_df *sd = NULL, *d1 = NULL, *s1 = NULL, *m1 = NULL, *m2 = NULL, *mu = NULL, *md = NULL;
        st = pl_df_distinct(sub, &sd, err);
        if (!st) st = filter_any_null(pl_df_retain(d), nk, k, &d1, err);
        if (!st) st = filter_any_null(pl_df_retain(sd), nk, k, &s1, err);
        if (!st) {
            st = maybe_pairs(d1, pl_df_retain(sd), nk, k, kne, &m1, err);
            d1 = NULL;
        }
        if (!st) {
            st = maybe_pairs(pl_df_retain(d), s1, nk, k, kne, &m2, err);
            s1 = NULL;
        }
        if (!st) st = pl_df_union(m1, m2, false, &mu, err); /* UNION: distinct */
        if (!st) {
            pl_expr **cols = pl_calloc((size_t)w + 1, sizeof *cols);
            for (int32_t i = 0; cols && i < w; i++)
                cols[i] = pl_expr_col_index(i, pl_df_schema(mu)->fields[i].name);
            if (cols) cols[w] = pl_expr_lit_bool(true);
            for (int32_t i = 0; cols && i <= w; i++)
                if (!cols[i]) {
                    release_exprs(cols, w + 1);
                    cols = NULL;
                }
            char **names = pl_calloc((size_t)w + 1, sizeof *names);
            if (names) {
                for (int32_t i = 0; i < w; i++) names[i] = kn[i];
                names[w] = "__mb";
            }
            st = cols && names ? pl_df_select(mu, w + 1, cols, (const char *const *)names, &md, err)
                                          : NOMEM(err);
            release_exprs(cols, w + 1);
            pl_free(names);
        }
        if (!st) st = hide_columns(sc->ctx, &md, err);
        pl_expr **rk = st ? NULL : col_refs(md, 0, w);
        if (!st && !rk) st = NOMEM(err);
        m_first = r->n_cols;
        if (!st) {
            st = sq_join_append(r, md, PL_JOIN_LEFT, w, lk, rk, NULL, true, NULL, pos, err);
            md = NULL;
        }
        release_exprs(rk, w);
        if (!st)
            for (int32_t i = m_first; i < r->n_cols; i++) r->hidden[i] = true;
        pl_df_release(sd);
        pl_df_release(d1);
        pl_df_release(s1);
        pl_df_release(m1);
        pl_df_release(m2);
        pl_df_release(mu);
        pl_df_release(md);
    }
    pl_df_release(d);
    pl_df_release(dist);
    pl_df_release(sub);
    release_exprs(lk, lk ? w : 0);
    release_exprs(x, x ? k : 0);
    release_exprs(keys, keys ? w : 0);
    pl_free(kn);
    pl_free(kbuf);
    pl_free(kne);
    sq_corr_reset(&corr);
    if (st) return st;
    /* CASE WHEN coalesce(n, 0) = 0 THEN false WHEN hit THEN true WHEN maybe THEN NULL ELSE false */
    pl_expr *a[7];
    a[0] = pl_expr_call2("eq", pl_expr_call2("coalesce", sq_colref(r, s_first, pos), pl_expr_lit_i64(0)),
                         pl_expr_lit_i64(0));
    a[1] = pl_expr_lit_bool(false);
    a[2] = pl_expr_call1("is_not_null", sq_colref(r, h_first + w, pos));
    a[3] = pl_expr_lit_bool(true);
    a[4] = pl_expr_call1("is_not_null", sq_colref(r, m_first + w, pos));
    a[5] = pl_expr_cast(pl_expr_lit_null(), pl_type_simple(PL_TYPE_BOOL), false);
    a[6] = pl_expr_lit_bool(false);
    pl_expr *e = pl_expr_call("case", 7, a);
    if (e && is_all) {
        e->sql_pos = pos;
        e = pl_expr_call1("not", e);
    }
    if (!e) return NOMEM(err);
    e->sql_pos = pos;
    *out = e;
    return PL_OK;
}

/* x op ANY (S) / x op ALL (S) (IN is = ANY) outside WHERE conjuncts, with SQL's three-valued
 * logic, planned over aggregates of S (per correlation key when correlated by equalities):
 *   n = count(*), nn = count(y), and min(y)/max(y) for the inequalities, or, for =, a left join
 *   against the distinct (keys, y) with a marker;
 *   ANY: CASE WHEN n = 0 THEN false WHEN x IS NULL THEN NULL WHEN hit THEN true
 *        WHEN nn < n THEN NULL ELSE false END
 *   where hit is x < max / x <= max / x > min / x >= min / (x <> min OR x <> max) / matched;
 *   ALL is NOT (x neg(op) ANY (S)). Never run per row. */
static pl_status quant_expr(sq_scope *sc, const PgQuery__SubLink *sl, bool is_all, pl_expr *x,
                            pl_expr **out, pl_error *err) {
    const char *op0 = sl->n_oper_name ? sq_str(sl->oper_name[sl->n_oper_name - 1]) : "=";
    const char *op = op0 ? quant_op(op0, is_all) : NULL;
    if (!op) {
        pl_expr_release(x);
        return sq_fail(err, PL_ERR_UNSUPPORTED, sl->location, "%s with operator \"%s\" is not supported",
                       is_all ? "ALL" : "ANY/SOME", op0 ? op0 : "?");
    }
    if (sl->testexpr && sl->testexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        pl_expr_release(x);
        if (!strcmp(op, "=")) return row_in_expr(sc, sl, is_all, out, err);
        return sq_fail(err, PL_ERR_UNSUPPORTED, sl->location,
                       "a row compared with a subquery by \"%s\" %s is not supported (only IN, = ANY, "
                       "NOT IN and <> ALL)",
                       op0, is_all ? "ALL" : "ANY");
    }
    bool is_eq = !strcmp(op, "=");
    if (!x) PL_TRY(sq_expr(sc, sl->testexpr, &x, err));
    sq_corr corr;
    pl_df *sub = NULL;
    pl_status st = plan_sub(sc, sl, false, false, false, &corr, &sub, NULL, NULL, NULL, err);
    if (st) {
        pl_expr_release(x);
        return st;
    }
    sq_rel *r = sc->rel;
    int32_t nk = corr.n_keys;
    if (corr.n_resid > 0)
        st = sq_corr_refuse(&corr, is_all ? "ALL subqueries" : "IN / ANY subqueries outside WHERE conjuncts",
                            "correlate by equalities only, or join on the condition and aggregate", err);
    else if (pl_df_schema(sub)->n_fields - nk != 1)
        st = sq_fail(err, PL_ERR_SQL, sl->location, "subquery returns %d columns, expected 1",
                     (int)(pl_df_schema(sub)->n_fields - nk));
    pl_schema *ss = st ? NULL : pl_df_schema(sub);
    /* stats per key: n, nn[, mn, mx] */
    pl_df *stats = NULL, *dist = NULL;
    int32_t s_first = -1, d_first = -1;
    pl_expr **keys = NULL;
    char **kn = NULL;
    char *kbuf = NULL;
    if (!st) {
        keys = pl_calloc((size_t)nk + 2, sizeof *keys);
        kn = pl_calloc((size_t)nk + 2, sizeof *kn);
        kbuf = pl_malloc(((size_t)nk + 2) * 16);
        if (!keys || !kn || !kbuf) st = NOMEM(err);
        for (int32_t i = 0; !st && i <= nk; i++) {
            kn[i] = kbuf + (size_t)i * 16;
            snprintf(kn[i], 16, "__ck%d", (int)i);
        }
    }
    if (!st) {
        const char *cnt = pl_agg_canonical("count"), *mnf = pl_agg_canonical("min"),
                   *mxf = pl_agg_canonical("max");
        pl_expr *aggs[4] = {NULL};
        int32_t na = is_eq ? 2 : 4;
        aggs[0] = pl_expr_agg(cnt ? cnt : "count", 0, NULL, false, NULL, 0, NULL);
        pl_expr *c = pl_expr_col_index(nk, ss->fields[nk].name);
        aggs[1] = pl_expr_agg(cnt ? cnt : "count", 1, &c, false, NULL, 0, NULL);
        if (!is_eq) {
            c = pl_expr_col_index(nk, ss->fields[nk].name);
            aggs[2] = pl_expr_agg(mnf ? mnf : "min", 1, &c, false, NULL, 0, NULL);
            c = pl_expr_col_index(nk, ss->fields[nk].name);
            aggs[3] = pl_expr_agg(mxf ? mxf : "max", 1, &c, false, NULL, 0, NULL);
        }
        for (int32_t i = 0; !st && i < nk; i++)
            if (!(keys[i] = pl_expr_col_index(i, ss->fields[i].name))) st = NOMEM(err);
        for (int32_t i = 0; i < na; i++)
            if (!aggs[i]) st = NOMEM(err);
        const char *an[4] = {"__n", "__nn", "__mn", "__mx"};
        if (!st) st = pl_df_aggregate(sub, nk, keys, (const char *const *)kn, na, aggs, an, &stats, err);
        for (int32_t i = 0; i < na; i++) pl_expr_release(aggs[i]);
        for (int32_t i = 0; keys && i < nk; i++) {
            pl_expr_release(keys[i]);
            keys[i] = NULL;
        }
    }
    if (!st && nk == 0) {
        st = hide_columns(sc->ctx, &stats, err);
        if (!st) {
            st = append_cross(sc, stats, true, sl->location, &s_first, err);
            stats = NULL;
        }
    } else if (!st) {
        st = append_left(sc, stats, &corr, nk, false, sl->location, &s_first, err);
        stats = NULL;
        if (!st) s_first += nk;
    }
    /* =: the distinct (keys, y) with a marker, left joined on (outer keys, x) */
    if (!st && is_eq) {
        for (int32_t i = 0; !st && i <= nk; i++)
            if (!(keys[i] = pl_expr_col_index(i, ss->fields[i].name))) st = NOMEM(err);
        const char *cnt = pl_agg_canonical("count");
        pl_expr *m = pl_expr_agg(cnt ? cnt : "count", 0, NULL, false, NULL, 0, NULL);
        const char *mn = "__m";
        if (!st) st = m ? pl_df_aggregate(sub, nk + 1, keys, (const char *const *)kn, 1, &m, &mn, &dist, err)
                        : NOMEM(err);
        pl_expr_release(m);
        for (int32_t i = 0; i <= nk; i++) {
            pl_expr_release(keys[i]);
            keys[i] = NULL;
        }
        if (!st) st = hide_columns(sc->ctx, &dist, err);
        pl_expr **lk = st ? NULL : pl_calloc((size_t)nk + 1, sizeof *lk);
        pl_expr **rk = st ? NULL : pl_calloc((size_t)nk + 1, sizeof *rk);
        if (!st && (!lk || !rk)) st = NOMEM(err);
        for (int32_t i = 0; !st && i <= nk; i++) {
            lk[i] = i < nk ? pl_expr_retain(corr.outer[i]) : pl_expr_clone(x);
            rk[i] = pl_expr_col_index(i, pl_df_schema(dist)->fields[i].name);
            if (!lk[i] || !rk[i]) st = NOMEM(err);
        }
        if (!st) {
            d_first = r->n_cols;
            bool *kne = pl_calloc((size_t)nk + 1, sizeof *kne); /* x compares with = */
            for (int32_t i = 0; kne && i < nk; i++) kne[i] = corr.ne[i];
            st = kne ? sq_join_append(r, dist, PL_JOIN_LEFT, nk + 1, lk, rk, NULL, false, kne, sl->location, err)
                     : NOMEM(err);
            if (!kne) pl_df_release(dist);
            pl_free(kne);
            dist = NULL;
            if (!st)
                for (int32_t i = d_first; i < r->n_cols; i++) r->hidden[i] = true;
        }
        for (int32_t i = 0; i <= nk; i++) {
            if (lk) pl_expr_release(lk[i]);
            if (rk) pl_expr_release(rk[i]);
        }
        pl_free(lk);
        pl_free(rk);
    }
    pl_free(keys);
    pl_free(kn);
    pl_free(kbuf);
    if (stats) pl_df_release(stats);
    if (dist) pl_df_release(dist);
    pl_df_release(sub);
    sq_corr_reset(&corr);
    if (st) {
        pl_expr_release(x);
        return st;
    }
    int32_t pos = sl->location;
    pl_expr *n_ref = sq_colref(r, s_first, pos), *nn_ref = sq_colref(r, s_first + 1, pos);
    pl_expr *hit;
    const char *fn = quant_fn(op);
    if (is_eq) {
        hit = pl_expr_call1("is_not_null", sq_colref(r, d_first + nk + 1, pos));
    } else if (!strcmp(fn, "ne")) {
        hit = pl_expr_call2("or", pl_expr_call2("ne", pl_expr_clone(x), sq_colref(r, s_first + 2, pos)),
                            pl_expr_call2("ne", pl_expr_clone(x), sq_colref(r, s_first + 3, pos)));
    } else {
        bool use_max = !strcmp(fn, "lt") || !strcmp(fn, "le");
        hit = pl_expr_call2(fn, pl_expr_clone(x), sq_colref(r, s_first + (use_max ? 3 : 2), pos));
    }
    /* CASE WHEN coalesce(n, 0) = 0 THEN false WHEN x IS NULL THEN NULL WHEN hit THEN true
     * WHEN nn < n THEN NULL ELSE false END */
    pl_expr *args[9];
    args[0] = pl_expr_call2("eq", pl_expr_call2("coalesce", pl_expr_retain(n_ref), pl_expr_lit_i64(0)),
                            pl_expr_lit_i64(0));
    args[1] = pl_expr_lit_bool(false);
    args[2] = pl_expr_call1("is_null", x);
    args[3] = pl_expr_cast(pl_expr_lit_null(), pl_type_simple(PL_TYPE_BOOL), false);
    args[4] = hit;
    args[5] = pl_expr_lit_bool(true);
    args[6] = pl_expr_call2("lt", nn_ref, n_ref);
    args[7] = pl_expr_cast(pl_expr_lit_null(), pl_type_simple(PL_TYPE_BOOL), false);
    args[8] = pl_expr_lit_bool(false);
    pl_expr *e = pl_expr_call("case", 9, args);
    if (e && is_all) {
        e->sql_pos = pos;
        e = pl_expr_call1("not", e);
    }
    if (!e) return NOMEM(err);
    e->sql_pos = pos;
    *out = e;
    return PL_OK;
}

pl_status sq_sublink_now(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr *x, pl_expr **out,
                         pl_error *err) {
    pl_status st = need_rel(sc, sl->location, err);
    if (st) {
        pl_expr_release(x);
        return st;
    }
    bool quant = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK ||
                 sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK;
    if (!quant) pl_expr_release(x);
    switch (sl->sub_link_type) {
    case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
        return scalar_sub(sc, sl, out, err);
    case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK:
        return exists_expr(sc, sl, out, err);
    case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
        return quant_expr(sc, sl, false, x, out, err);
    case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK:
        return quant_expr(sc, sl, true, x, out, err);
    case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK:
        return array_sub(sc, sl, out, err);
    default:
        return sq_fail(err, PL_ERR_UNSUPPORTED, sl->location, "this kind of subquery is not supported");
    }
}

/* A subquery of a grouped query outside aggregate arguments: a placeholder, planned after the
 * aggregation (sq_defer); the left side of IN / ANY / ALL is translated now, over the rows
 * before aggregation, and rewritten with the rest of the expression. */
static pl_status defer_sublink(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err) {
    sq_defer *d = sc->defer;
    if (d->n == d->cap) {
        int32_t cap = d->cap ? d->cap * 2 : 4;
        const PgQuery__SubLink **v = pl_realloc((void *)d->v, (size_t)cap * sizeof *v);
        if (!v) return NOMEM(err);
        d->v = v;
        d->cap = cap;
    }
    pl_expr *args[2] = {pl_expr_lit_i64(d->n), NULL};
    if (!args[0]) return NOMEM(err);
    bool quant = sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK ||
                 sl->sub_link_type == PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK;
    if (quant && sl->testexpr && sl->testexpr->node_case != PG_QUERY__NODE__NODE_ROW_EXPR) {
        pl_status st = sq_expr(sc, sl->testexpr, &args[1], err);
        if (st) {
            pl_expr_release(args[0]);
            return st;
        }
    }
    pl_expr *e = pl_expr_call(SQ_DEFER_FN, args[1] ? 2 : 1, args);
    if (!e) return NOMEM(err);
    e->sql_pos = sl->location;
    d->v[d->n++] = sl;
    *out = e;
    return PL_OK;
}

pl_status sq_sublink(sq_scope *sc, const PgQuery__SubLink *sl, pl_expr **out, pl_error *err) {
    PL_TRY(need_rel(sc, sl->location, err));
    if (sc->defer && (sc->allow & SQ_ALLOW_AGG)) return defer_sublink(sc, sl, out, err);
    return sq_sublink_now(sc, sl, NULL, out, err);
}

void sq_post_reset(sq_post *p) {
    for (int32_t i = 0; i < p->n_missing; i++) pl_expr_release(p->missing[i]);
    pl_free(p->missing);
    memset(p, 0, sizeof *p);
}

/* ---------------------------------------------------------------- the count bug */

/* Whether the empty-input plan e gives one row of NULLs only (e.g. min, sum, avg and
 * expressions of them over no rows): then the keys without a group need no row, the LEFT join
 * back gives them those NULLs already. Run now (it reads no rows); a query calling volatile
 * functions, or one that fails here, keeps the general plan. */
static bool empty_values_null(sq_ctx *ctx, const PgQuery__SelectStmt *stmt, pl_df *e) {
    if (sq_calls_volatile(&stmt->base)) return false;
    pl_table *t = NULL;
    pl_error ignored;
    if (pl_df_collect(e, ctx->s ? pl_session_exec_opts(ctx->s) : NULL, &t, &ignored)) return false;
    bool all_null = t->n_rows == 1;
    for (int64_t b = 0; all_null && b < t->n_batches; b++) {
        pl_batch *bt = t->batches[b];
        for (int32_t i = 0; all_null && i < bt->n_cols; i++) {
            pl_array *a = bt->columns[i];
            all_null = a->type->id == PL_TYPE_NA || pl_array_null_count(a) == a->length;
        }
    }
    pl_table_release(t);
    return all_null;
}

pl_status sq_complete_scalar_agg(sq_scope *outer_sc, const PgQuery__SelectStmt *stmt,
                                 const sq_corr *corr, pl_df *outer_df, pl_df **sub, int32_t pos,
                                 pl_error *err) {
    int32_t nk = corr->n_keys;
    pl_schema *ss = pl_df_schema(*sub);
    int32_t nv = ss->n_fields - nk;
    /* the values over no rows */
    sq_corr c2;
    memset(&c2, 0, sizeof c2);
    c2.pos = -1;
    sq_select_opts o = {outer_sc, &c2, false, true, false, false, false, 0, NULL};
    pl_df *e = NULL;
    pl_status st = sq_plan_query(outer_sc->ctx, stmt, &o, &e, err);
    sq_corr_reset(&c2);
    if (st) return st;
    pl_schema *es = pl_df_schema(e);
    if (es->n_fields != nv) st = sq_fail(err, PL_ERR_INTERNAL, pos, "empty-input plan of a subquery differs");
    pl_expr **ex = pl_calloc((size_t)nk + 1, sizeof *ex);
    pl_expr **lk = pl_calloc((size_t)nk + 1, sizeof *lk);
    pl_expr **rk = pl_calloc((size_t)nk + 1, sizeof *rk);
    const char **names = pl_calloc((size_t)nk + 1, sizeof *names);
    if (!st && (!ex || !lk || !rk || !names)) st = NOMEM(err);
    /* R': the groups whose keys are all non-NULL */
    pl_expr *nn = NULL;
    for (int32_t i = 0; !st && i < nk; i++) {
        pl_expr *c = pl_expr_call1("is_not_null", pl_expr_col_index(i, ss->fields[i].name));
        nn = nn ? pl_expr_call2("and", nn, c) : c;
        if (!nn) st = NOMEM(err);
    }
    pl_df *rp = NULL, *d = NULL, *dd = NULL, *dm = NULL, *de = NULL, *full = NULL;
    if (!st) st = pl_df_filter(*sub, nn, &rp, err);
    pl_expr_release(nn);
    if (!st && empty_values_null(outer_sc->ctx, stmt, e)) {
        /* R' alone: a NULL outer key never matches (the keys are equalities) */
        full = rp;
        rp = NULL;
        goto done;
    }
    /* D: the distinct outer keys, typed like the subquery's */
    for (int32_t i = 0; !st && i < nk; i++) {
        pl_expr *f = NULL;
        st = sq_finalize(corr->outer[i], outer_df, NULL, &f, err);
        if (st) break;
        ex[i] = pl_expr_cast(f, pl_type_retain(ss->fields[i].type), false);
        names[i] = ss->fields[i].name;
        if (!ex[i]) st = NOMEM(err);
    }
    if (!st) st = pl_df_select(outer_df, nk, ex, names, &d, err);
    if (!st) st = pl_df_distinct(d, &dd, err);
    /* the keys without a group, crossed with the empty-input values */
    for (int32_t i = 0; !st && i < nk; i++) {
        lk[i] = pl_expr_col_index(i, ss->fields[i].name);
        rk[i] = pl_expr_col_index(i, ss->fields[i].name);
        if (!lk[i] || !rk[i]) st = NOMEM(err);
    }
    pl_join_opts jo = {true, NULL, NULL, PL_ASOF_GE};
    if (!st) st = pl_df_join(dd, rp, PL_JOIN_ANTI, nk, lk, rk, &jo, &dm, err);
    if (!st) st = pl_df_join(dm, e, PL_JOIN_CROSS, 0, NULL, NULL, NULL, &de, err);
    if (!st) st = pl_df_union(rp, de, true, &full, err);
done:
    for (int32_t i = 0; i < nk; i++) {
        if (ex) pl_expr_release(ex[i]);
        if (lk) pl_expr_release(lk[i]);
        if (rk) pl_expr_release(rk[i]);
    }
    pl_free(ex);
    pl_free(lk);
    pl_free(rk);
    pl_free(names);
    pl_df_release(e);
    if (rp) pl_df_release(rp);
    if (d) pl_df_release(d);
    if (dd) pl_df_release(dd);
    if (dm) pl_df_release(dm);
    if (de) pl_df_release(de);
    if (st) return sq_at(err, st, pos);
    pl_df_release(*sub);
    *sub = full;
    return PL_OK;
}
