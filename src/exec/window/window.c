/* window.c - the window sink: ranking, navigation and aggregate functions OVER (PARTITION BY ...
 * ORDER BY ... frame).
 *
 * consume() keeps morsels per worker (with seq); finish() concatenates the input in seq order,
 * then for each group of specs sharing the same PARTITION BY and ORDER BY sorts the rows once by
 * (partition keys, order keys) with the radix sort of src/exec/sort/ (partitions become
 * contiguous runs), finds partition and peer boundaries on the normalised keys, gathers the
 * arguments in that order and evaluates every spec of the group in parallel blocks of
 * positions (window_eval.c). The output rows come out in the order of the first spec's group:
 * by partition keys (ascending, NULLs last), then its order keys; other groups' results are
 * permuted into that order. */
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>

#include "exec/window/window_int.h"

#define WIN_OUT_ROWS (1 << 18)

/* ---------------------------------------------------------------- names and types */

typedef struct fn_alias {
    const char *name, *canon;
} fn_alias;

static const fn_alias k_aliases[] = {
    {"row_number", "row_number"}, {"rank", "rank"}, {"dense_rank", "dense_rank"},
    {"percent_rank", "percent_rank"}, {"cume_dist", "cume_dist"}, {"ntile", "ntile"},
    {"lag", "lag"}, {"lead", "lead"}, {"first_value", "first_value"}, {"first", "first_value"},
    {"last_value", "last_value"}, {"last", "last_value"}, {"nth_value", "nth_value"},
    {"count", "count"}, {"count_star", "count"}, {"sum", "sum"}, {"avg", "avg"}, {"mean", "avg"},
    {"min", "min"}, {"max", "max"}, {"var_samp", "var_samp"}, {"variance", "var_samp"},
    {"var_pop", "var_pop"}, {"stddev_samp", "stddev_samp"}, {"stddev", "stddev_samp"},
    {"stddev_pop", "stddev_pop"}, {"bool_and", "bool_and"}, {"every", "bool_and"},
    {"bool_or", "bool_or"}, {"count_if", "count_if"},
    /* evaluated frame by frame (window_eval.c eval_frames) */
    {"string_agg", "string_agg"}, {"listagg", "string_agg"}, {"group_concat", "string_agg"},
    {"median", "median"}, {"quantile_cont", "quantile_cont"}, {"percentile_cont", "quantile_cont"},
    {"quantile_disc", "quantile_disc"}, {"percentile_disc", "quantile_disc"},
    {"quantile", "quantile_disc"}, {"arg_min", "arg_min"}, {"argmin", "arg_min"},
    {"min_by", "arg_min"}, {"arg_max", "arg_max"}, {"argmax", "arg_max"}, {"max_by", "arg_max"},
    {"list", "list"}, {"array_agg", "list"}, {"mode", "mode"}, {"product", "product"},
    {"fsum", "fsum"}, {"sumkahan", "fsum"}, {"kahan_sum", "fsum"}, {"skewness", "skewness"},
    {"kurtosis", "kurtosis"}, {"kurtosis_pop", "kurtosis_pop"}, {"entropy", "entropy"},
    {"bit_and", "bit_and"}, {"bit_or", "bit_or"}, {"bit_xor", "bit_xor"}, {"favg", "favg"},
    {"sem", "sem"},
};

bool pl_win_is_framewise(const char *canon) {
    static const char *k[] = {"string_agg", "median", "quantile_cont", "quantile_disc", "arg_min",
                              "arg_max", "list", "mode", "product", "fsum", "skewness", "kurtosis",
                              "kurtosis_pop", "entropy", "bit_and", "bit_or", "bit_xor", "favg", "sem"};
    for (size_t i = 0; i < PL_ARRAY_LEN(k); i++)
        if (!strcmp(canon, k[i])) return true;
    return false;
}

const char *pl_window_canonical(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < PL_ARRAY_LEN(k_aliases); i++)
        if (!strcasecmp(name, k_aliases[i].name)) return k_aliases[i].canon;
    return NULL;
}

