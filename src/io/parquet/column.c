/* column.c - decodes one column chunk (one leaf of one row group): reads the chunk's bytes
 * (pread into per-worker scratch, or straight from memory), walks its pages, decompresses
 * them, decodes repetition/definition levels and values.
 *
 * Flat leaves (top-level, no repetition) are decoded slot-aligned: values of a page are
 * decoded densely at the page's first row, then spread backwards over the null slots, so no
 * second buffer is needed. Other leaves keep dense values plus level arrays for assembly.
 * Output buffers are sized from the metadata (num_values) when the chunk's size makes that
 * plausible, so a decoded column is allocated once. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "io/codecs/codec.h"
#include "pq_int.h"

/* Upfront allocations trusted from metadata: up to this many bytes, or more if the chunk's
 * compressed size makes it plausible (a bound against allocation bombs in bad files). */
#define PQ_PREALLOC_MIN_BYTES (64LL << 20)
#define PQ_PREALLOC_RATIO 64
/* the page size of fill regions (pl_fill_copy) */
#define PQ_FILL_PAGE 4096
/* how far the chunk window grows when pages run past a chunk's recorded size */
#define PQ_GROW_BYTES (64 * 1024)

void pl_pq_leaf_data_reset(pl_pq_leaf_data *d) {
    pl_free(d->def);
    pl_free(d->rep);
    pl_buf_release(d->validity);
    pl_pq_sink_reset(&d->sink);
    pl_array_release(d->dict);
    memset(d, 0, sizeof *d);
}

bool pl_pq_codec_mapped(pl_codec codec) {
    return codec == PL_CODEC_UNCOMPRESSED || codec == PL_CODEC_SNAPPY ||
           codec == PL_CODEC_LZ4_RAW || codec == PL_CODEC_LZ4_HADOOP;
}

/* The chunk bytes [off, off+len) of src: in place for memory sources and (mapped) from the
 * file's mapping, else read with pread into the worker's scratch. */
static pl_status source_read(const pl_pq_source *src, bool mapped, int64_t off, int64_t len,
                             pl_pq_scratch *scr, const uint8_t **out, pl_error *err) {
    if (off < 0 || len < 0 || off > src->size || len > src->size - off) {
        if (err && err->byte_offset < 0) err->byte_offset = off;
        PL_FAIL(err, PL_ERR_CORRUPT, "column chunk of %lld bytes at offset %lld extends past the "
                "end of the file (%lld bytes)", (long long)len, (long long)off,
                (long long)src->size);
    }
    if (src->mem || (mapped && src->map)) {
        *out = (src->mem ? src->mem : src->map) + off;
        return PL_OK;
    }
    uint8_t *buf = pl_pq_scratch_get(&scr->chunk, &scr->chunk_cap, len);
    if (!buf) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading %lld bytes", (long long)len);
    int64_t done = 0;
    while (done < len) {
        ssize_t r = pread(src->fd, buf + done, (size_t)(len - done), (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            PL_FAIL(err, PL_ERR_IO, "read failed: %s", strerror(errno));
        }
        if (r == 0) PL_FAIL(err, PL_ERR_IO, "unexpected end of file at offset %lld",
                            (long long)(off + done));
        done += r;
    }
    *out = buf;
    return PL_OK;
}

/* ---------------------------------------------------------------- levels */

/* The RLE levels of a v1 page at *p: [*run, *run_end) after their 4-byte length. */
static pl_status rle_section(const uint8_t *p, const uint8_t *end, const uint8_t **run,
                             const uint8_t **run_end, pl_error *err) {
    if (end - p < 4) PL_FAIL(err, PL_ERR_CORRUPT, "truncated level length");
    uint32_t len = pl_load_u32le(p);
    p += 4;
    if (len > (uint64_t)(end - p))
        PL_FAIL(err, PL_ERR_CORRUPT, "levels of %u bytes but the page has %lld left", len,
                (long long)(end - p));
    *run = p;
    *run_end = p + len;
    return PL_OK;
}

/* Decodes n levels of a v1 page section (RLE with a 4-byte length, or BIT_PACKED); advances
 * *pp past them. */
static pl_status levels_v1(const uint8_t **pp, const uint8_t *end, int32_t encoding, int max,
                           uint8_t *out, int64_t n, pl_error *err) {
    int bw = pl_pq_bit_width((uint32_t)max);
    const uint8_t *p = *pp;
    if (encoding == PL_PQ_ENC_BIT_PACKED) {
        int64_t need = (n * bw + 7) / 8;
        PL_TRY(pl_pq_bitpacked_levels(p, end, bw, out, n, err));
        *pp = p + need;
        return PL_OK;
    }
    if (encoding != PL_PQ_ENC_RLE)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "level encoding %s is not supported",
                pl_pq_encoding_name(encoding));
    const uint8_t *run, *run_end;
    PL_TRY(rle_section(p, end, &run, &run_end, err));
    PL_TRY(pl_pq_rle_u8(run, run_end, bw, out, n, err));
    *pp = run_end;
    return PL_OK;
}

static pl_status check_levels(const uint8_t *lv, int64_t n, int max, const char *what,
                              pl_error *err) {
    uint8_t mx = 0;
    for (int64_t i = 0; i < n; i++) mx = lv[i] > mx ? lv[i] : mx;
    if (mx > max)
        PL_FAIL(err, PL_ERR_CORRUPT, "%s level %d exceeds the maximum %d", what, mx, max);
    return PL_OK;
}

/* ---------------------------------------------------------------- spreading (flat) */

/* Dense values [pos, pos+k) -> slots [pos, pos+n) following the validity bits at pos. */
static void spread(pl_pq_sink *s, const uint8_t *valid, int64_t pos, int64_t n, int64_t k) {
    if (k == n) return;
    int64_t j = k;
    if (s->conv == PL_PQ_CONV_VARLEN) {
        int32_t *off = (int32_t *)(void *)s->values->data + pos;
        for (int64_t i = n - 1; i >= 0; i--) {
            off[i + 1] = off[j];
            if (pl_bit_get(valid, pos + i)) j--;
        }
        return;
    }
    if (s->conv == PL_PQ_CONV_BOOL) {
        uint8_t *bits = s->values->data;
        for (int64_t i = n - 1; i >= 0; i--) {
            if (pl_bit_get(valid, pos + i)) {
                j--;
                pl_bit_put(bits, pos + i, pl_bit_get(bits, pos + j));
            } else {
                pl_bit_clear(bits, pos + i);
            }
        }
        return;
    }
    int64_t w = s->width;
    uint8_t *base = s->values->data + pos * w;
    if (w == 8) {
        uint64_t *v = (uint64_t *)(void *)base;
        for (int64_t i = n - 1; i >= 0; i--) {
            if (pl_bit_get(valid, pos + i)) v[i] = v[--j];
            else v[i] = 0;
        }
    } else if (w == 4) {
        uint32_t *v = (uint32_t *)(void *)base;
        for (int64_t i = n - 1; i >= 0; i--) {
            if (pl_bit_get(valid, pos + i)) v[i] = v[--j];
            else v[i] = 0;
        }
    } else {
        for (int64_t i = n - 1; i >= 0; i--) {
            if (pl_bit_get(valid, pos + i)) memmove(base + i * w, base + (--j) * w, (size_t)w);
            else memset(base + i * w, 0, (size_t)w);
        }
    }
}

/* ---------------------------------------------------------------- pages */

/* match mode skips a dictionary-encoded page when its statistics show that none of at most
 * this many passing dictionary values can be in it */
#define PQ_PAGE_STATS_MAX_PASS 16

typedef struct chunk_state {
    const pl_pq_chunk_ctx *c;
    pl_pq_scratch *scr;
    pl_pq_leaf_data *out;
    pl_pq_dict dict;
    bool have_dict;
    pl_pq_sink extra; /* keep-dictionary mode: values of non-dictionary pages, appended to the
                         dictionary (a dictionary need not hold distinct values) */
    int64_t n_total;   /* level entries expected */
    int64_t done;      /* level entries decoded */
    int64_t bits_done; /* flat: validity bits written for entries [0, bits_done) */
    /* selective reads (c->sel): the next selected row, validity bits written for output
     * slots [0, obits_done), and the dense values of pages decoded whole (fallback) */
    int64_t sel_pos;
    int64_t obits_done;
    pl_pq_sink tmp;
    /* match mode: which dictionary values pass (dict.n + 1 entries, the last for NULL), the
     * passing rows so far, and whether every data page was dictionary-encoded */
    uint8_t *pass;
    int32_t n_pass;                    /* passing non-NULL dictionary values, -1 = many */
    int32_t pass_idx[PQ_PAGE_STATS_MAX_PASS];
    int32_t *msel;
    int64_t n_msel;
    bool not_dict;
    /* a values view in a fill region (pl_pq_prealloc.fill): while the chunk is decoded its
     * data pointer is the staging buffer, fill_real its pages; fill_view holds a reference of
     * its own, so it stays valid even when the sink moves to an owned buffer */
    pl_buf *fill_view;
    uint8_t *fill_real;
    int64_t fill_done; /* bytes of the view's pages filled already (a multiple of 4 KiB) */
} chunk_state;

