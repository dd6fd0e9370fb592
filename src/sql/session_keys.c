/* session_keys.c - PRIMARY KEY and UNIQUE constraints of session tables: the key lists of a
 * catalog entry and the check that a table's new version has no two rows with equal keys.
 *
 * The check hashes the key columns of every row (rows with a NULL in a key column are skipped:
 * UNIQUE allows them, PRIMARY KEY columns are NOT NULL) into an open-addressing table and
 * compares rows of equal hash value by value. New rows are checked against the table's rows
 * through a key index kept with the catalog entry (pl_key_index: per key, the hashes and row
 * numbers of the rows), built at the first use and kept up to date by INSERT (rows are added
 * at the end, so row numbers stay) and by UPDATEs and upserts that set no key column; any other
 * change of the table drops it
 * (pl_sql_replace_table) and the next use builds it again. So an INSERT costs time in its own
 * rows, not in the table's size. UPDATE checks its whole result. The server, whose sessions last
 * one request, keeps the index with its catalog table between requests
 * (pl_session_key_index_take / _give).
 * Messages follow DuckDB: a new row equal to an old one is `duplicate key "a: 1" violates
 * primary key constraint`, two equal new rows (or rows of an UPDATE) `PRIMARY KEY or UNIQUE
 * constraint violation: duplicate key "1"`. */
#include <stdio.h>
#include <stdlib.h>
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

/* The rows seen so far with their key values hashed (rows with a NULL key are never added). */
typedef struct key_set {
    const pl_cat_key *key;
    key_slot *slots;
    size_t cap; /* power of two, > twice the rows */
    key_row *refs;
    int64_t n_refs;
    uint64_t *hashes; /* of the current batch */
} key_set;

static pl_status key_set_init(key_set *ks, const pl_cat_key *key, int64_t max_rows, pl_error *err) {
    memset(ks, 0, sizeof *ks);
    ks->key = key;
    ks->cap = 16;
    while (ks->cap < (size_t)max_rows * 2) ks->cap <<= 1;
    ks->slots = pl_calloc(ks->cap, sizeof *ks->slots);
    ks->refs = pl_malloc(((size_t)max_rows + 1) * sizeof *ks->refs);
    if (!ks->slots || !ks->refs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    return PL_OK;
}

static void key_set_reset(key_set *ks) {
    pl_free(ks->slots);
    pl_free(ks->refs);
    pl_free(ks->hashes);
    memset(ks, 0, sizeof *ks);
}

/* Hashes the key of every row of b (for key_set_probe / key_set_add of its rows). */
static pl_status key_set_batch(key_set *ks, pl_batch *b, pl_error *err) {
    pl_free(ks->hashes);
    ks->hashes = pl_malloc(((size_t)b->n_rows + 1) * sizeof *ks->hashes);
    if (!ks->hashes) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < ks->key->n_cols; k++)
        pl_hash_array(b->columns[ks->key->cols[k]], ks->hashes, k > 0);
    return PL_OK;
}

/* Row i of the hashed batch b: *slot is where it goes; the row seen before with an equal key,
 * or NULL. Rows with a NULL key return NULL with *slot = -1. */
static const key_row *key_set_probe(const key_set *ks, pl_batch *b, int64_t i, int64_t *slot) {
    *slot = -1;
    for (int32_t k = 0; k < ks->key->n_cols; k++)
        if (!pl_array_is_valid(b->columns[ks->key->cols[k]], i)) return NULL;
    key_row me = {b, i, false};
    uint64_t h = ks->hashes[i];
    size_t at = (size_t)h & (ks->cap - 1);
    while (ks->slots[at].ref) {
        const key_row *o = &ks->refs[ks->slots[at].ref - 1];
        if (ks->slots[at].hash == h && rows_equal(ks->key, o, &me)) return o;
        at = (at + 1) & (ks->cap - 1);
    }
    *slot = (int64_t)at;
    return NULL;
}

