/* test_c_data.c - unit tests for the Arrow C Data / C Stream Interface (src/columnar/c_data.c):
 *   - format strings, flags, names, children and metadata of exported schemas, checked against
 *     the specification's format table (e.g. "tsu:UTC", "d:20,3", "+m" with "entries");
 *   - export -> import round trips of every column type (NULLs, nested, dictionary, null type),
 *     of sliced arrays (offsets), of batches and of streams: values equal, no copy (imported
 *     buffers point at the exported ones);
 *   - release callbacks: the producer's release runs exactly once, after the last polaroid
 *     reference to imported data is gone; a child moved out of an exported array stays valid;
 *   - malformed foreign structures are refused with an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "polaroid/c_data.h"

static pl_error g_err;
#define E (&g_err)

static void ok_(pl_status st, const pl_error *err, const char *expr, int line) {
    if (st != PL_OK) {
        char buf[1024];
        fail_msg("line %d: %s failed: %s", line, expr, pl_error_format(err, buf, sizeof buf));
    }
}
#define ok(expr, err) ok_((expr), (err), #expr, __LINE__)

static pl_type *list_of(pl_type *item, bool nullable) {
    pl_type *t = NULL;
    ok(pl_type_new_list("item", item, nullable, &t, E), E);
    return t;
}

typedef struct fields {
    pl_field f[40];
    int32_t n;
} fields;

static void add(fields *fx, const char *name, pl_type *t, bool nullable) {
    ok(pl_field_init(&fx->f[fx->n++], name, t, nullable, E), E);
    pl_type_release(t);
}

static pl_schema *every_type_schema(void) {
    fields fx = {0};
    static const pl_type_id simple[] = {
        PL_TYPE_NA, PL_TYPE_BOOL, PL_TYPE_INT8, PL_TYPE_INT16, PL_TYPE_INT32, PL_TYPE_INT64,
        PL_TYPE_UINT8, PL_TYPE_UINT16, PL_TYPE_UINT32, PL_TYPE_UINT64, PL_TYPE_FLOAT32,
        PL_TYPE_FLOAT64, PL_TYPE_UTF8, PL_TYPE_BINARY, PL_TYPE_DATE32};
    static const char *names[] = {"na", "b", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
                                  "f32", "f64", "s", "bin", "d32"};
    for (size_t k = 0; k < PL_ARRAY_LEN(simple); k++)
        add(&fx, names[k], pl_type_simple(simple[k]), true);
    pl_type *t;
    ok(pl_type_new_decimal(20, 3, &t, E), E);
    add(&fx, "dec", t, true);
    ok(pl_type_new_fixed_binary(3, &t, E), E);
    add(&fx, "fsb", t, true);
    ok(pl_type_new_time64(PL_UNIT_US, &t, E), E);
    add(&fx, "t_us", t, true);
    ok(pl_type_new_time64(PL_UNIT_NS, &t, E), E);
    add(&fx, "t_ns", t, false);
    ok(pl_type_new_timestamp(PL_UNIT_MS, NULL, &t, E), E);
    add(&fx, "ts_ms", t, true);
    ok(pl_type_new_timestamp(PL_UNIT_NS, "Europe/Paris", &t, E), E);
    add(&fx, "ts_ns_tz", t, true);
    ok(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &t, E), E);
    add(&fx, "dict", t, true);
    ok(pl_type_new_dictionary(PL_TYPE_UINT8, pl_type_simple(PL_TYPE_INT64), &t, E), E);
    add(&fx, "dict_u8", t, true);
    add(&fx, "list", list_of(pl_type_simple(PL_TYPE_INT32), true), true);
    pl_type *inner = list_of(pl_type_simple(PL_TYPE_UTF8), true);
    add(&fx, "list_list", list_of(inner, false), true);
    pl_type_release(inner);
    pl_field sf[3];
    ok(pl_field_init(&sf[0], "x", pl_type_simple(PL_TYPE_INT64), true, E), E);
    ok(pl_field_init(&sf[1], "y", pl_type_simple(PL_TYPE_UTF8), false, E), E);
    ok(pl_type_new_dictionary(PL_TYPE_INT16, pl_type_simple(PL_TYPE_UTF8), &t, E), E);
    ok(pl_field_init(&sf[2], "z", t, true, E), E);
    pl_type_release(t);
    ok(pl_type_new_struct(3, sf, &t, E), E);
    for (int k = 0; k < 3; k++) pl_field_reset(&sf[k]);
    add(&fx, "st", t, true);
    ok(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_FLOAT64), true, &t, E),
       E);
    add(&fx, "map", t, true);
    pl_schema *s = NULL;
    ok(pl_schema_new(fx.n, fx.f, &s, E), E);
    ok(pl_schema_add_meta(s, "origin", "test_ipc", E), E);
    for (int32_t k = 0; k < fx.n; k++) pl_field_reset(&fx.f[k]);
    return s;
}

static void append_value(pl_builder *b, const pl_type *t, bool nullable, int64_t row, int col) {
    char buf[64];
    uint64_t r = (uint64_t)row * 2654435761u + (uint64_t)col * 40503u;
    if (nullable && (row * 7 + col) % 5 == 2) {
        ok(pl_builder_append_null(b, E), E);
        return;
    }
    pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
    switch (id) {
    case PL_TYPE_BOOL: ok(pl_builder_append_bool(b, (r >> 3) & 1, E), E); break;
    case PL_TYPE_INT8: ok(pl_builder_append_i64(b, (int8_t)r, E), E); break;
    case PL_TYPE_INT16: ok(pl_builder_append_i64(b, (int16_t)r, E), E); break;
    case PL_TYPE_INT32: ok(pl_builder_append_i64(b, (int32_t)r, E), E); break;
    case PL_TYPE_INT64:
        ok(pl_builder_append_i64(b, t->id == PL_TYPE_DICTIONARY ? (int64_t)(r % 9) : (int64_t)(r * r), E), E);
        break;
    case PL_TYPE_UINT8: ok(pl_builder_append_i64(b, (uint8_t)r, E), E); break;
    case PL_TYPE_UINT16: ok(pl_builder_append_i64(b, (uint16_t)r, E), E); break;
    case PL_TYPE_UINT32: ok(pl_builder_append_i64(b, (uint32_t)r, E), E); break;
    case PL_TYPE_UINT64: ok(pl_builder_append_i64(b, (int64_t)(r * 0x9E3779B97F4A7C15ull), E), E); break;
    case PL_TYPE_FLOAT32: case PL_TYPE_FLOAT64:
        ok(pl_builder_append_f64(b, (double)(int64_t)r / 16.0 - 3e5, E), E);
        break;
    case PL_TYPE_DECIMAL128: {
        int64_t v = (int64_t)(r % 99999999) * (row % 2 ? -1 : 1);
        ok(pl_builder_append_decimal(b, (uint64_t)v, v < 0 ? -1 : 0, E), E);
        break;
    }
    case PL_TYPE_UTF8: case PL_TYPE_BINARY: {
        int n = snprintf(buf, sizeof buf, "v%llu\xc3\xa9", (unsigned long long)(r % 23));
        ok(pl_builder_append_bytes(b, buf, row % 13 == 0 ? 0 : n, E), E);
        break;
    }
    case PL_TYPE_FIXED_BINARY: {
        uint8_t x[3] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)row};
        ok(pl_builder_append_bytes(b, x, 3, E), E);
        break;
    }
    case PL_TYPE_DATE32: ok(pl_builder_append_i64(b, (int32_t)(r % 200000) - 100000, E), E); break;
    case PL_TYPE_TIME64: ok(pl_builder_append_i64(b, (int64_t)(r % 86400000000ull), E), E); break;
    case PL_TYPE_TIMESTAMP: ok(pl_builder_append_i64(b, (int64_t)r * 1000003 - (1ll << 40), E), E); break;
    case PL_TYPE_LIST: {
        pl_builder *c = pl_builder_child(b, 0);
        for (int k = 0; k < (int)(r % 4); k++)
            append_value(c, t->children[0].type, t->children[0].nullable, row * 3 + k, col + 1);
        ok(pl_builder_append_valid(b, E), E);
        break;
    }
    case PL_TYPE_STRUCT:
        for (int32_t k = 0; k < t->n_children; k++)
            append_value(pl_builder_child(b, k), t->children[k].type, t->children[k].nullable, row,
                         col + k + 1);
        ok(pl_builder_append_valid(b, E), E);
        break;
    case PL_TYPE_MAP: {
        pl_builder *entries = pl_builder_child(b, 0);
        for (int k = 0; k < (int)(r % 3); k++) {
            int n = snprintf(buf, sizeof buf, "k%d", k);
            ok(pl_builder_append_bytes(pl_builder_child(entries, 0), buf, n, E), E);
            append_value(pl_builder_child(entries, 1), pl_type_simple(PL_TYPE_FLOAT64), true,
                         row + k, col);
            ok(pl_builder_append_valid(entries, E), E);
        }
        ok(pl_builder_append_valid(b, E), E);
        break;
    }
    default: fail_msg("unexpected type %d", (int)t->id);
    }
}

static pl_batch *make_batch(pl_schema *s, int64_t n_rows, int64_t first_row) {
    pl_array **cols = pl_calloc((size_t)s->n_fields, sizeof *cols);
    for (int32_t c = 0; c < s->n_fields; c++) {
        if (s->fields[c].type->id == PL_TYPE_NA) {
            ok(pl_array_new_nulls(s->fields[c].type, n_rows, &cols[c], E), E);
            continue;
        }
        pl_builder *b = NULL;
        ok(pl_builder_new(s->fields[c].type, n_rows, &b, E), E);
        for (int64_t r = 0; r < n_rows; r++)
            append_value(b, s->fields[c].type, s->fields[c].nullable, first_row + r, c);
        ok(pl_builder_finish(b, &cols[c], E), E);
        pl_builder_free(b);
    }
    pl_batch *batch = NULL;
    ok(pl_batch_new(pl_schema_retain(s), n_rows, cols, &batch, E), E);
    pl_free(cols);
    return batch;
}


/* ---------------------------------------------------------------- release counting */

