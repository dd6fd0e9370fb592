/* plan_qualify.c - the QUALIFY clause (DuckDB: a filter on window function results, evaluated
 * after WINDOW and before DISTINCT / ORDER BY / LIMIT).
 *
 * The PostgreSQL grammar has no QUALIFY, so pl_sql_preprocess blanks the clause out of the text
 * that libpg_query parses (same length: every offset stays valid). The planner finds the clause
 * again in the original text, right after the select list of the SelectStmt being planned, and
 * parses it on its own: a copy of the script that is blank everywhere except the clause, whose
 * keyword QUALIFY becomes "SELECT " (seven bytes as well). The condition's parse nodes so carry
 * exact positions into the script. */
#include "sql/plan_int.h"

#include <string.h>

/* Tokens that end a QUALIFY clause at its own parenthesis level. */
static bool ends_qualify(const char *sql, const sq_token *t) {
    static const char *const words[] = {"order",  "limit", "offset", "fetch",
                                        "union",  "except", "intersect"};
    if (t->kind == SQ_TOK_END) return true;
    if (t->kind == SQ_TOK_PUNCT) return sql[t->start] == ';';
    for (size_t i = 0; i < PL_ARRAY_LEN(words); i++)
        if (sq_tok_is(sql, t, words[i])) return true;
    return false;
}

int32_t sq_qualify_end(const char *sql, int32_t len, int32_t from) {
    int depth = 0;
    sq_token t;
    int32_t pos = from, end = from;
    while (sq_lex_next(sql, len, pos, &t)) {
        if (t.kind == SQ_TOK_PUNCT) {
            char c = sql[t.start];
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                if (depth == 0) break;
                depth--;
            }
        }
        if (depth == 0 && ends_qualify(sql, &t)) break;
        pos = end = t.end;
    }
    return end;
}

/* Offset of the QUALIFY keyword of the SelectStmt whose select list starts at from, or -1. */
static int32_t find_qualify(const char *sql, int32_t len, int32_t from) {
    int depth = 0;
    sq_token t;
    int32_t pos = from;
    while (sq_lex_next(sql, len, pos, &t)) {
        pos = t.end;
        if (t.kind == SQ_TOK_PUNCT) {
            char c = sql[t.start];
            if (c == '(' || c == '[') {
                depth++;
                continue;
            }
            if (c == ')' || c == ']') {
                if (depth == 0) return -1;
                depth--;
                continue;
            }
        }
        if (depth > 0) continue;
        if (sq_tok_is(sql, &t, "qualify")) return t.start;
        if (ends_qualify(sql, &t)) return -1;
    }
    return -1;
}

static int32_t cursor_to_byte(const char *text, int32_t len, int32_t cursorpos) {
    if (cursorpos <= 0) return -1;
    int32_t chars = 0, i = 0;
    for (; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80) continue;
        if (chars == cursorpos - 1) return i;
        chars++;
    }
    return i;
}

pl_status sq_parse_masked(const char *sql, int32_t kw, int32_t body, int32_t end,
                          PgQuery__ParseResult **out, pl_error *err) {
    size_t n = (size_t)pl_sql_text_len(sql);
    int32_t len = (int32_t)n;
    char *masked = pl_malloc(n + 1);
    if (!masked) PL_FAIL(err, PL_ERR_NOMEM, "out of memory parsing a clause");
    memset(masked, ' ', n);
    masked[n] = 0;
    memcpy(masked + kw, "SELECT", 6);
    memcpy(masked + body, sql + body, (size_t)(end - body));
    char *pre = NULL;
    pl_status rc = pl_sql_preprocess(masked, &pre, err);
    pl_free(masked);
    if (rc) return rc;
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(pre);
    PgQuery__ParseResult *pr = NULL;
    if (res.error) {
        /* an error past the clause (at the end of the blank copy) points at the clause's end */
        int32_t at = cursor_to_byte(pre, len, res.error->cursorpos);
        if (at > end || at < 0) at = end;
        rc = sq_fail(err, PL_ERR_SQL, at, "%s", res.error->message ? res.error->message : "syntax error");
    } else if ((rc = pl_sql_check_tree_depth((const uint8_t *)res.parse_tree.data, res.parse_tree.len,
                                             err)) == PL_OK) {
        pr = pg_query__parse_result__unpack(NULL, res.parse_tree.len, (const uint8_t *)res.parse_tree.data);
        if (!pr) rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory unpacking the parse tree");
    }
    pg_query_free_protobuf_parse_result(res);
    pl_free(pre);
    if (rc) return sq_at(err, rc, kw);
    *out = pr;
    return PL_OK;
}

pl_status sq_qualify_parse(const char *sql, const PgQuery__SelectStmt *st,
                           PgQuery__ParseResult **tree, const PgQuery__Node **cond, pl_error *err) {
    *tree = NULL;
    *cond = NULL;
    if (!sql || st->n_target_list == 0) return PL_OK;
    const PgQuery__Node *t0 = st->target_list[0];
    int32_t from = t0->node_case == PG_QUERY__NODE__NODE_RES_TARGET ? t0->res_target->location : -1;
    size_t n = (size_t)pl_sql_text_len(sql);
    if (from < 0 || (size_t)from > n || n > INT32_MAX / 2) return PL_OK;
    int32_t len = (int32_t)n;
    /* the location may be one byte late after an inserted subquery alias (pl_sql_preprocess) */
    int32_t kw = find_qualify(sql, len, from > 0 ? from - 1 : 0);
    if (kw < 0) return PL_OK;
    int32_t end = sq_qualify_end(sql, len, kw + 7);
    PgQuery__ParseResult *pr = NULL;
    PL_TRY(sq_parse_masked(sql, kw, kw + 7, end, &pr, err));
    /* exactly one condition: "SELECT <cond>" and nothing else */
    const PgQuery__SelectStmt *q = pr->n_stmts == 1 && pr->stmts[0]->stmt &&
                                           pr->stmts[0]->stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT
                                       ? pr->stmts[0]->stmt->select_stmt
                                       : NULL;
    const PgQuery__ResTarget *rt = q && q->n_target_list >= 1 &&
                                           q->target_list[0]->node_case == PG_QUERY__NODE__NODE_RES_TARGET
                                       ? q->target_list[0]->res_target
                                       : NULL;
    int32_t bad = -1;
    if (!rt || !rt->val) bad = kw;
    else if (q->n_target_list > 1) bad = sq_node_pos(q->target_list[1]);
    else if (sq_nz(rt->name)) bad = rt->location;
    else if (q->n_window_clause) {
        const PgQuery__Node *w = q->window_clause[0];
        int32_t wp = w->node_case == PG_QUERY__NODE__NODE_WINDOW_DEF ? w->window_def->location : kw + 7;
        pg_query__parse_result__free_unpacked(pr, NULL);
        return sq_fail(err, PL_ERR_SQL, wp, "syntax error: the WINDOW clause must come before QUALIFY");
    } else if (q->n_from_clause || q->where_clause || q->n_group_clause || q->having_clause ||
             q->n_distinct_clause || q->n_sort_clause || q->limit_count ||
             q->limit_offset || q->n_locking_clause || q->into_clause)
        bad = kw + 7;
    if (bad >= 0) {
        pg_query__parse_result__free_unpacked(pr, NULL);
        return sq_fail(err, PL_ERR_SQL, bad, "QUALIFY takes one condition");
    }
    *tree = pr;
    *cond = rt->val;
    return PL_OK;
}
