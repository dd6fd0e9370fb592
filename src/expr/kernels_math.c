/* kernels_math.c - the math function set (pl_funcs_math): abs sign round floor ceil trunc,
 * sqrt cbrt ln log log10 log2 exp pow degrees radians, trigonometry (also hyperbolic), gamma
 * lgamma, pi, isnan isinf
 * isfinite, random, uuid (gen_random_uuid).
 *
 * Types follow DuckDB: abs/sign/round/trunc keep integer inputs integer (sign gives int8),
 * floor/ceil of an integer give a double, float32 stays float32 for abs/round/floor/ceil/
 * trunc, decimals stay decimal for abs/round/floor/ceil/trunc (128-bit arithmetic; round to d
 * digits gives scale min(s, max(d, 0))), everything else computes in double. Integer
 * overflow (abs(INT64_MIN), round(127::int8, -1)) is an error naming the row. round() rounds
 * half away from zero the double's exact value, as DuckDB (round_digits).
 *
 * Kernels read any numeric width directly (no cast nodes): float results are computed in
 * place in the result buffer after one widening pass. */
#define _DEFAULT_SOURCE /* lgamma_r: lgamma writes the global signgam, a race between workers */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "expr/funcs_int.h"

/* ---------------------------------------------------------------- binding helpers */

static bool is_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }
static bool is_float(pl_type_id id) { return id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64; }
static bool is_num(pl_type_id id) { return is_int(id) || is_float(id) || id == PL_TYPE_DECIMAL128; }
static bool is_num_or_null(pl_type_id id) { return is_num(id) || id == PL_TYPE_NA; }

#define no_function pl_fn_no_function

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }

/* Double-valued functions of numeric arguments. */
static pl_status bind_f64(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++)
        if (!is_num_or_null(call->args[i]->type->id)) return no_function(call, err);
    call->type = ty(PL_TYPE_FLOAT64);
    return PL_OK;
}

/* abs / trunc: integers keep their type, float32 stays, others double. */
/* A decimal of the argument's precision and the given scale. */
static pl_status dec_type(const pl_bexpr *call, int32_t scale, pl_type **out, pl_error *err) {
    return pl_type_new_decimal(call->args[0]->type->precision, scale, out, err);
}

/* abs / trunc: integers keep their type, float32 stays, decimals keep (abs) or drop (trunc)
 * their scale, as DuckDB. */
static pl_status bind_same(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (!is_num_or_null(id)) return no_function(call, err);
    if (id == PL_TYPE_NA) id = PL_TYPE_INT64;
    if (id == PL_TYPE_DECIMAL128) {
        if (!strcmp(call->fn->name, "abs")) {
            call->type = pl_type_retain(call->args[0]->type);
            return PL_OK;
        }
        return dec_type(call, 0, &call->type, err);
    }
    call->type = ty(id);
    return PL_OK;
}

static pl_status bind_round(pl_bexpr *call, pl_error *err) {
    if (call->n_args == 2) {
        pl_type_id d = call->args[1]->type->id;
        if (!is_int(d) && d != PL_TYPE_NA) return no_function(call, err);
    }
    if (call->args[0]->type->id == PL_TYPE_DECIMAL128) {
        /* DuckDB: round(decimal(p, s), d) is decimal(p, min(s, max(d, 0))); d is kept in
         * call->state (a constant; NULL gives NULLs) */
        int32_t s = call->args[0]->type->scale;
        if (call->n_args == 1) return dec_type(call, 0, &call->type, err);
        const pl_bexpr *d = call->args[1];
        if (d->kind != PL_BEXPR_LIT)
            PL_FAIL(err, PL_ERR_SQL, "round: the precision must be a constant for decimal values");
        int64_t *st = pl_malloc(2 * sizeof *st);
        if (!st) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding round");
        bool is_null = d->lit.is_null || d->lit.type->id == PL_TYPE_NA;
        st[0] = is_null ? 0 : pl_fn_scalar_i64(&d->lit);
        st[1] = is_null;
        call->state = st;
        call->free_state = pl_free;
        if (is_null || st[0] >= s) {
            call->type = pl_type_retain(call->args[0]->type);
            return PL_OK;
        }
        return dec_type(call, st[0] < 0 ? 0 : (int32_t)st[0], &call->type, err);
    }
    return bind_same(call, err);
}

/* floor / ceil: float32 stays, decimals get scale 0, everything else double (DuckDB:
 * floor(int) is a double). */
static pl_status bind_floor(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (!is_num_or_null(id)) return no_function(call, err);
    if (id == PL_TYPE_DECIMAL128) return dec_type(call, 0, &call->type, err);
    call->type = ty(id == PL_TYPE_FLOAT32 ? PL_TYPE_FLOAT32 : PL_TYPE_FLOAT64);
    return PL_OK;
}

