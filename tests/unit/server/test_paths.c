/* test_paths.c - pl_srv_resolve_path: relative paths and globs under the data root; "..",
 * absolute paths, control characters and symlinks that leave the root are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "srv_test_util.h"

static char g_outside[PATH_MAX];

static void sh(const char *fmt, ...) {
    char cmd[4 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state) {
    (void)state;
    make_root();
    char tmpl[] = "/tmp/pl_srv_test_out_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, g_outside));
    sh("echo a,b > '%s/secret.csv'", g_outside);
    sh("ln -s '%s/secret.csv' '%s/link_out.csv'", g_outside, g_root);          /* file out */
    sh("ln -s '%s' '%s/dir_out'", g_outside, g_root);                          /* dir out */
    sh("ln -s '%s/trades.csv' '%s/link_in.csv'", g_root, g_root);              /* file in */
    sh("ln -s '%s/nowhere.csv' '%s/dangling.csv'", g_outside, g_root);         /* dangling */
    sh("ln -s '%s/secret.csv' '%s/parts/p3.parquet'", g_outside, g_root);      /* a glob match out */
    return 0;
}

static int teardown(void **state) {
    (void)state;
    remove_root();
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_outside);
    if (system(cmd) != 0) return 1;
    return 0;
}

static pl_status resolve(const char *p, char **out) {
    pl_error_init(&g_err);
    *out = NULL;
    return pl_srv_resolve_path(g_root, p, out, &g_err);
}

static void expect(const char *p, pl_status code) {
    char *out = NULL;
    pl_status st = resolve(p, &out);
    if (st != code) fail_msg("\"%s\": status %d, expected %d (%s)", p, st, code, g_err.msg);
    if (st == PL_OK) {
        assert_true(strncmp(out, g_root, strlen(g_root)) == 0);
        pl_free(out);
    } else {
        assert_null(out);
        /* messages never show the server's root */
        assert_null(strstr(g_err.msg, g_root));
        assert_null(strstr(g_err.msg, g_outside));
    }
}

static void test_inside(void **state) {
    (void)state;
    char *out = NULL;
    ok(resolve("trades.parquet", &out));
    char want[PATH_MAX + 32];
    snprintf(want, sizeof want, "%s/trades.parquet", g_root);
    assert_string_equal(out, want);
    pl_free(out);
    ok(resolve("./parts//p1.parquet", &out));
    snprintf(want, sizeof want, "%s/parts/p1.parquet", g_root);
    assert_string_equal(out, want);
    pl_free(out);
    /* a file that does not exist yet (Write creates it) */
    ok(resolve("sub/new.parquet", &out));
    snprintf(want, sizeof want, "%s/sub/new.parquet", g_root);
    assert_string_equal(out, want);
    pl_free(out);
    ok(resolve("nodir/deeper/new.csv", &out));
    pl_free(out);
    /* a symlink that stays inside resolves to its target */
    ok(resolve("link_in.csv", &out));
    snprintf(want, sizeof want, "%s/trades.csv", g_root);
    assert_string_equal(out, want);
    pl_free(out);
    /* names that merely contain dots */
    expect("a..b.csv", PL_OK);
    expect("...", PL_OK);
    /* globs: every match checked */
    ok(resolve("parts/p[12].parquet", &out));
    pl_free(out);
    ok(resolve("*.parquet", &out));
    pl_free(out);
}

static void test_refused(void **state) {
    (void)state;
    expect("", PL_ERR_INVALID_ARG);
    expect("/etc/passwd", PL_ERR_PERMISSION);
    expect("..", PL_ERR_PERMISSION);
    expect("../x.csv", PL_ERR_PERMISSION);
    expect("sub/../../x.csv", PL_ERR_PERMISSION);
    expect("sub/..", PL_ERR_PERMISSION);
    expect("a/../trades.csv", PL_ERR_PERMISSION); /* ".." is refused even when it stays inside */
    expect("a\nb.csv", PL_ERR_INVALID_ARG);
    expect(".", PL_ERR_INVALID_ARG); /* the root itself is not a file */
    /* symlinks out: file, directory, dangling, below a directory link */
    expect("link_out.csv", PL_ERR_PERMISSION);
    expect("dir_out/secret.csv", PL_ERR_PERMISSION);
    expect("dir_out/new.csv", PL_ERR_PERMISSION);
    expect("dir_out", PL_ERR_PERMISSION);
    expect("dangling.csv", PL_ERR_PERMISSION);
    /* a glob with one match outside, and a glob through a directory link */
    expect("parts/*.parquet", PL_ERR_PERMISSION);
    expect("dir_out/*.csv", PL_ERR_PERMISSION);
    expect("*_out.csv", PL_ERR_PERMISSION);
    /* a glob matching nothing */
    expect("nothing*.parquet", PL_ERR_NOT_FOUND);
    char *out = NULL;
    assert_int_equal(resolve("../secret.csv", &out), PL_ERR_PERMISSION);
    assert_non_null(strstr(g_err.msg, "\"../secret.csv\" leaves the data root"));
    /* a very long path */
    char *longp = malloc(10000);
    memset(longp, 'a', 9999);
    longp[9999] = '\0';
    expect(longp, PL_ERR_INVALID_ARG);
    free(longp);
}

static void test_strip(void **state) {
    (void)state;
    char buf[3 * PATH_MAX];
    snprintf(buf, sizeof buf, "\"%s/a/b.parquet\": bad; root \"%s\"", g_root, g_root);
    pl_srv_strip_root(buf, g_root);
    assert_string_equal(buf, "\"a/b.parquet\": bad; root \".\"");
    snprintf(buf, sizeof buf, "%sX/file", g_root); /* a sibling directory is not the root */
    char copy[3 * PATH_MAX];
    memcpy(copy, buf, sizeof buf);
    pl_srv_strip_root(buf, g_root);
    assert_string_equal(buf, copy);
    pl_error e;
    pl_error_init(&e);
    assert_true(strlen(g_root) < 200);
    memcpy(e.path, g_root, strlen(g_root));
    strcpy(e.path + strlen(g_root), "/x.csv");
    pl_srv_error_strip(&e, g_root);
    assert_string_equal(e.path, "x.csv");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_strip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
