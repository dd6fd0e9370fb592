/* flatbuf.c - the FlatBuffers reader (bounds-checked, for hostile metadata) and builder used by
 * the Arrow IPC reader and writer. See flatbuf.h for the binary layout. Invariant of the reader:
 * no byte is loaded before its whole extent was checked against the buffer size; 64-bit
 * arithmetic is used for every sum of untrusted offsets. */
#include "io/ipc/flatbuf.h"

#include <string.h>

#include "core/core.h"

/* ---------------------------------------------------------------- reader */

static void fail(pl_fb_reader *r, const char *why, uint64_t where) {
    if (r->bad) return;
    r->bad = true;
    r->why = why;
    r->where = (uint32_t)(where > UINT32_MAX ? UINT32_MAX : where);
}

static uint16_t ld16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static const pl_fb_table absent_table = {0};

static bool table_at(pl_fb_reader *r, uint64_t pos, pl_fb_table *out) {
    *out = absent_table;
    if (pos > r->size || r->size - pos < 4) {
        fail(r, "table offset past the end of the metadata", pos);
        return false;
    }
    int32_t so = (int32_t)pl_load_u32le(r->buf + pos);
    int64_t vt = (int64_t)pos - (int64_t)so;
    if (vt < 0 || vt > (int64_t)r->size - 4) {
        fail(r, "vtable offset out of range", pos);
        return false;
    }
    uint16_t vt_bytes = ld16(r->buf + vt), t_bytes = ld16(r->buf + vt + 2);
    if (vt_bytes < 4 || (vt_bytes & 1) || vt_bytes > r->size - (uint64_t)vt) {
        fail(r, "vtable size out of range", (uint64_t)vt);
        return false;
    }
    if (t_bytes < 4 || t_bytes > r->size - pos) {
        fail(r, "table size out of range", pos);
        return false;
    }
    out->r = r;
    out->pos = (uint32_t)pos;
    out->vt = (uint32_t)vt;
    out->vt_bytes = vt_bytes;
    out->t_bytes = t_bytes;
    return true;
}

bool pl_fb_reader_init(pl_fb_reader *r, const uint8_t *buf, size_t size, pl_fb_table *root) {
    memset(r, 0, sizeof *r);
    r->buf = buf;
    *root = absent_table;
    if (size > UINT32_MAX - 8) {
        fail(r, "metadata larger than 4 GiB", 0);
        return false;
    }
    r->size = (uint32_t)size;
    if (size < 4) {
        fail(r, "metadata shorter than its root offset", 0);
        return false;
    }
    return table_at(r, pl_load_u32le(buf), root);
}

/* Absolute position of field id if present with `bytes` inline bytes, else 0. */
static uint32_t field_at(const pl_fb_table *t, int id, uint32_t bytes) {
    if (!t->r || t->r->bad || id < 0) return 0;
    uint32_t slot = 4 + 2 * (uint32_t)id;
    if (slot + 2 > t->vt_bytes) return 0;
    uint16_t fo = ld16(t->r->buf + t->vt + slot);
    if (fo == 0) return 0;
    if (fo < 4 || fo > t->t_bytes || (uint32_t)(t->t_bytes - fo) < bytes) {
        fail(t->r, "field past the end of its table", t->pos);
        return 0;
    }
    return t->pos + fo;
}

uint8_t pl_fb_u8(const pl_fb_table *t, int id, uint8_t dflt) {
    uint32_t at = field_at(t, id, 1);
    return at ? t->r->buf[at] : dflt;
}

int16_t pl_fb_i16(const pl_fb_table *t, int id, int16_t dflt) {
    uint32_t at = field_at(t, id, 2);
    return at ? (int16_t)ld16(t->r->buf + at) : dflt;
}

int32_t pl_fb_i32(const pl_fb_table *t, int id, int32_t dflt) {
    uint32_t at = field_at(t, id, 4);
    return at ? (int32_t)pl_load_u32le(t->r->buf + at) : dflt;
}

int64_t pl_fb_i64(const pl_fb_table *t, int id, int64_t dflt) {
    uint32_t at = field_at(t, id, 8);
    return at ? (int64_t)pl_load_u64le(t->r->buf + at) : dflt;
}

/* Follows the uoffset stored at absolute position at; 0 on failure (0 is never a valid target
 * of a reference because the root offset occupies it). */
