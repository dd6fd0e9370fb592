/* session_change.c - the statements that change the rows or columns of a session table:
 * UPDATE, DELETE, TRUNCATE, ALTER TABLE (ADD / DROP / RENAME COLUMN, RENAME TO, ALTER TYPE
 * [USING], SET / DROP DEFAULT, SET / DROP NOT NULL), RETURNING (of INSERT too) and the updates
 * of INSERT ... ON CONFLICT DO UPDATE / INSERT OR REPLACE (pl_sql_upsert: planned like UPDATE
 * over the old rows that clash, with the new ones beside them as DML_EXCLUDED<name> columns,
 * `excluded.x` renamed to them while planning).
 *
 * How: conditions and expressions are planned by the query planner as a SELECT built here
 * over the table plus a row-number column. The table is registered for the time of planning
 * under a reserved name (DML_TARGET) and aliased as the statement names it, so
 *   DELETE FROM t USING u WHERE c       ->  SELECT t.__pl_rowid FROM __pl_dml_target AS t, u WHERE c
 *   UPDATE t SET a = x FROM u WHERE c   ->  SELECT t.__pl_rowid, x FROM __pl_dml_target AS t, u WHERE c
 * while other references to t (subqueries) see the table itself. The row numbers of the result
 * say which rows go or change (UPDATE ... FROM with several matches of a row: the last match
 * wins, and every match counts, like DuckDB).
 *
 * Invariants: each statement builds the table's new version from the old batches (gathers,
 * new columns) and checks it (NOT NULL) before it replaces the old one in the catalog
 * (pl_sql_replace_table), so a failing statement leaves the table exactly as it was, and plans
 * made before keep the rows they saw (tables are immutable). RETURNING rows are collected before
 * that too. Planning may add catalog entries (the temporary one): entry pointers are looked up
 * again by name after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compute/compute.h"
#include "expr/expr_int.h"
#include "sql/session_int.h"

/* the catalog name the statement's table is planned under, and its row-number column */
#define DML_TARGET "__pl_dml_target"
#define DML_ROWID "__pl_rowid"

/* ---------------------------------------------------------------- parse nodes built here */

/* Memory of the nodes built for one statement (freed together; strings are borrowed). */
typedef struct node_pool {
    void **ptrs;
    int32_t n, cap;
} node_pool;

static void *pool_new(node_pool *p, size_t size) {
    if (p->n == p->cap) {
        int32_t cap = p->cap ? p->cap * 2 : 32;
        void **v = pl_realloc(p->ptrs, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        p->ptrs = v;
        p->cap = cap;
    }
    void *m = pl_calloc(1, size);
    if (m) p->ptrs[p->n++] = m;
    return m;
}

static void pool_free(node_pool *p) {
    for (int32_t i = 0; i < p->n; i++) pl_free(p->ptrs[i]);
    pl_free(p->ptrs);
    memset(p, 0, sizeof *p);
}

static PgQuery__Node *mk_node(node_pool *p) {
    PgQuery__Node *n = pool_new(p, sizeof *n);
    if (n) *n = (PgQuery__Node)PG_QUERY__NODE__INIT;
    return n;
}

static PgQuery__Node *mk_string(node_pool *p, const char *s) {
    PgQuery__String *m = pool_new(p, sizeof *m);
    PgQuery__Node *n = mk_node(p);
    if (!m || !n) return NULL;
    *m = (PgQuery__String)PG_QUERY__STRING__INIT;
    m->sval = (char *)s;
    n->node_case = PG_QUERY__NODE__NODE_STRING;
    n->string = m;
    return n;
}

/* qual.name (qual may be NULL) */
static PgQuery__Node *mk_colref(node_pool *p, const char *qual, const char *name) {
    PgQuery__ColumnRef *m = pool_new(p, sizeof *m);
    PgQuery__Node **f = pool_new(p, 2 * sizeof *f);
    PgQuery__Node *n = mk_node(p);
    if (!m || !f || !n) return NULL;
    *m = (PgQuery__ColumnRef)PG_QUERY__COLUMN_REF__INIT;
    m->n_fields = 0;
    if (qual) f[m->n_fields++] = mk_string(p, qual);
    f[m->n_fields++] = mk_string(p, name);
    for (size_t i = 0; i < m->n_fields; i++)
        if (!f[i]) return NULL;
    m->fields = f;
    m->location = -1;
    n->node_case = PG_QUERY__NODE__NODE_COLUMN_REF;
    n->column_ref = m;
    return n;
}

static PgQuery__Node *mk_null(node_pool *p) {
    PgQuery__AConst *m = pool_new(p, sizeof *m);
    PgQuery__Node *n = mk_node(p);
    if (!m || !n) return NULL;
    *m = (PgQuery__AConst)PG_QUERY__A__CONST__INIT;
    m->isnull = true;
    m->location = -1;
    n->node_case = PG_QUERY__NODE__NODE_A_CONST;
    n->a_const = m;
    return n;
}

/* val AS name; location -1 (the planner reads nothing of the text after it) */
static PgQuery__Node *mk_target(node_pool *p, PgQuery__Node *val, const char *name) {
    PgQuery__ResTarget *m = pool_new(p, sizeof *m);
    PgQuery__Node *n = mk_node(p);
    if (!m || !n || !val) return NULL;
    *m = (PgQuery__ResTarget)PG_QUERY__RES_TARGET__INIT;
    m->name = (char *)name;
    m->val = val;
    m->location = -1;
    n->node_case = PG_QUERY__NODE__NODE_RES_TARGET;
    n->res_target = m;
    return n;
}

/* "__v<i>" in pool memory */
static const char *value_name(node_pool *p, size_t i) {
    char *s = pool_new(p, 32);
    if (s) snprintf(s, 32, "__v%zu", i);
    return s;
}

/* The name the statement's table goes by: its alias, else its name. */
static const char *target_alias(const PgQuery__RangeVar *rel) {
    return rel->alias && rel->alias->aliasname && *rel->alias->aliasname ? rel->alias->aliasname
                                                                        : rel->relname;
}

/* ---------------------------------------------------------------- planning over the table */

typedef struct over_query {
    size_t n_targets;
    PgQuery__Node **targets; /* ResTarget nodes */
    size_t n_from;
    PgQuery__Node *const *from; /* further FROM items (UPDATE FROM, DELETE USING) */
    PgQuery__Node *where;
    PgQuery__WithClause *with;
} over_query;

/* Plans SELECT q->targets FROM rows AS <rel's alias or name>, q->from WHERE q->where. rows is
 * registered as DML_TARGET while planning (the catalog may grow: look entries up again). */
static pl_status plan_over(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                           pl_table *rows, const over_query *q, node_pool *np, pl_df **out,
                           pl_error *err) {
    PgQuery__RangeVar *rv = pool_new(np, sizeof *rv);
    PgQuery__Alias *al = pool_new(np, sizeof *al);
    PgQuery__Node *rvn = mk_node(np);
    PgQuery__Node **from = pool_new(np, (q->n_from + 1) * sizeof *from);
    PgQuery__SelectStmt *sel = pool_new(np, sizeof *sel);
    PgQuery__Node *seln = mk_node(np);
    if (!rv || !al || !rvn || !from || !sel || !seln) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    *rv = (PgQuery__RangeVar)PG_QUERY__RANGE_VAR__INIT;
    *al = (PgQuery__Alias)PG_QUERY__ALIAS__INIT;
    al->aliasname = (char *)target_alias(rel);
    rv->relname = DML_TARGET;
    rv->inh = true;
    rv->alias = al;
    rv->location = rel->location;
    rvn->node_case = PG_QUERY__NODE__NODE_RANGE_VAR;
    rvn->range_var = rv;
    from[0] = rvn;
    for (size_t i = 0; i < q->n_from; i++) from[i + 1] = q->from[i];
    *sel = (PgQuery__SelectStmt)PG_QUERY__SELECT_STMT__INIT;
    sel->n_target_list = q->n_targets;
    sel->target_list = q->targets;
    sel->n_from_clause = q->n_from + 1;
    sel->from_clause = from;
    sel->where_clause = q->where;
    sel->with_clause = q->with;
    sel->op = PG_QUERY__SET_OPERATION__SETOP_NONE;
    seln->node_case = PG_QUERY__NODE__NODE_SELECT_STMT;
    seln->select_stmt = sel;
    if (pl_session_find(s, DML_TARGET)) /* never replace a user's object of that name */
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                              "the name \"" DML_TARGET "\" is reserved for UPDATE/DELETE/ALTER; "
                              "rename that table or view");
    pl_df *df = NULL;
    PL_TRY(pl_df_from_table(rows, &df, err));
    pl_status st = pl_session_register(s, DML_TARGET, df, err);
    pl_df_release(df);
    if (st) return st;
    st = pl_sql_plan_query(s, c->sql, seln, out, err);
    pl_cat_entry *tmp = pl_session_find(s, DML_TARGET);
    if (tmp) pl_session_remove(s, tmp);
    return st;
}

