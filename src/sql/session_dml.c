/* session_dml.c - the statements that change a session's catalog or write files: CREATE [OR
 * REPLACE] TABLE (column types, NOT NULL, DEFAULT, keys), CREATE [OR REPLACE] TABLE AS, CREATE
 * [OR REPLACE] VIEW, INSERT (VALUES rows cast value by value to the column types, like DuckDB,
 * or a query cast column by column, by position or BY NAME; WITH before it; ON CONFLICT DO
 * NOTHING / DO UPDATE, INSERT OR IGNORE / OR REPLACE), DROP TABLE/VIEW, COPY ... TO a file and
 * COPY table FROM a file. DuckDB's words the PostgreSQL grammar lacks (OR REPLACE TABLE, OR
 * IGNORE / OR REPLACE INTO, BY NAME) were blanked by pl_sql_preprocess and are read back from
 * the statement's text.
 *
 * Invariants: a table's rows are an immutable pl_table; INSERT builds a new pl_table from the
 * old batches plus the new rows (small last batches merged with small inserts), and the next
 * lookup a new pl_df over it, so plans made before keep the rows they saw. Table schemas carry
 * the NOT NULL constraints as non-nullable fields; stored columns are never
 * dictionary-encoded. CREATE OR REPLACE and upserts change the catalog only once the new
 * version is built and checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expr/expr_int.h"
#include "sql/plan_int.h"
#include "sql/session_int.h"

/* ---------------------------------------------------------------- helpers */

/* The byte offset of an expression node, or -1. */
int32_t pl_sql_node_location(const PgQuery__Node *n) {
    if (!n) return -1;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST: return n->a_const->location;
    case PG_QUERY__NODE__NODE_COLUMN_REF: return n->column_ref->location;
    case PG_QUERY__NODE__NODE_A_EXPR: return n->a_expr->location;
    case PG_QUERY__NODE__NODE_FUNC_CALL: return n->func_call->location;
    case PG_QUERY__NODE__NODE_TYPE_CAST: return n->type_cast->location;
    case PG_QUERY__NODE__NODE_RES_TARGET: return n->res_target->location;
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT: return n->set_to_default->location;
    case PG_QUERY__NODE__NODE_BOOL_EXPR: return n->bool_expr->location;
    case PG_QUERY__NODE__NODE_SUB_LINK: return n->sub_link->location;
    case PG_QUERY__NODE__NODE_CASE_EXPR: return n->case_expr->location;
    case PG_QUERY__NODE__NODE_NULL_TEST: return n->null_test->location;
    default: return -1;
    }
}

int32_t pl_sql_find_column(const pl_schema *sc, const char *name) {
    for (int32_t i = 0; i < sc->n_fields; i++)
        if (!strcasecmp(sc->fields[i].name, name)) return i;
    return -1;
}

/* The last name of a qualified name (List of String nodes). */
static const char *list_last_name(const PgQuery__Node *n) {
    if (!n) return NULL;
    if (n->node_case == PG_QUERY__NODE__NODE_STRING) return n->string->sval;
    if (n->node_case != PG_QUERY__NODE__NODE_LIST || n->list->n_items == 0) return NULL;
    const PgQuery__Node *last = n->list->items[n->list->n_items - 1];
    return last->node_case == PG_QUERY__NODE__NODE_STRING ? last->string->sval : NULL;
}

static const char *kind_name(pl_cat_kind k) { return k == PL_CAT_TABLE ? "table" : "view"; }

/* Whether the words w1 w2 stand next to each other, outside parentheses, in the statement's
 * text from `from` to `to`: DuckDB words that pl_sql_preprocess blanked for the parser (OR
 * REPLACE, OR IGNORE) read back. */
static bool stmt_words(const pl_stmt_ctx *c, int32_t from, int32_t to, const char *w1, const char *w2) {
    sq_token t, prev = {SQ_TOK_END, -1, -1};
    int depth = 0;
    int32_t pos = from;
    while (sq_lex_next(c->sql, c->end, pos, &t) && t.start < to) {
        pos = t.end;
        if (sq_tok_is(c->sql, &t, "(")) depth++;
        else if (sq_tok_is(c->sql, &t, ")")) depth--;
        else if (depth == 0 && prev.start >= 0 && sq_tok_is(c->sql, &prev, w1) && sq_tok_is(c->sql, &t, w2))
            return true;
        prev = t;
    }
    return false;
}

/* CREATE OR REPLACE TABLE: whether it says OR REPLACE; an error when it may not replace old. */
static pl_status create_replace(const pl_stmt_ctx *c, const PgQuery__RangeVar *rel, bool if_not_exists,
                                const pl_cat_entry *old, bool *replace, pl_error *err) {
    *replace = stmt_words(c, c->pos, rel->location, "or", "replace");
    if (*replace && if_not_exists)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                              "CREATE TABLE cannot have both OR REPLACE and IF NOT EXISTS");
    if (!old || (*replace && old->kind == PL_CAT_TABLE)) return PL_OK;
    if (*replace)
        return pl_sql_fail_at(err, rel->location, PL_ERR_SQL, "\"%s\" is a view, not a table: cannot replace it",
                              old->name);
    return PL_OK;
}

/* CREATE TEMP | TEMPORARY TABLE / VIEW (relpersistence 't'). */
static bool rel_is_temp(const PgQuery__RangeVar *rel) {
    return rel && rel->relpersistence && rel->relpersistence[0] == 't';
}

/* The entry a new table goes to: a new one, or (OR REPLACE) the old table's of the same
 * namespace (temporary or not), emptied now (so call it only when the new table is ready). */
static pl_status table_slot(pl_session *s, const char *name, bool temp, bool replace,
                            pl_cat_entry **out, pl_error *err) {
    pl_cat_entry *old = replace ? pl_session_find_in(s, name, temp) : NULL;
    if (!old) return pl_session_add(s, name, PL_CAT_TABLE, out, err);
    char *nm = pl_strdup(name);
    if (!nm) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_cat_entry_clear(old);
    old->name = nm;
    old->kind = PL_CAT_TABLE;
    *out = old;
    return PL_OK;
}

/* A plain stored type: dictionaries stored as their values. */
static pl_type *storage_type(pl_type *t) {
    return t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
}

/* Relabels the batches of src with schema (types must match after decoding dictionaries;
 * all-NULL columns of type NA become NULLs of the schema's type). Empty batches are dropped. */
