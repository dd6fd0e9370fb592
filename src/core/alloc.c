/* alloc.c - the allocator wrapper every library allocation goes through.
 *
 * Small blocks come from malloc with an 16-byte header recording the size, so live and peak
 * byte counts are exact. Column data uses pl_aligned_alloc: 64-byte aligned; blocks of
 * PL_MAP_MIN bytes and more are mmap'ed in size classes (grown with mremap), and freed ones are
 * cached for reuse up to a bound (the block cache below).
 * Blocks of pl_aligned_alloc are not advised MADV_HUGEPAGE; pl_aligned_alloc_huge (the
 * Parquet scan's output slabs) asks for huge pages while they prove cheap (see "huge pages"
 * below). pl_alloc_fail_after injects failures for OOM tests. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core.h"

/* populate support arrived in Linux 5.14; older headers lack the constants */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PL_HDR 16
#define PL_MAP_MIN (1LL << 20)
#define PL_RELEASE_ZAP_BYTES (4LL << 20)

static void *map_region(size_t n) {
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* ---------------------------------------------------------------- huge pages
 * A fresh 4 KiB page costs the kernel ~1.5-2.5 us to fault in on the benchmark VM (zeroing,
 * accounting, page tables); a 2 MiB transparent huge page ~0.2-0.6 us per 4 KiB, so reading
 * 6 GiB into huge pages saves ~2.5 s of CPU. But that VM's balloon reports free 2 MiB blocks
 * to the host (page_reporting), which drops their backing: a huge page taken from a reported
 * block costs 10-60 us per 4 KiB, while 4 KiB pages mostly come from smaller free fragments
 * the host still backs. Whether huge pages are cheap thus depends on the moment (memory freed
 * moments ago is not reported yet; bench/pagefault.c shows both cases), so the policy adapts:
 * pl_aligned_alloc_huge maps fresh blocks 2 MiB aligned and advised MADV_HUGEPAGE while the
 * mode is on, and pl_alloc_populate (the caller faults its pieces in through it) times the
 * first touch of those blocks; when it costs more than PL_HUGE_SLOW_NS per 4 KiB the mode goes
 * off: the untouched rest of every huge block is re-advised MADV_NOHUGEPAGE before it is
 * populated, and new blocks are plain, until PL_HUGE_RETRY_NS later. Finding out costs ~30 ms
 * of CPU per 2 MiB sample on a reporting VM, where huge blocks freed by other processes are
 * reported within seconds (measured: ~30 MiB of warm ones after a 6 GiB read exited), so the
 * mode starts off when a virtio balloon with free page reporting is present; PL_HUGEPAGES=0/1
 * in the environment overrides. The live huge blocks are kept in a small registry. */
#define PL_HUGE (2u << 20)
#define PL_HUGE_MIN_BYTES (4LL << 20)
#define PL_HUGE_SLOW_NS 4000          /* per 4 KiB: 4 KiB pages cost ~1.5-2.5 us here */
#define PL_HUGE_SAMPLE_PAGES 512      /* decide on every 2 MiB of populated huge blocks */
#define PL_HUGE_RETRY_NS (10LL * 1000000000LL)
#define PL_HUGE_SLOTS 512

static pthread_mutex_t g_huge_lock = PTHREAD_MUTEX_INITIALIZER;
static uintptr_t g_huge_lo[PL_HUGE_SLOTS], g_huge_hi[PL_HUGE_SLOTS]; /* [lo, hi); lo 0 = free */
static int g_huge_env = -1;         /* PL_HUGEPAGES from the environment: -1 unread, 0 off */
static bool g_huge_off;             /* under g_huge_lock */
static int64_t g_huge_off_at;       /* when the mode went off */
static int64_t g_huge_ns, g_huge_pages; /* the current sample */
static int64_t g_huge_slow_ns = PL_HUGE_SLOW_NS;
static int g_huge_test = PL_HUGE_TEST_NONE;
static _Atomic int g_huge_live; /* registered blocks: frees skip the registry when 0 */

/* True when a virtio balloon reports free pages to the host (feature bit 5, REPORTING). */
static bool balloon_reports_free_pages(void) {
    const char *dir = "/sys/bus/virtio/drivers/virtio_balloon";
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "virtio", 6) != 0) continue;
        char path[512], bits[80] = {0};
        snprintf(path, sizeof path, "%s/%s/features", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(bits, sizeof bits, f) && strlen(bits) > 5 && bits[5] == '1') found = true;
        fclose(f);
    }
    closedir(d);
    return found;
}

