/* alloc.c - the allocator wrapper every library allocation goes through.
 *
 * Small blocks come from malloc with an 16-byte header recording the size, so live and peak
 * byte counts are exact. Column data uses pl_aligned_alloc: 64-byte aligned; blocks of
 * PL_MAP_MIN bytes and more are mmap'ed in size classes (grown with mremap), and freed ones are
 * cached for reuse up to a bound (the block cache below).
 * They are not advised MADV_HUGEPAGE: on the benchmark hosts (THP defrag=madvise, memory full
 * of page cache) the direct compaction that huge pages need made multi-GiB Parquet reads 2-3x
 * slower than 4 KiB faults (docs/benchmarks.md). pl_alloc_fail_after injects failures for OOM
 * tests. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

#define PL_HDR 16
#define PL_MAP_MIN (1LL << 20)

static void *map_region(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---------------------------------------------------------------- the block cache
 * Mapped blocks come in size classes (2^k and 3 * 2^(k-1) bytes, from 1 MiB to 256 MiB) and
 * freed ones are kept, up to PL_CACHE_BYTES in all, for the next allocation of the class: a scan
 * frees and allocates the same column buffers batch after batch, and a fresh mapping costs a
 * page fault and a zeroed page per 4 KiB (the roadmap measured 2-25 us each), plus the munmap.
 * Cached blocks hold old bytes, like malloc'ed memory: callers zero what they need. Blocks
 * larger than the largest class are mapped and unmapped as they come (page-rounded). */
#define PL_CLASS_MAX (256LL << 20)
#define PL_CACHE_BYTES (512LL << 20)
#define PL_N_CLASSES 18 /* 1, 1.5, 2, 3, ... 192, 256 MiB */

static pthread_mutex_t g_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static void *g_cache_head[PL_N_CLASSES]; /* free lists linked through the blocks' first word */
static int64_t g_cache_bytes;

/* The class of a mapped block of n bytes (n >= PL_MAP_MIN): its index (-1: none) and size. */
static int map_class(size_t n, size_t *size) {
    if ((int64_t)n > PL_CLASS_MAX) {
        *size = (n + 4095) & ~(size_t)4095;
        return -1;
    }
    size_t c = (size_t)PL_MAP_MIN;
    for (int k = 0;; k += 2, c *= 2) {
        if (n <= c) {
            *size = c;
            return k;
        }
        if (n <= c + c / 2) {
            *size = c + c / 2;
            return k + 1;
        }
    }
}

static void *map_block(size_t n) {
    size_t size;
    int k = map_class(n, &size);
    if (k >= 0) {
        pthread_mutex_lock(&g_cache_lock);
        void *p = g_cache_head[k];
        if (p) {
            memcpy(&g_cache_head[k], p, sizeof(void *));
            g_cache_bytes -= (int64_t)size;
        }
        pthread_mutex_unlock(&g_cache_lock);
        if (p) return p;
    }
    return map_region(size);
}

static void unmap_block(void *p, size_t n) {
    size_t size;
    int k = map_class(n, &size);
    if (k >= 0) {
        pthread_mutex_lock(&g_cache_lock);
        bool keep = g_cache_bytes + (int64_t)size <= PL_CACHE_BYTES;
        if (keep) {
            memcpy(p, &g_cache_head[k], sizeof(void *));
            g_cache_head[k] = p;
            g_cache_bytes += (int64_t)size;
        }
        pthread_mutex_unlock(&g_cache_lock);
        if (keep) return;
    }
    munmap(p, size);
}

void pl_alloc_cache_release(void) {
    pthread_mutex_lock(&g_cache_lock);
    for (int k = 0; k < PL_N_CLASSES; k++) {
        size_t size = (size_t)PL_MAP_MIN << (k / 2);
        if (k & 1) size += size / 2;
        while (g_cache_head[k]) {
            void *p = g_cache_head[k];
            memcpy(&g_cache_head[k], p, sizeof(void *));
            munmap(p, size);
        }
    }
    g_cache_bytes = 0;
    pthread_mutex_unlock(&g_cache_lock);
}

