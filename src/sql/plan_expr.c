/* plan_expr.c - translation of libpg_query expression nodes into pl_expr trees: column
 * resolution through scopes (select aliases, enclosing queries), operators, functions,
 * aggregates, window calls, CASE/CAST/BETWEEN/IN/LIKE, and DuckDB-like output names. */
#include "sql/plan_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory planning SQL")

static pl_expr *at(pl_expr *e, int32_t pos) {
    if (e) e->sql_pos = pos;
    return e;
}

const char *sq_session_zone(const sq_ctx *ctx) {
    return ctx && ctx->s ? pl_session_time_zone(ctx->s) : "UTC";
}

pl_expr *sq_zone_wrap(const sq_ctx *ctx, pl_expr *e, bool always) {
    const char *zone = sq_session_zone(ctx);
    if (!e || (!always && !strcmp(zone, "UTC"))) return e; /* results are typed in UTC */
    int32_t pos = e->sql_pos;
    pl_expr *z = pl_expr_lit_str(zone);
    if (!z) {
        pl_expr_release(e);
        return NULL;
    }
    return at(pl_expr_call2("__session_zone", e, z), pos);
}

/* Functions whose TIMESTAMPTZ result does not come from a TIMESTAMPTZ argument: their results
 * go to the session zone (sq_zone_wrap). */
static bool zone_source_fn(const char *name) {
    static const char *const k[] = {"now", "current_timestamp", "get_current_timestamp",
                                    "transaction_timestamp", "to_timestamp", "timezone",
                                    "strptime", "try_strptime", "make_timestamptz"};
    for (size_t i = 0; i < PL_ARRAY_LEN(k); i++)
        if (!strcmp(name, k[i])) return true;
    return false;
}

/* current_date / current_time under SET TimeZone: the date / time of day of now() in the session
 * zone (*out, the UTC one, replaced); unchanged in UTC. */
static pl_status zone_local_now(const sq_ctx *ctx, bool date, pl_expr **out, pl_error *err) {
    if (!strcmp(sq_session_zone(ctx), "UTC")) return PL_OK;
    int32_t pos = (*out)->sql_pos;
    pl_type *t = NULL;
    if (date) t = pl_type_simple(PL_TYPE_DATE32);
    else PL_TRY(pl_type_new_time64(PL_UNIT_US, &t, err));
    pl_expr_release(*out);
    *out = at(pl_expr_cast(sq_zone_wrap(ctx, pl_expr_call("now", 0, NULL), false), t, false), pos);
    return *out ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory planning SQL");
}

int32_t sq_node_pos(const PgQuery__Node *n) {
    if (!n) return -1;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: return n->column_ref->location;
    case PG_QUERY__NODE__NODE_A_CONST: return n->a_const->location;
    case PG_QUERY__NODE__NODE_A_EXPR: return n->a_expr->location;
    case PG_QUERY__NODE__NODE_FUNC_CALL: return n->func_call->location;
    case PG_QUERY__NODE__NODE_TYPE_CAST: {
        int32_t p = sq_node_pos(n->type_cast->arg);
        if (p < 0 || (n->type_cast->location >= 0 && n->type_cast->location < p))
            p = n->type_cast->type_name ? n->type_cast->type_name->location : n->type_cast->location;
        return p >= 0 ? p : n->type_cast->location;
    }
    case PG_QUERY__NODE__NODE_BOOL_EXPR: return n->bool_expr->location;
    case PG_QUERY__NODE__NODE_NULL_TEST: return n->null_test->location;
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST: return n->boolean_test->location;
    case PG_QUERY__NODE__NODE_CASE_EXPR: return n->case_expr->location;
    case PG_QUERY__NODE__NODE_SUB_LINK: return n->sub_link->location;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR: return n->coalesce_expr->location;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: return n->min_max_expr->location;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: return n->sqlvalue_function->location;
    case PG_QUERY__NODE__NODE_RES_TARGET: return n->res_target->location;
    case PG_QUERY__NODE__NODE_SORT_BY: return sq_node_pos(n->sort_by->node);
    case PG_QUERY__NODE__NODE_ROW_EXPR: return n->row_expr->location;
    case PG_QUERY__NODE__NODE_RANGE_VAR: return n->range_var->location;
    default: return -1;
    }
}

pl_status sq_conjuncts(const PgQuery__Node *n, const PgQuery__Node ***out, int32_t *n_out,
                       pl_error *err) {
    /* iterative flattening of nested ANDs */
    int32_t cap = 8, cnt = 0, sp = 0;
    const PgQuery__Node **res = pl_malloc((size_t)cap * sizeof *res);
    const PgQuery__Node *stack[256];
    if (!res) return NOMEM(err);
    stack[sp++] = n;
    while (sp > 0) {
        const PgQuery__Node *c = stack[--sp];
        if (c->node_case == PG_QUERY__NODE__NODE_BOOL_EXPR &&
            c->bool_expr->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR &&
            sp + (int32_t)c->bool_expr->n_args < 256) {
            for (size_t i = c->bool_expr->n_args; i-- > 0;) stack[sp++] = c->bool_expr->args[i];
            continue;
        }
        if (cnt == cap) {
            cap *= 2;
            const PgQuery__Node **r2 = pl_realloc(res, (size_t)cap * sizeof *res);
            if (!r2) {
                pl_free(res);
                return NOMEM(err);
            }
            res = r2;
        }
        res[cnt++] = c;
    }
    *out = res;
    *n_out = cnt;
    return PL_OK;
}

pl_status sq_int_const(const PgQuery__Node *n, bool *is_int, int64_t *v) {
    *is_int = false;
    if (n && n->node_case == PG_QUERY__NODE__NODE_A_CONST && !n->a_const->isnull &&
        n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
        *is_int = true;
        *v = n->a_const->ival->ival;
    }
    return PL_OK;
}

void sq_sortby_dir(const PgQuery__SortBy *sb, bool *desc, bool *nulls_first) {
    *desc = sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    /* DuckDB: NULLS LAST by default for both directions */
    *nulls_first = sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST;
}

/* ---------------------------------------------------------------- column resolution */

/* A column by one of its other names (sq_rel.alts): index, -1 none, -2 ambiguous. */
static int32_t rel_find_alt(const sq_rel *r, const char *qual, const char *name) {
    int32_t found = -1;
    for (int32_t i = 0; i < r->n_alts; i++) {
        const struct sq_alt *a = &r->alts[i];
        if (strcasecmp(a->name, name) != 0) continue;
        if (qual && (!a->qual || strcasecmp(a->qual, qual) != 0)) continue;
        if (found >= 0 && found != a->col) return -2;
        found = a->col;
    }
    return found;
}

int32_t sq_rel_find(const sq_rel *r, const char *qual, const char *name) {
    int32_t found = -1, n = 0;
    if (r->n_alts > 0) {
        /* only when no column has the name */
        bool any = false;
        int32_t hit = -1;
        for (int32_t i = 0; i < r->n_cols && !any; i++) {
            any = strcasecmp(sq_rel_name(r, i), name) == 0 &&
                  (!qual || (sq_rel_qual(r, i) && strcasecmp(sq_rel_qual(r, i), qual) == 0));
            if (any) hit = i;
        }
        if (!any) return rel_find_alt(r, qual, name);
        /* a column of that name and another column's other name: ambiguous, like DuckDB (an
         * other name of the same column is no ambiguity: FROM t, unnest(l) u gives u and u.u) */
        int32_t alt = qual ? -1 : rel_find_alt(r, NULL, name);
        if (alt != -1 && alt != hit) return -2;
    }
    for (int32_t i = 0; i < r->n_cols; i++) {
        if (strcasecmp(sq_rel_name(r, i), name) != 0) continue;
        if (qual) {
            const char *q = sq_rel_qual(r, i);
            if (!q || strcasecmp(q, qual) != 0) continue;
        } else if (r->hidden[i] && r->star_expr[i] == NULL && r->n_using > 0) {
            /* the right copy of a USING column is reachable only qualified */
            bool is_using = false;
            for (int32_t u = 0; u < r->n_using; u++)
                if (strcasecmp(r->using_names[u], name) == 0) is_using = true;
            if (is_using) continue;
        }
        if (!qual && strncmp(sq_rel_name(r, i), "__", 2) == 0 && r->hidden[i]) continue;
        if (found < 0) found = i;
        n++;
    }
    if (n > 1) {
        /* prefer an exact-case match when the case-insensitive one is ambiguous */
        int32_t exact = -1, ne = 0;
        for (int32_t i = 0; i < r->n_cols; i++) {
            if (strcmp(sq_rel_name(r, i), name) != 0) continue;
            if (qual) {
                const char *q = sq_rel_qual(r, i);
                if (!q || strcasecmp(q, qual) != 0) continue;
            }
            exact = i;
            ne++;
        }
        if (ne == 1) return exact;
        return -2;
    }
    return found;
}

static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
    for (size_t k = 0; k <= lb; k++) d[0][k] = (int)k;
    for (size_t i = 1; i <= la; i++)
        for (size_t k = 1; k <= lb; k++) {
            int c = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[k - 1]) ? 0 : 1;
            int v = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < v) v = d[i][k - 1] + 1;
            if (d[i - 1][k - 1] + c < v) v = d[i - 1][k - 1] + c;
            d[i][k] = v;
        }
    return d[la][lb];
}

static void hint_close_names(sq_scope *sc, const char *name, pl_error *err) {
    if (!err) return;
    const char *best = NULL;
    int best_d = 3;
    for (sq_scope *s = sc; s; s = s->outer) {
        if (!s->rel) continue;
        for (int32_t i = 0; i < s->rel->n_cols; i++) {
            const char *c = sq_rel_name(s->rel, i);
            if (strncmp(c, "__", 2) == 0) continue;
            int d = edit_distance(name, c);
            if (d < best_d) {
                best_d = d;
                best = c;
            }
        }
    }
    if (best) snprintf(err->hint, sizeof err->hint, "did you mean \"%s\"?", best);
}

static pl_status resolve_in(sq_scope *sc, const char *qual, const char *name, int32_t pos,
                            pl_expr **out, bool *found, pl_error *err) {
    *found = false;
    sq_rel *r = sc->rel;
    if (!r) return PL_OK;
    if (!qual) {
        for (int32_t u = 0; u < r->n_using; u++)
            if (strcasecmp(r->using_names[u], name) == 0) {
                pl_expr *e = pl_expr_clone(r->using_exprs[u]);
                if (!e) return NOMEM(err);
                *out = at(e, pos);
                *found = true;
                return PL_OK;
            }
    }
    int32_t i = sq_rel_find(r, qual, name);
    if (i == -2)
        return sq_fail(err, PL_ERR_SQL, pos, "column reference \"%s%s%s\" is ambiguous",
                       qual ? qual : "", qual ? "." : "", name);
    if (i < 0) return PL_OK;
    pl_expr *e = sq_colref(r, i, pos);
    if (!e) return NOMEM(err);
    *out = e;
    *found = true;
    return PL_OK;
}

/* A correlated subquery's reference e to the outer relation (plain index references): the
 * columns are recorded as used (first plan), or become the flattened relation's columns
 * standing for them (*remapped). */
static pl_status flat_outer(sq_flat *f, pl_expr *e, bool *remapped, pl_error *err) {
    if (e->kind == PL_EXPR_COLUMN) {
        if (e->index < 0 || e->index >= f->n_outer)
            return pl_error_set(err, PL_ERR_UNSUPPORTED,
                                "correlated references across more than one query level are not supported");
        if (!f->apply) {
            f->used[e->index] = true;
            return PL_OK;
        }
        if (f->map[e->index] < 0) { /* not seen by the first plan: planned again with it */
            f->used[e->index] = true;
            f->grew = true;
            return pl_error_set(err, PL_ERR_UNSUPPORTED, "outer column %d of a flattened subquery not in its plan",
                                (int)e->index);
        }
        e->index = f->map[e->index];
        *remapped = true;
        return PL_OK;
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(flat_outer(f, e->args[i], remapped, err));
    return PL_OK;
}

static pl_status mark_outer(pl_expr *e, pl_error *err) {
    /* every inner index reference of e becomes an outer reference */
    if (e->kind == PL_EXPR_COLUMN) {
        if (e->index >= 0) e->index = SQ_OUTER_BASE - e->index;
        else if (e->index <= SQ_OUTER_BASE)
            return pl_error_set(err, PL_ERR_UNSUPPORTED,
                                "correlated references across more than one query level are not supported");
        return PL_OK;
    }
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(mark_outer(e->args[i], err));
    return PL_OK;
}

/* e (taken), resolved in the enclosing query's relation, as an outer reference of sc: recorded
 * or remapped when sc is flattened, else SQ_OUTER_BASE - i. */
static pl_status outer_ref(sq_scope *sc, pl_expr *e, int32_t pos, pl_expr **out, pl_error *err) {
    bool remapped = false;
    pl_status st = sc->flat ? flat_outer(sc->flat, e, &remapped, err) : PL_OK;
    if (!st && remapped) {
        *out = e;
        return PL_OK;
    }
    if (!st) st = mark_outer(e, err);
    if (st) {
        pl_expr_release(e);
        return sq_at(err, st, pos);
    }
    sc->outer_used = true;
    *out = e;
    return PL_OK;
}

/* Every column reference i of e becomes SQ_PRE_BASE - i (to_pre), or back. */
static void pre_mark(pl_expr *e, bool to_pre) {
    if (!e) return;
    if (e->kind == PL_EXPR_COLUMN) {
        if (to_pre && e->index >= 0) e->index = SQ_PRE_BASE - e->index;
        else if (!to_pre && e->index <= SQ_PRE_BASE && e->index > SQ_OUTER_BASE) e->index = SQ_PRE_BASE - e->index;
    }
    for (int32_t i = 0; i < e->n_args; i++) pre_mark(e->args[i], to_pre);
    pre_mark(e->filter, to_pre);
    for (int32_t i = 0; i < e->n_order; i++) pre_mark(e->order[i].expr, to_pre);
    for (int32_t i = 0; i < e->n_partition; i++) pre_mark(e->partition[i], to_pre);
}

/* A name of sc's enclosing grouped query o after its aggregation (o->post): resolved in the
 * relation before aggregation, it must be a GROUP BY key (its column of the aggregated
 * relation); while probing an aggregate's level it stays a marked reference before aggregation. */
static pl_status post_resolve(sq_scope *sc, sq_scope *o, const char *qual, const char *name, int32_t pos,
                              pl_expr **out, bool *found, pl_error *err) {
    sq_scope pre = {0};
    pre.ctx = o->ctx;
    pre.rel = (sq_rel *)(uintptr_t)o->post->pre;
    pl_expr *e = NULL;
    PL_TRY(resolve_in(&pre, qual, name, pos, &e, found, err));
    if (!*found) return PL_OK;
    if (sc->agg_probe) {
        pre_mark(e, true);
        *out = e;
        return PL_OK;
    }
    for (int32_t k = 0; k < o->post->n_keys; k++)
        if (sq_expr_equal(o->post->keys[k], e)) {
            pl_expr_release(e);
            *out = sq_colref(o->rel, k, pos);
            return *out ? PL_OK : NOMEM(err);
        }
    pl_expr_release(e);
    *found = false;
    return sq_fail(err, PL_ERR_SQL, pos,
                   "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function", name);
}

/* Query levels a correlated reference may cross. */
#define SQ_MAX_OUTER_LEVELS 64

/* *e, found in the relation of scope x two or more query levels out of sc, as an expression
 * over the relation of sc->outer: threaded through each query in between, which must be a
 * flattened correlated subquery (sq_flat), like DuckDB's dependent joins: its D then carries
 * the column, and the reference becomes one to the query just outside sc. A first plan of a
 * query in between only records the column as used and fails, so that it is planned again
 * flattened. A grouped query in between (sq_post) passes on the column as its GROUP BY key. */
static pl_status thread_outer(sq_scope *sc, const sq_scope *x, pl_expr **e, const char *name, int32_t pos,
                              pl_error *err) {
    sq_scope *chain[SQ_MAX_OUTER_LEVELS];
    int32_t n = 0;
    for (sq_scope *m = sc->outer; m && m != x; m = m->outer) {
        if (n == SQ_MAX_OUTER_LEVELS) {
            pl_expr_release(*e);
            return sq_fail(err, PL_ERR_LIMIT, pos, "correlated reference to \"%s\" across more than %d query levels",
                           name, SQ_MAX_OUTER_LEVELS);
        }
        chain[n++] = m;
    }
    for (int32_t i = n - 1; i >= 0; i--) {
        sq_scope *mid = chain[i];
        bool remapped = false;
        pl_status st = mid->flat ? flat_outer(mid->flat, *e, &remapped, err) : PL_OK;
        if (!st && !remapped)
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                         "correlated reference to \"%s\" across more than one query level is supported only from "
                         "subqueries of correlated subqueries",
                         name);
        if (!st && mid->post) {
            int32_t k = 0;
            while (k < mid->post->n_keys && !sq_expr_equal(mid->post->keys[k], *e)) k++;
            if (k == mid->post->n_keys) {
                st = sq_fail(err, PL_ERR_SQL, pos,
                             "column \"%s\" must appear in the GROUP BY clause or be used in an aggregate function",
                             name);
            } else {
                pl_expr *c = sq_colref(mid->rel, k, pos);
                if (!c) st = NOMEM(err);
                pl_expr_release(*e);
                *e = c;
            }
        }
        if (st) {
            pl_expr_release(*e);
            *e = NULL;
            return st;
        }
    }
    return PL_OK;
}

