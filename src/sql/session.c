/* session.c - SQL sessions: the catalog of named tables and views, parsing scripts with
 * libpg_query, and the statement loop (pl_session_run) that plans queries (pl_sql_plan_query),
 * renders EXPLAIN, applies SET and hands DDL/DML to session_dml.c.
 *
 * Invariants: a script is parsed once; the protobuf tree lives only while its statements run
 * (views keep their query as a packed node). Every error of a statement carries err->sql_pos,
 * a byte offset into the whole script (the offending token when known, else the statement).
 * DuckDB syntax the PostgreSQL grammar lacks (FROM 'file.parquet', * EXCLUDE, ...) is rewritten
 * by pl_sql_preprocess into text of the same length before parsing; the planner is given the
 * original text. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/text/text.h"
#include "sql/session_int.h"

/* ---------------------------------------------------------------- errors */

pl_status pl_sql_fail_at(pl_error *err, int32_t pos, pl_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl_error_setv(err, code, fmt, ap);
    va_end(ap);
    if (err) err->sql_pos = pos;
    return code;
}

pl_status pl_sql_at(pl_error *err, int32_t pos, pl_status st) {
    if (st != PL_OK && err && err->sql_pos < 0) err->sql_pos = pos;
    return st;
}

/* ---------------------------------------------------------------- catalog */

pl_status pl_session_new(pl_session **out, pl_error *err) {
    pl_session *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_exec_opts_init(&s->opts);
    *out = s;
    return PL_OK;
}

void pl_cat_entry_clear(pl_cat_entry *e) {
    pl_free(e->name);
    pl_df_release(e->df);
    if (e->defaults && e->table)
        for (int32_t i = 0; i < e->table->schema->n_fields; i++) pl_expr_release(e->defaults[i]);
    pl_free(e->defaults);
    pl_sql_keys_free(e->keys, e->n_keys);
    pl_sql_key_index_free(e->kidx);
    pl_table_release(e->table);
    pl_free(e->view_node);
    pl_free(e->view_sql);
    for (int32_t i = 0; i < e->n_view_cols; i++) pl_free(e->view_cols[i]);
    pl_free(e->view_cols);
    memset(e, 0, sizeof *e);
}

void pl_session_free(pl_session *s) {
    if (!s) return;
    for (int32_t i = 0; i < s->n_ents; i++) pl_cat_entry_clear(&s->ents[i]);
    pl_free(s->ents);
    pl_free(s);
}

void pl_session_set_exec_opts(pl_session *s, const pl_exec_opts *opts) {
    if (opts) s->opts = *opts;
    else pl_exec_opts_init(&s->opts);
}

const pl_exec_opts *pl_session_exec_opts(pl_session *s) { return &s->opts; }

int64_t pl_session_recursion_limit(const pl_session *s) {
    return s && s->recursion_limit > 0 ? s->recursion_limit : PL_SQL_RECURSION_LIMIT;
}

void pl_session_get_exec_opts(const pl_session *s, pl_exec_opts *out) { *out = s->opts; }

pl_cat_entry *pl_session_find_in(pl_session *s, const char *name, bool temp) {
    for (int32_t i = 0; i < s->n_ents; i++)
        if ((s->ents[i].temp && s->ents[i].kind != PL_CAT_FRAME) == temp &&
            !strcasecmp(s->ents[i].name, name))
            return &s->ents[i];
    return NULL;
}

/* The search path: temporary objects first (they hide the others, like DuckDB's temp schema). */
pl_cat_entry *pl_session_find(pl_session *s, const char *name) {
    pl_cat_entry *e = pl_session_find_in(s, name, true);
    return e ? e : pl_session_find_in(s, name, false);
}

