/* kernels_extra.c - DuckDB's further scalar functions (pl_funcs_extra): fmod, nextafter, even,
 * signbit, round_even/roundbankers, gcd, lcm, factorial, bit_count, translate, levenshtein,
 * damerau_levenshtein, hamming, jaccard, sha256 and sha1 (FIPS 180-4), hex/to_hex, unhex,
 * to_base64/base64 and from_base64 (RFC 4648), url_encode and url_decode, printf and format,
 * jaro_similarity / jaro_winkler_similarity, strip_accents (tables: strip_accents_data.h), overlay,
 * to_base, hash.
 *
 * The binders cast the arguments to one canonical type per function (DOUBLE, BIGINT, VARCHAR),
 * so the kernels read plain arrays: a row loop per function over `xargs` (the arguments as
 * arrays, scalars repeated, with the AND of their validity). Errors name the row and happen
 * only on valid rows. Semantics, result types and error cases follow DuckDB 2.0 (checked
 * against it in tests/sql/test_funcs_scalar.py); differences: factorial is BIGINT (DuckDB:
 * HUGEINT) and fails past 20!. Strings are UTF-8; the string distances count code points. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute/compute.h"
#include "expr/funcs_int.h"
#include "expr/strip_accents_data.h"
#include "io/text/text.h"

#define no_function pl_fn_no_function

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }
static bool is_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }
static bool is_float(pl_type_id id) { return id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64; }
static bool is_num(pl_type_id id) { return is_int(id) || is_float(id) || id == PL_TYPE_DECIMAL128; }

/* ---------------------------------------------------------------- binding helpers */

/* Every argument numeric (or NULL) cast to `to`; the result type is `res`. */
static pl_status bind_cast_all(pl_bexpr *call, pl_type_id to, pl_type_id res, bool ints_only,
                               pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id != PL_TYPE_NA && !(ints_only ? is_int(id) : is_num(id))) return no_function(call, err);
    }
    for (int32_t i = 0; i < call->n_args; i++) PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(to), err));
    call->type = ty(res);
    return PL_OK;
}

static pl_status bind_f64_f64(pl_bexpr *call, pl_error *err) {
    return bind_cast_all(call, PL_TYPE_FLOAT64, PL_TYPE_FLOAT64, false, err);
}

/* fmod, nextafter: FLOAT when every argument is FLOAT (DuckDB), else DOUBLE. */
static pl_status bind_f32_or_f64(pl_bexpr *call, pl_error *err) {
    bool all32 = true;
    for (int32_t i = 0; i < call->n_args; i++)
        if (call->args[i]->type->id != PL_TYPE_FLOAT32) all32 = false;
    pl_type_id t = all32 ? PL_TYPE_FLOAT32 : PL_TYPE_FLOAT64;
    return bind_cast_all(call, t, t, false, err);
}

static pl_status bind_signbit(pl_bexpr *call, pl_error *err) {
    return bind_cast_all(call, PL_TYPE_FLOAT64, PL_TYPE_BOOL, false, err);
}

static pl_status bind_i64_i64(pl_bexpr *call, pl_error *err) {
    return bind_cast_all(call, PL_TYPE_INT64, PL_TYPE_INT64, true, err);
}

/* bit_count: integers, counted at their own width (DuckDB: TINYINT result). */
static pl_status bind_bit_count(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (id != PL_TYPE_NA && !is_int(id)) return no_function(call, err);
    if (id == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(&call->args[0], ty(PL_TYPE_INT64), err));
    call->type = ty(PL_TYPE_INT8);
    return PL_OK;
}

static bool is_strlike(pl_type_id id) {
    return id == PL_TYPE_UTF8 || id == PL_TYPE_BINARY || id == PL_TYPE_NA;
}

/* String arguments (NULL literals become VARCHAR); result `res`. */
static pl_status bind_strs(pl_bexpr *call, pl_type_id res, bool blob_ok, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) PL_TRY(pl_fn_bind_text_arg(call, i, blob_ok, err));
    call->type = ty(res);
    return PL_OK;
}

static pl_status bind_s_i64(pl_bexpr *call, pl_error *err) { return bind_strs(call, PL_TYPE_INT64, false, err); }
static pl_status bind_s_f64(pl_bexpr *call, pl_error *err) { return bind_strs(call, PL_TYPE_FLOAT64, false, err); }
static pl_status bind_s_s(pl_bexpr *call, pl_error *err) { return bind_strs(call, PL_TYPE_UTF8, false, err); }
static pl_status bind_b_s(pl_bexpr *call, pl_error *err) { return bind_strs(call, PL_TYPE_UTF8, true, err); }
static pl_status bind_s_blob(pl_bexpr *call, pl_error *err) { return bind_strs(call, PL_TYPE_BINARY, false, err); }

/* jaro_similarity / jaro_winkler_similarity(s1, s2 [, cutoff]): strings, a DOUBLE cutoff. */
static pl_status bind_jaro(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < 2; i++) PL_TRY(pl_fn_bind_text_arg(call, i, false, err));
    if (call->n_args > 2) {
        pl_type_id id = call->args[2]->type->id;
        if (id != PL_TYPE_NA && !is_num(id)) return no_function(call, err);
        PL_TRY(pl_bexpr_wrap_cast(&call->args[2], ty(PL_TYPE_FLOAT64), err));
    }
    call->type = ty(PL_TYPE_FLOAT64);
    return PL_OK;
}

/* to_base(n, radix [, min_length]): integers (BIGINT), VARCHAR result. */
static pl_status bind_to_base(pl_bexpr *call, pl_error *err) {
    return bind_cast_all(call, PL_TYPE_INT64, PL_TYPE_UTF8, true, err);
}

/* overlay(s, t, from [, for]): strings, then integers (BIGINT). */
static pl_status bind_overlay(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < 2; i++) PL_TRY(pl_fn_bind_text_arg(call, i, false, err));
    for (int32_t i = 2; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id != PL_TYPE_NA && !is_int(id)) return no_function(call, err);
        PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(PL_TYPE_INT64), err));
    }
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

/* hex / to_hex: integers (two's complement, 64 bits), floats (rounded to BIGINT), strings and
 * blobs (their bytes). Decimals are refused like DuckDB. */
static pl_status bind_hex(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (is_strlike(id)) return bind_strs(call, PL_TYPE_UTF8, true, err);
    if (is_float(id)) PL_TRY(pl_bexpr_wrap_cast(&call->args[0], ty(PL_TYPE_INT64), err));
    else if (!is_int(id)) return no_function(call, err);
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

/* ---------------------------------------------------------------- argument access */

typedef struct xargs {
    pl_array *a[16];
    int32_t n;
    pl_buf *validity; /* AND of the arguments' validity (offset 0), or NULL */
    int64_t null_count;
    bool all_null;
} xargs;

static void xargs_close(xargs *x) {
    for (int32_t i = 0; i < x->n; i++) pl_array_release(x->a[i]);
    x->n = 0;
    pl_buf_release(x->validity);
    x->validity = NULL;
}

static pl_status xargs_open(const pl_bexpr *call, const pl_datum *args, int64_t n, xargs *x,
                            pl_error *err) {
    memset(x, 0, sizeof *x);
    if (call->n_args > 16) PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: too many arguments", call->fn->name);
    PL_TRY(pl_fn_and_validity(args, call->n_args, n, &x->validity, &x->null_count, &x->all_null, err));
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_status st = pl_fn_datum_array(&args[i], n, &x->a[i], err);
        if (st) {
            xargs_close(x);
            return st;
        }
        x->n = i + 1;
    }
    return PL_OK;
}

static inline bool x_valid(const xargs *x, int64_t i) {
    return !x->validity || pl_bit_get(x->validity->data, i);
}
static inline double x_f64(const xargs *x, int32_t k, int64_t i) {
    return ((const double *)pl_array_values_ptr(x->a[k]))[i];
}
static inline float x_f32(const xargs *x, int32_t k, int64_t i) {
    return ((const float *)pl_array_values_ptr(x->a[k]))[i];
}
static inline int64_t x_i64(const xargs *x, int32_t k, int64_t i) {
    return ((const int64_t *)pl_array_values_ptr(x->a[k]))[i];
}
static inline const uint8_t *x_str(const xargs *x, int32_t k, int64_t i, int32_t *len) {
    const pl_array *a = x->a[k];
    if (a->type->id == PL_TYPE_NA) {
        *len = 0;
        return (const uint8_t *)"";
    }
    const int32_t *o = pl_array_offsets(a);
    *len = o[i + 1] - o[i];
    return a->data ? a->data->data + o[i] : (const uint8_t *)"";
}

/* Fails naming the function and row (err->row set). */
static pl_status row_fail(pl_error *err, int64_t row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pl_status row_fail(pl_error *err, int64_t row, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_status st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s at row %lld", msg, (long long)row);
    if (err) err->row = row;
    return st;
}

/* The kernel's end: with st == PL_OK a fixed-width result of n values with x's validity
 * (taken over); else values (may be NULL) released and st returned. x is closed either way. */
static pl_status fixed_result(xargs *x, const pl_bexpr *call, int64_t n, pl_status st,
                              pl_buf *values, pl_datum *out, pl_error *err) {
    if (st) {
        pl_buf_release(values);
        xargs_close(x);
        return st;
    }
    pl_buf *v = x->validity;
    x->validity = NULL;
    st = pl_fn_finish(out, pl_type_retain(call->type), n, v, x->null_count, values, NULL, err);
    xargs_close(x);
    return st;
}

#define KERNEL_PROLOGUE(NAME)                                                                      \
    if (pl_fn_all_scalar(args, call->n_args)) return pl_fn_eval_scalars(ec, call, args, NAME, out, err); \
    xargs x;                                                                                       \
    PL_TRY(xargs_open(call, args, n, &x, err));                                                    \
    if (x.all_null) {                                                                              \
        xargs_close(&x);                                                                           \
        return pl_fn_out_nulls(out, call->type, n, err);                                           \
    }

/* ---------------------------------------------------------------- numeric kernels */

/* DuckDB's fmod: the C remainder moved to the divisor's sign (fmod(-7, 3) = 2,
 * fmod(-5, inf) = inf); zero is +0. */
static inline double duck_fmod(double a, double b) {
    double r = fmod(a, b);
    if (isnan(r)) return NAN;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r == 0 ? 0.0 : r;
}

/* even(x): away from zero to the next even integer. */
static inline double even1(double x) {
    double v = x >= 0 ? ceil(x) : floor(x);
    if (!isfinite(v)) return v;
    if (fmod(v, 2.0) != 0) v += x >= 0 ? 1 : -1;
    return v == 0 ? 0.0 : v;
}

typedef enum fop { F_FMOD, F_NEXTAFTER, F_EVEN, F_SIGNBIT } fop;

static pl_status float_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                              int64_t n, pl_datum *out, pl_error *err, fop op,
                              pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    bool f32 = call->type->id == PL_TYPE_FLOAT32;
    pl_buf *values = NULL;
    int32_t w = op == F_SIGNBIT ? 1 : f32 ? 4 : 8;
    pl_status st = op == F_SIGNBIT ? pl_buf_new_zeroed((n + 7) / 8 > 0 ? (n + 7) / 8 : 1, &values, err)
                                   : pl_fn_new_values(n, w, &values, err);
    if (st) {
        xargs_close(&x);
        return st;
    }
    double *d = (double *)(void *)values->data;
    float *f = (float *)(void *)values->data;
    for (int64_t i = 0; i < n; i++) {
        switch (op) {
        case F_FMOD:
            if (f32) f[i] = (float)duck_fmod(x_f32(&x, 0, i), x_f32(&x, 1, i));
            else d[i] = duck_fmod(x_f64(&x, 0, i), x_f64(&x, 1, i));
            break;
        case F_NEXTAFTER:
            if (f32) f[i] = nextafterf(x_f32(&x, 0, i), x_f32(&x, 1, i));
            else d[i] = nextafter(x_f64(&x, 0, i), x_f64(&x, 1, i));
            break;
        case F_EVEN: d[i] = even1(x_f64(&x, 0, i)); break;
        case F_SIGNBIT:
            if (signbit(x_f64(&x, 0, i))) pl_bit_set(values->data, i);
            break;
        }
    }
    return fixed_result(&x, call, n, PL_OK, values, out, err);
}

