/* sql_buf.c - pl_sql_buf, the growable string the SQL front end builds text with (rewritten
 * statements in session_forms.c, output column names in plan_expr.c). */
#include "sql/sql_int.h"

#include <string.h>

void pl_sql_buf_add(pl_sql_buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = pl_realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void pl_sql_buf_str(pl_sql_buf *b, const char *s) { pl_sql_buf_add(b, s, strlen(s)); }
