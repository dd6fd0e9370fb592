/* window_eval.c - evaluation of one window function over rows sorted into partitions.
 *
 * Positions are indices into the window's sorted order (pl_win_group); partitions and peer
 * groups are contiguous position ranges. Every function works in blocks of positions on the
 * pool. Frames are computed per row as [fs, fe) (ROWS by arithmetic, RANGE by peer bounds or a
 * binary search on the single order key); aggregates never scan a frame: count/sum/avg/bool_*
 * use prefix sums over the partition-ordered values (int128 for integers and decimals, long
 * double for floats), min/max a segment tree over the argument's sort ranks (any orderable
 * type), variance/stddev a segment tree of (n, mean, M2) states. Navigation functions compute
 * source positions and gather once; IGNORE NULLS uses the positions of non-NULL values. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

#include "exec/agg/agg_int.h"
#include "exec/window/window_int.h"

#define BLK 65536

bool pl_win_test_brute_force = false;
bool pl_win_test_distinct_sweep = false;

/* ---------------------------------------------------------------- blocks */

typedef void (*blk_fn)(void *ctx, int64_t lo, int64_t hi);
typedef struct blk_job {
    blk_fn fn;
    void *ctx;
    int64_t n;
} blk_job;

static void blk_task(void *arg, int64_t b, int32_t worker) {
    PL_UNUSED(worker);
    blk_job *j = arg;
    int64_t lo = b * BLK;
    j->fn(j->ctx, lo, PL_MIN(j->n, lo + BLK));
}

static void run_blocks(int64_t n, int32_t n_threads, blk_fn fn, void *ctx) {
    if (n <= 0) return;
    blk_job j = {fn, ctx, n};
    pl_parallel_for((n + BLK - 1) / BLK, PL_MAX(1, n_threads), blk_task, &j);
}

/* Index of the partition holding position pos. */
static int64_t part_of(const pl_win_group *g, int64_t pos) {
    int64_t lo = 0, hi = g->n_parts - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (g->pstart[mid] <= pos) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Loops i over positions [lo, hi) with ps/pe the bounds of i's partition (partitions are
 * never empty, so the next one starts exactly where the last ended). */
#define FOR_POS(g, lo, hi)                                                                         \
    for (int64_t p_ = part_of(g, lo), i = (lo), ps = 0, pe = 0; i < (hi); i++)                    \
        if (p_ += (i >= (g)->pstart[p_ + 1]), ps = (g)->pstart[p_], pe = (g)->pstart[p_ + 1],      \
            false) {                                                                               \
        } else

/* ---------------------------------------------------------------- group: sort + boundaries */

typedef struct flag_job {
    pl_win_group *g;
    int32_t npk, nk;
    uint8_t *fl;
} flag_job;

static void flag_block(void *arg, int64_t lo, int64_t hi) {
    flag_job *j = arg;
    for (int64_t i = lo; i < hi; i++) {
        if (i == 0) {
            j->fl[i] = 3;
            continue;
        }
        bool np = !pl_sortkeys_same(&j->g->sk, 0, j->npk, i - 1, i);
        bool npeer = np || !pl_sortkeys_same(&j->g->sk, j->npk, j->nk, i - 1, i);
        j->fl[i] = (uint8_t)((np ? 1 : 0) | (npeer ? 2 : 0));
    }
}

void pl_win_group_reset(pl_win_group *g) {
    if (!g) return;
    pl_free(g->ids);
    pl_free(g->pstart);
    pl_free(g->peer_b);
    pl_free(g->peer_e);
    pl_sortkeys_reset(&g->sk);
    memset(g, 0, sizeof *g);
}

pl_status pl_win_group_build(const pl_window_spec *sp, pl_array *const *cols, int64_t n,
                             int32_t n_threads, pl_win_group *out, pl_error *err) {
    pl_win_group g;
    memset(&g, 0, sizeof g);
    g.n = n;
    int32_t npk = sp->n_partition, nk = sp->n_partition + sp->n_order;
    pl_array *keys[16];
    bool desc[16], nf[16];
    for (int32_t k = 0; k < npk; k++) {
        keys[k] = cols[sp->partition_cols[k]];
        desc[k] = false;
        nf[k] = false;
    }
    for (int32_t k = 0; k < sp->n_order; k++) {
        keys[npk + k] = cols[sp->order_cols[k]];
        desc[npk + k] = sp->order_desc[k];
        nf[npk + k] = sp->order_nulls_first[k];
    }
    PL_TRY(pl_sortkeys_build(nk, keys, desc, nf, n, n_threads, 0, &g.sk, err));
    uint8_t *fl = pl_malloc((size_t)PL_MAX(n, 1));
    g.ids = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    g.peer_b = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    g.peer_e = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!fl || !g.ids || !g.peer_b || !g.peer_e) {
        pl_free(fl);
        pl_win_group_reset(&g);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window");
    }
    pl_sortkeys_ids(&g.sk, 0, n, g.ids);
    flag_job fj = {&g, npk, nk, fl};
    run_blocks(n, n_threads, flag_block, &fj);
    pl_sortkeys_reset(&g.sk);
    int64_t np = 0;
    for (int64_t i = 0; i < n; i++) np += fl[i] & 1;
    g.n_parts = np;
    g.pstart = pl_malloc(sizeof(int64_t) * (size_t)(np + 1));
    if (!g.pstart) {
        pl_free(fl);
        pl_win_group_reset(&g);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window");
    }
    int64_t o = 0, cur = 0;
    for (int64_t i = 0; i < n; i++) {
        if (fl[i] & 1) g.pstart[o++] = i;
        if (fl[i] & 2) cur = i;
        g.peer_b[i] = cur;
    }
    g.pstart[np] = n;
    cur = n;
    for (int64_t i = n - 1; i >= 0; i--) {
        g.peer_e[i] = cur;
        if (fl[i] & 2) cur = i;
    }
    pl_free(fl);
    *out = g;
    return PL_OK;
}

/* ---------------------------------------------------------------- value helpers */

static bool is_int_type(pl_type_id id) {
    return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64;
}

/* Integer value i of a (any integer width); false when NULL. */
static bool get_int(const pl_array *a, int64_t i, int64_t *v) {
    if (!pl_array_is_valid(a, i)) return false;
    const void *p = pl_array_values_ptr(a);
    switch (a->type->id) {
    case PL_TYPE_INT8: *v = ((const int8_t *)p)[i]; break;
    case PL_TYPE_UINT8: *v = ((const uint8_t *)p)[i]; break;
    case PL_TYPE_INT16: *v = ((const int16_t *)p)[i]; break;
    case PL_TYPE_UINT16: *v = ((const uint16_t *)p)[i]; break;
    case PL_TYPE_INT32: *v = ((const int32_t *)p)[i]; break;
    case PL_TYPE_UINT32: *v = ((const uint32_t *)p)[i]; break;
    case PL_TYPE_UINT64: {
        uint64_t u = ((const uint64_t *)p)[i];
        *v = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
        break;
    }
    default: *v = ((const int64_t *)p)[i]; break;
    }
    return true;
}

static bool const_int(const pl_value *v, int64_t *out) {
    if (!v->type || v->is_null || v->type->id == PL_TYPE_NA) return false;
    if (v->type->id == PL_TYPE_UINT64) *out = v->v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v->v.u;
    else if (v->type->id == PL_TYPE_FLOAT32 || v->type->id == PL_TYPE_FLOAT64) *out = (int64_t)v->v.f;
    else *out = v->v.i;
    return true;
}

static long double pow10l_int(int32_t s) {
    long double r = 1;
    for (int32_t i = 0; i < s; i++) r *= 10;
    return r;
}

static __int128 load_i128(const uint8_t *p) {
    uint64_t lo = pl_load_u64le(p), hi = pl_load_u64le(p + 8);
    return (__int128)(((unsigned __int128)hi << 64) | lo);
}

/* Numeric value of a (order keys of RANGE frames, aggregate arguments) as long double. */
/* Row i of an integer, bool or decimal array (a valid row) as a 128-bit integer. */
static __int128 int_value(const pl_array *x, int64_t i) {
    pl_type_id id = x->type->id;
    if (id == PL_TYPE_DECIMAL128) return load_i128((const uint8_t *)pl_array_values_ptr(x) + i * 16);
    if (id == PL_TYPE_BOOL) return pl_bit_get(x->values->data, x->offset + i);
    if (id == PL_TYPE_UINT64) return ((const uint64_t *)pl_array_values_ptr(x))[i];
    int64_t t = 0;
    get_int(x, i, &t);
    return t;
}

static bool get_ld(const pl_array *a, int64_t i, long double *v) {
    if (!pl_array_is_valid(a, i)) return false;
    const void *p = pl_array_values_ptr(a);
    switch (a->type->id) {
    case PL_TYPE_FLOAT32: *v = ((const float *)p)[i]; return true;
    case PL_TYPE_FLOAT64: *v = ((const double *)p)[i]; return true;
    case PL_TYPE_DATE32: *v = ((const int32_t *)p)[i]; return true;
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: *v = (long double)((const int64_t *)p)[i]; return true;
    case PL_TYPE_DECIMAL128:
        *v = (long double)load_i128((const uint8_t *)p + i * 16) / pow10l_int(a->type->scale);
        return true;
    case PL_TYPE_BOOL: *v = pl_bit_get(a->values->data, a->offset + i); return true;
    default: {
        int64_t x;
        get_int(a, i, &x);
        *v = (long double)x;
        return true;
    }
    }
}

/* A RANGE offset in the order key's units. */
static pl_status range_offset(const pl_value *v, const pl_type *ot, long double *out,
                              pl_error *err) {
    if (!v->type || v->is_null) PL_FAIL(err, PL_ERR_INVALID_ARG, "RANGE frame offset must not be NULL");
    pl_type_id id = v->type->id;
    long double r;
    if (id == PL_TYPE_INTERVAL) {
        if (v->v.iv.months)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "RANGE frame offsets with months are not supported");
        long double ns = (long double)v->v.iv.days * 86400e9L + (long double)v->v.iv.ns;
        if (ot->id == PL_TYPE_DATE32) r = ns / 86400e9L;
        else if (ot->id == PL_TYPE_TIMESTAMP || ot->id == PL_TYPE_TIME64) {
            static const long double per[] = {1e9L, 1e6L, 1e3L, 1};
            r = ns / per[ot->unit];
        } else {
            PL_FAIL(err, PL_ERR_TYPE, "an interval RANGE offset needs a date or time order key");
        }
    } else if (id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64) {
        r = v->v.f;
    } else if (id == PL_TYPE_DECIMAL128) {
        r = (long double)(__int128)(((unsigned __int128)(uint64_t)v->v.dec.hi << 64) | v->v.dec.lo) /
            pow10l_int(v->type->scale);
    } else if (id == PL_TYPE_UINT64) {
        r = (long double)v->v.u;
    } else if (is_int_type(id)) {
        r = (long double)v->v.i;
        if (ot->id == PL_TYPE_TIMESTAMP || ot->id == PL_TYPE_TIME64)
            PL_FAIL(err, PL_ERR_TYPE, "a RANGE offset over a timestamp must be an interval");
    } else {
        PL_FAIL(err, PL_ERR_TYPE, "bad RANGE frame offset type");
    }
    if (r < 0 || r != r) PL_FAIL(err, PL_ERR_INVALID_ARG, "RANGE frame offset must not be negative");
    *out = r;
    return PL_OK;
}

/* ---------------------------------------------------------------- checking a spec */

static bool fn_is(const pl_window_spec *sp, const char *name) { return !strcmp(sp->name, name); }

static bool uses_frame(const pl_window_spec *sp) {
    return !(fn_is(sp, "row_number") || fn_is(sp, "rank") || fn_is(sp, "dense_rank") ||
             fn_is(sp, "percent_rank") || fn_is(sp, "cume_dist") || fn_is(sp, "ntile") ||
             fn_is(sp, "lag") || fn_is(sp, "lead"));
}

