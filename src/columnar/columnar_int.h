/* columnar_int.h - internals shared by the files of src/columnar (not for other layers; they
 * use include/polaroid/columnar.h). */
#ifndef PL_COLUMNAR_INT_H
#define PL_COLUMNAR_INT_H

#include "core/core.h"

/* Deep equality of a[a_off, a_off+n) and b[b_off, b_off+n) with the rules of pl_array_equals
 * (types are not compared: the caller checks them). Used by pl_table_equals to compare tables
 * whose batch boundaries differ without concatenating them. */
bool pl_array_range_equals(pl_array *a, int64_t a_off, pl_array *b, int64_t b_off, int64_t n);

/* Copies n bits from src (starting at bit src_off) to dst (starting at bit dst_off); whole
 * bytes are moved with memcpy when both offsets are byte aligned. */
void pl_bits_copy(uint8_t *dst, int64_t dst_off, const uint8_t *src, int64_t src_off, int64_t n);
/* Sets bits [off, off+n) of dst to 1. */
void pl_bits_set_range(uint8_t *dst, int64_t off, int64_t n);

/* Largest index a dictionary index type (INT8..UINT64) can hold. */
int64_t pl_dict_max_index(pl_type_id index_id);
/* Hash of a byte string, for dictionary deduplication. */
uint64_t pl_hash_bytes(const uint8_t *p, int64_t n);

#endif
