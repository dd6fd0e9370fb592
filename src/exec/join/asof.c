/* asof.c - the as-of join operator: for each probe (left) row, the one build (right) row
 * whose equality keys are equal and whose inequality key is the closest that satisfies
 * `probe key cmp build key` (>=, >: the largest such build key; <=, <: the smallest), ties
 * broken by the first row in build order. NULL keys never match.
 *
 * prepare(): runs the build pipeline into a collect sink, concatenates the build columns it
 * needs, makes one entry (hash of the equality keys, inequality key, row) per build row
 * without NULL keys, sorts the entries by (hash, inequality key, row) in parallel chunks
 * merged pairwise, and indexes the runs of equal hashes in an open-addressing table. Inequality
 * keys of integer-like, date/time and float types are compared as order-preserving int64s,
 * the others (decimals, strings, intervals, unsigned 64-bit) by pl_array_value_compare.
 * process(): per morsel (several workers at once), hashes the probe keys, finds the run, binary
 * searches the inequality key and walks the candidates in preference order until one has
 * equal keys (the first one unless hashes collide). Invariants: entries are immutable after
 * prepare; output rows keep the probe order. */
#include <math.h>

#include "exec/join/join_int.h"

/* Build rows at most (row ids are uint32, the run table's ends too). */
#define ASOF_MAX_BUILD_ROWS ((int64_t)UINT32_MAX - 1)
/* Entries sorted per chunk before the pairwise merges. */
#define ASOF_SORT_CHUNK 65536
/* Key pairs at most (equalities and the inequality). */
#define ASOF_MAX_KEYS 64

typedef struct asof_entry {
    uint64_t h;
    int64_t k;
    uint32_t row;
} asof_entry;

typedef struct asof_op {
    pl_join_kind kind;
    pl_asof_cmp cmp;
    int32_t n_keys; /* the last one is the inequality */
    int32_t *probe_keys, *build_keys;
    int32_t n_probe_out, n_build_out;
    int32_t *probe_out, *build_out;
    pl_schema *out_schema, *probe_schema, *build_schema;
    pl_pipeline *build; /* until prepare */
    bool prepared;
    bool fast; /* inequality key compared as int64 (asof_entry.k) */
    int64_t n_build;
    pl_array **bcols; /* per build column, NULL when unused */
    jk_view *bkeys;
    asof_entry *e;
    int64_t n_e;
    int32_t bits; /* run table: 2^bits slots */
    uint64_t *th;
    uint32_t *tstart, *tend; /* tend 0 = empty slot */
    int64_t charged;
    pl_exec_ctx *ctx;
} asof_op;

static void asof_free(pl_op *op) {
    if (!op) return;
    asof_op *a = op->impl;
    if (a) {
        if (a->bcols)
            for (int32_t c = 0; c < a->build_schema->n_fields; c++) pl_array_release(a->bcols[c]);
        pl_free(a->bcols);
        pl_free(a->bkeys);
        pl_free(a->e);
        pl_free(a->th);
        pl_free(a->tstart);
        pl_free(a->tend);
        pl_free(a->probe_keys);
        pl_free(a->build_keys);
        pl_free(a->probe_out);
        pl_free(a->build_out);
        pl_pipeline_free(a->build);
        if (a->charged && a->ctx) (void)pl_exec_charge(a->ctx, -a->charged, NULL);
        pl_schema_release(a->out_schema);
        pl_schema_release(a->probe_schema);
        pl_schema_release(a->build_schema);
        pl_free(a);
    }
    pl_schema_release(op->schema);
    pl_free(op);
}

/* ---------------------------------------------------------------- keys */

/* Whether the inequality key of view k compares as an order-preserving int64. */
static bool key_is_fast(const jk_view *k) {
    if (k->cls == JK_F32 || k->cls == JK_F64) return true;
    return k->cls == JK_INT && k->v->type->id != PL_TYPE_UINT64;
}

