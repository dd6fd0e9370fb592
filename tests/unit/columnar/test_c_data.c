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

#include "../common/sample_tables.h"


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
