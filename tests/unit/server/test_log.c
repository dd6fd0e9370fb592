/* test_log.c - src/server/log.c: exact text and JSON lines, escaping of quotes, backslashes,
 * control characters and invalid UTF-8 (JSON checked with a small strict parser that decodes
 * the escapes back), long lines cut without breaking the syntax, the level filter, one write per
 * line under concurrent logging, and unique request ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "server/log.h"

/* 2026-11-27T03:40:00.123Z */
#define T0 1795750800123LL

/* ---------------------------------------------------------------- a strict flat JSON parser */

#define MAX_KEYS 256

typedef struct jobj {
    int n;
    char key[MAX_KEYS][64];
    char val[MAX_KEYS][8192]; /* strings decoded to UTF-8; other values as their text */
    bool is_str[MAX_KEYS];
} jobj;

static void put_utf8(char **o, uint32_t cp) {
    if (cp < 0x80) {
        *(*o)++ = (char)cp;
    } else if (cp < 0x800) {
        *(*o)++ = (char)(0xc0 | (cp >> 6));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *(*o)++ = (char)(0xe0 | (cp >> 12));
        *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *(*o)++ = (char)(0xf0 | (cp >> 18));
        *(*o)++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    }
}

/* Parses a JSON string at *p (at the opening quote) into out; false if malformed. Raw bytes
 * must be >= 0x20 and valid UTF-8 (checked loosely: no 0xff/0xfe, continuation structure). */
static bool parse_str(const char **p, char *out, size_t cap) {
    const char *s = *p;
    char *o = out, *end = out + cap - 5;
    if (*s++ != '"') return false;
    while (*s != '"') {
        if (o >= end) return false;
        unsigned char c = (unsigned char)*s;
        if (c == 0 || c < 0x20) return false;
        if (c == '\\') {
            s++;
            switch (*s) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\b'; break;
            case 'f': *o++ = '\f'; break;
            case 'n': *o++ = '\n'; break;
            case 'r': *o++ = '\r'; break;
            case 't': *o++ = '\t'; break;
            case 'u': {
                uint32_t cp = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = s[i];
                    int v = (h >= '0' && h <= '9')   ? h - '0'
                            : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                            : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                     : -1;
                    if (v < 0) return false;
                    cp = cp * 16 + (uint32_t)v;
                }
                if (cp >= 0xd800 && cp <= 0xdfff) return false; /* we never emit surrogates */
                put_utf8(&o, cp);
                s += 4;
                break;
            }
            default: return false;
            }
            s++;
            continue;
        }
        if (c >= 0x80) {
            int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
            if (len == 0 || c > 0xf4) return false;
            for (int i = 1; i < len; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80) return false;
            memcpy(o, s, (size_t)len);
            o += len;
            s += len;
            continue;
        }
        *o++ = (char)c;
        s++;
    }
    *o = 0;
    *p = s + 1;
    return true;
}

/* One line: a flat object, then "\n" and nothing else. */
static bool parse_line(const char *line, jobj *j) {
    memset(j, 0, sizeof *j);
    const char *p = line;
    if (*p++ != '{') return false;
    for (;;) {
        if (j->n >= MAX_KEYS) return false;
        if (!parse_str(&p, j->key[j->n], sizeof j->key[0])) return false;
        if (*p++ != ':') return false;
        if (*p == '"') {
            if (!parse_str(&p, j->val[j->n], sizeof j->val[0])) return false;
            j->is_str[j->n] = true;
        } else {
            size_t l = strcspn(p, ",}");
            if (l == 0 || l >= sizeof j->val[0]) return false;
            memcpy(j->val[j->n], p, l);
            j->val[j->n][l] = 0;
            const char *v = j->val[j->n];
            if (strcmp(v, "true") && strcmp(v, "false") && strcmp(v, "null")) {
                char *e;
                strtod(v, &e);
                if (*e || v[0] == '+' || v[0] == '.') return false;
            }
            p += l;
        }
        j->n++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}') return false;
        break;
    }
    return p[0] == '\n' && p[1] == 0;
}

static const char *jget(const jobj *j, const char *key) {
    for (int i = 0; i < j->n; i++)
        if (strcmp(j->key[i], key) == 0) return j->val[i];
    return NULL;
}

/* ---------------------------------------------------------------- formatting */

