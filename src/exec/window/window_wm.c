/* window_wm.c - a wavelet matrix over a sequence of small non-negative integers (window.c's
 * holistic aggregates store each counting row's value rank, or the position of the previous row
 * with an equal value): the k-th smallest value and the count of values below a bound over a
 * union of up to three position ranges, in O(log sigma) rank operations each, whatever the
 * ranges (running, sliding or arbitrary frames, EXCLUDE holes).
 *
 * Layout: one bit plane per bit of the values, most significant first. Plane l holds bit l of
 * every value in the order the planes above left them (a stable partition: zeros, then ones);
 * n_zeros[l] counts the zeros of plane l. Each plane is a run of 256-bit blocks with the count
 * of ones before the block, so rank1(i) is one block read plus at most four popcounts. */
#include <string.h>

#include "exec/window/window_int.h"

#define WM_BLOCK_BITS 256

typedef struct wm_block {
    int64_t ones; /* ones before this block */
    uint64_t w[WM_BLOCK_BITS / 64];
} wm_block;

void pl_win_wm_reset(pl_win_wm *wm) {
    if (!wm) return;
    pl_free(wm->planes);
    memset(wm, 0, sizeof *wm);
}

pl_status pl_win_wm_build(const int64_t *v, int64_t n, int64_t sigma, pl_win_wm *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    int levels = 1;
    while (levels < 63 && (INT64_C(1) << levels) < sigma) levels++;
    int64_t n_blocks = n / WM_BLOCK_BITS + 1;
    wm_block *planes = pl_calloc((size_t)(n_blocks * levels), sizeof(wm_block));
    int64_t *cur = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    int64_t *next = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!planes || !cur || !next) {
        pl_free(planes);
        pl_free(cur);
        pl_free(next);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory building a window order-statistic index (%lld rows)",
                (long long)n);
    }
    if (n) memcpy(cur, v, sizeof(int64_t) * (size_t)n);
    for (int l = 0; l < levels; l++) {
        int bit = levels - 1 - l;
        wm_block *pl = planes + (int64_t)l * n_blocks;
        int64_t zeros = 0;
        for (int64_t i = 0; i < n; i++)
            if (!((cur[i] >> bit) & 1)) zeros++;
        int64_t zi = 0, oi = zeros, ones = 0;
        for (int64_t i = 0; i < n; i++) {
            if ((i & (WM_BLOCK_BITS - 1)) == 0) pl[i / WM_BLOCK_BITS].ones = ones;
            if ((cur[i] >> bit) & 1) {
                pl[i / WM_BLOCK_BITS].w[(i & (WM_BLOCK_BITS - 1)) >> 6] |= UINT64_C(1) << (i & 63);
                ones++;
                next[oi++] = cur[i];
            } else {
                next[zi++] = cur[i];
            }
        }
        if ((n & (WM_BLOCK_BITS - 1)) == 0) pl[n / WM_BLOCK_BITS].ones = ones;
        out->n_zeros[l] = zeros;
        int64_t *t = cur;
        cur = next;
        next = t;
    }
    pl_free(cur);
    pl_free(next);
    out->planes = planes;
    out->n = n;
    out->levels = levels;
    out->n_blocks = n_blocks;
    return PL_OK;
}

static inline int64_t rank1(const wm_block *pl, int64_t i) {
    const wm_block *b = &pl[i / WM_BLOCK_BITS];
    int64_t r = b->ones;
    int64_t in = i & (WM_BLOCK_BITS - 1);
    int w = (int)(in >> 6);
    for (int k = 0; k < w; k++) r += __builtin_popcountll(b->w[k]);
    if (in & 63) r += __builtin_popcountll(b->w[w] & ((UINT64_C(1) << (in & 63)) - 1));
    return r;
}

int64_t pl_win_wm_kth(const pl_win_wm *wm, int n_ranges, const int64_t *lo, const int64_t *hi, int64_t k) {
    int64_t a[3], b[3];
    for (int r = 0; r < n_ranges; r++) {
        a[r] = lo[r];
        b[r] = hi[r];
    }
    int64_t v = 0;
    for (int l = 0; l < wm->levels; l++) {
        const wm_block *pl = (const wm_block *)wm->planes + (int64_t)l * wm->n_blocks;
        int64_t oa[3], ob[3], zeros = 0;
        for (int r = 0; r < n_ranges; r++) {
            oa[r] = rank1(pl, a[r]);
            ob[r] = rank1(pl, b[r]);
            zeros += (b[r] - ob[r]) - (a[r] - oa[r]);
        }
        v <<= 1;
        if (k < zeros) {
            for (int r = 0; r < n_ranges; r++) {
                a[r] -= oa[r];
                b[r] -= ob[r];
            }
        } else {
            k -= zeros;
            v |= 1;
            for (int r = 0; r < n_ranges; r++) {
                a[r] = wm->n_zeros[l] + oa[r];
                b[r] = wm->n_zeros[l] + ob[r];
            }
        }
    }
    return v;
}
