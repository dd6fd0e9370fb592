/* monadic_pipeline.c - a pipeline of fallible steps with early error return: each step runs only
 * if every step before it succeeded (Rust's `?`, the Python client's Result.and_then), the first
 * error is the pipeline's result, and the cleanup at the end releases whatever was made.
 *
 * The steps: per-symbol volume of a file (SQL, on the server or the embedded engine), then the
 * embedded engine's DataFrame API on that result in this process (filter, sort, limit: the
 * top 3 symbols), then a check of the answer.
 *
 *   build/examples/monadic_pipeline [--server ADDR] [--files F...]
 */
#include <stdio.h>

#include "common.h"

/* Runs expr only while st is PL_OK: st = st ? st : expr, naming the step for the error report. */
#define AND_THEN(st, step_name, expr)                                                              \
    do {                                                                                           \
        if ((st) == PL_OK) {                                                                       \
            *step = (step_name);                                                                   \
            (st) = (expr);                                                                         \
        }                                                                                          \
    } while (0)

static pl_status check_sorted(const pl_table *t, pl_error *err) {
    for (int64_t r = 1; r < t->n_rows; r++)
        if (ex_table_num(t, 1, r) > ex_table_num(t, 1, r - 1))
            return pl_error_set(err, PL_ERR_INTERNAL, "row %lld is out of order", (long long)r);
    if (t->n_rows == 0) return pl_error_set(err, PL_ERR_NOT_FOUND, "no symbol traded");
    return PL_OK;
}

static pl_status top_symbols(ex_ctx *x, const char *path, int k, pl_table **out,
                             const char **step, pl_error *err) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT symbol, sum(size) AS volume FROM read_parquet('%s') GROUP BY symbol", path);
    pl_table *per_symbol = NULL, *top = NULL;
    pl_df *df = NULL, *filtered = NULL, *sorted = NULL, *limited = NULL;
    pl_expr *pred = NULL;
    pl_sort_key key = {.expr = pl_expr_col("volume"), .descending = true};
    pl_status st = PL_OK;

    AND_THEN(st, "aggregate", ex_query(x, sql, &per_symbol, err));
    AND_THEN(st, "from_table", pl_df_from_table(per_symbol, &df, err));
    AND_THEN(st, "parse", pl_sql_parse_expr("volume > 0", &pred, err));
    AND_THEN(st, "filter", pl_df_filter(df, pred, &filtered, err));
    AND_THEN(st, "sort", pl_df_sort(filtered, 1, &key, &sorted, err));
    AND_THEN(st, "limit", pl_df_limit(sorted, 0, k, &limited, err));
    AND_THEN(st, "collect", pl_df_collect(limited, NULL, &top, err));
    AND_THEN(st, "check", check_sorted(top, err));
    if (st == PL_OK) {
        *out = top; /* outputs only on success */
        top = NULL;
    }
    /* the cleanup runs on every path; releasing NULL is a no-op */
    pl_table_release(top);
    pl_df_release(limited);
    pl_df_release(sorted);
    pl_df_release(filtered);
    pl_df_release(df);
    pl_expr_release(pred);
    pl_expr_release(key.expr);
    pl_table_release(per_symbol);
    return st;
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 1};
    ex_parse_args(&x, argc, argv, "usage: monadic_pipeline [options]");
    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    int n = x.n_files < 3 ? x.n_files : 3, good = 0, failed_early = 0;
    for (int i = 0; i <= n; i++) {
        const char *path = i < n ? x.files[i] : "ticks/missing.parquet"; /* the last one fails */
        pl_table *top = NULL;
        const char *step = "";
        pl_error_init(&err);
        if (top_symbols(&x, path, 3, &top, &step, &err) == PL_OK) {
            good++;
            printf("%s:", path);
            for (int64_t r = 0; r < top->n_rows; r++) {
                int len;
                const char *sym = ex_table_str(top, 0, r, &len);
                printf(" %.*s %.0f", len, sym ? sym : "?", ex_table_num(top, 1, r));
            }
            printf("\n");
            pl_table_release(top);
        } else {
            char buf[700];
            printf("%s: failed early at step '%s' with %s\n", path, step,
                   ex_error_text(&err, buf, sizeof buf));
            failed_early += i == n;
        }
    }
    printf("%d pipelines ok, %d failed early (%s)\n", good, n + 1 - good, ex_backend_name(&x));
    ex_close(&x);
    return good == n && failed_early == 1 ? 0 : 1;
}
