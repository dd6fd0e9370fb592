/* fuzz_parquet.c - libFuzzer target for whole Parquet files (src/io/parquet/): the input is
 * opened from memory and every row group is decoded (all columns, then the first column alone
 * with a row limit), and column statistics are rendered. Bad files must give a pl_error.
 * Round-trip oracle: a row group that decodes is written with polaroid's Parquet writer to a
 * temp file and read back; the columns must be equal (pl_array_equals: types, nulls, values,
 * floats bitwise with all NaNs equal). Every type the reader produces maps back to itself
 * (writer_schema.c); the writer refusing a type is fine. Not checked: decimal values beyond their
 * precision (only a corrupt file holds them; the writer keeps the low bytes of the physical
 * width), so a mismatch in a column with a decimal inside is tolerated. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/parquet/pq_int.h"
#include "polaroid/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_decimal(const pl_type *t) {
    if (t->id == PL_TYPE_DECIMAL128) return true;
    for (int32_t i = 0; i < t->n_children; i++)
        if (has_decimal(t->children[i].type)) return true;
    return false;
}

/* Writes b to a temp file (writer options varied by `salt`), reads it back, compares. */
static void round_trip(pl_batch *b, uint32_t salt) {
    char path[] = "/tmp/fuzz_parquet_rt_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    close(fd);
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    wo.n_threads = 1;
    wo.codec = (salt & 1) ? PL_CODEC_UNCOMPRESSED : PL_CODEC_SNAPPY;
    wo.use_dictionary = (salt & 2) != 0;
    wo.page_bytes = (salt & 4) ? 64 : 0;   /* many small pages or the default */
    wo.row_group_rows = (salt & 8) ? 3 : 0; /* several row groups or one */
    pl_error err;
    pl_error_init(&err);
    pl_writer *w;
    if (pl_writer_open(path, PL_FORMAT_PARQUET, b->schema, &wo, &w, &err) != PL_OK) {
        unlink(path);
        return; /* a type the writer refuses */
    }
    pl_status st = pl_writer_write(w, b, &err);
    if (st == PL_OK) st = pl_writer_finish(w, &err);
    pl_writer_free(w);
    if (st != PL_OK) { /* the writer may refuse values (e.g. too large); never crash */
        unlink(path);
        return;
    }
    pl_pq_file *f;
    pl_error_init(&err);
    if (pl_pq_file_open(path, &f, &err) != PL_OK) {
        fprintf(stderr, "round trip: written file does not open: %s\n", err.msg);
        abort();
    }
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    pl_pq_read_opts o;
    pl_pq_read_opts_init(&o);
    o.n_threads = 1;
    int64_t row = 0;
    for (int32_t r = 0; r < md->n_row_groups; r++) {
        pl_batch *back;
        pl_error_init(&err);
        if (pl_pq_read_row_group(f, r, 0, NULL, &o, &back, &err) != PL_OK) {
            fprintf(stderr, "round trip: row group %d does not read back: %s\n", (int)r, err.msg);
            abort();
        }
        if (back->n_cols != b->n_cols || row + back->n_rows > b->n_rows) {
            fprintf(stderr, "round trip: shape differs\n");
            abort();
        }
        for (int32_t c = 0; c < b->n_cols; c++) {
            pl_array *orig;
            pl_error_init(&err);
            if (pl_array_slice(b->columns[c], row, back->n_rows, &orig, &err) != PL_OK) abort();
            bool eq = pl_array_equals(orig, back->columns[c]);
            pl_array_release(orig);
            if (!eq && !has_decimal(b->columns[c]->type)) {
                char t1[128], t2[128];
                fprintf(stderr, "round trip: column %d (%s -> %s) differs in rows %lld..%lld\n",
                        (int)c, pl_type_to_string(b->columns[c]->type, t1, sizeof t1),
                        pl_type_to_string(back->columns[c]->type, t2, sizeof t2),
                        (long long)row, (long long)(row + back->n_rows));
                abort();
            }
        }
        row += back->n_rows;
        pl_batch_release(back);
    }
    if (row != b->n_rows) {
        fprintf(stderr, "round trip: %lld rows written, %lld read back\n", (long long)b->n_rows,
                (long long)row);
        abort();
    }
    pl_pq_file_close(f);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    pl_pq_file *f;
    pl_error err;
    pl_error_init(&err);
    if (pl_pq_file_open_memory(copy, (int64_t)size, "fuzz.parquet", &f, &err) == PL_OK) {
        const pl_pq_metadata *md = pl_pq_file_metadata(f);
        pl_pq_read_opts o;
        pl_pq_read_opts_init(&o);
        o.n_threads = 1;
        for (int32_t r = 0; r < md->n_row_groups && r < 8; r++) {
            pl_batch *b;
            pl_error_init(&err);
            if (pl_pq_read_row_group(f, r, 0, NULL, &o, &b, &err) == PL_OK) {
                if (r < 2) round_trip(b, (uint32_t)size + (uint32_t)r);
                pl_batch_release(b);
            }
            if (pl_pq_file_schema(f)->n_fields > 0) {
                int32_t col = 0;
                pl_pq_read_opts lim = o;
                lim.max_rows = 3;
                lim.keep_dictionary = true;
                pl_error_init(&err);
                if (pl_pq_read_row_group(f, r, 1, &col, &lim, &b, &err) == PL_OK)
                    pl_batch_release(b);
            }
        }
        pl_pq_file_close(f);
    }
    free(copy);
    return 0;
}
