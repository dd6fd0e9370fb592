/* test_parquet_writer.c - unit tests for the Parquet writer (src/io/parquet/writer*.c,
 * thrift_write.c):
 *   - the RLE/bit-packed hybrid encoder, checked with an independent decoder written here from
 *     the Parquet spec (Encodings.md);
 *   - the Thrift compact encoder, checked against byte sequences worked out by hand from the
 *     Thrift compact protocol spec;
 *   - whole files: a table with every column type, NULLs and nested list/struct/map columns is
 *     written with every codec, the byte structure is checked ("PAR1" at both ends, footer
 *     length), and the file is read back with polaroid's reader and compared with the source;
 *   - small row groups, pages and dictionary limit (fallback to PLAIN) round-trip too;
 *   - errors: NULLs in a non-nullable column, a codec Parquet cannot hold, use after finish,
 *     an unwritable path, and allocation failures (every failure is PL_ERR_NOMEM, no leaks).
 * Interop with pyarrow/DuckDB/Polars is tested in tests/interop/test_parquet_interop.py. */
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
#include "io/parquet/thrift_write.h"
#include "io/parquet/writer_int.h"

/* ---------------------------------------------------------------- RLE hybrid (spec decoder) */

static uint64_t uvarint(const uint8_t **p, const uint8_t *end) {
    uint64_t v = 0;
    int shift = 0;
    while (*p < end) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
        shift += 7;
    }
    fail_msg("varint runs past the end");
    return 0;
}

