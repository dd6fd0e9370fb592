/* test_sql_pre.c - the same-length rewriting of DuckDB syntax before parsing (plan_pre.c):
 * every rewrite keeps the text length and the offsets of the untouched bytes, and the result
 * parses with libpg_query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sql/plan_int.h"

static void check(const char *in, const char *expect) {
    char *out = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_sql_preprocess(in, &out, &err), PL_OK);
    assert_int_equal(strlen(out), strlen(in));
    assert_string_equal(out, expect);
    PgQueryParseResult r = pg_query_parse(out);
    if (r.error) fail_msg("parse error in %s: %s", out, r.error->message);
    pg_query_free_parse_result(r);
    pl_free(out);
}

static void test_file_paths(void **state) {
    (void)state;
    check("SELECT * FROM 'ticks/*.parquet'", "SELECT * FROM \"ticks/*.parquet\"");
    check("select a from t join 'x.csv' using (a)", "select a from t join \"x.csv\" using (a)");
    /* not a FROM clause: extract/substring keep their string literals */
    check("select extract(year from '2024-01-01'::date)",
          "select extract(year from '2024-01-01'::date)");
    check("select substring('abc' from 2)", "select substring('abc' from 2)");
    check("select * from (select 1 from 'a.parquet') s", "select * from (select 1 from \"a.parquet\") s");
    /* a string in a comment or a quoted identifier is not touched */
    check("select 1 -- from 'x'\n", "select 1 -- from 'x'\n");
    /* COPY ... FROM 'file' stays */
    check("COPY t FROM 'x.csv'", "COPY t FROM 'x.csv'");
    check("select 1; select * from 'b.csv'", "select 1; select * from \"b.csv\"");
}

static void test_exclude(void **state) {
    (void)state;
    check("SELECT * EXCLUDE (a, b) FROM t", "SELECT *                FROM t");
    check("SELECT t.* exclude a FROM t", "SELECT t.*           FROM t");
    const char *sql = "SELECT t.* EXCLUDE (a, \"B\") FROM t";
    sq_names n;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(sq_read_exclude(sql, 7, &n, &err), PL_OK);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.names[0], "a");
    assert_string_equal(n.names[1], "B");
    assert_int_equal(n.pos[0], 20);
    sq_names_reset(&n);
    assert_int_equal(sq_read_exclude("SELECT * FROM t", 7, &n, &err), PL_OK);
    assert_int_equal(n.n, 0);
}

static void test_star_modifiers_order_by_all(void **state) {
    (void)state;
    check("SELECT * REPLACE (a + 1 AS a) FROM t", "SELECT *                      FROM t");
    check("SELECT * REPLACE a + 1 AS a FROM t", "SELECT *                    FROM t");
    check("SELECT t.* EXCLUDE (b) REPLACE (f(a, (1)) AS a) RENAME (c AS d), 1 FROM t",
          "SELECT t.*                                                     , 1 FROM t");
    check("SELECT * RENAME c AS d FROM t", "SELECT *               FROM t");
    /* the function replace() after a multiplication, a column named replace */
    check("SELECT a * replace(b, 'x', 'y') FROM t", "SELECT a * replace(b, 'x', 'y') FROM t");
    check("SELECT (a) * replace(b, 'x', 'y') FROM t", "SELECT (a) * replace(b, 'x', 'y') FROM t");
    check("SELECT 2 * replace FROM t", "SELECT 2 * replace FROM t");
    /* RENAME before REPLACE is left for the parser to refuse */
    const char *bad = "SELECT * RENAME (a AS b) REPLACE (a AS a) FROM t";
    char *out = NULL;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_sql_preprocess(bad, &out, &err), PL_OK);
    assert_non_null(strstr(out, "REPLACE (a AS a)"));
    pl_free(out);
    /* reading them back */
    const char *sql = "SELECT t.* EXCLUDE (x) RENAME (t.a AS \"B\", c AS d) FROM t";
    sq_names f, to;
    assert_int_equal(sq_read_rename(sql, 7, &f, &to, &err), PL_OK);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.names[0], "a");
    assert_string_equal(to.names[0], "B");
    assert_string_equal(f.names[1], "c");
    assert_string_equal(to.names[1], "d");
    assert_int_equal(f.pos[0], 33);
    sq_names_reset(&f);
    sq_names_reset(&to);
    PgQuery__ParseResult *tree;
    PgQuery__Node *const *items;
    size_t n;
    sql = "SELECT * REPLACE (a + 1 AS a, 'x' AS \"B\") FROM t";
    assert_int_equal(sq_replace_parse(sql, 7, &tree, &items, &n, &err), PL_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0]->res_target->name, "a");
    assert_string_equal(items[1]->res_target->name, "B");
    assert_int_equal(items[0]->res_target->location, 18);
    pg_query__parse_result__free_unpacked(tree, NULL);
    assert_int_equal(sq_replace_parse("SELECT * REPLACE (a + 1) FROM t", 7, &tree, &items, &n, &err), PL_OK);
    assert_int_equal(n, 0);
    /* ORDER BY ALL -> ORDER BY 1 (only in a query, not in a window or an aggregate) */
    check("select a, b from t order by all", "select a, b from t order by 1  ");
    check("select a from t order by all desc nulls first limit 2",
          "select a from t order by 1   desc nulls first limit 2");
    check("select * from (select a from t order by all) s", "select * from (select a from t order by 1  ) s");
    check("select a from t union select b from u order by all",
          "select a from t union select b from u order by 1  ");
    check("select \"all\" from t order by \"all\"", "select \"all\" from t order by \"all\"");
    out = NULL;
    assert_int_equal(pl_sql_preprocess("select sum(a) over (order by all) from t", &out, &err), PL_OK);
    assert_string_equal(out, "select sum(a) over (order by all) from t");
    pl_free(out);
}

