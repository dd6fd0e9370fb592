/* csv_read.c - the CSV reader: RFC 4180 tokenizer, type inference over a sample, and a parallel
 * chunked parser that turns a mapped file straight into typed column buffers.
 *
 * Flow: open the first input, read the header, infer column types from the first
 * csv_sample_rows rows, apply explicit type overrides and the projection, then stream. Each
 * `next` pops a batch from a queue; when the queue is empty a "wave" of chunks is parsed with
 * pl_parallel_for. Chunk boundaries are found by quote parity: from a known row start, count
 * quote bytes up to the nominal boundary, then advance to the first '\n' at even parity. Each
 * chunk parser must end exactly on its successor's start; if it does not (a stray quote inside
 * an unquoted field fooled the parity count) the rest of the file is parsed sequentially from
 * the last verified boundary, so results never depend on the chunking.
 *
 * Invariants: no per-field allocation (fields are views into the mapped file; escaped quotes
 * are undone into the chunk's string buffer or a per-chunk scratch buffer); every length is
 * checked against the bytes left; errors carry path, line (pl_error.row), column, byte offset. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "io/csv/csv.h"
#include "io/io_int.h"
#include "io/text/text.h"
#include "io/text/text_src.h"

/* ---------------------------------------------------------------- tokenizer */

typedef struct csv_field {
    const char *p; /* content (inside the quotes when quoted) */
    int64_t len;   /* raw content bytes (escaped quotes still doubled) */
    bool quoted, escaped;
} csv_field;

enum { FIELD_DELIM = 0, FIELD_EOL = 1, FIELD_BAD = 2 };
enum { BAD_UNTERMINATED = 1, BAD_AFTER_QUOTE = 2, BAD_TOO_LONG = 3 };

typedef struct csv_dialect {
    char delim, quote;
    uint64_t delim8;      /* delim in every byte */
    uint8_t special[256]; /* 1 for delim, '\n', '\r' */
} csv_dialect;

#define K_ONES8 0x0101010101010101ull
static const uint64_t k_nl8 = K_ONES8 * '\n';
static const uint64_t k_cr8 = K_ONES8 * '\r';

static inline uint64_t has_zero_byte(uint64_t v) {
    return (v - K_ONES8) & ~v & 0x8080808080808080ull;
}

/* Reads the field at *pos; *pos moves past its terminator. Returns FIELD_DELIM when another
 * field follows, FIELD_EOL at the end of the row (newline or end of data), FIELD_BAD with the
 * reason in *bad. */
static inline int read_field(const char *d, int64_t n, int64_t *pos, const csv_dialect *dl,
                             csv_field *f, int *bad) {
    int64_t p = *pos;
    f->quoted = f->escaped = false;
    if (p < n && d[p] == dl->quote) {
        f->quoted = true;
        int64_t start = ++p;
        for (;;) {
            const char *q = memchr(d + p, dl->quote, (size_t)(n - p));
            if (!q) {
                *bad = BAD_UNTERMINATED;
                return FIELD_BAD;
            }
            p = q - d;
            if (p + 1 < n && d[p + 1] == dl->quote) {
                f->escaped = true;
                p += 2;
                continue;
            }
            break;
        }
        f->p = d + start;
        f->len = p - start;
        p++; /* closing quote */
    } else {
        int64_t start = p;
        const uint8_t *u = (const uint8_t *)d;
        /* 8 bytes at a time: the lowest flagged byte of the zero-byte test is exact */
        while (n - p >= 8) {
            uint64_t w;
            memcpy(&w, u + p, 8);
            uint64_t m = has_zero_byte(w ^ dl->delim8) | has_zero_byte(w ^ k_nl8) |
                         has_zero_byte(w ^ k_cr8);
            if (m) {
                p += __builtin_ctzll(m) >> 3;
                goto found;
            }
            p += 8;
        }
        while (p < n && !dl->special[u[p]]) p++;
    found:
        f->p = d + start;
        f->len = p - start;
    }
    if (PL_UNLIKELY(f->len > PL_CSV_MAX_FIELD_BYTES)) {
        *bad = BAD_TOO_LONG;
        return FIELD_BAD;
    }
    if (p >= n) {
        *pos = n;
        return FIELD_EOL;
    }
    char c = d[p];
    if (c == dl->delim) {
        *pos = p + 1;
        return FIELD_DELIM;
    }
    if (c == '\n') {
        *pos = p + 1;
        return FIELD_EOL;
    }
    if (c == '\r') {
        *pos = (p + 1 < n && d[p + 1] == '\n') ? p + 2 : p + 1;
        return FIELD_EOL;
    }
    *bad = BAD_AFTER_QUOTE;
    *pos = p;
    return FIELD_BAD;
}

/* Length of the line break at p (0 if none). */
static inline int64_t blank_line_len(const char *d, int64_t n, int64_t p) {
    if (d[p] == '\n') return 1;
    if (d[p] == '\r') return (p + 1 < n && d[p + 1] == '\n') ? 2 : 1;
    return 0;
}

/* Copies a quoted field's content with doubled quotes undone; returns the new length. */
static int64_t unescape(const csv_field *f, char quote, char *dst) {
    int64_t o = 0;
    for (int64_t k = 0; k < f->len; k++) {
        dst[o++] = f->p[k];
        if (f->p[k] == quote) k++;
    }
    return o;
}

static const char *bad_field_msg(int bad) {
    switch (bad) {
    case BAD_UNTERMINATED: return "unterminated quoted field";
    case BAD_AFTER_QUOTE: return "unexpected character after a closing quote";
    default: return "field longer than the limit of 1 GiB";
    }
}

/* ---------------------------------------------------------------- value parsers */

static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline bool is_space(char c) { return c == ' ' || c == '\t'; }

static inline void trim(const char **s, int64_t *n) {
    while (*n > 0 && is_space(**s)) (*s)++, (*n)--;
    while (*n > 0 && is_space((*s)[*n - 1])) (*n)--;
}

