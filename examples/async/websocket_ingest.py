"""WebSocket ingestion: a local tick feed (which drops the connection now and then) -> a live
table on the server -> SQL over it while it fills.

    python examples/async/websocket_ingest.py --messages 20000
    python examples/async/websocket_ingest.py --feed ws://host:port   # a feed of your own
"""

import asyncio

from _common import parser

from polaroid._feed_sim import FeedSimulator
from polaroid.async_client import AsyncPolaroidClient
from polaroid.streaming import WebSocketDataStream, pipe_to_table

COLUMNS = {"seq": "BIGINT", "symbol": "VARCHAR", "price": "DOUBLE", "size": "BIGINT", "ts": "BIGINT"}


async def main(a) -> int:
    n = 3000 if a.quick else a.messages
    sim = None
    url = a.feed
    if url is None:
        sim = FeedSimulator(total=n, rate=20_000, drop_every=max(500, n // 4))
        url = await sim.start()
    try:
        async with AsyncPolaroidClient(a.server, timeout=30) as client:
            (await client.create_table("live_ticks", COLUMNS, replace=True)).unwrap()
            stream = WebSocketDataStream(url, subscribe={"type": "subscribe", "channel": "ticks"},
                                         initial_backoff=0.05, max_backoff=1.0)

            async def report():
                while True:
                    await asyncio.sleep(0.25)
                    r = await client.query("SELECT count(*) AS n, round(avg(price), 2) AS avg_px FROM live_ticks")
                    print("live_ticks:", r.map(lambda t: t.to_pylist()[0]).unwrap_or("?"), flush=True)

            reporter = asyncio.ensure_future(report())
            rows = await pipe_to_table(stream, client, "live_ticks", ack_every=500,
                                       stop_when=lambda m: m.get("seq", 0) >= n)
            reporter.cancel()
            t = (await client.query("SELECT symbol, count(*) AS trades, round(avg(price), 2) AS avg_price "
                                    "FROM live_ticks GROUP BY symbol ORDER BY symbol")).unwrap()
            print(t.to_pandas().to_string(index=False))
            print(f"{rows.unwrap()} messages ingested, {stream.stats.reconnects} reconnects")
            total = (await client.query("SELECT count(DISTINCT seq) AS d FROM live_ticks")).unwrap()["d"][0].as_py()
            return 0 if total == n else 1
    finally:
        if sim is not None:
            await sim.stop()


if __name__ == "__main__":
    ap = parser(__doc__)
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--feed", default=None, help="a ws:// feed (default: a local simulator)")
    raise SystemExit(asyncio.run(main(ap.parse_args())))
