/* test_columnar.c - unit tests for src/columnar: types, schemas, builders, arrays (slice,
 * concat, validate, dictionary decoding, equality), batches and tables, and OOM behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/io.h"

static pl_array *build_ints(const int64_t *v, const bool *valid, int64_t n, pl_type_id id) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(pl_type_simple(id), 4, &b, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) {
        if (valid && !valid[i]) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_i64(b, v[i], NULL), PL_OK);
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static pl_array *build_strings(const char *const *v, int64_t n) {
    pl_builder *b;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_UTF8), 0, &b, NULL), PL_OK);
    for (int64_t i = 0; i < n; i++) {
        if (!v[i]) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]), NULL), PL_OK);
    }
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static void test_type_names_and_equality(void **state) {
    (void)state;
    char buf[256];
    pl_type *ts, *ts2, *dec, *lst, *st, *map, *dict;
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, "UTC", &ts, NULL), PL_OK);
    assert_int_equal(pl_type_new_timestamp(PL_UNIT_US, NULL, &ts2, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(ts, buf, sizeof buf), "timestamp[us, UTC]");
    assert_false(pl_type_equals(ts, ts2));
    pl_type_release(ts2);
    assert_int_equal(pl_type_new_decimal(10, 2, &dec, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(dec, buf, sizeof buf), "decimal128(10, 2)");
    assert_int_equal(pl_type_new_decimal(40, 2, &ts2 /* unused on failure */, NULL), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT32), true, &lst, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(lst, buf, sizeof buf), "list<int32>");
    pl_field f[2] = {{"a", pl_type_simple(PL_TYPE_INT32), true}, {"b", lst, true}};
    assert_int_equal(pl_type_new_struct(2, f, &st, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(st, buf, sizeof buf), "struct<a: int32, b: list<int32>>");
    assert_int_equal(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT64), true, &map, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(map, buf, sizeof buf), "map<utf8, int64>");
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dict, NULL), PL_OK);
    assert_string_equal(pl_type_to_string(dict, buf, sizeof buf), "dictionary<int32, utf8>");
    assert_int_equal(dict->byte_width, 4);
    assert_true(pl_type_equals(st, st));
    assert_false(pl_type_equals(st, lst));
    pl_type_release(ts);
    pl_type_release(dec);
    pl_type_release(st);
    pl_type_release(lst);
    pl_type_release(map);
    pl_type_release(dict);
}

static void test_builder_ints_nulls_slice(void **state) {
    (void)state;
    int64_t v[100];
    bool valid[100];
    for (int i = 0; i < 100; i++) {
        v[i] = i * 3 - 50;
        valid[i] = i % 7 != 0;
    }
    pl_array *a = build_ints(v, valid, 100, PL_TYPE_INT32);
    assert_int_equal(a->length, 100);
    assert_int_equal(pl_array_null_count(a), 15);
    const int32_t *p = pl_array_values_ptr(a);
    assert_int_equal(p[10], 10 * 3 - 50);
    assert_false(pl_array_is_valid(a, 14));
    assert_int_equal(pl_array_validate(a, true, NULL), PL_OK);

    pl_array *s;
    assert_int_equal(pl_array_slice(a, 13, 10, &s, NULL), PL_OK);
    assert_int_equal(pl_array_null_count(s), 2); /* rows 14 and 21 */
    assert_int_equal(((const int32_t *)pl_array_values_ptr(s))[2], 15 * 3 - 50);
    assert_int_equal(pl_array_slice(a, 95, 10, &s /* unchanged */, NULL), PL_ERR_INVALID_ARG);
    pl_array *again = build_ints(v + 13, valid + 13, 10, PL_TYPE_INT32);
    assert_true(pl_array_equals(s, again));
    pl_array_release(again);
    pl_array_release(s);
    pl_array_release(a);
}