static bool is_ranking_or_nav(const char *canon) {
    static const char *k[] = {"row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
                              "ntile", "lag", "lead", "first_value", "last_value", "nth_value"};
    for (size_t i = 0; i < PL_ARRAY_LEN(k); i++)
        if (!strcmp(canon, k[i])) return true;
    return false;
}

bool pl_window_exists(const char *name) {
    const char *c = pl_window_canonical(name);
    return c && is_ranking_or_nav(c);
}

static bool is_int_id(pl_type_id id) {
    return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64;
}
static bool is_num_id(pl_type_id id) {
    return is_int_id(id) || id == PL_TYPE_FLOAT32 || id == PL_TYPE_FLOAT64 ||
           id == PL_TYPE_DECIMAL128;
}

pl_status pl_window_bind(const char *name, int32_t n_args, pl_type *const *arg_types,
                         pl_type **out_type, pl_error *err) {
    const char *c = pl_window_canonical(name);
    if (!c) PL_FAIL(err, PL_ERR_TYPE, "no window function %s", name ? name : "(null)");
    pl_type_id a0 = n_args > 0 && arg_types[0] ? arg_types[0]->id : PL_TYPE_NA;
    if (a0 == PL_TYPE_DICTIONARY) a0 = arg_types[0]->value_type->id;
    char tb[64];
    for (int32_t i = 0; i < n_args; i++)
        if (!arg_types[i]) PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: argument %d has no type", c, i + 1);
#define ARGS(lo, hi)                                                                               \
    do {                                                                                           \
        if (n_args < (lo) || n_args > (hi))                                                        \
            PL_FAIL(err, PL_ERR_TYPE, "%s takes %d to %d arguments, got %d", c, lo, hi, n_args);   \
    } while (0)
    if (!strcmp(c, "row_number") || !strcmp(c, "rank") || !strcmp(c, "dense_rank")) {
        ARGS(0, 0);
        *out_type = pl_type_simple(PL_TYPE_INT64);
    } else if (!strcmp(c, "percent_rank") || !strcmp(c, "cume_dist")) {
        ARGS(0, 0);
        *out_type = pl_type_simple(PL_TYPE_FLOAT64);
    } else if (!strcmp(c, "ntile")) {
        ARGS(1, 1);
        if (!is_int_id(a0) && a0 != PL_TYPE_NA)
            PL_FAIL(err, PL_ERR_TYPE, "ntile takes an integer, got %s",
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        *out_type = pl_type_simple(PL_TYPE_INT64);
    } else if (!strcmp(c, "lag") || !strcmp(c, "lead")) {
        ARGS(1, 3);
        if (n_args >= 2 && arg_types[1] && !is_int_id(arg_types[1]->id) &&
            arg_types[1]->id != PL_TYPE_NA)
            PL_FAIL(err, PL_ERR_TYPE, "%s offset must be an integer, got %s", c,
                    pl_type_to_string(arg_types[1], tb, sizeof tb));
        *out_type = pl_type_retain(arg_types[0]);
    } else if (!strcmp(c, "first_value") || !strcmp(c, "last_value")) {
        ARGS(1, 1);
        *out_type = pl_type_retain(arg_types[0]);
    } else if (!strcmp(c, "nth_value")) {
        ARGS(2, 2);
        if (arg_types[1] && !is_int_id(arg_types[1]->id) && arg_types[1]->id != PL_TYPE_NA)
            PL_FAIL(err, PL_ERR_TYPE, "nth_value index must be an integer, got %s",
                    pl_type_to_string(arg_types[1], tb, sizeof tb));
        *out_type = pl_type_retain(arg_types[0]);
    } else if (!strcmp(c, "count")) {
        ARGS(0, 1);
        *out_type = pl_type_simple(PL_TYPE_INT64);
    } else if (!strcmp(c, "count_if")) {
        ARGS(1, 1);
        if (a0 != PL_TYPE_BOOL && a0 != PL_TYPE_NA)
            PL_FAIL(err, PL_ERR_TYPE, "count_if takes a boolean, got %s",
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        *out_type = pl_type_simple(PL_TYPE_INT64);
    } else if (!strcmp(c, "sum")) {
        ARGS(1, 1);
        if (a0 == PL_TYPE_DECIMAL128) {
            PL_TRY(pl_type_new_decimal(38, arg_types[0]->scale, out_type, err));
        } else if (is_int_id(a0) || a0 == PL_TYPE_BOOL || a0 == PL_TYPE_NA) {
            *out_type = pl_type_simple(PL_TYPE_INT64);
        } else if (a0 == PL_TYPE_FLOAT32 || a0 == PL_TYPE_FLOAT64) {
            *out_type = pl_type_simple(PL_TYPE_FLOAT64);
        } else {
            PL_FAIL(err, PL_ERR_TYPE, "no window aggregate sum(%s)",
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        }
    } else if (!strcmp(c, "avg") || !strncmp(c, "var_", 4) || !strncmp(c, "stddev", 6)) {
        ARGS(1, 1);
        if (!is_num_id(a0) && a0 != PL_TYPE_NA && a0 != PL_TYPE_BOOL)
            PL_FAIL(err, PL_ERR_TYPE, "no window aggregate %s(%s)", c,
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        *out_type = pl_type_simple(PL_TYPE_FLOAT64);
    } else if (!strcmp(c, "min") || !strcmp(c, "max")) {
        ARGS(1, 1);
        if (a0 == PL_TYPE_LIST || a0 == PL_TYPE_STRUCT || a0 == PL_TYPE_MAP)
            PL_FAIL(err, PL_ERR_TYPE, "no window aggregate %s(%s)", c,
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        *out_type = pl_type_retain(arg_types[0]);
    } else if (!strcmp(c, "bool_and") || !strcmp(c, "bool_or")) {
        ARGS(1, 1);
        if (a0 != PL_TYPE_BOOL && a0 != PL_TYPE_NA)
            PL_FAIL(err, PL_ERR_TYPE, "%s takes a boolean, got %s", c,
                    pl_type_to_string(arg_types[0], tb, sizeof tb));
        *out_type = pl_type_simple(PL_TYPE_BOOL);
    } else if (pl_win_is_framewise(c)) {
        /* the aggregate's result type; the quantile fraction and string_agg's separator are
         * constants checked when the window runs */
        bool two = !strcmp(c, "arg_min") || !strcmp(c, "arg_max") || !strncmp(c, "quantile_", 9);
        if (two) ARGS(2, 2);
        else if (!strcmp(c, "string_agg")) ARGS(1, 2);
        else ARGS(1, 1);
        if (!strncmp(c, "quantile_", 9) || !strcmp(c, "string_agg")) {
            pl_type *t0 = arg_types[0];
            pl_type_id id = a0;
            if (!strcmp(c, "string_agg")) {
                if (id != PL_TYPE_UTF8 && id != PL_TYPE_BINARY && id != PL_TYPE_NA)
                    PL_FAIL(err, PL_ERR_TYPE, "no window aggregate string_agg(%s)", pl_type_to_string(t0, tb, sizeof tb));
                *out_type = pl_type_simple(id == PL_TYPE_BINARY ? PL_TYPE_BINARY : PL_TYPE_UTF8);
            } else if (!strcmp(c, "quantile_cont")) {
                if (!is_num_id(id) && id != PL_TYPE_NA && id != PL_TYPE_BOOL)
                    PL_FAIL(err, PL_ERR_TYPE, "no window aggregate %s(%s)", c, pl_type_to_string(t0, tb, sizeof tb));
                *out_type = pl_type_simple(PL_TYPE_FLOAT64);
            } else {
                if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP)
                    PL_FAIL(err, PL_ERR_TYPE, "no window aggregate %s(%s)", c, pl_type_to_string(t0, tb, sizeof tb));
                *out_type = t0->id == PL_TYPE_DICTIONARY ? pl_type_retain(t0->value_type) : pl_type_retain(t0);
            }
        } else {
            PL_TRY(pl_agg_bind(c, n_args, arg_types, NULL, false, out_type, err));
        }
    } else {
        PL_FAIL(err, PL_ERR_TYPE, "no window function %s", c);
    }
#undef ARGS
    return PL_OK;
}

/* ---------------------------------------------------------------- values */

static void value_init(pl_value *v) {
    memset(v, 0, sizeof *v);
    v->is_null = true;
}

void pl_win_value_reset(pl_value *v) {
    pl_type_release(v->type);
    pl_free(v->str);
    memset(v, 0, sizeof *v);
    v->is_null = true;
}

pl_status pl_win_value_copy(const pl_value *src, pl_value *dst, pl_error *err) {
    pl_value v = *src;
    v.str = NULL;
    if (src->str) {
        v.str = pl_malloc((size_t)src->str_len + 1);
        if (!v.str) PL_FAIL(err, PL_ERR_NOMEM, "out of memory copying a value");
        memcpy(v.str, src->str, (size_t)src->str_len);
        v.str[src->str_len] = 0;
    }
    v.type = src->type ? pl_type_retain(src->type) : NULL;
    *dst = v;
    return PL_OK;
}

/* ---------------------------------------------------------------- the sink */

typedef struct win_part {
    pl_batch *b;
    int64_t seq;
} win_part;

typedef struct win_local {
    win_part *parts;
    int64_t n_parts, cap;
    int64_t charged; /* bytes charged to the query for the buffered parts */
    char pad[64];
} win_local;

typedef struct win_sink {
    pl_schema *in, *out;
    int32_t n_specs;
    pl_window_spec *specs; /* copied: consts and frame offsets owned */
    int32_t n_workers;
    win_local *locals;
    pl_exec_ctx *ctx; /* charged memory not yet released is given back on free */
} win_sink;

static pl_status win_consume(pl_sink *sink, pl_exec_ctx *ctx, int32_t worker, int64_t seq,
                             pl_batch *in, pl_error *err) {
    win_sink *s = sink->impl;
    if (!in || in->n_rows == 0) return PL_OK;
    if (worker < 0 || worker >= s->n_workers)
        PL_FAIL(err, PL_ERR_INTERNAL, "window: worker id %d out of range", worker);
    win_local *l = &s->locals[worker];
    if (l->n_parts == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 16;
        win_part *np = pl_realloc(l->parts, sizeof(win_part) * (size_t)cap);
        if (!np) PL_FAIL(err, PL_ERR_NOMEM, "out of memory buffering window input");
        l->parts = np;
        l->cap = cap;
    }
    if (ctx) {
        int64_t bytes = pl_sort_batch_bytes(in);
        PL_TRY(pl_exec_charge(ctx, bytes, err));
        l->charged += bytes;
    }
    l->parts[l->n_parts++] = (win_part){pl_batch_retain(in), seq};
    return PL_OK;
}

static int cmp_part_seq(const void *a, const void *b) {
    int64_t x = ((const win_part *)a)->seq, y = ((const win_part *)b)->seq;
    return (x > y) - (x < y);
}

static bool same_window(const pl_window_spec *a, const pl_window_spec *b) {
    if (a->n_partition != b->n_partition || a->n_order != b->n_order) return false;
    for (int32_t i = 0; i < a->n_partition; i++)
        if (a->partition_cols[i] != b->partition_cols[i]) return false;
    for (int32_t i = 0; i < a->n_order; i++)
        if (a->order_cols[i] != b->order_cols[i] || a->order_desc[i] != b->order_desc[i] ||
            a->order_nulls_first[i] != b->order_nulls_first[i])
            return false;
    return true;
}

typedef struct par_state {
    atomic_int failed;
    pl_status st;
    pl_error err;
} par_state;

static void par_fail(par_state *ps, pl_status st, const pl_error *e) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&ps->failed, &expect, 1)) {
        ps->st = st;
        ps->err = *e;
    }
}

typedef struct concat_job {
    win_part *parts;
    int64_t n_parts;
    pl_batch **batches;
    pl_schema *schema;
    pl_array **cols;
    par_state ps;
} concat_job;

static void concat_task(void *arg, int64_t c, int32_t worker) {
    PL_UNUSED(worker);
    concat_job *j = arg;
    pl_error e;
    memset(&e, 0, sizeof e);
    pl_status st = pl_sort_concat_column(j->n_parts, j->batches, (int32_t)c,
                                         j->schema->fields[c].type, &j->cols[c], &e);
    if (st) par_fail(&j->ps, st, &e);
}

typedef struct out_job {
    win_sink *s;
    pl_array **cols;
    int64_t *ids;
    pl_array **results;
    int64_t n;
    pl_batch **out;
    par_state ps;
} out_job;

static void out_task(void *arg, int64_t bi, int32_t worker) {
    PL_UNUSED(worker);
    out_job *j = arg;
    if (atomic_load(&j->ps.failed)) return;
    pl_error e;
    memset(&e, 0, sizeof e);
    int64_t lo = bi * WIN_OUT_ROWS, n = PL_MIN(j->n - lo, WIN_OUT_ROWS);
    int32_t n_in = j->s->in->n_fields, n_out = n_in + j->s->n_specs;
    pl_array **cols = pl_calloc((size_t)n_out, sizeof(pl_array *));
    pl_status st = cols ? PL_OK : pl_error_set(&e, PL_ERR_NOMEM, "out of memory in window output");
    for (int32_t c = 0; !st && c < n_in; c++) st = pl_array_take(j->cols[c], j->ids + lo, n, &cols[c], &e);
    for (int32_t k = 0; !st && k < j->s->n_specs; k++)
        st = pl_array_slice(j->results[k], lo, n, &cols[n_in + k], &e);
    if (!st) {
        st = pl_batch_new(pl_schema_retain(j->s->out), n, cols, &j->out[bi], &e);
    } else if (cols) {
        for (int32_t c = 0; c < n_out; c++) pl_array_release(cols[c]);
    }
    pl_free(cols);
    if (st) par_fail(&j->ps, st, &e);
}

static pl_status win_finish(pl_sink *sink, pl_exec_ctx *ctx, pl_stream **out, pl_error *err) {
    win_sink *s = sink->impl;
    int64_t t0 = pl_now_ns();
    int32_t n_threads = ctx && ctx->n_threads > 0 ? ctx->n_threads : pl_pool_threads();
    int32_t n_in = s->in->n_fields;
    if (ctx) PL_TRY(pl_exec_check(ctx, err));
    pl_status st = PL_OK;
    int64_t n_parts = 0, n = 0, charged = 0;
    for (int32_t w = 0; w < s->n_workers; w++) n_parts += s->locals[w].n_parts;
    win_part *parts = pl_malloc(sizeof(win_part) * (size_t)PL_MAX(n_parts, 1));
    pl_batch **batches = pl_malloc(sizeof(pl_batch *) * (size_t)PL_MAX(n_parts, 1));
    pl_array **cols = pl_calloc((size_t)PL_MAX(n_in, 1), sizeof(pl_array *));
    pl_array **results = pl_calloc((size_t)PL_MAX(s->n_specs, 1), sizeof(pl_array *));
    int32_t *group_of = pl_calloc((size_t)PL_MAX(s->n_specs, 1), sizeof(int32_t));
    int64_t *ids0 = NULL, *inv = NULL, *idx = NULL;
    out_job oj;
    memset(&oj, 0, sizeof oj);
    pl_table *t = NULL;
    if (!parts || !batches || !cols || !results || !group_of) {
        pl_free(parts);
        parts = NULL;
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window");
        goto done;
    }
    {
        int64_t o = 0;
        for (int32_t w = 0; w < s->n_workers; w++) {
            win_local *l = &s->locals[w];
            for (int64_t i = 0; i < l->n_parts; i++) parts[o++] = l->parts[i];
            l->n_parts = 0;
            charged += l->charged;
            l->charged = 0;
        }
    }
    qsort(parts, (size_t)n_parts, sizeof(win_part), cmp_part_seq);
    for (int64_t i = 0; i < n_parts; i++) {
        batches[i] = parts[i].b;
        n += parts[i].b->n_rows;
    }
    {
        concat_job cj;
        memset(&cj, 0, sizeof cj);
        cj.parts = parts;
        cj.n_parts = n_parts;
        cj.batches = batches;
        cj.schema = s->in;
        cj.cols = cols;
        atomic_init(&cj.ps.failed, 0);
        pl_parallel_for(n_in, n_threads, concat_task, &cj);
        if (atomic_load(&cj.ps.failed)) {
            st = cj.ps.st;
            if (err) *err = cj.ps.err;
        }
    }
    for (int64_t i = 0; i < n_parts; i++) pl_batch_release(parts[i].b);
    n_parts = 0;
    if (ctx) pl_exec_charge(ctx, -charged, NULL); /* released; the concatenation replaces it */
    if (st) goto done;
    /* groups of specs with the same window */
    int32_t n_groups = 0;
    for (int32_t k = 0; k < s->n_specs; k++) {
        group_of[k] = -1;
        for (int32_t q = 0; q < k && group_of[k] < 0; q++)
            if (same_window(&s->specs[q], &s->specs[k])) group_of[k] = group_of[q];
        if (group_of[k] < 0) group_of[k] = n_groups++;
    }
    for (int32_t g = 0; g < n_groups && !st; g++) {
        if (ctx && (st = pl_exec_check(ctx, err))) break;
        int32_t first = 0;
        while (group_of[first] != g) first++;
        pl_win_group grp;
        st = pl_win_group_build(&s->specs[first], cols, n, n_threads, &grp, err);
        if (st) break;
        for (int32_t k = 0; k < s->n_specs && !st; k++) {
            if (group_of[k] != g) continue;
            pl_array *r = NULL;
            st = pl_win_eval(&s->specs[k], &grp, cols, n_threads, &r, err);
            if (st) break;
            if (g == 0) {
                results[k] = r;
                continue;
            }
            /* into the first group's order: position p holds row ids0[p], which sits at
             * position inv[ids0[p]] in this group */
            if (!inv) inv = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
            if (!idx) idx = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
            if (!inv || !idx) {
                pl_array_release(r);
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window");
                break;
            }
            for (int64_t p = 0; p < n; p++) inv[grp.ids[p]] = p;
            for (int64_t p = 0; p < n; p++) idx[p] = inv[ids0[p]];
            st = pl_array_take(r, idx, n, &results[k], err);
            pl_array_release(r);
        }
        if (g == 0 && !st) {
            ids0 = grp.ids;
            grp.ids = NULL;
        }
        pl_win_group_reset(&grp);
    }
    if (st) goto done;
    if (s->n_specs == 0) {
        ids0 = pl_malloc(sizeof(int64_t) * (size_t)PL_MAX(n, 1));
        if (!ids0) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window");
            goto done;
        }
        for (int64_t i = 0; i < n; i++) ids0[i] = i;
    }
    int64_t n_out = (n + WIN_OUT_ROWS - 1) / WIN_OUT_ROWS;
    oj.s = s;
    oj.cols = cols;
    oj.ids = ids0;
    oj.results = results;
    oj.n = n;
    atomic_init(&oj.ps.failed, 0);
    oj.out = pl_calloc((size_t)PL_MAX(n_out, 1), sizeof(pl_batch *));
    if (!oj.out) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in window");
        goto done;
    }
    pl_parallel_for(n_out, n_threads, out_task, &oj);
    if (atomic_load(&oj.ps.failed)) {
        st = oj.ps.st;
        if (err) *err = oj.ps.err;
        goto done;
    }
    st = pl_table_new(s->out, &t, err);
    for (int64_t i = 0; !st && i < n_out; i++) st = pl_table_append(t, oj.out[i], err);
    if (!st) st = pl_stream_from_table(t, out, err);
    if (!st) sink->rows_out = n;
