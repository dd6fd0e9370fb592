/* sink.c - the hash aggregation sink (pl_agg_sink_new): per-worker group tables filled by
 * consume(), merged in finish() (serially when the groups are few, else partitioned by hash
 * bits with one partition per task), finalized into batches returned by a stream.
 *
 * consume(): group ids of the morsel's rows (table.c), then per aggregate the selected rows
 * (FILTER, NULL skipping) go to the streaming update (funcs.c) or are collected (holistic.c).
 * finish(): gmap[w][g] records where group g of worker table w ended up, so collected rows of
 * holistic aggregates can be placed after the merge. */
#include "exec/agg/agg_int.h"

#define AGG_SERIAL_MERGE_GROUPS (1 << 16) /* below this many groups in all: one-table merge */
#define AGG_PARTITION_BITS 6              /* 64 partitions for the parallel merge */
/* Results of count/sum/avg take their table's states from this size on (smaller ones are
 * copied: the rest of a large block would stay with a small result) */
#define AGG_ADOPT_BYTES (256 << 10)

/* ---------------------------------------------------------------- setup */

int64_t agg_split_groups = AGG_SPLIT_GROUPS;

int64_t pl_agg_set_split_groups(int64_t n) {
    int64_t before = agg_split_groups;
    agg_split_groups = n > 0 ? n : AGG_SPLIT_GROUPS;
    return before;
}

static void agg_sink_free(pl_sink *sk) {
    if (!sk) return;
    agg_sink *s = sk->impl;
    if (s) {
        if (s->tables)
            for (int32_t w = 0; w < s->n_workers; w++) agg_table_free(s->tables[w]);
        pl_free(s->tables);
        if (s->shared_split) {
            for (int32_t p = 0; p < AGG_N_PARTS; p++) {
                agg_table_free(s->parts[p]);
                pthread_mutex_destroy(&s->part_mu[p]);
            }
            pthread_mutex_destroy(&s->shared_mu);
        }
        if (s->aggs) {
            for (int32_t i = 0; i < s->n_aggs; i++) {
                pl_type_release(s->aggs[i].result_type);
                pl_free(s->aggs[i].sep);
            }
        }
        pl_free(s->aggs);
        pl_free(s->keys);
        pl_schema_release(s->in);
        pl_schema_release(s->out_schema);
        pl_free(s);
    }
    pl_free(sk);
}

static bool skips_nulls(const agg_rt *rt) {
    switch (rt->op) {
    case AOP_COUNT_STAR:
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_LIST: return false; /* NULLs are list elements */
    default: return true;
    }
}

static pl_status resolve_spec(agg_sink *s, const pl_agg_spec *sp, agg_rt *rt, pl_error *err) {
    pl_schema *in = s->in;
    memset(rt, 0, sizeof(*rt));
    rt->arg[0] = rt->arg[1] = -1;
    rt->op = agg_op_of(sp->name);
    if (rt->op == AOP__COUNT)
        PL_FAIL(err, PL_ERR_NOT_FOUND, "no aggregate function \"%s\"", sp->name ? sp->name : "");
    if (sp->n_args < 0 || sp->n_args > 4 || sp->n_order < 0 || sp->n_order > 4)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "aggregate %s: bad argument count", sp->name);
    if (rt->op == AOP_COUNT && sp->n_args == 0) rt->op = AOP_COUNT_STAR;
    rt->n_args = sp->n_args;
    pl_type *types[4] = {0};
    for (int32_t i = 0; i < sp->n_args; i++) {
        int32_t c = sp->args[i];
        if (c >= in->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "aggregate %s: argument column %d out of range",
                    sp->name, c);
        if (c < 0) {
            types[i] = sp->consts[i].type ? sp->consts[i].type : pl_type_simple(PL_TYPE_NA);
            continue;
        }
        types[i] = in->fields[c].type;
        if (i < 2) {
            rt->arg[i] = c;
            rt->arg_type[i] = agg_base_type(types[i]);
            rt->vk[i] = agg_vk_of(rt->arg_type[i]);
        }
    }
    if (rt->op != AOP_COUNT_STAR && rt->arg[0] < 0)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "aggregate %s over a constant: project it into a column",
                sp->name);
    bool two = rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX || rt->op == AOP_COVAR_POP ||
               rt->op == AOP_COVAR_SAMP || rt->op == AOP_CORR;
    if (two && rt->arg[1] < 0)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "aggregate %s over a constant: project it into a column",
                sp->name);
    if (sp->result_type) {
        rt->result_type = pl_type_retain(sp->result_type);
    } else {
        const pl_value *cp[4] = {0};
        for (int32_t i = 0; i < sp->n_args; i++) cp[i] = sp->args[i] < 0 ? &sp->consts[i] : NULL;
        PL_TRY(pl_agg_bind(sp->name, sp->n_args, types, cp, sp->distinct, &rt->result_type, err));
    }
    if (sp->filter_col >= in->n_fields)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "aggregate %s: filter column out of range", sp->name);
    rt->filter_col = sp->filter_col;
    /* a NULL (untyped) filter selects no row, as SQL's FILTER (WHERE NULL) */
    if (rt->filter_col >= 0 && agg_base_type(in->fields[rt->filter_col].type)->id != PL_TYPE_BOOL &&
        in->fields[rt->filter_col].type->id != PL_TYPE_NA)
        PL_FAIL(err, PL_ERR_TYPE, "aggregate %s: FILTER needs a boolean column", sp->name);
    bool ordered = rt->op == AOP_FIRST || rt->op == AOP_LAST || rt->op == AOP_STRING_AGG ||
                   rt->op == AOP_ANY_VALUE || rt->op == AOP_LIST;
    if (ordered) {
        rt->n_order = sp->n_order;
        for (int32_t i = 0; i < sp->n_order; i++) {
            if (sp->order_cols[i] < 0 || sp->order_cols[i] >= in->n_fields)
                PL_FAIL(err, PL_ERR_INVALID_ARG, "aggregate %s: ORDER BY column out of range",
                        sp->name);
            rt->order_cols[i] = sp->order_cols[i];
            rt->order_desc[i] = sp->order_desc[i];
            rt->order_nulls_first[i] = sp->order_nulls_first[i];
        }
    }
    /* min/max(x, n), arg_min/arg_max(x, key, n): x ordered by the key (x for min/max), best
     * first, cut to n in finish (holistic) */
    if (((rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX) && sp->n_args == 3) ||
        ((rt->op == AOP_MIN || rt->op == AOP_MAX) && sp->n_args == 2)) {
        int32_t ni = sp->n_args - 1;
        const pl_value *c = &sp->consts[ni];
        if (sp->args[ni] >= 0 || !c->type || c->is_null || c->type->id < PL_TYPE_INT8 ||
            c->type->id > PL_TYPE_UINT64)
            PL_FAIL(err, PL_ERR_SQL, "%s: the n value must be a constant integer", sp->name);
        if (c->v.i <= 0) PL_FAIL(err, PL_ERR_SQL, "%s: the n value must be > 0", sp->name);
        bool arg = rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX;
        rt->topn = c->v.i;
        rt->n_order = 1;
        rt->order_cols[0] = arg ? rt->arg[1] : rt->arg[0];
        rt->order_desc[0] = rt->op == AOP_ARG_MAX || rt->op == AOP_MAX;
        rt->order_nulls_first[0] = false;
    }
    /* approx_count_distinct is answered exactly, as count(DISTINCT x) (its result type was
     * bound above: BIGINT) */
    bool force_distinct = false;
    if (rt->op == AOP_APPROX_COUNT_DISTINCT) {
        rt->op = AOP_COUNT;
        force_distinct = true;
    }
    /* DISTINCT changes nothing for these */
    bool dup_free = rt->op == AOP_MIN || rt->op == AOP_MAX || rt->op == AOP_ANY_VALUE ||
                    rt->op == AOP_BOOL_AND || rt->op == AOP_BOOL_OR || rt->op == AOP_FIRST ||
                    rt->op == AOP_LAST || rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX ||
                    rt->op == AOP_BIT_AND || rt->op == AOP_BIT_OR;
    rt->distinct = (sp->distinct || force_distinct) && !dup_free && rt->op != AOP_COUNT_STAR && !rt->topn;
    rt->base_op = rt->op;
    bool by_value = rt->op == AOP_MIN || rt->op == AOP_MAX || rt->op == AOP_FIRST ||
                    rt->op == AOP_LAST || rt->op == AOP_ANY_VALUE || rt->op == AOP_LIST ||
                    rt->op == AOP_MODE || rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX;
    rt->nested = by_value && (agg_nested_type(rt->arg_type[0]) ||
                              ((rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX) &&
                               agg_nested_type(rt->arg_type[1])));
    if (rt->nested && !rt->topn && (rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX)) {
        /* the value of the best key (ties: the earliest row), found like first(x ORDER BY key) */
        rt->n_order = 1;
        rt->order_cols[0] = rt->arg[1];
        rt->order_desc[0] = rt->op == AOP_ARG_MAX;
        rt->order_nulls_first[0] = false;
    }
    rt->holistic = rt->nested || rt->distinct || rt->op == AOP_MEDIAN || rt->op == AOP_QUANTILE_CONT ||
                   rt->op == AOP_QUANTILE_DISC || rt->op == AOP_STRING_AGG || rt->op == AOP_LIST ||
                   rt->op == AOP_MODE || rt->op == AOP_ENTROPY || rt->n_order > 0;
    rt->width = rt->holistic ? 0 : agg_rt_width(rt);
    rt->q = 0.5;
    if (rt->op == AOP_QUANTILE_CONT || rt->op == AOP_QUANTILE_DISC) {
        const pl_value *c = &sp->consts[1];
        if (sp->n_args < 2 || sp->args[1] >= 0 || !c->type || c->is_null)
            PL_FAIL(err, PL_ERR_SQL, "%s: the quantile must be a constant", sp->name);
        if (c->type->id == PL_TYPE_FLOAT64 || c->type->id == PL_TYPE_FLOAT32) rt->q = c->v.f;
        else if (c->type->id >= PL_TYPE_INT8 && c->type->id <= PL_TYPE_INT64) rt->q = (double)c->v.i;
        else if (c->type->id == PL_TYPE_DECIMAL128) {
            rt->q = (double)c->v.dec.lo;
            for (int32_t i = 0; i < c->type->scale; i++) rt->q /= 10;
        } else PL_FAIL(err, PL_ERR_SQL, "%s: the quantile must be a number", sp->name);
        if (!(rt->q >= 0 && rt->q <= 1))
            PL_FAIL(err, PL_ERR_SQL, "%s: the quantile %g is not between 0 and 1", sp->name, rt->q);
    }
    if (rt->op == AOP_STRING_AGG) {
        const char *sep = ",";
        int64_t len = 1;
        if (sp->n_args >= 2) {
            if (sp->args[1] >= 0)
                PL_FAIL(err, PL_ERR_UNSUPPORTED, "string_agg: the separator must be a constant");
            const pl_value *c = &sp->consts[1];
            if (c->is_null || !c->str) {
                sep = "";
                len = 0;
            } else {
                sep = c->str;
                len = c->str_len;
            }
        }
        rt->sep = pl_malloc((size_t)len + 1);
        if (!rt->sep) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        memcpy(rt->sep, sep, (size_t)len);
        rt->sep[len] = 0;
        rt->sep_len = (int32_t)len;
    }
    return PL_OK;
}

