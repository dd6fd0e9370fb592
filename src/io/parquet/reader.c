/* reader.c - Parquet files: opening (footer read with pread, magic and encryption checks,
 * metadata and schema decoding), per-field decoding of a row group (every leaf chunk, then
 * record assembly), and parallel row-group reads (one task per top-level column, spread over
 * the worker pool with per-worker scratch). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compute/compute.h"
#include "pq_int.h"

#define PQ_MAGIC "PAR1"
#define PQ_MAGIC_ENCRYPTED "PARE"

void pl_pq_error_context(pl_error *err, const char *path, int32_t rg, int32_t column,
                         const char *column_name) {
    if (!err) return;
    if (path) pl_error_set_path(err, path);
    if (rg >= 0 && err->row_group < 0) err->row_group = rg;
    if (column >= 0 || column_name) pl_error_set_column(err, column, column_name);
}

void pl_pq_read_opts_init(pl_pq_read_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_rows = -1;
}

static pl_status pread_all(int fd, uint8_t *buf, int64_t len, int64_t off, pl_error *err) {
    int64_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, buf + done, (size_t)(len - done), (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            PL_FAIL(err, PL_ERR_IO, "read failed: %s", strerror(errno));
        }
        if (r == 0) PL_FAIL(err, PL_ERR_IO, "unexpected end of file");
        done += r;
    }
    return PL_OK;
}

/* Decodes the footer of f (whose src is set up). */
static pl_status open_common(pl_pq_file *f, pl_error *err) {
    int64_t size = f->src.size;
    uint8_t head[4], tail[8];
    if (size < 12)
        PL_FAIL(err, PL_ERR_CORRUPT, "not a parquet file: %lld bytes is too small",
                (long long)size);
    if (f->src.mem) {
        memcpy(head, f->src.mem, 4);
        memcpy(tail, f->src.mem + size - 8, 8);
    } else {
        PL_TRY(pread_all(f->src.fd, head, 4, 0, err));
        PL_TRY(pread_all(f->src.fd, tail, 8, size - 8, err));
    }
    if (memcmp(tail + 4, PQ_MAGIC_ENCRYPTED, 4) == 0 || memcmp(head, PQ_MAGIC_ENCRYPTED, 4) == 0) {
        pl_error_set(err, PL_ERR_UNSUPPORTED, "encrypted parquet files are not supported");
        if (err) snprintf(err->hint, sizeof err->hint, "decrypt the file with its keys first");
        return PL_ERR_UNSUPPORTED;
    }
    if (memcmp(tail + 4, PQ_MAGIC, 4) != 0 || memcmp(head, PQ_MAGIC, 4) != 0)
        PL_FAIL(err, PL_ERR_CORRUPT, "not a parquet file (no PAR1 magic)");
    int64_t flen = pl_load_u32le(tail);
    if (flen > size - 12) {
        if (err) err->byte_offset = size - 8;
        PL_FAIL(err, PL_ERR_CORRUPT, "footer length %lld exceeds the file size %lld",
                (long long)flen, (long long)size);
    }
    if (flen > PL_PQ_MAX_FOOTER_BYTES)
        PL_FAIL(err, PL_ERR_LIMIT, "footer of %lld bytes exceeds the limit of %lld",
                (long long)flen, (long long)PL_PQ_MAX_FOOTER_BYTES);
    int64_t foff = size - 8 - flen;
    const uint8_t *footer;
    if (f->src.mem) {
        footer = f->src.mem + foff;
    } else {
        f->footer = pl_malloc((size_t)(flen > 0 ? flen : 1));
        if (!f->footer) PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading the footer");
        PL_TRY(pread_all(f->src.fd, f->footer, flen, foff, err));
        footer = f->footer;
    }
    f->md.file_size = size;
    f->md.footer_bytes = flen;
    PL_TRY(pl_pq_metadata_decode(footer, flen, foff, &f->arena, &f->md, err));
    PL_TRY(pl_pq_schema_build(&f->md, &f->arena, &f->tree, err));
    for (int32_t r = 0; r < f->md.n_row_groups; r++) {
        const pl_pq_row_group *rg = &f->md.row_groups[r];
        if (rg->n_columns != f->md.n_leaves) {
            if (err) err->row_group = r;
            PL_FAIL(err, PL_ERR_CORRUPT, "row group has %d column chunks, the schema %d leaves",
                    rg->n_columns, f->md.n_leaves);
        }
    }
    return PL_OK;
}

