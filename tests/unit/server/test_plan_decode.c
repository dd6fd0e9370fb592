/* test_plan_decode.c - every relation and expression kind of polaroid.v1 decoded by
 * pl_srv_plan_to_df and collected, compared with the same query in SQL over the same file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "io/ipc/ipc.h"
#include "srv_test_util.h"

static pl_srv *g_srv;

static int setup(void **state) {
    (void)state;
    make_root();
    g_srv = new_srv();
    return 0;
}
static int teardown(void **state) {
    (void)state;
    pl_srv_free(g_srv);
    remove_root();
    return 0;
}

/* relation (taken) vs SQL, sorted by the given SQL ORDER BY when order matters not */
static void same(Polaroid__V1__Relation *r, const char *sql) {
    pl_srv_call c = make_call(g_srv, "");
    pl_table *got = NULL;
    pl_status st = collect_rel(&c, r, &got);
    if (st) fail_msg("decode failed: %s", g_err.msg);
    pl_table *want = sql_table(sql);
    assert_tables_equal(got, want);
    pl_table_release(got);
    pl_table_release(want);
}

static Polaroid__V1__Relation *csv(void) { return rel_read("trades.csv"); }

static Polaroid__V1__Relation *sorted(Polaroid__V1__Relation *in, const char *col) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__Sort *s = calloc(1, sizeof *s);
    polaroid__v1__sort__init(s);
    s->input = in;
    s->n_keys = 1;
    s->keys = calloc(1, sizeof *s->keys);
    s->keys[0] = calloc(1, sizeof **s->keys);
    polaroid__v1__sort_key__init(s->keys[0]);
    s->keys[0]->expr = ex_col(col);
    r->rel_case = POLAROID__V1__RELATION__REL_SORT;
    r->sort = s;
    return r;
}

static void test_filter_select_with_columns(void **state) {
    (void)state;
    same(rel_select(rel_filter(csv(), ex_call("gt", 2, ex_col("price"), ex_i64(100))), 2,
                    named(ex_col("id"), NULL), named(ex_call("mul", 2, ex_col("qty"), ex_i64(2)), "q2")),
         "SELECT id, qty * 2 AS q2 FROM 'trades.csv' WHERE price > 100");
    same(rel_filter(csv(), ex_sql("sym = 'AAPL' AND qty IS NOT NULL")),
         "SELECT * FROM 'trades.csv' WHERE sym = 'AAPL' AND qty IS NOT NULL");
    /* SQL expressions with aliases as names */
    same(rel_select(csv(), 2, named(ex_sql("upper(sym) || '!' AS s"), NULL), named(ex_sql("CAST(id AS DOUBLE) / 2"), "h")),
         "SELECT upper(sym) || '!' AS s, CAST(id AS DOUBLE) / 2 AS h FROM 'trades.csv'");
    Polaroid__V1__Relation *wc = rel_new();
    Polaroid__V1__WithColumns *w = calloc(1, sizeof *w);
    polaroid__v1__with_columns__init(w);
    w->input = csv();
    w->n_exprs = 2;
    w->exprs = calloc(2, sizeof *w->exprs);
    w->exprs[0] = named(ex_call("add", 2, ex_col("id"), ex_i64(1)), "id"); /* replaced in place */
    Polaroid__V1__Expr *cast = ex_new();
    Polaroid__V1__Cast *cs = calloc(1, sizeof *cs);
    polaroid__v1__cast__init(cs);
    cs->expr = ex_col("price");
    cs->type = strdup("DECIMAL(18,3)");
    cast->kind_case = POLAROID__V1__EXPR__KIND_CAST;
    cast->cast = cs;
    w->exprs[1] = named(cast, "pd");
    wc->rel_case = POLAROID__V1__RELATION__REL_WITH_COLUMNS;
    wc->with_columns = w;
    same(wc, "SELECT id + 1 AS id, sym, price, qty, CAST(price AS DECIMAL(18,3)) AS pd FROM 'trades.csv'");
    /* literals of every kind */
    same(rel_select(rel_filter(csv(), ex_call("eq", 2, ex_col("sym"), ex_str("MSFT"))), 1, named(ex_col("id"), NULL)),
         "SELECT id FROM 'trades.csv' WHERE sym = 'MSFT'");
}

