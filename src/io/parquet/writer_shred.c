/* writer_shred.c - turns the rows of one top-level column into one leaf column's repetition
 * and definition levels plus its dense (non-null) physical values, following the leaf's steps
 * (struct child, list/map repeated group). Ranges without nulls are handled in bulk (one level
 * fill and one value conversion per range); values of UTF8/BINARY stay in the source arrays and
 * are referenced, not copied. Dictionary leaves are decoded once per source array.
 *
 * Indices passed around are logical indices of the array at hand (its own offset is applied
 * when reading validity and values). Struct children are addressed at parent offset + i, list
 * children through the list's offsets, as in Arrow. */
#include <string.h>

#include "writer_int.h"

static pl_status grow_levels(pl_pqw_shred *s, const pl_pqw_leaf *leaf, int64_t extra,
                             pl_error *err) {
    int64_t need = s->n_levels + extra;
    if (need <= s->cap_levels && (leaf->max_rep == 0 || need <= s->cap_rep)) return PL_OK;
    int64_t cap = s->cap_levels ? s->cap_levels : 1024;
    while (cap < need) cap *= 2;
    if (cap > s->cap_levels) {
        uint16_t *d = pl_realloc(s->def, (size_t)cap * sizeof *d);
        if (!d) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for definition levels");
        s->def = d;
        s->cap_levels = cap;
    }
    if (leaf->max_rep > 0 && cap > s->cap_rep) {
        uint16_t *r = pl_realloc(s->rep, (size_t)cap * sizeof *r);
        if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for repetition levels");
        s->rep = r;
        s->cap_rep = cap;
    }
    return PL_OK;
}

static pl_status grow_values(pl_pqw_shred *s, const pl_pqw_leaf *leaf, int64_t extra,
                             pl_error *err) {
    int64_t need = s->n_values + extra;
    if (leaf->conv == PL_PQW_CONV_BYTES) {
        if (need <= s->cap_var) return PL_OK;
        int64_t cap = s->cap_var ? s->cap_var : 1024;
        while (cap < need) cap *= 2;
        pl_pqw_bytes *v = pl_realloc(s->var, (size_t)cap * sizeof *v);
        if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for column values");
        s->var = v;
        s->cap_var = cap;
    } else if (leaf->conv != PL_PQW_CONV_NONE) {
        int64_t need_bytes = need * leaf->value_width;
        if (need_bytes <= s->cap_fixed_bytes) return PL_OK;
        int64_t cap = s->cap_fixed_bytes ? s->cap_fixed_bytes : 4096;
        while (cap < need_bytes) cap *= 2;
        uint8_t *f = pl_realloc(s->fixed, (size_t)cap);
        if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for column values");
        s->fixed = f;
        s->cap_fixed_bytes = cap;
    }
    return PL_OK;
}

static inline pl_status emit(pl_pqw_shred *s, const pl_pqw_leaf *leaf, uint16_t def,
                             uint16_t rep, pl_error *err) {
    if (PL_UNLIKELY(s->n_levels == s->cap_levels || (leaf->max_rep && s->n_levels == s->cap_rep)))
        PL_TRY(grow_levels(s, leaf, 1, err));
    s->def[s->n_levels] = def;
    if (leaf->max_rep) s->rep[s->n_levels] = rep;
    s->n_levels++;
    return PL_OK;
}

