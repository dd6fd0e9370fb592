/* physical.c - turns an (optimized) logical plan into pipelines of operators and returns the
 * result stream. Each plan node either appends a streaming operator to its input's pipeline
 * (filter, project, join probe) or ends it in a sink whose output becomes the source of a new
 * pipeline (aggregate, sort, window, distinct, join build side). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_core.h"
#include "io/io_int.h"
#include "plan/plan.h"

/* A scan's pushed filter evaluated inside a Parquet scan (late materialisation); owned by the
 * query (freed after its streams), counting the rows that pass for EXPLAIN ANALYZE. */
typedef struct scan_pred_state {
    pl_bexpr *pred;
    pl_exec_ctx *ctx;
    int64_t rows, time_ns;
    struct scan_pred_state *next;
} scan_pred_state;

typedef struct phys {
    pl_exec_ctx *ctx;
    scan_pred_state *preds;
    pl_node_stats *stats;
    int32_t n_stats, cap_stats;
    /* a WINDOW node under a filter that keeps rank/row_number <= topk_k: compile_window adds a
     * top-k pre-filter (window_topk_bound) */
    const pl_df *topk_win;
    int32_t topk_k;
} phys;

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning a query"); }

static void add_stats(phys *ph, const pl_df *node, int64_t *rows, int64_t *time_ns) {
    if (ph->n_stats == ph->cap_stats) {
        int32_t cap = ph->cap_stats ? ph->cap_stats * 2 : 16;
        pl_node_stats *s = pl_realloc(ph->stats, sizeof *s * (size_t)cap);
        if (!s) return; /* stats are best effort */
        ph->stats = s;
        ph->cap_stats = cap;
    }
    ph->stats[ph->n_stats++] = (pl_node_stats){node, rows, time_ns};
}

static pl_status compile(phys *ph, pl_df *d, pl_pipeline **out, pl_error *err);

/* Binds e over schema `in` (as the logical schema). */
static pl_status bind(const pl_expr *e, const pl_schema *in, pl_bexpr **out, pl_error *err) {
    pl_schema *ls = NULL;
    PL_TRY(pl_plan_logical_schema(in, &ls, err));
    pl_status st = pl_expr_bind(e, ls, out, err);
    pl_schema_release(ls);
    if (!st) st = pl_bexpr_fold(out, err);
    if (st && err && err->sql_pos < 0) err->sql_pos = e->sql_pos;
    return st;
}

/* ---------------------------------------------------------------- projections */

/* A list of expressions evaluated by one project op, deduplicated. */
typedef struct proj_list {
    pl_expr **exprs;
    int32_t n, cap;
} proj_list;

static void proj_free(proj_list *p) {
    for (int32_t i = 0; i < p->n; i++) pl_expr_release(p->exprs[i]);
    pl_free(p->exprs);
}

/* Index of e in the list (added if new). -1 on out of memory. */
static int32_t proj_add(proj_list *p, pl_expr *e) {
    for (int32_t i = 0; i < p->n; i++)
        if (pl_expr_equals(p->exprs[i], e)) return i;
    if (p->n == p->cap) {
        int32_t cap = p->cap ? p->cap * 2 : 8;
        pl_expr **v = pl_realloc(p->exprs, sizeof *v * (size_t)cap);
        if (!v) return -1;
        p->exprs = v;
        p->cap = cap;
    }
    p->exprs[p->n] = pl_expr_retain(e);
    return p->n++;
}

/* Adds references to columns [first, first+n) of `names` (for their names), as columns
 * src0, src0+1, ... of the input. */
static pl_status proj_add_cols(proj_list *p, const pl_schema *names, int32_t first, int32_t n,
                               int32_t src0, pl_error *err) {
    for (int32_t i = 0; i < n; i++) {
        pl_expr *c = pl_expr_col_index(src0 + i, names->fields[first + i].name);
        int32_t at = c ? proj_add(p, c) : -1;
        pl_expr_release(c);
        if (at < 0) return nomem(err);
    }
    return PL_OK;
}

/* Index of key expression e in the list, over input schema in: a list, struct or map key is
 * added as its order-preserving binary key __sortkey(e) (compute/sort_key.c), which the sort,
 * aggregation and window sinks order, group and partition by. -1 on out of memory; *nested
 * tells whether e was wrapped. */
static int32_t proj_add_key(proj_list *p, pl_expr *e, const pl_schema *in, bool *nested,
                            pl_status *st, pl_error *err) {
    pl_type *t = NULL;
    if (nested) *nested = false;
    *st = pl_plan_expr_type(e, in, &t, NULL, err);
    if (*st) return -1;
    pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
    pl_type_release(t);
    if (id != PL_TYPE_LIST && id != PL_TYPE_STRUCT && id != PL_TYPE_MAP) {
        int32_t at = proj_add(p, e);
        if (at < 0) *st = nomem(err);
        return at;
    }
    pl_expr *k = pl_expr_call1("__sortkey", pl_expr_retain(e));
    int32_t at = k ? proj_add(p, k) : -1;
    pl_expr_release(k);
    if (at < 0) *st = nomem(err);
    if (nested) *nested = true;
    return at;
}

/* Appends a project op computing list over the pipeline's current schema; the new columns are
 * named c0, c1, ... When every expression is the plain column of its position, nothing is
 * added. */
static pl_status add_project(phys *ph, pl_pipeline *p, proj_list *list, const pl_schema *names,
                             pl_error *err) {
    pl_schema *in = pl_pipeline_schema(p);
    bool identity = list->n == in->n_fields;
    for (int32_t i = 0; i < list->n && identity; i++)
        identity = list->exprs[i]->kind == PL_EXPR_COLUMN && list->exprs[i]->index == i;
    if (identity && !names) return PL_OK;
    int32_t n = list->n;
    pl_bexpr **b = pl_calloc((size_t)PL_MAX(n, 1), sizeof *b);
    pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
    pl_status st = (!b || !f) ? nomem(err) : PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        pl_type *t = NULL;
        bool nullable = true;
        st = pl_plan_expr_type(list->exprs[i], in, &t, &nullable, err);
        if (!st) st = bind(list->exprs[i], in, &b[i], err);
        char nm[32];
        snprintf(nm, sizeof nm, "c%d", i);
        if (!st) {
            if (names) {
                /* the node's own schema gives names and types (casts where it differs) */
                pl_type *want = names->fields[i].type;
                if (!pl_type_equals(t, want) && !(t->id == PL_TYPE_DICTIONARY && pl_type_equals(t->value_type, want)))
                    st = pl_bexpr_wrap_cast(&b[i], want, err);
                if (!st) st = pl_field_init(&f[i], names->fields[i].name, want, names->fields[i].nullable, err);
            } else {
                st = pl_field_init(&f[i], nm, t, nullable, err);
            }
        }
        pl_type_release(t);
    }
    pl_schema *s = NULL;
    if (!st) st = pl_schema_new(n, f, &s, err);
    for (int32_t i = 0; i < n && f; i++) pl_field_reset(&f[i]);
    pl_free(f);
    if (st) {
        for (int32_t i = 0; i < n && b; i++) pl_bexpr_free(b[i]);
        pl_free(b);
        return st;
    }
    pl_op *op = NULL;
    st = pl_project_op_new(ph->ctx, s, n, b, &op, err);
    pl_schema_release(s);
    if (!st) st = pl_pipeline_add_op(p, op, err);
    return st;
}

/* Ends pipeline p in sink and starts a new pipeline over the sink's output. */
static pl_status break_pipeline(phys *ph, pl_pipeline **p, pl_sink *sink, pl_schema *schema,
                                pl_error *err) {
    pl_stream *s = NULL;
    PL_TRY(pl_breaker_stream(ph->ctx, *p, sink, schema, &s, err));
    *p = NULL;
    return pl_pipeline_new(s, p, err);
}

/* ---------------------------------------------------------------- scan */