static pl_status bind_sign(pl_bexpr *call, pl_error *err) {
    if (!is_num_or_null(call->args[0]->type->id)) return no_function(call, err);
    call->type = ty(PL_TYPE_INT8);
    return PL_OK;
}

static pl_status bind_bool(pl_bexpr *call, pl_error *err) {
    if (!is_num_or_null(call->args[0]->type->id)) return no_function(call, err);
    call->type = ty(PL_TYPE_BOOL);
    return PL_OK;
}

static pl_status bind_noargs_f64(pl_bexpr *call, pl_error *err) {
    PL_UNUSED(err);
    call->type = ty(PL_TYPE_FLOAT64);
    return PL_OK;
}

/* ---------------------------------------------------------------- double kernels */

/* Widens argument a (array) into a fresh float64 buffer; copies its validity. */
static pl_status f64_begin(const pl_array *a, int64_t n, pl_buf **values, pl_buf **validity,
                           pl_error *err) {
    PL_TRY(pl_fn_new_values(n, 8, values, err));
    pl_status st = pl_fn_copy_validity(a, validity, err);
    if (st) {
        pl_buf_release(*values);
        return st;
    }
    if (a->type->id != PL_TYPE_NA) pl_fn_read_f64(a, (double *)(void *)(*values)->data);
    return PL_OK;
}

#define UNARY_F64(NAME, EXPR)                                                                      \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, call->n_args))                                                  \
            return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err);                         \
        pl_buf *values = NULL, *validity = NULL;                                                                 \
        PL_TRY(f64_begin(args[0].array, n, &values, &validity, err));                              \
        double *d = (double *)(void *)values->data;                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double x = d[i];                                                                       \
            d[i] = (EXPR);                                                                         \
        }                                                                                          \
        return pl_fn_finish(out, ty(PL_TYPE_FLOAT64), n, validity, -1, values, NULL, err);         \
    }

UNARY_F64(sqrt, sqrt(x))
UNARY_F64(cbrt, cbrt(x))
UNARY_F64(ln, log(x))
UNARY_F64(log10, log10(x))
UNARY_F64(log2, log2(x))
UNARY_F64(exp, exp(x))
UNARY_F64(sin, sin(x))
UNARY_F64(cos, cos(x))
UNARY_F64(tan, tan(x))
UNARY_F64(asin, asin(x))
UNARY_F64(acos, acos(x))
UNARY_F64(atan, atan(x))
UNARY_F64(cot, 1.0 / tan(x))
UNARY_F64(sinh, sinh(x))
UNARY_F64(cosh, cosh(x))
UNARY_F64(tanh, tanh(x))
UNARY_F64(asinh, asinh(x))
UNARY_F64(acosh, acosh(x))
UNARY_F64(atanh, atanh(x))
UNARY_F64(gamma, tgamma(x))
static inline double lgamma_of(double x) {
    int sign;
    return lgamma_r(x, &sign);
}
UNARY_F64(lgamma, lgamma_of(x))
UNARY_F64(degrees, x * (180.0 / M_PI))
UNARY_F64(radians, x * (M_PI / 180.0))

/* Binary double functions: (x, y) with either side possibly scalar. */
#define BINARY_F64(NAME, EXPR)                                                                     \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err); \
        pl_buf *validity;                                                                          \
        int64_t nc;                                                                                \
        bool all_null;                                                                             \
        PL_TRY(pl_fn_and_validity(args, 2, n, &validity, &nc, &all_null, err));                    \
        if (all_null) return pl_fn_out_nulls(out, ty(PL_TYPE_FLOAT64), n, err);                    \
        pl_buf *values = NULL;                                                                     \
        double *tmp = NULL;                                                                        \
        pl_status st = pl_fn_new_values(n, 8, &values, err);                                       \
        if (!st && !args[0].is_scalar && !args[1].is_scalar) {                                     \
            tmp = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(double));                             \
            if (!tmp) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in %s", #NAME);          \
        }                                                                                          \
        if (st) {                                                                                  \
            pl_buf_release(validity);                                                              \
            pl_buf_release(values);                                                                \
            return st;                                                                             \
        }                                                                                          \
        double *d = (double *)(void *)values->data;                                                \
        if (args[0].is_scalar) {                                                                   \
            double x = pl_fn_scalar_f64(&args[0].scalar);                                          \
            pl_fn_read_f64(args[1].array, d);                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double y = d[i];                                                                   \
                d[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else if (args[1].is_scalar) {                                                            \
            double y = pl_fn_scalar_f64(&args[1].scalar);                                          \
            pl_fn_read_f64(args[0].array, d);                                                      \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double x = d[i];                                                                   \
                d[i] = (EXPR);                                                                     \
            }                                                                                      \
        } else {                                                                                   \
            pl_fn_read_f64(args[0].array, d);                                                      \
            pl_fn_read_f64(args[1].array, tmp);                                                    \
            for (int64_t i = 0; i < n; i++) {                                                      \
                double x = d[i], y = tmp[i];                                                       \
                d[i] = (EXPR);                                                                     \
            }                                                                                      \
            pl_free(tmp);                                                                          \
        }                                                                                          \
        return pl_fn_finish(out, ty(PL_TYPE_FLOAT64), n, validity, nc, values, NULL, err);         \
    }

