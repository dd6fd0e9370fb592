/* test_expr_tree.c - expression trees (src/expr/expr.c) and binding services (bind.c): SQL text
 * and DuckDB-style default names (checked against DuckDB 2.0's column names), clone/equality,
 * constructor ownership on failure, function lookup, type rules, constant folding, values. */
#include "expr_test_util.h"

static const char *str(pl_expr *e) {
    static char buf[512];
    pl_expr_to_string(e, buf, sizeof buf);
    pl_expr_release(e);
    return buf;
}
static const char *dname(pl_expr *e) {
    static char buf[512];
    pl_expr_default_name(e, buf, sizeof buf);
    pl_expr_release(e);
    return buf;
}

/* DuckDB: select a+b, a>1 and b<2, not a>1, -a, a*b-1, s||'x', s like 'a%', a in (1,2,3),
 * a between 1 and 2, a is null, a is distinct from b, case when a>1 then 'x' else 'y' end,
 * coalesce(a,b), cast(a as bigint), try_cast(s as int), 'abc', 1, 1.5, null, true, sum(a),
 * count(*), count(distinct a), a<>b, (a>1) or (b>1) or (a<0) */
static void test_default_names(void **state) {
    (void)state;
    assert_string_equal(dname(f2("add", C("a"), C("b"))), "(a + b)");
    assert_string_equal(dname(f2("and", f2("gt", C("a"), I(1)), f2("lt", C("b"), I(2)))),
                        "((a > 1) AND (b < 2))");
    assert_string_equal(dname(f1("not", f2("gt", C("a"), I(1)))), "(NOT (a > 1))");
    assert_string_equal(dname(f1("neg", C("a"))), "(-(a))");
    assert_string_equal(dname(f2("sub", f2("mul", C("a"), C("b")), I(1))), "((a * b) - 1)");
    assert_string_equal(dname(f2("concat_op", C("s"), S("x"))), "(s || 'x')");
    assert_string_equal(dname(f2("like", C("s"), S("a%"))), "(s ~~ 'a%')");
    assert_string_equal(dname(f2("ilike", C("s"), S("c"))), "(s ~~* 'c')");
    assert_string_equal(dname(fn("in", 4, C("a"), I(1), I(2), I(3))), "(a IN (1, 2, 3))");
    assert_string_equal(dname(f3("between", C("a"), I(1), I(2))), "(a BETWEEN 1 AND 2)");
    assert_string_equal(dname(f1("is_null", C("a"))), "(a IS NULL)");
    assert_string_equal(dname(f2("is_distinct_from", C("a"), C("b"))), "(a IS DISTINCT FROM b)");
    assert_string_equal(dname(f3("case", f2("gt", C("a"), I(1)), S("x"), S("y"))),
                        "CASE  WHEN ((a > 1)) THEN ('x') ELSE 'y' END");
    assert_string_equal(dname(f2("case", f2("eq", C("a"), I(1)), I(2))),
                        "CASE  WHEN ((a = 1)) THEN (2) ELSE NULL END");
    assert_string_equal(dname(fn("coalesce", 2, C("a"), C("b"))), "COALESCE(a, b)");
    assert_string_equal(dname(CAST(C("a"), "bigint", false)), "CAST(a AS BIGINT)");
    assert_string_equal(dname(CAST(C("s"), "int", true)), "TRY_CAST(s AS INTEGER)");
    assert_string_equal(dname(S("abc")), "'abc'");
    assert_string_equal(dname(S("it's")), "'it''s'");
    assert_string_equal(dname(I(1)), "1");
    assert_string_equal(dname(F(1.5)), "1.5");
    assert_string_equal(dname(N()), "NULL");
    assert_string_equal(dname(B(true)), "true");
    pl_expr *sum_args[1] = {C("a")};
    assert_string_equal(dname(pl_expr_agg("sum", 1, sum_args, false, NULL, 0, NULL)), "sum(a)");
    assert_string_equal(dname(pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL)), "count_star()");
    pl_expr *cd_args[1] = {C("a")};
    assert_string_equal(dname(pl_expr_agg("count", 1, cd_args, true, NULL, 0, NULL)), "count(DISTINCT a)");
    assert_string_equal(dname(f2("ne", C("a"), C("b"))), "(a != b)");
    assert_string_equal(dname(fn("or", 3, f2("gt", C("a"), I(1)), f2("gt", C("b"), I(1)), f2("lt", C("a"), I(0)))),
                        "((a > 1) OR (b > 1) OR (a < 0))");
    assert_string_equal(dname(C("price")), "price");
    assert_string_equal(dname(pl_expr_col_qualified("t", "price")), "price");
    assert_string_equal(dname(f1("lower", C("s"))), "lower(s)");
}

