/* optimize.c - logical rewrites. Each pass returns a new plan (nodes are immutable):
 *   1. constant folding of literal-only subexpressions;
 *   2. predicate pushdown: filters split into conjuncts and moved below projections, sorts,
 *      aggregates (conjuncts on group keys), unions and joins (one-sided conjuncts to their
 *      side; two-sided equalities over an inner/cross join become hash keys; ORs there give
 *      up the conjuncts common to their branches and imply per-side ORs, factor_ors; a cross
 *      join that the join above connects to both sides is rotated away, rotate_cross), into
 *      scans;
 *   3. projection pushdown: scans read only the columns used above them;
 *   4. limit pushdown: ORDER BY ... LIMIT becomes a top-N sort; a limit reaches a plain scan;
 *   5. join build side: the smaller estimated input of an inner join builds the hash table;
 *      trees of 3 or more inner joins are reordered by estimated sizes (joinorder.c);
 *   6. count(*) of a Parquet scan from the files' footers (metacount.c). */
#include <stdio.h>

#include "plan/plan.h"

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory optimizing a plan"); }

/* ---------------------------------------------------------------- node copies */

static pl_expr **clone_exprs(int32_t n, pl_expr *const *e) {
    pl_expr **c = pl_calloc((size_t)PL_MAX(n, 1), sizeof *c);
    if (!c) return NULL;
    for (int32_t i = 0; i < n; i++) {
        c[i] = e[i] ? pl_expr_clone(e[i]) : NULL;
        if (e[i] && !c[i]) {
            for (int32_t k = 0; k < i; k++) pl_expr_release(c[k]);
            pl_free(c);
            return NULL;
        }
    }
    return c;
}

/* A copy of d with new inputs (references taken from `inputs`; NULL = d's own). */
static pl_df *node_copy(const pl_df *d, pl_df **inputs) {
    pl_df *c = pl_plan_node_new(d->kind, 0, NULL);
    if (!c) goto fail_inputs;
    c->n_inputs = d->n_inputs;
    for (int32_t i = 0; i < d->n_inputs; i++) {
        c->inputs[i] = inputs ? inputs[i] : pl_df_retain(d->inputs[i]);
        if (inputs) inputs[i] = NULL;
    }
    c->schema = pl_schema_retain(d->schema);
    if (d->qualifiers) {
        int32_t n = d->schema->n_fields;
        c->qualifiers = pl_calloc((size_t)PL_MAX(n, 1), sizeof(char *));
        if (!c->qualifiers) goto fail;
        for (int32_t i = 0; i < n; i++)
            if (d->qualifiers[i]) c->qualifiers[i] = pl_strdup(d->qualifiers[i]);
    }
    if (d->kind == PL_PLAN_SCAN) {
        c->paths = pl_calloc((size_t)PL_MAX(d->n_paths, 1), sizeof(char *));
        if (!c->paths) goto fail;
        c->n_paths = d->n_paths;
        for (int32_t i = 0; i < d->n_paths; i++)
            if (!(c->paths[i] = pl_strdup(d->paths[i]))) goto fail;
        c->format = d->format;
        /* read options without the arrays the original owns (scan_copy copies them) */
        pl_read_opts_init(&c->read_opts);
        c->inputs[1] = NULL;
        c->file_schema = pl_schema_retain(d->file_schema);
        c->n_cols = d->n_cols;
        if (d->n_cols >= 0) {
            c->cols = pl_malloc(sizeof(int32_t) * (size_t)PL_MAX(d->n_cols, 1));
            if (!c->cols) goto fail;
            memcpy(c->cols, d->cols, sizeof(int32_t) * (size_t)d->n_cols);
        }
        c->scan_filter = d->scan_filter ? pl_expr_clone(d->scan_filter) : NULL;
        c->scan_limit = d->scan_limit;
        if (d->scan_fonly) {
            size_t nf = (size_t)PL_MAX(d->schema->n_fields, 1);
            if (!(c->scan_fonly = pl_malloc(nf))) goto fail;
            memcpy(c->scan_fonly, d->scan_fonly, nf);
        }
    }
    c->est_rows = d->est_rows;
    c->table = d->table ? pl_table_retain(d->table) : NULL;
    if (d->is_range) {
        c->is_range = true;
        c->range = d->range;
        c->range.type = pl_type_retain(d->range.type);
        c->range_rows = d->range_rows;
    }
    if (d->table_note && !(c->table_note = pl_strdup(d->table_note))) goto fail;
    c->pred = d->pred ? pl_expr_clone(d->pred) : NULL;
    c->n_exprs = d->n_exprs;
    if (d->exprs && !(c->exprs = clone_exprs(d->n_exprs, d->exprs))) goto fail;
    c->n_keys = d->n_keys;
    if (d->kind == PL_PLAN_SORT) {
        c->sort_keys = pl_calloc((size_t)PL_MAX(d->n_keys, 1), sizeof *c->sort_keys);
        if (!c->sort_keys) goto fail;
        for (int32_t i = 0; i < d->n_keys; i++) {
            c->sort_keys[i] = d->sort_keys[i];
            c->sort_keys[i].expr = pl_expr_clone(d->sort_keys[i].expr);
        }
    } else {
        if (d->keys && !(c->keys = clone_exprs(d->n_keys, d->keys))) goto fail;
        if (d->right_keys && !(c->right_keys = clone_exprs(d->n_keys, d->right_keys))) goto fail;
    }
    c->join_type = d->join_type;
    c->null_equal = d->null_equal;
    if (d->key_ne) {
        c->key_ne = pl_malloc(sizeof *c->key_ne * (size_t)PL_MAX(d->n_keys, 1));
        if (!c->key_ne) goto fail;
        memcpy(c->key_ne, d->key_ne, sizeof *c->key_ne * (size_t)PL_MAX(d->n_keys, 1));
    }
    c->residual = d->residual ? pl_expr_clone(d->residual) : NULL;
    c->build_left = d->build_left;
    c->asof_cmp = d->asof_cmp;
    c->offset = d->offset;
    c->limit = d->limit;
    c->all = d->all;
    c->setop = d->setop;
    return c;
fail:
    pl_df_release(c);
    return NULL;
fail_inputs:
    for (int32_t i = 0; inputs && i < d->n_inputs; i++) pl_df_release(inputs[i]);
    return NULL;
}

/* SCAN copies own copies of the original's option arrays. */
static pl_df *scan_copy(const pl_df *d) {
    pl_df *c = node_copy(d, NULL);
    if (!c) return NULL;
    if (pl_plan_copy_read_opts(c, &d->read_opts, NULL)) {
        pl_df_release(c);
        return NULL;
    }
    return c;
}

static pl_df *copy_any(const pl_df *d, pl_df **inputs) {
    return d->kind == PL_PLAN_SCAN ? scan_copy(d) : node_copy(d, inputs);
}

/* ---------------------------------------------------------------- 1. constant folding */

static pl_status fold_expr(pl_expr **e, pl_error *err) {
    pl_expr *x = *e;
    if (!x) return PL_OK;
    bool all_lit = x->n_args > 0;
    for (int32_t i = 0; i < x->n_args; i++) {
        PL_TRY(fold_expr(&x->args[i], err));
        all_lit &= x->args[i]->kind == PL_EXPR_LITERAL;
    }
    if (x->filter) PL_TRY(fold_expr(&x->filter, err));
    if ((x->kind != PL_EXPR_CALL && x->kind != PL_EXPR_CAST) || !all_lit ||
        !pl_expr_is_deterministic(x))
        return PL_OK;
    pl_schema *empty = NULL;
    PL_TRY(pl_schema_new(0, NULL, &empty, err));
    pl_bexpr *b = NULL;
    pl_error e2;
    pl_error_init(&e2);
    /* a failure (e.g. 1/0 overflow) is left to run time, where it is reported in context */
    if (pl_expr_bind(x, empty, &b, &e2) == PL_OK && pl_bexpr_fold(&b, &e2) == PL_OK &&
        b->kind == PL_BEXPR_LIT) {
        pl_value v;
        if (pl_value_copy(&b->lit, &v, &e2) == PL_OK) {
            pl_expr *lit = pl_expr_lit_value(&v);
            pl_value_reset(&v);
            if (lit) {
                lit->sql_pos = x->sql_pos;
                lit->typed_lit = true; /* 1::INTEGER, (1 + 1): no longer an integer literal */
                pl_expr_release(x);
                *e = lit;
            }
        }
    }
    pl_bexpr_free(b);
    pl_schema_release(empty);
    return PL_OK;
}

