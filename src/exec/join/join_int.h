/* join_int.h - internals of the hash join shared by join.c (operator, build, probe) and
 * join_keys.c (key views: hashing and equality of key columns, dictionary-aware). */
#ifndef PL_JOIN_INT_H
#define PL_JOIN_INT_H

#include "exec/exec.h"

/* Value classes of key columns (of the value type, for dictionary arrays). */
typedef enum jk_class {
    JK_INT = 0, /* INT*, UINT*, DATE32, TIME64, TIMESTAMP: compared as int64 */
    JK_F32,
    JK_F64,
    JK_BOOL,
    JK_VARLEN, /* UTF8, BINARY */
    JK_FIXED,  /* DECIMAL128, FIXED_BINARY: bytes */
    JK_IVL,    /* INTERVAL: by length (pl_interval_ns: 1 day = 24 hours, 1 month = 30 days) */
    JK_OTHER,  /* nested: pl_hash_array / pl_array_value_equal */
} jk_class;

/* A key column seen through its dictionary (if any): logical row i -> position in `v`. */
typedef struct jk_view {
    pl_array *a; /* the column (borrowed) */
    pl_array *v; /* the values: a, or a->dictionary */
    jk_class cls;
    int32_t width;   /* byte width of a fixed value */
    bool is_signed;  /* JK_INT */
    const uint8_t *avalid; /* validity of a (NULL = none), bit index aoff + i */
    int64_t aoff;
    const uint8_t *idx; /* dictionary indices at element 0 (a->offset applied); NULL = plain */
    int32_t idx_w;
    bool idx_signed;
    const uint8_t *vvalid; /* validity of v, bit index voff + pos */
    int64_t voff;
    const uint8_t *vdata;   /* fixed: first value of v; varlen: the bytes */
    const int32_t *voffs;   /* varlen: offsets of v at its first value */
} jk_view;

void pl_join_key_view(jk_view *k, pl_array *a);
/* The class of a key column of type t (of its value type for dictionaries). */
jk_class pl_join_key_class(const pl_type *t);
/* Whether some row may be NULL. */
bool pl_join_key_may_null(const jk_view *k);
/* Dictionary index of row i (k->idx set), whatever its validity. */
static inline int64_t jk_raw(const jk_view *k, int64_t i) {
    switch (k->idx_w) {
    case 1: return k->idx_signed ? (int64_t)((const int8_t *)k->idx)[i] : (int64_t)k->idx[i];
    case 2:
        return k->idx_signed ? (int64_t)((const int16_t *)(const void *)k->idx)[i]
                             : (int64_t)((const uint16_t *)(const void *)k->idx)[i];
    case 4:
        return k->idx_signed ? (int64_t)((const int32_t *)(const void *)k->idx)[i]
                             : (int64_t)((const uint32_t *)(const void *)k->idx)[i];
    default: return ((const int64_t *)(const void *)k->idx)[i];
    }
}
/* Checks that every non-NULL row of rows [0, n) has a dictionary index within k->v (nothing to
 * do for plain keys): the probe and build paths index dictionaries and the maps made from them
 * with the raw indices (the readers validate what they decode, but arrays assembled through
 * the C API are not checked). One min/max pass; PL_ERR_CORRUPT names the bad index. */
pl_status pl_join_key_check(const jk_view *k, int64_t n, pl_error *err);
/* Value position of row i in k->v, or -1 when the row's key is NULL. */
static inline int64_t jk_pos(const jk_view *k, int64_t i) {
    if (k->avalid && !pl_bit_get(k->avalid, k->aoff + i)) return -1;
    int64_t p = k->idx ? jk_raw(k, i) : i;
    if (k->vvalid && !pl_bit_get(k->vvalid, k->voff + p)) return -1;
    return p;
}
/* The int64 value at position pos of a JK_INT view. */
static inline int64_t jk_int_at(const jk_view *k, int64_t pos) {
    const uint8_t *p = k->vdata;
    switch (k->width) {
    case 1: return k->is_signed ? (int64_t)((const int8_t *)p)[pos] : (int64_t)p[pos];
    case 2:
        return k->is_signed ? (int64_t)((const int16_t *)(const void *)p)[pos]
                            : (int64_t)((const uint16_t *)(const void *)p)[pos];
    case 4:
        return k->is_signed ? (int64_t)((const int32_t *)(const void *)p)[pos]
                            : (int64_t)((const uint32_t *)(const void *)p)[pos];
    default: return ((const int64_t *)(const void *)p)[pos];
    }
}

/* The bytes held by a's buffers (values, data, validity capacities), as memory is charged. */
int64_t pl_join_array_bytes(const pl_array *a);
/* Build columns marked in need[0..n_fields of schema) of bats[0..nbat) (in order), one array
 * each into cols (NULL where not needed; an empty array of the field's type when nbat is 0; a
 * single batch's column shared). *bytes: what the concatenated arrays hold. Errors: NOMEM. */
pl_status pl_join_concat_columns(pl_batch *const *bats, int64_t nbat, const pl_schema *schema,
                                 const bool *need, pl_array **cols, int64_t *bytes, pl_error *err);
/* Checks a spec's output columns against the probe (ps) and build (bs) schemas and its output
 * schema's width; `what` names the join in messages. Errors: INVALID_ARG. */
pl_status pl_join_check_outputs(const pl_join_spec *spec, const pl_schema *ps, const pl_schema *bs,
                                const char *what, pl_error *err);
/* A copy of src[0..n) (at least one element allocated). Errors: NOMEM. */
pl_status pl_join_copy_ints(const int32_t *src, int32_t n, int32_t **dst, pl_error *err);

#define JK_NULL_HASH 0x7a3c1e5bd2f4968bULL

/* Hashes of rows [start, start+n) into h (mixed into h when combine). isnull (optional):
 * set to 1 for rows whose key is NULL (left untouched otherwise). */
pl_status pl_join_key_hash(const jk_view *k, int64_t start, int64_t n, uint64_t *h, bool combine,
                           uint8_t *isnull, pl_error *err);
/* Int64 values of rows [start, start+n) of a JK_INT view; NULL rows get 0 and isnull[i] = 1
 * (isnull may be NULL when the view has no NULLs). */
void pl_join_key_ints(const jk_view *k, int64_t start, int64_t n, int64_t *out, uint8_t *isnull);
/* Keeps the pairs (pi[m], bi[m]) whose keys are equal (NULL equals NULL), compacting in
 * place; returns the number kept. */
int64_t pl_join_key_eq_compact(const jk_view *p, const jk_view *b, int32_t *pi, int64_t *bi,
                               int64_t n);

static inline uint64_t jk_hash_int(int64_t v) { return pl_hash_u64((uint64_t)v ^ 0x9e3779b97f4a7c15ULL); }

#endif
