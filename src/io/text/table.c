/* table.c - the human-readable table writer (`--format table`), in the manner of the DuckDB
 * shell's box mode: column names and types in the header, numbers right-aligned, NULL as NULL,
 * long values cut with an ellipsis, middle columns elided when the table is wider than
 * table_max_width (terminal width or 120), middle rows elided beyond table_max_rows (40) with
 * a "N rows (M shown)" footer. Only the head and tail rows that can be shown are kept: batches
 * are retained until finish, older tail batches dropped once enough later rows exist. Widths
 * are counted in terminal cells (UTF-8 aware, wide CJK characters count 2). */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/text/text.h"

#define TABLE_DEFAULT_WIDTH 120
#define TABLE_DEFAULT_ROWS 40
#define TABLE_MAX_CELL 40 /* cells wider than this are cut */
#define TABLE_DOT_ROWS 3  /* rows of "·" where rows are elided */

typedef struct table_writer {
    pl_text_out out;
    pl_schema *schema;
    int64_t max_width, max_rows; /* max_rows -1 = all */
    int64_t head_want, tail_want;
    pl_batch **head, **tail;
    int64_t n_head, n_tail, cap_head, cap_tail, tail_first; /* tail is tail[tail_first..n_tail) */
    int64_t head_rows, tail_rows, total_rows;
    bool finished;
} table_writer;

static pl_status push(pl_batch ***v, int64_t *n, int64_t *cap, pl_batch *b, pl_error *err) {
    if (*n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 16;
        pl_batch **nv = pl_realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = pl_batch_retain(b);
    return PL_OK;
}

static pl_status table_write(pl_writer *pw, pl_batch *b, pl_error *err) {
    table_writer *w = pw->impl;
    if (w->finished) PL_FAIL(err, PL_ERR_INVALID_ARG, "write after finish");
    if (b->n_cols != w->schema->n_fields)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "batch has %d columns, the writer's schema %d", b->n_cols,
                w->schema->n_fields);
    if (b->n_rows == 0) return PL_OK;
    w->total_rows += b->n_rows;
    if (w->max_rows < 0 || w->head_rows < w->head_want) {
        PL_TRY(push(&w->head, &w->n_head, &w->cap_head, b, err));
        w->head_rows += b->n_rows;
        return PL_OK;
    }
    PL_TRY(push(&w->tail, &w->n_tail, &w->cap_tail, b, err));
    w->tail_rows += b->n_rows;
    while (w->tail_first < w->n_tail &&
           w->tail_rows - w->tail[w->tail_first]->n_rows >= w->tail_want) {
        w->tail_rows -= w->tail[w->tail_first]->n_rows;
        pl_batch_release(w->tail[w->tail_first]);
        w->tail[w->tail_first++] = NULL;
    }
    /* compact the tail vector now and then */
    if (w->tail_first > 64 && w->tail_first * 2 > w->n_tail) {
        memmove(w->tail, w->tail + w->tail_first,
                (size_t)(w->n_tail - w->tail_first) * sizeof *w->tail);
        w->n_tail -= w->tail_first;
        w->tail_first = 0;
    }
    return PL_OK;
}

/* Batch and local row of global row g among the retained batches. */
static bool locate(const table_writer *w, int64_t g, const pl_batch **b, int64_t *local) {
    int64_t at = 0;
    for (int64_t k = 0; k < w->n_head; k++) {
        if (g < at + w->head[k]->n_rows) {
            *b = w->head[k];
            *local = g - at;
            return true;
        }
        at += w->head[k]->n_rows;
    }
    at = w->total_rows - w->tail_rows;
    for (int64_t k = w->tail_first; k < w->n_tail; k++) {
        if (g >= at && g < at + w->tail[k]->n_rows) {
            *b = w->tail[k];
            *local = g - at;
            return true;
        }
        at += w->tail[k]->n_rows;
    }
    return false;
}

typedef struct cell {
    int64_t off, len, width; /* into the text pool */
} cell;

static bool is_numeric(const pl_type *t) {
    if (t->id == PL_TYPE_DICTIONARY && t->value_type) t = t->value_type;
    return (t->id >= PL_TYPE_INT8 && t->id <= PL_TYPE_DECIMAL128);
}

/* Appends text made safe for one table line (control bytes escaped), cut to max_w cells with
 * an ellipsis; returns the cell. */
