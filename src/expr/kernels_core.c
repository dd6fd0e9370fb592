/* kernels_core.c - the core function set (pl_funcs_core): arithmetic, comparison, logic, IN,
 * BETWEEN, LIKE/ILIKE, CASE, COALESCE, NULLIF, GREATEST/LEAST, and the cast kernel.
 *
 * Binding (the *_bind functions) decides the operand types and inserts casts, so kernels see
 * operands of one physical type: every fixed-width kernel is specialised per C type and for the
 * array/array, array/scalar and scalar/array shapes; validity is the AND of the argument
 * bitmaps and values are computed for every row (NULL slots included, their results ignored:
 * an overflow or a division by zero in a NULL slot is no error). Kernels never see two scalars
 * (pl_call_eval turns those into one-row arrays) nor a NULL scalar of a NULL-in-NULL-out
 * function. Semantics follow DuckDB: integer overflow and integer division/modulo by zero are
 * errors, "/" of integers gives float64 (IEEE results for zero divisors), NaN equals NaN and
 * sorts above every other value. */
#define _GNU_SOURCE /* memmem */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compute/compute.h"
#include "expr/expr_core.h"
#include "expr/funcs_int.h"

int pl_int_digits(pl_type_id id);
bool pl_cast_supported(const pl_type *from, const pl_type *to);

#define CHUNK 1024

typedef __int128 i128;

/* ---------------------------------------------------------------- small helpers */

static const pl_type *dtype(const pl_datum *d) {
    return d->is_scalar ? d->scalar.type : d->array->type;
}

/* Pointer to the first value (scalar: its bytes stored in sbuf). */
static const void *dptr(const pl_datum *d, uint8_t sbuf[16]) {
    if (d->is_scalar) {
        memset(sbuf, 0, 16);
        pl_value_store(&d->scalar, sbuf);
        return sbuf;
    }
    return pl_array_values_ptr(d->array);
}

static pl_status result_validity(const pl_datum *args, int32_t n_args, int64_t n, pl_buf **out,
                                 pl_error *err) {
    pl_array *arr[8];
    int32_t k = 0;
    for (int32_t i = 0; i < n_args && k < 8; i++)
        if (!args[i].is_scalar) arr[k++] = args[i].array;
    return pl_validity_and(k, arr, n, out, NULL, err);
}

static bool valid_at(const pl_datum *d, int64_t i) {
    if (d->is_scalar) return !d->scalar.is_null;
    return pl_array_is_valid(d->array, i);
}

/* A kernel's result: after an error st its buffers are released; otherwise the array of type
 * (retained) over validity and values (validity dropped when every row is valid) into out. */
static pl_status kernel_result(pl_status st, pl_type *type, int64_t n, pl_buf *validity,
                               pl_buf *values, pl_datum *out, pl_error *err) {
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        return st;
    }
    pl_array *r;
    PL_TRY(pl_xarray_new(pl_type_retain(type), n, validity, values, NULL, &r, err));
    pl_datum_set_array(out, r);
    return PL_OK;
}

static const char *duck_type_name(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: return "INT8";
    case PL_TYPE_INT16: return "INT16";
    case PL_TYPE_INT32: return "INT32";
    case PL_TYPE_INT64: return "INT64";
    case PL_TYPE_UINT8: return "UINT8";
    case PL_TYPE_UINT16: return "UINT16";
    case PL_TYPE_UINT32: return "UINT32";
    case PL_TYPE_UINT64: return "UINT64";
    case PL_TYPE_DECIMAL128: return "DECIMAL";
    default: return "?";
    }
}

static pl_status type_error2(const pl_bexpr *call, pl_error *err) {
    char buf[256];
    size_t len = (size_t)snprintf(buf, sizeof buf, "no function %s(", call->fn->name);
    for (int32_t i = 0; i < call->n_args && len < sizeof buf; i++) {
        char tn[64];
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "",
                                pl_xtype_name(call->args[i]->type, tn, sizeof tn));
    }
    if (len < sizeof buf) snprintf(buf + len, sizeof buf - len, ")");
    PL_FAIL(err, PL_ERR_TYPE, "%s", buf);
}

static bool is_lit(const pl_bexpr *b) { return b->kind == PL_BEXPR_LIT; }
static bool literal_fits(const pl_bexpr *lit, pl_type *t);
static pl_type_id tid(const pl_bexpr *b) { return b->type->id; }
/* SQL's integer literal (INT32, not the value of an explicit CAST) */
static bool int_lit(const pl_bexpr *b) {
    return b->kind == PL_BEXPR_LIT && b->type->id == PL_TYPE_INT32 && !b->cast_lit;
}

static pl_status set_type(pl_bexpr *call, pl_type *t) {
    call->type = pl_type_retain(t);
    return PL_OK;
}

/* ---------------------------------------------------------------- arithmetic */

enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_IDIV };
static const char *const OP_WORD[] = {"addition", "subtraction", "multiplication",
                                      "division", "modulo", "division"};
static const char *const OP_SYM[] = {"+", "-", "*", "/", "%", "//"};

/* 0 ok, 1 overflow, 2 division by zero */
#define DEF_INT_ARITH(T, UT, TN, TMIN, SIGNED, TMINV, TMAXV)                                                                 \
    static inline __attribute__((always_inline)) unsigned arith_loop_##TN(                         \
        int op, const T *restrict a, bool as, const T *restrict b, bool bs, T *restrict r,        \
        int64_t n) {                                                                               \
        unsigned bad = 0;                                                                          \
        switch (op) {                                                                              \
        case OP_ADD: /* branch-free overflow tests so the loops vectorise */                     \
            if (SIGNED) {                                                                          \
                T acc = 0;                                                                         \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                        \
                    T z = (T)((UT)x + (UT)y);                                                      \
                    acc |= (T)((x ^ z) & (y ^ z));                                                 \
                    r[i] = z;                                                                      \
                }                                                                                  \
                bad = ((UT)acc >> (sizeof(T) * 8 - 1)) != 0;                                       \
            } else {                                                                               \
                T acc = 0;                                                                         \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                        \
                    T z = (T)(x + y);                                                              \
                    acc |= (T)(z < x);                                                             \
                    r[i] = z;                                                                      \
                }                                                                                  \
                bad = acc != 0;                                                                    \
            }                                                                                      \
            break;                                                                                 \
        case OP_SUB:                                                                               \
            if (SIGNED) {                                                                          \
                T acc = 0;                                                                         \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                        \
                    T z = (T)((UT)x - (UT)y);                                                      \
                    acc |= (T)((x ^ y) & (x ^ z));                                                 \
                    r[i] = z;                                                                      \
                }                                                                                  \
                bad = ((UT)acc >> (sizeof(T) * 8 - 1)) != 0;                                       \
            } else {                                                                               \
                T acc = 0;                                                                         \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                        \
                    acc |= (T)(x < y);                                                             \
                    r[i] = (T)(x - y);                                                             \
                }                                                                                  \
                bad = acc != 0;                                                                    \
            }                                                                                      \
            break;                                                                                 \
        case OP_MUL:                                                                               \
            if (sizeof(T) < 8) { /* in 64 bits, then a range test */                               \
                int64_t lo = 0, hi = 0;                                                            \
                for (int64_t i = 0; i < n; i++) {                                                  \
                    int64_t w = (int64_t)a[as ? 0 : i] * (int64_t)b[bs ? 0 : i];                   \
                    lo = w < lo ? w : lo;                                                          \
                    hi = w > hi ? w : hi;                                                          \
                    r[i] = (T)w;                                                                   \
                }                                                                                  \
                bad = lo < (int64_t)TMINV || hi > (int64_t)TMAXV;                                  \
            } else {                                                                               \
                for (int64_t i = 0; i < n; i++)                                                    \
                    bad |= (unsigned)__builtin_mul_overflow(a[as ? 0 : i], b[bs ? 0 : i], &r[i]);  \
            }                                                                                      \
            break;                                                                                 \
        case OP_MOD:                                                                               \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                            \
                bool z = y == 0, m1 = SIGNED && y == (T)-1;                                     \
                bad |= z;                                                                          \
                r[i] = (z || m1) ? 0 : (T)(x % y);                                                 \
            }                                                                                      \
            break;                                                                                 \
        default: /* OP_IDIV */                                                                     \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T x = a[as ? 0 : i], y = b[bs ? 0 : i];                                            \
                bool z = y == 0, o = SIGNED && y == (T)-1 && x == TMIN;                         \
                bad |= z | o;                                                                      \
                r[i] = (z || o) ? 0 : (T)(x / y);                                                  \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        return bad;                                                                                \
    }                                                                                              \
    static unsigned arith_row_##TN(int op, T x, T y) {                                             \
        T r;                                                                                       \
        switch (op) {                                                                              \
        case OP_ADD: return __builtin_add_overflow(x, y, &r) ? 1 : 0;                              \
        case OP_SUB: return __builtin_sub_overflow(x, y, &r) ? 1 : 0;                              \
        case OP_MUL: return __builtin_mul_overflow(x, y, &r) ? 1 : 0;                              \
        case OP_MOD: return y == 0 ? 2 : 0;                                                        \
        default: return y == 0 ? 2 : (SIGNED && y == (T)-1 && x == TMIN) ? 1 : 0;              \
        }                                                                                          \
    }                                                                                              \
    static unsigned arith_run_##TN(int op, const void *a, bool as, const void *b, bool bs,         \
                                   void *r, int64_t n) {                                           \
        if (as) return arith_loop_##TN(op, a, true, b, false, r, n);                               \
        if (bs) return arith_loop_##TN(op, a, false, b, true, r, n);                               \
        return arith_loop_##TN(op, a, false, b, false, r, n);                                      \
    }

DEF_INT_ARITH(int8_t, uint8_t, i8, INT8_MIN, 1, INT8_MIN, INT8_MAX)
DEF_INT_ARITH(int16_t, uint16_t, i16, INT16_MIN, 1, INT16_MIN, INT16_MAX)
DEF_INT_ARITH(int32_t, uint32_t, i32, INT32_MIN, 1, INT32_MIN, INT32_MAX)
DEF_INT_ARITH(int64_t, uint64_t, i64, INT64_MIN, 1, 0, 0)
DEF_INT_ARITH(uint8_t, uint8_t, u8, 0, 0, 0, UINT8_MAX)
DEF_INT_ARITH(uint16_t, uint16_t, u16, 0, 0, 0, UINT16_MAX)
DEF_INT_ARITH(uint32_t, uint32_t, u32, 0, 0, 0, UINT32_MAX)
DEF_INT_ARITH(uint64_t, uint64_t, u64, 0, 0, 0, 0)
DEF_INT_ARITH(i128, unsigned __int128, dec, (i128)(((unsigned __int128)1) << 127), 1, 0, 0)

#define DEF_FLOAT_ARITH(T, TN, FMOD)                                                               \
    static inline __attribute__((always_inline)) unsigned farith_loop_##TN(                        \
        int op, const T *restrict a, bool as, const T *restrict b, bool bs, T *restrict r,        \
        int64_t n) {                                                                               \
        unsigned bad = 0;                                                                          \
        switch (op) {                                                                              \
        case OP_ADD:                                                                               \
            for (int64_t i = 0; i < n; i++) r[i] = a[as ? 0 : i] + b[bs ? 0 : i];                  \
            break;                                                                                 \
        case OP_SUB:                                                                               \
            for (int64_t i = 0; i < n; i++) r[i] = a[as ? 0 : i] - b[bs ? 0 : i];                  \
            break;                                                                                 \
        case OP_MUL:                                                                               \
            for (int64_t i = 0; i < n; i++) r[i] = a[as ? 0 : i] * b[bs ? 0 : i];                  \
            break;                                                                                 \
        case OP_DIV:                                                                               \
            for (int64_t i = 0; i < n; i++) r[i] = a[as ? 0 : i] / b[bs ? 0 : i];                  \
            break;                                                                                 \
        case OP_MOD:                                                                               \
            for (int64_t i = 0; i < n; i++) r[i] = FMOD(a[as ? 0 : i], b[bs ? 0 : i]);             \
            break;                                                                                 \
        default: /* DuckDB's // of floats: a division that refuses zero divisors */               \
            for (int64_t i = 0; i < n; i++) {                                                      \
                T y = b[bs ? 0 : i];                                                               \
                bad |= y == 0;                                                                     \
                r[i] = a[as ? 0 : i] / y;                                                          \
            }                                                                                      \
            break;                                                                                 \
        }                                                                                          \
        return bad ? 2 : 0;                                                                        \
    }                                                                                              \
    static unsigned farith_run_##TN(int op, const void *a, bool as, const void *b, bool bs,        \
                                    void *r, int64_t n) {                                          \
        if (as) return farith_loop_##TN(op, a, true, b, false, r, n);                              \
        if (bs) return farith_loop_##TN(op, a, false, b, true, r, n);                              \
        return farith_loop_##TN(op, a, false, b, false, r, n);                                     \
    }

DEF_FLOAT_ARITH(float, f32, fmodf)
DEF_FLOAT_ARITH(double, f64, fmod)

static void fmt_num(const pl_type *t, const void *p, char *buf, size_t n) {
    pl_value v;
    pl_value_load((pl_type *)t, p, &v);
    pl_value_to_string(&v, buf, n);
    pl_value_reset(&v);
}