pl_status sq_resolve(sq_scope *sc, const char *qual, const char *name, int32_t pos,
                     pl_expr **out, pl_error *err) {
    bool found;
    PL_TRY(resolve_in(sc, qual, name, pos, out, &found, err));
    if (found) return PL_OK;
    /* select-list aliases (DuckDB allows them in WHERE, GROUP BY, HAVING) */
    if (!qual)
        for (int32_t i = 0; i < sc->n_aliases; i++) {
            sq_alias *a = &sc->aliases[i];
            if (!a->name || a->busy || strcasecmp(a->name, name) != 0) continue;
            a->busy = true;
            pl_status st = sq_expr(sc, a->node, out, err);
            a->busy = false;
            return st;
        }
    /* enclosing queries */
    if (sc->outer) {
        pl_expr *e = NULL;
        sq_scope *o = sc->outer;
        PL_TRY(resolve_in(o, qual, name, pos, &e, &found, err));
        if (!found && o->post) {
            PL_TRY(post_resolve(sc, o, qual, name, pos, &e, &found, err));
            if (found && sc->agg_probe) {
                *out = e;
                return PL_OK;
            }
        }
        if (found) return outer_ref(sc, e, pos, out, err);
        for (sq_scope *oo = o->outer; oo; oo = oo->outer) {
            PL_TRY(resolve_in(oo, qual, name, pos, &e, &found, err));
            if (!found && oo->post) {
                sq_scope plain = *sc; /* keys, not a probe's marks */
                plain.agg_probe = false;
                PL_TRY(post_resolve(&plain, oo, qual, name, pos, &e, &found, err));
            }
            if (found) {
                PL_TRY(thread_outer(sc, oo, &e, name, pos, err));
                return outer_ref(sc, e, pos, out, err);
            }
        }
    }
    if (sc->unbound) {
        pl_expr *e = qual ? pl_expr_col_qualified(qual, name) : pl_expr_col(name);
        if (!e) return NOMEM(err);
        *out = at(e, pos);
        return PL_OK;
    }
    pl_status st;
    if (qual)
        st = sq_fail(err, PL_ERR_NOT_FOUND, pos, "column \"%s.%s\" not found", qual, name);
    else
        st = sq_fail(err, PL_ERR_NOT_FOUND, pos, "column \"%s\" not found", name);
    hint_close_names(sc, name, err);
    return st;
}

static pl_status call_n(const char *name, int32_t n, pl_expr **args, int32_t pos, pl_expr **out,
                        pl_error *err);
static pl_status call2(const char *name, pl_expr *a, pl_expr *b, int32_t pos, pl_expr **out,
                       pl_error *err);

static pl_status column_ref(sq_scope *sc, const PgQuery__ColumnRef *cr, pl_expr **out,
                            pl_error *err) {
    const char *parts[4] = {0};
    size_t n = cr->n_fields;
    if (n == 0 || n > 4) return sq_fail(err, PL_ERR_SQL, cr->location, "invalid column reference");
    for (size_t i = 0; i < n; i++) {
        if (cr->fields[i]->node_case == PG_QUERY__NODE__NODE_A_STAR)
            return sq_fail(err, PL_ERR_SQL, cr->location, "\"*\" is not allowed here");
        parts[i] = sq_str(cr->fields[i]);
        if (!parts[i]) return sq_fail(err, PL_ERR_SQL, cr->location, "invalid column reference");
    }
    const char *name = parts[n - 1];
    const char *qual = n >= 2 ? parts[n - 2] : NULL;
    /* a lambda's parameter (they hide columns of the same name, like DuckDB) */
    for (const sq_lambda *lp = n <= 2 ? sc->lambdas : NULL; lp; lp = lp->up)
        for (int32_t k = 0; k < lp->n; k++) {
            if (strcasecmp(lp->names[k], parts[0]) != 0) continue;
            pl_expr *a[2] = {pl_expr_lit_i64(lp->id), pl_expr_lit_i64(k)};
            if (!a[0] || !a[1]) {
                pl_expr_release(a[0]);
                pl_expr_release(a[1]);
                return NOMEM(err);
            }
            pl_expr *p = NULL;
            PL_TRY(call_n("__lambda_param", 2, a, cr->location, &p, err));
            if (n == 1) {
                *out = p;
                return PL_OK;
            }
            pl_expr *f = pl_expr_lit_str(name); /* x.a of a struct element */
            if (!f) {
                pl_expr_release(p);
                return NOMEM(err);
            }
            return call2("struct_extract", p, f, cr->location, out, err);
        }
    pl_error before = err ? *err : (pl_error){0};
    pl_status st = sq_resolve(sc, qual, name, cr->location, out, err);
    if (st == PL_ERR_NOT_FOUND && (n == 2 || n == 3) && !sc->unbound) {
        /* s.a (or t.s.a) where s is not a table: a struct column's field (DuckDB),
         * struct_extract(s, 'a'); the first error stands when s is no column either */
        pl_error first = err ? *err : (pl_error){0};
        pl_expr *base = NULL;
        pl_status st2 = sq_resolve(sc, n == 3 ? parts[0] : NULL, parts[n - 2], cr->location, &base, err);
        if (st2) {
            if (err) *err = first;
            return st;
        }
        if (err) *err = before; /* no hint of the failed lookup on later errors */
        pl_expr *f = pl_expr_lit_str(name);
        if (!f) {
            pl_expr_release(base);
            return NOMEM(err);
        }
        return call2("struct_extract", base, f, cr->location, out, err);
    }
    return st;
}

/* ---------------------------------------------------------------- helpers */

static pl_status sub_scope_expr(sq_scope *sc, uint32_t clear, const char *clause,
                                const PgQuery__Node *n, pl_expr **out, pl_error *err) {
    uint32_t saved = sc->allow;
    const char *saved_clause = sc->clause;
    sc->allow &= ~clear;
    if (clause) sc->clause = clause;
    pl_status st = sq_expr(sc, n, out, err);
    sc->allow = saved;
    sc->clause = saved_clause;
    return st;
}

static pl_status expr_list(sq_scope *sc, PgQuery__Node *const *nodes, size_t n, pl_expr ***out,
                           pl_error *err) {
    pl_expr **v = pl_calloc(n ? n : 1, sizeof *v);
    if (!v) return NOMEM(err);
    for (size_t i = 0; i < n; i++) {
        pl_status st = sq_expr(sc, nodes[i], &v[i], err);
        if (st) {
            for (size_t k = 0; k < i; k++) pl_expr_release(v[k]);
            pl_free(v);
            return st;
        }
    }
    *out = v;
    return PL_OK;
}

static pl_status call_n(const char *name, int32_t n, pl_expr **args, int32_t pos, pl_expr **out,
                        pl_error *err) {
    pl_expr *e = pl_expr_call(name, n, args); /* takes args */
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return PL_OK;
}

static pl_status call1(const char *name, pl_expr *a, int32_t pos, pl_expr **out, pl_error *err) {
    pl_expr *e = pl_expr_call1(name, a);
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return PL_OK;
}

static pl_status call2(const char *name, pl_expr *a, pl_expr *b, int32_t pos, pl_expr **out,
                       pl_error *err) {
    pl_expr *e = pl_expr_call2(name, a, b);
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return PL_OK;
}

/* ---------------------------------------------------------------- operators */

/* x op ANY (list) / x op ALL (list), like DuckDB (a NULL list counts as empty):
 *   ANY: CASE WHEN coalesce(len(l), 0) = 0 THEN false WHEN x IS NULL THEN NULL WHEN hit THEN true
 *        WHEN list_count(l) < len(l) THEN NULL ELSE false END, hit being list_contains(l, x)
 *        for =, x <> list_min(l) OR x <> list_max(l) for <>, x < list_max(l) ... ;
 *   ALL: NOT (x neg(op) ANY (l)). */
static pl_status quant_list(sq_scope *sc, const PgQuery__AExpr *ae, const char *op0, bool is_all, int32_t pos,
                            pl_expr **out, pl_error *err) {
    static const char *const ops[][4] = {{"=", "eq", "<>", "ne"}, {"<>", "ne", "=", "eq"}, {"!=", "ne", "=", "eq"},
                                         {"<", "lt", ">=", "ge"}, {"<=", "le", ">", "gt"}, {">", "gt", "<=", "le"},
                                         {">=", "ge", "<", "lt"}};
    const char *fn = NULL;
    for (size_t i = 0; i < PL_ARRAY_LEN(ops) && !fn; i++)
        if (!strcmp(op0, ops[i][0])) fn = is_all ? ops[i][3] : ops[i][1];
    if (!fn)
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "%s with operator \"%s\" is not supported", is_all ? "ALL" : "ANY",
                       op0);
    pl_expr *x = NULL, *l = NULL;
    PL_TRY(sq_expr(sc, ae->lexpr, &x, err));
    pl_status st = sq_expr(sc, ae->rexpr, &l, err);
    if (st) {
        pl_expr_release(x);
        return st;
    }
    pl_expr *hit;
    if (!strcmp(fn, "eq")) {
        hit = pl_expr_call2("list_contains", pl_expr_clone(l), pl_expr_clone(x));
    } else if (!strcmp(fn, "ne")) {
        hit = pl_expr_call2("or", pl_expr_call2("ne", pl_expr_clone(x), pl_expr_call1("list_min", pl_expr_clone(l))),
                            pl_expr_call2("ne", pl_expr_clone(x), pl_expr_call1("list_max", pl_expr_clone(l))));
    } else {
        bool use_max = !strcmp(fn, "lt") || !strcmp(fn, "le");
        hit = pl_expr_call2(fn, pl_expr_clone(x), pl_expr_call1(use_max ? "list_max" : "list_min", pl_expr_clone(l)));
    }
    pl_expr *a[9];
    a[0] = pl_expr_call2("eq", pl_expr_call2("coalesce", pl_expr_call1("array_length", pl_expr_clone(l)), pl_expr_lit_i64(0)),
                         pl_expr_lit_i64(0));
    a[1] = pl_expr_lit_bool(false);
    a[2] = pl_expr_call1("is_null", x);
    a[3] = pl_expr_cast(pl_expr_lit_null(), pl_type_simple(PL_TYPE_BOOL), false);
    a[4] = hit;
    a[5] = pl_expr_lit_bool(true);
    a[6] = pl_expr_call2("lt", pl_expr_call1("list_count", pl_expr_clone(l)), pl_expr_call1("array_length", l));
    a[7] = pl_expr_cast(pl_expr_lit_null(), pl_type_simple(PL_TYPE_BOOL), false);
    a[8] = pl_expr_lit_bool(false);
    pl_expr *e = pl_expr_call("case", 9, a);
    if (e && is_all) {
        e->sql_pos = pos;
        e = pl_expr_call1("not", e);
    }
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return PL_OK;
}

static const struct {
    const char *op, *fn;
    bool negate;
} binops[] = {
    {"+", "add", false},       {"-", "sub", false},     {"*", "mul", false},
    {"/", "div", false},       {"%", "mod", false},     {"//", "int_div", false},
    {"=", "eq", false},        {"==", "eq", false},     {"<>", "ne", false},
    {"!=", "ne", false},       {"<", "lt", false},      {"<=", "le", false},
    {">", "gt", false},        {">=", "ge", false},     {"||", "concat_op", false},
    {"~~", "like", false},     {"!~~", "like", true},   {"~~*", "ilike", false},
    {"!~~*", "ilike", true},   {"^", "pow", false},     {"**", "pow", false},
    {"&", "bit_and", false},   {"|", "bit_or", false},  {"#", "xor", false},
    {"<<", "shift_left", false}, {">>", "shift_right", false},
    {"~", "regexp_matches", false}, {"!~", "regexp_matches", true},
    {"->", "json_extract", false}, {"->>", "json_extract_string", false},
    {"&&", "list_has_any", false}, {"@>", "list_has_all", false}, /* <@: list_has_all swapped */
};

static const char *op_name(const PgQuery__AExpr *ae) {
    if (ae->n_name == 0) return "";
    const char *s = sq_str(ae->name[ae->n_name - 1]);
    return s ? s : "";
}

static bool is_row(const PgQuery__Node *n) { return n && n->node_case == PG_QUERY__NODE__NODE_ROW_EXPR; }

/* ROW(a, b) / (a, b): an unnamed struct like DuckDB's, its fields named element1, element2 ...
 * (the names DuckDB gives them in Arrow output). */
static pl_status row_value(sq_scope *sc, const PgQuery__RowExpr *re, pl_expr **out, pl_error *err) {
    int32_t nf = (int32_t)re->n_args;
    if (nf == 0) return sq_fail(err, PL_ERR_SQL, re->location, "a row value needs at least one value");
    pl_expr **a = pl_calloc((size_t)nf * 2, sizeof *a);
    if (!a) return NOMEM(err);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < nf && !st; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "element%d", (int)i + 1);
        if (!(a[2 * i] = pl_expr_lit_str(nm))) st = NOMEM(err);
        if (!st) st = sq_expr(sc, re->args[i], &a[2 * i + 1], err);
    }
    if (st) {
        for (int32_t i = 0; i < 2 * nf; i++) pl_expr_release(a[i]);
        pl_free(a);
        return st;
    }
    st = call_n("struct_pack", 2 * nf, a, re->location, out, err);
    pl_free(a);
    return st;
}

/* (a1, ..., ak) = (b1, ..., bk) between two row values, with DuckDB's rules (rows compare like
 * structs: a NULL field equals a NULL field and differs from any value, so the result is never
 * NULL): a1 IS NOT DISTINCT FROM b1 AND ... - field by field, so a filter on it is pushed down
 * and joins take its terms as keys. Negated for <> and IS DISTINCT FROM. */
static pl_status row_equal(sq_scope *sc, const PgQuery__RowExpr *l, const PgQuery__RowExpr *r, bool negate,
                           int32_t pos, pl_expr **out, pl_error *err) {
    if (l->n_args != r->n_args)
        return sq_fail(err, PL_ERR_SQL, pos, "cannot compare a row of %d values with a row of %d values",
                       (int)l->n_args, (int)r->n_args);
    pl_expr *acc = NULL;
    for (size_t i = 0; i < l->n_args; i++) {
        pl_expr *a = NULL, *b = NULL, *eq = NULL;
        pl_status st = sq_expr(sc, l->args[i], &a, err);
        if (!st) st = sq_expr(sc, r->args[i], &b, err);
        if (!st) {
            st = call2("is_not_distinct_from", a, b, pos, &eq, err);
            a = b = NULL;
        }
        if (!st && acc) {
            pl_expr *prev = acc;
            acc = NULL; /* call2 takes both */
            st = call2("and", prev, eq, pos, &acc, err);
        } else if (!st) {
            acc = eq;
        }
        if (st) {
            pl_expr_release(a);
            pl_expr_release(b);
            pl_expr_release(acc);
            return st;
        }
    }
    if (negate) return call1("not", acc, pos, out, err);
    *out = acc;
    return PL_OK;
}

