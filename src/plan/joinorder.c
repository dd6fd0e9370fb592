/* joinorder.c - join ordering: a tree of inner/cross joins (a "region") is rebuilt in the
 * order that minimises the sum of the estimated sizes of its intermediate results.
 *
 * Runs on the private deep copy of an optimized plan (after predicate pushdown, before
 * projection pushdown) and edits it in place.
 *
 * Region: a JOIN INNER or CROSS node, its inner/cross join inputs and plain-column
 * projections between them (rotate_cross puts those there). Everything else below is a
 * relation (a base scan with its pushed filter, an aggregate, an outer/semi/anti join, ...):
 * outer, semi, anti and as-of joins are barriers, their inputs are ordered on their own. A
 * semi/anti join above a region whose keys read one relation of it is moved onto that relation
 * first (push_semi: it only filters that relation's rows).
 * Edges: the join keys (one relation on each side). The residual conjuncts go to the lowest
 * join that has all their relations. A region is left as it is when it has fewer than 3
 * relations, more than JO_MAX_RELS, a key over several relations or a residual conjunct that
 * is volatile or reads no column.
 *
 * Estimates (doubles, kept simple):
 * - Parquet scan: the footers' row counts; other scans and tables: the plan's estimate
 *   (in-memory row count, file bytes / 40 for CSV and JSON);
 * - a filter conjunct multiplies by a fixed selectivity: col = lit 1/ndv (0.1 without
 *   statistics), <> 1 - that, a range against a literal the covered fraction of [min, max]
 *   from the Parquet statistics of an integer or date column (JO_SEL_RANGE without), BETWEEN
 *   the same (JO_SEL_BETWEEN), IN k * (col = lit), LIKE / ILIKE JO_SEL_LIKE, IS NULL
 *   JO_SEL_NULL, NOT 1 - s, AND product, OR 1 - prod(1 - s), anything else JO_SEL_OTHER;
 * - ndv of a column: min(rows, max - min + 1) for integer/date columns with statistics, else
 *   the relation's rows before its filters; capped by the relation's estimated rows;
 * - join: |L| * |R| / prod over its key pairs of max(ndv(left key), ndv(right key)), the
 *   divisor capped at max(|L|, |R|) per relation pair (composite keys are correlated).
 *
 * Order: dynamic programming over the connected subsets (DPsize, bushy) for each connected
 * component of up to JO_DP_MAX relations, greedy (join the pair with the smallest result)
 * beyond; components are then joined by cross products, smallest first. The larger input of
 * each join is its probe (left) side, the smaller its build side. A projection on top restores
 * the region's column order.
 *
 * Last, reduce_groups restricts the input of each aggregate joined on its group keys to the
 * keys a small filtered relation gives (see "semi-join reduction" below). */
#include <math.h>
#include <stdio.h>

#include "plan/plan.h"
#include "polaroid/parquet.h"

#define JO_MAX_RELS 24
#define JO_DP_MAX 10
#define JO_MAX_FOOTERS 64
#define JO_SEL_EQ 0.1
#define JO_SEL_RANGE (1.0 / 3.0)
#define JO_SEL_BETWEEN 0.25
#define JO_SEL_LIKE 0.1
#define JO_SEL_NULL 0.05
#define JO_SEL_OTHER 0.5

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory ordering joins"); }

typedef struct jo_rel {
    pl_df **slot; /* where the relation hangs in the old tree */
    int32_t off, n; /* its columns in the region's column space */
    double rows;  /* estimate after its filters */
} jo_rel;

typedef struct jo_key {
    pl_expr *a, *b; /* over region columns of relation ra / rb only */
    int32_t ra, rb;
    bool ne;
} jo_key;

typedef struct jo_pred {
    pl_expr *e; /* over region columns */
    uint64_t rels;
} jo_pred;

typedef struct jo_region {
    jo_rel *rels;
    int32_t n_rels, cap_rels;
    int32_t n_cols, cap_cols, cap_ndv;
    int32_t *col_rel; /* region column -> relation */
    double *col_ndv;  /* region column -> ndv before the relation's filters (< 0 unknown) */
    jo_key *keys;
    int32_t n_keys, cap_keys;
    jo_pred *preds;
    int32_t n_preds, cap_preds;
    bool give_up;
} jo_region;

static void region_free(jo_region *g) {
    for (int32_t i = 0; i < g->n_keys; i++) {
        pl_expr_release(g->keys[i].a);
        pl_expr_release(g->keys[i].b);
    }
    for (int32_t i = 0; i < g->n_preds; i++) pl_expr_release(g->preds[i].e);
    pl_free(g->rels);
    pl_free(g->col_rel);
    pl_free(g->col_ndv);
    pl_free(g->keys);
    pl_free(g->preds);
}

