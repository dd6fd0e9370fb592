/* schema.c - `polaroid schema FILE`: the schema of any readable file, and for Parquet the
 * file's metadata: Parquet schema elements, row groups, column chunks with their encodings,
 * compression, sizes and statistics. */
#include <string.h>

#include "cli.h"
#include "core/core.h"
#include "polaroid/parquet.h"

static const char *const g_help =
    "usage: polaroid schema FILE [options]\n"
    "\n"
    "Prints the schema of a Parquet, CSV or Arrow IPC file. For Parquet it also prints the\n"
    "file metadata: the Parquet schema (physical, logical and converted types, repetition),\n"
    "each row group, and each column chunk's encodings, compression, sizes and statistics\n"
    "(min, max, null count).\n"
    "\n"
    "options:\n"
    "  --brief        only the schema (no row groups)\n"
    "  --from F       input format when the extension does not tell (parquet, csv, arrow)\n"
    "  -h, --help     show this help\n";

static void print_fields(const pl_schema *s) {
    char tn[512];
    size_t w = 4;
    for (int32_t i = 0; i < s->n_fields; i++) w = PL_MAX(w, strlen(s->fields[i].name));
    for (int32_t i = 0; i < s->n_fields; i++)
        printf("  %-*s  %s%s\n", (int)w, s->fields[i].name,
               pl_type_to_string(s->fields[i].type, tn, sizeof tn),
               s->fields[i].nullable ? "" : " not null");
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
    print_fields(s);
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
        if (i == 0 && e->num_children > 0) {
            /* the root's children are at depth 1 */
        }
    }
    for (int32_t rg = 0; rg < md->n_row_groups; rg++) {
        const pl_pq_row_group *g = &md->row_groups[rg];
        printf("\nrow group %d: %lld rows, %lld bytes uncompressed", rg, (long long)g->num_rows,
               (long long)g->total_byte_size);
        if (g->total_compressed_size >= 0) printf(", %lld bytes compressed", (long long)g->total_compressed_size);
        printf("\n");
        for (int32_t c = 0; c < g->n_columns; c++) {
            const pl_pq_column_chunk *cc = &g->columns[c];
            printf("  %s: %s %s, encodings", cc->path ? cc->path : "?", pl_pq_physical_name(cc->physical),
                   pl_pq_codec_name(cc->codec_id));
            for (int32_t k = 0; k < cc->n_encodings; k++)
                printf("%s%s", k ? "," : " ", pl_pq_encoding_name(cc->encodings[k]));
            printf(", %lld values, %lld -> %lld bytes", (long long)cc->num_values,
                   (long long)cc->total_uncompressed_size, (long long)cc->total_compressed_size);
            if (cc->dictionary_page_offset >= 0) printf(", dictionary page at %lld", (long long)cc->dictionary_page_offset);
            printf(", data pages at %lld\n", (long long)cc->data_page_offset);
            if (cc->has_stats) {
                char mn[256], mx[256];
                pl_pq_value v;
                printf("    stats:");
                if (pl_pq_stats_value(md, c, &cc->stats, false, &v))
                    printf(" min %s", pl_pq_value_format(md, c, &v, mn, sizeof mn));
                if (pl_pq_stats_value(md, c, &cc->stats, true, &v))
                    printf(" max %s", pl_pq_value_format(md, c, &v, mx, sizeof mx));
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

int cmd_schema(int argc, char **argv) {
    cli_args a = {argc, argv, 1, "schema"};
    const char *path = NULL;
    bool brief = false;
    pl_format fmt = PL_FORMAT_AUTO;
    while (a.i < argc) {
        const char *v;
        int r;
        if (cli_take_flag(&a, "-h|--help")) {
            fputs(g_help, stdout);
            return PL_EXIT_OK;
        }
        if (cli_take_flag(&a, "--brief")) {
            brief = true;
            continue;
        }
        if ((r = cli_take_value(&a, "--from", &v))) {
            if (r < 0) return PL_EXIT_USAGE;
            fmt = pl_format_from_name(v);
            continue;
        }
        if (argv[a.i][0] == '-' && argv[a.i][1]) return cli_usage_error("schema", "unknown option \"%s\"", argv[a.i]);
        if (path) return cli_usage_error("schema", "expected one file");
        path = argv[a.i++];
    }
    if (!path) return cli_usage_error("schema", "no input file given");
    pl_error err;
    pl_error_init(&err);
    if (fmt == PL_FORMAT_AUTO) fmt = pl_format_from_path(path);
    if (fmt == PL_FORMAT_PARQUET) {
        pl_pq_file *f;
        if (pl_pq_file_open(path, &f, &err)) return cli_report(&err);
        print_parquet(path, f, brief);
        pl_pq_file_close(f);
        return PL_EXIT_OK;
    }
    pl_stream *s;
    if (pl_scan_open(1, &path, fmt, NULL, &s, &err)) return cli_report(&err);
    printf("file: %s\n\nschema:\n", path);
    print_fields(s->schema);
    pl_stream_free(s);
    return PL_EXIT_OK;
}