static pl_status agg_sink_consume(pl_sink *sk, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                                  pl_batch *in, pl_error *err);
static pl_status agg_sink_finish(pl_sink *sk, pl_exec_ctx *ctx, pl_stream **out, pl_error *err);

pl_status agg_sink_new_plain(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *keys,
                             int32_t n_aggs, const pl_agg_spec *aggs, pl_schema *out_schema,
                             pl_sink **out, pl_error *err) {
    if (n_keys < 0 || n_aggs < 0 || !out_schema || out_schema->n_fields != n_keys + n_aggs)
        PL_FAIL(err, PL_ERR_INVALID_ARG,
                "aggregation: the output schema has %d columns, expected %d keys + %d aggregates",
                out_schema ? out_schema->n_fields : -1, n_keys, n_aggs);
    pl_sink *sk = pl_calloc(1, sizeof(*sk));
    agg_sink *s = pl_calloc(1, sizeof(*s));
    if (!sk || !s) {
        pl_free(sk);
        pl_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    sk->name = "hash aggregate";
    sk->impl = s;
    sk->consume = agg_sink_consume;
    sk->finish = agg_sink_finish;
    sk->free = agg_sink_free;
    s->ctx = ctx;
    s->in = pl_schema_retain(in);
    s->out_schema = pl_schema_retain(out_schema);
    s->n_keys = n_keys;
    s->n_aggs = n_aggs;
    s->n_workers = pl_exec_max_workers();
    pl_status st = PL_OK;
    s->keys = pl_calloc((size_t)PL_MAX(n_keys, 1), sizeof(int32_t));
    s->aggs = pl_calloc((size_t)PL_MAX(n_aggs, 1), sizeof(agg_rt));
    s->tables = pl_calloc((size_t)PL_MAX(s->n_workers, 1), sizeof(agg_table *));
    if (!s->keys || !s->aggs || !s->tables) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int32_t c = 0; c < n_keys; c++) {
        if (keys[c] < 0 || keys[c] >= in->n_fields) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "aggregation: key column %d out of range", keys[c]);
            goto fail;
        }
        s->keys[c] = keys[c];
        pl_type *t = agg_base_type(in->fields[keys[c]].type);
        if (t->id == PL_TYPE_LIST || t->id == PL_TYPE_STRUCT || t->id == PL_TYPE_MAP ||
            t->id == PL_TYPE_DICTIONARY) {
            char tb[64];
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "GROUP BY on a %s column (\"%s\") is not supported",
                              pl_type_to_string(t, tb, sizeof tb), in->fields[keys[c]].name);
            goto fail;
        }
    }
    for (int32_t i = 0; i < n_aggs && !st; i++) {
        st = resolve_spec(s, &aggs[i], &s->aggs[i], err);
        if (s->aggs[i].holistic) s->any_holistic = true;
    }
    if (st) goto fail;
    *out = sk;
    return PL_OK;
fail:
    agg_sink_free(sk);
    return st;
}

void agg_sink_share_splits(agg_sink *s) {
    if (s->shared_split || s->any_holistic) return;
    pthread_mutex_init(&s->shared_mu, NULL);
    for (int32_t p = 0; p < AGG_N_PARTS; p++) pthread_mutex_init(&s->part_mu[p], NULL);
    s->shared_split = true;
}

/* ---------------------------------------------------------------- consume */

/* Rows of the morsel an aggregate sees: FILTER TRUE and (when the function skips NULLs) its
 * arguments non-NULL. Returns the count; *use = false when that is every row. */