/* t with a last INT64 column DML_ROWID numbering its rows from 0. */
static pl_status with_rowids(pl_table *t, pl_table **out, pl_error *err) {
    pl_schema *sc = t->schema;
    int32_t n = sc->n_fields;
    pl_field *f = pl_calloc((size_t)n + 1, sizeof *f);
    pl_array **cols = pl_calloc((size_t)n + 1, sizeof *cols);
    pl_schema *rs = NULL;
    pl_table *nt = NULL;
    pl_builder *b = NULL;
    int32_t n_init = 0;
    pl_status st = f && cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (; st == PL_OK && n_init < n; n_init++)
        st = pl_field_init(&f[n_init], sc->fields[n_init].name, sc->fields[n_init].type,
                           sc->fields[n_init].nullable, err);
    if (st == PL_OK && (st = pl_field_init(&f[n], DML_ROWID, pl_type_simple(PL_TYPE_INT64), false,
                                           err)) == PL_OK)
        n_init++;
    if (st == PL_OK) st = pl_schema_new(n + 1, f, &rs, err);
    if (st == PL_OK) st = pl_table_new(rs, &nt, err);
    int64_t base = 0;
    for (int64_t bi = 0; st == PL_OK && bi < t->n_batches; bi++) {
        pl_batch *in = t->batches[bi];
        st = pl_builder_new(pl_type_simple(PL_TYPE_INT64), in->n_rows, &b, err);
        for (int64_t i = 0; st == PL_OK && i < in->n_rows; i++) st = pl_builder_append_i64(b, base + i, err);
        if (st == PL_OK) st = pl_builder_finish(b, &cols[n], err);
        pl_builder_free(b);
        b = NULL;
        if (st) break;
        for (int32_t k = 0; k < n; k++) cols[k] = pl_array_retain(in->columns[k]);
        pl_batch *nb = NULL;
        st = pl_batch_new(pl_schema_retain(rs), in->n_rows, cols, &nb, err);
        if (st == PL_OK) st = pl_table_append(nt, nb, err);
        pl_batch_release(nb);
        base += in->n_rows;
    }
    for (int32_t k = 0; k < n_init; k++) pl_field_reset(&f[k]);
    pl_free(f);
    pl_free(cols);
    pl_schema_release(rs);
    if (st) {
        pl_table_release(nt);
        return st;
    }
    *out = nt;
    return PL_OK;
}

/* The row numbers in column 0 of res (INT64, no NULLs) as marks: mark[id] set; *n_marked the
 * distinct rows marked. pos (when not NULL, [n_rows]) gets for each row its last row in res. */
static pl_status mark_rows(pl_table *res, int64_t n_rows, uint8_t **mark, int64_t **pos,
                           int64_t *n_marked, pl_error *err) {
    uint8_t *m = pl_calloc((size_t)n_rows + 1, 1);
    int64_t *p = pos ? pl_malloc(((size_t)n_rows + 1) * sizeof *p) : NULL;
    if (!m || (pos && !p)) {
        pl_free(m);
        pl_free(p);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; p && i < n_rows; i++) p[i] = -1;
    int64_t k = 0, n = 0;
    for (int64_t bi = 0; bi < res->n_batches; bi++) {
        pl_array *a = res->batches[bi]->columns[0];
        if (a->length == 0) continue;
        const int64_t *v = (const int64_t *)a->values->data + a->offset;
        for (int64_t i = 0; i < a->length; i++, k++) {
            if (!pl_array_is_valid(a, i)) continue;
            int64_t id = v[i];
            if (id < 0 || id >= n_rows) {
                pl_free(m);
                pl_free(p);
                PL_FAIL(err, PL_ERR_INTERNAL, "row number %lld out of range", (long long)id);
            }
            n += !m[id];
            m[id] = 1;
            if (p) p[id] = k;
        }
    }
    *mark = m;
    if (pos) *pos = p;
    *n_marked = n;
    return PL_OK;
}

/* The rows of t whose mark is `want`, in order (whole batches shared where they all are). */
pl_status pl_sql_pick_rows(pl_table *t, const uint8_t *mark, bool want, pl_table **out,
                           pl_error *err) {
    pl_table *nt = NULL;
    PL_TRY(pl_table_new(t->schema, &nt, err));
    pl_status st = PL_OK;
    int64_t base = 0;
    int32_t *sel = NULL;
    for (int64_t bi = 0; st == PL_OK && bi < t->n_batches; bi++) {
        pl_batch *b = t->batches[bi];
        int64_t n = 0;
        pl_free(sel);
        sel = pl_malloc(((size_t)b->n_rows + 1) * sizeof *sel);
        if (!sel) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        for (int64_t i = 0; i < b->n_rows; i++)
            if ((mark[base + i] != 0) == want) sel[n++] = (int32_t)i;
        base += b->n_rows;
        if (n == b->n_rows) {
            st = pl_table_append(nt, b, err);
        } else if (n > 0) {
            pl_batch *nb = NULL;
            st = pl_batch_take_i32(b, sel, n, &nb, err);
            if (st == PL_OK) st = pl_table_append(nt, nb, err);
            pl_batch_release(nb);
        }
    }
    pl_free(sel);
    if (st) {
        pl_table_release(nt);
        return st;
    }
    *out = nt;
    return PL_OK;
}

/* The table after an update: old's rows with columns col[i] (i < n_set) replaced, for the rows
 * with pos[row] >= 0, by row pos[row] of vals->columns[i + 1]; schema: the new table's (the
 * replaced columns' types may differ from old's only when every row is replaced). */
