/* session_int.h - what session.c (catalog, parsing, the statement loop, queries, EXPLAIN, SET),
 * session_dml.c (CREATE TABLE [AS], CREATE VIEW, INSERT, DROP, COPY) and session_change.c
 * (UPDATE, DELETE, TRUNCATE, ALTER TABLE, RETURNING) share: the catalog
 * entries and small helpers for positioned errors and protobuf node fields. */
#ifndef PL_SQL_SESSION_INT_H
#define PL_SQL_SESSION_INT_H

#include "sql/sql_int.h"

/* views may refer to views this deep (a guard against a view that reaches itself) */
#define PL_SQL_MAX_VIEW_DEPTH 32
/* INSERT appends rows as a new batch; the last batches are merged with the new rows instead
 * (into at most this many rows) while the one before is no larger than what is merged so far
 * or the merge has at most PL_SQL_MERGE_SMALL_ROWS: row-at-a-time INSERT scripts leave a few
 * batches (not one per statement), each row copied a few times (not at every INSERT) */
#define PL_SQL_MERGE_BATCH_ROWS 65536
#define PL_SQL_MERGE_SMALL_ROWS 1024

typedef enum pl_cat_kind {
    PL_CAT_TABLE = 0, /* CREATE TABLE: rows in `table`, insertable */
    PL_CAT_VIEW,      /* CREATE VIEW: a query planned again at every use */
    PL_CAT_FRAME,     /* pl_session_register: a DataFrame (shown and dropped as a view) */
} pl_cat_kind;

/* A PRIMARY KEY or UNIQUE constraint: no two rows have equal non-NULL values in cols. */
typedef struct pl_cat_key {
    int32_t n_cols;
    int32_t *cols; /* table column indices */
    bool primary;
} pl_cat_key;

/* session_keys.c: per key, the hashes and row numbers of a table version's rows (pl_key_index,
 * declared in polaroid/sql.h). */

typedef struct pl_cat_entry {
    char *name; /* as written (lookups ignore case) */
    pl_cat_kind kind;
    pl_df *df;          /* TABLE: over `table`, made at the first lookup; FRAME: the registered
                         * plan; VIEW: NULL */
    pl_table *table;    /* TABLE: the rows (schema: the column types and NOT NULL flags) */
    pl_expr **defaults; /* TABLE: per column DEFAULT expression or NULL; NULL = none at all */
    pl_cat_key *keys;   /* TABLE: PRIMARY KEY / UNIQUE constraints (columns by index) */
    int32_t n_keys;
    pl_key_index *kidx; /* TABLE with keys: the index of `table`, or NULL (built when needed) */
    /* VIEW: the defining query as a packed PgQuery__Node, the script text it came from (its
     * positions) and the column aliases */
    uint8_t *view_node;
    size_t view_node_len;
    char *view_sql;
    int32_t view_pos; /* VIEW: where the CREATE VIEW statement starts in view_sql */
    char **view_cols;
    int32_t n_view_cols;
    bool expanding; /* VIEW: being planned (a lookup of it now is a self reference) */
    bool temp;      /* TABLE, VIEW: made by CREATE TEMP | TEMPORARY (the server keeps it in the
                     * client's session, not in its shared catalog) */
} pl_cat_entry;

struct pl_session {
    pl_cat_entry *ents;
    int32_t n_ents, cap_ents;
    pl_exec_opts opts;
    int64_t recursion_limit; /* SET recursion_limit (0 = PL_SQL_RECURSION_LIMIT) */
    char time_zone[128];     /* SET TimeZone ("" = UTC, the default): TIMESTAMPTZ shows and computes
                              * in it (sq_session_zone) */
    int32_t view_depth;
    pl_sql_path_fn resolve_path; /* files named in queries go through it (NULL = as written) */
    void *resolve_user;
};

/* The entry called name (case-insensitive), or NULL. A temporary entry and one that is not
 * may share a name: this finds the temporary one first (DuckDB's search path, temp then main);
 * pl_session_find_in looks among the temporary (temp) or the other entries only. */
pl_cat_entry *pl_session_find(pl_session *s, const char *name);
pl_cat_entry *pl_session_find_in(pl_session *s, const char *name, bool temp);
/* The entry's rows as a DataFrame (a new reference): a table's pl_df (made on first use), a
 * view planned now, a registered DataFrame. */
