/* catalog.c - handles (owner, TTL) and live tables (append while read). See catalog.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "core/core.h"
#include "server/catalog.h"

/* appended batches merge with the table's last one while both together stay this small, so
 * row-at-a-time appends do not leave one tiny batch per row */
#define PL_LIVE_MERGE_ROWS 8192
/* appended batches are cut into chunks of at most this many rows (zero-copy slices), each with
 * min/max statistics, so a selective filter reads only the chunks that may match */
#define PL_LIVE_CHUNK_ROWS 16384

/* Statistics of one column of one batch (numeric, date, time and timestamp columns). */
typedef struct col_stats {
    uint8_t kind; /* 0 = none (cannot prune), 1 = integers (imin/imax), 2 = floats */
    bool sorted; /* kind 1, no NULLs, values non-decreasing: conditions become a row range */
    int64_t n_valid;
    int64_t imin, imax;
    double fmin, fmax;
} col_stats;

struct live_table;

typedef struct handle {
    char id[PL_HANDLE_ID_LEN + 1];
    char *owner;
    pl_df *df;
    struct live_table *rows; /* materialised: the rows in chunks with statistics, or NULL */
    int64_t num_rows;
    int64_t ttl_ns;
    int64_t expiry_ns;
    int64_t plan_bytes; /* charged for the plan (pl_catalog_handle_charge), or for a SQL
                         * session's temporary tables */
    bool is_session;    /* a SQL session (pl_catalog_session_put): df is NULL */
    bool busy;          /* session: a request has taken its state (protected by mu) */
    void *sess;         /* session: its state, NULL while busy (protected by mu) */
    void (*sess_free)(void *);
    struct pl_catalog *cat;
    struct handle *next;
} handle;

typedef struct live_table {
    char *name;
    pl_schema *schema;
    pthread_mutex_t mu;
    pl_batch **batches;
    col_stats **stats; /* per batch: one per column, or NULL (unknown: never pruned) */
    int64_t *bbytes;   /* per batch: the bytes it adds to mem (chunks of one append: the first
                        * holds the bytes of all, the others 0, since they share buffers) */
    int64_t n_batches, cap_batches;
    int64_t n_rows;
    pl_table *snap; /* cached snapshot of the current batches, or NULL */
    int64_t refcount; /* atomic */
    int64_t mem;      /* bytes of the batches' buffers (batch_bytes, summed) */
    int64_t charged;  /* of those, charged to the account (given back at the last release) */
    bool is_handle;   /* the rows of a materialised handle */
    struct pl_catalog *cat;
    uint64_t gen;       /* this table's identity: new at every create and swap (never 0) */
    bool retired;       /* dropped, or replaced by a swap (appends look the name up again);
                         * protected by mu */
    bool gated;         /* a statement rewriting the table holds it: appends of other threads
                         * wait; protected by mu */
    pthread_t gate_owner; /* protected by mu */
    pthread_cond_t gate_cv; /* signalled when gated or retired changes */
    char *keys;         /* PRIMARY KEY / UNIQUE constraints (pl_session_table_keys' text), or
                         * NULL; fixed for the table's life (a swap makes a new table) */
    pl_key_index *kidx; /* keyed: SQL INSERT's key index of exactly these rows (a keyed table
                         * takes no appends, so its rows never change), or NULL; under mu */
} live_table;

struct pl_catalog {
    pthread_mutex_t mu; /* handles */
    handle **buckets;
    size_t n_buckets;
    int64_t n_handles;
    pthread_mutex_t tmu; /* the table list */
    live_table **tables;
    int32_t n_tables, cap_tables;
    char **view_names, **view_stmts; /* views, under tmu */
    int32_t n_views, cap_views;
    pl_catalog_charge_fn charge;
    void *charge_user;
    _Atomic int64_t mem_tables, mem_handles; /* charged */
    _Atomic uint64_t next_gen; /* the last live_table.gen given */
};

static uint64_t hash_id(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

pl_status pl_catalog_new(pl_catalog **out, pl_error *err) {
    pl_catalog *c = pl_calloc(1, sizeof *c);
    if (!c) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the catalog");
    c->n_buckets = 256;
    c->buckets = pl_calloc(c->n_buckets, sizeof *c->buckets);
    if (!c->buckets) {
        pl_free(c);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the catalog");
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->tmu, NULL);
    *out = c;
    return PL_OK;
}

static void table_release(struct live_table *t);

static void uncharge_plan(handle *h);

static void handle_free(handle *h) {
    uncharge_plan(h);
    if (h->sess && h->sess_free) h->sess_free(h->sess);
    table_release(h->rows);
    pl_df_release(h->df);
    pl_free(h->owner);
    pl_free(h);
}

/* ---------------------------------------------------------------- memory account */

void pl_catalog_set_account(pl_catalog *c, pl_catalog_charge_fn fn, void *user) {
    c->charge = fn;
    c->charge_user = user;
}

void pl_catalog_memory(pl_catalog *c, int64_t *tables, int64_t *handles) {
    *tables = atomic_load(&c->mem_tables);
    *handles = atomic_load(&c->mem_handles);
}

/* Charges delta bytes of t (a refusal changes nothing); what names the operation. */
static pl_status table_charge(live_table *t, int64_t delta, const char *what, pl_error *err) {
    pl_catalog *c = t->cat;
    if (!c || delta == 0) return PL_OK;
    if (c->charge) PL_TRY(c->charge(c->charge_user, t->is_handle, delta, what, err));
    atomic_fetch_add(t->is_handle ? &c->mem_handles : &c->mem_tables, delta);
    t->charged += delta;
    return PL_OK;
}

static void uncharge_plan(handle *h) {
    pl_catalog *c = h->cat;
    if (!c || !h->plan_bytes) return;
    if (c->charge) (void)c->charge(c->charge_user, true, -h->plan_bytes, NULL, NULL);
    atomic_fetch_sub(&c->mem_handles, h->plan_bytes);
    h->plan_bytes = 0;
}


/* Adds the size of buffer b to *sum unless seen[] has it (buffers shared by the columns of a
 * batch, or by an array and its slices, count once). */
static void buf_bytes(const pl_buf *b, const pl_buf **seen, int *n_seen, int cap, int64_t *sum) {
    if (!b) return;
    for (int i = 0; i < *n_seen; i++)
        if (seen[i] == b) return;
    if (*n_seen < cap) seen[(*n_seen)++] = b;
    *sum += b->capacity > b->size ? b->capacity : b->size;
}

static void array_bytes(const pl_array *a, const pl_buf **seen, int *n_seen, int cap,
                        int64_t *sum, int depth) {
    if (!a || depth > 64) return;
    buf_bytes(a->validity, seen, n_seen, cap, sum);
    buf_bytes(a->values, seen, n_seen, cap, sum);
    buf_bytes(a->data, seen, n_seen, cap, sum);
    for (int32_t i = 0; i < a->n_children; i++)
        array_bytes(a->children[i], seen, n_seen, cap, sum, depth + 1);
    array_bytes(a->dictionary, seen, n_seen, cap, sum, depth + 1);
}

/* The memory a batch holds: its distinct buffers at their allocated size (a slice holds its
 * whole buffer). */
static int64_t batch_bytes(const pl_batch *b) {
    const pl_buf *seen[96];
    int n_seen = 0;
    int64_t sum = 0;
    for (int32_t k = 0; k < b->n_cols; k++)
        array_bytes(b->columns[k], seen, &n_seen, (int)PL_ARRAY_LEN(seen), &sum, 0);
    return sum;
}

static void table_release(struct live_table *t) {
    if (!t || __atomic_sub_fetch(&t->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    (void)table_charge(t, -t->charged, NULL, NULL);
    for (int64_t i = 0; i < t->n_batches; i++) {
        pl_batch_release(t->batches[i]);
        pl_free(t->stats[i]);
    }
    pl_free(t->batches);
    pl_free(t->stats);
    pl_free(t->bbytes);
    pl_table_release(t->snap);
    pl_schema_release(t->schema);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->gate_cv);
    pl_free(t->keys);
    pl_key_index_free(t->kidx);
    pl_free(t->name);
    pl_free(t);
}

void pl_catalog_free(pl_catalog *c) {
    if (!c) return;
    for (size_t b = 0; b < c->n_buckets; b++)
        for (handle *h = c->buckets[b], *n; h; h = n) {
            n = h->next;
            handle_free(h);
        }
    pl_free(c->buckets);
    for (int32_t i = 0; i < c->n_tables; i++) table_release(c->tables[i]);
    pl_free(c->tables);
    for (int32_t i = 0; i < c->n_views; i++) {
        pl_free(c->view_names[i]);
        pl_free(c->view_stmts[i]);
    }
    pl_free(c->view_names);
    pl_free(c->view_stmts);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->tmu);
    pl_free(c);
}

/* ---------------------------------------------------------------- handles */

static bool random_id(char id[PL_HANDLE_ID_LEN + 1]) {
    uint8_t r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n <= 0) return false;
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        id[2 * i] = hex[r[i] >> 4];
        id[2 * i + 1] = hex[r[i] & 15];
    }
    id[PL_HANDLE_ID_LEN] = '\0';
    return true;
}