static void test_ignore_nulls(void **state) {
    (void)state;
    check("select lag(x, 1 IGNORE NULLS) over () from t", "select lag(x, 1             ) over () from t");
    check("select first_value(x respect nulls) over () from t",
          "select first_value(x              ) over () from t");
    /* a column named ignore stays */
    check("select ignore from t", "select ignore from t");
    int32_t at;
    assert_int_equal(sq_null_treatment("lag(x, f(1) IGNORE NULLS) over ()", 0, &at), 1);
    assert_int_equal(at, 12);
    assert_int_equal(sq_null_treatment("first_value(x RESPECT NULLS)", 0, &at), 2);
    assert_int_equal(sq_null_treatment("lag(x, f(ignore nulls))", 0, &at), 0);
    assert_int_equal(sq_null_treatment("lag(x)", 0, &at), 0);
}

static void test_group_by_all_and_lists(void **state) {
    (void)state;
    check("select a, sum(b) from t group by all", "select a, sum(b) from t group by () ");
    check("select a from t group by all order by 1", "select a from t group by ()  order by 1");
    /* PostgreSQL's GROUP BY ALL a stays */
    check("select a from t group by all a", "select a from t group by all a");
    assert_true(sq_text_is_word_at("group by all", 9, "all"));
    check("select * from read_parquet(['a.parquet', 'b.parquet'])",
          "select * from read_parquet(('a.parquet', 'b.parquet'))");
    check("select x[1] from t", "select x[1] from t");
}

static void test_interval_try_cast_subquery_alias(void **state) {
    (void)state;
    check("select d + INTERVAL 10 DAY from t", "select d + INTERVAL'10'DAY from t");
    check("select d + interval 2 hours", "select d + interval'2'hour ");
    /* DuckDB's units outside the grammar: number and unit in one string of the same length */
    check("select d + INTERVAL 2 WEEK from t", "select d + INTERVAL'2WEEK' from t");
    check("select (interval 500 milliseconds)", "select (interval'500milliseconds')");
    check("select interval 1 decade, interval 3 quarters", "select interval'1decade', interval'3quarters'");
    check("select TRY_CAST(x AS int)", "select     CAST(x AS int)");
    /* FROM (subquery) without an alias gets "_", paid for by a blank further on */
    check("select * from (select 1) limit 5", "select * from(select 1)_ limit 5");
    check("select * from (select 1 as a) where a = 1", "select * from (select 1 as a)_ where a= 1");
    check("select * from (select 1) s", "select * from (select 1) s");
    check("select * from (select 1) as s", "select * from (select 1) as s");
    check("select * from (select 1)\n", "select * from (select 1)_");
    check("select * from (select 1) x, (select 2) order by 1", "select * from (select 1)x, (select 2)_ order by 1");
}

