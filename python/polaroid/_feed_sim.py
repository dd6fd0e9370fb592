"""A local market-data feed over WebSocket, for tests and examples (not a public API).

The feed generates ``total`` tick messages (``{"seq": n, "symbol": ..., "price": ..., "size":
..., "ts": microseconds}``, seq from 1) at ``rate`` messages per second into a log that it keeps.
A client sends ``{"type": "subscribe", "channel": "ticks", "since": k}`` and receives every
message after ``k`` (the replay) and then the live ones; ``{"type": "ack", "seq": n}`` records
what the client acknowledged. ``drop()`` (or ``drop_every=N`` messages sent) aborts the
connections without a closing handshake, as a network failure would.

    python -m polaroid._feed_sim --port 8765 --rate 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
from typing import Any, List, Optional, Set

__all__ = ["FeedSimulator"]

SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "META", "TSLA", "JPM"]


class FeedSimulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, rate: float = 5000.0,
                 total: Optional[int] = None, drop_every: Optional[int] = None, seed: int = 1) -> None:
        self.host = host
        self.port = port
        self.rate = rate
        self.total = total
        self.drop_every = drop_every
        self.log: List[str] = []  # JSON text of message seq = index + 1
        self.acked = 0  # highest seq acknowledged by any client
        self.connections = 0
        self.drops = 0
        self.subscribes: List[dict] = []
        self._rng = random.Random(seed)
        self._prices = {s: 100.0 + 10 * i for i, s in enumerate(SYMBOLS)}
        self._new = asyncio.Condition()
        self._server: Any = None
        self._gen: Optional[asyncio.Task] = None
        self._conns: Set[Any] = set()
        self._sent_since_drop = 0
        self.done = asyncio.Event()  # every message generated

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def _make(self, seq: int) -> str:
        sym = SYMBOLS[self._rng.randrange(len(SYMBOLS))]
        p = self._prices[sym] = round(max(1.0, self._prices[sym] * (1 + self._rng.gauss(0, 0.001))), 4)
        return json.dumps({"seq": seq, "symbol": sym, "price": p, "size": self._rng.randrange(1, 500),
                           "ts": 1_700_000_000_000_000 + seq * 1000})

    async def _generate(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        chunk = max(1, int(self.rate / 200))  # wake up ~200 times a second
        while self.total is None or len(self.log) < self.total:
            n = chunk if self.total is None else min(chunk, self.total - len(self.log))
            for _ in range(n):
                self.log.append(self._make(len(self.log) + 1))
            async with self._new:
                self._new.notify_all()
            due = start + len(self.log) / self.rate
            await asyncio.sleep(max(0.0, due - loop.time()))
        self.done.set()

    async def _handler(self, ws: Any) -> None:
        self.connections += 1
        self._conns.add(ws)
        try:
            raw = await asyncio.wait_for(ws.recv(), 10)
            sub = json.loads(raw)
            self.subscribes.append(sub)
            cursor = int(sub.get("since", 0) or 0)
            reader = asyncio.ensure_future(self._read_acks(ws))
            try:
                while True:
                    while cursor < len(self.log):
                        await ws.send(self.log[cursor])
                        cursor += 1
                        self._sent_since_drop += 1
                        if self.drop_every and self._sent_since_drop >= self.drop_every:
                            self._sent_since_drop = 0
                            self.drop()
                            return
                    if self.total is not None and cursor >= self.total:
                        await reader  # keep reading acks until the client goes
                        return
                    async with self._new:
                        await self._new.wait_for(lambda: cursor < len(self.log))
            finally:
                reader.cancel()
        except Exception:
            pass  # a dropped or closed connection
        finally:
            self._conns.discard(ws)

    async def _read_acks(self, ws: Any) -> None:
        async for raw in ws:
            try:
                m = json.loads(raw)
            except ValueError:
                continue
            if m.get("type") == "ack":
                self.acked = max(self.acked, int(m.get("seq", 0)))

    def drop(self) -> None:
        """Aborts every connection (TCP reset, no closing handshake)."""
        for ws in list(self._conns):
            self.drops += 1
            try:
                ws.transport.abort()
            except Exception:
                pass
        self._conns.clear()

    async def start(self) -> str:
        from websockets.asyncio.server import serve

        self._server = await serve(self._handler, self.host, self.port, compression=None, ping_interval=None)
        self.port = self._server.sockets[0].getsockname()[1]
        self._gen = asyncio.get_running_loop().create_task(self._generate())
        return self.url

    async def stop(self) -> None:
        if self._gen is not None:
            self._gen.cancel()
        if self._server is not None:
            self.drop()
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> "FeedSimulator":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


def main() -> None:  # pragma: no cover - manual use
    ap = argparse.ArgumentParser(description="local WebSocket tick feed")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--total", type=int, default=None)
    a = ap.parse_args()

    async def run() -> None:
        sim = FeedSimulator(a.host, a.port, rate=a.rate, total=a.total)
        print(f"feed simulator on {await sim.start()}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":  # pragma: no cover
    main()
