/* append.c - the Append stream: each AppendRequest (an Arrow IPC stream, or newline-delimited
 * JSON objects) is conformed to the live table's schema and appended as a whole; the ack
 * carries the rows appended and the table's rows after it.
 *
 * Conforming: columns are matched by name. Arrow data must have exactly the table's columns
 * (any order); types that differ are cast (an error when a value does not fit). JSON values
 * are read as text and cast to the column types by the engine; keys the table lacks are an
 * error, missing keys are NULL. */
#include <stdio.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

#include "core/core.h"
#include "io/ipc/ipc.h"
#include "server/catalog.h"
#include "server/service.h"

/* Referenced by service.c (ServerInfo's "append" capability), which also makes a static link
 * pull this file in ahead of any weak stand-in. */
bool pl_srv_append_available(void) { return true; }

struct pl_srv_append {
    pl_srv_call call; /* copied; owner/peer strings belong to the transport's call */
    char *table;
};

pl_status pl_srv_append_open(pl_srv_call *c, pl_srv_append **out, pl_error *err) {
    if (!c || !c->srv) PL_FAIL(err, PL_ERR_INTERNAL, "pl_srv_append_open needs a call");
    pl_srv_append *a = pl_calloc(1, sizeof *a);
    if (!a) PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening an append stream");
    a->call = *c;
    *out = a;
    return PL_OK;
}

void pl_srv_append_close(pl_srv_append *a) {
    if (!a) return;
    pl_free(a->table);
    pl_free(a);
}

/* A table over the same rows with exactly `target`'s columns, in order (cast as needed).
 * missing_null: columns absent from t become NULL (JSON); else an error. */
static pl_status conform(pl_srv_call *c, pl_table *t, pl_schema *target, const char *name,
                         bool missing_null, pl_table **out, pl_error *err) {
    pl_schema *in = t->schema;
    for (int32_t i = 0; i < in->n_fields; i++)
        if (pl_schema_find(target, in->fields[i].name) < 0)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "table \"%s\" has no column \"%s\"", name, in->fields[i].name);
    bool same = in->n_fields == target->n_fields;
    for (int32_t i = 0; same && i < in->n_fields; i++)
        same = !strcmp(in->fields[i].name, target->fields[i].name) &&
               pl_type_equals(in->fields[i].type, target->fields[i].type);
    if (same) {
        *out = pl_table_retain(t);
        return PL_OK;
    }
    int32_t n = target->n_fields;
    pl_expr **ex = pl_calloc((size_t)n, sizeof *ex);
    const char **names = pl_calloc((size_t)n, sizeof *names);
    pl_status st = ex && names ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < n; i++) {
        const pl_field *f = &target->fields[i];
        names[i] = f->name;
        int32_t k = pl_schema_find(in, f->name);
        if (k < 0 && !missing_null) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "column \"%s\" of table \"%s\" is missing", f->name, name);
            break;
        }
        pl_expr *e = k < 0 ? pl_expr_lit_null() : pl_expr_col(f->name);
        if (e && (k < 0 || !pl_type_equals(in->fields[k].type, f->type)))
            e = pl_expr_cast(e, pl_type_retain(f->type), false);
        if (!e) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        ex[i] = e;
    }
    pl_df *df = NULL, *sel = NULL;
    if (!st) st = pl_df_from_table(t, &df, err);
    if (!st) st = pl_df_select(df, n, ex, names, &sel, err);
    pl_table *r = NULL;
    if (!st) {
        pl_exec_opts o;
        pl_srv_call_exec_opts(c, &o);
        st = pl_df_collect(sel, &o, &r, err);
    }
    if (sel) pl_df_release(sel);
    if (df) pl_df_release(df);
    for (int32_t i = 0; ex && i < n; i++)
        if (ex[i]) pl_expr_release(ex[i]);
    pl_free(ex);
    pl_free(names);
    if (st) {
        if (st == PL_ERR_TYPE || st == PL_ERR_NOT_FOUND) {
            if (err) err->code = PL_ERR_INVALID_ARG;
            st = PL_ERR_INVALID_ARG;
        }
        return st;
    }
    *out = r;
    return PL_OK;
}

/* ---------------------------------------------------------------- JSON rows */

typedef struct jparser {
    const char *p, *end;
    int64_t line;
} jparser;

static void skip_ws(jparser *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) {
        if (*j->p == '\n') j->line++;
        j->p++;
    }
}

static pl_status jfail(jparser *j, pl_error *err, const char *what) {
    PL_FAIL(err, PL_ERR_INVALID_ARG, "json_rows line %lld: %s", (long long)j->line, what);
}

static void put_utf8(char *o, size_t *k, uint32_t cp) {
    if (cp < 0x80) {
        o[(*k)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*k)++] = (char)(0xC0 | (cp >> 6));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        o[(*k)++] = (char)(0xE0 | (cp >> 12));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        o[(*k)++] = (char)(0xF0 | (cp >> 18));
        o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[(*k)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static bool hex4(const char *p, const char *end, uint32_t *v) {
    if (end - p < 4) return false;
    uint32_t r = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        r <<= 4;
        if (c >= '0' && c <= '9') r |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') r |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') r |= (uint32_t)(c - 'A' + 10);
        else return false;
    }
    *v = r;
    return true;
}

