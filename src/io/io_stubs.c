/* io_stubs.c - weak fallbacks for the per-format entry points of io_int.h, so the library
 * links while a format is absent from the build. A real implementation overrides each; the
 * binaries link the object files, not the archive, so the override is guaranteed there. Users
 * of libpolaroid.a get the real ones because every format is compiled in. */
#include "core/core.h"
#include "io/io_int.h"

#define PL_STUB_SCAN(fn, what)                                                                     \
    __attribute__((weak)) pl_status fn(int32_t n_paths, const char *const *paths,                  \
                                       const pl_read_opts *opts, pl_stream **out, pl_error *err) { \
        (void)n_paths; (void)paths; (void)opts; (void)out;                                         \
        PL_FAIL(err, PL_ERR_UNSUPPORTED, what " is not built into this polaroid");                 \
    }
#define PL_STUB_WRITER(fn, what)                                                                   \
    __attribute__((weak)) pl_status fn(const char *path, pl_schema *schema,                        \
                                       const pl_write_opts *opts, pl_writer **out, pl_error *err) { \
        (void)path; (void)schema; (void)opts; (void)out;                                           \
        PL_FAIL(err, PL_ERR_UNSUPPORTED, what " is not built into this polaroid");                 \
    }

PL_STUB_SCAN(pl_pq_scan_open, "the parquet reader")
PL_STUB_SCAN(pl_csv_scan_open, "the csv reader")
PL_STUB_SCAN(pl_ipc_scan_open, "the arrow ipc reader")
PL_STUB_WRITER(pl_pq_writer_open, "the parquet writer")
PL_STUB_WRITER(pl_csv_writer_open, "the csv writer")
PL_STUB_WRITER(pl_json_writer_open, "the json writer")
PL_STUB_WRITER(pl_ipc_writer_open, "the arrow ipc writer")
PL_STUB_WRITER(pl_table_writer_open, "the table writer")
