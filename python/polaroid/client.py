"""The sync connection to a ``polaroid serve``.

``polaroid.connect(target, token=..., tls=...)`` makes a :class:`Client` and sets it as the
default connection that the module-level functions (``pd.read_parquet`` ...) use. A Client holds
one gRPC channel (reconnecting by itself, with UNAVAILABLE calls retried under a small backoff
policy), the bearer token sent as ``authorization: Bearer <token>`` metadata, and the handles
made by ``DataFrame.cache()``, renewed by a background heartbeat thread and dropped when no
DataFrame uses them any more.
"""

from __future__ import annotations

import atexit
import collections
import random
import time
import os
import threading
import weakref
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import grpc
import pyarrow as pa

from . import _ipc, _requests
from ._proto import health_pb2, polaroid_pb2 as pb
from ._pb import new as _pbnew
from .errors import PolaroidError, from_rpc_error
from ._requests import (AppendResult, TableInfo, WriteResult, append_requests, count_of, count_plan, table_info,
                        create_table_request, csv_options, execute_request, format_preview,
                        map_shared_memory, rows_to_arrow, schema_of, to_arrow, write_request)
from .frame import DataFrame, read_files_relation, sql_relation

__all__ = ["Client", "connect", "get_default", "set_default", "TableInfo", "WriteResult",
           "AppendResult", "Handle", "DEFAULT_TARGET"]

DEFAULT_TARGET = "localhost:50051"

# Calls that fail with UNAVAILABLE before the server did anything (it is restarting, the connection
# was reset) are retried by the client: up to _ATTEMPTS attempts, _BACKOFF seconds apart doubling to
# 1 s (about 3-5 s in all, longer than the channel's reconnect backoff of at most 1 s after a
# restart), within the call's deadline. gRPC's own retry policy is not used: a call the server
# cancels at shutdown then never completes (grpcio 1.85), so the channel disables it.
_ATTEMPTS = 8
_BACKOFF = 0.1


class Handle:
    """A DataFrame stored on the server (``DataFrame.cache()``). Alive while referenced."""

    def __init__(self, client: "Client", info: pb.HandleInfo) -> None:
        self.id: str = info.id
        self.num_rows: Optional[int] = info.num_rows if info.num_rows >= 0 else None
        self.ttl_seconds: int = info.ttl_seconds
        self._schema_resp = info.schema
        self.expired = False
        self._finalizer = weakref.finalize(self, Client._release_handle_ref, weakref.ref(client), self.id)
        self._finalizer.atexit = False  # at exit the client's own hook drops what is left

    @property
    def schema(self) -> pa.Schema:
        return schema_of(self._schema_resp)

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and not self.expired

    def drop(self) -> None:
        """Drops the handle now (DataFrames reading it then fail with NOT_FOUND)."""
        if not self._finalizer.alive:
            return
        client_ref = self._finalizer.detach()[2][0]
        c = client_ref()
        if c is None:
            return
        with c._lock:
            c._handles.pop(self.id, None)
        if not c._closed:
            c._call(c._drop_handle_rpc, pb.DropHandleRequest(handle_ids=[self.id]))

    def __repr__(self) -> str:
        return f"<polaroid.Handle {self.id} rows={self.num_rows} {'alive' if self.alive else 'dropped'}>"


class SqlSession:
    """A SQL session on the server (Client.sql_session()): like one connection of PostgreSQL
    or DuckDB, its temporary tables and views are its own and end with it; the shared tables
    and views are the server's, as for Client.execute_sql. Runs one script at a time."""

    def __init__(self, client: "Client", handle: Handle) -> None:
        self.client = client
        self._handle = handle
        self.id: str = handle.id

    def execute_sql(self, script: str, *, timeout: Optional[float] = None,
                    **frames: "DataFrame") -> pa.Table:
        """Client.execute_sql in this session."""
        if not self._handle.alive:
            raise PolaroidError("the SQL session is closed")
        return self.client._execute_sql(script, timeout, self.id, frames)

    @property
    def alive(self) -> bool:
        return self._handle.alive

    def close(self) -> None:
        """Ends the session now: its temporary tables and views are gone."""
        self._handle.drop()

    def __enter__(self) -> "SqlSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<polaroid.SqlSession {self.id} {'open' if self.alive else 'closed'}>"