static pl_status apply_updates(pl_table *old, pl_schema *schema, pl_batch *vals, int32_t n_set,
                               const int32_t *col, const int64_t *pos, pl_table **out,
                               pl_error *err) {
    pl_table *nt = NULL;
    PL_TRY(pl_table_new(schema, &nt, err));
    int32_t n_cols = schema->n_fields;
    pl_array **cols = pl_calloc((size_t)n_cols + 1, sizeof *cols);
    int64_t *from = NULL, *idx = NULL;
    pl_status st = cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    int64_t base = 0;
    for (int64_t bi = 0; st == PL_OK && bi < old->n_batches; bi++) {
        pl_batch *b = old->batches[bi];
        int64_t n = b->n_rows, m = 0;
        if (n == 0) continue; /* (its columns may have the old types) */
        pl_free(from);
        pl_free(idx);
        from = pl_malloc(((size_t)n + 1) * sizeof *from);
        idx = pl_malloc(((size_t)n + 1) * sizeof *idx);
        if (!from || !idx) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        /* idx: row i of the new column in concat(old column, the batch's new values) */
        for (int64_t i = 0; i < n; i++) {
            int64_t p = pos[base + i];
            if (p >= 0) {
                from[m] = p;
                idx[i] = n + m++;
            } else {
                idx[i] = i;
            }
        }
        base += n;
        if (m == 0 && pl_schema_equals(schema, b->schema)) {
            st = pl_table_append(nt, b, err);
            continue;
        }
        for (int32_t k = 0; k < n_cols; k++) cols[k] = pl_array_retain(b->columns[k]);
        for (int32_t s_idx = 0; st == PL_OK && s_idx < n_set && m > 0; s_idx++) {
            pl_array *part = NULL, *both = NULL, *res = NULL;
            int32_t k = col[s_idx];
            st = pl_array_take(vals->columns[s_idx + 1], from, m, &part, err);
            if (st == PL_OK && m == n) {
                for (int64_t i = 0; i < n; i++) idx[i] -= n;
                st = pl_array_take(part, idx, n, &res, err);
                for (int64_t i = 0; i < n; i++) idx[i] += n;
            } else if (st == PL_OK) {
                pl_array *two[2] = {b->columns[k], part};
                st = pl_array_concat(2, two, &both, err);
                if (st == PL_OK) st = pl_array_take(both, idx, n, &res, err);
            }
            pl_array_release(part);
            pl_array_release(both);
            if (st == PL_OK) {
                pl_array_release(cols[k]);
                cols[k] = res;
            }
        }
        if (st) {
            for (int32_t k = 0; k < n_cols; k++) pl_array_release(cols[k]);
            break;
        }
        pl_batch *nb = NULL;
        st = pl_batch_new(pl_schema_retain(schema), n, cols, &nb, err);
        if (st == PL_OK) st = pl_table_append(nt, nb, err);
        pl_batch_release(nb);
    }
    pl_free(cols);
    pl_free(from);
    pl_free(idx);
    if (st) {
        pl_table_release(nt);
        return st;
    }
    *out = nt;
    return PL_OK;
}

/* ---------------------------------------------------------------- RETURNING */

pl_status pl_sql_returning(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                           pl_table *rows, size_t n_list, PgQuery__Node *const *list,
                           pl_sql_result *r, pl_error *err) {
    node_pool np = {0};
    over_query q = {n_list, (PgQuery__Node **)list, 0, NULL, NULL, NULL};
    pl_df *df = NULL;
    pl_table *t = NULL;
    pl_status st = plan_over(s, c, rel, rows, &q, &np, &df, err);
    if (st == PL_OK) st = pl_df_collect(df, &s->opts, &t, err);
    pl_df_release(df);
    df = NULL;
    if (st == PL_OK) st = pl_df_from_table(t, &df, err);
    pl_table_release(t);
    pool_free(&np);
    if (st) return st;
    pl_df_release(r->df);
    r->df = df;
    return PL_OK;
}

/* The end of UPDATE / DELETE: RETURNING (when asked) over the rows of `from` with a mark, then
 * *nt (taken) replaces the table rel names. */
static pl_status finish_change(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                               size_t n_ret, PgQuery__Node *const *ret, pl_table *from,
                               const uint8_t *mark, pl_table **nt, int64_t n_changed,
                               pl_sql_result *r, pl_error *err) {
    if (n_ret) {
        pl_table *rows = NULL;
        PL_TRY(pl_sql_pick_rows(from, mark, true, &rows, err));
        pl_status st = pl_sql_returning(s, c, rel, rows, n_ret, ret, r, err);
        pl_table_release(rows);
        PL_TRY(st);
    }
    pl_sql_replace_table(pl_session_find(s, rel->relname), *nt);
    *nt = NULL;
    r->rows_changed = n_changed;
    return PL_OK;
}

/* ---------------------------------------------------------------- DELETE */

pl_status pl_sql_run_delete(pl_session *s, const pl_stmt_ctx *c, const PgQuery__DeleteStmt *st,
                            pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "DELETE");
    pl_cat_entry *e = NULL;
    PL_TRY(pl_sql_table_entry(s, st->relation, "delete from", &e, err));
    pl_table *old = pl_table_retain(e->table), *rid = NULL, *res = NULL, *kept = NULL;
    node_pool np = {0};
    pl_df *q = NULL;
    uint8_t *mark = NULL;
    int64_t n_gone = 0;
    pl_status rc = with_rowids(old, &rid, err);
    PgQuery__Node *tg = mk_target(&np, mk_colref(&np, target_alias(st->relation), DML_ROWID), "__r");
    if (rc == PL_OK && !tg) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    over_query oq = {1, &tg, st->n_using_clause, st->using_clause, st->where_clause, st->with_clause};
    if (rc == PL_OK) rc = plan_over(s, c, st->relation, rid, &oq, &np, &q, err);
    if (rc == PL_OK) rc = pl_df_collect(q, &s->opts, &res, err);
    if (rc == PL_OK) rc = mark_rows(res, old->n_rows, &mark, NULL, &n_gone, err);
    if (rc == PL_OK) rc = pl_sql_pick_rows(old, mark, false, &kept, err);
    if (rc == PL_OK)
        rc = finish_change(s, c, st->relation, st->n_returning_list, st->returning_list, old, mark,
                           &kept, n_gone, r, err);
    pl_free(mark);
    pl_df_release(q);
    pool_free(&np);
    pl_table_release(old);
    pl_table_release(rid);
    pl_table_release(res);
    pl_table_release(kept);
    return rc;
}

/* ---------------------------------------------------------------- TRUNCATE */

pl_status pl_sql_run_truncate(pl_session *s, const pl_stmt_ctx *c, const PgQuery__TruncateStmt *st,
                              pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "TRUNCATE");
    /* all names are checked before anything is emptied */
    int64_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < st->n_relations; i++) {
            const PgQuery__Node *rn = st->relations[i];
            if (rn->node_case != PG_QUERY__NODE__NODE_RANGE_VAR)
                return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "TRUNCATE needs a table name");
            pl_cat_entry *e = NULL;
            PL_TRY(pl_sql_table_entry(s, rn->range_var, "truncate", &e, err));
            if (pass == 0) continue;
            pl_table *nt = NULL;
            PL_TRY(pl_table_new(e->table->schema, &nt, err));
            n += e->table->n_rows;
            pl_sql_replace_table(e, nt);
        }
    }
    r->rows_changed = n;
    return PL_OK;
}

/* ---------------------------------------------------------------- UPDATE */

/* Casts the values planned for columns col[0..n) of table e (query columns 1..n; column 0 the
 * row numbers) to the columns' types (cast errors point at at[i] when given); a SET c =
 * DEFAULT column (is_default) gets c's DEFAULT. */
static pl_status cast_values(const pl_session *s, pl_cat_entry *e, pl_schema *types, pl_df *q, int32_t n,
                             const int32_t *col, const bool *is_default, const int32_t *at,
                             pl_df **out, pl_error *err) {
    pl_schema *in = pl_df_schema(q);
    pl_expr **exprs = pl_calloc((size_t)n + 2, sizeof *exprs);
    const char **names = pl_calloc((size_t)n + 2, sizeof *names);
    pl_status st = exprs && names ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; st == PL_OK && i <= n; i++) {
        names[i] = in->fields[i].name;
        pl_type *want = i == 0 ? NULL : types->fields[col[i - 1]].type;
        pl_expr *x = pl_expr_col_index(i, in->fields[i].name);
        if (i > 0 && is_default && is_default[i - 1]) {
            pl_expr_release(x);
            x = pl_sql_fill_expr(s, e, col[i - 1]);
        } else if (i > 0 && x && !pl_type_equals(in->fields[i].type, want)) {
            x = pl_sql_cast_column(s, x, pl_type_retain(want));
            if (x && at) x->sql_pos = at[i - 1];
        }
        exprs[i] = x;
        if (!x) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (st == PL_OK) st = pl_df_select(q, n + 1, exprs, names, out, err);
    for (int32_t i = 0; exprs && i <= n; i++) pl_expr_release(exprs[i]);
    pl_free(exprs);
    pl_free(names);
    return st;
}