pl_status pl_sql_conform_table(pl_table *src, pl_schema *schema, pl_table **out, pl_error *err) {
    pl_table *t = NULL;
    PL_TRY(pl_table_new(schema, &t, err));
    int32_t n = schema->n_fields;
    pl_array **cols = pl_calloc((size_t)n + 1, sizeof(pl_array *));
    pl_status st = cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; st == PL_OK && b < src->n_batches; b++) {
        pl_batch *in = src->batches[b];
        if (in->n_rows == 0) continue;
        if (in->n_cols != n) {
            st = pl_error_set(err, PL_ERR_INTERNAL, "rows have %d columns, the table %d", in->n_cols, n);
            break;
        }
        int32_t k = 0;
        for (; st == PL_OK && k < n; k++) {
            pl_array *a = in->columns[k];
            pl_type *want = schema->fields[k].type;
            cols[k] = NULL; /* the last batch's went to it; a failure below leaves NULL */
            if (a->type->id == PL_TYPE_DICTIONARY) st = pl_array_decode_dictionary(a, &cols[k], err);
            else if (a->type->id == PL_TYPE_NA && want->id != PL_TYPE_NA)
                st = pl_array_new_nulls(want, a->length, &cols[k], err);
            else st = pl_array_detach_files(a, &cols[k], err); /* stored: not a file's view */
            if (st == PL_OK && !pl_type_equals(cols[k]->type, want)) {
                char x[96], y[96];
                st = pl_error_set(err, PL_ERR_INTERNAL, "column \"%s\" has type %s, the table %s",
                                  schema->fields[k].name, pl_type_to_string(cols[k]->type, x, sizeof x),
                                  pl_type_to_string(want, y, sizeof y));
                k++;
            }
        }
        if (st) {
            for (int32_t i = 0; i < k; i++) pl_array_release(cols[i]);
            break;
        }
        pl_batch *nb = NULL;
        st = pl_batch_new(pl_schema_retain(schema), in->n_rows, cols, &nb, err);
        if (st == PL_OK) st = pl_table_append(t, nb, err);
        pl_batch_release(nb);
    }
    pl_free(cols);
    if (st) {
        pl_table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

pl_status pl_sql_check_not_null(const char *table, pl_table *rows, int32_t pos, pl_error *err) {
    pl_schema *sc = rows->schema;
    for (int32_t k = 0; k < sc->n_fields; k++) {
        if (sc->fields[k].nullable) continue;
        for (int64_t b = 0; b < rows->n_batches; b++)
            if (pl_array_null_count(rows->batches[b]->columns[k]) > 0)
                return pl_sql_fail_at(err, pos, PL_ERR_INVALID_ARG,
                                      "NOT NULL constraint failed: %s.%s", table, sc->fields[k].name);
    }
    return PL_OK;
}

/* Makes the table's new version: its batches plus rows (conformed), small last batches merged
 * with small new rows; the next lookup makes a new pl_df over it. */
static pl_status publish_rows(pl_cat_entry *e, pl_table *rows, pl_error *err) {
    if (rows->n_rows == 0) return PL_OK;
    pl_table *old = e->table;
    pl_table *nt = NULL, *merge = NULL;
    pl_batch *merged = NULL;
    PL_TRY(pl_table_new(old->schema, &nt, err));
    /* the last batches merged with the new rows: while the one before is small, or no larger
     * than what is merged so far (a binary counter: a row is copied a few times, not once per
     * INSERT), and the merge stays within PL_SQL_MERGE_BATCH_ROWS */
    int64_t keep = old->n_batches, n_merge = rows->n_rows;
    while (keep > 0) {
        int64_t prev = old->batches[keep - 1]->n_rows;
        if (prev + n_merge > PL_SQL_MERGE_BATCH_ROWS ||
            (prev > n_merge && prev + n_merge > PL_SQL_MERGE_SMALL_ROWS))
            break;
        n_merge += prev;
        keep--;
    }
    pl_status st = PL_OK;
    if (keep < old->n_batches) {
        st = pl_table_new(old->schema, &merge, err);
        for (int64_t b = keep; st == PL_OK && b < old->n_batches; b++)
            st = pl_table_append(merge, old->batches[b], err);
        for (int64_t b = 0; st == PL_OK && b < rows->n_batches; b++)
            st = pl_table_append(merge, rows->batches[b], err);
        if (st == PL_OK) st = pl_table_combine(merge, &merged, err);
    }
    for (int64_t b = 0; st == PL_OK && b < keep; b++) st = pl_table_append(nt, old->batches[b], err);
    if (merged) {
        if (st == PL_OK) st = pl_table_append(nt, merged, err);
    } else {
        for (int64_t b = 0; st == PL_OK && b < rows->n_batches; b++)
            st = pl_table_append(nt, rows->batches[b], err);
    }
    pl_batch_release(merged);
    pl_table_release(merge);
    if (st) {
        pl_table_release(nt);
        return st;
    }
    pl_key_index *ix = pl_sql_key_index_take(e);
    pl_sql_replace_table(e, nt);
    pl_sql_key_index_put(e, ix, rows); /* the old rows keep their row numbers */
    return PL_OK;
}

void pl_sql_replace_table(pl_cat_entry *e, pl_table *nt) {
    pl_sql_key_index_free(e->kidx);
    e->kidx = NULL;
    pl_table_release(e->table);
    pl_df_release(e->df); /* made again over the new rows at the next lookup */
    e->table = nt;
    e->df = NULL;
}

/* ---------------------------------------------------------------- CREATE TABLE */

pl_status pl_sql_column_def(pl_session *s, const pl_stmt_ctx *c, const PgQuery__ColumnDef *cd,
                            pl_field *f, pl_expr **dflt, int *key, pl_error *err) {
    pl_type *type = NULL;
    if (!cd->type_name)
        return pl_sql_fail_at(err, cd->location, PL_ERR_SQL, "column \"%s\" needs a type", cd->colname);
    PL_TRY(pl_sql_at(err, cd->location, pl_sql_type_from_node(c->sql, cd->type_name, &type, err)));
    bool not_null = cd->is_not_null;
    pl_expr *d = NULL;
    pl_status st = PL_OK;
    for (size_t i = 0; st == PL_OK && i < cd->n_constraints; i++) {
        const PgQuery__Node *n = cd->constraints[i];
        if (n->node_case != PG_QUERY__NODE__NODE_CONSTRAINT) continue;
        const PgQuery__Constraint *con = n->constraint;
        switch (con->contype) {
        case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL: not_null = true; break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_NULL: not_null = false; break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
        case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
            if (!key) {
                st = pl_sql_fail_at(err, con->location, PL_ERR_UNSUPPORTED,
                                    "PRIMARY KEY and UNIQUE can only be given in CREATE TABLE");
                break;
            }
            if (con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY) {
                *key = 2;
                not_null = true;
            } else if (*key == 0) {
                *key = 1;
            }
            break;
        case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
            pl_expr_release(d);
            d = NULL;
            st = pl_sql_at(err, con->location, pl_sql_plan_const_expr(s, c->sql, con->raw_expr, &d, err));
            break;
        default:
            st = pl_sql_fail_at(err, con->location, PL_ERR_UNSUPPORTED,
                                "only NOT NULL, NULL, DEFAULT, PRIMARY KEY and UNIQUE column "
                                "constraints are supported");
            break;
        }
    }
    if (st == PL_OK) st = pl_field_init(f, cd->colname, type, !not_null, err);
    pl_type_release(type);
    if (st) {
        pl_expr_release(d);
        return st;
    }
    *dflt = d;
    return PL_OK;
}

/* A table constraint PRIMARY KEY (cols) / UNIQUE (cols) added to keys (PRIMARY KEY columns
 * become NOT NULL); other table constraints are refused. */
static pl_status table_key(const PgQuery__Constraint *con, const char *table, pl_field *fields,
                           int32_t n_fields, pl_cat_key **keys, int32_t *n_keys, pl_error *err) {
    bool primary = con->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY;
    if (!primary && con->contype != PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE)
        return pl_sql_fail_at(err, con->location, PL_ERR_UNSUPPORTED,
                              "only PRIMARY KEY and UNIQUE table constraints are supported");
    if (primary && pl_sql_key_of_primary(*keys, *n_keys))
        return pl_sql_fail_at(err, con->location, PL_ERR_SQL, "table \"%s\" has more than one primary key",
                              table);
    int32_t n = (int32_t)con->n_keys;
    if (n == 0) return pl_sql_fail_at(err, con->location, PL_ERR_SQL, "a key needs columns");
    int32_t *cols = pl_calloc((size_t)n, sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int32_t i = 0; st == PL_OK && i < n; i++) {
        const char *col = list_last_name(con->keys[i]);
        int32_t j = 0;
        while (col && j < n_fields && strcasecmp(fields[j].name, col)) j++;
        if (!col || j == n_fields)
            st = pl_sql_fail_at(err, con->location, PL_ERR_NOT_FOUND, "table \"%s\" has no column \"%s\"",
                                table, col ? col : "");
        cols[i] = j;
        if (st == PL_OK && primary) fields[j].nullable = false;
    }
    if (st == PL_OK) st = pl_sql_key_add(keys, n_keys, cols, n, primary, err);
    pl_free(cols);
    return st;
}

pl_status pl_sql_run_create_table(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CreateStmt *st,
                                  pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "CREATE TABLE");
    const char *name = st->relation->relname;
    int32_t pos = st->relation->location;
    /* a temporary table has its own namespace: it may hide another object of its name */
    pl_cat_entry *old = pl_session_find_in(s, name, rel_is_temp(st->relation));
    bool replace = false;
    PL_TRY(create_replace(c, st->relation, st->if_not_exists, old, &replace, err));
    if (old && !replace) {
        if (st->if_not_exists) return PL_OK;
        return pl_sql_fail_at(err, pos, PL_ERR_SQL, "%s \"%s\" already exists", kind_name(old->kind),
                              old->name);
    }
    if (st->n_inh_relations || st->partspec || st->of_typename || st->partbound)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED,
                              "CREATE TABLE with INHERITS, PARTITION or OF is not supported");
    size_t n = st->n_table_elts;
    if (n == 0) return pl_sql_fail_at(err, pos, PL_ERR_SQL, "table \"%s\" needs at least one column", name);
    pl_field *fields = pl_calloc(n, sizeof *fields);
    pl_expr **defaults = pl_calloc(n, sizeof *defaults);
    pl_schema *schema = NULL;
    pl_table *table = NULL;
    int32_t n_fields = 0, n_keys = 0;
    pl_cat_key *keys = NULL;
    bool any_default = false;
    pl_status rc = fields && defaults ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; rc == PL_OK && i < n; i++) {
        const PgQuery__Node *el = st->table_elts[i];
        if (el->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) continue; /* after the columns */
        if (el->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF) {
            rc = pl_sql_fail_at(err, pos, PL_ERR_UNSUPPORTED, "unsupported element of CREATE TABLE");
            break;
        }
        const PgQuery__ColumnDef *cd = el->column_def;
        for (int32_t k = 0; k < n_fields; k++)
            if (!strcasecmp(fields[k].name, cd->colname))
                rc = pl_sql_fail_at(err, cd->location, PL_ERR_SQL,
                                    "column \"%s\" specified more than once", cd->colname);
        int key = 0;
        if (rc == PL_OK) rc = pl_sql_column_def(s, c, cd, &fields[n_fields], &defaults[n_fields], &key, err);
        if (rc) break;
        int32_t col = n_fields++;
        any_default |= defaults[col] != NULL;
        if (key == 2 && pl_sql_key_of_primary(keys, n_keys))
            rc = pl_sql_fail_at(err, cd->location, PL_ERR_SQL, "table \"%s\" has more than one primary key",
                                name);
        else if (key) rc = pl_sql_key_add(&keys, &n_keys, &col, 1, key == 2, err);
    }
    for (size_t i = 0; rc == PL_OK && i < n; i++) {
        const PgQuery__Node *el = st->table_elts[i];
        if (el->node_case == PG_QUERY__NODE__NODE_CONSTRAINT)
            rc = table_key(el->constraint, name, fields, n_fields, &keys, &n_keys, err);
    }
    if (rc == PL_OK) rc = pl_schema_new(n_fields, fields, &schema, err);
    if (rc == PL_OK) rc = pl_table_new(schema, &table, err);
    pl_cat_entry *e = NULL;
    if (rc == PL_OK) rc = table_slot(s, name, rel_is_temp(st->relation), replace, &e, err);
    if (rc == PL_OK) {
        e->table = table;
        e->temp = rel_is_temp(st->relation);
        if (any_default) e->defaults = defaults;
        e->keys = keys;
        e->n_keys = n_keys;
        keys = NULL;
        table = NULL;
    }
    pl_sql_keys_free(keys, n_keys);
    for (int32_t k = 0; k < n_fields; k++) pl_field_reset(&fields[k]);
    pl_free(fields);
    if (!e || !e->defaults) {
        for (int32_t k = 0; defaults && k < n_fields; k++) pl_expr_release(defaults[k]);
        pl_free(defaults);
    }
    pl_schema_release(schema);
    pl_table_release(table);
    return rc;
}