static Polaroid__V1__Relation *aggregate(Polaroid__V1__Relation *in) {
    Polaroid__V1__Relation *r = rel_new();
    Polaroid__V1__Aggregate *a = calloc(1, sizeof *a);
    polaroid__v1__aggregate__init(a);
    a->input = in;
    a->n_keys = 1;
    a->keys = calloc(1, sizeof *a->keys);
    a->keys[0] = named(ex_col("sym"), NULL);
    a->n_aggs = 4;
    a->aggs = calloc(4, sizeof *a->aggs);
    a->aggs[0] = named(ex_agg("sum", ex_col("qty")), "s");
    a->aggs[1] = named(ex_agg("count", NULL), "n");
    Polaroid__V1__Expr *d = ex_agg("count", ex_col("qty"));
    d->agg->distinct = true;
    a->aggs[2] = named(d, "nd");
    Polaroid__V1__Expr *f = ex_agg("max", ex_col("price"));
    f->agg->filter = ex_sql("qty > 3");
    a->aggs[3] = named(f, "mf");
    r->rel_case = POLAROID__V1__RELATION__REL_AGGREGATE;
    r->aggregate = a;
    return r;
}

static void test_aggregate_sort_limit(void **state) {
    (void)state;
    same(sorted(aggregate(csv()), "sym"),
         "SELECT sym, sum(qty) AS s, count(*) AS n, count(DISTINCT qty) AS nd, "
         "max(price) FILTER (WHERE qty > 3) AS mf FROM 'trades.csv' GROUP BY sym ORDER BY sym");
    Polaroid__V1__Relation *l = rel_new();
    Polaroid__V1__Limit *lm = calloc(1, sizeof *lm);
    polaroid__v1__limit__init(lm);
    lm->input = sorted(csv(), "price");
    lm->offset = 5;
    lm->limit = 10;
    l->rel_case = POLAROID__V1__RELATION__REL_LIMIT;
    l->limit = lm;
    same(l, "SELECT * FROM 'trades.csv' ORDER BY price LIMIT 10 OFFSET 5");
    /* descending, nulls first/last */
    Polaroid__V1__Relation *s = sorted(csv(), "qty");
    s->sort->keys[0]->descending = true;
    s->sort->keys[0]->nulls = POLAROID__V1__SORT_KEY__NULLS__NULLS_LAST;
    Polaroid__V1__Relation *s2 = rel_select(s, 1, named(ex_col("qty"), NULL));
    same(s2, "SELECT qty FROM (SELECT * FROM 'trades.csv' ORDER BY qty DESC NULLS LAST)");
}

