/* expr.c - expression trees (include/polaroid/expr.h): constructors, refcounting, deep copy,
 * structural equality, SQL-like printing and default output names.
 *
 * Invariants: a tree is immutable once shared (refcount > 1); constructors take the references
 * passed to them, also when they fail (they then release them and return NULL); printing
 * never allocates (it writes into the caller's buffer and truncates). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expr/expr_int.h"

/* ---------------------------------------------------------------- constructors */

static pl_expr *node_new(pl_expr_kind kind) {
    pl_expr *e = pl_calloc(1, sizeof *e);
    if (!e) return NULL;
    e->kind = kind;
    e->index = -1;
    e->sql_pos = -1;
    e->refcount = 1;
    pl_value_init_null(&e->value);
    pl_value_init_null(&e->frame.start_offset);
    pl_value_init_null(&e->frame.end_offset);
    return e;
}

pl_expr *pl_expr_col(const char *name) { return pl_expr_col_qualified(NULL, name); }

pl_expr *pl_expr_col_qualified(const char *qualifier, const char *name) {
    if (!name) return NULL;
    pl_expr *e = node_new(PL_EXPR_COLUMN);
    if (!e) return NULL;
    e->name = pl_strdup(name);
    if (qualifier) e->qualifier = pl_strdup(qualifier);
    if (!e->name || (qualifier && !e->qualifier)) {
        pl_expr_release(e);
        return NULL;
    }
    return e;
}

pl_expr *pl_expr_col_index(int32_t index, const char *name) {
    pl_expr *e = node_new(PL_EXPR_COLUMN);
    if (!e) return NULL;
    e->index = index;
    char tmp[32];
    if (!name) {
        snprintf(tmp, sizeof tmp, "#%d", (int)index);
        name = tmp;
    }
    e->name = pl_strdup(name);
    if (!e->name) {
        pl_expr_release(e);
        return NULL;
    }
    return e;
}

pl_expr *pl_expr_lit_value(pl_value *v) {
    pl_expr *e = node_new(PL_EXPR_LITERAL);
    if (!e) {
        pl_value_reset(v);
        return NULL;
    }
    e->value = *v;
    pl_value_init_null(v);
    return e;
}

pl_expr *pl_expr_lit_null(void) {
    pl_value v;
    pl_value_init_null(&v);
    return pl_expr_lit_value(&v);
}

pl_expr *pl_expr_lit_bool(bool b) {
    pl_value v;
    pl_value_init_null(&v);
    v.type = pl_type_simple(PL_TYPE_BOOL);
    v.is_null = false;
    v.v.b = b;
    return pl_expr_lit_value(&v);
}

pl_expr *pl_expr_lit_i64(int64_t i) {
    pl_value v;
    pl_value_init_null(&v);
    v.type = pl_type_simple(PL_TYPE_INT64);
    v.is_null = false;
    v.v.i = i;
    return pl_expr_lit_value(&v);
}

pl_expr *pl_expr_lit_f64(double f) {
    pl_value v;
    pl_value_init_null(&v);
    v.type = pl_type_simple(PL_TYPE_FLOAT64);
    v.is_null = false;
    v.v.f = f;
    return pl_expr_lit_value(&v);
}

pl_expr *pl_expr_lit_str(const char *s) {
    if (!s) return NULL;
    pl_value v;
    pl_value_init_null(&v);
    size_t n = strlen(s);
    v.str = pl_malloc(n + 1);
    if (!v.str) return NULL;
    memcpy(v.str, s, n + 1);
    v.str_len = (int64_t)n;
    v.type = pl_type_simple(PL_TYPE_UTF8);
    v.is_null = false;
    return pl_expr_lit_value(&v);
}

pl_expr *pl_expr_lit_interval(int32_t months, int32_t days, int64_t ns) {
    pl_value v;
    pl_value_init_null(&v);
    v.type = pl_type_simple(PL_TYPE_INTERVAL);
    v.is_null = false;
    v.v.iv.months = months;
    v.v.iv.days = days;
    v.v.iv.ns = ns;
    return pl_expr_lit_value(&v);
}

