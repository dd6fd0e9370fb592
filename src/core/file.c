/* file.c - reading whole files into buffers (mmap'ed read-only, so large files cost no copy),
 * and guarded read-only mappings that a concurrent truncation cannot crash (pl_file_map). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"


static void unmap_release(pl_buf *b) {
    if (b->size > 0) munmap(b->data, (size_t)b->size);
}

/* Opens path read-only and checks that it is a regular file; *size from fstat. */
static pl_status open_regular(const char *path, int *fd_out, int64_t *size, pl_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pl_error_set_path(err, path);
        PL_FAIL(err, e == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot open file: %s", strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(fd);
        pl_error_set_path(err, path);
        PL_FAIL(err, PL_ERR_IO, "not a regular file%s%s", e ? ": " : "", e ? strerror(e) : "");
    }
    *fd_out = fd;
    *size = (int64_t)st.st_size;
    return PL_OK;
}

/* An unguarded private mapping of the first size bytes of fd (closed by the caller). */
static pl_status map_unguarded(int fd, int64_t size, const char *path, pl_buf **out, pl_error *err) {
    static uint8_t empty[1];
    uint8_t *data = empty;
    if (size > 0) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            pl_error_set_path(err, path);
            PL_FAIL(err, PL_ERR_IO, "cannot map file: %s", strerror(e));
        }
        data = m;
    }
    pl_status st = pl_buf_wrap(data, size, unmap_release, NULL, out, err);
    if (st && size > 0) munmap(data, (size_t)size);
    return st;
}

/* ---------------------------------------------------------------- guarded file mappings
 * The Parquet reader reads column chunks straight from a read-only mapping of the file
 * instead of pread()ing them into a buffer (one copy of every compressed byte less, and no
 * page-cache lookups per call). A mapped file that another process truncates while it is read
 * would make every touch of a page past the new end a SIGBUS, which kills the process. So the
 * mappings live in a registry, and a SIGBUS handler (installed with the first mapping,
 * chaining to the handler it replaced for any other fault) replaces the rest of a registered
 * mapping from the faulting page on with anonymous zero pages and marks the mapping lost: the
 * faulting read resumes and sees zeros, the decoders treat them as the bad bytes they are
 * (every length and offset is checked), and the reader reports the file as changed once the
 * chunk is done (pl_file_map_lost). Nothing jumps out of the decoder, so nothing leaks and no
 * lock is left held. Data read from pages that stayed within the file is the file's current
 * content, as with pread. Without a free registry slot, when mmap fails, or with PL_MMAP=0 in
 * the environment, callers read with pread; PL_MMAP=all maps files of any size (tests). */
#define PL_FMAP_SLOTS 1024
/* smaller files are read with pread: a mapping costs two system calls and a VMA */
#define PL_FMAP_MIN_BYTES (256LL << 10)

static struct {
    _Atomic uintptr_t lo, hi; /* [lo, hi) mapped; lo 0 = free */
    _Atomic int lost;
    _Atomic int writable; /* a writable mapping guarded for its owner (pl_file_map_guard) */
} g_fmap[PL_FMAP_SLOTS];
static pthread_mutex_t g_fmap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_fmap_once = PTHREAD_ONCE_INIT;
static struct sigaction g_fmap_old;
static bool g_fmap_ok; /* the handler is installed and mapping is allowed */
static _Atomic int g_fmap_test = PL_FMAP_TEST_NONE;
static _Atomic int64_t g_fmap_count; /* mappings made (tests) */
static _Atomic int64_t g_fmap_live;  /* mappings in the registry now */
static _Atomic int g_fmap_top;       /* slots below this were ever used */

static void fmap_handler(int sig, siginfo_t *si, void *ctx) {
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int k = 0; k < PL_FMAP_SLOTS; k++) {
        uintptr_t lo = atomic_load_explicit(&g_fmap[k].lo, memory_order_acquire);
        uintptr_t hi = atomic_load_explicit(&g_fmap[k].hi, memory_order_acquire);
        if (!lo || a < lo || a >= hi) continue;
        uintptr_t page = a & ~(uintptr_t)4095;
        int prot = atomic_load_explicit(&g_fmap[k].writable, memory_order_relaxed)
                       ? PROT_READ | PROT_WRITE
                       : PROT_READ;
        void *r = mmap((void *)page, hi - page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                       -1, 0);
        if (r != MAP_FAILED) {
            atomic_store_explicit(&g_fmap[k].lost, 1, memory_order_release);
            return; /* the read (or write) resumes on zero pages */
        }
        break;
    }
    /* not ours: whatever handled SIGBUS before */
    if ((g_fmap_old.sa_flags & SA_SIGINFO) && g_fmap_old.sa_sigaction) {
        g_fmap_old.sa_sigaction(sig, si, ctx);
        return;
    }
    if (g_fmap_old.sa_handler != SIG_DFL && g_fmap_old.sa_handler != SIG_IGN &&
        !(g_fmap_old.sa_flags & SA_SIGINFO)) {
        g_fmap_old.sa_handler(sig);
        return;
    }
    /* the default action: a fault repeats when the handler returns; a sent signal is raised */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGBUS, &dfl, NULL);
    if (si->si_code <= 0) raise(SIGBUS);
}

