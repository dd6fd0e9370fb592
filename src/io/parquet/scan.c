/* scan.c - the Parquet pl_stream: one or more files with equal schemas, read as a sequence of
 * (file, row group) units. Each refill decodes a bounded window of units - every projected
 * column of every unit is one task of a single pl_parallel_for - so all cores work while
 * memory stays bounded by the window (a file larger than memory streams). A unit yields one
 * batch, split into slices of at most batch_rows rows; the row limit stops planning early and
 * trims the last batch. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "compute/compute.h"
#include "io/io_int.h"
#include "pq_int.h"

#define PQ_DEFAULT_BATCH_ROWS (1LL << 20)
/* A refill plans units until it has PQ_WINDOW_TASKS_PER_THREAD tasks per thread and
 * PQ_WINDOW_MIN_BYTES of data, and never more than PQ_WINDOW_MAX_BYTES (uncompressed bytes of
 * the projected columns). Every window ends in a barrier where threads that finished wait for
 * the last task: 48 MiB windows (93 for the 50 tick files) idled ~4% of the threads' time
 * under load, 192 MiB ones (24 windows) ~1%. */
#define PQ_WINDOW_MIN_BYTES (192LL << 20)
#define PQ_WINDOW_MAX_BYTES (256LL << 20)
#define PQ_WINDOW_TASKS_PER_THREAD 4
#define PQ_WINDOW_MAX_UNITS 256
/* Flat columns of a window are decoded into exactly sized views of one slab when it is at
 * least this large (one mapping instead of hundreds of 1 MiB buffers; huge pages while they
 * are cheap, see pl_aligned_alloc_huge). */
#define PQ_SLAB_MIN_BYTES (4LL << 20)
/* Outputs of at least this size are filled by copy (pl_fill_copy) where the kernel allows it:
 * they get page-aligned views at the start of the slab, which is registered as a fill region
 * while the window decodes (no fault + zeroing + write per page: ~40% less kernel time). */
#define PQ_FILL_MIN_BYTES (64LL << 10)
#define PQ_FILL_PAGE 4096
/* A window with a predicate runs one task per unit (row group) when it has at least two units
 * per thread or at most this many rows; otherwise each step runs over all its columns. */
#define PQ_FUSED_MAX_ROWS (256LL * 1024)

typedef struct pq_unit {
    int32_t file, rg;
} pq_unit;

enum { PQ_TASK_READ = 0, PQ_TASK_READ_SEL, PQ_TASK_TAKE, PQ_TASK_NULLS, PQ_TASK_MATCH };

typedef struct pq_task {
    int32_t unit; /* index into the window */
    int32_t col;
    int32_t kind; /* PQ_TASK_*: whole column, selected rows, selected rows of a predicate column,
                     NULLs (a column nobody reads) */
    pl_pq_prealloc pre;
    pl_array *out;
    pl_status st;
    pl_error err;
} pq_task;

typedef struct pq_scan {
    int32_t n_files;
    pl_pq_file **files;
    int32_t n_cols;
    int32_t *cols; /* [file * n_cols + k]: field index of projected column k in each file */
    bool *keep;    /* per projected column */
    pl_schema *schema;
    pq_unit *units;
    int64_t n_units, next_unit;
    int64_t rows_left; /* -1 = no limit */
    int64_t batch_rows;
    int32_t threads;
    pl_pq_scratch *scr;
    int32_t n_scr;
    /* batches decoded and not yet returned */
    pl_batch **ready;
    int64_t n_ready, ready_pos, cap_ready;
    /* the window being decoded */
    pq_unit *win;
    int64_t *win_rows;
    pq_task *tasks;
    /* late materialisation: a predicate over columns pred_cols[0..n_pred) (projected
     * positions); pred_pos[k] is column k's position among them or -1 */
    bool has_pred;
    pl_scan_pred pred;
    int32_t n_pred;
    int32_t *pred_cols, *pred_pos;
    bool *skip; /* per projected column: all NULL in the output (nobody reads it) */
    pl_schema *pred_schema;
    pl_schema *pred_vschema; /* the same with dictionary columns as their value type */
    bool *win_match;         /* per unit: the predicate ran on the dictionary (match mode) */
    pl_array **pout;   /* [unit * n_pred + i]: the window's predicate columns */
    pl_array **uout;   /* [unit * n_cols + k]: the window's output columns */
    int32_t **win_sel; /* per unit: the passing rows */
    int64_t *win_nsel;
    pl_status *win_st;
    pl_error *win_err;
    /* the window's fill region (plan_slab): registered while its tasks run; fill_slab holds a
     * reference so the range stays mapped until it is unregistered */
    struct pq_slab *fill_slab;
    int64_t fill_bytes;
    /* the order in which a window's tasks are handed out: largest first, so that the window
     * ends on small tasks and no thread idles long at its end */
    struct pq_order *order;
    /* unit-parallel reading (pl_pq_scan_units): units of each file not yet finished, and the
     * lock over reopening/closing descriptors */
    int64_t *file_left;
    bool fd_lock_init;
    pthread_mutex_t fd_lock;
} pq_scan;

typedef struct pq_order {
    int64_t cost;
    int64_t task;
} pq_order;

/* ---------------------------------------------------------------- scratch recycling
 * A scan's per-worker scratch buffers go to a small free list when it ends, so that many short
 * scans (point queries on a server) do not allocate and fault in their buffers every time. */
#define PQ_SCR_FREE_SETS 4
#define PQ_SCR_KEEP_BYTES (16LL << 20) /* larger sets are freed */

static pthread_mutex_t g_scr_lock = PTHREAD_MUTEX_INITIALIZER;
static pl_pq_scratch *g_scr_free[PQ_SCR_FREE_SETS];
static int32_t g_scr_free_n[PQ_SCR_FREE_SETS];
static int32_t g_scr_n_free;

static int64_t scratch_bytes(const pl_pq_scratch *s) {
    return s->chunk_cap + s->page_cap + s->tmp_cap + s->idx_cap + s->lv_cap + s->bits_cap +
           s->di_cap + s->dict_cap + s->msel_cap + s->fill_cap;
}

static pl_pq_scratch *scratch_get(int32_t n) {
    pl_pq_scratch *s = NULL;
    pthread_mutex_lock(&g_scr_lock);
    for (int32_t i = g_scr_n_free - 1; i >= 0 && !s; i--) {
        if (g_scr_free_n[i] != n) continue;
        s = g_scr_free[i];
        g_scr_free[i] = g_scr_free[g_scr_n_free - 1];
        g_scr_free_n[i] = g_scr_free_n[g_scr_n_free - 1];
        g_scr_n_free--;
    }
    pthread_mutex_unlock(&g_scr_lock);
    return s ? s : pl_calloc((size_t)n, sizeof *s);
}