class Client:
    """A connection to a polaroid server.

    Arguments:
      target: "host:port" or "unix:/path" (default localhost:50051).
      token: bearer token (default: $POLAROID_TOKEN when set).
      tls: use TLS; root_certificates (PEM bytes or a file path) to trust, else the system's.
      timeout: default deadline in seconds for every call (None: none).
      max_message_bytes: the largest Execute response message to ask the server for (0: the
        server's default, 1 MiB); the channel itself accepts any size the server sends.
      heartbeat_interval: seconds between handle renewals (default: a third of the TTL).
      options: extra gRPC channel options.
      retries: retry calls that fail with UNAVAILABLE before the server did anything (reads,
        queries not yet answered, renewals; never writes, appends or table changes).
      shared_memory: same-host fast path for large results (the server writes the Arrow stream
        to a file under /dev/shm that the client maps without a copy): None = when the server
        offers it and the connection is local, False = never.
      shared_memory_min_bytes: results smaller than this still come as messages.
      keep_dictionaries: dictionary-encoded columns (Parquet strings the engine keeps as
        dictionaries) come back as Arrow dictionary arrays (pandas categoricals) instead of
        plain values: smaller and faster, but types differ from pyarrow's for the same file.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        token: Optional[str] = None,
        tls: bool = False,
        root_certificates: Union[bytes, str, None] = None,
        private_key: Optional[bytes] = None,
        certificate_chain: Optional[bytes] = None,
        server_name: Optional[str] = None,
        timeout: Optional[float] = None,
        max_message_bytes: int = 0,
        max_send_message_bytes: int = -1,
        heartbeat_interval: Optional[float] = None,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
        retries: bool = True,
        shared_memory: Optional[bool] = None,
        shared_memory_min_bytes: int = 8 << 20,
        keep_dictionaries: bool = False,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.max_message_bytes = int(max_message_bytes)
        self.shared_memory = shared_memory
        self.shared_memory_min_bytes = int(shared_memory_min_bytes)
        self.keep_dictionaries = bool(keep_dictionaries)
        self._shm_ok: Optional[bool] = None if shared_memory is not False else False
        if token is None:
            token = os.environ.get("POLAROID_TOKEN") or None
        self._token = token
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        opts: List[Tuple[str, Any]] = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", max_send_message_bytes),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.keepalive_time_ms", 30000),
            ("grpc.enable_retries", 0),
        ]
        self._attempts = _ATTEMPTS if retries else 1
        if server_name:
            opts.append(("grpc.ssl_target_name_override", server_name))
        if options:
            opts.extend(options)
        if tls or root_certificates is not None:
            roots = root_certificates
            if isinstance(roots, str):
                with open(roots, "rb") as f:
                    roots = f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=roots, private_key=private_key,
                                                 certificate_chain=certificate_chain)
            self._channel = grpc.secure_channel(target, creds, options=opts)
        else:
            self._channel = grpc.insecure_channel(target, options=opts)
        ch = self._channel
        self._execute = ch.unary_stream(_requests.SERVICE + "Execute", request_serializer=pb.ExecuteRequest.SerializeToString,
                                        response_deserializer=_ipc.parse_execute_response)

        _requests.bind_rpcs(self, ch)
        self._health_check = ch.unary_unary("/grpc.health.v1.Health/Check",
                                            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                            response_deserializer=health_pb2.HealthCheckResponse.FromString)
        self._health_watch = ch.unary_stream("/grpc.health.v1.Health/Watch",
                                             request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                             response_deserializer=health_pb2.HealthCheckResponse.FromString)
        # handles: id -> weakref(Handle); ids to drop; the heartbeat thread
        self._lock = threading.Lock()
        self._handles: Dict[str, "weakref.ref[Handle]"] = {}
        self._to_drop: List[str] = []
        self._heartbeat_interval = heartbeat_interval
        self._hb_thread: Optional[threading.Thread] = None
        self._hb_wake = threading.Event()
        self._closed = False
        self._table_schemas: Dict[str, pa.Schema] = {}
        atexit.register(_close_at_exit, weakref.ref(self))

    # ------------------------------------------------------------ plumbing
    def _call(self, rpc: Any, req: Any, timeout: Optional[float] = None, *,
              retry: bool = True) -> Any:
        """A unary call with the client's metadata and deadline; UNAVAILABLE retried (retry)."""
        if self._closed:
            raise PolaroidError("the client is closed")
        t = timeout if timeout is not None else self.timeout
        deadline = None if t is None else time.monotonic() + t
        attempt = 0
        while True:
            attempt += 1
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return rpc(req, timeout=left, metadata=self._metadata)
            except grpc.RpcError as e:
                if not (retry and self._retry_after(e, attempt, deadline)):
                    raise from_rpc_error(e) from None

    def _retry_after(self, e: Any, attempt: int, deadline: Optional[float]) -> bool:
        """Sleeps before another attempt of a call that failed with e; False: give up."""
        try:
            code = e.code()
        except Exception:
            return False
        if code != grpc.StatusCode.UNAVAILABLE or attempt >= self._attempts or self._closed:
            return False
        pause = min(1.0, _BACKOFF * (2 ** (attempt - 1))) * (0.5 + random.random() / 2)
        if deadline is not None and time.monotonic() + pause >= deadline:
            return False
        time.sleep(pause)
        return True

    @property
    def channel(self) -> grpc.Channel:
        return self._channel

    @property
    def metadata(self) -> Tuple[Tuple[str, str], ...]:
        return self._metadata

    def close(self, timeout: float = 2.0) -> None:
        """Drops this client's handles, stops the heartbeat thread and closes the channel."""
        if self._closed:
            return
        with self._lock:
            ids = list(self._handles) + self._to_drop
            self._handles.clear()
            self._to_drop = []
        self._stop_heartbeat()
        if ids:
            try:
                self._drop_handle_rpc(pb.DropHandleRequest(handle_ids=ids), timeout=timeout,
                                      metadata=self._metadata)
            except grpc.RpcError:
                pass
        self._closed = True
        self._channel.close()
        global _default
        if _default is self:
            _default = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<polaroid.Client {self.target}{' closed' if self._closed else ''}>"

    # ------------------------------------------------------------ server
    def server_info(self, timeout: Optional[float] = None) -> pb.ServerInfoResponse:
        """Version, capabilities, limits and threads of the server."""
        return self._call(self._server_info_rpc, pb.ServerInfoRequest(), timeout)

    def health(self, service: str = "", timeout: Optional[float] = None) -> str:
        """grpc.health.v1 Check: "SERVING", "NOT_SERVING", ... ("" = the whole server)."""
        r = self._call(self._health_check, health_pb2.HealthCheckRequest(service=service), timeout)
        return health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)

    def wait_ready(self, timeout: float = 10.0) -> None:
        """Blocks until the channel connects (UnavailableError after timeout)."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            from .errors import UnavailableError

            raise UnavailableError(f"could not connect to {self.target} within {timeout} s",
                                   code=grpc.StatusCode.UNAVAILABLE) from None

    # ------------------------------------------------------------ sources
    def _df(self, rel: pb.Relation, deps: Tuple[Any, ...] = ()) -> DataFrame:
        return DataFrame(rel, self, deps)

    def read_parquet(self, source: Any, *, columns: Optional[Sequence[str]] = None,
                     n_rows: Optional[int] = None) -> DataFrame:
        """Parquet files under the server's data root: a path, a glob, or a list of them."""
        return _opts(self._df(read_files_relation(source, "parquet")), columns, n_rows)

    def read_csv(self, source: Any, *, has_header: bool = True, separator: str = ",",
                 quote_char: str = '"', null_values: Optional[Sequence[str]] = None,
                 columns: Optional[Sequence[str]] = None, n_rows: Optional[int] = None) -> DataFrame:
        csv = csv_options(has_header, separator, quote_char, null_values)
        return _opts(self._df(read_files_relation(source, "csv", csv)), columns, n_rows)

    def read_ipc(self, source: Any, *, columns: Optional[Sequence[str]] = None,
                 n_rows: Optional[int] = None) -> DataFrame:
        """Arrow IPC (Feather v2) files."""
        return _opts(self._df(read_files_relation(source, "ipc")), columns, n_rows)

    def scan(self, source: Any, format: Optional[str] = None) -> DataFrame:
        """Files of the format their extension says (or ``format``)."""
        return self._df(read_files_relation(source, format))

    def sql(self, query: str, **frames: DataFrame) -> DataFrame:
        """A SQL query; keyword arguments name DataFrames the query reads (``FROM t``).
        Handles and live tables of the server are visible by name too."""
        rel = sql_relation(query, frames)
        deps: Tuple[Any, ...] = ()
        for f in frames.values():
            if f._client is not None and f._client is not self:
                raise ValueError("sql: a DataFrame of another connection")
            deps += f._deps
        return self._df(rel, deps)

    def execute_sql(self, script: str, *, timeout: Optional[float] = None,
                    **frames: DataFrame) -> pa.Table:
        """Runs a SQL script on the server now, statement by statement: CREATE TABLE [AS],
        INSERT, UPDATE, DELETE, TRUNCATE, ALTER TABLE, CREATE [OR REPLACE] VIEW, DROP TABLE/VIEW
        change the server's tables and views (seen by every client), queries read them.
        Returns the last statement's rows (a query, RETURNING); when it returns none, a BIGINT
        column "Count" with the rows it changed (one row) or no row (CREATE, ALTER, DROP).
        A statement whose table another client replaced while it ran raises an ABORTED
        PolaroidError and changes nothing (docs/server.md, "SQL scripts"). An error in the
        SQL has sql_line / sql_column and its message shows the line with a caret."""
        return self._execute_sql(script, timeout, "", frames)

    def _execute_sql(self, script: str, timeout: Optional[float], session_id: str,
                     frames: Dict[str, DataFrame]) -> pa.Table:
        try:
            with self.execute(self.sql(script, **frames).plan, timeout=timeout,
                              session_id=session_id) as rs:
                return rs.read_all()
        except PolaroidError as e:
            raise e.add_sql_context(script) from None

    def sql_session(self, *, ttl: Optional[float] = None) -> "SqlSession":
        """Opens a SQL session on the server: its scripts (SqlSession.execute_sql) see the
        temporary tables and views (CREATE TEMP TABLE / VIEW) its earlier scripts made, which
        no other client or session sees. It ends with close() (or the with block, or when
        the object is collected), or when its TTL passes without renewal (this client's
        heartbeat renews it). docs/server.md, "SQL sessions"."""
        req = _pbnew(pb.CreateHandleRequest, sql_session=True, ttl_seconds=int(ttl) if ttl else 0)
        info = self._call(self._create_handle_rpc, req, retry=False)
        h = Handle(self, info)
        with self._lock:
            self._handles[h.id] = weakref.ref(h)
        self._start_heartbeat(info.ttl_seconds)
        return SqlSession(self, h)

    def from_arrow(self, data: Any) -> DataFrame:
        """Uploads a pyarrow Table / RecordBatch / RecordBatchReader (or anything with
        ``__arrow_c_stream__``, such as a Polars DataFrame) as part of the plan."""
        if not isinstance(data, (pa.Table, pa.RecordBatch, pa.RecordBatchReader)):
            if hasattr(data, "__arrow_c_stream__"):
                data = pa.table(data)
            else:
                raise TypeError(f"from_arrow: expected a pyarrow Table, got {type(data).__name__}")
        return self._df(_pbnew(pb.Relation, arrow=pb.ArrowData(ipc_stream=_ipc.table_to_ipc(data))))

    def from_pandas(self, df: Any, *, preserve_index: bool = False) -> DataFrame:
        return self.from_arrow(pa.Table.from_pandas(df, preserve_index=preserve_index))

    def from_polars(self, df: Any) -> DataFrame:
        return self.from_arrow(df.to_arrow())

    def table(self, name: str) -> DataFrame:
        """A live table by name (see create_table / append)."""
        return self._df(_pbnew(pb.Relation, table=pb.TableRef(name=name)))

    def handle(self, handle_id: str) -> DataFrame:
        """A DataFrame over an existing handle id (not renewed by this client)."""
        return self._df(_pbnew(pb.Relation, handle=pb.HandleRef(id=handle_id)))

    # ------------------------------------------------------------ Execute
    def _shared_memory_ok(self) -> bool:
        if self.shared_memory is not None:
            return self.shared_memory
        if self._shm_ok is None:
            try:
                info = self.server_info(timeout=min(10.0, self.timeout or 10.0))
                self._shm_ok = "shared_memory" in info.capabilities and info.same_host
            except PolaroidError:
                return False  # ask again next time
        return self._shm_ok

    def execute(self, plan: Union[pb.Plan, DataFrame], *, max_message_bytes: int = 0,
                timeout: Optional[float] = None, shared_memory: Optional[bool] = None,
                keep_dictionaries: Optional[bool] = None,
                request_id: Optional[str] = None, session_id: str = "") -> "ResultStream":
        """Starts a query; iterate the returned ResultStream for RecordBatches. Streaming
        (iter_batches, to_reader) asks for messages, collect() also accepts a same-host file.
        request_id (letters, digits, ``._-:/+=``, at most 63) names the query in the server's
        logs and errors; a random one by default."""
        if isinstance(plan, DataFrame):
            plan = plan.plan
        t = timeout if timeout is not None else self.timeout
        if shared_memory is None:
            shared_memory = self._shared_memory_ok()
        req = execute_request(plan, max_message_bytes=max_message_bytes or self.max_message_bytes,
                              timeout=t, shared_memory=shared_memory,
                              shared_memory_min_bytes=self.shared_memory_min_bytes,
                              keep_dictionaries=self.keep_dictionaries if keep_dictionaries is None
                              else keep_dictionaries, request_id=request_id,
                              session_id=session_id)
        if self._closed:
            raise PolaroidError("the client is closed")
        return ResultStream(self, req, t)

    def collect(self, df: DataFrame, *, timeout: Optional[float] = None,
                keep_dictionaries: Optional[bool] = None) -> pa.Table:
        return self._df_collect(df, timeout=timeout, keep_dictionaries=keep_dictionaries)

    def _df_collect(self, df: DataFrame, *, timeout: Optional[float] = None,
                    keep_dictionaries: Optional[bool] = None) -> pa.Table:
        with self.execute(df.plan, timeout=timeout, keep_dictionaries=keep_dictionaries) as rs:
            return rs.read_all()

    def _df_iter_batches(self, df: DataFrame, *, max_message_bytes: int = 0,
                         timeout: Optional[float] = None,
                         keep_dictionaries: Optional[bool] = None) -> Iterator[pa.RecordBatch]:
        rs = self.execute(df.plan, max_message_bytes=max_message_bytes, timeout=timeout,
                          shared_memory=False, keep_dictionaries=keep_dictionaries)
        return rs.batches()

    def _df_reader(self, df: DataFrame, *, timeout: Optional[float] = None) -> pa.RecordBatchReader:
        rs = self.execute(df.plan, timeout=timeout, shared_memory=False)
        schema = rs.read_schema()
        return pa.RecordBatchReader.from_batches(schema, rs.batches())

    def _df_count(self, df: DataFrame, *, timeout: Optional[float] = None) -> int:
        with self.execute(count_plan(df.relation), timeout=timeout, shared_memory=False) as rs:
            return count_of(rs.read_all())

    def _df_schema(self, df: DataFrame) -> pa.Schema:
        return schema_of(self._call(self._schema_rpc, _pbnew(pb.PlanRequest, plan=df.plan)))

    def _df_explain(self, df: DataFrame, *, optimized: bool = True, analyze: bool = False) -> str:
        r = self._call(self._explain_rpc, _pbnew(pb.ExplainRequest, plan=df.plan, optimized=optimized,
                                                             analyze=analyze))
        return r.text

    def _df_describe(self, df: DataFrame) -> pa.Table:
        r = self._call(self._describe_rpc, _pbnew(pb.PlanRequest, plan=df.plan))
        return _ipc.read_ipc_stream(r.arrow_ipc)

    def _df_write(self, df: DataFrame, path: str, fmt: str, *, compression: Optional[str] = None,
                  row_group_size: Optional[int] = None, overwrite: bool = True) -> WriteResult:
        req = write_request(df.plan, path, fmt, compression=compression,
                            row_group_size=row_group_size, overwrite=overwrite)
        r = self._call(self._write_rpc, req, retry=False)
        return WriteResult(rows=r.rows, bytes=r.bytes, path=r.path)

    def _df_preview(self, df: DataFrame, n: int = 5) -> str:
        t = self._df_collect(df.head(n + 1))
        if t.num_rows <= n:
            rows = t.num_rows
        else:
            rows = self._df_count(df)
        return format_preview(t.slice(0, n), rows)

    # ------------------------------------------------------------ handles
    def _df_persist(self, df: DataFrame, *, materialize: bool = True,
                    ttl: Optional[float] = None) -> DataFrame:
        req = _pbnew(pb.CreateHandleRequest, plan=df.plan, materialize=materialize,
                                     ttl_seconds=int(ttl) if ttl else 0)
        info = self._call(self._create_handle_rpc, req, retry=False)
        h = Handle(self, info)
        with self._lock:
            self._handles[h.id] = weakref.ref(h)
        self._start_heartbeat(info.ttl_seconds)
        return DataFrame(_pbnew(pb.Relation, handle=pb.HandleRef(id=h.id)), self, (h,))

    def handles(self) -> List[Handle]:
        """The live handles of this client."""
        with self._lock:
            refs = list(self._handles.values())
        return [h for h in (r() for r in refs) if h is not None]

    @staticmethod
    def _release_handle_ref(client_ref: "weakref.ref[Client]", handle_id: str) -> None:
        c = client_ref()
        if c is None:
            return
        with c._lock:
            c._handles.pop(handle_id, None)
            if not c._closed:
                c._to_drop.append(handle_id)
        c._hb_wake.set()
        if c._hb_thread is None or not c._hb_thread.is_alive():
            c._flush_drops()

    def _flush_drops(self) -> None:
        with self._lock:
            ids, self._to_drop = self._to_drop, []
        if ids and not self._closed:
            try:
                self._drop_handle_rpc(pb.DropHandleRequest(handle_ids=ids), timeout=5.0,
                                      metadata=self._metadata)
            except grpc.RpcError:
                pass  # the server's TTL reclaims it

    def heartbeat(self) -> Tuple[List[str], List[str]]:
        """Renews this client's handles now: (alive ids, unknown ids)."""
        with self._lock:
            ids = list(self._handles)
        if not ids:
            return [], []
        r = self._call(self._heartbeat_rpc, pb.HeartbeatRequest(handle_ids=ids), timeout=10.0)
        with self._lock:
            for hid in r.unknown:
                ref = self._handles.get(hid)
                h = ref() if ref is not None else None
                if h is not None:
                    h.expired = True
        return list(r.alive), list(r.unknown)

    def _start_heartbeat(self, ttl_seconds: int) -> None:
        with self._lock:
            if self._closed or (self._hb_thread is not None and self._hb_thread.is_alive()):
                return
            interval = self._heartbeat_interval
            if interval is None:
                interval = max(0.5, min(30.0, (ttl_seconds or 300) / 3.0))
            self._hb_wake.clear()
            t = threading.Thread(target=_heartbeat_loop,
                                 args=(weakref.ref(self), interval, self._hb_wake),
                                 name="polaroid-heartbeat", daemon=True)
            self._hb_thread = t
            t.start()

    def _stop_heartbeat(self) -> None:
        t = self._hb_thread
        self._hb_thread = None
        if t is not None:
            self._hb_wake.set()
            if t is not threading.current_thread():
                t.join(timeout=5.0)

    # ------------------------------------------------------------ live tables
    def create_table(self, name: str, schema: Any = None, *, data: Any = None,
                     if_not_exists: bool = False, replace: bool = False) -> TableInfo:
        """A live table. ``schema``: a pyarrow Schema, or a dict {column: SQL type}; or
        ``data``: a DataFrame, pyarrow Table or pandas DataFrame whose rows start the table."""
        data_plan = None
        if schema is None and data is not None:
            if not isinstance(data, DataFrame):
                data = self.from_arrow(to_arrow(data))
            data_plan = data.plan
        req = create_table_request(name, schema, data_plan=data_plan, if_not_exists=if_not_exists,
                                   replace=replace)
        info = self._call(self._create_table_rpc, req, retry=False)
        t = table_info(info)
        self._table_schemas[name] = t.schema
        return t

    def drop_table(self, name: str, *, if_exists: bool = False) -> bool:
        self._table_schemas.pop(name, None)
        return self._call(self._drop_table_rpc, pb.DropTableRequest(name=name, if_exists=if_exists),
                          retry=False).dropped

    def list_tables(self) -> List[TableInfo]:
        r = self._call(self._list_tables_rpc, pb.ListTablesRequest())
        return [table_info(t) for t in r.tables]

    def _table_schema(self, name: str) -> pa.Schema:
        s = self._table_schemas.get(name)
        if s is None:
            s = self._df_schema(self.table(name))
            self._table_schemas[name] = s
        return s

    def append(self, table: str, data: Any, *, chunk_bytes: int = 4 << 20,
               timeout: Optional[float] = None) -> AppendResult:
        """Appends rows to a live table: a pyarrow Table/RecordBatch, a pandas DataFrame, a
        list of dicts (rows) or a dict of columns. Returns once the server acknowledged every
        chunk (the rows are then visible to new queries)."""
        if isinstance(data, (list, tuple)) or (isinstance(data, dict) and data and
                                               not isinstance(next(iter(data.values())), (list, tuple))):
            rows = [data] if isinstance(data, dict) else list(data)
            if not rows:
                return AppendResult(0, -1)
            t = rows_to_arrow(rows, self._table_schema(table))
        else:
            t = to_arrow(data)
            if isinstance(t, pa.Table):
                want = self._table_schemas.get(table)
                if want is not None and t.schema != want and t.schema.names == want.names:
                    try:
                        t = t.cast(want)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        pass  # let the server explain
        reqs = list(append_requests(table, t, chunk_bytes))
        if self._closed:
            raise PolaroidError("the client is closed")
        rows = 0
        last = -1
        try:
            acks = self._append_rpc(iter(reqs), timeout=timeout if timeout is not None else self.timeout,
                                    metadata=self._metadata)
            n = 0
            for ack in acks:
                rows += ack.rows
                last = ack.table_rows
                n += 1
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        if n != len(reqs):
            raise PolaroidError(f"append: {n} acknowledgements for {len(reqs)} requests")
        return AppendResult(rows, last)