static void test_to_string(void **state) {
    (void)state;
    assert_string_equal(str(f2("and", f2("gt", C("price"), I(100)), f2("eq", pl_expr_col_qualified("t", "symbol"), S("AAPL")))),
                        "((price > 100) AND (t.symbol = 'AAPL'))");
    assert_string_equal(str(f2("like", C("s"), S("a%"))), "(s LIKE 'a%')");
    assert_string_equal(str(f3("like", C("s"), S("a!%"), S("!"))), "(s LIKE 'a!%' ESCAPE '!')");
    pl_expr *args[1] = {C("size")};
    assert_string_equal(str(pl_expr_agg("sum", 1, args, false, f2("gt", C("price"), I(1)), 0, NULL)),
                        "sum(size) FILTER (WHERE (price > 1))");
    assert_string_equal(str(pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL)), "count(*)");
    pl_expr *wargs[1] = {C("x")};
    pl_expr *part[1] = {C("sym")};
    pl_sort_key ord[1] = {{C("ts"), true, true}};
    pl_window_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.present = true;
    fr.unit = PL_FRAME_ROWS;
    fr.start_kind = PL_BOUND_PRECEDING;
    pl_value_init_null(&fr.start_offset);
    fr.start_offset.type = T(PL_TYPE_INT64);
    fr.start_offset.is_null = false;
    fr.start_offset.v.i = 3;
    fr.end_kind = PL_BOUND_CURRENT_ROW;
    pl_value_init_null(&fr.end_offset);
    assert_string_equal(str(pl_expr_window("avg", 1, wargs, 1, part, 1, ord, &fr)),
                        "avg(x) OVER (PARTITION BY sym ORDER BY ts DESC ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)");
    assert_string_equal(str(LIT("date", "2024-01-02")), "CAST('2024-01-02' AS DATE)");
    assert_string_equal(str(CAST(C("a"), "decimal(10,2)", false)), "CAST(a AS DECIMAL(10,2))");
    /* truncation never overflows */
    char small[8];
    pl_expr *e = f2("add", C("abcdefgh"), C("b"));
    pl_expr_to_string(e, small, sizeof small);
    assert_string_equal(small, "(abcdef");
    pl_expr_release(e);
}

static void test_clone_equals(void **state) {
    (void)state;
    pl_expr *args[1] = {C("x")};
    pl_sort_key ord[1] = {{C("ts"), false, false}};
    pl_expr *a = f2("and", f2("gt", C("x"), LIT("decimal(5,2)", "1.25")),
                    pl_expr_agg("string_agg", 1, args, true, f1("is_not_null", C("x")), 1, ord));
    pl_expr *b = pl_expr_clone(a);
    assert_non_null(b);
    assert_true(pl_expr_equals(a, b));
    b->args[0]->args[0]->sql_pos = 42; /* positions do not count */
    assert_true(pl_expr_equals(a, b));
    pl_expr *c = pl_expr_clone(a);
    c->args[1]->distinct = false;
    assert_false(pl_expr_equals(a, c));
    pl_expr *x = I(1), *y = I(2), *z = S("1");
    assert_false(pl_expr_equals(x, y));
    assert_false(pl_expr_equals(x, z));
    pl_expr *n1 = N(), *n2 = N();
    assert_true(pl_expr_equals(n1, n2));
    assert_false(pl_expr_equals(n1, x));
    pl_expr_release(n1);
    pl_expr_release(n2);
    pl_expr_release(x);
    pl_expr_release(y);
    pl_expr_release(z);
    /* retain / release */
    pl_expr *r = pl_expr_retain(a);
    pl_expr_release(r);
    pl_expr_release(a);
    pl_expr_release(b);
    pl_expr_release(c);
}

