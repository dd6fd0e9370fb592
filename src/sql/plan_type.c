/* plan_type.c - SQL type names, constants, typed literals and interval text for the planner. */
#include "sql/plan_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "expr/expr_int.h"

const char *sq_str(const PgQuery__Node *n) {
    if (n && n->node_case == PG_QUERY__NODE__NODE_STRING && n->string) return n->string->sval;
    return NULL;
}

const char *sq_type_base(const PgQuery__TypeName *tn) {
    if (!tn || tn->n_names == 0) return "";
    const char *s = sq_str(tn->names[tn->n_names - 1]);
    return s ? s : "";
}

/* ---------------------------------------------------------------- constants */

pl_status sq_const(const PgQuery__AConst *c, pl_expr **out, pl_error *err) {
    pl_expr *e = NULL;
    if (c->isnull) {
        e = pl_expr_lit_null();
    } else {
        switch (c->val_case) {
        case PG_QUERY__A__CONST__VAL_IVAL: {
            /* like DuckDB, a literal that fits 32 bits is an INTEGER (the parser gives those as
             * ival, larger ones as fval text: BIGINT below) */
            pl_value v;
            pl_value_init_null(&v);
            v.type = pl_type_simple(PL_TYPE_INT32);
            v.is_null = false;
            v.v.i = c->ival ? c->ival->ival : 0;
            e = pl_expr_lit_value(&v);
            break;
        }
        case PG_QUERY__A__CONST__VAL_FVAL: {
            const char *t = c->fval && c->fval->fval ? c->fval->fval : "0";
            bool integral = strpbrk(t, ".eE") == NULL;
            errno = 0;
            char *end;
            long long v = integral ? strtoll(t, &end, 10) : 0;
            if (integral && errno == 0 && *end == '\0') {
                e = pl_expr_lit_i64((int64_t)v);
                break;
            }
            /* like DuckDB, 2.5 is DECIMAL(2,1) (up to 38 digits), exponents are DOUBLE */
            int32_t digits = 0, scale = 0, lead = 0;
            bool after_dot = false, ok = strpbrk(t, "eE") == NULL;
            /* the parser folds a minus into the constant in some places ((-2.5)): still a
             * DECIMAL, like DuckDB */
            bool minus = t[0] == '-';
            __int128 u = 0;
            for (const char *q = minus ? t + 1 : t; ok && *q; q++) {
                if (*q == '.') {
                    after_dot = true;
                    continue;
                }
                if (*q < '0' || *q > '9') {
                    ok = false;
                    break;
                }
                if (!after_dot && digits == 0 && *q == '0') {
                    lead++;
                    continue;
                }
                if (digits >= 38) {
                    ok = false;
                    break;
                }
                u = u * 10 + (*q - '0');
                digits++;
                if (after_dot) scale++;
            }
            (void)lead;
            int32_t int_digits = digits - scale;
            int32_t prec = (int_digits > 1 ? int_digits : 1) + scale; /* DuckDB: 0.25 is (3,2) */
            if (prec > 38) ok = false;
            pl_type *dt = NULL;
            if (ok && pl_type_new_decimal(prec, scale, &dt, NULL) == PL_OK) {
                pl_value val;
                pl_value_init_null(&val);
                pl_type_release(val.type);
                val.type = dt;
                val.is_null = false;
                if (minus) u = -u;
                val.v.dec.lo = (uint64_t)u;
                val.v.dec.hi = (int64_t)(u >> 64);
                e = pl_expr_lit_value(&val);
                pl_value_reset(&val);
            } else {
                e = pl_expr_lit_f64(strtod(t, NULL));
            }
            break;
        }
        case PG_QUERY__A__CONST__VAL_BOOLVAL:
            e = pl_expr_lit_bool(c->boolval && c->boolval->boolval);
            break;
        case PG_QUERY__A__CONST__VAL_SVAL:
            e = pl_expr_lit_str(c->sval && c->sval->sval ? c->sval->sval : "");
            break;
        default:
            return sq_fail(err, PL_ERR_UNSUPPORTED, c->location, "bit string literals are not supported");
        }
    }
    if (!e) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
    e->sql_pos = c->location;
    *out = e;
    return PL_OK;
}

/* ---------------------------------------------------------------- intervals */

enum {
    IM_MONTH = 1 << 1,
    IM_YEAR = 1 << 2,
    IM_DAY = 1 << 3,
    IM_HOUR = 1 << 10,
    IM_MINUTE = 1 << 11,
    IM_SECOND = 1 << 12,
};

