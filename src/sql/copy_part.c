/* copy_part.c - COPY ... TO 'dir' (PARTITION_BY (a, b)): hive-partitioned output as DuckDB
 * writes it. Each distinct combination of the partition columns' values gets a directory
 * dir/a=<value>/b=<value>/ holding one file, data_0.<ext> (FILENAME_PATTERN: {i} is the file's
 * number, 0, and {uuid} a random UUID). Values are the columns cast to VARCHAR, URL-encoded
 * (every byte but A-Z a-z 0-9 - _ . ~ as %XX), NULL as __HIVE_DEFAULT_PARTITION__; the
 * partition columns are left out of the files unless WRITE_PARTITION_COLUMNS. A directory that
 * is not empty is an error unless OVERWRITE_OR_IGNORE (files of the same name are replaced)
 * or OVERWRITE (its contents are removed first).
 *
 * How: the query's rows, plus one VARCHAR key column per partition column, are sorted (stably)
 * on the keys; the sorted stream is cut into runs of equal keys and each run is written to
 * its partition's file, one file open at a time. A failure leaves the files written so far. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH / FTW_PHYS */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sql/session_int.h"

#define HIVE_NULL "__HIVE_DEFAULT_PARTITION__"
#define PART_PATH_MAX 4096

typedef struct part_writer {
    const char *dir;
    pl_format fmt;
    const pl_write_opts *w;
    const pl_copy_part_opts *po;
    pl_schema *out_schema; /* the files' columns */
    int32_t n_data, n_keys;
    int32_t *data_idx; /* the query's columns written to the files */
    int32_t *out_idx;  /* 0, 1, ..., n_data - 1: their places in the sorted stream */
    const char **key_names; /* the partition columns' names in the query */
    char **cur;        /* the open partition's key values (NULL entries: NULL) */
    bool have_cur;
    pl_writer *wr;
    char path[PART_PATH_MAX];
} part_writer;

static bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Appends s[0..n) URL-encoded to buf at *len. */
static bool append_enc(char *buf, size_t *len, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (*len + 4 >= PART_PATH_MAX) return false;
        if (is_unreserved(c)) {
            buf[(*len)++] = (char)c;
        } else {
            buf[(*len)++] = '%';
            buf[(*len)++] = hex[c >> 4];
            buf[(*len)++] = hex[c & 15];
        }
    }
    buf[*len] = '\0';
    return true;
}

static bool append_raw(char *buf, size_t *len, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 >= PART_PATH_MAX) return false;
    memcpy(buf + *len, s, n + 1);
    *len += n;
    return true;
}

static pl_status make_dir(const char *path, pl_error *err) {
    if (mkdir(path, 0777) == 0 || errno == EEXIST) {
        struct stat sb;
        if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) return PL_OK;
        pl_error_set_path(err, path);
        return pl_error_set(err, PL_ERR_IO, "cannot create directory: a file of that name exists");
    }
    pl_error_set_path(err, path);
    return pl_error_set(err, PL_ERR_IO, "cannot create directory: %s", strerror(errno));
}

static void uuid_v4(char out[37]) {
    unsigned char b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t t = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++) b[i] = (unsigned char)(t >> ((i % 8) * 8)) ^ (unsigned char)(i * 37);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static const char *format_ext(pl_format fmt) {
    switch (fmt) {
    case PL_FORMAT_PARQUET: return "parquet";
    case PL_FORMAT_CSV: return "csv";
    case PL_FORMAT_JSON: return "json";
    default: return "arrow";
    }
}

