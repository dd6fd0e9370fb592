/* batch.c - pl_batch (a schema and equally long columns) and pl_table (a schema and a list of
 * batches). Both are refcounted; a table only grows by appending whole batches. */
#include <string.h>

#include "core/core.h"

pl_status pl_batch_new(pl_schema *schema, int64_t n_rows, pl_array **columns, pl_batch **out,
                       pl_error *err) {
    int32_t n = schema ? schema->n_fields : 0;
    pl_status st = PL_OK;
    pl_batch *b = NULL;
    if (!schema) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "batch without a schema");
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
    for (int32_t i = 0; i < n; i++) pl_array_release(columns[i]);
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

void pl_table_release(pl_table *t) {
    if (!t) return;
    if (__atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int64_t i = 0; i < t->n_batches; i++) pl_batch_release(t->batches[i]);
    pl_free(t->batches);
    pl_schema_release(t->schema);
    pl_free(t);
}

pl_status pl_table_combine(pl_table *t, pl_batch **out, pl_error *err) {
    int32_t n = t->schema->n_fields;
    if (t->n_batches == 1) {
        *out = pl_batch_retain(t->batches[0]);
        return PL_OK;
    }
    pl_array **cols = pl_calloc((size_t)(n ? n : 1), sizeof(pl_array *));
    pl_array **parts = pl_calloc((size_t)(t->n_batches ? t->n_batches : 1), sizeof(pl_array *));
    pl_status st = PL_OK;
    if (!cols || !parts) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory combining a table");
        goto done;
    }
    for (int32_t c = 0; c < n; c++) {
        if (t->n_batches == 0) {
            st = pl_array_new_nulls(t->schema->fields[c].type, 0, &cols[c], err);
        } else {
            for (int64_t k = 0; k < t->n_batches; k++) parts[k] = t->batches[k]->columns[c];
            st = pl_array_concat(t->n_batches, parts, &cols[c], err);
        }
        if (st) {
            for (int32_t k = 0; k < c; k++) pl_array_release(cols[k]);
            goto done;
        }
    }
    st = pl_batch_new(pl_schema_retain(t->schema), t->n_rows, cols, out, err);
done:
    pl_free(cols);
    pl_free(parts);
    return st;
}

bool pl_table_equals(pl_table *a, pl_table *b) {
    if (!pl_schema_equals(a->schema, b->schema) || a->n_rows != b->n_rows) return false;
    pl_batch *ca = NULL, *cb = NULL;
    bool eq = false;
    if (pl_table_combine(a, &ca, NULL) || pl_table_combine(b, &cb, NULL)) goto done;
    eq = true;
    for (int32_t i = 0; i < ca->n_cols && eq; i++) eq = pl_array_equals(ca->columns[i], cb->columns[i]);
done:
    pl_batch_release(ca);
    pl_batch_release(cb);
    return eq;
}