pl_status pl_session_add(pl_session *s, const char *name, pl_cat_kind kind, pl_cat_entry **out,
                         pl_error *err) {
    if (s->n_ents == s->cap_ents) {
        int32_t cap = s->cap_ents ? s->cap_ents * 2 : 8;
        pl_cat_entry *v = pl_realloc(s->ents, (size_t)cap * sizeof *v);
        if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        s->ents = v;
        s->cap_ents = cap;
    }
    pl_cat_entry *e = &s->ents[s->n_ents];
    memset(e, 0, sizeof *e);
    e->name = pl_strdup(name);
    if (!e->name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    e->kind = kind;
    s->n_ents++;
    *out = e;
    return PL_OK;
}

void pl_session_remove(pl_session *s, pl_cat_entry *e) {
    int32_t i = (int32_t)(e - s->ents);
    pl_cat_entry_clear(e);
    memmove(&s->ents[i], &s->ents[i + 1], (size_t)(s->n_ents - i - 1) * sizeof *e);
    s->n_ents--;
}

/* A new entry of this kind called name, replacing any entry of that name that is not
 * temporary (a temporary one stays and keeps hiding the new entry). */
static pl_status put_entry(pl_session *s, const char *name, pl_cat_kind kind, pl_cat_entry **out,
                           pl_error *err) {
    pl_cat_entry *old = pl_session_find_in(s, name, false);
    if (old) pl_session_remove(s, old);
    return pl_session_add(s, name, kind, out, err);
}

pl_status pl_session_register(pl_session *s, const char *name, pl_df *df, pl_error *err) {
    if (!s || !name || !*name || !df) PL_FAIL(err, PL_ERR_INVALID_ARG, "register needs a name and a DataFrame");
    pl_cat_entry *e;
    PL_TRY(put_entry(s, name, PL_CAT_FRAME, &e, err));
    e->df = pl_df_retain(df);
    return PL_OK;
}

/* Plans a view's query again (so that it sees the tables as they are now). */
static pl_df *expand_view(pl_session *s, pl_cat_entry *e) {
    if (e->expanding || s->view_depth >= PL_SQL_MAX_VIEW_DEPTH) return NULL;
    PgQuery__Node *node = pg_query__node__unpack(NULL, e->view_node_len, e->view_node);
    if (!node) return NULL;
    /* the entry may move if planning touched the catalog; find it again by index */
    int32_t idx = (int32_t)(e - s->ents);
    e->expanding = true;
    s->view_depth++;
    pl_df *df = NULL;
    pl_error err;
    pl_error_init(&err);
    pl_status st = pl_sql_plan_query(s, e->view_sql, node, &df, &err);
    s->view_depth--;
    e = &s->ents[idx];
    e->expanding = false;
    pg_query__node__free_unpacked(node, NULL);
    if (st == PL_OK && e->n_view_cols > 0) {
        pl_schema *sc = pl_df_schema(df);
        int32_t n = PL_MIN(e->n_view_cols, sc->n_fields);
        const char **old_names = pl_calloc((size_t)n + 1, sizeof(char *));
        pl_df *renamed = NULL;
        if (!old_names) st = PL_ERR_NOMEM;
        else {
            for (int32_t i = 0; i < n; i++) old_names[i] = sc->fields[i].name;
            st = pl_df_rename(df, n, old_names, (const char *const *)e->view_cols, &renamed, &err);
        }
        pl_free(old_names);
        pl_df_release(df);
        df = st == PL_OK ? renamed : NULL;
    }
    return st == PL_OK ? df : NULL;
}

pl_status pl_session_entry_df(pl_session *s, pl_cat_entry *e, pl_df **out, pl_error *err) {
    if (e->kind == PL_CAT_VIEW) {
        *out = expand_view(s, e);
        if (!*out) PL_FAIL(err, PL_ERR_SQL, "view \"%s\" cannot be planned", e->name);
        return PL_OK;
    }
    if (e->kind == PL_CAT_TABLE && !e->df) PL_TRY(pl_df_from_table(e->table, &e->df, err));
    *out = pl_df_retain(e->df);
    return PL_OK;
}

pl_df *pl_session_lookup(pl_session *s, const char *name) {
    if (!s || !name) return NULL;
    pl_cat_entry *e = pl_session_find(s, name);
    pl_df *df = NULL;
    if (!e || pl_session_entry_df(s, e, &df, NULL) != PL_OK) return NULL;
    return df;
}

/* ---------------------------------------------------------------- parsing */

/* libpg_query reports a 1-based character position; this is its 0-based byte offset. */
static int32_t char_pos_to_byte(const char *text, int32_t cursorpos) {
    if (cursorpos <= 0) return -1;
    int32_t chars = 0, i = 0;
    for (; text[i]; i++) {
        if (((unsigned char)text[i] & 0xC0) == 0x80) continue; /* continuation byte */
        if (chars == cursorpos - 1) return i;
        chars++;
    }
    return i;
}

/* A FROM 'path' that pl_sql_preprocess turned into a quoted identifier reaches the tree as a
 * RangeVar whose name the parser cut to 63 bytes (NAMEDATALEN); this puts the whole path from
 * the original text back. Walks every message of the tree through the protobuf descriptors.
 * The strings belong to the unpacked tree (protobuf-c's allocator: malloc). */
typedef struct {
    const char *sql;
    int32_t len;
} file_names;

static bool restore_file_names(ProtobufCMessage *m, void *vctx) {
    const file_names *fn = vctx;
    if (m->descriptor == &pg_query__range_var__descriptor) {
        PgQuery__RangeVar *rv = (PgQuery__RangeVar *)m;
        int32_t at = rv->location;
        if (at >= 0 && at < fn->len && fn->sql[at] == '\'' && rv->relname && strlen(rv->relname) >= 63) {
            const char *p = fn->sql + at + 1, *q = strchr(p, '\'');
            char *full = q ? malloc((size_t)(q - p) + 1) : NULL;
            if (full) {
                memcpy(full, p, (size_t)(q - p));
                full[q - p] = 0;
                if (rv->relname != protobuf_c_empty_string) free(rv->relname);
                rv->relname = full;
            }
        }
        return false;
    }
    pl_sql_node_children(m, restore_file_names, vctx);
    return false;
}

/* Parses a script (DuckDB syntax rewritten by pl_sql_preprocess) into statements. Errors: PL_ERR_SQL with the position. */
static pl_status parse_script(const char *script, PgQuery__ParseResult **out, pl_error *err) {
    size_t len = strlen(script);
    if (len >= (size_t)INT32_MAX) PL_FAIL(err, PL_ERR_LIMIT, "SQL text too long (%zu bytes)", len);
    char *text = NULL;
    PL_TRY(pl_sql_preprocess(script, &text, err));
    PgQueryProtobufParseResult res = pg_query_parse_protobuf(text);
    pl_status st = PL_OK;
    if (res.error) {
        st = pl_sql_fail_at(err, char_pos_to_byte(text, res.error->cursorpos), PL_ERR_SQL, "%s",
                            res.error->message ? res.error->message : "syntax error");
    } else if ((st = pl_sql_check_tree_depth((const uint8_t *)res.parse_tree.data, res.parse_tree.len,
                                             err)) == PL_OK) {
        *out = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                              (const uint8_t *)res.parse_tree.data);
        if (!*out) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory unpacking the parse tree");
        else if (memcmp(text, script, len) != 0) /* only when pl_sql_preprocess rewrote something */
            restore_file_names(&(*out)->base, &(file_names){script, (int32_t)len});
    }
    pg_query_free_protobuf_parse_result(res);
    pl_free(text);
    return st;
}