static pl_status new_stream(void *impl, pl_schema *schema,
                            pl_status (*next)(pl_stream *, pl_batch **, pl_error *),
                            void (*fr)(pl_stream *), pl_stream **out, pl_error *err);
static pl_status concat_streams(pl_stream **ins, int32_t n, pl_schema *schema, pl_stream **out,
                                pl_error *err);
pl_status pl_plan_prune_row_groups(const pl_df *scan, int32_t **rgs, int32_t *n_rgs,
                                   pl_error *err);

static void free_preds(phys *ph) {
    while (ph->preds) {
        scan_pred_state *p = ph->preds;
        ph->preds = p->next;
        pl_bexpr_free(p->pred);
        pl_free(p);
    }
}

static pl_status scan_pred_values(void *arg, pl_batch *in, int32_t **sel, int64_t *n_sel,
                                  pl_error *err) {
    scan_pred_state *p = arg;
    int64_t t0 = pl_now_ns();
    PL_TRY(pl_exec_check(p->ctx, err));
    PL_TRY(pl_bexpr_eval_filter(&p->ctx->eval, p->pred, in, sel, n_sel, err));
    __atomic_add_fetch(&p->time_ns, pl_now_ns() - t0, __ATOMIC_RELAXED);
    return PL_OK;
}

static void scan_pred_passed(void *arg, int64_t n) {
    scan_pred_state *p = arg;
    __atomic_add_fetch(&p->rows, n, __ATOMIC_RELAXED);
}

static pl_status scan_pred_eval(void *arg, pl_batch *in, int32_t **sel, int64_t *n_sel,
                                pl_error *err) {
    PL_TRY(scan_pred_values(arg, in, sel, n_sel, err));
    scan_pred_passed(arg, *n_sel);
    return PL_OK;
}

/* The scan's filter as a predicate its Parquet scan evaluates (columns cols[0..n) of the
 * scan's output, bound over just those columns). *out NULL when the filter stays an operator:
 * other formats, or a filter column whose scanned type is not the plan's. */
static pl_status scan_pred_new(phys *ph, pl_df *d, pl_scan_pred *sp, scan_pred_state **out,
                               pl_error *err) {
    *out = NULL;
    /* (a scan limit counts rows before the filter: the filter stays an operator then) */
    if (!d->scan_filter || d->format != PL_FORMAT_PARQUET || d->scan_limit >= 0) return PL_OK;
    int32_t nf = d->schema->n_fields;
    bool *used = pl_calloc((size_t)PL_MAX(nf, 1), sizeof *used);
    int32_t *map = pl_malloc(sizeof *map * (size_t)PL_MAX(nf, 1));
    int32_t *cols = pl_malloc(sizeof *cols * (size_t)PL_MAX(nf, 1));
    pl_field *f = pl_calloc((size_t)PL_MAX(nf, 1), sizeof *f);
    pl_status st = (!used || !map || !cols || !f) ? nomem(err) : PL_OK;
    int32_t n = 0;
    bool ok = !st;
    if (ok) pl_expr_mark_columns(d->scan_filter, used, nf);
    for (int32_t i = 0; i < nf && ok; i++) {
        map[i] = -1;
        if (!used[i]) continue;
        const pl_field *ff = &d->file_schema->fields[d->n_cols >= 0 ? d->cols[i] : i];
        if (!pl_type_equals(ff->type, d->schema->fields[i].type)) ok = false;
        map[i] = n;
        cols[n] = i;
        f[n++] = d->schema->fields[i];
    }
    if (n == 0) ok = false;
    pl_schema *sub = NULL;
    pl_expr *e = NULL;
    pl_bexpr *b = NULL;
    if (ok) st = pl_schema_new(n, f, &sub, err);
    if (ok && !st && !(e = pl_expr_remap(d->scan_filter, map))) st = nomem(err);
    if (ok && !st) st = bind(e, sub, &b, err);
    scan_pred_state *p = NULL;
    if (ok && !st && !(p = pl_calloc(1, sizeof *p))) st = nomem(err);
    if (ok && !st) {
        p->pred = b;
        b = NULL;
        p->ctx = ph->ctx;
        p->next = ph->preds;
        ph->preds = p;
        sp->n_cols = n;
        sp->cols = cols;
        cols = NULL;
        sp->eval = scan_pred_eval;
        sp->arg = p;
        sp->skip = d->scan_fonly;
        if (n == 1 && pl_bexpr_cannot_fail(p->pred)) {
            sp->eval_values = scan_pred_values;
            sp->passed = scan_pred_passed;
        }
        *out = p;
    }
    pl_bexpr_free(b);
    pl_expr_release(e);
    pl_schema_release(sub);
    pl_free(used);
    pl_free(map);
    pl_free(cols);
    pl_free(f);
    return st;
}

/* Opens files [first, first+n) of the scan, reading only row groups rgs when set; pred (may be
 * NULL) is evaluated in the scan. */
static pl_status open_files(phys *ph, pl_df *d, int32_t first, int32_t n, const int32_t *rgs,
                            int32_t n_rgs, const pl_scan_pred *pred, bool decode_dict,
                            pl_stream **out, pl_error *err) {
    pl_read_opts ro = d->read_opts;
    if (decode_dict) ro.decode_dictionary = true;
    const char **cols = NULL;
    if (d->n_cols >= 0) {
        cols = pl_calloc((size_t)PL_MAX(d->n_cols, 1), sizeof *cols);
        if (!cols) return nomem(err);
        for (int32_t i = 0; i < d->n_cols; i++) cols[i] = d->file_schema->fields[d->cols[i]].name;
        ro.columns = cols;
        ro.n_columns = d->n_cols;
    }
    ro.limit = d->scan_limit;
    ro.n_threads = ph->ctx->n_threads;
    if (rgs) {
        ro.row_groups = rgs;
        ro.n_row_groups = n_rgs;
    }
    pl_status st = pred ? pl_scan_open_pred(n, (const char *const *)d->paths + first, d->format,
                                            &ro, pred, out, err)
                        : pl_scan_open(n, (const char *const *)d->paths + first, d->format, &ro,
                                       out, err);
    pl_free(cols);
    return st;
}

