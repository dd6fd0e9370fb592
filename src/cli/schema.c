/* schema.c - `polaroid schema FILE...`: the schema of any readable file, and for Parquet the
 * file's metadata through the public API of polaroid/parquet.h (pl_pq_file_open): Parquet
 * schema elements, row groups, column chunks with their encodings, page encoding counts,
 * compression, sizes, index/bloom filter locations and statistics. Reads only footers (CSV
 * files: the inference sample). */
#include <string.h>

#include "cli.h"
#include "core/core.h"
#include "io/text/text.h"
#include "polaroid/parquet.h"

static const char *const g_help =
    "usage: polaroid schema FILE... [options]\n"
    "\n"
    "Prints the schema of Parquet, CSV or Arrow IPC files (globs allowed; one section per\n"
    "file). For Parquet it also prints the file metadata: the Parquet schema (physical,\n"
    "logical and converted types, repetition), each row group, and each column chunk's\n"
    "encodings (with data page counts per encoding when the writer recorded them),\n"
    "compression, sizes, page/index offsets and statistics (min, max, null count), and the\n"
    "key/value metadata.\n"
    "\n"
    "options:\n"
    "  --brief        only the schema (no row groups)\n"
    "  --from F       input format when the extension does not tell (parquet, csv, json, arrow)\n"
    "  -h, --help     show this help\n";


/* A statistic for display: doubles in their shortest round-trip form (as cat prints them),
 * everything else as pl_pq_value_format renders it. */
static const char *format_stat(const pl_pq_metadata *md, int32_t leaf, const pl_pq_value *v,
                               char *buf, size_t n) {
    if (v->kind == PL_PQ_VALUE_DOUBLE && n >= 32) {
        const pl_type *t = leaf < md->n_leaves ? md->leaves[leaf].type : NULL;
        if (t && t->id == PL_TYPE_FLOAT32) pl_text_format_float((float)v->d, buf);
        else pl_text_format_double(v->d, buf);
        return buf;
    }
    return pl_pq_value_format(md, leaf, v, buf, n);
}

static void print_parquet(const char *path, pl_pq_file *f, bool brief) {
    const pl_pq_metadata *md = pl_pq_file_metadata(f);
    pl_schema *s = pl_pq_file_schema(f);
    printf("file: %s\n", path);
    printf("rows: %lld, row groups: %d, columns: %d, file size: %lld bytes, footer: %lld bytes\n",
           (long long)md->num_rows, md->n_row_groups, md->n_leaves, (long long)md->file_size,
           (long long)md->footer_bytes);
    printf("format version: %d, created by: %s\n", md->version, md->created_by ? md->created_by : "(unknown)");
    printf("\nschema:\n");
    cli_print_fields(s);
    if (brief) return;
    printf("\nparquet schema:\n");
    /* depth-first walk of the flattened schema, indenting by depth */
    int32_t stack[PL_PQ_MAX_NESTING + 2];
    int32_t depth = 0;
    char lt[128];
    for (int32_t i = 0; i < md->n_schema; i++) {
        const pl_pq_schema_element *e = &md->schema[i];
        printf("  %*s%s", depth * 2, "", e->name ? e->name : "");
        if (i > 0) printf(" %s", pl_pq_repetition_name(e->repetition));
        if (e->num_children > 0) printf(" group");
        else printf(" %s", pl_pq_physical_name(e->physical));
        if (e->physical == PL_PQ_FIXED_LEN_BYTE_ARRAY) printf("(%d)", e->type_length);
        pl_pq_logical_format(&e->logical, lt, sizeof lt);
        if (lt[0]) printf(" %s", lt);
        else if (e->converted >= 0) printf(" (%s)", pl_pq_converted_name(e->converted));
        printf("\n");
        if (e->num_children > 0 && depth < PL_PQ_MAX_NESTING) {
            stack[depth++] = e->num_children;
        } else {
            while (depth > 0 && --stack[depth - 1] == 0) depth--;
        }
    }
    for (int32_t rg = 0; rg < md->n_row_groups; rg++) {
        const pl_pq_row_group *g = &md->row_groups[rg];
        printf("\nrow group %d: %lld rows, %lld bytes uncompressed", rg, (long long)g->num_rows,
               (long long)g->total_byte_size);
        if (g->total_compressed_size >= 0) printf(", %lld bytes compressed", (long long)g->total_compressed_size);
        if (g->file_offset >= 0) printf(", at byte %lld", (long long)g->file_offset);
        printf("\n");
        if (g->n_sorting_columns > 0) {
            printf("  sorted by");
            for (int32_t k = 0; k < g->n_sorting_columns; k++) {
                const pl_pq_sorting_column *sc = &g->sorting_columns[k];
                const char *name = sc->column_idx >= 0 && sc->column_idx < md->n_leaves
                                       ? md->leaves[sc->column_idx].path : "?";
                printf("%s %s%s%s", k ? "," : "", name, sc->descending ? " desc" : "",
                       sc->nulls_first ? " nulls first" : "");
            }
            printf("\n");
        }
        for (int32_t c = 0; c < g->n_columns; c++) {
            const pl_pq_column_chunk *cc = &g->columns[c];
            printf("  %s: %s %s, encodings", cc->path ? cc->path : "?", pl_pq_physical_name(cc->physical),
                   pl_pq_codec_name(cc->codec_id));
            for (int32_t k = 0; k < cc->n_encodings; k++)
                printf("%s%s", k ? "," : " ", pl_pq_encoding_name(cc->encodings[k]));
            printf(", %lld values, %lld -> %lld bytes", (long long)cc->num_values,
                   (long long)cc->total_uncompressed_size, (long long)cc->total_compressed_size);
            if (cc->dictionary_page_offset >= 0) printf(", dictionary page at %lld", (long long)cc->dictionary_page_offset);
            printf(", data pages at %lld", (long long)cc->data_page_offset);
            if (cc->column_index_offset >= 0) printf(", column index at %lld", (long long)cc->column_index_offset);
            if (cc->offset_index_offset >= 0) printf(", offset index at %lld", (long long)cc->offset_index_offset);
            if (cc->bloom_filter_offset >= 0) printf(", bloom filter at %lld", (long long)cc->bloom_filter_offset);
            if (cc->encrypted) printf(", encrypted");
            if (cc->file_path) printf(", in file \"%s\"", cc->file_path);
            printf("\n");
            if (cc->n_encoding_stats > 0) {
                printf("    pages:");
                for (int32_t k = 0; k < cc->n_encoding_stats; k++) {
                    const pl_pq_encoding_stats *es = &cc->encoding_stats[k];
                    printf("%s %d %s %s", k ? "," : "", es->count, pl_pq_page_type_name(es->page_type),
                           pl_pq_encoding_name(es->encoding));
                }
                printf("\n");
            }
            if (cc->has_stats) {
                char mn[256], mx[256];
                pl_pq_value v;
                printf("    stats:");
                if (pl_pq_stats_value(md, c, &cc->stats, false, &v))
                    printf(" min %s", format_stat(md, c, &v, mn, sizeof mn));
                if (pl_pq_stats_value(md, c, &cc->stats, true, &v))
                    printf(" max %s", format_stat(md, c, &v, mx, sizeof mx));
                if (cc->stats.has_null_count) printf(" nulls %lld", (long long)cc->stats.null_count);
                if (cc->stats.has_distinct_count) printf(" distinct %lld", (long long)cc->stats.distinct_count);
                printf("\n");
            }
        }
    }
    if (md->n_kv > 0) {
        printf("\nkey/value metadata:\n");
        for (int32_t i = 0; i < md->n_kv; i++) {
            const char *v = md->kv_values[i] ? md->kv_values[i] : "";
            size_t n = strlen(v);
            printf("  %s: %.*s%s\n", md->kv_keys[i], (int)PL_MIN(n, (size_t)100), v, n > 100 ? "..." : "");
        }
    }
}

