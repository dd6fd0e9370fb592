/* test_ipc.c - unit tests for the Arrow IPC reader and writer (src/io/ipc/):
 *   - the FlatBuffers reader on a buffer laid out by hand from the FlatBuffers format, its
 *     refusal of out-of-range offsets, and builder -> reader round trips;
 *   - round trips of a table with every polaroid type (NULLs, nested list/struct/map, dictionary
 *     and null columns) through the stream and file formats, uncompressed, LZ4_FRAME and ZSTD,
 *     in memory and through files (pl_writer_open / pl_read_table by extension);
 *   - sliced batches (bit offsets, offsets not starting at 0), dictionary replacement (stream)
 *     and delta (file), projection and limit, zero-copy buffers that keep the input alive;
 *   - hostile input: every truncation and many byte flips of valid streams/files give a clean
 *     error (never a crash), and allocation failures give PL_ERR_NOMEM without leaks.
 * Interop with pyarrow (both directions, every type, compression) is tested in
 * tests/interop/test_ipc_interop.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "io/io_int.h"
#include "io/ipc/flatbuf.h"
#include "io/ipc/ipc.h"

#include "../common/sample_tables.h"

/* ---------------------------------------------------------------- flatbuffers */

static void test_flatbuf_reader_by_hand(void **state) {
    (void)state;
    /* root -> table at 12 (vtable at 4: 8 bytes, table 12 bytes, field 0 at +4, field 1 at +8);
     * field 0 = int32 42; field 1 -> string "hi" at 24 */
    const uint8_t buf[32] = {12, 0, 0, 0, 8, 0, 12, 0, 4, 0, 8, 0, 8, 0, 0, 0,
                             42, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 'h', 'i', 0, 0};
    pl_fb_reader r;
    pl_fb_table t;
    assert_true(pl_fb_reader_init(&r, buf, sizeof buf, &t));
    assert_int_equal(pl_fb_i32(&t, 0, -1), 42);
    uint32_t n;
    const char *s = pl_fb_string_field(&t, 1, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(s, "hi", 2);
    assert_int_equal(pl_fb_i64(&t, 2, 77), 77); /* past the vtable: default */
    assert_false(r.bad);
    /* a field read with a wider type than fits in the table is refused */
    uint8_t bad[32];
    memcpy(bad, buf, sizeof bad);
    bad[8] = 10; /* field 0 at +10: an int32 there would end past the 12-byte table */
    assert_true(pl_fb_reader_init(&r, bad, sizeof bad, &t));
    assert_int_equal(pl_fb_i32(&t, 0, -1), -1);
    assert_true(r.bad);
    /* vtable before the buffer start */
    memcpy(bad, buf, sizeof bad);
    bad[12] = 100;
    assert_false(pl_fb_reader_init(&r, bad, sizeof bad, &t));
    assert_true(r.bad);
    /* string length past the end */
    memcpy(bad, buf, sizeof bad);
    bad[24] = 200;
    assert_true(pl_fb_reader_init(&r, bad, sizeof bad, &t));
    assert_null(pl_fb_string_field(&t, 1, &n));
    assert_true(r.bad);
    /* root offset past the end, short buffers */
    memcpy(bad, buf, sizeof bad);
    bad[0] = 40;
    assert_false(pl_fb_reader_init(&r, bad, sizeof bad, &t));
    assert_false(pl_fb_reader_init(&r, buf, 3, &t));
    for (size_t len = 0; len < sizeof buf; len++) { /* every truncation is refused or safe */
        if (pl_fb_reader_init(&r, buf, len, &t)) {
            (void)pl_fb_i32(&t, 0, 0);
            (void)pl_fb_string_field(&t, 1, &n);
        }
    }
}

static void test_flatbuf_builder_roundtrip(void **state) {
    (void)state;
    pl_fb_builder b;
    pl_fb_builder_init(&b);
    uint32_t s1 = pl_fb_create_string(&b, "hello", 5);
    int64_t pairs[4] = {1, -2, 3, INT64_MIN};
    uint32_t v = pl_fb_create_vec(&b, pairs, 2, 16, 8);
    pl_fb_start(&b, 2);
    pl_fb_add_i16(&b, 0, -5);
    pl_fb_add_ref(&b, 1, s1);
    uint32_t child = pl_fb_end(&b);
    uint32_t kids = pl_fb_create_ref_vec(&b, (uint32_t[]){child, child}, 2);
    pl_fb_start(&b, 6);
    pl_fb_add_u8(&b, 0, 7);
    pl_fb_add_i64(&b, 1, INT64_MAX);
    pl_fb_add_ref(&b, 2, child);
    pl_fb_add_ref(&b, 3, v);
    pl_fb_add_ref(&b, 4, kids);
    pl_fb_add_i32(&b, 5, -123456);
    uint32_t root = pl_fb_end(&b);
    assert_true(pl_fb_finish(&b, root));
    assert_int_equal(b.used % 8, 0);
    pl_fb_reader r;
    pl_fb_table t;
    assert_true(pl_fb_reader_init(&r, pl_fb_data(&b), b.used, &t));
    assert_int_equal(pl_fb_u8(&t, 0, 0), 7);
    assert_true(pl_fb_i64(&t, 1, 0) == INT64_MAX);
    assert_int_equal(pl_fb_i32(&t, 5, 0), -123456);
    /* every scalar sits at an offset that is a multiple of its size (FlatBuffers alignment) */
    pl_fb_table c = pl_fb_table_field(&t, 2);
    assert_int_equal(pl_fb_i16(&c, 0, 0), -5);
    uint32_t n;
    const char *s = pl_fb_string_field(&c, 1, &n);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "hello", 5);
    assert_int_equal(s[5], 0);
    pl_fb_vec pv = pl_fb_vec_field(&t, 3, 16);
    assert_int_equal(pv.len, 2);
    assert_int_equal(pv.pos % 8, 0);
    assert_true((int64_t)pl_load_u64le(pl_fb_vec_elem(&pv, 1, 16) + 8) == INT64_MIN);
    pl_fb_vec kv = pl_fb_vec_field(&t, 4, 4);
    assert_int_equal(kv.len, 2);
    pl_fb_table k1 = pl_fb_vec_table(&kv, 1);
    assert_int_equal(pl_fb_i16(&k1, 0, 0), -5);
    assert_false(r.bad);
    pl_fb_builder_reset(&b);
}