static int64_t make_sel(const agg_rt *rt, pl_batch *in, pl_array *const *args, int32_t *sel,
                        bool *use) {
    int64_t n = in->n_rows, m = n;
    *use = false;
    if (rt->filter_col >= 0) {
        pl_array *f = in->columns[rt->filter_col];
        m = 0;
        if (f->type->id == PL_TYPE_BOOL) {
            bool nulls = f->validity && pl_array_null_count(f) > 0;
            for (int64_t r = 0; r < n; r++) {
                sel[m] = (int32_t)r;
                m += (int)pl_bit_get(f->values->data, f->offset + r) &
                     (int)(!nulls || pl_bit_get(f->validity->data, f->offset + r));
            }
        }
        *use = true;
    }
    if (!skips_nulls(rt)) return m;
    int32_t n_check = (rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX || rt->op == AOP_COVAR_POP ||
                       rt->op == AOP_COVAR_SAMP || rt->op == AOP_CORR) ? 2 : 1;
    for (int32_t a = 0; a < n_check; a++) {
        pl_array *x = args[a];
        if (!x) continue;
        if (x->type->id == PL_TYPE_NA) return 0;
        if (!x->validity || pl_array_null_count(x) == 0) continue;
        const uint8_t *v = x->validity->data;
        int64_t o = x->offset, m2 = 0;
        if (!*use) {
            for (int64_t r = 0; r < n; r++) {
                sel[m2] = (int32_t)r;
                m2 += pl_bit_get(v, o + r);
            }
            *use = true;
        } else {
            for (int64_t k = 0; k < m; k++) {
                int32_t r = sel[k];
                sel[m2] = r;
                m2 += pl_bit_get(v, o + r);
            }
        }
        m = m2;
    }
    return m;
}

/* Every non-NULL index of a DICTIONARY key column is inside its dictionary. */
pl_status agg_check_indices(const pl_array *a, pl_error *err) {
    const void *p = pl_array_values_ptr(a);
    int64_t n = a->length, len = a->dictionary->length;
    bool bad = false;
    int64_t at = 0;
#define CHK(T)                                                                                     \
    {                                                                                              \
        const T *v = (const T *)p;                                                                 \
        for (int64_t r = 0; r < n; r++) bad |= (uint64_t)(int64_t)v[r] >= (uint64_t)len;           \
        if (bad)                                                                                   \
            for (at = 0; at < n && ((uint64_t)(int64_t)v[at] < (uint64_t)len ||                    \
                                    !pl_array_is_valid(a, at));                                    \
                 at++) {                                                                           \
            }                                                                                      \
    }
    switch (a->type->index_id) {
    case PL_TYPE_INT8: CHK(int8_t); break;
    case PL_TYPE_UINT8: CHK(uint8_t); break;
    case PL_TYPE_INT16: CHK(int16_t); break;
    case PL_TYPE_UINT16: CHK(uint16_t); break;
    case PL_TYPE_INT32: CHK(int32_t); break;
    case PL_TYPE_UINT32: CHK(uint32_t); break;
    default: CHK(int64_t); break;
    }
#undef CHK
    if (bad && at < n)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index out of range (size %lld) at row %lld",
                (long long)len, (long long)at);
    return PL_OK;
}

static pl_status agg_sink_consume(pl_sink *sk, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                                  pl_batch *in, pl_error *err) {
    agg_sink *s = sk->impl;
    PL_UNUSED(ctx);
    if (in->n_rows == 0) return PL_OK;
    bool done = false;
    PL_TRY(agg_dict_local(s, worker, in, &done, err));
    if (done) return PL_OK;
    pl_array *kc_stack[16];
    pl_array **kc = s->n_keys <= 16 ? kc_stack : pl_calloc((size_t)s->n_keys, sizeof(pl_array *));
    if (!kc) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int32_t c = 0; c < s->n_keys && !st; c++) {
        kc[c] = in->columns[s->keys[c]];
        if (kc[c]->type->id == PL_TYPE_DICTIONARY) st = agg_check_indices(kc[c], err);
    }
    if (!st) st = agg_consume_keys(s, worker, seq, in, kc, err);
    if (kc != kc_stack) pl_free(kc);
    return st;
}

/* The argument arrays of aggregate rt in the morsel (dictionaries decoded into own[]). */
static pl_status agg_args(const agg_rt *rt, pl_batch *in, pl_array **args, pl_array **own,
                          pl_error *err) {
    args[0] = args[1] = own[0] = own[1] = NULL;
    for (int32_t a = 0; a < 2; a++) {
        if (rt->arg[a] < 0) continue;
        args[a] = in->columns[rt->arg[a]];
        if (args[a]->type->id == PL_TYPE_DICTIONARY) {
            PL_TRY(pl_array_decode_dictionary(args[a], &own[a], err));
            args[a] = own[a];
        }
    }
    return PL_OK;
}

/* Per aggregate of a split morsel: its arguments and its rows grouped by partition. */
typedef struct split_agg {
    pl_array *args[2], *own[2];
    const int32_t *rows; /* t->prow, or rows[] below (a selection) */
    int32_t *sel_rows;   /* owned: the selected rows grouped by partition */
    int64_t off[AGG_N_PARTS + 1];
} split_agg;

/* Runs fn(arg, p) for every partition p holding rows of the morsel (t->poff, after
 * agg_table_partition), each under its lock when the partitions are shared: a partition that
 * another worker holds is skipped and taken up after the free ones (waiting only when every
 * pending one is busy); workers start at different partitions. */
typedef pl_status (*part_fn)(void *arg, int32_t p, pl_error *err);
static pl_status visit_parts(agg_table *t, int32_t worker, part_fn fn, void *arg, pl_error *err) {
    agg_sink *s = t->sink;
    uint64_t pending = 0;
    for (int32_t p = 0; p < AGG_N_PARTS; p++)
        if (t->poff[p + 1] > t->poff[p]) pending |= (uint64_t)1 << p;
    int32_t start = (int32_t)((int64_t)worker * AGG_N_PARTS / PL_MAX(s->n_workers, 1));
    pl_status st = PL_OK;
    while (pending && !st) {
        bool progress = false;
        for (int32_t j = 0; j < AGG_N_PARTS && !st; j++) {
            int32_t p = (start + j) & (AGG_N_PARTS - 1);
            if (!(pending >> p & 1)) continue;
            uint64_t left = pending & ~((uint64_t)1 << p);
            if (!agg_part_trylock(t, p)) { /* busy: later, unless it is the last one */
                if (left) continue;
                agg_part_lock(t, p);
            }
            st = fn(arg, p, err);
            agg_part_unlock(t, p);
            pending = left;
            progress = true;
        }
        if (!progress && pending && !st) { /* every pending one busy: wait for one */
            int32_t p = __builtin_ctzll(pending);
            agg_part_lock(t, p);
            agg_part_unlock(t, p);
        }
    }
    return st;
}

typedef struct split_ctx {
    agg_sink *s;
    agg_table *t;
    pl_array *const *kc;
    split_agg *sa;
    int64_t seq;
} split_ctx;

/* Partition p of a split morsel: its groups, then every aggregate's update. */
static pl_status split_part(void *arg, int32_t p, pl_error *err) {
    split_ctx *c = arg;
    agg_table *t = c->t;
    PL_TRY(agg_table_find_part(t, p, c->kc, t->gids, err));
    for (int32_t i = 0; i < c->s->n_aggs; i++) {
        split_agg *g = &c->sa[i];
        if (c->s->aggs[i].holistic || g->off[p + 1] == g->off[p]) continue;
        PL_TRY(agg_update(t->sub[p], i, &c->s->aggs[i], g->args, t->gids, g->rows + g->off[p],
                          g->off[p + 1] - g->off[p], c->seq, err));
    }
    return PL_OK;
}

