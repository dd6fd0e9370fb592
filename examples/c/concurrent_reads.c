/* concurrent_reads.c - every tick file read and aggregated at once, one thread per file; each
 * thread's outcome is a value (status + table, or status + error), gathered in order, so one
 * bad file does not stop the others (a missing path is added on purpose).
 *
 *   build/examples/concurrent_reads                          # embedded engine on data/sample
 *   build/examples/concurrent_reads --server localhost:50051 # through polaroid serve
 */
#include <pthread.h>
#include <stdio.h>

#include "common.h"

typedef struct read_job {
    ex_ctx *x;
    const char *path;
    pthread_t thread;
    /* the outcome, like a Result: st == PL_OK -> table, else err */
    pl_status st;
    pl_table *table;
    pl_error err;
} read_job;

static void *read_one(void *arg) {
    read_job *j = arg;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT symbol) AS symbols, count(*) AS n, avg(price) AS avg_price, "
             "sum(size) AS volume FROM read_parquet('%s')", j->path);
    pl_error_init(&j->err);
    j->st = ex_query(j->x, sql, &j->table, &j->err);
    return NULL;
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 1};
    ex_parse_args(&x, argc, argv, "usage: concurrent_reads [options]");
    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    int n = x.n_files + 1;
    read_job jobs[EX_MAX_FILES + 1] = {0};
    double t0 = ex_now();
    for (int i = 0; i < n; i++) {
        jobs[i].x = &x;
        jobs[i].path = i < x.n_files ? x.files[i] : "ticks/does-not-exist.parquet";
        if (pthread_create(&jobs[i].thread, NULL, read_one, &jobs[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    }
    int ok = 0;
    for (int i = 0; i < n; i++) { /* in order, whatever order they finish in */
        pthread_join(jobs[i].thread, NULL);
        read_job *j = &jobs[i];
        if (j->st == PL_OK) {
            ok++;
            printf("%s: %.0f symbols, %.0f rows, avg price %.4f, volume %.0f\n", j->path,
                   ex_table_num(j->table, 0, 0), ex_table_num(j->table, 1, 0),
                   ex_table_num(j->table, 2, 0), ex_table_num(j->table, 3, 0));
        } else {
            char buf[700];
            printf("%s: error: %s\n", j->path, ex_error_text(&j->err, buf, sizeof buf));
        }
        pl_table_release(j->table);
    }
    printf("%d/%d files in %.2f s (%s, %d threads)\n", ok, n, ex_now() - t0,
           ex_backend_name(&x), n);
    ex_close(&x);
    return ok == x.n_files ? 0 : 1;
}