/* Skips whitespace and comments from pos. */
static int32_t skip_space(const char *sql, int32_t pos, int32_t end) {
    while (pos < end) {
        if (isspace((unsigned char)sql[pos])) pos++;
        else if (sql[pos] == '-' && sql[pos + 1] == '-') {
            while (pos < end && sql[pos] != '\n') pos++;
        } else if (sql[pos] == '/' && sql[pos + 1] == '*') {
            const char *e = strstr(sql + pos + 2, "*/");
            if (!e) break;
            pos = (int32_t)(e - sql) + 2;
        } else break;
    }
    return pos;
}

static void stmt_bounds(const char *sql, const PgQuery__RawStmt *rs, int32_t len, pl_stmt_ctx *c) {
    c->sql = sql;
    c->end = rs->stmt_len > 0 ? rs->stmt_location + rs->stmt_len : len;
    c->pos = skip_space(sql, rs->stmt_location, c->end);
}

/* "alter_table_stmt" -> "ALTER TABLE" */
static void stmt_name(const PgQuery__Node *n, char *buf, size_t size) {
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&pg_query__node__descriptor, (unsigned)n->node_case);
    snprintf(buf, size, "%s", f ? f->name : "unknown");
    size_t l = strlen(buf);
    if (l > 5 && !strcmp(buf + l - 5, "_stmt")) buf[l - 5] = 0;
    for (char *p = buf; *p; p++) *p = *p == '_' ? ' ' : (char)toupper((unsigned char)*p);
}

/* ---------------------------------------------------------------- node values */

const char *pl_sql_node_text(const PgQuery__Node *n, char *buf, size_t size) {
    if (!n) return NULL;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_STRING: return n->string->sval;
    case PG_QUERY__NODE__NODE_INTEGER: snprintf(buf, size, "%d", n->integer->ival); return buf;
    case PG_QUERY__NODE__NODE_FLOAT: return n->float_->fval;
    case PG_QUERY__NODE__NODE_BOOLEAN: return n->boolean->boolval ? "true" : "false";
    case PG_QUERY__NODE__NODE_A_CONST: {
        const PgQuery__AConst *a = n->a_const;
        switch (a->val_case) {
        case PG_QUERY__A__CONST__VAL_SVAL: return a->sval->sval;
        case PG_QUERY__A__CONST__VAL_IVAL: snprintf(buf, size, "%d", a->ival->ival); return buf;
        case PG_QUERY__A__CONST__VAL_FVAL: return a->fval->fval;
        case PG_QUERY__A__CONST__VAL_BOOLVAL: return a->boolval->boolval ? "true" : "false";
        default: return NULL;
        }
    }
    case PG_QUERY__NODE__NODE_TYPE_NAME: {
        const PgQuery__TypeName *t = n->type_name;
        if (t->n_names == 0) return NULL;
        return pl_sql_node_text(t->names[t->n_names - 1], buf, size);
    }
    default: return NULL;
    }
}