/* Split mode: the morsel's rows grouped by partition; each partition in turn (the shared ones
 * under their mutex, taken without waiting while others are pending) finds its groups and
 * updates every aggregate, so a partition is locked once per morsel and a busy one is
 * skipped rather than waited for. */
static pl_status consume_split(agg_sink *s, agg_table *t, int32_t worker, int64_t seq,
                               pl_batch *in, pl_array *const *kc, pl_error *err) {
    int64_t n = in->n_rows;
    int32_t na = s->n_aggs;
    split_agg stack[4];
    split_agg *sa = na <= 4 ? stack : pl_calloc((size_t)na, sizeof(split_agg));
    if (!sa) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    memset(sa, 0, sizeof(split_agg) * (size_t)PL_MIN(na, 4));
    agg_table_partition(t, kc, n);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < na && !st; i++) {
        const agg_rt *rt = &s->aggs[i];
        split_agg *g = &sa[i];
        st = agg_args(rt, in, g->args, g->own, err);
        if (st) break;
        bool use;
        int64_t m = make_sel(rt, in, g->args, t->sel, &use);
        if (!use) {
            g->rows = t->prow;
            memcpy(g->off, t->poff, sizeof g->off);
            continue;
        }
        g->sel_rows = pl_malloc((size_t)PL_MAX(m, 1) * 4);
        if (!g->sel_rows) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        int64_t pos[AGG_N_PARTS];
        memset(g->off, 0, sizeof g->off);
        for (int64_t k = 0; k < m; k++) g->off[t->part[t->sel[k]] + 1]++;
        for (int32_t p = 0; p < AGG_N_PARTS; p++) g->off[p + 1] += g->off[p];
        memcpy(pos, g->off, sizeof pos);
        for (int64_t k = 0; k < m; k++) g->sel_rows[pos[t->part[t->sel[k]]]++] = t->sel[k];
        g->rows = g->sel_rows;
    }
    split_ctx c = {s, t, kc, sa, seq};
    if (!st) st = visit_parts(t, worker, split_part, &c, err);
    for (int32_t i = 0; i < na; i++) {
        pl_array_release(sa[i].own[0]);
        pl_array_release(sa[i].own[1]);
        pl_free(sa[i].sel_rows);
    }
    if (sa != stack) pl_free(sa);
    return st;
}

/* ---------------------------------------------------------------- morsel pre-aggregation
 * One 8-byte key without NULLs and streaming aggregates over fixed-width values: the morsel's
 * rows are grouped among themselves first (a small hash of its distinct keys; the states of
 * those groups in the worker's local table, which stays in cache), then each of the morsel's
 * groups is probed and combined into the worker's table once - instead of a probe and an
 * update per row and aggregate into a large table (and, split, partitioned rows). Pays when
 * rows repeat their keys within a morsel (time-ordered data: bars per symbol and minute). A
 * morsel with more than 1/AGG_LOCAL_RATIO as many groups as rows goes the usual way, and the
 * worker waits AGG_LOCAL_BACKOFF morsels before trying again. */
#define AGG_LOCAL_RATIO 8
#define AGG_LOCAL_MIN_ROWS 4096
#define AGG_LOCAL_BACKOFF 32

static bool local_eligible(const agg_sink *s, const agg_table *t, pl_array *const *kc, int64_t n) {
    if (s->n_keys != 1 || s->any_holistic || n < AGG_LOCAL_MIN_ROWS) return false;
    pl_array *k = kc[0];
    if (k->type->id == PL_TYPE_DICTIONARY || (k->validity && pl_array_null_count(k) > 0))
        return false;
    pl_type_id id = k->type->id;
    if (id != PL_TYPE_INT64 && id != PL_TYPE_UINT64 && id != PL_TYPE_TIMESTAMP &&
        id != PL_TYPE_TIME64)
        return false;
    if (t->direct && !t->direct_off) return false; /* array-indexed groups: cheap already */
    for (int32_t i = 0; i < s->n_aggs; i++)
        if (s->aggs[i].holistic || s->aggs[i].vk[0] == VK_STR || s->aggs[i].vk[1] == VK_STR)
            return false;
    return true;
}

/* Local group ids of the morsel's rows into t->gids, first rows into t->lrow; false (nothing to
 * undo) when the morsel has more than n / AGG_LOCAL_RATIO groups. */
static pl_status local_group(agg_table *t, const pl_array *k, int64_t n, int64_t *n_local,
                             bool *ok, pl_error *err) {
    int64_t lmax = n / AGG_LOCAL_RATIO;
    int64_t slots = 1024;
    while (slots < 2 * lmax) slots *= 2;
    if (t->lmask + 1 < slots) {
        uint32_t *ls = pl_calloc((size_t)slots, sizeof *ls);
        if (!ls) PL_FAIL(err, PL_ERR_NOMEM, "out of memory grouping a morsel");
        pl_free(t->lslot);
        t->lslot = ls;
        t->lmask = slots - 1;
    }
    if (t->lrow_cap < lmax) {
        int32_t *lr = pl_malloc(sizeof *lr * (size_t)PL_MAX(lmax, 1));
        if (!lr) PL_FAIL(err, PL_ERR_NOMEM, "out of memory grouping a morsel");
        pl_free(t->lrow);
        t->lrow = lr;
        t->lrow_cap = lmax;
    }
    const int64_t *kv = (const int64_t *)pl_array_values_ptr(k);
    uint32_t *slot = t->lslot, *gids = t->gids;
    int32_t *lrow = t->lrow;
    uint64_t mask = (uint64_t)t->lmask;
    int shift = 64 - __builtin_ctzll(mask + 1);
    int64_t L = 0;
    *ok = true;
    for (int64_t r = 0; r < n; r++) {
        int64_t x = kv[r];
        uint64_t i = ((uint64_t)x * 0x9E3779B97F4A7C15ull) >> shift;
        for (;;) {
            uint32_t e = slot[i];
            if (e == 0) {
                if (L == lmax) {
                    *ok = false;
                    break;
                }
                lrow[L] = (int32_t)r;
                slot[i] = (uint32_t)++L;
                gids[r] = (uint32_t)(L - 1);
                break;
            }
            if (kv[lrow[e - 1]] == x) {
                gids[r] = e - 1;
                break;
            }
            i = (i + 1) & mask;
        }
        if (!*ok) break;
    }
    /* clear the slots used (each group's slot is found past the ones cleared before it) */
    if (L * 8 > (int64_t)mask + 1) {
        memset(slot, 0, sizeof *slot * (size_t)(mask + 1));
    } else {
        for (int64_t g = 0; g < L; g++) {
            uint64_t i = ((uint64_t)kv[lrow[g]] * 0x9E3779B97F4A7C15ull) >> shift;
            while (slot[i] != (uint32_t)(g + 1)) i = (i + 1) & mask;
            slot[i] = 0;
        }
    }
    *n_local = L;
    return PL_OK;
}

static int64_t make_sel(const agg_rt *rt, pl_batch *in, pl_array *const *args, int32_t *sel,
                        bool *use);

/* Partition p of a split table: the local groups rows[0..n) probed (hashes by local group) and
 * combined, under the partition's lock when shared. */
