/* sql_int.h - the SQL front end's internal interface.
 *
 * session.c   pl_session: the catalog of named tables and views, pl_session_run (statement
 *             splitting and execution of DDL/DML: CREATE TABLE [AS], CREATE VIEW, INSERT,
 *             UPDATE, DELETE, TRUNCATE, ALTER TABLE, DROP, COPY, EXPLAIN), pl_session_query.
 * plan_*.c    translation of libpg_query's protobuf parse tree (pg_query.pb-c.h) into lazy
 *             DataFrames: SELECT (FROM, joins, WHERE, GROUP BY, HAVING, windows, ORDER BY,
 *             LIMIT, set operations, CTEs, subqueries) and expressions.
 * Errors from the front end are PL_ERR_SQL (syntax, binding) or the DataFrame layer's own
 * codes, always with err->sql_pos set to the byte offset of the offending token. */
#ifndef PL_SQL_INT_H
#define PL_SQL_INT_H

#include "core/core.h"
#include "polaroid/sql.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

/* The length of SQL text `sql` for the planner's scans of it (positions from the parse tree
 * index into it): strlen(sql), except for the text a pl_sql_text_scope names, whose known
 * length is returned at once. A script's statements are all planned over the whole script
 * text, so strlen per statement made a long script's time quadratic (50k statements). */
int32_t pl_sql_text_len(const char *sql);
typedef struct pl_sql_text_scope {
    const char *text;
    int32_t len;
} pl_sql_text_scope;
/* Names text (len bytes, NUL-terminated, alive until the end) for pl_sql_text_len on this
 * thread until pl_sql_text_end(saved); scopes nest. */
void pl_sql_text_begin(const char *text, int32_t len, pl_sql_text_scope *saved);
void pl_sql_text_end(const pl_sql_text_scope *saved);

/* Message levels a parse tree may have (two per operator: Node -> A_Expr -> Node ...). */
#define PL_SQL_MAX_TREE_DEPTH 1200
/* Walks libpg_query's protobuf parse tree (buf, len) without unpacking it: PL_ERR_LIMIT when
 * it is nested deeper than PL_SQL_MAX_TREE_DEPTH (protobuf-c and the planner recurse per
 * level). */
pl_status pl_sql_check_tree_depth(const uint8_t *buf, size_t len, pl_error *err);
/* Visits the direct child messages of an unpacked parse-tree message m (by its protobuf-c
 * descriptor: message fields, each element of repeated ones, only the set member of a oneof;
 * NULL children skipped), in field order: fn(child, ctx) for each until one returns true, which
 * is then returned (false when all returned false, or m is NULL). Walkers of the whole tree
 * recurse through it; the tree's depth is bounded by pl_sql_check_tree_depth. */
typedef bool (*pl_sql_node_fn)(ProtobufCMessage *child, void *ctx);
bool pl_sql_node_children(const ProtobufCMessage *m, pl_sql_node_fn fn, void *ctx);

/* A growable NUL-terminated string for building SQL text and output names. Initialise with
 * {0}; an allocation failure sets oom and later appends do nothing, so callers check oom once
 * at the end. p (NULL while empty) is freed with pl_free. */
typedef struct pl_sql_buf {
    char *p;
    size_t len, cap;
    bool oom;
} pl_sql_buf;
void pl_sql_buf_add(pl_sql_buf *b, const char *s, size_t n);
void pl_sql_buf_str(pl_sql_buf *b, const char *s);

/* Looks a table or view up by name (case-insensitive): a new reference in *out, or NULL when
 * there is none (not an error). */
pl_df *pl_session_lookup(pl_session *s, const char *name);
/* Resolves a file path named in a query through the session's path function (when set):
 * *out is the path to open (pl_free), or an error (PL_ERR_PERMISSION, ...). s may be NULL. */
pl_status pl_session_resolve_path(pl_session *s, const char *path, char **out, pl_error *err);
/* The exec options statements run with. */
const pl_exec_opts *pl_session_exec_opts(pl_session *s);
/* Iterations a recursive CTE may take before it is stopped with an error: SET recursion_limit,
 * else PL_SQL_RECURSION_LIMIT. s may be NULL. */
#define PL_SQL_RECURSION_LIMIT 100000
int64_t pl_session_recursion_limit(const pl_session *s);

/* DuckDB syntax the PostgreSQL grammar lacks, rewritten into text of the SAME length (so every
 * parse-node location stays a valid offset into the original): FROM/JOIN 'file.parquet' ->
 * "file.parquet" (a quoted identifier; the planner treats unknown names that look like paths
 * as files), `* EXCLUDE (a, b)` -> `*` and blanks, `GROUP BY ALL` -> `GROUP BY ()`, list
 * literals `['a','b']` after `(`, `,` or `=` -> `('a','b')`. The session parses *out (pl_free)
 * and passes the ORIGINAL text to pl_sql_plan_query, which re-reads EXCLUDE lists and GROUP BY
 * ALL from it. COPY ... FROM 'file' at the top level of a COPY statement is left alone. */
pl_status pl_sql_preprocess(const char *sql, char **out, pl_error *err);

/* Plans one query node (SelectStmt, possibly with WITH, set operations, VALUES) of the text
 * `sql` (the original text, before pl_sql_preprocess) into a lazy DataFrame. s may be NULL
 * (no catalog: only CTEs, files and table functions; tests register tables through
 * pl_sql_set_test_catalog in src/sql/plan_int.h). Table names resolve through the session catalog, CTEs, quoted
 * file paths and read_parquet/read_csv/read_ipc table functions. */
pl_status pl_sql_plan_query(pl_session *s, const char *sql, const PgQuery__Node *stmt,
                            pl_df **out, pl_error *err);
/* Plans a scalar expression with no input columns (INSERT ... VALUES rows, DEFAULTs, COPY
 * options) into an expression tree. */
pl_status pl_sql_plan_const_expr(pl_session *s, const char *sql, const PgQuery__Node *node,
                                 pl_expr **out, pl_error *err);
/* Whether the parse tree under n holds a subquery (SubLink). */
bool pl_sql_has_sublink(const PgQuery__Node *n);
/* An INSERT ... VALUES item with subqueries (`(SELECT max(x) FROM u) + 1`): planned over one
 * row with its subqueries joined on, cast to `type` (NULL: kept) and run now; *out gets the
 * value (a scalar subquery of more than one row is an error, like DuckDB). */
pl_status pl_sql_eval_row_value(pl_session *s, const char *sql, const PgQuery__Node *node,
                                pl_type *type, pl_value *out, pl_error *err);
/* The schema a query's result is stored with (tables, recursive CTEs): names (the first
 * n_names replaced by `names`), plain types (dictionaries decoded), every column nullable. */
pl_status pl_sql_stored_schema(pl_schema *in, int32_t n_names, char *const *names, pl_schema **out,
                               pl_error *err);
/* Relabels the batches of src with schema (types must match after decoding dictionaries;
 * all-NULL columns of type NA become NULLs of the schema's type). Empty batches are dropped. */
pl_status pl_sql_conform_table(pl_table *src, pl_schema *schema, pl_table **out, pl_error *err);
/* Parses a type name node (CREATE TABLE columns, CAST) into a type. */
pl_status pl_sql_type_from_node(const char *sql, const PgQuery__TypeName *tn, pl_type **out,
                                pl_error *err);

#endif
