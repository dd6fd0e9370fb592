/* prune.c - row-group pruning: a Parquet scan's pushed-down filter is checked against each row
 * group's column statistics (min, max, null count); row groups whose statistics prove that no
 * row can pass are not read, and files with no row group left are not opened for data.
 *
 * Conjuncts understood: col OP literal and literal OP col (OP: = < <= > >=), col BETWEEN lit
 * AND lit, col IN (lits), col IS NULL, col IS NOT NULL, for top-level primitive columns of
 * integer, float, date, timestamp and string types. Anything else keeps the row group. */
#include <math.h>

#include "plan/plan.h"
#include "polaroid/parquet.h"

typedef enum cmp_kind { C_NONE, C_INT, C_DBL, C_STR } cmp_kind;

/* A comparable scalar: ints exact, doubles, strings. */
typedef struct cval {
    cmp_kind k;
    int64_t i;
    double d;
    const uint8_t *s;
    int64_t n;
} cval;

static int64_t unit_scale(pl_time_unit u) {
    static const int64_t per_s[] = {1, 1000, 1000000, 1000000000};
    return per_s[u];
}

/* The literal as a comparable of the column's kind; false when not comparable. */
static bool lit_val(const pl_value *v, const pl_type *col, cval *out) {
    if (v->is_null || !v->type) return false;
    pl_type_id ct = col->id == PL_TYPE_DICTIONARY ? col->value_type->id : col->id;
    pl_type_id lt = v->type->id;
    switch (ct) {
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
        if (lt != PL_TYPE_UTF8 && lt != PL_TYPE_BINARY) return false;
        *out = (cval){.k = C_STR, .s = (const uint8_t *)v->str, .n = v->str_len};
        return true;
    case PL_TYPE_TIMESTAMP:
        if (lt != PL_TYPE_TIMESTAMP) return false;
        {
            /* to the column's unit (exact only when it scales up or divides evenly) */
            int64_t from = unit_scale(v->type->unit), to = unit_scale(col->unit);
            int64_t x = v->v.i;
            if (to >= from) {
                if (__builtin_mul_overflow(x, to / from, &x)) return false;
            } else if (x % (from / to) != 0) {
                return false;
            } else {
                x /= from / to;
            }
            *out = (cval){.k = C_INT, .i = x};
            return true;
        }
    case PL_TYPE_DATE32:
        if (lt != PL_TYPE_DATE32) return false;
        *out = (cval){.k = C_INT, .i = v->v.i};
        return true;
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64:
        if (lt >= PL_TYPE_INT8 && lt <= PL_TYPE_INT64) *out = (cval){.k = C_INT, .i = v->v.i};
        else if (lt >= PL_TYPE_UINT8 && lt <= PL_TYPE_UINT64 && v->v.u <= INT64_MAX)
            *out = (cval){.k = C_INT, .i = (int64_t)v->v.u};
        else if (lt == PL_TYPE_FLOAT32 || lt == PL_TYPE_FLOAT64) {
            if (isnan(v->v.f)) return false;
            *out = (cval){.k = C_DBL, .d = v->v.f};
        } else return false;
        return true;
    default: return false;
    }
}

static bool stat_val(const pl_pq_value *p, cval *out) {
    switch (p->kind) {
    case PL_PQ_VALUE_INT: *out = (cval){.k = C_INT, .i = p->i}; return true;
    case PL_PQ_VALUE_UINT:
        if (p->u > INT64_MAX) return false;
        *out = (cval){.k = C_INT, .i = (int64_t)p->u};
        return true;
    case PL_PQ_VALUE_DOUBLE:
        if (isnan(p->d)) return false;
        *out = (cval){.k = C_DBL, .d = p->d};
        return true;
    case PL_PQ_VALUE_BYTES: *out = (cval){.k = C_STR, .s = p->bytes, .n = p->len}; return true;
    default: return false;
    }
}

/* Compares a with b: <0, 0, >0; *ok false when not comparable. */
static int cmp(const cval *a, const cval *b, bool *ok) {
    *ok = true;
    if (a->k == C_STR || b->k == C_STR) {
        if (a->k != b->k) {
            *ok = false;
            return 0;
        }
        int r = memcmp(a->s, b->s, (size_t)PL_MIN(a->n, b->n));
        if (r) return r < 0 ? -1 : 1;
        return (a->n > b->n) - (a->n < b->n);
    }
    if (a->k == C_INT && b->k == C_INT) return (a->i > b->i) - (a->i < b->i);
    double x = a->k == C_INT ? (double)a->i : a->d, y = b->k == C_INT ? (double)b->i : b->d;
    return (x > y) - (x < y);
}

typedef struct rg_stats {
    bool has_min, has_max, has_nulls;
    cval min, max;
    int64_t null_count, num_rows;
} rg_stats;

