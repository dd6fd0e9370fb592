/* convert.c - `polaroid convert IN... OUT`: converts files between Parquet, CSV, JSON lines
 * (output only) and Arrow IPC, streaming batch by batch through the copy job in common.c.
 * Formats come from the extensions (IN also from its first bytes); --from/--to override. */
#include <string.h>

#include "cli.h"
#include "core/core.h"

static const char *const g_convert_help =
    "usage: polaroid convert IN... OUT [options]\n"
    "\n"
    "Converts files between Parquet, CSV, JSON (read: newline-delimited or an array; written\n"
    "as JSON lines) and Arrow IPC, streaming batch by batch. Formats come from the extensions\n"
    "(.parquet, .csv, .tsv, .json/.jsonl/.ndjson, .arrow/.arrows/.ipc/.feather); several\n"
    "inputs (or a quoted glob) become one output.\n"
    "OUT may also be given as -o OUT, and '-' is standard output (then --to is needed);\n"
    "IN '-' is standard input.\n"
    "A failed conversion removes OUT. CSV inputs may be compressed whole (.csv.gz, .csv.zst).\n"
    "\n"
    "options:\n"
    "  -o, --output OUT    the output file (instead of the last argument)\n"
    "  --from F            input format (parquet, csv, json, arrow)\n"
    "  --to F              output format (parquet, csv, json, arrow)\n"
    "  --columns a,b       keep only these columns\n"
    "  --limit N           at most N rows\n"
    "  --compression C     parquet output: zstd (default), snappy, gzip, lz4, brotli, none;\n"
    "                      arrow output: none (default), zstd, lz4\n"
    "  --row-group-size N  parquet rows per row group (default 1048576)\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --delimiter C       CSV input field delimiter\n"
    "  --no-header         CSV input has no header row\n"
    "  -h, --help          show this help\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

int cmd_convert(int argc, char **argv) {
    cli_copy_job j;
    cli_copy_init(&j, "convert");
    cli_args a = {argc, argv, 1, "convert"};
    char **pos = pl_calloc((size_t)argc + 1, sizeof(char *));
    int32_t n_pos = 0;
    if (!pos) {
        fprintf(stderr, "polaroid: out of memory\n");
        return PL_EXIT_ERROR;
    }
    int rc = cli_copy_parse(&a, &j, g_convert_help, pos, &n_pos);
    if (rc < 0) {
        /* OUT is the last argument, or -o OUT */
        int32_t n_in = j.output_set ? n_pos : n_pos - 1;
        const char *out = j.output_set ? (j.output ? j.output : "-") : (n_pos ? pos[n_pos - 1] : NULL);
        if (n_in < 1) {
            rc = cli_usage_error("convert", "expected input file(s) and an output file");
        } else if (j.count_only) {
            rc = cli_usage_error("convert", "\"none\" is not an output format");
        } else {
            j.inputs = pos;
            j.n_inputs = n_in;
            j.output = strcmp(out, "-") ? out : NULL;
            if (j.out_format == PL_FORMAT_AUTO && j.output) j.out_format = pl_format_from_path(j.output);
            if (j.out_format == PL_FORMAT_AUTO || j.out_format == PL_FORMAT_TABLE) {
                rc = cli_usage_error("convert", "cannot tell the output format of \"%s\" (use --to)", out);
            } else {
                rc = cli_copy_run(&j);
            }
        }
    }
    cli_copy_free(&j);
    pl_free(pos);
    return rc;
}