static void key_set_add(key_set *ks, pl_batch *b, int64_t i, int64_t slot, bool is_old) {
    if (slot < 0) return;
    ks->refs[ks->n_refs] = (key_row){b, i, is_old};
    ks->slots[slot] = (key_slot){ks->hashes[i], ks->n_refs + 1};
    ks->n_refs++;
}

/* ---------------------------------------------------------------- the key index */

/* One key's index over the table's rows: open addressing, (hash, row number + 1). */
typedef struct key_hash {
    key_slot *slots;
    size_t cap; /* power of two, >= 2 * n + 2 */
    int64_t n;
} key_hash;

struct pl_key_index {
    const pl_table *of; /* the table version indexed (the entry's) */
    int64_t n_rows;     /* its rows, all indexed */
    int32_t n_keys;
    key_hash *keys;  /* [n_keys], in the entry's key order */
    int64_t *starts; /* [of->n_batches + 1]: the first row number of each batch */
};

void pl_sql_key_index_free(pl_key_index *ix) {
    if (!ix) return;
    for (int32_t k = 0; ix->keys && k < ix->n_keys; k++) pl_free(ix->keys[k].slots);
    pl_free(ix->keys);
    pl_free(ix->starts);
    pl_free(ix);
}

/* Room for n_total rows in h (rehashing by the stored hashes). */
static pl_status kh_reserve(key_hash *h, int64_t n_total, pl_error *err) {
    size_t cap = h->cap ? h->cap : 16;
    while (cap < (size_t)n_total * 2 + 2) cap <<= 1;
    if (cap == h->cap) return PL_OK;
    key_slot *v = pl_calloc(cap, sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < h->cap; i++) {
        if (!h->slots[i].ref) continue;
        size_t at = (size_t)h->slots[i].hash & (cap - 1);
        while (v[at].ref) at = (at + 1) & (cap - 1);
        v[at] = h->slots[i];
    }
    pl_free(h->slots);
    h->slots = v;
    h->cap = cap;
    return PL_OK;
}