static void test_rename_drop_distinct_union(void **state) {
    (void)state;
    Polaroid__V1__Relation *rn = rel_new();
    Polaroid__V1__Rename *r = calloc(1, sizeof *r);
    polaroid__v1__rename__init(r);
    r->input = csv();
    r->n_old_names = r->n_new_names = 1;
    r->old_names = calloc(1, sizeof(char *));
    r->new_names = calloc(1, sizeof(char *));
    r->old_names[0] = strdup("sym");
    r->new_names[0] = strdup("symbol");
    rn->rel_case = POLAROID__V1__RELATION__REL_RENAME;
    rn->rename = r;
    same(rn, "SELECT id, sym AS symbol, price, qty FROM 'trades.csv'");
    Polaroid__V1__Relation *dr = rel_new();
    Polaroid__V1__Drop *d = calloc(1, sizeof *d);
    polaroid__v1__drop__init(d);
    d->input = csv();
    d->n_columns = 2;
    d->columns = calloc(2, sizeof(char *));
    d->columns[0] = strdup("price");
    d->columns[1] = strdup("id");
    dr->rel_case = POLAROID__V1__RELATION__REL_DROP;
    dr->drop = d;
    same(dr, "SELECT sym, qty FROM 'trades.csv'");
    /* distinct (whole rows, then a subset: the first row of each) */
    Polaroid__V1__Relation *ds = rel_new();
    Polaroid__V1__Distinct *di = calloc(1, sizeof *di);
    polaroid__v1__distinct__init(di);
    di->input = rel_select(csv(), 1, named(ex_col("sym"), NULL));
    ds->rel_case = POLAROID__V1__RELATION__REL_DISTINCT;
    ds->distinct = di;
    same(sorted(ds, "sym"), "SELECT DISTINCT sym FROM 'trades.csv' ORDER BY sym");
    ds = rel_new();
    di = calloc(1, sizeof *di);
    polaroid__v1__distinct__init(di);
    di->input = csv();
    di->n_subset = 1;
    di->subset = calloc(1, sizeof(char *));
    di->subset[0] = strdup("sym");
    ds->rel_case = POLAROID__V1__RELATION__REL_DISTINCT;
    ds->distinct = di;
    same(sorted(ds, "id"), "SELECT * FROM 'trades.csv' WHERE id < 3 ORDER BY id");
    /* union all / distinct */
    Polaroid__V1__Relation *u = rel_new();
    Polaroid__V1__Union *un = calloc(1, sizeof *un);
    polaroid__v1__union__init(un);
    un->n_inputs = 3;
    un->inputs = calloc(3, sizeof *un->inputs);
    for (int i = 0; i < 3; i++) un->inputs[i] = rel_select(csv(), 1, named(ex_col("sym"), NULL));
    u->rel_case = POLAROID__V1__RELATION__REL_UNION;
    u->union_ = un;
    Polaroid__V1__Relation *cnt = rel_new();
    Polaroid__V1__Aggregate *a = calloc(1, sizeof *a);
    polaroid__v1__aggregate__init(a);
    a->input = u;
    a->n_aggs = 1;
    a->aggs = calloc(1, sizeof *a->aggs);
    a->aggs[0] = named(ex_agg("count", NULL), "n");
    cnt->rel_case = POLAROID__V1__RELATION__REL_AGGREGATE;
    cnt->aggregate = a;
    same(cnt, "SELECT count(*) AS n FROM (SELECT sym FROM 'trades.csv' UNION ALL SELECT sym FROM "
              "'trades.csv' UNION ALL SELECT sym FROM 'trades.csv')");
    /* 5000 inputs: a balanced tree for the engine, not a chain 5000 deep */
    pl_table *rows = sql_table("SELECT * FROM 'trades.csv' WHERE id < 2");
    ok(pl_catalog_table_create(pl_srv_catalog(g_srv), "two", rows->schema, rows, false, true, NULL, E));
    pl_table_release(rows);
    u = rel_new();
    un = calloc(1, sizeof *un);
    polaroid__v1__union__init(un);
    un->n_inputs = 5000;
    un->inputs = calloc(5000, sizeof *un->inputs);
    for (int i = 0; i < 5000; i++) {
        Polaroid__V1__Relation *tr = rel_new();
        Polaroid__V1__TableRef *tref = calloc(1, sizeof *tref);
        polaroid__v1__table_ref__init(tref);
        tref->name = strdup("two");
        tr->rel_case = POLAROID__V1__RELATION__REL_TABLE;
        tr->table = tref;
        un->inputs[i] = tr;
    }
    u->rel_case = POLAROID__V1__RELATION__REL_UNION;
    u->union_ = un;
    pl_srv_call c = make_call(g_srv, "");
    pl_table *t = NULL;
    ok(collect_rel(&c, u, &t));
    assert_int_equal(t->n_rows, 10000);
    pl_table_release(t);
}

static Polaroid__V1__Relation *join_of(Polaroid__V1__Relation *l, Polaroid__V1__Relation *r,
                                       Polaroid__V1__Join__Type type, const char *on) {
    Polaroid__V1__Relation *j = rel_new();
    Polaroid__V1__Join *jn = calloc(1, sizeof *jn);
    polaroid__v1__join__init(jn);
    jn->left = l;
    jn->right = r;
    jn->type = type;
    if (on) {
        jn->n_on = 1;
        jn->on = calloc(1, sizeof(char *));
        jn->on[0] = strdup(on);
    }
    j->rel_case = POLAROID__V1__RELATION__REL_JOIN;
    j->join = jn;
    return j;
}

