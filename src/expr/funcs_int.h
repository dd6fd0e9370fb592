/* funcs_int.h - helpers shared by the scalar function sets (kernels_math.c, kernels_string.c,
 * kernels_time.c): result-array assembly, NULL propagation, scalar evaluation, reading
 * numeric arrays of any width, UTF-8 string building, and the calendar/time-zone primitives
 * of tz.c and time_util.c.
 *
 * Kernels see plain (non-dictionary) arrays of exactly n_rows values, possibly sliced (offset
 * != 0), or scalars. Results are fresh arrays with offset 0. */
#ifndef PL_FUNCS_INT_H
#define PL_FUNCS_INT_H

#include "expr/expr_int.h"
#include "io/text/text.h"

/* ---------------------------------------------------------------- arguments */

/* PL_ERR_TYPE "no function name(type, ...)" for a call whose argument types do not fit. */
pl_status pl_fn_no_function(const pl_bexpr *call, pl_error *err);
/* Argument i of a function taking text: VARCHAR (or BLOB when blob_ok) as it is, a NULL literal
 * cast to VARCHAR, anything else "no function". */
pl_status pl_fn_bind_text_arg(pl_bexpr *call, int32_t i, bool blob_ok, pl_error *err);
/* lower()/upper()'s case mapping of UTF-8 text in place (ASCII, Latin-1, Latin Extended-A,
 * basic Greek and Cyrillic; byte lengths never change); ILIKE folds with it. */
void pl_fn_utf8_case_map(uint8_t *p, int32_t len, bool up);
bool pl_fn_all_scalar(const pl_datum *args, int32_t n_args);
/* Evaluates fn on all-scalar arguments: each becomes a 1-row array, fn runs with n_rows 1 and
 * the single result value becomes *out's scalar. */
pl_status pl_fn_eval_scalars(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             pl_kernel_fn fn, pl_datum *out, pl_error *err);
/* The datum as an array of n_rows values (a scalar is repeated). New reference. */
pl_status pl_fn_datum_array(const pl_datum *d, int64_t n_rows, pl_array **out, pl_error *err);
/* pl_fn_datum_array of args[k], dictionaries decoded (a plain array). New reference. */
pl_status pl_fn_plain_array(const pl_datum *args, int32_t k, int64_t n_rows, pl_array **out, pl_error *err);
/* An array of n copies of v (fixed-width, bool, string types, NA). */
pl_status pl_fn_array_from_value(const pl_value *v, int64_t n, pl_array **out, pl_error *err);
/* Value i of a plain array into *out (type retained). */
pl_status pl_fn_value_from_array(const pl_array *a, int64_t i, pl_value *out, pl_error *err);

/* The validity of the result of a NULL-in-NULL-out function: the AND of the array
 * arguments' validity bitmaps (NULL when no argument has NULLs). *all_null when a scalar
 * argument is NULL. */
pl_status pl_fn_and_validity(const pl_datum *args, int32_t n_args, int64_t n_rows,
                             pl_buf **validity, int64_t *null_count, bool *all_null,
                             pl_error *err);
/* A zeroed validity bitmap for n rows (all NULL). */
pl_status pl_fn_new_validity(int64_t n_rows, pl_buf **out, pl_error *err);
/* The validity of rows where keep[i] (*out NULL when every row is kept). */
pl_status pl_fn_validity_of(const uint8_t *keep, int64_t n_rows, pl_buf **out, pl_error *err);
/* A copy of a's validity with offset 0, or NULL when a has no NULLs. */
pl_status pl_fn_copy_validity(const pl_array *a, pl_buf **out, pl_error *err);
/* Copies n bits from src at src_off to dst at bit 0. */
void pl_fn_bits_copy(uint8_t *dst, const uint8_t *src, int64_t src_off, int64_t n);

/* A values buffer for n fixed-width values of byte_width bytes (size set; content undefined
 * except that the padding is zero). */
pl_status pl_fn_new_values(int64_t n, int32_t byte_width, pl_buf **out, pl_error *err);
/* The buffers of a unary kernel's fixed-width result: a copy of a's validity
 * (pl_fn_copy_validity) and values for n values of byte_width bytes (pl_fn_new_values). */
pl_status pl_fn_new_result(const pl_array *a, int64_t n, int32_t byte_width, pl_buf **validity,
                           pl_buf **values, pl_error *err);
/* Assembles the result array (takes type, validity, values, data; also on failure) into out.
 * null_count -1 = count later. */