/* interval parts add with range checks: a count out of range is an error, not a wrapped or
 * undefined conversion (INTERVAL '9223372036854775808' was -292 years) */
static bool add_i32(int32_t *dst, double x) {
    if (!(x > -2147483649.0 && x < 2147483648.0)) return false;
    int64_t r = (int64_t)*dst + (int64_t)x;
    if (r < INT32_MIN || r > INT32_MAX) return false;
    *dst = (int32_t)r;
    return true;
}
static bool add_i64(int64_t *dst, double x) {
    if (!(x > -9.2e18 && x < 9.2e18)) return false;
    int64_t r;
    if (__builtin_add_overflow(*dst, (int64_t)x, &r)) return false;
    *dst = r;
    return true;
}

static bool add_unit(pl_interval *iv, double v, const char *unit, size_t ulen) {
    char u[32];
    if (ulen == 0 || ulen >= sizeof u) return false;
    for (size_t i = 0; i < ulen; i++) u[i] = (char)tolower((unsigned char)unit[i]);
    u[ulen] = '\0';
    if (ulen > 1 && u[ulen - 1] == 's' && strcmp(u, "s") != 0 && strcmp(u, "ms") != 0 &&
        strcmp(u, "us") != 0 && strcmp(u, "ns") != 0)
        u[--ulen] = '\0';
    double ns_per = 0;
    if (!strcmp(u, "year") || !strcmp(u, "y") || !strcmp(u, "yr")) {
        if (!add_i32(&iv->months, v * 12)) return false;
        return true;
    }
    if (!strcmp(u, "month") || !strcmp(u, "mon")) {
        if (!add_i32(&iv->months, v)) return false;
        return true;
    }
    if (!strcmp(u, "decade")) {
        if (!add_i32(&iv->months, v * 120)) return false;
        return true;
    }
    if (!strcmp(u, "century") || !strcmp(u, "centurie")) {
        if (!add_i32(&iv->months, v * 1200)) return false;
        return true;
    }
    if (!strcmp(u, "millennium") || !strcmp(u, "millennia")) {
        if (!add_i32(&iv->months, v * 12000)) return false;
        return true;
    }
    if (!strcmp(u, "quarter")) {
        if (!add_i32(&iv->months, v * 3)) return false;
        return true;
    }
    if (!strcmp(u, "week") || !strcmp(u, "w")) {
        if (!add_i32(&iv->days, v * 7)) return false;
        return true;
    }
    if (!strcmp(u, "day") || !strcmp(u, "d")) {
        if (!add_i32(&iv->days, v)) return false;
        double frac = v - (int32_t)v;
        if (!add_i64(&iv->ns, frac * 86400e9)) return false;
        return true;
    }
    if (!strcmp(u, "hour") || !strcmp(u, "h") || !strcmp(u, "hr")) ns_per = 3600e9;
    else if (!strcmp(u, "minute") || !strcmp(u, "min") || !strcmp(u, "m")) ns_per = 60e9;
    else if (!strcmp(u, "second") || !strcmp(u, "sec") || !strcmp(u, "s")) ns_per = 1e9;
    else if (!strcmp(u, "millisecond") || !strcmp(u, "msec") || !strcmp(u, "ms")) ns_per = 1e6;
    else if (!strcmp(u, "microsecond") || !strcmp(u, "usec") || !strcmp(u, "us")) ns_per = 1e3;
    else if (!strcmp(u, "nanosecond") || !strcmp(u, "ns")) ns_per = 1;
    else return false;
    if (!add_i64(&iv->ns, v * ns_per + (v < 0 ? -0.5 : 0.5))) return false;
    return true;
}

