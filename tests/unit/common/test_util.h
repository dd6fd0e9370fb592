/* test_util.h - small helpers the C unit tests share: a seedable xorshift generator, scalar
 * pl_value makers, a status check that prints the error, and the resident size of a file's
 * mapping. Include after cmocka.h (its four prerequisite headers first). */
#ifndef PL_TEST_UTIL_H
#define PL_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/expr.h"

/* The next value of the xorshift64 sequence in *state (a nonzero seed). Deterministic: a
 * failing random test reruns the same cases. */
static inline uint64_t test_xorshift(uint64_t *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

static inline pl_value v_int(int64_t x) {
    pl_value v;
    memset(&v, 0, sizeof v);
    v.type = pl_type_simple(PL_TYPE_INT64);
    v.v.i = x;
    return v;
}
static inline pl_value v_f64(double x) {
    pl_value v;
    memset(&v, 0, sizeof v);
    v.type = pl_type_simple(PL_TYPE_FLOAT64);
    v.v.f = x;
    return v;
}
static inline pl_value v_none(void) {
    pl_value v;
    memset(&v, 0, sizeof v);
    v.is_null = true;
    return v;
}

/* Fails the test with the expression and the formatted error when expr is not PL_OK; errp is
 * the pl_error * expr fills. */
#define TEST_OK(expr, errp)                                                                        \
    do {                                                                                           \
        pl_status st_ = (expr);                                                                    \
        if (st_ != PL_OK) {                                                                        \
            char b_[1024];                                                                         \
            fail_msg("%s -> %s", #expr, pl_error_format((errp), b_, sizeof b_));                   \
        }                                                                                          \
    } while (0)

/* A schema of n (at most 64) nullable fields: field c is named names[c] and has type type_of(c),
 * a reference the helper releases. Fails the test on error. */
static inline pl_schema *test_schema_of(int n, const char *const *names, pl_type *(*type_of)(int)) {
    pl_field f[64];
    assert_true(n >= 0 && n <= 64);
    for (int c = 0; c < n; c++) {
        pl_type *t = type_of(c);
        assert_int_equal(pl_field_init(&f[c], names[c], t, true, NULL), PL_OK);
        pl_type_release(t);
    }
    pl_schema *s;
    assert_int_equal(pl_schema_new(n, f, &s, NULL), PL_OK);
    for (int c = 0; c < n; c++) pl_field_reset(&f[c]);
    return s;
}

/* Resident KiB of this process's mapping of the file at path (/proc/self/smaps), -1 if it
 * has none. */
static inline long test_mapping_rss_kb(const char *path) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return -1;
    char line[1024];
    bool in = false;
    long rss = -1;
    size_t pl = strlen(path);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            size_t n = strlen(line);
            while (n > 0 && line[n - 1] == '\n') line[--n] = 0;
            in = n >= pl && strcmp(line + n - pl, path) == 0;
            continue;
        }
        if (in && sscanf(line, "Rss: %ld kB", &rss) == 1) break;
    }
    fclose(f);
    return rss;
}

#endif