/* ---------------------------------------------------------------- tables of every type */

#include "polaroid/sql.h"
#include "../common/test_util.h"

static pl_table *make_table(pl_schema *s, int n_batches, const int64_t *rows) {
    pl_table *t = NULL;
    ok(pl_table_new(s, &t, E), E);
    int64_t first = 0;
    for (int k = 0; k < n_batches; k++) {
        pl_batch *b = make_batch(s, rows[k], first);
        first += rows[k];
        ok(pl_table_append(t, b, E), E);
        pl_batch_release(b);
    }
    return t;
}

static pl_status read_buf(pl_buf *buf, const pl_read_opts *o, pl_table **out, pl_error *err) {
    pl_stream *s = NULL;
    PL_TRY(pl_ipc_scan_buffer(buf, "mem.arrows", o, &s, err));
    pl_status st = pl_stream_collect(s, out, err);
    s->free(s);
    return st;
}

static void assert_tables_equal(pl_table *want, pl_table *got) {
    assert_int_equal(got->n_rows, want->n_rows);
    assert_true(pl_schema_equals(want->schema, got->schema));
    if (pl_table_equals(want, got)) return;
    pl_batch *wb = NULL, *gb = NULL;
    ok(pl_table_combine(want, &wb, E), E);
    ok(pl_table_combine(got, &gb, E), E);
    for (int32_t c = 0; c < wb->n_cols; c++)
        if (!pl_array_equals(wb->columns[c], gb->columns[c]))
            fail_msg("column \"%s\" differs after the round trip", want->schema->fields[c].name);
    fail_msg("tables differ");
}

static const pl_codec g_codecs[] = {PL_CODEC_UNCOMPRESSED, PL_CODEC_LZ4_FRAME, PL_CODEC_ZSTD};