static void test_strings_concat_equals(void **state) {
    (void)state;
    const char *x[] = {"a", NULL, "", "héllo"};
    const char *y[] = {"zz", "yy", NULL};
    const char *all[] = {"a", NULL, "", "héllo", "zz", "yy", NULL};
    pl_array *a = build_strings(x, 4), *b = build_strings(y, 3), *want = build_strings(all, 7);
    pl_array *parts[2] = {a, b}, *c;
    assert_int_equal(pl_array_concat(2, parts, &c, NULL), PL_OK);
    assert_true(pl_array_equals(c, want));
    assert_int_equal(pl_array_null_count(c), 2);
    int32_t len;
    const uint8_t *s = pl_array_bytes(c, 3, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(s, "héllo", 6);
    /* a slice concatenated with an offset must rebase offsets */
    pl_array *sl, *c2;
    assert_int_equal(pl_array_slice(a, 2, 2, &sl, NULL), PL_OK);
    pl_array *parts2[2] = {sl, b};
    assert_int_equal(pl_array_concat(2, parts2, &c2, NULL), PL_OK);
    pl_array *want2s;
    assert_int_equal(pl_array_slice(want, 2, 5, &want2s, NULL), PL_OK);
    assert_true(pl_array_equals(c2, want2s));
    assert_false(pl_array_equals(c2, want));
    pl_array_release(want2s);
    pl_array_release(c2);
    pl_array_release(sl);
    pl_array_release(a);
    pl_array_release(b);
    pl_array_release(c);
    pl_array_release(want);
}

static void test_bool_concat_unaligned(void **state) {
    (void)state;
    pl_builder *b;
    assert_int_equal(pl_builder_new(pl_type_simple(PL_TYPE_BOOL), 0, &b, NULL), PL_OK);
    for (int i = 0; i < 37; i++) assert_int_equal(pl_builder_append_bool(b, (i % 3) == 0, NULL), PL_OK);
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    for (int i = 0; i < 29; i++) {
        if (i == 4) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bool(b, (i % 2) == 0, NULL), PL_OK);
    }
    pl_array *c;
    assert_int_equal(pl_builder_finish(b, &c, NULL), PL_OK);
    pl_builder_free(b);
    pl_array *s1, *s2, *cat;
    assert_int_equal(pl_array_slice(a, 3, 30, &s1, NULL), PL_OK);
    assert_int_equal(pl_array_slice(c, 1, 20, &s2, NULL), PL_OK);
    pl_array *parts[2] = {s1, s2};
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(cat->length, 50);
    for (int i = 0; i < 30; i++) {
        assert_true(pl_array_is_valid(cat, i));
        assert_int_equal(pl_bit_get(cat->values->data, i), ((i + 3) % 3) == 0);
    }
    for (int i = 0; i < 20; i++) {
        assert_int_equal(pl_array_is_valid(cat, 30 + i), i + 1 != 4);
        if (i + 1 != 4) assert_int_equal(pl_bit_get(cat->values->data, 30 + i), ((i + 1) % 2) == 0);
    }
    pl_array_release(s1);
    pl_array_release(s2);
    pl_array_release(cat);
    pl_array_release(a);
    pl_array_release(c);
}