static pl_status file_alloc(const char *name, pl_pq_file **out, pl_error *err) {
    pl_pq_file *f = pl_calloc(1, sizeof *f);
    if (!f) PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening a parquet file");
    f->path = pl_strdup(name ? name : "");
    if (!f->path) {
        pl_free(f);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening a parquet file");
    }
    f->src.fd = -1;
    f->src.map_slot = -1;
    f->src.path = f->path;
    *out = f;
    return PL_OK;
}

/* ---------------------------------------------------------------- the metadata cache
 * Decoded footers (metadata, schema tree, their arena) of files opened by path, keyed by device,
 * inode, size and modification time, so that a server answering many queries over the same
 * files (and the planner's row-group pruning, which opens them too) decodes each footer once.
 * Entries are refcounted and immutable; a changed file has another key and misses. At most
 * PQ_CACHE_ENTRIES entries and PQ_CACHE_BYTES of footers; the least recently used unused entry
 * goes first. */
#define PQ_CACHE_ENTRIES 256
#define PQ_CACHE_BYTES (64LL << 20)

struct pl_pq_meta_entry {
    dev_t dev;
    ino_t ino;
    int64_t size, mtime_ns;
    uint8_t *footer;
    pl_pq_arena arena;
    pl_pq_metadata md;
    pl_pq_schema_tree tree;
    int64_t refs;     /* opens using it, + 1 while in the cache */
    int64_t last_use; /* cache clock */
    /* the dictionary cache: [rg * n_leaves + leaf], allocated on first use (under the lock) */
    pl_pq_dict **dicts;
    int64_t dict_bytes;
};

static pthread_mutex_t g_pq_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static pl_pq_meta_entry *g_pq_cache[PQ_CACHE_ENTRIES];
static int64_t g_pq_cache_bytes, g_pq_cache_clock;

/* Dictionaries are cached up to PQ_DICT_CACHE_BYTES in all (first come, first kept: entries
 * leave with their file's metadata), none larger than PQ_DICT_MAX_BYTES. */
#define PQ_DICT_CACHE_BYTES (64LL << 20)
#define PQ_DICT_MAX_BYTES (4LL << 20)
static int64_t g_pq_dict_bytes; /* atomic */

static int64_t dict_bytes(const pl_pq_dict *d) {
    if (d->offsets) return (d->n + 1) * 4 + d->data_bytes;
    return d->n * (d->width > 0 ? d->width : 1);
}

static void dicts_free(pl_pq_meta_entry *e) {
    if (!e->dicts) return;
    int64_t n = (int64_t)e->md.n_row_groups * e->md.n_leaves;
    for (int64_t i = 0; i < n; i++) {
        pl_pq_dict *d = e->dicts[i];
        if (!d) continue;
        d->shared = false;
        pl_pq_dict_reset(d);
        pl_free(d);
    }
    pl_free(e->dicts);
    e->dicts = NULL;
    __atomic_sub_fetch(&g_pq_dict_bytes, e->dict_bytes, __ATOMIC_RELAXED);
}

static void entry_free(pl_pq_meta_entry *e) {
    dicts_free(e);
    pl_pq_schema_tree_reset(&e->tree);
    pl_pq_arena_free(&e->arena);
    pl_free(e->footer);
    pl_free(e);
}

/* Drops a reference; the caller holds the lock. true when e must be freed (after unlocking). */
static bool entry_unref_locked(pl_pq_meta_entry *e) { return --e->refs == 0; }