bool pl_sql_node_bool(const PgQuery__Node *n, bool *out) {
    char buf[32];
    if (!n) {
        *out = true; /* an option without a value: HEADER, ANALYZE */
        return true;
    }
    const char *t = pl_sql_node_text(n, buf, sizeof buf);
    if (!t) return false;
    if (!strcasecmp(t, "true") || !strcasecmp(t, "on") || !strcmp(t, "1") || !strcasecmp(t, "yes"))
        *out = true;
    else if (!strcasecmp(t, "false") || !strcasecmp(t, "off") || !strcmp(t, "0") ||
             !strcasecmp(t, "no"))
        *out = false;
    else return false;
    return true;
}

/* ---------------------------------------------------------------- results */

static void result_init(pl_sql_result *r, int32_t pos) {
    memset(r, 0, sizeof *r);
    r->rows_changed = -1;
    r->stmt_pos = pos;
}

void pl_sql_result_reset(pl_sql_result *r) {
    if (!r) return;
    pl_df_release(r->df);
    pl_free(r->explain);
    result_init(r, -1);
}

/* ---------------------------------------------------------------- statements */

static bool is_query(const PgQuery__Node *n) {
    return n && n->node_case == PG_QUERY__NODE__NODE_SELECT_STMT;
}

static pl_status run_query(pl_session *s, const pl_stmt_ctx *c, const PgQuery__Node *n,
                           pl_sql_result *r, pl_error *err) {
    if (n->select_stmt->into_clause)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED,
                              "SELECT ... INTO is not supported (use CREATE TABLE ... AS)");
    pl_df *df = NULL;
    PL_TRY(pl_sql_plan_query(s, c->sql, n, &df, err));
    r->df = df;
    snprintf(r->tag, sizeof r->tag, "SELECT");
    return PL_OK;
}

static pl_status run_explain(pl_session *s, const pl_stmt_ctx *c, const PgQuery__ExplainStmt *st,
                             pl_sql_result *r, pl_error *err) {
    bool analyze = false;
    for (size_t i = 0; i < st->n_options; i++) {
        const PgQuery__Node *o = st->options[i];
        if (o->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
        const PgQuery__DefElem *d = o->def_elem;
        bool v;
        if (!strcmp(d->defname, "analyze")) {
            if (!pl_sql_node_bool(d->arg, &v))
                return pl_sql_fail_at(err, d->location, PL_ERR_SQL, "ANALYZE takes true or false");
            analyze = v;
        }
    }
    if (!is_query(st->query))
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "EXPLAIN supports queries only");
    pl_df *df = NULL;
    PL_TRY(pl_sql_plan_query(s, c->sql, st->query, &df, err));
    char *text = NULL;
    pl_status rc = analyze ? pl_df_explain_analyze(df, &s->opts, &text, err)
                           : pl_df_explain(df, true, &text, err);
    pl_df_release(df);
    if (rc) return rc;
    r->explain = text;
    snprintf(r->tag, sizeof r->tag, "EXPLAIN");
    return PL_OK;
}

/* "1GB", "512 MiB", "1000000": bytes (KB/MB/GB/TB powers of 1000, KiB... of 1024). */
static bool parse_size(const char *t, int64_t *out) {
    char *end;
    double v = strtod(t, &end);
    if (end == t || v < 0) return false;
    while (*end == ' ') end++;
    static const struct { const char *unit; double mul; } units[] = {
        {"", 1},          {"b", 1},           {"byte", 1},        {"bytes", 1},
        {"kb", 1e3},      {"mb", 1e6},        {"gb", 1e9},        {"tb", 1e12},
        {"k", 1e3},       {"m", 1e6},         {"g", 1e9},         {"t", 1e12},
        {"kib", 1024.0},  {"mib", 1048576.0}, {"gib", 1073741824.0},
        {"tib", 1099511627776.0},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(units); i++) {
        if (strcasecmp(end, units[i].unit)) continue;
        double b = v * units[i].mul;
        if (b >= 9.2e18) return false;
        *out = (int64_t)b;
        return true;
    }
    return false;
}

pl_status pl_session_set_time_zone(pl_session *s, const char *zone, pl_error *err) {
    if (!zone || !*zone) {
        s->time_zone[0] = 0;
        return PL_OK;
    }
    const pl_tz *z;
    pl_error e2;
    pl_error_init(&e2);
    if (strlen(zone) >= sizeof s->time_zone || pl_tz_lookup(zone, &z, &e2))
        PL_FAIL(err, PL_ERR_SQL, "SET TimeZone: unknown time zone \"%.128s\" (an IANA name such as "
                "'America/New_York', 'UTC' or an offset such as '+05:30')", zone);
    snprintf(s->time_zone, sizeof s->time_zone, "%s", zone);
    return PL_OK;
}

