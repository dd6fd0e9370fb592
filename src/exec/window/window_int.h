/* window_int.h - internals of the window operator shared by window.c (the sink, names, types)
 * and window_eval.c (sorting into partitions, frames, function evaluation). */
#ifndef PL_WINDOW_INT_H
#define PL_WINDOW_INT_H

#include "exec/sort/sort_int.h"

/* Rows sorted by (partition keys, order keys) of one window, with its boundaries. */
typedef struct pl_win_group {
    int64_t n;
    int64_t *ids;      /* sorted position -> input row */
    int64_t n_parts;
    int64_t *pstart;   /* [n_parts + 1]: first position of each partition, then n */
    int64_t *peer_b;   /* [n]: first position of the row's peer group */
    int64_t *peer_e;   /* [n]: one past its last position */
    pl_sortkeys sk;
} pl_win_group;

/* Canonical name of a supported window function or window aggregate (aliases resolved,
 * case-insensitive), or NULL. */
const char *pl_window_canonical(const char *name);
/* Whether a canonical window aggregate is computed frame by frame (window_eval.c
 * eval_frames: string_agg, median, quantiles, arg_min/arg_max, list, mode, product, fsum,
 * skewness, kurtosis, entropy, bit_and/or/xor). */
bool pl_win_is_framewise(const char *canon);
/* Checks arguments, constants and the frame of a (copied) spec. Errors: INVALID_ARG, TYPE,
 * UNSUPPORTED, with the function's name. */
pl_status pl_win_check(const pl_window_spec *sp, const pl_schema *in, pl_error *err);
pl_status pl_win_group_build(const pl_window_spec *sp, pl_array *const *cols, int64_t n,
                             int32_t n_threads, pl_win_group *out, pl_error *err);
void pl_win_group_reset(pl_win_group *g);
/* The spec's result for every sorted position of g (an array of length g->n). */
pl_status pl_win_eval(const pl_window_spec *sp, const pl_win_group *g, pl_array *const *cols,
                      int32_t n_threads, pl_array **out, pl_error *err);

/* Wavelet matrix (window_wm.c) over n values in [0, sigma): order statistics and counts over a
 * union of up to three position ranges in O(log sigma). */
typedef struct pl_win_wm {
    int64_t n, n_blocks;
    int levels;
    int64_t n_zeros[64];
    void *planes;
} pl_win_wm;
/* Builds the index of v[0..n) (every value in [0, sigma)). Errors: NOMEM. */
pl_status pl_win_wm_build(const int64_t *v, int64_t n, int64_t sigma, pl_win_wm *out, pl_error *err);
void pl_win_wm_reset(pl_win_wm *wm);
/* The k-th smallest (0-based; k < the ranges' total length) value in the disjoint ranges
 * [lo[r], hi[r]) of positions, r < n_ranges <= 3. */
int64_t pl_win_wm_kth(const pl_win_wm *wm, int n_ranges, const int64_t *lo, const int64_t *hi, int64_t k);
/* Tests only: when true, holistic window aggregates read every row's frame (the reference
 * evaluation) instead of their indexes. */
extern bool pl_win_test_brute_force;
/* Tests only: when true, DISTINCT window aggregates use their sweep (window_eval.c
 * distinct_sweep) also over frames from the partition's start. */
extern bool pl_win_test_distinct_sweep;

void pl_win_value_reset(pl_value *v);
pl_status pl_win_value_copy(const pl_value *src, pl_value *dst, pl_error *err);

#endif
