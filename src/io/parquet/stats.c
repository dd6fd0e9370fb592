/* stats.c - column-chunk statistics decoded to typed values (for predicate pruning and
 * `polaroid schema`), value formatting, and display names of Parquet enums. Statistics bytes
 * are PLAIN encodings of the physical type; malformed ones decode as "absent". */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pq_int.h"

static const char *name_of(const char *const *names, size_t n, int32_t v) {
    if (v < 0 || (size_t)v >= n || !names[v]) return "UNKNOWN";
    return names[v];
}

const char *pl_pq_physical_name(int32_t v) {
    static const char *const n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                    "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return name_of(n, PL_ARRAY_LEN(n), v);
}

const char *pl_pq_encoding_name(int32_t v) {
    static const char *const n[] = {"PLAIN",
                                    "GROUP_VAR_INT",
                                    "PLAIN_DICTIONARY",
                                    "RLE",
                                    "BIT_PACKED",
                                    "DELTA_BINARY_PACKED",
                                    "DELTA_LENGTH_BYTE_ARRAY",
                                    "DELTA_BYTE_ARRAY",
                                    "RLE_DICTIONARY",
                                    "BYTE_STREAM_SPLIT"};
    return name_of(n, PL_ARRAY_LEN(n), v);
}

const char *pl_pq_page_type_name(int32_t v) {
    static const char *const n[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2"};
    return name_of(n, PL_ARRAY_LEN(n), v);
}

const char *pl_pq_codec_name(int32_t v) {
    static const char *const n[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                    "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return name_of(n, PL_ARRAY_LEN(n), v);
}

const char *pl_pq_converted_name(int32_t v) {
    static const char *const n[] = {
        "UTF8",     "MAP",     "MAP_KEY_VALUE", "LIST",   "ENUM",   "DECIMAL",   "DATE",
        "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16",
        "UINT_32",  "UINT_64", "INT_8",         "INT_16", "INT_32", "INT_64",    "JSON",
        "BSON",     "INTERVAL"};
    if (v == PL_PQ_CT_NONE) return "";
    return name_of(n, PL_ARRAY_LEN(n), v);
}

const char *pl_pq_repetition_name(int32_t v) {
    static const char *const n[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
    return name_of(n, PL_ARRAY_LEN(n), v);
}

static const char *unit_name(pl_time_unit u) {
    return u == PL_UNIT_MS ? "MILLIS" : u == PL_UNIT_US ? "MICROS" : u == PL_UNIT_NS ? "NANOS"
                                                                                    : "SECONDS";
}

const char *pl_pq_logical_format(const pl_pq_logical *lt, char *buf, size_t n) {
    if (!n) return buf;
    buf[0] = 0;
    switch (lt->kind) {
    case PL_PQ_LT_NONE: break;
    case PL_PQ_LT_STRING: snprintf(buf, n, "STRING"); break;
    case PL_PQ_LT_MAP: snprintf(buf, n, "MAP"); break;
    case PL_PQ_LT_LIST: snprintf(buf, n, "LIST"); break;
    case PL_PQ_LT_ENUM: snprintf(buf, n, "ENUM"); break;
    case PL_PQ_LT_DECIMAL: snprintf(buf, n, "DECIMAL(%d,%d)", lt->precision, lt->scale); break;
    case PL_PQ_LT_DATE: snprintf(buf, n, "DATE"); break;
    case PL_PQ_LT_TIME:
        snprintf(buf, n, "TIME(%s,%s)", unit_name(lt->unit), lt->utc ? "UTC" : "local");
        break;
    case PL_PQ_LT_TIMESTAMP:
        snprintf(buf, n, "TIMESTAMP(%s,%s)", unit_name(lt->unit), lt->utc ? "UTC" : "local");
        break;
    case PL_PQ_LT_INTEGER:
        snprintf(buf, n, "INTEGER(%d,%s)", lt->bit_width, lt->is_signed ? "signed" : "unsigned");
        break;
    case PL_PQ_LT_NULL: snprintf(buf, n, "NULL"); break;
    case PL_PQ_LT_JSON: snprintf(buf, n, "JSON"); break;
    case PL_PQ_LT_BSON: snprintf(buf, n, "BSON"); break;
    case PL_PQ_LT_UUID: snprintf(buf, n, "UUID"); break;
    case PL_PQ_LT_FLOAT16: snprintf(buf, n, "FLOAT16"); break;
    case PL_PQ_LT_VARIANT: snprintf(buf, n, "VARIANT"); break;
    case PL_PQ_LT_GEOMETRY: snprintf(buf, n, "GEOMETRY"); break;
    case PL_PQ_LT_GEOGRAPHY: snprintf(buf, n, "GEOGRAPHY"); break;
    default: snprintf(buf, n, "UNKNOWN"); break;
    }
    return buf;
}

/* ---------------------------------------------------------------- statistics */

static float half_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, f;
    if (exp == 0) {
        float v = (float)man / 1024.0f / 16384.0f;
        return sign ? -v : v;
    }
    if (exp == 31) f = sign | 0x7f800000u | (man << 13);
    else f = sign | ((exp + 112) << 23) | (man << 13);
    float out;
    memcpy(&out, &f, 4);
    return out;
}

bool pl_pq_stats_value(const pl_pq_metadata *md, int32_t leaf, const pl_pq_stats *st,
                       bool want_max, pl_pq_value *out) {
    memset(out, 0, sizeof *out);
    if (!md || !st || leaf < 0 || leaf >= md->n_leaves) return false;
    const pl_pq_leaf *l = &md->leaves[leaf];
    bool has = want_max ? st->has_max : st->has_min;
    const uint8_t *b = want_max ? st->max : st->min;
    int32_t len = want_max ? st->max_len : st->min_len;
    if (!has || !b) return false;
    const pl_type *t = l->type;
    switch (l->physical) {
    case PL_PQ_BOOLEAN:
        if (len < 1) return false;
        out->kind = PL_PQ_VALUE_BOOL;
        out->b = b[0] & 1;
        return true;
    case PL_PQ_INT32: {
        if (len != 4) return false;
        int32_t v = (int32_t)pl_load_u32le(b);
        if (t->id == PL_TYPE_DECIMAL128) {
            out->kind = PL_PQ_VALUE_DECIMAL;
            out->dec_lo = (uint64_t)(int64_t)v;
            out->dec_hi = v < 0 ? -1 : 0;
        } else if (t->id == PL_TYPE_UINT8 || t->id == PL_TYPE_UINT16 || t->id == PL_TYPE_UINT32) {
            out->kind = PL_PQ_VALUE_UINT;
            out->u = (uint32_t)v;
        } else {
            out->kind = PL_PQ_VALUE_INT;
            out->i = t->id == PL_TYPE_TIME64 ? (int64_t)v * 1000 : v;
        }
        return true;
    }
    case PL_PQ_INT64: {
        if (len != 8) return false;
        int64_t v = (int64_t)pl_load_u64le(b);
        if (t->id == PL_TYPE_DECIMAL128) {
            out->kind = PL_PQ_VALUE_DECIMAL;
            out->dec_lo = (uint64_t)v;
            out->dec_hi = v < 0 ? -1 : 0;
        } else if (t->id == PL_TYPE_UINT64) {
            out->kind = PL_PQ_VALUE_UINT;
            out->u = (uint64_t)v;
        } else {
            out->kind = PL_PQ_VALUE_INT;
            out->i = v;
        }
        return true;
    }
    case PL_PQ_INT96: {
        if (len != 12) return false;
        out->kind = PL_PQ_VALUE_INT;
        out->i = (int64_t)(((uint64_t)pl_load_u32le(b + 8) - 2440588ULL) * 86400000000ULL +
                           (uint64_t)((int64_t)pl_load_u64le(b) / 1000));
        return true;
    }
    case PL_PQ_FLOAT: {
        if (len != 4) return false;
        float f;
        memcpy(&f, b, 4);
        out->kind = PL_PQ_VALUE_DOUBLE;
        out->d = f;
        return true;
    }
    case PL_PQ_DOUBLE:
        if (len != 8) return false;
        out->kind = PL_PQ_VALUE_DOUBLE;
        memcpy(&out->d, b, 8);
        return true;
    case PL_PQ_BYTE_ARRAY:
    case PL_PQ_FIXED_LEN_BYTE_ARRAY:
        if (t->id == PL_TYPE_DECIMAL128) {
            if (len < 1 || len > 16) return false;
            uint8_t le[16];
            memset(le, (b[0] & 0x80) ? 0xff : 0, 16);
            for (int32_t k = 0; k < len; k++) le[k] = b[len - 1 - k];
            out->kind = PL_PQ_VALUE_DECIMAL;
            memcpy(&out->dec_lo, le, 8);
            memcpy(&out->dec_hi, le + 8, 8);
            return true;
        }
        if (t->id == PL_TYPE_FLOAT32) {
            if (len != 2) return false;
            uint16_t h;
            memcpy(&h, b, 2);
            out->kind = PL_PQ_VALUE_DOUBLE;
            out->d = half_float(h);
            return true;
        }
        out->kind = PL_PQ_VALUE_BYTES;
        out->bytes = b;
        out->len = len;
        return true;
    default:
        return false;
    }
}

static void format_decimal(uint64_t lo, int64_t hi, int32_t scale, char *buf, size_t n) {
    bool neg = hi < 0;
    unsigned __int128 v = ((unsigned __int128)(uint64_t)hi << 64) | lo;
    if (neg) v = ~v + 1;
    char digits[48];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v && nd < 45);
    while (nd <= scale && nd < 45) digits[nd++] = '0';
    char tmp[64];
    int pos = 0;
    if (neg) tmp[pos++] = '-';
    for (int k = nd - 1; k >= 0; k--) {
        tmp[pos++] = digits[k];
        if (k == scale && scale > 0) tmp[pos++] = '.';
    }
    tmp[pos] = 0;
    snprintf(buf, n, "%s", tmp);
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

const char *pl_pq_value_format(const pl_pq_metadata *md, int32_t leaf, const pl_pq_value *v,
                               char *buf, size_t n) {
    if (!n) return buf;
    buf[0] = 0;
    const pl_type *t = (md && leaf >= 0 && leaf < md->n_leaves) ? md->leaves[leaf].type : NULL;
    switch (v->kind) {
    case PL_PQ_VALUE_NONE: snprintf(buf, n, "null"); break;
    case PL_PQ_VALUE_BOOL: snprintf(buf, n, "%s", v->b ? "true" : "false"); break;
    case PL_PQ_VALUE_UINT: snprintf(buf, n, "%" PRIu64, v->u); break;
    case PL_PQ_VALUE_DOUBLE: snprintf(buf, n, "%.17g", v->d); break;
    case PL_PQ_VALUE_DECIMAL:
        format_decimal(v->dec_lo, v->dec_hi, t ? t->scale : 0, buf, n);
        break;
    case PL_PQ_VALUE_INT: {
        if (t && (t->id == PL_TYPE_DATE32 || t->id == PL_TYPE_TIMESTAMP)) {
            int64_t per_day = 1, per_sec = 1;
            if (t->id == PL_TYPE_TIMESTAMP) {
                per_sec = t->unit == PL_UNIT_MS ? 1000 : t->unit == PL_UNIT_US ? 1000000
                          : t->unit == PL_UNIT_NS ? 1000000000 : 1;
                per_day = per_sec * 86400;
            }
            int64_t days = v->i / per_day, rem = v->i % per_day;
            if (rem < 0) {
                rem += per_day;
                days--;
            }
            int64_t y;
            unsigned m, d;
            civil_from_days(days, &y, &m, &d);
            if (t->id == PL_TYPE_DATE32) {
                snprintf(buf, n, "%04" PRId64 "-%02u-%02u", y, m, d);
            } else {
                int64_t secs = rem / per_sec, frac = rem % per_sec;
                int w = per_sec == 1000 ? 3 : per_sec == 1000000 ? 6 : per_sec == 1 ? 0 : 9;
                char fr[16] = "";
                if (w) snprintf(fr, sizeof fr, ".%0*" PRId64, w, frac);
                snprintf(buf, n, "%04" PRId64 "-%02u-%02u %02d:%02d:%02d%s%s", y, m, d,
                         (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60), fr,
                         t->tz ? "+00" : "");
            }
        } else {
            snprintf(buf, n, "%" PRId64, v->i);
        }
        break;
    }
    case PL_PQ_VALUE_BYTES: {
        bool text = t && t->id == PL_TYPE_UTF8;
        size_t pos = 0;
        if (text && pos + 1 < n) buf[pos++] = '"';
        for (int32_t k = 0; k < v->len && pos + 5 < n; k++) {
            uint8_t c = v->bytes[k];
            if ((text && c >= 0x20 && c != '"' && c != '\\') || (c >= 0x20 && c < 0x7f))
                buf[pos++] = (char)c;
            else pos += (size_t)snprintf(buf + pos, n - pos, "\\x%02x", c);
        }
        if (text && pos + 1 < n) buf[pos++] = '"';
        buf[pos < n ? pos : n - 1] = 0;
        break;
    }
    }
    return buf;
}
