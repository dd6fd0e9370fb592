/* sql_session.c - a SQL request's session over the server catalog (see catalog.h).
 *
 * A request's pl_session gets the live tables (their snapshots, as session tables) and the
 * views (their CREATE VIEW statements, run again). A script then runs statement by statement
 * (pl_sql_split): before each, the session's tables are brought up to the catalog's (each
 * statement sees the tables as of its start, with their generations); after each, what the
 * statement changed in the session is carried over to the catalog:
 *   new table            -> pl_catalog_table_create (IF NOT EXISTS kept: a table another
 *                           request created meanwhile wins)
 *   INSERT / COPY FROM   -> the rows past the snapshot's, appended (pl_catalog_table_append_as:
 *                           concurrent appends are kept, readers see old or new; a table
 *                           dropped and created again, or altered, meanwhile: ABORTED)
 *   UPDATE, DELETE,      -> the session's new version swapped in (pl_catalog_table_swap) under
 *   TRUNCATE, ALTER         the table's gate, taken before the statement's snapshot and held
 *                           until the swap: appends wait meanwhile and land after it
 *   ALTER ... RENAME TO  -> the same swap under the new name (views: put, then drop)
 *   table or view gone   -> pl_catalog_table_drop / pl_catalog_view_drop
 *   new or changed view  -> pl_catalog_view_put
 * A statement that fails changes nothing; the ones before it stay done.
 * BEGIN ... COMMIT: the statements between run in the session only (no refresh: they see the
 * tables as of BEGIN and their own changes) and only mark which tables took more than INSERTs;
 * COMMIT checks every changed table against its generation at BEGIN (under the gates of those
 * rewritten or dropped), then applies the difference between the session and BEGIN's objects.
 * ROLLBACK puts BEGIN's objects back into the session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "server/catalog.h"

pl_status pl_srv_sql_lend(pl_catalog *cat, pl_session *s, pl_error *err) {
    char **names = NULL;
    int32_t n = 0;
    PL_TRY(pl_catalog_table_names(cat, &names, &n, err));
    pl_status st = PL_OK;
    for (int32_t i = 0; !st && i < n; i++) {
        pl_table *t = NULL;
        char *keys = NULL;
        if (pl_catalog_table_snapshot_keys(cat, names[i], &t, NULL, &keys, NULL)) continue; /* dropped */
        st = pl_session_add_table(s, names[i], t, err);
        if (!st && keys) st = pl_session_set_table_keys(s, names[i], keys, err);
        pl_table_release(t);
        pl_free(keys);
    }
    for (int32_t i = 0; i < n; i++) pl_free(names[i]);
    pl_free(names);
    if (st) return st;
    char **stmts = NULL;
    PL_TRY(pl_catalog_views(cat, &names, &stmts, &n, err));
    for (int32_t i = 0; i < n; i++) {
        /* a view whose tables are gone is left out: using it reports the missing name */
        pl_error ve;
        pl_error_init(&ve);
        pl_status vst = pl_session_run(s, stmts[i], NULL, NULL, &ve);
        PL_UNUSED(vst);
        pl_free(names[i]);
        pl_free(stmts[i]);
    }
    pl_free(names);
    pl_free(stmts);
    return PL_OK;
}

/* ---------------------------------------------------------------- the script */

/* An object of the catalog as the session had it after the last statement. */
typedef struct lent {
    char *name;
    bool is_view;
    pl_table *rows;  /* table: retained (so a pointer is never reused while compared) */
    char *view_stmt; /* view: a copy */
    uint64_t gen;    /* table: its catalog generation when the statement started (0: none) */
    char *keys;      /* table: its PRIMARY KEY / UNIQUE constraints (pl_session_table_keys), or NULL */
    bool temp;       /* CREATE TEMP: the client's session keeps it, never the catalog */
} lent;

/* A catalog table's generation as the session was given it before the statement. */
typedef struct lent_gen {
    char *name;
    pl_table *rows; /* retained */
    uint64_t gen;
} lent_gen;

typedef struct script_run {
    pl_catalog *cat;
    pl_session *s;
    lent *objs;
    int32_t n_objs;
    lent_gen *gens;
    int32_t n_gens;
    const pl_sql_stmt_info *info; /* of the statement running */
    bool in_tx;                   /* between BEGIN and COMMIT / ROLLBACK */
    lent *tx_objs;                /* the session's tables and views at BEGIN */
    int32_t n_tx_objs;
    char **tx_rewritten;          /* tables the transaction changed otherwise than by INSERT */
    int32_t n_tx_rewritten;
    pl_df *last;          /* the last statement's rows, or NULL */
    int64_t last_changed; /* else its rows changed (-1: none) */
} script_run;

static void lents_free(lent *v, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        pl_free(v[i].name);
        pl_table_release(v[i].rows);
        pl_free(v[i].view_stmt);
        pl_free(v[i].keys);
    }
    pl_free(v);
}

static void lent_clear(script_run *x) {
    lents_free(x->objs, x->n_objs);
    x->objs = NULL;
    x->n_objs = 0;
}