static pl_status a_expr(sq_scope *sc, const PgQuery__AExpr *ae, pl_expr **out, pl_error *err) {
    int32_t pos = ae->location;
    const char *op = op_name(ae);
    pl_expr *l = NULL, *r = NULL;
    pl_status st;
    switch (ae->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP: {
        if (!ae->lexpr) {
            PL_TRY(sq_expr(sc, ae->rexpr, &r, err));
            if (!strcmp(op, "+")) {
                *out = r;
                return PL_OK;
            }
            if (!strcmp(op, "-")) {
                pl_type_id lt = r->kind == PL_EXPR_LITERAL && !r->value.is_null && r->value.type
                                    ? r->value.type->id : PL_TYPE_NA;
                /* -INT32_MIN is never an INTEGER literal: 2147483648 reaches here as a BIGINT */
                if ((lt == PL_TYPE_INT64 && r->value.v.i != INT64_MIN) || lt == PL_TYPE_INT32 ||
                    lt == PL_TYPE_FLOAT64) {
                    if (lt == PL_TYPE_FLOAT64) r->value.v.f = -r->value.v.f;
                    else r->value.v.i = -r->value.v.i;
                    r->sql_pos = pos;
                    *out = r;
                    return PL_OK;
                }
                return call1("neg", r, pos, out, err);
            }
            if (!strcmp(op, "~")) return call1("bit_not", r, pos, out, err);
            if (!strcmp(op, "@")) return call1("abs", r, pos, out, err);
            pl_expr_release(r);
            return sq_fail(err, PL_ERR_SQL, pos, "unknown prefix operator \"%s\"", op);
        }
        if (!strcmp(op, "<@@") || !strcmp(op, "!<@@")) {
            /* x [NOT] IN [a, b], rewritten by session_forms.c: list_contains(list, x) */
            PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
            st = sq_expr(sc, ae->rexpr, &r, err);
            if (st) {
                pl_expr_release(l);
                return st;
            }
            if (op[0] != '!') return call2("list_contains", r, l, pos, out, err);
            pl_expr *inner = NULL;
            PL_TRY(call2("list_contains", r, l, pos, &inner, err));
            return call1("not", inner, pos, out, err);
        }
        if (is_row(ae->lexpr) && is_row(ae->rexpr) &&
            (!strcmp(op, "=") || !strcmp(op, "==") || !strcmp(op, "<>") || !strcmp(op, "!=")))
            return row_equal(sc, ae->lexpr->row_expr, ae->rexpr->row_expr, op[0] == '<' || op[0] == '!', pos,
                             out, err);
        if (is_row(ae->lexpr) && is_row(ae->rexpr) && ae->lexpr->row_expr->n_args != ae->rexpr->row_expr->n_args)
            return sq_fail(err, PL_ERR_SQL, pos, "cannot compare a row of %d values with a row of %d values",
                           (int)ae->lexpr->row_expr->n_args, (int)ae->rexpr->row_expr->n_args);
        if (!strcmp(op, "<@")) { /* l <@ r: r holds every element of l */
            PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
            st = sq_expr(sc, ae->rexpr, &r, err);
            if (st) {
                pl_expr_release(l);
                return st;
            }
            return call2("list_has_all", r, l, pos, out, err);
        }
        for (size_t i = 0; i < PL_ARRAY_LEN(binops); i++) {
            if (strcmp(binops[i].op, op) != 0) continue;
            PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
            st = sq_expr(sc, ae->rexpr, &r, err);
            if (st) {
                pl_expr_release(l);
                return st;
            }
            if (!binops[i].negate) return call2(binops[i].fn, l, r, pos, out, err);
            pl_expr *inner = NULL;
            PL_TRY(call2(binops[i].fn, l, r, pos, &inner, err));
            return call1("not", inner, pos, out, err);
        }
        return sq_fail(err, PL_ERR_SQL, pos, "unknown operator \"%s\"", op);
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF: {
        if (ae->kind != PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF && is_row(ae->lexpr) && is_row(ae->rexpr))
            return row_equal(sc, ae->lexpr->row_expr, ae->rexpr->row_expr,
                             ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT, pos, out, err);
        PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
        st = sq_expr(sc, ae->rexpr, &r, err);
        if (st) {
            pl_expr_release(l);
            return st;
        }
        const char *fn = ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT ? "is_distinct_from"
                         : ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT
                             ? "is_not_distinct_from"
                             : "nullif";
        return call2(fn, l, r, pos, out, err);
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN: {
        if (!ae->rexpr || ae->rexpr->node_case != PG_QUERY__NODE__NODE_LIST)
            return sq_fail(err, PL_ERR_SQL, pos, "IN expects a list");
        const PgQuery__List *lst = ae->rexpr->list;
        bool rows = is_row(ae->lexpr);
        for (size_t i = 0; rows && i < lst->n_items; i++) rows = is_row(lst->items[i]);
        if (rows) {
            /* (a, b) IN ((1, 2), (3, 4)): OR of the row equalities (never NULL, like DuckDB) */
            pl_expr *any = NULL;
            for (size_t i = 0; i < lst->n_items; i++) {
                pl_expr *eq = NULL;
                st = row_equal(sc, ae->lexpr->row_expr, lst->items[i]->row_expr, false, pos, &eq, err);
                if (!st && any) {
                    pl_expr *prev = any;
                    any = NULL; /* call2 takes both */
                    st = call2("or", prev, eq, pos, &any, err);
                } else if (!st) {
                    any = eq;
                }
                if (st) {
                    pl_expr_release(any);
                    return st;
                }
            }
            if (!strcmp(op, "<>")) return call1("not", any, pos, out, err);
            *out = any;
            return PL_OK;
        }
        pl_expr **args = pl_calloc(lst->n_items + 1, sizeof *args);
        if (!args) return NOMEM(err);
        st = sq_expr(sc, ae->lexpr, &args[0], err);
        for (size_t i = 0; !st && i < lst->n_items; i++) st = sq_expr(sc, lst->items[i], &args[i + 1], err);
        if (st) {
            for (size_t i = 0; i <= lst->n_items; i++) pl_expr_release(args[i]);
            pl_free(args);
            return st;
        }
        pl_expr *in = NULL;
        st = call_n("in", (int32_t)lst->n_items + 1, args, pos, &in, err);
        pl_free(args);
        if (st) return st;
        if (!strcmp(op, "<>")) return call1("not", in, pos, out, err);
        *out = in;
        return PL_OK;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE: {
        bool neg = op[0] == '!';
        const char *fn = ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_LIKE ? "like" : "ilike";
        PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
        const PgQuery__Node *pat = ae->rexpr;
        pl_expr *esc = NULL;
        if (pat->node_case == PG_QUERY__NODE__NODE_FUNC_CALL && pat->func_call->n_funcname > 0 &&
            sq_str(pat->func_call->funcname[pat->func_call->n_funcname - 1]) &&
            !strcmp(sq_str(pat->func_call->funcname[pat->func_call->n_funcname - 1]), "like_escape") &&
            pat->func_call->n_args == 2) {
            st = sq_expr(sc, pat->func_call->args[1], &esc, err);
            if (st) {
                pl_expr_release(l);
                return st;
            }
            pat = pat->func_call->args[0];
        }
        st = sq_expr(sc, pat, &r, err);
        if (st) {
            pl_expr_release(l);
            pl_expr_release(esc);
            return st;
        }
        pl_expr *e = NULL;
        if (esc) {
            pl_expr *a3[3] = {l, r, esc};
            PL_TRY(call_n(fn, 3, a3, pos, &e, err));
        } else {
            PL_TRY(call2(fn, l, r, pos, &e, err));
        }
        if (neg) return call1("not", e, pos, out, err);
        *out = e;
        return PL_OK;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM: {
        if (!ae->rexpr || ae->rexpr->node_case != PG_QUERY__NODE__NODE_LIST ||
            ae->rexpr->list->n_items != 2)
            return sq_fail(err, PL_ERR_SQL, pos, "BETWEEN expects two bounds");
        pl_expr *lo = NULL, *hi = NULL;
        PL_TRY(sq_expr(sc, ae->lexpr, &l, err));
        st = sq_expr(sc, ae->rexpr->list->items[0], &lo, err);
        if (!st) st = sq_expr(sc, ae->rexpr->list->items[1], &hi, err);
        if (st) {
            pl_expr_release(l);
            pl_expr_release(lo);
            return st;
        }
        bool sym = ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM ||
                   ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM;
        if (sym) {
            pl_expr *lo2 = pl_expr_call2("least", pl_expr_retain(lo), pl_expr_retain(hi));
            pl_expr *hi2 = pl_expr_call2("greatest", lo, hi);
            lo = lo2;
            hi = hi2;
        }
        pl_expr *e = NULL;
        PL_TRY(call_n("between", 3, (pl_expr *[]){l, lo, hi}, pos, &e, err));
        if (ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN ||
            ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM)
            return call1("not", e, pos, out, err);
        *out = e;
        return PL_OK;
    }
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
        return quant_list(sc, ae, op, ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL, pos, out, err);
    default:
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "SIMILAR TO is not supported");
    }
}

/* ---------------------------------------------------------------- functions */

static const char *func_alias(const char *name) {
    static const char *const map[][2] = {
        {"char_length", "length"},   {"character_length", "length"}, {"power", "pow"},
        {"ceiling", "ceil"},         {"date_part", "extract"},       {"datepart", "extract"},
        {"btrim", "trim"},           {"position", "strpos"},         {"ifnull", "coalesce"},
        {"nvl", "coalesce"},         {"substring", "substr"},        {"lcase", "lower"},
        {"ucase", "upper"},          {"len", "length"},              {"strlen", "length"},
        {"pow", "power"},            {"ceil", "ceiling"},            {"substr", "substring"},
        {"current_timestamp", "now"}, {"trunc", "truncate"},         {"ln", "log"},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(map); i++)
        if (strcasecmp(map[i][0], name) == 0) return map[i][1];
    return NULL;
}

/* Canonical scalar function name, or NULL when unknown. */
static const char *scalar_canonical(const char *name) {
    const pl_func_def *d = pl_func_lookup(name);
    if (d) return d->name;
    const char *alt = func_alias(name);
    if (alt && (d = pl_func_lookup(alt)) != NULL) return d->name;
    return NULL;
}

static bool volatile_visit(ProtobufCMessage *m, void *ctx) {
    PL_UNUSED(ctx);
    if (m->descriptor == &pg_query__func_call__descriptor) {
        const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
        const char *nm = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
        const pl_func_def *d = nm ? pl_func_lookup(nm) : NULL;
        const char *alt = nm && !d ? func_alias(nm) : NULL;
        if (alt) d = pl_func_lookup(alt);
        if (d && (d->flags & PL_FN_VOLATILE)) return true;
    }
    return pl_sql_node_children(m, volatile_visit, NULL);
}

static bool agg_visit(ProtobufCMessage *m, void *ctx) {
    if (m->descriptor == &pg_query__sub_link__descriptor) return false; /* its own query */
    if (m->descriptor == &pg_query__func_call__descriptor) {
        const PgQuery__FuncCall *fc = (const PgQuery__FuncCall *)m;
        const char *nm = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
        if (nm && !fc->over) {
            char name[128];
            snprintf(name, sizeof name, "%s", nm);
            for (char *q = name; *q; q++) *q = (char)tolower((unsigned char)*q);
            if (fc->agg_within_group || pl_agg_canonical(name) || !strncmp(name, "regr_", 5) ||
                !strcmp(name, "grouping") || !strcmp(name, "grouping_id"))
                return true;
        }
    }
    return pl_sql_node_children(m, agg_visit, ctx);
}

bool sq_calls_agg(const ProtobufCMessage *m) { return m && agg_visit((ProtobufCMessage *)(uintptr_t)m, NULL); }

bool sq_calls_volatile(const ProtobufCMessage *m) {
    return m && volatile_visit((ProtobufCMessage *)(uintptr_t)m, NULL);
}

static bool is_extract_field_fn(const char *name) {
    static const char *const f[] = {"year",      "month",     "day",     "hour",    "minute",
                                    "second",    "quarter",   "week",    "dayofweek", "dayofyear",
                                    "epoch",     "isodow",    "millisecond", "microsecond",
                                    "dayofmonth", "weekday",  "yearweek", "decade", "century"};
    for (size_t i = 0; i < PL_ARRAY_LEN(f); i++)
        if (strcasecmp(f[i], name) == 0) return true;
    return false;
}

static const PgQuery__WindowDef *find_window(const sq_scope *sc, const char *name) {
    const PgQuery__SelectStmt *sel = sc->sel;
    for (; sel; sel = NULL) {
        for (size_t i = 0; i < sel->n_window_clause; i++) {
            const PgQuery__Node *n = sel->window_clause[i];
            if (n->node_case == PG_QUERY__NODE__NODE_WINDOW_DEF && n->window_def->name &&
                strcasecmp(n->window_def->name, name) == 0)
                return n->window_def;
        }
    }
    return NULL;
}

enum {
    FO_NONDEFAULT = 0x1,
    FO_RANGE = 0x2,
    FO_ROWS = 0x4,
    FO_GROUPS = 0x8,
    FO_START_UNB_PREC = 0x20,
    FO_END_UNB_PREC = 0x40,
    FO_START_UNB_FOLL = 0x80,
    FO_END_UNB_FOLL = 0x100,
    FO_START_CUR = 0x200,
    FO_END_CUR = 0x400,
    FO_START_PREC = 0x800,
    FO_END_PREC = 0x1000,
    FO_START_FOLL = 0x2000,
    FO_END_FOLL = 0x4000,
    FO_EXCLUDE_CURRENT_ROW = 0x8000,
    FO_EXCLUDE_GROUP = 0x10000,
    FO_EXCLUDE_TIES = 0x20000,
};

static pl_status frame_offset(sq_scope *sc, const PgQuery__Node *n, bool rows, pl_value *out,
                              pl_error *err) {
    pl_expr *e = NULL;
    PL_TRY(sub_scope_expr(sc, SQ_ALLOW_AGG | SQ_ALLOW_WINDOW | SQ_ALLOW_SUBQUERY, "window frames", n, &e, err));
    int32_t pos = sq_node_pos(n);
    if (e->kind != PL_EXPR_LITERAL || e->value.is_null) {
        pl_expr_release(e);
        return sq_fail(err, PL_ERR_SQL, pos, "window frame offsets must be constants");
    }
    if (rows && (!e->value.type || (e->value.type->id != PL_TYPE_INT64 && e->value.type->id != PL_TYPE_INT32) ||
                 e->value.v.i < 0)) {
        pl_expr_release(e);
        return sq_fail(err, PL_ERR_SQL, pos, "ROWS and GROUPS frame offsets must be non-negative integers");
    }
    if (rows && e->value.type->id == PL_TYPE_INT32) { /* row counts are BIGINT */
        pl_type_release(e->value.type);
        e->value.type = pl_type_simple(PL_TYPE_INT64);
    }
    pl_status st = pl_value_copy(&e->value, out, err);
    pl_expr_release(e);
    return st;
}

static pl_status build_window(sq_scope *sc, const PgQuery__FuncCall *fc, const char *canon,
                              pl_expr **args, int32_t n_args, pl_expr *filter, pl_expr **out,
                              pl_error *err) {
    const PgQuery__WindowDef *w = fc->over;
    const PgQuery__WindowDef *base = w;
    int32_t pos = fc->location;
    const char *ref = w->name && w->name[0] ? w->name : (w->refname && w->refname[0] ? w->refname : NULL);
    /* the chain of definitions: OVER (...), the named window it references, the window that
     * one is based on (WINDOW w2 AS (w1 ORDER BY x)), ...; each part comes from the first
     * definition that has it (only the first named one was read: w2 AS (w1) lost w1's
     * PARTITION BY and ORDER BY) */
    enum { MAX_CHAIN = 32 };
    const PgQuery__WindowDef *chain[MAX_CHAIN];
    int32_t n_chain = 0;
    chain[n_chain++] = w;
    while (ref) {
        pl_status bad = PL_OK;
        base = n_chain < MAX_CHAIN ? find_window(sc, ref) : NULL;
        if (n_chain == MAX_CHAIN)
            bad = sq_fail(err, PL_ERR_SQL, pos, "window \"%s\": windows are based on each other "
                          "more than %d deep (a cycle?)", ref, MAX_CHAIN - 1);
        else if (!base)
            bad = sq_fail(err, PL_ERR_SQL, w->location >= 0 ? w->location : pos,
                          "window \"%s\" does not exist", ref);
        if (bad) { /* the call's arguments are ours (they leaked here before) */
            for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
            pl_expr_release(filter);
            return bad;
        }
        chain[n_chain++] = base;
        ref = base->refname && base->refname[0] ? base->refname : NULL;
    }
    const PgQuery__WindowDef *part_def = w, *order_def = w, *frame_def = w;
    for (int32_t i = n_chain - 1; i >= 0; i--) {
        if (chain[i]->n_partition_clause) part_def = chain[i];
        if (chain[i]->n_order_clause) order_def = chain[i];
        if (chain[i]->frame_options & FO_NONDEFAULT) frame_def = chain[i];
    }
    int32_t n_part = (int32_t)part_def->n_partition_clause;
    int32_t n_order = (int32_t)order_def->n_order_clause;
    pl_expr **part = pl_calloc((size_t)(n_part ? n_part : 1), sizeof *part);
    pl_sort_key *order = pl_calloc((size_t)(n_order ? n_order : 1), sizeof *order);
    pl_window_frame frame;
    memset(&frame, 0, sizeof frame);
    pl_value_init_null(&frame.start_offset);
    pl_value_init_null(&frame.end_offset);
    pl_status st = PL_OK;
    if (!part || !order) st = NOMEM(err);
    uint32_t clear = SQ_ALLOW_WINDOW;
    for (int32_t i = 0; !st && i < n_part; i++)
        st = sub_scope_expr(sc, clear, "window definitions", part_def->partition_clause[i], &part[i], err);
    for (int32_t i = 0; !st && i < n_order; i++) {
        const PgQuery__Node *o = order_def->order_clause[i];
        if (o->node_case != PG_QUERY__NODE__NODE_SORT_BY) {
            st = sq_fail(err, PL_ERR_SQL, pos, "bad window ORDER BY");
            break;
        }
        sq_sortby_dir(o->sort_by, &order[i].descending, &order[i].nulls_first);
        st = sub_scope_expr(sc, clear, "window definitions", o->sort_by->node, &order[i].expr, err);
    }
    int32_t fo = frame_def->frame_options;
    if (!st && (fo & FO_NONDEFAULT)) {
        frame.present = true;
        frame.exclude = (fo & FO_EXCLUDE_CURRENT_ROW) ? PL_EXCLUDE_CURRENT_ROW
                        : (fo & FO_EXCLUDE_GROUP)     ? PL_EXCLUDE_GROUP
                        : (fo & FO_EXCLUDE_TIES)      ? PL_EXCLUDE_TIES
                                                      : PL_EXCLUDE_NO_OTHERS;
        frame.unit = (fo & FO_ROWS) ? PL_FRAME_ROWS : (fo & FO_GROUPS) ? PL_FRAME_GROUPS : PL_FRAME_RANGE;
        bool rows = frame.unit != PL_FRAME_RANGE; /* ROWS and GROUPS: integer counts */
        if (fo & FO_START_UNB_PREC) frame.start_kind = PL_BOUND_UNBOUNDED_PRECEDING;
        else if (fo & FO_START_CUR) frame.start_kind = PL_BOUND_CURRENT_ROW;
        else if (fo & FO_START_PREC) frame.start_kind = PL_BOUND_PRECEDING;
        else if (fo & FO_START_FOLL) frame.start_kind = PL_BOUND_FOLLOWING;
        else if (fo & FO_START_UNB_FOLL) frame.start_kind = PL_BOUND_UNBOUNDED_FOLLOWING;
        if (fo & FO_END_UNB_FOLL) frame.end_kind = PL_BOUND_UNBOUNDED_FOLLOWING;
        else if (fo & FO_END_PREC) frame.end_kind = PL_BOUND_PRECEDING;
        else if (fo & FO_END_FOLL) frame.end_kind = PL_BOUND_FOLLOWING;
        else if (fo & FO_END_UNB_PREC) frame.end_kind = PL_BOUND_UNBOUNDED_PRECEDING;
        else frame.end_kind = PL_BOUND_CURRENT_ROW;
        if (!st && (fo & (FO_START_PREC | FO_START_FOLL)))
            st = frame_offset(sc, frame_def->start_offset, rows, &frame.start_offset, err);
        if (!st && (fo & (FO_END_PREC | FO_END_FOLL)))
            st = frame_offset(sc, frame_def->end_offset, rows, &frame.end_offset, err);
    }
    if (st) {
        for (int32_t i = 0; i < n_part; i++) pl_expr_release(part ? part[i] : NULL);
        for (int32_t i = 0; i < n_order; i++) pl_expr_release(order ? order[i].expr : NULL);
        pl_free(part);
        pl_free(order);
        for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
        pl_expr_release(filter);
        pl_value_reset(&frame.start_offset);
        pl_value_reset(&frame.end_offset);
        return st;
    }
    /* the frame's offsets are moved into the call (and released by it when it fails): a
     * DECIMAL offset's type was freed here too before, then read by the plan's clone */
    pl_expr *e = pl_expr_window(canon, n_args, args, n_part, part, n_order, order, &frame);
    pl_free(part);
    pl_free(order);
    if (!e) {
        pl_expr_release(filter);
        return NOMEM(err);
    }
    e->filter = filter;
    e->distinct = fc->agg_distinct;
    *out = at(e, pos);
    return PL_OK;
}

/* grouping(a, b, ...) / grouping_id(...): a call of SQ_GROUPING_FN over the (unaggregated)
 * arguments; the aggregation planner (plan_select.c) turns it into a per-grouping-set constant. */
static pl_status grouping_call(sq_scope *sc, PgQuery__Node *const *an, size_t na, int32_t pos,
                               pl_expr **out, pl_error *err) {
    if (!(sc->allow & SQ_ALLOW_AGG))
        return sq_fail(err, PL_ERR_SQL, pos, "GROUPING is not allowed in %s",
                       sc->clause ? sc->clause : "this context");
    if (na == 0 || na > 63) return sq_fail(err, PL_ERR_SQL, pos, "GROUPING takes 1 to 63 arguments");
    uint32_t saved = sc->allow;
    const char *saved_clause = sc->clause;
    sc->allow &= ~(SQ_ALLOW_AGG | SQ_ALLOW_WINDOW);
    sc->clause = "GROUPING arguments";
    pl_expr **args = NULL;
    pl_status st = expr_list(sc, an, na, &args, err);
    sc->allow = saved;
    sc->clause = saved_clause;
    if (st) return st;
    st = call_n(SQ_GROUPING_FN, (int32_t)na, args, pos, out, err);
    pl_free(args);
    return st;
}

/* regr_*(y, x) (SQL:2003 linear regression aggregates) as expressions over existing aggregates
 * of the pairs where both values are non-NULL, as DOUBLE (DuckDB's and PostgreSQL's results):
 * regr_count = count, regr_avgx/avgy = avg, regr_sxx/syy = var_pop * count,
 * regr_sxy = covar_pop * count, regr_slope = covar_pop / var_pop(x) (NaN when var_pop(x) = 0,
 * like DuckDB), regr_intercept = avg(y) - slope * avg(x), regr_r2 = NULL when var_pop(x) = 0, 1 when
 * var_pop(y) = 0, else corr^2. */
static const char *const regr_names[] = {"regr_count", "regr_avgx", "regr_avgy", "regr_sxx",
                                         "regr_syy",   "regr_sxy",  "regr_slope", "regr_intercept",
                                         "regr_r2"};

static pl_expr *regr_agg(const char *fn, pl_expr *a, pl_expr *b, const pl_expr *filter) {
    const char *canon = pl_agg_canonical(fn);
    pl_expr *args[2] = {pl_expr_retain(a), b ? pl_expr_retain(b) : NULL};
    pl_expr *f = filter ? pl_expr_clone(filter) : NULL;
    if (filter && !f) {
        pl_expr_release(args[0]);
        pl_expr_release(args[1]);
        return NULL;
    }
    return pl_expr_agg(canon ? canon : fn, b ? 2 : 1, args, false, f, 0, NULL);
}

static pl_status regr_call(sq_scope *sc, const PgQuery__FuncCall *fc, int which, pl_expr **out,
                           pl_error *err) {
    int32_t pos = fc->location;
    const char *name = regr_names[which];
    if (!(sc->allow & SQ_ALLOW_AGG))
        return sq_fail(err, PL_ERR_SQL, pos, "aggregate functions are not allowed in %s",
                       sc->clause ? sc->clause : "this context");
    if (fc->agg_star || fc->n_args != 2)
        return sq_fail(err, PL_ERR_SQL, pos, "%s takes two arguments (y, x)", name);
    if (fc->agg_distinct || fc->n_agg_order)
        return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "%s does not take DISTINCT or ORDER BY", name);
    uint32_t saved = sc->allow;
    const char *saved_clause = sc->clause;
    sc->allow &= ~(SQ_ALLOW_AGG | SQ_ALLOW_WINDOW);
    sc->clause = "aggregate function arguments";
    pl_expr **args = NULL, *filter = NULL;
    pl_status st = expr_list(sc, fc->args, 2, &args, err);
    if (!st && fc->agg_filter) st = sq_expr_columns_and(sc, fc->agg_filter, &filter, err);
    sc->allow = saved;
    sc->clause = saved_clause;
    if (st) {
        if (args) {
            pl_expr_release(args[0]);
            pl_expr_release(args[1]);
        }
        pl_free(args);
        return st;
    }
    pl_type *dbl = pl_type_simple(PL_TYPE_FLOAT64);
    pl_expr *y = at(pl_expr_cast(args[0], dbl, false), pos);
    pl_expr *x = at(pl_expr_cast(args[1], dbl, false), pos);
    pl_free(args);
    /* the pair's values where both are non-NULL, else NULL */
    pl_expr *both = NULL, *xp = NULL, *yp = NULL;
    if (x && y)
        both = pl_expr_call2("and", pl_expr_call1("is_not_null", pl_expr_retain(y)),
                             pl_expr_call1("is_not_null", pl_expr_retain(x)));
    if (both) {
        xp = pl_expr_call2("case", pl_expr_retain(both), pl_expr_retain(x));
        yp = pl_expr_call2("case", pl_expr_retain(both), pl_expr_retain(y));
    }
    pl_expr *e = NULL;
    if (xp && yp) {
        switch (which) {
        case 0: e = regr_agg("count", xp, NULL, filter); break;
        case 1: e = regr_agg("avg", xp, NULL, filter); break;
        case 2: e = regr_agg("avg", yp, NULL, filter); break;
        case 3:
        case 4:
            e = pl_expr_call2("mul", regr_agg("var_pop", which == 3 ? xp : yp, NULL, filter),
                              regr_agg("count", xp, NULL, filter));
            break;
        case 5:
            e = pl_expr_call2("mul", regr_agg("covar_pop", yp, xp, filter),
                              regr_agg("count", xp, NULL, filter));
            break;
        case 6:
        case 7: {
            pl_expr *slope = pl_expr_call2(
                "div", regr_agg("covar_pop", yp, xp, filter),
                pl_expr_call2("nullif", regr_agg("var_pop", xp, NULL, filter), pl_expr_lit_f64(0.0)));
            if (which == 6) {
                /* x constant: 0/0 (NaN, as DuckDB computes it) */
                pl_expr *a3[3] = {
                    pl_expr_call2("eq", regr_agg("var_pop", xp, NULL, filter), pl_expr_lit_f64(0.0)),
                    pl_expr_lit_f64(NAN), slope};
                e = pl_expr_call("case", 3, a3);
            } else {
                e = pl_expr_call2("sub", regr_agg("avg", yp, NULL, filter),
                                  pl_expr_call2("mul", slope, regr_agg("avg", xp, NULL, filter)));
            }
            break;
        }
        default: {
            pl_expr *c = regr_agg("corr", yp, xp, filter);
            pl_expr *args5[5] = {
                pl_expr_call2("eq", regr_agg("var_pop", xp, NULL, filter), pl_expr_lit_f64(0.0)),
                pl_expr_cast(pl_expr_lit_null(), dbl, false),
                pl_expr_call2("eq", regr_agg("var_pop", yp, NULL, filter), pl_expr_lit_f64(0.0)),
                pl_expr_lit_f64(1.0),
                c ? pl_expr_call2("mul", c, pl_expr_retain(c)) : NULL,
            };
            e = pl_expr_call("case", 5, args5);
            break;
        }
        }
    }
    pl_expr_release(x);
    pl_expr_release(y);
    pl_expr_release(both);
    pl_expr_release(xp);
    pl_expr_release(yp);
    pl_expr_release(filter);
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return PL_OK;
}

/* l[i] (list_extract: 1-based, negative from the end, out of range NULL) and l[a:b]
 * (list_slice, bounds included; a missing bound is the list's start or end), applied in turn. */
static pl_status indirection(sq_scope *sc, const PgQuery__AIndirection *ind, pl_expr **out, pl_error *err) {
    int32_t pos = sq_node_pos(ind->arg);
    pl_expr *e = NULL;
    PL_TRY(sq_expr(sc, ind->arg, &e, err));
    for (size_t k = 0; k < ind->n_indirection; k++) {
        const PgQuery__Node *x = ind->indirection[k];
        if (x->node_case != PG_QUERY__NODE__NODE_A_INDICES) {
            pl_expr_release(e);
            return sq_fail(err, PL_ERR_UNSUPPORTED, pos, "field access (x.field) on an expression is not supported");
        }
        const PgQuery__AIndices *ai = x->a_indices;
        pl_expr *lo = NULL, *hi = NULL;
        pl_status st = PL_OK;
        if (!ai->is_slice) st = ai->uidx ? sq_expr(sc, ai->uidx, &lo, err)
                                         : sq_fail(err, PL_ERR_SQL, pos, "missing subscript");
        else if (ai->lidx) st = sq_expr(sc, ai->lidx, &lo, err);
        else if (ai->is_slice) lo = pl_expr_lit_i64(1);
        if (!st && ai->is_slice && ai->uidx) st = sq_expr(sc, ai->uidx, &hi, err);
        else if (!st && ai->is_slice) hi = pl_expr_lit_i64(INT64_MAX);
        if (!st && (!lo || (ai->is_slice && !hi))) st = NOMEM(err);
        if (st) {
            pl_expr_release(e);
            pl_expr_release(lo);
            pl_expr_release(hi);
            return st;
        }
        pl_expr *r = NULL;
        if (ai->is_slice) st = call_n("list_slice", 3, (pl_expr *[]){e, lo, hi}, pos, &r, err);
        else st = call2("list_extract", e, lo, pos, &r, err);
        if (st) return st;
        e = r;
    }
    *out = e;
    return PL_OK;
}

/* Whether e holds an unnest marker call. */
static bool has_unnest(const pl_expr *e) {
    if (!e) return false;
    if (e->kind == PL_EXPR_CALL && e->name && !strcmp(e->name, SQ_UNNEST_FN)) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (has_unnest(e->args[i])) return true;
    return false;
}

/* INTERVAL (x) unit, DuckDB's form with an expression (SQ_INTERVAL_FN(x, unit) after
 * preprocessing): x cast to DOUBLE, then, like DuckDB, truncated toward zero for units above a
 * millisecond (as INTEGER up to days, so larger counts are an error; BIGINT for hours and
 * minutes) and kept fractional for seconds and milliseconds, given to the to_<unit>s
 * constructor. */
static pl_status interval_of(sq_scope *sc, const PgQuery__FuncCall *fc, pl_expr **out, pl_error *err) {
    int32_t pos = fc->location;
    const PgQuery__Node *u = fc->args[1];
    const char *unit = u->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && u->column_ref->n_fields == 1
                           ? sq_str(u->column_ref->fields[0])
                           : NULL;
    static const struct {
        const char *unit, *plural, *fn;
        pl_type_id as; /* INT32/INT64: truncated to it; DOUBLE: kept */
    } units[] = {
        {"year", "years", "to_years", PL_TYPE_INT32},
        {"quarter", "quarters", "to_quarters", PL_TYPE_INT32},
        {"month", "months", "to_months", PL_TYPE_INT32},
        {"week", "weeks", "to_weeks", PL_TYPE_INT32},
        {"day", "days", "to_days", PL_TYPE_INT32},
        {"decade", "decades", "to_decades", PL_TYPE_INT32},
        {"century", "centuries", "to_centuries", PL_TYPE_INT32},
        {"millennium", "millennia", "to_millennia", PL_TYPE_INT32},
        {"hour", "hours", "to_hours", PL_TYPE_INT64},
        {"minute", "minutes", "to_minutes", PL_TYPE_INT64},
        {"second", "seconds", "to_seconds", PL_TYPE_FLOAT64},
        {"millisecond", "milliseconds", "to_milliseconds", PL_TYPE_FLOAT64},
        {"microsecond", "microseconds", "to_microseconds", PL_TYPE_INT64},
    };
    size_t k = 0;
    while (unit && k < PL_ARRAY_LEN(units) && strcasecmp(unit, units[k].unit) != 0 &&
           strcasecmp(unit, units[k].plural) != 0)
        k++;
    if (!unit || k == PL_ARRAY_LEN(units))
        return sq_fail(err, PL_ERR_SQL, sq_node_pos(u), "unknown INTERVAL unit \"%s\"", unit ? unit : "?");
    pl_expr *x = NULL;
    PL_TRY(sq_expr(sc, fc->args[0], &x, err));
    pl_expr *e = pl_expr_cast(x, pl_type_simple(PL_TYPE_FLOAT64), false);
    if (e && units[k].as != PL_TYPE_FLOAT64)
        e = pl_expr_cast(pl_expr_call1("trunc", e), pl_type_simple(units[k].as), false);
    if (e) e = pl_expr_call1(units[k].fn, e);
    if (!e) return NOMEM(err);
    e->sql_pos = pos;
    *out = e;
    return PL_OK;
}

/* An aggregate call fc (canonical name agg): its arguments, FILTER and ORDER BY translated in
 * sc (without aggregates or windows). */
/* json_group_array(x) / json_group_object(k, v) are list aggregates wrapped in a JSON renderer:
 * to_json(list(x)), __json_group_object(list(struct_pack(k, v))). 1 / 2 for them, else 0. */
static int json_group_kind(const PgQuery__FuncCall *fc) {
    const char *nm = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
    if (!nm) return 0;
    return !strcasecmp(nm, "json_group_array") ? 1 : !strcasecmp(nm, "json_group_object") ? 2 : 0;
}

/* The list's argument for json_group_object: args[0..1] become struct_pack('k', k, 'v', v). */
static pl_status json_group_args(const PgQuery__FuncCall *fc, pl_expr **args, int32_t *n_args,
                                 pl_error *err) {
    if (json_group_kind(fc) != 2) return PL_OK;
    if (*n_args != 2)
        return sq_fail(err, PL_ERR_SQL, fc->location, "json_group_object takes two arguments (key, value)");
    pl_expr *sp[4] = {pl_expr_lit_str("k"), args[0], pl_expr_lit_str("v"), args[1]};
    args[0] = pl_expr_call("struct_pack", 4, sp);
    args[1] = NULL;
    *n_args = 1;
    return args[0] ? PL_OK : NOMEM(err);
}

static pl_status json_group_wrap(const PgQuery__FuncCall *fc, pl_expr **out, pl_error *err) {
    int kind = json_group_kind(fc);
    if (!kind) return PL_OK;
    pl_expr *e = pl_expr_call1(kind == 1 ? "to_json" : "__json_group_object", *out);
    *out = NULL;
    if (!e) return NOMEM(err);
    *out = at(e, fc->location);
    return PL_OK;
}

static pl_status agg_call(sq_scope *sc, const PgQuery__FuncCall *fc, const char *agg, pl_expr **out,
                          pl_error *err) {
    int32_t pos = fc->location;
    int32_t n_args = fc->agg_star ? 0 : (int32_t)fc->n_args;
    int32_t n_order = (int32_t)fc->n_agg_order;
    pl_expr **args = NULL, *filter = NULL;
    pl_sort_key *order = pl_calloc((size_t)(n_order ? n_order : 1), sizeof *order);
    if (!order) return NOMEM(err);
    uint32_t saved = sc->allow;
    const char *saved_clause = sc->clause;
    sc->allow &= ~(SQ_ALLOW_AGG | SQ_ALLOW_WINDOW);
    sc->clause = "aggregate function arguments";
    pl_status st = expr_list(sc, fc->args, (size_t)n_args, &args, err);
    if (!st && fc->agg_filter) st = sq_expr_columns_and(sc, fc->agg_filter, &filter, err);
    int32_t n_done = 0;
    for (; !st && n_done < n_order; n_done++) {
        const PgQuery__Node *o = fc->agg_order[n_done];
        sq_sortby_dir(o->sort_by, &order[n_done].descending, &order[n_done].nulls_first);
        st = sq_expr(sc, o->sort_by->node, &order[n_done].expr, err);
        if (st) break;
    }
    sc->allow = saved;
    sc->clause = saved_clause;
    if (st) {
        if (args)
            for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
        pl_free(args);
        pl_expr_release(filter);
        for (int32_t i = 0; i < n_done; i++) pl_expr_release(order[i].expr);
        pl_free(order);
        return st;
    }
    if (!st) st = json_group_args(fc, args, &n_args, err);
    if (st) {
        for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
        pl_free(args);
        pl_expr_release(filter);
        for (int32_t i = 0; i < n_order; i++) pl_expr_release(order[i].expr);
        pl_free(order);
        return st;
    }
    pl_expr *e = pl_expr_agg(agg, n_args, args, fc->agg_distinct, filter, n_order, order);
    pl_free(args);
    pl_free(order);
    if (!e) return NOMEM(err);
    *out = at(e, pos);
    return json_group_wrap(fc, out, err);
}

/* An aggregate in a subquery of a grouped query (sc->outer->post) whose arguments use only the
 * grouped query's columns is that query's aggregate (`(SELECT count(*) FROM u WHERE u.v <
 * max(t.x))`, like DuckDB and the SQL standard): *done, and *out its column as an outer
 * reference. The arguments are translated once to find that out (sc->agg_probe). */
static pl_status outer_agg(sq_scope *sc, const PgQuery__FuncCall *fc, const char *agg, pl_expr **out,
                           bool *done, pl_error *err) {
    *done = false;
    sq_post *p = sc->outer->post;
    pl_expr *e = NULL;
    sc->agg_probe = true;
    pl_status st = agg_call(sc, fc, agg, &e, err);
    sc->agg_probe = false;
    if (st) {
        if (st == PL_ERR_NOMEM) return st;
        if (err) pl_error_init(err); /* the ordinary translation reports it */
        return PL_OK;
    }
    if (!sq_has_ref(e, 2) || sq_has_ref(e, 0) || sq_has_ref(e, 1)) {
        pl_expr_release(e);
        return PL_OK;
    }
    pre_mark(e, false);
    for (int32_t j = 0; j < p->n_aggs; j++)
        if (sq_expr_equal(p->aggs[j], e)) {
            pl_expr_release(e);
            pl_expr *c = sq_colref(sc->outer->rel, p->n_keys + j, fc->location);
            if (!c) return NOMEM(err);
            PL_TRY(outer_ref(sc, c, fc->location, out, err));
            *done = true;
            return PL_OK;
        }
    /* not computed: planned again with it (sq_post) */
    for (int32_t j = 0; j < p->n_missing; j++)
        if (sq_expr_equal(p->missing[j], e)) {
            pl_expr_release(e);
            e = NULL;
            break;
        }
    if (e && p->n_missing == p->cap_missing) {
        int32_t cap = p->cap_missing ? p->cap_missing * 2 : 4;
        pl_expr **v = pl_realloc(p->missing, (size_t)cap * sizeof *v);
        if (!v) {
            pl_expr_release(e);
            return NOMEM(err);
        }
        p->missing = v;
        p->cap_missing = cap;
    }
    if (e) p->missing[p->n_missing++] = e;
    return sq_fail(err, PL_ERR_INTERNAL, fc->location, "aggregate of the outer query not computed");
}

/* list_transform(l, x -> body) and the like (name: as written, fn: the __lambda_* function):
 * __lambda_fn(l, body, id [, init]) with the parameters of the body as __lambda_param(id, k). */
static pl_status lambda_call(sq_scope *sc, const PgQuery__FuncCall *fc, const char *name,
                             const char *fn, pl_expr **out, pl_error *err) {
    int32_t pos = fc->location;
    bool reduce = !strcmp(fn, "__lambda_reduce");
    int32_t n_args = (int32_t)fc->n_args;
    if (n_args != 2 && !(reduce && n_args == 3))
        return sq_fail(err, PL_ERR_SQL, pos, "%s takes a list and a lambda%s", name,
                       reduce ? " (and an initial value)" : "");
    const PgQuery__Node *lam = fc->args[1];
    const PgQuery__AExpr *ae = lam->node_case == PG_QUERY__NODE__NODE_A_EXPR ? lam->a_expr : NULL;
    if (!ae || ae->kind != PG_QUERY__A__EXPR__KIND__AEXPR_OP || strcmp(op_name(ae), "->") != 0 || !ae->lexpr)
        return sq_fail(err, PL_ERR_SQL, sq_node_pos(lam) >= 0 ? sq_node_pos(lam) : pos,
                       "%s: the second argument must be a lambda (lambda x: ... or x -> ...)", name);
    sq_lambda lp = {{NULL, NULL, NULL}, 0, 0, sc->lambdas};
    lp.id = sc->lambdas ? sc->lambdas->id + 1 : 0;
    const PgQuery__Node *ps = ae->lexpr;
    PgQuery__Node *const *items = (PgQuery__Node *const *)&ae->lexpr;
    size_t n_items = 1;
    if (ps->node_case == PG_QUERY__NODE__NODE_ROW_EXPR) {
        items = ps->row_expr->args;
        n_items = ps->row_expr->n_args;
    }
    int32_t max_params = reduce ? 3 : 2;
    if (n_items < 1 || (int32_t)n_items > max_params || (reduce && n_items < 2))
        return sq_fail(err, PL_ERR_SQL, sq_node_pos(ps) >= 0 ? sq_node_pos(ps) : pos,
                       "%s: the lambda takes %s parameters", name, reduce ? "2 or 3" : "1 or 2");
    for (size_t k = 0; k < n_items; k++) {
        const PgQuery__Node *it = items[k];
        if (it->node_case != PG_QUERY__NODE__NODE_COLUMN_REF || it->column_ref->n_fields != 1 ||
            !sq_str(it->column_ref->fields[0]))
            return sq_fail(err, PL_ERR_SQL, sq_node_pos(it) >= 0 ? sq_node_pos(it) : pos,
                           "%s: a lambda parameter must be a name", name);
        lp.names[lp.n++] = sq_str(it->column_ref->fields[0]);
    }
    pl_expr *a[4] = {NULL, NULL, NULL, NULL};
    pl_status st = sq_expr(sc, fc->args[0], &a[0], err);
    if (!st && n_args == 3) st = sq_expr(sc, fc->args[2], &a[3], err);
    if (!st) {
        sc->lambdas = &lp;
        st = sq_expr(sc, ae->rexpr, &a[1], err);
        sc->lambdas = lp.up;
    }
    if (!st && !(a[2] = pl_expr_lit_i64(lp.id))) st = NOMEM(err);
    if (st) {
        for (int i = 0; i < 4; i++) pl_expr_release(a[i]);
        return st;
    }
    return call_n(fn, n_args == 3 ? 4 : 3, a, pos, out, err);
}

/* A byte count as DuckDB's current_setting('memory_limit') shows it: "N bytes" below 1 KiB,
 * else one decimal (truncated) of the largest binary unit it reaches ("953.6 MiB"). */
static void format_bytes(int64_t n, char *buf, size_t size) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (n < 1024) {
        snprintf(buf, size, "%lld bytes", (long long)n);
        return;
    }
    int u = 0;
    double unit = 1024.0;
    while (u + 1 < (int)PL_ARRAY_LEN(units) && (double)n >= unit * 1024.0) {
        unit *= 1024.0;
        u++;
    }
    double tenths = floor((double)n * 10.0 / unit);
    snprintf(buf, size, "%.1f %s", tenths / 10.0, units[u]);
}

/* current_setting(name): a setting of the session (SET ...) as a constant, DuckDB's types:
 * threads / worker_threads BIGINT (the worker pool's size unless SET), memory_limit /
 * max_memory VARCHAR (NULL when no limit is SET), recursion_limit BIGINT, TimeZone VARCHAR. */
static pl_status current_setting(pl_session *s, const char *opt, int32_t pos, pl_expr **out,
                                 pl_error *err) {
    const pl_exec_opts *eo = s ? pl_session_exec_opts(s) : NULL;
    pl_expr *e;
    if (!strcasecmp(opt, "timezone")) {
        e = pl_expr_lit_str(s ? pl_session_time_zone(s) : "UTC");
    } else if (!strcasecmp(opt, "threads") || !strcasecmp(opt, "worker_threads")) {
        e = pl_expr_lit_i64(eo && eo->n_threads > 0 ? eo->n_threads : pl_pool_threads());
    } else if (!strcasecmp(opt, "recursion_limit")) {
        e = pl_expr_lit_i64(pl_session_recursion_limit(s));
    } else if (!strcasecmp(opt, "memory_limit") || !strcasecmp(opt, "max_memory")) {
        char buf[64];
        if (eo && eo->memory_limit > 0) {
            format_bytes(eo->memory_limit, buf, sizeof buf);
            e = pl_expr_lit_str(buf);
        } else {
            pl_expr *nl = pl_expr_lit_null();
            e = nl ? pl_expr_cast(nl, pl_type_simple(PL_TYPE_UTF8), false) : NULL;
        }
    } else {
        return sq_fail(err, PL_ERR_SQL, pos,
                       "current_setting: unrecognized configuration parameter \"%s\" (threads, "
                       "memory_limit, recursion_limit, TimeZone)",
                       opt);
    }
    if (!e) return NOMEM(err);
    *out = e;
    return PL_OK;
}

static pl_status func_call(sq_scope *sc, const PgQuery__FuncCall *fc, pl_expr **out, pl_error *err) {
    int32_t pos = fc->location;
    const char *raw = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
    if (!raw) return sq_fail(err, PL_ERR_SQL, pos, "bad function name");
    char name[128];
    snprintf(name, sizeof name, "%s", raw);
    for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
    bool is_pg_catalog = fc->n_funcname == 2 && sq_str(fc->funcname[0]) &&
                         !strcmp(sq_str(fc->funcname[0]), "pg_catalog");

    int32_t nt_at = -1;
    int null_treat = sq_null_treatment(sc->ctx ? sc->ctx->sql : NULL, pos, &nt_at);
    if (null_treat) {
        bool nav = !strcmp(name, "lag") || !strcmp(name, "lead") || !strcmp(name, "first_value") ||
                   !strcmp(name, "last_value") || !strcmp(name, "nth_value");
        if (!fc->over || !nav)
            return sq_fail(err, PL_ERR_SQL, nt_at,
                           "IGNORE/RESPECT NULLS is supported only for lag, lead, first_value, "
                           "last_value and nth_value with OVER");
    }
    if (!strcmp(name, "columns") && fc->n_funcname == 1) {
        /* DuckDB's COLUMNS(...): the select list expands its item once per matching column,
         * WHERE and FILTER (WHERE ...) into the AND of the expansions, ORDER BY into keys */
        if (sc->columns_pick <= 0 || !sc->rel || sc->columns_pick > sc->rel->n_cols)
            return sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                           "COLUMNS(...) is only supported in the select list, WHERE, FILTER (WHERE ...) and "
                           "ORDER BY");
        int32_t i = sc->columns_pick - 1;
        pl_expr *e = sc->rel->star_expr[i] ? pl_expr_clone(sc->rel->star_expr[i]) : sq_colref(sc->rel, i, pos);
        if (!e) return NOMEM(err);
        e->sql_pos = pos;
        *out = e;
        return PL_OK;
    }
    if (!strcmp(name, "current_setting") && !fc->over) {
        /* current_setting('TimeZone'): the session zone (UTC unless SET) */
        const PgQuery__Node *a0 = fc->n_args == 1 ? fc->args[0] : NULL;
        const char *opt = a0 && a0->node_case == PG_QUERY__NODE__NODE_A_CONST && !a0->a_const->isnull &&
                                  a0->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL
                              ? a0->a_const->sval->sval
                              : NULL;
        if (!opt) return sq_fail(err, PL_ERR_SQL, pos, "current_setting takes one constant setting name");
        pl_expr *e = NULL;
        PL_TRY(current_setting(sc->ctx ? sc->ctx->s : NULL, opt, pos, &e, err));
        *out = at(e, pos);
        return PL_OK;
    }
    if (!strcmp(name, "make_timestamptz") && !fc->over && (fc->n_args == 6 || fc->n_args == 7)) {
        /* make_timestamptz(y, mo, d, h, mi, s[, zone]): the local time in zone (default: the
         * session's) */
        pl_expr **args;
        PL_TRY(expr_list(sc, fc->args, fc->n_args, &args, err));
        pl_expr *mk = pl_expr_call("make_timestamp", 6, args); /* takes args[0..6) */
        pl_expr *e = NULL;
        pl_type *t = NULL;
        pl_status st = fc->n_args == 7 ? PL_OK : pl_type_new_timestamp(PL_UNIT_US, sq_session_zone(sc->ctx), &t, err);
        if (fc->n_args == 7) e = pl_expr_call2("timezone", args[6], mk); /* takes both */
        else if (!st) e = pl_expr_cast(mk, t, false);                    /* takes both */
        else pl_expr_release(mk);
        pl_free(args);
        if (st) return st;
        if (!e) return NOMEM(err);
        *out = at(e, pos);
        return PL_OK;
    }
    if (!strcmp(name, SQ_INTERVAL_FN) && fc->n_funcname == 1 && fc->n_args == 2 && !fc->over)
        return interval_of(sc, fc, out, err);
    if (!strcmp(name, "age") && fc->n_args == 1 && !fc->over && !fc->agg_star) {
        /* age(x) is age(current_date, x), like DuckDB */
        pl_expr *x = NULL;
        PL_TRY(sq_expr(sc, fc->args[0], &x, err));
        pl_expr *e = pl_expr_call2("age", pl_expr_call("current_date", 0, NULL), x);
        if (!e) return NOMEM(err);
        e->sql_pos = pos;
        *out = e;
        return PL_OK;
    }
    if ((!strcmp(name, "grouping_id") || !strcmp(name, "grouping")) && !fc->over && !fc->agg_star)
        return grouping_call(sc, fc->args, fc->n_args, pos, out, err);
    if (!strncmp(name, "regr_", 5) && !fc->over && !pl_agg_canonical(name))
        for (size_t i = 0; i < PL_ARRAY_LEN(regr_names); i++)
            if (!strcmp(name, regr_names[i])) return regr_call(sc, fc, (int)i, out, err);
    const char *agg = pl_agg_canonical(name);
    bool window_fn = pl_window_exists(name);
    /* ordered-set aggregates */
    if (fc->agg_within_group) {
        if (fc->n_agg_order != 1 || fc->agg_order[0]->node_case != PG_QUERY__NODE__NODE_SORT_BY)
            return sq_fail(err, PL_ERR_SQL, pos, "WITHIN GROUP needs exactly one ORDER BY expression");
        const PgQuery__SortBy *sb = fc->agg_order[0]->sort_by;
        const char *target = !strcmp(name, "percentile_cont")   ? "quantile_cont"
                             : !strcmp(name, "percentile_disc") ? "quantile_disc"
                             : !strcmp(name, "mode")            ? "mode"
                                                                : NULL;
        if (!target)
            return sq_fail(err, PL_ERR_NOT_FOUND, pos, "unknown ordered-set aggregate \"%s\"", name);
        if (!(sc->allow & SQ_ALLOW_AGG) || fc->over)
            return sq_fail(err, PL_ERR_SQL, pos, "aggregate functions are not allowed in %s",
                           sc->clause ? sc->clause : "this context");
        pl_expr *x = NULL, *q = NULL, *filter = NULL;
        PL_TRY(sub_scope_expr(sc, SQ_ALLOW_AGG | SQ_ALLOW_WINDOW, NULL, sb->node, &x, err));
        pl_status st = PL_OK;
        if (strcmp(target, "mode") != 0) {
            if (fc->n_args != 1) st = sq_fail(err, PL_ERR_SQL, pos, "%s takes one fraction argument", name);
            if (!st) st = sub_scope_expr(sc, SQ_ALLOW_AGG | SQ_ALLOW_WINDOW, NULL, fc->args[0], &q, err);
            if (!st && sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC &&
                strcmp(target, "quantile_cont") != 0) {
                /* disc picks a row by rank: DESC is not the mirrored fraction ascending */
                st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "%s ... WITHIN GROUP (ORDER BY ... DESC) is not supported",
                             name);
            } else if (!st && sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC) {
                /* cont interpolates: the fraction 1 - q ascending */
                if (q->kind == PL_EXPR_LITERAL && q->value.type && !q->value.is_null &&
                    q->value.type->id == PL_TYPE_FLOAT64) {
                    q->value.v.f = 1.0 - q->value.v.f;
                } else if (q->kind == PL_EXPR_LITERAL && q->value.type && !q->value.is_null &&
                           q->value.type->id == PL_TYPE_DECIMAL128) {
                    /* a decimal literal fraction (0.3): 1 - q as a double */
                    const pl_value *v = &q->value;
                    __int128 u = ((__int128)v->v.dec.hi << 64) | (__int128)v->v.dec.lo;
                    double d = (double)u;
                    for (int32_t k = 0; k < v->type->scale; k++) d /= 10.0;
                    pl_expr *f = pl_expr_lit_f64(1.0 - d);
                    if (!f) {
                        st = NOMEM(err);
                    } else {
                        f->sql_pos = q->sql_pos;
                        pl_expr_release(q);
                        q = f;
                    }
                } else {
                    st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "DESC in WITHIN GROUP needs a constant fraction");
                }
            }
        }
        if (!st && fc->agg_filter) {
            uint32_t saved = sc->allow;
            sc->allow &= ~(uint32_t)(SQ_ALLOW_AGG | SQ_ALLOW_WINDOW);
            st = sq_expr_columns_and(sc, fc->agg_filter, &filter, err);
            sc->allow = saved;
        }
        if (st) {
            pl_expr_release(x);
            pl_expr_release(q);
            return st;
        }
        const char *canon = pl_agg_canonical(target);
        pl_expr *args[2] = {x, q};
        pl_expr *e = pl_expr_agg(canon ? canon : target, q ? 2 : 1, args, false, filter, 0, NULL);
        if (!e) return NOMEM(err);
        *out = at(e, pos);
        return PL_OK;
    }

    if (fc->over) {
        if (!(sc->allow & SQ_ALLOW_WINDOW))
            return sq_fail(err, PL_ERR_SQL, pos, "window functions are not allowed in %s",
                           sc->clause ? sc->clause : "this context");
        if (!agg && !window_fn)
            return sq_fail(err, PL_ERR_NOT_FOUND, pos, "unknown window function \"%s\"", name);
        pl_expr **args = NULL;
        int32_t n_args = fc->agg_star ? 0 : (int32_t)fc->n_args;
        /* window arguments may hold aggregates (sum(sum(x)) OVER ()) but not windows */
        uint32_t saved = sc->allow;
        sc->allow &= ~SQ_ALLOW_WINDOW;
        pl_status st = expr_list(sc, fc->args, (size_t)n_args, &args, err);
        pl_expr *filter = NULL;
        if (!st && fc->agg_filter) st = sq_expr_columns_and(sc, fc->agg_filter, &filter, err);
        sc->allow = saved;
        if (st) {
            if (args)
                for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
            pl_free(args);
            return st;
        }
        st = json_group_args(fc, args, &n_args, err);
        if (st) {
            for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
            pl_free(args);
            pl_expr_release(filter);
            return st;
        }
        /* a constant lag/lead default is cast to the value's type when the window runs */
        st = build_window(sc, fc, window_fn ? name : agg, args, n_args, filter, out, err);
        if (!st) st = json_group_wrap(fc, out, err);
        pl_free(args);
        if (!st && null_treat == 1) (*out)->ignore_nulls = true;
        return st;
    }

    /* first/last (also window functions, as first_value/last_value) are aggregates without OVER */
    if (agg && (!window_fn || !fc->over)) {
        if (sc->outer && sc->outer->post && !sc->agg_probe) {
            bool done = false;
            PL_TRY(outer_agg(sc, fc, agg, out, &done, err));
            if (done) return PL_OK;
        }
        if (!(sc->allow & SQ_ALLOW_AGG)) {
            if (sc->clause && !strcmp(sc->clause, "aggregate function arguments"))
                return sq_fail(err, PL_ERR_SQL, pos, "aggregate function calls cannot be nested");
            return sq_fail(err, PL_ERR_SQL, pos, "aggregate functions are not allowed in %s",
                           sc->clause ? sc->clause : "this context");
        }
        return agg_call(sc, fc, agg, out, err);
    }
    if (window_fn) return sq_fail(err, PL_ERR_SQL, pos, "window function \"%s\" requires an OVER clause", name);
    if (fc->agg_star) return sq_fail(err, PL_ERR_SQL, pos, "\"*\" is only allowed in count(*)");

    /* list_transform / list_filter / list_reduce with a lambda (x -> body, lambda x: body) */
    const char *lambda_fn = NULL;
    if (fc->n_funcname == 1 && !fc->over) {
        static const char *const tr[] = {"list_transform", "array_transform", "apply", "list_apply", "array_apply"};
        static const char *const fi[] = {"list_filter", "array_filter", "filter"};
        static const char *const re[] = {"list_reduce", "array_reduce", "reduce"};
        for (size_t i = 0; i < PL_ARRAY_LEN(tr); i++) if (!strcmp(name, tr[i])) lambda_fn = "__lambda_transform";
        for (size_t i = 0; i < PL_ARRAY_LEN(fi); i++) if (!strcmp(name, fi[i])) lambda_fn = "__lambda_filter";
        for (size_t i = 0; i < PL_ARRAY_LEN(re); i++) if (!strcmp(name, re[i])) lambda_fn = "__lambda_reduce";
    }
    if (lambda_fn) return lambda_call(sc, fc, name, lambda_fn, out, err);

    /* struct_pack(a := 1, ...) and DuckDB's {'a': 1, ...} (session_forms.c): the field names as
     * string constants before their values */
    if (!strcmp(name, "struct_pack") && fc->n_funcname == 1) {
        int32_t nf = (int32_t)fc->n_args;
        if (nf == 0) return sq_fail(err, PL_ERR_SQL, pos, "struct_pack needs at least one field");
        pl_expr **sargs = pl_calloc((size_t)nf * 2, sizeof *sargs);
        if (!sargs) return NOMEM(err);
        pl_status st = PL_OK;
        for (int32_t i = 0; i < nf && !st; i++) {
            const PgQuery__Node *a = fc->args[i];
            if (a->node_case != PG_QUERY__NODE__NODE_NAMED_ARG_EXPR || !a->named_arg_expr->name) {
                st = sq_fail(err, PL_ERR_SQL, sq_node_pos(a) >= 0 ? sq_node_pos(a) : pos,
                             "struct_pack: field %d needs a name (name := value)", (int)i + 1);
                break;
            }
            for (int32_t k = 0; k < i && !st; k++)
                if (!strcasecmp(fc->args[k]->named_arg_expr->name, a->named_arg_expr->name))
                    st = sq_fail(err, PL_ERR_SQL, a->named_arg_expr->location,
                                 "duplicate struct field name \"%s\"", a->named_arg_expr->name);
            if (!st && !(sargs[2 * i] = pl_expr_lit_str(a->named_arg_expr->name))) st = NOMEM(err);
            if (!st) st = sq_expr(sc, (const PgQuery__Node *)a->named_arg_expr->arg, &sargs[2 * i + 1], err);
        }
        if (st) {
            for (int32_t i = 0; i < 2 * nf; i++) pl_expr_release(sargs[i]);
            pl_free(sargs);
            return st;
        }
        st = call_n("struct_pack", 2 * nf, sargs, pos, out, err);
        pl_free(sargs);
        return st;
    }

    /* scalar functions */
    int32_t n_args = (int32_t)fc->n_args;
    pl_expr **args = NULL;
    PL_TRY(expr_list(sc, fc->args, (size_t)n_args, &args, err));
    pl_status st = PL_OK;
    const char *canon = NULL;
    if (!strcmp(name, "unnest") && fc->n_funcname == 1) {
        /* the select list's unnest: a marker the SELECT planner turns into an UNNEST node */
        if (n_args != 1)
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "unnest takes one list argument");
        else if (!(sc->allow & SQ_ALLOW_WINDOW) || !sc->rel ||
                 (sc->clause && strcmp(sc->clause, "SELECT") != 0))
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "unnest is supported only in the select list and in FROM");
        else if (has_unnest(args[0]))
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "nested unnest calls are not supported");
        canon = SQ_UNNEST_FN;
    } else if ((!strcmp(name, "list_aggregate") || !strcmp(name, "array_aggregate") ||
                !strcmp(name, "list_aggr") || !strcmp(name, "aggregate")) &&
               n_args == 2) {
        /* list_aggregate(l, 'sum') -> list_sum(l) (the simple forms) */
        char fn[64];
        const pl_expr *a1 = args[1];
        if (a1->kind != PL_EXPR_LITERAL || a1->value.is_null || !a1->value.type ||
            a1->value.type->id != PL_TYPE_UTF8 || !a1->value.str)
            st = sq_fail(err, PL_ERR_UNSUPPORTED, pos, "%s needs the aggregate's name as a string constant", name);
        if (!st) {
            snprintf(fn, sizeof fn, "list_%s", a1->value.str);
            for (char *p = fn; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!strcmp(fn, "list_mean")) snprintf(fn, sizeof fn, "list_avg");
            canon = scalar_canonical(fn);
            if (!canon || !strncmp(canon, "list_value", 10) || !strncmp(canon, "list_extract", 12))
                st = sq_fail(err, PL_ERR_UNSUPPORTED, pos,
                             "%s: '%s' is not supported (sum, min, max, avg, count, string_agg)", name,
                             a1->value.str);
            else {
                pl_expr_release(args[1]);
                n_args = 1;
            }
        }
    } else if (fc->n_funcname == 1 && n_args == 2 &&
               (!strcmp(name, "list_append") || !strcmp(name, "array_append") ||
                !strcmp(name, "array_push_back") || !strcmp(name, "list_prepend") ||
                !strcmp(name, "array_prepend") || !strcmp(name, "array_push_front"))) {
        /* list_append(l, x) -> list_concat(l, [x]); list_prepend(x, l) and
         * array_push_front(l, x) -> list_concat([x], l) (DuckDB: a NULL list takes the element
         * alone, a NULL element is added) */
        bool front = strstr(name, "prepend") || strstr(name, "front");
        int32_t e = front && !strstr(name, "push") ? 0 : 1;
        pl_expr *one = NULL;
        st = call_n("list_value", 1, &args[e], pos, &one, err);
        args[e] = st ? NULL : one;
        if (!st && front && e == 1) {
            args[1] = args[0];
            args[0] = one;
        }
        if (!st) canon = "list_concat";
    } else if (fc->n_funcname == 1 && n_args == 1 &&
               (!strcmp(name, "list_unique") || !strcmp(name, "array_unique"))) {
        /* list_unique(l): DuckDB's count of the distinct non-NULL elements, a UBIGINT */
        pl_expr *d = NULL, *len = NULL;
        st = call1("list_distinct", args[0], pos, &d, err);
        args[0] = NULL;
        if (!st) st = call1("array_length", d, pos, &len, err);
        if (!st) {
            pl_free(args);
            *out = at(pl_expr_cast(len, pl_type_simple(PL_TYPE_UINT64), false), pos);
            return *out ? PL_OK : NOMEM(err);
        }
    } else if (is_pg_catalog && !strcmp(name, "position") && n_args == 2) {
        canon = scalar_canonical("strpos");
    } else if (is_pg_catalog && !strcmp(name, "timezone")) {
        canon = scalar_canonical("timezone");
        if (!canon) canon = "timezone";
    } else if ((!strcmp(name, "if") || !strcmp(name, "iff")) && n_args == 3) {
        canon = "case";
    } else if (is_extract_field_fn(name) && n_args == 1 && !pl_func_lookup(name)) {
        pl_expr *f = pl_expr_lit_str(name);
        if (!f) {
            st = NOMEM(err);
        } else {
            pl_expr **a2 = pl_realloc(args, 2 * sizeof *a2);
            if (!a2) {
                pl_expr_release(f);
                st = NOMEM(err);
            } else {
                args = a2;
                args[1] = args[0];
                args[0] = f;
                n_args = 2;
                canon = scalar_canonical("extract");
                if (!canon) canon = "extract";
            }
        }
    } else if (!strcmp(name, "coalesce") || !strcmp(name, "nullif") || !strcmp(name, "greatest") ||
               !strcmp(name, "least")) {
        canon = name;
    } else {
        canon = scalar_canonical(name);
    }
    if (!st && !canon) st = sq_fail(err, PL_ERR_NOT_FOUND, pos, "unknown function \"%s\"", name);
    if (st) {
        for (int32_t i = 0; i < n_args; i++) pl_expr_release(args[i]);
        pl_free(args);
        return st;
    }
    st = call_n(canon, n_args, args, pos, out, err);
    pl_free(args);
    return st;
}

