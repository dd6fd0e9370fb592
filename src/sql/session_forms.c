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
 *   [e FOR x IN l IF c] (a list comprehension)       list_transform / list_filter lambdas
 *   {'a': 1, 'b': 'x'} (a struct literal)            struct_pack("a" := 1, "b" := 'x')
 *   MAP {'a': 1, 'b': 2} (a map literal)             map(list_value('a', 'b'), list_value(1, 2))
 *   lambda x, i: body  /  x -> body                  (x, i) -> (body)  /  x -> (body)
 *   agg(x) FILTER (cond)                             agg(x) FILTER (WHERE cond)
 *   ... FROM f ... USING SAMPLE s / item TABLESAMPLE s  a FROM item __sample(...) (plan_from.c)
 *   PIVOT src ON ... / UNPIVOT src ON ...            SELECT * FROM src, then generated SQL
 *   item PIVOT (agg FOR c IN (...) [GROUP BY k])     a grouped subquery of FILTERed aggregates
 *   item UNPIVOT [INCLUDE NULLS] (v FOR n IN (...))  a subquery of two zipped unnests
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

/* The top-level ':' of a map literal's item, tokens [k, e) (not one of a '::' cast), or -1. */
static int32_t map_colon(const fw *w, int32_t k, int32_t e) {
    int depth = 0;
    for (int32_t c = k; c < e; c++) {
        if (is_punct(w, c, '(') || is_punct(w, c, '[') || is_punct(w, c, '{')) depth++;
        else if (is_punct(w, c, ')') || is_punct(w, c, ']') || is_punct(w, c, '}')) depth--;
        else if (depth == 0 && is_punct(w, c, ':')) {
            bool cast_before = c > k && is_punct(w, c - 1, ':') && w->t[c - 1].end == w->t[c].start;
            bool cast_after = c + 1 < e && is_punct(w, c + 1, ':') && w->t[c + 1].start == w->t[c].end;
            if (cast_after) c++;
            else if (!cast_before) return c;
        }
    }
    return -1;
}

/* Whether tokens (i, m) of the braces at i and m are key: value items of a map literal (empty:
 * MAP {}). */
static bool map_items(const fw *w, int32_t i, int32_t m) {
    for (int32_t k = i + 1; k < m;) {
        int32_t e = item_end(w, k, m), c = map_colon(w, k, e);
        if (c <= k || c + 1 >= e) return false;
        k = e + 1;
    }
    return true;
}

static void region(fw *w, int32_t lo, int32_t hi, int32_t end_byte, bool query_start);

/* MAP {k: v, ...} (braces at tokens b and m) -> (map(list_value(k, ...), list_value(v, ...))),
 * DuckDB's own reading (and column name); in parentheses, so a subscript may follow. */
static void map_literal(fw *w, int32_t b, int32_t m) {
    insert(w, "(map(", w->t[b].start);
    for (int pass = 0; pass < 2 && m > b + 1; pass++) {
        insert(w, pass ? ", list_value(" : "list_value(", w->t[b].start);
        for (int32_t k = b + 1; k < m;) {
            int32_t e = item_end(w, k, m), c = map_colon(w, k, e);
            if (k > b + 1) insert(w, ", ", w->t[k].start);
            if (pass == 0) region(w, k, c, w->t[c].start, false);
            else region(w, c + 1, e, w->t[e < m ? e : m].start, false);
            k = e + 1;
        }
        insert(w, ")", w->t[m].start);
    }
    insert(w, "))", w->t[m].start);
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

/* Whether the '[' at i opens a list literal ([1, 2] -> list_value(1, 2)) rather than a subscript
 * (x[1], f(x)[2], l[1][2], INT[]). COLUMNS(['a', 'b']) is left as written (`IN [...]`: plain()). */
static bool list_literal(const fw *w, int32_t i) {
    int32_t p = i - 1;
    if (p < 0) return true;
    const sq_token *t = &w->t[p];
    if (t->kind == SQ_TOK_PUNCT) {
        char c = w->sql[t->start];
        if (c == ')' || c == ']' || c == '}') return false; /* MAP {...}[k] too */
        if (c == '(' && p > 0 && sq_tok_is(w->sql, &w->t[p - 1], "columns")) return false;
        return true;
    }
    if (t->kind != SQ_TOK_IDENT) return false;
    static const char *const kw[] = {"select", "where", "and", "or", "not", "then", "else", "when",
                                     "case", "by", "having", "on", "values", "distinct", "all",
                                     "any", "some", "like", "ilike", "between", "is", "qualify",
                                     "return", "returning", "set", "default", "in"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, p, kw[k])) return true;
    return is(w, p, "from") && p > 0 && is(w, p - 1, "distinct"); /* x IS DISTINCT FROM [1] */
}

/* The first token in [a, b) that is word at bracket depth 0, or b. */
static int32_t top_word(const fw *w, int32_t a, int32_t b, const char *word) {
    for (int32_t k = a; k < b; k++) {
        if (is_punct(w, k, '(') || is_punct(w, k, '[') || is_punct(w, k, '{')) {
            int depth = 0;
            for (; k < b; k++) {
                if (is_punct(w, k, '(') || is_punct(w, k, '[') || is_punct(w, k, '{')) depth++;
                else if ((is_punct(w, k, ')') || is_punct(w, k, ']') || is_punct(w, k, '}')) && --depth == 0)
                    break;
            }
            continue;
        }
        if (is(w, k, word)) return k;
    }
    return b;
}

/* A list comprehension, the brackets at tokens i and m: [E FOR x [, i] IN L [IF C]] (DuckDB's;
 * i is the element's 1-based index in L) ->
 *   list_transform((L), x -> (E))                                  without IF, else
 *   list_transform(list_filter(list_transform((L), x -> (struct_pack("filter" := (C),
 *     "result" := (E)))), __e -> (struct_extract(__e, 'filter'))), __e -> (struct_extract(__e,
 *     'result')))
 * so that E and C both see the element and its index in L (the lambdas of kernels_lambda.c).
 * Whether it was one (then the bytes from cur on and it are written); not: nothing written. */
static bool comprehension(fw *w, int32_t i, int32_t m, int32_t cur) {
    int32_t f = top_word(w, i + 1, m, "for");
    if (f == i + 1 || f >= m || w->t[f + 1].kind != SQ_TOK_IDENT) return false;
    int32_t x = f + 1, idx = -1, in = f + 2;
    if (is_punct(w, in, ',') && in + 1 < m && w->t[in + 1].kind == SQ_TOK_IDENT) {
        idx = in + 1;
        in += 2;
    }
    if (!is(w, in, "in") || in + 1 >= m) return false;
    int32_t cond = top_word(w, in + 2, m, "if");
    if (cond + 1 >= m && cond < m) return false;
    int32_t anchor = w->t[i].start;
    copy(w, cur, anchor);
    insert(w, cond < m ? "list_transform(list_filter(list_transform((" : "list_transform((", anchor);
    region(w, in + 1, cond, w->t[cond].start, false);
    insert(w, "), ", w->t[cond].start);
    if (idx >= 0) insert(w, "(", w->t[x].start);
    copy(w, w->t[x].start, w->t[x].end);
    if (idx >= 0) {
        insert(w, ", ", w->t[idx].start);
        copy(w, w->t[idx].start, w->t[idx].end);
        insert(w, ")", w->t[idx].end);
    }
    insert(w, cond < m ? " -> (struct_pack(\"filter\" := (" : " -> (", w->t[f].start);
    if (cond < m) {
        region(w, cond + 1, m, w->t[m].start, false);
        insert(w, "), \"result\" := (", w->t[m].start);
    }
    region(w, i + 1, f, w->t[f].start, false);
    if (cond < m)
        insert(w,
               ")))), __e -> (struct_extract(__e, 'filter'))), __e -> (struct_extract(__e, 'result')))",
               w->t[m].start);
    else
        insert(w, "))", w->t[m].start);
    return true;
}

