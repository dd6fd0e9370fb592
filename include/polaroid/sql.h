/* polaroid/sql.h - SQL sessions: PostgreSQL-grammar SQL (parsed by libpg_query) planned onto
 * lazy DataFrames, with session-local tables and views.
 *
 *   pl_session *s;  pl_session_new(&s, &err);
 *   pl_df *df;      pl_session_query(s, "SELECT symbol, avg(price) FROM 'ticks/t*.parquet'
 *                                         GROUP BY 1", &df, &err);
 *   pl_df_collect(df, NULL, &table, &err);
 *
 * Statements: SELECT/VALUES/WITH queries, EXPLAIN [ANALYZE], CREATE TABLE t (col type, ...),
 * CREATE TABLE t AS query, CREATE [OR REPLACE] VIEW v AS query, INSERT INTO t [(cols)]
 * VALUES ... | query, DROP TABLE/VIEW [IF EXISTS], COPY (query) TO 'file' [(FORMAT ...)].
 * Errors of type PL_ERR_SQL carry err->sql_pos (0-based byte offset into the text). */
#ifndef POLAROID_SQL_H
#define POLAROID_SQL_H

#include "dataframe.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_session pl_session;

PL_API PL_NODISCARD pl_status pl_session_new(pl_session **out, pl_error *err);
PL_API void pl_session_free(pl_session *s);
/* Options used when the session runs statements itself (INSERT ... SELECT, CREATE TABLE AS,
 * COPY). Copied. */
PL_API void pl_session_set_exec_opts(pl_session *s, const pl_exec_opts *opts);

/* The options statements currently run with (as set, then changed by SET threads/memory_limit). */
PL_API void pl_session_get_exec_opts(const pl_session *s, pl_exec_opts *out);
/* The session time zone (SET TimeZone): TIMESTAMPTZ values show, cast and compute in it. zone
 * NULL or "" = UTC (the default). Errors: PL_ERR_SQL (unknown zone). */
PL_API PL_NODISCARD pl_status pl_session_set_time_zone(pl_session *s, const char *zone, pl_error *err);
/* The zone's name as set ("UTC" by default). */
PL_API const char *pl_session_time_zone(const pl_session *s);

/* Files named in queries (FROM 'x.parquet', read_parquet(...)) are passed through fn, which
 * returns the path to open (pl_malloc'd) or refuses it with an error (the server keeps queries
 * under its data root this way). NULL = paths are opened as written. */
typedef pl_status (*pl_sql_path_fn)(void *user, const char *path, char **out, pl_error *err);
PL_API void pl_session_set_path_fn(pl_session *s, pl_sql_path_fn fn, void *user);

/* Registers a DataFrame (retained) under a name, replacing any table or view of that name that
 * is not temporary (a temporary one keeps hiding it). */
PL_API PL_NODISCARD pl_status pl_session_register(pl_session *s, const char *name, pl_df *df,
                                                  pl_error *err);

/* The catalog, in creation order: how many tables and views there are, and the name of
 * entry i (*is_view set when it is a view or a registered DataFrame). Borrowed; valid until the
 * catalog changes. NULL when i is out of range. */
PL_API int32_t pl_session_n_objects(const pl_session *s);
PL_API const char *pl_session_object(const pl_session *s, int32_t i, bool *is_view);
/* The table or view called name (case-insensitive) as a DataFrame (a new reference).
 * Errors: PL_ERR_NOT_FOUND. */
PL_API PL_NODISCARD pl_status pl_session_get(pl_session *s, const char *name, pl_df **out,
                                             pl_error *err);

/* Adds a table whose rows are `rows` (retained; its schema gives the column types), replacing
 * any table or view of that name that is not temporary (a temporary one keeps hiding it). INSERT appends to it; the rows given stay unchanged (a
 * statement that changes the table makes a new pl_table). The server lends its live tables to a
 * request's session this way. */
PL_API PL_NODISCARD pl_status pl_session_add_table(pl_session *s, const char *name, pl_table *rows,
                                                   pl_error *err);

/* What catalog entry i is (all borrowed; valid until the catalog changes): its name, kind,
 * a table's rows (NULL for views and DataFrames; a new pl_table after any change), whether a
 * table has DEFAULT expressions or PRIMARY KEY / UNIQUE constraints, whether it is temporary, and a view's defining statement ("CREATE VIEW v AS ..." as
 * written, without the trailing ';'; a new string whenever the view is (re)defined). */
