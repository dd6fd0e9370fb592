/* test_array.c - property tests of src/columnar/array.c against a reference model: random rows
 * are kept as plain C values, built into arrays, sliced and concatenated, and every result is
 * checked by reading the Arrow buffers directly as the layout spec defines them (validity bit
 * at offset + i, values at (offset + i) * width, offsets[offset + i], struct children at the
 * parent offset, list children through the offsets), independent of pl_array_equals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "../common/test_util.h"

/* ---------------------------------------------------------------- model */

typedef struct row {
    bool valid;
    int64_t v;
} row;

enum kind { K_INT8, K_INT16, K_INT32, K_INT64, K_UINT16, K_F64, K_BOOL, K_UTF8, K_FIXED, K_DEC, K_LIST, K_STRUCT, K_DICT, K_MAP, K__COUNT };

static uint64_t g_rng = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) { return test_xorshift(&g_rng); }

static int64_t mod(int64_t v, int64_t m) { return ((v % m) + m) % m; }

/* The string of value v: "s<v>" repeated mod(v, 4) times (so some strings are empty). */
static int str_of(int64_t v, char *buf) {
    int n = 0;
    buf[0] = 0;
    for (int64_t r = 0; r < mod(v, 4); r++) n += sprintf(buf + n, "s%lld", (long long)v);
    return n;
}

static pl_type *kind_type(enum kind k) {
    pl_type *t = NULL;
    switch (k) {
    case K_INT8: return pl_type_retain(pl_type_simple(PL_TYPE_INT8));
    case K_INT16: return pl_type_retain(pl_type_simple(PL_TYPE_INT16));
    case K_INT32: return pl_type_retain(pl_type_simple(PL_TYPE_INT32));
    case K_INT64: return pl_type_retain(pl_type_simple(PL_TYPE_INT64));
    case K_UINT16: return pl_type_retain(pl_type_simple(PL_TYPE_UINT16));
    case K_F64: return pl_type_retain(pl_type_simple(PL_TYPE_FLOAT64));
    case K_BOOL: return pl_type_retain(pl_type_simple(PL_TYPE_BOOL));
    case K_UTF8: return pl_type_retain(pl_type_simple(PL_TYPE_UTF8));
    case K_FIXED: assert_int_equal(pl_type_new_fixed_binary(3, &t, NULL), PL_OK); return t;
    case K_DEC: assert_int_equal(pl_type_new_decimal(30, 4, &t, NULL), PL_OK); return t;
    case K_LIST:
        assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &t, NULL), PL_OK);
        return t;
    case K_STRUCT: {
        pl_field f[2] = {{"x", pl_type_simple(PL_TYPE_INT32), true}, {"y", pl_type_simple(PL_TYPE_UTF8), true}};
        assert_int_equal(pl_type_new_struct(2, f, &t, NULL), PL_OK);
        return t;
    }
    case K_DICT:
        assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT16, pl_type_simple(PL_TYPE_UTF8), &t, NULL), PL_OK);
        return t;
    case K_MAP:
        assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT64), true, &t, NULL), PL_OK);
        return t;
    default: return NULL;
    }
}

