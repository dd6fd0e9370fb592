/* kernels_string.c - the string function set (pl_funcs_string): length, octet_length, lower,
 * upper, trim/ltrim/rtrim, substr, concat, concat_op (||), concat_ws, replace, starts_with,
 * ends_with, contains, strpos, split_part, left, right, lpad, rpad, reverse, repeat, ascii,
 * chr, md5, regexp_matches, regexp_full_match, regexp_replace, regexp_extract,
 * regexp_split_to_array.
 *
 * Semantics follow DuckDB: positions and lengths count UTF-8 characters (code points), 1-based;
 * substr/left/right/split_part accept negative arguments as DuckDB does; lower/upper map ASCII,
 * Latin-1, basic Greek and Cyrillic letters (byte lengths never change). concat skips NULLs,
 * || gives NULL for any NULL; both render non-string arguments as text (DuckDB's VARCHAR cast
 * rendering, src/io/text). Regular expressions are POSIX extended (libc regex.h) with \d \D
 * translated, compiled and run in the C.UTF-8 character set (a thread-local locale: `.`, classes
 * and REG_ICASE work on characters, never splitting one); literal patterns are compiled once at
 * bind, others per distinct pattern. Inputs
 * are assumed to be valid UTF-8 (arrays are validated where they enter the engine). */
#define _GNU_SOURCE /* memmem, REG_STARTEND */
#include <locale.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "expr/funcs_int.h"
#include "io/text/text.h"

#define no_function pl_fn_no_function

static pl_type *ty(pl_type_id id) { return pl_type_simple(id); }
static bool is_int(pl_type_id id) { return id >= PL_TYPE_INT8 && id <= PL_TYPE_UINT64; }
static bool is_str(pl_type_id id) { return id == PL_TYPE_UTF8 || id == PL_TYPE_NA; }

/* ---------------------------------------------------------------- argument access */

typedef struct sarg {
    bool scalar, null;
    const uint8_t *s; /* scalar bytes */
    int32_t len;
    const pl_array *a;
    const int32_t *off;
    const uint8_t *data;
} sarg;

static void sarg_init(sarg *x, const pl_datum *d) {
    memset(x, 0, sizeof *x);
    if (d->is_scalar) {
        x->scalar = true;
        x->null = d->scalar.is_null || d->scalar.type->id == PL_TYPE_NA;
        x->s = (const uint8_t *)(d->scalar.str ? d->scalar.str : "");
        x->len = (int32_t)d->scalar.str_len;
        return;
    }
    x->a = d->array;
    if (d->array->type->id == PL_TYPE_NA) {
        x->scalar = true;
        x->null = true;
        x->s = (const uint8_t *)"";
        return;
    }
    x->off = pl_array_offsets(d->array);
    x->data = d->array->data ? d->array->data->data : (const uint8_t *)"";
}

static inline bool sarg_get(const sarg *x, int64_t r, const uint8_t **p, int32_t *len) {
    if (x->scalar) {
        *p = x->s;
        *len = x->len;
        return !x->null;
    }
    *p = x->data + x->off[r];
    *len = x->off[r + 1] - x->off[r];
    return pl_array_is_valid(x->a, r);
}

typedef struct iarg {
    bool scalar, null;
    int64_t v;
    int64_t *vals; /* owned copy widened to int64 */
    const pl_array *a;
} iarg;

static pl_status iarg_init(iarg *x, const pl_datum *d, pl_error *err) {
    memset(x, 0, sizeof *x);
    if (d->is_scalar) {
        x->scalar = true;
        x->null = d->scalar.is_null || d->scalar.type->id == PL_TYPE_NA;
        if (!x->null) x->v = pl_fn_scalar_i64(&d->scalar);
        return PL_OK;
    }
    x->a = d->array;
    if (d->array->type->id == PL_TYPE_NA) {
        x->scalar = x->null = true;
        return PL_OK;
    }
    x->vals = pl_malloc((size_t)(d->array->length > 0 ? d->array->length : 1) * 8);
    if (!x->vals) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading an integer argument");
    pl_fn_read_i64(d->array, x->vals);
    return PL_OK;
}

static inline bool iarg_get(const iarg *x, int64_t r, int64_t *v) {
    if (x->scalar) {
        *v = x->v;
        return !x->null;
    }
    *v = x->vals[r];
    return pl_array_is_valid(x->a, r);
}

static void iarg_reset(iarg *x) {
    pl_free(x->vals);
    x->vals = NULL;
}

/* Byte offset of character `chars` in s (clamped to len). */
static inline int32_t utf8_skip(const uint8_t *s, int32_t len, int64_t chars) {
    int32_t i = 0;
    while (i < len && chars > 0) {
        i++;
        while (i < len && (s[i] & 0xC0) == 0x80) i++;
        chars--;
    }
    return i;
}

static inline int32_t utf8_char_len(uint8_t c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* ---------------------------------------------------------------- binding */

static pl_status bind_str_args(pl_bexpr *call, int32_t n_str, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (i < n_str ? !is_str(id) : !(is_int(id) || id == PL_TYPE_NA)) return no_function(call, err);
    }
    return PL_OK;
}

#define BIND(NAME, NSTR, RESULT)                                                                   \
    static pl_status NAME(pl_bexpr *call, pl_error *err) {                                         \
        PL_TRY(bind_str_args(call, (NSTR), err));                                                  \
        call->type = ty(RESULT);                                                                   \
        return PL_OK;                                                                              \
    }

BIND(bind_s_i64, 1, PL_TYPE_INT64)      /* length(s) */

/* length(s), and of a list its element count (DuckDB's len(list)) */
static pl_status bind_length(pl_bexpr *call, pl_error *err) {
    if (call->args[0]->type->id == PL_TYPE_LIST) {
        call->type = ty(PL_TYPE_INT64);
        return PL_OK;
    }
    return bind_s_i64(call, err);
}
BIND(bind_s_s, 9, PL_TYPE_UTF8)         /* string functions of strings only */
BIND(bind_s_b, 9, PL_TYPE_BOOL)         /* predicates of strings */
BIND(bind_ss_i64, 2, PL_TYPE_INT64)     /* strpos */
BIND(bind_s_int_s, 1, PL_TYPE_UTF8)     /* substr, left, right, repeat */
BIND(bind_ssi_s, 2, PL_TYPE_UTF8)       /* split_part */

static pl_status bind_pad(pl_bexpr *call, pl_error *err) {
    pl_type_id a = call->args[0]->type->id, b = call->args[1]->type->id, c = call->args[2]->type->id;
    if (!is_str(a) || !(is_int(b) || b == PL_TYPE_NA) || !is_str(c)) return no_function(call, err);
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

static pl_status bind_octet_length(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (!is_str(id) && id != PL_TYPE_BINARY) return no_function(call, err);
    call->type = ty(PL_TYPE_INT64);
    return PL_OK;
}

static pl_status bind_md5(pl_bexpr *call, pl_error *err) {
    pl_type_id id = call->args[0]->type->id;
    if (!is_str(id) && id != PL_TYPE_BINARY) return no_function(call, err);
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

static pl_status bind_ascii(pl_bexpr *call, pl_error *err) {
    PL_TRY(bind_str_args(call, 1, err));
    call->type = ty(PL_TYPE_INT32);
    return PL_OK;
}

static pl_status bind_chr(pl_bexpr *call, pl_error *err) {
    PL_TRY(bind_str_args(call, 0, err));
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

/* concat and ||: any scalar types (rendered as text); nested types are refused. */
static pl_status bind_concat(pl_bexpr *call, pl_error *err) {
    /* l1 || l2 of lists: list concatenation, NULL when a side is NULL (DuckDB) */
    bool any_list = false, all_lists = true;
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        any_list |= id == PL_TYPE_LIST;
        all_lists &= id == PL_TYPE_LIST || id == PL_TYPE_NA;
    }
    if (any_list && all_lists && call->n_args == 2 && strcmp(call->fn->name, "concat_op") == 0) {
        const pl_func_def *fn = pl_func_lookup("__list_concat_op");
        if (!fn) return no_function(call, err);
        call->fn = fn;
        return fn->bind(call, err);
    }
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        if (id == PL_TYPE_DICTIONARY) id = call->args[i]->type->value_type->id;
        if (id == PL_TYPE_LIST || id == PL_TYPE_STRUCT || id == PL_TYPE_MAP)
            return no_function(call, err);
    }
    call->type = ty(PL_TYPE_UTF8);
    return PL_OK;
}

/* ---------------------------------------------------------------- kernels: string -> int/bool */

static pl_status k_length(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_length, out, err);
    const pl_array *a = args[0].array;
    bool bits = strcmp(call->fn->name, "bit_length") == 0; /* octets * 8 */
    bool octets = bits || strcmp(call->fn->name, "octet_length") == 0 || a->type->id == PL_TYPE_LIST;
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(a, n, 8, &validity, &values, err));
    int64_t *o = (int64_t *)(void *)values->data;
    if (a->type->id == PL_TYPE_NA) {
        memset(o, 0, (size_t)n * 8);
    } else {
        const int32_t *off = pl_array_offsets(a);
        const uint8_t *data = a->data ? a->data->data : NULL;
        if (octets) {
            for (int64_t i = 0; i < n; i++) o[i] = (int64_t)(off[i + 1] - off[i]) << (bits ? 3 : 0);
        } else {
            for (int64_t i = 0; i < n; i++)
                o[i] = pl_fn_utf8_count(data + off[i], off[i + 1] - off[i]);
        }
    }
    return pl_fn_finish(out, ty(PL_TYPE_INT64), n, validity, -1, values, NULL, err);
}

