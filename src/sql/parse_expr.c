/* parse_expr.c - SQL fragments outside a query: one expression (pl_sql_parse_expr, for the
 * server's Expr.sql) and one type name (pl_sql_parse_type, for Cast.type and column
 * definitions). Both parse a small SELECT around the text with libpg_query, check that the
 * tree holds exactly the fragment (so text such as "1 FROM t" or "1; DROP ..." is refused),
 * and reuse the SQL planner's expression and type converters. */
#include <stdio.h>
#include <string.h>

#include "sql/plan_int.h"

#define EXPR_PREFIX "SELECT "
#define TYPE_PREFIX "SELECT CAST(NULL AS "

/* libpg_query's 1-based character position -> 0-based byte offset in text. */
static int32_t cursor_to_byte(const char *text, int32_t cursorpos) {
    if (cursorpos <= 0) return -1;
    int32_t chars = 0, i = 0;
    for (; text[i]; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80) continue;
        if (chars == cursorpos - 1) return i;
        chars++;
    }
    return i;
}

/* Shifts err->sql_pos from the wrapped text back to the caller's text. */
static pl_status shift_pos(pl_error *err, pl_status st, int32_t prefix, int32_t text_len) {
    if (st && err && err->sql_pos >= 0) {
        int32_t p = err->sql_pos - prefix;
        err->sql_pos = p < 0 ? 0 : p > text_len ? text_len : p;
    }
    return st;
}

static pl_status parse_wrapped(const char *prefix, const char *text, const char *suffix,
                               char **wrapped, PgQuery__ParseResult **out, pl_error *err) {
    if (!text) PL_FAIL(err, PL_ERR_INVALID_ARG, "no SQL text");
    size_t n = strlen(text);
    if (n == 0) PL_FAIL(err, PL_ERR_SQL, "empty SQL expression");
    if (n > (1u << 24)) PL_FAIL(err, PL_ERR_LIMIT, "SQL text too long (%zu bytes)", n);
    size_t pn = strlen(prefix), sn = strlen(suffix);
    char *w = pl_malloc(pn + n + sn + 1);
    if (!w) PL_FAIL(err, PL_ERR_NOMEM, "out of memory parsing SQL");
    memcpy(w, prefix, pn);
    memcpy(w + pn, text, n);
    memcpy(w + pn + n, suffix, sn + 1);
    char *pre = NULL;
    pl_status st = pl_sql_preprocess(w, &pre, err);
    if (st) {
        pl_free(w);
        return st;
    }
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(pre);
    if (res.error) {
        int32_t pos = cursor_to_byte(pre, res.error->cursorpos);
        st = sq_fail(err, PL_ERR_SQL, pos, "%s", res.error->message ? res.error->message : "syntax error");
    } else if ((st = pl_sql_check_tree_depth((const uint8_t *)res.parse_tree.data, res.parse_tree.len,
                                             err)) == PL_OK) {
        *out = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                              (const uint8_t *)res.parse_tree.data);
        if (!*out) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory unpacking the parse tree");
    }
    pg_query_free_protobuf_parse_result(res);
    pl_free(pre);
    if (st) pl_free(w);
    else *wrapped = w;
    return st;
}

