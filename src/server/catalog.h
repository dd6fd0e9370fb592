/* catalog.h - the engine side's internal interface (src/server/): the catalog of handles and
 * live tables (catalog.c), and helpers the service files share (service.c, plan_decode.c,
 * paths.c, errors.c). The transport and execute.c may use it too.
 *
 * Handles: id (128 random bits as 32 hex digits) -> (owner, pl_df, rows, expiry). A lookup by
 * another owner is NOT_FOUND, exactly like an id that never existed.
 * Live tables: name -> schema + a list of immutable batches, guarded by the table's lock. A
 * query takes a snapshot (a pl_table holding references to the batches present at that moment;
 * cached until the next append), so appends never disturb a running query. */
#ifndef PL_SERVER_CATALOG_H
#define PL_SERVER_CATALOG_H

#include "server/service.h"

typedef struct pl_catalog pl_catalog;

pl_status pl_catalog_new(pl_catalog **out, pl_error *err);
void pl_catalog_free(pl_catalog *c);

/* The memory account stored data is charged to: the buffers of live tables' batches and of
 * materialised handles (each buffer once per batch, at its allocated size), charged before an
 * append, a table's creation or a handle's storing commits and given back when the table or
 * handle goes. fn(user, handle, delta, what, err) refuses a charge (delta > 0) that would pass
 * the limit with PL_ERR_NOMEM and a message naming `what` ("appending to table \"t\""); the
 * operation then changes nothing. Without an account nothing is charged. */
typedef pl_status (*pl_catalog_charge_fn)(void *user, bool handle, int64_t delta,
                                          const char *what, pl_error *err);
void pl_catalog_set_account(pl_catalog *c, pl_catalog_charge_fn fn, void *user);
/* Bytes charged now for live tables and for materialised handles. */
void pl_catalog_memory(pl_catalog *c, int64_t *tables, int64_t *handles);

/* ---------------------------------------------------------------- handles */

#define PL_HANDLE_ID_LEN 32

/* Stores df (retained) for owner. num_rows -1 = lazy. rows: a materialised result (df reads
 * it), kept also in chunks with statistics so filters over the handle skip chunks; NULL when
 * lazy. Errors: PL_ERR_LIMIT when owner already has max_per_owner handles (mapped to
 * RESOURCE_EXHAUSTED). */
pl_status pl_catalog_handle_put(pl_catalog *c, const char *owner, pl_df *df, int64_t num_rows,
                                pl_table *rows, int64_t ttl_ns, int64_t now_ns,
                                int32_t max_per_owner, char id[PL_HANDLE_ID_LEN + 1],
                                pl_error *err);
/* The handle's DataFrame (a new reference). Expired, unknown or another owner's:
 * PL_ERR_NOT_FOUND "handle \"id\" not found". */
pl_status pl_catalog_handle_get(pl_catalog *c, const char *owner, const char *id, int64_t now_ns,
                                pl_df **out, int64_t *num_rows, pl_error *err);
/* Like pl_catalog_handle_get; for a materialised handle, a DataFrame over only the chunks
 * that conds (see pl_prune_cond, over the handle's schema) may match. */
struct pl_prune_cond;
pl_status pl_catalog_handle_get_pruned(pl_catalog *c, const char *owner, const char *id,
                                       int64_t now_ns, int32_t n_conds,
                                       const struct pl_prune_cond *conds, pl_df **out,
                                       pl_error *err);
/* Charges bytes more to owner's handle id (what a lazy handle's plan holds, such as uploaded
 * Arrow data), given back when the handle goes. Errors: PL_ERR_NOMEM from the account (the
 * caller drops the handle), PL_ERR_NOT_FOUND. */
pl_status pl_catalog_handle_charge(pl_catalog *c, const char *owner, const char *id, int64_t bytes,
                                   pl_error *err);
/* Renews the expiry to now + the handle's TTL; false when unknown/expired/not owner's. */
bool pl_catalog_handle_renew(pl_catalog *c, const char *owner, const char *id, int64_t now_ns);
bool pl_catalog_handle_drop(pl_catalog *c, const char *owner, const char *id);
/* Drops expired handles; returns how many. */
int32_t pl_catalog_sweep(pl_catalog *c, int64_t now_ns);
int64_t pl_catalog_n_handles(pl_catalog *c);
int32_t pl_catalog_owner_handles(pl_catalog *c, const char *owner);

/* ---------------------------------------------------------------- SQL sessions */

/* A SQL session is a handle without a DataFrame (pl_catalog_handle_get: NOT_FOUND) holding a
 * state (its temporary tables and views: sql_session.c), freed with free_fn when the handle
 * goes (DropHandle, TTL, the catalog's end). Errors: as pl_catalog_handle_put. */