pl_status pl_win_check(const pl_window_spec *sp, const pl_schema *in, pl_error *err) {
    const char *fn = sp->name;
    pl_type *at[3] = {NULL, NULL, NULL};
    for (int32_t k = 0; k < sp->n_args; k++)
        at[k] = sp->args[k] >= 0 ? in->fields[sp->args[k]].type : sp->consts[k].type;
    if (sp->n_args > 0 && sp->args[0] < 0 && !fn_is(sp, "ntile"))
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s over a constant argument: the planner must project it",
                fn);
    pl_type *rt = NULL;
    PL_TRY(pl_window_bind(fn, sp->n_args, at, &rt, err));
    pl_type_release(rt);
    if (sp->filter_col >= 0 && in->fields[sp->filter_col].type->id != PL_TYPE_BOOL)
        PL_FAIL(err, PL_ERR_TYPE, "%s: FILTER must be a boolean", fn);
    if ((fn_is(sp, "lag") || fn_is(sp, "lead")) && sp->n_args == 3) {
        pl_type *xt = at[0], *dt = at[2];
        bool ok = !dt || dt->id == PL_TYPE_NA || pl_type_equals(xt, dt);
        pl_type_id xi = xt->id;
        if (!ok && sp->args[2] < 0) {
            /* a constant is cast to the argument's type, like DuckDB (lag(0.5, 1, -1) is -1.0;
             * lag(int_col, 1, 'a') fails to convert 'a', lag(utinyint_col, 1, 300) is out of
             * range) */
            pl_value cv;
            pl_value_init_null(&cv);
            PL_TRY(pl_cast_value(&sp->consts[2], xi == PL_TYPE_DICTIONARY ? xt->value_type : xt, false,
                                 &cv, err));
            pl_value_reset(&cv);
            ok = true;
        }
        /* a column is cast to the argument's type when the window runs, like DuckDB (a value
         * that does not convert is an error then) */
        if (!ok && sp->args[2] >= 0 && xi != PL_TYPE_DICTIONARY && dt->id != PL_TYPE_DICTIONARY)
            ok = true;
        if (!ok) {
            char a[64], b[64];
            PL_FAIL(err, PL_ERR_TYPE, "%s default of type %s does not match the argument type %s",
                    fn, pl_type_to_string(dt, b, sizeof b), pl_type_to_string(xt, a, sizeof a));
        }
    }
    if ((unsigned)sp->frame.exclude > PL_EXCLUDE_TIES)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: bad frame EXCLUDE value %d", fn, (int)sp->frame.exclude);
    if (sp->frame.exclude != PL_EXCLUDE_NO_OTHERS && !sp->frame.present)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: frame EXCLUDE needs an explicit frame", fn);
    if (!uses_frame(sp) || !sp->frame.present) return PL_OK;
    const pl_window_frame *f = &sp->frame;
    if (f->start_kind == PL_BOUND_UNBOUNDED_FOLLOWING || f->end_kind == PL_BOUND_UNBOUNDED_PRECEDING)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: frame cannot start at UNBOUNDED FOLLOWING or end at "
                "UNBOUNDED PRECEDING", fn);
    for (int b = 0; b < 2; b++) {
        pl_frame_bound_kind kind = b ? f->end_kind : f->start_kind;
        const pl_value *off = b ? &f->end_offset : &f->start_offset;
        if (kind != PL_BOUND_PRECEDING && kind != PL_BOUND_FOLLOWING) continue;
        if (f->unit != PL_FRAME_RANGE) {
            const char *u = f->unit == PL_FRAME_ROWS ? "ROWS" : "GROUPS";
            int64_t k;
            if (!off->type || !is_int_type(off->type->id) || !const_int(off, &k))
                PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: %s frame offset must be a non-NULL integer", fn, u);
            if (k < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: %s frame offset must not be negative", fn, u);
        } else {
            if (sp->n_order != 1)
                PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: a RANGE frame with an offset needs exactly one "
                        "ORDER BY key", fn);
            pl_type *ot = in->fields[sp->order_cols[0]].type;
            pl_type_id oid = ot->id;
            if (!(is_int_type(oid) || oid == PL_TYPE_FLOAT32 || oid == PL_TYPE_FLOAT64 ||
                  oid == PL_TYPE_DECIMAL128 || oid == PL_TYPE_DATE32 || oid == PL_TYPE_TIMESTAMP ||
                  oid == PL_TYPE_TIME64)) {
                char tb[64];
                PL_FAIL(err, PL_ERR_TYPE, "%s: RANGE frame offsets need a numeric or temporal ORDER BY "
                        "key, got %s", fn, pl_type_to_string(ot, tb, sizeof tb));
            }
            long double r;
            PL_TRY(range_offset(off, ot, &r, err));
        }
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- evaluation context */

typedef struct wstate {
    double n, mean, m2;
} wstate;

typedef struct ev {
    const pl_window_spec *sp;
    const pl_win_group *g;
    int64_t n;
    int32_t T;
    pl_array *x;       /* argument 0 in sorted order */
    pl_array *a1, *a2; /* arguments 1, 2 in sorted order when columns */
    uint8_t *vm;       /* aggregates: 1 where the row counts (valid, FILTER true) */
    int64_t *fs, *fe;  /* frames */
    pl_frame_exclude excl; /* the frame's EXCLUDE (NO OTHERS without an explicit frame) */
    /* RANGE frames */
    long double *okey; /* order key, negated for DESC */
    int64_t *onull;    /* [n + 1] prefix count of NULL order keys */
    long double roff[2];
    int64_t rows_off[2];
    /* GROUPS frames: each position's peer group number, and every group's bounds */
    int64_t *gnum, *gstart, *gend;
    /* outputs */
    int64_t *oi;
    double *od;
    uint8_t *ovalid; /* bitmap */
    int64_t *src;
    /* prefix sums */
    int64_t *pc, *pt;
    __int128 *pq;
    long double *pf;   /* float sums: [i + 1] = sum from i's partition start through i */
    long double *ftree; /* float sums over frames not starting there: segment tree (2n) */
    /* trees */
    int64_t *tree;
    wstate *wtree;
    int64_t *byrank;
    /* IGNORE NULLS */
    int64_t *cv, *nnpos;
    int kind; /* sum/avg input: 0 int, 1 float, 2 decimal */
    int32_t dec_scale;
    bool is_max;
    atomic_int failed;
    pl_status st;
    pl_error err;
} ev;

static void ev_fail(ev *e, pl_status st, const char *fmt, long long row) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&e->failed, &expect, 1)) {
        pl_error_init(&e->err); /* -1 locations: zeroes printed "column 0, row group 0, ..." */
        pl_error_set(&e->err, st, fmt, row);
        e->st = st;
    }
}

static inline void set_valid(uint8_t *bits, int64_t i, bool v) {
    if (v) pl_bit_set(bits, i);
}

/* The frame of position i as at most three disjoint position ranges [s[k], t[k]) in position
 * order: [fs, fe) minus the EXCLUDE hole (the current row, or its peer group, which for TIES
 * keeps the current row when the frame holds it). Returns how many ranges are non-empty. */
static inline int frame_segs(const ev *e, int64_t i, int64_t *s, int64_t *t) {
    int64_t fs = e->fs[i], fe = e->fe[i];
    if (e->excl == PL_EXCLUDE_NO_OTHERS) {
        s[0] = fs;
        t[0] = fe;
        return fs < fe;
    }
    int64_t hb = i, he = i + 1;
    if (e->excl != PL_EXCLUDE_CURRENT_ROW) {
        hb = e->g->peer_b[i];
        he = e->g->peer_e[i];
    }
    int k = 0;
    int64_t a = fs, b = PL_MIN(fe, hb);
    if (a < b) {
        s[k] = a;
        t[k++] = b;
    }
    if (e->excl == PL_EXCLUDE_TIES && i >= fs && i < fe) {
        s[k] = i;
        t[k++] = i + 1;
    }
    a = PL_MAX(fs, he);
    if (a < fe) {
        s[k] = a;
        t[k++] = fe;
    }
    return k;
}

/* ---------------------------------------------------------------- frames */

static int64_t lower_bound_ld(const long double *k, int64_t lo, int64_t hi, long double t) {
    while (lo < hi) {
        int64_t m = lo + (hi - lo) / 2;
        if (k[m] < t) lo = m + 1;
        else hi = m;
    }
    return lo;
}
static int64_t upper_bound_ld(const long double *k, int64_t lo, int64_t hi, long double t) {
    while (lo < hi) {
        int64_t m = lo + (hi - lo) / 2;
        if (k[m] <= t) lo = m + 1;
        else hi = m;
    }
    return lo;
}

static int64_t frame_bound(ev *e, int b, int64_t i, int64_t ps, int64_t pe) {
    const pl_window_frame *f = &e->sp->frame;
    pl_frame_bound_kind kind = b ? f->end_kind : f->start_kind;
    const pl_win_group *g = e->g;
    switch (kind) {
    case PL_BOUND_UNBOUNDED_PRECEDING: return ps;
    case PL_BOUND_UNBOUNDED_FOLLOWING: return pe;
    case PL_BOUND_CURRENT_ROW:
        if (f->unit == PL_FRAME_ROWS) return b ? i + 1 : i;
        return b ? g->peer_e[i] : g->peer_b[i];
    default: break;
    }
    bool prec = kind == PL_BOUND_PRECEDING;
    if (f->unit == PL_FRAME_GROUPS) {
        int64_t k = e->rows_off[b];
        int64_t cur = e->gnum[i], t;
        if (prec) {
            if (k > cur - e->gnum[ps]) return ps;
            t = cur - k;
        } else {
            if (k > e->gnum[pe - 1] - cur) return pe;
            t = cur + k;
        }
        return b ? e->gend[t] : e->gstart[t];
    }
    if (f->unit == PL_FRAME_ROWS) {
        int64_t k = e->rows_off[b];
        int64_t t; /* the bound row, inclusive */
        if (prec) t = k > i - ps ? ps - 1 : i - k;
        else t = k > pe - 1 - i ? pe : i + k;
        t += b; /* end is exclusive */
        return PL_MAX(ps, PL_MIN(pe, t));
    }
    /* RANGE with a value offset */
    int64_t nulls = e->onull[pe] - e->onull[ps];
    bool nf = e->sp->order_nulls_first[0];
    int64_t nb = nf ? ps + nulls : ps, ne = nf ? pe : pe - nulls;
    /* NaN keys (the largest value, like DuckDB: NaN +- an offset is NaN, so their frame is
     * their peers) sort together at the end of the non-NULL keys, at the start for DESC; the
     * search for other rows' bounds skips them (comparisons with NaN broke the bisection) */
    if (i < nb || i >= ne || isnan(e->okey[i])) return b ? g->peer_e[i] : g->peer_b[i];
    if (e->sp->order_desc[0]) {
        int64_t lo = nb, hi = ne; /* first non-NaN key */
        while (lo < hi) {
            int64_t m = lo + (hi - lo) / 2;
            if (isnan(e->okey[m])) lo = m + 1;
            else hi = m;
        }
        nb = lo;
    } else {
        int64_t lo = nb, hi = ne; /* first NaN key */
        while (lo < hi) {
            int64_t m = lo + (hi - lo) / 2;
            if (!isnan(e->okey[m])) lo = m + 1;
            else hi = m;
        }
        ne = lo;
    }
    long double t = prec ? e->okey[i] - e->roff[b] : e->okey[i] + e->roff[b];
    return b ? upper_bound_ld(e->okey, nb, ne, t) : lower_bound_ld(e->okey, nb, ne, t);
}

static void frames_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    const pl_win_group *g = e->g;
    const pl_window_frame *f = &e->sp->frame;
    if (!f->present) {
        bool ordered = e->sp->n_order > 0;
        FOR_POS(g, lo, hi) {
            e->fs[i] = ps;
            e->fe[i] = ordered ? g->peer_e[i] : pe;
        }
        return;
    }
    FOR_POS(g, lo, hi) {
        int64_t s = frame_bound(e, 0, i, ps, pe), t = frame_bound(e, 1, i, ps, pe);
        e->fs[i] = s;
        e->fe[i] = PL_MAX(s, t);
    }
}

static void okey_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    const pl_array *oc = e->x; /* borrowed slot: the order column, see compute_frames */
    bool desc = e->sp->order_desc[0];
    for (int64_t i = lo; i < hi; i++) {
        long double v = 0;
        if (!get_ld(oc, e->g->ids[i], &v)) v = 0;
        e->okey[i] = desc ? -v : v;
    }
}