/* Finds the first valid row with a problem and reports it. */
static pl_status arith_report(int op, const pl_bexpr *call, const pl_type *t, const pl_datum *a,
                              const pl_datum *b, const void *pa, const void *pb, int64_t n,
                              pl_error *err) {
    int64_t w = t->byte_width;
    for (int64_t i = 0; i < n; i++) {
        if (!valid_at(a, i) || !valid_at(b, i)) continue;
        const uint8_t *x = (const uint8_t *)pa + (a->is_scalar ? 0 : i * w);
        const uint8_t *y = (const uint8_t *)pb + (b->is_scalar ? 0 : i * w);
        unsigned k = 0;
        switch (t->id) {
#define ROW(ID, T, TN)                                                                             \
    case ID: {                                                                                     \
        T xv, yv;                                                                                  \
        memcpy(&xv, x, sizeof xv);                                                                 \
        memcpy(&yv, y, sizeof yv);                                                                 \
        k = arith_row_##TN(op, xv, yv);                                                            \
        break;                                                                                     \
    }
            ROW(PL_TYPE_INT8, int8_t, i8)
            ROW(PL_TYPE_INT16, int16_t, i16)
            ROW(PL_TYPE_INT32, int32_t, i32)
            ROW(PL_TYPE_INT64, int64_t, i64)
            ROW(PL_TYPE_UINT8, uint8_t, u8)
            ROW(PL_TYPE_UINT16, uint16_t, u16)
            ROW(PL_TYPE_UINT32, uint32_t, u32)
            ROW(PL_TYPE_UINT64, uint64_t, u64)
            ROW(PL_TYPE_DECIMAL128, i128, dec)
#undef ROW
        case PL_TYPE_FLOAT32: {
            float yv;
            memcpy(&yv, y, 4);
            k = yv == 0 ? 2 : 0;
            break;
        }
        case PL_TYPE_FLOAT64: {
            double yv;
            memcpy(&yv, y, 8);
            k = yv == 0 ? 2 : 0;
            break;
        }
        default: break;
        }
        if (!k) continue;
        char xs[64], ys[64];
        const pl_type *ta = dtype(a), *tb = dtype(b);
        fmt_num(ta, x, xs, sizeof xs);
        fmt_num(tb, y, ys, sizeof ys);
        if (err) err->row = i;
        if (k == 2)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "division by zero in expression (%s %s %s) at row %lld",
                    xs, OP_SYM[op], ys, (long long)i);
        if (op == OP_IDIV)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "overflow in division of %s / %s at row %lld", xs, ys,
                    (long long)i);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "overflow in %s of %s (%s %s %s) at row %lld", OP_WORD[op],
                duck_type_name(t->id), xs, OP_SYM[op], ys, (long long)i);
    }
    return PL_OK;
}

/* Decimal multiplication: operands keep their scales; the result can overflow 38 digits. */
static const i128 k_dec_max = (((i128)0x4B3B4CA85A86C47AULL) << 64) | 0x098A223FFFFFFFFFULL; /* 1e38-1 */

static pl_status arith_exec(int op, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    const pl_datum *a = &args[0], *b = &args[1];
    const pl_type *t = dtype(a);
    pl_type *rt = call->type;
    uint8_t sa[16], sb[16];
    const void *pa = dptr(a, sa), *pb = dptr(b, sb);
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(result_validity(args, 2, n, &validity, err));
    pl_status st = pl_xbuf_new(n * rt->byte_width, &values, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    bool as = a->is_scalar, bs = b->is_scalar;
    unsigned bad = 0;
    switch (t->id) {
    case PL_TYPE_INT8: bad = arith_run_i8(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_INT16: bad = arith_run_i16(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_INT32: bad = arith_run_i32(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_INT64: bad = arith_run_i64(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_UINT8: bad = arith_run_u8(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_UINT16: bad = arith_run_u16(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_UINT32: bad = arith_run_u32(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_UINT64: bad = arith_run_u64(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_FLOAT32: bad = farith_run_f32(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_FLOAT64: bad = farith_run_f64(op, pa, as, pb, bs, values->data, n); break;
    case PL_TYPE_DECIMAL128: {
        bad = arith_run_dec(op, pa, as, pb, bs, values->data, n);
        if (!bad && (op == OP_MUL || op == OP_ADD || op == OP_SUB) && rt->precision >= 1 &&
            rt->precision <= 38) {
            /* the result must fit its precision, like DuckDB's: a type made from the operands'
             * (DECIMAL(4,2) + DECIMAL(4,2) is DECIMAL(5,2)) always does, one capped at 18
             * digits (a product of 64-bit decimals) or 38 may not: 999999999999.999999::
             * DECIMAL(18,6) * 2 has 19 digits */
            i128 max = 9;
            for (int32_t d = 1; d < rt->precision; d++) max = max * 10 + 9;
            if (max > k_dec_max) max = k_dec_max;
            const i128 *r = (const i128 *)(const void *)values->data;
            for (int64_t i = 0; i < n; i++)
                if ((r[i] > max || r[i] < -max) && valid_at(a, i) && valid_at(b, i)) {
                    if (err) err->row = i;
                    st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                      "overflow in %s of DECIMAL(%d,%d) at row %lld",
                                      OP_WORD[op], (int)rt->precision, (int)rt->scale,
                                      (long long)i);
                    if (err && rt->precision < 38)
                        snprintf(err->hint, sizeof err->hint,
                                 "cast an operand to a wider DECIMAL (more than 18 digits)");
                    break;
                }
        }
        break;
    }
    default: st = type_error2(call, err); break;
    }
    if (!st && bad) st = arith_report(op, call, t, a, b, pa, pb, n, err);
    return kernel_result(st, rt, n, validity, values, out, err);
}

#define ARITH_KERNEL(NAME, OP)                                                                     \
    static pl_status NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,             \
                          int64_t n_rows, pl_datum *out, pl_error *err) {                          \
        PL_UNUSED(ec);                                                                             \
        return arith_exec(OP, call, args, n_rows, out, err);                                       \
    }
ARITH_KERNEL(k_add, OP_ADD)
ARITH_KERNEL(k_sub, OP_SUB)
ARITH_KERNEL(k_mul, OP_MUL)
ARITH_KERNEL(k_div, OP_DIV)
ARITH_KERNEL(k_mod, OP_MOD)
ARITH_KERNEL(k_idiv, OP_IDIV)

/* Temporal arithmetic delegates to kernels_time.c; the kernel it returns is kept in state. */
typedef struct temporal_state {
    pl_kernel_fn exec;
    void *inner_state;
    void (*inner_free)(void *);
} temporal_state;

static void temporal_free(void *p) {
    temporal_state *s = p;
    if (s->inner_free && s->inner_state) s->inner_free(s->inner_state);
    pl_free(s);
}

static pl_status k_temporal(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n_rows, pl_datum *out, pl_error *err) {
    const temporal_state *s = call->state;
    /* the inner kernel sees its own state */
    pl_bexpr view = *call;
    view.state = s->inner_state;
    view.free_state = s->inner_free;
    return s->exec(ec, &view, args, n_rows, out, err);
}

static bool is_temporal_arg(const pl_bexpr *b) { return pl_type_is_temporal(tid(b)); }

/* A string literal next to a typed operand is read as that type ('2' + 1, ts > '2024-01-01'). */
static pl_status cast_string_literals(pl_bexpr *call, int32_t from, int32_t to, pl_error *err) {
    const pl_type *other = NULL;
    for (int32_t i = from; i < to; i++) {
        pl_type_id id = tid(call->args[i]);
        if (id != PL_TYPE_UTF8 && id != PL_TYPE_NA) {
            other = call->args[i]->type;
            break;
        }
    }
    if (!other) return PL_OK;
    /* a fixed-width binary column compares with the literal as a BLOB (of any length) */
    if (other->id == PL_TYPE_FIXED_BINARY) other = pl_type_simple(PL_TYPE_BINARY);
    for (int32_t i = from; i < to; i++)
        if (is_lit(call->args[i]) && tid(call->args[i]) == PL_TYPE_UTF8)
            PL_TRY(pl_bexpr_wrap_cast(&call->args[i], (pl_type *)other, err));
    return PL_OK;
}

static pl_type *decimal_or_null(int32_t p, int32_t s) {
    pl_type *t = NULL;
    if (p > 38) p = 38;
    if (s > p) return NULL;
    if (pl_type_new_decimal(p, s, &t, NULL) != PL_OK) return NULL;
    return t;
}

/* An integer operand of decimal arithmetic as a decimal(digits, 0). */
static pl_type *as_decimal(const pl_type *t) {
    if (t->id == PL_TYPE_DECIMAL128) return pl_type_retain((pl_type *)t);
    if (pl_type_is_integer(t->id)) return decimal_or_null(pl_int_digits(t->id), 0);
    return NULL;
}

static pl_status arith_bind_op(pl_bexpr *call, int op, pl_error *err) {
    PL_TRY(cast_string_literals(call, 0, 2, err));
    pl_bexpr **a = &call->args[0], **b = &call->args[1];
    /* date/time +/- and interval * / number: bound by the temporal kernels, wrapped here */
    bool shift = (op == OP_ADD || op == OP_SUB) && (is_temporal_arg(*a) || is_temporal_arg(*b));
    bool scale = (op == OP_MUL || op == OP_DIV) &&
                 (tid(*a) == PL_TYPE_INTERVAL || tid(*b) == PL_TYPE_INTERVAL);
    if (shift || scale) {
        temporal_state *s = pl_calloc(1, sizeof *s);
        if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding %s", call->fn->name);
        pl_status st = scale          ? pl_interval_mul_bind(call, op == OP_DIV, &s->exec, err)
                       : op == OP_ADD ? pl_temporal_add_bind(call, &s->exec, err)
                                      : pl_temporal_sub_bind(call, &s->exec, err);
        if (st) {
            pl_free(s);
            return st;
        }
        s->inner_state = call->state;
        s->inner_free = call->free_state;
        call->state = s;
        call->free_state = temporal_free;
        return PL_OK;
    }
    pl_type_id x = tid(*a), y = tid(*b);
    if (x == PL_TYPE_NA && y == PL_TYPE_NA) {
        /* NULL + NULL: an int32 NULL, as DuckDB */
        PL_TRY(pl_bexpr_wrap_cast(a, pl_type_simple(PL_TYPE_INT32), err));
        PL_TRY(pl_bexpr_wrap_cast(b, pl_type_simple(PL_TYPE_INT32), err));
        x = y = PL_TYPE_INT32;
    }
    if (!(pl_type_is_numeric(x) || x == PL_TYPE_NA) || !(pl_type_is_numeric(y) || y == PL_TYPE_NA))
        return type_error2(call, err);
    pl_type *t = NULL;
    if (pl_type_is_integer(x) && pl_type_is_integer(y) && (int_lit(*a) || int_lit(*b))) {
        /* an INT32 literal (SQL's integer literal) that fits the other side's integer type
         * takes it, like DuckDB's integer literals (tinyint_col + 1 and 127::TINYINT + 1 are
         * TINYINT and overflow as one); INT64 literals (the DataFrame API's, SQL's past 32
         * bits), casts (x + 1::INTEGER) and folded expressions (x + (1 + 1)) widen as usual */
        pl_bexpr *lit = int_lit(*a) ? *a : *b, *other = int_lit(*a) ? *b : *a;
        if (!int_lit(other) && literal_fits(lit, other->type)) t = pl_type_retain(other->type);
    }
    if (!t) t = pl_type_common_super((*a)->type, (*b)->type);
    if (!t) return type_error2(call, err);
    pl_status st = PL_OK;
    if (op == OP_DIV && (pl_type_is_integer(t->id) || t->id == PL_TYPE_DECIMAL128)) {
        pl_type_release(t);
        t = pl_type_simple(PL_TYPE_FLOAT64);
    }
    if (op == OP_IDIV && t->id == PL_TYPE_DECIMAL128) {
        pl_type_release(t);
        t = pl_type_simple(PL_TYPE_FLOAT64);
    }
    if (t->id == PL_TYPE_DECIMAL128 && op == OP_MUL) {
        pl_type *da = as_decimal((*a)->type), *db = as_decimal((*b)->type);
        pl_type *rt = NULL;
        if (da && db) {
            if (da->scale + db->scale > 38) {
                st = pl_error_set(err, PL_ERR_TYPE,
                                  "multiplication of decimals with scales %d and %d exceeds the "
                                  "maximum scale 38",
                                  (int)da->scale, (int)db->scale);
            } else {
                /* DuckDB: p1 + p2 digits, but two operands of at most 18 digits (64-bit ones)
                 * give at most 18 (DECIMAL(10,2) * INTEGER is DECIMAL(18,2)), and a product
                 * that does not fit is an overflow error */
                int32_t p = da->precision + db->precision;
                if (da->precision <= 18 && db->precision <= 18 && p > 18) p = 18;
                rt = decimal_or_null(p, da->scale + db->scale);
            }
        }
        if (!st && (!da || !db || !rt)) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory binding mul");
        if (!st) st = pl_bexpr_wrap_cast(a, da, err);
        if (!st) st = pl_bexpr_wrap_cast(b, db, err);
        if (!st) call->type = pl_type_retain(rt);
        pl_type_release(da);
        pl_type_release(db);
        pl_type_release(rt);
        pl_type_release(t);
        return st;
    }
    if (t->id == PL_TYPE_DECIMAL128 && (op == OP_ADD || op == OP_SUB)) {
        /* one more integer digit for the carry, as DuckDB */
        pl_type *rt = decimal_or_null(PL_MIN(38, t->precision + 1), t->scale);
        if (!rt) {
            pl_type_release(t);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding %s", call->fn->name);
        }
        st = pl_bexpr_wrap_cast(a, rt, err);
        if (!st) st = pl_bexpr_wrap_cast(b, rt, err);
        if (!st) call->type = pl_type_retain(rt);
        pl_type_release(rt);
        pl_type_release(t);
        return st;
    }
    st = pl_bexpr_wrap_cast(a, t, err);
    if (!st) st = pl_bexpr_wrap_cast(b, t, err);
    if (!st) call->type = pl_type_retain(t);
    pl_type_release(t);
    return st;
}

static pl_status b_add(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_ADD, err); }
static pl_status b_sub(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_SUB, err); }
static pl_status b_mul(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_MUL, err); }
static pl_status b_div(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_DIV, err); }
static pl_status b_mod(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_MOD, err); }
static pl_status b_idiv(pl_bexpr *c, pl_error *err) { return arith_bind_op(c, OP_IDIV, err); }

/* add/sub run the temporal kernel when binding delegated (state set) */
static pl_status k_add_any(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    if (call->state && call->free_state == temporal_free) return k_temporal(ec, call, args, n, out, err);
    return k_add(ec, call, args, n, out, err);
}
static pl_status k_sub_any(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    if (call->state && call->free_state == temporal_free) return k_temporal(ec, call, args, n, out, err);
    return k_sub(ec, call, args, n, out, err);
}

static pl_status k_mul_any(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    if (call->state && call->free_state == temporal_free) return k_temporal(ec, call, args, n, out, err);
    return k_mul(ec, call, args, n, out, err);
}
static pl_status k_div_any(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    if (call->state && call->free_state == temporal_free) return k_temporal(ec, call, args, n, out, err);
    return k_div(ec, call, args, n, out, err);
}

/* __single_row(n, v): v, or an error when n > 1 (the SQL planner's check that a correlated
 * scalar subquery gave at most one row per outer row, like DuckDB) */
static pl_status b_single_row(pl_bexpr *call, pl_error *err) {
    if (call->n_args != 2 || !(pl_type_is_integer(tid(call->args[0])) || tid(call->args[0]) == PL_TYPE_NA))
        return type_error2(call, err);
    PL_TRY(pl_bexpr_wrap_cast(&call->args[0], pl_type_simple(PL_TYPE_INT64), err));
    call->type = pl_type_retain(call->args[1]->type);
    return PL_OK;
}

static pl_status k_single_row(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                              int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    const pl_datum *c = &args[0];
    bool many = false;
    if (c->is_scalar) {
        many = !c->scalar.is_null && c->scalar.type->id == PL_TYPE_INT64 && c->scalar.v.i > 1;
    } else if (c->array->type->id == PL_TYPE_INT64) {
        const int64_t *v = (const int64_t *)(const void *)c->array->values->data + c->array->offset;
        const uint8_t *vb = c->array->validity ? c->array->validity->data : NULL;
        for (int64_t i = 0; i < n && !many; i++)
            many = v[i] > 1 && (!vb || pl_bit_get(vb, c->array->offset + i));
    }
    if (many)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "more than one row returned by a subquery used as an "
                "expression: scalar subqueries can return at most one row");
    pl_datum_reset(out);
    if (args[1].is_scalar) {
        pl_value v;
        PL_TRY(pl_value_copy(&args[1].scalar, &v, err));
        pl_datum_set_scalar(out, &v);
    } else {
        pl_datum_set_array(out, pl_array_retain(args[1].array));
    }
    return PL_OK;
}

/* neg */
static pl_status b_neg(pl_bexpr *call, pl_error *err) {
    pl_bexpr **a = &call->args[0];
    pl_type_id x = tid(*a);
    /* unsigned: the type kept, any value but 0 an overflow (DuckDB) */
    if (x == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(a, pl_type_simple(PL_TYPE_INT32), err));
    else if (x == PL_TYPE_INTERVAL) return set_type(call, (*a)->type);
    else if (!pl_type_is_numeric(x)) return type_error2(call, err);
    return set_type(call, (*a)->type);
}

static pl_status k_neg(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    const pl_datum *a = &args[0];
    const pl_type *t = dtype(a);
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(result_validity(args, 1, n, &validity, err));
    pl_status st = pl_xbuf_new(n * t->byte_width, &values, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    const void *p = pl_array_values_ptr(a->array);
    int64_t bad = -1;
    switch (t->id) {
#define NEG(ID, T, MIN)                                                                            \
    case ID: {                                                                                     \
        const T *s = p;                                                                            \
        T *r = (T *)(void *)values->data;                                                          \
        bool o = false;                                                                            \
        for (int64_t i = 0; i < n; i++) {                                                          \
            o |= s[i] == MIN;                                                                      \
            r[i] = s[i] == MIN ? MIN : (T)-s[i];                                                   \
        }                                                                                          \
        if (o)                                                                                     \
            for (int64_t i = 0; i < n && bad < 0; i++)                                             \
                if (s[i] == MIN && pl_array_is_valid(a->array, i)) bad = i;                        \
        break;                                                                                     \
    }
        NEG(PL_TYPE_INT8, int8_t, INT8_MIN)
        NEG(PL_TYPE_INT16, int16_t, INT16_MIN)
        NEG(PL_TYPE_INT32, int32_t, INT32_MIN)
        NEG(PL_TYPE_INT64, int64_t, INT64_MIN)
#undef NEG
#define NEGU(ID, T)                                                                                \
    case ID: {                                                                                     \
        const T *s = p;                                                                            \
        T *r = (T *)(void *)values->data;                                                          \
        bool o = false;                                                                            \
        for (int64_t i = 0; i < n; i++) {                                                          \
            o |= s[i] != 0;                                                                        \
            r[i] = 0;                                                                              \
        }                                                                                          \
        if (o)                                                                                     \
            for (int64_t i = 0; i < n && bad < 0; i++)                                             \
                if (s[i] != 0 && pl_array_is_valid(a->array, i)) bad = i;                          \
        break;                                                                                     \
    }
        NEGU(PL_TYPE_UINT8, uint8_t)
        NEGU(PL_TYPE_UINT16, uint16_t)
        NEGU(PL_TYPE_UINT32, uint32_t)
        NEGU(PL_TYPE_UINT64, uint64_t)
#undef NEGU
    case PL_TYPE_FLOAT32: {
        const float *s = p;
        float *r = (float *)(void *)values->data;
        for (int64_t i = 0; i < n; i++) r[i] = -s[i];
        break;
    }
    case PL_TYPE_FLOAT64: {
        const double *s = p;
        double *r = (double *)(void *)values->data;
        for (int64_t i = 0; i < n; i++) r[i] = -s[i];
        break;
    }
    case PL_TYPE_DECIMAL128: {
        const uint8_t *s = p;
        for (int64_t i = 0; i < n; i++) {
            i128 x;
            memcpy(&x, s + 16 * i, 16);
            x = (i128)(0 - (unsigned __int128)x);
            memcpy(values->data + 16 * i, &x, 16);
        }
        break;
    }
    case PL_TYPE_INTERVAL: {
        const uint8_t *s = p;
        for (int64_t i = 0; i < n; i++) {
            pl_value v;
            pl_value_load((pl_type *)t, s + 16 * i, &v);
            v.v.iv.months = (int32_t)(0u - (uint32_t)v.v.iv.months);
            v.v.iv.days = (int32_t)(0u - (uint32_t)v.v.iv.days);
            v.v.iv.ns = (int64_t)(0u - (uint64_t)v.v.iv.ns);
            pl_value_store(&v, values->data + 16 * i);
        }
        break;
    }
    default: st = type_error2(call, err); break;
    }
    if (!st && bad >= 0) {
        char xs[64];
        fmt_num(t, (const uint8_t *)p + bad * t->byte_width, xs, sizeof xs);
        if (err) err->row = bad;
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "overflow in negation of %s (-%s) at row %lld",
                          duck_type_name(t->id), xs, (long long)bad);
    }
    return kernel_result(st, (pl_type *)t, n, validity, values, out, err);
}

/* ---------------------------------------------------------------- comparison */

enum { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* Packs n (<= CHUNK) 0/1 bytes into bits at dst (bit 0 of dst[0] first; n % 8 == 0 except at the
 * end). */
static void pack_bits(const uint8_t *t, int64_t n, uint8_t *dst) {
    int64_t full = n / 8;
    for (int64_t k = 0; k < full; k++) {
        uint64_t w;
        memcpy(&w, t + 8 * k, 8);
        dst[k] = (uint8_t)((w * 0x0102040810204080ULL) >> 56);
    }
    if (n & 7) {
        uint8_t b = 0;
        for (int64_t j = 0; j < (n & 7); j++) b |= (uint8_t)(t[8 * full + j] << j);
        dst[full] = b;
    }
}

/* NaN-aware float order (NaN equals NaN and is the largest). */
#define FEQ(x, y) ((x) == (y) || ((x) != (x) && (y) != (y)))
#define FLT(x, y) ((x) < (y) || ((x) == (x) && (y) != (y)))

#define CMP_BODY(T, EQ, LT)                                                                        \
    switch (op) {                                                                                  \
    case CMP_EQ:                                                                                   \
        for (int64_t j = 0; j < m; j++) t[j] = EQ(a[as ? 0 : j], b[bs ? 0 : j]);                   \
        break;                                                                                     \
    case CMP_NE:                                                                                   \
        for (int64_t j = 0; j < m; j++) t[j] = !EQ(a[as ? 0 : j], b[bs ? 0 : j]);                  \
        break;                                                                                     \
    case CMP_LT:                                                                                   \
        for (int64_t j = 0; j < m; j++) t[j] = LT(a[as ? 0 : j], b[bs ? 0 : j]);                   \
        break;                                                                                     \
    case CMP_LE:                                                                                   \
        for (int64_t j = 0; j < m; j++) t[j] = !LT(b[bs ? 0 : j], a[as ? 0 : j]);                  \
        break;                                                                                     \
    case CMP_GT:                                                                                   \
        for (int64_t j = 0; j < m; j++) t[j] = LT(b[bs ? 0 : j], a[as ? 0 : j]);                   \
        break;                                                                                     \
    default:                                                                                       \
        for (int64_t j = 0; j < m; j++) t[j] = !LT(a[as ? 0 : j], b[bs ? 0 : j]);                  \
        break;                                                                                     \
    }

#define IEQ(x, y) ((x) == (y))
#define ILT(x, y) ((x) < (y))

#define DEF_CMP(T, TN, EQ, LT)                                                                     \
    static inline __attribute__((always_inline)) void cmp_chunk_##TN(                              \
        int op, const T *restrict a, bool as, const T *restrict b, bool bs, uint8_t *restrict t,  \
        int64_t m) {                                                                               \
        CMP_BODY(T, EQ, LT)                                                                        \
    }                                                                                              \
    static void cmp_run_##TN(int op, const void *pa, bool as, const void *pb, bool bs,             \
                             uint8_t *bits, int64_t n) {                                           \
        const T *a = pa, *b = pb;                                                                  \
        uint8_t t[CHUNK];                                                                          \
        for (int64_t i = 0; i < n; i += CHUNK) {                                                   \
            int64_t m = PL_MIN(CHUNK, n - i);                                                      \
            const T *ca = as ? a : a + i, *cb = bs ? b : b + i;                                    \
            if (as) cmp_chunk_##TN(op, ca, true, cb, false, t, m);                                 \
            else if (bs) cmp_chunk_##TN(op, ca, false, cb, true, t, m);                            \
            else cmp_chunk_##TN(op, ca, false, cb, false, t, m);                                   \
            pack_bits(t, m, bits + i / 8);                                                         \
        }                                                                                          \
    }

DEF_CMP(int8_t, i8, IEQ, ILT)
DEF_CMP(int16_t, i16, IEQ, ILT)
DEF_CMP(int32_t, i32, IEQ, ILT)
DEF_CMP(int64_t, i64, IEQ, ILT)
DEF_CMP(uint8_t, u8, IEQ, ILT)
DEF_CMP(uint16_t, u16, IEQ, ILT)
DEF_CMP(uint32_t, u32, IEQ, ILT)
DEF_CMP(uint64_t, u64, IEQ, ILT)
DEF_CMP(float, f32, FEQ, FLT)
DEF_CMP(double, f64, FEQ, FLT)

/* DECIMAL (128-bit integers, possibly unaligned): the same typed loops over 16-byte cells */
typedef struct wide16 {
    uint8_t b[16];
} wide16;
static inline i128 w16_load(wide16 x) {
    i128 v;
    memcpy(&v, x.b, 16);
    return v;
}
#define WEQ(x, y) (w16_load(x) == w16_load(y))
#define WLT(x, y) (w16_load(x) < w16_load(y))
DEF_CMP(wide16, w16, WEQ, WLT)

/* decimals and intervals: values loaded as i128 per element (unaligned-safe) */
static i128 load_i128(const uint8_t *p) {
    i128 x;
    memcpy(&x, p, 16);
    return x;
}
static i128 interval_key(const uint8_t *p) { return pl_interval_ns(p); }

static void cmp_run_wide(int op, bool interval, const uint8_t *pa, bool as, const uint8_t *pb,
                         bool bs, uint8_t *bits, int64_t n) {
    if (!interval) {
        cmp_run_w16(op, pa, as, pb, bs, bits, n);
        return;
    }
    uint8_t t[CHUNK];
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = PL_MIN(CHUNK, n - i);
        for (int64_t j = 0; j < m; j++) {
            const uint8_t *x = pa + (as ? 0 : (i + j) * 16), *y = pb + (bs ? 0 : (i + j) * 16);
            i128 u = interval ? interval_key(x) : load_i128(x);
            i128 v = interval ? interval_key(y) : load_i128(y);
            int c = u < v ? -1 : u > v;
            t[j] = op == CMP_EQ ? c == 0 : op == CMP_NE ? c != 0 : op == CMP_LT ? c < 0
                   : op == CMP_LE ? c <= 0 : op == CMP_GT ? c > 0 : c >= 0;
        }
        pack_bits(t, m, bits + i / 8);
    }
}