static void test_text_line_exact(void **state) {
    (void)state;
    char buf[PL_LOG_MAX_LINE];
    pl_log_field f[] = {PL_LOG_S("method", "Execute"), PL_LOG_S("status", "OK"),
                        PL_LOG_I("rows", 10),          PL_LOG_D("ms", 1.2),
                        PL_LOG_S("peer", "ipv4:127.0.0.1:5555"), PL_LOG_S("skipped", NULL),
                        PL_LOG_B("same_host", true)};
    size_t n = pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, T0, PL_LOG_INFO,
                                  "00112233aabbccdd", f, PL_ARRAY_LEN(f), "call done");
    const char *want = "2026-11-27T03:40:00.123Z INFO request_id=00112233aabbccdd method=Execute "
                       "status=OK rows=10 ms=1.2 peer=ipv4:127.0.0.1:5555 same_host=true "
                       "call done\n";
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));

    /* values that need quotes; the free-text message keeps quotes but not newlines */
    pl_log_field g[] = {PL_LOG_S("path", "a b.parquet"), PL_LOG_S("expr", "x=\"1\"\\"),
                        PL_LOG_S("empty", ""), PL_LOG_S("ctl", "a\tb\nc\x01"),
                        PL_LOG_I("neg", -5)};
    pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, T0, PL_LOG_WARN, NULL, g, PL_ARRAY_LEN(g),
                       "column \"x\" not found\nline two\r\x7f \xff\xfe é");
    assert_string_equal(buf, "2026-11-27T03:40:00.123Z WARN path=\"a b.parquet\" "
                             "expr=\"x=\\\"1\\\"\\\\\" empty=\"\" ctl=\"a\\tb\\nc\\x01\" neg=-5 "
                             "column \"x\" not found\\nline two\\r\\x7f \\xff\\xfe é\n");
    /* levels; no message */
    pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, T0 + 999, PL_LOG_ERROR, NULL, NULL, 0, NULL);
    assert_string_equal(buf, "2026-11-27T03:40:01.122Z ERROR\n");
    pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, 0, PL_LOG_DEBUG, NULL, NULL, 0, "");
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z DEBUG\n");
}

static void test_json_line_exact_and_escapes(void **state) {
    (void)state;
    char buf[PL_LOG_MAX_LINE];
    pl_log_field f[] = {PL_LOG_S("method", "Execute"), PL_LOG_S("status", "OK"),
                        PL_LOG_I("rows", 10), PL_LOG_D("ms", 1.2),
                        PL_LOG_B("same_host", false), PL_LOG_D("nan", 0.0 / 0.0)};
    pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_INFO, "00112233aabbccdd", f,
                       PL_ARRAY_LEN(f), "call done");
    assert_string_equal(buf, "{\"ts\":\"2026-11-27T03:40:00.123Z\",\"level\":\"info\","
                             "\"request_id\":\"00112233aabbccdd\",\"method\":\"Execute\","
                             "\"status\":\"OK\",\"rows\":10,\"ms\":1.2,\"same_host\":false,"
                             "\"nan\":null,\"msg\":\"call done\"}\n");
    jobj *j = malloc(sizeof *j);
    assert_true(parse_line(buf, j));
    assert_int_equal(j->n, 10);

    /* every awkward character, decoded back by the parser */
    const char *nasty = "q\"b\\s/ n\n r\r t\t \x01\x02\x1f del\x7f é € 😀 bad:\xff\xc3 end";
    const char *back = "q\"b\\s/ n\n r\r t\t \x01\x02\x1f del\x7f é € 😀 bad:\xef\xbf\xbd\xef"
                       "\xbf\xbd end";
    pl_log_field g[] = {PL_LOG_S("k\"ey", nasty), PL_LOG_S("peer", "unix:/tmp/a b")};
    pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_ERROR, NULL, g, PL_ARRAY_LEN(g),
                       nasty);
    assert_true(parse_line(buf, j));
    assert_string_equal(jget(j, "level"), "error");
    assert_string_equal(jget(j, "k\"ey"), back);
    assert_string_equal(jget(j, "msg"), back);
    assert_string_equal(jget(j, "peer"), "unix:/tmp/a b");
    assert_null(jget(j, "request_id"));
    /* control characters never appear raw */
    for (const char *c = buf; *c != '\n'; c++) assert_true((unsigned char)*c >= 0x20);
    /* overlong encodings and surrogates are invalid UTF-8 too */
    pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_INFO, NULL, NULL, 0,
                       "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82");
    assert_true(parse_line(buf, j));
    assert_string_equal(jget(j, "msg"), "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef"
                                        "\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf"
                                        "\xbd \xef\xbf\xbd\xef\xbf\xbd");
    free(j);
}