static pl_status check_page_size(chunk_state *cs, int64_t dst_len, pl_error *err) {
    if (dst_len < 0 || dst_len > PL_PQ_MAX_PAGE_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "page of %lld bytes exceeds the limit", (long long)dst_len);
    /* a page cannot be larger than its chunk (bounds allocations for corrupt headers) */
    if (dst_len > PL_MAX(cs->c->cc->total_uncompressed_size, PQ_PREALLOC_MIN_BYTES))
        PL_FAIL(err, PL_ERR_CORRUPT, "page of %lld bytes in a chunk of %lld bytes",
                (long long)dst_len, (long long)cs->c->cc->total_uncompressed_size);
    return PL_OK;
}

static pl_status decompress(chunk_state *cs, const uint8_t *src, int64_t src_len, int64_t dst_len,
                            const uint8_t **out, pl_error *err) {
    PL_TRY(check_page_size(cs, dst_len, err));
    uint8_t *dst = pl_pq_scratch_get(&cs->scr->page, &cs->scr->page_cap, dst_len);
    if (!dst) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a %lld-byte page", (long long)dst_len);
    PL_TRY(pl_codec_decompress(cs->c->cc->codec, src, src_len, dst, dst_len, err));
    *out = dst;
    return PL_OK;
}

static pl_status match_dict(chunk_state *cs, pl_error *err);

static pl_status dict_page_decode(chunk_state *cs, const pl_pq_page_header *h,
                                  const uint8_t *body, pl_error *err);

/* The cache holds only a chunk's first dictionary page (a later one replaces it). */
static bool dict_cacheable(const chunk_state *cs) {
    return cs->c->dict_cache && !cs->c->keep_dict && !cs->have_dict && cs->done == 0;
}

/* Makes the cached dictionary cs->dict (shared, read-only). */
static void use_cached(chunk_state *cs, const pl_pq_dict *d) {
    pl_pq_dict_reset(&cs->dict);
    cs->dict = *d;
    cs->dict.shared = true;
    cs->dict.borrowed = false;
    cs->have_dict = true;
}

static pl_status dict_page(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                           pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    if (c->keep_dict && (cs->have_dict || cs->extra.n > 0 || cs->out->sink.n > 0))
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary page after data pages");
    bool cacheable = dict_cacheable(cs);
    const pl_pq_dict *hit = cacheable ? pl_pq_dict_cache_get(c->dict_cache, c->rg, c->leaf_index)
                                      : NULL;
    if (hit) {
        use_cached(cs, hit);
    } else {
        PL_TRY(dict_page_decode(cs, h, body, err));
        if (cacheable) {
            const pl_pq_dict *d = pl_pq_dict_cache_put(c->dict_cache, c->rg, c->leaf_index, &cs->dict);
            if (d) use_cached(cs, d);
        }
    }
    return c->match_fn ? match_dict(cs, err) : PL_OK;
}

static pl_status dict_page_decode(chunk_state *cs, const pl_pq_page_header *h,
                                  const uint8_t *body, pl_error *err) {
    const pl_pq_leaf_desc *leaf = cs->c->leaf;
    if (h->encoding != PL_PQ_ENC_PLAIN && h->encoding != PL_PQ_ENC_PLAIN_DICTIONARY)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "dictionary page encoding %s is not supported",
                pl_pq_encoding_name(h->encoding));
    bool compressed = cs->c->cc->codec != PL_CODEC_UNCOMPRESSED;
    int64_t len = compressed ? h->uncompressed_size : h->compressed_size;
    int64_t w = leaf->phys_width;
    if (leaf->conv == PL_PQ_CONV_NONE && w > 0 && w == leaf->out_width) {
        /* fixed-width values as stored: the page itself becomes the dictionary (decompressed
         * straight into it, no copies) */
        PL_TRY(check_page_size(cs, len, err));
        if (h->num_values < 0 || h->num_values > len / w)
            PL_FAIL(err, PL_ERR_CORRUPT, "page too short: a dictionary of %d values needs %lld "
                    "bytes, %lld available", h->num_values, (long long)h->num_values * w,
                    (long long)len);
        pl_pq_dict_reset(&cs->dict);
        /* 32 bytes of slack: over-reads, and the NULL slot of match mode */
        uint8_t *v = pl_pq_scratch_get(&cs->scr->dict, &cs->scr->dict_cap, len + 32);
        if (!v) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a %lld-byte dictionary",
                        (long long)len);
        if (compressed)
            PL_TRY(pl_codec_decompress(cs->c->cc->codec, body, h->compressed_size, v, len, err));
        else memcpy(v, body, (size_t)len);
        cs->dict.borrowed = true;
        cs->dict.values = v;
        cs->dict.n = h->num_values;
        cs->dict.width = (int32_t)w;
        cs->have_dict = true;
        return PL_OK;
    }
    const uint8_t *p = body;
    if (compressed) PL_TRY(decompress(cs, body, h->compressed_size, h->uncompressed_size, &p, err));
    PL_TRY(pl_pq_decode_dict(leaf, p, p + len, h->num_values, &cs->dict, cs->scr, err));
    cs->have_dict = true;
    return PL_OK;
}

static bool is_dict_enc(int32_t e) {
    return e == PL_PQ_ENC_PLAIN_DICTIONARY || e == PL_PQ_ENC_RLE_DICTIONARY;
}

/* k dictionary indices from a dictionary-encoded page's values [p, end) (a bit width byte,
 * then RLE/bit-packed runs) into out. */
static pl_status dict_idx_decode(const uint8_t *p, const uint8_t *end, uint32_t *out, int64_t k,
                                 pl_error *err) {
    if (p >= end) PL_FAIL(err, PL_ERR_CORRUPT, "missing dictionary index bit width");
    int bw = *p++;
    if (bw > 32) PL_FAIL(err, PL_ERR_CORRUPT, "invalid dictionary index bit width %d", bw);
    return pl_pq_rle_u32(p, end, bw, out, k, err);
}

/* Every one of the k indices is below the dictionary's size n. Not inlined: on its own the
 * max loop is vectorised (inlined into pl_pq_read_chunk it became a scalar cmov chain,
 * ~3% of a per-symbol aggregate's CPU). */
static __attribute__((noinline)) pl_status dict_idx_check(const uint32_t *idx, int64_t k, int64_t n, pl_error *err) {
    uint32_t mx = 0;
    for (int64_t i = 0; i < k; i++) mx = idx[i] > mx ? idx[i] : mx;
    if ((int64_t)mx >= n)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %u out of range (size %lld)", mx,
                (long long)n);
    return PL_OK;
}

/* keep-dictionary mode: indices straight into the int32 sink */
static pl_status dict_indices(chunk_state *cs, const uint8_t *p, const uint8_t *end, int64_t k,
                              pl_error *err) {
    pl_pq_sink *s = &cs->out->sink;
    if (!cs->have_dict)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary-encoded page without a dictionary page");
    PL_TRY(pl_pq_sink_reserve(s, k, 0, err));
    if (k == 0) return PL_OK;
    uint32_t *o = (uint32_t *)(void *)(s->values->data) + s->n;
    PL_TRY(dict_idx_decode(p, end, o, k, err));
    PL_TRY(dict_idx_check(o, k, cs->dict.n, err));
    s->n += k;
    return PL_OK;
}

/* True when the RLE/bit-packed def levels (bit width 1) of n entries are one run of 1s. */
static bool all_valid_run(const uint8_t *p, const uint8_t *end, int64_t n) {
    uint64_t h = 0;
    int shift = 0;
    while (p < end && shift < 64) {
        uint8_t b = *p++;
        h |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) return !(h & 1) && (h >> 1) >= (uint64_t)n && p < end && (*p & 1);
    }
    return false;
}

/* Entries [bits_done, done) were all valid and their bits not yet written. */
static void materialize_bits(chunk_state *cs, uint8_t *bits) {
    if (cs->bits_done < cs->done)
        pl_pq_bits_fill(bits, cs->bits_done, cs->done - cs->bits_done, true);
    cs->bits_done = cs->done;
}

/* The sections of a data page: values [p, end) (decompressed), and for v2 pages the level
 * sections (stored uncompressed); v1 levels are at the start of [p, end). */
typedef struct page_sec {
    const uint8_t *p, *end, *rep_p, *rep_end, *def_p, *def_end;
} page_sec;

static pl_status page_open(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                           page_sec *ps, pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    bool v2 = h->type == PL_PQ_PAGE_DATA_V2;
    bool compressed = c->cc->codec != PL_CODEC_UNCOMPRESSED;
    memset(ps, 0, sizeof *ps);
    if (!v2) {
        ps->p = body;
        int64_t len = h->compressed_size;
        if (compressed) {
            PL_TRY(decompress(cs, body, h->compressed_size, h->uncompressed_size, &ps->p, err));
            len = h->uncompressed_size;
        }
        ps->end = ps->p + len;
    } else {
        int64_t lv = (int64_t)h->rep_bytes + h->def_bytes;
        if (lv > h->compressed_size || lv > h->uncompressed_size)
            PL_FAIL(err, PL_ERR_CORRUPT, "page levels of %lld bytes exceed the page size",
                    (long long)lv);
        ps->rep_p = body;
        ps->rep_end = ps->def_p = body + h->rep_bytes;
        ps->def_end = body + lv;
        ps->p = ps->def_end;
        int64_t len = h->compressed_size - lv;
        if (compressed && h->is_compressed && h->uncompressed_size - lv > 0) {
            PL_TRY(decompress(cs, ps->p, len, h->uncompressed_size - lv, &ps->p, err));
            len = h->uncompressed_size - lv;
        } else if (compressed && h->is_compressed) {
            len = 0;
        }
        ps->end = ps->p + len;
    }
    return PL_OK;
}