#define FLOAT_K(NAME, OP)                                                                          \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return float_kernel(ec, call, args, n, out, err, OP, k_##NAME);                            \
    }
FLOAT_K(fmod, F_FMOD)
FLOAT_K(nextafter, F_NEXTAFTER)
FLOAT_K(even, F_EVEN)
FLOAT_K(signbit, F_SIGNBIT)

/* ---------------------------------------------------------------- integer kernels */

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

typedef enum iop { I_GCD, I_LCM, I_FACTORIAL } iop;

static pl_status int_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err, iop op, pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    pl_buf *values = NULL;
    pl_status st = pl_fn_new_values(n, 8, &values, err);
    int64_t *r = st ? NULL : (int64_t *)(void *)values->data;
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t a = x_i64(&x, 0, i);
        r[i] = 0;
        if (!x_valid(&x, i)) continue;
        if (op == I_FACTORIAL) {
            if (a < 0) {
                st = row_fail(err, i, "factorial of a negative number (%lld) is undefined", (long long)a);
            } else if (a > 20) {
                st = row_fail(err, i, "factorial(%lld) is out of the range of BIGINT (20! is the largest)",
                              (long long)a);
            } else {
                int64_t p = 1;
                for (int64_t k = 2; k <= a; k++) p *= k;
                r[i] = p;
            }
            continue;
        }
        int64_t b = x_i64(&x, 1, i);
        if (a == INT64_MIN || b == INT64_MIN) {
            st = row_fail(err, i, "overflow on abs(%lld) in %s", (long long)INT64_MIN, call->fn->name);
            continue;
        }
        uint64_t ua = (uint64_t)(a < 0 ? -a : a), ub = (uint64_t)(b < 0 ? -b : b);
        uint64_t g = gcd_u64(ua, ub);
        if (op == I_GCD) {
            r[i] = (int64_t)g;
        } else if (ua == 0 || ub == 0) {
            r[i] = 0;
        } else {
            uint64_t m;
            if (__builtin_mul_overflow(ua / g, ub, &m) || m > (uint64_t)INT64_MAX)
                st = row_fail(err, i, "lcm(%lld, %lld) is out of the range of BIGINT", (long long)a,
                              (long long)b);
            else
                r[i] = (int64_t)m;
        }
    }
    return fixed_result(&x, call, n, st, values, out, err);
}

#define INT_K(NAME, OP)                                                                            \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return int_kernel(ec, call, args, n, out, err, OP, k_##NAME);                              \
    }
INT_K(gcd, I_GCD)
INT_K(lcm, I_LCM)
INT_K(factorial, I_FACTORIAL)

static pl_status k_bit_count(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                             pl_datum *out, pl_error *err) {
    KERNEL_PROLOGUE(k_bit_count)
    pl_buf *values = NULL, *tmp = NULL;
    pl_status st = pl_fn_new_values(n, 1, &values, err);
    if (!st) st = pl_fn_new_values(n, 8, &tmp, err);
    if (st) {
        pl_buf_release(values);
        xargs_close(&x);
        return st;
    }
    int64_t *v = (int64_t *)(void *)tmp->data;
    pl_fn_read_i64(x.a[0], v);
    int32_t bits = x.a[0]->type->byte_width * 8;
    uint64_t mask = bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
    int8_t *o = (int8_t *)values->data;
    for (int64_t i = 0; i < n; i++) o[i] = (int8_t)__builtin_popcountll((uint64_t)v[i] & mask);
    pl_buf_release(tmp);
    return fixed_result(&x, call, n, PL_OK, values, out, err);
}

/* ---------------------------------------------------------------- round_even */

/* round_even(x, d) / roundbankers: round() with ties to even. Types as round(): integers keep
 * theirs, floats theirs, DECIMAL(p, s) becomes DECIMAL(p, min(s, max(d, 0))) (d constant). */
static pl_status bind_round_even(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id, d = call->args[1]->type->id;
    if ((!is_num(id) && id != PL_TYPE_NA) || (!is_int(d) && d != PL_TYPE_NA)) return no_function(call, err);
    PL_TRY(pl_bexpr_wrap_cast(&call->args[1], ty(PL_TYPE_INT64), err));
    if (id == PL_TYPE_NA) {
        PL_TRY(pl_bexpr_wrap_cast(&call->args[0], ty(PL_TYPE_FLOAT64), err));
        id = PL_TYPE_FLOAT64;
    }
    if (id == PL_TYPE_DECIMAL128) {
        const pl_bexpr *dl = call->args[1];
        if (dl->kind != PL_BEXPR_LIT)
            PL_FAIL(err, PL_ERR_SQL, "%s: the precision must be a constant for decimal values",
                    call->fn->name);
        int32_t s = call->args[0]->type->scale;
        int64_t dd = dl->lit.is_null ? s : dl->lit.v.i;
        int32_t ns = dd >= s ? s : dd < 0 ? 0 : (int32_t)dd;
        return pl_type_new_decimal(call->args[0]->type->precision, ns, &call->type, err);
    }
    call->type = pl_type_retain(call->args[0]->type);
    return PL_OK;
}

static __int128 p10_128(int64_t e) {
    __int128 p = 1;
    for (int64_t k = 0; k < e && k < 39; k++) p *= 10;
    return p;
}

/* q = v / p rounded half to even (p > 0). */
static __int128 div_even(__int128 v, __int128 p) {
    __int128 q = v / p, rem = v % p;
    __int128 ar = rem < 0 ? -rem : rem;
    if (ar * 2 > p || (ar * 2 == p && (q & 1))) q += v < 0 ? -1 : 1;
    return q;
}

/* The integer nearest to the exact value hi + lo (lo a correction far below hi's ulp; only its
 * sign matters), ties to even. */
static inline double round_exact_even(double hi, double lo) {
    if (!(fabs(hi) < 0x1p52)) return hi;
    bool neg = hi < 0;
    double a = neg ? -hi : hi, b = neg ? -lo : lo;
    double f = floor(a), fr = a - f;
    double r = f;
    if (fr > 0.5 || (fr == 0.5 && (b > 0 || (b == 0 && fmod(f, 2.0) != 0)))) r = f + 1;
    return neg ? -r : r;
}

/* round_even of a double to d digits, of the double's exact binary value like DuckDB
 * (round_even(2.675, 2) is 2.67: 2.675 is 2.67499...; x * 10^d split exactly with fma). */
static inline double round_even_f(double x, int64_t d) {
    bool neg = d < 0;
    double mod = pow(10.0, (double)(neg ? (-d > 400 ? 400 : -d) : (d > 400 ? 400 : d)));
    if (!isfinite(mod)) return neg ? x * 0.0 : x;
    double r;
    if (!neg) {
        double p = x * mod;
        double e = mod <= 1e22 ? fma(x, mod, -p) : 0.0;
        r = isfinite(p) ? round_exact_even(p, e) / mod : x;
    } else {
        double q = x / mod;
        double rem = mod <= 1e22 ? fma(-q, mod, x) : 0.0;
        r = round_exact_even(q, rem) * mod;
    }
    return isfinite(r) ? r : x;
}

static pl_status k_round_even(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    KERNEL_PROLOGUE(k_round_even)
    pl_type_id id = call->args[0]->type->id;
    const pl_array *a = x.a[0];
    pl_status st = PL_OK;
    pl_buf *values = NULL;
    if (id == PL_TYPE_DECIMAL128) {
        st = pl_fn_new_values(n, 16, &values, err);
        int32_t s = a->type->scale;
        int64_t dd = x_i64(&x, 1, 0);
        /* rounding unit 10^e below the input's last digit; negative d rounds past the point */
        int64_t e = dd >= s ? 0 : s - dd;
        __int128 p = p10_128(e), back = dd < 0 ? p10_128(-dd) : 1;
        const uint8_t *src = (const uint8_t *)pl_array_values_ptr(a);
        for (int64_t i = 0; i < n && !st; i++) {
            __int128 v;
            memcpy(&v, src + i * 16, 16);
            __int128 r = e > 38 ? 0 : div_even(v, p) * back;
            memcpy(values->data + i * 16, &r, 16);
        }
    } else if (is_float(id)) {
        bool f32 = id == PL_TYPE_FLOAT32;
        st = pl_fn_new_values(n, f32 ? 4 : 8, &values, err);
        for (int64_t i = 0; i < n && !st; i++) {
            int64_t dd = x_i64(&x, 1, i);
            if (f32) ((float *)(void *)values->data)[i] = (float)round_even_f(x_f32(&x, 0, i), dd);
            else ((double *)(void *)values->data)[i] = round_even_f(x_f64(&x, 0, i), dd);
        }
    } else {
        /* integers: compute in 128 bits, check the type's range */
        pl_buf *tmp = NULL;
        st = pl_fn_new_values(n, 8, &tmp, err);
        if (!st) st = pl_fn_new_values(n, a->type->byte_width, &values, err);
        if (!st) {
            int64_t *v = (int64_t *)(void *)tmp->data;
            pl_fn_read_i64(a, v);
            bool u64 = id == PL_TYPE_UINT64;
            int32_t w = a->type->byte_width;
            bool uns = id >= PL_TYPE_UINT8 && id <= PL_TYPE_UINT64;
            __int128 lo = uns ? 0 : -((__int128)1 << (w * 8 - 1));
            __int128 hi = uns ? ((__int128)1 << (w * 8)) - 1 : ((__int128)1 << (w * 8 - 1)) - 1;
            for (int64_t i = 0; i < n && !st; i++) {
                __int128 xv = u64 ? (__int128)(uint64_t)v[i] : (__int128)v[i];
                int64_t dd = x_i64(&x, 1, i);
                __int128 r = xv;
                if (dd < 0) r = -dd > 38 ? 0 : div_even(xv, p10_128(-dd)) * p10_128(-dd);
                if ((r < lo || r > hi) && x_valid(&x, i)) {
                    st = row_fail(err, i, "overflow in %s of integer", call->fn->name);
                    break;
                }
                memcpy(values->data + i * w, &r, (size_t)w); /* little endian */
            }
        }
        pl_buf_release(tmp);
    }
    return fixed_result(&x, call, n, st, values, out, err);
}

