/* test_catalog.c - handles (TTL, owners, per-owner limit, sweep) and live tables (create,
 * append, snapshots that appends do not disturb, concurrent appends and reads). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

#include "srv_test_util.h"

static pl_df *small_df(int64_t n) {
    pl_table *t = make_trades(n);
    pl_df *df = NULL;
    ok(pl_df_from_table(t, &df, E));
    pl_table_release(t);
    return df;
}

static void test_handles(void **state) {
    (void)state;
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    pl_df *df = small_df(5);
    char a[PL_HANDLE_ID_LEN + 1], b[PL_HANDLE_ID_LEN + 1];
    int64_t now = 1000;
    ok(pl_catalog_handle_put(c, "alice", df, 5, NULL, 100, now, 3, a, E));
    ok(pl_catalog_handle_put(c, "alice", df, -1, NULL, 100, now, 3, b, E));
    assert_int_equal(strlen(a), 32);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 32; i++) assert_non_null(strchr("0123456789abcdef", a[i]));
    pl_df *got = NULL;
    int64_t rows = 0;
    ok(pl_catalog_handle_get(c, "alice", a, now + 50, &got, &rows, E));
    assert_ptr_equal(got, df);
    assert_int_equal(rows, 5);
    pl_df_release(got);
    /* another owner: NOT_FOUND, exactly like an unknown id */
    pl_error e1, e2;
    pl_error_init(&e1);
    pl_error_init(&e2);
    assert_int_equal(pl_catalog_handle_get(c, "bob", a, now, &got, NULL, &e1), PL_ERR_NOT_FOUND);
    char fake[33];
    memcpy(fake, a, 33);
    fake[0] = fake[0] == 'a' ? 'b' : 'a';
    assert_int_equal(pl_catalog_handle_get(c, "alice", fake, now, &got, NULL, &e2), PL_ERR_NOT_FOUND);
    assert_false(pl_catalog_handle_renew(c, "bob", a, now));
    assert_false(pl_catalog_handle_drop(c, "bob", a));
    assert_int_equal(pl_catalog_handle_get(c, "alice", "short", now, &got, NULL, &e2), PL_ERR_NOT_FOUND);
    /* per-owner limit */
    char x[33];
    ok(pl_catalog_handle_put(c, "alice", df, 5, NULL, 100, now, 3, x, E));
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_handle_put(c, "alice", df, 5, NULL, 100, now, 3, x, &g_err), PL_ERR_LIMIT);
    assert_non_null(strstr(g_err.msg, "too many handles"));
    ok(pl_catalog_handle_put(c, "bob", df, 5, NULL, 100, now, 3, x, E)); /* others unaffected */
    assert_int_equal(pl_catalog_owner_handles(c, "alice"), 0); /* stamped at t=1000: long expired */
    char y[33];
    ok(pl_catalog_handle_put(c, "dave", df, 5, NULL, 60000000000ll, pl_now_ns(), 3, y, E));
    ok(pl_catalog_handle_put(c, "dave", df, 5, NULL, 60000000000ll, pl_now_ns(), 3, y, E));
    assert_int_equal(pl_catalog_owner_handles(c, "dave"), 2);
    assert_true(pl_catalog_handle_drop(c, "dave", y));
    assert_int_equal(pl_catalog_owner_handles(c, "dave"), 1);
    /* TTL: expired handles vanish; a renewal pushes the expiry */
    assert_true(pl_catalog_handle_renew(c, "alice", a, now + 90)); /* a now lives to 190 */
    assert_int_equal(pl_catalog_handle_get(c, "alice", b, now + 100, &got, NULL, &e2), PL_ERR_NOT_FOUND);
    ok(pl_catalog_handle_get(c, "alice", a, now + 150, &got, NULL, E));
    pl_df_release(got);
    assert_int_equal(pl_catalog_sweep(c, now + 150), 3); /* b, x of alice, bob's */
    assert_int_equal(pl_catalog_n_handles(c), 2); /* a, and dave's (TTL a minute from now) */
    assert_true(pl_catalog_handle_drop(c, "alice", a));
    assert_false(pl_catalog_handle_drop(c, "alice", a));
    assert_int_equal(pl_catalog_n_handles(c), 1);
    /* many handles (bucket growth), freed with the catalog */
    for (int i = 0; i < 2000; i++) ok(pl_catalog_handle_put(c, "carol", df, 1, NULL, 100, now, 0, x, E));
    assert_int_equal(pl_catalog_n_handles(c), 2001);
    ok(pl_catalog_handle_get(c, "carol", x, now, &got, NULL, E));
    pl_df_release(got);
    pl_df_release(df);
    pl_catalog_free(c);
}