const char *pl_session_time_zone(const pl_session *s) { return s->time_zone[0] ? s->time_zone : "UTC"; }

static pl_status run_set(pl_session *s, const pl_stmt_ctx *c, const PgQuery__VariableSetStmt *st,
                         pl_sql_result *r, pl_error *err) {
    const char *name = st->name ? st->name : "";
    bool reset = st->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ||
                 st->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT;
    bool is_threads = !strcasecmp(name, "threads") || !strcasecmp(name, "worker_threads");
    bool is_mem = !strcasecmp(name, "memory_limit") || !strcasecmp(name, "max_memory");
    bool is_rec = !strcasecmp(name, "recursion_limit");
    bool is_tz = !strcasecmp(name, "timezone");
    if (!is_threads && !is_mem && !is_rec && !is_tz)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                              "unrecognized configuration parameter \"%s\" (threads, memory_limit, "
                              "recursion_limit, TimeZone)",
                              name);
    snprintf(r->tag, sizeof r->tag, reset ? "RESET" : "SET");
    if (!reset && st->kind != PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE)
        return pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "unsupported form of SET");
    char buf[64];
    const char *v = !reset && st->n_args == 1 ? pl_sql_node_text(st->args[0], buf, sizeof buf) : NULL;
    if (!reset && !v)
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL, "SET %s takes one value", name);
    if (is_tz) return pl_sql_at(err, c->pos, pl_session_set_time_zone(s, reset ? NULL : v, err));
    if (is_rec) {
        if (reset) {
            s->recursion_limit = 0;
            return PL_OK;
        }
        char *end;
        long long n = strtoll(v, &end, 10);
        if (*end || n < 1 || n > 1000000000LL)
            return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                                  "SET recursion_limit takes a number from 1 to 1000000000, not \"%s\"", v);
        s->recursion_limit = (int64_t)n;
        return PL_OK;
    }
    if (is_threads) {
        if (reset) {
            s->opts.n_threads = 0;
            return PL_OK;
        }
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 4096)
            return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                                  "SET threads takes a number from 1 to 4096, not \"%s\"", v);
        s->opts.n_threads = (int32_t)n;
        return PL_OK;
    }
    if (reset) {
        s->opts.memory_limit = 0;
        return PL_OK;
    }
    int64_t bytes;
    if (!parse_size(v, &bytes))
        return pl_sql_fail_at(err, c->pos, PL_ERR_SQL,
                              "SET memory_limit takes a size such as '4GB' or '512MiB', not \"%s\"", v);
    s->opts.memory_limit = bytes;
    return PL_OK;
}

static pl_status run_stmt(pl_session *s, const pl_stmt_ctx *c, const PgQuery__Node *n,
                          pl_sql_result *r, pl_error *err) {
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: return run_query(s, c, n, r, err);
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: return run_explain(s, c, n->explain_stmt, r, err);
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        return pl_sql_run_create_table(s, c, n->create_stmt, r, err);
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
        return pl_sql_run_create_table_as(s, c, n->create_table_as_stmt, r, err);
    case PG_QUERY__NODE__NODE_VIEW_STMT: return pl_sql_run_create_view(s, c, n->view_stmt, r, err);
    case PG_QUERY__NODE__NODE_INSERT_STMT: return pl_sql_run_insert(s, c, n->insert_stmt, r, err);
    case PG_QUERY__NODE__NODE_DROP_STMT: return pl_sql_run_drop(s, c, n->drop_stmt, r, err);
    case PG_QUERY__NODE__NODE_COPY_STMT: return pl_sql_run_copy(s, c, n->copy_stmt, r, err);
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return pl_sql_run_update(s, c, n->update_stmt, r, err);
    case PG_QUERY__NODE__NODE_DELETE_STMT: return pl_sql_run_delete(s, c, n->delete_stmt, r, err);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        return pl_sql_run_truncate(s, c, n->truncate_stmt, r, err);
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        return pl_sql_run_alter(s, c, n->alter_table_stmt, r, err);
    case PG_QUERY__NODE__NODE_RENAME_STMT: return pl_sql_run_rename(s, c, n->rename_stmt, r, err);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        return run_set(s, c, n->variable_set_stmt, r, err);
    default: {
        char name[64];
        stmt_name(n, name, sizeof name);
        pl_sql_fail_at(err, c->pos, PL_ERR_UNSUPPORTED, "unsupported statement %s", name);
        if (err)
            snprintf(err->hint, sizeof err->hint,
                     "supported: SELECT, VALUES, WITH, FROM, EXPLAIN, DESCRIBE, SUMMARIZE, SHOW "
                     "TABLES, CREATE [OR REPLACE] TABLE [AS], CREATE VIEW, INSERT, UPDATE, DELETE, TRUNCATE, "
                     "ALTER TABLE, DROP, COPY, SET");
        return PL_ERR_UNSUPPORTED;
    }
    }
}

