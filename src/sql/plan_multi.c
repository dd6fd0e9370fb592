/* plan_multi.c - reads of several files whose schemas differ, as DuckDB reads them.
 *
 * Without union_by_name (Parquet and Arrow IPC: files with schemas of their own) the first
 * file's columns are the result's: a later file's columns are matched to them by name (exact,
 * else ignoring case; any order), its other columns are ignored, its values are cast to the
 * first file's types, and a file without one of the columns is an error naming it.
 * union_by_name=true (every format; CSV and JSON files are sniffed one by one) unions the
 * columns of all files by name in first-seen order: a column a file lacks is NULL there, and a
 * column's type is the widest of its files' types (VARCHAR when one of them is).
 *
 * Plan: when every file has the same schema, one multi-file scan (the usual case costs
 * nothing: the caller runs sq_multi_plan, which opens the files one by one, only when the
 * multi-file scan refuses them, or for union_by_name). Otherwise the files are grouped into runs of consecutive files
 * with equal schemas; each run is one scan projected onto the result's columns, and the runs
 * are concatenated (UNION ALL) in file order. Hive partitions (plan_hive.c) scan their runs
 * through sq_multi_scan, so both combine. */
#include "expr/expr_int.h"
#include "sql/plan_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void sq_multi_reset(sq_multi *m) {
    for (int32_t i = 0; m->schemas && i < m->n_files; i++) pl_schema_release(m->schemas[i]);
    pl_free(m->schemas);
    pl_schema_release(m->target);
    memset(m, 0, sizeof *m);
}

/* The schema a scan of path alone has. */
static pl_status file_schema(const char *path, pl_format fmt, const pl_read_opts *opts,
                             pl_schema **out, pl_error *err) {
    pl_read_opts ro;
    if (opts) ro = *opts;
    else pl_read_opts_init(&ro);
    ro.limit = 0;
    ro.csv_filename = NULL; /* added by sq_multi_scan when the schemas differ */
    pl_stream *s = NULL;
    PL_TRY(pl_scan_open(1, &path, fmt, &ro, &s, err));
    *out = pl_schema_retain(s->schema);
    pl_stream_free(s);
    return PL_OK;
}

/* Field index of name in s: exact, else ignoring case; -1 when absent. */
static int32_t find_name(const pl_schema *s, const char *name) {
    int32_t i = pl_schema_find(s, name);
    for (int32_t k = 0; i < 0 && k < s->n_fields; k++)
        if (!strcasecmp(s->fields[k].name, name)) i = k;
    return i;
}

static const pl_type *value_type(const pl_type *t) {
    return t->id == PL_TYPE_DICTIONARY ? t->value_type : t;
}

bool sq_same_columns(const pl_schema *a, const pl_schema *b) {
    if (a->n_fields != b->n_fields) return false;
    for (int32_t k = 0; k < a->n_fields; k++)
        if (strcmp(a->fields[k].name, b->fields[k].name) ||
            !pl_type_equals(value_type(a->fields[k].type), value_type(b->fields[k].type)))
            return false;
    return true;
}

/* The type union_by_name gives a column of types a and b: VARCHAR when one is, else the
 * common supertype (NULL when there is none). */
static pl_type *widen(const pl_type *a, const pl_type *b) {
    a = value_type(a);
    b = value_type(b);
    if (pl_type_equals(a, b)) return pl_type_retain((pl_type *)a);
    if (a->id == PL_TYPE_UTF8 || b->id == PL_TYPE_UTF8) return pl_type_simple(PL_TYPE_UTF8);
    return pl_type_common_super(a, b);
}

static pl_status type_clash(const char *name, const pl_type *a, const char *pa, const pl_type *b,
                            const char *pb, pl_error *err) {
    char ta[128], tb[128];
    pl_error_set(err, PL_ERR_TYPE, "column \"%s\" is %s in \"%s\" but %s in \"%s\": no common type",
                 name, pl_type_to_string(value_type(a), ta, sizeof ta), pa,
                 pl_type_to_string(value_type(b), tb, sizeof tb), pb);
    if (err) snprintf(err->hint, sizeof err->hint, "cast the column in a query per file and combine them with UNION ALL");
    return PL_ERR_TYPE;
}

