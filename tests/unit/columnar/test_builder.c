/* test_builder.c - unit tests for src/columnar/builder.c and type.c/schema.c: storage of each
 * append according to the Arrow layout (checked on raw bytes), type errors, reuse after
 * finish, nested and dictionary builders, type names and equality, schemas, and OOM loops
 * (every injected allocation failure returns PL_ERR_NOMEM and leaks nothing under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static pl_builder *new_builder(pl_type *t) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(t, 0, &b, NULL), PL_OK);
    return b;
}

static pl_array *finish(pl_builder *b) {
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    return a;
}

static void test_integer_storage_widths(void **state) {
    (void)state;
    /* append_i64 stores the low byte_width bytes, little-endian, no range check */
    struct {
        pl_type_id id;
        int64_t v;
        uint8_t bytes[8];
        int w;
    } cases[] = {
        {PL_TYPE_INT8, -1, {0xFF}, 1},
        {PL_TYPE_UINT8, 300, {44}, 1},
        {PL_TYPE_INT16, -2, {0xFE, 0xFF}, 2},
        {PL_TYPE_UINT16, 0x12345, {0x45, 0x23}, 2},
        {PL_TYPE_INT32, 0x0102030405LL, {0x05, 0x04, 0x03, 0x02}, 4},
        {PL_TYPE_UINT32, -1, {0xFF, 0xFF, 0xFF, 0xFF}, 4},
        {PL_TYPE_INT64, 0x0807060504030201LL, {1, 2, 3, 4, 5, 6, 7, 8}, 8},
        {PL_TYPE_DATE32, 19000, {0x38, 0x4A, 0, 0}, 4},
    };
    for (size_t c = 0; c < PL_ARRAY_LEN(cases); c++) {
        pl_builder *b = new_builder(pl_type_simple(cases[c].id));
        assert_int_equal(pl_builder_append_i64(b, 7, NULL), PL_OK);
        assert_int_equal(pl_builder_append_i64(b, cases[c].v, NULL), PL_OK);
        assert_int_equal(pl_builder_length(b), 2);
        pl_array *a = finish(b);
        assert_int_equal(a->type->byte_width, cases[c].w);
        assert_int_equal(a->values->data[0], 7);
        assert_memory_equal(a->values->data + cases[c].w, cases[c].bytes, (size_t)cases[c].w);
        assert_null(a->validity);
        assert_int_equal(pl_array_null_count(a), 0);
        pl_array_release(a);
        pl_builder_free(b);
    }
    pl_type *ts, *tm;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_NS, "+01:00", &ts, NULL), PL_OK);
    assert_int_equal(pl_type_new_time64(PL_UNIT_US, &tm, NULL), PL_OK);
    pl_type *ts_types[2] = {ts, tm};
    for (int i = 0; i < 2; i++) {
        pl_builder *b = new_builder(ts_types[i]);
        assert_int_equal(pl_builder_append_i64(b, -86400000000000LL, NULL), PL_OK);
        pl_array *a = finish(b);
        int64_t got;
        memcpy(&got, a->values->data, 8);
        assert_int_equal(got, -86400000000000LL);
        pl_array_release(a);
        pl_builder_free(b);
    }
    pl_type_release(ts);
    pl_type_release(tm);
}

