/* join_keys.c - key columns of the hash and as-of joins: hashing and equality through
 * dictionaries (a dictionary key compares by value with a plain key), NULL-aware; and the
 * build-side helpers both joins share (column concatenation, int copies). */
#include <math.h>

#include "exec/join/join_int.h"

static jk_class class_of(const pl_type *t, int32_t *width, bool *is_signed) {
    *width = t->byte_width;
    *is_signed = true;
    switch (t->id) {
    case PL_TYPE_INT8: case PL_TYPE_INT16: case PL_TYPE_INT32: case PL_TYPE_INT64:
    case PL_TYPE_DATE32: case PL_TYPE_TIME64: case PL_TYPE_TIMESTAMP:
        return JK_INT;
    case PL_TYPE_UINT8: case PL_TYPE_UINT16: case PL_TYPE_UINT32:
        *is_signed = false;
        return JK_INT;
    case PL_TYPE_UINT64: return JK_INT; /* bit pattern: equality is the same */
    case PL_TYPE_FLOAT32: return JK_F32;
    case PL_TYPE_FLOAT64: return JK_F64;
    case PL_TYPE_BOOL: return JK_BOOL;
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: return JK_VARLEN;
    case PL_TYPE_DECIMAL128: case PL_TYPE_FIXED_BINARY: return JK_FIXED;
    case PL_TYPE_INTERVAL: return JK_IVL;
    default: return JK_OTHER;
    }
}

jk_class pl_join_key_class(const pl_type *t) {
    int32_t w;
    bool sg;
    if (t->id == PL_TYPE_DICTIONARY) t = t->value_type;
    return t->id == PL_TYPE_NA ? JK_OTHER : class_of(t, &w, &sg);
}

void pl_join_key_view(jk_view *k, pl_array *a) {
    memset(k, 0, sizeof *k);
    k->a = a;
    k->aoff = a->offset;
    if (a->validity && pl_array_null_count(a) > 0) k->avalid = a->validity->data;
    pl_array *v = a;
    if (a->type->id == PL_TYPE_DICTIONARY) {
        v = a->dictionary;
        k->idx_w = pl_type_bit_width(pl_type_simple(a->type->index_id)) / 8;
        k->idx_signed = a->type->index_id == PL_TYPE_INT8 || a->type->index_id == PL_TYPE_INT16 ||
                        a->type->index_id == PL_TYPE_INT32 || a->type->index_id == PL_TYPE_INT64;
        k->idx = a->values->data + a->offset * k->idx_w;
    }
    k->v = v;
    k->cls = class_of(v->type, &k->width, &k->is_signed);
    if (v->type->id == PL_TYPE_NA) {
        /* every value NULL: a view with all-null validity is simplest as JK_OTHER */
        k->cls = JK_OTHER;
    }
    k->voff = v->offset;
    if (v->validity && pl_array_null_count(v) > 0) k->vvalid = v->validity->data;
    if (k->cls == JK_VARLEN) {
        k->voffs = pl_array_offsets(v);
        k->vdata = v->data ? v->data->data : NULL;
    } else if (k->cls == JK_BOOL) {
        k->vdata = v->values->data; /* bit voff + pos */
    } else if (k->cls != JK_OTHER) {
        k->vdata = pl_array_values_ptr(v);
    }
}

