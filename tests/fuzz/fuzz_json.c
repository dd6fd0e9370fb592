/* fuzz_json.c - libFuzzer target for the JSON reader (src/io/json/json_read.c) and the text
 * renderers. The first input byte picks options (format auto/newline-delimited/array, records
 * auto/false, sample size, limit); the rest is the JSON text. Every batch is rendered in PLAIN
 * and JSON style. The input is parsed as one chunk, in tiny chunks (parallel and sequential) and
 * gzip-compressed in tiny windows, and the results must be equal; a limit and a projection must
 * keep the rows and columns (text_reader.h). Bad input must yield a pl_error. */
#include "io/json/json.h"
#include "text_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.json_format = (flags & 3) == 3 ? PL_JSON_AUTO : (int32_t)(flags & 3);
    o.json_records = (flags & 4) ? 0 : -1;
    o.json_sample_rows = (flags & 8) ? 2 : 0;
    o.limit = (flags & 16) ? 3 : -1;
    o.n_threads = 2;
    check_chunking(data, size, pl_json_scan_buffer, pl_json_set_chunk_bytes_for_testing, &o,
                   1 + (flags >> 5));
    return 0;
}