pl_status pl_catalog_session_put(pl_catalog *c, const char *owner, void (*free_fn)(void *),
                                 int64_t ttl_ns, int64_t now_ns, int32_t max_per_owner,
                                 char id[PL_HANDLE_ID_LEN + 1], pl_error *err);
/* Takes owner's session id for one request: *state (NULL = empty; the caller's until
 * pl_catalog_session_give), the TTL renewed; the sweep spares it meanwhile. Errors:
 * PL_ERR_NOT_FOUND (unknown, expired, another owner's or not a session), PL_ERR_LIMIT (another
 * request has it: a session runs one request at a time). */
pl_status pl_catalog_session_take(pl_catalog *c, const char *owner, const char *id, int64_t now_ns,
                                  void **state, pl_error *err);
/* Gives the session taken by pl_catalog_session_take its (new) state back, charged as `bytes`
 * in all to the memory account. On an error the caller keeps state: PL_ERR_NOT_FOUND (the
 * session was dropped meanwhile), PL_ERR_NOMEM (the account refused the growth: the session
 * stays taken; give the old state back). */
pl_status pl_catalog_session_give(pl_catalog *c, const char *owner, const char *id, void *state,
                                  int64_t bytes, int64_t now_ns, pl_error *err);
/* The memory t's batches hold (their distinct buffers at their allocated size). */
int64_t pl_catalog_table_bytes(const pl_table *t);

/* ---------------------------------------------------------------- live tables */

/* Creates a table with this schema (retained) and optional first rows (retained; its schema
 * must match). Errors: "table \"x\" already exists" (INVALID_ARG, mapped to ALREADY_EXISTS)
 * unless if_not_exists (then *created = false) or replace; "\"x\" is a view" when a view
 * has the name. */
pl_status pl_catalog_table_create(pl_catalog *c, const char *name, pl_schema *schema,
                                  pl_table *rows, bool if_not_exists, bool replace, bool *created,
                                  pl_error *err);
/* The same, for a table with PRIMARY KEY / UNIQUE constraints: keys as pl_session_table_keys
 * gives them (copied; NULL: none). Appends to such a table are refused (SQL INSERT checks the
 * keys and swaps the table in under its gate). */
pl_status pl_catalog_table_create_keyed(pl_catalog *c, const char *name, pl_schema *schema,
                                        pl_table *rows, const char *keys, bool if_not_exists,
                                        bool replace, bool *created, pl_error *err);
pl_status pl_catalog_table_drop(pl_catalog *c, const char *name, bool if_exists, bool *dropped,
                                pl_error *err);
/* The table's rows now (a new reference; never changes afterwards). Errors: NOT_FOUND. */
pl_status pl_catalog_table_snapshot(pl_catalog *c, const char *name, pl_table **out,
                                    pl_error *err);
/* The same, and the table's generation: an id that a create, a replace and a swap of the name
 * change (appends keep it), for pl_catalog_table_swap. */
pl_status pl_catalog_table_snapshot_gen(pl_catalog *c, const char *name, pl_table **out,
                                        uint64_t *gen, pl_error *err);
/* The same, and the table's keys (*keys pl_malloc'd, NULL when it has none). */
pl_status pl_catalog_table_snapshot_keys(pl_catalog *c, const char *name, pl_table **out,
                                         uint64_t *gen, char **keys, pl_error *err);
/* Whether table name exists and has PRIMARY KEY / UNIQUE constraints. */
bool pl_catalog_table_keyed(pl_catalog *c, const char *name);
/* A condition `column op value` a filter over the table will apply (column: index in the
 * table's schema; value an integer, or a float when is_float). */
typedef enum pl_prune_op { PL_PRUNE_EQ, PL_PRUNE_LT, PL_PRUNE_LE, PL_PRUNE_GT, PL_PRUNE_GE } pl_prune_op;
typedef struct pl_prune_cond {
    int32_t column;
    pl_prune_op op;
    bool is_float;
    int64_t i;
    double f;
} pl_prune_cond;
/* A snapshot of only the batches whose min/max statistics allow every condition to be true
 * for some row (the caller still applies the filter: this only skips batches that cannot
 * match). Batches are at most 16384 rows; a batch sorted (no NULLs, non-decreasing) on a
 * condition's integer column is cut by binary search to the rows that may match. Errors:
 * NOT_FOUND. */
pl_status pl_catalog_table_snapshot_pruned(pl_catalog *c, const char *name, int32_t n_conds,
                                           const pl_prune_cond *conds, pl_table **out,
                                           pl_error *err);
/* The table's schema (a new reference). Errors: NOT_FOUND. */
pl_status pl_catalog_table_schema(pl_catalog *c, const char *name, pl_schema **out,
                                  pl_error *err);
/* Appends the batches of t, whose schema must equal the table's (the caller conformed it);
 * small batches are merged with the table's last one. *table_rows = rows after. */
