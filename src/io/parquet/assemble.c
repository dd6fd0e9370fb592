/* assemble.c - record assembly: builds polaroid arrays (structs, lists, maps, and leaves with
 * their validity) from the definition/repetition levels and dense values of decoded leaves.
 *
 * Each node is built over the level entries of its first leaf. An entry opens a slot of the
 * node when rep <= slot_rep (it starts a new value at the node's depth) and def >= slot_def (the
 * enclosing list has an element there); the slot is valid when def >= node->def_level. A list's
 * elements are the entries with rep <= node->rep and def >= node->elem_def; its child is built
 * with slot_rep = node->rep and slot_def = node->elem_def. Flat top-level leaves were already
 * decoded slot-aligned and are wrapped without copying. */
#include <string.h>

#include "pq_int.h"

typedef struct asm_ctx {
    pl_pq_leaf_data *leaves;
    const pl_pq_leaf_desc *descs;
    pl_error *err;
} asm_ctx;

static inline int lv(const uint8_t *a, int64_t i) { return a ? a[i] : 0; }

static pl_status nomem(pl_error *err) { PL_FAIL(err, PL_ERR_NOMEM, "out of memory assembling records"); }

static pl_type *leaf_out_type(const pl_pq_leaf_desc *d, pl_pq_leaf_data *ld, pl_error *err,
                              pl_status *st) {
    *st = PL_OK;
    if (!ld->dict) return pl_type_retain(d->type);
    pl_type *t = NULL;
    *st = pl_type_new_dictionary(PL_TYPE_INT32, d->type, &t, err);
    return t;
}

/* A flat leaf: buffers are already slot-aligned. */
static pl_status flat_leaf(asm_ctx *a, int32_t leaf, pl_array **out) {
    pl_pq_leaf_data *ld = &a->leaves[leaf];
    const pl_pq_leaf_desc *d = &a->descs[leaf];
    pl_status st;
    pl_type *t = leaf_out_type(d, ld, a->err, &st);
    if (st) return st;
    int64_t n = ld->n_levels;
    pl_pq_sink *s = &ld->sink;
    if (s->conv == PL_PQ_CONV_VARLEN) s->values->size = (n + 1) * 4;
    else if (s->conv == PL_PQ_CONV_BOOL) s->values->size = (n + 7) / 8;
    else s->values->size = n * s->width;
    if (ld->validity) {
        ld->validity->size = (n + 7) / 8;
        if (n & 7) ld->validity->data[n >> 3] &= (uint8_t)((1u << (n & 7)) - 1);
    }
    pl_buf *values = s->values, *data = s->data, *validity = ld->validity;
    pl_array *dict = ld->dict;
    s->values = s->data = NULL;
    ld->validity = NULL;
    ld->dict = NULL;
    return pl_array_new(t, n, validity ? ld->null_count : 0, validity, values, data, 0, NULL, dict,
                        out, a->err);
}

/* Slot validity of a node over the entries of its first leaf. */
typedef struct slots {
    int64_t n, n_null;
    pl_buf *validity; /* NULL if no nulls */
} slots;

static pl_status count_slots(const pl_pq_leaf_data *ld, int16_t slot_rep, int16_t slot_def,
                             int16_t def_level, slots *s, pl_error *err) {
    memset(s, 0, sizeof *s);
    const uint8_t *def = ld->def, *rep = ld->rep;
    int64_t n = 0, n_null = 0;
    for (int64_t i = 0; i < ld->n_levels; i++) {
        if (lv(rep, i) > slot_rep || lv(def, i) < slot_def) continue;
        n++;
        n_null += lv(def, i) < def_level;
    }
    s->n = n;
    s->n_null = n_null;
    if (n_null == 0) return PL_OK;
    PL_TRY(pl_buf_new_zeroed((n + 7) / 8 + 8, &s->validity, err));
    s->validity->size = (n + 7) / 8;
    int64_t k = 0;
    for (int64_t i = 0; i < ld->n_levels; i++) {
        if (lv(rep, i) > slot_rep || lv(def, i) < slot_def) continue;
        if (lv(def, i) >= def_level) pl_bit_set(s->validity->data, k);
        k++;
    }
    return PL_OK;
}

static pl_status build_node(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep,
                            int16_t slot_def, pl_array **out);

