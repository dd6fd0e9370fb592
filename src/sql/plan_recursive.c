/* plan_recursive.c - WITH RECURSIVE: a CTE of the form
 *     non-recursive term UNION [ALL] recursive term
 * whose recursive term names the CTE itself, evaluated to a fixpoint while the query is planned:
 *
 *   result = working = rows of the non-recursive term (distinct ones for UNION)
 *   while working has rows:
 *       new = rows of the recursive term with the CTE's name bound to `working`
 *             (UNION: distinct rows not already in result)
 *       result += new; working = new
 *
 * The CTE then reads the materialised result (an in-memory table). Column names come from the
 * CTE's column list, else from the non-recursive term; column types are the non-recursive term's
 * (the recursive term's values are cast to them, like DuckDB and PostgreSQL). More than
 * pl_session_recursion_limit() iterations (SET recursion_limit) is an error (a recursion that never ends), as is a reference to the
 * CTE in its non-recursive term. Each iteration runs with the session's exec options (threads,
 * memory limit, cancellation). */
#include "sql/plan_int.h"

#include <stdio.h>
#include <strings.h>

#define NOMEM(err) pl_error_set((err), PL_ERR_NOMEM, "out of memory planning SQL")
/* batches of the result are merged up to this many rows (iterations often yield a few rows) */
#define SQ_RECURSION_BATCH_ROWS 65536

/* ---------------------------------------------------------------- self references */

typedef struct {
    const char *name;
    int32_t *pos;
} refers_to;

static bool refers_to_visit(ProtobufCMessage *m, void *vctx) {
    refers_to *r = vctx;
    if (m->descriptor == &pg_query__range_var__descriptor) {
        const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
        if (!sq_nz(rv->schemaname) && rv->relname && strcasecmp(rv->relname, r->name) == 0) {
            *r->pos = rv->location;
            return true;
        }
        return false;
    }
    return pl_sql_node_children(m, refers_to_visit, r);
}

bool sq_refers_to(const ProtobufCMessage *m, const char *name, int32_t *pos) {
    refers_to r = {name, pos};
    return m && refers_to_visit((ProtobufCMessage *)(uintptr_t)m, &r);
}

typedef struct {
    const char *name;
    const ProtobufCMessage *skip;
    int32_t n;
} count_refs;

static bool count_refs_visit(ProtobufCMessage *m, void *vctx) {
    count_refs *c = vctx;
    if (m == c->skip) return false;
    if (m->descriptor == &pg_query__range_var__descriptor) {
        const PgQuery__RangeVar *rv = (const PgQuery__RangeVar *)m;
        if (!sq_nz(rv->schemaname) && rv->relname && strcasecmp(rv->relname, c->name) == 0) c->n++;
        return false;
    }
    pl_sql_node_children(m, count_refs_visit, c);
    return false;
}

int32_t sq_count_refs(const ProtobufCMessage *m, const ProtobufCMessage *skip, const char *name) {
    count_refs c = {name, skip, 0};
    if (m) count_refs_visit((ProtobufCMessage *)(uintptr_t)m, &c);
    return c.n;
}

/* ---------------------------------------------------------------- helpers */

/* Runs df and relabels its rows with schema. */
static pl_status run_into(sq_ctx *ctx, pl_df *df, pl_schema *schema, pl_table **out, pl_error *err) {
    const pl_exec_opts *opts = ctx->s ? pl_session_exec_opts(ctx->s) : NULL;
    pl_table *res = NULL;
    PL_TRY(pl_df_collect(df, opts, &res, err));
    pl_status st = pl_sql_conform_table(res, schema, out, err);
    pl_table_release(res);
    return st;
}