/* ---------------------------------------------------------------- CREATE TABLE AS */

/* The schema a query's result is stored with: names (optionally replaced by `names`), plain
 * types, every column nullable. */
pl_status pl_sql_stored_schema(pl_schema *in, int32_t n_names, char *const *names, pl_schema **out,
                               pl_error *err) {
    int32_t n = in->n_fields;
    pl_field *f = pl_calloc((size_t)n + 1, sizeof *f);
    if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    int32_t k = 0;
    for (; st == PL_OK && k < n; k++)
        st = pl_field_init(&f[k], k < n_names ? names[k] : in->fields[k].name,
                           storage_type(in->fields[k].type), true, err);
    if (st == PL_OK) st = pl_schema_new(n, f, out, err);
    for (int32_t i = 0; i < k; i++) pl_field_reset(&f[i]);
    pl_free(f);
    return st;
}

pl_status pl_sql_run_create_table_as(pl_session *s, const pl_stmt_ctx *c,
                                     const PgQuery__CreateTableAsStmt *st, pl_sql_result *r,
                                     pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "CREATE TABLE");
    if (st->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE || !st->into || !st->into->rel)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "materialized views are not supported");
    const char *name = st->into->rel->relname;
    int32_t pos = st->into->rel->location;
    pl_cat_entry *old = pl_session_find_in(s, name, rel_is_temp(st->into->rel));
    bool replace = false;
    PL_TRY(create_replace(c, st->into->rel, st->if_not_exists, old, &replace, err));
    if (old && !replace) {
        if (st->if_not_exists) return PL_OK;
        return pl_sql_fail_at(err, pos, PL_ERR_SQL, "%s \"%s\" already exists", kind_name(old->kind),
                              old->name);
    }
    pl_df *q = NULL;
    pl_table *res = NULL, *table = NULL;
    pl_schema *schema = NULL;
    int32_t n_names = (int32_t)st->into->n_col_names;
    char **names = pl_calloc((size_t)n_names + 1, sizeof(char *));
    if (!names) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n_names; i++) names[i] = (char *)list_last_name(st->into->col_names[i]);
    pl_status rc = pl_sql_plan_query(s, c->sql, st->query, &q, err);
    if (rc == PL_OK && n_names > pl_df_schema(q)->n_fields)
        rc = pl_sql_fail_at(err, pos, PL_ERR_SQL, "CREATE TABLE AS names %d columns, the query has %d",
                            n_names, pl_df_schema(q)->n_fields);
    if (rc == PL_OK) rc = pl_sql_stored_schema(pl_df_schema(q), n_names, names, &schema, err);
    if (rc == PL_OK && st->into->skip_data) rc = pl_table_new(schema, &table, err);
    else if (rc == PL_OK) {
        rc = pl_df_collect(q, &s->opts, &res, err);
        if (rc == PL_OK) rc = pl_sql_conform_table(res, schema, &table, err);
    }
    pl_cat_entry *e = NULL;
    if (rc == PL_OK) /* the query ran: replace now */
        rc = table_slot(s, name, rel_is_temp(st->into->rel), replace, &e, err);
    if (rc == PL_OK) {
        e->table = table;
        e->temp = rel_is_temp(st->into->rel);
        r->rows_changed = table->n_rows;
        table = NULL;
    }
    pl_free(names);
    pl_df_release(q);
    pl_table_release(res);
    pl_table_release(table);
    pl_schema_release(schema);
    return rc;
}

/* ---------------------------------------------------------------- CREATE VIEW */

pl_status pl_sql_run_create_view(pl_session *s, const pl_stmt_ctx *c, const PgQuery__ViewStmt *st,
                                 pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "CREATE VIEW");
    const char *name = st->view->relname;
    int32_t pos = st->view->location;
    bool temp = rel_is_temp(st->view);
    pl_cat_entry *old = pl_session_find_in(s, name, temp);
    if (old && !st->replace)
        return pl_sql_fail_at(err, pos, PL_ERR_SQL, "%s \"%s\" already exists", kind_name(old->kind),
                              old->name);
    if (old && old->kind == PL_CAT_TABLE)
        return pl_sql_fail_at(err, pos, PL_ERR_SQL, "\"%s\" is a table, not a view", old->name);
    if (!st->query || st->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "a view needs a query");
    /* plan it once now: errors are reported at definition time; a view that names itself
     * does not find itself */
    if (old) old->expanding = true;
    pl_df *df = NULL;
    pl_status rc = pl_sql_plan_query(s, c->sql, st->query, &df, err);
    old = pl_session_find_in(s, name, temp);
    if (old) old->expanding = false;
    int32_t n_cols = (int32_t)st->n_aliases;
    if (rc == PL_OK && n_cols > pl_df_schema(df)->n_fields)
        rc = pl_sql_fail_at(err, pos, PL_ERR_SQL, "view \"%s\" names %d columns, its query has %d", name,
                            n_cols, pl_df_schema(df)->n_fields);
    pl_df_release(df);
    if (rc) return rc;
    pl_cat_entry v;
    memset(&v, 0, sizeof v);
    v.kind = PL_CAT_VIEW;
    v.view_node_len = pg_query__node__get_packed_size(st->query);
    v.view_node = pl_malloc(v.view_node_len + 1);
    v.view_sql = pl_malloc((size_t)c->end + 1);
    v.view_cols = pl_calloc((size_t)n_cols + 1, sizeof(char *));
    v.name = pl_strdup(name);
    rc = v.view_node && v.view_sql && v.view_cols && v.name ? PL_OK : PL_ERR_NOMEM;
    for (int32_t i = 0; rc == PL_OK && i < n_cols; i++) {
        const char *a = list_last_name(st->aliases[i]);
        v.view_cols[i] = pl_strdup(a ? a : "");
        if (!v.view_cols[i]) rc = PL_ERR_NOMEM;
        v.n_view_cols = i + 1;
    }
    pl_cat_entry *e = NULL;
    if (rc == PL_OK && !old) rc = pl_session_add(s, name, PL_CAT_VIEW, &e, err);
    if (rc) {
        pl_cat_entry_clear(&v);
        if (rc == PL_ERR_NOMEM) pl_error_set(err, rc, "out of memory");
        return rc;
    }
    pg_query__node__pack(st->query, v.view_node);
    memcpy(v.view_sql, c->sql, (size_t)c->end);
    v.view_sql[c->end] = 0;
    v.view_pos = c->pos;
    v.temp = temp;
    if (old) e = old;
    pl_cat_entry_clear(e);
    *e = v;
    return PL_OK;
}

/* ---------------------------------------------------------------- DROP */

pl_status pl_sql_run_drop(pl_session *s, const pl_stmt_ctx *c, const PgQuery__DropStmt *st,
                          pl_sql_result *r, pl_error *err) {
    pl_cat_kind kind;
    if (st->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) kind = PL_CAT_TABLE;
    else if (st->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW) kind = PL_CAT_VIEW;
    else return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "only DROP TABLE and DROP VIEW are supported");
    snprintf(r->tag, sizeof r->tag, "DROP %s", kind == PL_CAT_TABLE ? "TABLE" : "VIEW");
    /* all names are checked before anything is dropped */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < st->n_objects; i++) {
            const char *name = list_last_name(st->objects[i]);
            if (!name) return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "DROP needs a name");
            pl_cat_entry *e = pl_session_find(s, name);
            if (!e) {
                if (st->missing_ok) continue;
                return pl_sql_fail_at(err, c->pos, PL_ERR_NOT_FOUND, "%s \"%s\" does not exist",
                                      kind_name(kind), name);
            }
            bool is_table = e->kind == PL_CAT_TABLE;
            if (is_table != (kind == PL_CAT_TABLE)) {
                pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "\"%s\" is a %s, not a %s", e->name,
                               kind_name(e->kind), kind_name(kind));
                if (err) snprintf(err->hint, sizeof err->hint, "use DROP %s", is_table ? "TABLE" : "VIEW");
                return PL_ERR_SQL;
            }
            if (pass == 1) pl_session_remove(s, e);
        }
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- INSERT */

/* The table column each source column goes to. */
typedef struct insert_target {
    pl_cat_entry *e;
    int32_t n;     /* source columns */
    int32_t *idx;  /* [n] table column of source column k */
    bool listed;   /* INSERT INTO t (a, b) */
} insert_target;