/* Doubles as int64 in the total order NaN-largest, -0 = 0 (DuckDB's order). */
static int64_t f64_key(double d) {
    if (d == 0) d = 0.0;
    if (isnan(d)) d = NAN;
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    u = (u >> 63) ? ~u : (u | ((uint64_t)1 << 63));
    return (int64_t)(u ^ ((uint64_t)1 << 63));
}

/* The fast key at value position pos (pos >= 0). */
static int64_t fast_key(const jk_view *k, int64_t pos) {
    switch (k->cls) {
    case JK_F32: return f64_key((double)((const float *)(const void *)k->vdata)[pos]);
    case JK_F64: return f64_key(((const double *)(const void *)k->vdata)[pos]);
    default: return jk_int_at(k, pos);
    }
}

/* Bits of the equality-key hashes kept (tests: fewer bits make collisions the probe's walk
 * must skip). Not changed while queries run. */
static uint64_t g_hash_mask = ~(uint64_t)0;

uint64_t pl_asof_set_hash_mask(uint64_t mask) {
    uint64_t old = g_hash_mask;
    g_hash_mask = mask;
    return old;
}

/* Hashes of the equality keys of rows [0, n) into h; isnull[i] = 1 when any key (equality or
 * inequality) of row i is NULL. */
static pl_status hash_keys(const jk_view *keys, int32_t n_keys, int64_t n, uint64_t *h,
                           uint8_t *isnull, pl_error *err) {
    memset(isnull, 0, (size_t)n);
    if (n_keys == 1) memset(h, 0, sizeof *h * (size_t)n);
    for (int32_t k = 0; k + 1 < n_keys; k++) PL_TRY(pl_join_key_hash(&keys[k], 0, n, h, k > 0, isnull, err));
    const jk_view *iq = &keys[n_keys - 1];
    for (int64_t i = 0; i < n; i++) {
        if (jk_pos(iq, i) < 0) isnull[i] = 1;
        h[i] &= g_hash_mask;
    }
    return PL_OK;
}

/* ---------------------------------------------------------------- sort */

static int ent_cmp(const asof_op *a, const asof_entry *x, const asof_entry *y) {
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    if (a->fast) {
        if (x->k != y->k) return x->k < y->k ? -1 : 1;
    } else {
        const jk_view *iq = &a->bkeys[a->n_keys - 1];
        int c = pl_array_value_compare(iq->v, jk_pos(iq, x->row), iq->v, jk_pos(iq, y->row), false);
        if (c) return c;
    }
    return (x->row > y->row) - (x->row < y->row);
}

/* Merges sorted src[lo, mid) and src[mid, hi) into dst[lo, hi). */
static void merge(const asof_op *a, const asof_entry *src, asof_entry *dst, int64_t lo, int64_t mid,
                  int64_t hi) {
    int64_t i = lo, j = mid, o = lo;
    while (i < mid && j < hi) dst[o++] = ent_cmp(a, &src[j], &src[i]) < 0 ? src[j++] : src[i++];
    while (i < mid) dst[o++] = src[i++];
    while (j < hi) dst[o++] = src[j++];
}

/* Bottom-up merge sort of v[lo, hi) using tmp; the result ends in v. */
static void sort_range(const asof_op *a, asof_entry *v, asof_entry *tmp, int64_t lo, int64_t hi) {
    /* insertion sort runs of 16, then merges */
    const int64_t run = 16;
    for (int64_t s = lo; s < hi; s += run) {
        int64_t e = PL_MIN(s + run, hi);
        for (int64_t i = s + 1; i < e; i++) {
            asof_entry x = v[i];
            int64_t j = i - 1;
            while (j >= s && ent_cmp(a, &x, &v[j]) < 0) {
                v[j + 1] = v[j];
                j--;
            }
            v[j + 1] = x;
        }
    }
    asof_entry *src = v, *dst = tmp;
    for (int64_t w = run; w < hi - lo; w *= 2) {
        for (int64_t s = lo; s < hi; s += 2 * w)
            merge(a, src, dst, s, PL_MIN(s + w, hi), PL_MIN(s + 2 * w, hi));
        asof_entry *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) memcpy(v + lo, src + lo, sizeof *v * (size_t)(hi - lo));
}