static inline bool parse_i64(const char *s, int64_t n, int64_t *out) {
    trim(&s, &n);
    if (n == 0) return false;
    bool neg = false;
    int64_t k = 0;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        k = 1;
        if (n == 1) return false;
    }
    uint64_t v = 0;
    int64_t digits = n - k;
    if (digits <= 18) {
        for (; k < n; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (d > 9) return false;
            v = v * 10 + d;
        }
    } else {
        for (; k < n; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (d > 9) return false;
            if (v > (UINT64_MAX - d) / 10) return false;
            v = v * 10 + d;
        }
        if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) return false;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool parse_u64(const char *s, int64_t n, uint64_t *out) {
    trim(&s, &n);
    int64_t k = (n > 0 && s[0] == '+') ? 1 : 0;
    if (k == n) return false;
    uint64_t v = 0;
    for (; k < n; k++) {
        unsigned d = (unsigned)(s[k] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool word_eq(const char *s, int64_t n, const char *w) {
    int64_t wl = (int64_t)strlen(w);
    if (n != wl) return false;
    for (int64_t k = 0; k < n; k++)
        if ((s[k] | 32) != w[k]) return false;
    return true;
}

static const double k_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Decimal floating point text ([+-]digits[.digits][e[+-]digits], nan, inf, infinity). Exact
 * fast path when the mantissa has at most 15 digits and the power of ten is within 1e22
 * (both exactly representable, one correctly rounded operation); strtod otherwise. */
static bool parse_f64(const char *s, int64_t n, double *out) {
    trim(&s, &n);
    if (n == 0) return false;
    const char *p = s, *e = s + n;
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (p == e) return false;
    if (!is_digit(*p) && *p != '.') {
        int64_t rest = e - p;
        double v;
        if (word_eq(p, rest, "nan")) v = NAN;
        else if (word_eq(p, rest, "inf") || word_eq(p, rest, "infinity")) v = INFINITY;
        else return false;
        *out = neg ? -v : v;
        return true;
    }
    uint64_t m = 0;
    int nd = 0;
    int64_t exp10 = 0;
    bool any = false, exact = true;
    for (; p < e && is_digit(*p); p++) {
        any = true;
        if (nd < 19) {
            m = m * 10 + (uint64_t)(*p - '0');
            if (m) nd++;
        } else {
            exp10++;
            if (*p != '0') exact = false;
        }
    }
    if (p < e && *p == '.') {
        for (p++; p < e && is_digit(*p); p++) {
            any = true;
            if (nd < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m) nd++;
                exp10--;
            } else if (*p != '0') {
                exact = false;
            }
        }
    }
    if (!any) return false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == e || !is_digit(*p)) return false;
        int64_t ev = 0;
        for (; p < e && is_digit(*p); p++)
            if (ev < 100000) ev = ev * 10 + (*p - '0');
        exp10 += eneg ? -ev : ev;
    }
    if (p != e) return false;
    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    if (exact && nd <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / k_pow10[-exp10] : v * k_pow10[exp10];
        *out = neg ? -v : v;
        return true;
    }
    char small[128];
    char *tmp = n < (int64_t)sizeof small ? small : pl_malloc((size_t)n + 1);
    if (!tmp) return false;
    memcpy(tmp, s, (size_t)n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    if (tmp != small) pl_free(tmp);
    return true;
}

static bool parse_bool(const char *s, int64_t n, bool *out) {
    trim(&s, &n);
    if (word_eq(s, n, "true")) return (*out = true);
    if (word_eq(s, n, "false")) return !(*out = false);
    return false;
}

static bool parse_bool_loose(const char *s, int64_t n, bool *out) {
    if (parse_bool(s, n, out)) return true;
    trim(&s, &n);
    if (word_eq(s, n, "yes")) return (*out = true);
    if (word_eq(s, n, "no")) return !(*out = false);
    if (n == 1 && (s[0] == '1' || s[0] == 't' || s[0] == 'T' || s[0] == 'y' || s[0] == 'Y'))
        return (*out = true);
    if (n == 1 && (s[0] == '0' || s[0] == 'f' || s[0] == 'F' || s[0] == 'n' || s[0] == 'N'))
        return !(*out = false);
    return false;
}

static bool parse_time(const char *s, int64_t n, pl_time_unit unit, int64_t *out) {
    trim(&s, &n);
    /* reuse the timestamp parser on a fixed date */
    char tmp[64];
    if (n <= 0 || n > 40) return false;
    memcpy(tmp, "1970-01-01 ", 11);
    memcpy(tmp + 11, s, (size_t)n);
    bool tz;
    return pl_text_parse_timestamp(tmp, n + 11, unit, out, &tz) && !tz && *out >= 0;
}

static const int64_t k_us_per_day = 86400LL * 1000000;

/* A DATE (days; date = true) or TIMESTAMP in `unit` from text by a strptime format. */
static bool parse_by_format(const pl_time_format *f, const char *s, int64_t n, pl_time_unit unit,
                            int64_t *out, bool date) {
    int64_t us;
    const char *why;
    if (!pl_time_format_parse(f, s, n, &us, &why)) return false;
    if (date) {
        int64_t days = us / k_us_per_day - (us % k_us_per_day < 0);
        if (days < INT32_MIN || days > INT32_MAX) return false;
        *out = days;
        return true;
    }
    switch (unit) {
    case PL_UNIT_S: *out = us / 1000000 - (us % 1000000 < 0); return true;
    case PL_UNIT_MS: *out = us / 1000 - (us % 1000 < 0); return true;
    case PL_UNIT_NS:
        if (us > INT64_MAX / 1000 || us < INT64_MIN / 1000) return false;
        *out = us * 1000;
        return true;
    default: *out = us; return true;
    }
}

/* ---------------------------------------------------------------- reader state */

typedef enum conv_kind {
    CK_BOOL,
    CK_INT,    /* signed or unsigned up to 32 bits, and INT64: range checked */
    CK_UINT64,
    CK_F32,
    CK_F64,
    CK_DEC,
    CK_DATE,
    CK_TIME,
    CK_TS,
    CK_UTF8,
    CK_BINARY,
} conv_kind;

typedef struct col_plan {
    int32_t out_idx; /* output column, -1 = not read */
    conv_kind kind;
    const pl_type *type;
    const pl_time_format *tfmt; /* CK_DATE, CK_TS: dateformat / timestampformat; NULL = ISO */
    int32_t width; /* bytes per value for fixed-width kinds */
    int64_t min, max;
    pl_type *owned; /* the type of a column outside the output (checked by ignore_errors) */
} col_plan;

typedef struct csv_reader {
    csv_dialect dl;
    bool header;
    char **null_values; /* owned copies */
    int64_t *null_lens;
    int32_t n_null;
    bool null_empty; /* an empty unquoted field is NULL for string columns */
    bool quoted_nulls; /* csv_allow_quoted_nulls: the null strings match quoted fields too */
    int32_t n_file_cols;
    char **file_names;
    col_plan *plans;
    pl_schema *schema;
    int32_t n_out;
    int32_t *out_file_col; /* output column -> file column; -1 = the file name column */
    char *filename_col;    /* csv_filename: the name of the file name column, NULL = none */
    bool ignore_errors;    /* csv_ignore_errors: rows that do not parse are skipped */
    pl_time_format date_fmt, ts_fmt; /* csv_date_format / csv_timestamp_format */
    bool has_date_fmt, has_ts_fmt;
    /* the date and timestamp forms inference tries when none is given (sniff_forms): DATE ones
     * in [0, n_sniff_date), TIMESTAMP ones after, most preferred first; per file column the
     * one chosen (col_date_fmt, col_ts_fmt: an index, -1 = ISO) */
    pl_time_format *sniff_fmts;
    int32_t n_sniff_date, n_sniff;
    int16_t *col_date_fmt, *col_ts_fmt;
    /* inputs */
    int32_t n_src, cur_src;
    char **paths;
    pl_buf *mem; /* pl_csv_scan_buffer input */
    pl_text_src src; /* the current input */
    pl_buf *cur;     /* src.win: the bytes at hand (borrowed) */
    const char *cur_name;
    int64_t pos;     /* in cur */
    bool sequential;
    bool need_more;  /* parsing reached the end of a window that is not the input's end */
    /* output */
    pl_batch_queue queue;
    int64_t limit_left;
    int64_t skip_rows; /* lines skipped at the start of each file */
    int32_t n_threads;
    int64_t chunk_bytes;
    int64_t row_bytes_est;
} csv_reader;

static int64_t g_test_chunk_bytes;

void pl_csv_set_chunk_bytes_for_testing(int64_t n_bytes) { g_test_chunk_bytes = n_bytes; }

/* An error at window offset off (line and input offset from it). */
static pl_status fail_at(const csv_reader *r, const char *d, int64_t off, int32_t col,
                         pl_status code, const char *msg, pl_error *err) {
    (void)d;
    pl_error_set(err, code, "%s", msg);
    if (err) {
        if (err->row < 0) err->row = pl_text_src_line(&r->src, off);
        if (err->byte_offset < 0) err->byte_offset = r->src.base + off;
    }
    if (col >= 0 && col < r->n_file_cols) pl_error_set_column(err, col, r->file_names[col]);
    pl_error_set_path(err, r->cur_name);
    return code;
}

/* ---------------------------------------------------------------- inference */

enum {
    M_BOOL = 1,
    M_INT = 2,
    M_F64 = 4,
    M_DATE = 8,
    M_TS = 16,
    M_TIME = 32,
    M_HUGE = 64, /* integers of up to 38 digits: DECIMAL(38, 0) (DuckDB: HUGEINT) */
    M_DATE_F = 128, /* a DATE by one of the sniffed forms (infer_col.cands) */
    M_TS_F = 256,   /* a TIMESTAMP by one of the sniffed forms */
};

/* Text that inference may read as a number, like DuckDB's sniffer: no leading '+' ("+3" stays
 * text) and no leading zero before another digit ("007", "00.5": codes and identifiers whose
 * zeros matter; "0", "0.5", "-007" are numbers). Explicit types parse such text anyway. */
static bool infer_numeric_form(const char *s, int64_t n) {
    trim(&s, &n);
    if (n == 0 || s[0] == '+') return false;
    return !(n > 1 && s[0] == '0' && is_digit(s[1]));
}

/* "true"/"false"/"t"/"f"/"yes"/"no" in any case (DuckDB's booleans; "y"/"n" and "1"/"0" are not
 * inferred as booleans). */
static bool infer_bool_word(const char *s, int64_t n) {
    trim(&s, &n);
    if (n == 1) return (s[0] | 32) == 't' || (s[0] | 32) == 'f';
    return word_eq(s, n, "true") || word_eq(s, n, "false") || word_eq(s, n, "yes") ||
           word_eq(s, n, "no");
}

/* An integer of at most 38 digits without '+' or leading zeros (fits DECIMAL(38, 0)). */
static bool infer_huge_int(const char *s, int64_t n) {
    trim(&s, &n);
    int64_t k = n > 0 && s[0] == '-' ? 1 : 0;
    if (n - k < 1 || n - k > 38) return false;
    for (int64_t i = k; i < n; i++)
        if (!is_digit(s[i])) return false;
    return true;
}

typedef struct infer_col {
    unsigned mask;
    bool seen, tz;
    uint64_t cands; /* the sniffed date / timestamp forms every value so far fits (bit i:
                     * csv_reader.sniff_fmts[i]) */
} infer_col;

static bool is_null_text(const csv_reader *r, const char *s, int64_t n) {
    for (int32_t k = 0; k < r->n_null; k++)
        if (r->null_lens[k] == n && memcmp(r->null_values[k], s, (size_t)n) == 0) return true;
    return false;
}

static void infer_value(const csv_reader *r, infer_col *ic, const char *s, int64_t n) {
    ic->seen = true;
    unsigned m = ic->mask;
    if ((m & M_BOOL) && !infer_bool_word(s, n)) m &= ~(unsigned)M_BOOL;
    if ((m & (M_INT | M_HUGE | M_F64)) && !infer_numeric_form(s, n))
        m &= ~(unsigned)(M_INT | M_HUGE | M_F64);
    if (m & M_INT) {
        int64_t v;
        if (!parse_i64(s, n, &v)) m &= ~(unsigned)M_INT;
    }
    if ((m & M_HUGE) && !infer_huge_int(s, n)) m &= ~(unsigned)M_HUGE;
    if (m & M_F64) {
        double v;
        const char *t = s;
        int64_t tn = n;
        trim(&t, &tn);
        if (tn > 0 && t[0] == '-') t++, tn--;
        /* "inf"/"infinity" stay text like DuckDB's sniffer ("nan" is a DOUBLE) */
        if (word_eq(t, tn, "inf") || word_eq(t, tn, "infinity") || !parse_f64(s, n, &v))
            m &= ~(unsigned)M_F64;
    }
    if (m & M_DATE) {
        int32_t v;
        int64_t days;
        if (r->has_date_fmt ? !parse_by_format(&r->date_fmt, s, n, PL_UNIT_US, &days, true)
                            : !pl_text_parse_date(s, n, &v))
            m &= ~(unsigned)M_DATE;
    }
    if (m & M_TS) {
        int64_t v;
        bool tz = false;
        if (r->has_ts_fmt) {
            if (!parse_by_format(&r->ts_fmt, s, n, PL_UNIT_US, &v, false)) m &= ~(unsigned)M_TS;
            else if (r->ts_fmt.has_tz_spec) ic->tz = true;
        } else if (!pl_text_parse_timestamp(s, n, PL_UNIT_US, &v, &tz)) {
            m &= ~(unsigned)M_TS;
        } else if (tz) {
            ic->tz = true;
        }
    }
    if (m & M_TIME) {
        int64_t v;
        if (!parse_time(s, n, PL_UNIT_US, &v)) m &= ~(unsigned)M_TIME;
    }
    if (m & (M_DATE_F | M_TS_F)) {
        /* every sniffed form starts with a digit: one test drops the text columns */
        uint64_t c = n > 0 && is_digit(s[0]) ? ic->cands : 0;
        for (int32_t i = 0; i < r->n_sniff; i++) {
            int64_t v;
            if ((c >> i & 1) && !parse_by_format(&r->sniff_fmts[i], s, n, PL_UNIT_US, &v,
                                                  i < r->n_sniff_date))
                c &= ~((uint64_t)1 << i);
        }
        uint64_t date_bits = ((uint64_t)1 << r->n_sniff_date) - 1;
        if (!(c & date_bits)) m &= ~(unsigned)M_DATE_F;
        if (!(c & ~date_bits)) m &= ~(unsigned)M_TS_F;
        ic->cands = c;
    }
    ic->mask = m;
}

/* ---------------------------------------------------------------- chunk parsing */

typedef struct col_out {
    pl_buf *values, *validity, *data;
    int64_t null_count;
} col_out;

typedef struct chunk_job {
    const csv_reader *r;
    const char *d;
    int64_t n;
    int64_t start, end;
    bool soft;        /* stop at the first row end at or after `end` (or after max_rows) */
    bool more;        /* the input goes on after d + n (a compressed input's window) */
    bool cut;         /* parsing stopped at a row the window's end cuts (only with more) */
    int64_t max_rows;
    int64_t stop;     /* where parsing stopped */
    int64_t n_rows;
    pl_batch *batch;
    pl_status st;
    pl_error err;
} chunk_job;

static pl_status grow_rows(const csv_reader *r, col_out *cols, int64_t cap_rows, pl_error *err) {
    for (int32_t c = 0; c < r->n_out; c++) {
        if (r->out_file_col[c] < 0) continue; /* the file name column: built by make_batch */
        const col_plan *pl = &r->plans[r->out_file_col[c]];
        col_out *co = &cols[c];
        int64_t vbytes;
        if (pl->kind == CK_BOOL) vbytes = (cap_rows + 7) / 8;
        else if (pl->kind == CK_UTF8 || pl->kind == CK_BINARY) vbytes = (cap_rows + 1) * 4;
        else vbytes = cap_rows * pl->width;
        if (!co->values) {
            PL_TRY(pl_buf_new(vbytes, &co->values, err));
            if (pl->kind == CK_UTF8 || pl->kind == CK_BINARY) {
                memset(co->values->data, 0, 4);
                PL_TRY(pl_buf_new(cap_rows * 8 + 64, &co->data, err));
            }
        } else {
            PL_TRY(pl_buf_reserve(co->values, vbytes, err));
        }
        if (co->validity) {
            int64_t had = co->validity->capacity;
            PL_TRY(pl_buf_reserve(co->validity, (cap_rows + 7) / 8, err));
            memset(co->validity->data + had, 0xFF, (size_t)(co->validity->capacity - had));
        }
    }
    return PL_OK;
}

static pl_status set_null(col_out *co, const col_plan *pl, int64_t row, int64_t cap_rows,
                          pl_error *err) {
    if (!co->validity) {
        /* all set: rows not written yet read as valid (drop_row relies on it) */
        PL_TRY(pl_buf_new((cap_rows + 7) / 8, &co->validity, err));
        memset(co->validity->data, 0xFF, (size_t)co->validity->capacity);
    }
    pl_bit_clear(co->validity->data, row);
    co->null_count++;
    switch (pl->kind) {
    case CK_BOOL: pl_bit_clear(co->values->data, row); break;
    case CK_UTF8:
    case CK_BINARY: {
        int32_t *o = (int32_t *)(void *)co->values->data;
        o[row + 1] = o[row];
        break;
    }
    default: memset(co->values->data + row * pl->width, 0, (size_t)pl->width);
    }
    return PL_OK;
}

static inline void set_valid(col_out *co, int64_t row) {
    if (co->validity) pl_bit_set(co->validity->data, row);
}

/* Parses the non-null text s[0..n) of a non-text column into slot (pl->width bytes; a bool is
 * one byte 0/1); false when it is not a value of the column's type. */
static inline bool parse_value(const col_plan *pl, const char *s, int64_t n, uint8_t *slot) {
    switch (pl->kind) {
    case CK_BOOL: {
        bool b;
        if (!parse_bool_loose(s, n, &b)) return false;
        slot[0] = b;
        return true;
    }
    case CK_INT: {
        int64_t v;
        if (!parse_i64(s, n, &v) || v < pl->min || v > pl->max) return false;
        switch (pl->width) {
        case 1: *(int8_t *)slot = (int8_t)v; break;
        case 2: { int16_t x = (int16_t)v; memcpy(slot, &x, 2); break; }
        case 4: { int32_t x = (int32_t)v; memcpy(slot, &x, 4); break; }
        default: memcpy(slot, &v, 8);
        }
        return true;
    }
    case CK_UINT64: {
        uint64_t v;
        if (!parse_u64(s, n, &v)) return false;
        memcpy(slot, &v, 8);
        return true;
    }
    case CK_F32:
    case CK_F64: {
        double v;
        if (!parse_f64(s, n, &v)) return false;
        if (pl->kind == CK_F32) {
            float x = (float)v;
            memcpy(slot, &x, 4);
        } else {
            memcpy(slot, &v, 8);
        }
        return true;
    }
    case CK_DEC: {
        uint64_t lo;
        int64_t hi;
        if (!pl_text_parse_decimal(s, n, pl->type->precision, pl->type->scale, &lo, &hi)) return false;
        pl_store_u64le(slot, lo);
        pl_store_u64le(slot + 8, (uint64_t)hi);
        return true;
    }
    case CK_DATE: {
        int32_t v;
        if (pl->tfmt) {
            int64_t days;
            if (!parse_by_format(pl->tfmt, s, n, PL_UNIT_US, &days, true)) return false;
            v = (int32_t)days;
        } else {
            trim(&s, &n);
            if (!pl_text_parse_date(s, n, &v)) return false;
        }
        memcpy(slot, &v, 4);
        return true;
    }
    case CK_TIME: {
        int64_t v;
        if (!parse_time(s, n, pl->type->unit, &v)) return false;
        memcpy(slot, &v, 8);
        return true;
    }
    case CK_TS: {
        int64_t v;
        bool tz;
        if (pl->tfmt) {
            if (!parse_by_format(pl->tfmt, s, n, pl->type->unit, &v, false)) return false;
        } else {
            trim(&s, &n);
            if (!pl_text_parse_timestamp(s, n, pl->type->unit, &v, &tz)) return false;
        }
        memcpy(slot, &v, 8);
        return true;
    }
    default: return true;
    }
}

static pl_status conv_fail(chunk_job *j, const csv_field *f, const char *s, int64_t n,
                           const col_plan *pl, int64_t row_start, int32_t file_col) {
    char tbuf[64];
    char shown[72];
    int64_t sn = n > 60 ? 60 : n;
    memcpy(shown, s, (size_t)sn);
    shown[sn] = '\0';
    char msg[256];
    snprintf(msg, sizeof msg, "cannot parse \"%s%s\" as %s", shown, n > 60 ? "..." : "",
             pl_type_to_string(pl->type, tbuf, sizeof tbuf));
    (void)f;
    fail_at(j->r, j->d, row_start, file_col, PL_ERR_TYPE, msg, &j->err);
    snprintf(j->err.hint, sizeof j->err.hint,
             "give the column a type explicitly or raise the inference sample size");
    return PL_ERR_TYPE;
}

/* Converts one field into column co at row `row`. scratch holds at least f->len bytes. */
static pl_status convert_field(chunk_job *j, const col_plan *pl, col_out *co, int64_t row,
                               int64_t cap_rows, const csv_field *f, char *scratch,
                               int64_t row_start, int32_t file_col) {
    const csv_reader *r = j->r;
    bool is_str = pl->kind == CK_UTF8 || pl->kind == CK_BINARY;
    if (!f->quoted || r->quoted_nulls) {
        if (f->len == 0 ? (r->null_empty || !is_str) : (r->n_null && is_null_text(r, f->p, f->len)))
            return set_null(co, pl, row, cap_rows, &j->err);
    } else if (f->len == 0 && !is_str) {
        return set_null(co, pl, row, cap_rows, &j->err);
    }
    const char *s = f->p;
    int64_t n = f->len;
    if (is_str) {
        int32_t *o = (int32_t *)(void *)co->values->data;
        int64_t at = o[row];
        if (n > PL_MAX_VARLEN_BYTES - at) {
            fail_at(r, j->d, row_start, file_col, PL_ERR_LIMIT,
                    "string data of one chunk exceeds 2 GiB", &j->err);
            return PL_ERR_LIMIT;
        }
        PL_TRY(pl_buf_reserve(co->data, at + n, &j->err));
        char *dst = (char *)co->data->data + at;
        if (f->escaped) n = unescape(f, r->dl.quote, dst);
        else memcpy(dst, s, (size_t)n);
        if (pl->kind == CK_UTF8 && !pl_utf8_valid((const uint8_t *)dst, n)) {
            fail_at(r, j->d, row_start, file_col, PL_ERR_CORRUPT, "invalid UTF-8 in a text field",
                    &j->err);
            return PL_ERR_CORRUPT;
        }
        o[row + 1] = (int32_t)(at + n);
        set_valid(co, row);
        return PL_OK;
    }
    if (f->escaped) {
        n = unescape(f, r->dl.quote, scratch);
        s = scratch;
    }
    uint8_t one[1];
    uint8_t *slot = pl->kind == CK_BOOL ? one : co->values->data + row * pl->width;
    if (!parse_value(pl, s, n, slot)) return conv_fail(j, f, s, n, pl, row_start, file_col);
    if (pl->kind == CK_BOOL) pl_bit_put(co->values->data, row, one[0]);
    set_valid(co, row);
    return PL_OK;
}

/* ignore_errors: whether field f of a column outside the output would convert (it is NULL by the
 * reader's rules or a value of the column's type), so that a projection skips the same rows as
 * a read of every column. */
static bool field_converts(const csv_reader *r, const col_plan *pl, const csv_field *f,
                           char *scratch) {
    if (pl->kind == CK_UTF8 || pl->kind == CK_BINARY) return true;
    if (f->len == 0 || ((!f->quoted || r->quoted_nulls) && r->n_null && is_null_text(r, f->p, f->len)))
        return true;
    const char *s = f->p;
    int64_t n = f->len;
    if (f->escaped) {
        n = unescape(f, r->dl.quote, scratch);
        s = scratch;
    }
    _Alignas(16) uint8_t slot[32];
    return parse_value(pl, s, n, slot);
}

static void free_cols(col_out *cols, int32_t n) {
    if (!cols) return;
    for (int32_t c = 0; c < n; c++) {
        pl_buf_release(cols[c].values);
        pl_buf_release(cols[c].validity);
        pl_buf_release(cols[c].data);
    }
    pl_free(cols);
}

/* The file name column of a batch of n_rows rows of the current input: its path, repeated. */
static pl_status filename_array(const csv_reader *r, int64_t n_rows, pl_array **out,
                                pl_error *err) {
    const char *name = r->cur_name;
    int64_t len = (int64_t)strlen(name);
    if (len * n_rows > PL_MAX_VARLEN_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "file name column of one chunk exceeds 2 GiB");
    pl_buf *offsets = NULL, *data = NULL;
    pl_status st = pl_buf_new((n_rows + 1) * 4, &offsets, err);
    if (!st) st = pl_buf_new(len * n_rows + 1, &data, err);
    if (st) {
        pl_buf_release(offsets);
        return st;
    }
    int32_t *o = (int32_t *)(void *)offsets->data;
    for (int64_t i = 0; i <= n_rows; i++) o[i] = (int32_t)(i * len);
    for (int64_t i = 0; i < n_rows; i++) memcpy(data->data + i * len, name, (size_t)len);
    offsets->size = (n_rows + 1) * 4;
    data->size = len * n_rows;
    return pl_array_new(pl_type_simple(PL_TYPE_UTF8), n_rows, 0, NULL, offsets, data, 0, NULL,
                        NULL, out, err);
}

static pl_status make_batch(const csv_reader *r, col_out *cols, int64_t n_rows, pl_batch **out,
                            pl_error *err) {
    pl_array **arrays = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *arrays);
    if (!arrays) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    pl_status st = PL_OK;
    for (int32_t c = 0; c < r->n_out && !st; c++) {
        if (r->out_file_col[c] < 0) {
            st = filename_array(r, n_rows, &arrays[c], err);
            continue;
        }
        const col_plan *pl = &r->plans[r->out_file_col[c]];
        col_out *co = &cols[c];
        if (pl->kind == CK_BOOL) co->values->size = (n_rows + 7) / 8;
        else if (pl->kind == CK_UTF8 || pl->kind == CK_BINARY) {
            co->values->size = (n_rows + 1) * 4;
            co->data->size = ((int32_t *)(void *)co->values->data)[n_rows];
        } else co->values->size = n_rows * pl->width;
        if (co->validity) {
            co->validity->size = (n_rows + 7) / 8;
            if (co->null_count == 0) {
                pl_buf_release(co->validity);
                co->validity = NULL;
            }
        }
        st = pl_array_new(pl_type_retain((pl_type *)pl->type), n_rows, co->null_count,
                          co->validity, co->values, co->data, 0, NULL, NULL, &arrays[c], err);
        co->validity = co->values = co->data = NULL;
    }
    if (!st) {
        /* takes the column references (also on failure); the vector stays ours */
        st = pl_batch_new(pl_schema_retain(r->schema), n_rows, arrays, out, err);
    } else {
        for (int32_t c = 0; c < r->n_out; c++) pl_array_release(arrays[c]);
    }
    pl_free(arrays);
    return st;
}