pl_status pl_session_entry_df(pl_session *s, pl_cat_entry *e, pl_df **out, pl_error *err);
/* Adds an entry (name copied; the other fields are the caller's to fill). */
pl_status pl_session_add(pl_session *s, const char *name, pl_cat_kind kind, pl_cat_entry **out,
                         pl_error *err);
/* Removes (and frees) the entry. */
void pl_session_remove(pl_session *s, pl_cat_entry *e);
void pl_cat_entry_clear(pl_cat_entry *e);

/* Records a PL_ERR_SQL-like error with err->sql_pos = pos. */
pl_status pl_sql_fail_at(pl_error *err, int32_t pos, pl_status code, const char *fmt, ...)
    PL_PRINTF(4, 5);
/* Fills err->sql_pos with pos when a failure left it unset; returns st. */
pl_status pl_sql_at(pl_error *err, int32_t pos, pl_status st);

/* The text of a constant option node (String, Integer, Float, Boolean, A_Const, the last name
 * of a TypeName); NULL for anything else. buf holds rendered numbers. */
const char *pl_sql_node_text(const PgQuery__Node *n, char *buf, size_t size);
/* A boolean option value (true/false/on/off/1/0/yes/no; no value at all = true); false if the
 * node is not one. */
bool pl_sql_node_bool(const PgQuery__Node *n, bool *out);

/* copy_part.c: COPY ... TO 'dir' (PARTITION_BY (...)), hive-partitioned output. */
typedef struct pl_copy_part_opts {
    const char **cols; /* PARTITION_BY columns */
    int32_t n_cols;
    bool overwrite;           /* OVERWRITE: the directory's contents removed first */
    bool overwrite_or_ignore; /* OVERWRITE_OR_IGNORE: a non-empty directory is fine */
    bool write_partition_columns;
    const char *filename_pattern; /* NULL: data_{i} */
} pl_copy_part_opts;
/* Writes df's rows under dir, one file per partition; *rows: the rows written. Errors: a
 * partition column the query lacks, a non-empty directory, the writers' and the query's. */
pl_status pl_sql_copy_partitioned(pl_df *df, const char *dir, pl_format fmt, const pl_write_opts *w,
                                  const pl_exec_opts *eo, const pl_copy_part_opts *po, int64_t *rows,
                                  pl_error *err);

/* A statement being run: the original script text and where the statement starts. */
typedef struct pl_stmt_ctx {
    const char *sql;
    int32_t pos;
    int32_t end; /* byte offset just past the statement */
} pl_stmt_ctx;

/* session_forms.c: DuckDB statement forms rewritten before parsing (FROM-first, DESCRIBE,
 * SUMMARIZE, SHOW [ALL] TABLES). The rewritten script is a sequence of segments, each either
 * the user's bytes from `orig` on or inserted text standing for user byte -orig - 1. */
typedef enum pl_sql_form {
    PL_SQL_FORM_PLAIN = 0,
    PL_SQL_FORM_DESCRIBE,
    PL_SQL_FORM_SUMMARIZE,
    PL_SQL_FORM_SHOW_TABLES,
    PL_SQL_FORM_SHOW_ALL_TABLES,
    PL_SQL_FORM_PIVOT,   /* PIVOT src ON ... (the statement is SELECT * FROM src; spec: the rest) */
    PL_SQL_FORM_UNPIVOT, /* UNPIVOT src ON ... INTO NAME n VALUE v */
} pl_sql_form;

typedef struct pl_sql_form_seg {
    int32_t at;   /* where the segment starts in the rewritten text */
    int32_t orig; /* >= 0: the user's byte it copies from; < 0: inserted, at user byte -orig-1 */
} pl_sql_form_seg;

typedef struct pl_sql_form_mark {
    int32_t at; /* the statement's start in the rewritten text */
    pl_sql_form form;
    char name[256]; /* DESCRIBE tbl: the table's name (for NOT NULL), else "" */
    char *spec;     /* PIVOT / UNPIVOT: the text from ON to the statement's end (owned) */
} pl_sql_form_mark;

typedef struct pl_sql_forms {
    char *text; /* the rewritten script */
    int32_t len;
    pl_sql_form_seg *segs;
    int32_t n_segs;
    pl_sql_form_mark *marks;
    int32_t n_marks;
} pl_sql_forms;

