/* test_window.c - the window sink (src/exec/window/) against a plain model: rows kept as C
 * values, partitions sorted by a stable insertion sort, frames found by linear scans, and every
 * function evaluated by looping over its frame. Several specs run in one sink (different
 * windows: results are permuted into the first window's order). A few fixed cases hold values
 * checked with DuckDB. Inputs are fed in random-size morsels from two workers at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_feed.h"

enum { C_ID, C_P, C_O, C_X, C_F, C_S, C_B, C_OF, N_COLS };
static const char *col_names[N_COLS] = {"id", "p", "o", "x", "f", "s", "b", "of"};

typedef struct mrow {
    int64_t id;
    bool valid[N_COLS];
    int64_t p, o, x;
    double f, of;
    bool b;
    char s[24];
} mrow;

static mrow *g_rows;
static int64_t g_n;

static void gen_rows(int64_t n, int64_t n_part, int64_t o_card, int null_pct) {
    g_rows = calloc((size_t)PL_MAX(n, 1), sizeof(mrow));
    g_n = n;
    for (int64_t i = 0; i < n; i++) {
        mrow *r = &g_rows[i];
        r->id = i;
        for (int c = 0; c < N_COLS; c++) r->valid[c] = c == C_ID || (int)(feed_rng() % 100) >= null_pct;
        r->p = (int64_t)(feed_rng() % (uint64_t)n_part);
        r->o = (int64_t)(feed_rng() % (uint64_t)o_card);
        r->x = (int64_t)(feed_rng() % 2001) - 1000;
        r->f = ((double)(int64_t)(feed_rng() % 20001) - 10000) / 16.0;
        r->of = (double)(int64_t)(feed_rng() % (uint64_t)o_card) / 2.0;
        r->b = feed_rng() % 3 != 0;
        snprintf(r->s, sizeof r->s, "str%03d_%s", (int)(feed_rng() % 300), feed_rng() % 2 ? "abcdefghijkl" : "");
    }
}

static pl_type *col_type(int c) {
    switch (c) {
    case C_ID: case C_O: case C_X: return pl_type_simple(PL_TYPE_INT64);
    case C_P: return pl_type_simple(PL_TYPE_INT32);
    case C_F: case C_OF: return pl_type_simple(PL_TYPE_FLOAT64);
    case C_S: return pl_type_simple(PL_TYPE_UTF8);
    case C_B: return pl_type_simple(PL_TYPE_BOOL);
    }
    return NULL;
}

static pl_schema *make_schema(void) { return test_schema_of(N_COLS, col_names, col_type); }

static pl_batch *build_input(pl_schema *s) {
    pl_array *cols[N_COLS];
    for (int c = 0; c < N_COLS; c++) {
        pl_builder *b;
        assert_int_equal(pl_builder_new(s->fields[c].type, g_n, &b, NULL), PL_OK);
        for (int64_t i = 0; i < g_n; i++) {
            mrow *r = &g_rows[i];
            pl_status st;
            if (!r->valid[c]) st = pl_builder_append_null(b, NULL);
            else if (c == C_ID) st = pl_builder_append_i64(b, r->id, NULL);
            else if (c == C_P) st = pl_builder_append_i64(b, r->p, NULL);
            else if (c == C_O) st = pl_builder_append_i64(b, r->o, NULL);
            else if (c == C_X) st = pl_builder_append_i64(b, r->x, NULL);
            else if (c == C_F) st = pl_builder_append_f64(b, r->f, NULL);
            else if (c == C_OF) st = pl_builder_append_f64(b, r->of, NULL);
            else if (c == C_B) st = pl_builder_append_bool(b, r->b, NULL);
            else st = pl_builder_append_bytes(b, r->s, (int64_t)strlen(r->s), NULL);
            assert_int_equal(st, PL_OK);
        }
        assert_int_equal(pl_builder_finish(b, &cols[c], NULL), PL_OK);
        pl_builder_free(b);
    }
    pl_batch *out;
    assert_int_equal(pl_batch_new(pl_schema_retain(s), g_n, cols, &out, NULL), PL_OK);
    return out;
}

/* ---------------------------------------------------------------- spec helpers */

static pl_window_spec mk(const char *name, int n_args, int a0, int a1, int a2) {
    pl_window_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.name = name;
    sp.n_args = n_args;
    sp.args[0] = a0;
    sp.args[1] = a1;
    sp.args[2] = a2;
    for (int i = 0; i < 3; i++) sp.consts[i] = v_none();
    sp.filter_col = -1;
    sp.frame.start_offset = v_none();
    sp.frame.end_offset = v_none();
    return sp;
}

static void win(pl_window_spec *sp, int n_part, const int *part, int n_ord, const int *ord,
                const bool *desc, const bool *nf) {
    sp->n_partition = n_part;
    for (int i = 0; i < n_part; i++) sp->partition_cols[i] = part[i];
    sp->n_order = n_ord;
    for (int i = 0; i < n_ord; i++) {
        sp->order_cols[i] = ord[i];
        sp->order_desc[i] = desc[i];
        sp->order_nulls_first[i] = nf[i];
    }
}

static void frame(pl_window_spec *sp, pl_frame_unit u, pl_frame_bound_kind sk, pl_value so,
                  pl_frame_bound_kind ek, pl_value eo) {
    sp->frame.present = true;
    sp->frame.unit = u;
    sp->frame.start_kind = sk;
    sp->frame.end_kind = ek;
    sp->frame.start_offset = so;
    sp->frame.end_offset = eo;
}

/* ---------------------------------------------------------------- the model */

typedef struct mval {
    bool valid;
    int64_t i;
    double d;
    const char *s;
} mval;

static const pl_window_spec *m_sp;

static int cmp_key(const mrow *a, const mrow *b, int c) {
    switch (c) {
    case C_P: return (a->p > b->p) - (a->p < b->p);
    case C_O: return (a->o > b->o) - (a->o < b->o);
    case C_X: return (a->x > b->x) - (a->x < b->x);
    case C_F: return (a->f > b->f) - (a->f < b->f);
    case C_OF: return (a->of > b->of) - (a->of < b->of);
    case C_B: return (int)a->b - (int)b->b;
    case C_S: { int r = strcmp(a->s, b->s); return (r > 0) - (r < 0); }
    }
    return 0;
}

static int cmp_one(const mrow *a, const mrow *b, int c, bool desc, bool nf) {
    bool va = a->valid[c], vb = b->valid[c];
    if (!va || !vb) {
        if (va == vb) return 0;
        return (!va ? -1 : 1) * (nf ? 1 : -1);
    }
    int r = cmp_key(a, b, c);
    return desc ? -r : r;
}

static int cmp_order(const mrow *a, const mrow *b) {
    for (int k = 0; k < m_sp->n_order; k++) {
        int r = cmp_one(a, b, m_sp->order_cols[k], m_sp->order_desc[k], m_sp->order_nulls_first[k]);
        if (r) return r;
    }
    return 0;
}

