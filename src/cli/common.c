/* common.c - what the subcommands share: option parsing, error reporting, input format
 * detection, the row-limit stream, and the copy job behind `cat` and `convert` (scan ->
 * limit -> writer, streaming batch by batch; only --format none collects the rows). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/core.h"

static bool name_matches(const char *names, const char *arg, size_t arg_len) {
    const char *p = names;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == arg_len && strncmp(p, arg, n) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

int cli_take_value(cli_args *a, const char *names, const char **value) {
    const char *arg = a->argv[a->i];
    const char *eq = strchr(arg, '=');
    if (arg[0] == '-' && arg[1] == '-' && eq) {
        if (!name_matches(names, arg, (size_t)(eq - arg))) return 0;
        *value = eq + 1;
        a->i++;
        return 1;
    }
    if (!name_matches(names, arg, strlen(arg))) return 0;
    if (a->i + 1 >= a->argc) {
        cli_usage_error(a->cmd, "option %s needs a value", arg);
        return -1;
    }
    *value = a->argv[a->i + 1];
    a->i += 2;
    return 1;
}

bool cli_take_flag(cli_args *a, const char *names) {
    if (!name_matches(names, a->argv[a->i], strlen(a->argv[a->i]))) return false;
    a->i++;
    return true;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "polaroid %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'polaroid %s --help')\n", cmd);
    va_end(ap);
    return PL_EXIT_USAGE;
}

/* the temporary file standing in for standard input, named "-" in messages */
static const char *g_stdin_tmp;

int cli_report(const pl_error *err) {
    char buf[PL_CLI_ERROR_TEXT_MAX];
    fflush(stdout);
    if (err && g_stdin_tmp && !strcmp(err->path, g_stdin_tmp)) {
        pl_error e = *err;
        snprintf(e.path, sizeof e.path, "-");
        fprintf(stderr, "polaroid: %s\n", pl_error_format(&e, buf, sizeof buf));
    } else {
        fprintf(stderr, "polaroid: %s\n", pl_error_format(err, buf, sizeof buf));
    }
    return PL_EXIT_ERROR;
}

bool cli_parse_count(const char *s, int64_t *out) {
    if (!s || *s < '0' || *s > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0 || end == s) return false;
    int64_t mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1000, end++;
    else if (*end == 'm' || *end == 'M') mul = 1000000, end++;
    else if (*end == 'g' || *end == 'G') mul = 1000000000, end++;
    if (*end) return false;
    if (v > INT64_MAX / mul) return false;
    *out = v * mul;
    return true;
}

bool cli_parse_size(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0 || *s == '-') return false;
    static const struct {
        const char *unit;
        double mul;
    } units[] = {
        {"", 1},     {"b", 1},     {"k", 1e3},   {"kb", 1e3},  {"m", 1e6},
        {"mb", 1e6}, {"g", 1e9},   {"gb", 1e9},  {"t", 1e12},  {"tb", 1e12},
        {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0},
    };
    for (size_t i = 0; i < PL_ARRAY_LEN(units); i++) {
        if (strcasecmp(end, units[i].unit)) continue;
        double b = v * units[i].mul;
        if (b >= 9.2e18 || b < 1) return false;
        *out = (int64_t)b;
        return true;
    }
    return false;
}

char **cli_split_list(const char *s, int32_t *n) {
    int32_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    char **v = pl_calloc((size_t)cap + 1, sizeof(char *));
    if (!v) return NULL;
    int32_t k = 0;
    const char *p = s;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        while (len && (*p == ' ')) p++, len--;
        while (len && p[len - 1] == ' ') len--;
        if (len) {
            v[k] = pl_malloc(len + 1);
            if (!v[k]) {
                cli_free_list(v, k);
                return NULL;
            }
            memcpy(v[k], p, len);
            v[k][len] = 0;
            k++;
        }
        if (!c) break;
        p = c + 1;
    }
    *n = k;
    return v;
}

void cli_free_list(char **v, int32_t n) {
    if (!v) return;
    for (int32_t i = 0; i < n; i++) pl_free(v[i]);
    pl_free(v);
}

