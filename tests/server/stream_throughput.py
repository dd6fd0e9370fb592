"""Measures how fast a result streams from `polaroid serve` into a pyarrow Table (GB/s), for a
few message sizes, with the client's decoder. Not a test (pytest does not collect it):

    .venv/bin/python tests/server/stream_throughput.py [--rows 50000000] [--cols 4]

It writes a Parquet file of int64/double columns under a temporary data root, starts
build/polaroid serve ($POLAROID) on it, and collects the whole file several times."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import polaroid as pd  # noqa: E402
from conftest import start_server  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=50_000_000)
    ap.add_argument("--cols", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="1,4", help="max message sizes in MiB")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        root = Path(d) / "root"
        root.mkdir()
        rng = np.random.default_rng(1)
        cols = {}
        for i in range(a.cols):
            cols[f"c{i}"] = np.arange(a.rows, dtype=np.int64) if i % 2 == 0 else rng.random(a.rows)
        t = pa.table(cols)
        pq.write_table(t, root / "big.parquet", compression="none", row_group_size=1 << 20)
        nbytes = t.nbytes
        del t, cols
        s = start_server(root)
        try:
            with pd.Client(s.address, shared_memory=False) as c:
                df = c.read_parquet("big.parquet")
                print(f"{a.rows * a.cols / 1e6:.0f}M cells, {nbytes / 1e9:.2f} GB of Arrow data")
                cached = df.cache()
                cases = [(f"{name}, messages of {mib} MiB", frame, mib, False)
                         for name, frame in (("parquet file", df), ("cached handle", cached))
                         for mib in [int(x) for x in a.sizes.split(",")]]
                cases.append(("cached handle, same-host file", cached, 0, True))
                for label, frame, mib, shm in cases:
                    c.max_message_bytes = mib << 20
                    c.shared_memory = shm
                    best = cpu = 1e9
                    for _ in range(a.repeat):
                        t0, p0 = time.perf_counter(), time.process_time()
                        out = frame.collect()
                        best = min(best, time.perf_counter() - t0)
                        cpu = min(cpu, time.process_time() - p0)
                        assert out.num_rows == a.rows
                        del out
                    print(f"{label}: {nbytes / best / 1e9:.2f} GB/s ({best:.2f} s; client CPU "
                          f"{cpu:.2f} s = {nbytes / cpu / 1e9:.2f} GB/s per core)")
        finally:
            s.terminate()


if __name__ == "__main__":
    main()
