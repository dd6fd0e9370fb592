/* test_window_fast.c - the indexed evaluation of holistic window aggregates (median,
 * quantile_cont, quantile_disc by a wavelet matrix; arg_min/arg_max by a segment tree; mode by a moving frame) against
 * the reference evaluation that reads every row's frame (pl_win_test_brute_force), and DISTINCT
 * aggregates by their sweep against counting first rows (frames from the start), on random
 * data with NULLs, ties, NaN and -0.0, over random ROWS / RANGE / GROUPS frames with and without
 * EXCLUDE, partitions and FILTER. Results must be identical (doubles: same value, or both NaN).
 * Also the wavelet matrix alone against sorting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/window/window_int.h"
#include "sink_feed.h"

enum { C_P, C_O, C_X, C_D, C_S, C_I, C_B, N_COLS };
static const char *col_names[N_COLS] = {"p", "o", "x", "d", "s", "i", "b"};

static pl_type *col_type(int c) {
    pl_type *t = NULL;
    switch (c) {
    case C_P: return pl_type_simple(PL_TYPE_INT32);
    case C_O: case C_I: return pl_type_simple(PL_TYPE_INT64);
    case C_X: return pl_type_simple(PL_TYPE_FLOAT64);
    case C_S: return pl_type_simple(PL_TYPE_UTF8);
    case C_B: return pl_type_simple(PL_TYPE_BOOL);
    case C_D: assert_int_equal(pl_type_new_decimal(12, 2, &t, NULL), PL_OK); return t;
    }
    return NULL;
}

static pl_schema *make_schema(void) { return test_schema_of(N_COLS, col_names, col_type); }

/* n rows in n_part partitions, order keys in [0, o_card) (ties), values with ties, NULLs,
 * NaN and -0.0. */
static pl_batch *make_input(pl_schema *s, int64_t n, int n_part, int o_card, int val_card) {
    pl_array *cols[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        pl_builder *b;
        assert_int_equal(pl_builder_new(s->fields[c].type, n, &b, NULL), PL_OK);
        for (int64_t i = 0; i < n; i++) {
            uint64_t r = feed_rng();
            pl_status st;
            if (c != C_P && r % 100 < 12) {
                st = pl_builder_append_null(b, NULL);
            } else if (c == C_P) {
                st = pl_builder_append_i64(b, (int64_t)(r % (uint64_t)n_part), NULL);
            } else if (c == C_O) {
                st = pl_builder_append_i64(b, (int64_t)(r % (uint64_t)o_card), NULL);
            } else if (c == C_X) {
                int64_t k = (int64_t)((r >> 8) % (uint64_t)val_card) - val_card / 2;
                double v = (double)k / 4;
                if (r % 97 == 1) v = NAN;
                else if (r % 97 == 2) v = -0.0;
                st = pl_builder_append_f64(b, v, NULL);
            } else if (c == C_D) {
                int64_t k = (int64_t)((r >> 8) % (uint64_t)val_card) * 37 - 500;
                st = pl_builder_append_decimal(b, (uint64_t)k, k < 0 ? -1 : 0, NULL);
            } else if (c == C_S) {
                char buf[16];
                snprintf(buf, sizeof buf, "s%03d", (int)((r >> 8) % (uint64_t)val_card));
                st = pl_builder_append_bytes(b, buf, (int64_t)strlen(buf), NULL);
            } else if (c == C_I) {
                st = pl_builder_append_i64(b, (int64_t)((r >> 8) % (uint64_t)val_card) - 7, NULL);
            } else {
                st = pl_builder_append_bool(b, (r >> 9) % 4 != 0, NULL);
            }
            assert_int_equal(st, PL_OK);
        }
        assert_int_equal(pl_builder_finish(b, &cols[c], NULL), PL_OK);
        pl_builder_free(b);
    }
    pl_batch *out;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), n, cols, &out, NULL), PL_OK);
    return out;
}

/* name(a0), name(a0, q) for quantiles, name(a0, a1) for arg_min/arg_max */
static pl_window_spec mk(const char *name, int a0, double q, int a1) {
    pl_window_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.name = name;
    sp.n_args = strncmp(name, "quantile", 8) && strncmp(name, "arg_", 4) ? 1 : 2;
    sp.args[0] = a0;
    sp.args[1] = strncmp(name, "arg_", 4) ? -1 : a1;
    sp.args[2] = -1;
    for (int i = 0; i < 3; i++) sp.consts[i] = v_none();
    if (sp.n_args == 2) sp.consts[1] = v_f64(q);
    sp.filter_col = -1;
    sp.frame.start_offset = v_none();
    sp.frame.end_offset = v_none();
    return sp;
}