/* Opens the file of the partition pw->cur, creating its directories. */
static pl_status open_partition(part_writer *pw, pl_error *err) {
    size_t len = 0;
    char *p = pw->path;
    p[0] = '\0';
    bool ok = append_raw(p, &len, pw->dir);
    for (int32_t k = 0; ok && k < pw->n_keys; k++) {
        const char *name = pw->key_names[k];
        const char *v = pw->cur[k];
        ok = append_raw(p, &len, "/") && append_enc(p, &len, name, strlen(name)) && append_raw(p, &len, "=") &&
             (v ? append_enc(p, &len, v, strlen(v)) : append_raw(p, &len, HIVE_NULL));
        if (ok) PL_TRY(make_dir(p, err));
    }
    const char *pat = pw->po->filename_pattern ? pw->po->filename_pattern : "data_{i}";
    /* a pattern without {i} or {uuid} gets the number at its end, as in DuckDB */
    bool numbered = strstr(pat, "{i}") || strstr(pat, "{uuid}");
    ok = ok && append_raw(p, &len, "/");
    while (ok && *pat) {
        if (!strncmp(pat, "{i}", 3)) {
            ok = append_raw(p, &len, "0");
            pat += 3;
        } else if (!strncmp(pat, "{uuid}", 6)) {
            char u[37];
            uuid_v4(u);
            ok = append_raw(p, &len, u);
            pat += 6;
        } else {
            char c[2] = {*pat++, '\0'};
            ok = append_raw(p, &len, c);
        }
    }
    if (!numbered) ok = ok && append_raw(p, &len, "0");
    ok = ok && append_raw(p, &len, ".") && append_raw(p, &len, format_ext(pw->fmt));
    if (!ok) {
        pl_error_set_path(err, pw->dir);
        return pl_error_set(err, PL_ERR_LIMIT, "a partition's file path is longer than %d bytes",
                            PART_PATH_MAX - 1);
    }
    PL_TRY(pl_writer_open(p, pw->fmt, pw->out_schema, pw->w, &pw->wr, err));
    return PL_OK;
}

static pl_status close_partition(part_writer *pw, pl_error *err) {
    if (!pw->wr) return PL_OK;
    pl_status st = pl_writer_finish(pw->wr, err);
    pl_writer_free(pw->wr);
    pw->wr = NULL;
    if (st) pl_error_set_path(err, pw->path);
    return st;
}

/* Key value of row r of key column a (utf8): a new string, NULL for NULL (*oom on failure). */
static char *key_at(const pl_array *a, int64_t r, bool *oom) {
    if (!pl_array_is_valid(a, r)) return NULL;
    int32_t n;
    const uint8_t *b = pl_array_bytes(a, r, &n);
    char *s = pl_malloc((size_t)n + 1);
    if (!s) {
        *oom = true;
        return NULL;
    }
    memcpy(s, b, (size_t)n);
    s[n] = '\0';
    return s;
}

static bool key_equals(const pl_array *a, int64_t r, const char *cur) {
    bool valid = pl_array_is_valid(a, r);
    if (!valid || !cur) return !valid && !cur;
    int32_t n;
    const uint8_t *b = pl_array_bytes(a, r, &n);
    return strlen(cur) == (size_t)n && !memcmp(b, cur, (size_t)n);
}

static pl_status write_rows(part_writer *pw, pl_batch *b, int64_t from, int64_t n, pl_error *err) {
    pl_batch *sel = NULL, *sl = NULL;
    PL_TRY(pl_batch_select(b, pw->n_data, pw->out_idx, &sel, err));
    pl_status st = pl_batch_slice(sel, from, n, &sl, err);
    pl_batch_release(sel);
    if (st) return st;
    /* the files' schema (names, nullability) rather than the stream's */
    pl_array **cols = pl_calloc((size_t)PL_MAX(pw->n_data, 1), sizeof *cols);
    if (!cols) {
        pl_batch_release(sl);
        return pl_error_set(err, PL_ERR_NOMEM, "out of memory writing a partition");
    }
    for (int32_t k = 0; !st && k < pw->n_data; k++) /* dictionaries decoded: the files' types */
        st = pl_array_decode_dictionary(sl->columns[k], &cols[k], err);
    pl_batch *out = NULL;
    if (st) {
        for (int32_t k = 0; k < pw->n_data; k++) pl_array_release(cols[k]);
        pl_free(cols);
        pl_batch_release(sl);
        return st;
    }
    st = pl_batch_new(pl_schema_retain(pw->out_schema), sl->n_rows, cols, &out, err);
    pl_free(cols);
    pl_batch_release(sl);
    if (!st) st = pl_writer_write(pw->wr, out, err);
    pl_batch_release(out);
    if (st) pl_error_set_path(err, pw->path);
    return st;
}