static pl_status compute_frames(ev *e, pl_array *const *cols, pl_error *err) {
    int64_t n = e->n;
    e->fs = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    e->fe = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!e->fs || !e->fe) PL_FAIL(err, PL_ERR_NOMEM, "out of memory computing window frames");
    const pl_window_frame *f = &e->sp->frame;
    bool need_range = false;
    if (f->present) {
        for (int b = 0; b < 2; b++) {
            pl_frame_bound_kind kind = b ? f->end_kind : f->start_kind;
            const pl_value *off = b ? &f->end_offset : &f->start_offset;
            if (kind != PL_BOUND_PRECEDING && kind != PL_BOUND_FOLLOWING) continue;
            if (f->unit != PL_FRAME_RANGE) {
                const_int(off, &e->rows_off[b]);
            } else {
                PL_TRY(range_offset(off, cols[e->sp->order_cols[0]]->type, &e->roff[b], err));
                need_range = true;
            }
        }
    }
    if (need_range) {
        pl_array *oc = cols[e->sp->order_cols[0]];
        e->okey = pl_malloc(sizeof(long double) * (size_t)PL_MAX(n, 1));
        e->onull = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
        if (!e->okey || !e->onull) PL_FAIL(err, PL_ERR_NOMEM, "out of memory computing window frames");
        pl_array *save = e->x;
        e->x = oc;
        run_blocks(n, e->T, okey_block, e);
        e->x = save;
        e->onull[0] = 0;
        for (int64_t i = 0; i < n; i++) e->onull[i + 1] = e->onull[i] + !pl_array_is_valid(oc, e->g->ids[i]);
    }
    if (f->present && f->unit == PL_FRAME_GROUPS) {
        /* peer groups numbered in position order (they never span partitions) */
        e->gnum = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        e->gstart = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        e->gend = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        if (!e->gnum || !e->gstart || !e->gend) PL_FAIL(err, PL_ERR_NOMEM, "out of memory computing window frames");
        int64_t c = -1;
        for (int64_t i = 0; i < n; i++) {
            if (c < 0 || e->g->peer_b[i] == i) {
                c++;
                e->gstart[c] = e->g->peer_b[i];
                e->gend[c] = e->g->peer_e[i];
            }
            e->gnum[i] = c;
        }
    }
    run_blocks(n, e->T, frames_block, e);
    return PL_OK;
}

/* ---------------------------------------------------------------- ranking */

static void ranking_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    const pl_win_group *g = e->g;
    const char *fn = e->sp->name;
    int which = !strcmp(fn, "row_number") ? 0 : !strcmp(fn, "rank") ? 1
              : !strcmp(fn, "percent_rank") ? 2 : !strcmp(fn, "cume_dist") ? 3 : 4;
    FOR_POS(g, lo, hi) {
        switch (which) {
        case 0: e->oi[i] = i - ps + 1; break;
        case 1: e->oi[i] = g->peer_b[i] - ps + 1; break;
        case 2: e->od[i] = pe - ps > 1 ? (double)(g->peer_b[i] - ps) / (double)(pe - ps - 1) : 0.0; break;
        case 3: e->od[i] = (double)(g->peer_e[i] - ps) / (double)(pe - ps); break;
        default: {
            int64_t nt;
            bool ok = e->a1 ? get_int(e->a1, i, &nt) : const_int(&e->sp->consts[0], &nt);
            if (!ok) {
                e->oi[i] = 0;
                break;
            }
            if (nt <= 0) {
                ev_fail(e, PL_ERR_INVALID_ARG, "ntile: argument must be greater than zero (row %lld)",
                        (long long)i);
                return;
            }
            set_valid(e->ovalid, i, true);
            int64_t total = pe - ps;
            if (nt > total) nt = total;
            int64_t size = total / nt, large = total - nt * size, small_end = large * (size + 1);
            int64_t r = i - ps;
            e->oi[i] = r < small_end ? 1 + r / (size + 1) : 1 + large + (r - small_end) / size;
        }
        }
    }
}

static void dense_rank_all(ev *e) {
    const pl_win_group *g = e->g;
    int64_t cnt = 0, p = 0;
    for (int64_t i = 0; i < e->n; i++) {
        if (i == g->pstart[p]) {
            cnt = 0;
            p++;
        }
        if (g->peer_b[i] == i) cnt++;
        e->oi[i] = cnt;
    }
}

/* ---------------------------------------------------------------- navigation */

static void cv_prefix(ev *e) {
    e->cv[0] = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < e->n; i++) {
        bool v = pl_array_is_valid(e->x, i);
        if (v) e->nnpos[m++] = i;
        e->cv[i + 1] = m;
    }
}

static void nav_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    const pl_win_group *g = e->g;
    const pl_window_spec *sp = e->sp;
    bool lag = !strcmp(sp->name, "lag"), lead = !strcmp(sp->name, "lead");
    bool first = !strcmp(sp->name, "first_value"), last = !strcmp(sp->name, "last_value");
    bool ign = sp->ignore_nulls;
    bool has_dflt = (lag || lead) && sp->n_args == 3 && (sp->args[2] >= 0 ||
                    (sp->consts[2].type && !sp->consts[2].is_null && sp->consts[2].type->id != PL_TYPE_NA));
    FOR_POS(g, lo, hi) {
        int64_t s = -1;
        if (lag || lead) {
            int64_t k = 1;
            bool ok = true;
            if (sp->n_args >= 2) ok = e->a1 ? get_int(e->a1, i, &k) : const_int(&sp->consts[1], &k);
            if (!ok) {
                e->src[i] = -1;
                continue;
            }
            bool back = lag;
            if (k < 0) {
                back = !back;
                k = k == INT64_MIN ? INT64_MAX : -k;
            }
            if (k == 0) {
                s = i;
            } else if (!ign) {
                if (back) s = k <= i - ps ? i - k : -1;
                else s = k < pe - i ? i + k : -1;
            } else if (back) {
                int64_t c = e->cv[i];
                s = c - e->cv[ps] >= k ? e->nnpos[c - k] : -1;
            } else {
                int64_t c = e->cv[i + 1];
                s = e->cv[pe] - c >= k ? e->nnpos[c + k - 1] : -1;
            }
            /* the default sits after x: at n + i (a column) or n (a constant) */
            if (s < 0 && has_dflt) s = sp->args[2] >= 0 ? e->n + i : e->n;
        } else {
            int64_t ss[3], tt[3];
            int nseg = frame_segs(e, i, ss, tt);
            if (first) {
                for (int q = 0; q < nseg && s < 0; q++) {
                    int64_t fs = ss[q], fe = tt[q];
                    if (!ign) s = fs;
                    else if (e->cv[fs] < e->cv[fe]) s = e->nnpos[e->cv[fs]];
                }
            } else if (last) {
                for (int q = nseg - 1; q >= 0 && s < 0; q--) {
                    int64_t fs = ss[q], fe = tt[q];
                    if (!ign) s = fe - 1;
                    else if (e->cv[fe] > e->cv[fs]) s = e->nnpos[e->cv[fe] - 1];
                }
            } else {
                int64_t k;
                bool ok = e->a1 ? get_int(e->a1, i, &k) : const_int(&sp->consts[1], &k);
                /* DuckDB: NULL for n <= 0 */
                for (int q = 0; ok && k > 0 && q < nseg && s < 0; q++) {
                    int64_t fs = ss[q], fe = tt[q];
                    int64_t have = ign ? e->cv[fe] - e->cv[fs] : fe - fs;
                    if (k > have) {
                        k -= have;
                        continue;
                    }
                    s = ign ? e->nnpos[e->cv[fs] + k - 1] : fs + k - 1;
                }
            }
        }
        e->src[i] = s;
    }
}

/* A one-row array of x's type holding constant v. */
static pl_status const_array(const pl_value *v0, pl_type *t, pl_array **out, pl_error *err) {
    pl_type *bt = t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
    /* a constant of another type is cast to x's (checked by pl_win_check) */
    pl_value cv;
    pl_value_init_null(&cv);
    const pl_value *v = v0;
    pl_type_id v0id = v0->type->id;
    bool direct = pl_type_equals(v0->type, bt) ||
                  ((bt->id == PL_TYPE_FLOAT64 || bt->id == PL_TYPE_FLOAT32) &&
                   (is_int_type(v0id) || v0id == PL_TYPE_FLOAT64 || v0id == PL_TYPE_FLOAT32));
    if (!direct) {
        PL_TRY(pl_cast_value(v0, bt, false, &cv, err));
        v = &cv;
    }
    pl_builder *b;
    pl_status st = pl_builder_new(bt, 1, &b, err);
    if (st) {
        pl_value_reset(&cv);
        return st;
    }
    pl_type_id vid = v->type->id;
    switch (bt->id) {
    case PL_TYPE_BOOL: st = pl_builder_append_bool(b, v->v.b, err); break;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64:
        st = pl_builder_append_f64(b, vid == PL_TYPE_FLOAT64 || vid == PL_TYPE_FLOAT32 ? v->v.f
                                      : vid == PL_TYPE_UINT64 ? (double)v->v.u : (double)v->v.i, err);
        break;
    case PL_TYPE_DECIMAL128: st = pl_builder_append_decimal(b, v->v.dec.lo, v->v.dec.hi, err); break;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: case PL_TYPE_FIXED_BINARY:
        st = pl_builder_append_bytes(b, v->str, v->str_len, err);
        break;
    case PL_TYPE_INTERVAL: case PL_TYPE_LIST: case PL_TYPE_STRUCT: case PL_TYPE_MAP:
        st = pl_error_set(err, PL_ERR_UNSUPPORTED, "lag/lead default of this type is not supported");
        break;
    default: st = pl_builder_append_i64(b, vid == PL_TYPE_UINT64 ? (int64_t)v->v.u : v->v.i, err); break;
    }
    pl_array *a = NULL;
    if (!st) st = pl_builder_finish(b, &a, err);
    pl_builder_free(b);
    pl_value_reset(&cv);
    if (st) return st;
    if (t->id == PL_TYPE_DICTIONARY) {
        /* a dictionary array of one entry */
        pl_buf *idx;
        st = pl_buf_new_zeroed(8, &idx, err);
        if (st) {
            pl_array_release(a);
            return st;
        }
        idx->size = t->byte_width;
        return pl_array_new(pl_type_retain(t), 1, 0, NULL, idx, NULL, 0, NULL, a, out, err);
    }
    *out = a;
    return PL_OK;
}

static pl_status eval_nav(ev *e, pl_array *const *cols, pl_array **out, pl_error *err) {
    const pl_window_spec *sp = e->sp;
    int64_t n = e->n;
    bool lagl = fn_is(sp, "lag") || fn_is(sp, "lead");
    if (!lagl) PL_TRY(compute_frames(e, cols, err));
    if (sp->ignore_nulls) {
        e->cv = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
        e->nnpos = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        if (!e->cv || !e->nnpos) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window");
        cv_prefix(e);
    }
    e->src = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!e->src) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window");
    run_blocks(n, e->T, nav_block, e);
    if (atomic_load(&e->failed)) {
        if (err) *err = e->err;
        return e->st;
    }
    pl_array *base = e->x;
    pl_array *combined = NULL;
    if (lagl && sp->n_args == 3) {
        pl_array *d = NULL;
        if (sp->args[2] >= 0 && pl_type_equals(e->a2->type, base->type)) d = pl_array_retain(e->a2);
        else if (sp->args[2] >= 0) {
            pl_status cst = pl_cast_array(e->a2, base->type, false, &d, err);
            if (cst) {
                pl_error_forget_row(err); /* rows of a partition, not of the query */
                return cst;
            }
        }
        else if (sp->consts[2].type && !sp->consts[2].is_null && sp->consts[2].type->id != PL_TYPE_NA)
            PL_TRY(const_array(&sp->consts[2], base->type, &d, err));
        if (d) {
            pl_array *parts[2] = {base, d};
            pl_status st = pl_array_concat(2, parts, &combined, err);
            pl_array_release(d);
            if (st) return st;
            base = combined;
        }
    }
    pl_status st = pl_array_take(base, e->src, n, out, err);
    pl_array_release(combined);
    return st;
}

/* ---------------------------------------------------------------- aggregates */

/* Sum of the float values of positions [s, t) that count (t > s). Differences of running
 * sums would cancel: 1e20 in one partition made every later frame's 1.5 + 0.25 come out 0,
 * and one NaN or infinity made all later frames NaN. So a frame that starts at its partition's
 * start reads the running sum of that partition (summed in order, like DuckDB), and any other
 * frame adds O(log n) nodes of a segment tree of sums; IEEE rules give NaN and infinities. */