/* ---------------------------------------------------------------- main switch */

static pl_status case_expr(sq_scope *sc, const PgQuery__CaseExpr *ce, pl_expr **out, pl_error *err) {
    int32_t n = (int32_t)ce->n_args * 2 + (ce->defresult ? 1 : 0);
    pl_expr **args = pl_calloc((size_t)n, sizeof *args);
    if (!args) return NOMEM(err);
    pl_expr *subject = NULL;
    pl_status st = PL_OK;
    if (ce->arg) st = sq_expr(sc, ce->arg, &subject, err);
    for (size_t i = 0; !st && i < ce->n_args; i++) {
        const PgQuery__Node *w = ce->args[i];
        if (w->node_case != PG_QUERY__NODE__NODE_CASE_WHEN) {
            st = sq_fail(err, PL_ERR_SQL, ce->location, "bad CASE");
            break;
        }
        pl_expr *cond = NULL;
        st = sq_expr(sc, w->case_when->expr, &cond, err);
        if (st) break;
        if (subject) {
            cond = at(pl_expr_call2("eq", pl_expr_retain(subject), cond), w->case_when->location);
            if (!cond) {
                st = NOMEM(err);
                break;
            }
        }
        args[2 * i] = cond;
        st = sq_expr(sc, w->case_when->result, &args[2 * i + 1], err);
    }
    if (!st && ce->defresult) st = sq_expr(sc, ce->defresult, &args[n - 1], err);
    pl_expr_release(subject);
    if (st) {
        for (int32_t i = 0; i < n; i++) pl_expr_release(args[i]);
        pl_free(args);
        return st;
    }
    st = call_n("case", n, args, ce->location, out, err);
    pl_free(args);
    return st;
}