static bool grow(void **p, int32_t *cap, int32_t need, size_t size) {
    if (need <= *cap) return true;
    int32_t c = PL_MAX(need, *cap * 2 + 8);
    void *q = pl_realloc(*p, size * (size_t)c);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

static bool is_inner(const pl_df *d) {
    return d->kind == PL_PLAN_JOIN && (d->join_type == PL_JOIN_INNER || d->join_type == PL_JOIN_CROSS);
}

/* A projection of plain columns over the region (absorbed into it). */
static bool is_pure_project(const pl_df *d) {
    if (d->kind != PL_PLAN_PROJECT) return false;
    for (int32_t i = 0; i < d->n_exprs; i++)
        if (d->exprs[i]->kind != PL_EXPR_COLUMN || d->exprs[i]->index < 0) return false;
    const pl_df *in = d->inputs[0];
    return is_inner(in) || is_pure_project(in);
}

/* The relations whose region columns e reads. */
static uint64_t rels_of(const jo_region *g, const pl_expr *e, bool *none) {
    bool *used = pl_calloc((size_t)PL_MAX(g->n_cols, 1), sizeof *used);
    uint64_t m = 0;
    *none = true;
    if (!used) return 0;
    pl_expr_mark_columns(e, used, g->n_cols);
    for (int32_t i = 0; i < g->n_cols; i++)
        if (used[i]) {
            *none = false;
            int32_t r = g->col_rel[i];
            if (r < JO_MAX_RELS) m |= (uint64_t)1 << r;
            else m |= (uint64_t)1 << 63; /* too many relations: the region is given up */
        }
    pl_free(used);
    return m;
}

static bool one_rel(uint64_t m, int32_t *r) {
    if (!m || (m & (m - 1))) return false;
    *r = __builtin_ctzll(m);
    return true;
}

static pl_status add_conjuncts(jo_region *g, const pl_expr *e, const int32_t *map, pl_error *err) {
    if (e->kind == PL_EXPR_CALL && e->name && strcmp(e->name, "and") == 0) {
        for (int32_t i = 0; i < e->n_args; i++) PL_TRY(add_conjuncts(g, e->args[i], map, err));
        return PL_OK;
    }
    pl_expr *x = pl_expr_remap(e, map);
    if (!x) return nomem(err);
    bool none = true;
    uint64_t m = rels_of(g, x, &none);
    if (none || !pl_expr_is_deterministic(x)) g->give_up = true;
    if (!grow((void **)&g->preds, &g->cap_preds, g->n_preds + 1, sizeof *g->preds)) {
        pl_expr_release(x);
        return nomem(err);
    }
    g->preds[g->n_preds++] = (jo_pred){x, m};
    return PL_OK;
}

/* Walks the region below *slot: relations, keys and residual conjuncts over the region's
 * columns; *map_out (pl_malloc'ed) maps *slot's output columns to region columns. */
static pl_status collect(pl_df **slot, jo_region *g, int32_t **map_out, pl_error *err) {
    pl_df *d = *slot;
    int32_t n = d->schema->n_fields;
    int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(n, 1));
    if (!map) return nomem(err);
    pl_status st = PL_OK;
    if (is_inner(d)) {
        int32_t *ml = NULL, *mr = NULL;
        int32_t nl = d->inputs[0]->schema->n_fields, nr = d->inputs[1]->schema->n_fields;
        st = collect(&d->inputs[0], g, &ml, err);
        if (!st) st = collect(&d->inputs[1], g, &mr, err);
        for (int32_t i = 0; !st && i < nl; i++) map[i] = ml[i];
        for (int32_t i = 0; !st && i < nr; i++) map[nl + i] = mr[i];
        for (int32_t i = 0; !st && i < d->n_keys; i++) {
            pl_expr *a = pl_expr_remap(d->keys[i], ml), *b = pl_expr_remap(d->right_keys[i], mr);
            if (!a || !b || !grow((void **)&g->keys, &g->cap_keys, g->n_keys + 1, sizeof *g->keys)) {
                pl_expr_release(a);
                pl_expr_release(b);
                st = nomem(err);
                break;
            }
            bool na = true, nb = true;
            int32_t ra = -1, rb = -1;
            if (!one_rel(rels_of(g, a, &na), &ra) || !one_rel(rels_of(g, b, &nb), &rb) || ra == rb)
                g->give_up = true;
            g->keys[g->n_keys++] = (jo_key){a, b, ra, rb, d->key_ne && d->key_ne[i]};
        }
        if (!st && d->residual) st = add_conjuncts(g, d->residual, map, err);
        pl_free(ml);
        pl_free(mr);
    } else if (is_pure_project(d)) {
        int32_t *mi = NULL;
        st = collect(&d->inputs[0], g, &mi, err);
        for (int32_t i = 0; !st && i < n; i++) map[i] = mi[d->exprs[i]->index];
        pl_free(mi);
    } else {
        if (!grow((void **)&g->rels, &g->cap_rels, g->n_rels + 1, sizeof *g->rels)) st = nomem(err);
        int32_t need = g->n_cols + n;
        if (!st && !grow((void **)&g->col_rel, &g->cap_cols, need, sizeof *g->col_rel)) st = nomem(err);
        if (!st && !grow((void **)&g->col_ndv, &g->cap_ndv, need, sizeof *g->col_ndv)) st = nomem(err);
        if (!st) {
            g->rels[g->n_rels] = (jo_rel){slot, g->n_cols, n, 1};
            for (int32_t i = 0; i < n; i++) {
                map[i] = g->n_cols + i;
                g->col_rel[g->n_cols + i] = g->n_rels;
                g->col_ndv[g->n_cols + i] = -1;
            }
            g->n_cols += n;
            g->n_rels++;
        }
    }
    if (st) {
        pl_free(map);
        return st;
    }
    *map_out = map;
    return PL_OK;
}

/* ---------------------------------------------------------------- estimates */

/* Integer min/max of a scan's output columns from the Parquet statistics. */
typedef struct jo_colstat {
    bool has;
    int64_t min, max;
} jo_colstat;

static bool int_like(const pl_type *t) {
    pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
    return (id >= PL_TYPE_INT8 && id <= PL_TYPE_INT64) || (id >= PL_TYPE_UINT8 && id <= PL_TYPE_UINT64) ||
           id == PL_TYPE_DATE32;
}

static bool pq_int(const pl_pq_value *v, int64_t *out) {
    if (v->kind == PL_PQ_VALUE_INT) *out = v->i;
    else if (v->kind == PL_PQ_VALUE_UINT && v->u <= INT64_MAX) *out = (int64_t)v->u;
    else return false;
    return true;
}

/* Rows of a Parquet scan's files (before its filter) and the min/max of its integer columns;
 * false when a footer cannot be read (the scan reports that when it runs). */
static bool pq_stats(const pl_df *scan, double *rows, jo_colstat *cs) {
    int32_t n_out = scan->schema->n_fields;
    for (int32_t i = 0; i < n_out; i++) cs[i] = (jo_colstat){int_like(scan->schema->fields[i].type), INT64_MAX, INT64_MIN};
    *rows = 0;
    for (int32_t p = 0; p < scan->n_paths; p++) {
        pl_pq_file *f = NULL;
        pl_error e2;
        pl_error_init(&e2);
        if (pl_pq_file_open(scan->paths[p], &f, &e2)) return false;
        const pl_pq_metadata *md = pl_pq_file_metadata(f);
        pl_schema *fs = pl_pq_file_schema(f);
        *rows += (double)md->num_rows;
        for (int32_t i = 0; i < n_out; i++) {
            if (!cs[i].has) continue;
            int32_t fi = pl_schema_find(fs, scan->schema->fields[i].name), leaf = -1, count = 0;
            for (int32_t l = 0; fi >= 0 && l < md->n_leaves; l++)
                if (md->leaves[l].field_index == fi) {
                    leaf = l;
                    count++;
                }
            if (count != 1 || md->leaves[leaf].max_rep != 0) {
                cs[i].has = false;
                continue;
            }
            for (int32_t rg = 0; rg < md->n_row_groups && cs[i].has; rg++) {
                const pl_pq_column_chunk *cc = &md->row_groups[rg].columns[leaf];
                pl_pq_value lo, hi;
                int64_t a, b;
                if (md->row_groups[rg].num_rows == 0) continue;
                if (!cc->has_stats || !pl_pq_stats_value(md, leaf, &cc->stats, false, &lo) ||
                    !pl_pq_stats_value(md, leaf, &cc->stats, true, &hi) || !pq_int(&lo, &a) ||
                    !pq_int(&hi, &b)) {
                    cs[i].has = false;
                    continue;
                }
                cs[i].min = PL_MIN(cs[i].min, a);
                cs[i].max = PL_MAX(cs[i].max, b);
            }
        }
        pl_pq_file_close(f);
    }
    for (int32_t i = 0; i < n_out; i++)
        if (cs[i].has && cs[i].min > cs[i].max) cs[i].has = false;
    return true;
}