/* The one target of "SELECT <target>" with nothing else in the statement, or NULL. */
static const PgQuery__ResTarget *only_target(const PgQuery__ParseResult *pr) {
    if (pr->n_stmts != 1 || !pr->stmts[0]->stmt) return NULL;
    const PgQuery__Node *n = pr->stmts[0]->stmt;
    if (n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return NULL;
    const PgQuery__SelectStmt *s = n->select_stmt;
    if (s->n_target_list != 1 || s->n_from_clause || s->where_clause || s->n_group_clause ||
        s->having_clause || s->n_window_clause || s->n_values_lists || s->n_sort_clause ||
        s->limit_offset || s->limit_count || s->n_locking_clause || s->with_clause ||
        s->n_distinct_clause || s->into_clause || s->larg || s->rarg ||
        (s->op != PG_QUERY__SET_OPERATION__SET_OPERATION_UNDEFINED &&
         s->op != PG_QUERY__SET_OPERATION__SETOP_NONE))
        return NULL;
    const PgQuery__Node *t = s->target_list[0];
    if (t->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !t->res_target->val) return NULL;
    return t->res_target;
}

/* Makes every sql_pos of the tree relative to the caller's text. Nodes may be shared (CASE
 * subjects), so each is shifted once. */
typedef struct seen_set {
    const pl_expr **v;
    int32_t n, cap;
} seen_set;

static bool seen_add(seen_set *s, const pl_expr *x) {
    for (int32_t i = 0; i < s->n; i++)
        if (s->v[i] == x) return false;
    if (s->n == s->cap) {
        int32_t nc = s->cap ? 2 * s->cap : 32;
        const pl_expr **v = pl_realloc(s->v, (size_t)nc * sizeof *v);
        if (!v) return false;
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return true;
}

static void shift_tree(seen_set *seen, pl_expr *x, int32_t pn) {
    if (!x || !seen_add(seen, x)) return;
    if (x->sql_pos >= 0) x->sql_pos = x->sql_pos >= pn ? x->sql_pos - pn : 0;
    for (int32_t i = 0; i < x->n_args; i++) shift_tree(seen, x->args[i], pn);
    shift_tree(seen, x->filter, pn);
    for (int32_t i = 0; i < x->n_order; i++) shift_tree(seen, x->order[i].expr, pn);
}

pl_status pl_sql_parse_named_expr(const char *text, pl_expr **out, char **alias, pl_error *err) {
    char *w = NULL;
    PgQuery__ParseResult *pr = NULL;
    int32_t pn = (int32_t)strlen(EXPR_PREFIX);
    int32_t tn = text ? (int32_t)strlen(text) : 0;
    pl_status st = shift_pos(err, parse_wrapped(EXPR_PREFIX, text, "", &w, &pr, err), pn, tn);
    if (st) return st;
    const PgQuery__ResTarget *rt = only_target(pr);
    if (!rt) {
        st = pl_error_set(err, PL_ERR_SQL, "expected one SQL expression, found more: \"%.80s\"", text);
        if (err) err->sql_pos = 0;
    } else if (rt->name && rt->name[0] && !alias) {
        st = sq_fail(err, PL_ERR_SQL, rt->location - pn, "an alias is not allowed here");
    }
    char *a = NULL;
    if (!st && alias && rt->name && rt->name[0] && !(a = pl_strdup(rt->name)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory parsing SQL");
    pl_expr *e = NULL;
    if (!st) {
        sq_ctx ctx = {NULL, w, 0, NULL, 0, NULL, NULL};
        sq_scope sc = {0};
        sc.ctx = &ctx;
        sc.clause = "an expression";
        sc.allow = SQ_ALLOW_AGG;
        sc.unbound = true;
        st = shift_pos(err, sq_expr(&sc, rt->val, &e, err), pn, tn);
        sq_ctx_reset(&ctx);
    }
    /* positions inside the tree are relative to the wrapped text too */
    if (!st) {
        seen_set seen = {0};
        shift_tree(&seen, e, pn);
        pl_free(seen.v);
    }
    pg_query__parse_result__free_unpacked(pr, NULL);
    pl_free(w);
    if (st) {
        pl_free(a);
        return st;
    }
    *out = e;
    if (alias) *alias = a;
    return PL_OK;
}

pl_status pl_sql_parse_expr(const char *text, pl_expr **out, pl_error *err) {
    return pl_sql_parse_named_expr(text, out, NULL, err);
}

pl_status pl_sql_parse_type(const char *text, pl_type **out, pl_error *err) {
    char *w = NULL;
    PgQuery__ParseResult *pr = NULL;
    int32_t pn = (int32_t)strlen(TYPE_PREFIX);
    int32_t tn = text ? (int32_t)strlen(text) : 0;
    if (text && !text[0]) PL_FAIL(err, PL_ERR_SQL, "empty type name");
    pl_status st = shift_pos(err, parse_wrapped(TYPE_PREFIX, text, ")", &w, &pr, err), pn, tn);
    if (st) return st;
    const PgQuery__ResTarget *rt = only_target(pr);
    if (!rt || (rt->name && rt->name[0]) || rt->val->node_case != PG_QUERY__NODE__NODE_TYPE_CAST ||
        !rt->val->type_cast->type_name || !rt->val->type_cast->arg ||
        rt->val->type_cast->arg->node_case != PG_QUERY__NODE__NODE_A_CONST ||
        !rt->val->type_cast->arg->a_const->isnull) {
        st = pl_error_set(err, PL_ERR_SQL, "expected one SQL type name, found \"%.80s\"", text);
        if (err) err->sql_pos = 0;
    } else {
        st = shift_pos(err, pl_sql_type_from_node(w, rt->val->type_cast->type_name, out, err), pn, tn);
    }
    pg_query__parse_result__free_unpacked(pr, NULL);
    pl_free(w);
    return st;
}