pl_status pl_session_run(pl_session *s, const char *script,
                         pl_status (*on_result)(void *user, pl_sql_result *r, pl_error *err),
                         void *user, pl_error *err) {
    if (!s || !script) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_session_run needs a session and a script");
    pl_sql_forms f;
    PL_TRY(pl_sql_forms_rewrite(script, &f, err));
    script = f.text; /* from here on, positions are the rewritten text's (mapped back below) */
    PgQuery__ParseResult *pr = NULL;
    pl_status st = parse_script(script, &pr, err);
    int32_t len = f.len;
    pl_sql_text_scope saved;
    pl_sql_text_begin(script, len, &saved); /* its statements' planning knows its length */
    for (size_t i = 0; st == PL_OK && i < pr->n_stmts; i++) {
        const PgQuery__RawStmt *rs = pr->stmts[i];
        pl_stmt_ctx c;
        stmt_bounds(script, rs, len, &c);
        pl_sql_result r;
        result_init(&r, pl_sql_forms_orig_pos(&f, c.pos));
        if (err) err->sql_pos = -1;
        const pl_sql_form_mark *m = pl_sql_forms_mark(&f, c.pos, c.end);
        st = pl_sql_at(err, c.pos, m ? pl_sql_run_form(s, &c, m, rs->stmt, &r, err)
                                     : run_stmt(s, &c, rs->stmt, &r, err));
        /* errors while the caller runs a query point at the query too */
        if (st == PL_OK && on_result) {
            if (err) err->sql_pos = -1;
            st = pl_sql_at(err, c.pos, on_result(user, &r, err));
        }
        pl_sql_result_reset(&r);
    }
    pl_sql_text_end(&saved);
    if (pr) pg_query__parse_result__free_unpacked(pr, NULL);
    if (st && err && err->sql_pos >= 0) err->sql_pos = pl_sql_forms_orig_pos(&f, err->sql_pos);
    pl_sql_forms_free(&f);
    return st;
}

pl_status pl_session_query(pl_session *s, const char *sql, pl_df **out, pl_error *err) {
    if (!s || !sql) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_session_query needs a session and a query");
    pl_sql_forms f;
    PL_TRY(pl_sql_forms_rewrite(sql, &f, err));
    sql = f.text; /* from here on, positions are the rewritten text's (mapped back below) */
    PgQuery__ParseResult *pr = NULL;
    pl_status st = parse_script(sql, &pr, err);
    int32_t len = f.len;
    pl_stmt_ctx c = {sql, 0, len};
    const pl_sql_form_mark *m = NULL;
    if (st) {
        /* reported below */
    } else if (pr->n_stmts == 0) {
        st = pl_sql_fail_at(err, 0, PL_ERR_SQL, "empty query");
    } else if (pr->n_stmts > 1) {
        stmt_bounds(sql, pr->stmts[1], len, &c);
        st = pl_sql_fail_at(err, c.pos, PL_ERR_SQL, "expected one query, found %zu statements",
                            pr->n_stmts);
    } else {
        stmt_bounds(sql, pr->stmts[0], len, &c);
        const PgQuery__Node *n = pr->stmts[0]->stmt;
        m = pl_sql_forms_mark(&f, c.pos, c.end);
        if (!is_query(n) && !m) {
            char name[64];
            stmt_name(n, name, sizeof name);
            st = pl_sql_fail_at(err, c.pos, PL_ERR_SQL,
                                "expected a query (SELECT, VALUES or WITH), found %s", name);
        } else {
            if (err) err->sql_pos = -1;
            pl_sql_result r;
            result_init(&r, c.pos);
            st = pl_sql_at(err, c.pos, m ? pl_sql_run_form(s, &c, m, n, &r, err)
                                         : run_query(s, &c, n, &r, err));
            if (st == PL_OK) {
                *out = r.df;
                r.df = NULL;
            }
            pl_sql_result_reset(&r);
        }
    }
    if (pr) pg_query__parse_result__free_unpacked(pr, NULL);
    if (st && err && err->sql_pos >= 0) err->sql_pos = pl_sql_forms_orig_pos(&f, err->sql_pos);
    pl_sql_forms_free(&f);
    return st;
}

