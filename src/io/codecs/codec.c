/* codec.c - block compression codecs (zstd, snappy, gzip/zlib, LZ4 raw/hadoop/frame, brotli)
 * for Parquet pages and Arrow IPC bodies, over the system libraries, except snappy decoding,
 * which is our own (snappy_dec.c). See codec.h.
 *
 * Invariants: every decompressor is strict - it succeeds only when the input is a complete,
 * valid stream that decodes to exactly dst_len bytes, and it never writes past dst + dst_len.
 * Everything here is thread-safe: codec state lives in one call, except zstd's contexts, which
 * are kept per thread (created on first use, freed when the thread exits). */
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "codec.h"
#include "snappy_dec.h"
#include "core/core.h"

#define PL_ZSTD_DEFAULT_LEVEL 1    /* fast, still well compressed; pyarrow's default is 1 too */
#define PL_GZIP_DEFAULT_LEVEL 6    /* zlib's default */
#define PL_BROTLI_DEFAULT_LEVEL 5  /* quality 11 (the library default) is far too slow */
#define PL_GZIP_HEADER_SLACK 64    /* gzip header + trailer on top of compressBound */
#define PL_HADOOP_HEADER_BYTES 8   /* [BE uncompressed len][BE compressed len] */
#define PL_ZLIB_CHUNK (1u << 30)   /* zlib's avail_in/avail_out are 32-bit */

static const char *const codec_names[] = {
    [PL_CODEC_UNCOMPRESSED] = "uncompressed", [PL_CODEC_SNAPPY] = "snappy",
    [PL_CODEC_GZIP] = "gzip",                 [PL_CODEC_LZ4_RAW] = "lz4_raw",
    [PL_CODEC_LZ4_FRAME] = "lz4_frame",       [PL_CODEC_LZ4_HADOOP] = "lz4_hadoop",
    [PL_CODEC_ZSTD] = "zstd",                 [PL_CODEC_BROTLI] = "brotli",
};

const char *pl_codec_name(pl_codec codec) {
    if ((unsigned)codec >= PL_ARRAY_LEN(codec_names)) return "unknown";
    return codec_names[codec];
}

static bool name_eq(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
        if (ca != *b) return false;
    }
    return *a == 0 && *b == 0;
}

int pl_codec_from_name(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < PL_ARRAY_LEN(codec_names); i++)
        if (name_eq(name, codec_names[i])) return (int)i;
    if (name_eq(name, "none")) return PL_CODEC_UNCOMPRESSED;
    if (name_eq(name, "lz4")) return PL_CODEC_LZ4_RAW;
    if (name_eq(name, "zlib")) return PL_CODEC_GZIP;
    return -1;
}

static pl_status size_mismatch(pl_error *err, const char *codec, int64_t got, int64_t want) {
    return pl_error_set(err, PL_ERR_CORRUPT,
                        "%s: decompressed size %lld differs from the expected %lld bytes", codec,
                        (long long)got, (long long)want);
}

static pl_status too_large(pl_error *err, const char *codec, int64_t want) {
    return pl_error_set(err, PL_ERR_CORRUPT,
                        "%s: data decompresses to more than the expected %lld bytes", codec,
                        (long long)want);
}

/* ---------------------------------------------------------------- zstd */

/* One decompression and one compression context per thread, made on first use and freed when
 * the thread exits: ZSTD_decompress/ZSTD_compress would allocate and initialise a fresh context
 * (hundreds of KiB) for every page. */
static pthread_once_t g_zstd_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_zstd_dkey, g_zstd_ckey;
static void free_dctx(void *p) { ZSTD_freeDCtx(p); }
static void free_cctx(void *p) { ZSTD_freeCCtx(p); }
static void zstd_keys(void) {
    pthread_key_create(&g_zstd_dkey, free_dctx);
    pthread_key_create(&g_zstd_ckey, free_cctx);
}
static ZSTD_DCtx *zstd_dctx(void) {
    pthread_once(&g_zstd_once, zstd_keys);
    ZSTD_DCtx *c = pthread_getspecific(g_zstd_dkey);
    if (!c && (c = ZSTD_createDCtx()) != NULL) pthread_setspecific(g_zstd_dkey, c);
    return c;
}
static ZSTD_CCtx *zstd_cctx(void) {
    pthread_once(&g_zstd_once, zstd_keys);
    ZSTD_CCtx *c = pthread_getspecific(g_zstd_ckey);
    if (!c && (c = ZSTD_createCCtx()) != NULL) pthread_setspecific(g_zstd_ckey, c);
    return c;
}

