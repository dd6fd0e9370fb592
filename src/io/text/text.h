/* text.h - rendering values as text, shared by the CSV, JSON-lines and table writers and by
 * the CLI, and parsing the ISO date/time forms the CSV reader infers. One rule set, as
 * src/io/text/README.md documents (it matches what DuckDB prints):
 *   - doubles: the shortest text that reads back to the same value, fixed notation for decimal
 *     exponents -4..15 ("0.1", "1.0", "1000000000000000.0"), scientific outside ("1e+16",
 *     "1.5e-07", "5e-324"), "nan", "inf", "-inf", "-0.0"; floats likewise at float precision;
 *   - decimals keep their scale ("123.450", "-0.050");
 *   - dates "YYYY-MM-DD" (years <= 0 as "YYYY-MM-DD (BC)" with year 1-y, years > 9999 as is),
 *     times "HH:MM:SS[.fff]" (fraction digits as the unit, trailing zeros trimmed),
 *     timestamps "YYYY-MM-DD HH:MM:SS[.fff]" and, for zoned ones, in UTC with a "+00" suffix;
 *   - binary: printable ASCII as is, other bytes and \ ' " as \xNN (upper-case hex);
 *   - nested values in PLAIN style as DuckDB casts them to VARCHAR: lists "[1, 2]", structs
 *     "{'a': 1}", maps "{k=v}", strings quoted with '...' only when they need it, NULL as NULL;
 *   - JSON style: lists as arrays, structs and maps as objects (map keys as their PLAIN text),
 *     strings and temporal values as JSON strings, nan/inf as null, no spaces. */
#ifndef PL_TEXT_H
#define PL_TEXT_H

#include "polaroid/columnar.h"

/* A growable string. Initialise with {0}; free with pl_strbuf_reset. data is NUL-terminated
 * after any successful append. */
typedef struct pl_strbuf {
    char *data;
    int64_t len, cap;
} pl_strbuf;

pl_status pl_strbuf_append(pl_strbuf *sb, const char *s, int64_t n, pl_error *err);
pl_status pl_strbuf_appendf(pl_strbuf *sb, pl_error *err, const char *fmt, ...) PL_PRINTF(3, 4);
/* Makes room for n more bytes (plus the NUL). Errors: PL_ERR_NOMEM. */
pl_status pl_strbuf_reserve(pl_strbuf *sb, int64_t n, pl_error *err);
void pl_strbuf_reset(pl_strbuf *sb);

typedef enum pl_text_style {
    PL_TEXT_PLAIN, /* CSV / table cell: strings raw, nested values DuckDB style */
    PL_TEXT_JSON,  /* JSON value: strings quoted and escaped, NULL as null, nan/inf as null */
} pl_text_style;

/* Appends value i of a (offset applied; NULL renders as "" for PLAIN and null for JSON).
 * Errors: PL_ERR_NOMEM; PL_ERR_CORRUPT for a dictionary index out of range. */
pl_status pl_text_format_value(const pl_array *a, int64_t i, pl_text_style style, pl_strbuf *out,
                               pl_error *err);
/* Shortest round-trip text of a double / float into buf (>= 32 bytes); returns length. */
int pl_text_format_double(double v, char *buf);
int pl_text_format_float(float v, char *buf);
/* Text of a DECIMAL128 value (lo, hi two's complement words) with `scale` fraction digits into
 * buf (>= 48 bytes); returns length. */
int pl_text_format_decimal(uint64_t lo, int64_t hi, int32_t scale, char *buf);
/* Date (days since 1970-01-01) into buf (>= 40 bytes); returns length. */
int pl_text_format_date(int64_t days, char *buf);
/* Time of day / timestamp in `unit` into buf (>= 64 bytes); returns length. zoned appends
 * "+00". */
int pl_text_format_time(int64_t v, pl_time_unit unit, char *buf);
int pl_text_format_timestamp(int64_t v, pl_time_unit unit, bool zoned, char *buf);
/* A zoned timestamp (UTC instant v) as the local time in zone tz with its offset, like DuckDB's
 * TIMESTAMPTZ in that session zone: "2024-01-02 05:00:00-05", "+05:30", "+05:21:10"; "+00" for
 * UTC or a zone that cannot be loaded (same instant). tz NULL = naive. */