/* Points ix at t (whose first ix->n_rows rows are the ones indexed): batch starts. */
static pl_status ix_set_table(pl_key_index *ix, const pl_table *t, pl_error *err) {
    int64_t *v = pl_realloc(ix->starts, ((size_t)t->n_batches + 1) * sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    ix->starts = v;
    int64_t at = 0;
    for (int64_t b = 0; b < t->n_batches; b++) {
        v[b] = at;
        at += t->batches[b]->n_rows;
    }
    v[t->n_batches] = at;
    ix->of = t;
    return PL_OK;
}

/* Row number `row` of the indexed table as a batch and a row in it. */
static key_row ix_row(const pl_key_index *ix, int64_t row) {
    int64_t lo = 0, hi = ix->of->n_batches - 1;
    while (lo < hi) { /* the last batch starting at or before row */
        int64_t mid = (lo + hi + 1) / 2;
        if (ix->starts[mid] <= row) lo = mid;
        else hi = mid - 1;
    }
    return (key_row){ix->of->batches[lo], row - ix->starts[lo], true};
}

/* Adds the rows of `rows` (row numbers from base on) to every key of ix (rows with a NULL in
 * a key column are left out: they never clash). */
static pl_status ix_add(pl_key_index *ix, const pl_cat_entry *e, pl_table *rows, int64_t base,
                        pl_error *err) {
    uint64_t *hashes = NULL;
    pl_status st = PL_OK;
    for (int32_t ki = 0; st == PL_OK && ki < ix->n_keys; ki++) {
        const pl_cat_key *key = &e->keys[ki];
        key_hash *h = &ix->keys[ki];
        st = kh_reserve(h, h->n + rows->n_rows, err);
        int64_t row = base;
        for (int64_t bi = 0; st == PL_OK && bi < rows->n_batches; bi++) {
            pl_batch *b = rows->batches[bi];
            uint64_t *nh = pl_realloc(hashes, ((size_t)b->n_rows + 1) * sizeof *nh);
            if (!nh) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            hashes = nh;
            for (int32_t k = 0; k < key->n_cols; k++) pl_hash_array(b->columns[key->cols[k]], hashes, k > 0);
            for (int64_t i = 0; i < b->n_rows; i++, row++) {
                bool null = false;
                for (int32_t k = 0; k < key->n_cols && !null; k++)
                    null = !pl_array_is_valid(b->columns[key->cols[k]], i);
                if (null) continue;
                size_t at = (size_t)hashes[i] & (h->cap - 1);
                while (h->slots[at].ref) at = (at + 1) & (h->cap - 1);
                h->slots[at] = (key_slot){hashes[i], row + 1};
                h->n++;
            }
        }
    }
    pl_free(hashes);
    return st;
}

/* The entry's index, built now when it has none (or one of another table version). */
static pl_status ix_get(pl_cat_entry *e, pl_key_index **out, pl_error *err) {
    pl_key_index *ix = e->kidx;
    if (ix && ix->of == e->table && ix->n_rows == e->table->n_rows && ix->n_keys == e->n_keys) {
        *out = ix;
        return PL_OK;
    }
    pl_sql_key_index_free(ix);
    e->kidx = NULL;
    ix = pl_calloc(1, sizeof *ix);
    if (!ix) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    ix->n_keys = e->n_keys;
    ix->keys = pl_calloc((size_t)e->n_keys + 1, sizeof *ix->keys);
    pl_status st = ix->keys ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) st = ix_set_table(ix, e->table, err);
    if (st == PL_OK) st = ix_add(ix, e, e->table, 0, err);
    if (st) {
        pl_sql_key_index_free(ix);
        return st;
    }
    ix->n_rows = e->table->n_rows;
    e->kidx = ix;
    *out = ix;
    return PL_OK;
}

/* The row number of the indexed row whose key ki equals that of row i of b (hash h; no NULL in
 * it), or -1. */
static int64_t ix_find(const pl_key_index *ix, const pl_cat_key *key, int32_t ki, pl_batch *b,
                       int64_t i, uint64_t h) {
    const key_hash *kh = &ix->keys[ki];
    if (kh->n == 0) return -1;
    key_row me = {b, i, false};
    size_t at = (size_t)h & (kh->cap - 1);
    while (kh->slots[at].ref) {
        if (kh->slots[at].hash == h) {
            key_row o = ix_row(ix, kh->slots[at].ref - 1);
            if (rows_equal(key, &o, &me)) return kh->slots[at].ref - 1;
        }
        at = (at + 1) & (kh->cap - 1);
    }
    return -1;
}

pl_key_index *pl_sql_key_index_take(pl_cat_entry *e) {
    pl_key_index *ix = e->kidx;
    e->kidx = NULL;
    if (ix && (ix->of != e->table || ix->n_rows != e->table->n_rows || ix->n_keys != e->n_keys)) {
        pl_sql_key_index_free(ix);
        ix = NULL;
    }
    return ix;
}

void pl_sql_key_index_put(pl_cat_entry *e, pl_key_index *ix, pl_table *added) {
    if (!ix) return;
    int64_t n = ix->n_rows + (added ? added->n_rows : 0);
    if (e->kidx || ix->n_keys != e->n_keys || n != e->table->n_rows ||
        ix_set_table(ix, e->table, NULL) || (added && ix_add(ix, e, added, ix->n_rows, NULL))) {
        pl_sql_key_index_free(ix); /* built again when next needed */
        return;
    }
    ix->n_rows = n;
    e->kidx = ix;
}

int64_t pl_key_index_rows(const pl_key_index *ix) { return ix ? ix->n_rows : -1; }

void pl_key_index_free(pl_key_index *ix) { pl_sql_key_index_free(ix); }