def _close_at_exit(client_ref: "weakref.ref[Client]") -> None:
    c = client_ref()
    if c is not None:
        try:
            c.close(timeout=0.5)
        except Exception:
            pass


def _heartbeat_loop(client_ref: "weakref.ref[Client]", interval: float, wake: threading.Event) -> None:
    import time

    next_beat = time.monotonic() + interval
    while True:
        timeout = max(0.0, next_beat - time.monotonic())
        wake.wait(timeout)
        wake.clear()
        c = client_ref()
        if c is None or c._closed or c._hb_thread is not threading.current_thread():
            return
        try:
            c._flush_drops()
            if time.monotonic() >= next_beat:
                next_beat = time.monotonic() + interval
                try:
                    c.heartbeat()
                except PolaroidError:
                    pass  # the server is down or restarting: try again next time
        finally:
            del c


class ResultStream:
    """One running Execute call: iterate for RecordBatches, or read_all() for a Table. Closing
    it (or leaving the ``with`` block) before the end cancels the query."""

    def __init__(self, client: Client, req: pb.ExecuteRequest, timeout: Optional[float]) -> None:
        self._client = client
        self._req = req
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._attempt = 1
        self._answered = False  # a response arrived: the call can no longer be retried
        self._call = client._execute(req, timeout=timeout, metadata=client._metadata)
        self._decoder = _ipc.StreamDecoder()
        self._queue: "collections.deque[pa.RecordBatch]" = collections.deque()
        self.summary: Optional[pb.ExecuteSummary] = None
        self._done = False
        self._shm_table: Optional[pa.Table] = None

    @property
    def schema(self) -> Optional[pa.Schema]:
        return self._decoder.schema

    def _pump(self) -> bool:
        """Reads one response; False at the end of the stream."""
        if self._done:
            return False
        try:
            kind, val = next(self._call)
        except StopIteration:
            self._done = True
            self._decoder.close()
            if self._decoder.schema is None and self._shm_table is None:
                raise PolaroidError("the server ended the result stream without a schema")
            return False
        except grpc.RpcError as e:
            c = self._client
            if not self._answered and c._retry_after(e, self._attempt, self._deadline):
                self._attempt += 1
                left = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
                self._call = c._execute(self._req, timeout=left, metadata=c._metadata)
                return True
            self._done = True
            raise from_rpc_error(e) from None
        self._answered = True
        if kind == _ipc.ARROW_IPC:
            self._queue.extend(self._decoder.feed(val))
        elif kind == _ipc.SUMMARY:
            self.summary = val
        elif kind == _ipc.SHARED_MEMORY:
            t = _open_shared_memory(self._client, val)
            self._shm_table = t
            self._decoder.schema = t.schema
            self._queue.extend(t.to_batches())
        return True

    def read_schema(self) -> pa.Schema:
        while self._decoder.schema is None:
            if not self._pump():
                break
        if self._decoder.schema is None:
            raise PolaroidError("the server ended the result stream without a schema")
        return self._decoder.schema

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.batches()

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            while True:
                while self._queue:
                    yield self._queue.popleft()
                if not self._pump():
                    break
        finally:
            self.close()

    def read_all(self) -> pa.Table:
        batches: List[pa.RecordBatch] = []
        try:
            while self._pump():
                if self._queue:
                    batches.extend(self._queue)
                    self._queue.clear()
        finally:
            self.close()
        batches.extend(self._queue)
        self._queue.clear()
        if self._shm_table is not None:
            return self._shm_table
        t = pa.Table.from_batches(batches, schema=self._decoder.schema)
        if self.summary is not None and self.summary.rows != t.num_rows:
            raise PolaroidError(f"the server reported {self.summary.rows} rows but sent {t.num_rows}")
        return t

    def close(self) -> None:
        """Cancels the call if it has not finished."""
        if not self._done:
            self._done = True
            self._call.cancel()

    cancel = close

    def __enter__(self) -> "ResultStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._done:
                self._call.cancel()
        except Exception:
            pass


