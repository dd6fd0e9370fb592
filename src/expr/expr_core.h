/* expr_core.h - helpers shared by the expression core's files (value.c, bind.c, cast.c, eval.c,
 * kernels_core.c): output buffers, validity bitmaps, gathers and the few core kernels other
 * files call directly. Not part of the contract with other helpers (that is expr_int.h). */
#ifndef PL_EXPR_CORE_H
#define PL_EXPR_CORE_H

#include "expr/expr_int.h"

/* ---------------------------------------------------------------- buffers and bitmaps */

/* A new buffer of exactly n_bytes (size set), contents undefined except that the last
 * 64-byte block is zeroed (so bitmap tails are defined). Errors: PL_ERR_NOMEM. */
pl_status pl_xbuf_new(int64_t n_bytes, pl_buf **out, pl_error *err);
/* A zeroed buffer of n_bytes (size set). */
pl_status pl_xbuf_zeroed(int64_t n_bytes, pl_buf **out, pl_error *err);
static inline int64_t pl_bits_bytes(int64_t n) { return (n + 7) / 8; }
/* Copies n bits of src starting at bit src_off to dst starting at bit 0. */
void pl_xbits_copy(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n);
/* dst[0..n) &= src bits [src_off, src_off+n). */
void pl_xbits_and(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n);
/* Count of set bits in bits[0, n). */
int64_t pl_xbits_count(const uint8_t *bits, int64_t n);

/* The validity of the AND of the arrays' validities (NULL entries and scalars skipped; a NULL
 * scalar is the caller's business): *out is NULL when no row is NULL. n_rows values, offset
 * 0. *null_count gets the count. Errors: PL_ERR_NOMEM. */
pl_status pl_validity_and(int32_t n, pl_array *const *arrays, int64_t n_rows, pl_buf **out,
                          int64_t *null_count, pl_error *err);
/* Assembles a result array (takes type reference, buffers). null_count -1 = compute. */
pl_status pl_xarray_new(pl_type *type, int64_t n, pl_buf *validity, pl_buf *values, pl_buf *data,
                        pl_array **out, pl_error *err);

/* Gathers rows idx[0..n) of a (not a dictionary: decoded by the caller) into a new array;
 * idx[i] < 0 gives NULL. Supports NA, BOOL, fixed width, UTF8/BINARY; other types give
 * PL_ERR_UNSUPPORTED. */
pl_status pl_xtake(pl_array *a, const int32_t *idx, int64_t n, pl_array **out, pl_error *err);
/* Gathers by a dictionary array's indices: row i of the result is values[indices[i]], NULL
 * where the index is NULL. dict_arr supplies the indices (its type's index_id). */
pl_status pl_xtake_dict(pl_array *values, pl_array *dict_arr, pl_array **out, pl_error *err);
/* The indices of a dictionary array as int32 (pl_malloc'ed), -1 where NULL. */
pl_status pl_dict_indices_i32(pl_array *dict_arr, int32_t **out, pl_error *err);

/* Row-wise merge: out[i] = srcs[which[i]][pos[i]] (which[i] < 0 gives NULL). All sources have
 * the type `type` (not dictionaries). Supports the types pl_xtake does. */
pl_status pl_xinterleave(pl_type *type, int32_t n_srcs, pl_array *const *srcs,
                         const int32_t *which, const int32_t *pos, int64_t n, pl_array **out,
                         pl_error *err);

/* ---------------------------------------------------------------- values */

/* Stores v (not NULL, of an integer-backed/float/decimal type) as the value type's bytes. */
void pl_value_store(const pl_value *v, void *dst);
/* A fresh non-NULL value of type t (retained) with bytes read from p. */
void pl_value_load(pl_type *t, const void *p, pl_value *out);
/* Sets *v to a copy of the bytes as a UTF8/BINARY value (type retained). Errors: NOMEM. */
pl_status pl_value_set_bytes(pl_value *v, pl_type *t, const void *p, int64_t n, pl_error *err);

/* ---------------------------------------------------------------- core kernels others call */

/* Comparison of two datums of one type (after binding casts): op 0..5 = eq ne lt le gt ge.
 * Result BOOL datum. */
pl_status pl_kcompare(int op, const pl_datum *a, const pl_datum *b, int64_t n_rows,
                      pl_datum *out, pl_error *err);
/* Three-valued OR/AND of two BOOL datums. */
pl_status pl_klogic(bool is_and, const pl_datum *a, const pl_datum *b, int64_t n_rows,
                    pl_datum *out, pl_error *err);

/* The kernel of PL_EXPR_CAST calls (cast_to, try_cast in the call). */
pl_status pl_kernel_cast(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                         int64_t n_rows, pl_datum *out, pl_error *err);
/* The registry entry of casts (bind.c makes CAST calls with it). */
extern const pl_func_def pl_cast_def;
/* The "case" function (eval.c evaluates it lazily). */
bool pl_fn_is_case(const pl_func_def *fn);
bool pl_fn_is_and_or(const pl_func_def *fn, bool *is_and);
/* True when evaluating e can raise no error (comparisons, logic, safe casts of columns and
 * literals): such a CASE need not run its branches lazily. */
bool pl_bexpr_cannot_fail(const pl_bexpr *e);

/* Evaluates a call given its evaluated args (dictionary fast path etc.). */
pl_status pl_call_eval(pl_eval_ctx *ec, const pl_bexpr *call, pl_datum *args, int64_t n_rows,
                       pl_datum *out, pl_error *err);

/* The map functions (kernels_map.c; registered in bind.c with the sets of expr_int.h). */
extern const pl_func_set pl_funcs_map; /* map map_from_entries map_extract map_keys map_concat ... */

/* Checks the keys of maps (kernels_map.c): for each row i with keep[i] (keep NULL: every row),
 * keys[o[i] .. o[i+1]) has no NULL and no key twice. Errors: PL_ERR_INVALID_ARG with DuckDB's
 * words ("map keys can not be NULL", "map keys must be unique"), PL_ERR_NOMEM. */
pl_status pl_map_check_keys(pl_array *keys, const int32_t *o, int64_t n, const uint8_t *keep,
                            pl_error *err);

/* A readable type name for messages ("int64", "utf8", "decimal(10,2)"). */
const char *pl_xtype_name(const pl_type *t, char *buf, size_t n);

#endif
