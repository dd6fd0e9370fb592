/* writer.c - the Parquet writer (pl_pq_writer_open): buffers incoming batches until a row
 * group is full (row_group_rows rows), then shreds, encodes and compresses its leaf columns in
 * parallel on the worker pool (one task per leaf column), writes the column chunks in schema
 * order and remembers their metadata; finish writes the FileMetaData footer, its length and the
 * closing magic. Batches are retained (not copied) until their rows are written.
 *
 * File layout: "PAR1" | row group 0 chunks | ... | footer | footer length (u32 LE) | "PAR1". */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io/io_int.h"
#include "writer_int.h"

#define PL_PQW_MAGIC "PAR1"
#define PL_PQW_FILE_BUFFER (1 << 20)

typedef struct piece {
    pl_batch *batch; /* retained */
    int64_t offset, length;
} piece;

typedef struct pqw {
    FILE *f;
    bool own_file;
    char *path; /* for messages */
    pl_schema *schema;
    pl_pqw_schema ps;
    pl_pqw_opts opts;
    piece *pieces;
    int64_t n_pieces, cap_pieces;
    int64_t rg_rows;     /* rows buffered for the current row group */
    int64_t file_pos;    /* bytes written so far */
    int64_t total_rows;
    pl_pqw_row_group *rgs;
    int64_t n_rgs, cap_rgs;
    pl_pqw_scratch *scratch; /* one per pool worker, reused */
    int32_t n_scratch;
    pl_pqw_vec *chunk_bufs;  /* one per leaf: encoded chunk bytes, reused */
    bool finished, failed;
} pqw;

static pl_status map_codec(pl_codec c, int32_t *pq, pl_error *err) {
    switch (c) {
    case PL_CODEC_UNCOMPRESSED: *pq = 0; return PL_OK;
    case PL_CODEC_SNAPPY: *pq = 1; return PL_OK;
    case PL_CODEC_GZIP: *pq = 2; return PL_OK;
    case PL_CODEC_BROTLI: *pq = 4; return PL_OK;
    case PL_CODEC_LZ4_HADOOP: *pq = 5; return PL_OK;
    case PL_CODEC_ZSTD: *pq = 6; return PL_OK;
    case PL_CODEC_LZ4_RAW: *pq = 7; return PL_OK;
    case PL_CODEC_DEFAULT: *pq = 6; return PL_OK; /* zstd */
    case PL_CODEC_LZ4_FRAME: break;
    }
    PL_FAIL(err, PL_ERR_UNSUPPORTED, "compression \"%s\" cannot be used in parquet files",
            pl_codec_name(c));
}

static pl_status write_bytes(pqw *w, const void *p, int64_t n, pl_error *err) {
    if (n > 0 && fwrite(p, 1, (size_t)n, w->f) != (size_t)n) {
        w->failed = true;
        pl_error_set(err, PL_ERR_IO, "cannot write: %s", strerror(errno));
        pl_error_set_path(err, w->path);
        return PL_ERR_IO;
    }
    w->file_pos += n;
    return PL_OK;
}

/* ---------------------------------------------------------------- row groups */

typedef struct rg_job {
    pqw *w;
    pl_pqw_chunk *chunks;
    pl_status *st;
    pl_error *errs;
} rg_job;

static void encode_leaf_task(void *arg, int64_t index, int32_t worker) {
    rg_job *job = arg;
    pqw *w = job->w;
    const pl_pqw_leaf *leaf = &w->ps.leaves[index];
    pl_error *err = &job->errs[index];
    pl_error_init(err);
    pl_pqw_scratch *scr = &w->scratch[worker];
    pl_pqw_shred *sh = &scr->shred;
    pl_pqw_shred_reset(sh);
    pl_status st = PL_OK;
    for (int64_t p = 0; p < w->n_pieces && st == PL_OK; p++) {
        const piece *pc = &w->pieces[p];
        st = pl_pqw_shred_append(sh, leaf, pc->batch->columns[leaf->field], pc->offset,
                                 pc->length, err);
    }
    if (st == PL_OK) st = pl_pqw_encode_chunk(leaf, sh, &w->opts, scr, &job->chunks[index], err);
    pl_pqw_shred_reset(sh);
    job->st[index] = st;
}