/* Position after the line break that ends the line holding pos (or n). */
static int64_t skip_line(const char *d, int64_t n, int64_t pos) {
    const char *nl = pos < n ? memchr(d + pos, '\n', (size_t)(n - pos)) : NULL;
    return nl ? nl - d + 1 : n;
}

/* Whether the row at row_start runs into the end of a window after which the input goes on:
 * then it is read again, whole, from the next window (a row's last byte is its '\n'). A bad
 * row runs to its line's end (ignore_errors skips that far), which may be in the next window. */
static bool row_cut(const csv_reader *r, const char *d, int64_t n, int64_t row_start) {
    int64_t pos = row_start;
    for (;;) {
        csv_field f;
        int bad = 0;
        int rc = read_field(d, n, &pos, &r->dl, &f, &bad);
        if (rc == FIELD_BAD)
            return bad == BAD_UNTERMINATED || (skip_line(d, n, pos) >= n && d[n - 1] != '\n');
        if (rc == FIELD_EOL) return pos >= n && (n == 0 || d[n - 1] != '\n');
    }
}

/* ignore_errors: undoes what a failed row wrote at `row` (the next row overwrites the values;
 * NULL marks are taken back so the null counts stay exact). */
static void drop_row(const csv_reader *r, col_out *cols, int64_t row) {
    for (int32_t c = 0; c < r->n_out; c++) {
        col_out *co = &cols[c];
        if (co->validity && !pl_bit_get(co->validity->data, row)) {
            pl_bit_set(co->validity->data, row);
            co->null_count--;
        }
    }
}