typedef struct sel_ctx {
    const pl_df *in;      /* the relation the predicate reads */
    const jo_colstat *cs; /* its statistics or NULL */
    double rows;          /* its rows before the predicate */
} sel_ctx;

static bool col_stat(const sel_ctx *c, const pl_expr *e, const jo_colstat **out) {
    if (!c->cs || e->kind != PL_EXPR_COLUMN || e->index < 0 || e->index >= c->in->schema->n_fields ||
        !c->cs[e->index].has)
        return false;
    *out = &c->cs[e->index];
    return true;
}

static bool lit_int(const pl_expr *e, double *out) {
    if (e->kind != PL_EXPR_LITERAL || e->value.is_null || !e->value.type) return false;
    pl_type_id t = e->value.type->id;
    if ((t >= PL_TYPE_INT8 && t <= PL_TYPE_INT64) || t == PL_TYPE_DATE32) *out = (double)e->value.v.i;
    else if (t >= PL_TYPE_UINT8 && t <= PL_TYPE_UINT64) *out = (double)e->value.v.u;
    else return false;
    return true;
}

static double stat_ndv(const jo_colstat *s, double rows) {
    return PL_MAX(1.0, PL_MIN(rows, (double)s->max - (double)s->min + 1));
}

/* Fraction of [min, max] where v OP x holds (op: lt le gt ge). */
static double range_frac(const jo_colstat *s, const char *op, double x) {
    double lo = (double)s->min, hi = (double)s->max, w = hi - lo + 1, f;
    if (strcmp(op, "lt") == 0) f = (x - lo) / w;
    else if (strcmp(op, "le") == 0) f = (x - lo + 1) / w;
    else if (strcmp(op, "gt") == 0) f = (hi - x) / w;
    else f = (hi - x + 1) / w;
    return PL_MAX(0.0, PL_MIN(1.0, f));
}

static const char *flip_op(const char *op) {
    if (strcmp(op, "lt") == 0) return "gt";
    if (strcmp(op, "le") == 0) return "ge";
    if (strcmp(op, "gt") == 0) return "lt";
    if (strcmp(op, "ge") == 0) return "le";
    return op;
}

static double eq_sel(const sel_ctx *c, const pl_expr *col) {
    const jo_colstat *s;
    if (col_stat(c, col, &s)) return 1.0 / stat_ndv(s, c->rows);
    return JO_SEL_EQ;
}

/* The fixed selectivities documented at the top. */
static double selectivity(const sel_ctx *c, const pl_expr *e) {
    if (e->kind == PL_EXPR_LITERAL) {
        if (e->value.is_null) return 0;
        if (e->value.type && e->value.type->id == PL_TYPE_BOOL) return e->value.v.b ? 1 : 0;
        return JO_SEL_OTHER;
    }
    if (e->kind != PL_EXPR_CALL || !e->name) return JO_SEL_OTHER;
    const char *f = e->name;
    if (strcmp(f, "and") == 0) {
        double s = 1;
        for (int32_t i = 0; i < e->n_args; i++) s *= selectivity(c, e->args[i]);
        return s;
    }
    if (strcmp(f, "or") == 0) {
        double s = 1;
        for (int32_t i = 0; i < e->n_args; i++) s *= 1 - selectivity(c, e->args[i]);
        return 1 - s;
    }
    if (strcmp(f, "not") == 0 && e->n_args == 1) return 1 - selectivity(c, e->args[0]);
    if (strcmp(f, "is_null") == 0) return JO_SEL_NULL;
    if (strcmp(f, "is_not_null") == 0) return 1 - JO_SEL_NULL;
    if (strcmp(f, "like") == 0 || strcmp(f, "ilike") == 0) return JO_SEL_LIKE;
    if ((strcmp(f, "eq") == 0 || strcmp(f, "ne") == 0) && e->n_args == 2) {
        const pl_expr *col = e->args[0]->kind == PL_EXPR_LITERAL ? e->args[1] : e->args[0];
        double s = eq_sel(c, col);
        return strcmp(f, "eq") == 0 ? s : 1 - s;
    }
    if ((strcmp(f, "lt") == 0 || strcmp(f, "le") == 0 || strcmp(f, "gt") == 0 || strcmp(f, "ge") == 0) &&
        e->n_args == 2) {
        const pl_expr *col = e->args[0], *lit = e->args[1];
        const char *op = f;
        if (col->kind == PL_EXPR_LITERAL) {
            col = e->args[1];
            lit = e->args[0];
            op = flip_op(op);
        }
        const jo_colstat *s;
        double x;
        if (col_stat(c, col, &s) && lit_int(lit, &x)) return range_frac(s, op, x);
        return JO_SEL_RANGE;
    }
    if (strcmp(f, "between") == 0 && e->n_args == 3) {
        const jo_colstat *s;
        double lo, hi;
        if (col_stat(c, e->args[0], &s) && lit_int(e->args[1], &lo) && lit_int(e->args[2], &hi))
            return PL_MAX(0.0, range_frac(s, "ge", lo) + range_frac(s, "le", hi) - 1);
        return JO_SEL_BETWEEN;
    }
    if (strcmp(f, "in") == 0 && e->n_args >= 2)
        return PL_MIN(1.0, (double)(e->n_args - 1) * eq_sel(c, e->args[0]));
    return JO_SEL_OTHER;
}

/* Estimated rows of a relation and the ndv of its columns before its filters (ndv[i] < 0:
 * unknown) through filters and projections down to a scan. */