static void release_pieces(pqw *w) {
    for (int64_t p = 0; p < w->n_pieces; p++) pl_batch_release(w->pieces[p].batch);
    w->n_pieces = 0;
    w->rg_rows = 0;
}

static void free_row_group(pl_pqw_row_group *rg, int32_t n_leaves) {
    if (!rg->chunks) return;
    for (int32_t c = 0; c < n_leaves; c++) pl_pqw_chunk_free(&rg->chunks[c]);
    pl_free(rg->chunks);
    rg->chunks = NULL;
}

static pl_status flush_row_group(pqw *w, pl_error *err) {
    if (w->rg_rows == 0) return PL_OK;
    int32_t n_leaves = w->ps.n_leaves;
    if (w->n_rgs == w->cap_rgs) {
        int64_t cap = w->cap_rgs ? w->cap_rgs * 2 : 8;
        if (cap > PL_PQ_MAX_ROW_GROUPS)
            PL_FAIL(err, PL_ERR_LIMIT, "more than %lld row groups", (long long)PL_PQ_MAX_ROW_GROUPS);
        pl_pqw_row_group *r = pl_realloc(w->rgs, (size_t)cap * sizeof *r);
        if (!r) PL_FAIL(err, PL_ERR_NOMEM, "out of memory for row group metadata");
        w->rgs = r;
        w->cap_rgs = cap;
    }
    pl_pqw_row_group *rg = &w->rgs[w->n_rgs];
    memset(rg, 0, sizeof *rg);
    rg->chunks = pl_calloc((size_t)(n_leaves ? n_leaves : 1), sizeof *rg->chunks);
    pl_status *sts = pl_calloc((size_t)(n_leaves ? n_leaves : 1), sizeof *sts);
    pl_error *errs = pl_malloc((size_t)(n_leaves ? n_leaves : 1) * sizeof *errs);
    pl_status st = PL_OK;
    if (!rg->chunks || !sts || !errs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory encoding a row group");
        goto done;
    }
    if (!w->scratch) {
        int32_t n_workers = pl_pool_max_workers();
        w->scratch = pl_calloc((size_t)n_workers, sizeof *w->scratch);
        if (w->scratch) w->n_scratch = n_workers;
    }
    if (!w->chunk_bufs)
        w->chunk_bufs = pl_calloc((size_t)(n_leaves ? n_leaves : 1), sizeof *w->chunk_bufs);
    if (!w->scratch || !w->chunk_bufs) {
        st = pl_error_set(err, PL_ERR_NOMEM, "out of memory encoding a row group");
        goto done;
    }
    /* lend each chunk its leaf's reusable byte buffer */
    for (int32_t c = 0; c < n_leaves; c++) {
        rg->chunks[c].bytes = w->chunk_bufs[c];
        memset(&w->chunk_bufs[c], 0, sizeof w->chunk_bufs[c]);
    }
    rg_job job = {w, rg->chunks, sts, errs};
    pl_parallel_for(n_leaves, w->opts.n_threads, encode_leaf_task, &job);
    for (int32_t c = 0; c < n_leaves; c++) {
        if (sts[c] == PL_OK) continue;
        st = sts[c];
        if (err) {
            *err = errs[c];
            pl_error_set_column(err, w->ps.leaves[c].field, w->ps.leaves[c].dotted);
            err->row_group = (int32_t)w->n_rgs;
            pl_error_set_path(err, w->path);
        }
        goto done;
    }
    rg->n_rows = w->rg_rows;
    rg->file_offset = w->file_pos;
    for (int32_t c = 0; c < n_leaves; c++) {
        pl_pqw_chunk *ch = &rg->chunks[c];
        int64_t base = w->file_pos;
        st = write_bytes(w, ch->bytes.data, ch->bytes.len, err);
        if (st != PL_OK) goto done;
        if (ch->dict_page_offset >= 0) ch->dict_page_offset += base;
        ch->data_page_offset += base;
        rg->total_byte_size += ch->total_uncompressed;
        rg->total_compressed += ch->total_compressed;
        w->chunk_bufs[c] = ch->bytes; /* give the buffer back for the next row group */
        w->chunk_bufs[c].len = 0;
        memset(&ch->bytes, 0, sizeof ch->bytes);
    }
    w->total_rows += rg->n_rows;
    w->n_rgs++;
    release_pieces(w);
done:
    if (st != PL_OK) {
        free_row_group(rg, n_leaves);
        w->failed = true;
    }
    pl_free(sts);
    pl_free(errs);
    return st;
}