/* Installs the handler over the current one (which it chains to). */
static bool fmap_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fmap_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, &g_fmap_old) == 0;
}

static void fmap_init(void) {
    const char *e = getenv("PL_MMAP");
    if (e && e[0] == '0') return;
    if (e && strcmp(e, "all") == 0) atomic_store(&g_fmap_test, PL_FMAP_TEST_ALL); /* tests */
    g_fmap_ok = fmap_install();
}

/* Whether the handler is still the one in place: an application that installs its own SIGBUS
 * handler later (after the first mapping) gets pread reads from then on. */
static bool fmap_guarded(void) {
    struct sigaction cur;
    return sigaction(SIGBUS, NULL, &cur) == 0 && (cur.sa_flags & SA_SIGINFO) &&
           cur.sa_sigaction == fmap_handler;
}

void pl_file_map_test(int mode) {
    atomic_store(&g_fmap_test, mode);
    /* tests run under harnesses that install their own handlers per test: take over again */
    pthread_once(&g_fmap_once, fmap_init);
    if (mode != PL_FMAP_TEST_OFF && g_fmap_ok && !fmap_guarded()) (void)fmap_install();
}

/* A free registry slot, reserved (lo = 1), or -1. */
static int32_t fmap_reserve(void) {
    pthread_mutex_lock(&g_fmap_lock);
    int32_t slot = -1;
    for (int32_t k = 0; k < PL_FMAP_SLOTS && slot < 0; k++)
        if (!atomic_load_explicit(&g_fmap[k].lo, memory_order_relaxed)) slot = k;
    if (slot >= 0) {
        atomic_store_explicit(&g_fmap[slot].lo, 1, memory_order_relaxed); /* reserved */
        if (slot >= atomic_load_explicit(&g_fmap_top, memory_order_relaxed))
            atomic_store_explicit(&g_fmap_top, slot + 1, memory_order_release);
    }
    pthread_mutex_unlock(&g_fmap_lock);
    return slot;
}

/* Puts [m, m + len) into the reserved slot (len a multiple of the page size). */
static void fmap_publish(int32_t slot, void *m, size_t len, bool writable) {
    atomic_store_explicit(&g_fmap[slot].lost, 0, memory_order_relaxed);
    atomic_store_explicit(&g_fmap[slot].writable, writable, memory_order_relaxed);
    atomic_store_explicit(&g_fmap[slot].hi, (uintptr_t)m + len, memory_order_release);
    atomic_store_explicit(&g_fmap[slot].lo, (uintptr_t)m, memory_order_release);
    atomic_fetch_add_explicit(&g_fmap_live, 1, memory_order_release);
}

int32_t pl_file_map(int fd, int64_t size, const uint8_t **out) {
    *out = NULL;
    if (size <= 0 || (uint64_t)size > SIZE_MAX / 2) return -1;
    pthread_once(&g_fmap_once, fmap_init);
    int mode = atomic_load(&g_fmap_test);
    if (!g_fmap_ok || mode == PL_FMAP_TEST_OFF) return -1;
    if ((size < PL_FMAP_MIN_BYTES && mode != PL_FMAP_TEST_ALL) || !fmap_guarded()) return -1;
    int32_t slot = fmap_reserve();
    if (slot < 0) return -1;
    size_t len = ((size_t)size + 4095) & ~(size_t)4095;
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        atomic_store_explicit(&g_fmap[slot].lo, 0, memory_order_release);
        return -1;
    }
    fmap_publish(slot, m, len, false);
    atomic_fetch_add_explicit(&g_fmap_count, 1, memory_order_relaxed);
    *out = m;
    return slot;
}

int32_t pl_file_map_guard(void *p, size_t len, bool writable) {
    if (!p || !len || ((uintptr_t)p & 4095) || len > SIZE_MAX / 2) return -1;
    pthread_once(&g_fmap_once, fmap_init);
    if (!g_fmap_ok || !fmap_guarded()) return -1;
    int32_t slot = fmap_reserve();
    if (slot >= 0) fmap_publish(slot, p, (len + 4095) & ~(size_t)4095, writable);
    return slot;
}

