/* io.c - the format-independent I/O layer: streams, the text readers' batch queue, glob
 * expansion, format detection, option defaults, and dispatch of pl_scan_open / pl_writer_open
 * to the per-format code (io_int.h). */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/core.h"
#include "io/codecs/codec.h"
#include "io/io_int.h"

/* ---------------------------------------------------------------- streams */

pl_status pl_stream_next(pl_stream *s, pl_batch **out, pl_error *err) {
    *out = NULL;
    return s->next(s, out, err);
}

void pl_stream_free(pl_stream *s) {
    if (s) s->free(s);
}

pl_status pl_stream_collect(pl_stream *s, pl_table **out, pl_error *err) {
    pl_table *t;
    PL_TRY(pl_table_new(s->schema, &t, err));
    for (;;) {
        pl_batch *b = NULL;
        pl_status st = pl_stream_next(s, &b, err);
        if (!st && b) st = pl_table_append(t, b, err);
        pl_batch_release(b);
        if (st) {
            pl_table_release(t);
            return st;
        }
        if (!b) break;
    }
    *out = t;
    return PL_OK;
}

typedef struct table_stream {
    pl_table *table;
    int64_t next;
} table_stream;

static pl_status table_stream_next(pl_stream *s, pl_batch **out, pl_error *err) {
    (void)err;
    table_stream *ts = s->impl;
    *out = ts->next < ts->table->n_batches ? pl_batch_retain(ts->table->batches[ts->next++]) : NULL;
    return PL_OK;
}

static void table_stream_free(pl_stream *s) {
    table_stream *ts = s->impl;
    pl_table_release(ts->table);
    pl_free(ts);
    pl_schema_release(s->schema);
    pl_free(s);
}

pl_status pl_io_stream_new(pl_status (*next)(pl_stream *, pl_batch **, pl_error *),
                           void (*free_fn)(pl_stream *), pl_schema *schema, void *impl,
                           pl_stream **out, pl_error *err) {
    pl_stream *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a stream");
    s->next = next;
    s->free = free_fn;
    s->schema = pl_schema_retain(schema);
    s->impl = impl;
    *out = s;
    return PL_OK;
}

const pl_read_opts *pl_read_opts_or_default(const pl_read_opts *opts, pl_read_opts *defaults) {
    if (opts) return opts;
    pl_read_opts_init(defaults);
    return defaults;
}

