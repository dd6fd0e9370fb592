/* polaroid/polaroid.h - the whole public API of libpolaroid.
 *   status.h    pl_status, pl_error
 *   columnar.h  allocation, buffers, types, schemas, arrays, builders, batches, tables
 *   io.h        streams, pl_scan_open / pl_read_table, writers, formats and options
 *   parquet.h   Parquet file metadata, row-group reads, statistics
 *   c_data.h    Arrow C Data Interface export/import (structs in arrow_abi.h) */
#ifndef POLAROID_POLAROID_H
#define POLAROID_POLAROID_H

#include "status.h"
#include "columnar.h"
#include "io.h"
#include "parquet.h"
#include "expr.h"
#include "dataframe.h"
#include "sql.h"
#include "c_data.h"

#endif