static int g_released;
static void (*g_orig_release)(struct ArrowArray *);

static void counting_release(struct ArrowArray *a) {
    g_released++;
    a->release = g_orig_release;
    g_orig_release(a);
    assert_null(a->release);
}

static void hook_release(struct ArrowArray *a) {
    g_orig_release = a->release;
    a->release = counting_release;
    g_released = 0;
}

/* ---------------------------------------------------------------- tests */

static void test_schema_formats(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    struct ArrowSchema cs;
    ok(pl_schema_export(s, &cs, E), E);
    assert_string_equal(cs.format, "+s");
    assert_int_equal(cs.n_children, s->n_fields);
    static const struct {
        const char *name, *format;
    } want[] = {{"na", "n"},        {"b", "b"},          {"i8", "c"},      {"i16", "s"},
                {"i32", "i"},       {"i64", "l"},        {"u8", "C"},      {"u16", "S"},
                {"u32", "I"},       {"u64", "L"},        {"f32", "f"},     {"f64", "g"},
                {"s", "u"},         {"bin", "z"},        {"d32", "tdD"},   {"dec", "d:20,3"},
                {"fsb", "w:3"},     {"t_us", "ttu"},     {"t_ns", "ttn"},  {"ts_ms", "tsm:"},
                {"ts_ns_tz", "tsn:Europe/Paris"}, {"dict", "i"}, {"dict_u8", "C"},
                {"list", "+l"},     {"list_list", "+l"}, {"st", "+s"},     {"map", "+m"}};
    assert_int_equal(PL_ARRAY_LEN(want), s->n_fields);
    for (size_t k = 0; k < PL_ARRAY_LEN(want); k++) {
        struct ArrowSchema *c = cs.children[k];
        assert_string_equal(c->name, want[k].name);
        assert_string_equal(c->format, want[k].format);
        assert_int_equal((c->flags & ARROW_FLAG_NULLABLE) != 0, s->fields[k].nullable);
    }
    assert_string_equal(cs.children[21]->dictionary->format, "u");
    assert_string_equal(cs.children[22]->dictionary->format, "l");
    struct ArrowSchema *m = cs.children[26];
    assert_int_equal(m->n_children, 1);
    assert_string_equal(m->children[0]->format, "+s");
    assert_int_equal(m->children[0]->flags & ARROW_FLAG_NULLABLE, 0);
    assert_string_equal(m->children[0]->children[0]->name, "key");
    assert_int_equal(m->children[0]->children[0]->flags & ARROW_FLAG_NULLABLE, 0);
    assert_string_equal(m->children[0]->children[1]->format, "g");
    /* metadata: int32 count, then int32 length + bytes for each key and value */
    const char *md = cs.metadata;
    int32_t n, kl, vl;
    memcpy(&n, md, 4);
    memcpy(&kl, md + 4, 4);
    assert_int_equal(n, 1);
    assert_int_equal(kl, 6);
    assert_memory_equal(md + 8, "origin", 6);
    memcpy(&vl, md + 14, 4);
    assert_int_equal(vl, 8);
    assert_memory_equal(md + 18, "test_ipc", 8);
    /* import gives the same schema back */
    pl_schema *back = NULL;
    ok(pl_schema_import(&cs, &back, E), E);
    assert_true(pl_schema_equals(s, back));
    for (int32_t k = 0; k < s->n_fields; k++)
        assert_int_equal(back->fields[k].nullable, s->fields[k].nullable);
    assert_int_equal(back->n_meta, 1);
    assert_string_equal(back->meta_keys[0], "origin");
    pl_schema_release(back);
    /* moving a child out: the parent's release leaves it alone */
    struct ArrowSchema moved = *cs.children[5];
    cs.children[5]->release = NULL;
    cs.release(&cs);
    assert_null(cs.release);
    assert_string_equal(moved.format, "l");
    moved.release(&moved);
    assert_null(moved.release);
    pl_schema_release(s);
}