static double rel_rows(const pl_df *d, double *ndv) {
    int32_t n = d->schema->n_fields;
    for (int32_t i = 0; i < n; i++) ndv[i] = -1;
    if (d->kind == PL_PLAN_FILTER) {
        double in = rel_rows(d->inputs[0], ndv);
        sel_ctx c = {d->inputs[0], NULL, in};
        return in * selectivity(&c, d->pred);
    }
    if (d->kind == PL_PLAN_PROJECT) {
        const pl_df *in = d->inputs[0];
        double *tmp = pl_malloc(sizeof *tmp * (size_t)PL_MAX(in->schema->n_fields, 1));
        if (!tmp) return d->est_rows >= 0 ? (double)d->est_rows : 1000.0;
        double r = rel_rows(in, tmp);
        for (int32_t i = 0; i < n; i++)
            if (d->exprs[i]->kind == PL_EXPR_COLUMN && d->exprs[i]->index >= 0 &&
                d->exprs[i]->index < in->schema->n_fields)
                ndv[i] = tmp[d->exprs[i]->index];
        pl_free(tmp);
        return r;
    }
    if (d->kind == PL_PLAN_SCAN) {
        /* footers of at most JO_MAX_FOOTERS files are read */
        jo_colstat *cs = d->format == PL_FORMAT_PARQUET && d->n_paths <= JO_MAX_FOOTERS
                             ? pl_calloc((size_t)PL_MAX(n, 1), sizeof *cs)
                             : NULL;
        double base = -1;
        if (!cs || !pq_stats(d, &base, cs)) {
            pl_free(cs);
            cs = NULL;
            /* push_down divided the scan's estimate by 4 for its filter */
            base = d->est_rows < 0 ? 1000.0 : (double)d->est_rows * (d->scan_filter ? 4 : 1);
        }
        base = PL_MAX(base, 1.0);
        for (int32_t i = 0; i < n; i++) ndv[i] = cs && cs[i].has ? stat_ndv(&cs[i], base) : base;
        sel_ctx c = {d, cs, base};
        double r = d->scan_filter ? base * selectivity(&c, d->scan_filter) : base;
        pl_free(cs);
        return r;
    }
    return d->est_rows >= 0 ? (double)d->est_rows : 1000.0;
}

/* ---------------------------------------------------------------- ordering */

typedef struct jo_node {
    uint64_t mask;
    int32_t l, r; /* children (node indices), -1 for a relation */
    int32_t rel;
    double card, cost;
} jo_node;

typedef struct jo_plan {
    jo_region *g;
    double *pair_sel; /* [n * n] */
    double *pair_denom;
    uint64_t *adj;    /* relations joined by a key to each relation */
    jo_node *nodes;
    int32_t n_nodes;
} jo_plan;

static double card_of(const jo_plan *p, uint64_t m) {
    const jo_region *g = p->g;
    int32_t n = g->n_rels;
    double c = 1;
    for (int32_t i = 0; i < n; i++) {
        if (!(m >> i & 1)) continue;
        c *= g->rels[i].rows;
        for (int32_t k = i + 1; k < n; k++)
            if (m >> k & 1) c *= p->pair_sel[i * n + k];
    }
    /* residual conjuncts over several relations: a fixed selectivity */
    for (int32_t i = 0; i < g->n_preds; i++) {
        uint64_t r = g->preds[i].rels;
        if ((r & (r - 1)) && (r & m) == r) c *= JO_SEL_OTHER;
    }
    return PL_MAX(c, 1.0);
}

static bool connected(const jo_plan *p, uint64_t a, uint64_t b) {
    for (int32_t i = 0; i < p->g->n_rels; i++)
        if ((a >> i & 1) && (p->adj[i] & b)) return true;
    return false;
}

static int32_t add_node(jo_plan *p, int32_t l, int32_t r) {
    jo_node *x = &p->nodes[p->n_nodes];
    x->mask = p->nodes[l].mask | p->nodes[r].mask;
    x->l = l;
    x->r = r;
    x->rel = -1;
    x->card = card_of(p, x->mask);
    x->cost = p->nodes[l].cost + p->nodes[r].cost + x->card;
    return p->n_nodes++;
}

/* Greedy: joins the pair of items with the smallest result, connected pairs first. */
static int32_t greedy(jo_plan *p, int32_t *items, int32_t n_items) {
    while (n_items > 1) {
        int32_t bi = -1, bk = -1;
        double best = 0;
        bool best_conn = false;
        for (int32_t i = 0; i < n_items; i++)
            for (int32_t k = i + 1; k < n_items; k++) {
                uint64_t a = p->nodes[items[i]].mask, b = p->nodes[items[k]].mask;
                bool conn = connected(p, a, b);
                double c = card_of(p, a | b);
                if (bi < 0 || (conn && !best_conn) || (conn == best_conn && c < best)) {
                    bi = i;
                    bk = k;
                    best = c;
                    best_conn = conn;
                }
            }
        items[bi] = add_node(p, items[bi], items[bk]);
        items[bk] = items[--n_items];
    }
    return items[0];
}

/* DPsize over the connected subsets of component comp (relations 0..n-1, n <= JO_DP_MAX). */
static int32_t dp(jo_plan *p, uint64_t comp, int32_t *best) {
    int32_t n = p->g->n_rels;
    uint64_t full = ((uint64_t)1 << n) - 1;
    for (uint64_t s = 1; s <= full; s++) {
        if ((s & ~comp) || !(s & (s - 1))) continue;
        best[s] = -1;
        uint64_t low = s & (~s + 1);
        double bc = 0;
        int32_t bl = -1, br = -1;
        /* s1: proper subsets holding the lowest relation (each split once) */
        for (uint64_t s1 = (s - 1) & s; s1; s1 = (s1 - 1) & s) {
            if (!(s1 & low)) continue;
            uint64_t s2 = s ^ s1;
            if (best[s1] < 0 || best[s2] < 0 || !connected(p, s1, s2)) continue;
            double c = p->nodes[best[s1]].cost + p->nodes[best[s2]].cost;
            if (bl < 0 || c < bc) {
                bc = c;
                bl = best[s1];
                br = best[s2];
            }
        }
        if (bl >= 0) best[s] = add_node(p, bl, br);
    }
    return best[comp];
}

/* The relation sets of the connected components, in order of their lowest relation. */
static int32_t components(const jo_plan *p, uint64_t *out) {
    int32_t n = p->g->n_rels, k = 0;
    uint64_t seen = 0;
    for (int32_t i = 0; i < n; i++) {
        if (seen >> i & 1) continue;
        uint64_t c = (uint64_t)1 << i, prev = 0;
        while (c != prev) {
            prev = c;
            for (int32_t r = 0; r < n; r++)
                if (c >> r & 1) c |= p->adj[r];
        }
        seen |= c;
        out[k++] = c;
    }
    return k;
}

/* ---------------------------------------------------------------- building */

typedef struct jo_built {
    pl_df *df;
    int32_t *cols; /* region column of each output column */
    int32_t n;
} jo_built;