pl_status pl_sql_forms_rewrite(const char *script, pl_sql_forms *out, pl_error *err);
void pl_sql_forms_free(pl_sql_forms *f);
/* The user's byte offset for an offset into the rewritten text. */
int32_t pl_sql_forms_orig_pos(const pl_sql_forms *f, int32_t pos);
/* The mark of the statement [stmt_start, stmt_end) of the rewritten text, or NULL. */
const pl_sql_form_mark *pl_sql_forms_mark(const pl_sql_forms *f, int32_t stmt_start, int32_t stmt_end);
/* Runs a marked statement (n: its parsed query; SHOW TABLES ignores it). */
pl_status pl_sql_run_form(pl_session *s, const pl_stmt_ctx *c, const pl_sql_form_mark *m,
                          const PgQuery__Node *n, pl_sql_result *r, pl_error *err);

/* session_dml.c: the catalog-changing statements. Each fills r (tag, rows_changed). */
pl_status pl_sql_run_create_table(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CreateStmt *st,
                                  pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_create_table_as(pl_session *s, const pl_stmt_ctx *c,
                                     const PgQuery__CreateTableAsStmt *st, pl_sql_result *r,
                                     pl_error *err);
pl_status pl_sql_run_create_view(pl_session *s, const pl_stmt_ctx *c, const PgQuery__ViewStmt *st,
                                 pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_insert(pl_session *s, const pl_stmt_ctx *c, const PgQuery__InsertStmt *st,
                            pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_drop(pl_session *s, const pl_stmt_ctx *c, const PgQuery__DropStmt *st,
                          pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_copy(pl_session *s, const pl_stmt_ctx *c, const PgQuery__CopyStmt *st,
                          pl_sql_result *r, pl_error *err);

/* session_dml.c helpers shared with session_change.c */
/* The byte offset of an expression node, or -1. */
int32_t pl_sql_node_location(const PgQuery__Node *n);
/* The index of the field called name (case-insensitive), or -1. */
int32_t pl_sql_find_column(const pl_schema *sc, const char *name);
/* PL_ERR_INVALID_ARG ("NOT NULL constraint failed: table.col", at pos) when a non-nullable
 * column of rows (by rows->schema) holds a NULL. */
pl_status pl_sql_check_not_null(const char *table, pl_table *rows, int32_t pos, pl_error *err);
/* The expression a table column not given a value gets: its DEFAULT or NULL, cast to its type
 * (new reference; NULL when out of memory). */
pl_expr *pl_sql_fill_expr(const pl_session *s, const pl_cat_entry *e, int32_t j);
/* x (taken) cast to a table column's type (a new reference taken). A TIMESTAMPTZ column goes
 * through the session zone first (a string without an offset is a local time there, like
 * DuckDB's), then to the column's type (the same instants). NULL on NOMEM. */
pl_expr *pl_sql_cast_column(const pl_session *s, pl_expr *x, pl_type *type);
/* A column definition (type, NOT NULL / NULL / DEFAULT, and when key is not NULL PRIMARY KEY
 * (*key = 2, the field NOT NULL) or UNIQUE (*key = 1); other constraints refused) as a field
 * (*f initialised) and its DEFAULT expression (*dflt, or NULL). */
pl_status pl_sql_column_def(pl_session *s, const pl_stmt_ctx *c, const PgQuery__ColumnDef *cd,
                            pl_field *f, pl_expr **dflt, int *key, pl_error *err);
/* The table entry rel names; a view or a registered DataFrame is refused ("cannot <verb> view"). */
pl_status pl_sql_table_entry(pl_session *s, const PgQuery__RangeVar *rel, const char *verb,
                             pl_cat_entry **out, pl_error *err);
/* Makes nt (taken) the entry's rows; the next lookup makes a new pl_df over them, plans made
 * before keep the old rows. Drops the entry's key index (see pl_sql_key_index_take). */
void pl_sql_replace_table(pl_cat_entry *e, pl_table *nt);

/* session_keys.c: PRIMARY KEY / UNIQUE constraints. */
/* Appends a key over cols[0..n) (copied) to *keys. */
pl_status pl_sql_key_add(pl_cat_key **keys, int32_t *n_keys, const int32_t *cols, int32_t n,
                         bool primary, pl_error *err);
void pl_sql_keys_free(pl_cat_key *keys, int32_t n_keys);
pl_status pl_sql_keys_copy(const pl_cat_key *keys, int32_t n_keys, pl_cat_key **out, pl_error *err);
/* Whether one of the keys is the PRIMARY KEY. */
bool pl_sql_key_of_primary(const pl_cat_key *keys, int32_t n_keys);
/* The first key that has column col, or -1. */
int32_t pl_sql_key_of_column(const pl_cat_key *keys, int32_t n_keys, int32_t col);
/* PL_ERR_INVALID_ARG (at pos, DuckDB's messages) when two rows of old (may be NULL) and rows
 * together have equal non-NULL values in the columns of one of e's keys. old == e->table is
 * checked through the entry's key index (built when missing), in time in rows' size. */
pl_status pl_sql_check_keys(pl_cat_entry *e, pl_table *old, pl_table *rows, int32_t pos,
                            pl_error *err);
/* INSERT ... ON CONFLICT DO UPDATE: (*match)[i] (pl_free) is the row number in e->table of the
 * row whose key ki equals new row i's, or -1. PL_ERR_INVALID_ARG when two new rows have the
 * key of one existing row. */
pl_status pl_sql_keys_match(pl_cat_entry *e, int32_t ki, pl_table *rows, int32_t pos,
                            int64_t **match, pl_error *err);
void pl_sql_key_index_free(pl_key_index *ix);
/* Detaches the entry's key index (NULL when it has none for its current rows), to be put back
 * after pl_sql_replace_table by pl_sql_key_index_put when the new version keeps the old rows'
 * keys at the same row numbers. */
pl_key_index *pl_sql_key_index_take(pl_cat_entry *e);
/* Gives ix back to e: e->table's first rows are the ones ix indexed (same keys, same order),
 * followed by the rows of added (may be NULL). On any failure ix is dropped instead. */
void pl_sql_key_index_put(pl_cat_entry *e, pl_key_index *ix, pl_table *added);
/* INSERT ... ON CONFLICT DO NOTHING: keep[i] (pl_free) is 0 for new row i when, key by key
 * (those with use[key] set, in order), its key is an old row's or that of an earlier new row
 * still kept (DuckDB's results), else 1; *n_keep the rows kept. */
pl_status pl_sql_keys_conflicts(pl_cat_entry *e, const bool *use, pl_table *rows,
                                uint8_t **keep, int64_t *n_keep, pl_error *err);
/* The rows of t whose mark (one byte per row) is non-zero == want, in order. */
pl_status pl_sql_pick_rows(pl_table *t, const uint8_t *mark, bool want, pl_table **out,
                           pl_error *err);

/* session_change.c: UPDATE, DELETE, TRUNCATE, ALTER TABLE, ALTER TABLE RENAME. */
pl_status pl_sql_run_update(pl_session *s, const pl_stmt_ctx *c, const PgQuery__UpdateStmt *st,
                            pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_delete(pl_session *s, const pl_stmt_ctx *c, const PgQuery__DeleteStmt *st,
                            pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_truncate(pl_session *s, const pl_stmt_ctx *c, const PgQuery__TruncateStmt *st,
                              pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_alter(pl_session *s, const pl_stmt_ctx *c, const PgQuery__AlterTableStmt *st,
                           pl_sql_result *r, pl_error *err);
pl_status pl_sql_run_rename(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RenameStmt *st,
                            pl_sql_result *r, pl_error *err);
/* RETURNING list over rows (a table with the schema of the table rel names, which stays
 * unchanged): planned like SELECT list FROM rows AS <rel's alias or name>, collected now (so a
 * failure happens before the statement changes anything) into r->df. The catalog may grow
 * while it runs: entry pointers must be looked up again afterwards. */
pl_status pl_sql_returning(pl_session *s, const pl_stmt_ctx *c, const PgQuery__RangeVar *rel,
                           pl_table *rows, size_t n_list, PgQuery__Node *const *list,
                           pl_sql_result *r, pl_error *err);

/* INSERT ... ON CONFLICT DO UPDATE (st's clause) or INSERT OR REPLACE (st without the clause:
 * columns replace_cols[0..n_replace) = excluded's): the table after updating, for each row k
 * of conf (new rows, of the table's schema), old row old_ids[k] (distinct row numbers of the
 * table st names) with the SET values computed from it and from conf's row (`excluded`);
 * *mark (pl_free) the rows updated (the DO UPDATE WHERE may skip some), *n_updated their
 * count, *keys_set whether a SET column is a key column. Nothing in the catalog changes. */
pl_status pl_sql_upsert(pl_session *s, const pl_stmt_ctx *c, const PgQuery__InsertStmt *st,
                        const int32_t *replace_cols, int32_t n_replace, pl_table *conf,
                        const int64_t *old_ids, pl_table **nt, uint8_t **mark, int64_t *n_updated,
                        bool *keys_set, pl_error *err);

#endif