/* ---------------------------------------------------------------- file paths */

void pl_session_set_path_fn(pl_session *s, pl_sql_path_fn fn, void *user) {
    if (!s) return;
    s->resolve_path = fn;
    s->resolve_user = user;
}

pl_status pl_session_resolve_path(pl_session *s, const char *path, char **out, pl_error *err) {
    if (s && s->resolve_path) return s->resolve_path(s->resolve_user, path, out, err);
    char *r = pl_strdup(path);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    *out = r;
    return PL_OK;
}

/* ---------------------------------------------------------------- catalog listing */

int32_t pl_session_n_objects(const pl_session *s) { return s ? s->n_ents : 0; }

const char *pl_session_object(const pl_session *s, int32_t i, bool *is_view) {
    if (!s || i < 0 || i >= s->n_ents) return NULL;
    if (is_view) *is_view = s->ents[i].kind != PL_CAT_TABLE;
    return s->ents[i].name;
}

pl_status pl_session_get(pl_session *s, const char *name, pl_df **out, pl_error *err) {
    pl_cat_entry *e = s && name ? pl_session_find(s, name) : NULL;
    if (!e) PL_FAIL(err, PL_ERR_NOT_FOUND, "table \"%s\" does not exist", name ? name : "");
    return pl_session_entry_df(s, e, out, err);
}

pl_status pl_session_add_table(pl_session *s, const char *name, pl_table *rows, pl_error *err) {
    if (!s || !name || !*name || !rows)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_session_add_table needs a name and rows");
    pl_cat_entry *e;
    PL_TRY(put_entry(s, name, PL_CAT_TABLE, &e, err));
    e->table = pl_table_retain(rows);
    return PL_OK;
}

pl_status pl_session_set_temp(pl_session *s, const char *name, bool temp, pl_error *err) {
    pl_cat_entry *plain = s && name ? pl_session_find_in(s, name, false) : NULL;
    pl_cat_entry *tmp = s && name ? pl_session_find_in(s, name, true) : NULL;
    if (plain && plain->kind == PL_CAT_FRAME) plain = NULL;
    if (!plain && !tmp) PL_FAIL(err, PL_ERR_NOT_FOUND, "no table or view \"%s\"", name ? name : "");
    if (temp && plain) { /* the object that is not temporary becomes the temporary one */
        if (tmp) {
            pl_session_remove(s, tmp);
            plain = pl_session_find_in(s, name, false); /* entries moved */
        }
        plain->temp = true;
    } else if (!temp && !plain) {
        tmp->temp = false;
    }
    return PL_OK;
}

bool pl_session_object_info(const pl_session *s, int32_t i, pl_sql_object *out) {
    if (!s || i < 0 || i >= s->n_ents) return false;
    const pl_cat_entry *e = &s->ents[i];
    memset(out, 0, sizeof *out);
    out->name = e->name;
    out->kind = e->kind == PL_CAT_TABLE  ? PL_SQL_OBJECT_TABLE
                : e->kind == PL_CAT_VIEW ? PL_SQL_OBJECT_VIEW
                                         : PL_SQL_OBJECT_FRAME;
    out->rows = e->kind == PL_CAT_TABLE ? e->table : NULL;
    if (e->kind == PL_CAT_TABLE && e->defaults && e->table)
        for (int32_t k = 0; k < e->table->schema->n_fields; k++) out->has_defaults |= e->defaults[k] != NULL;
    out->has_keys = e->kind == PL_CAT_TABLE && e->n_keys > 0;
    out->temp = e->temp && e->kind != PL_CAT_FRAME;
    if (e->kind == PL_CAT_VIEW && e->view_sql) out->view_stmt = e->view_sql + e->view_pos;
    return true;
}

/* Whether a statement hands rows back (what a client prints). */
static bool stmt_returns_rows(const PgQuery__Node *n) {
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: return true;
    case PG_QUERY__NODE__NODE_INSERT_STMT: return n->insert_stmt->n_returning_list > 0;
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return n->update_stmt->n_returning_list > 0;
    case PG_QUERY__NODE__NODE_DELETE_STMT: return n->delete_stmt->n_returning_list > 0;
    default: return false;
    }
}

/* The user's first byte of the rewritten statement [pos, end): a form may move text (FROM-first
 * puts its FROM clause after the select list), so the least user position of its segments. */
static int32_t stmt_user_start(const pl_sql_forms *f, int32_t pos, int32_t end) {
    int32_t best = pl_sql_forms_orig_pos(f, pos);
    /* the segments start in increasing order: from the first after pos (binary search; a
     * loop over all of them per statement made pl_sql_split quadratic) */
    int32_t lo = 0, hi = f->n_segs;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (f->segs[mid].at <= pos) lo = mid + 1;
        else hi = mid;
    }
    for (int32_t i = lo; i < f->n_segs && f->segs[i].at < end; i++) {
        int32_t at = f->segs[i].at;
        int32_t o = pl_sql_forms_orig_pos(f, at);
        if (o >= 0 && o < best) best = o;
    }
    return best;
}