static pl_status build_leaf(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep, int16_t slot_def,
                            pl_array **out) {
    pl_pq_leaf_data *ld = &a->leaves[node->leaf];
    const pl_pq_leaf_desc *d = &a->descs[node->leaf];
    pl_error *err = a->err;
    slots sl;
    PL_TRY(count_slots(ld, slot_rep, slot_def, d->max_def, &sl, err));
    pl_pq_sink *s = &ld->sink;
    if (sl.n - sl.n_null != s->n) {
        pl_buf_release(sl.validity);
        PL_FAIL(err, PL_ERR_CORRUPT, "column \"%s\" has %lld values for %lld non-null slots",
                d->path, (long long)s->n, (long long)(sl.n - sl.n_null));
    }
    pl_status st;
    pl_type *t = leaf_out_type(d, ld, err, &st);
    if (st) {
        pl_buf_release(sl.validity);
        return st;
    }
    pl_buf *values = NULL, *data = NULL;
    int64_t n = sl.n;
    const uint8_t *valid = sl.validity ? sl.validity->data : NULL;
    if (!valid) {
        /* no nulls: the dense values are the slots */
        values = s->values;
        data = s->data;
        s->values = s->data = NULL;
        if (!values) st = pl_buf_new(8, &values, err);
        if (!st) {
            if (s->conv == PL_PQ_CONV_VARLEN) {
                if (n == 0) memset(values->data, 0, 4);
                values->size = (n + 1) * 4;
            } else if (s->conv == PL_PQ_CONV_BOOL) values->size = (n + 7) / 8;
            else values->size = n * s->width;
        }
    } else if (s->conv == PL_PQ_CONV_VARLEN) {
        st = pl_buf_new((n + 1) * 4, &values, err);
        if (!st) {
            int32_t *o = (int32_t *)(void *)values->data;
            const int32_t *src = (const int32_t *)(const void *)s->values->data;
            int64_t j = 0;
            o[0] = 0;
            for (int64_t i = 0; i < n; i++) {
                if (pl_bit_get(valid, i)) j++;
                o[i + 1] = src[j];
            }
            values->size = (n + 1) * 4;
            data = pl_buf_retain(s->data);
        }
    } else if (s->conv == PL_PQ_CONV_BOOL) {
        st = pl_buf_new_zeroed((n + 7) / 8 + 8, &values, err);
        if (!st) {
            int64_t j = 0;
            for (int64_t i = 0; i < n; i++)
                if (pl_bit_get(valid, i) && pl_bit_get(s->values->data, j++))
                    pl_bit_set(values->data, i);
            values->size = (n + 7) / 8;
        }
    } else {
        int64_t w = s->width;
        st = pl_buf_new_zeroed(n * w + 8, &values, err);
        if (!st) {
            int64_t j = 0;
            for (int64_t i = 0; i < n; i++)
                if (pl_bit_get(valid, i)) memcpy(values->data + i * w, s->values->data + (j++) * w,
                                                 (size_t)w);
            values->size = n * w;
        }
    }
    if (st) {
        pl_type_release(t);
        pl_buf_release(sl.validity);
        return st;
    }
    pl_array *dict = ld->dict;
    ld->dict = NULL;
    return pl_array_new(t, n, sl.n_null, sl.validity, values, data, 0, NULL, dict, out, err);
}

static pl_status build_struct(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep,
                              int16_t slot_def, pl_array **out) {
    pl_error *err = a->err;
    slots sl;
    PL_TRY(count_slots(&a->leaves[node->first_leaf], slot_rep, slot_def, node->def_level, &sl,
                       err));
    pl_array **kids = pl_calloc((size_t)node->n_children, sizeof *kids);
    if (!kids) {
        pl_buf_release(sl.validity);
        return nomem(err);
    }
    pl_status st = PL_OK;
    for (int32_t k = 0; k < node->n_children && !st; k++) {
        st = build_node(a, &node->children[k], slot_rep, slot_def, &kids[k]);
        if (!st && kids[k]->length != sl.n)
            st = pl_error_set(err, PL_ERR_CORRUPT, "struct field \"%s\" has %lld values, its "
                              "siblings %lld", node->children[k].name,
                              (long long)kids[k]->length, (long long)sl.n);
    }
    if (st) {
        for (int32_t k = 0; k < node->n_children; k++) pl_array_release(kids[k]);
        pl_free(kids);
        pl_buf_release(sl.validity);
        return st;
    }
    st = pl_array_new(pl_type_retain(node->type), sl.n, sl.n_null, sl.validity, NULL, NULL,
                      node->n_children, kids, NULL, out, err);
    pl_free(kids);
    return st;
}