static void test_join(void **state) {
    (void)state;
    /* on: the key once, clashing right columns suffixed */
    Polaroid__V1__Relation *small = rel_select(rel_filter(csv(), ex_sql("id < 20")), 2,
                                               named(ex_col("id"), NULL), named(ex_col("price"), NULL));
    same(sorted(join_of(csv(), small, POLAROID__V1__JOIN__TYPE__JOIN_INNER, "id"), "id"),
         "SELECT t.id, t.sym, t.price, t.qty, s.price AS price_right FROM 'trades.csv' t JOIN "
         "(SELECT id, price FROM 'trades.csv' WHERE id < 20) s ON t.id = s.id ORDER BY t.id");
    small = rel_select(rel_filter(csv(), ex_sql("id < 20")), 2, named(ex_col("id"), NULL), named(ex_col("price"), NULL));
    same(sorted(join_of(csv(), small, POLAROID__V1__JOIN__TYPE__JOIN_LEFT, "id"), "id"),
         "SELECT t.id, t.sym, t.price, t.qty, s.price AS price_right FROM 'trades.csv' t LEFT JOIN "
         "(SELECT id, price FROM 'trades.csv' WHERE id < 20) s ON t.id = s.id ORDER BY t.id");
    small = rel_filter(csv(), ex_sql("id < 20"));
    same(sorted(join_of(csv(), small, POLAROID__V1__JOIN__TYPE__JOIN_SEMI, "id"), "id"),
         "SELECT * FROM 'trades.csv' WHERE id < 20 ORDER BY id");
    small = rel_filter(csv(), ex_sql("id < 20"));
    same(sorted(join_of(csv(), small, POLAROID__V1__JOIN__TYPE__JOIN_ANTI, "id"), "id"),
         "SELECT * FROM 'trades.csv' WHERE id >= 20 ORDER BY id");
    /* FULL coalesces the key */
    Polaroid__V1__Relation *a = rel_select(rel_filter(csv(), ex_sql("id < 5")), 1, named(ex_col("id"), NULL));
    Polaroid__V1__Relation *b = rel_select(rel_filter(csv(), ex_sql("id >= 3 AND id < 8")), 2,
                                           named(ex_col("id"), NULL), named(ex_col("sym"), NULL));
    same(sorted(join_of(a, b, POLAROID__V1__JOIN__TYPE__JOIN_FULL, "id"), "id"),
         "SELECT coalesce(x.id, y.id) AS id, y.sym FROM (SELECT id FROM 'trades.csv' WHERE id < 5) x "
         "FULL JOIN (SELECT id, sym FROM 'trades.csv' WHERE id >= 3 AND id < 8) y ON x.id = y.id ORDER BY 1");
    /* cross */
    a = rel_select(rel_filter(csv(), ex_sql("id < 2")), 1, named(ex_col("id"), NULL));
    b = rel_select(rel_filter(csv(), ex_sql("id < 3")), 1, named(ex_col("sym"), NULL));
    Polaroid__V1__Relation *cj = join_of(a, b, POLAROID__V1__JOIN__TYPE__JOIN_CROSS, NULL);
    pl_srv_call c = make_call(g_srv, "");
    pl_table *t = NULL;
    ok(collect_rel(&c, cj, &t));
    assert_int_equal(t->n_rows, 6);
    pl_table_release(t);
    /* errors: no keys, unknown key column */
    cj = join_of(csv(), csv(), POLAROID__V1__JOIN__TYPE__JOIN_INNER, NULL);
    assert_int_equal(collect_rel(&c, cj, &t), PL_ERR_INVALID_ARG);
    cj = join_of(csv(), csv(), POLAROID__V1__JOIN__TYPE__JOIN_INNER, "nope");
    assert_int_equal(collect_rel(&c, cj, &t), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "root.join.on[0]"));
}