/* union_by_name: the columns of all files, first seen first, of their widened types. */
static pl_status union_schema(sq_multi *m, const char *const *files, pl_error *err) {
    int32_t cap = 0;
    for (int32_t f = 0; f < m->n_files; f++) cap += m->schemas[f]->n_fields;
    pl_field *fields = pl_calloc((size_t)PL_MAX(cap, 1), sizeof *fields);
    int32_t *from = pl_calloc((size_t)PL_MAX(cap, 1), sizeof *from); /* file that added it */
    if (!fields || !from) {
        pl_free(fields);
        pl_free(from);
        return pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    }
    int32_t n = 0;
    pl_status st = PL_OK;
    for (int32_t f = 0; !st && f < m->n_files; f++) {
        const pl_schema *s = m->schemas[f];
        for (int32_t k = 0; !st && k < s->n_fields; k++) {
            const pl_field *fd = &s->fields[k];
            int32_t i = 0;
            while (i < n && strcmp(fields[i].name, fd->name)) i++;
            for (int32_t j = 0; i == n && j < n; j++)
                if (!strcasecmp(fields[j].name, fd->name)) i = j;
            if (i == n) {
                fields[n].name = fd->name;
                fields[n].nullable = true;
                fields[n].type = pl_type_retain((pl_type *)value_type(fd->type));
                from[n++] = f;
                continue;
            }
            pl_type *w = widen(fields[i].type, fd->type);
            if (!w) {
                st = type_clash(fd->name, fields[i].type, files[from[i]], fd->type, files[f], err);
                break;
            }
            pl_type_release(fields[i].type);
            fields[i].type = w;
        }
    }
    if (!st) st = pl_schema_new(n, fields, &m->target, err);
    for (int32_t i = 0; i < n; i++) pl_type_release(fields[i].type);
    pl_free(fields);
    pl_free(from);
    return st;
}

/* Without union_by_name: every later file must have the first file's columns, of types that
 * cast to the first file's. */
static pl_status first_schema(sq_multi *m, const char *const *files, pl_error *err) {
    const pl_schema *t = m->schemas[0];
    for (int32_t f = 1; f < m->n_files; f++) {
        const pl_schema *s = m->schemas[f];
        for (int32_t k = 0; k < t->n_fields; k++) {
            int32_t i = find_name(s, t->fields[k].name);
            if (i < 0) {
                pl_error_set(err, PL_ERR_TYPE, "schemas differ: column \"%s\" of \"%s\" is missing "
                             "in \"%s\"", t->fields[k].name, files[0], files[f]);
                if (err) snprintf(err->hint, sizeof err->hint, "union_by_name=true reads it as NULL there");
                return PL_ERR_TYPE;
            }
            pl_type *w = widen(t->fields[k].type, s->fields[i].type);
            pl_type_release(w);
            if (!w)
                return type_clash(t->fields[k].name, t->fields[k].type, files[0], s->fields[i].type,
                                  files[f], err);
        }
    }
    m->target = pl_schema_retain((pl_schema *)t);
    return PL_OK;
}

pl_status sq_multi_plan(int32_t n_files, const char *const *files, pl_format fmt,
                        const pl_read_opts *opts, bool by_name, sq_multi *m, pl_error *err) {
    memset(m, 0, sizeof *m);
    if (n_files < 2) return PL_OK;
    m->schemas = pl_calloc((size_t)n_files, sizeof *m->schemas);
    if (!m->schemas) return pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    m->n_files = n_files;
    pl_status st = PL_OK;
    bool same = true;
    for (int32_t f = 0; !st && f < n_files; f++) {
        st = file_schema(files[f], fmt, opts, &m->schemas[f], err);
        if (!st && f) same = same && sq_same_columns(m->schemas[0], m->schemas[f]);
    }
    if (!st && !same) st = by_name ? union_schema(m, files, err) : first_schema(m, files, err);
    if (st || same) sq_multi_reset(m);
    return st;
}

