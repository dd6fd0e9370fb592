/* agg_int.h - internals of hash aggregation (see README.md in this directory).
 *
 * A group table (agg_table) maps key tuples to dense group ids 0..n_groups-1: an open
 * addressing slot array of (hash tag << 32 | gid + 1) words, the full hash of every group, and
 * the keys stored column by column in Arrow layout (so a table's keys can be probed into
 * another table as plain arrays when tables merge, and become the output key columns without
 * a copy). Aggregate states are fixed-width structs, one per group, in one array per aggregate
 * (agg_fn.width bytes each, zero = the initial state); variable-length pieces (strings) live in
 * a per-aggregate byte heap of the table. Holistic aggregates (median, quantiles, string_agg,
 * DISTINCT, ordered first/last) keep no per-group state: they collect (gid, input row) chunks
 * that finish() sorts by group. */
#ifndef PL_AGG_INT_H
#define PL_AGG_INT_H

#include <pthread.h>

#include "exec/exec.h"

/* ---------------------------------------------------------------- aggregate catalogue */

typedef enum agg_op {
    AOP_COUNT_STAR = 0,
    AOP_COUNT,
    AOP_COUNT_IF,
    AOP_SUM,
    AOP_AVG,
    AOP_MIN,
    AOP_MAX,
    AOP_FIRST,
    AOP_LAST,
    AOP_ANY_VALUE,
    AOP_ARG_MIN,
    AOP_ARG_MAX,
    AOP_VAR_SAMP,
    AOP_VAR_POP,
    AOP_STDDEV_SAMP,
    AOP_STDDEV_POP,
    AOP_BOOL_AND,
    AOP_BOOL_OR,
    AOP_MEDIAN,
    AOP_QUANTILE_CONT,
    AOP_QUANTILE_DISC,
    AOP_STRING_AGG,
    AOP_COVAR_POP, /* two-argument statistics over the rows where both are non-NULL */
    AOP_COVAR_SAMP,
    AOP_CORR,
    AOP_LIST, /* list(x) / array_agg(x): the group's values as a list (holistic) */
    AOP_PRODUCT,   /* product(x): DOUBLE */
    AOP_BIT_AND,   /* bit_and / bit_or / bit_xor of integers: the argument's type */
    AOP_BIT_OR,
    AOP_BIT_XOR,
    AOP_SKEWNESS,  /* skewness, kurtosis (sample excess), kurtosis_pop: power sums */
    AOP_KURTOSIS,
    AOP_KURTOSIS_POP,
    AOP_FSUM,      /* fsum / sumkahan / kahan_sum: compensated (Neumaier) sum, DOUBLE */
    AOP_FAVG,      /* favg: the compensated sum / n, DOUBLE */
    AOP_SEM,       /* sem: standard error of the mean, stddev_pop / sqrt(n) (Welford state) */
    AOP_APPROX_COUNT_DISTINCT, /* resolved as count(DISTINCT x): exact (sink.c resolve_spec) */
    AOP_MODE,      /* mode(x): the most frequent value (holistic) */
    AOP_ENTROPY,   /* entropy(x): -sum p log2 p over the distinct values (holistic) */
    AOP_HISTOGRAM, /* histogram(x): MAP(value -> UBIGINT count), keys in order (holistic) */
    AOP__COUNT
} agg_op;

/* Physical kind of a stored scalar value. */
typedef enum agg_vk {
    VK_NA = 0, /* the null type: always NULL */
    VK_I64,    /* signed ints, DATE32, TIME64, TIMESTAMP, BOOL (0/1) */
    VK_U64,    /* unsigned ints */
    VK_F64,    /* FLOAT32, FLOAT64 */
    VK_I128,   /* DECIMAL128 */
    VK_STR,    /* UTF8, BINARY, FIXED_BINARY: bytes in the aggregate's heap */
    VK_IVL,    /* INTERVAL: its 16 bytes in d, ordered by length (pl_interval_ns) */
} agg_vk;

/* One stored scalar (16 bytes). */
typedef union agg_val {
    int64_t i;
    uint64_t u;
    double f;
    __int128 d;
    struct {
        int64_t off;
        int64_t len;
    } s;
} agg_val;

/* Growable bytes owned by one aggregate of one table (string values of states). */
typedef struct agg_heap {
    uint8_t *p;
    int64_t len, cap;
} agg_heap;