static void test_sources(void **state) {
    (void)state;
    pl_srv_call c = make_call(g_srv, "");
    /* globs read as one table */
    pl_table *t = NULL;
    ok(collect_rel(&c, rel_read("parts/*.parquet"), &t));
    assert_int_equal(t->n_rows, 200);
    pl_table_release(t);
    /* SQL with named inputs */
    Polaroid__V1__Relation *r = rel_sql("SELECT sym, count(*) AS n FROM f GROUP BY sym ORDER BY sym");
    r->sql->n_inputs = 1;
    r->sql->inputs = calloc(1, sizeof *r->sql->inputs);
    r->sql->inputs[0] = calloc(1, sizeof **r->sql->inputs);
    polaroid__v1__named_relation__init(r->sql->inputs[0]);
    r->sql->inputs[0]->name = strdup("f");
    r->sql->inputs[0]->relation = rel_filter(csv(), ex_sql("id < 10"));
    same(r, "SELECT sym, count(*) AS n FROM 'trades.csv' WHERE id < 10 GROUP BY sym ORDER BY sym");
    /* an Arrow upload */
    pl_table *src = sql_table("SELECT * FROM 'trades.csv' WHERE id < 7");
    pl_buf *ipc = NULL;
    ok(pl_ipc_write_table_buf(src, false, NULL, &ipc, E));
    Polaroid__V1__Relation *ar = rel_new();
    Polaroid__V1__ArrowData *ad = calloc(1, sizeof *ad);
    polaroid__v1__arrow_data__init(ad);
    ad->ipc_stream.data = malloc((size_t)ipc->size);
    memcpy(ad->ipc_stream.data, ipc->data, (size_t)ipc->size);
    ad->ipc_stream.len = (size_t)ipc->size;
    ar->rel_case = POLAROID__V1__RELATION__REL_ARROW;
    ar->arrow = ad;
    ok(collect_rel(&c, ar, &t));
    assert_tables_equal(t, src);
    pl_table_release(t);
    /* a corrupt upload is INVALID_ARG */
    ar = rel_new();
    ad = calloc(1, sizeof *ad);
    polaroid__v1__arrow_data__init(ad);
    ad->ipc_stream.len = 40;
    ad->ipc_stream.data = malloc(40);
    memcpy(ad->ipc_stream.data, ipc->data, 40);
    ar->rel_case = POLAROID__V1__RELATION__REL_ARROW;
    ar->arrow = ad;
    assert_int_equal(collect_rel(&c, ar, &t), PL_ERR_INVALID_ARG);
    pl_buf_release(ipc);
    pl_table_release(src);
    /* a live table by name */
    pl_table *rows = sql_table("SELECT * FROM 'trades.csv'");
    ok(pl_catalog_table_create(pl_srv_catalog(g_srv), "live", rows->schema, rows, false, true, NULL, E));
    Polaroid__V1__Relation *tr = rel_new();
    Polaroid__V1__TableRef *tref = calloc(1, sizeof *tref);
    polaroid__v1__table_ref__init(tref);
    tref->name = strdup("live");
    tr->rel_case = POLAROID__V1__RELATION__REL_TABLE;
    tr->table = tref;
    ok(collect_rel(&c, tr, &t));
    assert_tables_equal(t, rows);
    pl_table_release(t);
    pl_table_release(rows);
    /* CSV options: no header */
    Polaroid__V1__Relation *rc = csv();
    Polaroid__V1__CsvOptions *co = calloc(1, sizeof *co);
    polaroid__v1__csv_options__init(co);
    co->no_header = true;
    rc->read->csv = co;
    ok(collect_rel(&c, rc, &t));
    assert_int_equal(t->n_rows, 101);
    pl_table_release(t);
}

