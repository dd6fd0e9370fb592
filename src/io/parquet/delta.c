/* delta.c - DELTA_BINARY_PACKED decoding (also the length streams of DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY). Arithmetic wraps in the value width as the spec requires; every header
 * field and miniblock is bounds-checked; a short final miniblock is zero-padded. */
#include <string.h>

#include "pq_int.h"

#define PQ_DELTA_MAX_BLOCK (1 << 20)
#define PQ_DELTA_MAX_MINIBLOCKS 4096
/* values a stream may hold beyond those asked for (they are skipped to find its end) */
#define PQ_DELTA_MAX_EXTRA (1 << 20)

typedef struct delta_hdr {
    uint64_t block, n_mb, total;
    int64_t first;
} delta_hdr;

static bool uleb(const uint8_t **pp, const uint8_t *end, uint64_t *out) {
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end) return false;
        uint8_t b = *p++;
        if (shift == 63 && (b & 0x7e)) return false;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = v;
            return true;
        }
    }
    return false;
}

static bool zz(const uint8_t **pp, const uint8_t *end, int64_t *out) {
    uint64_t v;
    if (!uleb(pp, end, &v)) return false;
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return true;
}

static pl_status read_header(const uint8_t **pp, const uint8_t *end, delta_hdr *h, pl_error *err) {
    if (!uleb(pp, end, &h->block) || !uleb(pp, end, &h->n_mb) || !uleb(pp, end, &h->total) ||
        !zz(pp, end, &h->first))
        PL_FAIL(err, PL_ERR_CORRUPT, "truncated delta_binary_packed header");
    if (h->block == 0 || h->block > PQ_DELTA_MAX_BLOCK || h->block % 128 != 0 || h->n_mb == 0 ||
        h->n_mb > PQ_DELTA_MAX_MINIBLOCKS || h->block % h->n_mb != 0 ||
        (h->block / h->n_mb) % 32 != 0)
        PL_FAIL(err, PL_ERR_CORRUPT,
                "invalid delta_binary_packed header: block size %llu, %llu miniblocks",
                (unsigned long long)h->block, (unsigned long long)h->n_mb);
    if (h->total > (uint64_t)INT32_MAX * 4)
        PL_FAIL(err, PL_ERR_CORRUPT, "delta_binary_packed header claims %llu values",
                (unsigned long long)h->total);
    return PL_OK;
}

pl_status pl_pq_delta_count(const uint8_t *p, const uint8_t *end, int64_t *count, pl_error *err) {
    delta_hdr h;
    PL_TRY(read_header(&p, end, &h, err));
    *count = (int64_t)h.total;
    return PL_OK;
}

pl_status pl_pq_delta_decode(const uint8_t *p, const uint8_t *end, int width, void *out, int64_t n,
                             int64_t *used, pl_error *err) {
    const uint8_t *start = p;
    delta_hdr h;
    PL_TRY(read_header(&p, end, &h, err));
    if ((uint64_t)n > h.total || h.total - (uint64_t)n > PQ_DELTA_MAX_EXTRA)
        PL_FAIL(err, PL_ERR_CORRUPT, "delta_binary_packed data holds %llu values, expected %lld",
                (unsigned long long)h.total, (long long)n);
    int32_t *o32 = out;
    int64_t *o64 = out;
    uint64_t last = (uint64_t)h.first;
    int64_t total = (int64_t)h.total;
    if (total > 0 && n > 0) {
        if (width == 4) o32[0] = (int32_t)(uint32_t)last;
        else o64[0] = (int64_t)last;
    }
    int64_t vpm = (int64_t)(h.block / h.n_mb);
    uint64_t tmp[1024];
    uint8_t widths[PQ_DELTA_MAX_MINIBLOCKS];
    int64_t i = 1;
    while (i < total) {
        int64_t min_delta;
        if (!zz(&p, end, &min_delta))
            PL_FAIL(err, PL_ERR_CORRUPT, "truncated delta_binary_packed block header");
        if ((int64_t)h.n_mb > end - p)
            PL_FAIL(err, PL_ERR_CORRUPT, "truncated delta_binary_packed miniblock widths");
        memcpy(widths, p, (size_t)h.n_mb);
        p += h.n_mb;
        for (uint64_t m = 0; m < h.n_mb && i < total; m++) {
            int bw = widths[m];
            if (bw > width * 8)
                PL_FAIL(err, PL_ERR_CORRUPT, "delta_binary_packed miniblock bit width %d", bw);
            int64_t mb_bytes = vpm * bw / 8;
            int64_t take = total - i < vpm ? total - i : vpm;
            int64_t need = (take * bw + 7) / 8;
            int64_t avail = end - p;
            if (need > avail)
                PL_FAIL(err, PL_ERR_CORRUPT, "truncated delta_binary_packed miniblock");
            for (int64_t j = 0; j < take;) {
                int64_t k = take - j < 1024 ? take - j : 1024;
                int64_t byte = (j * bw) >> 3;
                pl_pq_unpack64(p + byte, avail - byte, bw, tmp, k);
                int64_t lim = i + k <= n ? k : (n - i > 0 ? n - i : 0);
                if (width == 4) {
                    uint32_t l32 = (uint32_t)last, md = (uint32_t)min_delta;
                    for (int64_t q = 0; q < lim; q++) {
                        l32 += md + (uint32_t)tmp[q];
                        o32[i + q] = (int32_t)l32;
                    }
                    for (int64_t q = lim; q < k; q++) l32 += md + (uint32_t)tmp[q];
                    last = l32;
                } else {
                    uint64_t md = (uint64_t)min_delta;
                    for (int64_t q = 0; q < lim; q++) {
                        last += md + tmp[q];
                        o64[i + q] = (int64_t)last;
                    }
                    for (int64_t q = lim; q < k; q++) last += md + tmp[q];
                }
                i += k;
                j += k;
            }
            p += mb_bytes < avail ? mb_bytes : avail;
        }
    }
    if (used) *used = (int64_t)(p - start);
    return PL_OK;
}