/* A random frame: unit, bounds (offsets up to 6), EXCLUDE; sometimes none. */
static void random_frame(pl_window_spec *sp, bool allow_exclude) {
    uint64_t r = feed_rng();
    if (r % 9 == 0) return; /* the default frame */
    pl_window_frame *f = &sp->frame;
    f->present = true;
    f->unit = (pl_frame_unit)((r >> 4) % 3);
    static const pl_frame_bound_kind starts[] = {PL_BOUND_UNBOUNDED_PRECEDING, PL_BOUND_PRECEDING,
                                                 PL_BOUND_CURRENT_ROW, PL_BOUND_FOLLOWING};
    static const pl_frame_bound_kind ends[] = {PL_BOUND_PRECEDING, PL_BOUND_CURRENT_ROW,
                                               PL_BOUND_FOLLOWING, PL_BOUND_UNBOUNDED_FOLLOWING};
    f->start_kind = starts[(r >> 8) % 4];
    f->end_kind = ends[(r >> 12) % 4];
    f->start_offset = v_int((int64_t)((r >> 16) % 7));
    f->end_offset = v_int((int64_t)((r >> 20) % 7));
    if (f->start_kind != PL_BOUND_PRECEDING && f->start_kind != PL_BOUND_FOLLOWING) f->start_offset = v_none();
    if (f->end_kind != PL_BOUND_PRECEDING && f->end_kind != PL_BOUND_FOLLOWING) f->end_offset = v_none();
    f->exclude = allow_exclude ? (pl_frame_exclude)((r >> 24) % 4) : PL_EXCLUDE_NO_OTHERS;
}

/* Runs the specs in one window sink over b; returns the result columns' batch. */
static pl_batch *run_sink(pl_schema *in, pl_batch *b, int n_specs, pl_window_spec *specs, pl_error *err,
                          pl_status *st_out) {
    pl_field f[N_COLS + 16];
    for (int c = 0; c < N_COLS; c++)
        assert_int_equal(pl_field_init(&f[c], col_names[c], in->fields[c].type, true, NULL), PL_OK);
    for (int k = 0; k < n_specs; k++) {
        pl_type *at[3];
        for (int a = 0; a < specs[k].n_args; a++)
            at[a] = specs[k].args[a] >= 0 ? in->fields[specs[k].args[a]].type : specs[k].consts[a].type;
        pl_type *rt;
        if (pl_window_bind(specs[k].name, specs[k].n_args, at, &rt, err)) fail_msg("bind %s: %s", specs[k].name, err->msg);
        specs[k].result_type = rt;
        char nm[16];
        snprintf(nm, sizeof nm, "w%d", k);
        assert_int_equal(pl_field_init(&f[N_COLS + k], nm, rt, true, NULL), PL_OK);
    }
    pl_schema *out_s;
    assert_int_equal(pl_schema_new(N_COLS + n_specs, f, &out_s, NULL), PL_OK);
    for (int c = 0; c < N_COLS + n_specs; c++) pl_field_reset(&f[c]);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    if (pl_window_sink_new(&ctx, in, n_specs, specs, out_s, &sink, err)) fail_msg("sink: %s", err->msg);
    pl_table *t = NULL;
    *st_out = feed_sink(sink, b, 300, &t, err);
    sink->free(sink);
    pl_schema_release(out_s);
    for (int k = 0; k < n_specs; k++) {
        pl_type_release(specs[k].result_type);
        specs[k].result_type = NULL;
    }
    if (*st_out) return NULL;
    pl_batch *all;
    assert_int_equal(pl_table_combine(t, &all, NULL), PL_OK);
    pl_table_release(t);
    return all;
}

static double g_tol; /* relative tolerance for doubles */

/* Row r of column a equals row r of column c (same validity; doubles equal up to g_tol or both
 * NaN). */