typedef enum pred_op { P_STARTS, P_ENDS, P_CONTAINS } pred_op;

static inline bool mem_contains(const uint8_t *h, int32_t hn, const uint8_t *nd, int32_t nn) {
    if (nn == 0) return true;
    if (nn > hn) return false;
    return memmem(h, (size_t)hn, nd, (size_t)nn) != NULL;
}

static pl_status pred_kernel(pred_op op, const pl_datum *args, int64_t n, pl_datum *out,
                             pl_error *err) {
    pl_buf *validity, *bits;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(args, 2, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, ty(PL_TYPE_BOOL), n, err);
    pl_status st = pl_buf_new_zeroed((n + 7) / 8 > 0 ? (n + 7) / 8 : 1, &bits, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    sarg s, p;
    sarg_init(&s, &args[0]);
    sarg_init(&p, &args[1]);
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *a, *b;
        int32_t al, bl;
        sarg_get(&s, i, &a, &al);
        sarg_get(&p, i, &b, &bl);
        bool r;
        switch (op) {
        case P_STARTS: r = bl <= al && memcmp(a, b, (size_t)bl) == 0; break;
        case P_ENDS: r = bl <= al && memcmp(a + al - bl, b, (size_t)bl) == 0; break;
        default: r = mem_contains(a, al, b, bl); break;
        }
        if (r) pl_bit_set(bits->data, i);
    }
    return pl_fn_finish(out, ty(PL_TYPE_BOOL), n, validity, nc, bits, NULL, err);
}

#define PRED(NAME, OP)                                                                             \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err); \
        return pred_kernel(OP, args, n, out, err);                                                 \
    }
PRED(starts_with, P_STARTS)
PRED(ends_with, P_ENDS)
PRED(contains, P_CONTAINS)

static pl_status k_strpos(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_strpos, out, err);
    pl_buf *validity = NULL, *values = NULL;
    int64_t nc;
    bool all_null;
    PL_TRY(pl_fn_and_validity(args, 2, n, &validity, &nc, &all_null, err));
    if (all_null) return pl_fn_out_nulls(out, ty(PL_TYPE_INT64), n, err);
    pl_status st = pl_fn_new_values(n, 8, &values, err);
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    int64_t *o = (int64_t *)(void *)values->data;
    sarg s, p;
    sarg_init(&s, &args[0]);
    sarg_init(&p, &args[1]);
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *a, *b;
        int32_t al, bl;
        sarg_get(&s, i, &a, &al);
        sarg_get(&p, i, &b, &bl);
        if (bl == 0) {
            o[i] = 1;
            continue;
        }
        const uint8_t *hit = bl <= al ? memmem(a, (size_t)al, b, (size_t)bl) : NULL;
        o[i] = hit ? pl_fn_utf8_count(a, hit - a) + 1 : 0;
    }
    return pl_fn_finish(out, ty(PL_TYPE_INT64), n, validity, nc, values, NULL, err);
}

/* The code point of each string's first character; `empty` for the empty string (ascii: 0,
 * unicode/ord: -1, as DuckDB). */
static pl_status codepoint_kernel(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                                  int64_t n, pl_datum *out, pl_error *err, int32_t empty,
                                  pl_kernel_fn self) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, self, out, err);
    pl_buf *validity, *values;
    PL_TRY(pl_fn_new_result(args[0].array, n, 4, &validity, &values, err));
    int32_t *o = (int32_t *)(void *)values->data;
    sarg s;
    sarg_init(&s, &args[0]);
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *a;
        int32_t al;
        sarg_get(&s, i, &a, &al);
        if (al == 0) {
            o[i] = empty;
            continue;
        }
        int32_t cl = utf8_char_len(a[0]);
        if (cl > al) cl = 1;
        uint32_t cp = cl == 1 ? a[0] : cl == 2 ? a[0] & 0x1F : cl == 3 ? a[0] & 0x0F : a[0] & 0x07;
        for (int32_t k = 1; k < cl; k++) cp = (cp << 6) | (a[k] & 0x3F);
        o[i] = (int32_t)cp;
    }
    return pl_fn_finish(out, ty(PL_TYPE_INT32), n, validity, -1, values, NULL, err);
}

static pl_status k_ascii(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                         pl_datum *out, pl_error *err) {
    return codepoint_kernel(ec, call, args, n, out, err, 0, k_ascii);
}

static pl_status k_unicode(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                           int64_t n, pl_datum *out, pl_error *err) {
    return codepoint_kernel(ec, call, args, n, out, err, -1, k_unicode);
}

/* ---------------------------------------------------------------- kernels: string -> string */

/* Case mapping of one UTF-8 sequence in place (same length). */
static inline void case_map(uint8_t *p, int32_t len, bool up) {
    for (int32_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (c < 0x80) {
            if (up ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) p[i] = c ^ 0x20;
            continue;
        }
        if (i + 1 >= len) break;
        uint8_t d = p[i + 1];
        if (c == 0xC3) { /* Latin-1 U+00C0..U+00FE, U+00FF <-> U+0178 */
            if (up && d >= 0xA0 && d <= 0xBE && d != 0xB7) p[i + 1] = d - 0x20;
            else if (!up && d >= 0x80 && d <= 0x9E && d != 0x97) p[i + 1] = d + 0x20;
            else if (up && d == 0xBF) { p[i] = 0xC5; p[i + 1] = 0xB8; }
        } else if (c == 0xC4 || c == 0xC5) { /* Latin Extended-A pairs */
            uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | (d & 0x3F);
            uint32_t m = cp;
            bool even_upper = (cp >= 0x100 && cp <= 0x137) || (cp >= 0x14A && cp <= 0x177);
            bool odd_upper = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
            if (even_upper) m = up ? (cp & ~1u) : (cp | 1u);
            else if (odd_upper) m = up ? (cp - ((cp & 1u) == 0)) : (cp + (cp & 1u));
            if (!up && cp == 0x178) { p[i] = 0xC3; p[i + 1] = 0xBF; i++; continue; }
            if (cp == 0x130 || cp == 0x131) m = cp; /* dotted/dotless i: no simple pair */
            p[i] = (uint8_t)(0xC0 | (m >> 6));
            p[i + 1] = (uint8_t)(0x80 | (m & 0x3F));
        } else if (c == 0xCE || c == 0xCF) { /* Greek U+0391..U+03A9 <-> U+03B1..U+03C9 */
            uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | (d & 0x3F);
            uint32_t m = cp;
            if (up && cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) m = cp - 0x20;
            else if (!up && cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) m = cp + 0x20;
            p[i] = (uint8_t)(0xC0 | (m >> 6));
            p[i + 1] = (uint8_t)(0x80 | (m & 0x3F));
        } else if (c == 0xD0 || c == 0xD1) { /* Cyrillic U+0410..U+042F <-> U+0430..U+044F */
            uint32_t cp = ((uint32_t)(c & 0x1F) << 6) | (d & 0x3F);
            uint32_t m = cp;
            if (up && cp >= 0x430 && cp <= 0x44F) m = cp - 0x20;
            else if (!up && cp >= 0x410 && cp <= 0x42F) m = cp + 0x20;
            p[i] = (uint8_t)(0xC0 | (m >> 6));
            p[i + 1] = (uint8_t)(0x80 | (m & 0x3F));
        }
        i += utf8_char_len(c) - 1;
    }
}