/* Decodes n values; asserts the stream is exactly consumed (apart from final padding). */
static void spec_decode(const uint8_t *p, const uint8_t *end, int bw, uint32_t *out, int64_t n) {
    int64_t got = 0;
    while (got < n) {
        uint64_t h = uvarint(&p, end);
        if (h & 1) {
            int64_t count = (int64_t)(h >> 1) * 8;
            int64_t bytes = (count * bw) / 8;
            assert_true(bytes <= end - p);
            for (int64_t i = 0; i < count; i++) {
                uint64_t v = 0;
                for (int b = 0; b < bw; b++) {
                    int64_t bit = i * bw + b;
                    v |= (uint64_t)((p[bit / 8] >> (bit % 8)) & 1) << b;
                }
                if (got < n) out[got++] = (uint32_t)v;
            }
            p += bytes;
        } else {
            int64_t count = (int64_t)(h >> 1);
            int vb = (bw + 7) / 8;
            assert_true(vb <= end - p);
            uint32_t v = 0;
            for (int b = 0; b < vb; b++) v |= (uint32_t)p[b] << (8 * b);
            p += vb;
            assert_true(count > 0);
            assert_true(got + count <= n); /* a run never overshoots the value count */
            for (int64_t i = 0; i < count; i++) out[got++] = v;
        }
    }
    assert_ptr_equal(p, end);
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_rle_hybrid_roundtrip(void **state) {
    (void)state;
    const int64_t lengths[] = {0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 4099};
    for (int bw = 1; bw <= 32; bw++) {
        uint64_t maxv = bw == 32 ? UINT32_MAX : ((1ull << bw) - 1);
        for (size_t li = 0; li < PL_ARRAY_LEN(lengths); li++) {
            int64_t n = lengths[li];
            uint32_t *v = pl_malloc((size_t)(n + 1) * 4);
            uint32_t *back = pl_malloc((size_t)(n + 1) * 4);
            /* mix of runs and noise */
            for (int64_t i = 0; i < n;) {
                int64_t len = (int64_t)(rng() % 20) + 1;
                bool run = rng() % 2;
                uint32_t x = (uint32_t)(rng() & maxv);
                for (int64_t k = 0; k < len && i < n; k++, i++)
                    v[i] = run ? x : (uint32_t)(rng() & maxv);
            }
            pl_pqw_vec out = {0};
            pl_error err;
            pl_error_init(&err);
            assert_int_equal(pl_pqw_rle_u32(&out, v, n, bw, &err), PL_OK);
            spec_decode(out.data, out.data + out.len, bw, back, n);
            if (n) assert_memory_equal(v, back, (size_t)n * 4);
            pl_pqw_vec_free(&out);
            pl_free(v);
            pl_free(back);
        }
    }
}

static void test_rle_levels_compact(void **state) {
    (void)state;
    /* 100000 equal levels are one RLE run: header varint(100000 << 1) + one value byte */
    int64_t n = 100000;
    uint16_t *lv = pl_malloc((size_t)n * 2);
    for (int64_t i = 0; i < n; i++) lv[i] = 1;
    pl_pqw_vec out = {0};
    assert_int_equal(pl_pqw_rle_u16(&out, lv, n, 1, NULL), PL_OK);
    assert_int_equal(out.len, 3 + 1);
    uint32_t *back = pl_malloc((size_t)n * 4);
    spec_decode(out.data, out.data + out.len, 1, back, n);
    for (int64_t i = 0; i < n; i++) assert_int_equal(back[i], 1);
    pl_pqw_vec_free(&out);
    pl_free(back);
    pl_free(lv);
}

/* ---------------------------------------------------------------- thrift compact encoder */

static void test_thrift_compact_bytes(void **state) {
    (void)state;
    pl_thrift_enc e;
    pl_thrift_enc_init(&e);
    pl_thrift_enc_struct_begin(&e);
    pl_thrift_enc_field_i32(&e, 1, 3);        /* delta 1, type 5: 0x15, zigzag(3)=6 */
    pl_thrift_enc_field_i64(&e, 3, -1);       /* delta 2, type 6: 0x26, zigzag(-1)=1 */
    pl_thrift_enc_field_string(&e, 4, "ab");  /* 0x18, len 2, 'a' 'b' */
    pl_thrift_enc_field_bool(&e, 5, true);    /* 0x11 */
    pl_thrift_enc_field_bool(&e, 6, false);   /* 0x12 */
    pl_thrift_enc_field_i32(&e, 40, 300);     /* delta 34 > 15: 0x05, zigzag(40)=80, 600 */
    pl_thrift_enc_field_list_begin(&e, 41, PL_TCE_I32, 2); /* 0x19, 0x25 */
    pl_thrift_enc_list_i32(&e, 1);            /* 2 */
    pl_thrift_enc_list_i32(&e, -2);           /* 3 */
    pl_thrift_enc_field_struct_begin(&e, 42); /* 0x1c */
    pl_thrift_enc_field_i8(&e, 1, -1);        /* 0x13, 0xff */
    pl_thrift_enc_struct_end(&e);             /* 0x00 */
    pl_thrift_enc_field_list_begin(&e, 43, PL_TCE_STRUCT, 20); /* 0x19, 0xfc, 20 */
    pl_thrift_enc_struct_end(&e);             /* 0x00 */
    assert_int_equal(pl_thrift_enc_status(&e, NULL), PL_OK);
    const uint8_t want[] = {0x15, 0x06, 0x26, 0x01, 0x18, 0x02, 'a',  'b',  0x11, 0x12,
                            0x05, 0x50, 0xd8, 0x04, 0x19, 0x25, 0x02, 0x03, 0x1c, 0x13,
                            0xff, 0x00, 0x19, 0xfc, 0x14, 0x00};
    assert_int_equal(e.len, (int64_t)sizeof want);
    assert_memory_equal(e.data, want, sizeof want);
    pl_thrift_enc_reset(&e);
}

/* ---------------------------------------------------------------- table building helpers */

static void ok(pl_status st, const pl_error *err) {
    if (st != PL_OK) {
        char buf[1024];
        fail_msg("status %d: %s", (int)st, pl_error_format(err, buf, sizeof buf));
    }
}

static pl_error g_err;
#define E (&g_err)

enum { N_TYPES_COLS = 24 };

typedef struct fixture {
    int32_t n_fields;
    pl_field fields[N_TYPES_COLS];
    pl_type *types[N_TYPES_COLS];
} fixture;

static pl_type *list_of(pl_type *item, bool nullable) {
    pl_type *t = NULL;
    ok(pl_type_new_list("element", item, nullable, &t, E), E);
    return t;
}

static void add_field(fixture *fx, const char *name, pl_type *t, bool nullable) {
    assert_true(fx->n_fields < N_TYPES_COLS);
    ok(pl_field_init(&fx->fields[fx->n_fields], name, t, nullable, E), E);
    fx->types[fx->n_fields] = t;
    fx->n_fields++;
}

/* Every type the writer supports and the reader returns unchanged. */
static pl_schema *every_type_schema(void) {
    static fixture fx;
    memset(&fx, 0, sizeof fx);
    pl_type *t;
    add_field(&fx, "b", pl_type_simple(PL_TYPE_BOOL), true);
    add_field(&fx, "i8", pl_type_simple(PL_TYPE_INT8), true);
    add_field(&fx, "i16", pl_type_simple(PL_TYPE_INT16), true);
    add_field(&fx, "i32", pl_type_simple(PL_TYPE_INT32), true);
    add_field(&fx, "i64", pl_type_simple(PL_TYPE_INT64), false);
    add_field(&fx, "u8", pl_type_simple(PL_TYPE_UINT8), true);
    add_field(&fx, "u16", pl_type_simple(PL_TYPE_UINT16), true);
    add_field(&fx, "u32", pl_type_simple(PL_TYPE_UINT32), true);
    add_field(&fx, "u64", pl_type_simple(PL_TYPE_UINT64), true);
    add_field(&fx, "f32", pl_type_simple(PL_TYPE_FLOAT32), true);
    add_field(&fx, "f64", pl_type_simple(PL_TYPE_FLOAT64), true);
    ok(pl_type_new_decimal(7, 2, &t, E), E);
    add_field(&fx, "dec7", t, true);
    ok(pl_type_new_decimal(18, 4, &t, E), E);
    add_field(&fx, "dec18", t, true);
    ok(pl_type_new_decimal(38, 6, &t, E), E);
    add_field(&fx, "dec38", t, true);
    add_field(&fx, "s", pl_type_simple(PL_TYPE_UTF8), true);
    add_field(&fx, "bin", pl_type_simple(PL_TYPE_BINARY), true);
    ok(pl_type_new_fixed_binary(3, &t, E), E);
    add_field(&fx, "fsb", t, true);
    add_field(&fx, "date", pl_type_simple(PL_TYPE_DATE32), true);
    ok(pl_type_new_time64(PL_UNIT_US, &t, E), E);
    add_field(&fx, "time", t, true);
    ok(pl_type_new_timestamp(PL_UNIT_NS, "UTC", &t, E), E);
    add_field(&fx, "ts", t, true);
    add_field(&fx, "list", list_of(pl_type_simple(PL_TYPE_INT32), true), true);
    pl_field sf[2];
    ok(pl_field_init(&sf[0], "x", pl_type_simple(PL_TYPE_INT64), true, E), E);
    ok(pl_field_init(&sf[1], "y", pl_type_simple(PL_TYPE_UTF8), true, E), E);
    ok(pl_type_new_struct(2, sf, &t, E), E);
    pl_field_reset(&sf[0]);
    pl_field_reset(&sf[1]);
    add_field(&fx, "st", t, true);
    ok(pl_type_new_map(pl_type_simple(PL_TYPE_UTF8), pl_type_simple(PL_TYPE_INT32), true, &t, E),
       E);
    add_field(&fx, "map", t, true);
    pl_type *inner = list_of(pl_type_simple(PL_TYPE_UTF8), true);
    add_field(&fx, "list_list", list_of(inner, false), true);
    pl_type_release(inner);
    pl_schema *s = NULL;
    ok(pl_schema_new(fx.n_fields, fx.fields, &s, E), E);
    for (int32_t i = 0; i < fx.n_fields; i++) {
        pl_field_reset(&fx.fields[i]);
        pl_type_release(fx.types[i]);
    }
    return s;
}

static void append_value(pl_builder *b, const pl_type *t, bool nullable, int64_t row, int col,
                         pl_error *err) {
    char buf[64];
    uint64_t r = (uint64_t)row * 2654435761u + (uint64_t)col * 97;
    bool null = (row + col) % 7 == 3;
    if (null && nullable) {
        ok(pl_builder_append_null(b, err), err);
        return;
    }
    switch (t->id) {
    case PL_TYPE_BOOL: ok(pl_builder_append_bool(b, r % 3 == 0, err), err); break;
    case PL_TYPE_INT8: ok(pl_builder_append_i64(b, (int8_t)r, err), err); break;
    case PL_TYPE_INT16: ok(pl_builder_append_i64(b, (int16_t)r, err), err); break;
    case PL_TYPE_INT32: ok(pl_builder_append_i64(b, (int32_t)r, err), err); break;
    case PL_TYPE_INT64: ok(pl_builder_append_i64(b, (int64_t)(r * r) - (int64_t)row, err), err); break;
    case PL_TYPE_UINT8: ok(pl_builder_append_i64(b, (uint8_t)r, err), err); break;
    case PL_TYPE_UINT16: ok(pl_builder_append_i64(b, (uint16_t)r, err), err); break;
    case PL_TYPE_UINT32: ok(pl_builder_append_i64(b, (uint32_t)r, err), err); break;
    case PL_TYPE_UINT64: ok(pl_builder_append_i64(b, (int64_t)(r * 0x9E3779B97F4A7C15ull), err), err); break;
    case PL_TYPE_FLOAT32:
    case PL_TYPE_FLOAT64: ok(pl_builder_append_f64(b, (double)(int64_t)r / 8.0 - 1e6, err), err); break;
    case PL_TYPE_DECIMAL128: {
        int64_t v = (int64_t)(r % 9999999) * (row % 2 ? -1 : 1);
        ok(pl_builder_append_decimal(b, (uint64_t)v, v < 0 ? -1 : 0, err), err);
        break;
    }
    case PL_TYPE_UTF8:
    case PL_TYPE_BINARY: {
        int n = snprintf(buf, sizeof buf, "v%llu", (unsigned long long)(r % 37));
        ok(pl_builder_append_bytes(b, buf, row % 11 == 0 ? 0 : n, err), err);
        break;
    }
    case PL_TYPE_FIXED_BINARY: {
        uint8_t x[3] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)row};
        ok(pl_builder_append_bytes(b, x, 3, err), err);
        break;
    }
    case PL_TYPE_DATE32: ok(pl_builder_append_i64(b, (int32_t)(r % 100000) - 50000, err), err); break;
    case PL_TYPE_TIME64: ok(pl_builder_append_i64(b, (int64_t)(r % 86400000000ull), err), err); break;
    case PL_TYPE_TIMESTAMP: ok(pl_builder_append_i64(b, (int64_t)r * 1000003, err), err); break;
    case PL_TYPE_LIST: {
        pl_builder *c = pl_builder_child(b, 0);
        for (int k = 0; k < (int)(r % 4); k++)
            append_value(c, t->children[0].type, t->children[0].nullable, row + k, col + 1, err);
        ok(pl_builder_append_valid(b, err), err);
        break;
    }
    case PL_TYPE_STRUCT:
        for (int32_t k = 0; k < t->n_children; k++)
            append_value(pl_builder_child(b, k), t->children[k].type, t->children[k].nullable, row,
                         col + k + 1, err);
        ok(pl_builder_append_valid(b, err), err);
        break;
    case PL_TYPE_MAP: {
        pl_builder *entries = pl_builder_child(b, 0);
        for (int k = 0; k < (int)(r % 3); k++) {
            int n = snprintf(buf, sizeof buf, "k%d", k);
            ok(pl_builder_append_bytes(pl_builder_child(entries, 0), buf, n, err), err);
            append_value(pl_builder_child(entries, 1), pl_type_simple(PL_TYPE_INT32), true,
                         row + k, col, err);
            ok(pl_builder_append_valid(entries, err), err);
        }
        ok(pl_builder_append_valid(b, err), err);
        break;
    }
    default: fail_msg("unexpected type %d", (int)t->id);
    }
}