static void append_row(pl_builder *b, enum kind k, row r) {
    char s[128];
    if (!r.valid) {
        assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        return;
    }
    int64_t v = r.v;
    switch (k) {
    case K_F64: assert_int_equal(pl_builder_append_f64(b, (double)v / 8, NULL), PL_OK); break;
    case K_BOOL: assert_int_equal(pl_builder_append_bool(b, v & 1, NULL), PL_OK); break;
    case K_UTF8: assert_int_equal(pl_builder_append_bytes(b, s, str_of(v, s), NULL), PL_OK); break;
    case K_DICT: assert_int_equal(pl_builder_append_bytes(b, s, str_of(mod(v, 13), s), NULL), PL_OK); break;
    case K_FIXED: {
        uint8_t x[3] = {(uint8_t)v, (uint8_t)(v >> 8), 0xAB};
        assert_int_equal(pl_builder_append_bytes(b, x, 3, NULL), PL_OK);
        break;
    }
    case K_DEC: assert_int_equal(pl_builder_append_decimal(b, (uint64_t)v, v < 0 ? -1 : 0, NULL), PL_OK); break;
    case K_LIST: {
        pl_builder *c = pl_builder_child(b, 0);
        for (int64_t i = 0; i < mod(v, 4); i++) {
            if ((v + i) % 5 == 0) assert_int_equal(pl_builder_append_null(c, NULL), PL_OK);
            else assert_int_equal(pl_builder_append_i64(c, v * 10 + i, NULL), PL_OK);
        }
        assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
        break;
    }
    case K_STRUCT: {
        pl_builder *x = pl_builder_child(b, 0), *y = pl_builder_child(b, 1);
        if (v % 7 == 0) assert_int_equal(pl_builder_append_null(x, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_i64(x, v, NULL), PL_OK);
        assert_int_equal(pl_builder_append_bytes(y, s, str_of(v, s), NULL), PL_OK);
        assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
        break;
    }
    case K_MAP: {
        pl_builder *e = pl_builder_child(b, 0);
        for (int64_t i = 0; i < mod(v, 3); i++) {
            int n = sprintf(s, "k%lld", (long long)i);
            assert_int_equal(pl_builder_append_bytes(pl_builder_child(e, 0), s, n, NULL), PL_OK);
            assert_int_equal(pl_builder_append_i64(pl_builder_child(e, 1), v + i, NULL), PL_OK);
            assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
        }
        assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
        break;
    }
    default: assert_int_equal(pl_builder_append_i64(b, v, NULL), PL_OK); break;
    }
}

static pl_array *build(enum kind k, const row *rows, int64_t n) {
    pl_type *t = kind_type(k);
    pl_builder *b;
    assert_int_equal(pl_builder_new(t, 8, &b, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) append_row(b, k, rows[i]);
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    pl_type_release(t);
    return a;
}

/* ---------------------------------------------------------------- raw reads */

static bool raw_valid(const pl_array *a, int64_t i) {
    if (!a->validity) return true;
    int64_t bit = a->offset + i;
    return (a->validity->data[bit / 8] >> (bit % 8)) & 1;
}

static int64_t raw_int(const pl_array *a, int64_t i) {
    const uint8_t *p = a->values->data + (a->offset + i) * a->type->byte_width;
    switch (a->type->id) {
    case PL_TYPE_INT8: return (int8_t)p[0];
    case PL_TYPE_INT16: return (int16_t)(p[0] | p[1] << 8);
    case PL_TYPE_UINT16: return (uint16_t)(p[0] | p[1] << 8);
    case PL_TYPE_INT32: { int32_t x; memcpy(&x, p, 4); return x; }
    default: { int64_t x; memcpy(&x, p, 8); return x; }
    }
}

static void raw_str(const pl_array *a, int64_t i, const uint8_t **p, int32_t *n) {
    const int32_t *o = (const int32_t *)(const void *)a->values->data;
    int32_t from = o[a->offset + i], to = o[a->offset + i + 1];
    assert_true(to >= from);
    *n = to - from;
    *p = a->data ? a->data->data + from : NULL;
}

static void check_str(const pl_array *a, int64_t i, int64_t v) {
    char s[128];
    int n = str_of(v, s);
    const uint8_t *p;
    int32_t len;
    raw_str(a, i, &p, &len);
    assert_int_equal(len, n);
    if (n) assert_memory_equal(p, s, (size_t)n);
}

/* Checks array a (any offset) against rows, reading buffers as the layout spec says. */
static void check_against(const pl_array *a, enum kind k, const row *rows, int64_t n) {
    assert_int_equal(a->length, n);
    for (int64_t i = 0; i < n; i++) {
        assert_int_equal(raw_valid(a, i), rows[i].valid);
        if (!rows[i].valid) continue;
        int64_t v = rows[i].v;
        switch (k) {
        case K_INT8: assert_int_equal(raw_int(a, i), (int8_t)v); break;
        case K_INT16: assert_int_equal(raw_int(a, i), (int16_t)v); break;
        case K_UINT16: assert_int_equal(raw_int(a, i), (uint16_t)v); break;
        case K_INT32: assert_int_equal(raw_int(a, i), (int32_t)v); break;
        case K_INT64: assert_int_equal(raw_int(a, i), v); break;
        case K_F64: {
            double d;
            memcpy(&d, a->values->data + (a->offset + i) * 8, 8);
            assert_true(d == (double)v / 8);
            break;
        }
        case K_BOOL: {
            int64_t bit = a->offset + i;
            assert_int_equal((a->values->data[bit / 8] >> (bit % 8)) & 1, v & 1);
            break;
        }
        case K_UTF8: check_str(a, i, v); break;
        case K_FIXED: {
            const uint8_t *p = a->values->data + (a->offset + i) * 3;
            assert_int_equal(p[0], (uint8_t)v);
            assert_int_equal(p[1], (uint8_t)(v >> 8));
            assert_int_equal(p[2], 0xAB);
            break;
        }
        case K_DEC: {
            const uint8_t *p = a->values->data + (a->offset + i) * 16;
            int64_t lo, hi;
            memcpy(&lo, p, 8);
            memcpy(&hi, p + 8, 8);
            assert_int_equal(lo, v);
            assert_int_equal(hi, v < 0 ? -1 : 0);
            break;
        }
        case K_DICT: {
            int16_t idx;
            memcpy(&idx, a->values->data + (a->offset + i) * 2, 2);
            assert_true(idx >= 0 && idx < a->dictionary->length);
            assert_true(raw_valid(a->dictionary, idx));
            check_str(a->dictionary, idx, mod(v, 13));
            break;
        }
        case K_LIST: {
            const int32_t *o = (const int32_t *)(const void *)a->values->data + a->offset;
            assert_int_equal(o[i + 1] - o[i], mod(v, 4));
            const pl_array *c = a->children[0];
            for (int64_t j = 0; j < mod(v, 4); j++) {
                int64_t ci = o[i] + j;
                bool cvalid = (v + j) % 5 != 0;
                assert_int_equal(raw_valid(c, ci), cvalid);
                if (cvalid) assert_int_equal(raw_int(c, ci), v * 10 + j);
            }
            break;
        }
        case K_STRUCT: {
            const pl_array *x = a->children[0], *y = a->children[1];
            int64_t ci = a->offset + i; /* struct children start at the parent offset */
            assert_int_equal(raw_valid(x, ci), v % 7 != 0);
            if (v % 7) assert_int_equal(raw_int(x, ci), v);
            assert_true(raw_valid(y, ci));
            check_str(y, ci, v);
            break;
        }
        case K_MAP: {
            const int32_t *o = (const int32_t *)(const void *)a->values->data + a->offset;
            assert_int_equal(o[i + 1] - o[i], mod(v, 3));
            const pl_array *e = a->children[0];
            for (int64_t j = 0; j < mod(v, 3); j++) {
                int64_t ei = e->offset + o[i] + j;
                const uint8_t *p;
                int32_t len;
                char s[32];
                int n_s = sprintf(s, "k%lld", (long long)j);
                raw_str(e->children[0], ei, &p, &len);
                assert_int_equal(len, n_s);
                assert_memory_equal(p, s, (size_t)n_s);
                assert_int_equal(raw_int(e->children[1], ei), v + j);
            }
            break;
        }
        default: fail();
        }
    }
}

static void random_rows(row *rows, int64_t n, int null_pct) {
    for (int64_t i = 0; i < n; i++) {
        rows[i].valid = (int)(rnd() % 100) >= null_pct;
        rows[i].v = (int64_t)(rnd() % 100000) - 50000;
        if (rows[i].v < 0 && rnd() % 2) rows[i].v = -rows[i].v;
    }
}

/* ---------------------------------------------------------------- tests */

static void test_slice_concat_model(void **state) {
    (void)state;
    enum { N = 300 };
    static row rows[N], want[N * 6];
    for (int k = 0; k < K__COUNT; k++) {
        for (int round = 0; round < 12; round++) {
            int null_pct = round % 3 == 0 ? 0 : (int)(rnd() % 60);
            random_rows(rows, N, null_pct);
            pl_array *base = build((enum kind)k, rows, N);
            check_against(base, (enum kind)k, rows, N);
            assert_int_equal(pl_array_validate(base, true, NULL), PL_OK);
            /* random slices of base, plus a freshly built part (so dictionaries differ) */
            int n_parts = 1 + (int)(rnd() % 5);
            pl_array *parts[6];
            int64_t n_want = 0;
            for (int p = 0; p < n_parts; p++) {
                int64_t off = (int64_t)(rnd() % N), len = (int64_t)(rnd() % (uint64_t)(N - off + 1));
                assert_int_equal(pl_array_slice(base, off, len, &parts[p], NULL), PL_OK);
                check_against(parts[p], (enum kind)k, rows + off, len);
                int64_t valid_n = 0;
                for (int64_t i = 0; i < len; i++) valid_n += rows[off + i].valid;
                assert_int_equal(pl_array_null_count(parts[p]), len - valid_n);
                memcpy(want + n_want, rows + off, sizeof(row) * (size_t)len);
                n_want += len;
            }
            static row extra[40];
            random_rows(extra, 40, 20);
            for (int i = 0; i < 40; i++) extra[i].v += 7; /* other dictionary values too */
            parts[n_parts] = build((enum kind)k, extra, 40);
            memcpy(want + n_want, extra, sizeof extra);
            n_want += 40;
            pl_array *cat;
            assert_int_equal(pl_array_concat(n_parts + 1, parts, &cat, NULL), PL_OK);
            check_against(cat, (enum kind)k, want, n_want);
            assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
            pl_array *rebuilt = build((enum kind)k, want, n_want);
            assert_true(pl_array_equals(cat, rebuilt));
            assert_true(pl_array_equals(rebuilt, cat));
            if (k == K_DICT) {
                /* unified: each distinct string once */
                assert_true(cat->dictionary->length <= 13);
            }
            /* change one valid row's value in the model: no longer equal */
            for (int64_t i = 0; i < n_want; i++) {
                if (!want[i].valid) continue;
                want[i].v += 1; /* also flips a bool */
                pl_array *changed = build((enum kind)k, want, n_want);
                char s_old[128], s_new[128];
                int n_old = str_of(k == K_DICT ? mod(want[i].v - 1, 13) : want[i].v - 1, s_old);
                int n_new = str_of(k == K_DICT ? mod(want[i].v, 13) : want[i].v, s_new);
                bool same_value = (k == K_DICT || k == K_UTF8) && n_old == n_new &&
                                  memcmp(s_old, s_new, (size_t)n_old) == 0;
                if (!same_value) assert_false(pl_array_equals(cat, changed));
                pl_array_release(changed);
                want[i].v -= 1;
                break;
            }
            pl_array_release(rebuilt);
            pl_array_release(cat);
            for (int p = 0; p <= n_parts; p++) pl_array_release(parts[p]);
            pl_array_release(base);
        }
    }
}

static void test_bool_bit_copies_all_phases(void **state) {
    (void)state;
    /* Every combination of source phase, destination phase and length goes through the
     * bit-copy paths (same phase memcpy, unaligned byte assembly, tails). */
    enum { N = 96 };
    row rows[N];
    for (int i = 0; i < N; i++) {
        rows[i].valid = (i * 7) % 5 != 0;
        rows[i].v = (i * 13) % 3 == 0;
    }
    pl_array *a = build(K_BOOL, rows, N);
    for (int64_t first = 0; first < 12; first++) {
        for (int64_t src_off = 0; src_off < 16; src_off++) {
            for (int64_t len = 0; len < 70; len += 3) {
                pl_array *p1, *p2, *cat;
                assert_int_equal(pl_array_slice(a, 0, first, &p1, NULL), PL_OK);
                assert_int_equal(pl_array_slice(a, src_off, len, &p2, NULL), PL_OK);
                pl_array *parts[2] = {p1, p2};
                assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
                row want[N * 2];
                memcpy(want, rows, sizeof(row) * (size_t)first);
                memcpy(want + first, rows + src_off, sizeof(row) * (size_t)len);
                check_against(cat, K_BOOL, want, first + len);
                int64_t valid_n = 0;
                for (int64_t i = 0; i < first + len; i++) valid_n += want[i].valid;
                assert_int_equal(pl_array_null_count(cat), first + len - valid_n);
                pl_array_release(cat);
                pl_array_release(p1);
                pl_array_release(p2);
            }
        }
    }
    pl_array_release(a);
}

static pl_array *dict_of(pl_type_id index_id, const char *const *values, int n, const int *idx,
                         const bool *valid, int n_rows) {
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(index_id, pl_type_simple(PL_TYPE_UTF8), &dt, NULL), PL_OK);
    pl_builder *vb;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), 0, &vb, NULL), PL_OK);
    for (int i = 0; i < n; i++) {
        if (values[i]) assert_int_equal(pl_builder_append_bytes(vb, values[i], (int64_t)strlen(values[i]), NULL), PL_OK);
        else assert_int_equal(pl_builder_append_null(vb, NULL), PL_OK);
    }
    pl_array *dict;
    assert_int_equal(pl_builder_finish(vb, &dict, NULL), PL_OK);
    pl_builder_free(vb);
    int32_t w = dt->byte_width;
    pl_buf *values_buf, *validity = NULL;
    assert_int_equal(pl_buf_new_zeroed(n_rows * w, &values_buf, NULL), PL_OK);
    int64_t nulls = 0;
    if (valid) assert_int_equal(pl_buf_new_zeroed((n_rows + 7) / 8, &validity, NULL), PL_OK);
    for (int i = 0; i < n_rows; i++) {
        int64_t v = idx[i];
        memcpy(values_buf->data + i * w, &v, (size_t)w); /* little-endian */
        if (valid && valid[i]) pl_bit_set(validity->data, i);
        else if (valid) nulls++;
    }
    pl_array *a;
    assert_int_equal(pl_array_new(dt, n_rows, nulls, validity, values_buf, NULL, 0, NULL, dict, &a, NULL), PL_OK);
    return a;
}

