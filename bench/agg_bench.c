/* agg_bench.c - manual microbenchmark of the hash aggregation sink (not part of the tests).
 * Reads a Parquet file into memory, then times consume (morsels of 65536 rows on the pool) +
 * finish + draining the result, for h2o groupby-like shapes and tick shapes.
 *
 *   build: see src/exec/agg/README.md ("Speed"); run:
 *   agg_bench [--threads N] [--decode] [--runs R] FILE.parquet QUERY...
 *   QUERY: q1 q2 q3 q4 q5 q6 q7 q10 (h2o G1 table), sym (ticks: per-symbol count/avg/sum/min/
 *   max), ohlc (ticks: per symbol first/last/min/max price, sum size), ohlc_arg (arg_min/arg_max
 *   by ts). Prints the best and median time and rows/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "exec/exec.h"
#include "polaroid/io.h"

typedef struct job {
    pl_sink *sink;
    pl_exec_ctx *ctx;
    pl_batch **morsels;
    int failed;
    pl_error err;
} job;

static void task(void *arg, int64_t i, int32_t worker) {
    job *j = arg;
    pl_error e;
    memset(&e, 0, sizeof e);
    if (j->sink->consume(j->sink, j->ctx, worker, i, j->morsels[i], &e)) {
        if (!__atomic_exchange_n(&j->failed, 1, __ATOMIC_ACQ_REL)) j->err = e;
    }
}

static int32_t col(pl_schema *s, const char *name) {
    int32_t i = pl_schema_find(s, name);
    if (i < 0) {
        fprintf(stderr, "no column %s\n", name);
        exit(2);
    }
    return i;
}

typedef struct q {
    const char *name;
    const char *keys[6];
    const char *aggs[6];
    const char *args[6];
    const char *args2[6];
} q;

static const q k_queries[] = {
    {"q1", {"id1"}, {"sum"}, {"v1"}, {0}},
    {"q2", {"id1", "id2"}, {"sum"}, {"v1"}, {0}},
    {"q3", {"id3"}, {"sum", "avg"}, {"v1", "v3"}, {0}},
    {"q4", {"id4"}, {"avg", "avg", "avg"}, {"v1", "v2", "v3"}, {0}},
    {"q5", {"id6"}, {"sum", "sum", "sum"}, {"v1", "v2", "v3"}, {0}},
    {"q6", {"id4", "id5"}, {"median", "stddev"}, {"v3", "v3"}, {0}},
    {"q7", {"id3"}, {"max", "min"}, {"v1", "v2"}, {0}},
    {"q10", {"id1", "id2", "id3", "id4", "id5", "id6"}, {"sum", "count"}, {"v3", NULL}, {0}},
    {"sym", {"symbol"}, {"count", "avg", "sum", "min", "max"}, {NULL, "price", "size", "price", "price"}, {0}},
    {"ohlc", {"symbol"}, {"first", "max", "min", "last", "sum"}, {"price", "price", "price", "price", "size"}, {0}},
    {"ohlc_arg", {"symbol"}, {"arg_min", "max", "min", "arg_max", "sum"}, {"price", "price", "price", "price", "size"}, {"ts", 0, 0, "ts", 0}},
};

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int threads = 2, runs = 5;
    bool decode = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--decode")) decode = true;
    }
    if (i >= argc - 1) {
        fprintf(stderr, "usage: agg_bench [--threads N] [--decode] [--runs R] FILE QUERY...\n");
        return 2;
    }
    pl_pool_set_threads(threads);
    pl_error err;
    pl_read_opts ro;
    pl_read_opts_init(&ro);
    ro.decode_dictionary = decode;
    pl_table *t;
    const char *path = argv[i++];
    int64_t t0 = pl_now_ns();
    if (pl_read_table(1, &path, PL_FORMAT_AUTO, &ro, &t, &err)) {
        fprintf(stderr, "read: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "read %lld rows in %.2fs;", (long long)t->n_rows, (pl_now_ns() - t0) / 1e9);
    for (int32_t c = 0; c < t->schema->n_fields; c++) {
        char tb[64];
        fprintf(stderr, " %s:%s", t->schema->fields[c].name,
                pl_type_to_string(t->schema->fields[c].type, tb, sizeof tb));
    }
    fprintf(stderr, "\n");
    /* morsels */
    int64_t nm = 0;
    for (int64_t b = 0; b < t->n_batches; b++)
        nm += (t->batches[b]->n_rows + PL_MORSEL_ROWS - 1) / PL_MORSEL_ROWS;
    pl_batch **m = malloc(sizeof(pl_batch *) * (size_t)nm);
    nm = 0;
    for (int64_t b = 0; b < t->n_batches; b++)
        for (int64_t o = 0; o < t->batches[b]->n_rows; o += PL_MORSEL_ROWS)
            if (pl_batch_slice(t->batches[b], o, PL_MIN(PL_MORSEL_ROWS, t->batches[b]->n_rows - o), &m[nm++], &err))
                return 1;
    for (; i < argc; i++) {
        const q *qq = NULL;
        for (size_t k = 0; k < sizeof k_queries / sizeof k_queries[0]; k++)
            if (!strcmp(k_queries[k].name, argv[i])) qq = &k_queries[k];
        if (!qq) {
            fprintf(stderr, "unknown query %s\n", argv[i]);
            continue;
        }
        pl_schema *in = t->schema;
        int32_t keys[6], nk = 0, na = 0;
        pl_agg_spec sp[6];
        pl_field f[12];
        for (; nk < 6 && qq->keys[nk]; nk++) {
            keys[nk] = col(in, qq->keys[nk]);
            if (pl_field_init(&f[nk], qq->keys[nk], in->fields[keys[nk]].type, true, &err)) return 1;
        }
        pl_value qv;
        memset(&qv, 0, sizeof qv);
        qv.type = pl_type_simple(PL_TYPE_FLOAT64);
        qv.v.f = 0.5;
        for (; na < 6 && qq->aggs[na]; na++) {
            memset(&sp[na], 0, sizeof sp[na]);
            sp[na].name = qq->aggs[na];
            sp[na].filter_col = -1;
            pl_type *at[2] = {0};
            if (qq->args[na]) {
                sp[na].n_args = 1;
                sp[na].args[0] = col(in, qq->args[na]);
                at[0] = in->fields[sp[na].args[0]].type;
            }
            if (qq->args2[na]) {
                sp[na].n_args = 2;
                sp[na].args[1] = col(in, qq->args2[na]);
                at[1] = in->fields[sp[na].args[1]].type;
            }
            pl_type *rt;
            if (pl_agg_bind(sp[na].name, sp[na].n_args, at, NULL, false, &rt, &err)) {
                fprintf(stderr, "bind: %s\n", err.msg);
                return 1;
            }
            sp[na].result_type = rt;
            if (pl_field_init(&f[nk + na], sp[na].name, rt, true, &err)) return 1;
        }
        pl_schema *os;
        if (pl_schema_new(nk + na, f, &os, &err)) return 1;
        double *times = calloc((size_t)runs, sizeof(double));
        double *cpus = calloc((size_t)runs, sizeof(double));
        int64_t groups = 0;
        for (int r = 0; r < runs; r++) {
            pl_exec_ctx ctx;
            pl_exec_opts eo;
            memset(&eo, 0, sizeof eo);
            eo.n_threads = threads;
            pl_exec_ctx_init(&ctx, &eo);
            int64_t s0 = pl_now_ns();
            double u0 = cpu_s();
            pl_sink *sink;
            if (pl_agg_sink_new(&ctx, in, nk, keys, na, sp, os, &sink, &err)) {
                fprintf(stderr, "sink: %s\n", err.msg);
                return 1;
            }
            job j = {sink, &ctx, m, 0, {0}};
            pl_parallel_for(nm, threads, task, &j);
            if (j.failed) {
                fprintf(stderr, "consume: %s\n", j.err.msg);
                return 1;
            }
            int64_t s1 = pl_now_ns();
            pl_stream *st;
            if (sink->finish(sink, &ctx, &st, &err)) {
                fprintf(stderr, "finish: %s\n", err.msg);
                return 1;
            }
            groups = 0;
            pl_batch *b;
            while (!pl_stream_next(st, &b, &err) && b) {
                groups += b->n_rows;
                pl_batch_release(b);
            }
            pl_stream_free(st);
            int64_t s2 = pl_now_ns();
            sink->free(sink);
            times[r] = (s2 - s0) / 1e9;
            cpus[r] = cpu_s() - u0;
            if (r == 0)
                fprintf(stderr, "  %s run 0: consume %.3fs finish %.3fs (peak mem %.0f MB)\n", qq->name,
                        (s1 - s0) / 1e9, (s2 - s1) / 1e9, ctx.mem_peak / 1e6);
        }
        qsort(times, (size_t)runs, sizeof(double), cmp_d);
        qsort(cpus, (size_t)runs, sizeof(double), cmp_d);
        printf("%-9s threads=%d rows=%lld groups=%lld wall best=%.3fs median=%.3fs cpu best=%.3fs "
               "(%.0f Mrows/cpu-s)\n",
               qq->name, threads, (long long)t->n_rows, (long long)groups, times[0],
               times[runs / 2], cpus[0], t->n_rows / cpus[0] / 1e6);
        free(times);
        free(cpus);
        for (int32_t k = 0; k < nk + na; k++) pl_field_reset(&f[k]);
        for (int32_t k = 0; k < na; k++) pl_type_release(sp[k].result_type);
        pl_schema_release(os);
    }
    for (int64_t k = 0; k < nm; k++) pl_batch_release(m[k]);
    free(m);
    pl_table_release(t);
    return 0;
}