static pl_status build_list(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep,
                            int16_t slot_def, pl_array **out) {
    pl_error *err = a->err;
    const pl_pq_leaf_data *ld = &a->leaves[node->first_leaf];
    slots sl;
    PL_TRY(count_slots(ld, slot_rep, slot_def, node->def_level, &sl, err));
    pl_buf *offsets = NULL;
    pl_status st = pl_buf_new((sl.n + 1) * 4, &offsets, err);
    if (st) {
        pl_buf_release(sl.validity);
        return st;
    }
    int32_t *o = (int32_t *)(void *)offsets->data;
    const uint8_t *def = ld->def, *rep = ld->rep;
    int64_t slot = 0, elems = 0;
    o[0] = 0;
    for (int64_t i = 0; i < ld->n_levels; i++) {
        int r = lv(rep, i), dl = lv(def, i);
        if (r <= slot_rep && dl >= slot_def) {
            if (slot > 0) o[slot] = (int32_t)elems;
            slot++;
        }
        if (r <= node->rep && dl >= node->elem_def) {
            elems++;
            if (elems > INT32_MAX) {
                pl_buf_release(offsets);
                pl_buf_release(sl.validity);
                PL_FAIL(err, PL_ERR_LIMIT, "list column \"%s\" has more than %d elements",
                        node->name, INT32_MAX);
            }
        }
    }
    o[sl.n] = (int32_t)elems;
    offsets->size = (sl.n + 1) * 4;
    pl_array *child = NULL;
    st = build_node(a, &node->children[0], node->rep, node->elem_def, &child);
    if (!st && child->length != elems)
        st = pl_error_set(err, PL_ERR_CORRUPT, "list \"%s\" has %lld elements but its items "
                          "have %lld values", node->name, (long long)elems,
                          (long long)child->length);
    if (st) {
        pl_array_release(child);
        pl_buf_release(offsets);
        pl_buf_release(sl.validity);
        return st;
    }
    return pl_array_new(pl_type_retain(node->type), sl.n, sl.n_null, sl.validity, offsets, NULL, 1,
                        &child, NULL, out, err);
}

static pl_status build_map(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep, int16_t slot_def,
                           pl_array **out) {
    /* a map is a list of entries structs; the entries type comes from the map type */
    pl_pq_node list = *node;
    list.kind = PL_PQ_NODE_LIST;
    return build_list(a, &list, slot_rep, slot_def, out);
}

static pl_status build_variant(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep,
                              int16_t slot_def, pl_array **out) {
    pl_pq_node st_node = *node;
    st_node.kind = PL_PQ_NODE_STRUCT;
    st_node.type = node->struct_type;
    pl_array *s = NULL;
    PL_TRY(build_struct(a, &st_node, slot_rep, slot_def, &s));
    pl_status st = pl_pq_variant_to_text(s, out, a->err);
    pl_array_release(s);
    return st;
}

static pl_status build_node(asm_ctx *a, const pl_pq_node *node, int16_t slot_rep,
                            int16_t slot_def, pl_array **out) {
    switch (node->kind) {
    case PL_PQ_NODE_VARIANT: return build_variant(a, node, slot_rep, slot_def, out);
    case PL_PQ_NODE_LEAF: return build_leaf(a, node, slot_rep, slot_def, out);
    case PL_PQ_NODE_STRUCT: return build_struct(a, node, slot_rep, slot_def, out);
    case PL_PQ_NODE_LIST: return build_list(a, node, slot_rep, slot_def, out);
    case PL_PQ_NODE_MAP: return build_map(a, node, slot_rep, slot_def, out);
    }
    PL_FAIL(a->err, PL_ERR_INTERNAL, "unknown schema node kind %d", (int)node->kind);
}

pl_status pl_pq_assemble(const pl_pq_node *node, pl_pq_leaf_data *leaves,
                         const pl_pq_leaf_desc *descs, pl_array **out, pl_error *err) {
    asm_ctx a = {leaves, descs, err};
    if (node->kind == PL_PQ_NODE_LEAF && leaves[node->leaf].flat) return flat_leaf(&a, node->leaf, out);
    return build_node(&a, node, 0, 0, out);
}
