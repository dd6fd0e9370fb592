/* schema.c - pl_schema: a refcounted list of fields plus key/value metadata. */
#include <string.h>

#include "core/core.h"

pl_status pl_schema_new(int32_t n_fields, const pl_field *fields, pl_schema **out, pl_error *err) {
    if (n_fields < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative field count");
    pl_schema *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a schema");
    s->refcount = 1;
    if (n_fields > 0) {
        s->fields = pl_calloc((size_t)n_fields, sizeof(pl_field));
        if (!s->fields) {
            pl_free(s);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a schema");
        }
    }
    for (int32_t i = 0; i < n_fields; i++) {
        if (pl_field_init(&s->fields[i], fields[i].name, fields[i].type, fields[i].nullable, err)) {
            s->n_fields = i;
            pl_schema_release(s);
            return PL_ERR_NOMEM;
        }
    }
    s->n_fields = n_fields;
    *out = s;
    return PL_OK;
}

pl_status pl_schema_add_meta(pl_schema *s, const char *key, const char *value, pl_error *err) {
    char **k = pl_realloc(s->meta_keys, sizeof(char *) * (size_t)(s->n_meta + 1));
    if (!k) PL_FAIL(err, PL_ERR_NOMEM, "out of memory adding metadata");
    s->meta_keys = k;
    char **v = pl_realloc(s->meta_values, sizeof(char *) * (size_t)(s->n_meta + 1));
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory adding metadata");
    s->meta_values = v;
    char *kd = pl_strdup(key ? key : ""), *vd = pl_strdup(value ? value : "");
    if (!kd || !vd) {
        pl_free(kd);
        pl_free(vd);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory adding metadata");
    }
    s->meta_keys[s->n_meta] = kd;
    s->meta_values[s->n_meta] = vd;
    s->n_meta++;
    return PL_OK;
}

int32_t pl_schema_find(const pl_schema *s, const char *name) {
    for (int32_t i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0) return i;
    return -1;
}

pl_schema *pl_schema_retain(pl_schema *s) {
    if (s) __atomic_add_fetch(&s->refcount, 1, __ATOMIC_RELAXED);
    return s;
}

void pl_schema_release(pl_schema *s) {
    if (!s) return;
    if (__atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    for (int32_t i = 0; i < s->n_fields; i++) pl_field_reset(&s->fields[i]);
    for (int32_t i = 0; i < s->n_meta; i++) {
        pl_free(s->meta_keys[i]);
        pl_free(s->meta_values[i]);
    }
    pl_free(s->meta_keys);
    pl_free(s->meta_values);
    pl_free(s->fields);
    pl_free(s);
}

bool pl_schema_equals(const pl_schema *a, const pl_schema *b) {
    if (a == b) return true;
    if (!a || !b || a->n_fields != b->n_fields) return false;
    for (int32_t i = 0; i < a->n_fields; i++) {
        if (strcmp(a->fields[i].name, b->fields[i].name)) return false;
        if (!pl_type_equals(a->fields[i].type, b->fields[i].type)) return false;
    }
    return true;
}
