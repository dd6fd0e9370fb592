/* service.c - server-wide state (pl_srv), the method table and the unary methods of
 * polaroid.v1 (every method but Execute, Append and Health.Watch, which stream).
 *
 * A unary call: the request bytes are checked for nesting depth on the wire (protobuf-c
 * recurses while unpacking, so a hostile, deeply nested message must be refused first), unpacked
 * with pl_srv_pb_allocator (bounded allocations), handled, and the response packed into
 * pl_malloc'd bytes. Errors leave the data root out of every message. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "exec/exec.h"
#include "grpc/health/v1/health.pb-c.h"
#include "io/ipc/ipc.h"
#include "server/catalog.h"
#include "server/service.h"
#include "server/transport.h"
#include "sql/pb_wire.h"

#ifndef PL_VERSION
#define PL_VERSION "0.1.0"
#endif

struct pl_srv {
    pl_srv_config cfg;
    char *data_root; /* realpath of cfg.data_root; cfg.data_root points here */
    pl_catalog *cat;
    _Atomic int64_t mem_used;
    _Atomic int serving;
    pl_srv_shm_release_fn shm_release;
    void *shm_user;
    pl_srv_shm_trim_fn shm_trim;
    void *shm_trim_user;
};

/* ---------------------------------------------------------------- configuration and state */

void pl_srv_config_init(pl_srv_config *c) {
    memset(c, 0, sizeof *c);
    c->data_root = ".";
    c->threads = 0;
    c->max_memory = 0;
    c->max_concurrent_queries = 0;
    c->max_queued_queries = 1024;
    c->query_timeout_ms = 0;
    c->handle_ttl_s = 300;
    c->max_message_bytes = 64ll << 20;
    c->default_message_bytes = 1ll << 20;
    c->max_handles_per_client = 1000;
    c->max_plan_depth = 256;
    c->shm_pool_bytes = -1; /* a third of the memory (--shm-reuse): see docs/server.md */
    c->shm_pool_idle_ms = 30000;
}

/* "1.5 MiB" */
static void fmt_bytes(char *out, size_t cap, int64_t n) {
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0) snprintf(out, cap, "%lld bytes", (long long)n);
    else snprintf(out, cap, "%.1f %s", v, unit[u]);
}

/* Why the memory account is full: "X in use of the --max-memory limit of Y (live tables T,
 * handles H, same-host results S)". */
static void mem_state(pl_srv *s, char *out, size_t cap) {
    int64_t tables = 0, handles = 0;
    pl_catalog_memory(s->cat, &tables, &handles);
    char used[32], lim[32], tb[32], hb[32];
    fmt_bytes(used, sizeof used, atomic_load(&s->mem_used));
    fmt_bytes(lim, sizeof lim, s->cfg.max_memory);
    fmt_bytes(tb, sizeof tb, tables);
    fmt_bytes(hb, sizeof hb, handles);
    char sb[32];
    fmt_bytes(sb, sizeof sb, pl_srv_shm_bytes(s));
    snprintf(out, cap, "%s in use of the --max-memory limit of %s (live tables %s, handles %s, "
             "same-host results %s)", used, lim, tb, hb, sb);
}

/* Adds delta to the memory account; false (nothing added) when it would pass --max-memory even
 * after same-host result files kept for reuse gave way. */
static bool account_add(pl_srv *s, int64_t delta) {
    int64_t now = atomic_fetch_add(&s->mem_used, delta) + delta;
    if (delta <= 0 || s->cfg.max_memory <= 0 || now <= s->cfg.max_memory) return true;
    atomic_fetch_sub(&s->mem_used, delta);
    if (!s->shm_trim || s->shm_trim(s->shm_trim_user, now - s->cfg.max_memory) <= 0) return false;
    now = atomic_fetch_add(&s->mem_used, delta) + delta;
    if (now <= s->cfg.max_memory) return true;
    atomic_fetch_sub(&s->mem_used, delta);
    return false;
}

static pl_status catalog_charge(void *user, bool handle, int64_t delta, const char *what,
                                pl_error *err) {
    PL_UNUSED(handle);
    pl_srv *s = user;
    if (account_add(s, delta)) return PL_OK;
    char need[32], state[256];
    fmt_bytes(need, sizeof need, delta);
    mem_state(s, state, sizeof state);
    pl_error_set(err, PL_ERR_NOMEM, "%s needs %s more than the server's memory limit allows: %s",
                 what ? what : "storing data", need, state);
    if (err) snprintf(err->hint, sizeof err->hint, "drop tables or handles you no longer need, "
                      "or start the server with a larger --max-memory");
    return PL_ERR_NOMEM;
}

void pl_srv_explain_error(pl_srv *s, pl_error *err) {
    if (!s || !err) return;
    pl_srv_error_strip(err, s->data_root);
    /* the engine only knows the server's account refused a charge: say whose memory it is */
    if (err->code == PL_ERR_NOMEM && strstr(err->msg, "refused by the query's memory hook") &&
        s->cfg.max_memory > 0) {
        char state[256];
        mem_state(s, state, sizeof state);
        pl_error_set(err, PL_ERR_NOMEM, "the query needs more memory than the server has left: %s",
                     state);
        snprintf(err->hint, sizeof err->hint, "retry later, drop tables or handles you no longer "
                 "need, or ask for less (filter or aggregate on the server)");
    }
}