static pl_status zstd_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                 int64_t dst_len, pl_error *err) {
    uint8_t dummy;
    if (src_len == 0) {
        if (dst_len == 0) return PL_OK;
        PL_FAIL(err, PL_ERR_CORRUPT, "zstd: empty input, expected %lld bytes", (long long)dst_len);
    }
    ZSTD_DCtx *dctx = zstd_dctx();
    if (!dctx) PL_FAIL(err, PL_ERR_NOMEM, "zstd: out of memory creating a context");
    size_t r = ZSTD_decompressDCtx(dctx, dst_len ? (void *)dst : &dummy, (size_t)dst_len, src,
                                   (size_t)src_len);
    if (ZSTD_isError(r)) {
        if (ZSTD_getErrorCode(r) == ZSTD_error_dstSize_tooSmall) return too_large(err, "zstd", dst_len);
        PL_FAIL(err, PL_ERR_CORRUPT, "zstd: %s", ZSTD_getErrorName(r));
    }
    if ((int64_t)r != dst_len) return size_mismatch(err, "zstd", (int64_t)r, dst_len);
    return PL_OK;
}

/* ---------------------------------------------------------------- snappy */

/* Decoded by our own snappy_dec.c (libsnappy 1.1.9's decoder is slow on pages of short
 * elements); libsnappy is still the compressor. */
static pl_status snappy_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                   int64_t dst_len, pl_error *err) {
    int header_bytes = 0;
    int64_t ulen = pl_snappy_decoded_length(src, src_len, &header_bytes);
    if (ulen < 0) PL_FAIL(err, PL_ERR_CORRUPT, "snappy: invalid length header");
    if (ulen != dst_len) return size_mismatch(err, "snappy", ulen, dst_len);
    if (pl_snappy_decode(dst, dst_len, src, src_len) != dst_len)
        PL_FAIL(err, PL_ERR_CORRUPT, "snappy: invalid compressed data");
    return PL_OK;
}

/* ---------------------------------------------------------------- gzip / zlib / raw deflate */

