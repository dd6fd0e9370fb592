/* batch.c - pl_batch (a schema and equally long columns) and pl_table (a schema and a list of
 * batches). Both are refcounted; a table only grows by appending whole batches. Combining a
 * table concatenates its columns in parallel on the pool when the table is large; equality
 * walks both tables' batches side by side, so boundaries may differ and nothing is copied. */
#include <stdio.h>
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

/* ---------------------------------------------------------------- detaching from files */

static bool buf_mapped(const pl_buf *b) { return b && pl_file_map_holds(b->data); }

static bool array_mapped(const pl_array *a) {
    if (buf_mapped(a->validity) || buf_mapped(a->values) || buf_mapped(a->data)) return true;
    for (int32_t i = 0; i < a->n_children; i++)
        if (array_mapped(a->children[i])) return true;
    return a->dictionary && array_mapped(a->dictionary);
}

/* b itself (retained), or a copy in memory when it lies in a file mapping. */
static pl_status buf_own(pl_buf *b, pl_buf **out, pl_error *err) {
    *out = NULL;
    if (!b) return PL_OK;
    if (!buf_mapped(b)) {
        *out = pl_buf_retain(b);
        return PL_OK;
    }
    pl_buf *c = NULL;
    PL_TRY(pl_buf_new(b->size > 0 ? b->size : 1, &c, err));
    if (b->size > 0) memcpy(c->data, b->data, (size_t)b->size);
    c->size = b->size;
    *out = c;
    return PL_OK;
}

static pl_status array_detach(pl_array *a, pl_array **out, pl_error *err) {
    if (!array_mapped(a)) {
        *out = pl_array_retain(a);
        return PL_OK;
    }
    pl_buf *v = NULL, *vals = NULL, *data = NULL;
    pl_array *dict = NULL, **kids = NULL;
    pl_status st = buf_own(a->validity, &v, err);
    if (!st) st = buf_own(a->values, &vals, err);
    if (!st) st = buf_own(a->data, &data, err);
    if (!st && a->dictionary) st = array_detach(a->dictionary, &dict, err);
    if (!st && a->n_children > 0 &&
        !(kids = pl_calloc((size_t)a->n_children, sizeof *kids)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory copying an array out of its file");
    for (int32_t i = 0; !st && i < a->n_children; i++) st = array_detach(a->children[i], &kids[i], err);
    if (st) {
        pl_buf_release(v);
        pl_buf_release(vals);
        pl_buf_release(data);
        if (dict) pl_array_release(dict);
        for (int32_t i = 0; kids && i < a->n_children; i++)
            if (kids[i]) pl_array_release(kids[i]);
        pl_free(kids);
        return st;
    }
    pl_array *c = pl_calloc(1, sizeof *c);
    if (!c) {
        pl_free(c);
        pl_buf_release(v);
        pl_buf_release(vals);
        pl_buf_release(data);
        if (dict) pl_array_release(dict);
        for (int32_t i = 0; kids && i < a->n_children; i++) pl_array_release(kids[i]);
        pl_free(kids);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying an array out of its file");
    }
    /* a's shape (type, offset, length, children indexed like a's) over the copied buffers */
    c->type = pl_type_retain(a->type);
    c->length = a->length;
    c->offset = a->offset;
    c->null_count = __atomic_load_n(&a->null_count, __ATOMIC_RELAXED);
    c->validity = v;
    c->values = vals;
    c->data = data;
    c->n_children = a->n_children;
    c->children = kids; /* NULL without children */
    c->dictionary = dict;
    c->refcount = 1;
    if ((st = pl_array_validate(c, true, err))) {
        pl_array_release(c);
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        return pl_error_set(err, PL_ERR_CORRUPT, "the file changed after it was read: %s", why);
    }
    *out = c;
    return PL_OK;
}

pl_status pl_array_detach_files(pl_array *a, pl_array **out, pl_error *err) {
    return array_detach(a, out, err);
}

static bool batch_mapped(const pl_batch *b) {
    for (int32_t k = 0; k < b->n_cols; k++)
        if (array_mapped(b->columns[k])) return true;
    return false;
}

pl_status pl_batch_detach_files(pl_batch *b, pl_batch **out, pl_error *err) {
    if (!batch_mapped(b)) {
        *out = pl_batch_retain(b);
        return PL_OK;
    }
    pl_array **cols = pl_calloc((size_t)(b->n_cols > 0 ? b->n_cols : 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a batch out of its file");
    pl_status st = PL_OK;
    for (int32_t k = 0; !st && k < b->n_cols; k++) st = array_detach(b->columns[k], &cols[k], err);
    if (st) {
        for (int32_t k = 0; k < b->n_cols; k++)
            if (cols[k]) pl_array_release(cols[k]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(b->schema), b->n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

pl_status pl_table_detach_files(pl_table *t, pl_table **out, pl_error *err) {
    bool any = false;
    for (int64_t i = 0; i < t->n_batches && !any; i++) any = batch_mapped(t->batches[i]);
    if (!any) {
        *out = pl_table_retain(t);
        return PL_OK;
    }
    pl_table *c = NULL;
    PL_TRY(pl_table_new(t->schema, &c, err));
    pl_status st = PL_OK;
    for (int64_t i = 0; !st && i < t->n_batches; i++) {
        pl_batch *b = NULL;
        st = pl_batch_detach_files(t->batches[i], &b, err);
        if (!st) {
            st = pl_table_append(c, b, err);
            pl_batch_release(b);
        }
    }
    if (st) {
        pl_table_release(c);
        return st;
    }
    *out = c;
    return PL_OK;
}
