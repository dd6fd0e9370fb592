/* session_keys.c - PRIMARY KEY and UNIQUE constraints of session tables: the key lists of a
 * catalog entry and the check that a table's new version has no two rows with equal keys.
 *
 * The check hashes the key columns of every row (rows with a NULL in a key column are skipped:
 * UNIQUE allows them, PRIMARY KEY columns are NOT NULL) into an open-addressing table and
 * compares rows of equal hash value by value. It runs over the whole new version (old rows
 * plus new ones), so each INSERT costs time in the table's size, not only in its own rows.
 * Messages follow DuckDB: a new row equal to an old one is `duplicate key "a: 1" violates
 * primary key constraint`, two equal new rows (or rows of an UPDATE) `PRIMARY KEY or UNIQUE
 * constraint violation: duplicate key "1"`. */
#include <stdio.h>
#include <string.h>

#include "compute/compute.h"
#include "io/text/text.h"
#include "sql/session_int.h"

pl_status pl_sql_key_add(pl_cat_key **keys, int32_t *n_keys, const int32_t *cols, int32_t n,
                         bool primary, pl_error *err) {
    pl_cat_key *v = pl_realloc(*keys, (size_t)(*n_keys + 1) * sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    *keys = v;
    int32_t *c = pl_malloc((size_t)n * sizeof *c + 1);
    if (!c) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    memcpy(c, cols, (size_t)n * sizeof *c);
    v[*n_keys] = (pl_cat_key){n, c, primary};
    (*n_keys)++;
    return PL_OK;
}

void pl_sql_keys_free(pl_cat_key *keys, int32_t n_keys) {
    for (int32_t i = 0; keys && i < n_keys; i++) pl_free(keys[i].cols);
    pl_free(keys);
}

pl_status pl_sql_keys_copy(const pl_cat_key *keys, int32_t n_keys, pl_cat_key **out, pl_error *err) {
    pl_cat_key *v = NULL;
    int32_t n = 0;
    for (int32_t i = 0; i < n_keys; i++) {
        pl_status st = pl_sql_key_add(&v, &n, keys[i].cols, keys[i].n_cols, keys[i].primary, err);
        if (st) {
            pl_sql_keys_free(v, n);
            return st;
        }
    }
    *out = v;
    return PL_OK;
}

bool pl_sql_key_of_primary(const pl_cat_key *keys, int32_t n_keys) {
    for (int32_t i = 0; i < n_keys; i++)
        if (keys[i].primary) return true;
    return false;
}

int32_t pl_sql_key_of_column(const pl_cat_key *keys, int32_t n_keys, int32_t col) {
    for (int32_t i = 0; i < n_keys; i++)
        for (int32_t k = 0; k < keys[i].n_cols; k++)
            if (keys[i].cols[k] == col) return i;
    return -1;
}

/* A row of the checked parts: a batch and a row in it. */
typedef struct key_row {
    pl_batch *b;
    int64_t row;
    bool is_old;
} key_row;

/* Open-addressing slot: the hash and the row's index in the rows vector + 1 (0 = empty). */
typedef struct key_slot {
    uint64_t hash;
    int64_t ref;
} key_slot;

static bool rows_equal(const pl_cat_key *key, const key_row *x, const key_row *y) {
    for (int32_t k = 0; k < key->n_cols; k++) {
        int32_t c = key->cols[k];
        if (!pl_array_value_equal(x->b->columns[c], x->row, y->b->columns[c], y->row)) return false;
    }
    return true;
}

/* The error for two rows with equal key. */
static pl_status duplicate(const pl_cat_key *key, const key_row *first, const key_row *second,
                           int32_t pos, pl_error *err) {
    pl_strbuf sb = {0};
    pl_status st = PL_OK;
    pl_schema *sc = second->b->schema;
    for (int32_t k = 0; st == PL_OK && k < key->n_cols; k++) {
        int32_t c = key->cols[k];
        if (k > 0) st = pl_strbuf_append(&sb, ", ", 2, err);
        if (st == PL_OK && first->is_old)
            st = pl_strbuf_appendf(&sb, err, "%s: ", sc->fields[c].name);
        if (st == PL_OK) st = pl_text_format_value(second->b->columns[c], second->row, PL_TEXT_PLAIN, &sb, err);
    }
    if (st == PL_OK) {
        const char *v = sb.data ? sb.data : "";
        if (first->is_old)
            st = pl_sql_fail_at(err, pos, PL_ERR_INVALID_ARG, "duplicate key \"%s\" violates %s constraint", v,
                                key->primary ? "primary key" : "unique");
        else
            st = pl_sql_fail_at(err, pos, PL_ERR_INVALID_ARG,
                                "PRIMARY KEY or UNIQUE constraint violation: duplicate key \"%s\"", v);
    }
    pl_strbuf_reset(&sb);
    return st;
}

/* Checks one key over the rows of old (may be NULL) and rows. */
static pl_status check_key(const pl_cat_key *key, pl_table *old, pl_table *rows, int32_t pos,
                           pl_error *err) {
    int64_t n = (old ? old->n_rows : 0) + rows->n_rows;
    if (n < 2) return PL_OK;
    size_t cap = 16;
    while (cap < (size_t)n * 2) cap <<= 1;
    key_slot *slots = pl_calloc(cap, sizeof *slots);
    key_row *refs = pl_malloc((size_t)n * sizeof *refs);
    uint64_t *hashes = NULL;
    pl_status st = slots && refs ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    int64_t n_refs = 0;
    pl_table *parts[2] = {old, rows};
    for (int p = 0; st == PL_OK && p < 2; p++) {
        for (int64_t bi = 0; st == PL_OK && parts[p] && bi < parts[p]->n_batches; bi++) {
            pl_batch *b = parts[p]->batches[bi];
            pl_free(hashes);
            hashes = pl_malloc(((size_t)b->n_rows + 1) * sizeof *hashes);
            if (!hashes) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            for (int32_t k = 0; k < key->n_cols; k++) pl_hash_array(b->columns[key->cols[k]], hashes, k > 0);
            for (int64_t i = 0; st == PL_OK && i < b->n_rows; i++) {
                bool has_null = false;
                for (int32_t k = 0; k < key->n_cols && !has_null; k++)
                    has_null = !pl_array_is_valid(b->columns[key->cols[k]], i);
                if (has_null) continue;
                refs[n_refs] = (key_row){b, i, p == 0};
                size_t at = (size_t)hashes[i] & (cap - 1);
                while (slots[at].ref) {
                    const key_row *o = &refs[slots[at].ref - 1];
                    if (slots[at].hash == hashes[i] && rows_equal(key, o, &refs[n_refs])) {
                        st = duplicate(key, o, &refs[n_refs], pos, err);
                        break;
                    }
                    at = (at + 1) & (cap - 1);
                }
                if (st) break;
                slots[at] = (key_slot){hashes[i], n_refs + 1};
                n_refs++;
            }
        }
    }
    pl_free(hashes);
    pl_free(slots);
    pl_free(refs);
    return st;
}

pl_status pl_sql_check_keys(const pl_cat_entry *e, pl_table *old, pl_table *rows, int32_t pos,
                            pl_error *err) {
    for (int32_t i = 0; i < e->n_keys; i++) PL_TRY(check_key(&e->keys[i], old, rows, pos, err));
    return PL_OK;
}