/* constructors take their arguments also when they fail (no leaks under ASan) */
static void test_constructor_ownership(void **state) {
    (void)state;
    assert_null(pl_expr_call2("add", C("a"), NULL));
    assert_null(pl_expr_call("f", 2, (pl_expr *[]){NULL, I(1)}));
    assert_null(pl_expr_cast(NULL, pl_type_simple(PL_TYPE_INT64), false));
    assert_null(pl_expr_col(NULL));
    assert_null(pl_expr_lit_str(NULL));
    /* allocation failures: every step of building a call */
    for (int64_t k = 0; k < 20; k++) {
        pl_alloc_fail_after(k);
        pl_expr *e = pl_expr_call2("add", C("a"), pl_expr_lit_str("xyz"));
        pl_alloc_fail_after(-1);
        if (e) {
            pl_expr_release(e);
            break;
        }
    }
    /* binding under allocation failure: NOMEM and no leak */
    pl_batch *b = batch1(col(T(PL_TYPE_INT64), "1,2"));
    for (int64_t k = 0; k < 200; k++) {
        pl_expr *e = fn("in", 4, C("a"), I(1), I(2), f2("add", C("a"), I(1)));
        pl_bexpr *be = NULL;
        pl_error err;
        pl_error_init(&err);
        pl_alloc_fail_after(k);
        pl_status st = pl_expr_bind(e, b->schema, &be, &err);
        pl_array *r = NULL;
        pl_eval_ctx ec = {0};
        if (!st) st = pl_bexpr_eval_array(&ec, be, b, &r, &err);
        pl_alloc_fail_after(-1);
        pl_array_release(r);
        pl_bexpr_free(be);
        pl_expr_release(e);
        if (!st) break;
        assert_int_equal(st, PL_ERR_NOMEM);
    }
    pl_batch_release(b);
}

static void test_lookup_and_types(void **state) {
    (void)state;
    assert_non_null(pl_func_lookup("ADD"));
    assert_ptr_equal(pl_func_lookup("IfNull"), pl_func_lookup("coalesce"));
    assert_ptr_equal(pl_func_lookup("~~"), pl_func_lookup("like"));
    assert_null(pl_func_lookup("nope"));
    assert_null(pl_func_lookup(NULL));
    char buf[64];
    pl_type *t = pl_type_common_super(T(PL_TYPE_INT8), T(PL_TYPE_UINT8));
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "int16");
    t = pl_type_common_super(T(PL_TYPE_INT32), T(PL_TYPE_UINT32));
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "int64");
    t = pl_type_common_super(T(PL_TYPE_INT64), T(PL_TYPE_FLOAT64));
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "float64");
    t = pl_type_common_super(T(PL_TYPE_NA), T(PL_TYPE_UTF8));
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "utf8");
    assert_null(pl_type_common_super(T(PL_TYPE_UTF8), T(PL_TYPE_INT64)));
    pl_type *d;
    assert_int_equal(pl_type_new_decimal(10, 2, &d, NULL), PL_OK);
    t = pl_type_common_super(d, T(PL_TYPE_INT32));
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "decimal128(12, 2)");
    pl_type_release(t);
    pl_type_release(d);
    pl_type *ts;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_MS, NULL, &ts, NULL), PL_OK);
    t = pl_type_common_super(T(PL_TYPE_DATE32), ts);
    assert_true(pl_type_equals(t, ts));
    pl_type_release(t);
    pl_type_release(ts);
    assert_true(pl_type_is_integer(PL_TYPE_UINT16));
    assert_false(pl_type_is_integer(PL_TYPE_FLOAT32));
    assert_true(pl_type_is_numeric(PL_TYPE_DECIMAL128));
    assert_true(pl_type_is_temporal(PL_TYPE_INTERVAL));
}

