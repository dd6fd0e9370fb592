"""polaroid.streaming against the local feed simulator: parsing, reconnect with backoff,
resubscription, and the WebSocket -> live table pipeline losing no acknowledged message."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import run
from polaroid._feed_sim import FeedSimulator
from polaroid.async_client import AsyncPolaroidClient
from polaroid.result import Ok
from polaroid.streaming import WebSocketDataStream, pipe_to_table


def test_stream_parses_reconnects_and_resubscribes():
    async def main():
        async with FeedSimulator(total=500, rate=50_000, drop_every=120) as sim:
            st = WebSocketDataStream(sim.url, subscribe={"type": "subscribe", "channel": "ticks"},
                                     initial_backoff=0.01, max_backoff=0.05)
            seen = []
            async for msg in st.stream():
                assert isinstance(msg, dict) and set(msg) >= {"seq", "symbol", "price", "size", "ts"}
                seen.append(msg["seq"])
                if msg["seq"] % 50 == 0:
                    await st.ack(msg["seq"])
                if msg["seq"] == 500:
                    st.stop()
            assert sim.drops >= 3 and st.stats.reconnects >= 3, (sim.drops, st.stats)
            assert st.stats.connections == st.stats.reconnects + 1
            # every resubscription asked for what followed the last acknowledged message
            assert [s["type"] for s in sim.subscribes] == ["subscribe"] * len(sim.subscribes)
            assert sim.subscribes[0]["since"] == 0 and all(s["since"] > 0 for s in sim.subscribes[1:])
            assert sorted(set(seen)) == list(range(1, 501))  # replays may repeat, nothing is missing
            assert sim.acked == 500

    run(main())


def test_stream_skips_bad_json_and_gives_up_when_told():
    async def main():
        from websockets.asyncio.server import serve

        async def handler(ws):
            await ws.recv()
            await ws.send("not json {")
            await ws.send(json.dumps({"seq": 1}))
            await ws.close()

        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            st = WebSocketDataStream(f"ws://127.0.0.1:{port}", subscribe="hello", initial_backoff=0.01)
            got = []
            async for m in st.stream():
                got.append(m)
                if len(got) == 2:
                    st.stop()
            assert got == [{"seq": 1}, {"seq": 1}] and st.stats.parse_errors == 2
        # nothing listens: max_reconnects failures in a row end the stream with an error
        st = WebSocketDataStream(f"ws://127.0.0.1:{port}", initial_backoff=0.01, max_backoff=0.02,
                                 max_reconnects=3)
        with pytest.raises(ConnectionError, match="gave up after 3 reconnects"):
            async for _ in st.stream():
                pass
        with pytest.raises(ValueError):
            async for _ in WebSocketDataStream("http://x").stream():
                pass

    run(main())


def test_websocket_to_table_pipeline_loses_no_acknowledged_message(addr):
    total = 4000

    async def main():
        async with FeedSimulator(total=total, rate=40_000, drop_every=900) as sim, \
                AsyncPolaroidClient(addr, append_flush_interval=0.02) as c:
            (await c.create_table("ws_ticks", {"seq": "BIGINT", "symbol": "VARCHAR", "price": "DOUBLE",
                                               "size": "BIGINT", "ts": "BIGINT"}, replace=True)).unwrap()
            stream = WebSocketDataStream(sim.url, subscribe={"type": "subscribe", "channel": "ticks"},
                                         initial_backoff=0.02, max_backoff=0.1)
            r = await asyncio.wait_for(
                pipe_to_table(stream, c, "ws_ticks", ack_every=250, stop_when=lambda m: m["seq"] >= total),
                30)
            assert r == Ok(total), r
            assert sim.drops >= 3 and stream.stats.reconnects >= 3
            assert stream.last_acked == total
            for _ in range(100):  # the feed reads acks asynchronously
                if sim.acked == total:
                    break
                await asyncio.sleep(0.02)
            # every message the feed saw acknowledged (all of them, unless a drop hit the very
            # last ack on the wire) is in the table, and so is every other one
            assert 0 < sim.acked <= total
            t = (await c.query("SELECT seq, symbol, price FROM ws_ticks ORDER BY seq")).unwrap()
            assert t["seq"].to_pylist() == list(range(1, total + 1))  # every message, once
            sent = [json.loads(x) for x in sim.log[:total]]
            assert t["symbol"].to_pylist() == [m["symbol"] for m in sent]
            assert t["price"].to_pylist() == [m["price"] for m in sent]

    run(main())