static pl_status add_cell(pl_strbuf *pool, const char *s, int64_t n, int64_t max_w, cell *c,
                          pl_error *err) {
    c->off = pool->len;
    int64_t w = 0;
    for (int64_t k = 0; k < n;) {
        unsigned char ch = (unsigned char)s[k];
        char esc[8];
        const char *piece = s + k;
        int64_t plen = 1;
        if (ch < 0x20 || ch == 0x7F) {
            static const char k_hex[] = "0123456789abcdef";
            if (ch == '\n') memcpy(esc, "\\n", 3);
            else if (ch == '\t') memcpy(esc, "\\t", 3);
            else if (ch == '\r') memcpy(esc, "\\r", 3);
            else {
                esc[0] = '\\';
                esc[1] = 'x';
                esc[2] = k_hex[ch >> 4];
                esc[3] = k_hex[ch & 15];
                esc[4] = '\0';
            }
            piece = esc;
            plen = (int64_t)strlen(esc);
            k++;
        } else {
            plen = ch < 0x80 ? 1 : (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 1;
            if (plen > n - k) plen = n - k;
            k += plen;
        }
        int64_t pw = pl_text_display_width(piece, plen);
        if (w + pw > max_w - 1 && (k < n || w + pw > max_w)) {
            PL_TRY(pl_strbuf_append(pool, "\xE2\x80\xA6", 3, err)); /* … */
            w++;
            break;
        }
        PL_TRY(pl_strbuf_append(pool, piece, plen, err));
        w += pw;
    }
    c->len = pool->len - c->off;
    c->width = w;
    return PL_OK;
}

static pl_status put_rep(pl_strbuf *b, const char *s, int64_t times, pl_error *err) {
    int64_t n = (int64_t)strlen(s);
    for (int64_t k = 0; k < times; k++) PL_TRY(pl_strbuf_append(b, s, n, err));
    return PL_OK;
}

/* One padded cell: align 'l', 'r' or 'c'. */
static pl_status put_cell(pl_strbuf *b, const char *s, int64_t len, int64_t width, int64_t col_w,
                          char align, pl_error *err) {
    int64_t pad = col_w - width;
    int64_t left = align == 'r' ? pad : align == 'c' ? pad / 2 : 0;
    PL_TRY(pl_strbuf_append(b, " ", 1, err));
    PL_TRY(put_rep(b, " ", left, err));
    PL_TRY(pl_strbuf_append(b, s, len, err));
    PL_TRY(put_rep(b, " ", pad - left, err));
    return pl_strbuf_append(b, " ", 1, err);
}

static pl_status put_rule(pl_strbuf *b, const int64_t *widths, int32_t n, const char *l,
                          const char *mid, const char *r, pl_error *err) {
    PL_TRY(pl_strbuf_append(b, l, (int64_t)strlen(l), err));
    for (int32_t c = 0; c < n; c++) {
        if (c) PL_TRY(pl_strbuf_append(b, mid, (int64_t)strlen(mid), err));
        PL_TRY(put_rep(b, "\xE2\x94\x80", widths[c] + 2, err)); /* ─ */
    }
    PL_TRY(pl_strbuf_append(b, r, (int64_t)strlen(r), err));
    return pl_strbuf_append(b, "\n", 1, err);
}

#define V_BAR "\xE2\x94\x82" /* │ */

static pl_status render(table_writer *w, pl_error *err) {
    pl_strbuf *b = &w->out.buf;
    const pl_schema *s = w->schema;
    int32_t n_cols = s->n_fields;
    int64_t total = w->total_rows;
    bool cut_rows = w->max_rows >= 0 && total > w->max_rows;
    int64_t n_head = cut_rows ? w->head_want : total;
    int64_t n_tail = cut_rows ? w->tail_want : 0;
    int64_t n_shown = n_head + n_tail;
    char foot[160];
    if (n_cols == 0) {
        snprintf(foot, sizeof foot, "(no columns) %lld row%s\n", (long long)total,
                 total == 1 ? "" : "s");
        return pl_strbuf_append(b, foot, (int64_t)strlen(foot), err);
    }

    /* render every cell of every column into a pool */
    pl_strbuf pool = {0}, tmp = {0};
    int64_t n_lines = n_shown + 2; /* name, type, rows */
    cell *cells = pl_calloc((size_t)(n_lines * n_cols), sizeof *cells);
    int64_t *col_w = pl_calloc((size_t)n_cols, sizeof *col_w);
    int32_t *vis = pl_calloc((size_t)n_cols + 1, sizeof *vis);
    int64_t *vis_w = pl_calloc((size_t)n_cols + 1, sizeof *vis_w);
    pl_status st = PL_OK;
    if (!cells || !col_w || !vis || !vis_w) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int32_t c = 0; c < n_cols && !st; c++) {
        char tb[128];
        const char *name = s->fields[c].name ? s->fields[c].name : "";
        st = add_cell(&pool, name, (int64_t)strlen(name), TABLE_MAX_CELL, &cells[c], err);
        pl_type_to_string(s->fields[c].type, tb, sizeof tb);
        if (!st) st = add_cell(&pool, tb, (int64_t)strlen(tb), TABLE_MAX_CELL, &cells[n_cols + c], err);
    }
    for (int64_t r = 0; r < n_shown && !st; r++) {
        int64_t g = r < n_head ? r : total - n_tail + (r - n_head);
        const pl_batch *bt;
        int64_t local;
        if (!locate(w, g, &bt, &local)) {
            st = pl_error_set(err, PL_ERR_INTERNAL, "table row %lld not retained", (long long)g);
            break;
        }
        for (int32_t c = 0; c < n_cols && !st; c++) {
            cell *ce = &cells[(r + 2) * n_cols + c];
            const pl_array *a = bt->columns[c];
            if (pl_text_is_null(a, local)) {
                st = add_cell(&pool, "NULL", 4, TABLE_MAX_CELL, ce, err);
                continue;
            }
            tmp.len = 0;
            st = pl_text_format_value(a, local, PL_TEXT_PLAIN, &tmp, err);
            if (!st) st = add_cell(&pool, tmp.data ? tmp.data : "", tmp.len, TABLE_MAX_CELL, ce, err);
        }
    }
    if (st) goto done;
    for (int64_t l = 0; l < n_lines; l++)
        for (int32_t c = 0; c < n_cols; c++) col_w[c] = PL_MAX(col_w[c], cells[l * n_cols + c].width);
    for (int32_t c = 0; c < n_cols; c++) col_w[c] = PL_MAX(col_w[c], 1);

    /* choose visible columns: from both ends inwards while they fit */
    int64_t max_w = w->max_width;
    int64_t full = 1;
    for (int32_t c = 0; c < n_cols; c++) full += col_w[c] + 3;
    int32_t n_vis = 0, n_left = 0, n_right = 0;
    bool cut_cols = full > max_w && n_cols > 1;
    if (!cut_cols) {
        for (int32_t c = 0; c < n_cols; c++) vis[n_vis++] = c;
    } else {
        int64_t used = 1 + 4; /* border and the "…" column */
        int32_t lo = 0, hi = n_cols - 1;
        bool take_left = true;
        while (lo <= hi) {
            int32_t c = take_left ? lo : hi;
            if (used + col_w[c] + 3 > max_w && (n_left + n_right) > 0) break;
            used += col_w[c] + 3;
            if (take_left) lo++, n_left++;
            else hi--, n_right++;
            take_left = !take_left;
        }
        for (int32_t c = 0; c < n_left; c++) vis[n_vis++] = c;
        vis[n_vis++] = -1;
        for (int32_t c = n_cols - n_right; c < n_cols; c++) vis[n_vis++] = c;
    }
    for (int32_t v = 0; v < n_vis; v++) vis_w[v] = vis[v] < 0 ? 1 : col_w[vis[v]];

    /* footer lines; widen the last column if one does not fit */
    char foot2[96] = "";
    int n_foot = 0, n_foot2 = 0;
    if (cut_rows || cut_cols) {
        if (cut_rows)
            n_foot = snprintf(foot, sizeof foot, "%lld rows (%lld shown)", (long long)total,
                              (long long)n_shown);
        else
            n_foot = snprintf(foot, sizeof foot, "%lld row%s", (long long)total,
                              total == 1 ? "" : "s");
        if (cut_cols)
            n_foot2 = snprintf(foot2, sizeof foot2, "%d columns (%d shown)", n_cols,
                               n_left + n_right);
        int64_t inner = -3;
        for (int32_t v = 0; v < n_vis; v++) inner += vis_w[v] + 3;
        int64_t need = PL_MAX(n_foot, n_foot2);
        if (need > inner) vis_w[n_vis - 1] += need - inner;
    }

    st = put_rule(b, vis_w, n_vis, "\xE2\x94\x8C", "\xE2\x94\xAC", "\xE2\x94\x90", err); /* ┌┬┐ */
    for (int64_t l = 0; l <= n_lines && !st; l++) {
        bool dots_here = cut_rows && l == n_head + 2;
        for (int d = 0; dots_here && d < TABLE_DOT_ROWS && !st; d++) {
            st = pl_strbuf_append(b, V_BAR, 3, err);
            for (int32_t v = 0; v < n_vis && !st; v++) {
                char align = vis[v] >= 0 && is_numeric(s->fields[vis[v]].type) ? 'r' : 'l';
                st = put_cell(b, "\xC2\xB7", 2, 1, vis_w[v], align, err); /* · */
                if (!st) st = pl_strbuf_append(b, V_BAR, 3, err);
            }
            if (!st) st = pl_strbuf_append(b, "\n", 1, err);
        }
        if (st || l == n_lines) break;
        if (l == 2) st = put_rule(b, vis_w, n_vis, "\xE2\x94\x9C", "\xE2\x94\xBC", "\xE2\x94\xA4", err);
        st = st ? st : pl_strbuf_append(b, V_BAR, 3, err);
        for (int32_t v = 0; v < n_vis && !st; v++) {
            int32_t c = vis[v];
            if (c < 0) {
                st = put_cell(b, "\xE2\x80\xA6", 3, 1, vis_w[v], 'c', err);
            } else {
                const cell *ce = &cells[l * n_cols + c];
                char align = l < 2 ? 'c' : is_numeric(s->fields[c].type) ? 'r' : 'l';
                st = put_cell(b, pool.data + ce->off, ce->len, ce->width, vis_w[v], align, err);
            }
            if (!st) st = pl_strbuf_append(b, V_BAR, 3, err);
        }
        if (!st) st = pl_strbuf_append(b, "\n", 1, err);
        if (!st) st = pl_text_out_flush(&w->out, false, err);
    }
    if (st) goto done;
    if (n_lines == 2) /* no rows: close under the header */
        st = put_rule(b, vis_w, n_vis, "\xE2\x94\x9C", "\xE2\x94\xBC", "\xE2\x94\xA4", err);
    if (!st && n_foot) {
        int64_t inner = -3;
        for (int32_t v = 0; v < n_vis; v++) inner += vis_w[v] + 3;
        st = put_rule(b, vis_w, n_vis, "\xE2\x94\x9C", "\xE2\x94\xB4", "\xE2\x94\xA4", err);
        if (!st) st = pl_strbuf_append(b, V_BAR, 3, err);
        if (!st) st = put_cell(b, foot, n_foot, n_foot, inner, 'l', err);
        if (!st) st = pl_strbuf_append(b, V_BAR "\n", 4, err);
        if (!st && n_foot2) {
            st = pl_strbuf_append(b, V_BAR, 3, err);
            if (!st) st = put_cell(b, foot2, n_foot2, n_foot2, inner, 'l', err);
            if (!st) st = pl_strbuf_append(b, V_BAR "\n", 4, err);
        }
        int64_t one = inner;
        if (!st) st = put_rule(b, &one, 1, "\xE2\x94\x94", "", "\xE2\x94\x98", err);
    } else if (!st) {
        st = put_rule(b, vis_w, n_vis, "\xE2\x94\x94", "\xE2\x94\xB4", "\xE2\x94\x98", err);
    }
done:
    pl_strbuf_reset(&pool);
    pl_strbuf_reset(&tmp);
    pl_free(cells);
    pl_free(col_w);
    pl_free(vis);
    pl_free(vis_w);
    return st;
}

