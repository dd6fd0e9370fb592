/* backpressure_semaphore.c - many tasks, bounded concurrency: --tasks threads each want to run a
 * query, a counting semaphore lets at most --concurrency of them run at a time (the others
 * wait in sem_wait), and the peak number in flight is measured to show the bound holds.
 *
 *   build/examples/backpressure_semaphore --tasks 100 --concurrency 10 [--server ADDR]
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"

static sem_t slots;          /* --concurrency permits */
static int in_flight, peak;  /* updated atomically */
static int errors;

typedef struct task {
    ex_ctx *x;
    int i;
    pthread_t thread;
} task;

static void *run_task(void *arg) {
    task *t = arg;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT symbol, max(price) AS hi, min(price) AS lo FROM read_parquet('%s') "
             "GROUP BY symbol", t->x->files[t->i % t->x->n_files]);
    sem_wait(&slots); /* acquire a permit: blocks while --concurrency queries are running */
    int now = __atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    int p = __atomic_load_n(&peak, __ATOMIC_SEQ_CST);
    while (now > p && !__atomic_compare_exchange_n(&peak, &p, now, false, __ATOMIC_SEQ_CST,
                                                   __ATOMIC_SEQ_CST)) {
    }
    pl_table *tab = NULL;
    pl_error err;
    pl_error_init(&err);
    if (ex_query(t->x, sql, &tab, &err) != PL_OK) {
        __atomic_add_fetch(&errors, 1, __ATOMIC_SEQ_CST);
        ex_print_error(t->x->files[t->i % t->x->n_files], &err);
    }
    pl_table_release(tab);
    __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    sem_post(&slots); /* release the permit */
    return NULL;
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 10, .tasks = 100};
    ex_parse_args(&x, argc, argv,
                  "usage: backpressure_semaphore [--tasks N] [--concurrency N] [options]");
    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    sem_init(&slots, 0, (unsigned)x.concurrency);
    task *tasks = calloc((size_t)x.tasks, sizeof *tasks);
    if (!tasks) return 1;
    double t0 = ex_now();
    int started = 0;
    for (; started < x.tasks; started++) {
        tasks[started] = (task){.x = &x, .i = started};
        if (pthread_create(&tasks[started].thread, NULL, run_task, &tasks[started]) != 0) {
            fprintf(stderr, "pthread_create failed after %d threads\n", started);
            break;
        }
    }
    for (int i = 0; i < started; i++) pthread_join(tasks[i].thread, NULL);
    double dt = ex_now() - t0;
    printf("%d tasks, concurrency=%d: peak %d in flight, %d errors, %.2f s (%.0f queries/s; %s)\n",
           started, x.concurrency, peak, errors, dt, started / dt, ex_backend_name(&x));
    free(tasks);
    sem_destroy(&slots);
    ex_close(&x);
    return errors == 0 && started == x.tasks && peak <= x.concurrency ? 0 : 1;
}