static void test_every_type_roundtrip(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    const int64_t rows[] = {300, 1, 0, 129};
    pl_table *t = make_table(s, 4, rows);
    for (int file = 0; file < 2; file++) {
        for (size_t k = 0; k < PL_ARRAY_LEN(g_codecs); k++) {
            pl_write_opts o;
            pl_write_opts_init(&o);
            o.codec = g_codecs[k];
            pl_buf *buf = NULL;
            ok(pl_ipc_write_table_buf(t, file, &o, &buf, E), E);
            if (file) {
                assert_memory_equal(buf->data, "ARROW1\0\0", 8);
                assert_memory_equal(buf->data + buf->size - 6, "ARROW1", 6);
            } else {
                /* stream: first message is the schema behind a continuation marker; EOS last */
                assert_int_equal(pl_load_u32le(buf->data), 0xFFFFFFFFu);
                assert_int_equal(pl_load_u32le(buf->data + 4) % 8, 0);
                assert_int_equal(pl_load_u32le(buf->data + buf->size - 8), 0xFFFFFFFFu);
                assert_int_equal(pl_load_u32le(buf->data + buf->size - 4), 0);
            }
            pl_table *back = NULL;
            ok(read_buf(buf, NULL, &back, E), E);
            assert_int_equal(back->n_batches, 4);
            assert_tables_equal(t, back);
            assert_int_equal(back->schema->n_meta, 1);
            assert_string_equal(back->schema->meta_values[0], "test_ipc");
            assert_int_equal(back->schema->fields[18].nullable, false); /* t_ns */
            pl_table_release(back);
            pl_buf_release(buf);
        }
    }
    pl_table_release(t);
    pl_schema_release(s);
}

/* Intervals (Arrow month_day_nano, polaroid's own layout) go out and come back unchanged, NULLs
 * included, in both formats. */
static void test_interval_roundtrip(void **state) {
    (void)state;
    pl_session *ses = NULL;
    ok(pl_session_new(&ses, E), E);
    pl_df *df = NULL;
    ok(pl_session_query(ses, "SELECT INTERVAL '1 month 2 days 3 seconds' AS a, NULL::INTERVAL AS b "
                             "UNION ALL SELECT INTERVAL '-5 hours', INTERVAL '2 years'", &df, E), E);
    pl_table *t = NULL;
    ok(pl_df_collect(df, NULL, &t, E), E);
    assert_int_equal(t->schema->fields[0].type->id, PL_TYPE_INTERVAL);
    for (int file = 0; file < 2; file++) {
        pl_buf *buf = NULL;
        ok(pl_ipc_write_table_buf(t, file, NULL, &buf, E), E);
        pl_table *back = NULL;
        ok(read_buf(buf, NULL, &back, E), E);
        assert_int_equal(back->schema->fields[1].type->id, PL_TYPE_INTERVAL);
        assert_tables_equal(t, back);
        pl_table_release(back);
        pl_buf_release(buf);
    }
    pl_table_release(t);
    pl_df_release(df);
    pl_session_free(ses);
}

static void test_files_by_extension(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    const int64_t rows[] = {50, 70};
    pl_table *t = make_table(s, 2, rows);
    const char *exts[] = {".arrow", ".arrows", ".feather", ".ipc"};
    for (size_t k = 0; k < PL_ARRAY_LEN(exts); k++) {
        char path[256];
        snprintf(path, sizeof path, "/tmp/pl_test_ipc_%d%s", (int)getpid(), exts[k]);
        pl_stream *src = NULL;
        ok(pl_stream_from_table(t, &src, E), E);
        pl_write_opts o;
        pl_write_opts_init(&o);
        o.codec = PL_CODEC_UNCOMPRESSED;
        ok(pl_write_stream(src, path, PL_FORMAT_AUTO, &o, E), E);
        pl_stream_free(src);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char head[6];
        assert_int_equal(fread(head, 1, 6, f), 6);
        fclose(f);
        bool file_format = k == 0 || k == 2;
        assert_int_equal(memcmp(head, "ARROW1", 6) == 0, file_format);
        pl_table *back = NULL;
        const char *paths[1] = {path};
        ok(pl_read_table(1, paths, PL_FORMAT_AUTO, NULL, &back, E), E);
        assert_tables_equal(t, back);
        pl_table_release(back);
        /* two files as one stream */
        const char *two[2] = {path, path};
        ok(pl_read_table(2, two, PL_FORMAT_IPC, NULL, &back, E), E);
        assert_int_equal(back->n_rows, 2 * t->n_rows);
        pl_table_release(back);
        unlink(path);
    }
    pl_table_release(t);
    pl_schema_release(s);
}

