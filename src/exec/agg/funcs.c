/* funcs.c - the streaming aggregate functions: the name registry, result types (pl_agg_bind)
 * and, per function, update (a morsel's rows into per-group states, vectorised over a group-id
 * array), combine (merge states of two tables) and finalize (states -> output array).
 *
 * States are fixed-width structs (agg_state_width bytes), zero-initialised; strings they hold
 * live in the aggregate's agg_heap of the table (offset, length), so a state array plus its
 * heap is a self-contained, serialisable partial result. Update loops are specialised per
 * physical input type with the selection (filter/NULL-skipping) hoisted out of the loop. */
#include <math.h>

#include <strings.h>

#include "exec/agg/agg_int.h"

/* ---------------------------------------------------------------- states */

typedef struct st_count {
    int64_t n;
} st_count;
typedef struct st_count_if {
    int64_t n;   /* TRUE rows */
    int64_t any; /* non-NULL rows */
} st_count_if;
/* sum of integers with a BIGINT result: twice the sum plus 1 once a value was added, in 128
 * bits (16 bytes like a {sum, count} pair): no overflow check per row, and only a final sum
 * outside BIGINT is an error (a running sum past 64 bits is not: DuckDB's sums are HUGEINT).
 * |sum| < 2^64 * rows stays far inside 127 bits. */
typedef struct st_sum_i {
    __int128 v;
} st_sum_i;
#define SUMI_ADD(S, x) ((S).v = ((S).v | 1) + (__int128)(x) * 2)
#define SUMI_ANY(S) ((int64_t)((S).v & 1))
#define SUMI_SUM(S) (((S).v - ((S).v & 1)) / 2)
static const char *const k_sum_overflow_msg =
    "integer overflow in sum: %s does not fit BIGINT (the sum of an integer column is BIGINT; "
    "sum(CAST(x AS DECIMAL(38, 0))) gives a larger sum)";

/* The BIGINT value of a sum state, or false when it does not fit (the value printed in buf). */
static bool sumi_result(const st_sum_i *S, int64_t *out, char *buf, size_t cap) {
    __int128 x = SUMI_SUM(*S);
    if (x >= INT64_MIN && x <= INT64_MAX) {
        *out = (int64_t)x;
        return true;
    }
    char tmp[48];
    int k = 0;
    unsigned __int128 u = x < 0 ? (unsigned __int128)0 - (unsigned __int128)x : (unsigned __int128)x;
    do {
        tmp[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && k < (int)sizeof tmp - 1);
    size_t o = 0;
    if (x < 0 && o + 1 < cap) buf[o++] = '-';
    while (k > 0 && o + 1 < cap) buf[o++] = tmp[--k];
    buf[o] = 0;
    return false;
}
typedef struct st_sum_f {
    double s;
    int64_t n;
} st_sum_f;
typedef struct st_sum_d {
    __int128 s;
    int64_t n;
    int64_t pad;
} st_sum_d;
/* avg of intervals: the sums of each field (DuckDB's avg divides them one by one) */
typedef struct st_ivl {
    int64_t months, days;
    __int128 ns;
    int64_t n;
    int64_t pad;
} st_ivl;
typedef struct st_mm {
    agg_val v;
    int64_t has;
    int64_t pad;
} st_mm;
/* a 64-bit value of kind VK_I64, VK_U64 or VK_F64 (the narrow min/max and arg states) */
typedef union val8 {
    int64_t i;
    uint64_t u;
    double f;
} val8;
/* min/max of 64-bit values (VK_I64, VK_U64, VK_F64): half of st_mm, so twice the groups per
 * cache size (mm_narrow) */
typedef struct st_mm8 {
    val8 v;
    int64_t has;
} st_mm8;

static bool mm_narrow(const agg_rt *rt) {
    return (rt->op == AOP_MIN || rt->op == AOP_MAX) &&
           (rt->vk[0] == VK_I64 || rt->vk[0] == VK_U64 || rt->vk[0] == VK_F64);
}
typedef struct st_first {
    agg_val v;
    int64_t pos;
    int32_t has;
    int32_t isnull;
} st_first;
typedef struct st_arg {
    agg_val v;
    agg_val k;
    int64_t pos;
    int32_t has;
    int32_t vnull;
} st_arg;
/* arg_min/arg_max of a 64-bit value by a 64-bit key (VK_I64, VK_U64, VK_F64 both): 32 bytes
 * instead of 48, two states per cache line (arg_narrow) */
typedef struct st_arg8 {
    val8 v;
    val8 k;
    int64_t pos;
    int32_t has;
    int32_t vnull;
} st_arg8;

static bool vk_is8(agg_vk vk) { return vk == VK_I64 || vk == VK_U64 || vk == VK_F64; }
static bool arg_narrow(const agg_rt *rt) {
    return (rt->op == AOP_ARG_MIN || rt->op == AOP_ARG_MAX) && vk_is8(rt->vk[0]) &&
           vk_is8(rt->vk[1]);
}
typedef struct st_var {
    double mean, m2;
    int64_t n;
    int64_t pad;
} st_var;
typedef struct st_cov { /* co-moments (Welford): means, C = sum dx*dy, M2 of x and y */
    double mx, my, c, m2x, m2y;
    int64_t n;
} st_cov;
typedef struct st_bool {
    int64_t n;   /* non-NULL rows */
    int64_t cnt; /* bool_and: FALSE rows; bool_or: TRUE rows */
} st_bool;

typedef struct st_prod {
    double p;
    int64_t n;
} st_prod;
typedef struct st_bits { /* bit_and/or/xor: the bits so far (n == 0: none yet) */
    uint64_t v;
    int64_t n;
} st_bits;
typedef struct st_moments { /* skewness/kurtosis: power sums of x */
    double s1, s2, s3, s4;
    int64_t n;
    int64_t pad;
} st_moments;
typedef struct st_kahan { /* fsum: Neumaier's compensated sum */
    double s, c;
    int64_t n;
    int64_t pad;
} st_kahan;

#define POS(seq, r) (((seq) << 20) + (r))

/* ---------------------------------------------------------------- registry */

static const struct {
    const char *name;
    const char *canon;
    agg_op op;
} k_aggs[] = {
    {"count", "count", AOP_COUNT},
    {"count_star", "count", AOP_COUNT},
    {"count_if", "count_if", AOP_COUNT_IF},
    {"countif", "count_if", AOP_COUNT_IF},
    {"sum", "sum", AOP_SUM},
    {"avg", "avg", AOP_AVG},
    {"mean", "avg", AOP_AVG},
    {"min", "min", AOP_MIN},
    {"max", "max", AOP_MAX},
    {"first", "first", AOP_FIRST},
    {"arbitrary", "first", AOP_FIRST},
    {"last", "last", AOP_LAST},
    {"any_value", "any_value", AOP_ANY_VALUE},
    {"arg_min", "arg_min", AOP_ARG_MIN},
    {"argmin", "arg_min", AOP_ARG_MIN},
    {"min_by", "arg_min", AOP_ARG_MIN},
    {"arg_max", "arg_max", AOP_ARG_MAX},
    {"argmax", "arg_max", AOP_ARG_MAX},
    {"max_by", "arg_max", AOP_ARG_MAX},
    {"var_samp", "var_samp", AOP_VAR_SAMP},
    {"variance", "var_samp", AOP_VAR_SAMP},
    {"var_pop", "var_pop", AOP_VAR_POP},
    {"stddev_samp", "stddev_samp", AOP_STDDEV_SAMP},
    {"stddev", "stddev_samp", AOP_STDDEV_SAMP},
    {"stddev_pop", "stddev_pop", AOP_STDDEV_POP},
    {"bool_and", "bool_and", AOP_BOOL_AND},
    {"every", "bool_and", AOP_BOOL_AND},
    {"bool_or", "bool_or", AOP_BOOL_OR},
    {"median", "median", AOP_MEDIAN},
    {"quantile_cont", "quantile_cont", AOP_QUANTILE_CONT},
    {"percentile_cont", "quantile_cont", AOP_QUANTILE_CONT},
    {"quantile_disc", "quantile_disc", AOP_QUANTILE_DISC},
    {"percentile_disc", "quantile_disc", AOP_QUANTILE_DISC},
    {"quantile", "quantile_disc", AOP_QUANTILE_DISC},
    /* DuckDB's approximate quantiles (t-digest, reservoir sample): the exact one is within any
     * error they allow */
    {"approx_quantile", "quantile_disc", AOP_QUANTILE_DISC},
    {"reservoir_quantile", "quantile_disc", AOP_QUANTILE_DISC},
    {"string_agg", "string_agg", AOP_STRING_AGG},
    {"listagg", "string_agg", AOP_STRING_AGG},
    {"group_concat", "string_agg", AOP_STRING_AGG},
    {"covar_pop", "covar_pop", AOP_COVAR_POP},
    {"covar_samp", "covar_samp", AOP_COVAR_SAMP},
    {"corr", "corr", AOP_CORR},
    {"list", "list", AOP_LIST},
    {"array_agg", "list", AOP_LIST},
    /* JSON of a list (the SQL planner wraps them: plan_expr.c, json_group_wrap) */
    {"json_group_array", "list", AOP_LIST},
    {"json_group_object", "list", AOP_LIST},
    {"product", "product", AOP_PRODUCT},
    {"bit_and", "bit_and", AOP_BIT_AND},
    {"bit_or", "bit_or", AOP_BIT_OR},
    {"bit_xor", "bit_xor", AOP_BIT_XOR},
    {"skewness", "skewness", AOP_SKEWNESS},
    {"kurtosis", "kurtosis", AOP_KURTOSIS},
    {"kurtosis_pop", "kurtosis_pop", AOP_KURTOSIS_POP},
    {"fsum", "fsum", AOP_FSUM},
    {"sumkahan", "fsum", AOP_FSUM},
    {"kahan_sum", "fsum", AOP_FSUM},
    {"favg", "favg", AOP_FAVG},
    {"sem", "sem", AOP_SEM},
    {"approx_count_distinct", "approx_count_distinct", AOP_APPROX_COUNT_DISTINCT},
    {"mode", "mode", AOP_MODE},
    {"entropy", "entropy", AOP_ENTROPY},
    {"histogram", "histogram", AOP_HISTOGRAM},
};

static int find_agg(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < PL_ARRAY_LEN(k_aggs); i++)
        if (strcasecmp(name, k_aggs[i].name) == 0) return (int)i;
    return -1;
}

bool pl_agg_exists(const char *name) { return find_agg(name) >= 0; }

const char *pl_agg_canonical(const char *name) {
    int i = find_agg(name);
    return i < 0 ? NULL : k_aggs[i].canon;
}

agg_op agg_op_of(const char *canonical) {
    int i = find_agg(canonical);
    return i < 0 ? AOP__COUNT : k_aggs[i].op;
}

agg_vk agg_vk_of(const pl_type *t) {
    switch (t->id) {
    case PL_TYPE_NA: return VK_NA;
    case PL_TYPE_BOOL:
    case PL_TYPE_INT8:
    case PL_TYPE_INT16:
    case PL_TYPE_INT32:
    case PL_TYPE_INT64:
    case PL_TYPE_DATE32:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: return VK_I64;
    case PL_TYPE_UINT8:
    case PL_TYPE_UINT16:
    case PL_TYPE_UINT32:
    case PL_TYPE_UINT64: return VK_U64;
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64: return VK_F64;
    case PL_TYPE_DECIMAL128: return VK_I128;
    case PL_TYPE_INTERVAL: return VK_IVL;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: return VK_STR;
    default: return (agg_vk)-1;
    }
}

static bool is_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }
static bool is_float(pl_type_id id) { return id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64; }
static bool is_numeric(pl_type_id id) {
    return is_int(id) || is_float(id) || id == PL_TYPE_DECIMAL128 || id == PL_TYPE_BOOL ||
           id == PL_TYPE_NA;
}

