/* buf.c - pl_buf: 64-byte aligned, atomically refcounted byte buffers. A buffer is mutable
 * only while its refcount is 1; foreign memory is wrapped with a release callback. */
#include <string.h>

#include "core.h"

static pl_status buf_alloc(int64_t capacity, bool zero, pl_buf **out, pl_error *err) {
    if (capacity < 0) PL_FAIL(err, PL_ERR_INVALID_ARG, "negative buffer size %lld", (long long)capacity);
    pl_buf *b = pl_malloc(sizeof *b);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a buffer header");
    int64_t cap = PL_ALIGN_UP(capacity > 0 ? capacity : PL_BUF_ALIGN, PL_BUF_ALIGN);
    b->data = pl_aligned_alloc((size_t)cap);
    if (!b->data) {
        pl_free(b);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating %lld bytes", (long long)cap);
    }
    /* Zero the whole capacity when asked; otherwise just the tail padding past `capacity`
     * so that writers of padded formats never leak uninitialised bytes. */
    if (zero) memset(b->data, 0, (size_t)cap);
    b->size = zero ? capacity : 0;
    b->capacity = cap;
    b->refcount = 1;
    b->release_fn = NULL;
    b->owner = NULL;
    *out = b;
    return PL_OK;
}

pl_status pl_buf_new(int64_t capacity, pl_buf **out, pl_error *err) {
    return buf_alloc(capacity, false, out, err);
}

pl_status pl_buf_new_zeroed(int64_t size, pl_buf **out, pl_error *err) {
    return buf_alloc(size, true, out, err);
}

pl_status pl_buf_adopt(void *data, int64_t capacity, int64_t size, pl_buf **out, pl_error *err) {
    pl_buf *b = pl_malloc(sizeof *b);
    if (!b) {
        pl_aligned_free(data, (size_t)capacity);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a buffer header");
    }
    b->data = data;
    b->size = size;
    b->capacity = capacity;
    b->refcount = 1;
    b->release_fn = NULL;
    b->owner = NULL;
    *out = b;
    return PL_OK;
}

pl_status pl_buf_wrap(uint8_t *data, int64_t size, void (*release_fn)(pl_buf *), void *owner,
                      pl_buf **out, pl_error *err) {
    pl_buf *b = pl_malloc(sizeof *b);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory allocating a buffer header");
    b->data = data;
    b->size = size;
    b->capacity = size;
    b->refcount = 1;
    b->release_fn = release_fn;
    b->owner = owner;
    *out = b;
    return PL_OK;
}

pl_status pl_buf_reserve(pl_buf *b, int64_t min_capacity, pl_error *err) {
    if (min_capacity <= b->capacity) return PL_OK;
    if (b->release_fn) PL_FAIL(err, PL_ERR_INVALID_ARG, "cannot grow a wrapped buffer");
    int64_t cap = b->capacity * 2;
    if (cap < min_capacity) cap = min_capacity;
    cap = PL_ALIGN_UP(cap, PL_BUF_ALIGN);
    uint8_t *d = pl_aligned_realloc(b->data, (size_t)b->capacity, (size_t)cap);
    if (!d) PL_FAIL(err, PL_ERR_NOMEM, "out of memory growing a buffer to %lld bytes", (long long)cap);
    b->data = d;
    b->capacity = cap;
    return PL_OK;
}

pl_status pl_buf_append(pl_buf *b, const void *bytes, int64_t n, pl_error *err) {
    if (n <= 0) return PL_OK;
    if (b->size + n > b->capacity) PL_TRY(pl_buf_reserve(b, b->size + n, err));
    memcpy(b->data + b->size, bytes, (size_t)n);
    b->size += n;
    return PL_OK;
}

pl_buf *pl_buf_retain(pl_buf *b) {
    if (b) __atomic_add_fetch(&b->refcount, 1, __ATOMIC_RELAXED);
    return b;
}

void pl_buf_release(pl_buf *b) {
    if (!b) return;
    if (__atomic_sub_fetch(&b->refcount, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (b->release_fn) b->release_fn(b);
    else pl_aligned_free(b->data, (size_t)b->capacity);
    pl_free(b);
}

int64_t pl_bitmap_count(const uint8_t *bits, int64_t offset, int64_t length) {
    int64_t n = 0, i = offset, end = offset + length;
    while (i < end && (i & 7)) n += pl_bit_get(bits, i++);
    while (i + 64 <= end) {
        n += __builtin_popcountll(pl_load_u64le(bits + (i >> 3)));
        i += 64;
    }
    while (i < end) n += pl_bit_get(bits, i++);
    return n;
}