BINARY_F64(pow, pow(x, y))
BINARY_F64(atan2, atan2(x, y))
BINARY_F64(logb, log(y) / log(x))

/* log(x) is log10 (DuckDB); log(b, x) is the base-b logarithm. */
static pl_status k_log(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    if (call->n_args == 2) return k_logb(ec, call, args, n, out, err);
    return k_log10(ec, call, args, n, out, err);
}

static pl_status k_pi(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                      pl_datum *out, pl_error *err) {
    PL_UNUSED(ec); PL_UNUSED(call); PL_UNUSED(args); PL_UNUSED(err);
    PL_UNUSED(n);
    memset(out, 0, sizeof *out);
    out->is_scalar = true;
    out->scalar.type = ty(PL_TYPE_FLOAT64);
    out->scalar.v.f = M_PI;
    return PL_OK;
}

/* random(): [0, 1), a per-thread xorshift stream seeded from the clock and a counter. */
static _Thread_local uint64_t g_rng;
static atomic_uint_fast64_t g_rng_seq;

static uint64_t rng_next(void) {
    if (g_rng == 0) {
        uint64_t s = (uint64_t)pl_now_ns() ^ (atomic_fetch_add(&g_rng_seq, 1) * 0x9E3779B97F4A7C15u);
        g_rng = s ? s : 0x2545F4914F6CDD1Du;
    }
    uint64_t x = g_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    g_rng = x;
    return x * 0x2545F4914F6CDD1Du;
}

static pl_status k_random(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    PL_UNUSED(ec); PL_UNUSED(call); PL_UNUSED(args);
    pl_buf *values;
    PL_TRY(pl_fn_new_values(n, 8, &values, err));
    double *d = (double *)(void *)values->data;
    for (int64_t i = 0; i < n; i++) d[i] = (double)(rng_next() >> 11) * 0x1.0p-53;
    return pl_fn_finish(out, ty(PL_TYPE_FLOAT64), n, NULL, 0, values, NULL, err);
}

/* uuid() / gen_random_uuid(): a random (version 4, RFC 9562) UUID as its 36-character text;
 * DuckDB has a UUID type, polaroid gives VARCHAR */
static pl_status bind_uuid(pl_bexpr *call, pl_error *err) {
    PL_UNUSED(err);
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

static pl_status k_uuid(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    PL_UNUSED(ec); PL_UNUSED(call); PL_UNUSED(args);
    static const char hex[] = "0123456789abcdef";
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, 36 * n + 1, err));
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        uint8_t u[16];
        uint64_t hi = rng_next(), lo = rng_next();
        memcpy(u, &hi, 8);
        memcpy(u + 8, &lo, 8);
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant 10 */
        uint8_t *dst;
        st = pl_fn_strb_reserve(&b, 36, &dst, err);
        if (st) break;
        for (int k = 0, o = 0; k < 16; k++) {
            if (k == 4 || k == 6 || k == 8 || k == 10) dst[o++] = '-';
            dst[o++] = (uint8_t)hex[u[k] >> 4];
            dst[o++] = (uint8_t)hex[u[k] & 15];
        }
        pl_fn_strb_commit(&b, 36);
        st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

/* __sample_rand(i, seed): a number in [0, 1) determined by (i, seed), uniform over i (the
 * SQL planner's key of REPEATABLE samples: i is the row's number in the input) */
static pl_status bind_sample_rand(pl_bexpr *call, pl_error *err) {
    for (int32_t k = 0; k < 2; k++) {
        pl_type_id id = call->args[k]->type->id;
        if (!is_int(id) && id != PL_TYPE_NA) return no_function(call, err);
        PL_TRY(pl_bexpr_wrap_cast(&call->args[k], ty(PL_TYPE_INT64), err));
    }
    call->type = ty(PL_TYPE_FLOAT64);
    return PL_OK;
}

