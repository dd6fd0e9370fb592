/* pack.c - GROUP BY on several keys packed into one 64-bit word (pl_agg_sink_new).
 *
 * When every key is a DICTIONARY column or an integer column (8..64-bit ints except UINT64,
 * DATE32, TIME64, TIMESTAMP), a key tuple becomes one INT64: each key has a bit field holding
 * its code, 0 for NULL, else
 *   dictionary keys: 1 + the value's number in the key's table of distinct values (shared by
 *                    the workers; each dictionary is resolved once per worker into an index ->
 *                    code array),
 *   integer keys:    1 + value - lo.
 * The aggregation itself runs in a plain sink (sink.c) whose one key is the packed word: a
 * fixed-width probe, 8 bytes of key per group, tables that split and merge as usual. finish()
 * unpacks the keys in parallel (dictionary keys come out as dictionary arrays over the distinct
 * values, without copying a string per group).
 *
 * The layout (bits and lo per key) is chosen from the first morsel, with the bits left over as
 * slack, and never changes. A key tuple that does not fit it (an integer outside its key's
 * range, a string numbered beyond its field) goes to a second plain sink over the
 * original keys. Whether a tuple fits does not depend on the morsel, so the two sinks hold
 * disjoint groups and their outputs are concatenated. Not used with holistic aggregates, when
 * the first morsel's keys already need more than 64 bits, or when table.c's direct map of
 * several small keys applies (<= AGG_MDICT_MAX_KEYS keys, product of ranges <=
 * AGG_MDICT_MAX_SIZE). */
#include <math.h>
#include <pthread.h>

#include "exec/agg/agg_int.h"

#define PK_REMAPS 4 /* dictionaries cached per worker and key */

enum { PK_UNDECIDED = 0, PK_PACKED, PK_PLAIN };

static bool g_pack_enabled = true;
void agg_pack_set_enabled(bool on) { g_pack_enabled = on; }

/* One dictionary resolved into codes. */
typedef struct pk_remap {
    pl_array *dict; /* retained (its address identifies it) */
    int64_t len;
    int32_t *code;  /* per dictionary index */
    int32_t max;    /* largest code */
} pk_remap;

typedef struct pk_key {
    int32_t col;      /* input column */
    bool coded;       /* codes from the value table (strings, dictionaries); else an integer */
    int32_t bits, shift;
    uint64_t n_codes; /* 1 << bits */
    int64_t lo;       /* integer keys: the value of code 1 */
    agg_sink vs;      /* coded keys: the value tables' owner (one key, no aggregates) */
    agg_table *vt;    /* coded keys: the distinct values; code = group id + 1 (under mu) */
    pl_array *values; /* finish: vt's values */
    pl_type *out_type; /* borrowed from the output schema */
} pk_key;

typedef struct pk_worker {
    pk_remap *remaps; /* nk * PK_REMAPS */
    int32_t *next;    /* per key: the cache slot to replace next */
    agg_table **lt;   /* per coded key: the values this worker has seen (local ids) */
    int32_t **l2g;    /* per coded key: local id -> code */
    int64_t *l2g_len;
    int32_t *l2g_max; /* largest code in l2g */
    pl_buf *packed;   /* scratch: the morsel's packed keys */
    int32_t *sel;     /* scratch: rows that fit, then rows that do not */
    uint8_t *bad;     /* scratch: per row, 1 = does not fit */
    int32_t **rc;     /* scratch per coded key: codes of the rows (plain arrays) */
    uint32_t *ids;    /* scratch: local ids */
    int64_t cap;
} pk_worker;

typedef struct pk_sink {
    pl_exec_ctx *ctx;
    pthread_mutex_t mu;
    int mode; /* PK_*: decided by the first morsel (under mu), read atomically */
    int32_t nk;
    pk_key *keys;
    pl_sink *plain;  /* the original keys: tuples that do not fit (or all, PK_PLAIN) */
    pl_sink *packed; /* one INT64 key, the packed tuple */
    pl_schema *out_schema;
    int32_t n_workers;
    pk_worker *w;
} pk_sink;

/* ---------------------------------------------------------------- setup */

static bool int_key_type(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_DATE32:
    case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: return true;
    default: return false;
    }
}

static void pk_free(pl_sink *sk) {
    if (!sk) return;
    pk_sink *ps = sk->impl;
    if (ps) {
        for (int32_t w = 0; ps->w && w < ps->n_workers; w++) {
            pk_worker *pw = &ps->w[w];
            for (int32_t i = 0; pw->remaps && i < ps->nk * PK_REMAPS; i++) {
                pl_array_release(pw->remaps[i].dict);
                pl_free(pw->remaps[i].code);
            }
            for (int32_t c = 0; c < ps->nk; c++) {
                if (pw->lt) agg_table_free(pw->lt[c]);
                if (pw->l2g) pl_free(pw->l2g[c]);
                if (pw->rc) pl_free(pw->rc[c]);
            }
            pl_free(pw->lt);
            pl_free(pw->l2g);
            pl_free(pw->l2g_len);
            pl_free(pw->l2g_max);
            pl_free(pw->rc);
            pl_free(pw->ids);
            pl_free(pw->remaps);
            pl_free(pw->next);
            pl_buf_release(pw->packed);
            pl_free(pw->sel);
            pl_free(pw->bad);
        }
        pl_free(ps->w);
        for (int32_t c = 0; ps->keys && c < ps->nk; c++) {
            agg_table_free(ps->keys[c].vt);
            pl_array_release(ps->keys[c].values);
        }
        pl_free(ps->keys);
        pl_sink_free(ps->plain);
        pl_sink_free(ps->packed);
        pl_schema_release(ps->out_schema);
        pthread_mutex_destroy(&ps->mu);
        pl_free(ps);
    }
    pl_free(sk);
}