pl_status pl_agg_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                      const pl_value *const *consts, bool distinct, pl_type **out_type,
                      pl_error *err) {
    int ix = find_agg(name);
    if (ix < 0) PL_FAIL(err, PL_ERR_NOT_FOUND, "no aggregate function \"%s\"", name ? name : "");
    agg_op op = k_aggs[ix].op;
    const char *canon = k_aggs[ix].canon;
    pl_type *t0 = n_args > 0 ? agg_base_type(arg_types[0]) : NULL;
    pl_type *t1 = n_args > 1 ? agg_base_type(arg_types[1]) : NULL;
    char tb[64];
    int32_t min_args = 1, max_args = 1;
    switch (op) {
    case AOP_COUNT: min_args = 0; break;
    case AOP_ARG_MIN:
    case AOP_ARG_MAX: min_args = 2; max_args = 3; break;
    case AOP_MIN:
    case AOP_MAX: max_args = 2; break;
    case AOP_QUANTILE_CONT:
    case AOP_QUANTILE_DISC:
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR: min_args = max_args = 2; break;
    case AOP_STRING_AGG: max_args = 2; break;
    default: break;
    }
    if (n_args < min_args || n_args > max_args)
        PL_FAIL(err, PL_ERR_TYPE, "%s takes %d%s argument%s, got %d", canon, min_args,
                max_args > min_args ? " or more" : "", max_args == 1 ? "" : "s", n_args);
#define BAD_TYPE(t) PL_FAIL(err, PL_ERR_TYPE, "no aggregate %s(%s)", canon, pl_type_to_string((t), tb, sizeof tb))
    pl_type *res = NULL;
    switch (op) {
    case AOP_COUNT:
    case AOP_COUNT_IF:
        if (op == AOP_COUNT_IF && t0->id != PL_TYPE_BOOL && t0->id != PL_TYPE_NA) BAD_TYPE(t0);
        res = pl_type_simple(PL_TYPE_INT64);
        break;
    case AOP_SUM:
        if (is_int(t0->id) || t0->id == PL_TYPE_BOOL || t0->id == PL_TYPE_NA)
            res = pl_type_simple(PL_TYPE_INT64);
        else if (is_float(t0->id)) res = pl_type_simple(PL_TYPE_FLOAT64);
        else if (t0->id == PL_TYPE_DECIMAL128) PL_TRY(pl_type_new_decimal(38, t0->scale, &res, err));
        else BAD_TYPE(t0);
        break;
    case AOP_AVG:
        if (t0->id == PL_TYPE_DATE32 || t0->id == PL_TYPE_TIMESTAMP) {
            /* DuckDB: a TIMESTAMP in microseconds stays one, dates and other units give
             * nanoseconds (TIMESTAMP_NS); the time zone is kept */
            bool us = t0->id == PL_TYPE_TIMESTAMP && t0->unit == PL_UNIT_US;
            const char *tz = t0->id == PL_TYPE_TIMESTAMP ? t0->tz : NULL;
            if (t0->id == PL_TYPE_TIMESTAMP && (us || t0->unit == PL_UNIT_NS)) res = pl_type_retain(t0);
            else PL_TRY(pl_type_new_timestamp(PL_UNIT_NS, tz, &res, err));
            break;
        }
        if (t0->id == PL_TYPE_TIME64 || t0->id == PL_TYPE_INTERVAL) {
            res = pl_type_retain(t0);
            break;
        }
        /* fall through */
    case AOP_VAR_SAMP:
    case AOP_VAR_POP:
    case AOP_STDDEV_SAMP:
    case AOP_STDDEV_POP:
    case AOP_MEDIAN:
    case AOP_QUANTILE_CONT:
        if (!is_numeric(t0->id)) BAD_TYPE(t0);
        /* DECIMAL stays DECIMAL like DuckDB (the interpolation truncated to its scale) */
        res = t0->id == PL_TYPE_DECIMAL128 && (op == AOP_MEDIAN || op == AOP_QUANTILE_CONT)
                  ? pl_type_retain(t0)
                  : pl_type_simple(PL_TYPE_FLOAT64);
        break;
    case AOP_MIN:
    case AOP_MAX:
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_ANY_VALUE:
    case AOP_ARG_MIN:
    case AOP_ARG_MAX:
    case AOP_QUANTILE_DISC:
        /* lists, structs and maps too (holistic, compared like DuckDB: holistic.c) */
        if ((int)agg_vk_of(t0) < 0 && (op == AOP_QUANTILE_DISC || !agg_nested_type(t0))) BAD_TYPE(t0);
        if ((op == AOP_ARG_MIN || op == AOP_ARG_MAX) && (int)agg_vk_of(t1) < 0 && !agg_nested_type(t1))
            BAD_TYPE(t1);
        if (((op == AOP_ARG_MIN || op == AOP_ARG_MAX) && n_args == 3) ||
            ((op == AOP_MIN || op == AOP_MAX) && n_args == 2)) {
            /* the n best values as a list, like DuckDB */
            pl_type *nt = arg_types[n_args - 1];
            if (nt->id != PL_TYPE_NA && !is_int(nt->id)) BAD_TYPE(nt);
            const pl_value *c = consts ? consts[n_args - 1] : NULL;
            if (c && c->type && (c->is_null || c->type->id == PL_TYPE_NA))
                PL_FAIL(err, PL_ERR_SQL, "%s: the n value cannot be NULL", canon);
            if (c && c->type && is_int(c->type->id) && c->v.i <= 0)
                PL_FAIL(err, PL_ERR_SQL, "%s: the n value must be > 0", canon);
            if (distinct) PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s(DISTINCT ..., n) is not supported", canon);
            PL_TRY(pl_type_new_list("item", t0, true, &res, err));
            break;
        }
        res = pl_type_retain(t0);
        break;
    case AOP_BOOL_AND:
    case AOP_BOOL_OR:
        if (t0->id != PL_TYPE_BOOL && t0->id != PL_TYPE_NA) BAD_TYPE(t0);
        res = pl_type_simple(PL_TYPE_BOOL);
        break;
    case AOP_PRODUCT:
    case AOP_SKEWNESS:
    case AOP_KURTOSIS:
    case AOP_KURTOSIS_POP:
    case AOP_FSUM:
    case AOP_FAVG:
    case AOP_SEM:
        if (!is_numeric(t0->id)) BAD_TYPE(t0);
        res = pl_type_simple(PL_TYPE_FLOAT64);
        break;
    case AOP_BIT_AND:
    case AOP_BIT_OR:
    case AOP_BIT_XOR:
        if (!is_int(t0->id) && t0->id != PL_TYPE_NA) BAD_TYPE(t0);
        res = t0->id == PL_TYPE_NA ? pl_type_simple(PL_TYPE_INT32) : pl_type_retain(t0);
        break;
    case AOP_APPROX_COUNT_DISTINCT:
        if (t0->id != PL_TYPE_NA && (int)agg_vk_of(t0) < 0) BAD_TYPE(t0);
        res = pl_type_simple(PL_TYPE_INT64);
        break;
    case AOP_MODE:
        if (t0->id != PL_TYPE_NA && (int)agg_vk_of(t0) < 0 && !agg_nested_type(t0)) BAD_TYPE(t0);
        res = t0->id == PL_TYPE_NA ? pl_type_simple(PL_TYPE_INT32) : pl_type_retain(t0);
        break;
    case AOP_ENTROPY:
        if (t0->id != PL_TYPE_NA && (int)agg_vk_of(t0) < 0) BAD_TYPE(t0);
        res = pl_type_simple(PL_TYPE_FLOAT64);
        break;
    case AOP_HISTOGRAM: {
        /* MAP(value, UBIGINT) like DuckDB; a NULL argument: MAP(INTEGER, UBIGINT) */
        if (t0->id != PL_TYPE_NA && (int)agg_vk_of(t0) < 0) BAD_TYPE(t0);
        if (distinct) PL_FAIL(err, PL_ERR_UNSUPPORTED, "histogram(DISTINCT ...) is not supported");
        pl_type *key = t0->id == PL_TYPE_NA ? pl_type_simple(PL_TYPE_INT32) : t0;
        PL_TRY(pl_type_new_map(key, pl_type_simple(PL_TYPE_UINT64), true, &res, err));
        break;
    }
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR:
        if (!is_numeric(t0->id)) BAD_TYPE(t0);
        if (!is_numeric(t1->id)) BAD_TYPE(t1);
        if (distinct) PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s(DISTINCT ...) is not supported", canon);
        res = pl_type_simple(PL_TYPE_FLOAT64);
        break;
    case AOP_LIST: {
        /* the element type is the argument's (its values for a dictionary); NULL -> INTEGER[],
         * like DuckDB */
        if (t0->id != PL_TYPE_NA && (int)agg_vk_of(t0) < 0 && !agg_nested_type(t0)) BAD_TYPE(t0);
        pl_type *item = t0->id == PL_TYPE_NA ? pl_type_simple(PL_TYPE_INT32) : pl_type_retain(t0);
        pl_status lst = pl_type_new_list("item", item, true, &res, err);
        pl_type_release(item);
        PL_TRY(lst);
        break;
    }
    case AOP_STRING_AGG:
        if (t0->id != PL_TYPE_UTF8 && t0->id != PL_TYPE_BINARY && t0->id != PL_TYPE_NA) BAD_TYPE(t0);
        res = t0->id == PL_TYPE_NA ? pl_type_simple(PL_TYPE_UTF8) : pl_type_retain(t0);
        break;
    default: PL_FAIL(err, PL_ERR_INTERNAL, "aggregate %s has no binding", canon);
    }
#undef BAD_TYPE
    if (op == AOP_QUANTILE_CONT || op == AOP_QUANTILE_DISC) {
        const pl_value *c = consts ? consts[1] : NULL;
        double q = -1;
        if (c && !c->is_null) {
            if (is_float(c->type->id)) q = c->v.f;
            else if (is_int(c->type->id)) q = (double)c->v.i;
            else if (c->type->id == PL_TYPE_DECIMAL128) {
                q = (double)c->v.dec.lo;
                for (int32_t i = 0; i < c->type->scale; i++) q /= 10;
            }
        }
        if (!c || !(q >= 0 && q <= 1)) {
            pl_type_release(res);
            PL_FAIL(err, PL_ERR_SQL, "%s: the quantile must be a constant between 0 and 1", canon);
        }
    }
    if (op == AOP_STRING_AGG && n_args == 2) {
        const pl_value *c = consts ? consts[1] : NULL;
        if (!c || (!c->is_null && c->type->id != PL_TYPE_UTF8)) {
            pl_type_release(res);
            PL_FAIL(err, PL_ERR_SQL, "string_agg: the separator must be a constant string");
        }
    }
    *out_type = res;
    return PL_OK;
}

int32_t agg_state_width(agg_op op) {
    switch (op) {
    case AOP_COUNT_STAR:
    case AOP_COUNT: return sizeof(st_count);
    case AOP_COUNT_IF: return sizeof(st_count_if);
    case AOP_SUM:
    case AOP_AVG: return sizeof(st_ivl); /* the widest of st_sum_*, st_ivl; agg_rt_width narrows */
    case AOP_MIN:
    case AOP_MAX: return sizeof(st_mm);
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_ANY_VALUE: return sizeof(st_first);
    case AOP_ARG_MIN:
    case AOP_ARG_MAX: return sizeof(st_arg);
    case AOP_VAR_SAMP:
    case AOP_VAR_POP:
    case AOP_STDDEV_SAMP:
    case AOP_STDDEV_POP:
    case AOP_SEM: return sizeof(st_var);
    case AOP_BOOL_AND:
    case AOP_BOOL_OR: return sizeof(st_bool);
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR: return sizeof(st_cov);
    case AOP_PRODUCT: return sizeof(st_prod);
    case AOP_BIT_AND:
    case AOP_BIT_OR:
    case AOP_BIT_XOR: return sizeof(st_bits);
    case AOP_SKEWNESS:
    case AOP_KURTOSIS:
    case AOP_KURTOSIS_POP: return sizeof(st_moments);
    case AOP_FSUM:
    case AOP_FAVG: return sizeof(st_kahan);
    default: return 0;
    }
}

/* ---------------------------------------------------------------- heap and values */

pl_status agg_heap_put(agg_heap *h, const uint8_t *p, int64_t n, int64_t *off, pl_error *err) {
    if (h->len + n > h->cap) {
        int64_t cap = h->cap ? h->cap : 256;
        while (cap < h->len + n) cap *= 2;
        uint8_t *q = pl_realloc(h->p, (size_t)cap);
        if (!q) PL_FAIL(err, PL_ERR_NOMEM, "out of memory in aggregate string state");
        h->p = q;
        h->cap = cap;
    }
    if (n) memcpy(h->p + h->len, p, (size_t)n);
    *off = h->len;
    h->len += n;
    return PL_OK;
}

void agg_heap_free(agg_heap *h) {
    pl_free(h->p);
    memset(h, 0, sizeof(*h));
}

/* A DECIMAL sum that overflowed 128 bits: sticky, reported as a decimal overflow when the
 * sum or average is finished (the add itself overflowed: UB, a wrapped sum). */
#define SUM128_OVF ((__int128)((unsigned __int128)1 << 127))

static inline void add128(__int128 *s, __int128 x) {
    if (*s == SUM128_OVF) return;
    if (x == SUM128_OVF || __builtin_add_overflow(*s, x, s)) *s = SUM128_OVF;
}

static inline __int128 rd128(const uint8_t *p) {
    __int128 v;
    memcpy(&v, p, 16);
    return v;
}