/* The def levels of a flat leaf's data page as one RLE/bit-packed run [*lp, *lend): a v2
 * page's level section, or a v1 page's RLE section (4-byte length; *pp moves past it). Both
 * NULL for a v1 page with other level encodings (flat_def_bits decodes them from *pp). */
static pl_status flat_def_run(const pl_pq_page_header *h, const page_sec *ps, const uint8_t **pp,
                              const uint8_t **lp, const uint8_t **lend, pl_error *err) {
    const uint8_t *run = NULL, *run_end = NULL;
    if (h->type == PL_PQ_PAGE_DATA_V2) {
        run = ps->def_p;
        run_end = ps->def_end;
    } else if (h->def_encoding == PL_PQ_ENC_RLE) {
        PL_TRY(rle_section(*pp, ps->end, &run, &run_end, err));
        *pp = run_end;
    }
    *lp = run;
    *lend = run_end;
    return PL_OK;
}

/* The validity of a flat leaf's n entries from their def levels (the run [lp, lend) of
 * flat_def_run, or else v1 levels at *pp, which moves past them) into bits [off, off+n);
 * *k the count of valid entries. */
static pl_status flat_def_bits(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *lp,
                               const uint8_t *lend, const uint8_t **pp, const uint8_t *end,
                               uint8_t *bits, int64_t off, int64_t n, int64_t *k, pl_error *err) {
    if (lp) return pl_pq_rle_bits(lp, lend, bits, off, n, k, err);
    uint8_t *lv = pl_pq_scratch_get(&cs->scr->lv, &cs->scr->lv_cap, n);
    if (!lv) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for levels");
    PL_TRY(levels_v1(pp, end, h->def_encoding, cs->c->leaf->max_def, lv, n, err));
    int64_t valid = 0;
    for (int64_t i = 0; i < n; i++) {
        pl_bit_put(bits, off + i, lv[i] != 0);
        valid += lv[i] != 0;
    }
    *k = valid;
    return PL_OK;
}

/* The validity of a flat page's n entries for the selective and match modes: *bits NULL when
 * every entry is valid (or the leaf has no def levels), else scratch bits from 0; *k the count
 * of valid entries. *pp moves past v1 levels. */
static pl_status flat_def_scratch(chunk_state *cs, const pl_pq_page_header *h, const page_sec *ps,
                                  const uint8_t **pp, int64_t n, const uint8_t **bits, int64_t *k,
                                  pl_error *err) {
    *bits = NULL;
    *k = n;
    if (cs->c->leaf->max_def == 0) return PL_OK;
    const uint8_t *lp, *lend;
    PL_TRY(flat_def_run(h, ps, pp, &lp, &lend, err));
    if (lp && all_valid_run(lp, lend, n)) return PL_OK;
    uint8_t *b = pl_pq_scratch_get(&cs->scr->bits, &cs->scr->bits_cap, (n + 7) / 8 + 8);
    if (!b) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for levels");
    PL_TRY(flat_def_bits(cs, h, lp, lend, pp, ps->end, b, 0, n, k, err));
    *bits = b;
    return PL_OK;
}

/* Entries of the page that belong to the chunk (pages holding more entries than the chunk's
 * metadata: the chunk's count wins, as DuckDB reads such files; the extra entries are
 * ignored). */
static int64_t page_entries(const chunk_state *cs, const pl_pq_page_header *h) {
    int64_t n = h->num_values;
    if (n > cs->n_total - cs->done) n = cs->n_total - cs->done;
    return n < 0 ? 0 : n;
}

/* Appends `bytes` bytes of values (k values) from src to a sink in fill mode: whole pages go
 * straight from src (the decompressed page) into the view's pages, only the partial pages at
 * either end pass through the staging buffer. Afterwards the view holds [0, fill_done) and the
 * staging buffer the bytes from fill_done on (sink.prefix points the sink at the view). */
static void fill_append(chunk_state *cs, const uint8_t *src, int64_t bytes, int64_t k) {
    pl_pq_sink *s = &cs->out->sink;
    uint8_t *stage = s->values->data, *view = cs->fill_real;
    int64_t o = s->n * s->width, e = o + bytes, fd = cs->fill_done;
    /* complete the staging page that holds o */
    int64_t a = PL_MIN(e, PL_ALIGN_UP(o, PQ_FILL_PAGE));
    if (a > o) memcpy(stage + o, src, (size_t)(a - o));
    int64_t done = a; /* src bytes [o, done) placed */
    if (done % PQ_FILL_PAGE == 0 && done > fd) {
        pl_fill_copy(view + fd, stage + fd, (size_t)(done - fd));
        fd = done;
    }
    if (fd == done) {
        int64_t whole = e / PQ_FILL_PAGE * PQ_FILL_PAGE - fd;
        if (whole > 0) {
            pl_fill_copy(view + fd, src + (fd - o), (size_t)whole);
            fd += whole;
            done = fd;
        }
    }
    if (e > done) memcpy(stage + done, src + (done - o), (size_t)(e - done));
    cs->fill_done = fd;
    s->prefix = view;
    s->prefix_bytes = fd;
    s->n += k;
}

/* ---------------------------------------------------------------- direct PLAIN pages */

/* A flat chunk of fixed-width values whose first data page is compressed v1 PLAIN is decoded
 * into one block that becomes the column's values, each page without NULLs decompressed
 * straight to its place in it: no scratch page, no copy of the values (Polars writes
 * ~1 MB pages, one or two per chunk). A page's def levels (an all-valid run: a 4-byte length,
 * the run's varint header, one value byte) land just in front of its values, over the end of
 * the previous page's values (saved and put back) or, for the first page, in the block's
 * 64-byte head, which also keeps the block's size. A page that is not as predicted (NULLs,
 * other encodings or level sizes) is decoded the usual way into the same block. */
#define PQ_DIRECT_HEAD 64

static void direct_release(pl_buf *b) {
    uint8_t *raw = b->owner;
    int64_t total;
    memcpy(&total, raw, sizeof total);
    pl_aligned_free(raw, (size_t)total);
}

static int varint_len(uint64_t v) {
    int k = 1;
    while (v >= 0x80) {
        v >>= 7;
        k++;
    }
    return k;
}

/* Whether the chunk's values go to a direct block (called at its first data page). */
static bool direct_chunk(const chunk_state *cs, const pl_pq_page_header *h) {
    const pl_pq_chunk_ctx *c = cs->c;
    const pl_pq_leaf_desc *leaf = c->leaf;
    const pl_pq_leaf_data *out = cs->out;
    const pl_pq_sink *sk = &out->sink;
    int64_t w = sk->width;
    return h->type == PL_PQ_PAGE_DATA && c->cc->codec != PL_CODEC_UNCOMPRESSED &&
           h->encoding == PL_PQ_ENC_PLAIN && leaf->conv == PL_PQ_CONV_NONE && w > 0 &&
           leaf->phys_width == w && out->flat && !c->keep_dict && !c->sel && !c->match_fn &&
           !cs->fill_view && cs->done == 0 && sk->n == 0 && cs->n_total > 0 &&
           cs->n_total <= PL_PQ_MAX_PAGE_BYTES / w && leaf->max_rep == 0 && leaf->max_def <= 1 &&
           c->max_rows < 0 && (!sk->values || !sk->values->release_fn);
}

static pl_status direct_page(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                             bool *done, pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    const pl_pq_leaf_desc *leaf = c->leaf;
    pl_pq_leaf_data *out = cs->out;
    pl_pq_sink *sk = &out->sink;
    *done = false;
    int64_t w = sk->width;
    if (sk->values && sk->values->release_fn == direct_release) {
        /* a later page of a direct chunk */
    } else if (direct_chunk(cs, h)) {
        int64_t total = PQ_DIRECT_HEAD + cs->n_total * w + 64;
        uint8_t *raw = pl_aligned_alloc((size_t)total);
        if (!raw) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a column chunk of %lld values",
                          (long long)cs->n_total);
        memcpy(raw, &total, sizeof total);
        pl_buf *vb = NULL;
        pl_status st = pl_buf_wrap(raw + PQ_DIRECT_HEAD, cs->n_total * w, direct_release, raw, &vb,
                                   err);
        if (st) {
            pl_aligned_free(raw, (size_t)total);
            return st;
        }
        pl_buf_release(sk->values);
        sk->values = vb;
        sk->cap = cs->n_total;
    } else {
        return PL_OK;
    }
    int64_t n = h->num_values, pos = sk->n;
    if (h->type != PL_PQ_PAGE_DATA || h->encoding != PL_PQ_ENC_PLAIN || n <= 0 ||
        pos != cs->done || pos + n > sk->cap ||
        (leaf->max_def == 1 && h->def_encoding != PL_PQ_ENC_RLE))
        return PL_OK;
    int64_t head = leaf->max_def ? 4 + varint_len((uint64_t)n << 1) + 1 : 0;
    int64_t len = h->uncompressed_size;
    if (len != head + n * w || h->compressed_size < 0) return PL_OK;
    uint8_t *at = sk->values->data + pos * w, saved[32];
    uint8_t *dst = at - head;
    memcpy(saved, dst, (size_t)head);
    PL_TRY(pl_codec_decompress(c->cc->codec, body, h->compressed_size, dst, len, err));
    bool ok = true;
    if (head) {
        uint32_t l4;
        memcpy(&l4, dst, 4);
        ok = l4 == (uint32_t)(head - 4) && all_valid_run(dst + 4, dst + head, n);
    }
    memcpy(dst, saved, (size_t)head);
    if (!ok) return PL_OK; /* decoded again the usual way, in place */
    /* (validity: like the usual path's pages without NULLs, their bits are written only if a
     * later page has NULLs) */
    sk->n += n;
    cs->done += n;
    *done = true;
    return PL_OK;
}