static int64_t stat_mtime_ns(const struct stat *sb) {
    return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

/* Shares a cached entry with f when one matches sb and the file's footer bytes are still
 * the cached ones (file times have a granularity of milliseconds: a file rewritten in place
 * with the same size within it keeps its mtime): true on a hit. */
static bool cache_lookup(pl_pq_file *f, const struct stat *sb) {
    pl_pq_meta_entry *hit = NULL;
    pthread_mutex_lock(&g_pq_cache_lock);
    for (int i = 0; i < PQ_CACHE_ENTRIES && !hit; i++) {
        pl_pq_meta_entry *e = g_pq_cache[i];
        if (!e || e->dev != sb->st_dev || e->ino != sb->st_ino || e->size != (int64_t)sb->st_size ||
            e->mtime_ns != stat_mtime_ns(sb))
            continue;
        e->refs++;
        e->last_use = ++g_pq_cache_clock;
        hit = e;
    }
    pthread_mutex_unlock(&g_pq_cache_lock);
    if (!hit) return false;
    int64_t flen = hit->md.footer_bytes;
    uint8_t *now = pl_malloc((size_t)flen + 8);
    bool same = now && pread_all(f->src.fd, now, flen + 8, hit->size - 8 - flen, NULL) == PL_OK &&
                memcmp(now, hit->footer, (size_t)flen) == 0 &&
                (int64_t)pl_load_u32le(now + flen) == flen && memcmp(now + flen + 4, PQ_MAGIC, 4) == 0;
    pl_free(now);
    if (!same) {
        pthread_mutex_lock(&g_pq_cache_lock);
        bool last = entry_unref_locked(hit);
        pthread_mutex_unlock(&g_pq_cache_lock);
        if (last) entry_free(hit);
        return false;
    }
    f->md = hit->md;
    f->tree = hit->tree;
    f->shared = hit;
    return true;
}

/* Moves f's decoded footer into a new cache entry that f then shares (best effort: on OOM f
 * keeps its own copy). */
static void cache_insert(pl_pq_file *f, const struct stat *sb) {
    if (f->md.footer_bytes > PQ_CACHE_BYTES / 4) return;
    pl_pq_meta_entry *e = pl_calloc(1, sizeof *e);
    if (!e) return;
    e->dev = sb->st_dev;
    e->ino = sb->st_ino;
    e->size = (int64_t)sb->st_size;
    e->mtime_ns = stat_mtime_ns(sb);
    e->footer = f->footer;
    e->arena = f->arena;
    e->md = f->md;
    e->tree = f->tree;
    e->refs = 2; /* the cache and f */
    f->footer = NULL;
    memset(&f->arena, 0, sizeof f->arena);
    f->shared = e;
    pl_pq_meta_entry *drop[PQ_CACHE_ENTRIES];
    int n_drop = 0;
    pthread_mutex_lock(&g_pq_cache_lock);
    e->last_use = ++g_pq_cache_clock;
    g_pq_cache_bytes += e->md.footer_bytes;
    /* an older entry of the same file (rewritten in place) goes */
    for (int i = 0; i < PQ_CACHE_ENTRIES; i++) {
        pl_pq_meta_entry *o = g_pq_cache[i];
        if (!o || o->dev != e->dev || o->ino != e->ino) continue;
        g_pq_cache[i] = NULL;
        g_pq_cache_bytes -= o->md.footer_bytes;
        if (entry_unref_locked(o)) drop[n_drop++] = o;
    }
    int slot = -1;
    for (int i = 0; i < PQ_CACHE_ENTRIES && slot < 0; i++)
        if (!g_pq_cache[i]) slot = i;
    /* evict least recently used entries until there is a slot and the bytes fit */
    while (slot < 0 || g_pq_cache_bytes > PQ_CACHE_BYTES) {
        int victim = -1;
        for (int i = 0; i < PQ_CACHE_ENTRIES; i++)
            if (g_pq_cache[i] && (victim < 0 || g_pq_cache[i]->last_use < g_pq_cache[victim]->last_use))
                victim = i;
        if (victim < 0) break;
        pl_pq_meta_entry *v = g_pq_cache[victim];
        g_pq_cache[victim] = NULL;
        g_pq_cache_bytes -= v->md.footer_bytes;
        if (entry_unref_locked(v)) drop[n_drop++] = v;
        if (slot < 0) slot = victim;
    }
    if (slot >= 0) {
        g_pq_cache[slot] = e;
    } else {
        g_pq_cache_bytes -= e->md.footer_bytes;
        e->refs--; /* not cached after all: f's reference only */
    }
    pthread_mutex_unlock(&g_pq_cache_lock);
    for (int i = 0; i < n_drop; i++) entry_free(drop[i]);
}

const pl_pq_dict *pl_pq_dict_cache_get(pl_pq_meta_entry *e, int32_t rg, int32_t leaf) {
    if (!e) return NULL;
    const pl_pq_dict *d = NULL;
    pthread_mutex_lock(&g_pq_cache_lock);
    if (e->dicts) d = e->dicts[(int64_t)rg * e->md.n_leaves + leaf];
    pthread_mutex_unlock(&g_pq_cache_lock);
    return d;
}

/* An owned deep copy of d; fixed-width values get a zeroed slot after the last. */
static pl_pq_dict *dict_clone(const pl_pq_dict *d) {
    pl_pq_dict *c = pl_calloc(1, sizeof *c);
    if (!c) return NULL;
    *c = *d;
    c->borrowed = c->shared = false;
    c->values = NULL;
    c->offsets = NULL;
    c->data = NULL;
    bool ok = true;
    if (d->offsets) {
        c->offsets = pl_malloc((size_t)(d->n + 1) * 4);
        c->data = pl_malloc((size_t)d->data_bytes + 16);
        ok = c->offsets && c->data;
        if (ok) {
            memcpy(c->offsets, d->offsets, (size_t)(d->n + 1) * 4);
            if (d->data_bytes) memcpy(c->data, d->data, (size_t)d->data_bytes);
            memset(c->data + d->data_bytes, 0, 16);
        }
    } else if (d->values) {
        int64_t vb = d->n * (d->width > 0 ? d->width : 1);
        c->values = pl_malloc((size_t)vb + 32);
        ok = c->values != NULL;
        if (ok) {
            memcpy(c->values, d->values, (size_t)vb);
            memset(c->values + vb, 0, 32);
        }
    }
    if (!ok) {
        pl_pq_dict_reset(c);
        pl_free(c);
        return NULL;
    }
    return c;
}

const pl_pq_dict *pl_pq_dict_cache_put(pl_pq_meta_entry *e, int32_t rg, int32_t leaf,
                                       const pl_pq_dict *d) {
    int64_t bytes = dict_bytes(d);
    if (!e || bytes > PQ_DICT_MAX_BYTES ||
        __atomic_load_n(&g_pq_dict_bytes, __ATOMIC_RELAXED) + bytes > PQ_DICT_CACHE_BYTES)
        return NULL;
    pl_pq_dict *c = dict_clone(d);
    if (!c) return NULL;
    const pl_pq_dict *out = NULL;
    int64_t n = (int64_t)e->md.n_row_groups * e->md.n_leaves;
    pthread_mutex_lock(&g_pq_cache_lock);
    if (!e->dicts) e->dicts = pl_calloc((size_t)n, sizeof *e->dicts);
    pl_pq_dict **slot = e->dicts ? &e->dicts[(int64_t)rg * e->md.n_leaves + leaf] : NULL;
    if (slot && *slot) {
        out = *slot; /* another thread was first */
    } else if (slot && __atomic_add_fetch(&g_pq_dict_bytes, bytes, __ATOMIC_RELAXED) <=
                           PQ_DICT_CACHE_BYTES) {
        *slot = c;
        e->dict_bytes += bytes;
        out = c;
        c = NULL;
    } else if (slot) {
        __atomic_sub_fetch(&g_pq_dict_bytes, bytes, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&g_pq_cache_lock);
    if (c) {
        pl_pq_dict_reset(c);
        pl_free(c);
    }
    return out;
}

void pl_pq_meta_cache_clear(void) {
    pl_pq_meta_entry *drop[PQ_CACHE_ENTRIES];
    int n_drop = 0;
    pthread_mutex_lock(&g_pq_cache_lock);
    for (int i = 0; i < PQ_CACHE_ENTRIES; i++) {
        pl_pq_meta_entry *e = g_pq_cache[i];
        if (!e) continue;
        g_pq_cache[i] = NULL;
        if (entry_unref_locked(e)) drop[n_drop++] = e;
    }
    g_pq_cache_bytes = 0;
    pthread_mutex_unlock(&g_pq_cache_lock);
    for (int i = 0; i < n_drop; i++) entry_free(drop[i]);
}

pl_status pl_pq_file_open(const char *path, pl_pq_file **out, pl_error *err) {
    pl_pq_file *f = NULL;
    PL_TRY(file_alloc(path, &f, err));
    pl_status st = PL_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        st = pl_error_set(err, e == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot open file: %s",
                          strerror(e));
        goto fail;
    }
    f->src.fd = fd;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = pl_error_set(err, PL_ERR_IO, "not a regular file");
        goto fail;
    }
    f->src.size = (int64_t)sb.st_size;
    if (!cache_lookup(f, &sb)) {
        if ((st = open_common(f, err))) goto fail;
        cache_insert(f, &sb);
    }
    *out = f;
    return PL_OK;
fail:
    pl_error_set_path(err, path);
    pl_pq_file_close(f);
    return st;
}

