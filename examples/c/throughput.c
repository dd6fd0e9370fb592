/* throughput.c - a closed loop of small queries from --concurrency threads for --seconds: each
 * thread sends its next query when the last one has returned; queries per second and the
 * p50/p99 latency over all of them.
 *
 *   build/examples/throughput --concurrency 8 --seconds 5 [--server ADDR]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

typedef struct loop {
    ex_ctx *x;
    int i;
    double stop_at;
    pthread_t thread;
    double *lat; /* seconds per query */
    long n, cap, errors;
} loop;

static void *run_loop(void *arg) {
    loop *l = arg;
    char sql[512];
    /* a small query: one symbol's trade count and last price in one file */
    snprintf(sql, sizeof sql,
             "SELECT count(*) AS n, max(price) AS hi FROM read_parquet('%s') WHERE price > 100 "
             "AND size < 100", l->x->files[l->i % l->x->n_files]);
    while (ex_now() < l->stop_at) {
        double t0 = ex_now();
        pl_table *t = NULL;
        pl_error err;
        pl_error_init(&err);
        if (ex_query(l->x, sql, &t, &err) != PL_OK) {
            if (l->errors++ == 0) ex_print_error("query", &err);
        }
        pl_table_release(t);
        if (l->n == l->cap) {
            long cap = l->cap ? l->cap * 2 : 1024;
            double *p = realloc(l->lat, (size_t)cap * sizeof *p);
            if (!p) break;
            l->lat = p;
            l->cap = cap;
        }
        l->lat[l->n++] = ex_now() - t0;
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 8, .seconds = 5};
    ex_parse_args(&x, argc, argv, "usage: throughput [--concurrency N] [--seconds S] [options]");
    if (x.quick && x.seconds > 1) x.seconds = 1;
    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    loop *loops = calloc((size_t)x.concurrency, sizeof *loops);
    if (!loops) return 1;
    double t0 = ex_now();
    for (int i = 0; i < x.concurrency; i++) {
        loops[i] = (loop){.x = &x, .i = i, .stop_at = t0 + x.seconds};
        if (pthread_create(&loops[i].thread, NULL, run_loop, &loops[i]) != 0) return 1;
    }
    long n = 0, errors = 0;
    for (int i = 0; i < x.concurrency; i++) {
        pthread_join(loops[i].thread, NULL);
        n += loops[i].n;
        errors += loops[i].errors;
    }
    double dt = ex_now() - t0;
    double *all = malloc((size_t)(n ? n : 1) * sizeof *all);
    if (!all) return 1;
    long k = 0;
    for (int i = 0; i < x.concurrency; i++) {
        for (long j = 0; j < loops[i].n; j++) all[k++] = loops[i].lat[j];
        free(loops[i].lat);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_double);
    long i99 = (long)(n * 0.99) < n ? (long)(n * 0.99) : n - 1;
    double p50 = n ? all[n / 2] : 0, p99 = n ? all[i99] : 0;
    printf("%.0f QPS from %d threads: %ld queries in %.2f s, p50 %.2f ms, p99 %.2f ms, %ld errors "
           "(%s)\n", n / dt, x.concurrency, n, dt, p50 * 1e3, p99 * 1e3, errors,
           ex_backend_name(&x));
    free(all);
    free(loops);
    ex_close(&x);
    return errors == 0 && n > 0 ? 0 : 1;
}