static void roundtrip_array(pl_array *a, const pl_type *t) {
    struct ArrowArray ca;
    ok(pl_array_export(a, &ca, E), E);
    assert_int_equal(ca.length, a->length);
    assert_int_equal(ca.offset, a->offset);
    hook_release(&ca);
    pl_array *back = NULL;
    ok(pl_array_import(&ca, t, &back, E), E);
    assert_null(ca.release); /* moved */
    /* the null type has no buffers: nothing keeps the foreign array, it is released at once */
    assert_int_equal(g_released, t->id == PL_TYPE_NA ? 1 : 0);
    assert_true(pl_array_equals(a, back));
    ok(pl_array_validate(back, true, E), E);
    if (a->values && a->length > 0) /* zero-copy both ways */
        assert_ptr_equal(back->values->data, a->values->data);
    pl_array *sl = NULL;
    if (back->length > 2) ok(pl_array_slice(back, 1, back->length - 2, &sl, E), E);
    pl_array_release(back);
    if (t->id != PL_TYPE_NA) /* the slice keeps the foreign data alive */
        assert_int_equal(g_released, sl ? 0 : 1);
    pl_array_release(sl);
    assert_int_equal(g_released, 1);
}

static void test_array_roundtrip(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *b = make_batch(s, 257, 5);
    int64_t live = pl_alloc_live_bytes();
    for (int32_t c = 0; c < b->n_cols; c++) {
        roundtrip_array(b->columns[c], s->fields[c].type);
        pl_array *sl = NULL;
        ok(pl_array_slice(b->columns[c], 13, 200, &sl, E), E);
        roundtrip_array(sl, s->fields[c].type);
        pl_array_release(sl);
    }
    assert_int_equal(pl_alloc_live_bytes(), live);
    pl_batch_release(b);
    pl_schema_release(s);
}