static int bytes_cmp(const uint8_t *x, int32_t lx, const uint8_t *y, int32_t ly) {
    int c = memcmp(x, y, (size_t)PL_MIN(lx, ly));
    if (c) return c;
    return lx < ly ? -1 : lx > ly;
}

static void cmp_run_bytes(int op, const pl_datum *a, const pl_datum *b, uint8_t *bits, int64_t n) {
    uint8_t t[CHUNK];
    const uint8_t *sx = NULL, *sy = NULL;
    int32_t lx = 0, ly = 0;
    if (a->is_scalar) sx = (const uint8_t *)a->scalar.str, lx = (int32_t)a->scalar.str_len;
    if (b->is_scalar) sy = (const uint8_t *)b->scalar.str, ly = (int32_t)b->scalar.str_len;
    bool fixed = dtype(a)->id == PL_TYPE_FIXED_BINARY;
    int32_t w = dtype(a)->byte_width;
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = PL_MIN(CHUNK, n - i);
        if ((op == CMP_EQ || op == CMP_NE) && (a->is_scalar || b->is_scalar) && !fixed) {
            const pl_datum *arr = a->is_scalar ? b : a;
            const uint8_t *s = a->is_scalar ? sx : sy;
            int32_t ls = a->is_scalar ? lx : ly;
            const int32_t *o = pl_array_offsets(arr->array);
            const uint8_t *d = arr->array->data ? arr->array->data->data : NULL;
            for (int64_t j = 0; j < m; j++) {
                int32_t s0 = o[i + j], len = o[i + j + 1] - s0;
                bool eq = len == ls && (ls == 0 || memcmp(d + s0, s, (size_t)ls) == 0);
                t[j] = (uint8_t)(op == CMP_EQ ? eq : !eq);
            }
        } else {
            for (int64_t j = 0; j < m; j++) {
                const uint8_t *x = sx, *y = sy;
                int32_t nx = lx, ny = ly;
                if (!a->is_scalar) {
                    if (fixed) x = a->array->values->data + (a->array->offset + i + j) * w, nx = w;
                    else x = pl_array_bytes(a->array, i + j, &nx);
                }
                if (!b->is_scalar) {
                    if (fixed) y = b->array->values->data + (b->array->offset + i + j) * w, ny = w;
                    else y = pl_array_bytes(b->array, i + j, &ny);
                }
                int c = bytes_cmp(x, nx, y, ny);
                t[j] = op == CMP_EQ ? c == 0 : op == CMP_NE ? c != 0 : op == CMP_LT ? c < 0
                       : op == CMP_LE ? c <= 0 : op == CMP_GT ? c > 0 : c >= 0;
            }
        }
        pack_bits(t, m, bits + i / 8);
    }
}

static bool bool_at(const pl_datum *d, int64_t i) {
    if (d->is_scalar) return d->scalar.v.b;
    return pl_bit_get(d->array->values->data, d->array->offset + i);
}