static pl_status data_page(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                           pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    const pl_pq_leaf_desc *leaf = c->leaf;
    pl_pq_leaf_data *out = cs->out;
    bool v2 = h->type == PL_PQ_PAGE_DATA_V2;
    int64_t n = page_entries(cs, h);
    bool direct = false;
    PL_TRY(direct_page(cs, h, body, &direct, err));
    if (direct) return PL_OK;
    page_sec ps;
    PL_TRY(page_open(cs, h, body, &ps, err));
    const uint8_t *p = ps.p, *end = ps.end, *rep_p = ps.rep_p, *rep_end = ps.rep_end,
                  *def_p = ps.def_p, *def_end = ps.def_end;
    int max_def = leaf->max_def, max_rep = leaf->max_rep;
    int64_t k = n; /* non-null values in the page */
    uint8_t *def_out = NULL;
    if (out->flat) {
        if (max_def > 0) {
            uint8_t *bits = out->validity->data;
            const uint8_t *lp, *lend;
            PL_TRY(flat_def_run(h, &ps, &p, &lp, &lend, err));
            if (lp && all_valid_run(lp, lend, n)) {
                /* the common page without nulls: its bits are written only if a later page
                 * has nulls (then the validity bitmap is needed at all) */
                k = n;
            } else {
                materialize_bits(cs, bits);
                PL_TRY(flat_def_bits(cs, h, lp, lend, &p, end, bits, cs->done, n, &k, err));
                cs->bits_done = cs->done + n;
            }
        }
    } else {
        if (max_rep > 0) {
            uint8_t *rep = out->rep + cs->done;
            if (v2) PL_TRY(pl_pq_rle_u8(rep_p, rep_end, pl_pq_bit_width((uint32_t)max_rep), rep,
                                        n, err));
            else PL_TRY(levels_v1(&p, end, h->rep_encoding, max_rep, rep, n, err));
            PL_TRY(check_levels(rep, n, max_rep, "repetition", err));

        }
        if (max_def > 0) {
            def_out = out->def + cs->done;
            if (v2) PL_TRY(pl_pq_rle_u8(def_p, def_end, pl_pq_bit_width((uint32_t)max_def), def_out,
                                        n, err));
            else PL_TRY(levels_v1(&p, end, h->def_encoding, max_def, def_out, n, err));
            PL_TRY(check_levels(def_out, n, max_def, "definition", err));
            k = 0;
            for (int64_t i = 0; i < n; i++) k += def_out[i] == max_def;
        }
    }
    int32_t enc = h->encoding;
    int64_t pos = out->sink.n;
    if (c->keep_dict && is_dict_enc(enc)) {
        PL_TRY(dict_indices(cs, p, end, k, err));
    } else if (c->keep_dict) {
        /* a fallback page: its values join the dictionary after the dictionary page's */
        int64_t base = cs->dict.n + cs->extra.n;
        PL_TRY(pl_pq_decode_values(leaf, enc, p, end, k, NULL, &cs->extra, cs->scr, err));
        if (base + k > INT32_MAX)
            PL_FAIL(err, PL_ERR_LIMIT, "dictionary of more than %d values", INT32_MAX);
        PL_TRY(pl_pq_sink_reserve(&out->sink, k, 0, err));
        int32_t *o = (int32_t *)(void *)out->sink.values->data + out->sink.n;
        for (int64_t j = 0; j < k; j++) o[j] = (int32_t)(base + j);
        out->sink.n += k;
    } else if (cs->fill_view && out->sink.values == cs->fill_view && enc == PL_PQ_ENC_PLAIN &&
               leaf->conv == PL_PQ_CONV_NONE && leaf->phys_width == out->sink.width && k == n &&
               out->sink.n + k <= out->sink.cap && k * (int64_t)out->sink.width <= end - p) {
        /* plain fixed-width values without nulls: page-sized pieces go straight from the
         * decompressed page into the output's pages */
        fill_append(cs, p, k * (int64_t)out->sink.width, k);
    } else {
        PL_TRY(pl_pq_decode_values(leaf, enc, p, end, k, cs->have_dict ? &cs->dict : NULL,
                                   &out->sink, cs->scr, err));
    }
    if (out->flat && max_def > 0 && k < n) {
        PL_TRY(pl_pq_sink_reserve(&out->sink, n - k, 0, err));
        spread(&out->sink, out->validity->data, pos, n, k);
        out->sink.n = pos + n;
        out->null_count += n - k;
    }
    cs->done += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- selective pages */

/* Where the values gathered for the selected rows come from. */
typedef enum vsrc_kind { VSRC_FIXED, VSRC_BITS, VSRC_BYTES, VSRC_VARLEN } vsrc_kind;

typedef struct vsrc {
    vsrc_kind kind;
    const uint8_t *v;   /* FIXED: values (w bytes each); BITS: bitmap; BYTES: one byte each */
    int64_t w;
    const int32_t *off; /* VARLEN */
    const uint8_t *data;
} vsrc;

/* Appends m values to the sink: value vi[j] of the source, or a zeroed slot when vi[j] < 0. */
static pl_status gather(pl_pq_sink *s, const vsrc *src, const int32_t *vi, int64_t m,
                        pl_error *err) {
    if (src->kind == VSRC_VARLEN) {
        int64_t total = 0;
        for (int64_t j = 0; j < m; j++)
            if (vi[j] >= 0) total += src->off[vi[j] + 1] - src->off[vi[j]];
        PL_TRY(pl_pq_sink_reserve(s, m, total, err));
        int32_t *off = (int32_t *)(void *)s->values->data + s->n;
        uint8_t *data = s->data->data;
        int32_t pos = off[0];
        for (int64_t j = 0; j < m; j++) {
            if (vi[j] >= 0) {
                int32_t a = src->off[vi[j]], len = src->off[vi[j] + 1] - a;
                memcpy(data + pos, src->data + a, (size_t)len);
                pos += len;
            }
            off[j + 1] = pos;
        }
        s->data->size = pos;
        s->n += m;
        return PL_OK;
    }
    PL_TRY(pl_pq_sink_reserve(s, m, 0, err));
    if (s->conv == PL_PQ_CONV_BOOL) {
        uint8_t *bits = s->values->data;
        for (int64_t j = 0; j < m; j++) {
            bool b = vi[j] >= 0 && (src->kind == VSRC_BITS ? pl_bit_get(src->v, vi[j])
                                                            : src->v[vi[j]] != 0);
            pl_bit_put(bits, s->n + j, b);
        }
        s->n += m;
        return PL_OK;
    }
    int64_t w = s->width;
    uint8_t *dst = s->values->data + s->n * w;
    /* sources may be unaligned (values read in place from a page) */
    if (w == 8) {
        uint64_t *o = (uint64_t *)(void *)dst;
        for (int64_t j = 0; j < m; j++) {
            uint64_t x = 0;
            if (vi[j] >= 0) memcpy(&x, src->v + (int64_t)vi[j] * 8, 8);
            o[j] = x;
        }
    } else if (w == 4) {
        uint32_t *o = (uint32_t *)(void *)dst;
        for (int64_t j = 0; j < m; j++) {
            uint32_t x = 0;
            if (vi[j] >= 0) memcpy(&x, src->v + (int64_t)vi[j] * 4, 4);
            o[j] = x;
        }
    } else if (w == 16) { /* DECIMAL: a constant-size copy, not a memcpy call per value */
        for (int64_t j = 0; j < m; j++) {
            uint64_t x[2] = {0, 0};
            if (vi[j] >= 0) memcpy(x, src->v + (int64_t)vi[j] * 16, 16);
            memcpy(dst + j * 16, x, 16);
        }
    } else {
        for (int64_t j = 0; j < m; j++) {
            if (vi[j] >= 0) memcpy(dst + j * w, src->v + (int64_t)vi[j] * w, (size_t)w);
            else memset(dst + j * w, 0, (size_t)w);
        }
    }
    s->n += m;
    return PL_OK;
}

/* The dense values of a page's first `cnt` non-null values as a gather source. The page is
 * decoded whole into cs->tmp unless the encoding lets the values be read in place. */
static pl_status page_values(chunk_state *cs, int32_t enc, const uint8_t *p, const uint8_t *end,
                             int64_t k, int64_t cnt, vsrc *src, pl_error *err) {
    const pl_pq_leaf_desc *leaf = cs->c->leaf;
    if (enc == PL_PQ_ENC_PLAIN && leaf->conv == PL_PQ_CONV_NONE && leaf->phys_width > 0 &&
        leaf->phys_width == leaf->out_width) {
        if (cnt > (end - p) / leaf->phys_width)
            PL_FAIL(err, PL_ERR_CORRUPT, "page too short: plain values need %lld bytes, %lld left",
                    (long long)(cnt * leaf->phys_width), (long long)(end - p));
        *src = (vsrc){VSRC_FIXED, p, leaf->phys_width, NULL, NULL};
        return PL_OK;
    }
    if (enc == PL_PQ_ENC_PLAIN && leaf->conv == PL_PQ_CONV_BOOL) {
        if ((cnt + 7) / 8 > end - p)
            PL_FAIL(err, PL_ERR_CORRUPT, "page too short: boolean values need %lld bytes, %lld "
                    "left", (long long)((cnt + 7) / 8), (long long)(end - p));
        *src = (vsrc){VSRC_BITS, p, 0, NULL, NULL};
        return PL_OK;
    }
    /* a prefix of PLAIN values decodes alone; other encodings are decoded whole */
    int64_t n = enc == PL_PQ_ENC_PLAIN ? cnt : k;
    pl_pq_sink *t = &cs->tmp;
    t->n = 0;
    PL_TRY(pl_pq_decode_values(leaf, enc, p, end, n, NULL, t, cs->scr, err));
    if (t->conv == PL_PQ_CONV_VARLEN)
        *src = (vsrc){VSRC_VARLEN, NULL, 0, (const int32_t *)(const void *)t->values->data,
                      t->data->data};
    else if (t->conv == PL_PQ_CONV_BOOL) *src = (vsrc){VSRC_BITS, t->values->data, 0, NULL, NULL};
    else *src = (vsrc){VSRC_FIXED, t->values->data, t->width, NULL, NULL};
    return PL_OK;
}

/* A data page of a selective read: decoded only when it holds selected rows, and then only
 * the selected rows' values are gathered into the output slots. */
static pl_status data_page_sel(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                               pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    const pl_pq_leaf_desc *leaf = c->leaf;
    pl_pq_leaf_data *out = cs->out;
    pl_pq_scratch *scr = cs->scr;
    int64_t n = page_entries(cs, h), r0 = cs->done;
    int64_t si = cs->sel_pos, sj = si;
    while (sj < c->n_sel && c->sel[sj] < r0 + n) sj++;
    int64_t m = sj - si;
    if (m == 0) {
        cs->done += n;
        return PL_OK;
    }
    page_sec ps;
    PL_TRY(page_open(cs, h, body, &ps, err));
    const uint8_t *p = ps.p, *end = ps.end;
    /* validity of the page's entries */
    const uint8_t *bits;
    int64_t k;
    PL_TRY(flat_def_scratch(cs, h, &ps, &p, n, &bits, &k, err));
    bool all_valid = !bits;
    /* di[j]: position of selected row j among the page's non-null values, or -1 (NULL) */
    int32_t *di = (int32_t *)(void *)pl_pq_scratch_get(&scr->di, &scr->di_cap,
                                                       m * (int64_t)sizeof(int32_t));
    if (!di) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a selection");
    int64_t cnt = 0; /* non-null values needed: a prefix of the page's values */
    int64_t n_null = 0;
    if (all_valid) {
        for (int64_t j = 0; j < m; j++) di[j] = (int32_t)(c->sel[si + j] - r0);
        cnt = di[m - 1] + 1;
    } else {
        int64_t pos = 0, rank = 0;
        for (int64_t j = 0; j < m; j++) {
            int64_t r = c->sel[si + j] - r0;
            rank += pl_bitmap_count(bits, pos, r - pos);
            pos = r;
            if (pl_bit_get(bits, r)) {
                di[j] = (int32_t)rank;
                cnt = rank + 1;
            } else {
                di[j] = -1;
                n_null++;
            }
        }
    }
    /* values: di becomes the index into the gather source */
    int32_t enc = h->encoding;
    pl_pq_sink *s = &out->sink;
    pl_status st = PL_OK;
    if (cnt > 0 && is_dict_enc(enc)) {
        if (!cs->have_dict)
            PL_FAIL(err, PL_ERR_CORRUPT, "dictionary-encoded page without a dictionary page");
        uint32_t *idx = (uint32_t *)(void *)pl_pq_scratch_get(&scr->idx, &scr->idx_cap,
                                                              cnt * (int64_t)sizeof(uint32_t));
        if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for dictionary indices");
        PL_TRY(dict_idx_decode(p, end, idx, cnt, err));
        for (int64_t j = 0; j < m; j++) {
            if (di[j] < 0) continue;
            uint32_t x = idx[di[j]];
            if ((int64_t)x >= cs->dict.n)
                PL_FAIL(err, PL_ERR_CORRUPT, "dictionary index %u out of range (size %lld)", x,
                        (long long)cs->dict.n);
            di[j] = (int32_t)x;
        }
        if (c->keep_dict) {
            PL_TRY(pl_pq_sink_reserve(s, m, 0, err));
            int32_t *o = (int32_t *)(void *)s->values->data + s->n;
            for (int64_t j = 0; j < m; j++) o[j] = di[j] >= 0 ? di[j] : 0;
            s->n += m;
        } else {
            const pl_pq_dict *d = &cs->dict;
            vsrc src;
            if (leaf->conv == PL_PQ_CONV_VARLEN)
                src = (vsrc){VSRC_VARLEN, NULL, 0, d->offsets, d->data};
            else if (leaf->conv == PL_PQ_CONV_BOOL) src = (vsrc){VSRC_BYTES, d->values, 1, NULL, NULL};
            else src = (vsrc){VSRC_FIXED, d->values, d->width, NULL, NULL};
            st = gather(s, &src, di, m, err);
        }
    } else if (c->keep_dict) {
        /* a fallback page: the values join the dictionary after the dictionary page's */
        int64_t base = cs->dict.n + cs->extra.n;
        if (cnt > 0 && !is_dict_enc(enc))
            PL_TRY(pl_pq_decode_values(leaf, enc, p, end, enc == PL_PQ_ENC_PLAIN ? cnt : k, NULL,
                                       &cs->extra, scr, err));
        if (cs->dict.n + cs->extra.n > INT32_MAX)
            PL_FAIL(err, PL_ERR_LIMIT, "dictionary of more than %d values", INT32_MAX);
        PL_TRY(pl_pq_sink_reserve(s, m, 0, err));
        int32_t *o = (int32_t *)(void *)s->values->data + s->n;
        for (int64_t j = 0; j < m; j++) o[j] = di[j] >= 0 ? (int32_t)(base + di[j]) : 0;
        s->n += m;
    } else {
        vsrc src = {VSRC_FIXED, NULL, 0, NULL, NULL};
        if (cnt > 0) PL_TRY(page_values(cs, enc, p, end, k, cnt, &src, err));
        if (cnt == 0) {
            /* every selected row is NULL: zeroed slots only */
            if (leaf->conv == PL_PQ_CONV_VARLEN) src.kind = VSRC_VARLEN;
        }
        st = gather(s, &src, di, m, err);
    }
    PL_TRY(st);
    /* validity of the output slots */
    if (n_null > 0) {
        uint8_t *ob = out->validity->data;
        int64_t o0 = s->n - m;
        if (cs->obits_done < o0) pl_pq_bits_fill(ob, cs->obits_done, o0 - cs->obits_done, true);
        for (int64_t j = 0; j < m; j++) pl_bit_put(ob, o0 + j, di[j] >= 0);
        cs->obits_done = s->n;
        out->null_count += n_null;
    }
    cs->sel_pos = sj;
    cs->done += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- match mode */

static void borrowed_release(pl_buf *b) { PL_UNUSED(b); }

/* The dictionary's values plus a trailing NULL as an array of the leaf's type. */
static pl_status dict_array(chunk_state *cs, pl_array **out, pl_error *err) {
    const pl_pq_leaf_desc *leaf = cs->c->leaf;
    const pl_pq_dict *d = &cs->dict;
    int64_t n = d->n + 1;
    pl_buf *validity = NULL, *values = NULL, *data = NULL;
    pl_status st = pl_buf_new((n + 7) / 8 + 8, &validity, err);
    if (!st) {
        pl_pq_bits_fill(validity->data, 0, n - 1, true);
        pl_bit_clear(validity->data, n - 1);
        validity->size = (n + 7) / 8;
    }
    if (!st && leaf->conv == PL_PQ_CONV_VARLEN) {
        st = pl_buf_new(n * 4 + 4, &values, err);
        if (!st) st = pl_buf_new(d->data_bytes + 1, &data, err);
        if (!st) {
            int32_t *o = (int32_t *)(void *)values->data;
            if (d->n > 0) memcpy(o, d->offsets, (size_t)(d->n + 1) * 4);
            else o[0] = 0;
            o[n] = o[n - 1];
            values->size = (n + 1) * 4;
            if (d->data_bytes) memcpy(data->data, d->data, (size_t)d->data_bytes);
            data->size = d->data_bytes;
        }
    } else if (!st && leaf->conv == PL_PQ_CONV_BOOL) {
        st = pl_buf_new((n + 7) / 8 + 8, &values, err);
        if (!st) {
            for (int64_t i = 0; i < n; i++) pl_bit_put(values->data, i, i < d->n && d->values[i]);
            values->size = (n + 7) / 8;
        }
    } else if (!st && (d->borrowed || d->shared) && d->width <= 16) {
        /* the page in the scratch or the cache, used in place for the evaluation (the array
         * is released before the scratch is reused); the slot after the last value (zeroed
         * in the cache) is the NULL */
        if (d->borrowed) memset(d->values + d->n * d->width, 0, (size_t)d->width);
        st = pl_buf_wrap(d->values, n * d->width, borrowed_release, NULL, &values, err);
    } else if (!st) {
        int64_t w = d->width;
        st = pl_buf_new(n * w + 8, &values, err);
        if (!st) {
            if (d->n > 0) memcpy(values->data, d->values, (size_t)(d->n * w));
            memset(values->data + d->n * w, 0, (size_t)w);
            values->size = n * w;
        }
    }
    if (st) {
        pl_buf_release(validity);
        pl_buf_release(values);
        pl_buf_release(data);
        return st;
    }
    return pl_array_new(pl_type_retain(leaf->type), n, 1, validity, values, data, 0, NULL, NULL,
                        out, err);
}

/* Evaluates the predicate on the dictionary just decoded. */
static pl_status match_dict(chunk_state *cs, pl_error *err) {
    pl_array *a = NULL;
    PL_TRY(dict_array(cs, &a, err));
    pl_free(cs->pass);
    cs->pass = pl_calloc((size_t)(cs->dict.n + 1), 1);
    pl_status st = cs->pass ? PL_OK
                            : pl_error_set(err, PL_ERR_NOMEM, "out of memory for a dictionary");
    if (!st) st = cs->c->match_fn(cs->c->match_arg, a, cs->pass, err);
    pl_array_release(a);
    cs->n_pass = 0;
    for (int64_t i = 0; i < cs->dict.n && !st && cs->n_pass >= 0; i++) {
        if (!cs->pass[i]) continue;
        if (cs->n_pass == PQ_PAGE_STATS_MAX_PASS) cs->n_pass = -1;
        else cs->pass_idx[cs->n_pass++] = (int32_t)i;
    }
    return st;
}

/* Compares dictionary value i with a statistics bound in the column's sort order: <0, 0, >0,
 * or 2 when this leaf's values cannot be compared here. */
static int cmp_stat(const chunk_state *cs, int64_t i, const uint8_t *b, int32_t blen,
                    bool legacy) {
    const pl_pq_leaf_desc *leaf = cs->c->leaf;
    const pl_pq_dict *d = &cs->dict;
    if (leaf->conv == PL_PQ_CONV_VARLEN) {
        if (legacy || leaf->wkt || !d->offsets) return 2;
        const uint8_t *v = d->data + d->offsets[i];
        int32_t vlen = d->offsets[i + 1] - d->offsets[i];
        int c = memcmp(v, b, (size_t)PL_MIN(vlen, blen));
        return c ? (c < 0 ? -1 : 1) : (vlen < blen ? -1 : vlen > blen);
    }
    if (leaf->conv != PL_PQ_CONV_NONE || !d->values) return 2;
    const uint8_t *v = d->values + i * d->width;
    pl_type_id t = leaf->type->id;
    switch (leaf->physical) {
    case PL_PQ_INT32: {
        if (blen != 4) return 2;
        if (t == PL_TYPE_UINT32) {
            if (legacy) return 2;
            uint32_t x = pl_load_u32le(v), y = pl_load_u32le(b);
            return x < y ? -1 : x > y;
        }
        int32_t x = (int32_t)pl_load_u32le(v), y = (int32_t)pl_load_u32le(b);
        return x < y ? -1 : x > y;
    }
    case PL_PQ_INT64: {
        if (blen != 8) return 2;
        if (t == PL_TYPE_UINT64) {
            if (legacy) return 2;
            uint64_t x = pl_load_u64le(v), y = pl_load_u64le(b);
            return x < y ? -1 : x > y;
        }
        int64_t x = (int64_t)pl_load_u64le(v), y = (int64_t)pl_load_u64le(b);
        return x < y ? -1 : x > y;
    }
    case PL_PQ_FLOAT: {
        float x, y;
        if (blen != 4) return 2;
        memcpy(&x, v, 4);
        memcpy(&y, b, 4);
        if (x != x || y != y) return 2; /* NaN: statistics leave them out */
        return x < y ? -1 : x > y;
    }
    case PL_PQ_DOUBLE: {
        double x, y;
        if (blen != 8) return 2;
        memcpy(&x, v, 8);
        memcpy(&y, b, 8);
        if (x != x || y != y) return 2;
        return x < y ? -1 : x > y;
    }
    case PL_PQ_FIXED_LEN_BYTE_ARRAY: {
        if (legacy || blen != d->width) return 2;
        int c = memcmp(v, b, (size_t)blen);
        return c < 0 ? -1 : c > 0;
    }
    default: return 2;
    }
}

/* Whether a dictionary-encoded page with these statistics may hold a passing row. */
static bool page_may_match(const chunk_state *cs, const pl_pq_stats *st) {
    if (cs->n_pass < 0 || !cs->pass) return true;
    if (cs->pass[cs->dict.n] && (!st->has_null_count || st->null_count > 0)) return true;
    if (cs->n_pass == 0) return false;
    if (!st->has_min || !st->has_max) return true;
    for (int32_t k = 0; k < cs->n_pass; k++) {
        int lo = cmp_stat(cs, cs->pass_idx[k], st->min, st->min_len, st->legacy);
        int hi = cmp_stat(cs, cs->pass_idx[k], st->max, st->max_len, st->legacy);
        if (lo == 2 || hi == 2) return true;
        if (lo >= 0 && hi <= 0) return true;
    }
    return false;
}

/* A data page in match mode: the rows whose codes pass. */
static pl_status data_page_match(chunk_state *cs, const pl_pq_page_header *h, const uint8_t *body,
                                 pl_error *err) {
    pl_pq_scratch *scr = cs->scr;
    int64_t n = page_entries(cs, h), r0 = cs->done;
    if (!is_dict_enc(h->encoding)) {
        cs->not_dict = true;
        return PL_OK;
    }
    if (!cs->have_dict || !cs->pass)
        PL_FAIL(err, PL_ERR_CORRUPT, "dictionary-encoded page without a dictionary page");
    page_sec ps;
    PL_TRY(page_open(cs, h, body, &ps, err));
    const uint8_t *p = ps.p, *end = ps.end;
    const uint8_t *bits;
    int64_t k;
    PL_TRY(flat_def_scratch(cs, h, &ps, &p, n, &bits, &k, err));
    bool all_valid = !bits;
    uint32_t *idx = NULL;
    if (k > 0) {
        idx = (uint32_t *)(void *)pl_pq_scratch_get(&scr->idx, &scr->idx_cap,
                                                    k * (int64_t)sizeof(uint32_t));
        if (!idx) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for dictionary indices");
        PL_TRY(dict_idx_decode(p, end, idx, k, err));
        PL_TRY(dict_idx_check(idx, k, cs->dict.n, err));
    }
    const uint8_t *pass = cs->pass;
    int32_t *o = cs->msel + cs->n_msel;
    int64_t m = 0;
    if (all_valid) {
        for (int64_t i = 0; i < n; i++) {
            o[m] = (int32_t)(r0 + i);
            m += pass[idx[i]];
        }
    } else {
        uint8_t pn = pass[cs->dict.n];
        int64_t j = 0;
        for (int64_t i = 0; i < n; i++) {
            o[m] = (int32_t)(r0 + i);
            if (pl_bit_get(bits, i)) m += pass[idx[j++]];
            else m += pn;
        }
    }
    cs->n_msel += m;
    cs->done += n;
    return PL_OK;
}

static pl_status prealloc(chunk_state *cs, pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    const pl_pq_leaf_desc *leaf = c->leaf;
    pl_pq_leaf_data *out = cs->out;
    int64_t n = c->sel ? c->n_sel : cs->n_total;
    int64_t budget = PL_MAX(PQ_PREALLOC_MIN_BYTES, c->cc->total_compressed_size * PQ_PREALLOC_RATIO);
    int64_t width = c->keep_dict ? 4 : leaf->out_width > 0 ? leaf->out_width : 4;
    int64_t nv = n;
    if (out->flat && !c->sel && c->max_rows >= 0 && c->max_rows < nv) nv = c->max_rows + 65536;
    if (nv > n) nv = n;
    if (nv > budget / width) nv = budget / width;
    int64_t data_bytes = 0;
    if (leaf->conv == PL_PQ_CONV_VARLEN && !c->keep_dict)
        data_bytes = PL_MIN(c->cc->total_uncompressed_size, budget);
    if (c->sel && cs->n_total > 0)
        data_bytes = (int64_t)((double)data_bytes * (double)c->n_sel / (double)cs->n_total) + 64;
    pl_pq_prealloc *pre = c->pre;
    if (pre && pre->values && out->flat && !c->sel) {
        /* caller-provided, exactly sized buffers */
        if (pre->fill) {
            /* decoded in the staging buffer, copied into the view's pages at the end (its
             * pages must not be touched before) */
            int64_t padded = PL_ALIGN_UP(pre->values->size, PQ_FILL_PAGE);
            uint8_t *stage = pl_pq_scratch_get(&cs->scr->fill, &cs->scr->fill_cap, padded);
            if (!stage)
                PL_FAIL(err, PL_ERR_NOMEM, "out of memory for a %lld-byte column chunk",
                        (long long)padded);
            cs->fill_view = pl_buf_retain(pre->values);
            cs->fill_real = pre->values->data;
            pre->values->data = stage;
        }
        out->sink.values = pre->values;
        out->sink.cap = n;
        pre->values = NULL;
        out->validity = pre->validity;
        pre->validity = NULL;
        if (out->sink.conv == PL_PQ_CONV_VARLEN) {
            ((int32_t *)(void *)out->sink.values->data)[0] = 0;
            PL_TRY(pl_buf_new(data_bytes + 64, &out->sink.data, err));
        }
    } else {
        PL_TRY(pl_pq_sink_reserve(&out->sink, nv, data_bytes, err));
    }
    /* levels and validity are written for every decoded entry, so they need no zeroing and
     * cost nothing until pages fill them */
    if (out->flat && leaf->max_def > 0 && !out->validity)
        PL_TRY(pl_buf_new((n + 7) / 8 + 8, &out->validity, err));
    if (!out->flat) {
        if (leaf->max_def > 0 && !(out->def = pl_malloc((size_t)(n > 0 ? n : 1))))
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory for levels");
        if (leaf->max_rep > 0 && !(out->rep = pl_malloc((size_t)(n > 0 ? n : 1))))
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory for levels");
    }
    return PL_OK;
}

/* A fill view back to its pages: with copy, the staging bytes the sink holds (the rest of its
 * last page zeroed) are copied into them; otherwise (failure, or the sink moved to an owned
 * buffer) they stay untouched. Drops the chunk's own reference. */
static void fill_end(chunk_state *cs, bool copy) {
    pl_buf *v = cs->fill_view;
    if (!v) return;
    uint8_t *stage = v->data;
    v->data = cs->fill_real;
    cs->fill_view = NULL;
    cs->fill_real = NULL;
    const pl_pq_sink *sk = &cs->out->sink;
    int64_t fd = cs->fill_done;
    cs->fill_done = 0;
    cs->out->sink.prefix = NULL;
    cs->out->sink.prefix_bytes = 0;
    if (copy && sk->values == v) {
        int64_t padded = PL_ALIGN_UP(v->size, PQ_FILL_PAGE);
        int64_t used = sk->conv == PL_PQ_CONV_VARLEN ? (sk->n + 1) * 4
                       : sk->conv == PL_PQ_CONV_BOOL ? (sk->n + 7) / 8
                                                     : sk->n * sk->width;
        used = PL_MAX(fd, PL_MIN(used, padded));
        /* fresh memory reads as zeros past the values, as the populate path leaves it */
        memset(stage + used, 0, (size_t)(padded - used));
        if (padded > fd) pl_fill_copy(v->data + fd, stage + fd, (size_t)(padded - fd));
    }
    pl_buf_release(v);
}

/* Builds the dictionary values array of keep-dictionary mode. */
static pl_status export_dict(chunk_state *cs, pl_error *err) {
    pl_pq_dict *d = &cs->dict;
    pl_pq_sink *x = &cs->extra;
    int64_t n = d->n + x->n;
    const int32_t *xo = x->values ? (const int32_t *)(const void *)x->values->data : NULL;
    int64_t x_bytes = xo ? xo[x->n] : 0;
    if (d->data_bytes + x_bytes > (int64_t)PL_MAX_VARLEN_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "dictionary data exceeds %lld bytes",
                (long long)PL_MAX_VARLEN_BYTES);
    pl_buf *off = NULL, *data = NULL;
    PL_TRY(pl_buf_new((n + 1) * 4, &off, err));
    pl_status st = pl_buf_new(d->data_bytes + x_bytes + 1, &data, err);
    if (st) {
        pl_buf_release(off);
        return st;
    }
    int32_t *o = (int32_t *)(void *)off->data;
    if (d->offsets) memcpy(o, d->offsets, (size_t)(d->n + 1) * 4);
    else o[0] = 0;
    for (int64_t k = 1; k <= x->n; k++) o[d->n + k] = (int32_t)(d->data_bytes + xo[k]);
    off->size = (n + 1) * 4;
    if (d->data_bytes) memcpy(data->data, d->data, (size_t)d->data_bytes);
    if (x_bytes) memcpy(data->data + d->data_bytes, x->data->data, (size_t)x_bytes);
    data->size = d->data_bytes + x_bytes;
    return pl_array_new(pl_type_retain(cs->c->leaf->type), n, 0, NULL, off, data, 0, NULL, NULL,
                        &cs->out->dict, err);
}

/* A chunk must start a record (repetition level 0). Some writers emit stray leading entries
 * with a non-zero level; like DuckDB, they are dropped together with their values. */
static void drop_leading_continuations(pl_pq_leaf_data *out, int max_def) {
    if (!out->rep || out->n_levels == 0 || out->rep[0] == 0) return;
    int64_t f = 0, s = 0;
    while (f < out->n_levels && out->rep[f] != 0) {
        s += !out->def || out->def[f] == max_def;
        f++;
    }
    int64_t n = out->n_levels - f;
    memmove(out->rep, out->rep + f, (size_t)n);
    if (out->def) memmove(out->def, out->def + f, (size_t)n);
    out->n_levels = n;
    pl_pq_sink *k = &out->sink;
    int64_t m = k->n - s;
    if (s == 0 || m < 0) return;
    if (k->conv == PL_PQ_CONV_VARLEN) {
        int32_t *o = (int32_t *)(void *)k->values->data;
        int32_t base = o[s];
        memmove(k->data->data, k->data->data + base, (size_t)(o[k->n] - base));
        for (int64_t i = 0; i <= m; i++) o[i] = o[i + s] - base;
        k->data->size = o[m];
    } else if (k->conv == PL_PQ_CONV_BOOL) {
        pl_pq_bits_copy(k->values->data, 0, k->values->data, s, m);
    } else {
        memmove(k->values->data, k->values->data + s * k->width, (size_t)(m * k->width));
    }
    k->n = m;
}

/* A selective read over a descriptor: pages are read one at a time, a header first and the
 * body only when the page holds selected rows (or is the dictionary), so a point query reads
 * a few pages of each chunk instead of the whole chunk. */
#define PQ_LAZY_HEADER_BYTES 1024
#define PQ_LAZY_HEADER_MAX (1LL << 20)

static pl_status walk_lazy(chunk_state *cs, int64_t start, int64_t data_end, pl_error *err) {
    const pl_pq_chunk_ctx *c = cs->c;
    int64_t off = start;
    pl_status st = PL_OK;
    while (cs->done < cs->n_total && !cs->not_dict && (c->match_fn || cs->sel_pos < c->n_sel)) {
        if (off >= data_end) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "column chunk ends after %lld of %lld values",
                              (long long)cs->done, (long long)cs->n_total);
            break;
        }
        int64_t want = PL_MIN(data_end - off, PQ_LAZY_HEADER_BYTES);
        const uint8_t *b;
        pl_pq_page_header h;
        int64_t hlen;
        if ((st = source_read(c->src, false, off, want, cs->scr, &b, err))) break;
        if (pl_pq_page_header_decode(b, want, off, &h, &hlen, NULL)) {
            /* a header larger than the first read (statistics): read more and decode again,
             * now reporting the error */
            if (want < data_end - off) {
                want = PL_MIN(data_end - off, PQ_LAZY_HEADER_MAX);
                if ((st = source_read(c->src, false, off, want, cs->scr, &b, err))) break;
            }
            if ((st = pl_pq_page_header_decode(b, want, off, &h, &hlen, err))) break;
        }
        if (h.compressed_size > data_end - off - hlen) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "page of %d bytes extends past the column "
                              "chunk (%lld bytes left)", h.compressed_size,
                              (long long)(data_end - off - hlen));
            break;
        }
        bool data = h.type == PL_PQ_PAGE_DATA || h.type == PL_PQ_PAGE_DATA_V2;
        bool need = h.type == PL_PQ_PAGE_DICTIONARY;
        if (data) {
            if ((h.type == PL_PQ_PAGE_DATA && !h.has_data) ||
                (h.type == PL_PQ_PAGE_DATA_V2 && !h.has_v2)) {
                st = pl_error_set(err, PL_ERR_CORRUPT, "data page without its header");
                break;
            }
            int64_t n = page_entries(cs, &h);
            need = c->match_fn ? is_dict_enc(h.encoding)
                               : cs->sel_pos < c->n_sel && c->sel[cs->sel_pos] < cs->done + n;
            if (c->match_fn && need && h.has_stats && !page_may_match(cs, &h.stats)) {
                /* no row of this page can pass: skipped unread */
                cs->done += n;
                off += hlen + h.compressed_size;
                continue;
            }
        } else if (need) {
            /* a cached dictionary needs no bytes */
            const pl_pq_dict *hit = dict_cacheable(cs)
                                        ? pl_pq_dict_cache_get(c->dict_cache, c->rg, c->leaf_index)
                                        : NULL;
            if (hit) {
                use_cached(cs, hit);
                if (c->match_fn && (st = match_dict(cs, err))) break;
                off += hlen + h.compressed_size;
                continue;
            }
        }
        if (need && hlen + h.compressed_size > want &&
            (st = source_read(c->src, false, off, hlen + h.compressed_size, cs->scr, &b, err)))
            break;
        if (h.type == PL_PQ_PAGE_DICTIONARY) st = dict_page(cs, &h, b + hlen, err);
        else if (data && c->match_fn) st = data_page_match(cs, &h, need ? b + hlen : NULL, err);
        else if (data) st = data_page_sel(cs, &h, need ? b + hlen : NULL, err);
        if (st) break;
        off += hlen + h.compressed_size;
    }
    if (st && err && err->byte_offset < 0) err->byte_offset = off;
    return st;
}