/* ---------------------------------------------------------------- samples */

/* DuckDB's samples become a FROM item __sample(size, 'percent' | 'rows', method, seed | NULL)
 * (plan_from.c applies it to the FROM items before it):
 *   SELECT ... FROM f [...] USING SAMPLE spec  -> SELECT ... FROM f, __sample(...) [...]
 *   item [[AS] alias[(cols)]] TABLESAMPLE spec -> (SELECT * FROM item alias, __sample(...)) alias
 * spec: n [% | PERCENT | ROWS] [(method [, seed])] | method(n [% | PERCENT | ROWS])
 * [REPEATABLE (seed)]; a number alone is rows, like DuckDB. */
enum { SAMPLE_MAX_EDITS = 16 };
typedef struct sample_edit {
    int32_t at, end; /* replace tokens [at, end) (end == at: insert before at) */
    char text[192];
    char *big; /* the text instead, when longer (owned) */
} sample_edit;

static bool is_num(const fw *w, int32_t i) { return i >= 0 && i < w->n_tok && w->t[i].kind == SQ_TOK_NUMBER; }

/* The spec from token i: the __sample(...) call into buf; the token after it, or -1. */
static int32_t sample_spec(const fw *w, int32_t i, int32_t hi, char *buf, size_t n) {
    int32_t size = -1, seed = -1, method = -1;
    bool percent = false;
    if (i < hi && w->t[i].kind == SQ_TOK_IDENT && is_punct(w, i + 1, '(') && is_num(w, i + 2)) {
        method = i; /* method(n [unit]) */
        size = i + 2;
        i += 3;
        if (is_punct(w, i, '%') || is(w, i, "percent")) percent = true, i++;
        else if (is(w, i, "rows")) i++;
        if (!is_punct(w, i, ')')) return -1;
        i++;
    } else if (is_num(w, i)) {
        size = i++;
        if (is_punct(w, i, '%') || is(w, i, "percent")) percent = true, i++;
        else if (is(w, i, "rows")) i++;
        if (is_punct(w, i, '(') && i + 1 < hi && w->t[i + 1].kind == SQ_TOK_IDENT) {
            method = i + 1;
            i += 2;
            if (is_punct(w, i, ',') && is_num(w, i + 1)) seed = i + 1, i += 2;
            if (!is_punct(w, i, ')')) return -1;
            i++;
        }
    } else {
        return -1;
    }
    if (is(w, i, "repeatable") && is_punct(w, i + 1, '(') && is_num(w, i + 2) && is_punct(w, i + 3, ')')) {
        seed = i + 2;
        i += 4;
    }
    if (i > hi) return -1;
    char m[32] = "";
    if (method >= 0) {
        const sq_token *t = &w->t[method];
        int32_t k = 0;
        for (int32_t c = t->start; c < t->end && k < (int32_t)sizeof m - 1; c++)
            m[k++] = (char)tolower((unsigned char)w->sql[c]);
        m[k] = 0;
    }
    const sq_token *st = &w->t[size];
    int len = snprintf(buf, n, "__sample(%.*s, '%s', '%s', ", (int)PL_MIN(st->end - st->start, 40),
                       w->sql + st->start, percent ? "percent" : "rows", m);
    if (len < 0 || (size_t)len >= n) return -1;
    if (seed >= 0)
        snprintf(buf + len, n - (size_t)len, "%.*s)", (int)PL_MIN(w->t[seed].end - w->t[seed].start, 40),
                 w->sql + w->t[seed].start);
    else
        snprintf(buf + len, n - (size_t)len, "NULL)");
    return i;
}

/* The token index of the '(' matching the ')' at i (or -1). */
static int32_t open_of(const fw *w, int32_t i, int32_t lo) {
    int depth = 0;
    for (int32_t k = i; k >= lo; k--) {
        if (is_punct(w, k, ')') || is_punct(w, k, ']')) depth++;
        else if ((is_punct(w, k, '(') || is_punct(w, k, '[')) && --depth == 0) return k;
    }
    return -1;
}

/* Words before a FROM item (so a name after them is the item, not an alias). */
static bool item_lead(const fw *w, int32_t i) {
    return i < 0 || is_punct(w, i, ',') || is_punct(w, i, '(') || is(w, i, "from") || is(w, i, "join") ||
           is(w, i, "lateral") || is(w, i, "as") || is(w, i, "on") || is(w, i, "using");
}

/* The first token of the FROM item ending at token p (a name, a string, a parenthesised query or
 * a table function), or -1; *name (if < 0) becomes the token naming it, if any. */
static int32_t item_start(const fw *w, int32_t lo, int32_t p, int32_t *name) {
    if (p < lo) return -1;
    int32_t start = -1;
    if (is_punct(w, p, ')')) {
        int32_t m = open_of(w, p, lo);
        if (m < lo) return -1;
        start = m;
        if (m - 1 >= lo && w->t[m - 1].kind == SQ_TOK_IDENT && !item_lead(w, m - 1)) {
            start = m - 1; /* a table function */
            if (*name < 0) *name = m - 1;
        }
    } else if (w->t[p].kind == SQ_TOK_IDENT || w->t[p].kind == SQ_TOK_QIDENT) {
        start = p;
        if (*name < 0) *name = p;
    } else if (w->t[p].kind == SQ_TOK_STRING) {
        start = p;
    } else {
        return -1;
    }
    while (start - 2 >= lo && is_punct(w, start - 1, '.')) start -= 2;
    return start;
}

/* The edits for TABLESAMPLE at token ts (spec after it) in [lo, hi). */
static int32_t tablesample_edits(const fw *w, int32_t lo, int32_t hi, int32_t ts, sample_edit *e,
                                 int32_t n_e) {
    char call[160];
    int32_t spec_end = sample_spec(w, ts + 1, hi, call, sizeof call);
    if (spec_end < 0 || n_e + 2 > SAMPLE_MAX_EDITS) return n_e;
    int32_t p = ts - 1, alias = -1;
    if (is_punct(w, p, ')')) { /* alias(cols)? */
        int32_t m = open_of(w, p, lo);
        if (m - 1 >= lo && (w->t[m - 1].kind == SQ_TOK_IDENT || w->t[m - 1].kind == SQ_TOK_QIDENT) &&
            !item_lead(w, m - 1) && !item_lead(w, m - 2)) { /* not FROM (query) */
            alias = m - 1;
            p = m - 2;
        } else if (m - 1 >= lo && is(w, m - 2, "as")) {
            alias = m - 1;
            p = m - 3;
        }
    } else if ((w->t[p].kind == SQ_TOK_IDENT || w->t[p].kind == SQ_TOK_QIDENT) && p - 1 >= lo &&
               !item_lead(w, p - 1) && !is_punct(w, p - 1, '.')) {
        alias = p--;
    } else if ((w->t[p].kind == SQ_TOK_IDENT || w->t[p].kind == SQ_TOK_QIDENT) && is(w, p - 1, "as")) {
        alias = p;
        p -= 2;
    }
    if (alias >= 0 && is(w, p, "as")) p--;
    int32_t name = alias, start = item_start(w, lo, p, &name);
    if (start < 0) return n_e;
    sample_edit *a = &e[n_e++], *b = &e[n_e++];
    *a = (sample_edit){start, start, "(SELECT * FROM ", NULL};
    b->big = NULL;
    b->at = ts;
    b->end = spec_end;
    if (name >= 0)
        snprintf(b->text, sizeof b->text, ", %s) %.*s ", call,
                 (int)PL_MIN(w->t[name].end - w->t[name].start, 64), w->sql + w->t[name].start);
    else
        snprintf(b->text, sizeof b->text, ", %s) ", call);
    return n_e;
}

