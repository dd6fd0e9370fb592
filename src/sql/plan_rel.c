/* plan_rel.c - relations (a pl_df plus per-column SQL facts), finalisation of column references
 * and small helpers over pl_df and pl_expr trees for the SQL planner. */
#include "sql/plan_int.h"

#include <stdio.h>
#include <strings.h>

/* ---------------------------------------------------------------- errors */

pl_status sq_fail(pl_error *err, pl_status code, int32_t pos, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl_error_setv(err, code, fmt, ap);
    va_end(ap);
    if (err) err->sql_pos = pos;
    return code;
}

pl_status sq_at(pl_error *err, pl_status st, int32_t pos) {
    if (st != PL_OK && err && err->sql_pos < 0 && pos >= 0) err->sql_pos = pos;
    return st;
}

/* ---------------------------------------------------------------- test catalog */

static sq_lookup_fn g_test_lookup;
static void *g_test_user;

void pl_sql_set_test_catalog(sq_lookup_fn fn, void *user) {
    g_test_lookup = fn;
    g_test_user = user;
}

pl_df *sq_lookup_table(sq_ctx *ctx, const char *name) {
    if (ctx->s) return pl_session_lookup(ctx->s, name);
    if (g_test_lookup) return g_test_lookup(g_test_user, name);
    return NULL;
}

/* ---------------------------------------------------------------- relations */

pl_status sq_rel_init(sq_rel *r, pl_df *df, pl_error *err) {
    memset(r, 0, sizeof *r);
    r->df = df;
    int32_t n = pl_df_schema(df)->n_fields;
    r->n_cols = n;
    size_t k = (size_t)(n > 0 ? n : 1);
    r->hidden = pl_calloc(k, sizeof(bool));
    r->constant = pl_calloc(k, sizeof(bool));
    r->star_expr = pl_calloc(k, sizeof(pl_expr *));
    if (!r->hidden || !r->constant || !r->star_expr) {
        sq_rel_reset(r);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    }
    return PL_OK;
}

void sq_rel_reset(sq_rel *r) {
    if (r->star_expr)
        for (int32_t i = 0; i < r->n_cols; i++) pl_expr_release(r->star_expr[i]);
    for (int32_t i = 0; i < r->n_using; i++) {
        pl_free(r->using_names[i]);
        pl_expr_release(r->using_exprs[i]);
    }
    pl_free(r->using_names);
    pl_free(r->using_exprs);
    for (int32_t i = 0; i < r->n_alts; i++) {
        pl_free(r->alts[i].qual);
        pl_free(r->alts[i].name);
    }
    pl_free(r->alts);
    pl_free(r->hidden);
    pl_free(r->constant);
    pl_free(r->star_expr);
    if (r->df) pl_df_release(r->df);
    memset(r, 0, sizeof *r);
}