/* The resolved form of a pl_agg_spec. */
typedef struct agg_rt {
    agg_op op;
    bool holistic;       /* collected and computed in finish() */
    bool distinct;
    int32_t n_args;
    int32_t arg[2];      /* input columns (-1: none) */
    int32_t filter_col;
    int32_t n_order;
    int32_t order_cols[4];
    bool order_desc[4];
    bool order_nulls_first[4];
    pl_type *arg_type[2]; /* dictionary-decoded input types, borrowed from the input schema */
    agg_vk vk[2];
    pl_type *result_type; /* retained */
    int32_t width;        /* state bytes per group (0 for holistic) */
    double q;             /* quantile fraction */
    int64_t topn;         /* min/max(x, n), arg_min/arg_max(x, key, n): the n best as a list
                           * (holistic: x ordered by the key, cut to n); 0 otherwise */
    char *sep;            /* string_agg separator (owned) */
    int32_t sep_len;
    /* For DISTINCT and holistic ops evaluated through a streaming op after deduplication. */
    agg_op base_op;
    bool nested; /* an argument is a list, struct or map: holistic, results gathered */
} agg_rt;

/* ---------------------------------------------------------------- key storage */

typedef enum agg_kc { KC_NA = 0, KC_FIXED, KC_FLOAT, KC_BOOL, KC_STR, KC_IVL } agg_kc; /* KC_IVL: INTERVAL, equal by length */

typedef struct agg_keycol {
    pl_type *type; /* value type (dictionary keys: the dictionary's value type); borrowed */
    agg_kc kind;
    int32_t width;  /* KC_FIXED/KC_FLOAT bytes per value */
    pl_buf *vals;   /* fixed: width per group; bool: bits; str: int32 offsets (n + 1) */
    pl_buf *data;   /* str bytes */
    pl_buf *valid;  /* bits; NULL while every key is valid */
    /* KC_STR of a one-key table (else NULL): 16 bytes per group, the length (uint32) then the
     * first 12 bytes zero-padded: the typed string probe compares keys of up to 12 bytes here,
     * one cache line per probe instead of an offset and the bytes */
    pl_buf *pfx;
} agg_keycol;

/* Collected input of a holistic aggregate: one chunk per morsel. */
typedef struct agg_chunk {
    int64_t seq;
    int64_t n;           /* kept rows */
    int32_t *rows;       /* kept input rows (ascending); NULL: all rows 0..n-1 */
    uint32_t *gids;      /* their group ids in the owning table */
    int32_t n_arrays;
    pl_array *arrays[5]; /* argument then order columns, dictionary-decoded, retained */
} agg_chunk;

typedef struct agg_collect {
    int64_t n, cap;
    agg_chunk *chunks;
} agg_collect;

/* Dictionary fast path: group id of each index of one dictionary. */
#define AGG_DICT_CACHE 8
typedef struct agg_dict_map {
    pl_array *dict; /* retained (its address identifies it) */
    int32_t *gid;   /* per dictionary index; -1 = not resolved yet */
    int64_t len;
} agg_dict_map;

/* Several keys, each a dictionary or an integer of a small range: group id of each combination
 * of codes (dictionary index, or value - lo) for one tuple of dictionaries and ranges
 * (code of key 0 + len0 * (code of key 1 + len1 * ...)). */
#define AGG_MDICT_CACHE 4
#define AGG_MDICT_MAX_KEYS 4
#define AGG_MDICT_MAX_SIZE (1 << 20)
typedef struct agg_mdict_map {
    pl_array *dicts[AGG_MDICT_MAX_KEYS]; /* retained; NULL for an integer key */
    int64_t lo[AGG_MDICT_MAX_KEYS];      /* integer keys: the range's first value */
    int64_t lens[AGG_MDICT_MAX_KEYS];
    int32_t *gid; /* per combination; -1 = not resolved yet */
    int64_t size;
} agg_mdict_map;

typedef struct agg_sink agg_sink;

