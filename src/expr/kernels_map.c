/* kernels_map.c - map functions (pl_funcs_map), with DuckDB's semantics:
 *   map() / map(keys, values) (MAP {k: v, ...} after session_forms.c), map_from_entries,
 *   map_extract_value (m[k]: the value or NULL), map_extract / element_at (a list: [v] or []),
 *   map_keys, map_values, map_entries, cardinality, map_contains, map_contains_value,
 *   map_contains_entry, map_concat (later maps win, keys in first-seen order).
 * Maps are Arrow maps: int32 offsets and one child, a struct of (key, value) entries read by
 * position (files may name them otherwise). Map keys are never NULL and never repeat within a
 * map: every map made here is checked (pl_map_check_keys: DuckDB's errors). Results are built
 * with gathers of the entries (pl_array_take), so any key or value type works. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "compute/compute.h"
#include "expr/expr_core.h"
#include "expr/funcs_int.h"

#define NOMEM(err, what) pl_error_set((err), PL_ERR_NOMEM, "out of memory in %s", (what))

/* Maps up to this many entries are checked for repeated keys pairwise, longer ones hashed. */
#define MAP_PAIRWISE_MAX 16

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }

static bool valid(const pl_array *a, int64_t i) { return pl_array_is_valid(a, i); }

static pl_type *plain_type(pl_type *t) { return t->id == PL_TYPE_DICTIONARY ? t->value_type : t; }

static bool is_map(const pl_bexpr *e) { return plain_type(e->type)->id == PL_TYPE_MAP; }

static pl_type *key_type(const pl_type *m) { return m->children[0].type->children[0].type; }

static pl_type *value_type(const pl_type *m) { return m->children[0].type->children[1].type; }

static bool is_null_map(const pl_type *m) {
    return key_type(m)->id == PL_TYPE_NA && value_type(m)->id == PL_TYPE_NA;
}

/* Argument k as a plain array of n rows (scalars repeated, dictionaries decoded). */
static pl_status arg_array(const pl_datum *args, int32_t k, int64_t n, pl_array **out, pl_error *err) {
    return pl_fn_plain_array(args, k, n, out, err);
}

/* The keys and values of map array m, indexed like m's offsets (new references). */
static pl_status map_parts(pl_array *m, pl_array **keys, pl_array **vals, pl_error *err) {
    pl_array *s = m->children[0];
    if (s->offset == 0) {
        *keys = pl_array_retain(s->children[0]);
        *vals = pl_array_retain(s->children[1]);
        return PL_OK;
    }
    int64_t *idx = pl_malloc(sizeof(int64_t) * (size_t)(s->length > 0 ? s->length : 1));
    if (!idx) return NOMEM(err, "a map");
    for (int64_t j = 0; j < s->length; j++) idx[j] = s->offset + j;
    pl_status st = pl_array_take(s->children[0], idx, s->length, keys, err);
    if (!st) {
        st = pl_array_take(s->children[1], idx, s->length, vals, err);
        if (st) pl_array_release(*keys);
    }
    pl_free(idx);
    return st;
}

/* ---------------------------------------------------------------- key sets */

/* The keys of one map at a time, by position: position q is entry ent[q] of keys. Small maps
 * are scanned pairwise (mask 0), larger ones go through an open-addressing table of positions. */
typedef struct key_set {
    pl_array *keys;
    int64_t *slot; /* -1 = empty */
    int64_t cap;   /* power of two, or 0 while maps are small */
    int64_t mask;
} key_set;

/* Ready for a map of up to n entries. */
static pl_status key_set_begin(key_set *s, int64_t n, pl_error *err) {
    if (n <= MAP_PAIRWISE_MAX) {
        s->mask = 0;
        return PL_OK;
    }
    int64_t want = 16;
    while (want < 2 * n) want *= 2;
    if (want > s->cap) {
        int64_t *p = pl_realloc(s->slot, sizeof(int64_t) * (size_t)want);
        if (!p) return NOMEM(err, "a map");
        s->slot = p;
        s->cap = want;
    }
    s->mask = want - 1;
    memset(s->slot, 0xff, sizeof(int64_t) * (size_t)want);
    return PL_OK;
}