typedef struct sort_task {
    asof_op *a;
    asof_entry *v, *tmp;
    int64_t n, width; /* sorted runs of width; the task merges pairs of them */
} sort_task;

static pl_status sort_chunk(void *arg, int64_t i, int32_t worker, pl_error *err) {
    PL_UNUSED(worker);
    sort_task *t = arg;
    int64_t lo = i * ASOF_SORT_CHUNK, hi = PL_MIN(lo + ASOF_SORT_CHUNK, t->n);
    sort_range(t->a, t->v, t->tmp, lo, hi);
    return pl_exec_check(t->a->ctx, err);
}

static pl_status merge_pair(void *arg, int64_t i, int32_t worker, pl_error *err) {
    PL_UNUSED(worker);
    sort_task *t = arg;
    int64_t lo = i * 2 * t->width, mid = PL_MIN(lo + t->width, t->n), hi = PL_MIN(lo + 2 * t->width, t->n);
    merge(t->a, t->v, t->tmp, lo, mid, hi);
    return pl_exec_check(t->a->ctx, err);
}

static pl_status sort_entries(asof_op *a, pl_exec_ctx *ctx, pl_error *err) {
    int64_t n = a->n_e;
    if (n < 2) return PL_OK;
    asof_entry *tmp = pl_malloc(sizeof *tmp * (size_t)n);
    if (!tmp) PL_FAIL(err, PL_ERR_NOMEM, "out of memory sorting the as-of join build side");
    sort_task t = {a, a->e, tmp, n, ASOF_SORT_CHUNK};
    int64_t n_chunks = (n + ASOF_SORT_CHUNK - 1) / ASOF_SORT_CHUNK;
    pl_status st = pl_exec_parallel(ctx, n_chunks, sort_chunk, &t, err);
    while (!st && t.width < n) {
        int64_t n_pairs = (n + 2 * t.width - 1) / (2 * t.width);
        st = pl_exec_parallel(ctx, n_pairs, merge_pair, &t, err);
        asof_entry *s = t.v;
        t.v = t.tmp;
        t.tmp = s;
        t.width *= 2;
    }
    if (!st && t.v != a->e) memcpy(a->e, t.v, sizeof *tmp * (size_t)n);
    pl_free(tmp);
    return st;
}

/* ---------------------------------------------------------------- prepare */

static uint32_t slot_of(uint64_t h, int32_t bits) {
    return (uint32_t)((h * 0x9e3779b97f4a7c15ULL) >> (64 - bits));
}

static pl_status charge(asof_op *a, pl_exec_ctx *ctx, int64_t bytes, pl_error *err) {
    PL_TRY(pl_exec_charge(ctx, bytes, err));
    a->charged += bytes;
    return PL_OK;
}

