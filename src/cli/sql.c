/* sql.c - `polaroid sql`: runs SQL through a session (include/polaroid/sql.h). The SQL comes from
 * the argument, from -f FILE, from standard input when it is not a terminal, or from an
 * interactive shell (libedit: line editing, history in ~/.polaroid_history, statements end with
 * ';', dot commands, which scripts take too: run_script_dots). Each query's result is written in turn like `polaroid cat` writes rows
 * (table, csv, json, parquet, arrow; or --format none: collect and print the row count);
 * EXPLAIN prints its plan; DDL and DML print nothing (with `.changes on`, like the duckdb CLI,
 * the rows a statement changed and the total so far). A failing statement stops a script (exit
 * 1); its error is printed with the statement's line and a caret under the error position.
 * With --server HOST:PORT the SQL runs on a `polaroid serve` instead (include/polaroid/client.h)
 * and its result is written the same way. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cli.h"
#include "core/core.h"
#include "polaroid/client.h"
#include "polaroid/sql.h"

/* history entries kept in ~/.polaroid_history */
#define SQL_HISTORY_MAX 2000

static const char *const g_sql_help =
    "usage: polaroid sql [options] [\"SQL\"]\n"
    "\n"
    "Runs SQL statements (PostgreSQL syntax, DuckDB semantics) and prints each query's result.\n"
    "Files are tables: SELECT * FROM 'ticks/*.parquet', read_parquet(...), read_csv(...).\n"
    "The SQL comes from the argument, from -f FILE, from standard input when it is not a\n"
    "terminal, or else from an interactive shell (statements end with ';'; .help lists the\n"
    "dot commands, which scripts take too, on lines of their own between statements).\n"
    "Statements: SELECT, VALUES, WITH, FROM-first queries (FROM t [SELECT ...]),\n"
    "EXPLAIN [ANALYZE], DESCRIBE|SUMMARIZE query|table|'file', SHOW [ALL] TABLES,\n"
    "PIVOT|UNPIVOT src ON ..., queries with USING SAMPLE / TABLESAMPLE,\n"
    "CREATE [OR REPLACE] TABLE [AS], CREATE [OR REPLACE] VIEW, INSERT [OR IGNORE|REPLACE]\n"
    "(BY NAME, ON CONFLICT DO NOTHING|UPDATE), UPDATE, DELETE, TRUNCATE (RETURNING on the\n"
    "three), ALTER TABLE, DROP TABLE/VIEW, COPY ... TO/FROM 'file', SET.\n"
    "\n"
    "options:\n"
    "  -f, --file FILE     run the statements in FILE ('-' = standard input)\n"
    "  --format F          table (default), csv, json (JSON lines), parquet, arrow, or none\n"
    "                      (run the query, keep the result in memory, print the row count);\n"
    "                      with -o OUT and no --format, the format of OUT's extension\n"
    "  -o, --output OUT    write the query result to OUT ('-' = stdout; one query only)\n"
    "  --threads N         worker threads (default: one per core)\n"
    "  --memory-limit SIZE fail a query that needs more memory (e.g. 4GB, 512MiB)\n"
    "  --timing            print each statement's elapsed time on standard error\n"
    "  --server HOST:PORT  run the SQL on a polaroid server (polaroid serve) instead; paths\n"
    "                      are under the server's --data-root (also unix:PATH)\n"
    "  --token-file FILE   with --server: the bearer token (the file's first line)\n"
    "  --tls-ca FILE       with --server: connect with TLS, trusting these PEM roots\n"
    "  -h, --help          show this help\n"
    "\n"
    "Errors show the statement's line with a caret under the position.\n"
    "Exit status: 0 ok, 1 error (a script stops at its first failing statement), 2 usage error.\n";