/* The recursive term's rows cast to the CTE's column types and named like its columns. */
static pl_status conform_df(pl_df *df, pl_schema *schema, const char *cte, int32_t pos, pl_df **out,
                            pl_error *err) {
    pl_schema *in = pl_df_schema(df);
    int32_t n = schema->n_fields;
    if (in->n_fields != n)
        return sq_fail(err, PL_ERR_SQL, pos,
                       "the recursive term of \"%s\" has %d columns, its non-recursive term %d", cte,
                       (int)in->n_fields, (int)n);
    pl_expr **ex = pl_calloc((size_t)n, sizeof *ex);
    const char **names = pl_calloc((size_t)n, sizeof *names);
    pl_status st = ex && names ? PL_OK : NOMEM(err);
    for (int32_t i = 0; !st && i < n; i++) {
        pl_type *t = in->fields[i].type;
        if (t->id == PL_TYPE_DICTIONARY) t = t->value_type;
        pl_type *want = schema->fields[i].type;
        pl_expr *c = pl_expr_col_index(i, in->fields[i].name);
        if (c && !pl_type_equals(t, want) && t->id != PL_TYPE_NA)
            c = pl_expr_cast(c, pl_type_retain(want), false);
        if (!c) st = NOMEM(err);
        ex[i] = c;
        names[i] = schema->fields[i].name;
    }
    if (!st) st = pl_df_select(df, n, ex, names, out, err);
    for (int32_t i = 0; ex && i < n; i++) pl_expr_release(ex[i]);
    pl_free(ex);
    pl_free(names);
    return sq_at(err, st, pos);
}

/* A table of the given batches (retained). */
static pl_status table_of(pl_schema *schema, pl_batch *const *b, int64_t n, pl_table **out,
                          pl_error *err) {
    pl_table *t = NULL;
    PL_TRY(pl_table_new(schema, &t, err));
    for (int64_t i = 0; i < n; i++) {
        pl_status st = pl_table_append(t, b[i], err);
        if (st) {
            pl_table_release(t);
            return st;
        }
    }
    *out = t;
    return PL_OK;
}

typedef struct batch_list {
    pl_batch **v;
    int64_t n, cap, rows;
} batch_list;

static pl_status bl_add_table(batch_list *l, const pl_table *t, pl_error *err) {
    for (int64_t i = 0; i < t->n_batches; i++) {
        if (l->n == l->cap) {
            int64_t cap = l->cap ? l->cap * 2 : 16;
            pl_batch **v = pl_realloc(l->v, (size_t)cap * sizeof *v);
            if (!v) return NOMEM(err);
            l->v = v;
            l->cap = cap;
        }
        l->v[l->n++] = pl_batch_retain(t->batches[i]);
        l->rows += t->batches[i]->n_rows;
    }
    return PL_OK;
}

static void bl_reset(batch_list *l) {
    for (int64_t i = 0; i < l->n; i++) pl_batch_release(l->v[i]);
    pl_free(l->v);
    memset(l, 0, sizeof *l);
}

/* The result table: runs of small batches merged into batches of up to
 * SQ_RECURSION_BATCH_ROWS rows. */