static pl_status collect_build(asof_op *a, pl_exec_ctx *ctx, pl_stream *s, pl_error *err) {
    int64_t nbat = 0, cap = 0;
    pl_batch **bats = NULL;
    pl_status st = PL_OK;
    for (;;) {
        pl_batch *b = NULL;
        st = pl_stream_next(s, &b, err);
        if (st || !b) break;
        if (nbat == cap) {
            cap = cap ? cap * 2 : 16;
            pl_batch **nb = pl_realloc(bats, sizeof *nb * (size_t)cap);
            if (!nb) {
                pl_batch_release(b);
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory collecting the as-of join build side");
                break;
            }
            bats = nb;
        }
        bats[nbat++] = b;
        a->n_build += b->n_rows;
    }
    if (!st && a->n_build > ASOF_MAX_BUILD_ROWS)
        st = pl_error_set(err, PL_ERR_LIMIT, "as-of join: right side of %lld rows, at most %lld",
                          (long long)a->n_build, (long long)ASOF_MAX_BUILD_ROWS);
    int32_t nb = a->build_schema->n_fields;
    bool *need = pl_calloc((size_t)PL_MAX(nb, 1), sizeof *need);
    a->bcols = pl_calloc((size_t)PL_MAX(nb, 1), sizeof *a->bcols);
    if (!st && (!need || !a->bcols))
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in the as-of join build");
    if (!st) {
        for (int32_t k = 0; k < a->n_keys; k++) need[a->build_keys[k]] = true;
        for (int32_t c = 0; c < a->n_build_out; c++) need[a->build_out[c]] = true;
    }
    int64_t bytes = 0;
    if (!st) st = pl_join_concat_columns(bats, nbat, a->build_schema, need, a->bcols, &bytes, err);
    if (!st && bytes) st = charge(a, ctx, bytes, err);
    /* the collect sink charged the batches (as ops.c counts them): released with them */
    int64_t held = 0;
    for (int64_t i = 0; i < nbat; i++) {
        for (int32_t c = 0; c < bats[i]->n_cols; c++) held += pl_join_array_bytes(bats[i]->columns[c]);
        pl_batch_release(bats[i]);
    }
    if (held) (void)pl_exec_charge(ctx, -held, NULL);
    pl_free(bats);
    pl_free(need);
    return st;
}

static pl_status build_index(asof_op *a, pl_exec_ctx *ctx, pl_error *err) {
    int64_t n = a->n_build;
    a->bkeys = pl_calloc((size_t)a->n_keys, sizeof *a->bkeys);
    if (!a->bkeys) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the as-of join build");
    for (int32_t k = 0; k < a->n_keys; k++) {
        pl_join_key_view(&a->bkeys[k], a->bcols[a->build_keys[k]]);
        PL_TRY(pl_join_key_check(&a->bkeys[k], n, err));
    }
    const jk_view *iq = &a->bkeys[a->n_keys - 1];
    a->fast = key_is_fast(iq);
    PL_TRY(charge(a, ctx, (int64_t)sizeof(asof_entry) * 2 * PL_MAX(n, 1) + 9 * PL_MAX(n, 1), err));
    uint64_t *h = pl_malloc(sizeof *h * (size_t)PL_MAX(n, 1));
    uint8_t *isnull = pl_malloc((size_t)PL_MAX(n, 1));
    a->e = pl_malloc(sizeof *a->e * (size_t)PL_MAX(n, 1));
    pl_status st = h && isnull && a->e ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory in the as-of join build");
    if (!st) st = hash_keys(a->bkeys, a->n_keys, n, h, isnull, err);
    for (int64_t r = 0; r < n && !st; r++) {
        if (isnull[r]) continue;
        asof_entry *x = &a->e[a->n_e++];
        x->h = h[r];
        x->k = a->fast ? fast_key(iq, jk_pos(iq, r)) : 0;
        x->row = (uint32_t)r;
    }
    pl_free(h);
    pl_free(isnull);
    if (!st) st = sort_entries(a, ctx, err);
    if (st) return st;
    /* runs of equal hashes */
    int64_t n_runs = 0;
    for (int64_t i = 0; i < a->n_e; i++) n_runs += i == 0 || a->e[i].h != a->e[i - 1].h;
    a->bits = 1;
    while (((int64_t)1 << a->bits) < 2 * PL_MAX(n_runs, 1)) a->bits++;
    size_t slots = (size_t)1 << a->bits;
    PL_TRY(charge(a, ctx, (int64_t)slots * 16, err));
    a->th = pl_malloc(sizeof *a->th * slots);
    a->tstart = pl_malloc(sizeof *a->tstart * slots);
    a->tend = pl_calloc(slots, sizeof *a->tend);
    if (!a->th || !a->tstart || !a->tend) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the as-of join build");
    uint32_t mask = (uint32_t)(slots - 1);
    for (int64_t i = 0; i < a->n_e;) {
        int64_t j = i + 1;
        while (j < a->n_e && a->e[j].h == a->e[i].h) j++;
        uint32_t s = slot_of(a->e[i].h, a->bits);
        while (a->tend[s]) s = (s + 1) & mask;
        a->th[s] = a->e[i].h;
        a->tstart[s] = (uint32_t)i;
        a->tend[s] = (uint32_t)j;
        i = j;
    }
    return PL_OK;
}