static void tx_clear(script_run *x) {
    lents_free(x->tx_objs, x->n_tx_objs);
    x->tx_objs = NULL;
    x->n_tx_objs = 0;
    for (int32_t i = 0; i < x->n_tx_rewritten; i++) pl_free(x->tx_rewritten[i]);
    pl_free(x->tx_rewritten);
    x->tx_rewritten = NULL;
    x->n_tx_rewritten = 0;
    x->in_tx = false;
}

static bool tx_was_rewritten(const script_run *x, const char *name) {
    for (int32_t i = 0; i < x->n_tx_rewritten; i++)
        if (!strcasecmp(x->tx_rewritten[i], name)) return true;
    return false;
}

static pl_status tx_mark(script_run *x, const char *name, pl_error *err) {
    if (tx_was_rewritten(x, name)) return PL_OK;
    char **v = pl_realloc(x->tx_rewritten, (size_t)(x->n_tx_rewritten + 1) * sizeof *v);
    if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    x->tx_rewritten = v;
    if (!(v[x->n_tx_rewritten] = pl_strdup(name))) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    x->n_tx_rewritten++;
    return PL_OK;
}

static void gens_clear(script_run *x) {
    for (int32_t i = 0; i < x->n_gens; i++) {
        pl_free(x->gens[i].name);
        pl_table_release(x->gens[i].rows);
    }
    pl_free(x->gens);
    x->gens = NULL;
    x->n_gens = 0;
}

/* The generation of the catalog table the session holds as `rows` under name, or 0. */
static uint64_t gen_of(const script_run *x, const char *name, const pl_table *rows) {
    for (int32_t i = 0; i < x->n_gens; i++)
        if (x->gens[i].rows == rows && !strcasecmp(x->gens[i].name, name)) return x->gens[i].gen;
    return 0;
}

/* Records the session's tables and views as they are now. */
static pl_status lent_take(script_run *x, pl_error *err) {
    lent_clear(x);
    int32_t n = pl_session_n_objects(x->s);
    x->objs = pl_calloc((size_t)n + 1, sizeof *x->objs);
    if (!x->objs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME) continue;
        lent *l = &x->objs[x->n_objs++];
        l->name = pl_strdup(o.name);
        l->is_view = o.kind == PL_SQL_OBJECT_VIEW;
        l->temp = o.temp;
        if (!l->is_view) {
            l->rows = pl_table_retain(o.rows);
            l->gen = gen_of(x, o.name, o.rows);
            PL_TRY(pl_session_object_keys(x->s, i, &l->keys, err));
        } else {
            l->view_stmt = pl_strdup(o.view_stmt ? o.view_stmt : "");
        }
        if (!l->name || (l->is_view && !l->view_stmt)) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    return PL_OK;
}

/* The session object called name: its index, or -1. */
static int32_t session_find(pl_session *s, const char *name, pl_sql_object *o) {
    int32_t n = pl_session_n_objects(s);
    for (int32_t i = 0; i < n; i++)
        if (pl_session_object_info(s, i, o) && !strcasecmp(o->name, name)) return i;
    return -1;
}

/* Brings the session's tables up to the catalog's before a statement: every catalog table
 * whose name is not an input or a view of the session is given again as it is now (new
 * tables of other requests included), with its generation. */
static pl_status refresh(script_run *x, pl_error *err) {
    gens_clear(x);
    char **names = NULL;
    int32_t n = 0;
    PL_TRY(pl_catalog_table_names(x->cat, &names, &n, err));
    pl_status st = PL_OK;
    x->gens = pl_calloc((size_t)n + 1, sizeof *x->gens);
    if (!x->gens) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < n; i++) {
        pl_sql_object o;
        if (session_find(x->s, names[i], &o) >= 0 && (o.kind != PL_SQL_OBJECT_TABLE || o.temp))
            continue; /* an input, a view or a temporary object of that name hides the table */
        pl_table *t = NULL;
        uint64_t gen = 0;
        char *keys = NULL;
        if (pl_catalog_table_snapshot_keys(x->cat, names[i], &t, &gen, &keys, NULL)) continue; /* dropped */
        lent_gen *g = &x->gens[x->n_gens++];
        g->name = names[i];
        names[i] = NULL;
        g->rows = t;
        g->gen = gen;
        if (session_find(x->s, g->name, &o) < 0 || o.rows != t) {
            st = pl_session_add_table(x->s, g->name, t, err);
            if (!st && keys) st = pl_session_set_table_keys(x->s, g->name, keys, err);
        }
        pl_free(keys);
    }
    for (int32_t i = 0; i < n; i++) pl_free(names[i]);
    pl_free(names);
    return st;
}

static lent *lent_find(script_run *x, const char *name) {
    for (int32_t i = 0; i < x->n_objs; i++)
        if (!strcasecmp(x->objs[i].name, name)) return &x->objs[i];
    return NULL;
}

static bool session_has(pl_session *s, const char *name) {
    pl_sql_object o;
    return session_find(s, name, &o) >= 0 && o.kind != PL_SQL_OBJECT_FRAME;
}