/* Can a row with value v OP x exist in [min, max]? (op: eq lt le gt ge) */
static bool may_match(const char *op, const rg_stats *s, const cval *x) {
    bool ok1 = true, ok2 = true;
    int cmin = s->has_min ? cmp(&s->min, x, &ok1) : 0; /* min vs x */
    int cmax = s->has_max ? cmp(&s->max, x, &ok2) : 0;
    if (!ok1 || !ok2) return true;
    /* a float column's max leaves NaN out (Parquet's statistics skip NaN), and NaN is above
     * every value, so v > x / v >= x may hold beyond the max (NaN rows were pruned away) */
    if (s->has_max && s->max.k == C_DBL && (strcmp(op, "gt") == 0 || strcmp(op, "ge") == 0))
        return true;
    if (strcmp(op, "eq") == 0) return !(s->has_min && cmin > 0) && !(s->has_max && cmax < 0);
    if (strcmp(op, "lt") == 0) return !(s->has_min && cmin >= 0);
    if (strcmp(op, "le") == 0) return !(s->has_min && cmin > 0);
    if (strcmp(op, "gt") == 0) return !(s->has_max && cmax <= 0);
    if (strcmp(op, "ge") == 0) return !(s->has_max && cmax < 0);
    return true;
}

static const char *flip(const char *op) {
    if (strcmp(op, "lt") == 0) return "gt";
    if (strcmp(op, "le") == 0) return "ge";
    if (strcmp(op, "gt") == 0) return "lt";
    if (strcmp(op, "ge") == 0) return "le";
    return op;
}

typedef struct prune_ctx {
    const pl_df *scan;
    const pl_pq_metadata *md;
    int32_t rg;
    int32_t *leaf_of; /* output column -> leaf index, -1 when not a simple primitive */
} prune_ctx;

static bool get_stats(prune_ctx *pc, int32_t col, rg_stats *s) {
    int32_t leaf = pc->leaf_of[col];
    if (leaf < 0) return false;
    const pl_pq_row_group *g = &pc->md->row_groups[pc->rg];
    const pl_pq_column_chunk *cc = &g->columns[leaf];
    memset(s, 0, sizeof *s);
    s->num_rows = g->num_rows;
    if (!cc->has_stats) return false;
    /* the legacy min/max used signed byte order for strings: only trust them for numbers */
    pl_pq_value v;
    if (cc->stats.has_min && pl_pq_stats_value(pc->md, leaf, &cc->stats, false, &v) &&
        stat_val(&v, &s->min) && !(cc->stats.legacy && s->min.k == C_STR))
        s->has_min = true;
    if (cc->stats.has_max && pl_pq_stats_value(pc->md, leaf, &cc->stats, true, &v) &&
        stat_val(&v, &s->max) && !(cc->stats.legacy && s->max.k == C_STR))
        s->has_max = true;
    s->has_nulls = cc->stats.has_null_count;
    s->null_count = cc->stats.null_count;
    return true;
}

static bool col_of(const pl_expr *e, int32_t *col) {
    if (e->kind != PL_EXPR_COLUMN || e->index < 0) return false;
    *col = e->index;
    return true;
}

/* False when the conjunct e can be proven false for every row of the row group. */
static bool conj_may_match(prune_ctx *pc, const pl_expr *e) {
    if (e->kind != PL_EXPR_CALL) return true;
    const pl_schema *sch = pc->scan->schema;
    int32_t col;
    rg_stats s;
    if (strcmp(e->name, "and") == 0) {
        for (int32_t i = 0; i < e->n_args; i++)
            if (!conj_may_match(pc, e->args[i])) return false;
        return true;
    }
    if (strcmp(e->name, "or") == 0) {
        for (int32_t i = 0; i < e->n_args; i++)
            if (conj_may_match(pc, e->args[i])) return true;
        return false;
    }
    if ((strcmp(e->name, "is_null") == 0 || strcmp(e->name, "is_not_null") == 0) && e->n_args == 1 &&
        col_of(e->args[0], &col) && get_stats(pc, col, &s) && s.has_nulls) {
        if (strcmp(e->name, "is_null") == 0) return s.null_count > 0;
        return s.null_count < s.num_rows;
    }
    if (e->n_args == 2 && (strcmp(e->name, "eq") == 0 || strcmp(e->name, "lt") == 0 ||
                           strcmp(e->name, "le") == 0 || strcmp(e->name, "gt") == 0 ||
                           strcmp(e->name, "ge") == 0)) {
        const pl_expr *c = e->args[0], *l = e->args[1];
        const char *op = e->name;
        if (c->kind == PL_EXPR_LITERAL) {
            c = e->args[1];
            l = e->args[0];
            op = flip(op);
        }
        cval x;
        if (!col_of(c, &col) || l->kind != PL_EXPR_LITERAL) return true;
        if (!lit_val(&l->value, sch->fields[col].type, &x) || !get_stats(pc, col, &s)) return true;
        if (s.has_nulls && s.null_count == s.num_rows) return false; /* all NULL: never true */
        return may_match(op, &s, &x);
    }
    if (strcmp(e->name, "between") == 0 && e->n_args == 3 && col_of(e->args[0], &col) &&
        e->args[1]->kind == PL_EXPR_LITERAL && e->args[2]->kind == PL_EXPR_LITERAL) {
        cval lo, hi;
        if (!lit_val(&e->args[1]->value, sch->fields[col].type, &lo) ||
            !lit_val(&e->args[2]->value, sch->fields[col].type, &hi) || !get_stats(pc, col, &s))
            return true;
        return may_match("ge", &s, &lo) && may_match("le", &s, &hi);
    }
    if (strcmp(e->name, "in") == 0 && e->n_args >= 2 && col_of(e->args[0], &col)) {
        if (!get_stats(pc, col, &s)) return true;
        for (int32_t i = 1; i < e->n_args; i++) {
            cval x;
            if (e->args[i]->kind != PL_EXPR_LITERAL) return true;
            if (e->args[i]->value.is_null) continue;
            if (!lit_val(&e->args[i]->value, sch->fields[col].type, &x)) return true;
            if (may_match("eq", &s, &x)) return true;
        }
        return false;
    }
    return true;
}