/* ---------------------------------------------------------------- checks */

/* Checks one key over the rows of old (may be NULL) and rows (every row hashed). */
static pl_status check_key(const pl_cat_key *key, pl_table *old, pl_table *rows, int32_t pos,
                           pl_error *err) {
    int64_t n = (old ? old->n_rows : 0) + rows->n_rows;
    if (n < 2) return PL_OK;
    key_set ks;
    pl_status st = key_set_init(&ks, key, n, err);
    pl_table *parts[2] = {old, rows};
    for (int p = 0; st == PL_OK && p < 2; p++) {
        for (int64_t bi = 0; st == PL_OK && parts[p] && bi < parts[p]->n_batches; bi++) {
            pl_batch *b = parts[p]->batches[bi];
            st = key_set_batch(&ks, b, err);
            for (int64_t i = 0; st == PL_OK && i < b->n_rows; i++) {
                int64_t slot;
                const key_row *o = key_set_probe(&ks, b, i, &slot);
                if (o) st = duplicate(key, o, &(key_row){b, i, p == 0}, pos, err);
                else key_set_add(&ks, b, i, slot, p == 0);
            }
        }
    }
    key_set_reset(&ks);
    return st;
}

/* Checks key ki of e over its table (through the index) and the new rows. */
static pl_status check_key_indexed(pl_cat_entry *e, const pl_key_index *ix, int32_t ki,
                                   pl_table *rows, int32_t pos, pl_error *err) {
    const pl_cat_key *key = &e->keys[ki];
    key_set ks;
    pl_status st = key_set_init(&ks, key, rows->n_rows, err);
    for (int64_t bi = 0; st == PL_OK && bi < rows->n_batches; bi++) {
        pl_batch *b = rows->batches[bi];
        st = key_set_batch(&ks, b, err);
        for (int64_t i = 0; st == PL_OK && i < b->n_rows; i++) {
            int64_t slot;
            const key_row *o = key_set_probe(&ks, b, i, &slot);
            if (!o && slot < 0) continue; /* a NULL in the key */
            int64_t r = ix_find(ix, key, ki, b, i, ks.hashes[i]);
            key_row me = {b, i, false};
            if (r >= 0) {
                key_row old = ix_row(ix, r);
                st = duplicate(key, &old, &me, pos, err);
            } else if (o) {
                st = duplicate(key, o, &me, pos, err);
            } else {
                key_set_add(&ks, b, i, slot, false);
            }
        }
    }
    key_set_reset(&ks);
    return st;
}

pl_status pl_sql_keys_conflicts(pl_cat_entry *e, const bool *use, pl_table *rows, uint8_t **keep,
                                int64_t *n_keep, pl_error *err) {
    pl_key_index *ix = NULL;
    PL_TRY(ix_get(e, &ix, err));
    uint8_t *k = pl_malloc((size_t)rows->n_rows + 1);
    if (!k) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    memset(k, 1, (size_t)rows->n_rows + 1);
    pl_status st = PL_OK;
    /* key by key (in declaration order), each new row still kept is dropped when its key is an
     * old row's or an earlier kept new row's: DuckDB's results, e.g. (7, 7, 1), (7, 8, 8),
     * (9, 9, 8) with a primary key a, c unique and c = 1 taken keeps only (9, 9, 8) */
    for (int32_t ki = 0; st == PL_OK && ki < e->n_keys; ki++) {
        if (!use[ki]) continue;
        key_set ks;
        st = key_set_init(&ks, &e->keys[ki], rows->n_rows, err);
        int64_t row = 0;
        for (int64_t bi = 0; st == PL_OK && bi < rows->n_batches; bi++) {
            pl_batch *b = rows->batches[bi];
            st = key_set_batch(&ks, b, err);
            for (int64_t i = 0; st == PL_OK && i < b->n_rows; i++, row++) {
                int64_t slot;
                if (!k[row]) continue;
                const key_row *o = key_set_probe(&ks, b, i, &slot);
                if (!o && slot < 0) continue; /* a NULL in the key: kept */
                if (o || ix_find(ix, &e->keys[ki], ki, b, i, ks.hashes[i]) >= 0) k[row] = 0;
                else key_set_add(&ks, b, i, slot, false);
            }
        }
        key_set_reset(&ks);
    }
    if (st) {
        pl_free(k);
        return st;
    }
    int64_t cnt = 0;
    for (int64_t i = 0; i < rows->n_rows; i++) cnt += k[i];
    *keep = k;
    *n_keep = cnt;
    return PL_OK;
}