static bool from_end_word(const fw *w, int32_t i) {
    static const char *const kw[] = {"where", "group", "having", "order", "limit", "offset",
                                     "qualify", "window", "fetch"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, i, kw[k])) return true;
    return (is(w, i, "using") && is(w, i + 1, "sample")) || is_set_op(w, i);
}

/* A token's text as a quoted identifier into b (a 'string' or "name" unquoted first). */
static void buf_ident_of(const fw *w, pl_sql_buf *b, int32_t a, int32_t z) {
    pl_sql_buf_str(b, "\"");
    int32_t s = w->t[a].start, e = w->t[z - 1].end;
    char q = 0;
    if (z == a + 1 && (w->t[a].kind == SQ_TOK_STRING || w->t[a].kind == SQ_TOK_QIDENT) && e - s >= 2 &&
        (w->sql[s] == '\'' || w->sql[s] == '"')) {
        q = w->sql[s];
        s++;
        e--;
    }
    for (int32_t k = s; k < e; k++) {
        if (q && w->sql[k] == q && k + 1 < e && w->sql[k + 1] == q) k++;
        pl_sql_buf_add(b, w->sql + k, 1);
        if (w->sql[k] == '"') pl_sql_buf_add(b, "\"", 1);
    }
    pl_sql_buf_str(b, "\"");
}

static void buf_toks(const fw *w, pl_sql_buf *b, int32_t a, int32_t z) {
    if (z > a) pl_sql_buf_add(b, w->sql + w->t[a].start, (size_t)(w->t[z - 1].end - w->t[a].start));
}

/* Words in an aggregate's arguments that are not column names. */
static bool not_column(const fw *w, int32_t k) {
    static const char *const kw[] = {"distinct", "all", "order", "by", "asc", "desc", "nulls", "first",
                                     "last", "as", "and", "or", "not", "is", "null", "true", "false",
                                     "case", "when", "then", "else", "end", "in", "between", "like",
                                     "ilike", "interval", "cast", "filter", "where", "lambda"};
    for (size_t j = 0; j < sizeof kw / sizeof kw[0]; j++)
        if (is(w, k, kw[j])) return true;
    return is_punct(w, k + 1, '(') || is_punct(w, k + 1, '.') || is_punct(w, k - 1, ':');
}

static bool join_word(const fw *w, int32_t i) {
    static const char *const kw[] = {"join", "left", "right", "inner", "full", "cross", "natural",
                                     "positional", "asof", "anti", "semi", "on", "using", "pivot",
                                     "unpivot", "tablesample"};
    for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
        if (is(w, i, kw[k])) return true;
    return false;
}

/* The item's name (token name, if >= 0) as the alias of a rewritten item, unless an alias
 * follows at token nx (DuckDB names an unaliased PIVOT / UNPIVOT like its item). */
static void alias_or_name(const fw *w, int32_t hi, int32_t nx, int32_t name, pl_sql_buf *b) {
    bool aliased = nx < hi && (is(w, nx, "as") || ((w->t[nx].kind == SQ_TOK_IDENT || w->t[nx].kind == SQ_TOK_QIDENT) &&
                                                   !from_end_word(w, nx) && !join_word(w, nx)));
    if (!aliased && name >= 0) buf_toks(w, b, name, name + 1);
}

/* The edits rewriting a FROM item (from token start) and its PIVOT / UNPIVOT clause (tokens
 * [at, cl]): head before the item, tail (closed here, then the item's name as alias unless one
 * follows) for the clause. Takes head and tail. */
static int32_t item_edits(const fw *w, int32_t hi, int32_t start, int32_t at, int32_t cl, int32_t name,
                          pl_sql_buf *head, pl_sql_buf *tail, sample_edit *e, int32_t n_e) {
    pl_sql_buf_str(tail, ") ");
    alias_or_name(w, hi, cl + 1, name, tail);
    if (head->oom || tail->oom) {
        pl_free(head->p);
        pl_free(tail->p);
        return n_e;
    }
    e[n_e] = (sample_edit){start, start, "", head->p};
    e[n_e + 1] = (sample_edit){at, cl + 1, "", tail->p};
    return n_e + 2;
}

enum { PIVOT_STD_MAX_AGGS = 16 };

/* The SQL standard PIVOT after a FROM item, token pv (PIVOT) in [lo, hi):
 *   item PIVOT (agg(...) [AS a], ... FOR col IN (v [AS n], ...) [GROUP BY keys])
 *   -> (SELECT * EXCLUDE (col, the aggregates' columns) | keys,
 *              agg(...) FILTER (WHERE col = v) AS "n[_a]", ... FROM item GROUP BY ALL | keys)
 * DuckDB's columns: the keys (without GROUP BY: the columns neither pivoted nor aggregated), then
 * one per value and aggregate. Not this form: no edits (the parser then refuses it). */
static int32_t pivot_edits(const fw *w, int32_t lo, int32_t hi, int32_t pv, sample_edit *e, int32_t n_e) {
    int32_t op = pv + 1, cl = close_of(w, op, hi), name = -1;
    int32_t start = item_start(w, lo, pv - 1, &name);
    if (n_e + 2 > SAMPLE_MAX_EDITS || cl >= hi || start < 0) return n_e;
    int32_t f = top_word(w, op + 1, cl, "for"), col = f + 1;
    if (f >= cl || f == op + 1 || (w->t[col].kind != SQ_TOK_IDENT && w->t[col].kind != SQ_TOK_QIDENT) ||
        !is(w, col + 1, "in") || !is_punct(w, col + 2, '('))
        return n_e;
    int32_t vo = col + 2, vc = close_of(w, vo, cl), gb = vc + 1;
    bool group = is(w, gb, "group") && is(w, gb + 1, "by") && gb + 2 < cl;
    if (vc >= cl || vc == vo + 1 || (!group && gb != cl)) return n_e;
    int32_t ag_a[PIVOT_STD_MAX_AGGS], ag_z[PIVOT_STD_MAX_AGGS], ag_alias[PIVOT_STD_MAX_AGGS], n_ag = 0;
    for (int32_t k = op + 1; k < f; n_ag++) {
        int32_t z = item_end(w, k, f), alias = -1;
        if (n_ag == PIVOT_STD_MAX_AGGS || z == k) return n_e;
        if (z - 2 > k && is(w, z - 2, "as")) alias = z - 1, z -= 2;
        if (w->t[k].kind != SQ_TOK_IDENT || !is_punct(w, k + 1, '(') || close_of(w, k + 1, z) != z - 1) return n_e;
        ag_a[n_ag] = k;
        ag_z[n_ag] = z;
        ag_alias[n_ag] = alias;
        k = item_end(w, k, f) + 1;
    }
    pl_sql_buf head = {0}, tail = {0};
    pl_sql_buf_str(&head, "(SELECT ");
    if (group) {
        buf_toks(w, &head, gb + 2, cl);
    } else { /* * EXCLUDE (col, the aggregates' columns once each) */
        pl_sql_buf_str(&head, "* EXCLUDE (");
        int32_t ex[64], n_ex = 0;
        ex[n_ex++] = col;
        for (int32_t g = 0; g < n_ag; g++)
            for (int32_t k = ag_a[g] + 2; k < ag_z[g] - 1; k++) {
                if ((w->t[k].kind != SQ_TOK_IDENT && w->t[k].kind != SQ_TOK_QIDENT) || not_column(w, k)) continue;
                bool seen = false;
                int32_t len = w->t[k].end - w->t[k].start;
                for (int32_t x = 0; x < n_ex && !seen; x++)
                    seen = w->t[ex[x]].end - w->t[ex[x]].start == len &&
                           !strncasecmp(w->sql + w->t[ex[x]].start, w->sql + w->t[k].start, (size_t)len);
                if (seen) continue;
                if (n_ex == 64) {
                    pl_free(head.p);
                    return n_e;
                }
                ex[n_ex++] = k;
            }
        for (int32_t x = 0; x < n_ex; x++) {
            if (x) pl_sql_buf_str(&head, ", ");
            buf_toks(w, &head, ex[x], ex[x] + 1);
        }
        pl_sql_buf_str(&head, ")");
    }
    for (int32_t v = vo + 1; v < vc;) {
        int32_t z = item_end(w, v, vc), vz = z, alias = -1;
        if (z - 2 > v && is(w, z - 2, "as")) alias = z - 1, vz = z - 2;
        for (int32_t g = 0; g < n_ag; g++) {
            pl_sql_buf_str(&head, ", ");
            buf_toks(w, &head, ag_a[g], ag_z[g]);
            pl_sql_buf_str(&head, " FILTER (WHERE ");
            buf_toks(w, &head, col, col + 1);
            pl_sql_buf_str(&head, " = ");
            buf_toks(w, &head, v, vz);
            pl_sql_buf_str(&head, ") AS ");
            pl_sql_buf temp = {0}; /* the name: n, n_a or n_agg(...) (several without AS) */
            buf_ident_of(w, &temp, alias >= 0 ? alias : v, alias >= 0 ? alias + 1 : vz);
            if (temp.p && temp.len >= 2) pl_sql_buf_add(&head, temp.p, temp.len - 1);
            pl_free(temp.p);
            if (ag_alias[g] >= 0 || n_ag > 1) {
                pl_sql_buf_str(&head, "_");
                pl_sql_buf inner = {0};
                if (ag_alias[g] >= 0) buf_ident_of(w, &inner, ag_alias[g], ag_alias[g] + 1);
                else buf_ident_of(w, &inner, ag_a[g], ag_z[g]);
                if (inner.p && inner.len >= 2) pl_sql_buf_add(&head, inner.p + 1, inner.len - 1);
                pl_free(inner.p);
            } else {
                pl_sql_buf_str(&head, "\"");
            }
        }
        v = z + 1;
    }
    pl_sql_buf_str(&head, " FROM ");
    pl_sql_buf_str(&tail, " GROUP BY ");
    if (group) buf_toks(w, &tail, gb + 2, cl);
    else pl_sql_buf_str(&tail, "ALL");
    return item_edits(w, hi, start, pv, cl, name, &head, &tail, e, n_e);
}