void agg_read_val(const pl_array *a, int64_t r, agg_vk vk, agg_val *v, const uint8_t **bytes) {
    const void *p = a->type->id == PL_TYPE_BOOL || a->type->id == PL_TYPE_NA ? NULL : pl_array_values_ptr(a);
    *bytes = NULL;
    memset(v, 0, sizeof(*v));
    switch (a->type->id) {
    case PL_TYPE_NA: break;
    case PL_TYPE_BOOL: v->i = pl_bit_get(a->values->data, a->offset + r); break;
    case PL_TYPE_INT8: v->i = ((const int8_t *)p)[r]; break;
    case PL_TYPE_INT16: v->i = ((const int16_t *)p)[r]; break;
    case PL_TYPE_INT32:
    case PL_TYPE_DATE32: v->i = ((const int32_t *)p)[r]; break;
    case PL_TYPE_INT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: v->i = ((const int64_t *)p)[r]; break;
    case PL_TYPE_UINT8: v->u = ((const uint8_t *)p)[r]; break;
    case PL_TYPE_UINT16: v->u = ((const uint16_t *)p)[r]; break;
    case PL_TYPE_UINT32: v->u = ((const uint32_t *)p)[r]; break;
    case PL_TYPE_UINT64: v->u = ((const uint64_t *)p)[r]; break;
    case PL_TYPE_FLOAT32: v->f = ((const float *)p)[r]; break;
    case PL_TYPE_FLOAT64: v->f = ((const double *)p)[r]; break;
    case PL_TYPE_DECIMAL128:
    case PL_TYPE_INTERVAL: v->d = rd128((const uint8_t *)p + r * 16); break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int32_t len;
        *bytes = pl_array_bytes(a, r, &len);
        v->s.len = len;
        break;
    }
    case PL_TYPE_FIXED_BINARY:
        *bytes = (const uint8_t *)p + r * a->type->byte_width;
        v->s.len = a->type->byte_width;
        break;
    default: break;
    }
    PL_UNUSED(vk);
}

static inline int cmp_f64(double x, double y) {
    /* NaN is the largest value and equal to itself */
    bool nx = isnan(x), ny = isnan(y);
    if (nx || ny) return nx && ny ? 0 : nx ? 1 : -1;
    return x < y ? -1 : x > y;
}

/* -1, 0 or 1 comparing two 64-bit values of kind vk (VK_I64, VK_U64, VK_F64; NaN largest) */
static inline int cmp_val8(agg_vk vk, val8 a, val8 b) {
    return vk == VK_I64   ? (a.i > b.i) - (a.i < b.i)
           : vk == VK_U64 ? (a.u > b.u) - (a.u < b.u)
                          : cmp_f64(a.f, b.f);
}

static inline int cmp_bytes(const uint8_t *a, int64_t na, const uint8_t *b, int64_t nb) {
    int64_t m = PL_MIN(na, nb);
    int c = m ? memcmp(a, b, (size_t)m) : 0;
    if (c) return c < 0 ? -1 : 1;
    return na < nb ? -1 : na > nb;
}

int agg_val_cmp(agg_vk vk, const agg_val *a, const uint8_t *abytes, const agg_val *b,
                const uint8_t *bbytes) {
    switch (vk) {
    case VK_NA: return 0;
    case VK_I64: return a->i < b->i ? -1 : a->i > b->i;
    case VK_U64: return a->u < b->u ? -1 : a->u > b->u;
    case VK_F64: return cmp_f64(a->f, b->f);
    case VK_I128: return a->d < b->d ? -1 : a->d > b->d;
    case VK_IVL: {
        __int128 x = pl_interval_ns((const uint8_t *)&a->d), y = pl_interval_ns((const uint8_t *)&b->d);
        return x < y ? -1 : x > y;
    }
    case VK_STR: return cmp_bytes(abytes, a->s.len, bbytes, b->s.len);
    }
    return 0;
}

bool agg_nested_type(const pl_type *t) {
    return t && (t->id == PL_TYPE_LIST || t->id == PL_TYPE_STRUCT || t->id == PL_TYPE_MAP);
}

int agg_row_cmp(const pl_array *a, int64_t i, const pl_array *b, int64_t j, bool nulls_first) {
    bool va = pl_array_is_valid(a, i), vb = pl_array_is_valid(b, j);
    if (!va || !vb) {
        if (va == vb) return 0;
        return (!va) == nulls_first ? -1 : 1;
    }
    /* lists, structs: element by element, NULL elements last (DuckDB's order) */
    if (agg_nested_type(a->type))
        return pl_array_value_compare((pl_array *)a, i, (pl_array *)b, j, false);
    agg_vk vk = agg_vk_of(a->type);
    agg_val x, y;
    const uint8_t *xb, *yb;
    agg_read_val(a, i, vk, &x, &xb);
    agg_read_val(b, j, vk, &y, &yb);
    return agg_val_cmp(vk, &x, xb, &y, yb);
}

/* Stores value row r of a into *dst (strings into heap, reusing the old bytes when they fit:
 * every state owns its heap bytes). */
static pl_status put_val(agg_vk vk, agg_heap *heap, agg_val *dst, bool had, const pl_array *a,
                         int64_t r, pl_error *err) {
    agg_val v;
    const uint8_t *b;
    agg_read_val(a, r, vk, &v, &b);
    if (vk != VK_STR) {
        *dst = v;
        return PL_OK;
    }
    if (had && v.s.len <= dst->s.len) {
        if (v.s.len) memcpy(heap->p + dst->s.off, b, (size_t)v.s.len);
        dst->s.len = v.s.len;
        return PL_OK;
    }
    PL_TRY(agg_heap_put(heap, b, v.s.len, &dst->s.off, err));
    dst->s.len = v.s.len;
    return PL_OK;
}

static pl_status copy_val(agg_vk vk, agg_heap *dheap, agg_val *dst, bool had,
                          const agg_heap *sheap, const agg_val *src, pl_error *err) {
    if (vk != VK_STR) {
        *dst = *src;
        return PL_OK;
    }
    const uint8_t *b = sheap->p + src->s.off;
    if (had && src->s.len <= dst->s.len) {
        if (src->s.len) memmove(dheap->p + dst->s.off, b, (size_t)src->s.len);
        dst->s.len = src->s.len;
        return PL_OK;
    }
    PL_TRY(agg_heap_put(dheap, b, src->s.len, &dst->s.off, err));
    dst->s.len = src->s.len;
    return PL_OK;
}

/* ---------------------------------------------------------------- update */

/* The states of row r + AGG_STATE_PF are prefetched while row r updates when the aggregate's
 * states outgrow the cache (agg_update sets states_pf; the loads of gids are sequential; the
 * distance is long because the loops are short and the states' lines come from memory). Every
 * user names its state array S. */