/* how much of a long line pl_sql_locate shows before the error position */
#define SQL_CARET_BEFORE 60

static bool utf8_cont(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

void pl_sql_locate(const char *text, int32_t pos, int32_t *line, int32_t *column, char *buf,
                   size_t buf_size) {
    if (!text) text = "";
    int32_t len = (int32_t)strlen(text);
    if (pos > len) pos = len;
    if (pos < 0) pos = 0;
    int32_t ls = pos, ln = 1, col = 1;
    while (ls > 0 && text[ls - 1] != '\n') ls--;
    for (int32_t i = 0; i < ls; i++) ln += text[i] == '\n';
    for (int32_t i = ls; i < pos; i++) col += !utf8_cont(text[i]);
    if (line) *line = ln;
    if (column) *column = col;
    if (!buf || buf_size == 0) return;
    int32_t le = pos;
    while (le < len && text[le] != '\n') le++;
    int32_t from = ls, to = le;
    const char *pre = "", *post = "";
    if (to - from > PL_SQL_CARET_WIDTH && pos - from > SQL_CARET_BEFORE) {
        from = pos - SQL_CARET_BEFORE + 10;
        while (from < pos && utf8_cont(text[from])) from++;
        pre = "...";
    }
    if (to - from > PL_SQL_CARET_WIDTH) {
        to = from + PL_SQL_CARET_WIDTH;
        while (to > pos && utf8_cont(text[to])) to--;
        post = "...";
    }
    size_t n = 0;
    int hl = snprintf(buf, buf_size, "LINE %d: %s", (int)ln, pre);
    n = hl > 0 ? PL_MIN((size_t)hl, buf_size - 1) : 0;
    for (int32_t i = from; i < to && n + 1 < buf_size; i++)
        buf[n++] = text[i] == '\t' || text[i] == '\r' ? ' ' : text[i];
    int32_t caret = hl > 0 ? hl : 0;
    for (int32_t i = from; i < pos; i++) caret += !utf8_cont(text[i]);
    int w = snprintf(buf + n, buf_size - n, "%s\n%*s^", post, (int)caret, "");
    PL_UNUSED(w);
    buf[buf_size - 1] = 0;
}

pl_status pl_sql_split(const char *script, pl_sql_span **out, int32_t *n, pl_error *err) {
    if (!script || !out || !n) PL_FAIL(err, PL_ERR_INVALID_ARG, "pl_sql_split needs a script");
    *out = NULL;
    *n = 0;
    pl_sql_forms f;
    PL_TRY(pl_sql_forms_rewrite(script, &f, err));
    PgQuery__ParseResult *pr = NULL;
    pl_status st = parse_script(f.text, &pr, err);
    pl_sql_span *v = NULL;
    if (!st && pr->n_stmts > 0 && !(v = pl_calloc(pr->n_stmts, sizeof *v)))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    int32_t ulen = (int32_t)strlen(script);
    for (size_t i = 0; !st && i < pr->n_stmts; i++) {
        pl_stmt_ctx c;
        stmt_bounds(f.text, pr->stmts[i], f.len, &c);
        const pl_sql_form_mark *m = pl_sql_forms_mark(&f, c.pos, c.end);
        v[i].start = PL_MIN(stmt_user_start(&f, c.pos, c.end), ulen);
        v[i].returns_rows = m != NULL || stmt_returns_rows(pr->stmts[i]->stmt);
    }
    /* a statement ends where the next starts (a rewritten form such as SHOW TABLES has no
     * user byte of its own at its end), less trailing white space and one ';' */
    for (size_t i = 0; !st && i < pr->n_stmts; i++) {
        int32_t end = i + 1 < pr->n_stmts ? v[i + 1].start : ulen;
        while (end > v[i].start && isspace((unsigned char)script[end - 1])) end--;
        if (end > v[i].start && script[end - 1] == ';') end--;
        v[i].end = PL_MAX(end, v[i].start);
    }
    if (st && err && err->sql_pos >= 0) err->sql_pos = pl_sql_forms_orig_pos(&f, err->sql_pos);
    if (!st) {
        *out = v;
        *n = pr ? (int32_t)pr->n_stmts : 0;
    } else {
        pl_free(v);
    }
    if (pr) pg_query__parse_result__free_unpacked(pr, NULL);
    pl_sql_forms_free(&f);
    return st;
}
