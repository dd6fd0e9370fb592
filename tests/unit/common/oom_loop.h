/* oom_loop.h - the allocation-failure loop of the reader tests: runs a read with the n-th
 * allocation failing, n = 0, 1, ... until it succeeds (then it must give `rows` rows); each
 * failure must be PL_ERR_NOMEM and leave no memory behind. Include after cmocka.h and
 * core/core.h. */
#ifndef PL_TEST_OOM_LOOP_H
#define PL_TEST_OOM_LOOP_H

typedef pl_status (*oom_read_fn)(void *ctx, pl_table **out, pl_error *err);

static void check_oom_loop(oom_read_fn read, void *ctx, int64_t rows) {
    for (int64_t n = 0;; n++) {
        int64_t live = pl_alloc_live_bytes();
        pl_table *t = NULL;
        pl_error err;
        pl_error_init(&err);
        pl_alloc_fail_after(n);
        pl_status st = read(ctx, &t, &err);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            assert_int_equal(t->n_rows, rows);
            pl_table_release(t);
            assert_int_equal(pl_alloc_live_bytes(), live);
            break;
        }
        if (st != PL_ERR_NOMEM) fail_msg("n=%lld: status %d: %s", (long long)n, st, err.msg);
        assert_int_equal(pl_alloc_live_bytes(), live);
        assert_true(n < 100000);
    }
}

#endif