/* A JSON string at j->p (after the quote is checked) into a pl_malloc'd buffer. */
static pl_status jstring(jparser *j, char **out, size_t *out_len, pl_error *err) {
    j->p++; /* the quote */
    const char *start = j->p;
    size_t cap = 0;
    while (j->p < j->end && *j->p != '"') {
        if (*j->p == '\\') j->p++;
        j->p++;
        cap++;
    }
    if (j->p >= j->end) return jfail(j, err, "unterminated string");
    char *o = pl_malloc(cap * 4 + 1);
    if (!o) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading json_rows");
    size_t k = 0;
    for (const char *p = start; p < j->p; p++) {
        if (*p != '\\') {
            o[k++] = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'n': o[k++] = '\n'; break;
        case 't': o[k++] = '\t'; break;
        case 'r': o[k++] = '\r'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'u': {
            uint32_t cp;
            if (!hex4(p + 1, j->p, &cp)) {
                pl_free(o);
                return jfail(j, err, "bad \\u escape");
            }
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00) {
                uint32_t lo;
                if (p + 2 < j->p && p[1] == '\\' && p[2] == 'u' && hex4(p + 3, j->p, &lo) && lo >= 0xDC00 &&
                    lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            if (cp == 0) {
                pl_free(o);
                return jfail(j, err, "NUL character in a string");
            }
            put_utf8(o, &k, cp);
            break;
        }
        default: o[k++] = *p; break; /* \" \\ \/ */
        }
    }
    o[k] = '\0';
    j->p++; /* closing quote */
    *out = o;
    *out_len = k;
    return PL_OK;
}

static pl_status json_rows_table(const char *text, size_t len, pl_schema *target, pl_table **out,
                                 pl_error *err) {
    int32_t n = target->n_fields;
    pl_builder **b = pl_calloc((size_t)n, sizeof *b);
    bool *seen = pl_calloc((size_t)n, sizeof *seen);
    pl_status st = b && seen ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < n; i++) st = pl_builder_new(pl_type_simple(PL_TYPE_UTF8), 0, &b[i], err);
    jparser j = {text, text + len, 1};
    int64_t rows = 0;
    while (!st) {
        skip_ws(&j);
        if (j.p >= j.end) break;
        if (*j.p != '{') {
            st = jfail(&j, err, "expected an object");
            break;
        }
        j.p++;
        memset(seen, 0, (size_t)n * sizeof *seen);
        skip_ws(&j);
        bool first = true;
        while (!st) {
            skip_ws(&j);
            if (j.p < j.end && *j.p == '}') {
                j.p++;
                break;
            }
            if (!first) {
                if (j.p >= j.end || *j.p != ',') {
                    st = jfail(&j, err, "expected ',' or '}'");
                    break;
                }
                j.p++;
                skip_ws(&j);
            }
            first = false;
            if (j.p >= j.end || *j.p != '"') {
                st = jfail(&j, err, "expected a key");
                break;
            }
            char *key = NULL;
            size_t klen;
            st = jstring(&j, &key, &klen, err);
            if (st) break;
            int32_t col = pl_schema_find(target, key);
            if (col < 0) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "json_rows line %lld: the table has no column \"%.100s\"",
                                  (long long)j.line, key);
                pl_free(key);
                break;
            }
            pl_free(key);
            if (seen[col]) {
                st = jfail(&j, err, "a key appears twice");
                break;
            }
            seen[col] = true;
            skip_ws(&j);
            if (j.p >= j.end || *j.p != ':') {
                st = jfail(&j, err, "expected ':'");
                break;
            }
            j.p++;
            skip_ws(&j);
            if (j.p >= j.end) {
                st = jfail(&j, err, "expected a value");
                break;
            }
            if (*j.p == '"') {
                char *v = NULL;
                size_t vlen;
                st = jstring(&j, &v, &vlen, err);
                if (!st) st = pl_builder_append_bytes(b[col], v, (int64_t)vlen, err);
                pl_free(v);
            } else if (*j.p == '{' || *j.p == '[') {
                st = jfail(&j, err, "nested values are not supported");
            } else {
                const char *s = j.p;
                while (j.p < j.end && (isalnum((unsigned char)*j.p) || *j.p == '-' || *j.p == '+' || *j.p == '.'))
                    j.p++;
                size_t vl = (size_t)(j.p - s);
                if (vl == 0) st = jfail(&j, err, "expected a value");
                else if (vl == 4 && !strncmp(s, "null", 4)) st = pl_builder_append_null(b[col], err);
                else if ((vl == 4 && !strncmp(s, "true", 4)) || (vl == 5 && !strncmp(s, "false", 5)) ||
                         isdigit((unsigned char)s[0]) || s[0] == '-')
                    st = pl_builder_append_bytes(b[col], s, (int64_t)vl, err);
                else st = jfail(&j, err, "bad value");
            }
        }
        if (st) break;
        for (int32_t i = 0; i < n && !st; i++)
            if (!seen[i]) st = pl_builder_append_null(b[i], err);
        rows++;
    }
    pl_table *t = NULL;
    if (!st) {
        pl_field *f = pl_calloc((size_t)n, sizeof *f);
        pl_array **cols = pl_calloc((size_t)n, sizeof *cols);
        if (!f || !cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t i = 0; !st && i < n; i++) {
            st = pl_field_init(&f[i], target->fields[i].name, pl_type_simple(PL_TYPE_UTF8), true, err);
            if (!st) st = pl_builder_finish(b[i], &cols[i], err);
        }
        pl_schema *s = NULL;
        if (!st) st = pl_schema_new(n, f, &s, err);
        for (int32_t i = 0; f && i < n; i++) pl_field_reset(&f[i]);
        pl_free(f);
        pl_batch *batch = NULL;
        if (!st) {
            st = pl_batch_new(pl_schema_retain(s), rows, cols, &batch, err);
        } else if (cols) {
            for (int32_t i = 0; i < n; i++)
                if (cols[i]) pl_array_release(cols[i]);
        }
        pl_free(cols);
        if (!st) st = pl_table_new(s, &t, err);
        if (!st) st = pl_table_append(t, batch, err);
        if (batch) pl_batch_release(batch);
        if (s) pl_schema_release(s);
        if (st && t) {
            pl_table_release(t);
            t = NULL;
        }
    }
    for (int32_t i = 0; b && i < n; i++)
        if (b[i]) pl_builder_free(b[i]);
    pl_free(b);
    pl_free(seen);
    if (st) return st;
    *out = t;
    return PL_OK;
}