pl_status pl_catalog_table_append(pl_catalog *c, const char *name, pl_table *t,
                                  int64_t *table_rows, pl_error *err);
/* The same, only while the table's columns are still `expect`'s (names, types, nullability;
 * NULL = any): a SQL INSERT planned against a table that was dropped and created again, or
 * altered, meanwhile fails with "table \"t\" was changed by another request while this
 * statement ran ..." (INVALID_ARG, mapped to ABORTED) and changes nothing. Appends wait while
 * another thread holds the table's gate, and go to the table that replaced it, if any. */
pl_status pl_catalog_table_append_as(pl_catalog *c, const char *name, const pl_schema *expect,
                                     pl_table *in, int64_t *table_rows, pl_error *err);
/* The gate of a table: held by a statement that rewrites it (SQL UPDATE, DELETE, TRUNCATE,
 * ALTER) from before it takes its snapshot to after pl_catalog_table_swap, so no append lands
 * in between (appends wait; readers do not). Taking it waits for another holder. Errors:
 * NOT_FOUND. */
typedef struct pl_catalog_gate pl_catalog_gate;
pl_status pl_catalog_table_gate(pl_catalog *c, const char *name, pl_catalog_gate **out,
                                pl_error *err);
void pl_catalog_table_ungate(pl_catalog_gate *g);
/* Replaces table `name` by `rows` (retained; its schema may differ), under new_name (NULL: the
 * same name), in one step: a query sees the old table or the new one. Only while the table is
 * still generation gen with base_rows rows (else "changed by another request ...", INVALID_ARG
 * -> ABORTED); "\"x\" already exists" when new_name is taken; PL_ERR_NOMEM when the memory
 * account refuses the new table (the old one is charged until it goes). keys: the new table's
 * PRIMARY KEY / UNIQUE constraints (NULL: none). */
pl_status pl_catalog_table_swap(pl_catalog *c, const char *name, uint64_t gen, int64_t base_rows,
                                const char *new_name, pl_table *rows, const char *keys,
                                pl_error *err);
/* The same, keeping kidx (taken; NULL: none) with the new table when it has keys and kidx
 * covers exactly its rows (pl_key_index_rows), else freeing it. The new table takes the old
 * one's leading batches that rows kept (the same batches, as an INSERT's new version keeps
 * them) with their statistics, so the swap costs time in the batches that changed. */
pl_status pl_catalog_table_swap_indexed(pl_catalog *c, const char *name, uint64_t gen,
                                        int64_t base_rows, const char *new_name, pl_table *rows,
                                        const char *keys, pl_key_index *kidx, pl_error *err);
/* The key index kept with keyed table name while it is generation gen (NULL: none), taken out
 * of the catalog: a SQL INSERT under the table's gate gives it to its session
 * (pl_session_key_index_give), so checking the keys costs time in the new rows, not the
 * table's. */
pl_key_index *pl_catalog_table_key_index_take(pl_catalog *c, const char *name, uint64_t gen);
/* Keeps ix (taken) with table name while it is generation gen, has keys, has no index and ix
 * covers its rows; else frees it. */
void pl_catalog_table_key_index_put(pl_catalog *c, const char *name, uint64_t gen,
                                    pl_key_index *ix);
/* The table's row count now. Errors: NOT_FOUND. */
pl_status pl_catalog_table_rows(pl_catalog *c, const char *name, int64_t *rows, pl_error *err);
/* Names of every table in creation order (pl_free each and the vector). */
pl_status pl_catalog_table_names(pl_catalog *c, char ***names, int32_t *n, pl_error *err);

/* ---------------------------------------------------------------- views */

/* Views (SQL CREATE VIEW through the server) share the tables' namespace (names ignore case):
 * a view is its defining statement ("CREATE VIEW v AS ...", copied), planned again in every
 * request that uses it. Errors: "view \"v\" already exists" unless replace; "\"t\" is a
 * table, not a view" (INVALID_ARG). */
pl_status pl_catalog_view_put(pl_catalog *c, const char *name, const char *stmt, bool replace,
                              pl_error *err);
bool pl_catalog_view_exists(pl_catalog *c, const char *name);
/* Errors: NOT_FOUND unless if_exists. */
pl_status pl_catalog_view_drop(pl_catalog *c, const char *name, bool if_exists, pl_error *err);
/* Names and statements of every view in creation order (pl_free each string and both vectors). */
pl_status pl_catalog_views(pl_catalog *c, char ***names, char ***stmts, int32_t *n, pl_error *err);

/* sql_session.c: gives a request's SQL session the live tables (snapshots, as tables that
 * INSERT may extend) and the views (a view that no longer plans is left out). */