static long double fsum(const ev *e, int64_t s, int64_t t) {
    if (!e->ftree) return e->pf[t]; /* s is the partition's start (eval_agg) */
    long double acc = 0, right = 0;
    int64_t l = s + e->n, r = t + e->n;
    while (l < r) {
        if (l & 1) acc += e->ftree[l++];
        if (r & 1) right = e->ftree[--r] + right;
        l >>= 1;
        r >>= 1;
    }
    return acc + right;
}

/* Row i's sum or avg from its frame's count c of counting rows and their sum (ls for float
 * input, qs otherwise; ovf: the sum overflowed). False after an error (ev_fail). */
static bool sum_put(ev *e, int64_t i, bool is_avg, int64_t c, long double ls, __int128 qs, bool ovf) {
    if (c == 0) return true; /* NULL */
    set_valid(e->ovalid, i, true);
    if (e->kind == 1) {
        e->od[i] = (double)(is_avg ? ls / (long double)c : ls);
        return true;
    }
    if (ovf) {
        ev_fail(e, PL_ERR_INVALID_ARG, is_avg ? "overflow in avg over a window frame (row %lld)"
                                              : "overflow in sum over a window frame (row %lld)",
                (long long)i);
        return false;
    }
    if (is_avg) {
        long double v = (long double)qs / (long double)c;
        if (e->kind == 2) v /= pow10l_int(e->dec_scale);
        e->od[i] = (double)v;
    } else if (e->kind == 2) {
        const __int128 dlim = (__int128)10000000000000000000ULL * (__int128)10000000000000000000ULL;
        if (qs >= dlim || qs <= -dlim) {
            ev_fail(e, PL_ERR_INVALID_ARG, "decimal overflow in sum over a window frame (row %lld)",
                    (long long)i);
            return false;
        }
        uint64_t w[2] = {(uint64_t)qs, (uint64_t)((unsigned __int128)qs >> 64)};
        memcpy(e->oi + 2 * i, w, 16);
    } else {
        if (qs > INT64_MAX || qs < INT64_MIN) {
            ev_fail(e, PL_ERR_INVALID_ARG, "integer overflow in sum over a window frame (row %lld)",
                    (long long)i);
            return false;
        }
        e->oi[i] = (int64_t)qs;
    }
    return true;
}

static void agg_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    const char *fn = e->sp->name;
    bool is_count = !strcmp(fn, "count") || !strcmp(fn, "count_if"), is_avg = !strcmp(fn, "avg");
    bool is_band = !strcmp(fn, "bool_and"), is_bor = !strcmp(fn, "bool_or");
    for (int64_t i = lo; i < hi; i++) {
        int64_t ss[3], tt[3];
        int nseg = frame_segs(e, i, ss, tt);
        int64_t c = 0;
        for (int q = 0; q < nseg; q++) c += e->pc ? e->pc[tt[q]] - e->pc[ss[q]] : tt[q] - ss[q];
        if (is_count) {
            e->oi[i] = c;
            continue;
        }
        if (c == 0) continue; /* NULL */
        if (is_band || is_bor) {
            set_valid(e->ovalid, i, true);
            int64_t t = 0;
            for (int q = 0; q < nseg; q++) t += e->pt[tt[q]] - e->pt[ss[q]];
            e->oi[i] = is_band ? t == c : t > 0;
            continue;
        }
        long double ls = 0;
        __int128 qs = 0, d;
        bool ovf = false;
        for (int q = 0; q < nseg; q++) {
            if (e->kind == 1) {
                ls += fsum(e, ss[q], tt[q]);
                continue;
            }
            ovf |= __builtin_sub_overflow(e->pq[tt[q]], e->pq[ss[q]], &d);
            ovf |= __builtin_add_overflow(qs, d, &qs);
        }
        if (!sum_put(e, i, is_avg, c, ls, qs, ovf)) return;
    }
}

static inline wstate wcombine(wstate a, wstate b) {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    wstate r;
    r.n = a.n + b.n;
    double d = b.mean - a.mean;
    r.mean = a.mean + d * b.n / r.n;
    r.m2 = a.m2 + b.m2 + d * d * a.n * b.n / r.n;
    return r;
}

/* acc combined with the (n, mean, M2) state of positions [s, t) from the segment tree
 * e->wtree. */
static wstate wquery(const ev *e, wstate acc, int64_t s, int64_t t) {
    int64_t l = s + e->n, r = t + e->n;
    while (l < r) {
        if (l & 1) acc = wcombine(acc, e->wtree[l++]);
        if (r & 1) acc = wcombine(acc, e->wtree[--r]);
        l >>= 1;
        r >>= 1;
    }
    return acc;
}

/* Row i's var_samp/var_pop (sd: stddev_*) from its frame's state. */
static void var_put(ev *e, int64_t i, bool samp, bool sd, wstate acc) {
    double div = samp ? acc.n - 1 : acc.n;
    if (div <= 0) return;
    double v = acc.m2 / div;
    /* an infinite or NaN value makes the mean non-finite: the variance is NaN, as in the
     * aggregate and DuckDB (merging leaves gave +inf before) */
    if (acc.n == 1) v = 0; /* one value (even inf or NaN): 0, like DuckDB */
    else if (!isfinite(acc.mean)) v = NAN;
    else if (v < 0) v = 0;
    e->od[i] = sd ? sqrt(v) : v;
    set_valid(e->ovalid, i, true);
}

static void tree_block(void *arg, int64_t lo, int64_t hi) {
    ev *e = arg;
    int64_t n = e->n;
    bool var = e->wtree != NULL;
    const char *fn = e->sp->name;
    bool samp = strstr(fn, "samp") != NULL, sd = !strncmp(fn, "stddev", 6);
    for (int64_t i = lo; i < hi; i++) {
        int64_t ss[3], tt[3];
        int nseg = frame_segs(e, i, ss, tt);
        if (var) {
            wstate acc = {0, 0, 0};
            for (int q = 0; q < nseg; q++) acc = wquery(e, acc, ss[q], tt[q]);
            var_put(e, i, samp, sd, acc);
        } else {
            int64_t best = INT64_MAX;
            for (int q = 0; q < nseg; q++) {
                int64_t l = ss[q] + n, r = tt[q] + n;
                while (l < r) {
                    if (l & 1) {
                        int64_t v = e->tree[l++];
                        best = PL_MIN(best, v);
                    }
                    if (r & 1) {
                        int64_t v = e->tree[--r];
                        best = PL_MIN(best, v);
                    }
                    l >>= 1;
                    r >>= 1;
                }
            }
            e->src[i] = best == INT64_MAX ? -1 : e->byrank[e->is_max ? n - 1 - best : best];
        }
    }
}

/* Each frame's row with the smallest key (the largest with e->is_max; desc sorts the key
 * descending), ties to the earliest position (the latest for e->is_max): a segment tree
 * (e->tree, 2n) over the stable sort ranks of key at the counting rows (e->vm), queried by
 * tree_block over every frame's segments. Fills e->src (-1: no counting row). */
static pl_status rank_tree_eval(ev *e, pl_array *key, bool desc, pl_error *err) {
    int64_t n = e->n;
    pl_sortkeys sk;
    bool nf = false;
    PL_TRY(pl_sortkeys_build(1, &key, &desc, &nf, n, e->T, 0, &sk, err));
    e->byrank = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    e->tree = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(2 * n, 2));
    e->src = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    if (!e->byrank || !e->tree || !e->src) {
        pl_sortkeys_reset(&sk);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window %s", e->sp->name);
    }
    pl_sortkeys_ids(&sk, 0, n, e->byrank);
    pl_sortkeys_reset(&sk);
    for (int64_t r = 0; r < n; r++) {
        int64_t pos = e->byrank[r];
        e->tree[n + pos] = e->vm[pos] ? (e->is_max ? n - 1 - r : r) : INT64_MAX;
    }
    for (int64_t i = n - 1; i >= 1; i--) e->tree[i] = PL_MIN(e->tree[2 * i], e->tree[2 * i + 1]);
    run_blocks(n, e->T, tree_block, e);
    return PL_OK;
}

/* DISTINCT: prev[p] = the previous counting row (e->vm) of p's partition with p's value, -1
 * for the first (rows sorted by partition, then the value, stably: a run of equal values lists
 * its rows by position). NULL = NULL and NaN = NaN and -0.0 = 0.0 here, like the sort keys
 * (NULLs never count anyway). Rows that do not count get -1. */
static pl_status distinct_prev(ev *e, int64_t *prev, pl_error *err) {
    int64_t n = e->n;
    const pl_win_group *g = e->g;
    pl_buf *pb = NULL;
    PL_TRY(pl_buf_new(n * 8, &pb, err));
    pb->size = n * 8;
    int64_t *pid = (int64_t *)(void *)pb->data;
    for (int64_t p = 0; p < g->n_parts; p++)
        for (int64_t i = g->pstart[p]; i < g->pstart[p + 1]; i++) pid[i] = p;
    pl_array *pa = NULL;
    PL_TRY(pl_array_new(pl_type_simple(PL_TYPE_INT64), n, 0, NULL, pb, NULL, 0, NULL, NULL, &pa,
                        err));
    pl_array *keys[2] = {pa, e->x};
    bool desc[2] = {false, false}, nf[2] = {false, false};
    pl_sortkeys sk;
    pl_status st = pl_sortkeys_build(2, keys, desc, nf, n, e->T, 0, &sk, err);
    pl_array_release(pa);
    if (st) return st;
    int64_t last = -1;
    for (int64_t r = 0; r < n; r++) {
        if (r == 0 || !pl_sortkeys_same(&sk, 0, 2, r - 1, r)) last = -1;
        int64_t pos = pl_sortkeys_row(&sk, r);
        prev[pos] = -1;
        if (!e->vm[pos]) continue;
        prev[pos] = last;
        last = pos;
    }
    pl_sortkeys_reset(&sk);
    return PL_OK;
}

/* DISTINCT over frames that start at their partition's start: keeps in e->vm only the first
 * counting row of each value in its partition and recounts e->pc; a value in such a frame has
 * its first row there too and counts once. */
static pl_status distinct_firsts(ev *e, pl_error *err) {
    int64_t n = e->n;
    if (n == 0) return PL_OK;
    int64_t *prev = pl_malloc(sizeof(int64_t) * (size_t)n);
    if (!prev) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window %s(DISTINCT ...)", e->sp->name);
    pl_status st = distinct_prev(e, prev, err);
    for (int64_t i = 0; !st && i < n; i++) {
        if (prev[i] >= 0) e->vm[i] = 0;
        e->pc[i + 1] = e->pc[i] + e->vm[i];
    }
    pl_free(prev);
    return st;
}

/* DISTINCT count, sum, avg, var_*, stddev_* over any frame without EXCLUDE: a row p of the frame
 * [s, t) counts when its value's previous row is before s (prev[p] < s). Rows are visited by
 * frame start; row p is activated (its count, value, state set in trees over positions) once
 * the start passes prev[p], and each frame reads its range from the trees: Fenwick trees for the
 * count and integer/decimal sums, segment trees recomputed from their children for float sums
 * (fsum, no cancellation) and variance states. O(n log n), sequential. */
