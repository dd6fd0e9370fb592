/* flatbuf.h - a small FlatBuffers builder and a bounds-checked FlatBuffers reader, enough for
 * the Arrow IPC metadata (Schema.fbs, Message.fbs, File.fbs), written from the FlatBuffers
 * binary format description:
 *   - a buffer starts with a uoffset (u32) to the root table;
 *   - a table starts with an soffset (i32): its vtable is at table - soffset; the vtable holds
 *     u16 vtable bytes, u16 table bytes, then one u16 per field (offset in the table, 0 = absent);
 *   - reference fields (tables, vectors, strings) hold a u32 relative to the field's own position
 *     (so references always point forward); vectors and strings start with a u32 count;
 *   - a union is two fields: a u8 type tag (id n) and the reference (id n + 1).
 *
 * Reader: every accessor checks offsets, vtable sizes, vector lengths and nesting depth against
 * the buffer before touching a byte; the first violation makes the reader "bad" (sticky) and
 * every later accessor returns the default, so callers check pl_fb_reader.bad once per object.
 *
 * Builder: grows back to front like the reference implementation (children are written before
 * their parents, positions are counted from the end of the buffer), keeps every scalar aligned
 * to its size relative to the start of the finished buffer. */
#ifndef PL_IPC_FLATBUF_H
#define PL_IPC_FLATBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- reader */

typedef struct pl_fb_reader {
    const uint8_t *buf;
    uint32_t size;
    bool bad;
    const char *why; /* static text of the first violation */
    uint32_t where;  /* byte offset of the first violation */
} pl_fb_reader;

typedef struct pl_fb_table {
    pl_fb_reader *r;
    uint32_t pos;      /* table start in the buffer; 0 with r == NULL means "absent" */
    uint32_t vt;       /* vtable start */
    uint16_t vt_bytes; /* vtable size */
    uint16_t t_bytes;  /* table inline size */
} pl_fb_table;

typedef struct pl_fb_vec {
    pl_fb_reader *r;
    uint32_t pos; /* first element */
    uint32_t len; /* element count */
} pl_fb_vec;

/* Starts reading buf[0, size); returns false (and r->bad) if the root table is malformed. */
bool pl_fb_reader_init(pl_fb_reader *r, const uint8_t *buf, size_t size, pl_fb_table *root);
static inline bool pl_fb_present(const pl_fb_table *t) { return t->r != NULL; }

uint8_t pl_fb_u8(const pl_fb_table *t, int id, uint8_t dflt);
int16_t pl_fb_i16(const pl_fb_table *t, int id, int16_t dflt);
int32_t pl_fb_i32(const pl_fb_table *t, int id, int32_t dflt);
int64_t pl_fb_i64(const pl_fb_table *t, int id, int64_t dflt);
static inline bool pl_fb_bool(const pl_fb_table *t, int id, bool dflt) {
    return pl_fb_u8(t, id, dflt) != 0;
}
/* Sub-table; absent -> an absent table (pl_fb_present false). */
pl_fb_table pl_fb_table_field(const pl_fb_table *t, int id);
/* Vector of elem_bytes-sized inline elements (scalars, structs) or of uoffsets (elem_bytes 4). */
pl_fb_vec pl_fb_vec_field(const pl_fb_table *t, int id, uint32_t elem_bytes);
/* String (pointer into the buffer, not NUL-terminated for sure); *len = 0 if absent. */
const char *pl_fb_string_field(const pl_fb_table *t, int id, uint32_t *len);
/* Element i of a vector of tables / strings; pointer to element i of a struct vector. */
pl_fb_table pl_fb_vec_table(const pl_fb_vec *v, uint32_t i);
const char *pl_fb_vec_string(const pl_fb_vec *v, uint32_t i, uint32_t *len);
const uint8_t *pl_fb_vec_elem(const pl_fb_vec *v, uint32_t i, uint32_t elem_bytes);

/* ---------------------------------------------------------------- builder */

#define PL_FB_MAX_FIELDS 16

typedef struct pl_fb_builder {
    uint8_t *buf;  /* data lives in buf[cap - used, cap) */
    size_t cap, used;
    size_t max_align;
    bool oom;
    /* the table being built */
    size_t t_start;
    int n_fields;
    uint32_t field_pos[PL_FB_MAX_FIELDS]; /* position (from end) of each field, 0 = absent */
} pl_fb_builder;

void pl_fb_builder_init(pl_fb_builder *b);
void pl_fb_builder_reset(pl_fb_builder *b);
/* Strings and vectors must be created before pl_fb_start (no nesting while a table is open). */
uint32_t pl_fb_create_string(pl_fb_builder *b, const char *s, size_t n);
/* Vector of n inline elements of elem_bytes each (little-endian bytes), aligned to align. */
uint32_t pl_fb_create_vec(pl_fb_builder *b, const void *elems, uint32_t n, uint32_t elem_bytes,
                       uint32_t align);
/* Vector of references to objects at the given positions. */
uint32_t pl_fb_create_ref_vec(pl_fb_builder *b, const uint32_t *refs, uint32_t n);
void pl_fb_start(pl_fb_builder *b, int n_fields);
void pl_fb_add_u8(pl_fb_builder *b, int id, uint8_t v);
void pl_fb_add_i16(pl_fb_builder *b, int id, int16_t v);
void pl_fb_add_i32(pl_fb_builder *b, int id, int32_t v);
void pl_fb_add_i64(pl_fb_builder *b, int id, int64_t v);
void pl_fb_add_ref(pl_fb_builder *b, int id, uint32_t ref); /* ref 0 = leave absent */
void pl_fb_add_struct(pl_fb_builder *b, int id, const void *bytes, uint32_t n, uint32_t align);
uint32_t pl_fb_end(pl_fb_builder *b);
/* Writes the root offset; the finished bytes are b->buf + b->cap - b->used, b->used long
 * (a multiple of 8). Returns false on allocation failure. */
bool pl_fb_finish(pl_fb_builder *b, uint32_t root);
static inline const uint8_t *pl_fb_data(const pl_fb_builder *b) {
    return b->buf + b->cap - b->used;
}

#endif
