/* fuzz_client.c - the C client's decoding of an Execute response stream (src/server/client.c,
 * pl_client_decode_for_testing): the input is a sequence of [u32 length][ExecuteResponse bytes]
 * as a server (or a hostile one) would send them; protobuf fields are read by hand, the
 * concatenated arrow_ipc bytes are cut into IPC messages, and every record batch is decoded
 * behind the schema and dictionary prefix. Must never crash, hang or leak; errors are fine.
 * Seeds: IPC streams of tests/fuzz/corpus/ipc wrapped into responses (whole and split). */
#include <stdint.h>
#include <stdlib.h>

#include "core/core.h"
#include "io/ipc/ipc.h"
#include "polaroid/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_ipc_set_max_buffer_bytes_for_testing(1 << 22);
    int64_t rows = 0;
    pl_error err;
    pl_error_init(&err);
    (void)pl_client_decode_for_testing(data, size, &rows, &err);
    return 0;
}