static pl_status distinct_sweep(ev *e, pl_error *err) {
    int64_t n = e->n;
    const char *fn = e->sp->name;
    pl_array *x = e->x;
    pl_type_id xid = x->type->id;
    bool is_count = !strcmp(fn, "count"), is_avg = !strcmp(fn, "avg");
    bool is_var = !strncmp(fn, "var_", 4) || !strncmp(fn, "stddev", 6);
    bool samp = strstr(fn, "samp") != NULL, sd = !strncmp(fn, "stddev", 6);
    e->kind = xid == PL_TYPE_FLOAT32 || xid == PL_TYPE_FLOAT64 ? 1 : xid == PL_TYPE_DECIMAL128 ? 2 : 0;
    e->dec_scale = x->type->scale;
    int64_t *prev = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    int64_t *byfs = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    int64_t *byact = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    int64_t *head = pl_calloc((size_t)(n + 2), sizeof(int64_t));
    int64_t *fc = pl_calloc((size_t)(n + 1), sizeof(int64_t));
    __int128 *fq = NULL;
    if (!is_count && !is_var && e->kind != 1) fq = pl_calloc((size_t)(n + 1), sizeof(__int128));
    if (!is_count && !is_var && e->kind == 1) e->ftree = pl_calloc((size_t)PL_MAX(2 * n, 2), sizeof(long double));
    if (is_var) e->wtree = pl_calloc((size_t)PL_MAX(2 * n, 2), sizeof(wstate));
    pl_status st = PL_OK;
    if (!prev || !byfs || !byact || !head || !fc || (!is_count && !is_var && !fq && !e->ftree) ||
        (is_var && !e->wtree))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window %s(DISTINCT ...)", fn);
    if (!st) st = distinct_prev(e, prev, err);
    if (!st) {
        /* rows by frame start, counting rows by activation point prev + 1 (counting sorts) */
        for (int64_t i = 0; i < n; i++) head[e->fs[i] + 1]++;
        for (int64_t k = 0; k <= n; k++) head[k + 1] += head[k];
        for (int64_t i = 0; i < n; i++) byfs[head[e->fs[i]]++] = i;
        memset(head, 0, sizeof(int64_t) * (size_t)(n + 2));
        int64_t n_act = 0;
        for (int64_t p = 0; p < n; p++)
            if (e->vm[p]) head[prev[p] + 2]++, n_act++;
        for (int64_t k = 0; k <= n; k++) head[k + 1] += head[k];
        for (int64_t p = 0; p < n; p++)
            if (e->vm[p]) byact[head[prev[p] + 1]++] = p;
        int64_t ai = 0;
        for (int64_t k = 0; k < n; k++) {
            int64_t i = byfs[k], s = e->fs[i], t = e->fe[i];
            /* activate rows whose previous equal row is before s (prev + 1 <= s) */
            while (ai < n_act && prev[byact[ai]] + 1 <= s) {
                int64_t p = byact[ai++];
                for (int64_t j = p + 1; j <= n; j += j & -j) fc[j]++;
                long double v = 0;
                if (e->ftree || e->wtree) get_ld(x, p, &v);
                if (fq) {
                    __int128 q = int_value(x, p);
                    for (int64_t j = p + 1; j <= n && !st; j += j & -j)
                        if (__builtin_add_overflow(fq[j], q, &fq[j]))
                            st = pl_error_set(err, PL_ERR_INVALID_ARG, "overflow in %s(DISTINCT ...) "
                                              "over a window: a partial sum passes 128 bits", fn);
                }
                if (e->ftree) {
                    int64_t j = p + n;
                    e->ftree[j] = v;
                    for (j >>= 1; j >= 1; j >>= 1) e->ftree[j] = e->ftree[2 * j] + e->ftree[2 * j + 1];
                }
                if (e->wtree) {
                    int64_t j = p + n;
                    e->wtree[j] = (wstate){1, (double)v, 0};
                    for (j >>= 1; j >= 1; j >>= 1) e->wtree[j] = wcombine(e->wtree[2 * j], e->wtree[2 * j + 1]);
                }
            }
            if (st) break;
            if (s >= t) {
                if (is_count) e->oi[i] = 0;
                continue;
            }
            if (is_var) {
                wstate z = {0, 0, 0};
                var_put(e, i, samp, sd, wquery(e, z, s, t));
                continue;
            }
            int64_t c = 0;
            for (int64_t j = t; j > 0; j -= j & -j) c += fc[j];
            for (int64_t j = s; j > 0; j -= j & -j) c -= fc[j];
            if (is_count) {
                e->oi[i] = c;
                continue;
            }
            long double ls = 0;
            __int128 qs = 0;
            bool ovf = false;
            if (fq) {
                for (int64_t j = t; j > 0; j -= j & -j) ovf |= __builtin_add_overflow(qs, fq[j], &qs);
                for (int64_t j = s; j > 0; j -= j & -j) ovf |= __builtin_sub_overflow(qs, fq[j], &qs);
            } else {
                ls = fsum(e, s, t);
            }
            if (!sum_put(e, i, is_avg, c, ls, qs, ovf)) break;
        }
    }
    pl_free(prev);
    pl_free(byfs);
    pl_free(byact);
    pl_free(head);
    pl_free(fc);
    pl_free(fq);
    return st;
}

static pl_status eval_agg(ev *e, pl_array *const *cols, pl_array **out, pl_error *err) {
    const pl_window_spec *sp = e->sp;
    const char *fn = sp->name;
    int64_t n = e->n;
    PL_TRY(compute_frames(e, cols, err));
    /* which rows count */
    pl_array *filt = NULL;
    if (sp->filter_col >= 0) filt = cols[sp->filter_col];
    bool star = sp->n_args == 0;
    if (filt || !star) {
        e->vm = pl_malloc((size_t)PL_MAX(n, 1));
        e->pc = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
        if (!e->vm || !e->pc) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window aggregate");
        e->pc[0] = 0;
        bool cif = !strcmp(fn, "count_if");
        for (int64_t i = 0; i < n; i++) {
            bool ok = star || pl_array_is_valid(e->x, i);
            if (ok && cif) ok = pl_bit_get(e->x->values->data, e->x->offset + i);
            if (filt) {
                int64_t r = e->g->ids[i];
                ok = ok && pl_array_is_valid(filt, r) && pl_bit_get(filt->values->data, filt->offset + r);
            }
            e->vm[i] = ok;
            e->pc[i + 1] = e->pc[i] + ok;
        }
    }
    /* DISTINCT: min, max and bool_and/or are the same without it; the others count a value
     * once: at its first row for frames from the partition's start, by distinct_sweep for any
     * other frame (no EXCLUDE: spec_copy) */
    bool sweep = false;
    if (sp->distinct && e->vm && strcmp(fn, "min") && strcmp(fn, "max") && strncmp(fn, "bool_", 5)) {
        const pl_window_frame *fr = &sp->frame;
        bool from_start = !fr->present || fr->start_kind == PL_BOUND_UNBOUNDED_PRECEDING;
        if (from_start && !pl_win_test_distinct_sweep) PL_TRY(distinct_firsts(e, err));
        else sweep = true;
    }
    if (!strcmp(fn, "min") || !strcmp(fn, "max")) {
        e->is_max = !strcmp(fn, "max");
        PL_TRY(rank_tree_eval(e, e->x, false, err));
        return pl_array_take(e->x, e->src, n, out, err);
    }
    pl_type *rt = sp->result_type;
    pl_buf *vals = NULL, *valid = NULL;
    int32_t w = rt->id == PL_TYPE_DECIMAL128 ? 16 : rt->id == PL_TYPE_BOOL ? 0 : 8;
    PL_TRY(pl_buf_new_zeroed(w ? PL_MAX(n * w, 8) : (n + 7) / 8 + 1, &vals, err));
    pl_status st = pl_buf_new_zeroed((n + 7) / 8 + 1, &valid, err);
    if (st) {
        pl_buf_release(vals);
        return st;
    }
    vals->size = w ? n * w : (n + 7) / 8;
    valid->size = (n + 7) / 8;
    bool boolres = rt->id == PL_TYPE_BOOL;
    int64_t *tmp_bool = NULL;
    e->ovalid = valid->data;
    if (rt->id == PL_TYPE_FLOAT64) e->od = (double *)(void *)vals->data;
    else if (boolres) {
        tmp_bool = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        e->oi = tmp_bool;
        if (!tmp_bool) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
    } else e->oi = (int64_t *)(void *)vals->data;
    pl_array *x = e->x;
    if (!st && sweep) {
        st = distinct_sweep(e, err);
    } else if (!st && (!strncmp(fn, "var_", 4) || !strncmp(fn, "stddev", 6))) {
        e->wtree = pl_malloc(sizeof(wstate) * (size_t)PL_MAX(2 * n, 2));
        if (!e->wtree) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
        for (int64_t i = 0; !st && i < n; i++) {
            long double v = 0;
            bool ok = e->vm[i] && get_ld(x, i, &v);
            e->wtree[n + i] = ok ? (wstate){1, (double)v, 0} : (wstate){0, 0, 0};
        }
        for (int64_t i = n - 1; !st && i >= 1; i--)
            e->wtree[i] = wcombine(e->wtree[2 * i], e->wtree[2 * i + 1]);
        if (!st) run_blocks(n, e->T, tree_block, e);
    } else if (!st && strcmp(fn, "count") != 0 && strcmp(fn, "count_if") != 0) {
        pl_type_id xid = x->type->id;
        if (!strcmp(fn, "bool_and") || !strcmp(fn, "bool_or")) {
            e->pt = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
            if (!e->pt) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
            if (!st) e->pt[0] = 0;
            for (int64_t i = 0; !st && i < n; i++) {
                bool t = e->vm[i] && pl_bit_get(x->values->data, x->offset + i);
                e->pt[i + 1] = e->pt[i] + t;
            }
        } else if (xid == PL_TYPE_FLOAT32 || xid == PL_TYPE_FLOAT64) {
            e->kind = 1;
            /* frames from the partition's start (the default ones): running sums per
             * partition; any other frame: a segment tree (fsum) */
            const pl_window_frame *fr = &sp->frame;
            bool from_start = (!fr->present || fr->start_kind == PL_BOUND_UNBOUNDED_PRECEDING) &&
                              e->excl == PL_EXCLUDE_NO_OTHERS;
            if (from_start) {
                e->pf = pl_malloc(sizeof(long double) * (size_t)(n + 1));
                if (!e->pf) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
                if (!st) e->pf[0] = 0; /* pf[ps] ends the previous partition: never read for p */
                for (int64_t p = 0; !st && p < e->g->n_parts; p++) {
                    int64_t ps = e->g->pstart[p], pe = e->g->pstart[p + 1];
                    long double run = 0;
                    for (int64_t i = ps; i < pe; i++) {
                        long double v = 0;
                        if (e->vm[i] && get_ld(x, i, &v)) run += v;
                        e->pf[i + 1] = run;
                    }
                }
            } else {
                e->ftree = pl_malloc(sizeof(long double) * (size_t)PL_MAX(2 * n, 2));
                if (!e->ftree) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
                for (int64_t i = 0; !st && i < n; i++) {
                    long double v = 0;
                    if (e->vm[i]) get_ld(x, i, &v);
                    e->ftree[n + i] = v;
                }
                for (int64_t i = n - 1; !st && i >= 1; i--)
                    e->ftree[i] = e->ftree[2 * i] + e->ftree[2 * i + 1];
            }
        } else {
            e->kind = xid == PL_TYPE_DECIMAL128 ? 2 : 0;
            e->dec_scale = x->type->scale;
            e->pq = pl_malloc(sizeof(__int128) * (size_t)(n + 1));
            if (!e->pq) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window aggregate");
            if (!st) {
                e->pq[0] = 0;
                for (int64_t i = 0; i < n; i++) {
                    __int128 v = 0;
                    if (e->vm[i]) v = int_value(x, i);
                    /* frame sums are differences of these running totals (checked there); a
                     * total past 128 bits is an error (a DECIMAL(38) column of huge values
                     * overflowed here: UB, wrapped sums) */
                    if (__builtin_add_overflow(e->pq[i], v, &e->pq[i + 1])) {
                        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                          "decimal overflow in %s over a window: the running total "
                                          "passes 128 bits at row %lld", fn, (long long)i);
                        break;
                    }
                }
            }
        }
        if (!st) run_blocks(n, e->T, agg_block, e);
    } else if (!st) {
        run_blocks(n, e->T, agg_block, e);
    }
    if (!st && atomic_load(&e->failed)) {
        st = e->st;
        if (err) *err = e->err;
    }
    if (!st && boolres)
        for (int64_t i = 0; i < n; i++)
            if (tmp_bool[i]) pl_bit_set(vals->data, i);
    pl_free(tmp_bool);
    e->oi = NULL;
    e->od = NULL;
    e->ovalid = NULL;
    if (st) {
        pl_buf_release(vals);
        pl_buf_release(valid);
        return st;
    }
    if (!strcmp(fn, "count") || !strcmp(fn, "count_if")) {
        pl_buf_release(valid);
        valid = NULL;
    }
    int64_t nulls = valid ? n - pl_bitmap_count(valid->data, 0, n) : 0;
    if (valid && nulls == 0) {
        pl_buf_release(valid);
        valid = NULL;
    }
    return pl_array_new(pl_type_retain(rt), n, nulls, valid, vals, NULL, 0, NULL, NULL, out, err);
}

/* ---------------------------------------------------------------- frame by frame */