static pl_array *strings(const char *const *v, int n) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), 0, &b, NULL), PL_OK);
    for (int i = 0; i < n; i++) {
        if (v[i]) assert_int_equal(pl_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]), NULL), PL_OK);
        else assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static void test_dictionary_concat_unify_and_limits(void **state) {
    (void)state;
    const char *d1[] = {"a", "b", "c"}, *d2[] = {"c", "d", "a"};
    int i1[] = {0, 1, 2, 2}, i2[] = {2, 1, 0, 1};
    bool v2[] = {true, false, true, true};
    pl_array *x = dict_of(PL_TYPE_INT8, d1, 3, i1, NULL, 4);
    pl_array *y = dict_of(PL_TYPE_INT8, d2, 3, i2, v2, 4);
    assert_int_equal(pl_array_validate(y, true, NULL), PL_OK);
    pl_array *parts[2] = {x, y}, *cat;
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(cat->dictionary->length, 4); /* a b c d */
    assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
    const char *want_v[] = {"a", "b", "c", "c", "a", NULL, "c", "d"};
    pl_array *want = strings(want_v, 8);
    assert_true(pl_array_equals(cat, want));
    pl_array *plain;
    assert_int_equal(pl_array_decode_dictionary(cat, &plain, NULL), PL_OK);
    assert_int_equal(plain->type->id, PL_TYPE_UTF8);
    assert_true(pl_array_equals(plain, want));
    pl_array_release(plain);
    pl_array_release(cat);
    pl_array_release(want);

    /* 100 + 100 distinct values do not fit int8 indices: a clear limit error, no crash */
    char names[200][8];
    const char *big1[100], *big2[100];
    int idx[100];
    for (int i = 0; i < 100; i++) {
        sprintf(names[i], "x%d", i);
        sprintf(names[100 + i], "y%d", i);
        big1[i] = names[i];
        big2[i] = names[100 + i];
        idx[i] = i;
    }
    pl_array *b1 = dict_of(PL_TYPE_INT8, big1, 100, idx, NULL, 100);
    pl_array *b2 = dict_of(PL_TYPE_INT8, big2, 100, idx, NULL, 100);
    pl_array *bparts[2] = {b1, b2};
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_concat(2, bparts, &cat, &err), PL_ERR_LIMIT);
    /* the same values twice unify into 100 and fit */
    pl_array *sparts[2] = {b1, b1};
    pl_array *b1copy = dict_of(PL_TYPE_INT8, big1, 100, idx, NULL, 100);
    sparts[1] = b1copy;
    assert_int_equal(pl_array_concat(2, sparts, &cat, NULL), PL_OK);
    assert_int_equal(cat->dictionary->length, 100);
    assert_int_equal(cat->length, 200);
    pl_array_release(cat);
    pl_array_release(b1copy);
    /* uint8 indices hold 256 values */
    pl_array *u1 = dict_of(PL_TYPE_UINT8, big1, 100, idx, NULL, 100);
    pl_array *u2 = dict_of(PL_TYPE_UINT8, big2, 100, idx, NULL, 100);
    pl_array *uparts[2] = {u1, u2};
    assert_int_equal(pl_array_concat(2, uparts, &cat, NULL), PL_OK);
    assert_int_equal(cat->dictionary->length, 200);
    assert_int_equal(pl_array_validate(cat, false, NULL), PL_OK);
    pl_array_release(cat);
    pl_array_release(u1);
    pl_array_release(u2);
    pl_array_release(b1);
    pl_array_release(b2);

    /* dictionaries holding a null value: appended, not unified; still logically equal */
    const char *dn[] = {"p", NULL}, *dm[] = {NULL, "q", "p"};
    int in[] = {0, 1, 0}, im[] = {2, 0, 1};
    pl_array *n1 = dict_of(PL_TYPE_INT32, dn, 2, in, NULL, 3), *n2 = dict_of(PL_TYPE_INT32, dm, 3, im, NULL, 3);
    pl_array *nparts[2] = {n1, n2};
    assert_int_equal(pl_array_concat(2, nparts, &cat, NULL), PL_OK);
    assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
    const char *nwant[] = {"p", NULL, "p", "p", NULL, "q"};
    want = strings(nwant, 6);
    assert_true(pl_array_equals(cat, want));
    assert_int_equal(pl_array_decode_dictionary(cat, &plain, NULL), PL_OK);
    assert_int_equal(pl_array_null_count(plain), 2);
    assert_true(pl_array_equals(plain, want));
    pl_array_release(plain);
    pl_array_release(want);
    pl_array_release(cat);
    pl_array_release(n1);
    pl_array_release(n2);
    pl_array_release(x);
    pl_array_release(y);
}