static void test_dictionary_builder_and_decode(void **state) {
    (void)state;
    pl_type *dt;
    assert_int_equal(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, NULL), PL_OK);
    pl_builder *b;
    assert_int_equal(pl_builder_new(dt, 0, &b, NULL), PL_OK);
    const char *v[] = {"AAPL", "MSFT", "AAPL", NULL, "GOOG", "MSFT", "AAPL"};
    for (int i = 0; i < 7; i++) {
        if (!v[i]) assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
        else assert_int_equal(pl_builder_append_bytes(b, v[i], (int64_t)strlen(v[i]), NULL), PL_OK);
    }
    pl_array *d;
    assert_int_equal(pl_builder_finish(b, &d, NULL), PL_OK);
    pl_builder_free(b);
    assert_int_equal(d->dictionary->length, 3);
    assert_int_equal(pl_array_validate(d, true, NULL), PL_OK);
    pl_array *plain, *want = build_strings(v, 7);
    assert_int_equal(pl_array_decode_dictionary(d, &plain, NULL), PL_OK);
    assert_int_equal(plain->type->id, PL_TYPE_UTF8);
    assert_true(pl_array_equals(plain, want));
    assert_true(pl_array_equals(d, want)); /* dictionary compares by decoded value */
    /* concat of two dictionary arrays with different dictionaries keeps the dictionary type */
    pl_array *parts[2] = {d, d}, *cat, *cat_plain;
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(cat->type->id, PL_TYPE_DICTIONARY);
    assert_int_equal(cat->length, 14);
    assert_int_equal(pl_array_decode_dictionary(cat, &cat_plain, NULL), PL_OK);
    pl_array *wparts[2] = {want, want}, *wcat;
    assert_int_equal(pl_array_concat(2, wparts, &wcat, NULL), PL_OK);
    assert_true(pl_array_equals(cat_plain, wcat));
    /* corrupt index -> validate fails */
    ((int32_t *)(void *)d->values->data)[1] = 99;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_validate(d, false, &err), PL_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "dictionary index 99"));
    pl_array_release(wcat);
    pl_array_release(cat_plain);
    pl_array_release(cat);
    pl_array_release(plain);
    pl_array_release(want);
    pl_array_release(d);
    pl_type_release(dt);
}