void pl_fn_utf8_case_map(uint8_t *p, int32_t len, bool up) { case_map(p, len, up); }

static pl_status k_case(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_case, out, err);
    bool up = strcmp(call->fn->name, "upper") == 0;
    const pl_array *a = args[0].array;
    if (a->type->id == PL_TYPE_NA) return pl_fn_out_nulls(out, ty(PL_TYPE_UTF8), n, err);
    /* same offsets (rebased), same byte count: copy and map in place */
    const int32_t *off = pl_array_offsets(a);
    int64_t base = off[0], bytes = off[n] - off[0];
    pl_buf *validity, *offsets, *data;
    PL_TRY(pl_fn_copy_validity(a, &validity, err));
    pl_status st = pl_fn_new_values(n + 1, 4, &offsets, err);
    if (!st) {
        st = pl_fn_new_values(bytes, 1, &data, err);
        if (st) pl_buf_release(offsets);
    }
    if (st) {
        pl_buf_release(validity);
        return st;
    }
    int32_t *o = (int32_t *)(void *)offsets->data;
    for (int64_t i = 0; i <= n; i++) o[i] = (int32_t)(off[i] - base);
    if (bytes > 0) memcpy(data->data, a->data->data + base, (size_t)bytes);
    case_map(data->data, (int32_t)bytes, up);
    return pl_fn_finish(out, ty(PL_TYPE_UTF8), n, validity, -1, offsets, data, err);
}

static bool in_set(const uint8_t *c, int32_t cl, const uint8_t *set, int32_t set_len) {
    for (int32_t i = 0; i < set_len;) {
        int32_t l = utf8_char_len(set[i]);
        if (l > set_len - i) l = set_len - i; /* a truncated sequence (invalid UTF-8) */
        if (l == cl && memcmp(set + i, c, (size_t)cl) == 0) return true;
        i += l;
    }
    return false;
}

static pl_status k_trim(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                        pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_trim, out, err);
    const char *name = call->fn->name;
    bool left = name[0] != 'r', right = name[0] != 'l';
    sarg s, c;
    sarg_init(&s, &args[0]);
    if (call->n_args == 2) sarg_init(&c, &args[1]);
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, args[0].is_scalar ? 64 : (args[0].array->data ? args[0].array->data->size : 64), err));
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p, *set = (const uint8_t *)" ";
        int32_t len, set_len = 1;
        bool ok = sarg_get(&s, i, &p, &len);
        if (call->n_args == 2) ok &= sarg_get(&c, i, &set, &set_len);
        if (!ok) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        int32_t begin = 0, end = len;
        if (left) {
            while (begin < end) {
                int32_t l = utf8_char_len(p[begin]);
                if (begin + l > end || !in_set(p + begin, l, set, set_len)) break;
                begin += l;
            }
        }
        if (right) {
            while (end > begin) {
                int32_t k = end - 1;
                while (k > begin && (p[k] & 0xC0) == 0x80) k--;
                if (!in_set(p + k, end - k, set, set_len)) break;
                end = k;
            }
        }
        st = pl_fn_strb_append(&b, p + begin, end - begin, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

/* Character range [from, to) (0-based, clamped) of substr(s, start, len) in DuckDB/PostgreSQL
 * semantics: start <= 0 counts positions before the first character, negative start counts
 * from the end, negative len takes characters before start. */
static void substr_range(int64_t n_chars, int64_t start, bool has_len, int64_t len, int64_t *from,
                         int64_t *to) {
    if (start < 0) start = n_chars + 1 + start;
    int64_t a, b;
    if (!has_len) {
        a = start;
        b = n_chars + 1;
    } else if (len < 0) {
        a = start + len;
        b = start;
        if (a > b) a = b;
    } else {
        a = start;
        b = (start > 0 && len > INT64_MAX - start) ? INT64_MAX : start + len;
    }
    if (a < 1) a = 1;
    if (b > n_chars + 1) b = n_chars + 1;
    if (b < a) b = a;
    *from = a - 1;
    *to = b - 1;
}

static pl_status k_substr(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_substr, out, err);
    sarg s;
    iarg st_a, ln_a;
    sarg_init(&s, &args[0]);
    memset(&ln_a, 0, sizeof ln_a);
    PL_TRY(iarg_init(&st_a, &args[1], err));
    pl_status st = PL_OK;
    bool has_len = call->n_args == 3;
    if (has_len) st = iarg_init(&ln_a, &args[2], err);
    pl_fn_strb b;
    if (!st) st = pl_fn_strb_init(&b, n, 64, err);
    if (st) {
        iarg_reset(&st_a);
        iarg_reset(&ln_a);
        return st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p;
        int32_t len;
        int64_t start, cnt = 0;
        bool ok = sarg_get(&s, i, &p, &len) & iarg_get(&st_a, i, &start);
        if (has_len) ok &= iarg_get(&ln_a, i, &cnt);
        if (!ok) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        int64_t from, to;
        bool ascii_fast = start > 0 && (!has_len || cnt >= 0);
        if (ascii_fast) {
            /* no need to count all characters when counting from the front */
            int32_t bf = utf8_skip(p, len, start - 1);
            int32_t bt = has_len ? bf + utf8_skip(p + bf, len - bf, cnt) : len;
            st = pl_fn_strb_append(&b, p + bf, bt - bf, err);
        } else {
            int64_t nc = pl_fn_utf8_count(p, len);
            substr_range(nc, start, has_len, cnt, &from, &to);
            int32_t bf = utf8_skip(p, len, from);
            int32_t bt = bf + utf8_skip(p + bf, len - bf, to - from);
            st = pl_fn_strb_append(&b, p + bf, bt - bf, err);
        }
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    iarg_reset(&st_a);
    iarg_reset(&ln_a);
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

typedef enum lr_op { LR_LEFT, LR_RIGHT, LR_REPEAT } lr_op;

static pl_status lr_kernel(lr_op op, const pl_datum *args, int64_t n, pl_datum *out,
                           pl_error *err) {
    sarg s;
    iarg k;
    sarg_init(&s, &args[0]);
    PL_TRY(iarg_init(&k, &args[1], err));
    pl_fn_strb b;
    pl_status st = pl_fn_strb_init(&b, n, 64, err);
    if (st) {
        iarg_reset(&k);
        return st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p;
        int32_t len;
        int64_t cnt;
        if (!(sarg_get(&s, i, &p, &len) & iarg_get(&k, i, &cnt))) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        if (op == LR_REPEAT) {
            if (cnt > 0 && len > 0 && cnt > (PL_MAX_VARLEN_BYTES - b.len) / len) {
                st = pl_error_set(err, PL_ERR_LIMIT, "repeat: result of %.0f bytes at row %lld is too large (the limit is 2 GiB)",
                                  (double)cnt * len, (long long)i);
                break;
            }
            st = pl_fn_strb_append_repeat(&b, p, len, cnt, err);
        } else {
            int64_t nc = pl_fn_utf8_count(p, len);
            int64_t from, to;
            if (op == LR_LEFT) {
                from = 0;
                to = cnt >= 0 ? PL_MIN(cnt, nc) : PL_MAX(nc + cnt, 0);
            } else {
                to = nc;
                from = cnt >= 0 ? PL_MAX(nc - cnt, 0) : PL_MIN(-cnt, nc);
            }
            int32_t bf = utf8_skip(p, len, from);
            int32_t bt = bf + utf8_skip(p + bf, len - bf, to - from);
            st = pl_fn_strb_append(&b, p + bf, bt - bf, err);
        }
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    iarg_reset(&k);
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

#define LR(NAME, OP)                                                                               \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, 2)) return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err); \
        return lr_kernel(OP, args, n, out, err);                                                   \
    }
LR(left, LR_LEFT)
LR(right, LR_RIGHT)
LR(repeat, LR_REPEAT)

static pl_status k_pad(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 3)) return pl_fn_eval_scalars(ec, call, args, k_pad, out, err);
    bool lpad = call->fn->name[0] == 'l';
    sarg s, pad;
    iarg k;
    sarg_init(&s, &args[0]);
    sarg_init(&pad, &args[2]);
    PL_TRY(iarg_init(&k, &args[1], err));
    pl_fn_strb b;
    pl_status st = pl_fn_strb_init(&b, n, 64, err);
    if (st) {
        iarg_reset(&k);
        return st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p, *pp;
        int32_t len, plen;
        int64_t target;
        if (!(sarg_get(&s, i, &p, &len) & iarg_get(&k, i, &target) & sarg_get(&pad, i, &pp, &plen))) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        if (target < 0) target = 0;
        if (target > INT32_MAX) {
            st = pl_error_set(err, PL_ERR_LIMIT, "%s: length %lld is too large (the limit is 2 GiB)",
                              lpad ? "lpad" : "rpad", (long long)target);
            break;
        }
        int64_t nc = pl_fn_utf8_count(p, len);
        if (nc >= target) {
            st = pl_fn_strb_append(&b, p, utf8_skip(p, len, target), err);
        } else {
            int64_t need = target - nc;
            int64_t pc = pl_fn_utf8_count(pp, plen);
            if (pc == 0) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG, "insufficient padding in %s at row %lld",
                                  lpad ? "LPAD" : "RPAD", (long long)i);
                break;
            }
            if (!lpad) st = pl_fn_strb_append(&b, p, len, err);
            /* the whole pad string need / pc times, then its first need % pc characters */
            if (!st) st = pl_fn_strb_append_repeat(&b, pp, plen, need / pc, err);
            if (!st) st = pl_fn_strb_append(&b, pp, utf8_skip(pp, plen, need % pc), err);
            if (lpad && !st) st = pl_fn_strb_append(&b, p, len, err);
        }
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    iarg_reset(&k);
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

static pl_status k_reverse(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_reverse, out, err);
    sarg s;
    sarg_init(&s, &args[0]);
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, 64, err));
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p;
        int32_t len;
        if (!sarg_get(&s, i, &p, &len)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        uint8_t *dst;
        st = pl_fn_strb_reserve(&b, len, &dst, err);
        if (st) break;
        int32_t w = len;
        for (int32_t r = 0; r < len;) {
            int32_t l = utf8_char_len(p[r]);
            if (r + l > len) l = len - r;
            w -= l;
            memcpy(dst + w, p + r, (size_t)l);
            r += l;
        }
        pl_fn_strb_commit(&b, len);
        st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

static pl_status k_replace(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 3)) return pl_fn_eval_scalars(ec, call, args, k_replace, out, err);
    sarg s, f, t;
    sarg_init(&s, &args[0]);
    sarg_init(&f, &args[1]);
    sarg_init(&t, &args[2]);
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, 64, err));
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p, *fp, *tp;
        int32_t len, fl, tl;
        if (!(sarg_get(&s, i, &p, &len) & sarg_get(&f, i, &fp, &fl) & sarg_get(&t, i, &tp, &tl))) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        int32_t pos = 0;
        while (fl > 0 && pos <= len - fl && !st) {
            const uint8_t *hit = memmem(p + pos, (size_t)(len - pos), fp, (size_t)fl);
            if (!hit) break;
            int32_t h = (int32_t)(hit - p);
            st = pl_fn_strb_append(&b, p + pos, h - pos, err);
            if (!st) st = pl_fn_strb_append(&b, tp, tl, err);
            pos = h + fl;
        }
        if (!st) st = pl_fn_strb_append(&b, p + pos, len - pos, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

static pl_status k_split_part(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                              int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 3)) return pl_fn_eval_scalars(ec, call, args, k_split_part, out, err);
    sarg s, d;
    iarg k;
    sarg_init(&s, &args[0]);
    sarg_init(&d, &args[1]);
    PL_TRY(iarg_init(&k, &args[2], err));
    pl_fn_strb b;
    pl_status st = pl_fn_strb_init(&b, n, 64, err);
    if (st) {
        iarg_reset(&k);
        return st;
    }
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p, *dp;
        int32_t len, dl;
        int64_t idx;
        if (!(sarg_get(&s, i, &p, &len) & sarg_get(&d, i, &dp, &dl) & iarg_get(&k, i, &idx))) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        /* parts: with an empty delimiter every character is a part */
        int64_t n_parts = 0;
        if (dl == 0) {
            n_parts = pl_fn_utf8_count(p, len);
        } else {
            n_parts = 1;
            for (int32_t pos = 0; pos <= len - dl;) {
                const uint8_t *hit = memmem(p + pos, (size_t)(len - pos), dp, (size_t)dl);
                if (!hit) break;
                n_parts++;
                pos = (int32_t)(hit - p) + dl;
            }
        }
        int64_t want = idx > 0 ? idx - 1 : idx < 0 ? n_parts + idx : -1;
        if (want >= 0 && want < n_parts) {
            int32_t bf, bt;
            if (dl == 0) {
                bf = utf8_skip(p, len, want);
                bt = bf + utf8_skip(p + bf, len - bf, 1);
            } else {
                int32_t pos = 0;
                for (int64_t part = 0; part < want; part++) {
                    const uint8_t *hit = memmem(p + pos, (size_t)(len - pos), dp, (size_t)dl);
                    pos = (int32_t)(hit - p) + dl;
                }
                const uint8_t *hit = pos <= len - dl
                                         ? memmem(p + pos, (size_t)(len - pos), dp, (size_t)dl)
                                         : NULL;
                bf = pos;
                bt = hit ? (int32_t)(hit - p) : len;
            }
            st = pl_fn_strb_append(&b, p + bf, bt - bf, err);
        }
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    iarg_reset(&k);
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

