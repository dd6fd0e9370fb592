/* join.c - the hash join operator: build (prepare), probe (process), unmatched build rows
 * (flush). See README.md for the design. */
#include <stdlib.h>

#include "exec/join/join_int.h"

/* Candidate pairs are produced and filtered in blocks of this many. */
#define JOIN_BLOCK 65536
/* A dictionary probe key whose dictionary has at most this many values is mapped to build
 * rows once per dictionary. */
#define JOIN_DICT_MAP_MAX (1 << 20)
/* Candidate pairs of one probe morsel (its output rows) at most. */
#define JOIN_MAX_PAIRS ((int64_t)1 << 31)
#define NO_BUCKET UINT32_MAX
#define NULL_BUCKET (UINT32_MAX - 1)

typedef enum join_mode { MODE_CROSS = 0, MODE_INT, MODE_GENERIC } join_mode;

/* ---------------------------------------------------------------- build sink */

typedef struct bs_worker {
    int64_t n, cap;
    int64_t *seq;
    pl_batch **b;
} bs_worker;

typedef struct build_sink {
    int32_t n_workers;
    bs_worker *w;
} build_sink;

static pl_status bs_consume(pl_sink *s, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                            pl_batch *in, pl_error *err) {
    PL_UNUSED(ctx);
    build_sink *bs = s->impl;
    if (worker < 0 || worker >= bs->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "join build: worker id %d out of range", worker);
    bs_worker *w = &bs->w[worker];
    if (w->n == w->cap) {
        int64_t cap = w->cap ? w->cap * 2 : 16;
        int64_t *seq2 = pl_realloc(w->seq, sizeof *seq2 * (size_t)cap);
        if (!seq2) PL_FAIL(err, PL_ERR_NOMEM, "out of memory collecting the join build side");
        w->seq = seq2;
        pl_batch **b2 = pl_realloc(w->b, sizeof *b2 * (size_t)cap);
        if (!b2) PL_FAIL(err, PL_ERR_NOMEM, "out of memory collecting the join build side");
        w->b = b2;
        w->cap = cap;
    }
    w->seq[w->n] = seq;
    w->b[w->n++] = pl_batch_retain(in);
    return PL_OK;
}

static pl_status bs_finish(pl_sink *s, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    PL_UNUSED(s); PL_UNUSED(ctx); PL_UNUSED(out);
    PL_FAIL(err, PL_ERR_INTERNAL, "join build sink has no stream");
}

static void bs_free(pl_sink *s) {
    if (!s) return;
    build_sink *bs = s->impl;
    if (bs) {
        for (int32_t i = 0; i < bs->n_workers; i++) {
            for (int64_t k = 0; k < bs->w[i].n; k++) pl_batch_release(bs->w[i].b[k]);
            pl_free(bs->w[i].b);
            pl_free(bs->w[i].seq);
        }
        pl_free(bs->w);
        pl_free(bs);
    }
    pl_free(s);
}

/* ---------------------------------------------------------------- operator state */

typedef struct worker_state {
    int32_t *pi; /* candidate/matched pairs: probe row, build row (-1 = none) */
    int64_t *bi;
    int64_t cap;
    int32_t *pi2; /* outer-join merge */
    int64_t *bi2;
    int64_t cap2;
    uint64_t *h; /* per probe row */
    int64_t *k64;
    uint32_t *bucket;
    uint8_t *isnull;
    uint8_t *flag;
    int64_t rcap;
    /* dictionary map cache: dictionary values -> build rows */
    pl_array *dict; /* retained */
    uint32_t *moff; /* [dict length + 1] */
    uint32_t *mrow;
    int64_t *m1; /* unique map: one build row or -1 */
    bool map_unique;
} worker_state;

typedef struct join_op {
    pl_join_kind kind;
    int32_t n_keys;
    int32_t *probe_keys, *build_keys;
    bool *kne;       /* [n_keys]: NULL matches NULL on key k (IS NOT DISTINCT FROM) */
    bool any_strict; /* some key where NULL matches nothing: such rows never enter/probe */
    bool null_equal; /* single-key modes (MODE_INT, dictionary map): kne[0] */
    pl_bexpr *residual;
    int32_t n_probe_out, n_build_out;
    int32_t *probe_out, *build_out;
    pl_schema *out_schema;
    pl_schema *probe_schema;
    pl_schema *build_schema;
    pl_pipeline *build; /* until prepare */
    bool prepared;
    /* residual */
    pl_schema *res_schema;
    bool *res_probe_used, *res_build_used;
    /* build side */
    int64_t n_build;
    pl_batch **bats; /* the build batches in order, until the table is built */
    int64_t nbat;
    pl_array **bcols; /* per build column, NULL when unused */
    jk_view *bkeys;
    /* hash table */
    join_mode mode;
    int32_t bits;
    uint32_t *boff;
    uint64_t *ehash; /* MODE_GENERIC */
    int64_t *ekey;   /* MODE_INT */
    uint32_t *erow;
    int64_t n_entries;
    uint32_t *null_rows; /* MODE_INT with null_equal: build rows with a NULL key */
    int64_t n_null_rows;
    bool unique;
    uint64_t *matched; /* BUILD_OUTER/FULL: bit per build row (atomic) */
    int64_t charged;
    pl_exec_ctx *ctx;
    int32_t n_workers;
    worker_state *ws;
} join_op;

static bool kind_marks_build(pl_join_kind k) {
    return k == PL_JK_BUILD_OUTER || k == PL_JK_FULL || k == PL_JK_BUILD_SEMI || k == PL_JK_BUILD_ANTI;
}
/* semi/anti joins whose output is the build side's rows, decided by the marks at the end */
static bool kind_build_only(pl_join_kind k) { return k == PL_JK_BUILD_SEMI || k == PL_JK_BUILD_ANTI; }
static bool kind_keeps_probe(pl_join_kind k) { return k == PL_JK_PROBE_OUTER || k == PL_JK_FULL; }

static void ws_reset(worker_state *w) {
    pl_free(w->pi);
    pl_free(w->bi);
    pl_free(w->pi2);
    pl_free(w->bi2);
    pl_free(w->h);
    pl_free(w->k64);
    pl_free(w->bucket);
    pl_free(w->isnull);
    pl_free(w->flag);
    pl_array_release(w->dict);
    pl_free(w->moff);
    pl_free(w->mrow);
    pl_free(w->m1);
    memset(w, 0, sizeof *w);
}

static void release_bats(join_op *j) {
    for (int64_t i = 0; i < j->nbat; i++) pl_batch_release(j->bats[i]);
    pl_free(j->bats);
    j->bats = NULL;
    j->nbat = 0;
}

static void join_free(pl_op *op) {
    if (!op) return;
    join_op *j = op->impl;
    if (j) {
        pl_free(j->probe_keys);
        pl_free(j->build_keys);
        pl_free(j->kne);
        pl_free(j->probe_out);
        pl_free(j->build_out);
        pl_bexpr_free(j->residual);
        pl_schema_release(j->out_schema);
        pl_schema_release(j->probe_schema);
        pl_pipeline_free(j->build);
        pl_schema_release(j->res_schema);
        pl_free(j->res_probe_used);
        pl_free(j->res_build_used);
        if (j->bcols && j->build_schema)
            for (int32_t i = 0; i < j->build_schema->n_fields; i++) pl_array_release(j->bcols[i]);
        pl_schema_release(j->build_schema); /* after bcols: their count comes from it */
        pl_free(j->bcols);
        release_bats(j);
        pl_free(j->bkeys);
        pl_free(j->boff);
        pl_free(j->ehash);
        pl_free(j->ekey);
        pl_free(j->erow);
        pl_free(j->null_rows);
        pl_free(j->matched);
        if (j->ws)
            for (int32_t i = 0; i < j->n_workers; i++) ws_reset(&j->ws[i]);
        pl_free(j->ws);
        if (j->charged && j->ctx) pl_exec_charge(j->ctx, -j->charged, NULL);
        pl_free(j);
    }
    pl_schema_release(op->schema);
    pl_free(op);
}

