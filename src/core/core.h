/* core.h - the core layer's interface for the rest of the library: limits, the worker pool,
 * small helpers. Public pieces (errors, allocation, buffers) are in include/polaroid/. */
#ifndef PL_CORE_H
#define PL_CORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "polaroid/columnar.h"
#include "polaroid/status.h"
#include "limits.h"

#define PL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PL_MAX(a, b) ((a) > (b) ? (a) : (b))
#define PL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PL_ALIGN_UP(n, a) (((n) + ((a)-1)) & ~((int64_t)(a)-1))
#define PL_UNUSED(x) (void)(x)
#if defined(__GNUC__)
#define PL_LIKELY(x) __builtin_expect(!!(x), 1)
#define PL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define PL_LIKELY(x) (x)
#define PL_UNLIKELY(x) (x)
#endif

#ifndef NDEBUG
#include <assert.h>
#define PL_ASSERT(x) assert(x) /* programmer errors only, never input */
#else
#define PL_ASSERT(x) ((void)0)
#endif

/* ---------------------------------------------------------------- worker pool
 * One pool per process, created on first use with one thread per core (or
 * pl_pool_set_threads). pl_parallel_for runs fn(arg, i, worker) for every i in [0, n) on the
 * pool and the calling thread together (dynamic scheduling, one index at a time) and returns
 * when all are done. It may be called from inside a task: the caller then works through the
 * indices itself while idle workers help, so it never deadlocks. worker is in
 * [0, pl_pool_max_workers()) and unique among tasks running at the same time, so it can index
 * per-thread state. */
typedef void (*pl_task_fn)(void *arg, int64_t index, int32_t worker);
void pl_parallel_for(int64_t n, int32_t max_threads, pl_task_fn fn, void *arg);
/* Threads in the pool plus callers (size for per-worker state arrays). */
int32_t pl_pool_max_workers(void);
int32_t pl_pool_threads(void);
PL_API void pl_pool_set_threads(int32_t n);

/* ---------------------------------------------------------------- misc */
/* Monotonic clock in nanoseconds. */
int64_t pl_now_ns(void);
/* Reads a whole file into an owned buffer, or maps it. Errors: PL_ERR_NOT_FOUND, PL_ERR_IO. */
/* Grows (or shrinks) an aligned block, moving pages with mremap when both sizes are large. */
void *pl_aligned_realloc(void *p, size_t old_n, size_t n);
/* Returns the whole pages of block p (n bytes, from pl_aligned_alloc) past its first used
 * bytes to the kernel; they read as zeros afterwards. Blocks under 1 MiB are left alone. */
void pl_aligned_trim(void *p, size_t used, size_t n);
/* A buffer over data, a block of capacity bytes from pl_aligned_alloc (or _realloc) that it
 * takes, also on failure (size <= capacity bytes in use). */
pl_status pl_buf_adopt(void *data, int64_t capacity, int64_t size, pl_buf **out, pl_error *err);
/* pl_aligned_alloc for large outputs the caller faults in with pl_alloc_populate: fresh blocks
 * of 4 MiB and more are backed by transparent huge pages while those prove cheap (alloc.c).
 * Free with pl_aligned_free. */
void *pl_aligned_alloc_huge(size_t n_bytes);
/* Faults [p, p+n) in with one call (MADV_POPULATE_WRITE; nothing if its first page is resident
 * already), timing huge blocks' first touch for the huge-page policy. */
void pl_alloc_populate(void *p, size_t n);
/* Between pl_alloc_defer_unmaps(true) and (false) (nesting), freed large mapped blocks give
 * their pages back at once (MADV_DONTNEED, under the shared address-space lock) but are
 * unmapped only at the outermost (false): threads releasing a large table in parallel then do
 * not wait for each other's munmap. */
void pl_alloc_defer_unmaps(bool on);
/* Test hooks: reset the huge-page policy with a mode and a slowness threshold (ns per 4 KiB,
 * 0 = default); whether the mode is on; whether p lies in a live huge block. */
enum { PL_HUGE_TEST_NONE, PL_HUGE_TEST_OFF, PL_HUGE_TEST_MADVISE_FAILS };
void pl_alloc_huge_test(int mode, int64_t slow_ns);
bool pl_alloc_huge_on(void);
bool pl_alloc_is_huge(const void *p);
/* Forgets the row an expression kernel named ("... at row N" in the message, err->row = N; the
 * first " at row N" when err->row is not set):
 * inside a query the kernel's input is one internal batch (a morsel, a dictionary's values, a
 * one-row constant), so its row number would mislead the user. */
void pl_error_forget_row(pl_error *err);

/* A whole regular file (CA bundles, zone files): read into memory under 256 KiB, else an
 * unguarded private mapping. Data files that readers parse in place go through pl_file_load. */
pl_status pl_file_read_all(const char *path, pl_buf **out, pl_error *err);
/* Guarded read-only mappings of regular files (file.c): pl_file_map maps the first size bytes
 * of fd (size from fstat, at least 256 KiB) and returns its registry slot, or -1 when the
 * caller must read with pread instead (a small file, no slot, mmap failed, PL_MMAP=0, the test
 * hook, or another SIGBUS handler replaced polaroid's after it was installed). A page the file no longer has (truncated by someone else while mapped) reads as zeros
 * instead of raising SIGBUS, and pl_file_map_lost(slot) is then true: callers check it after
 * reading and report the file as changed. pl_file_unmap ends the mapping; nothing may read it
 * after. */
