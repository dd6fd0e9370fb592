/* cat.c - `polaroid cat FILE...`: streams the rows of one or more files (globs allowed) into a
 * writer (table, CSV, JSON lines, Parquet, Arrow IPC) on stdout or -o OUT, or with --format
 * none materialises them in memory and prints the row count. The work is the copy job in
 * common.c; this file holds the command's help and its defaults. */
#include <string.h>

#include "cli.h"
#include "core/core.h"

static const char *const g_cat_help =
    "usage: polaroid cat FILE... [options]\n"
    "\n"
    "Reads Parquet, CSV or Arrow IPC files (format from the extension, else from the first\n"
    "bytes, or --from; quote globs such as 'data/*.parquet' to let polaroid expand them) as\n"
    "one table and prints or writes its rows. FILE '-' is standard input (Parquet and Arrow\n"
    "are recognised by their first bytes; CSV needs --from csv). CSV files may be compressed\n"
    "whole (.csv.gz, .csv.zst, .tsv.gz).\n"
    "\n"
    "options:\n"
    "  --columns a,b       read only these columns, in this order\n"
    "  --limit N           at most N rows (suffixes k, M, G)\n"
    "  --format F          table (default), csv, json (JSON lines), parquet, arrow, or none\n"
    "                      (read everything into memory and print only the row count);\n"
    "                      with -o OUT and no --format, the format of OUT's extension\n"
    "  -o, --output OUT    write to OUT instead of standard output ('-' = stdout)\n"
    "  --compression C     parquet output: zstd (default), snappy, gzip, lz4, brotli, none;\n"
    "                      arrow output: none (default), zstd, lz4\n"
    "  --row-group-size N  for parquet output: rows per row group\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --delimiter C       CSV input field delimiter (default: sniffed among , | ; tab)\n"
    "  --no-header         CSV input has no header row\n"
    "  --from F            input format when the extension does not tell (parquet, csv, json, arrow)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Text output: NULL is an empty field in csv, null in json and NULL in table output;\n"
    "timestamps print as 2024-01-02 09:30:00.123456 (zoned ones in UTC with +00).\n"
    "Exit status: 0 ok, 1 error, 2 usage error.\n";

int cmd_cat(int argc, char **argv) {
    cli_copy_job j;
    cli_copy_init(&j, "cat");
    cli_args a = {argc, argv, 1, "cat"};
    char **pos = pl_calloc((size_t)argc + 1, sizeof(char *));
    int32_t n_pos = 0;
    if (!pos) {
        fprintf(stderr, "polaroid: out of memory\n");
        return PL_EXIT_ERROR;
    }
    int rc = cli_copy_parse(&a, &j, g_cat_help, pos, &n_pos);
    if (rc < 0) {
        if (n_pos == 0) {
            rc = cli_usage_error("cat", "no input file given");
        } else {
            j.inputs = pos;
            j.n_inputs = n_pos;
            if (j.out_format == PL_FORMAT_AUTO && !j.count_only && j.output)
                j.out_format = pl_format_from_path(j.output);
            if (j.out_format == PL_FORMAT_AUTO) j.out_format = PL_FORMAT_TABLE;
            rc = cli_copy_run(&j);
        }
    }
    cli_copy_free(&j);
    pl_free(pos);
    return rc;
}