static bool same_part(const mrow *a, const mrow *b) {
    for (int k = 0; k < m_sp->n_partition; k++)
        if (cmp_one(a, b, m_sp->partition_cols[k], false, false)) return false;
    return true;
}

/* The current spec's window order over all rows (partition keys, order keys, input order),
 * with each position's partition start and dense rank. */
static int64_t *m_order, *m_pos, *m_pstart, *m_dense;

static int cmp_full(int64_t a, int64_t b) {
    const mrow *x = &g_rows[a], *y = &g_rows[b];
    for (int k = 0; k < m_sp->n_partition; k++) {
        int r = cmp_one(x, y, m_sp->partition_cols[k], false, false);
        if (r) return r;
    }
    int r = cmp_order(x, y);
    return r ? r : (a > b) - (a < b);
}

static void msort(int64_t *idx, int64_t *tmp, int64_t n) {
    if (n < 2) return;
    int64_t h = n / 2;
    msort(idx, tmp, h);
    msort(idx + h, tmp, n - h);
    int64_t i = 0, j = h, o = 0;
    while (i < h && j < n) tmp[o++] = cmp_full(idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
    while (i < h) tmp[o++] = idx[i++];
    while (j < n) tmp[o++] = idx[j++];
    memcpy(idx, tmp, sizeof(int64_t) * (size_t)n);
}

static void model_prepare(const pl_window_spec *sp) {
    m_sp = sp;
    size_t sz = sizeof(int64_t) * (size_t)PL_MAX(g_n, 1);
    free(m_order);
    free(m_pos);
    free(m_pstart);
    free(m_dense);
    m_order = malloc(sz);
    m_pos = malloc(sz);
    m_pstart = malloc(sz);
    m_dense = malloc(sz);
    int64_t *tmp = malloc(sz);
    for (int64_t i = 0; i < g_n; i++) m_order[i] = i;
    msort(m_order, tmp, g_n);
    free(tmp);
    for (int64_t i = 0; i < g_n; i++) {
        m_pos[m_order[i]] = i;
        bool np = i == 0 || !same_part(&g_rows[m_order[i - 1]], &g_rows[m_order[i]]);
        m_pstart[i] = np ? i : m_pstart[i - 1];
        if (np) m_dense[i] = 1;
        else m_dense[i] = m_dense[i - 1] + (cmp_order(&g_rows[m_order[i - 1]], &g_rows[m_order[i]]) != 0);
    }
}

static double ord_val(const mrow *r) {
    int c = m_sp->order_cols[0];
    return c == C_O ? (double)r->o : c == C_OF ? r->of : c == C_X ? (double)r->x : r->f;
}

static int64_t off_of(const pl_value *v) {
    return v->type->id == PL_TYPE_FLOAT64 ? (int64_t)v->v.f : v->v.i;
}
static double doff_of(const pl_value *v) {
    return v->type->id == PL_TYPE_FLOAT64 ? v->v.f : (double)v->v.i;
}

/* Frame [*fs, *fe) of position i of a partition (rows pr[0..m)). */
static void model_frame(const int64_t *pr, int64_t m, int64_t i, int64_t *fs, int64_t *fe) {
    int64_t pb = i, pe = i + 1;
    while (pb > 0 && cmp_order(&g_rows[pr[pb - 1]], &g_rows[pr[i]]) == 0) pb--;
    while (pe < m && cmp_order(&g_rows[pr[pe]], &g_rows[pr[i]]) == 0) pe++;
    const pl_window_frame *f = &m_sp->frame;
    if (!f->present) {
        *fs = 0;
        *fe = m_sp->n_order ? pe : m;
        return;
    }
    int64_t b[2];
    for (int e = 0; e < 2; e++) {
        pl_frame_bound_kind k = e ? f->end_kind : f->start_kind;
        const pl_value *ov = e ? &f->end_offset : &f->start_offset;
        if (k == PL_BOUND_UNBOUNDED_PRECEDING) b[e] = 0;
        else if (k == PL_BOUND_UNBOUNDED_FOLLOWING) b[e] = m;
        else if (k == PL_BOUND_CURRENT_ROW) b[e] = f->unit == PL_FRAME_ROWS ? i + e : (e ? pe : pb);
        else if (f->unit == PL_FRAME_ROWS) {
            int64_t t = k == PL_BOUND_PRECEDING ? i - off_of(ov) : i + off_of(ov);
            t += e;
            b[e] = t < 0 ? 0 : t > m ? m : t;
        } else if (f->unit == PL_FRAME_GROUPS) {
            /* peer groups by a scan: the group of i, then the k-th group before/after it */
            int64_t gi = 0, ng = 1;
            for (int64_t j = 1; j < m; j++) {
                bool nw = cmp_order(&g_rows[pr[j - 1]], &g_rows[pr[j]]) != 0;
                if (nw) ng++;
                if (j <= i && nw) gi++;
            }
            int64_t tg = k == PL_BOUND_PRECEDING ? gi - off_of(ov) : gi + off_of(ov);
            if (tg < 0) {
                b[e] = 0;
            } else if (tg >= ng) {
                b[e] = m;
            } else {
                int64_t g = 0, j = 0;
                while (g < tg) {
                    j++;
                    if (cmp_order(&g_rows[pr[j - 1]], &g_rows[pr[j]]) != 0) g++;
                }
                int64_t je = j + 1;
                while (je < m && cmp_order(&g_rows[pr[je - 1]], &g_rows[pr[je]]) == 0) je++;
                b[e] = e ? je : j;
            }
        } else {
            const mrow *r = &g_rows[pr[i]];
            if (!r->valid[m_sp->order_cols[0]]) {
                b[e] = e ? pe : pb;
                continue;
            }
            double sign = m_sp->order_desc[0] ? -1 : 1;
            double t = sign * ord_val(r) + (k == PL_BOUND_PRECEDING ? -1 : 1) * doff_of(ov);
            /* start: first non-null row with sign*key >= t; end: after the last with <= t */
            if (!e) {
                b[e] = -1;
                for (int64_t j = 0; j < m && b[e] < 0; j++) {
                    const mrow *q = &g_rows[pr[j]];
                    if (q->valid[m_sp->order_cols[0]] && sign * ord_val(q) >= t) b[e] = j;
                }
                if (b[e] < 0) { /* none: after the non-null rows */
                    b[e] = m;
                    for (int64_t j = m - 1; j >= 0 && !g_rows[pr[j]].valid[m_sp->order_cols[0]]; j--) b[e] = j;
                    if (m_sp->order_nulls_first[0]) b[e] = m;
                }
            } else {
                b[e] = -1;
                for (int64_t j = m - 1; j >= 0 && b[e] < 0; j--) {
                    const mrow *q = &g_rows[pr[j]];
                    if (q->valid[m_sp->order_cols[0]] && sign * ord_val(q) <= t) b[e] = j + 1;
                }
                if (b[e] < 0) { /* none: before the non-null rows */
                    b[e] = 0;
                    for (int64_t j = 0; j < m && !g_rows[pr[j]].valid[m_sp->order_cols[0]]; j++) b[e] = j + 1;
                    if (!m_sp->order_nulls_first[0]) b[e] = 0;
                }
            }
        }
    }
    *fs = b[0];
    *fe = b[1] < b[0] ? b[0] : b[1];
}

static bool counts(const mrow *r, int c) {
    if (m_sp->filter_col >= 0 && !(r->valid[C_B] && r->b)) return false;
    return c < 0 || r->valid[c];
}

static mval col_val(const mrow *r, int c) {
    mval v = {r->valid[c], 0, 0, NULL};
    if (c == C_X) v.i = r->x, v.d = (double)r->x;
    else if (c == C_O) v.i = r->o, v.d = (double)r->o;
    else if (c == C_P) v.i = r->p;
    else if (c == C_F) v.d = r->f;
    else if (c == C_OF) v.d = r->of;
    else if (c == C_B) v.i = r->b;
    else if (c == C_S) v.s = r->s;
    else if (c == C_ID) v.i = r->id;
    return v;
}

static mval model_eval(int64_t row) {
    const pl_window_spec *sp = m_sp;
    int64_t pos = m_pos[row], start = m_pstart[pos], m = start;
    while (m < g_n && m_pstart[m] == start) m++;
    m -= start;
    const int64_t *pr = m_order + start;
    int64_t i = pos - start;
    mval out = {false, 0, 0, NULL};
    const char *fn = sp->name;
    int64_t pb = i, pe = i + 1;
    while (pb > 0 && cmp_order(&g_rows[pr[pb - 1]], &g_rows[pr[i]]) == 0) pb--;
    while (pe < m && cmp_order(&g_rows[pr[pe]], &g_rows[pr[i]]) == 0) pe++;
    int x = sp->args[0];
    if (!strcmp(fn, "row_number")) out = (mval){true, i + 1, 0, NULL};
    else if (!strcmp(fn, "rank")) out = (mval){true, pb + 1, 0, NULL};
    else if (!strcmp(fn, "dense_rank")) out = (mval){true, m_dense[pos], 0, NULL}; else if (!strcmp(fn, "percent_rank")) out = (mval){true, 0, m > 1 ? (double)pb / (double)(m - 1) : 0, NULL};
    else if (!strcmp(fn, "cume_dist")) out = (mval){true, 0, (double)pe / (double)m, NULL};
    else if (!strcmp(fn, "ntile")) {
        int64_t k = sp->consts[0].v.i;
        /* buckets as even as possible, the first (m % k) one larger */
        int64_t kk = k > m ? m : k, size = m / kk, big = m % kk, j = 0, bucket = 1;
        for (int64_t q = 0; q < i; q++) {
            j++;
            if (j == size + (bucket <= big ? 1 : 0)) {
                bucket++;
                j = 0;
            }
        }
        out = (mval){true, bucket, 0, NULL};
    } else if (!strcmp(fn, "lag") || !strcmp(fn, "lead")) {
        int64_t k = sp->n_args >= 2 ? sp->consts[1].v.i : 1;
        int64_t dir = !strcmp(fn, "lag") ? -1 : 1;
        int64_t j = i, found = -1;
        if (k == 0) found = i;
        else if (!sp->ignore_nulls) found = i + dir * k >= 0 && i + dir * k < m ? i + dir * k : -1;
        else {
            int64_t seen = 0;
            for (j = i + dir; j >= 0 && j < m; j += dir)
                if (g_rows[pr[j]].valid[x] && ++seen == k) {
                    found = j;
                    break;
                }
        }
        if (found >= 0) out = col_val(&g_rows[pr[found]], x);
        else if (sp->n_args == 3 && sp->args[2] >= 0) out = col_val(&g_rows[row], sp->args[2]);
        else if (sp->n_args == 3 && sp->consts[2].type) out = (mval){true, sp->consts[2].v.i, sp->consts[2].v.f, NULL};
    } else {
        int64_t fs, fe;
        model_frame(pr, m, i, &fs, &fe);
        /* EXCLUDE: rows of [fs, fe) skipped by a test per row */
        pl_frame_exclude ex = sp->frame.present ? sp->frame.exclude : PL_EXCLUDE_NO_OTHERS;
#define EXCLUDED(j)                                                                                \
    (ex == PL_EXCLUDE_CURRENT_ROW ? (j) == i                                                       \
     : ex == PL_EXCLUDE_GROUP     ? ((j) >= pb && (j) < pe)                                       \
     : ex == PL_EXCLUDE_TIES      ? ((j) >= pb && (j) < pe && (j) != i)                           \
                                  : false)
        if (!strcmp(fn, "first_value") || !strcmp(fn, "last_value") || !strcmp(fn, "nth_value")) {
            int64_t want = !strcmp(fn, "nth_value") ? sp->consts[1].v.i : 1, seen = 0;
            bool last = !strcmp(fn, "last_value");
            for (int64_t q = 0; q < fe - fs; q++) {
                int64_t j = last ? fe - 1 - q : fs + q;
                if (EXCLUDED(j)) continue;
                if (sp->ignore_nulls && !g_rows[pr[j]].valid[x]) continue;
                if (++seen == want) {
                    out = col_val(&g_rows[pr[j]], x);
                    break;
                }
            }
        } else {
            int64_t cnt = 0, tr = 0;
            __int128 si = 0;
            long double sd = 0;
            mval best = {false, 0, 0, NULL};
            bool isf = x >= 0 && (x == C_F || x == C_OF);
            double sum2 = 0, mean = 0;
            for (int64_t j = fs; j < fe; j++) {
                const mrow *q = &g_rows[pr[j]];
                if (EXCLUDED(j)) continue;
                if (!counts(q, sp->n_args ? x : -1)) continue;
                if (!strcmp(fn, "count_if") && !q->b) continue;
                cnt++;
                if (!sp->n_args) continue;
                mval v = col_val(q, x);
                si += v.i;
                sd += isf ? v.d : (double)v.i;
                tr += v.i;
                double dv = isf ? v.d : (double)v.i, delta = dv - mean;
                mean += delta / (double)cnt;
                sum2 += delta * (dv - mean);
                bool better = !best.valid;
                if (!better) {
                    int c = x == C_S ? strcmp(v.s, best.s) : isf ? (v.d > best.d) - (v.d < best.d)
                                                                 : (v.i > best.i) - (v.i < best.i);
                    better = !strcmp(fn, "min") ? c < 0 : c > 0;
                }
                if (better) best = v;
            }
            if (!strcmp(fn, "count") || !strcmp(fn, "count_if")) out = (mval){true, cnt, 0, NULL};
            else if (cnt == 0) out.valid = false;
            else if (!strcmp(fn, "sum")) out = isf ? (mval){true, 0, (double)sd, NULL} : (mval){true, (int64_t)si, 0, NULL};
            else if (!strcmp(fn, "avg")) out = (mval){true, 0, (double)(sd / cnt), NULL};
            else if (!strcmp(fn, "min") || !strcmp(fn, "max")) out = best;
            else if (!strcmp(fn, "bool_and")) out = (mval){true, tr == cnt, 0, NULL};
            else if (!strcmp(fn, "bool_or")) out = (mval){true, tr > 0, 0, NULL};
            else {
                bool samp = strstr(fn, "samp") != NULL;
                if (samp && cnt < 2) out.valid = false;
                else {
                    double var = sum2 / (double)(samp ? cnt - 1 : cnt);
                    out = (mval){true, 0, !strncmp(fn, "stddev", 6) ? sqrt(var) : var, NULL};
                }
            }
        }
    }
    return out;
}

/* ---------------------------------------------------------------- running and checking */

static bool close_enough(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    double d = fabs(a - b), m = fmax(fabs(a), fabs(b));
    return d <= 1e-9 * fmax(1.0, m);
}

static void check_value(pl_array *a, int64_t i, mval e, const char *fn, int64_t id) {
    bool valid = pl_array_is_valid(a, i);
    if (valid != e.valid) fail_msg("%s: row id %lld: valid %d, expected %d", fn, (long long)id, valid, e.valid);
    if (!valid) return;
    switch (a->type->id) {
    case PL_TYPE_INT64: {
        int64_t v = ((const int64_t *)pl_array_values_ptr(a))[i];
        if (v != e.i) fail_msg("%s: row id %lld: %lld, expected %lld", fn, (long long)id, (long long)v, (long long)e.i);
        break;
    }
    case PL_TYPE_INT32: {
        int64_t v = ((const int32_t *)pl_array_values_ptr(a))[i];
        if (v != e.i) fail_msg("%s: row id %lld: %lld, expected %lld", fn, (long long)id, (long long)v, (long long)e.i);
        break;
    }
    case PL_TYPE_FLOAT64: {
        double v = ((const double *)pl_array_values_ptr(a))[i];
        if (!close_enough(v, e.d)) fail_msg("%s: row id %lld: %.17g, expected %.17g", fn, (long long)id, v, e.d);
        break;
    }
    case PL_TYPE_BOOL: {
        bool v = pl_bit_get(a->values->data, a->offset + i);
        if (v != (e.i != 0)) fail_msg("%s: row id %lld: %d, expected %d", fn, (long long)id, v, (int)e.i);
        break;
    }
    case PL_TYPE_UTF8: {
        int32_t len;
        const uint8_t *p = pl_array_bytes(a, i, &len);
        if ((size_t)len != strlen(e.s) || memcmp(p, e.s, (size_t)len))
            fail_msg("%s: row id %lld: \"%.*s\", expected \"%s\"", fn, (long long)id, len, (const char *)p, e.s);
        break;
    }
    default: fail_msg("unexpected result type");
    }
}

/* Runs the specs in one sink over the current rows and checks every result and the order. */
static void run_specs(int n_specs, pl_window_spec *specs, int64_t morsel) {
    pl_schema *in = make_schema();
    pl_batch *b = build_input(in);
    pl_field f[N_COLS + 16];
    for (int c = 0; c < N_COLS; c++) assert_int_equal(pl_field_init(&f[c], col_names[c], in->fields[c].type, true, NULL), PL_OK);
    pl_type *rts[16];
    for (int k = 0; k < n_specs; k++) {
        pl_type *at[3];
        for (int a = 0; a < specs[k].n_args; a++)
            at[a] = specs[k].args[a] >= 0 ? in->fields[specs[k].args[a]].type : specs[k].consts[a].type;
        pl_error err;
        if (pl_window_bind(specs[k].name, specs[k].n_args, at, &rts[k], &err)) fail_msg("bind %s: %s", specs[k].name, err.msg);
        specs[k].result_type = rts[k];
        char nm[16];
        snprintf(nm, sizeof nm, "w%d", k);
        assert_int_equal(pl_field_init(&f[N_COLS + k], nm, rts[k], true, NULL), PL_OK);
    }
    pl_schema *out_s;
    assert_int_equal(pl_schema_new(N_COLS + n_specs, f, &out_s, NULL), PL_OK);
    for (int c = 0; c < N_COLS + n_specs; c++) pl_field_reset(&f[c]);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    pl_error err;
    if (pl_window_sink_new(&ctx, in, n_specs, specs, out_s, &sink, &err)) fail_msg("sink: %s", err.msg);
    pl_table *t = NULL;
    if (feed_sink(sink, b, morsel, &t, &err)) fail_msg("window failed: %s", err.msg);
    sink->free(sink);
    assert_int_equal(t->n_rows, g_n);
    pl_batch *all;
    assert_int_equal(pl_table_combine(t, &all, NULL), PL_OK);
    const int64_t *ids = g_n ? pl_array_values_ptr(all->columns[C_ID]) : NULL;
    bool *seen = calloc((size_t)PL_MAX(g_n, 1), 1);
    model_prepare(&specs[0]);
    for (int64_t i = 0; i < g_n; i++) {
        assert_false(seen[ids[i]]);
        seen[ids[i]] = true;
        /* order: partition keys ascending NULLs last, then the first spec's order keys, ties in
         * input order */
        if (i > 0) {
            const mrow *a = &g_rows[ids[i - 1]], *c = &g_rows[ids[i]];
            int r = 0;
            for (int k = 0; k < m_sp->n_partition && !r; k++) r = cmp_one(a, c, m_sp->partition_cols[k], false, false);
            if (!r) r = cmp_order(a, c);
            if (!r) r = ids[i - 1] < ids[i] ? -1 : 1;
            if (r > 0) fail_msg("output order broken at row %lld", (long long)i);
        }
    }
    free(seen);
    for (int k = 0; k < n_specs; k++) {
        model_prepare(&specs[k]);
        pl_array *res = all->columns[N_COLS + k];
        int64_t step = g_n > 5000 ? 7 : 1;
        for (int64_t i = 0; i < g_n; i += step) check_value(res, i, model_eval(ids[i]), specs[k].name, ids[i]);
    }
    pl_batch_release(all);
    pl_table_release(t);
    for (int k = 0; k < n_specs; k++) pl_type_release(rts[k]);
    pl_schema_release(out_s);
    pl_batch_release(b);
    pl_schema_release(in);
}

/* ---------------------------------------------------------------- tests */

static const int P1[1] = {C_P};
static const int O1[1] = {C_O};
static const int OS[2] = {C_O, C_S};
static const bool F1[2] = {false, false}, T1[2] = {true, true}, TF[2] = {true, false};

static void test_ranking(void **state) {
    (void)state;
    gen_rows(3000, 7, 40, 10);
    pl_window_spec s[8];
    s[0] = mk("row_number", 0, -1, -1, -1);
    win(&s[0], 1, P1, 1, O1, F1, F1);
    s[1] = mk("rank", 0, -1, -1, -1);
    win(&s[1], 1, P1, 1, O1, F1, F1);
    s[2] = mk("dense_rank", 0, -1, -1, -1);
    win(&s[2], 1, P1, 1, O1, T1, F1);
    s[3] = mk("percent_rank", 0, -1, -1, -1);
    win(&s[3], 1, P1, 2, OS, TF, TF);
    s[4] = mk("cume_dist", 0, -1, -1, -1);
    win(&s[4], 0, NULL, 1, O1, F1, T1);
    s[5] = mk("ntile", 1, -1, -1, -1);
    s[5].consts[0] = v_int(4);
    win(&s[5], 1, P1, 1, O1, F1, F1);
    s[6] = mk("ntile", 1, -1, -1, -1);
    s[6].consts[0] = v_int(1000);
    win(&s[6], 1, P1, 1, O1, F1, F1);
    s[7] = mk("row_number", 0, -1, -1, -1);
    run_specs(8, s, 500);
    free(g_rows);
}

static void test_navigation(void **state) {
    (void)state;
    gen_rows(2500, 5, 1000, 25);
    pl_window_spec s[10];
    s[0] = mk("lag", 1, C_X, -1, -1);
    win(&s[0], 1, P1, 1, O1, F1, F1);
    s[1] = mk("lead", 2, C_S, -1, -1);
    s[1].consts[1] = v_int(3);
    win(&s[1], 1, P1, 1, O1, F1, F1);
    s[2] = mk("lag", 3, C_X, -1, -1);
    s[2].consts[1] = v_int(2);
    s[2].consts[2] = v_int(-7);
    win(&s[2], 1, P1, 1, O1, T1, F1);
    s[3] = mk("lead", 3, C_X, -1, C_O);
    s[3].consts[1] = v_int(1);
    win(&s[3], 1, P1, 1, O1, F1, F1);
    s[4] = mk("lag", 2, C_X, -1, -1);
    s[4].consts[1] = v_int(2);
    s[4].ignore_nulls = true;
    win(&s[4], 1, P1, 1, O1, F1, F1);
    s[5] = mk("lead", 1, C_F, -1, -1);
    s[5].ignore_nulls = true;
    win(&s[5], 1, P1, 1, O1, F1, F1);
    s[6] = mk("first_value", 1, C_X, -1, -1);
    win(&s[6], 1, P1, 1, O1, F1, F1);
    s[7] = mk("last_value", 1, C_S, -1, -1);
    s[7].ignore_nulls = true;
    win(&s[7], 1, P1, 1, O1, F1, F1);
    frame(&s[7], PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_FOLLOWING, v_int(2));
    s[8] = mk("nth_value", 2, C_X, -1, -1);
    s[8].consts[1] = v_int(3);
    win(&s[8], 1, P1, 1, O1, F1, F1);
    s[9] = mk("first_value", 1, C_X, -1, -1);
    s[9].ignore_nulls = true;
    win(&s[9], 1, P1, 1, O1, F1, F1);
    frame(&s[9], PL_FRAME_ROWS, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_UNBOUNDED_FOLLOWING, v_none());
    run_specs(10, s, 300);
    /* nth_value(x, 0) is NULL (DuckDB) */
    s[0] = mk("nth_value", 2, C_X, -1, -1);
    s[0].consts[1] = v_int(0);
    win(&s[0], 1, P1, 1, O1, F1, F1);
    run_specs(1, s, 300);
    free(g_rows);
}

static void add_aggs(pl_window_spec *s, int *n, const pl_window_frame *fr, int n_ord, const int *ord,
                     const bool *desc, const bool *nf) {
    static const char *names[] = {"count", "count", "sum", "sum", "avg", "min", "max", "min",
                                  "var_samp", "stddev_pop", "bool_and", "bool_or", "max", "count_if"};
    static const int args[] = {-1, C_X, C_X, C_F, C_F, C_X, C_F, C_S, C_X, C_F, C_B, C_B, C_S, C_B};
    for (size_t k = 0; k < PL_ARRAY_LEN(names); k++) {
        s[*n] = mk(names[k], args[k] >= 0 ? 1 : 0, args[k], -1, -1);
        win(&s[*n], 1, P1, n_ord, ord, desc, nf);
        if (fr) s[*n].frame = *fr;
        (*n)++;
    }
}

static pl_window_frame mkframe(pl_frame_unit u, pl_frame_bound_kind sk, pl_value so,
                               pl_frame_bound_kind ek, pl_value eo) {
    pl_window_spec sp = mk("x", 0, -1, -1, -1);
    frame(&sp, u, sk, so, ek, eo);
    return sp.frame;
}

static void test_aggregates_frames(void **state) {
    (void)state;
    gen_rows(2000, 4, 60, 15);
    struct { pl_window_frame f; bool present; } frames[] = {
        {{0}, false},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_UNBOUNDED_PRECEDING, v_none(), PL_BOUND_CURRENT_ROW, v_none()), true},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_FOLLOWING, v_int(2)), true},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_FOLLOWING, v_int(1), PL_BOUND_FOLLOWING, v_int(4)), true},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(5), PL_BOUND_PRECEDING, v_int(2)), true},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_UNBOUNDED_FOLLOWING, v_none()), true},
        {mkframe(PL_FRAME_RANGE, PL_BOUND_UNBOUNDED_PRECEDING, v_none(), PL_BOUND_UNBOUNDED_FOLLOWING, v_none()), true},
        {mkframe(PL_FRAME_RANGE, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_CURRENT_ROW, v_none()), true},
        {mkframe(PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_CURRENT_ROW, v_none()), true},
        {mkframe(PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(2), PL_BOUND_FOLLOWING, v_int(5)), true},
        {mkframe(PL_FRAME_RANGE, PL_BOUND_FOLLOWING, v_int(1), PL_BOUND_UNBOUNDED_FOLLOWING, v_none()), true},
        {mkframe(PL_FRAME_ROWS, PL_BOUND_FOLLOWING, v_int(2), PL_BOUND_PRECEDING, v_int(2)), true},
        {mkframe(PL_FRAME_GROUPS, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none()), true},
        {mkframe(PL_FRAME_GROUPS, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_FOLLOWING, v_int(2)), true},
        {mkframe(PL_FRAME_GROUPS, PL_BOUND_FOLLOWING, v_int(1), PL_BOUND_UNBOUNDED_FOLLOWING, v_none()), true},
        {mkframe(PL_FRAME_GROUPS, PL_BOUND_PRECEDING, v_int(4), PL_BOUND_PRECEDING, v_int(2)), true},
        {mkframe(PL_FRAME_GROUPS, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_FOLLOWING, v_int(0)), true},
    };
    for (size_t fi = 0; fi < PL_ARRAY_LEN(frames); fi++) {
        for (int dir = 0; dir < 2; dir++) {
            pl_window_spec s[32];
            int n = 0;
            bool d[1] = {dir == 1}, nf[1] = {dir == 1 ? false : true};
            add_aggs(s, &n, frames[fi].present ? &frames[fi].f : NULL, 1, O1, d, nf);
            run_specs(n, s, 700);
        }
    }
    /* no ORDER BY: the whole partition; FILTER */
    pl_window_spec s[32];
    int n = 0;
    add_aggs(s, &n, NULL, 0, NULL, NULL, NULL);
    s[n] = mk("sum", 1, C_X, -1, -1);
    s[n].filter_col = C_B;
    win(&s[n], 1, P1, 1, O1, F1, F1);
    n++;
    run_specs(n, s, 700);
    free(g_rows);
}