static pl_status asof_prepare(pl_op *op, pl_exec_ctx *ctx, pl_error *err) {
    asof_op *a = op->impl;
    if (a->prepared) return PL_OK;
    a->ctx = ctx;
    pl_sink *s = NULL;
    pl_stream *str = NULL;
    pl_status st = pl_collect_sink_new(ctx, a->build_schema, &s, err);
    if (!st) {
        s->name = "as-of join build";
        st = pl_pipeline_run(ctx, a->build, s, err);
    }
    pl_pipeline_free(a->build);
    a->build = NULL;
    if (!st) st = s->finish(s, ctx, &str, err);
    if (!st) st = collect_build(a, ctx, str, err);
    pl_stream_free(str);
    pl_sink_free(s);
    if (!st) st = build_index(a, ctx, err);
    if (!st) a->prepared = true;
    return st;
}

/* ---------------------------------------------------------------- probe */

/* Context of one probe row. */
typedef struct probe_row {
    const asof_op *a;
    const jk_view *pk; /* probe key views */
    int64_t i;         /* probe row */
    int64_t pos;       /* value position of its inequality key */
    int64_t k;         /* its fast key */
} probe_row;

/* Sign of (entry m's inequality key) - (the probe row's). */
static int cmp_entry(const probe_row *p, int64_t m) {
    const asof_op *a = p->a;
    const asof_entry *x = &a->e[m];
    if (a->fast) return (x->k > p->k) - (x->k < p->k);
    const jk_view *bq = &a->bkeys[a->n_keys - 1], *pq = &p->pk[a->n_keys - 1];
    return pl_array_value_compare(bq->v, jk_pos(bq, x->row), pq->v, p->pos, false);
}

/* Sign of (entry m's inequality key) - (entry g's). */
static int cmp_entries(const asof_op *a, int64_t m, int64_t g) {
    if (a->fast) return (a->e[m].k > a->e[g].k) - (a->e[m].k < a->e[g].k);
    const jk_view *bq = &a->bkeys[a->n_keys - 1];
    return pl_array_value_compare(bq->v, jk_pos(bq, a->e[m].row), bq->v, jk_pos(bq, a->e[g].row), false);
}

