/* session_forms.c - DuckDB statement forms the PostgreSQL grammar lacks, rewritten before the
 * script is parsed, and run after:
 *   FROM t [WHERE ...]            -> SELECT * FROM t [WHERE ...]   (FROM-first, also in
 *   FROM t SELECT a WHERE ...     -> SELECT a FROM t WHERE ...      subqueries, CTEs, set
 *                                                                   operation arms)
 *   DESCRIBE | DESC | SHOW  query | table | 'file'   the columns of the query or table
 *   SUMMARIZE query | table | 'file'                 per-column statistics
 *   SHOW TABLES, SHOW ALL TABLES                     the session's catalog
 *   [1, 2, 3] (a list literal, not a subscript)      list_value(1, 2, 3)
 *   x [NOT] IN [1, 2]                                x [!]<@@ list_value(1, 2) (list_contains)
 *   {'a': 1, 'b': 'x'} (a struct literal)            struct_pack("a" := 1, "b" := 'x')
 *   lambda x, i: body  /  x -> body                  (x, i) -> (body)  /  x -> (body)
 *   agg(x) FILTER (cond)                             agg(x) FILTER (WHERE cond)
 * Unlike pl_sql_preprocess (which keeps the text's length so that tree locations are offsets
 * into the user's text), these insert and move text: the session parses and plans the
 * rewritten script as if the user had written it, and maps error positions back through the
 * segment list (pl_sql_forms_orig_pos). A statement whose form is not plain carries a mark;
 * pl_sql_run_form runs it. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_int.h"
#include "sql/plan_int.h"
#include "sql/session_int.h"

typedef struct fw {
    const char *sql;
    const sq_token *t;
    int32_t n_tok;
    pl_sql_forms *f;
    int32_t cap_text, cap_segs, cap_marks;
    bool oom;
} fw;

static bool grow(void **p, int32_t *cap, int32_t need, size_t elem) {
    if (need <= *cap) return true;
    int32_t c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = pl_realloc(*p, (size_t)c * elem);
    if (!q) return false;
    *p = q;
    *cap = c;
    return true;
}

/* Appends n bytes; orig >= 0: they are the user's bytes from orig on; else inserted text
 * standing for the user's byte -orig - 1. */
static void put(fw *w, const char *s, int32_t n, int32_t orig) {
    pl_sql_forms *f = w->f;
    if (w->oom || n <= 0) return;
    if (!grow((void **)&f->text, &w->cap_text, f->len + n + 1, 1) ||
        !grow((void **)&f->segs, &w->cap_segs, f->n_segs + 1, sizeof *f->segs)) {
        w->oom = true;
        return;
    }
    pl_sql_form_seg *last = f->n_segs ? &f->segs[f->n_segs - 1] : NULL;
    bool verbatim = orig >= 0;
    if (last && verbatim && last->orig >= 0 && last->orig + (f->len - last->at) == orig) {
        /* continues the previous verbatim segment */
    } else {
        f->segs[f->n_segs++] = (pl_sql_form_seg){f->len, orig};
    }
    memcpy(f->text + f->len, s, (size_t)n);
    f->len += n;
    f->text[f->len] = 0;
}

static void copy(fw *w, int32_t a, int32_t b) {
    if (b > a) put(w, w->sql + a, b - a, a);
}

static void insert(fw *w, const char *s, int32_t anchor) {
    put(w, s, (int32_t)strlen(s), -anchor - 1);
}

static bool is(const fw *w, int32_t i, const char *word) {
    return i >= 0 && i < w->n_tok && sq_tok_is(w->sql, &w->t[i], word);
}

static bool is_punct(const fw *w, int32_t i, char c) {
    return i >= 0 && i < w->n_tok && w->t[i].kind == SQ_TOK_PUNCT && w->sql[w->t[i].start] == c;
}

/* The token index of the ')' closing the '(' at i (or hi when unbalanced). */
static int32_t close_of(const fw *w, int32_t i, int32_t hi) {
    int depth = 0;
    for (int32_t k = i; k < hi; k++) {
        if (is_punct(w, k, '(') || is_punct(w, k, '[')) depth++;
        else if (is_punct(w, k, ')') || is_punct(w, k, ']')) {
            if (--depth == 0) return k;
        }
    }
    return hi;
}

static bool is_set_op(const fw *w, int32_t i) {
    return is(w, i, "union") || is(w, i, "except") || is(w, i, "intersect");
}