static pl_status compile_scan(phys *ph, pl_df *d, pl_pipeline **out, pl_error *err) {
    int32_t np = d->n_paths;
    int32_t **rgs = pl_calloc((size_t)PL_MAX(np, 1), sizeof *rgs);
    int32_t *n_rgs = pl_calloc((size_t)PL_MAX(np, 1), sizeof *n_rgs);
    pl_stream **parts = pl_calloc((size_t)PL_MAX(np, 1), sizeof *parts);
    int32_t n_parts = 0;
    pl_status st = (!rgs || !n_rgs || !parts) ? nomem(err) : PL_OK;
    pl_scan_pred sp = {0};
    scan_pred_state *pst = NULL;
    if (!st) st = scan_pred_new(ph, d, &sp, &pst, err);
    const pl_scan_pred *pred = pst ? &sp : NULL;
    if (!st) st = pl_plan_prune_row_groups(d, rgs, n_rgs, err);
    /* consecutive unpruned files share one scan; pruned files get their own. Each scan keeps
     * a column dictionary-encoded only when all its files allow it: when the scans' schemas
     * differ that way, every scan decodes dictionaries (one stream, one schema). */
    for (int32_t pass = 0; pass < 2 && !st; pass++) {
        for (int32_t i = 0; i < np && !st;) {
            if (n_rgs[i] == 0) {
                i++;
                continue;
            }
            if (n_rgs[i] > 0) {
                st = open_files(ph, d, i, 1, rgs[i], n_rgs[i], pred, pass > 0,
                                &parts[n_parts++], err);
                i++;
                continue;
            }
            int32_t j = i;
            while (j < np && n_rgs[j] < 0) j++;
            st = open_files(ph, d, i, j - i, NULL, 0, pred, pass > 0, &parts[n_parts++], err);
            i = j;
        }
        bool same = true;
        for (int32_t i = 1; i < n_parts && !st && same; i++)
            same = pl_schema_equals(parts[i]->schema, parts[0]->schema);
        if (st || same) break;
        for (int32_t i = 0; i < n_parts; i++) pl_stream_free(parts[i]);
        n_parts = 0;
    }
    for (int32_t i = 0; i < np && rgs; i++) pl_free(rgs[i]);
    pl_free(rgs);
    pl_free(n_rgs);
    pl_free((void *)sp.cols);
    pl_stream *s = NULL;
    if (!st && n_parts == 1) {
        s = parts[0];
        n_parts = 0;
    } else if (!st) {
        pl_schema *ss = n_parts ? parts[0]->schema : NULL;
        if (!ss) {
            /* every row group pruned: an empty result of the scan's own schema */
            pl_table *t = NULL;
            pl_schema *fs = NULL;
            int32_t k = d->n_cols >= 0 ? d->n_cols : d->file_schema->n_fields;
            pl_field *f = pl_calloc((size_t)PL_MAX(k, 1), sizeof *f);
            if (!f) st = nomem(err);
            for (int32_t i = 0; i < k && !st; i++) f[i] = d->file_schema->fields[d->n_cols >= 0 ? d->cols[i] : i];
            if (!st) st = pl_schema_new(k, f, &fs, err);
            pl_free(f);
            if (!st) st = pl_table_new(fs, &t, err);
            if (!st) st = pl_stream_from_table(t, &s, err);
            pl_table_release(t);
            pl_schema_release(fs);
        } else {
            st = concat_streams(parts, n_parts, ss, &s, err);
            if (!st) n_parts = 0;
        }
    }
    for (int32_t i = 0; i < n_parts; i++) pl_stream_free(parts[i]);
    pl_free(parts);
    PL_TRY(st);
    pl_pipeline *p = NULL;
    PL_TRY(pl_pipeline_new(s, &p, err));
    if (!pl_schema_equals(p->source->schema, d->schema)) {
        /* names/types as the plan expects (the scan keeps the files' names) */
        proj_list pl = {0};
        if (!st) st = proj_add_cols(&pl, d->schema, 0, d->schema->n_fields, 0, err);
        if (!st) st = add_project(ph, p, &pl, d->schema, err);
        proj_free(&pl);
    }
    if (!st && pst) {
        add_stats(ph, d, &pst->rows, &pst->time_ns);
    } else if (!st && d->scan_filter) {
        pl_bexpr *b = NULL;
        pl_op *op = NULL;
        st = bind(d->scan_filter, d->schema, &b, err);
        if (!st) st = pl_filter_op_new(ph->ctx, d->schema, b, &op, err);
        if (!st) {
            st = pl_pipeline_add_op(p, op, err);
            add_stats(ph, d, &op->rows_out, &op->time_ns);
        }
    }
    if (st) {
        pl_pipeline_free(p);
        return st;
    }
    *out = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- limit / union streams */

typedef struct limit_stream {
    pl_stream *in;
    int64_t skip, left; /* left < 0: unlimited */
    int64_t rows;
} limit_stream;

static pl_status limit_next(pl_stream *s, pl_batch **out, pl_error *err) {
    limit_stream *ls = s->impl;
    *out = NULL;
    while (ls->left != 0) {
        pl_batch *b = NULL;
        PL_TRY(pl_stream_next(ls->in, &b, err));
        if (!b) return PL_OK;
        int64_t off = PL_MIN(ls->skip, b->n_rows);
        ls->skip -= off;
        int64_t n = b->n_rows - off;
        if (ls->left >= 0) n = PL_MIN(n, ls->left);
        if (n <= 0) {
            pl_batch_release(b);
            continue;
        }
        pl_batch *r = b;
        if (off > 0 || n < b->n_rows) {
            pl_status st = pl_batch_slice(b, off, n, &r, err);
            pl_batch_release(b);
            PL_TRY(st);
        }
        if (ls->left > 0) ls->left -= n;
        ls->rows += n;
        *out = r;
        return PL_OK;
    }
    return PL_OK;
}

static void limit_free(pl_stream *s) {
    limit_stream *ls = s->impl;
    pl_stream_free(ls->in);
    pl_schema_release(s->schema);
    pl_free(ls);
    pl_free(s);
}

typedef struct concat_stream {
    pl_stream **ins;
    int32_t n, cur;
    bool keep_finished; /* inputs stay until the stream is freed (EXPLAIN ANALYZE's counters) */
} concat_stream;

static pl_status concat_next(pl_stream *s, pl_batch **out, pl_error *err) {
    concat_stream *cs = s->impl;
    *out = NULL;
    while (cs->cur < cs->n) {
        pl_batch *b = NULL;
        PL_TRY(pl_stream_next(cs->ins[cs->cur], &b, err));
        if (b) {
            pl_status st = pl_batch_with_schema(b, s->schema, out, err);
            pl_batch_release(b);
            return st;
        }
        if (!cs->keep_finished) {
            pl_stream_free(cs->ins[cs->cur]);
            cs->ins[cs->cur] = NULL;
        }
        cs->cur++;
    }
    return PL_OK;
}

static void concat_free(pl_stream *s) {
    concat_stream *cs = s->impl;
    for (int32_t i = 0; i < cs->n; i++) pl_stream_free(cs->ins[i]);
    pl_free(cs->ins);
    pl_schema_release(s->schema);
    pl_free(cs);
    pl_free(s);
}

/* Takes ins[0..n) (the vector is copied). */
static pl_status concat_streams(pl_stream **ins, int32_t n, pl_schema *schema, pl_stream **out,
                                pl_error *err) {
    concat_stream *cs = pl_calloc(1, sizeof *cs);
    pl_stream **v = pl_calloc((size_t)PL_MAX(n, 1), sizeof *v);
    if (!cs || !v) {
        pl_free(cs);
        pl_free(v);
        return nomem(err);
    }
    for (int32_t i = 0; i < n; i++) v[i] = ins[i];
    cs->ins = v;
    cs->n = n;
    pl_status st = new_stream(cs, schema, concat_next, concat_free, out, err);
    if (st) {
        pl_free(v);
        pl_free(cs);
    }
    return st;
}

static pl_status new_stream(void *impl, pl_schema *schema,
                            pl_status (*next)(pl_stream *, pl_batch **, pl_error *),
                            void (*fr)(pl_stream *), pl_stream **out, pl_error *err) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    if (!s) return nomem(err);
    s->impl = impl;
    s->schema = pl_schema_retain(schema);
    s->next = next;
    s->free = fr;
    *out = s;
    return PL_OK;
}

/* ---------------------------------------------------------------- aggregate */

/* An aggregation of node d (its output schema, statistics) with keys[0..n_keys) and aggregate
 * calls aggs[0..n_aggs) over pipeline p's columns. A list, struct or map key groups by its
 * binary sort key (__sortkey) and its value comes out of a hidden first() of the key per group
 * (the keys' bytes are equal exactly when the values are), put back in the key's place by a
 * projection after the sink. */
