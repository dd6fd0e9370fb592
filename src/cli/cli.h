/* cli.h - shared pieces of the polaroid subcommands (cat.c, schema.c, convert.c, sql.c): option
 * parsing, error reporting, exit codes, input format detection and the copy job that cat and
 * convert both run (scan -> optional limit -> writer).
 * Exit codes: 0 success, 1 an error (rendered with pl_error_format), 2 a usage error. */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "polaroid/io.h"

#define PL_EXIT_OK 0
#define PL_EXIT_ERROR 1
#define PL_EXIT_USAGE 2
#define PL_VERSION_STRING "0.1.0"
/* --threads accepts 1..PL_CLI_MAX_THREADS */
#define PL_CLI_MAX_THREADS 1024
/* bytes read from a file to recognise its format when the extension does not tell */
#define PL_CLI_SNIFF_BYTES 8
/* room for the name of the temporary file that holds standard input ("-") */
#define PL_CLI_TMP_PATH_MAX 4096
/* bytes copied per read when spooling standard input */
#define PL_CLI_SPOOL_CHUNK (1 << 16)
/* room for a rendered pl_error (message, hint, path and context) */
#define PL_CLI_ERROR_TEXT_MAX 1400

/* An argument cursor over argv: options may be written "--name value" or "--name=value". */
typedef struct cli_args {
    int argc;
    char **argv;
    int i;
    const char *cmd; /* subcommand name for messages */
} cli_args;

/* If argv[i] is the option `name` (or one of its aliases, separated by '|', e.g. "-o|--output"),
 * consumes it and its value into *value and returns 1; returns 0 if it is another argument, and
 * -1 (after printing a usage error) if the value is missing. */
int cli_take_value(cli_args *a, const char *names, const char **value);
/* Same for a flag without a value. */
bool cli_take_flag(cli_args *a, const char *names);
/* Prints "polaroid CMD: message" and a one-line hint to use --help; returns PL_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) PL_PRINTF(2, 3);
/* Prints "polaroid: <rendered error>" on stderr; returns PL_EXIT_ERROR. */
int cli_report(const pl_error *err);
/* Parses a non-negative integer with an optional k/M/G suffix; false if malformed. */
bool cli_parse_count(const char *s, int64_t *out);
/* Parses a size in bytes: "4G", "512MiB", "1.5GB", "1000000" (k/M/G/T decimal, KiB/MiB/GiB/TiB
 * binary, case-insensitive, an optional "B"); at least 1 byte; false if malformed. */
bool cli_parse_size(const char *s, int64_t *out);
/* Splits "a,b,c" into a NULL-terminated vector of strings (free with cli_free_list). */
char **cli_split_list(const char *s, int32_t *n);
void cli_free_list(char **v, int32_t n);
/* Applies --threads (must run before anything uses the pool); *n gets the count. Returns
 * PL_EXIT_OK or PL_EXIT_USAGE (after printing the usage error). */
int cli_apply_threads(const char *cmd, const char *value, int32_t *n);
/* Parses --format: a writer format name, or "none" (*count_only). Returns PL_EXIT_OK or
 * PL_EXIT_USAGE (after printing the usage error). */
int cli_parse_format(const char *cmd, const char *value, pl_format *format, bool *count_only);
/* Prints a schema's fields, one per line: "  name  type[ not null]". */
void cli_print_fields(const pl_schema *s);
/* Wraps a stream so that it yields at most limit rows (limit < 0: unchanged). Takes s. */
pl_status cli_limit_stream(pl_stream *s, int64_t limit, pl_stream **out, pl_error *err);
/* The input format of paths (globs allowed): the extension of the first path, else its first
 * bytes ("PAR1"/"PARE" Parquet, "ARROW1" or an IPC continuation marker: Arrow IPC). Errors:
 * PL_ERR_NOT_FOUND / PL_ERR_IO (cannot open), PL_ERR_INVALID_ARG (cannot tell). */
pl_status cli_detect_format(int32_t n_paths, const char *const *paths, pl_format *out,
                            pl_error *err);

/* ---------------------------------------------------------------- cat / convert */

typedef struct cli_copy_job {
    const char *cmd;
    char **inputs;
    int32_t n_inputs;
    const char *output; /* NULL = stdout */
    pl_format in_format, out_format;
    bool count_only; /* --format none */
    bool codec_set;  /* --compression given */
    bool output_set; /* -o given */
    int64_t limit;   /* -1 = all */
    char **columns;
    int32_t n_columns;
    pl_read_opts ropts;
    pl_write_opts wopts;
} cli_copy_job;

void cli_copy_init(cli_copy_job *j, const char *cmd);
void cli_copy_free(cli_copy_job *j);
/* Parses the options shared by cat and convert; positional arguments are appended to pos[]
 * (room for argc entries). Returns -1 to continue, else an exit code (PL_EXIT_OK after --help
 * printed `help`, PL_EXIT_USAGE after a usage error). */
int cli_copy_parse(cli_args *a, cli_copy_job *j, const char *help, char **pos, int32_t *n_pos);
/* Runs the job: detect the input format, scan, limit, write (or count). An input "-" is standard
 * input, copied to a temporary file first (removed afterwards). When the output is a file and the
 * job fails, the partial file is removed. Returns an exit code. */
int cli_copy_run(cli_copy_job *j);

int cmd_cat(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_sql(int argc, char **argv);
int cmd_serve(int argc, char **argv);
/* The light executable (PL_CLI_LIGHT, src/cli/light/full.c): whether argv (main's) needs the
 * gRPC build, and replacing the process with polaroid-full next to this executable (returns
 * only on failure, PL_EXIT_ERROR after a message). */
bool cli_needs_full(int argc, char **argv);
int cli_exec_full(int argc, char **argv);

#endif