static void test_export_outlives_source(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *b = make_batch(s, 50, 0);
    struct ArrowArray ca;
    struct ArrowSchema cs;
    ok(pl_batch_export(b, &ca, &cs, E), E);
    pl_batch *keep = pl_batch_retain(b);
    pl_batch_release(b); /* the export holds its own references */
    assert_int_equal(ca.n_children, s->n_fields);
    assert_int_equal(ca.length, 50);
    /* move one column out, release the rest; the moved column stays readable */
    struct ArrowArray col = *ca.children[4];
    ca.children[4]->release = NULL;
    ca.release(&ca);
    assert_null(ca.release);
    pl_array *imp = NULL;
    pl_type *t = NULL;
    ok(pl_type_import(cs.children[4], &t, E), E);
    hook_release(&col);
    ok(pl_array_import(&col, t, &imp, E), E);
    assert_true(pl_array_equals(imp, keep->columns[4]));
    pl_array_release(imp);
    assert_int_equal(g_released, 1);
    pl_type_release(t);
    cs.release(&cs);
    pl_batch_release(keep);
    pl_schema_release(s);
}

static void test_batch_and_stream_roundtrip(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_table *t = NULL;
    ok(pl_table_new(s, &t, E), E);
    for (int k = 0; k < 3; k++) {
        pl_batch *b = make_batch(s, 40 + k, k * 100);
        pl_batch *sl = NULL;
        ok(pl_batch_slice(b, k, 30, &sl, E), E);
        ok(pl_table_append(t, sl, E), E);
        pl_batch_release(b);
        pl_batch_release(sl);
    }
    /* one batch */
    struct ArrowArray ca;
    struct ArrowSchema cs;
    ok(pl_batch_export(t->batches[1], &ca, &cs, E), E);
    pl_schema *sch = NULL;
    ok(pl_schema_import(&cs, &sch, E), E);
    cs.release(&cs);
    hook_release(&ca);
    pl_batch *back = NULL;
    ok(pl_batch_import(&ca, sch, &back, E), E);
    for (int32_t c = 0; c < s->n_fields; c++)
        assert_true(pl_array_equals(back->columns[c], t->batches[1]->columns[c]));
    pl_batch_release(back);
    assert_int_equal(g_released, 1);
    pl_schema_release(sch);
    /* a stream */
    pl_stream *src = NULL;
    ok(pl_stream_from_table(t, &src, E), E);
    struct ArrowArrayStream cst;
    ok(pl_stream_export(src, &cst, E), E);
    pl_stream *in = NULL;
    ok(pl_stream_import(&cst, &in, E), E);
    assert_null(cst.release);
    pl_table *got = NULL;
    ok(pl_stream_collect(in, &got, E), E);
    in->free(in);
    assert_true(pl_table_equals(t, got));
    assert_int_equal(got->n_batches, 3);
    pl_table_release(got);
    pl_table_release(t);
    pl_schema_release(s);
}