static uint64_t mix64(uint64_t x) { /* splitmix64's finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static pl_status k_sample_rand(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                               int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec); PL_UNUSED(call);
    pl_array *a = NULL, *b = NULL;
    PL_TRY(pl_fn_datum_array(&args[0], n, &a, err));
    pl_status st = pl_fn_datum_array(&args[1], n, &b, err);
    pl_buf *values = NULL;
    if (!st) st = pl_fn_new_values(n, 8, &values, err);
    if (st) {
        pl_array_release(a);
        pl_array_release(b);
        return st;
    }
    double *d = (double *)(void *)values->data;
    const int64_t *x = a->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(a) : NULL;
    const int64_t *y = b->type->id == PL_TYPE_INT64 ? pl_array_values_ptr(b) : NULL;
    for (int64_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)(x ? x[i] : 0), sd = (uint64_t)(y ? y[i] : 0);
        d[i] = (double)(mix64(mix64(sd + 0x9E3779B97F4A7C15u) ^ (k * 0x9E3779B97F4A7C15u)) >> 11) *
               0x1.0p-53;
    }
    pl_array_release(a);
    pl_array_release(b);
    return pl_fn_finish(out, ty(PL_TYPE_FLOAT64), n, NULL, 0, values, NULL, err);
}

/* ---------------------------------------------------------------- same-type kernels */

static int32_t int_width(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_UINT8: return 1;
    case PL_TYPE_INT16: case PL_TYPE_UINT16: return 2;
    case PL_TYPE_INT32: case PL_TYPE_UINT32: return 4;
    default: return 8;
    }
}

static bool is_unsigned(pl_type_id id) { return id >= PL_TYPE_UINT8 && id <= PL_TYPE_UINT64; }

/* Range of an integer type as int64 (UINT64: the int64 range; values above are handled by
 * the unsigned paths). */