static void test_tables(void **state) {
    (void)state;
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    pl_table *t5 = make_trades(5);
    bool created = false;
    ok(pl_catalog_table_create(c, "ticks", t5->schema, NULL, false, false, &created, E));
    assert_true(created);
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_create(c, "TICKS", t5->schema, NULL, false, false, &created, &g_err),
                     PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "already exists"));
    ok(pl_catalog_table_create(c, "ticks", t5->schema, NULL, true, false, &created, E));
    assert_false(created);
    pl_table *s0 = NULL;
    ok(pl_catalog_table_snapshot(c, "ticks", &s0, E));
    assert_int_equal(s0->n_rows, 0);
    int64_t rows = 0;
    ok(pl_catalog_table_append(c, "ticks", t5, &rows, E));
    assert_int_equal(rows, 5);
    pl_table *s1 = NULL;
    ok(pl_catalog_table_snapshot(c, "ticks", &s1, E));
    ok(pl_catalog_table_append(c, "ticks", t5, &rows, E));
    assert_int_equal(rows, 10);
    /* snapshots taken before stay as they were */
    assert_int_equal(s0->n_rows, 0);
    assert_int_equal(s1->n_rows, 5);
    assert_tables_equal(s1, t5);
    pl_table *s2 = NULL;
    ok(pl_catalog_table_snapshot(c, "ticks", &s2, E));
    assert_int_equal(s2->n_rows, 10);
    /* small appends merge into one batch */
    assert_int_equal(s2->n_batches, 1);
    /* a schema mismatch changes nothing */
    pl_field f;
    ok(pl_field_init(&f, "x", pl_type_simple(PL_TYPE_INT64), true, E));
    pl_schema *other = NULL;
    ok(pl_schema_new(1, &f, &other, E));
    pl_field_reset(&f);
    pl_builder *bld = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT64), 1, &bld, E));
    ok(pl_builder_append_i64(bld, 1, E));
    pl_array *arr = NULL;
    ok(pl_builder_finish(bld, &arr, E));
    pl_builder_free(bld);
    pl_batch *bb = NULL;
    ok(pl_batch_new(pl_schema_retain(other), 1, &arr, &bb, E));
    pl_table *bad = NULL;
    ok(pl_table_new(other, &bad, E));
    ok(pl_table_append(bad, bb, E));
    pl_batch_release(bb);
    pl_schema_release(other);
    assert_int_equal(pl_catalog_table_append(c, "ticks", bad, &rows, NULL), PL_ERR_TYPE);
    pl_table_release(bad);
    ok(pl_catalog_table_rows(c, "ticks", &rows, E));
    assert_int_equal(rows, 10);
    /* names, drop */
    ok(pl_catalog_table_create(c, "other", t5->schema, t5, false, false, NULL, E));
    char **names = NULL;
    int32_t n = 0;
    ok(pl_catalog_table_names(c, &names, &n, E));
    assert_int_equal(n, 2);
    assert_string_equal(names[0], "ticks");
    assert_string_equal(names[1], "other");
    for (int32_t i = 0; i < n; i++) pl_free(names[i]);
    pl_free(names);
    ok(pl_catalog_table_rows(c, "other", &rows, E));
    assert_int_equal(rows, 5);
    bool dropped = false;
    ok(pl_catalog_table_drop(c, "ticks", false, &dropped, E));
    assert_true(dropped);
    assert_int_equal(pl_catalog_table_drop(c, "ticks", false, &dropped, NULL), PL_ERR_NOT_FOUND);
    ok(pl_catalog_table_drop(c, "ticks", true, &dropped, E));
    assert_false(dropped);
    assert_int_equal(pl_catalog_table_snapshot(c, "ticks", &s0, NULL), PL_ERR_NOT_FOUND);
    /* a snapshot outlives its dropped table */
    assert_int_equal(s2->n_rows, 10);
    pl_table_release(s0);
    pl_table_release(s1);
    pl_table_release(s2);
    pl_table_release(t5);
    pl_catalog_free(c);
}

