/* common.c - option parsing, error reporting and the row-limit stream shared by the
 * subcommands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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
    fprintf(stderr, "polaroid %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see 'polaroid %s --help')\n", cmd);
    va_end(ap);
    return PL_EXIT_USAGE;
}

int cli_report(const pl_error *err) {
    char buf[1400];
    fflush(stdout);
    fprintf(stderr, "polaroid: %s\n", pl_error_format(err, buf, sizeof buf));
    return PL_EXIT_ERROR;
}

bool cli_parse_count(const char *s, int64_t *out) {
    if (!s || !*s) return false;
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

int cli_apply_threads(const char *cmd, const char *value) {
    int64_t n;
    if (!cli_parse_count(value, &n) || n < 1 || n > 1024)
        return cli_usage_error(cmd, "--threads takes a number from 1 to 1024, not \"%s\"", value);
    pl_pool_set_threads((int32_t)n);
    return PL_EXIT_OK;
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