pl_status pl_stream_from_table(pl_table *t, pl_stream **out, pl_error *err) {
    table_stream *ts = pl_calloc(1, sizeof *ts);
    if (!ts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating a stream");
    ts->table = t;
    pl_status st = pl_io_stream_new(table_stream_next, table_stream_free, t->schema, ts, out, err);
    if (st) {
        pl_free(ts);
        return st;
    }
    pl_table_retain(t);
    return PL_OK;
}

/* ---------------------------------------------------------------- batch queues */

pl_status pl_batch_queue_push(pl_batch_queue *q, pl_batch *b, pl_error *err) {
    if (q->len == q->cap) {
        int64_t cap = q->cap ? q->cap * 2 : 16;
        pl_batch **v = pl_realloc(q->v, (size_t)cap * sizeof *v);
        if (!v) {
            pl_batch_release(b);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        q->v = v;
        q->cap = cap;
    }
    q->v[q->len++] = b;
    return PL_OK;
}

pl_status pl_batch_queue_pop(pl_batch_queue *q, int64_t *limit_left, pl_batch **out,
                             pl_error *err) {
    *out = NULL;
    if (q->head >= q->len) return PL_OK;
    pl_batch *b = q->v[q->head++];
    if (q->head == q->len) q->head = q->len = 0;
    if (*limit_left >= 0) {
        if (b->n_rows > *limit_left) {
            pl_batch *sl;
            pl_status st = pl_batch_slice(b, 0, *limit_left, &sl, err);
            pl_batch_release(b);
            PL_TRY(st);
            b = sl;
        }
        *limit_left -= b->n_rows;
    }
    *out = b;
    return PL_OK;
}

void pl_batch_queue_clear(pl_batch_queue *q) {
    for (int64_t k = q->head; k < q->len; k++) pl_batch_release(q->v[k]);
    q->head = q->len = 0;
}

void pl_batch_queue_free(pl_batch_queue *q) {
    pl_batch_queue_clear(q);
    pl_free(q->v);
    q->v = NULL;
    q->cap = 0;
}

pl_status pl_io_check_unchanged(const pl_buf *input, int32_t slot, const char *path,
                                pl_batch_queue *q, pl_status st, pl_error *err) {
    if (!input || slot < 0 || !pl_file_map_lost(slot)) return st;
    pl_batch_queue_clear(q);
    pl_error_init(err);
    pl_error_set_path(err, path);
    return pl_error_set(err, PL_ERR_IO, "file changed while it was being read (truncated to less "
                        "than its %lld bytes)", (long long)input->size);
}

/* ---------------------------------------------------------------- formats */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

pl_format pl_format_from_path(const char *path) {
    if (!path) return PL_FORMAT_AUTO;
    static const struct {
        const char *ext;
        pl_format f;
    } map[] = {{".parquet", PL_FORMAT_PARQUET}, {".pq", PL_FORMAT_PARQUET}, {".csv", PL_FORMAT_CSV},
               {".tsv", PL_FORMAT_CSV},         {".json", PL_FORMAT_JSON},  {".jsonl", PL_FORMAT_JSON},
               {".ndjson", PL_FORMAT_JSON},     {".arrow", PL_FORMAT_IPC},  {".arrows", PL_FORMAT_IPC},
               {".ipc", PL_FORMAT_IPC},         {".feather", PL_FORMAT_IPC}};
    for (size_t i = 0; i < PL_ARRAY_LEN(map); i++)
        if (ends_with(path, map[i].ext)) return map[i].f;
    /* text compressed whole (x.csv.gz, x.tsv.zst, x.json.gz): the format of the name without the suffix;
     * the readers decompress by the first bytes */
    static const char *const zext[] = {".gz", ".gzip", ".zst", ".zstd"};
    size_t len = strlen(path);
    for (size_t i = 0; i < PL_ARRAY_LEN(zext); i++) {
        size_t zl = strlen(zext[i]);
        if (len > zl && ends_with(path, zext[i])) {
            char inner[512];
            if (len - zl >= sizeof inner) return PL_FORMAT_AUTO;
            memcpy(inner, path, len - zl);
            inner[len - zl] = '\0';
            pl_format f = pl_format_from_path(inner);
            return f == PL_FORMAT_CSV || f == PL_FORMAT_JSON ? f : PL_FORMAT_AUTO;
        }
    }
    return PL_FORMAT_AUTO;
}

pl_format pl_format_from_name(const char *name) {
    if (!name) return PL_FORMAT_AUTO;
    if (!strcasecmp(name, "parquet")) return PL_FORMAT_PARQUET;
    if (!strcasecmp(name, "csv") || !strcasecmp(name, "tsv")) return PL_FORMAT_CSV;
    if (!strcasecmp(name, "json") || !strcasecmp(name, "jsonl") || !strcasecmp(name, "ndjson"))
        return PL_FORMAT_JSON;
    if (!strcasecmp(name, "arrow") || !strcasecmp(name, "ipc") || !strcasecmp(name, "arrows") ||
        !strcasecmp(name, "feather"))
        return PL_FORMAT_IPC;
    if (!strcasecmp(name, "table")) return PL_FORMAT_TABLE;
    return PL_FORMAT_AUTO;
}

void pl_read_opts_init(pl_read_opts *o) {
    memset(o, 0, sizeof *o);
    o->limit = -1;
    o->csv_header = -1;
    o->json_records = -1;
}

void pl_write_opts_init(pl_write_opts *o) {
    memset(o, 0, sizeof *o);
    o->codec = PL_CODEC_DEFAULT;
    o->use_dictionary = true;
    o->write_statistics = true;
    o->csv_header = true;
}

/* ---------------------------------------------------------------- globs */

static bool has_wildcard(const char *p) { return strpbrk(p, "*?[") != NULL; }

static void free_paths(char **paths, int32_t n) {
    for (int32_t i = 0; i < n; i++) pl_free(paths[i]);
    pl_free(paths);
}

pl_status pl_glob_expand(int32_t n_paths, const char *const *paths, char ***out_paths,
                         int32_t *out_n, pl_error *err) {
    char **res = NULL;
    int32_t n = 0, cap = 0;
    for (int32_t i = 0; i < n_paths; i++) {
        glob_t g;
        memset(&g, 0, sizeof g);
        size_t n_match = 1;
        bool globbed = false;
        /* A file whose name merely contains '*', '?' or '[' is taken as it is. */
        if (has_wildcard(paths[i]) && access(paths[i], F_OK) != 0) {
            int rc = glob(paths[i], 0, NULL, &g);
            if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
                globfree(&g);
                free_paths(res, n);
                pl_error_set_path(err, paths[i]);
                PL_FAIL(err, PL_ERR_NOT_FOUND, "no file matches the pattern");
            }
            if (rc != 0) {
                globfree(&g);
                free_paths(res, n);
                pl_error_set_path(err, paths[i]);
                PL_FAIL(err, PL_ERR_IO, "cannot expand the pattern");
            }
            n_match = g.gl_pathc;
            globbed = true;
        }
        for (size_t k = 0; k < n_match; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                char **r = pl_realloc(res, sizeof(char *) * (size_t)cap);
                if (!r) {
                    if (globbed) globfree(&g);
                    free_paths(res, n);
                    PL_FAIL(err, PL_ERR_NOMEM, "out of memory expanding paths");
                }
                res = r;
            }
            res[n] = pl_strdup(globbed ? g.gl_pathv[k] : paths[i]);
            if (!res[n]) {
                if (globbed) globfree(&g);
                free_paths(res, n);
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory expanding paths");
            }
            n++;
        }
        if (globbed) globfree(&g);
    }
    *out_paths = res;
    *out_n = n;
    return PL_OK;
}

