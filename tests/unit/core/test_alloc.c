/* test_alloc.c - unit tests for the huge-page path of src/core/alloc.c: pl_aligned_alloc_huge
 * and pl_alloc_populate with the policy on, off, with madvise failing (plain blocks, mode off),
 * with every sample slow (the rest of a block re-advised, new blocks plain), and huge blocks
 * passing through the block cache and mremap. Contents and byte accounting are checked in
 * every case; whether the kernel really backs a block with huge pages is not (it depends on
 * the machine). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/mman.h>

#include "core/core.h"

#define MIB (1u << 20)

static void fill(uint8_t *p, size_t n, uint8_t seed) {
    for (size_t i = 0; i < n; i += 512) p[i] = (uint8_t)(seed + i / 512);
    p[n - 1] = seed;
}

static void check(const uint8_t *p, size_t n, uint8_t seed) {
    for (size_t i = 0; i < n; i += 512) assert_int_equal(p[i], (uint8_t)(seed + i / 512));
    assert_int_equal(p[n - 1], seed);
}

static int setup(void **state) {
    (void)state;
    pl_alloc_cache_release();
    return 0;
}

static int teardown(void **state) {
    (void)state;
    pl_alloc_huge_test(PL_HUGE_TEST_NONE, 0);
    pl_alloc_cache_release();
    return 0;
}

static void test_huge_block_populate_free(void **state) {
    (void)state;
    pl_alloc_huge_test(PL_HUGE_TEST_NONE, 1000000000); /* never slow */
    int64_t live = pl_alloc_live_bytes();
    size_t n = 9 * MIB + 100; /* not a multiple of 2 MiB: a plain tail */
    uint8_t *p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    /* advised when THP exists here; else the mode went off and the block is plain */
    bool huge = pl_alloc_is_huge(p);
    assert_true(huge || !pl_alloc_huge_on());
    if (huge) {
        assert_int_equal((uintptr_t)p % (2 * MIB), 0);
        assert_true(pl_alloc_is_huge(p + n - 1));
    }
    /* populated in uneven pieces, as scan tasks do with their views */
    pl_alloc_populate(p + 3, MIB);
    pl_alloc_populate(p + MIB + 3, 5 * MIB);
    pl_alloc_populate(p + 6 * MIB + 3, n - 6 * MIB - 3);
    pl_alloc_populate(p + 6 * MIB + 3, 1); /* resident already */
    fill(p, n, 7);
    check(p, n, 7);
    assert_int_equal(pl_alloc_live_bytes(), live + (int64_t)n);
    pl_aligned_free(p, n);
    assert_false(pl_alloc_is_huge(p));
    assert_int_equal(pl_alloc_live_bytes(), live);
    pl_alloc_populate(NULL, 100); /* no-ops */
    uint8_t small[64];
    pl_alloc_populate(small, 0);
}

static void test_madvise_failure_falls_back(void **state) {
    (void)state;
    pl_alloc_huge_test(PL_HUGE_TEST_MADVISE_FAILS, 0);
    assert_true(pl_alloc_huge_on());
    size_t n = 8 * MIB;
    uint8_t *p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    assert_false(pl_alloc_is_huge(p));
    assert_false(pl_alloc_huge_on()); /* no huge pages here: the mode is off */
    pl_alloc_populate(p, n);
    fill(p, n, 3);
    check(p, n, 3);
    uint8_t *q = pl_aligned_alloc_huge(n); /* the next block is plain without trying */
    assert_non_null(q);
    assert_false(pl_alloc_is_huge(q));
    fill(q, n, 4);
    check(p, n, 3);
    check(q, n, 4);
    pl_aligned_free(q, n);
    pl_aligned_free(p, n);
}

static void test_slow_samples_turn_huge_pages_off(void **state) {
    (void)state;
    pl_alloc_huge_test(PL_HUGE_TEST_NONE, 1); /* every populate counts as slow */
    size_t n = 16 * MIB;
    uint8_t *p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    if (!pl_alloc_is_huge(p)) { /* no THP on this machine: the fallback test covers it */
        pl_aligned_free(p, n);
        return;
    }
    assert_true(pl_alloc_huge_on());
    pl_alloc_populate(p, 3 * MIB); /* >= one 2 MiB sample */
    assert_false(pl_alloc_huge_on());
    /* the rest of the block: advised back to 4 KiB pages, then populated */
    pl_alloc_populate(p + 3 * MIB + 64, 5 * MIB);
    pl_alloc_populate(p + 8 * MIB, 8 * MIB);
    assert_true(pl_alloc_is_huge(p)); /* still registered until freed */
    fill(p, n, 9);
    check(p, n, 9);
    uint8_t *q = pl_aligned_alloc_huge(8 * MIB);
    assert_non_null(q);
    assert_false(pl_alloc_is_huge(q));
    fill(q, 8 * MIB, 10);
    check(p, n, 9);
    check(q, 8 * MIB, 10);
    pl_aligned_free(q, 8 * MIB);
    pl_aligned_free(p, n);
    /* switched off explicitly: plain blocks */
    pl_alloc_huge_test(PL_HUGE_TEST_OFF, 0);
    assert_false(pl_alloc_huge_on());
    p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    assert_false(pl_alloc_is_huge(p));
    pl_alloc_populate(p, n);
    fill(p, n, 11);
    check(p, n, 11);
    pl_aligned_free(p, n);
}