static pl_status build(jo_plan *p, int32_t node, bool *key_done, bool *pred_done, jo_built *out,
                       pl_error *err) {
    jo_region *g = p->g;
    jo_node *x = &p->nodes[node];
    if (x->rel >= 0) {
        jo_rel *r = &g->rels[x->rel];
        out->cols = pl_malloc(sizeof *out->cols * (size_t)PL_MAX(r->n, 1));
        if (!out->cols) return nomem(err);
        for (int32_t i = 0; i < r->n; i++) out->cols[i] = r->off + i;
        out->n = r->n;
        out->df = pl_df_retain(*r->slot);
        return PL_OK;
    }
    /* the larger input probes, the smaller one builds */
    int32_t li = x->l, ri = x->r;
    if (p->nodes[li].card < p->nodes[ri].card) {
        li = x->r;
        ri = x->l;
    }
    jo_built l = {0}, r = {0};
    pl_status st = build(p, li, key_done, pred_done, &l, err);
    if (!st) st = build(p, ri, key_done, pred_done, &r, err);
    uint64_t lm = p->nodes[li].mask, m = x->mask;
    int32_t *lmap = pl_malloc(sizeof *lmap * (size_t)PL_MAX(g->n_cols, 1));
    int32_t *rmap = pl_malloc(sizeof *rmap * (size_t)PL_MAX(g->n_cols, 1));
    int32_t *bmap = pl_malloc(sizeof *bmap * (size_t)PL_MAX(g->n_cols, 1));
    pl_expr **lk = pl_calloc((size_t)PL_MAX(g->n_keys, 1), sizeof *lk);
    pl_expr **rk = pl_calloc((size_t)PL_MAX(g->n_keys, 1), sizeof *rk);
    bool *ne = pl_calloc((size_t)PL_MAX(g->n_keys, 1), sizeof *ne);
    int32_t *cols = pl_malloc(sizeof *cols * (size_t)PL_MAX(l.n + r.n, 1));
    if (!st && (!lmap || !rmap || !bmap || !lk || !rk || !ne || !cols)) st = nomem(err);
    int32_t nk = 0;
    pl_expr *resid = NULL;
    if (!st) {
        for (int32_t i = 0; i < g->n_cols; i++) lmap[i] = rmap[i] = bmap[i] = -1;
        for (int32_t i = 0; i < l.n; i++) lmap[l.cols[i]] = bmap[l.cols[i]] = i;
        for (int32_t i = 0; i < r.n; i++) {
            rmap[r.cols[i]] = i;
            bmap[r.cols[i]] = l.n + i;
        }
        for (int32_t i = 0; i < l.n; i++) cols[i] = l.cols[i];
        for (int32_t i = 0; i < r.n; i++) cols[l.n + i] = r.cols[i];
    }
    for (int32_t i = 0; !st && i < g->n_keys; i++) {
        jo_key *k = &g->keys[i];
        uint64_t km = (uint64_t)1 << k->ra | (uint64_t)1 << k->rb;
        if (key_done[i] || (km & m) != km) continue;
        key_done[i] = true;
        bool a_left = (lm >> k->ra) & 1;
        lk[nk] = pl_expr_remap(a_left ? k->a : k->b, lmap);
        rk[nk] = pl_expr_remap(a_left ? k->b : k->a, rmap);
        ne[nk] = k->ne;
        nk++;
        if (!lk[nk - 1] || !rk[nk - 1]) st = nomem(err);
    }
    for (int32_t i = 0; !st && i < g->n_preds; i++) {
        jo_pred *q = &g->preds[i];
        if (pred_done[i] || (q->rels & m) != q->rels) continue;
        pred_done[i] = true;
        pl_expr *e = pl_expr_remap(q->e, bmap);
        if (!e) st = nomem(err);
        else if (!resid) resid = e;
        else if (!(resid = pl_expr_call2("and", resid, e))) st = nomem(err);
    }
    pl_df *j = NULL;
    if (!st) {
        pl_join_opts jo = {false, resid, ne, PL_ASOF_GE};
        st = pl_df_join(l.df, r.df, nk ? PL_JOIN_INNER : PL_JOIN_CROSS, nk, lk, rk, &jo, &j, err);
    }
    if (!st) {
        j->est_rows = x->card >= 9e18 ? INT64_MAX : (int64_t)x->card;
        j->build_left = false;
        out->df = j;
        out->cols = cols;
        out->n = l.n + r.n;
        cols = NULL;
    }
    for (int32_t i = 0; i < nk; i++) {
        pl_expr_release(lk[i]);
        pl_expr_release(rk[i]);
    }
    pl_expr_release(resid);
    pl_free(lk);
    pl_free(rk);
    pl_free(ne);
    pl_free(lmap);
    pl_free(rmap);
    pl_free(bmap);
    pl_free(cols);
    pl_free(l.cols);
    pl_free(r.cols);
    if (l.df) pl_df_release(l.df);
    if (r.df) pl_df_release(r.df);
    return st;
}

static pl_status order_slot(pl_df **slot, pl_error *err);

