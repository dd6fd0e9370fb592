"""The asyncio client of ``polaroid serve``: errors as values, bounded concurrency, streaming,
buffered appends, resilience and graceful shutdown, on ``grpc.aio``.

    from polaroid.async_client import AsyncPolaroidClient
    from polaroid.result import Ok, Err

    async with AsyncPolaroidClient("localhost:50051", max_concurrent=50) as client:
        r = await client.read_parquet("ticks/AAPL.parquet")        # Result[DataFrame, PolaroidError]
        out = (r.map(lambda df: df.select(["ts", "price"]))
                .and_then(lambda df: client.filter(df, "price > 100"))
                .map_err(lambda e: log.warning("read failed: %s", e)))
        table = await client.collect(out)                          # Result[pyarrow.Table, ...]
        tables = await client.batch_collect(frames)                # [Result, ...] in order
        async for batch in client.stream_collect(df): ...          # RecordBatches as they arrive
        await client.append_record({"ts": ..., "price": 1.0}, table="ticks")
        await client.flush()                                       # all appends acknowledged

Every I/O method returns a :class:`~polaroid.result.Result`: ``Ok(value)``, or ``Err(e)`` with ``e``
a :class:`polaroid.PolaroidError` subclass chosen by the gRPC status (``NotFoundError``,
``InvalidArgumentError``, ``UnavailableError``...; :class:`CircuitOpenError` while the breaker is
open). Server-side errors never raise. The exceptions that do raise are programming errors and
``asyncio.CancelledError`` when the caller's own task is cancelled. ``stream_collect`` is an
iterator of batches and raises the PolaroidError instead (``stream_results`` yields Results).

Plans are built by the same lazy :class:`polaroid.DataFrame` as the sync client (``frame.py``)
and results decoded by the same Arrow IPC decoder (``_ipc.py``); a DataFrame made by a sync
``polaroid.Client`` is accepted too (only its plan is used).
"""

from __future__ import annotations