static bool same_keys(const char *a, const char *b) {
    return !strcmp(a ? a : "", b ? b : "");
}

/* Session table name: whether it has or had (lent l) PRIMARY KEY / UNIQUE constraints, and its
 * keys now (*keys pl_malloc'd, or NULL). */
static pl_status keys_now(script_run *x, const char *name, const lent *l, char **keys, bool *keyed,
                          pl_error *err) {
    PL_TRY(pl_session_table_keys(x->s, name, keys, err));
    *keyed = *keys || (l && !l->is_view && l->keys);
    return PL_OK;
}

/* The rows of t from row `from` on, as a table of the same schema. */
static pl_status rows_after(pl_table *t, int64_t from, pl_table **out, pl_error *err) {
    pl_table *d = NULL;
    PL_TRY(pl_table_new(t->schema, &d, err));
    pl_status st = PL_OK;
    int64_t at = 0;
    for (int64_t b = 0; b < t->n_batches && !st; b++) {
        pl_batch *bt = t->batches[b];
        int64_t lo = from > at ? from - at : 0;
        at += bt->n_rows;
        if (lo >= bt->n_rows) continue;
        if (lo == 0) {
            st = pl_table_append(d, bt, err);
            continue;
        }
        pl_batch *sl = NULL;
        st = pl_batch_slice(bt, lo, bt->n_rows - lo, &sl, err);
        if (!st) st = pl_table_append(d, sl, err);
        pl_batch_release(sl);
    }
    if (st) {
        pl_table_release(d);
        return st;
    }
    *out = d;
    return PL_OK;
}

static pl_status refuse(const char *tag, const char *name, pl_error *err) {
    pl_error_set(err, PL_ERR_UNSUPPORTED, "%s of server table \"%s\" is not supported", tag, name);
    if (err)
        snprintf(err->hint, sizeof err->hint,
                 "server tables take CREATE TABLE [AS], INSERT, COPY FROM, UPDATE, DELETE, "
                 "TRUNCATE, ALTER TABLE and DROP");
    return PL_ERR_UNSUPPORTED;
}

/* The lent table that ALTER TABLE ... RENAME TO gave the new name of session table o: the
 * lent one (same rows) the session no longer has. */
static lent *renamed_from(script_run *x, const pl_sql_object *o) {
    for (int32_t i = 0; i < x->n_objs; i++) {
        lent *l = &x->objs[i];
        if (!l->temp && l->is_view == (o->kind == PL_SQL_OBJECT_VIEW) && !session_has(x->s, l->name) &&
            (l->is_view || l->rows == o->rows))
            return l;
    }
    return NULL;
}

