/* test_parquet_read_thrift.c - the Parquet reader's Thrift compact-protocol decoder
 * (src/io/parquet/thrift.c, metadata.c): hand-built byte sequences following the compact
 * protocol spec, unknown fields, long-form field ids, truncated input at every length, huge
 * lengths and counts, the nesting limit, and page headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/parquet/pq_int.h"

/* ---------------------------------------------------------------- a tiny test-side encoder */

typedef struct enc {
    uint8_t b[4096];
    int n;
    int16_t last[32];
    int depth;
} enc;

static void put(enc *e, uint8_t v) { e->b[e->n++] = v; }
static void uvar(enc *e, uint64_t v) {
    while (v >= 0x80) {
        put(e, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    put(e, (uint8_t)v);
}
static void zvar(enc *e, int64_t v) { uvar(e, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }
static void fhdr(enc *e, int16_t id, uint8_t type) {
    int16_t d = (int16_t)(id - e->last[e->depth]);
    if (d > 0 && d <= 15) {
        put(e, (uint8_t)(d << 4 | type));
    } else {
        put(e, type);
        zvar(e, id);
    }
    e->last[e->depth] = id;
}
static void f_i32(enc *e, int16_t id, int64_t v) {
    fhdr(e, id, PL_PQ_T_I32);
    zvar(e, v);
}
static void f_i64(enc *e, int16_t id, int64_t v) {
    fhdr(e, id, PL_PQ_T_I64);
    zvar(e, v);
}
static void f_str(enc *e, int16_t id, const char *s) {
    fhdr(e, id, PL_PQ_T_BINARY);
    uvar(e, strlen(s));
    for (const char *p = s; *p; p++) put(e, (uint8_t)*p);
}
static void f_bool(enc *e, int16_t id, bool v) { fhdr(e, id, v ? PL_PQ_T_TRUE : PL_PQ_T_FALSE); }
static void f_struct(enc *e, int16_t id) {
    fhdr(e, id, PL_PQ_T_STRUCT);
    e->last[++e->depth] = 0;
}
static void f_list(enc *e, int16_t id, uint8_t et, int n) {
    fhdr(e, id, PL_PQ_T_LIST);
    if (n < 15) {
        put(e, (uint8_t)(n << 4 | et));
    } else {
        put(e, (uint8_t)(0xf0 | et));
        uvar(e, (uint64_t)n);
    }
}
static void elem_struct(enc *e) { e->last[++e->depth] = 0; }
static void stop(enc *e) {
    put(e, 0);
    e->depth--;
}

/* FileMetaData with a root, an optional INT32 leaf "a" (INT(16) converted) and a required
 * BYTE_ARRAY leaf "s" (STRING), one row group with statistics. */
static void build_file_metadata(enc *e) {
    memset(e, 0, sizeof *e);
    e->depth = 0;
    f_i32(e, 1, 1);
    f_list(e, 2, PL_PQ_T_STRUCT, 3);
    elem_struct(e);
    f_str(e, 4, "schema");
    f_i32(e, 5, 2);
    stop(e);
    elem_struct(e);
    f_i32(e, 1, PL_PQ_INT32);
    f_i32(e, 3, PL_PQ_OPTIONAL);
    f_str(e, 4, "a");
    f_i32(e, 6, PL_PQ_CT_INT_16);
    stop(e);
    elem_struct(e);
    f_i32(e, 1, PL_PQ_BYTE_ARRAY);
    f_i32(e, 3, PL_PQ_REQUIRED);
    f_str(e, 4, "s");
    f_struct(e, 10); /* logicalType: STRING */
    f_struct(e, 1);
    stop(e);
    stop(e);
    stop(e);
    f_i64(e, 3, 3);
    f_list(e, 4, PL_PQ_T_STRUCT, 1);
    elem_struct(e);
    f_list(e, 1, PL_PQ_T_STRUCT, 2);
    for (int c = 0; c < 2; c++) {
        elem_struct(e);
        f_i64(e, 2, 4);
        f_struct(e, 3);
        f_i32(e, 1, c == 0 ? PL_PQ_INT32 : PL_PQ_BYTE_ARRAY);
        f_list(e, 2, PL_PQ_T_I32, 2);
        zvar(e, PL_PQ_ENC_PLAIN);
        zvar(e, PL_PQ_ENC_RLE);
        f_list(e, 3, PL_PQ_T_BINARY, 1);
        uvar(e, 1);
        put(e, c == 0 ? 'a' : 's');
        f_i32(e, 4, PL_PQ_CODEC_ZSTD);
        f_i64(e, 5, 3);
        f_i64(e, 6, 100);
        f_i64(e, 7, 90);
        f_i64(e, 9, 4 + c * 100);
        f_struct(e, 12); /* statistics */
        f_i64(e, 3, 1);
        fhdr(e, 5, PL_PQ_T_BINARY); /* max_value */
        uvar(e, 4);
        put(e, 7), put(e, 0), put(e, 0), put(e, 0);
        fhdr(e, 6, PL_PQ_T_BINARY); /* min_value */
        uvar(e, 4);
        put(e, 0xfe), put(e, 0xff), put(e, 0xff), put(e, 0xff);
        stop(e);
        f_i32(e, 99, 12345); /* an unknown field is skipped */
        stop(e);
        stop(e);
    }
    f_i64(e, 2, 200);
    f_i64(e, 3, 3);
    stop(e);
    f_list(e, 5, PL_PQ_T_STRUCT, 1);
    elem_struct(e);
    f_str(e, 1, "k");
    f_str(e, 2, "v");
    stop(e);
    f_str(e, 6, "polaroid test");
    f_struct(e, 1000); /* an unknown struct from a future version, long-form id */
    f_list(e, 1, PL_PQ_T_I64, 20);
    for (int k = 0; k < 20; k++) zvar(e, k);
    f_bool(e, 2, true);
    stop(e);
    put(e, 0);
}

static void test_file_metadata(void **state) {
    (void)state;
    enc e;
    build_file_metadata(&e);
    pl_pq_arena arena = {0};
    pl_pq_metadata md;
    memset(&md, 0, sizeof md);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_metadata_decode(e.b, e.n, 1000, &arena, &md, &err), PL_OK);
    assert_int_equal(md.version, 1);
    assert_int_equal(md.num_rows, 3);
    assert_int_equal(md.n_schema, 3);
    assert_string_equal(md.schema[0].name, "schema");
    assert_int_equal(md.schema[0].num_children, 2);
    assert_int_equal(md.schema[1].physical, PL_PQ_INT32);
    assert_int_equal(md.schema[1].repetition, PL_PQ_OPTIONAL);
    assert_int_equal(md.schema[1].converted, PL_PQ_CT_INT_16);
    assert_int_equal(md.schema[2].logical.kind, PL_PQ_LT_STRING);
    assert_int_equal(md.n_row_groups, 1);
    const pl_pq_row_group *rg = &md.row_groups[0];
    assert_int_equal(rg->num_rows, 3);
    assert_int_equal(rg->total_byte_size, 200);
    assert_int_equal(rg->n_columns, 2);
    const pl_pq_column_chunk *cc = &rg->columns[1];
    assert_string_equal(cc->path, "s");
    assert_int_equal(cc->codec, PL_CODEC_ZSTD);
    assert_int_equal(cc->n_encodings, 2);
    assert_int_equal(cc->encodings[1], PL_PQ_ENC_RLE);
    assert_int_equal(cc->data_page_offset, 104);
    assert_int_equal(cc->dictionary_page_offset, -1);
    assert_true(cc->has_stats);
    assert_int_equal(cc->stats.null_count, 1);
    assert_int_equal(cc->stats.max_len, 4);
    assert_int_equal(md.n_kv, 1);
    assert_string_equal(md.kv_keys[0], "k");
    assert_string_equal(md.kv_values[0], "v");
    assert_string_equal(md.created_by, "polaroid test");

    /* schema mapping and typed statistics */
    pl_pq_schema_tree tree;
    assert_int_equal(pl_pq_schema_build(&md, &arena, &tree, &err), PL_OK);
    assert_int_equal(tree.n_fields, 2);
    assert_int_equal(tree.schema->fields[0].type->id, PL_TYPE_INT16);
    assert_true(tree.schema->fields[0].nullable);
    assert_int_equal(tree.schema->fields[1].type->id, PL_TYPE_UTF8);
    assert_false(tree.schema->fields[1].nullable);
    assert_int_equal(md.n_leaves, 2);
    assert_int_equal(md.leaves[0].max_def, 1);
    assert_int_equal(md.leaves[1].max_def, 0);
    pl_pq_value v;
    assert_true(pl_pq_stats_value(&md, 0, &rg->columns[0].stats, false, &v));
    assert_int_equal(v.kind, PL_PQ_VALUE_INT);
    assert_int_equal(v.i, -2);
    assert_true(pl_pq_stats_value(&md, 0, &rg->columns[0].stats, true, &v));
    assert_int_equal(v.i, 7);
    pl_pq_schema_tree_reset(&tree);
    pl_pq_arena_free(&arena);
}

static void test_truncated_every_length(void **state) {
    (void)state;
    enc e;
    build_file_metadata(&e);
    for (int n = 0; n < e.n - 1; n++) {
        pl_pq_arena arena = {0};
        pl_pq_metadata md;
        memset(&md, 0, sizeof md);
        pl_error err;
        pl_error_init(&err);
        /* copy into an exactly sized heap block so ASan sees any overread */
        uint8_t *copy = pl_malloc((size_t)(n > 0 ? n : 1));
        memcpy(copy, e.b, (size_t)n);
        pl_status st = pl_pq_metadata_decode(copy, n, 0, &arena, &md, &err);
        assert_int_not_equal(st, PL_OK);
        assert_int_equal(err.code, PL_ERR_CORRUPT);
        assert_true(err.byte_offset >= 0 && err.byte_offset <= n);
        pl_free(copy);
        pl_pq_arena_free(&arena);
    }
}

static void test_mutations_never_crash(void **state) {
    (void)state;
    enc e;
    build_file_metadata(&e);
    uint32_t seed = 12345;
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t *copy = pl_malloc((size_t)e.n);
        memcpy(copy, e.b, (size_t)e.n);
        for (int k = 0; k < 1 + iter % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            copy[(seed >> 8) % (uint32_t)e.n] = (uint8_t)(seed >> 20);
        }
        pl_pq_arena arena = {0};
        pl_pq_metadata md;
        memset(&md, 0, sizeof md);
        pl_error err;
        pl_error_init(&err);
        if (pl_pq_metadata_decode(copy, e.n, 0, &arena, &md, &err) == PL_OK) {
            pl_pq_schema_tree tree;
            if (pl_pq_schema_build(&md, &arena, &tree, &err) == PL_OK) pl_pq_schema_tree_reset(&tree);
        } else {
            assert_true(err.msg[0] != 0);
        }
        pl_pq_arena_free(&arena);
        pl_free(copy);
    }
}

static void test_huge_lengths(void **state) {
    (void)state;
    pl_error err;
    /* a string field claiming 2^34 bytes */
    uint8_t s1[] = {0x18, 0x80, 0x80, 0x80, 0x80, 0x40, 'x', 0x00};
    pl_pq_thrift t;
    pl_pq_thrift_init(&t, s1, sizeof s1, 0, "test");
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
    /* a list claiming 2^31 elements with 3 bytes left */
    uint8_t s2[] = {0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x08, 0x02, 0x02, 0x00};
    pl_pq_thrift_init(&t, s2, sizeof s2, 0, "test");
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
    /* a varint longer than 10 bytes */
    uint8_t s3[] = {0x15, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    pl_pq_thrift_init(&t, s3, sizeof s3, 0, "test");
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
    /* an i32 field whose value does not fit */
    uint8_t s4[] = {0x15, 0xfe, 0xff, 0xff, 0xff, 0x7f, 0x00};
    pl_pq_thrift_init(&t, s4, sizeof s4, 0, "test");
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
    /* an unknown wire type */
    uint8_t s5[] = {0x1d, 0x00};
    pl_pq_thrift_init(&t, s5, sizeof s5, 0, "test");
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
}

static void test_depth_limit(void **state) {
    (void)state;
    uint8_t buf[400];
    int n = 0;
    for (int k = 0; k < 150; k++) buf[n++] = 0x1c; /* field 1: struct, nested */
    for (int k = 0; k < 151; k++) buf[n++] = 0x00;
    pl_pq_thrift t;
    pl_pq_thrift_init(&t, buf, n, 0, "test");
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_ERR_CORRUPT);
    assert_non_null(strstr(err.msg, "nesting"));
    /* within the limit it decodes */
    n = 0;
    for (int k = 0; k < 10; k++) buf[n++] = 0x1c;
    for (int k = 0; k < 11; k++) buf[n++] = 0x00;
    pl_pq_thrift_init(&t, buf, n, 0, "test");
    assert_int_equal(pl_pq_thrift_skip(&t, PL_PQ_T_STRUCT, &err), PL_OK);
    assert_ptr_equal(t.p, buf + n);
}

static void test_fields_and_bools(void **state) {
    (void)state;
    /* field 1 i32 5; field 2 binary "ab"; field 20 (long form) i32 1; field 21 bool true;
     * field 22 bool false; list<bool> [true, false]; stop */
    uint8_t b[] = {0x15, 0x0a, 0x18, 0x02, 'a', 'b', 0x05, 0x28, 0x02, 0x11, 0x12,
                   0x19, 0x21, 0x01, 0x02, 0x00};
    pl_pq_thrift t;
    pl_pq_thrift_init(&t, b, sizeof b, 0, "test");
    pl_error err;
    pl_error_init(&err);
    int16_t last = 0, id;
    uint8_t ty;
    assert_int_equal(pl_pq_thrift_struct_begin(&t, &err), PL_OK);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(id, 1);
    int32_t v;
    assert_int_equal(pl_pq_thrift_i32(&t, ty, &v, &err), PL_OK);
    assert_int_equal(v, 5);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    const uint8_t *s;
    int32_t len;
    assert_int_equal(pl_pq_thrift_binary(&t, ty, &s, &len, &err), PL_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(s, "ab", 2);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(id, 20);
    assert_int_equal(pl_pq_thrift_i32(&t, ty, &v, &err), PL_OK);
    assert_int_equal(v, 1);
    bool bv;
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(id, 21);
    assert_int_equal(pl_pq_thrift_bool(&t, ty, &bv, &err), PL_OK);
    assert_true(bv);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(id, 22);
    assert_int_equal(pl_pq_thrift_bool(&t, ty, &bv, &err), PL_OK);
    assert_false(bv);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(id, 23);
    assert_int_equal(pl_pq_thrift_skip(&t, ty, &err), PL_OK);
    assert_int_equal(pl_pq_thrift_field(&t, &last, &id, &ty, &err), PL_OK);
    assert_int_equal(ty, PL_PQ_T_STOP);
    assert_ptr_equal(t.p, b + sizeof b);
}

static void test_page_header(void **state) {
    (void)state;
    enc e;
    memset(&e, 0, sizeof e);
    f_i32(&e, 1, PL_PQ_PAGE_DATA_V2);
    f_i32(&e, 2, 1000);
    f_i32(&e, 3, 600);
    f_i32(&e, 4, 777); /* crc */
    f_struct(&e, 8);
    f_i32(&e, 1, 100);
    f_i32(&e, 2, 3);
    f_i32(&e, 3, 90);
    f_i32(&e, 4, PL_PQ_ENC_RLE_DICTIONARY);
    f_i32(&e, 5, 12);
    f_i32(&e, 6, 0);
    f_bool(&e, 7, false);
    f_struct(&e, 8); /* statistics, skipped */
    f_i64(&e, 3, 3);
    stop(&e);
    stop(&e);
    put(&e, 0);
    put(&e, 0xAA); /* page body starts here */
    pl_pq_page_header h;
    int64_t hlen;
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_page_header_decode(e.b, e.n, 0, &h, &hlen, &err), PL_OK);
    assert_int_equal(hlen, e.n - 1);
    assert_int_equal(h.type, PL_PQ_PAGE_DATA_V2);
    assert_int_equal(h.uncompressed_size, 1000);
    assert_int_equal(h.compressed_size, 600);
    assert_true(h.has_v2);
    assert_int_equal(h.num_values, 100);
    assert_int_equal(h.num_nulls, 3);
    assert_int_equal(h.num_rows, 90);
    assert_int_equal(h.encoding, PL_PQ_ENC_RLE_DICTIONARY);
    assert_int_equal(h.def_bytes, 12);
    assert_false(h.is_compressed);
    /* negative sizes are refused */
    enc bad;
    memset(&bad, 0, sizeof bad);
    f_i32(&bad, 1, 0);
    f_i32(&bad, 2, -5);
    f_i32(&bad, 3, 10);
    put(&bad, 0);
    assert_int_equal(pl_pq_page_header_decode(bad.b, bad.n, 0, &h, &hlen, &err), PL_ERR_CORRUPT);
}

static void test_encrypted_footer_field(void **state) {
    (void)state;
    enc e;
    memset(&e, 0, sizeof e);
    f_i32(&e, 1, 1);
    f_list(&e, 2, PL_PQ_T_STRUCT, 1);
    elem_struct(&e);
    f_str(&e, 4, "schema");
    stop(&e);
    f_i64(&e, 3, 0);
    f_struct(&e, 8); /* encryption_algorithm */
    stop(&e);
    put(&e, 0);
    pl_pq_arena arena = {0};
    pl_pq_metadata md;
    memset(&md, 0, sizeof md);
    pl_error err;
    pl_error_init(&err);
    assert_int_equal(pl_pq_metadata_decode(e.b, e.n, 0, &arena, &md, &err), PL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "encrypted"));
    pl_pq_arena_free(&arena);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_and_bools),   cmocka_unit_test(test_file_metadata),
        cmocka_unit_test(test_truncated_every_length), cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_huge_lengths),       cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_page_header),        cmocka_unit_test(test_encrypted_footer_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