static void scratch_put(pl_pq_scratch *s, int32_t n) {
    if (!s) return;
    int64_t bytes = 0;
    for (int32_t w = 0; w < n; w++) bytes += scratch_bytes(&s[w]);
    bool kept = false;
    if (bytes <= PQ_SCR_KEEP_BYTES) {
        pthread_mutex_lock(&g_scr_lock);
        if (g_scr_n_free < PQ_SCR_FREE_SETS) {
            g_scr_free[g_scr_n_free] = s;
            g_scr_free_n[g_scr_n_free++] = n;
            kept = true;
        }
        pthread_mutex_unlock(&g_scr_lock);
    }
    if (kept) return;
    for (int32_t w = 0; w < n; w++) pl_pq_scratch_reset(&s[w]);
    pl_free(s);
}

static void scan_free(pl_stream *s) {
    if (!s) return;
    pq_scan *q = s->impl;
    if (q) {
        for (int32_t k = 0; k < q->n_files; k++) pl_pq_file_close(q->files[k]);
        pl_free(q->files);
        pl_free(q->cols);
        pl_free(q->keep);
        pl_schema_release(q->schema);
        pl_free(q->units);
        scratch_put(q->scr, q->n_scr);
        for (int64_t k = q->ready_pos; k < q->n_ready; k++) pl_batch_release(q->ready[k]);
        pl_free(q->ready);
        pl_free(q->win);
        pl_free(q->win_rows);
        pl_free(q->tasks);
        pl_free(q->order);
        pl_free(q->pred_cols);
        pl_free(q->pred_pos);
        pl_free(q->skip);
        pl_schema_release(q->pred_schema);
        pl_schema_release(q->pred_vschema);
        pl_free(q->win_match);
        pl_free(q->pout);
        pl_free(q->uout);
        pl_free(q->win_sel);
        pl_free(q->win_nsel);
        pl_free(q->win_st);
        pl_free(q->win_err);
        pl_free(q->file_left);
        if (q->fd_lock_init) pthread_mutex_destroy(&q->fd_lock);
        pl_free(q);
    }
    pl_free(s);
}

static void run_task(pq_scan *q, pq_task *t, int32_t worker);
static pl_status dict_pred(void *arg, pl_array *values, uint8_t *pass, pl_error *err);

static void task_fn(void *arg, int64_t i, int32_t worker) {
    pq_scan *q = arg;
    run_task(q, &q->tasks[i], worker);
}

static void ordered_task_fn(void *arg, int64_t i, int32_t worker) {
    pq_scan *q = arg;
    run_task(q, &q->tasks[q->order[i].task], worker);
}

static int cmp_order(const void *a, const void *b) {
    const pq_order *x = a, *y = b;
    if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
    return (x->task > y->task) - (x->task < y->task);
}

/* Uncompressed bytes of the projected columns of unit u (the row group's total when the
 * metadata has no sizes). */
static int64_t unit_bytes(const pq_scan *q, const pq_unit *u) {
    const pl_pq_file *f = q->files[u->file];
    const pl_pq_row_group *g = &f->md.row_groups[u->rg];
    int64_t bytes = 0;
    for (int32_t k = 0; k < q->n_cols; k++) {
        const pl_pq_node *node = &f->tree.fields[q->cols[u->file * q->n_cols + k]];
        for (int32_t l = 0; l < node->n_leaves; l++) {
            int64_t b = g->columns[node->first_leaf + l].total_uncompressed_size;
            if (b > 0) bytes += b;
        }
    }
    return bytes > 0 ? bytes : PL_MAX(g->total_byte_size, 0);
}

/* Orders tasks [0, n) by their column chunks' uncompressed bytes, largest first. */
static void order_tasks(pq_scan *q, int64_t n) {
    for (int64_t t = 0; t < n; t++) {
        const pq_task *k = &q->tasks[t];
        const pq_unit *u = &q->win[k->unit];
        const pl_pq_file *f = q->files[u->file];
        const pl_pq_node *node = &f->tree.fields[q->cols[u->file * q->n_cols + k->col]];
        const pl_pq_row_group *g = &f->md.row_groups[u->rg];
        int64_t cost = 0;
        for (int32_t l = 0; l < node->n_leaves; l++) {
            int64_t b = g->columns[node->first_leaf + l].total_uncompressed_size;
            if (b > 0) cost += b;
        }
        q->order[t].cost = cost;
        q->order[t].task = t;
    }
    qsort(q->order, (size_t)n, sizeof *q->order, cmp_order);
}

static void run_task(pq_scan *q, pq_task *t, int32_t worker) {
    const pq_unit *u = &q->win[t->unit];
    pl_pq_file *f = q->files[u->file];
    pl_error_init(&t->err);
    t->out = NULL;
    /* Fault the task's output in with one call instead of one trap per 4 KiB page (and time
     * huge pages' first touch for the allocator); each task populates its own view, so the
     * work is spread over the pool. */
    if (t->pre.values && !t->pre.fill)
        pl_alloc_populate(t->pre.values->data, (size_t)t->pre.values->size);
    int32_t field = q->cols[u->file * q->n_cols + t->col];
    if (t->kind == PQ_TASK_READ_SEL)
        t->st = pl_pq_read_field_sel(f, u->rg, field, q->keep[t->col], q->win_sel[t->unit],
                                     q->win_nsel[t->unit], &q->scr[worker], &t->out, &t->err);
    else if (t->kind == PQ_TASK_MATCH) {
        /* the predicate's column of a unit: on the dictionary when it can, else decoded */
        bool matched = false;
        t->st = pl_pq_match_field(f, u->rg, field, dict_pred, q, &q->scr[worker],
                                  &q->win_sel[t->unit], &q->win_nsel[t->unit], &matched, &t->err);
        q->win_match[t->unit] = matched;
        if (!t->st && matched) {
            if (q->pred.passed) q->pred.passed(q->pred.arg, q->win_nsel[t->unit]);
            pl_buf_release(t->pre.values);
            pl_buf_release(t->pre.validity);
            t->pre.values = t->pre.validity = NULL;
        } else if (!t->st) {
            t->st = pl_pq_read_field(f, u->rg, field, q->keep[t->col], -1, &t->pre,
                                     &q->scr[worker], &t->out, &t->err);
        }
    } else if (t->kind == PQ_TASK_NULLS)
        t->st = pl_array_new_nulls(q->schema->fields[t->col].type, q->win_nsel[t->unit], &t->out,
                                   &t->err);
    else if (t->kind == PQ_TASK_TAKE)
        t->st = pl_array_take_i32(q->pout[(int64_t)t->unit * q->n_pred + q->pred_pos[t->col]],
                                  q->win_sel[t->unit], q->win_nsel[t->unit], &t->out, &t->err);
    else
        t->st = pl_pq_read_field(f, u->rg, field, q->keep[t->col], q->win_rows[t->unit],
                                 &t->pre, &q->scr[worker], &t->out, &t->err);
}

