/* main.c - the polaroid command: dispatches to one file per subcommand (cat.c, schema.c,
 * convert.c, sql.c, serve.c). */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const g_usage =
    "usage: polaroid <command> [options]\n"
    "\n"
    "commands:\n"
    "  cat FILE...       print or convert the rows of Parquet, CSV or Arrow IPC files\n"
    "  schema FILE       show a file's schema (and for Parquet: row groups, encodings,\n"
    "                    compression and statistics)\n"
    "  convert IN OUT    convert between formats (chosen by file extension)\n"
    "  sql [SQL]         run SQL over files and session tables (-f FILE; no SQL: a shell)\n"
    "  serve             serve the engine over gRPC (polaroid.v1) to many clients\n"
    "  help [COMMAND]    show help for a command\n"
    "\n"
    "options:\n"
    "  -h, --help        show this help\n"
    "  --version         show the version\n"
    "\n"
    "Run 'polaroid COMMAND --help' for a command's options.\n";

int main(int argc, char **argv) {
    /* Morsel-sized column buffers (128 KiB - 1 MiB) come from glibc malloc. By default glibc
     * returns freed memory at the top of the heap to the OS and maps large blocks afresh, so
     * every morsel pays page faults again (measured 10x slower on `i32 + 1`). Keep freed
     * memory for reuse instead: a process-wide policy, so the program sets it, not the
     * library. Blocks of 1 MiB and more use polaroid's own mappings (src/core/alloc.c). */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#ifdef PL_CLI_LIGHT
    if (cli_needs_full(argc, argv)) return cli_exec_full(argc, argv);
#endif
    static char help_flag[] = "--help";
    char *help_argv[3] = {NULL, help_flag, NULL};
    if (argc < 2) {
        fputs(g_usage, stderr);
        return PL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(g_usage, stdout);
        return PL_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("polaroid %s\n", PL_VERSION_STRING);
        return PL_EXIT_OK;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) {
            fputs(g_usage, stdout);
            return PL_EXIT_OK;
        }
        help_argv[0] = argv[2];
        argv = help_argv;
        argc = 2;
        cmd = argv[0];
    } else {
        argv++;
        argc--;
    }
    if (!strcmp(cmd, "cat")) return cmd_cat(argc, argv);
    if (!strcmp(cmd, "schema")) return cmd_schema(argc, argv);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc, argv);
    if (!strcmp(cmd, "sql")) return cmd_sql(argc, argv);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc, argv);
    fprintf(stderr, "polaroid: unknown command \"%s\"\n(see 'polaroid --help')\n", cmd);
    return PL_EXIT_USAGE;
}