/* The position among 0 .. q-1 whose key equals entry ent[q]'s, or -1 after adding q. */
static int64_t key_set_find_add(key_set *s, const int64_t *ent, int64_t q) {
    if (s->mask == 0) {
        for (int64_t k = 0; k < q; k++)
            if (pl_array_value_equal(s->keys, ent[k], s->keys, ent[q])) return k;
        return -1;
    }
    uint64_t h = pl_array_value_hash(s->keys, ent[q]);
    for (int64_t p = (int64_t)(h & (uint64_t)s->mask);; p = (p + 1) & s->mask) {
        if (s->slot[p] < 0) {
            s->slot[p] = q;
            return -1;
        }
        if (pl_array_value_equal(s->keys, ent[s->slot[p]], s->keys, ent[q])) return s->slot[p];
    }
}

pl_status pl_map_check_keys(pl_array *keys, const int32_t *o, int64_t n, const uint8_t *keep,
                            pl_error *err) {
    key_set s = {keys, NULL, 0, 0};
    int64_t *live = NULL, cap_live = 0;
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        if (keep && !keep[i]) continue;
        int64_t len = o[i + 1] - o[i];
        for (int64_t j = o[i]; j < o[i + 1]; j++)
            if (!valid(keys, j)) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "map keys can not be NULL");
                break;
            }
        if (st || len < 2) continue;
        st = key_set_begin(&s, len, err);
        if (!st && len > cap_live) {
            int64_t *p = pl_realloc(live, sizeof(int64_t) * (size_t)len);
            if (!p) st = NOMEM(err, "a map");
            else {
                live = p;
                cap_live = len;
            }
        }
        for (int64_t j = o[i]; j < o[i + 1] && !st; j++) {
            live[j - o[i]] = j;
            if (key_set_find_add(&s, live, j - o[i]) >= 0)
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "map keys must be unique");
        }
    }
    pl_free(s.slot);
    pl_free(live);
    return st;
}

/* ---------------------------------------------------------------- building maps */

/* The map result of type mt: row i (keep[i]; keep NULL: all) holds entries o[i] .. o[i+1] whose
 * keys are ks[kidx[e]] and values vs[vidx[e]] (vidx -1: NULL). Checks the keys. Takes nothing. */
static pl_status finish_map(pl_datum *out, pl_type *mt, int64_t n, const uint8_t *keep, const int32_t *o,
                            pl_array *ks, const int64_t *kidx, pl_array *vs, const int64_t *vidx,
                            pl_error *err) {
    int64_t total = o[n];
    pl_array *ch[2] = {NULL, NULL}, *entries = NULL, *a = NULL;
    pl_buf *offs = NULL, *validity = NULL;
    pl_status st = pl_array_take(ks, kidx, total, &ch[0], err);
    if (!st) st = pl_array_take(vs, vidx, total, &ch[1], err);
    if (!st) st = pl_map_check_keys(ch[0], o, n, NULL, err);
    if (!st) {
        st = pl_array_new(pl_type_retain(mt->children[0].type), total, 0, NULL, NULL, NULL, 2, ch,
                          NULL, &entries, err);
        ch[0] = ch[1] = NULL; /* taken */
    }
    if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
    if (!st) memcpy(offs->data, o, (size_t)(n + 1) * 4);
    if (!st && keep) st = pl_fn_validity_of(keep, n, &validity, err);
    if (!st) {
        st = pl_array_new(pl_type_retain(mt), n, -1, validity, offs, NULL, 1, &entries, NULL, &a, err);
        validity = NULL;
        offs = NULL;
        entries = NULL;
    }
    pl_array_release(ch[0]);
    pl_array_release(ch[1]);
    pl_array_release(entries);
    pl_buf_release(offs);
    pl_buf_release(validity);
    if (st) return st;
    pl_datum_set_array(out, a);
    return PL_OK;
}

/* The gather plan of a map result: offsets, keep flags and entry indices for n rows. */
typedef struct map_plan {
    int32_t *o;
    uint8_t *keep;
    int64_t *kidx, *vidx;
    int64_t cap;
} map_plan;