/* Frame EXCLUDE CURRENT ROW / GROUP / TIES over ROWS, RANGE and GROUPS frames (ascending and
 * descending keys, many peers, NULL keys), every aggregate and the navigation functions with and
 * without IGNORE NULLS; an ordering on two keys and no ORDER BY (one peer group). */
static void test_exclude(void **state) {
    (void)state;
    gen_rows(700, 4, 25, 15);
    pl_window_frame frames[] = {
        mkframe(PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_FOLLOWING, v_int(2)),
        mkframe(PL_FRAME_ROWS, PL_BOUND_UNBOUNDED_PRECEDING, v_none(), PL_BOUND_CURRENT_ROW, v_none()),
        mkframe(PL_FRAME_ROWS, PL_BOUND_FOLLOWING, v_int(1), PL_BOUND_FOLLOWING, v_int(3)),
        mkframe(PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(2), PL_BOUND_PRECEDING, v_int(1)),
        mkframe(PL_FRAME_ROWS, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_CURRENT_ROW, v_none()),
        mkframe(PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(2), PL_BOUND_FOLLOWING, v_int(1)),
        mkframe(PL_FRAME_RANGE, PL_BOUND_UNBOUNDED_PRECEDING, v_none(), PL_BOUND_UNBOUNDED_FOLLOWING, v_none()),
        mkframe(PL_FRAME_RANGE, PL_BOUND_FOLLOWING, v_int(1), PL_BOUND_FOLLOWING, v_int(4)),
        mkframe(PL_FRAME_GROUPS, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_FOLLOWING, v_int(1)),
        mkframe(PL_FRAME_GROUPS, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_CURRENT_ROW, v_none()),
        mkframe(PL_FRAME_GROUPS, PL_BOUND_PRECEDING, v_int(3), PL_BOUND_PRECEDING, v_int(1)),
    };
    static const pl_frame_exclude excl[] = {PL_EXCLUDE_CURRENT_ROW, PL_EXCLUDE_GROUP, PL_EXCLUDE_TIES};
    for (size_t fi = 0; fi < PL_ARRAY_LEN(frames); fi++) {
        for (size_t xi = 0; xi < PL_ARRAY_LEN(excl); xi++) {
            pl_window_frame fr = frames[fi];
            fr.exclude = excl[xi];
            bool dir = (fi + xi) % 2 == 1;
            bool d[1] = {dir}, nf[1] = {!dir};
            pl_window_spec s[32];
            int n = 0;
            add_aggs(s, &n, &fr, 1, O1, d, nf);
            run_specs(n, s, 500); /* at most 16 specs per run */
            n = 0;
            static const char *nav[] = {"first_value", "last_value", "nth_value", "first_value",
                                        "last_value", "nth_value"};
            for (int k = 0; k < 6; k++) {
                s[n] = mk(nav[k], !strcmp(nav[k], "nth_value") ? 2 : 1, k % 3 == 1 ? C_S : C_X, -1, -1);
                if (!strcmp(nav[k], "nth_value")) s[n].consts[1] = v_int(k < 3 ? 2 : 3);
                s[n].ignore_nulls = k >= 3;
                win(&s[n], 1, P1, 1, O1, d, nf);
                s[n].frame = fr;
                n++;
            }
            run_specs(n, s, 500);
        }
    }
    /* two order keys (fewer peers) and no ORDER BY (the partition is one peer group) */
    pl_window_frame fr = mkframe(PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(4), PL_BOUND_FOLLOWING, v_int(4));
    for (size_t xi = 0; xi < PL_ARRAY_LEN(excl); xi++) {
        fr.exclude = excl[xi];
        pl_window_spec s[32];
        int n = 0;
        add_aggs(s, &n, &fr, 2, OS, TF, TF);
        run_specs(n, s, 300);
        n = 0;
        add_aggs(s, &n, &fr, 0, NULL, NULL, NULL);
        run_specs(n, s, 300);
    }
    free(g_rows);
}

