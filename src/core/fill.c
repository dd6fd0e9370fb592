/* fill.c - filling fresh anonymous memory by copy instead of fault + zero + write.
 *
 * A page of a fresh mapping costs the kernel a fault, an allocation and a zeroing before the
 * program writes its bytes; on the benchmark VM that is ~1.4 us per 4 KiB page with the copy
 * (MADV_POPULATE_WRITE + memcpy, bench/pagefault.c and the notes in docs/benchmarks.md).
 * userfaultfd's UFFDIO_COPY allocates each page and copies the bytes into it in one step, with
 * no zeroing and no fault: ~0.85 us per page measured on the same VM. The Parquet scan uses it
 * for its exactly sized column outputs: it registers a page-aligned region of fresh memory,
 * decodes each column chunk into a reused per-worker staging buffer and copies the staging
 * pages into the region, then unregisters the region (scan.c, column.c).
 *
 * While a region is registered, touching one of its pages that was not filled yet would wait
 * for a fault handler that does not exist; the descriptor is therefore opened with
 * UFFD_FEATURE_SIGBUS (such a touch is a SIGBUS, a bug, never a hang), and callers fill every
 * page of a registered range before anything reads or writes it. pl_fill_copy never leaves a
 * page unfilled: pages present already (EEXIST) are copied with memcpy, and on an unexpected
 * error the rest is mapped to the zero page (or the range unregistered) and copied with memcpy.
 * Without userfaultfd (old kernels, seccomp, PL_FILL=0 in the environment) pl_fill_on() is
 * false and callers use the populate path. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

#if defined(__linux__) && __has_include(<linux/userfaultfd.h>)
#include <linux/userfaultfd.h>
#define PL_HAVE_UFFD 1
#else
#define PL_HAVE_UFFD 0
#endif

#define PL_PAGE 4096u

static pthread_once_t g_fill_once = PTHREAD_ONCE_INIT;
static int g_uffd = -1;
static _Atomic int g_fill_test = PL_FILL_TEST_NONE;
static _Atomic int64_t g_fill_copied; /* bytes placed by UFFDIO_COPY (tests, diagnostics) */

static void fill_init(void) {
#if PL_HAVE_UFFD && defined(SYS_userfaultfd) && defined(UFFD_USER_MODE_ONLY) && \
    defined(UFFD_FEATURE_SIGBUS)
    const char *e = getenv("PL_FILL");
    if (e && e[0] == '0') return;
    if (sysconf(_SC_PAGESIZE) != PL_PAGE) return;
    /* user-mode faults only: allowed without privileges (vm.unprivileged_userfaultfd=0) */
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) return;
    struct uffdio_api api;
    memset(&api, 0, sizeof api);
    api.api = UFFD_API;
    api.features = UFFD_FEATURE_SIGBUS;
    if (ioctl(fd, UFFDIO_API, &api) != 0 || !(api.ioctls & (1ULL << _UFFDIO_REGISTER))) {
        close(fd);
        return;
    }
    g_uffd = fd;
#endif
}

bool pl_fill_on(void) {
    pthread_once(&g_fill_once, fill_init);
    return g_uffd >= 0 && g_fill_test != PL_FILL_TEST_OFF;
}

void pl_fill_test(int mode) { g_fill_test = mode; }

int64_t pl_fill_copied_bytes(void) { return atomic_load(&g_fill_copied); }

bool pl_fill_register(void *p, size_t n) {
#if PL_HAVE_UFFD
    if (!pl_fill_on() || !p || n == 0 || ((uintptr_t)p | n) & (PL_PAGE - 1)) return false;
    struct uffdio_register r;
    memset(&r, 0, sizeof r);
    r.range.start = (uintptr_t)p;
    r.range.len = n;
    r.mode = UFFDIO_REGISTER_MODE_MISSING;
    if (ioctl(g_uffd, UFFDIO_REGISTER, &r) != 0) return false;
    /* the copy and zero-page ioctls must be available on the range */
    uint64_t need = (1ULL << _UFFDIO_COPY) | (1ULL << _UFFDIO_ZEROPAGE);
    if ((r.ioctls & need) != need) {
        pl_fill_unregister(p, n);
        return false;
    }
    return true;
#else
    (void)p;
    (void)n;
    return false;
#endif
}

void pl_fill_unregister(void *p, size_t n) {
#if PL_HAVE_UFFD
    if (g_uffd < 0 || !p || n == 0) return;
    struct uffdio_range r = {(uintptr_t)p, n};
    (void)ioctl(g_uffd, UFFDIO_UNREGISTER, &r);
#else
    (void)p;
    (void)n;
#endif
}

#if PL_HAVE_UFFD
/* Makes every page of [d, d+n) present or ordinary memory, so that memcpy can write it: the
 * zero page for missing pages, else (an unexpected failure) the range leaves the region. */
static void fill_rescue(uint8_t *d, size_t n) {
    size_t done = 0;
    int tries = 0;
    while (done < n && tries < 64) {
        struct uffdio_zeropage z;
        memset(&z, 0, sizeof z);
        z.range.start = (uintptr_t)(d + done);
        z.range.len = n - done;
        z.mode = 0;
        if (ioctl(g_uffd, UFFDIO_ZEROPAGE, &z) == 0) return;
        int e = errno;
        if (z.zeropage > 0) done += (size_t)z.zeropage;
        if (e == EEXIST) done += PL_PAGE; /* present: writable as it is */
        else if (e == ENOENT) return;     /* not registered: ordinary memory */
        else if (e != EAGAIN) break;
        tries = e == EAGAIN ? tries + 1 : 0;
    }
    if (done < n) pl_fill_unregister(d + done, n - done);
}
#endif

void pl_fill_copy(void *dst, const void *src, size_t n) {
    uint8_t *d = dst;
    const uint8_t *s = src;
#if PL_HAVE_UFFD
    size_t done = 0;
    int tries = 0;
    bool inject = g_fill_test == PL_FILL_TEST_COPY_FAILS;
    while (g_uffd >= 0 && done < n && !inject) {
        struct uffdio_copy c;
        memset(&c, 0, sizeof c);
        c.dst = (uintptr_t)(d + done);
        c.src = (uintptr_t)(s + done);
        c.len = n - done;
        c.mode = 0;
        if (ioctl(g_uffd, UFFDIO_COPY, &c) == 0) {
            atomic_fetch_add_explicit(&g_fill_copied, (int64_t)(n - done), memory_order_relaxed);
            return;
        }
        int e = errno;
        if (c.copy > 0) {
            done += (size_t)c.copy;
            atomic_fetch_add_explicit(&g_fill_copied, c.copy, memory_order_relaxed);
        }
        if (e == EEXIST) {
            /* a page present already (a reused block): an ordinary write */
            size_t k = PL_MIN((size_t)PL_PAGE, n - done);
            memcpy(d + done, s + done, k);
            done += k;
            tries = 0;
        } else if (e == EAGAIN && ++tries < 64) {
            continue;
        } else if (e == ENOENT) {
            break; /* not registered (any more): ordinary memory */
        } else {
            fill_rescue(d + done, n - done);
            break;
        }
    }
    if (inject) fill_rescue(d + done, n - done);
    if (done < n) memcpy(d + done, s + done, n - done);
#else
    memcpy(d, s, n);
#endif
}
