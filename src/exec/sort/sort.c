/* sort.c - the sort sink: ORDER BY (stable) and top-N (ORDER BY ... LIMIT/OFFSET).
 *
 * consume() keeps each morsel (a reference) in the calling worker's list with its seq. finish()
 * orders the morsels by seq, concatenates each column (so row ids are the input order), builds
 * normalised keys and radix-sorts them on the pool (sort_keys.c), then gathers the output
 * batches in parallel. Ties keep the input order (seq, then row).
 *
 * Top-N (limit >= 0) keeps memory bounded: every row carries an order tag (seq << 32 | row) and
 * a worker whose buffered rows exceed max(2 * (offset + limit), TOPN_COMPACT_MIN) sorts them by
 * (keys, tag) and keeps only the first offset + limit rows; finish() does the same over all
 * workers' survivors and returns rows [offset, offset + limit). */
#include <stdatomic.h>
#include <stdlib.h>

#include "exec/sort/sort_int.h"

#define SORT_OUT_ROWS (1 << 18)
#define TOPN_COMPACT_MIN (1 << 16)
#define TOPN_FILTER_ROWS 4096

typedef struct sort_part {
    pl_batch *b;
    pl_array *tag; /* top-N: INT64 order tags, else NULL */
    int64_t seq;
} sort_part;

typedef struct sort_local {
    sort_part *parts;
    int64_t n_parts, cap;
    int64_t rows;
    uint8_t *boundary; /* top-N: key bytes of the last kept row once `keep` rows were seen */
    int64_t charged;   /* bytes charged to the query for the buffered parts */
    char pad[64];
} sort_local;

typedef struct sort_sink {
    pl_schema *schema;
    int32_t n_keys;
    int32_t *cols;
    bool *desc, *nulls_first;
    int64_t offset, limit, keep; /* keep: offset + limit (saturated) with top-N */
    bool topn;
    int32_t n_workers;
    sort_local *locals;
    pl_exec_ctx *ctx; /* charged memory not yet released is given back on free */
} sort_sink;

/* ---------------------------------------------------------------- parallel error helper */

typedef struct par_err {
    atomic_int failed;
    pl_error err;
    pl_status st;
} par_err;

static void par_err_record(par_err *pe, pl_status st, const pl_error *e) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&pe->failed, &expect, 1)) {
        pe->st = st;
        pe->err = *e;
    }
}

static pl_status par_err_take(par_err *pe, pl_error *err) {
    if (!atomic_load(&pe->failed)) return PL_OK;
    if (err) *err = pe->err;
    return pe->st;
}

/* ---------------------------------------------------------------- sorting a set of parts */

typedef struct sorted_set {
    int64_t n;
    int32_t n_cols;
    pl_array **cols; /* concatenated input columns */
    pl_array *tag;   /* concatenated tags (top-N) */
    pl_sortkeys keys;
} sorted_set;

static void sorted_set_reset(sorted_set *ss) {
    if (ss->cols)
        for (int32_t c = 0; c < ss->n_cols; c++) pl_array_release(ss->cols[c]);
    pl_free(ss->cols);
    pl_array_release(ss->tag);
    pl_sortkeys_reset(&ss->keys);
    memset(ss, 0, sizeof *ss);
}

typedef struct concat_job {
    sort_sink *s;
    pl_batch **batches;
    pl_array **tags;
    int64_t n;
    sorted_set *ss;
    par_err pe;
} concat_job;

static void concat_task(void *arg, int64_t c, int32_t worker) {
    PL_UNUSED(worker);
    concat_job *j = arg;
    if (atomic_load(&j->pe.failed)) return;
    pl_error e;
    memset(&e, 0, sizeof e);
    pl_status st;
    if (c == j->ss->n_cols) {
        st = j->n == 1 ? (j->ss->tag = pl_array_retain(j->tags[0]), PL_OK)
                       : pl_array_concat(j->n, j->tags, &j->ss->tag, &e);
    } else {
        st = pl_sort_concat_column(j->n, j->batches, (int32_t)c,
                                   j->s->schema->fields[c].type, &j->ss->cols[c], &e);
    }
    if (st) par_err_record(&j->pe, st, &e);
}