static pl_batch *make_batch(pl_schema *s, int64_t n_rows, int64_t first_row) {
    pl_array **cols = pl_calloc((size_t)s->n_fields, sizeof *cols);
    for (int32_t c = 0; c < s->n_fields; c++) {
        pl_builder *b = NULL;
        ok(pl_builder_new(s->fields[c].type, n_rows, &b, E), E);
        for (int64_t r = 0; r < n_rows; r++)
            append_value(b, s->fields[c].type, s->fields[c].nullable, first_row + r, c, E);
        ok(pl_builder_finish(b, &cols[c], E), E);
        pl_builder_free(b);
    }
    pl_batch *batch = NULL;
    ok(pl_batch_new(pl_schema_retain(s), n_rows, cols, &batch, E), E);
    pl_free(cols);
    return batch;
}

static char *temp_path(void) {
    static int counter;
    char *p = pl_malloc(256);
    snprintf(p, 256, "/tmp/pl_test_pqw_%d_%d.parquet", (int)getpid(), counter++);
    return p;
}

static pl_status write_batches(const char *path, pl_schema *s, pl_batch **batches, int n,
                               const pl_write_opts *o, pl_error *err) {
    pl_writer *w = NULL;
    PL_TRY(pl_pq_writer_open(path, s, o, &w, err));
    pl_status st = PL_OK;
    for (int i = 0; i < n && st == PL_OK; i++) st = w->write(w, batches[i], err);
    if (st == PL_OK) st = w->finish(w, err);
    w->free(w);
    return st;
}