static pl_status compile_agg_over(phys *ph, pl_df *d, int32_t n_keys, pl_expr **key_exprs,
                                  int32_t n_aggs, pl_expr **aggs, pl_pipeline *p,
                                  pl_pipeline **out, pl_error *err) {
    proj_list pl = {0};
    pl_status st = PL_OK;
    int32_t n_specs = n_aggs + n_keys; /* room for a hidden first() per nested key */
    int32_t *keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof *keys);
    int32_t *key_from = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof *key_from); /* spec or -1 */
    pl_agg_spec *specs = pl_calloc((size_t)PL_MAX(n_specs, 1), sizeof *specs);
    if (!keys || !key_from || !specs) st = nomem(err);
    int32_t n_nested = 0;
    for (int32_t i = 0; i < n_keys && !st; i++) {
        bool nested = false;
        key_from[i] = -1;
        keys[i] = proj_add_key(&pl, key_exprs[i], pl_pipeline_schema(p), &nested, &st, err);
        if (!st && nested) {
            pl_agg_spec *s = &specs[n_aggs + n_nested];
            s->name = "first";
            s->n_args = 1;
            s->filter_col = -1;
            s->result_type = d->schema->fields[i].type;
            if ((s->args[0] = proj_add(&pl, key_exprs[i])) < 0) st = nomem(err);
            key_from[i] = n_aggs + n_nested++;
        }
    }
    for (int32_t a = 0; a < n_aggs && !st; a++) {
        pl_expr *e = aggs[a];
        pl_agg_spec *s = &specs[a];
        s->name = pl_agg_canonical(e->name) ? pl_agg_canonical(e->name) : e->name;
        s->n_args = PL_MIN(e->n_args, 4);
        s->distinct = e->distinct;
        s->filter_col = -1;
        s->result_type = d->schema->fields[n_keys + a].type;
        /* the aggregated values are columns even when constant (count(1), sum(2.5)): the
         * sink takes literals only as parameters (fractions, separators) */
        int32_t n_values = 1;
        if (!strcmp(s->name, "arg_min") || !strcmp(s->name, "arg_max") || !strcmp(s->name, "covar_pop") ||
            !strcmp(s->name, "covar_samp") || !strcmp(s->name, "corr"))
            n_values = 2;
        for (int32_t k = 0; k < s->n_args && !st; k++) {
            if (e->args[k]->kind == PL_EXPR_LITERAL && k >= n_values) {
                s->args[k] = -1;
                st = pl_value_copy(&e->args[k]->value, &s->consts[k], err);
            } else if ((s->args[k] = proj_add(&pl, e->args[k])) < 0) {
                st = nomem(err);
            }
        }
        if (!st && e->filter && (s->filter_col = proj_add(&pl, e->filter)) < 0) st = nomem(err);
        s->n_order = PL_MIN(e->n_order, 4);
        for (int32_t k = 0; k < s->n_order && !st; k++) {
            if ((s->order_cols[k] = proj_add(&pl, e->order[k].expr)) < 0) st = nomem(err);
            s->order_desc[k] = e->order[k].descending;
            s->order_nulls_first[k] = e->order[k].nulls_first;
        }
    }
    if (!st) st = add_project(ph, p, &pl, NULL, err);
    /* the sink's output: nested keys as their binary keys, the hidden first() values last */
    pl_schema *sout = NULL;
    if (!st && n_nested == 0) {
        sout = pl_schema_retain(d->schema);
    } else if (!st) {
        int32_t nf = n_keys + n_aggs + n_nested;
        pl_field *f = pl_calloc((size_t)nf, sizeof *f);
        if (!f) st = nomem(err);
        for (int32_t i = 0; i < n_keys + n_aggs && !st; i++) {
            const pl_field *src = &d->schema->fields[i];
            bool bin = i < n_keys && key_from[i] >= 0;
            st = pl_field_init(&f[i], src->name, bin ? pl_type_simple(PL_TYPE_BINARY) : src->type,
                               src->nullable, err);
        }
        for (int32_t i = 0; i < n_keys && !st; i++)
            if (key_from[i] >= 0)
                st = pl_field_init(&f[n_keys + key_from[i]], d->schema->fields[i].name,
                                   d->schema->fields[i].type, true, err);
        if (!st) st = pl_schema_new(nf, f, &sout, err);
        for (int32_t i = 0; f && i < nf; i++) pl_field_reset(&f[i]);
        pl_free(f);
    }
    pl_sink *sink = NULL;
    if (!st)
        st = pl_agg_sink_new(ph->ctx, pl_pipeline_schema(p), n_keys, keys, n_aggs + n_nested,
                             specs, sout, &sink, err);
    for (int32_t a = 0; a < n_specs && specs; a++)
        for (int32_t k = 0; k < 4; k++) pl_value_reset(&specs[a].consts[k]);
    pl_free(specs);
    pl_free(keys);
    proj_free(&pl);
    if (st) {
        pl_free(key_from);
        pl_schema_release(sout);
        pl_pipeline_free(p);
        return st;
    }
    add_stats(ph, d, &sink->rows_out, &sink->time_ns);
    st = break_pipeline(ph, &p, sink, sout, err);
    pl_schema_release(sout);
    if (!st && n_nested > 0) {
        /* the nested keys' values back in their places */
        proj_list back = {0};
        for (int32_t i = 0; i < n_keys + n_aggs && !st; i++) {
            int32_t src = i < n_keys && key_from[i] >= 0 ? n_keys + key_from[i] : i;
            st = proj_add_cols(&back, d->schema, i, 1, src, err);
        }
        if (!st) st = add_project(ph, p, &back, d->schema, err);
        proj_free(&back);
        if (st) pl_pipeline_free(p);
    }
    pl_free(key_from);
    if (st) return st;
    *out = p;
    return PL_OK;
}

static pl_status compile_aggregate(phys *ph, pl_df *d, pl_pipeline *p, pl_pipeline **out,
                                   pl_error *err) {
    return compile_agg_over(ph, d, d->n_keys, d->keys, d->n_exprs, d->exprs, p, out, err);
}

static bool has_nested_field(const pl_schema *s) {
    for (int32_t i = 0; i < s->n_fields; i++) {
        pl_type_id id = s->fields[i].type->id;
        if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP) return true;
    }
    return false;
}

static pl_status compile_distinct(phys *ph, pl_df *d, pl_pipeline *p, pl_pipeline **out,
                                  pl_error *err) {
    int32_t n = d->schema->n_fields;
    if (has_nested_field(d->schema)) {
        /* an aggregation by every column, nested ones by their binary keys */
        pl_expr **cols = pl_calloc((size_t)n, sizeof *cols);
        pl_status st = cols ? PL_OK : nomem(err);
        for (int32_t i = 0; i < n && !st; i++)
            if (!(cols[i] = pl_expr_col_index(i, d->schema->fields[i].name))) st = nomem(err);
        if (!st) st = compile_agg_over(ph, d, n, cols, 0, NULL, p, out, err);
        else pl_pipeline_free(p);
        for (int32_t i = 0; cols && i < n; i++) pl_expr_release(cols[i]);
        pl_free(cols);
        return st;
    }
    int32_t *keys = pl_calloc((size_t)PL_MAX(n, 1), sizeof *keys);
    if (!keys) {
        pl_pipeline_free(p);
        return nomem(err);
    }
    for (int32_t i = 0; i < n; i++) keys[i] = i;
    pl_sink *sink = NULL;
    pl_status st = pl_agg_sink_new(ph->ctx, pl_pipeline_schema(p), n, keys, 0, NULL, d->schema,
                                   &sink, err);
    pl_free(keys);
    if (st) {
        pl_pipeline_free(p);
        return st;
    }
    add_stats(ph, d, &sink->rows_out, &sink->time_ns);
    PL_TRY(break_pipeline(ph, &p, sink, d->schema, err));
    *out = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- sort */

static pl_status compile_sort(phys *ph, pl_df *d, pl_pipeline *p, pl_pipeline **out,
                              pl_error *err) {
    int32_t nin = d->schema->n_fields, nk = d->n_keys;
    proj_list pl = {0};
    pl_status st = PL_OK;
    if (!st) st = proj_add_cols(&pl, d->schema, 0, nin, 0, err);
    int32_t *cols = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *cols);
    bool *desc = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *desc);
    bool *nf = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *nf);
    if (!st && (!cols || !desc || !nf)) st = nomem(err);
    for (int32_t k = 0; k < nk && !st; k++) {
        cols[k] = proj_add_key(&pl, d->sort_keys[k].expr, pl_pipeline_schema(p), NULL, &st, err);
        desc[k] = d->sort_keys[k].descending;
        nf[k] = d->sort_keys[k].nulls_first;
    }
    bool extra = pl.n > nin;
    if (!st) st = add_project(ph, p, &pl, NULL, err);
    pl_sink *sink = NULL;
    pl_schema *sorted = pl_schema_retain(pl_pipeline_schema(p));
    if (!st)
        st = pl_sort_sink_new(ph->ctx, sorted, nk, cols, desc, nf, d->limit >= 0 ? d->offset : 0,
                              d->limit, &sink, err);
    pl_free(cols);
    pl_free(desc);
    pl_free(nf);
    if (st) {
        proj_free(&pl);
        pl_schema_release(sorted);
        pl_pipeline_free(p);
        return st;
    }
    add_stats(ph, d, &sink->rows_out, &sink->time_ns);
    st = break_pipeline(ph, &p, sink, sorted, err);
    pl_schema_release(sorted);
    if (!st && (extra || true)) {
        /* back to the node's columns and names */
        proj_list back = {0};
        if (!st) st = proj_add_cols(&back, d->schema, 0, nin, 0, err);
        if (!st && (extra || !pl_schema_equals(pl_pipeline_schema(p), d->schema)))
            st = add_project(ph, p, &back, d->schema, err);
        proj_free(&back);
    }
    proj_free(&pl);
    if (st) {
        pl_pipeline_free(p);
        return st;
    }
    *out = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- window */