import asyncio
import os
import signal
import weakref
from typing import (Any, AsyncIterator, Callable, Dict, Iterable, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import grpc
import grpc.aio
import pyarrow as pa

from . import _ipc, _requests
from ._proto import health_pb2, polaroid_pb2 as pb
from ._pb import new as _pbnew
from ._requests import (AppendResult, TableInfo, WriteResult, count_of, count_plan, create_table_request, table_info,
                        csv_options, execute_request, map_shared_memory, new_request_id, schema_of,
                        SHARED_MEMORY_MAX_FILES,
                        to_arrow, write_request)
from ._resilience import BreakerState, CircuitBreaker, CircuitOpenError, RetryPolicy
from .errors import (CancelledError, InvalidArgumentError, PolaroidError, UnavailableError,
                     from_rpc_error)
from .frame import DataFrame, read_files_relation, sql_relation
from .result import Err, Ok, Result

__all__ = ["AsyncPolaroidClient", "AsyncHandle", "RetryPolicy", "CircuitBreaker", "CircuitOpenError",
           "BreakerState", "ClientStats", "connect_async"]

DEFAULT_TARGET = "localhost:50051"
_P = _requests.SERVICE
_CANCELLED = grpc.StatusCode.CANCELLED
_UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
_EOF = grpc.aio.EOF


def _invalid(msg: str) -> InvalidArgumentError:
    return InvalidArgumentError(msg, code=grpc.StatusCode.INVALID_ARGUMENT)


def _closed_error(target: str) -> UnavailableError:
    return UnavailableError(f"the client of {target} is closed (or shutting down)",
                            code=grpc.StatusCode.UNAVAILABLE)


class ClientStats:
    """Counters of one client (client side): calls started, failed, retried; in-flight RPCs now
    and at most; rows appended and acknowledged."""

    __slots__ = ("calls", "errors", "retries", "in_flight", "peak_in_flight", "fast_failures",
                 "appended_rows", "acked_rows", "append_requests", "append_reconnects")

    def __init__(self) -> None:
        for k in self.__slots__:
            setattr(self, k, 0)

    def as_dict(self) -> Dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        return f"<ClientStats {self.as_dict()}>"


class AsyncHandle:
    """A DataFrame stored on the server (``await client.cache(df)``), renewed by the client's
    heartbeat task while a DataFrame reading it is alive; dropped when the last one is collected
    (or by ``await client.drop_handle(h)``, or at close)."""

    def __init__(self, client: "AsyncPolaroidClient", info: pb.HandleInfo) -> None:
        self.id: str = info.id
        self.num_rows: Optional[int] = info.num_rows if info.num_rows >= 0 else None
        self.ttl_seconds: int = info.ttl_seconds
        self.schema: pa.Schema = schema_of(info.schema)
        self.expired = False
        self._finalizer = weakref.finalize(self, AsyncPolaroidClient._handle_gone, weakref.ref(client), self.id)
        self._finalizer.atexit = False

    def __repr__(self) -> str:
        return f"<polaroid.AsyncHandle {self.id} rows={self.num_rows}{' expired' if self.expired else ''}>"


class AsyncSqlSession:
    """A SQL session on the server (``await client.sql_session()``): like one connection of
    PostgreSQL or DuckDB, its temporary tables and views (CREATE TEMP TABLE / VIEW) are its own
    and end with it; the shared tables and views are the server's, as for
    ``client.execute_sql``. The client's heartbeat task renews it while it is open; it ends
    with ``await close()`` (or the ``async with`` block), when the object is collected, or
    when its TTL passes without renewal. docs/server.md, "SQL sessions"."""

    def __init__(self, client: "AsyncPolaroidClient", handle: AsyncHandle) -> None:
        self.client = client
        self._handle = handle
        self.id: str = handle.id
        self._closed = False

    @property
    def alive(self) -> bool:
        return not self._closed and not self._handle.expired

    async def execute_sql(self, script: str, *, timeout: Optional[float] = None,
                          **frames: Any) -> Result[pa.Table, PolaroidError]:
        """``client.execute_sql`` in this session: Ok(pyarrow.Table), or Err (also when the
        session is closed or expired)."""
        if self._closed:
            return Err(_invalid("the SQL session is closed"))
        return await self.client._execute_sql(script, timeout, self.id, frames)

    async def close(self) -> Result[int, PolaroidError]:
        """Ends the session now: its temporary tables and views are gone. Ok(1) when the
        server dropped it, Ok(0) when it had ended already."""
        if self._closed:
            return Ok(0)
        self._closed = True
        return await self.client.drop_handle(self._handle)

    async def __aenter__(self) -> "AsyncSqlSession":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<polaroid.AsyncSqlSession {self.id} {'open' if self.alive else 'closed'}>"


def _plan_of(x: Any) -> Union[pb.Plan, Err]:
    """The Plan of a DataFrame (also a Result of one, a Relation or a Plan)."""
    if isinstance(x, Ok):
        x = x.value
    elif isinstance(x, Err):
        return x
    if isinstance(x, DataFrame):
        return x.plan
    if isinstance(x, pb.Plan):
        return x
    if isinstance(x, pb.Relation):
        return _pbnew(pb.Plan, root=x)
    plan = getattr(x, "plan", None)  # another DataFrame-like object exposing its plan
    if isinstance(plan, pb.Plan):
        return plan
    return Err(_invalid(f"expected a polaroid DataFrame (or its plan), got {type(x).__name__}"))


class AsyncPolaroidClient:
    """An asyncio connection to a polaroid server.

    Arguments:
      target: "host:port" or "unix:/path".
      max_concurrent: RPCs in flight at most (an asyncio.Semaphore); more wait their turn.
      token: bearer token (default $POLAROID_TOKEN).
      tls: use TLS; ``root_certificates`` (PEM bytes or file path), ``server_name`` override.
      timeout: default deadline of each call in seconds (None: none).
      retry: a :class:`RetryPolicy` for UNAVAILABLE (reconnect with exponential backoff and
        jitter); ``False`` = no retries.
      breaker: a :class:`CircuitBreaker`, a dict of its arguments, or ``False`` for none.
      heartbeat_interval: seconds between renewals of this client's handles (default a third
        of their TTL).
      max_message_bytes: largest Execute response message to ask for (0 = server default).
      shared_memory: same-host fast path for ``collect``: results larger than
        ``shared_memory_min_bytes`` come back as an Arrow IPC file under /dev/shm that the client
        maps without a copy (None = when the server offers it and the connection is local).
      append_batch_records / append_flush_interval: an append buffer is sent when it holds this
        many records, or this many seconds after its first record.
      append_max_pending: records buffered or sent-but-unacknowledged per table at most;
        ``append_record`` waits (backpressure) while the table is at the limit.
      shutdown_timeout: how long ``close()`` lets in-flight calls and appends finish.
      options: extra gRPC channel options.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        max_concurrent: int = 50,
        *,
        token: Optional[str] = None,
        tls: bool = False,
        root_certificates: Union[bytes, str, None] = None,
        server_name: Optional[str] = None,
        timeout: Optional[float] = None,
        retry: Union[RetryPolicy, bool, None] = None,
        breaker: Union[CircuitBreaker, Mapping[str, Any], bool, None] = None,
        heartbeat_interval: Optional[float] = None,
        max_message_bytes: int = 0,
        keep_dictionaries: bool = False,
        shared_memory: Optional[bool] = None,
        shared_memory_min_bytes: int = 8 << 20,
        append_batch_records: int = 8192,
        append_flush_interval: float = 0.05,
        append_max_pending: int = 262144,
        shutdown_timeout: float = 5.0,
        options: Optional[Sequence[Tuple[str, Any]]] = None,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be >= 1")
        self.target = target
        self.max_concurrent = int(max_concurrent)
        self.timeout = timeout
        self.max_message_bytes = int(max_message_bytes)
        self.keep_dictionaries = bool(keep_dictionaries)
        self.shared_memory = shared_memory
        self.shared_memory_min_bytes = int(shared_memory_min_bytes)
        self._shm_ok: Optional[bool] = None if shared_memory is None else bool(shared_memory)
        self._shm_probe: Optional[asyncio.Future] = None
        self._unmap_tasks: set = set()  # ReleaseSharedMemory(unmapped) calls in flight
        self.heartbeat_interval = heartbeat_interval
        self.append_batch_records = max(1, int(append_batch_records))
        self.append_flush_interval = float(append_flush_interval)
        self.append_max_pending = max(self.append_batch_records, int(append_max_pending))
        self.shutdown_timeout = float(shutdown_timeout)
        if token is None:
            token = os.environ.get("POLAROID_TOKEN") or None
        self._metadata: Tuple[Tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ())
        if retry is None or retry is True:
            self.retry = RetryPolicy()
        elif retry is False:
            self.retry = RetryPolicy(max_attempts=1)
        else:
            self.retry = retry
        if breaker is None or breaker is True:
            self.breaker: Optional[CircuitBreaker] = CircuitBreaker()
        elif breaker is False:
            self.breaker = None
        elif isinstance(breaker, CircuitBreaker):
            self.breaker = breaker
        else:
            self.breaker = CircuitBreaker(**dict(breaker))
        self._tls = tls or root_certificates is not None
        self._root_certificates = root_certificates
        opts: List[Tuple[str, Any]] = [
            ("grpc.max_receive_message_length", -1),
            ("grpc.max_send_message_length", -1),
            ("grpc.initial_reconnect_backoff_ms", 100),
            ("grpc.min_reconnect_backoff_ms", 100),
            ("grpc.max_reconnect_backoff_ms", 1000),
            ("grpc.keepalive_time_ms", 30000),
            ("grpc.enable_retries", 0),  # retries are ours (backoff + jitter + breaker)
        ]
        if server_name:
            opts.append(("grpc.ssl_target_name_override", server_name))
        if options:
            opts.extend(options)
        self._channel_options = opts
        self._channel: Optional[grpc.aio.Channel] = None
        self._sem = asyncio.Semaphore(self.max_concurrent)
        self.stats = ClientStats()
        self._idle = asyncio.Event()
        self._idle.set()
        self._calls: set = set()  # active grpc.aio calls (cancelled at the shutdown deadline)
        self._cancelled_by_us: "weakref.WeakSet[Any]" = weakref.WeakSet()
        self._closing = False
        self._closed = False
        self._shutdown_event = asyncio.Event()  # set it to start a graceful shutdown
        self._watcher: Optional[asyncio.Task] = None
        self._sleepers: set = set()
        # handles
        self._handles: Dict[str, "weakref.ref[AsyncHandle]"] = {}
        self._to_drop: List[str] = []
        self._hb_task: Optional[asyncio.Task] = None
        self._hb_wake: Optional[asyncio.Event] = None
        # appends
        self._appenders: Dict[str, "_Appender"] = {}
        self._table_schemas: Dict[str, pa.Schema] = {}

    # ------------------------------------------------------------------ channel
    def _open_channel(self) -> grpc.aio.Channel:
        if self._tls:
            roots = self._root_certificates
            if isinstance(roots, str):
                with open(roots, "rb") as f:
                    roots = f.read()
            creds = grpc.ssl_channel_credentials(root_certificates=roots)
            ch = grpc.aio.secure_channel(self.target, creds, options=self._channel_options)
        else:
            ch = grpc.aio.insecure_channel(self.target, options=self._channel_options)
        self._execute_rpc = ch.unary_stream(_P + "Execute", request_serializer=pb.ExecuteRequest.SerializeToString,
                                            response_deserializer=_ipc.parse_execute_response)

        _requests.bind_rpcs(self, ch)
        self._health_rpc = ch.unary_unary("/grpc.health.v1.Health/Check",
                                          request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                          response_deserializer=health_pb2.HealthCheckResponse.FromString)
        self._channel = ch
        return ch

    def _ensure(self) -> None:
        if self._channel is None:
            self._open_channel()
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch_shutdown())

    async def _watch_shutdown(self) -> None:
        await self._shutdown_event.wait()
        await self.close()

    @property
    def channel(self) -> Optional[grpc.aio.Channel]:
        return self._channel

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def breaker_state(self) -> str:
        return self.breaker.state if self.breaker is not None else BreakerState.CLOSED

    async def __aenter__(self) -> "AsyncPolaroidClient":
        self._ensure()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("closing" if self._closing else self.breaker_state)
        return f"<polaroid.AsyncPolaroidClient {self.target} {state} in_flight={self.stats.in_flight}>"

    def install_signal_handlers(self, signals: Iterable[int] = (signal.SIGINT, signal.SIGTERM)) -> None:
        """Makes SIGINT/SIGTERM start a graceful shutdown (sets ``_shutdown_event``)."""
        loop = asyncio.get_running_loop()
        for s in signals:
            loop.add_signal_handler(s, self._shutdown_event.set)

    @property
    def shutdown_event(self) -> asyncio.Event:
        return self._shutdown_event

    # ------------------------------------------------------------------ the call core
    def _admit(self) -> Optional[Err]:
        """None when a call may start, else the Err to return (closing, breaker open)."""
        if self._closing:
            return Err(_closed_error(self.target))
        b = self.breaker
        if b is not None and not b.allow():
            self.stats.fast_failures += 1
            return Err(b.open_error(self.target))
        return None

    async def _acquire(self) -> None:
        await self._sem.acquire()
        st = self.stats
        st.in_flight += 1
        st.calls += 1
        if st.in_flight > st.peak_in_flight:
            st.peak_in_flight = st.in_flight
        self._idle.clear()

    def _release(self) -> None:
        st = self.stats
        st.in_flight -= 1
        self._sem.release()
        if st.in_flight == 0:
            self._idle.set()

    async def _backoff(self, attempt: int) -> bool:
        """Sleeps before retry ``attempt``; False when the client started closing meanwhile."""
        self.stats.retries += 1
        delay = self.retry.backoff(attempt)
        if self.breaker is not None and self.breaker.state == BreakerState.OPEN:
            return False
        t = asyncio.ensure_future(asyncio.sleep(delay))
        self._sleepers.add(t)
        try:
            await t
        except asyncio.CancelledError:
            if self._closing:
                return False
            raise
        finally:
            self._sleepers.discard(t)
        return not self._closing

    def _rpc_error(self, e: grpc.aio.AioRpcError) -> PolaroidError:
        self.stats.errors += 1
        if self.breaker is not None:
            self.breaker.record(e.code())
        return from_rpc_error(e)

    async def _unary(self, rpc_name: str, req: Any, timeout: Optional[float] = None,
                     idempotent: bool = True) -> Result[Any, PolaroidError]:
        """One unary call through the semaphore, the breaker and the retry policy."""
        attempt = 0
        while True:
            attempt += 1
            bad = self._admit()
            if bad is not None:
                return bad
            self._ensure()
            await self._acquire()
            err: Optional[PolaroidError] = None
            code = None
            try:
                if self._closing:
                    if self.breaker is not None:
                        self.breaker.release()
                    return Err(_closed_error(self.target))
                call = getattr(self, rpc_name)(req, timeout=timeout if timeout is not None else self.timeout,
                                               metadata=self._metadata)
                self._calls.add(call)
                try:
                    resp = await call
                finally:
                    self._calls.discard(call)
                if self.breaker is not None:
                    self.breaker.record_success()
                return Ok(resp)
            except grpc.aio.AioRpcError as e:
                code = e.code()
                err = self._rpc_error(e)
            except asyncio.CancelledError:
                if self.breaker is not None:
                    self.breaker.release()
                if call in self._cancelled_by_us:
                    return Err(CancelledError("cancelled by the client's shutdown",
                                              code=_CANCELLED))
                raise
            finally:
                self._release()
            if not (idempotent and self.retry.should_retry(code, attempt)) or self._closing:
                return Err(err)
            if not await self._backoff(attempt):
                return Err(err)

    # ------------------------------------------------------------------ server
    async def server_info(self, timeout: Optional[float] = None) -> Result[pb.ServerInfoResponse, PolaroidError]:
        """Version, capabilities, limits, threads."""
        return await self._unary("_server_info_rpc", pb.ServerInfoRequest(), timeout)

    async def health(self, service: str = "", timeout: Optional[float] = 5.0) -> Result[str, PolaroidError]:
        """grpc.health.v1 Check: Ok("SERVING"), Ok("NOT_SERVING"), ... or Err when unreachable."""
        r = await self._unary("_health_rpc", health_pb2.HealthCheckRequest(service=service), timeout)
        return r.map(lambda resp: health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    async def wait_ready(self, timeout: float = 10.0) -> Result[None, PolaroidError]:
        """Waits until the channel connects and the server answers a health check (and, with
        ``shared_memory=None``, settles whether the same-host path is available)."""
        if self._closing:
            return Err(_closed_error(self.target))
        self._ensure()
        assert self._channel is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: Optional[PolaroidError] = None
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(self._channel.channel_ready(), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                break
            try:
                await self._health_rpc(health_pb2.HealthCheckRequest(), timeout=max(0.05, deadline - loop.time()),
                                       metadata=self._metadata)
                if self.breaker is not None and self.breaker.state != BreakerState.CLOSED:
                    self.breaker.reset()
                if self._shm_ok is None:
                    await self._shared_memory_ok()  # settle the same-host path now
                return Ok(None)
            except grpc.aio.AioRpcError as e:
                last = from_rpc_error(e)
                await asyncio.sleep(0.05)
        return Err(last or UnavailableError(f"could not connect to {self.target} within {timeout} s",
                                            code=_UNAVAILABLE))

    # ------------------------------------------------------------------ sources (Result[DataFrame])
    def _df(self, rel: pb.Relation, deps: Tuple[Any, ...] = ()) -> DataFrame:
        return DataFrame(rel, self, deps)

    async def _validated(self, build: Callable[[], DataFrame], validate: bool,
                         timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        try:
            df = build()
        except (ValueError, TypeError) as e:
            return Err(_invalid(str(e)))
        if not validate:
            return Ok(df)
        r = await self._unary("_schema_rpc", _pbnew(pb.PlanRequest, plan=df.plan), timeout)
        return r.map(lambda _resp: df)

    async def read_parquet(self, source: Any, *, columns: Optional[Sequence[str]] = None,
                           n_rows: Optional[int] = None, validate: bool = True,
                           timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        """A lazy DataFrame over Parquet files under the server's data root (a path, a glob or a
        list). With ``validate`` (default) the server checks now that the files exist and their
        footers parse (one Schema call), so a missing or corrupt file gives an Err here."""
        return await self._validated(
            lambda: _opts(self._df(read_files_relation(source, "parquet")), columns, n_rows), validate, timeout)

    async def read_csv(self, source: Any, *, has_header: bool = True, separator: str = ",",
                       quote_char: str = '"', null_values: Optional[Sequence[str]] = None,
                       columns: Optional[Sequence[str]] = None, n_rows: Optional[int] = None,
                       validate: bool = True, timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        """A lazy DataFrame over CSV files (see read_parquet)."""
        csv = csv_options(has_header, separator, quote_char, null_values)
        return await self._validated(
            lambda: _opts(self._df(read_files_relation(source, "csv", csv)), columns, n_rows), validate, timeout)

    async def read_ipc(self, source: Any, *, validate: bool = True,
                       timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        return await self._validated(lambda: self._df(read_files_relation(source, "ipc")), validate, timeout)

    async def scan(self, source: Any, format: Optional[str] = None, *, validate: bool = True,
                   timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        """Files of the format their extension says (or ``format``)."""
        return await self._validated(lambda: self._df(read_files_relation(source, format)), validate, timeout)

    async def sql(self, query: str, *, validate: bool = True, timeout: Optional[float] = None,
                  **frames: Any) -> Result[DataFrame, PolaroidError]:
        """A lazy DataFrame of a SQL query (keyword arguments name DataFrames it reads). With
        ``validate`` the server parses and plans it now (Schema call): a bad query is an Err here.
        To run a query at once, use ``await client.query(sql)``."""
        def build() -> DataFrame:
            fr = {k: (v.unwrap() if isinstance(v, Ok) else v) for k, v in frames.items()}
            deps: Tuple[Any, ...] = ()
            for f in fr.values():
                if isinstance(f, DataFrame):
                    deps += f._deps
            return self._df(sql_relation(query, fr), deps)

        for v in frames.values():
            if isinstance(v, Err):
                return v
        return await self._validated(build, validate, timeout)

    def table(self, name: str) -> DataFrame:
        """A live table as a lazy DataFrame (no call)."""
        return self._df(_pbnew(pb.Relation, table=pb.TableRef(name=name)))

    def frame_sql(self, query: str, **frames: DataFrame) -> DataFrame:
        """A lazy DataFrame of a SQL query, without a call (errors show at collect)."""
        return self._df(sql_relation(query, frames))

    def from_arrow(self, data: Any) -> DataFrame:
        """Uploads a pyarrow Table with the plan (no call until collected)."""
        t = to_arrow(data)
        return self._df(_pbnew(pb.Relation, arrow=pb.ArrowData(ipc_stream=_ipc.table_to_ipc(t))))

    async def batch_read(self, paths: Iterable[Any], *, format: Optional[str] = None,
                         validate: bool = True, materialize: bool = False,
                         timeout: Optional[float] = None) -> List[Result[DataFrame, PolaroidError]]:
        """One Result per path, in order, run concurrently (the semaphore bounds them): a lazy
        DataFrame checked by the server (``validate``), or with ``materialize`` the file read
        into server memory behind a handle (every byte checked; renewed by the heartbeat)."""
        async def one(p: Any) -> Result[DataFrame, PolaroidError]:
            r = await self.scan(p, format, validate=validate and not materialize, timeout=timeout)
            if materialize and r.is_ok():
                return await self.cache(r.unwrap(), timeout=timeout)
            return r

        return list(await asyncio.gather(*(one(p) for p in paths)))

    # ------------------------------------------------------------------ lazy operations (Result at once)
    def _lazy(self, df: Any, op: str, *args: Any, **kwargs: Any) -> Result[DataFrame, PolaroidError]:
        if isinstance(df, Err):
            return df
        if isinstance(df, Ok):
            df = df.value
        if not isinstance(df, DataFrame):
            return Err(_invalid(f"{op}: expected a polaroid DataFrame, got {type(df).__name__}"))
        try:
            return Ok(getattr(df, op)(*args, **kwargs))
        except (ValueError, TypeError) as e:
            return Err(_invalid(f"{op}: {e}"))

    def filter(self, df: Any, *predicates: Any) -> Result[DataFrame, PolaroidError]:
        """Rows where the predicates hold (SQL text such as ``"col1 > 100"`` or Exprs)."""
        return self._lazy(df, "filter", *predicates)

    def select(self, df: Any, *exprs: Any, **named: Any) -> Result[DataFrame, PolaroidError]:
        """Columns or expressions (a list works too: ``client.select(df, ["a", "b"])``)."""
        return self._lazy(df, "select", *exprs, **named)

    def with_columns(self, df: Any, *exprs: Any, **named: Any) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "with_columns", *exprs, **named)

    def sort(self, df: Any, by: Any, *more: Any, **kw: Any) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "sort", by, *more, **kw)

    def head(self, df: Any, n: int = 5) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "head", n)

    limit = head

    def slice(self, df: Any, offset: int, length: Optional[int] = None) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "slice", offset, length)

    def rename(self, df: Any, mapping: Dict[str, str]) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "rename", mapping)

    def drop(self, df: Any, *columns: Any) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "drop", *columns)

    def unique(self, df: Any, subset: Any = None, **kw: Any) -> Result[DataFrame, PolaroidError]:
        return self._lazy(df, "unique", subset, **kw)

    def group_by(self, df: Any, keys: Any, *aggs: Any, **named: Any) -> Result[DataFrame, PolaroidError]:
        """``client.group_by(df, "sym", pd.col("px").mean())``: keys then aggregates."""
        def run(d: DataFrame) -> DataFrame:
            k = keys if isinstance(keys, (list, tuple)) else [keys]
            return d.group_by(*k).agg(*aggs, **named)

        return self._apply(df, run, "group_by")

    def join(self, df: Any, other: Any, on: Any = None, how: str = "inner", **kw: Any) -> Result[DataFrame, PolaroidError]:
        if isinstance(other, Err):
            return other
        if isinstance(other, Ok):
            other = other.value
        return self._lazy(df, "join", other, on, how, **kw)

    def union(self, df: Any, *others: Any, distinct: bool = False) -> Result[DataFrame, PolaroidError]:
        os_: List[Any] = []
        for o in others:
            if isinstance(o, Err):
                return o
            os_.append(o.value if isinstance(o, Ok) else o)
        return self._lazy(df, "union", *os_, distinct=distinct)

    def _apply(self, df: Any, f: Callable[[DataFrame], DataFrame], what: str) -> Result[DataFrame, PolaroidError]:
        if isinstance(df, Err):
            return df
        if isinstance(df, Ok):
            df = df.value
        if not isinstance(df, DataFrame):
            return Err(_invalid(f"{what}: expected a polaroid DataFrame, got {type(df).__name__}"))
        try:
            return Ok(f(df))
        except (ValueError, TypeError) as e:
            return Err(_invalid(f"{what}: {e}"))

    # ------------------------------------------------------------------ running plans
    def _execute_request(self, plan: pb.Plan, timeout: Optional[float], max_message_bytes: int = 0,
                         keep_dictionaries: Optional[bool] = None) -> pb.ExecuteRequest:
        return execute_request(plan, max_message_bytes=max_message_bytes or self.max_message_bytes,
                               timeout=None, keep_dictionaries=(self.keep_dictionaries if keep_dictionaries is None
                                                                else keep_dictionaries),
                               request_id=new_request_id())

    async def collect(self, df: Any, *, timeout: Optional[float] = None,
                      keep_dictionaries: Optional[bool] = None) -> Result[pa.Table, PolaroidError]:
        """Runs a DataFrame's plan (or an Ok of one; an Err passes through): Ok(pyarrow.Table)."""
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        req = self._execute_request(plan, timeout, keep_dictionaries=keep_dictionaries)
        if self._shm_ok:
            req.options.allow_shared_memory = True
            req.options.shared_memory_min_bytes = self.shared_memory_min_bytes
            req.options.shared_memory_max_files = SHARED_MEMORY_MAX_FILES
        elif self._shm_ok is None and self._shm_probe is None and not self._closing:
            # ask the server once, in the background; this call goes by messages
            self._shm_probe = asyncio.ensure_future(self._shared_memory_ok())
        return await self._execute_table(req, timeout)

    async def _shared_memory_ok(self) -> bool:
        """Whether the same-host path is on (asks ServerInfo once when it is automatic)."""
        if self._shm_ok is None:
            r = await self.server_info(timeout=10)
            if isinstance(r, Err):
                self._shm_probe = None  # ask again later
                return False
            self._shm_ok = "shared_memory" in r.value.capabilities and r.value.same_host
        return bool(self._shm_ok)

    async def query(self, sql: str, *, timeout: Optional[float] = None, **frames: Any) -> Result[pa.Table, PolaroidError]:
        """Runs a SQL query now: Ok(pyarrow.Table) (one call)."""
        try:
            fr = {k: (v.unwrap() if isinstance(v, Ok) else v) for k, v in frames.items()}
            rel = sql_relation(sql, fr)
        except (ValueError, TypeError) as e:
            return Err(_invalid(str(e)))
        return await self._execute_table(self._execute_request(_pbnew(pb.Plan, root=rel), timeout), timeout)

    async def execute_sql(self, script: str, *, timeout: Optional[float] = None,
                          **frames: Any) -> Result[pa.Table, PolaroidError]:
        """Runs a SQL script on the server now, statement by statement (one call): CREATE TABLE
        [AS], INSERT, UPDATE, DELETE, TRUNCATE, ALTER TABLE, CREATE [OR REPLACE] VIEW, DROP
        change the server's tables and views (seen by every client), queries read them.
        Ok(pyarrow.Table): the last statement's rows (a query, RETURNING), else a BIGINT column
        "Count" with the rows it changed (one row) or no row (CREATE, ALTER, DROP). Err: the
        first failing statement's error (``sql_position`` in the whole script, ``sql_line`` /
        ``sql_column``, the line and a caret in its message; the statements
        before it stay done), ABORTED when another client replaced its table meanwhile. Never
        retried: a script is not idempotent (docs/server.md, "SQL scripts")."""
        return await self._execute_sql(script, timeout, "", frames)

    async def _execute_sql(self, script: str, timeout: Optional[float], session_id: str,
                           frames: Dict[str, Any]) -> Result[pa.Table, PolaroidError]:
        for v in frames.values():
            if isinstance(v, Err):
                return v
        try:
            fr = {k: (v.unwrap() if isinstance(v, Ok) else v) for k, v in frames.items()}
            rel = sql_relation(script, fr)
        except (ValueError, TypeError) as e:
            return Err(_invalid(str(e)))
        req = self._execute_request(_pbnew(pb.Plan, root=rel), timeout)
        req.options.session_id = session_id
        res = await self._execute_table(req, timeout, retry=False)
        if isinstance(res, Err) and isinstance(res.error, PolaroidError):
            res.error.add_sql_context(script)
        return res

    async def _execute_table(self, req: pb.ExecuteRequest, timeout: Optional[float],
                             retry: bool = True) -> Result[pa.Table, PolaroidError]:
        attempt = 0
        t = timeout if timeout is not None else self.timeout
        while True:
            attempt += 1
            bad = self._admit()
            if bad is not None:
                return bad
            self._ensure()
            await self._acquire()
            code = None
            got_any = False
            call = None
            try:
                if self._closing:
                    if self.breaker is not None:
                        self.breaker.release()
                    return Err(_closed_error(self.target))
                call = self._execute_rpc(req, timeout=t, metadata=self._metadata)
                self._calls.add(call)
                dec = _ipc.StreamDecoder()
                batches: List[pa.RecordBatch] = []
                summary = None
                shm_table = None
                try:
                    while True:
                        msg = await call.read()
                        if msg is _EOF:
                            break
                        got_any = True
                        kind, val = msg
                        if kind == _ipc.ARROW_IPC:
                            batches.extend(dec.feed(val))
                        elif kind == _ipc.SUMMARY:
                            summary = val
                        elif kind == _ipc.SHARED_MEMORY:
                            shm_table = await self._open_shared_memory(val)
                finally:
                    self._calls.discard(call)
                if self.breaker is not None:
                    self.breaker.record_success()
                dec.close()
                if shm_table is not None:
                    table = shm_table
                elif dec.schema is None:
                    return Err(PolaroidError("the server ended the result stream without a schema"))
                else:
                    table = pa.Table.from_batches(batches, schema=dec.schema)
                if summary is not None and summary.rows != table.num_rows:
                    return Err(PolaroidError(f"the server reported {summary.rows} rows but sent {table.num_rows}"))
                return Ok(table)
            except grpc.aio.AioRpcError as e:
                code = e.code()
                err = self._rpc_error(e)
            except ValueError as e:
                if call is not None:
                    call.cancel()
                return Err(PolaroidError(f"undecodable result stream: {e}"))
            except asyncio.CancelledError:
                if self.breaker is not None:
                    self.breaker.release()
                if call is not None and call in self._cancelled_by_us:
                    return Err(CancelledError("cancelled by the client's shutdown", code=_CANCELLED))
                if call is not None:
                    call.cancel()
                raise
            finally:
                self._release()
            if got_any or not retry or not self.retry.should_retry(code, attempt) or self._closing:
                return Err(err)
            if not await self._backoff(attempt):
                return Err(err)

    async def _open_shared_memory(self, res: pb.SharedMemoryResult) -> pa.Table:
        """Maps a same-host result file without a copy, then releases it on the server with this
        process's id: the server keeps the files until the table is gone (the mappings' last
        buffer calls _unmapped_cb, which says so) or this process exits, then reuses their
        pages for this client's later results."""
        table = map_shared_memory(res, on_unmapped=self._unmapped_cb(res.lease_id))
        try:
            await self._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=res.lease_id,
                                                                      client_pid=os.getpid()),
                                        timeout=5.0, metadata=self._metadata)
        except grpc.aio.AioRpcError:
            pass  # the lease expires on the server
        return table

    def _unmapped_cb(self, lease_id: str) -> Callable[[], None]:
        loop = asyncio.get_running_loop()

        def unmapped() -> None:  # any thread (the one that dropped the table's last buffer)
            if self._closing or loop.is_closed():
                return  # the server sees this process exit, or the lease expires
            try:
                loop.call_soon_threadsafe(self._send_unmapped, lease_id)
            except RuntimeError:
                pass  # the loop closed meanwhile

        return unmapped

    def _send_unmapped(self, lease_id: str) -> None:
        if self._closing:
            return

        async def send() -> None:
            try:
                await self._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=lease_id, unmapped=True),
                                            timeout=5.0, metadata=self._metadata)
            except Exception:
                pass  # the server sees this process exit, or the lease expires

        t = asyncio.ensure_future(send())
        self._unmap_tasks.add(t)
        t.add_done_callback(self._unmap_tasks.discard)

    async def batch_collect(self, dfs: Iterable[Any], *, timeout: Optional[float] = None
                            ) -> List[Result[pa.Table, PolaroidError]]:
        """Collects every DataFrame concurrently (bounded by the semaphore); one Result per
        input, in order (an Err input gives its Err back)."""
        return list(await asyncio.gather(*(self.collect(d, timeout=timeout) for d in dfs)))

    async def batch_query(self, queries: Iterable[str], *, timeout: Optional[float] = None
                          ) -> List[Result[pa.Table, PolaroidError]]:
        return list(await asyncio.gather(*(self.query(q, timeout=timeout) for q in queries)))

    async def stream_collect(self, df: Any, *, timeout: Optional[float] = None, max_message_bytes: int = 0,
                             keep_dictionaries: Optional[bool] = None) -> AsyncIterator[pa.RecordBatch]:
        """``async for batch in client.stream_collect(df)``: RecordBatches as the server sends
        them. The gRPC stream is read one message at a time as the loop asks for more, so a slow
        consumer slows the server (HTTP/2 flow control) instead of buffering the result.
        Leaving the loop early cancels the query. Errors raise the PolaroidError (a stream of
        values has no single Result; ``stream_results`` yields Results instead)."""
        inner = self.stream_results(df, timeout=timeout, max_message_bytes=max_message_bytes,
                                    keep_dictionaries=keep_dictionaries)
        try:
            async for r in inner:
                if isinstance(r, Err):
                    raise r.error
                yield r.value
        finally:
            await inner.aclose()  # now, not when the garbage collector gets to it

    async def stream_results(self, df: Any, *, timeout: Optional[float] = None, max_message_bytes: int = 0,
                             keep_dictionaries: Optional[bool] = None
                             ) -> AsyncIterator[Result[pa.RecordBatch, PolaroidError]]:
        """Like ``stream_collect`` but yields ``Ok(batch)`` items and, on failure, one final
        ``Err``."""
        plan = _plan_of(df)
        if isinstance(plan, Err):
            yield plan
            return
        req = self._execute_request(plan, timeout, max_message_bytes, keep_dictionaries)
        t = timeout if timeout is not None else self.timeout
        attempt = 0
        while True:
            attempt += 1
            bad = self._admit()
            if bad is not None:
                yield bad
                return
            self._ensure()
            await self._acquire()
            got_any = False
            call = None
            err: Optional[PolaroidError] = None
            code = None
            try:
                if self._closing:
                    if self.breaker is not None:
                        self.breaker.release()
                    yield Err(_closed_error(self.target))
                    return
                call = self._execute_rpc(req, timeout=t, metadata=self._metadata)
                self._calls.add(call)
                dec = _ipc.StreamDecoder()
                while True:
                    try:
                        msg = await call.read()
                    except grpc.aio.AioRpcError as e:
                        code = e.code()
                        err = self._rpc_error(e)
                        break
                    if msg is _EOF:
                        break
                    got_any = True
                    kind, val = msg
                    if kind == _ipc.ARROW_IPC:
                        try:
                            batches = dec.feed(val)
                        except ValueError as e:
                            err = PolaroidError(f"undecodable result stream: {e}")
                            break
                        for b in batches:
                            yield Ok(b)
                if err is None:
                    if self.breaker is not None:
                        self.breaker.record_success()
                    if dec.schema is None:
                        yield Err(PolaroidError("the server ended the result stream without a schema"))
                    return
            except asyncio.CancelledError:
                if self.breaker is not None:
                    self.breaker.release()
                if call is not None and call in self._cancelled_by_us:
                    yield Err(CancelledError("cancelled by the client's shutdown", code=_CANCELLED))
                    return
                raise
            finally:
                if call is not None:
                    self._calls.discard(call)
                    if not call.done():
                        call.cancel()  # the consumer left early: cancel the query
                self._release()
            if got_any or not self.retry.should_retry(code, attempt) or self._closing:
                yield Err(err)  # type: ignore[arg-type]
                return
            if not await self._backoff(attempt):
                yield Err(err)  # type: ignore[arg-type]
                return

    # ------------------------------------------------------------------ metadata, writes
    async def schema(self, df: Any, timeout: Optional[float] = None) -> Result[pa.Schema, PolaroidError]:
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        r = await self._unary("_schema_rpc", _pbnew(pb.PlanRequest, plan=plan), timeout)
        return r.map(schema_of)

    async def count(self, df: Any, timeout: Optional[float] = None) -> Result[int, PolaroidError]:
        """The number of rows (a count(*) query)."""
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        r = await self._execute_table(self._execute_request(count_plan(plan.root), timeout), timeout)
        return r.map(count_of)

    async def explain(self, df: Any, *, optimized: bool = True, analyze: bool = False,
                      timeout: Optional[float] = None) -> Result[str, PolaroidError]:
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        r = await self._unary("_explain_rpc", _pbnew(pb.ExplainRequest, plan=plan, optimized=optimized, analyze=analyze),
                              timeout)
        return r.map(lambda x: x.text)

    async def describe(self, df: Any, timeout: Optional[float] = None) -> Result[pa.Table, PolaroidError]:
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        r = await self._unary("_describe_rpc", _pbnew(pb.PlanRequest, plan=plan), timeout)
        return r.map(lambda x: _ipc.read_ipc_stream(x.arrow_ipc))

    async def write(self, df: Any, path: str, format: str = "auto", *, compression: Optional[str] = None,
                    row_group_size: Optional[int] = None, overwrite: bool = True,
                    timeout: Optional[float] = None) -> Result[WriteResult, PolaroidError]:
        """Runs the plan and writes the result under the server's data root."""
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        try:
            req = write_request(plan, path, format, compression=compression, row_group_size=row_group_size,
                                overwrite=overwrite)
        except KeyError:
            return Err(_invalid(f"write: unknown format {format!r}"))
        r = await self._unary("_write_rpc", req, timeout, idempotent=overwrite)
        return r.map(lambda x: WriteResult(rows=x.rows, bytes=x.bytes, path=x.path))

    async def write_parquet(self, df: Any, path: str, **kw: Any) -> Result[WriteResult, PolaroidError]:
        return await self.write(df, path, "parquet", **kw)

    # the hooks of polaroid.DataFrame's terminal methods (``await df.collect()`` etc.)
    def _df_collect(self, df: DataFrame, *, timeout: Optional[float] = None,
                    keep_dictionaries: Optional[bool] = None) -> Any:
        return self.collect(df, timeout=timeout, keep_dictionaries=keep_dictionaries)

    def _df_iter_batches(self, df: DataFrame, *, max_message_bytes: int = 0, timeout: Optional[float] = None,
                         keep_dictionaries: Optional[bool] = None) -> Any:
        return self.stream_collect(df, timeout=timeout, max_message_bytes=max_message_bytes,
                                   keep_dictionaries=keep_dictionaries)

    def _df_schema(self, df: DataFrame) -> Any:
        return self.schema(df)

    def _df_count(self, df: DataFrame, *, timeout: Optional[float] = None) -> Any:
        return self.count(df, timeout=timeout)

    def _df_explain(self, df: DataFrame, *, optimized: bool = True, analyze: bool = False) -> Any:
        return self.explain(df, optimized=optimized, analyze=analyze)

    def _df_describe(self, df: DataFrame) -> Any:
        return self.describe(df)

    def _df_write(self, df: DataFrame, path: str, fmt: str, **kw: Any) -> Any:
        return self.write(df, path, fmt, **kw)

    def _df_persist(self, df: DataFrame, *, materialize: bool = True, ttl: Optional[float] = None) -> Any:
        return self.persist(df, materialize=materialize, ttl=ttl)

    def _df_len(self, df: DataFrame) -> int:
        raise TypeError("len() of a DataFrame of an AsyncPolaroidClient would have to block on a "
                        "query: use `(await client.count(df)).unwrap()` for the row count, or "
                        "`(await client.collect(df)).unwrap().num_rows`")

    def _df_reader(self, df: DataFrame, **kw: Any) -> Any:
        raise TypeError("a DataFrame of an AsyncPolaroidClient has no blocking reader: "
                        "use `async for b in client.stream_collect(df)`")

    def _df_preview(self, df: DataFrame, n: int = 5) -> str:
        return f"<polaroid.DataFrame (async; {df.relation.WhichOneof('rel')}) - await client.collect(df)>"

    # ------------------------------------------------------------------ handles
    async def persist(self, df: Any, *, materialize: bool = True, ttl: Optional[float] = None,
                      timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        """Stores the DataFrame on the server behind a handle (materialised unless told not to);
        Ok(a DataFrame reading the handle). The heartbeat task renews it while that DataFrame
        (or one built on it) is alive."""
        plan = _plan_of(df)
        if isinstance(plan, Err):
            return plan
        req = _pbnew(pb.CreateHandleRequest, plan=plan, materialize=materialize, ttl_seconds=int(ttl) if ttl else 0)
        r = await self._unary("_create_handle_rpc", req, timeout, idempotent=False)
        if isinstance(r, Err):
            return r
        info = r.value
        h = AsyncHandle(self, info)
        self._handles[h.id] = weakref.ref(h)
        self._start_heartbeat(info.ttl_seconds)
        return Ok(DataFrame(_pbnew(pb.Relation, handle=pb.HandleRef(id=h.id)), self, (h,)))

    async def sql_session(self, *, ttl: Optional[float] = None,
                          timeout: Optional[float] = None) -> Result["AsyncSqlSession", PolaroidError]:
        """Opens a SQL session on the server: Ok(AsyncSqlSession), whose scripts see the
        temporary tables and views its earlier scripts made, which no other client or session
        sees (``async with (await client.sql_session()).unwrap() as s: ...``)."""
        req = _pbnew(pb.CreateHandleRequest, sql_session=True, ttl_seconds=int(ttl) if ttl else 0)
        r = await self._unary("_create_handle_rpc", req, timeout, idempotent=False)
        if isinstance(r, Err):
            return r
        h = AsyncHandle(self, r.value)
        self._handles[h.id] = weakref.ref(h)
        self._start_heartbeat(r.value.ttl_seconds)
        return Ok(AsyncSqlSession(self, h))

    async def cache(self, df: Any, *, ttl: Optional[float] = None,
                    timeout: Optional[float] = None) -> Result[DataFrame, PolaroidError]:
        """``persist(df, materialize=True)``."""
        return await self.persist(df, materialize=True, ttl=ttl, timeout=timeout)

    def handles(self) -> List[AsyncHandle]:
        return [h for h in (r() for r in list(self._handles.values())) if h is not None]

    @staticmethod
    def _handle_gone(client_ref: "weakref.ref[AsyncPolaroidClient]", handle_id: str) -> None:
        c = client_ref()
        if c is None:
            return
        c._handles.pop(handle_id, None)
        if not c._closed:
            c._to_drop.append(handle_id)
            if c._hb_wake is not None:
                c._hb_wake.set()

    async def drop_handle(self, h: Union[AsyncHandle, DataFrame, str]) -> Result[int, PolaroidError]:
        """Drops a handle now (a DataFrame reading it, the AsyncHandle, or its id)."""
        if isinstance(h, DataFrame):
            hid = h.relation.handle.id if h.relation.WhichOneof("rel") == "handle" else ""
        elif isinstance(h, AsyncHandle):
            hid = h.id
            h._finalizer.detach()
        else:
            hid = str(h)
        if not hid:
            return Err(_invalid("drop_handle: not a handle"))
        self._handles.pop(hid, None)
        r = await self._unary("_drop_handle_rpc", pb.DropHandleRequest(handle_ids=[hid]))
        return r.map(lambda x: x.dropped)

    async def heartbeat(self) -> Result[Tuple[List[str], List[str]], PolaroidError]:
        """Renews this client's handles now: Ok((alive ids, unknown ids)); drops the handles
        whose DataFrames were garbage collected."""
        if self._to_drop:
            ids, self._to_drop = self._to_drop, []
            await self._unary("_drop_handle_rpc", pb.DropHandleRequest(handle_ids=ids), 5.0)
        ids = list(self._handles)
        if not ids:
            return Ok(([], []))
        r = await self._unary("_heartbeat_rpc", pb.HeartbeatRequest(handle_ids=ids), 10.0)
        if isinstance(r, Err):
            return r
        for hid in r.value.unknown:
            ref = self._handles.get(hid)
            h = ref() if ref is not None else None
            if h is not None:
                h.expired = True
        return Ok((list(r.value.alive), list(r.value.unknown)))

    def _start_heartbeat(self, ttl_seconds: int) -> None:
        if self._hb_task is not None and not self._hb_task.done():
            return
        interval = self.heartbeat_interval
        if interval is None:
            interval = max(0.5, min(30.0, (ttl_seconds or 300) / 3.0))
        self._hb_wake = asyncio.Event()
        self._hb_task = asyncio.get_running_loop().create_task(self._heartbeat_loop(interval))

    async def _heartbeat_loop(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        next_beat = loop.time() + interval
        wake = self._hb_wake
        assert wake is not None
        while not self._closing:
            try:
                await asyncio.wait_for(wake.wait(), max(0.0, next_beat - loop.time()))
            except asyncio.TimeoutError:
                pass
            wake.clear()
            if self._closing:
                return
            if loop.time() >= next_beat:
                next_beat = loop.time() + interval
                await self.heartbeat()  # an Err (server down) is retried at the next beat
            elif self._to_drop:
                ids, self._to_drop = self._to_drop, []
                await self._unary("_drop_handle_rpc", pb.DropHandleRequest(handle_ids=ids), 5.0)

    # ------------------------------------------------------------------ live tables
    async def create_table(self, name: str, schema: Any = None, *, data: Any = None, if_not_exists: bool = False,
                           replace: bool = False, timeout: Optional[float] = None) -> Result[TableInfo, PolaroidError]:
        """A live table: ``schema`` a pyarrow Schema or {column: SQL type}; or ``data`` (a
        DataFrame or Arrow/pandas data) whose rows start it."""
        try:
            data_plan = None
            if schema is None and data is not None:
                if not isinstance(data, DataFrame):
                    data = self.from_arrow(data)
                data_plan = data.plan
            req = create_table_request(name, schema, data_plan=data_plan, if_not_exists=if_not_exists,
                                       replace=replace)
        except (ValueError, TypeError) as e:
            return Err(_invalid(str(e)))
        r = await self._unary("_create_table_rpc", req, timeout, idempotent=if_not_exists)
        if isinstance(r, Err):
            return r
        t = table_info(r.value)
        self._table_schemas[name] = t.schema
        return Ok(t)

    async def drop_table(self, name: str, *, if_exists: bool = False) -> Result[bool, PolaroidError]:
        self._table_schemas.pop(name, None)
        r = await self._unary("_drop_table_rpc", pb.DropTableRequest(name=name, if_exists=if_exists))
        return r.map(lambda x: x.dropped)

    async def list_tables(self) -> Result[List[TableInfo], PolaroidError]:
        r = await self._unary("_list_tables_rpc", pb.ListTablesRequest())
        return r.map(lambda x: [table_info(t) for t in x.tables])

    async def _table_schema(self, name: str) -> Result[pa.Schema, PolaroidError]:
        s = self._table_schemas.get(name)
        if s is not None:
            return Ok(s)
        r = await self.schema(self.table(name))
        if isinstance(r, Ok):
            self._table_schemas[name] = r.value
        return r

    def _appender(self, table: str) -> "_Appender":
        a = self._appenders.get(table)
        if a is None:
            a = self._appenders[table] = _Appender(self, table)
        return a

    async def append_record(self, record: Mapping[str, Any], table: str = "ticks") -> Result[None, PolaroidError]:
        """Buffers one row (column -> value) for the live table. Buffers are sent as Arrow over
        one Append stream per table, when ``append_batch_records`` rows are waiting or
        ``append_flush_interval`` seconds after the first; waits while ``append_max_pending`` rows
        are buffered or unacknowledged (backpressure). Ok(None) once buffered; an Err reports an
        earlier failure of this table's stream (rows that were not acknowledged are counted in
        ``lost_rows(table)``) or a closing client."""
        if self._closing:
            return Err(_closed_error(self.target))
        a = self._appenders.get(table)
        if a is None:
            a = self._appender(table)
        return await a.add(record)

    async def append_records(self, records: Any, table: str = "ticks") -> Result[int, PolaroidError]:
        """Buffers many rows: a list of dicts, a pyarrow Table/RecordBatch, a pandas DataFrame.
        Ok(number of rows buffered)."""
        if self._closing:
            return Err(_closed_error(self.target))
        a = self._appender(table)
        if isinstance(records, (list, tuple)):
            for rec in records:
                r = await a.add(rec)
                if isinstance(r, Err):
                    return r
            return Ok(len(records))
        try:
            t = to_arrow(records)
        except TypeError as e:
            return Err(_invalid(str(e)))
        return await a.add_table(t)

    async def flush(self, table: Optional[str] = None) -> Result[int, PolaroidError]:
        """Sends every buffered row and waits until the server acknowledged everything sent
        (the rows are then visible to queries). Ok(rows acknowledged since the last flush), or the
        first Err of a table's stream."""
        apps = [self._appenders[table]] if table is not None and table in self._appenders else (
            list(self._appenders.values()) if table is None else [])
        total = 0
        first_err: Optional[Err] = None
        for a in apps:
            r = await a.flush()
            if isinstance(r, Err):
                first_err = first_err or r
            else:
                total += r.value
        return first_err if first_err is not None else Ok(total)

    def lost_rows(self, table: str) -> int:
        """Rows of a table whose Append stream failed before they were acknowledged."""
        a = self._appenders.get(table)
        return a.lost_rows if a is not None else 0

    async def append(self, table: str, data: Any) -> Result[AppendResult, PolaroidError]:
        """Appends data now and waits for the acknowledgement (append_records + flush)."""
        r = await self.append_records(data, table=table)
        if isinstance(r, Err):
            return r
        a = self._appenders[table]
        f = await a.flush()
        return f.map(lambda n: AppendResult(n, a.table_rows))

    # ------------------------------------------------------------------ shutdown
    async def close(self, timeout: Optional[float] = None) -> None:
        """Graceful shutdown: new work gets Err at once; buffered appends are flushed and
        in-flight calls may finish until the deadline (``timeout``, default
        ``shutdown_timeout``); what is left is cancelled (its callers get Err(CancelledError));
        handles are dropped; the channel is closed."""
        if self._closed or self._closing:
            while not self._closed:
                await asyncio.sleep(0.01)
            return
        self._closing = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.shutdown_timeout if timeout is None else timeout)
        for t in list(self._sleepers):  # callers waiting to retry give up now
            t.cancel()
        if self._appenders:
            try:
                await asyncio.wait_for(asyncio.gather(*(a.close() for a in self._appenders.values())),
                                       max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                pass
        if self.stats.in_flight:
            try:
                await asyncio.wait_for(self._idle.wait(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                pass
        for call in list(self._calls):
            self._cancelled_by_us.add(call)
            call.cancel()
        for a in self._appenders.values():
            a.abort()
        if self._hb_task is not None:
            self._hb_task.cancel()
        if self._shm_probe is not None and not self._shm_probe.done():
            self._shm_probe.cancel()
        ids = list(self._handles) + self._to_drop
        self._handles.clear()
        self._to_drop = []
        if ids and self._channel is not None:
            try:
                await self._drop_handle_rpc(pb.DropHandleRequest(handle_ids=ids), timeout=1.0,
                                            metadata=self._metadata)
            except grpc.aio.AioRpcError:
                pass
        if self.stats.in_flight:  # let the cancelled calls unwind
            try:
                await asyncio.wait_for(self._idle.wait(), 1.0)
            except asyncio.TimeoutError:
                pass
        if self._channel is not None:
            await self._channel.close()
        self._closed = True
        w = self._watcher
        if w is not None and w is not asyncio.current_task():
            w.cancel()


class _Appender:
    """The buffered Append stream of one live table."""

    def __init__(self, client: AsyncPolaroidClient, table: str) -> None:
        self.c = client
        self.table = table
        self.buf: List[Any] = []  # records (dicts)
        self.pending = 0  # rows buffered + sent and not acknowledged
        self.space = asyncio.Event()
        self.space.set()
        self.changed = asyncio.Event()  # set on every ack or stream end
        self.lock = asyncio.Lock()  # serialises sends and stream (re)opening
        self.call: Any = None
        self.reader: Optional[asyncio.Task] = None
        self.seq = 0
        self.inflight: Dict[int, Tuple[int, pb.AppendRequest]] = {}  # seq -> (rows, request)
        self.broken: Optional[grpc.aio.AioRpcError] = None
        self.error: Optional[PolaroidError] = None  # reported by the next add/flush
        self.acked_rows = 0
        self.acked_since_flush = 0
        self.table_rows = -1
        self.lost_rows = 0
        self.timer: Optional[asyncio.TimerHandle] = None
        self.timer_task: Optional[asyncio.Task] = None
        self.schema: Optional[pa.Schema] = None
        self.attempts = 0
        self.holds_slot = False

    # -- producer side
    async def add(self, record: Mapping[str, Any]) -> Result[None, PolaroidError]:
        if self.error is not None:
            e, self.error = self.error, None
            return Err(e)
        c = self.c
        if self.pending >= c.append_max_pending:
            e = await self._wait_space()
            if e is not None:
                return Err(e)
        self.buf.append(record)
        self.pending += 1
        if len(self.buf) >= c.append_batch_records:
            await self.send_buffer()
            if self.error is not None:  # this buffer (with the record) could not be sent
                e, self.error = self.error, None
                return Err(e)
        elif self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(c.append_flush_interval, self._on_timer)
        return Ok(None)

    async def add_table(self, t: pa.Table) -> Result[int, PolaroidError]:
        if self.error is not None:
            e, self.error = self.error, None
            return Err(e)
        if self.buf:
            await self.send_buffer()
        step = self.c.append_batch_records
        for off in range(0, max(1, t.num_rows), step):
            part = t.slice(off, step)
            e = await self._wait_space()
            if e is not None:
                return Err(e)
            self.pending += part.num_rows
            r = await self._send(part, part.num_rows)
            if isinstance(r, Err):
                self.error = None
                return r
        return Ok(t.num_rows)

    def _on_timer(self) -> None:
        self.timer = None
        if self.buf and self.timer_task is None:
            self.timer_task = asyncio.get_running_loop().create_task(self._timer_send())

    async def _timer_send(self) -> None:
        try:
            await self.send_buffer()
        finally:
            self.timer_task = None

    async def send_buffer(self) -> Result[None, PolaroidError]:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.buf:
            return Ok(None)
        async with self.lock:  # buffers go out in the order they were filled
            if not self.buf:
                return Ok(None)
            s = await self._schema()
            rows, self.buf = self.buf, []
            if isinstance(s, Err):
                self._lose(len(rows))
                self.error = s.error
                return s
            try:
                schema = s.value
                t = pa.Table.from_pydict({n: [r.get(n) for r in rows] for n in schema.names}, schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, AttributeError) as e:
                self._lose(len(rows))
                err = _invalid(f"append_record to {self.table!r}: records do not match the table's schema: {e}")
                self.error = err
                return Err(err)
            return await self._send_locked(t, len(rows))

    async def _schema(self) -> Result[pa.Schema, PolaroidError]:
        if self.schema is None:
            r = await self.c._table_schema(self.table)
            if isinstance(r, Err):
                return r
            self.schema = r.value
        return Ok(self.schema)

    def _lose(self, n: int) -> None:
        self.lost_rows += n
        self.pending -= n
        self._wake()

    def _wake(self) -> None:
        self.changed.set()
        if self.pending < self.c.append_max_pending:
            self.space.set()

    async def _send(self, t: pa.Table, nrows: int) -> Result[None, PolaroidError]:
        async with self.lock:
            return await self._send_locked(t, nrows)

    async def _send_locked(self, t: pa.Table, nrows: int) -> Result[None, PolaroidError]:
        data = _ipc.table_to_ipc(t)
        r = await self._ensure_stream()
        if isinstance(r, Err):
            self._lose(nrows)
            self.error = r.error  # reported by the next append_record / flush
            return r
        self.seq += 1
        req = pb.AppendRequest(seq=self.seq, arrow_ipc=data)
        self.inflight[self.seq] = (nrows, req)
        self.c.stats.append_requests += 1
        self.c.stats.appended_rows += nrows
        try:
            await self.call.write(self._first(req))
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError) as e:
            # the stream broke: the reader task records why; the request stays in flight
            # and is resent on the next stream
            if isinstance(e, grpc.aio.AioRpcError) and self.broken is None:
                self.broken = e
        return Ok(None)

    async def _wait_space(self) -> Optional[PolaroidError]:
        """Backpressure: waits until the table has room; repairs a broken stream meanwhile
        (its unacknowledged rows would otherwise never free their room)."""
        c = self.c
        while self.pending >= c.append_max_pending:
            if self.error is not None:
                e, self.error = self.error, None
                return e
            if c._closing:
                return _closed_error(c.target)
            if self.broken is not None or (self.call is not None and self.call.done() and self.inflight):
                async with self.lock:
                    r = await self._ensure_stream()
                if isinstance(r, Err):
                    return r.error
                continue
            if self.buf:
                await self.send_buffer()
                continue
            self.space.clear()
            await self.space.wait()
        return None

    def _first(self, req: pb.AppendRequest) -> pb.AppendRequest:
        if self.first_pending:
            self.first_pending = False
            r = pb.AppendRequest()
            r.CopyFrom(req)
            r.table = self.table
            return r
        return req

    first_pending = True

    async def _ensure_stream(self) -> Result[None, PolaroidError]:
        """Opens the Append stream when none is open; after a failure, reopens it (backoff
        and jitter) and resends the requests that were not acknowledged (at-least-once)."""
        c = self.c
        while True:
            if self.call is not None and self.broken is None and not self.call.done():
                return Ok(None)
            if self.call is not None:  # broken or ended: wait for the reader to finish it
                if self.reader is not None:
                    try:
                        await self.reader
                    except asyncio.CancelledError:
                        pass
                self._end_stream()
            if self.broken is not None:
                e, self.broken = self.broken, None
                code = e.code()
                self.attempts += 1
                if not c.retry.should_retry(code, self.attempts) or c._closing:
                    return Err(self._fail(from_rpc_error(e)))
                c.stats.append_reconnects += 1
                if not await c._backoff(self.attempts):
                    return Err(self._fail(from_rpc_error(e)))
            if c._closing and not self.inflight and not self.buf:
                return Err(_closed_error(c.target))
            bad = c._admit()
            if bad is not None:
                return Err(self._fail(bad.error))
            c._ensure()
            await c._acquire()
            self.holds_slot = True
            self.call = c._append_rpc(metadata=c._metadata)
            self.first_pending = True
            self.reader = asyncio.get_running_loop().create_task(self._read_acks(self.call))
            # resend what the last stream did not acknowledge, in order
            for s in sorted(self.inflight):
                try:
                    await self.call.write(self._first(self.inflight[s][1]))
                except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError):
                    break
            if self.broken is None:
                return Ok(None)

    def _fail(self, err: PolaroidError) -> PolaroidError:
        """Gives up on the unacknowledged rows: they are lost; the error is reported."""
        n = sum(v[0] for v in self.inflight.values())
        self.inflight.clear()
        self._lose(n)
        return err

    def _end_stream(self) -> None:
        self.call = None
        self.reader = None
        if self.holds_slot:
            self.holds_slot = False
            self.c._release()

    async def _read_acks(self, call: Any) -> None:
        c = self.c
        try:
            while True:
                ack = await call.read()
                if ack is _EOF:
                    break
                v = self.inflight.pop(ack.seq, None)
                n = v[0] if v is not None else ack.rows
                self.pending -= n
                self.acked_rows += ack.rows
                self.acked_since_flush += ack.rows
                self.table_rows = ack.table_rows
                c.stats.acked_rows += ack.rows
                self.attempts = 0
                self._wake()
            if c.breaker is not None:
                c.breaker.record_success()
        except grpc.aio.AioRpcError as e:
            c.stats.errors += 1
            if c.breaker is not None:
                c.breaker.record(e.code())
            self.broken = e
        except asyncio.CancelledError:
            pass
        finally:
            self.changed.set()
            self.space.set()

    # -- flushing and closing
    async def flush(self) -> Result[int, PolaroidError]:
        await self.send_buffer()
        while True:
            if self.error is not None:
                e, self.error = self.error, None
                return Err(e)
            if not self.inflight:
                break
            if self.broken is not None or (self.call is not None and self.call.done()):
                async with self.lock:
                    r = await self._ensure_stream()
                if isinstance(r, Err):
                    self.error = None
                    return r
                continue
            if self.call is None:  # nothing open but requests in flight: reopen and resend
                async with self.lock:
                    r = await self._ensure_stream()
                if isinstance(r, Err):
                    return r
                continue
            self.changed.clear()
            if not self.inflight:
                break
            await self.changed.wait()
        n, self.acked_since_flush = self.acked_since_flush, 0
        return Ok(n)

    async def close(self) -> None:
        """Flushes, then ends the stream (done_writing) and waits for the server to end it."""
        if self.buf or self.inflight:
            await self.flush()
        async with self.lock:
            call = self.call
            if call is not None:
                try:
                    await call.done_writing()
                except (grpc.aio.AioRpcError, asyncio.InvalidStateError, grpc.aio.UsageError):
                    pass
                if self.reader is not None:
                    try:
                        await self.reader
                    except asyncio.CancelledError:
                        pass
                self._end_stream()

    def abort(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.call is not None and not self.call.done():
            self.c._cancelled_by_us.add(self.call)
            self.call.cancel()
        if self.call is not None and self.reader is not None and not self.reader.done():
            self.reader.cancel()
        if self.call is not None:
            self._end_stream()
        n = len(self.buf) + sum(v[0] for v in self.inflight.values())
        if n:
            self.buf = []
            self.inflight.clear()
            self._lose(n)


def _opts(df: DataFrame, columns: Optional[Sequence[str]], n_rows: Optional[int]) -> DataFrame:
    if columns is not None:
        df = df.select(*columns)
    if n_rows is not None:
        df = df.head(n_rows)
    return df


async def connect_async(target: str = DEFAULT_TARGET, **kwargs: Any) -> AsyncPolaroidClient:
    """An AsyncPolaroidClient whose channel is open (use ``async with`` or ``await close()``)."""
    c = AsyncPolaroidClient(target, **kwargs)
    c._ensure()
    return c