static bool all_zero(const uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* Inflates with the given windowBits. Returns PL_OK, or PL_ERR_CORRUPT with a message; sets
 * *header_failed when nothing at all could be decoded (for the raw-deflate retry). */
static pl_status inflate_with(int window_bits, const uint8_t *src, int64_t src_len, uint8_t *dst,
                              int64_t dst_len, bool *header_failed, pl_error *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    *header_failed = false;
    if (inflateInit2(&zs, window_bits) != Z_OK) PL_FAIL(err, PL_ERR_NOMEM, "gzip: inflateInit failed");
    const uint8_t *in = src, *in_end = src + src_len;
    int64_t produced = 0;
    uint8_t scratch[64];
    pl_status st = PL_OK;
    for (;;) {
        /* feed input and output in chunks that fit zlib's 32-bit counters */
        if (zs.avail_in == 0 && in < in_end) {
            int64_t n = PL_MIN((int64_t)PL_ZLIB_CHUNK, (int64_t)(in_end - in));
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = (uInt)n;
            in += n;
        }
        bool into_scratch = produced == dst_len;
        if (into_scratch) {
            zs.next_out = scratch;
            zs.avail_out = sizeof scratch;
        } else {
            zs.next_out = dst + produced;
            zs.avail_out = (uInt)PL_MIN((int64_t)PL_ZLIB_CHUNK, dst_len - produced);
        }
        uInt out_before = zs.avail_out;
        uInt in_before = zs.avail_in;
        int rc = inflate(&zs, Z_NO_FLUSH);
        uInt wrote = out_before - zs.avail_out;
        if (into_scratch && wrote > 0) {
            st = too_large(err, "gzip", dst_len);
            goto done;
        }
        if (!into_scratch) produced += wrote;
        if (rc == Z_STREAM_END) {
            int64_t left = (int64_t)zs.avail_in + (int64_t)(in_end - in);
            const uint8_t *rest = zs.next_in;
            if (zs.avail_in == 0) rest = in;
            /* another gzip member follows: continue with it */
            if (left >= 2 && rest[0] == 0x1f && rest[1] == 0x8b && window_bits > 15) {
                if (zs.avail_in == 0) {
                    int64_t n = PL_MIN((int64_t)PL_ZLIB_CHUNK, (int64_t)(in_end - in));
                    zs.next_in = (Bytef *)(uintptr_t)in;
                    zs.avail_in = (uInt)n;
                    in += n;
                }
                if (inflateReset(&zs) != Z_OK) {
                    st = pl_error_set(err, PL_ERR_CORRUPT, "gzip: cannot reset the stream");
                    goto done;
                }
                continue;
            }
            /* tolerate zero padding after the last member, nothing else */
            if (left > 0) {
                bool zeros = all_zero(zs.next_in, zs.avail_in) && all_zero(in, in_end - in);
                if (!zeros) {
                    st = pl_error_set(err, PL_ERR_CORRUPT,
                                      "gzip: %lld unexpected bytes after the end of the stream",
                                      (long long)left);
                    goto done;
                }
            }
            break;
        }
        if (rc == Z_NEED_DICT || rc == Z_DATA_ERROR || rc == Z_STREAM_ERROR) {
            if (zs.total_out == 0 && produced == 0) *header_failed = true;
            st = pl_error_set(err, PL_ERR_CORRUPT, "gzip: %s", zs.msg ? zs.msg : "invalid data");
            goto done;
        }
        if (rc == Z_MEM_ERROR) {
            st = pl_error_set(err, PL_ERR_NOMEM, "gzip: out of memory");
            goto done;
        }
        /* Z_OK or Z_BUF_ERROR: no progress possible means truncated input */
        if (wrote == 0 && zs.avail_in == in_before && zs.avail_in == 0 && in == in_end) {
            st = pl_error_set(err, PL_ERR_CORRUPT,
                              "gzip: truncated stream (%lld of %lld bytes decoded)",
                              (long long)produced, (long long)dst_len);
            goto done;
        }
    }
    if (produced != dst_len) st = size_mismatch(err, "gzip", produced, dst_len);
done:
    inflateEnd(&zs);
    return st;
}

static pl_status gzip_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                 int64_t dst_len, pl_error *err) {
    bool header_failed = false;
    /* 15 + 32: auto-detect gzip or zlib headers */
    pl_status st = inflate_with(15 + 32, src, src_len, dst, dst_len, &header_failed, err);
    if (st == PL_OK || !header_failed) return st;
    /* no gzip/zlib header: try a raw deflate stream */
    pl_error raw_err;
    pl_error_init(&raw_err);
    if (inflate_with(-15, src, src_len, dst, dst_len, &header_failed, &raw_err) == PL_OK)
        return PL_OK;
    return st;
}

/* ---------------------------------------------------------------- lz4 */

static pl_status lz4_raw_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                    int64_t dst_len, pl_error *err) {
    if (src_len > INT32_MAX || dst_len > INT32_MAX)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "lz4: block of %lld bytes is larger than lz4 allows",
                (long long)PL_MAX(src_len, dst_len));
    char dummy;
    int r = LZ4_decompress_safe((const char *)src, dst_len ? (char *)dst : &dummy, (int)src_len,
                                (int)dst_len);
    if (r < 0) PL_FAIL(err, PL_ERR_CORRUPT, "lz4: invalid block or larger than %lld bytes",
                       (long long)dst_len);
    if (r != dst_len) return size_mismatch(err, "lz4", r, dst_len);
    return PL_OK;
}