static bool same_cell(const pl_array *a, const pl_array *c, int64_t r) {
    bool va = pl_array_is_valid(a, r), vc = pl_array_is_valid(c, r);
    if (va != vc) return false;
    if (!va) return true;
    switch (a->type->id) {
    case PL_TYPE_FLOAT64: {
        double x = ((const double *)pl_array_values_ptr(a))[r], y = ((const double *)pl_array_values_ptr(c))[r];
        return x == y || (isnan(x) && isnan(y)) || fabs(x - y) <= g_tol * fmax(fabs(x), fabs(y));
    }
    case PL_TYPE_INT64:
        return ((const int64_t *)pl_array_values_ptr(a))[r] == ((const int64_t *)pl_array_values_ptr(c))[r];
    case PL_TYPE_BOOL:
        return pl_bit_get(a->values->data, a->offset + r) == pl_bit_get(c->values->data, c->offset + r);
    case PL_TYPE_DECIMAL128:
        return !memcmp((const uint8_t *)pl_array_values_ptr(a) + 16 * r,
                       (const uint8_t *)pl_array_values_ptr(c) + 16 * r, 16);
    case PL_TYPE_UTF8: {
        int32_t la, lc;
        const uint8_t *pa = pl_array_bytes(a, r, &la), *pc = pl_array_bytes(c, r, &lc);
        return la == lc && !memcmp(pa, pc, (size_t)la);
    }
    default: fail_msg("unexpected result type %d", (int)a->type->id);
    }
    return false;
}

/* Runs the specs by the reference, then by the indexes (distinct: DISTINCT by the sweep against
 * first rows; float results then agree up to rounding, the summation order differs). */
static void compare_runs(pl_schema *in, pl_batch *b, int n_specs, pl_window_spec *specs, bool distinct) {
    pl_error err;
    pl_status st;
    pl_win_test_brute_force = true;
    pl_batch *ref = run_sink(in, b, n_specs, specs, &err, &st);
    pl_win_test_brute_force = false;
    if (st) fail_msg("reference failed: %s", err.msg);
    pl_win_test_distinct_sweep = distinct;
    pl_batch *fast = run_sink(in, b, n_specs, specs, &err, &st);
    pl_win_test_distinct_sweep = false;
    if (st) fail_msg("indexed evaluation failed: %s", err.msg);
    g_tol = distinct ? 1e-9 : 0;
    assert_int_equal(ref->n_rows, fast->n_rows);
    for (int k = 0; k < n_specs; k++) {
        const pl_array *a = ref->columns[N_COLS + k], *c = fast->columns[N_COLS + k];
        for (int64_t r = 0; r < ref->n_rows; r++)
            if (!same_cell(a, c, r)) {
                const pl_window_frame *f = &specs[k].frame;
                fail_msg("%s(col %d) frame present %d unit %d start %d end %d exclude %d: row %lld differs",
                         specs[k].name, specs[k].args[0], f->present, (int)f->unit, (int)f->start_kind,
                         (int)f->end_kind, (int)f->exclude, (long long)r);
            }
    }
    pl_batch_release(ref);
    pl_batch_release(fast);
}

static const char *const k_qfns[] = {"median", "quantile_cont", "quantile_disc", "arg_min", "arg_max", "mode"};
static const int k_qcols[] = {C_X, C_D, C_I, C_S, C_B};

static void test_quantiles_vs_reference(void **state) {
    (void)state;
    pl_schema *in = make_schema();
    for (int round = 0; round < 24; round++) {
        int64_t n = 200 + (int64_t)(feed_rng() % 1200);
        pl_batch *b = make_input(in, n, 1 + round % 5, 5 + (int)(feed_rng() % 60), 3 + (int)(feed_rng() % 40));
        pl_window_spec specs[12];
        int n_specs = 0;
        for (int k = 0; k < 12; k++) {
            const char *fn = k_qfns[feed_rng() % 6];
            int col = k_qcols[feed_rng() % 5], key = k_qcols[feed_rng() % 5];
            bool cont = !strcmp(fn, "median") || !strcmp(fn, "quantile_cont");
            if (cont && col == C_S) col = C_X; /* no median of strings */
            static const double qs[] = {0, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 0.333};
            pl_window_spec sp = mk(fn, col, qs[feed_rng() % 8], key);
            sp.n_partition = round % 3 ? 1 : 0;
            sp.partition_cols[0] = C_P;
            sp.n_order = (int)(feed_rng() % 4 ? 1 : 0);
            sp.order_cols[0] = C_O;
            sp.order_desc[0] = feed_rng() % 2;
            sp.order_nulls_first[0] = feed_rng() % 2;
            if (sp.n_order) random_frame(&sp, true);
            if (feed_rng() % 5 == 0) sp.filter_col = C_B;
            specs[n_specs++] = sp;
        }
        compare_runs(in, b, n_specs, specs, false);
        pl_batch_release(b);
    }
    pl_schema_release(in);
}

/* DISTINCT count/sum/avg/variances by the sweep against first rows, over frames from the
 * partition's start (the frames where first rows are right). */