/* Whether the keys can be packed at all (types), judged from the schemas. */
static bool packable(pl_schema *in, int32_t n_keys, const int32_t *keys, pl_schema *out_schema,
                     const agg_sink *plain) {
    if (!g_pack_enabled || n_keys < 2 || plain->any_holistic) return false;
    for (int32_t c = 0; c < n_keys; c++) {
        pl_type *t = in->fields[keys[c]].type, *o = out_schema->fields[c].type;
        if (t->id == PL_TYPE_UTF8 || t->id == PL_TYPE_BINARY) {
            if (!pl_type_equals(o, t)) return false;
        } else if (t->id == PL_TYPE_DICTIONARY) {
            if (o->id == PL_TYPE_DICTIONARY) {
                pl_type_id ix = o->index_id;
                if (ix != PL_TYPE_INT32 && ix != PL_TYPE_UINT32 && ix != PL_TYPE_INT64 &&
                    ix != PL_TYPE_UINT64)
                    return false;
                if (!pl_type_equals(o->value_type, t->value_type)) return false;
            } else if (!pl_type_equals(o, t->value_type)) {
                return false;
            }
        } else if (!int_key_type(t->id) || !pl_type_equals(o, t)) {
            return false;
        }
    }
    return true;
}

static pl_status pk_consume(pl_sink *sk, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                            pl_batch *in, pl_error *err);
static pl_status pk_finish(pl_sink *sk, pl_exec_ctx *ctx, pl_stream **out, pl_error *err);

pl_status pl_agg_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *keys,
                          int32_t n_aggs, const pl_agg_spec *aggs, pl_schema *out_schema,
                          pl_sink **out, pl_error *err) {
    pl_sink *plain = NULL;
    PL_TRY(agg_sink_new_plain(ctx, in, n_keys, keys, n_aggs, aggs, out_schema, &plain, err));
    if (!packable(in, n_keys, keys, out_schema, plain->impl)) {
        *out = plain;
        return PL_OK;
    }
    pl_sink *sk = pl_calloc(1, sizeof(*sk));
    pk_sink *ps = pl_calloc(1, sizeof(*ps));
    if (!sk || !ps) {
        pl_free(sk);
        pl_free(ps);
        pl_sink_free(plain);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&ps->mu, NULL);
    sk->name = plain->name;
    sk->impl = ps;
    sk->consume = pk_consume;
    sk->finish = pk_finish;
    sk->free = pk_free;
    ps->ctx = ctx;
    ps->plain = plain;
    ps->nk = n_keys;
    ps->out_schema = pl_schema_retain(out_schema);
    ps->n_workers = pl_exec_max_workers();
    pl_status st = PL_OK;
    pl_field *f_in = pl_calloc((size_t)in->n_fields + 1, sizeof(pl_field));
    pl_field *f_out = pl_calloc((size_t)n_aggs + 1, sizeof(pl_field));
    pl_schema *in_ext = NULL, *pk_out = NULL;
    ps->keys = pl_calloc((size_t)n_keys, sizeof(pk_key));
    ps->w = pl_calloc((size_t)PL_MAX(ps->n_workers, 1), sizeof(pk_worker));
    if (!f_in || !f_out || !ps->keys || !ps->w) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int32_t w = 0; w < ps->n_workers && !st; w++) {
        pk_worker *pw = &ps->w[w];
        pw->remaps = pl_calloc((size_t)n_keys * PK_REMAPS, sizeof(pk_remap));
        pw->next = pl_calloc((size_t)n_keys, sizeof(int32_t));
        pw->lt = pl_calloc((size_t)n_keys, sizeof(agg_table *));
        pw->l2g = pl_calloc((size_t)n_keys, sizeof(int32_t *));
        pw->l2g_len = pl_calloc((size_t)n_keys, sizeof(int64_t));
        pw->l2g_max = pl_calloc((size_t)n_keys, sizeof(int32_t));
        pw->rc = pl_calloc((size_t)n_keys, sizeof(int32_t *));
        if (!pw->remaps || !pw->next || !pw->lt || !pw->l2g || !pw->l2g_len || !pw->l2g_max ||
            !pw->rc)
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int32_t c = 0; c < n_keys && !st; c++) {
        pk_key *k = &ps->keys[c];
        k->col = keys[c];
        k->coded = in->fields[keys[c]].type->id == PL_TYPE_DICTIONARY ||
                   !int_key_type(in->fields[keys[c]].type->id);
        k->out_type = out_schema->fields[c].type;
        if (!k->coded) continue;
        k->vs.ctx = ctx;
        k->vs.in = in;
        k->vs.n_keys = 1;
        k->vs.keys = &k->col;
        st = agg_table_new(&k->vs, &k->vt, err);
        for (int32_t w = 0; w < ps->n_workers && !st; w++)
            st = agg_table_new(&k->vs, &ps->w[w].lt[c], err);
    }
    if (st) goto done;
    /* the packed sink: the input plus one INT64 column (the key), the output key replaced */
    for (int32_t i = 0; i < in->n_fields; i++) f_in[i] = in->fields[i];
    f_in[in->n_fields] = (pl_field){.name = "__packed", .type = pl_type_simple(PL_TYPE_INT64)};
    f_out[0] = (pl_field){.name = "__packed", .type = pl_type_simple(PL_TYPE_INT64)};
    for (int32_t i = 0; i < n_aggs; i++) f_out[1 + i] = out_schema->fields[n_keys + i];
    st = pl_schema_new(in->n_fields + 1, f_in, &in_ext, err);
    if (!st) st = pl_schema_new(n_aggs + 1, f_out, &pk_out, err);
    int32_t key = in->n_fields;
    if (!st) st = agg_sink_new_plain(ctx, in_ext, 1, &key, n_aggs, aggs, pk_out, &ps->packed, err);
    if (!st) agg_sink_share_splits(ps->packed->impl);