static const char *const g_shell_help =
    "Statements end with ';' and may span lines. Dot commands:\n"
    "  .tables            list tables and views\n"
    "  .schema [NAME]     show the columns of NAME (or of every table and view)\n"
    "  .mode table|csv|json  how results are printed\n"
    "  .timer on|off      print each statement's elapsed time\n"
    "  .changes on|off    print the rows each INSERT/UPDATE/DELETE/COPY changed\n"
    "  .help              this text\n"
    "  .quit, .exit       leave (so does Ctrl-D)\n";

typedef struct sql_cli {
    pl_session *s;
    pl_exec_opts opts;
    pl_format format;
    bool count_only;
    const char *output; /* NULL = stdout */
    bool output_used;   /* -o already received a result */
    bool timing;
    bool changes;          /* .changes on */
    int64_t total_changes; /* rows changed by the statements run so far */
    pl_write_opts wopts;
    const char *script;      /* the text being run (for carets) */
    const char *script_path; /* -f FILE, or NULL */
    int64_t t0;
    pl_client *client;       /* --server: statements run there */
} sql_cli;

/* ---------------------------------------------------------------- errors */

/* Prints the line of text holding pos and a caret under pos (long lines are cut around it). */
static void print_caret(const char *text, int32_t pos) {
    char buf[2 * PL_SQL_CARET_WIDTH + 64];
    pl_sql_locate(text, pos, NULL, NULL, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
}

static int report(const sql_cli *c, const pl_error *err) {
    pl_error e = *err;
    int32_t pos = e.sql_pos;
    e.sql_pos = e.sql_line = e.sql_column = -1; /* the caret below shows where */
    if (c->script_path && pos >= 0 && !e.path[0]) snprintf(e.path, sizeof e.path, "%s", c->script_path);
    cli_report(&e);
    if (pos >= 0 && c->script) print_caret(c->script, pos);
    return PL_EXIT_ERROR;
}

/* ---------------------------------------------------------------- results */

/* .changes on: the rows a statement changed, as the duckdb (sqlite) shell prints them. */
static void print_changes(sql_cli *c, int64_t n) {
    if (n < 0) return;
    c->total_changes += n;
    if (c->changes) printf("changes: %3lld   total_changes: %lld\n", (long long)n, (long long)c->total_changes);
}

static pl_status emit(sql_cli *c, pl_df *df, pl_error *err) {
    pl_session_get_exec_opts(c->s, &c->opts); /* SET threads/memory_limit apply */
    if (c->count_only) {
        pl_table *t = NULL;
        PL_TRY(pl_df_collect(df, &c->opts, &t, err));
        printf("%lld rows\n", (long long)t->n_rows);
        pl_table_release(t);
        return PL_OK;
    }
    if (c->output && c->output_used)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "-o takes the result of one query; the SQL has several");
    struct stat before;
    bool existed = c->output && stat(c->output, &before) == 0;
    pl_stream *st = NULL;
    PL_TRY(pl_df_execute(df, &c->opts, &st, err));
    pl_status rc = pl_write_stream(st, c->output, c->format, &c->wopts, err);
    pl_stream_free(st);
    if (c->output) {
        c->output_used = true;
        if (rc && !existed) unlink(c->output); /* no half-written file that looks complete */
    }
    return rc;
}

static pl_status on_result(void *user, pl_sql_result *r, pl_error *err) {
    sql_cli *c = user;
    pl_status st = PL_OK;
    if (r->explain) {
        size_t n = strlen(r->explain);
        fputs(r->explain, stdout);
        if (n == 0 || r->explain[n - 1] != '\n') fputc('\n', stdout);
    } else if (r->df) {
        st = emit(c, r->df, err);
    }
    if (st == PL_OK) print_changes(c, r->rows_changed);
    fflush(stdout);
    int64_t now = pl_now_ns();
    if (c->timing && st == PL_OK) fprintf(stderr, "Run Time: %.3f s\n", (double)(now - c->t0) / 1e9);
    c->t0 = now;
    return st;
}

/* True when text holds nothing but white space, ';' and comments. */
static bool sql_is_blank(const char *p) {
    while (*p) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            if (!e) return false;
            p = e + 2;
        } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ';') {
            p++;
        } else {
            return false;
        }
    }
    return true;
}

