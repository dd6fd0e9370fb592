/* metacount.c - count(*) from Parquet footers: an aggregate without keys whose every call is
 * a plain count(*) (no DISTINCT, no FILTER) over a Parquet scan with nothing that drops rows
 * (no pushed filter, no row limit, no row-group selection), reached through projections of
 * columns/literals only, becomes a one-row table holding the sum of the files' row-group row
 * counts. No page is read; the footers are decoded once here.
 *
 * Anything unusual keeps the plan as it is (the scan then reports it as before): a file that
 * cannot be opened, files whose schemas differ from the first one's, a footer whose num_rows
 * disagrees with its row groups. */
#include <stdio.h>

#include "plan/plan.h"
#include "polaroid/parquet.h"

static bool plain_count_star(const pl_expr *e) {
    return e && e->kind == PL_EXPR_AGG && e->n_args == 0 && !e->distinct && !e->filter &&
           e->n_order == 0 && e->name && strcmp(e->name, "count") == 0;
}

/* The scan under d's projections when they only pass columns/literals; else NULL. */
static const pl_df *plain_scan_below(const pl_df *d) {
    while (d->kind == PL_PLAN_PROJECT) {
        for (int32_t i = 0; i < d->n_exprs; i++)
            if (d->exprs[i]->kind != PL_EXPR_COLUMN && d->exprs[i]->kind != PL_EXPR_LITERAL)
                return NULL;
        d = d->inputs[0];
    }
    if (d->kind != PL_PLAN_SCAN || d->format != PL_FORMAT_PARQUET || d->scan_filter ||
        d->scan_limit >= 0 || d->read_opts.n_row_groups > 0 || d->read_opts.row_groups ||
        d->read_opts.limit >= 0 || d->n_paths <= 0)
        return NULL;
    return d;
}

/* Sum of the files' row counts; *ok false when the footers cannot answer. */
static void footer_rows(const pl_df *scan, int64_t *rows, bool *ok) {
    *ok = false;
    int64_t total = 0;
    pl_pq_file *first = NULL;
    for (int32_t i = 0; i < scan->n_paths; i++) {
        pl_pq_file *f = NULL;
        pl_error e2;
        pl_error_init(&e2);
        if (pl_pq_file_open(scan->paths[i], &f, &e2)) goto done;
        const pl_pq_metadata *md = pl_pq_file_metadata(f);
        bool good = true;
        if (first && !pl_schema_equals(pl_pq_file_schema(first), pl_pq_file_schema(f)))
            good = false;
        int64_t n = 0;
        for (int32_t g = 0; g < md->n_row_groups && good; g++) {
            int64_t r = md->row_groups[g].num_rows;
            if (r < 0 || __builtin_add_overflow(n, r, &n)) good = false;
        }
        if (good && n != md->num_rows) good = false;
        if (good && __builtin_add_overflow(total, n, &total)) good = false;
        if (!first) first = f;
        else pl_pq_file_close(f);
        if (!good) goto done;
    }
    *rows = total;
    *ok = true;
done:
    pl_pq_file_close(first);
}

static pl_status make_table(const pl_df *agg, int64_t rows, int32_t n_files, pl_df **out,
                            pl_error *err) {
    int32_t n = agg->schema->n_fields;
    pl_array **cols = pl_calloc((size_t)PL_MAX(n, 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory counting Parquet rows");
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        pl_builder *b = NULL;
        st = pl_builder_new(agg->schema->fields[i].type, 1, &b, err);
        if (!st) st = pl_builder_append_i64(b, rows, err);
        if (!st) st = pl_builder_finish(b, &cols[i], err);
        pl_builder_free(b);
    }
    pl_batch *batch = NULL;
    pl_table *t = NULL;
    if (!st) {
        st = pl_batch_new(pl_schema_retain(agg->schema), 1, cols, &batch, err);
    } else {
        for (int32_t i = 0; i < n; i++) pl_array_release(cols[i]);
    }
    pl_free(cols);
    if (!st) st = pl_table_new(agg->schema, &t, err);
    if (!st) st = pl_table_append(t, batch, err);
    pl_batch_release(batch);
    pl_df *d = NULL;
    if (!st) st = pl_df_from_table(t, &d, err);
    pl_table_release(t);
    if (!st && agg->qualifiers) {
        d->qualifiers = pl_calloc((size_t)PL_MAX(n, 1), sizeof(char *));
        if (!d->qualifiers) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory counting Parquet rows");
        for (int32_t i = 0; i < n && !st; i++)
            if (agg->qualifiers[i] && !(d->qualifiers[i] = pl_strdup(agg->qualifiers[i])))
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory counting Parquet rows");
    }
    if (!st) {
        char note[96];
        snprintf(note, sizeof note, "count(*) from Parquet footers of %d file%s", n_files,
                 n_files == 1 ? "" : "s");
        if (!(d->table_note = pl_strdup(note)))
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory counting Parquet rows");
    }
    if (st) {
        pl_df_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

pl_status pl_plan_count_from_metadata(pl_df **slot, pl_error *err) {
    pl_df *d = *slot;
    for (int32_t i = 0; i < d->n_inputs; i++)
        PL_TRY(pl_plan_count_from_metadata(&d->inputs[i], err));
    if (d->kind != PL_PLAN_AGGREGATE || d->n_keys != 0 || d->n_exprs <= 0 ||
        d->schema->n_fields != d->n_exprs)
        return PL_OK;
    for (int32_t i = 0; i < d->n_exprs; i++) {
        if (!plain_count_star(d->exprs[i])) return PL_OK;
        if (d->schema->fields[i].type->id != PL_TYPE_INT64) return PL_OK;
    }
    const pl_df *scan = plain_scan_below(d->inputs[0]);
    if (!scan) return PL_OK;
    int64_t rows = 0;
    bool ok = false;
    footer_rows(scan, &rows, &ok);
    if (!ok) return PL_OK;
    pl_df *t = NULL;
    PL_TRY(make_table(d, rows, scan->n_paths, &t, err));
    *slot = t;
    pl_df_release(d);
    return PL_OK;
}