/* The token index of the '}' closing the '{' at i (brackets of every kind nest), or hi. */
static int32_t close_brace(const fw *w, int32_t i, int32_t hi) {
    int depth = 0;
    for (int32_t k = i; k < hi; k++) {
        if (is_punct(w, k, '(') || is_punct(w, k, '[') || is_punct(w, k, '{')) depth++;
        else if (is_punct(w, k, ')') || is_punct(w, k, ']') || is_punct(w, k, '}')) {
            if (--depth == 0) return is_punct(w, k, '}') ? k : hi;
        }
    }
    return hi;
}

/* The end (a top-level ',' or hi) of the item of a struct literal starting at token k. */
static int32_t item_end(const fw *w, int32_t k, int32_t hi) {
    int depth = 0;
    for (; k < hi; k++) {
        if (is_punct(w, k, '(') || is_punct(w, k, '[') || is_punct(w, k, '{')) depth++;
        else if (is_punct(w, k, ')') || is_punct(w, k, ']') || is_punct(w, k, '}')) depth--;
        else if (depth == 0 && is_punct(w, k, ',')) return k;
    }
    return hi;
}

/* Whether tokens (i, m) of the braces at i and m are key: value items (keys: 'a', a or "a"). */
static bool struct_items(const fw *w, int32_t i, int32_t m) {
    if (m <= i + 1) return false;
    for (int32_t k = i + 1; k < m;) {
        sq_tok_kind kind = w->t[k].kind;
        if ((kind != SQ_TOK_STRING && kind != SQ_TOK_IDENT && kind != SQ_TOK_QIDENT) ||
            !is_punct(w, k + 1, ':') || k + 2 >= m)
            return false;
        int32_t e = item_end(w, k + 2, m);
        if (e == k + 2) return false;
        k = e + 1;
    }
    return true;
}

/* The key token k of a struct literal as a quoted identifier ("a"). */
static void put_key(fw *w, int32_t k) {
    const sq_token *t = &w->t[k];
    if (t->kind == SQ_TOK_QIDENT) {
        copy(w, t->start, t->end);
        return;
    }
    int32_t a = t->start, b = t->end;
    if (t->kind == SQ_TOK_STRING) { /* 'it''s' -> "it's" */
        while (a < b && w->sql[a] != '\'') a++;
        a++;
        b--;
    }
    int32_t n = b > a ? b - a : 0;
    char *q = pl_malloc((size_t)n * 2 + 3);
    if (!q) {
        w->oom = true;
        return;
    }
    int32_t o = 0;
    q[o++] = '"';
    for (int32_t p = a; p < a + n; p++) {
        char c = w->sql[p];
        if (t->kind == SQ_TOK_STRING && c == '\'' && p + 1 < a + n && w->sql[p + 1] == '\'') p++;
        if (c == '"') q[o++] = '"';
        q[o++] = c;
    }
    q[o++] = '"';
    q[o] = 0;
    insert(w, q, t->start);
    pl_free(q);
}

/* Words after which "(" opens a subquery, not a function's arguments (trim(FROM x)). */
static bool opens_subquery(const fw *w, int32_t paren) {
    int32_t p = paren - 1;
    if (p < 0 || w->t[p].kind == SQ_TOK_PUNCT) return true;
    static const char *const kw[] = {"as", "in", "exists", "from", "join", "select", "where", "and",
                                     "or", "not", "on", "union", "except", "intersect", "all", "any",
                                     "some", "lateral", "distinct", "materialized", "then", "else",
                                     "when", "having", "by", "with"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, p, kw[k])) return true;
    return false;
}

static void region(fw *w, int32_t lo, int32_t hi, int32_t end_byte, bool query_start);

/* Whether the '[' at i opens a list literal ([1, 2] -> list_value(1, 2)) rather than a subscript
 * (x[1], f(x)[2], l[1][2], INT[]). COLUMNS(['a', 'b']) is left as written (`IN [...]`: plain()). */
static bool list_literal(const fw *w, int32_t i) {
    int32_t p = i - 1;
    if (p < 0) return true;
    const sq_token *t = &w->t[p];
    if (t->kind == SQ_TOK_PUNCT) {
        char c = w->sql[t->start];
        if (c == ')' || c == ']') return false;
        if (c == '(' && p > 0 && sq_tok_is(w->sql, &w->t[p - 1], "columns")) return false;
        return true;
    }
    if (t->kind != SQ_TOK_IDENT) return false;
    static const char *const kw[] = {"select", "where", "and", "or", "not", "then", "else", "when",
                                     "case", "by", "having", "on", "values", "distinct", "all",
                                     "any", "some", "like", "ilike", "between", "is", "qualify",
                                     "return", "returning", "set", "default"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, p, kw[k])) return true;
    return false;
}