pl_status pl_sql_keys_match(pl_cat_entry *e, int32_t ki, pl_table *rows, int32_t pos,
                            int64_t **match, pl_error *err) {
    pl_key_index *ix = NULL;
    PL_TRY(ix_get(e, &ix, err));
    const pl_cat_key *key = &e->keys[ki];
    int64_t *m = pl_malloc(((size_t)rows->n_rows + 1) * sizeof *m);
    if (!m) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    key_set ks;
    pl_status st = key_set_init(&ks, key, rows->n_rows, err);
    int64_t row = 0;
    for (int64_t bi = 0; st == PL_OK && bi < rows->n_batches; bi++) {
        pl_batch *b = rows->batches[bi];
        st = key_set_batch(&ks, b, err);
        for (int64_t i = 0; st == PL_OK && i < b->n_rows; i++, row++) {
            int64_t slot;
            m[row] = -1;
            const key_row *o = key_set_probe(&ks, b, i, &slot);
            if (!o && slot < 0) continue; /* a NULL in the key */
            int64_t r = ix_find(ix, key, ki, b, i, ks.hashes[i]);
            if (r >= 0 && o) {
                st = pl_sql_fail_at(err, pos, PL_ERR_INVALID_ARG,
                                    "ON CONFLICT DO UPDATE cannot change a row twice: two new rows "
                                    "have the key of one existing row");
                if (err) snprintf(err->hint, sizeof err->hint, "insert rows with distinct keys");
            }
            m[row] = r;
            if (r >= 0 && !o) key_set_add(&ks, b, i, slot, false);
        }
    }
    key_set_reset(&ks);
    if (st) {
        pl_free(m);
        return st;
    }
    *match = m;
    return PL_OK;
}

pl_status pl_sql_check_keys(pl_cat_entry *e, pl_table *old, pl_table *rows, int32_t pos,
                            pl_error *err) {
    if (old && old == e->table && e->n_keys > 0) {
        pl_key_index *ix = NULL;
        PL_TRY(ix_get(e, &ix, err));
        for (int32_t i = 0; i < e->n_keys; i++) PL_TRY(check_key_indexed(e, ix, i, rows, pos, err));
        return PL_OK;
    }
    for (int32_t i = 0; i < e->n_keys; i++) PL_TRY(check_key(&e->keys[i], old, rows, pos, err));
    return PL_OK;
}

/* ---------------------------------------------------------------- keys as text */

/* A table's keys as text for pl_session_table_keys: per key 'P' (PRIMARY KEY) or 'U' (UNIQUE)
 * and its column indices, "P0,1;U2". */
static pl_status keys_text(const pl_cat_entry *e, char **out, pl_error *err) {
    *out = NULL;
    if (e->n_keys == 0) return PL_OK;
    size_t cap = 1;
    for (int32_t k = 0; k < e->n_keys; k++) cap += 2 + 12 * (size_t)e->keys[k].n_cols;
    char *t = pl_malloc(cap);
    if (!t) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    size_t at = 0;
    for (int32_t k = 0; k < e->n_keys; k++) {
        if (k) t[at++] = ';';
        t[at++] = e->keys[k].primary ? 'P' : 'U';
        for (int32_t j = 0; j < e->keys[k].n_cols; j++)
            at += (size_t)snprintf(t + at, cap - at, "%s%d", j ? "," : "", (int)e->keys[k].cols[j]);
    }
    t[at] = 0;
    *out = t;
    return PL_OK;
}