static uint64_t deref(pl_fb_reader *r, uint64_t at) {
    if (at > r->size || r->size - at < 4) {
        fail(r, "reference past the end of the metadata", at);
        return 0;
    }
    uint64_t target = at + pl_load_u32le(r->buf + at);
    if (target >= r->size) {
        fail(r, "reference target past the end of the metadata", at);
        return 0;
    }
    return target;
}

pl_fb_table pl_fb_table_field(const pl_fb_table *t, int id) {
    pl_fb_table out = absent_table;
    uint32_t at = field_at(t, id, 4);
    if (!at) return out;
    uint64_t target = deref(t->r, at);
    if (target) table_at(t->r, target, &out);
    return out;
}

static pl_fb_vec vec_at(pl_fb_reader *r, uint64_t target, uint32_t elem_bytes) {
    pl_fb_vec v = {0};
    if (target > r->size || r->size - target < 4) {
        fail(r, "vector past the end of the metadata", target);
        return v;
    }
    uint32_t len = pl_load_u32le(r->buf + target);
    if ((uint64_t)len * elem_bytes > r->size - target - 4) {
        fail(r, "vector length past the end of the metadata", target);
        return v;
    }
    v.r = r;
    v.pos = (uint32_t)target + 4;
    v.len = len;
    return v;
}

pl_fb_vec pl_fb_vec_field(const pl_fb_table *t, int id, uint32_t elem_bytes) {
    pl_fb_vec v = {0};
    uint32_t at = field_at(t, id, 4);
    if (!at) return v;
    uint64_t target = deref(t->r, at);
    if (!target) return v;
    return vec_at(t->r, target, elem_bytes);
}

const char *pl_fb_string_field(const pl_fb_table *t, int id, uint32_t *len) {
    pl_fb_vec v = pl_fb_vec_field(t, id, 1);
    *len = v.len;
    return v.r ? (const char *)v.r->buf + v.pos : NULL;
}

pl_fb_table pl_fb_vec_table(const pl_fb_vec *v, uint32_t i) {
    pl_fb_table out = absent_table;
    if (!v->r || v->r->bad || i >= v->len) return out;
    uint64_t target = deref(v->r, (uint64_t)v->pos + 4ull * i);
    if (target) table_at(v->r, target, &out);
    return out;
}

const char *pl_fb_vec_string(const pl_fb_vec *v, uint32_t i, uint32_t *len) {
    *len = 0;
    if (!v->r || v->r->bad || i >= v->len) return NULL;
    uint64_t target = deref(v->r, (uint64_t)v->pos + 4ull * i);
    if (!target) return NULL;
    pl_fb_vec s = vec_at(v->r, target, 1);
    *len = s.len;
    return s.r ? (const char *)s.r->buf + s.pos : NULL;
}

const uint8_t *pl_fb_vec_elem(const pl_fb_vec *v, uint32_t i, uint32_t elem_bytes) {
    if (!v->r || v->r->bad || i >= v->len) return NULL;
    return v->r->buf + v->pos + (uint64_t)i * elem_bytes;
}

/* ---------------------------------------------------------------- builder */

void pl_fb_builder_init(pl_fb_builder *b) {
    memset(b, 0, sizeof *b);
    b->max_align = 1;
}

void pl_fb_builder_reset(pl_fb_builder *b) {
    pl_free(b->buf);
    pl_fb_builder_init(b);
}

static bool grow(pl_fb_builder *b, size_t need) {
    if (b->oom) return false;
    if (b->cap - b->used >= need) return true;
    size_t cap = b->cap ? b->cap * 2 : 512;
    while (cap - b->used < need) cap *= 2;
    uint8_t *nb = pl_malloc(cap);
    if (!nb) {
        b->oom = true;
        return false;
    }
    if (b->used) memcpy(nb + cap - b->used, b->buf + b->cap - b->used, b->used);
    pl_free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return true;
}

static void push(pl_fb_builder *b, const void *p, size_t n) {
    if (!grow(b, n)) return;
    b->used += n;
    if (p) memcpy(b->buf + b->cap - b->used, p, n);
    else memset(b->buf + b->cap - b->used, 0, n);
}