/* --server: one statement of a script on the server; a query's result is written like a local
 * one, a statement that returns no rows (CREATE, INSERT, DROP ...) prints nothing. */
static pl_status run_remote_one(sql_cli *c, const char *text, bool returns_rows, pl_error *err) {
    if (returns_rows && c->output && c->output_used)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "-o takes the result of one query; the SQL has several");
    pl_stream *st = NULL;
    pl_status rc = pl_client_sql(c->client, text, &st, err);
    if (rc) {
        /* the server names where in the plan an error is; the plan is just this SQL */
        static const char where[] = "root.sql: ";
        if (err && strncmp(err->msg, where, sizeof where - 1) == 0)
            memmove(err->msg, err->msg + sizeof where - 1, strlen(err->msg) - (sizeof where - 2));
        return rc;
    }
    if (c->count_only || !returns_rows) {
        pl_table *t = NULL;
        rc = pl_stream_collect(st, &t, err);
        if (!rc && returns_rows) printf("%lld rows\n", (long long)t->n_rows);
        /* the server answers a statement without rows with its "Count" (none for DDL) */
        if (!rc && !returns_rows && t->n_rows == 1 && t->schema->n_fields == 1 &&
            !strcmp(t->schema->fields[0].name, "Count") && t->schema->fields[0].type->id == PL_TYPE_INT64) {
            int64_t b = 0;
            while (t->batches[b]->n_rows == 0) b++;
            pl_array *a = t->batches[b]->columns[0];
            if (pl_array_is_valid(a, 0)) print_changes(c, ((const int64_t *)a->values->data)[a->offset]);
        }
        pl_table_release(t);
    } else {
        struct stat before;
        bool existed = c->output && stat(c->output, &before) == 0;
        rc = pl_write_stream(st, c->output, c->format, &c->wopts, err);
        if (c->output) {
            c->output_used = true;
            if (rc && !existed) unlink(c->output);
        }
    }
    pl_stream_free(st);
    fflush(stdout);
    if (c->timing && rc == PL_OK)
        fprintf(stderr, "Run Time: %.3f s\n", (double)(pl_now_ns() - c->t0) / 1e9);
    c->t0 = pl_now_ns();
    return rc;
}

/* --server: the statements of text, one request each, in order; stops at the first error
 * (err->sql_pos relative to the whole text). */
static pl_status run_remote(sql_cli *c, const char *text, pl_error *err) {
    if (sql_is_blank(text)) return PL_OK;
    pl_sql_span *spans = NULL;
    int32_t n = 0;
    PL_TRY(pl_sql_split(text, &spans, &n, err));
    pl_status rc = PL_OK;
    for (int32_t i = 0; i < n && !rc; i++) {
        int32_t len = spans[i].end - spans[i].start;
        char *one = pl_malloc((size_t)len + 1);
        if (!one) {
            rc = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        memcpy(one, text + spans[i].start, (size_t)len);
        one[len] = 0;
        if (err) err->sql_pos = -1;
        rc = run_remote_one(c, one, spans[i].returns_rows, err);
        if (rc && err && err->sql_pos >= 0) err->sql_pos += spans[i].start;
        pl_free(one);
    }
    pl_free(spans);
    return rc;
}

/* The first line of a token file, without surrounding white space, into out (pl_free). */
static pl_status read_token(const char *path, char **out, pl_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        pl_error_set_path(err, path);
        PL_FAIL(err, e == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot read the token file: %s",
                strerror(e));
    }
    char line[4096];
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    char *p = got ? got : line;
    if (!got) line[0] = 0;
    while (*p == ' ' || *p == '\t') p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (n == 0) {
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "the token file's first line is empty");
    }
    char *t = pl_malloc(n + 1);
    if (!t) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    memcpy(t, p, n);
    t[n] = 0;
    *out = t;
    return PL_OK;
}