static void test_sliced_batches(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *full = make_batch(s, 400, 17);
    const int64_t cuts[][2] = {{3, 100}, {1, 7}, {9, 0}, {64, 64}, {13, 387}, {399, 1}};
    for (size_t k = 0; k < PL_ARRAY_LEN(cuts); k++) {
        pl_batch *sl = NULL;
        ok(pl_batch_slice(full, cuts[k][0], cuts[k][1], &sl, E), E);
        pl_table *t = NULL;
        ok(pl_table_new(s, &t, E), E);
        ok(pl_table_append(t, sl, E), E);
        for (size_t c = 0; c < PL_ARRAY_LEN(g_codecs); c++) {
            pl_write_opts o;
            pl_write_opts_init(&o);
            o.codec = g_codecs[c];
            pl_buf *buf = NULL;
            ok(pl_ipc_write_table_buf(t, c == 1, &o, &buf, E), E);
            pl_table *back = NULL;
            ok(read_buf(buf, NULL, &back, E), E);
            assert_tables_equal(t, back);
            pl_table_release(back);
            pl_buf_release(buf);
        }
        pl_table_release(t);
        pl_batch_release(sl);
    }
    pl_batch_release(full);
    pl_schema_release(s);
}

static pl_batch *dict_batch(pl_schema *s, const char *const *vals, int n) {
    pl_builder *b = NULL;
    ok(pl_builder_new(s->fields[0].type, n, &b, E), E);
    for (int k = 0; k < n; k++) {
        if (!vals[k]) ok(pl_builder_append_null(b, E), E);
        else ok(pl_builder_append_bytes(b, vals[k], (int64_t)strlen(vals[k]), E), E);
    }
    pl_array *a = NULL;
    ok(pl_builder_finish(b, &a, E), E);
    pl_builder_free(b);
    pl_batch *batch = NULL;
    ok(pl_batch_new(pl_schema_retain(s), n, &a, &batch, E), E);
    return batch;
}