pl_status pl_srv_new(const pl_srv_config *cfg, pl_srv **out, pl_error *err) {
    pl_srv *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the server");
    pl_srv_config_init(&s->cfg);
    if (cfg) s->cfg = *cfg;
    const char *root = s->cfg.data_root && s->cfg.data_root[0] ? s->cfg.data_root : ".";
    char real[PATH_MAX];
    struct stat sb;
    if (!realpath(root, real) || stat(real, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        pl_free(s);
        pl_error_set(err, PL_ERR_NOT_FOUND, "data root \"%s\" is not a directory", root);
        pl_error_set_path(err, root);
        return PL_ERR_NOT_FOUND;
    }
    s->data_root = pl_strdup(real);
    if (!s->data_root || pl_catalog_new(&s->cat, err)) {
        pl_free(s->data_root);
        pl_free(s);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory creating the server");
    }
    pl_catalog_set_account(s->cat, catalog_charge, s);
    pl_srv_shm_remove_stale(); /* result files a crashed server left behind */
    pl_srv_config *c = &s->cfg;
    c->data_root = s->data_root;
    /* --threads sizes the engine's worker pool (effective unless the pool already runs) */
    if (c->threads > 0) pl_pool_set_threads(c->threads);
    c->threads = pl_pool_threads();
    if (c->max_concurrent_queries <= 0) c->max_concurrent_queries = 2 * c->threads;
    if (c->max_queued_queries <= 0) c->max_queued_queries = 1024;
    if (c->handle_ttl_s <= 0) c->handle_ttl_s = 300;
    if (c->max_message_bytes <= 0) c->max_message_bytes = 64ll << 20;
    if (c->default_message_bytes <= 0) c->default_message_bytes = 1ll << 20;
    if (c->default_message_bytes > c->max_message_bytes) c->default_message_bytes = c->max_message_bytes;
    if (c->max_handles_per_client <= 0) c->max_handles_per_client = 1000;
    if (c->max_plan_depth <= 0) c->max_plan_depth = 256;
    if (c->max_memory < 0) c->max_memory = 0;
    atomic_store(&s->serving, 1);
    pl_srv_pb_set_max_alloc(c->max_message_bytes);
    *out = s;
    return PL_OK;
}

void pl_srv_free(pl_srv *s) {
    if (!s) return;
    pl_catalog_free(s->cat);
    pl_srv_sql_cache_clear();
    pl_free(s->data_root);
    pl_free(s);
}

const pl_srv_config *pl_srv_get_config(const pl_srv *s) { return &s->cfg; }
pl_catalog *pl_srv_catalog(pl_srv *s) { return s->cat; }
void pl_srv_sweep(pl_srv *s, int64_t now_ns) { pl_catalog_sweep(s->cat, now_ns); }
int64_t pl_srv_memory_in_use(pl_srv *s) { return atomic_load(&s->mem_used); }
void pl_srv_set_serving(pl_srv *s, bool serving) { atomic_store(&s->serving, serving ? 1 : 0); }

void pl_srv_set_shm_trim(pl_srv *s, pl_srv_shm_trim_fn fn, void *user) {
    s->shm_trim = fn;
    s->shm_trim_user = user;
}

void pl_srv_set_shm_release(pl_srv *s, pl_srv_shm_release_fn fn, void *user) {
    s->shm_release = fn;
    s->shm_user = user;
}

bool pl_srv_request_id_ok(const char *id, size_t n) {
    if (!id || n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (!isalnum(ch) && !strchr("._-:/+=", ch)) return false;
    }
    return true;
}

/* The server-wide memory account: every query's charges add up against --max-memory. */
static pl_status mem_hook(void *user, int64_t delta, int64_t total) {
    PL_UNUSED(total);
    pl_srv *s = user;
    return account_add(s, delta) ? PL_OK : PL_ERR_NOMEM;
}

void pl_srv_call_exec_opts(const pl_srv_call *c, pl_exec_opts *o) {
    pl_exec_opts_init(o);
    if (!c || !c->srv) return;
    pl_srv *s = c->srv;
    o->cancel = c->cancel;
    o->deadline_ns = c->deadline_ns;
    if (s->cfg.query_timeout_ms > 0) {
        int64_t d = pl_now_ns() + s->cfg.query_timeout_ms * 1000000;
        if (o->deadline_ns == 0 || d < o->deadline_ns) o->deadline_ns = d;
    }
    o->mem_hook = mem_hook;
    o->mem_user = s;
}

/* ---------------------------------------------------------------- the method table */

static const struct {
    const char *path;
    pl_srv_kind kind;
    bool light;
} METHODS[PL_SRV_N_METHODS] = {
    [PL_SRV_EXECUTE] = {"/polaroid.v1.Polaroid/Execute", PL_SRV_SERVER_STREAM, false},
    [PL_SRV_SCHEMA] = {"/polaroid.v1.Polaroid/Schema", PL_SRV_UNARY, false},
    [PL_SRV_EXPLAIN] = {"/polaroid.v1.Polaroid/Explain", PL_SRV_UNARY, false},
    [PL_SRV_DESCRIBE] = {"/polaroid.v1.Polaroid/Describe", PL_SRV_UNARY, false},
    [PL_SRV_WRITE] = {"/polaroid.v1.Polaroid/Write", PL_SRV_UNARY, false},
    [PL_SRV_CREATE_HANDLE] = {"/polaroid.v1.Polaroid/CreateHandle", PL_SRV_UNARY, false},
    [PL_SRV_HEARTBEAT] = {"/polaroid.v1.Polaroid/Heartbeat", PL_SRV_UNARY, true},
    [PL_SRV_DROP_HANDLE] = {"/polaroid.v1.Polaroid/DropHandle", PL_SRV_UNARY, true},
    [PL_SRV_CREATE_TABLE] = {"/polaroid.v1.Polaroid/CreateTable", PL_SRV_UNARY, false},
    [PL_SRV_DROP_TABLE] = {"/polaroid.v1.Polaroid/DropTable", PL_SRV_UNARY, false},
    [PL_SRV_LIST_TABLES] = {"/polaroid.v1.Polaroid/ListTables", PL_SRV_UNARY, false},
    [PL_SRV_APPEND] = {"/polaroid.v1.Polaroid/Append", PL_SRV_BIDI_STREAM, false},
    [PL_SRV_SERVER_INFO] = {"/polaroid.v1.Polaroid/ServerInfo", PL_SRV_UNARY, true},
    [PL_SRV_RELEASE_SHM] = {"/polaroid.v1.Polaroid/ReleaseSharedMemory", PL_SRV_UNARY, true},
    [PL_SRV_HEALTH_CHECK] = {"/grpc.health.v1.Health/Check", PL_SRV_UNARY, true},
    [PL_SRV_HEALTH_WATCH] = {"/grpc.health.v1.Health/Watch", PL_SRV_SERVER_STREAM, true},
};

const char *pl_srv_method_path(pl_srv_method m) {
    return (unsigned)m < PL_SRV_N_METHODS ? METHODS[m].path : NULL;
}
pl_srv_kind pl_srv_method_kind(pl_srv_method m) {
    return (unsigned)m < PL_SRV_N_METHODS ? METHODS[m].kind : PL_SRV_UNARY;
}
bool pl_srv_method_is_light(pl_srv_method m) {
    return (unsigned)m < PL_SRV_N_METHODS && METHODS[m].light;
}

/* ---------------------------------------------------------------- wire checks, unpack, pack */

static pl_status unpack(pl_srv *s, const ProtobufCMessageDescriptor *d, const uint8_t *req,
                        size_t n, ProtobufCMessage **out, pl_error *err) {
    if ((int64_t)n > s->cfg.max_message_bytes)
        PL_FAIL(err, PL_ERR_LIMIT, "request of %zu bytes exceeds the message size limit of %lld bytes",
                n, (long long)s->cfg.max_message_bytes);
    /* every plan level is two message levels (Relation -> Filter -> Relation) */
    int max_wire = 2 * s->cfg.max_plan_depth + 16;
    /* nesting, framing and NUL bytes checked before protobuf-c recurses and allocates */
    int r = pl_pb_wire_check(d, req, n, max_wire, true);
    if (r == PL_PB_WIRE_TOO_DEEP)
        PL_FAIL(err, PL_ERR_LIMIT, "plan nested deeper than %d", (int)s->cfg.max_plan_depth);
    if (r == PL_PB_WIRE_NUL_IN_STRING)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed %s request: a string holds a NUL byte", d->short_name);
    if (r != PL_PB_WIRE_OK) PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed %s request", d->short_name);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, pl_srv_pb_allocator(), n, req ? req : (const uint8_t *)"");
    if (!m) PL_FAIL(err, PL_ERR_INVALID_ARG, "malformed %s request", d->short_name);
    *out = m;
    return PL_OK;
}

static pl_status pack(pl_srv *s, const ProtobufCMessage *m, uint8_t **out, size_t *len,
                      pl_error *err) {
    size_t n = protobuf_c_message_get_packed_size(m);
    if ((int64_t)n > s->cfg.max_message_bytes)
        PL_FAIL(err, PL_ERR_LIMIT, "response of %zu bytes exceeds the message size limit of %lld bytes",
                n, (long long)s->cfg.max_message_bytes);
    uint8_t *b = pl_malloc(n ? n : 1);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory packing a response");
    protobuf_c_message_pack(m, b);
    *out = b;
    *len = n;
    return PL_OK;
}

/* ---------------------------------------------------------------- shared pieces */

/* A SchemaResponse for a schema; free with schema_response_reset. */
typedef struct schema_parts {
    Polaroid__V1__SchemaResponse msg;
    Polaroid__V1__FieldInfo *infos;
    Polaroid__V1__FieldInfo **ptrs;
    char (*types)[128];
    pl_schema *schema; /* retained: field names are borrowed from it */
} schema_parts;

static void schema_parts_reset(schema_parts *p) {
    pl_free(p->msg.arrow_schema.data);
    pl_free(p->infos);
    pl_free(p->ptrs);
    pl_free(p->types);
    if (p->schema) pl_schema_release(p->schema);
    memset(p, 0, sizeof *p);
}

static pl_status schema_parts_fill(pl_schema *in, schema_parts *p, pl_error *err) {
    memset(p, 0, sizeof *p);
    /* as Execute sends it by default: dictionary columns as their values */
    pl_schema *dec = NULL;
    PL_TRY(pl_srv_decoded_schema(in, &dec, err));
    pl_schema *sch = dec ? dec : in;
    polaroid__v1__schema_response__init(&p->msg);
    size_t n = (size_t)sch->n_fields;
    p->infos = pl_calloc(n ? n : 1, sizeof *p->infos);
    p->ptrs = pl_calloc(n ? n : 1, sizeof *p->ptrs);
    p->types = pl_calloc(n ? n : 1, sizeof *p->types);
    if (!p->infos || !p->ptrs || !p->types) {
        schema_parts_reset(p);
        if (dec) pl_schema_release(dec);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory describing a schema");
    }
    for (size_t i = 0; i < n; i++) {
        polaroid__v1__field_info__init(&p->infos[i]);
        p->infos[i].name = sch->fields[i].name;
        p->infos[i].type = (char *)pl_type_to_string(sch->fields[i].type, p->types[i], sizeof p->types[i]);
        p->infos[i].nullable = sch->fields[i].nullable;
        p->ptrs[i] = &p->infos[i];
    }
    p->msg.n_fields = n;
    p->msg.fields = p->ptrs;
    p->schema = dec ? dec : pl_schema_retain(sch);
    uint8_t *m = NULL;
    size_t mlen = 0;
    pl_status st = pl_srv_schema_message(sch, &m, &mlen, err);
    if (st) {
        schema_parts_reset(p);
        return st;
    }
    p->msg.arrow_schema.data = m;
    p->msg.arrow_schema.len = mlen;
    return PL_OK;
}

static pl_status plan_df(pl_srv_call *c, const Polaroid__V1__Plan *plan, pl_df **out,
                         pl_error *err) {
    return pl_srv_plan_to_df(c, plan, out, err);
}

/* Removes the data root from a text meant for the client (EXPLAIN shows file paths). */
static void strip_text(pl_srv *s, char *text) { pl_srv_strip_root(text, s->data_root); }

/* ---------------------------------------------------------------- handlers */

typedef pl_status (*handler_fn)(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                                size_t *resp_len, pl_error *err);

static pl_status h_server_info(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                               size_t *resp_len, pl_error *err) {
    PL_UNUSED(req);
    pl_srv *s = c->srv;
    const pl_srv_config *cfg = &s->cfg;
    Polaroid__V1__ServerInfoResponse r = POLAROID__V1__SERVER_INFO_RESPONSE__INIT;
    Polaroid__V1__Limits l = POLAROID__V1__LIMITS__INIT;
    char *caps[16];
    size_t nc = 0;
    static const char *const base[] = {"execute", "schema",  "explain",      "describe",
                                       "write",   "handles", "tables",       "sql",
                                       "arrow_upload", "health"};
    for (size_t i = 0; i < PL_ARRAY_LEN(base); i++) caps[nc++] = (char *)base[i];
    if (pl_srv_append_available()) caps[nc++] = "append";
    if (s->shm_release) caps[nc++] = "shared_memory";
    if (s->shm_release) caps[nc++] = "shared_memory_files"; /* shared_memory_max_files */
    r.version = PL_VERSION;
    r.n_capabilities = nc;
    r.capabilities = caps;
    l.max_message_bytes = cfg->max_message_bytes;
    l.max_concurrent_queries = cfg->max_concurrent_queries;
    l.max_queued_queries = cfg->max_queued_queries;
    l.query_timeout_ms = cfg->query_timeout_ms;
    l.max_memory_bytes = cfg->max_memory;
    l.max_handles_per_client = cfg->max_handles_per_client;
    l.max_plan_depth = cfg->max_plan_depth;
    l.handle_ttl_seconds = cfg->handle_ttl_s;
    r.limits = &l;
    r.threads = cfg->threads;
    r.same_host = c->same_host;
    return pack(s, &r.base, resp, resp_len, err);
}

static pl_status h_health(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                          size_t *resp_len, pl_error *err) {
    const Grpc__Health__V1__HealthCheckRequest *q = (const void *)req;
    if (q->service && q->service[0] && strcmp(q->service, "polaroid.v1.Polaroid") != 0)
        PL_FAIL(err, PL_ERR_NOT_FOUND, "unknown service \"%.100s\"", q->service);
    Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    r.status = atomic_load(&c->srv->serving) ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
                                             : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
    return pack(c->srv, &r.base, resp, resp_len, err);
}

static pl_status h_schema(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                          size_t *resp_len, pl_error *err) {
    const Polaroid__V1__PlanRequest *q = (const void *)req;
    pl_df *df = NULL;
    PL_TRY(plan_df(c, q->plan, &df, err));
    schema_parts p;
    pl_status st = schema_parts_fill(pl_df_schema(df), &p, err);
    pl_df_release(df);
    if (st) return st;
    st = pack(c->srv, &p.msg.base, resp, resp_len, err);
    schema_parts_reset(&p);
    return st;
}

static pl_status h_explain(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                           size_t *resp_len, pl_error *err) {
    const Polaroid__V1__ExplainRequest *q = (const void *)req;
    pl_df *df = NULL;
    PL_TRY(plan_df(c, q->plan, &df, err));
    char *text = NULL;
    pl_status st;
    if (q->analyze) {
        pl_exec_opts o;
        pl_srv_call_exec_opts(c, &o);
        st = pl_df_explain_analyze(df, &o, &text, err);
    } else {
        st = pl_df_explain(df, q->optimized, &text, err);
    }
    pl_df_release(df);
    if (st) return st;
    strip_text(c->srv, text);
    Polaroid__V1__ExplainResponse r = POLAROID__V1__EXPLAIN_RESPONSE__INIT;
    r.text = text;
    st = pack(c->srv, &r.base, resp, resp_len, err);
    pl_free(text);
    return st;
}

/* ---- Describe */

static bool is_numeric(pl_type_id id) {
    return (id >= PL_TYPE_INT8 && id <= PL_TYPE_FLOAT64) || id == PL_TYPE_DECIMAL128;
}
static bool is_ordered(pl_type_id id) {
    return is_numeric(id) || id == PL_TYPE_UTF8 || id == PL_TYPE_DATE32 || id == PL_TYPE_TIMESTAMP ||
           id == PL_TYPE_TIME64;
}

#define N_STATS 6
static const char *const STATS[N_STATS] = {"count", "null_count", "mean", "std", "min", "max"};

/* The column, as its value type when it is dictionary-encoded. */
static pl_expr *stat_col(const char *col, const pl_type *t) {
    pl_expr *e = pl_expr_col(col);
    if (e && t->id == PL_TYPE_DICTIONARY) e = pl_expr_cast(e, pl_type_retain(t->value_type), false);
    return e;
}

static pl_expr *stat_expr(int k, const char *col, const pl_type *t) {
    pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
    switch (k) {
    case 0: {
        pl_expr *a[1] = {pl_expr_col(col)};
        return pl_expr_agg("count", 1, a, false, NULL, 0, NULL);
    }
    case 1: {
        pl_expr *a[1] = {pl_expr_col(col)};
        return pl_expr_call2("sub", pl_expr_agg("count", 0, NULL, false, NULL, 0, NULL),
                             pl_expr_agg("count", 1, a, false, NULL, 0, NULL));
    }
    case 2:
    case 3:
        if (!is_numeric(id)) return NULL;
        {
            pl_expr *a[1] = {pl_expr_cast(stat_col(col, t), pl_type_simple(PL_TYPE_FLOAT64), false)};
            const char *fn = pl_agg_canonical(k == 2 ? "avg" : "stddev_samp");
            return pl_expr_agg(fn ? fn : (k == 2 ? "avg" : "stddev_samp"), 1, a, false, NULL, 0, NULL);
        }
    default:
        if (!is_ordered(id)) return NULL;
        {
            pl_expr *a[1] = {stat_col(col, t)};
            return pl_expr_agg(k == 4 ? "min" : "max", 1, a, false, NULL, 0, NULL);
        }
    }
}

static pl_status describe_table(pl_srv_call *c, pl_df *df, pl_table **out, pl_error *err) {
    pl_schema *sch = pl_df_schema(df);
    int32_t nf = sch->n_fields;
    int32_t n_aggs = 0;
    pl_expr **aggs = pl_calloc((size_t)nf * N_STATS + 1, sizeof *aggs);
    int32_t *slot = pl_calloc((size_t)nf * N_STATS + 1, sizeof *slot); /* agg index or -1 */
    pl_status st = aggs && slot ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; !st && i < nf; i++) {
        const pl_type *t = sch->fields[i].type;
        pl_type_id id = t->id == PL_TYPE_DICTIONARY ? t->value_type->id : t->id;
        for (int k = 0; k < N_STATS && !st; k++) {
            pl_expr *e = stat_expr(k, sch->fields[i].name, t);
            bool wanted = k < 2 || (k < 4 ? is_numeric(id) : is_ordered(id));
            if (!e && wanted) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            slot[i * N_STATS + k] = e ? n_aggs : -1;
            if (e) aggs[n_aggs++] = e;
        }
    }
    pl_table *stats = NULL;
    if (!st && n_aggs > 0) {
        pl_df *g = NULL;
        st = pl_df_aggregate(df, 0, NULL, NULL, n_aggs, aggs, NULL, &g, err);
        if (!st) {
            pl_exec_opts o;
            pl_srv_call_exec_opts(c, &o);
            st = pl_df_collect(g, &o, &stats, err);
            pl_df_release(g);
        }
    }
    for (int32_t i = 0; aggs && i < n_aggs; i++) pl_expr_release(aggs[i]);
    pl_free(aggs);
    pl_batch *row = NULL;
    if (!st && stats) st = pl_table_combine(stats, &row, err);
    /* the result: "statistic" then one utf8 column per input column */
    pl_field *fields = NULL;
    pl_array **cols = NULL;
    if (!st) {
        fields = pl_calloc((size_t)nf + 1, sizeof *fields);
        cols = pl_calloc((size_t)nf + 1, sizeof *cols);
        if (!fields || !cols) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int32_t i = 0; !st && i <= nf; i++) {
        const char *name = i == 0 ? "statistic" : sch->fields[i - 1].name;
        st = pl_field_init(&fields[i], name, pl_type_simple(PL_TYPE_UTF8), i > 0, err);
        pl_builder *b = NULL;
        if (!st) st = pl_builder_new(pl_type_simple(PL_TYPE_UTF8), N_STATS, &b, err);
        for (int k = 0; !st && k < N_STATS; k++) {
            if (i == 0) {
                st = pl_builder_append_bytes(b, STATS[k], (int64_t)strlen(STATS[k]), err);
                continue;
            }
            int32_t a = slot[(i - 1) * N_STATS + k];
            pl_value v;
            pl_value_init_null(&v);
            if (a >= 0 && row && row->n_rows > 0) st = pl_value_from_array(row->columns[a], 0, &v, err);
            if (!st) {
                if (a < 0 || v.is_null) {
                    st = pl_builder_append_null(b, err);
                } else {
                    char buf[256];
                    const char *txt = pl_value_to_string(&v, buf, sizeof buf);
                    st = pl_builder_append_bytes(b, txt, (int64_t)strlen(txt), err);
                }
            }
            pl_value_reset(&v);
        }
        if (!st) st = pl_builder_finish(b, &cols[i], err);
        pl_builder_free(b);
    }
    pl_schema *os = NULL;
    if (!st) st = pl_schema_new(nf + 1, fields, &os, err);
    for (int32_t i = 0; fields && i <= nf; i++) pl_field_reset(&fields[i]);
    pl_free(fields);
    pl_batch *ob = NULL;
    pl_table *t = NULL;
    if (!st) {
        st = pl_batch_new(pl_schema_retain(os), N_STATS, cols, &ob, err); /* takes the arrays */
    } else if (cols) {
        for (int32_t i = 0; i <= nf; i++)
            if (cols[i]) pl_array_release(cols[i]);
    }
    pl_free(cols);
    if (!st) st = pl_table_new(os, &t, err);
    if (!st) st = pl_table_append(t, ob, err);
    if (ob) pl_batch_release(ob);
    if (os) pl_schema_release(os);
    if (row) pl_batch_release(row);
    if (stats) pl_table_release(stats);
    pl_free(slot);
    if (st) {
        if (t) pl_table_release(t);
        return st;
    }
    *out = t;
    return PL_OK;
}