#define AGG_STATE_PF 128
#define AGG_STATE_PF_BYTES (256 << 10)
static _Thread_local bool states_pf;
#define ROWS(...)                                                                                 \
    do {                                                                                           \
        int64_t n_pf_ = states_pf && n > AGG_STATE_PF ? n - AGG_STATE_PF : 0;                     \
        if (sel) {                                                                                 \
            int64_t k_ = 0;                                                                        \
            for (; k_ < n_pf_; k_++) {                                                             \
                __builtin_prefetch(&S[gids[sel[k_ + AGG_STATE_PF]]], 1);                           \
                int64_t r = sel[k_];                                                               \
                uint32_t g = gids[r];                                                              \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
            for (; k_ < n; k_++) {                                                                 \
                int64_t r = sel[k_];                                                               \
                uint32_t g = gids[r];                                                              \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        } else {                                                                                   \
            int64_t r = 0;                                                                         \
            for (; r < n_pf_; r++) {                                                               \
                __builtin_prefetch(&S[gids[r + AGG_STATE_PF]], 1);                                 \
                uint32_t g = gids[r];                                                              \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
            for (; r < n; r++) {                                                                   \
                uint32_t g = gids[r];                                                              \
                __VA_ARGS__;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* M(T) for each numeric physical type of array a; BOOL and others fall to OTHER. */
#define NUM_SWITCH(a, M, OTHER)                                                                    \
    switch ((a)->type->id) {                                                                       \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_INT32:                                                                            \
    case PL_TYPE_DATE32: M(int32_t); break;                                                        \
    case PL_TYPE_INT64:                                                                            \
    case PL_TYPE_TIME64:                                                                           \
    case PL_TYPE_TIMESTAMP: M(int64_t); break;                                                     \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_UINT64: M(uint64_t); break;                                                       \
    case PL_TYPE_FLOAT32: M(float); break;                                                         \
    case PL_TYPE_FLOAT64: M(double); break;                                                        \
    default: OTHER; break;                                                                         \
    }

#define INT_SWITCH(a, M)                                                                           \
    switch ((a)->type->id) {                                                                       \
    case PL_TYPE_INT8: M(int8_t); break;                                                           \
    case PL_TYPE_INT16: M(int16_t); break;                                                         \
    case PL_TYPE_INT32:                                                                            \
    case PL_TYPE_DATE32: M(int32_t); break;                                                        \
    case PL_TYPE_INT64:                                                                            \
    case PL_TYPE_TIME64:                                                                           \
    case PL_TYPE_TIMESTAMP: M(int64_t); break;                                                     \
    case PL_TYPE_UINT8: M(uint8_t); break;                                                         \
    case PL_TYPE_UINT16: M(uint16_t); break;                                                       \
    case PL_TYPE_UINT32: M(uint32_t); break;                                                       \
    case PL_TYPE_UINT64: M(uint64_t); break;                                                       \
    default: break;                                                                                \
    }

#define BIT(a, r) pl_bit_get((a)->values->data, (a)->offset + (r))

/* One group (no GROUP BY, or a morsel of a single-group table): the sum in registers, four
 * independent accumulators for floats, 128 bits for integers (no overflow check per row), so the
 * loop is not one long chain of loads and stores to the same state. Returns false when the type
 * has no such path. */
#define SUM1_ROWS(EXPR)                                                                            \
    do {                                                                                           \
        if (sel)                                                                                   \
            for (int64_t k_ = 0; k_ < n; k_++) {                                                   \
                int64_t r = sel[k_];                                                               \
                EXPR;                                                                              \
            }                                                                                      \
        else                                                                                       \
            for (int64_t r = 0; r < n; r++) EXPR;                                                  \
    } while (0)

static bool upd_sum_one_group(const agg_rt *rt, uint8_t *stp,
                              const pl_array *a, const int32_t *sel, int64_t n) {
    pl_type_id id = a->type->id;
    if (is_float(id)) {
        st_sum_f *S = (st_sum_f *)(void *)stp;
        double acc[4] = {0, 0, 0, 0};
        int64_t k = 0;
        if (id == PL_TYPE_FLOAT64) {
            const double *v = pl_array_values_ptr(a);
            if (sel)
                for (; k + 4 <= n; k += 4)
                    for (int j = 0; j < 4; j++) acc[j] += v[sel[k + j]];
            else
                for (; k + 4 <= n; k += 4)
                    for (int j = 0; j < 4; j++) acc[j] += v[k + j];
            for (; k < n; k++) acc[0] += v[sel ? sel[k] : k];
        } else {
            const float *v = pl_array_values_ptr(a);
            SUM1_ROWS(acc[r & 3] += v[r]);
        }
        S[0].s += (acc[0] + acc[1]) + (acc[2] + acc[3]);
        S[0].n += n;
        return true;
    }
    bool int_sum = rt->op == AOP_SUM && rt->result_type->id == PL_TYPE_INT64;
    __int128 acc = 0;
    bool done = true;
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        SUM1_ROWS(acc += v[r]);                                                                    \
    }
    switch (id) {
    case PL_TYPE_INT8: M(int8_t); break;
    case PL_TYPE_INT16: M(int16_t); break;
    case PL_TYPE_INT32: case PL_TYPE_DATE32: M(int32_t); break;
    case PL_TYPE_INT64: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP: M(int64_t); break;
    case PL_TYPE_UINT8: M(uint8_t); break;
    case PL_TYPE_UINT16: M(uint16_t); break;
    case PL_TYPE_UINT32: M(uint32_t); break;
    case PL_TYPE_UINT64: M(uint64_t); break;
    default: done = false;
    }
#undef M
    if (!done) return false;
    if (int_sum) {
        st_sum_i *S = (st_sum_i *)(void *)stp;
        if (n > 0) SUMI_ADD(S[0], acc);
    } else {
        if (id == PL_TYPE_BOOL || id == PL_TYPE_DECIMAL128) return false;
        st_sum_d *S = (st_sum_d *)(void *)stp;
        S[0].s += acc;
        S[0].n += n;
    }
    return true;
}
#undef SUM1_ROWS

/* sum/avg states by input type: which struct is used */
typedef enum sum_kind { SK_I64, SK_F64, SK_I128, SK_IVL } sum_kind;
static sum_kind sum_kind_of(const agg_rt *rt) {
    if (rt->op == AOP_SUM && rt->result_type->id == PL_TYPE_INT64) return SK_I64;
    if (is_float(rt->arg_type[0]->id)) return SK_F64;
    if (rt->arg_type[0]->id == PL_TYPE_INTERVAL) return SK_IVL;
    return SK_I128;
}

/* The rows per group of this morsel (agg_table.hist), counted on first use; NULL when the
 * update cannot use it (a selection, other gids, too many groups: sink.c decides). */
static const int64_t *morsel_hist(agg_table *t, const uint32_t *gids, const int32_t *sel,
                                  int64_t n) {
    if (!t->hist_state || sel || gids != t->hist_gids || t->n_groups > AGG_HIST_GROUPS)
        return NULL;
    if (t->hist_state == 1) {
        int64_t *h = t->hist;
        memset(h, 0, sizeof(int64_t) * (size_t)t->n_groups);
        for (int64_t r = 0; r < n; r++) h[gids[r]]++;
        t->hist_state = 2;
    }
    return t->hist;
}

/* sum/avg of few groups with the morsel's counts (morsel_hist): the loop adds values only.
 * Integers of at most 32 bits go through 64-bit sums per group that cannot overflow (a morsel
 * has < 2^31 rows, |v| < 2^32), folded into the state once per morsel: the 128-bit states
 * of avg and the checked sums took three read-modify-writes per row. Doubles add in row order
 * as the plain loop does (the same rounding). Returns false when the type has no such path. */
static bool upd_sum_hist(const agg_table *t, const agg_rt *rt, uint8_t *stp,
                         const pl_array *a, const uint32_t *gids, const int64_t *hist, int64_t n) {
    pl_type_id id = a->type->id;
    int64_t ng = t->n_groups;
    sum_kind sk = sum_kind_of(rt);
    if (sk == SK_F64) {
        st_sum_f *S = (st_sum_f *)(void *)stp;
        if (id == PL_TYPE_FLOAT64) {
            const double *v = pl_array_values_ptr(a);
            for (int64_t r = 0; r < n; r++) S[gids[r]].s += v[r];
        } else if (id == PL_TYPE_FLOAT32) {
            const float *v = pl_array_values_ptr(a);
            for (int64_t r = 0; r < n; r++) S[gids[r]].s += v[r];
        } else {
            return false;
        }
        for (int64_t g = 0; g < ng; g++) S[g].n += hist[g];
        return true;
    }
    int64_t acc[AGG_HIST_GROUPS];
    memset(acc, 0, sizeof(int64_t) * (size_t)ng);
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        for (int64_t r = 0; r < n; r++) acc[gids[r]] += v[r];                                      \
    }
    switch (id) {
    case PL_TYPE_INT8: M(int8_t); break;
    case PL_TYPE_INT16: M(int16_t); break;
    case PL_TYPE_INT32: case PL_TYPE_DATE32: M(int32_t); break;
    case PL_TYPE_UINT8: M(uint8_t); break;
    case PL_TYPE_UINT16: M(uint16_t); break;
    case PL_TYPE_UINT32: M(uint32_t); break;
    default: return false;
    }
#undef M
    if (sk == SK_I64) {
        st_sum_i *S = (st_sum_i *)(void *)stp;
        for (int64_t g = 0; g < ng; g++)
            if (hist[g]) SUMI_ADD(S[g], acc[g]);
    } else {
        st_sum_d *S = (st_sum_d *)(void *)stp;
        for (int64_t g = 0; g < ng; g++) {
            S[g].s += acc[g];
            S[g].n += hist[g];
        }
    }
    return true;
}

static pl_status upd_sum(agg_table *t, int32_t spec, const agg_rt *rt, uint8_t *stp,
                         const pl_array *a, const uint32_t *gids, const int32_t *sel, int64_t n) {
    PL_UNUSED(spec); /* the sums do not overflow (st_sum_i) */
    pl_type_id rid = rt->result_type->id;
    if (a->type->id == PL_TYPE_NA) return PL_OK;
    if (sum_kind_of(rt) == SK_IVL) { /* avg of intervals: the fields' sums */
        st_ivl *S = (st_ivl *)(void *)stp;
        const pl_interval *v = pl_array_values_ptr(a);
        ROWS(S[g].months += v[r].months; S[g].days += v[r].days; S[g].ns += v[r].ns; S[g].n++);
        return PL_OK;
    }
    if (t->n_groups == 1 && t->n_sub == 0 && upd_sum_one_group(rt, stp, a, sel, n))
        return PL_OK;
    const int64_t *hist = morsel_hist(t, gids, sel, n);
    if (hist && upd_sum_hist(t, rt, stp, a, gids, hist, n)) return PL_OK;
    if (rt->op == AOP_SUM && rid == PL_TYPE_INT64) {
        st_sum_i *S = (st_sum_i *)(void *)stp;
        if (a->type->id == PL_TYPE_BOOL) {
            ROWS(SUMI_ADD(S[g], BIT(a, r)));
            return PL_OK;
        }
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        ROWS(SUMI_ADD(S[g], v[r]));                                                                \
    }
        INT_SWITCH(a, M)
#undef M
        return PL_OK;
    }
    if (is_float(a->type->id)) { /* sum/avg of floats */
        st_sum_f *S = (st_sum_f *)(void *)stp;
        if (a->type->id == PL_TYPE_FLOAT64) {
            const double *v = pl_array_values_ptr(a);
            ROWS(S[g].s += v[r]; S[g].n++);
        } else {
            const float *v = pl_array_values_ptr(a);
            ROWS(S[g].s += v[r]; S[g].n++);
        }
        return PL_OK;
    }
    /* decimal sum/avg, integer avg: 128-bit sums */
    st_sum_d *S = (st_sum_d *)(void *)stp;
    if (a->type->id == PL_TYPE_DECIMAL128) {
        const uint8_t *v = pl_array_values_ptr(a);
        ROWS(add128(&S[g].s, rd128(v + r * 16)); S[g].n++);
        return PL_OK;
    }
    if (a->type->id == PL_TYPE_BOOL) {
        ROWS(S[g].s += BIT(a, r); S[g].n++);
        return PL_OK;
    }
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        ROWS(S[g].s += v[r]; S[g].n++);                                                            \
    }
    NUM_SWITCH(a, M, )
#undef M
    return PL_OK;
}


int32_t agg_rt_width(const agg_rt *rt) {
    if (rt->op == AOP_SUM || rt->op == AOP_AVG) {
        switch (sum_kind_of(rt)) {
        case SK_I64: return sizeof(st_sum_i);
        case SK_F64: return sizeof(st_sum_f);
        case SK_I128: return sizeof(st_sum_d);
        case SK_IVL: return sizeof(st_ivl);
        }
    }
    if (mm_narrow(rt)) return sizeof(st_mm8);
    if (arg_narrow(rt)) return sizeof(st_arg8);
    return agg_state_width(rt->op);
}

static void upd_minmax8(const agg_rt *rt, uint8_t *stp, const pl_array *a, const uint32_t *gids,
                        const int32_t *sel, int64_t n) {
    st_mm8 *S = (st_mm8 *)(void *)stp;
    bool mx = rt->op == AOP_MAX;
    switch (rt->vk[0]) {
    case VK_NA: return;
    case VK_I64:
        if (a->type->id == PL_TYPE_BOOL) {
            if (mx) ROWS(int64_t x = BIT(a, r); if (!S[g].has || x > S[g].v.i) { S[g].v.i = x; S[g].has = 1; });
            else ROWS(int64_t x = BIT(a, r); if (!S[g].has || x < S[g].v.i) { S[g].v.i = x; S[g].has = 1; });
            return;
        }
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (mx) ROWS(int64_t x = (int64_t)v[r]; if (!S[g].has || x > S[g].v.i) { S[g].v.i = x; S[g].has = 1; }); \
        else ROWS(int64_t x = (int64_t)v[r]; if (!S[g].has || x < S[g].v.i) { S[g].v.i = x; S[g].has = 1; }); \
    }
        NUM_SWITCH(a, M, )
#undef M
        return;
    case VK_U64:
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (mx) ROWS(uint64_t x = (uint64_t)v[r]; if (!S[g].has || x > S[g].v.u) { S[g].v.u = x; S[g].has = 1; }); \
        else ROWS(uint64_t x = (uint64_t)v[r]; if (!S[g].has || x < S[g].v.u) { S[g].v.u = x; S[g].has = 1; }); \
    }
        NUM_SWITCH(a, M, )
#undef M
        return;
    case VK_F64:
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (mx) ROWS(double x = (double)v[r]; if (!S[g].has || x > S[g].v.f || (isnan(x) && !isnan(S[g].v.f))) { S[g].v.f = x; S[g].has = 1; }); \
        else ROWS(double x = (double)v[r]; if (!S[g].has || x < S[g].v.f || (isnan(S[g].v.f) && !isnan(x))) { S[g].v.f = x; S[g].has = 1; }); \
    }
        NUM_SWITCH(a, M, )
#undef M
        return;
    default: return;
    }
}

bool agg_minmax_pair(const agg_rt *mn, const agg_rt *mx, const pl_array *a) {
    if (mn->op != AOP_MIN || mx->op != AOP_MAX || mn->arg[0] < 0 || mn->arg[0] != mx->arg[0] ||
        mn->filter_col >= 0 || mx->filter_col >= 0 || !mm_narrow(mn) || !mm_narrow(mx) ||
        mn->vk[0] != mx->vk[0])
        return false;
    pl_type_id id = a->type->id;
    return (mn->vk[0] == VK_F64 && id == PL_TYPE_FLOAT64) ||
           (mn->vk[0] == VK_I64 && (id == PL_TYPE_INT64 || id == PL_TYPE_TIMESTAMP));
}

/* One pass for min and max of one 8-byte column (agg_minmax_pair): the value and the group id
 * are loaded once; the same comparisons as upd_minmax8 (NaN is the largest double). */
void agg_update_minmax_pair(agg_table *t, int32_t imin, int32_t imax, const agg_rt *mn,
                            const pl_array *a, const uint32_t *gids, const int32_t *sel,
                            int64_t n) {
    st_mm8 *L = (st_mm8 *)(void *)t->states[imin], *H = (st_mm8 *)(void *)t->states[imax];
    if (mn->vk[0] == VK_F64) {
        const double *v = (const double *)pl_array_values_ptr(a);
        for (int64_t k = 0; k < n; k++) {
            int64_t r = sel ? sel[k] : k;
            uint32_t g = gids[r];
            double x = v[r];
            if (!L[g].has || x < L[g].v.f || (isnan(L[g].v.f) && !isnan(x))) {
                L[g].v.f = x;
                L[g].has = 1;
            }
            if (!H[g].has || x > H[g].v.f || (isnan(x) && !isnan(H[g].v.f))) {
                H[g].v.f = x;
                H[g].has = 1;
            }
        }
        return;
    }
    const int64_t *v = (const int64_t *)pl_array_values_ptr(a);
    for (int64_t k = 0; k < n; k++) {
        int64_t r = sel ? sel[k] : k;
        uint32_t g = gids[r];
        int64_t x = v[r];
        if (!L[g].has || x < L[g].v.i) {
            L[g].v.i = x;
            L[g].has = 1;
        }
        if (!H[g].has || x > H[g].v.i) {
            H[g].v.i = x;
            H[g].has = 1;
        }
    }
}

static pl_status upd_minmax(agg_table *t, const agg_rt *rt, uint8_t *stp, agg_heap *heap,
                            const pl_array *a, const uint32_t *gids, const int32_t *sel, int64_t n,
                            pl_error *err) {
    PL_UNUSED(t);
    if (mm_narrow(rt)) {
        upd_minmax8(rt, stp, a, gids, sel, n);
        return PL_OK;
    }
    st_mm *S = (st_mm *)(void *)stp;
    bool mx = rt->op == AOP_MAX;
    switch (rt->vk[0]) {
    case VK_NA:
    case VK_I64:
    case VK_U64:
    case VK_F64: return PL_OK; /* narrow states */
    case VK_I128: {
        const uint8_t *v = pl_array_values_ptr(a);
        if (mx) ROWS(__int128 x = rd128(v + r * 16); if (!S[g].has || x > S[g].v.d) { S[g].v.d = x; S[g].has = 1; });
        else ROWS(__int128 x = rd128(v + r * 16); if (!S[g].has || x < S[g].v.d) { S[g].v.d = x; S[g].has = 1; });
        return PL_OK;
    }
    case VK_IVL: { /* by length; the first of equal lengths stays */
        const uint8_t *v = pl_array_values_ptr(a);
        ROWS({
            int c = S[g].has ? agg_val_cmp(VK_IVL, &(agg_val){.d = rd128(v + r * 16)}, NULL, &S[g].v, NULL) : 0;
            if (!S[g].has || (mx ? c > 0 : c < 0)) {
                S[g].v.d = rd128(v + r * 16);
                S[g].has = 1;
            }
        });
        return PL_OK;
    }
    case VK_STR: {
        pl_status st = PL_OK;
        ROWS({
            agg_val x;
            const uint8_t *xb;
            agg_read_val(a, r, VK_STR, &x, &xb);
            int c = S[g].has ? cmp_bytes(xb, x.s.len, heap->p + S[g].v.s.off, S[g].v.s.len) : 0;
            if (!S[g].has || (mx ? c > 0 : c < 0)) {
                st = put_val(VK_STR, heap, &S[g].v, S[g].has, a, r, err);
                if (st) return st;
                S[g].has = 1;
            }
        });
        return st;
    }
    }
    return PL_OK;
}