static pl_status compile_window(phys *ph, pl_df *d, pl_pipeline *p, pl_pipeline **out,
                                pl_error *err) {
    pl_df *in = d->inputs[0];
    int32_t nin = in->schema->n_fields, nw = d->n_exprs;
    proj_list pl = {0};
    pl_status st = PL_OK;
    if (!st) st = proj_add_cols(&pl, in->schema, 0, nin, 0, err);
    pl_window_spec *specs = pl_calloc((size_t)PL_MAX(nw, 1), sizeof *specs);
    if (!st && !specs) st = nomem(err);
    for (int32_t w = 0; w < nw && !st; w++) {
        pl_expr *e = d->exprs[w];
        pl_window_spec *s = &specs[w];
        s->name = pl_window_exists(e->name) ? e->name
                  : (pl_agg_canonical(e->name) ? pl_agg_canonical(e->name) : e->name);
        s->n_args = PL_MIN(e->n_args, 3);
        s->distinct = e->distinct;
        s->ignore_nulls = e->ignore_nulls;
        s->filter_col = -1;
        s->result_type = d->schema->fields[nin + w].type;
        /* the aggregated values are columns even when constant (count(1), sum(2.5)): the
         * sink takes literals only as parameters (fractions, separators) */
        int32_t n_values = 1;
        if (!strcmp(s->name, "arg_min") || !strcmp(s->name, "arg_max") || !strcmp(s->name, "covar_pop") ||
            !strcmp(s->name, "covar_samp") || !strcmp(s->name, "corr"))
            n_values = 2;
        for (int32_t k = 0; k < s->n_args && !st; k++) {
            if (e->args[k]->kind == PL_EXPR_LITERAL && k >= n_values) {
                s->args[k] = -1;
                st = pl_value_copy(&e->args[k]->value, &s->consts[k], err);
            } else if ((s->args[k] = proj_add(&pl, e->args[k])) < 0) {
                st = nomem(err);
            }
        }
        if (!st && e->filter && (s->filter_col = proj_add(&pl, e->filter)) < 0) st = nomem(err);
        if (e->n_partition > 8 || e->n_order > 8)
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "window with more than 8 partition or order keys");
        s->n_partition = e->n_partition;
        for (int32_t k = 0; k < s->n_partition && !st; k++)
            s->partition_cols[k] = proj_add_key(&pl, e->partition[k], in->schema, NULL, &st, err);
        s->n_order = e->n_order;
        for (int32_t k = 0; k < s->n_order && !st; k++) {
            s->order_cols[k] = proj_add_key(&pl, e->order[k].expr, in->schema, NULL, &st, err);
            s->order_desc[k] = e->order[k].descending;
            s->order_nulls_first[k] = e->order[k].nulls_first;
        }
        s->frame = e->frame; /* values borrowed from the plan, which outlives the query */
    }
    if (!st) st = add_project(ph, p, &pl, NULL, err);
    if (!st && ph->topk_win == d && nw > 0) {
        /* rank <= k above: drop rows that cannot make it before they are buffered and sorted */
        pl_schema *ps = pl_pipeline_schema(p);
        const pl_window_spec *s0 = &specs[0];
        bool ok = pl_topk_filter_supports(ps->fields[s0->order_cols[0]].type);
        for (int32_t k = 0; k < s0->n_partition; k++)
            ok &= ps->fields[s0->partition_cols[k]].type->id != PL_TYPE_DICTIONARY;
        pl_op *op = NULL;
        if (ok) st = pl_topk_filter_op_new(ph->ctx, ps, s0->n_partition, s0->partition_cols,
                                           s0->order_cols[0], s0->order_desc[0], ph->topk_k,
                                           &op, err);
        if (op) st = pl_pipeline_add_op(p, op, err);
    }
    /* the sink's output: its input columns then the window results */
    pl_schema *sin = pl_pipeline_schema(p);
    int32_t nsin = sin->n_fields;
    pl_field *f = pl_calloc((size_t)(nsin + nw), sizeof *f);
    pl_schema *sout = NULL;
    if (!st && !f) st = nomem(err);
    for (int32_t i = 0; i < nsin && !st; i++) st = pl_field_init(&f[i], sin->fields[i].name, sin->fields[i].type, sin->fields[i].nullable, err);
    for (int32_t w = 0; w < nw && !st; w++) st = pl_field_init(&f[nsin + w], d->schema->fields[nin + w].name, d->schema->fields[nin + w].type, true, err);
    if (!st) st = pl_schema_new(nsin + nw, f, &sout, err);
    for (int32_t i = 0; i < nsin + nw && f; i++) pl_field_reset(&f[i]);
    pl_free(f);
    pl_sink *sink = NULL;
    if (!st) st = pl_window_sink_new(ph->ctx, sin, nw, specs, sout, &sink, err);
    for (int32_t w = 0; w < nw && specs; w++)
        for (int32_t k = 0; k < 3; k++) pl_value_reset(&specs[w].consts[k]);
    pl_free(specs);
    if (!st) {
        add_stats(ph, d, &sink->rows_out, &sink->time_ns);
        st = break_pipeline(ph, &p, sink, sout, err);
    }
    if (!st) {
        proj_list back = {0};
        if (!st) st = proj_add_cols(&back, d->schema, 0, nin, 0, err);
        if (!st) st = proj_add_cols(&back, d->schema, nin, nw, nsin, err);
        if (!st) st = add_project(ph, p, &back, d->schema, err);
        proj_free(&back);
    }
    pl_schema_release(sout);
    proj_free(&pl);
    if (st) {
        pl_pipeline_free(p);
        return st;
    }
    *out = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- top k per partition */

static bool is_rank_call(const pl_expr *e) {
    return e->kind == PL_EXPR_WINDOW && e->n_args == 0 && !e->filter && e->name &&
           (!strcasecmp(e->name, "row_number") || !strcasecmp(e->name, "rank"));
}

/* k when pred holds only for rows whose column in [lo, hi) is <= k (a conjunct "c <= k",
 * "c < k+1", "c = k" or mirrored, with an integer literal); 0 when none does. */
static int64_t pred_rank_bound(const pl_expr *p, int32_t lo, int32_t hi) {
    if (!p || p->kind != PL_EXPR_CALL || !p->name) return 0;
    if (!strcmp(p->name, "and") && p->n_args == 2) {
        int64_t a = pred_rank_bound(p->args[0], lo, hi), b = pred_rank_bound(p->args[1], lo, hi);
        return a && b ? PL_MIN(a, b) : (a ? a : b);
    }
    if (p->n_args != 2) return 0;
    const pl_expr *c = p->args[0], *l = p->args[1];
    const char *op = p->name;
    bool mirrored = false;
    if (c->kind == PL_EXPR_LITERAL) {
        const pl_expr *t = c;
        c = l;
        l = t;
        mirrored = true;
    }
    if (c->kind != PL_EXPR_COLUMN || c->index < lo || c->index >= hi) return 0;
    if (l->kind != PL_EXPR_LITERAL || l->value.is_null) return 0;
    pl_type_id t = l->value.type->id;
    if (t != PL_TYPE_INT8 && t != PL_TYPE_INT16 && t != PL_TYPE_INT32 && t != PL_TYPE_INT64)
        return 0;
    int64_t v = l->value.v.i;
    if (!strcmp(op, "eq") || !strcmp(op, mirrored ? "ge" : "le")) return v;
    if (!strcmp(op, mirrored ? "gt" : "lt")) return v - 1;
    return 0;
}