static void cmp_run_bool(int op, const pl_datum *a, const pl_datum *b, uint8_t *bits, int64_t n) {
    uint8_t t[CHUNK];
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = PL_MIN(CHUNK, n - i);
        for (int64_t j = 0; j < m; j++) {
            int x = bool_at(a, i + j), y = bool_at(b, i + j);
            t[j] = op == CMP_EQ ? x == y : op == CMP_NE ? x != y : op == CMP_LT ? x < y
                   : op == CMP_LE ? x <= y : op == CMP_GT ? x > y : x >= y;
        }
        pack_bits(t, m, bits + i / 8);
    }
}

/* Values bits of the comparison for all rows (NULL slots arbitrary). */
static pl_status compare_bits(int op, const pl_datum *a, const pl_datum *b, int64_t n,
                              uint8_t *bits, pl_error *err) {
    const pl_type *t = dtype(a);
    uint8_t sa[16], sb[16];
    bool as = a->is_scalar, bs = b->is_scalar;
    switch (t->id) {
    case PL_TYPE_BOOL: cmp_run_bool(op, a, b, bits, n); return PL_OK;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: cmp_run_bytes(op, a, b, bits, n); return PL_OK;
    case PL_TYPE_DECIMAL128:
    case PL_TYPE_INTERVAL:
        cmp_run_wide(op, t->id == PL_TYPE_INTERVAL, dptr(a, sa), as, dptr(b, sb), bs, bits, n);
        return PL_OK;
    case PL_TYPE_LIST:
    case PL_TYPE_MAP:
    case PL_TYPE_STRUCT: {
        /* element (field, entry) by element, a shorter prefix first, NULL elements equal and last (DuckDB);
         * a list scalar is always NULL (the result's validity decides) */
        if (as || bs) {
            memset(bits, 0, (size_t)pl_bits_bytes(n));
            return PL_OK;
        }
        for (int64_t i = 0; i < n; i++) {
            int c = pl_array_is_valid(a->array, i) && pl_array_is_valid(b->array, i)
                        ? pl_array_value_compare(a->array, i, b->array, i, false)
                        : 0;
            bool r = op == CMP_EQ ? c == 0 : op == CMP_NE ? c != 0 : op == CMP_LT ? c < 0
                     : op == CMP_LE ? c <= 0 : op == CMP_GT ? c > 0 : c >= 0;
            pl_bit_put(bits, i, r);
        }
        return PL_OK;
    }
    default: break;
    }
    const void *pa = dptr(a, sa), *pb = dptr(b, sb);
    switch (t->id) {
    case PL_TYPE_INT8: cmp_run_i8(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_INT16: cmp_run_i16(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: cmp_run_i32(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: cmp_run_i64(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_UINT8: cmp_run_u8(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_UINT16: cmp_run_u16(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_UINT32: cmp_run_u32(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_UINT64: cmp_run_u64(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_FLOAT32: cmp_run_f32(op, pa, as, pb, bs, bits, n); break;
    case PL_TYPE_FLOAT64: cmp_run_f64(op, pa, as, pb, bs, bits, n); break;
    default: {
        char tn[64];
        PL_FAIL(err, PL_ERR_TYPE, "cannot compare %s values", pl_xtype_name(t, tn, sizeof tn));
    }
    }
    return PL_OK;
}

pl_status pl_kcompare(int op, const pl_datum *a, const pl_datum *b, int64_t n, pl_datum *out,
                      pl_error *err) {
    pl_datum args[2] = {*a, *b};
    /* a NULL constant, or a column of the NULL type (no values buffer): every row is NULL */
    if ((a->is_scalar && a->scalar.is_null) || (b->is_scalar && b->scalar.is_null) ||
        dtype(a)->id == PL_TYPE_NA || dtype(b)->id == PL_TYPE_NA) {
        pl_array *r;
        PL_TRY(pl_array_new_nulls(pl_type_simple(PL_TYPE_BOOL), n, &r, err));
        pl_datum_set_array(out, r);
        return PL_OK;
    }
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(result_validity(args, 2, n, &validity, err));
    pl_status st = pl_xbuf_new(pl_bits_bytes(n), &values, err);
    if (!st) st = compare_bits(op, a, b, n, values->data, err);
    return kernel_result(st, pl_type_simple(PL_TYPE_BOOL), n, validity, values, out, err);
}

#define CMP_KERNEL(NAME, OP)                                                                       \
    static pl_status NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,             \
                          int64_t n_rows, pl_datum *out, pl_error *err) {                          \
        PL_UNUSED(ec);                                                                             \
        PL_UNUSED(call);                                                                           \
        return pl_kcompare(OP, &args[0], &args[1], n_rows, out, err);                              \
    }
CMP_KERNEL(k_eq, CMP_EQ)
CMP_KERNEL(k_ne, CMP_NE)
CMP_KERNEL(k_lt, CMP_LT)
CMP_KERNEL(k_le, CMP_LE)
CMP_KERNEL(k_gt, CMP_GT)
CMP_KERNEL(k_ge, CMP_GE)

/* True when the literal converts to type t and back without change (so comparing in t is
 * exact and a narrow column need not be widened). */
static bool literal_fits(const pl_bexpr *lit, pl_type *t) {
    if (lit->lit.is_null) return true;
    pl_value v, back;
    pl_value_init_null(&v);
    pl_value_init_null(&back);
    bool ok = false;
    if (pl_cast_value(&lit->lit, t, false, &v, NULL) == PL_OK &&
        pl_cast_value(&v, lit->lit.type, false, &back, NULL) == PL_OK) {
        switch (back.type->id) {
        case PL_TYPE_FLOAT32:
        case PL_TYPE_FLOAT64: ok = back.v.f == lit->lit.v.f; break;
        case PL_TYPE_DECIMAL128:
            ok = back.v.dec.lo == lit->lit.v.dec.lo && back.v.dec.hi == lit->lit.v.dec.hi;
            break;
        case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32: case PL_TYPE_UINT64:
            ok = back.v.u == lit->lit.v.u;
            break;
        default: ok = back.v.i == lit->lit.v.i; break;
        }
    }
    pl_value_reset(&v);
    pl_value_reset(&back);
    return ok;
}

/* Brings args [from, to) to one comparable type: string literals read as the other type,
 * NULL literals take it, numeric literals that fit a narrower column stay narrow. *out_t gets
 * the common type (a new reference). */
static pl_status unify_args(pl_bexpr *call, int32_t from, int32_t to, bool compare,
                            pl_type **out_t, pl_error *err) {
    PL_TRY(cast_string_literals(call, from, to, err));
    /* the common type of the non-literal args first, then of all */
    pl_type *t = NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t i = from; i < to; i++) {
            pl_bexpr *b = call->args[i];
            if (pass == 0 && is_lit(b)) continue;
            if (b->type->id == PL_TYPE_NA) continue;
            if (!t) {
                t = pl_type_retain(b->type);
                continue;
            }
            if (pass == 1 && is_lit(b) && pl_type_is_numeric(t->id) &&
                pl_type_is_numeric(b->type->id) && literal_fits(b, t))
                continue;
            pl_type *u = pl_type_common_super(t, b->type);
            if (!u) {
                char ta[64], tb[64];
                pl_type_release(t);
                if (compare)
                    PL_FAIL(err, PL_ERR_TYPE, "cannot compare %s with %s",
                            pl_xtype_name(call->args[from]->type, ta, sizeof ta),
                            pl_xtype_name(b->type, tb, sizeof tb));
                return type_error2(call, err);
            }
            pl_type_release(t);
            t = u;
        }
    }
    if (!t) t = pl_type_simple(PL_TYPE_NA);
    for (int32_t i = from; i < to; i++) {
        pl_status st = pl_bexpr_wrap_cast(&call->args[i], t, err);
        if (st) {
            pl_type_release(t);
            return st;
        }
    }
    *out_t = t;
    return PL_OK;
}

static bool comparable(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_LIST:
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP:
    case PL_TYPE_DICTIONARY: return false;
    default: return true;
    }
}

/* ---------------------------------------------------------------- moving constants */

static pl_status k_distinct(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err);
static pl_status k_not_distinct(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err);
static bool is_signed_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_INT64; }

enum { MC_EQ, MC_NE, MC_LT, MC_LE, MC_GT, MC_GE, MC_DISTINCT, MC_NOT_DISTINCT, MC_NONE };
static const char *const MC_FN[] = {"eq", "ne", "lt", "le", "gt", "ge", "is_distinct_from",
                                    "is_not_distinct_from"};

static int mc_op(pl_kernel_fn x) {
    return x == k_eq   ? MC_EQ
           : x == k_ne ? MC_NE
           : x == k_lt ? MC_LT
           : x == k_le ? MC_LE
           : x == k_gt ? MC_GT
           : x == k_ge ? MC_GE
           : x == k_distinct     ? MC_DISTINCT
           : x == k_not_distinct ? MC_NOT_DISTINCT
                                 : MC_NONE;
}
/* c CMP x is x MIRROR(CMP) c */
static int mc_mirror(int op) {
    return op == MC_LT ? MC_GT : op == MC_GT ? MC_LT : op == MC_LE ? MC_GE : op == MC_GE ? MC_LE : op;
}

/* the range of an integer type */
static void int_range(pl_type_id id, __int128 *lo, __int128 *hi) {
    int bits = id == PL_TYPE_INT8 || id == PL_TYPE_UINT8     ? 8
               : id == PL_TYPE_INT16 || id == PL_TYPE_UINT16 ? 16
               : id == PL_TYPE_INT32 || id == PL_TYPE_UINT32 ? 32
                                                              : 64;
    if (is_signed_int(id)) {
        *hi = ((__int128)1 << (bits - 1)) - 1;
        *lo = -*hi - 1;
    } else {
        *lo = 0;
        *hi = ((__int128)1 << bits) - 1;
    }
}

static __int128 lit_i128(const pl_bexpr *b) {
    return is_signed_int(tid(b)) ? (__int128)b->lit.v.i : (__int128)b->lit.v.u;
}

/* One step of moving constants out of a comparison: x op c1 CMP c2 (either side), with op
 * + - * on an integer type T and non-NULL constants c1, c2 of type T, becomes x CMP' c2'
 * where c2' solves the comparison for x exactly: tinyint_col + 5 > 0 is tinyint_col > -5, so
 * it does not overflow for 127, like DuckDB, which rewrites so. When c2' does not fit T (or x
 * * c1 = c2 has no integer solution), = and <> compare x with it in a wider type (false or
 * true, NULL for a NULL x) for types of at most 32 bits; other comparisons keep the arithmetic
 * (it overflows, as in DuckDB). Returns true when it rewrote call. */
static bool move_constant_step(pl_bexpr *call, pl_error *err, pl_status *st) {
    int op = mc_op(call->fn->exec);
    if (op == MC_NONE || call->n_args != 2) return false;
    int li = is_lit(call->args[1]) ? 1 : is_lit(call->args[0]) ? 0 : -1;
    if (li < 0 || call->args[li]->lit.is_null) return false;
    pl_bexpr *a = call->args[1 - li], *c2 = call->args[li];
    if (a->kind != PL_BEXPR_CALL || a->n_args != 2 || a->state) return false;
    pl_kernel_fn x = a->fn->exec;
    int arith = x == k_add_any ? OP_ADD : x == k_sub_any ? OP_SUB : x == k_mul_any ? OP_MUL : -1;
    pl_type_id t = tid(a);
    if (arith < 0 || !pl_type_is_integer(t) || tid(c2) != t || tid(a->args[0]) != t ||
        tid(a->args[1]) != t)
        return false;
    int ci = is_lit(a->args[1]) ? 1 : is_lit(a->args[0]) ? 0 : -1;
    if (ci < 0 || a->args[ci]->lit.is_null) return false;
    if (li == 0) op = mc_mirror(op); /* now: a op c2 */
    __int128 v1 = lit_i128(a->args[ci]), v2 = lit_i128(c2), sol = 0;
    bool exact = true, flip = false;
    switch (arith) {
    case OP_ADD: sol = v2 - v1; break;
    case OP_SUB:
        if (ci == 1) {
            sol = v2 + v1;
        } else {
            sol = v1 - v2; /* c1 - x CMP c2: x CMP' c1 - c2, the order reversed */
            flip = true;
        }
        break;
    default:
        if (v1 == 0) return false;
        exact = v2 % v1 == 0;
        sol = v2 / v1;
        flip = v1 < 0;
        break;
    }
    if (flip) op = mc_mirror(op);
    __int128 lo, hi;
    int_range(t, &lo, &hi);
    bool fits = exact && sol >= lo && sol <= hi;
    pl_type *wide = NULL;
    if (!fits) {
        /* x = c2' / x <> c2' with c2' outside T or not an integer: compared in a wider type
         * (exact for types of up to 32 bits) */
        if ((op != MC_EQ && op != MC_NE) || lo < INT32_MIN || hi > UINT32_MAX) return false;
        wide = pl_type_simple(exact ? PL_TYPE_INT64 : PL_TYPE_FLOAT64);
    }
    const pl_func_def *fn = pl_func_lookup(MC_FN[op]);
    if (!fn) {
        pl_type_release(wide);
        return false;
    }
    /* c2 becomes the solved constant (a typed one: no longer an integer literal) */
    if (wide) {
        pl_type_release(c2->type);
        pl_type_release(c2->lit.type);
        c2->type = pl_type_retain(wide);
        c2->lit.type = pl_type_retain(wide);
        if (exact)
            c2->lit.v.i = (int64_t)sol;
        else
            c2->lit.v.f = (double)v2 / (double)v1;
    } else if (is_signed_int(t)) {
        c2->lit.v.i = (int64_t)sol;
    } else {
        c2->lit.v.u = (uint64_t)sol;
    }
    c2->cast_lit = true;
    pl_bexpr *xe = a->args[1 - ci];
    a->args[1 - ci] = NULL; /* a and its constant are freed, x moves up */
    pl_bexpr_free(a);
    call->args[0] = xe;
    call->args[1] = c2;
    call->fn = fn;
    if (wide) {
        *st = pl_bexpr_wrap_cast(&call->args[0], wide, err);
        pl_type_release(wide);
        return false; /* x is under a cast now: nothing more to move */
    }
    return true;
}

static pl_status move_constants(pl_bexpr *call, pl_error *err) {
    pl_status st = PL_OK;
    while (move_constant_step(call, err, &st) && !st) {
    }
    return st;
}

static pl_status b_compare(pl_bexpr *call, pl_error *err) {
    pl_type *t;
    PL_TRY(unify_args(call, 0, call->n_args, true, &t, err));
    bool ok = comparable(t) || ((t->id == PL_TYPE_LIST || t->id == PL_TYPE_STRUCT || t->id == PL_TYPE_MAP) &&
                                call->n_args == 2); /* = <> < ...; maps entry by entry, like DuckDB */
    pl_type_release(t);
    if (!ok) return type_error2(call, err);
    PL_TRY(move_constants(call, err));
    return set_type(call, pl_type_simple(PL_TYPE_BOOL));
}

/* is [not] distinct from: NULL-aware equality, never NULL */
static pl_status distinct_exec(bool distinct, const pl_datum *a, const pl_datum *b, int64_t n,
                               pl_datum *out, pl_error *err) {
    pl_buf *values = NULL;
    PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &values, err));
    uint8_t *r = values->data;
    /* NULL constants and columns of the NULL type (no values buffer) are NULL everywhere */
    bool an = (a->is_scalar && a->scalar.is_null) || dtype(a)->id == PL_TYPE_NA,
         bn = (b->is_scalar && b->scalar.is_null) || dtype(b)->id == PL_TYPE_NA;
    if (an || bn) {
        const pl_datum *o = an ? b : a;
        bool other_null_scalar = an && bn;
        for (int64_t i = 0; i < n; i++) {
            bool same = other_null_scalar || !valid_at(o, i); /* both NULL */
            pl_bit_put(r, i, distinct ? !same : same);
        }
    } else {
        pl_status st = compare_bits(CMP_EQ, a, b, n, r, err);
        if (st) {
            pl_buf_release(values);
            return st;
        }
        for (int64_t i = 0; i < n; i++) {
            bool va = valid_at(a, i), vb = valid_at(b, i);
            bool same = (va && vb) ? pl_bit_get(r, i) : (va == vb);
            pl_bit_put(r, i, distinct ? !same : same);
        }
    }
    pl_array *res;
    PL_TRY(pl_xarray_new(pl_type_simple(PL_TYPE_BOOL), n, NULL, values, NULL, &res, err));
    pl_datum_set_array(out, res);
    return PL_OK;
}

static pl_status k_distinct(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return distinct_exec(true, &args[0], &args[1], n, out, err);
}
static pl_status k_not_distinct(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return distinct_exec(false, &args[0], &args[1], n, out, err);
}

/* Generic three-way comparison of row i of a and row j of b (same type, both valid). */
static int value_cmp(const pl_array *a, int64_t i, const pl_array *b, int64_t j) {
    const pl_type *t = a->type;
    switch (t->id) {
    case PL_TYPE_BOOL: {
        int x = pl_bit_get(a->values->data, a->offset + i), y = pl_bit_get(b->values->data, b->offset + j);
        return x - y;
    }
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t lx, ly;
        const uint8_t *x = pl_array_bytes(a, i, &lx), *y = pl_array_bytes(b, j, &ly);
        return bytes_cmp(x, lx, y, ly);
    }
    case PL_TYPE_FIXED_BINARY: {
        int32_t w = t->byte_width;
        return memcmp(a->values->data + (a->offset + i) * w, b->values->data + (b->offset + j) * w,
                      (size_t)w);
    }
    default: break;
    }
    const uint8_t *x = (const uint8_t *)pl_array_values_ptr(a) + i * t->byte_width;
    const uint8_t *y = (const uint8_t *)pl_array_values_ptr(b) + j * t->byte_width;
    switch (t->id) {
#define C3(ID, T)                                                                                  \
    case ID: {                                                                                     \
        T u, v;                                                                                    \
        memcpy(&u, x, sizeof u);                                                                   \
        memcpy(&v, y, sizeof v);                                                                   \
        return u < v ? -1 : u > v;                                                                 \
    }
        C3(PL_TYPE_INT8, int8_t)
        C3(PL_TYPE_INT16, int16_t)
        C3(PL_TYPE_INT32, int32_t)
        C3(PL_TYPE_DATE32, int32_t)
        C3(PL_TYPE_INT64, int64_t)
        C3(PL_TYPE_TIME64, int64_t)
        C3(PL_TYPE_TIMESTAMP, int64_t)
        C3(PL_TYPE_UINT8, uint8_t)
        C3(PL_TYPE_UINT16, uint16_t)
        C3(PL_TYPE_UINT32, uint32_t)
        C3(PL_TYPE_UINT64, uint64_t)
#undef C3
    case PL_TYPE_FLOAT32: {
        float u, v;
        memcpy(&u, x, 4);
        memcpy(&v, y, 4);
        return FEQ(u, v) ? 0 : FLT(u, v) ? -1 : 1;
    }
    case PL_TYPE_FLOAT64: {
        double u, v;
        memcpy(&u, x, 8);
        memcpy(&v, y, 8);
        return FEQ(u, v) ? 0 : FLT(u, v) ? -1 : 1;
    }
    case PL_TYPE_DECIMAL128: {
        i128 u = load_i128(x), v = load_i128(y);
        return u < v ? -1 : u > v;
    }
    case PL_TYPE_INTERVAL: {
        i128 u = interval_key(x), v = interval_key(y);
        return u < v ? -1 : u > v;
    }
    default: return 0;
    }
}