static void test_qualify(void **state) {
    (void)state;
    /* the clause is blanked up to ORDER BY / LIMIT / a closing parenthesis / the end */
    check("select a from t qualify row_number() over (order by a) = 1 order by a",
          "select a from t                                            order by a");
    check("select a from t qualify rank() over w < 3", "select a from t                          ");
    check("select * from (select a from t qualify lag(a) over () is null) where a > 1",
          "select * from (select a from t                               )_ where a> 1");
    check("select a from t qualify x = 1\nlimit 2", "select a from t              \nlimit 2");
    check("select a from t qualify x = 1 union all select 2",
          "select a from t               union all select 2");
    /* not a clause keyword: a quoted identifier, a qualified name */
    check("select \"qualify\" from t", "select \"qualify\" from t");
    check("select t.qualify from t", "select t.qualify from t");
    assert_int_equal(sq_qualify_end("qualify a = (1) order by", 24, 7), 15);
    assert_int_equal(sq_qualify_end("x qualify a in (1, 2)) y", 24, 9), 21);
}

/* ASOF / SEMI / ANTI before JOIN blanked, POSITIONAL JOIN -> CROSS JOIN; the keywords are
 * read back from the original (sq_join_marker at the right item's first location). */
static void test_join_kinds(void **state) {
    (void)state;
    const char *a = "select * from t ASOF LEFT OUTER JOIN q on t.a >= q.a";
    check(a, "select * from t      LEFT OUTER JOIN q on t.a >= q.a");
    int32_t at;
    assert_int_equal(sq_join_marker(a, (int32_t)(strstr(a, " q ") - a) + 1, &at), SQ_JOIN_ASOF);
    assert_int_equal(at, 16);
    check("select * from t asof join q using (a)", "select * from t      join q using (a)");
    const char *s = "select * from t semi join q on t.a = q.a anti join r on true";
    check(s, "select * from t      join q on t.a = q.a      join r on true");
    assert_int_equal(sq_join_marker(s, (int32_t)(strstr(s, " q ") - s) + 1, &at), SQ_JOIN_SEMI);
    assert_int_equal(sq_join_marker(s, (int32_t)(strstr(s, " r ") - s) + 1, &at), SQ_JOIN_ANTI);
    check("select * from t positional join q", "select * from t CROSS      join q");
    /* not before JOIN, quoted, in strings and comments: untouched */
    const char *p = "select 'asof join', \"semi\" from t /* anti join */ join q on true -- asof join";
    check(p, p);
    assert_int_equal(sq_join_marker(p, (int32_t)(strstr(p, " q ") - p) + 1, &at), SQ_JOIN_PLAIN);
    assert_int_equal(at, -1);
}

static void test_dml_words(void **state) {
    (void)state;
    check("CREATE OR REPLACE TABLE t (a int)", "CREATE            TABLE t (a int)");
    check("create or replace temp table t as select 1", "create            temp table t as select 1");
    check("CREATE OR REPLACE VIEW v AS SELECT 1", "CREATE OR REPLACE VIEW v AS SELECT 1");
    check("INSERT OR IGNORE INTO t VALUES (1)", "INSERT           INTO t VALUES (1)");
    check("insert or replace into t select 1", "insert            into t select 1");
    check("INSERT INTO t BY NAME SELECT 1 AS a", "INSERT INTO t         SELECT 1 AS a");
    check("insert into t by position select 1", "insert into t             select 1");
    check("WITH x AS (SELECT 1 a) INSERT INTO t BY NAME SELECT * FROM x",
          "WITH x AS (SELECT 1 a) INSERT INTO t         SELECT * FROM x");
    /* BY NAME of the query, of a UNION, and of a column called insert: untouched */
    const char *q = "INSERT INTO t SELECT name FROM u GROUP BY name ORDER BY name";
    check(q, q);
    const char *u = "select 1 as insert order by name";
    check(u, u);
    check("insert into t select * from a union by name select * from b",
          "insert into t select * from a union         select * from b");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_paths),
        cmocka_unit_test(test_exclude),
        cmocka_unit_test(test_star_modifiers_order_by_all),
        cmocka_unit_test(test_ignore_nulls),
        cmocka_unit_test(test_group_by_all_and_lists),
        cmocka_unit_test(test_interval_try_cast_subquery_alias),
        cmocka_unit_test(test_qualify),
        cmocka_unit_test(test_join_kinds),
        cmocka_unit_test(test_dml_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