static void test_huge_block_through_cache_and_mremap(void **state) {
    (void)state;
    pl_alloc_huge_test(PL_HUGE_TEST_NONE, 1000000000);
    int64_t live = pl_alloc_live_bytes();
    size_t n = 8 * MIB;
    uint8_t *p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    pl_alloc_populate(p, n / 2); /* half faulted: the cached block's rest is untouched */
    fill(p, n / 2, 1);
    pl_aligned_free(p, n); /* into the block cache, out of the registry */
    assert_false(pl_alloc_is_huge(p));
    assert_true(pl_alloc_cache_bytes() >= (int64_t)n);
    uint8_t *q = pl_aligned_alloc(n); /* the same class: the cached block comes back */
    assert_ptr_equal(q, p);
    assert_false(pl_alloc_is_huge(q));
    pl_alloc_populate(q, n);
    fill(q, n, 2);
    check(q, n, 2);
    pl_aligned_free(q, n);
    /* a huge block grown with mremap leaves the registry and keeps its bytes */
    p = pl_aligned_alloc_huge(n);
    assert_non_null(p);
    pl_alloc_populate(p, n);
    fill(p, n, 5);
    uint8_t *r = pl_aligned_realloc(p, n, 40 * MIB);
    assert_non_null(r);
    assert_false(pl_alloc_is_huge(r));
    assert_false(pl_alloc_is_huge(p));
    check(r, n, 5);
    fill(r + n, 32 * MIB, 6);
    check(r + n, 32 * MIB, 6);
    pl_aligned_free(r, 40 * MIB);
    assert_int_equal(pl_alloc_live_bytes(), live);
}

/* Deferred unmaps: inside pl_alloc_defer_unmaps(true) .. (false) a freed large block gives its
 * pages back at once but stays mapped (mincore still answers, the pages are not resident)
 * until the outermost (false); outside, a freed block is unmapped at once. */
static bool mapped(const void *p) {
    unsigned char v = 0;
    return mincore((void *)p, 4096, &v) == 0;
}

static bool resident(const void *p) {
    unsigned char v = 0;
    return mincore((void *)p, 4096, &v) == 0 && (v & 1);
}

static void test_deferred_unmaps(void **state) {
    (void)state;
    int64_t live = pl_alloc_live_bytes();
    size_t n = 300 * MIB; /* above the largest cached class: always given back */
    uint8_t *a = pl_aligned_alloc(n), *b = pl_aligned_alloc(n);
    assert_non_null(a);
    assert_non_null(b);
    a[0] = a[n - 1] = b[0] = 7;
    assert_true(resident(a) && resident(b));
    pl_alloc_defer_unmaps(true);
    pl_alloc_defer_unmaps(true); /* nested */
    pl_aligned_free(a, n);
    assert_true(mapped(a));
    assert_false(resident(a));
    pl_alloc_defer_unmaps(false);
    assert_true(mapped(a)); /* still inside the outer scope */
    pl_aligned_free(b, n);
    assert_true(mapped(b));
    pl_alloc_defer_unmaps(false);
    assert_false(mapped(a));
    assert_false(mapped(b));
    /* outside a scope: unmapped at once; an unmatched (false) is harmless */
    uint8_t *c = pl_aligned_alloc(n);
    assert_non_null(c);
    c[4096] = 1;
    pl_aligned_free(c, n);
    assert_false(mapped(c));
    pl_alloc_defer_unmaps(false);
    assert_int_equal(pl_alloc_live_bytes(), live);
}

/* pl_aligned_trim: the bytes before `used` stay, whole pages after it read as zeros (and the
 * block can still be grown and freed); small blocks are left alone. */
static void test_trim(void **state) {
    (void)state;
    int64_t live = pl_alloc_live_bytes();
    size_t n = 3 * MIB, used = MIB + 100;
    uint8_t *p = pl_aligned_alloc(n);
    assert_non_null(p);
    memset(p, 0x5A, n);
    pl_aligned_trim(p, used, n);
    for (size_t i = 0; i < used; i += 97) assert_int_equal(p[i], 0x5A);
    assert_int_equal(p[used - 1], 0x5A);
    size_t z = (used + 4095) & ~(size_t)4095;
    for (size_t i = used; i < z; i++) assert_int_equal(p[i], 0x5A); /* the partial page stays */
    for (size_t i = z; i < n; i += 61) assert_int_equal(p[i], 0);
    uint8_t *q = pl_aligned_realloc(p, n, 5 * MIB);
    assert_non_null(q);
    assert_int_equal(q[0], 0x5A);
    pl_aligned_free(q, 5 * MIB);
    uint8_t *s = pl_aligned_alloc(4000);
    memset(s, 7, 4000);
    pl_aligned_trim(s, 10, 4000);
    assert_int_equal(s[3999], 7);
    pl_aligned_free(s, 4000);
    assert_int_equal(pl_alloc_live_bytes(), live);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_huge_block_populate_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madvise_failure_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_samples_turn_huge_pages_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_block_through_cache_and_mremap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_unmaps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