/* For a FILTER over a WINDOW whose expressions are all rank()/row_number() over one
 * PARTITION BY (1..8 keys) and one ORDER BY key, and whose predicate keeps rank <= k with
 * 1 <= k <= 64: k. Else 0. (The order key's type is checked when compiling the window.) */
static int32_t window_topk_bound(const pl_df *d) {
    if (d->kind != PL_PLAN_FILTER) return 0;
    const pl_df *w = d->inputs[0];
    if (w->kind != PL_PLAN_WINDOW || w->n_exprs < 1) return 0;
    const pl_expr *e0 = w->exprs[0];
    if (e0->n_partition < 1 || e0->n_partition > 8 || e0->n_order != 1) return 0;
    for (int32_t i = 0; i < w->n_exprs; i++) {
        const pl_expr *e = w->exprs[i];
        if (!is_rank_call(e) || e->n_partition != e0->n_partition || e->n_order != 1 ||
            e->order[0].descending != e0->order[0].descending ||
            e->order[0].nulls_first != e0->order[0].nulls_first ||
            !pl_expr_equals(e->order[0].expr, e0->order[0].expr))
            return 0;
        for (int32_t k = 0; k < e->n_partition; k++)
            if (!pl_expr_equals(e->partition[k], e0->partition[k])) return 0;
    }
    int32_t nin = w->inputs[0]->schema->n_fields;
    int64_t k = pred_rank_bound(d->pred, nin, nin + w->n_exprs);
    return k >= 1 && k <= 64 ? (int32_t)k : 0;
}

/* ---------------------------------------------------------------- join */

/* Adds key columns (cast to the common key types) after a side's columns. */
static pl_status add_keys(phys *ph, pl_pipeline *p, int32_t n_keys, pl_expr **keys,
                          pl_type **key_types, int32_t *key_cols, pl_error *err) {
    pl_schema *in = pl_pipeline_schema(p);
    proj_list pl = {0};
    pl_status st = PL_OK;
    if (!st) st = proj_add_cols(&pl, in, 0, in->n_fields, 0, err);
    for (int32_t k = 0; k < n_keys && !st; k++) {
        pl_type *t = NULL;
        st = pl_plan_expr_type(keys[k], in, &t, NULL, err);
        pl_type *lt = t && t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
        pl_expr *e = NULL;
        if (!st) {
            if (pl_type_equals(lt, key_types[k])) e = pl_expr_retain(keys[k]);
            else e = pl_expr_cast(pl_expr_retain(keys[k]), pl_type_retain(key_types[k]), false);
            if (!e) st = nomem(err);
        }
        pl_type_release(t);
        if (!st) {
            /* a key that is a plain column needs no extra column */
            if (e->kind == PL_EXPR_COLUMN) key_cols[k] = e->index;
            else if ((key_cols[k] = proj_add(&pl, e)) < 0) st = nomem(err);
        }
        pl_expr_release(e);
    }
    if (!st && pl.n > in->n_fields) st = add_project(ph, p, &pl, NULL, err);
    proj_free(&pl);
    return st;
}