typedef struct race {
    pl_catalog *c;
    pl_table *rows;
    int n_appends;
    int bad;
} race;

/* The memory account: an append's charge is the new buffers once (a long append cut into
 * chunks shares its buffers), a merge of small appends replaces the last batch's bytes; a
 * refusal changes nothing; dropping gives everything back. */
typedef struct account {
    int64_t used, limit, calls;
} account;

static pl_status charge(void *user, bool handle, int64_t delta, const char *what, pl_error *err) {
    (void)handle;
    account *a = user;
    a->calls++;
    if (delta > 0 && a->limit && a->used + delta > a->limit)
        PL_FAIL(err, PL_ERR_NOMEM, "%s: over the limit", what);
    a->used += delta;
    return PL_OK;
}

static void test_memory_account(void **state) {
    (void)state;
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    account acct = {0, 0, 0};
    pl_catalog_set_account(c, charge, &acct);
    pl_table *big = make_trades(40000); /* one batch: appended as 3 chunks of one buffer set */
    pl_table *t5 = make_trades(5);
    ok(pl_catalog_table_create(c, "ticks", big->schema, NULL, false, false, NULL, E));
    int64_t rows = 0, tb = 0, hb = 0;
    ok(pl_catalog_table_append(c, "ticks", big, &rows, E));
    pl_catalog_memory(c, &tb, &hb);
    /* id, price, qty: 8 bytes a row; sym: 4 bytes and a 4-byte offset a row */
    assert_true(tb >= 40000 * 32 && tb < 40000 * 32 * 2);
    assert_int_equal(acct.used, tb);
    int64_t after_big = tb;
    for (int i = 0; i < 20; i++) { /* merged into the last chunk, never below what it was */
        ok(pl_catalog_table_append(c, "ticks", t5, &rows, E));
        pl_catalog_memory(c, &tb, &hb);
        assert_true(tb >= after_big);
        assert_int_equal(acct.used, tb);
    }
    assert_int_equal(rows, 40100);
    /* a refused append changes nothing */
    acct.limit = acct.used + 100;
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_append(c, "ticks", big, &rows, &g_err), PL_ERR_NOMEM);
    assert_non_null(strstr(g_err.msg, "appending to table \"ticks\""));
    ok(pl_catalog_table_rows(c, "ticks", &rows, E));
    assert_int_equal(rows, 40100);
    pl_catalog_memory(c, &tb, &hb);
    assert_int_equal(acct.used, tb);
    pl_table *snap = NULL;
    ok(pl_catalog_table_snapshot(c, "ticks", &snap, E));
    assert_int_equal(snap->n_rows, 40100);
    pl_table_release(snap);
    /* nor a table or a handle that does not fit */
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_create(c, "t2", big->schema, big, false, false, NULL, &g_err),
                     PL_ERR_NOMEM);
    assert_non_null(strstr(g_err.msg, "creating table \"t2\""));
    pl_df *df = NULL;
    ok(pl_df_from_table(big, &df, E));
    char id[PL_HANDLE_ID_LEN + 1];
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_handle_put(c, "", df, 40000, big, 1000000000LL, pl_now_ns(), 0, id,
                                           &g_err), PL_ERR_NOMEM);
    assert_int_equal(pl_catalog_n_handles(c), 0);
    acct.limit = 0;
    ok(pl_catalog_handle_put(c, "", df, 40000, big, 1000000000LL, pl_now_ns(), 0, id, E));
    pl_catalog_memory(c, &tb, &hb);
    assert_true(hb >= 40000 * 32);
    assert_int_equal(acct.used, tb + hb);
    assert_true(pl_catalog_handle_drop(c, "", id));
    ok(pl_catalog_table_drop(c, "ticks", false, NULL, E));
    assert_int_equal(acct.used, 0);
    pl_catalog_memory(c, &tb, &hb);
    assert_int_equal(tb + hb, 0);
    pl_df_release(df);
    pl_table_release(big);
    pl_table_release(t5);
    pl_catalog_free(c);
}

static void *appender(void *arg) {
    race *r = arg;
    for (int i = 0; i < r->n_appends; i++) {
        int64_t n = 0;
        if (pl_catalog_table_append(r->c, "live", r->rows, &n, NULL)) r->bad++;
    }
    return NULL;
}