static pl_status plan_init(map_plan *p, int64_t n, int64_t cap, pl_error *err) {
    p->o = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    p->keep = pl_malloc((size_t)(n > 0 ? n : 1));
    p->cap = cap > 0 ? cap : 1;
    p->kidx = pl_malloc(sizeof(int64_t) * (size_t)p->cap);
    p->vidx = pl_malloc(sizeof(int64_t) * (size_t)p->cap);
    if (!p->o || !p->keep || !p->kidx || !p->vidx) return NOMEM(err, "a map");
    p->o[0] = 0;
    return PL_OK;
}

static void plan_reset(map_plan *p) {
    pl_free(p->o);
    pl_free(p->keep);
    pl_free(p->kidx);
    pl_free(p->vidx);
}

/* ---------------------------------------------------------------- map, map_from_entries */

static pl_status elem_or_null(const pl_bexpr *a, pl_type **out) {
    pl_type *t = plain_type(a->type);
    if (t->id == PL_TYPE_NA) *out = ty(PL_TYPE_NA);
    else if (t->id == PL_TYPE_LIST) *out = t->children[0].type;
    else return PL_ERR_TYPE;
    return PL_OK;
}

/* map() / map(keys, values): MAP(K, V) of the lists' element types; map() and map([], []) are
 * DuckDB's MAP("NULL", "NULL"). */
static pl_status bind_map(pl_bexpr *call, pl_error *err) {
    pl_type *k = ty(PL_TYPE_NA), *v = ty(PL_TYPE_NA);
    if (call->n_args == 1) return pl_fn_no_function(call, err);
    if (call->n_args == 2 && (elem_or_null(call->args[0], &k) || elem_or_null(call->args[1], &v)))
        return pl_fn_no_function(call, err);
    return pl_type_new_map(k, v, true, &call->type, err);
}

static pl_status k_map(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l[2] = {NULL, NULL};
    map_plan p = {0};
    pl_status st = PL_OK;
    for (int32_t a = 0; a < call->n_args && !st; a++) st = arg_array(args, a, n, &l[a], err);
    bool lists = call->n_args == 2 && !st && l[0]->type->id == PL_TYPE_LIST && l[1]->type->id == PL_TYPE_LIST;
    int64_t cap = lists ? pl_array_offsets(l[0])[n] - pl_array_offsets(l[0])[0] : 0;
    if (!st) st = plan_init(&p, n, cap, err);
    int64_t total = 0;
    const int32_t *ok = lists ? pl_array_offsets(l[0]) : NULL, *ov = lists ? pl_array_offsets(l[1]) : NULL;
    for (int64_t i = 0; i < n && !st; i++) {
        p.keep[i] = call->n_args == 0 || (lists && valid(l[0], i) && valid(l[1], i));
        if (p.keep[i] && lists) {
            int32_t nk = ok[i + 1] - ok[i], nv = ov[i + 1] - ov[i];
            if (nk != nv) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "the map key list does not align with the map value list (%d keys, %d values)",
                                  (int)nk, (int)nv);
                break;
            }
            for (int32_t j = 0; j < nk; j++) {
                p.kidx[total + j] = ok[i] + j;
                p.vidx[total + j] = ov[i] + j;
            }
            total += nk;
        }
        p.o[i + 1] = (int32_t)total;
    }
    pl_array *ks = NULL, *vs = NULL;
    if (!st) {
        pl_type *mt = call->type;
        if (lists) {
            ks = pl_array_retain(l[0]->children[0]);
            vs = pl_array_retain(l[1]->children[0]);
        } else {
            st = pl_array_new_nulls(key_type(mt), 0, &ks, err);
            if (!st) st = pl_array_new_nulls(value_type(mt), 0, &vs, err);
        }
        if (!st) st = finish_map(out, mt, n, p.keep, p.o, ks, p.kidx, vs, p.vidx, err);
    }
    pl_array_release(ks);
    pl_array_release(vs);
    pl_array_release(l[0]);
    pl_array_release(l[1]);
    plan_reset(&p);
    return st;
}