/* First m in [lo, hi) whose key is > the probe's (strict) or >= it (!strict). */
static int64_t bound_probe(const probe_row *p, int64_t lo, int64_t hi, bool strict) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = cmp_entry(p, mid);
        if (strict ? c <= 0 : c < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* First m in [lo, hi) whose key is > entry g's (strict) or >= it. */
static int64_t bound_entry(const asof_op *a, int64_t lo, int64_t hi, int64_t g, bool strict) {
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = cmp_entries(a, mid, g);
        if (strict ? c <= 0 : c < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static bool eq_keys(const probe_row *p, uint32_t row) {
    const asof_op *a = p->a;
    for (int32_t k = 0; k + 1 < a->n_keys; k++) {
        int32_t pi = (int32_t)p->i;
        int64_t bi = row;
        if (pl_join_key_eq_compact(&p->pk[k], &a->bkeys[k], &pi, &bi, 1) != 1) return false;
    }
    return true;
}

/* The build row matching probe row p in run [s, e), or -1. Candidates in preference order:
 * tie groups of equal inequality keys from the closest outwards, each in build-row order. */
static int64_t find_match(const probe_row *p, int64_t s, int64_t e) {
    const asof_op *a = p->a;
    if (a->cmp == PL_ASOF_GE || a->cmp == PL_ASOF_GT) {
        int64_t j = bound_probe(p, s, e, a->cmp == PL_ASOF_GE) - 1;
        while (j >= s) {
            int64_t g0 = j > s && cmp_entries(a, j - 1, j) == 0 ? bound_entry(a, s, j, j, false) : j;
            for (int64_t m = g0; m <= j; m++)
                if (eq_keys(p, a->e[m].row)) return a->e[m].row;
            j = g0 - 1;
        }
    } else {
        int64_t j = bound_probe(p, s, e, a->cmp == PL_ASOF_LT);
        while (j < e) {
            int64_t g1 = j + 1 < e && cmp_entries(a, j + 1, j) == 0 ? bound_entry(a, j + 1, e, j, true) : j + 1;
            for (int64_t m = j; m < g1; m++)
                if (eq_keys(p, a->e[m].row)) return a->e[m].row;
            j = g1;
        }
    }
    return -1;
}

static pl_status asof_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                              pl_batch **out, pl_error *err) {
    PL_UNUSED(ctx);
    PL_UNUSED(worker);
    asof_op *a = op->impl;
    *out = NULL;
    int64_t n = in->n_rows;
    if (n == 0) return PL_OK;
    jk_view pk[ASOF_MAX_KEYS];
    for (int32_t k = 0; k < a->n_keys; k++) {
        pl_join_key_view(&pk[k], in->columns[a->probe_keys[k]]);
        PL_TRY(pl_join_key_check(&pk[k], n, err));
    }
    uint64_t *h = pl_malloc(sizeof *h * (size_t)n);
    uint8_t *isnull = pl_malloc((size_t)n);
    int32_t *pi = pl_malloc(sizeof *pi * (size_t)n);
    int64_t *bi = pl_malloc(sizeof *bi * (size_t)n);
    pl_array **cols = pl_calloc((size_t)PL_MAX(a->n_probe_out + a->n_build_out, 1), sizeof *cols);
    pl_status st = h && isnull && pi && bi && cols ? PL_OK
                                                    : pl_error_set(err, PL_ERR_NOMEM, "out of memory in the as-of join probe");
    if (!st) st = hash_keys(pk, a->n_keys, n, h, isnull, err);
    int64_t cnt = 0;
    bool outer = a->kind == PL_JK_PROBE_OUTER;
    uint32_t mask = ((uint32_t)1 << a->bits) - 1;
    const jk_view *pq = &pk[a->n_keys - 1];
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t row = -1;
        if (!isnull[i] && a->n_e > 0) {
            uint32_t s = slot_of(h[i], a->bits);
            while (a->tend[s] && a->th[s] != h[i]) s = (s + 1) & mask;
            if (a->tend[s]) {
                probe_row p = {a, pk, i, jk_pos(pq, i), 0};
                if (a->fast) p.k = fast_key(pq, p.pos);
                row = find_match(&p, a->tstart[s], a->tend[s]);
            }
        }
        if (row >= 0 || outer) {
            pi[cnt] = (int32_t)i;
            bi[cnt++] = row;
        }
    }
    int32_t np = a->n_probe_out;
    for (int32_t c = 0; c < np && !st && cnt > 0; c++) {
        pl_array *col = in->columns[a->probe_out[c]];
        if (cnt == n) cols[c] = pl_array_retain(col); /* every row, in order */
        else st = pl_array_take_i32(col, pi, cnt, &cols[c], err);
    }
    for (int32_t c = 0; c < a->n_build_out && !st && cnt > 0; c++)
        st = pl_array_take(a->bcols[a->build_out[c]], bi, cnt, &cols[np + c], err);
    if (!st && cnt > 0) {
        st = pl_batch_make(a->out_schema, cnt, cols, out, err); /* takes the columns */
    } else if (cols) {
        for (int32_t c = 0; c < np + a->n_build_out; c++) pl_array_release(cols[c]);
    }
    pl_free(cols);
    pl_free(h);
    pl_free(isnull);
    pl_free(pi);
    pl_free(bi);
    return st;
}

/* ---------------------------------------------------------------- constructor */

static pl_status check_spec(const pl_join_spec *spec, pl_asof_cmp cmp, pl_schema *ps,
                            pl_schema *bs, pl_error *err) {
    if (spec->kind != PL_JK_INNER && spec->kind != PL_JK_PROBE_OUTER)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: join kind %d is neither inner nor left", (int)spec->kind);
    if (cmp < PL_ASOF_GE || cmp > PL_ASOF_LT)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: unknown inequality %d", (int)cmp);
    if (spec->n_keys < 1 || spec->n_keys > ASOF_MAX_KEYS)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: %d keys, expected 1 to %d", spec->n_keys,
                ASOF_MAX_KEYS);
    if (spec->residual) PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: no residual condition allowed");
    if (spec->n_probe_out < 0 || spec->n_build_out < 0)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: negative column count");
    for (int32_t k = 0; k < spec->n_keys; k++) {
        int32_t p = spec->probe_keys[k], b = spec->build_keys[k];
        if (p < 0 || p >= ps->n_fields || b < 0 || b >= bs->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: key %d refers to a missing column", k);
        if ((spec->key_null_equal && spec->key_null_equal[k]) || (!spec->key_null_equal && spec->null_equal))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "as-of join: keys cannot match NULL with NULL");
        const pl_type *pt = ps->fields[p].type, *bt = bs->fields[b].type;
        if (pt->id == PL_TYPE_DICTIONARY) pt = pt->value_type;
        if (bt->id == PL_TYPE_DICTIONARY) bt = bt->value_type;
        if (!pl_type_equals(pt, bt)) {
            char x[96], y[96];
            PL_FAIL(err, PL_ERR_TYPE, "as-of join: key \"%s\" (%s) and \"%s\" (%s) differ in type",
                    ps->fields[p].name, pl_type_to_string(pt, x, sizeof x), bs->fields[b].name,
                    pl_type_to_string(bt, y, sizeof y));
        }
    }
    return pl_join_check_outputs(spec, ps, bs, "as-of join", err);
}

