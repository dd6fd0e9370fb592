/* snappy_dec.c - decoder of the raw Snappy block format (google/snappy format_description.txt):
 * a varint uncompressed length, then elements, each a tag byte whose low 2 bits say
 *   00 literal: length-1 in the upper 6 bits, or 60..63 there = 1..4 little-endian length-1 bytes
 *   01 copy with a 1-byte offset: length 4..11 in bits 2-4, offset bits 8-10 in bits 5-7, + 1 byte
 *   10 copy with a 2-byte offset: length-1 in the upper 6 bits, + 2 little-endian offset bytes
 *   11 copy with a 4-byte offset: as 10 with 4 offset bytes.
 * A copy repeats `length` bytes starting `offset` bytes back in the output (overlapping when
 * offset < length, which makes a repeating pattern).
 *
 * Why not libsnappy: Debian's libsnappy 1.1.9 calls memcpy out of line for every element, and
 * Parquet pages of 8-byte values are one short literal + one short copy per value, so the calls
 * cost more than the work. Here the fast loop copies in fixed 16-byte (8-byte for overlapping
 * patterns) pieces that may run past the element's end while at least SRC_SLACK input bytes and
 * DST_SLACK output bytes remain; the rest is decoded by an exact loop. Bytes written past an
 * element's end lie inside the output and are overwritten by the elements that follow.
 *
 * Strictness (at least libsnappy's; everything accepted here libsnappy accepts with the same
 * output): the header is at most 5 bytes and 32 bits; every element lies inside the input; every
 * copy offset is 1..(bytes decoded so far); the output is exactly the header's length and the
 * input ends exactly after the last element. (libsnappy also takes a 4-byte literal length of
 * 2^32-1 as a 0-byte literal through 32-bit wrap-around; here it is too long and rejected.) */
#include <string.h>

#include "io/codecs/snappy_dec.h"

#define SNAPPY_MAX_HEADER_BYTES 5 /* a varint of at most 32 bits */
/* The fast loop needs, from the tag: a 64-byte literal read after it (tag + 64 < 66) */
#define SRC_SLACK 66
/* ... and room for a copy of <= 64 bytes in 16-byte pieces (64), or a pattern copy's 8-byte
 * pieces running up to 7 bytes past its end (71) */
#define DST_SLACK 72

static inline void copy8(uint8_t *d, const uint8_t *s) {
    uint64_t v;
    memcpy(&v, s, 8);
    memcpy(d, &v, 8);
}

static inline void copy16(uint8_t *d, const uint8_t *s) {
    uint8_t v[16];
    memcpy(v, s, 16);
    memcpy(d, v, 16);
}

static inline uint32_t load_le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int64_t pl_snappy_decoded_length(const uint8_t *src, int64_t n, int *header_bytes) {
    uint64_t v = 0;
    for (int i = 0; i < SNAPPY_MAX_HEADER_BYTES && i < n; i++) {
        uint32_t b = src[i];
        if (i == SNAPPY_MAX_HEADER_BYTES - 1 && b >= 16) return -1; /* more than 32 bits */
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b < 0x80) {
            *header_bytes = i + 1;
            return (int64_t)v;
        }
    }
    return -1; /* truncated */
}

/* A copy in the fast loop: dst has DST_SLACK bytes from op on, op - off >= the output start. */
static inline void copy_fast(uint8_t *op, size_t off, size_t len) {
    const uint8_t *from = op - off;
    if (len <= 16 && off >= len) { /* the bytes it reads past op land past the copy's end */
        copy16(op, from);
        return;
    }
    if (off >= 16) {
        for (size_t i = 0; i < len; i += 16) copy16(op + i, from + i);
        return;
    }
    if (off >= 8) {
        for (size_t i = 0; i < len; i += 8) copy8(op + i, from + i);
        return;
    }
    /* a pattern of period off < 8: each 8-byte copy from `from` makes op - from valid bytes
     * more, doubling the distance until it is >= 8 (a multiple of off), then 8-byte steps */
    uint8_t *const end = op + len;
    while (op - from < 8) {
        copy8(op, from);
        op += op - from;
    }
    const size_t dist = (size_t)(op - from);
    for (; op < end; op += 8) copy8(op, op - dist);
}