/* The schema of (row number, the values of columns col[0..n) of types). */
static pl_status values_schema(pl_schema *types, int32_t n, const int32_t *col, pl_schema **out,
                               pl_error *err) {
    pl_field *f = pl_calloc((size_t)n + 2, sizeof *f);
    if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int32_t k = 0;
    pl_status st = pl_field_init(&f[0], "__r", pl_type_simple(PL_TYPE_INT64), true, err);
    if (st == PL_OK) k = 1;
    for (; st == PL_OK && k <= n; k++)
        st = pl_field_init(&f[k], types->fields[col[k - 1]].name, types->fields[col[k - 1]].type, true,
                           err);
    if (st == PL_OK) st = pl_schema_new(n + 1, f, out, err);
    for (int32_t i = 0; i < k; i++) pl_field_reset(&f[i]);
    pl_free(f);
    return st;
}

/* Runs the planned (row number, values...) query q, casts the values to the types the columns
 * col[0..n) have in `schema` and makes the new table from old. *n_changed: result rows. */
static pl_status update_table(pl_session *s, pl_cat_entry *e, pl_table *old, pl_schema *schema,
                              pl_df *q, int32_t n, const int32_t *col, const bool *is_default,
                              const int32_t *at, pl_table **out, uint8_t **mark, int64_t *n_changed,
                              pl_error *err) {
    pl_df *cast = NULL;
    pl_table *res = NULL, *vals = NULL;
    pl_schema *vs = NULL;
    pl_batch *one = NULL;
    int64_t *pos = NULL, n_marked = 0;
    pl_status st = cast_values(s, e, schema, q, n, col, is_default, at, &cast, err);
    if (st == PL_OK) st = pl_df_collect(cast, &s->opts, &res, err);
    if (st == PL_OK) st = values_schema(schema, n, col, &vs, err);
    if (st == PL_OK) st = pl_sql_conform_table(res, vs, &vals, err);
    if (st == PL_OK) st = mark_rows(vals, old->n_rows, mark, &pos, &n_marked, err);
    if (st == PL_OK && vals->n_rows > 0) st = pl_table_combine(vals, &one, err);
    if (st == PL_OK && one) st = apply_updates(old, schema, one, n, col, pos, out, err);
    else if (st == PL_OK && pl_schema_equals(schema, old->schema)) *out = pl_table_retain(old);
    else if (st == PL_OK) st = pl_table_new(schema, out, err); /* ALTER TYPE of an empty table */
    if (st == PL_OK) *n_changed = vals->n_rows;
    pl_free(pos);
    pl_batch_release(one);
    pl_schema_release(vs);
    pl_table_release(vals);
    pl_table_release(res);
    pl_df_release(cast);
    return st;
}

/* The SET list of UPDATE (or ON CONFLICT DO UPDATE): for item i, the table column col[i] of sc,
 * whether it is DEFAULT, the position of its value, and targets[i + 1] the value AS "__v<i>". */
static pl_status set_targets(const pl_stmt_ctx *c, const pl_cat_entry *e, pl_schema *sc,
                             node_pool *np, int32_t n, PgQuery__Node *const *list, int32_t *col,
                             bool *is_default, int32_t *at, PgQuery__Node **targets, pl_error *err) {
    pl_status rc = PL_OK;
    for (int32_t i = 0; rc == PL_OK && i < n; i++) {
        const PgQuery__Node *tn = list[i];
        if (tn->node_case != PG_QUERY__NODE__NODE_RES_TARGET) {
            rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "malformed SET item");
            break;
        }
        const PgQuery__ResTarget *rt = tn->res_target;
        if (rt->n_indirection > 0) {
            rc = pl_sql_fail_at(err, rt->location, PL_ERR_UNSUPPORTED,
                                "SET takes plain column names (not \"%s.\" or subscripts)", rt->name);
            break;
        }
        int32_t j = pl_sql_find_column(sc, rt->name);
        if (j < 0) {
            rc = pl_sql_fail_at(err, rt->location, PL_ERR_NOT_FOUND, "table \"%s\" has no column \"%s\"",
                                e->name, rt->name);
            break;
        }
        for (int32_t k = 0; k < i; k++)
            if (col[k] == j)
                rc = pl_sql_fail_at(err, rt->location, PL_ERR_SQL,
                                    "multiple assignments to the same column \"%s\"", sc->fields[j].name);
        col[i] = j;
        at[i] = rt->val ? pl_sql_node_location(rt->val) : -1;
        if (at[i] < 0) at[i] = rt->location;
        is_default[i] = rt->val && rt->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT;
        PgQuery__Node *val = is_default[i] ? mk_null(np) : rt->val;
        targets[i + 1] = mk_target(np, val, value_name(np, (size_t)i));
        if (rc == PL_OK && !targets[i + 1]) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    return rc;
}

pl_status pl_sql_run_update(pl_session *s, const pl_stmt_ctx *c, const PgQuery__UpdateStmt *st,
                            pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "UPDATE");
    pl_cat_entry *e = NULL;
    PL_TRY(pl_sql_table_entry(s, st->relation, "update", &e, err));
    pl_table *old = pl_table_retain(e->table), *rid = NULL, *nt = NULL;
    pl_schema *sc = old->schema;
    int32_t n = (int32_t)st->n_target_list;
    node_pool np = {0};
    pl_df *q = NULL;
    uint8_t *mark = NULL;
    int64_t n_changed = 0;
    int32_t *col = pl_calloc((size_t)n + 1, sizeof *col);
    bool *is_default = pl_calloc((size_t)n + 1, sizeof *is_default);
    int32_t *at = pl_calloc((size_t)n + 1, sizeof *at);
    PgQuery__Node **targets = pool_new(&np, ((size_t)n + 1) * sizeof *targets);
    pl_status rc = col && is_default && at && targets ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (rc == PL_OK) {
        targets[0] = mk_target(&np, mk_colref(&np, target_alias(st->relation), DML_ROWID), "__r");
        if (!targets[0]) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (rc == PL_OK) rc = set_targets(c, e, sc, &np, n, st->target_list, col, is_default, at, targets, err);
    if (rc == PL_OK) rc = with_rowids(old, &rid, err);
    over_query oq = {(size_t)n + 1, targets, st->n_from_clause, st->from_clause, st->where_clause,
                     st->with_clause};
    if (rc == PL_OK) rc = plan_over(s, c, st->relation, rid, &oq, &np, &q, err);
    if (rc == PL_OK) {
        e = pl_session_find(s, st->relation->relname);
        rc = pl_sql_at(err, c->pos,
                       update_table(s, e, old, sc, q, n, col, is_default, at, &nt, &mark, &n_changed, err));
    }
    if (rc == PL_OK) rc = pl_sql_check_not_null(e->name, nt, c->pos, err);
    bool key_set = false;
    for (int32_t i = 0; rc == PL_OK && i < n; i++)
        key_set |= pl_sql_key_of_column(e->keys, e->n_keys, col[i]) >= 0;
    if (rc == PL_OK && key_set) rc = pl_sql_check_keys(e, NULL, nt, c->pos, err);
    /* no key column set: the rows keep their keys and row numbers, the key index stays */
    pl_key_index *ix = rc == PL_OK && !key_set ? pl_sql_key_index_take(e) : NULL;
    if (rc == PL_OK)
        rc = finish_change(s, c, st->relation, st->n_returning_list, st->returning_list, nt, mark,
                           &nt, n_changed, r, err);
    pl_cat_entry *after = ix ? pl_session_find(s, st->relation->relname) : NULL;
    if (after) pl_sql_key_index_put(after, ix, NULL);
    else pl_sql_key_index_free(ix);
    pl_free(col);
    pl_free(is_default);
    pl_free(at);
    pl_free(mark);
    pl_df_release(q);
    pool_free(&np);
    pl_table_release(old);
    pl_table_release(rid);
    pl_table_release(nt);
    return rc;
}

/* ---------------------------------------------------------------- ALTER TABLE */

/* The table being altered: each command makes a new version; the catalog gets the last. */
typedef struct alter_state {
    pl_table *t;
    pl_expr **defaults; /* [t->schema->n_fields] */
    pl_cat_key *keys;   /* PRIMARY KEY / UNIQUE (columns of t) */
    int32_t n_keys;
} alter_state;

