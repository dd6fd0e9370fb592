/* bind.c - binding expressions to kernels: the function registry over the four function sets,
 * name resolution of column references, implicit casts (type rules), constant folding and
 * freeing of bound trees.
 *
 * Invariants: every bound node has a type; a call's args are bound before its fn->bind runs;
 * a column reference bound as a call argument has its logical type (a DICTIONARY column's
 * value type: the evaluator decodes or uses the dictionary fast path), while a top-level
 * column reference keeps the field's type (its arrays pass through unchanged). */
#include <ctype.h>
#include <stdio.h>
#include <strings.h>

#include "expr/expr_core.h"

/* ---------------------------------------------------------------- registry */

static const pl_func_set *const g_sets[] = {&pl_funcs_core, &pl_funcs_math, &pl_funcs_string,
                                            &pl_funcs_time, &pl_funcs_extra, &pl_funcs_list, &pl_funcs_json,
                                            &pl_funcs_lambda, &pl_funcs_map};

static bool alias_match(const char *aliases, const char *name) {
    size_t n = strlen(name);
    const char *p = aliases;
    while (p && *p) {
        while (*p == ' ') p++;
        const char *q = p;
        while (*q && *q != ' ') q++;
        if ((size_t)(q - p) == n && strncasecmp(p, name, n) == 0) return true;
        p = q;
    }
    return false;
}