static void int_range(pl_type_id id, int64_t *lo, int64_t *hi) {
    switch (id) {
    case PL_TYPE_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case PL_TYPE_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case PL_TYPE_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case PL_TYPE_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case PL_TYPE_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case PL_TYPE_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static void store_ints(const int64_t *src, int64_t n, pl_type_id id, uint8_t *dst) {
    switch (int_width(id)) {
    case 1: for (int64_t i = 0; i < n; i++) dst[i] = (uint8_t)src[i]; break;
    case 2: {
        uint16_t *d = (uint16_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint16_t)src[i];
        break;
    }
    case 4: {
        uint32_t *d = (uint32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = (uint32_t)src[i];
        break;
    }
    default: memmove(dst, src, (size_t)n * 8);
    }
}

typedef enum int_op { IOP_ABS, IOP_ROUND, IOP_TRUNC } int_op;

/* 10^e as int64, or 0 when it does not fit. */
static int64_t pow10_i64(int64_t e) {
    int64_t p = 1;
    for (int64_t k = 0; k < e; k++) {
        if (p > INT64_MAX / 10) return 0;
        p *= 10;
    }
    return p;
}

/* Integer abs/round/trunc of one value in int64 (x from a type whose range is [lo, hi]);
 * returns false on overflow. */
static inline bool int_op1(int_op op, int64_t x, int64_t p, int64_t lo, int64_t hi, int64_t *r) {
    if (op == IOP_ABS) {
        if (x >= 0) { *r = x; return true; }
        if (x == INT64_MIN || -x > hi) return false;
        *r = -x;
        return true;
    }
    if (op == IOP_TRUNC || p == 1) { *r = x; return true; }
    if (p == 0) { *r = 0; return true; } /* 10^-digits beyond int64: everything rounds to 0 */
    int64_t q = x / p, rem = x % p;
    if (rem < 0) rem = -rem;
    if (rem >= p - rem) q += x < 0 ? -1 : 1;
    int64_t res;
    if (__builtin_mul_overflow(q, p, &res) || res < lo || res > hi) return false;
    *r = res;
    return true;
}

/* Integer abs/round/trunc. digits only for ROUND (>= 0 keeps the value). UINT64 values
 * above INT64_MAX pass through abs/trunc; round of them with digits < 0 uses unsigned math. */
static pl_status int_kernel(const pl_bexpr *call, int_op op, const pl_array *a,
                            const int64_t *digits, int64_t digits_scalar, int64_t n,
                            pl_datum *out, pl_error *err) {
    pl_type_id id = a->type->id;
    pl_buf *values, *validity;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    pl_status st = PL_OK;
    int64_t *v = (int64_t *)(void *)values->data;
    pl_fn_read_i64(a, v);
    int64_t lo, hi;
    int_range(id, &lo, &hi);
    int64_t bad_row = -1, bad_val = 0;
    bool u64 = id == PL_TYPE_UINT64;
    if (op == IOP_ABS && is_unsigned(id)) {
        /* nothing to do */
    } else if (op == IOP_ABS && id == PL_TYPE_INT64 && !validity) {
        /* hot path */
        bool ovf = false;
        for (int64_t i = 0; i < n; i++) {
            int64_t x = v[i];
            ovf |= x == INT64_MIN;
            v[i] = x < 0 ? (int64_t)(0 - (uint64_t)x) : x;
        }
        for (int64_t i = 0; ovf && i < n; i++) {
            if (v[i] == INT64_MIN) {
                bad_row = i;
                bad_val = INT64_MIN;
                break;
            }
        }
    } else {
        int64_t p_scalar = 1;
        if (op == IOP_ROUND && !digits && digits_scalar < 0) p_scalar = pow10_i64(-digits_scalar);
        for (int64_t i = 0; i < n; i++) {
            int64_t p = p_scalar;
            if (op == IOP_ROUND && digits) p = digits[i] < 0 ? pow10_i64(-digits[i]) : 1;
            int64_t r;
            bool ok;
            if (u64 && op == IOP_ROUND && p != 1) {
                uint64_t x = (uint64_t)v[i], up = (uint64_t)p;
                uint64_t q = p ? x / up : 0, rem = p ? x % up : 0, ur = 0;
                if (p && rem >= up - rem) q++;
                ok = !p || !__builtin_mul_overflow(q, up, &ur);
                r = (int64_t)ur;
            } else if (u64) {
                r = v[i];
                ok = true;
            } else {
                ok = int_op1(op, v[i], p, lo, hi, &r);
            }
            if (PL_UNLIKELY(!ok)) {
                if (pl_array_is_valid(a, i)) {
                    bad_row = i;
                    bad_val = v[i];
                    break;
                }
                r = 0;
            }
            v[i] = r;
        }
    }
    if (bad_row >= 0) {
        if (op == IOP_ABS)
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "overflow on abs(%lld) at row %lld",
                              (long long)bad_val, (long long)bad_row);
        else
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "overflow in round of integer %lld at row %lld",
                              (long long)bad_val, (long long)bad_row);
        if (err) err->row = bad_row;
        pl_buf_release(values);
        pl_buf_release(validity);
        return st;
    }
    store_ints(v, n, id, values->data);
    values->size = n * int_width(id);
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* The integer nearest to the exact value hi + lo (|lo| <= half an ulp of hi; only its sign
 * matters here), halves away from zero. */
static inline double round_exact(double hi, double lo) {
    if (!(fabs(hi) < 0x1p52)) return hi; /* an integer already (or inf/NaN) */
    bool neg = hi < 0;
    double a = neg ? -hi : hi, b = neg ? -lo : lo;
    double f = floor(a), fr = a - f; /* exact */
    double r = (fr > 0.5 || (fr == 0.5 && b >= 0)) ? f + 1 : f;
    return neg ? -r : r;
}

/* Rounds to `digits` decimals (mod = 10^|digits|, neg: digits < 0) half away from zero, of
 * the double's exact binary value, like DuckDB: round(592.05, 1) is 592.0 because 592.05 is
 * 592.04999..., round(0.125, 2) is 0.13 (an exact half). x * 10^d is split exactly into a
 * double and its error (fma) for 10^d up to 10^22 (exact doubles); past that the product's
 * own rounding decides. */
static inline double round_digits(double x, double mod, bool neg) {
    double r;
    if (!neg) {
        double p = x * mod;
        double e = mod <= 1e22 ? fma(x, mod, -p) : 0.0;
        r = isfinite(p) ? round_exact(p, e) / mod : x;
    } else {
        double q = x / mod;
        double rem = mod <= 1e22 ? fma(-q, mod, x) : 0.0; /* x - q * mod, exactly */
        r = round_exact(q, rem) * mod;
    }
    return isfinite(r) ? r : x;
}

typedef enum flt_op { FOP_ABS, FOP_ROUND, FOP_FLOOR, FOP_CEIL, FOP_TRUNC } flt_op;

static pl_status float_kernel(const pl_bexpr *call, flt_op op, const pl_array *a,
                              const int64_t *digits_v, int64_t digits, int64_t n, pl_datum *out,
                              pl_error *err) {
    bool f32 = call->type->id == PL_TYPE_FLOAT32;
    pl_buf *values = NULL, *validity = NULL;
    PL_TRY(f64_begin(a, n, &values, &validity, err));
    double *d = (double *)(void *)values->data;
    switch (op) {
    case FOP_ABS: for (int64_t i = 0; i < n; i++) d[i] = fabs(d[i]); break;
    case FOP_FLOOR: for (int64_t i = 0; i < n; i++) d[i] = floor(d[i]); break;
    case FOP_CEIL: for (int64_t i = 0; i < n; i++) d[i] = ceil(d[i]); break;
    case FOP_TRUNC: for (int64_t i = 0; i < n; i++) d[i] = trunc(d[i]); break;
    case FOP_ROUND:
        if (digits_v) {
            for (int64_t i = 0; i < n; i++) {
                int64_t e = digits_v[i] < 0 ? -digits_v[i] : digits_v[i];
                double mod = pow(10.0, (double)(e > 400 ? 400 : e));
                if (!isfinite(mod)) d[i] = digits_v[i] < 0 ? 0.0 : d[i];
                else d[i] = round_digits(d[i], mod, digits_v[i] < 0);
            }
        } else if (digits == 0) {
            for (int64_t i = 0; i < n; i++) d[i] = round(d[i]);
        } else {
            bool neg = digits < 0;
            int64_t e = neg ? -digits : digits;
            double mod = pow(10.0, (double)(e > 400 ? 400 : e));
            if (neg && !isfinite(mod)) {
                for (int64_t i = 0; i < n; i++) d[i] = 0.0;
            } else if (!isfinite(mod)) {
                /* nothing to round at that precision */
            } else {
                for (int64_t i = 0; i < n; i++) d[i] = round_digits(d[i], mod, neg);
            }
        }
        break;
    }
    if (f32) {
        float *f = (float *)(void *)values->data;
        for (int64_t i = 0; i < n; i++) f[i] = (float)d[i];
        values->size = n * 4;
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

/* ---------------------------------------------------------------- decimal kernels */

typedef enum dec_op { DOP_ABS, DOP_FLOOR, DOP_CEIL, DOP_TRUNC, DOP_ROUND } dec_op;

static __int128 pow10_i128(int32_t e) {
    __int128 p = 1;
    for (int32_t k = 0; k < e; k++) p *= 10;
    return p;
}

/* Decimal abs/floor/ceil/trunc/round(digits) in 128-bit integers; the result scale is
 * call->type's (see the binders). */
static pl_status dec_kernel(const pl_bexpr *call, dec_op op, const pl_array *a, int64_t digits,
                            int64_t n, pl_datum *out, pl_error *err) {
    pl_buf *values, *validity;
    PL_TRY(pl_fn_new_result(a, n, 16, &validity, &values, err));
    int32_t s = a->type->scale;
    const uint8_t *src = a->values->data + a->offset * 16;
    uint8_t *dst = values->data;
    /* rounding unit: 10^e below the input's last digit */
    int32_t e = 0;
    if (op == DOP_FLOOR || op == DOP_CEIL || op == DOP_TRUNC) e = s;
    else if (op == DOP_ROUND) e = digits >= s ? 0 : (int32_t)PL_MIN((int64_t)s - digits, 40);
    bool zero = e > 38;
    __int128 p = zero ? 1 : pow10_i128(e);
    __int128 back = op == DOP_ROUND && digits < 0 ? pow10_i128((int32_t)PL_MIN(-digits, 38)) : 1;
    for (int64_t i = 0; i < n; i++) {
        uint64_t lo;
        int64_t hi;
        memcpy(&lo, src + i * 16, 8);
        memcpy(&hi, src + i * 16 + 8, 8);
        __int128 v = (__int128)(((unsigned __int128)(uint64_t)hi << 64) | lo), r;
        if (op == DOP_ABS) {
            r = v < 0 ? -v : v;
        } else if (zero) {
            r = 0;
        } else {
            __int128 q = v / p, rem = v % p;
            if (op == DOP_FLOOR && rem < 0) q--;
            else if (op == DOP_CEIL && rem > 0) q++;
            else if (op == DOP_ROUND && (rem < 0 ? -rem : rem) * 2 >= p) q += v < 0 ? -1 : 1;
            r = q * back;
        }
        lo = (uint64_t)r;
        hi = (int64_t)(r >> 64);
        memcpy(dst + i * 16, &lo, 8);
        memcpy(dst + i * 16 + 8, &hi, 8);
    }
    return pl_fn_finish(out, pl_type_retain(call->type), n, validity, -1, values, NULL, err);
}

static pl_status k_abs(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_abs, out, err);
    if (call->type->id == PL_TYPE_DECIMAL128) return dec_kernel(call, DOP_ABS, args[0].array, 0, n, out, err);
    if (is_int(call->type->id)) return int_kernel(call, IOP_ABS, args[0].array, NULL, 0, n, out, err);
    return float_kernel(call, FOP_ABS, args[0].array, NULL, 0, n, out, err);
}

static pl_status k_trunc(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_trunc, out, err);
    if (call->type->id == PL_TYPE_DECIMAL128) return dec_kernel(call, DOP_TRUNC, args[0].array, 0, n, out, err);
    if (is_int(call->type->id)) return int_kernel(call, IOP_TRUNC, args[0].array, NULL, 0, n, out, err);
    return float_kernel(call, FOP_TRUNC, args[0].array, NULL, 0, n, out, err);
}

static pl_status k_floor(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_floor, out, err);
    if (call->type->id == PL_TYPE_DECIMAL128) return dec_kernel(call, DOP_FLOOR, args[0].array, 0, n, out, err);
    return float_kernel(call, FOP_FLOOR, args[0].array, NULL, 0, n, out, err);
}

static pl_status k_ceil(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_ceil, out, err);
    if (call->type->id == PL_TYPE_DECIMAL128) return dec_kernel(call, DOP_CEIL, args[0].array, 0, n, out, err);
    return float_kernel(call, FOP_CEIL, args[0].array, NULL, 0, n, out, err);
}