static pl_status upd_first(const agg_rt *rt, uint8_t *stp, agg_heap *heap, const pl_array *a,
                           const uint32_t *gids, const int32_t *sel, int64_t n, int64_t seq,
                           pl_error *err) {
    st_first *S = (st_first *)(void *)stp;
    agg_vk vk = rt->vk[0];
    if (rt->op == AOP_LAST) { /* backwards: the first hit per group is its last row */
        for (int64_t k = n - 1; k >= 0; k--) {
            int64_t r = sel ? sel[k] : k;
            uint32_t g = gids[r];
            int64_t pos = POS(seq, r);
            if (S[g].has && S[g].pos >= pos) continue;
            bool valid = pl_array_is_valid(a, r);
            if (valid) PL_TRY(put_val(vk, heap, &S[g].v, S[g].has && !S[g].isnull, a, r, err));
            S[g].isnull = !valid;
            S[g].has = 1;
            S[g].pos = pos;
        }
        return PL_OK;
    }
    if (vk == VK_F64 && a->type->id == PL_TYPE_FLOAT64 && !(a->validity && pl_array_null_count((pl_array *)a))) {
        const double *v = pl_array_values_ptr(a);
        ROWS(int64_t pos = POS(seq, r); if (!S[g].has || pos < S[g].pos) { S[g].v.f = v[r]; S[g].has = 1; S[g].isnull = 0; S[g].pos = pos; });
        return PL_OK;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t r = sel ? sel[k] : k;
        uint32_t g = gids[r];
        int64_t pos = POS(seq, r);
        if (S[g].has && S[g].pos <= pos) continue;
        bool valid = pl_array_is_valid(a, r);
        if (valid) PL_TRY(put_val(vk, heap, &S[g].v, S[g].has && !S[g].isnull, a, r, err));
        S[g].isnull = !valid;
        S[g].has = 1;
        S[g].pos = pos;
    }
    return PL_OK;
}

/* arg_min/arg_max with narrow states (st_arg8) */
static void upd_arg8(const agg_rt *rt, uint8_t *stp, const pl_array *va, const pl_array *ka,
                     const uint32_t *gids, const int32_t *sel, int64_t n, int64_t seq) {
    st_arg8 *S = (st_arg8 *)(void *)stp;
    bool mx = rt->op == AOP_ARG_MAX;
    agg_vk kvk = rt->vk[1], vvk = rt->vk[0];
    pl_type_id kid = ka->type->id, vid = va->type->id;
    bool k8 = kid == PL_TYPE_INT64 || kid == PL_TYPE_TIMESTAMP || kid == PL_TYPE_TIME64 ||
              kid == PL_TYPE_FLOAT64;
    bool v8 = vid == PL_TYPE_INT64 || vid == PL_TYPE_TIMESTAMP || vid == PL_TYPE_TIME64 ||
              vid == PL_TYPE_FLOAT64 || vid == PL_TYPE_UINT64;
    if (k8 && v8) {
#define ARG_LOOP(KT, FIELD, BETTER)                                                                \
    do {                                                                                           \
        const KT *kv = (const KT *)pl_array_values_ptr(ka);                                       \
        const int64_t *vv = (const int64_t *)pl_array_values_ptr(va);                              \
        ROWS(KT x = kv[r]; int64_t pos = POS(seq, r);                                              \
             if (!S[g].has || BETTER(x, S[g].k.FIELD) ||                                           \
                 (x == S[g].k.FIELD && pos < S[g].pos)) {                                          \
                 S[g].k.FIELD = x;                                                                 \
                 S[g].v.i = vv[r];                                                                 \
                 S[g].pos = pos;                                                                   \
                 S[g].has = 1;                                                                     \
             });                                                                                   \
    } while (0)
#define LT(a, b) ((a) < (b))
#define GT(a, b) ((a) > (b))
#define FLT(a, b) ((a) < (b) || (isnan(b) && !isnan(a)))
#define FGT(a, b) ((a) > (b) || (isnan(a) && !isnan(b)))
        if (kid == PL_TYPE_FLOAT64) {
            if (mx) ARG_LOOP(double, f, FGT);
            else ARG_LOOP(double, f, FLT);
        } else {
            if (mx) ARG_LOOP(int64_t, i, GT);
            else ARG_LOOP(int64_t, i, LT);
        }
#undef ARG_LOOP
#undef LT
#undef GT
#undef FLT
#undef FGT
        return;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t r = sel ? sel[k] : k;
        uint32_t g = gids[r];
        agg_val x, cur, v;
        const uint8_t *xb;
        agg_read_val(ka, r, kvk, &x, &xb);
        int64_t pos = POS(seq, r);
        if (S[g].has) {
            memset(&cur, 0, sizeof cur);
            cur.i = S[g].k.i;
            int c = agg_val_cmp(kvk, &x, NULL, &cur, NULL);
            if (mx ? c < 0 : c > 0) continue;
            if (c == 0 && pos > S[g].pos) continue;
        }
        agg_read_val(va, r, vvk, &v, &xb);
        S[g].k.i = x.i; /* the same 64 bits for u and f */
        S[g].v.i = v.i;
        S[g].has = 1;
        S[g].pos = pos;
    }
}

static pl_status upd_arg(const agg_rt *rt, uint8_t *stp, agg_heap *heap, const pl_array *va,
                         const pl_array *ka, const uint32_t *gids, const int32_t *sel, int64_t n,
                         int64_t seq, pl_error *err) {
    if (arg_narrow(rt)) {
        upd_arg8(rt, stp, va, ka, gids, sel, n, seq);
        return PL_OK;
    }
    st_arg *S = (st_arg *)(void *)stp;
    bool mx = rt->op == AOP_ARG_MAX;
    agg_vk kvk = rt->vk[1], vvk = rt->vk[0];
    if (kvk == VK_STR) { /* strings keep their bytes in the same heap as values */
        for (int64_t k = 0; k < n; k++) {
            int64_t r = sel ? sel[k] : k;
            uint32_t g = gids[r];
            agg_val x;
            const uint8_t *xb;
            agg_read_val(ka, r, kvk, &x, &xb);
            int64_t pos = POS(seq, r);
            if (S[g].has) {
                int c = cmp_bytes(xb, x.s.len, heap->p + S[g].k.s.off, S[g].k.s.len);
                if (mx ? c < 0 : c > 0) continue;
                if (c == 0 && pos > S[g].pos) continue;
            }
            PL_TRY(put_val(kvk, heap, &S[g].k, S[g].has, ka, r, err));
            PL_TRY(put_val(vvk, heap, &S[g].v, S[g].has, va, r, err));
            S[g].has = 1;
            S[g].pos = pos;
        }
        return PL_OK;
    }
    /* 8-byte keys with 8-byte values never get here: arg_narrow (upd_arg8) took them. The
     * arrays have the sink's argument types (dictionaries decoded), so an int64, timestamp,
     * time64 or double key or value has vk I64 or F64. */
    for (int64_t k = 0; k < n; k++) {
        int64_t r = sel ? sel[k] : k;
        uint32_t g = gids[r];
        agg_val x;
        const uint8_t *xb;
        agg_read_val(ka, r, kvk, &x, &xb);
        int64_t pos = POS(seq, r);
        if (S[g].has) {
            int c = agg_val_cmp(kvk, &x, NULL, &S[g].k, NULL);
            if (mx ? c < 0 : c > 0) continue;
            if (c == 0 && pos > S[g].pos) continue;
        }
        S[g].k = x;
        PL_TRY(put_val(vvk, heap, &S[g].v, S[g].has, va, r, err));
        S[g].has = 1;
        S[g].pos = pos;
    }
    return PL_OK;
}

static void upd_var(uint8_t *stp, const pl_array *a, const uint32_t *gids, const int32_t *sel,
                    int64_t n) {
    st_var *S = (st_var *)(void *)stp;
    if (a->type->id == PL_TYPE_DECIMAL128) {
        const uint8_t *v = pl_array_values_ptr(a);
        double scale = pow(10, a->type->scale);
        ROWS(double x = (double)rd128(v + r * 16) / scale; S[g].n++; double d = x - S[g].mean;
             S[g].mean += d / (double)S[g].n; S[g].m2 += d * (x - S[g].mean));
        return;
    }
    if (a->type->id == PL_TYPE_BOOL) {
        ROWS(double x = BIT(a, r); S[g].n++; double d = x - S[g].mean;
             S[g].mean += d / (double)S[g].n; S[g].m2 += d * (x - S[g].mean));
        return;
    }
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        ROWS(double x = (double)v[r]; S[g].n++; double d = x - S[g].mean;                          \
             S[g].mean += d / (double)S[g].n; S[g].m2 += d * (x - S[g].mean));                     \
    }
    NUM_SWITCH(a, M, )
#undef M
}

/* A numeric column as doubles (rows 0..n of a; decimals scaled, booleans 0/1); NULL rows get
 * whatever: the caller's selection skips them. */
/* Rows sel[k0 .. k0 + cnt) (or k0 .. k0 + cnt without sel) of a as doubles into out[0 .. cnt). */
static void to_doubles(const pl_array *a, const int32_t *sel, int64_t k0, int64_t cnt,
                       double *out) {
#define GATHER(EXPR)                                                                               \
    do {                                                                                           \
        if (sel)                                                                                   \
            for (int64_t j = 0; j < cnt; j++) {                                                    \
                int64_t r = sel[k0 + j];                                                           \
                out[j] = (EXPR);                                                                   \
            }                                                                                      \
        else                                                                                       \
            for (int64_t j = 0; j < cnt; j++) {                                                    \
                int64_t r = k0 + j;                                                                \
                out[j] = (EXPR);                                                                   \
            }                                                                                      \
    } while (0)
    if (a->type->id == PL_TYPE_DECIMAL128) {
        const uint8_t *v = pl_array_values_ptr(a);
        double scale = pow(10, a->type->scale);
        GATHER((double)rd128(v + r * 16) / scale);
        return;
    }
    if (a->type->id == PL_TYPE_BOOL) {
        GATHER((double)BIT(a, r));
        return;
    }
#define M(T)                                                                                       \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        GATHER((double)v[r]);                                                                      \
    }
    NUM_SWITCH(a, M, memset(out, 0, (size_t)cnt * 8))
#undef M
#undef GATHER
}

/* covar/corr: Welford co-moments. The arguments are converted to doubles a block of rows at a
 * time into stack buffers (a morsel-sized heap buffer was a fresh 1 MiB mapping per morsel:
 * ~40k page faults, a quarter of h2o q9's CPU). */
#define COV_BLOCK 512
static void upd_cov(uint8_t *stp, const pl_array *a, const pl_array *b, const uint32_t *gids,
                    const int32_t *sel, int64_t n) {
    if (a->type->id == PL_TYPE_NA || b->type->id == PL_TYPE_NA) return;
    st_cov *S = (st_cov *)(void *)stp;
    double x[COV_BLOCK], y[COV_BLOCK];
    bool pf = states_pf;
    for (int64_t k0 = 0; k0 < n; k0 += COV_BLOCK) {
        int64_t cnt = PL_MIN((int64_t)COV_BLOCK, n - k0);
        to_doubles(a, sel, k0, cnt, x);
        to_doubles(b, sel, k0, cnt, y);
        for (int64_t j = 0; j < cnt; j++) {
            int64_t k = k0 + j;
            if (pf && k + AGG_STATE_PF < n)
                __builtin_prefetch(&S[gids[sel ? sel[k + AGG_STATE_PF] : k + AGG_STATE_PF]], 1);
            st_cov *q = &S[gids[sel ? sel[k] : k]];
            double xv = x[j], yv = y[j];
            q->n++;
            double inv = 1.0 / (double)q->n;
            double dx = xv - q->mx;
            q->mx += dx * inv;
            double dy = yv - q->my;
            q->my += dy * inv;
            q->c += dx * (yv - q->my);
            q->m2x += dx * (xv - q->mx);
            q->m2y += dy * (yv - q->my);
        }
    }
}
#undef COV_BLOCK

/* Neumaier's step: s + x with the lost low part added to c. */
static inline void kahan_add(double *s, double *c, double x) {
    double t = *s + x;
    if (fabs(*s) >= fabs(x)) *c += (*s - t) + x;
    else *c += (x - t) + *s;
    *s = t;
}

/* product, skewness/kurtosis, fsum: the argument as doubles a block at a time. */
#define DBL_BLOCK 512
static void upd_dbl(agg_op op, uint8_t *stp, const pl_array *a, const uint32_t *gids,
                    const int32_t *sel, int64_t n) {
    if (a->type->id == PL_TYPE_NA) return;
    double x[DBL_BLOCK];
    for (int64_t k0 = 0; k0 < n; k0 += DBL_BLOCK) {
        int64_t cnt = PL_MIN((int64_t)DBL_BLOCK, n - k0);
        to_doubles(a, sel, k0, cnt, x);
        for (int64_t j = 0; j < cnt; j++) {
            int64_t k = k0 + j;
            uint32_t g = gids[sel ? sel[k] : k];
            double v = x[j];
            if (op == AOP_PRODUCT) {
                st_prod *q = &((st_prod *)(void *)stp)[g];
                q->p = q->n ? q->p * v : v;
                q->n++;
            } else if (op == AOP_FSUM || op == AOP_FAVG) {
                st_kahan *q = &((st_kahan *)(void *)stp)[g];
                kahan_add(&q->s, &q->c, v);
                q->n++;
            } else {
                st_moments *q = &((st_moments *)(void *)stp)[g];
                double v2 = v * v;
                q->s1 += v;
                q->s2 += v2;
                q->s3 += v2 * v;
                q->s4 += v2 * v2;
                q->n++;
            }
        }
    }
}
#undef DBL_BLOCK