static void test_range_float_key(void **state) {
    (void)state;
    gen_rows(1500, 3, 50, 10);
    pl_window_spec s[4];
    static const int OF[1] = {C_OF};
    s[0] = mk("count", 0, -1, -1, -1);
    win(&s[0], 1, P1, 1, OF, F1, F1);
    frame(&s[0], PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_f64(1.5), PL_BOUND_FOLLOWING, v_f64(0.5));
    s[1] = mk("sum", 1, C_X, -1, -1);
    win(&s[1], 1, P1, 1, OF, T1, T1);
    frame(&s[1], PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_f64(2), PL_BOUND_CURRENT_ROW, v_none());
    s[2] = mk("max", 1, C_S, -1, -1);
    win(&s[2], 1, P1, 1, OF, T1, F1);
    frame(&s[2], PL_FRAME_RANGE, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_FOLLOWING, v_f64(3));
    s[3] = mk("last_value", 1, C_X, -1, -1);
    win(&s[3], 1, P1, 1, OF, F1, T1);
    frame(&s[3], PL_FRAME_RANGE, PL_BOUND_UNBOUNDED_PRECEDING, v_none(), PL_BOUND_PRECEDING, v_f64(1));
    run_specs(4, s, 100);
    free(g_rows);
}

static void test_large(void **state) {
    (void)state;
    /* crosses morsel and block boundaries; one large partition and many small ones */
    gen_rows(150000, 2, 100000, 5);
    pl_window_spec s[5];
    s[0] = mk("row_number", 0, -1, -1, -1);
    win(&s[0], 1, P1, 1, O1, F1, F1);
    s[1] = mk("sum", 1, C_X, -1, -1);
    win(&s[1], 1, P1, 1, O1, F1, F1);
    frame(&s[1], PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(10), PL_BOUND_CURRENT_ROW, v_none());
    s[2] = mk("dense_rank", 0, -1, -1, -1);
    win(&s[2], 1, P1, 1, O1, T1, F1);
    s[3] = mk("lag", 1, C_S, -1, -1);
    win(&s[3], 1, P1, 1, O1, F1, F1);
    s[4] = mk("min", 1, C_X, -1, -1);
    win(&s[4], 1, P1, 1, O1, F1, F1);
    frame(&s[4], PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(50), PL_BOUND_FOLLOWING, v_int(50));
    run_specs(5, s, 65536);
    free(g_rows);
}