static handle **find_slot(pl_catalog *c, const char *id) {
    handle **p = &c->buckets[hash_id(id) & (c->n_buckets - 1)];
    while (*p && strcmp((*p)->id, id) != 0) p = &(*p)->next;
    return p;
}

static void grow_buckets(pl_catalog *c) {
    size_t nb = c->n_buckets * 2;
    handle **b = pl_calloc(nb, sizeof *b);
    if (!b) return; /* keep the longer chains */
    for (size_t i = 0; i < c->n_buckets; i++)
        for (handle *h = c->buckets[i], *n; h; h = n) {
            n = h->next;
            size_t k = hash_id(h->id) & (nb - 1);
            h->next = b[k];
            b[k] = h;
        }
    pl_free(c->buckets);
    c->buckets = b;
    c->n_buckets = nb;
}

static int32_t count_owner(pl_catalog *c, const char *owner, int64_t now_ns) {
    int32_t n = 0;
    for (size_t b = 0; b < c->n_buckets; b++)
        for (handle *h = c->buckets[b]; h; h = h->next)
            if (h->expiry_ns > now_ns && strcmp(h->owner, owner) == 0) n++;
    return n;
}

static pl_status live_new(const char *name, pl_schema *schema, pl_table *rows, live_table *like,
                          live_table **out, pl_error *err);

pl_status pl_catalog_handle_put(pl_catalog *c, const char *owner, pl_df *df, int64_t num_rows,
                                pl_table *rows, int64_t ttl_ns, int64_t now_ns,
                                int32_t max_per_owner, char id[PL_HANDLE_ID_LEN + 1],
                                pl_error *err) {
    if (!owner) owner = "";
    handle *h = pl_calloc(1, sizeof *h);
    if (!h || !(h->owner = pl_strdup(owner))) {
        pl_free(h);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory storing a handle");
    }
    if (rows) {
        pl_status st = live_new("handle", rows->schema, rows, NULL, &h->rows, err);
        if (!st) {
            h->rows->is_handle = true;
            h->rows->cat = c;
            st = table_charge(h->rows, h->rows->mem, "storing the materialised handle", err);
        }
        if (st) {
            table_release(h->rows);
            pl_free(h->owner);
            pl_free(h);
            return st;
        }
    }
    h->df = pl_df_retain(df);
    h->num_rows = num_rows;
    h->ttl_ns = ttl_ns;
    h->expiry_ns = now_ns + ttl_ns;
    pthread_mutex_lock(&c->mu);
    if (max_per_owner > 0 && count_owner(c, owner, now_ns) >= max_per_owner) {
        pthread_mutex_unlock(&c->mu);
        handle_free(h);
        pl_error_set(err, PL_ERR_LIMIT, "too many handles: this client already holds %d",
                     (int)max_per_owner);
        if (err) snprintf(err->hint, sizeof err->hint, "drop handles you no longer need (DropHandle)");
        return PL_ERR_LIMIT;
    }
    bool ok = false;
    for (int tries = 0; tries < 4 && !ok; tries++) {
        if (!random_id(h->id)) break;
        ok = *find_slot(c, h->id) == NULL;
    }
    if (!ok) {
        pthread_mutex_unlock(&c->mu);
        handle_free(h);
        PL_FAIL(err, PL_ERR_INTERNAL, "could not draw a random handle id");
    }
    handle **slot = find_slot(c, h->id);
    *slot = h;
    c->n_handles++;
    if ((size_t)c->n_handles > 2 * c->n_buckets) grow_buckets(c);
    memcpy(id, h->id, PL_HANDLE_ID_LEN + 1);
    pthread_mutex_unlock(&c->mu);
    return PL_OK;
}