static pl_status k_chr(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_chr, out, err);
    iarg k;
    PL_TRY(iarg_init(&k, &args[0], err));
    pl_fn_strb b;
    pl_status st = pl_fn_strb_init(&b, n, n + 1, err);
    for (int64_t i = 0; i < n && !st; i++) {
        int64_t cp;
        if (!iarg_get(&k, i, &cp)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            st = pl_error_set(err, PL_ERR_INVALID_ARG, "chr: invalid code point %lld at row %lld",
                              (long long)cp, (long long)i);
            break;
        }
        uint8_t u[4];
        int32_t l;
        if (cp < 0x80) { u[0] = (uint8_t)cp; l = 1; }
        else if (cp < 0x800) { u[0] = (uint8_t)(0xC0 | (cp >> 6)); u[1] = (uint8_t)(0x80 | (cp & 0x3F)); l = 2; }
        else if (cp < 0x10000) {
            u[0] = (uint8_t)(0xE0 | (cp >> 12)); u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
            u[2] = (uint8_t)(0x80 | (cp & 0x3F)); l = 3;
        } else {
            u[0] = (uint8_t)(0xF0 | (cp >> 18)); u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
            u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (uint8_t)(0x80 | (cp & 0x3F)); l = 4;
        }
        st = pl_fn_strb_append(&b, u, l, err);
        if (!st) st = pl_fn_strb_next(&b, err);
    }
    iarg_reset(&k);
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

/* ---------------------------------------------------------------- concat */

/* Text of argument j at row i into p and len (scratch holds rendered non-strings); false = NULL. */
static pl_status concat_piece(const pl_datum *d, const sarg *sa, int64_t i, pl_strbuf *scratch,
                              const uint8_t **p, int32_t *len, bool *valid, pl_error *err) {
    pl_type_id id = d->is_scalar ? d->scalar.type->id : d->array->type->id;
    if (id == PL_TYPE_UTF8 || id == PL_TYPE_NA) {
        *valid = sarg_get(sa, i, p, len);
        return PL_OK;
    }
    if (d->is_scalar) {
        /* rendered once into scratch by the caller */
        *valid = !d->scalar.is_null;
        *p = (const uint8_t *)(scratch->data ? scratch->data : "");
        *len = (int32_t)scratch->len;
        return PL_OK;
    }
    *valid = pl_array_is_valid(d->array, i) && !pl_text_is_null(d->array, i);
    if (!*valid) return PL_OK;
    scratch->len = 0;
    PL_TRY(pl_text_format_value(d->array, i, PL_TEXT_PLAIN, scratch, err));
    *p = (const uint8_t *)(scratch->data ? scratch->data : "");
    *len = (int32_t)scratch->len;
    return PL_OK;
}