pl_status pl_join_key_check(const jk_view *k, int64_t n, pl_error *err) {
    if (!k->idx || n <= 0) return PL_OK;
    uint64_t dn = (uint64_t)k->v->length;
    bool bad = false;
    /* the range of all indices, NULL rows included (their slots may hold anything): when it
     * fits, done; else the rows are looked at one by one */
#define JK_RANGE_U(T)                                                                                  do {                                                                                                   const T *p_ = (const T *)(const void *)k->idx;                                                     T hi_ = 0;                                                                                         for (int64_t i_ = 0; i_ < n; i_++) hi_ = p_[i_] > hi_ ? p_[i_] : hi_;                              bad = (uint64_t)hi_ >= dn;                                                                     } while (0)
#define JK_RANGE_S(T)                                                                                  do {                                                                                                   const T *p_ = (const T *)(const void *)k->idx;                                                     T lo_ = 0, hi_ = 0;                                                                                for (int64_t i_ = 0; i_ < n; i_++) {                                                                   lo_ = p_[i_] < lo_ ? p_[i_] : lo_;                                                                 hi_ = p_[i_] > hi_ ? p_[i_] : hi_;                                                             }                                                                                                  bad = lo_ < 0 || (uint64_t)hi_ >= dn;                                                          } while (0)
    switch (k->idx_w * 2 + k->idx_signed) {
    case 2: JK_RANGE_U(uint8_t); break;
    case 3: JK_RANGE_S(int8_t); break;
    case 4: JK_RANGE_U(uint16_t); break;
    case 5: JK_RANGE_S(int16_t); break;
    case 8: JK_RANGE_U(uint32_t); break;
    case 9: JK_RANGE_S(int32_t); break;
    case 16: JK_RANGE_U(uint64_t); break;
    default: JK_RANGE_S(int64_t); break;
    }
#undef JK_RANGE_U
#undef JK_RANGE_S
    if (!bad) return PL_OK;
    for (int64_t i = 0; i < n; i++) {
        if (k->avalid && !pl_bit_get(k->avalid, k->aoff + i)) continue;
        int64_t p = jk_raw(k, i);
        if (k->idx_w == 8 && !k->idx_signed && p < 0) /* past INT64_MAX */
            PL_FAIL(err, PL_ERR_CORRUPT, "join key dictionary index %llu out of range (%lld "
                    "dictionary values)", (unsigned long long)p, (long long)dn);
        if (p < 0 || (uint64_t)p >= dn)
            PL_FAIL(err, PL_ERR_CORRUPT, "join key dictionary index %lld out of range (%lld "
                    "dictionary values)", (long long)p, (long long)dn);
    }
    return PL_OK;
}

bool pl_join_key_may_null(const jk_view *k) {
    return k->avalid || k->vvalid || k->v->type->id == PL_TYPE_NA;
}

static inline uint64_t hash_bytes(const uint8_t *p, int64_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, (size_t)n);
        h = (h ^ w) * 0x94d049bb133111ebULL;
    }
    return pl_hash_u64(h);
}

static inline uint64_t hash_double(double d) {
    if (d == 0) d = 0; /* -0.0 */
    if (isnan(d)) return 0x6e616e6e616e6eULL;
    uint64_t u;
    memcpy(&u, &d, 8);
    return pl_hash_u64(u);
}

static inline uint64_t hash_at(const jk_view *k, int64_t pos) {
    switch (k->cls) {
    case JK_INT: return jk_hash_int(jk_int_at(k, pos));
    case JK_F32: return hash_double(((const float *)(const void *)k->vdata)[pos]);
    case JK_F64: return hash_double(((const double *)(const void *)k->vdata)[pos]);
    case JK_BOOL: return jk_hash_int(pl_bit_get(k->vdata, k->voff + pos));
    case JK_VARLEN: {
        int32_t o = k->voffs[pos];
        return hash_bytes(k->vdata + o, k->voffs[pos + 1] - o);
    }
    case JK_FIXED: return hash_bytes(k->vdata + pos * k->width, k->width);
    case JK_IVL: {
        __int128 key = pl_interval_ns(k->vdata + pos * 16);
        return hash_bytes((const uint8_t *)&key, 16);
    }
    default: return 0;
    }
}