static pl_status grow(void **p, int64_t *cap, int64_t need, size_t elem, pl_error *err) {
    if (need <= *cap) return PL_OK;
    int64_t c = PL_MAX(need, *cap * 2);
    void *q = pl_realloc(*p, elem * (size_t)PL_MAX(c, 1));
    if (!q) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the hash join");
    *p = q;
    *cap = c;
    return PL_OK;
}

/* Pair buffers of a worker hold at least need pairs. */
static pl_status ws_pairs(join_op *j, worker_state *w, int64_t need, pl_error *err) {
    if (need <= w->cap) return PL_OK;
    if (need > JOIN_MAX_PAIRS)
        PL_FAIL(err, PL_ERR_LIMIT,
                "hash join: one morsel of probe rows matches more than %lld build rows",
                (long long)JOIN_MAX_PAIRS);
    int64_t c = PL_MAX(need, w->cap * 2);
    /* pair buffers are charged to the query (a join that explodes hits the memory limit) */
    int64_t delta = (c - w->cap) * (int64_t)(sizeof *w->pi + sizeof *w->bi);
    PL_TRY(pl_exec_charge(j->ctx, delta, err));
    __atomic_add_fetch(&j->charged, delta, __ATOMIC_RELAXED);
    int32_t *pi = pl_realloc(w->pi, sizeof *pi * (size_t)c);
    if (!pi) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the hash join probe");
    w->pi = pi;
    int64_t *bi = pl_realloc(w->bi, sizeof *bi * (size_t)c);
    if (!bi) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the hash join probe");
    w->bi = bi;
    w->cap = c;
    return PL_OK;
}

static pl_status ws_rows(worker_state *w, int64_t n, pl_error *err) {
    if (n <= w->rcap) return PL_OK;
    int64_t c = PL_MAX(n, PL_MORSEL_ROWS);
    pl_free(w->h);
    pl_free(w->k64);
    pl_free(w->bucket);
    pl_free(w->isnull);
    pl_free(w->flag);
    w->h = pl_malloc(sizeof *w->h * (size_t)c);
    w->k64 = pl_malloc(sizeof *w->k64 * (size_t)c);
    w->bucket = pl_malloc(sizeof *w->bucket * (size_t)c);
    w->isnull = pl_malloc((size_t)c);
    w->flag = pl_malloc((size_t)c);
    if (!w->h || !w->k64 || !w->bucket || !w->isnull || !w->flag) {
        w->rcap = 0;
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the hash join probe");
    }
    w->rcap = c;
    return PL_OK;
}

/* ---------------------------------------------------------------- residual */

static void residual_cols(const pl_bexpr *e, int32_t n_probe, bool *pu, bool *bu) {
    if (!e) return;
    if (e->kind == PL_BEXPR_COL) {
        if (e->col < n_probe) pu[e->col] = true;
        else bu[e->col - n_probe] = true;
    }
    for (int32_t i = 0; i < e->n_args; i++) residual_cols(e->args[i], n_probe, pu, bu);
}

static pl_status make_res_schema(join_op *j, pl_error *err) {
    int32_t np = j->probe_schema->n_fields, nb = j->build_schema->n_fields;
    j->res_probe_used = pl_calloc((size_t)PL_MAX(np, 1), sizeof(bool));
    j->res_build_used = pl_calloc((size_t)PL_MAX(nb, 1), sizeof(bool));
    pl_field *f = pl_calloc((size_t)PL_MAX(np + nb, 1), sizeof *f);
    if (!j->res_probe_used || !j->res_build_used || !f) {
        pl_free(f);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory preparing the join condition");
    }
    residual_cols(j->residual, np, j->res_probe_used, j->res_build_used);
    for (int32_t i = 0; i < np + nb; i++) {
        const pl_field *src = i < np ? &j->probe_schema->fields[i] : &j->build_schema->fields[i - np];
        bool used = i < np ? j->res_probe_used[i] : j->res_build_used[i - np];
        f[i].name = src->name;
        f[i].type = used ? src->type : pl_type_simple(PL_TYPE_NA);
        f[i].nullable = true;
    }
    pl_status st = pl_schema_new(np + nb, f, &j->res_schema, err);
    pl_free(f);
    return st;
}

