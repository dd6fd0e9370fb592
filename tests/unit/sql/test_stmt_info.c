/* test_stmt_info.c - pl_sql_stmt_info_read (src/sql/stmt_info.c): the tables a statement
 * rewrites, the views DROP VIEW names, IF NOT EXISTS, transaction control; text that is not
 * one statement that parses gives an empty answer. pl_sql_split's spans of rewritten forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "polaroid/sql.h"

static pl_sql_stmt_info info_of(const char *sql) {
    pl_sql_stmt_info info;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_sql_stmt_info_read(sql, &info, &err), PL_OK);
    return info;
}

/* The targets, joined by ",". */
static void expect_targets(const char *sql, const char *want) {
    pl_sql_stmt_info info = info_of(sql);
    char got[256] = "";
    for (int32_t i = 0; i < info.n_targets; i++) {
        if (i) strcat(got, ",");
        strcat(got, info.targets[i]);
    }
    assert_string_equal(got, want);
    assert_int_equal(info.tx, PL_SQL_TX_NONE);
    pl_sql_stmt_info_reset(&info);
}

static void test_targets(void **state) {
    (void)state;
    expect_targets("UPDATE t SET a = 1 WHERE b", "t");
    expect_targets("WITH x AS (SELECT 1) UPDATE \"My T\" AS m SET a = 2 FROM u WHERE m.a = u.a", "My T");
    expect_targets("DELETE FROM t USING u WHERE t.a = u.a RETURNING *", "t");
    expect_targets("TRUNCATE TABLE a, b, A", "a,b"); /* each once, names ignore case */
    expect_targets("ALTER TABLE IF EXISTS t ADD COLUMN c INTEGER", "t");
    expect_targets("ALTER TABLE t RENAME COLUMN a TO b", "t");
    expect_targets("ALTER TABLE t RENAME TO u", "t");
    expect_targets("ALTER VIEW v RENAME TO w", "");
    expect_targets("INSERT INTO t VALUES (1)", "");
    expect_targets("SELECT * FROM t", "");
    expect_targets("UPDATE t SET", ""); /* a syntax error: running it reports it */
    expect_targets("UPDATE t SET a = 1; DELETE FROM u", ""); /* not one statement */
    expect_targets("", "");
}

static void test_other_facts(void **state) {
    (void)state;
    pl_sql_stmt_info i = info_of("CREATE TABLE IF NOT EXISTS t (a INTEGER)");
    assert_true(i.if_not_exists);
    pl_sql_stmt_info_reset(&i);
    i = info_of("CREATE TABLE IF NOT EXISTS t AS SELECT 1 AS a");
    assert_true(i.if_not_exists);
    pl_sql_stmt_info_reset(&i);
    i = info_of("CREATE TABLE t (a INTEGER)");
    assert_false(i.if_not_exists);
    pl_sql_stmt_info_reset(&i);
    i = info_of("DROP VIEW IF EXISTS v1, \"V 2\"");
    assert_int_equal(i.n_dropped_views, 2);
    assert_string_equal(i.dropped_views[0], "v1");
    assert_string_equal(i.dropped_views[1], "V 2");
    pl_sql_stmt_info_reset(&i);
    i = info_of("DROP TABLE t");
    assert_int_equal(i.n_dropped_views, 0);
    pl_sql_stmt_info_reset(&i);
    const struct {
        const char *sql;
        pl_sql_tx tx;
    } txs[] = {{"BEGIN", PL_SQL_TX_BEGIN},          {"BEGIN TRANSACTION", PL_SQL_TX_BEGIN},
               {"START TRANSACTION", PL_SQL_TX_BEGIN}, {"COMMIT", PL_SQL_TX_COMMIT},
               {"END", PL_SQL_TX_COMMIT},             {"ROLLBACK", PL_SQL_TX_ROLLBACK},
               {"ABORT", PL_SQL_TX_ROLLBACK},         {"SAVEPOINT s", PL_SQL_TX_OTHER},
               {"SELECT 1", PL_SQL_TX_NONE}};
    for (size_t k = 0; k < sizeof txs / sizeof txs[0]; k++) {
        i = info_of(txs[k].sql);
        assert_int_equal(i.tx, txs[k].tx);
        pl_sql_stmt_info_reset(&i);
    }
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_sql_stmt_info_read(NULL, &i, &err), PL_ERR_INVALID_ARG);
    pl_sql_stmt_info_reset(NULL);
}

/* pl_sql_split's spans are whole statements of the user's text, also for forms the session
 * rewrites by moving text (FROM-first), so the server can run them one by one. */
static void test_split_forms(void **state) {
    (void)state;
    const char *sql = "SELECT 1;\nFROM t SELECT g WHERE x > 1;\n FROM t;  UPDATE t SET a = 1";
    pl_sql_span *v = NULL;
    int32_t n = 0;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_sql_split(sql, &v, &n, &err), PL_OK);
    assert_int_equal(n, 4);
    const char *want[4] = {"SELECT 1", "FROM t SELECT g WHERE x > 1", "FROM t", "UPDATE t SET a = 1"};
    for (int32_t i = 0; i < n; i++) {
        assert_int_equal(v[i].end - v[i].start, (int32_t)strlen(want[i]));
        assert_memory_equal(sql + v[i].start, want[i], strlen(want[i]));
    }
    pl_free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_other_facts),
        cmocka_unit_test(test_split_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
