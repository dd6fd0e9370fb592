/* test_fill.c - unit tests for src/core/fill.c (filling fresh memory by copy with userfaultfd):
 * copies into a registered fresh region, into a region some of whose pages are present already
 * (the EEXIST path), into memory that was never registered (plain memcpy), through the rescue
 * path (the copy refused: zero pages, then memcpy), and after unregistering (unfilled pages
 * read as zeros). Contents are checked byte for byte against the source in every case. Where
 * the kernel offers no userfaultfd (seccomp, old kernels) the copies still must be right; the
 * registration-specific checks are skipped. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/mman.h>

#include "core/core.h"

#define PAGE 4096u

static uint8_t *fresh(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static uint8_t *pattern(size_t n, uint32_t seed) {
    uint8_t *s = test_malloc(n + 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n + 1; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (uint8_t)(x >> 16);
    }
    return s;
}

static int teardown(void **state) {
    (void)state;
    pl_fill_test(PL_FILL_TEST_NONE);
    return 0;
}

/* A registered fresh region filled in pieces from an unaligned source: every byte arrives,
 * and the bytes are counted as copied by the kernel. */
static void test_copy_into_registered_region(void **state) {
    (void)state;
    const size_t n = 64 * PAGE;
    uint8_t *r = fresh(n);
    uint8_t *src = pattern(n, 1);
    bool reg = pl_fill_register(r, n);
    if (pl_fill_on()) assert_true(reg);
    int64_t before = pl_fill_copied_bytes();
    /* three pieces, the source off by one byte (page-aligned destinations only) */
    pl_fill_copy(r, src + 1, 10 * PAGE);
    pl_fill_copy(r + 10 * PAGE, src + 1 + 10 * PAGE, 50 * PAGE);
    pl_fill_copy(r + 60 * PAGE, src + 1 + 60 * PAGE, 4 * PAGE);
    pl_fill_unregister(r, n);
    assert_memory_equal(r, src + 1, n);
    if (reg) assert_int_equal(pl_fill_copied_bytes() - before, (int64_t)n);
    test_free(src);
    munmap(r, n);
}

/* Pages written before the region was registered (a block reused from a cache) are present:
 * the copy writes them with memcpy and the others by copy, all correct. */
static void test_copy_over_present_pages(void **state) {
    (void)state;
    const size_t n = 32 * PAGE;
    uint8_t *r = fresh(n);
    for (size_t pg = 0; pg < 32; pg += 3) r[pg * PAGE + 7] = 0xEE; /* present: 0, 3, 6, ... */
    uint8_t *src = pattern(n, 2);
    bool reg = pl_fill_register(r, n);
    int64_t before = pl_fill_copied_bytes();
    pl_fill_copy(r, src, n);
    pl_fill_unregister(r, n);
    assert_memory_equal(r, src, n);
    /* 11 of the 32 pages were present: only the other 21 were placed by copy */
    if (reg) assert_int_equal(pl_fill_copied_bytes() - before, (int64_t)(21 * PAGE));
    test_free(src);
    munmap(r, n);
}

/* Memory that was never registered (or is no longer): an ordinary memcpy. */
static void test_copy_outside_a_region(void **state) {
    (void)state;
    const size_t n = 8 * PAGE;
    uint8_t *r = fresh(n);
    uint8_t *src = pattern(n, 3);
    int64_t before = pl_fill_copied_bytes();
    pl_fill_copy(r, src, n);
    assert_memory_equal(r, src, n);
    assert_int_equal(pl_fill_copied_bytes(), before);
    /* registered, unregistered, then copied: still plain memory */
    if (pl_fill_register(r + 4 * PAGE, 4 * PAGE)) pl_fill_unregister(r + 4 * PAGE, 4 * PAGE);
    uint8_t *src2 = pattern(n, 4);
    pl_fill_copy(r, src2, n);
    assert_memory_equal(r, src2, n);
    test_free(src);
    test_free(src2);
    munmap(r, n);
}

/* The kernel refusing the copy (injected): the rest of the range gets zero pages and memcpy
 * writes it; nothing is lost, nothing faults. */
static void test_rescue_when_copy_fails(void **state) {
    (void)state;
    const size_t n = 16 * PAGE;
    uint8_t *r = fresh(n);
    r[5 * PAGE] = 1; /* one present page among missing ones */
    uint8_t *src = pattern(n, 5);
    bool reg = pl_fill_register(r, n);
    pl_fill_test(PL_FILL_TEST_COPY_FAILS);
    int64_t before = pl_fill_copied_bytes();
    pl_fill_copy(r, src, n);
    pl_fill_test(PL_FILL_TEST_NONE);
    assert_memory_equal(r, src, n); /* readable and written while still registered */
    assert_int_equal(pl_fill_copied_bytes(), before);
    if (reg) pl_fill_unregister(r, n);
    test_free(src);
    munmap(r, n);
}

/* After unregistering, pages nobody filled are ordinary fresh memory: zeros, writable. */
static void test_unfilled_pages_after_unregister(void **state) {
    (void)state;
    const size_t n = 8 * PAGE;
    uint8_t *r = fresh(n);
    uint8_t *src = pattern(2 * PAGE, 6);
    bool reg = pl_fill_register(r, n);
    pl_fill_copy(r + 2 * PAGE, src, 2 * PAGE);
    if (reg) pl_fill_unregister(r, n);
    for (size_t i = 0; i < 2 * PAGE; i++) assert_int_equal(r[i], 0);
    assert_memory_equal(r + 2 * PAGE, src, 2 * PAGE);
    for (size_t i = 4 * PAGE; i < n; i++) assert_int_equal(r[i], 0);
    r[n - 1] = 9;
    assert_int_equal(r[n - 1], 9);
    test_free(src);
    munmap(r, n);
}

/* Misaligned or empty ranges are refused; the off switch turns the facility off. */
static void test_register_rejects_and_off_switch(void **state) {
    (void)state;
    const size_t n = 4 * PAGE;
    uint8_t *r = fresh(n);
    assert_false(pl_fill_register(r + 1, PAGE));
    assert_false(pl_fill_register(r, PAGE + 1));
    assert_false(pl_fill_register(r, 0));
    assert_false(pl_fill_register(NULL, PAGE));
    pl_fill_test(PL_FILL_TEST_OFF);
    assert_false(pl_fill_on());
    assert_false(pl_fill_register(r, n));
    pl_fill_test(PL_FILL_TEST_NONE);
    munmap(r, n);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_copy_into_registered_region, teardown),
        cmocka_unit_test_teardown(test_copy_over_present_pages, teardown),
        cmocka_unit_test_teardown(test_copy_outside_a_region, teardown),
        cmocka_unit_test_teardown(test_rescue_when_copy_fails, teardown),
        cmocka_unit_test_teardown(test_unfilled_pages_after_unregister, teardown),
        cmocka_unit_test_teardown(test_register_rejects_and_off_switch, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