static void test_decode_dictionary_value_types(void **state) {
    (void)state;
    /* dictionary<uint16, int32>, <int64, float64>, <int8, bool>, <int32, fixed_binary[2]> */
    pl_type_id idx_types[] = {PL_TYPE_UINT16, PL_TYPE_INT64, PL_TYPE_INT8, PL_TYPE_INT32};
    pl_type *fb;
    assert_int_equal(pl_type_new_fixed_binary(2, &fb, NULL), PL_OK);
    pl_type *value_types[] = {pl_type_simple(PL_TYPE_INT32), pl_type_simple(PL_TYPE_FLOAT64),
                              pl_type_simple(PL_TYPE_BOOL), fb};
    for (int c = 0; c < 4; c++) {
        pl_type *dt;
        assert_int_equal(pl_type_new_dictionary(idx_types[c], value_types[c], &dt, NULL), PL_OK);
        pl_builder *db, *pb;
        assert_int_equal(pl_builder_new(dt, 0, &db, NULL), PL_OK);
        assert_int_equal(pl_builder_new(value_types[c], 0, &pb, NULL), PL_OK);
        for (int i = 0; i < 50; i++) {
            int64_t v = (i * 7) % 5;
            if (i % 9 == 4) {
                assert_int_equal(pl_builder_append_null(db, NULL), PL_OK);
                assert_int_equal(pl_builder_append_null(pb, NULL), PL_OK);
                continue;
            }
            switch (c) {
            case 0:
                assert_int_equal(pl_builder_append_i64(db, v, NULL), PL_OK);
                assert_int_equal(pl_builder_append_i64(pb, v, NULL), PL_OK);
                break;
            case 1:
                assert_int_equal(pl_builder_append_f64(db, v ? (double)v : NAN, NULL), PL_OK);
                assert_int_equal(pl_builder_append_f64(pb, v ? (double)v : NAN, NULL), PL_OK);
                break;
            case 2:
                /* bool dictionaries cannot be built row by row */
                assert_int_equal(pl_builder_append_bool(db, v & 1, NULL), PL_ERR_TYPE);
                assert_int_equal(pl_builder_append_null(db, NULL), PL_OK);
                assert_int_equal(pl_builder_append_null(pb, NULL), PL_OK);
                break;
            default: {
                uint8_t x[2] = {(uint8_t)v, (uint8_t)(v * 3)};
                assert_int_equal(pl_builder_append_bytes(db, x, 2, NULL), PL_OK);
                assert_int_equal(pl_builder_append_bytes(pb, x, 2, NULL), PL_OK);
            }
            }
        }
        pl_array *d, *p, *dec;
        assert_int_equal(pl_builder_finish(db, &d, NULL), PL_OK);
        assert_int_equal(pl_builder_finish(pb, &p, NULL), PL_OK);
        assert_int_equal(pl_array_validate(d, false, NULL), PL_OK);
        if (c != 2) assert_int_equal(d->dictionary->length, 5);
        assert_int_equal(pl_array_decode_dictionary(d, &dec, NULL), PL_OK);
        assert_true(pl_type_equals(dec->type, value_types[c]));
        assert_true(pl_array_equals(dec, p));
        assert_true(pl_array_equals(d, p));
        /* a sliced dictionary array decodes its own rows */
        pl_array *ds, *ps, *decs;
        assert_int_equal(pl_array_slice(d, 11, 23, &ds, NULL), PL_OK);
        assert_int_equal(pl_array_slice(p, 11, 23, &ps, NULL), PL_OK);
        assert_int_equal(pl_array_decode_dictionary(ds, &decs, NULL), PL_OK);
        assert_int_equal(decs->offset, 0);
        assert_true(pl_array_equals(decs, ps));
        pl_array_release(decs);
        pl_array_release(ds);
        pl_array_release(ps);
        pl_array_release(dec);
        pl_array_release(d);
        pl_array_release(p);
        pl_builder_free(db);
        pl_builder_free(pb);
        pl_type_release(dt);
    }
    pl_type_release(fb);

    /* an index past the dictionary is an error, not a read out of bounds */
    const char *dv[] = {"a", "b"};
    int bad_idx[] = {0, 1, 7};
    pl_array *bad = dict_of(PL_TYPE_INT32, dv, 2, bad_idx, NULL, 3), *out;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_decode_dictionary(bad, &out, &err), PL_ERR_CORRUPT);
    assert_int_equal(err.row, 2);
    pl_array_release(bad);
    /* ...but garbage under a null row is fine */
    int null_idx[] = {0, -5, 1};
    bool nv[] = {true, false, true};
    pl_array *ok = dict_of(PL_TYPE_INT32, dv, 2, null_idx, nv, 3);
    assert_int_equal(pl_array_validate(ok, true, NULL), PL_OK);
    assert_int_equal(pl_array_decode_dictionary(ok, &out, NULL), PL_OK);
    const char *okw[] = {"a", NULL, "b"};
    pl_array *okwant = strings(okw, 3);
    assert_true(pl_array_equals(out, okwant));
    pl_array_release(okwant);
    pl_array_release(out);
    pl_array_release(ok);
}

