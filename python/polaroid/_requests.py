"""Requests and results of polaroid.v1 built and read without a transport: the sync client
(client.py) and the asyncio one use the same functions, so they send the same protobuf."""

from __future__ import annotations

import fcntl
import itertools
import mmap
import os
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

import pyarrow as pa

from . import _ipc
from ._proto import polaroid_pb2 as pb
from ._pb import new as _pbnew

__all__ = ["TableInfo", "table_info", "WriteResult", "AppendResult", "schema_of", "execute_request",
           "count_plan", "count_of", "write_request", "create_table_request", "append_requests",
           "rows_to_arrow", "to_arrow", "csv_options", "map_shared_memory", "format_preview",
           "bind_rpcs"]

SERVICE = "/polaroid.v1.Polaroid/"

# attribute -> (method, request type, response type) of the unary methods both clients call
_UNARY = {
    "_schema_rpc": ("Schema", pb.PlanRequest, pb.SchemaResponse),
    "_explain_rpc": ("Explain", pb.ExplainRequest, pb.ExplainResponse),
    "_describe_rpc": ("Describe", pb.PlanRequest, pb.DescribeResponse),
    "_write_rpc": ("Write", pb.WriteRequest, pb.WriteResponse),
    "_create_handle_rpc": ("CreateHandle", pb.CreateHandleRequest, pb.HandleInfo),
    "_heartbeat_rpc": ("Heartbeat", pb.HeartbeatRequest, pb.HeartbeatResponse),
    "_drop_handle_rpc": ("DropHandle", pb.DropHandleRequest, pb.DropHandleResponse),
    "_create_table_rpc": ("CreateTable", pb.CreateTableRequest, pb.TableInfo),
    "_drop_table_rpc": ("DropTable", pb.DropTableRequest, pb.DropTableResponse),
    "_list_tables_rpc": ("ListTables", pb.ListTablesRequest, pb.ListTablesResponse),
    "_server_info_rpc": ("ServerInfo", pb.ServerInfoRequest, pb.ServerInfoResponse),
    "_release_shm_rpc": ("ReleaseSharedMemory", pb.ReleaseSharedMemoryRequest,
                         pb.ReleaseSharedMemoryResponse),
}


def bind_rpcs(obj: Any, ch: Any) -> None:
    """Sets obj's callables of the polaroid.v1 unary methods and of Append on channel ch (a
    grpc or grpc.aio channel: both have the same factory methods)."""
    for attr, (name, req, resp) in _UNARY.items():
        setattr(obj, attr, ch.unary_unary(SERVICE + name, request_serializer=req.SerializeToString,
                                          response_deserializer=resp.FromString))
    obj._append_rpc = ch.stream_stream(SERVICE + "Append",
                                       request_serializer=pb.AppendRequest.SerializeToString,
                                       response_deserializer=pb.AppendAck.FromString)

@dataclass(frozen=True)
class TableInfo:
    """A server table or view (``list_tables``). A view's ``num_rows`` is -1 (counting would
    run it) and its schema is its query's (empty when the view no longer plans, e.g. its table
    was dropped)."""
    name: str
    schema: pa.Schema
    num_rows: int
    kind: str = "table"  # "table" (a live table) or "view" (SQL CREATE VIEW)


def table_info(t: pb.TableInfo) -> TableInfo:
    kind = "view" if t.kind == pb.TABLE_KIND_VIEW else "table"
    return TableInfo(t.name, schema_of(t.schema), t.num_rows, kind)


@dataclass(frozen=True)
class WriteResult:
    rows: int
    bytes: int
    path: str


@dataclass(frozen=True)
class AppendResult:
    rows: int  # rows appended by this call
    table_rows: int  # the table's row count after it


def schema_of(sr: pb.SchemaResponse) -> pa.Schema:
    if sr.arrow_schema:
        return _ipc.schema_from_message(sr.arrow_schema)
    return pa.schema([])