static void test_dictionary_changes(void **state) {
    (void)state;
    pl_type *dt = NULL;
    ok(pl_type_new_dictionary(PL_TYPE_INT8, pl_type_simple(PL_TYPE_UTF8), &dt, E), E);
    pl_field f;
    ok(pl_field_init(&f, "d", dt, true, E), E);
    pl_schema *s = NULL;
    ok(pl_schema_new(1, &f, &s, E), E);
    pl_field_reset(&f);
    pl_type_release(dt);
    const char *v1[] = {"a", "b", NULL, "a"};
    const char *v2[] = {"a", "b", "c", "c"}; /* extends {a, b}: a delta in the file format */
    const char *v3[] = {"zz", "a"};           /* a different dictionary: a replacement */
    pl_batch *b1 = dict_batch(s, v1, 4), *b2 = dict_batch(s, v2, 4), *b3 = dict_batch(s, v3, 2);
    for (int file = 0; file < 2; file++) {
        pl_table *t = NULL;
        ok(pl_table_new(s, &t, E), E);
        ok(pl_table_append(t, b1, E), E);
        ok(pl_table_append(t, b1, E), E); /* same dictionary: not repeated */
        ok(pl_table_append(t, b2, E), E);
        pl_buf *buf = NULL;
        ok(pl_ipc_write_table_buf(t, file, NULL, &buf, E), E);
        pl_table *back = NULL;
        ok(read_buf(buf, NULL, &back, E), E);
        assert_tables_equal(t, back);
        pl_table_release(back);
        pl_buf_release(buf);
        /* a different dictionary: a replacement in the stream format; in the file format the
         * new values are appended as a delta and the indices rewritten */
        ok(pl_table_append(t, b3, E), E);
        ok(pl_table_append(t, b1, E), E);
        ok(pl_ipc_write_table_buf(t, file, NULL, &buf, E), E);
        ok(read_buf(buf, NULL, &back, E), E);
        assert_tables_equal(t, back);
        if (file) { /* one unified dictionary: a, b, c, zz */
            pl_array *d = back->batches[4]->columns[0]->dictionary;
            assert_int_equal(d->length, 4);
        }
        pl_table_release(back);
        pl_buf_release(buf);
        pl_table_release(t);
    }
    /* the file format's int8 index space runs out: 200 distinct values over two batches */
    {
        const char *vals[100];
        char store[200][8];
        pl_table *t = NULL;
        ok(pl_table_new(s, &t, E), E);
        for (int part = 0; part < 2; part++) {
            for (int k = 0; k < 100; k++) {
                snprintf(store[part * 100 + k], 8, "v%d", part * 100 + k);
                vals[k] = store[part * 100 + k];
            }
            pl_batch *b = dict_batch(s, vals, 100);
            ok(pl_table_append(t, b, E), E);
            pl_batch_release(b);
        }
        pl_buf *buf = NULL;
        assert_int_equal(pl_ipc_write_table_buf(t, true, NULL, &buf, E), PL_ERR_UNSUPPORTED);
        assert_non_null(strstr(g_err.hint, "stream"));
        ok(pl_ipc_write_table_buf(t, false, NULL, &buf, E), E);
        pl_buf_release(buf);
        pl_table_release(t);
    }
    pl_batch_release(b1);
    pl_batch_release(b2);
    pl_batch_release(b3);
    pl_schema_release(s);
}

static void test_projection_limit_zero_copy(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    const int64_t rows[] = {100, 100, 100};
    pl_table *t = make_table(s, 3, rows);
    pl_buf *buf = NULL;
    ok(pl_ipc_write_table_buf(t, false, NULL, &buf, E), E);
    pl_read_opts o;
    pl_read_opts_init(&o);
    const char *cols[] = {"map", "i64", "dict"};
    o.columns = cols;
    o.n_columns = 3;
    o.limit = 150;
    pl_table *back = NULL;
    ok(read_buf(buf, &o, &back, E), E);
    assert_int_equal(back->n_rows, 150);
    assert_int_equal(back->schema->n_fields, 3);
    assert_string_equal(back->schema->fields[0].name, "map");
    pl_batch *bb = NULL, *wb = NULL, *ws = NULL;
    ok(pl_table_combine(back, &bb, E), E);
    ok(pl_table_combine(t, &wb, E), E);
    int32_t idx[3] = {pl_schema_find(s, "map"), pl_schema_find(s, "i64"), pl_schema_find(s, "dict")};
    pl_batch *sel = NULL;
    ok(pl_batch_select(wb, 3, idx, &sel, E), E);
    ok(pl_batch_slice(sel, 0, 150, &ws, E), E);
    for (int k = 0; k < 3; k++) assert_true(pl_array_equals(ws->columns[k], bb->columns[k]));
    /* the int64 values of the first batch are a view into the input buffer, which stays alive */
    const pl_array *i64 = back->batches[0]->columns[1];
    assert_true(i64->values->data >= buf->data && i64->values->data < buf->data + buf->size);
    assert_true(buf->refcount > 1);
    pl_batch_release(bb);
    pl_batch_release(wb);
    pl_batch_release(ws);
    pl_batch_release(sel);
    pl_table_release(back);
    assert_int_equal(buf->refcount, 1);
    /* unknown column */
    const char *missing[] = {"nope"};
    o.columns = missing;
    o.n_columns = 1;
    assert_int_equal(read_buf(buf, &o, &back, E), PL_ERR_NOT_FOUND);
    assert_non_null(strstr(g_err.msg, "nope"));
    pl_buf_release(buf);
    pl_table_release(t);
    pl_schema_release(s);
}

