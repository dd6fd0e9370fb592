/* rusage_exec.c - runs a command and reports its wall time and peak RSS exactly.
 *
 *   rusage_exec OUTFILE PROGRAM [ARGS...]
 *
 * Forks, execs PROGRAM in the child, waits for it with wait4 and writes one line to OUTFILE:
 * "<maxrss KiB> <wall ns> <exit code or -signal>". Exits with 0 when the measurement worked (the
 * command's own status is in OUTFILE), 127 when PROGRAM could not be started.
 *
 * Why not measure from the Python harness directly: Linux carries the high-water RSS of the
 * address space a process had before execve into its ru_maxrss, and Python's subprocess starts
 * children with vfork, so every child would report at least the harness's own RSS. This launcher
 * is tiny, so the floor it leaves is about 1 MiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rusage_exec OUTFILE PROGRAM [ARGS...]\n");
        return 2;
    }
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("rusage_exec: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        fprintf(stderr, "rusage_exec: cannot run %s: ", argv[2]);
        perror("");
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    pid_t w;
    do {
        w = wait4(pid, &status, 0, &ru);
    } while (w < 0 && errno == EINTR);
    long long wall = now_ns() - t0;
    if (w < 0) {
        perror("rusage_exec: wait4");
        return 127;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("rusage_exec: OUTFILE");
        return 127;
    }
    fprintf(f, "%ld %lld %d\n", ru.ru_maxrss, wall, code);
    fclose(f);
    return code == 127 ? 127 : 0;
}