/* The SQL standard UNPIVOT after a FROM item, token up (UNPIVOT) in [lo, hi):
 *   item UNPIVOT [INCLUDE NULLS] (val FOR name IN (c1, c2, ...))
 *   -> (SELECT * FROM (SELECT * EXCLUDE (c1, c2, ...), unnest(list_value('c1', 'c2', ...)) AS
 *       "name", unnest(list_value(c1, c2, ...)) AS "val" FROM item) __unpivot
 *       [WHERE "val" IS NOT NULL]) [item's name]
 * (the unnests are zipped: row by row, like DuckDB). Not this form: no edits. */
static int32_t unpivot_edits(const fw *w, int32_t lo, int32_t hi, int32_t up, sample_edit *e, int32_t n_e) {
    int32_t name = -1, start = item_start(w, lo, up - 1, &name), op = up + 1;
    bool nulls = is(w, op, "include") && is(w, op + 1, "nulls");
    if (nulls) op += 2;
    if (n_e + 2 > SAMPLE_MAX_EDITS || start < 0 || !is_punct(w, op, '(')) return n_e;
    int32_t cl = close_of(w, op, hi), val = op + 1, f = op + 2, nm = op + 3, io = op + 5;
    if (cl >= hi || !is(w, f, "for") || !is(w, nm + 1, "in") || !is_punct(w, io, '(') ||
        (w->t[val].kind != SQ_TOK_IDENT && w->t[val].kind != SQ_TOK_QIDENT) ||
        (w->t[nm].kind != SQ_TOK_IDENT && w->t[nm].kind != SQ_TOK_QIDENT) || close_of(w, io, cl) != cl - 1)
        return n_e;
    for (int32_t k = io + 1; k < cl - 1; k += 2) /* c1, c2, ...: names only */
        if ((w->t[k].kind != SQ_TOK_IDENT && w->t[k].kind != SQ_TOK_QIDENT) ||
            !(is_punct(w, k + 1, ',') || k + 1 == cl - 1))
            return n_e;
    if (io + 1 >= cl - 1) return n_e;
    pl_sql_buf head = {0}, tail = {0};
    pl_sql_buf_str(&head, "(SELECT * FROM (SELECT * EXCLUDE (");
    buf_toks(w, &head, io + 1, cl - 1);
    pl_sql_buf_str(&head, "), unnest(list_value(");
    for (int32_t k = io + 1; k < cl - 1; k += 2) {
        if (k > io + 1) pl_sql_buf_str(&head, ", ");
        pl_sql_buf q = {0}; /* "c" -> 'c' */
        buf_ident_of(w, &q, k, k + 1);
        pl_sql_buf_str(&head, "'");
        for (size_t c = 1; q.p && c + 1 < q.len; c++) {
            if (q.p[c] == '"') c++; /* "" -> " */
            pl_sql_buf_add(&head, q.p + c, 1);
            if (q.p[c] == '\'') pl_sql_buf_str(&head, "'");
        }
        pl_sql_buf_str(&head, "'");
        pl_free(q.p);
    }
    pl_sql_buf_str(&head, ")) AS ");
    buf_ident_of(w, &head, nm, nm + 1);
    pl_sql_buf_str(&head, ", unnest(list_value(");
    buf_toks(w, &head, io + 1, cl - 1);
    pl_sql_buf_str(&head, ")) AS ");
    buf_ident_of(w, &head, val, val + 1);
    pl_sql_buf_str(&head, " FROM ");
    pl_sql_buf_str(&tail, ") __unpivot");
    if (!nulls) {
        pl_sql_buf_str(&tail, " WHERE ");
        buf_ident_of(w, &tail, val, val + 1);
        pl_sql_buf_str(&tail, " IS NOT NULL");
    }
    return item_edits(w, hi, start, up, cl, name, &head, &tail, e, n_e);
}

/* The sample edits of tokens [lo, hi) at one level (paren groups skipped), in token order. */
static int32_t sample_edits(const fw *w, int32_t lo, int32_t hi, sample_edit *e) {
    int32_t n_e = 0, from = -1;
    for (int32_t i = lo; i < hi; i++) {
        if (is_punct(w, i, '(') || is_punct(w, i, '[')) {
            i = close_of(w, i, hi);
            continue;
        }
        if (is_set_op(w, i)) from = -1;
        if (is(w, i, "from")) from = i;
        if (is(w, i, "tablesample")) n_e = tablesample_edits(w, lo, hi, i, e, n_e);
        if (is(w, i, "pivot") && from >= 0 && i > from + 1 && is_punct(w, i + 1, '('))
            n_e = pivot_edits(w, lo, hi, i, e, n_e);
        if (is(w, i, "unpivot") && from >= 0 && i > from + 1) n_e = unpivot_edits(w, lo, hi, i, e, n_e);
        if (is(w, i, "using") && is(w, i + 1, "sample") && from >= 0 && n_e + 2 <= SAMPLE_MAX_EDITS) {
            char call[160];
            int32_t spec_end = sample_spec(w, i + 2, hi, call, sizeof call);
            if (spec_end < 0) continue;
            int32_t fe = from + 1;
            while (fe < i && !from_end_word(w, fe)) {
                if (is_punct(w, fe, '(') || is_punct(w, fe, '[')) fe = close_of(w, fe, hi);
                fe++;
            }
            e[n_e] = (sample_edit){fe, fe, "", NULL};
            snprintf(e[n_e].text, sizeof e[n_e].text, ", %s ", call);
            n_e++;
            e[n_e++] = (sample_edit){i, spec_end, "", NULL};
            from = -1;
        }
    }
    /* in token order (inserts before replacements at the same token) */
    for (int32_t a = 1; a < n_e; a++)
        for (int32_t b = a; b > 0 && (e[b - 1].at > e[b].at ||
                                      (e[b - 1].at == e[b].at && e[b - 1].end > e[b].end)); b--) {
            sample_edit t = e[b];
            e[b] = e[b - 1];
            e[b - 1] = t;
        }
    return n_e;
}

