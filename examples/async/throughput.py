"""Throughput: small queries from many asyncio tasks, and append_record, for a few seconds.

    python examples/async/throughput.py --tasks 500 --seconds 5
"""

import asyncio
import time

from _common import parser

from polaroid.async_client import AsyncPolaroidClient


async def main(a) -> int:
    seconds = 1.0 if a.quick else a.seconds
    async with AsyncPolaroidClient(a.server, max_concurrent=50, timeout=30) as client:
        lat = []
        stop = time.perf_counter() + seconds

        async def task(i):
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await client.query(f"SELECT {i} AS i")
                lat.append(time.perf_counter() - t0)
                assert r.is_ok(), r

        t0 = time.perf_counter()
        await asyncio.gather(*(task(i) for i in range(a.tasks)))
        dt = time.perf_counter() - t0
        lat.sort()
        print(f"queries: {len(lat) / dt:.0f} QPS from {a.tasks} tasks, p50 {lat[len(lat) // 2] * 1e3:.1f} ms, "
              f"p99 {lat[int(len(lat) * 0.99)] * 1e3:.1f} ms")

        (await client.create_table("throughput_ticks", {"ts": "BIGINT", "symbol": "VARCHAR", "price": "DOUBLE"},
                                   replace=True)).unwrap()
        n = 20_000 if a.quick else 200_000
        t0 = time.perf_counter()
        for i in range(n):
            await client.append_record({"ts": i, "symbol": "AAPL", "price": 100.0 + i % 13}, table="throughput_ticks")
        assert (await client.flush()).unwrap() == n
        dt = time.perf_counter() - t0
        print(f"append_record: {n / dt:.0f} records/s acknowledged ({n} records)")
        await client.drop_table("throughput_ticks")
    return 0


if __name__ == "__main__":
    ap = parser(__doc__)
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=5.0)
    raise SystemExit(asyncio.run(main(ap.parse_args())))