static pl_status k_round(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_round, out, err);
    int64_t digits = 0;
    int64_t *dv = NULL;
    pl_array *x = NULL;
    pl_status st;
    if (call->n_args == 2 && args[1].is_scalar) {
        if (args[1].scalar.is_null) return pl_fn_out_nulls(out, call->type, n, err);
        digits = pl_fn_scalar_i64(&args[1].scalar);
    }
    if (call->type->id == PL_TYPE_DECIMAL128) {
        const int64_t *ds = call->state;
        if (ds && ds[1]) return pl_fn_out_nulls(out, call->type, n, err);
        return dec_kernel(call, DOP_ROUND, args[0].array, ds ? ds[0] : 0, n, out, err);
    }
    PL_TRY(pl_fn_datum_array(&args[0], n, &x, err));
    if (call->n_args == 2 && !args[1].is_scalar) {
        dv = pl_malloc((size_t)(n > 0 ? n : 1) * 8);
        if (!dv) {
            pl_array_release(x);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory in round");
        }
        pl_fn_read_i64(args[1].array, dv);
    }
    if (is_int(call->type->id))
        st = int_kernel(call, IOP_ROUND, x, dv, digits, n, out, err);
    else
        st = float_kernel(call, FOP_ROUND, x, dv, digits, n, out, err);
    bool per_row = dv != NULL;
    pl_free(dv);
    pl_array_release(x);
    if (st || !per_row) return st;
    /* combine the precision argument's NULLs */
    pl_datum both[2] = {{.is_scalar = false, .array = out->array}, args[1]};
    pl_buf *validity;
    int64_t nc;
    bool all_null;
    st = pl_fn_and_validity(both, 2, n, &validity, &nc, &all_null, err);
    if (st) {
        pl_array_release(out->array);
        return st;
    }
    if (validity) {
        pl_array *r = out->array;
        pl_buf_release(r->validity);
        r->validity = validity;
        r->null_count = nc;
    }
    return PL_OK;
}