static pl_status h_describe(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                            size_t *resp_len, pl_error *err) {
    const Polaroid__V1__PlanRequest *q = (const void *)req;
    pl_df *df = NULL;
    PL_TRY(plan_df(c, q->plan, &df, err));
    pl_table *t = NULL;
    pl_status st = describe_table(c, df, &t, err);
    pl_df_release(df);
    if (st) return st;
    pl_buf *b = NULL;
    st = pl_ipc_write_table_buf(t, false, NULL, &b, err);
    pl_table_release(t);
    if (st) return st;
    Polaroid__V1__DescribeResponse r = POLAROID__V1__DESCRIBE_RESPONSE__INIT;
    r.arrow_ipc.data = b->data;
    r.arrow_ipc.len = (size_t)b->size;
    st = pack(c->srv, &r.base, resp, resp_len, err);
    pl_buf_release(b);
    return st;
}

/* ---- Write */

static pl_status codec_from_name(const char *name, pl_codec *out, pl_error *err) {
    static const struct {
        const char *name;
        pl_codec codec;
    } map[] = {{"", PL_CODEC_DEFAULT},          {"zstd", PL_CODEC_ZSTD},
               {"snappy", PL_CODEC_SNAPPY},     {"lz4", PL_CODEC_LZ4_RAW},
               {"gzip", PL_CODEC_GZIP},         {"none", PL_CODEC_UNCOMPRESSED},
               {"uncompressed", PL_CODEC_UNCOMPRESSED}, {"brotli", PL_CODEC_BROTLI}};
    for (size_t i = 0; i < PL_ARRAY_LEN(map); i++)
        if (!strcasecmp(name ? name : "", map[i].name)) {
            *out = map[i].codec;
            return PL_OK;
        }
    PL_FAIL(err, PL_ERR_INVALID_ARG, "unknown compression \"%.40s\" (zstd, snappy, lz4, gzip, none)",
            name);
}

