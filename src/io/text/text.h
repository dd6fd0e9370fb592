/* text.h - rendering values as text, shared by the CSV, JSON-lines and table writers and by
 * the CLI. One rule set, as the README documents:
 *   - doubles: the shortest text that reads back to the same value ("0.1", "1e+300", "nan",
 *     "inf", "-inf", "-0.0"); floats likewise at float precision;
 *   - decimals keep their scale ("123.450");
 *   - dates "YYYY-MM-DD", times "HH:MM:SS[.ffffff]" (fraction digits as the unit, trailing
 *     zero groups trimmed as DuckDB does), timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" and, for
 *     zoned ones, in UTC with a "+00" suffix;
 *   - binary: printable ASCII as is, other bytes as \xNN;
 *   - nested values (JSON style): lists as [..], structs as {"k": v}, maps as {"key": v}. */
#ifndef PL_TEXT_H
#define PL_TEXT_H

#include "polaroid/columnar.h"

/* A growable string. Initialise with {0}; free with pl_strbuf_reset. */
typedef struct pl_strbuf {
    char *data;
    int64_t len, cap;
} pl_strbuf;

pl_status pl_strbuf_append(pl_strbuf *sb, const char *s, int64_t n, pl_error *err);
pl_status pl_strbuf_appendf(pl_strbuf *sb, pl_error *err, const char *fmt, ...) PL_PRINTF(3, 4);
void pl_strbuf_reset(pl_strbuf *sb);

typedef enum pl_text_style {
    PL_TEXT_PLAIN, /* CSV / table cell: strings raw, nested values JSON style */
    PL_TEXT_JSON,  /* JSON value: strings quoted and escaped, NULL as null, nan/inf as null */
} pl_text_style;

/* Appends value i of a (offset applied; NULL renders as "" for PLAIN and null for JSON). */
pl_status pl_text_format_value(const pl_array *a, int64_t i, pl_text_style style, pl_strbuf *out,
                               pl_error *err);
/* Shortest round-trip text of a double / float into buf (>= 32 bytes); returns length. */
int pl_text_format_double(double v, char *buf);
int pl_text_format_float(float v, char *buf);

#endif