static void test_empty(void **state) {
    (void)state;
    for (int64_t n = 0; n < 3; n++) {
        gen_rows(n, 2, 3, 0);
        pl_window_spec s[3];
        s[0] = mk("rank", 0, -1, -1, -1);
        win(&s[0], 1, P1, 1, O1, F1, F1);
        s[1] = mk("sum", 1, C_X, -1, -1);
        s[2] = mk("lead", 1, C_S, -1, -1);
        win(&s[2], 0, NULL, 1, O1, F1, F1);
        run_specs(3, s, 1);
        free(g_rows);
    }
}

/* Values checked with DuckDB 2.0:
 *   select i, x, sum(x) over (order by x range between 1 preceding and current row) s,
 *          count(*) over (order by x desc range between 1 preceding and 1 following) c
 *   from (values (1,1),(2,null),(3,2),(4,2),(5,4),(6,null)) t(i,x)
 * gives (i, s, c): (1,1,3) (2,NULL,2) (3,5,3) (4,5,3) (5,4,1) (6,NULL,2). */
static void test_duckdb_range(void **state) {
    (void)state;
    gen_rows(6, 1, 10, 0);
    int64_t xs[6] = {1, 0, 2, 2, 4, 0};
    for (int i = 0; i < 6; i++) {
        g_rows[i].o = xs[i];
        g_rows[i].x = xs[i];
        g_rows[i].valid[C_O] = g_rows[i].valid[C_X] = i != 1 && i != 5;
        g_rows[i].p = 0;
        g_rows[i].valid[C_P] = true;
    }
    pl_window_spec s[2];
    s[0] = mk("sum", 1, C_X, -1, -1);
    win(&s[0], 0, NULL, 1, O1, F1, F1);
    frame(&s[0], PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none());
    s[1] = mk("count", 0, -1, -1, -1);
    win(&s[1], 0, NULL, 1, O1, T1, T1);
    frame(&s[1], PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_FOLLOWING, v_int(1));
    /* the model agrees with DuckDB here (checked above); run_specs checks the sink against it */
    run_specs(2, s, 2);
    model_prepare(&s[0]);
    int64_t want_s[6] = {1, -1, 5, 5, 4, -1};
    for (int i = 0; i < 6; i++) {
        mval v = model_eval(i);
        assert_int_equal(v.valid, want_s[i] >= 0);
        if (v.valid) assert_int_equal(v.i, want_s[i]);
    }
    model_prepare(&s[1]);
    int64_t want_c[6] = {3, 2, 3, 3, 1, 2};
    for (int i = 0; i < 6; i++) assert_int_equal(model_eval(i).i, want_c[i]);
    free(g_rows);
}


