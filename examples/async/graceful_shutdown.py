"""Graceful shutdown on Ctrl-C: queries run in a loop until SIGINT/SIGTERM; then new work stops,
in-flight queries drain, the channel closes and the process exits 0.

    python examples/async/graceful_shutdown.py     # then press Ctrl-C
"""

import asyncio

from _common import parser

from polaroid.async_client import AsyncPolaroidClient


async def main(a) -> int:
    client = AsyncPolaroidClient(a.server, max_concurrent=8, timeout=60, shutdown_timeout=5.0)
    done = ok = 0
    async with client:
        client.install_signal_handlers()  # SIGINT/SIGTERM -> client.shutdown_event

        async def worker(i):
            nonlocal done, ok
            src = a.files[i % len(a.files)]
            while not client.shutdown_event.is_set():
                r = await client.query(f"SELECT symbol, avg(price) AS p FROM read_parquet('{src}') GROUP BY symbol")
                done += 1
                ok += r.is_ok()

        workers = [asyncio.ensure_future(worker(i)) for i in range(8)]
        print("running; press Ctrl-C to stop", flush=True)
        await client.shutdown_event.wait()
        await asyncio.gather(*workers)  # the calls in flight finish (or get an Err at the deadline)
    print(f"shut down cleanly after {done} queries ({ok} ok, {done - ok} refused while closing)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parser(__doc__).parse_args())))