pl_status pl_srv_sql_lend(pl_catalog *cat, pl_session *s, pl_error *err);
/* Runs a script in s (lent the catalog by pl_srv_sql_lend), carrying each statement's changes
 * of tables and views over to cat before the next one runs (UPDATE / DELETE / TRUNCATE / ALTER
 * under the table's gate; between BEGIN and COMMIT all at COMMIT, or none). *out: the last statement's rows
 * (a query, RETURNING), else one BIGINT column "Count" with the rows the last statement
 * changed (one row) or none (DDL). */
pl_status pl_srv_sql_script(pl_catalog *cat, pl_session *s, const char *script, pl_df **out,
                            pl_error *err);
/* A client's SQL session between requests (pl_catalog_session_put's state): the temporary
 * tables and views (CREATE TEMP) of its scripts, which the catalog never sees. */
typedef struct pl_srv_sql_temps pl_srv_sql_temps;
void pl_srv_sql_temps_free(void *t);
int64_t pl_srv_sql_temps_bytes(const pl_srv_sql_temps *t);
/* The temporary objects of session s now (*out: new, pl_srv_sql_temps_free). Errors: NOMEM. */
pl_status pl_srv_sql_temps_take(pl_session *s, pl_srv_sql_temps **out, pl_error *err);
/* Gives session s (lent the catalog) the temporary objects of t (NULL: none); they hide
 * catalog objects of the same names. Errors: NOMEM. */
pl_status pl_srv_sql_temps_restore(pl_session *s, const pl_srv_sql_temps *t, pl_error *err);

/* ---------------------------------------------------------------- server helpers */

pl_catalog *pl_srv_catalog(pl_srv *s);
/* Execution options for a query of this call: cancel flag, deadline (the call's, or the
 * server's --query-timeout from now, whichever is first), the server-wide memory account. */
void pl_srv_call_exec_opts(const pl_srv_call *c, pl_exec_opts *o);
/* Bytes charged to the server-wide memory account now. */
int64_t pl_srv_memory_in_use(pl_srv *s);
/* Hook for the same-host result files (srvcore): releases a lease of owner; true if done. */
typedef bool (*pl_srv_shm_release_fn)(void *user, const char *owner, const char *lease_id,
                                      int64_t client_pid, bool unmapped);
/* ... and the hook that gives up pooled result files when the memory account is full: returns
 * the bytes freed. */
typedef int64_t (*pl_srv_shm_trim_fn)(void *user, int64_t want);
void pl_srv_set_shm_trim(pl_srv *s, pl_srv_shm_trim_fn fn, void *user);
void pl_srv_set_shm_release(pl_srv *s, pl_srv_shm_release_fn fn, void *user);

/* append.c: true (ServerInfo lists "append"). */
bool pl_srv_append_available(void);
/* Health: SERVING (default) or NOT_SERVING (the transport sets it while shutting down). */
void pl_srv_set_serving(pl_srv *s, bool serving);
/* Unpacks a request with the checks of unary calls: size limit, nesting depth on the wire
 * (protobuf-c recurses while unpacking), pl_srv_pb_allocator. Free with
 * protobuf_c_message_free_unpacked(m, pl_srv_pb_allocator()). */
pl_status pl_srv_unpack(pl_srv *s, const ProtobufCMessageDescriptor *d, const uint8_t *req,
                        size_t n, ProtobufCMessage **out, pl_error *err);

/* paths.c: the syntax checks alone (empty, absolute, "..", control characters). */
pl_status pl_srv_check_path_syntax(const char *path, pl_error *err);

/* service.c: err as the client sees it: the data root stripped (pl_srv_error_strip), and a
 * query's refused memory charge explained with the server's account (what holds it). */
void pl_srv_explain_error(pl_srv *s, pl_error *err);
/* errors.c: replaces "<root>/" by "" and a bare "<root>" by "." in text, in place. */
void pl_srv_strip_root(char *text, const char *data_root);
/* errors.c: removes the data root from err's message, hint and path in place. */
void pl_srv_error_strip(pl_error *err, const char *data_root);
/* errors.c: the largest single allocation pl_srv_pb_allocator allows (pl_srv_new sets it to
 * the max message size), and the bytes it has out now. */
void pl_srv_pb_set_max_alloc(int64_t n_bytes);
int64_t pl_srv_pb_allocated_bytes(void);

/* plan_decode.c: empties the process-wide cache of parsed SQL expressions (pl_srv_free). */
void pl_srv_sql_cache_clear(void);
/* plan_decode.c: a schema as a SchemaResponse's parts: the encapsulated IPC schema message
 * (pl_malloc'd) and polaroid type names. */
pl_status pl_srv_schema_message(pl_schema *s, uint8_t **out, size_t *out_len, pl_error *err);
/* An encapsulated IPC schema message (or a whole IPC stream) -> schema. */
pl_status pl_srv_schema_from_ipc(const uint8_t *bytes, size_t n, pl_schema **out, pl_error *err);

#endif