static pl_status h_write(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                         size_t *resp_len, pl_error *err) {
    const Polaroid__V1__WriteRequest *q = (const void *)req;
    pl_srv *s = c->srv;
    pl_format fmt;
    switch (q->format) {
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_AUTO: fmt = pl_format_from_path(q->path ? q->path : ""); break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_PARQUET: fmt = PL_FORMAT_PARQUET; break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_CSV: fmt = PL_FORMAT_CSV; break;
    case POLAROID__V1__READ_FILES__FORMAT__FORMAT_IPC: fmt = PL_FORMAT_IPC; break;
    default: PL_FAIL(err, PL_ERR_INVALID_ARG, "unknown file format %d", (int)q->format);
    }
    if (fmt == PL_FORMAT_AUTO || fmt == PL_FORMAT_TABLE)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "cannot tell the format of \"%.200s\" from its extension; set WriteRequest.format",
                q->path ? q->path : "");
    pl_write_opts wo;
    pl_write_opts_init(&wo);
    PL_TRY(codec_from_name(q->compression, &wo.codec, err));
    if (q->row_group_size < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "row_group_size is negative");
    wo.row_group_rows = q->row_group_size;
    if (pl_srv_check_path_syntax(q->path, err)) return err ? err->code : PL_ERR_INVALID_ARG;
    if (strpbrk(q->path, "*?[")) PL_FAIL(err, PL_ERR_INVALID_ARG, "write path \"%s\" has wildcards", q->path);
    char *full = NULL;
    PL_TRY(pl_srv_resolve_path(s->data_root, q->path, &full, err));
    pl_df *df = NULL;
    pl_status st = plan_df(c, q->plan, &df, err);
    struct stat sb;
    memset(&sb, 0, sizeof sb);
    if (!st) {
        /* the parent directory must exist (Write creates no directories) */
        char *slash = strrchr(full, '/');
        if (slash && slash != full) {
            *slash = '\0';
            if (stat(full, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                const char *cs = strrchr(q->path, '/');
                st = pl_error_set(err, PL_ERR_NOT_FOUND, "directory \"%.*s\" does not exist",
                                  cs ? (int)(cs - q->path) : 1, cs ? q->path : ".");
            }
            *slash = '/';
        }
    }
    if (!st && stat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "\"%s\" is a directory", q->path);
    if (!st && !q->overwrite && stat(full, &sb) == 0) {
        st = pl_error_set(err, PL_ERR_INVALID_ARG, "file \"%s\" already exists", q->path);
        if (err) snprintf(err->hint, sizeof err->hint, "set overwrite to replace it");
    }
    /* written next to the target, then moved into place: readers never see half a file */
    char *tmp = NULL;
    if (!st) {
        size_t n = strlen(full) + 40;
        tmp = pl_malloc(n);
        uint32_t rnd = 0;
        if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) rnd = (uint32_t)pl_now_ns();
        if (!tmp) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        else snprintf(tmp, n, "%s.tmp-%08x", full, rnd);
    }
    pl_stream *stream = NULL;
    int64_t rows = 0;
    if (!st) {
        pl_exec_opts o;
        pl_srv_call_exec_opts(c, &o);
        st = pl_df_execute(df, &o, &stream, err);
    }
    if (!st) {
        pl_writer *w = NULL;
        st = pl_writer_open(tmp, fmt, stream->schema, &wo, &w, err);
        while (!st) {
            pl_batch *b = NULL;
            st = pl_stream_next(stream, &b, err);
            if (st || !b) break;
            rows += b->n_rows;
            st = pl_writer_write(w, b, err);
            pl_batch_release(b);
        }
        if (!st) st = pl_writer_finish(w, err);
        if (w) pl_writer_free(w);
        if (!st) {
            if (q->overwrite) {
                if (rename(tmp, full) != 0)
                    st = pl_error_set(err, PL_ERR_IO, "cannot move the written file into place: %s", strerror(errno));
            } else if (link(tmp, full) != 0) {
                if (errno == EEXIST) st = pl_error_set(err, PL_ERR_INVALID_ARG, "file \"%s\" already exists", q->path);
                else st = pl_error_set(err, PL_ERR_IO, "cannot create \"%s\": %s", q->path, strerror(errno));
            }
        }
        unlink(tmp);
    }
    if (stream) pl_stream_free(stream);
    pl_df_release(df);
    int64_t bytes = 0;
    if (!st && stat(full, &sb) == 0) bytes = (int64_t)sb.st_size;
    pl_free(tmp);
    pl_free(full);
    if (st) {
        pl_srv_error_strip(err, s->data_root);
        return st;
    }
    Polaroid__V1__WriteResponse r = POLAROID__V1__WRITE_RESPONSE__INIT;
    r.rows = rows;
    r.bytes = bytes;
    r.path = q->path;
    return pack(s, &r.base, resp, resp_len, err);
}