/* Orders the region rooted at *slot (a join) and replaces it. */
static pl_status order_region(pl_df **slot, pl_error *err) {
    jo_region g = {0};
    int32_t *root_map = NULL;
    pl_status st = collect(slot, &g, &root_map, err);
    /* the relations first (their own joins are ordered, their schemas stay) */
    for (int32_t i = 0; !st && i < g.n_rels; i++) st = order_slot(g.rels[i].slot, err);
    if (st || g.give_up || g.n_rels < 3 || g.n_rels > JO_MAX_RELS) {
        pl_free(root_map);
        region_free(&g);
        return st;
    }
    int32_t n = g.n_rels;
    for (int32_t i = 0; i < n; i++)
        g.rels[i].rows = PL_MAX(1.0, rel_rows(*g.rels[i].slot, g.col_ndv + g.rels[i].off));
    jo_plan p = {&g, NULL, NULL, NULL, NULL, 0};
    p.pair_sel = pl_malloc(sizeof *p.pair_sel * (size_t)(n * n));
    p.pair_denom = pl_malloc(sizeof *p.pair_denom * (size_t)(n * n));
    p.adj = pl_calloc((size_t)n, sizeof *p.adj);
    /* relations, DP's subsets (or greedy's joins), the joins of the components */
    size_t cap_nodes = (size_t)(3 * n) + (n <= JO_DP_MAX ? (size_t)1 << n : 0);
    p.nodes = pl_calloc(cap_nodes, sizeof *p.nodes);
    int32_t *best = n <= JO_DP_MAX ? pl_malloc(sizeof *best * ((size_t)1 << n)) : NULL;
    uint64_t *comps = pl_malloc(sizeof *comps * (size_t)n);
    int32_t *items = pl_malloc(sizeof *items * (size_t)n);
    bool *key_done = pl_calloc((size_t)PL_MAX(g.n_keys, 1), sizeof *key_done);
    bool *pred_done = pl_calloc((size_t)PL_MAX(g.n_preds, 1), sizeof *pred_done);
    if (!p.pair_sel || !p.pair_denom || !p.adj || !p.nodes || (n <= JO_DP_MAX && !best) || !comps ||
        !items || !key_done || !pred_done)
        st = nomem(err);
    jo_built top = {0};
    if (!st) {
        /* single-relation residual conjuncts filter their relation */
        for (int32_t i = 0; i < g.n_preds; i++) {
            int32_t r;
            if (one_rel(g.preds[i].rels, &r)) g.rels[r].rows = PL_MAX(1.0, g.rels[r].rows * JO_SEL_OTHER);
        }
        for (int32_t i = 0; i < n * n; i++) p.pair_denom[i] = 1;
        for (int32_t i = 0; i < g.n_keys; i++) {
            jo_key *k = &g.keys[i];
            double nd = 1;
            for (int32_t side = 0; side < 2; side++) {
                const pl_expr *e = side ? k->b : k->a;
                int32_t r = side ? k->rb : k->ra;
                double v = g.rels[r].rows;
                if (e->kind == PL_EXPR_COLUMN && g.col_ndv[e->index] > 0) v = PL_MIN(v, g.col_ndv[e->index]);
                nd = PL_MAX(nd, v);
            }
            p.pair_denom[k->ra * n + k->rb] *= nd;
            p.pair_denom[k->rb * n + k->ra] *= nd;
            p.adj[k->ra] |= (uint64_t)1 << k->rb;
            p.adj[k->rb] |= (uint64_t)1 << k->ra;
        }
        for (int32_t i = 0; i < n; i++)
            for (int32_t k = 0; k < n; k++) {
                double cap = PL_MAX(g.rels[i].rows, g.rels[k].rows);
                p.pair_sel[i * n + k] = 1.0 / PL_MIN(p.pair_denom[i * n + k], cap);
                if (!(p.adj[i] >> k & 1)) p.pair_sel[i * n + k] = 1;
            }
        for (int32_t i = 0; i < n; i++) {
            p.nodes[i] = (jo_node){(uint64_t)1 << i, -1, -1, i, g.rels[i].rows, 0};
            if (best) best[(uint64_t)1 << i] = i;
        }
        p.n_nodes = n;
        int32_t n_comp = components(&p, comps), n_items = 0;
        for (int32_t c = 0; c < n_comp; c++) {
            if (!(comps[c] & (comps[c] - 1))) items[n_items++] = __builtin_ctzll(comps[c]);
            else if (best) items[n_items++] = dp(&p, comps[c], best);
            else {
                int32_t m = 0;
                for (int32_t i = 0; i < n; i++)
                    if (comps[c] >> i & 1) items[n_items + m++] = i;
                items[n_items] = greedy(&p, items + n_items, m);
                n_items++;
            }
        }
        int32_t root = greedy(&p, items, n_items);
        st = build(&p, root, key_done, pred_done, &top, err);
    }
    pl_df *res = NULL;
    if (!st) {
        /* restore the region's column order (and names) */
        pl_df *old = *slot;
        int32_t nout = old->schema->n_fields;
        bool same = nout == top.n;
        for (int32_t i = 0; same && i < nout; i++) same = top.cols[i] == root_map[i];
        if (same) {
            res = top.df;
            top.df = NULL;
        } else {
            int32_t *pos = pl_malloc(sizeof *pos * (size_t)PL_MAX(g.n_cols, 1));
            pl_expr **cols = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *cols);
            const char **names = pl_calloc((size_t)PL_MAX(nout, 1), sizeof *names);
            if (!pos || !cols || !names) st = nomem(err);
            for (int32_t i = 0; !st && i < top.n; i++) pos[top.cols[i]] = i;
            for (int32_t i = 0; !st && i < nout; i++) {
                names[i] = old->schema->fields[i].name;
                if (!(cols[i] = pl_expr_col_index(pos[root_map[i]], names[i]))) st = nomem(err);
            }
            if (!st) st = pl_df_select(top.df, nout, cols, names, &res, err);
            if (!st) res->est_rows = top.df->est_rows;
            for (int32_t i = 0; i < nout && cols; i++) pl_expr_release(cols[i]);
            pl_free(pos);
            pl_free(cols);
            pl_free((void *)names);
        }
    }
    if (!st) {
        pl_df *old = *slot;
        *slot = res;
        pl_df_release(old);
    }
    if (top.df) pl_df_release(top.df);
    pl_free(top.cols);
    pl_free(p.pair_sel);
    pl_free(p.pair_denom);
    pl_free(p.adj);
    pl_free(p.nodes);
    pl_free(best);
    pl_free(comps);
    pl_free(items);
    pl_free(key_done);
    pl_free(pred_done);
    pl_free(root_map);
    region_free(&g);
    return st;
}

static pl_status order_slot(pl_df **slot, pl_error *err) {
    pl_df *d = *slot;
    if (is_inner(d)) return order_region(slot, err);
    for (int32_t i = 0; i < d->n_inputs; i++) PL_TRY(order_slot(&d->inputs[i], err));
    return PL_OK;
}

/* ---------------------------------------------------------------- semi joins into regions */

static bool is_semi(const pl_df *d) {
    return d->kind == PL_PLAN_JOIN && (d->join_type == PL_JOIN_SEMI || d->join_type == PL_JOIN_ANTI);
}

/* A semi or anti join (no residual) over a region whose left keys all read one relation of it
 * keeps or drops rows by that relation's columns alone: it filters that relation, so it moves
 * onto it and the region's joins see the smaller input (TPC-H Q18's o_orderkey IN (subquery)
 * joined lineitem x orders x customer first). *slot becomes the region. */
