#!/usr/bin/env python3
"""The h2o.ai db-benchmark group-by table G1_<N>_1e2_0_0, written as Parquet (bench/README.md).

Written from the published description of the data set (db-benchmark's groupby-datagen.R):
N rows, K = 100 groups, no missing values, unsorted:

  id1, id2  utf8     sprintf("id%03d", 1..K) drawn uniformly          (K distinct values)
  id3       utf8     sprintf("id%010d", 1..N/K) drawn uniformly       (N/K distinct values)
  id4, id5  int32    1..K drawn uniformly
  id6       int32    1..N/K drawn uniformly
  v1        int32    1..5 drawn uniformly
  v2        int32    1..15 drawn uniformly
  v3        double   uniform on [0, 100), rounded to 6 decimals

The values come from numpy's PCG64 with a fixed seed (not R's generator, so the rows differ from
the published CSV files; the distributions are the same). Written by pyarrow's write_table with
its defaults (snappy, statistics) and 1 M-row row groups, as one file
data/bench/h2o/G1_1e7_1e2_0_0.parquet (full, N = 1e7) or data/sample/h2o/G1_1e6_1e2_0_0.parquet
(--small, N = 1e6). A manifest (_manifest.json) records the parameters; generation is skipped
when it matches.

  bench/gen_h2o.py [--small] [--rows N] [--out DIR] [--seed S] [--force]
"""
import argparse
import json
import os
import sys
import time

GEN_VERSION = 1
K = 100
DEFAULT_SEED = 20240103
FULL = {"out": "data/bench/h2o", "rows": 10_000_000}
SMALL = {"out": "data/sample/h2o", "rows": 1_000_000}
ROW_GROUP = 1_000_000

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _exp_name(n):
    """1e7 for 10_000_000, as the h2o file names spell row counts."""
    e = len(str(n)) - 1
    m = n / 10 ** e
    return f"{m:g}e{e}" if m != 1 else f"1e{e}"


def file_name(out, rows):
    return os.path.join(out, f"G1_{_exp_name(rows)}_1e2_0_0.parquet")


def make_table(rows, seed=DEFAULT_SEED):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    rng = np.random.default_rng(seed)
    nk = max(rows // K, 1)

    def strings(fmt, count, draws):
        dictionary = pa.array([fmt % i for i in range(1, count + 1)], pa.string())
        return pc.take(dictionary, pa.array(draws, pa.int32()))

    cols = {
        "id1": strings("id%03d", K, rng.integers(0, K, rows, dtype=np.int32)),
        "id2": strings("id%03d", K, rng.integers(0, K, rows, dtype=np.int32)),
        "id3": strings("id%010d", nk, rng.integers(0, nk, rows, dtype=np.int32)),
        "id4": pa.array(rng.integers(1, K + 1, rows, dtype=np.int32)),
        "id5": pa.array(rng.integers(1, K + 1, rows, dtype=np.int32)),
        "id6": pa.array(rng.integers(1, nk + 1, rows, dtype=np.int32)),
        "v1": pa.array(rng.integers(1, 6, rows, dtype=np.int32)),
        "v2": pa.array(rng.integers(1, 16, rows, dtype=np.int32)),
        "v3": pa.array(np.round(rng.uniform(0.0, 100.0, rows), 6)),
    }
    return pa.table(cols)


def params_of(rows, seed):
    return {"generator": "bench/gen_h2o.py", "gen_version": GEN_VERSION, "rows": rows, "k": K,
            "seed": seed}


def manifest_path(out):
    return os.path.join(out, "_manifest.json")


def generate(out, rows, seed=DEFAULT_SEED, force=False, quiet=False):
    """Writes the table unless the manifest already matches. Returns the manifest dict."""
    out = os.path.join(ROOT, out) if not os.path.isabs(out) else out
    params = params_of(rows, seed)
    path = file_name(out, rows)
    try:
        with open(manifest_path(out)) as fh:
            m = json.load(fh)
        if not force and m.get("params") == params and os.path.exists(path):
            if not quiet:
                print(f"gen_h2o: {path} is up to date")
            return m
    except (OSError, ValueError):
        pass
    import pyarrow
    import pyarrow.parquet as pq
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):  # stale files would be picked up by the glob
        if name.endswith(".parquet") or name.endswith(".tmp") or name == "_manifest.json":
            os.remove(os.path.join(out, name))
    t0 = time.time()
    t = make_table(rows, seed)
    pq.write_table(t, path + ".tmp", row_group_size=ROW_GROUP)
    os.replace(path + ".tmp", path)
    m = {"params": params, "writer": f"pyarrow {pyarrow.__version__} write_table defaults (snappy)",
         "total_rows": rows, "total_bytes": os.path.getsize(path),
         "files": [os.path.basename(path)], "seconds": round(time.time() - t0, 1)}
    with open(manifest_path(out) + ".tmp", "w") as fh:
        json.dump(m, fh, indent=1)
    os.replace(manifest_path(out) + ".tmp", manifest_path(out))
    if not quiet:
        print(f"gen_h2o: wrote {path}: {rows} rows, {m['total_bytes'] / 1e6:.0f} MB in "
              f"{m['seconds']}s")
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="N = 1e6 under data/sample/h2o")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--rows", type=int, help="number of rows N")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    a = ap.parse_args(argv)
    d = SMALL if a.small else FULL
    generate(a.out or d["out"], a.rows or d["rows"], a.seed, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