static bool huge_mode_on_locked(void) {
    if (g_huge_env < 0) {
        const char *e = getenv("PL_HUGEPAGES");
        g_huge_env = e && *e ? e[0] != '0' : !balloon_reports_free_pages();
    }
    if (!g_huge_env) return false;
    if (g_huge_off && pl_now_ns() - g_huge_off_at >= PL_HUGE_RETRY_NS) {
        g_huge_off = false;
        g_huge_ns = g_huge_pages = 0;
    }
    return !g_huge_off;
}

static void huge_off_locked(void) {
    g_huge_off = true;
    g_huge_off_at = pl_now_ns();
}

/* Registry slot of the huge block holding p, or -1. */
static int huge_find_locked(uintptr_t p) {
    for (int k = 0; k < PL_HUGE_SLOTS; k++)
        if (g_huge_lo[k] && p >= g_huge_lo[k] && p < g_huge_hi[k]) return k;
    return -1;
}

/* Forgets the huge block starting at p; false for other blocks. */
static bool huge_forget(void *p) {
    if (atomic_load_explicit(&g_huge_live, memory_order_relaxed) == 0) return false;
    bool found = false;
    pthread_mutex_lock(&g_huge_lock);
    for (int k = 0; k < PL_HUGE_SLOTS && !found; k++)
        if (g_huge_lo[k] == (uintptr_t)p) {
            g_huge_lo[k] = g_huge_hi[k] = 0;
            atomic_fetch_sub(&g_huge_live, 1);
            found = true;
        }
    pthread_mutex_unlock(&g_huge_lock);
    return found;
}

/* A fresh mapping of n bytes (n a multiple of 4 KiB), 2 MiB aligned and advised MADV_HUGEPAGE
 * when the mode is on and a registry slot is free; else a plain one. */
