#!/usr/bin/env python3
"""Data of the server benchmark group (bench/README.md, "Server group"), as Parquet files:

  points.parquet  the point-query table: 1 M rows sorted by `key` (int64, 4 rows per key,
                  keys 0..249999), with ts (timestamp[us]), symbol (utf8), price, size (double)
                  and id (int64); written in 64 Ki-row row groups with statistics, so an equality
                  filter on `key` can skip all but one row group (or in-memory chunk).
  wide.parquet    the streaming table: 20 M rows x 10 columns (200 M cells): c0 = row number,
                  c1..c4 int64, c5..c9 double, random; 1.6 GB as Arrow (no nulls). Written
                  uncompressed in 1 Mi-row row groups so that reading it costs little next to
                  sending it.

Values come from numpy's PCG64 with a fixed seed. A manifest (_manifest.json) records the
parameters; generation is skipped when it matches.

  bench/server/gen_server.py [--out DIR] [--points-rows N] [--wide-rows N] [--force]
"""
import argparse
import json
import os
import sys
import time

GEN_VERSION = 1
SEED = 20261127
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = "data/bench/server"
POINTS_ROWS = 1_000_000
POINTS_ROW_GROUP = 65_536
ROWS_PER_KEY = 4
WIDE_ROWS = 20_000_000
WIDE_ROW_GROUP = 1_048_576
SYMBOLS = ["XCR", "AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM", "XOM"]


def points_table(rows, seed=SEED):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    rng = np.random.default_rng(seed)
    key = np.arange(rows, dtype=np.int64) // ROWS_PER_KEY
    ts = (np.int64(1_704_187_800_000_000) + np.cumsum(rng.integers(1, 2000, rows))).astype(
        "datetime64[us]")
    sym = pc.take(pa.array(SYMBOLS), pa.array(rng.integers(0, len(SYMBOLS), rows), pa.int32()))
    price = np.round(100 + rng.standard_normal(rows).cumsum() * 0.01, 4)
    size = rng.integers(1, 100, rows).astype(np.float64) * 100
    return pa.table({"key": key, "ts": pa.array(ts, pa.timestamp("us")), "symbol": sym,
                     "price": price, "size": size, "id": np.arange(1, rows + 1, dtype=np.int64)})


def write_wide(path, rows, seed=SEED):
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed + 1)
    schema = pa.schema([("c0", pa.int64())] + [(f"c{i}", pa.int64()) for i in range(1, 5)] +
                       [(f"c{i}", pa.float64()) for i in range(5, 10)])
    with pq.ParquetWriter(path, schema, compression="none") as w:
        for start in range(0, rows, WIDE_ROW_GROUP):
            n = min(WIDE_ROW_GROUP, rows - start)
            cols = [np.arange(start, start + n, dtype=np.int64)]
            cols += [rng.integers(0, 1 << 40, n, dtype=np.int64) for _ in range(4)]
            cols += [rng.random(n) * 1000 for _ in range(5)]
            w.write_table(pa.Table.from_arrays([pa.array(c) for c in cols], schema=schema),
                          row_group_size=WIDE_ROW_GROUP)


def generate(out=OUT, points_rows=POINTS_ROWS, wide_rows=WIDE_ROWS, force=False, quiet=False):
    out = os.path.join(ROOT, out) if not os.path.isabs(out) else out
    params = {"version": GEN_VERSION, "seed": SEED, "points_rows": points_rows,
              "points_row_group": POINTS_ROW_GROUP, "rows_per_key": ROWS_PER_KEY,
              "wide_rows": wide_rows, "wide_row_group": WIDE_ROW_GROUP}
    man = os.path.join(out, "_manifest.json")
    files = {"points": os.path.join(out, "points.parquet"),
             "wide": os.path.join(out, "wide.parquet")}
    try:
        with open(man) as fh:
            m = json.load(fh)
        if not force and m.get("params") == params and all(map(os.path.exists, files.values())):
            if not quiet:
                print(f"gen_server: {os.path.relpath(out, ROOT)} is up to date")
            return m
    except (OSError, ValueError):
        pass
    import pyarrow
    import pyarrow.parquet as pq
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    pq.write_table(points_table(points_rows), files["points"] + ".tmp",
                   row_group_size=POINTS_ROW_GROUP)
    os.replace(files["points"] + ".tmp", files["points"])
    write_wide(files["wide"] + ".tmp", wide_rows)
    os.replace(files["wide"] + ".tmp", files["wide"])
    m = {"params": params, "writer": f"pyarrow {pyarrow.__version__}",
         "total_rows": points_rows + wide_rows,
         "files": {k: {"path": os.path.relpath(v, ROOT), "bytes": os.path.getsize(v)}
                   for k, v in files.items()},
         "seconds": round(time.time() - t0, 1)}
    with open(man + ".tmp", "w") as fh:
        json.dump(m, fh, indent=1)
    os.replace(man + ".tmp", man)
    if not quiet:
        print(f"gen_server: wrote {os.path.relpath(out, ROOT)} (points {points_rows} rows, wide "
              f"{wide_rows} rows) in {m['seconds']}s")
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--points-rows", type=int, default=POINTS_ROWS)
    ap.add_argument("--wide-rows", type=int, default=WIDE_ROWS)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    generate(a.out, a.points_rows, a.wide_rows, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