/* ---------------------------------------------------------------- string distances */

/* Decodes valid UTF-8 into code points; returns the count. */
static int64_t utf8_decode(const uint8_t *s, int32_t n, uint32_t *out) {
    int64_t k = 0;
    for (int32_t i = 0; i < n;) {
        uint8_t c = s[i];
        uint32_t cp;
        int32_t len;
        if (c < 0x80) { cp = c; len = 1; }
        else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; len = 2; }
        else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; len = 3; }
        else { cp = c & 0x07; len = 4; }
        if (i + len > n) len = n - i;
        for (int32_t j = 1; j < len; j++) cp = (cp << 6) | (s[i + j] & 0x3F);
        out[k++] = cp;
        i += len;
    }
    return k;
}

/* Encodes code point v as UTF-8 into enc (4 bytes room); returns the length. */
static int utf8_encode(uint32_t v, uint8_t *enc) {
    if (v < 0x80) {
        enc[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x800) {
        enc[0] = (uint8_t)(0xC0 | (v >> 6));
        enc[1] = (uint8_t)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        enc[0] = (uint8_t)(0xE0 | (v >> 12));
        enc[1] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
        enc[2] = (uint8_t)(0x80 | (v & 0x3F));
        return 3;
    }
    enc[0] = (uint8_t)(0xF0 | (v >> 18));
    enc[1] = (uint8_t)(0x80 | ((v >> 12) & 0x3F));
    enc[2] = (uint8_t)(0x80 | ((v >> 6) & 0x3F));
    enc[3] = (uint8_t)(0x80 | (v & 0x3F));
    return 4;
}

/* Jaro similarity of code point strings (0 when one is empty or nothing matches): characters
 * match within max(m, n) / 2 - 1 positions, t is half the matched characters out of order;
 * (matches / m + matches / n + (matches - t) / matches) / 3. used_b: n scratch flags. */
static double jaro(const uint32_t *a, int64_t m, const uint32_t *b, int64_t n, uint8_t *used_a,
                   uint8_t *used_b) {
    if (m == 0 || n == 0) return 0;
    int64_t w = (m > n ? m : n) / 2 - 1, hits = 0;
    if (w < 0) w = 0;
    memset(used_a, 0, (size_t)m);
    memset(used_b, 0, (size_t)n);
    for (int64_t i = 0; i < m; i++) {
        int64_t lo = i > w ? i - w : 0, hi = i + w + 1 < n ? i + w + 1 : n;
        for (int64_t j = lo; j < hi; j++) {
            if (used_b[j] || a[i] != b[j]) continue;
            used_a[i] = used_b[j] = 1;
            hits++;
            break;
        }
    }
    if (hits == 0) return 0;
    int64_t t = 0, k = 0;
    for (int64_t i = 0; i < m; i++) {
        if (!used_a[i]) continue;
        while (!used_b[k]) k++;
        t += a[i] != b[k];
        k++;
    }
    double h = (double)hits;
    return (h / (double)m + h / (double)n + (h - (double)(t / 2)) / h) / 3;
}

/* Jaro-Winkler: a Jaro similarity above 0.7 raised by 0.1 per common prefix character (4 at
 * most). */
static double jaro_winkler(const uint32_t *a, int64_t m, const uint32_t *b, int64_t n, uint8_t *used_a,
                           uint8_t *used_b) {
    double sim = jaro(a, m, b, n, used_a, used_b);
    if (sim <= 0.7) return sim;
    int64_t p = 0;
    while (p < 4 && p < m && p < n && a[p] == b[p]) p++;
    return sim + (double)p * 0.1 * (1 - sim);
}

/* Work of one row at most this many cells (m x n): beyond, the distance is refused rather
 * than taking minutes. */
#define DIST_MAX_CELLS (INT64_C(1) << 28)

typedef enum sop { S_LEV, S_DAMERAU, S_HAMMING, S_JACCARD, S_JARO, S_JARO_W } sop;

static int64_t levenshtein(const uint32_t *a, int64_t m, const uint32_t *b, int64_t n, int64_t *row) {
    for (int64_t j = 0; j <= n; j++) row[j] = j;
    for (int64_t i = 1; i <= m; i++) {
        int64_t diag = row[0];
        row[0] = i;
        for (int64_t j = 1; j <= n; j++) {
            int64_t up = row[j];
            int64_t c = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < c) c = up + 1;
            if (row[j - 1] + 1 < c) c = row[j - 1] + 1;
            row[j] = c;
            diag = up;
        }
    }
    return row[n];
}

/* Unrestricted Damerau-Levenshtein (transpositions of non-adjacent-after-editing characters
 * allowed: damerau_levenshtein('ca', 'abc') = 2), the Lowrance-Wagner recurrence with the
 * last row of each character. d has (m + 2) * (n + 2) cells; last holds m + n code points'
 * slots (alphabet of the two strings, found by linear search over `alpha`). */
static int64_t damerau(const uint32_t *a, int64_t m, const uint32_t *b, int64_t n, int64_t *d,
                       uint32_t *alpha, int64_t *last) {
    int64_t na = 0;
    for (int64_t i = 0; i < m + n; i++) {
        uint32_t c = i < m ? a[i] : b[i - m];
        int64_t k = 0;
        while (k < na && alpha[k] != c) k++;
        if (k == na) alpha[na++] = c;
    }
    for (int64_t k = 0; k < na; k++) last[k] = 0;
    int64_t W = n + 2, INF = m + n;
#define D(i, j) d[(i) * W + (j)]
    D(0, 0) = INF;
    for (int64_t i = 0; i <= m; i++) {
        D(i + 1, 0) = INF;
        D(i + 1, 1) = i;
    }
    for (int64_t j = 0; j <= n; j++) {
        D(0, j + 1) = INF;
        D(1, j + 1) = j;
    }
    for (int64_t i = 1; i <= m; i++) {
        int64_t db = 0;
        for (int64_t j = 1; j <= n; j++) {
            int64_t k = 0;
            while (alpha[k] != b[j - 1]) k++;
            int64_t i1 = last[k], j1 = db;
            int64_t cost = 1;
            if (a[i - 1] == b[j - 1]) {
                cost = 0;
                db = j;
            }
            int64_t v = D(i, j) + cost;
            if (D(i + 1, j) + 1 < v) v = D(i + 1, j) + 1;
            if (D(i, j + 1) + 1 < v) v = D(i, j + 1) + 1;
            int64_t t = D(i1, j1) + (i - i1 - 1) + 1 + (j - j1 - 1);
            if (t < v) v = t;
            D(i + 1, j + 1) = v;
        }
        int64_t k = 0;
        while (alpha[k] != a[i - 1]) k++;
        last[k] = i;
    }
    return D(m + 1, n + 1);
#undef D
}

static int cmp_u32(const void *p, const void *q) {
    uint32_t a = *(const uint32_t *)p, b = *(const uint32_t *)q;
    return (a > b) - (a < b);
}

/* Sorts and dedupes; returns the new count. */
static int64_t uniq_u32(uint32_t *v, int64_t n) {
    qsort(v, (size_t)n, sizeof *v, cmp_u32);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i]) v[k++] = v[i];
    return k;
}

static pl_status str_dist_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                 int64_t n, pl_datum *out, pl_error *err, sop op,
                                 pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    pl_buf *values = NULL;
    pl_status st = pl_fn_new_values(n, 8, &values, err);
    uint32_t *ca = NULL, *cb = NULL, *alpha = NULL;
    int64_t *work = NULL, *last = NULL;
    int64_t cap = 0, wcap = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        ((int64_t *)(void *)values->data)[i] = 0;
        if (!x_valid(&x, i)) continue;
        int32_t la, lb;
        const uint8_t *pa = x_str(&x, 0, i, &la), *pb = x_str(&x, 1, i, &lb);
        if (la + lb + 2 > cap) {
            cap = 2 * (la + lb + 2);
            pl_free(ca);
            pl_free(cb);
            pl_free(alpha);
            pl_free(last);
            ca = pl_malloc((size_t)cap * 4);
            cb = pl_malloc((size_t)cap * 4);
            alpha = pl_malloc((size_t)cap * 4);
            last = pl_malloc((size_t)cap * 8);
            if (!ca || !cb || !alpha || !last) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in %s", call->fn->name);
                break;
            }
        }
        int64_t m = utf8_decode(pa, la, ca), k = utf8_decode(pb, lb, cb);
        double dv = 0;
        int64_t iv = 0;
        if (op == S_HAMMING) {
            if (m == 0 || k == 0) {
                st = row_fail(err, i, "hamming: the strings must not be empty");
                break;
            }
            if (m != k) {
                st = row_fail(err, i, "hamming: the strings must be of equal length (%lld and %lld characters)",
                              (long long)m, (long long)k);
                break;
            }
            for (int64_t j = 0; j < m; j++) iv += ca[j] != cb[j];
        } else if (op == S_JACCARD) {
            if (m == 0 || k == 0) {
                st = row_fail(err, i, "jaccard: an argument is empty");
                break;
            }
            m = uniq_u32(ca, m);
            k = uniq_u32(cb, k);
            int64_t both = 0, p = 0, q = 0;
            while (p < m && q < k) {
                if (ca[p] == cb[q]) { both++; p++; q++; }
                else if (ca[p] < cb[q]) p++;
                else q++;
            }
            dv = (double)both / (double)(m + k - both);
        } else if (op == S_JARO || op == S_JARO_W) {
            /* alpha / last: m + n bytes of flags; the third argument a cutoff below which 0 */
            uint8_t *used_a = (uint8_t *)alpha, *used_b = (uint8_t *)last;
            dv = op == S_JARO ? jaro(ca, m, cb, k, used_a, used_b) : jaro_winkler(ca, m, cb, k, used_a, used_b);
            if (call->n_args > 2 && dv < x_f64(&x, 2, i)) dv = 0;
        } else {
            if ((m + 2) * (k + 2) > DIST_MAX_CELLS) {
                st = row_fail(err, i, "%s: the strings are too long (%lld x %lld characters; at most %lld cells)",
                              call->fn->name, (long long)m, (long long)k, (long long)DIST_MAX_CELLS);
                break;
            }
            int64_t need = op == S_LEV ? k + 1 : (m + 2) * (k + 2);
            if (need > wcap) {
                pl_free(work);
                wcap = need * 2;
                work = pl_malloc((size_t)wcap * 8);
                if (!work) {
                    st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in %s", call->fn->name);
                    break;
                }
            }
            iv = op == S_LEV ? levenshtein(ca, m, cb, k, work) : damerau(ca, m, cb, k, work, alpha, last);
        }
        if (op == S_JACCARD || op == S_JARO || op == S_JARO_W) ((double *)(void *)values->data)[i] = dv;
        else ((int64_t *)(void *)values->data)[i] = iv;
    }
    pl_free(ca);
    pl_free(cb);
    pl_free(alpha);
    pl_free(last);
    pl_free(work);
    return fixed_result(&x, call, n, st, values, out, err);
}