static uint32_t load_u32be(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_u32be(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Hadoop framing: repeated [BE uncompressed len][BE compressed len][lz4 block]. Returns false
 * if the input does not parse as such (the caller then tries a plain block). */
static bool lz4_hadoop_try(const uint8_t *src, int64_t src_len, uint8_t *dst, int64_t dst_len) {
    const uint8_t *p = src, *end = src + src_len;
    int64_t produced = 0;
    if (src_len < PL_HADOOP_HEADER_BYTES) return false;
    while (p < end) {
        if (PL_HADOOP_HEADER_BYTES > (size_t)(end - p)) return false;
        uint32_t ulen = load_u32be(p), clen = load_u32be(p + 4);
        p += PL_HADOOP_HEADER_BYTES;
        if (clen > (size_t)(end - p)) return false;
        if ((int64_t)ulen > dst_len - produced) return false;
        if (clen > INT32_MAX || ulen > INT32_MAX) return false;
        char dummy;
        int r = LZ4_decompress_safe((const char *)p, ulen ? (char *)dst + produced : &dummy,
                                    (int)clen, (int)ulen);
        if (r < 0 || (uint32_t)r != ulen) return false;
        produced += ulen;
        p += clen;
    }
    return produced == dst_len;
}

static pl_status lz4_hadoop_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                       int64_t dst_len, pl_error *err) {
    if (lz4_hadoop_try(src, src_len, dst, dst_len)) return PL_OK;
    pl_error raw_err;
    pl_error_init(&raw_err);
    if (lz4_raw_decompress(src, src_len, dst, dst_len, &raw_err) == PL_OK) return PL_OK;
    PL_FAIL(err, PL_ERR_CORRUPT,
            "lz4_hadoop: input is neither hadoop-framed lz4 nor a plain lz4 block of %lld bytes",
            (long long)dst_len);
}

static pl_status lz4_frame_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                      int64_t dst_len, pl_error *err) {
    LZ4F_dctx *dctx = NULL;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        PL_FAIL(err, PL_ERR_NOMEM, "lz4_frame: cannot create a decompression context");
    const uint8_t *p = src, *end = src + src_len;
    int64_t produced = 0;
    uint8_t scratch[64];
    pl_status st = PL_OK;
    size_t hint = 1;
    if (src_len == 0) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "lz4_frame: empty input");
        goto done;
    }
    while (p < end) {
        bool into_scratch = produced == dst_len;
        size_t out_n = into_scratch ? sizeof scratch : (size_t)(dst_len - produced);
        size_t in_n = (size_t)(end - p);
        hint = LZ4F_decompress(dctx, into_scratch ? scratch : dst + produced, &out_n, p, &in_n,
                               NULL);
        if (LZ4F_isError(hint)) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "lz4_frame: %s", LZ4F_getErrorName(hint));
            goto done;
        }
        if (into_scratch && out_n > 0) {
            st = too_large(err, "lz4_frame", dst_len);
            goto done;
        }
        if (!into_scratch) produced += (int64_t)out_n;
        p += in_n;
        if (in_n == 0 && out_n == 0) break; /* no progress */
    }
    /* drain output still buffered in the context */
    while (hint != 0) {
        bool into_scratch = produced == dst_len;
        size_t out_n = into_scratch ? sizeof scratch : (size_t)(dst_len - produced);
        size_t in_n = 0;
        hint = LZ4F_decompress(dctx, into_scratch ? scratch : dst + produced, &out_n, p, &in_n,
                               NULL);
        if (LZ4F_isError(hint)) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "lz4_frame: %s", LZ4F_getErrorName(hint));
            goto done;
        }
        if (into_scratch && out_n > 0) {
            st = too_large(err, "lz4_frame", dst_len);
            goto done;
        }
        if (out_n == 0) break;
        produced += (int64_t)out_n;
    }
    if (p < end) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "lz4_frame: %lld undecodable bytes at the end",
                          (long long)(end - p));
        goto done;
    }
    if (hint != 0) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "lz4_frame: truncated frame (%lld of %lld bytes)",
                          (long long)produced, (long long)dst_len);
        goto done;
    }
    if (produced != dst_len) st = size_mismatch(err, "lz4_frame", produced, dst_len);
done:
    LZ4F_freeDecompressionContext(dctx);
    return st;
}

/* ---------------------------------------------------------------- brotli */

static pl_status brotli_decompress(const uint8_t *src, int64_t src_len, uint8_t *dst,
                                   int64_t dst_len, pl_error *err) {
    BrotliDecoderState *s = BrotliDecoderCreateInstance(NULL, NULL, NULL);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "brotli: cannot create a decoder");
    size_t avail_in = (size_t)src_len, avail_out = (size_t)dst_len;
    const uint8_t *next_in = src;
    uint8_t *next_out = dst;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
    pl_status st = PL_OK;
    if (r == BROTLI_DECODER_RESULT_ERROR) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "brotli: %s",
                          BrotliDecoderErrorString(BrotliDecoderGetErrorCode(s)));
    } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
        st = too_large(err, "brotli", dst_len);
    } else if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "brotli: truncated stream (%lld of %lld bytes)",
                          (long long)(dst_len - (int64_t)avail_out), (long long)dst_len);
    } else if (avail_in != 0) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "brotli: %lld unexpected bytes after the stream",
                          (long long)avail_in);
    } else if (avail_out != 0) {
        st = size_mismatch(err, "brotli", dst_len - (int64_t)avail_out, dst_len);
    }
    BrotliDecoderDestroyInstance(s);
    return st;
}

