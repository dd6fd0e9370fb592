"""Concurrent reads: every tick file read and aggregated at once, errors as values.

    python examples/async/concurrent_reads.py --server localhost:50051
"""

import asyncio
import time

from _common import parser

import polaroid as pd
from polaroid.async_client import AsyncPolaroidClient


async def main(a) -> int:
    async with AsyncPolaroidClient(a.server, max_concurrent=16, timeout=120) as client:
        t0 = time.perf_counter()
        files = list(a.files) + ["ticks/does-not-exist.parquet"]  # one bad path on purpose
        frames = await client.batch_read(files)
        per_symbol = [f.map(lambda df: df.group_by("symbol").agg(pd.col("price").mean().alias("avg_price"),
                                                                 pd.col("size").sum().alias("volume")))
                      for f in frames]
        tables = await client.batch_collect(per_symbol)
        for path, t in zip(files, tables):
            if t.is_ok():
                print(f"{path}: {t.unwrap().num_rows} symbols")
            else:
                print(f"{path}: error: {type(t.unwrap_err()).__name__}: {t.unwrap_err().what}")
        ok = sum(t.is_ok() for t in tables)
        print(f"{ok}/{len(files)} files in {time.perf_counter() - t0:.2f} s "
              f"(peak {client.stats.peak_in_flight} calls in flight)")
        return 0 if ok == len(a.files) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parser(__doc__).parse_args())))