static pl_status resolve_targets(const pl_cat_entry *e, size_t n_cols, PgQuery__Node *const *cols,
                                 insert_target *t, pl_error *err) {
    pl_schema *sc = e->table->schema;
    t->listed = n_cols > 0;
    t->n = t->listed ? (int32_t)n_cols : sc->n_fields;
    t->idx = pl_calloc((size_t)t->n + 1, sizeof(int32_t));
    if (!t->idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < t->n; k++) {
        if (!t->listed) {
            t->idx[k] = k;
            continue;
        }
        const char *name = NULL;
        int32_t pos = pl_sql_node_location(cols[k]);
        if (cols[k]->node_case == PG_QUERY__NODE__NODE_RES_TARGET) name = cols[k]->res_target->name;
        else name = list_last_name(cols[k]);
        int32_t j = name ? pl_sql_find_column(sc, name) : -1;
        if (j < 0)
            return pl_sql_fail_at(err, pos, PL_ERR_NOT_FOUND, "table \"%s\" has no column \"%s\"",
                                  e->name, name ? name : "?");
        for (int32_t q = 0; q < k; q++)
            if (t->idx[q] == j)
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "column \"%s\" listed more than once in INSERT",
                                      sc->fields[j].name);
        t->idx[k] = j;
    }
    return PL_OK;
}

static pl_status count_mismatch(const insert_target *t, int64_t got, int32_t pos, pl_error *err) {
    if (t->listed)
        return pl_sql_fail_at(err, pos, PL_ERR_SQL, "INSERT lists %d columns but %lld values were supplied",
                              t->n, (long long)got);
    return pl_sql_fail_at(err, pos, PL_ERR_SQL, "table \"%s\" has %d columns but %lld values were supplied",
                          t->e->name, t->n, (long long)got);
}

pl_expr *pl_sql_cast_column(const pl_session *s, pl_expr *x, pl_type *type) {
    const char *zone = pl_session_time_zone(s);
    if (x && type && type->id == PL_TYPE_TIMESTAMP && type->tz && strcmp(type->tz, zone)) {
        pl_type *zt = NULL;
        if (pl_type_new_timestamp(type->unit, zone, &zt, NULL)) {
            pl_expr_release(x);
            pl_type_release(type);
            return NULL;
        }
        int32_t pos = x->sql_pos;
        x = pl_expr_cast(x, zt, false);
        if (x) x->sql_pos = pos;
    }
    return pl_expr_cast(x, type, false);
}

/* The expression a table column not given by the source gets: its DEFAULT or NULL, cast. */
pl_expr *pl_sql_fill_expr(const pl_session *s, const pl_cat_entry *e, int32_t j) {
    pl_type *type = e->table->schema->fields[j].type;
    pl_expr *d = e->defaults && e->defaults[j] ? pl_expr_retain(e->defaults[j]) : pl_expr_lit_null();
    return pl_sql_cast_column(s, d, pl_type_retain(type));
}

/* Evaluates a constant expression (taken) into a value (out_v) or a one-row array (out_a: lists,
 * structs and maps have no scalar form). */
static pl_status eval_const_to(pl_expr *x, pl_schema *empty, pl_batch *one_row, pl_value *out_v,
                               pl_array **out_a, pl_error *err) {
    if (!x) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_bexpr *b = NULL;
    pl_array *a = NULL;
    pl_status st = pl_expr_bind(x, empty, &b, err);
    if (st == PL_OK) st = pl_bexpr_fold(&b, err);
    if (st == PL_OK) {
        if (b->kind == PL_BEXPR_LIT) {
            st = out_a ? pl_array_from_value(&b->lit, 1, out_a, err) : pl_value_copy(&b->lit, out_v, err);
        } else {
            pl_eval_ctx ec = {NULL, 0, NULL};
            st = pl_bexpr_eval_array(&ec, b, one_row, &a, err);
            if (st == PL_OK && out_a) *out_a = pl_array_retain(a);
            else if (st == PL_OK) st = pl_value_from_array(a, 0, out_v, err);
        }
    }
    if (st && err && err->sql_pos < 0) err->sql_pos = x->sql_pos;
    pl_array_release(a);
    pl_bexpr_free(b);
    pl_expr_release(x);
    return st;
}

static pl_status eval_const(pl_expr *x, pl_schema *empty, pl_batch *one_row, pl_value *out,
                            pl_error *err) {
    return eval_const_to(x, empty, one_row, out, NULL, err);
}

/* One column of INSERT ... VALUES being built: a builder for the plain types, else one-value
 * arrays concatenated at the end. */
typedef struct values_col {
    pl_type *type;
    pl_builder *b;
    pl_array **cells; /* [n_rows] when there is no builder */
} values_col;

static bool builder_type(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_BOOL: case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32:
    case PL_TYPE_INT64: case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32:
    case PL_TYPE_UINT64: case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: case PL_TYPE_DECIMAL128:
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: case PL_TYPE_FIXED_BINARY: case PL_TYPE_DATE32:
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

/* Appends v (of the column's type, or NULL) as row `row`. */
static pl_status values_col_put(values_col *c, int64_t row, const pl_value *v, pl_error *err) {
    if (!c->b) return pl_array_from_value(v, 1, &c->cells[row], err);
    if (v->is_null) return pl_builder_append_null(c->b, err);
    switch (c->type->id) {
    case PL_TYPE_BOOL: return pl_builder_append_bool(c->b, v->v.b, err);
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
        return pl_builder_append_i64(c->b, (int64_t)v->v.u, err);
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64: return pl_builder_append_f64(c->b, v->v.f, err);
    case PL_TYPE_DECIMAL128: return pl_builder_append_decimal(c->b, v->v.dec.lo, v->v.dec.hi, err);
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: case PL_TYPE_FIXED_BINARY:
        return pl_builder_append_bytes(c->b, v->str ? v->str : "", v->str_len, err);
    default: return pl_builder_append_i64(c->b, v->v.i, err);
    }
}

static pl_status values_col_finish(values_col *c, int64_t n_rows, pl_array **out, pl_error *err) {
    if (c->b) return pl_builder_finish(c->b, out, err);
    return pl_array_concat(n_rows, c->cells, out, err);
}

/* INSERT ... VALUES: every value planned as a constant and cast to its column's type (like
 * DuckDB, which casts each value rather than unifying the VALUES rows first). */
static pl_status insert_values(pl_session *s, const pl_stmt_ctx *c, const insert_target *t,
                               const PgQuery__SelectStmt *vs, pl_table **out, pl_error *err) {
    pl_schema *sc = t->e->table->schema;
    int32_t n_cols = sc->n_fields;
    int64_t n_rows = (int64_t)vs->n_values_lists;
    pl_schema *empty = NULL;
    pl_batch *one_row = NULL;
    values_col *vc = pl_calloc((size_t)n_cols + 1, sizeof *vc);
    pl_array **cols = pl_calloc((size_t)n_cols + 1, sizeof(pl_array *));
    pl_value *fill = pl_calloc((size_t)n_cols + 1, sizeof(pl_value));
    bool *given = pl_calloc((size_t)n_cols + 1, sizeof(bool));
    pl_status st = vc && cols && fill && given ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t j = 0; st == PL_OK && j < n_cols; j++) {
        pl_value_init_null(&fill[j]);
        vc[j].type = sc->fields[j].type;
        if (builder_type(vc[j].type)) st = pl_builder_new(vc[j].type, n_rows, &vc[j].b, err);
        else if (!(vc[j].cells = pl_calloc((size_t)n_rows + 1, sizeof(pl_array *))))
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (st == PL_OK) st = pl_schema_new(0, NULL, &empty, err);
    if (st == PL_OK) st = pl_batch_new(pl_schema_retain(empty), 1, NULL, &one_row, err);
    for (int32_t k = 0; st == PL_OK && k < t->n; k++) given[t->idx[k]] = true;
    /* columns the rows do not give: one value for all rows */
    for (int32_t j = 0; st == PL_OK && j < n_cols; j++)
        if (!given[j]) st = eval_const(pl_sql_fill_expr(s, t->e, j), empty, one_row, &fill[j], err);
    pl_value v;
    pl_value_init_null(&v);
    for (int64_t row = 0; st == PL_OK && row < n_rows; row++) {
        const PgQuery__Node *ln = vs->values_lists[row];
        if (ln->node_case != PG_QUERY__NODE__NODE_LIST) {
            st = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "malformed VALUES row");
            break;
        }
        const PgQuery__List *l = ln->list;
        if ((int64_t)l->n_items != t->n) {
            st = count_mismatch(t, (int64_t)l->n_items, l->n_items ? pl_sql_node_location(l->items[0]) : c->pos, err);
            break;
        }
        /* columns in table order, so that builders grow row by row */
        for (int32_t j = 0; st == PL_OK && j < n_cols; j++) {
            if (!given[j]) {
                st = values_col_put(&vc[j], row, &fill[j], err);
                continue;
            }
            int32_t k = 0;
            while (t->idx[k] != j) k++;
            const PgQuery__Node *item = l->items[k];
            if (item->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
                st = eval_const(pl_sql_fill_expr(s, t->e, j), empty, one_row, &v, err);
            } else if (pl_sql_has_sublink(item)) {
                st = pl_sql_at(err, pl_sql_node_location(item),
                               pl_sql_eval_row_value(s, c->sql, item, vc[j].type, &v, err));
            } else {
                pl_expr *x = NULL;
                st = pl_sql_at(err, pl_sql_node_location(item), pl_sql_plan_const_expr(s, c->sql, item, &x, err));
                if (st) break;
                int32_t pos = x->sql_pos >= 0 ? x->sql_pos : pl_sql_node_location(item);
                pl_expr *cx = pl_sql_cast_column(s, x, pl_type_retain(vc[j].type));
                if (!vc[j].b) { /* a list, struct or map column: the value as a one-row array */
                    st = pl_sql_at(err, pos, eval_const_to(cx, empty, one_row, NULL, &vc[j].cells[row], err));
                    continue;
                }
                st = pl_sql_at(err, pos, eval_const(cx, empty, one_row, &v, err));
            }
            if (st == PL_OK) st = values_col_put(&vc[j], row, &v, err);
            pl_value_reset(&v);
        }
    }
    for (int32_t j = 0; st == PL_OK && j < n_cols; j++) st = values_col_finish(&vc[j], n_rows, &cols[j], err);
    pl_table *tab = NULL;
    if (st == PL_OK) st = pl_table_new(sc, &tab, err);
    if (st == PL_OK && n_rows > 0) {
        pl_batch *b = NULL;
        st = pl_batch_new(pl_schema_retain(sc), n_rows, cols, &b, err);
        memset(cols, 0, sizeof(pl_array *) * (size_t)n_cols); /* taken by pl_batch_new */
        if (st == PL_OK) st = pl_table_append(tab, b, err);
        pl_batch_release(b);
    }
    for (int32_t j = 0; vc && j < n_cols; j++) {
        pl_builder_free(vc[j].b);
        for (int64_t row = 0; vc[j].cells && row < n_rows; row++) pl_array_release(vc[j].cells[row]);
        pl_free(vc[j].cells);
    }
    for (int32_t j = 0; cols && j < n_cols; j++) pl_array_release(cols[j]);
    for (int32_t j = 0; fill && j < n_cols; j++) pl_value_reset(&fill[j]);
    pl_free(vc);
    pl_free(cols);
    pl_free(fill);
    pl_free(given);
    pl_batch_release(one_row);
    pl_schema_release(empty);
    if (st) {
        pl_table_release(tab);
        return st;
    }
    *out = tab;
    return PL_OK;
}

