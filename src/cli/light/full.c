/* full.c - the pieces of the light `polaroid` executable that stand in for the gRPC parts.
 *
 * `polaroid` is built twice from src/cli: `polaroid-full` links the server and client
 * (src/server, the gRPC C core and its ~40 shared libraries); `polaroid` (PL_CLI_LIGHT) links
 * the engine only. Loading and relocating gRPC's libraries cost ~5.7 ms of CPU and ~300 page
 * faults per process (`polaroid sql "SELECT 1"`: 8.1 -> 2.3 ms task-clock), a tenth of a short
 * query. The light executable runs cat, schema, convert and local sql itself and replaces itself
 * (execv: same process id, same arguments) with polaroid-full, found next to it, for the commands
 * that need gRPC: `serve`, `sql --server`, and their help. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "polaroid/client.h"

bool cli_needs_full(int argc, char **argv) {
    if (argc < 2) return false;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) return true;
    if (!strcmp(cmd, "help")) return argc >= 3 && !strcmp(argv[2], "serve");
    if (strcmp(cmd, "sql") != 0) return false;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--")) break;
        if (!strcmp(argv[i], "--server") || !strncmp(argv[i], "--server=", 9)) return true;
    }
    return false;
}

int cli_exec_full(int argc, char **argv) {
    (void)argc;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "polaroid: cannot find its own executable (/proc/self/exe: %s)\n",
                strerror(errno));
        return PL_EXIT_ERROR;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    size_t dir = slash ? (size_t)(slash - self) + 1 : 0;
    static const char k_full[] = "polaroid-full";
    if (dir + sizeof k_full > sizeof self) {
        fprintf(stderr, "polaroid: executable path too long: %s\n", self);
        return PL_EXIT_ERROR;
    }
    memcpy(self + dir, k_full, sizeof k_full);
    execv(self, argv);
    fprintf(stderr,
            "polaroid: '%s' needs the gRPC build of polaroid, %s, which could not be run: %s\n",
            argv[1], self, strerror(errno));
    return PL_EXIT_ERROR;
}

/* Never reached in the light executable (main hands these commands to polaroid-full). */
int cmd_serve(int argc, char **argv) { return cli_exec_full(argc, argv); }

void pl_client_opts_init(pl_client_opts *o) { memset(o, 0, sizeof *o); }

pl_status pl_client_connect_opts(const char *target, const pl_client_opts *o, pl_client **out,
                                 pl_error *err) {
    (void)o;
    (void)out;
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "this polaroid executable has no gRPC client (%s): run "
            "polaroid-full", target);
}

void pl_client_close(pl_client *c) { (void)c; }

pl_status pl_client_sql(pl_client *c, const char *sql, pl_stream **out, pl_error *err) {
    (void)c;
    (void)sql;
    (void)out;
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "this polaroid executable has no gRPC client: run "
            "polaroid-full");
}