/* Parses rows from j->start. Strict mode: rows while pos < end, then pos must equal end.
 * Soft mode: rows until pos >= end or max_rows rows. */
static void parse_chunk(chunk_job *j) {
    const csv_reader *r = j->r;
    const char *d = j->d;
    int64_t n = j->n;
    pl_error_init(&j->err);
    int64_t span = j->end - j->start;
    int64_t cap_rows = span / (r->row_bytes_est > 0 ? r->row_bytes_est : 16) + 16;
    if (cap_rows > j->max_rows) cap_rows = j->max_rows + 1;
    col_out *cols = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *cols);
    char *scratch = NULL;
    int64_t scratch_cap = 0;
    pl_status st = PL_OK;
    if (!cols) {
        st = pl_error_set(&j->err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    st = grow_rows(r, cols, cap_rows, &j->err);
    int64_t pos = j->start, n_rows = 0;
    while (!st && pos < n && pos < j->end && n_rows < j->max_rows) {
        int64_t row_start = pos;
        int64_t bl = blank_line_len(d, n, pos);
        if (bl && r->n_file_cols != 1) {
            pos += bl;
            continue;
        }
        if (n_rows == cap_rows) {
            cap_rows *= 2;
            st = grow_rows(r, cols, cap_rows, &j->err);
            if (st) break;
        }
        int32_t f_idx = 0;
        bool skip = false; /* ignore_errors: the row failed; read on to its end */
        for (;; f_idx++) {
            csv_field f;
            int bad = 0;
            int rc = read_field(d, n, &pos, &r->dl, &f, &bad);
            if (rc == FIELD_BAD) {
                if (r->ignore_errors) {
                    pos = skip_line(d, n, pos);
                    skip = true;
                    break;
                }
                st = fail_at(r, d, row_start, f_idx, PL_ERR_CORRUPT, bad_field_msg(bad), &j->err);
                j->err.byte_offset = r->src.base + pos;
                break;
            }
            if (f_idx < r->n_file_cols && !skip) {
                const col_plan *pl = &r->plans[f_idx];
                if (pl->out_idx >= 0 || r->ignore_errors) {
                    if (f.escaped && pl->kind != CK_UTF8 && pl->kind != CK_BINARY &&
                        f.len > scratch_cap) {
                        pl_free(scratch);
                        scratch_cap = f.len + 64;
                        scratch = pl_malloc((size_t)scratch_cap);
                        if (!scratch) {
                            st = pl_error_set(&j->err, PL_ERR_NOMEM, "out of memory");
                            break;
                        }
                    }
                }
                if (pl->out_idx < 0 && r->ignore_errors && !field_converts(r, pl, &f, scratch)) {
                    skip = true;
                } else if (pl->out_idx >= 0) {
                    st = convert_field(j, pl, &cols[pl->out_idx], n_rows, cap_rows, &f, scratch,
                                       row_start, f_idx);
                    if (st == PL_ERR_TYPE && r->ignore_errors) {
                        st = PL_OK;
                        skip = true;
                    }
                    if (st) break;
                }
            }
            if (rc == FIELD_EOL) break;
        }
        if (j->more && st != PL_ERR_NOMEM && (st || skip || f_idx + 1 != r->n_file_cols || pos >= n) &&
            row_cut(r, d, n, row_start)) {
            /* the window ends inside this row: it is parsed again from the next window */
            if (st) pl_error_init(&j->err);
            st = PL_OK;
            drop_row(r, cols, n_rows);
            pos = row_start;
            j->cut = true;
            break;
        }
        if (st) break;
        if (!skip && f_idx + 1 != r->n_file_cols) {
            if (!r->ignore_errors) {
                char msg[128];
                snprintf(msg, sizeof msg, "expected %d fields, found %d", r->n_file_cols, f_idx + 1);
                st = fail_at(r, d, row_start, -1, PL_ERR_CORRUPT, msg, &j->err);
                break;
            }
            skip = true;
        }
        if (skip) {
            drop_row(r, cols, n_rows);
            continue;
        }
        n_rows++;
    }
    if (st) goto done;
    j->stop = pos;
    j->n_rows = n_rows;
    if (n_rows > 0) st = make_batch(r, cols, n_rows, &j->batch, &j->err);
done:
    free_cols(cols, r->n_out);
    pl_free(scratch);
    j->st = st;
}

static void parse_chunk_task(void *arg, int64_t index, int32_t worker) {
    (void)worker;
    parse_chunk(&((chunk_job *)arg)[index]);
}

/* ---------------------------------------------------------------- streaming */

static int64_t count_byte(const char *p, int64_t n, char c) {
    int64_t cnt = 0;
    for (int64_t k = 0; k < n; k++) cnt += p[k] == c;
    return cnt;
}

typedef struct quote_count {
    const char *d;
    int64_t at, seg, n;
    char quote;
    int64_t *counts; /* counts[k]: quotes in [at + k*seg, at + (k+1)*seg) */
} quote_count;

static void count_quotes_task(void *arg, int64_t index, int32_t worker) {
    (void)worker;
    quote_count *qc = arg;
    int64_t from = qc->at + index * qc->seg;
    int64_t to = PL_MIN(qc->n, from + qc->seg);
    qc->counts[index] = from < to ? count_byte(qc->d + from, to - from, qc->quote) : 0;
}

/* Parses the next piece of the current input into the queue. */
static pl_status run_wave(csv_reader *r, pl_error *err) {
    const char *d = (const char *)r->cur->data;
    int64_t n = r->cur->size;
    int32_t threads = r->n_threads > 0 ? r->n_threads : pl_pool_threads();
    if (threads < 1) threads = 1;
    int64_t max_chunks = (int64_t)threads * PL_CSV_CHUNKS_PER_THREAD;
    bool seq = r->sequential || r->limit_left >= 0 || threads == 1;
    if (seq) max_chunks = 1;
    chunk_job *jobs = pl_calloc((size_t)max_chunks, sizeof *jobs);
    if (!jobs) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    int64_t n_jobs = 0, at = r->pos;
    if (seq) {
        chunk_job *j = &jobs[n_jobs++];
        j->r = r;
        j->d = d;
        j->n = n;
        j->start = at;
        j->soft = true;
        j->more = !r->src.eof;
        j->end = PL_MIN(n, at + r->chunk_bytes);
        j->max_rows = r->limit_left >= 0 ? r->limit_left : INT64_MAX;
    } else {
        /* quotes per nominal segment, counted in parallel; then each boundary is the first
         * '\n' at even parity from its nominal start (segments are short to scan) */
        quote_count qc = {d, at, r->chunk_bytes, n, r->dl.quote, NULL};
        int64_t n_seg = PL_MIN(max_chunks, (n - at + r->chunk_bytes - 1) / r->chunk_bytes);
        qc.counts = pl_calloc((size_t)n_seg, sizeof *qc.counts);
        if (!qc.counts) {
            pl_free(jobs);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
        pl_parallel_for(n_seg, threads, count_quotes_task, &qc);
        int parity = 0; /* at `at`, a row start */
        int64_t prev = at;
        for (int64_t k = 0; k < n_seg; k++) {
            int64_t nominal = at + (k + 1) * r->chunk_bytes;
            parity ^= (int)(qc.counts[k] & 1); /* parity at nominal */
            int64_t end = n;
            if (nominal < n) {
                if (nominal < prev) continue; /* the previous boundary already lies past it */
                int pp = parity;
                int64_t p = nominal;
                for (; p < n; p++) {
                    char c = d[p];
                    if (c == r->dl.quote) pp ^= 1;
                    else if (c == '\n' && !pp) break;
                }
                end = p < n ? p + 1 : n;
            }
            chunk_job *j = &jobs[n_jobs++];
            j->r = r;
            j->d = d;
            j->n = n;
            j->start = prev;
            j->end = end;
            j->more = !r->src.eof; /* a row may run past its chunk to the window end */
            j->max_rows = INT64_MAX;
            prev = end;
            if (end >= n) break;
        }
        pl_free(qc.counts);
    }
    pl_parallel_for(n_jobs, threads, parse_chunk_task, jobs);
    pl_status st = PL_OK;
    int64_t k = 0;
    for (; k < n_jobs; k++) {
        chunk_job *j = &jobs[k];
        if (j->st) {
            if (err) *err = j->err;
            st = j->st;
            break;
        }
        if (j->batch) {
            st = pl_batch_queue_push(&r->queue, j->batch, err);
            j->batch = NULL;
            if (st) break;
        }
        r->pos = j->stop;
        if (j->cut) {
            r->need_more = true; /* the window ends inside a row: the next window has it */
            break;
        }
        if (!j->soft && j->stop != j->end) {
            r->sequential = true; /* parity was fooled: later chunks started mid-row */
            k++;
            break;
        }
    }
    for (int64_t m = 0; m < n_jobs; m++) pl_batch_release(jobs[m].batch);
    pl_free(jobs);
    return st;
}

/* Reads the header row (or the first row, for the field count) at r->pos. Fills *names (owned)
 * when want_names. */
static pl_status read_first_row(csv_reader *r, bool consume, int32_t *n_cols, char ***names,
                                pl_error *err) {
    const char *d = (const char *)r->cur->data;
    int64_t n = r->cur->size;
    int64_t pos = r->pos;
    for (;;) {
        while (pos < n && blank_line_len(d, n, pos)) pos += blank_line_len(d, n, pos);
        if (r->src.eof || (pos < n && !row_cut(r, d, n, pos))) break;
        /* a compressed input's window ends before the row does: a larger one holds it */
        PL_TRY(pl_text_src_next(&r->src, 0, true, err));
        r->cur = r->src.win;
        d = (const char *)r->cur->data;
        n = r->cur->size;
    }
    int64_t row_start = pos;
    int32_t count = 0, cap = 0;
    char **out = NULL;
    pl_status st = PL_OK;
    if (pos >= n) {
        *n_cols = 0;
        *names = NULL;
        if (consume) r->pos = pos;
        return PL_OK;
    }
    for (;;) {
        csv_field f;
        int bad = 0;
        int rc = read_field(d, n, &pos, &r->dl, &f, &bad);
        if (rc == FIELD_BAD) {
            st = fail_at(r, d, row_start, count, PL_ERR_CORRUPT, bad_field_msg(bad), err);
            break;
        }
        if (count >= PL_CSV_MAX_COLUMNS) {
            st = fail_at(r, d, row_start, -1, PL_ERR_LIMIT, "more than 100000 columns", err);
            break;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = pl_realloc(out, (size_t)cap * sizeof *nn);
            if (!nn) {
                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                break;
            }
            out = nn;
        }
        char *name = pl_malloc((size_t)f.len + 1);
        if (!name) {
            st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
            break;
        }
        int64_t len = f.escaped ? unescape(&f, r->dl.quote, name) : f.len;
        if (!f.escaped) memcpy(name, f.p, (size_t)f.len);
        name[len] = '\0';
        out[count++] = name;
        if (rc == FIELD_EOL) break;
    }
    if (st) {
        for (int32_t k = 0; k < count; k++) pl_free(out[k]);
        pl_free(out);
        return st;
    }
    if (consume) r->pos = pos;
    *n_cols = count;
    *names = out;
    return PL_OK;
}

static void free_names(char **names, int32_t n) {
    if (!names) return;
    for (int32_t k = 0; k < n; k++) pl_free(names[k]);
    pl_free(names);
}

/* Maps input idx and positions r->pos after the BOM. */
static pl_status open_input(csv_reader *r, int32_t idx, pl_error *err) {
    PL_TRY(pl_text_input_open(&r->src, r->mem, r->paths, idx, &r->cur_name, err));
    r->cur = r->src.win;
    r->cur_src = idx;
    r->sequential = r->need_more = false;
    PL_TRY(pl_text_input_skip_bom(&r->src, &r->pos, &r->cur, err));
    for (int64_t k = 0; k < r->skip_rows && r->pos < r->cur->size; k++) {
        const uint8_t *nl = memchr(r->cur->data + r->pos, '\n', (size_t)(r->cur->size - r->pos));
        r->pos = nl ? (int64_t)(nl - r->cur->data) + 1 : r->cur->size;
        if (!nl && !r->src.eof) { /* the line goes on in the next window */
            PL_TRY(pl_text_input_next(&r->src, &r->pos, &r->cur, err));
            k--;
        }
    }
    return PL_OK;
}

/* Whether the row at *pos has the file's field count and no bad quoting; *pos moves past it. */
static bool row_is_sound(const csv_reader *r, const char *d, int64_t n, int64_t *pos) {
    for (int32_t f_idx = 0;; f_idx++) {
        csv_field f;
        int bad = 0;
        int rc = read_field(d, n, pos, &r->dl, &f, &bad);
        if (rc == FIELD_BAD) {
            *pos = skip_line(d, n, *pos);
            return false;
        }
        if (rc == FIELD_EOL) return f_idx + 1 == r->n_file_cols;
    }
}

/* Narrows ic (one per file column) by up to sample_rows rows from byte `start`; *n_rows is the
 * number of rows read; *cut when the window of a compressed input ended the sample early. */
static pl_status infer_sample(csv_reader *r, int64_t start, int64_t sample_rows, infer_col *ic,
                              int64_t *n_rows, bool *cut, pl_error *err) {
    const char *d = (const char *)r->cur->data;
    int64_t n = r->cur->size;
    int64_t pos = start, rows = 0;
    uint64_t all = r->n_sniff ? (r->n_sniff == 64 ? ~(uint64_t)0 : ((uint64_t)1 << r->n_sniff) - 1) : 0;
    unsigned sniffed = (r->n_sniff_date > 0 ? M_DATE_F : 0) |
                       (r->n_sniff > r->n_sniff_date ? M_TS_F : 0);
    bool more = !r->src.eof; /* the sample ends at a row the window cuts */
    for (int32_t k = 0; k < r->n_file_cols; k++)
        ic[k] = (infer_col){M_BOOL | M_INT | M_HUGE | M_F64 | M_DATE | M_TS | M_TIME | sniffed,
                            false, false, all};
    char *scratch = NULL;
    int64_t scratch_cap = 0;
    pl_status st = PL_OK;
    while (pos < n && rows < sample_rows) {
        int64_t row_start = pos;
        int64_t bl = blank_line_len(d, n, pos);
        if (bl && r->n_file_cols != 1) {
            pos += bl;
            continue;
        }
        if (more && row_cut(r, d, n, row_start)) { /* the sample's rows are whole */
            *cut = true;
            break;
        }
        if (r->ignore_errors) {
            /* a row that does not parse tells nothing about the types */
            int64_t end = row_start;
            if (!row_is_sound(r, d, n, &end)) {
                pos = end;
                continue;
            }
        }
        int32_t f_idx = 0;
        for (;; f_idx++) {
            csv_field f;
            int bad = 0;
            int rc = read_field(d, n, &pos, &r->dl, &f, &bad);
            if (rc == FIELD_BAD) {
                st = fail_at(r, d, row_start, f_idx, PL_ERR_CORRUPT, bad_field_msg(bad), err);
                if (err) err->byte_offset = r->src.base + pos;
                break;
            }
            if (f_idx < r->n_file_cols) {
                const char *s = f.p;
                int64_t len = f.len;
                bool null = !f.quoted || r->quoted_nulls ? (len == 0 || is_null_text(r, s, len))
                                                         : len == 0;
                if (!null) {
                    if (f.escaped) {
                        if (len > scratch_cap) {
                            pl_free(scratch);
                            scratch_cap = len + 64;
                            scratch = pl_malloc((size_t)scratch_cap);
                            if (!scratch) {
                                st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
                                break;
                            }
                        }
                        len = unescape(&f, r->dl.quote, scratch);
                        s = scratch;
                    }
                    if (ic[f_idx].mask) infer_value(r, &ic[f_idx], s, len);
                    else ic[f_idx].seen = true;
                }
            }
            if (rc == FIELD_EOL) break;
        }
        if (st) break;
        if (f_idx + 1 != r->n_file_cols) {
            char msg[128];
            snprintf(msg, sizeof msg, "expected %d fields, found %d", r->n_file_cols, f_idx + 1);
            st = fail_at(r, d, row_start, -1, PL_ERR_CORRUPT, msg, err);
            break;
        }
        rows++;
    }
    pl_free(scratch);
    if (more && pos >= n && rows < sample_rows) *cut = true; /* the window ended the sample */
    if (!st && rows > 0) {
        r->row_bytes_est = (pos - start) / rows;
        if (r->row_bytes_est < 1) r->row_bytes_est = 1;
    }
    *n_rows = rows;
    return st;
}

/* infer_sample over a window that holds the sample's rows (a compressed input's first window
 * grows up to PL_TEXT_MAX_SAMPLE_BYTES for them). */
static pl_status infer_types(csv_reader *r, int64_t start, int64_t sample_rows, infer_col *ic,
                             int64_t *n_rows, pl_error *err) {
    for (;;) {
        bool cut = false;
        PL_TRY(infer_sample(r, start, sample_rows, ic, n_rows, &cut, err));
        if (!cut || r->cur->size >= PL_TEXT_MAX_SAMPLE_BYTES) return PL_OK;
        PL_TRY(pl_text_src_next(&r->src, 0, true, err)); /* window offsets stay */
        r->cur = r->src.win;
    }
}

/* The type inference settled on for one column (text when it held only NULLs). */
static pl_status inferred_type(const infer_col *ic, pl_type **out, pl_error *err) {
    unsigned m = ic->mask;
    if (!ic->seen) *out = pl_type_simple(PL_TYPE_UTF8);
    else if (m & M_BOOL) *out = pl_type_simple(PL_TYPE_BOOL);
    else if (m & M_INT) *out = pl_type_simple(PL_TYPE_INT64);
    else if (m & M_HUGE) return pl_type_new_decimal(38, 0, out, err);
    else if (m & M_F64) *out = pl_type_simple(PL_TYPE_FLOAT64);
    else if (m & (M_DATE | M_DATE_F)) *out = pl_type_simple(PL_TYPE_DATE32);
    else if (m & M_TS) return pl_type_new_timestamp(PL_UNIT_US, ic->tz ? "UTC" : NULL, out, err);
    else if (m & M_TS_F) return pl_type_new_timestamp(PL_UNIT_US, NULL, out, err);
    else if (m & M_TIME) return pl_type_new_time64(PL_UNIT_US, out, err);
    else *out = pl_type_simple(PL_TYPE_UTF8);
    return PL_OK;
}

static pl_status plan_for_type(col_plan *pl, const pl_type *t, const char *name, pl_error *err) {
    pl->type = t;
    pl->width = t->byte_width;
    pl->min = INT64_MIN;
    pl->max = INT64_MAX;
    switch (t->id) {
    case PL_TYPE_BOOL: pl->kind = CK_BOOL; break;
    case PL_TYPE_INT8: pl->kind = CK_INT, pl->min = INT8_MIN, pl->max = INT8_MAX, pl->width = 1; break;
    case PL_TYPE_INT16: pl->kind = CK_INT, pl->min = INT16_MIN, pl->max = INT16_MAX, pl->width = 2; break;
    case PL_TYPE_INT32: pl->kind = CK_INT, pl->min = INT32_MIN, pl->max = INT32_MAX, pl->width = 4; break;
    case PL_TYPE_INT64: pl->kind = CK_INT, pl->width = 8; break;
    case PL_TYPE_UINT8: pl->kind = CK_INT, pl->min = 0, pl->max = UINT8_MAX, pl->width = 1; break;
    case PL_TYPE_UINT16: pl->kind = CK_INT, pl->min = 0, pl->max = UINT16_MAX, pl->width = 2; break;
    case PL_TYPE_UINT32: pl->kind = CK_INT, pl->min = 0, pl->max = UINT32_MAX, pl->width = 4; break;
    case PL_TYPE_UINT64: pl->kind = CK_UINT64, pl->width = 8; break;
    case PL_TYPE_FLOAT32: pl->kind = CK_F32, pl->width = 4; break;
    case PL_TYPE_FLOAT64: pl->kind = CK_F64, pl->width = 8; break;
    case PL_TYPE_DECIMAL128: pl->kind = CK_DEC, pl->width = 16; break;
    case PL_TYPE_DATE32: pl->kind = CK_DATE, pl->width = 4; break;
    case PL_TYPE_TIME64: pl->kind = CK_TIME, pl->width = 8; break;
    case PL_TYPE_TIMESTAMP: pl->kind = CK_TS, pl->width = 8; break;
    case PL_TYPE_UTF8: pl->kind = CK_UTF8; break;
    case PL_TYPE_BINARY: pl->kind = CK_BINARY; break;
    default: {
        char tb[64];
        PL_FAIL(err, PL_ERR_UNSUPPORTED, "cannot read CSV column \"%s\" as %s", name,
                pl_type_to_string(t, tb, sizeof tb));
    }
    }
    return PL_OK;
}

/* DATE and TIMESTAMP columns read by the dateformat / timestampformat when given. */
static void set_format(const csv_reader *r, col_plan *pl, int32_t k) {
    if (pl->kind == CK_DATE) {
        if (r->has_date_fmt) pl->tfmt = &r->date_fmt;
        else if (r->col_date_fmt && r->col_date_fmt[k] >= 0) pl->tfmt = &r->sniff_fmts[r->col_date_fmt[k]];
    }
    if (pl->kind == CK_TS) {
        if (r->has_ts_fmt) pl->tfmt = &r->ts_fmt;
        else if (r->col_ts_fmt && r->col_ts_fmt[k] >= 0) pl->tfmt = &r->sniff_fmts[r->col_ts_fmt[k]];
    }
}

/* The date and timestamp forms DuckDB's sniffer tries, most preferred first where several fit
 * every value of a sample ("01/02/03" is 2001-02-03, "01/02/2024" the 1st of February), each with
 * the separators '-', '/', '.' and ' '; ISO values are read as such before these. */
static const char *const k_sniff_date[] = {"%y-%m-%d", "%Y-%m-%d", "%d-%m-%y", "%d-%m-%Y",
                                           "%m-%d-%y", "%m-%d-%Y"};
static const char *const k_sniff_ts[] = {"%y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                         "%d-%m-%y %H:%M:%S", "%d-%m-%Y %H:%M:%S",
                                         "%m-%d-%y %I:%M:%S %p", "%m-%d-%Y %I:%M:%S %p"};

/* Compiles the forms inference tries: dates unless a dateformat is given, timestamps unless a
 * timestampformat is. */
static pl_status sniff_forms(csv_reader *r, pl_error *err) {
    static const char seps[] = {'-', '/', '.', ' '};
    int32_t n_date = r->has_date_fmt ? 0 : (int32_t)(PL_ARRAY_LEN(k_sniff_date) * sizeof seps);
    int32_t n_ts = r->has_ts_fmt ? 0 : (int32_t)(PL_ARRAY_LEN(k_sniff_ts) * sizeof seps);
    if (n_date + n_ts == 0) return PL_OK;
    r->sniff_fmts = pl_calloc((size_t)(n_date + n_ts), sizeof *r->sniff_fmts);
    if (!r->sniff_fmts) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n_date + n_ts; i++) {
        bool date = i < n_date;
        int32_t t = (date ? i : i - n_date) / (int32_t)sizeof seps;
        char f[64];
        snprintf(f, sizeof f, "%s", date ? k_sniff_date[t] : k_sniff_ts[t]);
        /* the date part's '-' becomes the separator (the time part has none) */
        for (int32_t c = 0; c < 8; c++)
            if (f[c] == '-') f[c] = seps[(date ? i : i - n_date) % (int32_t)sizeof seps];
        PL_TRY(pl_time_format_compile(&r->sniff_fmts[i], f, (int64_t)strlen(f), true, "read_csv", err));
        r->n_sniff = i + 1;
    }
    r->n_sniff_date = n_date;
    return PL_OK;
}

/* Per file column, the sniffed form its values fit when they are not ISO (the most preferred
 * one that fits them all), for DATE and for TIMESTAMP; -1 otherwise. */
static void choose_forms(csv_reader *r, const infer_col *ic, int32_t n_cols) {
    uint64_t date_bits = ((uint64_t)1 << r->n_sniff_date) - 1;
    for (int32_t k = 0; k < n_cols; k++) {
        r->col_date_fmt[k] = r->col_ts_fmt[k] = -1;
        uint64_t c = ic[k].cands;
        if (!(ic[k].mask & M_DATE) && (ic[k].mask & M_DATE_F) && (c & date_bits))
            r->col_date_fmt[k] = (int16_t)__builtin_ctzll(c & date_bits);
        if (!(ic[k].mask & M_TS) && (ic[k].mask & M_TS_F) && (c & ~date_bits))
            r->col_ts_fmt[k] = (int16_t)__builtin_ctzll(c & ~date_bits);
    }
}

static void reader_free(csv_reader *r) {
    if (!r) return;
    free_names(r->null_values, r->n_null);
    pl_free(r->null_lens);
    free_names(r->file_names, r->n_file_cols);
    for (int32_t k = 0; r->plans && k < r->n_file_cols; k++) pl_type_release(r->plans[k].owned);
    pl_free(r->plans);
    pl_free(r->out_file_col);
    pl_free(r->filename_col);
    pl_time_format_reset(&r->date_fmt);
    pl_time_format_reset(&r->ts_fmt);
    for (int32_t i = 0; i < r->n_sniff; i++) pl_time_format_reset(&r->sniff_fmts[i]);
    pl_free(r->sniff_fmts);
    pl_free(r->col_date_fmt);
    pl_free(r->col_ts_fmt);
    pl_schema_release(r->schema);
    free_names(r->paths, r->n_src);
    pl_buf_release(r->mem);
    pl_text_src_close(&r->src);
    pl_batch_queue_free(&r->queue);
    pl_free(r);
}

/* Pages of a mapped input that was truncated under the reader read as zeros (core/file.c):
 * whatever was parsed from them is void, so after each piece the outcome st becomes an error
 * naming the change (and the batches queued from the piece are dropped). */
static pl_status check_unchanged(csv_reader *r, pl_status st, pl_error *err) {
    return pl_io_check_unchanged(r->cur, r->src.slot, r->cur_name, &r->queue, st, err);
}

static pl_status csv_next(pl_stream *s, pl_batch **out, pl_error *err) {
    csv_reader *r = s->impl;
    for (;;) {
        PL_TRY(pl_batch_queue_pop(&r->queue, &r->limit_left, out, err));
        if (*out) return PL_OK;
        if (r->limit_left == 0 || r->n_out == 0) break;
        if (r->need_more || (r->pos >= r->cur->size && !r->src.eof)) {
            /* the next window of a compressed input, from the row it cut */
            PL_TRY(pl_text_input_next(&r->src, &r->pos, &r->cur, err));
            r->need_more = false;
            continue;
        }
        if (r->pos >= r->cur->size) {
            if (r->cur_src + 1 >= r->n_src) break;
            PL_TRY(open_input(r, r->cur_src + 1, err));
            int32_t n_cols;
            char **names;
            pl_status st = read_first_row(r, r->header, &n_cols, &names, err);
            if (!st && check_unchanged(r, PL_OK, err)) {
                free_names(names, n_cols);
                return PL_ERR_IO;
            }
            PL_TRY(check_unchanged(r, st, err));
            bool same = n_cols == r->n_file_cols || n_cols == 0;
            for (int32_t k = 0; same && r->header && k < n_cols; k++)
                same = strcmp(names[k], r->file_names[k]) == 0;
            free_names(names, n_cols);
            if (!same) {
                pl_error_set_path(err, r->cur_name);
                PL_FAIL(err, PL_ERR_TYPE, "columns differ from the first file's (\"%s\")",
                        r->paths[0]);
            }
            continue;
        }
        PL_TRY(check_unchanged(r, run_wave(r, err), err));
        /* the parsed part of a mapped file leaves the address space (it stays in the page
         * cache; an error message's line count maps it again): the scan's RSS does not grow by
         * the file's size */
        if (r->src.slot >= 0 && r->pos > 0) pl_file_map_drop(r->cur->data, (size_t)r->pos);
    }
    *out = NULL;
    return PL_OK;
}

static void csv_stream_free(pl_stream *s) {
    if (!s) return;
    reader_free(s->impl);
    pl_schema_release(s->schema);
    pl_free(s);
}

static pl_status dup_name(const char *s, char **out, pl_error *err) {
    *out = pl_strdup(s);
    if (!*out) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    return PL_OK;
}

/* DuckDB's name of column k of n without a name: "column<k>", k zero-padded to the width of
 * n - 1 ("column00" .. "column11" for 12 columns). */
static pl_status default_name(int32_t k, int32_t n, char **out, pl_error *err) {
    int width = 1;
    for (int32_t v = n - 1; v >= 10; v /= 10) width++;
    char digits[16], tmp[40] = "column";
    int nd = snprintf(digits, sizeof digits, "%d", (int)k);
    size_t at = strlen(tmp);
    for (int pad = nd; pad < width && at < sizeof tmp - 1; pad++) tmp[at++] = '0';
    tmp[at] = '\0';
    strncat(tmp, digits, sizeof tmp - at - 1);
    return dup_name(tmp, out, err);
}

/* Gives empty and duplicate header names unique replacements ("column3", "a_1"). */
static pl_status fix_names(char **names, int32_t n, pl_error *err) {
    for (int32_t k = 0; k < n; k++) {
        if (!names[k][0]) {
            pl_free(names[k]);
            names[k] = NULL;
            PL_TRY(default_name(k, n, &names[k], err));
        }
        for (int32_t dup = 1;; dup++) {
            bool clash = false;
            for (int32_t m = 0; m < k && !clash; m++) clash = strcmp(names[m], names[k]) == 0;
            if (!clash) break;
            size_t len = strlen(names[k]) + 16;
            char *nn = pl_malloc(len);
            if (!nn) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
            snprintf(nn, len, "%s_%d", names[k], dup);
            pl_free(names[k]);
            names[k] = nn;
        }
    }
    return PL_OK;
}

/* A dateformat / timestampformat that does not compile: the compiler's error, with a hint. */
static pl_status bad_format(pl_error *err, const char *option) {
    if (err && !err->hint[0])
        snprintf(err->hint, sizeof err->hint, "check the %s option (strptime specifiers such as "
                 "%%d/%%m/%%Y)", option);
    return err ? err->code : PL_ERR_INVALID_ARG;
}

/* The field count of each of the first lines (up to max_lines, blank lines skipped) of d[pos, n)
 * split by delim outside quotes; a last line cut by the sample's end is not counted (one ended
 * by the end of the file is: eof). Returns the number of lines counted. */
static int32_t sniff_counts(const char *d, int64_t n, int64_t pos, bool eof, char delim,
                            char quote, int32_t *counts, int32_t max_lines) {
    int32_t lines = 0, fields = 1;
    bool in_quote = false, empty = true;
    for (; pos < n && lines < max_lines; pos++) {
        char c = d[pos];
        if (c == quote) {
            in_quote = !in_quote;
            empty = false;
        } else if (in_quote) {
            continue;
        } else if (c == delim) {
            fields++;
            empty = false;
        } else if (c == '\n' || c == '\r') {
            if (!empty) counts[lines++] = fields;
            fields = 1;
            empty = true;
        } else {
            empty = false;
        }
    }
    if (pos >= n && eof && !empty && lines < max_lines) counts[lines++] = fields;
    return lines;
}

/* The delimiter of a CSV file given none, as DuckDB's sniffer picks it: of ',', '|', ';' and
 * tab, the one that splits the most of the first lines into the same number (> 1) of fields,
 * then the one giving more fields; ',' when none splits them. */
static char sniff_delimiter(const char *d, int64_t n, int64_t pos, char quote) {
    enum { SNIFF_LINES = 64, SNIFF_BYTES = 1 << 18 };
    static const char cands[] = {',', '|', ';', '\t'};
    int64_t end = n - pos > SNIFF_BYTES ? pos + SNIFF_BYTES : n;
    char best = ',';
    int32_t best_rows = 0, best_fields = 1;
    for (size_t c = 0; c < sizeof cands; c++) {
        if (cands[c] == quote) continue;
        int32_t counts[SNIFF_LINES];
        int32_t lines = sniff_counts(d, end, pos, end == n, cands[c], quote, counts, SNIFF_LINES);
        /* the most frequent field count and how many lines have it (first one on ties) */
        int32_t mode = 1, freq = 0;
        for (int32_t i = 0; i < lines; i++) {
            int32_t f = 0;
            for (int32_t k = 0; k < lines; k++) f += counts[k] == counts[i];
            if (f > freq) freq = f, mode = counts[i];
        }
        if (mode < 2) continue;
        if (freq > best_rows || (freq == best_rows && mode > best_fields)) {
            best = cands[c];
            best_rows = freq;
            best_fields = mode;
        }
    }
    return best;
}

/* The dialect's tables for delimiter delim. */
static pl_status set_delimiter(csv_reader *r, char delim, pl_error *err) {
    r->dl.delim = delim;
    if (r->dl.delim == r->dl.quote || r->dl.delim == '\n' || r->dl.delim == '\r')
        PL_FAIL(err, PL_ERR_INVALID_ARG, "the CSV delimiter must differ from the quote and newline");
    memset(r->dl.special, 0, sizeof r->dl.special);
    r->dl.special[(uint8_t)r->dl.delim] = 1;
    r->dl.delim8 = K_ONES8 * (uint8_t)r->dl.delim;
    r->dl.special['\n'] = 1;
    r->dl.special['\r'] = 1;
    return PL_OK;
}

static pl_status setup(csv_reader *r, const pl_read_opts *o, pl_error *err) {
    /* dialect: the delimiter given, tab for .tsv files, else sniffed once the file is open */
    bool sniff = !o->csv_delimiter;
    if (!o->csv_delimiter && !r->mem && r->n_src > 0) {
        const char *p = r->paths[0];
        size_t len = strlen(p);
        static const char *const tsv[] = {".tsv", ".tsv.gz", ".tsv.gzip", ".tsv.zst", ".tsv.zstd"};
        for (size_t i = 0; i < PL_ARRAY_LEN(tsv); i++) {
            size_t k = strlen(tsv[i]);
            if (len >= k && strcmp(p + len - k, tsv[i]) == 0) sniff = false;
        }
    }
    r->dl.quote = o->csv_quote ? o->csv_quote : '"';
    PL_TRY(set_delimiter(r, o->csv_delimiter ? o->csv_delimiter : sniff ? ',' : '\t', err));
    r->header = o->csv_header != 0;
    if (o->csv_null_values) {
        r->n_null = o->n_csv_null_values;
        r->null_values = pl_calloc((size_t)(r->n_null ? r->n_null : 1), sizeof(char *));
        r->null_lens = pl_calloc((size_t)(r->n_null ? r->n_null : 1), sizeof(int64_t));
        if (!r->null_values || !r->null_lens) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        for (int32_t k = 0; k < r->n_null; k++) {
            PL_TRY(dup_name(o->csv_null_values[k], &r->null_values[k], err));
            r->null_lens[k] = (int64_t)strlen(r->null_values[k]);
            if (r->null_lens[k] == 0) r->null_empty = true;
        }
    } else {
        r->null_empty = true;
    }
    r->ignore_errors = o->csv_ignore_errors;
    r->quoted_nulls = o->csv_allow_quoted_nulls;
    if (o->csv_date_format) {
        if (pl_time_format_compile(&r->date_fmt, o->csv_date_format,
                                   (int64_t)strlen(o->csv_date_format), true, "dateformat", err))
            return bad_format(err, "dateformat");
        r->has_date_fmt = true;
    }
    if (o->csv_timestamp_format) {
        if (pl_time_format_compile(&r->ts_fmt, o->csv_timestamp_format,
                                   (int64_t)strlen(o->csv_timestamp_format), true,
                                   "timestampformat", err))
            return bad_format(err, "timestampformat");
        r->has_ts_fmt = true;
    }
    PL_TRY(sniff_forms(r, err));
    if (o->csv_filename && !(r->filename_col = pl_strdup(o->csv_filename)))
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    r->limit_left = o->limit >= 0 ? o->limit : -1;
    r->skip_rows = o->csv_skip_rows > 0 ? o->csv_skip_rows : 0;
    r->n_threads = o->n_threads;

    /* the first row, the field count and the sample's types */
    PL_TRY(open_input(r, 0, err));
    if (sniff)
        PL_TRY(set_delimiter(r, sniff_delimiter((const char *)r->cur->data, r->cur->size, r->pos,
                                                r->dl.quote), err));
    int64_t first_row = r->pos;
    int32_t n_cols;
    char **first = NULL;
    PL_TRY(read_first_row(r, true, &n_cols, &first, err));
    int64_t after_first = r->pos;
    int32_t n_first = n_cols;
    int32_t n_given = o->n_csv_columns;
    pl_status st = PL_OK;
    if (n_given > 0 && n_cols > 0 && n_cols != n_given) {
        free_names(first, n_first);
        pl_error_set_path(err, r->cur_name);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "columns gives %d columns but the file has %d", n_given,
                n_cols);
    }
    if (n_given > 0) n_cols = n_given;
    else if (n_cols == 0) n_cols = 1; /* an empty file: one text column, like DuckDB */
    r->n_file_cols = n_cols;
    r->plans = pl_calloc((size_t)n_cols, sizeof *r->plans);
    r->file_names = pl_calloc((size_t)n_cols, sizeof *r->file_names);
    r->col_date_fmt = pl_malloc((size_t)n_cols * sizeof *r->col_date_fmt);
    r->col_ts_fmt = pl_malloc((size_t)n_cols * sizeof *r->col_ts_fmt);
    for (int32_t k = 0; r->col_date_fmt && r->col_ts_fmt && k < n_cols; k++)
        r->col_date_fmt[k] = r->col_ts_fmt[k] = -1;
    infer_col *ic = pl_calloc((size_t)n_cols, sizeof *ic);
    pl_type **types = pl_calloc((size_t)n_cols, sizeof *types);
    pl_field *fields = NULL;
    if (!r->plans || !r->file_names || !ic || !types || !r->col_date_fmt || !r->col_ts_fmt) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    int64_t sample = o->csv_sample_rows > 0 ? o->csv_sample_rows : PL_CSV_DEFAULT_SAMPLE_ROWS;
    r->row_bytes_est = 64;
    if (n_given > 0) {
        for (int32_t k = 0; k < n_cols; k++) types[k] = pl_type_retain(o->csv_column_types[k]);
    } else if (n_first > 0) {
        /* types of the rows after the first (of the first row alone when it is the only one) */
        int64_t rows = 0;
        if (o->csv_header != 0) st = infer_types(r, after_first, sample, ic, &rows, err);
        if (!st && (o->csv_header == 0 || (o->csv_header < 0 && rows == 0)))
            st = infer_types(r, first_row, sample, ic, &rows, err);
        for (int32_t k = 0; k < n_cols && !st; k++) st = inferred_type(&ic[k], &types[k], err);
        choose_forms(r, ic, n_cols);
    } else {
        types[0] = pl_type_simple(PL_TYPE_UTF8);
    }
    if (st) goto done;
    /* the header: given, or sniffed like DuckDB's: the first row is a header when every column
     * is text or one of its values does not fit its column's type */
    if (o->csv_header >= 0) {
        r->header = o->csv_header != 0;
    } else {
        bool all_text = true, fits = true;
        for (int32_t k = 0; k < n_cols; k++) {
            if (types[k]->id == PL_TYPE_UTF8) continue;
            all_text = false;
            if (k < n_first && fits) {
                col_plan pl = {0};
                uint8_t slot[16];
                st = plan_for_type(&pl, types[k], "", err);
                if (st) goto done;
                set_format(r, &pl, k);
                int64_t len = (int64_t)strlen(first[k]);
                fits = pl.kind == CK_BINARY || len == 0 || is_null_text(r, first[k], len) ||
                       parse_value(&pl, first[k], len, slot);
            }
        }
        r->header = all_text || !fits;
    }
    if (r->header) {
        r->pos = after_first;
    } else {
        r->pos = first_row;
        if (n_given == 0 && n_first > 0 && o->csv_header != 0) {
            /* the sample's types again, with the first row as data */
            int64_t rows = 0;
            memset(ic, 0, sizeof *ic * (size_t)n_cols);
            st = infer_types(r, first_row, sample, ic, &rows, err);
            for (int32_t k = 0; k < n_cols && !st; k++) {
                pl_type_release(types[k]);
                types[k] = NULL;
                st = inferred_type(&ic[k], &types[k], err);
            }
            choose_forms(r, ic, n_cols);
            if (st) goto done;
        }
    }
    /* names: given, from the header, or column0.. (zero-padded to the widest, like DuckDB) */
    for (int32_t k = 0; k < n_cols && !st; k++) {
        if (n_given > 0) st = dup_name(o->csv_column_names[k], &r->file_names[k], err);
        else if (r->header && k < n_first) r->file_names[k] = first[k], first[k] = NULL;
        else st = default_name(k, n_cols, &r->file_names[k], err);
    }
    if (!st && n_given == 0) st = fix_names(r->file_names, n_cols, err);
    if (st) goto done;
    if (o->csv_all_varchar && n_given == 0)
        for (int32_t k = 0; k < n_cols; k++) {
            pl_type_release(types[k]);
            types[k] = pl_type_simple(PL_TYPE_UTF8);
        }
    /* explicit types */
    for (int32_t t = 0; t < o->n_csv_types && !st; t++) {
        int32_t k = 0;
        while (k < n_cols && strcmp(r->file_names[k], o->csv_type_names[t]) != 0) k++;
        if (k == n_cols) {
            pl_error_set_path(err, r->cur_name);
            st = pl_error_set(err, PL_ERR_NOT_FOUND, "no column \"%s\" to give a type to",
                              o->csv_type_names[t]);
            break;
        }
        pl_type_release(types[k]);
        types[k] = pl_type_retain(o->csv_types[t]);
    }
    /* projection */
    for (int32_t k = 0; k < n_cols && !st && r->filename_col; k++)
        if (!strcmp(r->file_names[k], r->filename_col)) {
            pl_error_set_path(err, r->cur_name);
            st = pl_error_set(err, PL_ERR_INVALID_ARG,
                              "the file name column \"%s\" clashes with a column of the file",
                              r->filename_col);
        }
    if (!st) {
        r->n_out = o->columns ? o->n_columns : n_cols + (r->filename_col ? 1 : 0);
        r->out_file_col = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof(int32_t));
        fields = pl_calloc((size_t)(r->n_out ? r->n_out : 1), sizeof *fields);
        if (!r->out_file_col || !fields) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    }
    for (int32_t k = 0; k < n_cols && !st; k++) r->plans[k].out_idx = -1;
    for (int32_t c = 0; c < r->n_out && !st; c++) {
        int32_t k = c;
        bool fname = false;
        if (o->columns) {
            k = 0;
            while (k < n_cols && strcmp(r->file_names[k], o->columns[c]) != 0) k++;
            fname = k == n_cols && r->filename_col && !strcmp(o->columns[c], r->filename_col);
            if (k == n_cols && !fname) {
                pl_error_set_path(err, r->cur_name);
                st = pl_error_set(err, PL_ERR_NOT_FOUND, "no column \"%s\"", o->columns[c]);
                break;
            }
            for (int32_t m = 0; m < c; m++)
                if (!strcmp(o->columns[m], o->columns[c])) {
                    st = pl_error_set(err, PL_ERR_INVALID_ARG, "column \"%s\" selected twice",
                                      o->columns[c]);
                    break;
                }
            if (st) break;
        } else {
            fname = k == n_cols;
        }
        if (fname) {
            r->out_file_col[c] = -1;
            st = pl_field_init(&fields[c], r->filename_col, pl_type_simple(PL_TYPE_UTF8), false, err);
            continue;
        }
        r->out_file_col[c] = k;
        r->plans[k].out_idx = c;
        st = pl_field_init(&fields[c], r->file_names[k], types[k], true, err);
    }
    if (!st) st = pl_schema_new(r->n_out, fields, &r->schema, err);
    /* plans borrow the schema's types */
    for (int32_t c = 0; c < r->n_out && !st; c++) {
        int32_t k = r->out_file_col[c];
        if (k < 0) continue;
        int32_t keep = r->plans[k].out_idx;
        st = plan_for_type(&r->plans[k], r->schema->fields[c].type, r->file_names[k], err);
        set_format(r, &r->plans[k], k);
        r->plans[k].out_idx = keep;
    }
    /* ignore_errors skips a row whose value does not convert in any column, also in the columns
     * a projection leaves out (field_converts): they are planned by their types too */
    for (int32_t k = 0; k < n_cols && !st && r->ignore_errors; k++) {
        if (r->plans[k].out_idx >= 0) continue;
        r->plans[k].owned = pl_type_retain(types[k]);
        st = plan_for_type(&r->plans[k], types[k], r->file_names[k], err);
        set_format(r, &r->plans[k], k);
        r->plans[k].out_idx = -1;
    }