done:
    pl_free(f_in);
    pl_free(f_out);
    pl_schema_release(in_ext);
    pl_schema_release(pk_out);
    if (st) {
        pk_free(sk);
        return st;
    }
    *out = sk;
    return PL_OK;
}

/* ---------------------------------------------------------------- consume */

#define IDX_CASES(M)                                                                               \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_INT32: M(int32_t); break;                                                         \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_INT64: M(int64_t); break;

/* Integer key columns by storage type. */
#define INT_SWITCH(id, M)                                                                          \
    switch (id) {                                                                                  \
    case PL_TYPE_DATE32: M(int32_t); break;                                                        \
    case PL_TYPE_TIME64:                                                                           \
    case PL_TYPE_TIMESTAMP: M(int64_t); break;                                                     \
        IDX_CASES(M)                                                                               \
    default: break;                                                                                \
    }

/* Codes of values vals[0..n) of coded key c for worker w into codes[] (*max: an upper bound
 * of the codes): local ids from the worker's table, codes of ids new to the worker from the
 * shared table (under mu). */
static pl_status value_codes(pk_sink *ps, int32_t w, int32_t c, pl_array *vals, int64_t n,
                             int32_t *codes, int32_t *max, pl_error *err) {
    pk_worker *pw = &ps->w[w];
    agg_table *lt = pw->lt[c];
    uint32_t *ids = pw->ids;
    if (n == 0) {
        *max = pw->l2g_max[c];
        return PL_OK;
    }
    PL_TRY(agg_table_find(lt, &vals, n, NULL, NULL, ids, err));
    int64_t have = pw->l2g_len[c], now = lt->n_groups;
    if (now > have) {
        int32_t *l2g = pl_realloc(pw->l2g[c], (size_t)now * 4);
        int32_t *sel = pl_malloc((size_t)(now - have) * 4);
        uint32_t *g = pl_malloc((size_t)(now - have) * 4);
        if (l2g) pw->l2g[c] = l2g;
        pl_array *keys = NULL;
        pl_status st = !l2g || !sel || !g ? pl_error_set(err, PL_ERR_NOMEM, "out of memory")
                                          : agg_table_key_arrays(lt, &keys, err);
        if (!st) {
            for (int64_t i = have; i < now; i++) sel[i - have] = (int32_t)i;
            pthread_mutex_lock(&ps->mu);
            st = agg_table_find(ps->keys[c].vt, &keys, now - have, sel, NULL, g, err);
            pthread_mutex_unlock(&ps->mu);
        }
        int32_t mx = pw->l2g_max[c];
        for (int64_t i = have; i < now && !st; i++) {
            int32_t code = pl_array_is_valid(keys, i) ? (int32_t)g[i - have] + 1 : 0;
            l2g[i] = code;
            mx = code > mx ? code : mx;
        }
        pl_array_release(keys);
        pl_free(sel);
        pl_free(g);
        if (st) return st;
        pw->l2g_max[c] = mx;
        pw->l2g_len[c] = now;
    }
    const int32_t *l2g = pw->l2g[c];
    for (int64_t r = 0; r < n; r++) codes[r] = l2g[ids[r]];
    *max = pw->l2g_max[c];
    return PL_OK;
}