/* Refuses a change of column j (what: "drop", ...) when a key has it. */
static pl_status not_in_key(const alter_state *as, int32_t j, const char *what, int32_t pos,
                            pl_error *err) {
    int32_t k = pl_sql_key_of_column(as->keys, as->n_keys, j);
    if (k < 0) return PL_OK;
    return pl_sql_fail_at(err, pos, PL_ERR_SQL, "cannot %s column \"%s\": it is in a %s constraint", what,
                          as->t->schema->fields[j].name, as->keys[k].primary ? "PRIMARY KEY" : "UNIQUE");
}

static void free_defaults(pl_expr **d, int32_t n) {
    for (int32_t i = 0; d && i < n; i++) pl_expr_release(d[i]);
    pl_free(d);
}

/* A copy of sc's fields with room for `extra` more (free with free_fields). */
static pl_status copy_fields(const pl_schema *sc, int32_t extra, pl_field **out, pl_error *err) {
    pl_field *f = pl_calloc((size_t)(sc->n_fields + extra) + 1, sizeof *f);
    if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < sc->n_fields; k++) {
        pl_status st = pl_field_init(&f[k], sc->fields[k].name, sc->fields[k].type,
                                     sc->fields[k].nullable, err);
        if (st) {
            for (int32_t i = 0; i < k; i++) pl_field_reset(&f[i]);
            pl_free(f);
            return st;
        }
    }
    *out = f;
    return PL_OK;
}

static void free_fields(pl_field *f, int32_t n) {
    for (int32_t k = 0; f && k < n; k++) pl_field_reset(&f[k]);
    pl_free(f);
}

/* t's rows under the schema of fields[0..n): column k is t's column src[k], or (src[k] < 0)
 * `added` evaluated over the batch (bound to t's schema). */
static pl_status rebuild(pl_table *t, pl_field *fields, int32_t n, const int32_t *src,
                         const pl_expr *added, pl_table **out, pl_error *err) {
    pl_schema *ns = NULL;
    pl_table *nt = NULL;
    pl_bexpr *bx = NULL;
    pl_array **cols = pl_calloc((size_t)n + 1, sizeof *cols);
    pl_status st = cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) st = pl_schema_new(n, fields, &ns, err);
    if (st == PL_OK) st = pl_table_new(ns, &nt, err);
    if (st == PL_OK && added) st = pl_expr_bind(added, t->schema, &bx, err);
    for (int64_t bi = 0; st == PL_OK && bi < t->n_batches; bi++) {
        pl_batch *b = t->batches[bi];
        int32_t k = 0;
        for (; st == PL_OK && k < n; k++) {
            if (src[k] >= 0) {
                cols[k] = pl_array_retain(b->columns[src[k]]);
            } else {
                pl_eval_ctx ec = {NULL, 0, NULL};
                st = pl_bexpr_eval_array(&ec, bx, b, &cols[k], err);
                pl_array *plain = NULL;
                if (st == PL_OK && cols[k]->type->id == PL_TYPE_DICTIONARY) {
                    st = pl_array_decode_dictionary(cols[k], &plain, err);
                    pl_array_release(cols[k]);
                    cols[k] = plain;
                }
                if (st) cols[k] = NULL;
            }
        }
        if (st) {
            for (int32_t i = 0; i < k; i++) pl_array_release(cols[i]);
            break;
        }
        pl_batch *nb = NULL;
        st = pl_batch_new(pl_schema_retain(ns), b->n_rows, cols, &nb, err);
        if (st == PL_OK) st = pl_table_append(nt, nb, err);
        pl_batch_release(nb);
    }
    pl_bexpr_free(bx);
    pl_free(cols);
    pl_schema_release(ns);
    if (st) {
        pl_table_release(nt);
        return st;
    }
    *out = nt;
    return PL_OK;
}

/* Makes nt (taken) the state's table. */
static void alter_set(alter_state *as, pl_table *nt) {
    pl_table_release(as->t);
    as->t = nt;
}

/* Column `name` of the state's table, or an error (PL_ERR_NOT_FOUND) at pos. */
static pl_status alter_column(const alter_state *as, const char *table, const char *name,
                              int32_t pos, int32_t *out, pl_error *err) {
    int32_t j = name ? pl_sql_find_column(as->t->schema, name) : -1;
    if (j < 0)
        return pl_sql_fail_at(err, pos, PL_ERR_NOT_FOUND, "table \"%s\" has no column \"%s\"", table,
                              name ? name : "");
    *out = j;
    return PL_OK;
}

/* The identity column map of n columns, without column `skip` (-1: none), plus `extra` slots
 * of -1. */
static int32_t *column_map(int32_t n, int32_t skip, int32_t extra) {
    int32_t *m = pl_calloc((size_t)(n + extra) + 1, sizeof *m);
    if (!m) return NULL;
    int32_t k = 0;
    for (int32_t i = 0; i < n; i++)
        if (i != skip) m[k++] = i;
    for (int32_t i = 0; i < extra; i++) m[k++] = -1;
    return m;
}

static pl_status alter_add(pl_session *s, const pl_stmt_ctx *c, const char *table, alter_state *as,
                           const PgQuery__AlterTableCmd *cmd, pl_error *err) {
    if (!cmd->def || cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "ADD COLUMN needs a column definition");
    const PgQuery__ColumnDef *cd = cmd->def->column_def;
    pl_schema *sc = as->t->schema;
    int32_t n = sc->n_fields;
    if (pl_sql_find_column(sc, cd->colname) >= 0) {
        if (cmd->missing_ok) return PL_OK; /* ADD COLUMN IF NOT EXISTS */
        return pl_sql_fail_at(err, cd->location, PL_ERR_SQL, "column \"%s\" of table \"%s\" already exists",
                              cd->colname, table);
    }
    pl_field *f = NULL;
    pl_expr *d = NULL, *fill = NULL;
    pl_table *nt = NULL;
    int32_t *map = column_map(n, -1, 1);
    pl_status st = map ? copy_fields(sc, 1, &f, err) : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) st = pl_sql_column_def(s, c, cd, &f[n], &d, NULL, err);
    int32_t n_f = st == PL_OK ? n + 1 : n;
    if (st == PL_OK) {
        pl_expr *v = d ? pl_expr_retain(d) : pl_expr_lit_null();
        fill = pl_sql_cast_column(s, v, pl_type_retain(f[n].type));
        if (!fill) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (st == PL_OK) st = pl_sql_at(err, cd->location, rebuild(as->t, f, n + 1, map, fill, &nt, err));
    if (st == PL_OK) st = pl_sql_check_not_null(table, nt, cd->location, err);
    pl_expr **nd = NULL;
    if (st == PL_OK && !(nd = pl_calloc((size_t)n + 2, sizeof *nd)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) {
        for (int32_t k = 0; k < n; k++) nd[k] = as->defaults[k];
        nd[n] = d;
        d = NULL;
        pl_free(as->defaults);
        as->defaults = nd;
        alter_set(as, nt);
        nt = NULL;
    }
    pl_expr_release(d);
    pl_expr_release(fill);
    pl_table_release(nt);
    free_fields(f, n_f);
    pl_free(map);
    return st;
}

static pl_status alter_drop(const pl_stmt_ctx *c, const char *table, alter_state *as,
                            const PgQuery__AlterTableCmd *cmd, pl_error *err) {
    pl_schema *sc = as->t->schema;
    int32_t n = sc->n_fields, j = pl_sql_find_column(sc, cmd->name ? cmd->name : "");
    if (j < 0 && cmd->missing_ok) return PL_OK;
    PL_TRY(alter_column(as, table, cmd->name, c->pos, &j, err));
    PL_TRY(not_in_key(as, j, "drop", c->pos, err));
    if (n == 1)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                              "cannot drop column \"%s\": it is the only column of table \"%s\"",
                              sc->fields[j].name, table);
    pl_field *f = NULL;
    pl_table *nt = NULL;
    int32_t *map = column_map(n, j, 0);
    pl_status st = map ? copy_fields(sc, 0, &f, err) : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) {
        pl_field gone = f[j];
        memmove(&f[j], &f[j + 1], (size_t)(n - j - 1) * sizeof *f);
        f[n - 1] = gone;
        st = rebuild(as->t, f, n - 1, map, NULL, &nt, err);
    }
    if (st == PL_OK) {
        pl_expr_release(as->defaults[j]);
        memmove(&as->defaults[j], &as->defaults[j + 1], (size_t)(n - j - 1) * sizeof *as->defaults);
        as->defaults[n - 1] = NULL;
        for (int32_t k = 0; k < as->n_keys; k++)
            for (int32_t i = 0; i < as->keys[k].n_cols; i++) as->keys[k].cols[i] -= as->keys[k].cols[i] > j;
        alter_set(as, nt);
    }
    free_fields(f, f ? n : 0);
    pl_free(map);
    return st;
}