/* Carries what statement `tag` changed in the session over to the catalog. */
static pl_status sync(script_run *x, const char *tag, pl_error *err) {
    bool adds = !strcmp(tag, "INSERT") || !strcmp(tag, "COPY");
    bool creates = !strcmp(tag, "CREATE TABLE");
    bool rewrites = !strcmp(tag, "UPDATE") || !strcmp(tag, "DELETE") || !strcmp(tag, "TRUNCATE") ||
                    !strcmp(tag, "ALTER TABLE");
    bool renames = !strcmp(tag, "ALTER TABLE") || !strcmp(tag, "ALTER VIEW");
    bool views = !strcmp(tag, "CREATE VIEW");
    bool drops = !strncmp(tag, "DROP ", 5);
    int32_t n = pl_session_n_objects(x->s);
    /* check first, so a refused statement changes nothing */
    for (int32_t i = 0; i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME || o.temp) continue;
        lent *l = lent_find(x, o.name);
        if (l && l->temp) l = NULL; /* a temporary object dropped or renamed: the name is new */
        if (o.kind == PL_SQL_OBJECT_TABLE) {
            /* the catalog does not keep them (ALTER ... SET DEFAULT leaves the rows as they were) */
            if (o.has_defaults) {
                pl_error_set(err, PL_ERR_UNSUPPORTED, "DEFAULT on server table \"%s\" is not supported",
                             o.name);
                return PL_ERR_UNSUPPORTED;
            }
            if (l && !l->is_view && l->rows == o.rows) continue;
            bool ok = l ? adds || creates || rewrites : creates || (renames && renamed_from(x, &o));
            if (!ok) return refuse(tag, o.name, err);
        } else if (!l || !l->is_view || strcmp(l->view_stmt, o.view_stmt ? o.view_stmt : "")) {
            if (!views && !(renames && !l && renamed_from(x, &o))) return refuse(tag, o.name, err);
        }
    }
    for (int32_t i = 0; i < x->n_objs; i++)
        if (!x->objs[i].temp && !session_has(x->s, x->objs[i].name) && !drops && !renames)
            return refuse(tag, x->objs[i].name, err);
    pl_status st = PL_OK;
    if (x->in_tx) { /* COMMIT applies the changes; note which tables took more than INSERTs */
        for (int32_t i = 0; i < n && !st; i++) {
            pl_sql_object o;
            if (!pl_session_object_info(x->s, i, &o) || o.kind != PL_SQL_OBJECT_TABLE || o.temp)
                continue;
            lent *l = lent_find(x, o.name);
            if (l && l->temp) l = NULL;
            char *keys = NULL;
            bool keyed = false;
            st = keys_now(x, o.name, l, &keys, &keyed, err);
            /* an upsert may change rows: a table with keys is swapped in, never appended to */
            bool changed = !(l && l->rows == o.rows && same_keys(l->keys, keys));
            if (!st && changed && (!adds || keyed)) st = tx_mark(x, o.name, err);
            pl_free(keys);
        }
        for (int32_t i = 0; i < x->n_objs && !st; i++)
            if (!x->objs[i].temp && !session_has(x->s, x->objs[i].name))
                st = tx_mark(x, x->objs[i].name, err);
        return st ? st : lent_take(x, err);
    }
    /* then apply: renames and changed tables first (a rename is a swap under the new name) */
    for (int32_t i = 0; i < n && !st; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME || o.temp) continue;
        lent *l = lent_find(x, o.name);
        if (l && l->temp) l = NULL;
        lent *from = !l && renames ? renamed_from(x, &o) : NULL;
        if (o.kind == PL_SQL_OBJECT_VIEW) {
            if (l && l->is_view && !strcmp(l->view_stmt, o.view_stmt ? o.view_stmt : "")) continue;
            st = pl_catalog_view_put(x->cat, o.name, o.view_stmt ? o.view_stmt : "", l != NULL, err);
            if (!st && from) st = pl_catalog_view_drop(x->cat, from->name, false, err);
            continue;
        }
        char *keys = NULL;
        bool keyed = false;
        st = keys_now(x, o.name, l, &keys, &keyed, err);
        if (st) break;
        if (l && l->rows == o.rows && same_keys(l->keys, keys)) {
            /* unchanged */
        } else if (from || (l && (rewrites || (adds && keyed)))) {
            /* an INSERT into a table with keys (an upsert may change rows) ran under its gate
             * (run_one): swapped in whole like an UPDATE */
            lent *base = from ? from : l;
            st = pl_catalog_table_swap_indexed(x->cat, base->name, base->gen, base->rows->n_rows,
                                               o.name, o.rows, keys,
                                               pl_session_key_index_take(x->s, o.name), err);
        } else if (l && adds) {
            if (o.rows->n_rows < l->rows->n_rows)
                PL_FAIL(err, PL_ERR_INTERNAL, "%s into \"%s\" lost rows", tag, o.name);
            pl_table *d = NULL;
            int64_t after = 0;
            st = rows_after(o.rows, l->rows->n_rows, &d, err);
            if (!st)
                st = pl_catalog_table_append_as(x->cat, o.name, l->rows->schema, d, &after, err);
            pl_table_release(d);
        } else {
            bool if_not_exists = x->info && x->info->if_not_exists && !l;
            st = pl_catalog_table_create_keyed(x->cat, o.name, o.rows->schema, o.rows, keys,
                                               if_not_exists, l != NULL, NULL, err);
        }
        pl_free(keys);
    }
    for (int32_t i = 0; i < x->n_objs && !st; i++) {
        lent *l = &x->objs[i];
        if (!drops || l->temp || session_has(x->s, l->name)) continue;
        st = l->is_view ? pl_catalog_view_drop(x->cat, l->name, false, err)
                        : pl_catalog_table_drop(x->cat, l->name, false, NULL, err);
    }
    if (st) return st;
    return lent_take(x, err);
}

static pl_status on_stmt(void *user, pl_sql_result *r, pl_error *err) {
    script_run *x = user;
    if (r->explain) {
        pl_error_set(err, PL_ERR_UNSUPPORTED, "EXPLAIN in a SQL script on the server is not supported");
        if (err) snprintf(err->hint, sizeof err->hint, "use the Explain call (DataFrame.explain() in Python)");
        return PL_ERR_UNSUPPORTED;
    }
    PL_TRY(sync(x, r->tag, err));
    pl_df_release(x->last);
    x->last = r->df; /* taken */
    r->df = NULL;
    x->last_changed = r->rows_changed;
    return PL_OK;
}