done:
    if (fields) {
        for (int32_t c = 0; c < r->n_out; c++) pl_field_reset(&fields[c]);
        pl_free(fields);
    }
    if (types) {
        for (int32_t k = 0; k < n_cols; k++) pl_type_release(types[k]);
        pl_free(types);
    }
    pl_free(ic);
    free_names(first, n_first);
    if (st) return st;

    int64_t size = r->cur->size;
    int32_t threads = o->n_threads > 0 ? o->n_threads : pl_pool_threads();
    if (threads < 1) threads = 1;
    int64_t cb = size / ((int64_t)threads * PL_CSV_CHUNKS_PER_THREAD);
    r->chunk_bytes = PL_MIN(PL_MAX(cb, PL_CSV_MIN_CHUNK_BYTES), PL_CSV_MAX_CHUNK_BYTES);
    if (g_test_chunk_bytes > 0) r->chunk_bytes = g_test_chunk_bytes;
    return PL_OK;
}

static pl_status open_stream(csv_reader *r, const pl_read_opts *opts, pl_stream **out,
                             pl_error *err) {
    pl_read_opts defaults;
    pl_status st = check_unchanged(r, setup(r, pl_read_opts_or_default(opts, &defaults), err),
                                   err); /* header and sample */
    if (!st) st = pl_io_stream_new(csv_next, csv_stream_free, r->schema, r, out, err);
    if (st) reader_free(r);
    return st;
}

pl_status pl_csv_scan_open(int32_t n_paths, const char *const *paths, const pl_read_opts *opts,
                           pl_stream **out, pl_error *err) {
    if (n_paths < 1) PL_FAIL(err, PL_ERR_INVALID_ARG, "no CSV input given");
    csv_reader *r = pl_calloc(1, sizeof *r);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    r->paths = pl_calloc((size_t)n_paths, sizeof(char *));
    if (!r->paths) {
        pl_free(r);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    }
    r->n_src = n_paths;
    r->src.slot = r->src.raw_slot = -1;
    for (int32_t k = 0; k < n_paths; k++) {
        r->paths[k] = pl_strdup(paths[k]);
        if (!r->paths[k]) {
            reader_free(r);
            PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
        }
    }
    return open_stream(r, opts, out, err);
}

pl_status pl_csv_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                             pl_stream **out, pl_error *err) {
    csv_reader *r = pl_calloc(1, sizeof *r);
    if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory");
    r->mem = pl_buf_retain(buf);
    r->src.slot = r->src.raw_slot = -1;
    r->n_src = 1;
    r->cur_name = name ? name : "<buffer>";
    return open_stream(r, opts, out, err);
}