typedef struct agg_table {
    agg_sink *sink;
    int64_t n_groups, grp_cap;
    uint64_t *slots;  /* n_slots = mask + 1 */
    int64_t mask;
    uint64_t *hashes; /* per group */
    agg_keycol *keys;
    uint8_t **states; /* per aggregate: width * grp_cap bytes */
    agg_heap *heaps;  /* per aggregate */
    agg_collect *collects; /* per aggregate (holistic only) */
    agg_dict_map dmaps[AGG_DICT_CACHE];
    int32_t dmap_next;
    agg_mdict_map mdmaps[AGG_MDICT_CACHE];
    int32_t mdmap_next;
    int64_t mrange_lo[AGG_MDICT_MAX_KEYS], mrange_hi[AGG_MDICT_MAX_KEYS]; /* integer keys seen */
    bool mrange_set;
    int64_t null_gid; /* single-key paths: the group of the NULL key, -1 = none yet */
    /* One integer key of a small range: group id per key value - dmin (-1 = not seen yet). */
    int32_t *direct;
    int64_t dmin, dlen;
    bool direct_off; /* the range grew beyond AGG_DIRECT_MAX: hash probing only */
    int64_t charged;  /* bytes charged to the query */
    bool overflow;    /* sticky: an integer sum overflowed */
    int32_t overflow_spec;
    /* scratch per morsel */
    uint32_t *gids;
    uint64_t *hbuf;
    int32_t *sel;
    int32_t *sel2;
    int64_t scratch_n;
    /* Split mode (many groups): the groups live in n_sub partition tables chosen by the top
     * AGG_PART_BITS hash bits; this table keeps no groups of its own any more. */
    int32_t n_sub;
    struct agg_table **sub;
    bool dense;       /* a partition table: slots grow at load 0.7 rather than 0.5 (less memory
                       * for the tables of many groups, a few more probes within a line) */
    bool sub_shared;  /* sub is the sink's shared partition tables (not owned; lock to use) */
    /* Morsel pre-aggregation (sink.c consume_local): a states-only table for the groups of
     * one morsel, a hash of the morsel's keys (lmask + 1 slots: local group + 1), each local
     * group's first row, and morsels to skip before trying again after a morsel had too many
     * groups. */
    struct agg_table *loc;
    uint32_t *lslot;
    int32_t *lrow;
    int64_t lmask, lrow_cap;
    int32_t loc_skip;
    /* Few groups (agg_consume_keys, at most AGG_HIST_GROUPS): the rows per group of the
     * current morsel, counted once (on first use) for all its count/sum/avg updates without a
     * selection, which then add values only (funcs.c morsel_hist). hist_state: 0 off, 1 on and
     * not counted yet, 2 counted; only for updates over hist_gids. */
    int64_t *hist;
    const uint32_t *hist_gids;
    int32_t hist_state;
    uint8_t *part;    /* scratch: partition of each row */
    int32_t *prow;    /* scratch: rows grouped by partition */
    int64_t poff[65]; /* scratch: partition offsets into prow */
    int64_t n_part_rows; /* rows of the last agg_table_partition (hbuf + it: hashes by position) */
} agg_table;

#define AGG_PART_BITS 6
#define AGG_N_PARTS (1 << AGG_PART_BITS)
#define AGG_PART_OF(h) ((int32_t)((h) >> (64 - AGG_PART_BITS)))
/* A worker table splits into partition tables once it holds this many groups (agg_split_groups,
 * default AGG_SPLIT_GROUPS; tests lower it). Up to a few 100k groups one table with prefetched
 * probes is faster: with 64 Ki-row morsels a partition table sees too few rows per morsel to
 * stay in cache, and the partitioned rows are read out of order. */
#define AGG_SPLIT_GROUPS (1 << 18)
extern int64_t agg_split_groups;
/* Morsels of at least AGG_HIST_MIN_ROWS rows into a table of at most AGG_HIST_GROUPS groups
 * count their rows per group once (agg_table.hist). */
#define AGG_HIST_GROUPS 1024
#define AGG_HIST_MIN_ROWS 4096
/* Largest key range of the direct (array-indexed) path for one integer key. */
#define AGG_DIRECT_MAX (1 << 22)

struct agg_sink {
    pl_exec_ctx *ctx;
    pl_schema *in;
    pl_schema *out_schema;
    int32_t n_keys;
    int32_t *keys;
    int32_t n_aggs;
    agg_rt *aggs;
    int32_t n_workers;
    agg_table **tables; /* per worker, created on first use */
    bool any_holistic;
    /* Shared split (set by pack.c): worker tables that pass AGG_SPLIT_GROUPS move their groups
     * into one set of partition tables shared by the workers, each used under its mutex, so
     * no group is held twice and finish() merges nothing but unsplit tables. */
    bool shared_split;
    pthread_mutex_t shared_mu;          /* creating parts */
    pthread_mutex_t part_mu[AGG_N_PARTS];
    agg_table *parts[AGG_N_PARTS];      /* NULL until the first split */
};

/* ---------------------------------------------------------------- sink (sink.c) */

/* The hash aggregation sink itself (pl_agg_sink_new chooses between it and the packed-key
 * sink of pack.c). */
pl_status agg_sink_new_plain(pl_exec_ctx *ctx, pl_schema *in, int32_t n_keys, const int32_t *keys,
                             int32_t n_aggs, const pl_agg_spec *aggs, pl_schema *out_schema,
                             pl_sink **out, pl_error *err);
