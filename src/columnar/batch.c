/* batch.c - pl_batch (a schema and equally long columns) and pl_table (a schema and a list of
 * batches). Both are refcounted; a table only grows by appending whole batches. Combining a
 * table concatenates its columns in parallel on the pool when the table is large; equality
 * walks both tables' batches side by side, so boundaries may differ and nothing is copied. */
#include <string.h>

#include "columnar/columnar_int.h"

/* Rows from which pl_table_combine concatenates columns on the worker pool. */
#define PL_COMBINE_PARALLEL_ROWS (1 << 16)
/* Values (rows x columns) from which pl_table_release frees batches on the worker pool. */
#define PL_RELEASE_PARALLEL_VALUES (1LL << 22)

pl_status pl_batch_new(pl_schema *schema, int64_t n_rows, pl_array **columns, pl_batch **out,
                       pl_error *err) {
    int32_t n = schema ? schema->n_fields : 0;
    pl_status st = PL_OK;
    pl_batch *b = NULL;
    if (!schema || n_rows < 0 || (n > 0 && !columns)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "batch without a schema or columns, or with negative rows");
        goto fail;
    }
    for (int32_t i = 0; i < n; i++) {
        if (!columns[i]) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "column %d is missing", i);
            goto fail;
        }
        if (columns[i]->length != n_rows) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "column \"%s\" has %lld rows, expected %lld",
                              schema->fields[i].name, (long long)columns[i]->length,
                              (long long)n_rows);
            goto fail;
        }
        if (!pl_type_equals(columns[i]->type, schema->fields[i].type)) {
            char a[128], e[128];
            st = pl_error_set(err, PL_ERR_TYPE, "column \"%s\" has type %s, schema says %s",
                              schema->fields[i].name, pl_type_to_string(columns[i]->type, a, sizeof a),
                              pl_type_to_string(schema->fields[i].type, e, sizeof e));
            goto fail;
        }
    }
    b = pl_calloc(1, sizeof *b);
    if (!b || (n > 0 && !(b->columns = pl_malloc(sizeof(pl_array *) * (size_t)n)))) {
        pl_free(b);
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory allocating a batch");
        goto fail;
    }
    if (n > 0) memcpy(b->columns, columns, sizeof(pl_array *) * (size_t)n);
    b->schema = schema;
    b->n_rows = n_rows;
    b->n_cols = n;
    b->refcount = 1;
    *out = b;
    return PL_OK;
fail:
    for (int32_t i = 0; columns && i < n; i++) pl_array_release(columns[i]);
    pl_schema_release(schema);
    return st;
}

pl_batch *pl_batch_retain(pl_batch *b) {
    if (b) __atomic_add_fetch(&b->refcount, 1, __ATOMIC_RELAXED);
    return b;
}

void pl_batch_release(pl_batch *b) {
    if (!b) return;
    if (__atomic_sub_fetch(&b->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int32_t i = 0; i < b->n_cols; i++) pl_array_release(b->columns[i]);
    pl_free(b->columns);
    pl_schema_release(b->schema);
    pl_free(b);
}

pl_status pl_batch_slice(pl_batch *b, int64_t offset, int64_t length, pl_batch **out,
                         pl_error *err) {
    if (offset < 0 || length < 0 || offset > b->n_rows || length > b->n_rows - offset)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "slice [%lld, +%lld) out of range for %lld rows",
                (long long)offset, (long long)length, (long long)b->n_rows);
    pl_array **cols = pl_calloc((size_t)(b->n_cols ? b->n_cols : 1), sizeof(pl_array *));
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory slicing a batch");
    for (int32_t i = 0; i < b->n_cols; i++) {
        pl_status st = pl_array_slice(b->columns[i], offset, length, &cols[i], err);
        if (st) {
            for (int32_t k = 0; k < i; k++) pl_array_release(cols[k]);
            pl_free(cols);
            return st;
        }
    }
    pl_status st = pl_batch_new(pl_schema_retain(b->schema), length, cols, out, err);
    pl_free(cols);
    return st;
}