const pl_func_def *pl_func_lookup(const char *name) {
    if (!name) return NULL;
    for (size_t s = 0; s < PL_ARRAY_LEN(g_sets); s++) {
        const pl_func_set *set = g_sets[s];
        for (int32_t i = 0; i < set->n; i++)
            if (strcasecmp(set->defs[i].name, name) == 0) return &set->defs[i];
    }
    for (size_t s = 0; s < PL_ARRAY_LEN(g_sets); s++) {
        const pl_func_set *set = g_sets[s];
        for (int32_t i = 0; i < set->n; i++)
            if (set->defs[i].aliases && alias_match(set->defs[i].aliases, name))
                return &set->defs[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- type rules */

bool pl_type_is_integer(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }
bool pl_type_is_numeric(pl_type_id id) {
    return (id >= PL_TYPE_INT8 && id <= PL_TYPE_DECIMAL128);
}
bool pl_type_is_temporal(pl_type_id id) {
    return id == PL_TYPE_DATE32 || id == PL_TYPE_TIME64 || id == PL_TYPE_TIMESTAMP ||
           id == PL_TYPE_INTERVAL;
}

static bool is_signed_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_INT64; }
static int int_width(pl_type_id id) { /* bytes */
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_UINT8: return 1;
    case PL_TYPE_INT16: case PL_TYPE_UINT16: return 2;
    case PL_TYPE_INT32: case PL_TYPE_UINT32: return 4;
    default: return 8;
    }
}
static pl_type_id signed_of_width(int w) {
    return w == 1 ? PL_TYPE_INT8 : w == 2 ? PL_TYPE_INT16 : w == 4 ? PL_TYPE_INT32 : PL_TYPE_INT64;
}
static pl_type_id unsigned_of_width(int w) {
    return w == 1 ? PL_TYPE_UINT8 : w == 2 ? PL_TYPE_UINT16 : w == 4 ? PL_TYPE_UINT32 : PL_TYPE_UINT64;
}

/* Decimal digits an integer type needs. */
int pl_int_digits(pl_type_id id);
int pl_int_digits(pl_type_id id) {
    switch (id) {
    case PL_TYPE_INT8: case PL_TYPE_UINT8: return 3;
    case PL_TYPE_INT16: case PL_TYPE_UINT16: return 5;
    case PL_TYPE_INT32: case PL_TYPE_UINT32: return 10;
    case PL_TYPE_INT64: return 19;
    default: return 20;
    }
}

static pl_type *decimal_type(int32_t p, int32_t s) {
    if (p > 38) p = 38;
    if (s > p) s = p;
    pl_type *t = NULL;
    if (pl_type_new_decimal(p < 1 ? 1 : p, s, &t, NULL) != PL_OK) return NULL;
    return t;
}

static const pl_type *logical(const pl_type *t) {
    return t && t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
}

pl_type *pl_type_common_super(const pl_type *a, const pl_type *b) {
    a = logical(a);
    b = logical(b);
    if (!a || !b) return NULL;
    if (pl_type_equals(a, b)) return pl_type_retain((pl_type *)a);
    if (a->id == PL_TYPE_NA) return pl_type_retain((pl_type *)b);
    if (b->id == PL_TYPE_NA) return pl_type_retain((pl_type *)a);
    pl_type_id x = a->id, y = b->id;
    /* JSON with VARCHAR: both are text, compared and combined as VARCHAR */
    if (x == PL_TYPE_UTF8 && y == PL_TYPE_UTF8) return pl_type_simple(PL_TYPE_UTF8);
    if (pl_type_is_integer(x) && pl_type_is_integer(y)) {
        bool sx = is_signed_int(x), sy = is_signed_int(y);
        int wx = int_width(x), wy = int_width(y);
        if (sx == sy) return pl_type_simple(sx ? signed_of_width(PL_MAX(wx, wy))
                                                : unsigned_of_width(PL_MAX(wx, wy)));
        int ws = sx ? wx : wy, wu = sx ? wy : wx;
        /* signed + unsigned: a signed type wider than the unsigned one (int64 at most) */
        if (ws > wu) return pl_type_simple(signed_of_width(ws));
        return pl_type_simple(signed_of_width(wu >= 8 ? 8 : wu * 2));
    }
    if (x == PL_TYPE_FLOAT64 && pl_type_is_numeric(y)) return pl_type_simple(PL_TYPE_FLOAT64);
    if (y == PL_TYPE_FLOAT64 && pl_type_is_numeric(x)) return pl_type_simple(PL_TYPE_FLOAT64);
    if ((x == PL_TYPE_FLOAT32 && pl_type_is_numeric(y)) ||
        (y == PL_TYPE_FLOAT32 && pl_type_is_numeric(x)))
        return pl_type_simple(PL_TYPE_FLOAT32);
    if (x == PL_TYPE_DECIMAL128 || y == PL_TYPE_DECIMAL128) {
        const pl_type *d = x == PL_TYPE_DECIMAL128 ? a : b;
        const pl_type *o = x == PL_TYPE_DECIMAL128 ? b : a;
        if (o->id == PL_TYPE_DECIMAL128) {
            int32_t s = PL_MAX(d->scale, o->scale);
            int32_t ip = PL_MAX(d->precision - d->scale, o->precision - o->scale);
            return decimal_type(ip + s, s);
        }
        if (pl_type_is_integer(o->id)) {
            int32_t ip = PL_MAX(d->precision - d->scale, pl_int_digits(o->id));
            return decimal_type(ip + d->scale, d->scale);
        }
        return NULL;
    }
    if ((x == PL_TYPE_DATE32 && y == PL_TYPE_TIMESTAMP) ||
        (x == PL_TYPE_TIMESTAMP && y == PL_TYPE_DATE32))
        return pl_type_retain((pl_type *)(x == PL_TYPE_TIMESTAMP ? a : b));
    if (x == PL_TYPE_TIMESTAMP && y == PL_TYPE_TIMESTAMP) {
        pl_time_unit u = PL_MAX(a->unit, b->unit);
        const char *tz = a->tz ? a->tz : b->tz;
        pl_type *t = NULL;
        if (pl_type_new_timestamp(u, tz, &t, NULL) != PL_OK) return NULL;
        return t;
    }
    if (x == PL_TYPE_TIME64 && y == PL_TYPE_TIME64)
        return pl_type_retain((pl_type *)(a->unit >= b->unit ? a : b));
    if ((x == PL_TYPE_UTF8 && y == PL_TYPE_BINARY) || (x == PL_TYPE_BINARY && y == PL_TYPE_UTF8))
        return pl_type_simple(PL_TYPE_BINARY);
    if (x == PL_TYPE_LIST && y == PL_TYPE_LIST) { /* lists of the elements' common type */
        pl_type *e = pl_type_common_super(a->children[0].type, b->children[0].type), *t = NULL;
        if (e && pl_type_new_list("item", e, true, &t, NULL) != PL_OK) t = NULL;
        pl_type_release(e);
        return t;
    }
    if (x == PL_TYPE_MAP && y == PL_TYPE_MAP) { /* maps of the keys' and values' common types */
        const pl_type *ea = a->children[0].type, *eb = b->children[0].type;
        pl_type *k = pl_type_common_super(ea->children[0].type, eb->children[0].type);
        pl_type *v = pl_type_common_super(ea->children[1].type, eb->children[1].type), *t = NULL;
        if (k && v && pl_type_new_map(k, v, true, &t, NULL) != PL_OK) t = NULL;
        pl_type_release(k);
        pl_type_release(v);
        return t;
    }
    if (x == PL_TYPE_STRUCT && y == PL_TYPE_STRUCT && a->n_children == b->n_children) {
        /* structs of the same field names: the fields' common types */
        pl_field *f = pl_calloc((size_t)PL_MAX(a->n_children, 1), sizeof *f);
        pl_type *t = NULL;
        bool ok = f != NULL;
        for (int32_t c = 0; ok && c < a->n_children; c++) {
            pl_type *e = strcasecmp(a->children[c].name, b->children[c].name) == 0
                             ? pl_type_common_super(a->children[c].type, b->children[c].type)
                             : NULL;
            ok = e && pl_field_init(&f[c], a->children[c].name, e, true, NULL) == PL_OK;
            pl_type_release(e);
        }
        if (ok && pl_type_new_struct(a->n_children, f, &t, NULL) != PL_OK) t = NULL;
        for (int32_t c = 0; f && c < a->n_children; c++) pl_field_reset(&f[c]);
        pl_free(f);
        return t;
    }
    /* FIXED_LEN_BYTE_ARRAY columns are BLOBs to DuckDB: compared with text, BLOBs or another
     * width as BLOB */
    if ((x == PL_TYPE_FIXED_BINARY && (y == PL_TYPE_BINARY || y == PL_TYPE_UTF8 || y == PL_TYPE_FIXED_BINARY)) ||
        (y == PL_TYPE_FIXED_BINARY && (x == PL_TYPE_BINARY || x == PL_TYPE_UTF8)))
        return pl_type_simple(PL_TYPE_BINARY);
    return NULL;
}

/* ---------------------------------------------------------------- bound trees */

void pl_bexpr_free(pl_bexpr *e) {
    if (!e) return;
    for (int32_t i = 0; i < e->n_args; i++) pl_bexpr_free(e->args[i]);
    pl_free(e->args);
    if (e->free_state && e->state) e->free_state(e->state);
    pl_type_release(e->type);
    pl_type_release(e->cast_to);
    pl_value_reset(&e->lit);
    pl_free(e);
}

static pl_bexpr *bnode_new(pl_bexpr_kind kind, int32_t sql_pos) {
    pl_bexpr *b = pl_calloc(1, sizeof *b);
    if (!b) return NULL;
    b->kind = kind;
    b->col = -1;
    b->sql_pos = sql_pos;
    pl_value_init_null(&b->lit);
    return b;
}

/* A literal node holding *v (moved). */
static pl_status make_lit(pl_value *v, int32_t sql_pos, pl_bexpr **out, pl_error *err) {
    pl_bexpr *b = bnode_new(PL_BEXPR_LIT, sql_pos);
    if (!b) {
        pl_value_reset(v);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding an expression");
    }
    b->lit = *v;
    pl_value_init_null(v);
    b->type = pl_type_retain(b->lit.type);
    *out = b;
    return PL_OK;
}

pl_status pl_bexpr_wrap_cast(pl_bexpr **arg, pl_type *to, pl_error *err) {
    pl_bexpr *a = *arg;
    if (pl_type_equals(a->type, to)) return PL_OK;
    if (a->kind == PL_BEXPR_LIT && to->id != PL_TYPE_LIST && to->id != PL_TYPE_STRUCT && to->id != PL_TYPE_MAP) {
        pl_value v;
        pl_value_init_null(&v);
        pl_status st = pl_cast_value(&a->lit, to, false, &v, err);
        if (st) {
            if (err && err->sql_pos < 0) err->sql_pos = a->sql_pos;
            return st;
        }
        /* a NULL literal takes the target type */
        if (v.is_null && v.type != to) {
            pl_type_release(v.type);
            v.type = pl_type_retain(to);
        }
        pl_value_reset(&a->lit);
        a->lit = v;
        pl_type_release(a->type);
        a->type = pl_type_retain(to);
        return PL_OK;
    }
    pl_bexpr *c = bnode_new(PL_BEXPR_CALL, a->sql_pos);
    pl_bexpr **args = pl_malloc(sizeof *args);
    if (!c || !args) {
        pl_free(c);
        pl_free(args);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding a cast");
    }
    args[0] = a;
    c->fn = &pl_cast_def;
    c->n_args = 1;
    c->args = args;
    c->cast_to = pl_type_retain(to);
    c->type = pl_type_retain(to);
    *arg = c;
    return PL_OK;
}

/* ---------------------------------------------------------------- binding */

static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return 99;
    int prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]) ? 0 : 1;
            int v = prev[j - 1] + cost;
            if (prev[j] + 1 < v) v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            cur[j] = v;
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