/* Timestamps with interval RANGE offsets, decimal sums, a dictionary partition key. Values from
 * DuckDB 2.0:
 *   select sum(d) over (order by t range between interval 2 hours preceding and current row),
 *          count(*) over (partition by k order by t range between current row and
 *                         interval '90 minutes' following),
 *          avg(d) over (partition by k)
 *   from (values (timestamp '2024-01-01 00:00', 1.50::decimal(10,2), 'a'),
 *                ('2024-01-01 01:00', 2.25, 'b'), ('2024-01-01 02:30', -1.00, 'a'),
 *                ('2024-01-01 03:00', null, 'a'), ('2024-01-01 05:00', 4.00, 'b')) v(t,d,k)
 * gives s = 1.50 3.75 1.25 1.25 4.00 (decimal(38,2)), c = 1 1 2 1 1, a = .25 3.125 .25 .25 3.125. */
static void test_temporal_decimal_dict(void **state) {
    (void)state;
    pl_type *tt, *dt, *kt;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &tt, NULL), PL_OK);
    assert_int_equal(pl_type_new_decimal(10, 2, &dt, NULL), PL_OK);
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT8, pl_type_simple(PL_TYPE_UTF8), &kt, NULL), PL_OK);
    int64_t mins[5] = {0, 60, 150, 180, 300}, cents[5] = {150, 225, -100, 0, 400};
    const char *ks[5] = {"a", "b", "a", "a", "b"};
    pl_builder *bt, *bd, *bk;
    assert_int_equal(pl_builder_new(tt, 5, &bt, NULL), PL_OK);
    assert_int_equal(pl_builder_new(dt, 5, &bd, NULL), PL_OK);
    assert_int_equal(pl_builder_new(kt, 5, &bk, NULL), PL_OK);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(pl_builder_append_i64(bt, 1704067200000000LL + mins[i] * 60000000LL, NULL), PL_OK);
        if (i == 3) assert_int_equal(pl_builder_append_null(bd, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_decimal(bd, (uint64_t)cents[i], cents[i] < 0 ? -1 : 0, NULL), PL_OK);
        assert_int_equal(pl_builder_append_bytes(bk, ks[i], 1, NULL), PL_OK);
    }
    pl_array *cols[3];
    assert_int_equal(pl_builder_finish(bt, &cols[0], NULL), PL_OK);
    assert_int_equal(pl_builder_finish(bd, &cols[1], NULL), PL_OK);
    assert_int_equal(pl_builder_finish(bk, &cols[2], NULL), PL_OK);
    pl_builder_free(bt);
    pl_builder_free(bd);
    pl_builder_free(bk);
    pl_window_spec s[4];
    static const int TO[1] = {0}, KP[1] = {2};
    s[0] = mk("sum", 1, 1, -1, -1);
    win(&s[0], 0, NULL, 1, TO, F1, F1);
    pl_value iv = v_none();
    iv.is_null = false;
    iv.type = pl_type_simple(PL_TYPE_INTERVAL);
    iv.v.iv.ns = 2 * 3600 * 1000000000LL;
    frame(&s[0], PL_FRAME_RANGE, PL_BOUND_PRECEDING, iv, PL_BOUND_CURRENT_ROW, v_none());
    s[1] = mk("count", 0, -1, -1, -1);
    win(&s[1], 1, KP, 1, TO, F1, F1);
    iv.v.iv.ns = 90 * 60 * 1000000000LL;
    frame(&s[1], PL_FRAME_RANGE, PL_BOUND_CURRENT_ROW, v_none(), PL_BOUND_FOLLOWING, iv);
    s[2] = mk("avg", 1, 1, -1, -1);
    win(&s[2], 1, KP, 0, NULL, F1, F1);
    s[3] = mk("lag", 1, 2, -1, -1); /* typed by the dictionary's values, as the planner does */
    win(&s[3], 0, NULL, 1, TO, F1, F1);
    pl_field f[7];
    const char *names[7] = {"t", "d", "k", "s", "c", "a", "l"};
    pl_type *types[7] = {tt, dt, kt, NULL, NULL, NULL, NULL};
    for (int k = 0; k < 3; k++) {
        pl_type *at[1] = {s[k].n_args ? types[s[k].args[0]] : NULL};
        assert_int_equal(pl_window_bind(s[k].name, s[k].n_args, at, &types[3 + k], NULL), PL_OK);
        s[k].result_type = types[3 + k];
    }
    types[6] = pl_type_simple(PL_TYPE_UTF8);
    s[3].result_type = types[6];
    assert_int_equal(types[3]->id, PL_TYPE_DECIMAL128);
    assert_int_equal(types[3]->precision, 38);
    assert_int_equal(types[3]->scale, 2);
    for (int c = 0; c < 7; c++) assert_int_equal(pl_field_init(&f[c], names[c], types[c], true, NULL), PL_OK);
    pl_schema *in, *out_s;
    assert_int_equal(pl_schema_new(3, f, &in, NULL), PL_OK);
    assert_int_equal(pl_schema_new(7, f, &out_s, NULL), PL_OK);
    for (int c = 0; c < 7; c++) pl_field_reset(&f[c]);
    pl_batch *b;
    assert_int_equal(pl_batch_new(pl_schema_retain(in), 5, cols, &b, NULL), PL_OK);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    pl_error err;
    if (pl_window_sink_new(&ctx, in, 4, s, out_s, &sink, &err)) fail_msg("%s", err.msg);
    pl_table *t;
    if (feed_sink(sink, b, 2, &t, &err)) fail_msg("%s", err.msg);
    sink->free(sink);
    pl_batch *all;
    assert_int_equal(pl_table_combine(t, &all, NULL), PL_OK);
    int64_t want_s[5] = {150, 375, 125, 125, 400}, want_c[5] = {1, 1, 2, 1, 1};
    double want_a[5] = {0.25, 3.125, 0.25, 0.25, 3.125};
    const int64_t *ts = pl_array_values_ptr(all->columns[0]);
    const uint8_t *sd = pl_array_values_ptr(all->columns[3]);
    const int64_t *cv = pl_array_values_ptr(all->columns[4]);
    const double *av = pl_array_values_ptr(all->columns[5]);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ts[i], 1704067200000000LL + mins[i] * 60000000LL);
        int64_t lo;
        memcpy(&lo, sd + i * 16, 8);
        assert_int_equal(lo, want_s[i]);
        assert_int_equal(cv[i], want_c[i]);
        assert_true(fabs(av[i] - want_a[i]) < 1e-12);
        pl_array *la = all->columns[6];
        assert_int_equal(la->type->id, PL_TYPE_UTF8);
        assert_int_equal(pl_array_is_valid(la, i), i > 0);
        if (i > 0) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(la, i, &len);
            assert_int_equal(len, 1);
            assert_int_equal(p[0], ks[i - 1][0]);
        }
    }
    pl_batch_release(all);
    pl_table_release(t);
    pl_batch_release(b);
    pl_schema_release(in);
    pl_schema_release(out_s);
    for (int c = 0; c < 7; c++) pl_type_release(types[c]);
}