/* ---------------------------------------------------------------- scan dispatch */

/* Bytes read from the start of a file whose extension names no format. */
#define PL_SNIFF_BYTES 8

/* Format from a file's first bytes: Parquet magic ("PAR1", or "PARE" when encrypted), the
 * Arrow file magic or an IPC stream's continuation marker; PL_FORMAT_AUTO if none matches or
 * the file cannot be read (the reader then reports why). */
static pl_format sniff_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return PL_FORMAT_AUTO;
    unsigned char b[PL_SNIFF_BYTES];
    size_t n = fread(b, 1, sizeof b, fp);
    fclose(fp);
    if (n >= 4 && (!memcmp(b, "PAR1", 4) || !memcmp(b, "PARE", 4))) return PL_FORMAT_PARQUET;
    if (n >= 6 && !memcmp(b, "ARROW1", 6)) return PL_FORMAT_IPC;
    if (n >= 4 && b[0] == 0xFF && b[1] == 0xFF && b[2] == 0xFF && b[3] == 0xFF) return PL_FORMAT_IPC;
    return PL_FORMAT_AUTO;
}

static pl_status scan_open(int32_t n_paths, const char *const *paths, pl_format format,
                           const pl_read_opts *opts, const pl_scan_pred *pred, pl_stream **out,
                           pl_error *err);

pl_status pl_scan_open(int32_t n_paths, const char *const *paths, pl_format format,
                       const pl_read_opts *opts, pl_stream **out, pl_error *err) {
    return scan_open(n_paths, paths, format, opts, NULL, out, err);
}

pl_status pl_scan_open_pred(int32_t n_paths, const char *const *paths, pl_format format,
                            const pl_read_opts *opts, const pl_scan_pred *pred, pl_stream **out,
                            pl_error *err) {
    return scan_open(n_paths, paths, format, opts, pred, out, err);
}

