/* pool.c - the process-wide worker pool and pl_parallel_for.
 *
 * Threads are created once (one per core by default). A parallel-for publishes a job on a
 * shared list; the caller and idle workers claim indices with an atomic counter, so a job's
 * tasks balance themselves and a task may start a nested job without deadlock (its caller
 * always makes progress on its own job). Every thread has a worker id, unique among running
 * threads: pool threads 1..T, other threads get ids from T+1 on first use. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "core.h"

#define PL_POOL_MAX_THREADS 256
#define PL_POOL_EXTERNAL_SLOTS 256

typedef struct pl_job {
    pl_task_fn fn;
    void *arg;
    int64_t n;
    _Atomic int64_t next;
    _Atomic int64_t done;
    _Atomic int32_t helpers; /* workers besides the caller allowed to join */
    int32_t active;          /* workers inside run_job; protected by g_mu */
    struct pl_job *prev, *next_job;
} pl_job;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_work_cv = PTHREAD_COND_INITIALIZER;  /* jobs available */
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;  /* a job finished */
static pl_job *g_jobs; /* protected by g_mu */
static int32_t g_n_threads = 0;
static int32_t g_requested = 0;
static _Atomic int32_t g_next_external;
static _Thread_local int32_t t_worker_id = -1;

static int32_t worker_id(void) {
    if (t_worker_id < 0) {
        int32_t k = atomic_fetch_add(&g_next_external, 1);
        t_worker_id = g_n_threads + 1 + (k % PL_POOL_EXTERNAL_SLOTS);
    }
    return t_worker_id;
}

static void run_job(pl_job *job, int32_t wid) {
    for (;;) {
        int64_t i = atomic_fetch_add_explicit(&job->next, 1, memory_order_relaxed);
        if (i >= job->n) break;
        job->fn(job->arg, i, wid);
        if (atomic_fetch_add_explicit(&job->done, 1, memory_order_acq_rel) + 1 == job->n) {
            pthread_mutex_lock(&g_mu);
            pthread_cond_broadcast(&g_done_cv);
            pthread_mutex_unlock(&g_mu);
        }
    }
}

static void unlink_job(pl_job *job) { /* g_mu held */
    if (job->prev) job->prev->next_job = job->next_job;
    else if (g_jobs == job) g_jobs = job->next_job;
    if (job->next_job) job->next_job->prev = job->prev;
    job->prev = job->next_job = NULL;
}

static void *worker_main(void *p) {
    t_worker_id = (int32_t)(intptr_t)p;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        pl_job *job = g_jobs;
        while (job && (atomic_load(&job->next) >= job->n || atomic_load(&job->helpers) <= 0))
            job = job->next_job;
        if (!job) {
            pthread_cond_wait(&g_work_cv, &g_mu);
            continue;
        }
        atomic_fetch_sub(&job->helpers, 1);
        /* The job lives on its caller's stack: the caller waits until active == 0. */
        job->active++;
        pthread_mutex_unlock(&g_mu);
        run_job(job, t_worker_id);
        pthread_mutex_lock(&g_mu);
        if (--job->active == 0) pthread_cond_broadcast(&g_done_cv);
    }
    return NULL;
}

static void pool_init(void) {
    int32_t n = g_requested > 0 ? g_requested : (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > PL_POOL_MAX_THREADS) n = PL_POOL_MAX_THREADS;
    /* The caller participates in each job, so nproc-1 helpers keep nproc cores busy. */
    int32_t helpers = n - 1;
    int32_t started = 0;
    for (int32_t i = 0; i < helpers; i++) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, worker_main, (void *)(intptr_t)(i + 1)) == 0) started++;
        pthread_attr_destroy(&attr);
    }
    g_n_threads = started + 1;
}

void pl_pool_set_threads(int32_t n) {
    /* Only effective before the pool starts (first parallel call). */
    g_requested = n;
}

int32_t pl_pool_threads(void) {
    pthread_once(&g_once, pool_init);
    return g_n_threads;
}

int32_t pl_pool_max_workers(void) {
    pthread_once(&g_once, pool_init);
    return g_n_threads + 1 + PL_POOL_EXTERNAL_SLOTS;
}

void pl_parallel_for(int64_t n, int32_t max_threads, pl_task_fn fn, void *arg) {
    if (n <= 0) return;
    pthread_once(&g_once, pool_init);
    int32_t wid = worker_id();
    int32_t threads = max_threads > 0 ? PL_MIN(max_threads, g_n_threads) : g_n_threads;
    if (n == 1 || threads <= 1) {
        for (int64_t i = 0; i < n; i++) fn(arg, i, wid);
        return;
    }
    pl_job job;
    job.fn = fn;
    job.arg = arg;
    job.n = n;
    atomic_init(&job.next, 0);
    atomic_init(&job.done, 0);
    atomic_init(&job.helpers, (int32_t)PL_MIN((int64_t)threads - 1, n - 1));
    job.prev = NULL;
    job.active = 0;
    pthread_mutex_lock(&g_mu);
    job.next_job = g_jobs;
    if (g_jobs) g_jobs->prev = &job;
    g_jobs = &job;
    pthread_cond_broadcast(&g_work_cv);
    pthread_mutex_unlock(&g_mu);

    run_job(&job, wid);

    pthread_mutex_lock(&g_mu);
    unlink_job(&job);
    while (atomic_load(&job.done) < n || job.active > 0) pthread_cond_wait(&g_done_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
}

int64_t pl_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