static void test_long_lines_are_cut_cleanly(void **state) {
    (void)state;
    size_t big = 3 * PL_LOG_MAX_LINE;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++) s[i] = (char)("ab\"\n\\é"[i % 6]);
    s[big] = 0;
    /* cut inside a multi-byte character must not split it: make it all "é" */
    char *e = malloc(big + 1);
    for (size_t i = 0; i + 1 < big; i += 2) memcpy(e + i, "\xc3\xa9", 2);
    e[big] = 0;
    char buf[PL_LOG_MAX_LINE];
    jobj *j = malloc(sizeof *j);
    const char *inputs[] = {s, e};
    for (int k = 0; k < 2; k++) {
        /* a long message */
        size_t n = pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_INFO, "r", NULL,
                                      0, inputs[k]);
        assert_true(n < PL_LOG_MAX_LINE);
        assert_int_equal(strlen(buf), n);
        assert_true(parse_line(buf, j));
        const char *msg = jget(j, "msg");
        assert_non_null(msg);
        assert_true(strlen(msg) > PL_LOG_MAX_LINE / 2);
        assert_string_equal(msg + strlen(msg) - 3, "...");
        /* a long field value, then more fields and a message that do not fit */
        pl_log_field f[] = {PL_LOG_S("a", "short"), PL_LOG_S("long", inputs[k]),
                            PL_LOG_I("after", 1)};
        n = pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_INFO, NULL, f, 3, "m");
        assert_true(parse_line(buf, j));
        assert_string_equal(jget(j, "a"), "short");
        assert_non_null(jget(j, "long"));
        assert_null(jget(j, "after"));
        /* text: the quoted value is closed */
        n = pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, T0, PL_LOG_INFO, NULL, f, 3, "m");
        assert_true(n < PL_LOG_MAX_LINE);
        /* quoted when the value needs quotes ("" in s), bare otherwise */
        assert_string_equal(buf + n - (k == 0 ? 5 : 6), k == 0 ? "...\"\n" : "é...\n");
        assert_true(strchr(buf, '\n') == buf + n - 1); /* one line */
        n = pl_log_format_line(buf, sizeof buf, PL_LOG_TEXT, T0, PL_LOG_INFO, NULL, NULL, 0,
                               inputs[k]);
        assert_string_equal(buf + n - 4, "...\n");
    }
    /* many small fields: the one that does not fit is dropped whole (no dangling key) */
    pl_log_field many[400];
    char keys[400][16];
    for (int i = 0; i < 400; i++) {
        snprintf(keys[i], sizeof keys[i], "key%03d", i);
        many[i] = PL_LOG_I(keys[i], 1234567890123LL);
    }
    size_t n = pl_log_format_line(buf, sizeof buf, PL_LOG_JSON, T0, PL_LOG_INFO, NULL, many, 400,
                                  "m");
    assert_true(n < PL_LOG_MAX_LINE);
    assert_true(parse_line(buf, j));
    assert_true(j->n < 400);
    /* a buffer too small for anything gives an empty string, not an overflow */
    char tiny[8];
    assert_int_equal(pl_log_format_line(tiny, sizeof tiny, PL_LOG_JSON, T0, PL_LOG_INFO, NULL,
                                        NULL, 0, "m"),
                     0);
    assert_string_equal(tiny, "");
    free(j);
    free(s);
    free(e);
}

/* ---------------------------------------------------------------- writing */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

