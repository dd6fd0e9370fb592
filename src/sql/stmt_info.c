/* stmt_info.c - what one statement will do, read from its parse tree before it runs: the
 * tables it rewrites (UPDATE, DELETE, TRUNCATE, ALTER TABLE, ALTER TABLE ... RENAME), CREATE
 * TABLE ... IF NOT EXISTS, the views DROP VIEW names, and transaction control (BEGIN /
 * COMMIT / ROLLBACK). The server
 * uses it to lock a table before a statement takes its snapshot (src/server/sql_session.c).
 *
 * Text that does not parse as exactly one statement gives an empty answer: running it reports
 * the error with its position. */
#include <string.h>
#include <strings.h>

#include "sql/sql_int.h"

static pl_status add_name(char ***names, int32_t *n, const PgQuery__RangeVar *rv, pl_error *err) {
    if (!rv || !rv->relname || !rv->relname[0]) return PL_OK;
    for (int32_t i = 0; i < *n; i++)
        if (!strcasecmp((*names)[i], rv->relname)) return PL_OK;
    char **v = pl_realloc(*names, (size_t)(*n + 1) * sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    *names = v;
    if (!(v[*n] = pl_strdup(rv->relname))) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    (*n)++;
    return PL_OK;
}

static pl_status add_target(pl_sql_stmt_info *info, const PgQuery__RangeVar *rv, pl_error *err) {
    return add_name(&info->targets, &info->n_targets, rv, err);
}

static pl_status read_stmt(const PgQuery__Node *n, pl_sql_stmt_info *info, pl_error *err) {
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return add_target(info, n->update_stmt->relation, err);
    case PG_QUERY__NODE__NODE_DELETE_STMT: return add_target(info, n->delete_stmt->relation, err);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        return add_name(&info->inserts, &info->n_inserts, n->insert_stmt->relation, err);
    case PG_QUERY__NODE__NODE_COPY_STMT:
        if (!n->copy_stmt->is_from) return PL_OK;
        return add_name(&info->inserts, &info->n_inserts, n->copy_stmt->relation, err);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        for (size_t i = 0; i < n->truncate_stmt->n_relations; i++) {
            const PgQuery__Node *r = n->truncate_stmt->relations[i];
            if (r->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) PL_TRY(add_target(info, r->range_var, err));
        }
        return PL_OK;
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        if (n->alter_table_stmt->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE) return PL_OK;
        return add_target(info, n->alter_table_stmt->relation, err);
    case PG_QUERY__NODE__NODE_RENAME_STMT:
        if (n->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW) return PL_OK;
        return add_target(info, n->rename_stmt->relation, err);
    case PG_QUERY__NODE__NODE_DROP_STMT:
        if (n->drop_stmt->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_VIEW) return PL_OK;
        for (size_t i = 0; i < n->drop_stmt->n_objects; i++) {
            const PgQuery__Node *o = n->drop_stmt->objects[i];
            if (o->node_case != PG_QUERY__NODE__NODE_LIST || o->list->n_items == 0) continue;
            const PgQuery__Node *last = o->list->items[o->list->n_items - 1];
            if (last->node_case != PG_QUERY__NODE__NODE_STRING) continue;
            PgQuery__RangeVar rv = PG_QUERY__RANGE_VAR__INIT;
            rv.relname = last->string->sval;
            PL_TRY(add_name(&info->dropped_views, &info->n_dropped_views, &rv, err));
        }
        return PL_OK;
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        info->if_not_exists = n->create_stmt->if_not_exists;
        return PL_OK;
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        info->if_not_exists = n->create_table_as_stmt->if_not_exists;
        return PL_OK;
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        switch (n->transaction_stmt->kind) {
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START: info->tx = PL_SQL_TX_BEGIN; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT: info->tx = PL_SQL_TX_COMMIT; break;
        case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK: info->tx = PL_SQL_TX_ROLLBACK; break;
        default: info->tx = PL_SQL_TX_OTHER; break;
        }
        return PL_OK;
    default: return PL_OK;
    }
}

pl_status pl_sql_stmt_info_read(const char *stmt, pl_sql_stmt_info *info, pl_error *err) {
    if (!stmt || !info) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_sql_stmt_info_read needs a statement");
    memset(info, 0, sizeof *info);
    char *text = NULL;
    pl_error ignored;
    pl_error_init(&ignored);
    if (pl_sql_preprocess(stmt, &text, &ignored)) return PL_OK;
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(text);
    pl_status st = PL_OK;
    if (!res.error &&
        !pl_sql_check_tree_depth((const uint8_t *)res.parse_tree.data, res.parse_tree.len, &ignored)) {
        PgQuery__ParseResult *pr = pg_query__parse_result__unpack(
            NULL, res.parse_tree.len, (const uint8_t *)res.parse_tree.data);
        if (!pr) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory unpacking the parse tree");
        else if (pr->n_stmts == 1 && pr->stmts[0]->stmt) st = read_stmt(pr->stmts[0]->stmt, info, err);
        if (pr) pg_query__parse_result__free_unpacked(pr, NULL);
    }
    pg_query_free_protobuf_parse_result(res);
    pl_free(text);
    if (st) pl_sql_stmt_info_reset(info);
    return st;
}

void pl_sql_stmt_info_reset(pl_sql_stmt_info *info) {
    if (!info) return;
    for (int32_t i = 0; i < info->n_targets; i++) pl_free(info->targets[i]);
    pl_free(info->targets);
    for (int32_t i = 0; i < info->n_dropped_views; i++) pl_free(info->dropped_views[i]);
    pl_free(info->dropped_views);
    for (int32_t i = 0; i < info->n_inserts; i++) pl_free(info->inserts[i]);
    pl_free(info->inserts);
    memset(info, 0, sizeof *info);
}