/* A producer whose get_next fails. */
static int bad_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
    (void)s;
    (void)out;
    return EIO;
}
static const char *bad_last_error(struct ArrowArrayStream *s) {
    (void)s;
    return "disk on fire";
}
static int g_stream_released;
static void bad_release(struct ArrowArrayStream *s) {
    g_stream_released++;
    s->release = NULL;
}

static void test_malformed_imports(void **state) {
    (void)state;
    struct ArrowSchema sc = {0};
    pl_type *t = NULL;
    const char *bad_formats[] = {"", "q", "d:", "d:10", "d:10,2,256", "w:", "w:-1", "ts", "tsx:",
                                 "+w:4", "vu", "U"};
    for (size_t k = 0; k < PL_ARRAY_LEN(bad_formats); k++) {
        sc.format = bad_formats[k];
        pl_status st = pl_type_import(&sc, &t, E);
        assert_true(st == PL_ERR_INVALID_ARG || st == PL_ERR_UNSUPPORTED);
    }
    sc.format = "+l"; /* a list without its child */
    assert_int_equal(pl_type_import(&sc, &t, E), PL_ERR_INVALID_ARG);
    sc.format = "i";
    pl_schema *sch = NULL;
    assert_int_equal(pl_schema_import(&sc, &sch, E), PL_ERR_INVALID_ARG);
    /* an array whose shape does not match its type is refused and stays with the caller */
    pl_array *a = NULL;
    ok(pl_array_new_nulls(pl_type_simple(PL_TYPE_INT32), 4, &a, E), E);
    struct ArrowArray ca;
    ok(pl_array_export(a, &ca, E), E);
    pl_array *imp = NULL;
    assert_int_equal(pl_array_import(&ca, pl_type_simple(PL_TYPE_UTF8), &imp, E), PL_ERR_INVALID_ARG);
    assert_non_null(ca.release);
    ok(pl_array_import(&ca, pl_type_simple(PL_TYPE_INT32), &imp, E), E);
    assert_int_equal(pl_array_null_count(imp), 4);
    pl_array_release(imp);
    pl_array_release(a);
    /* a failing producer */
    struct ArrowArrayStream st = {bad_get_schema, NULL, bad_last_error, bad_release, NULL};
    pl_stream *ps = NULL;
    assert_int_equal(pl_stream_import(&st, &ps, E), PL_ERR_IO);
    assert_non_null(strstr(g_err.msg, "disk on fire"));
    st.release(&st);
    assert_int_equal(g_stream_released, 1);
}

static void test_alloc_failures(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *b = make_batch(s, 30, 0);
    for (int64_t fail_at = 0;; fail_at++) {
        int64_t live = pl_alloc_live_bytes();
        struct ArrowArray ca;
        struct ArrowSchema cs;
        pl_schema *sch = NULL;
        pl_batch *back = NULL;
        pl_alloc_fail_after(fail_at);
        pl_status st = pl_batch_export(b, &ca, &cs, E);
        if (st == PL_OK) {
            st = pl_schema_import(&cs, &sch, E);
            cs.release(&cs);
            if (st == PL_OK) {
                st = pl_batch_import(&ca, sch, &back, E);
                pl_schema_release(sch);
            }
            if (ca.release) ca.release(&ca); /* import failed: still ours */
        }
        pl_alloc_fail_after(-1);
        if (st == PL_OK) {
            for (int32_t c = 0; c < b->n_cols; c++)
                assert_true(pl_array_equals(b->columns[c], back->columns[c]));
            pl_batch_release(back);
            break;
        }
        assert_int_equal(st, PL_ERR_NOMEM);
        assert_int_equal(pl_alloc_live_bytes(), live);
    }
    pl_batch_release(b);
    pl_schema_release(s);
}

int main(void) {
    pl_error_init(&g_err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_formats),
        cmocka_unit_test(test_array_roundtrip),
        cmocka_unit_test(test_export_outlives_source),
        cmocka_unit_test(test_batch_and_stream_roundtrip),
        cmocka_unit_test(test_malformed_imports),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