#define SDIST_K(NAME, OP)                                                                          \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return str_dist_kernel(ec, call, args, n, out, err, OP, k_##NAME);                         \
    }
SDIST_K(levenshtein, S_LEV)
SDIST_K(damerau_levenshtein, S_DAMERAU)
SDIST_K(hamming, S_HAMMING)
SDIST_K(jaccard, S_JACCARD)
SDIST_K(jaro_similarity, S_JARO)
SDIST_K(jaro_winkler_similarity, S_JARO_W)

/* ---------------------------------------------------------------- sha256 (FIPS 180-4) */

static const uint32_t g_sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t rotr(uint32_t x, int r) { return (x >> r) | (x << (32 - r)); }

static void sha256_block(uint32_t h[8], const uint8_t *blk) {
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = ((uint32_t)blk[t * 4] << 24) | ((uint32_t)blk[t * 4 + 1] << 16) |
               ((uint32_t)blk[t * 4 + 2] << 8) | (uint32_t)blk[t * 4 + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
        uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + g_sha_k[t] + w[t];
        uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + maj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* sha1's block function (FIPS 180-4, 6.1.2). */
static void sha1_block(uint32_t h[8], const uint8_t *blk) {
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = ((uint32_t)blk[t * 4] << 24) | ((uint32_t)blk[t * 4 + 1] << 16) |
               ((uint32_t)blk[t * 4 + 2] << 8) | (uint32_t)blk[t * 4 + 3];
    for (int t = 16; t < 80; t++) w[t] = rotr(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 31);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) f = (b & c) | (~b & d), k = 0x5a827999;
        else if (t < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
        else if (t < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
        else f = b ^ c ^ d, k = 0xca62c1d6;
        uint32_t tmp = rotr(a, 27) + f + e + k + w[t];
        e = d;
        d = c;
        c = rotr(b, 2);
        b = a;
        a = tmp;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* The lower-case hex digits of sha256(p[0..n)) (64) or, sha1, sha1(p[0..n)) (40) into out: the
 * two share the padding and the big-endian message length. */
static void sha_hex(const uint8_t *p, int64_t n, char *out, bool sha1) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    if (sha1) {
        static const uint32_t h1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
        memcpy(h, h1, sizeof h1);
    }
    void (*block)(uint32_t *, const uint8_t *) = sha1 ? sha1_block : sha256_block;
    int64_t full = n / 64;
    for (int64_t b = 0; b < full; b++) block(h, p + b * 64);
    uint8_t tail[128] = {0};
    int64_t rest = n - full * 64;
    memcpy(tail, p + full * 64, (size_t)rest);
    tail[rest] = 0x80;
    int64_t tl = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int k = 0; k < 8; k++) tail[tl - 1 - k] = (uint8_t)(bits >> (8 * k));
    block(h, tail);
    if (tl == 128) block(h, tail + 64);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < (sha1 ? 20 : 32); i++) {
        uint8_t byte = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
        out[i * 2] = hex[byte >> 4];
        out[i * 2 + 1] = hex[byte & 15];
    }
}

/* ---------------------------------------------------------------- base64 (RFC 4648) */

static const char g_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* ---------------------------------------------------------------- string results */

typedef enum strop {
    T_SHA256, T_SHA1, T_HEX, T_UNHEX, T_TRANSLATE, T_TO_BASE64, T_FROM_BASE64, T_URL_ENCODE,
    T_URL_DECODE, T_STRIP_ACCENTS, T_TO_BASE, T_OVERLAY
} strop;

/* strip_accents of code point c: -1 for a mark (dropped), else the replacement (c itself when
 * it has none); binary searches over strip_accents_data.h. */
#define TO_BASE_MAX_LEN 64 /* to_base's min_length at most (DuckDB: 64 binary digits) */

static int64_t strip_accent_cp(uint32_t c) {
    if (c < 0x80) return c;
    int64_t lo = 0, hi = (int64_t)PL_ARRAY_LEN(k_mark_ranges) - 1;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2;
        if (c < k_mark_ranges[mid][0]) hi = mid - 1;
        else if (c > k_mark_ranges[mid][1]) lo = mid + 1;
        else return -1;
    }
    lo = 0;
    hi = (int64_t)PL_ARRAY_LEN(k_strip_map) - 1;
    while (lo <= hi) {
        int64_t mid = (lo + hi) / 2;
        if (c < k_strip_map[mid][0]) hi = mid - 1;
        else if (c > k_strip_map[mid][0]) lo = mid + 1;
        else return k_strip_map[mid][1];
    }
    return c;
}

/* Hangul composition (NFC across characters, the only one left once the marks are gone):
 * a leading jamo and a vowel jamo make an LV syllable, an LV syllable and a trailing jamo an
 * LVT syllable. Returns the composed code point, or 0. */
static uint32_t hangul_compose(uint32_t prev, uint32_t c) {
    if (prev >= 0x1100 && prev < 0x1100 + 19 && c >= 0x1161 && c < 0x1161 + 21)
        return 0xAC00 + ((prev - 0x1100) * 21 + (c - 0x1161)) * 28;
    if (prev >= 0xAC00 && prev < 0xAC00 + 11172 && (prev - 0xAC00) % 28 == 0 && c > 0x11A7 &&
        c < 0x11A7 + 28)
        return prev + (c - 0x11A7);
    return 0;
}

