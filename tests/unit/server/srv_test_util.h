/* srv_test_util.h - shared by the server's unit tests: a temporary data root with sample files,
 * a pl_srv over it, packing requests and calling pl_srv_unary, comparing tables. Include after
 * <cmocka.h>. */
#ifndef PL_SRV_TEST_UTIL_H
#define PL_SRV_TEST_UTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "polaroid/dataframe.h"
#include "polaroid/sql.h"
#include "server/catalog.h"
#include "server/service.h"
#include "srv_data_util.h"

static pl_error g_err;
#define E (&g_err)

#define ok(expr)                                                                                   \
    do {                                                                                           \
        pl_error_init(&g_err);                                                                     \
        pl_status ok__st = (expr);                                                                 \
        if (ok__st != PL_OK) {                                                                     \
            char ok__buf[1024];                                                                    \
            fail_msg("%s failed: %s", #expr, pl_error_format(&g_err, ok__buf, sizeof ok__buf));   \
        }                                                                                          \
    } while (0)

static char g_root[PATH_MAX];

/* trades: id int64 0..n-1, sym utf8 (AAPL, MSFT, GOOG), price float64 id*1.5, qty int64
 * (NULL when id % 10 == 0, else id % 7) */
static inline void trades_row(pl_builder **b, int64_t i) {
    static const char *syms[] = {"AAPL", "MSFT", "GOOG"};
    ok(pl_builder_append_i64(b[0], i, E));
    ok(pl_builder_append_bytes(b[1], syms[i % 3], 4, E));
    ok(pl_builder_append_f64(b[2], (double)i * 1.5, E));
    if (i % 10 == 0) ok(pl_builder_append_null(b[3], E));
    else ok(pl_builder_append_i64(b[3], i % 7, E));
}

static inline pl_table *make_trades(int64_t n) {
    pl_field f[4] = {{(char *)"id", pl_type_simple(PL_TYPE_INT64), true},
                     {(char *)"sym", pl_type_simple(PL_TYPE_UTF8), true},
                     {(char *)"price", pl_type_simple(PL_TYPE_FLOAT64), true},
                     {(char *)"qty", pl_type_simple(PL_TYPE_INT64), true}};
    return srv_gen_table(4, f, n, trades_row);
}

static inline void write_table(pl_table *t, const char *rel, pl_format fmt) {
    srv_write_file(g_root, rel, t, fmt, 0, true);
}

/* A fresh data root: trades.parquet (100 rows), trades.csv, parts/p1.parquet, parts/p2.parquet,
 * sub/ (a directory). */
static inline void make_root(void) {
    srv_make_dir(g_root, sizeof g_root, "pl_srv_test");
    pl_table *t = make_trades(100);
    write_table(t, "trades.parquet", PL_FORMAT_PARQUET);
    write_table(t, "trades.csv", PL_FORMAT_CSV);
    char d[PATH_MAX + 16];
    snprintf(d, sizeof d, "%s/parts", g_root);
    mkdir(d, 0700);
    snprintf(d, sizeof d, "%s/sub", g_root);
    mkdir(d, 0700);
    write_table(t, "parts/p1.parquet", PL_FORMAT_PARQUET);
    write_table(t, "parts/p2.parquet", PL_FORMAT_PARQUET);
    pl_table_release(t);
}

static inline void remove_root(void) {
    if (srv_remove_dir(g_root) != 0) fprintf(stderr, "could not remove %s\n", g_root);
}

/* cmocka group fixtures: the data root above for a whole test file. */
static inline int root_setup(void **state) {
    (void)state;
    make_root();
    return 0;
}

static inline int root_teardown(void **state) {
    (void)state;
    remove_root();
    return 0;
}

static inline pl_srv *new_srv(void) {
    pl_srv_config cfg;
    pl_srv_config_init(&cfg);
    cfg.data_root = g_root;
    pl_srv *s = NULL;
    ok(pl_srv_new(&cfg, &s, E));
    return s;
}

static inline pl_srv_call make_call(pl_srv *s, const char *owner) {
    pl_srv_call c;
    memset(&c, 0, sizeof c);
    c.srv = s;
    c.owner = owner;
    c.peer = "ipv4:127.0.0.1:1";
    c.request_id = "test";
    c.same_host = true;
    return c;
}

/* Packs msg, calls the method; returns the status, the response in *resp (pl_free). */
static inline pl_status call_method(pl_srv_call *c, pl_srv_method m, const ProtobufCMessage *msg,
                             uint8_t **resp, size_t *resp_len) {
    size_t n = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = pl_malloc(n + 1);
    protobuf_c_message_pack(msg, buf);
    pl_error_init(&g_err);
    *resp = NULL;
    *resp_len = 0;
    pl_status st = pl_srv_unary(c, m, buf, n, resp, resp_len, &g_err);
    pl_free(buf);
    return st;
}

/* ---- building plans (messages on the heap via calloc; freed with the tree) */

static inline Polaroid__V1__Relation *rel_new(void) {
    Polaroid__V1__Relation *r = calloc(1, sizeof *r);
    polaroid__v1__relation__init(r);
    return r;
}

static inline Polaroid__V1__Relation *rel_read(const char *path) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__ReadFiles *rf = calloc(1, sizeof *rf);
    polaroid__v1__read_files__init(rf);
    rf->n_paths = 1;
    rf->paths = calloc(1, sizeof(char *));
    rf->paths[0] = strdup(path);
    r->rel_case = POLAROID__V1__RELATION__REL_READ;
    r->read = rf;
    return r;
}