/* One run of files with equal schemas: their scan with the target's columns. */
static pl_status scan_run(const sq_multi *m, int32_t first, int32_t n, const char *const *files,
                          pl_format fmt, const pl_read_opts *opts, pl_df **out, pl_error *err) {
    pl_df *scan = NULL;
    PL_TRY(pl_df_scan(n, files + first, fmt, opts, &scan, err));
    const pl_schema *t = m->target, *s = pl_df_schema(scan);
    int32_t nt = t->n_fields;
    pl_expr **ex = pl_calloc((size_t)PL_MAX(nt, 1), sizeof *ex);
    const char **names = pl_calloc((size_t)PL_MAX(nt, 1), sizeof *names);
    pl_status st = ex && names ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    for (int32_t k = 0; !st && k < nt; k++) {
        const pl_field *tf = &t->fields[k];
        int32_t i = find_name(s, tf->name);
        names[k] = tf->name;
        if (i < 0) {
            ex[k] = pl_expr_cast(pl_expr_lit_null(), pl_type_retain((pl_type *)value_type(tf->type)), false);
        } else {
            ex[k] = pl_expr_col_index(i, s->fields[i].name);
            if (ex[k] && !pl_type_equals(value_type(s->fields[i].type), value_type(tf->type)))
                ex[k] = pl_expr_cast(ex[k], pl_type_retain((pl_type *)value_type(tf->type)), false);
        }
        if (!ex[k]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    }
    if (!st) st = pl_df_select(scan, nt, ex, names, out, err);
    for (int32_t k = 0; ex && k < nt; k++) pl_expr_release(ex[k]);
    pl_free(ex);
    pl_free(names);
    pl_df_release(scan);
    return st;
}

pl_status sq_union_append(pl_df **acc, pl_df *run, pl_error *err) {
    if (!*acc) {
        *acc = run;
        return PL_OK;
    }
    pl_df *u = NULL;
    pl_status st = pl_df_union(*acc, run, true, &u, err);
    pl_df_release(*acc);
    pl_df_release(run);
    *acc = u;
    return st;
}

/* filename=...: one scan per file with the path as a constant column after the file's. */
static pl_status scan_named(const sq_multi *m, int32_t f, const char *const *files, pl_format fmt,
                            const pl_read_opts *opts, pl_df **out, pl_error *err) {
    pl_read_opts ro = *opts;
    ro.csv_filename = NULL;
    pl_df *scan = NULL;
    PL_TRY(sq_multi_scan(m, f, 1, files, fmt, &ro, &scan, err));
    pl_expr *lit = pl_expr_lit_str(files[f]);
    pl_status st = lit ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    if (!st) st = pl_df_with_columns(scan, 1, &lit, &opts->csv_filename, out, err);
    pl_expr_release(lit);
    pl_df_release(scan);
    return st;
}

pl_status sq_multi_scan(const sq_multi *m, int32_t first, int32_t n, const char *const *files,
                        pl_format fmt, const pl_read_opts *opts, pl_df **out, pl_error *err) {
    *out = NULL;
    /* the CSV reader adds filename itself (when the files are one scan) */
    bool named = opts && opts->csv_filename && (fmt != PL_FORMAT_CSV || (m && m->target));
    if (!named && (!m || !m->target)) return pl_df_scan(n, files + first, fmt, opts, out, err);
    pl_df *acc = NULL;
    pl_status st = PL_OK;
    for (int32_t a = first; !st && a < first + n;) {
        int32_t b = a + 1;
        while (!named && b < first + n && sq_same_columns(m->schemas[a], m->schemas[b])) b++;
        pl_df *run = NULL;
        st = named ? scan_named(m, a, files, fmt, opts, &run, err) : scan_run(m, a, b - a, files, fmt, opts, &run, err);
        if (!st) st = sq_union_append(&acc, run, err);
        a = b;
    }
    if (st) {
        pl_df_release(acc);
        return st;
    }
    *out = acc;
    return PL_OK;
}