def _open_shared_memory(client: Client, res: pb.SharedMemoryResult) -> pa.Table:
    """Maps a same-host result file into pyarrow without a copy, then releases it on the server
    with this process's id: the server keeps the files until the table is gone (the mappings'
    last buffer says so, ReleaseSharedMemory(unmapped), sent without waiting) or this process
    exits, then writes later results over their pages."""
    lease_id = res.lease_id
    ref = weakref.ref(client)

    def unmapped() -> None:  # any thread (the one that dropped the table's last buffer)
        c = ref()
        if c is None or c._closed:
            return  # the server sees this process exit, or the lease expires
        try:
            c._release_shm_rpc.future(pb.ReleaseSharedMemoryRequest(lease_id=lease_id, unmapped=True),
                                      timeout=5.0, metadata=c._metadata)
        except Exception:
            pass

    table = map_shared_memory(res, on_unmapped=unmapped)
    if not client._closed:
        try:
            client._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=lease_id, client_pid=os.getpid()),
                                    timeout=5.0, metadata=client._metadata)
        except grpc.RpcError:
            pass  # the lease expires on the server
    return table


def _opts(df: DataFrame, columns: Optional[Sequence[str]], n_rows: Optional[int]) -> DataFrame:
    if columns is not None:
        df = df.select(*columns)
    if n_rows is not None:
        df = df.head(n_rows)
    return df


# ---------------------------------------------------------------- the default connection

_default: Optional[Client] = None
_default_lock = threading.Lock()


def connect(target: str = DEFAULT_TARGET, **kwargs: Any) -> Client:
    """Connects to a polaroid server and makes it the default connection of ``polaroid.*``
    (``pd.read_parquet``, ``pd.sql``...). Options: see :class:`Client`."""
    global _default
    c = Client(target, **kwargs)
    with _default_lock:
        _default = c
    return c


def set_default(client: Optional[Client]) -> None:
    global _default
    with _default_lock:
        _default = client


def get_default() -> Client:
    """The default connection; made on first use (localhost:50051) when connect() was not
    called."""
    global _default
    with _default_lock:
        if _default is None or _default._closed:
            _default = Client(os.environ.get("POLAROID_SERVER", DEFAULT_TARGET))
        return _default
