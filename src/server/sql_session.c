/* sql_session.c - a SQL request's session over the server catalog (see catalog.h).
 *
 * A request's pl_session gets the live tables (their snapshots, as session tables) and the
 * views (their CREATE VIEW statements, run again). A script then runs statement by statement;
 * after each, what the statement changed in the session is carried over to the catalog:
 *   new table            -> pl_catalog_table_create
 *   INSERT / COPY FROM   -> the rows past the snapshot's, appended (pl_catalog_table_append:
 *                           concurrent appends are kept, readers see old or new)
 *   table or view gone   -> pl_catalog_table_drop / pl_catalog_view_drop
 *   new or changed view  -> pl_catalog_view_put
 * Statements that rewrite a table's rows (UPDATE, DELETE, TRUNCATE, ALTER) are refused: the
 * server could not tell them apart from concurrent appends. A statement that fails changes
 * nothing; the ones before it stay done. */
#include <stdio.h>
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
        if (pl_catalog_table_snapshot(cat, names[i], &t, NULL)) continue; /* dropped meanwhile */
        st = pl_session_add_table(s, names[i], t, err);
        pl_table_release(t);
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
} lent;

typedef struct script_run {
    pl_catalog *cat;
    pl_session *s;
    lent *objs;
    int32_t n_objs;
    pl_df *last;          /* the last statement's rows, or NULL */
    int64_t last_changed; /* else its rows changed (-1: none) */
} script_run;

static void lent_clear(script_run *x) {
    for (int32_t i = 0; i < x->n_objs; i++) {
        pl_free(x->objs[i].name);
        pl_table_release(x->objs[i].rows);
        pl_free(x->objs[i].view_stmt);
    }
    pl_free(x->objs);
    x->objs = NULL;
    x->n_objs = 0;
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
        if (!l->is_view) l->rows = pl_table_retain(o.rows);
        else l->view_stmt = pl_strdup(o.view_stmt ? o.view_stmt : "");
        if (!l->name || (l->is_view && !l->view_stmt)) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    return PL_OK;
}

static lent *lent_find(script_run *x, const char *name) {
    for (int32_t i = 0; i < x->n_objs; i++)
        if (!strcasecmp(x->objs[i].name, name)) return &x->objs[i];
    return NULL;
}

static bool session_has(pl_session *s, const char *name) {
    int32_t n = pl_session_n_objects(s);
    for (int32_t i = 0; i < n; i++) {
        const char *nm = pl_session_object(s, i, NULL);
        if (nm && !strcasecmp(nm, name)) return true;
    }
    return false;
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
                 "server tables take CREATE TABLE [AS], INSERT, COPY FROM and DROP; to rewrite "
                 "one, DROP it and CREATE TABLE it AS a query");
    return PL_ERR_UNSUPPORTED;
}

/* Carries what statement `tag` changed in the session over to the catalog. */
static pl_status sync(script_run *x, const char *tag, pl_error *err) {
    bool adds = !strcmp(tag, "INSERT") || !strcmp(tag, "COPY");
    bool creates = !strcmp(tag, "CREATE TABLE");
    bool views = !strcmp(tag, "CREATE VIEW");
    bool drops = !strncmp(tag, "DROP ", 5);
    int32_t n = pl_session_n_objects(x->s);
    /* check first, so a refused statement changes nothing */
    for (int32_t i = 0; i < n; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME) continue;
        lent *l = lent_find(x, o.name);
        if (o.kind == PL_SQL_OBJECT_TABLE) {
            if (l && !l->is_view && l->rows == o.rows) continue;
            if (!(l ? (adds || creates) : creates)) return refuse(tag, o.name, err);
            if (o.has_defaults || o.has_keys) {
                pl_error_set(err, PL_ERR_UNSUPPORTED,
                             "%s on server table \"%s\" is not supported",
                             o.has_keys ? "PRIMARY KEY / UNIQUE" : "DEFAULT", o.name);
                return PL_ERR_UNSUPPORTED;
            }
        } else if (!l || !l->is_view || strcmp(l->view_stmt, o.view_stmt ? o.view_stmt : "")) {
            if (!views) return refuse(tag, o.name, err);
        }
    }
    for (int32_t i = 0; i < x->n_objs; i++)
        if (!session_has(x->s, x->objs[i].name) && !drops) return refuse(tag, x->objs[i].name, err);
    /* then apply */
    pl_status st = PL_OK;
    for (int32_t i = 0; i < x->n_objs && !st; i++) {
        lent *l = &x->objs[i];
        if (session_has(x->s, l->name)) continue;
        st = l->is_view ? pl_catalog_view_drop(x->cat, l->name, false, err)
                        : pl_catalog_table_drop(x->cat, l->name, false, NULL, err);
    }
    for (int32_t i = 0; i < n && !st; i++) {
        pl_sql_object o;
        if (!pl_session_object_info(x->s, i, &o) || o.kind == PL_SQL_OBJECT_FRAME) continue;
        lent *l = lent_find(x, o.name);
        if (o.kind == PL_SQL_OBJECT_VIEW) {
            if (l && l->is_view && !strcmp(l->view_stmt, o.view_stmt ? o.view_stmt : "")) continue;
            st = pl_catalog_view_put(x->cat, o.name, o.view_stmt ? o.view_stmt : "", l != NULL, err);
        } else if (l && l->rows == o.rows) {
            continue;
        } else if (l && adds) {
            if (o.rows->n_rows < l->rows->n_rows)
                PL_FAIL(err, PL_ERR_INTERNAL, "%s into \"%s\" lost rows", tag, o.name);
            pl_table *d = NULL;
            int64_t after = 0;
            st = rows_after(o.rows, l->rows->n_rows, &d, err);
            if (!st) st = pl_catalog_table_append(x->cat, o.name, d, &after, err);
            pl_table_release(d);
        } else {
            st = pl_catalog_table_create(x->cat, o.name, o.rows->schema, o.rows, false, l != NULL,
                                         NULL, err);
        }
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

pl_status pl_srv_sql_script(pl_catalog *cat, pl_session *s, const char *script, pl_df **out,
                            pl_error *err) {
    script_run x;
    memset(&x, 0, sizeof x);
    x.cat = cat;
    x.s = s;
    x.last_changed = -1;
    pl_status st = lent_take(&x, err);
    if (!st) st = pl_session_run(s, script, on_stmt, &x, err);
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
    return st;
}
