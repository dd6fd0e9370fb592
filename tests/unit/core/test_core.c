/* test_core.c - unit tests for src/core: errors, allocator accounting and failure injection,
 * refcounted buffers, bitmap counting and the worker pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static void test_error_format(void **state) {
    (void)state;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(err.row_group, -1);
    assert_int_equal(pl_error_set(&err, PL_ERR_CORRUPT, "dictionary index %d out of range", 512),
                     PL_ERR_CORRUPT);
    pl_error_set_path(&err, "t.parquet");
    pl_error_set_path(&err, "other.parquet"); /* the first path wins */
    pl_error_set_column(&err, 2, "price");
    err.row_group = 3;
    err.byte_offset = 91234;
    char buf[600];
    assert_string_equal(pl_error_format(&err, buf, sizeof buf),
                        "\"t.parquet\": column \"price\", row group 3, byte 91234: "
                        "dictionary index 512 out of range");
    /* NULL err is allowed everywhere */
    assert_int_equal(pl_error_set(NULL, PL_ERR_IO, "x"), PL_ERR_IO);
}

/* pl_error_forget_row drops the kernel's " at row N" (only that N, wherever it stands; without
 * the row field the first " at row <digits>") and the row field; other text is kept. */
static void test_error_forget_row(void **state) {
    (void)state;
    pl_error e;
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_TYPE, "could not convert string 'x' to INT32 at row 2");
    e.row = 2;
    pl_error_forget_row(&e);
    assert_string_equal(e.msg, "could not convert string 'x' to INT32");
    assert_int_equal(e.row, -1);
    /* a longer number that starts with the row's digits is another row */
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_INVALID_ARG, "bad value at row 12 (also at row 1): month");
    e.row = 1;
    pl_error_forget_row(&e);
    assert_string_equal(e.msg, "bad value at row 12 (also): month");
    assert_int_equal(e.row, -1);
    /* no row field (a kernel that only wrote it): the first " at row N" goes */
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_INVALID_ARG, "to_timestamp: 1e+20 seconds is out of range at row 0");
    pl_error_forget_row(&e);
    assert_string_equal(e.msg, "to_timestamp: 1e+20 seconds is out of range");
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_INVALID_ARG, "x at row 31: y at row 4");
    pl_error_forget_row(&e);
    assert_string_equal(e.msg, "x: y at row 4");
    /* " at row" without a number stays */
    pl_error_init(&e);
    pl_error_set(&e, PL_ERR_INVALID_ARG, "x at row one, at row ");
    pl_error_forget_row(&e);
    assert_string_equal(e.msg, "x at row one, at row ");
    pl_error_forget_row(NULL);
}

static void test_alloc_accounting_and_failure(void **state) {
    (void)state;
    int64_t before = pl_alloc_live_bytes();
    void *p = pl_malloc(1000);
    assert_non_null(p);
    assert_int_equal(pl_alloc_live_bytes() - before, 1000);
    p = pl_realloc(p, 5000);
    assert_non_null(p);
    assert_int_equal(pl_alloc_live_bytes() - before, 5000);
    assert_true(pl_alloc_peak_bytes() >= pl_alloc_live_bytes());
    pl_free(p);
    assert_int_equal(pl_alloc_live_bytes(), before);

    pl_alloc_fail_after(1);
    void *a = pl_malloc(8);
    void *b = pl_malloc(8);
    pl_alloc_fail_after(-1);
    assert_non_null(a);
    assert_null(b);
    pl_free(a);
}

static void test_buf_append_reserve_refcount(void **state) {
    (void)state;
    pl_buf *b = NULL;
    assert_int_equal(pl_buf_new(10, &b, NULL), PL_OK);
    assert_true(((uintptr_t)b->data % PL_BUF_ALIGN) == 0);
    /* grow across the huge-page threshold: mremap path must keep contents */
    uint8_t chunk[4096];
    for (int i = 0; i < 4096; i++) chunk[i] = (uint8_t)i;
    for (int i = 0; i < 600; i++) assert_int_equal(pl_buf_append(b, chunk, sizeof chunk, NULL), PL_OK);
    assert_int_equal(b->size, 600 * 4096);
    assert_true(b->capacity >= b->size);
    assert_int_equal(b->data[599 * 4096 + 77], 77);
    assert_ptr_equal(pl_buf_retain(b), b);
    pl_buf_release(b);
    assert_int_equal(b->refcount, 1);
    pl_buf_release(b);

    pl_buf *z = NULL;
    assert_int_equal(pl_buf_new_zeroed(100, &z, NULL), PL_OK);
    assert_int_equal(z->size, 100);
    for (int i = 0; i < 100; i++) assert_int_equal(z->data[i], 0);
    pl_buf_release(z);
    pl_buf_release(NULL);

    pl_error err;
    pl_error_init(&err);
    pl_alloc_fail_after(0);
    assert_int_equal(pl_buf_new(10, &z, &err), PL_ERR_NOMEM);
    pl_alloc_fail_after(-1);
}

static int g_released;
static void count_release(pl_buf *b) { g_released += (int)(intptr_t)b->owner; }