pl_status sq_rel_add_alt(sq_rel *r, const char *qual, const char *name, int32_t col,
                         pl_error *err) {
    struct sq_alt *v = pl_realloc(r->alts, (size_t)(r->n_alts + 1) * sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    r->alts = v;
    char *q = qual ? pl_strdup(qual) : NULL, *n = pl_strdup(name);
    if ((qual && !q) || !n) {
        pl_free(q);
        pl_free(n);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    }
    v[r->n_alts].qual = q;
    v[r->n_alts].name = n;
    v[r->n_alts].col = col;
    r->n_alts++;
    return PL_OK;
}

pl_status sq_rel_extend(sq_rel *r, pl_df *df, bool hidden, bool constant, pl_error *err) {
    int32_t n = pl_df_schema(df)->n_fields;
    size_t k = (size_t)(n > 0 ? n : 1);
    bool *h = pl_realloc(r->hidden, k * sizeof(bool));
    if (h) r->hidden = h;
    bool *c = h ? pl_realloc(r->constant, k * sizeof(bool)) : NULL;
    if (c) r->constant = c;
    pl_expr **se = c ? pl_realloc(r->star_expr, k * sizeof(pl_expr *)) : NULL;
    if (se) r->star_expr = se;
    if (!se) {
        pl_df_release(df);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    }
    for (int32_t i = r->n_cols; i < n; i++) {
        r->hidden[i] = hidden;
        r->constant[i] = constant;
        r->star_expr[i] = NULL;
    }
    pl_df_release(r->df);
    r->df = df;
    r->n_cols = n;
    return PL_OK;
}

const char *sq_rel_name(const sq_rel *r, int32_t i) { return pl_df_schema(r->df)->fields[i].name; }
const char *sq_rel_qual(const sq_rel *r, int32_t i) { return pl_df_column_qualifier(r->df, i); }

static pl_expr *set_pos(pl_expr *e, int32_t pos) {
    if (e) e->sql_pos = pos;
    return e;
}

pl_expr *sq_colref(const sq_rel *r, int32_t i, int32_t pos) {
    const char *q = sq_rel_qual(r, i);
    pl_expr *e = q ? pl_expr_col_qualified(q, sq_rel_name(r, i)) : pl_expr_col(sq_rel_name(r, i));
    if (e) e->index = i;
    return set_pos(e, pos);
}

/* ---------------------------------------------------------------- tree walking */

typedef pl_status (*slot_fn)(pl_expr **slot, void *user, pl_error *err);

static pl_status for_children(pl_expr *e, slot_fn fn, void *user, pl_error *err) {
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(fn(&e->args[i], user, err));
    if (e->filter) PL_TRY(fn(&e->filter, user, err));
    for (int32_t i = 0; i < e->n_order; i++) PL_TRY(fn(&e->order[i].expr, user, err));
    for (int32_t i = 0; i < e->n_partition; i++) PL_TRY(fn(&e->partition[i], user, err));
    return PL_OK;
}

static bool any_node(const pl_expr *e, bool (*pred)(const pl_expr *, const void *),
                     const void *user) {
    if (!e) return false;
    if (pred(e, user)) return true;
    for (int32_t i = 0; i < e->n_args; i++)
        if (any_node(e->args[i], pred, user)) return true;
    if (any_node(e->filter, pred, user)) return true;
    for (int32_t i = 0; i < e->n_order; i++)
        if (any_node(e->order[i].expr, pred, user)) return true;
    for (int32_t i = 0; i < e->n_partition; i++)
        if (any_node(e->partition[i], pred, user)) return true;
    return false;
}

static bool pred_ref(const pl_expr *e, const void *user) {
    int kind = *(const int *)user;
    if (e->kind != PL_EXPR_COLUMN) return false;
    if (kind == 2) return e->index <= SQ_PRE_BASE && e->index > SQ_OUTER_BASE;
    return kind == 0 ? e->index >= 0 : e->index <= SQ_OUTER_BASE;
}
bool sq_has_ref(const pl_expr *e, int kind) { return any_node(e, pred_ref, &kind); }

static bool pred_kind(const pl_expr *e, const void *user) {
    return e->kind == *(const pl_expr_kind *)user;
}
bool sq_has_kind(const pl_expr *e, pl_expr_kind kind) { return any_node(e, pred_kind, &kind); }

typedef struct range_acc {
    int32_t lo, hi;
} range_acc;
static bool pred_range(const pl_expr *e, const void *user) {
    range_acc *acc = (range_acc *)(uintptr_t)user;
    if (e->kind == PL_EXPR_COLUMN && e->index >= 0) {
        if (acc->lo < 0 || e->index < acc->lo) acc->lo = e->index;
        if (e->index > acc->hi) acc->hi = e->index;
    }
    return false;
}
void sq_ref_range(const pl_expr *e, int32_t *lo, int32_t *hi) {
    range_acc acc = {-1, -1};
    any_node(e, pred_range, &acc);
    *lo = acc.lo;
    *hi = acc.hi;
}

static bool value_equal(const pl_value *a, const pl_value *b) {
    if (a->is_null != b->is_null) return false;
    if (!pl_type_equals(a->type, b->type)) return false;
    if (a->is_null) return true;
    if (a->str || b->str)
        return a->str && b->str && a->str_len == b->str_len &&
               memcmp(a->str, b->str, (size_t)a->str_len) == 0;
    return memcmp(&a->v, &b->v, sizeof a->v) == 0;
}

static bool str_eq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

bool sq_expr_equal(const pl_expr *a, const pl_expr *b) {
    if (a == b) return true;
    if (!a || !b) return false;
    if (a->kind != b->kind || a->n_args != b->n_args) return false;
    switch (a->kind) {
    case PL_EXPR_COLUMN:
        if (a->index >= 0 || b->index >= 0 || a->index <= SQ_OUTER_BASE)
            return a->index == b->index;
        return str_eq(a->name, b->name) && str_eq(a->qualifier, b->qualifier);
    case PL_EXPR_LITERAL:
        return value_equal(&a->value, &b->value);
    case PL_EXPR_CAST:
        if (a->try_cast != b->try_cast || !pl_type_equals(a->cast_type, b->cast_type)) return false;
        break;
    default:
        if (!str_eq(a->name, b->name) || a->distinct != b->distinct ||
            a->n_order != b->n_order || a->n_partition != b->n_partition ||
            a->ignore_nulls != b->ignore_nulls)
            return false;
        if (!sq_expr_equal(a->filter, b->filter)) return false;
        for (int32_t i = 0; i < a->n_order; i++)
            if (a->order[i].descending != b->order[i].descending ||
                a->order[i].nulls_first != b->order[i].nulls_first ||
                !sq_expr_equal(a->order[i].expr, b->order[i].expr))
                return false;
        for (int32_t i = 0; i < a->n_partition; i++)
            if (!sq_expr_equal(a->partition[i], b->partition[i])) return false;
        if (a->kind == PL_EXPR_WINDOW) {
            const pl_window_frame *fa = &a->frame, *fb = &b->frame;
            if (fa->present != fb->present) return false;
            if (fa->present &&
                (fa->unit != fb->unit || fa->start_kind != fb->start_kind ||
                 fa->end_kind != fb->end_kind || fa->exclude != fb->exclude ||
                 !value_equal(&fa->start_offset, &fb->start_offset) ||
                 !value_equal(&fa->end_offset, &fb->end_offset)))
                return false;
        }
        break;
    }
    for (int32_t i = 0; i < a->n_args; i++)
        if (!sq_expr_equal(a->args[i], b->args[i])) return false;
    return true;
}

/* ---------------------------------------------------------------- finalising */

typedef struct fin_ctx {
    const pl_df *a, *b;
    int32_t na;
} fin_ctx;

static void col_at(const fin_ctx *f, int32_t i, const char **name, const char **qual) {
    if (i < f->na) {
        *name = pl_df_schema(f->a)->fields[i].name;
        *qual = pl_df_column_qualifier(f->a, i);
    } else {
        *name = pl_df_schema(f->b)->fields[i - f->na].name;
        *qual = pl_df_column_qualifier(f->b, i - f->na);
    }
}

static pl_status fin_slot(pl_expr **slot, void *user, pl_error *err) {
    fin_ctx *f = user;
    pl_expr *e = *slot;
    if (e->kind != PL_EXPR_COLUMN) return for_children(e, fin_slot, user, err);
    if (e->index <= SQ_OUTER_BASE)
        return sq_fail(err, PL_ERR_UNSUPPORTED, e->sql_pos,
                       "correlated reference to \"%s\" in an unsupported position", e->name);
    if (e->index < 0) return PL_OK;
    int32_t n = f->na + (f->b ? pl_df_schema(f->b)->n_fields : 0);
    if (e->index >= n)
        return sq_fail(err, PL_ERR_INTERNAL, e->sql_pos, "column index %d out of range",
                       (int)e->index);
    const char *name, *qual;
    col_at(f, e->index, &name, &qual);
    int32_t matches = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *n2, *q2;
        col_at(f, i, &n2, &q2);
        if (strcasecmp(n2, name) != 0) continue;
        if (qual && !(q2 && strcasecmp(q2, qual) == 0)) continue;
        matches++;
    }
    char *nn = pl_strdup(name);
    char *nq = qual ? pl_strdup(qual) : NULL;
    if (!nn || (qual && !nq)) {
        pl_free(nn);
        pl_free(nq);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    }
    pl_free(e->name);
    pl_free(e->qualifier);
    e->name = nn;
    e->qualifier = nq;
    if (matches == 1) e->index = -1;
    return PL_OK;
}