static pl_array *build_list(pl_type *lt) {
    /* [[1, 2], NULL, [], [3, NULL]] */
    pl_builder *b;
    assert_int_equal(pl_builder_new(lt, 0, &b, NULL), PL_OK);
    pl_builder *c = pl_builder_child(b, 0);
    assert_int_equal(pl_builder_append_i64(c, 1, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(c, 2, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    assert_int_equal(pl_builder_append_i64(c, 3, NULL), PL_OK);
    assert_int_equal(pl_builder_append_null(c, NULL), PL_OK);
    assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    pl_array *a;
    assert_int_equal(pl_builder_finish(b, &a, NULL), PL_OK);
    pl_builder_free(b);
    return a;
}

static void test_nested_list_struct(void **state) {
    (void)state;
    pl_type *lt, *st;
    assert_int_equal(pl_type_new_list("item", pl_type_simple(PL_TYPE_INT64), true, &lt, NULL), PL_OK);
    pl_array *l = build_list(lt);
    assert_int_equal(l->length, 4);
    assert_int_equal(pl_array_null_count(l), 1);
    const int32_t *o = pl_array_offsets(l);
    assert_int_equal(o[4], 4);
    assert_int_equal(o[2], o[3]);
    assert_int_equal(pl_array_validate(l, true, NULL), PL_OK);
    pl_array *parts[2] = {l, l}, *cat, *tail;
    assert_int_equal(pl_array_concat(2, parts, &cat, NULL), PL_OK);
    assert_int_equal(pl_array_slice(cat, 4, 4, &tail, NULL), PL_OK);
    assert_true(pl_array_equals(tail, l));
    assert_int_equal(pl_array_validate(cat, true, NULL), PL_OK);

    pl_field f[2] = {{"x", pl_type_simple(PL_TYPE_INT32), true}, {"l", lt, true}};
    assert_int_equal(pl_type_new_struct(2, f, &st, NULL), PL_OK);
    pl_builder *b;
    assert_int_equal(pl_builder_new(st, 0, &b, NULL), PL_OK);
    for (int r = 0; r < 3; r++) {
        if (r == 1) {
            assert_int_equal(pl_builder_append_null(b, NULL), PL_OK);
            continue;
        }
        assert_int_equal(pl_builder_append_i64(pl_builder_child(b, 0), r, NULL), PL_OK);
        pl_builder *lb = pl_builder_child(b, 1);
        assert_int_equal(pl_builder_append_i64(pl_builder_child(lb, 0), r * 10, NULL), PL_OK);
        assert_int_equal(pl_builder_append_valid(lb, NULL), PL_OK);
        assert_int_equal(pl_builder_append_valid(b, NULL), PL_OK);
    }
    pl_array *s;
    assert_int_equal(pl_builder_finish(b, &s, NULL), PL_OK);
    pl_builder_free(b);
    assert_int_equal(s->length, 3);
    assert_false(pl_array_is_valid(s, 1));
    assert_int_equal(s->children[0]->length, 3);
    pl_array *sparts[2] = {s, s}, *scat, *stail;
    assert_int_equal(pl_array_concat(2, sparts, &scat, NULL), PL_OK);
    assert_int_equal(pl_array_slice(scat, 3, 3, &stail, NULL), PL_OK);
    assert_true(pl_array_equals(stail, s));
    assert_int_equal(pl_array_validate(scat, true, NULL), PL_OK);

    /* broken offsets are caught */
    ((int32_t *)(void *)l->values->data)[2] = 100;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_validate(l, false, &err), PL_ERR_CORRUPT);
    pl_array_release(stail);
    pl_array_release(scat);
    pl_array_release(s);
    pl_array_release(tail);
    pl_array_release(cat);
    pl_array_release(l);
    pl_type_release(st);
    pl_type_release(lt);
}

static void test_validate_rejects_bad_utf8_and_sizes(void **state) {
    (void)state;
    const char *v[] = {"ok", "\xC3\x28"};
    pl_array *a = build_strings(v, 2);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_array_validate(a, false, NULL), PL_OK);
    assert_int_equal(pl_array_validate(a, true, &err), PL_ERR_CORRUPT);
    pl_array_release(a);
    /* a values buffer too small is refused by pl_array_new, which still takes ownership */
    pl_buf *values;
    assert_int_equal(pl_buf_new_zeroed(8, &values, NULL), PL_OK);
    pl_array *bad;
    assert_int_equal(pl_array_new(pl_type_simple(PL_TYPE_INT64), 2, 0, NULL, values, NULL, 0, NULL,
                                  NULL, &bad, NULL),
                     PL_ERR_INVALID_ARG);
}

static void test_batch_table(void **state) {
    (void)state;
    int64_t v[6] = {1, 2, 3, 4, 5, 6};
    const char *s[6] = {"a", "b", NULL, "d", "e", "f"};
    pl_field f[2] = {{"id", pl_type_simple(PL_TYPE_INT64), false}, {"name", pl_type_simple(PL_TYPE_UTF8), true}};
    pl_schema *sch;
    assert_int_equal(pl_schema_new(2, f, &sch, NULL), PL_OK);
    assert_int_equal(pl_schema_find(sch, "name"), 1);
    assert_int_equal(pl_schema_find(sch, "nope"), -1);
    pl_array *cols[2] = {build_ints(v, NULL, 6, PL_TYPE_INT64), build_strings(s, 6)};
    pl_batch *b;
    assert_int_equal(pl_batch_new(pl_schema_retain(sch), 6, cols, &b, NULL), PL_OK);
    /* wrong length is refused */
    pl_array *short_cols[2] = {build_ints(v, NULL, 5, PL_TYPE_INT64), build_strings(s, 6)};
    pl_batch *bad;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_batch_new(pl_schema_retain(sch), 6, short_cols, &bad, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "\"id\""));

    pl_batch *b1, *b2;
    assert_int_equal(pl_batch_slice(b, 0, 2, &b1, NULL), PL_OK);
    assert_int_equal(pl_batch_slice(b, 2, 4, &b2, NULL), PL_OK);
    pl_table *t1, *t2;
    assert_int_equal(pl_table_new(sch, &t1, NULL), PL_OK);
    assert_int_equal(pl_table_new(sch, &t2, NULL), PL_OK);
    assert_int_equal(pl_table_append(t1, b, NULL), PL_OK);
    assert_int_equal(pl_table_append(t2, b1, NULL), PL_OK);
    assert_int_equal(pl_table_append(t2, b2, NULL), PL_OK);
    assert_int_equal(t2->n_rows, 6);
    assert_true(pl_table_equals(t1, t2));
    pl_batch *comb;
    assert_int_equal(pl_table_combine(t2, &comb, NULL), PL_OK);
    assert_int_equal(comb->n_rows, 6);
    assert_true(pl_array_equals(comb->columns[1], b->columns[1]));
    int32_t idx[1] = {1};
    pl_batch *sel;
    assert_int_equal(pl_batch_select(b, 1, idx, &sel, NULL), PL_OK);
    assert_string_equal(sel->schema->fields[0].name, "name");
    pl_batch_release(sel);
    pl_batch_release(comb);
    pl_table_release(t1);
    pl_table_release(t2);
    pl_batch_release(b1);
    pl_batch_release(b2);
    pl_batch_release(b);
    pl_schema_release(sch);
}