void pl_file_map_unguard(int32_t slot) {
    if (slot < 0 || slot >= PL_FMAP_SLOTS) return;
    if (atomic_load_explicit(&g_fmap[slot].lo, memory_order_acquire) <= 1) return;
    atomic_store_explicit(&g_fmap[slot].hi, 0, memory_order_release);
    atomic_store_explicit(&g_fmap[slot].lo, 0, memory_order_release);
    atomic_fetch_sub_explicit(&g_fmap_live, 1, memory_order_release);
}

int64_t pl_file_map_count(void) { return atomic_load(&g_fmap_count); }

bool pl_file_map_holds(const void *p) {
    if (!p || atomic_load_explicit(&g_fmap_live, memory_order_acquire) == 0) return false;
    uintptr_t a = (uintptr_t)p;
    int top = atomic_load_explicit(&g_fmap_top, memory_order_acquire);
    for (int k = 0; k < top; k++) {
        uintptr_t lo = atomic_load_explicit(&g_fmap[k].lo, memory_order_acquire);
        uintptr_t hi = atomic_load_explicit(&g_fmap[k].hi, memory_order_acquire);
        if (lo > 1 && a >= lo && a < hi && !atomic_load_explicit(&g_fmap[k].writable,
                                                                 memory_order_relaxed))
            return true;
    }
    return false;
}

bool pl_file_map_lost(int32_t slot) {
    if (slot < 0 || slot >= PL_FMAP_SLOTS) return false;
    return atomic_load_explicit(&g_fmap[slot].lost, memory_order_acquire) != 0;
}

void pl_file_map_drop(const void *p, size_t n) {
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n + 4095) & ~(uintptr_t)4095;
    if (p && e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

void pl_file_unmap(int32_t slot) {
    if (slot < 0 || slot >= PL_FMAP_SLOTS) return;
    uintptr_t lo = atomic_load_explicit(&g_fmap[slot].lo, memory_order_acquire);
    uintptr_t hi = atomic_load_explicit(&g_fmap[slot].hi, memory_order_acquire);
    if (lo <= 1) return;
    /* out of the registry first: nothing reads the range any more */
    atomic_store_explicit(&g_fmap[slot].hi, 0, memory_order_release);
    munmap((void *)lo, hi - lo);
    atomic_store_explicit(&g_fmap[slot].lo, 0, memory_order_release);
    atomic_fetch_sub_explicit(&g_fmap_live, 1, memory_order_release);
}

/* ---------------------------------------------------------------- whole files for in-place parsers */

static void fmap_buf_release(pl_buf *b) { pl_file_unmap((int32_t)(intptr_t)b->owner); }

/* The first size bytes of fd read into an owned buffer; a file that ends early changed. */
static pl_status read_into_memory(int fd, int64_t size, const char *path, pl_buf **out,
                                  pl_error *err) {
    pl_buf *b = NULL;
    PL_TRY(pl_buf_new(size > 0 ? size : 1, &b, err));
    int64_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, b->data + got, (size_t)PL_MIN(size - got, (int64_t)1 << 30), got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = n < 0 ? errno : 0;
            pl_buf_release(b);
            pl_error_set_path(err, path);
            if (e) PL_FAIL(err, PL_ERR_IO, "cannot read file: %s", strerror(e));
            PL_FAIL(err, PL_ERR_IO, "file changed while it was being read (truncated to less "
                    "than its %lld bytes)", (long long)size);
        }
        got += n;
    }
    b->size = size;
    *out = b;
    return PL_OK;
}

pl_status pl_file_load(const char *path, pl_buf **out, int32_t *slot, pl_error *err) {
    int fd;
    int64_t size;
    PL_TRY(open_regular(path, &fd, &size, err));
    pl_status st = PL_OK;
    const uint8_t *m = NULL;
    int32_t s = size > 0 ? pl_file_map(fd, size, &m) : -1;
    if (s >= 0) {
        st = pl_buf_wrap((uint8_t *)m, size, fmap_buf_release, (void *)(intptr_t)s, out, err);
        if (st) pl_file_unmap(s);
        s = st ? -1 : s;
    } else {
        /* small files, mapping off, no free slot, another SIGBUS handler in place: the bytes
         * are read into memory (an unguarded mapping would die of a truncation, and tables
         * parsed in place could not tell their buffers from the file's) */
        st = read_into_memory(fd, size, path, out, err);
    }
    close(fd);
    if (!st) *slot = s;
    return st;
}

pl_status pl_file_read_all(const char *path, pl_buf **out, pl_error *err) {
    int fd;
    int64_t size;
    PL_TRY(open_regular(path, &fd, &size, err));
    /* small files are copied: no mapping a truncation could turn into a SIGBUS */
    pl_status st = size < PL_FMAP_MIN_BYTES ? read_into_memory(fd, size, path, out, err)
                                            : map_unguarded(fd, size, path, out, err);
    close(fd);
    return st;
}