/* A stream of batches[0..n) (taken, with the array, also on error; NULL entries are skipped)
 * with schema (retained); *rows their rows in all. The result of both sinks' finish(). */
pl_status agg_batch_stream(pl_schema *schema, pl_batch **batches, int64_t n, pl_stream **out,
                           int64_t *rows, pl_error *err);
/* consume() with the key columns given (kc[c] instead of in->columns[s->keys[c]]; dictionary
 * indices already checked); the aggregates read their columns from in. */
pl_status agg_consume_keys(agg_sink *s, int32_t worker, int64_t seq, pl_batch *in,
                           pl_array *const *kc, pl_error *err);
/* Worker tables of s split into shared partition tables (see agg_sink; not with holistic
 * aggregates). Before the first consume. */
void agg_sink_share_splits(agg_sink *s);
/* dict_local.c: consume() of a morsel grouped by one DICTIONARY key of a small dictionary with
 * count/sum/avg/min/max of doubles, by dictionary index in L1-resident statistics, then merged
 * into the worker's table; *done = false (nothing changed) when the morsel does not qualify. */
pl_status agg_dict_local(agg_sink *s, int32_t worker, pl_batch *in, bool *done, pl_error *err);
/* Every non-NULL index of a DICTIONARY array is inside its dictionary. */
pl_status agg_check_indices(const pl_array *a, pl_error *err);
/* Packed multi-key aggregation (pack.c) on or off for sinks made from now on (tests). */
void agg_pack_set_enabled(bool on);

/* ---------------------------------------------------------------- table (table.c) */

pl_status agg_table_new(agg_sink *s, agg_table **out, pl_error *err);
void agg_table_free(agg_table *t);
/* Makes room for at least n groups (keys, hashes, states). */
pl_status agg_table_reserve(agg_table *t, int64_t n, pl_error *err);
/* Group ids of rows (sel[k] or k for k < n) of key columns cols (plain arrays of the key
 * types, or a DICTIONARY array when there is one key), inserting new groups. gids[k].
 * hashes: precomputed per row (indexed by row), or NULL. */
pl_status agg_table_find(agg_table *t, pl_array *const *cols, int64_t n, const int32_t *sel,
                         const uint64_t *hashes, uint32_t *gids, pl_error *err);
/* Sizes the per-morsel scratch (gids, hbuf, sel, sel2) for n rows. */
pl_status agg_table_scratch(agg_table *t, int64_t n, pl_error *err);
/* Split mode: hashes the morsel's keys (t->hbuf, by row) and groups its rows by partition
 * (t->part per row, rows in t->prow with offsets t->poff). Scratch sized for n rows. */
void agg_table_partition(agg_table *t, pl_array *const *cols, int64_t n);
/* Split mode, after agg_table_partition: group ids of partition p's rows in gids[r] (local to
 * t->sub[p]); the caller holds partition p (agg_part_lock / agg_part_trylock). */
pl_status agg_table_find_part(agg_table *t, int32_t p, pl_array *const *cols, uint32_t *gids,
                              pl_error *err);
/* Moves t's groups into AGG_N_PARTS partition tables (streaming aggregates only); with
 * s->shared_split, into the sink's shared ones. */
pl_status agg_table_split(agg_table *t, pl_error *err);
/* Locks / unlocks partition p of a split table (a no-op unless the partitions are shared). */
static inline void agg_part_lock(agg_table *t, int32_t p) {
    if (t->sub_shared) pthread_mutex_lock(&t->sink->part_mu[p]);
}
/* Takes partition p of a split table if it is free (always, unless the partitions are shared). */
static inline bool agg_part_trylock(agg_table *t, int32_t p) {
    return !t->sub_shared || pthread_mutex_trylock(&t->sink->part_mu[p]) == 0;
}
static inline void agg_part_unlock(agg_table *t, int32_t p) {
    if (t->sub_shared) pthread_mutex_unlock(&t->sink->part_mu[p]);
}
/* The stored keys as arrays (new references). */
pl_status agg_table_key_arrays(agg_table *t, pl_array **out, pl_error *err);
/* Hash of row r of column a (a key type, not dictionary). */
void agg_hash_column(const pl_array *a, int64_t n, const int32_t *sel, uint64_t *h, bool combine);

/* ---------------------------------------------------------------- aggregates (funcs.c) */

/* Registry */
agg_op agg_op_of(const char *canonical);
/* Per-group state width of a streaming op over value kind vk. */
int32_t agg_state_width(agg_op op);
/* The state width of a resolved aggregate (sums of ints and floats are narrower). */
int32_t agg_rt_width(const agg_rt *rt);
agg_vk agg_vk_of(const pl_type *t);
/* min (mn) and max (mx) of the same column a, both without FILTER, with 8-byte states: one pass
 * (agg_update_minmax_pair into states imin and imax) does both. */