/* For one file: fills keep[rg]; returns the number kept. */
static int32_t prune_file(const pl_df *scan, pl_pq_file *f, bool *keep) {
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    pl_schema *fs = pl_pq_file_schema(f);
    int32_t n_out = scan->schema->n_fields;
    int32_t *leaf_of = pl_malloc(sizeof *leaf_of * (size_t)PL_MAX(n_out, 1));
    if (!leaf_of) {
        for (int32_t g = 0; g < md->n_row_groups; g++) keep[g] = true;
        return md->n_row_groups;
    }
    for (int32_t i = 0; i < n_out; i++) {
        leaf_of[i] = -1;
        const char *name = scan->schema->fields[i].name;
        int32_t fi = pl_schema_find(fs, name);
        if (fi < 0) continue;
        int32_t found = -1, count = 0;
        for (int32_t l = 0; l < md->n_leaves; l++)
            if (md->leaves[l].field_index == fi) {
                found = l;
                count++;
            }
        if (count == 1 && md->leaves[found].max_rep == 0 && strchr(md->leaves[found].path, '.') == NULL)
            leaf_of[i] = found;
    }
    prune_ctx pc = {scan, md, 0, leaf_of};
    int32_t kept = 0;
    for (int32_t g = 0; g < md->n_row_groups; g++) {
        pc.rg = g;
        keep[g] = conj_may_match(&pc, scan->scan_filter);
        kept += keep[g];
    }
    pl_free(leaf_of);
    return kept;
}

/* The row groups of each file worth reading. *rgs[i] (pl_malloc'ed, may be NULL = all) and
 * *n_rgs[i] (-1 = all, 0 = skip the file). */
pl_status pl_plan_prune_row_groups(const pl_df *scan, int32_t **rgs, int32_t *n_rgs,
                                   pl_error *err);

pl_status pl_plan_prune_row_groups(const pl_df *scan, int32_t **rgs, int32_t *n_rgs,
                                   pl_error *err) {
    for (int32_t i = 0; i < scan->n_paths; i++) {
        rgs[i] = NULL;
        n_rgs[i] = -1;
    }
    if (scan->format != PL_FORMAT_PARQUET || !scan->scan_filter) return PL_OK;
    for (int32_t i = 0; i < scan->n_paths; i++) {
        pl_pq_file *f = NULL;
        pl_error e2;
        pl_error_init(&e2);
        if (pl_pq_file_open(scan->paths[i], &f, &e2)) continue; /* the scan reports it */
        const pl_pq_metadata *md = pl_pq_file_metadata(f);
        int32_t n = md->n_row_groups;
        bool *keep = pl_malloc(sizeof *keep * (size_t)PL_MAX(n, 1));
        if (!keep) {
            pl_pq_file_close(f);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory pruning row groups");
        }
        int32_t kept = prune_file(scan, f, keep);
        if (kept < n) {
            rgs[i] = pl_malloc(sizeof(int32_t) * (size_t)PL_MAX(kept, 1));
            if (!rgs[i]) {
                pl_free(keep);
                pl_pq_file_close(f);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory pruning row groups");
            }
            int32_t k = 0;
            for (int32_t g = 0; g < n; g++)
                if (keep[g]) rgs[i][k++] = g;
            n_rgs[i] = kept;
        }
        pl_free(keep);
        pl_pq_file_close(f);
    }
    return PL_OK;
}