pl_status sq_finalize(const pl_expr *e, const pl_df *a, const pl_df *b, pl_expr **out,
                      pl_error *err) {
    pl_expr *c = pl_expr_clone(e);
    if (!c) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    fin_ctx f = {a, b, pl_df_schema(a)->n_fields};
    pl_status st = fin_slot(&c, &f, err);
    if (st) {
        pl_expr_release(c);
        return st;
    }
    *out = c;
    return PL_OK;
}

typedef struct shift_ctx {
    int32_t from, delta;
} shift_ctx;
static pl_status shift_slot(pl_expr **slot, void *user, pl_error *err) {
    shift_ctx *s = user;
    pl_expr *e = *slot;
    if (e->kind == PL_EXPR_COLUMN) {
        if (e->index >= s->from) e->index += s->delta;
        return PL_OK;
    }
    return for_children(e, shift_slot, user, err);
}

pl_expr *sq_shift(const pl_expr *e, int32_t from, int32_t delta) {
    pl_expr *c = pl_expr_clone(e);
    if (!c) return NULL;
    shift_ctx s = {from, delta};
    (void)shift_slot(&c, &s, NULL);
    return c;
}

/* ---------------------------------------------------------------- DataFrame helpers */

pl_status sq_rel_filter(sq_rel *r, const pl_expr *pred, pl_error *err) {
    pl_expr *f = NULL;
    PL_TRY(sq_finalize(pred, r->df, NULL, &f, err));
    pl_df *out = NULL;
    pl_status st = pl_df_filter(r->df, f, &out, err);
    int32_t pos = f->sql_pos;
    pl_expr_release(f);
    if (st) return sq_at(err, st, pos);
    pl_df_release(r->df);
    r->df = out;
    return PL_OK;
}