static void check_structure(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    assert_true(size > 12);
    uint8_t head[4], tail[8];
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(head, 1, 4, f), 4);
    fseek(f, size - 8, SEEK_SET);
    assert_int_equal(fread(tail, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(head, "PAR1", 4);
    assert_memory_equal(tail + 4, "PAR1", 4);
    uint32_t footer = pl_load_u32le(tail);
    assert_true(footer > 0 && (long)footer <= size - 12);
}

/* Reads the file back with polaroid's reader and compares each column with the source. */
static void check_read_back(const char *path, pl_schema *s, pl_batch **batches, int n) {
    pl_table *want = NULL, *got = NULL;
    ok(pl_table_new(s, &want, E), E);
    for (int i = 0; i < n; i++) ok(pl_table_append(want, batches[i], E), E);
    const char *paths[1] = {path};
    ok(pl_read_table(1, paths, PL_FORMAT_PARQUET, NULL, &got, E), E);
    assert_int_equal(got->n_rows, want->n_rows);
    assert_int_equal(got->schema->n_fields, s->n_fields);
    if (want->n_rows > 0) {
        pl_batch *wb = NULL, *gb = NULL;
        ok(pl_table_combine(want, &wb, E), E);
        ok(pl_table_combine(got, &gb, E), E);
        for (int32_t c = 0; c < s->n_fields; c++) {
            assert_string_equal(got->schema->fields[c].name, s->fields[c].name);
            if (!pl_array_equals(wb->columns[c], gb->columns[c]))
                fail_msg("column \"%s\" differs after the round trip", s->fields[c].name);
        }
        pl_batch_release(wb);
        pl_batch_release(gb);
    }
    pl_table_release(want);
    pl_table_release(got);
}

static void test_every_type_every_codec(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *batches[2] = {make_batch(s, 700, 0), make_batch(s, 333, 700)};
    const pl_codec codecs[] = {PL_CODEC_ZSTD,    PL_CODEC_SNAPPY, PL_CODEC_GZIP,
                               PL_CODEC_LZ4_RAW, PL_CODEC_BROTLI, PL_CODEC_UNCOMPRESSED,
                               PL_CODEC_LZ4_HADOOP};
    for (size_t k = 0; k < PL_ARRAY_LEN(codecs); k++) {
        pl_write_opts o;
        pl_write_opts_init(&o);
        o.codec = codecs[k];
        char *path = temp_path();
        ok(write_batches(path, s, batches, 2, &o, E), E);
        check_structure(path);
        check_read_back(path, s, batches, 2);
        unlink(path);
        pl_free(path);
    }
    pl_batch_release(batches[0]);
    pl_batch_release(batches[1]);
    pl_schema_release(s);
}

static void test_small_row_groups_pages_and_dict_fallback(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *whole[2] = {make_batch(s, 250, 0), make_batch(s, 640, 251)};
    /* sliced batches: arrays with a non-zero offset (nested children addressed through it) */
    pl_batch *batches[3] = {NULL, make_batch(s, 1, 250), NULL};
    ok(pl_batch_slice(whole[0], 17, 200, &batches[0], E), E);
    ok(pl_batch_slice(whole[1], 5, 600, &batches[2], E), E);
    pl_batch_release(whole[0]);
    pl_batch_release(whole[1]);
    const int64_t dict_limits[] = {64, 1 << 20};
    for (size_t k = 0; k < PL_ARRAY_LEN(dict_limits); k++) {
        pl_write_opts o;
        pl_write_opts_init(&o);
        o.row_group_rows = 97;
        o.page_bytes = 200;
        o.dict_max_bytes = dict_limits[k];
        o.use_dictionary = true;
        char *path = temp_path();
        ok(write_batches(path, s, batches, 3, &o, E), E);
        check_structure(path);
        check_read_back(path, s, batches, 3);
        unlink(path);
        pl_free(path);
    }
    /* no dictionary, no statistics */
    pl_write_opts o;
    pl_write_opts_init(&o);
    o.use_dictionary = false;
    o.write_statistics = false;
    char *path = temp_path();
    ok(write_batches(path, s, batches, 3, &o, E), E);
    check_read_back(path, s, batches, 3);
    unlink(path);
    pl_free(path);
    for (int i = 0; i < 3; i++) pl_batch_release(batches[i]);
    pl_schema_release(s);
}

static void test_dictionary_column_and_empty_file(void **state) {
    (void)state;
    /* a DICTIONARY column is written as its values */
    pl_type *dt = NULL;
    ok(pl_type_new_dictionary(PL_TYPE_INT32, pl_type_simple(PL_TYPE_UTF8), &dt, E), E);
    pl_field f;
    ok(pl_field_init(&f, "d", dt, true, E), E);
    pl_schema *s = NULL;
    ok(pl_schema_new(1, &f, &s, E), E);
    pl_field_reset(&f);
    pl_builder *b = NULL;
    ok(pl_builder_new(dt, 10, &b, E), E);
    const char *words[] = {"red", "green", "blue"};
    for (int i = 0; i < 500; i++) {
        if (i % 9 == 4) ok(pl_builder_append_null(b, E), E);
        else ok(pl_builder_append_bytes(b, words[i % 3], (int64_t)strlen(words[i % 3]), E), E);
    }
    pl_array *col = NULL;
    ok(pl_builder_finish(b, &col, E), E);
    pl_builder_free(b);
    pl_batch *batch = NULL;
    ok(pl_batch_new(pl_schema_retain(s), 500, &col, &batch, E), E);
    char *path = temp_path();
    ok(write_batches(path, s, &batch, 1, NULL, E), E);
    pl_table *got = NULL;
    const char *paths[1] = {path};
    ok(pl_read_table(1, paths, PL_FORMAT_PARQUET, NULL, &got, E), E);
    pl_batch *gb = NULL;
    ok(pl_table_combine(got, &gb, E), E);
    assert_true(pl_array_equals(batch->columns[0], gb->columns[0]));
    pl_batch_release(gb);
    pl_table_release(got);
    unlink(path);
    pl_free(path);
    /* no batches at all: a valid file with zero row groups */
    path = temp_path();
    ok(write_batches(path, s, NULL, 0, NULL, E), E);
    check_structure(path);
    const char *paths2[1] = {path};
    ok(pl_read_table(1, paths2, PL_FORMAT_PARQUET, NULL, &got, E), E);
    assert_int_equal(got->n_rows, 0);
    pl_table_release(got);
    unlink(path);
    pl_free(path);
    pl_batch_release(batch);
    pl_schema_release(s);
    pl_type_release(dt);
}

static void test_errors(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *batch = make_batch(s, 50, 0);
    pl_error err;
    pl_writer *w = NULL;
    /* LZ4 frame is an IPC codec, not a Parquet one */
    pl_write_opts o;
    pl_write_opts_init(&o);
    o.codec = PL_CODEC_LZ4_FRAME;
    pl_error_init(&err);
    assert_int_equal(pl_pq_writer_open("/tmp/pl_never_written.parquet", s, &o, &w, &err),
                     PL_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "lz4_frame"));
    /* a directory that does not exist */
    pl_error_init(&err);
    assert_int_not_equal(pl_pq_writer_open("/nonexistent-dir/x.parquet", s, NULL, &w, &err),
                         PL_OK);
    assert_string_equal(err.path, "/nonexistent-dir/x.parquet");
    /* NULLs in a non-nullable column */
    pl_field f;
    ok(pl_field_init(&f, "req", pl_type_simple(PL_TYPE_INT32), false, E), E);
    pl_schema *rs = NULL;
    ok(pl_schema_new(1, &f, &rs, E), E);
    pl_field_reset(&f);
    pl_builder *b = NULL;
    ok(pl_builder_new(pl_type_simple(PL_TYPE_INT32), 4, &b, E), E);
    ok(pl_builder_append_i64(b, 1, E), E);
    ok(pl_builder_append_null(b, E), E);
    pl_array *col = NULL;
    ok(pl_builder_finish(b, &col, E), E);
    pl_builder_free(b);
    pl_batch *rb = NULL;
    ok(pl_batch_new(pl_schema_retain(rs), 2, &col, &rb, E), E);
    char *path = temp_path();
    pl_error_init(&err);
    assert_int_equal(write_batches(path, rs, &rb, 1, NULL, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "non-nullable"));
    assert_int_equal(err.column, 0);
    assert_string_equal(err.column_name, "req");
    assert_int_equal(err.row_group, 0);
    /* write after finish */
    ok(pl_pq_writer_open(path, s, NULL, &w, E), E);
    ok(w->write(w, batch, E), E);
    ok(w->finish(w, E), E);
    pl_error_init(&err);
    assert_int_equal(w->write(w, batch, &err), PL_ERR_INVALID_ARG);
    w->free(w);
    /* a batch of another schema */
    ok(pl_pq_writer_open(path, s, NULL, &w, E), E);
    pl_error_init(&err);
    assert_int_equal(w->write(w, rb, &err), PL_ERR_TYPE);
    w->free(w);
    unlink(path);
    pl_free(path);
    pl_batch_release(rb);
    pl_schema_release(rs);
    pl_batch_release(batch);
    pl_schema_release(s);
}