static int hexval(uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends row i's result to b. */
static pl_status str_row(const pl_bexpr *call, const xargs *x, int64_t i, strop op, pl_fn_strb *b,
                         uint32_t **cps, int64_t *cap, pl_error *err) {
    static const char HEX[] = "0123456789ABCDEF";
    int32_t len;
    uint8_t *dst;
    switch (op) {
    case T_SHA256:
    case T_SHA1: {
        const uint8_t *p = x_str(x, 0, i, &len);
        int32_t hl = op == T_SHA1 ? 40 : 64;
        PL_TRY(pl_fn_strb_reserve(b, hl, &dst, err));
        sha_hex(p, len, (char *)dst, op == T_SHA1);
        pl_fn_strb_commit(b, hl);
        return PL_OK;
    }
    case T_TO_BASE64: {
        const uint8_t *p = x_str(x, 0, i, &len);
        int64_t outn = ((int64_t)len + 2) / 3 * 4;
        PL_TRY(pl_fn_strb_reserve(b, outn, &dst, err));
        int64_t k = 0;
        for (int32_t j = 0; j < len; j += 3) {
            uint32_t v = (uint32_t)p[j] << 16;
            if (j + 1 < len) v |= (uint32_t)p[j + 1] << 8;
            if (j + 2 < len) v |= p[j + 2];
            dst[k++] = (uint8_t)g_b64[v >> 18];
            dst[k++] = (uint8_t)g_b64[(v >> 12) & 63];
            dst[k++] = j + 1 < len ? (uint8_t)g_b64[(v >> 6) & 63] : '=';
            dst[k++] = j + 2 < len ? (uint8_t)g_b64[v & 63] : '=';
        }
        pl_fn_strb_commit(b, outn);
        return PL_OK;
    }
    case T_FROM_BASE64: {
        const uint8_t *p = x_str(x, 0, i, &len);
        if (len % 4)
            return row_fail(err, i, "from_base64: the length %d is not a multiple of 4", len);
        PL_TRY(pl_fn_strb_reserve(b, (int64_t)len / 4 * 3, &dst, err));
        int64_t k = 0;
        for (int32_t j = 0; j < len; j += 4) {
            int pad = 0;
            uint32_t v = 0;
            for (int q = 0; q < 4; q++) {
                int c = b64val(p[j + q]);
                /* '=' only at the end: the last one, or the last two */
                if (p[j + q] == '=' && j + 4 == len && q >= 2 && (q == 3 || p[j + 3] == '=')) {
                    pad++;
                    c = 0;
                }
                if (c < 0)
                    return row_fail(err, i, "from_base64: '%c' (byte %d) is not a base64 character",
                                    p[j + q] >= 32 && p[j + q] < 127 ? p[j + q] : '?', j + q + 1);
                v = v << 6 | (uint32_t)c;
            }
            dst[k++] = (uint8_t)(v >> 16);
            if (pad < 2) dst[k++] = (uint8_t)(v >> 8);
            if (pad < 1) dst[k++] = (uint8_t)v;
        }
        pl_fn_strb_commit(b, k);
        return PL_OK;
    }
    case T_URL_ENCODE: {
        /* every byte but the unreserved ones (RFC 3986: A-Z a-z 0-9 - _ . ~) as %XX */
        const uint8_t *p = x_str(x, 0, i, &len);
        PL_TRY(pl_fn_strb_reserve(b, (int64_t)len * 3, &dst, err));
        int64_t k = 0;
        for (int32_t j = 0; j < len; j++) {
            uint8_t c = p[j];
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~') {
                dst[k++] = c;
            } else {
                dst[k++] = '%';
                dst[k++] = (uint8_t)HEX[c >> 4];
                dst[k++] = (uint8_t)HEX[c & 15];
            }
        }
        pl_fn_strb_commit(b, k);
        return PL_OK;
    }
    case T_URL_DECODE: {
        const uint8_t *p = x_str(x, 0, i, &len);
        PL_TRY(pl_fn_strb_reserve(b, len, &dst, err));
        int64_t k = 0;
        for (int32_t j = 0; j < len; j++) {
            int hi, lo;
            if (p[j] == '%' && j + 2 < len && (hi = hexval(p[j + 1])) >= 0 &&
                (lo = hexval(p[j + 2])) >= 0) {
                dst[k++] = (uint8_t)(hi << 4 | lo);
                j += 2;
            } else {
                dst[k++] = p[j]; /* '+' stays '+' (DuckDB) */
            }
        }
        if (!pl_utf8_valid(dst, k))
            return row_fail(err, i, "url_decode: the decoded text is not valid UTF-8");
        pl_fn_strb_commit(b, k);
        return PL_OK;
    }
    case T_HEX: {
        const pl_array *a = x->a[0];
        if (is_int(a->type->id)) {
            int64_t v;
            pl_type_id id = a->type->id;
            const void *vp = (const uint8_t *)pl_array_values_ptr(a) + i * a->type->byte_width;
            switch (id) {
            case PL_TYPE_INT8: v = *(const int8_t *)vp; break;
            case PL_TYPE_INT16: { int16_t t; memcpy(&t, vp, 2); v = t; break; }
            case PL_TYPE_INT32: { int32_t t; memcpy(&t, vp, 4); v = t; break; }
            case PL_TYPE_UINT8: v = *(const uint8_t *)vp; break;
            case PL_TYPE_UINT16: { uint16_t t; memcpy(&t, vp, 2); v = t; break; }
            case PL_TYPE_UINT32: { uint32_t t; memcpy(&t, vp, 4); v = t; break; }
            default: memcpy(&v, vp, 8); break;
            }
            uint64_t u = (uint64_t)v;
            char tmp[16];
            int k = 0;
            do {
                tmp[k++] = HEX[u & 15];
                u >>= 4;
            } while (u);
            PL_TRY(pl_fn_strb_reserve(b, k, &dst, err));
            for (int j = 0; j < k; j++) dst[j] = (uint8_t)tmp[k - 1 - j];
            pl_fn_strb_commit(b, k);
            return PL_OK;
        }
        const uint8_t *p = x_str(x, 0, i, &len);
        PL_TRY(pl_fn_strb_reserve(b, (int64_t)len * 2, &dst, err));
        for (int32_t j = 0; j < len; j++) {
            dst[2 * j] = (uint8_t)HEX[p[j] >> 4];
            dst[2 * j + 1] = (uint8_t)HEX[p[j] & 15];
        }
        pl_fn_strb_commit(b, (int64_t)len * 2);
        return PL_OK;
    }
    case T_UNHEX: {
        const uint8_t *p = x_str(x, 0, i, &len);
        int32_t outn = (len + 1) / 2;
        PL_TRY(pl_fn_strb_reserve(b, outn, &dst, err));
        int32_t j = 0, k = 0;
        if (len % 2) {
            int v = hexval(p[0]);
            if (v < 0) goto bad;
            dst[k++] = (uint8_t)v;
            j = 1;
        }
        for (; j < len; j += 2, k++) {
            int hi = hexval(p[j]), lo = hexval(p[j + 1]);
            if (hi < 0) { len = j; goto bad; }
            if (lo < 0) { len = j + 1; goto bad; }
            dst[k] = (uint8_t)(hi << 4 | lo);
        }
        pl_fn_strb_commit(b, outn);
        return PL_OK;
    bad:
        return row_fail(err, i, "unhex: '%c' (byte %d) is not a hex digit", p[len] >= 32 && p[len] < 127 ? p[len] : '?',
                        len + 1);
    }
    case T_STRIP_ACCENTS: {
        /* NFC(NFD(s) without marks), like DuckDB (utf8proc's STRIPMARK) */
        const uint8_t *s = x_str(x, 0, i, &len);
        uint32_t prev = 0; /* the last code point, not yet written (0: none) */
        uint8_t enc[4];
        for (int32_t j = 0; j < len;) {
            int32_t cl = s[j] >= 0xF0 ? 4 : s[j] >= 0xE0 ? 3 : s[j] >= 0xC0 ? 2 : 1;
            if (j + cl > len) cl = len - j;
            uint32_t cp;
            utf8_decode(s + j, cl, &cp);
            j += cl;
            int64_t r = strip_accent_cp(cp);
            if (r < 0) continue;
            uint32_t comp = prev ? hangul_compose(prev, (uint32_t)r) : 0;
            if (comp) {
                prev = comp;
                continue;
            }
            if (prev) PL_TRY(pl_fn_strb_append(b, enc, utf8_encode(prev, enc), err));
            prev = (uint32_t)r;
        }
        if (prev) PL_TRY(pl_fn_strb_append(b, enc, utf8_encode(prev, enc), err));
        return PL_OK;
    }
    case T_TO_BASE: {
        /* to_base(n, radix [, min_length]): digits 0-9A-Z, zero-padded on the left */
        static const char DIGITS[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        int64_t v = x_i64(x, 0, i), radix = x_i64(x, 1, i), min_len = x->n > 2 ? x_i64(x, 2, i) : 0;
        if (v < 0) return row_fail(err, i, "to_base: the number must be >= 0, found %lld", (long long)v);
        if (radix < 2 || radix > 36)
            return row_fail(err, i, "to_base: the radix must be between 2 and 36, found %lld", (long long)radix);
        if (min_len < 0 || min_len > TO_BASE_MAX_LEN)
            return row_fail(err, i, "to_base: the minimum length must be between 0 and %d, found %lld",
                            TO_BASE_MAX_LEN, (long long)min_len);
        char digits[64];
        int32_t nd = 0;
        do {
            digits[nd++] = DIGITS[v % radix];
            v /= radix;
        } while (v > 0);
        int64_t pad = min_len > nd ? min_len - nd : 0;
        PL_TRY(pl_fn_strb_reserve(b, pad + nd, &dst, err));
        memset(dst, '0', (size_t)pad);
        for (int32_t k = 0; k < nd; k++) dst[pad + k] = (uint8_t)digits[nd - 1 - k];
        pl_fn_strb_commit(b, pad + nd);
        return PL_OK;
    }
    case T_OVERLAY: {
        /* overlay(s PLACING t FROM f [FOR k]): the characters of s before position f, t, then
         * those from position f + k on (k defaults to t's length); positions below 1 clamp */
        int32_t lt;
        const uint8_t *s = x_str(x, 0, i, &len), *t = x_str(x, 1, i, &lt);
        int64_t f = x_i64(x, 2, i), k = x->n > 3 ? x_i64(x, 3, i) : pl_fn_utf8_count(t, lt);
        if (k < 0) return row_fail(err, i, "overlay: FOR must not be negative, found %lld", (long long)k);
        int64_t n_chars = pl_fn_utf8_count(s, len);
        int64_t keep = f <= 1 ? 0 : PL_MIN(f - 1, n_chars), rest = f > INT64_MAX - k ? n_chars : PL_MAX(f + k - 1, 0);
        int32_t cut = 0, from = 0; /* byte offsets of character keep and rest */
        for (int64_t c = 0, pos = 0; pos <= len; c++) {
            if (c == keep) cut = (int32_t)pos;
            if (c == PL_MIN(rest, n_chars)) {
                from = (int32_t)pos;
                break;
            }
            if (pos == len) break;
            int32_t cl = s[pos] >= 0xF0 ? 4 : s[pos] >= 0xE0 ? 3 : s[pos] >= 0xC0 ? 2 : 1;
            pos += PL_MIN(cl, len - (int32_t)pos);
        }
        PL_TRY(pl_fn_strb_append(b, s, cut, err));
        PL_TRY(pl_fn_strb_append(b, t, lt, err));
        return pl_fn_strb_append(b, s + from, len - from, err);
    }
    case T_TRANSLATE: {
        int32_t lf, lt;
        const uint8_t *s = x_str(x, 0, i, &len), *f = x_str(x, 1, i, &lf), *t = x_str(x, 2, i, &lt);
        int64_t need = (int64_t)len + lf + lt + 3;
        if (need > *cap) {
            pl_free(*cps);
            *cap = need * 2;
            *cps = pl_malloc((size_t)*cap * 4);
            if (!*cps) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in %s", call->fn->name);
        }
        uint32_t *fc = *cps, *tc = fc + lf + 1;
        int64_t nf = utf8_decode(f, lf, fc), nt = utf8_decode(t, lt, tc);
        /* byte offsets of the characters of `to` */
        for (int32_t j = 0; j < len;) {
            int32_t cl = 1;
            uint8_t c0 = s[j];
            if (c0 >= 0xF0) cl = 4;
            else if (c0 >= 0xE0) cl = 3;
            else if (c0 >= 0xC0) cl = 2;
            if (j + cl > len) cl = len - j;
            uint32_t cp;
            utf8_decode(s + j, cl, &cp);
            int64_t k = 0;
            while (k < nf && fc[k] != cp) k++;
            if (k == nf) {
                PL_TRY(pl_fn_strb_append(b, s + j, cl, err));
            } else if (k < nt) {
                uint8_t enc[4];
                int el = utf8_encode(tc[k], enc);
                PL_TRY(pl_fn_strb_append(b, enc, el, err));
            }
            j += cl;
        }
        return PL_OK;
    }
    }
    return PL_OK;
}

static pl_status str_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err, strop op, pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    pl_fn_strb b;
    int64_t est = op == T_SHA256 ? 64 * n : 16 * n;
    pl_status st = pl_fn_strb_init(&b, n, est + 1, err);
    if (st) {
        xargs_close(&x);
        return st;
    }
    uint32_t *cps = NULL;
    int64_t cap = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        if (!x_valid(&x, i)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        st = str_row(call, &x, i, op, &b, &cps, &cap, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    pl_free(cps);
    xargs_close(&x);
    if (st) {
        pl_fn_strb_reset(&b);
        return st;
    }
    return pl_fn_strb_finish(&b, pl_type_retain(call->type), out, err);
}

#define STR_K(NAME, OP)                                                                            \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return str_kernel(ec, call, args, n, out, err, OP, k_##NAME);                              \
    }
STR_K(sha256, T_SHA256)
STR_K(sha1, T_SHA1)
STR_K(to_base64, T_TO_BASE64)
STR_K(from_base64, T_FROM_BASE64)
STR_K(url_encode, T_URL_ENCODE)
STR_K(url_decode, T_URL_DECODE)
STR_K(hex, T_HEX)
STR_K(unhex, T_UNHEX)
STR_K(translate, T_TRANSLATE)
STR_K(strip_accents, T_STRIP_ACCENTS)
STR_K(to_base, T_TO_BASE)
STR_K(overlay, T_OVERLAY)

/* ---------------------------------------------------------------- hash */

static pl_status bind_hash(pl_bexpr *call, pl_error *err) {
    (void)err;
    call->type = ty(PL_TYPE_UINT64);
    return PL_OK;
}

/* hash(x, ...): polaroid's own 64-bit hash of the values (the one of its hash tables,
 * compute/hash.c; DuckDB's values differ): never NULL (a NULL hashes to a constant), equal
 * values equal hashes (integers of any width alike, strings whatever their encoding), several
 * arguments combined in order. */
static pl_status k_hash(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args) && call->n_args <= 16)
        return pl_fn_eval_scalars(ec, call, args, k_hash, out, err);
    pl_buf *values = NULL;
    PL_TRY(pl_fn_new_values(n, 8, &values, err));
    pl_status st = PL_OK;
    for (int32_t k = 0; k < call->n_args && !st; k++) {
        pl_array *a = NULL;
        st = pl_fn_datum_array(&args[k], n, &a, err);
        if (!st) pl_hash_array(a, (uint64_t *)(void *)values->data, k > 0);
        pl_array_release(a);
    }
    if (st) {
        pl_buf_release(values);
        return st;
    }
    return pl_fn_finish(out, ty(PL_TYPE_UINT64), n, NULL, 0, values, NULL, err);
}

/* ---------------------------------------------------------------- bitwise operators */