/* Keeps the pairs [0, n) for which the residual is TRUE; *kept = their number. */
static pl_status residual_filter(join_op *j, pl_exec_ctx *ctx, pl_batch *in, int32_t *pi,
                                 int64_t *bi, int64_t n, int64_t *kept, pl_error *err) {
    int32_t np = j->probe_schema->n_fields, nb = j->build_schema->n_fields;
    pl_array **cols = pl_calloc((size_t)(np + nb), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating the join condition");
    pl_status st = PL_OK;
    for (int32_t c = 0; c < np && !st; c++) {
        if (j->res_probe_used[c]) st = pl_array_take_i32(in->columns[c], pi, n, &cols[c], err);
        else st = pl_array_new_nulls(pl_type_simple(PL_TYPE_NA), n, &cols[c], err);
    }
    for (int32_t c = 0; c < nb && !st; c++) {
        if (j->res_build_used[c]) st = pl_array_take(j->bcols[c], bi, n, &cols[np + c], err);
        else st = pl_array_new_nulls(pl_type_simple(PL_TYPE_NA), n, &cols[np + c], err);
    }
    pl_batch *b = NULL;
    if (!st) {
        st = pl_batch_make(j->res_schema, n, cols, &b, err);
    } else {
        for (int32_t c = 0; c < np + nb; c++) pl_array_release(cols[c]);
    }
    pl_free(cols);
    if (st) return st;
    int32_t *sel = NULL;
    int64_t n_sel = 0;
    st = pl_bexpr_eval_filter(&ctx->eval, j->residual, b, &sel, &n_sel, err);
    pl_batch_release(b);
    if (st) return st;
    for (int64_t m = 0; m < n_sel; m++) {
        pi[m] = pi[sel[m]];
        bi[m] = bi[sel[m]];
    }
    pl_free(sel);
    *kept = n_sel;
    return PL_OK;
}

/* ---------------------------------------------------------------- hash table build */

/* Rows [row0, row0 + n) of the build side: rows [start, start + n) of key source src. */
typedef struct build_chunk {
    int64_t src, start, n, row0;
} build_chunk;

typedef struct build_task {
    join_op *j;
    int64_t n_chunks;
    build_chunk *chunks;
    jk_view *src; /* MODE_INT: key views per source (batches, or the concatenated column) */
    int32_t pbits;
    int64_t n_parts;
    uint64_t *hash; /* [n_build] */
    int64_t *key;   /* MODE_INT [n_build] */
    uint8_t *skip;  /* [n_build] or NULL */
    int64_t *counts; /* [n_chunks][n_parts], then write positions */
    int64_t *part_start; /* [n_parts + 1] */
    uint64_t *th;
    int64_t *tk;
    uint32_t *tr;
    int64_t *nonunique; /* atomic flag */
} build_task;

static inline uint64_t part_of(uint64_t h, int32_t pbits) {
    return pbits ? h >> (64 - pbits) : 0;
}

static pl_status bt_hash(void *arg, int64_t c, int32_t worker, pl_error *err) {
    PL_UNUSED(worker);
    build_task *t = arg;
    join_op *j = t->j;
    const build_chunk *ch = &t->chunks[c];
    int64_t start = ch->row0, n = ch->n;
    uint8_t *skip = t->skip ? t->skip + start : NULL;
    int64_t *cnt = t->counts + c * t->n_parts;
    if (j->mode == MODE_INT) {
        int64_t *k = t->key + start;
        pl_join_key_ints(&t->src[ch->src], ch->start, n, k, skip);
        for (int64_t i = 0; i < n; i++)
            if (!skip || !skip[i]) cnt[part_of(jk_hash_int(k[i]), t->pbits)]++;
        return PL_OK;
    }
    uint64_t *h = t->hash + start;
    for (int32_t kk = 0; kk < j->n_keys; kk++)
        PL_TRY(pl_join_key_hash(&j->bkeys[kk], start, n, h, kk > 0, j->kne[kk] ? NULL : skip,
                                err));
    for (int64_t i = 0; i < n; i++)
        if (!skip || !skip[i]) cnt[part_of(h[i], t->pbits)]++;
    return PL_OK;
}

static pl_status bt_scatter(void *arg, int64_t c, int32_t worker, pl_error *err) {
    PL_UNUSED(worker); PL_UNUSED(err);
    build_task *t = arg;
    join_op *j = t->j;
    PL_UNUSED(j);
    int64_t start = t->chunks[c].row0, n = t->chunks[c].n;
    int64_t *pos = t->counts + c * t->n_parts;
    if (t->tk) {
        for (int64_t i = start; i < start + n; i++) {
            if (t->skip && t->skip[i]) continue;
            int64_t w = pos[part_of(jk_hash_int(t->key[i]), t->pbits)]++;
            t->tr[w] = (uint32_t)i;
            t->tk[w] = t->key[i];
        }
        return PL_OK;
    }
    for (int64_t i = start; i < start + n; i++) {
        if (t->skip && t->skip[i]) continue;
        int64_t w = pos[part_of(t->hash[i], t->pbits)]++;
        t->th[w] = t->hash[i];
        t->tr[w] = (uint32_t)i;
    }
    return PL_OK;
}

static pl_status bt_part(void *arg, int64_t p, int32_t worker, pl_error *err) {
    PL_UNUSED(worker);
    build_task *t = arg;
    join_op *j = t->j;
    int32_t lbits = j->bits - t->pbits;
    int64_t nb = (int64_t)1 << lbits, b0 = p << lbits;
    int64_t s = t->part_start[p], e = t->part_start[p + 1];
    uint32_t *off = j->boff + b0;
    memset(off, 0, sizeof *off * (size_t)nb);
    int shift = 64 - j->bits;
    if (t->tk)
        for (int64_t i = s; i < e; i++) off[(int64_t)(jk_hash_int(t->tk[i]) >> shift) - b0]++;
    else
        for (int64_t i = s; i < e; i++) off[(int64_t)(t->th[i] >> shift) - b0]++;
    uint32_t run = (uint32_t)s;
    for (int64_t b = 0; b < nb; b++) {
        uint32_t c = off[b];
        off[b] = run;
        run += c;
    }
    /* off[b] is now the write position of bucket b; after the scatter it is the end, so
     * scatter with a copy of the starts */
    uint32_t *wpos = pl_malloc(sizeof *wpos * (size_t)nb);
    if (!wpos) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the join hash table");
    memcpy(wpos, off, sizeof *wpos * (size_t)nb);
    if (t->tk) {
        for (int64_t i = s; i < e; i++) {
            uint32_t w = wpos[(int64_t)(jk_hash_int(t->tk[i]) >> shift) - b0]++;
            j->erow[w] = t->tr[i];
            j->ekey[w] = t->tk[i];
        }
    } else {
        for (int64_t i = s; i < e; i++) {
            uint32_t w = wpos[(int64_t)(t->th[i] >> shift) - b0]++;
            j->erow[w] = t->tr[i];
            j->ehash[w] = t->th[i];
        }
    }
    /* uniqueness: no two entries of a bucket with the same key (MODE_INT) or hash */
    bool nonunique = false;
    for (int64_t b = 0; b < nb && !nonunique; b++) {
        uint32_t bs = off[b], be = wpos[b];
        if (be - bs > 16) {
            nonunique = true;
            break;
        }
        for (uint32_t x = bs; x < be && !nonunique; x++)
            for (uint32_t y = x + 1; y < be; y++)
                if (j->ekey ? j->ekey[x] == j->ekey[y] : j->ehash[x] == j->ehash[y]) {
                    nonunique = true;
                    break;
                }
    }
    pl_free(wpos);
    if (nonunique) __atomic_store_n(t->nonunique, 1, __ATOMIC_RELAXED);
    return PL_OK;
}

static pl_status charge(join_op *j, pl_exec_ctx *ctx, int64_t bytes, pl_error *err) {
    PL_TRY(pl_exec_charge(ctx, bytes, err));
    __atomic_add_fetch(&j->charged, bytes, __ATOMIC_RELAXED);
    return PL_OK;
}

static pl_status build_table(join_op *j, pl_exec_ctx *ctx, pl_error *err) {
    int64_t n = j->n_build;
    if (n > (int64_t)UINT32_MAX - 2)
        PL_FAIL(err, PL_ERR_LIMIT, "hash join build side of %lld rows is over the limit of %lld",
                (long long)n, (long long)UINT32_MAX - 2);
    int32_t bits = 1;
    while (((int64_t)1 << bits) < n) bits++;
    j->bits = bits;
    build_task t;
    memset(&t, 0, sizeof t);
    t.j = j;
    /* chunks: over the build batches when the key column was not concatenated */
    bool per_batch = j->mode == MODE_INT && !j->bcols[j->build_keys[0]];
    int64_t n_src = per_batch ? j->nbat : 1, max_chunks = n / PL_MORSEL_ROWS + n_src + 1;
    t.chunks = pl_malloc(sizeof *t.chunks * (size_t)max_chunks);
    t.src = pl_malloc(sizeof *t.src * (size_t)PL_MAX(n_src, 1));
    if (!t.chunks || !t.src) {
        pl_free(t.chunks);
        pl_free(t.src);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory building the join hash table");
    }
    int64_t row0 = 0;
    for (int64_t s = 0; s < n_src; s++) {
        int64_t len = per_batch ? j->bats[s]->n_rows : n;
        if (per_batch) {
            pl_join_key_view(&t.src[s], j->bats[s]->columns[j->build_keys[0]]);
            pl_status cst = pl_join_key_check(&t.src[s], len, err);
            if (cst) {
                pl_free(t.chunks);
                pl_free(t.src);
                return cst;
            }
        } else {
            t.src[s] = j->bkeys[0];
        }
        for (int64_t off = 0; off < len; off += PL_MORSEL_ROWS) {
            build_chunk *ch = &t.chunks[t.n_chunks++];
            ch->src = s;
            ch->start = off;
            ch->n = PL_MIN(PL_MORSEL_ROWS, len - off);
            ch->row0 = row0 + off;
        }
        row0 += len;
    }
    t.pbits = n > 4 * PL_MORSEL_ROWS ? PL_MIN(bits, 8) : 0;
    t.n_parts = (int64_t)1 << t.pbits;
    int64_t nonunique = 0;
    t.nonunique = &nonunique;
    bool may_null = false;
    if (j->mode == MODE_INT)
        for (int64_t k = 0; k < n_src; k++) may_null |= pl_join_key_may_null(&t.src[k]);
    else
        for (int32_t k = 0; k < j->n_keys; k++) may_null |= pl_join_key_may_null(&j->bkeys[k]);
    int64_t nb = (int64_t)1 << bits;
    int64_t bytes = n * (8 + 4) + (nb + 1) * 4;
    PL_TRY(charge(j, ctx, bytes, err));
    pl_status st = PL_OK;
    if (j->mode == MODE_INT) t.key = pl_malloc(sizeof *t.key * (size_t)PL_MAX(n, 1));
    else t.hash = pl_malloc(sizeof *t.hash * (size_t)PL_MAX(n, 1));
    if (may_null) t.skip = pl_calloc((size_t)PL_MAX(n, 1), 1);
    t.counts = pl_calloc((size_t)PL_MAX(t.n_chunks * t.n_parts, 1), sizeof *t.counts);
    t.part_start = pl_calloc((size_t)t.n_parts + 1, sizeof *t.part_start);
    j->boff = pl_malloc(sizeof *j->boff * (size_t)(nb + 1));
    j->erow = pl_malloc(sizeof *j->erow * (size_t)PL_MAX(n, 1));
    if (j->mode == MODE_INT) j->ekey = pl_malloc(sizeof *j->ekey * (size_t)PL_MAX(n, 1));
    else j->ehash = pl_malloc(sizeof *j->ehash * (size_t)PL_MAX(n, 1));
    if ((j->mode != MODE_INT && !t.hash) || (j->mode == MODE_INT && (!t.key || !j->ekey)) || (may_null && !t.skip) ||
        !t.counts || !t.part_start || !j->boff || !j->erow || (j->mode != MODE_INT && !j->ehash)) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building the join hash table");
        goto done;
    }
    st = pl_exec_parallel(ctx, t.n_chunks, bt_hash, &t, err);
    if (st) goto done;
    /* write positions: partition-major, chunk-minor */
    int64_t run = 0;
    for (int64_t p = 0; p < t.n_parts; p++) {
        t.part_start[p] = run;
        for (int64_t c = 0; c < t.n_chunks; c++) {
            int64_t cnt = t.counts[c * t.n_parts + p];
            t.counts[c * t.n_parts + p] = run;
            run += cnt;
        }
    }
    t.part_start[t.n_parts] = run;
    j->n_entries = run;
    if (j->mode == MODE_INT && j->null_equal && t.skip && run < n) {
        j->null_rows = pl_malloc(sizeof *j->null_rows * (size_t)(n - run));
        if (!j->null_rows) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building the join hash table");
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            if (t.skip[i]) j->null_rows[j->n_null_rows++] = (uint32_t)i;
    }
    t.tr = pl_malloc(sizeof *t.tr * (size_t)PL_MAX(run, 1));
    if (j->mode == MODE_INT) t.tk = pl_malloc(sizeof *t.tk * (size_t)PL_MAX(run, 1));
    else t.th = pl_malloc(sizeof *t.th * (size_t)PL_MAX(run, 1));
    if (!t.tr || (j->mode == MODE_INT ? !t.tk : !t.th)) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building the join hash table");
        goto done;
    }
    st = pl_exec_parallel(ctx, t.n_chunks, bt_scatter, &t, err);
    if (st) goto done;
    st = pl_exec_parallel(ctx, t.n_parts, bt_part, &t, err);
    if (st) goto done;
    j->boff[nb] = (uint32_t)run;
    j->unique = !nonunique && j->n_null_rows <= 1;