/* mode 0: concat (NULLs skipped), 1: || (NULL if any NULL), 2: concat_ws (first arg is the
 * separator; NULL separator gives NULL; NULL values skipped). */
static pl_status concat_kernel(const pl_bexpr *call, int mode, const pl_datum *args, int64_t n,
                               pl_datum *out, pl_error *err) {
    int32_t na = call->n_args;
    sarg *sa = pl_calloc((size_t)(na > 0 ? na : 1), sizeof *sa);
    pl_strbuf *scratch = pl_calloc((size_t)(na > 0 ? na : 1), sizeof *scratch);
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_status st = PL_OK;
    if (!sa || !scratch) st = pl_error_set(err, PL_ERR_NOMEM, "out of memory in concat");
    for (int32_t j = 0; j < na && !st; j++) {
        pl_type_id id = args[j].is_scalar ? args[j].scalar.type->id : args[j].array->type->id;
        if (id == PL_TYPE_UTF8 || id == PL_TYPE_NA) {
            sarg_init(&sa[j], &args[j]);
        } else if (args[j].is_scalar && !args[j].scalar.is_null) {
            pl_array *one;
            st = pl_fn_array_from_value(&args[j].scalar, 1, &one, err);
            if (!st) {
                st = pl_text_format_value(one, 0, PL_TEXT_PLAIN, &scratch[j], err);
                pl_array_release(one);
            }
        }
    }
    if (!st) st = pl_fn_strb_init(&b, n, 64, err);
    for (int64_t i = 0; i < n && !st; i++) {
        bool row_null = false, first = true;
        int64_t row_start = b.len;
        const uint8_t *sep = NULL;
        int32_t sep_len = 0;
        for (int32_t j = 0; j < na && !st; j++) {
            const uint8_t *p;
            int32_t len;
            bool valid;
            st = concat_piece(&args[j], &sa[j], i, &scratch[j], &p, &len, &valid, err);
            if (st) break;
            if (!valid) {
                if (mode == 1 || (mode == 2 && j == 0)) {
                    row_null = true;
                    break;
                }
                continue;
            }
            if (mode == 2 && j == 0) {
                sep = p;
                sep_len = len;
                continue;
            }
            if (mode == 2 && !first) st = pl_fn_strb_append(&b, sep, sep_len, err);
            first = false;
            if (!st) st = pl_fn_strb_append(&b, p, len, err);
        }
        if (st) break;
        if (row_null) {
            b.len = row_start;
            st = pl_fn_strb_null(&b, err);
        } else {
            st = pl_fn_strb_next(&b, err);
        }
    }
    if (!st) st = pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    else pl_fn_strb_reset(&b);
    for (int32_t j = 0; scratch && j < na; j++) pl_strbuf_reset(&scratch[j]);
    pl_free(scratch);
    pl_free(sa);
    return st;
}

static pl_status k_concat(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                          pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_concat, out, err);
    return concat_kernel(call, 0, args, n, out, err);
}

static pl_status k_concat_op(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_concat_op, out, err);
    return concat_kernel(call, 1, args, n, out, err);
}

static pl_status k_concat_ws(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,
                             int64_t n, pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, call->n_args))
        return pl_fn_eval_scalars(ec, call, args, k_concat_ws, out, err);
    return concat_kernel(call, 2, args, n, out, err);
}

/* ---------------------------------------------------------------- regular expressions */

/* A compiled pattern: for UTF-8 text, and for ASCII text when the pattern is ASCII (both give
 * the same matches there; the byte program runs about a third faster). */
typedef struct rx_prog {
    regex_t re;
    bool has_bytes;
    regex_t re_bytes;
} rx_prog;

static void rx_prog_free(rx_prog *p) {
    regfree(&p->re);
    if (p->has_bytes) regfree(&p->re_bytes);
}

typedef struct rx_state {
    bool compiled;
    rx_prog re;
    bool global; /* regexp_replace 'g' */
    bool icase;  /* for patterns compiled per row */
} rx_state;

static void rx_free(void *p) {
    rx_state *s = p;
    if (!s) return;
    if (s->compiled) rx_prog_free(&s->re);
    pl_free(s);
}

/* libc regex reads the thread's LC_CTYPE: in the "C" locale it works on bytes, so `.` matched
 * one byte of a multi-byte character (regexp_replace(s, '.', 'x', 'g') wrote one x per byte,
 * regexp_extract cut characters into invalid UTF-8) and REG_ICASE folded ASCII only. Patterns
 * are compiled and run with C.UTF-8 made the calling thread's locale (uselocale; the process
 * locale is untouched), or "C" for the byte program of an ASCII pattern over ASCII text.
 * Without a C.UTF-8 locale, bytes as before. */
static locale_t rx_locales[2]; /* [0] "C" (bytes), [1] C.UTF-8 */
static pthread_once_t rx_locale_once = PTHREAD_ONCE_INIT;

static void rx_locale_init(void) {
    rx_locales[0] = newlocale(LC_CTYPE_MASK, "C", (locale_t)0);
    rx_locales[1] = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Makes locale [utf8] this thread's locale if it exists; returns the previous one. */
static locale_t rx_locale_use(bool utf8) {
    pthread_once(&rx_locale_once, rx_locale_init);
    locale_t l = rx_locales[utf8 ? 1 : 0];
    return l ? uselocale(l) : uselocale((locale_t)0);
}

static bool rx_ascii(const uint8_t *s, int64_t n) {
    uint8_t acc = 0;
    for (int64_t i = 0; i < n; i++) acc |= s[i];
    return acc < 0x80;
}

/* Translates RE2-style escapes POSIX ERE lacks (\d \D, and \t \n) and compiles. */
static pl_status rx_compile(const char *pat, int64_t len, bool icase, rx_prog *prog, pl_error *err) {
    regex_t *re = &prog->re;
    pl_strbuf sb = {0};
    bool in_class = false;
    pl_status st = PL_OK;
    for (int64_t i = 0; i < len && !st; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < len) {
            char d = pat[i + 1];
            const char *rep = NULL;
            if (d == 'd') rep = in_class ? "0-9" : "[0-9]";
            else if (d == 'D') rep = in_class ? NULL : "[^0-9]";
            else if (d == 't') rep = "\t";
            else if (d == 'n') rep = "\n";
            if (rep) {
                st = pl_strbuf_append(&sb, rep, (int64_t)strlen(rep), err);
                i++;
                continue;
            }
            st = pl_strbuf_append(&sb, pat + i, 2, err);
            i++;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            st = pl_strbuf_append(&sb, pat + i, 1, err);
            /* a leading ] or ^] is literal */
            if (!st && i + 1 < len && pat[i + 1] == '^') st = pl_strbuf_append(&sb, pat + ++i, 1, err);
            if (!st && i + 1 < len && pat[i + 1] == ']') st = pl_strbuf_append(&sb, pat + ++i, 1, err);
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        st = pl_strbuf_append(&sb, &c, 1, err);
    }
    if (!st && !sb.data) st = pl_strbuf_append(&sb, "", 0, err);
    if (st) {
        pl_strbuf_reset(&sb);
        return st;
    }
    int flags = REG_EXTENDED | (icase ? REG_ICASE : 0);
    locale_t old = rx_locale_use(true);
    int rc = regcomp(re, sb.data, flags);
    prog->has_bytes = false;
    if (rc == 0 && rx_locales[1] && rx_locales[0] && rx_ascii((const uint8_t *)sb.data, sb.len)) {
        uselocale(rx_locales[0]);
        prog->has_bytes = regcomp(&prog->re_bytes, sb.data, flags) == 0;
    }
    uselocale(old);
    pl_strbuf_reset(&sb);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        PL_FAIL(err, PL_ERR_INVALID_ARG, "invalid regular expression \"%.*s\": %s",
                (int)PL_MIN(len, 200), pat, msg);
    }
    return PL_OK;
}