/* ---------------------------------------------------------------- dispatch */

pl_status pl_codec_decompress(pl_codec codec, const uint8_t *src, int64_t src_len, uint8_t *dst,
                              int64_t dst_len, pl_error *err) {
    if (src_len < 0 || dst_len < 0 || (src_len > 0 && !src) || (dst_len > 0 && !dst))
        PL_FAIL(err, PL_ERR_INVALID_ARG, "codec: invalid buffer arguments");
    switch (codec) {
    case PL_CODEC_UNCOMPRESSED:
        if (src_len != dst_len) return size_mismatch(err, "uncompressed", src_len, dst_len);
        if (dst_len) memcpy(dst, src, (size_t)dst_len);
        return PL_OK;
    case PL_CODEC_SNAPPY: return snappy_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_GZIP: return gzip_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_LZ4_RAW: return lz4_raw_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_LZ4_FRAME: return lz4_frame_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_LZ4_HADOOP: return lz4_hadoop_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_ZSTD: return zstd_decompress(src, src_len, dst, dst_len, err);
    case PL_CODEC_DEFAULT: /* a writer option, resolved by each format: not a codec */
        break;
    case PL_CODEC_BROTLI: return brotli_decompress(src, src_len, dst, dst_len, err);
    }
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "unknown compression codec %d", (int)codec);
}

int64_t pl_codec_max_compressed(pl_codec codec, int64_t n) {
    if (n < 0) return 0;
    switch (codec) {
    case PL_CODEC_UNCOMPRESSED: return n;
    case PL_CODEC_SNAPPY: return (int64_t)snappy_max_compressed_length((size_t)n);
    case PL_CODEC_GZIP: return (int64_t)compressBound((uLong)n) + PL_GZIP_HEADER_SLACK + n / 1000;
    case PL_CODEC_LZ4_RAW: return n > LZ4_MAX_INPUT_SIZE ? 0 : LZ4_compressBound((int)n);
    case PL_CODEC_LZ4_HADOOP:
        return n > LZ4_MAX_INPUT_SIZE ? 0 : PL_HADOOP_HEADER_BYTES + LZ4_compressBound((int)n);
    case PL_CODEC_LZ4_FRAME: {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof prefs);
        prefs.frameInfo.contentSize = (unsigned long long)n;
        return (int64_t)LZ4F_compressFrameBound((size_t)n, &prefs);
    }
    case PL_CODEC_ZSTD: return (int64_t)ZSTD_compressBound((size_t)n);
    case PL_CODEC_DEFAULT: /* a writer option, resolved by each format: not a codec */
        break;
    case PL_CODEC_BROTLI: {
        size_t b = BrotliEncoderMaxCompressedSize((size_t)n);
        return b ? (int64_t)b : n + (n >> 2) + 1024;
    }
    }
    return 0;
}

static pl_status gzip_compress(int32_t level, const uint8_t *src, int64_t n, uint8_t *dst,
                               int64_t dst_cap, int64_t *out_len, pl_error *err) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level ? level : PL_GZIP_DEFAULT_LEVEL, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        PL_FAIL(err, PL_ERR_INTERNAL, "gzip: deflateInit failed (level %d)", (int)level);
    const uint8_t *in = src, *in_end = src + n;
    int64_t produced = 0;
    pl_status st = PL_OK;
    for (;;) {
        if (zs.avail_in == 0 && in < in_end) {
            int64_t k = PL_MIN((int64_t)PL_ZLIB_CHUNK, (int64_t)(in_end - in));
            zs.next_in = (Bytef *)(uintptr_t)in;
            zs.avail_in = (uInt)k;
            in += k;
        }
        if (produced == dst_cap) {
            st = pl_error_set(err, PL_ERR_INTERNAL, "gzip: output buffer too small");
            break;
        }
        zs.next_out = dst + produced;
        zs.avail_out = (uInt)PL_MIN((int64_t)PL_ZLIB_CHUNK, dst_cap - produced);
        uInt before = zs.avail_out;
        int rc = deflate(&zs, in == in_end ? Z_FINISH : Z_NO_FLUSH);
        produced += before - zs.avail_out;
        if (rc == Z_STREAM_END) break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            st = pl_error_set(err, PL_ERR_INTERNAL, "gzip: deflate failed (%d)", rc);
            break;
        }
    }
    deflateEnd(&zs);
    if (st == PL_OK) *out_len = produced;
    return st;
}