static pl_status merge_part(agg_sink *s, agg_table *t, pl_array *keys, int32_t p,
                            const int32_t *rows, int64_t n, const uint64_t *hb, uint32_t *pg,
                            pl_error *err) {
    agg_table *d = t->sub[p], *loc = t->loc;
    pl_status st = agg_table_find(d, &keys, n, rows, hb, pg, err);
    for (int32_t i = 0; i < s->n_aggs && !st; i++)
        st = agg_combine(&s->aggs[i], d->states[i], &d->heaps[i], loc->states[i], &loc->heaps[i],
                         rows, pg, n, err);
    return st;
}

/* The local groups into a split worker table, one lock per partition: partitions whose lock
 * another worker holds are tried again after the others (workers also start at different
 * partitions), so that workers rarely wait for each other. */
static pl_status local_merge_split(agg_sink *s, agg_table *t, pl_array *keys, int64_t L,
                                   int32_t worker, pl_error *err) {
    uint64_t *hb = t->hbuf;
    agg_hash_column(keys, L, NULL, hb, false);
    int64_t off[AGG_N_PARTS + 1], pos[AGG_N_PARTS];
    memset(off, 0, sizeof off);
    for (int64_t g = 0; g < L; g++) {
        uint8_t p = (uint8_t)AGG_PART_OF(hb[g]);
        t->part[g] = p;
        off[p + 1]++;
    }
    for (int32_t p = 0; p < AGG_N_PARTS; p++) off[p + 1] += off[p];
    memcpy(pos, off, sizeof pos);
    for (int64_t g = 0; g < L; g++) t->prow[pos[t->part[g]]++] = (int32_t)g;
    uint32_t *pg = (uint32_t *)t->sel2;
    uint8_t left[AGG_N_PARTS];
    int32_t n_left = 0;
    int32_t start = (int32_t)(((uint32_t)worker * 37u) % AGG_N_PARTS);
    pl_status st = PL_OK;
    for (int32_t k = 0; k < AGG_N_PARTS && !st; k++) {
        int32_t p = (start + k) % AGG_N_PARTS;
        int64_t a = off[p], b = off[p + 1];
        if (a == b) continue;
        if (t->sub_shared && pthread_mutex_trylock(&s->part_mu[p]) != 0) {
            left[n_left++] = (uint8_t)p;
            continue;
        }
        st = merge_part(s, t, keys, p, t->prow + a, b - a, hb, pg + a, err);
        if (t->sub_shared) pthread_mutex_unlock(&s->part_mu[p]);
    }
    /* the partitions that were busy: tried a few more times, then waited for */
    for (int32_t pass = 0; n_left > 0 && !st; pass++) {
        int32_t m = 0;
        for (int32_t k = 0; k < n_left && !st; k++) {
            int32_t p = left[k];
            if (pass < 4) {
                if (pthread_mutex_trylock(&s->part_mu[p]) != 0) {
                    left[m++] = (uint8_t)p;
                    continue;
                }
            } else {
                pthread_mutex_lock(&s->part_mu[p]);
            }
            int64_t a = off[p], b = off[p + 1];
            st = merge_part(s, t, keys, p, t->prow + a, b - a, hb, pg + a, err);
            pthread_mutex_unlock(&s->part_mu[p]);
        }
        n_left = m;
    }
    return st;
}

/* The morsel through the local table into t; *done = false when it has too many groups (then
 * nothing changed). */
static pl_status consume_local(agg_sink *s, agg_table *t, int32_t worker, int64_t seq,
                               pl_batch *in, pl_array *const *kc, bool *done, pl_error *err) {
    int64_t n = in->n_rows, L = 0;
    bool ok = false;
    *done = false;
    PL_TRY(local_group(t, kc[0], n, &L, &ok, err));
    if (!ok) {
        t->loc_skip = AGG_LOCAL_BACKOFF;
        return PL_OK;
    }
    if (!t->loc) PL_TRY(agg_table_new(s, &t->loc, err));
    agg_table *loc = t->loc;
    PL_TRY(agg_table_reserve(loc, L, err));
    loc->n_groups = L;
    for (int32_t i = 0; i < s->n_aggs; i++) /* zero states (reserve leaves them as they are) */
        if (s->aggs[i].width) memset(loc->states[i], 0, (size_t)(L * s->aggs[i].width));
    pl_status st = PL_OK;
    /* min and max of the same column: one pass (the partner is marked done) */
    uint64_t paired = 0;
    for (int32_t i = 0; i < s->n_aggs && !st; i++) {
        const agg_rt *rt = &s->aggs[i];
        if (i < 64 && (paired >> i) & 1) continue;
        if ((rt->op == AOP_MIN || rt->op == AOP_MAX) && rt->arg[0] >= 0 &&
            in->columns[rt->arg[0]]->type->id != PL_TYPE_DICTIONARY) {
            pl_array *a = in->columns[rt->arg[0]];
            bool is_min = rt->op == AOP_MIN;
            int32_t j = i + 1;
            while (j < s->n_aggs && j < 64 &&
                   !(is_min ? agg_minmax_pair(rt, &s->aggs[j], a)
                            : agg_minmax_pair(&s->aggs[j], rt, a)))
                j++;
            if (j < s->n_aggs && j < 64) {
                pl_array *args[2] = {a, NULL};
                bool use;
                int64_t m = make_sel(rt, in, args, t->sel, &use);
                if (m > 0)
                    agg_update_minmax_pair(loc, is_min ? i : j, is_min ? j : i,
                                           is_min ? rt : &s->aggs[j], a, t->gids,
                                           use ? t->sel : NULL, m);
                paired |= 1ull << j;
                continue;
            }
        }
        pl_array *args[2] = {NULL, NULL};
        pl_array *own[2] = {NULL, NULL};
        for (int32_t a = 0; a < 2 && !st; a++) {
            if (rt->arg[a] < 0) continue;
            args[a] = in->columns[rt->arg[a]];
            if (args[a]->type->id == PL_TYPE_DICTIONARY) {
                st = pl_array_decode_dictionary(args[a], &own[a], err);
                args[a] = own[a];
            }
        }
        if (!st) {
            bool use;
            int64_t m = make_sel(rt, in, args, t->sel, &use);
            if (m > 0) st = agg_update(loc, i, rt, args, t->gids, use ? t->sel : NULL, m, seq, err);
        }
        pl_array_release(own[0]);
        pl_array_release(own[1]);
    }
    /* the morsel's groups into the worker's table: their keys (first rows), probed once */
    pl_array *keys = NULL;
    if (!st) st = pl_array_take_i32(kc[0], t->lrow, L, &keys, err);
    uint32_t *map = t->gids; /* the local ids are not needed any more */
    if (!st && t->n_sub > 0) {
        st = local_merge_split(s, t, keys, L, worker, err);
    } else if (!st) {
        st = agg_table_find(t, &keys, L, NULL, NULL, map, err);
        for (int32_t i = 0; i < s->n_aggs && !st; i++)
            st = agg_combine(&s->aggs[i], t->states[i], &t->heaps[i], loc->states[i],
                             &loc->heaps[i], NULL, map, L, err);
    }
    pl_array_release(keys);
    if (loc->overflow && !t->overflow) {
        t->overflow = true;
        t->overflow_spec = loc->overflow_spec;
    }
    loc->overflow = false;
    loc->n_groups = 0;
    if (!st) *done = true;
    return st;
}

static pl_status agg_after_consume(agg_sink *s, agg_table *t, pl_array *const *kc, pl_error *err);