static pl_status consume(part_writer *pw, pl_batch *b, pl_error *err) {
    pl_array **keys = pl_calloc((size_t)pw->n_keys, sizeof *keys);
    if (!keys) return pl_error_set(err, PL_ERR_NOMEM, "out of memory writing partitions");
    pl_status st = PL_OK;
    for (int32_t k = 0; !st && k < pw->n_keys; k++)
        st = pl_array_decode_dictionary(b->columns[pw->n_data + k], &keys[k], err);
    int64_t run = 0;
    for (int64_t r = 0; !st && r <= b->n_rows; r++) {
        bool same = r < b->n_rows && pw->have_cur;
        for (int32_t k = 0; same && k < pw->n_keys; k++) same = key_equals(keys[k], r, pw->cur[k]);
        if (same) continue;
        if (r > run) st = write_rows(pw, b, run, r - run, err);
        if (st || r == b->n_rows) break;
        st = close_partition(pw, err);
        bool oom = false;
        for (int32_t k = 0; k < pw->n_keys; k++) {
            pl_free(pw->cur[k]);
            pw->cur[k] = key_at(keys[k], r, &oom);
        }
        pw->have_cur = true;
        if (!st && oom) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory writing partitions");
        if (!st) st = open_partition(pw, err);
        run = r;
    }
    for (int32_t k = 0; k < pw->n_keys; k++) pl_array_release(keys[k]);
    pl_free(keys);
    return st;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    if (ftw->level == 0) return 0; /* the directory itself stays */
    return remove(path) ? -1 : 0;
}

/* The output directory: created, or checked to be empty (OVERWRITE: emptied). */
static pl_status prepare_dir(const char *dir, const pl_copy_part_opts *po, pl_error *err) {
    struct stat sb;
    if (stat(dir, &sb) != 0) return make_dir(dir, err);
    if (!S_ISDIR(sb.st_mode)) {
        pl_error_set_path(err, dir);
        return pl_error_set(err, PL_ERR_IO, "a partitioned COPY writes a directory, but a file of that "
                            "name exists");
    }
    if (po->overwrite) {
        if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
            pl_error_set_path(err, dir);
            return pl_error_set(err, PL_ERR_IO, "OVERWRITE could not empty the directory: %s", strerror(errno));
        }
        return PL_OK;
    }
    if (po->overwrite_or_ignore) return PL_OK;
    DIR *d = opendir(dir);
    if (!d) {
        pl_error_set_path(err, dir);
        return pl_error_set(err, PL_ERR_IO, "cannot open directory: %s", strerror(errno));
    }
    bool empty = true;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    if (empty) return PL_OK;
    pl_error_set_path(err, dir);
    pl_error_set(err, PL_ERR_IO, "directory is not empty");
    if (err) snprintf(err->hint, sizeof err->hint, "add OVERWRITE_OR_IGNORE (replace files of the same "
                      "name) or OVERWRITE (remove the directory's contents first)");
    return PL_ERR_IO;
}

