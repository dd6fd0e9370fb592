/* json.h - the JSON format's interface inside the library (besides the entry points in
 * io/io_int.h): reading from a buffer already in memory, for tests and the fuzzer, and the
 * reader's tuning constants. */
#ifndef PL_JSON_H
#define PL_JSON_H

#include "polaroid/io.h"

/* Records read for type inference (DuckDB's default sample_size), and the most files the
 * sample is taken from. */
#define PL_JSON_DEFAULT_SAMPLE_ROWS 20480
#define PL_JSON_MAX_SAMPLE_FILES 32
/* Chunk size bounds of the parallel newline-delimited reader, in bytes. */
#define PL_JSON_MIN_CHUNK_BYTES (256LL << 10)
#define PL_JSON_MAX_CHUNK_BYTES (8LL << 20)
#define PL_JSON_CHUNKS_PER_THREAD 4

/* Opens a stream over JSON bytes in buf (retained; released when the stream is freed; gzip
 * or zstd bytes are read as from a .json.gz file). name is used in error messages as the path.
 * Same options and errors as pl_json_scan_open. */
pl_status pl_json_scan_buffer(pl_buf *buf, const char *name, const pl_read_opts *opts,
                              pl_stream **out, pl_error *err);

/* Test hook: forces the chunk size (bytes) of the parallel reader; 0 = automatic. */
void pl_json_set_chunk_bytes_for_testing(int64_t n_bytes);

/* JSON values for SQL's JSON functions (expr/kernels_json.c). Texts are one JSON value with
 * optional whitespace around it. */
#include "io/text/text.h"

/* Validates the text d[0..n) and finds the value at path: '$' steps (.key, ."key", [i], [#-i]
 * from the end), a JSON pointer ('/a/0', ~0 ~1 escapes) or a bare key. 1: found, *at its byte
 * offset; 0: not there; -1: invalid JSON; -2: a bad path (why says which). */
int pl_json_locate(const uint8_t *d, int64_t n, const char *path, int64_t plen, int64_t *at,
                   char *why, size_t why_n);
/* True when the '$' path has a wildcard step ('.*' or '[*]'). */
bool pl_json_path_has_wildcard(const char *path, int64_t plen);
/* Validates the text and finds every value a '$' path with wildcards reaches (DuckDB: '.*' every
 * member of an object, '[*]' every element of an array), in document order: *ats (pl_free it)
 * holds *n_ats offsets. 1: done (maybe none); -1: invalid JSON; -2: a bad path (why says). */
int pl_json_locate_all(const uint8_t *d, int64_t n, const char *path, int64_t plen, int64_t **ats,
                       int64_t *n_ats, char *why, size_t why_n);
/* Calls fn for each member of the object (key decoded, valid during the call) or each element
 * of the array (key NULL) at `at` of a validated text, with the value's offset; fn returns false
 * to stop. Returns the count, -1 when the value is not an object or array, -2 on a parse error
 * (not reached on validated text), -3 when fn stopped. */
typedef bool (*pl_json_member_fn)(void *ctx, const char *key, int64_t key_len, int64_t value_at);
int64_t pl_json_each(const uint8_t *d, int64_t n, int64_t at, pl_json_member_fn fn, void *ctx);
/* The same for an array index (negative: from the end). */
int pl_json_locate_index(const uint8_t *d, int64_t n, int64_t index, int64_t *at, char *why,
                         size_t why_n);
/* Appends the value at `at` (of a validated text) as compact JSON (DuckDB's normalised numbers);
 * unquote: a string's decoded contents instead. */
pl_status pl_json_render(const uint8_t *d, int64_t n, int64_t at, bool unquote, pl_strbuf *out,
                         pl_error *err);
/* DuckDB's json_type name of the value at `at`; *n_elems: an array's length, else -1. */
const char *pl_json_kind(const uint8_t *d, int64_t n, int64_t at, int64_t *n_elems);

/* The shortest round-trip text of a finite double as DuckDB's JSON prints it (fixed notation
 * for decimal exponents -6..20 with a ".0" on integral values, else "1.5e-7"); buf holds 48
 * bytes. Returns the length. */
int pl_json_format_double(double v, char *buf);
/* Appends row i of a as JSON the way DuckDB's to_json renders values: NULL as null, numbers
 * as numbers (doubles by pl_json_format_double, NaN / Infinity / -Infinity as those words),
 * strings escaped, JSON values compacted (validated: malformed text is PL_ERR_INVALID_ARG),
 * dates, times, timestamps, intervals and blobs as strings of their text, lists as arrays,
 * structs as objects, maps as objects keyed by the keys' text. Errors: PL_ERR_NOMEM,
 * PL_ERR_INVALID_ARG, PL_ERR_LIMIT (nesting deeper than PL_JSON_MAX_DEPTH). */
pl_status pl_json_append_value(const pl_array *a, int64_t i, pl_strbuf *out, pl_error *err);
/* Appends s[0..n) as a JSON string (quotes, escapes of '"', '\\' and control characters). */
pl_status pl_json_append_string(pl_strbuf *out, const char *s, int64_t n, pl_error *err);

#endif