/* INSERT ... query (and COPY FROM): source columns cast by position to the target columns. */
static pl_status insert_df(pl_session *s, const insert_target *t, pl_df *src, int32_t pos,
                           pl_table **out, pl_error *err) {
    pl_schema *sc = t->e->table->schema;
    pl_schema *in = pl_df_schema(src);
    if (in->n_fields != t->n) return count_mismatch(t, in->n_fields, pos, err);
    int32_t n_cols = sc->n_fields;
    pl_expr **exprs = pl_calloc((size_t)n_cols + 1, sizeof(pl_expr *));
    const char **names = pl_calloc((size_t)n_cols + 1, sizeof(char *));
    pl_df *sel = NULL;
    pl_table *res = NULL;
    pl_status st = exprs && names ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t j = 0; st == PL_OK && j < n_cols; j++) {
        names[j] = sc->fields[j].name;
        int32_t k = 0;
        while (k < t->n && t->idx[k] != j) k++;
        if (k < t->n) {
            pl_expr *col = pl_expr_col_index(k, in->fields[k].name);
            exprs[j] = pl_type_equals(in->fields[k].type, sc->fields[j].type)
                           ? col
                           : pl_sql_cast_column(s, col, pl_type_retain(sc->fields[j].type));
        } else {
            exprs[j] = pl_sql_fill_expr(s, t->e, j);
        }
        if (!exprs[j]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (st == PL_OK) st = pl_sql_at(err, pos, pl_df_select(src, n_cols, exprs, names, &sel, err));
    if (st == PL_OK) st = pl_df_collect(sel, &s->opts, &res, err);
    if (st == PL_OK) st = pl_sql_conform_table(res, sc, out, err);
    for (int32_t j = 0; exprs && j < n_cols; j++) pl_expr_release(exprs[j]);
    pl_free(exprs);
    pl_free(names);
    pl_df_release(sel);
    pl_table_release(res);
    return st;
}

/* A VALUES list with nothing around it (no ORDER BY, LIMIT, WITH). */
static bool plain_values(const PgQuery__SelectStmt *q) {
    return q->n_values_lists > 0 && !q->n_sort_clause && !q->limit_count && !q->limit_offset &&
           !q->with_clause && q->op == PG_QUERY__SET_OPERATION__SETOP_NONE;
}

pl_status pl_sql_table_entry(pl_session *s, const PgQuery__RangeVar *rel, const char *verb,
                             pl_cat_entry **out, pl_error *err) {
    pl_cat_entry *e = pl_session_find(s, rel->relname);
    if (!e) return pl_sql_fail_at(err, rel->location, PL_ERR_NOT_FOUND, "table \"%s\" does not exist",
                                  rel->relname);
    if (e->kind != PL_CAT_TABLE)
        return pl_sql_fail_at(err, rel->location, PL_ERR_SQL, "cannot %s view \"%s\"", verb, e->name);
    *out = e;
    return PL_OK;
}

/* The checks every ON CONFLICT form shares: the table has keys, the conflict target is a list
 * of columns. */
static pl_status conflict_checks(const pl_stmt_ctx *c, const pl_cat_entry *e,
                                 const PgQuery__OnConflictClause *oc, pl_error *err) {
    int32_t pos = oc && oc->location >= 0 ? oc->location : c->pos;
    if (e->n_keys == 0)
        return pl_sql_fail_at(err, pos, PL_ERR_SQL,
                              "ON CONFLICT needs a PRIMARY KEY or UNIQUE constraint, table \"%s\" has none",
                              e->name);
    const PgQuery__InferClause *in = oc ? oc->infer : NULL;
    if (in && (in->where_clause || (in->conname && *in->conname)))
        return pl_sql_fail_at(err, pos, PL_ERR_UNSUPPORTED,
                              "ON CONFLICT takes a list of columns (no WHERE, no ON CONSTRAINT)");
    return PL_OK;
}

/* Whether key is on exactly the ON CONFLICT columns (no columns: any key). */
static bool key_named(const pl_cat_entry *e, const pl_cat_key *key, const PgQuery__InferClause *in) {
    if (!in || in->n_index_elems == 0) return true;
    if ((size_t)key->n_cols != in->n_index_elems) return false;
    for (size_t i = 0; i < in->n_index_elems; i++) {
        const PgQuery__Node *ie = in->index_elems[i];
        const char *name = ie->node_case == PG_QUERY__NODE__NODE_INDEX_ELEM ? ie->index_elem->name : NULL;
        int32_t j = name ? pl_sql_find_column(e->table->schema, name) : -1;
        bool found = false;
        for (int32_t k = 0; k < key->n_cols; k++) found |= key->cols[k] == j;
        if (j < 0 || !found) return false;
    }
    return true;
}

static pl_status not_a_key(const pl_stmt_ctx *c, const pl_cat_entry *e,
                           const PgQuery__OnConflictClause *oc, pl_error *err) {
    return pl_sql_fail_at(err, oc && oc->location >= 0 ? oc->location : c->pos, PL_ERR_SQL,
                          "the ON CONFLICT columns are not those of a PRIMARY KEY or UNIQUE "
                          "constraint of table \"%s\"",
                          e->name);
}

/* ON CONFLICT [(cols)] DO NOTHING: *rows loses the new rows whose key (the key on exactly cols,
 * or any key) is taken by an old row or an earlier new row. */
static pl_status skip_conflicts(const pl_stmt_ctx *c, pl_cat_entry *e,
                                const PgQuery__OnConflictClause *oc, pl_table **rows, pl_error *err) {
    PL_TRY(conflict_checks(c, e, oc, err));
    bool *use = pl_calloc((size_t)e->n_keys + 1, sizeof *use);
    if (!use) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    bool any = false;
    for (int32_t ki = 0; ki < e->n_keys; ki++) {
        use[ki] = key_named(e, &e->keys[ki], oc->infer);
        any |= use[ki];
    }
    uint8_t *keep = NULL;
    int64_t n_keep = 0;
    pl_table *kept = NULL;
    pl_status st = any ? PL_OK : not_a_key(c, e, oc, err);
    if (st == PL_OK) st = pl_sql_keys_conflicts(e, use, *rows, &keep, &n_keep, err);
    if (st == PL_OK && n_keep < (*rows)->n_rows) {
        st = pl_sql_pick_rows(*rows, keep, true, &kept, err);
        if (st == PL_OK) {
            pl_table_release(*rows);
            *rows = kept;
        }
    }
    pl_free(keep);
    pl_free(use);
    return st;
}

/* How an INSERT meets a key conflict. */
typedef enum insert_conflict {
    INS_ERROR = 0, /* no ON CONFLICT: an error */
    INS_NOTHING,   /* ON CONFLICT DO NOTHING, INSERT OR IGNORE */
    INS_UPDATE,    /* ON CONFLICT DO UPDATE */
    INS_REPLACE,   /* INSERT OR REPLACE */
} insert_conflict;

/* The key a DO UPDATE / OR REPLACE conflict is on: the key on exactly the ON CONFLICT columns,
 * else the table's only key (DuckDB wants the columns when there are several). */
static pl_status conflict_key(const pl_stmt_ctx *c, const pl_cat_entry *e,
                              const PgQuery__OnConflictClause *oc, int32_t *out, pl_error *err) {
    PL_TRY(conflict_checks(c, e, oc, err));
    const PgQuery__InferClause *in = oc ? oc->infer : NULL;
    if ((!in || in->n_index_elems == 0) && e->n_keys > 1)
        return pl_sql_fail_at(err, oc && oc->location >= 0 ? oc->location : c->pos, PL_ERR_SQL,
                              "table \"%s\" has several PRIMARY KEY / UNIQUE constraints: name the "
                              "conflict columns, ON CONFLICT (cols) DO UPDATE",
                              e->name);
    for (int32_t ki = 0; ki < e->n_keys; ki++) {
        if (key_named(e, &e->keys[ki], in)) {
            *out = ki;
            return PL_OK;
        }
    }
    return not_a_key(c, e, oc, err);
}

/* The rows of t at the (ascending) positions where mark is set / not set, as two tables. */
static pl_status split_rows(pl_table *t, const uint8_t *mark, pl_table **yes, pl_table **no,
                            pl_error *err) {
    PL_TRY(pl_sql_pick_rows(t, mark, true, yes, err));
    pl_status st = pl_sql_pick_rows(t, mark, false, no, err);
    if (st) {
        pl_table_release(*yes);
        *yes = NULL;
    }
    return st;
}

/* ON CONFLICT DO UPDATE / INSERT OR REPLACE: the new rows whose conflict key is an old row's
 * update it; *rows keeps the others (inserted); *nt (NULL when nothing was updated) the table
 * after the updates, *mark its rows updated, *n_updated their count, *keys_set whether a key
 * column changed. */
static pl_status upsert(pl_session *s, const pl_stmt_ctx *c, pl_cat_entry *e,
                        const PgQuery__InsertStmt *st, const insert_target *t, pl_table **rows,
                        pl_table **nt, uint8_t **mark, int64_t *n_updated, bool *keys_set,
                        pl_error *err) {
    const PgQuery__OnConflictClause *oc = st->on_conflict_clause;
    int32_t ki = 0;
    PL_TRY(conflict_key(c, e, oc, &ki, err));
    int64_t *match = NULL;
    PL_TRY(pl_sql_keys_match(e, ki, *rows, c->pos, &match, err));
    int64_t n = (*rows)->n_rows, n_conf = 0;
    uint8_t *is_conf = pl_malloc((size_t)n + 1);
    int64_t *ids = pl_malloc(((size_t)n + 1) * sizeof *ids);
    int32_t *repl = pl_malloc(((size_t)t->n + 1) * sizeof *repl);
    pl_table *conf = NULL, *rest = NULL;
    int32_t n_repl = 0;
    pl_status rc = is_conf && ids && repl ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; rc == PL_OK && i < n; i++) {
        is_conf[i] = match[i] >= 0;
        if (match[i] >= 0) ids[n_conf++] = match[i];
    }
    /* OR REPLACE: the inserted columns outside the conflict key take the new values */
    for (int32_t k = 0; rc == PL_OK && !oc && k < t->n; k++) {
        bool in_key = false;
        for (int32_t q = 0; q < e->keys[ki].n_cols; q++) in_key |= e->keys[ki].cols[q] == t->idx[k];
        if (!in_key) repl[n_repl++] = t->idx[k];
    }
    if (rc == PL_OK && n_conf > 0) rc = split_rows(*rows, is_conf, &conf, &rest, err);
    if (rc == PL_OK && n_conf > 0)
        rc = pl_sql_upsert(s, c, st, repl, n_repl, conf, ids, nt, mark, n_updated, keys_set, err);
    if (rc == PL_OK && rest) {
        pl_table_release(*rows);
        *rows = rest;
        rest = NULL;
    }
    pl_free(match);
    pl_free(is_conf);
    pl_free(ids);
    pl_free(repl);
    pl_table_release(conf);
    pl_table_release(rest);
    return rc;
}