/* ---------------------------------------------------------------- pl_writer methods */

static bool same_types(const pl_schema *a, const pl_schema *b) {
    if (a == b) return true;
    if (a->n_fields != b->n_fields) return false;
    for (int32_t i = 0; i < a->n_fields; i++)
        if (!pl_type_equals(a->fields[i].type, b->fields[i].type)) return false;
    return true;
}

static pl_status pqw_write(pl_writer *wr, pl_batch *b, pl_error *err) {
    pqw *w = wr->impl;
    if (w->finished || w->failed)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "parquet writer is %s",
                w->finished ? "already finished" : "in a failed state");
    if (!b || b->n_rows == 0) return PL_OK;
    if (!same_types(b->schema, w->schema)) {
        pl_error_set(err, PL_ERR_TYPE, "batch schema differs from the writer's schema");
        pl_error_set_path(err, w->path);
        return PL_ERR_TYPE;
    }
    int64_t off = 0;
    while (off < b->n_rows) {
        int64_t take = PL_MIN(b->n_rows - off, w->opts.row_group_rows - w->rg_rows);
        if (w->n_pieces == w->cap_pieces) {
            int64_t cap = w->cap_pieces ? w->cap_pieces * 2 : 16;
            piece *p = pl_realloc(w->pieces, (size_t)cap * sizeof *p);
            if (!p) PL_FAIL(err, PL_ERR_NOMEM, "out of memory buffering batches");
            w->pieces = p;
            w->cap_pieces = cap;
        }
        piece *pc = &w->pieces[w->n_pieces++];
        pc->batch = pl_batch_retain(b);
        pc->offset = off;
        pc->length = take;
        w->rg_rows += take;
        off += take;
        if (w->rg_rows >= w->opts.row_group_rows) PL_TRY(flush_row_group(w, err));
    }
    return PL_OK;
}

static pl_status pqw_finish(pl_writer *wr, pl_error *err) {
    pqw *w = wr->impl;
    if (w->finished) return PL_OK;
    if (w->failed) PL_FAIL(err, PL_ERR_INVALID_ARG, "parquet writer is in a failed state");
    PL_TRY(flush_row_group(w, err));
    for (int32_t i = 0; i < w->n_scratch; i++) pl_pqw_scratch_free(&w->scratch[i]);
    char *arrow_schema = NULL;
    PL_TRY(pl_pqw_arrow_schema(w->schema, &arrow_schema, err));
    pl_thrift_enc e;
    pl_thrift_enc_init(&e);
    pl_pqw_meta_footer(&e, w->schema, &w->ps, &w->opts, w->total_rows, w->n_rgs, w->rgs,
                       arrow_schema);
    pl_free(arrow_schema);
    pl_status st = pl_thrift_enc_status(&e, err);
    if (st == PL_OK && e.len > UINT32_MAX)
        st = pl_error_set(err, PL_ERR_LIMIT, "footer of %lld bytes is too large", (long long)e.len);
    uint8_t tail[8];
    pl_store_u32le(tail, (uint32_t)e.len);
    memcpy(tail + 4, PL_PQW_MAGIC, 4);
    if (st == PL_OK) st = write_bytes(w, e.data, e.len, err);
    if (st == PL_OK) st = write_bytes(w, tail, 8, err);
    pl_thrift_enc_reset(&e);
    if (st == PL_OK && fflush(w->f) != 0) {
        st = pl_error_set(err, PL_ERR_IO, "cannot write: %s", strerror(errno));
        pl_error_set_path(err, w->path);
    }
    if (st == PL_OK && w->own_file) {
        int rc = fclose(w->f);
        w->f = NULL;
        if (rc != 0) {
            st = pl_error_set(err, PL_ERR_IO, "cannot close: %s", strerror(errno));
            pl_error_set_path(err, w->path);
        }
    }
    if (st != PL_OK) w->failed = true;
    else w->finished = true;
    return st;
}

