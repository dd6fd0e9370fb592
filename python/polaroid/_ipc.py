"""Arrow IPC helpers shared by the sync and async clients (no gRPC here).

Execute's responses carry one Arrow IPC stream cut at message boundaries: each ``arrow_ipc``
payload holds one or more whole encapsulated messages (schema first, then dictionary and record
batch messages). :class:`StreamDecoder` decodes them as they arrive, without copying the batch
bodies: every RecordBatch references the payload's bytes.

:func:`parse_execute_response` is a gRPC response deserializer that avoids protobuf's copy of the
(large) ``arrow_ipc`` field: it returns a memoryview into the bytes gRPC handed over.
"""

from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

import pyarrow as pa
import pyarrow.ipc as ipc

from ._proto import polaroid_pb2 as pb

__all__ = ["StreamDecoder", "parse_execute_response", "table_to_ipc", "schema_from_message",
           "read_ipc_stream", "ARROW_IPC", "SHARED_MEMORY", "SUMMARY"]

ARROW_IPC = 1
SHARED_MEMORY = 2
SUMMARY = 3


def _varint(buf: memoryview, i: int) -> Tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("malformed varint in ExecuteResponse")


def parse_execute_response(raw: bytes) -> Tuple[int, Any]:
    """Deserializes an ExecuteResponse: ``(ARROW_IPC, memoryview)``, ``(SHARED_MEMORY,
    SharedMemoryResult)`` or ``(SUMMARY, ExecuteSummary)``. The arrow_ipc case is parsed by hand
    (one tag, one length) so the payload is not copied; anything else goes through protobuf."""
    mv = memoryview(raw)
    n = len(mv)
    if n and mv[0] == 0x0A:  # field 1 (arrow_ipc), wire type 2
        length, i = _varint(mv, 1)
        if i + length == n:  # the message is just this field
            return ARROW_IPC, mv[i:n]
    msg = pb.ExecuteResponse.FromString(raw)
    kind = msg.WhichOneof("payload")
    if kind == "arrow_ipc":
        return ARROW_IPC, memoryview(msg.arrow_ipc)
    if kind == "shared_memory":
        return SHARED_MEMORY, msg.shared_memory
    if kind == "summary":
        return SUMMARY, msg.summary
    return 0, None  # an empty response (a newer server's payload we do not know): ignored


class StreamDecoder:
    """Incremental decoder of an Arrow IPC stream delivered in whole-message chunks.

    ``feed(chunk)`` returns the record batches completed by that chunk. The common case (no
    dictionaries) reads each message with ``pyarrow.ipc.read_message`` and
    ``read_record_batch`` straight from the chunk's memory; streams with dictionary messages
    switch to replaying the schema and dictionaries through a stream reader per batch."""

    def __init__(self) -> None:
        self.schema: Optional[pa.Schema] = None
        self._schema_buf: Optional[pa.Buffer] = None
        self._dicts: List[pa.Buffer] = []  # dictionary messages, serialised, in order
        self._pending: List[pa.Buffer] = []  # partial message bytes (a message split over chunks)
        self.finished = False
        self.num_batches = 0
        self.num_rows = 0

    def feed(self, chunk: Any) -> List[pa.RecordBatch]:
        buf = chunk if isinstance(chunk, pa.Buffer) else pa.py_buffer(chunk)
        if self._pending:
            self._pending.append(buf)
            buf = _concat(self._pending)  # rare: only when a server splits a message
            self._pending = []
        out: List[pa.RecordBatch] = []
        size = buf.size
        reader = pa.BufferReader(buf)
        pos = 0
        while pos < size:
            try:
                msg = ipc.read_message(reader)
            except EOFError:  # the end-of-stream marker
                self.finished = True
                break
            except (OSError, pa.ArrowInvalid) as e:
                # a message continued in the next chunk (servers normally send whole messages)
                if not isinstance(e, OSError) and not _metadata_truncated(buf, pos):
                    raise ValueError(f"malformed Arrow IPC message in the result stream: {e}") from None
                self._pending = [buf.slice(pos)]
                break
            end = reader.tell()
            b = self._one(msg, buf, pos, end)
            pos = end
            if b is not None:
                out.append(b)
        return out

    def close(self) -> None:
        """Checks that nothing is left half-read at the end of the stream."""
        if self._pending and sum(p.size for p in self._pending) > 0:
            raise ValueError("truncated Arrow IPC stream: the last message is incomplete")

    def _one(self, msg: Any, buf: pa.Buffer, start: int, end: int) -> Optional[pa.RecordBatch]:
        t = msg.type
        if t == "schema":
            self.schema = ipc.read_schema(msg)
            self._schema_buf = buf.slice(start, end - start)
            return None
        if self.schema is None:
            raise ValueError("malformed Arrow IPC stream: a message before the schema")
        if t == "dictionary":
            self._dicts.append(buf.slice(start, end - start))
            return None
        if t != "record batch":
            return None
        if self._dicts:
            parts = [self._schema_buf] + self._dicts + [buf.slice(start, end - start)]
            reader = ipc.open_stream(pa.BufferReader(_concat(parts)))
            b = reader.read_next_batch()
        else:
            b = ipc.read_record_batch(msg, self.schema)
        self.num_batches += 1
        self.num_rows += b.num_rows
        return b


def _concat(parts: List[pa.Buffer]) -> pa.Buffer:
    out = pa.BufferOutputStream()
    for p in parts:
        out.write(p)
    return out.getvalue()


def _metadata_truncated(buf: pa.Buffer, pos: int) -> bool:
    """Whether the message at pos is cut inside its prefix or metadata."""
    rest = buf.size - pos
    if rest < 8:
        return True
    head = buf.slice(pos, 8).to_pybytes()
    if head[:4] == b"\xff\xff\xff\xff":
        return rest < 8 + int.from_bytes(head[4:8], "little", signed=True)
    return rest < 4 + int.from_bytes(head[0:4], "little", signed=True)


def table_to_ipc(data: Any) -> bytes:
    """An Arrow IPC stream (schema + batches) of a pyarrow Table, RecordBatch or reader."""
    sink = pa.BufferOutputStream()
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.RecordBatchReader):
        with ipc.new_stream(sink, data.schema) as w:
            for b in data:
                w.write_batch(b)
    else:
        with ipc.new_stream(sink, data.schema) as w:
            w.write_table(data)
    return sink.getvalue().to_pybytes()


def schema_from_message(data: bytes) -> pa.Schema:
    """A schema from an encapsulated Arrow IPC schema message (or a whole stream)."""
    return ipc.read_schema(pa.py_buffer(data))


def schema_to_message(schema: pa.Schema) -> bytes:
    return schema.serialize().to_pybytes()


def read_ipc_stream(data: bytes) -> pa.Table:
    return ipc.open_stream(pa.py_buffer(data)).read_all()


def batches_to_table(schema: pa.Schema, batches: List[pa.RecordBatch]) -> pa.Table:
    return pa.Table.from_batches(batches, schema=schema)


def iter_chunks(chunks: Iterator[Any]) -> Iterator[pa.RecordBatch]:  # pragma: no cover - helper
    d = StreamDecoder()
    for c in chunks:
        yield from d.feed(c)