static void upd_bits(agg_op op, uint8_t *stp, const pl_array *a, const uint32_t *gids,
                     const int32_t *sel, int64_t n) {
    st_bits *S = (st_bits *)(void *)stp;
#define BITS_ROWS(T)                                                                               \
    {                                                                                              \
        const T *v = (const T *)pl_array_values_ptr(a);                                            \
        if (op == AOP_BIT_AND)                                                                     \
            ROWS(uint64_t x = (uint64_t)(int64_t)v[r]; S[g].v = S[g].n ? S[g].v & x : x; S[g].n++); \
        else if (op == AOP_BIT_OR)                                                                 \
            ROWS(S[g].v |= (uint64_t)(int64_t)v[r]; S[g].n++);                                     \
        else                                                                                       \
            ROWS(S[g].v ^= (uint64_t)(int64_t)v[r]; S[g].n++);                                     \
    }
    NUM_SWITCH(a, BITS_ROWS, )
#undef BITS_ROWS
}

pl_status agg_update(agg_table *t, int32_t spec, const agg_rt *rt, pl_array *const *args,
                     const uint32_t *gids, const int32_t *sel, int64_t n, int64_t seq,
                     pl_error *err) {
    uint8_t *stp = t->states[spec];
    agg_heap *heap = &t->heaps[spec];
    states_pf = t->n_groups * (int64_t)rt->width > AGG_STATE_PF_BYTES;
    switch (rt->base_op) {
    case AOP_COUNT_STAR:
    case AOP_COUNT: {
        st_count *S = (st_count *)(void *)stp;
        const int64_t *hist = morsel_hist(t, gids, sel, n);
        if (t->n_groups == 1 && t->n_sub == 0) S[0].n += n; /* every row is group 0 */
        else if (hist)
            for (int64_t g = 0; g < t->n_groups; g++) S[g].n += hist[g];
        else ROWS(S[g].n++);
        return PL_OK;
    }
    case AOP_COUNT_IF: {
        st_count_if *S = (st_count_if *)(void *)stp;
        const pl_array *a = args[0];
        if (a->type->id == PL_TYPE_NA) return PL_OK;
        ROWS(S[g].n += BIT(a, r); S[g].any++);
        return PL_OK;
    }
    case AOP_SUM:
    case AOP_AVG: return upd_sum(t, spec, rt, stp, args[0], gids, sel, n);
    case AOP_MIN:
    case AOP_MAX: return upd_minmax(t, rt, stp, heap, args[0], gids, sel, n, err);
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_ANY_VALUE: return upd_first(rt, stp, heap, args[0], gids, sel, n, seq, err);
    case AOP_ARG_MIN:
    case AOP_ARG_MAX: return upd_arg(rt, stp, heap, args[0], args[1], gids, sel, n, seq, err);
    case AOP_VAR_SAMP:
    case AOP_VAR_POP:
    case AOP_STDDEV_SAMP:
    case AOP_STDDEV_POP:
    case AOP_SEM:
        if (args[0]->type->id != PL_TYPE_NA) upd_var(stp, args[0], gids, sel, n);
        return PL_OK;
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR: upd_cov(stp, args[0], args[1], gids, sel, n); return PL_OK;
    case AOP_BOOL_AND:
    case AOP_BOOL_OR: {
        st_bool *S = (st_bool *)(void *)stp;
        const pl_array *a = args[0];
        if (a->type->id == PL_TYPE_NA) return PL_OK;
        if (rt->base_op == AOP_BOOL_AND) ROWS(S[g].n++; S[g].cnt += !BIT(a, r));
        else ROWS(S[g].n++; S[g].cnt += BIT(a, r));
        return PL_OK;
    }
    case AOP_PRODUCT:
    case AOP_SKEWNESS:
    case AOP_KURTOSIS:
    case AOP_KURTOSIS_POP:
    case AOP_FSUM:
    case AOP_FAVG: upd_dbl(rt->base_op, stp, args[0], gids, sel, n); return PL_OK;
    case AOP_BIT_AND:
    case AOP_BIT_OR:
    case AOP_BIT_XOR:
        if (args[0]->type->id != PL_TYPE_NA) upd_bits(rt->base_op, stp, args[0], gids, sel, n);
        return PL_OK;
    default: PL_FAIL(err, PL_ERR_INTERNAL, "aggregate has no streaming update");
    }
}

/* ---------------------------------------------------------------- combine */

#define EACH_SRC(...)                                                                             \
    for (int64_t k = 0; k < n; k++) {                                                              \
        int64_t si = sel ? sel[k] : k;                                                             \
        uint32_t dg = dgid[k];                                                                     \
        __VA_ARGS__;                                                                               \
    }

pl_status agg_combine(const agg_rt *rt, uint8_t *dst, agg_heap *dheap, const uint8_t *src,
                      const agg_heap *sheap, const int32_t *sel, const uint32_t *dgid, int64_t n,
                      pl_error *err) {
    switch (rt->base_op) {
    case AOP_COUNT_STAR:
    case AOP_COUNT: {
        st_count *D = (st_count *)(void *)dst;
        const st_count *S = (const st_count *)(const void *)src;
        EACH_SRC(D[dg].n += S[si].n);
        return PL_OK;
    }
    case AOP_COUNT_IF: {
        st_count_if *D = (st_count_if *)(void *)dst;
        const st_count_if *S = (const st_count_if *)(const void *)src;
        EACH_SRC(D[dg].n += S[si].n; D[dg].any += S[si].any);
        return PL_OK;
    }
    case AOP_SUM:
    case AOP_AVG:
        switch (sum_kind_of(rt)) {
        case SK_I64: {
            st_sum_i *D = (st_sum_i *)(void *)dst;
            const st_sum_i *S = (const st_sum_i *)(const void *)src;
            EACH_SRC(D[dg].v = ((D[dg].v | S[si].v) & 1) + (D[dg].v - (D[dg].v & 1)) + (S[si].v - (S[si].v & 1)));
            return PL_OK;
        }
        case SK_F64: {
            st_sum_f *D = (st_sum_f *)(void *)dst;
            const st_sum_f *S = (const st_sum_f *)(const void *)src;
            EACH_SRC(D[dg].s += S[si].s; D[dg].n += S[si].n);
            return PL_OK;
        }
        case SK_I128: {
            st_sum_d *D = (st_sum_d *)(void *)dst;
            const st_sum_d *S = (const st_sum_d *)(const void *)src;
            EACH_SRC(add128(&D[dg].s, S[si].s); D[dg].n += S[si].n);
            return PL_OK;
        }
        case SK_IVL: {
            st_ivl *D = (st_ivl *)(void *)dst;
            const st_ivl *S = (const st_ivl *)(const void *)src;
            EACH_SRC(D[dg].months += S[si].months; D[dg].days += S[si].days;
                     D[dg].ns += S[si].ns; D[dg].n += S[si].n);
            return PL_OK;
        }
        }
        return PL_OK;
    case AOP_MIN:
    case AOP_MAX: {
        bool mx = rt->base_op == AOP_MAX;
        agg_vk vk = rt->vk[0];
        if (mm_narrow(rt)) {
            st_mm8 *D = (st_mm8 *)(void *)dst;
            const st_mm8 *S = (const st_mm8 *)(const void *)src;
            for (int64_t k = 0; k < n; k++) {
                int64_t si = sel ? sel[k] : k;
                uint32_t dg = dgid[k];
                if (!S[si].has) continue;
                if (D[dg].has) {
                    int c = cmp_val8(vk, S[si].v, D[dg].v);
                    if (mx ? c <= 0 : c >= 0) continue;
                }
                D[dg].v.i = S[si].v.i;
                D[dg].has = 1;
            }
            return PL_OK;
        }
        st_mm *D = (st_mm *)(void *)dst;
        const st_mm *S = (const st_mm *)(const void *)src;
        for (int64_t k = 0; k < n; k++) {
            int64_t si = sel ? sel[k] : k;
            uint32_t dg = dgid[k];
            if (!S[si].has) continue;
            if (D[dg].has) {
                int c = agg_val_cmp(vk, &S[si].v, vk == VK_STR ? sheap->p + S[si].v.s.off : NULL,
                                    &D[dg].v, vk == VK_STR ? dheap->p + D[dg].v.s.off : NULL);
                if (mx ? c <= 0 : c >= 0) continue;
            }
            PL_TRY(copy_val(vk, dheap, &D[dg].v, D[dg].has, sheap, &S[si].v, err));
            D[dg].has = 1;
        }
        return PL_OK;
    }
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_ANY_VALUE: {
        st_first *D = (st_first *)(void *)dst;
        const st_first *S = (const st_first *)(const void *)src;
        bool last = rt->base_op == AOP_LAST;
        for (int64_t k = 0; k < n; k++) {
            int64_t si = sel ? sel[k] : k;
            uint32_t dg = dgid[k];
            if (!S[si].has) continue;
            if (D[dg].has && (last ? S[si].pos <= D[dg].pos : S[si].pos >= D[dg].pos)) continue;
            if (!S[si].isnull)
                PL_TRY(copy_val(rt->vk[0], dheap, &D[dg].v, D[dg].has && !D[dg].isnull, sheap,
                                &S[si].v, err));
            D[dg].isnull = S[si].isnull;
            D[dg].pos = S[si].pos;
            D[dg].has = 1;
        }
        return PL_OK;
    }
    case AOP_ARG_MIN:
    case AOP_ARG_MAX: {
        bool mx = rt->base_op == AOP_ARG_MAX;
        agg_vk kvk = rt->vk[1];
        if (arg_narrow(rt)) {
            st_arg8 *D = (st_arg8 *)(void *)dst;
            const st_arg8 *S = (const st_arg8 *)(const void *)src;
            for (int64_t k = 0; k < n; k++) {
                int64_t si = sel ? sel[k] : k;
                uint32_t dg = dgid[k];
                if (!S[si].has) continue;
                if (D[dg].has) {
                    int c = cmp_val8(kvk, S[si].k, D[dg].k);
                    if (mx ? c < 0 : c > 0) continue;
                    if (c == 0 && S[si].pos > D[dg].pos) continue;
                }
                D[dg] = S[si];
            }
            return PL_OK;
        }
        st_arg *D = (st_arg *)(void *)dst;
        const st_arg *S = (const st_arg *)(const void *)src;
        for (int64_t k = 0; k < n; k++) {
            int64_t si = sel ? sel[k] : k;
            uint32_t dg = dgid[k];
            if (!S[si].has) continue;
            if (D[dg].has) {
                int c = agg_val_cmp(kvk, &S[si].k, kvk == VK_STR ? sheap->p + S[si].k.s.off : NULL,
                                    &D[dg].k, kvk == VK_STR ? dheap->p + D[dg].k.s.off : NULL);
                if (mx ? c < 0 : c > 0) continue;
                if (c == 0 && S[si].pos > D[dg].pos) continue;
            }
            PL_TRY(copy_val(kvk, dheap, &D[dg].k, D[dg].has, sheap, &S[si].k, err));
            PL_TRY(copy_val(rt->vk[0], dheap, &D[dg].v, D[dg].has, sheap, &S[si].v, err));
            D[dg].pos = S[si].pos;
            D[dg].has = 1;
        }
        return PL_OK;
    }
    case AOP_VAR_SAMP:
    case AOP_VAR_POP:
    case AOP_STDDEV_SAMP:
    case AOP_STDDEV_POP:
    case AOP_SEM: {
        st_var *D = (st_var *)(void *)dst;
        const st_var *S = (const st_var *)(const void *)src;
        EACH_SRC({
            if (!S[si].n) continue;
            if (!D[dg].n) {
                D[dg] = S[si];
                continue;
            }
            double na = (double)D[dg].n, nb = (double)S[si].n, nn = na + nb;
            double d = S[si].mean - D[dg].mean;
            D[dg].mean += d * nb / nn;
            D[dg].m2 += S[si].m2 + d * d * na * nb / nn;
            D[dg].n += S[si].n;
        });
        return PL_OK;
    }
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR: {
        st_cov *D = (st_cov *)(void *)dst;
        const st_cov *S = (const st_cov *)(const void *)src;
        EACH_SRC({
            if (!S[si].n) continue;
            if (!D[dg].n) {
                D[dg] = S[si];
                continue;
            }
            double na = (double)D[dg].n, nb = (double)S[si].n, nn = na + nb, w = na * nb / nn;
            double dx = S[si].mx - D[dg].mx, dy = S[si].my - D[dg].my;
            D[dg].mx += dx * nb / nn;
            D[dg].my += dy * nb / nn;
            D[dg].c += S[si].c + dx * dy * w;
            D[dg].m2x += S[si].m2x + dx * dx * w;
            D[dg].m2y += S[si].m2y + dy * dy * w;
            D[dg].n += S[si].n;
        });
        return PL_OK;
    }
    case AOP_BOOL_AND:
    case AOP_BOOL_OR: {
        st_bool *D = (st_bool *)(void *)dst;
        const st_bool *S = (const st_bool *)(const void *)src;
        EACH_SRC(D[dg].n += S[si].n; D[dg].cnt += S[si].cnt);
        return PL_OK;
    }
    case AOP_PRODUCT: {
        st_prod *D = (st_prod *)(void *)dst;
        const st_prod *S = (const st_prod *)(const void *)src;
        EACH_SRC(if (S[si].n) { D[dg].p = D[dg].n ? D[dg].p * S[si].p : S[si].p; D[dg].n += S[si].n; });
        return PL_OK;
    }
    case AOP_BIT_AND:
    case AOP_BIT_OR:
    case AOP_BIT_XOR: {
        st_bits *D = (st_bits *)(void *)dst;
        const st_bits *S = (const st_bits *)(const void *)src;
        agg_op op = rt->base_op;
        EACH_SRC(if (S[si].n) {
            if (!D[dg].n) D[dg].v = S[si].v;
            else if (op == AOP_BIT_AND) D[dg].v &= S[si].v;
            else if (op == AOP_BIT_OR) D[dg].v |= S[si].v;
            else D[dg].v ^= S[si].v;
            D[dg].n += S[si].n;
        });
        return PL_OK;
    }
    case AOP_SKEWNESS:
    case AOP_KURTOSIS:
    case AOP_KURTOSIS_POP: {
        st_moments *D = (st_moments *)(void *)dst;
        const st_moments *S = (const st_moments *)(const void *)src;
        EACH_SRC(D[dg].s1 += S[si].s1; D[dg].s2 += S[si].s2; D[dg].s3 += S[si].s3;
                 D[dg].s4 += S[si].s4; D[dg].n += S[si].n);
        return PL_OK;
    }
    case AOP_FSUM:
    case AOP_FAVG: {
        st_kahan *D = (st_kahan *)(void *)dst;
        const st_kahan *S = (const st_kahan *)(const void *)src;
        EACH_SRC(if (S[si].n) {
            kahan_add(&D[dg].s, &D[dg].c, S[si].s);
            D[dg].c += S[si].c;
            D[dg].n += S[si].n;
        });
        return PL_OK;
    }
    default: PL_FAIL(err, PL_ERR_INTERNAL, "aggregate has no combine");
    }
}