static pl_status bind_column(const pl_expr *e, const pl_schema *in, bool top, pl_bexpr **out,
                             pl_error *err) {
    int32_t idx = e->index;
    if (idx >= 0) {
        if (!in || idx >= in->n_fields) {
            pl_error_set(err, PL_ERR_NOT_FOUND, "column #%d is out of range (input has %d)",
                         (int)idx, in ? (int)in->n_fields : 0);
            if (err) err->sql_pos = e->sql_pos;
            return PL_ERR_NOT_FOUND;
        }
    } else {
        int32_t found = -1, n_found = 0;
        for (int32_t i = 0; in && i < in->n_fields; i++)
            if (strcmp(in->fields[i].name, e->name) == 0) {
                if (found < 0) found = i;
                n_found++;
            }
        if (n_found == 0) /* SQL identifiers are case-insensitive */
            for (int32_t i = 0; in && i < in->n_fields; i++)
                if (strcasecmp(in->fields[i].name, e->name) == 0) {
                    if (found < 0) found = i;
                    n_found++;
                }
        if (n_found > 1) {
            pl_error_set(err, PL_ERR_SQL, "column reference \"%s\" is ambiguous", e->name);
            if (err) err->sql_pos = e->sql_pos;
            return PL_ERR_SQL;
        }
        if (n_found == 0) {
            pl_error_set(err, PL_ERR_NOT_FOUND, "column \"%s\" not found", e->name);
            if (err) {
                err->sql_pos = e->sql_pos;
                /* hint: the closest names */
                size_t len = 0;
                int best = 3;
                for (int32_t i = 0; in && i < in->n_fields; i++) {
                    int d = edit_distance(in->fields[i].name, e->name);
                    if (d < best) best = d;
                }
                for (int32_t i = 0; in && i < in->n_fields && best < 3; i++) {
                    if (edit_distance(in->fields[i].name, e->name) != best) continue;
                    len += (size_t)snprintf(err->hint + len, len < sizeof err->hint
                                                                 ? sizeof err->hint - len
                                                                 : 0,
                                            "%s\"%s\"", len ? ", " : "did you mean ",
                                            in->fields[i].name);
                    if (len >= sizeof err->hint) break;
                }
                if (len && len < sizeof err->hint - 1) snprintf(err->hint + len, sizeof err->hint - len, "?");
            }
            return PL_ERR_NOT_FOUND;
        }
        idx = found;
    }
    pl_bexpr *b = bnode_new(PL_BEXPR_COL, e->sql_pos);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding an expression");
    b->col = idx;
    pl_type *t = in->fields[idx].type;
    PL_UNUSED(top);
    b->type = pl_type_retain((pl_type *)logical(t));
    *out = b;
    return PL_OK;
}