pl_status pl_asof_op_new(pl_exec_ctx *ctx, const pl_join_spec *spec, pl_asof_cmp cmp,
                         pl_schema *probe_schema, pl_pipeline *build, pl_op **out,
                         pl_error *err) {
    PL_UNUSED(ctx);
    pl_status st = check_spec(spec, cmp, probe_schema, pl_pipeline_schema(build), err);
    if (st) {
        pl_bexpr_free(spec->residual);
        pl_pipeline_free(build);
        return st;
    }
    pl_op *op = pl_calloc(1, sizeof *op);
    asof_op *a = pl_calloc(1, sizeof *a);
    if (!op || !a) {
        pl_free(op);
        pl_free(a);
        pl_pipeline_free(build);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the as-of join");
    }
    op->impl = a;
    op->name = "as-of join probe";
    op->free = asof_free;
    op->prepare = asof_prepare;
    op->process = asof_process;
    op->schema = pl_schema_retain(spec->out_schema);
    a->kind = spec->kind;
    a->cmp = cmp;
    a->n_keys = spec->n_keys;
    a->n_probe_out = spec->n_probe_out;
    a->n_build_out = spec->n_build_out;
    a->out_schema = pl_schema_retain(spec->out_schema);
    a->probe_schema = pl_schema_retain(probe_schema);
    a->build_schema = pl_schema_retain(pl_pipeline_schema(build));
    a->build = build;
    st = pl_join_copy_ints(spec->probe_keys, spec->n_keys, &a->probe_keys, err);
    if (!st) st = pl_join_copy_ints(spec->build_keys, spec->n_keys, &a->build_keys, err);
    if (!st) st = pl_join_copy_ints(spec->probe_out, spec->n_probe_out, &a->probe_out, err);
    if (!st) st = pl_join_copy_ints(spec->build_out, spec->n_build_out, &a->build_out, err);
    if (st) {
        asof_free(op);
        return st;
    }
    *out = op;
    return PL_OK;
}