static pl_status fold_plan(pl_df *d, pl_error *err) {
    /* d is a fresh copy owned by the optimizer: edit in place */
    if (d->pred) PL_TRY(fold_expr(&d->pred, err));
    for (int32_t i = 0; i < d->n_exprs; i++) PL_TRY(fold_expr(&d->exprs[i], err));
    if (d->residual) PL_TRY(fold_expr(&d->residual, err));
    return PL_OK;
}

/* ---------------------------------------------------------------- conjuncts */

typedef struct conj_list {
    pl_expr **v;
    int32_t n, cap;
} conj_list;

static pl_status conj_push(conj_list *c, pl_expr *e, pl_error *err) {
    if (c->n == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 8;
        pl_expr **v = pl_realloc(c->v, sizeof *v * (size_t)cap);
        if (!v) {
            pl_expr_release(e);
            return nomem(err);
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = e;
    return PL_OK;
}

static void conj_free(conj_list *c) {
    for (int32_t i = 0; i < c->n; i++) pl_expr_release(c->v[i]);
    pl_free(c->v);
    c->v = NULL;
    c->n = c->cap = 0;
}

static pl_status split_and(const pl_expr *e, conj_list *out, pl_error *err) {
    if (e->kind == PL_EXPR_CALL && strcmp(e->name, "and") == 0) {
        for (int32_t i = 0; i < e->n_args; i++) PL_TRY(split_and(e->args[i], out, err));
        return PL_OK;
    }
    pl_expr *c = pl_expr_clone(e);
    if (!c) return nomem(err);
    return conj_push(out, c, err);
}

/* AND of the conjuncts (taken); NULL when there are none. */
static pl_expr *make_and(conj_list *c) {
    if (c->n == 0) return NULL;
    pl_expr *r = c->v[0];
    for (int32_t i = 1; i < c->n; i++) r = pl_expr_call2("and", r, c->v[i]);
    c->n = 0;
    return r;
}

static bool uses_only(const pl_expr *e, int32_t lo, int32_t hi) {
    if (!e) return true;
    if (e->kind == PL_EXPR_COLUMN && (e->index < lo || e->index >= hi)) return false;
    for (int32_t i = 0; i < e->n_args; i++)
        if (!uses_only(e->args[i], lo, hi)) return false;
    if (!uses_only(e->filter, lo, hi)) return false;
    for (int32_t i = 0; i < e->n_order; i++)
        if (!uses_only(e->order[i].expr, lo, hi)) return false;
    for (int32_t i = 0; i < e->n_partition; i++)
        if (!uses_only(e->partition[i], lo, hi)) return false;
    return true;
}

static bool has_columns(const pl_expr *e) {
    if (!e) return false;
    if (e->kind == PL_EXPR_COLUMN) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (has_columns(e->args[i])) return true;
    return false;
}

/* Shifts column indices by delta. */
static pl_expr *shift(const pl_expr *e, int32_t n_cols, int32_t delta) {
    int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(n_cols, 1));
    if (!map) return NULL;
    for (int32_t i = 0; i < n_cols; i++) map[i] = i + delta;
    pl_expr *r = pl_expr_remap(e, map);
    pl_free(map);
    return r;
}

static pl_df *wrap_filter(pl_df *in, conj_list *c, pl_error *err, pl_status *st);

/* ---------------------------------------------------------------- 2. predicate pushdown */

static pl_status push_down(pl_df *d, conj_list *preds, pl_df **out, pl_error *err);

/* Optimizes below d (pushing nothing from above) and returns a new node. */
static pl_status rewrite(pl_df *d, pl_df **out, pl_error *err) {
    conj_list none = {0};
    return push_down(d, &none, out, err);
}

/* Puts the remaining predicates in a filter over `in` (taken). */
static pl_df *wrap_filter(pl_df *in, conj_list *c, pl_error *err, pl_status *st) {
    if (!in || c->n == 0) return in;
    pl_expr *p = make_and(c);
    pl_df *f = pl_plan_node_new(PL_PLAN_FILTER, 1, &in);
    if (!f || !p) {
        pl_expr_release(p);
        pl_df_release(f);
        pl_df_release(in);
        *st = nomem(err);
        return NULL;
    }
    f->schema = pl_schema_retain(in->schema);
    if (in->qualifiers) {
        int32_t n = in->schema->n_fields;
        f->qualifiers = pl_calloc((size_t)PL_MAX(n, 1), sizeof(char *));
        for (int32_t i = 0; f->qualifiers && i < n; i++)
            if (in->qualifiers[i]) f->qualifiers[i] = pl_strdup(in->qualifiers[i]);
    }
    f->pred = p;
    f->est_rows = in->est_rows >= 0 ? in->est_rows / 4 : -1;
    pl_df_release(in);
    return f;
}

static bool is_not_distinct_call(const pl_expr *e) {
    return e->kind == PL_EXPR_CALL && e->n_args == 2 && strcmp(e->name, "is_not_distinct_from") == 0;
}

/* a = b or a IS NOT DISTINCT FROM b: may become a hash join key */
static bool is_eq_call(const pl_expr *e) {
    return e->kind == PL_EXPR_CALL && e->n_args == 2 &&
           (strcmp(e->name, "eq") == 0 || is_not_distinct_call(e));
}

static bool is_true_lit(const pl_expr *e);

static pl_status split_or(const pl_expr *e, conj_list *out, pl_error *err) {
    if (e->kind == PL_EXPR_CALL && strcmp(e->name, "or") == 0) {
        for (int32_t i = 0; i < e->n_args; i++) PL_TRY(split_or(e->args[i], out, err));
        return PL_OK;
    }
    pl_expr *c = pl_expr_clone(e);
    if (!c) return nomem(err);
    return conj_push(out, c, err);
}

static bool conj_has(const conj_list *c, const pl_expr *e) {
    for (int32_t i = 0; i < c->n; i++)
        if (pl_expr_equals(c->v[i], e)) return true;
    return false;
}

/* Removes (releases) the first conjunct of c equal to e; false when there is none. */
static bool conj_remove(conj_list *c, const pl_expr *e) {
    for (int32_t i = 0; i < c->n; i++) {
        if (!pl_expr_equals(c->v[i], e)) continue;
        pl_expr_release(c->v[i]);
        memmove(c->v + i, c->v + i + 1, sizeof *c->v * (size_t)(c->n - i - 1));
        c->n--;
        return true;
    }
    return false;
}

/* OR over the ANDs of parts[0..k) (cloned): of every conjunct, or (one_side) of those over
 * columns [lo, hi) only; NULL when out of memory. */
static pl_expr *or_of_ands(conj_list *parts, int32_t k, bool one_side, int32_t lo, int32_t hi) {
    pl_expr *r = NULL;
    for (int32_t j = 0; j < k; j++) {
        pl_expr *a = NULL;
        for (int32_t i = 0; i < parts[j].n; i++) {
            const pl_expr *c = parts[j].v[i];
            if (one_side && (!uses_only(c, lo, hi) || !has_columns(c))) continue;
            pl_expr *x = pl_expr_clone(c);
            a = a ? pl_expr_call2("and", a, x) : x;
            if (!a) break;
        }
        r = r ? pl_expr_call2("or", r, a) : a;
        if (!r) return NULL;
    }
    return r;
}

/* Whether every disjunct has a conjunct over columns [lo, hi) only (some) and whether all of
 * its conjuncts are (all). */
static void side_cover(const conj_list *parts, int32_t k, int32_t lo, int32_t hi, bool *some, bool *all) {
    *some = *all = true;
    for (int32_t j = 0; j < k; j++) {
        int32_t n_side = 0;
        for (int32_t i = 0; i < parts[j].n; i++)
            n_side += uses_only(parts[j].v[i], lo, hi) && has_columns(parts[j].v[i]);
        if (n_side == 0) *some = false;
        if (n_side < parts[j].n) *all = false;
    }
}

/* ORs among the conjuncts of an inner join's condition (rows pass only when it is TRUE), for
 * an OR whose branches each repeat the join key or restrict each side (TPC-H Q19):
 *  - a conjunct common to every disjunct comes out ((a AND x) OR (a AND y) is a AND (x OR y),
 *    also in three-valued logic), so a key equality written inside each branch becomes a hash
 *    key; when a branch is left with nothing the OR is just the common part;
 *  - when every disjunct restricts one side, the OR of those restrictions is implied (a TRUE
 *    disjunct has TRUE restrictions) and added, so that side is filtered below the join; the
 *    full OR stays. Deterministic ORs only. New conjuncts are appended to all. */
static pl_status factor_ors(conj_list *all, int32_t nl, int32_t nr, pl_error *err) {
    int32_t n0 = all->n;
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n0 && !st; i++) {
        pl_expr *e = all->v[i];
        if (!e || e->kind != PL_EXPR_CALL || strcmp(e->name, "or") != 0 || !pl_expr_is_deterministic(e))
            continue;
        conj_list dis = {0}, common = {0};
        st = split_or(e, &dis, err);
        int32_t k = dis.n;
        conj_list *parts = st ? NULL : pl_calloc((size_t)PL_MAX(k, 1), sizeof *parts);
        if (!st && !parts) st = nomem(err);
        for (int32_t j = 0; j < k && !st; j++) st = split_and(dis.v[j], &parts[j], err);
        /* the conjuncts every disjunct has */
        for (int32_t c = 0; !st && k > 1 && c < parts[0].n;) {
            const pl_expr *x = parts[0].v[c];
            bool everywhere = true;
            for (int32_t j = 1; j < k && everywhere; j++) everywhere = conj_has(&parts[j], x);
            if (!everywhere) {
                c++;
                continue;
            }
            st = conj_push(&common, pl_expr_retain(parts[0].v[c]), err);
            for (int32_t j = k - 1; j >= 0 && !st; j--) conj_remove(&parts[j], common.v[common.n - 1]);
        }
        bool emptied = false;
        for (int32_t j = 0; j < k; j++) emptied |= parts[j].n == 0;
        /* implied one-sided ORs (none when a branch is empty: the OR is then the common part) */
        for (int32_t side = 0; side < 2 && !st && !emptied && k > 1; side++) {
            int32_t lo = side ? nl : 0, hi = side ? nl + nr : nl;
            bool some, whole;
            side_cover(parts, k, lo, hi, &some, &whole);
            if (!some || whole) continue; /* a whole-side OR moves down as it is */
            pl_expr *imp = or_of_ands(parts, k, true, lo, hi);
            if (!imp) st = nomem(err);
            else if (conj_has(all, imp)) pl_expr_release(imp);
            else st = conj_push(all, imp, err);
        }
        if (!st && common.n > 0) {
            pl_expr *rest = emptied ? pl_expr_lit_bool(true) : or_of_ands(parts, k, false, 0, 0);
            if (!rest) st = nomem(err);
            else {
                pl_expr_release(all->v[i]);
                all->v[i] = rest;
            }
            for (int32_t c = 0; c < common.n && !st; c++)
                if (!conj_has(all, common.v[c])) st = conj_push(all, pl_expr_retain(common.v[c]), err);
        }
        for (int32_t j = 0; parts && j < k; j++) conj_free(&parts[j]);
        pl_free(parts);
        conj_free(&dis);
        conj_free(&common);
    }
    /* an OR reduced to its common part leaves TRUE */
    int32_t w = 0;
    for (int32_t i = 0; i < all->n; i++) {
        if (is_true_lit(all->v[i])) {
            pl_expr_release(all->v[i]);
            continue;
        }
        all->v[w++] = all->v[i];
    }
    all->n = w;
    return st;
}