int pl_text_format_timestamp_tz(int64_t v, pl_time_unit unit, const char *tz, char *buf);

/* INTERVAL (months, days, nanoseconds) as DuckDB prints it ("1 year 2 months 3 days",
 * "1 day 02:03:04", "-01:00:00", "00:00:00.5") into buf (>= 96 bytes); returns length. */
int pl_text_format_interval(int32_t months, int32_t days, int64_t ns, char *buf);

/* Proleptic Gregorian calendar arithmetic (any int64 day count). */
int64_t pl_text_days_from_civil(int64_t y, int32_t m, int32_t d);
void pl_text_civil_from_days(int64_t days, int64_t *y, int32_t *m, int32_t *d);

/* Strict parsers of the ISO forms (whole input must match; no surrounding spaces):
 *   date:      YYYY-MM-DD (4+ digit year, optional leading '-'), optional " (BC)" as DuckDB
 *              prints years <= 0
 *   timestamp: date, then 'T' or ' ', HH:MM[:SS[.f{1,9}]], then optional 'Z', "+HH[:MM]",
 *              "-HH[:MM]" (the offset is applied, giving UTC); *has_tz tells if one was seen.
 * Return true on success. */
bool pl_text_parse_date(const char *s, int64_t n, int32_t *out_days);
/* Decimal text ([+-]digits[.digits], surrounding spaces and tabs ignored) as a DECIMAL128 value
 * (lo, hi two's complement words) scaled by `scale`, more fraction digits rounded half away from
 * zero; false when it is no such text or needs more than `precision` digits. */
bool pl_text_parse_decimal(const char *s, int64_t n, int32_t precision, int32_t scale,
                           uint64_t *lo, int64_t *hi);
bool pl_text_parse_timestamp(const char *s, int64_t n, pl_time_unit unit, int64_t *out,
                             bool *has_tz);

/* DuckDB's strftime/strptime formats (time_format.c): a format compiled into items. */
typedef struct pl_fmt_item {
    char spec;      /* 0 = literal */
    bool no_pad;    /* %-d */
    int32_t lit_off, lit_len; /* literal bytes in the format copy */
} pl_fmt_item;

typedef struct pl_time_format {
    pl_fmt_item *items;
    int32_t n_items;
    char fmt[256];    /* the format text */
    bool has_tz_spec; /* %z: parsed values are instants (UTC) */
} pl_time_format;

extern const char *const pl_text_day_names[7];   /* "Sunday" .. */
extern const char *const pl_text_month_names[12]; /* "January" .. */

/* Compiles fmt[0..len) into f (zeroed or reset first); parse = for strptime (also %T). who
 * names the caller in errors. Errors: PL_ERR_INVALID_ARG (unknown specifier, too long),
 * PL_ERR_NOMEM. Free with pl_time_format_reset. */
pl_status pl_time_format_compile(pl_time_format *f, const char *fmt, int64_t len, bool parse,
                                 const char *who, pl_error *err);
void pl_time_format_reset(pl_time_format *f);
/* strptime: s[0..n) by f as microseconds since the epoch (UTC when f has %z); false with the
 * reason in *why when it does not match. */
bool pl_time_format_parse(const pl_time_format *f, const char *s, int64_t n, int64_t *out_us,
                          const char **why);

/* Appends the WKT text of a WKB (ISO or EWKB, either byte order) geometry as DuckDB prints
 * GEOMETRY values: "POINT (30 10)", "MULTIPOINT (30 10, 40 20)", "POLYGON Z ((...))",
 * "POINT EMPTY" (all-NaN point), coordinates as shortest doubles without a ".0" for integral
 * values. Nesting is limited to PL_TEXT_WKB_MAX_DEPTH. Errors: PL_ERR_CORRUPT (truncated or
 * unknown geometry, with the byte offset in the message), PL_ERR_NOMEM. */
#define PL_TEXT_WKB_MAX_DEPTH 32
pl_status pl_text_wkb_to_wkt(const uint8_t *wkb, int64_t n, pl_strbuf *out, pl_error *err);