/* String dictionaries decode to the model's strings whatever the value lengths (the short-value
 * table of take_dict takes values of at most 16 bytes and dictionaries of at most 4096 entries,
 * the general loop the rest), index widths, slices and nulls; a bad index among good ones fails
 * with its row on both paths. */
static void test_decode_string_dictionary_model(void **state) {
    (void)state;
    static char pool[5000][40];
    const char *dv[5000];
    pl_type_id widths[] = {PL_TYPE_INT8, PL_TYPE_UINT8, PL_TYPE_INT16, PL_TYPE_INT32, PL_TYPE_INT64};
    int sizes[] = {1, 3, 100, 127, 4096, 4097};
    int max_lens[] = {0, 1, 7, 15, 16, 17, 39};
    for (int round = 0; round < 90; round++) {
        int n_dict = sizes[round % 6], max_len = max_lens[(round / 6) % 7];
        pl_type_id w = widths[round % 5];
        if ((w == PL_TYPE_INT8 && n_dict > 127) || (w == PL_TYPE_UINT8 && n_dict > 255)) n_dict = 100;
        if (w == PL_TYPE_INT16 && n_dict > 4096) n_dict = 4096;
        for (int k = 0; k < n_dict; k++) {
            int len = max_len ? (int)(rnd() % (uint64_t)(max_len + 1)) : 0;
            if (k == 0) len = max_len; /* the longest length occurs */
            for (int c = 0; c < len; c++) pool[k][c] = (char)('a' + (int)(rnd() % 26));
            pool[k][len] = 0;
            dv[k] = pool[k];
        }
        int n_rows = 1 + (int)(rnd() % 5000);
        int *idx = malloc(sizeof(int) * (size_t)n_rows);
        bool *valid = malloc(sizeof(bool) * (size_t)n_rows);
        const char **want = malloc(sizeof(char *) * (size_t)n_rows);
        bool with_nulls = round % 4 == 3;
        for (int i = 0; i < n_rows; i++) {
            idx[i] = (int)(rnd() % (uint64_t)n_dict);
            valid[i] = !with_nulls || rnd() % 5 != 0;
            want[i] = valid[i] ? dv[idx[i]] : NULL;
        }
        pl_array *d = dict_of(w, dv, n_dict, idx, with_nulls ? valid : NULL, n_rows);
        pl_array *p = strings(want, n_rows), *dec;
        assert_int_equal(pl_array_decode_dictionary(d, &dec, NULL), PL_OK);
        assert_int_equal(pl_array_validate(dec, true, NULL), PL_OK);
        assert_true(pl_array_equals(dec, p));
        int64_t off = n_rows / 3, len = n_rows - off - n_rows / 5;
        pl_array *ds, *ps, *decs;
        assert_int_equal(pl_array_slice(d, off, len, &ds, NULL), PL_OK);
        assert_int_equal(pl_array_slice(p, off, len, &ps, NULL), PL_OK);
        assert_int_equal(pl_array_decode_dictionary(ds, &decs, NULL), PL_OK);
        assert_int_equal(pl_array_validate(decs, true, NULL), PL_OK);
        assert_true(pl_array_equals(decs, ps));
        pl_array_release(decs);
        pl_array_release(ds);
        pl_array_release(ps);
        pl_array_release(dec);
        pl_array_release(d);
        pl_array_release(p);
        if (!with_nulls && w != PL_TYPE_INT8 && w != PL_TYPE_UINT8) {
            int bad_row = (int)(rnd() % (uint64_t)n_rows);
            idx[bad_row] = n_dict + (int)(rnd() % 3);
            pl_array *bad = dict_of(w, dv, n_dict, idx, NULL, n_rows), *out = NULL;
            pl_error err;
            pl_error_init(&err);
            assert_int_equal(pl_array_decode_dictionary(bad, &out, &err), PL_ERR_CORRUPT);
            assert_null(out);
            assert_int_equal(err.row, bad_row);
            pl_array_release(bad);
        }
        free(idx);
        free(valid);
        free(want);
    }
}