static pl_status type_cast(sq_scope *sc, const PgQuery__TypeCast *tc, pl_expr **out, pl_error *err) {
    int32_t pos = tc->location >= 0 ? tc->location : (tc->type_name ? tc->type_name->location : -1);
    const PgQuery__Node *arg = tc->arg;
    if (arg && arg->node_case == PG_QUERY__NODE__NODE_A_CONST && !arg->a_const->isnull &&
        arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        pl_expr *lit = NULL;
        int32_t lpos = pos >= 0 ? pos : arg->a_const->location;
        if (tc->type_name && tc->type_name->location >= 0 && tc->type_name->location < lpos)
            lpos = tc->type_name->location;
        PL_TRY(sq_typed_literal(arg->a_const->sval->sval, tc->type_name, lpos, &lit, err));
        if (lit) {
            *out = lit;
            return PL_OK;
        }
    }
    pl_type *t;
    PL_TRY(pl_sql_type_from_node(sc->ctx ? sc->ctx->sql : NULL, tc->type_name, &t, err));
    const char *zone = sq_session_zone(sc->ctx);
    if (t->id == PL_TYPE_TIMESTAMP && t->tz && strcmp(t->tz, zone)) {
        /* TIMESTAMPTZ: in the session zone (a string without an offset is read there) */
        pl_type *zt = NULL;
        pl_status zs = pl_type_new_timestamp(t->unit, zone, &zt, err);
        pl_type_release(t);
        if (zs) return zs;
        t = zt;
    }
    pl_expr *e = NULL;
    pl_status st = sq_expr(sc, arg, &e, err);
    if (st) {
        pl_type_release(t);
        return st;
    }
    /* TRY_CAST was rewritten to "    CAST" (plan_pre.c): look at the original text */
    bool try_cast = false;
    const char *sql = sc->ctx ? sc->ctx->sql : NULL;
    if (sql && tc->location >= 4 && tc->location < pl_sql_text_len(sql) &&
        strncasecmp(sql + tc->location - 4, "try_", 4) == 0)
        try_cast = true;
    pl_expr *c = pl_expr_cast(e, t, try_cast);
    if (!c) return NOMEM(err);
    if (pos < 0) pos = sq_node_pos(arg);
    *out = at(c, pos);
    return PL_OK;
}