/* map_from_entries(list of 2-field structs): the fields by position are key and value. */
static pl_status bind_map_from_entries(pl_bexpr *call, pl_error *err) {
    pl_type *e = NULL;
    if (elem_or_null(call->args[0], &e)) return pl_fn_no_function(call, err);
    if (e->id == PL_TYPE_NA) return pl_type_new_map(e, e, true, &call->type, err);
    if (e->id != PL_TYPE_STRUCT || e->n_children != 2) return pl_fn_no_function(call, err);
    return pl_type_new_map(e->children[0].type, e->children[1].type, true, &call->type, err);
}

static pl_status k_map_from_entries(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                    int64_t n, pl_datum *out, pl_error *err) {
    (void)ec;
    pl_array *l = NULL, *ks = NULL, *vs = NULL;
    map_plan p = {0};
    PL_TRY(arg_array(args, 0, n, &l, err));
    bool list = l->type->id == PL_TYPE_LIST;
    const int32_t *lo = list ? pl_array_offsets(l) : NULL;
    pl_array *s = list ? l->children[0] : NULL;
    bool structs = s && s->type->id == PL_TYPE_STRUCT;
    pl_status st = plan_init(&p, n, list ? lo[n] - lo[0] : 0, err);
    int64_t total = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        p.keep[i] = list && valid(l, i);
        for (int32_t j = p.keep[i] ? lo[i] : 0; p.keep[i] && j < lo[i + 1]; j++) {
            p.kidx[total] = structs && valid(s, j) ? s->offset + j : -1; /* a NULL entry: a NULL key */
            p.vidx[total++] = structs && valid(s, j) ? s->offset + j : -1;
        }
        p.o[i + 1] = (int32_t)total;
    }
    if (!st && structs) {
        ks = pl_array_retain(s->children[0]);
        vs = pl_array_retain(s->children[1]);
    } else if (!st) {
        st = pl_array_new_nulls(key_type(call->type), 1, &ks, err);
        if (!st) st = pl_array_new_nulls(value_type(call->type), 1, &vs, err);
    }
    if (!st) st = finish_map(out, call->type, n, p.keep, p.o, ks, p.kidx, vs, p.vidx, err);
    pl_array_release(ks);
    pl_array_release(vs);
    pl_array_release(l);
    plan_reset(&p);
    return st;
}

/* ---------------------------------------------------------------- map_concat */

/* map_concat(m1, m2, ...): every map of the same key and value types (DuckDB's error otherwise);
 * NULL maps and MAP("NULL", "NULL") fit any. */
static pl_status bind_map_concat(pl_bexpr *call, pl_error *err) {
    if (call->n_args < 2)
        return pl_error_set(err, PL_ERR_TYPE, "map_concat needs 2 or more maps, got %d", (int)call->n_args);
    pl_type *mt = NULL;
    for (int32_t a = 0; a < call->n_args; a++) {
        pl_type *t = plain_type(call->args[a]->type);
        if (t->id == PL_TYPE_NA) continue;
        if (t->id != PL_TYPE_MAP) return pl_fn_no_function(call, err);
        if (is_null_map(t)) continue;
        if (!mt) {
            mt = t;
            continue;
        }
        if (!pl_type_equals(key_type(t), key_type(mt)) || !pl_type_equals(value_type(t), value_type(mt))) {
            char ta[128], tb[128];
            return pl_error_set(err, PL_ERR_TYPE, "map_concat: the maps' types differ (%s and %s)",
                                pl_sql_type_name(mt, ta, sizeof ta), pl_sql_type_name(t, tb, sizeof tb));
        }
    }
    pl_type *rt = NULL;
    PL_TRY(pl_type_new_map(mt ? key_type(mt) : ty(PL_TYPE_NA), mt ? value_type(mt) : ty(PL_TYPE_NA), true,
                           &rt, err));
    pl_status st = PL_OK;
    for (int32_t a = 0; a < call->n_args && !st; a++) st = pl_bexpr_wrap_cast(&call->args[a], rt, err);
    if (st) {
        pl_type_release(rt);
        return st;
    }
    call->type = rt;
    return PL_OK;
}