static void test_float_decimal_fixed_bool(void **state) {
    (void)state;
    pl_builder *b = new_builder(pl_type_simple(PL_TYPE_FLOAT32));
    assert_int_equal(pl_builder_append_f64(b, 1.5, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_f64(b, -0.25, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(b, 1, NULL), PL_ERR_TYPE);
    pl_array *a = finish(b);
    const float *f = pl_array_values_ptr(a);
    assert_true(f[0] == 1.5f && f[2] == -0.25f);
    assert_int_equal(a->validity->data[0] & 7, 5); /* bits: valid, null, valid */
    assert_int_equal(a->null_count, 1);
    pl_array_release(a);
    pl_builder_free(b);

    pl_type *dec;
    assert_int_equal(pl_type_new_decimal(38, 10, &dec, NULL), PL_OK);
    b = new_builder(dec);
    assert_int_equal(pl_builder_append_decimal(b, 0xFFFFFFFFFFFFFFFFULL, -1, NULL), PL_OK); /* -1 */
    assert_int_equal(pl_builder_append_decimal(b, 5, 0, NULL), PL_OK);
    assert_int_equal(pl_builder_append_f64(b, 1, NULL), PL_ERR_TYPE);
    a = finish(b);
    static const uint8_t minus_one[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                          0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    assert_memory_equal(a->values->data, minus_one, 16);
    assert_int_equal(a->values->data[16], 5);
    pl_array_release(a);
    pl_builder_free(b);
    pl_type_release(dec);

    pl_type *fb;
    assert_int_equal(pl_type_new_fixed_binary(4, &fb, NULL), PL_OK);
    b = new_builder(fb);
    assert_int_equal(pl_builder_append_bytes(b, "abcd", 4, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(b, "abc", 3, NULL), PL_ERR_INVALID_ARG);
    pl_builder_free(b);
    pl_type_release(fb);

    b = new_builder(pl_type_simple(PL_TYPE_BOOL));
    for (int i = 0; i < 20; i++) {
        if (i == 10) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bool(b, i % 3 == 0, NULL), PL_OK);
    }
    assert_int_equal(pl_builder_append_bytes(b, "x", 1, NULL), PL_ERR_TYPE);
    a = finish(b);
    /* values bits LSB first: rows 0,3,6 | 9,12,15 | 18 */
    assert_int_equal(a->values->data[0], 0x49);
    assert_int_equal(a->values->data[1] & 0xFB, 0x92); /* row 10 is null: its bit not asserted */
    assert_int_equal(a->values->data[2] & 0x0F, 0x04);
    assert_int_equal(a->validity->data[1] & 0x04, 0);
    pl_array_release(a);
    pl_builder_free(b);
}

static void test_strings_and_reuse(void **state) {
    (void)state;
    pl_builder *b = new_builder(pl_type_simple(PL_TYPE_BINARY));
    assert_int_equal(pl_builder_append_bytes(b, "ab", 2, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(b, "", 0, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(b, "\0z", 2, NULL), PL_OK);
    pl_array *a = finish(b);
    const int32_t want_off[] = {0, 2, 2, 2, 4};
    assert_memory_equal(a->values->data, want_off, sizeof want_off);
    assert_memory_equal(a->data->data, "ab\0z", 4);
    assert_int_equal(a->data->size, 4);
    /* after finish the builder is empty and reusable */
    assert_int_equal(pl_builder_length(b), 0);
    assert_int_equal(pl_builder_append_bytes(b, "q", 1, NULL), PL_OK);
    pl_array *a2 = finish(b);
    assert_int_equal(a2->length, 1);
    assert_null(a2->validity);
    assert_int_equal(((const int32_t *)(const void *)a2->values->data)[1], 1);
    pl_array *empty = finish(b);
    assert_int_equal(empty->length, 0);
    assert_int_equal(pl_array_validate(empty, true, NULL), PL_OK);
    assert_int_equal(pl_array_validate(a, false, NULL), PL_OK);
    pl_array_release(empty);
    pl_array_release(a2);
    pl_array_release(a);
    pl_builder_free(b);
    /* the null type takes only nulls and has no buffers */
    b = new_builder(pl_type_simple(PL_TYPE_NA));
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(b, 1, NULL), PL_ERR_TYPE);
    a = finish(b);
    assert_int_equal(a->length, 2);
    assert_int_equal(pl_array_null_count(a), 2);
    assert_null(a->validity);
    pl_array_release(a);
    pl_builder_free(b);
}

static void test_nested_builders(void **state) {
    (void)state;
    /* map<utf8, list<int32>>: {"a": [1], "b": null}, null, {} */
    pl_type *lt, *mt;
    assert_int_equal(pl_type_new_list("element", pl_type_simple(PL_TYPE_INT32), true, &lt, NULL), PL_OK);
    assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), lt, true, &mt, NULL), PL_OK);
    pl_builder *b = new_builder(mt);
    pl_builder *e = pl_builder_child(b, 0), *k = pl_builder_child(e, 0), *v = pl_builder_child(e, 1);
    assert_null(pl_builder_child(b, 1));
    assert_int_equal(pl_builder_append_bytes(k, "a", 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(pl_builder_child(v, 0), 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(v, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(k, "b", 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(v, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    /* a struct row needs exactly one new value in every field */
    assert_int_equal(pl_builder_append_bytes(k, "c", 1, NULL), PL_OK);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_builder_append_valid(e, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "\"value\""));
    pl_builder_free(b);

    b = new_builder(mt);
    e = pl_builder_child(b, 0);
    k = pl_builder_child(e, 0);
    v = pl_builder_child(e, 1);
    assert_int_equal(pl_builder_append_bytes(k, "a", 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(pl_builder_child(v, 0), 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(v, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(k, "b", 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(v, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(e, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    pl_array *a = finish(b);
    assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);
    const int32_t want_off[] = {0, 2, 2, 2};
    assert_memory_equal(a->values->data, want_off, sizeof want_off);
    pl_array *entries = a->children[0];
    assert_int_equal(entries->length, 2);
    assert_int_equal(entries->children[1]->length, 2);
    assert_false(pl_array_is_valid(entries->children[1], 1));
    const int32_t want_inner[] = {0, 1, 1};
    assert_memory_equal(entries->children[1]->values->data, want_inner, sizeof want_inner);
    assert_int_equal(pl_array_null_count(a), 1);
    pl_array_release(a);
    pl_builder_free(b);
    b = new_builder(pl_type_simple(PL_TYPE_INT32));
    assert_int_equal(pl_builder_append_valid(b, &err), PL_ERR_TYPE);
    pl_builder_free(b);
    pl_type_release(mt);
    pl_type_release(lt);
}

static void test_dictionary_builders(void **state) {
    (void)state;
    pl_type *di, *ds;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT8, pl_type_simple(PL_TYPE_INT64), &di, NULL), PL_OK);
    pl_builder *b = new_builder(di);
    int64_t vals[] = {5, -5, 5, 1LL << 40, -5, 5};
    for (int i = 0; i < 6; i++) assert_int_equal(pl_builder_append_i64(b, vals[i], NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_bytes(b, "x", 1, NULL), PL_ERR_TYPE);
    pl_array *a = finish(b);
    assert_int_equal(a->dictionary->length, 3);
    const int8_t want_idx[] = {0, 1, 0, 2, 1, 0};
    assert_memory_equal(a->values->data, want_idx, 6);
    assert_int_equal(((const int64_t *)(const void *)a->dictionary->values->data)[2], 1LL << 40);
    assert_false(pl_array_is_valid(a, 6));
    assert_int_equal(pl_array_validate(a, false, NULL), PL_OK);
    pl_array_release(a);
    /* an int8 index holds at most 128 distinct values */
    pl_error err;
    pl_error_init(&err);
    pl_status st = PL_OK;
    int i = 0;
    for (; i < 200 && !st; i++) st = pl_builder_append_i64(b, i, &err);
    assert_int_equal(st, PL_ERR_LIMIT);
    assert_int_equal(i, 129);
    pl_builder_free(b);
    pl_type_release(di);

    /* many distinct strings (rehashing) come out deduplicated and in first-seen order */
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_UINT16, pl_type_simple(PL_TYPE_UTF8), &ds, NULL), PL_OK);
    b = new_builder(ds);
    char s[32];
    for (int r = 0; r < 3; r++)
        for (int k = 0; k < 5000; k++) {
            int n = snprintf(s, sizeof s, "%d", k * 7919 % 5000);
            assert_int_equal(pl_builder_append_bytes(b, s, n, NULL), PL_OK);
        }
    a = finish(b);
    assert_int_equal(a->length, 15000);
    assert_int_equal(a->dictionary->length, 5000);
    assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);
    for (int k = 0; k < 15000; k += 997) {
        uint16_t idx;
        memcpy(&idx, a->values->data + 2 * k, 2);
        assert_int_equal(idx, k % 5000);
        int32_t len;
        const uint8_t *p = pl_array_bytes(a->dictionary, idx, &len);
        int n = snprintf(s, sizeof s, "%d", k % 5000 * 7919 % 5000);
        assert_int_equal(len, n);
        assert_memory_equal(p, s, (size_t)n);
    }
    pl_array_release(a);
    /* the dictionary starts over after finish */
    assert_int_equal(pl_builder_append_bytes(b, "z", 1, NULL), PL_OK);
    a = finish(b);
    assert_int_equal(a->dictionary->length, 1);
    pl_array_release(a);
    pl_builder_free(b);
    pl_type_release(ds);
}

static void test_type_names(void **state) {
    (void)state;
    char buf[256];
    struct {
        pl_type_id id;
        const char *name;
        int32_t width, bits;
    } simple[] = {
        {PL_TYPE_NA, "null", 0, 0},          {PL_TYPE_BOOL, "bool", 0, 1},
        {PL_TYPE_INT8, "int8", 1, 8},         {PL_TYPE_UINT16, "uint16", 2, 16},
        {PL_TYPE_INT32, "int32", 4, 32},      {PL_TYPE_INT64, "int64", 8, 64},
        {PL_TYPE_FLOAT32, "float32", 4, 32},  {PL_TYPE_FLOAT64, "float64", 8, 64},
        {PL_TYPE_UTF8, "utf8", 4, 0},         {PL_TYPE_BINARY, "binary", 4, 0},
        {PL_TYPE_DATE32, "date32", 4, 32},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(simple); i++) {
        pl_type *t = pl_type_simple(simple[i].id);
        assert_non_null(t);
        assert_true(t->refcount < 0);
        assert_ptr_equal(pl_type_retain(t), t);
        pl_type_release(t); /* no-op on singletons */
        assert_string_equal(pl_type_to_string(t, buf, sizeof buf), simple[i].name);
        assert_int_equal(t->byte_width, simple[i].width);
        assert_int_equal(pl_type_bit_width(t), simple[i].bits);
    }
    assert_null(pl_type_simple(PL_TYPE_LIST));
    assert_null(pl_type_simple(PL_TYPE_TIMESTAMP));
    pl_type *t;
    assert_int_equal(pl_type_new_fixed_binary(16, &t, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "fixed_binary[16]");
    assert_int_equal(pl_type_bit_width(t), 128);
    pl_type_release(t);
    assert_int_equal(pl_type_new_time64(PL_UNIT_US, &t, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "time64[us]");
    pl_type_release(t);
    assert_int_equal(pl_type_new_time64(PL_UNIT_MS, &t, NULL), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_MS, NULL, &t, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(t, buf, sizeof buf), "timestamp[ms]");
    pl_type_release(t);
    pl_field f[2] = {{"a", pl_type_simple(PL_TYPE_INT32), true}, {"b", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_type *s1, *s2, *d;
    assert_int_equal(pl_type_new_struct(2, f, &s1, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(s1, buf, sizeof buf), "struct<a: int32, b: utf8>");
    /* truncation is safe and terminated */
    char small[10];
    pl_type_to_string(s1, small, sizeof small);
    assert_int_equal(strlen(small), 9);
    f[1].name = "c";
    assert_int_equal(pl_type_new_struct(2, f, &s2, NULL), PL_OK);
    assert_false(pl_type_equals(s1, s2)); /* field names matter in structs */
    pl_type *l1, *l2;
    assert_int_equal(pl_type_new_list("item", s1, true, &l1, NULL), PL_OK);
    assert_int_equal(pl_type_new_list("element", s1, true, &l2, NULL), PL_OK);
    assert_true(pl_type_equals(l1, l2)); /* list item names do not */
    assert_string_equal(pl_type_to_string(l1, buf, sizeof buf), "list<struct<a: int32, b: utf8>>");
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT16, s1, &d, NULL), PL_OK);
    assert_int_equal(d->byte_width, 2);
    assert_string_equal(pl_type_to_string(d, buf, sizeof buf), "dictionary<int16, struct<a: int32, b: utf8>>");
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_FLOAT32, s1, &t, NULL), PL_ERR_INVALID_ARG);
    pl_type_release(s1); /* the list and dictionary keep their references */
    assert_string_equal(pl_type_to_string(l2->children[0].type, buf, sizeof buf), "struct<a: int32, b: utf8>");
    pl_type_release(l1);
    pl_type_release(l2);
    pl_type_release(d);
    pl_type_release(s2);
}

static void test_schema(void **state) {
    (void)state;
    pl_field f[2] = {{"x", pl_type_simple(PL_TYPE_INT64), false}, {"y", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_schema *a, *b;
    assert_int_equal(pl_schema_new(2, f, &a, NULL), PL_OK);
    assert_int_equal(pl_schema_new(2, f, &b, NULL), PL_OK);
    assert_true(pl_schema_equals(a, b));
    assert_int_equal(pl_schema_add_meta(a, "k", "v", NULL), PL_OK);
    assert_int_equal(a->n_meta, 1);
    assert_string_equal(a->meta_values[0], "v");
    assert_int_equal(pl_schema_find(a, "y"), 1);
    assert_int_equal(pl_schema_find(a, "Y"), -1);
    pl_schema_release(b);
    f[1].type = pl_type_simple(PL_TYPE_BINARY);
    assert_int_equal(pl_schema_new(2, f, &b, NULL), PL_OK);
    assert_false(pl_schema_equals(a, b));
    pl_schema_release(b);
    pl_schema_release(a);
}

/* Builds struct<s: utf8, l: list<int64>> and a dictionary<int32, utf8> column under
 * injected allocation failures. */
static pl_status build_nested(pl_type *st, pl_type *dt, pl_array **out1, pl_array **out2) {
    pl_builder *b = NULL, *d = NULL;
    pl_status st_ = pl_builder_new(st, 1, &b, NULL);
    if (!st_) st_ = pl_builder_new(dt, 1, &d, NULL);
    char s[16];
    for (int i = 0; !st_ && i < 300; i++) {
        int n = snprintf(s, sizeof s, "v%d", i % 37);
        if (i % 11 == 0) {
            st_ = pl_builder_append_null(b, NULL);
            if (!st_) st_ = pl_builder_append_null(d, NULL);
            continue;
        }
        st_ = pl_builder_append_bytes(pl_builder_child(b, 0), s, n, NULL);
        pl_builder *l = pl_builder_child(b, 1);
        for (int k = 0; !st_ && k < i % 3; k++) st_ = pl_builder_append_i64(pl_builder_child(l, 0), k, NULL);
        if (!st_) st_ = pl_builder_append_valid(l, NULL);
        if (!st_) st_ = pl_builder_append_valid(b, NULL);
        if (!st_) st_ = pl_builder_append_bytes(d, s, n, NULL);
    }
    if (!st_) st_ = pl_builder_finish(b, out1, NULL);
    if (!st_) {
        st_ = pl_builder_finish(d, out2, NULL);
        if (st_) pl_array_release(*out1);
    }
    pl_builder_free(b);
    pl_builder_free(d);
    return st_;
}

static void test_oom_nested_and_dictionary_builders(void **state) {
    (void)state;
    pl_type *lt, *st, *dt;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT64), true, &lt, NULL), PL_OK);
    pl_field f[2] = {{"s", pl_type_simple(PL_TYPE_UTF8), true}, {"l", lt, true}};
    assert_int_equal(pl_type_new_struct(2, f, &st, NULL), PL_OK);
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, NULL), PL_OK);
    int64_t failures = 0;
    for (int64_t n = 0;; n++) {
        pl_array *a = NULL, *d = NULL;
        pl_alloc_fail_after(n);
        pl_status s = build_nested(st, dt, &a, &d);
        pl_alloc_fail_after(-1);
        if (s == PL_OK) {
            assert_int_equal(a->length, 300);
            assert_int_equal(pl_array_null_count(a), 28);
            assert_int_equal(d->dictionary->length, 37);
            assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);
            assert_int_equal(pl_array_validate(d, true, NULL), PL_OK);
            pl_array_release(a);
            pl_array_release(d);
            break;
        }
        assert_int_equal(s, PL_ERR_NOMEM);
        failures++;
        assert_true(n < 10000);
    }
    assert_true(failures > 10); /* the loop really injected failures */
    pl_type_release(lt);
    pl_type_release(st);
    pl_type_release(dt);
}

static void test_oom_types_and_schema(void **state) {
    (void)state;
    for (int64_t n = 0;; n++) {
        pl_type *ts = NULL, *l = NULL, *m = NULL, *s = NULL, *d = NULL;
        pl_schema *sch = NULL;
        pl_alloc_fail_after(n);
        pl_status st = pl_type_new_timestamp(PL_UNIT_US, "UTC", &ts, NULL);
        if (!st) st = pl_type_new_list("item", ts, true, &l, NULL);
        if (!st) st = pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), l, true, &m, NULL);
        pl_field f[2] = {{"a", m, true}, {"b", ts, true}};
        if (!st) st = pl_type_new_struct(2, f, &s, NULL);
        if (!st) st = pl_type_new_dictionary(PL_TYPE_INT32, s, &d, NULL);
        pl_field g[2] = {{"x", d, true}, {"y", s, false}};
        if (!st) st = pl_schema_new(2, g, &sch, NULL);
        if (!st) st = pl_schema_add_meta(sch, "key", "value", NULL);
        pl_alloc_fail_after(-1);
        pl_type_release(ts);
        pl_type_release(l);
        pl_type_release(m);
        pl_type_release(s);
        pl_type_release(d);
        if (st == PL_OK) {
            char buf[256];
            assert_string_equal(pl_type_to_string(sch->fields[1].type, buf, sizeof buf),
                                "struct<a: map<utf8, list<timestamp[us, UTC]>>, b: timestamp[us, UTC]>");
            pl_schema_release(sch);
            break;
        }
        pl_schema_release(sch);
        assert_int_equal(st, PL_ERR_NOMEM);
        assert_true(n < 1000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_storage_widths),
        cmocka_unit_test(test_float_decimal_fixed_bool),
        cmocka_unit_test(test_strings_and_reuse),
        cmocka_unit_test(test_nested_builders),
        cmocka_unit_test(test_dictionary_builders),
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_schema),
        cmocka_unit_test(test_oom_nested_and_dictionary_builders),
        cmocka_unit_test(test_oom_types_and_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