/* Builds a UTF8 array straight from offsets and bytes (no checks by the builder). */
static pl_array *raw_utf8(const int32_t *offsets, int n, const char *bytes, int n_bytes) {
    pl_buf *o, *d;
    assert_int_equal(pl_buf_new(4 * (n + 1), &o, NULL), PL_OK);
    assert_int_equal(pl_buf_append(o, offsets, 4 * (n + 1), NULL), PL_OK);
    assert_int_equal(pl_buf_new(n_bytes, &d, NULL), PL_OK);
    assert_int_equal(pl_buf_append(d, bytes, n_bytes, NULL), PL_OK);
    pl_array *a;
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_UTF8), n, 0, NULL, o, d, 0, NULL, NULL, &a, NULL), PL_OK);
    return a;
}

static void expect_corrupt(const pl_array *a, bool utf8, const char *needle) {
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_validate(a, utf8, &err), PL_ERR_CORRUPT);
    if (!strstr(err.msg, needle)) fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
}

static void test_validate_catches_corruption(void **state) {
    (void)state;
    /* UTF-8: valid multi-byte values pass, each malformed sequence is caught per value */
    const char good[] = "\xE2\x82\xAC" "\xF0\x9D\x84\x9E" "ascii";
    int32_t go[] = {0, 3, 7, 12};
    pl_array *g = raw_utf8(go, 3, good, 12);
    assert_int_equal(pl_array_validate(g, true, NULL), PL_OK);
    pl_array_release(g);
    const char *bad_seqs[] = {"\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\xFF", "\x80"};
    for (size_t i = 0; i < PL_ARRAY_LEN(bad_seqs); i++) {
        int n = (int)strlen(bad_seqs[i]);
        char buf[16];
        memcpy(buf, "ok", 2);
        memcpy(buf + 2, bad_seqs[i], (size_t)n);
        int32_t o[] = {0, 2, 2 + n};
        pl_array *a = raw_utf8(o, 2, buf, 2 + n);
        assert_int_equal(pl_array_validate(a, false, NULL), PL_OK);
        pl_error err;
        pl_error_init(&err);
        assert_int_equal(pl_array_validate(a, true, &err), PL_ERR_CORRUPT);
        assert_int_equal(err.row, 1);
        pl_array_release(a);
    }
    /* "é" split across two values is valid as one buffer but not per value */
    int32_t so[] = {0, 1, 2};
    pl_array *split = raw_utf8(so, 2, "\xC3\xA9", 2);
    expect_corrupt(split, true, "UTF-8");
    pl_array_release(split);

    /* offsets: decreasing, negative, past the data */
    int32_t dec[] = {0, 3, 2};
    pl_array *a = raw_utf8(dec, 2, "abc", 3);
    expect_corrupt(a, false, "decrease");
    pl_array_release(a);
    int32_t neg[] = {-1, 2, 3};
    a = raw_utf8(neg, 2, "abc", 3);
    expect_corrupt(a, false, "negative");
    pl_array_release(a);
    int32_t past[] = {0, 2, 9};
    a = raw_utf8(past, 2, "abc", 3);
    expect_corrupt(a, false, "past the end");
    pl_array_release(a);

    /* a slice whose offset runs past the buffers */
    int32_t okoff[] = {0, 1, 2, 3};
    a = raw_utf8(okoff, 3, "abc", 3);
    pl_array *s;
    assert_int_equal(pl_array_slice(a, 1, 2, &s, NULL), PL_OK);
    assert_int_equal(pl_array_validate(s, true, NULL), PL_OK);
    s->offset = 2; /* as a corrupt IPC message could claim */
    expect_corrupt(s, false, "offsets buffer too small");
    pl_array_release(s);
    pl_array_release(a);

    /* a cached null count that disagrees with the bitmap */
    pl_buf *vals, *bits;
    assert_int_equal(pl_buf_new_zeroed(4 * 8, &vals, NULL), PL_OK);
    assert_int_equal(pl_buf_new_zeroed(1, &bits, NULL), PL_OK);
    bits->data[0] = 0x0F; /* 4 valid of 8 */
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_INT32), 8, 1, bits, vals, NULL, 0, NULL, NULL, &a, NULL), PL_OK);
    expect_corrupt(a, false, "null count");
    a->null_count = -1;
    assert_int_equal(pl_array_validate(a, false, NULL), PL_OK);
    assert_int_equal(pl_array_null_count(a), 4);
    pl_array_release(a);

    /* a list whose child has another type than the list type says */
    pl_type *lt;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &lt, NULL), PL_OK);
    int32_t lo[] = {0, 1, 2};
    pl_buf *lob;
    assert_int_equal(pl_buf_new(12, &lob, NULL), PL_OK);
    assert_int_equal(pl_buf_append(lob, lo, 12, NULL), PL_OK);
    pl_array *wrong_child = strings((const char *const[]){"a", "b"}, 2);
    assert_int_equal(pl_array_new(lt, 2, 0, NULL, lob, NULL, 1, &wrong_child, NULL, &a, NULL), PL_OK);
    expect_corrupt(a, false, "expected int32");
    pl_array_release(a);

    /* a list pointing past its child */
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_UTF8), true, &lt, NULL), PL_OK);
    int32_t lo2[] = {0, 1, 5};
    assert_int_equal(pl_buf_new(12, &lob, NULL), PL_OK);
    assert_int_equal(pl_buf_append(lob, lo2, 12, NULL), PL_OK);
    pl_array *child = strings((const char *const[]){"a", "b"}, 2);
    assert_int_equal(pl_array_new(lt, 2, 0, NULL, lob, NULL, 1, &child, NULL, &a, NULL), PL_OK);
    expect_corrupt(a, false, "past the end of 2 child values");
    pl_array_release(a);

    /* a struct field shorter than a slice of the struct needs */
    pl_field f[1] = {{"x", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_type *stt;
    assert_int_equal(pl_type_new_struct(1, f, &stt, NULL), PL_OK);
    child = strings((const char *const[]){"a", "b", "c"}, 3);
    assert_int_equal(pl_array_new(stt, 3, 0, NULL, NULL, NULL, 1, &child, NULL, &a, NULL), PL_OK);
    assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);
    assert_int_equal(pl_array_slice(a, 1, 2, &s, NULL), PL_OK);
    assert_int_equal(pl_array_validate(s, true, NULL), PL_OK);
    s->length = 3; /* offset 1 + 3 > 3 values */
    expect_corrupt(s, false, "struct field \"x\"");
    pl_array_release(s);
    pl_array_release(a);

    /* a dictionary with a negative index in a valid row; the right row is reported */
    const char *dv[] = {"a"};
    int di[] = {0, 0, -3, 0};
    a = dict_of(PL_TYPE_INT16, dv, 1, di, NULL, 4);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_validate(a, false, &err), PL_ERR_CORRUPT);
    assert_int_equal(err.row, 2);
    assert_non_null(strstr(err.msg, "dictionary index -3"));
    pl_array_release(a);

    /* a map with a null key */
    pl_type *mt;
    assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT64), true, &mt, NULL), PL_OK);
    pl_builder *mb;
    assert_int_equal(pl_builder_new(mt, 0, &mb, NULL), PL_OK);
    pl_builder *e = pl_builder_child(mb, 0);
    assert_int_equal(pl_builder_append_null(pl_builder_child(e, 0), NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(pl_builder_child(e, 1), 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(mb, NULL), PL_OK);
    assert_int_equal(pl_builder_finish(mb, &a, NULL), PL_OK);
    expect_corrupt(a, false, "null key");
    pl_array_release(a);
    pl_builder_free(mb);
    pl_type_release(mt);

    /* pl_array_new refuses wrong child counts and short buffers, taking ownership anyway */
    pl_buf *small;
    assert_int_equal(pl_buf_new_zeroed(7, &small, NULL), PL_OK);
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_UTF8), 2, 0, NULL, small, NULL, 0, NULL, NULL, &a, NULL),
                     PL_ERR_INVALID_ARG);
    child = strings((const char *const[]){"a"}, 1);
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_INT32), 0, 0, NULL, NULL, NULL, 1, &child, NULL, &a, NULL),
                     PL_ERR_INVALID_ARG);
    assert_int_equal(pl_buf_new_zeroed(1, &small, NULL), PL_OK);
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_BOOL), 9, 0, NULL, small, NULL, 0, NULL, NULL, &a, NULL),
                     PL_ERR_INVALID_ARG);
}