static pl_status final_table(pl_schema *schema, const batch_list *l, pl_table **out, pl_error *err) {
    pl_table *t = NULL;
    PL_TRY(pl_table_new(schema, &t, err));
    pl_status st = PL_OK;
    int64_t i = 0;
    while (!st && i < l->n) {
        int64_t j = i, rows = 0;
        while (j < l->n && (j == i || rows + l->v[j]->n_rows <= SQ_RECURSION_BATCH_ROWS))
            rows += l->v[j++]->n_rows;
        if (j - i == 1) {
            st = pl_table_append(t, l->v[i], err);
        } else {
            pl_table *run = NULL;
            pl_batch *b = NULL;
            st = table_of(schema, l->v + i, j - i, &run, err);
            if (!st) st = pl_table_combine(run, &b, err);
            if (!st) st = pl_table_append(t, b, err);
            pl_batch_release(b);
            pl_table_release(run);
        }
        i = j;
    }
    if (st) {
        pl_table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

/* ---------------------------------------------------------------- the fixpoint */

pl_status sq_plan_recursive_cte(sq_ctx *ctx, const PgQuery__CommonTableExpr *cte, pl_df **out,
                                pl_error *err) {
    const char *name = cte->ctename;
    const PgQuery__SelectStmt *st = cte->ctequery->select_stmt;
    int32_t loc = cte->location;
    if (st->op != PG_QUERY__SET_OPERATION__SETOP_UNION || !st->larg || !st->rarg)
        return sq_fail(err, PL_ERR_SQL, loc,
                       "recursive query \"%s\" must have the form non-recursive-term UNION [ALL] "
                       "recursive-term",
                       name);
    int32_t ref = -1;
    if (sq_refers_to(&st->larg->base, name, &ref))
        return sq_fail(err, PL_ERR_SQL, ref >= 0 ? ref : loc,
                       "recursive reference to query \"%s\" must not appear within its non-recursive term",
                       name);
    if (st->n_sort_clause || st->limit_count || st->limit_offset || st->with_clause)
        return sq_fail(err, PL_ERR_UNSUPPORTED, loc,
                       "ORDER BY, LIMIT, OFFSET and WITH in a recursive query are not supported");
    ref = -1;
    sq_refers_to(&st->rarg->base, name, &ref);
    int32_t rpos = ref >= 0 ? ref : loc;
    bool all = st->all;

    /* the non-recursive term */
    pl_df *anchor = NULL;
    PL_TRY(sq_plan_query(ctx, st->larg, NULL, &anchor, err));
    pl_schema *as = pl_df_schema(anchor);
    int32_t n_names = (int32_t)cte->n_aliascolnames;
    if (n_names > as->n_fields) {
        pl_df_release(anchor);
        return sq_fail(err, PL_ERR_SQL, loc, "WITH query \"%s\" has %d columns but %d names were given",
                       name, (int)as->n_fields, n_names);
    }
    char **names = pl_calloc((size_t)n_names + 1, sizeof *names);
    if (!names) {
        pl_df_release(anchor);
        return NOMEM(err);
    }
    for (int32_t i = 0; i < n_names; i++) names[i] = (char *)sq_str(cte->aliascolnames[i]);
    pl_schema *schema = NULL;
    pl_status rc = pl_sql_stored_schema(as, n_names, names, &schema, err);
    pl_free(names);
    pl_df *d0 = NULL;
    if (!rc) rc = conform_df(anchor, schema, name, loc, &d0, err);
    pl_df_release(anchor);
    if (!rc && !all) {
        pl_df *d = NULL;
        rc = pl_df_distinct(d0, &d, err);
        pl_df_release(d0);
        d0 = d;
    }
    pl_table *working = NULL;
    if (!rc) rc = run_into(ctx, d0, schema, &working, err);
    if (d0) pl_df_release(d0);

    batch_list acc = {0};
    if (!rc) rc = bl_add_table(&acc, working, err);
    int64_t iter = 0, limit = pl_session_recursion_limit(ctx->s);
    while (!rc && working->n_rows > 0) {
        if (++iter > limit) {
            rc = sq_fail(err, PL_ERR_LIMIT, loc,
                         "recursive query \"%s\" did not finish within %lld iterations (%lld rows so "
                         "far): its recursive term keeps producing rows (SET recursion_limit = N "
                         "allows more)",
                         name, (long long)limit, (long long)acc.rows);
            break;
        }
        /* the CTE's name means the working table while the recursive term is planned */
        sq_cte *c = pl_calloc(1, sizeof *c);
        char *nm = c ? pl_strdup(name) : NULL;
        if (!nm) {
            pl_free(c);
            rc = NOMEM(err);
            break;
        }
        c->name = nm;
        rc = pl_df_from_table(working, &c->df, err);
        if (rc) {
            pl_free(nm);
            pl_free(c);
            break;
        }
        c->next = ctx->ctes;
        ctx->ctes = c;
        pl_df *rdf = NULL;
        rc = sq_plan_query(ctx, st->rarg, NULL, &rdf, err);
        ctx->ctes = c->next;
        pl_df_release(c->df);
        pl_free(c->name);
        pl_free(c);
        pl_df *step = NULL;
        if (!rc) rc = conform_df(rdf, schema, name, rpos, &step, err);
        if (rdf) pl_df_release(rdf);
        if (!rc && !all) {
            /* distinct rows not produced before */
            pl_table *sofar = NULL;
            pl_df *prev = NULL, *fresh = NULL;
            rc = table_of(schema, acc.v, acc.n, &sofar, err);
            if (!rc) rc = pl_df_from_table(sofar, &prev, err);
            if (!rc) rc = pl_df_setop(step, prev, PL_SETOP_EXCEPT, false, &fresh, err);
            if (prev) pl_df_release(prev);
            pl_table_release(sofar);
            pl_df_release(step);
            step = fresh;
        }
        pl_table *next = NULL;
        if (!rc) rc = run_into(ctx, step, schema, &next, err);
        if (step) pl_df_release(step);
        if (rc) break;
        pl_table_release(working);
        working = next;
        rc = bl_add_table(&acc, working, err);
    }
    pl_table *result = NULL;
    if (!rc) rc = final_table(schema, &acc, &result, err);
    if (!rc) {
        rc = pl_df_from_table(result, out, err);
        pl_table_release(result);
    }
    bl_reset(&acc);
    if (working) pl_table_release(working);
    pl_schema_release(schema);
    return rc;
}