static pl_status bind_rec(const pl_expr *e, const pl_schema *in, bool top, pl_bexpr **out,
                          pl_error *err);

static void set_pos(pl_error *err, int32_t pos) {
    if (err && err->sql_pos < 0) err->sql_pos = pos;
}

/* The parameter types of the lambdas whose bodies are being bound, innermost first (binding
 * runs on one thread; bodies bind inside bind_args of their lambda call). */
typedef struct lambda_types {
    int64_t id;
    pl_type *slot[3];
    const struct lambda_types *up;
} lambda_types;
static _Thread_local const lambda_types *g_lambda_types;

pl_type *pl_lambda_param_type(int64_t id, int32_t slot) {
    for (const lambda_types *f = g_lambda_types; f; f = f->up)
        if (f->id == id) return slot >= 0 && slot < 3 ? f->slot[slot] : NULL;
    return NULL;
}

/* __lambda_*(list, body, id, ...): the list binds first, then the body with the parameters'
 * types (transform, filter: element, 1-based index; reduce: accumulator and element of the
 * element type, index). */
static pl_status bind_lambda_body(const pl_expr *e, const pl_schema *in, pl_bexpr *call,
                                  pl_error *err) {
    pl_bexpr **l = &call->args[0];
    if ((*l)->type->id == PL_TYPE_NA) {
        pl_type *t = NULL;
        PL_TRY(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &t, err));
        pl_status cst = pl_bexpr_wrap_cast(l, t, err);
        pl_type_release(t);
        PL_TRY(cst);
    }
    if ((*l)->type->id != PL_TYPE_LIST) {
        char tn[64];
        pl_error_set(err, PL_ERR_TYPE, "%s: the first argument must be a list, not %s",
                     call->fn->name + 9, pl_type_to_string((*l)->type, tn, sizeof tn));
        set_pos(err, e->sql_pos);
        return PL_ERR_TYPE;
    }
    const pl_expr *id = e->args[2];
    if (id->kind != PL_EXPR_LITERAL || id->value.is_null || !id->value.type ||
        !pl_type_is_integer(id->value.type->id))
        PL_FAIL(err, PL_ERR_INTERNAL, "%s: bad lambda id", call->fn->name);
    pl_type *elem = (*l)->type->children[0].type;
    bool reduce = strcmp(call->fn->name, "__lambda_reduce") == 0;
    lambda_types f = {id->value.v.i, {elem, reduce ? elem : pl_type_simple(PL_TYPE_INT64),
                                      reduce ? pl_type_simple(PL_TYPE_INT64) : NULL},
                      g_lambda_types};
    g_lambda_types = &f;
    pl_status st = bind_rec(e->args[1], in, false, &call->args[1], err);
    g_lambda_types = f.up;
    return st;
}