static void test_out_of_memory(void **state) {
    (void)state;
    pl_schema *s = every_type_schema();
    pl_batch *batch = make_batch(s, 120, 0);
    char *path = temp_path();
    pl_write_opts o;
    pl_write_opts_init(&o);
    o.row_group_rows = 50;
    o.n_threads = 1;
    for (int64_t n = 0;; n++) {
        pl_error err;
        pl_error_init(&err);
        pl_alloc_fail_after(n);
        pl_status st = write_batches(path, s, &batch, 1, &o, &err);
        pl_alloc_fail_after(-1);
        if (st == PL_OK) break;
        if (st != PL_ERR_NOMEM) fail_msg("allocation %lld: status %d (%s)", (long long)n, (int)st, err.msg);
        assert_true(n < 100000);
    }
    check_structure(path);
    unlink(path);
    pl_free(path);
    pl_batch_release(batch);
    pl_schema_release(s);
}

int main(void) {
    pl_error_init(&g_err);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rle_hybrid_roundtrip),
        cmocka_unit_test(test_rle_levels_compact),
        cmocka_unit_test(test_thrift_compact_bytes),
        cmocka_unit_test(test_every_type_every_codec),
        cmocka_unit_test(test_small_row_groups_pages_and_dict_fallback),
        cmocka_unit_test(test_dictionary_column_and_empty_file),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
