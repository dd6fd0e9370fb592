/* dict_local.c - GROUP BY one dictionary key of a small dictionary, streaming aggregates of
 * doubles (the tick queries: per symbol count, avg, sum, min, max).
 *
 * The rows of a morsel are aggregated by dictionary index into per-index statistics (count,
 * sum, min, max of each argument column) that stay in L1: one pass per argument column reads
 * the index and the value once and updates every statistic that column feeds (no group-id
 * array, no pass per aggregate). Then the indices that occurred are probed once in the worker's
 * table (the dictionary values as keys) and their statistics combined into its states
 * (agg_combine, as the merge of finish() does). Dictionaries with repeated values (a join's
 * dictionary over a build column) are fine: two indices of one value find the same group.
 *
 * Taken when: one DICTIONARY key with 32-bit indices and no NULL keys, a dictionary of at most
 * DL_MAX_DICT values and at most 1/DL_ROWS_PER_INDEX of the morsel's rows; every aggregate is
 * count(*), count(x), or sum/avg/min/max of a FLOAT64 column (no FILTER, no DISTINCT).
 * Otherwise the usual path (sink.c) runs. */
#include <math.h>

#include "exec/agg/agg_int.h"

#define DL_MAX_DICT 4096
#define DL_ROWS_PER_INDEX 8
#define DL_MAX_COLS 16

/* Statistics of one argument column per dictionary index (+1 slot that takes NULL values). */
typedef struct dl_stat {
    double s, mn, mx;
    int64_t n;
} dl_stat;

/* The states agg_combine reads (funcs.c: st_count, st_sum_f, st_mm8). */
typedef struct dl_count {
    int64_t n;
} dl_count;
typedef struct dl_sum {
    double s;
    int64_t n;
} dl_sum;
typedef struct dl_mm {
    double v;
    int64_t has;
} dl_mm;

/* Whether aggregate rt can take its input from per-index statistics; *col its value column
 * (-1: count(*)), *minmax whether it needs min/max. */
static bool dl_agg_ok(const agg_rt *rt, const pl_batch *in, int32_t *col, bool *minmax) {
    if (rt->holistic || rt->distinct || rt->filter_col >= 0 || rt->base_op != rt->op) return false;
    *minmax = false;
    switch (rt->op) {
    case AOP_COUNT_STAR:
        if (rt->width != (int32_t)sizeof(dl_count)) return false;
        *col = -1;
        return true;
    case AOP_COUNT:
        if (rt->width != (int32_t)sizeof(dl_count)) return false;
        *col = rt->arg[0];
        if (*col < 0) return true; /* count() without an argument: count(*) */
        /* a dictionary column's NULLs include its NULL dictionary values: the usual path */
        return in->columns[*col]->type->id != PL_TYPE_NA &&
               in->columns[*col]->type->id != PL_TYPE_DICTIONARY;
    case AOP_SUM:
    case AOP_AVG:
        if (rt->width != (int32_t)sizeof(dl_sum) || rt->result_type->id != PL_TYPE_FLOAT64)
            return false;
        break;
    case AOP_MIN:
    case AOP_MAX:
        if (rt->width != (int32_t)sizeof(dl_mm) || rt->vk[0] != VK_F64) return false;
        *minmax = true;
        break;
    default: return false;
    }
    *col = rt->arg[0];
    return *col >= 0 && in->columns[*col]->type->id == PL_TYPE_FLOAT64;
}

/* Row r into S (statistics by index; with VALID, rows whose value is NULL go to slot nslot).
 * min/max: one compare per row on the common path (x inside [mn, mx]); the exact rule (NaN is
 * the largest double) only when it fails. */