/* ---------------------------------------------------------------- hostile input */

static pl_status read_bytes(const uint8_t *p, int64_t n, pl_error *err) {
    pl_buf *b = NULL;
    PL_TRY(pl_buf_new(n + 1, &b, err));
    memcpy(b->data, p, (size_t)n);
    b->size = n;
    pl_table *t = NULL;
    pl_status st = read_buf(b, NULL, &t, err);
    pl_table_release(t);
    pl_buf_release(b);
    return st;
}

static void assert_clean_status(pl_status st) {
    if (st != PL_OK && st != PL_ERR_CORRUPT && st != PL_ERR_LIMIT && st != PL_ERR_UNSUPPORTED)
        fail_msg("unexpected status %s: %s", pl_status_name(st), g_err.msg);
}

static uint64_t g_rng = 0x243F6A8885A308D3ull;
static uint64_t rnd(void) { return test_xorshift(&g_rng); }

static void test_truncated_and_corrupt(void **state) {
    (void)state;
    pl_ipc_set_max_buffer_bytes_for_testing(1 << 24);
    pl_schema *s = every_type_schema();
    const int64_t rows[] = {40, 9};
    pl_table *t = make_table(s, 2, rows);
    for (int variant = 0; variant < 4; variant++) {
        pl_write_opts o;
        pl_write_opts_init(&o);
        o.codec = variant >= 2 ? (variant == 2 ? PL_CODEC_ZSTD : PL_CODEC_LZ4_FRAME)
                               : PL_CODEC_UNCOMPRESSED;
        bool file = variant & 1;
        pl_buf *buf = NULL;
        ok(pl_ipc_write_table_buf(t, file, &o, &buf, E), E);
        int64_t n = buf->size;
        /* every truncation: a file without its footer, a message cut short */
        for (int64_t len = 0; len < n; len += 1 + len / 64) {
            pl_error_init(E);
            pl_status st = read_bytes(buf->data, len, E);
            if (file) {
                if (st != PL_ERR_CORRUPT)
                    fail_msg("truncated to %lld: %s: %s", (long long)len, pl_status_name(st),
                             g_err.msg);
            } else {
                assert_clean_status(st);
            }
        }
        /* a stream cut inside a message body is corrupt */
        if (!file) assert_int_equal(read_bytes(buf->data, n - 20, E), PL_ERR_CORRUPT);
        /* byte flips and overwritten words */
        uint8_t *copy = pl_malloc((size_t)n);
        for (int iter = 0; iter < 3000; iter++) {
            memcpy(copy, buf->data, (size_t)n);
            int n_flips = 1 + (int)(rnd() % 3);
            for (int k = 0; k < n_flips; k++) {
                int64_t at = (int64_t)(rnd() % (uint64_t)n);
                if (rnd() % 2) copy[at] ^= (uint8_t)(1u << (rnd() % 8));
                else if (at + 4 <= n) pl_store_u32le(copy + at, (uint32_t)rnd());
            }
            pl_error_init(E);
            assert_clean_status(read_bytes(copy, n, E));
        }
        pl_free(copy);
        pl_buf_release(buf);
    }
    /* error messages name what is wrong and where */
    const uint8_t junk[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x10, 0x00};
    pl_error_init(E);
    assert_int_equal(read_bytes(junk, sizeof junk, E), PL_ERR_CORRUPT);
    assert_int_equal(g_err.byte_offset, 0);
    assert_non_null(strstr(g_err.msg, "past the end"));
    assert_string_equal(g_err.path, "mem.arrows");
    pl_ipc_set_max_buffer_bytes_for_testing(0);
    pl_table_release(t);
    pl_schema_release(s);
}