/* The bytes of tokens [lo, hi) up to end_byte, subqueries rewritten. */
static void plain(fw *w, int32_t lo, int32_t hi, int32_t end_byte) {
    int32_t cur = lo < w->n_tok ? w->t[lo].start : end_byte;
    bool seen_query_word = false;
    for (int32_t i = lo; i < hi; i++) {
        if (is(w, i, "select") || is(w, i, "values") || (i == lo && is(w, i, "table")))
            seen_query_word = true;
        if (is_set_op(w, i)) {
            int32_t j = i + 1;
            while (is(w, j, "all") || is(w, j, "distinct") || is(w, j, "by") || is(w, j, "name")) j++;
            if (is(w, j, "from")) { /* SELECT ... UNION FROM t */
                copy(w, cur, w->t[j].start);
                region(w, j, hi, end_byte, true);
                return;
            }
        }
        /* WITH c AS (...) FROM c: the main query of a WITH starts with FROM; so does the
         * query of CREATE TABLE t AS FROM ... and of INSERT INTO t [(cols)] FROM ... */
        if (is(w, i, "from") && !seen_query_word &&
            ((is(w, lo, "with") && is_punct(w, i - 1, ')')) || (is(w, lo, "create") && is(w, i - 1, "as")) ||
             (is(w, lo, "insert") && i > lo + 2))) {
            copy(w, cur, w->t[i].start);
            region(w, i, hi, end_byte, true);
            return;
        }
        /* agg(x) FILTER (cond) -> agg(x) FILTER (WHERE cond) */
        if (is(w, i, "filter") && is_punct(w, i - 1, ')') && is_punct(w, i + 1, '(') &&
            i + 2 < hi && !is(w, i + 2, "where") && !is_punct(w, i + 2, ')')) {
            copy(w, cur, w->t[i + 2].start);
            insert(w, "WHERE ", w->t[i + 2].start);
            cur = w->t[i + 2].start;
        }
        /* lambdas: `lambda x, y: body` -> `(x, y) -> (body)`; `x -> body` -> `x -> (body)`: the
         * body, which runs to the end of the argument in DuckDB, in parentheses (the grammar
         * reads -> as an operator that binds tighter than comparisons) */
        if (is(w, i, "lambda") && i + 1 < hi && w->t[i + 1].kind == SQ_TOK_IDENT) {
            int32_t k = i + 1, np = 1;
            while (is_punct(w, k + 1, ',') && k + 2 < hi && w->t[k + 2].kind == SQ_TOK_IDENT) {
                k += 2;
                np++;
            }
            int32_t b0 = k + 2, e = b0 < hi ? item_end(w, b0, hi) : hi;
            if (is_punct(w, k + 1, ':') && e > b0) {
                copy(w, cur, w->t[i].start);
                if (np > 1) insert(w, "(", w->t[i].start);
                copy(w, w->t[i + 1].start, w->t[k].end);
                if (np > 1) insert(w, ")", w->t[k].end);
                insert(w, " -> (", w->t[k + 1].start);
                int32_t end = e < hi ? w->t[e].start : end_byte;
                region(w, b0, e, end, false);
                insert(w, ")", end);
                cur = end;
                i = e - 1;
                continue;
            }
        }
        if (is_punct(w, i, '-') && is_punct(w, i + 1, '>') && w->t[i + 1].start == w->t[i].end &&
            i > lo && (w->t[i - 1].kind == SQ_TOK_IDENT || is_punct(w, i - 1, ')')) && i + 2 < hi) {
            int32_t e = item_end(w, i + 2, hi);
            if (e > i + 2) {
                copy(w, cur, w->t[i + 1].end);
                insert(w, " (", w->t[i + 1].end);
                int32_t end = e < hi ? w->t[e].start : end_byte;
                region(w, i + 2, e, end, false);
                insert(w, ")", end);
                cur = end;
                i = e - 1;
                continue;
            }
        }
        /* {'a': 1, b: x} (DuckDB's struct literal) -> struct_pack("a" := 1, "b" := x) */
        if (is_punct(w, i, '{')) {
            int32_t m = close_brace(w, i, hi);
            if (m < hi && struct_items(w, i, m)) {
                copy(w, cur, w->t[i].start);
                insert(w, "struct_pack(", w->t[i].start);
                for (int32_t k = i + 1; k < m;) {
                    int32_t e = item_end(w, k + 2, m);
                    put_key(w, k);
                    insert(w, " := ", w->t[k + 1].start);
                    region(w, k + 2, e, e < m ? w->t[e].start : w->t[m].start, false);
                    if (e < m) insert(w, ", ", w->t[e].start);
                    k = e + 1;
                }
                insert(w, ")", w->t[m].start);
                cur = w->t[m].end;
                i = m;
                continue;
            }
        }
        /* x [NOT] IN [a, b] (DuckDB: list membership) -> x <@@ list_value(a, b) (NOT: !<@@), an
         * operator the grammar ranks like IN and the planner reads as list_contains */
        if (is(w, i, "in") && is_punct(w, i + 1, '[')) {
            int32_t m = close_of(w, i + 1, hi);
            if (m < hi) {
                bool neg = is(w, i - 1, "not");
                int32_t first = neg ? i - 1 : i;
                copy(w, cur, w->t[first].start);
                insert(w, neg ? "!<@@" : "<@@", w->t[first].start);
                copy(w, w->t[i].end, w->t[i + 1].start);
                insert(w, "list_value(", w->t[i + 1].start);
                if (m > i + 2) region(w, i + 2, m, w->t[m].start, false);
                insert(w, ")", w->t[m].start);
                cur = w->t[m].end;
                i = m;
                continue;
            }
        }
        if (is_punct(w, i, '[') && list_literal(w, i)) {
            int32_t m = close_of(w, i, hi);
            if (m < hi) { /* [a, b] -> list_value(a, b), DuckDB's name of the column too */
                copy(w, cur, w->t[i].start);
                insert(w, "list_value(", w->t[i].start);
                if (m > i + 1) region(w, i + 1, m, w->t[m].start, false);
                insert(w, ")", w->t[m].start);
                cur = w->t[m].end;
                i = m;
                continue;
            }
        }
        if (is_punct(w, i, '(') || is_punct(w, i, '[')) {
            int32_t m = close_of(w, i, hi);
            if (m < hi && m > i + 1) {
                bool sub = is_punct(w, i, '(') && is(w, i + 1, "from") && opens_subquery(w, i);
                copy(w, cur, w->t[i + 1].start);
                region(w, i + 1, m, w->t[m].start, sub);
                cur = w->t[m].start;
                i = m - 1;
                continue;
            }
        }
    }
    copy(w, cur, end_byte);
}

