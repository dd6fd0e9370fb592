/* graceful_shutdown.c - workers run queries in a loop until SIGINT/SIGTERM (or --seconds); then
 * no new query starts, the queries in flight may finish for --drain seconds (default 5), the
 * rest are cancelled (the cancel flag both backends watch: they return PL_ERR_CANCELLED within
 * ~50 ms),
 * the connection closes and the process exits 0.
 *
 * The signals are blocked in every thread and taken by sigtimedwait in main, so no work is
 * done in a signal handler.
 *
 *   build/examples/graceful_shutdown [--server ADDR]     # then press Ctrl-C
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "common.h"

#define N_WORKERS 4

static int stopping;          /* 1 once shutdown began: workers start no new query */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t exited = PTHREAD_COND_INITIALIZER;
static int running_workers;
static long queries, ok, cancelled;

static void *worker(void *arg) {
    ex_ctx *x = arg;
    static int next;
    int i = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT symbol, avg(price) AS p, sum(size) AS v FROM read_parquet('%s') "
             "GROUP BY symbol",
             x->files[i % x->n_files]);
    while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
        pl_table *t = NULL;
        pl_error err;
        pl_error_init(&err);
        pl_status st = ex_query(x, sql, &t, &err);
        pl_table_release(t);
        __atomic_add_fetch(&queries, 1, __ATOMIC_RELAXED);
        if (st == PL_OK)
            __atomic_add_fetch(&ok, 1, __ATOMIC_RELAXED);
        else if (st == PL_ERR_CANCELLED)
            __atomic_add_fetch(&cancelled, 1, __ATOMIC_RELAXED);
        else
            ex_print_error("query", &err);
    }
    pthread_mutex_lock(&mu);
    running_workers--;
    pthread_cond_signal(&exited);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv) {
    ex_ctx x = {.concurrency = 1, .seconds = 0};
    ex_parse_args(&x, argc, argv,
                  "usage: graceful_shutdown [--seconds S (0 = until Ctrl-C)] [options]");
    /* block the signals before any thread starts, so every thread inherits the mask */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    pl_error err;
    pl_error_init(&err);
    if (ex_open(&x, &err)) {
        ex_print_error("connect", &err);
        return 1;
    }
    pthread_t th[N_WORKERS];
    running_workers = N_WORKERS;
    for (int i = 0; i < N_WORKERS; i++)
        if (pthread_create(&th[i], NULL, worker, &x) != 0) return 1;
    printf("running %d workers (%s); press Ctrl-C to stop\n", N_WORKERS, ex_backend_name(&x));
    fflush(stdout);

    /* wait for a signal (or the --seconds of a timed run) */
    double secs = x.seconds > 0 ? x.seconds : 1e9;
    struct timespec wait = {.tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (time_t)secs) * 1e9)};
    int sig;
    while ((sig = sigtimedwait(&sigs, NULL, &wait)) < 0 && errno == EINTR) {
    }
    const char *why = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "time is up";

    /* 1. stop new work; 2. drain up to the deadline; 3. cancel what is left */
    __atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
    double t0 = ex_now();
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    long long ns = deadline.tv_nsec + (long long)(x.drain * 1e9);
    deadline.tv_sec += (time_t)(ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    pthread_mutex_lock(&mu);
    int rc = 0;
    while (running_workers > 0 && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&exited, &mu, &deadline);
    int left = running_workers;
    pthread_mutex_unlock(&mu);
    if (left > 0) __atomic_store_n(&x.cancel, 1, __ATOMIC_RELEASE); /* 3. */
    for (int i = 0; i < N_WORKERS; i++) pthread_join(th[i], NULL);
    ex_close(&x);
    printf("%s: shut down cleanly in %.2f s after %ld queries (%ld ok, %ld cancelled at the "
           "deadline)\n", why, ex_now() - t0, queries, ok, cancelled);
    return 0;
}
