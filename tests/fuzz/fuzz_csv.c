/* fuzz_csv.c - libFuzzer target for the CSV reader (src/io/csv/csv_read.c) and the text
 * renderers. The first input byte picks options (header given or sniffed, delimiter, sample size,
 * limit, ignore_errors, a file name column, a dateformat; the high bits also pick the chunk size); the
 * rest is the CSV text. Every batch is rendered in PLAIN and JSON style. The input is parsed
 * as one chunk, in tiny chunks (parallel and sequential) and gzip-compressed in tiny windows,
 * and the results must be equal; a limit and a projection must keep the rows and columns
 * (text_reader.h). Bad input must yield a pl_error. */
#include "io/csv/csv.h"
#include "text_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    pl_read_opts o;
    pl_read_opts_init(&o);
    o.csv_header = (flags & 1) ? 0 : (flags & 0x20) ? -1 : 1; /* -1: sniffed */
    o.csv_ignore_errors = (flags & 0x40) != 0;
    o.csv_filename = (flags & 0x80) ? "filename" : NULL;
    o.csv_date_format = (flags & 0x10) ? "%d/%m/%Y" : NULL;
    o.csv_delimiter = (flags & 2) ? ';' : ',';
    o.csv_sample_rows = (flags & 4) ? 2 : 0;
    o.limit = (flags & 8) ? 3 : -1;
    o.n_threads = 2;
    check_chunking(data, size, pl_csv_scan_buffer, pl_csv_set_chunk_bytes_for_testing, &o,
                   1 + (flags >> 4));
    return 0;
}