static pl_status compile_join(phys *ph, pl_df *d, pl_pipeline **out, pl_error *err) {
    pl_df *left = d->inputs[0], *right = d->inputs[1];
    /* build_left: the left input is hashed; a semi/anti join then marks its matched build
     * rows and emits them (or the others) at the end */
    bool swap = d->build_left && (d->join_type == PL_JOIN_INNER || d->join_type == PL_JOIN_LEFT ||
                                  d->join_type == PL_JOIN_RIGHT || d->join_type == PL_JOIN_FULL ||
                                  d->join_type == PL_JOIN_CROSS || d->join_type == PL_JOIN_SEMI ||
                                  d->join_type == PL_JOIN_ANTI);
    pl_df *probe_df = swap ? right : left, *build_df = swap ? left : right;
    pl_expr **probe_keys = swap ? d->right_keys : d->keys;
    pl_expr **build_keys = swap ? d->keys : d->right_keys;
    int32_t nk = d->n_keys;
    pl_pipeline *probe = NULL, *build = NULL;
    pl_status st = compile(ph, probe_df, &probe, err);
    if (!st) st = compile(ph, build_df, &build, err);
    pl_type **kt = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *kt);
    int32_t *pk = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *pk);
    int32_t *bk = pl_calloc((size_t)PL_MAX(nk, 1), sizeof *bk);
    if (!st && (!kt || !pk || !bk)) st = nomem(err);
    for (int32_t k = 0; k < nk && !st; k++) {
        pl_type *a = NULL, *b = NULL;
        st = pl_plan_expr_type(probe_keys[k], probe_df->schema, &a, NULL, err);
        if (!st) st = pl_plan_expr_type(build_keys[k], build_df->schema, &b, NULL, err);
        if (!st) {
            kt[k] = pl_type_common_super(a->id == PL_TYPE_DICTIONARY ? a->value_type : a,
                                         b->id == PL_TYPE_DICTIONARY ? b->value_type : b);
            if (!kt[k]) st = pl_error_set(err, PL_ERR_TYPE, "join keys of incompatible types");
        }
        pl_type_release(a);
        pl_type_release(b);
    }
    int32_t np = probe_df->schema->n_fields, nb = build_df->schema->n_fields;
    if (!st) st = add_keys(ph, probe, nk, probe_keys, kt, pk, err);
    if (!st) st = add_keys(ph, build, nk, build_keys, kt, bk, err);
    for (int32_t k = 0; k < nk && kt; k++) pl_type_release(kt[k]);
    pl_free(kt);
    pl_join_spec spec = {0};
    switch (d->join_type) {
    case PL_JOIN_INNER:
    case PL_JOIN_CROSS: spec.kind = PL_JK_INNER; break;
    case PL_JOIN_LEFT: spec.kind = swap ? PL_JK_BUILD_OUTER : PL_JK_PROBE_OUTER; break;
    case PL_JOIN_RIGHT: spec.kind = swap ? PL_JK_PROBE_OUTER : PL_JK_BUILD_OUTER; break;
    case PL_JOIN_FULL: spec.kind = PL_JK_FULL; break;
    case PL_JOIN_SEMI: spec.kind = swap ? PL_JK_BUILD_SEMI : PL_JK_SEMI; break;
    case PL_JOIN_ANTI: spec.kind = swap ? PL_JK_BUILD_ANTI : PL_JK_ANTI; break;
    case PL_JOIN_ASOF: spec.kind = PL_JK_INNER; break;
    case PL_JOIN_ASOF_LEFT: spec.kind = PL_JK_PROBE_OUTER; break;
    }
    bool asof = d->join_type == PL_JOIN_ASOF || d->join_type == PL_JOIN_ASOF_LEFT;
    spec.n_keys = nk;
    spec.probe_keys = pk;
    spec.build_keys = bk;
    spec.null_equal = d->null_equal;
    spec.key_null_equal = d->key_ne;
    bool semi = d->join_type == PL_JOIN_SEMI || d->join_type == PL_JOIN_ANTI;
    int32_t *po = pl_calloc((size_t)PL_MAX(np, 1), sizeof *po);
    int32_t *bo = pl_calloc((size_t)PL_MAX(nb, 1), sizeof *bo);
    if (!st && (!po || !bo)) st = nomem(err);
    for (int32_t i = 0; i < np && po; i++) po[i] = i;
    for (int32_t i = 0; i < nb && bo; i++) bo[i] = i;
    /* output columns: a semi/anti join's are its left input's, on the build side if swapped */
    int32_t npo = semi && swap ? 0 : np, nbo = semi && !swap ? 0 : nb;
    spec.n_probe_out = npo;
    spec.probe_out = po;
    spec.n_build_out = nbo;
    spec.build_out = bo;
    pl_schema *probe_schema = probe ? pl_pipeline_schema(probe) : NULL;
    pl_schema *build_schema = build ? pl_pipeline_schema(build) : NULL;
    /* the join's own output schema: probe columns then build columns */
    pl_schema *js = NULL;
    if (!st) {
        int32_t n = npo + nbo;
        pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
        if (!f) st = nomem(err);
        bool pnull = spec.kind == PL_JK_BUILD_OUTER || spec.kind == PL_JK_FULL;
        bool bnull = spec.kind == PL_JK_PROBE_OUTER || spec.kind == PL_JK_FULL;
        for (int32_t i = 0; i < npo && !st; i++)
            st = pl_field_init(&f[i], probe_schema->fields[i].name, probe_schema->fields[i].type,
                               probe_schema->fields[i].nullable || pnull, err);
        for (int32_t i = 0; i < nbo && !st; i++)
            st = pl_field_init(&f[npo + i], build_schema->fields[i].name, build_schema->fields[i].type,
                               build_schema->fields[i].nullable || bnull, err);
        if (!st) st = pl_schema_new(n, f, &js, err);
        for (int32_t i = 0; i < n && f; i++) pl_field_reset(&f[i]);
        pl_free(f);
    }
    spec.out_schema = js;
    if (!st && d->residual) {
        /* residual indices: left ++ right -> probe (with keys) ++ build (with keys) */
        int32_t nl = left->schema->n_fields, nr = right->schema->n_fields;
        int32_t npt = probe_schema->n_fields;
        int32_t *map = pl_calloc((size_t)(nl + nr), sizeof *map);
        if (!map) st = nomem(err);
        for (int32_t i = 0; i < nl + nr && map; i++) {
            bool is_left = i < nl;
            int32_t j = is_left ? i : i - nl;
            bool in_probe = is_left != swap;
            map[i] = in_probe ? j : npt + j;
        }
        pl_expr *r = map ? pl_expr_remap(d->residual, map) : NULL;
        pl_free(map);
        if (!st && !r) st = nomem(err);
        pl_schema *cs = NULL;
        if (!st) {
            int32_t n = npt + build_schema->n_fields;
            pl_field *f = pl_calloc((size_t)PL_MAX(n, 1), sizeof *f);
            if (!f) st = nomem(err);
            for (int32_t i = 0; i < npt && !st; i++) f[i] = probe_schema->fields[i];
            for (int32_t i = 0; i < build_schema->n_fields && !st; i++) f[npt + i] = build_schema->fields[i];
            if (!st) st = pl_schema_new(n, f, &cs, err);
            pl_free(f);
        }
        if (!st) st = bind(r, cs, &spec.residual, err);
        pl_expr_release(r);
        pl_schema_release(cs);
    }
    pl_op *op = NULL;
    if (!st) {
        if (asof)
            st = pl_asof_op_new(ph->ctx, &spec, d->asof_cmp, probe_schema, build, &op, err);
        else
            st = pl_join_op_new(ph->ctx, &spec, probe_schema, build, &op, err);
        build = NULL;
        spec.residual = NULL;
    }
    pl_bexpr_free(spec.residual);
    pl_free(pk);
    pl_free(bk);
    pl_free(po);
    pl_free(bo);
    pl_schema_release(js);
    if (!st) {
        st = pl_pipeline_add_op(probe, op, err);
        if (!st) add_stats(ph, d, &op->rows_out, &op->time_ns);
    }
    if (!st) {
        /* output: left columns then right columns, with the node's names */
        proj_list back = {0};
        int32_t nl = left->schema->n_fields, nr = semi ? 0 : right->schema->n_fields;
        for (int32_t i = 0; i < nl + nr && !st; i++) {
            int32_t src;
            if (!swap || semi) src = i; /* a swapped semi join outputs the build (left) columns */
            else src = i < nl ? np + i : i - nl;
            pl_expr *c = pl_expr_col_index(src, d->schema->fields[i].name);
            if (!c || proj_add(&back, c) < 0) st = nomem(err);
            pl_expr_release(c);
        }
        if (!st) st = add_project(ph, probe, &back, d->schema, err);
        proj_free(&back);
    }
    pl_pipeline_free(build);
    if (st) {
        pl_pipeline_free(probe);
        return st;
    }
    *out = probe;
    return PL_OK;
}

/* ---------------------------------------------------------------- dispatch */

/* ---------------------------------------------------------------- UNION ALL */

/* Whether two schemas have the same column types (names and nullability aside). */
static bool same_types(const pl_schema *a, const pl_schema *b) {
    if (a->n_fields != b->n_fields) return false;
    for (int32_t i = 0; i < a->n_fields; i++)
        if (!pl_type_equals(a->fields[i].type, b->fields[i].type)) return false;
    return true;
}

typedef struct union_leaves {
    pl_df **v;
    int32_t n, cap;
} union_leaves;

/* The inputs of a tree of UNION ALLs whose nodes all have the types of `s`, in order: a chain
 * of thousands (one per hive partition or file schema, sq_union_append) runs as one concat
 * instead of a batch passing through a concat and a projection per level. */
static bool collect_union_leaves(pl_df *d, const pl_schema *s, union_leaves *l) {
    if (d->kind == PL_PLAN_UNION && same_types(d->schema, s)) {
        for (int32_t i = 0; i < d->n_inputs; i++)
            if (!collect_union_leaves(d->inputs[i], s, l)) return false;
        return true;
    }
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 8;
        pl_df **v = pl_realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = d;
    return true;
}

/* UNION ALL: the inputs one after the other, each projected to the union's names. */
static pl_status compile_union(phys *ph, pl_df *d, pl_pipeline **out, pl_error *err) {
    union_leaves l = {0};
    if (!collect_union_leaves(d, d->schema, &l)) {
        pl_free(l.v);
        return nomem(err);
    }
    pl_stream **ins = pl_calloc((size_t)PL_MAX(l.n, 1), sizeof *ins);
    concat_stream *cs = pl_calloc(1, sizeof *cs);
    pl_status st = ins && cs ? PL_OK : nomem(err);
    for (int32_t i = 0; i < l.n && !st; i++) {
        pl_pipeline *c = NULL;
        st = compile(ph, l.v[i], &c, err);
        if (st) break;
        proj_list pl = {0};
        st = proj_add_cols(&pl, d->schema, 0, d->schema->n_fields, 0, err);
        if (!st && !pl_schema_equals(pl_pipeline_schema(c), d->schema))
            st = add_project(ph, c, &pl, d->schema, err);
        proj_free(&pl);
        if (!st) st = pl_pipeline_stream(ph->ctx, c, &ins[i], err);
        else pl_pipeline_free(c);
    }
    pl_free(l.v);
    pl_stream *s = NULL;
    if (!st) {
        cs->ins = ins;
        cs->n = l.n;
        cs->keep_finished = ph->ctx->keep_finished_ops;
        st = new_stream(cs, d->schema, concat_next, concat_free, &s, err);
        if (!st) {
            ins = NULL;
            cs = NULL;
        }
    }
    for (int32_t i = 0; ins && i < l.n; i++) pl_stream_free(ins[i]);
    pl_free(ins);
    pl_free(cs);
    PL_TRY(st);
    return pl_pipeline_new(s, out, err);
}