static pl_status scan_open(int32_t n_paths, const char *const *paths, pl_format format,
                           const pl_read_opts *opts, const pl_scan_pred *pred, pl_stream **out,
                           pl_error *err) {
    if (n_paths <= 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "no input files given");
    pl_read_opts defaults;
    opts = pl_read_opts_or_default(opts, &defaults);
    char **files = NULL;
    int32_t n_files = 0;
    PL_TRY(pl_glob_expand(n_paths, paths, &files, &n_files, err));
    if (format == PL_FORMAT_AUTO) format = pl_format_from_path(files[0]);
    if (format == PL_FORMAT_AUTO) format = sniff_file(files[0]);
    pl_status st;
    const char *const *cf = (const char *const *)files;
    switch (format) {
    case PL_FORMAT_PARQUET:
        st = pred ? pl_pq_scan_open_pred(n_files, cf, opts, pred, out, err)
                  : pl_pq_scan_open(n_files, cf, opts, out, err);
        break;
    case PL_FORMAT_CSV:
    case PL_FORMAT_IPC:
    case PL_FORMAT_JSON:
        if (pred) {
            st = pl_error_set(err, PL_ERR_UNSUPPORTED, "predicates are evaluated in Parquet "
                              "scans only");
            break;
        }
        st = format == PL_FORMAT_CSV    ? pl_csv_scan_open(n_files, cf, opts, out, err)
             : format == PL_FORMAT_JSON ? pl_json_scan_open(n_files, cf, opts, out, err)
                                        : pl_ipc_scan_open(n_files, cf, opts, out, err);
        break;
    case PL_FORMAT_AUTO:
        pl_error_set_path(err, files[0]);
        if (access(files[0], R_OK) != 0) {
            st = pl_error_set(err, errno == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO,
                              "cannot open file: %s", strerror(errno));
            break;
        }
        st = pl_error_set(err, PL_ERR_INVALID_ARG,
                          "cannot tell the file format from the extension or the first bytes");
        if (err) snprintf(err->hint, sizeof err->hint, "use .parquet, .csv, .json, .arrow or name the format");
        break;
    default:
        st = pl_error_set(err, PL_ERR_UNSUPPORTED, "this format can be written but not read");
        break;
    }
    free_paths(files, n_files);
    return st;
}

pl_status pl_read_table(int32_t n_paths, const char *const *paths, pl_format format,
                        const pl_read_opts *opts, pl_table **out, pl_error *err) {
    pl_stream *s;
    PL_TRY(pl_scan_open(n_paths, paths, format, opts, &s, err));
    pl_status st = pl_stream_collect(s, out, err);
    pl_stream_free(s);
    return st;
}

/* ---------------------------------------------------------------- writers */

pl_status pl_writer_open(const char *path, pl_format format, pl_schema *schema,
                         const pl_write_opts *opts, pl_writer **out, pl_error *err) {
    pl_write_opts defaults;
    if (!opts) {
        pl_write_opts_init(&defaults);
        opts = &defaults;
    }
    if (path && !strcmp(path, "-")) path = NULL;
    if (format == PL_FORMAT_AUTO) format = path ? pl_format_from_path(path) : PL_FORMAT_TABLE;
    switch (format) {
    case PL_FORMAT_PARQUET: return pl_pq_writer_open(path, schema, opts, out, err);
    case PL_FORMAT_CSV: return pl_csv_writer_open(path, schema, opts, out, err);
    case PL_FORMAT_JSON: return pl_json_writer_open(path, schema, opts, out, err);
    case PL_FORMAT_IPC: return pl_ipc_writer_open(path, schema, opts, out, err);
    case PL_FORMAT_TABLE: return pl_table_writer_open(path, schema, opts, out, err);
    default:
        if (path) pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "cannot tell the output format from the extension");
    }
}

pl_status pl_writer_write(pl_writer *w, pl_batch *b, pl_error *err) { return w->write(w, b, err); }
pl_status pl_writer_finish(pl_writer *w, pl_error *err) { return w->finish(w, err); }
void pl_writer_free(pl_writer *w) {
    if (w) w->free(w);
}

pl_status pl_write_stream(pl_stream *s, const char *path, pl_format format,
                          const pl_write_opts *opts, pl_error *err) {
    pl_writer *w;
    PL_TRY(pl_writer_open(path, format, s->schema, opts, &w, err));
    pl_status st = PL_OK;
    for (;;) {
        pl_batch *b = NULL;
        st = pl_stream_next(s, &b, err);
        if (st || !b) break;
        st = pl_writer_write(w, b, err);
        pl_batch_release(b);
        if (st) break;
    }
    if (!st) st = pl_writer_finish(w, err);
    pl_writer_free(w);
    return st;
}