static void test_distinct_sweep_vs_first_rows(void **state) {
    (void)state;
    pl_schema *in = make_schema();
    static const char *const fns[] = {"count", "sum", "avg", "var_pop", "stddev_samp"};
    static const int cols[] = {C_X, C_D, C_I, C_S};
    for (int round = 0; round < 16; round++) {
        int64_t n = 200 + (int64_t)(feed_rng() % 1500);
        pl_batch *b = make_input(in, n, 1 + round % 4, 5 + (int)(feed_rng() % 60), 3 + (int)(feed_rng() % 40));
        pl_window_spec specs[12];
        for (int k = 0; k < 12; k++) {
            const char *fn = fns[feed_rng() % 5];
            int col = cols[feed_rng() % 4];
            if (col == C_S) fn = "count";
            pl_window_spec sp = mk(fn, col, 0, -1);
            sp.distinct = true;
            sp.n_partition = round % 3 ? 1 : 0;
            sp.partition_cols[0] = C_P;
            sp.n_order = (int)(feed_rng() % 4 ? 1 : 0);
            sp.order_cols[0] = C_O;
            sp.order_desc[0] = feed_rng() % 2;
            if (sp.n_order) {
                random_frame(&sp, false);
                if (sp.frame.present) {
                    sp.frame.start_kind = PL_BOUND_UNBOUNDED_PRECEDING;
                    sp.frame.start_offset = v_none();
                }
            }
            if (feed_rng() % 5 == 0) sp.filter_col = C_B;
            specs[k] = sp;
        }
        compare_runs(in, b, 12, specs, true);
        pl_batch_release(b);
    }
    pl_schema_release(in);
}

/* The wavelet matrix against sorting each query's values. */
static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_wavelet_matrix(void **state) {
    (void)state;
    for (int round = 0; round < 20; round++) {
        int64_t n = 1 + (int64_t)(feed_rng() % 3000), sigma = 1 + (int64_t)(feed_rng() % 5000);
        if (round == 0) n = 256; /* a full last block */
        int64_t *v = malloc(sizeof(int64_t) * (size_t)n), *tmp = malloc(sizeof(int64_t) * (size_t)n);
        for (int64_t i = 0; i < n; i++) v[i] = (int64_t)(feed_rng() % (uint64_t)sigma);
        pl_win_wm wm;
        assert_int_equal(pl_win_wm_build(v, n, sigma, &wm, NULL), PL_OK);
        for (int q = 0; q < 200; q++) {
            int nr = 1 + (int)(feed_rng() % 3);
            int64_t cut[6];
            for (int k = 0; k < 2 * nr; k++) cut[k] = (int64_t)(feed_rng() % (uint64_t)(n + 1));
            qsort(cut, (size_t)(2 * nr), sizeof(int64_t), cmp_i64);
            int64_t lo[3], hi[3], m = 0;
            for (int k = 0; k < nr; k++) {
                lo[k] = cut[2 * k];
                hi[k] = cut[2 * k + 1];
                for (int64_t i = lo[k]; i < hi[k]; i++) tmp[m++] = v[i];
            }
            qsort(tmp, (size_t)m, sizeof(int64_t), cmp_i64);
            for (int64_t k = 0; k < m; k += 1 + m / 7) assert_int_equal(pl_win_wm_kth(&wm, nr, lo, hi, k), tmp[k]);
        }
        pl_win_wm_reset(&wm);
        free(v);
        free(tmp);
    }
}

/* The indexed quantiles take frames the reference refuses (more than 2^26 frame rows). */
static void test_big_running_median(void **state) {
    (void)state;
    pl_schema *in = make_schema();
    int64_t n = 20000;
    pl_batch *b = make_input(in, n, 1, 1000000, 5000);
    pl_window_spec sp = mk("median", C_X, 0.5, -1);
    sp.n_order = 1;
    sp.order_cols[0] = C_O;
    pl_error err;
    pl_status st;
    pl_win_test_brute_force = true;
    pl_batch *r = run_sink(in, b, 1, &sp, &err, &st);
    pl_win_test_brute_force = false;
    assert_int_equal(st, PL_ERR_LIMIT);
    assert_null(r);
    r = run_sink(in, b, 1, &sp, &err, &st);
    assert_int_equal(st, PL_OK);
    assert_int_equal(r->n_rows, n);
    pl_batch_release(r);
    pl_batch_release(b);
    pl_schema_release(in);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wavelet_matrix),
        cmocka_unit_test(test_quantiles_vs_reference),
        cmocka_unit_test(test_big_running_median),
        cmocka_unit_test(test_distinct_sweep_vs_first_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