/* The aggregates without a prefix-sum form (string_agg, median, quantile_cont/disc,
 * arg_min/arg_max, list, mode, product, fsum, skewness, kurtosis, kurtosis_pop, entropy,
 * bit_and/or/xor). median and the quantiles go through a wavelet matrix (quantile_fast),
 * arg_min/arg_max through a segment tree over the key's ranks (rank_tree_eval), in O(n log n)
 * whatever the frames; mode without EXCLUDE by a moving frame (mode_fast). The others read each row's frame: the positions of its segments
 * (frame_segs) whose rows count (non-NULL argument(s), FILTER true; list keeps NULL elements)
 * are collected and the aggregate computed over them; that is also the reference the indexed
 * paths are tested against (pl_win_test_brute_force). A row whose frame is the previous row's
 * (peers of a RANGE frame, a whole partition) reuses its result. The frames' total size is
 * capped (PL_WIN_FRAME_WORK) so a running frame over a huge partition is an error, not hours. */
#define PL_WIN_FRAME_WORK (INT64_C(1) << 26)

typedef struct fw {
    ev *e;
    const char *fn;
    int64_t *pos; /* scratch: positions of the current frame */
    double *dv;   /* scratch: their values as doubles */
    const pl_array *x, *k;
    double q;
    const uint8_t *sep;
    int32_t sep_len;
} fw;

static int cmp_dbl_nan_last(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
    return (x > y) - (x < y);
}

static _Thread_local const pl_array *g_sort_arr;
static int cmp_pos_value(const void *a, const void *b) {
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    int c = agg_row_cmp(g_sort_arr, i, g_sort_arr, j, false);
    return c ? c : (i > j) - (i < j); /* stable: ties by position */
}

static double pos_double(const pl_array *a, int64_t i) {
    long double v = 0;
    if (a->type->id == PL_TYPE_BOOL) return pl_bit_get(a->values->data, a->offset + i);
    get_ld(a, i, &v);
    return (double)v;
}

/* skewness / kurtosis / kurtosis_pop over doubles (DuckDB's power-sum formulas, as the
 * aggregate's finalize): 1 with *r, 0 NULL, -1 out of range. */
static int moments(const char *fn, const double *v, int64_t m, double *r) {
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (int64_t i = 0; i < m; i++) {
        double x = v[i], x2 = x * x;
        s1 += x;
        s2 += x2;
        s3 += x2 * x;
        s4 += x2 * x2;
    }
    volatile double cnt = (double)m, tmp = 1 / cnt; /* no fused multiply-adds (see funcs.c) */
    if (!strcmp(fn, "skewness")) {
        if (m <= 2) return 0;
        volatile double a = s1 * s1 * tmp, var = tmp * (s2 - a);
        double div = sqrt(pow(var, 3));
        if (div == 0) return 0;
        double t1 = sqrt(cnt * (cnt - 1)) / (cnt - 2);
        volatile double p1 = 3 * s2 * s1 * tmp, p2 = 2 * pow(s1, 3) * tmp * tmp;
        *r = t1 * tmp * (s3 - p1 + p2) / div;
        return isfinite(*r) ? 1 : -1;
    }
    if (m <= (!strcmp(fn, "kurtosis") ? 3 : 0)) return 0;
    volatile double b1 = 4 * s3 * s1 * tmp, b2 = 6 * s2 * s1 * s1 * tmp * tmp, b3 = 3 * pow(s1, 4) * pow(tmp, 3);
    double m4 = tmp * (s4 - b1 + b2 - b3);
    volatile double a = s1 * s1 * tmp;
    double m2 = tmp * (s2 - a);
    if (m2 <= 0) return 0;
    if (!strcmp(fn, "kurtosis")) *r = (cnt - 1) * ((cnt + 1) * m4 / (m2 * m2) - 3 * (cnt - 1)) / ((cnt - 2) * (cnt - 3));
    else *r = m4 / (m2 * m2) - 3;
    return isfinite(*r) ? 1 : -1;
}

/* ---------------------------------------------------------------- quantiles by index */

/* median / quantile_cont / quantile_disc without reading frames: the counting rows (compacted:
 * row c is the c-th counting position) are sorted once by value, ties by position, exactly as
 * eval_frames sorts a frame, so the k-th value of a frame is the k-th smallest rank among its
 * counting rows, found by a wavelet matrix over the ranks (pl_win_wm_kth) for any frame and
 * EXCLUDE: O(n log n) in all. */
typedef struct qfast {
    ev *e;
    const fw *f;
    bool disc, dec;
    const int64_t *cpre;   /* [n + 1]: counting positions before each position */
    const int64_t *byrank; /* rank -> position */
    pl_win_wm wm;
    int64_t *src;          /* quantile_disc: chosen position per row (-1 NULL) */
    uint8_t *vals, *valid; /* otherwise: results */
} qfast;

typedef struct dpos {
    double v;
    int64_t pos;
} dpos;

static int cmp_dpos(const void *a, const void *b) {
    const dpos *x = a, *y = b;
    int c = cmp_dbl_nan_last(&x->v, &y->v);
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static void qfast_block(void *arg, int64_t lo, int64_t hi) {
    qfast *q = arg;
    ev *e = q->e;
    double qq = q->f->q;
    for (int64_t i = lo; i < hi; i++) {
        int64_t s3[3], t3[3], a[3], b[3];
        int k = frame_segs(e, i, s3, t3), nr = 0;
        int64_t m = 0;
        for (int j = 0; j < k; j++) {
            a[nr] = q->cpre[s3[j]];
            b[nr] = q->cpre[t3[j]];
            if (b[nr] > a[nr]) m += b[nr] - a[nr], nr++;
        }
        if (q->disc) {
            int64_t best = -1;
            if (m > 0) {
                int64_t kk = (int64_t)ceil((double)m * qq) - 1;
                if (kk < 0) kk = 0;
                if (kk >= m) kk = m - 1;
                best = q->byrank[pl_win_wm_kth(&q->wm, nr, a, b, kk)];
            }
            q->src[i] = best;
            continue;
        }
        if (m == 0) continue;
        double at = qq * (double)(m - 1);
        int64_t klo = (int64_t)floor(at), khi = (int64_t)ceil(at);
        int64_t plo = q->byrank[pl_win_wm_kth(&q->wm, nr, a, b, klo)];
        int64_t phi = khi == klo ? plo : q->byrank[pl_win_wm_kth(&q->wm, nr, a, b, khi)];
        if (q->dec) {
            agg_val va, vc;
            const uint8_t *bytes;
            agg_read_val(q->f->x, plo, VK_I128, &va, &bytes);
            agg_read_val(q->f->x, phi, VK_I128, &vc, &bytes);
            __int128 r = agg_decimal_interp(va.d, vc.d, at - (double)klo, e->sp->result_type->precision);
            memcpy(q->vals + i * 16, &r, 16);
        } else {
            double dlo = pos_double(q->f->x, plo), dhi = pos_double(q->f->x, phi);
            double r = dlo;
            if (khi != klo) r = agg_double_interp(dlo, dhi, at - (double)klo);
            ((double *)(void *)q->vals)[i] = r;
        }
        pl_bit_set(q->valid, i);
    }
}

/* Fills src (quantile_disc) or vals/valid (median, quantile_cont) for every row. */
static pl_status quantile_fast(ev *e, const fw *f, int64_t *src, uint8_t *vals, uint8_t *valid,
                               pl_error *err) {
    int64_t n = e->n;
    qfast q;
    memset(&q, 0, sizeof q);
    q.e = e;
    q.f = f;
    q.disc = !strcmp(f->fn, "quantile_disc");
    q.dec = e->sp->result_type->id == PL_TYPE_DECIMAL128;
    q.src = src;
    q.vals = vals;
    q.valid = valid;
    int64_t *cpre = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
    if (!cpre) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window %s", f->fn);
    cpre[0] = 0;
    for (int64_t i = 0; i < n; i++) cpre[i + 1] = cpre[i] + (e->vm[i] != 0);
    int64_t m = cpre[n];
    int64_t *byrank = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(m, 1));
    int64_t *rk = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(m, 1));
    dpos *dp = NULL;
    bool by_double = !q.disc && !q.dec;
    if (by_double && byrank) dp = pl_malloc(sizeof(dpos) * (size_t)PL_MAX(m, 1));
    if (!byrank || !rk || (by_double && !dp)) {
        pl_free(cpre);
        pl_free(byrank);
        pl_free(rk);
        pl_free(dp);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window %s", f->fn);
    }
    if (by_double) {
        for (int64_t i = 0, c = 0; i < n; i++)
            if (e->vm[i]) {
                dp[c].v = pos_double(f->x, i);
                dp[c++].pos = i;
            }
        qsort(dp, (size_t)m, sizeof(dpos), cmp_dpos);
        for (int64_t r = 0; r < m; r++) byrank[r] = dp[r].pos;
        pl_free(dp);
    } else {
        for (int64_t i = 0, c = 0; i < n; i++)
            if (e->vm[i]) byrank[c++] = i;
        g_sort_arr = f->x;
        qsort(byrank, (size_t)m, sizeof(int64_t), cmp_pos_value);
    }
    for (int64_t r = 0; r < m; r++) rk[cpre[byrank[r]]] = r;
    pl_status st = pl_win_wm_build(rk, m, m, &q.wm, err);
    pl_free(rk);
    q.cpre = cpre;
    q.byrank = byrank;
    if (!st) run_blocks(n, e->T, qfast_block, &q);
    pl_win_wm_reset(&q.wm);
    pl_free(cpre);
    pl_free(byrank);
    return st;
}

/* Whether pl_sortkeys_build takes a key of this type. */
static bool sortable_key(const pl_type *t) {
    pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
    return id != PL_TYPE_LIST && id != PL_TYPE_STRUCT && id != PL_TYPE_MAP && id != PL_TYPE_INTERVAL;
}

/* ---------------------------------------------------------------- mode by a moving frame */

/* mode over frames without EXCLUDE: the frame [s, t) moves from row to row by adding and
 * removing rows at its ends (frames move forward within a partition, so O(n) updates in all),
 * keeping per value id (from one sort) its count and its first row in the frame; the mode is
 * the top of a heap of (count, first row, value) entries, stale ones dropped when they reach
 * the top. Ties go to the value whose first row in the frame comes first, as eval_frames. */
typedef struct mode_ent {
    int64_t count, first, vid;
} mode_ent;

typedef struct mode_st {
    int64_t *vid, *next; /* per position: value id, next counting position with that value */
    int64_t *count, *first;
    mode_ent *heap;
    int64_t n_heap, cap_heap;
    const uint8_t *vm;
} mode_st;

static bool ent_before(const mode_ent *a, const mode_ent *b) {
    return a->count > b->count || (a->count == b->count && a->first < b->first);
}

static bool mode_push(mode_st *m, int64_t v) {
    if (m->count[v] == 0) return true;
    if (m->n_heap == m->cap_heap) {
        int64_t cap = PL_MAX(64, 2 * m->cap_heap);
        mode_ent *h = pl_realloc(m->heap, sizeof(mode_ent) * (size_t)cap);
        if (!h) return false;
        m->heap = h;
        m->cap_heap = cap;
    }
    int64_t i = m->n_heap++;
    mode_ent x = {m->count[v], m->first[v], v};
    while (i > 0 && ent_before(&x, &m->heap[(i - 1) / 2])) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = x;
    return true;
}

static void mode_pop(mode_st *m) {
    mode_ent x = m->heap[--m->n_heap];
    int64_t i = 0, n = m->n_heap;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && ent_before(&m->heap[c + 1], &m->heap[c])) c++;
        if (!ent_before(&m->heap[c], &x)) break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (n) m->heap[i] = x;
}

/* Adds (add) or removes position p, which is the frame's first (front) or last row. */
static bool mode_move(mode_st *m, int64_t p, bool add, bool front) {
    if (!m->vm[p]) return true;
    int64_t v = m->vid[p];
    if (add) {
        if (front || m->count[v] == 0) m->first[v] = p;
        m->count[v]++;
    } else {
        m->count[v]--;
        if (front && m->count[v] > 0) m->first[v] = m->next[p];
    }
    return mode_push(m, v);
}