static void test_pl_sql_parse(void **state) {
    (void)state;
    pl_expr *e = NULL;
    ok(pl_sql_parse_expr("price * 2 > 100", &e, E));
    char buf[256];
    assert_string_equal(pl_expr_to_string(e, buf, sizeof buf), "((price * 2) > 100)");
    pl_expr_release(e);
    char *alias = NULL;
    ok(pl_sql_parse_named_expr("sum(x) FILTER (WHERE y > 1) AS s", &e, &alias, E));
    assert_string_equal(alias, "s");
    assert_int_equal(e->kind, PL_EXPR_AGG);
    pl_free(alias);
    pl_expr_release(e);
    pl_error_init(&g_err);
    assert_int_equal(pl_sql_parse_expr("a +", &e, &g_err), PL_ERR_SQL);
    assert_true(g_err.sql_pos >= 0 && g_err.sql_pos <= 3);
    assert_int_equal(pl_sql_parse_expr("a AS b", &e, &g_err), PL_ERR_SQL);
    assert_int_equal(pl_sql_parse_expr("(SELECT 1)", &e, &g_err) != PL_OK, true);
    assert_int_equal(pl_sql_parse_expr("1 FROM t", &e, &g_err), PL_ERR_SQL);
    assert_int_equal(pl_sql_parse_expr("", &e, &g_err), PL_ERR_SQL);
    assert_int_equal(pl_sql_parse_expr("nofunc(a)", &e, &g_err), PL_ERR_NOT_FOUND);
    assert_int_equal(g_err.sql_pos, 0);
    pl_type *t = NULL;
    ok(pl_sql_parse_type("DECIMAL(18,3)", &t, E));
    assert_int_equal(t->id, PL_TYPE_DECIMAL128);
    assert_int_equal(t->scale, 3);
    pl_type_release(t);
    ok(pl_sql_parse_type("varchar", &t, E));
    assert_int_equal(t->id, PL_TYPE_UTF8);
    pl_type_release(t);
    assert_int_equal(pl_sql_parse_type("BIGINT) FROM x --", &t, &g_err), PL_ERR_SQL);
    assert_int_equal(pl_sql_parse_type("nonsense", &t, &g_err), PL_ERR_SQL);
    /* hostile SQL: a 20000-term OR chain (balanced, not 20000 deep) works; 5000 nested
     * operators are refused instead of overflowing the stack */
    size_t cap = 20000 * 16 + 64;
    char *big = malloc(cap);
    size_t k = 0;
    for (int i = 0; i < 20000; i++) k += (size_t)snprintf(big + k, cap - k, "%sid = %d", i ? " OR " : "", i * 7);
    pl_srv_call c0 = make_call(g_srv, "");
    pl_table *g0 = NULL;
    ok(collect_rel(&c0, rel_filter(csv(), ex_sql(big)), &g0));
    assert_int_equal(g0->n_rows, 15); /* multiples of 7 below 100 */
    pl_table_release(g0);
    k = (size_t)snprintf(big, cap, "SELECT count(*) AS n FROM 'trades.csv' WHERE ");
    for (int i = 0; i < 20000; i++) k += (size_t)snprintf(big + k, cap - k, "%sid = %d", i ? " OR " : "", i * 7);
    ok(collect_rel(&c0, rel_sql(big), &g0));
    assert_int_equal(g0->n_rows, 1);
    pl_table_release(g0);
    k = (size_t)snprintf(big, cap, "id");
    for (int i = 0; i < 5000; i++) k += (size_t)snprintf(big + k, cap - k, " + 1");
    assert_int_equal(collect_rel(&c0, rel_filter(csv(), ex_sql(big)), &g0), PL_ERR_LIMIT);
    assert_non_null(strstr(g_err.msg, "nested too deeply"));
    k = (size_t)snprintf(big, cap, "SELECT id");
    for (int i = 0; i < 5000; i++) k += (size_t)snprintf(big + k, cap - k, " + 1");
    snprintf(big + k, cap - k, " FROM 'trades.csv'");
    assert_int_equal(collect_rel(&c0, rel_sql(big), &g0), PL_ERR_LIMIT);
    free(big);
    /* the server's cache of parsed SQL texts: an alias allowed in a select, then refused in a
     * filter (same text, cached), and the same text again from the cache */
    pl_srv_call c = make_call(g_srv, "");
    pl_table *got = NULL;
    for (int i = 0; i < 2; i++) {
        ok(collect_rel(&c, rel_select(csv(), 1, named(ex_sql("id > 50 AS big"), NULL)), &got));
        assert_string_equal(got->schema->fields[0].name, "big");
        pl_table_release(got);
        assert_int_equal(collect_rel(&c, rel_filter(csv(), ex_sql("id > 50 AS big")), &got), PL_ERR_INVALID_ARG);
    }
}

static Polaroid__V1__Expr *lit(Polaroid__V1__Literal__ValueCase k) {
    Polaroid__V1__Expr *e = ex_new();
    Polaroid__V1__Literal *l = calloc(1, sizeof *l);
    polaroid__v1__literal__init(l);
    l->value_case = k;
    e->kind_case = POLAROID__V1__EXPR__KIND_LITERAL;
    e->literal = l;
    return e;
}