/* Runs a script; returns an exit code (errors printed). */
static int run_script(sql_cli *c, const char *text) {
    pl_error err;
    pl_error_init(&err);
    c->script = text;
    c->t0 = pl_now_ns();
    pl_status st = c->client ? run_remote(c, text, &err) : pl_session_run(c->s, text, on_result, c, &err);
    int rc = st ? report(c, &err) : PL_EXIT_OK;
    c->script = NULL;
    if (rc == PL_EXIT_OK && fflush(stdout) != 0) {
        fprintf(stderr, "polaroid: cannot write to standard output: %s\n", strerror(errno));
        rc = PL_EXIT_ERROR;
    }
    return rc;
}

/* ---------------------------------------------------------------- reading scripts */

/* The whole of f as a NUL-terminated string (pl_free), or NULL (errno set). */
static char *read_all(FILE *f) {
    size_t cap = 1 << 12, n = 0;
    char *buf = pl_malloc(cap);
    if (!buf) return NULL;
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = pl_realloc(buf, cap * 2);
            if (!nb) {
                pl_free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        pl_free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (strlen(buf) != n) { /* a NUL byte inside: not SQL text */
        pl_free(buf);
        errno = EINVAL;
        return NULL;
    }
    return buf;
}

/* ---------------------------------------------------------------- interactive shell */

/* Ctrl-C in the shell cancels the running statement (the executor checks the flag at morsel
 * boundaries); the shell goes on. */
static int g_cancel;

static void on_sigint(int sig) {
    (void)sig;
    __atomic_store_n(&g_cancel, 1, __ATOMIC_RELAXED);
}

static int run_cancellable(sql_cli *c, const char *text) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    __atomic_store_n(&g_cancel, 0, __ATOMIC_RELAXED);
    sigaction(SIGINT, &sa, &old);
    int rc = run_script(c, text);
    sigaction(SIGINT, &old, NULL);
    return rc;
}

/* Where SQL text stands: SQL_EMPTY (blanks and comments only), SQL_COMPLETE (ends with ';'
 * outside quotes and comments) or SQL_PENDING (a statement goes on). */
enum { SQL_PENDING, SQL_COMPLETE, SQL_EMPTY };
static int sql_state(const char *text) {
    enum { NORMAL, SQUOTE, DQUOTE, LINE_COMMENT, BLOCK_COMMENT } state = NORMAL;
    bool semi = false, any = false;
    for (const char *p = text; *p; p++) {
        switch (state) {
        case NORMAL:
            if (*p == '\'') state = SQUOTE, semi = false, any = true;
            else if (*p == '"') state = DQUOTE, semi = false, any = true;
            else if (p[0] == '-' && p[1] == '-') state = LINE_COMMENT, p++;
            else if (p[0] == '/' && p[1] == '*') state = BLOCK_COMMENT, p++;
            else if (*p == ';') semi = true, any = true;
            else if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') semi = false, any = true;
            break;
        case SQUOTE: if (*p == '\'') state = NORMAL; break;
        case DQUOTE: if (*p == '"') state = NORMAL; break;
        case LINE_COMMENT: if (*p == '\n') state = NORMAL; break;
        case BLOCK_COMMENT:
            if (p[0] == '*' && p[1] == '/') state = NORMAL, p++;
            break;
        }
    }
    if (state == SQUOTE || state == DQUOTE || state == BLOCK_COMMENT) return SQL_PENDING;
    return !any ? SQL_EMPTY : semi ? SQL_COMPLETE : SQL_PENDING;
}

/* True when text ends with ';' outside quotes and comments (a complete statement). */
static bool statement_complete(const char *text) { return sql_state(text) == SQL_COMPLETE; }

static void print_object_schema(sql_cli *c, const char *name, bool is_view) {
    pl_df *df = NULL;
    pl_error err;
    pl_error_init(&err);
    if (pl_session_get(c->s, name, &df, &err)) {
        report(c, &err);
        return;
    }
    printf("%s (%s)\n", name, is_view ? "view" : "table");
    cli_print_fields(pl_df_schema(df));
    pl_df_release(df);
}