static inline Polaroid__V1__Relation *rel_sql(const char *q) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__SqlQuery *s = calloc(1, sizeof *s);
    polaroid__v1__sql_query__init(s);
    s->query = strdup(q);
    r->rel_case = POLAROID__V1__RELATION__REL_SQL;
    r->sql = s;
    return r;
}

static inline Polaroid__V1__Expr *ex_new(void) {
    Polaroid__V1__Expr *e = calloc(1, sizeof *e);
    polaroid__v1__expr__init(e);
    return e;
}

static inline Polaroid__V1__Expr *ex_col(const char *name) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__ColumnRef *c = calloc(1, sizeof *c);
    polaroid__v1__column_ref__init(c);
    c->name = strdup(name);
    e->kind_case = POLAROID__V1__EXPR__KIND_COLUMN;
    e->column = c;
    return e;
}

static inline Polaroid__V1__Expr *ex_i64(int64_t v) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__Literal *l = calloc(1, sizeof *l);
    polaroid__v1__literal__init(l);
    l->value_case = POLAROID__V1__LITERAL__VALUE_INT64_VALUE;
    l->int64_value = v;
    e->kind_case = POLAROID__V1__EXPR__KIND_LITERAL;
    e->literal = l;
    return e;
}

static inline Polaroid__V1__Expr *ex_str(const char *v) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__Literal *l = calloc(1, sizeof *l);
    polaroid__v1__literal__init(l);
    l->value_case = POLAROID__V1__LITERAL__VALUE_STRING_VALUE;
    l->string_value = strdup(v);
    e->kind_case = POLAROID__V1__EXPR__KIND_LITERAL;
    e->literal = l;
    return e;
}

static inline Polaroid__V1__Expr *ex_call(const char *fn, int n, ...) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__Call *c = calloc(1, sizeof *c);
    polaroid__v1__call__init(c);
    c->function = strdup(fn);
    c->n_args = (size_t)n;
    c->args = calloc((size_t)n + 1, sizeof *c->args);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) c->args[i] = va_arg(ap, Polaroid__V1__Expr *);
    va_end(ap);
    e->kind_case = POLAROID__V1__EXPR__KIND_CALL;
    e->call = c;
    return e;
}

static inline Polaroid__V1__Expr *ex_agg(const char *fn, Polaroid__V1__Expr *arg) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__AggCall *a = calloc(1, sizeof *a);
    polaroid__v1__agg_call__init(a);
    a->function = strdup(fn);
    a->n_args = arg ? 1 : 0;
    a->args = calloc(1, sizeof *a->args);
    a->args[0] = arg;
    e->kind_case = POLAROID__V1__EXPR__KIND_AGG;
    e->agg = a;
    return e;
}

static inline Polaroid__V1__Expr *ex_sql(const char *text) {
    Polaroid__V1__Expr *e = ex_new();
    e->kind_case = POLAROID__V1__EXPR__KIND_SQL;
    e->sql = strdup(text);
    return e;
}

static inline Polaroid__V1__NamedExpr *named(Polaroid__V1__Expr *e, const char *name) {
    Polaroid__V1__NamedExpr *n = calloc(1, sizeof *n);
    polaroid__v1__named_expr__init(n);
    n->expr = e;
    n->name = strdup(name ? name : "");
    return n;
}