int cli_apply_threads(const char *cmd, const char *value, int32_t *n) {
    int64_t v;
    if (!cli_parse_count(value, &v) || v < 1 || v > PL_CLI_MAX_THREADS)
        return cli_usage_error(cmd, "--threads takes a number from 1 to %d, not \"%s\"",
                               PL_CLI_MAX_THREADS, value);
    pl_pool_set_threads((int32_t)v);
    *n = (int32_t)v;
    return PL_EXIT_OK;
}

int cli_parse_format(const char *cmd, const char *value, pl_format *format, bool *count_only) {
    if (!strcasecmp(value, "none")) {
        *count_only = true;
        *format = PL_FORMAT_AUTO;
        return PL_EXIT_OK;
    }
    pl_format f = pl_format_from_name(value);
    if (f == PL_FORMAT_AUTO)
        return cli_usage_error(cmd, "unknown format \"%s\" (table, csv, json, parquet, arrow, none)",
                               value);
    *count_only = false;
    *format = f;
    return PL_EXIT_OK;
}

void cli_print_fields(const pl_schema *s) {
    char tn[512];
    size_t w = 4;
    for (int32_t i = 0; i < s->n_fields; i++) w = PL_MAX(w, strlen(s->fields[i].name));
    for (int32_t i = 0; i < s->n_fields; i++)
        printf("  %-*s  %s%s\n", (int)w, s->fields[i].name,
               pl_type_to_string(s->fields[i].type, tn, sizeof tn),
               s->fields[i].nullable ? "" : " not null");
}

/* ---------------------------------------------------------------- format detection */

static pl_format sniff_format(const unsigned char *b, size_t n) {
    if (n >= 4 && (!memcmp(b, "PAR1", 4) || !memcmp(b, "PARE", 4))) return PL_FORMAT_PARQUET;
    if (n >= 6 && !memcmp(b, "ARROW1", 6)) return PL_FORMAT_IPC;
    if (n >= 4 && b[0] == 0xff && b[1] == 0xff && b[2] == 0xff && b[3] == 0xff) return PL_FORMAT_IPC;
    return PL_FORMAT_AUTO;
}

pl_status cli_detect_format(int32_t n_paths, const char *const *paths, pl_format *out,
                            pl_error *err) {
    pl_format f = n_paths > 0 ? pl_format_from_path(paths[0]) : PL_FORMAT_AUTO;
    if (f != PL_FORMAT_AUTO || n_paths == 0) {
        *out = f;
        return PL_OK;
    }
    char **files = NULL;
    int32_t n_files = 0;
    PL_TRY(pl_glob_expand(1, paths, &files, &n_files, err));
    pl_status st = PL_OK;
    FILE *fp = n_files > 0 ? fopen(files[0], "rb") : NULL;
    if (!fp) {
        pl_error_set_path(err, n_files > 0 ? files[0] : paths[0]);
        st = pl_error_set(err, errno == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO,
                          "cannot open file: %s", strerror(errno));
    } else {
        unsigned char head[PL_CLI_SNIFF_BYTES];
        size_t n = fread(head, 1, sizeof head, fp);
        fclose(fp);
        f = sniff_format(head, n);
        if (f == PL_FORMAT_AUTO) {
            pl_error_set_path(err, files[0]);
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "cannot tell the file format from the extension or the first bytes");
            if (err) snprintf(err->hint, sizeof err->hint, "use --from parquet, csv, json or arrow");
        }
    }
    for (int32_t i = 0; i < n_files; i++) pl_free(files[i]);
    pl_free(files);
    if (st == PL_OK) *out = f;
    return st;
}

/* ---------------------------------------------------------------- limit stream */

typedef struct limit_stream {
    pl_stream *inner;
    int64_t left;
} limit_stream;