done:
    pl_free(t.chunks);
    pl_free(t.src);
    pl_free(t.hash);
    pl_free(t.key);
    pl_free(t.skip);
    pl_free(t.counts);
    pl_free(t.part_start);
    pl_free(t.th);
    pl_free(t.tr);
    pl_free(t.tk);
    return st;
}

/* ---------------------------------------------------------------- prepare */

static int cmp_seq(const void *a, const void *b) {
    const int64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static pl_status collect_build(join_op *j, pl_exec_ctx *ctx, build_sink *bs, pl_error *err) {
    int64_t nbat = 0;
    for (int32_t w = 0; w < bs->n_workers; w++) nbat += bs->w[w].n;
    int64_t *order = pl_malloc(sizeof *order * 2 * (size_t)PL_MAX(nbat, 1));
    pl_batch **bats = pl_malloc(sizeof *bats * (size_t)PL_MAX(nbat, 1));
    if (!order || !bats) {
        pl_free(order);
        pl_free(bats);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory collecting the join build side");
    }
    int64_t k = 0;
    for (int32_t w = 0; w < bs->n_workers; w++)
        for (int64_t i = 0; i < bs->w[w].n; i++) {
            order[2 * k] = bs->w[w].seq[i];
            order[2 * k + 1] = ((int64_t)w << 40) | i;
            k++;
        }
    qsort(order, (size_t)nbat, 2 * sizeof *order, cmp_seq);
    j->n_build = 0;
    for (int64_t i = 0; i < nbat; i++) {
        int64_t v = order[2 * i + 1];
        bats[i] = bs->w[v >> 40].b[v & (((int64_t)1 << 40) - 1)];
        j->n_build += bats[i]->n_rows;
    }
    pl_status st = PL_OK;
    int32_t nb = j->build_schema->n_fields;
    bool *need = pl_calloc((size_t)PL_MAX(nb, 1), sizeof *need);
    j->bcols = pl_calloc((size_t)PL_MAX(nb, 1), sizeof *j->bcols);
    if (!need || !j->bcols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in the join build");
    /* a single integer key is copied into the table: its column is needed only as output */
    bool int_key = j->n_keys == 1 &&
                   pl_join_key_class(j->build_schema->fields[j->build_keys[0]].type) == JK_INT;
    if (!st) {
        for (int32_t i = 0; i < j->n_keys && !int_key; i++) need[j->build_keys[i]] = true;
        for (int32_t i = 0; i < j->n_build_out; i++) need[j->build_out[i]] = true;
        if (j->residual)
            for (int32_t i = 0; i < nb; i++) need[i] |= j->res_build_used[i];
    }
    int64_t bytes = 0;
    if (!st) st = pl_join_concat_columns(bats, nbat, j->build_schema, need, j->bcols, &bytes, err);
    if (!st && bytes) st = charge(j, ctx, bytes, err);
    if (!st) {
        for (int64_t i = 0; i < nbat; i++) pl_batch_retain(bats[i]);
        j->bats = bats;
        j->nbat = nbat;
        bats = NULL;
    }
    pl_free(need);
    pl_free(order);
    pl_free(bats);
    return st;
}

static pl_status join_prepare(pl_op *op, pl_exec_ctx *ctx, pl_error *err) {
    join_op *j = op->impl;
    if (j->prepared) return PL_OK;
    j->ctx = ctx;
    j->n_workers = pl_exec_max_workers();
    j->ws = pl_calloc((size_t)j->n_workers, sizeof *j->ws);
    if (!j->ws) PL_FAIL(err, PL_ERR_NOMEM, "out of memory preparing the hash join");
    /* run the build pipeline */
    pl_sink *s = pl_calloc(1, sizeof *s);
    build_sink *bs = pl_calloc(1, sizeof *bs);
    if (s) s->impl = bs;
    if (bs) {
        bs->n_workers = j->n_workers;
        bs->w = pl_calloc((size_t)bs->n_workers, sizeof *bs->w);
    }
    if (!s || !bs || !bs->w) {
        bs_free(s);
        if (!s && bs) pl_free(bs);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory preparing the hash join");
    }
    s->name = "hash join build";
    s->consume = bs_consume;
    s->finish = bs_finish;
    s->free = bs_free;
    int64_t t0 = pl_now_ns();
    pl_status st = pl_pipeline_run(ctx, j->build, s, err);
    if (!ctx->keep_finished_ops) { /* else freed with the join (EXPLAIN ANALYZE's counters) */
        pl_pipeline_free(j->build);
        j->build = NULL;
    }
    if (!st) st = collect_build(j, ctx, bs, err);
    pl_sink_free(s);
    if (st) return st;
    if (j->n_keys > 0) {
        j->bkeys = pl_calloc((size_t)j->n_keys, sizeof *j->bkeys);
        if (!j->bkeys) PL_FAIL(err, PL_ERR_NOMEM, "out of memory preparing the hash join");
        for (int32_t k = 0; k < j->n_keys; k++)
            if (j->bcols[j->build_keys[k]]) {
                pl_join_key_view(&j->bkeys[k], j->bcols[j->build_keys[k]]);
                PL_TRY(pl_join_key_check(&j->bkeys[k], j->n_build, err));
            }
        j->mode = j->n_keys == 1 && pl_join_key_class(j->build_schema->fields[j->build_keys[0]].type) == JK_INT
                      ? MODE_INT : MODE_GENERIC;
        PL_TRY(build_table(j, ctx, err));
    } else {
        j->mode = MODE_CROSS;
    }
    if (kind_marks_build(j->kind)) {
        int64_t words = (j->n_build + 63) / 64;
        PL_TRY(charge(j, ctx, words * 8, err));
        j->matched = pl_calloc((size_t)PL_MAX(words, 1), 8);
        if (!j->matched) PL_FAIL(err, PL_ERR_NOMEM, "out of memory preparing the hash join");
    }
    release_bats(j);
    PL_UNUSED(t0); /* the pipeline driver times operators */
    j->prepared = true;
    return PL_OK;
}

/* ---------------------------------------------------------------- probe: candidate generators */

/* Resumable state: current probe row i and the remaining entry range [e, e_end) of its list. */
typedef struct gen_state {
    int64_t n;
    int64_t i;
    int64_t e, e_end;
    const uint32_t *list; /* rows of the current range (erow, null_rows, mrow) */
    bool first_only;      /* stop at the first exact match of a row */
    bool done;
} gen_state;

static void gen_init(gen_state *g, int64_t n, bool first_only) {
    memset(g, 0, sizeof *g);
    g->n = n;
    g->i = -1;
    g->first_only = first_only;
}

/* MODE_INT: exact key compare. */
static int64_t gen_int(join_op *j, worker_state *w, gen_state *g, int32_t *pi, int64_t *bi,
                       int64_t cap) {
    int64_t k = 0, i = g->i, e = g->e, e_end = g->e_end, n = g->n;
    const uint32_t *list = g->list;
    const int64_t *ekey = j->ekey, *k64 = w->k64;
    const uint32_t *boff = j->boff, *bucket = w->bucket, *erow = j->erow;
    bool first_only = g->first_only || j->unique;
    for (;;) {
        if (e < e_end) {
            if (list == erow) {
                int64_t key = k64[i];
                for (; e < e_end; e++) {
                    if (ekey[e] != key) continue;
                    if (k == cap) goto out;
                    pi[k] = (int32_t)i;
                    bi[k] = erow[e];
                    k++;
                    if (first_only) {
                        e = e_end;
                        break;
                    }
                }
            } else {
                for (; e < e_end; e++) {
                    if (k == cap) goto out;
                    pi[k] = (int32_t)i;
                    bi[k] = list[e];
                    k++;
                    if (g->first_only) {
                        e = e_end;
                        break;
                    }
                }
            }
        }
        if (++i >= n) {
            g->done = true;
            break;
        }
        if (i + 16 < n && bucket[i + 16] < NULL_BUCKET) __builtin_prefetch(&boff[bucket[i + 16]]);
        if (i + 8 < n && bucket[i + 8] < NULL_BUCKET) __builtin_prefetch(&ekey[boff[bucket[i + 8]]]);
        uint32_t b = bucket[i];
        if (b < NULL_BUCKET) {
            e = boff[b];
            e_end = boff[b + 1];
            list = erow;
        } else if (b == NULL_BUCKET) {
            e = 0;
            e_end = j->n_null_rows;
            list = j->null_rows;
        } else {
            e = e_end = 0;
        }
    }
out:
    g->i = i;
    g->e = e;
    g->e_end = e_end;
    g->list = list;
    return k;
}

/* MODE_GENERIC: hash compare (keys verified afterwards). */
static int64_t gen_hash(join_op *j, worker_state *w, gen_state *g, const jk_view *pkv, int32_t *pi,
                        int64_t *bi, int64_t cap) {
    int64_t k = 0, i = g->i, e = g->e, e_end = g->e_end, n = g->n;
    const uint64_t *ehash = j->ehash, *h = w->h;
    const uint32_t *boff = j->boff, *bucket = w->bucket, *erow = j->erow;
    for (;;) {
        if (e < e_end) {
            uint64_t hv = h[i];
            for (; e < e_end; e++) {
                if (ehash[e] != hv) continue;
                if (k == cap) goto out;
                if (g->first_only) {
                    /* semi / anti: the first match that verifies ends the row (all candidates
                     * of a row were listed before: a key repeated on both sides made
                     * rows x duplicates pairs, gigabytes for an EXCEPT of 30000 strings) */
                    int32_t p1 = (int32_t)i;
                    int64_t b1 = erow[e], ok = 1;
                    for (int32_t kk = 0; kk < j->n_keys && ok; kk++)
                        ok = pl_join_key_eq_compact(&pkv[kk], &j->bkeys[kk], &p1, &b1, 1);
                    if (!ok) continue;
                    pi[k] = p1;
                    bi[k] = b1;
                    k++;
                    e = e_end;
                    break;
                }
                pi[k] = (int32_t)i;
                bi[k] = erow[e];
                k++;
            }
        }
        if (++i >= n) {
            g->done = true;
            break;
        }
        if (i + 16 < n && bucket[i + 16] < NULL_BUCKET) __builtin_prefetch(&boff[bucket[i + 16]]);
        if (i + 8 < n && bucket[i + 8] < NULL_BUCKET) __builtin_prefetch(&ehash[boff[bucket[i + 8]]]);
        uint32_t b = bucket[i];
        if (b < NULL_BUCKET) {
            e = boff[b];
            e_end = boff[b + 1];
        } else {
            e = e_end = 0;
        }
    }
out:
    g->i = i;
    g->e = e;
    g->e_end = e_end;
    return k;
}

/* Dictionary map: row -> dictionary position -> build rows. */
static int64_t gen_map(worker_state *w, const jk_view *pk, gen_state *g, int32_t *pi, int64_t *bi,
                       int64_t cap) {
    int64_t k = 0, i = g->i, e = g->e, e_end = g->e_end, n = g->n;
    if (w->map_unique && i < 0 && !pk->avalid && pk->idx_w == 4 && cap >= n) {
        /* one pass: int32 indices, no NULL rows */
        const int32_t *idx = (const int32_t *)(const void *)pk->idx;
        const int64_t *m1 = w->m1;
        for (int64_t r = 0; r < n; r++) {
            int64_t b = m1[idx[r]];
            pi[k] = (int32_t)r;
            bi[k] = b;
            k += b >= 0;
        }
        g->i = n;
        g->done = true;
        return k;
    }
    for (;;) {
        for (; e < e_end; e++) {
            if (k == cap) goto out;
            pi[k] = (int32_t)i;
            bi[k] = w->mrow[e];
            k++;
            if (g->first_only) {
                e = e_end;
                break;
            }
        }
        if (++i >= n) {
            g->done = true;
            break;
        }
        if (!pk->avalid || pl_bit_get(pk->avalid, pk->aoff + i)) {
            int64_t pos = jk_raw(pk, i);
            e = w->moff[pos];
            e_end = w->moff[pos + 1];
        } else {
            e = e_end = 0;
        }
    }
out:
    g->i = i;
    g->e = e;
    g->e_end = e_end;
    return k;
}

/* Every (probe row, build row) pair. */
static int64_t gen_cross(join_op *j, gen_state *g, int32_t *pi, int64_t *bi, int64_t cap) {
    int64_t k = 0, i = g->i, e = g->e, e_end = g->e_end, n = g->n;
    for (;;) {
        int64_t m = PL_MIN(e_end - e, cap - k);
        for (int64_t x = 0; x < m; x++) {
            pi[k + x] = (int32_t)i;
            bi[k + x] = e + x;
        }
        k += m;
        e += m;
        if (e < e_end) break; /* full */
        if (++i >= n) {
            g->done = true;
            break;
        }
        e = 0;
        e_end = j->n_build;
    }
    g->i = i;
    g->e = e;
    g->e_end = e_end;
    return k;
}

/* ---------------------------------------------------------------- probe: per-row hashing */

/* Fills w->bucket (and w->k64 / w->h) for probe rows of the morsel from the key views. */
static pl_status probe_hash(join_op *j, worker_state *w, const jk_view *pk, int64_t n,
                            pl_error *err) {
    int shift = 64 - j->bits;
    bool may_null = false;
    for (int32_t k = 0; k < j->n_keys; k++) may_null |= pl_join_key_may_null(&pk[k]);
    if (may_null) memset(w->isnull, 0, (size_t)n);
    if (j->mode == MODE_INT) {
        pl_join_key_ints(&pk[0], 0, n, w->k64, may_null ? w->isnull : NULL);
        const int64_t *k64 = w->k64;
        uint32_t *bucket = w->bucket;
        for (int64_t i = 0; i < n; i++) bucket[i] = (uint32_t)(jk_hash_int(k64[i]) >> shift);
        if (may_null) {
            uint32_t nb = j->null_equal ? NULL_BUCKET : NO_BUCKET;
            for (int64_t i = 0; i < n; i++)
                if (w->isnull[i]) bucket[i] = nb;
        }
        return PL_OK;
    }
    for (int32_t k = 0; k < j->n_keys; k++)
        PL_TRY(pl_join_key_hash(&pk[k], 0, n, w->h, k > 0,
                                may_null && !j->kne[k] ? w->isnull : NULL, err));
    for (int64_t i = 0; i < n; i++) w->bucket[i] = (uint32_t)(w->h[i] >> shift);
    if (may_null && j->any_strict)
        for (int64_t i = 0; i < n; i++)
            if (w->isnull[i]) w->bucket[i] = NO_BUCKET;
    return PL_OK;
}

/* Maps the values of dictionary `dict` to build rows (w->moff/mrow, w->m1 when unique). */
static pl_status build_dict_map(join_op *j, worker_state *w, pl_array *dict, pl_error *err) {
    pl_array_release(w->dict);
    w->dict = NULL;
    pl_free(w->moff);
    pl_free(w->mrow);
    pl_free(w->m1);
    w->moff = NULL;
    w->mrow = NULL;
    w->m1 = NULL;
    int64_t dn = dict->length;
    jk_view dv;
    pl_join_key_view(&dv, dict);
    /* probe the dictionary values as rows */
    PL_TRY(ws_rows(w, dn, err));
    PL_TRY(probe_hash(j, w, &dv, dn, err));
    int64_t cnt = 0, cap = 0;
    int32_t *pi = NULL;
    int64_t *bi = NULL;
    gen_state g;
    gen_init(&g, dn, false);
    pl_status st = PL_OK;
    while (!g.done && !st) {
        int64_t c2 = cap;
        void *p1 = pi;
        st = grow(&p1, &c2, cnt + JOIN_BLOCK, sizeof *pi, err);
        pi = p1;
        if (st) break;
        c2 = cap;
        void *p2 = bi;
        st = grow(&p2, &c2, cnt + JOIN_BLOCK, sizeof *bi, err);
        bi = p2;
        if (st) break;
        cap = c2;
        int64_t k = j->mode == MODE_INT ? gen_int(j, w, &g, pi + cnt, bi + cnt, JOIN_BLOCK)
                                        : gen_hash(j, w, &g, &dv, pi + cnt, bi + cnt, JOIN_BLOCK);
        if (j->mode == MODE_GENERIC)
            k = pl_join_key_eq_compact(&dv, &j->bkeys[0], pi + cnt, bi + cnt, k);
        cnt += k;
    }
    if (!st) {
        w->moff = pl_calloc((size_t)dn + 1, sizeof *w->moff);
        w->mrow = pl_malloc(sizeof *w->mrow * (size_t)PL_MAX(cnt, 1));
        w->m1 = pl_malloc(sizeof *w->m1 * (size_t)PL_MAX(dn, 1));
        if (!w->moff || !w->mrow || !w->m1)
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory mapping a join key dictionary");
    }
    if (!st) {
        bool uniq = true;
        for (int64_t m = 0; m < cnt; m++) w->moff[pi[m] + 1]++;
        for (int64_t d = 0; d < dn; d++) {
            if (w->moff[d + 1] > 1) uniq = false;
            w->moff[d + 1] += w->moff[d];
        }
        for (int64_t m = 0; m < cnt; m++) w->mrow[m] = (uint32_t)bi[m]; /* pairs are in d order */
        for (int64_t d = 0; d < dn; d++)
            w->m1[d] = w->moff[d + 1] > w->moff[d] ? (int64_t)w->mrow[w->moff[d]] : -1;
        w->map_unique = uniq;
        w->dict = pl_array_retain(dict);
    }
    pl_free(pi);
    pl_free(bi);
    return st;
}

/* ---------------------------------------------------------------- probe: output */

/* A build column as a dictionary array over the whole build column: indices = build rows
 * (the output schema asked for dictionary<int32, T> where the build column is a plain T). */
static pl_status take_as_dict(pl_array *col, pl_type *type, const int64_t *bi, int64_t cnt,
                              pl_array **out, pl_error *err) {
    pl_buf *vals = NULL, *valid = NULL;
    PL_TRY(pl_buf_new(PL_MAX(cnt, 1) * 4, &vals, err));
    vals->size = cnt * 4;
    int32_t *ix = (int32_t *)(void *)vals->data;
    int64_t nulls = 0;
    bool col_nulls = col->validity && pl_array_null_count(col) > 0;
    for (int64_t m = 0; m < cnt; m++) {
        ix[m] = (int32_t)(bi[m] < 0 ? 0 : bi[m]);
        nulls += bi[m] < 0 || (col_nulls && !pl_array_is_valid(col, bi[m]));
    }
    if (nulls) {
        pl_status st = pl_buf_new_zeroed((cnt + 7) / 8 + 1, &valid, err);
        if (st) {
            pl_buf_release(vals);
            return st;
        }
        for (int64_t m = 0; m < cnt; m++)
            if (bi[m] >= 0 && (!col_nulls || pl_array_is_valid(col, bi[m]))) pl_bit_set(valid->data, m);
    }
    return pl_array_new(pl_type_retain(type), cnt, nulls, valid, vals, NULL, 0, NULL,
                        pl_array_retain(col), out, err);
}

static bool wants_dict(pl_array *col, const pl_type *out) {
    return out->id == PL_TYPE_DICTIONARY && col->type->id != PL_TYPE_DICTIONARY &&
           out->index_id == PL_TYPE_INT32 && pl_type_equals(out->value_type, col->type);
}

static pl_status make_output(join_op *j, pl_batch *in, const int32_t *pi, const int64_t *bi,
                             int64_t cnt, bool probe_null, pl_batch **out, pl_error *err) {
    int32_t nc = j->n_probe_out + j->n_build_out;
    pl_array **cols = pl_calloc((size_t)PL_MAX(nc, 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory making the join output");
    bool identity = !probe_null && in && cnt == in->n_rows;
    for (int64_t m = 0; identity && m < cnt; m++) identity = pi[m] == m;
    pl_status st = PL_OK;
    for (int32_t c = 0; c < j->n_probe_out && !st; c++) {
        if (probe_null)
            st = pl_array_new_nulls(j->out_schema->fields[c].type, cnt, &cols[c], err);
        else if (identity)
            cols[c] = pl_array_retain(in->columns[j->probe_out[c]]);
        else
            st = pl_array_take_i32(in->columns[j->probe_out[c]], pi, cnt, &cols[c], err);
    }
    for (int32_t c = 0; c < j->n_build_out && !st; c++) {
        pl_array *col = j->bcols[j->build_out[c]];
        pl_type *ot = j->out_schema->fields[j->n_probe_out + c].type;
        if (wants_dict(col, ot))
            st = take_as_dict(col, ot, bi, cnt, &cols[j->n_probe_out + c], err);
        else
            st = pl_array_take(col, bi, cnt, &cols[j->n_probe_out + c], err);
    }
    if (st) {
        for (int32_t c = 0; c < nc; c++) pl_array_release(cols[c]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_make(j->out_schema, cnt, cols, out, err);
    pl_free(cols);
    return st;
}

/* A join of one dictionary key against a unique build key (w->m1 of the morsel's dictionary)
 * where every row of the morsel finds its build row (inner and probe-outer joins, no
 * residual): the probe columns as they are, and each build column as a dictionary array over
 * the probe key's own indices whose values are the build values of the key dictionary's
 * entries: one take of the dictionary's length per morsel instead of a pair per row, a take
 * per row and column, and an identity check. *done = false (nothing made) when not
 * applicable: other kinds, NULL keys, a row without a match, build columns wanted as plain
 * arrays or holding NULLs for the rows' keys. */
static pl_status fk_output(join_op *j, worker_state *w, const jk_view *pk, pl_batch *in,
                           pl_batch **out, bool *done, pl_error *err) {
    *done = false;
    pl_array *key = pk->a;
    if ((j->kind != PL_JK_INNER && j->kind != PL_JK_PROBE_OUTER) || j->residual ||
        !w->map_unique || !w->m1 || !pk->idx || pk->idx_w != 4 || pk->avalid ||
        key->type->id != PL_TYPE_DICTIONARY || j->n_build == 0)
        return PL_OK;
    pl_type_id ix = key->type->index_id;
    for (int32_t c = 0; c < j->n_build_out; c++) {
        pl_array *col = j->bcols[j->build_out[c]];
        const pl_type *ot = j->out_schema->fields[j->n_probe_out + c].type;
        if (!col || ot->id != PL_TYPE_DICTIONARY || ot->index_id != ix) return PL_OK;
        const pl_type *vt = col->type->id == PL_TYPE_DICTIONARY ? col->type->value_type : col->type;
        if (!pl_type_equals(vt, ot->value_type)) return PL_OK;
    }
    int64_t dn = w->dict->length, n = in->n_rows, first = -1;
    bool all = true;
    for (int64_t d = 0; d < dn; d++) {
        if (w->m1[d] < 0) all = false;
        else if (first < 0) first = d;
    }
    if (first < 0) return PL_OK;
    if (!all) { /* some entries without a build row: no row may use them */
        const uint32_t *idx = (const uint32_t *)(const void *)pk->idx;
        int64_t miss = 0;
        for (int64_t r = 0; r < n; r++) {
            uint32_t d = idx[r];
            miss |= d >= (uint64_t)dn ? -1 : w->m1[d];
        }
        if (miss < 0) return PL_OK;
    }
    int64_t *m1x = pl_malloc(sizeof *m1x * (size_t)dn);
    int32_t nc = j->n_probe_out + j->n_build_out;
    pl_array **cols = pl_calloc((size_t)PL_MAX(nc, 1), sizeof *cols);
    pl_status st = PL_OK;
    if (!m1x || !cols) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory making the join output");
        goto out;
    }
    /* entries without a build row (no row uses them) take the first matched one's values */
    for (int64_t d = 0; d < dn; d++) m1x[d] = w->m1[d] >= 0 ? w->m1[d] : w->m1[first];
    for (int32_t c = 0; c < j->n_probe_out; c++) cols[c] = pl_array_retain(in->columns[j->probe_out[c]]);
    for (int32_t c = 0; c < j->n_build_out && !st; c++) {
        pl_array *col = j->bcols[j->build_out[c]];
        pl_type *ot = j->out_schema->fields[j->n_probe_out + c].type;
        pl_array *vals = NULL, *plain = NULL, *whole = NULL;
        st = pl_array_take(col, m1x, dn, &vals, err);
        if (!st) st = pl_array_decode_dictionary(vals, &plain, err);
        pl_array_release(vals);
        if (st) break;
        if (pl_array_null_count(plain) > 0) { /* NULL build values: the per-row path */
            pl_array_release(plain);
            goto out;
        }
        /* the key's indices (all of them, from element 0 of its buffer), then its rows */
        st = pl_array_new(pl_type_retain(ot), key->offset + n, 0, NULL, pl_buf_retain(key->values),
                          NULL, 0, NULL, plain, &whole, err);
        if (!st) st = pl_array_slice(whole, key->offset, n, &cols[j->n_probe_out + c], err);
        pl_array_release(whole);
    }
    if (!st) {
        st = pl_batch_make(j->out_schema, n, cols, out, err); /* takes the columns */
        memset(cols, 0, sizeof *cols * (size_t)nc);
        if (!st) *done = true;
    }
out:
    if (cols)
        for (int32_t c = 0; c < nc; c++) pl_array_release(cols[c]);
    pl_free(cols);
    pl_free(m1x);
    return st;
}

static void mark_build(join_op *j, const int64_t *bi, int64_t cnt) {
    uint64_t *m = j->matched;
    for (int64_t x = 0; x < cnt; x++) {
        int64_t r = bi[x];
        uint64_t bit = (uint64_t)1 << (r & 63);
        if (!(__atomic_load_n(&m[r >> 6], __ATOMIC_RELAXED) & bit))
            __atomic_fetch_or(&m[r >> 6], bit, __ATOMIC_RELAXED);
    }
}

static pl_status join_process(pl_op *op, pl_exec_ctx *ctx, int32_t worker, pl_batch *in,
                              pl_batch **out, pl_error *err) {
    join_op *j = op->impl;
    *out = NULL;
    PL_TRY(pl_exec_check(ctx, err));
    if (!j->prepared) PL_FAIL(err, PL_ERR_INTERNAL, "hash join probed before prepare");
    if (worker < 0 || worker >= j->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "hash join: worker id %d out of range", worker);
    int64_t n = in->n_rows;
    if (n == 0) return PL_OK;
    if (n > INT32_MAX) PL_FAIL(err, PL_ERR_LIMIT, "hash join probe morsel of %lld rows", (long long)n);
    int64_t t0 = pl_now_ns();
    worker_state *w = &j->ws[worker];
    pl_join_kind kind = j->kind;
    bool semi = kind == PL_JK_SEMI || kind == PL_JK_ANTI;
    bool first_only = semi && !j->residual;
    jk_view pk[8];
    jk_view *pkv = j->n_keys <= 8 ? pk : pl_malloc(sizeof *pkv * (size_t)j->n_keys);
    if (!pkv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in the hash join probe");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < j->n_keys && !st; k++) {
        pl_join_key_view(&pkv[k], in->columns[j->probe_keys[k]]);
        st = pl_join_key_check(&pkv[k], n, err); /* indices index maps and dictionaries */
    }
    /* how candidates are generated */
    enum { G_INT, G_HASH, G_MAP, G_CROSS, G_NONE } gk = G_CROSS;
    bool verify = false;
    if (st) {
        gk = G_NONE;
    } else if (j->mode != MODE_CROSS) {
        if (j->n_entries == 0 && j->n_null_rows == 0) {
            gk = G_NONE;
        } else if (j->n_keys == 1 && pkv[0].idx && pkv[0].v->length <= JOIN_DICT_MAP_MAX &&
                   !(j->null_equal && pkv[0].avalid)) {
            gk = G_MAP;
            if (w->dict != pkv[0].v) st = build_dict_map(j, w, pkv[0].v, err);
        } else {
            gk = j->mode == MODE_INT ? G_INT : G_HASH;
            verify = gk == G_HASH;
        }
    } else if (j->n_build == 0) {
        gk = G_NONE;
    }
    if (!st && gk == G_MAP) {
        bool done = false;
        st = fk_output(j, w, &pkv[0], in, out, &done, err);
        if (done || st) {
            if (pkv != pk) pl_free(pkv);
            return st;
        }
    }
    if (!st) st = ws_rows(w, n, err);
    if (!st && (gk == G_INT || gk == G_HASH)) st = probe_hash(j, w, pkv, n, err);
    /* candidates, verified and filtered in blocks */
    int64_t cnt = 0;
    gen_state g;
    gen_init(&g, n, first_only);
    if (gk == G_NONE) g.done = true;
    while (!st && !g.done) {
        int64_t block = j->residual ? JOIN_BLOCK : PL_MAX(JOIN_BLOCK, n);
        st = ws_pairs(j, w, cnt + block, err);
        if (st) break;
        int32_t *pi = w->pi + cnt;
        int64_t *bi = w->bi + cnt;
        int64_t k = 0;
        switch (gk) {
        case G_INT: k = gen_int(j, w, &g, pi, bi, block); break;
        case G_HASH: k = gen_hash(j, w, &g, pkv, pi, bi, block); break;
        case G_MAP: k = gen_map(w, &pkv[0], &g, pi, bi, block); break;
        default: k = gen_cross(j, &g, pi, bi, block); break;
        }
        if (verify)
            for (int32_t kk = 0; kk < j->n_keys && k; kk++)
                k = pl_join_key_eq_compact(&pkv[kk], &j->bkeys[kk], pi, bi, k);
        if (j->residual && k) st = residual_filter(j, ctx, in, pi, bi, k, &k, err);
        cnt += k;
        if (!st && !g.done) st = pl_exec_check(ctx, err);
    }
    if (pkv != pk) pl_free(pkv);
    if (st) return st;
    /* output by kind */
    if (kind_marks_build(kind) && cnt) mark_build(j, w->bi, cnt);
    if (kind_build_only(kind)) {
        /* nothing now: the marked (or unmarked) build rows are flushed at the end */
    } else if (semi) {
        st = ws_pairs(j, w, n, err);
        if (st) return st;
        memset(w->flag, 0, (size_t)n);
        for (int64_t m = 0; m < cnt; m++) w->flag[w->pi[m]] = 1;
        uint8_t want = kind == PL_JK_SEMI;
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            w->pi[k] = (int32_t)i;
            k += w->flag[i] == want;
        }
        cnt = k;
        if (cnt) st = make_output(j, in, w->pi, NULL, cnt, false, out, err);
    } else if (kind_keeps_probe(kind)) {
        int64_t unmatched = 0;
        memset(w->flag, 0, (size_t)n);
        for (int64_t m = 0; m < cnt; m++) w->flag[w->pi[m]] = 1;
        for (int64_t i = 0; i < n; i++) unmatched += !w->flag[i];
        int64_t total = cnt + unmatched;
        if (unmatched) {
            void *p = w->pi2;
            int64_t c = w->cap2;
            st = grow(&p, &c, total, sizeof *w->pi2, err);
            w->pi2 = p;
            if (!st) {
                c = w->cap2;
                p = w->bi2;
                st = grow(&p, &c, total, sizeof *w->bi2, err);
                w->bi2 = p;
            }
            if (st) return st;
            w->cap2 = c;
            int64_t m = 0, o = 0;
            for (int64_t i = 0; i < n; i++) {
                if (!w->flag[i]) {
                    w->pi2[o] = (int32_t)i;
                    w->bi2[o++] = -1;
                    continue;
                }
                for (; m < cnt && w->pi[m] == i; m++) {
                    w->pi2[o] = (int32_t)i;
                    w->bi2[o++] = w->bi[m];
                }
            }
            st = make_output(j, in, w->pi2, w->bi2, total, false, out, err);
        } else if (cnt) {
            st = make_output(j, in, w->pi, w->bi, cnt, false, out, err);
        }
    } else if (cnt) {
        st = make_output(j, in, w->pi, w->bi, cnt, false, out, err);
    }
    PL_UNUSED(t0); /* rows and time are counted by the pipeline driver */
    return st;
}

static pl_status join_flush(pl_op *op, pl_exec_ctx *ctx, pl_batch **out, pl_error *err) {
    join_op *j = op->impl;
    PL_UNUSED(ctx);
    *out = NULL;
    if (!kind_marks_build(j->kind) || !j->prepared) return PL_OK;
    /* the build rows whose mark is `want`: the matched ones for BUILD_SEMI, else unmatched */
    uint64_t want = j->kind == PL_JK_BUILD_SEMI;
    int64_t n = j->n_build, cnt = 0;
    for (int64_t w = 0; w < (n + 63) / 64; w++) cnt += __builtin_popcountll(j->matched[w]);
    if (!want) cnt = n - cnt; /* bits past the end are never set */
    if (cnt <= 0) return PL_OK;
    int64_t *idx = pl_malloc(sizeof *idx * (size_t)cnt);
    if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory emitting the join's build rows");
    int64_t k = 0;
    for (int64_t r = 0; r < n; r++)
        if (((j->matched[r >> 6] >> (r & 63)) & 1) == want) idx[k++] = r;
    pl_status st = make_output(j, NULL, NULL, idx, cnt, true, out, err);
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- constructor */

static bool is_int_type(pl_type_id id) {
    return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64;
}

static const pl_type *value_type(const pl_type *t) {
    return t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
}

static pl_status check_spec(const pl_join_spec *spec, pl_schema *ps, pl_schema *bs,
                            pl_error *err) {
    if (spec->kind < PL_JK_INNER || spec->kind > PL_JK_BUILD_ANTI)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "hash join: unknown join kind %d", (int)spec->kind);
    if (spec->n_keys < 0 || spec->n_probe_out < 0 || spec->n_build_out < 0)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "hash join: negative column count");
    for (int32_t k = 0; k < spec->n_keys; k++) {
        int32_t p = spec->probe_keys[k], b = spec->build_keys[k];
        if (p < 0 || p >= ps->n_fields || b < 0 || b >= bs->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "hash join: key %d refers to a missing column", k);
        const pl_type *pt = value_type(ps->fields[p].type), *bt = value_type(bs->fields[b].type);
        bool ok = pl_type_equals(pt, bt) ||
                  (is_int_type(pt->id) && is_int_type(bt->id)) ||
                  pt->id == PL_TYPE_NA || bt->id == PL_TYPE_NA;
        if (!ok) {
            char a[96], c[96];
            PL_FAIL(err, PL_ERR_TYPE, "hash join: key \"%s\" (%s) and \"%s\" (%s) differ in type",
                    ps->fields[p].name, pl_type_to_string(pt, a, sizeof a), bs->fields[b].name,
                    pl_type_to_string(bt, c, sizeof c));
        }
    }
    if ((spec->kind == PL_JK_SEMI || spec->kind == PL_JK_ANTI) && spec->n_build_out)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "hash join: semi/anti joins output probe columns only");
    if (kind_build_only(spec->kind) && spec->n_probe_out)
        PL_FAIL(err, PL_ERR_INVALID_ARG,
                "hash join: build-side semi/anti joins output build columns only");
    return pl_join_check_outputs(spec, ps, bs, "hash join", err);
}

pl_status pl_join_op_new(pl_exec_ctx *ctx, const pl_join_spec *spec, pl_schema *probe_schema,
                         pl_pipeline *build, pl_op **out, pl_error *err) {
    PL_UNUSED(ctx);
    pl_status st = check_spec(spec, probe_schema, pl_pipeline_schema(build), err);
    if (st) {
        pl_bexpr_free(spec->residual);
        pl_pipeline_free(build);
        return st;
    }
    pl_op *op = pl_calloc(1, sizeof *op);
    join_op *j = pl_calloc(1, sizeof *j);
    if (!op || !j) {
        pl_free(op);
        pl_free(j);
        pl_bexpr_free(spec->residual);
        pl_pipeline_free(build);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the hash join");
    }
    op->impl = j;
    op->name = "hash join probe";
    op->free = join_free;
    op->prepare = join_prepare;
    op->process = join_process;
    op->flush = join_flush;
    op->schema = pl_schema_retain(spec->out_schema);
    j->kind = spec->kind;
    j->n_keys = spec->n_keys;
    j->kne = pl_calloc((size_t)PL_MAX(spec->n_keys, 1), sizeof *j->kne);
    for (int32_t k = 0; j->kne && k < spec->n_keys; k++) {
        j->kne[k] = spec->key_null_equal ? spec->key_null_equal[k] : spec->null_equal;
        j->any_strict |= !j->kne[k];
    }
    j->null_equal = j->kne && spec->n_keys > 0 && j->kne[0];
    j->residual = spec->residual;
    j->n_probe_out = spec->n_probe_out;
    j->n_build_out = spec->n_build_out;
    j->out_schema = pl_schema_retain(spec->out_schema);
    j->probe_schema = pl_schema_retain(probe_schema);
    j->build_schema = pl_schema_retain(pl_pipeline_schema(build));
    j->build = build;
    st = j->kne ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory creating the hash join");
    if (!st) st = pl_join_copy_ints(spec->probe_keys, spec->n_keys, &j->probe_keys, err);
    if (!st) st = pl_join_copy_ints(spec->build_keys, spec->n_keys, &j->build_keys, err);
    if (!st) st = pl_join_copy_ints(spec->probe_out, spec->n_probe_out, &j->probe_out, err);
    if (!st) st = pl_join_copy_ints(spec->build_out, spec->n_build_out, &j->build_out, err);
    if (!st && j->residual) st = make_res_schema(j, err);
    if (st) {
        join_free(op);
        return st;
    }
    *out = op;
    return PL_OK;
}
