/* polaroid/c_data.h - exchanging arrays, batches, schemas and streams with other Arrow
 * implementations (pyarrow, DuckDB, Polars, nanoarrow) through the Arrow C Data Interface.
 *
 * Export never copies values: the exported ArrowArray's private data holds references on the
 * polaroid buffers, dropped by its release callback. Import never copies either: each foreign
 * buffer is wrapped in a pl_buf, and the foreign array's release callback is called once the
 * last of those pl_bufs is released. Supported types are those of columnar.h (on import also
 * their Arrow format strings only; large/view/union/... formats give PL_ERR_UNSUPPORTED).
 *
 * Ownership: exported structures belong to the caller, who calls their release callback (or
 * moves them to a consumer that will). Imports take the ArrowArray / ArrowArrayStream on
 * success (the source's release is set to NULL, as a move); on failure the caller still owns
 * it. ArrowSchema imports only read the schema (the caller releases it). */
#ifndef POLAROID_C_DATA_H
#define POLAROID_C_DATA_H

#include "arrow_abi.h"
#include "columnar.h"
#include "io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- export */

/* A field of type t (name may be NULL). Errors: PL_ERR_NOMEM, PL_ERR_UNSUPPORTED. */
PL_API PL_NODISCARD pl_status pl_type_export(const pl_type *t, const char *name, bool nullable,
                                             struct ArrowSchema *out, pl_error *err);
/* A schema as a struct ("+s") whose children are the fields, with the schema's metadata. */
PL_API PL_NODISCARD pl_status pl_schema_export(const pl_schema *s, struct ArrowSchema *out,
                                               pl_error *err);
/* An array (retained by the export). Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_array_export(pl_array *a, struct ArrowArray *out, pl_error *err);
/* A batch as a struct array of its columns (retained); out_schema (may be NULL) receives
 * pl_schema_export(batch->schema). Errors: PL_ERR_NOMEM, PL_ERR_UNSUPPORTED. */
PL_API PL_NODISCARD pl_status pl_batch_export(pl_batch *b, struct ArrowArray *out,
                                              struct ArrowSchema *out_schema, pl_error *err);
/* A stream of batches as an ArrowArrayStream of struct arrays. Takes s (freed by the release
 * callback, also on failure). Errors: PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_stream_export(pl_stream *s, struct ArrowArrayStream *out,
                                               pl_error *err);

/* ---------------------------------------------------------------- import */

/* The polaroid type of a field's ArrowSchema. Errors: PL_ERR_UNSUPPORTED (a format polaroid
 * does not hold), PL_ERR_INVALID_ARG (malformed format string), PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_type_import(const struct ArrowSchema *s, pl_type **out,
                                             pl_error *err);
/* A schema from a struct ArrowSchema (fields = its children, metadata decoded). */
PL_API PL_NODISCARD pl_status pl_schema_import(const struct ArrowSchema *s, pl_schema **out,
                                               pl_error *err);
/* An array of the given type (from pl_type_import); moves *arr on success. Buffer sizes are
 * derived from the lengths and offsets the producer declares; the result is not validated
 * (call pl_array_validate for untrusted producers). Errors: PL_ERR_INVALID_ARG (shape does not
 * match the type), PL_ERR_NOMEM. */
PL_API PL_NODISCARD pl_status pl_array_import(struct ArrowArray *arr, const pl_type *type,
                                              pl_array **out, pl_error *err);
/* A batch from a struct array whose children are the columns of schema; moves *arr. */
PL_API PL_NODISCARD pl_status pl_batch_import(struct ArrowArray *arr, pl_schema *schema,
                                              pl_batch **out, pl_error *err);
/* A pl_stream over an ArrowArrayStream of struct arrays; moves *in on success. Errors of the
 * producer are reported as PL_ERR_IO with its get_last_error text. */
PL_API PL_NODISCARD pl_status pl_stream_import(struct ArrowArrayStream *in, pl_stream **out,
                                               pl_error *err);

#ifdef __cplusplus
}
#endif
#endif