/* A long AND/OR chain ("x = 1 OR x = 2 OR ... " with thousands of terms) as a balanced tree:
 * a left-deep one would be as deep as the chain is long, and every recursive walk over
 * expressions (binding, evaluation, printing) would need stack in proportion. */
static pl_expr *balance(const char *fn, pl_expr **v, size_t lo, size_t hi, int32_t pos) {
    if (hi - lo == 1) return v[lo];
    size_t mid = lo + (hi - lo) / 2;
    pl_expr *a = balance(fn, v, lo, mid, pos);
    pl_expr *b = balance(fn, v, mid, hi, pos);
    pl_expr *e = pl_expr_call2(fn, a, b); /* takes a and b, also on failure */
    return e ? at(e, pos) : NULL;
}

static pl_status bool_chain(sq_scope *sc, const PgQuery__BoolExpr *be, const char *fn,
                            pl_expr **out, pl_error *err) {
    pl_expr **v = pl_calloc(be->n_args, sizeof *v);
    if (!v) return NOMEM(err);
    for (size_t i = 0; i < be->n_args; i++) {
        pl_status st = sq_expr(sc, be->args[i], &v[i], err);
        if (st) {
            for (size_t k = 0; k < i; k++) pl_expr_release(v[k]);
            pl_free(v);
            return st;
        }
    }
    pl_expr *e = balance(fn, v, 0, be->n_args, be->location);
    pl_free(v);
    if (!e) return NOMEM(err);
    *out = e;
    return PL_OK;
}

