/* cat.c - `polaroid cat` and `polaroid convert`: stream the rows of one or more files into a
 * writer (table, CSV, JSON lines, Parquet, Arrow IPC) or, with --format none, materialise them
 * in memory and print the row count. Only table and none output hold the whole result. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "core/core.h"
#include "io/codecs/codec.h"

static const char *const g_cat_help =
    "usage: polaroid cat FILE... [options]\n"
    "\n"
    "Reads Parquet, CSV or Arrow IPC files (format from the extension; quote globs such as\n"
    "'data/*.parquet' to let polaroid expand them) as one table and prints or writes its rows.\n"
    "\n"
    "options:\n"
    "  --columns a,b       read only these columns, in this order\n"
    "  --limit N           at most N rows\n"
    "  --format F          table (default), csv, json (JSON lines), parquet, arrow, or none\n"
    "                      (read everything into memory and print only the row count)\n"
    "  -o, --output OUT    write to OUT instead of standard output ('-' = stdout)\n"
    "  --compression C     for parquet/arrow output: zstd, snappy, gzip, lz4, brotli, none\n"
    "  --row-group-size N  for parquet output: rows per row group\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --delimiter C       CSV input field delimiter (default ',', or tab for .tsv)\n"
    "  --no-header         CSV input has no header row\n"
    "  --from F            input format when the extension does not tell (parquet, csv, arrow)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Text output: NULL is an empty field in csv, null in json and NULL in table output;\n"
    "timestamps print as 2024-01-02 09:30:00.123456 (zoned ones in UTC with +00).\n";

static const char *const g_convert_help =
    "usage: polaroid convert IN... OUT [options]\n"
    "\n"
    "Converts files between Parquet, CSV, JSON lines (output only) and Arrow IPC, streaming\n"
    "batch by batch. Formats come from the extensions (.parquet, .csv, .tsv, .json/.jsonl,\n"
    ".arrow/.arrows/.ipc/.feather).\n"
    "\n"
    "options:\n"
    "  --from F            input format (parquet, csv, arrow)\n"
    "  --to F              output format (parquet, csv, json, arrow)\n"
    "  --columns a,b       keep only these columns\n"
    "  --limit N           at most N rows\n"
    "  --compression C     zstd (parquet default), snappy, gzip, lz4, brotli, none\n"
    "  --row-group-size N  parquet rows per row group (default 1048576)\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --delimiter C       CSV input field delimiter\n"
    "  --no-header         CSV input has no header row\n"
    "  -h, --help          show this help\n";

typedef struct copy_job {
    const char *cmd;
    char **inputs;
    int32_t n_inputs;
    const char *output; /* NULL = stdout */
    pl_format in_format, out_format;
    bool count_only;
    int64_t limit;
    char **columns;
    int32_t n_columns;
    pl_read_opts ropts;
    pl_write_opts wopts;
} copy_job;

static int parse_codec(const char *cmd, const char *v, pl_write_opts *w) {
    if (!strcasecmp(v, "none") || !strcasecmp(v, "uncompressed")) w->codec = PL_CODEC_UNCOMPRESSED;
    else if (!strcasecmp(v, "zstd")) w->codec = PL_CODEC_ZSTD;
    else if (!strcasecmp(v, "snappy")) w->codec = PL_CODEC_SNAPPY;
    else if (!strcasecmp(v, "gzip")) w->codec = PL_CODEC_GZIP;
    else if (!strcasecmp(v, "lz4") || !strcasecmp(v, "lz4_raw")) w->codec = PL_CODEC_LZ4_RAW;
    else if (!strcasecmp(v, "brotli")) w->codec = PL_CODEC_BROTLI;
    else return cli_usage_error(cmd, "unknown compression \"%s\"", v);
    return PL_EXIT_OK;
}

static int run_copy(copy_job *j) {
    pl_error err;
    pl_error_init(&err);
    pl_stream *s = NULL;
    if (j->columns) {
        j->ropts.columns = (const char *const *)j->columns;
        j->ropts.n_columns = j->n_columns;
    }
    j->ropts.limit = j->limit;
    if (pl_scan_open(j->n_inputs, (const char *const *)j->inputs, j->in_format, &j->ropts, &s, &err))
        return cli_report(&err);
    if (cli_limit_stream(s, j->limit, &s, &err)) return cli_report(&err);
    int rc = PL_EXIT_OK;
    if (j->count_only) {
        pl_table *t = NULL;
        if (pl_stream_collect(s, &t, &err)) rc = cli_report(&err);
        else printf("%lld rows\n", (long long)t->n_rows);
        pl_table_release(t);
    } else if (pl_write_stream(s, j->output, j->out_format, &j->wopts, &err)) {
        rc = cli_report(&err);
    }
    pl_stream_free(s);
    if (rc == PL_EXIT_OK && fflush(stdout) != 0) {
        fprintf(stderr, "polaroid: cannot write to standard output\n");
        rc = PL_EXIT_ERROR;
    }
    return rc;
}

/* Parses the options shared by cat and convert; positional arguments are collected into
 * pos[]. Returns -1 to continue, else an exit code. */