/* Column j renamed, or its NOT NULL flag changed (nullable: 0/1, -1 = unchanged). */
static pl_status alter_field(const char *table, alter_state *as, int32_t j, const char *new_name,
                             int nullable, int32_t pos, pl_error *err) {
    pl_schema *sc = as->t->schema;
    int32_t n = sc->n_fields;
    pl_field *f = NULL;
    pl_table *nt = NULL;
    int32_t *map = column_map(n, -1, 0);
    pl_status st = map ? copy_fields(sc, 0, &f, err) : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK && new_name) {
        pl_field_reset(&f[j]);
        st = pl_field_init(&f[j], new_name, sc->fields[j].type, sc->fields[j].nullable, err);
        if (st) {
            memmove(&f[j], &f[j + 1], (size_t)(n - j - 1) * sizeof *f); /* f[j] is reset */
            n--;
        }
    }
    if (st == PL_OK && nullable >= 0) f[j].nullable = nullable;
    if (st == PL_OK) st = rebuild(as->t, f, n, map, NULL, &nt, err);
    if (st == PL_OK && nullable == 0) st = pl_sql_check_not_null(table, nt, pos, err);
    if (st == PL_OK) {
        alter_set(as, nt);
        nt = NULL;
    }
    pl_table_release(nt);
    free_fields(f, f ? n : 0);
    pl_free(map);
    return st;
}

static pl_status alter_type(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                            alter_state *as, const PgQuery__AlterTableCmd *cmd, pl_error *err) {
    int32_t j = -1;
    PL_TRY(alter_column(as, rel->relname, cmd->name, c->pos, &j, err));
    PL_TRY(not_in_key(as, j, "change the type of", c->pos, err));
    if (!cmd->def || cmd->def->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF ||
        !cmd->def->column_def->type_name)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "ALTER COLUMN TYPE needs a type");
    const PgQuery__ColumnDef *cd = cmd->def->column_def;
    pl_schema *sc = as->t->schema;
    int32_t n = sc->n_fields;
    pl_type *type = NULL;
    pl_field *f = NULL;
    pl_schema *ns = NULL;
    pl_table *rid = NULL, *nt = NULL;
    pl_df *q = NULL;
    uint8_t *mark = NULL;
    int64_t n_rows = 0;
    node_pool np = {0};
    int32_t pos = cd->location >= 0 ? cd->location : c->pos;
    pl_status st = pl_sql_at(err, pos, pl_sql_type_from_node(c->sql, cd->type_name, &type, err));
    if (st == PL_OK) st = copy_fields(sc, 0, &f, err);
    if (st == PL_OK) {
        pl_field_reset(&f[j]);
        st = pl_field_init(&f[j], sc->fields[j].name, type, sc->fields[j].nullable, err);
        if (st) { /* f[j] is reset: leave it out of the cleanup */
            memmove(&f[j], &f[j + 1], (size_t)(n - j - 1) * sizeof *f);
            n--;
        }
    }
    if (st == PL_OK) st = pl_schema_new(n, f, &ns, err);
    /* SELECT rowid, <USING expression or the column> FROM the table */
    PgQuery__Node **targets = pool_new(&np, 2 * sizeof *targets);
    if (st == PL_OK && targets) {
        const char *alias = target_alias(rel);
        targets[0] = mk_target(&np, mk_colref(&np, alias, DML_ROWID), "__r");
        targets[1] = mk_target(&np, cd->raw_default ? cd->raw_default
                                                    : mk_colref(&np, alias, sc->fields[j].name),
                               "__v0");
    }
    if (st == PL_OK && (!targets || !targets[0] || !targets[1]))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    over_query oq = {2, targets, 0, NULL, NULL, NULL};
    if (st == PL_OK) st = with_rowids(as->t, &rid, err);
    if (st == PL_OK) st = plan_over(s, c, rel, rid, &oq, &np, &q, err);
    if (st == PL_OK) {
        pl_cat_entry *e = pl_session_find(s, rel->relname);
        st = pl_sql_at(err, pos, update_table(s, e, as->t, ns, q, 1, &j, NULL, &pos, &nt, &mark, &n_rows, err));
    }
    if (st == PL_OK) st = pl_sql_check_not_null(rel->relname, nt, pos, err);
    if (st == PL_OK) {
        alter_set(as, nt);
        nt = NULL;
    }
    pl_free(mark);
    pl_df_release(q);
    pool_free(&np);
    pl_table_release(rid);
    pl_table_release(nt);
    pl_schema_release(ns);
    free_fields(f, f ? n : 0);
    pl_type_release(type);
    return st;
}

static pl_status alter_default(pl_session *s, const pl_stmt_ctx *c, const char *table,
                               alter_state *as, const PgQuery__AlterTableCmd *cmd, pl_error *err) {
    int32_t j = -1;
    PL_TRY(alter_column(as, table, cmd->name, c->pos, &j, err));
    pl_expr *d = NULL;
    if (cmd->def) {
        int32_t pos = pl_sql_node_location(cmd->def);
        PL_TRY(pl_sql_at(err, pos >= 0 ? pos : c->pos, pl_sql_plan_const_expr(s, c->sql, cmd->def, &d, err)));
    }
    pl_expr_release(as->defaults[j]);
    as->defaults[j] = d;
    return PL_OK;
}

static pl_status alter_cmd(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                           alter_state *as, const PgQuery__AlterTableCmd *cmd, pl_error *err) {
    const char *table = rel->relname;
    int32_t j = -1;
    switch (cmd->subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn: return alter_add(s, c, table, as, cmd, err);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn: return alter_drop(c, table, as, cmd, err);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType: return alter_type(s, c, rel, as, cmd, err);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ColumnDefault: return alter_default(s, c, table, as, cmd, err);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull:
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull:
        PL_TRY(alter_column(as, table, cmd->name, c->pos, &j, err));
        if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull) {
            int32_t k = pl_sql_key_of_column(as->keys, as->n_keys, j);
            if (k >= 0 && as->keys[k].primary)
                return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "column \"%s\" is in a primary key",
                                      as->t->schema->fields[j].name);
        }
        return alter_field(table, as, j, NULL,
                           cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull, c->pos, err);
    default: {
        pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "unsupported form of ALTER TABLE");
        if (err)
            snprintf(err->hint, sizeof err->hint,
                     "supported: ADD/DROP/RENAME COLUMN, RENAME TO, ALTER COLUMN TYPE [USING], "
                     "SET/DROP DEFAULT, SET/DROP NOT NULL");
        return PL_ERR_UNSUPPORTED;
    }
    }
}

/* The entry ALTER names (a table), or NULL with PL_OK for IF EXISTS of a missing one. */
static pl_status alter_target(pl_session *s, const PgQuery__RangeVar *rel, bool missing_ok,
                              pl_cat_entry **out, pl_error *err) {
    *out = NULL;
    pl_cat_entry *e = pl_session_find(s, rel->relname);
    if (!e && missing_ok) return PL_OK;
    return pl_sql_table_entry(s, rel, "alter", out, err);
}