/* *map_len: bytes of the mapping at *map_off the chunk was read from (0: not mapped) */
static pl_status read_chunk(const pl_pq_chunk_ctx *c, pl_pq_scratch *scr, pl_pq_leaf_data *out,
                           int64_t *map_off, int64_t *map_len, pl_error *err) {
    const pl_pq_column_chunk *cc = c->cc;
    const pl_pq_leaf_desc *leaf = c->leaf;
    memset(out, 0, sizeof *out);
    out->flat = c->flat;
    out->sink.conv = c->keep_dict ? PL_PQ_CONV_NONE : leaf->conv;
    out->sink.width = c->keep_dict ? 4 : leaf->out_width;
    if (cc->encrypted)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "encrypted parquet files are not supported");
    if (!cc->has_meta) PL_FAIL(err, PL_ERR_CORRUPT, "column chunk without metadata");
    if (cc->file_path)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "column chunk stored in another file (\"%s\")",
                cc->file_path);
    if (cc->physical != leaf->physical)
        PL_FAIL(err, PL_ERR_CORRUPT, "column chunk type %s does not match the schema's %s",
                pl_pq_physical_name(cc->physical), pl_pq_physical_name(leaf->physical));
    if (cc->codec_id != PL_PQ_CODEC_UNCOMPRESSED && cc->codec == PL_CODEC_UNCOMPRESSED)
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "compression codec %s is not supported",
                pl_pq_codec_name(cc->codec_id));
    if (cc->total_compressed_size > c->src->size)
        PL_FAIL(err, PL_ERR_CORRUPT, "column chunk of %lld bytes in a file of %lld bytes",
                (long long)cc->total_compressed_size, (long long)c->src->size);
    if (cc->num_values > PL_MAX(PL_PQ_VALUES_FLOOR,
                                cc->total_compressed_size * PL_PQ_MAX_VALUES_PER_BYTE))
        PL_FAIL(err, PL_ERR_LIMIT, "column chunk claims %lld values in %lld bytes",
                (long long)cc->num_values, (long long)cc->total_compressed_size);
    if ((c->sel || c->match_fn) && !c->flat)
        PL_FAIL(err, PL_ERR_INTERNAL, "selective read of a nested column");
    chunk_state cs = {0};
    cs.extra.conv = PL_PQ_CONV_VARLEN;
    cs.tmp.conv = leaf->conv;
    cs.tmp.width = leaf->out_width;
    cs.c = c;
    cs.scr = scr;
    cs.out = out;
    cs.n_total = cc->num_values;
    int64_t start = cc->data_page_offset;
    if (cc->dictionary_page_offset >= 4 && cc->dictionary_page_offset < start)
        start = cc->dictionary_page_offset;
    int64_t len = cc->total_compressed_size;
    const uint8_t *base;
    pl_status st = PL_OK;
    if (c->match_fn) {
        *c->match_ok = false;
        cs.msel = (int32_t *)(void *)pl_pq_scratch_get(&scr->msel, &scr->msel_cap,
                                                       (cs.n_total + 1) * (int64_t)sizeof(int32_t));
        if (!cs.msel) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory for a selection");
            goto fail;
        }
    } else if ((st = prealloc(&cs, err))) {
        goto fail;
    }
    /* pages may run past total_compressed_size in files with wrong sizes: the window grows up
     * to the footer when needed */
    int64_t data_end = c->md->file_size - 8 - c->md->footer_bytes;
    /* Chunks of fast codecs are read in place from the file's mapping (no pread copy, which
     * costs as much as their decompression); zstd, gzip and brotli chunks are read into the
     * worker's scratch with pread: measured on the benchmark VM, zstd decompresses ~4% slower
     * from the page cache's cold pages than from the just-copied (cache-warm) scratch, more
     * than the copy saves. */
    bool mapped = c->src->map && pl_pq_codec_mapped(cc->codec);
    if ((c->sel || c->match_fn) && !c->src->mem && !mapped) {
        if ((st = walk_lazy(&cs, start, data_end, err))) goto fail;
        goto pages_done;
    }
    if ((st = source_read(c->src, mapped, start, len, scr, &base, err))) goto fail;
    if (mapped) {
        *map_off = start;
        *map_len = len;
    }
    const uint8_t *p = base, *end = base + len;
    while (cs.done < cs.n_total) {
        if (out->flat && !c->sel && c->max_rows >= 0 && cs.done >= c->max_rows) break;
        if (c->sel && cs.sel_pos >= c->n_sel) break;
        if (cs.not_dict) break;
        int64_t page_off = start + (p - base);
        if (p >= end && start + len < data_end) {
            int64_t pos = p - base;
            len = PL_MIN(data_end - start, len + PQ_GROW_BYTES);
            if ((st = source_read(c->src, mapped, start, len, scr, &base, err))) goto fail;
            if (mapped) *map_len = len;
            p = base + pos;
            end = base + len;
        }
        if (p >= end) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "column chunk ends after %lld of %lld values",
                              (long long)cs.done, (long long)cs.n_total);
            if (err && err->byte_offset < 0) err->byte_offset = page_off;
            goto fail;
        }
        pl_pq_page_header h;
        int64_t hlen;
        if ((st = pl_pq_page_header_decode(p, end - p, page_off, &h, &hlen, err))) goto fail;
        const uint8_t *body = p + hlen;
        if (h.compressed_size > end - body && start + len < data_end) {
            int64_t pos = p - base;
            len = PL_MIN(data_end - start, pos + hlen + h.compressed_size);
            if ((st = source_read(c->src, mapped, start, len, scr, &base, err))) goto fail;
            if (mapped) *map_len = len;
            p = base + pos;
            end = base + len;
            body = p + hlen;
        }
        if (h.compressed_size > end - body) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "page of %d bytes extends past the column "
                              "chunk (%lld bytes left)", h.compressed_size,
                              (long long)(end - body));
            if (err && err->byte_offset < 0) err->byte_offset = page_off;
            goto fail;
        }
        if (h.type == PL_PQ_PAGE_DICTIONARY) {
            st = dict_page(&cs, &h, body, err);
        } else if (h.type == PL_PQ_PAGE_DATA || h.type == PL_PQ_PAGE_DATA_V2) {
            if ((h.type == PL_PQ_PAGE_DATA && !h.has_data) ||
                (h.type == PL_PQ_PAGE_DATA_V2 && !h.has_v2))
                st = pl_error_set(err, PL_ERR_CORRUPT, "data page without its header");
            else if (c->match_fn) st = data_page_match(&cs, &h, body, err);
            else st = c->sel ? data_page_sel(&cs, &h, body, err) : data_page(&cs, &h, body, err);
        }
        if (st) {
            if (err && err->byte_offset < 0) err->byte_offset = page_off;
            goto fail;
        }
        p = body + h.compressed_size;
    }