static void test_literals(void **state) {
    (void)state;
    Polaroid__V1__Expr *b = lit(POLAROID__V1__LITERAL__VALUE_BOOL_VALUE);
    b->literal->bool_value = true;
    Polaroid__V1__Expr *f = lit(POLAROID__V1__LITERAL__VALUE_FLOAT64_VALUE);
    f->literal->float64_value = 1.5;
    Polaroid__V1__Expr *d = lit(POLAROID__V1__LITERAL__VALUE_DATE_DAYS);
    d->literal->date_days = 10;
    Polaroid__V1__Expr *ts = lit(POLAROID__V1__LITERAL__VALUE_TIMESTAMP_US);
    ts->literal->timestamp_us = 1000000;
    Polaroid__V1__Expr *nl = lit(POLAROID__V1__LITERAL__VALUE_IS_NULL);
    nl->literal->is_null = true;
    Polaroid__V1__Expr *iv = lit(POLAROID__V1__LITERAL__VALUE_INTERVAL_VALUE);
    iv->literal->interval_value = calloc(1, sizeof *iv->literal->interval_value);
    polaroid__v1__interval__init(iv->literal->interval_value);
    iv->literal->interval_value->days = 1;
    Polaroid__V1__Expr *shifted = ex_call("add", 2, ts, iv);
    Polaroid__V1__Relation *r = rel_select(rel_filter(csv(), ex_sql("id = 0")), 6, named(b, "b"), named(f, "f"),
                                           named(d, "d"), named(shifted, "ts"), named(ex_str("x"), "s"),
                                           named(ex_call("coalesce", 2, nl, ex_i64(3)), "n"));
    same(r, "SELECT true AS b, 1.5::DOUBLE AS f, DATE '1970-01-11' AS d, "
            "TIMESTAMP '1970-01-01 00:00:01' + INTERVAL 1 DAY AS ts, 'x' AS s, coalesce(NULL, 3::BIGINT) AS n "
            "FROM 'trades.csv' WHERE id = 0");
    /* binary literal: length */
    Polaroid__V1__Expr *bin = lit(POLAROID__V1__LITERAL__VALUE_BINARY_VALUE);
    bin->literal->binary_value.data = malloc(3);
    memcpy(bin->literal->binary_value.data, "a\0b", 3);
    bin->literal->binary_value.len = 3;
    pl_srv_call c = make_call(g_srv, "");
    pl_table *t = NULL;
    ok(collect_rel(&c, rel_select(rel_filter(csv(), ex_sql("id = 0")), 1, named(bin, "bin")), &t));
    assert_int_equal(t->schema->fields[0].type->id, PL_TYPE_BINARY);
    pl_table_release(t);
    /* a literal without a value */
    Polaroid__V1__Expr *empty = lit(POLAROID__V1__LITERAL__VALUE__NOT_SET);
    assert_int_equal(collect_rel(&c, rel_select(csv(), 1, named(empty, "e")), &t), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "root.select.exprs[0].literal: literal without a value"));
    /* aggregate aliases */
    Polaroid__V1__Relation *ag = rel_new();
    Polaroid__V1__Aggregate *a = calloc(1, sizeof *a);
    polaroid__v1__aggregate__init(a);
    a->input = csv();
    a->n_aggs = 2;
    a->aggs = calloc(2, sizeof *a->aggs);
    a->aggs[0] = named(ex_agg("n_unique", ex_col("sym")), "u");
    a->aggs[1] = named(ex_agg("std", ex_col("price")), "sd");
    ag->rel_case = POLAROID__V1__RELATION__REL_AGGREGATE;
    ag->aggregate = a;
    same(ag, "SELECT count(DISTINCT sym) AS u, stddev_samp(price) AS sd FROM 'trades.csv'");
}

