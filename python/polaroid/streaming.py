"""Streaming sources for the asyncio client: a WebSocket feed with reconnect, backoff and
resubscription, and the pipeline that feeds it into a live table of ``polaroid serve``.

    from polaroid.streaming import WebSocketDataStream, pipe_to_table

    stream = WebSocketDataStream("ws://feed:8765", subscribe={"type": "subscribe", "channel": "ticks"})
    async for msg in stream.stream():          # parsed JSON; reconnects by itself
        ...

    # WebSocket -> buffer -> server (acknowledged) -> acknowledged back to the feed
    await pipe_to_table(stream, client, table="ticks", transform=lambda m: m["data"])

Delivery: after a reconnect the stream sends the subscribe message again; with ``resume=True``
it carries ``"since": <last acknowledged sequence number>`` so a feed that keeps its messages
(the simulator in :mod:`polaroid._feed_sim` does) replays what the client had not acknowledged.
``pipe_to_table`` acknowledges a message to the feed only after polaroid acknowledged its row
(``client.flush()``), and skips replayed messages it already appended, so every acknowledged
message is in the table exactly once.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any, AsyncIterator, Callable, Dict, Optional, Union

from .result import Err, Ok, Result

__all__ = ["WebSocketDataStream", "pipe_to_table", "StreamStats"]


class StreamStats:
    __slots__ = ("connections", "reconnects", "messages", "parse_errors", "acks_sent", "last_error")

    def __init__(self) -> None:
        self.connections = 0
        self.reconnects = 0
        self.messages = 0
        self.parse_errors = 0
        self.acks_sent = 0
        self.last_error: Optional[BaseException] = None

    def __repr__(self) -> str:
        return (f"<StreamStats connections={self.connections} reconnects={self.reconnects} "
                f"messages={self.messages} parse_errors={self.parse_errors}>")


class WebSocketDataStream:
    """A JSON message stream over a WebSocket that survives disconnects.

    Arguments:
      url: ``ws://`` or ``wss://`` address.
      subscribe: a dict (sent as JSON), a string, or a callable returning either, sent after
        every (re)connect; None = nothing.
      resume: add ``"since": last_acked`` to a dict subscribe message (a resumable feed then
        replays what was not acknowledged).
      seq_key: the message field holding its sequence number (for ``ack`` and dedup).
      initial_backoff / max_backoff / multiplier: reconnect delays (exponential, full jitter).
      max_reconnects: give up after this many failed reconnects in a row (None = never).
      parse: bytes/str -> message (default json.loads); messages it rejects are counted in
        ``stats.parse_errors`` and skipped.
    """

    def __init__(self, url: str, *, subscribe: Union[Dict[str, Any], str, Callable[[], Any], None] = None,
                 resume: bool = True, seq_key: str = "seq", initial_backoff: float = 0.05,
                 max_backoff: float = 5.0, multiplier: float = 2.0, max_reconnects: Optional[int] = None,
                 parse: Callable[[Union[str, bytes]], Any] = json.loads, open_timeout: float = 5.0,
                 ping_interval: Optional[float] = 20.0) -> None:
        self.url = url
        self.subscribe = subscribe
        self.resume = resume
        self.seq_key = seq_key
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.multiplier = multiplier
        self.max_reconnects = max_reconnects
        self.parse = parse
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.stats = StreamStats()
        self.last_acked: int = 0
        self._ws: Any = None
        self._stopped = asyncio.Event()

    def backoff(self, attempt: int) -> float:
        d = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, attempt - 1))
        return random.uniform(d / 2, d)  # "equal jitter": never hammer, never wait too long

    def _subscribe_message(self) -> Optional[str]:
        s = self.subscribe() if callable(self.subscribe) else self.subscribe
        if s is None:
            return None
        if isinstance(s, dict):
            if self.resume:
                s = dict(s, since=self.last_acked)
            return json.dumps(s)
        return str(s)

    async def stream(self) -> AsyncIterator[Any]:
        """Parsed messages, across reconnects, until ``stop()`` (or ``max_reconnects``
        failures in a row: then the last error is raised)."""
        try:
            from websockets.asyncio.client import connect
            from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
        except ImportError as e:  # an optional dependency: the package's "async" extra
            raise ImportError("WebSocketDataStream needs the `websockets` package (>= 12): "
                              "pip install 'polaroid[async]' (or pip install websockets)") from e

        if self.url.startswith(("ws://", "wss://")) is False:
            raise ValueError(f"not a WebSocket URL: {self.url!r}")
        failures = 0
        first = True
        while not self._stopped.is_set():
            if not first:
                failures += 1
                if self.max_reconnects is not None and failures > self.max_reconnects:
                    raise ConnectionError(f"{self.url}: gave up after {failures - 1} reconnects: "
                                          f"{self.stats.last_error}")
                try:
                    await asyncio.wait_for(self._stopped.wait(), self.backoff(failures))
                    return
                except asyncio.TimeoutError:
                    pass
                self.stats.reconnects += 1
            first = False
            try:
                ws = await connect(self.url, open_timeout=self.open_timeout, ping_interval=self.ping_interval,
                                   compression=None, max_queue=64)
            except (OSError, asyncio.TimeoutError, InvalidHandshake) as e:
                self.stats.last_error = e
                continue
            except InvalidURI:
                raise
            self._ws = ws
            self.stats.connections += 1
            try:
                sub = self._subscribe_message()
                if sub is not None:
                    await ws.send(sub)
                got = False
                async for raw in ws:
                    try:
                        msg = self.parse(raw)
                    except (ValueError, TypeError):
                        self.stats.parse_errors += 1
                        continue
                    if not got:
                        got = True
                        failures = 0  # a working connection resets the backoff
                    self.stats.messages += 1
                    yield msg
                    if self._stopped.is_set():
                        break
            except ConnectionClosed as e:
                self.stats.last_error = e
            except OSError as e:
                self.stats.last_error = e
            finally:
                self._ws = None
                try:
                    await ws.close()
                except Exception:
                    pass

    async def ack(self, seq: int) -> bool:
        """Acknowledges every message up to ``seq`` to the feed (``{"type": "ack", "seq": n}``);
        remembered for the next resubscription. False when not connected right now (the ack
        still counts for the resume point)."""
        if seq > self.last_acked:
            self.last_acked = seq
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(json.dumps({"type": "ack", "seq": seq}))
            self.stats.acks_sent += 1
            return True
        except Exception:
            return False

    def stop(self) -> None:
        """Ends ``stream()`` after the message being handled."""
        self._stopped.set()
        ws = self._ws
        if ws is not None:
            asyncio.ensure_future(ws.close())


async def pipe_to_table(stream: WebSocketDataStream, client: Any, table: str = "ticks", *,
                        transform: Optional[Callable[[Any], Optional[Dict[str, Any]]]] = None,
                        ack_every: int = 1000, ack_interval: float = 0.2,
                        max_messages: Optional[int] = None,
                        stop_when: Optional[Callable[[Any], bool]] = None) -> Result[int, Any]:
    """The WebSocket -> polaroid live table pipeline: every message (``transform``-ed to a row
    dict; None skips it) goes to ``client.append_record``; every ``ack_every`` messages or
    ``ack_interval`` seconds the client flushes and, once polaroid acknowledged the rows, the
    messages are acknowledged to the feed. Messages replayed after a reconnect whose sequence
    number was already appended are skipped. Ends when the stream ends, after ``max_messages``
    rows, or when ``stop_when(msg)``; Ok(rows appended) or the first Err from the client."""
    loop = asyncio.get_running_loop()
    key = stream.seq_key
    appended = 0
    last_seq = stream.last_acked  # highest sequence number appended
    unacked = 0
    last_ack_time = loop.time()

    async def commit() -> Result[int, Any]:
        nonlocal unacked, last_ack_time
        r = await client.flush(table)
        if isinstance(r, Err):
            return r
        if last_seq > stream.last_acked:
            await stream.ack(last_seq)
        unacked = 0
        last_ack_time = loop.time()
        return Ok(appended)

    async for msg in stream.stream():
        seq = msg.get(key) if isinstance(msg, dict) else None
        if isinstance(seq, int):
            if seq <= last_seq:
                continue  # a replay of something already appended
        row = transform(msg) if transform is not None else msg
        if row is not None:
            r = await client.append_record(row, table=table)
            if isinstance(r, Err):
                return r
            appended += 1
        if isinstance(seq, int):
            last_seq = seq
        unacked += 1
        done = (max_messages is not None and appended >= max_messages) or (
            stop_when is not None and stop_when(msg))
        if done or unacked >= ack_every or loop.time() - last_ack_time >= ack_interval:
            c = await commit()
            if isinstance(c, Err):
                return c
        if done:
            stream.stop()
            break
    c = await commit()
    return c