pl_status pl_catalog_handle_charge(pl_catalog *c, const char *owner, const char *id, int64_t bytes,
                                   pl_error *err) {
    if (bytes <= 0) return PL_OK;
    pthread_mutex_lock(&c->mu);
    handle *h = id && strlen(id) == PL_HANDLE_ID_LEN ? *find_slot(c, id) : NULL;
    if (!h || strcmp(h->owner, owner ? owner : "") != 0) {
        pthread_mutex_unlock(&c->mu);
        PL_FAIL(err, PL_ERR_NOT_FOUND, "handle not found");
    }
    pl_status st = c->charge ? c->charge(c->charge_user, true, bytes, "storing the handle's plan", err)
                             : PL_OK;
    if (!st) {
        h->plan_bytes += bytes;
        h->cat = c;
        atomic_fetch_add(&c->mem_handles, bytes);
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

static handle *live_handle(pl_catalog *c, const char *owner, const char *id, int64_t now_ns) {
    if (!id || strlen(id) != PL_HANDLE_ID_LEN) return NULL;
    handle *h = *find_slot(c, id);
    if (!h || strcmp(h->owner, owner ? owner : "") != 0 || h->expiry_ns <= now_ns) return NULL;
    return h;
}

pl_status pl_catalog_handle_get(pl_catalog *c, const char *owner, const char *id, int64_t now_ns,
                                pl_df **out, int64_t *num_rows, pl_error *err) {
    pthread_mutex_lock(&c->mu);
    handle *h = live_handle(c, owner, id, now_ns);
    pl_df *df = h ? pl_df_retain(h->df) : NULL;
    int64_t rows = h ? h->num_rows : -1;
    pthread_mutex_unlock(&c->mu);
    if (!df) {
        /* the id is not echoed in full when it is not even well-formed */
        size_t n = id ? strlen(id) : 0;
        pl_error_set(err, PL_ERR_NOT_FOUND, "handle \"%.*s%s\" not found", (int)PL_MIN(n, 40),
                     id ? id : "", n > 40 ? "..." : "");
        if (err) snprintf(err->hint, sizeof err->hint, "handles expire without Heartbeat; create it again");
        return PL_ERR_NOT_FOUND;
    }
    *out = df;
    if (num_rows) *num_rows = rows;
    return PL_OK;
}

bool pl_catalog_handle_renew(pl_catalog *c, const char *owner, const char *id, int64_t now_ns) {
    pthread_mutex_lock(&c->mu);
    handle *h = live_handle(c, owner, id, now_ns);
    if (h) h->expiry_ns = now_ns + h->ttl_ns;
    pthread_mutex_unlock(&c->mu);
    return h != NULL;
}

bool pl_catalog_handle_drop(pl_catalog *c, const char *owner, const char *id) {
    if (!id || strlen(id) != PL_HANDLE_ID_LEN) return false;
    pthread_mutex_lock(&c->mu);
    handle **slot = find_slot(c, id);
    handle *h = *slot;
    if (h && strcmp(h->owner, owner ? owner : "") == 0) {
        *slot = h->next;
        c->n_handles--;
    } else {
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h) handle_free(h); /* outside the lock: releasing a plan may free a lot */
    return h != NULL;
}

int32_t pl_catalog_sweep(pl_catalog *c, int64_t now_ns) {
    handle *dead = NULL;
    int32_t n = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t b = 0; b < c->n_buckets; b++)
        for (handle **p = &c->buckets[b]; *p;) {
            handle *h = *p;
            if (h->expiry_ns <= now_ns && !h->busy) { /* a running session's request renews it */
                *p = h->next;
                h->next = dead;
                dead = h;
                c->n_handles--;
                n++;
            } else {
                p = &h->next;
            }
        }
    pthread_mutex_unlock(&c->mu);
    for (handle *h = dead, *nx; h; h = nx) {
        nx = h->next;
        handle_free(h);
    }
    return n;
}

/* ---------------------------------------------------------------- SQL sessions */

pl_status pl_catalog_session_put(pl_catalog *c, const char *owner, void (*free_fn)(void *),
                                 int64_t ttl_ns, int64_t now_ns, int32_t max_per_owner,
                                 char id[PL_HANDLE_ID_LEN + 1], pl_error *err) {
    PL_TRY(pl_catalog_handle_put(c, owner, NULL, -1, NULL, ttl_ns, now_ns, max_per_owner, id, err));
    pthread_mutex_lock(&c->mu);
    handle *h = *find_slot(c, id);
    if (h) {
        h->is_session = true;
        h->sess_free = free_fn;
        h->cat = c;
    }
    pthread_mutex_unlock(&c->mu);
    return PL_OK;
}

static pl_status session_not_found(const char *id, pl_error *err) {
    size_t n = id ? strlen(id) : 0;
    pl_error_set(err, PL_ERR_NOT_FOUND, "SQL session \"%.*s%s\" not found", (int)PL_MIN(n, 40),
                 id ? id : "", n > 40 ? "..." : "");
    if (err)
        snprintf(err->hint, sizeof err->hint,
                 "a session ends with DropHandle or when its TTL passes without Heartbeat or use; "
                 "open a new one");
    return PL_ERR_NOT_FOUND;
}

pl_status pl_catalog_session_take(pl_catalog *c, const char *owner, const char *id, int64_t now_ns,
                                  void **state, pl_error *err) {
    pthread_mutex_lock(&c->mu);
    handle *h = live_handle(c, owner, id, now_ns);
    if (!h || !h->is_session) {
        pthread_mutex_unlock(&c->mu);
        return session_not_found(id, err);
    }
    if (h->busy) {
        pthread_mutex_unlock(&c->mu);
        pl_error_set(err, PL_ERR_LIMIT, "SQL session \"%s\" is running another request", id);
        if (err)
            snprintf(err->hint, sizeof err->hint,
                     "a session runs one request at a time: wait for the other one to end");
        return PL_ERR_LIMIT;
    }
    h->busy = true;
    h->expiry_ns = now_ns + h->ttl_ns;
    *state = h->sess;
    h->sess = NULL;
    pthread_mutex_unlock(&c->mu);
    return PL_OK;
}

pl_status pl_catalog_session_give(pl_catalog *c, const char *owner, const char *id, void *state,
                                  int64_t bytes, int64_t now_ns, pl_error *err) {
    pthread_mutex_lock(&c->mu);
    handle *h = id && strlen(id) == PL_HANDLE_ID_LEN ? *find_slot(c, id) : NULL;
    if (!h || !h->is_session || !h->busy || strcmp(h->owner, owner ? owner : "") != 0) {
        pthread_mutex_unlock(&c->mu);
        return session_not_found(id, err); /* dropped while the request ran */
    }
    int64_t delta = bytes - h->plan_bytes;
    pl_status st = PL_OK;
    if (delta && c->charge)
        st = c->charge(c->charge_user, true, delta, "keeping the SQL session's temporary tables", err);
    if (!st) {
        h->plan_bytes = bytes;
        atomic_fetch_add(&c->mem_handles, delta);
        h->sess = state;
        h->busy = false;
        h->expiry_ns = now_ns + h->ttl_ns;
    }
    pthread_mutex_unlock(&c->mu);
    return st;
}

int64_t pl_catalog_table_bytes(const pl_table *t) {
    int64_t sum = 0;
    for (int64_t b = 0; t && b < t->n_batches; b++) sum += batch_bytes(t->batches[b]);
    return sum;
}

int64_t pl_catalog_n_handles(pl_catalog *c) {
    pthread_mutex_lock(&c->mu);
    int64_t n = c->n_handles;
    pthread_mutex_unlock(&c->mu);
    return n;
}

int32_t pl_catalog_owner_handles(pl_catalog *c, const char *owner) {
    pthread_mutex_lock(&c->mu);
    int32_t n = count_owner(c, owner ? owner : "", pl_now_ns()); /* expired ones no longer count */
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* ---------------------------------------------------------------- live tables */

static int32_t table_index(pl_catalog *c, const char *name) {
    for (int32_t i = 0; i < c->n_tables; i++)
        if (strcasecmp(c->tables[i]->name, name) == 0) return i;
    return -1;
}

static int32_t view_index(pl_catalog *c, const char *name) {
    for (int32_t i = 0; i < c->n_views; i++)
        if (strcasecmp(c->view_names[i], name) == 0) return i;
    return -1;
}

/* The table called name, retained, or NULL. */
static live_table *table_get(pl_catalog *c, const char *name) {
    pthread_mutex_lock(&c->tmu);
    int32_t i = table_index(c, name);
    live_table *t = i >= 0 ? c->tables[i] : NULL;
    if (t) __atomic_add_fetch(&t->refcount, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&c->tmu);
    return t;
}

static pl_status table_not_found(const char *name, pl_error *err) {
    PL_FAIL(err, PL_ERR_NOT_FOUND, "table \"%s\" does not exist", name);
}

/* t is no longer the table under its name (dropped or replaced): appends waiting for its gate
 * look the name up again. */
static void retire(live_table *t) {
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->retired = true;
    pthread_cond_broadcast(&t->gate_cv);
    pthread_mutex_unlock(&t->mu);
}

/* Waits, under t->mu, until no other thread holds t's gate. */
static void gate_wait(live_table *t) {
    while (t->gated && !pthread_equal(t->gate_owner, pthread_self()))
        pthread_cond_wait(&t->gate_cv, &t->mu);
}

/* ---- statistics */

static int stats_kind(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_INT8:
    case PL_TYPE_INT16:
    case PL_TYPE_INT32:
    case PL_TYPE_INT64:
    case PL_TYPE_UINT8:
    case PL_TYPE_UINT16:
    case PL_TYPE_UINT32:
    case PL_TYPE_DATE32:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: return 1;
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64: return 2;
    default: return 0;
    }
}

static int64_t int_at(const pl_array *a, int64_t i) {
    const void *v = pl_array_values_ptr(a);
    switch (a->type->id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[i];
    case PL_TYPE_INT16: return ((const int16_t *)v)[i];
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: return ((const int32_t *)v)[i];
    case PL_TYPE_UINT8: return ((const uint8_t *)v)[i];
    case PL_TYPE_UINT16: return ((const uint16_t *)v)[i];
    case PL_TYPE_UINT32: return ((const uint32_t *)v)[i];
    default: return ((const int64_t *)v)[i];
    }
}

/* Statistics of every column of b (pl_malloc'd), or NULL when out of memory. */
static col_stats *batch_stats(const pl_batch *b) {
    col_stats *cs = pl_calloc((size_t)(b->n_cols ? b->n_cols : 1), sizeof *cs);
    if (!cs) return NULL;
    for (int32_t c = 0; c < b->n_cols; c++) {
        const pl_array *a = b->columns[c];
        int kind = stats_kind(a->type);
        if (!kind || !a->values) continue;
        col_stats *st = &cs[c];
        bool first = true;
        bool nan = false;
        bool sorted = kind == 1;
        int64_t prev = 0;
        for (int64_t i = 0; i < a->length; i++) {
            if (!pl_array_is_valid(a, i)) {
                sorted = false;
                continue;
            }
            st->n_valid++;
            if (kind == 1) {
                int64_t v = int_at(a, i);
                if (!first && v < prev) sorted = false;
                prev = v;
                if (first || v < st->imin) st->imin = v;
                if (first || v > st->imax) st->imax = v;
            } else {
                double v = a->type->id == PL_TYPE_FLOAT32 ? ((const float *)pl_array_values_ptr(a))[i]
                                                          : ((const double *)pl_array_values_ptr(a))[i];
                if (v != v) {
                    nan = true;
                    continue;
                }
                if (first || v < st->fmin) st->fmin = v;
                if (first || v > st->fmax) st->fmax = v;
            }
            first = false;
        }
        /* NaN compares in ways ranges do not describe: such a column is never pruned */
        st->kind = nan ? 0 : (uint8_t)kind;
        st->sorted = sorted && st->kind == 1 && a->length > 0;
    }
    return cs;
}

/* A copy of the statistics of a batch of n_cols columns, or NULL when out of memory. */
static col_stats *stats_copy(const col_stats *from, int32_t n_cols) {
    col_stats *cs = pl_malloc((size_t)(n_cols ? n_cols : 1) * sizeof *cs);
    if (cs) memcpy(cs, from, (size_t)n_cols * sizeof *cs);
    return cs;
}

/* Adds b (taken on success) as t's last batch, with the statistics `stats` (copied; NULL:
 * computed from b). */
static pl_status push_batch(live_table *t, pl_batch *b, int64_t bytes, const col_stats *stats,
                            pl_error *err) {
    if (t->n_batches == t->cap_batches) {
        int64_t nc = t->cap_batches ? 2 * t->cap_batches : 8;
        pl_batch **v = pl_realloc(t->batches, (size_t)nc * sizeof *v);
        if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory appending to table \"%s\"", t->name);
        t->batches = v;
        col_stats **sv = pl_realloc(t->stats, (size_t)nc * sizeof *sv);
        if (!sv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory appending to table \"%s\"", t->name);
        t->stats = sv;
        int64_t *bv = pl_realloc(t->bbytes, (size_t)nc * sizeof *bv);
        if (!bv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory appending to table \"%s\"", t->name);
        t->bbytes = bv;
        t->cap_batches = nc;
    }
    t->bbytes[t->n_batches] = bytes;
    t->mem += bytes;
    t->stats[t->n_batches] = stats ? stats_copy(stats, b->n_cols) : batch_stats(b);
    t->batches[t->n_batches++] = b;
    t->n_rows += b->n_rows;
    return PL_OK;
}