/* ---------------------------------------------------------------- logic */

/* Values and validity of a BOOL datum as bitmaps from bit 0 (n bits; values masked by
 * validity). Scalars expand. Caller frees both with pl_free. */
static pl_status bool_bits(const pl_datum *d, int64_t n, uint8_t **val, uint8_t **vld,
                           pl_error *err) {
    int64_t nb = pl_bits_bytes(n) + 8;
    uint8_t *v = pl_malloc((size_t)nb), *k = pl_malloc((size_t)nb);
    if (!v || !k) {
        pl_free(v);
        pl_free(k);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating a boolean expression");
    }
    if (d->is_scalar) {
        bool valid = !d->scalar.is_null && d->scalar.type->id == PL_TYPE_BOOL;
        memset(k, valid ? 0xff : 0, (size_t)nb);
        memset(v, valid && d->scalar.v.b ? 0xff : 0, (size_t)nb);
    } else {
        const pl_array *a = d->array;
        if (a->type->id == PL_TYPE_NA) {
            memset(k, 0, (size_t)nb);
            memset(v, 0, (size_t)nb);
        } else {
            pl_xbits_copy(v, a->values->data, a->offset, n);
            if (a->validity) {
                pl_xbits_copy(k, a->validity->data, a->offset, n);
                for (int64_t i = 0; i < pl_bits_bytes(n); i++) v[i] &= k[i];
            } else {
                memset(k, 0xff, (size_t)nb);
            }
        }
    }
    *val = v;
    *vld = k;
    return PL_OK;
}