static void test_fold(void **state) {
    (void)state;
    pl_schema *s;
    pl_field f = {"a", T(PL_TYPE_INT64), true};
    assert_int_equal(pl_schema_new(1, &f, &s, NULL), PL_OK);
    pl_expr *e = f2("add", C("a"), f2("mul", I(2), I(3)));
    pl_bexpr *be;
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_int_equal(be->args[1]->kind, PL_BEXPR_LIT);
    assert_int_equal(be->args[1]->lit.v.i, 6);
    pl_bexpr_free(be);
    pl_expr_release(e);
    /* errors are not folded away: 1 // 0 stays a call */
    e = f2("int_div", I(1), I(0));
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_int_equal(be->kind, PL_BEXPR_CALL);
    pl_bexpr_free(be);
    pl_expr_release(e);
    /* NULL propagation folds to a typed NULL */
    e = f2("add", N(), I(1));
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_int_equal(be->kind, PL_BEXPR_LIT);
    assert_true(be->lit.is_null);
    assert_int_equal(be->type->id, PL_TYPE_INT64);
    pl_bexpr_free(be);
    pl_expr_release(e);
    /* string functions of literals, case, like */
    e = f3("case", f2("like", S("abc"), S("a%")), S("yes"), S("no"));
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_int_equal(be->kind, PL_BEXPR_LIT);
    assert_string_equal(be->lit.str, "yes");
    pl_bexpr_free(be);
    pl_expr_release(e);
    pl_schema_release(s);
}

/* DuckDB: typeof of INTEGER[], STRUCT(a INTEGER, b VARCHAR), MAP(VARCHAR, DOUBLE), a dictionary
 * of strings, DECIMAL(10,2), TIMESTAMP_NS, TIMESTAMP WITH TIME ZONE, NULL; typeof(a) folds to a
 * constant without evaluating a; truncation keeps a terminated string. */
static void test_sql_type_names(void **state) {
    (void)state;
    char buf[256];
    pl_type *list, *st, *map, *dict, *dec, *ts, *tz;
    assert_int_equal(pl_type_new_list("item", T(PL_TYPE_INT32), true, &list, NULL), PL_OK);
    pl_field fs[2] = {{"a", T(PL_TYPE_INT32), true}, {"b", T(PL_TYPE_UTF8), true}};
    assert_int_equal(pl_type_new_struct(2, fs, &st, NULL), PL_OK);
    assert_int_equal(pl_type_new_map(T(PL_TYPE_UTF8), T(PL_TYPE_FLOAT64), true, &map, NULL), PL_OK);
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, T(PL_TYPE_UTF8), &dict, NULL), PL_OK);
    assert_int_equal(pl_type_new_decimal(10, 2, &dec, NULL), PL_OK);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_NS, NULL, &ts, NULL), PL_OK);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, "UTC", &tz, NULL), PL_OK);
    assert_string_equal(pl_sql_type_name(list, buf, sizeof buf), "INTEGER[]");
    assert_string_equal(pl_sql_type_name(st, buf, sizeof buf), "STRUCT(a INTEGER, b VARCHAR)");
    assert_string_equal(pl_sql_type_name(map, buf, sizeof buf), "MAP(VARCHAR, DOUBLE)");
    assert_string_equal(pl_sql_type_name(dict, buf, sizeof buf), "VARCHAR");
    assert_string_equal(pl_sql_type_name(dec, buf, sizeof buf), "DECIMAL(10,2)");
    assert_string_equal(pl_sql_type_name(ts, buf, sizeof buf), "TIMESTAMP_NS");
    assert_string_equal(pl_sql_type_name(tz, buf, sizeof buf), "TIMESTAMP WITH TIME ZONE");
    assert_string_equal(pl_sql_type_name(T(PL_TYPE_NA), buf, sizeof buf), "\"NULL\"");
    assert_string_equal(pl_sql_type_name(st, buf, 10), "STRUCT(a ");
    /* typeof(a) binds to a call without arguments that folds into a constant */
    pl_schema *s;
    pl_field f = {"a", list, true};
    assert_int_equal(pl_schema_new(1, &f, &s, NULL), PL_OK);
    pl_expr *e = f1("typeof", C("a"));
    pl_bexpr *be;
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_int_equal(be->kind, PL_BEXPR_LIT);
    assert_string_equal(be->lit.str, "INTEGER[]");
    pl_bexpr_free(be);
    pl_expr_release(e);
    e = f1("pg_typeof", C("a"));
    assert_int_equal(pl_expr_bind(e, s, &be, NULL), PL_OK);
    assert_int_equal(pl_bexpr_fold(&be, NULL), PL_OK);
    assert_string_equal(be->lit.str, "integer[]");
    pl_bexpr_free(be);
    pl_expr_release(e);
    pl_schema_release(s);
    pl_type *all[] = {list, st, map, dict, dec, ts, tz};
    for (size_t i = 0; i < PL_ARRAY_LEN(all); i++) pl_type_release(all[i]);
}

