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

static void dirty(uint8_t *p, size_t n) { memset(p, 0xA5, n); }

static void assert_zero(const uint8_t *p, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (p[i]) fail_msg("byte %zu of [%zu, %zu) is 0x%02x, not zero", i, a, b, p[i]);
}

/* pl_aligned_alloc_zero / pl_aligned_realloc_zero: the new bytes are zero whether the block is
 * a fresh mapping, a dirty block from the cache (same class, and the slack of a class), a small
 * malloc'ed block, a small block grown into a mapped one, or a mapped block grown by mremap
 * within its class or into a larger one; the old bytes are kept. */
static void test_zeroed_blocks(void **state) {
    (void)state;
    int64_t live = pl_alloc_live_bytes();
    size_t sizes[] = {100, 4000, 700 * 1024, MIB, MIB + 4096, 3 * MIB, 5 * MIB + 123, 300u * MIB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        /* twice: the second time the (dirtied, freed) block may come back from the cache */
        for (int rep = 0; rep < 2; rep++) {
            uint8_t *p = pl_aligned_alloc_zero(n);
            assert_non_null(p);
            assert_zero(p, 0, n);
            dirty(p, n);
            pl_aligned_free(p, n);
        }
    }
    /* growth steps: small -> small, small -> mapped, mapped within its class (1.5 MiB class:
     * 1.1 -> 1.4 MiB), mapped -> larger class, and past the largest class */
    size_t steps[] = {64, 5000, 600 * 1024, 1100 * 1024, 1400 * 1024, 2 * MIB, 7 * MIB + 5,
                      40 * MIB, 257u * MIB, 300u * MIB};
    for (int rep = 0; rep < 2; rep++) {
        /* fill the cache with dirty blocks of every class the steps use */
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            uint8_t *d = pl_aligned_alloc(steps[i]);
            assert_non_null(d);
            dirty(d, steps[i]);
            pl_aligned_free(d, steps[i]);
        }
        uint8_t *p = pl_aligned_alloc_zero(steps[0]);
        assert_non_null(p);
        size_t have = steps[0];
        fill(p, have, 9);
        for (size_t i = 1; i < sizeof steps / sizeof steps[0]; i++) {
            uint8_t *q = pl_aligned_realloc_zero(p, have, steps[i]);
            assert_non_null(q);
            check(q, have, 9); /* the old bytes */
            assert_zero(q, have, steps[i]);
            p = q;
            have = steps[i];
            fill(p, have, 9);
        }
        /* shrinking keeps the prefix */
        uint8_t *q = pl_aligned_realloc_zero(p, have, 3 * MIB);
        assert_non_null(q);
        for (size_t i = 0; i < 3 * MIB; i += 512) assert_int_equal(q[i], (uint8_t)(9 + i / 512));
        pl_aligned_free(q, 3 * MIB);
    }
    assert_int_equal(pl_alloc_live_bytes(), live);
}

/* pl_calloc: zero bytes for small and large (mapped) blocks, also after dirty blocks of the
 * same size were freed; overflowing products fail. */
static void test_calloc_zero(void **state) {
    (void)state;
    size_t sizes[] = {1, 24, 4096, 200000, 2 * MIB + 8, 9 * MIB};
    for (int rep = 0; rep < 2; rep++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint8_t *p = pl_calloc(sizes[i], 1);
            assert_non_null(p);
            assert_zero(p, 0, sizes[i]);
            dirty(p, sizes[i]);
            pl_free(p);
        }
    assert_null(pl_calloc(SIZE_MAX / 2, 4));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_huge_block_populate_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madvise_failure_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_samples_turn_huge_pages_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_block_through_cache_and_mremap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zeroed_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calloc_zero, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