static pl_status bits_result(int64_t n, const uint8_t *val, const uint8_t *vld, pl_datum *out,
                             pl_error *err) {
    pl_buf *values = NULL, *validity = NULL;
    int64_t nb = pl_bits_bytes(n);
    PL_TRY(pl_xbuf_new(nb, &values, err));
    memcpy(values->data, val, (size_t)nb);
    if (n & 7) values->data[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    if (vld) {
        pl_status st = pl_xbuf_new(nb, &validity, err);
        if (st) {
            pl_buf_release(values);
            return st;
        }
        memcpy(validity->data, vld, (size_t)nb);
        if (n & 7) validity->data[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    }
    pl_array *r;
    PL_TRY(pl_xarray_new(pl_type_simple(PL_TYPE_BOOL), n, validity, values, NULL, &r, err));
    pl_datum_set_array(out, r);
    return PL_OK;
}

pl_status pl_klogic(bool is_and, const pl_datum *a, const pl_datum *b, int64_t n, pl_datum *out,
                    pl_error *err) {
    uint8_t *av, *ak, *bv, *bk;
    PL_TRY(bool_bits(a, n, &av, &ak, err));
    pl_status st = bool_bits(b, n, &bv, &bk, err);
    if (st) {
        pl_free(av);
        pl_free(ak);
        return st;
    }
    int64_t nb = pl_bits_bytes(n);
    for (int64_t i = 0; i < nb; i++) {
        uint8_t x = av[i], xk = ak[i], y = bv[i], yk = bk[i];
        if (is_and) {
            av[i] = x & y;
            ak[i] = (uint8_t)((xk & yk) | (xk & ~x) | (yk & ~y));
        } else {
            av[i] = x | y;
            ak[i] = (uint8_t)((xk & yk) | x | y);
        }
    }
    st = bits_result(n, av, ak, out, err);
    pl_free(av);
    pl_free(ak);
    pl_free(bv);
    pl_free(bk);
    return st;
}

static pl_status b_logic(pl_bexpr *call, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id x = tid(call->args[i]);
        if (x == PL_TYPE_NA || (x == PL_TYPE_UTF8 && is_lit(call->args[i])))
            PL_TRY(pl_bexpr_wrap_cast(&call->args[i], pl_type_simple(PL_TYPE_BOOL), err));
        else if (x != PL_TYPE_BOOL) return type_error2(call, err);
    }
    return set_type(call, pl_type_simple(PL_TYPE_BOOL));
}

static pl_status logic_exec(bool is_and, const pl_datum *args, int32_t n_args, int64_t n,
                            pl_datum *out, pl_error *err) {
    pl_datum acc = {0};
    PL_TRY(pl_klogic(is_and, &args[0], &args[1], n, &acc, err));
    for (int32_t i = 2; i < n_args; i++) {
        pl_datum next = {0};
        pl_status st = pl_klogic(is_and, &acc, &args[i], n, &next, err);
        pl_datum_reset(&acc);
        if (st) return st;
        acc = next;
    }
    pl_datum_reset(out);
    *out = acc;
    return PL_OK;
}

static pl_status k_and(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    return logic_exec(true, args, call->n_args, n, out, err);
}
static pl_status k_or(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                      pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    return logic_exec(false, args, call->n_args, n, out, err);
}

static pl_status k_not(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    uint8_t *v, *k;
    PL_TRY(bool_bits(&args[0], n, &v, &k, err));
    for (int64_t i = 0; i < pl_bits_bytes(n); i++) v[i] = (uint8_t)(~v[i] & k[i]);
    bool all_valid = args[0].is_scalar || !args[0].array->validity;
    pl_status st = bits_result(n, v, all_valid ? NULL : k, out, err);
    pl_free(v);
    pl_free(k);
    return st;
}

static pl_status b_bool1(pl_bexpr *call, pl_error *err) {
    pl_type_id x = tid(call->args[0]);
    if (x == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(&call->args[0], pl_type_simple(PL_TYPE_BOOL), err));
    else if (x != PL_TYPE_BOOL) return type_error2(call, err);
    return set_type(call, pl_type_simple(PL_TYPE_BOOL));
}

static pl_status b_any_to_bool(pl_bexpr *call, pl_error *err) {
    PL_UNUSED(err);
    return set_type(call, pl_type_simple(PL_TYPE_BOOL));
}

/* is_null / is_not_null: any type, dictionary arrays read in place */
static pl_status null_test(bool want_null, const pl_datum *d, int64_t n, pl_datum *out,
                           pl_error *err) {
    pl_buf *values;
    PL_TRY(pl_xbuf_new(pl_bits_bytes(n), &values, err));
    uint8_t *r = values->data;
    int64_t nb = pl_bits_bytes(n);
    if (d->is_scalar) {
        bool is_null = d->scalar.is_null;
        memset(r, is_null == want_null ? 0xff : 0, (size_t)nb);
    } else {
        pl_array *a = d->array;
        if (a->type->id == PL_TYPE_NA) {
            memset(r, want_null ? 0xff : 0, (size_t)nb);
        } else if (a->type->id == PL_TYPE_DICTIONARY) {
            int32_t *idx;
            pl_status st = pl_dict_indices_i32(a, &idx, err);
            if (st) {
                pl_buf_release(values);
                return st;
            }
            for (int64_t i = 0; i < n; i++) {
                bool valid = idx[i] >= 0 && pl_array_is_valid(a->dictionary, idx[i]);
                pl_bit_put(r, i, valid != want_null);
            }
            pl_free(idx);
        } else if (!a->validity) {
            memset(r, want_null ? 0 : 0xff, (size_t)nb);
        } else {
            pl_xbits_copy(r, a->validity->data, a->offset, n);
            if (want_null)
                for (int64_t i = 0; i < nb; i++) r[i] = (uint8_t)~r[i];
        }
    }
    if (n & 7) r[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    pl_array *res;
    PL_TRY(pl_xarray_new(pl_type_simple(PL_TYPE_BOOL), n, NULL, values, NULL, &res, err));
    pl_datum_set_array(out, res);
    return PL_OK;
}

static pl_status k_is_null(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return null_test(true, &args[0], n, out, err);
}
static pl_status k_is_not_null(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                               int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return null_test(false, &args[0], n, out, err);
}

static pl_status truth_test(bool want, bool negate, const pl_datum *d, int64_t n, pl_datum *out,
                            pl_error *err) {
    uint8_t *v, *k;
    PL_TRY(bool_bits(d, n, &v, &k, err));
    for (int64_t i = 0; i < pl_bits_bytes(n); i++) {
        uint8_t r = want ? v[i] & k[i] : (uint8_t)(~v[i] & k[i]);
        v[i] = negate ? (uint8_t)~r : r;
    }
    pl_status st = bits_result(n, v, NULL, out, err);
    pl_free(v);
    pl_free(k);
    return st;
}

static pl_status k_is_true(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return truth_test(true, false, &args[0], n, out, err);
}
static pl_status k_is_false(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return truth_test(false, false, &args[0], n, out, err);
}
static pl_status k_is_not_true(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                               int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return truth_test(true, true, &args[0], n, out, err);
}
static pl_status k_is_not_false(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    return truth_test(false, true, &args[0], n, out, err);
}

/* ---------------------------------------------------------------- IN */

/* A hash set of the literal items' bytes (fixed-width values in their storage bytes, floats
 * canonicalised, strings as bytes). */
typedef struct in_set {
    int64_t cap; /* power of two */
    int64_t *slot; /* index into items + 1, 0 = empty */
    uint64_t *hash;
    int64_t n_items;
    int64_t *item_off;
    int32_t *item_len;
    uint8_t *pool;
    bool has_null;
    pl_type_id tid;
    int32_t width;
    /* integer-like values of up to 8 bytes: keys as zero-extended u64 */
    bool u64_keys;
    uint64_t *ukey; /* by slot */
    uint64_t few[16];
    int32_t n_few; /* > 0: compare against few[] directly */
} in_set;

static void in_set_free(void *p) {
    in_set *s = p;
    if (!s) return;
    pl_free(s->slot);
    pl_free(s->hash);
    pl_free(s->item_off);
    pl_free(s->item_len);
    pl_free(s->pool);
    pl_free(s->ukey);
    pl_free(s);
}

static uint64_t key_u64(const uint8_t *k, int32_t w) {
    uint64_t x = 0;
    memcpy(&x, k, (size_t)w);
    return x;
}

static bool in_has_u64(const in_set *s, uint64_t x) {
    int64_t mask = s->cap - 1;
    for (int64_t p = (int64_t)(pl_hash_u64(x) & (uint64_t)mask);; p = (p + 1) & mask) {
        if (!s->slot[p]) return false;
        if (s->ukey[p] == x) return true;
    }
}

static uint64_t key_hash(const uint8_t *p, int64_t n) {
    if (n <= 8) {
        uint64_t x = 0;
        memcpy(&x, p, (size_t)n);
        return pl_hash_u64(x ^ ((uint64_t)n << 59));
    }
    return pl_hash_bytes(p, n);
}

/* canonical key bytes of a fixed-width value (floats: -0.0 -> 0.0, one NaN) */
static void canon(pl_type_id id, uint8_t *k) {
    if (id == PL_TYPE_FLOAT64) {
        double d;
        memcpy(&d, k, 8);
        if (d == 0) d = 0;
        if (d != d) d = NAN;
        memcpy(k, &d, 8);
    } else if (id == PL_TYPE_FLOAT32) {
        float f;
        memcpy(&f, k, 4);
        if (f == 0) f = 0;
        if (f != f) f = NAN;
        memcpy(k, &f, 4);
    }
}

static bool in_set_has(const in_set *s, const uint8_t *k, int32_t len) {
    uint64_t h = key_hash(k, len);
    int64_t mask = s->cap - 1;
    for (int64_t p = (int64_t)(h & (uint64_t)mask);; p = (p + 1) & mask) {
        int64_t e = s->slot[p];
        if (!e) return false;
        if (s->hash[p] == h && s->item_len[e - 1] == len &&
            memcmp(s->pool + s->item_off[e - 1], k, (size_t)len) == 0)
            return true;
    }
}

static pl_status in_set_build(pl_bexpr *call, pl_error *err) {
    int32_t n_items = call->n_args - 1;
    in_set *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building an IN list");
    const pl_type *t = call->args[0]->type;
    s->tid = t->id;
    s->width = t->byte_width;
    int64_t pool_bytes = 0;
    for (int32_t i = 0; i < n_items; i++) {
        const pl_value *v = &call->args[i + 1]->lit;
        if (v->is_null) continue;
        pool_bytes += pl_type_is_varlen(t->id) || t->id == PL_TYPE_FIXED_BINARY ? v->str_len : 16;
    }
    s->cap = 16;
    while (s->cap < 2 * (int64_t)n_items) s->cap *= 2;
    s->slot = pl_calloc((size_t)s->cap, sizeof *s->slot);
    s->hash = pl_calloc((size_t)s->cap, sizeof *s->hash);
    s->item_off = pl_calloc((size_t)n_items + 1, sizeof *s->item_off);
    s->item_len = pl_calloc((size_t)n_items + 1, sizeof *s->item_len);
    s->pool = pl_malloc((size_t)pool_bytes + 1);
    if (!s->slot || !s->hash || !s->item_off || !s->item_len || !s->pool) {
        in_set_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory building an IN list");
    }
    int64_t off = 0;
    for (int32_t i = 0; i < n_items; i++) {
        const pl_value *v = &call->args[i + 1]->lit;
        if (v->is_null) {
            s->has_null = true;
            continue;
        }
        uint8_t *k = s->pool + off;
        int32_t len;
        if (pl_type_is_varlen(t->id) || t->id == PL_TYPE_FIXED_BINARY) {
            len = (int32_t)v->str_len;
            if (len) memcpy(k, v->str, (size_t)len);
        } else if (t->id == PL_TYPE_BOOL) {
            k[0] = v->v.b;
            len = 1;
        } else {
            len = t->byte_width;
            pl_value_store(v, k);
            canon(t->id, k);
        }
        if (in_set_has(s, k, len)) continue;
        uint64_t h = key_hash(k, len);
        int64_t mask = s->cap - 1, p = (int64_t)(h & (uint64_t)mask);
        while (s->slot[p]) p = (p + 1) & mask;
        s->item_off[s->n_items] = off;
        s->item_len[s->n_items] = len;
        s->n_items++;
        s->slot[p] = s->n_items;
        s->hash[p] = h;
        off += len;
    }
    s->u64_keys = !pl_type_is_varlen(t->id) && t->id != PL_TYPE_BOOL && t->id != PL_TYPE_FIXED_BINARY &&
                  t->id != PL_TYPE_FLOAT32 && t->id != PL_TYPE_FLOAT64 && t->byte_width <= 8;
    if (s->u64_keys) {
        if (s->n_items <= 16) {
            for (int64_t i = 0; i < s->n_items; i++)
                s->few[i] = key_u64(s->pool + s->item_off[i], t->byte_width);
            s->n_few = (int32_t)s->n_items;
        } else {
            s->ukey = pl_calloc((size_t)s->cap, sizeof *s->ukey);
            if (!s->ukey) {
                in_set_free(s);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory building an IN list");
            }
            memset(s->slot, 0, (size_t)s->cap * sizeof *s->slot);
            int64_t mask = s->cap - 1;
            for (int64_t i = 0; i < s->n_items; i++) {
                uint64_t x = key_u64(s->pool + s->item_off[i], t->byte_width);
                int64_t p = (int64_t)(pl_hash_u64(x) & (uint64_t)mask);
                while (s->slot[p]) p = (p + 1) & mask;
                s->slot[p] = i + 1;
                s->ukey[p] = x;
            }
        }
    }
    call->state = s;
    call->free_state = in_set_free;
    return PL_OK;
}

static pl_status b_in(pl_bexpr *call, pl_error *err) {
    pl_type *t;
    PL_TRY(unify_args(call, 0, call->n_args, true, &t, err));
    bool ok = comparable(t) || t->id == PL_TYPE_LIST || t->id == PL_TYPE_STRUCT ||
              t->id == PL_TYPE_MAP; /* equalities, element by element */
    pl_type_release(t);
    if (!ok) return type_error2(call, err);
    PL_TRY(set_type(call, pl_type_simple(PL_TYPE_BOOL)));
    bool all_lit = true;
    for (int32_t i = 1; i < call->n_args; i++) all_lit &= is_lit(call->args[i]);
    if (all_lit && call->n_args > 2) PL_TRY(in_set_build(call, err));
    return PL_OK;
}

static pl_status k_in(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                      pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    const in_set *s = call->state;
    if (!s) {
        /* items that are not all literals: OR of equalities (three-valued) */
        pl_datum acc = {0};
        PL_TRY(pl_kcompare(CMP_EQ, &args[0], &args[1], n, &acc, err));
        for (int32_t i = 2; i < call->n_args; i++) {
            pl_datum eq = {0}, next = {0};
            pl_status st = pl_kcompare(CMP_EQ, &args[0], &args[i], n, &eq, err);
            if (!st) st = pl_klogic(false, &acc, &eq, n, &next, err);
            pl_datum_reset(&eq);
            pl_datum_reset(&acc);
            if (st) return st;
            acc = next;
        }
        pl_datum_reset(out);
        *out = acc;
        return PL_OK;
    }
    const pl_datum *v = &args[0];
    pl_array *a = v->array; /* the value is an array: all-scalar calls are folded */
    pl_buf *values = NULL, *validity = NULL;
    PL_TRY(pl_xbuf_zeroed(pl_bits_bytes(n), &values, err));
    uint8_t *r = values->data;
    const pl_type *t = a->type;
    if (pl_type_is_varlen(t->id)) {
        for (int64_t i = 0; i < n; i++) {
            int32_t len;
            const uint8_t *p = pl_array_bytes(a, i, &len);
            if (in_set_has(s, p, len)) pl_bit_set(r, i);
        }
    } else if (t->id == PL_TYPE_BOOL) {
        for (int64_t i = 0; i < n; i++) {
            uint8_t k = pl_bit_get(a->values->data, a->offset + i);
            if (in_set_has(s, &k, 1)) pl_bit_set(r, i);
        }
    } else if (s->u64_keys) {
        int32_t w = t->byte_width;
        const uint8_t *p = pl_array_values_ptr(a);
        uint8_t tmp[CHUNK];
        for (int64_t i = 0; i < n; i += CHUNK) {
            int64_t m = PL_MIN(CHUNK, n - i);
            switch (w) {
#define PROBE(UT)                                                                                  \
    {                                                                                              \
        const UT *vv = (const UT *)(const void *)p + i;                                             \
        if (s->n_few > 0) { /* item by item over the chunk: vectorises */                        \
            memset(tmp, 0, (size_t)m);                                                             \
            for (int32_t k = 0; k < s->n_few; k++) {                                               \
                UT key = (UT)s->few[k];                                                            \
                for (int64_t j = 0; j < m; j++) tmp[j] |= vv[j] == key;                            \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t j = 0; j < m; j++) tmp[j] = in_has_u64(s, vv[j]);                          \
        }                                                                                          \
    }                                                                                              \
    break;
            case 1: PROBE(uint8_t)
            case 2: PROBE(uint16_t)
            case 4: PROBE(uint32_t)
            default: PROBE(uint64_t)
#undef PROBE
            }
            pack_bits(tmp, m, r + i / 8);
        }
    } else {
        int32_t w = t->byte_width;
        const uint8_t *p = pl_array_values_ptr(a);
        bool isf = t->id == PL_TYPE_FLOAT32 || t->id == PL_TYPE_FLOAT64;
        for (int64_t i = 0; i < n; i++) {
            uint8_t k[16];
            memcpy(k, p + i * w, (size_t)w);
            if (isf) canon(t->id, k);
            if (in_set_has(s, k, w)) pl_bit_set(r, i);
        }
    }
    /* validity: the value's, and where no item matched and the list holds a NULL: NULL */
    pl_status st = pl_validity_and(1, &a, n, &validity, NULL, err);
    if (!st && s->has_null) {
        if (!validity) {
            st = pl_xbuf_new(pl_bits_bytes(n), &validity, err);
            if (!st) memset(validity->data, 0xff, (size_t)validity->size);
        }
        if (!st)
            for (int64_t i = 0; i < pl_bits_bytes(n); i++) validity->data[i] &= r[i];
        if (!st && (n & 7)) validity->data[pl_bits_bytes(n) - 1] &= (uint8_t)((1u << (n & 7)) - 1);
    }
    return kernel_result(st, pl_type_simple(PL_TYPE_BOOL), n, validity, values, out, err);
}

/* ---------------------------------------------------------------- BETWEEN */

static pl_status k_between(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    PL_UNUSED(call);
    pl_datum ge = {0}, le = {0};
    pl_status st = pl_kcompare(CMP_GE, &args[0], &args[1], n, &ge, err);
    if (!st) st = pl_kcompare(CMP_LE, &args[0], &args[2], n, &le, err);
    if (!st) st = pl_klogic(true, &ge, &le, n, out, err);
    pl_datum_reset(&ge);
    pl_datum_reset(&le);
    return st;
}

/* ---------------------------------------------------------------- LIKE / ILIKE */

/* A compiled pattern: '%' splits it into parts; '_' inside a part matches one UTF-8 code
 * point. Fast paths when no part holds '_': exact, prefix, suffix, contains. */
typedef enum { LK_EXACT, LK_PREFIX, LK_SUFFIX, LK_CONTAINS, LK_ANY, LK_GENERAL } like_kind;

typedef struct like_part {
    uint8_t *bytes; /* literal bytes; '_' positions marked in any */
    bool *any;
    int32_t len;
    bool has_any;
} like_part;

typedef struct like_pat {
    like_kind kind;
    bool anchored_start, anchored_end; /* no leading / trailing % */
    bool ilike;
    int32_t n_parts;
    like_part *parts;
} like_pat;

static void like_free(void *p) {
    like_pat *lp = p;
    if (!lp) return;
    for (int32_t i = 0; i < lp->n_parts; i++) {
        pl_free(lp->parts[i].bytes);
        pl_free(lp->parts[i].any);
    }
    pl_free(lp->parts);
    pl_free(lp);
}

static uint8_t fold(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/* escape: -1 none */
static pl_status like_compile(const uint8_t *p, int32_t n, int escape, bool ilike,
                              like_pat **out, pl_error *err) {
    like_pat *lp = pl_calloc(1, sizeof *lp);
    if (!lp) PL_FAIL(err, PL_ERR_NOMEM, "out of memory compiling a LIKE pattern");
    lp->ilike = ilike;
    lp->parts = pl_calloc((size_t)n + 1, sizeof *lp->parts);
    uint8_t *buf = pl_malloc((size_t)n + 1);
    bool *any = pl_malloc(((size_t)n + 1) * sizeof(bool));
    if (!lp->parts || !buf || !any) {
        pl_free(buf);
        pl_free(any);
        like_free(lp);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory compiling a LIKE pattern");
    }
    int32_t len = 0;
    bool has_any = false, seen_pct = false;
    lp->anchored_start = true;
    pl_status st = PL_OK;
    for (int32_t i = 0; i <= n; i++) {
        bool end = i == n;
        int c = end ? -1 : p[i];
        if (!end && escape >= 0 && c == escape) {
            if (i + 1 >= n) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "LIKE pattern must not end with the escape character");
                break;
            }
            i++;
            buf[len] = ilike ? fold(p[i]) : p[i];
            any[len++] = false;
            continue;
        }
        if (end || c == '%') {
            if (len > 0 || end) {
                like_part *pt = &lp->parts[lp->n_parts];
                pt->bytes = pl_malloc((size_t)len + 1);
                pt->any = pl_malloc((size_t)len + 1);
                if (!pt->bytes || !pt->any) {
                    pl_free(pt->bytes);
                    pl_free(pt->any);
                    st = pl_error_set(err, PL_ERR_NOMEM, "out of memory compiling a LIKE pattern");
                    break;
                }
                if (len) memcpy(pt->bytes, buf, (size_t)len);
                /* non-ASCII letters fold like lower() (ASCII ones were folded above) */
                if (ilike && len) pl_fn_utf8_case_map(pt->bytes, len, false);
                if (len) memcpy(pt->any, any, (size_t)len);
                pt->len = len;
                pt->has_any = has_any;
                lp->n_parts++;
                if (end) lp->anchored_end = !seen_pct || (n > 0 && (p[n - 1] != '%' || (escape >= 0 && n >= 2 && p[n - 2] == escape)));
            }
            if (!end) {
                if (lp->n_parts == 0 && len == 0) lp->anchored_start = false;
                seen_pct = true;
            }
            len = 0;
            has_any = false;
            continue;
        }
        if (c == '_') {
            buf[len] = 0;
            any[len++] = true;
            has_any = true;
            continue;
        }
        buf[len] = ilike ? fold((uint8_t)c) : (uint8_t)c;
        any[len++] = false;
    }
    pl_free(buf);
    pl_free(any);
    if (st) {
        like_free(lp);
        return st;
    }
    /* the trailing part made at the end is empty when the pattern ends with % */
    if (!lp->anchored_end && lp->n_parts > 0 && lp->parts[lp->n_parts - 1].len == 0) {
        pl_free(lp->parts[lp->n_parts - 1].bytes);
        pl_free(lp->parts[lp->n_parts - 1].any);
        lp->n_parts--;
    }
    bool simple = true;
    for (int32_t i = 0; i < lp->n_parts; i++) simple &= !lp->parts[i].has_any;
    lp->kind = LK_GENERAL;
    if (simple) {
        if (lp->n_parts == 0) lp->kind = LK_ANY;
        else if (lp->n_parts == 1 && lp->anchored_start && lp->anchored_end) lp->kind = LK_EXACT;
        else if (lp->n_parts == 1 && lp->anchored_start) lp->kind = LK_PREFIX;
        else if (lp->n_parts == 1 && lp->anchored_end) lp->kind = LK_SUFFIX;
        else if (lp->n_parts == 1) lp->kind = LK_CONTAINS;
    }
    *out = lp;
    return PL_OK;
}

static int utf8_len(uint8_t c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

/* Matches part at s[0..]: returns bytes consumed or -1. */
static int64_t part_match_at(const like_part *pt, const uint8_t *s, int64_t n) {
    int64_t k = 0;
    for (int32_t j = 0; j < pt->len; j++) {
        if (k >= n) return -1;
        if (pt->any[j]) {
            k += utf8_len(s[k]);
            if (k > n) return -1;
        } else {
            if (s[k] != pt->bytes[j]) return -1;
            k++;
        }
    }
    return k;
}

static bool like_general(const like_pat *lp, const uint8_t *s, int64_t n) {
    int64_t pos = 0;
    int32_t first = 0, last = lp->n_parts;
    if (lp->n_parts == 0) return !lp->anchored_start ? true : n == 0;
    if (lp->anchored_start) {
        int64_t k = part_match_at(&lp->parts[0], s, n);
        if (k < 0) return false;
        pos = k;
        first = 1;
        if (lp->n_parts == 1 && lp->anchored_end) return pos == n;
    }
    if (lp->anchored_end && last > first) last--;
    for (int32_t i = first; i < last; i++) {
        const like_part *pt = &lp->parts[i];
        if (!pt->has_any && pt->len > 0 && (pt->bytes[0] & 0xC0) != 0x80) {
            /* a plain literal starting a code point: the leftmost occurrence (memmem) starts
             * at a code-point boundary of the UTF-8 text, as the scan below would find */
            const uint8_t *f = memmem(s + pos, (size_t)(n - pos), pt->bytes, (size_t)pt->len);
            if (!f) return false;
            pos = (f - s) + pt->len;
            continue;
        }
        int64_t found = -1, k = -1;
        for (int64_t q = pos; q + pt->len <= n || (pt->has_any && q < n); q += utf8_len(s[q])) {
            k = part_match_at(pt, s + q, n - q);
            if (k >= 0) {
                found = q;
                break;
            }
            if (q >= n) break;
        }
        if (found < 0) return false;
        pos = found + k;
    }
    if (lp->anchored_end && (lp->n_parts > 1 || !lp->anchored_start)) {
        /* the last part must match at the end, at a code-point boundary at or after pos */
        const like_part *pt = &lp->parts[lp->n_parts - 1];
        for (int64_t q = pos; q <= n; q += (q < n ? utf8_len(s[q]) : 1)) {
            int64_t k = part_match_at(pt, s + q, n - q);
            if (k >= 0 && q + k == n) return true;
            if (!pt->has_any && n - q < pt->len) return false;
            if (q >= n) break;
        }
        return false;
    }
    return true;
}

static bool like_match(const like_pat *lp, const uint8_t *s, int64_t n) {
    const like_part *p0 = lp->n_parts ? &lp->parts[0] : NULL;
    switch (lp->kind) {
    case LK_ANY: return true;
    case LK_EXACT: return n == p0->len && memcmp(s, p0->bytes, (size_t)n) == 0;
    case LK_PREFIX: return n >= p0->len && memcmp(s, p0->bytes, (size_t)p0->len) == 0;
    case LK_SUFFIX:
        return n >= p0->len && memcmp(s + n - p0->len, p0->bytes, (size_t)p0->len) == 0;
    case LK_CONTAINS:
        if (p0->len == 0) return true;
        return n >= p0->len && memmem(s, (size_t)n, p0->bytes, (size_t)p0->len) != NULL;
    default: return like_general(lp, s, n);
    }
}

typedef struct like_state {
    like_pat *pat; /* compiled at bind when the pattern is a literal */
    bool ilike;
    int esc; /* the escape character (a literal, read at bind), -1 for none */
} like_state;

static void like_state_free(void *p) {
    like_state *s = p;
    if (!s) return;
    like_free(s->pat);
    pl_free(s);
}

static pl_status escape_char(const pl_value *v, int *out, pl_error *err) {
    if (v->is_null) {
        *out = -1;
        return PL_OK;
    }
    if (v->str_len == 0) {
        *out = -1;
        return PL_OK;
    }
    if (v->str_len != 1)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "LIKE escape must be a single character, got '%s'",
                v->str);
    *out = (unsigned char)v->str[0];
    return PL_OK;
}

static pl_status like_bind(pl_bexpr *call, bool ilike, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id x = tid(call->args[i]);
        if (x == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(&call->args[i], pl_type_simple(PL_TYPE_UTF8), err));
        else if (x != PL_TYPE_UTF8) return type_error2(call, err);
    }
    if (call->n_args == 3 && !is_lit(call->args[2]))
        PL_FAIL(err, PL_ERR_SQL, "the LIKE escape must be a constant");
    like_state *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding LIKE");
    s->ilike = ilike;
    s->esc = -1;
    call->state = s;
    call->free_state = like_state_free;
    if (call->n_args == 3) PL_TRY(escape_char(&call->args[2]->lit, &s->esc, err));
    if (is_lit(call->args[1]) && !call->args[1]->lit.is_null) {
        const pl_value *pv = &call->args[1]->lit;
        PL_TRY(like_compile((const uint8_t *)pv->str, (int32_t)pv->str_len, s->esc, ilike, &s->pat,
                            err));
    }
    return set_type(call, pl_type_simple(PL_TYPE_BOOL));
}
static pl_status b_like(pl_bexpr *c, pl_error *err) { return like_bind(c, false, err); }
static pl_status b_ilike(pl_bexpr *c, pl_error *err) { return like_bind(c, true, err); }