static pl_status bind_args(const pl_expr *e, const pl_schema *in, pl_bexpr *call,
                           pl_error *err) {
    if (e->n_args == 0) return PL_OK;
    call->args = pl_calloc((size_t)e->n_args, sizeof *call->args);
    if (!call->args) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding an expression");
    call->n_args = e->n_args;
    bool lambda = (call->fn->flags & PL_FN_LAMBDA) && e->n_args >= 3;
    for (int32_t i = 0; i < e->n_args; i++) {
        if (lambda && i == 1) PL_TRY(bind_lambda_body(e, in, call, err));
        else PL_TRY(bind_rec(e->args[i], in, false, &call->args[i], err));
    }
    return PL_OK;
}

/* CAST support: which conversions exist (cast.c). */
bool pl_cast_supported(const pl_type *from, const pl_type *to);

static pl_status bind_rec(const pl_expr *e, const pl_schema *in, bool top, pl_bexpr **out,
                          pl_error *err) {
    if (!e) PL_FAIL(err, PL_ERR_NOMEM, "missing expression (out of memory building it)");
    switch (e->kind) {
    case PL_EXPR_COLUMN: return bind_column(e, in, top, out, err);
    case PL_EXPR_LITERAL: {
        pl_value v;
        PL_TRY(pl_value_copy(&e->value, &v, err));
        PL_TRY(make_lit(&v, e->sql_pos, out, err));
        (*out)->cast_lit = e->typed_lit;
        return PL_OK;
    }
    case PL_EXPR_CAST: {
        pl_bexpr *arg = NULL;
        PL_TRY(bind_rec(e->args[0], in, false, &arg, err));
        char ta[64], tb[64];
        if (!pl_cast_supported(arg->type, e->cast_type)) {
            pl_error_set(err, PL_ERR_TYPE, "cannot cast %s to %s",
                         pl_xtype_name(arg->type, ta, sizeof ta),
                         pl_xtype_name(e->cast_type, tb, sizeof tb));
            set_pos(err, e->sql_pos);
            pl_bexpr_free(arg);
            return PL_ERR_TYPE;
        }
        if (pl_type_equals(arg->type, e->cast_type)) {
            if (arg->kind == PL_BEXPR_LIT) arg->cast_lit = true;
            *out = arg;
            return PL_OK;
        }
        pl_type_id ct = e->cast_type->id; /* nested values have no literal form */
        if (arg->kind == PL_BEXPR_LIT && ct != PL_TYPE_LIST && ct != PL_TYPE_STRUCT && ct != PL_TYPE_MAP) {
            pl_value v;
            pl_value_init_null(&v);
            pl_status st = pl_cast_value(&arg->lit, e->cast_type, e->try_cast, &v, err);
            if (st) {
                set_pos(err, e->sql_pos);
                pl_bexpr_free(arg);
                return st;
            }
            if (v.is_null && !pl_type_equals(v.type, e->cast_type)) {
                pl_type_release(v.type);
                v.type = pl_type_retain(e->cast_type);
            }
            pl_bexpr_free(arg);
            PL_TRY(make_lit(&v, e->sql_pos, out, err));
            (*out)->cast_lit = true;
            return PL_OK;
        }
        pl_bexpr *c = bnode_new(PL_BEXPR_CALL, e->sql_pos);
        pl_bexpr **args = pl_malloc(sizeof *args);
        if (!c || !args) {
            pl_free(c);
            pl_free(args);
            pl_bexpr_free(arg);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding a cast");
        }
        args[0] = arg;
        c->fn = &pl_cast_def;
        c->args = args;
        c->n_args = 1;
        c->cast_to = pl_type_retain(e->cast_type);
        c->type = pl_type_retain(e->cast_type);
        c->try_cast = e->try_cast;
        *out = c;
        return PL_OK;
    }
    case PL_EXPR_CALL: {
        const pl_func_def *fn = pl_func_lookup(e->name);
        if (!fn) {
            pl_error_set(err, PL_ERR_SQL, "no function named \"%s\"", e->name);
            set_pos(err, e->sql_pos);
            return PL_ERR_SQL;
        }
        if (e->n_args < fn->min_args || (fn->max_args >= 0 && e->n_args > fn->max_args)) {
            if (fn->min_args == fn->max_args)
                pl_error_set(err, PL_ERR_SQL, "function %s takes %d argument%s, got %d", fn->name,
                             (int)fn->min_args, fn->min_args == 1 ? "" : "s", (int)e->n_args);
            else if (fn->max_args < 0)
                pl_error_set(err, PL_ERR_SQL, "function %s takes at least %d arguments, got %d",
                             fn->name, (int)fn->min_args, (int)e->n_args);
            else
                pl_error_set(err, PL_ERR_SQL, "function %s takes %d to %d arguments, got %d",
                             fn->name, (int)fn->min_args, (int)fn->max_args, (int)e->n_args);
            set_pos(err, e->sql_pos);
            return PL_ERR_SQL;
        }
        pl_bexpr *c = bnode_new(PL_BEXPR_CALL, e->sql_pos);
        if (!c) PL_FAIL(err, PL_ERR_NOMEM, "out of memory binding an expression");
        c->fn = fn;
        pl_status st = bind_args(e, in, c, err);
        if (!st) {
            st = fn->bind(c, err);
            if (!st && !c->type) st = pl_error_set(err, PL_ERR_INTERNAL, "%s bound without a type", fn->name);
        }
        if (st) {
            set_pos(err, e->sql_pos);
            pl_bexpr_free(c);
            return st;
        }
        *out = c;
        return PL_OK;
    }
    case PL_EXPR_AGG:
        pl_error_set(err, PL_ERR_SQL, "aggregate function %s is not allowed here", e->name);
        set_pos(err, e->sql_pos);
        return PL_ERR_SQL;
    case PL_EXPR_WINDOW:
        pl_error_set(err, PL_ERR_SQL, "window function %s is not allowed here", e->name);
        set_pos(err, e->sql_pos);
        return PL_ERR_SQL;
    }
    PL_FAIL(err, PL_ERR_INTERNAL, "unknown expression kind %d", (int)e->kind);
}