/* Concatenates the parts (in the given order) and sorts them by the keys (then the tags). */
static pl_status sort_parts(sort_sink *s, sort_part *parts, int64_t n_parts, int32_t n_threads,
                            sorted_set *ss, pl_error *err) {
    memset(ss, 0, sizeof *ss);
    ss->n_cols = s->schema->n_fields;
    pl_batch **batches = pl_malloc(sizeof(pl_batch *) * (size_t)PL_MAX(n_parts, 1));
    pl_array **tags = pl_malloc(sizeof(pl_array *) * (size_t)PL_MAX(n_parts, 1));
    ss->cols = pl_calloc((size_t)PL_MAX(ss->n_cols, 1), sizeof(pl_array *));
    pl_array **keys = pl_malloc(sizeof(pl_array *) * (size_t)(s->n_keys + 1));
    bool *desc = pl_malloc((size_t)s->n_keys + 1), *nf = pl_malloc((size_t)s->n_keys + 1);
    pl_status st = PL_OK;
    if (!batches || !tags || !ss->cols || !keys || !desc || !nf) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory sorting");
        goto done;
    }
    for (int64_t i = 0; i < n_parts; i++) {
        batches[i] = parts[i].b;
        tags[i] = parts[i].tag;
        ss->n += parts[i].b->n_rows;
    }
    concat_job cj;
    memset(&cj, 0, sizeof cj);
    cj.s = s;
    cj.batches = batches;
    cj.tags = tags;
    cj.n = n_parts;
    cj.ss = ss;
    atomic_init(&cj.pe.failed, 0);
    pl_parallel_for(ss->n_cols + (s->topn && n_parts > 0 ? 1 : 0), n_threads, concat_task, &cj);
    if ((st = par_err_take(&cj.pe, err))) goto done;
    int32_t nk = s->n_keys;
    for (int32_t k = 0; k < s->n_keys; k++) {
        keys[k] = ss->cols[s->cols[k]];
        desc[k] = s->desc[k];
        nf[k] = s->nulls_first[k];
    }
    if (ss->tag) {
        keys[nk] = ss->tag;
        desc[nk] = false;
        nf[nk] = false;
        nk++;
    }
    st = pl_sortkeys_build(nk, keys, desc, nf, ss->n, n_threads,
                           s->topn ? PL_SORTKEYS_MARKERS : 0, &ss->keys, err);
done:
    pl_free(batches);
    pl_free(tags);
    pl_free(keys);
    pl_free(desc);
    pl_free(nf);
    if (st) sorted_set_reset(ss);
    return st;
}

/* Rows at sorted positions [lo, hi) as a batch (and their tags when tag_out). */
static pl_status gather_rows(sort_sink *s, sorted_set *ss, int64_t lo, int64_t hi,
                             pl_batch **out, pl_array **tag_out, pl_error *err) {
    int64_t n = hi - lo;
    int64_t *ids = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
    pl_array **cols = pl_calloc((size_t)PL_MAX(ss->n_cols, 1), sizeof(pl_array *));
    pl_status st = PL_OK;
    if (!ids || !cols) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory gathering sorted rows");
        goto fail;
    }
    pl_sortkeys_ids(&ss->keys, lo, hi, ids);
    for (int32_t c = 0; c < ss->n_cols && !st; c++) st = pl_array_take(ss->cols[c], ids, n, &cols[c], err);
    if (!st && tag_out) st = pl_array_take(ss->tag, ids, n, tag_out, err);
    if (st) goto fail;
    pl_free(ids);
    st = pl_batch_new(pl_schema_retain(s->schema), n, cols, out, err);
    if (st && tag_out) {
        pl_array_release(*tag_out);
        *tag_out = NULL;
    }
    pl_free(cols);
    return st;
fail:
    if (cols)
        for (int32_t c = 0; c < ss->n_cols; c++) pl_array_release(cols[c]);
    pl_free(cols);
    pl_free(ids);
    return st;
}

static void part_reset(sort_part *p) {
    pl_batch_release(p->b);
    pl_array_release(p->tag);
    p->b = NULL;
    p->tag = NULL;
}

/* Top-N: replaces a worker's parts by the first `keep` rows of their order. */
static pl_status compact(sort_sink *s, pl_exec_ctx *ctx, sort_local *l, pl_error *err) {
    sorted_set ss;
    PL_TRY(sort_parts(s, l->parts, l->n_parts, 1, &ss, err));
    int64_t hi = PL_MIN(ss.n, s->keep);
    sort_part np = {NULL, NULL, 0};
    pl_status st = gather_rows(s, &ss, 0, hi, &np.b, &np.tag, err);
    if (!st && hi == s->keep && hi > 0) {
        int32_t kb = ss.keys.key_off[s->n_keys];
        if (!l->boundary && !(l->boundary = pl_malloc((size_t)PL_MAX(kb, 1)))) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in top-N");
            pl_batch_release(np.b);
            pl_array_release(np.tag);
        } else {
            memcpy(l->boundary, ss.keys.recs + (hi - 1) * ss.keys.width, (size_t)kb);
        }
    }
    sorted_set_reset(&ss);
    if (st) return st;
    for (int64_t i = 0; i < l->n_parts; i++) part_reset(&l->parts[i]);
    l->parts[0] = np;
    l->n_parts = 1;
    l->rows = hi;
    if (ctx) {
        int64_t now = pl_sort_batch_bytes(np.b) + hi * 8;
        pl_exec_charge(ctx, now - l->charged, NULL); /* a release: cannot fail */
        l->charged = now;
    }
    return PL_OK;
}