static pl_status k_sign(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_sign, out, err);
    const pl_array *a = args[0].array;
    pl_buf *values, *validity;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    int8_t *o = (int8_t *)values->data;
    if (is_int(a->type->id)) {
        int64_t *v = (int64_t *)(void *)values->data;
        pl_fn_read_i64(a, v);
        if (a->type->id == PL_TYPE_UINT64)
            for (int64_t i = 0; i < n; i++) o[i] = (int8_t)(v[i] != 0);
        else
            for (int64_t i = 0; i < n; i++) o[i] = (int8_t)((v[i] > 0) - (v[i] < 0));
    } else if (a->type->id != PL_TYPE_NA) {
        double *v = (double *)(void *)values->data;
        pl_fn_read_f64(a, v);
        for (int64_t i = 0; i < n; i++) o[i] = (int8_t)((v[i] > 0) - (v[i] < 0));
    }
    values->size = n;
    return pl_fn_finish(out, ty(PL_TYPE_INT8), n, validity, -1, values, NULL, err);
}

typedef enum cls_op { COP_ISNAN, COP_ISINF, COP_ISFINITE } cls_op;

static pl_status classify(const pl_bexpr *call, cls_op op, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    PL_UNUSED(call);
    const pl_array *a = args[0].array;
    pl_buf *bits, *validity, *tmp;
    PL_TRY(pl_fn_copy_validity(a, &validity, err));
    pl_status st = pl_buf_new_zeroed((n + 7) / 8 > 0 ? (n + 7) / 8 : 1, &bits, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    if (is_float(a->type->id)) {
        st = pl_fn_new_values(n, 8, &tmp, err);
        if (st) {
            pl_buf_release(validity);
            pl_buf_release(bits);
            return st;
        }
        double *d = (double *)(void *)tmp->data;
        pl_fn_read_f64(a, d);
        for (int64_t i = 0; i < n; i++) {
            bool r = op == COP_ISNAN ? isnan(d[i]) : op == COP_ISINF ? isinf(d[i]) : isfinite(d[i]);
            if (r) pl_bit_set(bits->data, i);
        }
        pl_buf_release(tmp);
    } else if (op == COP_ISFINITE) {
        for (int64_t i = 0; i < n; i++) pl_bit_set(bits->data, i);
    }
    return pl_fn_finish(out, ty(PL_TYPE_BOOL), n, validity, -1, bits, NULL, err);
}

#define CLASSIFY(NAME, OP)                                                                         \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err); \
        return classify(call, OP, args, n, out, err);                                              \
    }