/* ---- handles */

/* CreateHandle(sql_session): an empty SQL session (no schema, num_rows -1). */
static pl_status create_session(pl_srv_call *c, const Polaroid__V1__CreateHandleRequest *q,
                                int64_t ttl_s, uint8_t **resp, size_t *resp_len, pl_error *err) {
    pl_srv *s = c->srv;
    const char *owner = c->owner ? c->owner : "";
    if (q->plan || q->materialize)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "a SQL session (sql_session) takes no plan and no materialize");
    char id[PL_HANDLE_ID_LEN + 1];
    PL_TRY(pl_catalog_session_put(s->cat, owner, pl_srv_sql_temps_free, ttl_s * 1000000000ll,
                                  pl_now_ns(), s->cfg.max_handles_per_client, id, err));
    Polaroid__V1__HandleInfo r = POLAROID__V1__HANDLE_INFO__INIT;
    r.id = id;
    r.num_rows = -1;
    r.ttl_seconds = ttl_s;
    pl_status st = pack(s, &r.base, resp, resp_len, err);
    if (st) pl_catalog_handle_drop(s->cat, owner, id);
    return st;
}

static pl_status h_create_handle(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                                 size_t *resp_len, pl_error *err) {
    const Polaroid__V1__CreateHandleRequest *q = (const void *)req;
    pl_srv *s = c->srv;
    if (q->ttl_seconds < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "ttl_seconds is negative");
    int64_t ttl_s = q->ttl_seconds ? q->ttl_seconds : s->cfg.handle_ttl_s;
    if (ttl_s > 366ll * 86400) ttl_s = 366ll * 86400;
    const char *owner = c->owner ? c->owner : "";
    /* refuse early, before running a materialisation for nothing */
    if (pl_catalog_owner_handles(s->cat, owner) >= s->cfg.max_handles_per_client) {
        pl_error_set(err, PL_ERR_LIMIT, "too many handles: this client already holds %d",
                     (int)s->cfg.max_handles_per_client);
        return PL_ERR_LIMIT;
    }
    if (q->sql_session) return create_session(c, q, ttl_s, resp, resp_len, err);
    pl_df *df = NULL;
    PL_TRY(plan_df(c, q->plan, &df, err));
    int64_t rows = -1;
    pl_status st = PL_OK;
    pl_table *mat = NULL;
    if (q->materialize) {
        pl_exec_opts o;
        pl_srv_call_exec_opts(c, &o);
        pl_table *t = NULL;
        st = pl_df_collect(df, &o, &t, err);
        pl_df_release(df);
        df = NULL;
        if (!st) { /* held for the handle's life: not a view of a file that may change */
            pl_table *own = NULL;
            st = pl_table_detach_files(t, &own, err);
            pl_table_release(t);
            t = own;
        }
        if (!st) {
            rows = t->n_rows;
            st = pl_df_from_table(t, &df, err);
        }
        mat = t;
    }
    char id[PL_HANDLE_ID_LEN + 1];
    if (!st)
        st = pl_catalog_handle_put(s->cat, owner, df, rows, mat, ttl_s * 1000000000ll, pl_now_ns(),
                                   s->cfg.max_handles_per_client, id, err);
    if (mat) pl_table_release(mat);
    if (!st && !q->materialize) { /* a lazy plan holds its uploaded data: about its size */
        st = pl_catalog_handle_charge(s->cat, owner, id,
                                      (int64_t)polaroid__v1__plan__get_packed_size(q->plan), err);
        if (st) pl_catalog_handle_drop(s->cat, owner, id);
    }
    schema_parts p;
    memset(&p, 0, sizeof p);
    if (!st) st = schema_parts_fill(pl_df_schema(df), &p, err);
    pl_df_release(df);
    if (st) {
        pl_srv_error_strip(err, s->data_root);
        return st;
    }
    Polaroid__V1__HandleInfo r = POLAROID__V1__HANDLE_INFO__INIT;
    r.id = id;
    r.schema = &p.msg;
    r.num_rows = rows;
    r.ttl_seconds = ttl_s;
    st = pack(s, &r.base, resp, resp_len, err);
    schema_parts_reset(&p);
    if (st) pl_catalog_handle_drop(s->cat, owner, id);
    return st;
}