/* Checks and stores new rows; r->rows_changed gets their count, r->df the RETURNING rows (when
 * ret is not NULL). mode: what a key conflict does; t: the columns the rows give (OR REPLACE). */
static pl_status finish_insert(pl_session *s, const pl_stmt_ctx *c, pl_cat_entry *e,
                               const PgQuery__InsertStmt *ret, insert_conflict mode,
                               const insert_target *t, pl_table *rows, pl_sql_result *r,
                               pl_error *err) {
    pl_status st = PL_OK;
    pl_table *nt = NULL, *upd = NULL, *both = NULL;
    uint8_t *mark = NULL;
    int64_t n_updated = 0;
    bool keys_set = false;
    if (mode == INS_NOTHING) {
        PgQuery__OnConflictClause none = PG_QUERY__ON_CONFLICT_CLAUSE__INIT;
        none.location = -1;
        st = skip_conflicts(c, e, ret && ret->on_conflict_clause ? ret->on_conflict_clause : &none, &rows, err);
    } else if (mode == INS_UPDATE || mode == INS_REPLACE) {
        st = upsert(s, c, e, ret, t, &rows, &nt, &mark, &n_updated, &keys_set, err);
        e = pl_session_find(s, ret->relation->relname); /* planning may move entries */
    }
    if (st == PL_OK) st = pl_sql_check_not_null(e->name, rows, c->pos, err);
    if (st == PL_OK && nt) st = pl_sql_check_not_null(e->name, nt, c->pos, err);
    /* new rows against the table: through the key index unless the update changed a key */
    if (st == PL_OK) st = pl_sql_check_keys(e, nt && keys_set ? nt : e->table, rows, c->pos, err);
    if (st == PL_OK && ret && ret->n_returning_list) {
        pl_table *rr = rows;
        if (nt) {
            st = pl_sql_pick_rows(nt, mark, true, &upd, err);
            if (st == PL_OK) st = pl_table_new(e->table->schema, &both, err);
            for (int64_t b = 0; st == PL_OK && b < upd->n_batches; b++)
                st = pl_table_append(both, upd->batches[b], err);
            for (int64_t b = 0; st == PL_OK && b < rows->n_batches; b++)
                st = pl_table_append(both, rows->batches[b], err);
            rr = both;
        }
        if (st == PL_OK)
            st = pl_sql_returning(s, c, ret->relation, rr, ret->n_returning_list, ret->returning_list, r,
                                  err);
    }
    /* the entry may have moved while RETURNING was planned */
    if (st == PL_OK && ret) e = pl_session_find(s, ret->relation->relname);
    pl_table *was = NULL; /* the table before the updates, back if the inserts fail */
    if (st == PL_OK && nt) {
        was = pl_table_retain(e->table);
        pl_key_index *ix = keys_set ? NULL : pl_sql_key_index_take(e);
        pl_sql_replace_table(e, nt); /* the updated rows keep their row numbers and keys */
        nt = NULL;
        pl_sql_key_index_put(e, ix, NULL);
    }
    if (st == PL_OK) st = publish_rows(e, rows, err);
    if (st && was) pl_sql_replace_table(e, pl_table_retain(was));
    pl_table_release(was);
    if (st == PL_OK) r->rows_changed = rows->n_rows + n_updated;
    pl_table_release(rows);
    pl_table_release(nt);
    pl_table_release(upd);
    pl_table_release(both);
    pl_free(mark);
    return st;
}

/* INSERT INTO t BY NAME query: 1 (BY NAME), 2 (BY POSITION) or 0 (neither), read from the text
 * after the table's name, alias and column list (pl_sql_preprocess blanked the words for the
 * parser). */
static int insert_by(const pl_stmt_ctx *c, const PgQuery__RangeVar *rel) {
    sq_token t;
    int32_t pos = rel->location;
    bool name = true;
    while (sq_lex_next(c->sql, c->end, pos, &t)) { /* [db.][schema.]table */
        if (name && (t.kind == SQ_TOK_IDENT || t.kind == SQ_TOK_QIDENT)) name = false;
        else if (!name && sq_tok_is(c->sql, &t, ".")) name = true;
        else break;
        pos = t.end;
    }
    if (sq_tok_is(c->sql, &t, "as")) {
        if (!sq_lex_next(c->sql, c->end, t.end, &t) || !sq_lex_next(c->sql, c->end, t.end, &t)) return 0;
    }
    for (int depth = 0; sq_tok_is(c->sql, &t, "(") || depth > 0;) { /* a column list */
        depth += sq_tok_is(c->sql, &t, "(") - sq_tok_is(c->sql, &t, ")");
        if (!sq_lex_next(c->sql, c->end, t.end, &t)) return 0;
    }
    sq_token w;
    if (!sq_tok_is(c->sql, &t, "by") || !sq_lex_next(c->sql, c->end, t.end, &w)) return 0;
    return sq_tok_is(c->sql, &w, "name") ? 1 : sq_tok_is(c->sql, &w, "position") ? 2 : 0;
}