static bool lit_str(const pl_bexpr *e, const char **s, int64_t *len) {
    if (e->kind != PL_BEXPR_LIT || e->lit.type->id != PL_TYPE_UTF8 || e->lit.is_null) return false;
    *s = e->lit.str ? e->lit.str : "";
    *len = e->lit.str_len;
    return true;
}

/* Options string: 'i' case-insensitive, 'c' case-sensitive, 'g' global (replace). */
static pl_status rx_options(const char *o, int64_t len, bool *icase, bool *global, pl_error *err) {
    for (int64_t i = 0; i < len; i++) {
        switch (o[i]) {
        case 'i': *icase = true; break;
        case 'c': *icase = false; break;
        case 'g': *global = true; break;
        case 's': case 'n': case 'l': case 'p': break;
        default:
            PL_FAIL(err, PL_ERR_INVALID_ARG, "unrecognized regex option '%c'", o[i]);
        }
    }
    return PL_OK;
}

/* Binds regexp_*: (string, pattern[, x[, options]]); compiles a literal pattern once. */
static pl_status bind_regex(pl_bexpr *call, pl_type_id result, int32_t opt_arg, pl_error *err) {
    for (int32_t i = 0; i < call->n_args; i++) {
        pl_type_id id = call->args[i]->type->id;
        bool ok = (result == PL_TYPE_UTF8 && call->fn->name[7] == 'e' && i == 2)
                      ? (is_int(id) || id == PL_TYPE_NA) /* regexp_extract group */
                      : is_str(id);
        if (!ok) return no_function(call, err);
    }
    bool icase = false, global = false;
    const char *o, *pat;
    int64_t ol, pl;
    if (opt_arg < call->n_args) {
        if (!lit_str(call->args[opt_arg], &o, &ol))
            PL_FAIL(err, PL_ERR_SQL, "%s: the options argument must be a constant string",
                    call->fn->name);
        PL_TRY(rx_options(o, ol, &icase, &global, err));
    }
    if (lit_str(call->args[1], &pat, &pl)) {
        rx_state *s = pl_calloc(1, sizeof *s);
        if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory compiling a regular expression");
        pl_status st = rx_compile(pat, pl, icase, &s->re, err);
        if (st) {
            pl_free(s);
            return st;
        }
        s->compiled = true;
        s->global = global;
        call->state = s;
        call->free_state = rx_free;
    } else if (opt_arg < call->n_args) {
        rx_state *s = pl_calloc(1, sizeof *s);
        if (!s) PL_FAIL(err, PL_ERR_NOMEM, "out of memory compiling a regular expression");
        s->global = global;
        s->icase = icase;
        call->state = s;
        call->free_state = rx_free;
    }
    call->type = ty(result);
    return PL_OK;
}

static pl_status bind_regexp_matches(pl_bexpr *call, pl_error *err) {
    return bind_regex(call, PL_TYPE_BOOL, 2, err);
}
static pl_status bind_regexp_replace(pl_bexpr *call, pl_error *err) {
    return bind_regex(call, PL_TYPE_UTF8, 3, err);
}
static pl_status bind_regexp_extract(pl_bexpr *call, pl_error *err) {
    return bind_regex(call, PL_TYPE_UTF8, 3, err);
}
static pl_status bind_regexp_split(pl_bexpr *call, pl_error *err) {
    /* regexp_split_to_array(s, p [, options]); regexp_extract_all(s, p [, group [, options]]) */
    PL_TRY(bind_regex(call, PL_TYPE_UTF8, strcmp(call->fn->name, "regexp_extract_all") ? 2 : 3, err));
    pl_type *lt = NULL;
    PL_TRY(pl_type_new_list("item", ty(PL_TYPE_UTF8), true, &lt, err));
    pl_type_release(call->type);
    call->type = lt;
    return PL_OK;
}

/* The compiled pattern for row i: the bound one, or compiled from the row's pattern (cached
 * while it repeats). */
typedef struct rx_cache {
    const rx_state *bound;
    bool have;
    bool icase;
    rx_prog re;
    char *pat;
    int32_t pat_len;
} rx_cache;

static pl_status rx_get(rx_cache *c, const uint8_t *pat, int32_t pl, const rx_prog **re,
                        pl_error *err) {
    if (c->bound && c->bound->compiled) {
        *re = &c->bound->re;
        return PL_OK;
    }
    if (c->have && c->pat_len == pl && memcmp(c->pat, pat, (size_t)pl) == 0) {
        *re = &c->re;
        return PL_OK;
    }
    if (c->have) {
        rx_prog_free(&c->re);
        pl_free(c->pat);
        c->have = false;
    }
    c->pat = pl_malloc((size_t)pl + 1);
    if (!c->pat) PL_FAIL(err, PL_ERR_NOMEM, "out of memory compiling a regular expression");
    memcpy(c->pat, pat, (size_t)pl);
    c->pat_len = pl;
    pl_status st = rx_compile((const char *)pat, pl, c->icase, &c->re, err);
    if (st) {
        pl_free(c->pat);
        c->pat = NULL;
        return st;
    }
    c->have = true;
    *re = &c->re;
    return PL_OK;
}

static void rx_cache_reset(rx_cache *c) {
    if (c->have) rx_prog_free(&c->re);
    pl_free(c->pat);
}

static inline int rx_exec(const regex_t *re, const uint8_t *s, int32_t from, int32_t len, size_t nm,
                          regmatch_t *m, bool notbol) {
    m[0].rm_so = from;
    m[0].rm_eo = len;
    return regexec(re, (const char *)s, nm, m, REG_STARTEND | (notbol ? REG_NOTBOL : 0));
}

typedef enum rx_op { RX_MATCHES, RX_FULL, RX_REPLACE, RX_EXTRACT, RX_SPLIT, RX_EXTRACT_ALL } rx_op;

/* regexp_split_to_array of one string (sp, sl; NUL-terminated) into b, a piece per row, like
 * DuckDB: each match (searched from the end of the previous one in the whole text, so ^ only
 * matches at its start) ends a piece and is dropped; an empty match at the start of the rest
 * ends a piece of one character; the rest after the last match is the last piece ('' gives
 * ['']). Returns the number of pieces, or -1 on an error (st set). */
static int64_t rx_split(const regex_t *re, const uint8_t *sp, int32_t sl, pl_builder *b,
                        pl_status *st, pl_error *err) {
    regmatch_t m[1];
    int32_t pos = 0;
    int64_t k = 0;
    while (pos < sl) {
        if (rx_exec(re, sp, pos, sl, 1, m, pos > 0) != 0) break;
        int32_t at = (int32_t)m[0].rm_so, end = (int32_t)m[0].rm_eo;
        if (end == at && at == pos) { /* an empty match here: a piece of one character */
            at = pos + PL_MIN(utf8_char_len(sp[pos]), sl - pos);
            if (at >= sl) break;
            end = at;
        }
        *st = pl_builder_append_bytes(b, sp + pos, at - pos, err);
        if (*st) return -1;
        k++;
        pos = end;
    }
    *st = pl_builder_append_bytes(b, sp + pos, sl - pos, err);
    return *st ? -1 : k + 1;
}

/* regexp_extract_all of one string (sp, sl; NUL-terminated) into b: group `group` of each
 * match (NULL when the group took no part), matches searched from the end of the previous one,
 * an empty match moving on by one character (DuckDB: 'abab', 'b*' gives ['', 'b', '', 'b',
 * '']). Returns the number of matches, or -1 on an error (st set). */
static int64_t rx_extract_all(const regex_t *re, const uint8_t *sp, int32_t sl, int64_t group,
                              pl_builder *b, pl_status *st, pl_error *err) {
    regmatch_t m[10];
    int32_t pos = 0;
    int64_t k = 0;
    while (pos <= sl) {
        if (rx_exec(re, sp, pos, sl, (size_t)group + 1, m, pos > 0) != 0) break;
        int32_t at = (int32_t)m[0].rm_so, end = (int32_t)m[0].rm_eo;
        *st = m[group].rm_so < 0 ? pl_builder_append_null(b, err)
                                 : pl_builder_append_bytes(b, sp + m[group].rm_so,
                                                           (int32_t)(m[group].rm_eo - m[group].rm_so), err);
        if (*st) return -1;
        k++;
        pos = end > at ? end : at < sl ? at + PL_MIN(utf8_char_len(sp[at]), sl - at) : sl + 1;
    }
    return k;
}

