"""Backpressure with a semaphore: 500 tasks, at most max_concurrent queries in flight.

    python examples/async/backpressure_semaphore.py --tasks 500 --max-concurrent 50
"""

import asyncio
import time

from _common import parser

from polaroid.async_client import AsyncPolaroidClient


async def main(a) -> int:
    async with AsyncPolaroidClient(a.server, max_concurrent=a.max_concurrent, timeout=60) as client:
        src = a.files[0]
        n = 100 if a.quick else a.tasks
        t0 = time.perf_counter()
        results = await asyncio.gather(*(
            client.query(f"SELECT count(*) AS n FROM read_parquet('{src}') WHERE size > {i % 50}")
            for i in range(n)))
        dt = time.perf_counter() - t0
        errors = [r for r in results if r.is_err()]
        print(f"{n} tasks, max_concurrent={a.max_concurrent}: {n / dt:.0f} queries/s, "
              f"peak in flight {client.stats.peak_in_flight}, {len(errors)} errors")
        assert client.stats.peak_in_flight <= a.max_concurrent
        return 0 if not errors else 1


if __name__ == "__main__":
    ap = parser(__doc__)
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--max-concurrent", type=int, default=50)
    raise SystemExit(asyncio.run(main(ap.parse_args())))