/* & | xor << >> (SQL's bit_and, bit_or, xor, shift_left, shift_right) and ~ (bit_not) of
 * integers: the common integer type, an INT32 literal taking the other side's type when it
 * fits (DuckDB: tinyint_col & 3 is TINYINT). Shifts: a negative left operand, a negative or
 * too large count and bits shifted out are errors for <<; >> by a count outside [0, width) is
 * 0, like DuckDB. */
static bool lit_fits_int(const pl_bexpr *e, pl_type_id id) {
    if (e->kind != PL_BEXPR_LIT || e->type->id != PL_TYPE_INT32) return false;
    if (e->lit.is_null) return true;
    int64_t v = e->lit.v.i;
    switch (id) {
    case PL_TYPE_INT8: return v >= INT8_MIN && v <= INT8_MAX;
    case PL_TYPE_INT16: return v >= INT16_MIN && v <= INT16_MAX;
    case PL_TYPE_UINT8: return v >= 0 && v <= UINT8_MAX;
    case PL_TYPE_UINT16: return v >= 0 && v <= UINT16_MAX;
    case PL_TYPE_UINT32: case PL_TYPE_UINT64: return v >= 0;
    default: return true;
    }
}

static pl_status bind_bitwise(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id != PL_TYPE_NA && !is_int(id)) return no_function(call, err);
    }
    pl_type_id t;
    pl_type_id a = call->args[0]->type->id, b = call->n_args > 1 ? call->args[1]->type->id : a;
    bool shift = !strcmp(call->fn->name, "shift_left") || !strcmp(call->fn->name, "shift_right");
    if (a == PL_TYPE_NA && b == PL_TYPE_NA) t = PL_TYPE_INT32;
    else if (a == PL_TYPE_NA) t = b;
    else if (b == PL_TYPE_NA || call->n_args == 1) t = a;
    else if (shift && lit_fits_int(call->args[1], a)) t = a;
    else if (lit_fits_int(call->args[1], a)) t = a;
    else if (lit_fits_int(call->args[0], b)) t = b;
    else {
        pl_type *c = pl_type_common_super(call->args[0]->type, call->args[1]->type);
        if (!c || !is_int(c->id)) {
            pl_type_release(c);
            return no_function(call, err);
        }
        t = c->id;
        pl_type_release(c);
    }
    for (int32_t i = 0; i < call->n_args; i++) PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(t), err));
    call->type = ty(t);
    return PL_OK;
}

typedef enum bop { B_AND, B_OR, B_XOR, B_SHL, B_SHR, B_NOT } bop;

static pl_status bitwise_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err, bop op, pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    pl_type_id id = call->type->id;
    int32_t w = call->type->byte_width, bits = w * 8;
    bool uns = id >= PL_TYPE_UINT8 && id <= PL_TYPE_UINT64;
    uint64_t mask = bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
    uint64_t maxv = uns ? mask : mask >> 1;
    pl_buf *values = NULL, *ta = NULL, *tb = NULL;
    pl_status st = pl_fn_new_values(n, w, &values, err);
    if (!st) st = pl_fn_new_values(n, 8, &ta, err);
    if (!st && op != B_NOT) st = pl_fn_new_values(n, 8, &tb, err);
    if (!st) {
        int64_t *va = (int64_t *)(void *)ta->data, *vb = tb ? (int64_t *)(void *)tb->data : NULL;
        pl_fn_read_i64(x.a[0], va);
        if (vb) pl_fn_read_i64(x.a[1], vb);
        for (int64_t i = 0; i < n && !st; i++) {
            uint64_t u = (uint64_t)va[i], r = 0;
            switch (op) {
            case B_AND: r = u & (uint64_t)vb[i]; break;
            case B_OR: r = u | (uint64_t)vb[i]; break;
            case B_XOR: r = u ^ (uint64_t)vb[i]; break;
            case B_NOT: r = ~u; break;
            case B_SHR: {
                int64_t sh = vb[i];
                if (sh < 0 || sh >= bits) r = 0;
                else if (uns) r = (u & mask) >> sh;
                else r = (uint64_t)(va[i] >> sh);
                break;
            }
            case B_SHL: {
                int64_t sh = vb[i];
                bool valid = x_valid(&x, i);
                if (valid && sh < 0) {
                    st = row_fail(err, i, "cannot left-shift by a negative number (%lld)", (long long)sh);
                } else if (valid && sh >= bits) {
                    st = row_fail(err, i, "left-shift count %lld is out of range (%d bits)", (long long)sh, bits);
                } else if (valid && !uns && va[i] < 0) {
                    st = row_fail(err, i, "cannot left-shift a negative number (%lld)", (long long)va[i]);
                } else if (valid && (u & mask) > (maxv >> sh)) {
                    if (uns) st = row_fail(err, i, "overflow in left shift (%llu << %lld)", (unsigned long long)(u & mask), (long long)sh);
                    else st = row_fail(err, i, "overflow in left shift (%lld << %lld)", (long long)va[i], (long long)sh);
                } else if (valid) {
                    r = u << sh;
                }
                break;
            }
            }
            memcpy(values->data + i * w, &r, (size_t)w); /* little endian: the low bytes */
        }
    }
    pl_buf_release(ta);
    pl_buf_release(tb);
    return fixed_result(&x, call, n, st, values, out, err);
}

#define BIT_K(NAME, OP)                                                                            \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        return bitwise_kernel(ec, call, args, n, out, err, OP, k_##NAME);                          \
    }
BIT_K(bit_and_op, B_AND)
BIT_K(bit_or_op, B_OR)
BIT_K(xor_op, B_XOR)
BIT_K(shift_left, B_SHL)
BIT_K(shift_right, B_SHR)
BIT_K(bit_not, B_NOT)

/* ---------------------------------------------------------------- printf / format */

/* printf(fmt, ...) (C style) and format(fmt, ...) (DuckDB's fmt style: {} {0} {:spec}). The
 * binder casts the value arguments to one of four kinds: BIGINT (integers; UBIGINT stays),
 * DOUBLE (floats, decimals), BOOLEAN, VARCHAR (strings and everything else, rendered as
 * text). Like DuckDB a specifier must suit its argument's kind (%d of a double, %s of an
 * integer are errors); widths and precisions of strings count characters. Specifiers outside
 * the supported set are refused with an error naming them. */
static pl_status bind_format(pl_bexpr *call, pl_error *err) {
    pl_type_id f = call->args[0]->type->id;
    if (f != PL_TYPE_UTF8 && f != PL_TYPE_NA) return no_function(call, err);
    if (f == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(&call->args[0], ty(PL_TYPE_UTF8), err));
    if (call->n_args > 16)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s: at most 15 values can be formatted, got %d", call->fn->name,
                call->n_args - 1);
    for (int32_t i = 1; i < call->n_args; i++) {
        pl_type *t = call->args[i]->type;
        pl_type_id id = t->id, to;
        if (id == PL_TYPE_DICTIONARY) id = t->value_type->id;
        if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP) return no_function(call, err);
        if (id == PL_TYPE_UINT64 || id == PL_TYPE_BOOL || id == PL_TYPE_UTF8) to = id;
        else if (is_int(id)) to = PL_TYPE_INT64;
        else if (is_float(id) || id == PL_TYPE_DECIMAL128) to = PL_TYPE_FLOAT64;
        else if (id == PL_TYPE_NA) to = PL_TYPE_INT32;
        else to = PL_TYPE_UTF8;
        PL_TRY(pl_bexpr_wrap_cast(&call->args[i], ty(to), err));
    }
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

typedef enum fkind { FK_INT, FK_UINT, FK_DBL, FK_BOOL, FK_STR } fkind;

typedef struct fval {
    fkind k;
    int64_t i;
    double d;
    const uint8_t *s;
    int32_t len;
} fval;

static fval fval_get(const xargs *x, int32_t k, int64_t i) {
    fval v;
    memset(&v, 0, sizeof v);
    const pl_array *a = x->a[k];
    switch (a->type->id) {
    case PL_TYPE_INT64: v.k = FK_INT; v.i = x_i64(x, k, i); break;
    case PL_TYPE_UINT64: v.k = FK_UINT; v.i = x_i64(x, k, i); break;
    case PL_TYPE_FLOAT64: v.k = FK_DBL; v.d = x_f64(x, k, i); break;
    case PL_TYPE_BOOL: v.k = FK_BOOL; v.i = pl_bit_get(a->values->data, a->offset + i); break;
    default: v.k = FK_STR; v.s = x_str(x, k, i, &v.len); break;
    }
    return v;
}

static const char *fkind_name(fkind k) {
    return k == FK_DBL ? "float" : k == FK_STR ? "string" : k == FK_BOOL ? "bool" : "int";
}