static pl_status h_heartbeat(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                             size_t *resp_len, pl_error *err) {
    const Polaroid__V1__HeartbeatRequest *q = (const void *)req;
    size_t n = q->n_handle_ids;
    char **alive = pl_calloc(n ? n : 1, sizeof *alive);
    char **unknown = pl_calloc(n ? n : 1, sizeof *unknown);
    if (!alive || !unknown) {
        pl_free(alive);
        pl_free(unknown);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    Polaroid__V1__HeartbeatResponse r = POLAROID__V1__HEARTBEAT_RESPONSE__INIT;
    int64_t now = pl_now_ns();
    for (size_t i = 0; i < n; i++) {
        if (pl_catalog_handle_renew(c->srv->cat, c->owner, q->handle_ids[i], now))
            alive[r.n_alive++] = q->handle_ids[i];
        else
            unknown[r.n_unknown++] = q->handle_ids[i];
    }
    r.alive = alive;
    r.unknown = unknown;
    pl_status st = pack(c->srv, &r.base, resp, resp_len, err);
    pl_free(alive);
    pl_free(unknown);
    return st;
}

static pl_status h_drop_handle(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                               size_t *resp_len, pl_error *err) {
    const Polaroid__V1__DropHandleRequest *q = (const void *)req;
    Polaroid__V1__DropHandleResponse r = POLAROID__V1__DROP_HANDLE_RESPONSE__INIT;
    for (size_t i = 0; i < q->n_handle_ids; i++)
        if (pl_catalog_handle_drop(c->srv->cat, c->owner, q->handle_ids[i])) r.dropped++;
    return pack(c->srv, &r.base, resp, resp_len, err);
}

/* ---- live tables */

static pl_status table_name_ok(const char *name, pl_error *err) {
    if (!name || !name[0]) PL_FAIL(err, PL_ERR_INVALID_ARG, "a table needs a name");
    size_t n = strlen(name);
    if (n > 128) PL_FAIL(err, PL_ERR_INVALID_ARG, "table name of %zu bytes is too long (128 at most)", n);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == '"' || *p == 0x7F)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "table name holds a control character or a quote");
    return PL_OK;
}

