/* join_bench.c - speed of the hash join operator alone (no planner): the ticks x symbols shape
 * (dictionary-encoded probe key against a 200-row plain table) and a large x large int64 join.
 * Inputs are in memory; the probe morsels are run on the pool like the pipeline driver does,
 * outputs released at once.
 *
 *   cc -O2 -Isrc -Iinclude bench/join_bench.c build/libpolaroid.a -lm -lpthread -lzstd ... 
 *   (see bench/README.md: `make join-bench` is not wired; the lead's driver replaces this)
 *   join_bench ticks|ticks-dict THREADS SYMBOLS.parquet TICK_FILE...   (ticks-dict: sector
 *       comes out as dictionary<int32, utf8> over the build column)
 *   join_bench large THREADS N_BUILD N_PROBE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/exec.h"
#include "polaroid/io.h"

static void die(const char *what, pl_error *err) {
    fprintf(stderr, "%s: %s\n", what, err ? err->msg : "");
    exit(1);
}

typedef struct run_ctx {
    pl_op *op;
    pl_exec_ctx *ctx;
    pl_batch **morsels;
    int64_t rows_out;
    int failed;
} run_ctx;

static void run_morsel(void *arg, int64_t i, int32_t worker) {
    run_ctx *rc = arg;
    pl_error e;
    pl_batch *out = NULL;
    if (rc->op->process(rc->op, rc->ctx, worker, rc->morsels[i], &out, &e)) {
        fprintf(stderr, "probe: %s\n", e.msg);
        __atomic_store_n(&rc->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    if (out) {
        __atomic_add_fetch(&rc->rows_out, out->n_rows, __ATOMIC_RELAXED);
        pl_batch_release(out);
    }
}

static int64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cut_morsels(pl_table *t, pl_batch ***out) {
    int64_t n = 0, cap = t->n_rows / PL_MORSEL_ROWS + t->n_batches + 1;
    pl_batch **m = calloc((size_t)cap, sizeof *m);
    for (int64_t b = 0; b < t->n_batches; b++)
        for (int64_t off = 0; off < t->batches[b]->n_rows; off += PL_MORSEL_ROWS) {
            int64_t len = PL_MIN(PL_MORSEL_ROWS, t->batches[b]->n_rows - off);
            if (pl_batch_slice(t->batches[b], off, len, &m[n++], NULL)) die("slice", NULL);
        }
    *out = m;
    return n;
}

static void run(pl_exec_ctx *ctx, int threads, pl_join_spec *spec, pl_table *probe, pl_table *build,
                int reps) {
    pl_batch **morsels;
    int64_t nm = cut_morsels(probe, &morsels);
    for (int r = 0; r < reps; r++) {
        pl_error err;
        pl_stream *src;
        pl_pipeline *pipe;
        if (pl_stream_from_table(build, &src, &err) || pl_pipeline_new(src, &pipe, &err)) die("pipe", &err);
        pl_op *op;
        pl_join_spec s = *spec;
        if (pl_join_op_new(ctx, &s, probe->schema, pipe, &op, &err)) die("join", &err);
        int64_t t0 = pl_now_ns(), c0 = cpu_ns();
        if (op->prepare(op, ctx, &err)) die("prepare", &err);
        int64_t t1 = pl_now_ns(), c1 = cpu_ns();
        run_ctx rc = {.op = op, .ctx = ctx, .morsels = morsels};
        pl_parallel_for(nm, threads, run_morsel, &rc);
        int64_t t2 = pl_now_ns(), c2 = cpu_ns();
        if (rc.failed) exit(1);
        printf("build %lld rows %.3f s | probe %lld rows -> %lld rows %.3f s = %.1f M rows/s | "
               "total %.3f s | cpu build %.3f probe %.3f s\n",
               (long long)build->n_rows, (t1 - t0) / 1e9, (long long)probe->n_rows,
               (long long)rc.rows_out, (t2 - t1) / 1e9, probe->n_rows / ((t2 - t1) / 1e3),
               (t2 - t0) / 1e9, (c1 - c0) / 1e9, (c2 - c1) / 1e9);
        pl_op_free(op);
    }
    for (int64_t i = 0; i < nm; i++) pl_batch_release(morsels[i]);
    free(morsels);
}

static pl_table *int_table(int64_t n, int64_t dom, bool perm, const char *prefix, uint64_t seed) {
    char n1[32], n2[32];
    snprintf(n1, sizeof n1, "%skey", prefix);
    snprintf(n2, sizeof n2, "%sval", prefix);
    pl_field f[2] = {{n1, pl_type_simple(PL_TYPE_INT64), false}, {n2, pl_type_simple(PL_TYPE_INT64), false}};
    pl_schema *s;
    pl_table *t;
    if (pl_schema_new(2, f, &s, NULL) || pl_table_new(s, &t, NULL)) die("table", NULL);
    uint64_t x = seed;
    int64_t chunk = 1 << 20;
    int64_t *keys = malloc(sizeof *keys * (size_t)n);
    for (int64_t i = 0; i < n; i++) keys[i] = i;
    for (int64_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if (perm) {
            int64_t j = i + (int64_t)(x % (uint64_t)(n - i));
            int64_t tmp = keys[i]; keys[i] = keys[j]; keys[j] = tmp;
        } else {
            keys[i] = (int64_t)(x % (uint64_t)dom);
        }
    }
    for (int64_t off = 0; off < n; off += chunk) {
        int64_t m = PL_MIN(chunk, n - off);
        pl_buf *kb, *vb;
        if (pl_buf_new(m * 8, &kb, NULL) || pl_buf_new(m * 8, &vb, NULL)) die("buf", NULL);
        memcpy(kb->data, keys + off, (size_t)m * 8);
        for (int64_t i = 0; i < m; i++) ((int64_t *)(void *)vb->data)[i] = (off + i) * 3;
        kb->size = vb->size = m * 8;
        pl_array *c[2];
        if (pl_array_new(pl_type_simple(PL_TYPE_INT64), m, 0, NULL, kb, NULL, 0, NULL, NULL, &c[0], NULL) ||
            pl_array_new(pl_type_simple(PL_TYPE_INT64), m, 0, NULL, vb, NULL, 0, NULL, NULL, &c[1], NULL))
            die("array", NULL);
        pl_batch *b;
        if (pl_batch_new(pl_schema_retain(s), m, c, &b, NULL) || pl_table_append(t, b, NULL)) die("batch", NULL);
        pl_batch_release(b);
    }
    free(keys);
    pl_schema_release(s);
    return t;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: join_bench ticks THREADS SYMBOLS TICKS... | large THREADS NB NP\n");
        return 2;
    }
    int threads = atoi(argv[2]);
    pl_pool_set_threads(threads);
    pl_exec_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.n_threads = threads;
    pl_exec_ctx ctx;
    pl_exec_ctx_init(&ctx, &opts);
    pl_error err;
    if (!strncmp(argv[1], "ticks", 5)) {
        pl_read_opts ro;
        pl_read_opts_init(&ro);
        ro.decode_dictionary = true;
        const char *sp = argv[3];
        pl_table *sym, *ticks;
        if (pl_read_table(1, &sp, PL_FORMAT_PARQUET, &ro, &sym, &err)) die("symbols", &err);
        pl_read_opts_init(&ro);
        const char *cols[] = {"symbol", "price", "size"};
        ro.columns = cols;
        ro.n_columns = 3;
        if (pl_read_table(argc - 4, (const char *const *)argv + 4, PL_FORMAT_PARQUET, &ro, &ticks, &err))
            die("ticks", &err);
        int32_t pk = pl_schema_find(ticks->schema, "symbol"), bk = pl_schema_find(sym->schema, "symbol");
        int32_t po[2] = {pl_schema_find(ticks->schema, "price"), pl_schema_find(ticks->schema, "size")};
        int32_t bo[1] = {pl_schema_find(sym->schema, "sector")};
        char tb[64];
        printf("ticks: %lld rows, symbol %s; symbols: %lld rows\n", (long long)ticks->n_rows,
               pl_type_to_string(ticks->schema->fields[pk].type, tb, sizeof tb), (long long)sym->n_rows);
        pl_field f[3] = {ticks->schema->fields[po[0]], ticks->schema->fields[po[1]], sym->schema->fields[bo[0]]};
        pl_type *dt = NULL;
        if (!strcmp(argv[1], "ticks-dict")) { /* sector as dictionary<int32, utf8> over the build column */
            if (pl_type_new_dictionary(PL_TYPE_INT32, f[2].type, &dt, NULL)) die("type", NULL);
            f[2].type = dt;
        }
        pl_schema *os;
        if (pl_schema_new(3, f, &os, NULL)) die("schema", NULL);
        pl_type_release(dt);
        pl_join_spec spec = {.kind = PL_JK_INNER, .n_keys = 1, .probe_keys = &pk, .build_keys = &bk,
                             .n_probe_out = 2, .probe_out = po, .n_build_out = 1, .build_out = bo,
                             .out_schema = os};
        run(&ctx, threads, &spec, ticks, sym, 3);
        pl_schema_release(os);
        pl_table_release(sym);
        pl_table_release(ticks);
    } else {
        int64_t nb = atoll(argv[3]), np = atoll(argv[4]);
        pl_table *build = int_table(nb, nb, true, "b_", 0x1234567ULL);
        pl_table *probe = int_table(np, nb, false, "p_", 0x7654321ULL);
        int32_t pk = 0, bk = 0, po[2] = {0, 1}, bo[1] = {1};
        pl_field f[3] = {probe->schema->fields[0], probe->schema->fields[1], build->schema->fields[1]};
        pl_schema *os;
        if (pl_schema_new(3, f, &os, NULL)) die("schema", NULL);
        pl_join_spec spec = {.kind = PL_JK_INNER, .n_keys = 1, .probe_keys = &pk, .build_keys = &bk,
                             .n_probe_out = 2, .probe_out = po, .n_build_out = 1, .build_out = bo,
                             .out_schema = os};
        run(&ctx, threads, &spec, probe, build, 3);
        pl_schema_release(os);
        pl_table_release(build);
        pl_table_release(probe);
    }
    return 0;
}