pl_status pl_pq_file_open_memory(const uint8_t *data, int64_t size, const char *name,
                                 pl_pq_file **out, pl_error *err) {
    pl_pq_file *f = NULL;
    PL_TRY(file_alloc(name, &f, err));
    static const uint8_t empty[1];
    f->src.mem = data ? data : empty;
    f->src.size = size;
    pl_status st = open_common(f, err);
    if (st) {
        if (name) pl_error_set_path(err, name);
        pl_pq_file_close(f);
        return st;
    }
    *out = f;
    return PL_OK;
}

static void file_unmap(pl_pq_file *f) {
    if (!f->src.map) return;
    pl_file_unmap(f->src.map_slot);
    f->src.map = NULL;
    f->src.map_slot = -1;
}

void pl_pq_file_drop_fd(pl_pq_file *f) {
    if (f->src.fd >= 0 && !f->src.mem) {
        file_unmap(f);
        close(f->src.fd);
        f->src.fd = -1;
    }
}

/* Maps f's file when it has chunks read from mappings (best effort: pread otherwise). */
static void file_map(pl_pq_file *f) {
    if (f->src.map || f->src.fd < 0) return;
    bool any = false;
    for (int32_t r = 0; r < f->md.n_row_groups && !any; r++)
        for (int32_t k = 0; k < f->md.row_groups[r].n_columns && !any; k++)
            any = pl_pq_codec_mapped(f->md.row_groups[r].columns[k].codec);
    if (!any) return;
    const uint8_t *m = NULL;
    int32_t slot = pl_file_map(f->src.fd, f->src.size, &m);
    if (slot < 0) return;
    f->src.map = m;
    f->src.map_slot = slot;
}

