/* examples/c/common.c - options, the two query backends, cell access, clocks (common.h). */
#include "common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const DEFAULT_FILES[] = {
    "ticks/ticks-0000.parquet", "ticks/ticks-0001.parquet", "ticks/ticks-0002.parquet",
    "ticks/ticks-0003.parquet", "ticks/ticks-0004.parquet"}; /* make run's data/sample */

static void usage_exit(const char *usage, const char *bad) {
    if (bad) fprintf(stderr, "bad option: %s\n", bad);
    fprintf(stderr,
            "%s\ncommon options:\n"
            "  --server HOST:PORT   query `polaroid serve` through the C client\n"
            "  --data-root DIR      or run the engine in this process on DIR\n"
            "                       (default data/sample)\n"
            "  --files F...         files under the data root (default make run's 5 tick files)\n"
            "  --concurrency N  --tasks N  --seconds S  --drain S  --quick\n",
            usage);
    exit(2);
}

void ex_parse_args(ex_ctx *x, int argc, char **argv, const char *usage) {
    if (!x->data_root) x->data_root = "data/sample";
    x->drain = 5.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "--server") && has_val) {
            x->server = argv[++i];
        } else if (!strcmp(a, "--data-root") && has_val) {
            x->data_root = argv[++i];
        } else if (!strcmp(a, "--concurrency") && has_val) {
            x->concurrency = atoi(argv[++i]);
        } else if (!strcmp(a, "--tasks") && has_val) {
            x->tasks = atoi(argv[++i]);
        } else if (!strcmp(a, "--seconds") && has_val) {
            x->seconds = atof(argv[++i]);
        } else if (!strcmp(a, "--drain") && has_val) {
            x->drain = atof(argv[++i]);
        } else if (!strcmp(a, "--quick")) {
            x->quick = true;
        } else if (!strcmp(a, "--files")) {
            x->n_files = 0;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
                if (x->n_files == EX_MAX_FILES) usage_exit(usage, "more than 64 files");
                x->files[x->n_files++] = argv[++i];
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage_exit(usage, NULL);
        } else {
            usage_exit(usage, a);
        }
    }
    if (x->n_files == 0) {
        for (size_t i = 0; i < sizeof DEFAULT_FILES / sizeof *DEFAULT_FILES; i++)
            x->files[x->n_files++] = DEFAULT_FILES[i];
    }
    if (x->concurrency < 1 || x->tasks < 0 || x->seconds < 0 || x->drain < 0)
        usage_exit(usage, "a negative count, or --concurrency < 1");
}

pl_status ex_open(ex_ctx *x, pl_error *err) {
    if (!x->server) return PL_OK;
    pl_client_opts o;
    pl_client_opts_init(&o);
    o.timeout_ms = 120000;
    o.cancel = &x->cancel; /* ex_ctx.cancel = 1 stops the calls in flight within ~50 ms */
    return pl_client_connect_opts(x->server, &o, &x->client, err);
}

void ex_close(ex_ctx *x) {
    pl_client_close(x->client);
    x->client = NULL;
}

const char *ex_backend_name(const ex_ctx *x) {
    static __thread char buf[300];
    if (x->server)
        snprintf(buf, sizeof buf, "server %s", x->server);
    else
        snprintf(buf, sizeof buf, "embedded engine, data root %s", x->data_root);
    return buf;
}

/* Embedded mode: the paths named in the SQL are taken relative to the data root (the server
 * does the same with its --data-root), so the examples' SQL is the same for both backends. */
static pl_status resolve_path(void *user, const char *path, char **out, pl_error *err) {
    const ex_ctx *x = user;
    if (path[0] == '/' || strstr(path, "..")) {
        pl_error_set(err, PL_ERR_PERMISSION, "path outside the data root: %s", path);
        return PL_ERR_PERMISSION;
    }
    size_t n = strlen(x->data_root) + strlen(path) + 2;
    char *p = pl_malloc(n);
    if (!p) return pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    snprintf(p, n, "%s/%s", x->data_root, path);
    *out = p;
    return PL_OK;
}

pl_status ex_stream(ex_ctx *x, const char *sql, pl_stream **out, pl_error *err) {
    if (x->server) return pl_client_sql(x->client, sql, out, err);
    /* a session per query: sessions are not shared between threads; the stream keeps what it
     * needs of the plan after the session is gone */
    pl_session *s = NULL;
    pl_df *df = NULL;
    pl_status st = pl_session_new(&s, err);
    if (st == PL_OK) {
        pl_session_set_path_fn(s, resolve_path, x);
        st = pl_session_query(s, sql, &df, err);
    }
    if (st == PL_OK) {
        pl_exec_opts o;
        pl_exec_opts_init(&o);
        o.cancel = &x->cancel;
        st = pl_df_execute(df, &o, out, err);
    }
    pl_df_release(df);
    pl_session_free(s);
    return st;
}