static void test_live_table_pruning(void **state) {
    (void)state;
    /* 50000 rows in chunks: id sorted, so most chunks are skipped; results equal a full scan */
    pl_table *rows = make_trades(50000);
    ok(pl_catalog_table_create(pl_srv_catalog(g_srv), "big", rows->schema, rows, false, true, NULL, E));
    write_table(rows, "big.csv", PL_FORMAT_CSV);
    pl_table_release(rows);
    pl_prune_cond eq = {0, PL_PRUNE_EQ, false, 20000, 0};
    pl_table *t = NULL;
    ok(pl_catalog_table_snapshot_pruned(pl_srv_catalog(g_srv), "big", 1, &eq, &t, E));
    assert_int_equal(t->n_batches, 1);
    pl_table_release(t);
    pl_prune_cond none = {0, PL_PRUNE_GT, true, 0, 1e9};
    ok(pl_catalog_table_snapshot_pruned(pl_srv_catalog(g_srv), "big", 1, &none, &t, E));
    assert_int_equal(t->n_rows, 0);
    pl_table_release(t);
    pl_prune_cond nulls = {3, PL_PRUNE_GE, false, 0, 0}; /* qty has NULLs but also values */
    ok(pl_catalog_table_snapshot_pruned(pl_srv_catalog(g_srv), "big", 1, &nulls, &t, E));
    assert_int_equal(t->n_rows, 50000);
    pl_table_release(t);
    static const char *preds[] = {
        "id = 20000", "20000 = id", "id < 100", "id <= 16384", "id > 49990", "id >= 49999",
        "100 > id", "id BETWEEN 16000 AND 17000", "id > 100 AND id < 200 AND qty = 3",
        "id = 20000.0", "id < 20000.5", "price > 74000.0", "id = -1", "qty = 3 OR id = 5",
        "sym = 'AAPL' AND id < 10", "id = 70000",
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(preds); i++) {
        Polaroid__V1__Relation *tr = rel_new();
        Polaroid__V1__TableRef *tref = calloc(1, sizeof *tref);
        polaroid__v1__table_ref__init(tref);
        tref->name = strdup("big");
        tr->rel_case = POLAROID__V1__RELATION__REL_TABLE;
        tr->table = tref;
        char q[256];
        snprintf(q, sizeof q, "SELECT * FROM 'big.csv' WHERE %s ORDER BY id", preds[i]);
        same(sorted(rel_filter(tr, ex_sql(preds[i])), "id"), q);
    }
    /* a materialised handle over the same rows */
    pl_table *hrows = make_trades(50000);
    pl_df *hdf = NULL;
    ok(pl_df_from_table(hrows, &hdf, E));
    char id[PL_HANDLE_ID_LEN + 1];
    ok(pl_catalog_handle_put(pl_srv_catalog(g_srv), "", hdf, hrows->n_rows, hrows, 60000000000ll, pl_now_ns(), 0, id, E));
    pl_df *pruned = NULL;
    ok(pl_catalog_handle_get_pruned(pl_srv_catalog(g_srv), "", id, pl_now_ns(), 1, &eq, &pruned, E));
    ok(pl_df_collect(pruned, NULL, &t, E));
    assert_true(t->n_rows > 0 && t->n_rows <= 16384);
    pl_table_release(t);
    pl_df_release(pruned);
    pl_df_release(hdf);
    pl_table_release(hrows);
    for (size_t i = 0; i < PL_ARRAY_LEN(preds); i++) {
        Polaroid__V1__Relation *hr = rel_new();
        Polaroid__V1__HandleRef *href = calloc(1, sizeof *href);
        polaroid__v1__handle_ref__init(href);
        href->id = strdup(id);
        hr->rel_case = POLAROID__V1__RELATION__REL_HANDLE;
        hr->handle = href;
        char q[256];
        snprintf(q, sizeof q, "SELECT * FROM 'big.csv' WHERE %s ORDER BY id", preds[i]);
        same(sorted(rel_filter(hr, ex_sql(preds[i])), "id"), q);
    }
    /* the same through an expression tree */
    Polaroid__V1__Relation *tr = rel_new();
    Polaroid__V1__TableRef *tref = calloc(1, sizeof *tref);
    polaroid__v1__table_ref__init(tref);
    tref->name = strdup("big");
    tr->rel_case = POLAROID__V1__RELATION__REL_TABLE;
    tr->table = tref;
    same(rel_filter(tr, ex_call("eq", 2, ex_col("id"), ex_i64(31337))),
         "SELECT * FROM 'big.csv' WHERE id = 31337");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_select_with_columns),
        cmocka_unit_test(test_aggregate_sort_limit),
        cmocka_unit_test(test_rename_drop_distinct_union),
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_pl_sql_parse),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_live_table_pruning),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