static bool clause_word(const fw *w, int32_t i) {
    static const char *const kw[] = {"where", "group", "having", "order", "limit", "offset",
                                     "qualify", "window", "fetch"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, i, kw[k])) return true;
    return false;
}

/* Tokens [lo, hi) ending at end_byte; query_start: a query starts at lo. */
static void region(fw *w, int32_t lo, int32_t hi, int32_t end_byte, bool query_start) {
    if (!query_start || !is(w, lo, "from")) {
        plain(w, lo, hi, end_byte);
        return;
    }
    /* FROM-first: this arm ends at a set operation of this level */
    int32_t sel = -1, clause = -1, arm_end = hi;
    for (int32_t i = lo; i < hi; i++) {
        if (is_punct(w, i, '(') || is_punct(w, i, '[')) {
            i = close_of(w, i, hi);
            continue;
        }
        if (is_set_op(w, i)) {
            arm_end = i;
            break;
        }
        if (sel < 0 && is(w, i, "select")) sel = i;
        else if (sel >= 0 && clause < 0 && clause_word(w, i)) clause = i;
    }
    int32_t arm_end_byte = arm_end < hi ? w->t[arm_end].start : end_byte;
    if (sel < 0) {
        insert(w, "SELECT * ", w->t[lo].start);
        plain(w, lo, arm_end, arm_end_byte);
    } else {
        /* FROM a SELECT b [clauses] -> SELECT b FROM a [clauses] */
        int32_t sel_end = clause >= 0 ? clause : arm_end;
        int32_t sel_end_byte = clause >= 0 ? w->t[clause].start : arm_end_byte;
        plain(w, sel, sel_end, sel_end_byte);
        insert(w, " ", w->t[lo].start);
        plain(w, lo, sel, w->t[sel].start);
        if (clause >= 0) plain(w, clause, arm_end, arm_end_byte);
    }
    if (arm_end < hi) plain(w, arm_end, hi, end_byte); /* the set operation and what follows */
}