pl_status pl_pq_file_ensure_fd(pl_pq_file *f, pl_error *err) {
    if (f->src.mem) return PL_OK;
    if (f->src.fd >= 0) {
        file_map(f);
        return PL_OK;
    }
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        pl_error_set_path(err, f->path);
        PL_FAIL(err, e == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO, "cannot reopen file: %s",
                strerror(e));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (int64_t)sb.st_size != f->src.size) {
        close(fd);
        pl_error_set_path(err, f->path);
        PL_FAIL(err, PL_ERR_IO, "file changed while it was being read");
    }
    f->src.fd = fd;
    file_map(f);
    return PL_OK;
}

void pl_pq_file_close(pl_pq_file *f) {
    if (!f) return;
    if (f->shared) {
        pthread_mutex_lock(&g_pq_cache_lock);
        bool last = entry_unref_locked(f->shared);
        pthread_mutex_unlock(&g_pq_cache_lock);
        if (last) entry_free(f->shared);
    } else {
        pl_pq_schema_tree_reset(&f->tree);
        pl_pq_arena_free(&f->arena);
        pl_free(f->footer);
    }
    file_unmap(f);
    if (f->src.fd >= 0) close(f->src.fd);
    pl_free(f->path);
    pl_free(f);
}

const pl_pq_metadata *pl_pq_file_metadata(const pl_pq_file *f) { return &f->md; }

pl_schema *pl_pq_file_schema(const pl_pq_file *f) { return f->tree.schema; }

/* ---------------------------------------------------------------- fields */

static bool chunk_all_dict(const pl_pq_column_chunk *cc) {
    if (cc->n_encoding_stats == 0) return false;
    bool any = false;
    for (int32_t k = 0; k < cc->n_encoding_stats; k++) {
        const pl_pq_encoding_stats *es = &cc->encoding_stats[k];
        if (es->page_type != PL_PQ_PAGE_DATA && es->page_type != PL_PQ_PAGE_DATA_V2) continue;
        if (es->count <= 0) continue;
        if (es->encoding != PL_PQ_ENC_PLAIN_DICTIONARY && es->encoding != PL_PQ_ENC_RLE_DICTIONARY)
            return false;
        any = true;
    }
    return any;
}

/* Without encoding statistics (Polars, older writers) the encodings list must name a
 * dictionary encoding; a fallback page is then still read correctly (its values are appended
 * to the dictionary). */
static bool chunk_dict_listed(const pl_pq_column_chunk *cc) {
    for (int32_t k = 0; k < cc->n_encodings; k++)
        if (cc->encodings[k] == PL_PQ_ENC_PLAIN_DICTIONARY ||
            cc->encodings[k] == PL_PQ_ENC_RLE_DICTIONARY)
            return true;
    return false;
}