/* BY NAME: the table column of each query column, by name. */
static pl_status targets_by_name(const pl_cat_entry *e, pl_schema *in, int32_t pos, insert_target *t,
                                 pl_error *err) {
    pl_schema *sc = e->table->schema;
    pl_free(t->idx);
    t->listed = true;
    t->n = in->n_fields;
    t->idx = pl_calloc((size_t)t->n + 1, sizeof(int32_t));
    if (!t->idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < t->n; k++) {
        int32_t j = pl_sql_find_column(sc, in->fields[k].name);
        if (j < 0)
            return pl_sql_fail_at(err, pos, PL_ERR_NOT_FOUND, "table \"%s\" has no column \"%s\"", e->name,
                                  in->fields[k].name);
        for (int32_t q = 0; q < k; q++)
            if (t->idx[q] == j)
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "the query gives column \"%s\" more than once",
                                      sc->fields[j].name);
        t->idx[k] = j;
    }
    return PL_OK;
}

/* WITH ... INSERT INTO t query: the query with the INSERT's CTEs before its own (put back by
 * with_restore). */
typedef struct with_join {
    PgQuery__SelectStmt *q;
    PgQuery__WithClause *was, merged;
    PgQuery__Node **ctes;
} with_join;

static pl_status with_attach(const PgQuery__InsertStmt *st, with_join *w, pl_error *err) {
    memset(w, 0, sizeof *w);
    const PgQuery__Node *src = st->select_stmt;
    if (!st->with_clause || !src || src->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return PL_OK;
    w->q = src->select_stmt;
    w->was = w->q->with_clause;
    if (!w->was) {
        w->q->with_clause = st->with_clause;
        return PL_OK;
    }
    size_t n1 = st->with_clause->n_ctes, n2 = w->was->n_ctes;
    w->ctes = pl_malloc((n1 + n2 + 1) * sizeof *w->ctes);
    if (!w->ctes) {
        w->q = NULL;
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    memcpy(w->ctes, st->with_clause->ctes, n1 * sizeof *w->ctes);
    memcpy(w->ctes + n1, w->was->ctes, n2 * sizeof *w->ctes);
    w->merged = *w->was;
    w->merged.n_ctes = n1 + n2;
    w->merged.ctes = w->ctes;
    w->merged.recursive = w->was->recursive || st->with_clause->recursive;
    w->q->with_clause = &w->merged;
    return PL_OK;
}

static void with_restore(with_join *w) {
    if (w->q) w->q->with_clause = w->was;
    pl_free(w->ctes);
}

pl_status pl_sql_run_insert(pl_session *s, const pl_stmt_ctx *c, const PgQuery__InsertStmt *st,
                            pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "INSERT");
    const PgQuery__OnConflictClause *oc = st->on_conflict_clause;
    insert_conflict mode = !oc ? INS_ERROR
                           : oc->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_NOTHING ? INS_NOTHING
                                                                                         : INS_UPDATE;
    bool or_ignore = stmt_words(c, c->pos, st->relation->location, "or", "ignore");
    bool or_replace = stmt_words(c, c->pos, st->relation->location, "or", "replace");
    if ((or_ignore || or_replace) && oc)
        return pl_sql_fail_at(err, oc->location >= 0 ? oc->location : c->pos, PL_ERR_SQL,
                              "INSERT OR %s cannot have an ON CONFLICT clause", or_ignore ? "IGNORE" : "REPLACE");
    if (or_ignore) mode = INS_NOTHING;
    if (or_replace) mode = INS_REPLACE;
    int by = insert_by(c, st->relation);
    pl_cat_entry *e = NULL;
    PL_TRY(pl_sql_table_entry(s, st->relation, "insert into", &e, err));
    insert_target t = {e, 0, NULL, false};
    pl_status rc = resolve_targets(e, st->n_cols, st->cols, &t, err);
    pl_table *rows = NULL;
    const PgQuery__Node *src = st->select_stmt;
    with_join wj;
    memset(&wj, 0, sizeof wj);
    if (rc == PL_OK) rc = with_attach(st, &wj, err);
    if (rc == PL_OK && by == 1 && (st->n_cols > 0 || !src || (src->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
                                                              src->select_stmt->n_values_lists > 0)))
        rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                            "INSERT BY NAME takes a query (SELECT) and no column list");
    if (rc == PL_OK && !src) {
        /* INSERT INTO t DEFAULT VALUES */
        PgQuery__SelectStmt none = PG_QUERY__SELECT_STMT__INIT;
        PgQuery__List empty_row = PG_QUERY__LIST__INIT;
        PgQuery__Node row = PG_QUERY__NODE__INIT;
        PgQuery__Node *rows_v[1] = {&row};
        row.node_case = PG_QUERY__NODE__NODE_LIST;
        row.list = &empty_row;
        none.n_values_lists = 1;
        none.values_lists = rows_v;
        t.n = 0;
        rc = insert_values(s, c, &t, &none, &rows, err);
    } else if (rc == PL_OK && src->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
               plain_values(src->select_stmt)) {
        rc = insert_values(s, c, &t, src->select_stmt, &rows, err);
    } else if (rc == PL_OK) {
        pl_df *q = NULL;
        rc = pl_sql_plan_query(s, c->sql, src, &q, err);
        e = pl_session_find(s, st->relation->relname); /* planning may move entries */
        t.e = e;
        if (rc == PL_OK && by == 1) rc = targets_by_name(e, pl_df_schema(q), c->pos, &t, err);
        if (rc == PL_OK) rc = insert_df(s, &t, q, c->pos, &rows, err);
        pl_df_release(q);
    }
    with_restore(&wj);
    if (rc == PL_OK) {
        e = pl_session_find(s, st->relation->relname);
        t.e = e;
        rc = finish_insert(s, c, e, st, mode, &t, rows, r, err);
    }
    pl_free(t.idx);
    return rc;
}

/* ---------------------------------------------------------------- COPY */

typedef struct copy_opts {
    pl_format format;
    int header; /* -1 = default */
    char delimiter;
    pl_codec codec;
    bool codec_set;
    int64_t row_group_rows;
    pl_copy_part_opts part; /* part.cols allocated (names borrowed from the parse tree) */
    bool part_only_set;     /* an option that needs PARTITION_BY */
} copy_opts;

/* PARTITION_BY (a, b) or PARTITION_BY a: the column names. */
static pl_status partition_cols(const PgQuery__DefElem *d, int32_t pos, copy_opts *o, pl_error *err) {
    const PgQuery__Node *a = d->arg;
    PgQuery__Node *const *items = a && a->node_case == PG_QUERY__NODE__NODE_LIST ? a->list->items : NULL;
    size_t n = items ? a->list->n_items : a ? 1 : 0;
    if (!items && a) items = (PgQuery__Node *const *)&d->arg;
    if (n == 0) return pl_sql_fail_at(err, pos, PL_ERR_SQL, "PARTITION_BY takes column names, e.g. PARTITION_BY (a, b)");
    pl_free(o->part.cols);
    o->part.cols = pl_calloc(n, sizeof *o->part.cols);
    if (!o->part.cols) return pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    o->part.n_cols = (int32_t)n;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__Node *it = items[i];
        const char *name = NULL;
        if (it->node_case == PG_QUERY__NODE__NODE_STRING) name = it->string->sval;
        else if (it->node_case == PG_QUERY__NODE__NODE_COLUMN_REF && it->column_ref->n_fields > 0)
            name = list_last_name(it->column_ref->fields[it->column_ref->n_fields - 1]);
        if (!name || !*name)
            return pl_sql_fail_at(err, pos, PL_ERR_SQL, "PARTITION_BY takes column names, e.g. PARTITION_BY (a, b)");
        o->part.cols[i] = name;
    }
    return PL_OK;
}

