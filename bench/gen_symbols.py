#!/usr/bin/env python3
"""The symbols reference table of the tick data set, as Parquet (bench/README.md).

One row per ticker of bench/gen_ticks.py (its 200 tickers, the same for every variant of the tick
data since they come from the master RNG stream of the seed), with deterministic attributes:

  symbol      utf8     the ticker (join key with the ticks' symbol)
  name        utf8     "<symbol> Corp." / "<symbol> Inc." / ...
  sector      utf8     one of 11 GICS sectors (skewed: technology and financials are the largest)
  exchange    utf8     primary listing venue
  market_cap  double   in millions of USD (log-normal)
  listed      date32   listing date
  lot_size    int32    100, or 1 for a few

Written to data/bench/ref/symbols.parquet; skipped when the sidecar _manifest.json matches.

  bench/gen_symbols.py [--out PATH] [--seed S] [--force]
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_ticks  # noqa: E402

GEN_VERSION = 1
OUT = "data/bench/ref/symbols.parquet"
SECTORS = ["Information Technology", "Financials", "Health Care", "Consumer Discretionary",
           "Industrials", "Communication Services", "Consumer Staples", "Energy", "Utilities",
           "Real Estate", "Materials"]
SECTOR_WEIGHTS = [0.22, 0.16, 0.13, 0.11, 0.10, 0.08, 0.06, 0.05, 0.03, 0.03, 0.03]
SUFFIXES = ["Corp.", "Inc.", "Holdings", "Group", "Ltd."]


def make_table(seed=gen_ticks.DEFAULT_SEED):
    import numpy as np
    import pyarrow as pa
    symbols = gen_ticks._master(seed, 1)[0]
    n = len(symbols)
    rng = np.random.default_rng([seed, 2_000_000])
    sector = rng.choice(len(SECTORS), n, p=np.array(SECTOR_WEIGHTS) / sum(SECTOR_WEIGHTS))
    suffix = rng.integers(0, len(SUFFIXES), n)
    exch = rng.integers(0, 2, n)
    cap = np.round(np.exp(rng.normal(9.0, 1.5, n)), 2)
    listed = rng.integers(0, 365 * 40, n) + (-365 * 10)  # days since 1970, 1960..2000
    lot = np.where(rng.random(n) < 0.05, 1, 100).astype(np.int32)
    return pa.table({
        "symbol": pa.array(symbols, pa.string()),
        "name": pa.array([f"{s} {SUFFIXES[k]}" for s, k in zip(symbols, suffix)], pa.string()),
        "sector": pa.array([SECTORS[k] for k in sector], pa.string()),
        "exchange": pa.array([gen_ticks.EXCHANGES[k] for k in exch], pa.string()),
        "market_cap": pa.array(cap, pa.float64()),
        "listed": pa.array(listed.astype(np.int32), pa.int32()).cast(pa.date32()),
        "lot_size": pa.array(lot, pa.int32()),
    })


def generate(out=OUT, seed=gen_ticks.DEFAULT_SEED, force=False, quiet=False):
    path = os.path.join(gen_ticks.ROOT, out) if not os.path.isabs(out) else out
    manifest = os.path.join(os.path.dirname(path), "_manifest.json")
    params = {"generator": "bench/gen_symbols.py", "gen_version": GEN_VERSION, "seed": seed}
    try:
        with open(manifest) as fh:
            if not force and json.load(fh).get("params") == params and os.path.exists(path):
                if not quiet:
                    print(f"gen_symbols: {path} is up to date")
                return
    except (OSError, ValueError):
        pass
    import pyarrow.parquet as pq
    os.makedirs(os.path.dirname(path), exist_ok=True)
    t = make_table(seed)
    pq.write_table(t, path + ".tmp")
    os.replace(path + ".tmp", path)
    with open(manifest, "w") as fh:
        json.dump({"params": params, "total_rows": t.num_rows}, fh, indent=1)
    if not quiet:
        print(f"gen_symbols: wrote {path} ({t.num_rows} rows)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--seed", type=int, default=gen_ticks.DEFAULT_SEED)
    ap.add_argument("--force", action="store_true")
    a = ap.parse_args(argv)
    generate(a.out, a.seed, a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