bool pl_pq_field_all_dict(const pl_pq_file *f, int32_t field) {
    const pl_pq_node *node = &f->tree.fields[field];
    if (node->kind != PL_PQ_NODE_LEAF) return false;
    const pl_pq_leaf_desc *d = &f->tree.leaves[node->leaf];
    if (d->conv != PL_PQ_CONV_VARLEN || d->max_rep != 0 || d->wkt) return false;
    for (int32_t r = 0; r < f->md.n_row_groups; r++) {
        if (f->md.row_groups[r].num_rows == 0) continue;
        const pl_pq_column_chunk *cc = &f->md.row_groups[r].columns[node->leaf];
        if (cc->n_encoding_stats > 0 ? !chunk_all_dict(cc) : !chunk_dict_listed(cc)) return false;
    }
    return true;
}

pl_status pl_pq_field_type(const pl_pq_file *f, int32_t field, bool keep_dict, pl_type **out,
                           pl_error *err) {
    pl_type *t = f->tree.fields[field].type;
    if (keep_dict) return pl_type_new_dictionary(PL_TYPE_INT32, t, out, err);
    *out = pl_type_retain(t);
    return PL_OK;
}

void pl_pq_field_sizes(const pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                       int64_t *values_bytes, int64_t *validity_bytes) {
    const pl_pq_node *node = &f->tree.fields[field];
    *values_bytes = *validity_bytes = 0;
    if (node->kind != PL_PQ_NODE_LEAF) return;
    const pl_pq_leaf_desc *d = &f->tree.leaves[node->leaf];
    int64_t n = f->md.row_groups[rg].columns[node->leaf].num_values;
    int64_t w = d->out_width > 0 ? d->out_width : 4;
    if (n < 0 || n > (INT64_MAX >> 8) / w) return;
    int64_t v;
    if (keep_dict) v = n * 4;
    else if (d->conv == PL_PQ_CONV_VARLEN) v = (n + 1) * 4;
    else if (d->conv == PL_PQ_CONV_BOOL) v = (n + 7) / 8;
    else v = n * d->out_width;
    /* slack: 16-byte over-copies and 8-byte bit writes stay inside */
    *values_bytes = PL_ALIGN_UP(v + 64, PL_BUF_ALIGN);
    if (d->max_def > 0) *validity_bytes = PL_ALIGN_UP((n + 7) / 8 + 64, PL_BUF_ALIGN);
}

static void pre_reset(pl_pq_prealloc *pre) {
    if (!pre) return;
    pl_buf_release(pre->values);
    pl_buf_release(pre->validity);
    pre->values = pre->validity = NULL;
}

/* The context of a read of leaf's column chunk in row group rg (no row limit). */
static pl_pq_chunk_ctx chunk_ctx(const pl_pq_file *f, int32_t rg, int32_t leaf, bool flat) {
    pl_pq_chunk_ctx c = {0};
    c.src = &f->src;
    c.md = &f->md;
    c.leaf = &f->tree.leaves[leaf];
    c.cc = &f->md.row_groups[rg].columns[leaf];
    c.rg = rg;
    c.leaf_index = leaf;
    c.flat = flat;
    c.max_rows = -1;
    return c;
}

pl_status pl_pq_read_field(pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                           int64_t max_rows, pl_pq_prealloc *pre, pl_pq_scratch *scr,
                           pl_array **out, pl_error *err) {
    const pl_pq_node *node = &f->tree.fields[field];
    const pl_pq_row_group *g = &f->md.row_groups[rg];
    pl_pq_leaf_data *data = pl_calloc((size_t)(node->n_leaves > 0 ? node->n_leaves : 1),
                                      sizeof *data);
    if (!data) {
        pre_reset(pre);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory reading a column");
    }
    /* leaf data is indexed by leaf number, offset by first_leaf */
    pl_pq_leaf_data *by_leaf = data - node->first_leaf;
    pl_status st = PL_OK;
    bool flat = node->kind == PL_PQ_NODE_LEAF;
    for (int32_t k = 0; k < node->n_leaves && !st; k++) {
        int32_t leaf = node->first_leaf + k;
        pl_pq_chunk_ctx c = chunk_ctx(f, rg, leaf, flat);
        c.keep_dict = keep_dict && flat;
        c.max_rows = flat ? max_rows : -1;
        c.pre = flat ? pre : NULL;
        st = pl_pq_read_chunk(&c, scr, &data[k], err);
        if (st) {
            pl_pq_error_context(err, f->path, rg, field, f->tree.leaves[leaf].path);
            break;
        }
        if (flat && data[k].n_levels != g->num_rows && (max_rows < 0 || data[k].n_levels < max_rows))
            st = pl_error_set(err, PL_ERR_CORRUPT, "column has %lld values but the row group "
                              "has %lld rows", (long long)data[k].n_levels,
                              (long long)g->num_rows);
    }
    if (!st) {
        st = pl_pq_assemble(node, by_leaf, f->tree.leaves, out, err);
        if (!st && !flat && (*out)->length != g->num_rows) {
            st = pl_error_set(err, PL_ERR_CORRUPT, "column has %lld rows but the row group has "
                              "%lld", (long long)(*out)->length, (long long)g->num_rows);
            pl_array_release(*out);
            *out = NULL;
        }
    }
    for (int32_t k = 0; k < node->n_leaves; k++) pl_pq_leaf_data_reset(&data[k]);
    pl_free(data);
    pre_reset(pre);
    if (st) pl_pq_error_context(err, f->path, rg, field, node->name);
    return st;
}