/* Later maps' values win; keys keep the place where they first appear; NULL maps count as
 * empty; NULL only when every map is NULL. */
static pl_status k_map_concat(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    (void)ec;
    int32_t k = call->n_args;
    pl_array **m = pl_calloc((size_t)k, sizeof *m), **kp = pl_calloc((size_t)k, sizeof *kp),
             **vp = pl_calloc((size_t)k, sizeof *vp);
    int64_t *base = pl_calloc((size_t)k + 1, sizeof *base);
    pl_array *ks = NULL, *vs = NULL;
    map_plan p = {0};
    key_set set = {NULL, NULL, 0, 0};
    pl_status st = !m || !kp || !vp || !base ? NOMEM(err, "map_concat") : PL_OK;
    for (int32_t a = 0; a < k && !st; a++) {
        st = arg_array(args, a, n, &m[a], err);
        if (!st) st = map_parts(m[a], &kp[a], &vp[a], err);
        if (!st) base[a + 1] = base[a] + kp[a]->length;
    }
    if (!st) st = pl_array_concat(k, kp, &ks, err);
    if (!st) st = pl_array_concat(k, vp, &vs, err);
    int64_t cap = 0;
    for (int32_t a = 0; a < k && !st; a++) cap += pl_array_offsets(m[a])[n] - pl_array_offsets(m[a])[0];
    if (!st) st = plan_init(&p, n, cap, err);
    set.keys = ks;
    int64_t total = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t len = 0;
        p.keep[i] = 0;
        for (int32_t a = 0; a < k; a++) {
            if (!valid(m[a], i)) continue;
            p.keep[i] = 1;
            len += pl_array_offsets(m[a])[i + 1] - pl_array_offsets(m[a])[i];
        }
        st = key_set_begin(&set, len, err);
        int64_t start = total;
        for (int32_t a = 0; a < k && !st; a++) {
            if (!valid(m[a], i)) continue;
            const int32_t *o = pl_array_offsets(m[a]);
            for (int32_t j = o[i]; j < o[i + 1]; j++) {
                int64_t e = base[a] + j;
                p.kidx[total] = e;
                int64_t hit = key_set_find_add(&set, p.kidx + start, total - start);
                if (hit < 0) p.vidx[total++] = e;
                else p.vidx[start + hit] = e; /* the later value, in the first key's place */
            }
        }
        if (!st && total > INT32_MAX) st = pl_error_set(err, PL_ERR_LIMIT, "map_concat: more than 2^31 entries");
        p.o[i + 1] = (int32_t)total;
    }
    if (!st) st = finish_map(out, call->type, n, p.keep, p.o, ks, p.kidx, vs, p.vidx, err);
    for (int32_t a = 0; a < k; a++) {
        if (m) pl_array_release(m[a]);
        if (kp) pl_array_release(kp[a]);
        if (vp) pl_array_release(vp[a]);
    }
    pl_free(m);
    pl_free(kp);
    pl_free(vp);
    pl_free(base);
    pl_free(set.slot);
    pl_array_release(ks);
    pl_array_release(vs);
    plan_reset(&p);
    return st;
}

/* ---------------------------------------------------------------- lookups */

/* Argument k (a key) against the map argument 0's key type K: NULL and string literals are read
 * as K (DuckDB: MAP {1: 1}['1'] finds 1); numbers compare in the common numeric type (the map's
 * keys are cast up when it is wider: MAP {1: 1}[1.5] finds nothing); other types must equal K. */