/* The table called name the keys functions mean: the one that is not temporary (the one
 * pl_session_add_table gives), else the temporary one; NULL when neither is a table. */
static pl_cat_entry *keys_table(pl_session *s, const char *name) {
    pl_cat_entry *e = pl_session_find_in(s, name, false);
    if (!e || e->kind != PL_CAT_TABLE) e = pl_session_find_in(s, name, true);
    return e && e->kind == PL_CAT_TABLE ? e : NULL;
}

pl_key_index *pl_session_key_index_take(pl_session *s, const char *name) {
    pl_cat_entry *e = s && name ? keys_table(s, name) : NULL;
    return e ? pl_sql_key_index_take(e) : NULL;
}

void pl_session_key_index_give(pl_session *s, const char *name, pl_key_index *ix) {
    pl_cat_entry *e = s && name ? keys_table(s, name) : NULL;
    if (e) pl_sql_key_index_put(e, ix, NULL);
    else pl_sql_key_index_free(ix);
}

pl_status pl_session_table_keys(pl_session *s, const char *name, char **out, pl_error *err) {
    if (!s || !name || !out) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_session_table_keys needs a name");
    *out = NULL;
    pl_cat_entry *e = keys_table(s, name);
    if (!e) PL_FAIL(err, PL_ERR_NOT_FOUND, "no table \"%s\"", name);
    return keys_text(e, out, err);
}

pl_status pl_session_object_keys(const pl_session *s, int32_t i, char **out, pl_error *err) {
    if (!s || !out || i < 0 || i >= s->n_ents || s->ents[i].kind != PL_CAT_TABLE)
        PL_FAIL(err, PL_ERR_NOT_FOUND, "catalog entry %d is not a table", (int)i);
    return keys_text(&s->ents[i], out, err);
}

pl_status pl_session_set_table_keys(pl_session *s, const char *name, const char *keys,
                                    pl_error *err) {
    if (!s || !name) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_session_set_table_keys needs a name");
    pl_cat_entry *e = keys_table(s, name);
    if (!e) PL_FAIL(err, PL_ERR_NOT_FOUND, "no table \"%s\"", name);
    pl_cat_key *v = NULL;
    int32_t n = 0;
    pl_status st = PL_OK;
    int32_t n_fields = e->table->schema->n_fields;
    int32_t *cols = pl_malloc((size_t)(n_fields > 0 ? n_fields : 1) * sizeof *cols);
    if (!cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (const char *p = keys; !st && p && *p;) {
        bool primary = *p == 'P';
        if (*p != 'P' && *p != 'U') {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "bad key text \"%s\" for table \"%s\"", keys, name);
            break;
        }
        p++;
        int32_t nc = 0;
        for (;;) {
            char *end = NULL;
            long c = strtol(p, &end, 10);
            if (end == p || c < 0 || c >= n_fields || nc >= n_fields) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "bad key text \"%s\" for table \"%s\"",
                                  keys, name);
                break;
            }
            cols[nc++] = (int32_t)c;
            p = end;
            if (*p != ',') break;
            p++;
        }
        if (!st) st = pl_sql_key_add(&v, &n, cols, nc, primary, err);
        if (!st && *p == ';') p++;
        else if (!st && *p)
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "bad key text \"%s\" for table \"%s\"", keys, name);
    }
    pl_free(cols);
    if (st) {
        pl_sql_keys_free(v, n);
        return st;
    }
    pl_sql_keys_free(e->keys, e->n_keys);
    e->keys = v;
    e->n_keys = n;
    pl_sql_key_index_free(e->kidx);
    e->kidx = NULL;
    return PL_OK;
}