pl_status pl_pq_read_field_sel(pl_pq_file *f, int32_t rg, int32_t field, bool keep_dict,
                               const int32_t *sel, int64_t n_sel, pl_pq_scratch *scr,
                               pl_array **out, pl_error *err) {
    const pl_pq_node *node = &f->tree.fields[field];
    const pl_pq_row_group *g = &f->md.row_groups[rg];
    if (n_sel < 0 || n_sel > g->num_rows || (n_sel > 0 && (sel[0] < 0 ||
                                                           sel[n_sel - 1] >= g->num_rows)))
        PL_FAIL(err, PL_ERR_INTERNAL, "selection out of the row group's %lld rows",
                (long long)g->num_rows);
    if (node->kind != PL_PQ_NODE_LEAF) {
        /* nested fields: decoded whole, then the selected rows taken */
        pl_array *a = NULL;
        PL_TRY(pl_pq_read_field(f, rg, field, keep_dict, -1, NULL, scr, &a, err));
        pl_status st = pl_array_take_i32(a, sel, n_sel, out, err);
        pl_array_release(a);
        return st;
    }
    int32_t leaf = node->leaf;
    pl_pq_leaf_data data = {0};
    pl_pq_chunk_ctx c = chunk_ctx(f, rg, leaf, true);
    c.keep_dict = keep_dict;
    c.sel = sel;
    c.n_sel = n_sel;
    /* sparse selections (point queries) keep their dictionaries for the next query */
    if (n_sel * 16 <= g->num_rows) c.dict_cache = f->shared;
    pl_status st = pl_pq_read_chunk(&c, scr, &data, err);
    if (!st) st = pl_pq_assemble(node, &data - node->first_leaf, f->tree.leaves, out, err);
    pl_pq_leaf_data_reset(&data);
    if (st) pl_pq_error_context(err, f->path, rg, field, node->name);
    return st;
}

pl_status pl_pq_match_field(pl_pq_file *f, int32_t rg, int32_t field, pl_pq_dict_pred_fn fn,
                            void *arg, pl_pq_scratch *scr, int32_t **sel, int64_t *n_sel,
                            bool *ok, pl_error *err) {
    const pl_pq_node *node = &f->tree.fields[field];
    const pl_pq_row_group *g = &f->md.row_groups[rg];
    *ok = false;
    if (node->kind != PL_PQ_NODE_LEAF || f->tree.leaves[node->leaf].wkt) return PL_OK;
    int32_t leaf = node->leaf;
    pl_pq_leaf_data data = {0};
    pl_pq_chunk_ctx c = chunk_ctx(f, rg, leaf, true);
    c.match_fn = fn;
    c.match_arg = arg;
    c.match_sel = sel;
    c.match_n = n_sel;
    c.match_ok = ok;
    c.dict_cache = f->shared;
    pl_status st = pl_pq_read_chunk(&c, scr, &data, err);
    if (!st && *ok && data.n_levels != g->num_rows) {
        st = pl_error_set(err, PL_ERR_CORRUPT, "column has %lld values but the row group has "
                          "%lld rows", (long long)data.n_levels, (long long)g->num_rows);
        pl_free(*sel);
        *sel = NULL;
        *ok = false;
    }
    pl_pq_leaf_data_reset(&data);
    if (st) pl_pq_error_context(err, f->path, rg, field, node->name);
    return st;
}