pl_status pl_join_key_hash(const jk_view *k, int64_t start, int64_t n, uint64_t *h, bool combine,
                           uint8_t *isnull, pl_error *err) {
    if (k->cls == JK_OTHER) {
        /* nested values: the shared kernel over the values, gathered through positions */
        uint64_t *vh = pl_malloc(sizeof *vh * (size_t)PL_MAX(k->v->length, 1));
        if (!vh) PL_FAIL(err, PL_ERR_NOMEM, "out of memory hashing join keys");
        if (k->v->type->id != PL_TYPE_NA) pl_hash_array(k->v, vh, false);
        for (int64_t i = 0; i < n; i++) {
            int64_t pos = k->v->type->id == PL_TYPE_NA ? -1 : jk_pos(k, start + i);
            uint64_t v = pos < 0 ? JK_NULL_HASH : vh[pos];
            if (pos < 0 && isnull) isnull[i] = 1;
            h[i] = combine ? pl_hash_combine(h[i], v) : v;
        }
        pl_free(vh);
        return PL_OK;
    }
    bool plain = !k->idx && !pl_join_key_may_null(k);
    if (plain && k->cls == JK_INT && k->width == 8) {
        const int64_t *v = (const int64_t *)(const void *)k->vdata + start;
        if (combine)
            for (int64_t i = 0; i < n; i++) h[i] = pl_hash_combine(h[i], jk_hash_int(v[i]));
        else
            for (int64_t i = 0; i < n; i++) h[i] = jk_hash_int(v[i]);
        return PL_OK;
    }
    if (k->idx && k->v->length <= n / 2 + 16) {
        /* small dictionary: hash its values once */
        int64_t dn = k->v->length;
        uint64_t *dh = pl_malloc(sizeof *dh * (size_t)PL_MAX(dn, 1));
        if (!dh) PL_FAIL(err, PL_ERR_NOMEM, "out of memory hashing join keys");
        for (int64_t p = 0; p < dn; p++)
            dh[p] = k->vvalid && !pl_bit_get(k->vvalid, k->voff + p) ? JK_NULL_HASH : hash_at(k, p);
        for (int64_t i = 0; i < n; i++) {
            int64_t pos = jk_pos(k, start + i);
            uint64_t v = pos < 0 ? JK_NULL_HASH : dh[pos];
            if (pos < 0 && isnull) isnull[i] = 1;
            h[i] = combine ? pl_hash_combine(h[i], v) : v;
        }
        pl_free(dh);
        return PL_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t pos = jk_pos(k, start + i);
        uint64_t v;
        if (pos < 0) {
            v = JK_NULL_HASH;
            if (isnull) isnull[i] = 1;
        } else {
            v = hash_at(k, pos);
        }
        h[i] = combine ? pl_hash_combine(h[i], v) : v;
    }
    return PL_OK;
}