pl_status pl_codec_compress(pl_codec codec, int32_t level, const uint8_t *src, int64_t n,
                            uint8_t *dst, int64_t dst_cap, int64_t *out_len, pl_error *err) {
    if (n < 0 || (n > 0 && !src) || !dst || dst_cap < pl_codec_max_compressed(codec, n))
        PL_FAIL(err, PL_ERR_INVALID_ARG, "%s: output capacity %lld below the bound for %lld bytes",
                pl_codec_name(codec), (long long)dst_cap, (long long)n);
    static const uint8_t empty[1] = {0};
    if (!src) src = empty;
    switch (codec) {
    case PL_CODEC_UNCOMPRESSED:
        if (n) memcpy(dst, src, (size_t)n);
        *out_len = n;
        return PL_OK;
    case PL_CODEC_SNAPPY: {
        size_t len = (size_t)dst_cap;
        if (snappy_compress((const char *)src, (size_t)n, (char *)dst, &len) != SNAPPY_OK)
            PL_FAIL(err, PL_ERR_INTERNAL, "snappy: compression failed");
        *out_len = (int64_t)len;
        return PL_OK;
    }
    case PL_CODEC_GZIP: return gzip_compress(level, src, n, dst, dst_cap, out_len, err);
    case PL_CODEC_LZ4_RAW:
    case PL_CODEC_LZ4_HADOOP: {
        if (n > LZ4_MAX_INPUT_SIZE)
            PL_FAIL(err, PL_ERR_UNSUPPORTED, "lz4: block of %lld bytes is too large", (long long)n);
        int64_t hdr = codec == PL_CODEC_LZ4_HADOOP ? PL_HADOOP_HEADER_BYTES : 0;
        int cap = (int)PL_MIN(dst_cap - hdr, (int64_t)INT32_MAX);
        int r = LZ4_compress_default((const char *)src, (char *)dst + hdr, (int)n, cap);
        if (r <= 0 && n > 0) PL_FAIL(err, PL_ERR_INTERNAL, "lz4: compression failed");
        if (hdr) {
            store_u32be(dst, (uint32_t)n);
            store_u32be(dst + 4, (uint32_t)r);
        }
        *out_len = hdr + r;
        return PL_OK;
    }
    case PL_CODEC_LZ4_FRAME: {
        LZ4F_preferences_t prefs;
        memset(&prefs, 0, sizeof prefs);
        prefs.frameInfo.contentSize = (unsigned long long)n;
        prefs.compressionLevel = level;
        size_t r = LZ4F_compressFrame(dst, (size_t)dst_cap, src, (size_t)n, &prefs);
        if (LZ4F_isError(r))
            PL_FAIL(err, PL_ERR_INTERNAL, "lz4_frame: %s", LZ4F_getErrorName(r));
        *out_len = (int64_t)r;
        return PL_OK;
    }
    case PL_CODEC_ZSTD: {
        ZSTD_CCtx *cctx = zstd_cctx();
        if (!cctx) PL_FAIL(err, PL_ERR_NOMEM, "zstd: out of memory creating a context");
        size_t r = ZSTD_compressCCtx(cctx, dst, (size_t)dst_cap, src, (size_t)n,
                                     level ? level : PL_ZSTD_DEFAULT_LEVEL);
        if (ZSTD_isError(r)) PL_FAIL(err, PL_ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(r));
        *out_len = (int64_t)r;
        return PL_OK;
    }
    case PL_CODEC_DEFAULT: /* a writer option, resolved by each format: not a codec */
        break;
    case PL_CODEC_BROTLI: {
        size_t len = (size_t)dst_cap;
        if (!BrotliEncoderCompress(level ? level : PL_BROTLI_DEFAULT_LEVEL, BROTLI_DEFAULT_WINDOW,
                                   BROTLI_DEFAULT_MODE, (size_t)n, src, &len, dst))
            PL_FAIL(err, PL_ERR_INTERNAL, "brotli: compression failed");
        *out_len = (int64_t)len;
        return PL_OK;
    }
    }
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "unknown compression codec %d", (int)codec);
}

/* ---------------------------------------------------------------- whole streams */

pl_codec pl_codec_sniff_stream(const uint8_t *src, int64_t n) {
    if (n >= 2 && src[0] == 0x1f && src[1] == 0x8b) return PL_CODEC_GZIP;
    if (n >= 4 && src[0] == 0x28 && src[1] == 0xb5 && src[2] == 0x2f && src[3] == 0xfd)
        return PL_CODEC_ZSTD;
    return PL_CODEC_UNCOMPRESSED;
}