/* Evaluates the predicate over the predicate columns of window unit i. */
static void eval_fn(void *arg, int64_t i, int32_t worker) {
    PL_UNUSED(worker);
    pq_scan *q = arg;
    if (q->win_match[i]) return; /* evaluated on the dictionary */
    pl_error_init(&q->win_err[i]);
    q->win_sel[i] = NULL;
    q->win_nsel[i] = 0;
    pl_array **pc = &q->pout[i * q->n_pred];
    pl_array **cols = pl_calloc((size_t)q->n_pred, sizeof *cols);
    if (!cols) {
        q->win_st[i] = pl_error_set(&q->win_err[i], PL_ERR_NOMEM, "out of memory filtering rows");
        return;
    }
    for (int32_t k = 0; k < q->n_pred; k++) cols[k] = pl_array_retain(pc[k]);
    pl_batch *b = NULL;
    pl_status st = pl_batch_make(q->pred_schema, pc[0]->length, cols, &b, &q->win_err[i]);
    pl_free(cols);
    if (!st) st = q->pred.eval(q->pred.arg, b, &q->win_sel[i], &q->win_nsel[i], &q->win_err[i]);
    pl_batch_release(b);
    q->win_st[i] = st;
}

static pl_status push_ready(pq_scan *q, pl_batch *b, pl_error *err) {
    if (q->n_ready == q->cap_ready) {
        int64_t cap = q->cap_ready ? q->cap_ready * 2 : 16;
        pl_batch **r = pl_realloc(q->ready, (size_t)cap * sizeof *r);
        if (!r) {
            pl_batch_release(b);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory queueing batches");
        }
        q->ready = r;
        q->cap_ready = cap;
    }
    q->ready[q->n_ready++] = b;
    return PL_OK;
}

/* Turns the columns of one decoded unit into batches (split, limited). Takes the arrays. */
static pl_status emit_unit(pq_scan *q, int64_t rows, pl_array **cols, pl_error *err) {
    pl_batch *b;
    PL_TRY(pl_batch_new(pl_schema_retain(q->schema), rows, cols, &b, err));
    if (q->rows_left >= 0 && rows > q->rows_left) {
        /* with a predicate the limit counts passing rows */
        pl_batch *s = NULL;
        pl_status st = pl_batch_slice(b, 0, q->rows_left, &s, err);
        pl_batch_release(b);
        PL_TRY(st);
        b = s;
        rows = q->rows_left;
    }
    if (q->rows_left >= 0) q->rows_left -= rows;
    if (rows <= q->batch_rows) return push_ready(q, b, err);
    pl_status st = PL_OK;
    for (int64_t off = 0; off < rows && !st; off += q->batch_rows) {
        pl_batch *s;
        st = pl_batch_slice(b, off, PL_MIN(q->batch_rows, rows - off), &s, err);
        if (!st) st = push_ready(q, s, err);
    }
    pl_batch_release(b);
    return st;
}

/* ---------------------------------------------------------------- slabs */

typedef struct pq_slab {
    uint8_t *base;
    int64_t size;
    int64_t refs; /* atomic: one per buffer view, plus the planner's while it hands them out */
} pq_slab;