static int cmp_names(const void *a, const void *b) {
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* ---------------------------------------------------------------- transactions */

static lent *find_in(lent *v, int32_t n, const char *name) {
    for (int32_t i = 0; i < n; i++)
        if (!strcasecmp(v[i].name, name)) return &v[i];
    return NULL;
}

/* BEGIN: the session's objects now are the transaction's base. */
static pl_status tx_begin(script_run *x, pl_error *err) {
    PL_TRY(refresh(x, err));
    PL_TRY(lent_take(x, err));
    x->tx_objs = pl_calloc((size_t)x->n_objs + 1, sizeof *x->tx_objs);
    if (!x->tx_objs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < x->n_objs; i++) {
        lent *a = &x->objs[i], *b = &x->tx_objs[x->n_tx_objs++];
        *b = *a;
        b->name = pl_strdup(a->name);
        b->rows = a->rows ? pl_table_retain(a->rows) : NULL;
        b->view_stmt = a->view_stmt ? pl_strdup(a->view_stmt) : NULL;
        b->keys = a->keys ? pl_strdup(a->keys) : NULL;
        if (!b->name || (a->view_stmt && !b->view_stmt) || (a->keys && !b->keys))
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    x->in_tx = true;
    return PL_OK;
}

/* Runs `<head>"name"<tail>` in the session (the name quoted). */
static pl_status run_named(pl_session *s, const char *head, const char *name, const char *tail,
                           pl_error *err) {
    size_t n = strlen(name);
    char *q = pl_malloc(strlen(head) + 2 * n + strlen(tail) + 3);
    if (!q) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    char *p = q + sprintf(q, "%s\"", head);
    for (size_t i = 0; i < n; i++) {
        if (name[i] == '"') *p++ = '"';
        *p++ = name[i];
    }
    sprintf(p, "\"%s", tail);
    pl_status st = pl_session_run(s, q, NULL, NULL, err);
    pl_free(q);
    return st;
}

static pl_status session_drop(pl_session *s, const char *kind, const char *name, pl_error *err) {
    return run_named(s, !strcmp(kind, "VIEW") ? "DROP VIEW IF EXISTS " : "DROP TABLE IF EXISTS ",
                     name, "", err);
}

static pl_status session_view_stub(pl_session *s, const char *name, pl_error *err) {
    return run_named(s, "CREATE VIEW ", name, " AS SELECT 1 AS gone", err);
}

/* ROLLBACK: the session back to the transaction's base. */
static pl_status tx_rollback(script_run *x, pl_error *err) {
    pl_status st = PL_OK;
    int32_t n = pl_session_n_objects(x->s);
    for (int32_t i = n - 1; i >= 0 && !st; i--) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME) continue;
        lent *b = find_in(x->tx_objs, x->n_tx_objs, o.name);
        if (b && b->is_view == (o.kind == PL_SQL_OBJECT_VIEW)) continue;
        char *name = pl_strdup(o.name);
        if (!name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        st = session_drop(x->s, o.kind == PL_SQL_OBJECT_VIEW ? "VIEW" : "TABLE", name, err);
        pl_free(name);
    }
    for (int32_t i = 0; i < x->n_tx_objs && !st; i++) {
        lent *b = &x->tx_objs[i];
        pl_sql_object o;
        bool has = session_find(x->s, b->name, &o) >= 0;
        if (!b->is_view) {
            if (!has || o.rows != b->rows) st = pl_session_add_table(x->s, b->name, b->rows, err);
            if (!st) st = pl_session_set_table_keys(x->s, b->name, b->keys, err);
            if (!st) st = pl_session_set_temp(x->s, b->name, b->temp, err);
        } else if (!has || strcmp(o.view_stmt ? o.view_stmt : "", b->view_stmt)) {
            st = session_drop(x->s, "VIEW", b->name, err);
            if (!st) st = pl_session_run(x->s, b->view_stmt, NULL, NULL, err);
        }
    }
    tx_clear(x);
    return st ? st : lent_take(x, err);
}

/* COMMIT: the transaction's changes carried over to the catalog. Checked first, under the gates
 * of the tables it rewrote or dropped: every base table it changed must still be the one it
 * read (its generation), and one it rewrote or dropped must have no rows appended since;
 * new names must be free. Then applied table by table. */
static pl_status tx_commit(script_run *x, pl_error *err) {
    int32_t n = pl_session_n_objects(x->s);
    char **gnames = pl_calloc((size_t)x->n_tx_objs + 1, sizeof *gnames);
    pl_catalog_gate **gates = pl_calloc((size_t)x->n_tx_objs + 1, sizeof *gates);
    int32_t n_gates = 0;
    pl_status st = gnames && gates ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < x->n_tx_objs; i++) {
        lent *b = &x->tx_objs[i];
        pl_sql_object o;
        if (b->is_view || b->temp) continue;
        bool has = session_find(x->s, b->name, &o) >= 0 && o.kind == PL_SQL_OBJECT_TABLE && !o.temp;
        if (!has || tx_was_rewritten(x, b->name)) gnames[n_gates++] = b->name;
    }
    if (n_gates > 1) qsort(gnames, (size_t)n_gates, sizeof *gnames, cmp_names);
    for (int32_t i = 0; !st && i < n_gates; i++)
        if (pl_catalog_table_gate(x->cat, gnames[i], &gates[i], NULL)) gates[i] = NULL;
    /* check */
    for (int32_t i = 0; !st && i < x->n_tx_objs; i++) {
        lent *b = &x->tx_objs[i];
        pl_sql_object o;
        bool has = session_find(x->s, b->name, &o) >= 0 && o.kind == PL_SQL_OBJECT_TABLE && !o.temp;
        if (b->is_view || b->temp || (has && o.rows == b->rows)) continue;
        pl_table *now = NULL;
        uint64_t gen = 0;
        if (pl_catalog_table_snapshot_gen(x->cat, b->name, &now, &gen, NULL) || gen != b->gen ||
            ((!has || tx_was_rewritten(x, b->name)) && now->n_rows != b->rows->n_rows))
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "COMMIT: table \"%s\" was changed by another request while this "
                              "statement ran (the transaction read it at BEGIN); nothing was "
                              "changed: run the transaction again",
                              b->name);
        pl_table_release(now);
    }
    for (int32_t i = 0; !st && i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME || o.temp) continue;
        lent *b0 = find_in(x->tx_objs, x->n_tx_objs, o.name);
        if (b0 && !b0->temp) continue; /* BEGIN's: checked above */
        pl_schema *sc = NULL;
        bool taken = !pl_catalog_table_schema(x->cat, o.name, &sc, NULL);
        pl_schema_release(sc);
        if (taken || pl_catalog_view_exists(x->cat, o.name))
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "COMMIT: \"%s\" already exists", o.name);
    }
    /* apply: drops, then changed and new tables and views */
    for (int32_t i = 0; !st && i < x->n_tx_objs; i++) {
        lent *b = &x->tx_objs[i];
        pl_sql_object o;
        bool has = session_find(x->s, b->name, &o) >= 0;
        if (b->temp || (has && (o.kind == PL_SQL_OBJECT_VIEW) == b->is_view)) continue;
        st = b->is_view ? pl_catalog_view_drop(x->cat, b->name, true, err)
                        : pl_catalog_table_drop(x->cat, b->name, true, NULL, err);
    }
    for (int32_t i = 0; !st && i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME || o.temp) continue;
        lent *b = find_in(x->tx_objs, x->n_tx_objs, o.name);
        if (b && (b->temp || b->is_view != (o.kind == PL_SQL_OBJECT_VIEW))) b = NULL;
        if (o.kind == PL_SQL_OBJECT_VIEW) {
            const char *vs = o.view_stmt ? o.view_stmt : "";
            if (!b || strcmp(b->view_stmt, vs)) st = pl_catalog_view_put(x->cat, o.name, vs, b != NULL, err);
            continue;
        }
        char *keys = NULL;
        if ((st = pl_session_table_keys(x->s, o.name, &keys, err))) break;
        if (b && b->rows == o.rows && same_keys(b->keys, keys)) {
            /* unchanged */
        } else if (b && tx_was_rewritten(x, o.name)) {
            st = pl_catalog_table_swap_indexed(x->cat, b->name, b->gen, b->rows->n_rows, NULL, o.rows,
                                               keys, pl_session_key_index_take(x->s, o.name), err);
        } else if (b) {
            pl_table *d = NULL;
            int64_t after = 0;
            st = rows_after(o.rows, b->rows->n_rows, &d, err);
            if (!st) st = pl_catalog_table_append_as(x->cat, o.name, b->rows->schema, d, &after, err);
            pl_table_release(d);
        } else {
            st = pl_catalog_table_create_keyed(x->cat, o.name, o.rows->schema, o.rows, keys, false,
                                               false, NULL, err);
        }
        pl_free(keys);
    }
    for (int32_t i = 0; gates && i < n_gates; i++) pl_catalog_table_ungate(gates[i]);
    pl_free(gates);
    pl_free(gnames);
    tx_clear(x);
    return st ? st : lent_take(x, err);
}

