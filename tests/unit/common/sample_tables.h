/* sample_tables.h - tables of every polaroid type (nulls, slices, nested, dictionaries) shared
 * by the round-trip tests of the IPC reader/writer and the C Data Interface, with the error
 * `E` (a pl_error *) and the `ok(expr, err)` assertion they use. Include after cmocka.h and
 * core/core.h. */
#ifndef PL_TEST_SAMPLE_TABLES_H
#define PL_TEST_SAMPLE_TABLES_H

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

#endif
