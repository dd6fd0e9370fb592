/* fuzz_thrift.c - libFuzzer target for the Parquet reader's Thrift compact-protocol decoding
 * (src/io/parquet/thrift.c, metadata.c, schema.c): the input is decoded as a FileMetaData (and,
 * when that succeeds, mapped to a polaroid schema with typed statistics) and as a PageHeader.
 * Any input must give PL_OK or a pl_error, never a crash, leak or out-of-bounds read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/parquet/pq_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* exact-size copy so ASan catches reads past the end */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    pl_pq_arena arena = {0};
    pl_pq_metadata md;
    memset(&md, 0, sizeof md);
    pl_error err;
    pl_error_init(&err);
    if (pl_pq_metadata_decode(copy, (int64_t)size, 0, &arena, &md, &err) == PL_OK) {
        pl_pq_schema_tree tree;
        if (pl_pq_schema_build(&md, &arena, &tree, &err) == PL_OK) {
            char buf[256];
            for (int32_t r = 0; r < md.n_row_groups; r++)
                for (int32_t c = 0; c < md.row_groups[r].n_columns && c < md.n_leaves; c++) {
                    pl_pq_value v;
                    const pl_pq_stats *st = &md.row_groups[r].columns[c].stats;
                    if (pl_pq_stats_value(&md, c, st, false, &v))
                        pl_pq_value_format(&md, c, &v, buf, sizeof buf);
                    if (pl_pq_stats_value(&md, c, st, true, &v))
                        pl_pq_value_format(&md, c, &v, buf, sizeof buf);
                }
            pl_pq_schema_tree_reset(&tree);
        }
    }
    pl_pq_arena_free(&arena);
    pl_pq_page_header h;
    int64_t hlen;
    pl_error_init(&err);
    (void)pl_pq_page_header_decode(copy, (int64_t)size, 0, &h, &hlen, &err);
    free(copy);
    return 0;
}