/* BEGIN / COMMIT / ROLLBACK (tx: what info says the statement is). */
static pl_status run_tx(script_run *x, pl_sql_tx tx, int32_t at, pl_error *err) {
    pl_status st = PL_OK;
    if (tx == PL_SQL_TX_OTHER) {
        st = pl_error_set(err, PL_ERR_UNSUPPORTED, "only BEGIN, COMMIT and ROLLBACK are supported");
    } else if (tx == PL_SQL_TX_BEGIN) {
        st = x->in_tx ? pl_error_set(err, PL_ERR_INVALID_ARG,
                                     "cannot start a transaction within a transaction")
                      : tx_begin(x, err);
    } else if (!x->in_tx) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "cannot %s - no transaction is active",
                          tx == PL_SQL_TX_COMMIT ? "commit" : "rollback");
    } else {
        st = tx == PL_SQL_TX_COMMIT ? tx_commit(x, err) : tx_rollback(x, err);
    }
    if (st && err && err->sql_pos < 0) err->sql_pos = at;
    pl_df_release(x->last);
    x->last = NULL;
    x->last_changed = -1;
    return st;
}

/* The session's keyed table name as refresh gave it (the same rows): its lent_gen, else NULL. */
static const lent_gen *given_as_is(script_run *x, const char *name) {
    pl_sql_object o;
    if (session_find(x->s, name, &o) < 0 || o.kind != PL_SQL_OBJECT_TABLE || o.temp || !o.has_keys)
        return NULL;
    for (int32_t i = 0; i < x->n_gens; i++)
        if (x->gens[i].rows == o.rows && !strcasecmp(x->gens[i].name, name)) return &x->gens[i];
    return NULL;
}