void pl_join_key_ints(const jk_view *k, int64_t start, int64_t n, int64_t *out, uint8_t *isnull) {
    if (!k->idx && !pl_join_key_may_null(k)) {
        const uint8_t *p = k->vdata;
        switch (k->width) {
        case 8: memcpy(out, (const int64_t *)(const void *)p + start, sizeof *out * (size_t)n); return;
        case 4:
            if (k->is_signed)
                for (int64_t i = 0; i < n; i++) out[i] = ((const int32_t *)(const void *)p)[start + i];
            else
                for (int64_t i = 0; i < n; i++) out[i] = ((const uint32_t *)(const void *)p)[start + i];
            return;
        default:
            for (int64_t i = 0; i < n; i++) out[i] = jk_int_at(k, start + i);
            return;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t pos = jk_pos(k, start + i);
        if (pos < 0) {
            out[i] = 0;
            if (isnull) isnull[i] = 1;
        } else {
            out[i] = jk_int_at(k, pos);
        }
    }
}

static inline bool eq_double(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

int64_t pl_join_key_eq_compact(const jk_view *p, const jk_view *b, int32_t *pi, int64_t *bi,
                               int64_t n) {
    int64_t kept = 0;
    bool other = p->cls != b->cls || p->cls == JK_OTHER ||
                 ((p->cls == JK_FIXED) && p->width != b->width);
    for (int64_t m = 0; m < n; m++) {
        int64_t pp = jk_pos(p, pi[m]), bp = jk_pos(b, bi[m]);
        bool eq;
        if (pp < 0 || bp < 0) {
            eq = pp < 0 && bp < 0;
        } else if (other) {
            eq = pl_array_value_equal(p->v, pp, b->v, bp);
        } else {
            switch (p->cls) {
            case JK_INT: eq = jk_int_at(p, pp) == jk_int_at(b, bp); break;
            case JK_F32:
                eq = eq_double(((const float *)(const void *)p->vdata)[pp],
                               ((const float *)(const void *)b->vdata)[bp]);
                break;
            case JK_F64:
                eq = eq_double(((const double *)(const void *)p->vdata)[pp],
                               ((const double *)(const void *)b->vdata)[bp]);
                break;
            case JK_BOOL:
                eq = pl_bit_get(p->vdata, p->voff + pp) == pl_bit_get(b->vdata, b->voff + bp);
                break;
            case JK_VARLEN: {
                int32_t po = p->voffs[pp], pn = p->voffs[pp + 1] - po;
                int32_t bo = b->voffs[bp], bn = b->voffs[bp + 1] - bo;
                eq = pn == bn && (pn == 0 || memcmp(p->vdata + po, b->vdata + bo, (size_t)pn) == 0);
                break;
            }
            case JK_IVL:
                eq = pl_interval_ns(p->vdata + pp * 16) == pl_interval_ns(b->vdata + bp * 16);
                break;
            default:
                eq = memcmp(p->vdata + pp * p->width, b->vdata + bp * b->width, (size_t)p->width) == 0;
                break;
            }
        }
        pi[kept] = pi[m];
        bi[kept] = bi[m];
        kept += eq;
    }
    return kept;
}

/* ---------------------------------------------------------------- build-side helpers */

int64_t pl_join_array_bytes(const pl_array *a) {
    return (a->values ? a->values->capacity : 0) + (a->data ? a->data->capacity : 0) +
           (a->validity ? a->validity->capacity : 0);
}

pl_status pl_join_concat_columns(pl_batch *const *bats, int64_t nbat, const pl_schema *schema,
                                 const bool *need, pl_array **cols, int64_t *bytes, pl_error *err) {
    *bytes = 0;
    pl_array **parts = pl_malloc(sizeof *parts * (size_t)PL_MAX(nbat, 1));
    if (!parts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory collecting the join build side");
    pl_status st = PL_OK;
    for (int32_t c = 0; c < schema->n_fields && !st; c++) {
        if (!need[c]) continue;
        if (nbat == 0) {
            st = pl_array_new_nulls(schema->fields[c].type, 0, &cols[c], err);
        } else if (nbat == 1) {
            cols[c] = pl_array_retain(bats[0]->columns[c]);
        } else {
            for (int64_t i = 0; i < nbat; i++) parts[i] = bats[i]->columns[c];
            st = pl_array_concat(nbat, parts, &cols[c], err);
            if (!st) *bytes += pl_join_array_bytes(cols[c]);
        }
    }
    pl_free(parts);
    return st;
}

pl_status pl_join_check_outputs(const pl_join_spec *spec, const pl_schema *ps, const pl_schema *bs,
                                const char *what, pl_error *err) {
    for (int32_t c = 0; c < spec->n_probe_out; c++)
        if (spec->probe_out[c] < 0 || spec->probe_out[c] >= ps->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: output column %d is not a probe column", what, c);
    for (int32_t c = 0; c < spec->n_build_out; c++)
        if (spec->build_out[c] < 0 || spec->build_out[c] >= bs->n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: output column %d is not a build column", what, c);
    if (!spec->out_schema || spec->out_schema->n_fields != spec->n_probe_out + spec->n_build_out)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: output schema has %d fields, expected %d", what,
                spec->out_schema ? spec->out_schema->n_fields : -1,
                spec->n_probe_out + spec->n_build_out);
    return PL_OK;
}

pl_status pl_join_copy_ints(const int32_t *src, int32_t n, int32_t **dst, pl_error *err) {
    *dst = pl_malloc(sizeof **dst * (size_t)PL_MAX(n, 1));
    if (!*dst) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a join");
    if (n) memcpy(*dst, src, sizeof **dst * (size_t)n);
    return PL_OK;
}