pl_status agg_consume_keys(agg_sink *s, int32_t worker, int64_t seq, pl_batch *in,
                           pl_array *const *kc, pl_error *err) {
    if (worker < 0 || worker >= s->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "aggregation: worker id %d out of range", worker);
    int64_t n = in->n_rows;
    if (n == 0) return PL_OK;
    if (n > INT32_MAX) PL_FAIL(err, PL_ERR_LIMIT, "aggregation: morsel of %lld rows", (long long)n);
    if (!s->tables[worker]) PL_TRY(agg_table_new(s, &s->tables[worker], err));
    agg_table *t = s->tables[worker];
    PL_TRY(agg_table_scratch(t, n, err));
    pl_status st = PL_OK;
    if (t->loc_skip > 0) {
        t->loc_skip--;
    } else if (local_eligible(s, t, kc, n)) {
        bool done = false;
        PL_TRY(consume_local(s, t, worker, seq, in, kc, &done, err));
        if (done) return agg_after_consume(s, t, kc, err);
    }
    if (t->n_sub > 0) {
        PL_TRY(consume_split(s, t, worker, seq, in, kc, err));
        return agg_after_consume(s, t, kc, err);
    }
    PL_TRY(agg_table_find(t, kc, n, NULL, NULL, t->gids, err));
    if (t->n_groups <= AGG_HIST_GROUPS && n >= AGG_HIST_MIN_ROWS && t->n_sub == 0) {
        if (!t->hist) t->hist = pl_malloc(sizeof(int64_t) * AGG_HIST_GROUPS);
        if (t->hist) { /* without it the updates count per row as usual */
            t->hist_state = 1;
            t->hist_gids = t->gids;
        }
    }
    for (int32_t i = 0; i < s->n_aggs && !st; i++) {
        const agg_rt *rt = &s->aggs[i];
        pl_array *args[2], *own[2];
        st = agg_args(rt, in, args, own, err);
        if (!st) {
            bool use;
            int64_t m = make_sel(rt, in, args, t->sel, &use);
            if (rt->holistic)
                st = agg_collect_add(t, i, rt, in, args, t->gids, use ? t->sel : NULL, m, seq, err);
            else if (m > 0)
                st = agg_update(t, i, rt, args, t->gids, use ? t->sel : NULL, m, seq, err);
        }
        pl_array_release(own[0]);
        pl_array_release(own[1]);
    }
    t->hist_state = 0;
    t->hist_gids = NULL;
    if (st) return st;
    return agg_after_consume(s, t, kc, err);
}

/* many groups: radix-partition the table, unless a direct path (one dictionary key, one
 * small-range integer key) makes probing cheap anyway */
static pl_status agg_after_consume(agg_sink *s, agg_table *t, pl_array *const *kc, pl_error *err) {
    if (t->n_sub == 0 && !s->any_holistic && s->n_keys > 0 && t->n_groups > agg_split_groups &&
        !(s->n_keys == 1 && (kc[0]->type->id == PL_TYPE_DICTIONARY ||
                             (t->direct && !t->direct_off))))
        return agg_table_split(t, err);
    return PL_OK;
}

/* ---------------------------------------------------------------- finish */

typedef struct merge_ctx {
    agg_sink *s;
    int32_t n_tables;
    agg_table **tables;     /* worker tables */
    pl_array ***key_arrays; /* per worker table */
    uint32_t **gmap;        /* per worker table: group -> group in its final table */
    int32_t **part_rows;    /* per worker table: groups ordered by partition */
    int64_t **part_off;     /* per worker table: P + 1 offsets */
    int32_t n_parts;
    int32_t shift;
    agg_table **finals;     /* per partition */
    bool *adopted;          /* per partition: finals[p] is a worker's partition table */
    pl_batch **batches;     /* per partition */
    int64_t *base;          /* global gid of each final's first group */
    pl_array ***holistic;   /* per aggregate: the full-length result (holistic only) */
} merge_ctx;

static pl_status merge_into(agg_sink *s, agg_table *dst, agg_table *src, pl_array **keys,
                            const int32_t *sel, int64_t n, uint32_t *map, pl_error *err) {
    if (n == 0) return PL_OK;
    if (s->n_keys == 0) memset(map, 0, (size_t)n * 4);
    else PL_TRY(agg_table_find(dst, keys, n, sel, src->hashes, map, err));
    for (int32_t i = 0; i < s->n_aggs; i++) {
        const agg_rt *rt = &s->aggs[i];
        if (rt->holistic) continue;
        PL_TRY(agg_combine(rt, dst->states[i], &dst->heaps[i], src->states[i], &src->heaps[i], sel,
                           map, n, err));
    }
    if (src->overflow && !dst->overflow) {
        dst->overflow = true;
        dst->overflow_spec = src->overflow_spec;
    }
    return PL_OK;
}

/* Groups of an unsplit worker table ordered by partition. */
static pl_status part_count_task(void *arg, int64_t w, int32_t worker, pl_error *err) {
    merge_ctx *m = arg;
    PL_UNUSED(worker);
    agg_table *t = m->tables[w];
    if (t->n_sub) return PL_OK;
    int32_t P = m->n_parts;
    int64_t *off = pl_calloc((size_t)P + 1, 8);
    int32_t *rows = pl_malloc((size_t)PL_MAX(t->n_groups, 1) * 4);
    int64_t *pos = pl_malloc((size_t)P * 8);
    if (!off || !rows || !pos) {
        pl_free(off);
        pl_free(rows);
        pl_free(pos);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory partitioning groups");
    }
    for (int64_t g = 0; g < t->n_groups; g++) off[AGG_PART_OF(t->hashes[g]) + 1]++;
    for (int32_t p = 0; p < P; p++) off[p + 1] += off[p];
    memcpy(pos, off, (size_t)P * 8);
    for (int64_t g = 0; g < t->n_groups; g++) rows[pos[AGG_PART_OF(t->hashes[g])]++] = (int32_t)g;
    pl_free(pos);
    m->part_off[w] = off;
    m->part_rows[w] = rows;
    return PL_OK;
}

/* Partition p: the biggest whole source table (a partition table of a split worker table) is
 * adopted as the result and the other sources are merged into it. */
static pl_status part_merge_task(void *arg, int64_t p, int32_t worker, pl_error *err) {
    merge_ctx *m = arg;
    agg_sink *s = m->s;
    PL_UNUSED(worker);
    PL_TRY(pl_exec_check(s->ctx, err));
    int64_t total = 0, most = 0;
    int32_t adopt = -1;
    bool shared = s->shared_split && s->parts[p]; /* split tables share the partitions */
    for (int32_t w = 0; w < m->n_tables; w++) {
        agg_table *t = m->tables[w];
        if (shared && t->n_sub) continue;
        int64_t c = t->n_sub ? t->sub[p]->n_groups : m->part_off[w][p + 1] - m->part_off[w][p];
        total += c;
        most = PL_MAX(most, c);
        if (t->n_sub && c > 0 && (adopt < 0 || c > m->tables[adopt]->sub[p]->n_groups)) adopt = w;
    }
    agg_table *dst;
    if (shared) { /* freed with the sink */
        dst = s->parts[p];
        m->adopted[p] = true;
        total += dst->n_groups;
    } else if (adopt >= 0) {
        dst = m->tables[adopt]->sub[p];
        m->adopted[p] = true;
    } else {
        PL_TRY(agg_table_new(s, &dst, err));
        dst->dense = true;
    }
    m->finals[p] = dst;
    if (total == 0) return PL_OK;
    uint32_t *map = pl_malloc((size_t)PL_MAX(most, 1) * 4);
    if (!map) PL_FAIL(err, PL_ERR_NOMEM, "out of memory merging groups");
    pl_status st = agg_table_reserve(dst, total / 2 + 16, err);
    for (int32_t w = 0; w < m->n_tables && !st; w++) {
        if (w == adopt) continue;
        agg_table *t = m->tables[w];
        if (shared && t->n_sub) continue;
        if (t->n_sub) {
            agg_table *src = t->sub[p];
            if (src->n_groups == 0) continue;
            pl_array *keys_stack[16];
            pl_array **keys = s->n_keys <= 16 ? keys_stack : pl_calloc((size_t)s->n_keys, sizeof(pl_array *));
            if (!keys) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            st = agg_table_key_arrays(src, keys, err);
            if (!st) {
                st = merge_into(s, dst, src, keys, NULL, src->n_groups, map, err);
                for (int32_t c = 0; c < s->n_keys; c++) pl_array_release(keys[c]);
            }
            if (keys != keys_stack) pl_free(keys);
            continue;
        }
        int64_t a = m->part_off[w][p], b = m->part_off[w][p + 1];
        const int32_t *sel = m->part_rows[w] + a;
        st = merge_into(s, dst, t, m->key_arrays[w], sel, b - a, map, err);
        if (!st && m->gmap)
            for (int64_t k = 0; k < b - a; k++) m->gmap[w][sel[k]] = map[k];
    }
    pl_free(map);
    return st;
}