pl_status sq_expr(sq_scope *sc, const PgQuery__Node *n, pl_expr **out, pl_error *err) {
    if (!n) return pl_error_set(err, PL_ERR_SQL, "missing expression");
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return column_ref(sc, n->column_ref, out, err);
    case PG_QUERY__NODE__NODE_A_CONST:
        return sq_const(n->a_const, out, err);
    case PG_QUERY__NODE__NODE_A_EXPR:
        return a_expr(sc, n->a_expr, out, err);
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *be = n->bool_expr;
        if (be->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
            pl_expr *a = NULL;
            PL_TRY(sq_expr(sc, be->args[0], &a, err));
            return call1("not", a, be->location, out, err);
        }
        const char *fn = be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? "and" : "or";
        if (be->n_args > 16) return bool_chain(sc, be, fn, out, err);
        pl_expr *acc = NULL;
        for (size_t i = 0; i < be->n_args; i++) {
            pl_expr *a = NULL;
            pl_status st = sq_expr(sc, be->args[i], &a, err);
            if (st) {
                pl_expr_release(acc);
                return st;
            }
            if (!acc) {
                acc = a;
            } else {
                PL_TRY(call2(fn, acc, a, be->location, &acc, err));
            }
        }
        *out = acc;
        return PL_OK;
    }
    case PG_QUERY__NODE__NODE_NULL_TEST: {
        pl_expr *a = NULL;
        PL_TRY(sq_expr(sc, n->null_test->arg, &a, err));
        return call1(n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? "is_null" : "is_not_null",
                     a, n->null_test->location, out, err);
    }
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST: {
        const PgQuery__BooleanTest *bt = n->boolean_test;
        pl_expr *a = NULL;
        PL_TRY(sq_expr(sc, bt->arg, &a, err));
        int32_t pos = bt->location;
        switch (bt->booltesttype) {
        case PG_QUERY__BOOL_TEST_TYPE__IS_TRUE: return call1("is_true", a, pos, out, err);
        case PG_QUERY__BOOL_TEST_TYPE__IS_FALSE: return call1("is_false", a, pos, out, err);
        case PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN: return call1("is_null", a, pos, out, err);
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN: return call1("is_not_null", a, pos, out, err);
        case PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE: {
            pl_expr *t = NULL;
            PL_TRY(call1("is_true", a, pos, &t, err));
            return call1("not", t, pos, out, err);
        }
        default: {
            pl_expr *t = NULL;
            PL_TRY(call1("is_false", a, pos, &t, err));
            return call1("not", t, pos, out, err);
        }
        }
    }
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        PL_TRY(func_call(sc, n->func_call, out, err));
        const PgQuery__FuncCall *fc = n->func_call;
        const char *fn = fc->n_funcname ? sq_str(fc->funcname[fc->n_funcname - 1]) : NULL;
        char lower[64];
        snprintf(lower, sizeof lower, "%s", fn ? fn : "");
        for (char *p = lower; *p; p++) *p = (char)tolower((unsigned char)*p);
        /* timezone(zone, ts) is typed in its zone argument; the others in UTC */
        if (!fc->over && zone_source_fn(lower) && !(*out = sq_zone_wrap(sc->ctx, *out, !strcmp(lower, "timezone"))))
            return NOMEM(err);
        if (!fc->over && fc->n_args == 0 && (!strcmp(lower, "current_date") || !strcmp(lower, "today") ||
                                             !strcmp(lower, "current_time") || !strcmp(lower, "get_current_time")))
            return zone_local_now(sc->ctx, lower[0] == 't' || !strcmp(lower, "current_date"), out, err);
        return PL_OK;
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return type_cast(sc, n->type_cast, out, err);
    case PG_QUERY__NODE__NODE_CASE_EXPR:
        return case_expr(sc, n->case_expr, out, err);
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR: {
        bool co = n->node_case == PG_QUERY__NODE__NODE_COALESCE_EXPR;
        PgQuery__Node **an = co ? n->coalesce_expr->args : n->min_max_expr->args;
        size_t na = co ? n->coalesce_expr->n_args : n->min_max_expr->n_args;
        int32_t pos = co ? n->coalesce_expr->location : n->min_max_expr->location;
        const char *fn = co ? "coalesce"
                         : n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest"
                                                                                   : "least";
        pl_expr **args;
        PL_TRY(expr_list(sc, an, na, &args, err));
        pl_status st = call_n(fn, (int32_t)na, args, pos, out, err);
        pl_free(args);
        return st;
    }
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION: {
        const PgQuery__SQLValueFunction *f = n->sqlvalue_function;
        const char *fn = NULL;
        switch (f->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: fn = "current_date"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N: fn = "current_time"; break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N: fn = "now"; break;
        default: return sq_fail(err, PL_ERR_UNSUPPORTED, f->location, "unsupported SQL value function");
        }
        const char *canon = scalar_canonical(fn);
        PL_TRY(call_n(canon ? canon : fn, 0, NULL, f->location, out, err));
        if (!strcmp(fn, "now") && !(*out = sq_zone_wrap(sc->ctx, *out, false))) return NOMEM(err);
        if (strcmp(fn, "now")) PL_TRY(zone_local_now(sc->ctx, !strcmp(fn, "current_date"), out, err));
        if (f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP ||
            f->op == PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N) {
            /* a naive TIMESTAMP: the wall clock of the session's time zone (UTC) */
            pl_type *ts = NULL;
            pl_status st = pl_type_new_timestamp(PL_UNIT_US, NULL, &ts, err);
            if (st) {
                pl_expr_release(*out);
                *out = NULL;
                return st;
            }
            *out = at(pl_expr_cast(*out, ts, false), f->location);
            if (!*out) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        return PL_OK;
    }
    case PG_QUERY__NODE__NODE_SUB_LINK:
        return sq_sublink(sc, n->sub_link, out, err);
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE: {
        /* only the byte order (C, POSIX) is implemented: other collations (NOCASE, NOACCENT,
         * languages) are refused instead of silently comparing bytes ('a' COLLATE NOCASE = 'A'
         * was false) */
        const PgQuery__CollateClause *cc = n->collate_clause;
        const char *cn = cc->n_collname ? sq_str(cc->collname[cc->n_collname - 1]) : NULL;
        if (!cn || (strcasecmp(cn, "c") != 0 && strcasecmp(cn, "posix") != 0))
            return sq_fail(err, PL_ERR_UNSUPPORTED, cc->location,
                           "collation \"%s\" is not supported (only C and POSIX, the byte order); "
                           "for a case-insensitive comparison use lower(a) = lower(b) or ILIKE",
                           cn ? cn : "?");
        return sq_expr(sc, cc->arg, out, err);
    }
    case PG_QUERY__NODE__NODE_PARAM_REF:
        return sq_fail(err, PL_ERR_UNSUPPORTED, n->param_ref->location, "parameters ($%d) are not supported",
                       (int)n->param_ref->number);
    case PG_QUERY__NODE__NODE_ROW_EXPR:
        return row_value(sc, n->row_expr, out, err);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR: {
        /* ARRAY[a, b, ...] (DuckDB's [a, b, ...]): list_value */
        const PgQuery__AArrayExpr *ae = n->a_array_expr;
        pl_expr **args;
        PL_TRY(expr_list(sc, ae->elements, ae->n_elements, &args, err));
        pl_status st = call_n("list_value", (int32_t)ae->n_elements, args, ae->location, out, err);
        pl_free(args);
        return st;
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
        return indirection(sc, n->a_indirection, out, err);
    case PG_QUERY__NODE__NODE_GROUPING_SET:
        return sq_fail(err, PL_ERR_SQL, n->grouping_set->location, "grouping sets are only allowed in GROUP BY");
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        return grouping_call(sc, n->grouping_func->args, n->grouping_func->n_args,
                             n->grouping_func->location, out, err);
    default:
        return pl_error_set(err, PL_ERR_UNSUPPORTED, "unsupported expression (node %d)", (int)n->node_case);
    }
}