static int parse_common(cli_args *a, copy_job *j, const char *help, char **pos, int32_t *n_pos) {
    while (a->i < a->argc) {
        const char *v = NULL;
        int r;
        const char *arg = a->argv[a->i];
        if (cli_take_flag(a, "-h|--help")) {
            fputs(help, stdout);
            return PL_EXIT_OK;
        }
        if (cli_take_flag(a, "--no-header")) {
            j->ropts.csv_header = 0;
            continue;
        }
        if ((r = cli_take_value(a, "--columns", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            cli_free_list(j->columns, j->n_columns);
            j->columns = cli_split_list(v, &j->n_columns);
            if (!j->columns || j->n_columns == 0) return cli_usage_error(j->cmd, "--columns needs column names");
            continue;
        }
        if ((r = cli_take_value(a, "--limit", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_count(v, &j->limit)) return cli_usage_error(j->cmd, "--limit takes a row count, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--threads", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (cli_apply_threads(j->cmd, v)) return PL_EXIT_USAGE;
            int64_t n = atoll(v);
            j->ropts.n_threads = (int32_t)n;
            j->wopts.n_threads = (int32_t)n;
            continue;
        }
        if ((r = cli_take_value(a, "--compression", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (parse_codec(j->cmd, v, &j->wopts)) return PL_EXIT_USAGE;
            continue;
        }
        if ((r = cli_take_value(a, "--row-group-size", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_count(v, &j->wopts.row_group_rows) || j->wopts.row_group_rows == 0)
                return cli_usage_error(j->cmd, "--row-group-size takes a positive row count, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--delimiter", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!strcmp(v, "\\t") || !strcmp(v, "tab")) j->ropts.csv_delimiter = '\t';
            else if (strlen(v) == 1) j->ropts.csv_delimiter = v[0];
            else return cli_usage_error(j->cmd, "--delimiter takes one character, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--from", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            j->in_format = pl_format_from_name(v);
            if (j->in_format == PL_FORMAT_AUTO || j->in_format == PL_FORMAT_JSON || j->in_format == PL_FORMAT_TABLE)
                return cli_usage_error(j->cmd, "cannot read format \"%s\" (parquet, csv, arrow)", v);
            continue;
        }
        if ((r = cli_take_value(a, "--to|--format", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!strcasecmp(v, "none")) {
                j->count_only = true;
            } else {
                j->count_only = false;
                j->out_format = pl_format_from_name(v);
                if (j->out_format == PL_FORMAT_AUTO)
                    return cli_usage_error(j->cmd, "unknown format \"%s\" (table, csv, json, parquet, arrow, none)", v);
            }
            continue;
        }
        if ((r = cli_take_value(a, "-o|--output", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            j->output = strcmp(v, "-") ? v : NULL;
            continue;
        }
        if (arg[0] == '-' && arg[1] != 0) return cli_usage_error(j->cmd, "unknown option \"%s\"", arg);
        pos[(*n_pos)++] = a->argv[a->i++];
    }
    return -1;
}

static void job_init(copy_job *j, const char *cmd) {
    memset(j, 0, sizeof *j);
    j->cmd = cmd;
    j->limit = -1;
    pl_read_opts_init(&j->ropts);
    pl_write_opts_init(&j->wopts);
}

int cmd_cat(int argc, char **argv) {
    copy_job j;
    job_init(&j, "cat");
    cli_args a = {argc, argv, 1, "cat"};
    char **pos = pl_calloc((size_t)argc + 1, sizeof(char *));
    int32_t n_pos = 0;
    if (!pos) return PL_EXIT_ERROR;
    j.out_format = PL_FORMAT_AUTO;
    int rc = parse_common(&a, &j, g_cat_help, pos, &n_pos);
    if (rc < 0) {
        if (n_pos == 0) {
            rc = cli_usage_error("cat", "no input file given");
        } else {
            j.inputs = pos;
            j.n_inputs = n_pos;
            if (j.out_format == PL_FORMAT_AUTO)
                j.out_format = j.output ? pl_format_from_path(j.output) : PL_FORMAT_TABLE;
            if (j.out_format == PL_FORMAT_AUTO) j.out_format = PL_FORMAT_TABLE;
            /* IPC output defaults to uncompressed buffers, as Arrow's writers do */
            if (j.out_format == PL_FORMAT_IPC && j.wopts.codec == PL_CODEC_ZSTD) j.wopts.codec = PL_CODEC_UNCOMPRESSED;
            rc = run_copy(&j);
        }
    }
    cli_free_list(j.columns, j.n_columns);
    pl_free(pos);
    return rc;
}

int cmd_convert(int argc, char **argv) {
    copy_job j;
    job_init(&j, "convert");
    cli_args a = {argc, argv, 1, "convert"};
    char **pos = pl_calloc((size_t)argc + 1, sizeof(char *));
    int32_t n_pos = 0;
    if (!pos) return PL_EXIT_ERROR;
    bool explicit_codec = false;
    for (int i = 1; i < argc; i++) explicit_codec |= !strncmp(argv[i], "--compression", 13);
    int rc = parse_common(&a, &j, g_convert_help, pos, &n_pos);
    if (rc < 0) {
        if (n_pos < 2) {
            rc = cli_usage_error("convert", "expected input file(s) and an output file");
        } else if (j.count_only) {
            rc = cli_usage_error("convert", "--to none is not an output format");
        } else {
            j.inputs = pos;
            j.n_inputs = n_pos - 1;
            j.output = pos[n_pos - 1];
            if (j.out_format == PL_FORMAT_AUTO) j.out_format = pl_format_from_path(j.output);
            if (j.out_format == PL_FORMAT_AUTO || j.out_format == PL_FORMAT_TABLE) {
                rc = cli_usage_error("convert", "cannot tell the output format of \"%s\" (use --to)", j.output);
            } else {
                if (j.out_format == PL_FORMAT_IPC && !explicit_codec) j.wopts.codec = PL_CODEC_UNCOMPRESSED;
                rc = run_copy(&j);
            }
        }
    }
    cli_free_list(j.columns, j.n_columns);
    pl_free(pos);
    return rc;
}