/* Output key columns: plain key arrays, wrapped as dictionaries where the schema says so. */
static pl_status key_output(pl_type *want, pl_array *plain, pl_array **out, pl_error *err) {
    if (want->id != PL_TYPE_DICTIONARY) {
        *out = plain;
        return PL_OK;
    }
    int64_t n = plain->length;
    pl_type_id ix = want->index_id;
    int32_t w = pl_type_simple(ix) ? pl_type_simple(ix)->byte_width : 4;
    int64_t max = w >= 8 ? INT64_MAX : ((int64_t)1 << (w * 8 - ((ix >= PL_TYPE_UINT8) ? 0 : 1))) - 1;
    if (n - 1 > max) {
        pl_array_release(plain);
        PL_FAIL(err, PL_ERR_LIMIT, "%lld groups do not fit a dictionary index of %d bytes",
                (long long)n, w);
    }
    pl_buf *idx = NULL, *valid = NULL;
    pl_status st = pl_buf_new_zeroed(PL_MAX(n * w, 1), &idx, err);
    if (st) {
        pl_array_release(plain);
        return st;
    }
    idx->size = n * w;
    for (int64_t i = 0; i < n; i++) {
        switch (w) {
        case 1: idx->data[i] = (uint8_t)i; break;
        case 2: ((uint16_t *)(void *)idx->data)[i] = (uint16_t)i; break;
        case 4: ((uint32_t *)(void *)idx->data)[i] = (uint32_t)i; break;
        default: ((uint64_t *)(void *)idx->data)[i] = (uint64_t)i; break;
        }
    }
    if (plain->validity) {
        valid = pl_buf_retain(plain->validity); /* offset 0: key arrays start at 0 */
    }
    return pl_array_new(pl_type_retain(want), n, plain->null_count, valid, idx, NULL, 0, NULL,
                        plain, out, err);
}

static pl_status final_task(void *arg, int64_t p, int32_t worker, pl_error *err) {
    merge_ctx *m = arg;
    agg_sink *s = m->s;
    PL_UNUSED(worker);
    agg_table *t = m->finals[p];
    int64_t n = t->n_groups;
    if (n == 0) return PL_OK;
    int32_t nc = s->n_keys + s->n_aggs;
    pl_array **cols = pl_calloc((size_t)PL_MAX(nc, 1), sizeof(pl_array *));
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = agg_table_key_arrays(t, cols, err);
    for (int32_t c = 0; c < s->n_keys && !st; c++) {
        pl_array *plain = cols[c];
        cols[c] = NULL;
        st = key_output(s->out_schema->fields[c].type, plain, &cols[c], err);
    }
    for (int32_t i = 0; i < s->n_aggs && !st; i++) {
        const agg_rt *rt = &s->aggs[i];
        if (rt->holistic) {
            pl_array *full = m->holistic[i][0];
            st = pl_array_slice(full, m->base[p], n, &cols[s->n_keys + i], err);
        } else if (agg_finalize_can_adopt(rt) && t->grp_cap * rt->width >= AGG_ADOPT_BYTES &&
                   n * 4 >= t->grp_cap) {
            /* the result takes the states (the table is not used after this) */
            uint8_t *sp = t->states[i];
            t->states[i] = NULL;
            st = agg_finalize_adopt(rt, sp, t->grp_cap * rt->width, n, &cols[s->n_keys + i], err);
        } else {
            st = agg_finalize(rt, t->states[i], &t->heaps[i], n, &cols[s->n_keys + i], err);
        }
    }
    if (st) {
        for (int32_t c = 0; c < nc; c++) pl_array_release(cols[c]);
        pl_free(cols);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(s->out_schema), n, cols, &m->batches[p], err);
    pl_free(cols);
    return st;
}

typedef struct agg_stream {
    pl_batch **batches;
    int64_t n, next;
} agg_stream;

static pl_status agg_stream_next(pl_stream *st, pl_batch **out, pl_error *err) {
    PL_UNUSED(err);
    agg_stream *a = st->impl;
    *out = NULL;
    while (a->next < a->n) {
        pl_batch *b = a->batches[a->next];
        a->batches[a->next++] = NULL;
        if (b) {
            *out = b;
            break;
        }
    }
    return PL_OK;
}

static void agg_stream_free(pl_stream *st) {
    if (!st) return;
    agg_stream *a = st->impl;
    if (a) {
        for (int64_t i = a->next; i < a->n; i++) pl_batch_release(a->batches[i]);
        pl_free(a->batches);
        pl_free(a);
    }
    pl_schema_release(st->schema);
    pl_free(st);
}

pl_status agg_batch_stream(pl_schema *schema, pl_batch **batches, int64_t n, pl_stream **out,
                           int64_t *rows, pl_error *err) {
    pl_stream *str = pl_calloc(1, sizeof(*str));
    agg_stream *as = pl_calloc(1, sizeof(*as));
    if (!str || !as) {
        pl_free(str);
        pl_free(as);
        for (int64_t i = 0; i < n; i++) pl_batch_release(batches[i]);
        pl_free(batches);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) total += batches[i] ? batches[i]->n_rows : 0;
    as->batches = batches;
    as->n = n;
    str->impl = as;
    str->next = agg_stream_next;
    str->free = agg_stream_free;
    str->schema = pl_schema_retain(schema);
    *rows = total;
    *out = str;
    return PL_OK;
}

static void merge_ctx_free(merge_ctx *m) {
    agg_sink *s = m->s;
    for (int32_t w = 0; w < m->n_tables; w++) {
        if (m->key_arrays && m->key_arrays[w]) {
            for (int32_t c = 0; c < s->n_keys; c++) pl_array_release(m->key_arrays[w][c]);
            pl_free(m->key_arrays[w]);
        }
        if (m->gmap) pl_free(m->gmap[w]);
        if (m->part_rows) pl_free(m->part_rows[w]);
        if (m->part_off) pl_free(m->part_off[w]);
    }
    if (m->finals) {
        for (int32_t p = 0; p < m->n_parts; p++) {
            /* finals that are worker tables (or their partitions) are freed with the sink */
            bool is_worker = m->adopted && m->adopted[p];
            for (int32_t w = 0; w < m->n_tables; w++) is_worker |= m->finals[p] == m->tables[w];
            if (!is_worker) agg_table_free(m->finals[p]);
        }
    }
    pl_free(m->adopted);
    if (m->batches)
        for (int32_t p = 0; p < m->n_parts; p++) pl_batch_release(m->batches[p]);
    if (m->holistic) {
        for (int32_t i = 0; i < s->n_aggs; i++) {
            if (m->holistic[i]) pl_array_release(m->holistic[i][0]);
            pl_free(m->holistic[i]);
        }
    }
    pl_free(m->holistic);
    pl_free(m->key_arrays);
    pl_free(m->gmap);
    pl_free(m->part_rows);
    pl_free(m->part_off);
    pl_free(m->finals);
    pl_free(m->batches);
    pl_free(m->base);
    pl_free(m->tables);
}