static void test_values(void **state) {
    (void)state;
    char buf[128];
    pl_value v;
    pl_value_init_null(&v);
    assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), "NULL");
    pl_type *ts;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, "UTC", &ts, NULL), PL_OK);
    pl_array *a = col(ts, "2024-01-02 09:30:00,NULL");
    assert_int_equal(pl_value_from_array(a, 0, &v, NULL), PL_OK);
    assert_string_equal(pl_value_to_string(&v, buf, sizeof buf), "2024-01-02 09:30:00+00");
    pl_value c;
    assert_int_equal(pl_value_copy(&v, &c, NULL), PL_OK);
    pl_value_reset(&v);
    assert_int_equal(pl_value_from_array(a, 1, &v, NULL), PL_OK);
    assert_true(v.is_null);
    assert_true(pl_type_equals(v.type, ts));
    pl_array *rep;
    assert_int_equal(pl_array_from_value(&c, 3, &rep, NULL), PL_OK);
    assert_string_equal(render(rep), "2024-01-02 09:30:00+00,2024-01-02 09:30:00+00,2024-01-02 09:30:00+00");
    pl_array_release(rep);
    assert_int_equal(pl_value_from_array(a, 2, &v, NULL), PL_ERR_INVALID_ARG);
    pl_value_reset(&c);
    pl_value_reset(&v);
    pl_array_release(a);
    pl_type_release(ts);
    /* intervals as DuckDB prints them */
    pl_value iv;
    pl_value_init_null(&iv);
    iv.type = T(PL_TYPE_INTERVAL);
    iv.is_null = false;
    iv.v.iv = (pl_interval){14, 3, 3723500000000LL};
    assert_string_equal(pl_value_to_string(&iv, buf, sizeof buf), "1 year 2 months 3 days 01:02:03.5");
    iv.v.iv = (pl_interval){0, 0, 0};
    assert_string_equal(pl_value_to_string(&iv, buf, sizeof buf), "00:00:00");
    pl_array *s = col(T(PL_TYPE_UTF8), "abc");
    assert_int_equal(pl_value_from_array(s, 0, &v, NULL), PL_OK);
    assert_int_equal(pl_array_from_value(&v, 2, &rep, NULL), PL_OK);
    assert_string_equal(render(rep), "abc,abc");
    pl_array_release(rep);
    pl_value_reset(&v);
    pl_array_release(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_names),
        cmocka_unit_test(test_to_string),
        cmocka_unit_test(test_clone_equals),
        cmocka_unit_test(test_constructor_ownership),
        cmocka_unit_test(test_lookup_and_types),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_sql_type_names),
        cmocka_unit_test(test_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