pl_status sq_parse_interval(const char *text, int32_t range_mask, pl_interval *out) {
    pl_interval iv = {0, 0, 0};
    const char *p = text;
    bool any = false;
    while (*p) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) break;
        bool neg = false;
        if (*p == '+' || *p == '-') {
            neg = *p == '-';
            p++;
        }
        if (!isdigit((unsigned char)*p) && *p != '.') return PL_ERR_SQL;
        char *end;
        double v = strtod(p, &end);
        if (*end == ':') {
            /* [-]HH:MM[:SS[.fff]] */
            long h = strtol(p, &end, 10);
            if (*end != ':') return PL_ERR_SQL;
            const char *q = end + 1;
            long m = strtol(q, &end, 10);
            double s = 0;
            if (*end == ':') s = strtod(end + 1, &end);
            double total = (double)h * 3600e9 + (double)m * 60e9 + s * 1e9;
            if (!add_i64(&iv.ns, neg ? -total : total)) return PL_ERR_SQL;
            p = end;
            any = true;
            continue;
        }
        if (neg) v = -v;
        p = end;
        while (isspace((unsigned char)*p)) p++;
        const char *u = p;
        while (isalpha((unsigned char)*p)) p++;
        size_t ulen = (size_t)(p - u);
        if (ulen == 0) {
            /* a bare number: the unit comes from the type's field mask (INTERVAL '1' HOUR);
             * only as the whole string, like DuckDB ('2024-02-30' was 2024 - 2 - 30 seconds) */
            if (any || *p) return PL_ERR_SQL;
            if (!(v > -9.2e18 && v < 9.2e18)) return PL_ERR_SQL;
            const char *unit = "second";
            if (range_mask & IM_SECOND) unit = "second";
            else if (range_mask & IM_MINUTE) unit = "minute";
            else if (range_mask & IM_HOUR) unit = "hour";
            else if (range_mask & IM_DAY) unit = "day";
            else if (range_mask & IM_MONTH) unit = "month";
            else if (range_mask & IM_YEAR) unit = "year";
            /* like DuckDB, a count of a field above seconds is truncated (INTERVAL 1.5 DAY and
             * INTERVAL '1.5' DAY are 1 day) */
            if (strcmp(unit, "second") != 0) v = (double)(int64_t)v;
            if (!add_unit(&iv, v, unit, strlen(unit))) return PL_ERR_SQL;
        } else if (!add_unit(&iv, v, u, ulen)) {
            return PL_ERR_SQL;
        }
        any = true;
        while (isspace((unsigned char)*p) || *p == ',') p++;
    }
    if (!any) return PL_ERR_SQL;
    *out = iv;
    return PL_OK;
}

/* ---------------------------------------------------------------- type names */