static void test_nested_dictionary_values(void **state) {
    (void)state;
    /* dictionary<int8, list<int32>> over the model's list values 0..5 */
    row dv[6];
    for (int i = 0; i < 6; i++) dv[i] = (row){i != 4, i + 1};
    pl_array *dict = build(K_LIST, dv, 6);
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT8, dict->type, &dt, NULL), PL_OK);
    /* rows: runs of consecutive indices, nulls, a null dictionary value, repeats */
    const int8_t idx[] = {1, 2, 3, 0, 0, 5, 4, 2, 3};
    const bool valid[] = {true, true, true, false, false, true, true, true, true};
    pl_buf *values, *validity;
    assert_int_equal(pl_buf_new(9, &values, NULL), PL_OK);
    assert_int_equal(pl_buf_append(values, idx, 9, NULL), PL_OK);
    assert_int_equal(pl_buf_new_zeroed(2, &validity, NULL), PL_OK);
    for (int i = 0; i < 9; i++)
        if (valid[i]) pl_bit_set(validity->data, i);
    pl_array *a;
    assert_int_equal(pl_array_new(dt, 9, 2, validity, values, NULL, 0, NULL, pl_array_retain(dict), &a, NULL), PL_OK);
    assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);
    row want[9];
    for (int i = 0; i < 9; i++) want[i] = valid[i] ? dv[idx[i]] : (row){false, 0};
    pl_array *plain;
    assert_int_equal(pl_array_decode_dictionary(a, &plain, NULL), PL_OK);
    assert_true(pl_type_equals(plain->type, dict->type));
    check_against(plain, K_LIST, want, 9);
    assert_int_equal(pl_array_validate(plain, true, NULL), PL_OK);
    pl_array *rebuilt = build(K_LIST, want, 9);
    assert_true(pl_array_equals(a, rebuilt));
    /* concatenation appends nested dictionaries */
    pl_array *sl, *cat;
    assert_int_equal(pl_array_slice(a, 2, 5, &sl, NULL), PL_OK);
    pl_array *parts[2] = {a, sl};
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
    row want2[14];
    memcpy(want2, want, sizeof want);
    memcpy(want2 + 9, want + 2, 5 * sizeof(row));
    pl_array *rebuilt2 = build(K_LIST, want2, 14);
    assert_true(pl_array_equals(cat, rebuilt2));
    pl_array_release(rebuilt2);
    pl_array_release(cat);
    pl_array_release(sl);
    pl_array_release(rebuilt);
    pl_array_release(plain);
    pl_array_release(a);
    pl_array_release(dict);
}