static void *map_region_huge(size_t n) {
    pthread_mutex_lock(&g_huge_lock);
    int slot = -1;
    if (huge_mode_on_locked())
        for (int k = 0; k < PL_HUGE_SLOTS && slot < 0; k++)
            if (!g_huge_lo[k]) slot = k;
    if (slot >= 0) g_huge_lo[slot] = 1; /* reserved */
    bool fail_madvise = g_huge_test == PL_HUGE_TEST_MADVISE_FAILS;
    pthread_mutex_unlock(&g_huge_lock);
    if (slot < 0) return map_region(n);
    size_t len = n + PL_HUGE;
    uint8_t *raw = map_region(len);
    uint8_t *p = NULL;
    if (raw) {
        p = (uint8_t *)(((uintptr_t)raw + PL_HUGE - 1) & ~(uintptr_t)(PL_HUGE - 1));
        if (p > raw) munmap(raw, (size_t)(p - raw));
        if (raw + len > p + n) munmap(p + n, (size_t)(raw + len - (p + n)));
    }
    bool advised = p && !fail_madvise && madvise(p, n, MADV_HUGEPAGE) == 0;
    pthread_mutex_lock(&g_huge_lock);
    if (advised) {
        g_huge_lo[slot] = (uintptr_t)p;
        g_huge_hi[slot] = (uintptr_t)p + n;
        atomic_fetch_add(&g_huge_live, 1);
    } else {
        g_huge_lo[slot] = 0;
        if (p) huge_off_locked(); /* THP unavailable (EINVAL, or disabled for the process) */
    }
    pthread_mutex_unlock(&g_huge_lock);
    return p ? p : map_region(n);
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

static void *map_block(size_t n, bool huge) {
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
    return huge && (int64_t)size >= PL_HUGE_MIN_BYTES ? map_region_huge(size) : map_region(size);
}

/* Gives a mapped block back. munmap holds the address space's lock for writing while the
 * kernel frees the pages (~0.3 us per 4 KiB), so two threads releasing a large table took
 * turns (measured: 0.57 s waiting for 0.5 s of freeing). MADV_DONTNEED frees the pages under
 * the shared lock instead, and inside pl_alloc_defer_unmaps(true) ... (false) the munmaps
 * (left with page tables only, but each splitting the merged mapping, which waits for every
 * thread still zapping in it) are deferred to the end, done by one thread. */
static pthread_mutex_t g_defer_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_defer_depth;
static struct deferred {
    void *p;
    size_t n;
} *g_defer;
static int64_t g_defer_n, g_defer_cap;

static void release_region(void *p, size_t size) {
    if ((int64_t)size >= PL_RELEASE_ZAP_BYTES) {
        madvise(p, size, MADV_DONTNEED);
        pthread_mutex_lock(&g_defer_lock);
        bool kept = false;
        if (g_defer_depth > 0) {
            if (g_defer_n == g_defer_cap) {
                int64_t cap = g_defer_cap ? g_defer_cap * 2 : 64;
                struct deferred *d = realloc(g_defer, (size_t)cap * sizeof *d);
                if (d) {
                    g_defer = d;
                    g_defer_cap = cap;
                }
            }
            if (g_defer_n < g_defer_cap) {
                g_defer[g_defer_n].p = p;
                g_defer[g_defer_n++].n = size;
                kept = true;
            }
        }
        pthread_mutex_unlock(&g_defer_lock);
        if (kept) return;
    }
    munmap(p, size);
}

void pl_alloc_defer_unmaps(bool on) {
    struct deferred *d = NULL;
    int64_t n = 0;
    pthread_mutex_lock(&g_defer_lock);
    if (on) {
        g_defer_depth++;
    } else if (g_defer_depth > 0 && --g_defer_depth == 0) {
        d = g_defer;
        n = g_defer_n;
        g_defer = NULL;
        g_defer_n = g_defer_cap = 0;
    }
    pthread_mutex_unlock(&g_defer_lock);
    for (int64_t i = 0; i < n; i++) munmap(d[i].p, d[i].n);
    free(d);
}

static void unmap_block(void *p, size_t n) {
    size_t size;
    int k = map_class(n, &size);
    /* a huge block leaves the registry either way; in the cache it becomes a plain block whose
     * untouched pages (if any) fault in as 4 KiB pages (already faulted huge pages stay) */
    bool huge = huge_forget(p);
    if (k >= 0) {
        pthread_mutex_lock(&g_cache_lock);
        bool keep = g_cache_bytes + (int64_t)size <= PL_CACHE_BYTES;
        if (keep) {
            memcpy(p, &g_cache_head[k], sizeof(void *));
            g_cache_head[k] = p;
            g_cache_bytes += (int64_t)size;
        }
        pthread_mutex_unlock(&g_cache_lock);
        if (keep) {
            if (huge) madvise(p, size, MADV_NOHUGEPAGE);
            return;
        }
    }
    release_region(p, size);
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

static void *aligned_alloc_impl(size_t n, bool huge) {
    if (should_fail() || n > (SIZE_MAX >> 2)) return NULL;
    if (n == 0) n = PL_BUF_ALIGN;
    void *p;
    if ((int64_t)n >= PL_MAP_MIN) {
        p = map_block(n, huge);
        if (!p) return NULL;
    } else {
        p = aligned_alloc(PL_BUF_ALIGN, (size_t)PL_ALIGN_UP((int64_t)n, PL_BUF_ALIGN));
        if (!p) return NULL;
    }
    count_add((int64_t)n);
    return p;
}

void *pl_aligned_alloc(size_t n) { return aligned_alloc_impl(n, false); }
void *pl_aligned_alloc_huge(size_t n) { return aligned_alloc_impl(n, true); }

void pl_alloc_populate(void *p, size_t n) {
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
    if (!p || e <= a) return;
    /* a block reused from the cache is resident already: walking its page tables again costs
     * more than it saves */
    bool huge = false, on = false;
    if (atomic_load_explicit(&g_huge_live, memory_order_relaxed) > 0) {
        pthread_mutex_lock(&g_huge_lock);
        huge = huge_find_locked(a) >= 0;
        on = huge && huge_mode_on_locked();
        pthread_mutex_unlock(&g_huge_lock);
    }
    /* (huge blocks are fresh; their first page may be resident through a neighbour's 2 MiB
     * page, and populating present huge pages costs one check per 2 MiB) */
    unsigned char resident = 0;
    if (!huge && mincore((void *)a, 4096, &resident) == 0 && (resident & 1)) return;
    if (huge && !on) madvise((void *)a, e - a, MADV_NOHUGEPAGE);
    int64_t t0 = on ? pl_now_ns() : 0;
    madvise((void *)a, e - a, MADV_POPULATE_WRITE); /* EINVAL before 5.14: pages fault on use */
    if (!on) return;
    int64_t ns = pl_now_ns() - t0;
    pthread_mutex_lock(&g_huge_lock);
    g_huge_ns += ns;
    g_huge_pages += (int64_t)((e - a) / 4096);
    if (g_huge_pages >= PL_HUGE_SAMPLE_PAGES) {
        if (g_huge_ns > g_huge_slow_ns * g_huge_pages && !g_huge_off) huge_off_locked();
        g_huge_ns = g_huge_pages = 0;
    }
    pthread_mutex_unlock(&g_huge_lock);
}

void pl_alloc_huge_test(int mode, int64_t slow_ns) {
    pthread_mutex_lock(&g_huge_lock);
    g_huge_test = mode;
    g_huge_slow_ns = slow_ns > 0 ? slow_ns : PL_HUGE_SLOW_NS;
    g_huge_env = mode == PL_HUGE_TEST_OFF ? 0 : 1;
    g_huge_off = false;
    g_huge_ns = g_huge_pages = 0;
    pthread_mutex_unlock(&g_huge_lock);
}

bool pl_alloc_huge_on(void) {
    pthread_mutex_lock(&g_huge_lock);
    bool on = huge_mode_on_locked();
    pthread_mutex_unlock(&g_huge_lock);
    return on;
}

bool pl_alloc_is_huge(const void *p) {
    pthread_mutex_lock(&g_huge_lock);
    bool h = huge_find_locked((uintptr_t)p) >= 0;
    pthread_mutex_unlock(&g_huge_lock);
    return h;
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

void pl_aligned_trim(void *p, size_t used, size_t n) {
    if (!p || (int64_t)n < PL_MAP_MIN) return; /* mapped blocks only */
    uintptr_t a = ((uintptr_t)p + used + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
    if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

void *pl_aligned_realloc(void *p, size_t old_n, size_t n) {
    if (!p) return pl_aligned_alloc(n);
    if (old_n == 0) old_n = PL_BUF_ALIGN;
    if (n == 0) n = PL_BUF_ALIGN;
    if ((int64_t)old_n >= PL_MAP_MIN && (int64_t)n >= PL_MAP_MIN) {
        if (should_fail()) return NULL;
        /* a huge block that moves or grows becomes a plain one */
        if (huge_forget(p)) madvise(p, old_n, MADV_NOHUGEPAGE);
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