static void *reader(void *arg) {
    race *r = arg;
    int64_t last = 0;
    for (int i = 0; i < 200; i++) {
        pl_table *t = NULL;
        if (pl_catalog_table_snapshot(r->c, "live", &t, NULL)) {
            r->bad++;
            continue;
        }
        /* whole appends only, never fewer rows than before */
        if (t->n_rows % 7 != 0 || t->n_rows < last) r->bad++;
        int64_t sum = 0;
        for (int64_t b = 0; b < t->n_batches; b++) sum += t->batches[b]->n_rows;
        if (sum != t->n_rows) r->bad++;
        last = t->n_rows;
        pl_table_release(t);
    }
    return NULL;
}

static void test_concurrent(void **state) {
    (void)state;
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    pl_table *t7 = make_trades(7);
    ok(pl_catalog_table_create(c, "live", t7->schema, NULL, false, false, NULL, E));
    race r = {c, t7, 2000, 0};
    race r2 = r;
    pthread_t a, b, d;
    pthread_create(&a, NULL, appender, &r);
    pthread_create(&b, NULL, reader, &r2);
    pthread_create(&d, NULL, appender, &r2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    pthread_join(d, NULL);
    assert_int_equal(r.bad + r2.bad, 0);
    int64_t rows = 0;
    ok(pl_catalog_table_rows(c, "live", &rows, E));
    assert_int_equal(rows, 7 * 4000);
    pl_table *s = NULL;
    ok(pl_catalog_table_snapshot(c, "live", &s, E));
    assert_int_equal(s->n_rows, 28000);
    assert_true(s->n_batches <= 28000 / 8000 + 2);
    pl_table_release(s);
    pl_table_release(t7);
    pl_catalog_free(c);
}

/* ---- pruned snapshots cut sorted chunks by binary search */

static int64_t key_at(const pl_array *a, int64_t i) {
    const void *v = pl_array_values_ptr(a);
    switch (a->type->id) {
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: return ((const int32_t *)v)[i];
    case PL_TYPE_UINT16: return ((const uint16_t *)v)[i];
    default: return ((const int64_t *)v)[i];
    }
}

static bool cond_true(const pl_prune_cond *c, int64_t v) {
    switch (c->op) {
    case PL_PRUNE_EQ: return v == c->i;
    case PL_PRUNE_LT: return v < c->i;
    case PL_PRUNE_LE: return v <= c->i;
    case PL_PRUNE_GT: return v > c->i;
    case PL_PRUNE_GE: return v >= c->i;
    }
    return false;
}

/* One column "k" of type id: n rows, values v, NULL where nul[i]. */
static pl_table *key_table(pl_type_id id, int64_t n, const int64_t *v, const bool *nul) {
    pl_field f;
    ok(pl_field_init(&f, "k", pl_type_simple(id), true, E));
    pl_schema *sch = NULL;
    ok(pl_schema_new(1, &f, &sch, E));
    pl_field_reset(&f);
    pl_builder *bld = NULL;
    ok(pl_builder_new(pl_type_simple(id), n, &bld, E));
    for (int64_t i = 0; i < n; i++) {
        if (nul && nul[i]) ok(pl_builder_append_null(bld, E));
        else ok(pl_builder_append_i64(bld, v[i], E));
    }
    pl_array *arr = NULL;
    ok(pl_builder_finish(bld, &arr, E));
    pl_builder_free(bld);
    pl_batch *b = NULL;
    ok(pl_batch_new(pl_schema_retain(sch), n, &arr, &b, E));
    pl_table *t = NULL;
    ok(pl_table_new(sch, &t, E));
    ok(pl_table_append(t, b, E));
    pl_batch_release(b);
    pl_schema_release(sch);
    return t;
}

/* The pruned snapshot of table "k" under conds holds exactly the rows of the reference
 * (v/nul, n rows) that satisfy every condition (counted), and when exact, no others. */
static void check_pruned(pl_catalog *c, int32_t n_conds, const pl_prune_cond *conds, int64_t n,
                         const int64_t *v, const bool *nul, bool exact) {
    int64_t want = 0;
    for (int64_t i = 0; i < n; i++) {
        if (nul && nul[i]) continue;
        bool all = true;
        for (int32_t k = 0; k < n_conds; k++) all = all && cond_true(&conds[k], v[i]);
        want += all;
    }
    pl_table *s = NULL;
    ok(pl_catalog_table_snapshot_pruned(c, "k", n_conds, conds, &s, E));
    int64_t got = 0;
    for (int64_t b = 0; b < s->n_batches; b++) {
        const pl_array *a = s->batches[b]->columns[0];
        for (int64_t i = 0; i < a->length; i++) {
            if (!pl_array_is_valid(a, i)) continue;
            bool all = true;
            for (int32_t k = 0; k < n_conds; k++) all = all && cond_true(&conds[k], key_at(a, i));
            got += all;
        }
    }
    assert_int_equal(got, want);
    if (exact) assert_int_equal(s->n_rows, want);
    pl_table_release(s);
}

static pl_catalog *key_catalog(pl_type_id id, int64_t n, const int64_t *v, const bool *nul) {
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    pl_table *t = key_table(id, n, v, nul);
    bool created = false;
    ok(pl_catalog_table_create(c, "k", t->schema, NULL, false, false, &created, E));
    int64_t rows = 0;
    ok(pl_catalog_table_append(c, "k", t, &rows, E));
    assert_int_equal(rows, n);
    pl_table_release(t);
    return c;
}

static void test_sorted_prune(void **state) {
    (void)state;
    enum { N = 40000 };
    int64_t *v = pl_malloc(N * sizeof *v);
    bool *nul = pl_calloc(N, sizeof *nul);
    assert_non_null(v);
    assert_non_null(nul);
    /* every key thrice: key 5461 spans rows 16383..16385, across the first chunk boundary */
    for (int64_t i = 0; i < N; i++) v[i] = i / 3;
    const int64_t keys[] = {-1, 0, 1, 5460, 5461, 5462, 10922, 10923, N / 3 - 1, N / 3, N / 3 + 1};
    const pl_type_id types[] = {PL_TYPE_INT64, PL_TYPE_INT32, PL_TYPE_UINT16, PL_TYPE_DATE32};
    const pl_prune_op ops[] = {PL_PRUNE_EQ, PL_PRUNE_LT, PL_PRUNE_LE, PL_PRUNE_GT, PL_PRUNE_GE};
    for (size_t ti = 0; ti < PL_ARRAY_LEN(types); ti++) {
        pl_catalog *c = key_catalog(types[ti], N, v, NULL);
        for (size_t ki = 0; ki < PL_ARRAY_LEN(keys); ki++) {
            if (types[ti] == PL_TYPE_UINT16 && keys[ki] < 0) continue;
            for (size_t oi = 0; oi < PL_ARRAY_LEN(ops); oi++) {
                pl_prune_cond cd = {0, ops[oi], false, keys[ki], 0};
                check_pruned(c, 1, &cd, N, v, NULL, true);
            }
        }
        /* a range: both ends narrow the slice */
        pl_prune_cond r[2] = {{0, PL_PRUNE_GE, false, 5400, 0}, {0, PL_PRUNE_LT, false, 5500, 0}};
        check_pruned(c, 2, r, N, v, NULL, true);
        /* an empty range and a float condition (not narrowed, still right) */
        pl_prune_cond e[2] = {{0, PL_PRUNE_GT, false, 7000, 0}, {0, PL_PRUNE_LT, false, 7000, 0}};
        check_pruned(c, 2, e, N, v, NULL, true);
        pl_prune_cond fl = {0, PL_PRUNE_EQ, true, 0, 5461.0};
        pl_table *s = NULL;
        ok(pl_catalog_table_snapshot_pruned(c, "k", 1, &fl, &s, E));
        assert_true(s->n_rows >= 3);
        pl_table_release(s);
        pl_catalog_free(c);
    }
    /* a NULL in the first chunk: that chunk is not cut (still right), the others are */
    nul[100] = true;
    {
        pl_catalog *c = key_catalog(PL_TYPE_INT64, N, v, nul);
        for (size_t ki = 0; ki < PL_ARRAY_LEN(keys); ki++)
            for (size_t oi = 0; oi < PL_ARRAY_LEN(ops); oi++) {
                pl_prune_cond cd = {0, ops[oi], false, keys[ki], 0};
                check_pruned(c, 1, &cd, N, v, nul, false);
            }
        pl_prune_cond cd = {0, PL_PRUNE_EQ, false, 33, 0}; /* rows 99..101, one NULL */
        pl_table *s = NULL;
        ok(pl_catalog_table_snapshot_pruned(c, "k", 1, &cd, &s, E));
        assert_int_equal(s->n_rows, 16384); /* the whole first chunk */
        pl_table_release(s);
        pl_catalog_free(c);
    }
    nul[100] = false;
    /* not sorted (descending, and a single dip): chunks kept whole, answers right */
    for (int64_t i = 0; i < N; i++) v[i] = (N - i) / 3;
    {
        pl_catalog *c = key_catalog(PL_TYPE_INT64, N, v, NULL);
        for (size_t ki = 0; ki < PL_ARRAY_LEN(keys); ki++)
            for (size_t oi = 0; oi < PL_ARRAY_LEN(ops); oi++) {
                pl_prune_cond cd = {0, ops[oi], false, keys[ki], 0};
                check_pruned(c, 1, &cd, N, v, NULL, false);
            }
        pl_catalog_free(c);
    }
    for (int64_t i = 0; i < N; i++) v[i] = i;
    v[20000] = 3;
    {
        pl_catalog *c = key_catalog(PL_TYPE_INT64, N, v, NULL);
        pl_prune_cond cd = {0, PL_PRUNE_EQ, false, 3, 0};
        check_pruned(c, 1, &cd, N, v, NULL, false);
        pl_prune_cond lt = {0, PL_PRUNE_LT, false, 5, 0};
        check_pruned(c, 1, &lt, N, v, NULL, false);
        pl_prune_cond ge = {0, PL_PRUNE_GE, false, 33000, 0};
        check_pruned(c, 1, &ge, N, v, NULL, true); /* the third chunk is sorted */
        pl_catalog_free(c);
    }
    /* appends: sorted, then one that merges into the last batch and breaks the order */
    for (int64_t i = 0; i < 1000; i++) v[i] = i;
    {
        pl_catalog *c = key_catalog(PL_TYPE_INT64, 1000, v, NULL);
        pl_prune_cond cd = {0, PL_PRUNE_EQ, false, 50, 0};
        check_pruned(c, 1, &cd, 1000, v, NULL, true);
        for (int64_t i = 0; i < 100; i++) v[1000 + i] = i;
        pl_table *more = key_table(PL_TYPE_INT64, 100, v + 1000, NULL);
        int64_t rows = 0;
        ok(pl_catalog_table_append(c, "k", more, &rows, E));
        pl_table_release(more);
        assert_int_equal(rows, 1100);
        check_pruned(c, 1, &cd, 1100, v, NULL, false);
        pl_prune_cond le = {0, PL_PRUNE_LE, false, 10, 0};
        check_pruned(c, 1, &le, 1100, v, NULL, false);
        /* an append that keeps the order (a new batch): still cut */
        for (int64_t i = 0; i < 20000; i++) v[1100 + i] = 5000 + i / 2;
        more = key_table(PL_TYPE_INT64, 20000, v + 1100, NULL);
        ok(pl_catalog_table_append(c, "k", more, &rows, E));
        pl_table_release(more);
        pl_prune_cond k2 = {0, PL_PRUNE_EQ, false, 13192, 0}; /* rows 16384, 16385 of the append */
        check_pruned(c, 1, &k2, 21100, v, NULL, true);
        pl_catalog_free(c);
    }
    pl_free(v);
    pl_free(nul);
}

/* An append started while another thread holds the table's gate. */
typedef struct gated_append {
    pl_catalog *c;
    pl_table *rows;
    pl_status st;
    int64_t after;
    _Atomic int done;
} gated_append;

static void *append_thread(void *arg) {
    gated_append *g = arg;
    g->st = pl_catalog_table_append(g->c, "gt", g->rows, &g->after, NULL);
    g->done = 1;
    return NULL;
}

/* Rewrites (SQL UPDATE / DELETE / TRUNCATE / ALTER on the server): the gate holds appends
 * back until the swap, which they then follow; a swap or a typed append after the table was
 * dropped, created again or appended to ungated fails and changes nothing. */
static void test_gate_swap(void **state) {
    (void)state;
    pl_catalog *c = NULL;
    ok(pl_catalog_new(&c, E));
    pl_table *t5 = make_trades(5), *t3 = make_trades(3);
    ok(pl_catalog_table_create(c, "gt", t5->schema, t5, false, false, NULL, E));
    pl_table *snap = NULL;
    uint64_t gen = 0;
    ok(pl_catalog_table_snapshot_gen(c, "gt", &snap, &gen, E));
    assert_true(gen != 0);
    pl_catalog_gate *g = NULL;
    ok(pl_catalog_table_gate(c, "gt", &g, E));
    /* the gate holder's own appends pass; another thread's wait */
    int64_t rows = 0;
    gated_append ga = {c, t3, PL_OK, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, append_thread, &ga), 0);
    for (int i = 0; i < 50 && !ga.done; i++) usleep(2000);
    assert_int_equal(ga.done, 0);
    ok(pl_catalog_table_rows(c, "gt", &rows, E));
    assert_int_equal(rows, 5);
    /* the rewrite: 3 rows instead of 5, under a new generation */
    ok(pl_catalog_table_swap(c, "gt", gen, 5, NULL, t3, NULL, E));
    pl_catalog_table_ungate(g);
    pthread_join(th, NULL);
    ok(ga.st);
    assert_int_equal(ga.after, 6); /* landed in the new table, after the rewrite */
    uint64_t gen2 = 0;
    pl_table *snap2 = NULL;
    ok(pl_catalog_table_snapshot_gen(c, "gt", &snap2, &gen2, E));
    assert_true(gen2 != gen);
    assert_int_equal(snap2->n_rows, 6);
    assert_int_equal(snap->n_rows, 5); /* the old snapshot is untouched */
    /* stale generation: changes nothing */
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_swap(c, "gt", gen, 5, NULL, t5, NULL, &g_err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "changed by another request while this statement ran"));
    /* rows appended since the rewrite's snapshot (no gate taken): refused too */
    ok(pl_catalog_table_append(c, "gt", t3, &rows, E));
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_swap(c, "gt", gen2, 6, NULL, t5, NULL, &g_err), PL_ERR_INVALID_ARG);
    ok(pl_catalog_table_rows(c, "gt", &rows, E));
    assert_int_equal(rows, 9);
    /* a rename is a swap under another name; a taken name is refused */
    ok(pl_catalog_table_create(c, "other", t5->schema, NULL, false, false, NULL, E));
    pl_table *snap3 = NULL;
    uint64_t gen3 = 0;
    ok(pl_catalog_table_snapshot_gen(c, "gt", &snap3, &gen3, E));
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_swap(c, "gt", gen3, 9, "OTHER", snap3, NULL, &g_err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "already exists"));
    ok(pl_catalog_table_swap(c, "gt", gen3, 9, "gt2", snap3, NULL, E));
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_rows(c, "gt", &rows, &g_err), PL_ERR_NOT_FOUND);
    ok(pl_catalog_table_rows(c, "gt2", &rows, E));
    assert_int_equal(rows, 9);
    /* an append typed for the old columns after a drop and a create with other columns */
    pl_field f[2] = {{(char *)"a", pl_type_simple(PL_TYPE_INT64), true},
                     {(char *)"b", pl_type_simple(PL_TYPE_INT64), true}};
    pl_schema *ab = NULL;
    ok(pl_schema_new(2, f, &ab, E));
    f[0].name = (char *)"b";
    f[1].name = (char *)"a";
    pl_schema *ba = NULL;
    ok(pl_schema_new(2, f, &ba, E));
    ok(pl_catalog_table_create(c, "ab", ab, NULL, false, false, NULL, E));
    ok(pl_catalog_table_drop(c, "ab", false, NULL, E));
    ok(pl_catalog_table_create(c, "ab", ba, NULL, false, false, NULL, E));
    pl_table *empty = NULL;
    ok(pl_table_new(ab, &empty, E));
    pl_error_init(&g_err);
    assert_int_equal(pl_catalog_table_append_as(c, "ab", ab, empty, &rows, &g_err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(g_err.msg, "changed by another request"));
    ok(pl_catalog_table_append_as(c, "ab", ba, empty, &rows, E));
    pl_table_release(empty);
    pl_schema_release(ab);
    pl_schema_release(ba);
    pl_table_release(snap);
    pl_table_release(snap2);
    pl_table_release(snap3);
    pl_table_release(t5);
    pl_table_release(t3);
    pl_catalog_free(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handles),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_memory_account),
        cmocka_unit_test(test_sorted_prune),
        cmocka_unit_test(test_gate_swap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