pl_status sq_join_append(sq_rel *r, pl_df *right, pl_join_type type, int32_t n_keys,
                         pl_expr *const *lkeys, pl_expr *const *rkeys, const pl_expr *resid,
                         bool null_equal, const bool *key_ne, int32_t pos, pl_error *err) {
    pl_status st = PL_OK;
    pl_expr **lk = NULL, **rk = NULL;
    pl_expr *res = NULL;
    int32_t n_done = 0;
    if (n_keys > 0) {
        lk = pl_calloc((size_t)n_keys, sizeof *lk);
        rk = pl_calloc((size_t)n_keys, sizeof *rk);
        if (!lk || !rk) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory planning SQL");
            goto done;
        }
    }
    for (; n_done < n_keys; n_done++) {
        st = sq_finalize(lkeys[n_done], r->df, NULL, &lk[n_done], err);
        if (st) goto done;
        st = sq_finalize(rkeys[n_done], right, NULL, &rk[n_done], err);
        if (st) {
            pl_expr_release(lk[n_done]);
            goto done;
        }
    }
    if (resid) {
        st = sq_finalize(resid, r->df, right, &res, err);
        if (st) goto done;
    }
    pl_join_opts opts = {null_equal, res, key_ne, PL_ASOF_GE};
    pl_df *out = NULL;
    st = pl_df_join(r->df, right, type, n_keys, lk, rk, &opts, &out, err);
    if (st) {
        st = sq_at(err, st, pos);
        goto done;
    }
    bool is_semi = type == PL_JOIN_SEMI || type == PL_JOIN_ANTI;
    if (is_semi) {
        pl_df_release(r->df);
        r->df = out;
    } else {
        st = sq_rel_extend(r, out, false, false, err);
    }
done:
    for (int32_t i = 0; i < n_done; i++) {
        pl_expr_release(lk[i]);
        pl_expr_release(rk[i]);
    }
    pl_free(lk);
    pl_free(rk);
    pl_expr_release(res);
    pl_df_release(right);
    return st;
}

pl_status sq_dual(pl_df **out, pl_error *err) {
    pl_builder *b = NULL;
    pl_array *arr = NULL;
    pl_schema *schema = NULL;
    pl_batch *batch = NULL;
    pl_table *t = NULL;
    pl_status st = pl_builder_new(pl_type_simple(PL_TYPE_INT32), 1, &b, err);
    if (!st) st = pl_builder_append_i64(b, 0, err);
    if (!st) st = pl_builder_finish(b, &arr, err);
    if (!st) {
        pl_field f = {(char *)"__dual", pl_type_simple(PL_TYPE_INT32), false};
        st = pl_schema_new(1, &f, &schema, err);
    }
    if (!st) {
        pl_schema_retain(schema);
        st = pl_batch_new(schema, 1, &arr, &batch, err); /* takes schema and arr */
        arr = NULL;
    }
    if (!st) st = pl_table_new(schema, &t, err);
    if (!st) st = pl_table_append(t, batch, err);
    if (!st) st = pl_df_from_table(t, out, err);
    if (b) pl_builder_free(b);
    if (arr) pl_array_release(arr);
    if (batch) pl_batch_release(batch);
    if (t) pl_table_release(t);
    if (schema) pl_schema_release(schema);
    return st;
}