pl_status pl_fn_finish(pl_datum *out, pl_type *type, int64_t n_rows, pl_buf *validity,
                       int64_t null_count, pl_buf *values, pl_buf *data, pl_error *err);
/* An all-NULL result of type (retained) and n_rows. */
pl_status pl_fn_out_nulls(pl_datum *out, pl_type *type, int64_t n_rows, pl_error *err);
/* Sets *out to a scalar NULL of type (retained). */
void pl_fn_out_null_scalar(pl_datum *out, pl_type *type);

/* Any integer, float or decimal array as doubles (dst has n values; NULL slots undefined). */
void pl_fn_read_f64(const pl_array *a, double *dst);
/* Any integer array (or temporal integer storage) as int64 (UINT64 above INT64_MAX wraps:
 * callers check with pl_fn_u64_fits). */
void pl_fn_read_i64(const pl_array *a, int64_t *dst);
/* A numeric scalar as double / int64. */
double pl_fn_scalar_f64(const pl_value *v);
int64_t pl_fn_scalar_i64(const pl_value *v);

/* ---------------------------------------------------------------- strings */

/* Builds a UTF8 (or BINARY) result row by row: append bytes for the current row, then
 * pl_fn_str_next (valid) or pl_fn_str_null. */
typedef struct pl_fn_strb {
    pl_buf *offsets;  /* int32 [n+1] */
    pl_buf *data;
    pl_buf *validity; /* created on the first NULL */
    int64_t n_rows, row, null_count;
    int64_t len; /* bytes in data */
} pl_fn_strb;

pl_status pl_fn_strb_init(pl_fn_strb *b, int64_t n_rows, int64_t est_bytes, pl_error *err);
pl_status pl_fn_strb_append(pl_fn_strb *b, const void *bytes, int64_t n, pl_error *err);
/* Appends n bytes times times (nothing when either is <= 0); PL_ERR_LIMIT past 2 GiB. */
pl_status pl_fn_strb_append_repeat(pl_fn_strb *b, const void *bytes, int64_t n, int64_t times,
                                   pl_error *err);
/* Room for n more bytes; returns a pointer to write them (then pl_fn_strb_commit(b, n)). */
pl_status pl_fn_strb_reserve(pl_fn_strb *b, int64_t n, uint8_t **dst, pl_error *err);
static inline void pl_fn_strb_commit(pl_fn_strb *b, int64_t n) { b->len += n; }
pl_status pl_fn_strb_next(pl_fn_strb *b, pl_error *err);
pl_status pl_fn_strb_null(pl_fn_strb *b, pl_error *err);
/* Finishes the array of type (taken) into out; frees on failure. */
pl_status pl_fn_strb_finish(pl_fn_strb *b, pl_type *type, pl_datum *out, pl_error *err);
void pl_fn_strb_reset(pl_fn_strb *b);

/* Number of UTF-8 characters (bytes that are not continuation bytes). */
int64_t pl_fn_utf8_count(const uint8_t *s, int64_t n);

/* ---------------------------------------------------------------- calendar (time_util.c) */

#define PL_US_PER_SEC INT64_C(1000000)
#define PL_US_PER_MIN INT64_C(60000000)
#define PL_US_PER_HOUR INT64_C(3600000000)
#define PL_US_PER_DAY INT64_C(86400000000)

/* Floor division and modulo for a positive divisor. */
static inline int64_t pl_fn_floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return q - ((a % b) != 0 && (a < 0));
}
static inline int64_t pl_fn_floormod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r + ((r < 0) ? b : 0);
}

/* Proleptic Gregorian: days since 1970-01-01 from a civil date, and back. */
static inline int64_t pl_fn_days_from_civil(int64_t y, int32_t m, int32_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
static inline void pl_fn_civil_from_days(int64_t z, int64_t *y, int32_t *m, int32_t *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int32_t dd = (int32_t)(doy - (153 * mp + 2) / 5 + 1);
    int32_t mm = (int32_t)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (mm <= 2);
    *m = mm;
    *d = dd;
}
static inline bool pl_fn_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
static inline int32_t pl_fn_days_in_month(int64_t y, int32_t m) {
    static const int8_t dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && pl_fn_is_leap(y) ? 29 : dim[m - 1];
}

/* Multiplier from a time unit to microseconds and back: values in `unit` times
 * pl_fn_unit_per_sec(unit) per second. */
int64_t pl_fn_unit_per_sec(pl_time_unit unit);

/* time zones: io/text/tz.c, declared in io/text/text.h */

#endif