/* ---------------------------------------------------------------- parallel row-group reads */

typedef struct rg_job {
    pl_pq_file *f;
    int32_t rg;
    const int32_t *cols;
    const bool *keep;
    int64_t max_rows;
    pl_array **out;
    pl_status *st;
    pl_error *errs;
    pl_pq_scratch *scr;
} rg_job;

static void rg_task(void *arg, int64_t i, int32_t worker) {
    rg_job *j = arg;
    pl_error_init(&j->errs[i]);
    j->st[i] = pl_pq_read_field(j->f, j->rg, j->cols[i], j->keep[i], j->max_rows, NULL,
                                &j->scr[worker], &j->out[i], &j->errs[i]);
}

pl_status pl_pq_read_row_group(pl_pq_file *f, int32_t rg, int32_t n_cols, const int32_t *cols,
                               const pl_pq_read_opts *o, pl_batch **out, pl_error *err) {
    pl_pq_read_opts def;
    if (!o) {
        pl_pq_read_opts_init(&def);
        o = &def;
    }
    if (rg < 0 || rg >= f->md.n_row_groups)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "row group %d out of range (file has %d)", rg,
                f->md.n_row_groups);
    int32_t n = cols ? n_cols : f->tree.n_fields;
    for (int32_t k = 0; cols && k < n; k++)
        if (cols[k] < 0 || cols[k] >= f->tree.n_fields)
            PL_FAIL(err, PL_ERR_INVALID_ARG, "column index %d out of range (%d columns)", cols[k],
                    f->tree.n_fields);
    int32_t workers = pl_pool_max_workers();
    size_t m = (size_t)(n > 0 ? n : 1);
    int32_t *idx = pl_calloc(m, sizeof *idx);
    bool *keep = pl_calloc(m, sizeof *keep);
    pl_array **arrays = pl_calloc(m, sizeof *arrays);
    pl_status *sts = pl_calloc(m, sizeof *sts);
    pl_error *errs = pl_calloc(m, sizeof *errs);
    pl_pq_scratch *scr = pl_calloc((size_t)workers, sizeof *scr);
    pl_field *fields = pl_calloc(m, sizeof *fields);
    pl_status st = PL_OK;
    pl_schema *schema = NULL;
    if (!idx || !keep || !arrays || !sts || !errs || !scr || !fields) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory reading a row group");
        goto done;
    }
    for (int32_t k = 0; k < n; k++) {
        idx[k] = cols ? cols[k] : k;
        keep[k] = o->keep_dictionary && pl_pq_field_all_dict(f, idx[k]);
    }
    rg_job job = {f, rg, idx, keep, o->max_rows, arrays, sts, errs, scr};
    pl_parallel_for(n, o->n_threads, rg_task, &job);
    for (int32_t k = 0; k < n; k++) {
        if (sts[k]) {
            if (err) *err = errs[k];
            st = sts[k];
            goto done;
        }
    }
    for (int32_t k = 0; k < n && !st; k++) {
        const pl_field *src = &f->tree.schema->fields[idx[k]];
        fields[k].name = src->name;
        fields[k].nullable = src->nullable;
        fields[k].type = arrays[k]->type;
    }
    if ((st = pl_schema_new(n, fields, &schema, err))) goto done;
    int64_t rows = f->md.row_groups[rg].num_rows;
    if (o->max_rows >= 0 && o->max_rows < rows) {
        rows = o->max_rows;
        for (int32_t k = 0; k < n && !st; k++) {
            pl_array *s;
            st = pl_array_slice(arrays[k], 0, rows, &s, err);
            if (!st) {
                pl_array_release(arrays[k]);
                arrays[k] = s;
            }
        }
        if (st) goto done;
    }
    st = pl_batch_new(schema, rows, arrays, out, err);
    schema = NULL;
    for (int32_t k = 0; k < n; k++) arrays[k] = NULL;
done:
    pl_schema_release(schema);
    for (int32_t k = 0; arrays && k < n; k++) pl_array_release(arrays[k]);
    for (int32_t w = 0; scr && w < workers; w++) pl_pq_scratch_reset(&scr[w]);
    pl_free(idx);
    pl_free(keep);
    pl_free(arrays);
    pl_free(sts);
    pl_free(errs);
    pl_free(scr);
    pl_free(fields);
    return st;
}