static pl_status compile(phys *ph, pl_df *d, pl_pipeline **out, pl_error *err) {
    pl_pipeline *p = NULL;
    switch (d->kind) {
    case PL_PLAN_SCAN: return compile_scan(ph, d, out, err);
    case PL_PLAN_TABLE: {
        pl_stream *s = NULL;
        if (d->is_range) PL_TRY(pl_range_stream(d, &s, err));
        else PL_TRY(pl_stream_from_table(d->table, &s, err));
        return pl_pipeline_new(s, out, err);
    }
    case PL_PLAN_JOIN: return compile_join(ph, d, out, err);
    case PL_PLAN_UNION: return compile_union(ph, d, out, err);
    default: break;
    }
    int32_t topk = window_topk_bound(d);
    if (topk) {
        ph->topk_win = d->inputs[0];
        ph->topk_k = topk;
    }
    PL_TRY(compile(ph, d->inputs[0], &p, err));
    pl_status st = PL_OK;
    switch (d->kind) {
    case PL_PLAN_FILTER: {
        pl_bexpr *b = NULL;
        pl_op *op = NULL;
        st = bind(d->pred, d->inputs[0]->schema, &b, err);
        if (!st) st = pl_filter_op_new(ph->ctx, pl_pipeline_schema(p), b, &op, err);
        if (!st) {
            add_stats(ph, d, &op->rows_out, &op->time_ns);
            st = pl_pipeline_add_op(p, op, err);
        }
        break;
    }
    case PL_PLAN_PROJECT: {
        proj_list pl = {0};
        for (int32_t i = 0; i < d->n_exprs && !st; i++) {
            /* no dedupe: duplicates are distinct output columns */
            if (pl.n == pl.cap) {
                int32_t cap = pl.cap ? pl.cap * 2 : 8;
                pl_expr **v = pl_realloc(pl.exprs, sizeof *v * (size_t)cap);
                if (!v) {
                    st = nomem(err);
                    break;
                }
                pl.exprs = v;
                pl.cap = cap;
            }
            pl.exprs[pl.n++] = pl_expr_retain(d->exprs[i]);
        }
        int32_t before = p->n_ops;
        if (!st) st = add_project(ph, p, &pl, d->schema, err);
        if (!st && p->n_ops > before) {
            pl_op *op = p->ops[p->n_ops - 1];
            add_stats(ph, d, &op->rows_out, &op->time_ns);
        }
        proj_free(&pl);
        break;
    }
    case PL_PLAN_AGGREGATE: return compile_aggregate(ph, d, p, out, err);
    case PL_PLAN_DISTINCT: return compile_distinct(ph, d, p, out, err);
    case PL_PLAN_SORT: return compile_sort(ph, d, p, out, err);
    case PL_PLAN_WINDOW: return compile_window(ph, d, p, out, err);
    case PL_PLAN_UNNEST: {
        pl_bexpr **b = pl_calloc((size_t)PL_MAX(d->n_exprs, 1), sizeof *b);
        pl_op *op = NULL;
        if (!b) st = nomem(err);
        for (int32_t i = 0; i < d->n_exprs && !st; i++) st = bind(d->exprs[i], d->inputs[0]->schema, &b[i], err);
        if (!st) {
            st = pl_unnest_op_new(ph->ctx, d->schema, d->n_exprs, b, &op, err);
            b = NULL;
        }
        for (int32_t i = 0; b && i < d->n_exprs; i++) pl_bexpr_free(b[i]);
        pl_free(b);
        if (!st) {
            add_stats(ph, d, &op->rows_out, &op->time_ns);
            st = pl_pipeline_add_op(p, op, err);
        }
        break;
    }
    case PL_PLAN_LIMIT: {
        pl_stream *in = NULL;
        st = pl_pipeline_stream(ph->ctx, p, &in, err);
        p = NULL;
        limit_stream *ls = st ? NULL : pl_calloc(1, sizeof *ls);
        if (!st && !ls) st = nomem(err);
        pl_stream *s = NULL;
        if (!st) {
            ls->in = in;
            ls->skip = d->offset;
            ls->left = d->limit;
            st = new_stream(ls, d->schema, limit_next, limit_free, &s, err);
            if (!st) {
                in = NULL;
                add_stats(ph, d, &ls->rows, NULL);
                ls = NULL;
            }
        }
        pl_free(ls);
        pl_stream_free(in);
        if (!st) st = pl_pipeline_new(s, &p, err);
        break;
    }
    default: st = pl_error_set(err, PL_ERR_INTERNAL, "unknown plan node %d", (int)d->kind);
    }
    if (st) {
        pl_pipeline_free(p);
        return st;
    }
    *out = p;
    return PL_OK;
}

/* ---------------------------------------------------------------- the query stream */

typedef struct query_stream {
    pl_exec_ctx ctx;
    phys ph;
    pl_df *plan;
    pl_stream *inner;
} query_stream;

static pl_status query_next(pl_stream *s, pl_batch **out, pl_error *err) {
    query_stream *q = s->impl;
    return pl_stream_next(q->inner, out, err);
}

static void query_free(pl_stream *s) {
    query_stream *q = s->impl;
    pl_stream_free(q->inner);
    free_preds(&q->ph);
    pl_df_release(q->plan);
    pl_free(q->ph.stats);
    pl_schema_release(s->schema);
    pl_free(q);
    pl_free(s);
}

static pl_status query_open(pl_df *df, const pl_exec_opts *opts, pl_stream **out,
                            query_stream **qs, pl_error *err) {
    pl_exec_opts o;
    if (opts) o = *opts;
    else pl_exec_opts_init(&o);
    pl_df *plan = NULL;
    if (o.optimize) PL_TRY(pl_plan_optimize(df, &plan, err));
    else plan = pl_df_retain(df);
    query_stream *q = pl_calloc(1, sizeof *q);
    if (!q) {
        pl_df_release(plan);
        return nomem(err);
    }
    pl_exec_ctx_init(&q->ctx, &o);
    q->ctx.keep_finished_ops = qs != NULL; /* EXPLAIN ANALYZE reads the counters at the end */
    q->ph.ctx = &q->ctx;
    q->plan = plan;
    pl_pipeline *p = NULL;
    pl_status st = compile(&q->ph, plan, &p, err);
    if (!st) st = pl_pipeline_stream(&q->ctx, p, &q->inner, err);
    pl_stream *s = NULL;
    if (!st) st = new_stream(q, df->schema, query_next, query_free, &s, err);
    if (st) {
        pl_stream_free(q->inner);
        free_preds(&q->ph);
        pl_df_release(plan);
        pl_free(q->ph.stats);
        pl_free(q);
        return st;
    }
    *out = s;
    if (qs) *qs = q;
    return PL_OK;
}

pl_status pl_physical_stream(pl_exec_ctx *ctx, pl_df *df, pl_stream **out, pl_error *err) {
    PL_UNUSED(ctx);
    return query_open(df, NULL, out, NULL, err);
}

pl_status pl_df_execute(pl_df *df, const pl_exec_opts *opts, pl_stream **out, pl_error *err) {
    return query_open(df, opts, out, NULL, err);
}

pl_status pl_df_collect(pl_df *df, const pl_exec_opts *opts, pl_table **out, pl_error *err) {
    pl_stream *s = NULL;
    PL_TRY(pl_df_execute(df, opts, &s, err));
    pl_status st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    return st;
}

pl_status pl_plan_explain_stats(pl_df *df, const pl_node_stats *stats, int32_t n_stats,
                                int64_t total_ns, char **out, pl_error *err);

pl_status pl_df_explain_analyze(pl_df *df, const pl_exec_opts *opts, char **out, pl_error *err) {
    pl_stream *s = NULL;
    query_stream *q = NULL;
    int64_t t0 = pl_now_ns();
    PL_TRY(query_open(df, opts, &s, &q, err));
    pl_status st = PL_OK;
    for (;;) {
        pl_batch *b = NULL;
        st = pl_stream_next(s, &b, err);
        if (st || !b) break;
        pl_batch_release(b);
    }
    if (!st)
        st = pl_plan_explain_stats(q->plan, q->ph.stats, q->ph.n_stats, pl_now_ns() - t0, out, err);
    pl_stream_free(s);
    return st;
}