CLASSIFY(isnan, COP_ISNAN)
CLASSIFY(isinf, COP_ISINF)
CLASSIFY(isfinite, COP_ISFINITE)

/* ---------------------------------------------------------------- the set */

#define EW (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def g_math[] = {
    {"abs", NULL, 1, 1, EW, bind_same, k_abs},
    {"sign", NULL, 1, 1, EW, bind_sign, k_sign},
    {"round", NULL, 1, 2, EW, bind_round, k_round},
    {"floor", NULL, 1, 1, EW, bind_floor, k_floor},
    {"ceil", "ceiling", 1, 1, EW, bind_floor, k_ceil},
    {"trunc", NULL, 1, 1, EW, bind_same, k_trunc},
    {"sqrt", NULL, 1, 1, EW, bind_f64, k_sqrt},
    {"cbrt", NULL, 1, 1, EW, bind_f64, k_cbrt},
    {"ln", NULL, 1, 1, EW, bind_f64, k_ln},
    {"log", NULL, 1, 2, EW, bind_f64, k_log},
    {"log10", NULL, 1, 1, EW, bind_f64, k_log10},
    {"log2", NULL, 1, 1, EW, bind_f64, k_log2},
    {"exp", NULL, 1, 1, EW, bind_f64, k_exp},
    {"pow", "power", 2, 2, EW, bind_f64, k_pow},
    {"sin", NULL, 1, 1, EW, bind_f64, k_sin},
    {"cos", NULL, 1, 1, EW, bind_f64, k_cos},
    {"tan", NULL, 1, 1, EW, bind_f64, k_tan},
    {"asin", NULL, 1, 1, EW, bind_f64, k_asin},
    {"acos", NULL, 1, 1, EW, bind_f64, k_acos},
    {"atan", NULL, 1, 1, EW, bind_f64, k_atan},
    {"atan2", NULL, 2, 2, EW, bind_f64, k_atan2},
    {"cot", NULL, 1, 1, EW, bind_f64, k_cot},
    {"sinh", NULL, 1, 1, EW, bind_f64, k_sinh},
    {"cosh", NULL, 1, 1, EW, bind_f64, k_cosh},
    {"tanh", NULL, 1, 1, EW, bind_f64, k_tanh},
    {"asinh", NULL, 1, 1, EW, bind_f64, k_asinh},
    {"acosh", NULL, 1, 1, EW, bind_f64, k_acosh},
    {"atanh", NULL, 1, 1, EW, bind_f64, k_atanh},
    {"gamma", NULL, 1, 1, EW, bind_f64, k_gamma},
    {"lgamma", NULL, 1, 1, EW, bind_f64, k_lgamma},
    {"degrees", NULL, 1, 1, EW, bind_f64, k_degrees},
    {"radians", NULL, 1, 1, EW, bind_f64, k_radians},
    {"isnan", NULL, 1, 1, EW, bind_bool, k_isnan},
    {"isinf", NULL, 1, 1, EW, bind_bool, k_isinf},
    {"isfinite", NULL, 1, 1, EW, bind_bool, k_isfinite},
    {"pi", NULL, 0, 0, 0, bind_noargs_f64, k_pi},
    {"random", NULL, 0, 0, PL_FN_VOLATILE, bind_noargs_f64, k_random},
    {"uuid", "gen_random_uuid", 0, 0, PL_FN_VOLATILE, bind_uuid, k_uuid},
    {"__sample_rand", NULL, 2, 2, PL_FN_ELEMENTWISE, bind_sample_rand, k_sample_rand},
};

const pl_func_set pl_funcs_math = {(int32_t)PL_ARRAY_LEN(g_math), g_math};
