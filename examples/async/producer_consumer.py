"""Producer/consumer over an asyncio.Queue: producers read files, consumers collect and reduce.

    python examples/async/producer_consumer.py --consumers 4
"""

import asyncio

from _common import parser

import polaroid as pd
from polaroid.async_client import AsyncPolaroidClient
from polaroid.result import Err, Ok

DONE = object()


async def main(a) -> int:
    queue: asyncio.Queue = asyncio.Queue(maxsize=4)  # bounded: producers wait for consumers
    totals = {}
    failures = []

    async with AsyncPolaroidClient(a.server, max_concurrent=8, timeout=120) as client:
        async def producer():
            for path in a.files:
                r = await client.read_parquet(path)
                await queue.put((path, r.map(lambda df: df.group_by("symbol").agg(pd.len_().alias("n")))))
            for _ in range(a.consumers):
                await queue.put(DONE)

        async def consumer():
            while (item := await queue.get()) is not DONE:
                path, plan = item
                match await client.collect(plan):
                    case Ok(t):
                        for sym, n in zip(t["symbol"].to_pylist(), t["n"].to_pylist()):
                            totals[sym] = totals.get(sym, 0) + n
                    case Err(e):
                        failures.append((path, e))

        await asyncio.gather(producer(), *(consumer() for _ in range(a.consumers)))
    for sym in sorted(totals):
        print(f"{sym:8} {totals[sym]:>10}")
    print(f"{sum(totals.values())} rows from {len(a.files) - len(failures)} files, {len(failures)} failures")
    return 0 if not failures else 1


if __name__ == "__main__":
    ap = parser(__doc__)
    ap.add_argument("--consumers", type=int, default=4)
    raise SystemExit(asyncio.run(main(ap.parse_args())))