static pl_status rx_kernel(const pl_bexpr *call, rx_op op, const pl_datum *args, int64_t n,
                           pl_datum *out, pl_error *err) {
    sarg s, p, r;
    iarg g;
    memset(&g, 0, sizeof g);
    sarg_init(&s, &args[0]);
    sarg_init(&p, &args[1]);
    if (op == RX_REPLACE) sarg_init(&r, &args[2]);
    bool has_group = (op == RX_EXTRACT || op == RX_EXTRACT_ALL) && call->n_args >= 3;
    bool listy = op == RX_SPLIT || op == RX_EXTRACT_ALL; /* list results */
    if (has_group) PL_TRY(iarg_init(&g, &args[2], err));
    rx_cache cache = {.bound = call->state};
    if (call->state) cache.icase = ((const rx_state *)call->state)->icase;
    bool global = call->state && ((const rx_state *)call->state)->global;
    pl_fn_strb b;
    memset(&b, 0, sizeof b);
    pl_buf *bits = NULL, *validity = NULL;
    int64_t nc = 0;
    bool all_null = false;
    pl_status st;
    pl_buf *loffs = NULL;   /* RX_SPLIT: the list offsets */
    pl_builder *pb = NULL; /* and the pieces */
    int64_t n_pieces = 0;
    if (op == RX_MATCHES || op == RX_FULL) {
        st = pl_fn_and_validity(args, 2, n, &validity, &nc, &all_null, err);
        if (!st) st = pl_buf_new_zeroed((n + 7) / 8 > 0 ? (n + 7) / 8 : 1, &bits, err);
    } else {
        st = listy ? pl_builder_new(ty(PL_TYPE_UTF8), n, &pb, err) : pl_fn_strb_init(&b, n, 64, err);
        if (!st && listy) st = pl_fn_new_values(n + 1, 4, &loffs, err);
        if (!st && listy) st = pl_fn_new_validity(n, &validity, err);
        if (!st && listy) ((int32_t *)(void *)loffs->data)[0] = 0;
    }
    regmatch_t m[10];
    pl_strbuf nul = {0};
    locale_t old_locale = rx_locale_use(true);
    bool utf8_now = true;
    for (int64_t i = 0; i < n && !st && !all_null; i++) {
        const uint8_t *sp, *pp, *rp = NULL;
        int32_t sl, pl, rl = 0;
        int64_t group = 0;
        bool s_ok = sarg_get(&s, i, &sp, &sl);
        bool ok = s_ok & sarg_get(&p, i, &pp, &pl);
        if (op == RX_REPLACE) ok &= sarg_get(&r, i, &rp, &rl);
        if (has_group) ok &= iarg_get(&g, i, &group);
        if (op == RX_SPLIT && !ok) { /* NULL string: NULL; NULL pattern: the string (DuckDB) */
            if (s_ok) {
                st = pl_builder_append_bytes(pb, sp, sl, err);
                n_pieces++;
                pl_bit_set(validity->data, i);
            }
            if (n_pieces > INT32_MAX)
                st = pl_error_set(err, PL_ERR_LIMIT, "regexp_split_to_array: more than 2^31 pieces");
            ((int32_t *)(void *)loffs->data)[i + 1] = (int32_t)n_pieces;
            continue;
        }
        if (!ok) {
            if (op == RX_REPLACE || op == RX_EXTRACT) st = pl_fn_strb_null(&b, err);
            if (op == RX_EXTRACT_ALL) ((int32_t *)(void *)loffs->data)[i + 1] = (int32_t)n_pieces;
            continue;
        }
        const rx_prog *prog;
        st = rx_get(&cache, pp, pl, &prog, err);
        if (st) break;
        /* the byte program for ASCII text, in the locale it was compiled in */
        bool bytes = prog->has_bytes && rx_ascii(sp, sl);
        const regex_t *re = bytes ? &prog->re_bytes : &prog->re;
        if (bytes == utf8_now) {
            utf8_now = !bytes;
            rx_locale_use(utf8_now);
        }
        /* a NUL-terminated copy (regexec's sanitizer interceptors read up to a NUL even with
         * REG_STARTEND) */
        nul.len = 0;
        st = pl_strbuf_append(&nul, (const char *)sp, sl, err);
        if (st) break;
        sp = (const uint8_t *)nul.data;
        if (op == RX_SPLIT) {
            int64_t k = rx_split(re, sp, sl, pb, &st, err);
            if (k < 0) break;
            n_pieces += k;
            if (n_pieces > INT32_MAX) {
                st = pl_error_set(err, PL_ERR_LIMIT, "regexp_split_to_array: more than 2^31 pieces");
                break;
            }
            ((int32_t *)(void *)loffs->data)[i + 1] = (int32_t)n_pieces;
            pl_bit_set(validity->data, i);
        } else if (op == RX_EXTRACT_ALL) {
            if (group < 0 || group > 9 || (size_t)group > re->re_nsub) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "regexp_extract_all: group %lld out of range (the pattern has %zu)",
                                  (long long)group, re->re_nsub);
                break;
            }
            int64_t k = rx_extract_all(re, sp, sl, group, pb, &st, err);
            if (k < 0) break;
            n_pieces += k;
            if (n_pieces > INT32_MAX) {
                st = pl_error_set(err, PL_ERR_LIMIT, "regexp_extract_all: more than 2^31 matches");
                break;
            }
            ((int32_t *)(void *)loffs->data)[i + 1] = (int32_t)n_pieces;
            pl_bit_set(validity->data, i);
        } else if (op == RX_MATCHES || op == RX_FULL) {
            int rc = rx_exec(re, sp, 0, sl, 1, m, false);
            bool hit = rc == 0 && (op == RX_MATCHES || (m[0].rm_so == 0 && m[0].rm_eo == sl));
            if (hit) pl_bit_set(bits->data, i);
        } else if (op == RX_EXTRACT) {
            if (group < 0 || group > 9 || (size_t)group > re->re_nsub) {
                st = pl_error_set(err, PL_ERR_INVALID_ARG,
                                  "regexp_extract: group %lld out of range (the pattern has %zu)",
                                  (long long)group, re->re_nsub);
                break;
            }
            int rc = rx_exec(re, sp, 0, sl, (size_t)group + 1, m, false);
            if (rc == 0 && m[group].rm_so >= 0)
                st = pl_fn_strb_append(&b, sp + m[group].rm_so, m[group].rm_eo - m[group].rm_so, err);
            if (!st) st = pl_fn_strb_next(&b, err);
        } else {
            int32_t pos = 0;
            bool notbol = false;
            while (!st && pos <= sl) {
                int rc = rx_exec(re, sp, pos, sl, 10, m, notbol);
                if (rc != 0) break;
                st = pl_fn_strb_append(&b, sp + pos, (int32_t)m[0].rm_so - pos, err);
                /* replacement with \0..\9 back references */
                for (int32_t k = 0; k < rl && !st; k++) {
                    if (rp[k] == '\\' && k + 1 < rl && rp[k + 1] >= '0' && rp[k + 1] <= '9') {
                        int gi = rp[k + 1] - '0';
                        if ((size_t)gi <= re->re_nsub && m[gi].rm_so >= 0)
                            st = pl_fn_strb_append(&b, sp + m[gi].rm_so,
                                                   m[gi].rm_eo - m[gi].rm_so, err);
                        k++;
                    } else if (rp[k] == '\\' && k + 1 < rl && rp[k + 1] == '\\') {
                        st = pl_fn_strb_append(&b, "\\", 1, err);
                        k++;
                    } else {
                        st = pl_fn_strb_append(&b, rp + k, 1, err);
                    }
                }
                int32_t end = (int32_t)m[0].rm_eo;
                if (end == m[0].rm_so) {
                    /* empty match: copy one character and move on */
                    if (end < sl && !st) {
                        int32_t cl = PL_MIN(utf8_char_len(sp[end]), sl - end);
                        st = pl_fn_strb_append(&b, sp + end, cl, err);
                        end += cl;
                    } else {
                        pos = sl + 1;
                        break;
                    }
                }
                pos = end;
                notbol = true;
                if (!global) break;
            }
            if (!st && pos <= sl) st = pl_fn_strb_append(&b, sp + pos, sl - pos, err);
            if (!st) st = pl_fn_strb_next(&b, err);
        }
    }
    uselocale(old_locale);
    rx_cache_reset(&cache);
    pl_strbuf_reset(&nul);
    iarg_reset(&g);
    if (op == RX_MATCHES || op == RX_FULL) {
        if (st) {
            pl_buf_release(bits);
            pl_buf_release(validity);
            return st;
        }
        if (all_null) {
            pl_buf_release(bits);
            return pl_fn_out_nulls(out, ty(PL_TYPE_BOOL), n, err);
        }
        return pl_fn_finish(out, ty(PL_TYPE_BOOL), n, validity, nc, bits, NULL, err);
    }
    if (listy) {
        pl_array *child = NULL, *a = NULL;
        if (!st) st = pl_builder_finish(pb, &child, err);
        pl_builder_free(pb);
        if (st) {
            pl_buf_release(loffs);
            pl_buf_release(validity);
            return st;
        }
        st = pl_array_new(pl_type_retain(call->type), n, -1, validity, loffs, NULL, 1, &child, NULL,
                          &a, err);
        if (st) return st;
        pl_datum_set_array(out, a);
        return PL_OK;
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

#define RX(NAME, OP)                                                                               \
    static pl_status k_##NAME(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args,        \
                              int64_t n, pl_datum *out, pl_error *err) {                           \
        if (pl_fn_all_scalar(args, call->n_args))                                                  \
            return pl_fn_eval_scalars(ec, call, args, k_##NAME, out, err);                         \
        return rx_kernel(call, OP, args, n, out, err);                                             \
    }
RX(regexp_matches, RX_MATCHES)
RX(regexp_full_match, RX_FULL)
RX(regexp_replace, RX_REPLACE)
RX(regexp_extract, RX_EXTRACT)
RX(regexp_split_to_array, RX_SPLIT)
RX(regexp_extract_all, RX_EXTRACT_ALL)

/* ---------------------------------------------------------------- md5 (RFC 1321) */

static const uint32_t g_md5_k[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391};
static const uint8_t g_md5_r[64] = {7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
                                    5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
                                    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
                                    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_block(uint32_t h[4], const uint8_t *blk) {
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[i * 4] | ((uint32_t)blk[i * 4 + 1] << 8) |
               ((uint32_t)blk[i * 4 + 2] << 16) | ((uint32_t)blk[i * 4 + 3] << 24);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        uint32_t t = d;
        d = c;
        c = b;
        uint32_t x = a + f + g_md5_k[i] + w[g];
        b = b + ((x << g_md5_r[i]) | (x >> (32 - g_md5_r[i])));
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

/* The 32 lower-case hex digits of md5(p[0..n)) into out. */
static void md5_hex(const uint8_t *p, int64_t n, char *out) {
    uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
    int64_t full = n / 64;
    for (int64_t b = 0; b < full; b++) md5_block(h, p + b * 64);
    uint8_t tail[128] = {0};
    int64_t rest = n - full * 64;
    memcpy(tail, p + full * 64, (size_t)rest);
    tail[rest] = 0x80;
    int64_t tl = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)n * 8;
    for (int k = 0; k < 8; k++) tail[tl - 8 + k] = (uint8_t)(bits >> (8 * k));
    md5_block(h, tail);
    if (tl == 128) md5_block(h, tail + 64);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        uint8_t byte = (uint8_t)(h[i / 4] >> (8 * (i % 4)));
        out[i * 2] = hex[byte >> 4];
        out[i * 2 + 1] = hex[byte & 15];
    }
}

static pl_status k_md5(pl_eval_ctx *ec, const pl_bexpr *call, const pl_datum *args, int64_t n,
                       pl_datum *out, pl_error *err) {
    if (pl_fn_all_scalar(args, 1)) return pl_fn_eval_scalars(ec, call, args, k_md5, out, err);
    sarg s;
    sarg_init(&s, &args[0]);
    pl_fn_strb b;
    PL_TRY(pl_fn_strb_init(&b, n, 32 * n + 1, err));
    pl_status st = PL_OK;
    for (int64_t i = 0; i < n && !st; i++) {
        const uint8_t *p;
        int32_t len;
        if (!sarg_get(&s, i, &p, &len)) {
            st = pl_fn_strb_null(&b, err);
            continue;
        }
        uint8_t *dst;
        st = pl_fn_strb_reserve(&b, 32, &dst, err);
        if (st) break;
        md5_hex(p, len, (char *)dst);
        pl_fn_strb_commit(&b, 32);
        st = pl_fn_strb_next(&b, err);
    }
    if (!st) return pl_fn_strb_finish(&b, ty(PL_TYPE_UTF8), out, err);
    pl_fn_strb_reset(&b);
    return st;
}

/* ---------------------------------------------------------------- the set */

#define EW (PL_FN_ELEMENTWISE | PL_FN_NULL_IN_NULL_OUT)

static const pl_func_def g_string[] = {
    {"length", "char_length character_length len", 1, 1, EW, bind_length, k_length},
    {"octet_length", "strlen", 1, 1, EW, bind_octet_length, k_length},
    {"bit_length", NULL, 1, 1, EW, bind_s_i64, k_length},
    {"lower", "lcase", 1, 1, EW, bind_s_s, k_case},
    {"upper", "ucase", 1, 1, EW, bind_s_s, k_case},
    {"trim", "btrim", 1, 2, EW, bind_s_s, k_trim},
    {"ltrim", NULL, 1, 2, EW, bind_s_s, k_trim},
    {"rtrim", NULL, 1, 2, EW, bind_s_s, k_trim},
    {"substr", "substring", 2, 3, EW, bind_s_int_s, k_substr},
    {"concat", NULL, 1, -1, PL_FN_ELEMENTWISE, bind_concat, k_concat},
    {"concat_op", NULL, 2, -1, EW, bind_concat, k_concat_op},
    {"concat_ws", NULL, 2, -1, PL_FN_ELEMENTWISE, bind_concat, k_concat_ws},
    {"replace", NULL, 3, 3, EW, bind_s_s, k_replace},
    {"starts_with", "prefix", 2, 2, EW, bind_s_b, k_starts_with},
    {"ends_with", "suffix", 2, 2, EW, bind_s_b, k_ends_with},
    {"contains", NULL, 2, 2, EW, bind_s_b, k_contains},
    {"strpos", "instr position", 2, 2, EW, bind_ss_i64, k_strpos},
    {"split_part", NULL, 3, 3, EW, bind_ssi_s, k_split_part},
    {"left", NULL, 2, 2, EW, bind_s_int_s, k_left},
    {"right", NULL, 2, 2, EW, bind_s_int_s, k_right},
    {"lpad", NULL, 3, 3, EW, bind_pad, k_pad},
    {"rpad", NULL, 3, 3, EW, bind_pad, k_pad},
    {"reverse", NULL, 1, 1, EW, bind_s_s, k_reverse},
    {"repeat", NULL, 2, 2, EW, bind_s_int_s, k_repeat},
    {"ascii", NULL, 1, 1, EW, bind_ascii, k_ascii},
    {"unicode", "ord", 1, 1, EW, bind_ascii, k_unicode},
    {"md5", NULL, 1, 1, EW, bind_md5, k_md5},
    {"chr", NULL, 1, 1, EW, bind_chr, k_chr},
    {"regexp_matches", NULL, 2, 3, EW, bind_regexp_matches, k_regexp_matches},
    {"regexp_full_match", NULL, 2, 3, EW, bind_regexp_matches, k_regexp_full_match},
    {"regexp_replace", NULL, 3, 4, EW, bind_regexp_replace, k_regexp_replace},
    {"regexp_extract", NULL, 2, 4, EW, bind_regexp_extract, k_regexp_extract},
    {"regexp_split_to_array", "string_split_regex str_split_regex", 2, 3, EW, bind_regexp_split,
     k_regexp_split_to_array},
    {"regexp_extract_all", NULL, 2, 4, EW, bind_regexp_split, k_regexp_extract_all},
};

const pl_func_set pl_funcs_string = {(int32_t)PL_ARRAY_LEN(g_string), g_string};