typedef enum pl_sql_object_kind {
    PL_SQL_OBJECT_TABLE = 0,
    PL_SQL_OBJECT_VIEW,
    PL_SQL_OBJECT_FRAME, /* pl_session_register */
} pl_sql_object_kind;
typedef struct pl_sql_object {
    const char *name;
    pl_sql_object_kind kind;
    pl_table *rows;
    bool has_defaults;
    bool has_keys;
    bool temp; /* made by CREATE TEMP | TEMPORARY TABLE / VIEW */
    const char *view_stmt;
} pl_sql_object;
PL_API bool pl_session_object_info(const pl_session *s, int32_t i, pl_sql_object *out);
/* Marks table or view `name` temporary or not (as CREATE TEMP would): the server gives a
 * client's SQL session its temporary objects back this way. Temporary objects have their own
 * namespace, searched first: with temp, the object of that name that is not temporary (if any)
 * becomes the temporary one, replacing a temporary one of that name; without, the temporary
 * one becomes the other unless one of that name exists. Errors: PL_ERR_NOT_FOUND. */
PL_API PL_NODISCARD pl_status pl_session_set_temp(pl_session *s, const char *name, bool temp,
                                                  pl_error *err);

/* The PRIMARY KEY / UNIQUE constraints of table `name` as text (*out pl_malloc'd, NULL when it
 * has none): per key 'P' or 'U' and its column indices, ';' between keys ("P0,1;U2"). The
 * server keeps a table's keys this way and gives them back with pl_session_set_table_keys
 * after pl_session_add_table (NULL or "": none). When a temporary table and one that is not
 * share the name (the temporary one hides the other in queries), both functions mean the one
 * that is not temporary (pl_session_add_table's); pl_session_object_keys reads catalog entry i.
 * Errors: PL_ERR_NOT_FOUND, PL_ERR_INVALID_ARG (text not of that form, a column out of
 * range). */
PL_API PL_NODISCARD pl_status pl_session_table_keys(pl_session *s, const char *name, char **out,
                                                    pl_error *err);
PL_API PL_NODISCARD pl_status pl_session_object_keys(const pl_session *s, int32_t i, char **out,
                                                     pl_error *err);
PL_API PL_NODISCARD pl_status pl_session_set_table_keys(pl_session *s, const char *name,
                                                        const char *keys, pl_error *err);
/* The key index of a table with keys: per key, the hashes and row numbers of its rows, built
 * by the first INSERT that checks them and extended by later INSERTs (row numbers stay), so an
 * INSERT costs time in its own rows; dropped by other changes. The server keeps it with its
 * table between requests this way: pl_session_key_index_take detaches table name's index
 * (NULL when it has none for its rows now; the table pl_session_table_keys means);
 * pl_session_key_index_give gives table name an
 * index taken for exactly the same rows (the same values in the same order, the same keys:
 * the caller's promise; one of another row count or key count is freed instead), taking ix
 * either way. */
typedef struct pl_key_index pl_key_index;
PL_API pl_key_index *pl_session_key_index_take(pl_session *s, const char *name);
PL_API void pl_session_key_index_give(pl_session *s, const char *name, pl_key_index *ix);
/* The rows ix covers (-1 for NULL). */
PL_API int64_t pl_key_index_rows(const pl_key_index *ix);
PL_API void pl_key_index_free(pl_key_index *ix);

/* Where byte offset pos of SQL text is, as the CLI and the server show it: *line and *column
 * (1-based; the column in characters, a tab counting one), and into buf (NUL-terminated, cut to
 * buf_size) "LINE n: <that line>\n<spaces>^" with the caret under pos; a line longer than
 * PL_SQL_CARET_WIDTH bytes is cut around pos with "...". line, column, buf may be NULL. */
#define PL_SQL_CARET_WIDTH 120
PL_API void pl_sql_locate(const char *text, int32_t pos, int32_t *line, int32_t *column, char *buf,
                          size_t buf_size);

/* The statements of a script: byte range [start, end) of each in the script (up to where the
 * next starts, less trailing white space and one ';': comments between statements stay with the
 * one before), and whether it returns rows like a query (SELECT/VALUES/WITH/FROM-first, EXPLAIN,
 * DESCRIBE, SUMMARIZE, SHOW TABLES, INSERT/UPDATE/DELETE ... RETURNING). *out is pl_malloc'd
 * (NULL when *n == 0). Errors: PL_ERR_SQL (syntax) with err->sql_pos. */
typedef struct pl_sql_span {
    int32_t start, end;
    bool returns_rows;
} pl_sql_span;
PL_API PL_NODISCARD pl_status pl_sql_split(const char *script, pl_sql_span **out, int32_t *n,
                                           pl_error *err);