static void set_build_side(pl_df *j) {
    int64_t el = j->inputs[0]->est_rows, er = j->inputs[1]->est_rows;
    j->est_rows = PL_MAX(el, er);
    if (el >= 0 && er >= 0) j->build_left = el < er;
}

/* (A x B) JOIN C ON keys over A and C AND keys over B and C, with A x B a plain cross join
 * (comma-joined tables with no condition between them: TPC-H Q2, Q8, Q9 list part, supplier
 * before the table that joins both) becomes ((A JOIN C) JOIN B) under a projection that
 * restores the column order A, B, C: the cross product is never built. *c is replaced on
 * success; unchanged when the pattern does not apply. */
static pl_status rotate_cross(pl_df **c, pl_error *err) {
    pl_df *j = *c, *x = j->inputs[0];
    if (j->kind != PL_PLAN_JOIN || j->join_type != PL_JOIN_INNER || j->n_keys < 2 ||
        x->kind != PL_PLAN_JOIN || x->join_type != PL_JOIN_CROSS || x->n_keys > 0 || x->residual)
        return PL_OK;
    pl_df *a = x->inputs[0], *b = x->inputs[1], *cc = j->inputs[1];
    int32_t na = a->schema->n_fields, nb = b->schema->n_fields, nc = cc->schema->n_fields;
    int32_t n_a = 0, n_b = 0;
    for (int32_t i = 0; i < j->n_keys; i++) {
        if (uses_only(j->keys[i], 0, na) && has_columns(j->keys[i])) n_a++;
        else if (uses_only(j->keys[i], na, na + nb) && has_columns(j->keys[i])) n_b++;
        else return PL_OK;
    }
    if (n_a == 0 || n_b == 0) return PL_OK;
    int32_t n = na + nb + nc;
    pl_expr **ak = pl_calloc((size_t)n_a, sizeof *ak), **ack = pl_calloc((size_t)n_a, sizeof *ack);
    pl_expr **bk = pl_calloc((size_t)n_b, sizeof *bk), **bck = pl_calloc((size_t)n_b, sizeof *bck);
    bool *ane = pl_calloc((size_t)n_a, sizeof *ane), *bne = pl_calloc((size_t)n_b, sizeof *bne);
    int32_t *map = pl_calloc((size_t)n, sizeof *map);
    pl_expr **cols = pl_calloc((size_t)n, sizeof *cols);
    const char **names = pl_calloc((size_t)n, sizeof *names);
    pl_status st = (!ak || !ack || !bk || !bck || !ane || !bne || !map || !cols || !names) ? nomem(err) : PL_OK;
    /* old layout A, B, C -> new layout A, C, B */
    for (int32_t i = 0; !st && i < n; i++)
        map[i] = i < na ? i : i < na + nb ? nc + i : i - nb;
    int32_t ia = 0, ib = 0;
    for (int32_t i = 0; !st && i < j->n_keys; i++) {
        if (uses_only(j->keys[i], 0, na)) {
            ak[ia] = pl_expr_retain(j->keys[i]);
            ack[ia] = pl_expr_retain(j->right_keys[i]);
            ane[ia++] = j->key_ne && j->key_ne[i];
        } else {
            /* the C side (after A's columns in A JOIN C) on the left, B's key on the right */
            bk[ib] = shift(j->right_keys[i], nc, na);
            bck[ib] = shift(j->keys[i], na + nb, -na);
            bne[ib] = j->key_ne && j->key_ne[i];
            if (!bk[ib] || !bck[ib]) st = nomem(err);
            ib++;
        }
    }
    pl_expr *resid = NULL;
    if (!st && j->residual && !(resid = pl_expr_remap(j->residual, map))) st = nomem(err);
    pl_df *ac = NULL, *acb = NULL, *p = NULL;
    pl_join_opts jo = {false, NULL, ane, PL_ASOF_GE};
    if (!st) st = pl_df_join(a, cc, PL_JOIN_INNER, n_a, ak, ack, &jo, &ac, err);
    pl_join_opts jo2 = {false, resid, bne, PL_ASOF_GE};
    if (!st) {
        set_build_side(ac);
        st = pl_df_join(ac, b, PL_JOIN_INNER, n_b, bk, bck, &jo2, &acb, err);
    }
    for (int32_t i = 0; !st && i < n; i++) {
        names[i] = j->schema->fields[i].name;
        if (!(cols[i] = pl_expr_col_index(map[i], names[i]))) st = nomem(err);
    }
    if (!st) {
        set_build_side(acb);
        st = pl_df_select(acb, n, cols, names, &p, err);
    }
    if (!st) {
        p->est_rows = acb->est_rows;
        pl_df_release(*c);
        *c = p;
    }
    for (int32_t i = 0; i < n_a && ak; i++) {
        pl_expr_release(ak[i]);
        if (ack) pl_expr_release(ack[i]);
    }
    for (int32_t i = 0; i < n_b && bk; i++) {
        pl_expr_release(bk[i]);
        if (bck) pl_expr_release(bck[i]);
    }
    for (int32_t i = 0; i < n && cols; i++) pl_expr_release(cols[i]);
    pl_free(ak);
    pl_free(ack);
    pl_free(bk);
    pl_free(bck);
    pl_free(ane);
    pl_free(bne);
    pl_free(map);
    pl_free(cols);
    pl_free((void *)names);
    pl_expr_release(resid);
    if (ac) pl_df_release(ac);
    if (acb) pl_df_release(acb);
    return st;
}