static inline Polaroid__V1__Relation *rel_filter(Polaroid__V1__Relation *in, Polaroid__V1__Expr *pred) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__Filter *f = calloc(1, sizeof *f);
    polaroid__v1__filter__init(f);
    f->input = in;
    f->predicate = pred;
    r->rel_case = POLAROID__V1__RELATION__REL_FILTER;
    r->filter = f;
    return r;
}

static inline Polaroid__V1__Relation *rel_select(Polaroid__V1__Relation *in, int n, ...) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__Select *s = calloc(1, sizeof *s);
    polaroid__v1__select__init(s);
    s->input = in;
    s->n_exprs = (size_t)n;
    s->exprs = calloc((size_t)n + 1, sizeof *s->exprs);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) s->exprs[i] = va_arg(ap, Polaroid__V1__NamedExpr *);
    va_end(ap);
    r->rel_case = POLAROID__V1__RELATION__REL_SELECT;
    r->select = s;
    return r;
}

/* Frees a message tree built with the helpers above (calloc/strdup everywhere). */
static inline void tree_free(ProtobufCMessage *m) {
    if (!m) return;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        char *base = (char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)((char *)m + f->quantifier_offset);
            void **v = *(void ***)base;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE)
                for (size_t k = 0; k < n; k++) tree_free(v[k]);
            else if (f->type == PROTOBUF_C_TYPE_STRING)
                for (size_t k = 0; k < n; k++) free(v[k]);
            free(v);
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t qc = *(uint32_t *)((char *)m + f->quantifier_offset);
            if (qc != f->id) continue;
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) tree_free(*(ProtobufCMessage **)base);
        else if (f->type == PROTOBUF_C_TYPE_STRING) {
            char *s = *(char **)base;
            if (s && s != (char *)f->default_value && s[0] != '\0') free(s);
            else if (s && s != (char *)f->default_value && s != protobuf_c_empty_string) free(s);
        } else if (f->type == PROTOBUF_C_TYPE_BYTES) {
            ProtobufCBinaryData *bd = (ProtobufCBinaryData *)base;
            free(bd->data);
        }
    }
    free(m);
}

/* A PlanRequest with this root (taken). */
static inline Polaroid__V1__PlanRequest *plan_req(Polaroid__V1__Relation *root) {
    Polaroid__V1__PlanRequest *q = calloc(1, sizeof *q);
    polaroid__v1__plan_request__init(q);
    Polaroid__V1__Plan *p = calloc(1, sizeof *p);
    polaroid__v1__plan__init(p);
    p->root = root;
    q->plan = p;
    return q;
}

/* Decodes and collects a relation (taken) through pl_srv_plan_to_df. */
static inline pl_status collect_rel(pl_srv_call *c, Polaroid__V1__Relation *root, pl_table **out) {
    Polaroid__V1__Plan p = POLAROID__V1__PLAN__INIT;
    p.root = root;
    pl_df *df = NULL;
    pl_error_init(&g_err);
    pl_status st = pl_srv_plan_to_df(c, &p, &df, &g_err);
    if (!st) {
        st = pl_df_collect(df, NULL, out, &g_err);
        pl_df_release(df);
    }
    tree_free(&root->base);
    return st;
}

/* The same query through SQL over the data root (a session whose paths resolve there). */
static inline pl_status srv_path_fn(void *user, const char *path, char **out, pl_error *err) {
    (void)user;
    return pl_srv_resolve_path(g_root, path, out, err);
}

static inline pl_table *sql_table(const char *q) {
    pl_session *s = NULL;
    ok(pl_session_new(&s, E));
    pl_session_set_path_fn(s, srv_path_fn, NULL);
    pl_df *df = NULL;
    ok(pl_session_query(s, q, &df, E));
    pl_table *t = NULL;
    ok(pl_df_collect(df, NULL, &t, E));
    pl_df_release(df);
    pl_session_free(s);
    return t;
}

static inline void assert_tables_equal(pl_table *a, pl_table *b) {
    if (!pl_table_equals(a, b)) {
        char x[256], y[256];
        fprintf(stderr, "tables differ: %lld rows vs %lld rows\n", (long long)a->n_rows, (long long)b->n_rows);
        for (int32_t i = 0; i < a->schema->n_fields && i < b->schema->n_fields; i++)
            fprintf(stderr, "  %s %s | %s %s\n", a->schema->fields[i].name,
                    pl_type_to_string(a->schema->fields[i].type, x, sizeof x), b->schema->fields[i].name,
                    pl_type_to_string(b->schema->fields[i].type, y, sizeof y));
        fail_msg("tables differ");
    }
}

#endif