static pl_status push_semi(pl_df **slot, pl_error *err) {
    pl_df *d = *slot;
    pl_df *left = d->inputs[0];
    if (!is_semi(d) || d->residual || d->n_keys == 0 || !(is_inner(left) || is_pure_project(left)))
        return PL_OK;
    jo_region g = {0};
    int32_t *map = NULL, *relmap = NULL, r = -1, nk = d->n_keys; /* d may go below */
    pl_expr **lk = pl_calloc((size_t)nk, sizeof *lk);
    pl_status st = lk ? collect(&d->inputs[0], &g, &map, err) : nomem(err);
    uint64_t m = 0;
    bool ok = !st;
    for (int32_t i = 0; ok && i < d->n_keys; i++) {
        pl_expr *x = pl_expr_remap(d->keys[i], map);
        if (!x) {
            st = nomem(err);
            ok = false;
            break;
        }
        bool none = true;
        m |= rels_of(&g, x, &none);
        pl_expr_release(x);
        if (none) ok = false;
    }
    ok = ok && one_rel(m, &r) && g.n_rels >= 2 && r < g.n_rels;
    if (ok && !(relmap = pl_malloc(sizeof *relmap * (size_t)PL_MAX(g.n_cols, 1)))) {
        st = nomem(err);
        ok = false;
    }
    if (ok) {
        jo_rel *rel = &g.rels[r];
        for (int32_t i = 0; i < g.n_cols; i++)
            relmap[i] = i >= rel->off && i < rel->off + rel->n ? i - rel->off : -1;
        for (int32_t i = 0; !st && i < d->n_keys; i++) {
            pl_expr *x = pl_expr_remap(d->keys[i], map);
            lk[i] = x ? pl_expr_remap(x, relmap) : NULL;
            pl_expr_release(x);
            if (!lk[i]) st = nomem(err);
        }
        pl_df *base = *rel->slot, *right = d->inputs[1], *j = NULL;
        pl_join_opts jo = {false, NULL, d->key_ne, d->asof_cmp};
        if (!st) st = pl_df_join(base, right, d->join_type, d->n_keys, lk, d->right_keys, &jo, &j, err);
        if (!st) {
            /* rows: at most the relation's; an IN list of k keys keeps about k of them */
            int64_t el = base->est_rows, er = right->est_rows;
            j->est_rows = el < 0 ? er : er < 0 || d->join_type == PL_JOIN_ANTI ? el : PL_MIN(el, er);
            j->build_left = false;
            *rel->slot = j;
            pl_df_release(base);
            *slot = pl_df_retain(left);
            pl_df_release(d);
        }
    }
    for (int32_t i = 0; lk && i < nk; i++) pl_expr_release(lk[i]);
    pl_free(lk);
    pl_free(map);
    pl_free(relmap);
    region_free(&g);
    return st;
}

/* push_semi over the whole tree, innermost first (stacked IN subqueries move one by one) */
static pl_status push_semis(pl_df **slot, pl_error *err) {
    pl_df *d = *slot;
    for (int32_t i = 0; i < d->n_inputs; i++) PL_TRY(push_semis(&d->inputs[i], err));
    return push_semi(slot, err);
}

/* ---------------------------------------------------------------- semi-join reduction
 * A grouped aggregate joined on its group keys (a decorrelated scalar subquery: TPC-H Q2, Q17,
 * Q20) produces a group for every key of its whole input, while the join keeps only the groups
 * whose key the other side has. When that side's key column comes, through inner joins and
 * plain projections, from a filtered relation S much smaller than the aggregate's input, the
 * input is first semi-joined with (a copy of) S on the key: whole groups are dropped (all rows
 * of a group share its key), the groups left are unchanged, and every row of the other side
 * still finds its group because its key is one of S's. DuckDB does the same with its "delim
 * join" (it restricts the subquery to the outer keys). Inner joins (either side) and left joins
 * (the aggregate on the right) qualify; the join's NULL-matching flags carry over. */

#define JO_REDUCE_MIN_ROWS 10000.0  /* aggregate inputs smaller than this are left alone */
#define JO_REDUCE_FACTOR 8.0        /* S at most this many times smaller than the input */

/* When d is an inner join whose output is its inputs' columns side by side: *d becomes the
 * input holding output column *col, *col its index there. */
static bool into_inner_side(pl_df **d, int32_t *col) {
    pl_df *j = *d;
    if (!is_inner(j)) return false;
    int32_t nl = j->inputs[0]->schema->n_fields;
    if (j->schema->n_fields != nl + j->inputs[1]->schema->n_fields) return false;
    if (*col < nl) {
        *d = j->inputs[0];
    } else {
        *col -= nl;
        *d = j->inputs[1];
    }
    return true;
}

/* Follows output column *col of d down through inner joins and plain-column projections to
 * the relation providing it; returns that node, *col its column there. */
static pl_df *key_source(pl_df *d, int32_t *col) {
    for (;;) {
        if (into_inner_side(&d, col)) continue;
        if (d->kind != PL_PLAN_PROJECT || d->exprs[*col]->kind != PL_EXPR_COLUMN ||
            d->exprs[*col]->index < 0)
            return d;
        *col = d->exprs[*col]->index;
        d = d->inputs[0];
    }
}

/* Follows output column *col of d down through filters, inner joins and plain-column
 * projections to a grouped aggregate whose group key it is; returns the aggregate, or NULL.
 * (Each row on the way comes from one aggregate row: dropping a group drops only rows whose
 * key the reduced join would not match.) */
static pl_df *group_source(pl_df *d, int32_t *col) {
    for (;;) {
        if (is_inner(d)) {
            if (!into_inner_side(&d, col)) return NULL;
        } else if (d->kind == PL_PLAN_FILTER) {
            d = d->inputs[0];
        } else if (d->kind == PL_PLAN_PROJECT && d->exprs[*col]->kind == PL_EXPR_COLUMN &&
                   d->exprs[*col]->index >= 0) {
            *col = d->exprs[*col]->index;
            d = d->inputs[0];
        } else {
            return d->kind == PL_PLAN_AGGREGATE && d->n_keys > 0 && *col < d->n_keys ? d : NULL;
        }
    }
}

/* Whether relation s is restricted by a condition of its own (a filter, a filtered scan, a
 * semi join), seen through projections. */
static bool restricted(const pl_df *s) {
    while (s->kind == PL_PLAN_PROJECT) s = s->inputs[0];
    return s->kind == PL_PLAN_FILTER || (s->kind == PL_PLAN_SCAN && s->scan_filter) ||
           (s->kind == PL_PLAN_JOIN && s->join_type == PL_JOIN_SEMI);
}

/* Whether every expression in plan d is deterministic, so that a copy of it gives the same rows
 * (a volatile filter in the copy would keep other keys). */
static bool plan_deterministic(const pl_df *d) {
    if (!pl_expr_is_deterministic(d->pred) || !pl_expr_is_deterministic(d->scan_filter) ||
        !pl_expr_is_deterministic(d->residual))
        return false;
    for (int32_t i = 0; i < d->n_exprs; i++)
        if (!pl_expr_is_deterministic(d->exprs[i])) return false;
    for (int32_t i = 0; i < d->n_keys; i++)
        if ((d->keys && !pl_expr_is_deterministic(d->keys[i])) ||
            (d->right_keys && !pl_expr_is_deterministic(d->right_keys[i])) ||
            (d->sort_keys && !pl_expr_is_deterministic(d->sort_keys[i].expr)))
            return false;
    for (int32_t i = 0; i < d->n_inputs; i++)
        if (!plan_deterministic(d->inputs[i])) return false;
    return true;
}