static pl_status limit_next(pl_stream *s, pl_batch **out, pl_error *err) {
    limit_stream *ls = s->impl;
    *out = NULL;
    if (ls->left <= 0) return PL_OK;
    pl_batch *b = NULL;
    PL_TRY(pl_stream_next(ls->inner, &b, err));
    if (!b) return PL_OK;
    if (b->n_rows > ls->left) {
        pl_batch *sl;
        pl_status st = pl_batch_slice(b, 0, ls->left, &sl, err);
        pl_batch_release(b);
        if (st) return st;
        b = sl;
    }
    ls->left -= b->n_rows;
    *out = b;
    return PL_OK;
}

static void limit_free(pl_stream *s) {
    limit_stream *ls = s->impl;
    pl_stream_free(ls->inner);
    pl_free(ls);
    pl_schema_release(s->schema);
    pl_free(s);
}

pl_status cli_limit_stream(pl_stream *s, int64_t limit, pl_stream **out, pl_error *err) {
    if (limit < 0) {
        *out = s;
        return PL_OK;
    }
    pl_stream *w = pl_calloc(1, sizeof *w);
    limit_stream *ls = pl_calloc(1, sizeof *ls);
    if (!w || !ls) {
        pl_free(w);
        pl_free(ls);
        pl_stream_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    ls->inner = s;
    ls->left = limit;
    w->impl = ls;
    w->schema = pl_schema_retain(s->schema);
    w->next = limit_next;
    w->free = limit_free;
    *out = w;
    return PL_OK;
}

/* ---------------------------------------------------------------- copy job */

void cli_copy_init(cli_copy_job *j, const char *cmd) {
    memset(j, 0, sizeof *j);
    j->cmd = cmd;
    j->limit = -1;
    pl_read_opts_init(&j->ropts);
    pl_write_opts_init(&j->wopts);
}

void cli_copy_free(cli_copy_job *j) {
    cli_free_list(j->columns, j->n_columns);
    j->columns = NULL;
    j->n_columns = 0;
}

static int parse_codec(const char *cmd, const char *v, pl_write_opts *w) {
    if (!strcasecmp(v, "none") || !strcasecmp(v, "uncompressed")) w->codec = PL_CODEC_UNCOMPRESSED;
    else if (!strcasecmp(v, "zstd")) w->codec = PL_CODEC_ZSTD;
    else if (!strcasecmp(v, "snappy")) w->codec = PL_CODEC_SNAPPY;
    else if (!strcasecmp(v, "gzip")) w->codec = PL_CODEC_GZIP;
    else if (!strcasecmp(v, "lz4") || !strcasecmp(v, "lz4_raw")) w->codec = PL_CODEC_LZ4_RAW;
    else if (!strcasecmp(v, "brotli")) w->codec = PL_CODEC_BROTLI;
    else
        return cli_usage_error(cmd, "unknown compression \"%s\" (zstd, snappy, gzip, lz4, brotli, none)",
                               v);
    return PL_EXIT_OK;
}

int cli_copy_parse(cli_args *a, cli_copy_job *j, const char *help, char **pos, int32_t *n_pos) {
    while (a->i < a->argc) {
        const char *v = NULL;
        int r;
        const char *arg = a->argv[a->i];
        if (cli_take_flag(a, "-h|--help")) {
            fputs(help, stdout);
            return PL_EXIT_OK;
        }
        if (cli_take_flag(a, "--no-header")) {
            j->ropts.csv_header = 0;
            continue;
        }
        if (cli_take_flag(a, "--")) {
            while (a->i < a->argc) pos[(*n_pos)++] = a->argv[a->i++];
            break;
        }
        if ((r = cli_take_value(a, "--columns", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            cli_free_list(j->columns, j->n_columns);
            j->columns = cli_split_list(v, &j->n_columns);
            if (!j->columns || j->n_columns == 0)
                return cli_usage_error(j->cmd, "--columns needs column names");
            continue;
        }
        if ((r = cli_take_value(a, "--limit", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_count(v, &j->limit))
                return cli_usage_error(j->cmd, "--limit takes a row count, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--threads", &v))) {
            int32_t n = 0;
            if (r < 0 || cli_apply_threads(j->cmd, v, &n)) return PL_EXIT_USAGE;
            j->ropts.n_threads = n;
            j->wopts.n_threads = n;
            continue;
        }
        if ((r = cli_take_value(a, "--compression", &v))) {
            if (r < 0 || parse_codec(j->cmd, v, &j->wopts)) return PL_EXIT_USAGE;
            j->codec_set = true;
            continue;
        }
        if ((r = cli_take_value(a, "--row-group-size", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_count(v, &j->wopts.row_group_rows) || j->wopts.row_group_rows == 0)
                return cli_usage_error(j->cmd, "--row-group-size takes a positive row count, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--delimiter", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!strcmp(v, "\\t") || !strcmp(v, "tab")) j->ropts.csv_delimiter = '\t';
            else if (strlen(v) == 1 && v[0] != '\n' && v[0] != '\r' && v[0] != '"') j->ropts.csv_delimiter = v[0];
            else return cli_usage_error(j->cmd, "--delimiter takes one character, not \"%s\"", v);
            continue;
        }
        if ((r = cli_take_value(a, "--from", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            j->in_format = pl_format_from_name(v);
            if (j->in_format == PL_FORMAT_AUTO || j->in_format == PL_FORMAT_TABLE)
                return cli_usage_error(j->cmd, "cannot read format \"%s\" (parquet, csv, json, arrow)", v);
            continue;
        }
        if ((r = cli_take_value(a, "--to|--format", &v))) {
            if (r < 0 || cli_parse_format(j->cmd, v, &j->out_format, &j->count_only))
                return PL_EXIT_USAGE;
            continue;
        }
        if ((r = cli_take_value(a, "-o|--output", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error(j->cmd, "-o needs a file name (or - for standard output)");
            j->output = strcmp(v, "-") ? v : NULL;
            j->output_set = true;
            continue;
        }
        if (arg[0] == '-' && arg[1] != 0) return cli_usage_error(j->cmd, "unknown option \"%s\"", arg);
        pos[(*n_pos)++] = a->argv[a->i++];
    }
    return -1;
}

/* Refuses to overwrite an input: the readers map their files, and truncating one under them
 * would make the read fail half-way ("file changed while it was being read": the mappings are
 * guarded against SIGBUS, src/core/file.c) after the output was already cut short. */
static pl_status check_output_not_input(const cli_copy_job *j, pl_error *err) {
    struct stat so;
    if (!j->output || stat(j->output, &so) != 0 || !S_ISREG(so.st_mode)) return PL_OK;
    char **files = NULL;
    int32_t n_files = 0;
    if (pl_glob_expand(j->n_inputs, (const char *const *)j->inputs, &files, &n_files, NULL) != PL_OK)
        return PL_OK; /* the scan reports it */
    pl_status st = PL_OK;
    for (int32_t i = 0; i < n_files && st == PL_OK; i++) {
        struct stat si;
        if (stat(files[i], &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            pl_error_set_path(err, j->output);
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "the output file is also an input");
        }
    }
    for (int32_t i = 0; i < n_files; i++) pl_free(files[i]);
    pl_free(files);
    return st;
}

/* Copies standard input into a new temporary file (the readers need a regular file: Parquet and
 * the CSV chunker seek) whose name goes to path (PL_CLI_TMP_PATH_MAX bytes). */
static pl_status spool_stdin(char *path, pl_error *err) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, PL_CLI_TMP_PATH_MAX, "%s/polaroid-stdin-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_IO, "cannot create a temporary file for standard input: %s", strerror(errno));
    }
    static char buf[PL_CLI_SPOOL_CHUNK];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        ssize_t off = 0;
        while (n > 0 && off < n) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                n = -1;
                break;
            }
            off += w;
        }
        if (n < 0) {
            int e = errno;
            close(fd);
            unlink(path);
            pl_error_set_path(err, "-");
            PL_FAIL(err, PL_ERR_IO, "cannot copy standard input to a temporary file: %s", strerror(e));
        }
    }
    if (close(fd) != 0) {
        unlink(path);
        pl_error_set_path(err, "-");
        PL_FAIL(err, PL_ERR_IO, "cannot copy standard input to a temporary file: %s", strerror(errno));
    }
    return PL_OK;
}

static int copy_run(cli_copy_job *j);

int cli_copy_run(cli_copy_job *j) {
    /* "-" as an input: standard input, spooled to a temporary file first */
    int32_t stdin_idx = -1;
    for (int32_t i = 0; i < j->n_inputs; i++) {
        if (strcmp(j->inputs[i], "-")) continue;
        if (stdin_idx >= 0) return cli_usage_error(j->cmd, "standard input (-) can be read only once");
        stdin_idx = i;
    }
    if (j->out_format == PL_FORMAT_IPC) {
        /* Arrow IPC buffers: uncompressed by default (as Arrow's writers), LZ4 in frame format,
         * and only the codecs the Arrow format defines */
        if (!j->codec_set) j->wopts.codec = PL_CODEC_UNCOMPRESSED;
        else if (j->wopts.codec == PL_CODEC_LZ4_RAW) j->wopts.codec = PL_CODEC_LZ4_FRAME;
        else if (j->wopts.codec != PL_CODEC_ZSTD && j->wopts.codec != PL_CODEC_UNCOMPRESSED)
            return cli_usage_error(j->cmd, "arrow output takes --compression zstd, lz4 or none");
    }
    if (stdin_idx < 0) return copy_run(j);
    char tmp[PL_CLI_TMP_PATH_MAX];
    pl_error err;
    pl_error_init(&err);
    if (spool_stdin(tmp, &err)) return cli_report(&err);
    char *saved = j->inputs[stdin_idx];
    j->inputs[stdin_idx] = tmp;
    g_stdin_tmp = tmp;
    int rc = copy_run(j);
    g_stdin_tmp = NULL;
    j->inputs[stdin_idx] = saved;
    unlink(tmp);
    return rc;
}

static int copy_run(cli_copy_job *j) {
    pl_error err;
    pl_error_init(&err);
    pl_stream *s = NULL;
    if (j->columns) {
        j->ropts.columns = (const char *const *)j->columns;
        j->ropts.n_columns = j->n_columns;
    }
    j->ropts.limit = j->limit;
    /* File outputs keep the source's logical types: a Parquet dictionary is an encoding, so
     * dictionary-encoded strings are written as plain strings (the Parquet writer builds its
     * own dictionaries), not as Arrow dictionary fields. */
    if (!j->count_only && (j->out_format == PL_FORMAT_IPC || j->out_format == PL_FORMAT_PARQUET))
        j->ropts.decode_dictionary = true;
    if (j->in_format == PL_FORMAT_AUTO &&
        cli_detect_format(j->n_inputs, (const char *const *)j->inputs, &j->in_format, &err))
        return cli_report(&err);
    if (!j->count_only && check_output_not_input(j, &err)) return cli_report(&err);
    if (pl_scan_open(j->n_inputs, (const char *const *)j->inputs, j->in_format, &j->ropts, &s, &err))
        return cli_report(&err);
    if (cli_limit_stream(s, j->limit, &s, &err)) return cli_report(&err);
    /* what OUT was before, so that a failure removes only a file this run created or rewrote */
    struct stat before;
    bool existed = j->output && stat(j->output, &before) == 0;
    int rc = PL_EXIT_OK;
    if (j->count_only) {
        pl_table *t = NULL;
        if (pl_stream_collect(s, &t, &err)) rc = cli_report(&err);
        else printf("%lld rows\n", (long long)t->n_rows);
        pl_table_release(t);
    } else if (pl_write_stream(s, j->output, j->out_format, &j->wopts, &err)) {
        rc = cli_report(&err);
        struct stat after;
        if (j->output && stat(j->output, &after) == 0 && S_ISREG(after.st_mode) &&
            (!existed || after.st_size != before.st_size ||
             after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
             after.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
            unlink(j->output); /* no half-written file that looks complete */
    }
    pl_stream_free(s);
    if (rc == PL_EXIT_OK && fflush(stdout) != 0) {
        fprintf(stderr, "polaroid: cannot write to standard output: %s\n", strerror(errno));
        rc = PL_EXIT_ERROR;
    }
    return rc;
}