static pl_status copy_options(const pl_stmt_ctx *c, const PgQuery__CopyStmt *st, copy_opts *o,
                              pl_error *err) {
    memset(o, 0, sizeof *o);
    o->header = -1;
    for (size_t i = 0; i < st->n_options; i++) {
        const PgQuery__Node *n = st->options[i];
        if (n->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
        const PgQuery__DefElem *d = n->def_elem;
        char buf[64];
        const char *v = pl_sql_node_text(d->arg, buf, sizeof buf);
        int32_t pos = d->location >= 0 ? d->location : c->pos;
        if (!strcmp(d->defname, "format")) {
            o->format = v ? pl_format_from_name(v) : PL_FORMAT_AUTO;
            if (o->format == PL_FORMAT_AUTO)
                return pl_sql_fail_at(err, pos, PL_ERR_SQL,
                                      "unknown COPY format \"%s\" (parquet, csv, json, arrow)", v ? v : "");
        } else if (!strcmp(d->defname, "header")) {
            bool b;
            if (!pl_sql_node_bool(d->arg, &b))
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "HEADER takes true or false");
            o->header = b;
        } else if (!strcmp(d->defname, "delimiter") || !strcmp(d->defname, "delim") ||
                   !strcmp(d->defname, "sep")) {
            if (!v || strlen(v) != 1 || v[0] == '\n' || v[0] == '\r' || v[0] == '"')
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "DELIMITER takes one character");
            o->delimiter = v[0];
        } else if (!strcmp(d->defname, "compression") || !strcmp(d->defname, "codec")) {
            static const struct { const char *name; pl_codec codec; } codecs[] = {
                {"zstd", PL_CODEC_ZSTD},     {"snappy", PL_CODEC_SNAPPY},
                {"gzip", PL_CODEC_GZIP},     {"lz4", PL_CODEC_LZ4_RAW},
                {"lz4_raw", PL_CODEC_LZ4_RAW}, {"brotli", PL_CODEC_BROTLI},
                {"uncompressed", PL_CODEC_UNCOMPRESSED}, {"none", PL_CODEC_UNCOMPRESSED},
            };
            size_t k = 0;
            while (v && k < PL_ARRAY_LEN(codecs) && strcasecmp(codecs[k].name, v)) k++;
            if (!v || k == PL_ARRAY_LEN(codecs))
                return pl_sql_fail_at(err, pos, PL_ERR_SQL,
                                      "unknown compression \"%s\" (zstd, snappy, gzip, lz4, brotli, none)",
                                      v ? v : "");
            o->codec = codecs[k].codec;
            o->codec_set = true;
        } else if (!strcmp(d->defname, "row_group_size")) {
            char *end;
            long long rows = v ? strtoll(v, &end, 10) : 0;
            if (!v || *end || rows <= 0)
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "ROW_GROUP_SIZE takes a positive row count");
            o->row_group_rows = rows;
        } else if (!strcmp(d->defname, "partition_by")) {
            PL_TRY(partition_cols(d, pos, o, err));
        } else if (!strcmp(d->defname, "overwrite") || !strcmp(d->defname, "overwrite_or_ignore") ||
                   !strcmp(d->defname, "write_partition_columns")) {
            bool b;
            if (!pl_sql_node_bool(d->arg, &b))
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "%s takes true or false", d->defname);
            /* without PARTITION_BY they have no effect, as in DuckDB */
            if (d->defname[0] == 'w') o->part.write_partition_columns = b;
            else if (!strcmp(d->defname, "overwrite")) o->part.overwrite = b;
            else o->part.overwrite_or_ignore = b;
        } else if (!strcmp(d->defname, "filename_pattern")) {
            if (!v || v == buf || !*v || strchr(v, '/'))
                return pl_sql_fail_at(err, pos, PL_ERR_SQL, "FILENAME_PATTERN takes a file name ({i}: the "
                                      "file's number, {uuid}: a random UUID), without '/'");
            o->part.filename_pattern = v;
            o->part_only_set = true;
        } else {
            return pl_sql_fail_at(err, pos, PL_ERR_SQL,
                                  "unknown COPY option \"%s\" (format, header, delimiter, compression, "
                                  "row_group_size, partition_by, overwrite, overwrite_or_ignore, "
                                  "write_partition_columns, filename_pattern)",
                                  d->defname);
        }
    }
    return PL_OK;
}

/* Counts the rows that pass through a stream. */
typedef struct count_stream {
    pl_stream *inner;
    int64_t rows;
} count_stream;

static pl_status count_next(pl_stream *s, pl_batch **out, pl_error *err) {
    count_stream *cs = s->impl;
    PL_TRY(pl_stream_next(cs->inner, out, err));
    if (*out) cs->rows += (*out)->n_rows;
    return PL_OK;
}

static void count_free(pl_stream *s) { (void)s; }

static pl_status copy_to(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CopyStmt *st,
                         const copy_opts *o, pl_sql_result *r, pl_error *err) {
    pl_df *df = NULL;
    if (st->query) {
        if (st->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "COPY (statement) supports queries only");
        PL_TRY(pl_sql_plan_query(s, c->sql, st->query, &df, err));
    } else {
        pl_cat_entry *e = pl_session_find(s, st->relation->relname);
        if (!e)
            return pl_sql_fail_at(err, st->relation->location, PL_ERR_NOT_FOUND,
                                  "table \"%s\" does not exist", st->relation->relname);
        PL_TRY(pl_session_entry_df(s, e, &df, err));
        if (st->n_attlist > 0) {
            pl_expr **cols = pl_calloc(st->n_attlist, sizeof(pl_expr *));
            pl_status rc = cols ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            for (size_t i = 0; rc == PL_OK && i < st->n_attlist; i++) {
                const char *name = list_last_name(st->attlist[i]);
                cols[i] = pl_expr_col(name ? name : "");
                if (!cols[i]) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            }
            pl_df *sel = NULL;
            if (rc == PL_OK) rc = pl_df_select(df, (int32_t)st->n_attlist, cols, NULL, &sel, err);
            for (size_t i = 0; cols && i < st->n_attlist; i++) pl_expr_release(cols[i]);
            pl_free(cols);
            pl_df_release(df);
            if (rc) return rc;
            df = sel;
        }
    }
    pl_format fmt = o->format != PL_FORMAT_AUTO ? o->format : pl_format_from_path(st->filename);
    if (fmt == PL_FORMAT_AUTO) {
        pl_df_release(df);
        pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "cannot tell the output format of \"%s\"", st->filename);
        if (err) snprintf(err->hint, sizeof err->hint, "add (FORMAT parquet), csv, json or arrow");
        return PL_ERR_SQL;
    }
    pl_write_opts w;
    pl_write_opts_init(&w);
    w.n_threads = s->opts.n_threads;
    if (o->header >= 0) w.csv_header = o->header;
    if (o->delimiter) w.csv_delimiter = o->delimiter;
    if (o->codec_set) w.codec = o->codec;
    if (fmt == PL_FORMAT_IPC && w.codec == PL_CODEC_LZ4_RAW) w.codec = PL_CODEC_LZ4_FRAME;
    if (o->row_group_rows) w.row_group_rows = o->row_group_rows;
    pl_status rc = PL_OK;
    if (o->part.n_cols > 0) {
        int64_t rows = 0;
        rc = pl_sql_copy_partitioned(df, st->filename, fmt, &w, &s->opts, &o->part, &rows, err);
        pl_df_release(df);
        if (rc) return pl_sql_at(err, c->pos, rc);
        r->rows_changed = rows;
        return PL_OK;
    }
    struct stat before;
    bool existed = stat(st->filename, &before) == 0;
    pl_stream *inner = NULL;
    rc = pl_df_execute(df, &s->opts, &inner, err);
    pl_df_release(df);
    if (rc) return rc;
    count_stream cs = {inner, 0};
    pl_stream wrap = {count_next, count_free, inner->schema, &cs};
    rc = pl_write_stream(&wrap, st->filename, fmt, &w, err);
    pl_stream_free(inner);
    if (rc) {
        if (!existed) unlink(st->filename); /* no half-written file that looks complete */
        pl_error_set_path(err, st->filename);
        return rc;
    }
    r->rows_changed = cs.rows;
    return PL_OK;
}

static pl_status copy_from(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CopyStmt *st,
                           const copy_opts *o, pl_sql_result *r, pl_error *err) {
    if (!st->relation)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "COPY FROM needs a table");
    pl_cat_entry *e = NULL;
    PL_TRY(pl_sql_table_entry(s, st->relation, "insert into", &e, err));
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    ro.n_threads = s->opts.n_threads;
    ro.decode_dictionary = true;
    if (o->header >= 0) ro.csv_header = o->header;
    if (o->delimiter) ro.csv_delimiter = o->delimiter;
    pl_format fmt = o->format;
    const char *path = st->filename;
    if (fmt == PL_FORMAT_AUTO) fmt = pl_format_from_path(path);
    if (fmt == PL_FORMAT_TABLE)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "COPY FROM reads parquet, csv, json or arrow");
    insert_target t = {e, 0, NULL, false};
    pl_table *rows = NULL;
    pl_df *src = NULL;
    const char **names = NULL;
    pl_type **types = NULL;
    pl_status rc = resolve_targets(e, st->n_attlist, st->attlist, &t, err);
    if (rc == PL_OK && fmt == PL_FORMAT_JSON) {
        /* like DuckDB: keys are matched to the target columns by name, with their types */
        pl_schema *sc = e->table->schema;
        names = pl_calloc((size_t)t.n + 1, sizeof *names);
        types = pl_calloc((size_t)t.n + 1, sizeof *types);
        if (!names || !types) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; rc == PL_OK && k < t.n; k++) {
            names[k] = sc->fields[t.idx[k]].name;
            types[k] = sc->fields[t.idx[k]].type;
        }
        ro.json_column_names = names;
        ro.json_column_types = types;
        ro.n_json_columns = t.n;
    }
    if (rc == PL_OK) rc = pl_df_scan(1, &path, fmt, &ro, &src, err);
    if (rc == PL_OK) rc = insert_df(s, &t, src, c->pos, &rows, err);
    pl_free(names);
    pl_free(types);
    pl_df_release(src);
    if (rc == PL_OK) rc = finish_insert(s, c, e, NULL, INS_ERROR, &t, rows, r, err);
    pl_free(t.idx);
    return rc;
}

pl_status pl_sql_run_copy(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CopyStmt *st,
                          pl_sql_result *r, pl_error *err) {
    snprintf(r->tag, sizeof r->tag, "COPY");
    if (st->is_program || !st->filename || !*st->filename)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED,
                              "COPY needs a file name (STDIN, STDOUT and PROGRAM are not supported)");
    if (st->where_clause)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "COPY ... WHERE is not supported");
    copy_opts o;
    pl_status rc = copy_options(c, st, &o, err);
    if (!rc && o.part_only_set && o.part.n_cols == 0)
        rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "FILENAME_PATTERN needs PARTITION_BY");
    if (!rc && st->is_from && o.part.n_cols > 0)
        rc = pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "PARTITION_BY is a COPY ... TO option");
    if (!rc) rc = st->is_from ? copy_from(s, c, st, &o, r, err) : copy_to(s, c, st, &o, r, err);
    pl_free(o.part.cols);
    return rc;
}