/* The sorted query: data columns, then one VARCHAR key per partition column. */
static pl_status sorted_plan(pl_df *df, const int32_t *part_idx, part_writer *pw, pl_df **out,
                             pl_error *err) {
    const pl_schema *s = pl_df_schema(df);
    int32_t n = pw->n_data + pw->n_keys;
    pl_expr **ex = pl_calloc((size_t)n, sizeof *ex);
    const char **names = pl_calloc((size_t)n, sizeof *names);
    pl_sort_key *keys = pl_calloc((size_t)pw->n_keys, sizeof *keys);
    char(*key_names)[24] = pl_calloc((size_t)pw->n_keys, sizeof *key_names);
    pl_status st = ex && names && keys && key_names ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; !st && k < pw->n_data; k++) {
        names[k] = s->fields[pw->data_idx[k]].name;
        ex[k] = pl_expr_col_index(pw->data_idx[k], names[k]);
        if (!ex[k]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int32_t k = 0; !st && k < pw->n_keys; k++) {
        snprintf(key_names[k], sizeof key_names[k], "__pl_pk%d", (int)k);
        names[pw->n_data + k] = key_names[k];
        pl_expr *c = pl_expr_col_index(part_idx[k], s->fields[part_idx[k]].name);
        ex[pw->n_data + k] = c ? pl_expr_cast(c, pl_type_simple(PL_TYPE_UTF8), false) : NULL;
        keys[k].expr = pl_expr_col_index(pw->n_data + k, key_names[k]);
        if (!ex[pw->n_data + k] || !keys[k].expr) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    pl_df *proj = NULL;
    if (!st) st = pl_df_select(df, n, ex, names, &proj, err);
    if (!st) st = pl_df_sort(proj, pw->n_keys, keys, out, err);
    pl_df_release(proj);
    for (int32_t k = 0; ex && k < n; k++) pl_expr_release(ex[k]);
    for (int32_t k = 0; keys && k < pw->n_keys; k++) pl_expr_release(keys[k].expr);
    pl_free(ex);
    pl_free(names);
    pl_free(keys);
    pl_free(key_names);
    return st;
}

pl_status pl_sql_copy_partitioned(pl_df *df, const char *dir, pl_format fmt, const pl_write_opts *w,
                                  const pl_exec_opts *eo, const pl_copy_part_opts *po, int64_t *rows,
                                  pl_error *err) {
    const pl_schema *s = pl_df_schema(df);
    part_writer pw;
    memset(&pw, 0, sizeof pw);
    pw.dir = dir;
    pw.fmt = fmt;
    pw.w = w;
    pw.po = po;
    pw.n_keys = po->n_cols;
    int32_t *part_idx = pl_calloc((size_t)PL_MAX(po->n_cols, 1), sizeof *part_idx);
    pw.data_idx = pl_calloc((size_t)PL_MAX(s->n_fields, 1), sizeof *pw.data_idx);
    pw.out_idx = pl_calloc((size_t)PL_MAX(s->n_fields, 1), sizeof *pw.out_idx);
    pw.cur = pl_calloc((size_t)PL_MAX(po->n_cols, 1), sizeof *pw.cur);
    pw.key_names = pl_calloc((size_t)PL_MAX(po->n_cols, 1), sizeof *pw.key_names);
    pl_field *fields = pl_calloc((size_t)PL_MAX(s->n_fields, 1), sizeof *fields);
    pl_status st = part_idx && pw.data_idx && pw.out_idx && pw.cur && pw.key_names && fields ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; !st && k < po->n_cols; k++) {
        int32_t i = pl_schema_find(s, po->cols[k]);
        for (int32_t j = 0; i < 0 && j < s->n_fields; j++)
            if (!strcasecmp(s->fields[j].name, po->cols[k])) i = j;
        if (i < 0) st = pl_error_set(err, PL_ERR_SQL, "PARTITION_BY: the query has no column \"%s\"", po->cols[k]);
        for (int32_t j = 0; !st && j < k; j++)
            if (part_idx[j] == i) st = pl_error_set(err, PL_ERR_SQL, "PARTITION_BY names \"%s\" twice", po->cols[k]);
        if (!st) {
            part_idx[k] = i;
            pw.key_names[k] = s->fields[i].name;
        }
    }
    for (int32_t i = 0; !st && i < s->n_fields; i++) {
        bool part = false;
        for (int32_t k = 0; k < po->n_cols && !part; k++) part = part_idx[k] == i;
        if (part && !po->write_partition_columns) continue;
        fields[pw.n_data] = s->fields[i];
        fields[pw.n_data].type = s->fields[i].type->id == PL_TYPE_DICTIONARY ? s->fields[i].type->value_type
                                                                              : s->fields[i].type;
        pw.out_idx[pw.n_data] = pw.n_data;
        pw.data_idx[pw.n_data++] = i;
    }
    if (!st && pw.n_data == 0)
        st = pl_error_set(err, PL_ERR_UNSUPPORTED, "PARTITION_BY names every column: no column is left to "
                          "write (add WRITE_PARTITION_COLUMNS)");
    if (!st) st = pl_schema_new(pw.n_data, fields, &pw.out_schema, err);
    pl_df *sorted = NULL;
    if (!st) st = sorted_plan(df, part_idx, &pw, &sorted, err);
    if (!st) st = prepare_dir(dir, po, err);
    pl_stream *in = NULL;
    if (!st) st = pl_df_execute(sorted, eo, &in, err);
    int64_t n_rows = 0;
    while (!st) {
        pl_batch *b = NULL;
        st = pl_stream_next(in, &b, err);
        if (st || !b) break;
        n_rows += b->n_rows;
        if (!st) st = consume(&pw, b, err);
        pl_batch_release(b);
    }
    pl_status cst = close_partition(&pw, st ? NULL : err);
    if (!st) st = cst;
    pl_stream_free(in);
    pl_df_release(sorted);
    for (int32_t k = 0; pw.cur && k < pw.n_keys; k++) pl_free(pw.cur[k]);
    pl_free(pw.cur);
    pl_free(pw.key_names);
    pl_free(pw.data_idx);
    pl_free(pw.out_idx);
    pl_free(part_idx);
    pl_free(fields);
    pl_schema_release(pw.out_schema);
    if (!st) *rows = n_rows;
    return st;
}