static void test_errors(void **state) {
    (void)state;
    gen_rows(10, 2, 3, 0);
    pl_schema *in = make_schema();
    pl_type *t = NULL;
    pl_error err;
    pl_type *at[1] = {in->fields[C_S].type};
    assert_int_equal(pl_window_bind("sum", 1, at, &t, &err), PL_ERR_TYPE);
    assert_int_equal(pl_window_bind("nosuch", 0, NULL, &t, &err), PL_ERR_TYPE);
    assert_int_equal(pl_window_bind("row_number", 1, at, &t, &err), PL_ERR_TYPE);
    assert_true(pl_window_exists("ROW_NUMBER"));
    assert_true(pl_window_exists("lag"));
    assert_false(pl_window_exists("sum"));
    /* ntile(0) fails when run */
    pl_window_spec s = mk("ntile", 1, -1, -1, -1);
    s.consts[0] = v_int(0);
    assert_int_equal(pl_window_bind("ntile", 1, (pl_type *[]){pl_type_simple(PL_TYPE_INT64)}, &t, &err), PL_OK);
    s.result_type = t;
    pl_field f[N_COLS + 1];
    for (int c = 0; c < N_COLS; c++) assert_int_equal(pl_field_init(&f[c], col_names[c], in->fields[c].type, true, NULL), PL_OK);
    assert_int_equal(pl_field_init(&f[N_COLS], "w", t, true, NULL), PL_OK);
    pl_schema *out_s;
    assert_int_equal(pl_schema_new(N_COLS + 1, f, &out_s, NULL), PL_OK);
    for (int c = 0; c <= N_COLS; c++) pl_field_reset(&f[c]);
    pl_exec_ctx ctx;
    test_ctx_init(&ctx, 2);
    pl_sink *sink;
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_OK);
    pl_batch *b = build_input(in);
    pl_table *tab = NULL;
    assert_int_equal(feed_sink(sink, b, 3, &tab, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "ntile"));
    sink->free(sink);
    /* RANGE offset with two order keys; negative ROWS offset; DISTINCT */
    s = mk("count", 0, -1, -1, -1);
    s.result_type = t;
    win(&s, 0, NULL, 2, OS, F1, F1);
    frame(&s, PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none());
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_INVALID_ARG);
    frame(&s, PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(-1), PL_BOUND_CURRENT_ROW, v_none());
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_INVALID_ARG);
    s = mk("count", 1, C_X, -1, -1); /* DISTINCT: any frame, but no EXCLUDE */
    s.result_type = t;
    s.distinct = true;
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_OK);
    sink->free(sink);
    win(&s, 0, NULL, 1, (const int[]){C_S}, F1, F1);
    frame(&s, PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none());
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_OK);
    sink->free(sink);
    s.frame.exclude = PL_EXCLUDE_CURRENT_ROW;
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "EXCLUDE"));
    s = mk("count", 0, -1, -1, -1);
    s.result_type = t;
    win(&s, 0, NULL, 1, (const int[]){C_S}, F1, F1);
    frame(&s, PL_FRAME_RANGE, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none());
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_TYPE);
    /* EXCLUDE without an explicit frame; an EXCLUDE value out of range */
    s = mk("count", 0, -1, -1, -1);
    s.result_type = t;
    s.frame.exclude = PL_EXCLUDE_GROUP;
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "EXCLUDE"));
    frame(&s, PL_FRAME_ROWS, PL_BOUND_PRECEDING, v_int(1), PL_BOUND_CURRENT_ROW, v_none());
    s.frame.exclude = (pl_frame_exclude)7;
    assert_int_equal(pl_window_sink_new(&ctx, in, 1, &s, out_s, &sink, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "EXCLUDE"));
    pl_type_release(t);
    pl_table_release(tab);
    pl_batch_release(b);
    pl_schema_release(out_s);
    pl_schema_release(in);
    free(g_rows);
}

static int teardown(void **state) {
    (void)state;
    free(m_order);
    free(m_pos);
    free(m_pstart);
    free(m_dense);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking),         cmocka_unit_test(test_navigation),
        cmocka_unit_test(test_aggregates_frames), cmocka_unit_test(test_exclude),
        cmocka_unit_test(test_range_float_key),
        cmocka_unit_test(test_large),           cmocka_unit_test(test_empty),
        cmocka_unit_test(test_duckdb_range),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_temporal_decimal_dict),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