/* What one statement (the text of one span of pl_sql_split) will do, read before it runs:
 * the tables it rewrites (UPDATE, DELETE, TRUNCATE, ALTER TABLE [RENAME]: names as written,
 * each once), the views DROP VIEW names, the table INSERT / COPY FROM adds to, whether it is CREATE TABLE [AS] ... IF NOT EXISTS,
 * and transaction control.
 * Text that is not exactly one statement that parses gives an empty answer (running it reports
 * the error). Free with pl_sql_stmt_info_reset. Errors: PL_ERR_NOMEM. */
typedef enum pl_sql_tx {
    PL_SQL_TX_NONE = 0,
    PL_SQL_TX_BEGIN,    /* BEGIN [TRANSACTION], START TRANSACTION */
    PL_SQL_TX_COMMIT,   /* COMMIT, END */
    PL_SQL_TX_ROLLBACK, /* ROLLBACK, ABORT */
    PL_SQL_TX_OTHER,    /* SAVEPOINT, PREPARE TRANSACTION, ... */
} pl_sql_tx;
typedef struct pl_sql_stmt_info {
    char **targets;
    int32_t n_targets;
    char **dropped_views; /* DROP VIEW: the names */
    int32_t n_dropped_views;
    char **inserts; /* INSERT INTO t, COPY t FROM: the table */
    int32_t n_inserts;
    bool if_not_exists;
    pl_sql_tx tx;
} pl_sql_stmt_info;
PL_API PL_NODISCARD pl_status pl_sql_stmt_info_read(const char *stmt, pl_sql_stmt_info *info,
                                                    pl_error *err);
PL_API void pl_sql_stmt_info_reset(pl_sql_stmt_info *info);

/* Plans one query statement (SELECT, VALUES, WITH ...) into a lazy DataFrame. */
PL_API PL_NODISCARD pl_status pl_session_query(pl_session *s, const char *sql, pl_df **out,
                                               pl_error *err);

/* The outcome of one statement of a script. */
typedef struct pl_sql_result {
    pl_df *df;          /* a query's lazy result, or the rows of RETURNING (caller releases),
                         * or NULL */
    char *explain;      /* EXPLAIN [ANALYZE] text (pl_free), or NULL */
    int64_t rows_changed; /* INSERT/CREATE TABLE AS/COPY: rows written; UPDATE: rows updated
                           * (UPDATE ... FROM: matches); DELETE/TRUNCATE: rows deleted; -1
                           * otherwise */
    char tag[32];       /* "SELECT", "INSERT", "CREATE TABLE", "DROP VIEW", ... */
    int32_t stmt_pos;   /* byte offset of the statement in the script */
} pl_sql_result;
PL_API void pl_sql_result_reset(pl_sql_result *r);

/* Splits a script into statements and runs them in order, calling on_result after each (DDL
 * and DML are executed; queries are planned and handed over lazily: on_result runs or
 * discards them). r belongs to pl_session_run, which resets it (releasing r->df, freeing
 * r->explain) after on_result returns; to keep either, on_result takes it and sets the field
 * to NULL. Stops at the first error (err->sql_pos is relative to the whole script) or
 * when on_result returns non-PL_OK. */
PL_API PL_NODISCARD pl_status pl_session_run(pl_session *s, const char *script,
                                             pl_status (*on_result)(void *user,
                                                                    pl_sql_result *r,
                                                                    pl_error *err),
                                             void *user, pl_error *err);

/* ---------------------------------------------------------------- SQL fragments */

/* One SQL expression ("price * 2 > 100", "sum(x) FILTER (WHERE y)", "CAST(a AS DATE)") as an
 * unbound expression tree: column references by name (resolved when a plan node is built),
 * aggregate calls allowed (they bind only inside an aggregate), no subqueries or windows.
 * Errors: PL_ERR_SQL (syntax; anything but exactly one expression) with err->sql_pos relative
 * to text, PL_ERR_NOT_FOUND (unknown function). */
PL_API PL_NODISCARD pl_status pl_sql_parse_expr(const char *text, pl_expr **out, pl_error *err);
/* The same, accepting a trailing "AS alias": *alias is the alias (pl_free) or NULL. */
PL_API PL_NODISCARD pl_status pl_sql_parse_named_expr(const char *text, pl_expr **out,
                                                      char **alias, pl_error *err);
/* A SQL type name ("BIGINT", "DECIMAL(18,3)", "TIMESTAMP", "VARCHAR[]") as a type (new
 * reference). Errors: PL_ERR_SQL with err->sql_pos relative to text. */
PL_API PL_NODISCARD pl_status pl_sql_parse_type(const char *text, pl_type **out, pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