/* Runs a dot command; returns false for .quit/.exit. */
static bool dot_command(sql_cli *c, const char *line) {
    char cmd[32] = "", arg[256] = "";
    if (sscanf(line, "%31s %255s", cmd, arg) < 1) return true;
    if (!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit") || !strcmp(cmd, ".q")) return false;
    if (!strcmp(cmd, ".help")) {
        fputs(g_shell_help, stdout);
    } else if (c->client && (!strcmp(cmd, ".tables") || !strcmp(cmd, ".schema"))) {
        fprintf(stderr, "%s is not available with --server (query the server instead)\n", cmd);
    } else if (!strcmp(cmd, ".tables")) {
        for (int32_t i = 0; i < pl_session_n_objects(c->s); i++) {
            bool v;
            const char *n = pl_session_object(c->s, i, &v);
            printf("%s%s\n", n, v ? " (view)" : "");
        }
    } else if (!strcmp(cmd, ".schema")) {
        bool found = !arg[0];
        for (int32_t i = 0; i < pl_session_n_objects(c->s); i++) {
            bool v;
            const char *n = pl_session_object(c->s, i, &v);
            if (arg[0] && strcasecmp(n, arg)) continue;
            found = true;
            print_object_schema(c, n, v);
        }
        if (!found) fprintf(stderr, "no table or view \"%s\"\n", arg);
    } else if (!strcmp(cmd, ".timer")) {
        if (!strcmp(arg, "on")) c->timing = true;
        else if (!strcmp(arg, "off")) c->timing = false;
        else fprintf(stderr, "usage: .timer on|off\n");
    } else if (!strcmp(cmd, ".changes")) {
        if (!strcmp(arg, "on")) c->changes = true;
        else if (!strcmp(arg, "off")) c->changes = false;
        else fprintf(stderr, "usage: .changes on|off\n");
    } else if (!strcmp(cmd, ".mode")) {
        pl_format f = pl_format_from_name(arg);
        if (f == PL_FORMAT_TABLE || f == PL_FORMAT_CSV || f == PL_FORMAT_JSON) {
            c->format = f;
            c->count_only = false;
        } else {
            fprintf(stderr, "usage: .mode table|csv|json\n");
        }
    } else {
        fprintf(stderr, "unknown command %s (see .help)\n", cmd);
    }
    fflush(stdout);
    return true;
}

/* The SQL of text[from, to) run as the whole script with the rest blanked (newlines kept), so
 * that error positions and line numbers are those of the script; part: strlen(text) + 1 bytes. */
static int run_part(sql_cli *c, const char *text, char *part, size_t from, size_t to) {
    size_t n = strlen(text);
    for (size_t k = 0; k < n; k++) part[k] = text[k] == '\n' ? '\n' : ' ';
    memcpy(part + from, text + from, to - from);
    part[n] = 0;
    return run_script(c, part);
}

/* A script (-f, standard input) with the shell's dot commands on lines of their own between
 * statements (.mode csv, .tables, .schema t, .timer on, .quit), like the duckdb CLI: the SQL
 * between them runs in order, a failing statement stops the script. */
static int run_script_dots(sql_cli *c, const char *text) {
    size_t n = strlen(text);
    bool dots = false;
    for (size_t i = 0; i <= n && !dots; i++) {
        if (i && text[i - 1] != '\n') continue;
        size_t k = i;
        while (k < n && (text[k] == ' ' || text[k] == '\t')) k++;
        dots = k < n && text[k] == '.';
    }
    if (!dots) return run_script(c, text);
    char *part = pl_malloc(n + 1), *line = pl_malloc(n + 1);
    if (!part || !line) {
        pl_free(part);
        pl_free(line);
        fprintf(stderr, "polaroid: out of memory\n");
        return PL_EXIT_ERROR;
    }
    int rc = PL_EXIT_OK;
    size_t seg = 0; /* the SQL not run yet starts here */
    for (size_t i = 0; i < n && rc == PL_EXIT_OK;) {
        size_t e = i;
        while (e < n && text[e] != '\n') e++;
        size_t k = i;
        while (k < e && (text[k] == ' ' || text[k] == '\t')) k++;
        if (k < e && text[k] == '.') {
            memcpy(line, text + seg, i - seg); /* the SQL before: none, or whole statements */
            line[i - seg] = 0;
            int s = sql_state(line);
            if (s != SQL_PENDING) {
                if (s == SQL_COMPLETE) rc = run_part(c, text, part, seg, i);
                if (rc != PL_EXIT_OK) break;
                memcpy(line, text + k, e - k);
                line[e - k] = 0;
                if (!dot_command(c, line)) { /* .quit */
                    seg = n;
                    break;
                }
                seg = e < n ? e + 1 : n;
            }
        }
        i = e + 1;
    }
    if (rc == PL_EXIT_OK && seg < n) {
        memcpy(line, text + seg, n - seg);
        line[n - seg] = 0;
        if (sql_state(line) != SQL_EMPTY) rc = run_part(c, text, part, seg, n);
    }
    pl_free(part);
    pl_free(line);
    return rc;
}

static int shell(sql_cli *c) {
    char hist[PATH_MAX] = "";
    const char *home = getenv("HOME");
    if (home && *home) snprintf(hist, sizeof hist, "%s/.polaroid_history", home);
    using_history();
    stifle_history(SQL_HISTORY_MAX);
    if (hist[0]) read_history(hist);
    printf("polaroid %s SQL shell. Statements end with ';'. .help for help, .quit to leave.\n",
           PL_VERSION_STRING);
    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        char *line = readline(len ? "   ...> " : "polaroid> ");
        if (!line) {
            fputc('\n', stdout);
            break;
        }
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (len == 0 && *p == '.') {
            add_history(line);
            bool go_on = dot_command(c, p);
            free(line);
            if (!go_on) break;
            continue;
        }
        if (len == 0 && *p == 0) {
            free(line);
            continue;
        }
        size_t ll = strlen(line);
        char *nb = pl_realloc(buf, len + ll + 2);
        if (!nb) {
            free(line);
            fprintf(stderr, "polaroid: out of memory\n");
            break;
        }
        buf = nb;
        memcpy(buf + len, line, ll);
        len += ll;
        buf[len++] = '\n';
        buf[len] = 0;
        free(line);
        if (!statement_complete(buf)) continue;
        buf[len - 1] = 0; /* history entry without the last newline */
        add_history(buf);
        buf[len - 1] = '\n';
        run_cancellable(c, buf); /* errors are printed; the shell goes on */
        len = 0;
    }
    pl_free(buf);
    if (hist[0]) write_history(hist);
    return PL_EXIT_OK;
}