static pl_status bind_key_arg(pl_bexpr *call, int32_t k, pl_error *err) {
    pl_type *mt = plain_type(call->args[0]->type), *kt = key_type(mt);
    pl_bexpr *x = call->args[k];
    pl_type *a = plain_type(x->type);
    if (a->id == PL_TYPE_NA || pl_type_equals(a, kt) || kt->id == PL_TYPE_NA ||
        (x->kind == PL_BEXPR_LIT && a->id == PL_TYPE_UTF8))
        return kt->id == PL_TYPE_NA ? PL_OK : pl_bexpr_wrap_cast(&call->args[k], kt, err);
    pl_type *s = NULL;
    bool num = pl_type_is_numeric(a->id) && pl_type_is_numeric(kt->id);
    bool temporal = pl_type_is_temporal(a->id) && pl_type_is_temporal(kt->id);
    if (num || temporal || a->id == kt->id) s = pl_type_common_super(kt, a);
    if (!s) {
        char ta[128], tb[128];
        return pl_error_set(err, PL_ERR_TYPE, "%s: the key %s does not match the map's key type %s",
                            call->fn->name, pl_sql_type_name(a, ta, sizeof ta),
                            pl_sql_type_name(kt, tb, sizeof tb));
    }
    pl_status st = PL_OK;
    if (!pl_type_equals(s, kt)) {
        pl_type *wide = NULL;
        st = pl_type_new_map(s, value_type(mt), true, &wide, err);
        if (!st) st = pl_bexpr_wrap_cast(&call->args[0], wide, err);
        pl_type_release(wide);
    }
    if (!st) st = pl_bexpr_wrap_cast(&call->args[k], s, err);
    pl_type_release(s);
    return st;
}

static const char *fname(const pl_bexpr *call) { return call->fn->name; }

static pl_status bind_map_lookup(pl_bexpr *call, pl_error *err) {
    if (!is_map(call->args[0])) return pl_fn_no_function(call, err);
    const char *f = fname(call);
    bool by_value = !strcmp(f, "map_contains_value");
    if (!by_value) PL_TRY(bind_key_arg(call, 1, err));
    pl_type *mt = plain_type(call->args[0]->type);
    if (by_value || call->n_args == 3) {
        int32_t v = by_value ? 1 : 2;
        pl_type *vt = value_type(mt), *a = plain_type(call->args[v]->type);
        if (vt->id != PL_TYPE_NA && !pl_type_equals(a, vt)) {
            pl_type *s = a->id == PL_TYPE_NA ? pl_type_retain(vt) : pl_type_common_super(vt, a);
            if (!s || !pl_type_equals(s, vt)) {
                pl_type_release(s);
                return pl_fn_no_function(call, err);
            }
            pl_status st = pl_bexpr_wrap_cast(&call->args[v], vt, err);
            pl_type_release(s);
            PL_TRY(st);
        }
    }
    if (!strcmp(f, "map_extract_value")) call->type = pl_type_retain(value_type(mt));
    else if (!strcmp(f, "map_extract")) return pl_type_new_list("item", value_type(mt), true, &call->type, err);
    else call->type = ty(PL_TYPE_BOOL);
    return PL_OK;
}

/* map_extract_value(m, k) (m[k]): the value or NULL; map_extract(m, k) (element_at): [value] or
 * [] (also for a NULL k), NULL for a NULL map; map_contains(m, k), map_contains_value(m, v): NULL
 * for a NULL map, key or value, except that an empty map gives false; map_contains_entry(m, k, v): NULL for a NULL map, false for a
 * NULL key or value (DuckDB). */