static pl_status make_tags(int64_t seq, int64_t n, pl_array **out, pl_error *err) {
    pl_buf *v;
    PL_TRY(pl_buf_new(PL_MAX(n * 8, 1), &v, err));
    v->size = n * 8;
    int64_t *t = (int64_t *)(void *)v->data;
    for (int64_t i = 0; i < n; i++) t[i] = (seq << 32) | i;
    return pl_array_new(pl_type_simple(PL_TYPE_INT64), n, 0, NULL, v, NULL, 0, NULL, NULL, out, err);
}

/* Top-N once a boundary is known: the rows of in that may still belong to the result (key
 * bytes <= the boundary's; ties kept, the final sort settles them), with their tags. *out NULL
 * when none. */
static pl_status topn_filter(sort_sink *s, sort_local *l, int64_t seq, pl_batch *in,
                             pl_batch **out, pl_array **tag, pl_error *err) {
    *out = NULL;
    *tag = NULL;
    pl_array **keys = pl_malloc(sizeof(pl_array *) * (size_t)PL_MAX(s->n_keys, 1));
    int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)in->n_rows);
    if (!keys || !idx) {
        pl_free(keys);
        pl_free(idx);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory in top-N");
    }
    /* chunks of TOPN_FILTER_ROWS keep the key records in cache and the allocations small */
    int64_t m = 0;
    pl_status st = PL_OK;
    for (int64_t lo = 0; !st && lo < in->n_rows; lo += TOPN_FILTER_ROWS) {
        int64_t n = PL_MIN(TOPN_FILTER_ROWS, in->n_rows - lo);
        int32_t k = 0;
        while (!st && k < s->n_keys) {
            st = pl_array_slice(in->columns[s->cols[k]], lo, n, &keys[k], err);
            if (!st) k++;
        }
        pl_sortkeys sk;
        if (!st) st = pl_sortkeys_build(s->n_keys, keys, s->desc, s->nulls_first, n, 1,
                                        PL_SORTKEYS_MARKERS | PL_SORTKEYS_NO_SORT, &sk, err);
        while (k > 0) pl_array_release(keys[--k]);
        if (st) break;
        size_t kb = (size_t)sk.key_bytes;
        for (int64_t i = 0; i < n; i++) {
            idx[m] = lo + i;
            m += memcmp(sk.recs + i * sk.width, l->boundary, kb) <= 0;
        }
        pl_sortkeys_reset(&sk);
    }
    pl_free(keys);
    if (st) {
        pl_free(idx);
        return st;
    }
    if (m == 0) {
        pl_free(idx);
        return PL_OK;
    }
    pl_array **cols = pl_calloc((size_t)in->n_cols, sizeof(pl_array *));
    pl_buf *tv = NULL;
    if (!cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in top-N");
    for (int32_t c = 0; !st && c < in->n_cols; c++) st = pl_array_take(in->columns[c], idx, m, &cols[c], err);
    if (!st) st = pl_buf_new(m * 8, &tv, err);
    if (st) {
        for (int32_t c = 0; cols && c < in->n_cols; c++) pl_array_release(cols[c]);
        pl_free(cols);
        pl_free(idx);
        return st;
    }
    tv->size = m * 8;
    int64_t *t = (int64_t *)(void *)tv->data;
    for (int64_t i = 0; i < m; i++) t[i] = (seq << 32) | idx[i];
    pl_free(idx);
    st = pl_batch_new(pl_schema_retain(s->schema), m, cols, out, err);
    pl_free(cols);
    if (st) {
        pl_buf_release(tv);
        return st;
    }
    st = pl_array_new(pl_type_simple(PL_TYPE_INT64), m, 0, NULL, tv, NULL, 0, NULL, NULL, tag, err);
    if (st) {
        pl_batch_release(*out);
        *out = NULL;
    }
    return st;
}

