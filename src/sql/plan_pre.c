/* plan_pre.c - DuckDB syntax that the PostgreSQL grammar lacks, rewritten before parsing into
 * text of the same length (every byte offset stays valid), and the small lexer the planner
 * uses to re-read the original text (EXCLUDE lists, GROUP BY ALL). */
#include "sql/plan_int.h"

#include <ctype.h>
#include <stdio.h>
#include <strings.h>

static _Thread_local pl_sql_text_scope g_text; /* pl_sql_text_begin's, on this thread */

int32_t pl_sql_text_len(const char *sql) {
    if (!sql) return 0;
    if (sql == g_text.text) return g_text.len;
    return (int32_t)strlen(sql);
}

void pl_sql_text_begin(const char *text, int32_t len, pl_sql_text_scope *saved) {
    *saved = g_text;
    g_text.text = text;
    g_text.len = len;
}

void pl_sql_text_end(const pl_sql_text_scope *saved) { g_text = *saved; }

/* ---------------------------------------------------------------- lexer */

static bool is_ident_start(unsigned char c) { return isalpha(c) || c == '_' || c >= 0x80; }
static bool is_ident_char(unsigned char c) {
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skips blanks and comments from pos. */
static int32_t skip_space(const char *sql, int32_t len, int32_t pos) {
    while (pos < len) {
        unsigned char c = (unsigned char)sql[pos];
        if (isspace(c)) {
            pos++;
        } else if (c == '-' && pos + 1 < len && sql[pos + 1] == '-') {
            while (pos < len && sql[pos] != '\n') pos++;
        } else if (c == '/' && pos + 1 < len && sql[pos + 1] == '*') {
            int depth = 1;
            pos += 2;
            while (pos < len && depth > 0) {
                if (sql[pos] == '/' && pos + 1 < len && sql[pos + 1] == '*') {
                    depth++;
                    pos += 2;
                } else if (sql[pos] == '*' && pos + 1 < len && sql[pos + 1] == '/') {
                    depth--;
                    pos += 2;
                } else {
                    pos++;
                }
            }
        } else {
            break;
        }
    }
    return pos;
}

bool sq_lex_next(const char *sql, int32_t len, int32_t pos, sq_token *tok) {
    pos = skip_space(sql, len, pos);
    tok->start = pos;
    if (pos >= len) {
        tok->kind = SQ_TOK_END;
        tok->end = pos;
        return false;
    }
    unsigned char c = (unsigned char)sql[pos];
    if (c == '\'' || ((c == 'E' || c == 'e') && pos + 1 < len && sql[pos + 1] == '\'')) {
        bool backslash = c != '\'';
        if (c != '\'') pos++;
        pos++;
        while (pos < len) {
            if (backslash && sql[pos] == '\\' && pos + 1 < len) {
                pos += 2;
            } else if (sql[pos] == '\'') {
                if (pos + 1 < len && sql[pos + 1] == '\'') {
                    pos += 2;
                } else {
                    pos++;
                    break;
                }
            } else {
                pos++;
            }
        }
        tok->kind = SQ_TOK_STRING;
    } else if (c == '"') {
        pos++;
        while (pos < len) {
            if (sql[pos] == '"') {
                if (pos + 1 < len && sql[pos + 1] == '"') {
                    pos += 2;
                } else {
                    pos++;
                    break;
                }
            } else {
                pos++;
            }
        }
        tok->kind = SQ_TOK_QIDENT;
    } else if (c == '$' && pos + 1 < len &&
               (sql[pos + 1] == '$' || is_ident_start((unsigned char)sql[pos + 1]))) {
        /* dollar quoting: $tag$ ... $tag$ */
        int32_t tag_end = pos + 1;
        while (tag_end < len && sql[tag_end] != '$' && is_ident_char((unsigned char)sql[tag_end]))
            tag_end++;
        if (tag_end < len && sql[tag_end] == '$') {
            int32_t tag_len = tag_end - pos + 1;
            int32_t p = tag_end + 1;
            while (p < len && !(p + tag_len <= len && memcmp(sql + p, sql + pos, (size_t)tag_len) == 0))
                p++;
            pos = p + tag_len <= len ? p + tag_len : len;
            tok->kind = SQ_TOK_STRING;
        } else {
            pos++;
            tok->kind = SQ_TOK_PUNCT;
        }
    } else if (is_ident_start(c)) {
        while (pos < len && is_ident_char((unsigned char)sql[pos])) pos++;
        tok->kind = SQ_TOK_IDENT;
    } else if (isdigit(c) || (c == '.' && pos + 1 < len && isdigit((unsigned char)sql[pos + 1]))) {
        while (pos < len && (isalnum((unsigned char)sql[pos]) || sql[pos] == '.' || sql[pos] == '_'))
            pos++;
        tok->kind = SQ_TOK_NUMBER;
    } else {
        pos++;
        tok->kind = SQ_TOK_PUNCT;
    }
    tok->end = pos;
    return true;
}

bool sq_tok_is(const char *sql, const sq_token *tok, const char *word) {
    size_t n = strlen(word);
    if (tok->kind == SQ_TOK_PUNCT) return n == 1 && sql[tok->start] == word[0];
    if (tok->kind != SQ_TOK_IDENT) return false;
    return (size_t)(tok->end - tok->start) == n && strncasecmp(sql + tok->start, word, n) == 0;
}

/* ---------------------------------------------------------------- star modifiers */

/* End of the parenthesised group opening at the "(" token t (after its ")"), or -1 when it is
 * not closed; *top_as: an AS at the group's own level (REPLACE (expr AS name) rather than the
 * function replace(s, a, b)). */
static int32_t paren_end(const char *sql, int32_t len, const sq_token *t, bool *top_as) {
    int d = 0;
    int32_t p = t->start;
    sq_token u;
    *top_as = false;
    while (sq_lex_next(sql, len, p, &u)) {
        p = u.end;
        if (sq_tok_is(sql, &u, "(") || sq_tok_is(sql, &u, "[")) d++;
        else if ((sq_tok_is(sql, &u, ")") || sq_tok_is(sql, &u, "]")) && --d == 0) return p;
        else if (d == 1 && sq_tok_is(sql, &u, "as")) *top_as = true;
    }
    return -1;
}

/* DuckDB's INTERVAL (expr) unit, which the grammar lacks, as a call of the same length:
 * `INTERVAL (expr) DAYS` -> `__iv    (expr,DAYS)` (SQ_INTERVAL_FN; the planner reads the unit
 * word). Needs a blank between ")" and the unit. Returns whether it rewrote. */
static bool interval_expr_rewrite(const char *sql, int32_t len, const sq_token *kw, char *o) {
    static const char *const units[] = {
        "year", "years", "quarter", "quarters", "month", "months", "week", "weeks", "day", "days",
        "decade", "decades", "century", "centuries", "millennium", "millennia", "hour", "hours",
        "minute", "minutes", "second", "seconds", "millisecond", "milliseconds", "microsecond",
        "microseconds"};
    sq_token lp, unit;
    bool top_as;
    if (kw->end - kw->start != 8 || !sq_lex_next(sql, len, kw->end, &lp) || !sq_tok_is(sql, &lp, "("))
        return false;
    int32_t close_end = paren_end(sql, len, &lp, &top_as);
    if (close_end < 0 || !sq_lex_next(sql, len, close_end, &unit) || unit.kind != SQ_TOK_IDENT ||
        unit.start == close_end)
        return false;
    bool known = false;
    for (size_t k = 0; k < PL_ARRAY_LEN(units) && !known; k++) known = sq_tok_is(sql, &unit, units[k]);
    if (!known) return false;
    int32_t close = close_end - 1, ulen = unit.end - unit.start;
    memcpy(o + kw->start, "__iv    ", 8);
    o[close] = ',';
    memcpy(o + close + 1, sql + unit.start, (size_t)ulen);
    o[close + 1 + ulen] = ')';
    for (int32_t i = close + 2 + ulen; i < unit.end; i++) o[i] = ' ';
    return true;
}

/* An unparenthesised single item: `name` (EXCLUDE), `expr AS name` (REPLACE) or
 * `name AS name` (RENAME) starting at pos; its end, or -1. */
static int32_t single_end(const char *sql, int32_t len, int32_t pos, int which) {
    sq_token t;
    if (which == 0) {
        if (!sq_lex_next(sql, len, pos, &t)) return -1;
        return t.kind == SQ_TOK_IDENT || t.kind == SQ_TOK_QIDENT ? t.end : -1;
    }
    int d = 0;
    int32_t p = pos;
    bool any = false;
    while (sq_lex_next(sql, len, p, &t)) {
        p = t.end;
        if (sq_tok_is(sql, &t, "(") || sq_tok_is(sql, &t, "[")) {
            d++;
        } else if (sq_tok_is(sql, &t, ")") || sq_tok_is(sql, &t, "]")) {
            if (--d < 0) return -1;
        } else if (d == 0 && (sq_tok_is(sql, &t, ",") || sq_tok_is(sql, &t, ";") ||
                              sq_tok_is(sql, &t, "from"))) {
            return -1;
        } else if (d == 0 && any && sq_tok_is(sql, &t, "as")) {
            sq_token nm;
            if (!sq_lex_next(sql, len, p, &nm) || (nm.kind != SQ_TOK_IDENT && nm.kind != SQ_TOK_QIDENT))
                return -1;
            return nm.end;
        }
        any = true;
    }
    return -1;
}

void sq_star_mods_scan(const char *sql, int32_t len, int32_t pos, bool item, sq_star_mods *m) {
    static const char *const kws[3] = {"exclude", "replace", "rename"};
    for (int k = 0; k < 3; k++) {
        m->start[k] = m->end_of[k] = -1;
        m->paren[k] = false;
    }
    m->end = pos;
    int next = 0;
    sq_token kw;
    while (next < 3 && sq_lex_next(sql, len, m->end, &kw)) {
        int k = next;
        while (k < 3 && !sq_tok_is(sql, &kw, kws[k])) k++;
        if (k == 3) break;
        /* REPLACE and RENAME only after a select-list star (never after a multiplication) */
        if (k > 0 && !item) break;
        sq_token t2;
        int32_t end = -1;
        bool paren = false;
        if (sq_lex_next(sql, len, kw.end, &t2) && sq_tok_is(sql, &t2, "(")) {
            bool top_as;
            end = paren_end(sql, len, &t2, &top_as);
            paren = true;
            if (k > 0 && !top_as) end = -1;
        } else {
            end = single_end(sql, len, kw.end, k);
        }
        if (end < 0) break;
        m->start[k] = kw.start;
        m->end_of[k] = end;
        m->paren[k] = paren;
        m->end = end;
        next = k + 1;
    }
}

/* ---------------------------------------------------------------- rewriting */

#define PRE_MAX_DEPTH 256

static bool is_clause_end_word(const char *sql, const sq_token *t) {
    static const char *const words[] = {"having", "order", "limit", "window", "union",
                                        "except", "intersect", "offset", "qualify", "fetch"};
    if (t->kind == SQ_TOK_END) return true;
    if (t->kind == SQ_TOK_PUNCT) return sql[t->start] == ';' || sql[t->start] == ')';
    for (size_t i = 0; i < PL_ARRAY_LEN(words); i++)
        if (sq_tok_is(sql, t, words[i])) return true;
    return false;
}

static bool is_join_word(const char *sql, const sq_token *t) {
    static const char *const words[] = {"join", "inner", "left", "right", "full", "cross",
                                        "natural", "on", "using", "where", "group", "lateral",
                                        "asof", "semi", "anti", "positional"};
    for (size_t i = 0; i < PL_ARRAY_LEN(words); i++)
        if (sq_tok_is(sql, t, words[i])) return true;
    return false;
}

static sq_join_mark join_word(const char *sql, const sq_token *t) {
    if (sq_tok_is(sql, t, "asof")) return SQ_JOIN_ASOF;
    if (sq_tok_is(sql, t, "semi")) return SQ_JOIN_SEMI;
    if (sq_tok_is(sql, t, "anti")) return SQ_JOIN_ANTI;
    if (sq_tok_is(sql, t, "positional")) return SQ_JOIN_POSITIONAL;
    return SQ_JOIN_PLAIN;
}

sq_join_mark sq_join_marker(const char *sql, int32_t rarg_loc, int32_t *at) {
    *at = -1;
    if (!sql || rarg_loc < 0) return SQ_JOIN_PLAIN;
    int32_t len = pl_sql_text_len(sql);
    sq_token t, p1 = {SQ_TOK_END, -1, -1}, p2 = p1, p3 = p1, j1 = p1, j2 = p1, j3 = p1;
    bool any = false;
    int32_t pos = 0;
    while (sq_lex_next(sql, len, pos, &t) && t.start < rarg_loc) {
        pos = t.end;
        if (sq_tok_is(sql, &t, "join")) {
            j1 = p1;
            j2 = p2;
            j3 = p3;
            any = true;
        }
        p3 = p2;
        p2 = p1;
        p1 = t;
    }
    if (!any) return SQ_JOIN_PLAIN;
    sq_join_mark mk = join_word(sql, &j1);
    if (mk != SQ_JOIN_PLAIN) {
        *at = j1.start;
        return mk;
    }
    /* ASOF LEFT JOIN, ASOF LEFT OUTER JOIN (and the other kinds, refused by the planner) */
    const sq_token *k = sq_tok_is(sql, &j1, "outer") ? &j3 : &j2;
    if (join_word(sql, k) == SQ_JOIN_ASOF) {
        *at = k->start;
        return SQ_JOIN_ASOF;
    }
    return SQ_JOIN_PLAIN;
}

pl_status pl_sql_preprocess(const char *sql, char **out, pl_error *err) {
    size_t n = strlen(sql);
    if (n > INT32_MAX / 2) PL_FAIL(err, PL_ERR_LIMIT, "SQL text too long (%zu bytes)", n);
    int32_t len = (int32_t)n;
    char *o = pl_malloc(n + 1);
    if (!o) PL_FAIL(err, PL_ERR_NOMEM, "out of memory preprocessing SQL");
    memcpy(o, sql, n + 1);

    /* Per parenthesis level: whether SELECT appeared at that level (so FROM is a clause, not
     * part of EXTRACT(x FROM y)), and whether the opener was a rewritten '['. */
    bool seen_select[PRE_MAX_DEPTH];
    bool bracket_row[PRE_MAX_DEPTH];
    char closer[PRE_MAX_DEPTH];
    int depth = 0;
    seen_select[0] = false;
    bool in_from[PRE_MAX_DEPTH]; /* inside a FROM list at this level */
    bool subq[PRE_MAX_DEPTH];    /* this level is a FROM subquery "(SELECT ...)" */
    in_from[0] = false;
    subq[0] = false;
    int32_t *ins = NULL; /* positions after ")" of FROM subqueries without an alias */
    int32_t n_ins = 0, cap_ins = 0;
    bool stmt_is_copy = false, at_stmt_start = true;
    bool insert_src = false; /* after INSERT, before its rows (SELECT, VALUES, ...) */
    sq_token prev = {SQ_TOK_END, -1, -1}, prev2 = {SQ_TOK_END, -1, -1};
    sq_token tok;
    int32_t pos = 0;
    while (sq_lex_next(sql, len, pos, &tok)) {
        pos = tok.end;
        if (at_stmt_start && tok.kind == SQ_TOK_IDENT) {
            stmt_is_copy = sq_tok_is(sql, &tok, "copy");
            at_stmt_start = false;
        }
        if (tok.kind == SQ_TOK_PUNCT) {
            char c = sql[tok.start];
            if (c == ';' && depth == 0) {
                at_stmt_start = true;
                insert_src = false;
                seen_select[0] = false;
                in_from[0] = false; /* a FROM of the statement before is not this one's */
            } else if (c == '(' || c == '[') {
                bool row = false;
                if (c == '[' && (sq_tok_is(sql, &prev, "(") || sq_tok_is(sql, &prev, ",") ||
                                 sq_tok_is(sql, &prev, "="))) {
                    row = true;
                    o[tok.start] = '(';
                }
                bool sub = false;
                if (c == '(' && (sq_tok_is(sql, &prev, "from") || sq_tok_is(sql, &prev, "join") ||
                                 (sq_tok_is(sql, &prev, ",") && in_from[depth]))) {
                    sq_token nx;
                    sq_lex_next(sql, len, pos, &nx);
                    sub = sq_tok_is(sql, &nx, "select") || sq_tok_is(sql, &nx, "with") ||
                          sq_tok_is(sql, &nx, "values");
                }
                if (depth + 1 < PRE_MAX_DEPTH) {
                    depth++;
                    seen_select[depth] = false;
                    bracket_row[depth] = row;
                    closer[depth] = c == '(' ? ')' : ']';
                    in_from[depth] = false;
                    subq[depth] = sub;
                }
            } else if ((c == ')' || c == ']') && depth > 0 && closer[depth] == c) {
                if (bracket_row[depth]) o[tok.start] = ')';
                if (subq[depth]) {
                    /* DuckDB allows FROM (SELECT ...) without an alias; PostgreSQL 15 does not */
                    sq_token nx;
                    sq_lex_next(sql, len, pos, &nx);
                    bool aliased = (nx.kind == SQ_TOK_IDENT && !is_clause_end_word(sql, &nx) &&
                                    !is_join_word(sql, &nx)) ||
                                   nx.kind == SQ_TOK_QIDENT;
                    if (!aliased) {
                        if (n_ins == cap_ins) {
                            cap_ins = cap_ins ? cap_ins * 2 : 4;
                            int32_t *ni = pl_realloc(ins, (size_t)cap_ins * sizeof *ni);
                            if (!ni) {
                                pl_free(ins);
                                pl_free(o);
                                PL_FAIL(err, PL_ERR_NOMEM, "out of memory preprocessing SQL");
                            }
                            ins = ni;
                        }
                        ins[n_ins++] = tok.end;
                    }
                }
                depth--;
            } else if (c == '*') {
                /* * EXCLUDE (...) REPLACE (...) RENAME (...): blanked; the planner reads them from
                 * the original text (sq_star_mods) */
                bool item = sq_tok_is(sql, &prev, "select") || sq_tok_is(sql, &prev, ",") ||
                            sq_tok_is(sql, &prev, ".") || sq_tok_is(sql, &prev, "distinct") ||
                            sq_tok_is(sql, &prev, "all") || sq_tok_is(sql, &prev, ")");
                sq_star_mods m;
                sq_star_mods_scan(sql, len, pos, item, &m);
                if (m.end > pos) {
                    for (int32_t i = pos; i < m.end; i++)
                        if (o[i] != '\n') o[i] = ' ';
                    pos = m.end;
                }
            }
        } else if (tok.kind == SQ_TOK_IDENT) {
            if (sq_tok_is(sql, &tok, "qualify") && seen_select[depth] &&
                !sq_tok_is(sql, &prev, ".") && !sq_tok_is(sql, &prev, "as")) {
                /* QUALIFY cond: blanked; the planner parses it from the original text */
                int32_t end = sq_qualify_end(sql, len, tok.end);
                for (int32_t i = tok.start; i < end; i++)
                    if (o[i] != '\n') o[i] = ' ';
                pos = end;
                prev2 = prev;
                prev = tok;
                continue;
            }
            /* f(x IGNORE NULLS) / f(x RESPECT NULLS): blanked; read back by sq_null_treatment */
            if (sq_tok_is(sql, &tok, "ignore") || sq_tok_is(sql, &tok, "respect")) {
                sq_token nl, cl;
                if (sq_lex_next(sql, len, pos, &nl) && sq_tok_is(sql, &nl, "nulls") &&
                    sq_lex_next(sql, len, nl.end, &cl) && sq_tok_is(sql, &cl, ")") &&
                    !sq_tok_is(sql, &prev, "(") && !sq_tok_is(sql, &prev, ",") && depth > 0) {
                    for (int32_t i = tok.start; i < nl.end; i++)
                        if (o[i] != '\n') o[i] = ' ';
                    pos = nl.end;
                    prev2 = prev;
                    prev = nl;
                    continue;
                }
            }
            /* ASOF [LEFT ...] JOIN, SEMI JOIN, ANTI JOIN: the keyword blanked; POSITIONAL JOIN:
             * CROSS JOIN (sq_join_marker reads them back) */
            if (!sq_tok_is(sql, &prev, ".") && !sq_tok_is(sql, &prev, "as")) {
                sq_join_mark mk = join_word(sql, &tok);
                sq_token nx;
                if (mk != SQ_JOIN_PLAIN && sq_lex_next(sql, len, pos, &nx) &&
                    (sq_tok_is(sql, &nx, "join") ||
                     (mk == SQ_JOIN_ASOF && (sq_tok_is(sql, &nx, "left") || sq_tok_is(sql, &nx, "inner") ||
                                             sq_tok_is(sql, &nx, "right") || sq_tok_is(sql, &nx, "full"))))) {
                    memset(o + tok.start, ' ', (size_t)(tok.end - tok.start));
                    if (mk == SQ_JOIN_POSITIONAL) memcpy(o + tok.start, "CROSS", 5);
                    prev2 = prev;
                    prev = tok;
                    continue;
                }
            }
            /* CREATE OR REPLACE [TEMP] TABLE, INSERT OR IGNORE | REPLACE INTO, INSERT INTO t BY
             * NAME | POSITION: the DuckDB words blanked; the session reads them back from the
             * text (pl_sql_stmt_word) */
            if (depth == 0 && sq_tok_is(sql, &tok, "insert") &&
                (prev.start < 0 || sq_tok_is(sql, &prev, ";") || sq_tok_is(sql, &prev, ")")))
                insert_src = true; /* the statement's INSERT (after a WITH list: a ")") */
            else if (depth == 0 && (sq_tok_is(sql, &tok, "select") || sq_tok_is(sql, &tok, "values") ||
                                    sq_tok_is(sql, &tok, "default") || sq_tok_is(sql, &tok, "with") ||
                                    sq_tok_is(sql, &tok, "from")))
                insert_src = false;
            if (depth == 0 && (sq_tok_is(sql, &tok, "or") || sq_tok_is(sql, &tok, "by"))) {
                sq_token w, nx, nx2;
                bool two = sq_lex_next(sql, len, pos, &w);
                bool has_nx = two && sq_lex_next(sql, len, w.end, &nx);
                bool blank = false;
                if (two && sq_tok_is(sql, &tok, "or") && sq_tok_is(sql, &prev, "insert"))
                    blank = (sq_tok_is(sql, &w, "ignore") || sq_tok_is(sql, &w, "replace")) && has_nx &&
                            sq_tok_is(sql, &nx, "into");
                else if (two && sq_tok_is(sql, &tok, "or") && sq_tok_is(sql, &prev, "create"))
                    blank = sq_tok_is(sql, &w, "replace") && has_nx &&
                            (sq_tok_is(sql, &nx, "table") ||
                             ((sq_tok_is(sql, &nx, "temp") || sq_tok_is(sql, &nx, "temporary")) &&
                              sq_lex_next(sql, len, nx.end, &nx2) && sq_tok_is(sql, &nx2, "table")));
                else if (two && sq_tok_is(sql, &tok, "by") && insert_src)
                    blank = sq_tok_is(sql, &w, "name") || sq_tok_is(sql, &w, "position");
                if (blank) {
                    for (int32_t i = tok.start; i < w.end; i++)
                        if (o[i] != '\n') o[i] = ' ';
                    pos = w.end;
                    prev2 = prev;
                    prev = w;
                    continue;
                }
            }
            if (sq_tok_is(sql, &tok, "select")) seen_select[depth] = true;
            if (sq_tok_is(sql, &tok, "from")) in_from[depth] = seen_select[depth];
            else if (is_clause_end_word(sql, &tok) || sq_tok_is(sql, &tok, "where") ||
                     sq_tok_is(sql, &tok, "group"))
                in_from[depth] = false;
            /* UNION [ALL|DISTINCT] BY NAME: BY NAME blanked; the planner reads it from the
             * original text (sq_union_by_name) */
            if (sq_tok_is(sql, &tok, "by") &&
                (sq_tok_is(sql, &prev, "union") ||
                 ((sq_tok_is(sql, &prev, "all") || sq_tok_is(sql, &prev, "distinct")) &&
                  sq_tok_is(sql, &prev2, "union")))) {
                sq_token nm;
                if (sq_lex_next(sql, len, pos, &nm) && sq_tok_is(sql, &nm, "name")) {
                    for (int32_t i = tok.start; i < nm.end; i++)
                        if (o[i] != '\n') o[i] = ' ';
                    pos = nm.end;
                    prev2 = prev;
                    prev = nm;
                    continue;
                }
            }
            /* INTERVAL (expr) DAY[S] -> __iv    (expr,DAY[S]) (SQ_INTERVAL_FN) */
            if (sq_tok_is(sql, &tok, "interval") && interval_expr_rewrite(sql, len, &tok, o)) {
                prev2 = prev;
                prev = tok;
                continue;
            }
            /* INTERVAL 10 DAY[S] -> INTERVAL'10'DAY[ ] */
            if (sq_tok_is(sql, &tok, "interval")) {
                sq_token num, unit;
                if (sq_lex_next(sql, len, pos, &num) && num.kind == SQ_TOK_NUMBER &&
                    num.start == tok.end + 1 && sq_lex_next(sql, len, num.end, &unit) &&
                    unit.kind == SQ_TOK_IDENT && unit.start == num.end + 1 &&
                    isspace((unsigned char)sql[tok.end]) && isspace((unsigned char)sql[num.end])) {
                    static const char *const units[] = {"year", "month", "day", "hour", "minute", "second"};
                    int32_t ulen = unit.end - unit.start;
                    bool done = false;
                    for (size_t k = 0; k < PL_ARRAY_LEN(units); k++) {
                        int32_t un = (int32_t)strlen(units[k]);
                        bool plural = ulen == un + 1 && (sql[unit.end - 1] == 's' || sql[unit.end - 1] == 'S');
                        if ((ulen == un || plural) && strncasecmp(sql + unit.start, units[k], (size_t)un) == 0) {
                            o[tok.end] = '\'';
                            o[num.end] = '\'';
                            if (plural) o[unit.end - 1] = ' ';
                            done = true;
                            break;
                        }
                    }
                    /* DuckDB's other units (INTERVAL 2 WEEK, 500 MILLISECONDS, 1 DECADE, ...): the
                     * grammar has no such field, so the number and unit become one string of the
                     * same length, INTERVAL'2WEEK' (whole numbers only: DuckDB truncates some
                     * fractions there) */
                    static const char *const more[] = {
                        "microsecond", "microseconds", "millisecond", "milliseconds", "week", "weeks",
                        "decade", "decades", "century", "centuries", "millennium", "millennia",
                        "quarter", "quarters"};
                    bool known = false, whole = true;
                    for (int32_t i = num.start; i < num.end; i++)
                        if (!isdigit((unsigned char)sql[i])) whole = false;
                    for (size_t k = 0; !done && whole && k < PL_ARRAY_LEN(more); k++)
                        if (ulen == (int32_t)strlen(more[k]) &&
                            strncasecmp(sql + unit.start, more[k], (size_t)ulen) == 0)
                            known = true;
                    if (known) {
                        o[tok.end] = '\'';
                        memcpy(o + num.end, sql + unit.start, (size_t)ulen);
                        o[unit.end - 1] = '\'';
                    }
                }
            }
            /* TRY_CAST( -> "    CAST(": the planner sees "TRY_" before the CAST in the original */
            if (tok.end - tok.start == 8 && strncasecmp(sql + tok.start, "try_cast", 8) == 0) {
                sq_token nx;
                if (sq_lex_next(sql, len, pos, &nx) && sq_tok_is(sql, &nx, "("))
                    memset(o + tok.start, ' ', 4);
            }
            if (sq_tok_is(sql, &tok, "all") && sq_tok_is(sql, &prev, "by") &&
                sq_tok_is(sql, &prev2, "group")) {
                sq_token nx;
                sq_lex_next(sql, len, pos, &nx);
                if (is_clause_end_word(sql, &nx)) memcpy(o + tok.start, "() ", 3);
            }
            /* ORDER BY ALL [ASC|DESC] [NULLS FIRST|LAST] -> ORDER BY 1: the planner sees "all"
             * at the constant's position in the original and sorts by every output column */
            if (sq_tok_is(sql, &tok, "all") && sq_tok_is(sql, &prev, "by") &&
                sq_tok_is(sql, &prev2, "order") && seen_select[depth]) {
                sq_token nx;
                sq_lex_next(sql, len, pos, &nx);
                if (is_clause_end_word(sql, &nx) || sq_tok_is(sql, &nx, "asc") ||
                    sq_tok_is(sql, &nx, "desc") || sq_tok_is(sql, &nx, "nulls"))
                    memcpy(o + tok.start, "1  ", 3);
            }
        } else if (tok.kind == SQ_TOK_STRING && sql[tok.start] == '\'' &&
                   (sq_tok_is(sql, &prev, "from") || sq_tok_is(sql, &prev, "join") ||
                    (sq_tok_is(sql, &prev, ",") && in_from[depth])) &&
                   seen_select[depth] && !(stmt_is_copy && depth == 0)) {
            /* FROM 'file.parquet' -> FROM "file.parquet" when the path has no quotes (also a
             * later item of the FROM list: FROM 'a.parquet' a, 'b.parquet' b). */
            bool plain = true; /* '' inside stays '' (the planner unescapes paths) */
            for (int32_t i = tok.start + 1; i < tok.end - 1; i++)
                if (sql[i] == '"') plain = false;
            if (plain && tok.end - tok.start >= 2 && sql[tok.end - 1] == '\'') {
                o[tok.start] = '"';
                o[tok.end - 1] = '"';
            }
        }
        prev2 = prev;
        prev = tok;
    }
    /* alias insertion: "_" right after ")", paid for by removing one blank further on that
     * separates nothing (between a word and punctuation, or a run of blanks), so offsets after
     * that point stay exact (tokens in between move by one byte) */
    for (int32_t k = n_ins - 1; k >= 0; k--) {
        int32_t p = ins[k], d = -1;
        sq_token a, b;
        int32_t q = p;
        if (sq_lex_next(o, len, q, &a)) {
            /* the gap right after ")" */
            if (a.start - p >= 1 && isspace((unsigned char)o[p]) && (a.start - p >= 2 || a.kind == SQ_TOK_PUNCT))
                d = p;
            q = a.end;
            while (d < 0 && sq_lex_next(o, len, q, &b)) {
                int32_t gap = b.start - a.end;
                if (gap >= 1 && isspace((unsigned char)o[a.end]) &&
                    (gap >= 2 || ((a.kind == SQ_TOK_PUNCT) != (b.kind == SQ_TOK_PUNCT))))
                    d = a.end;
                a = b;
                q = b.end;
            }
        }
        if (d < 0 && len > p && isspace((unsigned char)o[len - 1])) d = len - 1;
        if (d >= 0) {
            memmove(o + p + 1, o + p, (size_t)(d - p));
            o[p] = '_';
            continue;
        }
        /* else a blank before the subquery's "(" side: the last removable gap before p */
        int32_t back = -1;
        q = 0;
        if (sq_lex_next(o, len, q, &a)) {
            q = a.end;
            while (sq_lex_next(o, len, q, &b) && b.end <= p) {
                int32_t gap = b.start - a.end;
                if (gap >= 1 && isspace((unsigned char)o[a.end]) &&
                    (gap >= 2 || ((a.kind == SQ_TOK_PUNCT) != (b.kind == SQ_TOK_PUNCT))))
                    back = a.end;
                a = b;
                q = b.end;
            }
        }
        if (back < 0) continue;
        memmove(o + back, o + back + 1, (size_t)(p - 1 - back));
        o[p - 1] = '_';
    }
    pl_free(ins);
    *out = o;
    return PL_OK;
}

/* ---------------------------------------------------------------- re-reading the original */

/* Unquotes an identifier token into buf (lower-cased when unquoted, like the parser). */
static void tok_ident(const char *sql, const sq_token *t, char *buf, size_t buf_size) {
    size_t k = 0;
    if (t->kind == SQ_TOK_QIDENT) {
        for (int32_t i = t->start + 1; i < t->end - 1 && k + 1 < buf_size; i++) {
            buf[k++] = sql[i];
            if (sql[i] == '"') i++;
        }
    } else {
        for (int32_t i = t->start; i < t->end && k + 1 < buf_size; i++)
            buf[k++] = (char)tolower((unsigned char)sql[i]);
    }
    buf[k] = '\0';
}

int32_t sq_star_end(const char *sql, int32_t star_loc) {
    if (!sql || star_loc < 0) return -1;
    int32_t len = pl_sql_text_len(sql);
    if (star_loc >= len) return -1;
    sq_token t;
    int32_t pos = star_loc;
    for (;;) {
        if (!sq_lex_next(sql, len, pos, &t)) return -1;
        pos = t.end;
        if (sq_tok_is(sql, &t, "*")) return pos;
        if (t.kind != SQ_TOK_IDENT && t.kind != SQ_TOK_QIDENT && !sq_tok_is(sql, &t, "."))
            return -1;
    }
}

static pl_status names_push(sq_names *out, const char *name, int32_t pos, pl_error *err) {
    { /* lists are short: grow by one */
        int32_t cap = out->n + 1;
        char **nn = pl_realloc(out->names, (size_t)cap * sizeof *nn);
        if (nn) out->names = nn;
        int32_t *np = nn ? pl_realloc(out->pos, (size_t)cap * sizeof *np) : NULL;
        if (np) out->pos = np;
        if (!nn || !np) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a star modifier");
    }
    out->names[out->n] = pl_strdup(name);
    if (!out->names[out->n]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a star modifier");
    out->pos[out->n++] = pos;
    return PL_OK;
}

/* One (possibly qualified: the last part counts) name at pos; false when there is none. */
static bool read_name(const char *sql, int32_t len, int32_t *pos, char *buf, size_t size,
                      int32_t *at) {
    sq_token t, dot;
    if (!sq_lex_next(sql, len, *pos, &t) || (t.kind != SQ_TOK_IDENT && t.kind != SQ_TOK_QIDENT))
        return false;
    *pos = t.end;
    while (sq_lex_next(sql, len, *pos, &dot) && sq_tok_is(sql, &dot, ".") &&
           sq_lex_next(sql, len, dot.end, &t) && (t.kind == SQ_TOK_IDENT || t.kind == SQ_TOK_QIDENT))
        *pos = t.end;
    *at = t.start;
    /* tok_ident is defined below */
    size_t k = 0;
    if (t.kind == SQ_TOK_QIDENT) {
        for (int32_t i = t.start + 1; i < t.end - 1 && k + 1 < size; i++) {
            buf[k++] = sql[i];
            if (sql[i] == '"') i++;
        }
    } else {
        for (int32_t i = t.start; i < t.end && k + 1 < size; i++) buf[k++] = (char)tolower((unsigned char)sql[i]);
    }
    buf[k] = '\0';
    return true;
}

pl_status sq_read_rename(const char *sql, int32_t star_loc, sq_names *from, sq_names *to,
                         pl_error *err) {
    memset(from, 0, sizeof *from);
    memset(to, 0, sizeof *to);
    int32_t p = sq_star_end(sql, star_loc);
    if (p < 0) return PL_OK;
    int32_t len = pl_sql_text_len(sql);
    sq_star_mods m;
    sq_star_mods_scan(sql, len, p, true, &m);
    if (m.start[2] < 0) return PL_OK;
    sq_token t;
    int32_t pos = m.start[2] + 6; /* after RENAME */
    if (m.paren[2] && sq_lex_next(sql, len, pos, &t)) pos = t.end; /* "(" */
    pl_status st = PL_OK;
    while (!st && pos < m.end_of[2]) {
        char a[256], b[256];
        int32_t pa, pb;
        sq_token as;
        if (!read_name(sql, len, &pos, a, sizeof a, &pa) || !sq_lex_next(sql, len, pos, &as) ||
            !sq_tok_is(sql, &as, "as")) {
            st = sq_fail(err, PL_ERR_SQL, pos, "RENAME takes a list of: column AS new_name");
            break;
        }
        pos = as.end;
        if (!read_name(sql, len, &pos, b, sizeof b, &pb)) {
            st = sq_fail(err, PL_ERR_SQL, pos, "RENAME takes a list of: column AS new_name");
            break;
        }
        st = names_push(from, a, pa, err);
        if (!st) st = names_push(to, b, pb, err);
        if (!st && sq_lex_next(sql, len, pos, &t) && sq_tok_is(sql, &t, ",")) pos = t.end;
        else break;
    }
    if (st) {
        sq_names_reset(from);
        sq_names_reset(to);
    }
    return st;
}

pl_status sq_replace_parse(const char *sql, int32_t star_loc, PgQuery__ParseResult **tree,
                           PgQuery__Node *const **items, size_t *n_items, pl_error *err) {
    *tree = NULL;
    *items = NULL;
    *n_items = 0;
    int32_t p = sq_star_end(sql, star_loc);
    if (p < 0) return PL_OK;
    int32_t len = pl_sql_text_len(sql);
    sq_star_mods m;
    sq_star_mods_scan(sql, len, p, true, &m);
    int32_t kw = m.start[1];
    if (kw < 0) return PL_OK;
    int32_t body = kw + 7, end = m.end_of[1];
    if (m.paren[1]) {
        sq_token t;
        sq_lex_next(sql, len, body, &t); /* "(" */
        body = t.end;
        end--; /* before ")" */
    }
    PgQuery__ParseResult *pr = NULL;
    PL_TRY(sq_parse_masked(sql, kw, body, end, &pr, err));
    const PgQuery__SelectStmt *q = pr->n_stmts == 1 && pr->stmts[0]->stmt &&
                                           pr->stmts[0]->stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT
                                       ? pr->stmts[0]->stmt->select_stmt
                                       : NULL;
    int32_t bad = q && q->n_target_list ? -1 : kw;
    for (size_t i = 0; bad < 0 && i < q->n_target_list; i++) {
        const PgQuery__Node *n = q->target_list[i];
        if (n->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !n->res_target->val)
            bad = kw;
        else if (!sq_nz(n->res_target->name))
            bad = n->res_target->location;
    }
    if (bad < 0 && (q->n_from_clause || q->where_clause || q->n_group_clause || q->having_clause ||
                    q->n_window_clause || q->n_distinct_clause || q->n_sort_clause || q->limit_count ||
                    q->limit_offset))
        bad = kw;
    if (bad >= 0) {
        pg_query__parse_result__free_unpacked(pr, NULL);
        return sq_fail(err, PL_ERR_SQL, bad, "REPLACE takes a list of: expression AS column");
    }
    *tree = pr;
    *items = q->target_list;
    *n_items = q->n_target_list;
    return PL_OK;
}

pl_status sq_read_exclude(const char *sql, int32_t star_loc, sq_names *out, pl_error *err) {
    out->n = 0;
    out->names = NULL;
    out->pos = NULL;
    if (!sql || star_loc < 0) return PL_OK;
    int32_t len = pl_sql_text_len(sql);
    if (star_loc >= len) return PL_OK;
    /* find the '*' of this ColumnRef: [ident .]* '*' */
    sq_token t;
    int32_t pos = star_loc;
    for (;;) {
        if (!sq_lex_next(sql, len, pos, &t)) return PL_OK;
        pos = t.end;
        if (sq_tok_is(sql, &t, "*")) break;
        if (t.kind != SQ_TOK_IDENT && t.kind != SQ_TOK_QIDENT && !sq_tok_is(sql, &t, "."))
            return PL_OK;
    }
    if (!sq_lex_next(sql, len, pos, &t) || !sq_tok_is(sql, &t, "exclude")) return PL_OK;
    pos = t.end;
    if (!sq_lex_next(sql, len, pos, &t)) return PL_OK;
    bool paren = sq_tok_is(sql, &t, "(");
    if (paren) pos = t.end;
    int32_t cap = 0;
    for (;;) {
        if (!sq_lex_next(sql, len, pos, &t)) break;
        pos = t.end;
        if (t.kind == SQ_TOK_IDENT || t.kind == SQ_TOK_QIDENT) {
            char name[256];
            tok_ident(sql, &t, name, sizeof name);
            /* qualified names (t.a): keep the last part */
            sq_token dot;
            while (sq_lex_next(sql, len, pos, &dot) && sq_tok_is(sql, &dot, ".")) {
                if (!sq_lex_next(sql, len, dot.end, &t)) break;
                pos = t.end;
                tok_ident(sql, &t, name, sizeof name);
            }
            if (out->n == cap) {
                cap = cap ? cap * 2 : 4;
                char **nn = pl_realloc(out->names, (size_t)cap * sizeof *nn);
                if (nn) out->names = nn;
                int32_t *np = nn ? pl_realloc(out->pos, (size_t)cap * sizeof *np) : NULL;
                if (np) out->pos = np;
                if (!nn || !np) {
                    sq_names_reset(out);
                    PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading EXCLUDE list");
                }
            }
            out->pos[out->n] = t.start;
            out->names[out->n] = pl_strdup(name);
            if (!out->names[out->n]) {
                sq_names_reset(out);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading EXCLUDE list");
            }
            out->n++;
            if (!paren) break;
        } else if (sq_tok_is(sql, &t, ",")) {
            continue;
        } else {
            break; /* ')' or anything else */
        }
    }
    return PL_OK;
}

void sq_names_reset(sq_names *n) {
    for (int32_t i = 0; i < n->n; i++) pl_free(n->names[i]);
    pl_free(n->names);
    pl_free(n->pos);
    n->names = NULL;
    n->pos = NULL;
    n->n = 0;
}

int sq_null_treatment(const char *sql, int32_t call_loc, int32_t *at) {
    *at = -1;
    if (!sql || call_loc < 0) return 0;
    int32_t len = pl_sql_text_len(sql);
    if (call_loc >= len) return 0;
    sq_token t;
    int32_t p = call_loc;
    /* the (possibly qualified) name, then "(" */
    for (;;) {
        if (!sq_lex_next(sql, len, p, &t)) return 0;
        p = t.end;
        if (sq_tok_is(sql, &t, "(")) break;
        if (t.kind != SQ_TOK_IDENT && t.kind != SQ_TOK_QIDENT && !sq_tok_is(sql, &t, ".")) return 0;
    }
    int d = 1;
    sq_token a = {SQ_TOK_END, -1, -1}, b = {SQ_TOK_END, -1, -1}; /* the last two at depth 1 */
    while (sq_lex_next(sql, len, p, &t)) {
        p = t.end;
        if (sq_tok_is(sql, &t, "(") || sq_tok_is(sql, &t, "[")) {
            d++;
        } else if (sq_tok_is(sql, &t, ")") || sq_tok_is(sql, &t, "]")) {
            if (--d == 0) break;
        }
        if (d == 1 && !sq_tok_is(sql, &t, "(") && !sq_tok_is(sql, &t, "[")) {
            a = b;
            b = t;
        } else if (d == 2 && (sq_tok_is(sql, &t, "(") || sq_tok_is(sql, &t, "["))) {
            a = b;
            b = t;
        }
    }
    if (d != 0 || a.start < 0 || !sq_tok_is(sql, &b, "nulls")) return 0;
    *at = a.start;
    if (sq_tok_is(sql, &a, "ignore")) return 1;
    if (sq_tok_is(sql, &a, "respect")) return 2;
    return 0;
}

bool sq_text_is_word_at(const char *sql, int32_t loc, const char *word) {
    if (!sql || loc < 0) return false;
    int32_t len = pl_sql_text_len(sql);
    if (loc >= len) return false;
    sq_token t;
    /* loc may be one byte late after an inserted subquery alias (see pl_sql_preprocess) */
    if (sq_lex_next(sql, len, loc, &t) && t.start == loc && sq_tok_is(sql, &t, word)) return true;
    return loc > 0 && sq_lex_next(sql, len, loc - 1, &t) && t.start == loc - 1 && sq_tok_is(sql, &t, word);
}

/* ---------------------------------------------------------------- UNION BY NAME */

typedef struct {
    int32_t min;
} min_loc;

static bool min_loc_visit(ProtobufCMessage *m, void *vctx) {
    min_loc *ml = vctx;
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "location");
    if (f && f->type == PROTOBUF_C_TYPE_INT32 && f->label != PROTOBUF_C_LABEL_REPEATED) {
        int32_t loc = *(const int32_t *)(const void *)((const char *)m + f->offset);
        if (loc >= 0 && (ml->min < 0 || loc < ml->min)) ml->min = loc;
    }
    pl_sql_node_children(m, min_loc_visit, ml);
    return false;
}

bool sq_union_by_name(const char *sql, const PgQuery__SelectStmt *st) {
    if (!sql || !st->rarg) return false;
    min_loc ml = {-1};
    min_loc_visit((ProtobufCMessage *)(uintptr_t)&st->rarg->base, &ml);
    if (ml.min < 0) return false;
    /* the last set operation keyword before the right side joins the two sides */
    int32_t len = pl_sql_text_len(sql), pos = 0;
    bool by_name = false;
    sq_token t, prev = {SQ_TOK_END, -1, -1}, prev2 = {SQ_TOK_END, -1, -1};
    while (sq_lex_next(sql, len, pos, &t) && t.start < ml.min) {
        pos = t.end;
        if (sq_tok_is(sql, &t, "union") || sq_tok_is(sql, &t, "except") || sq_tok_is(sql, &t, "intersect"))
            by_name = false;
        if (sq_tok_is(sql, &t, "name") && sq_tok_is(sql, &prev, "by") &&
            (sq_tok_is(sql, &prev2, "union") || sq_tok_is(sql, &prev2, "all") || sq_tok_is(sql, &prev2, "distinct")))
            by_name = true;
        prev2 = prev;
        prev = t;
    }
    return by_name;
}