static pl_array *f64s(const double *v, const bool *valid, int n) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_FLOAT64), 0, &b, NULL), PL_OK);
    for (int i = 0; i < n; i++) {
        if (valid && !valid[i]) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_f64(b, v[i], NULL), PL_OK);
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static void test_equality_rules(void **state) {
    (void)state;
    double x[] = {1.0, NAN, 0.0, 3.0};
    double y[] = {1.0, -NAN, 0.0, 3.0};
    double z[] = {1.0, NAN, -0.0, 3.0};
    pl_array *a = f64s(x, NULL, 4), *b = f64s(y, NULL, 4), *c = f64s(z, NULL, 4);
    assert_true(pl_array_equals(a, b));  /* all NaNs are equal */
    assert_false(pl_array_equals(a, c)); /* otherwise bitwise: 0.0 and -0.0 differ */
    pl_array_release(a);
    pl_array_release(b);
    pl_array_release(c);
    /* values under null slots are ignored */
    double p[] = {1, 2, 3}, q[] = {1, 99, 3};
    bool v[] = {true, false, true};
    a = f64s(p, v, 3);
    b = f64s(q, v, 3);
    ((double *)(void *)b->values->data)[1] = 12345.0;
    assert_true(pl_array_equals(a, b));
    c = f64s(q, NULL, 3);
    assert_false(pl_array_equals(a, c));
    pl_array_release(a);
    pl_array_release(b);
    pl_array_release(c);
    /* different lengths and types */
    const char *s1[] = {"a", "b"};
    a = strings(s1, 2);
    b = strings(s1, 1);
    assert_false(pl_array_equals(a, b));
    c = f64s(p, NULL, 2);
    assert_false(pl_array_equals(a, c));
    pl_array_release(a);
    pl_array_release(b);
    pl_array_release(c);
    /* a null row and a row pointing at a null dictionary value are both NULL */
    const char *dv[] = {"a", NULL};
    int i1[] = {0, 1}, i2[] = {0, 0};
    bool v2[] = {true, false};
    a = dict_of(PL_TYPE_INT32, dv, 2, i1, NULL, 2);
    b = dict_of(PL_TYPE_INT32, dv, 2, i2, v2, 2);
    assert_true(pl_array_equals(a, b));
    const char *pw[] = {"a", NULL};
    c = strings(pw, 2);
    assert_true(pl_array_equals(a, c));
    assert_true(pl_array_equals(c, b));
    pl_array_release(a);
    pl_array_release(b);
    pl_array_release(c);
}

static void test_nulls_arrays_of_every_type(void **state) {
    (void)state;
    for (int k = 0; k < K__COUNT; k++) {
        pl_type *t = kind_type((enum kind)k);
        pl_array *n, *built;
        assert_int_equal(pl_array_new_nulls(t, 37, &n, NULL), PL_OK);
        assert_int_equal(pl_array_null_count(n), 37);
        assert_int_equal(pl_array_validate(n, true, NULL), PL_OK);
        /* strings: an (empty) byte buffer, so kernels may read value bytes at data + offset */
        if (pl_type_is_varlen(t->id)) assert_non_null(n->data);
        row rows[37];
        for (int i = 0; i < 37; i++) rows[i] = (row){false, 0};
        built = build((enum kind)k, rows, 37);
        assert_true(pl_array_equals(n, built));
        rows[5] = (row){true, 5};
        pl_array *one = build((enum kind)k, rows, 37);
        assert_false(pl_array_equals(n, one));
        pl_array *parts[2] = {n, one}, *cat;
        assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
        assert_int_equal(pl_array_null_count(cat), 73);
        assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
        pl_array_release(cat);
        pl_array_release(one);
        pl_array_release(built);
        pl_array_release(n);
        pl_type_release(t);
    }
    /* the null type: no buffers, every value NULL */
    pl_array *na, *na2, *cat;
    assert_int_equal(pl_array_new_nulls(pl_type_simple(PL_TYPE_NA), 5, &na, NULL), PL_OK);
    assert_null(na->validity);
    assert_false(pl_array_is_valid(na, 0));
    assert_int_equal(pl_array_new_nulls(pl_type_simple(PL_TYPE_NA), 3, &na2, NULL), PL_OK);
    pl_array *parts[2] = {na, na2};
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(cat->length, 8);
    assert_int_equal(pl_array_null_count(cat), 8);
    assert_null(cat->validity);
    assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);
    pl_array_release(cat);
    pl_array_release(na);
    pl_array_release(na2);
}

static void test_concat_errors(void **state) {
    (void)state;
    const char *s[] = {"a"};
    double d[] = {1};
    pl_array *a = strings(s, 1), *b = f64s(d, NULL, 1), *out = NULL;
    pl_array *parts[2] = {a, b};
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_concat(2, parts, &out, &err), PL_ERR_TYPE);
    assert_non_null(strstr(err.msg, "utf8"));
    assert_null(out);
    assert_int_equal(pl_array_concat(0, parts, &out, NULL), PL_ERR_INVALID_ARG);
    /* a single array comes back retained, not copied */
    assert_int_equal(pl_array_concat(1, parts, &out, NULL), PL_OK);
    assert_ptr_equal(out, a);
    pl_array_release(out);
    pl_array_release(a);
    pl_array_release(b);
}

static void test_oom_concat_decode(void **state) {
    (void)state;
    enum { N = 120 };
    row rows[N];
    random_rows(rows, N, 25);
    for (int k = 0; k < K__COUNT; k++) {
        pl_array *base = build((enum kind)k, rows, N), *p1, *p2;
        assert_int_equal(pl_array_slice(base, 3, 50, &p1, NULL), PL_OK);
        row extra[20];
        random_rows(extra, 20, 25);
        p2 = build((enum kind)k, extra, 20);
        pl_array *parts[3] = {p1, p2, base};
        for (int64_t n = 0;; n++) {
            pl_array *cat = NULL, *dec = NULL;
            pl_alloc_fail_after(n);
            pl_status st = pl_array_concat(3, parts, &cat, NULL);
            if (!st) st = pl_array_decode_dictionary(cat, &dec, NULL);
            pl_alloc_fail_after(-1);
            if (st == PL_OK) {
                assert_int_equal(cat->length, 50 + 20 + N);
                assert_int_equal(pl_array_validate(dec, true, NULL), PL_OK);
                assert_true(pl_array_equals(cat, dec));
                pl_array_release(cat);
                pl_array_release(dec);
                break;
            }
            pl_array_release(cat);
            assert_int_equal(st, PL_ERR_NOMEM);
            assert_true(n < 1000);
        }
        pl_array_release(p1);
        pl_array_release(p2);
        pl_array_release(base);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slice_concat_model),
        cmocka_unit_test(test_bool_bit_copies_all_phases),
        cmocka_unit_test(test_dictionary_concat_unify_and_limits),
        cmocka_unit_test(test_decode_dictionary_value_types),
        cmocka_unit_test(test_decode_string_dictionary_model),
        cmocka_unit_test(test_validate_catches_corruption),
        cmocka_unit_test(test_nested_dictionary_values),
        cmocka_unit_test(test_equality_rules),
        cmocka_unit_test(test_nulls_arrays_of_every_type),
        cmocka_unit_test(test_concat_errors),
        cmocka_unit_test(test_oom_concat_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