static pl_status k_map_lookup(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                              pl_datum *out, pl_error *err) {
    (void)ec;
    const char *f = fname(call);
    bool value = !strcmp(f, "map_extract_value"), list = !strcmp(f, "map_extract");
    bool by_value = !strcmp(f, "map_contains_value"), entry = call->n_args == 3;
    pl_array *m = NULL, *x = NULL, *y = NULL, *ks = NULL, *vs = NULL, *r = NULL;
    int64_t *idx = NULL;
    int32_t *lo = NULL;
    uint8_t *keep = NULL;
    pl_buf *vals = NULL, *validity = NULL;
    pl_status st = arg_array(args, 0, n, &m, err);
    if (!st) st = arg_array(args, 1, n, &x, err);
    if (!st && entry) st = arg_array(args, 2, n, &y, err);
    if (!st) st = map_parts(m, &ks, &vs, err);
    idx = pl_malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    keep = pl_malloc((size_t)(n > 0 ? n : 1));
    lo = pl_malloc(sizeof(int32_t) * (size_t)(n + 1));
    if (!st && (!idx || !keep || !lo)) st = NOMEM(err, f);
    if (!st && !value && !list) st = pl_fn_new_validity(n, &vals, err); /* zeroed: false */
    pl_array *probe = by_value ? vs : ks;
    int64_t n_found = 0;
    if (!st) {
        const int32_t *o = pl_array_offsets(m);
        lo[0] = 0;
        for (int64_t i = 0; i < n; i++) {
            idx[i] = -1;
            bool xv = valid(x, i), yv = entry && valid(y, i);
            /* DuckDB: an empty map contains nothing, not even NULL (false, not NULL) */
            keep[i] = valid(m, i) && (list || entry || xv || o[i + 1] == o[i]);
            if (keep[i] && xv && (!entry || yv)) {
                for (int32_t j = o[i]; j < o[i + 1] && idx[i] < 0; j++) {
                    bool eq = valid(probe, j) && pl_array_value_equal(probe, j, x, i);
                    if (eq && entry) eq = valid(vs, j) && pl_array_value_equal(vs, j, y, i);
                    if (eq) idx[i] = j;
                }
            }
            if (list) {
                if (idx[i] >= 0) idx[n_found++] = idx[i];
                lo[i + 1] = (int32_t)n_found;
            } else if (!value && idx[i] >= 0) {
                pl_bit_set(vals->data, i);
            }
        }
    }
    if (!st && value) {
        st = pl_array_take(vs, idx, n, &r, err);
        if (!st) pl_datum_set_array(out, r);
    } else if (!st && list) {
        pl_array *c = NULL;
        pl_buf *offs = NULL;
        st = pl_array_take(vs, idx, n_found, &c, err);
        if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
        if (!st) memcpy(offs->data, lo, (size_t)(n + 1) * 4);
        if (!st) st = pl_fn_validity_of(keep, n, &validity, err);
        if (!st) {
            st = pl_array_new(pl_type_retain(call->type), n, -1, validity, offs, NULL, 1, &c, NULL, &r, err);
            validity = NULL;
            offs = NULL;
            c = NULL;
        }
        pl_array_release(c);
        pl_buf_release(offs);
        if (!st) pl_datum_set_array(out, r);
    } else if (!st) {
        if (!st) st = pl_fn_validity_of(keep, n, &validity, err);
        if (!st) {
            st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
            vals = NULL;
            validity = NULL;
        }
    }
    pl_buf_release(vals);
    pl_buf_release(validity);
    pl_free(idx);
    pl_free(lo);
    pl_free(keep);
    pl_array_release(m);
    pl_array_release(x);
    pl_array_release(y);
    pl_array_release(ks);
    pl_array_release(vs);
    return st;
}

/* ---------------------------------------------------------------- keys, values, entries, cardinality */

static pl_status bind_map_part(pl_bexpr *call, pl_error *err) {
    if (!is_map(call->args[0])) return pl_fn_no_function(call, err);
    pl_type *mt = plain_type(call->args[0]->type);
    const char *f = fname(call);
    if (!strcmp(f, "cardinality")) {
        call->type = ty(PL_TYPE_UINT64);
        return PL_OK;
    }
    if (!strcmp(f, "map_keys")) return pl_type_new_list("item", key_type(mt), true, &call->type, err);
    if (!strcmp(f, "map_values")) return pl_type_new_list("item", value_type(mt), true, &call->type, err);
    pl_field kv[2] = {{"key", key_type(mt), true}, {"value", value_type(mt), true}};
    pl_type *s = NULL;
    PL_TRY(pl_type_new_struct(2, kv, &s, err));
    pl_status st = pl_type_new_list("item", s, true, &call->type, err);
    pl_type_release(s);
    return st;
}

/* map_keys / map_values / map_entries: lists of the entries' keys, values or (key, value)
 * structs; cardinality: the number of entries (UBIGINT). NULL for a NULL map. */