pages_done:
    if (c->match_fn) {
        if (!cs.not_dict) {
            int32_t *r = pl_malloc(sizeof *r * (size_t)(cs.n_msel > 0 ? cs.n_msel : 1));
            if (!r) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory for a selection");
                goto fail;
            }
            if (cs.n_msel) memcpy(r, cs.msel, sizeof *r * (size_t)cs.n_msel);
            *c->match_sel = r;
            *c->match_n = cs.n_msel;
            *c->match_ok = true;
        }
        out->n_levels = cs.done;
        pl_free(cs.pass);
        pl_pq_dict_reset(&cs.dict);
        pl_pq_sink_reset(&cs.extra);
        pl_pq_sink_reset(&cs.tmp);
        return PL_OK;
    }
    if (c->sel && cs.sel_pos < c->n_sel) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "column chunk has %lld values but row %d is "
                          "selected", (long long)cs.done, c->sel[cs.sel_pos]);
        goto fail;
    }
    if (c->keep_dict && (st = export_dict(&cs, err))) goto fail;
    out->n_levels = c->sel ? c->n_sel : cs.done;
    if (!out->flat) drop_leading_continuations(out, leaf->max_def);
    if (c->sel && out->validity && out->null_count > 0 && cs.obits_done < c->n_sel)
        pl_pq_bits_fill(out->validity->data, cs.obits_done, c->n_sel - cs.obits_done, true);
    else if (!c->sel && out->flat && out->validity && out->null_count > 0)
        materialize_bits(&cs, out->validity->data);
    if (leaf->wkt && !c->keep_dict &&
        (st = pl_pq_wkb_to_text(&out->sink, out->flat && out->validity && out->null_count > 0
                                               ? out->validity->data : NULL, err)))
        goto fail;
    if (out->flat && out->null_count == 0) {
        pl_buf_release(out->validity);
        out->validity = NULL;
    }
    fill_end(&cs, true);
    pl_pq_dict_reset(&cs.dict);
    pl_pq_sink_reset(&cs.extra);
    pl_pq_sink_reset(&cs.tmp);
    return PL_OK;
