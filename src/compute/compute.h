/* compute.h - array kernels shared by the operators: gather (take), filter, concatenation of
 * batches, hashing and row comparison. All work on every columnar type incl. dictionary and
 * nested arrays; fixed-width and string paths are specialised. */
#ifndef PL_COMPUTE_H
#define PL_COMPUTE_H

#include "core/core.h"

/* ---------------------------------------------------------------- gather / filter */

/* out[i] = a[idx[i]]; idx[i] < 0 gives NULL (outer joins). Dictionary arrays stay dictionary
 * arrays (indices gathered, dictionary shared). Indices must be < a->length (checked only
 * by assertions: callers produce them). */
pl_status pl_array_take(pl_array *a, const int64_t *idx, int64_t n, pl_array **out,
                        pl_error *err);
pl_status pl_array_take_i32(pl_array *a, const int32_t *idx, int64_t n, pl_array **out,
                            pl_error *err);
/* Rows sel[0..n) (ascending 32-bit indices, as made by pl_bexpr_eval_filter). */
pl_status pl_batch_take_i32(pl_batch *b, const int32_t *sel, int64_t n, pl_batch **out,
                            pl_error *err);
pl_status pl_batch_take(pl_batch *b, const int64_t *idx, int64_t n, pl_batch **out,
                        pl_error *err);
/* Rows where mask (BOOL array, NULL = false) is true. */
pl_status pl_array_filter(pl_array *a, pl_array *mask, pl_array **out, pl_error *err);

/* A batch with the given schema (borrowed) from cols[0..n_fields) (the array references are
 * taken, also on failure; the vector itself stays the caller's). */
pl_status pl_batch_make(pl_schema *schema, int64_t n_rows, pl_array **cols, pl_batch **out,
                        pl_error *err);
/* The same columns under another schema (same types; names/qualifier changes). */
pl_status pl_batch_with_schema(pl_batch *b, pl_schema *schema, pl_batch **out, pl_error *err);
/* One batch from n batches of one schema (columns concatenated); n 0 = empty batch. */
pl_status pl_batches_concat(pl_schema *schema, int64_t n, pl_batch *const *batches,
                            pl_batch **out, pl_error *err);

/* ---------------------------------------------------------------- hashing and equality */

/* hashes[i] = hash of a[i] (combine: mixed into the existing hashes[i], for multi-column
 * keys). NULLs hash to a fixed value; dictionary arrays hash their values, so equal strings
 * hash equal whatever the encoding; ints of different widths hash equal when equal; floats
 * hash -0.0 as 0.0 and all NaNs alike. */
void pl_hash_array(pl_array *a, uint64_t *hashes, bool combine);
/* SQL grouping equality of a[i] and b[j] (same logical type; NULL equals NULL, NaN equals
 * NaN; dictionary vs plain compare values). */
bool pl_array_value_equal(pl_array *a, int64_t i, pl_array *b, int64_t j);
/* The hash pl_hash_array gives a[i] (alone, not combined). */
uint64_t pl_array_value_hash(pl_array *a, int64_t i);
/* Total order for sorting: <0, 0, >0; NULLs compare by nulls_first; NaN is largest. */
int pl_array_value_compare(pl_array *a, int64_t i, pl_array *b, int64_t j, bool nulls_first);
/* The dictionary index of row i of a DICTIONARY array (any index width). */
static inline int64_t pl_dict_index(const pl_array *a, int64_t i) {
    const uint8_t *v = a->values->data;
    int64_t j = a->offset + i;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[j];
    case PL_TYPE_UINT8: return v[j];
    case PL_TYPE_INT16: return ((const int16_t *)(const void *)v)[j];
    case PL_TYPE_UINT16: return ((const uint16_t *)(const void *)v)[j];
    case PL_TYPE_INT32: return ((const int32_t *)(const void *)v)[j];
    case PL_TYPE_UINT32: return ((const uint32_t *)(const void *)v)[j];
    default: return ((const int64_t *)(const void *)v)[j];
    }
}

/* Order-preserving BINARY keys of a's values (sort_key.c): memcmp order of two keys is the
 * order of the values (nested NULL elements last, NaN largest, -0.0 = 0.0), equal keys are
 * equal values; a NULL value gives a NULL key. For sorting, grouping and joining by lists and
 * structs. Errors: PL_ERR_NOMEM, PL_ERR_LIMIT (keys past 2 GiB). */
pl_status pl_array_sort_key(pl_array *a, pl_array **out, pl_error *err);

static inline uint64_t pl_hash_u64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
/* (defined in src/columnar/array.c, shared) */
uint64_t pl_hash_bytes(const uint8_t *p, int64_t n);
static inline uint64_t pl_hash_combine(uint64_t h, uint64_t v) {
    return pl_hash_u64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

#endif