/* ---------------------------------------------------------------- incremental streams */

struct pl_codec_stream {
    pl_codec codec;
    z_stream zs;        /* gzip */
    bool zs_live;
    ZSTD_DStream *zd;   /* zstd */
    size_t zd_last;     /* ZSTD_decompressStream's last hint: 0 at a frame end */
    int64_t n_in;       /* compressed bytes consumed so far (error offsets) */
    bool between;       /* gzip: a member ended; another member, zero padding or the end follows */
    bool padding;       /* gzip: zero bytes follow the last member */
};

pl_status pl_codec_stream_new(pl_codec codec, pl_codec_stream **out, pl_error *err) {
    *out = NULL;
    if (codec != PL_CODEC_GZIP && codec != PL_CODEC_ZSTD)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "whole-file %s compression is not supported",
                pl_codec_name(codec));
    pl_codec_stream *s = pl_calloc(1, sizeof *s);
    if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    s->codec = codec;
    if (codec == PL_CODEC_GZIP) {
        if (inflateInit2(&s->zs, 16 + MAX_WBITS) != Z_OK) {
            pl_free(s);
            PL_FAIL(err, PL_ERR_NOMEM, "gzip: inflateInit failed");
        }
        s->zs_live = true;
    } else {
        s->zd = ZSTD_createDStream();
        if (!s->zd) {
            pl_free(s);
            PL_FAIL(err, PL_ERR_NOMEM, "zstd: out of memory");
        }
    }
    *out = s;
    return PL_OK;
}

void pl_codec_stream_free(pl_codec_stream *s) {
    if (!s) return;
    if (s->zs_live) inflateEnd(&s->zs);
    ZSTD_freeDStream(s->zd);
    pl_free(s);
}

int64_t pl_codec_stream_offset(const pl_codec_stream *s) { return s ? s->n_in : 0; }

/* gzip: what follows a member's end at in (n bytes, `last` when no more input comes). */
static pl_status gzip_between(pl_codec_stream *s, const uint8_t *in, int64_t n, bool last,
                              int64_t *n_read, pl_error *err) {
    int64_t k = 0;
    if (s->padding || (n > 0 && in[0] == 0)) {
        s->padding = true; /* trailing zero padding, to the end */
        while (k < n && in[k] == 0) k++;
        *n_read += k;
        s->n_in += k;
        if (k < n)
            PL_FAIL(err, PL_ERR_CORRUPT, "garbage after the gzip data at byte %lld",
                    (long long)s->n_in);
        return PL_OK;
    }
    if (n < 2) {
        if (last && n > 0)
            PL_FAIL(err, PL_ERR_CORRUPT, "garbage after the gzip data at byte %lld",
                    (long long)s->n_in);
        return PL_OK; /* the end, or wait for the next bytes */
    }
    if (in[0] != 0x1f || in[1] != 0x8b)
        PL_FAIL(err, PL_ERR_CORRUPT, "garbage after the gzip data at byte %lld",
                (long long)s->n_in);
    if (inflateReset(&s->zs) != Z_OK) PL_FAIL(err, PL_ERR_INTERNAL, "gzip: inflateReset failed");
    s->between = false;
    return PL_OK;
}

