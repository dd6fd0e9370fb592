/* plan_hive.c - hive-partitioned file sets, as DuckDB reads them: files under directories named
 * key=value (`sales/year=2024/month=3/part-0.parquet`) get one column per key, holding the
 * value of the file's path. hive_partitioning is auto-detected (on when every file's path has
 * key=value directories with the same keys) unless the query says hive_partitioning=true/false
 * (true: files with other keys are an error). The columns come in key order (byte-wise, as
 * DuckDB's). A key's type is DATE when every value is a date, BIGINT when every value is an
 * integer, VARCHAR otherwise; values are URL-decoded and
 * __HIVE_DEFAULT_PARTITION__ is NULL. The partition columns follow the file columns (a file
 * column of the same name is replaced).
 *
 * Plan: the files are grouped into runs of consecutive files with the same values; each run is
 * one multi-file scan with the partition columns added as constants, and the runs are
 * concatenated (UNION ALL) in file order. A filter on partition columns is pushed by the
 * optimizer through the union to each run, where it folds to a constant over the run's scan. */
#include "expr/expr_int.h"
#include "io/text/text.h"
#include "sql/plan_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HIVE_NULL "__HIVE_DEFAULT_PARTITION__"

typedef struct hive_file {
    int32_t n;       /* key=value directories */
    char **keys;     /* n names (pl_malloc'ed) */
    char **vals;     /* n URL-decoded values; NULL for __HIVE_DEFAULT_PARTITION__ */
} hive_file;

static void hive_file_reset(hive_file *f) {
    for (int32_t i = 0; i < f->n; i++) {
        pl_free(f->keys[i]);
        pl_free(f->vals[i]);
    }
    pl_free(f->keys);
    pl_free(f->vals);
    memset(f, 0, sizeof *f);
}