static void pqw_free(pl_writer *wr) {
    if (!wr) return;
    pqw *w = wr->impl;
    if (w) {
        release_pieces(w);
        pl_free(w->pieces);
        for (int64_t g = 0; g < w->n_rgs; g++) free_row_group(&w->rgs[g], w->ps.n_leaves);
        pl_free(w->rgs);
        for (int32_t i = 0; i < w->n_scratch; i++) pl_pqw_scratch_free(&w->scratch[i]);
        pl_free(w->scratch);
        if (w->chunk_bufs)
            for (int32_t c = 0; c < w->ps.n_leaves; c++) pl_pqw_vec_free(&w->chunk_bufs[c]);
        pl_free(w->chunk_bufs);
        if (w->f && w->own_file) fclose(w->f);
        pl_pqw_schema_free(&w->ps);
        pl_schema_release(w->schema);
        pl_free(w->path);
        pl_free(w);
    }
    pl_free(wr);
}

static pl_status resolve_opts(const pl_write_opts *o, pl_pqw_opts *out, pl_error *err) {
    memset(out, 0, sizeof *out);
    out->codec = PL_CODEC_ZSTD;
    out->use_dictionary = true;
    out->write_statistics = true;
    if (o) {
        out->codec = o->codec == PL_CODEC_DEFAULT ? PL_CODEC_ZSTD : o->codec;
        out->level = o->codec_level;
        out->row_group_rows = o->row_group_rows;
        out->page_bytes = o->page_bytes;
        out->dict_max_bytes = o->dict_max_bytes;
        out->use_dictionary = o->use_dictionary;
        out->write_statistics = o->write_statistics;
        out->n_threads = o->n_threads;
    }
    if (out->row_group_rows < 0 || out->page_bytes < 0 || out->dict_max_bytes < 0)
        PL_FAIL(err, PL_ERR_INVALID_ARG, "negative row group, page or dictionary size");
    if (out->row_group_rows == 0) out->row_group_rows = PL_PQW_DEFAULT_ROW_GROUP_ROWS;
    if (out->page_bytes == 0) out->page_bytes = PL_PQW_DEFAULT_PAGE_BYTES;
    if (out->dict_max_bytes == 0) out->dict_max_bytes = PL_PQW_DEFAULT_DICT_MAX_BYTES;
    return map_codec(out->codec, &out->pq_codec, err);
}

pl_status pl_pq_writer_open(const char *path, pl_schema *schema, const pl_write_opts *opts,
                            pl_writer **out, pl_error *err) {
    if (!schema || !out) PL_FAIL(err, PL_ERR_INVALID_ARG, "parquet writer needs a schema");
    pl_writer *wr = pl_calloc(1, sizeof *wr);
    pqw *w = pl_calloc(1, sizeof *w);
    if (!wr || !w) {
        pl_free(wr);
        pl_free(w);
        PL_FAIL(err, PL_ERR_NOMEM, "out of memory opening a parquet writer");
    }
    wr->impl = w;
    wr->write = pqw_write;
    wr->finish = pqw_finish;
    wr->free = pqw_free;
    w->schema = pl_schema_retain(schema);
    bool to_stdout = !path || strcmp(path, "-") == 0;
    w->path = pl_strdup(to_stdout ? "<stdout>" : path);
    pl_status st = w->path ? PL_OK : pl_error_set(err, PL_ERR_NOMEM, "out of memory");
    if (st == PL_OK) st = resolve_opts(opts, &w->opts, err);
    if (st == PL_OK) st = pl_pqw_schema_build(schema, &w->ps, err);
    if (st == PL_OK) {
        if (to_stdout) {
            w->f = stdout;
        } else {
            w->f = fopen(path, "wb");
            if (!w->f)
                st = pl_error_set(err, errno == ENOENT ? PL_ERR_NOT_FOUND : PL_ERR_IO,
                                  "cannot open for writing: %s", strerror(errno));
            else
                w->own_file = true;
        }
    }
    if (st == PL_OK && w->own_file) setvbuf(w->f, NULL, _IOFBF, PL_PQW_FILE_BUFFER);
    if (st == PL_OK) st = write_bytes(w, PL_PQW_MAGIC, 4, err);
    if (st != PL_OK) {
        pl_error_set_path(err, path ? path : "<stdout>");
        pqw_free(wr);
        return st;
    }
    *out = wr;
    return PL_OK;
}