static pl_status table_info(pl_srv *s, const char *name, Polaroid__V1__TableInfo *ti,
                            schema_parts *p, pl_error *err) {
    pl_schema *sch = NULL;
    PL_TRY(pl_catalog_table_schema(s->cat, name, &sch, err));
    int64_t rows = 0;
    pl_status st = pl_catalog_table_rows(s->cat, name, &rows, err);
    if (!st) st = schema_parts_fill(sch, p, err);
    pl_schema_release(sch);
    if (st) return st;
    polaroid__v1__table_info__init(ti);
    ti->name = (char *)name;
    ti->schema = &p->msg;
    ti->num_rows = rows;
    return PL_OK;
}

static pl_status h_create_table(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                                size_t *resp_len, pl_error *err) {
    const Polaroid__V1__CreateTableRequest *q = (const void *)req;
    pl_srv *s = c->srv;
    PL_TRY(table_name_ok(q->name, err));
    pl_schema *sch = NULL;
    pl_table *rows = NULL;
    pl_status st = PL_OK;
    if (q->arrow_schema.len) {
        st = pl_srv_schema_from_ipc(q->arrow_schema.data, q->arrow_schema.len, &sch, err);
    } else if (q->n_columns) {
        pl_field *f = pl_calloc(q->n_columns, sizeof *f);
        if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        size_t done = 0;
        for (; !st && done < q->n_columns; done++) {
            const Polaroid__V1__ColumnDef *cd = q->columns[done];
            if (!cd->name || !cd->name[0]) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "column %zu has no name", done);
                break;
            }
            for (size_t k = 0; k < done && !st; k++)
                if (!strcmp(q->columns[k]->name, cd->name))
                    st = pl_error_set(err, PL_ERR_INVALID_ARG, "column \"%s\" is defined twice", cd->name);
            if (st) break;
            pl_type *t = NULL;
            st = pl_sql_parse_type(cd->type ? cd->type : "", &t, err);
            if (st) {
                if (err) {
                    char m[sizeof err->msg + 160];
                    snprintf(m, sizeof m, "column \"%.128s\": %s", cd->name, err->msg);
                    size_t mn = PL_MIN(strlen(m), sizeof err->msg - 1);
                    memcpy(err->msg, m, mn);
                    err->msg[mn] = '\0';
                    err->code = PL_ERR_INVALID_ARG;
                }
                st = PL_ERR_INVALID_ARG;
                break;
            }
            st = pl_field_init(&f[done], cd->name, t, true, err);
            pl_type_release(t);
            if (st) break;
        }
        if (!st) st = pl_schema_new((int32_t)q->n_columns, f, &sch, err);
        for (size_t k = 0; k < q->n_columns; k++) pl_field_reset(&f[k]);
        pl_free(f);
    } else if (q->as_plan) {
        pl_df *df = NULL;
        st = plan_df(c, q->as_plan, &df, err);
        if (!st) {
            pl_exec_opts o;
            pl_srv_call_exec_opts(c, &o);
            st = pl_df_collect(df, &o, &rows, err);
            pl_df_release(df);
        }
        if (!st) sch = pl_schema_retain(rows->schema);
    } else {
        PL_FAIL(err, PL_ERR_INVALID_ARG, "CreateTable needs arrow_schema, columns or as_plan");
    }
    if (!st && sch->n_fields == 0) st = pl_error_set(err, PL_ERR_INVALID_ARG, "a table needs at least one column");
    bool created = false;
    if (!st) st = pl_catalog_table_create(s->cat, q->name, sch, rows, q->if_not_exists, q->replace, &created, err);
    if (sch) pl_schema_release(sch);
    if (rows) pl_table_release(rows);
    if (st) {
        pl_srv_error_strip(err, s->data_root);
        return st;
    }
    Polaroid__V1__TableInfo ti;
    schema_parts p;
    PL_TRY(table_info(s, q->name, &ti, &p, err));
    st = pack(s, &ti.base, resp, resp_len, err);
    schema_parts_reset(&p);
    return st;
}

static pl_status h_drop_table(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                              size_t *resp_len, pl_error *err) {
    const Polaroid__V1__DropTableRequest *q = (const void *)req;
    PL_TRY(table_name_ok(q->name, err));
    Polaroid__V1__DropTableResponse r = POLAROID__V1__DROP_TABLE_RESPONSE__INIT;
    bool dropped = false;
    PL_TRY(pl_catalog_table_drop(c->srv->cat, q->name, q->if_exists, &dropped, err));
    r.dropped = dropped;
    return pack(c->srv, &r.base, resp, resp_len, err);
}

static pl_status view_path(void *user, const char *path, char **out, pl_error *err) {
    return pl_srv_resolve_path(((pl_srv *)user)->data_root, path, out, err);
}

/* The views of the catalog as TableInfos (kind VIEW, num_rows -1) after the k infos in ti, with
 * their result schemas when they still plan (planned in one session lent the catalog). */
static pl_status view_infos(pl_srv *s, Polaroid__V1__TableInfo **ti, Polaroid__V1__TableInfo ***tp,
                            schema_parts **parts, size_t *k, char ***vnames, int32_t *n_views,
                            pl_error *err) {
    char **stmts = NULL;
    PL_TRY(pl_catalog_views(s->cat, vnames, &stmts, n_views, err));
    for (int32_t i = 0; i < *n_views; i++) pl_free(stmts[i]);
    pl_free(stmts);
    size_t cap = *k + (size_t)*n_views + 1;
    Polaroid__V1__TableInfo *a = pl_realloc(*ti, cap * sizeof *a);
    if (a) *ti = a;
    Polaroid__V1__TableInfo **b = a ? pl_realloc(*tp, cap * sizeof *b) : NULL;
    if (b) *tp = b;
    schema_parts *c = b ? pl_realloc(*parts, cap * sizeof *c) : NULL;
    if (c) *parts = c;
    if (!c) PL_FAIL(err, PL_ERR_NOMEM, "out of memory listing views");
    for (size_t i = 0; i < *k; i++) { /* the vectors moved */
        (*tp)[i] = &(*ti)[i];
        (*ti)[i].schema = &(*parts)[i].msg;
    }
    pl_session *ss = NULL;
    pl_error e2;
    pl_error_init(&e2);
    if (*n_views && !pl_session_new(&ss, &e2)) {
        pl_session_set_path_fn(ss, view_path, s);
        if (pl_srv_sql_lend(s->cat, ss, &e2)) {
            pl_session_free(ss);
            ss = NULL;
        }
    }
    for (int32_t i = 0; i < *n_views; i++) {
        Polaroid__V1__TableInfo *t = &(*ti)[*k];
        polaroid__v1__table_info__init(t);
        t->name = (*vnames)[i];
        t->num_rows = -1;
        t->kind = POLAROID__V1__TABLE_KIND__TABLE_KIND_VIEW;
        memset(&(*parts)[*k], 0, sizeof **parts);
        pl_df *df = NULL;
        pl_error_init(&e2);
        if (ss && !pl_session_get(ss, (*vnames)[i], &df, &e2) &&
            !schema_parts_fill(pl_df_schema(df), &(*parts)[*k], &e2))
            t->schema = &(*parts)[*k].msg;
        pl_df_release(df);
        (*tp)[*k] = t;
        (*k)++;
    }
    pl_session_free(ss);
    return PL_OK;
}