/* The key indexes of the gated tables (names[i] gated when gates[i]): before the statement
 * (to_session) the catalog's index of the version refresh gave the session goes to the
 * session, so an INSERT checks its keys in time in its own rows; after it, an index the
 * session still holds for that version (the statement failed or changed nothing; a changed
 * table took its index along in the swap) goes back to the catalog. */
static void key_indexes_move(script_run *x, char **names, pl_catalog_gate **gates, int32_t n,
                             bool to_session) {
    for (int32_t i = 0; i < n; i++) {
        const lent_gen *g = gates[i] ? given_as_is(x, names[i]) : NULL;
        if (!g) continue;
        if (to_session)
            pl_session_key_index_give(x->s, g->name, pl_catalog_table_key_index_take(x->cat, g->name, g->gen));
        else
            pl_catalog_table_key_index_put(x->cat, g->name, g->gen, pl_session_key_index_take(x->s, g->name));
    }
}

/* Runs one statement (text, at byte `at` of the script): takes the gates of the tables it
 * rewrites (in name order, so two scripts never wait on each other), then brings the session
 * up to the catalog, runs it and carries its changes over. */
static pl_status run_one(script_run *x, const char *text, int32_t at, pl_error *err) {
    pl_sql_stmt_info info;
    PL_TRY(pl_sql_stmt_info_read(text, &info, err));
    if (info.tx != PL_SQL_TX_NONE) {
        pl_status st = run_tx(x, info.tx, at, err);
        pl_sql_stmt_info_reset(&info);
        return st;
    }
    /* an INSERT into a table with keys reads the table to check them (an upsert rewrites
     * rows): gated like an UPDATE (INSERT names no table UPDATE-like statements name) */
    pl_status st = PL_OK;
    for (int32_t i = 0; !st && !x->in_tx && i < info.n_inserts; i++) {
        if (!pl_catalog_table_keyed(x->cat, info.inserts[i])) continue;
        char **v = pl_realloc(info.targets, (size_t)(info.n_targets + 1) * sizeof *v);
        if (!v) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        info.targets = v;
        v[info.n_targets] = info.inserts[i];
        info.inserts[i] = NULL;
        info.n_targets++;
    }
    int32_t n_gates = x->in_tx || st ? 0 : info.n_targets; /* in a transaction COMMIT takes them */
    if (n_gates > 1) qsort(info.targets, (size_t)n_gates, sizeof *info.targets, cmp_names);
    pl_catalog_gate **gates = pl_calloc((size_t)n_gates + 1, sizeof *gates);
    if (!gates && !st) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < n_gates; i++)
        if (pl_catalog_table_gate(x->cat, info.targets[i], &gates[i], NULL)) gates[i] = NULL;
    x->info = &info;
    if (!st && !x->in_tx) st = refresh(x, err);
    /* a view the session was not lent (its tables are gone, so it no longer plans) can still
     * be dropped: a stand-in of that name takes its place for the DROP */
    for (int32_t i = 0; !st && !x->in_tx && i < info.n_dropped_views; i++) {
        pl_sql_object o;
        if (session_find(x->s, info.dropped_views[i], &o) >= 0 ||
            !pl_catalog_view_exists(x->cat, info.dropped_views[i]))
            continue;
        st = session_view_stub(x->s, info.dropped_views[i], err);
    }
    if (!st && !x->in_tx) st = lent_take(x, err);
    bool moved = !st && n_gates > 0;
    if (moved) key_indexes_move(x, info.targets, gates, n_gates, true);
    if (!st) {
        st = pl_session_run(x->s, text, on_stmt, x, err);
        if (st && err && err->sql_pos >= 0) err->sql_pos += at;
    }
    if (moved) key_indexes_move(x, info.targets, gates, n_gates, false);
    x->info = NULL;
    for (int32_t i = 0; gates && i < n_gates; i++) pl_catalog_table_ungate(gates[i]);
    pl_free(gates);
    pl_sql_stmt_info_reset(&info);
    return st;
}

pl_status pl_srv_sql_script(pl_catalog *cat, pl_session *s, const char *script, pl_df **out,
                            pl_error *err) {
    script_run x;
    memset(&x, 0, sizeof x);
    x.cat = cat;
    x.s = s;
    x.last_changed = -1;
    pl_sql_span *spans = NULL;
    int32_t n_spans = 0;
    pl_status st = pl_sql_split(script, &spans, &n_spans, err);
    char *text = NULL;
    for (int32_t i = 0; !st && i < n_spans; i++) {
        int32_t len = spans[i].end - spans[i].start;
        pl_free(text);
        if (!(text = pl_malloc((size_t)len + 1))) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(text, script + spans[i].start, (size_t)len);
        text[len] = 0;
        st = run_one(&x, text, spans[i].start, err);
    }
    pl_free(text);
    pl_free(spans);
    if (!st && x.in_tx)
        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                          "the script ended inside a transaction (BEGIN without COMMIT or "
                          "ROLLBACK): its changes were discarded");
    if (!st && !x.last) {
        /* no rows to return: the rows the last statement changed, like DuckDB's "Count" */
        char q[96];
        if (x.last_changed >= 0)
            snprintf(q, sizeof q, "SELECT CAST(%lld AS BIGINT) AS \"Count\"", (long long)x.last_changed);
        else
            snprintf(q, sizeof q, "SELECT CAST(0 AS BIGINT) AS \"Count\" WHERE false");
        st = pl_session_query(s, q, &x.last, err);
        if (st && err) err->sql_pos = -1;
    }
    if (!st) {
        *out = x.last;
        x.last = NULL;
    }
    pl_df_release(x.last);
    lent_clear(&x);
    gens_clear(&x);
    tx_clear(&x);
    return st;
}

