"""A monadic pipeline: read -> select -> filter -> collect, with early error return.

    python examples/async/monadic_pipeline.py
"""

import asyncio
import logging

from _common import parser

from polaroid.async_client import AsyncPolaroidClient
from polaroid.result import Err, Ok

log = logging.getLogger("pipeline")


async def pipeline(client, path):
    result = await client.read_parquet(path)
    planned = (result
               .map(lambda df: df.select(["symbol", "price", "size"]))
               .and_then(lambda df: client.filter(df, "price > 100"))
               .map_err(lambda e: log.warning("%s: %s", path, e)))
    table = await client.collect(planned)
    return table.map(lambda t: (t.num_rows, sum(t["size"].to_pylist())))


async def main(a) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    async with AsyncPolaroidClient(a.server, timeout=120) as client:
        for path in [a.files[0], "ticks/missing.parquet"]:
            match await pipeline(client, path):
                case Ok((rows, volume)):
                    print(f"{path}: {rows} trades above 100, volume {volume:.0f}")
                case Err(e):
                    print(f"{path}: failed early with {type(e).__name__} (nothing else ran)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parser(__doc__).parse_args())))