static void test_stream_from_table(void **state) {
    (void)state;
    int64_t v[3] = {7, 8, 9};
    pl_field f[1] = {{"x", pl_type_simple(PL_TYPE_INT64), true}};
    pl_schema *sch;
    assert_int_equal(pl_schema_new(1, f, &sch, NULL), PL_OK);
    pl_array *cols[1] = {build_ints(v, NULL, 3, PL_TYPE_INT64)};
    pl_batch *b;
    assert_int_equal(pl_batch_new(pl_schema_retain(sch), 3, cols, &b, NULL), PL_OK);
    pl_table *t, *t2;
    assert_int_equal(pl_table_new(sch, &t, NULL), PL_OK);
    assert_int_equal(pl_table_append(t, b, NULL), PL_OK);
    assert_int_equal(pl_table_append(t, b, NULL), PL_OK);
    pl_stream *s;
    assert_int_equal(pl_stream_from_table(t, &s, NULL), PL_OK);
    assert_int_equal(pl_stream_collect(s, &t2, NULL), PL_OK);
    pl_stream_free(s);
    assert_int_equal(t2->n_rows, 6);
    assert_true(pl_table_equals(t, t2));
    pl_table_release(t2);
    pl_table_release(t);
    pl_batch_release(b);
    pl_schema_release(sch);
}

static void test_oom_builder(void **state) {
    (void)state;
    /* Every allocation failure must surface as PL_ERR_NOMEM and leak nothing (ASan checks). */
    for (int64_t n = 0;; n++) {
        pl_builder *b = NULL;
        pl_array *a = NULL;
        pl_status st;
        pl_alloc_fail_after(n);
        st = pl_builder_new(pl_type_simple(PL_TYPE_UTF8), 2, &b, NULL);
        for (int i = 0; !st && i < 200; i++)
            st = i % 5 ? pl_builder_append_bytes(b, "abcdefgh", 8, NULL) : pl_builder_append_null(b, NULL);
        if (!st) st = pl_builder_finish(b, &a, NULL);
        pl_alloc_fail_after(-1);
        pl_builder_free(b);
        if (st == PL_OK) {
            assert_int_equal(a->length, 200);
            assert_int_equal(pl_array_null_count(a), 40);
            pl_array_release(a);
            break;
        }
        assert_int_equal(st, PL_ERR_NOMEM);
        assert_true(n < 10000);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names_and_equality),
        cmocka_unit_test(test_builder_ints_nulls_slice),
        cmocka_unit_test(test_strings_concat_equals),
        cmocka_unit_test(test_bool_concat_unaligned),
        cmocka_unit_test(test_dictionary_builder_and_decode),
        cmocka_unit_test(test_nested_list_struct),
        cmocka_unit_test(test_validate_rejects_bad_utf8_and_sizes),
        cmocka_unit_test(test_batch_table),
        cmocka_unit_test(test_stream_from_table),
        cmocka_unit_test(test_oom_builder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