static pl_status push_join(pl_df *d, conj_list *preds, pl_df **out, pl_error *err) {
    int32_t nl = d->inputs[0]->schema->n_fields, nr = d->inputs[1]->schema->n_fields;
    pl_join_type jt = d->join_type;
    bool semi = jt == PL_JOIN_SEMI || jt == PL_JOIN_ANTI;
    bool inner = jt == PL_JOIN_INNER || jt == PL_JOIN_CROSS;
    conj_list lp = {0}, rp = {0}, keep = {0}, resid = {0};
    pl_status st = PL_OK;
    /* new keys collected from two-sided equalities */
    pl_expr **lk = NULL, **rk = NULL;
    bool *ne = NULL;
    int32_t nk = d->n_keys;
    /* residual conjuncts of inner joins can move to one side too */
    conj_list all = {0};
    for (int32_t i = 0; i < preds->n && !st; i++) st = conj_push(&all, pl_expr_retain(preds->v[i]), err);
    if (!st && d->residual && inner) st = split_and(d->residual, &all, err);
    else if (!st && d->residual) st = conj_push(&resid, pl_expr_retain(d->residual), err);
    if (!st) {
        lk = pl_calloc((size_t)(nk + all.n + 1), sizeof *lk);
        rk = pl_calloc((size_t)(nk + all.n + 1), sizeof *rk);
        ne = pl_calloc((size_t)(nk + all.n + 1), sizeof *ne);
        if (!lk || !rk || !ne) st = nomem(err);
    }
    for (int32_t i = 0; i < nk && !st; i++) {
        lk[i] = pl_expr_retain(d->keys[i]);
        rk[i] = pl_expr_retain(d->right_keys[i]);
        ne[i] = d->key_ne && d->key_ne[i];
    }
    if (!st && inner) st = factor_ors(&all, nl, nr, err);
    int32_t n_from_above = preds->n;
    for (int32_t i = 0; i < all.n && !st; i++) {
        pl_expr *e = all.v[i];
        bool above = i < n_from_above;
        bool det = pl_expr_is_deterministic(e);
        bool left_only = uses_only(e, 0, nl) && has_columns(e);
        bool right_only = !semi && uses_only(e, nl, nl + nr) && has_columns(e);
        /* which sides may take a predicate from above: the non-null-extended ones */
        bool left_ok = inner || jt == PL_JOIN_LEFT || semi || jt == PL_JOIN_ASOF ||
                       jt == PL_JOIN_ASOF_LEFT; /* never the right side of an as-of join: a
                                                 * filter there picks other rows */
        bool right_ok = inner || jt == PL_JOIN_RIGHT;
        if (!above) left_ok = right_ok = inner; /* residual of an inner join */
        if (det && left_only && left_ok) {
            st = conj_push(&lp, pl_expr_retain(e), err);
        } else if (det && right_only && right_ok) {
            pl_expr *s = shift(e, nl + nr, -nl);
            st = s ? conj_push(&rp, s, err) : nomem(err);
        } else if (det && inner && is_eq_call(e) &&
                   ((uses_only(e->args[0], 0, nl) && uses_only(e->args[1], nl, nl + nr) &&
                     has_columns(e->args[0]) && has_columns(e->args[1])) ||
                    (uses_only(e->args[1], 0, nl) && uses_only(e->args[0], nl, nl + nr) &&
                     has_columns(e->args[0]) && has_columns(e->args[1])))) {
            bool flip = !uses_only(e->args[0], 0, nl);
            lk[nk] = pl_expr_clone(e->args[flip ? 1 : 0]);
            rk[nk] = shift(e->args[flip ? 0 : 1], nl + nr, -nl);
            if (!lk[nk] || !rk[nk]) st = nomem(err);
            ne[nk] = is_not_distinct_call(e);
            nk++;
        } else if (above && !inner) {
            st = conj_push(&keep, pl_expr_retain(e), err);
        } else {
            st = conj_push(&resid, pl_expr_retain(e), err);
        }
    }
    conj_free(&all);
    pl_df *l = NULL, *r = NULL;
    if (!st) st = push_down(d->inputs[0], &lp, &l, err);
    if (!st) st = push_down(d->inputs[1], &rp, &r, err);
    pl_df *ins[2] = {l, r};
    pl_df *c = NULL;
    if (!st) {
        c = node_copy(d, ins);
        if (!c) st = nomem(err);
    } else {
        pl_df_release(l);
        pl_df_release(r);
    }
    if (!st) {
        for (int32_t i = 0; i < c->n_keys; i++) {
            pl_expr_release(c->keys[i]);
            pl_expr_release(c->right_keys[i]);
        }
        pl_free(c->keys);
        pl_free(c->right_keys);
        c->keys = lk;
        c->right_keys = rk;
        pl_free(c->key_ne);
        c->key_ne = ne;
        c->n_keys = nk;
        lk = rk = NULL;
        ne = NULL;
        pl_expr_release(c->residual);
        c->residual = make_and(&resid);
        if (c->join_type == PL_JOIN_CROSS && c->n_keys > 0) c->join_type = PL_JOIN_INNER;
        int64_t el = c->inputs[0]->est_rows, er = c->inputs[1]->est_rows;
        c->est_rows = PL_MAX(el, er);
        if (inner && el >= 0 && er >= 0) c->build_left = el < er;
        if (jt == PL_JOIN_LEFT || jt == PL_JOIN_RIGHT || jt == PL_JOIN_FULL)
            c->build_left = el >= 0 && er >= 0 && el < er;
        if (inner) st = rotate_cross(&c, err);
        if (!st) c = wrap_filter(c, &keep, err, &st);
    }
    if (lk)
        for (int32_t i = 0; i < nk; i++) pl_expr_release(lk[i]);
    if (rk)
        for (int32_t i = 0; i < nk; i++) pl_expr_release(rk[i]);
    pl_free(lk);
    pl_free(ne);
    pl_free(rk);
    conj_free(&lp);
    conj_free(&rp);
    conj_free(&keep);
    conj_free(&resid);
    if (st) {
        pl_df_release(c);
        return st;
    }
    *out = c;
    return PL_OK;
}

/* Routes each conjunct of preds: one that is deterministic (and allowed) and reads only columns
 * map sends somewhere below (map[k] >= 0 for every column k < n it uses) goes, remapped, into
 * below; every other conjunct stays above (retained). */
static pl_status split_by_map(const conj_list *preds, const int32_t *map, int32_t n, bool allow,
                              conj_list *below, conj_list *above, pl_error *err) {
    bool *used = pl_malloc((size_t)PL_MAX(n, 1) * sizeof *used);
    if (!used) return nomem(err);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < preds->n && !st; i++) {
        pl_expr *e = preds->v[i];
        memset(used, 0, (size_t)PL_MAX(n, 1) * sizeof *used);
        pl_expr_mark_columns(e, used, n);
        bool ok = allow && pl_expr_is_deterministic(e);
        for (int32_t k = 0; k < n; k++) ok &= !used[k] || map[k] >= 0;
        if (ok) {
            pl_expr *r = pl_expr_remap(e, map);
            st = r ? conj_push(below, r, err) : nomem(err);
        } else {
            st = conj_push(above, pl_expr_retain(e), err);
        }
    }
    pl_free(used);
    return st;
}