static void slab_unref(pq_slab *sl) {
    if (__atomic_sub_fetch(&sl->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
    pl_aligned_free(sl->base, (size_t)sl->size);
    pl_free(sl);
}

static void slab_buf_release(pl_buf *b) { slab_unref(b->owner); }

static pl_status slab_view(pq_slab *sl, int64_t *off, int64_t bytes, pl_buf **out, pl_error *err) {
    __atomic_add_fetch(&sl->refs, 1, __ATOMIC_RELAXED);
    pl_status st = pl_buf_wrap(sl->base + *off, bytes, slab_buf_release, sl, out, err);
    if (st) {
        slab_unref(sl);
        return st;
    }
    *off += bytes;
    return PL_OK;
}

/* Whether task k's values go to the fill region (see PQ_FILL_MIN_BYTES). */
static bool task_fills(const pq_task *k, int64_t vb, bool fill) {
    return fill && k->kind == PQ_TASK_READ && vb >= PQ_FILL_MIN_BYTES;
}

/* Gives every flat task of the window exactly sized output buffers carved from one slab.
 * Without a slab (small windows, OOM) tasks allocate their own buffers. With allow_fill, large
 * values buffers come first, each on its own pages, in a range registered as a fill region
 * (q->fill_slab, unregistered by end_fill once the tasks ran). */
static void plan_slab(pq_scan *q, int64_t n_tasks, bool allow_fill) {
    /* fill regions replace the populate path, not huge pages (cheaper still where they work) */
    bool fill = allow_fill && !pl_alloc_huge_on() && pl_fill_on();
    int64_t total = 0, fill_total = 0;
    for (int64_t t = 0; t < n_tasks; t++) {
        pq_task *k = &q->tasks[t];
        const pq_unit *u = &q->win[k->unit];
        int64_t vb, nb;
        pl_pq_field_sizes(q->files[u->file], u->rg, q->cols[u->file * q->n_cols + k->col],
                          q->keep[k->col], &vb, &nb);
        if (task_fills(k, vb, fill)) fill_total += PL_ALIGN_UP(vb, PQ_FILL_PAGE);
        else total += vb;
        total += nb;
    }
    total += fill_total;
    if (total < PQ_SLAB_MIN_BYTES) return;
    pq_slab *sl = pl_calloc(1, sizeof *sl);
    if (!sl) return;
    sl->base = pl_aligned_alloc_huge((size_t)total);
    if (!sl->base) {
        pl_free(sl);
        return;
    }
    sl->size = total;
    sl->refs = 1;
    /* the region must be fresh pages of one plain mapping: page-aligned, not a huge block */
    unsigned char resident = 0;
    if (fill_total > 0 && ((uintptr_t)sl->base & (PQ_FILL_PAGE - 1)) == 0 &&
        !pl_alloc_is_huge(sl->base) &&
        !(mincore(sl->base, PQ_FILL_PAGE, &resident) == 0 && (resident & 1)) &&
        pl_fill_register(sl->base, (size_t)fill_total)) {
        __atomic_add_fetch(&sl->refs, 1, __ATOMIC_RELAXED);
        q->fill_slab = sl;
        q->fill_bytes = fill_total;
    } else {
        fill = false;
    }
    int64_t off = 0, fill_off = 0, rest_off = fill && fill_total > 0 ? fill_total : 0;
    for (int64_t t = 0; t < n_tasks; t++) {
        pq_task *k = &q->tasks[t];
        const pq_unit *u = &q->win[k->unit];
        int64_t vb, nb;
        pl_pq_field_sizes(q->files[u->file], u->rg, q->cols[u->file * q->n_cols + k->col],
                          q->keep[k->col], &vb, &nb);
        if (vb == 0) continue;
        if (task_fills(k, vb, fill)) {
            off = fill_off;
            if (slab_view(sl, &off, vb, &k->pre.values, NULL)) break;
            k->pre.fill = true;
            fill_off += PL_ALIGN_UP(vb, PQ_FILL_PAGE);
        } else {
            off = rest_off;
            if (slab_view(sl, &off, vb, &k->pre.values, NULL)) break;
            rest_off = off;
        }
        off = rest_off;
        if (nb > 0 && slab_view(sl, &off, nb, &k->pre.validity, NULL)) break;
        rest_off = off;
    }
    slab_unref(sl);
}

/* Unregisters the window's fill region (every task has run: its pages are filled, or were
 * never handed out) and drops the planner's reference on its slab. */
static void end_fill(pq_scan *q) {
    if (!q->fill_slab) return;
    pl_fill_unregister(q->fill_slab->base, (size_t)q->fill_bytes);
    slab_unref(q->fill_slab);
    q->fill_slab = NULL;
    q->fill_bytes = 0;
}

static void set_task(pq_task *t, int64_t unit, int32_t col, int32_t kind) {
    t->unit = (int32_t)unit;
    t->col = col;
    t->kind = kind;
    t->out = NULL;
    t->st = PL_OK;
    t->pre.values = t->pre.validity = NULL;
    t->pre.fill = false;
}

/* First error of tasks [0, n), or PL_OK. */
static pl_status tasks_status(pq_scan *q, int64_t n, pl_error *err) {
    for (int64_t t = 0; t < n; t++)
        if (q->tasks[t].st) {
            if (err) *err = q->tasks[t].err;
            return q->tasks[t].st;
        }
    return PL_OK;
}

/* Files whose row groups are all decoded give their descriptors back. */
static void drop_done_fds(pq_scan *q, int64_t n_win) {
    int32_t next_file = q->next_unit < q->n_units ? q->units[q->next_unit].file : q->n_files;
    for (int64_t u = 0; u < n_win; u++)
        if (q->win[u].file < next_file && q->n_files > 1) pl_pq_file_drop_fd(q->files[q->win[u].file]);
}

/* Checks that the predicate columns of unit u have the row group's rows. */
static pl_status check_pred_rows(pq_scan *q, int64_t u, pl_error *err) {
    if (q->win_match[u]) return PL_OK;
    int64_t rows = q->files[q->win[u].file]->md.row_groups[q->win[u].rg].num_rows;
    for (int32_t i = 0; i < q->n_pred; i++) {
        pl_array *a = q->pout[u * q->n_pred + i];
        if (a->length != rows)
            PL_FAIL(err, PL_ERR_CORRUPT, "column has %lld rows but the row group has %lld",
                    (long long)a->length, (long long)rows);
    }
    return PL_OK;
}

/* The kind of task that makes projected column k of unit u once the predicate ran; -1 when
 * the predicate's own column is used as it is (every row passed). */
static int32_t sel_task_kind(const pq_scan *q, int64_t u, int32_t k) {
    if (q->skip[k]) return PQ_TASK_NULLS;
    bool all = q->win_nsel[u] == q->files[q->win[u].file]->md.row_groups[q->win[u].rg].num_rows;
    if (q->pred_pos[k] >= 0 && !q->win_match[u]) return all ? -1 : PQ_TASK_TAKE;
    return all ? PQ_TASK_READ : PQ_TASK_READ_SEL;
}

/* Match mode's predicate over a dictionary's values (pl_pq_dict_pred_fn). */
static pl_status dict_pred(void *arg, pl_array *values, uint8_t *pass, pl_error *err) {
    pq_scan *q = arg;
    pl_array *cols[1] = {pl_array_retain(values)};
    pl_batch *b = NULL;
    PL_TRY(pl_batch_make(q->pred_vschema, values->length, cols, &b, err));
    int32_t *sel = NULL;
    int64_t n = 0;
    pl_status st = q->pred.eval_values(q->pred.arg, b, &sel, &n, err);
    pl_batch_release(b);
    for (int64_t i = 0; i < n && !st; i++) pass[sel[i]] = 1;
    pl_free(sel);
    return st;
}

/* One unit decoded start to end on one worker: predicate columns, predicate, the other
 * columns of the passing rows (outputs in uout; status in win_st/win_err). */
static void unit_fn(void *arg, int64_t u, int32_t worker) {
    pq_scan *q = arg;
    pl_error *err = &q->win_err[u];
    pl_error_init(err);
    pl_status st = PL_OK;
    pq_task tk;
    memset(&tk, 0, sizeof tk);
    bool matched = false;
    if (q->pred.eval_values && q->n_pred == 1) {
        /* a dictionary-encoded predicate column: the predicate runs on the dictionary, the
         * rows come from the codes (the column's values are decoded later if projected) */
        pl_pq_file *f = q->files[q->win[u].file];
        st = pl_pq_match_field(f, q->win[u].rg, q->cols[q->win[u].file * q->n_cols + q->pred_cols[0]],
                               dict_pred, q, &q->scr[worker], &q->win_sel[u], &q->win_nsel[u],
                               &matched, err);
        if (!st && matched && q->pred.passed) q->pred.passed(q->pred.arg, q->win_nsel[u]);
    }
    q->win_match[u] = matched;
    for (int32_t i = 0; i < q->n_pred && !st && !matched; i++) {
        set_task(&tk, u, q->pred_cols[i], PQ_TASK_READ);
        pl_pq_file *f = q->files[q->win[u].file];
        st = pl_pq_read_field(f, q->win[u].rg, q->cols[q->win[u].file * q->n_cols + tk.col],
                              q->keep[tk.col], -1, NULL, &q->scr[worker],
                              &q->pout[u * q->n_pred + i], err);
    }
    if (!st && !matched) st = check_pred_rows(q, u, err);
    if (!st && !matched) {
        eval_fn(q, u, worker);
        st = q->win_st[u];
    }
    for (int32_t k = 0; k < q->n_cols && !st && q->win_nsel[u] > 0; k++) {
        int32_t kind = sel_task_kind(q, u, k);
        pl_array **o = &q->uout[u * q->n_cols + k];
        if (kind < 0) {
            *o = pl_array_retain(q->pout[u * q->n_pred + q->pred_pos[k]]);
            continue;
        }
        set_task(&tk, u, k, kind);
        run_task(q, &tk, worker);
        st = tk.st;
        if (st) *err = tk.err;
        *o = tk.out;
    }
    q->win_st[u] = st;
}

/* A window with a predicate: the predicate columns of every unit are decoded, the predicate
 * evaluated per unit, then the other columns decoded for the passing rows only (units where
 * no row passes cost nothing more; where all pass, columns are decoded whole). Windows of
 * many units (or few rows) run one task per unit; others run each step over all columns of
 * the window in parallel. */
static pl_status refill_pred(pq_scan *q, int64_t n_win, pl_error *err) {
    int32_t np = q->n_pred, nc = q->n_cols;
    int64_t win_rows = 0;
    for (int64_t u = 0; u < n_win; u++)
        win_rows += q->files[q->win[u].file]->md.row_groups[q->win[u].rg].num_rows;
    pl_status st = PL_OK;
    for (int64_t u = 0; u < n_win; u++) {
        q->win_st[u] = PL_OK;
        q->win_match[u] = false;
    }
    if (n_win >= 2 * (int64_t)q->threads || win_rows <= PQ_FUSED_MAX_ROWS) {
        pl_parallel_for(n_win, q->threads, unit_fn, q);
    } else {
        int64_t n_tasks = n_win * np;
        int32_t first = q->pred.eval_values && np == 1 ? PQ_TASK_MATCH : PQ_TASK_READ;
        for (int64_t u = 0; u < n_win; u++)
            for (int32_t i = 0; i < np; i++)
                set_task(&q->tasks[u * np + i], u, q->pred_cols[i], first);
        plan_slab(q, n_tasks, false);
        pl_parallel_for(n_tasks, q->threads, task_fn, q);
        st = tasks_status(q, n_tasks, err);
        for (int64_t t = 0; t < n_tasks; t++) {
            q->pout[t] = q->tasks[t].out;
            q->tasks[t].out = NULL;
        }
        for (int64_t u = 0; u < n_win && !st; u++) st = check_pred_rows(q, u, err);
        if (!st) pl_parallel_for(n_win, q->threads, eval_fn, q);
        /* the other columns of units with passing rows */
        n_tasks = 0;
        for (int64_t u = 0; u < n_win && !st; u++) {
            if (q->win_st[u]) break;
            for (int32_t k = 0; k < nc && q->win_nsel[u] > 0; k++) {
                int32_t kind = sel_task_kind(q, u, k);
                if (kind < 0) q->uout[u * nc + k] = pl_array_retain(q->pout[u * np + q->pred_pos[k]]);
                else set_task(&q->tasks[n_tasks++], u, k, kind);
            }
        }
        pl_parallel_for(n_tasks, q->threads, task_fn, q);
        if (!st) st = tasks_status(q, n_tasks, err);
        for (int64_t t = 0; t < n_tasks; t++) {
            q->uout[q->tasks[t].unit * nc + q->tasks[t].col] = q->tasks[t].out;
            q->tasks[t].out = NULL;
        }
    }
    for (int64_t u = 0; u < n_win && !st; u++)
        if (q->win_st[u]) {
            st = q->win_st[u];
            if (err) *err = q->win_err[u];
        }
    drop_done_fds(q, n_win);
    for (int64_t u = 0; u < n_win && !st; u++) {
        if (q->win_nsel[u] == 0 || q->rows_left == 0) continue;
        st = emit_unit(q, q->win_nsel[u], &q->uout[u * nc], err);
        for (int32_t k = 0; k < nc; k++) q->uout[u * nc + k] = NULL; /* taken */
    }
    for (int64_t u = 0; u < n_win; u++) {
        for (int32_t k = 0; k < nc; k++) {
            pl_array_release(q->uout[u * nc + k]);
            q->uout[u * nc + k] = NULL;
        }
        for (int32_t i = 0; i < np; i++) {
            pl_array_release(q->pout[u * np + i]);
            q->pout[u * np + i] = NULL;
        }
        pl_free(q->win_sel[u]);
        q->win_sel[u] = NULL;
        q->win_nsel[u] = 0;
    }
    if (st) q->next_unit = q->n_units;
    return st;
}

static pl_status refill(pq_scan *q, pl_error *err) {
    /* reset the queue */
    q->n_ready = q->ready_pos = 0;
    /* plan the window */
    int64_t n_win = 0, bytes = 0, planned_rows = 0;
    int64_t want_tasks = (int64_t)q->threads * PQ_WINDOW_TASKS_PER_THREAD;
    while (q->next_unit < q->n_units) {
        if (!q->has_pred && q->rows_left >= 0 && planned_rows >= q->rows_left) break;
        const pq_unit *u = &q->units[q->next_unit];
        const pl_pq_row_group *g = &q->files[u->file]->md.row_groups[u->rg];
        int64_t ub = unit_bytes(q, u);
        if (n_win > 0 && (bytes + ub > PQ_WINDOW_MAX_BYTES ||
                          n_win >= PQ_WINDOW_MAX_UNITS ||
                          (n_win * (q->n_cols > 0 ? q->n_cols : 1) >= want_tasks &&
                           bytes >= PQ_WINDOW_MIN_BYTES)))
            break;
        q->win[n_win] = *u;
        int64_t rows = g->num_rows;
        if (!q->has_pred && q->rows_left >= 0 && rows > q->rows_left - planned_rows)
            rows = q->rows_left - planned_rows;
        q->win_rows[n_win] = rows < g->num_rows ? rows : -1;
        planned_rows += rows;
        bytes += ub;
        n_win++;
        q->next_unit++;
    }
    if (n_win == 0) return PL_OK;
    for (int64_t u = 0; u < n_win; u++) PL_TRY(pl_pq_file_ensure_fd(q->files[q->win[u].file], err));
    if (q->has_pred) return refill_pred(q, n_win, err);
    int64_t n_tasks = n_win * q->n_cols;
    for (int64_t u = 0; u < n_win; u++)
        for (int32_t k = 0; k < q->n_cols; k++) {
            pq_task *t = &q->tasks[u * q->n_cols + k];
            t->unit = (int32_t)u;
            t->col = k;
            t->kind = PQ_TASK_READ;
            t->out = NULL;
            t->st = PL_OK;
            t->pre.values = t->pre.validity = NULL;
            t->pre.fill = false;
        }
    plan_slab(q, n_tasks, true);
    order_tasks(q, n_tasks);
    pl_parallel_for(n_tasks, q->threads, ordered_task_fn, q);
    end_fill(q);
    /* files whose row groups are all decoded give their descriptors back */
    int32_t next_file = q->next_unit < q->n_units ? q->units[q->next_unit].file : q->n_files;
    for (int64_t u = 0; u < n_win; u++)
        if (q->win[u].file < next_file && q->n_files > 1) pl_pq_file_drop_fd(q->files[q->win[u].file]);
    pl_status st = PL_OK;
    for (int64_t t = 0; t < n_tasks; t++) {
        if (q->tasks[t].st && !st) {
            st = q->tasks[t].st;
            if (err) *err = q->tasks[t].err;
        }
    }
    if (st) {
        for (int64_t t = 0; t < n_tasks; t++) pl_array_release(q->tasks[t].out);
        q->next_unit = q->n_units;
        return st;
    }
    for (int64_t u = 0; u < n_win && !st; u++) {
        const pl_pq_row_group *g = &q->files[q->win[u].file]->md.row_groups[q->win[u].rg];
        int64_t rows = q->win_rows[u] >= 0 ? q->win_rows[u] : g->num_rows;
        pl_array **cols = pl_calloc((size_t)(q->n_cols > 0 ? q->n_cols : 1), sizeof *cols);
        if (!cols) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory building a batch");
            break;
        }
        for (int32_t k = 0; k < q->n_cols; k++) {
            pq_task *t = &q->tasks[u * q->n_cols + k];
            pl_array *a = t->out;
            t->out = NULL;
            if (!st && a->length != rows) {
                pl_array *s;
                st = pl_array_slice(a, 0, rows, &s, err);
                pl_array_release(a);
                a = st ? NULL : s;
            }
            cols[k] = a;
        }
        if (!st) st = emit_unit(q, rows, cols, err);
        else
            for (int32_t k = 0; k < q->n_cols; k++) pl_array_release(cols[k]);
        pl_free(cols);
    }
    for (int64_t t = 0; t < n_tasks; t++) {
        pl_array_release(q->tasks[t].out);
        q->tasks[t].out = NULL;
    }
    return st;
}

static pl_status scan_next(pl_stream *s, pl_batch **out, pl_error *err) {
    pq_scan *q = s->impl;
    *out = NULL;
    while (q->ready_pos >= q->n_ready) {
        if (q->next_unit >= q->n_units || q->rows_left == 0) return PL_OK;
        PL_TRY(refill(q, err));
    }
    *out = q->ready[q->ready_pos];
    q->ready[q->ready_pos++] = NULL;
    return PL_OK;
}

/* ---------------------------------------------------------------- unit-parallel reading
 * The pipeline driver's tasks decode units themselves, each unit start to end on one thread
 * and consumed there at once (no window, no barrier between decoding and consuming). Task
 * slot s uses window position s for its unit's state. */

bool pl_pq_scan_units(pl_stream *s, int64_t *n_units, int32_t *max_slots) {
    if (!s || s->next != scan_next) return false;
    pq_scan *q = s->impl;
    if (q->rows_left >= 0 || q->next_unit != 0 || q->n_ready != 0) return false;
    if (!q->file_left) {
        q->file_left = pl_calloc((size_t)q->n_files, sizeof *q->file_left);
        if (!q->file_left) return false;
        for (int64_t u = 0; u < q->n_units; u++) q->file_left[q->units[u].file]++;
    }
    if (!q->fd_lock_init) {
        if (pthread_mutex_init(&q->fd_lock, NULL) != 0) return false;
        q->fd_lock_init = true;
    }
    *n_units = q->n_units;
    /* the window arrays hold min(PQ_WINDOW_MAX_UNITS, n_units) + 1 units */
    *max_slots = (int32_t)PL_MIN((int64_t)PQ_WINDOW_MAX_UNITS, q->n_units);
    return true;
}

int64_t pl_pq_scan_unit_rows(pl_stream *s, int64_t i) {
    pq_scan *q = s->impl;
    return q->files[q->units[i].file]->md.row_groups[q->units[i].rg].num_rows;
}

/* The unit's columns into cols[0..n_cols) (rows in *rows) using window position `slot`. */
static pl_status unit_columns(pq_scan *q, int32_t slot, int32_t worker, pl_array **cols,
                              int64_t *rows, pl_error *err) {
    int32_t nc = q->n_cols, np = q->n_pred;
    pl_status st = PL_OK;
    if (q->has_pred) {
        q->win_st[slot] = PL_OK;
        q->win_match[slot] = false;
        q->win_sel[slot] = NULL;
        q->win_nsel[slot] = 0;
        unit_fn(q, slot, worker);
        st = q->win_st[slot];
        if (st && err) *err = q->win_err[slot];
        *rows = q->win_nsel[slot];
        for (int32_t k = 0; k < nc; k++) {
            cols[k] = q->uout[(int64_t)slot * nc + k];
            q->uout[(int64_t)slot * nc + k] = NULL;
        }
        for (int32_t i = 0; i < np; i++) {
            pl_array_release(q->pout[(int64_t)slot * np + i]);
            q->pout[(int64_t)slot * np + i] = NULL;
        }
        pl_free(q->win_sel[slot]);
        q->win_sel[slot] = NULL;
        q->win_nsel[slot] = 0;
        return st;
    }
    for (int32_t k = 0; k < nc && !st; k++) {
        pq_task tk;
        memset(&tk, 0, sizeof tk);
        set_task(&tk, slot, k, PQ_TASK_READ);
        run_task(q, &tk, worker);
        st = tk.st;
        if (st) {
            if (err) *err = tk.err;
            break;
        }
        pl_array *a = tk.out;
        if (a->length != *rows) {
            pl_array *sl = NULL;
            st = pl_array_slice(a, 0, *rows, &sl, err);
            pl_array_release(a);
            a = st ? NULL : sl;
        }
        cols[k] = a;
    }
    return st;
}

pl_status pl_pq_scan_unit(pl_stream *s, int64_t i, int32_t slot, int32_t worker, pl_batch **out,
                          pl_error *err) {
    pq_scan *q = s->impl;
    *out = NULL;
    const pq_unit *un = &q->units[i];
    pl_pq_file *f = q->files[un->file];
    pthread_mutex_lock(&q->fd_lock);
    pl_status st = pl_pq_file_ensure_fd(f, err);
    pthread_mutex_unlock(&q->fd_lock);
    PL_TRY(st);
    q->win[slot] = *un;
    q->win_rows[slot] = -1;
    int64_t rows = f->md.row_groups[un->rg].num_rows;
    int32_t nc = q->n_cols;
    pl_array **cols = pl_calloc((size_t)(nc > 0 ? nc : 1), sizeof *cols);
    if (!cols) PL_FAIL(err, PL_ERR_NOMEM, "out of memory building a batch");
    st = unit_columns(q, slot, worker, cols, &rows, err);
    /* the file's last unit gives its descriptor back */
    if (__atomic_sub_fetch(&q->file_left[un->file], 1, __ATOMIC_ACQ_REL) == 0 && q->n_files > 1) {
        pthread_mutex_lock(&q->fd_lock);
        pl_pq_file_drop_fd(f);
        pthread_mutex_unlock(&q->fd_lock);
    }
    if (!st && rows > 0) {
        st = pl_batch_new(pl_schema_retain(q->schema), rows, cols, out, err);
    } else {
        for (int32_t k = 0; k < nc; k++) pl_array_release(cols[k]);
    }
    pl_free(cols);
    return st;
}

/* ---------------------------------------------------------------- opening */

static bool fields_equal(const pl_field *a, const pl_field *b) {
    return strcmp(a->name, b->name) == 0 && pl_type_equals(a->type, b->type);
}

static pl_status check_schema(pq_scan *q, int32_t fi, const char *const *paths, pl_error *err) {
    pl_schema *a = pl_pq_file_schema(q->files[0]), *b = pl_pq_file_schema(q->files[fi]);
    char ta[128], tb[128];
    for (int32_t k = 0; k < q->n_cols; k++) {
        int32_t ia = q->cols[k];
        const pl_field *fa = &a->fields[ia];
        int32_t ib = pl_schema_find(b, fa->name);
        if (ib < 0)
            PL_FAIL(err, PL_ERR_TYPE, "schemas differ: column \"%s\" of \"%s\" is missing in "
                    "\"%s\"", fa->name, paths[0], paths[fi]);
        if (!fields_equal(fa, &b->fields[ib]))
            PL_FAIL(err, PL_ERR_TYPE, "schemas differ: column \"%s\" is %s in \"%s\" but %s in "
                    "\"%s\"", fa->name, pl_type_to_string(fa->type, ta, sizeof ta), paths[0],
                    pl_type_to_string(b->fields[ib].type, tb, sizeof tb), paths[fi]);
        q->cols[fi * q->n_cols + k] = ib;
    }
    if (q->n_cols == a->n_fields && b->n_fields != a->n_fields)
        PL_FAIL(err, PL_ERR_TYPE, "schemas differ: \"%s\" has %d columns, \"%s\" has %d", paths[0],
                a->n_fields, paths[fi], b->n_fields);
    return PL_OK;
}

static pl_status scan_setup(pq_scan *q, int32_t n_paths, const char *const *paths,
                            const pl_read_opts *opts, const pl_pq_read_opts *pq, pl_error *err) {
    q->files = pl_calloc((size_t)n_paths, sizeof *q->files);
    if (!q->files) PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening files");
    for (int32_t k = 0; k < n_paths; k++) {
        PL_TRY(pl_pq_file_open(paths[k], &q->files[k], err));
        q->n_files = k + 1;
        /* descriptors are reopened when the file's row groups are decoded */
        if (n_paths > 1) pl_pq_file_drop_fd(q->files[k]);
    }
    pl_schema *s0 = pl_pq_file_schema(q->files[0]);
    q->n_cols = opts->columns ? opts->n_columns : s0->n_fields;
    size_t nc = (size_t)(q->n_cols > 0 ? q->n_cols : 1);
    q->cols = pl_calloc(nc * (size_t)n_paths, sizeof *q->cols);
    q->keep = pl_calloc(nc, sizeof *q->keep);
    if (!q->cols || !q->keep) PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening files");
    for (int32_t k = 0; k < q->n_cols; k++) {
        if (opts->columns) {
            int32_t i = pl_schema_find(s0, opts->columns[k]);
            if (i < 0) {
                pl_error_set_path(err, paths[0]);
                PL_FAIL(err, PL_ERR_NOT_FOUND, "column \"%s\" not found", opts->columns[k]);
            }
            q->cols[k] = i;
        } else {
            q->cols[k] = k;
        }
    }
    for (int32_t fi = 1; fi < n_paths; fi++) PL_TRY(check_schema(q, fi, paths, err));
    /* keep-dictionary columns: only when every file allows it */
    pl_field *fields = pl_calloc(nc, sizeof *fields);
    if (!fields) PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening files");
    pl_status st = PL_OK;
    for (int32_t k = 0; k < q->n_cols && !st; k++) {
        bool keep = pq && pq->keep_dictionary;
        for (int32_t fi = 0; fi < n_paths && keep; fi++)
            keep = pl_pq_field_all_dict(q->files[fi], q->cols[fi * q->n_cols + k]);
        q->keep[k] = keep;
        const pl_field *src = &s0->fields[q->cols[k]];
        fields[k].name = src->name;
        fields[k].nullable = src->nullable;
        st = pl_pq_field_type(q->files[0], q->cols[k], keep, &fields[k].type, err);
    }
    if (!st) st = pl_schema_new(q->n_cols, fields, &q->schema, err);
    for (int32_t k = 0; k < q->n_cols; k++) pl_type_release(fields[k].type);
    pl_free(fields);
    if (st) return st;
    for (int32_t k = 0; k < s0->n_meta && !st; k++)
        st = pl_schema_add_meta(q->schema, s0->meta_keys[k], s0->meta_values[k], err);
    if (st) return st;
    /* units */
    int64_t n_units = 0;
    for (int32_t fi = 0; fi < n_paths; fi++)
        n_units += opts->row_groups ? opts->n_row_groups : q->files[fi]->md.n_row_groups;
    q->units = pl_calloc((size_t)(n_units > 0 ? n_units : 1), sizeof *q->units);
    if (!q->units) PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning the scan");
    for (int32_t fi = 0; fi < n_paths; fi++) {
        const pl_pq_metadata *md = &q->files[fi]->md;
        int32_t n = opts->row_groups ? opts->n_row_groups : md->n_row_groups;
        for (int32_t k = 0; k < n; k++) {
            int32_t rg = opts->row_groups ? opts->row_groups[k] : k;
            if (rg < 0 || rg >= md->n_row_groups) {
                pl_error_set_path(err, paths[fi]);
                PL_FAIL(err, PL_ERR_INVALID_ARG, "row group %d out of range (file has %d)", rg,
                        md->n_row_groups);
            }
            if (md->row_groups[rg].num_rows == 0) continue;
            q->units[q->n_units].file = fi;
            q->units[q->n_units].rg = rg;
            q->n_units++;
        }
    }
    q->rows_left = opts->limit;
    q->batch_rows = opts->batch_rows > 0 ? opts->batch_rows : PQ_DEFAULT_BATCH_ROWS;
    int32_t threads = opts->n_threads > 0 ? opts->n_threads : (pq ? pq->n_threads : 0);
    q->threads = threads > 0 ? threads : pl_pool_threads();
    q->n_scr = pl_pool_max_workers();
    q->scr = scratch_get(q->n_scr);
    /* a window never holds more units than the scan has */
    int64_t max_win = PL_MIN((int64_t)PQ_WINDOW_MAX_UNITS, q->n_units) + 1;
    q->win = pl_calloc((size_t)max_win, sizeof *q->win);
    q->win_rows = pl_calloc((size_t)max_win, sizeof *q->win_rows);
    q->tasks = pl_calloc((size_t)(max_win * (int64_t)nc), sizeof *q->tasks);
    q->order = pl_calloc((size_t)(max_win * (int64_t)nc), sizeof *q->order);
    if (!q->scr || !q->win || !q->win_rows || !q->tasks || !q->order)
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning the scan");
    return PL_OK;
}

static pl_status pred_setup(pq_scan *q, const pl_scan_pred *pred, pl_error *err) {
    int32_t np = pred->n_cols;
    if (np <= 0 || !pred->eval)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "a scan predicate needs a function and columns");
    q->has_pred = true;
    q->pred = *pred;
    q->pred.cols = NULL;
    q->n_pred = np;
    size_t nc = (size_t)(q->n_cols > 0 ? q->n_cols : 1);
    /* a window never holds more units than the scan has */
    int64_t max_win = PL_MIN((int64_t)PQ_WINDOW_MAX_UNITS, q->n_units) + 1;
    q->pred_cols = pl_calloc((size_t)np, sizeof *q->pred_cols);
    q->pred_pos = pl_calloc(nc, sizeof *q->pred_pos);
    q->skip = pl_calloc(nc, sizeof *q->skip);
    pl_field *f = pl_calloc((size_t)np, sizeof *f);
    q->pout = pl_calloc((size_t)(max_win * np), sizeof *q->pout);
    q->uout = pl_calloc((size_t)max_win * nc, sizeof *q->uout);
    q->win_sel = pl_calloc((size_t)max_win, sizeof *q->win_sel);
    q->win_nsel = pl_calloc((size_t)max_win, sizeof *q->win_nsel);
    q->win_st = pl_calloc((size_t)max_win, sizeof *q->win_st);
    q->win_err = pl_calloc((size_t)max_win, sizeof *q->win_err);
    q->win_match = pl_calloc((size_t)max_win, sizeof *q->win_match);
    if (!q->pred_cols || !q->pred_pos || !q->skip || !f || !q->pout || !q->uout || !q->win_sel || !q->win_nsel ||
        !q->win_st || !q->win_err || !q->win_match) {
        pl_free(f);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory planning the scan");
    }
    for (int32_t k = 0; k < q->n_cols; k++) {
        q->pred_pos[k] = -1;
        q->skip[k] = pred->skip && pred->skip[k];
    }
    pl_status st = PL_OK;
    for (int32_t i = 0; i < np && !st; i++) {
        int32_t k = pred->cols[i];
        if (k < 0 || k >= q->n_cols || q->pred_pos[k] >= 0)
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "bad predicate column %d", k);
        else {
            q->pred_cols[i] = k;
            q->pred_pos[k] = i;
            f[i] = q->schema->fields[k];
        }
    }
    if (!st) st = pl_schema_new(np, f, &q->pred_schema, err);
    for (int32_t i = 0; i < np && !st; i++)
        if (f[i].type->id == PL_TYPE_DICTIONARY) f[i].type = f[i].type->value_type;
    if (!st) st = pl_schema_new(np, f, &q->pred_vschema, err);
    pl_free(f);
    return st;
}