/* Appends the physical values of rows [start, start+n) of plain array a. */
static pl_status gather(pl_pqw_shred *s, const pl_pqw_leaf *leaf, const pl_array *a,
                        int64_t start, int64_t n, pl_error *err) {
    if (n <= 0 || leaf->conv == PL_PQW_CONV_NONE) return PL_OK;
    PL_TRY(grow_values(s, leaf, n, err));
    int64_t pos = a->offset + start;
    int32_t w = leaf->value_width;
    uint8_t *dst = s->fixed ? s->fixed + s->n_values * w : NULL;
    const uint8_t *src = a->values ? a->values->data : NULL;
    switch (leaf->conv) {
    case PL_PQW_CONV_NONE: break;
    case PL_PQW_CONV_BOOL:
        for (int64_t i = 0; i < n; i++) dst[i] = (uint8_t)pl_bit_get(src, pos + i);
        break;
    case PL_PQW_CONV_COPY: memcpy(dst, src + pos * w, (size_t)(n * w)); break;
    case PL_PQW_CONV_I8_I32: {
        const int8_t *p = (const int8_t *)src + pos;
        int32_t *d = (int32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = p[i];
        break;
    }
    case PL_PQW_CONV_I16_I32: {
        const int16_t *p = (const int16_t *)(const void *)src + pos;
        int32_t *d = (int32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = p[i];
        break;
    }
    case PL_PQW_CONV_U8_I32: {
        const uint8_t *p = src + pos;
        int32_t *d = (int32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = p[i];
        break;
    }
    case PL_PQW_CONV_U16_I32: {
        const uint16_t *p = (const uint16_t *)(const void *)src + pos;
        int32_t *d = (int32_t *)(void *)dst;
        for (int64_t i = 0; i < n; i++) d[i] = p[i];
        break;
    }
    case PL_PQW_CONV_I64_MUL:
    case PL_PQW_CONV_I64_I32_MUL: {
        const int64_t *p = (const int64_t *)(const void *)src + pos;
        for (int64_t i = 0; i < n; i++) {
            int64_t v;
            if (__builtin_mul_overflow(p[i], leaf->mul, &v) ||
                (leaf->conv == PL_PQW_CONV_I64_I32_MUL && (v < INT32_MIN || v > INT32_MAX)))
                PL_FAIL(err, PL_ERR_INVALID_ARG,
                        "value %lld at row %lld does not fit the parquet type after conversion",
                        (long long)p[i], (long long)(start + i));
            if (leaf->conv == PL_PQW_CONV_I64_MUL) ((int64_t *)(void *)dst)[i] = v;
            else ((int32_t *)(void *)dst)[i] = (int32_t)v;
        }
        break;
    }
    case PL_PQW_CONV_DEC_I32: {
        const uint8_t *p = src + pos * 16;
        for (int64_t i = 0; i < n; i++) memcpy(dst + i * 4, p + i * 16, 4);
        break;
    }
    case PL_PQW_CONV_DEC_I64: {
        const uint8_t *p = src + pos * 16;
        for (int64_t i = 0; i < n; i++) memcpy(dst + i * 8, p + i * 16, 8);
        break;
    }
    case PL_PQW_CONV_DEC_FLBA: {
        const uint8_t *p = src + pos * 16;
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *v = p + i * 16;
            uint8_t *d = dst + i * w;
            for (int32_t k = 0; k < w; k++) d[k] = v[w - 1 - k]; /* low w bytes, big-endian */
        }
        break;
    }
    case PL_PQW_CONV_BYTES: {
        const int32_t *o = pl_array_offsets(a) + start;
        static const uint8_t empty[1] = {0};
        const uint8_t *data = a->data ? a->data->data : empty;
        pl_pqw_bytes *d = s->var + s->n_values;
        for (int64_t i = 0; i < n; i++) {
            d[i].ptr = data + o[i];
            d[i].len = o[i + 1] - o[i];
        }
        break;
    }
    }
    s->n_values += n;
    return PL_OK;
}

static pl_status hold(pl_pqw_shred *s, pl_array *a, pl_error *err) {
    pl_array **h = pl_realloc(s->held, (size_t)(s->n_held + 1) * sizeof *h);
    if (!h) {
        pl_array_release(a);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    s->held = h;
    s->held[s->n_held++] = a;
    return PL_OK;
}

/* The plain version of a (dictionary arrays decoded once and kept). */
static pl_status plain_of(pl_pqw_shred *s, const pl_array *a, const pl_array **out,
                          pl_error *err) {
    if (a->type->id != PL_TYPE_DICTIONARY) {
        *out = a;
        return PL_OK;
    }
    if (s->last_src != a) {
        pl_array *dec = NULL;
        PL_TRY(pl_array_decode_dictionary((pl_array *)a, &dec, err));
        PL_TRY(hold(s, dec, err));
        s->last_src = a;
        s->last_decoded = dec;
    }
    *out = s->last_decoded;
    return PL_OK;
}

static bool range_has_nulls(const pl_array *a, int64_t b, int64_t e) {
    if (a->type->id == PL_TYPE_NA) return e > b;
    if (!a->validity || a->null_count == 0) return false;
    return pl_bitmap_count(a->validity->data, a->offset + b, e - b) != e - b;
}

static pl_status non_nullable_null(const pl_pqw_leaf *leaf, pl_error *err) {
    (void)leaf; /* the caller adds the column to the error context */
    PL_FAIL(err, PL_ERR_INVALID_ARG, "field declared non-nullable contains nulls");
}

static pl_status leaf_range(pl_pqw_shred *s, const pl_pqw_leaf *leaf, const pl_array *a0,
                            int64_t b, int64_t e, uint16_t def_base, uint16_t rep_first,
                            uint16_t rep_inner, pl_error *err) {
    int64_t n = e - b;
    if (n <= 0) return PL_OK;
    const pl_array *a;
    PL_TRY(plain_of(s, a0, &a, err));
    if (a->type->id != leaf->type->id && a->type->id != PL_TYPE_NA)
        PL_FAIL(err, PL_ERR_TYPE, "column \"%s\": array type does not match the schema",
                leaf->dotted);
    if (b < 0 || e > a->length)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "column \"%s\": child range [%lld, %lld) outside %lld",
                leaf->dotted, (long long)b, (long long)e, (long long)a->length);
    PL_TRY(grow_levels(s, leaf, n, err));
    uint16_t *def = s->def + s->n_levels;
    if (leaf->max_rep) {
        uint16_t *rep = s->rep + s->n_levels;
        rep[0] = rep_first;
        for (int64_t i = 1; i < n; i++) rep[i] = rep_inner;
    }
    bool nulls = range_has_nulls(a, b, e);
    if (nulls && !leaf->nullable) return non_nullable_null(leaf, err);
    if (!nulls) {
        uint16_t d = (uint16_t)(def_base + (leaf->nullable ? 1 : 0));
        for (int64_t i = 0; i < n; i++) def[i] = d;
        s->n_levels += n;
        return gather(s, leaf, a, b, n, err);
    }
    if (a->type->id == PL_TYPE_NA) {
        for (int64_t i = 0; i < n; i++) def[i] = def_base;
        s->n_levels += n;
        return PL_OK;
    }
    const uint8_t *vb = a->validity->data;
    uint16_t dv = (uint16_t)(def_base + 1);
    int64_t run_start = -1;
    s->n_levels += n;
    for (int64_t i = b; i < e; i++) {
        bool v = pl_bit_get(vb, a->offset + i);
        def[i - b] = v ? dv : def_base;
        if (v) {
            if (run_start < 0) run_start = i;
        } else if (run_start >= 0) {
            PL_TRY(gather(s, leaf, a, run_start, i - run_start, err));
            run_start = -1;
        }
    }
    if (run_start >= 0) PL_TRY(gather(s, leaf, a, run_start, e - run_start, err));
    return PL_OK;
}

static pl_status shred_node(pl_pqw_shred *s, const pl_pqw_leaf *leaf, int32_t depth,
                            const pl_array *a, int64_t b, int64_t e, uint16_t def_base,
                            uint16_t rep_first, uint16_t rep_inner, pl_error *err) {
    if (depth == leaf->n_steps)
        return leaf_range(s, leaf, a, b, e, def_base, rep_first, rep_inner, err);
    const pl_pqw_step *st = &leaf->steps[depth];
    if (b < 0 || e > a->length)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "column \"%s\": range [%lld, %lld) outside %lld",
                leaf->dotted, (long long)b, (long long)e, (long long)a->length);
    bool nulls = range_has_nulls(a, b, e);
    if (nulls && !st->nullable) return non_nullable_null(leaf, err);
    uint16_t d1 = (uint16_t)(def_base + (st->nullable ? 1 : 0));
    if (st->kind == PL_PQW_STEP_STRUCT) {
        if (st->child >= a->n_children)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "column \"%s\": struct array lacks child %d",
                    leaf->dotted, (int)st->child);
        const pl_array *child = a->children[st->child];
        if (!nulls)
            return shred_node(s, leaf, depth + 1, child, a->offset + b, a->offset + e, d1,
                              rep_first, rep_inner, err);
        const uint8_t *vb = a->validity ? a->validity->data : NULL;
        int64_t i = b;
        while (i < e) {
            bool v = vb && pl_bit_get(vb, a->offset + i);
            uint16_t rep = i == b ? rep_first : rep_inner;
            if (!v) {
                PL_TRY(emit(s, leaf, def_base, rep, err));
                i++;
                continue;
            }
            int64_t j = i + 1;
            while (j < e && pl_bit_get(vb, a->offset + j)) j++;
            PL_TRY(shred_node(s, leaf, depth + 1, child, a->offset + i, a->offset + j, d1, rep,
                              rep_inner, err));
            i = j;
        }
        return PL_OK;
    }
    /* LIST / MAP: one repeated group */
    if (a->n_children < 1 || !a->values)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "column \"%s\": list array lacks offsets or items",
                leaf->dotted);
    const pl_array *child = a->children[0];
    const int32_t *offs = pl_array_offsets(a);
    const uint8_t *vb = nulls && a->validity ? a->validity->data : NULL;
    for (int64_t i = b; i < e; i++) {
        uint16_t rep = i == b ? rep_first : rep_inner;
        if (nulls && (!vb || !pl_bit_get(vb, a->offset + i))) {
            PL_TRY(emit(s, leaf, def_base, rep, err));
            continue;
        }
        int32_t o0 = offs[i], o1 = offs[i + 1];
        if (o0 < 0 || o1 < o0 || o1 > child->length)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "column \"%s\": list offsets [%d, %d) out of range",
                    leaf->dotted, (int)o0, (int)o1);
        if (o0 == o1) {
            PL_TRY(emit(s, leaf, d1, rep, err));
            continue;
        }
        PL_TRY(shred_node(s, leaf, depth + 1, child, o0, o1, (uint16_t)(d1 + 1), rep,
                          (uint16_t)st->rep_level, err));
    }
    return PL_OK;
}