pl_status pl_sql_run_alter(pl_session *s, const pl_stmt_ctx *c, const PgQuery__AlterTableStmt *st,
                           pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "ALTER TABLE");
    if (st->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || !st->relation)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "only ALTER TABLE is supported");
    pl_cat_entry *e = NULL;
    PL_TRY(alter_target(s, st->relation, st->missing_ok, &e, err));
    if (!e) return PL_OK;
    int32_t n = e->table->schema->n_fields;
    alter_state as = {pl_table_retain(e->table), pl_calloc((size_t)n + 1, sizeof(pl_expr *)), NULL, 0};
    pl_status rc = as.defaults ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (rc == PL_OK) rc = pl_sql_keys_copy(e->keys, e->n_keys, &as.keys, err);
    if (rc == PL_OK) as.n_keys = e->n_keys;
    for (int32_t k = 0; rc == PL_OK && e->defaults && k < n; k++)
        as.defaults[k] = e->defaults[k] ? pl_expr_retain(e->defaults[k]) : NULL;
    for (size_t i = 0; rc == PL_OK && i < st->n_cmds; i++) {
        const PgQuery__Node *cn = st->cmds[i];
        if (cn->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
            rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "malformed ALTER TABLE command");
        else rc = alter_cmd(s, c, st->relation, &as, cn->alter_table_cmd, err);
    }
    if (rc == PL_OK) {
        e = pl_session_find(s, st->relation->relname);
        free_defaults(e->defaults, e->table->schema->n_fields);
        e->defaults = as.defaults;
        pl_sql_keys_free(e->keys, e->n_keys);
        e->keys = as.keys;
        e->n_keys = as.n_keys;
        pl_sql_replace_table(e, as.t);
        return PL_OK;
    }
    pl_sql_keys_free(as.keys, as.n_keys);
    free_defaults(as.defaults, as.t->schema->n_fields);
    pl_table_release(as.t);
    return rc;
}

pl_status pl_sql_run_rename(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RenameStmt *st,
                            pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "ALTER TABLE");
    bool is_col = st->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN &&
                  st->relation_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE;
    bool is_table = st->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE;
    bool is_view = st->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW;
    if ((!is_col && !is_table && !is_view) || !st->relation || !st->newname || !*st->newname)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED,
                              "only ALTER TABLE RENAME [COLUMN] and ALTER VIEW RENAME TO are supported");
    if (is_view) snprintf(r->tag, sizeof r->tag, "ALTER VIEW");
    pl_cat_entry *e = pl_session_find(s, st->relation->relname);
    if (!e && st->missing_ok) return PL_OK;
    if (is_view) {
        if (!e || e->kind != PL_CAT_VIEW)
            return pl_sql_fail_at(err, st->relation->location, PL_ERR_NOT_FOUND,
                                  "view \"%s\" does not exist", st->relation->relname);
    } else {
        PL_TRY(pl_sql_table_entry(s, st->relation, "alter", &e, err));
    }
    if (!is_col) {
        pl_cat_entry *other = pl_session_find_in(s, st->newname, e->temp); /* its namespace */
        if (other && other != e)
            return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "%s \"%s\" already exists",
                                  other->kind == PL_CAT_TABLE ? "table" : "view", other->name);
        char *name = pl_strdup(st->newname);
        if (!name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        pl_free(e->name);
        e->name = name;
        return PL_OK;
    }
    alter_state as = {pl_table_retain(e->table), NULL, NULL, 0};
    int32_t j = -1;
    pl_status rc = alter_column(&as, e->name, st->subname, c->pos, &j, err);
    int32_t k = rc == PL_OK ? pl_sql_find_column(as.t->schema, st->newname) : -1;
    if (k >= 0 && k != j)
        rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "column \"%s\" of table \"%s\" already exists",
                            st->newname, e->name);
    if (rc == PL_OK) rc = alter_field(e->name, &as, j, st->newname, -1, c->pos, err);
    if (rc == PL_OK) {
        pl_sql_replace_table(e, as.t);
        return PL_OK;
    }
    pl_table_release(as.t);
    return rc;
}

/* ---------------------------------------------------------------- ON CONFLICT DO UPDATE */

/* the column names the new rows (excluded.x) are planned under, next to the old row's */
#define DML_EXCLUDED "__pl_excluded_"

/* excluded.x -> <target alias>.__pl_excluded_x in the SET values and WHERE of DO UPDATE; the
 * strings replaced are put back after planning (the tree is the caller's). */
typedef struct excl_names {
    node_pool *np;
    const char *alias;
    const pl_schema *sc;              /* the table's columns */
    const PgQuery__ColumnRef *bad;    /* excluded.x of no column x */
    PgQuery__String **strs;
    char **was;
    int32_t n, cap;
    bool oom;
} excl_names;

static void excl_swap(excl_names *x, PgQuery__String *str, char *to) {
    if (x->n == x->cap) {
        int32_t cap = x->cap ? x->cap * 2 : 8;
        PgQuery__String **s = pl_realloc(x->strs, (size_t)cap * sizeof *s);
        if (s) x->strs = s;
        char **w = s ? pl_realloc(x->was, (size_t)cap * sizeof *w) : NULL;
        if (w) x->was = w;
        if (!s || !w) {
            x->oom = true;
            return;
        }
        x->cap = cap;
    }
    x->strs[x->n] = str;
    x->was[x->n++] = str->sval;
    str->sval = to;
}

static bool rename_excluded(ProtobufCMessage *m, void *ctx) {
    excl_names *x = ctx;
    if (m->descriptor == &pg_query__column_ref__descriptor) {
        PgQuery__ColumnRef *cr = (PgQuery__ColumnRef *)m;
        if (cr->n_fields != 2 || cr->fields[0]->node_case != PG_QUERY__NODE__NODE_STRING ||
            cr->fields[1]->node_case != PG_QUERY__NODE__NODE_STRING ||
            strcasecmp(cr->fields[0]->string->sval, "excluded"))
            return false;
        const char *col = cr->fields[1]->string->sval;
        if (pl_sql_find_column(x->sc, col) < 0) {
            x->bad = cr;
            return true;
        }
        char *nm = pool_new(x->np, sizeof DML_EXCLUDED + strlen(col));
        if (!nm) {
            x->oom = true;
            return true;
        }
        snprintf(nm, sizeof DML_EXCLUDED + strlen(col), DML_EXCLUDED "%s", col);
        excl_swap(x, cr->fields[0]->string, (char *)x->alias);
        excl_swap(x, cr->fields[1]->string, nm);
        return x->oom;
    }
    return pl_sql_node_children(m, rename_excluded, ctx);
}

static void excl_restore(excl_names *x) {
    for (int32_t i = x->n - 1; i >= 0; i--) x->strs[i]->sval = x->was[i];
    pl_free(x->strs);
    pl_free(x->was);
}

/* The rows DO UPDATE reads: for each conflict k (by old row number, ascending), the old row's
 * columns, DML_ROWID = its row number, and the new row's columns as DML_EXCLUDED<name>. */