pl_status pl_pq_scan_open_ex(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                             const pl_pq_read_opts *pq, pl_stream **out, pl_error *err) {
    return pl_pq_scan_open_pred_ex(n_paths, paths, opts, pq, NULL, out, err);
}

pl_status pl_pq_scan_open_pred_ex(int32_t n_paths, const char *const *paths,
                                  const pl_read_opts *opts, const pl_pq_read_opts *pq,
                                  const pl_scan_pred *pred, pl_stream **out, pl_error *err) {
    if (n_paths < 1) PL_FAIL(err, PL_ERR_INVALID_ARG, "no parquet file to read");
    pl_read_opts def;
    opts = pl_read_opts_or_default(opts, &def);
    pl_stream *s = pl_calloc(1, sizeof *s);
    pq_scan *q = pl_calloc(1, sizeof *q);
    if (!s || !q) {
        pl_free(s);
        pl_free(q);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening a parquet scan");
    }
    s->impl = q;
    s->next = scan_next;
    s->free = scan_free;
    pl_status st = scan_setup(q, n_paths, paths, opts, pq, err);
    if (!st && pred) st = pred_setup(q, pred, err);
    if (st) {
        scan_free(s);
        return st;
    }
    s->schema = q->schema;
    *out = s;
    return PL_OK;
}

pl_status pl_pq_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                          pl_stream **out, pl_error *err) {
    pl_pq_read_opts pq;
    pl_pq_read_opts_init(&pq);
    pq.keep_dictionary = !(opts && opts->decode_dictionary);
    return pl_pq_scan_open_ex(n_paths, paths, opts, &pq, out, err);
}

pl_status pl_pq_scan_open_pred(int32_t n_paths, const char *const *paths,
                               const pl_read_opts *opts, const pl_scan_pred *pred,
                               pl_stream **out, pl_error *err) {
    pl_pq_read_opts pq;
    pl_pq_read_opts_init(&pq);
    pq.keep_dictionary = !(opts && opts->decode_dictionary);
    return pl_pq_scan_open_pred_ex(n_paths, paths, opts, &pq, pred, out, err);
}