static int temp_fd(char *path) {
    strcpy(path, "/tmp/test_log_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_APPEND);
    return fd;
}

static void test_levels_and_call_helper(void **state) {
    (void)state;
    char path[64];
    int fd = temp_fd(path);
    pl_log_set_fd(fd);
    pl_log_init(PL_LOG_JSON, PL_LOG_INFO);
    assert_false(pl_log_enabled(PL_LOG_DEBUG));
    assert_true(pl_log_enabled(PL_LOG_INFO));
    assert_false(pl_log_enabled(PL_LOG_OFF));
    pl_log(PL_LOG_DEBUG, NULL, "hidden %d", 1);
    pl_log(PL_LOG_INFO, "abc", "shown %d", 2);
    /* a successful light call is DEBUG (hidden); failures are shown */
    pl_log_call(&(pl_log_call_info){.request_id = "r1", .method = "ServerInfo", .grpc_code = 0,
                                    .latency_ns = 10000, .rows = -1, .bytes = -1, .light = true});
    pl_log_call(&(pl_log_call_info){.request_id = "r2", .method = "Execute", .grpc_code = 5,
                                    .latency_ns = 1500000, .rows = -1, .bytes = 120,
                                    .peer = "ipv4:127.0.0.1:1", .error = "file \"x\" not found"});
    pl_log_call(&(pl_log_call_info){.request_id = "r3", .method = "Execute", .grpc_code = 13,
                                    .latency_ns = 2000000, .rows = 7, .bytes = 8});
    pl_log_call(&(pl_log_call_info){.request_id = "r4", .method = "Execute", .grpc_code = 0,
                                    .latency_ns = 1899740, .rows = 7, .bytes = 8,
                                    .queued_ns = 250000, .cancelled = true});
    pl_log_init(PL_LOG_TEXT, PL_LOG_ERROR);
    pl_log(PL_LOG_WARN, NULL, "hidden too");
    pl_log(PL_LOG_ERROR, NULL, "text now");
    pl_log_init(PL_LOG_TEXT, PL_LOG_OFF);
    pl_log(PL_LOG_ERROR, NULL, "off");
    pl_log_set_fd(2);
    pl_log_init(PL_LOG_TEXT, PL_LOG_INFO);
    close(fd);
    char *all = read_file(path);
    unlink(path);
    jobj *j = malloc(sizeof *j);
    char *line = all, *nl;
    int n = 0;
    const char *want_ids[] = {"abc", "r2", "r3", "r4"};
    while ((nl = strchr(line, '\n')) != NULL && n < 4) {
        char save = nl[1];
        nl[1] = 0;
        assert_true(parse_line(line, j));
        nl[1] = save;
        assert_string_equal(jget(j, "request_id"), want_ids[n]);
        if (n == 0) assert_string_equal(jget(j, "msg"), "shown 2");
        if (n == 1) {
            assert_string_equal(jget(j, "level"), "info");
            assert_string_equal(jget(j, "status"), "NOT_FOUND");
            assert_string_equal(jget(j, "msg"), "file \"x\" not found");
            assert_string_equal(jget(j, "ms"), "1.5");
            assert_string_equal(jget(j, "bytes"), "120");
            assert_null(jget(j, "rows"));
            assert_null(jget(j, "queue_ms"));
            assert_null(jget(j, "cancelled"));
            assert_string_equal(jget(j, "peer"), "ipv4:127.0.0.1:1");
        }
        if (n == 2) {
            assert_string_equal(jget(j, "level"), "warn");
            assert_string_equal(jget(j, "status"), "INTERNAL");
        }
        if (n == 3) {
            assert_string_equal(jget(j, "status"), "OK");
            assert_string_equal(jget(j, "rows"), "7");
            assert_string_equal(jget(j, "msg"), "call done");
            assert_string_equal(jget(j, "queue_ms"), "0.25");
            assert_string_equal(jget(j, "ms"), "1.9"); /* rounded to the microsecond */
            assert_string_equal(jget(j, "cancelled"), "true");
        }
        n++;
        line = nl + 1;
    }
    assert_int_equal(n, 4);
    assert_non_null(strstr(line, " ERROR text now\n"));
    assert_null(strstr(line, "hidden"));
    assert_null(strstr(line, "off"));
    free(j);
    free(all);
}

static void test_parse_options(void **state) {
    (void)state;
    pl_log_format f;
    pl_log_level l;
    pl_error err;
    assert_int_equal(pl_log_parse_format("json", &f, NULL), PL_OK);
    assert_int_equal(f, PL_LOG_JSON);
    assert_int_equal(pl_log_parse_format("text", &f, NULL), PL_OK);
    assert_int_equal(f, PL_LOG_TEXT);
    pl_error_init(&err);
    assert_int_equal(pl_log_parse_format("xml", &f, &err), PL_ERR_INVALID_ARG);
    assert_non_null(strstr(err.msg, "\"xml\""));
    assert_int_equal(pl_log_parse_level("warn", &l, NULL), PL_OK);
    assert_int_equal(l, PL_LOG_WARN);
    assert_int_equal(pl_log_parse_level("debug", &l, NULL), PL_OK);
    assert_int_equal(l, PL_LOG_DEBUG);
    assert_int_equal(pl_log_parse_level("loud", &l, NULL), PL_ERR_INVALID_ARG);
    assert_int_equal(pl_log_parse_level(NULL, &l, NULL), PL_ERR_INVALID_ARG);
}

#define N_THREADS 8
#define N_LINES 2000

static void *log_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    char rid[PL_LOG_REQUEST_ID_LEN + 1];
    /* long-ish lines so that a torn write would show */
    char payload[1500];
    memset(payload, 'a' + id, sizeof payload - 1);
    payload[sizeof payload - 1] = 0;
    for (int i = 0; i < N_LINES; i++) {
        pl_log_request_id(rid);
        pl_log_field f[] = {PL_LOG_I("thread", id), PL_LOG_I("i", i), PL_LOG_S("p", payload)};
        pl_log_kv(PL_LOG_INFO, rid, f, 3, "x");
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_concurrent_lines_do_not_interleave(void **state) {
    (void)state;
    char path[64];
    int fd = temp_fd(path);
    pl_log_set_fd(fd);
    pl_log_init(PL_LOG_JSON, PL_LOG_INFO);
    pthread_t th[N_THREADS];
    for (int t = 0; t < N_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, log_worker, (void *)(intptr_t)t), 0);
    for (int t = 0; t < N_THREADS; t++) pthread_join(th[t], NULL);
    pl_log_set_fd(2);
    pl_log_init(PL_LOG_TEXT, PL_LOG_INFO);
    close(fd);
    char *all = read_file(path);
    unlink(path);
    jobj *j = malloc(sizeof *j);
    int counts[N_THREADS] = {0};
    char **ids = malloc(sizeof(char *) * N_THREADS * N_LINES);
    int n = 0;
    char *line = all, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
        char save = nl[1];
        nl[1] = 0;
        assert_true(parse_line(line, j));
        nl[1] = save;
        int t = atoi(jget(j, "thread"));
        assert_true(t >= 0 && t < N_THREADS);
        assert_int_equal(atoi(jget(j, "i")), counts[t]); /* each thread's lines in order */
        counts[t]++;
        const char *p = jget(j, "p");
        assert_int_equal(strlen(p), 1499);
        assert_int_equal(p[0], 'a' + t);
        assert_int_equal(p[1498], 'a' + t);
        assert_true(n < N_THREADS * N_LINES);
        ids[n++] = strdup(jget(j, "request_id"));
        line = nl + 1;
    }
    assert_int_equal(*line, 0);
    assert_int_equal(n, N_THREADS * N_LINES);
    /* request ids: 16 lowercase hex characters, all distinct */
    qsort(ids, (size_t)n, sizeof ids[0], cmp_str);
    for (int i = 0; i < n; i++) {
        assert_int_equal(strlen(ids[i]), PL_LOG_REQUEST_ID_LEN);
        assert_int_equal(strspn(ids[i], "0123456789abcdef"), PL_LOG_REQUEST_ID_LEN);
        if (i) assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    }
    for (int i = 0; i < n; i++) free(ids[i]);
    free(ids);
    free(j);
    free(all);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_request_ids_unique(void **state) {
    (void)state;
    enum { N = 200000 };
    uint64_t *v = malloc(sizeof(uint64_t) * N);
    char rid[PL_LOG_REQUEST_ID_LEN + 1];
    for (int i = 0; i < N; i++) {
        pl_log_request_id(rid);
        assert_int_equal(strlen(rid), 16);
        v[i] = strtoull(rid, NULL, 16);
    }
    /* distinct, and they do not look like a counter: consecutive ids differ in many bits */
    int close_pairs = 0;
    for (int i = 1; i < N; i++) {
        if (__builtin_popcountll(v[i] ^ v[i - 1]) < 8) close_pairs++;
    }
    assert_true(close_pairs < N / 100);
    qsort(v, N, sizeof v[0], cmp_u64);
    for (int i = 1; i < N; i++) assert_true(v[i - 1] != v[i]);
    free(v);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_line_exact),
        cmocka_unit_test(test_json_line_exact_and_escapes),
        cmocka_unit_test(test_long_lines_are_cut_cleanly),
        cmocka_unit_test(test_levels_and_call_helper),
        cmocka_unit_test(test_parse_options),
        cmocka_unit_test(test_concurrent_lines_do_not_interleave),
        cmocka_unit_test(test_request_ids_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
