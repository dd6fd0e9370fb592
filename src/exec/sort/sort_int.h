/* sort_int.h - the sort machinery shared by the sort sink (sort.c) and the window operator
 * (window/): normalised binary sort keys and a parallel stable MSD radix sort over them.
 *
 * Keys: every row becomes one fixed-width record: for each key column a marker byte (only when
 * the column has NULLs: 0 = NULL first, 1 = value, 2 = NULL last), then the value normalised so
 * that memcmp order is the SQL order (big-endian, sign bit flipped, floats bit-twiddled with NaN
 * largest and -0.0 = 0.0, DESC = bytes inverted), then the row id (uint64, native order) in the
 * last 8 bytes. Strings keep a PL_SORT_STR_PREFIX-byte prefix plus one byte min(len, prefix);
 * rows whose keys tie on those bytes while some string was longer than the prefix are re-sorted
 * with a full comparison afterwards. Dictionary columns are encoded through their values. */
#ifndef PL_SORT_INT_H
#define PL_SORT_INT_H

#include "exec/exec.h"

#define PL_SORT_STR_PREFIX 12

typedef struct pl_sortkeys {
    int64_t n;
    int32_t width;     /* bytes per record (multiple of 8) */
    int32_t key_bytes; /* normalised key bytes at the start of each record */
    int32_t n_keys;
    int32_t *key_off;  /* [n_keys + 1]: byte range of each key */
    int32_t *len_off;  /* [n_keys]: the length byte of a string key, -1 for other keys */
    bool *desc;        /* [n_keys] */
    pl_array **keys;   /* [n_keys], retained */
    uint8_t *recs;     /* n * width bytes, sorted once built */
} pl_sortkeys;

#define PL_SORTKEYS_NO_SORT 1 /* encode only (records stay in row order) */
#define PL_SORTKEYS_MARKERS 2 /* a NULL marker byte for every key, so layouts of separately
                               * encoded row sets agree */
/* Encodes rows [0, n) of the key columns (each of length n; dictionary, sliced allowed) and sorts
 * them stably (ties keep row order), using up to n_threads pool threads. Errors: NOMEM,
 * UNSUPPORTED (a key of a nested or interval type). */
pl_status pl_sortkeys_build(int32_t n_keys, pl_array *const *keys, const bool *desc,
                            const bool *nulls_first, int64_t n, int32_t n_threads, int32_t flags,
                            pl_sortkeys *out, pl_error *err);
void pl_sortkeys_reset(pl_sortkeys *s);
/* Row id at sorted position pos. */
static inline int64_t pl_sortkeys_row(const pl_sortkeys *s, int64_t pos) {
    uint64_t r;
    memcpy(&r, s->recs + pos * s->width + s->width - 8, 8);
    return (int64_t)r;
}
/* Whether keys [k0, k1) are equal (NULL equals NULL) at sorted positions a and b. */
bool pl_sortkeys_same(const pl_sortkeys *s, int32_t k0, int32_t k1, int64_t a, int64_t b);
/* Row ids of sorted positions [lo, hi) into ids. */
void pl_sortkeys_ids(const pl_sortkeys *s, int64_t lo, int64_t hi, int64_t *ids);

/* Concatenates column col of batches[0..n) (n 0: an empty array of type t). */
pl_status pl_sort_concat_column(int64_t n, pl_batch *const *batches, int32_t col, pl_type *t,
                                pl_array **out, pl_error *err);

/* Bytes the rows of b occupy (what buffering it costs; dictionaries and nested children are
 * estimated), for memory accounting. */
int64_t pl_sort_batch_bytes(const pl_batch *b);

#endif
