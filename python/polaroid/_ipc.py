"""Arrow IPC helpers shared by the sync and async clients (no gRPC here).

Execute's responses carry one Arrow IPC stream cut at message boundaries: each ``arrow_ipc``
payload holds one or more whole encapsulated messages (schema first, then dictionary and record
batch messages). :class:`StreamDecoder` decodes them as they arrive, without copying the batch
bodies: every RecordBatch references the payload's bytes.

:func:`parse_execute_response` is a gRPC response deserializer that avoids protobuf's copy of the
(large) ``arrow_ipc`` field: it returns a memoryview into the bytes gRPC handed over.
"""

from __future__ import annotations

import collections
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


class _ChunkQueue:
    """A read-only file over queued buffers for pyarrow's stream reader: reads inside one chunk
    return a zero-copy view of it; only a read across chunks copies."""

    closed = False

    def __init__(self) -> None:
        self._q: "collections.deque[memoryview]" = collections.deque()

    def push(self, buf: pa.Buffer) -> None:
        if buf.size:
            self._q.append(memoryview(buf))

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> Any:
        q = self._q
        if not q:
            return b""
        cur = q[0]
        if n < 0 or len(cur) <= n:
            q.popleft()
            if n < 0 or len(cur) == n or not q:
                return cur
            parts, need = [cur], n - len(cur)
            while q and need > 0:
                c = q[0]
                if len(c) <= need:
                    parts.append(q.popleft())
                    need -= len(c)
                else:
                    parts.append(c[:need])
                    q[0] = c[need:]
                    need = 0
            return b"".join(parts)
        q[0] = cur[n:]
        return cur[:n]

    def close(self) -> None:
        pass


class StreamDecoder:
    """Incremental decoder of an Arrow IPC stream delivered in whole-message chunks.

    ``feed(chunk)`` returns the record batches completed by that chunk. Without dictionary
    fields each message is read with ``pyarrow.ipc.read_message`` and ``read_record_batch``
    straight from the chunk's memory (no copy). With dictionary fields the complete messages go
    to one pyarrow stream reader (it keeps the dictionaries, deltas and replacements), reading
    from a queue of the chunks, again without copying the bodies."""

    def __init__(self) -> None:
        self.schema: Optional[pa.Schema] = None
        self._pending: List[pa.Buffer] = []  # partial message bytes (a message split over chunks)
        self._queue: Optional[_ChunkQueue] = None  # dictionary streams: the reader's input
        self._reader: Any = None
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
        n_batches = 0  # record batch messages for the stream reader (dictionary streams)
        first = 0  # start of the bytes not yet given to the stream reader
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
            t = msg.type
            if t == "schema":
                if self.schema is not None:
                    raise ValueError("malformed Arrow IPC stream: a second schema message")
                self.schema, has_dict = _schema_of(msg)
                if has_dict:
                    self._queue = _ChunkQueue()
            elif self.schema is None:
                raise ValueError("malformed Arrow IPC stream: a message before the schema")
            elif self._queue is not None:
                if t == "record batch":
                    n_batches += 1
            elif t == "record batch":
                b = ipc.read_record_batch(msg, self.schema)
                self.num_batches += 1
                self.num_rows += b.num_rows
                out.append(b)
            pos = end
        if self._queue is not None and pos > first:
            self._queue.push(buf.slice(first, pos - first))
            if self._reader is None:
                self._reader = ipc.open_stream(pa.PythonFile(self._queue, mode="r"))
            for _ in range(n_batches):
                b = self._reader.read_next_batch()
                self.num_batches += 1
                self.num_rows += b.num_rows
                out.append(b)
        return out

    def close(self) -> None:
        """Checks that nothing is left half-read at the end of the stream."""
        if self._pending and sum(p.size for p in self._pending) > 0:
            raise ValueError("truncated Arrow IPC stream: the last message is incomplete")


def _has_dictionary(schema: pa.Schema) -> bool:
    return any(_type_has_dictionary(f.type) for f in schema)


def _type_has_dictionary(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return True
    return any(_type_has_dictionary(t.field(i).type) for i in range(t.num_fields))


# Schema messages seen lately (their metadata bytes -> schema, has dictionaries): a client that
# runs the same small queries again and again gets the same schema message each time, and
# parsing it was a good part of decoding a small result.
_SCHEMAS: "collections.OrderedDict[bytes, Tuple[pa.Schema, bool]]" = collections.OrderedDict()
_SCHEMAS_MAX = 256


def _schema_of(msg: Any) -> Tuple[pa.Schema, bool]:
    key = msg.metadata.to_pybytes()
    hit = _SCHEMAS.get(key)
    if hit is not None:
        return hit
    schema = ipc.read_schema(msg)
    hit = (schema, _has_dictionary(schema))
    if len(_SCHEMAS) >= _SCHEMAS_MAX:
        try:
            _SCHEMAS.popitem(last=False)
        except KeyError:  # emptied by another thread meanwhile
            pass
    _SCHEMAS[key] = hit
    return hit


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
