/* limits.h - named limits on sizes read from files and the network. Every length, count and
 * offset taken from input is checked against the bytes remaining and against one of these. */
#ifndef PL_LIMITS_H
#define PL_LIMITS_H

/* Parquet */
#define PL_PQ_MAX_FOOTER_BYTES (256LL << 20)      /* file metadata */
#define PL_PQ_MAX_PAGE_HEADER_BYTES (16LL << 20)  /* one page header (with statistics) */
#define PL_PQ_MAX_PAGE_BYTES (1LL << 31)          /* one page, compressed or not */
#define PL_PQ_MAX_SCHEMA_ELEMENTS 100000
#define PL_PQ_MAX_NESTING 64                      /* schema depth */
#define PL_PQ_MAX_ROW_GROUPS 10000000
/* values a column chunk may claim per compressed byte (beyond a floor): bounds level and value
 * buffers against decompression bombs; real chunks stay far below (a constant column compresses
 * to ~1000 values per byte) */
#define PL_PQ_MAX_VALUES_PER_BYTE 4096
#define PL_PQ_VALUES_FLOOR (1LL << 22)
/* Thrift compact protocol */
#define PL_THRIFT_MAX_DEPTH 64                    /* nested structs/containers */
#define PL_THRIFT_MAX_LIST 100000000              /* elements in one list */
#define PL_THRIFT_MAX_STRING (1LL << 30)
/* Arrow IPC */
#define PL_IPC_MAX_METADATA_BYTES (64LL << 20)
#define PL_IPC_MAX_BODY_BYTES (1LL << 40)
#define PL_IPC_MAX_FIELDS 100000
#define PL_IPC_MAX_NESTING 64
/* CSV */
#define PL_CSV_MAX_FIELD_BYTES (1LL << 30)
#define PL_CSV_MAX_COLUMNS 100000
/* Compressed text inputs (.csv.gz, .json.zst) are decompressed into a window of this many
 * bytes at a time; a row or JSON value that does not fit grows it, up to the record limit. */
#define PL_TEXT_WINDOW_BYTES (16LL << 20)
#define PL_TEXT_MAX_RECORD_BYTES (256LL << 20)
/* Type inference of a compressed input samples the rows of its first window, which grows up
 * to this size until it holds the sample's rows. */
#define PL_TEXT_MAX_SAMPLE_BYTES (64LL << 20)
/* JSON */
#define PL_JSON_MAX_DEPTH 256                     /* nested arrays/objects */
#define PL_JSON_MAX_KEYS 100000                   /* distinct keys of one inferred object */
/* Columnar */
#define PL_MAX_VARLEN_BYTES (INT32_MAX)           /* int32 offsets */

#endif