static pl_status do_finish(agg_sink *s, pl_exec_ctx *ctx, merge_ctx *m, pl_error *err) {
    m->s = s;
    m->tables = pl_calloc((size_t)PL_MAX(s->n_workers, 1) + 1, sizeof(agg_table *));
    if (!m->tables) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t total = 0;
    for (int32_t w = 0; w < s->n_workers; w++) {
        agg_table *t = s->tables[w];
        if (!t) continue;
        if (t->overflow)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "integer overflow in sum (INT64) of aggregate %d",
                    t->overflow_spec + 1);
        m->tables[m->n_tables++] = t;
        total += t->n_groups;
    }
    if (m->n_tables == 0) { /* no input rows: an empty table (one row when there are no keys) */
        PL_TRY(agg_table_new(s, &s->tables[0], err));
        m->tables[m->n_tables++] = s->tables[0];
        total = s->tables[0]->n_groups;
    }
    int32_t T = m->n_tables;
    bool any_split = false;
    for (int32_t w = 0; w < T; w++) any_split |= m->tables[w]->n_sub > 0;
    m->key_arrays = pl_calloc((size_t)T, sizeof(pl_array **));
    m->part_rows = pl_calloc((size_t)T, sizeof(int32_t *));
    m->part_off = pl_calloc((size_t)T, sizeof(int64_t *));
    if (!m->key_arrays || !m->part_rows || !m->part_off) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    if (s->any_holistic) { /* holistic aggregates need each worker group's final place */
        m->gmap = pl_calloc((size_t)T, sizeof(uint32_t *));
        if (!m->gmap) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t w = 0; w < T; w++) {
            m->gmap[w] = pl_malloc((size_t)PL_MAX(m->tables[w]->n_groups, 1) * 4);
            if (!m->gmap[w]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
    }
    bool partitioned = any_split || (T > 1 && total >= AGG_SERIAL_MERGE_GROUPS && s->n_keys > 0 &&
                                     ctx->n_threads != 1);
    if (!partitioned) {
        /* the largest table absorbs the others */
        int32_t big = 0;
        for (int32_t w = 1; w < T; w++)
            if (m->tables[w]->n_groups > m->tables[big]->n_groups) big = w;
        agg_table *dst = m->tables[big];
        m->n_parts = 1;
        m->finals = pl_calloc(1, sizeof(agg_table *));
        m->batches = pl_calloc(1, sizeof(pl_batch *));
        m->base = pl_calloc(1, sizeof(int64_t));
        if (!m->finals || !m->batches || !m->base) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        m->finals[0] = dst;
        if (m->gmap)
            for (int64_t g = 0; g < dst->n_groups; g++) m->gmap[big][g] = (uint32_t)g;
        for (int32_t w = 0; w < T; w++) {
            if (w == big) continue;
            PL_TRY(pl_exec_check(ctx, err));
            m->key_arrays[w] = pl_calloc((size_t)PL_MAX(s->n_keys, 1), sizeof(pl_array *));
            if (!m->key_arrays[w]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            PL_TRY(agg_table_key_arrays(m->tables[w], m->key_arrays[w], err));
            uint32_t *map = m->gmap ? m->gmap[w] : pl_malloc((size_t)PL_MAX(m->tables[w]->n_groups, 1) * 4);
            if (!map) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            pl_status st = merge_into(s, dst, m->tables[w], m->key_arrays[w], NULL,
                                      m->tables[w]->n_groups, map, err);
            if (!m->gmap) pl_free(map);
            if (st) return st;
        }
    } else {
        int32_t P = AGG_N_PARTS;
        m->n_parts = P;
        m->shift = 64 - AGG_PART_BITS;
        m->finals = pl_calloc((size_t)P, sizeof(agg_table *));
        m->adopted = pl_calloc((size_t)P, sizeof(bool));
        m->batches = pl_calloc((size_t)P, sizeof(pl_batch *));
        m->base = pl_calloc((size_t)P, sizeof(int64_t));
        if (!m->finals || !m->adopted || !m->batches || !m->base)
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t w = 0; w < T; w++) {
            if (m->tables[w]->n_sub) continue;
            m->key_arrays[w] = pl_calloc((size_t)PL_MAX(s->n_keys, 1), sizeof(pl_array *));
            if (!m->key_arrays[w]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            PL_TRY(agg_table_key_arrays(m->tables[w], m->key_arrays[w], err));
        }
        PL_TRY(pl_exec_parallel(ctx, T, part_count_task, m, err));
        PL_TRY(pl_exec_parallel(ctx, P, part_merge_task, m, err));
    }
    /* a sum overflow anywhere fails the query */
    for (int32_t p = 0; p < m->n_parts; p++)
        if (m->finals[p]->overflow)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "integer overflow in sum (INT64) of aggregate %d",
                    m->finals[p]->overflow_spec + 1);
    for (int32_t p = 1; p < m->n_parts; p++)
        m->base[p] = m->base[p - 1] + m->finals[p - 1]->n_groups;
    int64_t n_groups = m->base[m->n_parts - 1] + m->finals[m->n_parts - 1]->n_groups;
    if (s->any_holistic && m->gmap) {
        /* global group ids: partition-local ids plus their partition's base (one partition:
         * already global; its table absorbed the others and holds more groups than gmap) */
        for (int32_t w = 0; w < T && m->n_parts > 1; w++) {
            agg_table *t = m->tables[w];
            for (int64_t g = 0; g < t->n_groups; g++)
                m->gmap[w][g] += (uint32_t)m->base[t->hashes[g] >> m->shift];
        }
        m->holistic = pl_calloc((size_t)s->n_aggs, sizeof(pl_array **));
        if (!m->holistic) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t i = 0; i < s->n_aggs; i++) {
            if (!s->aggs[i].holistic) continue;
            PL_TRY(pl_exec_check(ctx, err));
            m->holistic[i] = pl_calloc(1, sizeof(pl_array *));
            if (!m->holistic[i]) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            PL_TRY(agg_holistic_finish(s, i, m->tables, m->n_tables, m->gmap, n_groups,
                                       m->holistic[i], err));
        }
    }
    PL_TRY(pl_exec_parallel(ctx, m->n_parts, final_task, m, err));
    return PL_OK;
}

static pl_status agg_sink_finish(pl_sink *sk, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    agg_sink *s = sk->impl;
    int64_t t0 = pl_now_ns();
    merge_ctx m;
    memset(&m, 0, sizeof(m));
    pl_status st = do_finish(s, ctx, &m, err);
    pl_batch **batches = st ? NULL : m.batches;
    int64_t n = m.n_parts;
    if (!st) m.batches = NULL;
    merge_ctx_free(&m);
    if (st) return st;
    pl_stream *str;
    int64_t rows;
    PL_TRY(agg_batch_stream(s->out_schema, batches, n, &str, &rows, err));
    sk->rows_out = rows;
    sk->time_ns += pl_now_ns() - t0;
    *out = str;
    return PL_OK;
}