pl_status ex_query(ex_ctx *x, const char *sql, pl_table **out, pl_error *err) {
    pl_stream *s = NULL;
    pl_status st = ex_stream(x, sql, &s, err);
    if (st == PL_OK) st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    return st;
}

/* ---------------------------------------------------------------- cells */

static bool is_valid(const pl_array *a, int64_t i) {
    if (!a->validity) return true;
    int64_t k = a->offset + i;
    return (a->validity->data[k >> 3] >> (k & 7)) & 1;
}

static int64_t index_at(const pl_array *a, int64_t i) {
    const uint8_t *v = a->values->data;
    int64_t k = a->offset + i;
    switch (a->type->index_id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[k];
    case PL_TYPE_UINT8: return ((const uint8_t *)v)[k];
    case PL_TYPE_INT16: return ((const int16_t *)v)[k];
    case PL_TYPE_UINT16: return ((const uint16_t *)v)[k];
    case PL_TYPE_UINT32: return ((const uint32_t *)v)[k];
    default: return ((const int32_t *)v)[k];
    }
}

static double array_num(const pl_array *a, int64_t i) {
    if (!is_valid(a, i)) return NAN;
    if (a->type->id == PL_TYPE_DICTIONARY) return array_num(a->dictionary, index_at(a, i));
    const uint8_t *v = a->values ? a->values->data : NULL;
    int64_t k = a->offset + i;
    switch (a->type->id) {
    case PL_TYPE_INT8: return ((const int8_t *)v)[k];
    case PL_TYPE_INT16: return ((const int16_t *)v)[k];
    case PL_TYPE_INT32: case PL_TYPE_DATE32: return ((const int32_t *)v)[k];
    case PL_TYPE_INT64: case PL_TYPE_TIMESTAMP: case PL_TYPE_TIME64:
        return (double)((const int64_t *)v)[k];
    case PL_TYPE_UINT8: return ((const uint8_t *)v)[k];
    case PL_TYPE_UINT16: return ((const uint16_t *)v)[k];
    case PL_TYPE_UINT32: return ((const uint32_t *)v)[k];
    case PL_TYPE_UINT64: return (double)((const uint64_t *)v)[k];
    case PL_TYPE_FLOAT32: return ((const float *)v)[k];
    case PL_TYPE_FLOAT64: return ((const double *)v)[k];
    default: return NAN;
    }
}

static const char *array_str(const pl_array *a, int64_t i, int *len) {
    *len = 0;
    if (!is_valid(a, i)) return NULL;
    if (a->type->id == PL_TYPE_DICTIONARY) return array_str(a->dictionary, index_at(a, i), len);
    if (a->type->id != PL_TYPE_UTF8) return NULL;
    const int32_t *off = (const int32_t *)a->values->data + a->offset + i;
    *len = off[1] - off[0];
    return (const char *)a->data->data + off[0];
}

double ex_batch_num(const pl_batch *b, int col, int64_t row) {
    return array_num(b->columns[col], row);
}

const char *ex_batch_str(const pl_batch *b, int col, int64_t row, int *len) {
    return array_str(b->columns[col], row, len);
}

/* the batch holding row (row becomes the row within it) */
static const pl_batch *batch_of(const pl_table *t, int64_t *row) {
    for (int64_t i = 0; i < t->n_batches; i++) {
        if (*row < t->batches[i]->n_rows) return t->batches[i];
        *row -= t->batches[i]->n_rows;
    }
    return NULL;
}

double ex_table_num(const pl_table *t, int col, int64_t row) {
    const pl_batch *b = batch_of(t, &row);
    return b ? ex_batch_num(b, col, row) : NAN;
}

const char *ex_table_str(const pl_table *t, int col, int64_t row, int *len) {
    const pl_batch *b = batch_of(t, &row);
    *len = 0;
    return b ? ex_batch_str(b, col, row, len) : NULL;
}

/* ---------------------------------------------------------------- misc */

double ex_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

const char *ex_error_text(const pl_error *err, char *buf, size_t n) {
    snprintf(buf, n, "%s: %s", pl_status_name(err->code), err->msg);
    return buf;
}

void ex_print_error(const char *what, const pl_error *err) {
    char buf[1200];
    fprintf(stderr, "%s: %s: %s\n", what, pl_status_name(err->code),
            pl_error_format(err, buf, sizeof buf));
}