static pl_status k_like(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    const like_state *s = call->state;
    pl_buf *validity = NULL, *values = NULL;
    PL_TRY(result_validity(args, 2, n, &validity, err));
    pl_status st = pl_xbuf_zeroed(pl_bits_bytes(n), &values, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    uint8_t *r = values->data;
    /* the escape was read from its literal at bind (a constant-folded call may pass the
     * literal as a one-row column: 'a%c' LIKE 'a\%c' ESCAPE '\' was refused) */
    int esc = s->esc;
    uint8_t *scratch = NULL;
    int64_t scratch_cap = 0;
    like_pat *cur = s->pat;
    like_pat *own = NULL;
    const uint8_t *last_p = NULL;
    int32_t last_len = -1;
    bool done = false;
    if (s->pat && !s->ilike && !args[0].is_scalar && args[1].is_scalar && !st) {
        /* the common case: a column against a compiled pattern */
        const pl_array *a = args[0].array;
        const int32_t *o = pl_array_offsets(a);
        const uint8_t *d = a->data ? a->data->data : (const uint8_t *)"";
        const like_pat *lp = s->pat;
        const like_part *p0 = lp->n_parts ? &lp->parts[0] : NULL;
        uint8_t tmp[CHUNK];
        for (int64_t i = 0; i < n; i += CHUNK) {
            int64_t m = PL_MIN(CHUNK, n - i);
            const int32_t *oo = o + i;
            switch (lp->kind) {
            case LK_PREFIX:
                for (int64_t j = 0; j < m; j++) {
                    int32_t len = oo[j + 1] - oo[j];
                    tmp[j] = len >= p0->len && memcmp(d + oo[j], p0->bytes, (size_t)p0->len) == 0;
                }
                break;
            case LK_SUFFIX:
                for (int64_t j = 0; j < m; j++) {
                    int32_t len = oo[j + 1] - oo[j];
                    tmp[j] = len >= p0->len &&
                             memcmp(d + oo[j + 1] - p0->len, p0->bytes, (size_t)p0->len) == 0;
                }
                break;
            case LK_EXACT:
                for (int64_t j = 0; j < m; j++) {
                    int32_t len = oo[j + 1] - oo[j];
                    tmp[j] = len == p0->len && memcmp(d + oo[j], p0->bytes, (size_t)len) == 0;
                }
                break;
            case LK_CONTAINS: {
                uint8_t c0 = p0->bytes[0];
                int32_t pl = p0->len;
                for (int64_t j = 0; j < m; j++) {
                    const uint8_t *h = d + oo[j], *end = d + oo[j + 1] - pl + 1;
                    uint8_t hit = pl == 0;
                    while (!hit && h < end) {
                        const uint8_t *q = memchr(h, c0, (size_t)(end - h));
                        if (!q) break;
                        if (memcmp(q, p0->bytes, (size_t)pl) == 0) {
                            hit = 1;
                            break;
                        }
                        h = q + 1;
                    }
                    tmp[j] = hit;
                }
                break;
            }
            default:
                for (int64_t j = 0; j < m; j++)
                    tmp[j] = like_match(lp, d + oo[j], oo[j + 1] - oo[j]);
                break;
            }
            pack_bits(tmp, m, r + i / 8);
        }
        done = true;
    }
    for (int64_t i = 0; i < n && !st && !done; i++) {
        if (!valid_at(&args[0], i) || !valid_at(&args[1], i)) continue;
        const uint8_t *p;
        int32_t len;
        if (args[0].is_scalar) p = (const uint8_t *)args[0].scalar.str, len = (int32_t)args[0].scalar.str_len;
        else p = pl_array_bytes(args[0].array, i, &len);
        if (!s->pat) {
            const uint8_t *pp;
            int32_t pl;
            if (args[1].is_scalar) pp = (const uint8_t *)args[1].scalar.str, pl = (int32_t)args[1].scalar.str_len;
            else pp = pl_array_bytes(args[1].array, i, &pl);
            if (!own || pl != last_len || memcmp(pp, last_p, (size_t)pl) != 0) {
                like_free(own);
                own = NULL;
                st = like_compile(pp, pl, esc, s->ilike, &own, err);
                if (st) break;
                last_p = pp;
                last_len = pl;
            }
            cur = own;
        }
        if (s->ilike) {
            if (len > scratch_cap) {
                pl_free(scratch);
                scratch_cap = PL_MAX(len, 2 * scratch_cap);
                scratch = pl_malloc((size_t)scratch_cap);
                if (!scratch) {
                    st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in ILIKE");
                    break;
                }
            }
            /* lower()'s folding (ASCII, Latin-1, Greek, Cyrillic), like the pattern's */
            uint8_t hi = 0;
            for (int32_t j = 0; j < len; j++) {
                scratch[j] = fold(p[j]);
                hi |= p[j];
            }
            if (hi >= 0x80) pl_fn_utf8_case_map(scratch, len, false);
            p = scratch;
        }
        if (like_match(cur, p, len)) pl_bit_set(r, i);
    }
    like_free(own);
    pl_free(scratch);
    return kernel_result(st, pl_type_simple(PL_TYPE_BOOL), n, validity, values, out, err);
}

/* ---------------------------------------------------------------- CASE / COALESCE / ... */

/* Unifies value args (every `step`-th from `from`, plus `extra` if >= 0) to a common type:
 * non-literals decide first, then literals join (string literals are read as that type; a mix
 * of strings and other types becomes utf8). */
static pl_status unify_values(pl_bexpr *call, int32_t from, int32_t step, int32_t extra,
                              pl_type **out_t, pl_error *err) {
    int32_t idx[1024], m = 0;
    for (int32_t i = from; i < call->n_args && m < 1023; i += step) idx[m++] = i;
    if (extra >= 0) idx[m++] = extra;
    pl_type *t = NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (int32_t j = 0; j < m; j++) {
            pl_bexpr *b = call->args[idx[j]];
            if ((pass == 0) == is_lit(b) || b->type->id == PL_TYPE_NA) continue;
            if (!t) {
                t = pl_type_retain(b->type);
                continue;
            }
            /* an INT32 literal (SQL's integer literal) fitting the other values' integer type
             * takes it, like DuckDB's (coalesce(tinyint_col, 0) is TINYINT) */
            if (pass == 1 && tid(b) == PL_TYPE_INT32 && pl_type_is_integer(t->id) && literal_fits(b, t))
                continue;
            pl_type *u = pl_type_common_super(t, b->type);
            if (!u && pass == 1 && tid(b) == PL_TYPE_UTF8 && pl_cast_supported(b->type, t))
                u = pl_type_retain(t); /* a string literal read as t */
            if (!u && (t->id == PL_TYPE_UTF8 || tid(b) == PL_TYPE_UTF8))
                u = pl_type_simple(PL_TYPE_UTF8);
            pl_type_release(t);
            if (!u) return type_error2(call, err);
            t = u;
        }
    }
    if (!t) t = pl_type_simple(PL_TYPE_NA);
    for (int32_t j = 0; j < m; j++) {
        pl_status st = pl_bexpr_wrap_cast(&call->args[idx[j]], t, err);
        if (st) {
            pl_type_release(t);
            return st;
        }
    }
    *out_t = t;
    return PL_OK;
}

bool pl_fn_is_case(const pl_func_def *fn);

static pl_status b_case(pl_bexpr *call, pl_error *err) {
    int32_t n = call->n_args;
    bool has_else = n % 2 == 1;
    for (int32_t i = 0; i + 1 < n; i += 2) {
        pl_type_id x = tid(call->args[i]);
        if (x == PL_TYPE_NA) PL_TRY(pl_bexpr_wrap_cast(&call->args[i], pl_type_simple(PL_TYPE_BOOL), err));
        else if (x != PL_TYPE_BOOL) {
            char tn[64];
            PL_FAIL(err, PL_ERR_TYPE, "CASE condition must be boolean, got %s",
                    pl_xtype_name(call->args[i]->type, tn, sizeof tn));
        }
    }
    pl_type *t;
    PL_TRY(unify_values(call, 1, 2, has_else ? n - 1 : -1, &t, err));
    call->type = t;
    return PL_OK;
}