static pl_status sort_consume(pl_sink *sink, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                              pl_batch *in, pl_error *err) {
    sort_sink *s = sink->impl;
    if (!in || in->n_rows == 0 || (s->topn && s->keep == 0)) return PL_OK;
    if (worker < 0 || worker >= s->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "sort: worker id %d out of range", worker);
    sort_local *l = &s->locals[worker];
    if (l->n_parts == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 16;
        sort_part *np = pl_realloc(l->parts, sizeof(sort_part) * (size_t)cap);
        if (!np) PL_FAIL(err, PL_ERR_NOMEM, "out of memory buffering rows to sort");
        l->parts = np;
        l->cap = cap;
    }
    sort_part p = {NULL, NULL, seq};
    if (s->topn) {
        if (seq < 0 || seq >= (1LL << 31) || in->n_rows >= (1LL << 32))
            PL_FAIL(err, PL_ERR_LIMIT, "top-N: morsel seq %lld or size out of range", (long long)seq);
        if (l->boundary) {
            PL_TRY(topn_filter(s, l, seq, in, &p.b, &p.tag, err));
            if (!p.b) return PL_OK;
            in = p.b;
        } else {
            PL_TRY(make_tags(seq, in->n_rows, &p.tag, err));
            p.b = pl_batch_retain(in);
        }
    } else {
        p.b = pl_batch_retain(in);
    }
    if (ctx) {
        int64_t bytes = pl_sort_batch_bytes(p.b) + (p.tag ? p.b->n_rows * 8 : 0);
        pl_status st = pl_exec_charge(ctx, bytes, err);
        if (st) {
            part_reset(&p);
            return st;
        }
        l->charged += bytes;
    }
    l->parts[l->n_parts++] = p;
    l->rows += in->n_rows;
    int64_t twice = s->keep > INT64_MAX / 2 ? INT64_MAX : 2 * s->keep;
    if (s->topn && l->rows >= PL_MAX(twice, TOPN_COMPACT_MIN) && l->n_parts > 1)
        PL_TRY(compact(s, ctx, l, err));
    return PL_OK;
}

static int cmp_seq(const void *a, const void *b) {
    int64_t x = ((const sort_part *)a)->seq, y = ((const sort_part *)b)->seq;
    return (x > y) - (x < y);
}

typedef struct out_job {
    sort_sink *s;
    sorted_set *ss;
    int64_t lo, hi;
    pl_batch **out;
    par_err pe;
} out_job;

static void out_task(void *arg, int64_t i, int32_t worker) {
    PL_UNUSED(worker);
    out_job *j = arg;
    if (atomic_load(&j->pe.failed)) return;
    pl_error e;
    memset(&e, 0, sizeof e);
    int64_t lo = j->lo + i * SORT_OUT_ROWS, hi = PL_MIN(j->hi, lo + SORT_OUT_ROWS);
    pl_status st = gather_rows(j->s, j->ss, lo, hi, &j->out[i], NULL, &e);
    if (st) par_err_record(&j->pe, st, &e);
}