int64_t pl_alloc_cache_bytes(void) {
    pthread_mutex_lock(&g_cache_lock);
    int64_t n = g_cache_bytes;
    pthread_mutex_unlock(&g_cache_lock);
    return n;
}

static _Atomic int64_t g_live;
static _Atomic int64_t g_peak;
static _Atomic int64_t g_fail_after = -1;

static bool should_fail(void) {
    int64_t n = atomic_load_explicit(&g_fail_after, memory_order_relaxed);
    if (n < 0) return false;
    if (n == 0) return true;
    atomic_fetch_sub_explicit(&g_fail_after, 1, memory_order_relaxed);
    return false;
}

static void count_add(int64_t n) {
    int64_t live = atomic_fetch_add_explicit(&g_live, n, memory_order_relaxed) + n;
    int64_t peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
    while (live > peak &&
           !atomic_compare_exchange_weak_explicit(&g_peak, &peak, live, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

void *pl_malloc(size_t n) {
    if (should_fail() || n > (SIZE_MAX >> 1)) return NULL;
    uint8_t *p = malloc(n + PL_HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    count_add((int64_t)n);
    return p + PL_HDR;
}

void *pl_calloc(size_t n, size_t size) {
    if (size && n > (SIZE_MAX >> 1) / size) return NULL;
    void *p = pl_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *pl_realloc(void *old, size_t n) {
    if (!old) return pl_malloc(n);
    if (should_fail() || n > (SIZE_MAX >> 1)) return NULL;
    uint8_t *base = (uint8_t *)old - PL_HDR;
    size_t old_n;
    memcpy(&old_n, base, sizeof old_n);
    uint8_t *p = realloc(base, n + PL_HDR);
    if (!p) return NULL;
    memcpy(p, &n, sizeof n);
    count_add((int64_t)n - (int64_t)old_n);
    return p + PL_HDR;
}

void pl_free(void *p) {
    if (!p) return;
    uint8_t *base = (uint8_t *)p - PL_HDR;
    size_t n;
    memcpy(&n, base, sizeof n);
    count_add(-(int64_t)n);
    free(base);
}

char *pl_strdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = pl_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void *pl_aligned_alloc(size_t n) {
    if (should_fail() || n > (SIZE_MAX >> 2)) return NULL;
    if (n == 0) n = PL_BUF_ALIGN;
    void *p;
    if ((int64_t)n >= PL_MAP_MIN) {
        p = map_block(n);
        if (!p) return NULL;
    } else {
        p = aligned_alloc(PL_BUF_ALIGN, (size_t)PL_ALIGN_UP((int64_t)n, PL_BUF_ALIGN));
        if (!p) return NULL;
    }
    count_add((int64_t)n);
    return p;
}

void pl_aligned_free(void *p, size_t n) {
    if (!p) return;
    if (n == 0) n = PL_BUF_ALIGN;
    count_add(-(int64_t)n);
    if ((int64_t)n >= PL_MAP_MIN) unmap_block(p, n);
    else free(p);
}

int64_t pl_alloc_live_bytes(void) { return atomic_load(&g_live); }
int64_t pl_alloc_peak_bytes(void) { return atomic_load(&g_peak); }
void pl_alloc_fail_after(int64_t n) { atomic_store(&g_fail_after, n); }

void *pl_aligned_realloc(void *p, size_t old_n, size_t n) {
    if (!p) return pl_aligned_alloc(n);
    if (old_n == 0) old_n = PL_BUF_ALIGN;
    if (n == 0) n = PL_BUF_ALIGN;
    if ((int64_t)old_n >= PL_MAP_MIN && (int64_t)n >= PL_MAP_MIN) {
        if (should_fail()) return NULL;
        size_t old_size, size;
        map_class(old_n, &old_size);
        map_class(n, &size);
        void *q = p;
        if (size != old_size) q = mremap(p, old_size, size, MREMAP_MAYMOVE);
        if (q == MAP_FAILED) return NULL;
        count_add((int64_t)n - (int64_t)old_n);
        return q;
    }
    void *q = pl_aligned_alloc(n);
    if (!q) return NULL;
    memcpy(q, p, PL_MIN(old_n, n));
    pl_aligned_free(p, old_n);
    return q;
}