static pl_status k_map_part(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                            pl_datum *out, pl_error *err) {
    (void)ec;
    const char *f = fname(call);
    pl_array *m = NULL, *ks = NULL, *vs = NULL, *c = NULL, *r = NULL;
    pl_buf *validity = NULL, *offs = NULL;
    PL_TRY(arg_array(args, 0, n, &m, err));
    const int32_t *o = pl_array_offsets(m);
    pl_status st = pl_fn_copy_validity(m, &validity, err);
    if (!strcmp(f, "cardinality")) {
        pl_buf *vals = NULL;
        if (!st) st = pl_fn_new_values(n, 8, &vals, err);
        if (!st) {
            uint64_t *v = (uint64_t *)(void *)vals->data;
            for (int64_t i = 0; i < n; i++) v[i] = (uint64_t)(o[i + 1] - o[i]);
            st = pl_fn_finish(out, call->type, n, validity, -1, vals, NULL, err);
            validity = NULL;
        }
        pl_buf_release(validity);
        pl_array_release(m);
        return st;
    }
    if (!st) st = map_parts(m, &ks, &vs, err);
    int64_t total = o[n] - o[0];
    int64_t *idx = st ? NULL : pl_malloc(sizeof(int64_t) * (size_t)(total > 0 ? total : 1));
    if (!st && !idx) st = NOMEM(err, f);
    for (int64_t e = 0; !st && e < total; e++) idx[e] = o[0] + e;
    if (!st && !strcmp(f, "map_entries")) {
        pl_array *ch[2] = {NULL, NULL};
        st = pl_array_take(ks, idx, total, &ch[0], err);
        if (!st) st = pl_array_take(vs, idx, total, &ch[1], err);
        if (!st) {
            st = pl_array_new(pl_type_retain(call->type->children[0].type), total, 0, NULL, NULL, NULL, 2, ch,
                              NULL, &c, err);
            ch[0] = ch[1] = NULL;
        }
        pl_array_release(ch[0]);
        pl_array_release(ch[1]);
    } else if (!st) {
        st = pl_array_take(!strcmp(f, "map_keys") ? ks : vs, idx, total, &c, err);
    }
    if (!st) st = pl_fn_new_values(n + 1, 4, &offs, err);
    if (!st) {
        int32_t *no = (int32_t *)(void *)offs->data;
        for (int64_t i = 0; i <= n; i++) no[i] = o[i] - o[0];
        st = pl_array_new(pl_type_retain(call->type), n, -1, validity, offs, NULL, 1, &c, NULL, &r, err);
        validity = NULL;
        offs = NULL;
        c = NULL;
    }
    if (!st) pl_datum_set_array(out, r);
    pl_free(idx);
    pl_buf_release(validity);
    pl_buf_release(offs);
    pl_array_release(c);
    pl_array_release(m);
    pl_array_release(ks);
    pl_array_release(vs);
    return st;
}

/* ---------------------------------------------------------------- the set */

#define NN PL_FN_NULL_IN_NULL_OUT
#define EW PL_FN_ELEMENTWISE

static const pl_func_def k_defs[] = {
    {"map", NULL, 0, 2, NN | EW, bind_map, k_map},
    {"map_from_entries", NULL, 1, 1, NN | EW, bind_map_from_entries, k_map_from_entries},
    {"map_concat", NULL, 0, -1, EW, bind_map_concat, k_map_concat},
    {"map_extract_value", NULL, 2, 2, NN | EW, bind_map_lookup, k_map_lookup},
    {"map_extract", "element_at", 2, 2, EW, bind_map_lookup, k_map_lookup},
    {"map_contains", NULL, 2, 2, EW, bind_map_lookup, k_map_lookup},
    {"map_contains_value", NULL, 2, 2, EW, bind_map_lookup, k_map_lookup},
    {"map_contains_entry", NULL, 3, 3, EW, bind_map_lookup, k_map_lookup},
    {"map_keys", NULL, 1, 1, NN | EW, bind_map_part, k_map_part},
    {"map_values", NULL, 1, 1, NN | EW, bind_map_part, k_map_part},
    {"map_entries", NULL, 1, 1, NN | EW, bind_map_part, k_map_part},
    {"cardinality", NULL, 1, 1, NN | EW, bind_map_part, k_map_part},
};

const pl_func_set pl_funcs_map = {(int32_t)(sizeof k_defs / sizeof k_defs[0]), k_defs};