static void release_all(int32_t n, pl_expr **args) {
    for (int32_t i = 0; i < n; i++) pl_expr_release(args ? args[i] : NULL);
}

/* Copies the caller's argument vector into e->args (taking the references). */
static bool take_args(pl_expr *e, int32_t n, pl_expr **args) {
    if (n <= 0) return true;
    e->args = pl_malloc((size_t)n * sizeof *e->args);
    if (!e->args) return false;
    memcpy(e->args, args, (size_t)n * sizeof *e->args);
    e->n_args = n;
    return true;
}

static bool any_null(int32_t n, pl_expr **args) {
    if (n > 0 && !args) return true;
    for (int32_t i = 0; i < n; i++)
        if (!args[i]) return true;
    return false;
}

pl_expr *pl_expr_call(const char *name, int32_t n_args, pl_expr **args) {
    if (!name || n_args < 0 || any_null(n_args, args)) {
        release_all(n_args, args);
        return NULL;
    }
    pl_expr *e = node_new(PL_EXPR_CALL);
    if (!e || !(e->name = pl_strdup(name)) || !take_args(e, n_args, args)) {
        release_all(n_args, args);
        pl_expr_release(e);
        return NULL;
    }
    return e;
}

pl_expr *pl_expr_call1(const char *name, pl_expr *a) {
    pl_expr *args[1] = {a};
    return pl_expr_call(name, 1, args);
}
pl_expr *pl_expr_call2(const char *name, pl_expr *a, pl_expr *b) {
    pl_expr *args[2] = {a, b};
    return pl_expr_call(name, 2, args);
}
pl_expr *pl_expr_call3(const char *name, pl_expr *a, pl_expr *b, pl_expr *c) {
    pl_expr *args[3] = {a, b, c};
    return pl_expr_call(name, 3, args);
}

pl_expr *pl_expr_cast(pl_expr *x, pl_type *type, bool try_cast) {
    if (!x || !type) {
        pl_expr_release(x);
        pl_type_release(type);
        return NULL;
    }
    pl_expr *e = node_new(PL_EXPR_CAST);
    if (!e || !take_args(e, 1, &x)) {
        pl_expr_release(x);
        pl_type_release(type);
        pl_expr_release(e);
        return NULL;
    }
    e->cast_type = type;
    e->try_cast = try_cast;
    return e;
}

static void release_order(int32_t n, pl_sort_key *order) {
    for (int32_t i = 0; i < n; i++) pl_expr_release(order ? order[i].expr : NULL);
}

static bool order_has_null(int32_t n, pl_sort_key *order) {
    if (n > 0 && !order) return true;
    for (int32_t i = 0; i < n; i++)
        if (!order[i].expr) return true;
    return false;
}

static bool take_order(pl_expr *e, int32_t n, pl_sort_key *order) {
    if (n <= 0) return true;
    e->order = pl_malloc((size_t)n * sizeof *e->order);
    if (!e->order) return false;
    memcpy(e->order, order, (size_t)n * sizeof *e->order);
    e->n_order = n;
    return true;
}

pl_expr *pl_expr_agg(const char *name, int32_t n_args, pl_expr **args, bool distinct,
                     pl_expr *filter, int32_t n_order, pl_sort_key *order) {
    pl_expr *e = NULL;
    if (!name || n_args < 0 || n_order < 0 || any_null(n_args, args) ||
        order_has_null(n_order, order))
        goto fail;
    e = node_new(PL_EXPR_AGG);
    if (!e || !(e->name = pl_strdup(name))) goto fail;
    if (!take_args(e, n_args, args)) goto fail;
    if (!take_order(e, n_order, order)) {
        e->n_args = 0; /* the args are released below, once */
        goto fail;
    }
    e->distinct = distinct;
    e->filter = filter;
    return e;
fail:
    if (e) {
        e->n_args = 0;
        e->n_order = 0;
    }
    pl_expr_release(e);
    release_all(n_args, args);
    release_order(n_order, order);
    pl_expr_release(filter);
    return NULL;
}

