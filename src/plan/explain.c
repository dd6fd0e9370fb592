/* explain.c - plans as indented text (EXPLAIN), optionally annotated with the rows and time
 * each operator produced (EXPLAIN ANALYZE). */
#include <stdarg.h>
#include <stdio.h>

#include "plan/plan.h"

typedef struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
} sbuf;

static void PL_PRINTF(2, 3) put(sbuf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *s = pl_realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static const char *expr_str(const pl_expr *e, char *buf, size_t n) {
    return pl_expr_to_string(e, buf, n);
}

static const char *join_name(pl_join_type t) {
    switch (t) {
    case PL_JOIN_INNER: return "INNER";
    case PL_JOIN_LEFT: return "LEFT";
    case PL_JOIN_RIGHT: return "RIGHT";
    case PL_JOIN_FULL: return "FULL";
    case PL_JOIN_SEMI: return "SEMI";
    case PL_JOIN_ANTI: return "ANTI";
    case PL_JOIN_CROSS: return "CROSS";
    case PL_JOIN_ASOF: return "INNER";
    case PL_JOIN_ASOF_LEFT: return "LEFT";
    }
    return "?";
}

static const char *format_name(pl_format f) {
    switch (f) {
    case PL_FORMAT_PARQUET: return "parquet";
    case PL_FORMAT_CSV: return "csv";
    case PL_FORMAT_IPC: return "arrow";
    case PL_FORMAT_JSON: return "json";
    default: return "file";
    }
}

static void node_text(sbuf *b, const pl_df *d) {
    char buf[1024];
    switch (d->kind) {
    case PL_PLAN_SCAN:
        put(b, "SCAN %s '%s'", format_name(d->format), d->n_paths ? d->paths[0] : "");
        if (d->n_paths > 1) put(b, " (+%d files)", d->n_paths - 1);
        if (d->n_cols >= 0) {
            put(b, " columns [");
            for (int32_t i = 0; i < d->n_cols; i++)
                put(b, "%s%s", i ? ", " : "", d->file_schema->fields[d->cols[i]].name);
            put(b, "]");
        }
        if (d->scan_filter) put(b, " filter %s", expr_str(d->scan_filter, buf, sizeof buf));
        if (d->read_opts.n_row_groups > 0) put(b, " row groups %d", d->read_opts.n_row_groups);
        if (d->scan_limit >= 0) put(b, " limit %lld", (long long)d->scan_limit);
        break;
    case PL_PLAN_TABLE:
        if (d->is_range) {
            pl_range_describe(d, buf, sizeof buf);
            put(b, "%s", buf);
            break;
        }
        put(b, "TABLE (%lld rows)", (long long)d->table->n_rows);
        if (d->table_note) put(b, " %s", d->table_note);
        break;
    case PL_PLAN_FILTER: put(b, "FILTER %s", expr_str(d->pred, buf, sizeof buf)); break;
    case PL_PLAN_PROJECT:
        put(b, "PROJECT ");
        for (int32_t i = 0; i < d->n_exprs; i++) {
            const char *nm = d->schema->fields[i].name;
            expr_str(d->exprs[i], buf, sizeof buf);
            if (strcmp(buf, nm) == 0) put(b, "%s%s", i ? ", " : "", buf);
            else put(b, "%s%s AS %s", i ? ", " : "", buf, nm);
        }
        break;
    case PL_PLAN_AGGREGATE:
        put(b, "AGGREGATE");
        if (d->n_keys) {
            put(b, " BY ");
            for (int32_t i = 0; i < d->n_keys; i++)
                put(b, "%s%s", i ? ", " : "", expr_str(d->keys[i], buf, sizeof buf));
        }
        put(b, ": ");
        for (int32_t i = 0; i < d->n_exprs; i++)
            put(b, "%s%s", i ? ", " : "", expr_str(d->exprs[i], buf, sizeof buf));
        break;
    case PL_PLAN_JOIN:
        if (d->join_type == PL_JOIN_ASOF || d->join_type == PL_JOIN_ASOF_LEFT) {
            static const char *const ops[] = {">=", ">", "<=", "<"};
            put(b, "ASOF JOIN %s", join_name(d->join_type));
            for (int32_t i = 0; i < d->n_keys; i++) {
                put(b, "%s%s", i ? " AND " : " ON ", expr_str(d->keys[i], buf, sizeof buf));
                put(b, " %s %s", i + 1 < d->n_keys ? "=" : ops[d->asof_cmp],
                    expr_str(d->right_keys[i], buf, sizeof buf));
            }
            break;
        }
        put(b, "HASH JOIN %s", join_name(d->join_type));
        for (int32_t i = 0; i < d->n_keys; i++) {
            put(b, "%s%s", i ? " AND " : " ON ", expr_str(d->keys[i], buf, sizeof buf));
            put(b, " %s %s", d->key_ne && d->key_ne[i] ? "IS NOT DISTINCT FROM" : "=",
                expr_str(d->right_keys[i], buf, sizeof buf));
        }
        if (d->residual) put(b, " WHERE %s", expr_str(d->residual, buf, sizeof buf));
        put(b, " (build: %s)", d->build_left ? "left" : "right");
        break;
    case PL_PLAN_SORT:
        put(b, d->limit >= 0 ? "TOP-N" : "SORT");
        for (int32_t i = 0; i < d->n_keys; i++)
            put(b, "%s%s %s NULLS %s", i ? ", " : " ", expr_str(d->sort_keys[i].expr, buf, sizeof buf),
                d->sort_keys[i].descending ? "DESC" : "ASC", d->sort_keys[i].nulls_first ? "FIRST" : "LAST");
        if (d->limit >= 0) put(b, " LIMIT %lld OFFSET %lld", (long long)d->limit, (long long)d->offset);
        break;
    case PL_PLAN_LIMIT:
        put(b, "LIMIT %lld", (long long)d->limit);
        if (d->offset) put(b, " OFFSET %lld", (long long)d->offset);
        break;
    case PL_PLAN_DISTINCT: put(b, "DISTINCT"); break;
    case PL_PLAN_UNION: put(b, "UNION ALL"); break;
    case PL_PLAN_SETOP: put(b, "SETOP"); break;
    case PL_PLAN_UNNEST:
        put(b, "UNNEST ");
        for (int32_t i = 0; i < d->n_exprs; i++)
            put(b, "%s%s", i ? ", " : "", expr_str(d->exprs[i], buf, sizeof buf));
        break;
    case PL_PLAN_WINDOW:
        put(b, "WINDOW ");
        for (int32_t i = 0; i < d->n_exprs; i++)
            put(b, "%s%s", i ? ", " : "", expr_str(d->exprs[i], buf, sizeof buf));
        break;
    }
}

static void tree(sbuf *b, const pl_df *d, int depth, const pl_node_stats *stats, int32_t n_stats) {
    put(b, "%*s", depth * 2, "");
    node_text(b, d);
    for (int32_t i = 0; i < n_stats; i++) {
        if (stats[i].node != d) continue;
        int64_t rows = stats[i].rows ? __atomic_load_n(stats[i].rows, __ATOMIC_RELAXED) : -1;
        int64_t ns = stats[i].time_ns ? __atomic_load_n(stats[i].time_ns, __ATOMIC_RELAXED) : -1;
        put(b, "  [rows=%lld", (long long)rows);
        if (ns >= 0) put(b, ", time=%.3f ms", (double)ns / 1e6);
        put(b, "]");
        break;
    }
    put(b, "\n");
    for (int32_t i = 0; i < d->n_inputs; i++) tree(b, d->inputs[i], depth + 1, stats, n_stats);
}

pl_status pl_plan_explain_stats(pl_df *df, const pl_node_stats *stats, int32_t n_stats,
                                int64_t total_ns, char **out, pl_error *err);

pl_status pl_plan_explain_stats(pl_df *df, const pl_node_stats *stats, int32_t n_stats,
                                int64_t total_ns, char **out, pl_error *err) {
    sbuf b = {0};
    tree(&b, df, 0, stats, n_stats);
    if (total_ns >= 0) put(&b, "total time: %.3f ms\n", (double)total_ns / 1e6);
    if (b.oom || !b.s) {
        pl_free(b.s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory printing a plan");
    }
    *out = b.s;
    return PL_OK;
}

pl_status pl_plan_explain(pl_df *df, char **out, pl_error *err) {
    return pl_plan_explain_stats(df, NULL, 0, -1, out, err);
}

pl_status pl_df_explain(pl_df *df, bool optimized, char **out, pl_error *err) {
    if (!optimized) return pl_plan_explain(df, out, err);
    pl_df *o = NULL;
    PL_TRY(pl_plan_optimize(df, &o, err));
    pl_status st = pl_plan_explain(o, out, err);
    pl_df_release(o);
    return st;
}