/* b with t's schema (same column types, checked by pl_batch_new), a new reference; columns
 * that are views of a mapped file (an Arrow IPC file read in place) are copied into memory:
 * the table keeps the values as read whatever happens to the file. */
static pl_status rebase(live_table *t, pl_batch *b, pl_batch **out, pl_error *err) {
    if (b->schema == t->schema) return pl_batch_detach_files(b, out, err);
    if (b->n_cols != t->schema->n_fields)
        PL_FAIL(err, PL_ERR_TYPE, "%d columns appended to table \"%s\" of %d columns",
                (int)b->n_cols, t->name, (int)t->schema->n_fields);
    for (int32_t i = 0; i < b->n_cols; i++)
        if (!pl_type_equals(b->columns[i]->type, t->schema->fields[i].type))
            PL_FAIL(err, PL_ERR_TYPE, "column \"%s\" of table \"%s\": appended type differs",
                    t->schema->fields[i].name, t->name);
    pl_array **cols = pl_malloc((size_t)(b->n_cols ? b->n_cols : 1) * sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory appending");
    for (int32_t i = 0; i < b->n_cols; i++) {
        pl_status st = pl_array_detach_files(b->columns[i], &cols[i], err);
        if (st) {
            while (i-- > 0) pl_array_release(cols[i]);
            pl_free(cols);
            return st;
        }
    }
    pl_status st = pl_batch_new(pl_schema_retain(t->schema), b->n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

/* last + b as one batch. */
static pl_status merge(live_table *t, pl_batch *last, pl_batch *b, pl_batch **out, pl_error *err) {
    int32_t n = t->schema->n_fields;
    pl_array **cols = pl_calloc((size_t)(n ? n : 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory appending");
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n && !st; i++) {
        pl_array *two[2] = {last->columns[i], b->columns[i]};
        st = pl_array_concat(2, two, &cols[i], err);
    }
    if (st) {
        for (int32_t i = 0; i < n; i++)
            if (cols[i]) pl_array_release(cols[i]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(t->schema), last->n_rows + b->n_rows, cols, out, err);
    pl_free(cols);
    return st;
}

static pl_status table_append_locked(live_table *t, pl_batch *in, pl_error *err) {
    if (in->n_rows == 0) return PL_OK;
    pl_batch *b = NULL;
    PL_TRY(rebase(t, in, &b, err));
    pl_batch *last = t->n_batches ? t->batches[t->n_batches - 1] : NULL;
    if (last && last->n_rows + b->n_rows <= PL_LIVE_MERGE_ROWS) {
        pl_batch *m = NULL;
        int64_t added = b->n_rows;
        pl_status st = merge(t, last, b, &m, err);
        pl_batch_release(b);
        if (st) return st;
        int64_t mb = batch_bytes(m);
        t->mem += mb - t->bbytes[t->n_batches - 1];
        t->bbytes[t->n_batches - 1] = mb;
        t->batches[t->n_batches - 1] = m;
        pl_free(t->stats[t->n_batches - 1]);
        t->stats[t->n_batches - 1] = batch_stats(m);
        t->n_rows += added;
        pl_batch_release(last);
        return PL_OK;
    }
    int64_t bytes = batch_bytes(b); /* chunks below are slices of b: its buffers once */
    if (b->n_rows <= PL_LIVE_CHUNK_ROWS) {
        pl_status st = push_batch(t, b, bytes, NULL, err);
        if (st) pl_batch_release(b);
        return st;
    }
    pl_status st = PL_OK;
    for (int64_t off = 0; off < b->n_rows && !st; off += PL_LIVE_CHUNK_ROWS) {
        pl_batch *chunk = NULL;
        st = pl_batch_slice(b, off, PL_MIN(PL_LIVE_CHUNK_ROWS, b->n_rows - off), &chunk, err);
        if (!st) {
            st = push_batch(t, chunk, off == 0 ? bytes : 0, NULL, err);
            if (st) pl_batch_release(chunk);
        }
    }
    pl_batch_release(b);
    return st;
}

/* Takes like's batch i (retained) with its statistics and bytes as t's next batch. */
static pl_status push_shared(live_table *t, const live_table *like, int64_t i, pl_error *err) {
    pl_batch *b = pl_batch_retain(like->batches[i]);
    pl_status st = push_batch(t, b, like->bbytes[i], like->stats[i], err);
    if (st) pl_batch_release(b);
    return st;
}

/* A new table of rows. like (may be NULL): a table whose leading batches rows may share (a
 * rewrite of it that kept them, such as an INSERT's new version): those are taken as they are
 * with their statistics, not computed again, so a swap costs time in the changed batches. */
static pl_status live_new(const char *name, pl_schema *schema, pl_table *rows, live_table *like,
                          live_table **out, pl_error *err) {
    live_table *t = pl_calloc(1, sizeof *t);
    if (!t || !(t->name = pl_strdup(name))) {
        pl_free(t);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating table \"%s\"", name);
    }
    t->schema = pl_schema_retain(schema);
    t->refcount = 1;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->gate_cv, NULL);
    pl_status st = PL_OK;
    if (like) pthread_mutex_lock(&like->mu);
    bool shared = like != NULL; /* every batch so far is like's at the same place */
    for (int64_t i = 0; rows && i < rows->n_batches && !st; i++) {
        pl_batch *b = rows->batches[i];
        shared = shared && i < like->n_batches && like->batches[i] == b && b->schema == t->schema;
        st = shared ? push_shared(t, like, i, err) : table_append_locked(t, b, err);
    }
    if (like) pthread_mutex_unlock(&like->mu);
    if (st) {
        table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

/* A new table of the catalog (not listed yet): a fresh generation, its memory charged
 * ("<verb> table \"<what>\"" names it when the account refuses). */
static pl_status live_catalogued(pl_catalog *c, const char *name, pl_schema *schema,
                                 pl_table *rows, live_table *like, const char *keys,
                                 const char *verb, const char *what_name, live_table **out,
                                 pl_error *err) {
    live_table *t = NULL;
    PL_TRY(live_new(name, schema, rows, like, &t, err));
    if (keys && *keys && !(t->keys = pl_strdup(keys))) {
        table_release(t);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    t->cat = c;
    t->gen = atomic_fetch_add(&c->next_gen, 1) + 1;
    char what[200];
    snprintf(what, sizeof what, "%s table \"%.128s\"", verb, what_name);
    pl_status st = table_charge(t, t->mem, what, err);
    if (st) {
        table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

pl_status pl_catalog_table_create(pl_catalog *c, const char *name, pl_schema *schema,
                                  pl_table *rows, bool if_not_exists, bool replace, bool *created,
                                  pl_error *err) {
    return pl_catalog_table_create_keyed(c, name, schema, rows, NULL, if_not_exists, replace,
                                         created, err);
}

pl_status pl_catalog_table_create_keyed(pl_catalog *c, const char *name, pl_schema *schema,
                                        pl_table *rows, const char *keys, bool if_not_exists,
                                        bool replace, bool *created, pl_error *err) {
    if (created) *created = false;
    if (!name || !name[0]) PL_FAIL(err, PL_ERR_INVALID_ARG, "a table needs a name");
    live_table *t = NULL;
    PL_TRY(live_catalogued(c, name, schema, rows, NULL, keys, "creating", name, &t, err));
    pthread_mutex_lock(&c->tmu);
    int32_t i = table_index(c, name);
    live_table *old = NULL;
    if (view_index(c, name) >= 0) {
        pthread_mutex_unlock(&c->tmu);
        table_release(t);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "\"%s\" is a view, not a table", name);
    }
    if (i >= 0 && !replace) {
        pthread_mutex_unlock(&c->tmu);
        table_release(t);
        if (if_not_exists) return PL_OK;
        PL_FAIL(err, PL_ERR_INVALID_ARG, "table \"%s\" already exists", name);
    }
    if (i >= 0) {
        old = c->tables[i];
        c->tables[i] = t;
    } else {
        if (c->n_tables == c->cap_tables) {
            int32_t nc = c->cap_tables ? 2 * c->cap_tables : 8;
            live_table **v = pl_realloc(c->tables, (size_t)nc * sizeof *v);
            if (!v) {
                pthread_mutex_unlock(&c->tmu);
                table_release(t);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating table \"%s\"", name);
            }
            c->tables = v;
            c->cap_tables = nc;
        }
        c->tables[c->n_tables++] = t;
    }
    pthread_mutex_unlock(&c->tmu);
    retire(old);
    table_release(old);
    if (created) *created = true;
    return PL_OK;
}

pl_status pl_catalog_table_drop(pl_catalog *c, const char *name, bool if_exists, bool *dropped,
                                pl_error *err) {
    if (dropped) *dropped = false;
    pthread_mutex_lock(&c->tmu);
    int32_t i = name ? table_index(c, name) : -1;
    live_table *t = NULL;
    if (i >= 0) {
        t = c->tables[i];
        memmove(&c->tables[i], &c->tables[i + 1], (size_t)(c->n_tables - i - 1) * sizeof *c->tables);
        c->n_tables--;
    }
    pthread_mutex_unlock(&c->tmu);
    if (!t) {
        if (if_exists) return PL_OK;
        return table_not_found(name ? name : "", err);
    }
    retire(t);
    table_release(t);
    if (dropped) *dropped = true;
    return PL_OK;
}

pl_status pl_catalog_table_snapshot_gen(pl_catalog *c, const char *name, pl_table **out,
                                        uint64_t *gen, pl_error *err) {
    return pl_catalog_table_snapshot_keys(c, name, out, gen, NULL, err);
}

pl_status pl_catalog_table_snapshot_keys(pl_catalog *c, const char *name, pl_table **out,
                                         uint64_t *gen, char **keys, pl_error *err) {
    live_table *t = table_get(c, name);
    if (!t) return table_not_found(name, err);
    if (keys && !(*keys = t->keys ? pl_strdup(t->keys) : NULL) && t->keys) {
        table_release(t);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&t->mu);
    pl_status st = PL_OK;
    if (!t->snap) {
        pl_table *s = NULL;
        st = pl_table_new(t->schema, &s, err);
        for (int64_t i = 0; !st && i < t->n_batches; i++) st = pl_table_append(s, t->batches[i], err);
        if (st) pl_table_release(s);
        else t->snap = s;
    }
    if (!st) *out = pl_table_retain(t->snap);
    if (!st && gen) *gen = t->gen;
    pthread_mutex_unlock(&t->mu);
    table_release(t);
    if (st && keys) {
        pl_free(*keys);
        *keys = NULL;
    }
    return st;
}

pl_status pl_catalog_table_snapshot(pl_catalog *c, const char *name, pl_table **out,
                                    pl_error *err) {
    return pl_catalog_table_snapshot_gen(c, name, out, NULL, err);
}

pl_status pl_catalog_table_schema(pl_catalog *c, const char *name, pl_schema **out,
                                  pl_error *err) {
    live_table *t = table_get(c, name);
    if (!t) return table_not_found(name, err);
    *out = pl_schema_retain(t->schema);
    table_release(t);
    return PL_OK;
}

/* Same names, types and nullability. */
static bool same_columns(const pl_schema *a, const pl_schema *b) {
    if (!pl_schema_equals(a, b)) return false;
    for (int32_t i = 0; i < a->n_fields; i++)
        if (a->fields[i].nullable != b->fields[i].nullable) return false;
    return true;
}

static pl_status changed_meanwhile(const char *name, pl_error *err) {
    PL_FAIL(err, PL_ERR_INVALID_ARG,
            "table \"%s\" was changed by another request while this statement ran (dropped, "
            "created again or altered); nothing was changed: run the statement again",
            name);
}

pl_status pl_catalog_table_append_as(pl_catalog *c, const char *name, const pl_schema *expect,
                                     pl_table *in, int64_t *table_rows, pl_error *err) {
    live_table *t = table_get(c, name);
    if (!t) return table_not_found(name, err);
    pl_status st = PL_OK;
    /* checked before the lock, so a bad request changes nothing */
    for (int64_t i = 0; i < in->n_batches && !st; i++) {
        pl_batch *b = NULL;
        st = rebase(t, in->batches[i], &b, err);
        if (b) pl_batch_release(b);
    }
    if (!st) {
        pthread_mutex_lock(&t->mu);
        gate_wait(t);
        if (t->retired) { /* dropped or rewritten meanwhile: append to what the name is now */
            pthread_mutex_unlock(&t->mu);
            table_release(t);
            return pl_catalog_table_append_as(c, name, expect, in, table_rows, err);
        }
        if (expect && !same_columns(expect, t->schema)) {
            pthread_mutex_unlock(&t->mu);
            table_release(t);
            return changed_meanwhile(name, err);
        }
        if (t->keys) { /* an append does not check keys: SQL INSERT does (under the gate) */
            pthread_mutex_unlock(&t->mu);
            table_release(t);
            pl_error_set(err, PL_ERR_UNSUPPORTED,
                         "table \"%s\" has a PRIMARY KEY or UNIQUE constraint: appends are "
                         "not supported",
                         name);
            if (err)
                snprintf(err->hint, sizeof err->hint,
                         "add rows with SQL INSERT, which checks the keys");
            return PL_ERR_UNSUPPORTED;
        }
        int64_t n_before = t->n_batches, rows_before = t->n_rows, mem_before = t->mem;
        int64_t last_bytes_before = n_before ? t->bbytes[n_before - 1] : 0;
        pl_batch *last_before = n_before ? pl_batch_retain(t->batches[n_before - 1]) : NULL;
        for (int64_t i = 0; i < in->n_batches && !st; i++)
            st = table_append_locked(t, in->batches[i], err);
        if (!st && t->mem != mem_before) { /* refused when the server's memory is full */
            char what[200];
            snprintf(what, sizeof what, "appending to table \"%.128s\"", t->name);
            st = table_charge(t, t->mem - mem_before, what, err);
        }
        if (st) {
            /* all or nothing: back to the batches before this request */
            for (int64_t i = n_before; i < t->n_batches; i++) {
                pl_batch_release(t->batches[i]);
                pl_free(t->stats[i]);
            }
            if (n_before && t->batches[n_before - 1] != last_before) {
                pl_batch_release(t->batches[n_before - 1]);
                t->batches[n_before - 1] = pl_batch_retain(last_before);
                pl_free(t->stats[n_before - 1]);
                t->stats[n_before - 1] = batch_stats(last_before);
            }
            if (n_before) t->bbytes[n_before - 1] = last_bytes_before;
            t->n_batches = n_before;
            t->n_rows = rows_before;
            t->mem = mem_before;
        } else if (t->n_rows != rows_before) {
            pl_table_release(t->snap);
            t->snap = NULL;
        }
        if (last_before) pl_batch_release(last_before);
        if (table_rows) *table_rows = t->n_rows;
        pthread_mutex_unlock(&t->mu);
    }
    table_release(t);
    return st;
}

pl_status pl_catalog_table_append(pl_catalog *c, const char *name, pl_table *in,
                                  int64_t *table_rows, pl_error *err) {
    return pl_catalog_table_append_as(c, name, NULL, in, table_rows, err);
}

pl_status pl_catalog_table_gate(pl_catalog *c, const char *name, pl_catalog_gate **out,
                                pl_error *err) {
    for (;;) {
        live_table *t = table_get(c, name);
        if (!t) return table_not_found(name, err);
        pthread_mutex_lock(&t->mu);
        while (t->gated && !t->retired) pthread_cond_wait(&t->gate_cv, &t->mu);
        if (t->retired) {
            pthread_mutex_unlock(&t->mu);
            table_release(t);
            continue;
        }
        t->gated = true;
        t->gate_owner = pthread_self();
        pthread_mutex_unlock(&t->mu);
        *out = (pl_catalog_gate *)t;
        return PL_OK;
    }
}

void pl_catalog_table_ungate(pl_catalog_gate *g) {
    live_table *t = (live_table *)g;
    if (!t) return;
    pthread_mutex_lock(&t->mu);
    t->gated = false;
    pthread_cond_broadcast(&t->gate_cv);
    pthread_mutex_unlock(&t->mu);
    table_release(t);
}

pl_status pl_catalog_table_swap(pl_catalog *c, const char *name, uint64_t gen, int64_t base_rows,
                                const char *new_name, pl_table *rows, const char *keys,
                                pl_error *err) {
    return pl_catalog_table_swap_indexed(c, name, gen, base_rows, new_name, rows, keys, NULL, err);
}

pl_status pl_catalog_table_swap_indexed(pl_catalog *c, const char *name, uint64_t gen,
                                        int64_t base_rows, const char *new_name, pl_table *rows,
                                        const char *keys, pl_key_index *kidx, pl_error *err) {
    if (!new_name) new_name = name;
    live_table *t = NULL;
    live_table *like = table_get(c, name); /* its batches that rows kept are taken as they are */
    if (like && like->gen != gen) {
        table_release(like);
        like = NULL;
    }
    pl_status st = live_catalogued(c, new_name, rows->schema, rows, like, keys, "rewriting", name,
                                   &t, err);
    table_release(like);
    if (st) {
        pl_key_index_free(kidx);
        return st;
    }
    if (kidx && t->keys && pl_key_index_rows(kidx) == t->n_rows) t->kidx = kidx;
    else pl_key_index_free(kidx);
    pthread_mutex_lock(&c->tmu);
    int32_t i = table_index(c, name);
    live_table *old = i >= 0 ? c->tables[i] : NULL;
    bool renamed = strcasecmp(name, new_name) != 0;
    if (!old || old->gen != gen) {
        st = changed_meanwhile(name, err);
    } else if (renamed && (table_index(c, new_name) >= 0 || view_index(c, new_name) >= 0)) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "\"%s\" already exists", new_name);
    } else {
        pthread_mutex_lock(&old->mu);
        if (old->n_rows != base_rows) { /* appended while ungated: the rewrite never saw them */
            st = changed_meanwhile(name, err);
        } else {
            old->retired = true;
            c->tables[i] = t; /* appends waiting for old's gate go to t once it opens */
            pthread_cond_broadcast(&old->gate_cv);
        }
        pthread_mutex_unlock(&old->mu);
    }
    pthread_mutex_unlock(&c->tmu);
    if (st) {
        table_release(t);
        return st;
    }
    table_release(old);
    return PL_OK;
}

pl_status pl_catalog_table_names(pl_catalog *c, char ***names, int32_t *n, pl_error *err) {
    pthread_mutex_lock(&c->tmu);
    int32_t k = c->n_tables;
    char **v = pl_calloc((size_t)(k ? k : 1), sizeof *v);
    pl_status st = v ? PL_OK : PL_ERR_NOMEM;
    for (int32_t i = 0; i < k && !st; i++)
        if (!(v[i] = pl_strdup(c->tables[i]->name))) st = PL_ERR_NOMEM;
    pthread_mutex_unlock(&c->tmu);
    if (st) {
        for (int32_t i = 0; v && i < k; i++) pl_free(v[i]);
        pl_free(v);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory listing tables");
    }
    *names = v;
    *n = k;
    return PL_OK;
}

pl_key_index *pl_catalog_table_key_index_take(pl_catalog *c, const char *name, uint64_t gen) {
    live_table *t = table_get(c, name);
    if (!t) return NULL;
    pthread_mutex_lock(&t->mu);
    pl_key_index *ix = NULL;
    if (t->gen == gen && !t->retired) {
        ix = t->kidx;
        t->kidx = NULL;
        if (ix && pl_key_index_rows(ix) != t->n_rows) { /* never: a keyed table takes no appends */
            pl_key_index_free(ix);
            ix = NULL;
        }
    }
    pthread_mutex_unlock(&t->mu);
    table_release(t);
    return ix;
}

void pl_catalog_table_key_index_put(pl_catalog *c, const char *name, uint64_t gen,
                                    pl_key_index *ix) {
    live_table *t = ix ? table_get(c, name) : NULL;
    if (t) {
        pthread_mutex_lock(&t->mu);
        if (t->gen == gen && !t->retired && t->keys && !t->kidx &&
            pl_key_index_rows(ix) == t->n_rows) {
            t->kidx = ix;
            ix = NULL;
        }
        pthread_mutex_unlock(&t->mu);
        table_release(t);
    }
    pl_key_index_free(ix);
}

bool pl_catalog_table_keyed(pl_catalog *c, const char *name) {
    live_table *t = table_get(c, name);
    bool keyed = t && t->keys;
    table_release(t);
    return keyed;
}

pl_status pl_catalog_table_rows(pl_catalog *c, const char *name, int64_t *rows, pl_error *err) {
    live_table *t = table_get(c, name);
    if (!t) return table_not_found(name, err);
    pthread_mutex_lock(&t->mu);
    *rows = t->n_rows;
    pthread_mutex_unlock(&t->mu);
    table_release(t);
    return PL_OK;
}

/* Whether a batch with these statistics may hold a row where `column op value` is true. */
static bool may_match(const col_stats *st, const pl_prune_cond *c) {
    if (st->kind == 0) return true;
    if (st->n_valid == 0) return false; /* NULL op anything is never true */
    if (st->kind == 1 && !c->is_float) {
        int64_t v = c->i;
        switch (c->op) {
        case PL_PRUNE_EQ: return st->imin <= v && v <= st->imax;
        case PL_PRUNE_LT: return st->imin < v;
        case PL_PRUNE_LE: return st->imin <= v;
        case PL_PRUNE_GT: return st->imax > v;
        case PL_PRUNE_GE: return st->imax >= v;
        }
        return true;
    }
    double lo = st->kind == 1 ? (double)st->imin : st->fmin;
    double hi = st->kind == 1 ? (double)st->imax : st->fmax;
    double v = c->is_float ? c->f : (double)c->i;
    if (v != v) return true;
    switch (c->op) {
    case PL_PRUNE_EQ: return lo <= v && v <= hi;
    case PL_PRUNE_LT: return lo < v;
    case PL_PRUNE_LE: return lo <= v;
    case PL_PRUNE_GT: return hi > v;
    case PL_PRUNE_GE: return hi >= v;
    }
    return true;
}

/* First row of a (sorted, no NULLs) whose value is >= v (strict: > v), or a->length. */
static int64_t sorted_bound(const pl_array *a, int64_t v, bool strict) {
    int64_t lo = 0, hi = a->length;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int64_t x = int_at(a, mid);
        if (strict ? x <= v : x < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Narrows [*lo, *hi) to the rows of b that may satisfy the conditions on columns whose
 * statistics say sorted (binary search; other conditions leave the range as it is). */
static void sorted_range(const pl_batch *b, const col_stats *bs, int32_t n_conds,
                         const pl_prune_cond *conds, int64_t *lo, int64_t *hi) {
    for (int32_t k = 0; k < n_conds && *lo < *hi; k++) {
        int32_t col = conds[k].column;
        if (col < 0 || col >= b->n_cols || !bs[col].sorted || conds[k].is_float) continue;
        const pl_array *a = b->columns[col];
        int64_t v = conds[k].i;
        int64_t l = 0, h = a->length;
        switch (conds[k].op) {
        case PL_PRUNE_EQ:
            l = sorted_bound(a, v, false);
            h = sorted_bound(a, v, true);
            break;
        case PL_PRUNE_LT: h = sorted_bound(a, v, false); break;
        case PL_PRUNE_LE: h = sorted_bound(a, v, true); break;
        case PL_PRUNE_GT: l = sorted_bound(a, v, true); break;
        case PL_PRUNE_GE: l = sorted_bound(a, v, false); break;
        }
        if (l > *lo) *lo = l;
        if (h < *hi) *hi = h;
    }
}

static pl_status live_prune(live_table *t, int32_t n_conds, const pl_prune_cond *conds,
                            pl_table **out, pl_error *err) {
    pl_table *s = NULL;
    PL_TRY(pl_table_new(t->schema, &s, err));
    pl_status st = PL_OK;
    pthread_mutex_lock(&t->mu);
    for (int64_t b = 0; b < t->n_batches && !st; b++) {
        const col_stats *bs = t->stats[b];
        bool keep = true;
        for (int32_t k = 0; k < n_conds && keep && bs; k++) {
            int32_t col = conds[k].column;
            if (col < 0 || col >= t->schema->n_fields) continue;
            keep = may_match(&bs[col], &conds[k]);
        }
        if (!keep) continue;
        pl_batch *bt = t->batches[b];
        int64_t lo = 0, hi = bt->n_rows;
        if (bs) sorted_range(bt, bs, n_conds, conds, &lo, &hi);
        if (lo >= hi) continue; /* no row can match */
        if (lo == 0 && hi == bt->n_rows) {
            st = pl_table_append(s, bt, err);
            continue;
        }
        pl_batch *sl = NULL;
        st = pl_batch_slice(bt, lo, hi - lo, &sl, err);
        if (!st) {
            st = pl_table_append(s, sl, err);
            pl_batch_release(sl);
        }
    }
    pthread_mutex_unlock(&t->mu);
    if (st) {
        pl_table_release(s);
        return st;
    }
    *out = s;
    return PL_OK;
}

pl_status pl_catalog_table_snapshot_pruned(pl_catalog *c, const char *name, int32_t n_conds,
                                           const pl_prune_cond *conds, pl_table **out,
                                           pl_error *err) {
    if (n_conds <= 0) return pl_catalog_table_snapshot(c, name, out, err);
    live_table *t = table_get(c, name);
    if (!t) return table_not_found(name, err);
    pl_status st = live_prune(t, n_conds, conds, out, err);
    table_release(t);
    return st;
}

pl_status pl_catalog_handle_get_pruned(pl_catalog *c, const char *owner, const char *id,
                                       int64_t now_ns, int32_t n_conds,
                                       const pl_prune_cond *conds, pl_df **out, pl_error *err) {
    pthread_mutex_lock(&c->mu);
    handle *h = live_handle(c, owner, id, now_ns);
    pl_df *df = h && (!h->rows || n_conds <= 0) ? pl_df_retain(h->df) : NULL;
    live_table *rows = h && h->rows && n_conds > 0 ? h->rows : NULL;
    if (rows) __atomic_add_fetch(&rows->refcount, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&c->mu);
    if (!df && !rows) return pl_catalog_handle_get(c, owner, id, now_ns, out, NULL, err);
    if (df) {
        *out = df;
        return PL_OK;
    }
    pl_table *t = NULL;
    pl_status st = live_prune(rows, n_conds, conds, &t, err);
    table_release(rows);
    if (st) return st;
    st = pl_df_from_table(t, out, err);
    pl_table_release(t);
    return st;
}

/* ---------------------------------------------------------------- views */

pl_status pl_catalog_view_put(pl_catalog *c, const char *name, const char *stmt, bool replace,
                              pl_error *err) {
    if (!name || !name[0] || !stmt) PL_FAIL(err, PL_ERR_INVALID_ARG, "a view needs a name and a query");
    char *nm = pl_strdup(name), *tx = pl_strdup(stmt);
    if (!nm || !tx) {
        pl_free(nm);
        pl_free(tx);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating view \"%s\"", name);
    }
    pl_status st = PL_OK;
    pthread_mutex_lock(&c->tmu);
    int32_t i = view_index(c, name);
    if (table_index(c, name) >= 0) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "\"%s\" is a table, not a view", name);
    } else if (i >= 0 && !replace) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "view \"%s\" already exists", name);
    } else if (i >= 0) {
        pl_free(c->view_names[i]);
        pl_free(c->view_stmts[i]);
        c->view_names[i] = nm;
        c->view_stmts[i] = tx;
        nm = tx = NULL;
    } else {
        if (c->n_views == c->cap_views) {
            int32_t nc = c->cap_views ? 2 * c->cap_views : 8;
            char **a = pl_realloc(c->view_names, (size_t)nc * sizeof *a);
            if (a) c->view_names = a;
            char **b = a ? pl_realloc(c->view_stmts, (size_t)nc * sizeof *b) : NULL;
            if (b) {
                c->view_stmts = b;
                c->cap_views = nc;
            } else {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory creating view \"%s\"", name);
            }
        }
        if (!st) {
            c->view_names[c->n_views] = nm;
            c->view_stmts[c->n_views] = tx;
            c->n_views++;
            nm = tx = NULL;
        }
    }
    pthread_mutex_unlock(&c->tmu);
    pl_free(nm);
    pl_free(tx);
    return st;
}