#define DL_ROW(S_, r_, VALID, VALUES, MINMAX)                                                      \
    do {                                                                                           \
        uint32_t g_ = idx[r_];                                                                     \
        if (VALID) g_ = pl_bit_get(vb, vo + (r_)) ? g_ : nslot;                                    \
        dl_stat *P_ = &(S_)[g_];                                                                   \
        P_->n++;                                                                                   \
        if (VALUES) {                                                                              \
            double x_ = v[r_];                                                                     \
            P_->s += x_;                                                                           \
            if (MINMAX) {                                                                          \
                if (__builtin_expect(!(x_ >= P_->mn), 0) &&                                        \
                    (x_ < P_->mn || (isnan(P_->mn) && !isnan(x_))))                                \
                    P_->mn = x_;                                                                   \
                if (__builtin_expect(!(x_ <= P_->mx), 0) &&                                        \
                    (x_ > P_->mx || (isnan(x_) && !isnan(P_->mx))))                                \
                    P_->mx = x_;                                                                   \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Even rows into st0, odd rows into st1: a frequent index's updates form two chains of
 * store-to-load dependences instead of one. */
#define DL_PASS(VALID, VALUES, MINMAX)                                                             \
    do {                                                                                           \
        int64_t r = 0;                                                                             \
        for (; r + 2 <= n; r += 2) {                                                               \
            DL_ROW(st0, r, VALID, VALUES, MINMAX);                                                 \
            DL_ROW(st1, r + 1, VALID, VALUES, MINMAX);                                             \
        }                                                                                          \
        if (r < n) DL_ROW(st0, r, VALID, VALUES, MINMAX);                                          \
    } while (0)

/* One pass over the rows: statistics of column a by index into st0 (ns slots; st1 the same
 * size, scratch). a NULL: row counts only. */
static void dl_column(const uint32_t *idx, int64_t n, pl_array *a, bool values, bool minmax,
                      dl_stat *st0, dl_stat *st1, int64_t ns) {
    uint32_t nslot = (uint32_t)(ns - 1);
    bool valid = a && a->validity && pl_array_null_count(a) > 0;
    const uint8_t *vb = valid ? a->validity->data : NULL;
    int64_t vo = a ? a->offset : 0;
    const double *v = values ? (const double *)pl_array_values_ptr(a) : NULL;
    for (int64_t g = 0; g < ns; g++) {
        st1[g].s = 0;
        st1[g].mn = NAN;
        st1[g].mx = -INFINITY;
        st1[g].n = 0;
    }
    if (!values) {
        if (valid) DL_PASS(true, false, false);
        else DL_PASS(false, false, false);
    } else if (valid) {
        if (minmax) DL_PASS(true, true, true);
        else DL_PASS(true, true, false);
    } else {
        if (minmax) DL_PASS(false, true, true);
        else DL_PASS(false, true, false);
    }
    for (int64_t g = 0; g < ns; g++) {
        dl_stat *A = &st0[g];
        const dl_stat *B = &st1[g];
        if (!B->n) continue;
        A->n += B->n;
        A->s += B->s;
        if (B->mn < A->mn || (isnan(A->mn) && !isnan(B->mn))) A->mn = B->mn;
        if (B->mx > A->mx || (isnan(B->mx) && !isnan(A->mx))) A->mx = B->mx;
    }
}

/* Two columns without NULLs in one pass: the index is loaded once and a row's statistics of
 * both sit in one cache line. */
typedef struct dl_pair {
    int64_t n;
    double s0, s1, mn0, mx0, mn1, mx1, pad;
} dl_pair;

#define DL_MM(P_, x_, MN, MX)                                                                      \
    do {                                                                                           \
        if (__builtin_expect(!(x_ >= P_->MN), 0) &&                                                \
            (x_ < P_->MN || (isnan(P_->MN) && !isnan(x_))))                                        \
            P_->MN = x_;                                                                           \
        if (__builtin_expect(!(x_ <= P_->MX), 0) &&                                                \
            (x_ > P_->MX || (isnan(x_) && !isnan(P_->MX))))                                        \
            P_->MX = x_;                                                                           \
    } while (0)

#define DL_PAIR_PASS(MM0, MM1)                                                                     \
    for (int64_t r = 0; r < n; r++) {                                                              \
        dl_pair *P_ = &pp[idx[r]];                                                                 \
        double x0 = a[r], x1 = b[r];                                                               \
        P_->n++;                                                                                   \
        P_->s0 += x0;                                                                              \
        P_->s1 += x1;                                                                              \
        if (MM0) DL_MM(P_, x0, mn0, mx0);                                                          \
        if (MM1) DL_MM(P_, x1, mn1, mx1);                                                          \
    }

/* Statistics of columns a and b (no NULLs) into st0 and st1 (ns slots each; pp scratch). */
static void dl_pair_columns(const uint32_t *idx, int64_t n, const double *a, const double *b,
                            bool mm0, bool mm1, dl_pair *pp, dl_stat *st0, dl_stat *st1,
                            int64_t ns) {
    for (int64_t g = 0; g < ns; g++) {
        pp[g] = (dl_pair){0, 0, 0, NAN, -INFINITY, NAN, -INFINITY, 0};
    }
    if (mm0 && mm1) DL_PAIR_PASS(true, true)
    else if (mm0) DL_PAIR_PASS(true, false)
    else if (mm1) DL_PAIR_PASS(false, true)
    else DL_PAIR_PASS(false, false)
    for (int64_t g = 0; g < ns; g++) {
        st0[g] = (dl_stat){pp[g].s0, pp[g].mn0, pp[g].mx0, pp[g].n};
        st1[g] = (dl_stat){pp[g].s1, pp[g].mn1, pp[g].mx1, pp[g].n};
    }
}

pl_status agg_dict_local(agg_sink *s, int32_t worker, pl_batch *in, bool *done, pl_error *err) {
    *done = false;
    if (s->n_keys != 1 || s->any_holistic || s->n_aggs > 64) return PL_OK;
    pl_array *k = in->columns[s->keys[0]];
    int64_t n = in->n_rows;
    if (k->type->id != PL_TYPE_DICTIONARY || n == 0 || n > INT32_MAX) return PL_OK;
    if (k->type->index_id != PL_TYPE_INT32 && k->type->index_id != PL_TYPE_UINT32) return PL_OK;
    int64_t L = k->dictionary->length;
    if (L < 1 || L > DL_MAX_DICT || L * DL_ROWS_PER_INDEX > n) return PL_OK;
    if (k->validity && pl_array_null_count(k) > 0) return PL_OK;
    if (worker < 0 || worker >= s->n_workers) return PL_OK; /* the usual path reports it */
    /* the argument columns and what each needs */
    int32_t cols[DL_MAX_COLS], n_cols = 0, acol[64];
    bool cmm[DL_MAX_COLS], cval[DL_MAX_COLS];
    for (int32_t i = 0; i < s->n_aggs; i++) {
        int32_t c;
        bool mm;
        if (!dl_agg_ok(&s->aggs[i], in, &c, &mm)) return PL_OK;
        acol[i] = -1;
        if (c < 0) continue;
        int32_t j = 0;
        while (j < n_cols && cols[j] != c) j++;
        if (j == n_cols) {
            if (n_cols == DL_MAX_COLS) return PL_OK;
            cols[n_cols] = c;
            cmm[n_cols] = false;
            cval[n_cols++] = false;
        }
        bool values = s->aggs[i].op != AOP_COUNT;
        cval[j] |= values;
        cmm[j] |= mm;
        acol[i] = j;
    }
    /* every index inside the dictionary */
    const uint32_t *idx = (const uint32_t *)pl_array_values_ptr(k);
    uint32_t hi = 0;
    for (int64_t r = 0; r < n; r++) hi = idx[r] > hi ? idx[r] : hi;
    if (hi >= (uint64_t)L) {
        int64_t at = 0;
        while (at < n && idx[at] < (uint64_t)L) at++;
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index out of range (size %lld) at row %lld",
                (long long)L, (long long)at);
    }
    if (!s->tables[worker]) PL_TRY(agg_table_new(s, &s->tables[worker], err));
    agg_table *t = s->tables[worker];
    if (t->n_sub > 0) return PL_OK;
    /* statistics: per column L + 1 slots (the last takes NULL values), then the row counts */
    int64_t ns = L + 1;
    int32_t n_st = n_cols + 2; /* the columns, the row counts, scratch */
    dl_stat *st = pl_malloc(sizeof *st * (size_t)(ns * n_st));
    int32_t *used = pl_malloc(sizeof *used * (size_t)L);
    uint32_t *gid = pl_malloc(sizeof *gid * (size_t)L);
    uint8_t *src = pl_malloc(16 * (size_t)L);
    dl_pair *pairs = pl_aligned_alloc(sizeof(dl_pair) * (size_t)ns);
    pl_status st_ = PL_OK;
    if (!st || !used || !gid || !src || !pairs) {
        st_ = pl_error_set(err, PL_ERR_NOMEM, "out of memory aggregating a morsel");
        goto out;
    }
    for (int64_t g = 0; g < ns * n_st; g++) {
        st[g].s = 0;
        st[g].mn = NAN;
        st[g].mx = -INFINITY;
        st[g].n = 0;
    }
    /* the row counts: those of a column without NULLs, else a counting pass */
    dl_stat *rows = st + (int64_t)n_cols * ns, *tmp = rows + ns;
    int32_t full = -1, pend = -1; /* pend: a column without NULLs waiting for a partner */
    for (int32_t j = 0; j < n_cols; j++) {
        pl_array *a = in->columns[cols[j]];
        bool nulls = a->validity && pl_array_null_count(a) > 0;
        if (full < 0 && !nulls) full = j;
        if (!nulls && cval[j] && pend < 0) {
            pend = j;
        } else if (!nulls && cval[j]) {
            dl_pair_columns(idx, n, pl_array_values_ptr(in->columns[cols[pend]]),
                            pl_array_values_ptr(a), cmm[pend], cmm[j], pairs,
                            st + (int64_t)pend * ns, st + (int64_t)j * ns, ns);
            pend = -1;
        } else {
            dl_column(idx, n, a, cval[j], cmm[j], st + (int64_t)j * ns, tmp, ns);
        }
    }
    if (pend >= 0)
        dl_column(idx, n, in->columns[cols[pend]], true, cmm[pend], st + (int64_t)pend * ns, tmp,
                  ns);
    if (full >= 0) rows = st + (int64_t)full * ns;
    else dl_column(idx, n, NULL, false, false, rows, tmp, ns);
    int64_t m = 0;
    for (int64_t g = 0; g < L; g++)
        if (rows[g].n) used[m++] = (int32_t)g;
    /* the indices that occurred: their groups, then each aggregate's states combined */
    pl_array *dict = k->dictionary;
    st_ = agg_table_find(t, &dict, m, used, NULL, gid, err);
    for (int32_t i = 0; i < s->n_aggs && !st_; i++) {
        const agg_rt *rt = &s->aggs[i];
        const dl_stat *S = acol[i] < 0 ? rows : st + (int64_t)acol[i] * ns;
        switch (rt->op) {
        case AOP_COUNT_STAR:
        case AOP_COUNT: {
            dl_count *D = (dl_count *)(void *)src;
            for (int64_t u = 0; u < m; u++) D[u].n = S[used[u]].n;
            break;
        }
        case AOP_SUM:
        case AOP_AVG: {
            dl_sum *D = (dl_sum *)(void *)src;
            for (int64_t u = 0; u < m; u++) {
                D[u].s = S[used[u]].s;
                D[u].n = S[used[u]].n;
            }
            break;
        }
        default: {
            dl_mm *D = (dl_mm *)(void *)src;
            bool mx = rt->op == AOP_MAX;
            for (int64_t u = 0; u < m; u++) {
                D[u].v = mx ? S[used[u]].mx : S[used[u]].mn;
                D[u].has = S[used[u]].n > 0;
            }
            break;
        }
        }
        st_ = agg_combine(rt, t->states[i], &t->heaps[i], src, &t->heaps[i], NULL, gid, m, err);
    }
    if (!st_) *done = true;
out:
    pl_free(st);
    pl_free(used);
    pl_free(gid);
    pl_free(src);
    pl_aligned_free(pairs, sizeof *pairs * (size_t)ns);
    return st_;
}