/* The codes of dictionary dict for worker w's key c. */
static pl_status get_remap(pk_sink *ps, int32_t w, int32_t c, pl_array *dict, pk_remap **out,
                           pl_error *err) {
    pk_worker *pw = &ps->w[w];
    pk_remap *r = &pw->remaps[c * PK_REMAPS];
    for (int32_t i = 0; i < PK_REMAPS; i++) {
        if (r[i].dict == dict && r[i].len == dict->length) {
            *out = &r[i];
            return PL_OK;
        }
    }
    pk_remap *m = &r[pw->next[c]];
    int64_t n = dict->length;
    int32_t *code = pl_malloc((size_t)PL_MAX(n, 1) * 4);
    if (!code) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int32_t mx = 0;
    pl_status st = PL_OK;
    if (n > pw->cap) { /* ids scratch for a dictionary longer than the morsel */
        uint32_t *ids = pl_realloc(pw->ids, (size_t)n * 4);
        if (!ids) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else pw->ids = ids;
    }
    if (!st) st = value_codes(ps, w, c, dict, n, code, &mx, err);
    if (n > pw->cap && !st) { /* keep ids at the morsel size */
        uint32_t *ids = pl_realloc(pw->ids, (size_t)PL_MAX(pw->cap, 1) * 4);
        if (ids) pw->ids = ids;
    }
    if (st) {
        pl_free(code);
        return st;
    }
    pw->next[c] = (pw->next[c] + 1) % PK_REMAPS;
    pl_array_release(m->dict);
    pl_free(m->code);
    m->dict = pl_array_retain(dict);
    m->len = n;
    m->code = code;
    m->max = mx;
    *out = m;
    return PL_OK;
}

static inline int32_t bitlen(uint64_t x) { return x ? 64 - __builtin_clzll(x) : 0; }

/* Per key of one morsel: its dictionary's codes, or its integer range. */
typedef struct pk_morsel {
    pl_array *a;
    pk_remap *m;       /* coded keys given as a dictionary */
    int32_t *row_code; /* coded keys given as a plain array: code per row */
    int32_t row_max;
    bool nulls;
    bool has;        /* integer keys: some value is not NULL */
    int64_t mn, mx;
} pk_morsel;

static void int_range(pk_morsel *km) {
    pl_array *a = km->a;
    int64_t n = a->length, mn = INT64_MAX, mx = INT64_MIN;
#define RANGE(T)                                                                                   \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (!km->nulls) {                                                                          \
            T tmn = n ? v[0] : 0, tmx = n ? v[0] : 0;                                              \
            for (int64_t r = 0; r < n; r++) {                                                      \
                tmn = v[r] < tmn ? v[r] : tmn;                                                     \
                tmx = v[r] > tmx ? v[r] : tmx;                                                     \
            }                                                                                      \
            if (n) mn = (int64_t)tmn, mx = (int64_t)tmx;                                           \
        } else {                                                                                   \
            for (int64_t r = 0; r < n; r++) {                                                      \
                if (!pl_bit_get(a->validity->data, a->offset + r)) continue;                       \
                int64_t x = (int64_t)v[r];                                                         \
                mn = x < mn ? x : mn;                                                              \
                mx = x > mx ? x : mx;                                                              \
            }                                                                                      \
        }                                                                                          \
    }
    INT_SWITCH(a->type->id, RANGE)
#undef RANGE
    km->has = mn <= mx;
    km->mn = mn;
    km->mx = mx;
}

/* The number of distinct values D that makes d distinct ones in n uniform draws likely
 * (D (1 - exp(-n / D)) = d); a large multiple of d when nearly every draw was new. */
static double estimate_distinct(double d, double n) {
    if (d <= 0) return 0;
    if (d >= 0.98 * n) return d * 64;
    double a = d, b = d * 64;
    for (int i = 0; i < 60; i++) {
        double m = (a + b) / 2;
        if (m * (1 - exp(-n / m)) < d) a = m;
        else b = m;
    }
    return b;
}

/* The layout from the first morsel of worker w (under mu): ps->mode becomes PK_PACKED or
 * PK_PLAIN. Bits: first what the morsel needs, then coded keys up to 5/4 of their estimated
 * number of values, then one more bit each, the rest to the integer keys (ranges, such as
 * time, tend to grow). */