done:
    if (oj.out)
        for (int64_t i = 0; i < (n + WIN_OUT_ROWS - 1) / WIN_OUT_ROWS; i++) pl_batch_release(oj.out[i]);
    pl_free(oj.out);
    pl_table_release(t);
    for (int64_t i = 0; i < n_parts; i++) pl_batch_release(parts[i].b);
    pl_free(parts);
    pl_free(batches);
    if (cols)
        for (int32_t c = 0; c < n_in; c++) pl_array_release(cols[c]);
    pl_free(cols);
    if (results)
        for (int32_t k = 0; k < s->n_specs; k++) pl_array_release(results[k]);
    pl_free(results);
    pl_free(group_of);
    pl_free(ids0);
    pl_free(inv);
    pl_free(idx);
    sink->time_ns += pl_now_ns() - t0;
    return st;
}

static void spec_reset(pl_window_spec *sp) {
    for (int32_t i = 0; i < 3; i++) pl_win_value_reset(&sp->consts[i]);
    pl_win_value_reset(&sp->frame.start_offset);
    pl_win_value_reset(&sp->frame.end_offset);
}

static void win_free(pl_sink *sink) {
    if (!sink) return;
    win_sink *s = sink->impl;
    if (s) {
        if (s->locals)
            for (int32_t w = 0; w < s->n_workers; w++) {
                for (int64_t i = 0; i < s->locals[w].n_parts; i++)
                    pl_batch_release(s->locals[w].parts[i].b);
                pl_free(s->locals[w].parts);
                if (s->ctx && s->locals[w].charged) pl_exec_charge(s->ctx, -s->locals[w].charged, NULL);
            }
        pl_free(s->locals);
        if (s->specs)
            for (int32_t k = 0; k < s->n_specs; k++) spec_reset(&s->specs[k]);
        pl_free(s->specs);
        pl_schema_release(s->in);
        pl_schema_release(s->out);
        pl_free(s);
    }
    pl_free(sink);
}