/* CASE over evaluated args (used for constant folding and when the evaluator cannot run the
 * branches lazily). */
static pl_status k_case(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    int32_t na = call->n_args, n_pairs = na / 2;
    bool has_else = na % 2 == 1;
    int32_t n_src = n_pairs + (has_else ? 1 : 0);
    int32_t *which = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    int32_t *pos = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    pl_array **srcs = pl_calloc((size_t)n_src + 1, sizeof *srcs);
    pl_status st = PL_OK;
    if (!which || !pos || !srcs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating CASE");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        which[i] = -2; /* undecided */
        pos[i] = (int32_t)i;
    }
    for (int32_t k = 0; k < n_pairs && !st; k++) {
        uint8_t *v, *vld;
        st = bool_bits(&args[2 * k], n, &v, &vld, err); /* values already masked by validity */
        if (st) break;
        for (int64_t i = 0; i < n; i++)
            if (which[i] == -2 && pl_bit_get(v, i)) which[i] = k;
        pl_free(v);
        pl_free(vld);
    }
    if (st) goto done;
    for (int64_t i = 0; i < n; i++)
        if (which[i] == -2) which[i] = has_else ? n_pairs : -1;
    for (int32_t k = 0; k < n_src && !st; k++) {
        const pl_datum *d = &args[k < n_pairs ? 2 * k + 1 : na - 1];
        st = pl_datum_to_array(d, n, true, &srcs[k], err);
    }
    if (!st) {
        pl_array *r;
        st = pl_xinterleave(call->type, n_src, srcs, which, pos, n, &r, err);
        if (!st) pl_datum_set_array(out, r);
    }
done:
    for (int32_t k = 0; srcs && k < n_src; k++) pl_array_release(srcs[k]);
    pl_free(srcs);
    pl_free(which);
    pl_free(pos);
    return st;
}

/* typeof(x) (DuckDB) / pg_typeof(x) (PostgreSQL spelling; DuckDB gives it in lower case): the
 * SQL type name of x. Decided by the bound argument's type alone, so the argument is dropped
 * (never evaluated) and the call, with no arguments left, folds into a constant. */
static pl_status bind_typeof(pl_bexpr *call, bool lower, pl_error *err) {
    char buf[256];
    pl_sql_type_name(call->args[0]->type, buf, sizeof buf);
    if (lower)
        for (char *p = buf; *p; p++) *p = (char)tolower((unsigned char)*p);
    char *name = pl_strdup(buf);
    if (!name) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding typeof");
    for (int32_t i = 0; i < call->n_args; i++) pl_bexpr_free(call->args[i]);
    call->n_args = 0;
    call->state = name;
    call->free_state = pl_free;
    call->type = pl_type_simple(PL_TYPE_UTF8);
    return PL_OK;
}

static pl_status b_typeof(pl_bexpr *call, pl_error *err) { return bind_typeof(call, false, err); }
static pl_status b_pg_typeof(pl_bexpr *call, pl_error *err) { return bind_typeof(call, true, err); }

static pl_status k_typeof(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    PL_UNUSED(ec); PL_UNUSED(args); PL_UNUSED(n);
    const char *name = call->state;
    pl_value v;
    pl_value_init_null(&v);
    v.str = pl_strdup(name);
    if (!v.str) PL_FAIL(err, PL_ERR_NOMEM, "out of memory evaluating typeof");
    v.type = pl_type_simple(PL_TYPE_UTF8);
    v.is_null = false;
    v.str_len = (int64_t)strlen(name);
    memset(out, 0, sizeof *out);
    pl_datum_set_scalar(out, &v);
    return PL_OK;
}

static pl_status b_coalesce(pl_bexpr *call, pl_error *err) {
    pl_type *t;
    PL_TRY(unify_values(call, 0, 1, -1, &t, err));
    call->type = t;
    return PL_OK;
}

static pl_status k_coalesce(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    int32_t na = call->n_args;
    int32_t *which = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    int32_t *pos = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    pl_array **srcs = pl_calloc((size_t)na, sizeof *srcs);
    pl_status st = PL_OK;
    if (!which || !pos || !srcs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating COALESCE");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        which[i] = -1;
        pos[i] = (int32_t)i;
        for (int32_t k = 0; k < na; k++)
            if (valid_at(&args[k], i)) {
                which[i] = k;
                break;
            }
    }
    for (int32_t k = 0; k < na && !st; k++) st = pl_datum_to_array(&args[k], n, true, &srcs[k], err);
    if (!st) {
        pl_array *r;
        st = pl_xinterleave(call->type, na, srcs, which, pos, n, &r, err);
        if (!st) pl_datum_set_array(out, r);
    }
done:
    for (int32_t k = 0; srcs && k < na; k++) pl_array_release(srcs[k]);
    pl_free(srcs);
    pl_free(which);
    pl_free(pos);
    return st;
}

static pl_status b_nullif(pl_bexpr *call, pl_error *err) {
    pl_type *t;
    PL_TRY(unify_args(call, 0, 2, true, &t, err));
    call->type = t;
    return PL_OK;
}

static pl_status k_nullif(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    int32_t *which = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    int32_t *pos = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    pl_datum eq = {0};
    pl_array *a = NULL;
    pl_status st = PL_OK;
    if (!which || !pos) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating NULLIF");
        goto done;
    }
    st = pl_kcompare(CMP_EQ, &args[0], &args[1], n, &eq, err);
    if (!st) st = pl_datum_to_array(&args[0], n, true, &a, err);
    if (st) goto done;
    for (int64_t i = 0; i < n; i++) {
        bool same = valid_at(&eq, i) && bool_at(&eq, i);
        which[i] = same ? -1 : 0;
        pos[i] = (int32_t)i;
    }
    pl_array *r;
    st = pl_xinterleave(call->type, 1, &a, which, pos, n, &r, err);
    if (!st) pl_datum_set_array(out, r);
done:
    pl_datum_reset(&eq);
    pl_array_release(a);
    pl_free(which);
    pl_free(pos);
    return st;
}

static pl_status b_greatest(pl_bexpr *call, pl_error *err) {
    pl_type *t;
    PL_TRY(unify_args(call, 0, call->n_args, true, &t, err));
    call->type = t;
    if (!comparable(t)) return type_error2(call, err);
    return PL_OK;
}

static pl_status minmax_exec(bool greatest, const pl_bexpr *call, const pl_datum *args,
                             int64_t n, pl_datum *out, pl_error *err) {
    int32_t na = call->n_args;
    int32_t *which = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    int32_t *pos = pl_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    pl_array **srcs = pl_calloc((size_t)na, sizeof *srcs);
    pl_status st = PL_OK;
    if (!which || !pos || !srcs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory evaluating %s", call->fn->name);
        goto done;
    }
    for (int32_t k = 0; k < na && !st; k++) st = pl_datum_to_array(&args[k], n, true, &srcs[k], err);
    if (st) goto done;
    for (int64_t i = 0; i < n; i++) {
        int32_t best = -1;
        for (int32_t k = 0; k < na; k++) {
            if (!pl_array_is_valid(srcs[k], i)) continue;
            if (best < 0) {
                best = k;
                continue;
            }
            int c = value_cmp(srcs[k], i, srcs[best], i);
            if (greatest ? c > 0 : c < 0) best = k;
        }
        which[i] = best;
        pos[i] = (int32_t)i;
    }
    pl_array *r;
    st = pl_xinterleave(call->type, na, srcs, which, pos, n, &r, err);
    if (!st) pl_datum_set_array(out, r);
done:
    for (int32_t k = 0; srcs && k < na; k++) pl_array_release(srcs[k]);
    pl_free(srcs);
    pl_free(which);
    pl_free(pos);
    return st;
}

static pl_status k_greatest(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                            int64_t n, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    return minmax_exec(true, call, args, n, out, err);
}
static pl_status k_least(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    return minmax_exec(false, call, args, n, out, err);
}

/* ---------------------------------------------------------------- cast */

pl_status pl_kernel_cast(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                         int64_t n_rows, pl_datum *out, pl_error *err) {
    PL_UNUSED(ec);
    pl_type_id t = call->cast_to->id;
    if (args[0].is_scalar && (t == PL_TYPE_LIST || t == PL_TYPE_STRUCT || t == PL_TYPE_MAP)) {
        pl_array *a = NULL, *r = NULL; /* nested values have no scalar form */
        PL_TRY(pl_array_from_value(&args[0].scalar, n_rows, &a, err));
        pl_status st = pl_cast_array(a, call->cast_to, call->try_cast, &r, err);
        pl_array_release(a);
        if (!st) pl_datum_set_array(out, r);
        return st;
    }
    if (args[0].is_scalar) {
        pl_value v;
        pl_value_init_null(&v);
        PL_TRY(pl_cast_value(&args[0].scalar, call->cast_to, call->try_cast, &v, err));
        pl_datum_set_scalar(out, &v);
        return PL_OK;
    }
    pl_array *r;
    PL_TRY(pl_cast_array(args[0].array, call->cast_to, call->try_cast, &r, err));
    pl_datum_set_array(out, r);
    return PL_OK;
}

static pl_status b_cast_direct(pl_bexpr *call, pl_error *err) {
    PL_FAIL(err, PL_ERR_SQL, "cast is written CAST(x AS type)%s", call ? "" : "");
}

const pl_func_def pl_cast_def = {"cast", NULL, 1, 1, PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT,
                                 b_cast_direct, pl_kernel_cast};

/* ---------------------------------------------------------------- the set */

#define EW (PL_FN_ELEMENTWISE)
#define NN (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def k_defs[] = {
    {"add", NULL, 2, 2, NN, b_add, k_add_any},
    {"sub", NULL, 2, 2, NN, b_sub, k_sub_any},
    {"mul", "multiply", 2, 2, NN, b_mul, k_mul_any},
    {"div", "divide", 2, 2, NN, b_div, k_div_any},
    {"mod", NULL, 2, 2, NN, b_mod, k_mod},
    {"int_div", NULL, 2, 2, NN, b_idiv, k_idiv},
    {"neg", "negate", 1, 1, NN, b_neg, k_neg},
    {"__single_row", NULL, 2, 2, EW, b_single_row, k_single_row},
    {"eq", NULL, 2, 2, NN, b_compare, k_eq},
    {"ne", "neq", 2, 2, NN, b_compare, k_ne},
    {"lt", NULL, 2, 2, NN, b_compare, k_lt},
    {"le", "lte", 2, 2, NN, b_compare, k_le},
    {"gt", NULL, 2, 2, NN, b_compare, k_gt},
    {"ge", "gte", 2, 2, NN, b_compare, k_ge},
    {"is_distinct_from", NULL, 2, 2, EW, b_compare, k_distinct},
    {"is_not_distinct_from", NULL, 2, 2, EW, b_compare, k_not_distinct},
    {"and", NULL, 2, -1, EW, b_logic, k_and},
    {"or", NULL, 2, -1, EW, b_logic, k_or},
    {"not", NULL, 1, 1, NN, b_bool1, k_not},
    {"is_null", "isnull", 1, 1, EW | PL_FN_DICT_OK, b_any_to_bool, k_is_null},
    {"is_not_null", "notnull", 1, 1, EW | PL_FN_DICT_OK, b_any_to_bool, k_is_not_null},
    {"is_true", NULL, 1, 1, EW, b_bool1, k_is_true},
    {"is_false", NULL, 1, 1, EW, b_bool1, k_is_false},
    {"is_not_true", NULL, 1, 1, EW, b_bool1, k_is_not_true},
    {"is_not_false", NULL, 1, 1, EW, b_bool1, k_is_not_false},
    {"in", NULL, 2, -1, EW, b_in, k_in},
    {"between", NULL, 3, 3, EW, b_compare, k_between},
    {"like", "~~", 2, 3, NN, b_like, k_like},
    {"ilike", "~~*", 2, 3, NN, b_ilike, k_like},
    {"case", NULL, 2, -1, EW, b_case, k_case},
    {"coalesce", "ifnull", 1, -1, EW, b_coalesce, k_coalesce},
    {"typeof", NULL, 1, 1, 0, b_typeof, k_typeof},
    {"pg_typeof", NULL, 1, 1, 0, b_pg_typeof, k_typeof},
    {"nullif", NULL, 2, 2, EW, b_nullif, k_nullif},
    {"greatest", NULL, 1, -1, EW, b_greatest, k_greatest},
    {"least", NULL, 1, -1, EW, b_greatest, k_least},
};

const pl_func_set pl_funcs_core = {(int32_t)PL_ARRAY_LEN(k_defs), k_defs};

bool pl_fn_is_case(const pl_func_def *fn) { return fn && fn->exec == k_case; }

bool pl_bexpr_cannot_fail(const pl_bexpr *e) {
    if (e->kind != PL_BEXPR_CALL) return true;
    pl_kernel_fn x = e->fn->exec;
    bool safe = x == k_eq || x == k_ne || x == k_lt || x == k_le || x == k_gt || x == k_ge ||
                x == k_distinct || x == k_not_distinct || x == k_and || x == k_or || x == k_not ||
                x == k_is_null || x == k_is_not_null || x == k_is_true || x == k_is_false ||
                x == k_is_not_true || x == k_is_not_false || x == k_in || x == k_between ||
                x == k_coalesce || x == k_nullif || x == k_greatest || x == k_least ||
                x == k_case;
    if (x == k_like) safe = e->n_args == 2 && e->args[1]->kind == PL_BEXPR_LIT;
    if (x == pl_kernel_cast) {
        const pl_type *from = e->args[0]->type;
        safe = e->try_cast ||
               (e->cast_to->id == PL_TYPE_FLOAT64 && pl_type_is_numeric(from->id)) ||
               (e->cast_to->id == PL_TYPE_INT64 && pl_type_is_integer(from->id) &&
                from->id != PL_TYPE_UINT64) ||
               e->cast_to->id == PL_TYPE_UTF8;
    }
    if (!safe) return false;
    for (int32_t i = 0; i < e->n_args; i++)
        if (!pl_bexpr_cannot_fail(e->args[i])) return false;
    return true;
}
bool pl_fn_is_and_or(const pl_func_def *fn, bool *is_and) {
    if (fn && (fn->exec == k_and || fn->exec == k_or)) {
        *is_and = fn->exec == k_and;
        return true;
    }
    return false;
}