pl_status pl_batch_select(pl_batch *b, int32_t n_idx, const int32_t *idx, pl_batch **out,
                          pl_error *err) {
    for (int32_t i = 0; i < n_idx; i++)
        if (idx[i] < 0 || idx[i] >= b->n_cols)
            PL_FAIL(err, PL_ERR_NOT_FOUND, "column index %d out of range (%d columns)", idx[i],
                    b->n_cols);
    pl_field *fields = pl_calloc((size_t)(n_idx ? n_idx : 1), sizeof(pl_field));
    pl_array **cols = pl_calloc((size_t)(n_idx ? n_idx : 1), sizeof(pl_array *));
    if (!fields || !cols) {
        pl_free(fields);
        pl_free(cols);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory selecting columns");
    }
    for (int32_t i = 0; i < n_idx; i++) {
        fields[i] = b->schema->fields[idx[i]];
        cols[i] = pl_array_retain(b->columns[idx[i]]);
    }
    pl_schema *s = NULL;
    pl_status st = pl_schema_new(n_idx, fields, &s, err);
    pl_free(fields);
    if (st) {
        for (int32_t i = 0; i < n_idx; i++) pl_array_release(cols[i]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(s, b->n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

/* ---------------------------------------------------------------- tables */

pl_status pl_table_new(pl_schema *schema, pl_table **out, pl_error *err) {
    pl_table *t = pl_calloc(1, sizeof *t);
    if (!t) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a table");
    t->schema = pl_schema_retain(schema);
    t->refcount = 1;
    *out = t;
    return PL_OK;
}

pl_status pl_table_append(pl_table *t, pl_batch *b, pl_error *err) {
    if (b->schema != t->schema && !pl_schema_equals(b->schema, t->schema))
        PL_FAIL(err, PL_ERR_TYPE, "batch schema differs from the table's");
    if (t->n_batches == t->cap_batches) {
        int64_t cap = t->cap_batches ? t->cap_batches * 2 : 16;
        pl_batch **nb = pl_realloc(t->batches, sizeof(pl_batch *) * (size_t)cap);
        if (!nb) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing a table");
        t->batches = nb;
        t->cap_batches = cap;
    }
    t->batches[t->n_batches++] = pl_batch_retain(b);
    t->n_rows += b->n_rows;
    return PL_OK;
}

pl_table *pl_table_retain(pl_table *t) {
    if (t) __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    return t;
}

static void release_batch_task(void *arg, int64_t i, int32_t worker) {
    (void)worker;
    pl_batch_release(((pl_table *)arg)->batches[i]);
}

void pl_table_release(pl_table *t) {
    if (!t) return;
    if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    /* Giving back a large table's pages costs the kernel ~0.3 us per 4 KiB page (0.5 s for a
     * 6 GiB table), so its batches are released on the pool: munmap frees pages under a
     * shared lock, and the threads' halves overlap. */
    if (t->n_batches > 1 && t->n_rows * (t->schema ? t->schema->n_fields : 1) >= PL_RELEASE_PARALLEL_VALUES) {
        pl_alloc_defer_unmaps(true);
        pl_parallel_for(t->n_batches, 0, release_batch_task, t);
        pl_alloc_defer_unmaps(false);
    } else
        for (int64_t i = 0; i < t->n_batches; i++) pl_batch_release(t->batches[i]);
    pl_free(t->batches);
    pl_schema_release(t->schema);
    pl_free(t);
}

typedef struct combine_job {
    pl_table *t;
    pl_array **cols;
    pl_status *st;
    pl_error *errs;
} combine_job;

static pl_status combine_column(pl_table *t, int32_t c, pl_array **out, pl_error *err) {
    if (t->n_batches == 0) return pl_array_new_nulls(t->schema->fields[c].type, 0, out, err);
    pl_array **parts = pl_malloc(sizeof(pl_array *) * (size_t)t->n_batches);
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory combining a table");
    for (int64_t k = 0; k < t->n_batches; k++) parts[k] = t->batches[k]->columns[c];
    pl_status st = pl_array_concat(t->n_batches, parts, out, err);
    pl_free(parts);
    if (st) pl_error_set_column(err, c, t->schema->fields[c].name);
    return st;
}

static void combine_task(void *arg, int64_t c, int32_t worker) {
    (void)worker;
    combine_job *job = arg;
    pl_error_init(&job->errs[c]);
    job->st[c] = combine_column(job->t, (int32_t)c, &job->cols[c], &job->errs[c]);
}

pl_status pl_table_combine(pl_table *t, pl_batch **out, pl_error *err) {
    int32_t n = t->schema->n_fields;
    if (t->n_batches == 1) {
        *out = pl_batch_retain(t->batches[0]);
        return PL_OK;
    }
    size_t n_alloc = (size_t)(n ? n : 1);
    pl_array **cols = pl_calloc(n_alloc, sizeof(pl_array *));
    pl_status *sts = pl_calloc(n_alloc, sizeof(pl_status));
    pl_error *errs = NULL;
    bool parallel = n > 1 && t->n_rows >= PL_COMBINE_PARALLEL_ROWS;
    pl_status st = PL_OK;
    if (!cols || !sts || (parallel && !(errs = pl_calloc(n_alloc, sizeof(pl_error))))) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory combining a table");
        goto done;
    }
    if (parallel) {
        combine_job job = {t, cols, sts, errs};
        pl_parallel_for(n, 0, combine_task, &job);
        for (int32_t c = 0; c < n && !st; c++) {
            st = sts[c];
            if (st && err) *err = errs[c];
        }
    } else {
        for (int32_t c = 0; c < n && !st; c++) st = combine_column(t, c, &cols[c], err);
    }
    if (st) {
        for (int32_t c = 0; c < n; c++) pl_array_release(cols[c]);
        goto done;
    }
    st = pl_batch_new(pl_schema_retain(t->schema), t->n_rows, cols, out, err);
done:
    pl_free(cols);
    pl_free(sts);
    pl_free(errs);
    return st;
}

/* Compares column c of both tables chunk by chunk: each step takes the longest run that lies
 * within the current batch of both tables. */
static bool column_equals(pl_table *a, pl_table *b, int32_t c) {
    int64_t ka = 0, kb = 0, ia = 0, ib = 0;
    for (;;) {
        while (ka < a->n_batches && ia == a->batches[ka]->n_rows) ka++, ia = 0;
        while (kb < b->n_batches && ib == b->batches[kb]->n_rows) kb++, ib = 0;
        if (ka == a->n_batches || kb == b->n_batches) return ka == a->n_batches && kb == b->n_batches;
        pl_array *xa = a->batches[ka]->columns[c], *xb = b->batches[kb]->columns[c];
        int64_t n = PL_MIN(xa->length - ia, xb->length - ib);
        if (!pl_array_range_equals(xa, ia, xb, ib, n)) return false;
        ia += n;
        ib += n;
    }
}

bool pl_table_equals(pl_table *a, pl_table *b) {
    if (a == b) return true;
    if (!a || !b || !pl_schema_equals(a->schema, b->schema) || a->n_rows != b->n_rows) return false;
    for (int32_t c = 0; c < a->schema->n_fields; c++)
        if (!column_equals(a, b, c)) return false;
    return true;
}