pl_expr *pl_expr_window(const char *name, int32_t n_args, pl_expr **args, int32_t n_partition,
                        pl_expr **partition, int32_t n_order, pl_sort_key *order,
                        const pl_window_frame *frame) {
    pl_expr *e = NULL;
    if (!name || n_args < 0 || n_partition < 0 || n_order < 0 || any_null(n_args, args) ||
        any_null(n_partition, partition) || order_has_null(n_order, order))
        goto fail;
    e = node_new(PL_EXPR_WINDOW);
    if (!e || !(e->name = pl_strdup(name))) goto fail;
    if (!take_args(e, n_args, args)) goto fail;
    if (n_partition > 0) {
        e->partition = pl_malloc((size_t)n_partition * sizeof *e->partition);
        if (!e->partition) goto fail;
        memcpy(e->partition, partition, (size_t)n_partition * sizeof *e->partition);
        e->n_partition = n_partition;
    }
    if (!take_order(e, n_order, order)) goto fail;
    if (frame) {
        e->frame = *frame;
        /* the values are moved: the caller's frame is const, so its owner must not reset them */
    }
    return e;
fail:
    if (e) {
        e->n_args = 0;
        e->n_partition = 0;
        e->n_order = 0;
    }
    pl_expr_release(e);
    release_all(n_args, args);
    release_all(n_partition, partition);
    release_order(n_order, order);
    if (frame) {
        pl_value_reset((pl_value *)&frame->start_offset);
        pl_value_reset((pl_value *)&frame->end_offset);
    }
    return NULL;
}

pl_expr *pl_expr_retain(pl_expr *e) {
    if (e) __atomic_add_fetch(&e->refcount, 1, __ATOMIC_RELAXED);
    return e;
}