static pl_status table_finish(pl_writer *pw, pl_error *err) {
    table_writer *w = pw->impl;
    if (w->finished) return PL_OK;
    w->finished = true;
    PL_TRY(render(w, err));
    return pl_text_out_close(&w->out, err);
}

static void table_free(pl_writer *pw) {
    if (!pw) return;
    table_writer *w = pw->impl;
    if (w) {
        for (int64_t k = 0; k < w->n_head; k++) pl_batch_release(w->head[k]);
        for (int64_t k = w->tail_first; k < w->n_tail; k++) pl_batch_release(w->tail[k]);
        pl_free(w->head);
        pl_free(w->tail);
        pl_text_out_reset(&w->out);
        pl_schema_release(w->schema);
        pl_free(w);
    }
    pl_free(pw);
}

pl_status pl_table_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                               pl_writer **out, pl_error *err) {
    pl_write_opts defaults;
    if (!opts) {
        pl_write_opts_init(&defaults);
        opts = &defaults;
    }
    table_writer *w = pl_calloc(1, sizeof *w);
    pl_writer *pw = pl_calloc(1, sizeof *pw);
    if (!w || !pw) {
        pl_free(w);
        pl_free(pw);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_status st = pl_text_out_open(path, &w->out, err);
    if (st) {
        pl_free(w);
        pl_free(pw);
        return st;
    }
    w->max_width = opts->table_max_width;
    if (w->max_width <= 0) {
        w->max_width = TABLE_DEFAULT_WIDTH;
        struct winsize ws;
        if (isatty(w->out.fd) && ioctl(w->out.fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
            w->max_width = ws.ws_col;
    }
    w->max_rows = opts->table_max_rows == 0 ? TABLE_DEFAULT_ROWS : opts->table_max_rows;
    if (w->max_rows < -1) w->max_rows = -1;
    if (w->max_rows >= 0) {
        w->tail_want = w->max_rows / 2;
        w->head_want = w->max_rows - w->tail_want;
    }
    w->schema = pl_schema_retain(schema);
    pw->write = table_write;
    pw->finish = table_finish;
    pw->free = table_free;
    pw->impl = w;
    *out = pw;
    return PL_OK;
}