static int32_t typmod_int(const PgQuery__TypeName *tn, size_t i, int32_t dflt) {
    if (i >= tn->n_typmods) return dflt;
    const PgQuery__Node *n = tn->typmods[i];
    if (n->node_case == PG_QUERY__NODE__NODE_A_CONST && n->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
        return n->a_const->ival->ival;
    return dflt;
}

/* The PostgreSQL grammar reads FLOAT as float8 (double); DuckDB's FLOAT is 32-bit, like REAL
 * (and FLOAT(p) is 32-bit up to p = 24). The written word decides: true when the text at the
 * type's position is FLOAT of 32 bits. */
bool sq_written_float32(const char *sql, int32_t pos) {
    if (!sql || pos < 0 || pos >= pl_sql_text_len(sql) || strncasecmp(sql + pos, "float", 5) != 0)
        return false;
    const char *p = sql + pos + 5;
    if (isalnum((unsigned char)*p) || *p == '_') return false; /* float4, float8, ... */
    while (isspace((unsigned char)*p)) p++;
    if (*p != '(') return true;
    p++;
    while (isspace((unsigned char)*p)) p++;
    long bits = strtol(p, NULL, 10);
    return bits >= 1 && bits <= 24;
}

/* ---------------------------------------------------------------- MAP(K, V) */

static int32_t skip_blank(const char *sql, int32_t p) {
    while (sql[p] && isspace((unsigned char)sql[p])) p++;
    return p;
}

static bool word_at(const char *sql, int32_t p, const char *w) {
    size_t n = strlen(w);
    return strncasecmp(sql + p, w, n) == 0 && !isalnum((unsigned char)sql[p + n]) && sql[p + n] != '_';
}

static pl_status map_type_text(const char *sql, int32_t pos, int32_t *end, pl_type **out, pl_error *err);

/* One type of a MAP's (K, V) from pos: a MAP again, or a name pl_type_from_sql_name reads
 * (DECIMAL(10,2), VARCHAR[], TIMESTAMP WITH TIME ZONE), up to the ',' or ')' at its level. */
static pl_status map_part_text(const char *sql, int32_t pos, int32_t *end, pl_type **out, pl_error *err) {
    pos = skip_blank(sql, pos);
    pl_type *t = NULL;
    int32_t p = pos;
    if (word_at(sql, pos, "map") && sql[skip_blank(sql, pos + 3)] == '(') {
        PL_TRY(map_type_text(sql, pos, &p, &t, err));
    } else {
        int depth = 0;
        while (sql[p] && !(depth == 0 && (sql[p] == ',' || sql[p] == ')'))) {
            if (sql[p] == '(') depth++;
            else if (sql[p] == ')') depth--;
            p++;
        }
        int32_t q = p;
        while (q > pos && isspace((unsigned char)sql[q - 1])) q--;
        if (q == pos) return sq_fail(err, PL_ERR_SQL, pos, "MAP needs a key and a value type: MAP(K, V)");
        char name[128];
        if (q - pos >= (int32_t)sizeof name) return sq_fail(err, PL_ERR_SQL, pos, "type name too long");
        memcpy(name, sql + pos, (size_t)(q - pos));
        name[q - pos] = 0;
        PL_TRY(sq_at(err, pl_type_from_sql_name(name, &t, err), pos));
        *end = p;
        *out = t;
        return PL_OK;
    }
    /* MAP(K, V)[] */
    for (;;) {
        int32_t b = skip_blank(sql, p);
        if (sql[b] != '[' || sql[skip_blank(sql, b + 1)] != ']') break;
        pl_type *l = NULL;
        pl_status st = pl_type_new_list("item", t, true, &l, err);
        pl_type_release(t);
        if (st) return sq_at(err, st, pos);
        t = l;
        p = skip_blank(sql, b + 1) + 1;
    }
    *end = p;
    *out = t;
    return PL_OK;
}

/* MAP(K, V) at pos ("map" then "("); *end: after the ")". */
static pl_status map_type_text(const char *sql, int32_t pos, int32_t *end, pl_type **out, pl_error *err) {
    int32_t p = skip_blank(sql, pos + 3) + 1, e = 0;
    pl_type *k = NULL, *v = NULL, *t = NULL;
    PL_TRY(map_part_text(sql, p, &e, &k, err));
    pl_status st = PL_OK;
    if (sql[e] != ',') st = sq_fail(err, PL_ERR_SQL, e, "MAP needs a key and a value type: MAP(K, V)");
    if (!st) st = map_part_text(sql, e + 1, &e, &v, err);
    if (!st && sql[e] != ')') st = sq_fail(err, PL_ERR_SQL, e, "MAP takes two types: MAP(K, V)");
    if (!st) st = sq_at(err, pl_type_new_map(k, v, true, &t, err), pos);
    pl_type_release(k);
    pl_type_release(v);
    if (st) return st;
    *end = e + 1;
    *out = t;
    return PL_OK;
}

pl_status pl_sql_type_from_node(const char *sql, const PgQuery__TypeName *tn, pl_type **out,
                                pl_error *err) {
    const char *name = sq_type_base(tn);
    int32_t pos = tn->location;
    pl_type *t = NULL;
    pl_type_id simple = PL_TYPE_NA;
    static const struct {
        const char *name;
        pl_type_id id;
    } map[] = {
        {"bool", PL_TYPE_BOOL},      {"boolean", PL_TYPE_BOOL},     {"logical", PL_TYPE_BOOL},
        {"int1", PL_TYPE_INT8},      {"tinyint", PL_TYPE_INT8},     {"int2", PL_TYPE_INT16},
        {"smallint", PL_TYPE_INT16}, {"short", PL_TYPE_INT16},      {"int4", PL_TYPE_INT32},
        {"int", PL_TYPE_INT32},      {"integer", PL_TYPE_INT32},    {"signed", PL_TYPE_INT32},
        {"int8", PL_TYPE_INT64},     {"bigint", PL_TYPE_INT64},     {"long", PL_TYPE_INT64},
        {"utinyint", PL_TYPE_UINT8}, {"uint8", PL_TYPE_UINT8},      {"usmallint", PL_TYPE_UINT16},
        {"uint16", PL_TYPE_UINT16},  {"uinteger", PL_TYPE_UINT32},  {"uint32", PL_TYPE_UINT32},
        {"ubigint", PL_TYPE_UINT64}, {"uint64", PL_TYPE_UINT64},    {"float4", PL_TYPE_FLOAT32},
        {"real", PL_TYPE_FLOAT32},   {"float", PL_TYPE_FLOAT32},    {"float8", PL_TYPE_FLOAT64},
        {"double", PL_TYPE_FLOAT64}, {"text", PL_TYPE_UTF8},        {"varchar", PL_TYPE_UTF8},
        {"bpchar", PL_TYPE_UTF8},    {"char", PL_TYPE_UTF8},        {"string", PL_TYPE_UTF8},
        {"character", PL_TYPE_UTF8}, {"bytea", PL_TYPE_BINARY},     {"blob", PL_TYPE_BINARY},
        {"binary", PL_TYPE_BINARY},  {"varbinary", PL_TYPE_BINARY}, {"date", PL_TYPE_DATE32},
        {"interval", PL_TYPE_INTERVAL},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(map); i++)
        if (strcasecmp(name, map[i].name) == 0) simple = map[i].id;
    if (simple == PL_TYPE_FLOAT64 && sq_written_float32(sql, pos)) simple = PL_TYPE_FLOAT32;
    pl_status st = PL_OK;
    if (simple != PL_TYPE_NA) {
        t = pl_type_simple(simple);
    } else if (!strcasecmp(name, "json")) {
        t = pl_type_json();
    } else if (!strcasecmp(name, "numeric") || !strcasecmp(name, "decimal")) {
        int32_t p = typmod_int(tn, 0, 18), s = typmod_int(tn, 1, tn->n_typmods ? 0 : 3);
        if (p < 1 || p > 38 || s < 0 || s > p)
            return sq_fail(err, PL_ERR_SQL, pos, "invalid decimal precision/scale (%d, %d)", (int)p, (int)s);
        st = pl_type_new_decimal(p, s, &t, err);
    } else if (!strcasecmp(name, "timestamp") || !strcasecmp(name, "datetime") ||
               !strcasecmp(name, "timestamp_us")) {
        st = pl_type_new_timestamp(PL_UNIT_US, NULL, &t, err);
    } else if (!strcasecmp(name, "timestamp_ms")) {
        st = pl_type_new_timestamp(PL_UNIT_MS, NULL, &t, err);
    } else if (!strcasecmp(name, "timestamp_s")) {
        st = pl_type_new_timestamp(PL_UNIT_S, NULL, &t, err);
    } else if (!strcasecmp(name, "timestamp_ns")) {
        st = pl_type_new_timestamp(PL_UNIT_NS, NULL, &t, err);
    } else if (!strcasecmp(name, "timestamptz")) {
        st = pl_type_new_timestamp(PL_UNIT_US, "UTC", &t, err);
    } else if (!strcasecmp(name, "time") || !strcasecmp(name, "timetz")) {
        st = pl_type_new_time64(PL_UNIT_US, &t, err);
    } else if (!strcasecmp(name, "map") && sql && pos >= 0 && (size_t)pos < strlen(sql) && word_at(sql, pos, "map")) {
        /* MAP(K, V): the grammar read MAP(0) (pl_sql_preprocess blanks the types), so K and V
         * come from the text */
        int32_t end = 0;
        if (sql[skip_blank(sql, pos + 3)] != '(')
            return sq_fail(err, PL_ERR_SQL, pos, "MAP needs a key and a value type: MAP(K, V)");
        PL_TRY(map_type_text(sql, pos, &end, &t, err));
    } else {
        return sq_fail(err, PL_ERR_SQL, pos, "unknown type \"%s\"", name);
    }
    if (st) return sq_at(err, st, pos);
    if (tn->n_array_bounds > 0) {
        pl_type *l = NULL;
        st = pl_type_new_list("item", t, true, &l, err);
        pl_type_release(t);
        if (st) return sq_at(err, st, pos);
        t = l;
    }
    *out = t;
    return PL_OK;
}

pl_status sq_typed_literal(const char *text, const PgQuery__TypeName *tn, int32_t pos,
                           pl_expr **out, pl_error *err) {
    const char *name = sq_type_base(tn);
    *out = NULL;
    if (strcasecmp(name, "interval") == 0 && tn->n_array_bounds == 0) {
        int32_t mask = typmod_int(tn, 0, 0);
        pl_interval iv;
        if (sq_parse_interval(text, mask, &iv) != PL_OK)
            return sq_fail(err, PL_ERR_SQL, pos, "invalid interval \"%s\"", text);
        pl_expr *e = pl_expr_lit_interval(iv.months, iv.days, iv.ns);
        if (!e) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning SQL");
        e->sql_pos = pos;
        *out = e;
    }
    return PL_OK;
}