/* ---------------------------------------------------------------- options */

int cmd_sql(int argc, char **argv) {
    sql_cli c;
    memset(&c, 0, sizeof c);
    pl_exec_opts_init(&c.opts);
    pl_write_opts_init(&c.wopts);
    cli_args a = {argc, argv, 1, "sql"};
    const char *query = NULL, *file = NULL, *server = NULL, *token_file = NULL, *tls_ca = NULL;
    bool format_set = false;
    while (a.i < a.argc) {
        const char *v = NULL;
        int r;
        const char *arg = a.argv[a.i];
        if (cli_take_flag(&a, "-h|--help")) {
            fputs(g_sql_help, stdout);
            return PL_EXIT_OK;
        }
        if (cli_take_flag(&a, "--timing")) {
            c.timing = true;
            continue;
        }
        if ((r = cli_take_value(&a, "-f|--file", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error("sql", "-f needs a file name (or - for standard input)");
            file = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--format", &v))) {
            if (r < 0 || cli_parse_format("sql", v, &c.format, &c.count_only)) return PL_EXIT_USAGE;
            format_set = true;
            continue;
        }
        if ((r = cli_take_value(&a, "-o|--output", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error("sql", "-o needs a file name (or - for standard output)");
            c.output = strcmp(v, "-") ? v : NULL;
            continue;
        }
        if ((r = cli_take_value(&a, "--server", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!*v) return cli_usage_error("sql", "--server needs HOST:PORT");
            server = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--token-file", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            token_file = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--tls-ca", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            tls_ca = v;
            continue;
        }
        if ((r = cli_take_value(&a, "--threads", &v))) {
            int32_t n = 0;
            if (r < 0 || cli_apply_threads("sql", v, &n)) return PL_EXIT_USAGE;
            c.opts.n_threads = n;
            c.wopts.n_threads = n;
            continue;
        }
        if ((r = cli_take_value(&a, "--memory-limit", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            if (!cli_parse_size(v, &c.opts.memory_limit))
                return cli_usage_error("sql", "--memory-limit takes a size such as 4GB or 512MiB, not \"%s\"", v);
            continue;
        }
        if (cli_take_flag(&a, "--")) {
            if (a.i < a.argc) {
                if (query) return cli_usage_error("sql", "give the SQL as one argument (quote it)");
                query = a.argv[a.i++];
            }
            if (a.i < a.argc) return cli_usage_error("sql", "give the SQL as one argument (quote it)");
            break;
        }
        if (arg[0] == '-' && arg[1] != 0) return cli_usage_error("sql", "unknown option \"%s\"", arg);
        if (query) return cli_usage_error("sql", "give the SQL as one argument (quote it)");
        query = a.argv[a.i++];
    }
    if (query && file) return cli_usage_error("sql", "give either the SQL or -f FILE, not both");
    if ((token_file || tls_ca) && !server)
        return cli_usage_error("sql", "--token-file and --tls-ca go with --server");
    if (!format_set && c.output) c.format = pl_format_from_path(c.output);
    if (!format_set && c.output && c.format == PL_FORMAT_AUTO)
        return cli_usage_error("sql", "cannot tell the output format from \"%s\" (use --format)", c.output);
    if (c.format == PL_FORMAT_AUTO) c.format = PL_FORMAT_TABLE;
    if (c.format == PL_FORMAT_IPC) c.wopts.codec = PL_CODEC_UNCOMPRESSED;

    pl_error err;
    pl_error_init(&err);
    if (server) {
        pl_client_opts co;
        pl_client_opts_init(&co);
        co.tls_ca_file = tls_ca;
        co.memory_limit_bytes = c.opts.memory_limit;
        co.cancel = &g_cancel;
        char *token = NULL;
        if (token_file && read_token(token_file, &token, &err)) return cli_report(&err);
        co.token = token;
        pl_status cst = pl_client_connect_opts(server, &co, &c.client, &err);
        pl_free(token);
        if (cst) return cli_report(&err);
    }
    if (pl_session_new(&c.s, &err)) {
        pl_client_close(c.client);
        return cli_report(&err);
    }
    c.opts.cancel = &g_cancel;
    pl_session_set_exec_opts(c.s, &c.opts);
    int rc;
    if (query) {
        rc = run_script(&c, query);
    } else if (file || !isatty(STDIN_FILENO)) {
        bool from_stdin = !file || !strcmp(file, "-");
        FILE *f = from_stdin ? stdin : fopen(file, "rb");
        char *text = f ? read_all(f) : NULL;
        if (!text) {
            pl_error_set_path(&err, from_stdin ? "-" : file);
            pl_error_set(&err, errno == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot read the SQL: %s",
                         strerror(errno));
            rc = cli_report(&err);
        } else {
            c.script_path = from_stdin ? NULL : file;
            rc = run_script_dots(&c, text);
        }
        if (f && !from_stdin) fclose(f);
        pl_free(text);
    } else {
        rc = shell(&c);
    }
    pl_session_free(c.s);
    pl_client_close(c.client);
    return rc;
}