static void decide(pk_sink *ps, int32_t w, const pk_morsel *km, int64_t n_rows) {
    int32_t nk = ps->nk, total = 0, n_int = 0;
    int32_t need[64], want[64];
    bool small = nk <= AGG_MDICT_MAX_KEYS;
    double prod = 1;
    for (int32_t c = 0; c < nk; c++) {
        pk_key *k = &ps->keys[c];
        uint64_t top; /* largest code needed */
        if (k->coded) {
            top = (uint64_t)k->vt->n_groups;
            small = small && km[c].m && !km[c].nulls;
            prod *= km[c].m ? (double)PL_MAX(km[c].m->len, 1) : 1e18;
            /* a dictionary holds a row group's values; a plain column's morsel a sample */
            double est = km[c].m ? (double)top
                                 : estimate_distinct((double)ps->w[w].lt[c]->n_groups, (double)n_rows);
            est = PL_MAX(est * 1.25, (double)top);
            want[c] = est >= 2147483647.0 ? 31 : bitlen((uint64_t)est);
        } else {
            n_int++;
            top = km[c].has ? (uint64_t)km[c].mx - (uint64_t)km[c].mn + 1 : 0;
            if (km[c].has && top == 0) top = UINT64_MAX; /* the whole int64 range */
            small = small && km[c].has && !km[c].nulls;
            prod *= km[c].has ? (double)top : 1e18;
            want[c] = 0;
        }
        need[c] = top == UINT64_MAX ? 65 : bitlen(top);
        total += need[c];
    }
    int mode = PK_PLAIN;
    if (total <= 64 && !(small && prod <= (double)AGG_MDICT_MAX_SIZE)) {
        int32_t spare = 64 - total;
        for (bool more = true; more && spare > 0;) { /* coded keys: up to the estimate */
            more = false;
            for (int32_t c = 0; c < nk && spare > 0; c++)
                if (ps->keys[c].coded && need[c] < want[c]) need[c]++, spare--, more = true;
        }
        for (int32_t c = 0; c < nk && spare > 0; c++) /* and one bit of growth each */
            if (ps->keys[c].coded && need[c] < 31) need[c]++, spare--;
        for (int32_t c = 0, i = 0; c < nk && n_int; c++) { /* the rest to the integer keys */
            if (ps->keys[c].coded) continue;
            int32_t give = spare / n_int + (i < spare % n_int ? 1 : 0);
            i++;
            need[c] = PL_MIN(need[c] + give, 62);
        }
        int32_t shift = 0;
        for (int32_t c = 0; c < nk; c++) {
            pk_key *k = &ps->keys[c];
            k->bits = need[c];
            k->shift = shift;
            k->n_codes = (uint64_t)1 << need[c];
            shift += need[c];
            if (k->coded) continue;
            /* values lo .. lo + n_codes - 2 fit; the first morsel's range in the middle */
            __int128 cap = (__int128)k->n_codes - 1;
            __int128 lo = km[c].has ? (__int128)km[c].mn - (cap - ((__int128)km[c].mx - km[c].mn + 1)) / 2
                                    : -(cap / 2);
            if (lo < INT64_MIN) lo = INT64_MIN;
            k->lo = (int64_t)lo;
        }
        mode = PK_PACKED;
    }
    __atomic_store_n(&ps->mode, mode, __ATOMIC_RELEASE);
}

static pl_status worker_scratch(pk_sink *ps, pk_worker *pw, int64_t n, pl_error *err) {
    if (n <= pw->cap) return PL_OK;
    int64_t m = PL_MAX(n, 1024);
    pl_buf *b = NULL;
    PL_TRY(pl_buf_new(m * 8, &b, err));
    pl_buf_release(pw->packed);
    pw->packed = b;
    pl_free(pw->sel);
    pl_free(pw->bad);
    pl_free(pw->ids);
    pw->sel = pl_malloc((size_t)m * 4);
    pw->bad = pl_malloc((size_t)m);
    pw->ids = pl_malloc((size_t)m * 4);
    bool ok = pw->sel && pw->bad && pw->ids;
    for (int32_t c = 0; c < ps->nk; c++) {
        pl_free(pw->rc[c]);
        pw->rc[c] = ps->keys[c].coded ? pl_malloc((size_t)m * 4) : NULL;
        ok = ok && (pw->rc[c] || !ps->keys[c].coded);
    }
    pw->cap = ok ? m : 0;
    if (!ok) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    return PL_OK;
}