/* ---------------------------------------------------------------- finalize */

typedef struct out_arr {
    pl_buf *valid, *vals, *data;
    int64_t n_null;
} out_arr;

static pl_status out_begin(out_arr *o, const pl_type *t, int64_t n, pl_error *err) {
    memset(o, 0, sizeof(*o));
    int64_t bytes;
    switch (t->id) {
    case PL_TYPE_BOOL: bytes = (n + 7) / 8; break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: bytes = (n + 1) * 4; break;
    default: bytes = n * t->byte_width; break;
    }
    pl_status st = pl_buf_new_zeroed(PL_MAX(bytes, 1), &o->vals, err);
    if (!st) st = pl_buf_new_zeroed((n + 7) / 8 + 1, &o->valid, err);
    if (!st && pl_type_is_varlen(t->id)) st = pl_buf_new(64, &o->data, err);
    if (st) {
        pl_buf_release(o->vals);
        pl_buf_release(o->valid);
        return st;
    }
    o->vals->size = bytes;
    o->valid->size = (n + 7) / 8;
    return PL_OK;
}

static void out_abort(out_arr *o) {
    pl_buf_release(o->vals);
    pl_buf_release(o->valid);
    pl_buf_release(o->data);
}

static pl_status out_finish(out_arr *o, pl_type *t, int64_t n, pl_array **out, pl_error *err) {
    pl_buf *valid = o->valid;
    if (o->n_null == 0) {
        pl_buf_release(valid);
        valid = NULL;
    }
    return pl_array_new(pl_type_retain(t), n, o->n_null, valid, o->vals, o->data, 0, NULL, NULL,
                        out, err);
}

/* Writes value v (kind vk) as row g of an output of type t (strings from heap). */
static pl_status out_put(out_arr *o, const pl_type *t, int64_t g, agg_vk vk, const agg_val *v,
                         const agg_heap *heap, pl_error *err) {
    pl_bit_set(o->valid->data, g);
    uint8_t *p = o->vals->data;
    switch (t->id) {
    case PL_TYPE_BOOL:
        if (v->i) pl_bit_set(p, g);
        break;
    case PL_TYPE_INT8:
    case PL_TYPE_UINT8: ((int8_t *)p)[g] = (int8_t)v->i; break;
    case PL_TYPE_INT16:
    case PL_TYPE_UINT16: ((int16_t *)(void *)p)[g] = (int16_t)v->i; break;
    case PL_TYPE_INT32:
    case PL_TYPE_UINT32:
    case PL_TYPE_DATE32: ((int32_t *)(void *)p)[g] = (int32_t)v->i; break;
    case PL_TYPE_INT64:
    case PL_TYPE_UINT64:
    case PL_TYPE_TIME64:
    case PL_TYPE_TIMESTAMP: ((int64_t *)(void *)p)[g] = v->i; break;
    case PL_TYPE_FLOAT32: ((float *)(void *)p)[g] = (float)v->f; break;
    case PL_TYPE_FLOAT64: ((double *)(void *)p)[g] = v->f; break;
    case PL_TYPE_DECIMAL128:
    case PL_TYPE_INTERVAL: memcpy(p + g * 16, &v->d, 16); break;
    case PL_TYPE_FIXED_BINARY: memcpy(p + g * t->byte_width, heap->p + v->s.off, (size_t)t->byte_width); break;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        if (o->data->size + v->s.len > PL_MAX_VARLEN_BYTES)
            PL_FAIL(err, PL_ERR_LIMIT, "aggregate result exceeds %lld bytes of string data",
                    (long long)PL_MAX_VARLEN_BYTES);
        if (v->s.len) PL_TRY(pl_buf_append(o->data, heap->p + v->s.off, v->s.len, err));
        break;
    }
    default: break;
    }
    PL_UNUSED(vk);
    return PL_OK;
}

/* String outputs: offsets of rows up to g (call for every row in order). */
static inline void out_off(out_arr *o, const pl_type *t, int64_t g) {
    if (pl_type_is_varlen(t->id)) ((int32_t *)(void *)o->vals->data)[g + 1] = (int32_t)o->data->size;
}

/* A 64-bit state value (the same bits for int64, uint64 and double) as group g's output, or a
 * NULL when the group saw no value: the narrow min/max and arg_min/arg_max states. */
static pl_status out_put_bits(out_arr *o, const pl_type *t, int64_t g, agg_vk vk, bool has,
                              int64_t bits, const agg_heap *heap, pl_error *err) {
    pl_status st = PL_OK;
    if (has) {
        agg_val v;
        memset(&v, 0, sizeof v);
        v.i = bits;
        st = out_put(o, t, g, vk, &v, heap, err);
    } else {
        o->n_null++;
    }
    out_off(o, t, g);
    return st;
}

bool agg_finalize_can_adopt(const agg_rt *rt) {
    if (rt->holistic || rt->distinct) return false;
    switch (rt->base_op) {
    case AOP_COUNT_STAR:
    case AOP_COUNT: return rt->result_type->id == PL_TYPE_INT64;
    case AOP_SUM:
        return (sum_kind_of(rt) == SK_I64 && rt->result_type->id == PL_TYPE_INT64) ||
               (sum_kind_of(rt) == SK_F64 && rt->result_type->id == PL_TYPE_FLOAT64);
    case AOP_AVG: return sum_kind_of(rt) == SK_F64 && rt->result_type->id == PL_TYPE_FLOAT64;
    default: return false;
    }
}

pl_status agg_finalize_adopt(const agg_rt *rt, uint8_t *stp, int64_t bytes, int64_t n,
                             pl_array **out, pl_error *err) {
    pl_buf *vals = NULL, *valid = NULL;
    int64_t n_null = 0;
    if (rt->base_op == AOP_SUM || rt->base_op == AOP_AVG) {
        /* {sum, n} pairs become sums in place: value g (bytes 8g..) is written after state g
         * (bytes 16g..) and every earlier one were read */
        pl_status st = pl_buf_new_zeroed((n + 7) / 8 + 1, &valid, err);
        if (st) {
            pl_aligned_free(stp, (size_t)bytes);
            return st;
        }
        uint8_t *vb = valid->data;
        bool avg = rt->base_op == AOP_AVG;
        if (sum_kind_of(rt) == SK_I64) {
            for (int64_t g = 0; g < n; g++) {
                st_sum_i S;
                int64_t x = 0;
                char num[48];
                memcpy(&S, stp + g * 16, sizeof S);
                if (!sumi_result(&S, &x, num, sizeof num)) {
                    pl_buf_release(valid);
                    pl_aligned_free(stp, (size_t)bytes);
                    PL_FAIL(err, PL_ERR_INVALID_ARG, k_sum_overflow_msg, num);
                }
                memcpy(stp + g * 8, &x, 8);
                if (SUMI_ANY(S)) pl_bit_set(vb, g);
                else n_null++;
            }
        } else {
            for (int64_t g = 0; g < n; g++) {
                st_sum_f S;
                memcpy(&S, stp + g * 16, sizeof S);
                double v = avg && S.n ? S.s / (double)S.n : S.s;
                memcpy(stp + g * 8, &v, 8);
                if (S.n) pl_bit_set(vb, g);
                else n_null++;
            }
        }
        valid->size = (n + 7) / 8;
        pl_aligned_trim(stp, (size_t)(n * 8), (size_t)bytes); /* the vacated half */
        if (!n_null) {
            pl_buf_release(valid);
            valid = NULL;
        }
    }
    pl_status st = pl_buf_adopt(stp, bytes, n * 8, &vals, err); /* takes stp */
    if (st) {
        pl_buf_release(valid);
        return st;
    }
    return pl_array_new(pl_type_retain(rt->result_type), n, n_null, valid, vals, NULL, 0, NULL,
                        NULL, out, err);
}

/* skewness / kurtosis / kurtosis_pop of one state (DuckDB's formulas over the power sums):
 * 1 with *r set, 0 for NULL (too few values, zero variance), -1 when the result is not finite
 * (an error, like DuckDB). The products are rounded before they are subtracted (volatile): a
 * fused multiply-add of s2 - s1*s1/n keeps the product's rounding error, so the variance of
 * equal values came out a tiny negative number (NULL became an error). GCC's optimize
 * ("fp-contract=off") attribute is not an option: it broke the ASan build's agg_finalize. */
static int moments_result(agg_op op, const st_moments *S, double *r) {
    double cnt = (double)S->n, s1 = S->s1, s2 = S->s2, s3 = S->s3, s4 = S->s4;
    double tmp = 1 / cnt;
    volatile double sq = s1 * s1 * tmp;
    double var = tmp * (s2 - sq);
    if (op == AOP_SKEWNESS) {
        if (S->n <= 2) return 0;
        double div = sqrt(pow(var, 3));
        if (div == 0) return 0;
        double t1 = sqrt(cnt * (cnt - 1)) / (cnt - 2);
        volatile double p1 = 3 * s2 * s1 * tmp, p2 = 2 * pow(s1, 3) * tmp * tmp;
        *r = t1 * tmp * (s3 - p1 + p2) / div;
        return isfinite(*r) ? 1 : -1;
    }
    if (S->n <= (op == AOP_KURTOSIS ? 3 : 0)) return 0;
    volatile double b1 = 4 * s3 * s1 * tmp, b2 = 6 * s2 * s1 * s1 * tmp * tmp,
                    b3 = 3 * pow(s1, 4) * pow(tmp, 3);
    double m4 = tmp * (s4 - b1 + b2 - b3);
    double m2 = var;
    if (m2 <= 0) return 0;
    if (op == AOP_KURTOSIS) {
        volatile double q = (cnt + 1) * m4 / (m2 * m2);
        *r = (cnt - 1) * (q - 3 * (cnt - 1)) / ((cnt - 2) * (cnt - 3));
    } else {
        volatile double q = m4 / (m2 * m2);
        *r = q - 3;
    }
    return isfinite(*r) ? 1 : -1;
}

/* s / n rounded to the nearest integer, ties toward zero: DuckDB's avg of timestamps for
 * sums >= 0 (it truncates negative ones: 1969 timestamps may differ in the last unit) */
static __int128 div_round(__int128 s, int64_t n) {
    __int128 q = s / n, r = s % n;
    if (r > 0 && 2 * r > n) q++;
    if (r < 0 && -2 * r > n) q--;
    return q;
}

/* avg of DATE, TIME, TIMESTAMP (from st_sum_d: the sum in the argument's unit) and INTERVAL
 * (st_ivl) into p (int64 or pl_interval values), validity vb. Intervals like DuckDB: each
 * field's sum is divided with a truncating division, the remainder of the months goes to the
 * days as 30-day months, the remainders of both to the time, which is truncated to whole
 * microseconds. */
