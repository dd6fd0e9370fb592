/* pagefault.c - measures the first-touch cost of fresh anonymous memory per 4 KiB page: plain
 * 4 KiB faults (MADV_NOHUGEPAGE), transparent huge pages (MADV_HUGEPAGE on a 2 MiB-aligned
 * region), MAP_POPULATE (the kernel faults everything inside mmap), and touching memory that is
 * already mapped (the reuse case a pooled allocator gets). A note for the allocator design.
 * The "-idle" variants repeat 4k and thp after the machine sat idle for a few seconds: a VM
 * whose virtio-balloon reports free memory to the host (page_reporting, blocks of 2 MiB and
 * more) gets those blocks back unbacked, and the host faults them in again on first touch.
 * Huge pages always come from such blocks; 4 KiB pages mostly from smaller free fragments.
 * Memory freed moments before (the other variants' earlier rounds) is not reported yet.
 *
 *   cc -O2 -o build/bench/pagefault bench/pagefault.c &&
 *   build/bench/pagefault [MiB] [rounds] [idle seconds, 0 = skip the idle variants]
 *
 * Prints one line per variant (min and median ns per 4 KiB page over the rounds, GiB/s, and the
 * share of the region the kernel backed with huge pages, from /proc/self/smaps_rollup), then the
 * same as one JSON line for bench/run.py. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define HUGE (2u << 20)
#define MAX_ROUNDS 64

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long anon_huge_kib(void) {
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kib = -1;
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

/* Touches one byte per 4 KiB page; returns elapsed ns. */
static double touch(volatile unsigned char *p, size_t bytes) {
    double t0 = now_ns();
    for (size_t off = 0; off < bytes; off += PAGE) p[off] = 1;
    return now_ns() - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum variant { V_4K, V_THP, V_POPULATE, V_REUSE, V_4K_IDLE, V_THP_IDLE, V_COUNT };
static const char *const NAMES[V_COUNT] = {"4k", "thp", "populate", "reuse", "4k-idle", "thp-idle"};
static const char *const DESCR[V_COUNT] = {
    "first touch, 4 KiB pages (MADV_NOHUGEPAGE)",
    "first touch, MADV_HUGEPAGE (2 MiB-aligned)",
    "mmap(MAP_POPULATE): the kernel faults the region inside mmap",
    "second touch of already-faulted memory",
    "as 4k, after sleeping (freed memory reported to the host)",
    "as thp, after sleeping (freed memory reported to the host)",
};

/* One round of one variant; returns ns for the whole region, *huge_kib the AnonHugePages delta. */
static double round_of(enum variant v, size_t bytes, long *huge_kib) {
    size_t len = bytes + HUGE;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (v == V_POPULATE ? MAP_POPULATE : 0);
    long h0 = anon_huge_kib();
    double t0 = now_ns();
    unsigned char *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    double t_map = now_ns() - t0;
    if (raw == MAP_FAILED) {
        perror("pagefault: mmap");
        exit(1);
    }
    unsigned char *p = (unsigned char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
    double ns;
    if (v == V_4K || v == V_4K_IDLE) {
        madvise(raw, len, MADV_NOHUGEPAGE);
        ns = touch(p, bytes);
    } else if (v == V_THP || v == V_THP_IDLE) {
        madvise(p, bytes, MADV_HUGEPAGE);
        ns = touch(p, bytes);
    } else if (v == V_POPULATE) {
        ns = t_map; /* the faults happened inside mmap */
    } else {
        madvise(raw, len, MADV_NOHUGEPAGE);
        (void)touch(p, bytes);
        ns = touch(p, bytes);
    }
    *huge_kib = anon_huge_kib() - h0;
    munmap(raw, len);
    return ns;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 256;
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    int idle = argc > 3 ? atoi(argv[3]) : 5;
    if (mib < 2 || mib > (1u << 20) || rounds < 1 || rounds > MAX_ROUNDS || idle < 0 || idle > 60) {
        fprintf(stderr, "usage: pagefault [MiB >= 2] [rounds 1..%d] [idle seconds 0..60]\n",
                MAX_ROUNDS);
        return 2;
    }
    int n_variants = idle > 0 ? V_COUNT : V_4K_IDLE;
    size_t bytes = mib << 20;
    double pages = (double)(bytes / PAGE);
    double med[V_COUNT], mins[V_COUNT], huge_share[V_COUNT];
    printf("pagefault: %zu MiB region, %d rounds; ns per 4 KiB page (min / median)\n", mib, rounds);
    for (int v = 0; v < n_variants; v++) {
        double t[MAX_ROUNDS];
        long hk = 0, hk_max = 0;
        int idle_v = v >= V_4K_IDLE;
        int nr = idle_v ? (rounds < 2 ? rounds : 2) : rounds;
        if (!idle_v) (void)round_of((enum variant)v, bytes, &hk); /* warm-up */
        for (int r = 0; r < nr; r++) {
            if (idle_v) sleep((unsigned)idle);
            t[r] = round_of((enum variant)v, bytes, &hk) / pages;
            if (hk > hk_max) hk_max = hk;
        }
        qsort(t, (size_t)nr, sizeof t[0], cmp_double);
        mins[v] = t[0];
        med[v] = t[nr / 2];
        huge_share[v] = (double)hk_max * 1024.0 / (double)bytes;
        printf("  %-9s %8.1f / %8.1f ns  %6.2f GiB/s  huge pages %3.0f%%  %s\n", NAMES[v], mins[v],
               med[v], (double)PAGE / med[v] * 1e9 / (1u << 30), 100.0 * huge_share[v], DESCR[v]);
    }
    printf("BENCH_RESULT {");
    for (int v = 0; v < n_variants; v++)
        printf("%s\"%s\": {\"min_ns_per_4k\": %.2f, \"median_ns_per_4k\": %.2f, "
               "\"huge_share\": %.3f}",
               v ? ", " : "", NAMES[v], mins[v], med[v], huge_share[v]);
    printf("}\n");
    return 0;
}