static pl_status gzip_run(pl_codec_stream *s, const uint8_t *in, int64_t n, bool last,
                          int64_t *n_read, uint8_t *out, int64_t cap, int64_t *n_written,
                          bool *done, pl_error *err) {
    for (;;) {
        if (s->between) {
            PL_TRY(gzip_between(s, in + *n_read, n - *n_read, last, n_read, err));
            if (s->between) { /* the end, or waiting for the next bytes */
                *done = last && *n_read == n;
                return PL_OK;
            }
        }
        if (*n_written == cap) return PL_OK;
        uInt avail_in = (uInt)PL_MIN((int64_t)PL_ZLIB_CHUNK, n - *n_read);
        uInt avail_out = (uInt)PL_MIN((int64_t)PL_ZLIB_CHUNK, cap - *n_written);
        s->zs.next_in = (Bytef *)(uintptr_t)(in + *n_read);
        s->zs.avail_in = avail_in;
        s->zs.next_out = out + *n_written;
        s->zs.avail_out = avail_out;
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        int64_t used = (int64_t)(avail_in - s->zs.avail_in);
        int64_t made = (int64_t)(avail_out - s->zs.avail_out);
        *n_read += used;
        *n_written += made;
        s->n_in += used;
        if (rc == Z_STREAM_END) {
            s->between = true; /* another member may follow (gzip files may be concatenated) */
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            PL_FAIL(err, PL_ERR_CORRUPT, "corrupt gzip data near byte %lld (%s)",
                    (long long)s->n_in, s->zs.msg ? s->zs.msg : "inflate failed");
        if (used || made) continue;
        if (*n_read < n) PL_FAIL(err, PL_ERR_CORRUPT, "corrupt gzip data near byte %lld",
                                 (long long)s->n_in);
        if (last)
            PL_FAIL(err, PL_ERR_CORRUPT, "the gzip data ends early at byte %lld (truncated file?)",
                    (long long)s->n_in);
        return PL_OK; /* needs more input */
    }
}

static pl_status zstd_run(pl_codec_stream *s, const uint8_t *in, int64_t n, bool last,
                          int64_t *n_read, uint8_t *out, int64_t cap, int64_t *n_written,
                          bool *done, pl_error *err) {
    for (;;) {
        ZSTD_inBuffer ib = {in + *n_read, (size_t)(n - *n_read), 0};
        ZSTD_outBuffer ob = {out + *n_written, (size_t)(cap - *n_written), 0};
        size_t rc = ZSTD_decompressStream(s->zd, &ob, &ib);
        *n_read += (int64_t)ib.pos;
        *n_written += (int64_t)ob.pos;
        s->n_in += (int64_t)ib.pos;
        if (ZSTD_isError(rc))
            PL_FAIL(err, PL_ERR_CORRUPT, "corrupt zstd data near byte %lld (%s)",
                    (long long)s->n_in, ZSTD_getErrorName(rc));
        if (ib.pos || ob.pos) s->zd_last = rc; /* a call without progress hints at a new frame */
        if (*n_read == n && ob.pos < ob.size) { /* all input read, output flushed */
            if (!last) return PL_OK;
            if (s->zd_last != 0)
                PL_FAIL(err, PL_ERR_CORRUPT,
                        "the zstd data ends early at byte %lld (truncated file?)",
                        (long long)s->n_in);
            *done = true;
            return PL_OK;
        }
        if (*n_written == cap) return PL_OK;
        if (ib.pos == 0 && ob.pos == 0) return PL_OK; /* needs more input */
    }
}

pl_status pl_codec_stream_run(pl_codec_stream *s, const uint8_t *in, int64_t n, bool last,
                              int64_t *n_read, uint8_t *out, int64_t cap, int64_t *n_written,
                              bool *done, pl_error *err) {
    *n_read = *n_written = 0;
    *done = false;
    return s->codec == PL_CODEC_GZIP
               ? gzip_run(s, in, n, last, n_read, out, cap, n_written, done, err)
               : zstd_run(s, in, n, last, n_read, out, cap, n_written, done, err);
}

pl_status pl_codec_decompress_stream(pl_codec codec, const uint8_t *src, int64_t n, int64_t max_out, pl_buf **out, pl_error *err) {
    *out = NULL;
    pl_codec_stream *cs = NULL;
    PL_TRY(pl_codec_stream_new(codec, &cs, err));
    pl_buf *b = NULL;
    pl_status st = pl_buf_new(0, &b, err);
    int64_t at = 0;
    bool done = false;
    while (!st && !done) {
        if (b->capacity - b->size < ((int64_t)1 << 16))
            st = pl_buf_reserve(b, b->capacity ? b->capacity * 2 : (int64_t)1 << 20, err);
        if (st) break;
        int64_t used, made;
        st = pl_codec_stream_run(cs, src + at, n - at, true, &used, b->data + b->size,
                                 b->capacity - b->size, &made, &done, err);
        at += used;
        b->size += made;
        if (!st && max_out > 0 && b->size > max_out)
            st = pl_error_set(err, PL_ERR_LIMIT, "decompresses to more than %lld bytes",
                              (long long)max_out);
        if (!st && !done && !used && !made)
            st = pl_error_set(err, PL_ERR_INTERNAL, "the %s decoder made no progress",
                              pl_codec_name(codec));
    }
    pl_codec_stream_free(cs);
    if (st) {
        pl_buf_release(b);
        return st;
    }
    *out = b;
    return PL_OK;
}