static pl_status avg_temporal_finalize(const agg_rt *rt, const uint8_t *stp, int64_t n,
                                       uint8_t *p, uint8_t *vb, int64_t *n_null, pl_error *err) {
    const pl_type *at = rt->arg_type[0], *t = rt->result_type;
    if (at->id == PL_TYPE_INTERVAL) {
        const st_ivl *S = (const st_ivl *)(const void *)stp;
        const int64_t day_ns = INT64_C(86400000000000);
        for (int64_t g = 0; g < n; g++) {
            int64_t c = S[g].n;
            if (!c) {
                (*n_null)++;
                continue;
            }
            int64_t m = S[g].months / c, rm = S[g].months % c;
            int64_t d = S[g].days / c + rm * 30 / c;
            __int128 rest = (__int128)(rm * 30 % c + S[g].days % c) * day_ns + S[g].ns;
            __int128 ns = rest / c / 1000 * 1000;
            if (d > INT32_MAX || d < INT32_MIN || ns > INT64_MAX || ns < INT64_MIN)
                PL_FAIL(err, PL_ERR_INVALID_ARG, "interval out of range in avg");
            pl_interval iv = {(int32_t)m, (int32_t)d, (int64_t)ns};
            memcpy(p + g * 16, &iv, sizeof iv);
            pl_bit_set(vb, g);
        }
        return PL_OK;
    }
    /* the factor from the argument's unit to the result's */
    static const int64_t per_s[] = {1, 1000, 1000000, 1000000000};
    __int128 mul = 1;
    if (at->id == PL_TYPE_DATE32) mul = (__int128)86400 * per_s[t->unit];
    else if (at->id == PL_TYPE_TIMESTAMP) mul = per_s[t->unit] / per_s[at->unit];
    const st_sum_d *S = (const st_sum_d *)(const void *)stp;
    for (int64_t g = 0; g < n; g++) {
        if (!S[g].n) {
            (*n_null)++;
            continue;
        }
        __int128 s;
        if (S[g].s == SUM128_OVF || __builtin_mul_overflow(S[g].s, mul, &s))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "overflow in avg of %s values",
                    at->id == PL_TYPE_DATE32 ? "DATE" : at->id == PL_TYPE_TIME64 ? "TIME" : "TIMESTAMP");
        __int128 v = div_round(s, S[g].n);
        if (v > INT64_MAX || v < INT64_MIN) /* dates past 2262 in nanoseconds */
            PL_FAIL(err, PL_ERR_INVALID_ARG, "avg of DATE values out of range of TIMESTAMP_NS");
        ((int64_t *)(void *)p)[g] = (int64_t)v;
        pl_bit_set(vb, g);
    }
    return PL_OK;
}

pl_status agg_finalize(const agg_rt *rt, const uint8_t *stp, const agg_heap *heap, int64_t n,
                       pl_array **out, pl_error *err) {
    pl_type *t = rt->result_type;
    out_arr o;
    PL_TRY(out_begin(&o, t, n, err));
    pl_status st = PL_OK;
    uint8_t *p = o.vals->data;
    uint8_t *vb = o.valid->data;
    switch (rt->base_op) {
    case AOP_COUNT_STAR:
    case AOP_COUNT: {
        const st_count *S = (const st_count *)(const void *)stp;
        for (int64_t g = 0; g < n; g++) ((int64_t *)(void *)p)[g] = S[g].n;
        memset(vb, 0xff, (size_t)o.valid->size);
        break;
    }
    case AOP_COUNT_IF: {
        const st_count_if *S = (const st_count_if *)(const void *)stp;
        for (int64_t g = 0; g < n; g++) {
            ((int64_t *)(void *)p)[g] = S[g].n;
            if (S[g].any) pl_bit_set(vb, g);
            else o.n_null++;
        }
        break;
    }
    case AOP_SUM:
    case AOP_AVG: {
        bool avg = rt->base_op == AOP_AVG;
        sum_kind sk = sum_kind_of(rt);
        if (avg && (sk == SK_IVL || t->id == PL_TYPE_TIMESTAMP || t->id == PL_TYPE_TIME64)) {
            st = avg_temporal_finalize(rt, stp, n, p, vb, &o.n_null, err);
            if (st) goto done;
            break;
        }
        double scale = rt->arg_type[0]->id == PL_TYPE_DECIMAL128 ? pow(10, rt->arg_type[0]->scale) : 1;
        for (int64_t g = 0; g < n; g++) {
            int64_t cnt;
            if (sk == SK_I64) {
                const st_sum_i *S = (const st_sum_i *)(const void *)stp;
                char num[48];
                cnt = SUMI_ANY(S[g]);
                if (!sumi_result(&S[g], &((int64_t *)(void *)p)[g], num, sizeof num)) {
                    st = pl_error_set(err, PL_ERR_INVALID_ARG, k_sum_overflow_msg, num);
                    goto done;
                }
            } else if (sk == SK_F64) {
                const st_sum_f *S = (const st_sum_f *)(const void *)stp;
                cnt = S[g].n;
                ((double *)(void *)p)[g] = avg && cnt ? S[g].s / (double)cnt : S[g].s;
            } else {
                const st_sum_d *S = (const st_sum_d *)(const void *)stp;
                cnt = S[g].n;
                if (avg) {
                    if (S[g].s == SUM128_OVF) {
                        st = pl_error_set(err, PL_ERR_INVALID_ARG, "decimal overflow in avg (DECIMAL(38,%d))", t->scale);
                        goto done;
                    }
                    ((double *)(void *)p)[g] = cnt ? (double)S[g].s / (double)cnt / scale : 0;
                } else {
                    const __int128 lim = (__int128)10000000000000000000ULL * (__int128)10000000000000000000ULL;
                    if (S[g].s >= lim || S[g].s <= -lim) {
                        st = pl_error_set(err, PL_ERR_INVALID_ARG, "decimal overflow in sum (DECIMAL(38,%d))", t->scale);
                        goto done;
                    }
                    memcpy(p + g * 16, &S[g].s, 16);
                }
            }
            if (cnt) pl_bit_set(vb, g);
            else o.n_null++;
        }
        break;
    }
    case AOP_MIN:
    case AOP_MAX: {
        if (mm_narrow(rt)) {
            const st_mm8 *S = (const st_mm8 *)(const void *)stp;
            for (int64_t g = 0; g < n && !st; g++)
                st = out_put_bits(&o, t, g, rt->vk[0], S[g].has != 0, S[g].v.i, heap, err);
            break;
        }
        const st_mm *S = (const st_mm *)(const void *)stp;
        for (int64_t g = 0; g < n && !st; g++) {
            if (S[g].has) st = out_put(&o, t, g, rt->vk[0], &S[g].v, heap, err);
            else o.n_null++;
            out_off(&o, t, g);
        }
        break;
    }
    case AOP_FIRST:
    case AOP_LAST:
    case AOP_ANY_VALUE: {
        const st_first *S = (const st_first *)(const void *)stp;
        for (int64_t g = 0; g < n && !st; g++) {
            if (S[g].has && !S[g].isnull) st = out_put(&o, t, g, rt->vk[0], &S[g].v, heap, err);
            else o.n_null++;
            out_off(&o, t, g);
        }
        break;
    }
    case AOP_ARG_MIN:
    case AOP_ARG_MAX: {
        if (arg_narrow(rt)) {
            const st_arg8 *S = (const st_arg8 *)(const void *)stp;
            for (int64_t g = 0; g < n && !st; g++)
                st = out_put_bits(&o, t, g, rt->vk[0], S[g].has != 0, S[g].v.i, heap, err);
            break;
        }
        const st_arg *S = (const st_arg *)(const void *)stp;
        for (int64_t g = 0; g < n && !st; g++) {
            if (S[g].has) st = out_put(&o, t, g, rt->vk[0], &S[g].v, heap, err);
            else o.n_null++;
            out_off(&o, t, g);
        }
        break;
    }
    case AOP_VAR_SAMP:
    case AOP_VAR_POP:
    case AOP_STDDEV_SAMP:
    case AOP_STDDEV_POP:
    case AOP_SEM: {
        const st_var *S = (const st_var *)(const void *)stp;
        bool samp = rt->base_op == AOP_VAR_SAMP || rt->base_op == AOP_STDDEV_SAMP;
        bool sd = rt->base_op == AOP_STDDEV_SAMP || rt->base_op == AOP_STDDEV_POP || rt->base_op == AOP_SEM;
        bool sem = rt->base_op == AOP_SEM; /* stddev_pop / sqrt(n) */
        for (int64_t g = 0; g < n; g++) {
            int64_t cnt = S[g].n;
            if (cnt < (samp ? 2 : 1)) {
                o.n_null++;
                continue;
            }
            double v = S[g].m2 / (double)(samp ? cnt - 1 : cnt);
            /* infinities (or a sum past DBL_MAX) make the mean non-finite: NaN like DuckDB; the
             * clamp of rounding below zero turned m2 = -inf into 0 before */
            if (cnt == 1) v = 0; /* one value (even inf or NaN): 0, like DuckDB */
            else if (!isfinite(S[g].mean)) v = NAN;
            else if (v < 0) v = 0;
            ((double *)(void *)p)[g] = sem ? sqrt(v) / sqrt((double)cnt) : sd ? sqrt(v) : v;
            pl_bit_set(vb, g);
        }
        break;
    }
    case AOP_COVAR_POP:
    case AOP_COVAR_SAMP:
    case AOP_CORR: {
        const st_cov *S = (const st_cov *)(const void *)stp;
        bool samp = rt->base_op == AOP_COVAR_SAMP;
        for (int64_t g = 0; g < n; g++) {
            int64_t cnt = S[g].n;
            if (cnt < (samp ? 2 : 1)) {
                o.n_null++;
                continue;
            }
            double v = rt->base_op == AOP_CORR ? S[g].c / sqrt(S[g].m2x * S[g].m2y)
                                               : S[g].c / (double)(samp ? cnt - 1 : cnt);
            ((double *)(void *)p)[g] = v;
            pl_bit_set(vb, g);
        }
        break;
    }
    case AOP_BOOL_AND:
    case AOP_BOOL_OR: {
        const st_bool *S = (const st_bool *)(const void *)stp;
        bool and_ = rt->base_op == AOP_BOOL_AND;
        for (int64_t g = 0; g < n; g++) {
            if (!S[g].n) {
                o.n_null++;
                continue;
            }
            pl_bit_set(vb, g);
            if (and_ ? S[g].cnt == 0 : S[g].cnt > 0) pl_bit_set(p, g);
        }
        break;
    }
    case AOP_PRODUCT: {
        const st_prod *S = (const st_prod *)(const void *)stp;
        for (int64_t g = 0; g < n; g++) {
            if (!S[g].n) {
                o.n_null++;
                continue;
            }
            ((double *)(void *)p)[g] = S[g].p;
            pl_bit_set(vb, g);
        }
        break;
    }
    case AOP_FSUM:
    case AOP_FAVG: {
        const st_kahan *S = (const st_kahan *)(const void *)stp;
        for (int64_t g = 0; g < n; g++) {
            if (!S[g].n) {
                o.n_null++;
                continue;
            }
            /* an infinity or NaN makes the compensation NaN: the plain sum is the answer */
            double v = S[g].s + S[g].c;
            v = isfinite(S[g].s) ? v : S[g].s;
            ((double *)(void *)p)[g] = rt->base_op == AOP_FAVG ? v / (double)S[g].n : v;
            pl_bit_set(vb, g);
        }
        break;
    }
    case AOP_BIT_AND:
    case AOP_BIT_OR:
    case AOP_BIT_XOR: {
        const st_bits *S = (const st_bits *)(const void *)stp;
        for (int64_t g = 0; g < n && !st; g++) {
            if (!S[g].n) {
                o.n_null++;
                continue;
            }
            agg_val v;
            memset(&v, 0, sizeof v);
            v.u = S[g].v;
            st = out_put(&o, t, g, rt->vk[0], &v, heap, err);
        }
        break;
    }
    case AOP_SKEWNESS:
    case AOP_KURTOSIS:
    case AOP_KURTOSIS_POP: {
        /* DuckDB's formulas over the power sums: skewness needs n > 2 (the adjusted
         * Fisher-Pearson coefficient), kurtosis n > 3 (sample excess kurtosis), kurtosis_pop
         * n > 0; NULL for a zero variance; a non-finite result is an error */
        const st_moments *S = (const st_moments *)(const void *)stp;
        for (int64_t g = 0; g < n && !st; g++) {
            double r;
            int ok = moments_result(rt->base_op, &S[g], &r);
            if (ok < 0)
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "%s is out of range",
                                  rt->base_op == AOP_SKEWNESS ? "skewness" : "kurtosis");
            if (ok <= 0) {
                o.n_null++;
                continue;
            }
            ((double *)(void *)p)[g] = r;
            pl_bit_set(vb, g);
        }
        break;
    }
    default: st = pl_error_set(err, PL_ERR_INTERNAL, "aggregate has no finalize"); break;
    }
done:
    if (st) {
        out_abort(&o);
        return st;
    }
    return out_finish(&o, t, n, out, err);
}