static pl_status mode_fast(ev *e, int64_t *src, pl_error *err) {
    int64_t n = e->n;
    mode_st m;
    memset(&m, 0, sizeof m);
    m.vm = e->vm;
    pl_sortkeys sk;
    bool desc = false, nf = false;
    PL_TRY(pl_sortkeys_build(1, &e->x, &desc, &nf, n, e->T, 0, &sk, err));
    m.vid = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    m.next = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    m.count = pl_calloc((size_t)PL_MAX(n, 1), sizeof(int64_t));
    m.first = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    pl_status st = PL_OK;
    if (!m.vid || !m.next || !m.count || !m.first)
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window mode");
    for (int64_t r = 0, v = -1, last = -1; !st && r < n; r++) {
        if (r == 0 || !pl_sortkeys_same(&sk, 0, 1, r - 1, r)) v++, last = -1;
        int64_t pos = pl_sortkeys_row(&sk, r);
        m.vid[pos] = v;
        m.next[pos] = -1;
        if (!e->vm[pos]) continue;
        if (last >= 0) m.next[last] = pos;
        last = pos;
    }
    pl_sortkeys_reset(&sk);
    int64_t a = 0, b = 0; /* the current frame [a, b) */
    for (int64_t i = 0; i < n && !st; i++) {
        if ((i & 4095) == 0 && atomic_load(&e->failed)) break;
        int64_t c = e->fs[i], d = e->fe[i];
        if (d <= c) { /* empty: NULL, the kept frame moves on from there */
            src[i] = -1;
            continue;
        }
        bool ok = true;
        if (c >= b || d <= a) { /* disjoint: empty the frame, then fill it */
            for (int64_t p = a; ok && p < b; p++) ok = mode_move(&m, p, false, true);
            a = b = c;
        }
        for (int64_t p = a; ok && p < c; p++) ok = mode_move(&m, p, false, true);
        for (int64_t p = b - 1; ok && p >= d && p >= c; p--) ok = mode_move(&m, p, false, false);
        for (int64_t p = PL_MIN(a, b) - 1; ok && p >= c; p--) ok = mode_move(&m, p, true, true);
        for (int64_t p = PL_MAX(b, c); ok && p < d; p++) ok = mode_move(&m, p, true, false);
        a = c;
        b = d;
        if (!ok) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window mode");
            break;
        }
        while (m.n_heap) {
            const mode_ent *t = &m.heap[0];
            if (m.count[t->vid] == t->count && m.first[t->vid] == t->first) break;
            mode_pop(&m);
        }
        src[i] = m.n_heap ? m.heap[0].first : -1;
    }
    pl_free(m.vid);
    pl_free(m.next);
    pl_free(m.count);
    pl_free(m.first);
    pl_free(m.heap);
    return st;
}

static pl_status eval_frames(ev *e, pl_array *const *cols, pl_array **out, pl_error *err) {
    const pl_window_spec *sp = e->sp;
    const char *fn = sp->name;
    int64_t n = e->n;
    PL_TRY(compute_frames(e, cols, err));
    bool is_list = !strcmp(fn, "list"), is_arg = !strcmp(fn, "arg_min") || !strcmp(fn, "arg_max");
    bool take = is_arg || !strcmp(fn, "quantile_disc") || !strcmp(fn, "mode");
    bool is_str = !strcmp(fn, "string_agg");
    bool is_bits = !strncmp(fn, "bit_", 4);
    fw f;
    memset(&f, 0, sizeof f);
    f.e = e;
    f.fn = fn;
    f.x = e->x;
    f.k = e->a1;
    f.q = 0.5;
    f.sep = (const uint8_t *)",";
    f.sep_len = 1;
    if (is_arg && !f.k) PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s over a constant key: the planner must project it", fn);
    if (!strncmp(fn, "quantile_", 9)) {
        const pl_value *c = &sp->consts[1];
        double q = -1;
        if (sp->args[1] < 0 && c->type && !c->is_null) {
            pl_type_id id = c->type->id;
            if (id == PL_TYPE_FLOAT64 || id == PL_TYPE_FLOAT32) q = c->v.f;
            else if (id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64) q = (double)c->v.i;
            else if (id == PL_TYPE_DECIMAL128) {
                q = (double)c->v.dec.lo;
                for (int32_t i = 0; i < c->type->scale; i++) q /= 10;
            }
        }
        if (!(q >= 0 && q <= 1))
            PL_FAIL(err, PL_ERR_SQL, "%s: the quantile must be a constant between 0 and 1", fn);
        f.q = q;
    }
    if (is_str && sp->n_args == 2) {
        const pl_value *c = &sp->consts[1];
        if (sp->args[1] >= 0 || (c->type && !c->is_null && c->type->id != PL_TYPE_UTF8))
            PL_FAIL(err, PL_ERR_SQL, "string_agg: the separator must be a constant string");
        if (c->type && c->is_null) {
            /* NULL separator: every result NULL, like DuckDB */
            return pl_array_new_nulls(sp->result_type, n, out, err);
        }
        f.sep = (const uint8_t *)(c->str ? c->str : "");
        f.sep_len = (int32_t)c->str_len;
    }
    /* which rows count */
    pl_array *filt = sp->filter_col >= 0 ? cols[sp->filter_col] : NULL;
    e->vm = pl_malloc((size_t)PL_MAX(n, 1));
    f.pos = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    f.dv = pl_malloc(sizeof(double) * (size_t)PL_MAX(n, 1));
    if (!e->vm || !f.pos || !f.dv) {
        pl_free(f.pos);
        pl_free(f.dv);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in window %s", fn);
    }
    for (int64_t i = 0; i < n; i++) {
        bool ok = is_list || (f.x->type->id != PL_TYPE_NA && pl_array_is_valid(f.x, i));
        if (ok && is_arg) ok = pl_array_is_valid(f.k, i);
        if (ok && filt) {
            int64_t r = e->g->ids[i];
            ok = pl_array_is_valid(filt, r) && pl_bit_get(filt->values->data, filt->offset + r);
        }
        e->vm[i] = ok;
    }
    pl_status st = PL_OK;
    pl_builder *b = NULL;
    int64_t *src = NULL;      /* take: chosen position per row (-1 NULL) */
    int64_t *loff = NULL;     /* list: offsets */
    int64_t *lpos = NULL;     /* list: element positions */
    int64_t lcap = 0, ln = 0;
    pl_buf *vals = NULL, *valid = NULL;
    int32_t w = 0;
    if (take) {
        src = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        if (!src) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window %s", fn);
    } else if (is_list) {
        loff = pl_malloc(sizeof(int64_t) * (size_t)(n + 1));
        if (!loff) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window %s", fn);
        else loff[0] = 0;
    } else if (is_str) {
        st = pl_builder_new(sp->result_type, n, &b, err);
    } else {
        w = sp->result_type->byte_width;
        st = pl_buf_new_zeroed(PL_MAX(n * w, 8), &vals, err);
        if (!st) {
            vals->size = n * w;
            st = pl_buf_new_zeroed((n + 7) / 8 + 1, &valid, err);
        }
        if (!st) valid->size = (n + 7) / 8;
    }
    if (!st && (is_list || is_str) == false && !take && !vals)
        st = pl_error_set(err, PL_ERR_INTERNAL, "window %s: no output", fn);
    /* quantiles by an index (quantile_fast); the others read each row's frame below */
    int64_t n_read = n;
    if (!st && !pl_win_test_brute_force &&
        (!strcmp(fn, "median") || !strncmp(fn, "quantile_", 9))) {
        st = quantile_fast(e, &f, src, vals ? vals->data : NULL, valid ? valid->data : NULL, err);
        n_read = 0;
    } else if (!st && !pl_win_test_brute_force && !strcmp(fn, "mode") &&
               e->excl == PL_EXCLUDE_NO_OTHERS && sortable_key(e->x->type)) {
        st = mode_fast(e, src, err);
        n_read = 0;
    } else if (!st && !pl_win_test_brute_force && is_arg && sortable_key(f.k->type)) {
        /* arg_min/arg_max: the earliest row with the smallest/largest key (rank_tree_eval) */
        st = rank_tree_eval(e, e->a1, !strcmp(fn, "arg_max"), err);
        if (!st) memcpy(src, e->src, sizeof(int64_t) * (size_t)n);
        n_read = 0;
    }
    int64_t work = 0;
    int64_t ps[3] = {-1, -1, -1}, pt[3] = {-1, -1, -1};
    int pk = -1;
    int64_t m = 0;
    bool has_prev = false;
    for (int64_t i = 0; i < n_read && !st; i++) {
        if ((i & 4095) == 0 && atomic_load(&e->failed)) break;
        int64_t s3[3], t3[3];
        int k = frame_segs(e, i, s3, t3);
        bool same = has_prev && k == pk;
        for (int j = 0; same && j < k; j++) same = s3[j] == ps[j] && t3[j] == pt[j];
        if (!same) {
            m = 0;
            for (int j = 0; j < k; j++) {
                work += t3[j] - s3[j];
                for (int64_t p = s3[j]; p < t3[j]; p++)
                    if (e->vm[p]) f.pos[m++] = p;
            }
            if (work > PL_WIN_FRAME_WORK) {
                if (is_list || is_str)
                    st = pl_error_set(err, PL_ERR_LIMIT,
                                      "window %s: the frames hold more than %lld rows in all and every "
                                      "result holds its frame's values (a running frame's output grows "
                                      "with the square of the partition); use a smaller frame or fewer "
                                      "rows per partition", fn, (long long)PL_WIN_FRAME_WORK);
                else
                    st = pl_error_set(err, PL_ERR_LIMIT,
                                      "window %s: the frames hold more than %lld rows in all (%s reads "
                                      "each row's frame); use a smaller frame or fewer rows per partition",
                                      fn, (long long)PL_WIN_FRAME_WORK, fn);
                break;
            }
            pk = k;
            for (int j = 0; j < k; j++) {
                ps[j] = s3[j];
                pt[j] = t3[j];
            }
        }
        has_prev = true;
        if (take) {
            if (same) {
                src[i] = src[i - 1];
                continue;
            }
            int64_t best = -1;
            if (m > 0 && is_arg) {
                bool mx = !strcmp(fn, "arg_max");
                best = f.pos[0];
                for (int64_t j = 1; j < m; j++) {
                    int c = agg_row_cmp(f.k, f.pos[j], f.k, best, false);
                    if (mx ? c > 0 : c < 0) best = f.pos[j];
                }
            } else if (m > 0) {
                g_sort_arr = f.x;
                qsort(f.pos, (size_t)m, sizeof(int64_t), cmp_pos_value);
                if (!strcmp(fn, "quantile_disc")) {
                    int64_t kk = (int64_t)ceil((double)m * f.q) - 1;
                    if (kk < 0) kk = 0;
                    if (kk >= m) kk = m - 1;
                    best = f.pos[kk];
                } else { /* mode: the longest run of equal values; ties: the earliest row */
                    int64_t best_n = 0;
                    for (int64_t a = 0; a < m;) {
                        int64_t c = a + 1;
                        while (c < m && agg_row_cmp(f.x, f.pos[a], f.x, f.pos[c], false) == 0) c++;
                        if (c - a > best_n || (c - a == best_n && f.pos[a] < best)) {
                            best_n = c - a;
                            best = f.pos[a];
                        }
                        a = c;
                    }
                }
            }
            src[i] = best;
            continue;
        }
        if (is_list) {
            if (ln + m > lcap) {
                lcap = PL_MAX(2 * lcap, ln + m + 16);
                int64_t *q = pl_realloc(lpos, sizeof(int64_t) * (size_t)lcap);
                if (!q) {
                    st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window list");
                    break;
                }
                lpos = q;
            }
            if (m) memcpy(lpos + ln, f.pos, sizeof(int64_t) * (size_t)m);
            ln += m;
            loff[i + 1] = ln;
            if (ln > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "window list: more than 2^31 elements in all");
            continue;
        }
        if (is_str) {
            if (m == 0) {
                st = pl_builder_append_null(b, err);
                continue;
            }
            int64_t len = 0;
            for (int64_t j = 0; j < m; j++) {
                int32_t l;
                pl_array_bytes(f.x, f.pos[j], &l);
                len += l + (j ? f.sep_len : 0);
            }
            if (len > INT32_MAX) {
                st = pl_error_set(err, PL_ERR_LIMIT, "window string_agg: a result exceeds 2^31 bytes");
                break;
            }
            uint8_t *buf = pl_malloc((size_t)PL_MAX(len, 1));
            if (!buf) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window string_agg");
                break;
            }
            int64_t o = 0;
            for (int64_t j = 0; j < m; j++) {
                if (j && f.sep_len) {
                    memcpy(buf + o, f.sep, (size_t)f.sep_len);
                    o += f.sep_len;
                }
                int32_t l;
                const uint8_t *p = pl_array_bytes(f.x, f.pos[j], &l);
                if (l) memcpy(buf + o, p, (size_t)l);
                o += l;
            }
            st = pl_builder_append_bytes(b, buf, o, err);
            pl_free(buf);
            continue;
        }
        /* fixed-width results */
        if (same) {
            memcpy(vals->data + i * w, vals->data + (i - 1) * w, (size_t)w);
            if (pl_bit_get(valid->data, i - 1)) pl_bit_set(valid->data, i);
            continue;
        }
        if (is_bits) {
            if (m == 0) continue;
            uint64_t acc = 0;
            for (int64_t j = 0; j < m; j++) {
                int64_t v = 0;
                if (f.x->type->id == PL_TYPE_UINT64) v = (int64_t)((const uint64_t *)pl_array_values_ptr(f.x))[f.pos[j]];
                else get_int(f.x, f.pos[j], &v);
                if (!strcmp(fn, "bit_and")) acc = j ? acc & (uint64_t)v : (uint64_t)v;
                else if (!strcmp(fn, "bit_or")) acc |= (uint64_t)v;
                else acc ^= (uint64_t)v;
            }
            memcpy(vals->data + i * w, &acc, (size_t)w); /* little endian: the low bytes */
            pl_bit_set(valid->data, i);
            continue;
        }
        if (sp->result_type->id == PL_TYPE_DECIMAL128) {
            /* median / quantile_cont of DECIMAL: DECIMAL, DuckDB's interpolation */
            if (m == 0) continue;
            g_sort_arr = f.x;
            qsort(f.pos, (size_t)m, sizeof(int64_t), cmp_pos_value);
            double at = f.q * (double)(m - 1);
            int64_t lo = (int64_t)floor(at), hi = (int64_t)ceil(at);
            agg_val a, c;
            const uint8_t *bytes;
            agg_read_val(f.x, f.pos[lo], VK_I128, &a, &bytes);
            agg_read_val(f.x, f.pos[hi], VK_I128, &c, &bytes);
            __int128 r = agg_decimal_interp(a.d, c.d, at - (double)lo, sp->result_type->precision);
            memcpy(vals->data + i * w, &r, 16);
            pl_bit_set(valid->data, i);
            continue;
        }
        double r = 0;
        bool ok = true;
        for (int64_t j = 0; j < m; j++) f.dv[j] = pos_double(f.x, f.pos[j]);
        if (!strcmp(fn, "median") || !strcmp(fn, "quantile_cont")) {
            if (m == 0) {
                ok = false;
            } else {
                qsort(f.dv, (size_t)m, sizeof(double), cmp_dbl_nan_last);
                double at = f.q * (double)(m - 1);
                int64_t lo = (int64_t)floor(at), hi = (int64_t)ceil(at);
                r = f.dv[lo];
                if (hi != lo) r = agg_double_interp(f.dv[lo], f.dv[hi], at - (double)lo);
            }
        } else if (!strcmp(fn, "product")) {
            ok = m > 0;
            r = 1;
            for (int64_t j = 0; j < m; j++) r *= f.dv[j];
        } else if (!strcmp(fn, "fsum") || !strcmp(fn, "favg")) {
            ok = m > 0;
            double sum = 0, c = 0;
            for (int64_t j = 0; j < m; j++) {
                double v = f.dv[j], t = sum + v;
                if (fabs(sum) >= fabs(v)) c += (sum - t) + v;
                else c += (v - t) + sum;
                sum = t;
            }
            r = isfinite(sum) ? sum + c : sum;
            if (!strcmp(fn, "favg")) r /= (double)m;
        } else if (!strcmp(fn, "sem")) {
            /* stddev_pop / sqrt(n) over Welford's running mean and m2, like the aggregate */
            ok = m > 0;
            double mean = 0, m2 = 0;
            for (int64_t j = 0; j < m; j++) {
                double d = f.dv[j] - mean;
                mean += d / (double)(j + 1);
                m2 += d * (f.dv[j] - mean);
            }
            double v = m2 / (double)m;
            if (m == 1) v = 0;
            else if (!isfinite(mean)) v = NAN;
            else if (v < 0) v = 0;
            r = sqrt(v) / sqrt((double)m);
        } else if (!strcmp(fn, "entropy")) {
            /* counts of equal values: sort the positions by value */
            g_sort_arr = f.x;
            qsort(f.pos, (size_t)m, sizeof(int64_t), cmp_pos_value);
            for (int64_t a = 0; a < m;) {
                int64_t c = a + 1;
                while (c < m && agg_row_cmp(f.x, f.pos[a], f.x, f.pos[c], false) == 0) c++;
                double p = (double)(c - a) / (double)m;
                r -= p * log2(p);
                a = c;
            }
            r = r == 0 ? 0.0 : r;
        } else {
            int res = moments(fn, f.dv, m, &r);
            if (res < 0) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s is out of range",
                                  !strcmp(fn, "skewness") ? "skewness" : "kurtosis");
                break;
            }
            ok = res > 0;
        }
        if (ok) {
            ((double *)(void *)vals->data)[i] = r;
            pl_bit_set(valid->data, i);
        }
    }
    if (!st && atomic_load(&e->failed)) {
        st = e->st;
        if (err) *err = e->err;
    }
    if (!st && take) st = pl_array_take(e->x, src, n, out, err);
    if (!st && is_str) st = pl_builder_finish(b, out, err);
    if (!st && is_list) {
        pl_array *child = NULL;
        pl_buf *offs = NULL, *lvalid = NULL;
        int64_t nulls = 0;
        st = pl_array_take(e->x, lpos ? lpos : loff, ln, &child, err);
        if (!st) st = pl_buf_new_zeroed((n + 1) * 4, &offs, err);
        if (!st) st = pl_buf_new_zeroed((n + 7) / 8 + 1, &lvalid, err);
        if (!st) {
            int32_t *o32 = (int32_t *)(void *)offs->data;
            for (int64_t i = 0; i <= n; i++) o32[i] = (int32_t)loff[i];
            offs->size = (n + 1) * 4;
            lvalid->size = (n + 7) / 8;
            for (int64_t i = 0; i < n; i++) {
                if (loff[i + 1] > loff[i]) pl_bit_set(lvalid->data, i);
                else nulls++;
            }
            if (!nulls) {
                pl_buf_release(lvalid);
                lvalid = NULL;
            }
            st = pl_array_new(pl_type_retain(sp->result_type), n, nulls, lvalid, offs, NULL, 1, &child,
                              NULL, out, err);
            offs = lvalid = NULL;
            child = NULL;
        }
        pl_array_release(child);
        pl_buf_release(offs);
        pl_buf_release(lvalid);
    }
    if (!st && vals) {
        int64_t nulls = n - pl_bitmap_count(valid->data, 0, n);
        if (!nulls) {
            pl_buf_release(valid);
            valid = NULL;
        }
        st = pl_array_new(pl_type_retain(sp->result_type), n, nulls, valid, vals, NULL, 0, NULL, NULL, out, err);
        vals = valid = NULL;
    }
    pl_buf_release(vals);
    pl_buf_release(valid);
    pl_builder_free(b);
    pl_free(src);
    pl_free(loff);
    pl_free(lpos);
    pl_free(f.pos);
    pl_free(f.dv);
    return st;
}

