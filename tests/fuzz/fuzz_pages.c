/* fuzz_pages.c - libFuzzer target for the Parquet page-level decoders (src/io/parquet/rle.c,
 * delta.c, decode.c). The first bytes choose a physical type, an encoding, a value count and a
 * bit width; the rest is the page's value section (and a dictionary page for dictionary
 * encodings). Decoders must stay inside the input and report bad data as pl_errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/parquet/pq_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pl_pq_conv convs[] = {PL_PQ_CONV_NONE,     PL_PQ_CONV_I32_I8,  PL_PQ_CONV_I32_I16,
                                   PL_PQ_CONV_I32_MS_US, PL_PQ_CONV_I32_DEC, PL_PQ_CONV_F16_F32};

static void setup_leaf(uint8_t sel, uint8_t flba, pl_pq_leaf_desc *d) {
    memset(d, 0, sizeof *d);
    d->physical = sel % 8;
    d->conv = PL_PQ_CONV_NONE;
    switch (d->physical) {
    case PL_PQ_BOOLEAN: d->conv = PL_PQ_CONV_BOOL; break;
    case PL_PQ_INT32:
        d->phys_width = 4;
        d->conv = convs[(sel >> 3) % 5];
        d->out_width = d->conv == PL_PQ_CONV_I32_I8 ? 1 : d->conv == PL_PQ_CONV_I32_I16 ? 2
                       : d->conv == PL_PQ_CONV_I32_MS_US ? 8 : d->conv == PL_PQ_CONV_I32_DEC ? 16 : 4;
        break;
    case PL_PQ_INT64:
        d->phys_width = 8;
        d->conv = (sel >> 3) & 1 ? PL_PQ_CONV_I64_DEC : PL_PQ_CONV_NONE;
        d->out_width = d->conv == PL_PQ_CONV_I64_DEC ? 16 : 8;
        break;
    case PL_PQ_INT96:
        d->phys_width = 12;
        d->out_width = 8;
        d->conv = PL_PQ_CONV_INT96_TS;
        break;
    case PL_PQ_FLOAT: d->phys_width = d->out_width = 4; break;
    case PL_PQ_DOUBLE: d->phys_width = d->out_width = 8; break;
    case PL_PQ_BYTE_ARRAY: d->conv = (sel >> 3) & 1 ? PL_PQ_CONV_BA_DEC : PL_PQ_CONV_VARLEN;
        d->out_width = d->conv == PL_PQ_CONV_BA_DEC ? 16 : 0;
        break;
    default:
        d->phys_width = 1 + flba % 20;
        d->out_width = d->phys_width;
        if ((sel >> 3) & 1 && d->phys_width <= 16) {
            d->conv = PL_PQ_CONV_FLBA_DEC;
            d->out_width = 16;
        } else if ((sel >> 4) & 1 && d->phys_width == 2) {
            d->conv = PL_PQ_CONV_F16_F32;
            d->out_width = 4;
        }
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) return 0;
    uint8_t sel = data[0], enc_sel = data[1], flba = data[4];
    int64_t n = (int64_t)data[2] | ((int64_t)(data[3] & 0x0f) << 8);
    size_t dict_len = data[5];
    data += 6;
    size -= 6;
    if (dict_len > size) dict_len = size;
    uint8_t *dict_bytes = malloc(dict_len ? dict_len : 1);
    uint8_t *page = malloc(size - dict_len ? size - dict_len : 1);
    if (!dict_bytes || !page) {
        free(dict_bytes);
        free(page);
        return 0;
    }
    memcpy(dict_bytes, data, dict_len);
    memcpy(page, data + dict_len, size - dict_len);
    int64_t page_len = (int64_t)(size - dict_len);
    static const int32_t encs[] = {PL_PQ_ENC_PLAIN,
                                   PL_PQ_ENC_RLE_DICTIONARY,
                                   PL_PQ_ENC_RLE,
                                   PL_PQ_ENC_DELTA_BINARY_PACKED,
                                   PL_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY,
                                   PL_PQ_ENC_DELTA_BYTE_ARRAY,
                                   PL_PQ_ENC_BYTE_STREAM_SPLIT,
                                   PL_PQ_ENC_BIT_PACKED};
    int32_t enc = encs[enc_sel % 8];
    pl_pq_leaf_desc leaf;
    setup_leaf(sel, flba, &leaf);
    pl_pq_scratch scr = {0};
    pl_pq_dict dict = {0};
    pl_error err;
    pl_error_init(&err);
    bool have_dict = false;
    if (enc == PL_PQ_ENC_RLE_DICTIONARY) {
        int64_t nd = dict_len > 0 ? dict_bytes[0] % 64 : 0;
        have_dict = pl_pq_decode_dict(&leaf, dict_bytes + (dict_len > 0), dict_bytes + dict_len, nd,
                                      &dict, &scr, &err) == PL_OK;
    }
    pl_pq_sink sink = {0};
    sink.conv = leaf.conv;
    sink.width = leaf.out_width;
    pl_error_init(&err);
    (void)pl_pq_decode_values(&leaf, enc, page, page + page_len, n, have_dict ? &dict : NULL,
                              &sink, &scr, &err);
    pl_pq_sink_reset(&sink);
    /* the level decoders directly */
    uint8_t *lv = malloc((size_t)n + 1);
    uint32_t *u = malloc(((size_t)n + 1) * sizeof *u);
    uint8_t bits[600] = {0};
    if (lv && u) {
        int bw = enc_sel >> 3;
        int64_t set;
        (void)pl_pq_rle_u8(page, page + page_len, bw % 9, lv, n, &err);
        (void)pl_pq_rle_u32(page, page + page_len, bw % 33, u, n, &err);
        (void)pl_pq_rle_bits(page, page + page_len, bits, sel % 8, n < 4000 ? n : 4000, &set, &err);
        (void)pl_pq_bitpacked_levels(page, page + page_len, bw % 9, lv, n, &err);
    }
    free(lv);
    free(u);
    pl_pq_dict_reset(&dict);
    pl_pq_scratch_reset(&scr);
    free(dict_bytes);
    free(page);
    return 0;
}