static void mark(fw *w, int32_t at, pl_sql_form form, int32_t name_tok) {
    pl_sql_forms *f = w->f;
    if (w->oom) return;
    if (!grow((void **)&f->marks, &w->cap_marks, f->n_marks + 1, sizeof *f->marks)) {
        w->oom = true;
        return;
    }
    pl_sql_form_mark *m = &f->marks[f->n_marks++];
    memset(m, 0, sizeof *m);
    m->at = at;
    m->form = form;
    if (name_tok >= 0) {
        const sq_token *t = &w->t[name_tok];
        int32_t n = t->end - t->start;
        if (t->kind == SQ_TOK_QIDENT && n >= 2) {
            int32_t o = 0;
            for (int32_t k = t->start + 1; k < t->end - 1 && o < (int32_t)sizeof m->name - 1; k++) {
                if (w->sql[k] == '"' && w->sql[k + 1] == '"') k++;
                m->name[o++] = w->sql[k];
            }
            m->name[o] = 0;
        } else if (t->kind == SQ_TOK_IDENT) {
            snprintf(m->name, sizeof m->name, "%.*s", n, w->sql + t->start);
            for (char *p = m->name; *p; p++) *p = (char)tolower((unsigned char)*p);
        }
    }
}

/* One statement: tokens [lo, hi) ending at end_byte (the ';' or the end). */
static void statement(fw *w, int32_t lo, int32_t hi, int32_t end_byte) {
    pl_sql_form form = PL_SQL_FORM_PLAIN;
    if (is(w, lo, "describe") || is(w, lo, "desc") || is(w, lo, "show")) form = PL_SQL_FORM_DESCRIBE;
    else if (is(w, lo, "summarize")) form = PL_SQL_FORM_SUMMARIZE;
    if (form == PL_SQL_FORM_PLAIN || lo + 1 >= hi) {
        region(w, lo, hi, end_byte, true);
        return;
    }
    int32_t kw_start = w->t[lo].start;
    if (is(w, lo, "show") && ((is(w, lo + 1, "tables") && lo + 2 == hi) ||
                              (is(w, lo + 1, "all") && is(w, lo + 2, "tables") && lo + 3 == hi))) {
        mark(w, w->f->len, lo + 2 == hi ? PL_SQL_FORM_SHOW_TABLES : PL_SQL_FORM_SHOW_ALL_TABLES, -1);
        insert(w, "SELECT 1", kw_start);
        copy(w, w->t[hi - 1].end, end_byte);
        return;
    }
    if (is(w, lo, "show") && w->t[lo + 1].kind != SQ_TOK_IDENT && w->t[lo + 1].kind != SQ_TOK_QIDENT) {
        region(w, lo, hi, end_byte, true); /* left to the parser's error */
        return;
    }
    int32_t q = lo + 1;
    bool query = is(w, q, "select") || is(w, q, "with") || is(w, q, "values") || is(w, q, "table") ||
                 is(w, q, "from") || is_punct(w, q, '(');
    mark(w, w->f->len, form, query || hi - q != 1 ? -1 : q);
    if (query) {
        region(w, q, hi, end_byte, true);
    } else {
        insert(w, "SELECT * FROM ", kw_start);
        plain(w, q, hi, end_byte);
    }
}