pl_status pl_pqw_shred_append(pl_pqw_shred *s, const pl_pqw_leaf *leaf, pl_array *col,
                              int64_t offset, int64_t length, pl_error *err) {
    if (length <= 0) return PL_OK;
    if (leaf->n_steps == 0 && col->type->id == PL_TYPE_DICTIONARY) {
        /* decode only the rows of this piece */
        pl_array *slice = NULL, *dec = NULL;
        PL_TRY(pl_array_slice(col, offset, length, &slice, err));
        pl_status st = pl_array_decode_dictionary(slice, &dec, err);
        pl_array_release(slice);
        if (st != PL_OK) return st;
        PL_TRY(hold(s, dec, err));
        return shred_node(s, leaf, 0, dec, 0, length, 0, 0, 0, err);
    }
    return shred_node(s, leaf, 0, col, offset, offset + length, 0, 0, 0, err);
}

void pl_pqw_shred_reset(pl_pqw_shred *s) {
    for (int32_t i = 0; i < s->n_held; i++) pl_array_release(s->held[i]);
    s->n_held = 0;
    s->n_levels = 0;
    s->n_values = 0;
    s->null_count = 0;
    s->last_src = NULL;
    s->last_decoded = NULL;
}

void pl_pqw_shred_free(pl_pqw_shred *s) {
    pl_free(s->def);
    pl_free(s->rep);
    pl_free(s->fixed);
    pl_free(s->var);
    for (int32_t i = 0; i < s->n_held; i++) pl_array_release(s->held[i]);
    pl_free(s->held);
    memset(s, 0, sizeof *s);
}