/* The packed keys of the morsel into pk; rows that do not fit get bad[r] = 1 (*any_bad). */
static void encode(pk_sink *ps, const pk_morsel *km, int64_t n, uint64_t *pk, uint8_t *bad,
                   bool *any_bad) {
    memset(pk, 0, (size_t)n * 8);
    bool marked = false;
    for (int32_t c = 0; c < ps->nk; c++) {
        const pk_key *k = &ps->keys[c];
        pl_array *a = km[c].a;
        const uint8_t *vb = km[c].nulls ? a->validity->data : NULL;
        int64_t off = a->offset;
        int32_t sh = k->shift;
        uint64_t nc = k->n_codes;
        bool fast;
        if (k->coded) {
            const int32_t *code = km[c].m ? km[c].m->code : km[c].row_code;
            fast = (uint64_t)(km[c].m ? km[c].m->max : km[c].row_max) < nc;
            if (!fast && !marked) {
                memset(bad, 0, (size_t)n);
                marked = true;
            }
            if (!km[c].m) {
                for (int64_t r = 0; r < n; r++) {
                    uint64_t x = (uint64_t)code[r];
                    if (!fast && x >= nc) bad[r] = 1, x = 0;
                    pk[r] |= x << sh;
                }
                continue;
            }
#define DENC(T)                                                                                    \
    {                                                                                              \
        const T *ix = (const T *)pl_array_values_ptr(a);                                           \
        if (fast && !vb)                                                                           \
            for (int64_t r = 0; r < n; r++) pk[r] |= (uint64_t)code[ix[r]] << sh;                  \
        else                                                                                       \
            for (int64_t r = 0; r < n; r++) {                                                      \
                uint64_t x = vb && !pl_bit_get(vb, off + r) ? 0 : (uint64_t)code[ix[r]];           \
                if (!fast && x >= nc) bad[r] = 1, x = 0;                                           \
                pk[r] |= x << sh;                                                                  \
            }                                                                                      \
    }
            switch (a->type->index_id) {
                IDX_CASES(DENC)
            case PL_TYPE_UINT64: DENC(uint64_t); break;
            default: break;
            }
#undef DENC
            continue;
        }
        uint64_t cap = nc - 1; /* values lo .. lo + cap - 1 */
        uint64_t lo = (uint64_t)k->lo;
        fast = !km[c].has ||
               (km[c].mn >= k->lo && (uint64_t)km[c].mx - lo < cap);
        if (!fast && !marked) {
            memset(bad, 0, (size_t)n);
            marked = true;
        }
        int64_t slo = k->lo;
#define IENC(T)                                                                                    \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (fast && !vb)                                                                           \
            for (int64_t r = 0; r < n; r++) pk[r] |= ((uint64_t)(int64_t)v[r] - lo + 1) << sh;     \
        else                                                                                       \
            for (int64_t r = 0; r < n; r++) {                                                      \
                int64_t x = (int64_t)v[r];                                                         \
                uint64_t d = (uint64_t)x - lo;                                                     \
                uint64_t code = d + 1;                                                             \
                if (vb && !pl_bit_get(vb, off + r)) code = 0;                                      \
                else if (!fast && (x < slo || d >= cap)) bad[r] = 1, code = 0;                     \
                pk[r] |= code << sh;                                                               \
            }                                                                                      \
    }
        INT_SWITCH(a->type->id, IENC)
#undef IENC
    }
    *any_bad = false;
    if (marked)
        for (int64_t r = 0; r < n; r++) *any_bad |= bad[r];
}

static pl_status consume_packed(pk_sink *ps, int32_t worker, int64_t seq, pl_batch *in,
                                int64_t n, pl_buf *buf, pl_error *err) {
    buf->size = n * 8;
    pl_array *pa = NULL;
    PL_TRY(pl_array_new(pl_type_simple(PL_TYPE_INT64), n, 0, NULL, pl_buf_retain(buf), NULL, 0,
                        NULL, NULL, &pa, err));
    pl_status st = agg_consume_keys(ps->packed->impl, worker, seq, in, &pa, err);
    pl_array_release(pa);
    return st;
}

static pl_status pk_consume(pl_sink *sk, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                            pl_batch *in, pl_error *err) {
    pk_sink *ps = sk->impl;
    int64_t n = in->n_rows;
    if (n == 0) return PL_OK;
    int32_t nk = ps->nk;
    if (__atomic_load_n(&ps->mode, __ATOMIC_ACQUIRE) == PK_PLAIN || nk > 64)
        return ps->plain->consume(ps->plain, ctx, worker, seq, in, err);
    if (worker < 0 || worker >= ps->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "aggregation: worker id %d out of range", worker);
    pk_worker *pw = &ps->w[worker];
    PL_TRY(worker_scratch(ps, pw, n, err));
    pk_morsel km[64];
    memset(km, 0, sizeof(pk_morsel) * (size_t)nk);
    pl_status st = PL_OK;
    for (int32_t c = 0; c < nk && !st; c++) {
        pk_key *k = &ps->keys[c];
        pl_array *a = in->columns[k->col];
        km[c].a = a;
        km[c].nulls = a->type->id == PL_TYPE_NA || (a->validity && pl_array_null_count(a) > 0);
        if (a->type->id == PL_TYPE_DICTIONARY && !k->coded) {
            st = pl_error_set(err, PL_ERR_INTERNAL, "aggregation: key column %d changed type",
                              c + 1);
        } else if (a->type->id == PL_TYPE_DICTIONARY) {
            st = agg_check_indices(a, err);
            if (!st) st = get_remap(ps, worker, c, a->dictionary, &km[c].m, err);
        } else if (k->coded) {
            km[c].row_code = pw->rc[c];
            st = value_codes(ps, worker, c, a, n, km[c].row_code, &km[c].row_max, err);
        } else {
            int_range(&km[c]);
        }
    }
    if (st) return st;
    int mode = __atomic_load_n(&ps->mode, __ATOMIC_ACQUIRE);
    if (mode == PK_UNDECIDED) {
        pthread_mutex_lock(&ps->mu);
        if (ps->mode == PK_UNDECIDED) decide(ps, worker, km, n);
        mode = ps->mode;
        pthread_mutex_unlock(&ps->mu);
    }
    if (mode == PK_PLAIN) return ps->plain->consume(ps->plain, ctx, worker, seq, in, err);
    uint64_t *pk = (uint64_t *)(void *)pw->packed->data;
    bool any_bad = false;
    encode(ps, km, n, pk, pw->bad, &any_bad);
    if (!any_bad) return consume_packed(ps, worker, seq, in, n, pw->packed, err);
    /* rows that fit go to the packed sink, the others to the plain one */
    int64_t n_good = 0, n_bad = 0;
    int32_t *sel = pw->sel;
    for (int64_t r = 0; r < n; r++) {
        if (pw->bad[r]) continue;
        pk[n_good] = pk[r];
        sel[n_good++] = (int32_t)r;
    }
    pl_batch *part = NULL;
    if (n_good) {
        st = pl_batch_take_i32(in, sel, n_good, &part, err);
        if (!st) st = consume_packed(ps, worker, seq, part, n_good, pw->packed, err);
        pl_batch_release(part);
        part = NULL;
    }
    for (int64_t r = 0; r < n && !st; r++)
        if (pw->bad[r]) sel[n_bad++] = (int32_t)r;
    if (!st) st = pl_batch_take_i32(in, sel, n_bad, &part, err);
    if (!st) st = ps->plain->consume(ps->plain, ctx, worker, seq, part, err);
    pl_batch_release(part);
    return st;
}