/* ---------------------------------------------------------------- output names */

typedef struct sbuf {
    pl_sql_buf text;
    const char *sql; /* the query text (the written type words of casts) */
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t len) { pl_sql_buf_add(&b->text, s, len); }
static void sb_s(sbuf *b, const char *s) { pl_sql_buf_str(&b->text, s); }

static void name_of(sbuf *b, const PgQuery__Node *n);

/* "ORDER BY a DESC NULLS LAST, b" as DuckDB names it in output columns. */
static void order_list(sbuf *b, PgQuery__Node *const *v, size_t n) {
    sb_s(b, "ORDER BY ");
    for (size_t i = 0; i < n; i++) {
        if (i) sb_s(b, ", ");
        const PgQuery__SortBy *sb = v[i]->sort_by;
        name_of(b, sb->node);
        if (sb->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC) sb_s(b, " DESC");
        if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST) sb_s(b, " NULLS FIRST");
        if (sb->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST) sb_s(b, " NULLS LAST");
    }
}

static void name_list(sbuf *b, PgQuery__Node *const *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i) sb_s(b, ", ");
        name_of(b, v[i]);
    }
}

static bool ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* A cast's type as DuckDB names it in output columns: the grammar's own type words (schema
 * pg_catalog) by their SQL names (int4 INTEGER, numeric DECIMAL, bpchar VARCHAR ...), other
 * names as written (TIMESTAMPTZ, int2, TEXT), FLOAT as FLOAT (the grammar makes it float8 or
 * float4) with its precision as written; integer modifiers as "(10, 2)". */
static void type_display(sbuf *b, const PgQuery__TypeName *tn) {
    static const char *const map[][2] = {
        {"int4", "INTEGER"}, {"int8", "BIGINT"}, {"int2", "SMALLINT"}, {"float8", "DOUBLE"},
        {"float4", "FLOAT"}, {"bool", "BOOLEAN"}, {"varchar", "VARCHAR"}, {"numeric", "DECIMAL"},
        {"timestamp", "TIMESTAMP"}, {"timestamptz", "TIMESTAMP WITH TIME ZONE"},
        {"interval", "INTERVAL"}, {"bpchar", "VARCHAR"}, {"time", "TIME"},
        {"timetz", "TIME WITH TIME ZONE"}};
    const char *t = sq_type_base(tn);
    const char *first = tn->n_names ? sq_str(tn->names[0]) : NULL;
    bool sys = tn->n_names >= 2 && first && !strcmp(first, "pg_catalog");
    const char *w = NULL; /* the written type word */
    if (b->sql && tn->location >= 0 && tn->location < pl_sql_text_len(b->sql))
        w = b->sql + tn->location;
    if (w && !strncasecmp(w, "float", 5) && !ident_char(w[5])) {
        sb_s(b, "FLOAT");
        const char *p = w + 5;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '(') {
            const char *q = p + 1;
            while (isspace((unsigned char)*q)) q++;
            const char *d = q;
            while (isdigit((unsigned char)*q)) q++;
            const char *e = q;
            while (isspace((unsigned char)*q)) q++;
            if (e > d && *q == ')') {
                sb_s(b, "(");
                sb_add(b, d, (size_t)(e - d));
                sb_s(b, ")");
            }
        }
        return;
    }
    const char *name = NULL;
    for (size_t i = 0; sys && i < PL_ARRAY_LEN(map) && !name; i++)
        if (!strcmp(t, map[i][0])) name = map[i][1];
    size_t tl = strlen(t);
    if (name) {
        sb_s(b, name);
    } else if (!sys && w && !strncasecmp(w, t, tl) && !ident_char(w[tl])) {
        sb_add(b, w, tl); /* as written */
    } else {
        for (size_t i = 0; i < tl; i++) {
            char c = (char)toupper((unsigned char)t[i]);
            sb_add(b, &c, 1);
        }
    }
    if (!tn->n_typmods || (sys && !strcmp(t, "interval"))) return;
    char tmp[32];
    for (size_t i = 0; i < tn->n_typmods; i++) {
        const PgQuery__Node *m = tn->typmods[i];
        if (m->node_case != PG_QUERY__NODE__NODE_A_CONST || m->a_const->isnull ||
            m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
            return;
    }
    for (size_t i = 0; i < tn->n_typmods; i++) {
        snprintf(tmp, sizeof tmp, "%s%d", i ? ", " : "(", (int)tn->typmods[i]->a_const->ival->ival);
        sb_s(b, tmp);
    }
    sb_s(b, ")");
}

static void name_of(sbuf *b, const PgQuery__Node *n) {
    if (!n) return;
    char tmp[64];
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF: {
        const PgQuery__ColumnRef *cr = n->column_ref;
        const PgQuery__Node *last = cr->fields[cr->n_fields - 1];
        sb_s(b, last->node_case == PG_QUERY__NODE__NODE_A_STAR ? "*" : (sq_str(last) ? sq_str(last) : "?"));
        return;
    }
    case PG_QUERY__NODE__NODE_A_CONST: {
        const PgQuery__AConst *c = n->a_const;
        if (c->isnull) sb_s(b, "NULL");
        else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) {
            snprintf(tmp, sizeof tmp, "%d", (int)c->ival->ival);
            sb_s(b, tmp);
        } else if (c->val_case == PG_QUERY__A__CONST__VAL_FVAL) sb_s(b, c->fval->fval);
        else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) sb_s(b, c->boolval->boolval ? "true" : "false");
        else if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
            sb_s(b, "'");
            sb_s(b, c->sval->sval);
            sb_s(b, "'");
        }
        return;
    }
    case PG_QUERY__NODE__NODE_A_EXPR: {
        const PgQuery__AExpr *ae = n->a_expr;
        const char *op = op_name(ae);
        switch (ae->kind) {
        case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
            /* a lambda, named as DuckDB 2 writes it; with a constant right side, JSON's -> */
            if (!strcmp(op, "->") && ae->lexpr &&
                !(ae->rexpr && ae->rexpr->node_case == PG_QUERY__NODE__NODE_A_CONST)) {
                sb_s(b, "(lambda ");
                if (ae->lexpr->node_case == PG_QUERY__NODE__NODE_ROW_EXPR)
                    name_list(b, ae->lexpr->row_expr->args, ae->lexpr->row_expr->n_args);
                else
                    name_of(b, ae->lexpr);
                sb_s(b, ": ");
                name_of(b, ae->rexpr);
                sb_s(b, ")");
                return;
            }
            if (!strcmp(op, "<@@") || !strcmp(op, "!<@@")) { /* x [NOT] IN [..]: DuckDB's name */
                sb_s(b, op[0] == '!' ? "(NOT contains(" : "contains(");
                name_of(b, ae->rexpr);
                sb_s(b, ", ");
                name_of(b, ae->lexpr);
                sb_s(b, op[0] == '!' ? "))" : ")");
                return;
            }
            if (!ae->lexpr) {
                sb_s(b, "(");
                sb_s(b, op);
                sb_s(b, "(");
                name_of(b, ae->rexpr);
                sb_s(b, "))");
                return;
            }
            sb_s(b, "(");
            name_of(b, ae->lexpr);
            sb_s(b, " ");
            sb_s(b, op);
            sb_s(b, " ");
            name_of(b, ae->rexpr);
            sb_s(b, ")");
            return;
        case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
            sb_s(b, "(");
            name_of(b, ae->lexpr);
            sb_s(b, strcmp(op, "<>") ? " IN (" : " NOT IN (");
            if (ae->rexpr && ae->rexpr->node_case == PG_QUERY__NODE__NODE_LIST)
                name_list(b, ae->rexpr->list->items, ae->rexpr->list->n_items);
            sb_s(b, "))");
            return;
        case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
        case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
            sb_s(b, "(");
            name_of(b, ae->lexpr);
            sb_s(b, ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN ? " BETWEEN " : " NOT BETWEEN ");
            if (ae->rexpr && ae->rexpr->node_case == PG_QUERY__NODE__NODE_LIST && ae->rexpr->list->n_items == 2) {
                name_of(b, ae->rexpr->list->items[0]);
                sb_s(b, " AND ");
                name_of(b, ae->rexpr->list->items[1]);
            }
            sb_s(b, ")");
            return;
        case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
        case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
            sb_s(b, "(");
            name_of(b, ae->lexpr);
            sb_s(b, ae->kind == PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT ? " IS DISTINCT FROM " : " IS NOT DISTINCT FROM ");
            name_of(b, ae->rexpr);
            sb_s(b, ")");
            return;
        case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
            sb_s(b, "nullif(");
            name_of(b, ae->lexpr);
            sb_s(b, ", ");
            name_of(b, ae->rexpr);
            sb_s(b, ")");
            return;
        default:
            sb_s(b, "(");
            name_of(b, ae->lexpr);
            sb_s(b, " ");
            sb_s(b, op);
            sb_s(b, " ");
            name_of(b, ae->rexpr);
            sb_s(b, ")");
            return;
        }
    }
    case PG_QUERY__NODE__NODE_BOOL_EXPR: {
        const PgQuery__BoolExpr *be = n->bool_expr;
        if (be->boolop == PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR) {
            sb_s(b, "(NOT ");
            name_of(b, be->args[0]);
            sb_s(b, ")");
            return;
        }
        sb_s(b, "(");
        for (size_t i = 0; i < be->n_args; i++) {
            if (i) sb_s(b, be->boolop == PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR ? " AND " : " OR ");
            name_of(b, be->args[i]);
        }
        sb_s(b, ")");
        return;
    }
    case PG_QUERY__NODE__NODE_NULL_TEST:
        sb_s(b, "(");
        name_of(b, n->null_test->arg);
        sb_s(b, n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NULL ? " IS NULL)" : " IS NOT NULL)");
        return;
    case PG_QUERY__NODE__NODE_GROUPING_FUNC:
        sb_s(b, "GROUPING(");
        name_list(b, n->grouping_func->args, n->grouping_func->n_args);
        sb_s(b, ")");
        break;
    case PG_QUERY__NODE__NODE_FUNC_CALL: {
        const PgQuery__FuncCall *fc = n->func_call;
        const char *nm = sq_str(fc->funcname[fc->n_funcname - 1]);
        if (nm && !strcasecmp(nm, "grouping_id") && !fc->over) nm = "GROUPING";
        if (fc->agg_star) {
            sb_s(b, "count_star()");
        } else {
            sb_s(b, nm ? nm : "?");
            sb_s(b, "(");
            if (fc->agg_distinct) sb_s(b, "DISTINCT ");
            name_list(b, fc->args, fc->n_args);
            if (fc->n_agg_order && !fc->over) {
                sb_s(b, " ");
                order_list(b, fc->agg_order, fc->n_agg_order);
            }
            sb_s(b, ")");
        }
        if (fc->agg_filter) {
            sb_s(b, " FILTER (WHERE ");
            name_of(b, fc->agg_filter);
            sb_s(b, ")");
        }
        if (fc->over) {
            sb_s(b, " OVER (");
            const PgQuery__WindowDef *w = fc->over;
            if (w->name && w->name[0]) sb_s(b, w->name);
            if (w->n_partition_clause) {
                sb_s(b, "PARTITION BY ");
                name_list(b, w->partition_clause, w->n_partition_clause);
            }
            if (w->n_order_clause) {
                if (w->n_partition_clause) sb_s(b, " ");
                order_list(b, w->order_clause, w->n_order_clause);
            }
            sb_s(b, ")");
        }
        return;
    }
    case PG_QUERY__NODE__NODE_NAMED_ARG_EXPR: { /* struct_pack(a := 1, "it's" := 2) */
        const char *nm = n->named_arg_expr->name ? n->named_arg_expr->name : "?";
        bool plain = !isdigit((unsigned char)nm[0]);
        for (const char *p = nm; *p && plain; p++) plain = isalnum((unsigned char)*p) || *p == '_';
        if (!plain) sb_s(b, "\"");
        sb_s(b, nm);
        sb_s(b, plain ? " := " : "\" := ");
        name_of(b, (const PgQuery__Node *)n->named_arg_expr->arg);
        return;
    }
    case PG_QUERY__NODE__NODE_A_INDIRECTION: { /* l[1], l[a:b], l[:b], s.f: as DuckDB names them */
        const PgQuery__AIndirection *ind = n->a_indirection;
        name_of(b, ind->arg);
        for (size_t i = 0; i < ind->n_indirection; i++) {
            const PgQuery__Node *x = ind->indirection[i];
            if (x->node_case == PG_QUERY__NODE__NODE_A_INDICES) {
                sb_s(b, "[");
                if (x->a_indices->is_slice) {
                    name_of(b, x->a_indices->lidx);
                    sb_s(b, ":");
                }
                name_of(b, x->a_indices->uidx);
                sb_s(b, "]");
            } else if (x->node_case == PG_QUERY__NODE__NODE_STRING) {
                sb_s(b, ".");
                sb_s(b, sq_str(x) ? sq_str(x) : "?");
            } else {
                sb_s(b, "[?]");
            }
        }
        return;
    }
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        sb_s(b, "CAST(");
        name_of(b, n->type_cast->arg);
        sb_s(b, " AS ");
        type_display(b, n->type_cast->type_name);
        sb_s(b, ")");
        return;
    case PG_QUERY__NODE__NODE_CASE_EXPR: {
        const PgQuery__CaseExpr *ce = n->case_expr;
        sb_s(b, "CASE ");
        if (ce->arg) name_of(b, ce->arg);
        for (size_t i = 0; i < ce->n_args; i++) {
            sb_s(b, " WHEN (");
            name_of(b, ce->args[i]->case_when->expr);
            sb_s(b, ") THEN (");
            name_of(b, ce->args[i]->case_when->result);
            sb_s(b, ")");
        }
        if (ce->defresult) {
            sb_s(b, " ELSE ");
            name_of(b, ce->defresult);
        }
        sb_s(b, " END");
        return;
    }
    case PG_QUERY__NODE__NODE_ROW_EXPR: /* DuckDB's name of a row value */
        sb_s(b, "\"row\"(");
        name_list(b, n->row_expr->args, n->row_expr->n_args);
        sb_s(b, ")");
        return;
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        sb_s(b, "COALESCE(");
        name_list(b, n->coalesce_expr->args, n->coalesce_expr->n_args);
        sb_s(b, ")");
        return;
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        sb_s(b, n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_GREATEST ? "greatest(" : "least(");
        name_list(b, n->min_max_expr->args, n->min_max_expr->n_args);
        sb_s(b, ")");
        return;
    case PG_QUERY__NODE__NODE_SUB_LINK:
        sb_s(b, n->sub_link->sub_link_type == PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK ? "EXISTS(SELECT ...)"
                                                                                     : "(SELECT ...)");
        return;
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        switch (n->sqlvalue_function->op) {
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE: sb_s(b, "current_date"); break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N: sb_s(b, "current_time"); break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N: sb_s(b, "localtime"); break;
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP:
        case PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N: sb_s(b, "localtimestamp"); break;
        default: sb_s(b, "current_timestamp"); break;
        }
        return;
    default:
        sb_s(b, "?column?");
        return;
    }
}

char *sq_expr_name(const char *sql, const PgQuery__Node *n) {
    sbuf b = {0};
    b.sql = sql;
    name_of(&b, n);
    if (b.text.oom) {
        pl_free(b.text.p);
        return NULL;
    }
    if (!b.text.p) return pl_strdup("?column?");
    return b.text.p;
}