void pl_expr_release(pl_expr *e) {
    if (!e) return;
    if (__atomic_sub_fetch(&e->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    pl_free(e->name);
    pl_free(e->qualifier);
    pl_value_reset(&e->value);
    pl_type_release(e->cast_type);
    release_all(e->n_args, e->args);
    pl_free(e->args);
    pl_expr_release(e->filter);
    release_order(e->n_order, e->order);
    pl_free(e->order);
    release_all(e->n_partition, e->partition);
    pl_free(e->partition);
    pl_value_reset(&e->frame.start_offset);
    pl_value_reset(&e->frame.end_offset);
    pl_free(e);
}

/* ---------------------------------------------------------------- clone */

static pl_expr **clone_vec(int32_t n, pl_expr *const *src, bool *ok) {
    if (n <= 0) return NULL;
    pl_expr **v = pl_calloc((size_t)n, sizeof *v);
    if (!v) {
        *ok = false;
        return NULL;
    }
    for (int32_t i = 0; i < n; i++) {
        v[i] = pl_expr_clone(src[i]);
        if (!v[i]) *ok = false;
    }
    return v;
}

pl_expr *pl_expr_clone(const pl_expr *s) {
    if (!s) return NULL;
    pl_expr *e = node_new(s->kind);
    if (!e) return NULL;
    bool ok = true;
    e->index = s->index;
    e->try_cast = s->try_cast;
    e->typed_lit = s->typed_lit;
    e->distinct = s->distinct;
    e->ignore_nulls = s->ignore_nulls;
    e->sql_pos = s->sql_pos;
    if (s->name && !(e->name = pl_strdup(s->name))) ok = false;
    if (s->qualifier && !(e->qualifier = pl_strdup(s->qualifier))) ok = false;
    if (pl_value_copy(&s->value, &e->value, NULL) != PL_OK) ok = false;
    e->cast_type = pl_type_retain(s->cast_type);
    e->args = clone_vec(s->n_args, s->args, &ok);
    if (e->args) e->n_args = s->n_args;
    if (s->filter && !(e->filter = pl_expr_clone(s->filter))) ok = false;
    if (s->n_order > 0) {
        e->order = pl_calloc((size_t)s->n_order, sizeof *e->order);
        if (!e->order) {
            ok = false;
        } else {
            e->n_order = s->n_order;
            for (int32_t i = 0; i < s->n_order; i++) {
                e->order[i] = s->order[i];
                e->order[i].expr = pl_expr_clone(s->order[i].expr);
                if (!e->order[i].expr) ok = false;
            }
        }
    }
    e->partition = clone_vec(s->n_partition, s->partition, &ok);
    if (e->partition) e->n_partition = s->n_partition;
    e->frame.present = s->frame.present;
    e->frame.unit = s->frame.unit;
    e->frame.start_kind = s->frame.start_kind;
    e->frame.end_kind = s->frame.end_kind;
    e->frame.exclude = s->frame.exclude;
    if (pl_value_copy(&s->frame.start_offset, &e->frame.start_offset, NULL) != PL_OK) ok = false;
    if (pl_value_copy(&s->frame.end_offset, &e->frame.end_offset, NULL) != PL_OK) ok = false;
    if (!ok) {
        pl_expr_release(e);
        return NULL;
    }
    return e;
}

/* ---------------------------------------------------------------- equality */

static bool str_eq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

static bool value_eq(const pl_value *a, const pl_value *b) {
    if (a->is_null != b->is_null) return false;
    if (!pl_type_equals(a->type, b->type)) return false;
    if (a->is_null) return true;
    switch (a->type->id) {
    case PL_TYPE_BOOL: return a->v.b == b->v.b;
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64:
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0 || (a->v.f != a->v.f && b->v.f != b->v.f);
    case PL_TYPE_DECIMAL128: return a->v.dec.lo == b->v.dec.lo && a->v.dec.hi == b->v.dec.hi;
    case PL_TYPE_INTERVAL:
        return a->v.iv.months == b->v.iv.months && a->v.iv.days == b->v.iv.days &&
               a->v.iv.ns == b->v.iv.ns;
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY:
        return a->str_len == b->str_len &&
               (a->str_len == 0 || memcmp(a->str, b->str, (size_t)a->str_len) == 0);
    default: return a->v.i == b->v.i;
    }
}

static bool vec_eq(int32_t n, pl_expr *const *a, pl_expr *const *b) {
    for (int32_t i = 0; i < n; i++)
        if (!pl_expr_equals(a[i], b[i])) return false;
    return true;
}

bool pl_expr_equals(const pl_expr *a, const pl_expr *b) {
    if (a == b) return true;
    if (!a || !b) return false;
    if (a->kind != b->kind || !str_eq(a->name, b->name) || a->n_args != b->n_args) return false;
    switch (a->kind) {
    case PL_EXPR_COLUMN:
        return a->index == b->index && str_eq(a->qualifier, b->qualifier);
    case PL_EXPR_LITERAL: return a->typed_lit == b->typed_lit && value_eq(&a->value, &b->value);
    case PL_EXPR_CALL: return vec_eq(a->n_args, a->args, b->args);
    case PL_EXPR_CAST:
        return a->try_cast == b->try_cast && pl_type_equals(a->cast_type, b->cast_type) &&
               vec_eq(a->n_args, a->args, b->args);
    case PL_EXPR_AGG:
    case PL_EXPR_WINDOW:
        if (a->distinct != b->distinct || a->n_order != b->n_order ||
            a->ignore_nulls != b->ignore_nulls || a->n_partition != b->n_partition)
            return false;
        if (!vec_eq(a->n_args, a->args, b->args)) return false;
        if (!pl_expr_equals(a->filter, b->filter)) return false;
        for (int32_t i = 0; i < a->n_order; i++)
            if (a->order[i].descending != b->order[i].descending ||
                a->order[i].nulls_first != b->order[i].nulls_first ||
                !pl_expr_equals(a->order[i].expr, b->order[i].expr))
                return false;
        if (!vec_eq(a->n_partition, a->partition, b->partition)) return false;
        if (a->frame.present != b->frame.present) return false;
        if (a->frame.present &&
            (a->frame.unit != b->frame.unit || a->frame.start_kind != b->frame.start_kind ||
             a->frame.end_kind != b->frame.end_kind || a->frame.exclude != b->frame.exclude ||
             !value_eq(&a->frame.start_offset, &b->frame.start_offset) ||
             !value_eq(&a->frame.end_offset, &b->frame.end_offset)))
            return false;
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- printing */

typedef struct out_buf {
    char *p;
    size_t cap, len; /* len may exceed cap: the text is then truncated */
    bool duck;       /* DuckDB's column-name spelling (LIKE as ~~) */
} out_buf;

static void put(out_buf *o, const char *s) {
    size_t n = strlen(s);
    if (o->len < o->cap) {
        size_t room = o->cap - o->len - 1;
        size_t k = n < room ? n : room;
        memcpy(o->p + o->len, s, k);
        o->p[o->len + k] = '\0';
    }
    o->len += n;
}

/* Appends formatted text to buf (n bytes, *len used so far; truncates, keeps the NUL). */
static void appf(char *buf, size_t n, size_t *len, const char *fmt, ...) PL_PRINTF(4, 5);
static void appf(char *buf, size_t n, size_t *len, const char *fmt, ...) {
    size_t at = PL_MIN(*len, n - 1);
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + at, n - at, fmt, ap);
    va_end(ap);
    if (w > 0) *len = at + (size_t)w;
}

/* Appends to buf (at *len of n bytes, truncating) the SQL type name of t as DuckDB prints it. */
static void sql_type_name(const pl_type *t, char *buf, size_t n, size_t *len) {
    const char *s = NULL;
    char tmp[64];
    switch (t->id) {
    case PL_TYPE_NA: s = "\"NULL\""; break;
    case PL_TYPE_BOOL: s = "BOOLEAN"; break;
    case PL_TYPE_INT8: s = "TINYINT"; break;
    case PL_TYPE_INT16: s = "SMALLINT"; break;
    case PL_TYPE_INT32: s = "INTEGER"; break;
    case PL_TYPE_INT64: s = "BIGINT"; break;
    case PL_TYPE_UINT8: s = "UTINYINT"; break;
    case PL_TYPE_UINT16: s = "USMALLINT"; break;
    case PL_TYPE_UINT32: s = "UINTEGER"; break;
    case PL_TYPE_UINT64: s = "UBIGINT"; break;
    case PL_TYPE_FLOAT32: s = "FLOAT"; break;
    case PL_TYPE_FLOAT64: s = "DOUBLE"; break;
    case PL_TYPE_DECIMAL128:
        snprintf(tmp, sizeof tmp, "DECIMAL(%d,%d)", (int)t->precision, (int)t->scale);
        s = tmp;
        break;
    case PL_TYPE_UTF8: s = t->ext == PL_EXT_JSON ? "JSON" : "VARCHAR"; break;
    case PL_TYPE_BINARY:
    case PL_TYPE_FIXED_BINARY: s = "BLOB"; break;
    case PL_TYPE_DATE32: s = "DATE"; break;
    case PL_TYPE_TIME64: s = "TIME"; break;
    case PL_TYPE_TIMESTAMP:
        s = t->tz                  ? "TIMESTAMP WITH TIME ZONE"
            : t->unit == PL_UNIT_NS ? "TIMESTAMP_NS"
            : t->unit == PL_UNIT_MS ? "TIMESTAMP_MS"
            : t->unit == PL_UNIT_S  ? "TIMESTAMP_S"
                                    : "TIMESTAMP";
        break;
    case PL_TYPE_INTERVAL: s = "INTERVAL"; break;
    case PL_TYPE_DICTIONARY: sql_type_name(t->value_type, buf, n, len); return;
    case PL_TYPE_LIST:
        if (t->n_children == 1) {
            sql_type_name(t->children[0].type, buf, n, len);
            s = "[]";
        }
        break;
    case PL_TYPE_STRUCT:
    case PL_TYPE_MAP: {
        bool map = t->id == PL_TYPE_MAP;
        const pl_type *kv = map && t->n_children == 1 ? t->children[0].type : t;
        if (map && (kv->id != PL_TYPE_STRUCT || kv->n_children != 2)) break;
        appf(buf, n, len, "%s", map ? "MAP(" : "STRUCT(");
        for (int32_t i = 0; i < kv->n_children; i++) {
            if (i) appf(buf, n, len, ", ");
            if (!map) appf(buf, n, len, "%s ", kv->children[i].name ? kv->children[i].name : "");
            sql_type_name(kv->children[i].type, buf, n, len);
        }
        s = ")";
        break;
    }
    default: break;
    }
    if (!s) s = pl_type_to_string(t, tmp, sizeof tmp);
    appf(buf, n, len, "%s", s);
}

const char *pl_sql_type_name(const pl_type *t, char *buf, size_t n) {
    size_t len = 0;
    if (n == 0) return buf;
    buf[0] = 0;
    sql_type_name(t, buf, n, &len);
    return buf;
}

/* SQL type name as DuckDB prints it in CAST(...) */
static void put_sql_type(out_buf *o, const pl_type *t) {
    char tmp[256];
    put(o, pl_sql_type_name(t, tmp, sizeof tmp));
}

static void put_literal(out_buf *o, const pl_value *v) {
    if (v->is_null) {
        put(o, "NULL");
        return;
    }
    char tmp[256];
    switch (v->type->id) {
    case PL_TYPE_UTF8: {
        put(o, "'");
        /* double the quotes, in pieces */
        const char *s = v->str;
        for (int64_t i = 0; i < v->str_len; i++) {
            char c[2] = {s[i], 0};
            put(o, c[0] == '\'' ? "''" : c);
        }
        put(o, "'");
        return;
    }
    case PL_TYPE_DATE32:
    case PL_TYPE_TIMESTAMP:
    case PL_TYPE_TIME64:
    case PL_TYPE_INTERVAL:
    case PL_TYPE_BINARY:
        put(o, "CAST('");
        put(o, pl_value_to_string(v, tmp, sizeof tmp));
        put(o, "' AS ");
        put_sql_type(o, v->type);
        put(o, ")");
        return;
    default: put(o, pl_value_to_string(v, tmp, sizeof tmp)); return;
    }
}

static void put_expr(out_buf *o, const pl_expr *e);

static void put_args(out_buf *o, const pl_expr *e, int32_t from) {
    for (int32_t i = from; i < e->n_args; i++) {
        if (i > from) put(o, ", ");
        put_expr(o, e->args[i]);
    }
}

typedef struct infix_op {
    const char *name;
    const char *sql;
    const char *duck; /* DuckDB's spelling when different */
} infix_op;

static const infix_op INFIX[] = {
    {"add", "+", NULL},       {"sub", "-", NULL},        {"mul", "*", NULL},
    {"div", "/", NULL},       {"mod", "%", NULL},        {"int_div", "//", NULL},
    {"eq", "=", NULL},        {"ne", "!=", NULL},        {"lt", "<", NULL},
    {"le", "<=", NULL},       {"gt", ">", NULL},         {"ge", ">=", NULL},
    {"concat_op", "||", NULL}, {"like", "LIKE", "~~"},   {"ilike", "ILIKE", "~~*"},
    {"is_distinct_from", "IS DISTINCT FROM", NULL},
    {"is_not_distinct_from", "IS NOT DISTINCT FROM", NULL},
};

static void put_call(out_buf *o, const pl_expr *e) {
    const char *n = e->name;
    int32_t na = e->n_args;
    if (na == 2) {
        for (size_t i = 0; i < PL_ARRAY_LEN(INFIX); i++) {
            if (strcmp(n, INFIX[i].name) != 0) continue;
            put(o, "(");
            put_expr(o, e->args[0]);
            put(o, " ");
            put(o, o->duck && INFIX[i].duck ? INFIX[i].duck : INFIX[i].sql);
            put(o, " ");
            put_expr(o, e->args[1]);
            put(o, ")");
            return;
        }
    }
    if ((strcmp(n, "and") == 0 || strcmp(n, "or") == 0) && na >= 2) {
        put(o, "(");
        for (int32_t i = 0; i < na; i++) {
            if (i) put(o, strcmp(n, "and") == 0 ? " AND " : " OR ");
            put_expr(o, e->args[i]);
        }
        put(o, ")");
        return;
    }
    if (na == 3 && (strcmp(n, "like") == 0 || strcmp(n, "ilike") == 0)) {
        put(o, "(");
        put_expr(o, e->args[0]);
        put(o, n[0] == 'l' ? " LIKE " : " ILIKE ");
        put_expr(o, e->args[1]);
        put(o, " ESCAPE ");
        put_expr(o, e->args[2]);
        put(o, ")");
        return;
    }
    if (na == 1) {
        if (strcmp(n, "not") == 0) {
            put(o, "(NOT ");
            put_expr(o, e->args[0]);
            put(o, ")");
            return;
        }
        if (strcmp(n, "neg") == 0) {
            put(o, "(-(");
            put_expr(o, e->args[0]);
            put(o, "))");
            return;
        }
        static const char *const POSTFIX[][2] = {{"is_null", " IS NULL"},
                                                 {"is_not_null", " IS NOT NULL"},
                                                 {"is_true", " IS TRUE"},
                                                 {"is_false", " IS FALSE"}};
        for (size_t i = 0; i < PL_ARRAY_LEN(POSTFIX); i++) {
            if (strcmp(n, POSTFIX[i][0]) != 0) continue;
            put(o, "(");
            put_expr(o, e->args[0]);
            put(o, POSTFIX[i][1]);
            put(o, ")");
            return;
        }
    }
    if (strcmp(n, "in") == 0 && na >= 1) {
        put(o, "(");
        put_expr(o, e->args[0]);
        put(o, " IN (");
        put_args(o, e, 1);
        put(o, "))");
        return;
    }
    if (strcmp(n, "between") == 0 && na == 3) {
        put(o, "(");
        put_expr(o, e->args[0]);
        put(o, " BETWEEN ");
        put_expr(o, e->args[1]);
        put(o, " AND ");
        put_expr(o, e->args[2]);
        put(o, ")");
        return;
    }
    if (strcmp(n, "case") == 0 && na >= 2) {
        put(o, "CASE ");
        int32_t i = 0;
        for (; i + 1 < na; i += 2) {
            put(o, " WHEN (");
            put_expr(o, e->args[i]);
            put(o, ") THEN (");
            put_expr(o, e->args[i + 1]);
            put(o, ")");
        }
        put(o, " ELSE ");
        if (i < na) put_expr(o, e->args[i]);
        else put(o, "NULL");
        put(o, " END");
        return;
    }
    if (strcmp(n, "coalesce") == 0) {
        put(o, "COALESCE(");
        put_args(o, e, 0);
        put(o, ")");
        return;
    }
    put(o, n);
    put(o, "(");
    put_args(o, e, 0);
    put(o, ")");
}

static void put_expr(out_buf *o, const pl_expr *e) {
    if (!e) {
        put(o, "?");
        return;
    }
    switch (e->kind) {
    case PL_EXPR_COLUMN:
        if (e->qualifier && !o->duck) {
            put(o, e->qualifier);
            put(o, ".");
        }
        put(o, e->name ? e->name : "?");
        return;
    case PL_EXPR_LITERAL: put_literal(o, &e->value); return;
    case PL_EXPR_CALL: put_call(o, e); return;
    case PL_EXPR_CAST:
        put(o, e->try_cast ? "TRY_CAST(" : "CAST(");
        if (e->n_args > 0) put_expr(o, e->args[0]);
        put(o, " AS ");
        put_sql_type(o, e->cast_type);
        put(o, ")");
        return;
    case PL_EXPR_AGG:
    case PL_EXPR_WINDOW:
        if (e->kind == PL_EXPR_AGG && e->n_args == 0 && strcmp(e->name, "count") == 0) {
            put(o, o->duck ? "count_star()" : "count(*)");
        } else {
            put(o, e->name);
            put(o, "(");
            if (e->distinct) put(o, "DISTINCT ");
            put_args(o, e, 0);
            if (e->kind == PL_EXPR_AGG && e->n_order > 0) {
                put(o, " ORDER BY ");
                for (int32_t i = 0; i < e->n_order; i++) {
                    if (i) put(o, ", ");
                    put_expr(o, e->order[i].expr);
                    if (e->order[i].descending) put(o, " DESC");
                }
            }
            put(o, ")");
        }
        if (e->filter) {
            put(o, " FILTER (WHERE ");
            put_expr(o, e->filter);
            put(o, ")");
        }
        if (e->kind == PL_EXPR_WINDOW) {
            if (e->ignore_nulls) put(o, " IGNORE NULLS");
            put(o, " OVER (");
            bool sp = false;
            if (e->n_partition > 0) {
                put(o, "PARTITION BY ");
                for (int32_t i = 0; i < e->n_partition; i++) {
                    if (i) put(o, ", ");
                    put_expr(o, e->partition[i]);
                }
                sp = true;
            }
            if (e->n_order > 0) {
                put(o, sp ? " ORDER BY " : "ORDER BY ");
                for (int32_t i = 0; i < e->n_order; i++) {
                    if (i) put(o, ", ");
                    put_expr(o, e->order[i].expr);
                    if (e->order[i].descending) put(o, " DESC");
                }
                sp = true;
            }
            if (e->frame.present) {
                static const char *const BOUND[] = {"UNBOUNDED PRECEDING", "PRECEDING",
                                                    "CURRENT ROW", "FOLLOWING",
                                                    "UNBOUNDED FOLLOWING"};
                char tmp[64];
                put(o, sp ? " " : "");
                put(o, e->frame.unit == PL_FRAME_ROWS     ? "ROWS BETWEEN "
                       : e->frame.unit == PL_FRAME_GROUPS ? "GROUPS BETWEEN "
                                                          : "RANGE BETWEEN ");
                if (e->frame.start_kind == PL_BOUND_PRECEDING ||
                    e->frame.start_kind == PL_BOUND_FOLLOWING) {
                    put(o, pl_value_to_string(&e->frame.start_offset, tmp, sizeof tmp));
                    put(o, " ");
                }
                put(o, BOUND[e->frame.start_kind]);
                put(o, " AND ");
                if (e->frame.end_kind == PL_BOUND_PRECEDING ||
                    e->frame.end_kind == PL_BOUND_FOLLOWING) {
                    put(o, pl_value_to_string(&e->frame.end_offset, tmp, sizeof tmp));
                    put(o, " ");
                }
                put(o, BOUND[e->frame.end_kind]);
                static const char *const EXCL[] = {"", " EXCLUDE CURRENT ROW", " EXCLUDE GROUP",
                                                   " EXCLUDE TIES"};
                if (e->frame.exclude > PL_EXCLUDE_NO_OTHERS && e->frame.exclude <= PL_EXCLUDE_TIES)
                    put(o, EXCL[e->frame.exclude]);
            }
            put(o, ")");
        }
        return;
    }
}

const char *pl_expr_to_string(const pl_expr *e, char *buf, size_t buf_size) {
    if (!buf || buf_size == 0) return buf;
    buf[0] = '\0';
    out_buf o = {buf, buf_size, 0, false};
    put_expr(&o, e);
    return buf;
}

const char *pl_expr_default_name(const pl_expr *e, char *buf, size_t buf_size) {
    if (!buf || buf_size == 0) return buf;
    buf[0] = '\0';
    if (e && e->kind == PL_EXPR_COLUMN) {
        snprintf(buf, buf_size, "%s", e->name ? e->name : "");
        return buf;
    }
    out_buf o = {buf, buf_size, 0, true};
    put_expr(&o, e);
    return buf;
}