/* Whether e is the literal TRUE. */
static bool is_true_lit(const pl_expr *e) {
    return e->kind == PL_EXPR_LITERAL && !e->value.is_null && e->value.type->id == PL_TYPE_BOOL &&
           e->value.v.b;
}

/* Whether e is a literal no row passes: FALSE or NULL. */
static bool is_false_lit(const pl_expr *e) {
    return e->kind == PL_EXPR_LITERAL &&
           (e->value.is_null || (e->value.type->id == PL_TYPE_BOOL && !e->value.v.b));
}

/* preds over the outputs of projection d, into *out with the outputs that are constants (a
 * literal after folding, such as the partition columns of a hive scan, plan_hive.c) replaced
 * by their value and folded: `g = 1` over `PROJECT ..., 0 AS g` becomes FALSE, which the scan
 * below takes as a filter that skips its files. Conjuncts that fold to TRUE are dropped. */
static pl_status subst_constants(const pl_df *d, const conj_list *preds, conj_list *out,
                                 pl_error *err) {
    int32_t n = d->n_exprs;
    if (preds->n == 0) return PL_OK;
    pl_expr **consts = pl_calloc((size_t)PL_MAX(n, 1), sizeof *consts);
    if (!consts) return nomem(err);
    pl_status st = PL_OK;
    bool any = false;
    for (int32_t i = 0; i < n && !st; i++) {
        const pl_expr *x = d->exprs[i];
        if (x->kind != PL_EXPR_LITERAL && x->kind != PL_EXPR_CAST) continue;
        pl_expr *c = pl_expr_clone(x);
        st = c ? fold_expr(&c, err) : nomem(err);
        if (!st && c->kind == PL_EXPR_LITERAL) {
            consts[i] = c;
            any = true;
        } else {
            pl_expr_release(c);
        }
    }
    for (int32_t i = 0; i < preds->n && !st; i++) {
        pl_expr *e = any && pl_expr_is_deterministic(preds->v[i])
                         ? pl_expr_substitute(preds->v[i], consts, n)
                         : pl_expr_retain(preds->v[i]);
        st = e ? fold_expr(&e, err) : nomem(err);
        if (!st && is_true_lit(e)) {
            pl_expr_release(e);
            continue;
        }
        if (!st && is_false_lit(e)) {
            /* FALSE (or NULL): no row passes, the other conjuncts need not be kept */
            conj_free(out);
            st = conj_push(out, e, err);
            break;
        }
        if (!st) st = conj_push(out, e, err);
        else pl_expr_release(e);
    }
    for (int32_t i = 0; i < n; i++) pl_expr_release(consts[i]);
    pl_free(consts);
    return st;
}

/* A comparison of a DATE column with a naive TIMESTAMP constant (`date '1998-12-01' - interval
 * '90' day` is a TIMESTAMP, as in DuckDB: TPC-H Q1, Q4, Q6, ...) casts every date to a
 * timestamp at midnight. Against the equivalent DATE constant it needs no cast and Parquet's
 * DATE statistics prune row groups: cast(d) <= t <=> d <= floor(t), cast(d) < t <=> d <
 * ceil(t), >= ceil, > floor (in days); = and <> only when t is a midnight. A new expression,
 * or NULL when e is not such a comparison (or out of memory: e is then kept). */
static pl_expr *date_cmp_narrowed(const pl_expr *e, const pl_schema *s) {
    static const char *const ops[] = {"lt", "le", "gt", "ge", "eq", "ne"};
    if (e->kind != PL_EXPR_CALL || e->n_args != 2 || !e->name) return NULL;
    int op = -1;
    for (int i = 0; i < 6; i++)
        if (strcmp(e->name, ops[i]) == 0) op = i;
    if (op < 0) return NULL;
    int ci = e->args[0]->kind == PL_EXPR_COLUMN ? 0 : 1;
    const pl_expr *col = e->args[ci], *lit = e->args[1 - ci];
    if (col->kind != PL_EXPR_COLUMN || col->index < 0 || col->index >= s->n_fields ||
        s->fields[col->index].type->id != PL_TYPE_DATE32 || lit->kind != PL_EXPR_LITERAL ||
        lit->value.is_null || lit->value.type->id != PL_TYPE_TIMESTAMP || lit->value.type->tz)
        return NULL;
    if (ci == 1 && op < 4) op ^= 2; /* t < d is d > t */
    static const int64_t per_day[] = {86400LL, 86400000LL, 86400000000LL, 86400000000000LL};
    int64_t day = per_day[lit->value.type->unit], t = lit->value.v.i;
    int64_t lo = t / day - (t % day < 0), hi = lo + (t % day != 0); /* floor, ceil */
    if ((op >= 4 && lo != hi) || lo < INT32_MIN || hi > INT32_MAX) return NULL;
    pl_value d;
    pl_value_init_null(&d);
    d.type = pl_type_simple(PL_TYPE_DATE32);
    d.is_null = false;
    d.v.i = op == 0 || op == 3 ? hi : lo; /* lt, ge: ceil; le, gt: floor */
    pl_expr *dl = pl_expr_lit_value(&d);
    if (!dl) return NULL;
    dl->typed_lit = true;
    dl->sql_pos = lit->sql_pos;
    pl_expr *r = pl_expr_call2(ops[op], pl_expr_retain((pl_expr *)col), dl);
    if (r) r->sql_pos = e->sql_pos;
    return r;
}