static void test_buf_wrap(void **state) {
    (void)state;
    static uint8_t mem[16] = {1, 2, 3};
    pl_buf *b = NULL;
    g_released = 0;
    assert_int_equal(pl_buf_wrap(mem, 16, count_release, (void *)(intptr_t)7, &b, NULL), PL_OK);
    pl_buf_retain(b);
    pl_buf_release(b);
    assert_int_equal(g_released, 0);
    assert_int_equal(pl_buf_reserve(b, 100, NULL), PL_ERR_INVALID_ARG);
    pl_buf_release(b);
    assert_int_equal(g_released, 7);
}

static void test_bitmap_count(void **state) {
    (void)state;
    uint8_t bits[64];
    memset(bits, 0, sizeof bits);
    int64_t expected = 0;
    for (int64_t i = 0; i < 512; i++) {
        if ((i * 7919) % 3 == 0) {
            pl_bit_set(bits, i);
        }
    }
    for (int64_t off = 0; off < 20; off++) {
        for (int64_t len = 0; len < 400; len += 13) {
            expected = 0;
            for (int64_t i = off; i < off + len; i++) expected += pl_bit_get(bits, i);
            assert_int_equal(pl_bitmap_count(bits, off, len), expected);
        }
    }
    pl_bit_put(bits, 5, true);
    assert_true(pl_bit_get(bits, 5));
    pl_bit_put(bits, 5, false);
    assert_false(pl_bit_get(bits, 5));
}

typedef struct {
    _Atomic int64_t sum;
    _Atomic int64_t calls;
    uint8_t seen[10000];
} pool_state;

static void add_index(void *arg, int64_t i, int32_t worker) {
    pool_state *s = arg;
    assert_true(worker >= 0 && worker < pl_pool_max_workers());
    atomic_fetch_add(&s->sum, i);
    atomic_fetch_add(&s->calls, 1);
    s->seen[i]++;
}

static void nested_job(void *arg, int64_t i, int32_t worker) {
    (void)worker;
    pool_state *s = arg;
    pool_state inner;
    memset(&inner, 0, sizeof inner);
    pl_parallel_for(100, 0, add_index, &inner);
    assert_int_equal(atomic_load(&inner.sum), 4950);
    atomic_fetch_add(&s->sum, i);
}

static void test_pool_parallel_for(void **state) {
    (void)state;
    static pool_state s;
    memset(&s, 0, sizeof s);
    pl_parallel_for(10000, 0, add_index, &s);
    assert_int_equal(atomic_load(&s.calls), 10000);
    assert_int_equal(atomic_load(&s.sum), 10000LL * 9999 / 2);
    for (int i = 0; i < 10000; i++) assert_int_equal(s.seen[i], 1);
    /* nested jobs must not deadlock */
    memset(&s, 0, sizeof s);
    pl_parallel_for(50, 0, nested_job, &s);
    assert_int_equal(atomic_load(&s.sum), 50 * 49 / 2);
    pl_parallel_for(0, 0, add_index, &s); /* no-op */
    assert_true(pl_pool_threads() >= 1);
}

/* Large aligned blocks are cached when freed and handed out again for the same size class;
 * realloc within a class keeps the block, across classes keeps the bytes. */
static void test_block_cache(void **state) {
    (void)state;
    pl_alloc_cache_release();
    assert_int_equal(pl_alloc_cache_bytes(), 0);
    size_t n = 1200000; /* class 1.5 MiB */
    uint8_t *a = pl_aligned_alloc(n);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 64, 0);
    memset(a, 0xab, n);
    pl_aligned_free(a, n);
    assert_int_equal(pl_alloc_cache_bytes(), 1572864);
    uint8_t *b = pl_aligned_alloc(1500000); /* same class: the cached block */
    assert_ptr_equal(a, b);
    assert_int_equal(pl_alloc_cache_bytes(), 0);
    uint8_t *c = pl_aligned_realloc(b, 1500000, 1572864); /* still the class */
    assert_ptr_equal(b, c);
    for (size_t k = 8; k < 1500000; k += 4096) c[k] = (uint8_t)k;
    uint8_t *d = pl_aligned_realloc(c, 1572864, 5u << 20); /* another class: bytes kept */
    assert_non_null(d);
    for (size_t k = 8; k < 1500000; k += 4096) assert_int_equal(d[k], (uint8_t)k);
    memset(d, 1, 5u << 20);
    pl_aligned_free(d, 5u << 20);
    assert_int_equal(pl_alloc_cache_bytes(), 6u << 20);
    /* blocks beyond the largest class are not cached */
    uint8_t *big = pl_aligned_alloc(300u << 20);
    assert_non_null(big);
    big[(300u << 20) - 1] = 1;
    pl_aligned_free(big, 300u << 20);
    assert_int_equal(pl_alloc_cache_bytes(), 6u << 20);
    pl_alloc_cache_release();
    assert_int_equal(pl_alloc_cache_bytes(), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_error_forget_row),
        cmocka_unit_test(test_alloc_accounting_and_failure),
        cmocka_unit_test(test_block_cache),
        cmocka_unit_test(test_buf_append_reserve_refcount),
        cmocka_unit_test(test_buf_wrap),
        cmocka_unit_test(test_bitmap_count),
        cmocka_unit_test(test_pool_parallel_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