bool pl_catalog_view_exists(pl_catalog *c, const char *name) {
    pthread_mutex_lock(&c->tmu);
    bool yes = view_index(c, name) >= 0;
    pthread_mutex_unlock(&c->tmu);
    return yes;
}

pl_status pl_catalog_view_drop(pl_catalog *c, const char *name, bool if_exists, pl_error *err) {
    pthread_mutex_lock(&c->tmu);
    int32_t i = name ? view_index(c, name) : -1;
    if (i >= 0) {
        pl_free(c->view_names[i]);
        pl_free(c->view_stmts[i]);
        memmove(&c->view_names[i], &c->view_names[i + 1], (size_t)(c->n_views - i - 1) * sizeof(char *));
        memmove(&c->view_stmts[i], &c->view_stmts[i + 1], (size_t)(c->n_views - i - 1) * sizeof(char *));
        c->n_views--;
    }
    pthread_mutex_unlock(&c->tmu);
    if (i < 0 && !if_exists) PL_FAIL(err, PL_ERR_NOT_FOUND, "view \"%s\" does not exist", name ? name : "");
    return PL_OK;
}

pl_status pl_catalog_views(pl_catalog *c, char ***names, char ***stmts, int32_t *n, pl_error *err) {
    *names = *stmts = NULL;
    *n = 0;
    pthread_mutex_lock(&c->tmu);
    int32_t k = c->n_views;
    char **a = pl_calloc((size_t)k + 1, sizeof *a), **b = pl_calloc((size_t)k + 1, sizeof *b);
    bool ok = a && b;
    for (int32_t i = 0; ok && i < k; i++) {
        a[i] = pl_strdup(c->view_names[i]);
        b[i] = pl_strdup(c->view_stmts[i]);
        ok = a[i] && b[i];
    }
    pthread_mutex_unlock(&c->tmu);
    if (!ok) {
        for (int32_t i = 0; i < k; i++) {
            if (a) pl_free(a[i]);
            if (b) pl_free(b[i]);
        }
        pl_free(a);
        pl_free(b);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory listing views");
    }
    *names = a;
    *stmts = b;
    *n = k;
    return PL_OK;
}