pl_status pl_sql_forms_rewrite(const char *script, pl_sql_forms *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    size_t n = strlen(script);
    if (n >= (size_t)INT32_MAX / 2) PL_FAIL(err, PL_ERR_LIMIT, "SQL text too long (%zu bytes)", n);
    int32_t len = (int32_t)n;
    sq_token *toks = NULL;
    int32_t n_tok = 0, cap = 0;
    sq_token t;
    int32_t pos = 0;
    while (sq_lex_next(script, len, pos, &t)) {
        if (!grow((void **)&toks, &cap, n_tok + 1, sizeof *toks)) {
            pl_free(toks);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading SQL");
        }
        toks[n_tok++] = t;
        pos = t.end;
    }
    fw w = {script, toks, n_tok, out, 0, 0, 0, false};
    int32_t cur = 0, lo = 0, depth = 0;
    for (int32_t i = 0; i <= n_tok; i++) {
        if (i < n_tok) {
            if (is_punct(&w, i, '(') || is_punct(&w, i, '[')) depth++;
            else if ((is_punct(&w, i, ')') || is_punct(&w, i, ']')) && depth > 0) depth--;
            if (!(is_punct(&w, i, ';') && depth == 0)) continue;
        }
        int32_t end_byte = i < n_tok ? toks[i].start : len;
        if (lo < i) {
            copy(&w, cur, toks[lo].start);
            statement(&w, lo, i, end_byte);
        } else {
            copy(&w, cur, end_byte);
        }
        if (i < n_tok) copy(&w, toks[i].start, toks[i].end);
        cur = i < n_tok ? toks[i].end : len;
        lo = i + 1;
        depth = 0;
    }
    copy(&w, cur, len);
    pl_free(toks);
    if (w.oom) {
        pl_sql_forms_free(out);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory rewriting SQL");
    }
    if (!out->text) { /* empty script */
        out->text = pl_strdup("");
        if (!out->text) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    return PL_OK;
}

void pl_sql_forms_free(pl_sql_forms *f) {
    pl_free(f->text);
    pl_free(f->segs);
    pl_free(f->marks);
    memset(f, 0, sizeof *f);
}

int32_t pl_sql_forms_orig_pos(const pl_sql_forms *f, int32_t pos) {
    if (pos < 0 || f->n_segs == 0) return pos;
    int32_t lo = 0, hi = f->n_segs - 1;
    while (lo < hi) { /* the last segment starting at or before pos */
        int32_t mid = (lo + hi + 1) / 2;
        if (f->segs[mid].at <= pos) lo = mid;
        else hi = mid - 1;
    }
    const pl_sql_form_seg *s = &f->segs[lo];
    return s->orig >= 0 ? s->orig + (pos - s->at) : -s->orig - 1;
}

const pl_sql_form_mark *pl_sql_forms_mark(const pl_sql_forms *f, int32_t stmt_start, int32_t stmt_end) {
    for (int32_t i = 0; i < f->n_marks; i++)
        if (f->marks[i].at >= stmt_start && f->marks[i].at <= stmt_end) return &f->marks[i];
    return NULL;
}

/* ---------------------------------------------------------------- running the forms */

typedef pl_sql_buf sbuf;
static void sb_add(sbuf *b, const char *s, size_t n) { pl_sql_buf_add(b, s, n); }
static void sb_str(sbuf *b, const char *s) { pl_sql_buf_str(b, s); }

/* s as a SQL string literal */
static void sb_lit(sbuf *b, const char *s) {
    sb_add(b, "'", 1);
    for (const char *p = s; *p; p++) {
        sb_add(b, p, 1);
        if (*p == '\'') sb_add(b, "'", 1);
    }
    sb_add(b, "'", 1);
}

/* s as a quoted SQL identifier */
static void sb_ident(sbuf *b, const char *s) {
    sb_add(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        sb_add(b, p, 1);
        if (*p == '"') sb_add(b, "\"", 1);
    }
    sb_add(b, "\"", 1);
}

static pl_status run_text(pl_session *s, sbuf *b, pl_sql_result *r, const char *tag, pl_error *err) {
    if (b->oom) {
        pl_free(b->p);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_df *df = NULL;
    pl_status st = pl_session_query(s, b->p, &df, err);
    pl_free(b->p);
    if (st) {
        if (err) err->sql_pos = -1; /* the statement's position, not the generated text's */
        return st;
    }
    r->df = df;
    snprintf(r->tag, sizeof r->tag, "%s", tag);
    return PL_OK;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static pl_status show_tables(pl_session *s, bool all, pl_sql_result *r, pl_error *err) {
    int32_t n = s->n_ents;
    const char **names = pl_malloc(((size_t)n + 1) * sizeof *names);
    if (!names) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) names[i] = s->ents[i].name;
    qsort(names, (size_t)n, sizeof *names, cmp_names);
    sbuf b = {0};
    pl_status st = PL_OK;
    if (!all) {
        sb_str(&b, "SELECT name FROM (VALUES ");
        for (int32_t i = 0; i < n; i++) {
            sb_str(&b, i ? "), (" : "(");
            sb_lit(&b, names[i]);
        }
        sb_str(&b, n ? ")) t(name)" : "(NULL::VARCHAR)) t(name) WHERE false");
    } else {
        /* lists are not allowed in VALUES rows: one SELECT per table */
        for (int32_t i = 0; i < n && !st; i++) {
            pl_cat_entry *e = pl_session_find(s, names[i]);
            pl_df *df = NULL;
            st = pl_session_entry_df(s, e, &df, err);
            if (st) break;
            pl_schema *sc = pl_df_schema(df);
            sb_str(&b, i ? " UNION ALL SELECT 'memory', 'main', " : "SELECT 'memory' AS database, 'main' AS schema, ");
            sb_lit(&b, names[i]);
            sb_str(&b, i ? ", ARRAY[" : " AS name, ARRAY[");
            for (int32_t k = 0; sc && k < sc->n_fields; k++) {
                if (k) sb_str(&b, ", ");
                sb_lit(&b, sc->fields[k].name);
            }
            sb_str(&b, i ? "]::VARCHAR[], ARRAY[" : "]::VARCHAR[] AS column_names, ARRAY[");
            for (int32_t k = 0; sc && k < sc->n_fields; k++) {
                char tn[256];
                pl_sql_type_name(sc->fields[k].type, tn, sizeof tn);
                if (k) sb_str(&b, ", ");
                sb_lit(&b, tn);
            }
            sb_str(&b, i ? "]::VARCHAR[], false" : "]::VARCHAR[] AS column_types, false AS temporary");
            pl_df_release(df);
        }
        if (!n)
            sb_str(&b, "SELECT NULL::VARCHAR AS database, NULL::VARCHAR AS schema, NULL::VARCHAR AS "
                       "name, NULL::VARCHAR[] AS column_names, NULL::VARCHAR[] AS column_types, "
                       "NULL::BOOLEAN AS temporary WHERE false");
    }
    pl_free(names);
    if (st) {
        pl_free(b.p);
        return st;
    }
    return run_text(s, &b, r, "SHOW", err);
}

static pl_status describe(pl_session *s, const pl_schema *sc, const pl_cat_entry *e,
                          pl_sql_result *r, pl_error *err) {
    sbuf b = {0};
    sb_str(&b, "SELECT column_name, column_type, \"null\", key, \"default\", extra FROM (VALUES ");
    for (int32_t k = 0; k < sc->n_fields; k++) {
        char tn[256];
        pl_sql_type_name(sc->fields[k].type, tn, sizeof tn);
        sb_str(&b, k ? "), (" : "(");
        sb_lit(&b, sc->fields[k].name);
        sb_str(&b, ", ");
        sb_lit(&b, tn);
        bool not_null = e && e->kind == PL_CAT_TABLE && !sc->fields[k].nullable;
        sb_str(&b, not_null ? ", 'NO', NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR"
                            : ", 'YES', NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR");
    }
    sb_str(&b, sc->n_fields ? ")) t(column_name, column_type, \"null\", key, \"default\", extra)"
                            : "(NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, NULL::VARCHAR, "
                              "NULL::VARCHAR, NULL::VARCHAR)) t(column_name, column_type, \"null\", "
                              "key, \"default\", extra) WHERE false");
    return run_text(s, &b, r, "DESCRIBE", err);
}

static bool is_numeric(const pl_type *t) {
    if (t->id == PL_TYPE_DICTIONARY) return false;
    return (t->id >= PL_TYPE_INT8 && t->id <= PL_TYPE_FLOAT64) || t->id == PL_TYPE_DECIMAL128;
}

static bool is_temporal(const pl_type *t) {
    return t->id == PL_TYPE_DATE32 || t->id == PL_TYPE_TIMESTAMP || t->id == PL_TYPE_TIME64;
}

static bool is_ordered(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP: return false;
    default: return true;
    }
}

/* ", <fmt with col for %s> AS c<k>_<name>" */
static void agg(sbuf *b, const char *fmt, const char *col, int32_t k, const char *name) {
    const char *pct = strstr(fmt, "%s");
    sb_str(b, ", ");
    if (pct) {
        sb_add(b, fmt, (size_t)(pct - fmt));
        sb_str(b, col);
        sb_str(b, pct + 2);
    } else {
        sb_str(b, fmt);
    }
    char as[48];
    snprintf(as, sizeof as, " AS c%d_%s", k, name);
    sb_str(b, as);
}

/* SUMMARIZE: one aggregate over the query (a hidden catalog entry), read back per column. */
static pl_status summarize(pl_session *s, pl_df *df, pl_sql_result *r, pl_error *err) {
    static const char *const hidden = "__polaroid_summarize";
    pl_schema *sc = pl_df_schema(df);
    if (!sc || sc->n_fields == 0) {
        pl_df_release(df);
        PL_FAIL(err, PL_ERR_SQL, "SUMMARIZE needs at least one column");
    }
    pl_status st = pl_session_register(s, hidden, df, err);
    pl_df_release(df);
    PL_TRY(st);
    sbuf b = {0};
    sb_str(&b, "WITH a AS MATERIALIZED (SELECT count(*) AS n");
    for (int32_t k = 0; k < sc->n_fields; k++) {
        const pl_type *t = sc->fields[k].type;
        bool ord = is_ordered(t), num = is_numeric(t), qs = num || is_temporal(t);
        sbuf c = {0};
        sb_ident(&c, sc->fields[k].name);
        const char *col = c.oom ? "NULL" : c.p;
        agg(&b, ord ? "min(%s)::VARCHAR" : "min(%s::VARCHAR)", col, k, "min");
        agg(&b, ord ? "max(%s)::VARCHAR" : "max(%s::VARCHAR)", col, k, "max");
        agg(&b, ord ? "approx_count_distinct(%s)" : "approx_count_distinct(%s::VARCHAR)", col, k, "u");
        agg(&b, num ? "avg(%s)::VARCHAR" : "NULL::VARCHAR", col, k, "avg");
        agg(&b, num ? "stddev(%s)::VARCHAR" : "NULL::VARCHAR", col, k, "std");
        agg(&b, qs ? "approx_quantile(%s, 0.25)::VARCHAR" : "NULL::VARCHAR", col, k, "q25");
        agg(&b, qs ? "approx_quantile(%s, 0.5)::VARCHAR" : "NULL::VARCHAR", col, k, "q50");
        agg(&b, qs ? "approx_quantile(%s, 0.75)::VARCHAR" : "NULL::VARCHAR", col, k, "q75");
        agg(&b, "count(%s)", col, k, "nn");
        pl_free(c.p);
    }
    sb_str(&b, " FROM ");
    sb_ident(&b, hidden);
    sb_str(&b, ") ");
    for (int32_t k = 0; k < sc->n_fields; k++) {
        char tn[256], buf[512];
        pl_sql_type_name(sc->fields[k].type, tn, sizeof tn);
        sb_str(&b, k ? " UNION ALL SELECT " : "SELECT ");
        sb_lit(&b, sc->fields[k].name);
        sb_str(&b, k ? ", " : " AS column_name, ");
        sb_lit(&b, tn);
        snprintf(buf, sizeof buf,
                 "%s c%d_min%s, c%d_max%s, c%d_u%s, c%d_avg%s, c%d_std%s, c%d_q25%s, c%d_q50%s, "
                 "c%d_q75%s, n%s, CAST(CASE WHEN n = 0 THEN 0 ELSE 100.0 * (n - c%d_nn) / n END "
                 "AS DECIMAL(9,2))%s FROM a",
                 k ? "," : " AS column_type,", k, k ? "" : " AS min", k, k ? "" : " AS max", k,
                 k ? "" : " AS approx_unique", k, k ? "" : " AS avg", k, k ? "" : " AS std", k,
                 k ? "" : " AS q25", k, k ? "" : " AS q50", k, k ? "" : " AS q75",
                 k ? "" : " AS count", k, k ? "" : " AS null_percentage");
        sb_str(&b, buf);
    }
    st = run_text(s, &b, r, "SUMMARIZE", err);
    pl_cat_entry *e = pl_session_find(s, hidden); /* the result's plan holds what it reads */
    if (e) pl_session_remove(s, e);
    return st;
}

pl_status pl_sql_run_form(pl_session *s, const pl_stmt_ctx *c, const pl_sql_form_mark *m,
                          const PgQuery__Node *n, pl_sql_result *r, pl_error *err) {
    if (m->form == PL_SQL_FORM_SHOW_TABLES || m->form == PL_SQL_FORM_SHOW_ALL_TABLES)
        return show_tables(s, m->form == PL_SQL_FORM_SHOW_ALL_TABLES, r, err);
    if (!n || n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "%s takes a query, a table or a file",
                              m->form == PL_SQL_FORM_SUMMARIZE ? "SUMMARIZE" : "DESCRIBE");
    pl_df *df = NULL;
    PL_TRY(pl_sql_plan_query(s, c->sql, n, &df, err));
    if (m->form == PL_SQL_FORM_SUMMARIZE) return summarize(s, df, r, err);
    pl_cat_entry *e = m->name[0] ? pl_session_find(s, m->name) : NULL;
    pl_schema *sc = pl_df_schema(df);
    pl_status st = sc ? describe(s, sc, e, r, err) : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    pl_df_release(df);
    return st;
}