bool agg_minmax_pair(const agg_rt *mn, const agg_rt *mx, const pl_array *a);
void agg_update_minmax_pair(agg_table *t, int32_t imin, int32_t imax, const agg_rt *mn,
                            const pl_array *a, const uint32_t *gids, const int32_t *sel,
                            int64_t n);
/* Adds rows of one morsel to states. sel: rows to use (NULL = all n rows); gids per row. The
 * argument arrays are dictionary-decoded. */
pl_status agg_update(agg_table *t, int32_t spec, const agg_rt *rt, pl_array *const *args,
                     const uint32_t *gids, const int32_t *sel, int64_t n, int64_t seq,
                     pl_error *err);
/* dst[dgid[k]] <- combine(dst, src[sel ? sel[k] : k]) */
pl_status agg_combine(const agg_rt *rt, uint8_t *dst, agg_heap *dheap, const uint8_t *src,
                      const agg_heap *sheap, const int32_t *sel, const uint32_t *dgid, int64_t n,
                      pl_error *err);
/* Whether agg_finalize_adopt takes rt's states (count, sum and avg of 64-bit values). */
bool agg_finalize_can_adopt(const agg_rt *rt);
/* The output array of n groups made in place from rt's states st, a pl_aligned block of bytes
 * bytes that the array takes (also on failure): no new memory for a result of many groups. */
pl_status agg_finalize_adopt(const agg_rt *rt, uint8_t *st, int64_t bytes, int64_t n,
                             pl_array **out, pl_error *err);
/* Output array of n groups from states. */
pl_status agg_finalize(const agg_rt *rt, const uint8_t *st, const agg_heap *heap, int64_t n,
                       pl_array **out, pl_error *err);

/* Byte heap */
pl_status agg_heap_put(agg_heap *h, const uint8_t *p, int64_t n, int64_t *off, pl_error *err);
void agg_heap_free(agg_heap *h);

/* Scalar access used by the slow paths. */
void agg_read_val(const pl_array *a, int64_t r, agg_vk vk, agg_val *v, const uint8_t **bytes);
int agg_val_cmp(agg_vk vk, const agg_val *a, const uint8_t *abytes, const agg_val *b,
                const uint8_t *bbytes);
/* Lists, structs and maps: aggregated holistically (min, max, first, last, any_value,
 * arg_min, arg_max, list, mode, DISTINCT), their results gathered from the input arrays. */
bool agg_nested_type(const pl_type *t);
/* Three-way compare of rows of two arrays of one (non-dictionary) type; NULLs by nulls_first
 * (nested values: element by element, NULL elements last). */
int agg_row_cmp(const pl_array *a, int64_t i, const pl_array *b, int64_t j, bool nulls_first);
/* quantile_cont / median of DECIMAL: DuckDB's interpolation lo + (hi - lo) * d between the
 * unscaled values, truncated toward zero (in double up to 18 digits of precision, like its
 * int64 storage; past 18, lo plus the truncated (hi - lo) * d, like its 128-bit storage). */
__int128 agg_decimal_interp(__int128 lo, __int128 hi, double d, int32_t precision);
/* quantile_cont's interpolation between neighbouring doubles lo <= hi at fraction d (0..1):
 * lo + d * (hi - lo), except that equal values give themselves and an infinite end gives
 * lo * (1 - d) + hi * d (median(-inf, -inf) is -inf, median(-inf, 1) -inf, as DuckDB; the
 * difference form made both NaN) */
double agg_double_interp(double lo, double hi, double d);

/* ---------------------------------------------------------------- holistic (holistic.c) */

pl_status agg_collect_add(agg_table *t, int32_t spec, const agg_rt *rt, pl_batch *in,
                          pl_array *const *args, const uint32_t *gids, const int32_t *sel,
                          int64_t n, int64_t seq, pl_error *err);
void agg_collect_free(agg_collect *c);
/* Computes a holistic aggregate over the collected chunks of tables[0..n_tables):
 * gmap[w][local gid] = global gid; n_groups global groups; *out has n_groups rows. */
pl_status agg_holistic_finish(agg_sink *s, int32_t spec, agg_table *const *tables,
                              int32_t n_tables, uint32_t *const *gmap, int64_t n_groups,
                              pl_array **out, pl_error *err);

/* ---------------------------------------------------------------- helpers */

static inline pl_type *agg_base_type(pl_type *t) {
    return t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
}

pl_status agg_charge(agg_table *t, int64_t bytes, pl_error *err);

#endif