static pl_status check_col(const pl_schema *in, int32_t c, const char *what, const char *fn,
                           pl_error *err) {
    if (c < 0 || c >= in->n_fields)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "window %s: %s column %d out of range", fn, what, c);
    return PL_OK;
}

/* Checks a spec against the input schema and copies it (values deep-copied). */
static pl_status spec_copy(const pl_schema *in, const pl_window_spec *src, pl_window_spec *dst,
                           pl_error *err) {
    const char *fn = pl_window_canonical(src->name);
    if (!fn) PL_FAIL(err, PL_ERR_UNSUPPORTED, "window function %s is not supported", src->name);
    if (src->distinct) {
        static const char *const ok_fns[] = {"count", "sum", "avg", "min", "max", "bool_and",
                                             "bool_or", "var_samp", "var_pop", "stddev_samp",
                                             "stddev_pop"};
        bool agg = false;
        for (size_t i = 0; i < PL_ARRAY_LEN(ok_fns); i++) agg = agg || !strcmp(fn, ok_fns[i]);
        if (!agg || src->n_args != 1)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s(DISTINCT ...) OVER (...) is not supported "
                    "(DISTINCT: count, sum, avg, min, max, bool_and/or, variances)", fn);
        /* min, max, bool_and/or ignore DISTINCT; the others take any frame but EXCLUDE */
        const pl_window_frame *f = &src->frame;
        bool plain = !strcmp(fn, "min") || !strcmp(fn, "max") || !strncmp(fn, "bool_", 5);
        if (f->present && f->exclude != PL_EXCLUDE_NO_OTHERS && !plain)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "%s(DISTINCT ...) OVER (...) with a frame EXCLUDE is "
                    "not supported (DISTINCT takes any frame without EXCLUDE)", fn);
    }
    if (src->n_args < 0 || src->n_args > 3 || src->n_partition < 0 || src->n_partition > 8 ||
        src->n_order < 0 || src->n_order > 8)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "window %s: bad argument or key count", fn);
    for (int32_t i = 0; i < src->n_args; i++)
        if (src->args[i] >= 0) PL_TRY(check_col(in, src->args[i], "argument", fn, err));
    for (int32_t i = 0; i < src->n_partition; i++)
        PL_TRY(check_col(in, src->partition_cols[i], "partition", fn, err));
    for (int32_t i = 0; i < src->n_order; i++)
        PL_TRY(check_col(in, src->order_cols[i], "order", fn, err));
    if (src->filter_col >= 0) PL_TRY(check_col(in, src->filter_col, "filter", fn, err));
    if (!src->result_type) PL_FAIL(err, PL_ERR_INVALID_ARG, "window %s: no result type", fn);
    *dst = *src;
    dst->name = fn;
    for (int32_t i = 0; i < 3; i++) value_init(&dst->consts[i]);
    value_init(&dst->frame.start_offset);
    value_init(&dst->frame.end_offset);
    pl_status st = PL_OK;
    for (int32_t i = 0; i < 3 && !st; i++)
        if (src->consts[i].type) st = pl_win_value_copy(&src->consts[i], &dst->consts[i], err);
    if (!st && src->frame.start_offset.type)
        st = pl_win_value_copy(&src->frame.start_offset, &dst->frame.start_offset, err);
    if (!st && src->frame.end_offset.type)
        st = pl_win_value_copy(&src->frame.end_offset, &dst->frame.end_offset, err);
    if (st) spec_reset(dst);
    return st;
}