/* A buffered text output: a file (created/truncated) or stdout for path NULL or "-". Bytes are
 * gathered in buf and written once PL_TEXT_OUT_FLUSH_BYTES are pending. */
#define PL_TEXT_OUT_FLUSH_BYTES (1 << 20)
/* Rows per piece when a writer renders a large batch on the worker pool. */
#define PL_TEXT_PIECE_ROWS 16384
typedef struct pl_text_out {
    int fd;
    bool owned; /* fd is ours to close */
    char path[256];
    pl_strbuf buf;
} pl_text_out;
/* Errors: PL_ERR_IO (cannot create the file), PL_ERR_NOMEM. */
pl_status pl_text_out_open(const char *path, pl_text_out *o, pl_error *err);
/* Writes pending bytes when force or past the threshold. Errors: PL_ERR_IO. */
pl_status pl_text_out_flush(pl_text_out *o, bool force, pl_error *err);
/* Flushes and closes. Errors: PL_ERR_IO. */
pl_status pl_text_out_close(pl_text_out *o, pl_error *err);
/* Closes without flushing, frees the buffer (safe after close and on a zeroed struct). */
void pl_text_out_reset(pl_text_out *o);
/* Renders rows [r0, r1) of batch as text appended to out (scratch: a free scratch string). */
typedef pl_status (*pl_text_rows_fn)(const void *ctx, const pl_batch *batch, int64_t r0,
                                     int64_t r1, pl_strbuf *out, pl_strbuf *scratch,
                                     pl_error *err);
/* Writes every row of batch through fn into o: serially for small batches or n_threads 1,
 * otherwise as pieces of PL_TEXT_PIECE_ROWS rows rendered on the pool and written in order.
 * Flushes past the threshold. Errors: those of fn, PL_ERR_IO, PL_ERR_NOMEM. */
pl_status pl_text_out_write_rows(pl_text_out *o, const pl_batch *batch, int32_t n_threads,
                                 pl_text_rows_fn fn, const void *ctx, pl_error *err);
/* True when the rendered value i of a is NULL (also a valid dictionary index to a NULL). */
bool pl_text_is_null(const pl_array *a, int64_t i);
/* Display width of UTF-8 text in terminal cells (wide East Asian characters count 2, combining
 * marks 0, control bytes 1). */
int64_t pl_text_display_width(const char *s, int64_t n);

/* ---------------------------------------------------------------- time zones (tz.c) */

typedef struct pl_tz pl_tz;
/* Looks up a zone: "UTC"/"Z"/"GMT", fixed offsets ("+05:30", "-08", "+0530") or IANA names
 * read from the system's TZif files. Cached for the process lifetime (the returned zone stays
 * valid until pl_tz_cache_reset). Errors: PL_ERR_NOT_FOUND ("unknown time zone \"X\""),
 * PL_ERR_CORRUPT (a bad TZif file), PL_ERR_NOMEM. */
pl_status pl_tz_lookup(const char *name, const pl_tz **out, pl_error *err);
/* Frees every cached zone (tests, shutdown; no zone may be in use). */
void pl_tz_cache_reset(void);
/* Offset from UTC in seconds at the UTC instant t (seconds since the epoch). */
int32_t pl_tz_offset_at_utc(const pl_tz *tz, int64_t t);
/* Same, also giving the range [lo, hi) of UTC seconds around t with that same offset. */
int32_t pl_tz_offset_range(const pl_tz *tz, int64_t t, int64_t *lo, int64_t *hi);
/* The offset that maps local time local_t (seconds) to UTC (utc = local - offset): in a gap
 * (DST start) the offset before the transition, in an overlap the later instant (the offset
 * after the transition), as PostgreSQL and DuckDB. */
int32_t pl_tz_offset_for_local(const pl_tz *tz, int64_t local_t);
/* The abbreviation in effect at UTC instant t ("CET", "EDT", "+05:30"). */
const char *pl_tz_abbrev_at_utc(const pl_tz *tz, int64_t t);
/* True for a zone with a fixed offset (UTC, "+05:30"), giving the offset. */
bool pl_tz_is_fixed(const pl_tz *tz, int32_t *offset_s);
/* The name the zone was looked up with. */
const char *pl_tz_name(const pl_tz *tz);

#endif
