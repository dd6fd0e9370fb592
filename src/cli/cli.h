/* cli.h - shared pieces of the polaroid subcommands: option parsing, error reporting, exit
 * codes. Exit codes: 0 success, 1 an error (rendered with pl_error_format), 2 a usage error. */
#ifndef PL_CLI_H
#define PL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "polaroid/io.h"

#define PL_EXIT_OK 0
#define PL_EXIT_ERROR 1
#define PL_EXIT_USAGE 2
#define PL_VERSION_STRING "0.1.0"

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
/* Prints "polaroid CMD: message" and a hint to use --help; returns PL_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) PL_PRINTF(2, 3);
/* Prints "polaroid: <rendered error>"; returns PL_EXIT_ERROR. */
int cli_report(const pl_error *err);
/* Parses a non-negative integer with an optional k/M/G suffix; false if malformed. */
bool cli_parse_count(const char *s, int64_t *out);
/* Splits "a,b,c" into a NULL-terminated vector of strings (free with cli_free_list). */
char **cli_split_list(const char *s, int32_t *n);
void cli_free_list(char **v, int32_t n);
/* Applies --threads: must run before anything uses the pool. */
int cli_apply_threads(const char *cmd, const char *value);
/* Wraps a stream so that it yields at most limit rows (limit < 0: unchanged). Takes s. */
pl_status cli_limit_stream(pl_stream *s, int64_t limit, pl_stream **out, pl_error *err);

int cmd_cat(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_convert(int argc, char **argv);

#endif