fail:
    fill_end(&cs, false);
    pl_free(cs.pass);
    pl_pq_dict_reset(&cs.dict);
    pl_pq_sink_reset(&cs.extra);
    pl_pq_sink_reset(&cs.tmp);
    pl_pq_leaf_data_reset(out);
    return st;
}

pl_status pl_pq_read_chunk(const pl_pq_chunk_ctx *c, pl_pq_scratch *scr, pl_pq_leaf_data *out,
                           pl_error *err) {
    int64_t map_off = 0, map_len = 0;
    pl_status st = read_chunk(c, scr, out, &map_off, &map_len, err);
    /* the chunk's pages leave the address space (they stay in the page cache): a scan's peak
     * RSS does not grow by the file's size */
    if (map_len > 0) pl_file_map_drop(c->src->map + map_off, (size_t)map_len);
    /* pages of a mapped file that was truncated under the mapping read as zeros (file.c): what
     * was decoded from them is void, whatever the decoders made of it */
    if (c->src->map && pl_file_map_lost(c->src->map_slot)) {
        if (!st) pl_pq_leaf_data_reset(out);
        st = pl_error_set(err, PL_ERR_IO, "file changed while it was being read (truncated to "
                          "less than its %lld bytes)", (long long)c->src->size);
    }
    return st;
}
