/* fuzz_parquet.c - libFuzzer target for whole Parquet files (src/io/parquet/): the input is
 * opened from memory and every row group is decoded (all columns, then the first column alone
 * with a row limit), and column statistics are rendered. Bad files must give a pl_error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/parquet/pq_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
            if (pl_pq_read_row_group(f, r, 0, NULL, &o, &b, &err) == PL_OK) pl_batch_release(b);
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