/* ---------------------------------------------------------------- finish */

typedef struct pk_fin {
    pk_sink *ps;
    pl_batch **batches; /* packed batches, replaced by their unpacked form */
} pk_fin;

/* The string values of coded key k's codes (1 + index into k->values; 0 = NULL) as a UTF8 or
 * BINARY array of k's output type; takes valid. */
static pl_status gather_strings(const pk_key *k, const uint64_t *pk, int64_t n, int64_t nulls,
                                pl_buf *valid, pl_array **out, pl_error *err) {
    uint64_t mask = k->n_codes - 1;
    int32_t sh = k->shift;
    const pl_array *v = k->values;
    const int32_t *vo = pl_array_offsets(v);
    const uint8_t *vd = v->data ? v->data->data : NULL;
    pl_buf *offs = NULL, *data = NULL;
    pl_status st = pl_buf_new((n + 1) * 4, &offs, err);
    if (st) {
        pl_buf_release(valid);
        return st;
    }
    int32_t *o = (int32_t *)(void *)offs->data;
    int64_t total = 0;
    o[0] = 0;
    for (int64_t r = 0; r < n; r++) {
        uint64_t c = (pk[r] >> sh) & mask;
        total += c ? vo[c] - vo[c - 1] : 0;
        if (total > PL_MAX_VARLEN_BYTES) break;
        o[r + 1] = (int32_t)total;
    }
    if (total > PL_MAX_VARLEN_BYTES) {
        pl_buf_release(offs);
        pl_buf_release(valid);
        PL_FAIL(err, PL_ERR_LIMIT, "group keys exceed %lld bytes of string data in one batch",
                (long long)PL_MAX_VARLEN_BYTES);
    }
    offs->size = (n + 1) * 4;
    st = pl_buf_new(PL_MAX(total, 1) + 16, &data, err);
    if (st) {
        pl_buf_release(offs);
        pl_buf_release(valid);
        return st;
    }
    uint8_t *d = data->data;
    for (int64_t r = 0; r < n; r++) {
        uint64_t c = (pk[r] >> sh) & mask;
        if (!c) continue;
        const uint8_t *src = vd + vo[c - 1];
        int64_t len = vo[c] - vo[c - 1];
        uint8_t *dst = d + o[r];
        if (len >= 8 && len <= 16) { /* short values: two overlapping words, no call */
            memcpy(dst, src, 8);
            memcpy(dst + len - 8, src + len - 8, 8);
        } else if (len) {
            memcpy(dst, src, (size_t)len);
        }
    }
    data->size = total;
    return pl_array_new(pl_type_retain(k->out_type), n, nulls, valid, offs, data, 0, NULL, NULL,
                        out, err);
}