static pl_status push_down(pl_df *d, conj_list *preds, pl_df **out, pl_error *err) {
    pl_status st = PL_OK;
    switch (d->kind) {
    case PL_PLAN_FILTER: {
        conj_list all = {0};
        for (int32_t i = 0; i < preds->n && !st; i++) st = conj_push(&all, pl_expr_retain(preds->v[i]), err);
        if (!st) st = split_and(d->pred, &all, err);
        for (int32_t i = 0; i < all.n && !st; i++) st = fold_expr(&all.v[i], err);
        /* TRUE conjuncts vanish */
        int32_t k = 0;
        for (int32_t i = 0; i < all.n; i++) {
            pl_expr *e = all.v[i];
            if (is_true_lit(e)) {
                pl_expr_release(e);
                continue;
            }
            all.v[k++] = e;
        }
        all.n = k;
        if (!st) st = push_down(d->inputs[0], &all, out, err);
        conj_free(&all);
        return st;
    }
    case PL_PLAN_SCAN: {
        pl_df *c = scan_copy(d);
        if (!c) return nomem(err);
        conj_list mine = {0};
        if (c->scan_filter) st = conj_push(&mine, c->scan_filter, err);
        c->scan_filter = NULL;
        for (int32_t i = 0; i < preds->n && !st; i++) {
            if (!pl_expr_is_deterministic(preds->v[i])) continue;
            pl_expr *x = date_cmp_narrowed(preds->v[i], c->schema);
            st = conj_push(&mine, x ? x : pl_expr_retain(preds->v[i]), err);
        }
        c->scan_filter = make_and(&mine);
        if (c->scan_filter) c->est_rows = c->est_rows >= 0 ? c->est_rows / 4 : -1;
        conj_free(&mine);
        /* non-deterministic predicates stay above */
        conj_list rest = {0};
        for (int32_t i = 0; i < preds->n && !st; i++)
            if (!pl_expr_is_deterministic(preds->v[i])) st = conj_push(&rest, pl_expr_retain(preds->v[i]), err);
        c = wrap_filter(c, &rest, err, &st);
        conj_free(&rest);
        if (st) {
            pl_df_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    case PL_PLAN_PROJECT: {
        /* a predicate over plain column outputs moves below (remapped) */
        int32_t n = d->n_exprs, nin = d->inputs[0]->schema->n_fields;
        int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(n, 1));
        if (!map) return nomem(err);
        for (int32_t i = 0; i < n; i++) map[i] = d->exprs[i]->kind == PL_EXPR_COLUMN ? d->exprs[i]->index : -1;
        conj_list sub = {0}, below = {0}, above = {0};
        st = subst_constants(d, preds, &sub, err);
        if (!st) st = split_by_map(&sub, map, n, true, &below, &above, err);
        conj_free(&sub);
        PL_UNUSED(nin);
        pl_free(map);
        pl_df *in = NULL;
        if (!st) st = push_down(d->inputs[0], &below, &in, err);
        pl_df *c = NULL;
        if (!st) {
            pl_df *ins[1] = {in};
            c = node_copy(d, ins);
            if (!c) st = nomem(err);
            else {
                c->est_rows = in->est_rows;
                for (int32_t i = 0; i < c->n_exprs && !st; i++) st = fold_expr(&c->exprs[i], err);
            }
        }
        if (!st) c = wrap_filter(c, &above, err, &st);
        conj_free(&below);
        conj_free(&above);
        if (st) {
            pl_df_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    case PL_PLAN_SORT:
    case PL_PLAN_UNION:
    case PL_PLAN_DISTINCT: {
        bool topn = d->kind == PL_PLAN_SORT && d->limit >= 0;
        conj_list mine = {0}, above = {0};
        for (int32_t i = 0; i < preds->n && !st; i++) {
            bool ok = !topn && pl_expr_is_deterministic(preds->v[i]);
            st = conj_push(ok ? &mine : &above, pl_expr_retain(preds->v[i]), err);
        }
        pl_df *ins[2] = {0};
        for (int32_t i = 0; i < d->n_inputs && !st; i++) {
            /* union inputs may have other types: filters reference by position, types of
             * the union are wider; comparisons still hold, so push as is */
            conj_list copy = {0};
            for (int32_t k = 0; k < mine.n && !st; k++) st = conj_push(&copy, pl_expr_retain(mine.v[k]), err);
            if (!st && d->kind == PL_PLAN_UNION &&
                !pl_schema_equals(d->inputs[i]->schema, d->schema)) {
                /* different input types: keep the predicates above instead */
                pl_df *in = NULL;
                st = rewrite(d->inputs[i], &in, err);
                ins[i] = st ? NULL : wrap_filter(in, &copy, err, &st);
            } else if (!st) {
                st = push_down(d->inputs[i], &copy, &ins[i], err);
            }
            conj_free(&copy);
        }
        pl_df *c = NULL;
        if (!st) {
            c = node_copy(d, ins);
            if (!c) st = nomem(err);
            else c->est_rows = c->inputs[0]->est_rows;
        } else {
            pl_df_release(ins[0]);
            pl_df_release(ins[1]);
        }
        if (!st) c = wrap_filter(c, &above, err, &st);
        conj_free(&mine);
        conj_free(&above);
        if (st) {
            pl_df_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    case PL_PLAN_AGGREGATE: {
        /* conjuncts over plain-column keys move below the aggregation */
        int32_t nk = d->n_keys, nout = d->schema->n_fields;
        int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(nout, 1));
        if (!map) return nomem(err);
        for (int32_t i = 0; i < nout; i++)
            map[i] = i < nk && d->keys[i]->kind == PL_EXPR_COLUMN ? d->keys[i]->index : -1;
        conj_list below = {0}, above = {0};
        st = split_by_map(preds, map, nout, nk > 0, &below, &above, err);
        pl_free(map);
        pl_df *in = NULL;
        if (!st) st = push_down(d->inputs[0], &below, &in, err);
        pl_df *c = NULL;
        if (!st) {
            pl_df *ins[1] = {in};
            c = node_copy(d, ins);
            if (!c) st = nomem(err);
            else c->est_rows = in->est_rows >= 0 ? in->est_rows / 10 : -1;
        }
        if (!st) c = wrap_filter(c, &above, err, &st);
        conj_free(&below);
        conj_free(&above);
        if (st) {
            pl_df_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    case PL_PLAN_JOIN: return push_join(d, preds, out, err);
    default: {
        /* LIMIT, WINDOW, TABLE: predicates stay above; inputs are optimized on their own */
        pl_df *ins[2] = {0};
        for (int32_t i = 0; i < d->n_inputs && !st; i++) st = rewrite(d->inputs[i], &ins[i], err);
        pl_df *c = NULL;
        if (!st) {
            c = copy_any(d, d->n_inputs ? ins : NULL);
            if (!c) st = nomem(err);
            else if (d->n_inputs) c->est_rows = c->inputs[0]->est_rows;
        } else {
            pl_df_release(ins[0]);
            pl_df_release(ins[1]);
        }
        if (!st && c && d->kind == PL_PLAN_WINDOW) st = fold_plan(c, err);
        conj_list above = {0};
        for (int32_t i = 0; i < preds->n && !st; i++) st = conj_push(&above, pl_expr_retain(preds->v[i]), err);
        if (!st) c = wrap_filter(c, &above, err, &st);
        conj_free(&above);
        if (st) {
            pl_df_release(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    }
}

/* ---------------------------------------------------------------- 3. projection pushdown */

/* Marks the columns of d's input(s) that d needs given which of d's outputs are used, and
 * narrows scans. Works in place on the optimizer's private copy of the plan: only SCAN nodes
 * change (their cols and schema), and the nodes above are remapped. Returns in map (size =
 * d's output columns) the new index of each output column, -1 when dropped. */
static pl_status prune(pl_df *d, const bool *used, int32_t *map, pl_error *err);

static pl_status remap_exprs(int32_t n, pl_expr **e, const int32_t *map, pl_error *err) {
    for (int32_t i = 0; i < n; i++) {
        if (!e[i]) continue;
        pl_expr *r = pl_expr_remap(e[i], map);
        if (!r) return nomem(err);
        pl_expr_release(e[i]);
        e[i] = r;
    }
    return PL_OK;
}

/* Prunes input k of d given the input columns needed; remaps nothing (caller does). */
static pl_status prune_input(pl_df *d, int32_t k, const bool *need, int32_t *imap, pl_error *err) {
    return prune(d->inputs[k], need, imap, err);
}

static pl_status identity_map(int32_t n, int32_t *map) {
    for (int32_t i = 0; i < n; i++) map[i] = i;
    return PL_OK;
}

static pl_status prune(pl_df *d, const bool *used, int32_t *map, pl_error *err) {
    int32_t nout = d->schema->n_fields;
    pl_status st = PL_OK;
    switch (d->kind) {
    case PL_PLAN_SCAN: {
        /* keep used columns and those of the pushed filter */
        bool *need = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *need);
        if (!need) return nomem(err);
        for (int32_t i = 0; i < nout; i++) need[i] = used[i];
        pl_expr_mark_columns(d->scan_filter, need, nout);
        int32_t k = 0;
        for (int32_t i = 0; i < nout; i++) k += need[i];
        /* columns read only for the filter (a scan that evaluates it need not output them) */
        pl_free(d->scan_fonly);
        d->scan_fonly = NULL;
        bool any_fonly = false;
        for (int32_t i = 0; i < nout && d->scan_filter; i++) any_fonly |= need[i] && !used[i];
        if (any_fonly) {
            if (!(d->scan_fonly = pl_calloc((size_t)PL_MAX(k, 1), 1))) {
                pl_free(need);
                return nomem(err);
            }
            for (int32_t i = 0, j = 0; i < nout; i++)
                if (need[i]) d->scan_fonly[j++] = !used[i];
        }
        if (k == 0 && nout > 0) { /* count(*): read the narrowest column for row counts */
            int32_t best = 0, bw = 1 << 30;
            for (int32_t i = 0; i < nout; i++) {
                int32_t w = pl_type_bit_width(d->schema->fields[i].type);
                if (w > 0 && w < bw) {
                    bw = w;
                    best = i;
                }
            }
            need[best] = true;
            k = 1;
        }
        if (k == nout) {
            pl_free(need);
            return identity_map(nout, map);
        }
        int32_t *cols = pl_malloc(sizeof *cols * (size_t)PL_MAX(k, 1));
        pl_field *f = pl_calloc((size_t)PL_MAX(k, 1), sizeof *f);
        if (!cols || !f) {
            pl_free(cols);
            pl_free(f);
            pl_free(need);
            return nomem(err);
        }
        int32_t j = 0;
        for (int32_t i = 0; i < nout; i++) {
            map[i] = need[i] ? j : -1;
            if (need[i]) {
                cols[j] = d->n_cols >= 0 ? d->cols[i] : i;
                f[j] = d->schema->fields[i];
                j++;
            }
        }
        pl_schema *s = NULL;
        st = pl_schema_new(k, f, &s, err);
        pl_free(f);
        if (!st && d->qualifiers) {
            char **q = pl_calloc((size_t)PL_MAX(k, 1), sizeof *q);
            if (!q) st = nomem(err);
            for (int32_t i = 0; i < nout && q; i++) {
                if (map[i] >= 0) q[map[i]] = d->qualifiers[i];
                else pl_free(d->qualifiers[i]);
            }
            if (q) {
                pl_free(d->qualifiers);
                d->qualifiers = q;
            }
        }
        if (st) {
            pl_free(cols);
            pl_free(need);
            return st;
        }
        pl_schema_release(d->schema);
        d->schema = s;
        pl_free(d->cols);
        d->cols = cols;
        d->n_cols = k;
        if (d->scan_filter) {
            pl_expr *r = pl_expr_remap(d->scan_filter, map);
            if (!r) st = nomem(err);
            else {
                pl_expr_release(d->scan_filter);
                d->scan_filter = r;
            }
        }
        pl_free(need);
        return st;
    }
    case PL_PLAN_PROJECT: {
        /* unused outputs are dropped (the parent is remapped through map); at least one
         * column stays so batches keep their row counts */
        int32_t nin = d->inputs[0]->schema->n_fields;
        bool *keep = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *keep);
        bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
        int32_t *imap = pl_malloc(sizeof *imap * (size_t)PL_MAX(nin, 1));
        if (!keep || !need || !imap) st = nomem(err);
        int32_t k = 0;
        for (int32_t i = 0; i < nout && !st; i++) k += keep[i] = used[i];
        if (!st && k == 0 && nout > 0) {
            /* the cheapest output: a column reference, else the first */
            int32_t pick = 0;
            for (int32_t i = nout - 1; i >= 0; i--)
                if (d->exprs[i]->kind == PL_EXPR_COLUMN) pick = i;
            keep[pick] = true;
            k = 1;
        }
        for (int32_t i = 0; i < nout && !st; i++)
            if (keep[i]) pl_expr_mark_columns(d->exprs[i], need, nin);
        if (!st) st = prune_input(d, 0, need, imap, err);
        if (!st) st = remap_exprs(d->n_exprs, d->exprs, imap, err);
        if (!st && k < nout) {
            pl_field *f = pl_calloc((size_t)PL_MAX(k, 1), sizeof *f);
            char **q = d->qualifiers ? pl_calloc((size_t)PL_MAX(k, 1), sizeof *q) : NULL;
            pl_schema *ns = NULL;
            if (!f || (d->qualifiers && !q)) st = nomem(err);
            int32_t j = 0;
            for (int32_t i = 0; i < nout && !st; i++) {
                if (!keep[i]) {
                    map[i] = -1;
                    pl_expr_release(d->exprs[i]);
                    if (d->qualifiers) pl_free(d->qualifiers[i]);
                    continue;
                }
                map[i] = j;
                f[j] = d->schema->fields[i];
                if (q) q[j] = d->qualifiers[i];
                d->exprs[j++] = d->exprs[i];
            }
            if (!st) st = pl_schema_new(k, f, &ns, err);
            pl_free(f);
            if (!st) {
                d->n_exprs = k;
                pl_schema_release(d->schema);
                d->schema = ns;
                pl_free(d->qualifiers);
                d->qualifiers = q;
            } else {
                pl_free(q);
            }
        } else if (!st) {
            identity_map(nout, map);
        }
        pl_free(keep);
        pl_free(need);
        pl_free(imap);
        return st;
    }
    case PL_PLAN_FILTER: {
        int32_t nin = d->inputs[0]->schema->n_fields;
        bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
        if (!need) return nomem(err);
        for (int32_t i = 0; i < nin; i++) need[i] = used[i];
        pl_expr_mark_columns(d->pred, need, nin);
        st = prune_input(d, 0, need, map, err);
        pl_free(need);
        if (st) return st;
        pl_expr *r = pl_expr_remap(d->pred, map);
        if (!r) return nomem(err);
        pl_expr_release(d->pred);
        d->pred = r;
        /* the filter's schema follows its input */
        pl_schema_release(d->schema);
        d->schema = pl_schema_retain(d->inputs[0]->schema);
        if (d->qualifiers) {
            for (int32_t i = 0; i < nin; i++) pl_free(d->qualifiers[i]);
            pl_free(d->qualifiers);
            d->qualifiers = NULL;
        }
        return PL_OK;
    }
    case PL_PLAN_LIMIT:
    case PL_PLAN_SORT: {
        int32_t nin = d->inputs[0]->schema->n_fields;
        bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
        if (!need) return nomem(err);
        for (int32_t i = 0; i < nin; i++) need[i] = used[i];
        for (int32_t k = 0; d->kind == PL_PLAN_SORT && k < d->n_keys; k++)
            pl_expr_mark_columns(d->sort_keys[k].expr, need, nin);
        st = prune_input(d, 0, need, map, err);
        pl_free(need);
        if (st) return st;
        for (int32_t k = 0; d->kind == PL_PLAN_SORT && k < d->n_keys; k++) {
            pl_expr *r = pl_expr_remap(d->sort_keys[k].expr, map);
            if (!r) return nomem(err);
            pl_expr_release(d->sort_keys[k].expr);
            d->sort_keys[k].expr = r;
        }
        pl_schema_release(d->schema);
        d->schema = pl_schema_retain(d->inputs[0]->schema);
        if (d->qualifiers) {
            for (int32_t i = 0; i < nin; i++) pl_free(d->qualifiers[i]);
            pl_free(d->qualifiers);
            d->qualifiers = NULL;
        }
        return PL_OK;
    }
    case PL_PLAN_AGGREGATE: {
        int32_t nin = d->inputs[0]->schema->n_fields;
        bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
        int32_t *imap = pl_malloc(sizeof *imap * (size_t)PL_MAX(nin, 1));
        if (!need || !imap) st = nomem(err);
        for (int32_t i = 0; i < d->n_keys && !st; i++) pl_expr_mark_columns(d->keys[i], need, nin);
        for (int32_t i = 0; i < d->n_exprs && !st; i++) pl_expr_mark_columns(d->exprs[i], need, nin);
        if (!st) st = prune_input(d, 0, need, imap, err);
        if (!st) st = remap_exprs(d->n_keys, d->keys, imap, err);
        if (!st) st = remap_exprs(d->n_exprs, d->exprs, imap, err);
        pl_free(need);
        pl_free(imap);
        if (!st) identity_map(nout, map);
        return st;
    }
    case PL_PLAN_JOIN: {
        pl_df *l = d->inputs[0], *r = d->inputs[1];
        int32_t nl = l->schema->n_fields, nr = r->schema->n_fields;
        bool semi = d->join_type == PL_JOIN_SEMI || d->join_type == PL_JOIN_ANTI;
        bool *need = pl_calloc((size_t)PL_MAX(nl + nr, 1), sizeof *need);
        int32_t *imap = pl_malloc(sizeof *imap * (size_t)PL_MAX(nl + nr, 1));
        if (!need || !imap) st = nomem(err);
        for (int32_t i = 0; i < nout && !st; i++) need[i] = used[i];
        for (int32_t i = 0; i < d->n_keys && !st; i++) {
            pl_expr_mark_columns(d->keys[i], need, nl);
            pl_expr_mark_columns(d->right_keys[i], need + nl, nr);
        }
        if (!st) pl_expr_mark_columns(d->residual, need, nl + nr);
        if (!st) st = prune_input(d, 0, need, imap, err);
        if (!st) st = prune_input(d, 1, need + nl, imap + nl, err);
        if (!st) {
            int32_t nl2 = d->inputs[0]->schema->n_fields;
            st = remap_exprs(d->n_keys, d->keys, imap, err);
            if (!st) st = remap_exprs(d->n_keys, d->right_keys, imap + nl, err);
            /* combined map for the residual and the output */
            int32_t *cmap = pl_malloc(sizeof *cmap * (size_t)PL_MAX(nl + nr, 1));
            if (!cmap && !st) st = nomem(err);
            for (int32_t i = 0; i < nl + nr && cmap; i++)
                cmap[i] = i < nl ? imap[i] : (imap[i] < 0 ? -1 : nl2 + imap[i]);
            if (!st && d->residual) {
                pl_expr *x = pl_expr_remap(d->residual, cmap);
                if (!x) st = nomem(err);
                else {
                    pl_expr_release(d->residual);
                    d->residual = x;
                }
            }
            for (int32_t i = 0; i < nout && cmap; i++) map[i] = cmap[i];
            if (!st) {
                /* the join's schema: the narrowed inputs' columns */
                pl_df *L = d->inputs[0], *R = d->inputs[1];
                int32_t n = L->schema->n_fields + (semi ? 0 : R->schema->n_fields);
                pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
                char **q = pl_calloc((size_t)PL_MAX(n, 1), sizeof *q);
                if (!f || !q) st = nomem(err);
                for (int32_t i = 0; i < nout && !st; i++)
                    if (map[i] >= 0) {
                        f[map[i]] = d->schema->fields[i];
                        if (d->qualifiers && d->qualifiers[i]) q[map[i]] = pl_strdup(d->qualifiers[i]);
                    }
                /* columns kept only for keys/residual are still output by the join */
                for (int32_t i = 0; i < n && !st; i++) {
                    if (f[i].name) continue;
                    bool in_l = i < L->schema->n_fields;
                    f[i] = in_l ? L->schema->fields[i] : R->schema->fields[i - L->schema->n_fields];
                }
                pl_schema *s = NULL;
                if (!st) st = pl_schema_new(n, f, &s, err);
                pl_free(f);
                if (!st) {
                    pl_schema_release(d->schema);
                    d->schema = s;
                    if (d->qualifiers)
                        for (int32_t i = 0; i < nout; i++) pl_free(d->qualifiers[i]);
                    pl_free(d->qualifiers);
                    d->qualifiers = q;
                } else {
                    for (int32_t i = 0; i < n && q; i++) pl_free(q[i]);
                    pl_free(q);
                }
            }
            pl_free(cmap);
        }
        pl_free(need);
        pl_free(imap);
        return st;
    }
    case PL_PLAN_WINDOW: {
        /* outputs: the input's columns, then one per window expression (all kept). Input
         * columns that are neither used above nor read by a window expression are dropped. */
        int32_t nin = d->inputs[0]->schema->n_fields;
        bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
        int32_t *imap = pl_malloc(sizeof *imap * (size_t)PL_MAX(nin, 1));
        if (!need || !imap) st = nomem(err);
        for (int32_t i = 0; i < nin && !st; i++) need[i] = used[i];
        for (int32_t i = 0; i < d->n_exprs && !st; i++) pl_expr_mark_columns(d->exprs[i], need, nin);
        if (!st) st = prune_input(d, 0, need, imap, err);
        if (!st) st = remap_exprs(d->n_exprs, d->exprs, imap, err);
        int32_t nin2 = st ? 0 : d->inputs[0]->schema->n_fields;
        if (!st && nin2 < nin) {
            int32_t n = nin2 + d->n_exprs;
            pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
            char **q = d->qualifiers ? pl_calloc((size_t)PL_MAX(n, 1), sizeof *q) : NULL;
            pl_schema *ns = NULL;
            if (!f || (d->qualifiers && !q)) st = nomem(err);
            for (int32_t i = 0; i < nout && !st; i++) {
                map[i] = i < nin ? imap[i] : nin2 + (i - nin);
                if (map[i] < 0) continue;
                f[map[i]] = d->schema->fields[i];
                if (q) q[map[i]] = d->qualifiers[i];
            }
            if (!st) st = pl_schema_new(n, f, &ns, err);
            pl_free(f);
            if (!st) {
                pl_schema_release(d->schema);
                d->schema = ns;
                for (int32_t i = 0; i < nout && d->qualifiers; i++)
                    if (map[i] < 0) pl_free(d->qualifiers[i]);
                pl_free(d->qualifiers);
                d->qualifiers = q;
            } else {
                pl_free(q);
            }
        } else if (!st) {
            identity_map(nout, map);
        }
        pl_free(need);
        pl_free(imap);
        return st;
    }
    default: {
        /* DISTINCT, UNION, TABLE: every input column is needed */
        for (int32_t k = 0; k < d->n_inputs && !st; k++) {
            int32_t nin = d->inputs[k]->schema->n_fields;
            bool *need = pl_calloc((size_t)PL_MAX(nin, 1), sizeof *need);
            int32_t *imap = pl_malloc(sizeof *imap * (size_t)PL_MAX(nin, 1));
            if (!need || !imap) st = nomem(err);
            for (int32_t i = 0; i < nin && need; i++) need[i] = true;
            if (!st) st = prune_input(d, k, need, imap, err);
            pl_free(need);
            pl_free(imap);
        }
        if (!st) identity_map(nout, map);
        return st;
    }
    }
}

/* Deep-copies the plan so prune can edit nodes in place (shared subplans get their own
 * copies). */
pl_status pl_plan_deep_copy(pl_df *d, pl_df **out, pl_error *err) {
    pl_df *ins[2] = {0};
    for (int32_t i = 0; i < d->n_inputs; i++) {
        pl_status st = pl_plan_deep_copy(d->inputs[i], &ins[i], err);
        if (st) {
            pl_df_release(ins[0]);
            return st;
        }
    }
    pl_df *c = copy_any(d, d->n_inputs ? ins : NULL);
    if (!c) return nomem(err);
    *out = c;
    return PL_OK;
}

/* ---------------------------------------------------------------- 4. limits */

static pl_status push_limits(pl_df *d, pl_error *err) {
    for (int32_t i = 0; i < d->n_inputs; i++) PL_TRY(push_limits(d->inputs[i], err));
    if (d->kind != PL_PLAN_LIMIT || d->limit < 0) return PL_OK;
    pl_df *in = d->inputs[0];
    if (in->kind == PL_PLAN_SORT && in->limit < 0) {
        in->limit = d->limit;
        in->offset = d->offset;
        d->offset = 0; /* the sort now yields exactly rows [offset, offset+limit) */
        return PL_OK;
    }
    /* through projections to a filter-free scan */
    int64_t want = d->offset + d->limit;
    while (in->kind == PL_PLAN_PROJECT) in = in->inputs[0];
    if (in->kind == PL_PLAN_SCAN && !in->scan_filter &&
        (in->scan_limit < 0 || in->scan_limit > want))
        in->scan_limit = want;
    return PL_OK;
}

/* ---------------------------------------------------------------- driver */

pl_status pl_plan_optimize(pl_df *df, pl_df **out, pl_error *err) {
    pl_df *a = NULL, *b = NULL;
    PL_TRY(rewrite(df, &a, err));
    pl_status st = pl_plan_deep_copy(a, &b, err);
    pl_df_release(a);
    if (st) return st;
    st = pl_plan_join_order(&b, err);
    if (st) {
        pl_df_release(b);
        return st;
    }
    int32_t n = b->schema->n_fields;
    bool *used = pl_calloc((size_t)PL_MAX(n, 1), sizeof *used);
    int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(n, 1));
    if (!used || !map) st = nomem(err);
    for (int32_t i = 0; i < n && used; i++) used[i] = true;
    if (!st) st = prune(b, used, map, err);
    pl_free(used);
    pl_free(map);
    if (!st) st = push_limits(b, err);
    if (!st) st = pl_plan_count_from_metadata(&b, err);
    if (st) {
        pl_df_release(b);
        return st;
    }
    *out = b;
    return PL_OK;
}