static int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..n) URL-decoded (%XX) into a new string. */
static char *url_decode(const char *s, size_t n) {
    char *o = pl_malloc(n + 1);
    if (!o) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex_val(s[i + 1]) >= 0 && hex_val(s[i + 2]) >= 0) {
            o[k++] = (char)(hex_val(s[i + 1]) * 16 + hex_val(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = '\0';
    return o;
}

/* The key=value directories of path (every component but the last). */
static pl_status parse_path(const char *path, hive_file *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    const char *end = strrchr(path, '/');
    if (!end) return PL_OK;
    int32_t cap = 0;
    for (const char *p = path; p < end; p++) cap += *p == '/';
    cap += 1;
    out->keys = pl_calloc((size_t)cap, sizeof(char *));
    out->vals = pl_calloc((size_t)cap, sizeof(char *));
    if (!out->keys || !out->vals) {
        hive_file_reset(out);
        return pl_error_set(err, PL_ERR_NOMEM, "out of memory reading partition directories");
    }
    for (const char *c = path; c < end;) {
        const char *slash = memchr(c, '/', (size_t)(end - c));
        const char *ce = slash ? slash : end;
        const char *eq = memchr(c, '=', (size_t)(ce - c));
        if (eq && eq > c) {
            int32_t i = out->n++;
            out->keys[i] = url_decode(c, (size_t)(eq - c));
            size_t vn = (size_t)(ce - eq - 1);
            bool is_null = vn == strlen(HIVE_NULL) && !memcmp(eq + 1, HIVE_NULL, vn);
            out->vals[i] = is_null ? NULL : url_decode(eq + 1, vn);
            if (!out->keys[i] || (!is_null && !out->vals[i])) {
                hive_file_reset(out);
                return pl_error_set(err, PL_ERR_NOMEM, "out of memory reading partition directories");
            }
        }
        c = ce + 1;
    }
    /* the columns come in key order (byte-wise), as DuckDB orders them */
    for (int32_t i = 1; i < out->n; i++) {
        for (int32_t j = i; j > 0 && strcmp(out->keys[j - 1], out->keys[j]) > 0; j--) {
            char *k = out->keys[j], *v = out->vals[j];
            out->keys[j] = out->keys[j - 1];
            out->vals[j] = out->vals[j - 1];
            out->keys[j - 1] = k;
            out->vals[j - 1] = v;
        }
    }
    return PL_OK;
}

static bool is_bigint(const char *s) {
    const char *p = s + (*s == '-');
    if (!*p || strlen(p) > 19) return false;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    errno = 0;
    char *e;
    (void)strtoll(s, &e, 10);
    return errno == 0 && *e == '\0';
}

/* DATE, BIGINT or VARCHAR: the narrowest that holds every value of key k. */
static pl_type_id key_type(const hive_file *files, int32_t n_files, int32_t k) {
    bool date = true, bigint = true, any = false;
    for (int32_t f = 0; f < n_files; f++) {
        const char *v = files[f].vals[k];
        if (!v) continue;
        any = true;
        int32_t days;
        if (date && !pl_text_parse_date(v, (int64_t)strlen(v), &days)) date = false;
        if (bigint && !is_bigint(v)) bigint = false;
    }
    if (!any) return PL_TYPE_UTF8;
    return date ? PL_TYPE_DATE32 : bigint ? PL_TYPE_INT64 : PL_TYPE_UTF8;
}

static bool same_values(const hive_file *a, const hive_file *b) {
    for (int32_t i = 0; i < a->n; i++) {
        if (!a->vals[i] != !b->vals[i]) return false;
        if (a->vals[i] && strcmp(a->vals[i], b->vals[i]) != 0) return false;
    }
    return true;
}

/* One run of files with the same values: their scan with the partition columns added. */
static pl_status scan_run(const char *const *files, int32_t first, int32_t n, const hive_file *hf,
                          const pl_type_id *types, pl_format fmt, const pl_read_opts *opts,
                          const sq_multi *m, pl_df **out, pl_error *err) {
    pl_df *scan = NULL;
    PL_TRY(sq_multi_scan(m, first, n, files, fmt, opts, &scan, err));
    pl_expr **ex = pl_calloc((size_t)hf->n, sizeof *ex);
    pl_status st = ex ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    for (int32_t i = 0; !st && i < hf->n; i++) {
        pl_expr *lit = hf->vals[i] ? pl_expr_lit_str(hf->vals[i]) : pl_expr_lit_null();
        ex[i] = lit ? pl_expr_cast(lit, pl_type_simple(types[i]), false) : NULL;
        if (!ex[i]) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    }
    if (!st) st = pl_df_with_columns(scan, hf->n, ex, (const char *const *)hf->keys, out, err);
    for (int32_t i = 0; ex && i < hf->n; i++) pl_expr_release(ex[i]);
    pl_free(ex);
    pl_df_release(scan);
    return st;
}

pl_status sq_scan_hive(int32_t n_files, const char *const *files, pl_format fmt,
                       const pl_read_opts *opts, int hive, const sq_multi *m, pl_df **out,
                       pl_error *err) {
    *out = NULL;
    if (hive == 0) return PL_OK;
    hive_file *hf = pl_calloc((size_t)PL_MAX(n_files, 1), sizeof *hf);
    pl_status st = hf ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
    for (int32_t f = 0; !st && f < n_files; f++) st = parse_path(files[f], &hf[f], err);
    pl_type_id *types = NULL;
    if (!st && n_files > 0 && hf[0].n > 0) {
        for (int32_t f = 1; !st && f < n_files; f++) {
            bool same = hf[f].n == hf[0].n;
            for (int32_t i = 0; same && i < hf[0].n; i++)
                same = strcasecmp(hf[f].keys[i], hf[0].keys[i]) == 0;
            if (!same && hive < 0) {
                hive = 0; /* auto-detection: not a hive layout, the files as they are */
                break;
            }
            if (!same) {
                pl_error_set_path(err, files[f]);
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "hive partitions differ: the directories of "
                                  "\"%s\" name other keys than those of \"%s\"", files[f], files[0]);
            }
        }
        types = st || hive == 0 ? NULL : pl_calloc((size_t)hf[0].n, sizeof *types);
        if (!st && hive != 0 && !types) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory planning a scan");
        for (int32_t i = 0; !st && types && i < hf[0].n; i++) types[i] = key_type(hf, n_files, i);
        pl_df *acc = NULL;
        for (int32_t a = 0; !st && hive != 0 && a < n_files;) {
            int32_t b = a + 1;
            while (b < n_files && same_values(&hf[a], &hf[b])) b++;
            pl_df *run = NULL;
            st = scan_run(files, a, b - a, &hf[a], types, fmt, opts, m, &run, err);
            if (!st && acc && !sq_same_columns(pl_df_schema(acc), pl_df_schema(run))) {
                st = pl_error_set(err, PL_ERR_TYPE, "schemas differ: the files of \"%s\" and \"%s\" have "
                                  "other columns", files[0], files[a]); /* the caller looks at each file */
                pl_df_release(run);
            }
            if (!st) st = sq_union_append(&acc, run, err);
            a = b;
        }
        if (st) pl_df_release(acc);
        else *out = acc;
    } /* else no key=value directory: the files as they are, also with hive_partitioning=true */
    pl_free(types);
    for (int32_t f = 0; hf && f < n_files; f++) hive_file_reset(&hf[f]);
    pl_free(hf);
    return st;
}