static pl_status sort_finish(pl_sink *sink, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    sort_sink *s = sink->impl;
    int64_t t0 = pl_now_ns();
    int32_t n_threads = ctx && ctx->n_threads > 0 ? ctx->n_threads : pl_pool_threads();
    if (ctx) PL_TRY(pl_exec_check(ctx, err));
    int64_t n_parts = 0, charged = 0;
    for (int32_t w = 0; w < s->n_workers; w++) n_parts += s->locals[w].n_parts;
    sort_part *parts = pl_malloc(sizeof(sort_part) * (size_t)PL_MAX(n_parts, 1));
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory sorting");
    int64_t o = 0;
    for (int32_t w = 0; w < s->n_workers; w++) {
        sort_local *l = &s->locals[w];
        for (int64_t i = 0; i < l->n_parts; i++) parts[o++] = l->parts[i];
        l->n_parts = 0;
        l->rows = 0;
        charged += l->charged;
        l->charged = 0;
    }
    if (!s->topn) qsort(parts, (size_t)n_parts, sizeof(sort_part), cmp_seq);
    sorted_set ss;
    pl_status st = sort_parts(s, parts, n_parts, n_threads, &ss, err);
    for (int64_t i = 0; i < n_parts; i++) part_reset(&parts[i]);
    pl_free(parts);
    if (ctx) pl_exec_charge(ctx, -charged, NULL); /* the input is released (now in ss) */
    if (!st && ctx) st = pl_exec_check(ctx, err);
    if (st) {
        sorted_set_reset(&ss);
        return st;
    }
    int64_t lo = 0, hi = ss.n;
    if (s->topn) {
        lo = PL_MIN(s->offset, ss.n);
        hi = PL_MIN(ss.n, s->keep);
    }
    int64_t n_out = (hi - lo + SORT_OUT_ROWS - 1) / SORT_OUT_ROWS;
    out_job j;
    memset(&j, 0, sizeof j);
    j.s = s;
    j.ss = &ss;
    j.lo = lo;
    j.hi = hi;
    atomic_init(&j.pe.failed, 0);
    j.out = pl_calloc((size_t)PL_MAX(n_out, 1), sizeof(pl_batch *));
    pl_table *t = NULL;
    if (!j.out) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory sorting");
    if (!st) {
        pl_parallel_for(n_out, n_threads, out_task, &j);
        st = par_err_take(&j.pe, err);
    }
    sorted_set_reset(&ss);
    if (!st) st = pl_table_new(s->schema, &t, err);
    for (int64_t i = 0; !st && i < n_out; i++) st = pl_table_append(t, j.out[i], err);
    if (j.out)
        for (int64_t i = 0; i < n_out; i++) pl_batch_release(j.out[i]);
    pl_free(j.out);
    if (!st) st = pl_stream_from_table(t, out, err);
    if (!st) sink->rows_out = t->n_rows;
    pl_table_release(t);
    sink->time_ns += pl_now_ns() - t0;
    return st;
}

static void sort_free(pl_sink *sink) {
    if (!sink) return;
    sort_sink *s = sink->impl;
    if (s) {
        if (s->locals) {
            for (int32_t w = 0; w < s->n_workers; w++) {
                for (int64_t i = 0; i < s->locals[w].n_parts; i++) part_reset(&s->locals[w].parts[i]);
                pl_free(s->locals[w].parts);
                pl_free(s->locals[w].boundary);
                if (s->ctx && s->locals[w].charged) pl_exec_charge(s->ctx, -s->locals[w].charged, NULL);
            }
        }
        pl_free(s->locals);
        pl_free(s->cols);
        pl_free(s->desc);
        pl_free(s->nulls_first);
        pl_schema_release(s->schema);
        pl_free(s);
    }
    pl_free(sink);
}

pl_status pl_sort_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *cols,
                           const bool *desc, const bool *nulls_first, int64_t offset,
                           int64_t limit, pl_sink **out, pl_error *err) {
    if (n_keys < 0 || offset < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "sort: bad key count or offset");
    for (int32_t k = 0; k < n_keys; k++)
        if (cols[k] < 0 || cols[k] >= in->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "sort: key column %d out of range", cols[k]);
    pl_sink *sink = pl_calloc(1, sizeof *sink);
    sort_sink *s = pl_calloc(1, sizeof *s);
    if (sink) sink->impl = s;
    if (s) {
        s->n_workers = pl_pool_max_workers();
        s->locals = pl_calloc((size_t)s->n_workers, sizeof(sort_local));
        s->cols = pl_malloc(sizeof(int32_t) * (size_t)PL_MAX(n_keys, 1));
        s->desc = pl_malloc((size_t)PL_MAX(n_keys, 1));
        s->nulls_first = pl_malloc((size_t)PL_MAX(n_keys, 1));
    }
    if (!sink || !s || !s->locals || !s->cols || !s->desc || !s->nulls_first) {
        if (!sink) pl_free(s);
        sort_free(sink);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a sort");
    }
    for (int32_t k = 0; k < n_keys; k++) {
        s->cols[k] = cols[k];
        s->desc[k] = desc[k];
        s->nulls_first[k] = nulls_first[k];
        pl_type *t = in->fields[cols[k]].type;
        pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
        if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP) {
            char tb[64];
            sort_free(sink);
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot sort by column \"%s\" of type %s",
                    in->fields[cols[k]].name, pl_type_to_string(t, tb, sizeof tb));
        }
    }
    s->n_keys = n_keys;
    s->ctx = ctx;
    s->schema = pl_schema_retain(in);
    s->offset = offset;
    s->limit = limit;
    s->topn = limit >= 0;
    s->keep = s->topn ? (limit > INT64_MAX - offset ? INT64_MAX : offset + limit) : -1;
    sink->name = s->topn ? "top-n" : "sort";
    sink->consume = sort_consume;
    sink->finish = sort_finish;
    sink->free = sort_free;
    *out = sink;
    return PL_OK;
}