static pl_status h_list_tables(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                               size_t *resp_len, pl_error *err) {
    PL_UNUSED(req);
    pl_srv *s = c->srv;
    char **names = NULL, **vnames = NULL;
    int32_t n = 0, n_views = 0;
    PL_TRY(pl_catalog_table_names(s->cat, &names, &n, err));
    Polaroid__V1__TableInfo *ti = pl_calloc((size_t)n + 1, sizeof *ti);
    Polaroid__V1__TableInfo **tp = pl_calloc((size_t)n + 1, sizeof *tp);
    schema_parts *parts = pl_calloc((size_t)n + 1, sizeof *parts);
    pl_status st = ti && tp && parts ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (int32_t i = 0; !st && i < n; i++) {
        pl_error e2;
        pl_error_init(&e2);
        pl_status s2 = table_info(s, names[i], &ti[k], &parts[k], &e2);
        if (s2 == PL_ERR_NOT_FOUND) continue; /* dropped meanwhile */
        if (s2) {
            if (err) *err = e2;
            st = s2;
            break;
        }
        tp[k] = &ti[k];
        k++;
    }
    if (!st) st = view_infos(s, &ti, &tp, &parts, &k, &vnames, &n_views, err);
    if (!st) {
        Polaroid__V1__ListTablesResponse r = POLAROID__V1__LIST_TABLES_RESPONSE__INIT;
        r.n_tables = k;
        r.tables = tp;
        st = pack(s, &r.base, resp, resp_len, err);
    }
    for (size_t i = 0; parts && i < k; i++) schema_parts_reset(&parts[i]);
    pl_free(parts);
    pl_free(ti);
    pl_free(tp);
    for (int32_t i = 0; i < n; i++) pl_free(names[i]);
    pl_free(names);
    for (int32_t i = 0; i < n_views; i++) pl_free(vnames[i]);
    pl_free(vnames);
    return st;
}

static pl_status h_release_shm(pl_srv_call *c, const ProtobufCMessage *req, uint8_t **resp,
                               size_t *resp_len, pl_error *err) {
    const Polaroid__V1__ReleaseSharedMemoryRequest *q = (const void *)req;
    Polaroid__V1__ReleaseSharedMemoryResponse r = POLAROID__V1__RELEASE_SHARED_MEMORY_RESPONSE__INIT;
    pl_srv *s = c->srv;
    if (s->shm_release && q->lease_id && q->lease_id[0])
        r.released = s->shm_release(s->shm_user, c->owner ? c->owner : "", q->lease_id,
                                    q->client_pid, q->unmapped);
    return pack(s, &r.base, resp, resp_len, err);
}

/* ---------------------------------------------------------------- dispatch */

static const struct {
    const ProtobufCMessageDescriptor *req;
    handler_fn fn;
} HANDLERS[PL_SRV_N_METHODS] = {
    [PL_SRV_SCHEMA] = {&polaroid__v1__plan_request__descriptor, h_schema},
    [PL_SRV_EXPLAIN] = {&polaroid__v1__explain_request__descriptor, h_explain},
    [PL_SRV_DESCRIBE] = {&polaroid__v1__plan_request__descriptor, h_describe},
    [PL_SRV_WRITE] = {&polaroid__v1__write_request__descriptor, h_write},
    [PL_SRV_CREATE_HANDLE] = {&polaroid__v1__create_handle_request__descriptor, h_create_handle},
    [PL_SRV_HEARTBEAT] = {&polaroid__v1__heartbeat_request__descriptor, h_heartbeat},
    [PL_SRV_DROP_HANDLE] = {&polaroid__v1__drop_handle_request__descriptor, h_drop_handle},
    [PL_SRV_CREATE_TABLE] = {&polaroid__v1__create_table_request__descriptor, h_create_table},
    [PL_SRV_DROP_TABLE] = {&polaroid__v1__drop_table_request__descriptor, h_drop_table},
    [PL_SRV_LIST_TABLES] = {&polaroid__v1__list_tables_request__descriptor, h_list_tables},
    [PL_SRV_SERVER_INFO] = {&polaroid__v1__server_info_request__descriptor, h_server_info},
    [PL_SRV_RELEASE_SHM] = {&polaroid__v1__release_shared_memory_request__descriptor, h_release_shm},
    [PL_SRV_HEALTH_CHECK] = {&grpc__health__v1__health_check_request__descriptor, h_health},
};

pl_status pl_srv_unary(pl_srv_call *c, pl_srv_method m, const uint8_t *req, size_t n,
                       uint8_t **resp, size_t *resp_len, pl_error *err) {
    if (!c || !c->srv || !resp || !resp_len) PL_FAIL(err, PL_ERR_INTERNAL, "pl_srv_unary needs a call");
    if ((unsigned)m >= PL_SRV_N_METHODS || !HANDLERS[m].fn)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "method %s is not unary",
                (unsigned)m < PL_SRV_N_METHODS ? METHODS[m].path : "(unknown)");
    ProtobufCMessage *msg = NULL;
    PL_TRY(unpack(c->srv, HANDLERS[m].req, req, n, &msg, err));
    pl_status st = HANDLERS[m].fn(c, msg, resp, resp_len, err);
    protobuf_c_message_free_unpacked(msg, pl_srv_pb_allocator());
    if (st) pl_srv_explain_error(c->srv, err);
    return st;
}

/* Unpacks a request for another file of the server (execute.c): same checks as unary calls. */
pl_status pl_srv_unpack(pl_srv *s, const ProtobufCMessageDescriptor *d, const uint8_t *req,
                        size_t n, ProtobufCMessage **out, pl_error *err) {
    return unpack(s, d, req, n, out, err);
}