static void free_edits(sample_edit *e, int32_t n) {
    for (int32_t k = 0; k < n; k++) pl_free(e[k].big);
}

/* `j -> '$.a'`, `j -> 2`, `j ->> ...` (JSON extraction, not a lambda): at k (after `->`) a
 * third '>' (the `->>` operator), a string, or a lone (signed) number ending the operand. */
static bool json_arrow(const fw *w, int32_t k, int32_t hi) {
    if (is_punct(w, k, '>') && w->t[k].start == w->t[k - 1].end) return true;
    if (w->t[k].kind == SQ_TOK_STRING) return true;
    if (is_punct(w, k, '-') && k + 1 < hi) k++;
    if (w->t[k].kind != SQ_TOK_NUMBER) return false;
    if (k + 1 >= hi || w->t[k + 1].kind != SQ_TOK_PUNCT) return true;
    const char *ops = "<>=!+-*/%|&^~";
    for (const char *o = ops; *o; o++)
        if (is_punct(w, k + 1, *o)) return false;
    return true;
}

/* The bytes of tokens [lo, hi) up to end_byte, subqueries rewritten. */

static void plain(fw *w, int32_t lo, int32_t hi, int32_t end_byte) {
    int32_t cur = lo < w->n_tok ? w->t[lo].start : end_byte;
    bool seen_query_word = false;
    sample_edit edits[SAMPLE_MAX_EDITS];
    int32_t n_edits = sample_edits(w, lo, hi, edits), next_edit = 0;
    for (int32_t i = lo; i < hi; i++) {
        bool skipped = false;
        while (next_edit < n_edits && edits[next_edit].at == i) {
            sample_edit *ed = &edits[next_edit++];
            copy(w, cur, w->t[i].start);
            const char *text = ed->big ? ed->big : ed->text;
            if (text[0]) insert(w, text, w->t[i].start);
            cur = w->t[i].start;
            if (ed->end > i) { /* replaced: go on after it */
                cur = w->t[ed->end - 1].end;
                i = ed->end - 1;
                skipped = true;
                break;
            }
        }
        if (skipped) continue;
        if (is(w, i, "select") || is(w, i, "values") || (i == lo && is(w, i, "table")))
            seen_query_word = true;
        if (is_set_op(w, i)) {
            int32_t j = i + 1;
            while (is(w, j, "all") || is(w, j, "distinct") || is(w, j, "by") || is(w, j, "name")) j++;
            if (is(w, j, "from")) { /* SELECT ... UNION FROM t */
                copy(w, cur, w->t[j].start);
                region(w, j, hi, end_byte, true);
                free_edits(edits, n_edits);
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
            free_edits(edits, n_edits);
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
            i > lo && (w->t[i - 1].kind == SQ_TOK_IDENT || is_punct(w, i - 1, ')')) && i + 2 < hi &&
            !json_arrow(w, i + 2, hi)) {
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
        /* MAP {k: v, ...} (DuckDB's map literal) -> map(list_value(k, ...), list_value(v, ...)) */
        if (is(w, i, "map") && is_punct(w, i + 1, '{') && !is_punct(w, i - 1, '.')) {
            int32_t m = close_brace(w, i + 1, hi);
            if (m < hi && map_items(w, i + 1, m)) {
                copy(w, cur, w->t[i].start);
                map_literal(w, i + 1, m);
                cur = w->t[m].end;
                i = m;
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
            if (m < hi && comprehension(w, i, m, cur)) {
                cur = w->t[m].end;
                i = m;
                continue;
            }
            if (m < hi) { /* [a, b] -> list_value(a, b), DuckDB's name of the column too */
                /* subscripted ([NULL][1]): parenthesised, as the grammar takes subscripts only
                 * after a column or a parenthesised expression */
                bool subscript = m + 1 < hi && is_punct(w, m + 1, '[');
                copy(w, cur, w->t[i].start);
                insert(w, subscript ? "(list_value(" : "list_value(", w->t[i].start);
                if (m > i + 1) region(w, i + 1, m, w->t[m].start, false);
                insert(w, subscript ? "))" : ")", w->t[m].start);
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
    free_edits(edits, n_edits);
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

/* PIVOT / UNPIVOT src ON ...: the statement becomes SELECT * FROM src, the rest goes into the
 * mark (pl_sql_run_form builds the query from the source's columns). Returns false (nothing
 * written) when the statement is not of that shape. */
static bool pivot_statement(fw *w, int32_t lo, int32_t hi, int32_t end_byte) {
    int32_t q = lo + 1, src_end = -1;
    bool paren = is_punct(w, q, '(');
    if (paren) {
        src_end = close_of(w, q, hi) + 1;
    } else if (q < hi && (w->t[q].kind == SQ_TOK_IDENT || w->t[q].kind == SQ_TOK_QIDENT ||
                          w->t[q].kind == SQ_TOK_STRING)) {
        src_end = q + 1;
        while (is_punct(w, src_end, '.') && src_end + 1 < hi) src_end += 2;
        if (is_punct(w, src_end, '(')) src_end = close_of(w, src_end, hi) + 1; /* a function */
    }
    if (src_end < 0 || src_end >= hi || !is(w, src_end, "on")) return false;
    mark(w, w->f->len, is(w, lo, "unpivot") ? PL_SQL_FORM_UNPIVOT : PL_SQL_FORM_PIVOT, -1);
    if (w->oom) return true;
    int32_t from = w->t[src_end].start;
    char *spec = pl_malloc((size_t)(end_byte - from) + 1);
    if (!spec) {
        w->oom = true;
        return true;
    }
    memcpy(spec, w->sql + from, (size_t)(end_byte - from));
    spec[end_byte - from] = 0;
    w->f->marks[w->f->n_marks - 1].spec = spec;
    insert(w, "SELECT * FROM ", w->t[lo].start);
    plain(w, q, src_end, w->t[src_end - 1].end);
    if (paren) insert(w, " AS __pivot_source", w->t[src_end - 1].end);
    return true;
}

/* One statement: tokens [lo, hi) ending at end_byte (the ';' or the end). */
static void statement(fw *w, int32_t lo, int32_t hi, int32_t end_byte) {
    pl_sql_form form = PL_SQL_FORM_PLAIN;
    if ((is(w, lo, "pivot") || is(w, lo, "unpivot")) && pivot_statement(w, lo, hi, end_byte)) return;
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
    for (int32_t i = 0; i < f->n_marks; i++) pl_free(f->marks[i].spec);
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
    /* the marks come statement by statement, each inside its statement's text: the first one
     * at or after stmt_start (binary search: a scan of all per statement was quadratic) */
    int32_t lo = 0, hi = f->n_marks;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (f->marks[mid].at < stmt_start) lo = mid + 1;
        else hi = mid;
    }
    return lo < f->n_marks && f->marks[lo].at <= stmt_end ? &f->marks[lo] : NULL;
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
        agg(&b, qs ? "avg(%s)::VARCHAR" : "NULL::VARCHAR", col, k, "avg");
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

/* ---------------------------------------------------------------- PIVOT / UNPIVOT */

/* The spec's tokens: its text, its tokens and a cursor. */
typedef struct pv {
    const char *sql;
    sq_token *t;
    int32_t n, i;
} pv;

static bool pv_is(const pv *p, int32_t i, const char *word) {
    return i >= 0 && i < p->n && sq_tok_is(p->sql, &p->t[i], word);
}

/* The end of the comma-separated item from i (a ',' at depth 0, a stop word, or the end). */
static int32_t pv_item_end(const pv *p, int32_t i, const char *const *stops) {
    int depth = 0;
    for (; i < p->n; i++) {
        if (!depth) {
            if (pv_is(p, i, ",")) return i;
            for (const char *const *s = stops; *s; s++)
                if (pv_is(p, i, *s)) return i;
        }
        if (pv_is(p, i, "(") || pv_is(p, i, "[")) depth++;
        else if (pv_is(p, i, ")") || pv_is(p, i, "]")) depth--;
    }
    return p->n;
}

static void sb_toks(sbuf *b, const pv *p, int32_t a, int32_t z) {
    if (z > a) sb_add(b, p->sql + p->t[a].start, (size_t)(p->t[z - 1].end - p->t[a].start));
}

/* The text of tokens [a, z) without the quotes of a single string or identifier. */
static void sb_value_name(sbuf *b, const pv *p, int32_t a, int32_t z) {
    if (z == a + 1 && (p->t[a].kind == SQ_TOK_STRING || p->t[a].kind == SQ_TOK_QIDENT)) {
        char qc = p->sql[p->t[a].start];
        for (int32_t k = p->t[a].start + 1; k < p->t[a].end - 1; k++) {
            sb_add(b, p->sql + k, 1);
            if (p->sql[k] == qc && p->sql[k + 1] == qc) k++;
        }
        return;
    }
    sb_toks(b, p, a, z);
}

enum { PIVOT_MAX_ON = 8, PIVOT_MAX_COLUMNS = 10000 };

/* One ON column: its expression's tokens and its values (names and SQL literals). */
typedef struct pv_on {
    int32_t a, z;
    int32_t n_vals;
    char **names, **lits;
} pv_on;

static void pv_on_reset(pv_on *o) {
    for (int32_t k = 0; k < o->n_vals; k++) {
        pl_free(o->names[k]);
        pl_free(o->lits[k]);
    }
    pl_free(o->names);
    pl_free(o->lits);
}

static pl_status pv_add_value(pv_on *o, char *name, char *lit, pl_error *err) {
    if (!name || !lit || o->n_vals >= PIVOT_MAX_COLUMNS) {
        pl_free(name);
        pl_free(lit);
        if (o->n_vals >= PIVOT_MAX_COLUMNS)
            PL_FAIL(err, PL_ERR_LIMIT, "PIVOT: more than %d values in one ON column", PIVOT_MAX_COLUMNS);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    char **nn = pl_realloc(o->names, (size_t)(o->n_vals + 1) * sizeof *nn);
    if (nn) o->names = nn;
    char **nl = nn ? pl_realloc(o->lits, (size_t)(o->n_vals + 1) * sizeof *nl) : NULL;
    if (nl) o->lits = nl;
    if (!nn || !nl) {
        pl_free(name);
        pl_free(lit);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    o->names[o->n_vals] = name;
    o->lits[o->n_vals++] = lit;
    return PL_OK;
}

static char *sb_take(sbuf *b) {
    if (b->oom) {
        pl_free(b->p);
        return NULL;
    }
    return b->p ? b->p : pl_strdup("");
}

/* The distinct non-NULL values of ON column o in the source (hidden), in order, as text. */
static pl_status pv_enumerate(pl_session *s, const char *hidden, const pv *p, pv_on *o,
                              pl_error *err) {
    sbuf q = {0};
    sb_str(&q, "SELECT CAST((");
    sb_toks(&q, p, o->a, o->z);
    sb_str(&q, ") AS VARCHAR) FROM ");
    sb_ident(&q, hidden);
    sb_str(&q, " WHERE (");
    sb_toks(&q, p, o->a, o->z);
    sb_str(&q, ") IS NOT NULL GROUP BY (");
    sb_toks(&q, p, o->a, o->z);
    sb_str(&q, ") ORDER BY (");
    sb_toks(&q, p, o->a, o->z);
    sb_str(&q, ")");
    if (q.oom) {
        pl_free(q.p);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_df *df = NULL;
    pl_table *t = NULL;
    pl_status st = pl_session_query(s, q.p, &df, err);
    pl_free(q.p);
    if (!st) st = pl_df_collect(df, pl_session_exec_opts(s), &t, err);
    pl_df_release(df);
    for (int64_t bi = 0; !st && bi < t->n_batches; bi++) {
        pl_array *a = t->batches[bi]->columns[0];
        for (int64_t k = 0; k < a->length && !st; k++) {
            int32_t len;
            const uint8_t *v = pl_array_bytes(a, k, &len);
            sbuf nm = {0}, lit = {0};
            sb_add(&nm, (const char *)v, (size_t)len);
            if (!nm.p) sb_str(&nm, "");
            char *name = sb_take(&nm);
            if (name) sb_lit(&lit, name);
            st = pv_add_value(o, name, sb_take(&lit), err);
        }
    }
    pl_table_release(t);
    if (err && st) err->sql_pos = -1;
    return st;
}

/* The aggregate call in USING item [a, z): its name token (set *lp, *rp to its parentheses and
 * *fz to the end of its FILTER clause, or *fz = *rp + 1 without one); -1 unless there is
 * exactly one aggregate call, -2 for a window (OVER). DuckDB: "exactly one aggregate". */
static int32_t pv_agg_call(const pv *p, int32_t a, int32_t z, int32_t *lp, int32_t *rp, int32_t *fz) {
    int32_t found = -1, n = 0;
    for (int32_t k = a; k + 1 < z; k++) {
        if ((p->t[k].kind != SQ_TOK_IDENT && p->t[k].kind != SQ_TOK_QIDENT) || !pv_is(p, k + 1, "(") ||
            (k > a && pv_is(p, k - 1, ".")))
            continue;
        char nm[64];
        int32_t len = p->t[k].end - p->t[k].start;
        if (p->t[k].kind == SQ_TOK_QIDENT || len >= (int32_t)sizeof nm) continue;
        for (int32_t c = 0; c < len; c++) nm[c] = (char)tolower((unsigned char)p->sql[p->t[k].start + c]);
        nm[len] = 0;
        if (!pl_agg_exists(nm)) continue;
        int depth = 0, close = -1;
        for (int32_t q = k + 1; q < z && close < 0; q++) {
            if (pv_is(p, q, "(") || pv_is(p, q, "[")) depth++;
            else if ((pv_is(p, q, ")") || pv_is(p, q, "]")) && --depth == 0) close = q;
        }
        if (close < 0) return -1;
        n++;
        found = k;
        *lp = k + 1;
        *rp = close;
        *fz = close + 1;
        if (pv_is(p, close + 1, "filter") && pv_is(p, close + 2, "(")) {
            depth = 0;
            for (int32_t q = close + 2; q < z; q++) {
                if (pv_is(p, q, "(")) depth++;
                else if (pv_is(p, q, ")") && --depth == 0) {
                    *fz = q + 1;
                    break;
                }
            }
        }
        if (pv_is(p, *fz, "over")) return -2;
        k = *fz - 1;
    }
    return n == 1 ? found : -1;
}

/* PIVOT src ON cols [IN (values)] [USING aggs] [GROUP BY keys] [ORDER BY ... / LIMIT ...] as
 * SELECT keys, agg FILTER (WHERE col = value ...) AS "value[_value][_alias]", ... FROM src
 * GROUP BY keys, like DuckDB: the values of each ON column (without IN: its distinct non-NULL
 * values in order) combine into one column per combination and aggregate; no USING is
 * count(*); without GROUP BY the keys are the source's columns that are neither ON columns nor
 * named in USING. */
static pl_status pivot_run(pl_session *s, const char *hidden, const pl_schema *sc, const pv *p,
                           sbuf *b, pl_error *err) {
    static const char *const on_stops[] = {"using", "group", "order", "limit", "in", NULL};
    static const char *const using_stops[] = {"group", "order", "limit", NULL};
    static const char *const group_stops[] = {"order", "limit", NULL};
    pv_on on[PIVOT_MAX_ON];
    int32_t n_on = 0, i = 1;
    pl_status st = PL_OK;
    memset(on, 0, sizeof on);
    while (!st && i < p->n) { /* ON items */
        if (n_on == PIVOT_MAX_ON) {
            st = pl_error_set(err, PL_ERR_LIMIT, "PIVOT takes at most %d ON columns", PIVOT_MAX_ON);
            break;
        }
        pv_on *o = &on[n_on++];
        o->a = i;
        o->z = pv_item_end(p, i, on_stops);
        if (o->z == o->a) st = pl_error_set(err, PL_ERR_SQL, "PIVOT: expected a column after ON");
        i = o->z;
        if (!st && pv_is(p, i, "in")) { /* IN (v1, v2, ...) */
            if (!pv_is(p, i + 1, "(")) {
                st = pl_error_set(err, PL_ERR_SQL, "PIVOT: expected ( after IN");
                break;
            }
            i += 2;
            static const char *const in_stops[] = {")", NULL};
            while (!st && i < p->n && !pv_is(p, i, ")")) {
                int32_t z = pv_item_end(p, i, in_stops);
                sbuf nm = {0}, lit = {0};
                sb_value_name(&nm, p, i, z);
                char *name = sb_take(&nm);
                if (name && z == i + 1 && (p->t[i].kind == SQ_TOK_IDENT || p->t[i].kind == SQ_TOK_QIDENT))
                    sb_lit(&lit, name); /* IN (p, q): the names as strings, like DuckDB */
                else
                    sb_toks(&lit, p, i, z);
                st = pv_add_value(o, name, sb_take(&lit), err);
                i = pv_is(p, z, ",") ? z + 1 : z;
            }
            i++;
        }
        if (pv_is(p, i, ",")) i++;
        else break;
    }
    int32_t ua = i, uz = i; /* USING */
    if (pv_is(p, i, "using")) {
        ua = i + 1;
        uz = ua;
        while (uz < p->n && !pv_is(p, uz, "group") && !pv_is(p, uz, "order") && !pv_is(p, uz, "limit")) {
            uz = pv_item_end(p, uz, using_stops);
            if (pv_is(p, uz, ",")) uz++;
        }
        i = uz;
    }
    int32_t ga = -1, gz = -1; /* GROUP BY */
    if (pv_is(p, i, "group") && pv_is(p, i + 1, "by")) {
        ga = i + 2;
        gz = ga;
        while (gz < p->n && !pv_is(p, gz, "order") && !pv_is(p, gz, "limit")) {
            gz = pv_item_end(p, gz, group_stops);
            if (pv_is(p, gz, ",")) gz++;
        }
        i = gz;
    }
    if (!st && i < p->n && !pv_is(p, i, "order") && !pv_is(p, i, "limit"))
        st = pl_error_set(err, PL_ERR_SQL, "PIVOT: unexpected \"%.*s\"",
                          (int)(p->t[i].end - p->t[i].start), p->sql + p->t[i].start);
    for (int32_t k = 0; k < n_on && !st; k++)
        if (!on[k].names) st = pv_enumerate(s, hidden, p, &on[k], err);
    /* the aggregates: [a, z) token ranges and aliases */
    enum { MAX_AGGS = 64 };
    int32_t aa[MAX_AGGS] = {0}, az[MAX_AGGS] = {0}, al[MAX_AGGS] = {0}, n_agg = 0;
    for (int32_t k = ua; !st && k < uz;) {
        int32_t z = pv_item_end(p, k, using_stops);
        if (n_agg == MAX_AGGS) {
            st = pl_error_set(err, PL_ERR_LIMIT, "PIVOT takes at most %d aggregates", MAX_AGGS);
            break;
        }
        aa[n_agg] = k;
        az[n_agg] = z;
        al[n_agg] = -1;
        if (z - k >= 3 && pv_is(p, z - 2, "as")) {
            al[n_agg] = z - 1;
            az[n_agg] = z - 2;
        }
        n_agg++;
        k = pv_is(p, z, ",") ? z + 1 : z;
    }
    int64_t n_cols = 1;
    for (int32_t k = 0; k < n_on; k++) n_cols *= PL_MAX(on[k].n_vals, 1);
    if (!st && n_cols * PL_MAX(n_agg, 1) > PIVOT_MAX_COLUMNS)
        st = pl_error_set(err, PL_ERR_LIMIT, "PIVOT would make more than %d columns", PIVOT_MAX_COLUMNS);
    sb_str(b, "SELECT ");
    bool first = true, any_key = false;
    if (!st && ga >= 0) {
        sb_toks(b, p, ga, gz);
        first = false;
        any_key = true;
    } else if (!st) { /* the columns neither pivoted nor aggregated */
        for (int32_t f = 0; f < sc->n_fields; f++) {
            const char *nm = sc->fields[f].name;
            bool used = false;
            for (int32_t k = 1; k < uz && !used; k++) /* named in ON or USING */
                used = (p->t[k].kind == SQ_TOK_IDENT || p->t[k].kind == SQ_TOK_QIDENT) &&
                           (sq_tok_is(p->sql, &p->t[k], nm) ||
                            (p->t[k].kind == SQ_TOK_QIDENT && p->t[k].end - p->t[k].start == (int32_t)strlen(nm) + 2 &&
                             !strncmp(p->sql + p->t[k].start + 1, nm, strlen(nm))));
            if (used) continue;
            if (!first) sb_str(b, ", ");
            sb_ident(b, nm);
            first = false;
            any_key = true;
        }
    }
    int32_t idx[PIVOT_MAX_ON] = {0};
    for (int64_t c = 0; !st && c < n_cols; c++) {
        bool empty = false;
        for (int32_t k = 0; k < n_on; k++) empty |= on[k].n_vals == 0;
        if (empty) break; /* an ON column without values: no pivoted columns */
        for (int32_t g = 0; g < PL_MAX(n_agg, 1); g++) {
            if (!first) sb_str(b, ", ");
            first = false;
            /* the aggregate call of an expression (sum(v) * 2, coalesce(sum(v), 0)) takes the
             * filter, with its own FILTER's condition */
            int32_t lp = -1, rp = -1, fz = -1;
            int32_t call = n_agg ? pv_agg_call(p, aa[g], az[g], &lp, &rp, &fz) : -1;
            if (n_agg && call < 0) {
                st = pl_error_set(err, PL_ERR_SQL, call == -2 ? "PIVOT: USING \"%.*s\" has a window function"
                                                             : "PIVOT: USING \"%.*s\" must contain exactly one "
                                                               "aggregate",
                                  (int)(p->t[az[g] - 1].end - p->t[aa[g]].start), p->sql + p->t[aa[g]].start);
                break;
            }
            if (n_agg) sb_toks(b, p, aa[g], rp + 1);
            else sb_str(b, "count(*)");
            sb_str(b, " FILTER (WHERE ");
            for (int32_t k = 0; k < n_on; k++) {
                if (k) sb_str(b, " AND ");
                sb_str(b, "(");
                sb_toks(b, p, on[k].a, on[k].z);
                sb_str(b, ") = ");
                sb_str(b, on[k].lits[idx[k]]);
            }
            if (n_agg && fz > rp + 1) { /* FILTER (WHERE c) or FILTER (c) */
                int32_t ca = rp + 3, cz = fz - 1;
                if (pv_is(p, ca, "where")) ca++;
                sb_str(b, " AND (");
                sb_toks(b, p, ca, cz);
                sb_str(b, ")");
            }
            sb_str(b, ")");
            if (n_agg && fz < az[g]) {
                sb_str(b, " ");
                sb_toks(b, p, fz, az[g]);
            }
            sb_str(b, " AS ");
            sbuf nm = {0};
            for (int32_t k = 0; k < n_on; k++) {
                if (k) sb_str(&nm, "_");
                sb_str(&nm, on[k].names[idx[k]]);
            }
            if (n_agg > 1 || (n_agg == 1 && al[g] >= 0)) { /* value_alias, value_sum(x) */
                sb_str(&nm, "_");
                if (al[g] >= 0) sb_value_name(&nm, p, al[g], al[g] + 1);
                else sb_toks(&nm, p, aa[g], az[g]);
            }
            if (nm.oom || !nm.p) {
                pl_free(nm.p);
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            sb_ident(b, nm.p);
            pl_free(nm.p);
        }
        for (int32_t k = n_on - 1; k >= 0; k--) { /* the next combination */
            if (++idx[k] < on[k].n_vals) break;
            idx[k] = 0;
        }
    }
    if (first && !st) st = pl_error_set(err, PL_ERR_SQL, "PIVOT: no columns to show");
    sb_str(b, " FROM ");
    sb_ident(b, hidden);
    if (any_key) {
        sb_str(b, " GROUP BY ALL");
    }
    if (i < p->n) {
        sb_str(b, " ");
        sb_toks(b, p, i, p->n);
    }
    for (int32_t k = 0; k < n_on; k++) pv_on_reset(&on[k]);
    return st;
}

/* UNPIVOT src ON c1, c2, ... [INTO NAME n VALUE v] [ORDER BY ... / LIMIT ...] as the UNION ALL
 * of SELECT others, 'ci' AS n, ci AS v FROM src WHERE ci IS NOT NULL, like DuckDB (rows whose
 * value is NULL are left out; n and v default to name and value). */
static pl_status unpivot_run(const char *hidden, const pl_schema *sc, const pv *p, sbuf *b,
                             pl_error *err) {
    static const char *const stops[] = {"into", "order", "limit", NULL};
    enum { MAX_COLS = 1024 };
    int32_t ca[MAX_COLS] = {0}, cz[MAX_COLS] = {0}, n_c = 0, i = 1;
    while (i < p->n && !pv_is(p, i, "into") && !pv_is(p, i, "order") && !pv_is(p, i, "limit")) {
        int32_t z = pv_item_end(p, i, stops);
        if (z == i || n_c == MAX_COLS) PL_FAIL(err, PL_ERR_SQL, "UNPIVOT: expected columns after ON");
        ca[n_c] = i;
        cz[n_c++] = z;
        i = pv_is(p, z, ",") ? z + 1 : z;
    }
    if (n_c == 0) PL_FAIL(err, PL_ERR_SQL, "UNPIVOT: expected columns after ON");
    int32_t name_tok = -1, value_tok = -1;
    if (pv_is(p, i, "into")) {
        if (!pv_is(p, i + 1, "name") || !pv_is(p, i + 3, "value") || i + 4 >= p->n)
            PL_FAIL(err, PL_ERR_SQL, "UNPIVOT: expected INTO NAME name VALUE value");
        name_tok = i + 2;
        value_tok = i + 4;
        i += 5;
    }
    if (i < p->n && !pv_is(p, i, "order") && !pv_is(p, i, "limit"))
        PL_FAIL(err, PL_ERR_SQL, "UNPIVOT: unexpected \"%.*s\"", (int)(p->t[i].end - p->t[i].start),
                p->sql + p->t[i].start);
    if (i < p->n) sb_str(b, "SELECT * FROM (");
    for (int32_t c = 0; c < n_c; c++) {
        if (c) sb_str(b, " UNION ALL ");
        sb_str(b, "SELECT ");
        for (int32_t f = 0; f < sc->n_fields; f++) {
            bool on_col = false;
            for (int32_t k = 0; k < n_c && !on_col; k++)
                on_col = cz[k] == ca[k] + 1 && (sq_tok_is(p->sql, &p->t[ca[k]], sc->fields[f].name) ||
                                                (p->t[ca[k]].kind == SQ_TOK_QIDENT &&
                                                 p->t[ca[k]].end - p->t[ca[k]].start ==
                                                     (int32_t)strlen(sc->fields[f].name) + 2 &&
                                                 !strncmp(p->sql + p->t[ca[k]].start + 1,
                                                          sc->fields[f].name,
                                                          strlen(sc->fields[f].name))));
            if (on_col) continue;
            sb_ident(b, sc->fields[f].name);
            sb_str(b, ", ");
        }
        sbuf nm = {0};
        sb_value_name(&nm, p, ca[c], cz[c]);
        sb_lit(b, nm.p ? nm.p : "");
        pl_free(nm.p);
        sb_str(b, " AS ");
        if (name_tok >= 0) sb_toks(b, p, name_tok, name_tok + 1);
        else sb_str(b, "name");
        sb_str(b, ", ");
        sb_toks(b, p, ca[c], cz[c]);
        sb_str(b, " AS ");
        if (value_tok >= 0) sb_toks(b, p, value_tok, value_tok + 1);
        else sb_str(b, "value");
        sb_str(b, " FROM ");
        sb_ident(b, hidden);
        sb_str(b, " WHERE ");
        sb_toks(b, p, ca[c], cz[c]);
        sb_str(b, " IS NOT NULL");
    }
    if (i < p->n) {
        sb_str(b, ") AS __unpivot ");
        sb_toks(b, p, i, p->n);
    }
    return PL_OK;
}

static pl_status pivot_form(pl_session *s, pl_df *df, const pl_sql_form_mark *m, pl_sql_result *r,
                            pl_error *err) {
    static const char *const hidden = "__polaroid_pivot";
    pl_schema *sc = pl_df_schema(df);
    pv p = {m->spec ? m->spec : "", NULL, 0, 0};
    int32_t len = (int32_t)strlen(p.sql), cap = 0, pos = 0;
    sq_token t;
    pl_status st = PL_OK;
    while (!st && sq_lex_next(p.sql, len, pos, &t)) {
        if (!grow((void **)&p.t, &cap, p.n + 1, sizeof *p.t)) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else p.t[p.n++] = t;
        pos = t.end;
    }
    if (!st && (!sc || p.n < 2 || !pv_is(&p, 0, "on")))
        st = pl_error_set(err, PL_ERR_SQL, "%s: expected ON", m->form == PL_SQL_FORM_PIVOT ? "PIVOT" : "UNPIVOT");
    if (!st) st = pl_session_register(s, hidden, df, err);
    pl_df_release(df);
    if (st) {
        pl_free(p.t);
        return st;
    }
    sbuf b = {0};
    st = m->form == PL_SQL_FORM_PIVOT ? pivot_run(s, hidden, sc, &p, &b, err)
                                      : unpivot_run(hidden, sc, &p, &b, err);
    pl_free(p.t);
    if (!st) st = run_text(s, &b, r, m->form == PL_SQL_FORM_PIVOT ? "PIVOT" : "UNPIVOT", err);
    else pl_free(b.p);
    pl_cat_entry *e = pl_session_find(s, hidden); /* the result's plan holds what it reads */
    if (e) pl_session_remove(s, e);
    return st;
}

pl_status pl_sql_run_form(pl_session *s, const pl_stmt_ctx *c, const pl_sql_form_mark *m,
                          const PgQuery__Node *n, pl_sql_result *r, pl_error *err) {
    if (m->form == PL_SQL_FORM_SHOW_TABLES || m->form == PL_SQL_FORM_SHOW_ALL_TABLES)
        return show_tables(s, m->form == PL_SQL_FORM_SHOW_ALL_TABLES, r, err);
    if (m->form == PL_SQL_FORM_PIVOT || m->form == PL_SQL_FORM_UNPIVOT) {
        pl_df *df = NULL;
        if (!n || n->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "bad PIVOT source");
        PL_TRY(pl_sql_plan_query(s, c->sql, n, &df, err));
        return pivot_form(s, df, m, r, err);
    }
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