static void test_alloc_failures(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    const int64_t rows[] = {20, 5};
    pl_table *t = make_table(s, 2, rows);
    for (int variant = 0; variant < 2; variant++) {
        pl_write_opts o;
        pl_write_opts_init(&o);
        o.codec = variant ? PL_CODEC_ZSTD : PL_CODEC_UNCOMPRESSED;
        o.n_threads = 1;
        pl_buf *good = NULL;
        ok(pl_ipc_write_table_buf(t, variant, &o, &good, E), E);
        for (int64_t fail_at = 0;; fail_at++) { /* writing */
            int64_t live = pl_alloc_live_bytes();
            pl_buf *buf = NULL;
            pl_alloc_fail_after(fail_at);
            pl_status st = pl_ipc_write_table_buf(t, variant, &o, &buf, E);
            pl_alloc_fail_after(-1);
            if (st == PL_OK) {
                assert_int_equal(buf->size, good->size);
                pl_buf_release(buf);
                break;
            }
            assert_int_equal(st, PL_ERR_NOMEM);
            assert_int_equal(pl_alloc_live_bytes(), live);
        }
        pl_read_opts ro;
        pl_read_opts_init(&ro);
        ro.n_threads = 1;
        for (int64_t fail_at = 0;; fail_at++) { /* reading */
            int64_t live = pl_alloc_live_bytes();
            pl_table *back = NULL;
            pl_alloc_fail_after(fail_at);
            pl_status st = read_buf(good, &ro, &back, E);
            pl_alloc_fail_after(-1);
            if (st == PL_OK) {
                assert_tables_equal(t, back);
                pl_table_release(back);
                break;
            }
            assert_int_equal(st, PL_ERR_NOMEM);
            assert_int_equal(pl_alloc_live_bytes(), live);
        }
        pl_buf_release(good);
    }
    pl_table_release(t);
    pl_schema_release(s);
}

static void test_writer_errors(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_write_opts o;
    pl_write_opts_init(&o);
    o.codec = PL_CODEC_SNAPPY;
    pl_writer *w = NULL;
    assert_int_equal(pl_ipc_writer_open("/tmp/x.arrows", s, &o, &w, E), PL_ERR_UNSUPPORTED);
    o.codec = PL_CODEC_UNCOMPRESSED;
    assert_int_equal(pl_ipc_writer_open("/nonexistent-dir/x.arrows", s, &o, &w, E), PL_ERR_IO);
    char path[128];
    snprintf(path, sizeof path, "/tmp/pl_test_ipc_err_%d.arrows", (int)getpid());
    ok(pl_ipc_writer_open(path, s, &o, &w, E), E);
    /* a batch of another schema */
    pl_field f;
    ok(pl_field_init(&f, "other", pl_type_simple(PL_TYPE_INT32), true, E), E);
    pl_schema *s2 = NULL;
    ok(pl_schema_new(1, &f, &s2, E), E);
    pl_field_reset(&f);
    pl_batch *b2 = make_batch(s2, 3, 0);
    assert_int_equal(w->write(w, b2, E), PL_ERR_TYPE);
    pl_batch_release(b2);
    pl_schema_release(s2);
    w->free(w);
    /* a schema-only stream (finish without batches) reads back as an empty table */
    ok(pl_ipc_writer_open(path, s, &o, &w, E), E);
    ok(w->finish(w, E), E);
    pl_batch *b = make_batch(s, 2, 0);
    assert_int_equal(w->write(w, b, E), PL_ERR_INVALID_ARG);
    pl_batch_release(b);
    w->free(w);
    pl_table *back = NULL;
    const char *paths[1] = {path};
    ok(pl_read_table(1, paths, PL_FORMAT_AUTO, NULL, &back, E), E);
    assert_int_equal(back->n_rows, 0);
    assert_true(pl_schema_equals(back->schema, s));
    pl_table_release(back);
    unlink(path);
    pl_schema_release(s);
}

int main(void) {
    pl_error_init(&g_err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatbuf_reader_by_hand),
        cmocka_unit_test(test_flatbuf_builder_roundtrip),
        cmocka_unit_test(test_every_type_roundtrip),
        cmocka_unit_test(test_interval_roundtrip),
        cmocka_unit_test(test_files_by_extension),
        cmocka_unit_test(test_sliced_batches),
        cmocka_unit_test(test_dictionary_changes),
        cmocka_unit_test(test_projection_limit_zero_copy),
        cmocka_unit_test(test_truncated_and_corrupt),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