_RID_PREFIX = uuid.uuid4().hex[:8]
_RID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A request id for logs and error details: 8 random hex digits per process, then a
    counter (uuid4 per call cost ~8 us, a good part of a small query's client time)."""
    return f"{_RID_PREFIX}{next(_RID_COUNTER) & 0xFFFFFFFF:08x}"


def execute_request(plan: pb.Plan, *, max_message_bytes: int = 0, timeout: Optional[float] = None,
                    shared_memory: bool = False, shared_memory_min_bytes: int = 0,
                    keep_dictionaries: bool = False,
                    request_id: Optional[str] = None,
                    session_id: str = "") -> pb.ExecuteRequest:
    opts = pb.ExecuteOptions(max_message_bytes=max(0, int(max_message_bytes)),
                             request_id=request_id or new_request_id(),
                             keep_dictionaries=keep_dictionaries, session_id=session_id)
    if timeout is not None:
        opts.timeout_ms = max(1, int(timeout * 1000))
    if shared_memory:
        opts.allow_shared_memory = True
        opts.shared_memory_min_bytes = int(shared_memory_min_bytes)
        opts.shared_memory_max_files = SHARED_MEMORY_MAX_FILES
    return _pbnew(pb.ExecuteRequest, plan=plan, options=opts)


def count_plan(rel: pb.Relation) -> pb.Plan:
    """count(*) of a relation, as column "len"."""
    return _pbnew(pb.Plan, root=_pbnew(pb.Relation, aggregate=_pbnew(pb.Aggregate, 
        input=rel, aggs=[_pbnew(pb.NamedExpr, expr=_pbnew(pb.Expr, agg=_pbnew(pb.AggCall, function="count")), name="len")])))


def count_of(t: pa.Table) -> int:
    if t.num_rows != 1 or t.num_columns != 1:
        raise ValueError(f"count(*) returned {t.num_rows} rows x {t.num_columns} columns")
    return int(t.column(0)[0].as_py() or 0)


_WRITE_FORMATS = {"parquet": pb.ReadFiles.FORMAT_PARQUET, "csv": pb.ReadFiles.FORMAT_CSV,
                  "ipc": pb.ReadFiles.FORMAT_IPC, "auto": pb.ReadFiles.FORMAT_AUTO}


def write_request(plan: pb.Plan, path: Any, fmt: str, *, compression: Optional[str] = None,
                  row_group_size: Optional[int] = None, overwrite: bool = True) -> pb.WriteRequest:
    return _pbnew(pb.WriteRequest, plan=plan, path=os.fspath(path), format=_WRITE_FORMATS[fmt],
                           compression=compression or "", row_group_size=row_group_size or 0,
                           overwrite=overwrite)


def csv_options(has_header: bool = True, separator: str = ",", quote_char: str = '"',
                null_values: Optional[Sequence[str]] = None) -> pb.CsvOptions:
    return pb.CsvOptions(no_header=not has_header, delimiter=separator if separator != "," else "",
                         quote=quote_char if quote_char != '"' else "",
                         null_values=list(null_values or []))


def create_table_request(name: str, schema: Any = None, *, data_plan: Optional[pb.Plan] = None,
                         if_not_exists: bool = False, replace: bool = False) -> pb.CreateTableRequest:
    """``schema``: a pyarrow Schema or a dict {column: SQL type name or pyarrow type}; or
    ``data_plan``: a plan whose result starts the table."""
    req = pb.CreateTableRequest(name=name, if_not_exists=if_not_exists, replace=replace)
    if schema is not None:
        if isinstance(schema, pa.Schema):
            req.arrow_schema = _ipc.schema_to_message(schema)
        elif isinstance(schema, dict):
            req.columns.extend(pb.ColumnDef(name=k, type=v if isinstance(v, str) else _sql_type(v))
                               for k, v in schema.items())
        else:
            raise TypeError("create_table: schema must be a pyarrow.Schema or a dict")
    elif data_plan is not None:
        req.as_plan.CopyFrom(data_plan)
    else:
        raise ValueError("create_table needs a schema or data")
    return req


def rows_to_arrow(rows: Sequence[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts of column -> value) as a table of the live table's schema."""
    return pa.Table.from_pylist(list(rows), schema=schema)


# Files a same-host result may come in (ExecuteOptions.shared_memory_max_files): the server
# writes them at once, one writer thread each, and uses at most its worker threads.
SHARED_MEMORY_MAX_FILES = 16


class _Mapping(mmap.mmap):
    """A read-only mapping of one result file. The pyarrow buffers of the table hold it (through
    the buffer protocol); when the last of them goes, it unmaps itself and counts down its lease
    (_LeaseMaps), which tells the server once every file of the lease is unmapped."""

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
        st = self.__dict__.get("lease")
        if st is not None:
            st.one_gone()


class _LeaseMaps:
    def __init__(self, n: int, on_unmapped: Callable[[], None]) -> None:
        self.n = n
        self.on_unmapped = on_unmapped
        self.lock = threading.Lock()

    def one_gone(self) -> None:
        with self.lock:
            self.n -= 1
            last = self.n == 0
        if last:
            try:
                self.on_unmapped()
            except Exception:
                pass


def _map_files(files: List[Any], on_unmapped: Callable[[], None]) -> List[pa.Buffer]:
    st = _LeaseMaps(len(files), on_unmapped)
    out: List[pa.Buffer] = []
    maps: List[_Mapping] = []
    try:
        for path, size in files:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
            try:
                # a shared lock that lives as long as the mapping of this open file (in forked
                # children too): the server writes a later result over the file only once no
                # lock is left (without it, the server removes the file instead of reusing it)
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError:
                    pass
                have = os.fstat(fd).st_size  # a reused file may be longer than its stream
                m = _Mapping(fd, size if 0 < size <= have else have, access=mmap.ACCESS_READ)
            finally:
                os.close(fd)
            maps.append(m)
        for m in maps:
            m.lease = st  # counted from here on: every file is mapped
        out = [pa.py_buffer(m) for m in maps]
    except BaseException:
        for m in maps:
            m.__dict__.pop("lease", None)
        raise
    return out


def map_shared_memory(res: Union[str, pb.SharedMemoryResult],
                      on_unmapped: Optional[Callable[[], None]] = None) -> pa.Table:
    """A same-host result as one pyarrow Table, mapped without a copy (the mappings stay valid
    after the server removes the files): a SharedMemoryResult (one file in ``path``, or several
    in ``files`` whose record batches ``run_*`` put in order) or the path of one file. With
    ``on_unmapped``, the files are mapped so that it is called (from whichever thread drops the
    last buffer) once the table and everything taken from it are gone and every file of the
    result is unmapped: the client then tells the server it may reuse them."""
    if isinstance(res, str):
        return pa.ipc.open_stream(pa.memory_map(res, "r")).read_all()
    files = [(f.path, f.size) for f in res.files] if res.files else [(res.path, res.size)]
    if on_unmapped is not None:
        sources: List[Any] = _map_files(files, on_unmapped)
    else:
        sources = [pa.memory_map(p, "r") for p, _ in files]
    if not res.files:
        return pa.ipc.open_stream(sources[0]).read_all()
    readers = [pa.ipc.open_stream(src) for src in sources]
    del sources
    schema = readers[0].schema
    if len(readers) == 1 and len(res.run_file) <= 1:
        return readers[0].read_all()
    per_file = [list(r) for r in readers]
    batches: List[pa.RecordBatch] = []
    for k, first, n in zip(res.run_file, res.run_first, res.run_batches):
        got = per_file[k][first:first + n]
        if len(got) != n:
            raise ValueError(f"same-host result: file {res.files[k].path} has "
                             f"{len(per_file[k])} record batches, the server listed "
                             f"{first + n}")
        batches.extend(got)
    if len(batches) != sum(len(b) for b in per_file):
        raise ValueError("same-host result: the server's runs do not cover every record batch")
    return pa.Table.from_batches(batches, schema=schema)


def append_requests(table: str, t: pa.Table, chunk_bytes: int) -> Iterator[pb.AppendRequest]:
    seq = 0
    batches = t.to_batches()
    if not batches:
        batches = [pa.RecordBatch.from_pylist([], schema=t.schema)]
    group: List[pa.RecordBatch] = []
    size = 0

    def emit(g: List[pa.RecordBatch]) -> pb.AppendRequest:
        nonlocal seq
        seq += 1
        data = _ipc.table_to_ipc(pa.Table.from_batches(g, schema=t.schema))
        return pb.AppendRequest(table=table if seq == 1 else "", seq=seq, arrow_ipc=data)

    for b in batches:
        # split big batches so one request stays under chunk_bytes
        nb = b.nbytes
        if nb > chunk_bytes and b.num_rows > 1:
            step = max(1, b.num_rows * chunk_bytes // nb)
            parts = [b.slice(i, step) for i in range(0, b.num_rows, step)]
        else:
            parts = [b]
        for p in parts:
            if group and size + p.nbytes > chunk_bytes:
                yield emit(group)
                group, size = [], 0
            group.append(p)
            size += p.nbytes
    if group:
        yield emit(group)


def to_arrow(data: Any) -> Any:
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    mod = type(data).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    if isinstance(data, dict):
        return pa.table(data)
    raise TypeError(f"cannot convert {type(data).__name__} to Arrow")


def _sql_type(t: Any) -> str:
    from .expr import _type_name

    return _type_name(t)


def _type_label(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return f"dict<{_type_label(t.value_type)}>"
    return str(t)


def format_preview(t: pa.Table, rows: int) -> str:
    head = f"<polaroid.DataFrame shape: ({rows}, {t.num_columns})>"
    if t.num_columns == 0:
        return head
    cols = []
    for i, f in enumerate(t.schema):
        vals = ["null" if v is None else str(v) for v in t.column(i).to_pylist()]
        vals = [v if len(v) <= 24 else v[:21] + "..." for v in vals]
        cols.append([f.name, _type_label(f.type)] + vals)
    widths = [max(len(x) for x in c) for c in cols]
    lines = []
    for r in range(len(cols[0])):
        lines.append(" | ".join(c[r].ljust(w) for c, w in zip(cols, widths)).rstrip())
        if r == 1:
            lines.append("-+-".join("-" * w for w in widths))
    if rows > t.num_rows:
        lines.append("...")
    return head + "\n" + "\n".join(lines)