pl_status pl_window_sink_new(pl_exec_ctx *ctx, pl_schema *in, int32_t n_specs,
                             const pl_window_spec *specs, pl_schema *out_schema, pl_sink **out,
                             pl_error *err) {
    if (n_specs < 0 || !out_schema || out_schema->n_fields != in->n_fields + n_specs)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "window: output schema must have the %d input columns "
                "and one column per window function", in->n_fields);
    for (int32_t k = 0; k < n_specs; k++) {
        pl_type *rt = out_schema->fields[in->n_fields + k].type;
        if (specs[k].result_type && !pl_type_equals(rt, specs[k].result_type))
            PL_FAIL(err, PL_ERR_INVALID_ARG, "window: output column %d type differs from %s's result type",
                    in->n_fields + k, specs[k].name);
    }
    pl_sink *sink = pl_calloc(1, sizeof *sink);
    win_sink *s = pl_calloc(1, sizeof *s);
    if (!sink || !s) {
        pl_free(sink);
        pl_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a window operator");
    }
    sink->impl = s;
    sink->name = "window";
    sink->consume = win_consume;
    sink->finish = win_finish;
    sink->free = win_free;
    s->ctx = ctx;
    s->in = pl_schema_retain(in);
    s->out = pl_schema_retain(out_schema);
    s->n_workers = pl_pool_max_workers();
    s->locals = pl_calloc((size_t)s->n_workers, sizeof(win_local));
    s->specs = pl_calloc((size_t)PL_MAX(n_specs, 1), sizeof(pl_window_spec));
    if (!s->locals || !s->specs) {
        win_free(sink);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a window operator");
    }
    for (int32_t k = 0; k < n_specs; k++) {
        pl_status st = spec_copy(in, &specs[k], &s->specs[k], err);
        if (st) {
            win_free(sink);
            return st;
        }
        s->n_specs = k + 1;
        st = pl_win_check(&s->specs[k], in, err);
        if (st) {
            win_free(sink);
            return st;
        }
    }
    *out = sink;
    return PL_OK;
}