pl_status pl_expr_bind(const pl_expr *e, const pl_schema *input, pl_bexpr **out, pl_error *err) {
    pl_bexpr *b = NULL;
    PL_TRY(bind_rec(e, input, true, &b, err));
    *out = b;
    return PL_OK;
}

/* ---------------------------------------------------------------- folding */

static bool is_foldable(const pl_bexpr *e) {
    if (e->kind != PL_BEXPR_CALL || !e->fn) return false;
    if (e->fn->flags & PL_FN_VOLATILE) return false;
    /* nested values have no literal form */
    if (e->type && (e->type->id == PL_TYPE_LIST || e->type->id == PL_TYPE_STRUCT || e->type->id == PL_TYPE_MAP))
        return false;
    for (int32_t i = 0; i < e->n_args; i++)
        if (e->args[i]->kind != PL_BEXPR_LIT) return false;
    return true;
}

pl_status pl_bexpr_fold(pl_bexpr **pe, pl_error *err) {
    pl_bexpr *e = *pe;
    if (!e || e->kind != PL_BEXPR_CALL) return PL_OK;
    for (int32_t i = 0; i < e->n_args; i++) PL_TRY(pl_bexpr_fold(&e->args[i], err));
    if (!is_foldable(e)) return PL_OK;
    int32_t n_args = e->n_args;
    pl_datum *args = pl_calloc((size_t)(e->n_args > 0 ? e->n_args : 1), sizeof *args);
    if (!args) PL_FAIL(err, PL_ERR_NOMEM, "out of memory folding constants");
    pl_status st = PL_OK;
    for (int32_t i = 0; i < e->n_args && !st; i++) {
        pl_value v;
        st = pl_value_copy(&e->args[i]->lit, &v, err);
        if (!st) pl_datum_set_scalar(&args[i], &v);
    }
    if (st) goto done;
    pl_datum res = {0};
    pl_eval_ctx ec = {0};
    pl_error local;
    pl_error_init(&local);
    /* errors (1 // 0) are left for run time: the branch may never be taken */
    if (pl_call_eval(&ec, e, args, 1, &res, &local) == PL_OK) {
        pl_value v;
        pl_value_init_null(&v);
        if (res.is_scalar) {
            v = res.scalar;
            pl_value_init_null(&res.scalar);
        } else {
            st = pl_value_from_array(res.array, 0, &v, err);
        }
        pl_datum_reset(&res);
        if (st) goto done;
        if (v.is_null && !pl_type_equals(v.type, e->type)) {
            /* a NULL of the call's type */
            pl_type_release(v.type);
            v.type = pl_type_retain(e->type);
        }
        pl_bexpr *lit = NULL;
        st = make_lit(&v, e->sql_pos, &lit, err);
        if (!st) {
            pl_bexpr_free(e);
            *pe = lit;
        }
    } else {
        pl_datum_reset(&res);
    }
done:
    for (int32_t i = 0; i < n_args; i++) pl_datum_reset(&args[i]);
    pl_free(args);
    return st;
}