int64_t pl_snappy_decode(uint8_t *dst, int64_t cap, const uint8_t *src, int64_t n) {
    int header_bytes = 0;
    int64_t out_len = pl_snappy_decoded_length(src, n, &header_bytes);
    if (out_len < 0 || out_len > cap) return -1;
    if (out_len == 0) return n == header_bytes ? 0 : -1; /* every element makes >= 1 byte */
    const uint8_t *ip = src + header_bytes;
    const uint8_t *const ip_end = src + n;
    uint8_t *op = dst;
    uint8_t *const op_end = dst + out_len;

    while (ip_end - ip >= SRC_SLACK && op_end - op >= DST_SLACK) {
        const uint32_t tag = *ip;
        size_t len, off;
        switch (tag & 3) {
        case 0:
            len = (tag >> 2) + 1;
            if (len <= 16) {
                copy16(op, ip + 1);
            } else if (len <= 60) {
                copy16(op, ip + 1);
                copy16(op + 16, ip + 17);
                copy16(op + 32, ip + 33);
                copy16(op + 48, ip + 49);
            } else {
                const size_t n_len_bytes = len - 60; /* 1..4 */
                len = (size_t)(load_le32(ip + 1) & (0xffffffffu >> (32 - 8 * n_len_bytes))) + 1;
                ip += n_len_bytes;
                if (len > (size_t)(ip_end - ip - 1) || len > (size_t)(op_end - op)) return -1;
                memcpy(op, ip + 1, len);
            }
            ip += 1 + len;
            op += len;
            continue;
        case 1:
            len = 4 + ((tag >> 2) & 7);
            off = ((size_t)(tag >> 5) << 8) | ip[1];
            ip += 2;
            break;
        case 2:
            len = (tag >> 2) + 1;
            off = load_le16(ip + 1);
            ip += 3;
            break;
        default:
            len = (tag >> 2) + 1;
            off = load_le32(ip + 1);
            ip += 5;
            break;
        }
        if (off - 1 >= (size_t)(op - dst)) return -1; /* offset 0 wraps around */
        copy_fast(op, off, len);
        op += len;
    }

    /* the exact loop: near the end of the input or the output */
    while (ip < ip_end) {
        const uint32_t tag = *ip++;
        size_t len, off;
        switch (tag & 3) {
        case 0:
            len = (tag >> 2) + 1;
            if (len > 60) {
                const size_t n_len_bytes = len - 60;
                if (n_len_bytes > (size_t)(ip_end - ip)) return -1;
                uint64_t v = 0;
                for (size_t i = 0; i < n_len_bytes; i++) v |= (uint64_t)ip[i] << (8 * i);
                len = (size_t)v + 1;
                ip += n_len_bytes;
            }
            if (len > (size_t)(ip_end - ip) || len > (size_t)(op_end - op)) return -1;
            memcpy(op, ip, len);
            ip += len;
            op += len;
            continue;
        case 1:
            if (ip_end - ip < 1) return -1;
            len = 4 + ((tag >> 2) & 7);
            off = ((size_t)(tag >> 5) << 8) | ip[0];
            ip += 1;
            break;
        case 2:
            if (ip_end - ip < 2) return -1;
            len = (tag >> 2) + 1;
            off = load_le16(ip);
            ip += 2;
            break;
        default:
            if (ip_end - ip < 4) return -1;
            len = (tag >> 2) + 1;
            off = load_le32(ip);
            ip += 4;
            break;
        }
        if (off - 1 >= (size_t)(op - dst) || len > (size_t)(op_end - op)) return -1;
        if (off >= len) {
            memcpy(op, op - off, len);
        } else {
            const uint8_t *from = op - off;
            for (size_t i = 0; i < len; i++) op[i] = from[i];
        }
        op += len;
    }
    return op == op_end ? out_len : -1;
}