/* Pads so that after `extra` more bytes the size is a multiple of align (a power of two). */
static void prep(pl_fb_builder *b, size_t align, size_t extra) {
    if (align > b->max_align) b->max_align = align;
    size_t pad = (~(b->used + extra) + 1) & (align - 1);
    if (pad) push(b, NULL, pad);
}

uint32_t pl_fb_create_string(pl_fb_builder *b, const char *s, size_t n) {
    prep(b, 4, n + 1);
    push(b, NULL, 1);
    push(b, s, n);
    uint32_t len = (uint32_t)n;
    push(b, &len, 4);
    return b->oom ? 0 : (uint32_t)b->used;
}

uint32_t pl_fb_create_vec(pl_fb_builder *b, const void *elems, uint32_t n, uint32_t elem_bytes,
                          uint32_t align) {
    size_t bytes = (size_t)n * elem_bytes;
    prep(b, 4, bytes);
    prep(b, align < 4 ? 4 : align, bytes);
    if (bytes) push(b, elems, bytes);
    push(b, &n, 4);
    return b->oom ? 0 : (uint32_t)b->used;
}

uint32_t pl_fb_create_ref_vec(pl_fb_builder *b, const uint32_t *refs, uint32_t n) {
    prep(b, 4, (size_t)n * 4);
    for (uint32_t k = n; k-- > 0;) {
        uint32_t off = (uint32_t)(b->used + 4 - refs[k]);
        push(b, &off, 4);
    }
    push(b, &n, 4);
    return b->oom ? 0 : (uint32_t)b->used;
}

void pl_fb_start(pl_fb_builder *b, int n_fields) {
    PL_ASSERT(n_fields <= PL_FB_MAX_FIELDS);
    b->t_start = b->used;
    b->n_fields = n_fields;
    memset(b->field_pos, 0, sizeof b->field_pos);
}

static void add_scalar(pl_fb_builder *b, int id, const void *p, size_t n) {
    prep(b, n, 0);
    push(b, p, n);
    b->field_pos[id] = (uint32_t)b->used;
}

void pl_fb_add_u8(pl_fb_builder *b, int id, uint8_t v) { add_scalar(b, id, &v, 1); }
void pl_fb_add_i16(pl_fb_builder *b, int id, int16_t v) { add_scalar(b, id, &v, 2); }
void pl_fb_add_i32(pl_fb_builder *b, int id, int32_t v) { add_scalar(b, id, &v, 4); }
void pl_fb_add_i64(pl_fb_builder *b, int id, int64_t v) { add_scalar(b, id, &v, 8); }

void pl_fb_add_ref(pl_fb_builder *b, int id, uint32_t ref) {
    if (!ref) return;
    prep(b, 4, 0);
    uint32_t off = (uint32_t)(b->used + 4 - ref);
    push(b, &off, 4);
    b->field_pos[id] = (uint32_t)b->used;
}

void pl_fb_add_struct(pl_fb_builder *b, int id, const void *bytes, uint32_t n, uint32_t align) {
    prep(b, align, n);
    push(b, bytes, n);
    b->field_pos[id] = (uint32_t)b->used;
}

uint32_t pl_fb_end(pl_fb_builder *b) {
    prep(b, 4, 0);
    int32_t zero = 0;
    push(b, &zero, 4);
    if (b->oom) return 0;
    size_t table_end = b->used;
    int n = b->n_fields;
    while (n > 0 && !b->field_pos[n - 1]) n--;
    uint16_t vt[2 + PL_FB_MAX_FIELDS];
    vt[0] = (uint16_t)(4 + 2 * n);
    vt[1] = (uint16_t)(table_end - b->t_start);
    for (int k = 0; k < n; k++)
        vt[2 + k] = b->field_pos[k] ? (uint16_t)(table_end - b->field_pos[k]) : 0;
    push(b, vt, (size_t)vt[0]);
    if (b->oom) return 0;
    int32_t so = (int32_t)(b->used - table_end);
    memcpy(b->buf + b->cap - table_end, &so, 4);
    return (uint32_t)table_end;
}

bool pl_fb_finish(pl_fb_builder *b, uint32_t root) {
    prep(b, b->max_align < 8 ? 8 : b->max_align, 4);
    uint32_t off = (uint32_t)(b->used + 4 - root);
    push(b, &off, 4);
    return !b->oom;
}