static pl_status unpack_key(const pk_key *k, const uint64_t *pk, int64_t n, pl_array **out,
                            pl_error *err) {
    uint64_t mask = k->n_codes - 1;
    int32_t sh = k->shift;
    int64_t nulls = 0;
    for (int64_t r = 0; r < n; r++) nulls += ((pk[r] >> sh) & mask) == 0;
    pl_buf *valid = NULL, *vals = NULL;
    if (nulls) {
        PL_TRY(pl_buf_new_zeroed((n + 7) / 8, &valid, err));
        for (int64_t r = 0; r < n; r++)
            if ((pk[r] >> sh) & mask) pl_bit_set(valid->data, r);
    }
    pl_type *ot = k->out_type;
    pl_type_id vid = k->coded ? k->values->type->id : PL_TYPE_NA;
    if (k->coded && ot->id != PL_TYPE_DICTIONARY && (vid == PL_TYPE_UTF8 || vid == PL_TYPE_BINARY) &&
        pl_type_equals(ot, k->values->type))
        return gather_strings(k, pk, n, nulls, valid, out, err);
    if (k->coded && ot->id != PL_TYPE_DICTIONARY) { /* gather the values */
        int64_t *idx = pl_malloc((size_t)PL_MAX(n, 1) * 8);
        if (!idx) {
            pl_buf_release(valid);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        for (int64_t r = 0; r < n; r++) idx[r] = (int64_t)((pk[r] >> sh) & mask) - 1;
        pl_buf_release(valid);
        pl_status st = pl_array_take(k->values, idx, n, out, err);
        pl_free(idx);
        return st;
    }
    int32_t w = k->coded ? pl_type_simple(ot->index_id)->byte_width : ot->byte_width;
    pl_status st = pl_buf_new(PL_MAX(n * w, 1), &vals, err);
    if (st) {
        pl_buf_release(valid);
        return st;
    }
    vals->size = n * w;
    /* dictionary keys: index = code - 1; integer keys: lo + code - 1 (NULL rows: 0) */
    uint64_t base = k->coded ? (uint64_t)-1 : (uint64_t)k->lo - 1;
#define UNPACK(T)                                                                                  \
    {                                                                                              \
        T *o = (T *)(void *)vals->data;                                                            \
        for (int64_t r = 0; r < n; r++) {                                                          \
            uint64_t code = (pk[r] >> sh) & mask;                                                  \
            o[r] = code ? (T)(base + code) : 0;                                                    \
        }                                                                                          \
    }
    switch (w) {
    case 1: UNPACK(uint8_t); break;
    case 2: UNPACK(uint16_t); break;
    case 4: UNPACK(uint32_t); break;
    default: UNPACK(uint64_t); break;
    }
#undef UNPACK
    return pl_array_new(pl_type_retain(ot), n, nulls, valid, vals, NULL, 0, NULL,
                        k->coded ? pl_array_retain(k->values) : NULL, out, err);
}

static pl_status unpack_task(void *arg, int64_t i, int32_t worker, pl_error *err) {
    pk_fin *f = arg;
    pk_sink *ps = f->ps;
    PL_UNUSED(worker);
    pl_batch *b = f->batches[i];
    int64_t n = b->n_rows;
    int32_t nk = ps->nk, nc = ps->out_schema->n_fields;
    pl_array **cols = pl_calloc((size_t)nc, sizeof(pl_array *));
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    const uint64_t *pk = pl_array_values_ptr(b->columns[0]);
    pl_status st = PL_OK;
    for (int32_t c = 0; c < nk && !st; c++) st = unpack_key(&ps->keys[c], pk, n, &cols[c], err);
    for (int32_t c = nk; c < nc && !st; c++) cols[c] = pl_array_retain(b->columns[1 + c - nk]);
    if (st) {
        for (int32_t c = 0; c < nc; c++) pl_array_release(cols[c]);
        pl_free(cols);
        return st;
    }
    pl_batch *o = NULL;
    st = pl_batch_new(pl_schema_retain(ps->out_schema), n, cols, &o, err);
    pl_free(cols);
    if (st) return st;
    pl_batch_release(b);
    f->batches[i] = o;
    return PL_OK;
}

/* Appends the batches of sink sk's result to *v. */
static pl_status drain(pl_sink *sk, pl_exec_ctx *ctx, pl_batch ***v, int64_t *n, int64_t *cap,
                       pl_error *err) {
    pl_stream *s = NULL;
    PL_TRY(sk->finish(sk, ctx, &s, err));
    pl_status st = PL_OK;
    for (;;) {
        pl_batch *b = NULL;
        st = s->next(s, &b, err);
        if (st || !b) break;
        if (*n == *cap) {
            int64_t nc = *cap ? *cap * 2 : 64;
            pl_batch **p = pl_realloc(*v, (size_t)nc * sizeof(pl_batch *));
            if (!p) {
                pl_batch_release(b);
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            *v = p;
            *cap = nc;
        }
        (*v)[(*n)++] = b;
    }
    s->free(s);
    return st;
}

#include <time.h>
static pl_status pk_finish(pl_sink *sk, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    pk_sink *ps = sk->impl;
    int64_t t0 = pl_now_ns();
    if (__atomic_load_n(&ps->mode, __ATOMIC_ACQUIRE) != PK_PACKED) {
        PL_TRY(ps->plain->finish(ps->plain, ctx, out, err));
        sk->rows_out = ps->plain->rows_out;
        sk->time_ns += pl_now_ns() - t0;
        return PL_OK;
    }
    pl_batch **v = NULL;
    int64_t n = 0, cap = 0, n_packed = 0;
    pl_status st = drain(ps->packed, ctx, &v, &n, &cap, err);
    n_packed = n;
    for (int32_t c = 0; c < ps->nk && !st; c++)
        if (ps->keys[c].coded) st = agg_table_key_arrays(ps->keys[c].vt, &ps->keys[c].values, err);
    pk_fin f = {ps, v};
    if (!st && n_packed) st = pl_exec_parallel(ctx, n_packed, unpack_task, &f, err);
    if (!st) st = drain(ps->plain, ctx, &v, &n, &cap, err);
    if (st) {
        for (int64_t i = 0; i < n; i++) pl_batch_release(v[i]);
        pl_free(v);
        return st;
    }
    pl_stream *str;
    int64_t rows;
    PL_TRY(agg_batch_stream(ps->out_schema, v, n, &str, &rows, err));
    sk->rows_out = rows;
    sk->time_ns += pl_now_ns() - t0;
    *out = str;
    return PL_OK;
}