static pl_status upsert_rows(pl_table *old, pl_table *conf, const int64_t *old_ids, pl_table **out,
                             pl_error *err) {
    int64_t m = conf->n_rows;
    pl_schema *sc = old->schema;
    int32_t n = sc->n_fields;
    int64_t *ord = pl_malloc(((size_t)m + 1) * sizeof *ord);
    int32_t *sel = pl_malloc(((size_t)m + 1) * sizeof *sel);
    pl_field *f = pl_calloc((size_t)(2 * n + 1), sizeof *f);
    pl_array **cols = pl_calloc((size_t)(2 * n + 1), sizeof *cols);
    pl_table *g = NULL, *res = NULL;
    pl_batch *gb = NULL, *cb = NULL, *eb = NULL, *nb = NULL;
    pl_schema *rs = NULL;
    pl_builder *bld = NULL;
    int32_t n_init = 0;
    pl_status st = ord && sel && f && cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int64_t k = 0; st == PL_OK && k < m; k++) ord[k] = k;
    if (st == PL_OK) { /* ord: the conflicts by old row number (shell sort) */
        for (int64_t gap = m / 2; gap > 0; gap /= 2)
            for (int64_t i = gap; i < m; i++)
                for (int64_t j = i; j >= gap && old_ids[ord[j - gap]] > old_ids[ord[j]]; j -= gap) {
                    int64_t t = ord[j];
                    ord[j] = ord[j - gap];
                    ord[j - gap] = t;
                }
    }
    /* the old rows, batch by batch */
    if (st == PL_OK) st = pl_table_new(sc, &g, err);
    int64_t k = 0, base = 0;
    for (int64_t bi = 0; st == PL_OK && bi < old->n_batches && k < m; bi++) {
        pl_batch *b = old->batches[bi];
        int64_t cnt = 0;
        while (k < m && old_ids[ord[k]] < base + b->n_rows) sel[cnt++] = (int32_t)(old_ids[ord[k++]] - base);
        base += b->n_rows;
        if (cnt == 0) continue;
        pl_batch *part = NULL;
        st = pl_batch_take_i32(b, sel, cnt, &part, err);
        if (st == PL_OK) st = pl_table_append(g, part, err);
        pl_batch_release(part);
    }
    if (st == PL_OK) st = pl_table_combine(g, &gb, err);
    if (st == PL_OK) st = pl_table_combine(conf, &cb, err);
    for (int64_t i = 0; st == PL_OK && i < m; i++) sel[i] = (int32_t)ord[i];
    if (st == PL_OK) st = pl_batch_take_i32(cb, sel, m, &eb, err);
    /* schema: the table's columns, the row number, the new rows' columns */
    for (; st == PL_OK && n_init < 2 * n + 1; n_init++) {
        char name[320];
        const char *nm = n_init < n ? sc->fields[n_init].name : name;
        if (n_init == n) snprintf(name, sizeof name, "%s", DML_ROWID);
        else if (n_init > n) snprintf(name, sizeof name, DML_EXCLUDED "%s", sc->fields[n_init - n - 1].name);
        pl_type *t = n_init < n ? sc->fields[n_init].type
                     : n_init == n ? pl_type_simple(PL_TYPE_INT64)
                                   : sc->fields[n_init - n - 1].type;
        st = pl_field_init(&f[n_init], nm, t, true, err);
        if (st) break;
    }
    if (st == PL_OK) st = pl_schema_new(2 * n + 1, f, &rs, err);
    if (st == PL_OK) st = pl_builder_new(pl_type_simple(PL_TYPE_INT64), m, &bld, err);
    for (int64_t i = 0; st == PL_OK && i < m; i++) st = pl_builder_append_i64(bld, old_ids[ord[i]], err);
    if (st == PL_OK) st = pl_builder_finish(bld, &cols[n], err);
    if (st == PL_OK) {
        for (int32_t j = 0; j < n; j++) {
            cols[j] = pl_array_retain(gb->columns[j]);
            cols[n + 1 + j] = pl_array_retain(eb->columns[j]);
        }
        st = pl_batch_new(pl_schema_retain(rs), m, cols, &nb, err);
        memset(cols, 0, (size_t)(2 * n + 1) * sizeof *cols); /* taken */
    }
    if (st == PL_OK) st = pl_table_new(rs, &res, err);
    if (st == PL_OK) st = pl_table_append(res, nb, err);
    for (int32_t j = 0; cols && j < 2 * n + 1; j++) pl_array_release(cols[j]);
    for (int32_t j = 0; j < n_init; j++) pl_field_reset(&f[j]);
    pl_builder_free(bld);
    pl_free(ord);
    pl_free(sel);
    pl_free(f);
    pl_free(cols);
    pl_batch_release(gb);
    pl_batch_release(cb);
    pl_batch_release(eb);
    pl_batch_release(nb);
    pl_schema_release(rs);
    pl_table_release(g);
    if (st) {
        pl_table_release(res);
        return st;
    }
    *out = res;
    return PL_OK;
}

pl_status pl_sql_upsert(pl_session *s, const pl_stmt_ctx *c, const PgQuery__InsertStmt *st,
                        const int32_t *replace_cols, int32_t n_replace, pl_table *conf,
                        const int64_t *old_ids, pl_table **nt, uint8_t **mark, int64_t *n_updated,
                        bool *keys_set, pl_error *err) {
    const PgQuery__OnConflictClause *oc = st->on_conflict_clause;
    pl_cat_entry *e = NULL;
    PL_TRY(pl_sql_table_entry(s, st->relation, "insert into", &e, err));
    pl_table *old = pl_table_retain(e->table), *rows = NULL;
    pl_schema *sc = old->schema;
    const char *alias = target_alias(st->relation);
    int32_t n = oc ? (int32_t)oc->n_target_list : n_replace;
    node_pool np = {0};
    excl_names x = {&np, alias, sc, NULL, NULL, NULL, 0, 0, false};
    pl_df *q = NULL;
    int32_t *col = pl_calloc((size_t)n + 1, sizeof *col);
    bool *is_default = pl_calloc((size_t)n + 1, sizeof *is_default);
    int32_t *at = pl_calloc((size_t)n + 1, sizeof *at);
    PgQuery__Node **targets = pool_new(&np, ((size_t)n + 1) * sizeof *targets);
    pl_status rc = col && is_default && at && targets ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (rc == PL_OK) {
        targets[0] = mk_target(&np, mk_colref(&np, alias, DML_ROWID), "__r");
        if (!targets[0]) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (rc == PL_OK && oc) {
        rc = set_targets(c, e, sc, &np, n, oc->target_list, col, is_default, at, targets, err);
        for (int32_t i = 0; rc == PL_OK && i < n && !x.oom && !x.bad; i++)
            rename_excluded((ProtobufCMessage *)targets[i + 1]->res_target->val, &x);
        if (rc == PL_OK && oc->where_clause && !x.oom && !x.bad)
            rename_excluded((ProtobufCMessage *)oc->where_clause, &x);
        if (rc == PL_OK && x.oom) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        if (rc == PL_OK && x.bad)
            rc = pl_sql_fail_at(err, x.bad->location, PL_ERR_NOT_FOUND, "column \"excluded.%s\" not found",
                                x.bad->fields[1]->string->sval);
    }
    for (int32_t i = 0; rc == PL_OK && !oc && i < n; i++) { /* OR REPLACE: c = excluded.c */
        const char *name = sc->fields[replace_cols[i]].name;
        char *nm = pool_new(&np, sizeof DML_EXCLUDED + strlen(name));
        if (nm) snprintf(nm, sizeof DML_EXCLUDED + strlen(name), DML_EXCLUDED "%s", name);
        col[i] = replace_cols[i];
        at[i] = c->pos;
        targets[i + 1] = nm ? mk_target(&np, mk_colref(&np, alias, nm), value_name(&np, (size_t)i)) : NULL;
        if (!targets[i + 1]) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (rc == PL_OK) rc = upsert_rows(old, conf, old_ids, &rows, err);
    over_query oq = {(size_t)n + 1, targets, 0, NULL, oc ? oc->where_clause : NULL, st->with_clause};
    if (rc == PL_OK) rc = plan_over(s, c, st->relation, rows, &oq, &np, &q, err);
    excl_restore(&x);
    if (rc == PL_OK) {
        e = pl_session_find(s, st->relation->relname);
        rc = pl_sql_at(err, c->pos,
                       update_table(s, e, old, sc, q, n, col, is_default, at, nt, mark, n_updated, err));
    }
    bool ks = false;
    for (int32_t i = 0; rc == PL_OK && i < n; i++) ks |= pl_sql_key_of_column(e->keys, e->n_keys, col[i]) >= 0;
    *keys_set = ks;
    pl_free(col);
    pl_free(is_default);
    pl_free(at);
    pl_df_release(q);
    pool_free(&np);
    pl_table_release(old);
    pl_table_release(rows);
    return rc;
}