/* Prints one file's section; returns an exit code. */
static int schema_one(const char *path, pl_format fmt, bool brief) {
    pl_error err;
    pl_error_init(&err);
    if (fmt == PL_FORMAT_AUTO && cli_detect_format(1, &path, &fmt, &err)) return cli_report(&err);
    if (fmt == PL_FORMAT_PARQUET) {
        pl_pq_file *f;
        if (pl_pq_file_open(path, &f, &err)) return cli_report(&err);
        print_parquet(path, f, brief);
        pl_pq_file_close(f);
        return PL_EXIT_OK;
    }
    pl_stream *s;
    if (pl_scan_open(1, &path, fmt, NULL, &s, &err)) return cli_report(&err);
    printf("file: %s\nformat: %s\n\nschema:\n", path, fmt == PL_FORMAT_CSV    ? "csv"
                                                    : fmt == PL_FORMAT_JSON ? "json"
                                                                            : "arrow ipc");
    cli_print_fields(s->schema);
    pl_stream_free(s);
    return PL_EXIT_OK;
}

int cmd_schema(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "schema"};
    bool brief = false;
    pl_format fmt = PL_FORMAT_AUTO;
    char **pos = pl_calloc((size_t)argc + 1, sizeof(char *));
    int32_t n_pos = 0;
    if (!pos) {
        fprintf(stderr, "polaroid: out of memory\n");
        return PL_EXIT_ERROR;
    }
    int rc = -1;
    while (rc < 0 && a.i < argc) {
        const char *v;
        int r;
        if (cli_take_flag(&a, "-h|--help")) {
            fputs(g_help, stdout);
            rc = PL_EXIT_OK;
        } else if (cli_take_flag(&a, "--brief")) {
            brief = true;
        } else if ((r = cli_take_value(&a, "--from", &v))) {
            if (r < 0) {
                rc = PL_EXIT_USAGE;
                break;
            }
            fmt = pl_format_from_name(v);
            if (fmt == PL_FORMAT_AUTO || fmt == PL_FORMAT_TABLE)
                rc = cli_usage_error("schema", "cannot read format \"%s\" (parquet, csv, json, arrow)", v);
        } else if (argv[a.i][0] == '-' && argv[a.i][1]) {
            rc = cli_usage_error("schema", "unknown option \"%s\"", argv[a.i]);
        } else {
            pos[n_pos++] = argv[a.i++];
        }
    }
    if (rc < 0 && n_pos == 0) rc = cli_usage_error("schema", "no input file given");
    if (rc < 0) {
        pl_error err;
        pl_error_init(&err);
        char **files = NULL;
        int32_t n_files = 0;
        if (pl_glob_expand(n_pos, (const char *const *)pos, &files, &n_files, &err)) {
            rc = cli_report(&err);
        } else {
            rc = PL_EXIT_OK;
            for (int32_t i = 0; i < n_files && rc == PL_EXIT_OK; i++) {
                if (i) printf("\n");
                rc = schema_one(files[i], fmt, brief);
            }
            for (int32_t i = 0; i < n_files; i++) pl_free(files[i]);
            pl_free(files);
        }
    }
    pl_free(pos);
    return rc;
}