/* ---------------------------------------------------------------- a client's SQL session */

/* A SQL session's state between its requests: its temporary tables (rows, keys) and views
 * (their CREATE TEMP VIEW statements), in the order the session held them. */
typedef struct temp_obj {
    char *name;
    bool is_view;
    pl_table *rows;  /* table: retained */
    char *keys;      /* table: pl_session_table_keys' text, or NULL */
    char *view_stmt; /* view */
} temp_obj;

struct pl_srv_sql_temps {
    temp_obj *v;
    int32_t n;
    char time_zone[128]; /* SET TimeZone of the session */
    int64_t bytes; /* the tables' memory, charged to the session's handle */
};

void pl_srv_sql_temps_free(void *p) {
    pl_srv_sql_temps *t = p;
    if (!t) return;
    for (int32_t i = 0; i < t->n; i++) {
        pl_free(t->v[i].name);
        pl_table_release(t->v[i].rows);
        pl_free(t->v[i].keys);
        pl_free(t->v[i].view_stmt);
    }
    pl_free(t->v);
    pl_free(t);
}

int64_t pl_srv_sql_temps_bytes(const pl_srv_sql_temps *t) { return t ? t->bytes : 0; }

pl_status pl_srv_sql_temps_take(pl_session *s, pl_srv_sql_temps **out, pl_error *err) {
    int32_t n = pl_session_n_objects(s);
    pl_srv_sql_temps *t = pl_calloc(1, sizeof *t);
    if (!t || !(t->v = pl_calloc((size_t)n + 1, sizeof *t->v))) {
        pl_free(t);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_status st = PL_OK;
    snprintf(t->time_zone, sizeof t->time_zone, "%s", pl_session_time_zone(s));
    for (int32_t i = 0; !st && i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(s, i, &o) || !o.temp) continue;
        temp_obj *e = &t->v[t->n++];
        e->is_view = o.kind == PL_SQL_OBJECT_VIEW;
        e->name = pl_strdup(o.name);
        if (!e->name) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else if (e->is_view && !(e->view_stmt = pl_strdup(o.view_stmt ? o.view_stmt : "")))
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else if (!e->is_view) {
            e->rows = pl_table_retain(o.rows);
            t->bytes += pl_catalog_table_bytes(o.rows);
            st = pl_session_object_keys(s, i, &e->keys, err);
        }
    }
    if (st) {
        pl_srv_sql_temps_free(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

/* Removes whatever session object is called name (a table or view the catalog lent). */
static pl_status drop_any(pl_session *s, const char *name, pl_error *err) {
    pl_sql_object o;
    if (session_find(s, name, &o) < 0 || o.kind == PL_SQL_OBJECT_FRAME) return PL_OK;
    return session_drop(s, o.kind == PL_SQL_OBJECT_VIEW ? "VIEW" : "TABLE", name, err);
}

pl_status pl_srv_sql_temps_restore(pl_session *s, const pl_srv_sql_temps *t, pl_error *err) {
    if (!t) return PL_OK;
    PL_TRY(pl_session_set_time_zone(s, t->time_zone, err));
    for (int32_t i = 0; i < t->n; i++) {
        const temp_obj *e = &t->v[i];
        if (e->is_view) continue;
        PL_TRY(drop_any(s, e->name, err)); /* a temporary object hides the catalog's */
        PL_TRY(pl_session_add_table(s, e->name, e->rows, err));
        PL_TRY(pl_session_set_table_keys(s, e->name, e->keys, err));
        PL_TRY(pl_session_set_temp(s, e->name, true, err));
    }
    /* views in rounds: one may read another defined after it (CREATE OR REPLACE keeps the
     * place); a view whose tables are gone is left out, like the catalog's */
    bool *done = pl_calloc((size_t)t->n + 1, sizeof *done);
    if (!done) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (bool progress = true; progress && !st;) {
        progress = false;
        for (int32_t i = 0; i < t->n && !st; i++) {
            const temp_obj *e = &t->v[i];
            if (!e->is_view || done[i]) continue;
            st = drop_any(s, e->name, err);
            pl_error ve;
            pl_error_init(&ve);
            if (!st && !pl_session_run(s, e->view_stmt, NULL, NULL, &ve)) {
                done[i] = progress = true;
                st = pl_session_set_temp(s, e->name, true, err);
            }
        }
    }
    pl_free(done);
    return st;
}