/* ---------------------------------------------------------------- entry */

static void ev_reset(ev *e) {
    pl_array_release(e->x);
    pl_array_release(e->a1);
    pl_array_release(e->a2);
    pl_free(e->vm);
    pl_free(e->fs);
    pl_free(e->fe);
    pl_free(e->okey);
    pl_free(e->onull);
    pl_free(e->gnum);
    pl_free(e->gstart);
    pl_free(e->gend);
    pl_free(e->src);
    pl_free(e->pc);
    pl_free(e->pt);
    pl_free(e->pq);
    pl_free(e->pf);
    pl_free(e->ftree);
    pl_free(e->tree);
    pl_free(e->wtree);
    pl_free(e->byrank);
    pl_free(e->cv);
    pl_free(e->nnpos);
}

static pl_status gather_sorted(pl_array *a, const pl_win_group *g, bool decode, pl_array **out,
                               pl_error *err) {
    pl_array *t;
    PL_TRY(pl_array_take(a, g->ids, g->n, &t, err));
    if (!decode || t->type->id != PL_TYPE_DICTIONARY) {
        *out = t;
        return PL_OK;
    }
    pl_status st = pl_array_decode_dictionary(t, out, err);
    pl_array_release(t);
    return st;
}

pl_status pl_win_eval(const pl_window_spec *sp, const pl_win_group *g, pl_array *const *cols,
                      int32_t n_threads, pl_array **out, pl_error *err) {
    ev e;
    memset(&e, 0, sizeof e);
    e.sp = sp;
    e.g = g;
    e.n = g->n;
    e.T = n_threads;
    e.excl = sp->frame.present ? sp->frame.exclude : PL_EXCLUDE_NO_OTHERS;
    atomic_init(&e.failed, 0);
    const char *fn = sp->name;
    bool ranking = fn_is(sp, "row_number") || fn_is(sp, "rank") || fn_is(sp, "dense_rank") ||
                   fn_is(sp, "percent_rank") || fn_is(sp, "cume_dist") || fn_is(sp, "ntile");
    bool nav = fn_is(sp, "lag") || fn_is(sp, "lead") || fn_is(sp, "first_value") ||
               fn_is(sp, "last_value") || fn_is(sp, "nth_value");
    /* aggregates read numbers: decode dictionary arguments; min/max/navigation keep them */
    bool decode = !nav && !fn_is(sp, "min") && !fn_is(sp, "max");
    pl_status st = PL_OK;
    if (sp->n_args >= 1 && sp->args[0] >= 0 && !fn_is(sp, "ntile"))
        st = gather_sorted(cols[sp->args[0]], g, decode, &e.x, err);
    if (!st && fn_is(sp, "ntile") && sp->args[0] >= 0)
        st = gather_sorted(cols[sp->args[0]], g, true, &e.a1, err);
    if (!st && sp->n_args >= 2 && sp->args[1] >= 0)
        st = gather_sorted(cols[sp->args[1]], g, true, &e.a1, err);
    if (!st && sp->n_args >= 3 && sp->args[2] >= 0)
        st = gather_sorted(cols[sp->args[2]], g, false, &e.a2, err);
    if (st) {
        ev_reset(&e);
        return st;
    }
    int64_t n = e.n;
    if (ranking) {
        bool dbl = fn_is(sp, "percent_rank") || fn_is(sp, "cume_dist");
        pl_buf *vals = NULL, *valid = NULL;
        st = pl_buf_new_zeroed(PL_MAX(n * 8, 8), &vals, err);
        if (!st && fn_is(sp, "ntile")) st = pl_buf_new_zeroed((n + 7) / 8 + 1, &valid, err);
        if (!st) {
            vals->size = n * 8;
            if (valid) {
                valid->size = (n + 7) / 8;
                e.ovalid = valid->data;
            }
            if (dbl) e.od = (double *)(void *)vals->data;
            else e.oi = (int64_t *)(void *)vals->data;
            if (fn_is(sp, "dense_rank")) dense_rank_all(&e);
            else run_blocks(n, n_threads, ranking_block, &e);
            if (atomic_load(&e.failed)) {
                st = e.st;
                if (err) *err = e.err;
            }
        }
        if (!st) {
            int64_t nulls = valid ? n - pl_bitmap_count(valid->data, 0, n) : 0;
            if (valid && !nulls) {
                pl_buf_release(valid);
                valid = NULL;
            }
            st = pl_array_new(pl_type_simple(dbl ? PL_TYPE_FLOAT64 : PL_TYPE_INT64), n, nulls,
                              valid, vals, NULL, 0, NULL, NULL, out, err);
            vals = valid = NULL;
        }
        pl_buf_release(vals);
        pl_buf_release(valid);
    } else if (nav) {
        st = eval_nav(&e, cols, out, err);
    } else if (pl_win_is_framewise(fn)) {
        st = eval_frames(&e, cols, out, err);
    } else {
        st = eval_agg(&e, cols, out, err);
    }
    PL_UNUSED(fn);
    ev_reset(&e);
    if (!st && (*out)->type->id == PL_TYPE_DICTIONARY && sp->result_type &&
        sp->result_type->id != PL_TYPE_DICTIONARY) {
        /* the planner typed the result by the dictionary's values */
        pl_array *dec;
        st = pl_array_decode_dictionary(*out, &dec, err);
        pl_array_release(*out);
        *out = st ? NULL : dec;
    }
    return st;
}