/* Byte length of the first `chars` characters of s (n bytes). */
static int32_t utf8_prefix(const uint8_t *s, int32_t n, int64_t chars) {
    int32_t i = 0;
    for (int64_t c = 0; i < n && c < chars; c++) {
        i++;
        while (i < n && (s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

/* Appends s padded to `width` characters with `fill` (UTF-8 bytes), aligned '<', '>' or '^'. */
static pl_status put_padded(pl_fn_strb *b, const uint8_t *s, int32_t n, int64_t width, char align,
                            const uint8_t *fill, int32_t fill_len, pl_error *err) {
    int64_t chars = pl_fn_utf8_count(s, n);
    int64_t pad = width > chars ? width - chars : 0;
    if (pad > (INT64_C(1) << 20)) PL_FAIL(err, PL_ERR_LIMIT, "format: width %lld is too large", (long long)width);
    int64_t left = align == '>' ? pad : align == '^' ? pad / 2 : 0, right = pad - left;
    for (int64_t k = 0; k < left; k++) PL_TRY(pl_fn_strb_append(b, fill, fill_len, err));
    PL_TRY(pl_fn_strb_append(b, s, n, err));
    for (int64_t k = 0; k < right; k++) PL_TRY(pl_fn_strb_append(b, fill, fill_len, err));
    return PL_OK;
}

/* The shortest decimal that reads back as d, rendered like Python's repr (DuckDB's format
 * '{}'): fixed notation for exponents -4..15 with ".0" when integral, else d.ddde+XX. */
static int repr_double(double d, char *out, size_t cap) {
    if (isnan(d)) return snprintf(out, cap, "nan");
    if (isinf(d)) return snprintf(out, cap, d < 0 ? "-inf" : "inf");
    char e[40];
    int p = 1;
    for (; p < 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, d);
        if (strtod(e, NULL) == d) break;
    }
    snprintf(e, sizeof e, "%.*e", p - 1, d);
    /* e: [-]D.DDDe[+-]XX */
    bool neg = e[0] == '-';
    const char *m = e + neg;
    char digits[24];
    int nd = 0;
    const char *q = m;
    for (; *q && *q != 'e'; q++)
        if (*q != '.') digits[nd++] = *q;
    int exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    char *o = out;
    size_t left = cap;
#define PUT(...)                                                                                   \
    do {                                                                                           \
        int w_ = snprintf(o, left, __VA_ARGS__);                                                   \
        if (w_ < 0 || (size_t)w_ >= left) return (int)cap;                                         \
        o += w_;                                                                                   \
        left -= (size_t)w_;                                                                        \
    } while (0)
    if (neg) PUT("-");
    if (exp10 < -4 || exp10 >= 16) {
        PUT("%c", digits[0]);
        if (nd > 1) PUT(".%.*s", nd - 1, digits + 1);
        PUT("e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        PUT("0.");
        for (int k = 0; k < -exp10 - 1; k++) PUT("0");
        PUT("%.*s", nd, digits);
    } else {
        for (int k = 0; k <= exp10; k++) PUT("%c", k < nd ? digits[k] : '0');
        PUT(".");
        if (nd > exp10 + 1) PUT("%.*s", nd - exp10 - 1, digits + exp10 + 1);
        else PUT("0");
    }
#undef PUT
    return (int)(o - out);
}

/* One C-style conversion (flags, width, precision as parsed) of v into b. */
static pl_status printf_one(pl_fn_strb *b, const char *flags, int64_t width, int64_t prec, char conv,
                            const fval *v, int64_t row, pl_error *err) {
    char spec[32], buf[512];
    bool minus = strchr(flags, '-') != NULL;
    if (width > (INT64_C(1) << 20) || prec > 4096)
        return row_fail(err, row, "printf: width or precision too large");
    bool want_int = strchr("diuxXoc", conv) != NULL, want_dbl = strchr("fFeEgGaA", conv) != NULL;
    bool ok = want_int ? (v->k == FK_INT || v->k == FK_UINT || v->k == FK_BOOL)
              : want_dbl ? v->k == FK_DBL
                         : (v->k == FK_STR || v->k == FK_BOOL);
    if (!ok)
        return row_fail(err, row, "printf: invalid type specifier \"%c\" for formatting a value of type %s", conv,
                        fkind_name(v->k));
    if (conv == 's') {
        const uint8_t *s = v->k == FK_BOOL ? (const uint8_t *)(v->i ? "true" : "false") : v->s;
        int32_t n = v->k == FK_BOOL ? (int32_t)strlen((const char *)s) : v->len;
        if (prec >= 0) n = utf8_prefix(s, n, prec);
        return put_padded(b, s, n, width, minus ? '<' : '>', (const uint8_t *)" ", 1, err);
    }
    int k = snprintf(spec, sizeof spec, "%%%s", flags);
    if (width >= 0) k += snprintf(spec + k, sizeof spec - (size_t)k, "%lld", (long long)width);
    if (prec >= 0) k += snprintf(spec + k, sizeof spec - (size_t)k, ".%lld", (long long)prec);
    int w;
    if (want_int) {
        if (conv == 'c') {
            if (v->i < 0 || v->i > 127)
                return row_fail(err, row, "printf: %%c writes a single byte and %lld is not ASCII (use chr())",
                                (long long)v->i);
            snprintf(spec + k, sizeof spec - (size_t)k, "c");
            w = snprintf(buf, sizeof buf, spec, (int)v->i);
        } else {
            bool sgn = (conv == 'd' || conv == 'i') && v->k != FK_UINT;
            char c2 = conv == 'i' ? 'd' : conv;
            snprintf(spec + k, sizeof spec - (size_t)k, "ll%c", sgn ? 'd' : c2 == 'd' ? 'u' : c2);
            w = sgn ? snprintf(buf, sizeof buf, spec, (long long)v->i)
                    : snprintf(buf, sizeof buf, spec, (unsigned long long)v->i);
        }
    } else {
        snprintf(spec + k, sizeof spec - (size_t)k, "%c", conv);
        w = snprintf(buf, sizeof buf, spec, v->d);
    }
    if (w < 0) return row_fail(err, row, "printf: cannot format the value");
    if ((size_t)w < sizeof buf) return pl_fn_strb_append(b, buf, w, err);
    char *big = pl_malloc((size_t)w + 1);
    if (!big) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in printf");
    if (want_int && conv != 'c') {
        bool sgn = (conv == 'd' || conv == 'i') && v->k != FK_UINT;
        w = sgn ? snprintf(big, (size_t)w + 1, spec, (long long)v->i)
                : snprintf(big, (size_t)w + 1, spec, (unsigned long long)v->i);
    } else if (want_int) {
        w = snprintf(big, (size_t)w + 1, spec, (int)v->i);
    } else {
        w = snprintf(big, (size_t)w + 1, spec, v->d);
    }
    pl_status st = pl_fn_strb_append(b, big, w, err);
    pl_free(big);
    return st;
}

static pl_status printf_row(const xargs *x, int64_t row, pl_fn_strb *b, pl_error *err) {
    int32_t flen;
    const uint8_t *f = x_str(x, 0, row, &flen);
    int32_t next = 1, n_vals = x->n;
    for (int32_t i = 0; i < flen;) {
        if (f[i] != '%') {
            int32_t j = i;
            while (j < flen && f[j] != '%') j++;
            PL_TRY(pl_fn_strb_append(b, f + i, j - i, err));
            i = j;
            continue;
        }
        int32_t start = i++;
        if (i < flen && f[i] == '%') {
            PL_TRY(pl_fn_strb_append(b, "%", 1, err));
            i++;
            continue;
        }
        /* %N$ */
        int32_t argn = -1;
        {
            int32_t j = i;
            int64_t num = 0;
            while (j < flen && f[j] >= '0' && f[j] <= '9' && num < 1000) num = num * 10 + (f[j++] - '0');
            if (j > i && j < flen && f[j] == '$') {
                argn = (int32_t)num;
                i = j + 1;
            }
        }
        char flags[8];
        int nf = 0;
        while (i < flen && strchr("-+ 0#", f[i]) && nf < 7) flags[nf++] = (char)f[i++];
        flags[nf] = 0;
        int64_t width = -1, prec = -1;
        if (i < flen && f[i] == '*') {
            i++;
            if (next >= n_vals) return row_fail(err, row, "printf: argument %d is missing", next);
            fval wv = fval_get(x, next++, row);
            if (wv.k != FK_INT && wv.k != FK_UINT) return row_fail(err, row, "printf: '*' needs an integer width");
            width = wv.i < 0 ? -wv.i : wv.i;
        } else {
            while (i < flen && f[i] >= '0' && f[i] <= '9') {
                width = (width < 0 ? 0 : width) * 10 + (f[i++] - '0');
                if (width > (INT64_C(1) << 20)) return row_fail(err, row, "printf: width too large");
            }
        }
        if (i < flen && f[i] == '.') {
            i++;
            prec = 0;
            if (i < flen && f[i] == '*') {
                i++;
                if (next >= n_vals) return row_fail(err, row, "printf: argument %d is missing", next);
                fval pv = fval_get(x, next++, row);
                if (pv.k != FK_INT && pv.k != FK_UINT) return row_fail(err, row, "printf: '.*' needs an integer precision");
                prec = pv.i < 0 ? -1 : pv.i;
            } else {
                while (i < flen && f[i] >= '0' && f[i] <= '9') {
                    prec = prec * 10 + (f[i++] - '0');
                    if (prec > 4096) return row_fail(err, row, "printf: precision too large");
                }
            }
        }
        while (i < flen && strchr("hlLqjzt", f[i])) i++; /* length modifiers: the value decides */
        if (i >= flen)
            return row_fail(err, row, "printf: the format ends inside a specifier (\"%.*s\")", (int)(flen - start),
                            (const char *)f + start);
        char conv = (char)f[i++];
        if (!strchr("diuxXocsfFeEgGaA", conv))
            return row_fail(err, row, "printf: unsupported format specifier \"%%%c\" (supported: %%d %%i %%u %%x %%X %%o %%c %%s %%f %%F %%e %%E %%g %%G %%a %%A %%%%)",
                            conv >= 32 && conv < 127 ? conv : '?');
        int32_t k = argn > 0 ? argn : next++;
        if (k >= n_vals || k < 1)
            return row_fail(err, row, "printf: argument %d is missing (%d value%s given)", k, n_vals - 1,
                            n_vals == 2 ? "" : "s");
        fval v = fval_get(x, k, row);
        PL_TRY(printf_one(b, flags, width, prec, conv, &v, row, err));
    }
    return PL_OK;
}

/* One fmt-style replacement field's spec (after ':') applied to v. */
static pl_status format_one(pl_fn_strb *b, const uint8_t *sp, int32_t n, const fval *v, int64_t row,
                            pl_error *err) {
    /* [[fill]align][sign][#][0][width][,][.precision][type] */
    uint8_t fill[4] = {' '};
    int32_t fill_len = 1;
    char align = 0, sign = 0, type = 0;
    bool alt = false, zero = false, comma = false;
    int64_t width = -1, prec = -1;
    int32_t i = 0;
    int32_t cl = n > 0 ? utf8_prefix(sp, n, 1) : 0;
    if (cl < n && strchr("<>^", sp[cl])) {
        memcpy(fill, sp, (size_t)cl);
        fill_len = cl;
        align = (char)sp[cl];
        i = cl + 1;
    } else if (i < n && strchr("<>^", sp[i])) {
        align = (char)sp[i++];
    }
    if (i < n && strchr("+- ", sp[i])) sign = (char)sp[i++];
    if (i < n && sp[i] == '#') { alt = true; i++; }
    if (i < n && sp[i] == '0') { zero = true; i++; }
    while (i < n && sp[i] >= '0' && sp[i] <= '9') {
        width = (width < 0 ? 0 : width) * 10 + (sp[i++] - '0');
        if (width > (INT64_C(1) << 20)) return row_fail(err, row, "format: width too large");
    }
    if (i < n && sp[i] == ',') { comma = true; i++; }
    if (i < n && sp[i] == '.') {
        i++;
        prec = 0;
        if (i >= n || sp[i] < '0' || sp[i] > '9') return row_fail(err, row, "format: missing precision");
        while (i < n && sp[i] >= '0' && sp[i] <= '9') {
            prec = prec * 10 + (sp[i++] - '0');
            if (prec > 4096) return row_fail(err, row, "format: precision too large");
        }
    }
    if (i < n) type = (char)sp[i++];
    if (i < n) return row_fail(err, row, "format: invalid format specifier \"%.*s\"", (int)n, (const char *)sp);
    bool num = v->k == FK_INT || v->k == FK_UINT || v->k == FK_DBL;
    bool ok;
    if (!type) ok = true;
    else if (strchr("dxXobB", type)) ok = v->k == FK_INT || v->k == FK_UINT;
    else if (strchr("eEfFgG", type)) ok = v->k == FK_DBL;
    else if (type == 's') ok = v->k == FK_STR;
    else ok = false;
    if (!ok) {
        if (!strchr("dxXobBeEfFgGs", type))
            return row_fail(err, row, "format: unsupported type specifier \"%c\" for a value of type %s (supported: d x X o b B e E f F g G s)",
                            type >= 32 && type < 127 ? type : '?', fkind_name(v->k));
        return row_fail(err, row, "format: invalid type specifier \"%c\" for formatting a value of type %s", type,
                        fkind_name(v->k));
    }
    char buf[1200];
    int w = 0;
    const uint8_t *s = (const uint8_t *)buf;
    if (v->k == FK_STR || v->k == FK_BOOL) {
        if (v->k == FK_BOOL) {
            s = (const uint8_t *)(v->i ? "true" : "false");
            w = (int)strlen((const char *)s);
        } else {
            s = v->s;
            w = v->len;
            if (prec >= 0) w = utf8_prefix(s, w, prec);
        }
        return put_padded(b, s, w, width, align ? align : '<', fill, fill_len, err);
    }
    /* numbers: sign, prefix, digits */
    char body[1100];
    int bl = 0;
    bool negv = false;
    if (v->k == FK_DBL) {
        double d = v->d;
        negv = signbit(d) && !isnan(d);
        double a = fabs(d);
        if (!type && prec < 0) {
            bl = repr_double(a, body, sizeof body);
        } else {
            char t = type ? type : 'g';
            char spec[16];
            snprintf(spec, sizeof spec, "%%%s.%lld%c", alt ? "#" : "", (long long)(prec < 0 ? 6 : prec), t);
            bl = snprintf(body, sizeof body, spec, a);
        }
    } else {
        uint64_t u = (uint64_t)v->i;
        if (v->k == FK_INT && v->i < 0) {
            negv = true;
            u = 0 - u;
        }
        char t = type ? type : 'd';
        int base = t == 'x' || t == 'X' ? 16 : t == 'o' ? 8 : t == 'b' || t == 'B' ? 2 : 10;
        const char *dig = t == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        char tmp[70];
        int k = 0;
        do {
            tmp[k++] = dig[u % (uint64_t)base];
            u /= (uint64_t)base;
        } while (u);
        if (alt && base != 10) {
            const char *pre = base == 16 ? (t == 'X' ? "0X" : "0x") : base == 8 ? "0" : (t == 'B' ? "0B" : "0b");
            bl += snprintf(body + bl, sizeof body - (size_t)bl, "%s", pre);
        }
        for (int j = k - 1; j >= 0; j--) {
            body[bl++] = tmp[j];
            if (comma && base == 10 && j > 0 && j % 3 == 0) body[bl++] = ',';
        }
        body[bl] = 0;
    }
    if (bl < 0 || bl >= (int)sizeof body) return row_fail(err, row, "format: cannot format the value");
    char sg[2] = {0, 0};
    if (negv) sg[0] = '-';
    else if (sign == '+') sg[0] = '+';
    else if (sign == ' ') sg[0] = ' ';
    w = snprintf(buf, sizeof buf, "%s%s", sg, body);
    if (zero && !align && width > w) {
        /* zeros after the sign and prefix */
        int64_t z = width - w;
        if (z > (INT64_C(1) << 20)) return row_fail(err, row, "format: width too large");
        int32_t pre = (int32_t)strlen(sg);
        if (alt && v->k != FK_DBL && (body[0] == '0') && (body[1] == 'x' || body[1] == 'X' || body[1] == 'b' || body[1] == 'B'))
            pre += 2;
        PL_TRY(pl_fn_strb_append(b, buf, pre, err));
        for (int64_t j = 0; j < z; j++) PL_TRY(pl_fn_strb_append(b, "0", 1, err));
        return pl_fn_strb_append(b, buf + pre, w - pre, err);
    }
    PL_UNUSED(num);
    return put_padded(b, (const uint8_t *)buf, w, width, align ? align : '>', fill, fill_len, err);
}

static pl_status format_row(const xargs *x, int64_t row, pl_fn_strb *b, pl_error *err) {
    int32_t flen;
    const uint8_t *f = x_str(x, 0, row, &flen);
    int32_t next = 1, n_vals = x->n;
    int mode = 0; /* 1 automatic, 2 manual numbering */
    for (int32_t i = 0; i < flen;) {
        uint8_t c = f[i];
        if (c == '}') {
            if (i + 1 < flen && f[i + 1] == '}') {
                PL_TRY(pl_fn_strb_append(b, "}", 1, err));
                i += 2;
                continue;
            }
            return row_fail(err, row, "format: unmatched '}' in the format string");
        }
        if (c != '{') {
            int32_t j = i;
            while (j < flen && f[j] != '{' && f[j] != '}') j++;
            PL_TRY(pl_fn_strb_append(b, f + i, j - i, err));
            i = j;
            continue;
        }
        if (i + 1 < flen && f[i + 1] == '{') {
            PL_TRY(pl_fn_strb_append(b, "{", 1, err));
            i += 2;
            continue;
        }
        int32_t j = i + 1;
        while (j < flen && f[j] != '}') j++;
        if (j >= flen) return row_fail(err, row, "format: missing '}' in the format string");
        const uint8_t *fld = f + i + 1;
        int32_t fl = j - i - 1, colon = 0;
        while (colon < fl && fld[colon] != ':') colon++;
        int32_t k;
        if (colon == 0) {
            if (mode == 2) return row_fail(err, row, "format: cannot switch from manual to automatic argument numbering");
            mode = 1;
            k = next++;
        } else {
            if (mode == 1) return row_fail(err, row, "format: cannot switch from automatic to manual argument numbering");
            mode = 2;
            int64_t num = 0;
            for (int32_t q = 0; q < colon; q++) {
                if (fld[q] < '0' || fld[q] > '9' || num > 1000)
                    return row_fail(err, row, "format: invalid argument reference \"%.*s\" (named arguments are not supported)",
                                    (int)colon, (const char *)fld);
                num = num * 10 + (fld[q] - '0');
            }
            k = (int32_t)num + 1;
        }
        if (k >= n_vals)
            return row_fail(err, row, "format: argument %d is out of range (%d value%s given)", k - 1, n_vals - 1,
                            n_vals == 2 ? "" : "s");
        fval v = fval_get(x, k, row);
        const uint8_t *sp = colon < fl ? fld + colon + 1 : fld + fl;
        PL_TRY(format_one(b, sp, colon < fl ? fl - colon - 1 : 0, &v, row, err));
        i = j + 1;
    }
    return PL_OK;
}

static pl_status format_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err, bool c_style, pl_kernel_fn self) {
    PL_UNUSED(ec);
    KERNEL_PROLOGUE(self)
    pl_fn_strb b;
    pl_status st = pl_fn_strb_init(&b, n, 16 * n + 1, err);
    if (st) {
        xargs_close(&x);
        return st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        if (!x_valid(&x, i)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        st = c_style ? printf_row(&x, i, &b, err) : format_row(&x, i, &b, err);
        if (!st && b.len > PL_MAX_VARLEN_BYTES)
            st = pl_error_set(err, PL_ERR_LIMIT, "%s: the result exceeds %lld bytes", call->fn->name,
                              (long long)PL_MAX_VARLEN_BYTES);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    xargs_close(&x);
    if (st) {
        pl_fn_strb_reset(&b);
        return st;
    }
    return pl_fn_strb_finish(&b, pl_type_retain(call->type), out, err);
}

static pl_status k_printf(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    return format_kernel(ec, call, args, n, out, err, true, k_printf);
}
static pl_status k_format(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    return format_kernel(ec, call, args, n, out, err, false, k_format);
}

/* ---------------------------------------------------------------- the set */

#define EW (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def g_extra[] = {
    {"fmod", NULL, 2, 2, EW, bind_f32_or_f64, k_fmod},
    {"nextafter", NULL, 2, 2, EW, bind_f32_or_f64, k_nextafter},
    {"even", NULL, 1, 1, EW, bind_f64_f64, k_even},
    {"signbit", NULL, 1, 1, EW, bind_signbit, k_signbit},
    {"round_even", "roundbankers", 2, 2, EW, bind_round_even, k_round_even},
    {"gcd", "greatest_common_divisor", 2, 2, EW, bind_i64_i64, k_gcd},
    {"lcm", "least_common_multiple", 2, 2, EW, bind_i64_i64, k_lcm},
    {"factorial", NULL, 1, 1, EW, bind_i64_i64, k_factorial},
    {"bit_count", NULL, 1, 1, EW, bind_bit_count, k_bit_count},
    {"levenshtein", "editdist3", 2, 2, EW, bind_s_i64, k_levenshtein},
    {"damerau_levenshtein", NULL, 2, 2, EW, bind_s_i64, k_damerau_levenshtein},
    {"hamming", "mismatches", 2, 2, EW, bind_s_i64, k_hamming},
    {"jaccard", NULL, 2, 2, EW, bind_s_f64, k_jaccard},
    {"sha256", NULL, 1, 1, EW, bind_b_s, k_sha256},
    {"sha1", NULL, 1, 1, EW, bind_b_s, k_sha1},
    {"to_base64", "base64", 1, 1, EW, bind_b_s, k_to_base64},
    {"from_base64", NULL, 1, 1, EW, bind_s_blob, k_from_base64},
    {"url_encode", NULL, 1, 1, EW, bind_b_s, k_url_encode},
    {"url_decode", NULL, 1, 1, EW, bind_b_s, k_url_decode},
    {"hex", "to_hex", 1, 1, EW, bind_hex, k_hex},
    {"unhex", "from_hex", 1, 1, EW, bind_s_blob, k_unhex},
    {"translate", NULL, 3, 3, EW, bind_s_s, k_translate},
    {"strip_accents", NULL, 1, 1, EW, bind_s_s, k_strip_accents},
    {"to_base", NULL, 2, 3, EW, bind_to_base, k_to_base},
    {"hash", NULL, 1, -1, PL_FN_ELEMENTWISE, bind_hash, k_hash}, /* NULLs hash too */
    {"overlay", NULL, 3, 4, EW, bind_overlay, k_overlay},
    {"jaro_similarity", NULL, 2, 3, EW, bind_jaro, k_jaro_similarity},
    {"jaro_winkler_similarity", NULL, 2, 3, EW, bind_jaro, k_jaro_winkler_similarity},
    {"bit_and", NULL, 2, 2, EW, bind_bitwise, k_bit_and_op},
    {"bit_or", NULL, 2, 2, EW, bind_bitwise, k_bit_or_op},
    {"xor", NULL, 2, 2, EW, bind_bitwise, k_xor_op},
    {"shift_left", NULL, 2, 2, EW, bind_bitwise, k_shift_left},
    {"shift_right", NULL, 2, 2, EW, bind_bitwise, k_shift_right},
    {"bit_not", NULL, 1, 1, EW, bind_bitwise, k_bit_not},
    {"printf", "sprintf", 1, -1, EW, bind_format, k_printf},
    {"format", NULL, 1, -1, EW, bind_format, k_format},
};

const pl_func_set pl_funcs_extra = {(int32_t)PL_ARRAY_LEN(g_extra), g_extra};