/* Estimated rows of d (rel_rows), -1 when nothing is known of its base; a semi join keeps at
 * most the rows of its left input and about as many as its right one has (an IN list of k
 * keys keeps about k rows). */
static double est_rows(const pl_df *d) {
    while (d->kind == PL_PLAN_PROJECT) d = d->inputs[0];
    if (d->kind == PL_PLAN_JOIN && d->join_type == PL_JOIN_SEMI) {
        double l = est_rows(d->inputs[0]), r = est_rows(d->inputs[1]);
        return l < 0 || r < 0 ? -1 : PL_MIN(l, r);
    }
    const pl_df *base = d;
    while (base->kind == PL_PLAN_PROJECT || base->kind == PL_PLAN_FILTER) base = base->inputs[0];
    if (base->est_rows < 0 && !(base->kind == PL_PLAN_SCAN && base->format == PL_FORMAT_PARQUET))
        return -1;
    double *ndv = pl_malloc(sizeof *ndv * (size_t)PL_MAX(d->schema->n_fields, 1));
    if (!ndv) return -1;
    double r = rel_rows(d, ndv);
    pl_free(ndv);
    return r;
}

/* The reduction of join d with the aggregate on side `agg_side` (0 left, 1 right): of the
 * relations its other side's keys come from, the restricted one with the fewest rows. */
static pl_status reduce_side(pl_df *d, int agg_side, pl_error *err) {
    pl_df *other = d->inputs[1 - agg_side], *aggside = d->inputs[agg_side], *agg = NULL, *src = NULL;
    pl_expr *const *okeys = agg_side ? d->keys : d->right_keys;
    pl_expr *const *akeys = agg_side ? d->right_keys : d->keys;
    int32_t nk = d->n_keys, n = 0;
    pl_df **srcs = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *srcs);
    int32_t *scol = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *scol);
    int32_t *gcol = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *gcol);
    bool *ne = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *ne);
    pl_status st = srcs && scol && gcol && ne ? PL_OK : nomem(err);
    double ins = -1, srows = -1;
    for (int32_t i = 0; !st && i < nk; i++) {
        if (okeys[i]->kind != PL_EXPR_COLUMN || akeys[i]->kind != PL_EXPR_COLUMN ||
            okeys[i]->index < 0 || akeys[i]->index < 0)
            continue;
        int32_t oc = okeys[i]->index, ac = akeys[i]->index;
        pl_df *a = group_source(aggside, &ac);
        if (!a || (agg && a != agg)) continue;
        agg = a;
        srcs[i] = key_source(other, &oc);
        scol[i] = oc, gcol[i] = ac;
        if (!restricted(srcs[i]) || srcs[i] == src || !plan_deterministic(srcs[i])) continue;
        double r = est_rows(srcs[i]);
        if (r >= 0 && (!src || r < srows)) src = srcs[i], srows = r;
    }
    if (src) ins = est_rows(agg->inputs[0]);
    if (!st && src && ins >= JO_REDUCE_MIN_ROWS && srows * JO_REDUCE_FACTOR <= ins) {
        pl_df *copy = NULL, *j = NULL;
        pl_expr **lk = pl_calloc((size_t)nk, sizeof *lk), **rk = pl_calloc((size_t)nk, sizeof *rk);
        if (!lk || !rk) st = nomem(err);
        for (int32_t i = 0; !st && i < nk; i++) {
            if (srcs[i] != src) continue;
            lk[n] = pl_expr_retain(agg->keys[gcol[i]]);
            rk[n] = pl_expr_col_index(scol[i], src->schema->fields[scol[i]].name);
            ne[n] = d->key_ne && d->key_ne[i];
            if (!rk[n++]) st = nomem(err);
        }
        if (!st) st = pl_plan_deep_copy(src, &copy, err);
        pl_join_opts jo = {false, NULL, ne, PL_ASOF_GE};
        if (!st) st = pl_df_join(agg->inputs[0], copy, PL_JOIN_SEMI, n, lk, rk, &jo, &j, err);
        if (!st) {
            j->est_rows = (int64_t)PL_MIN(ins, srows * 4 + 1);
            j->build_left = false;
            pl_df_release(agg->inputs[0]);
            agg->inputs[0] = j;
            st = push_semi(&agg->inputs[0], err); /* onto the relation of a join's input */
        }
        if (copy) pl_df_release(copy);
        for (int32_t i = 0; i < n; i++) {
            pl_expr_release(lk[i]);
            pl_expr_release(rk[i]);
        }
        pl_free(lk);
        pl_free(rk);
    }
    pl_free(srcs);
    pl_free(scol);
    pl_free(gcol);
    pl_free(ne);
    return st;
}

static pl_status reduce_groups(pl_df *d, pl_error *err) {
    for (int32_t i = 0; i < d->n_inputs; i++) PL_TRY(reduce_groups(d->inputs[i], err));
    if (d->kind != PL_PLAN_JOIN || d->n_keys == 0) return PL_OK;
    if (d->join_type == PL_JOIN_INNER) {
        PL_TRY(reduce_side(d, 1, err));
        return reduce_side(d, 0, err);
    }
    return d->join_type == PL_JOIN_LEFT ? reduce_side(d, 1, err) : PL_OK;
}

/* ---------------------------------------------------------------- semi/anti build sides
 * A semi or anti join hashes its right input by default. When the left one is estimated at
 * least JO_SEMI_BUILD_LEFT times smaller (TPC-H Q4: 57 k orders EXISTS among 3.8 M lineitems;
 * Q21), the left input is hashed instead and the right one probes it, marking the matched
 * rows, which (or the others, for an anti join) are emitted at the end. */
#define JO_SEMI_BUILD_LEFT 4.0

static void semi_build_sides(pl_df *d) {
    for (int32_t i = 0; i < d->n_inputs; i++) semi_build_sides(d->inputs[i]);
    if (d->kind != PL_PLAN_JOIN || d->n_keys == 0 ||
        (d->join_type != PL_JOIN_SEMI && d->join_type != PL_JOIN_ANTI))
        return;
    double l = est_rows(d->inputs[0]), r = est_rows(d->inputs[1]);
    d->build_left = l >= 0 && r >= 0 && l * JO_SEMI_BUILD_LEFT <= r;
}

pl_status pl_plan_join_order(pl_df **slot, pl_error *err) {
    PL_TRY(push_semis(slot, err));
    PL_TRY(order_slot(slot, err));
    PL_TRY(reduce_groups(*slot, err));
    semi_build_sides(*slot);
    return PL_OK;
}