int32_t pl_file_map(int fd, int64_t size, const uint8_t **out);
bool pl_file_map_lost(int32_t slot);
void pl_file_unmap(int32_t slot);
/* Guards a mapping its caller made (page-aligned p, len bytes; e.g. the server's writable
 * MAP_SHARED mappings of result files, which the client could truncate): a fault past the
 * file's end replaces the rest of it with anonymous zero pages (writable if writable), so the
 * read or write goes on, and pl_file_map_lost(slot) is then true. Returns the slot, or -1 when
 * the guard is unavailable (no free slot, PL_MMAP=0, another SIGBUS handler in place): the
 * caller must not use the mapping then. pl_file_map_unguard takes it out of the registry (call
 * it before munmap or mremap); it does not unmap. Guarded writable mappings are not sources of
 * stored data: pl_file_map_holds ignores them. */
int32_t pl_file_map_guard(void *p, size_t len, bool writable);
void pl_file_map_unguard(int32_t slot);
/* Takes the pages covering [p, p+n) of a mapping out of the address space (MADV_DONTNEED):
 * they stay in the page cache and a later read maps them again; nothing else changes. */
void pl_file_map_drop(const void *p, size_t n);
/* Test hooks: PL_FMAP_TEST_OFF makes pl_file_map refuse (pread fallback), ALL maps files of
 * any size; ALL and NONE put the SIGBUS handler back in place if a harness replaced it; the number of
 * mappings made so far in this process. */
enum { PL_FMAP_TEST_NONE, PL_FMAP_TEST_OFF, PL_FMAP_TEST_ALL };
void pl_file_map_test(int mode);
int64_t pl_file_map_count(void);
/* Whether p points into a guarded file mapping that is in place now: bytes there are the
 * file's current content, so data that must stay as read (stored tables) is copied out
 * (pl_array_detach_files). */
bool pl_file_map_holds(const void *p);
/* A whole regular file for a reader that parses it in place (CSV, Arrow IPC): a guarded mapping
 * (pl_file_map) when one is given, with *slot its registry slot (the buffer's last release
 * unmaps it; the reader checks pl_file_map_lost(*slot) after each piece it parsed and reports
 * the file as changed); otherwise *slot = -1 and the bytes are read into memory (files under
 * 256 KiB, PL_MMAP=0 or the OFF test hook, no free slot, another SIGBUS handler in place of
 * polaroid's; a file that ends early is reported as changed). */
pl_status pl_file_load(const char *path, pl_buf **out, int32_t *slot, pl_error *err);
/* Filling fresh memory by copy (fill.c, userfaultfd): pl_fill_on says whether it is available
 * (not on old kernels, under seccomp, or with PL_FILL=0). pl_fill_register marks a page-aligned
 * range of fresh memory; until pl_fill_unregister every page of it must be filled with
 * pl_fill_copy before anything else touches it (a touch of an unfilled page is a SIGBUS).
 * pl_fill_copy copies n bytes (dst and n page-aligned) into pages allocated for them, without
 * the fault and zeroing of a first write; it falls back to memcpy on pages present already or
 * outside a registered range, so it is always correct. */
bool pl_fill_on(void);
bool pl_fill_register(void *p, size_t n);
void pl_fill_unregister(void *p, size_t n);
void pl_fill_copy(void *dst, const void *src, size_t n);
/* Test hook: PL_FILL_TEST_OFF makes pl_fill_on false; COPY_FAILS makes pl_fill_copy take its
 * rescue path (zero pages, then memcpy) as if the kernel refused the copy. */
enum { PL_FILL_TEST_NONE, PL_FILL_TEST_OFF, PL_FILL_TEST_COPY_FAILS };
void pl_fill_test(int mode);
/* Bytes pl_fill_copy placed by copy so far in this process (not by its memcpy fallback). */
int64_t pl_fill_copied_bytes(void);

static inline uint32_t pl_load_u32le(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
/* An INTERVAL value (Arrow month_day_nano: int32 months, int32 days, int64 ns at p) as its
 * length in ns with a month of 30 days and a day of 24 hours: the key by which DuckDB orders,
 * compares, groups and joins intervals (1 month = 30 days, 1 day = 24 hours). */
static inline __int128 pl_interval_ns(const uint8_t *p) {
    int32_t months, days;
    int64_t ns;
    memcpy(&months, p, 4);
    memcpy(&days, p + 4, 4);
    memcpy(&ns, p + 8, 8);
    return ((__int128)months * 30 + days) * (__int128)86400000000000LL + ns;
}

static inline uint64_t pl_load_u64le(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline void pl_store_u32le(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void pl_store_u64le(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* Whether s[0, n) is valid UTF-8: no overlong forms, surrogates or code points past U+10FFFF
 * (ASCII runs 8 bytes at a time). Array validation and the CSV reader share it. */
static inline bool pl_utf8_valid(const uint8_t *s, int64_t n) {
    int64_t i = 0;
    while (i < n) {
        if (i + 8 <= n && (pl_load_u64le(s + i) & 0x8080808080808080ULL) == 0) {
            i += 8;
            continue;
        }
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp;
        if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
        else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
        else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
        else return false;
        if (len > n - i) return false;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

#endif