/* ---------------------------------------------------------------- one request */

pl_status pl_srv_append_one(pl_srv_append *a, const uint8_t *req, size_t n, uint8_t **ack,
                            size_t *ack_len, pl_error *err) {
    pl_srv *s = a->call.srv;
    ProtobufCMessage *m = NULL;
    PL_TRY(pl_srv_unpack(s, &polaroid__v1__append_request__descriptor, req, n, &m, err));
    const Polaroid__V1__AppendRequest *q = (const void *)m;
    pl_status st = PL_OK;
    if (q->table && q->table[0] && (!a->table || strcmp(a->table, q->table) != 0)) {
        pl_free(a->table);
        a->table = pl_strdup(q->table);
        if (!a->table) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    if (!st && !a->table) st = pl_error_set(err, PL_ERR_INVALID_ARG, "the first AppendRequest must name the table");
    pl_catalog *cat = pl_srv_catalog(s);
    pl_schema *target = NULL;
    if (!st) st = pl_catalog_table_schema(cat, a->table, &target, err);
    pl_table *in = NULL, *rows = NULL;
    if (!st) {
        if (q->data_case == POLAROID__V1__APPEND_REQUEST__DATA_ARROW_IPC) {
            pl_buf *b = NULL;
            size_t len = q->arrow_ipc.len;
            if (len == 0) st = pl_error_set(err, PL_ERR_INVALID_ARG, "arrow_ipc is empty");
            if (!st) st = pl_buf_new((int64_t)len, &b, err);
            if (!st) {
                memcpy(b->data, q->arrow_ipc.data, len);
                b->size = (int64_t)len;
                pl_stream *sm = NULL;
                st = pl_ipc_scan_buffer(b, "append", NULL, &sm, err);
                if (!st) {
                    st = pl_stream_collect(sm, &in, err);
                    pl_stream_free(sm);
                }
                if (st == PL_ERR_CORRUPT || st == PL_ERR_UNSUPPORTED) {
                    if (err) err->code = PL_ERR_INVALID_ARG;
                    st = PL_ERR_INVALID_ARG;
                }
            }
            if (b) pl_buf_release(b);
            if (!st) st = conform(&a->call, in, target, a->table, false, &rows, err);
        } else if (q->data_case == POLAROID__V1__APPEND_REQUEST__DATA_JSON_ROWS) {
            st = json_rows_table(q->json_rows, strlen(q->json_rows), target, &in, err);
            if (!st) st = conform(&a->call, in, target, a->table, true, &rows, err);
        } else {
            /* no data: an ack with the table's size (a flush or a ping) */
            st = pl_table_new(target, &rows, err);
        }
    }
    int64_t table_rows = 0;
    if (!st) st = pl_catalog_table_append(cat, a->table, rows, &table_rows, err);
    if (!st) {
        Polaroid__V1__AppendAck r = POLAROID__V1__APPEND_ACK__INIT;
        r.seq = q->seq;
        r.rows = rows->n_rows;
        r.table_rows = table_rows;
        size_t sz = polaroid__v1__append_ack__get_packed_size(&r);
        uint8_t *buf = pl_malloc(sz ? sz : 1);
        if (!buf) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        } else {
            polaroid__v1__append_ack__pack(&r, buf);
            *ack = buf;
            *ack_len = sz;
        }
    }
    if (in) pl_table_release(in);
    if (rows) pl_table_release(rows);
    if (target) pl_schema_release(target);
    protobuf_c_message_free_unpacked(m, pl_srv_pb_allocator());
    return st;
}
