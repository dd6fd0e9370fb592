#!/usr/bin/env python3
"""Deterministic generator of synthetic market ticks as Parquet files (bench/README.md).

Schema (one row per trade):
  ts        timestamp[us]  strictly increasing within a file and across files (file f = trading day f)
  symbol    utf8           200 tickers, Zipf-like frequencies (weight 1/rank^1.1)
  price     double         per-symbol geometric random walk, continuous across files, 4 decimals
  size      double         trade size: round lots, odd lots and fractional sizes
  side      utf8           "B" / "S"
  exchange  utf8           6 venues with skewed frequencies
  trade_id  int64          increasing (global row number + 1)

The data depends only on (seed, files, rows per file): file f is generated from its own RNG stream
(seed, f), and per-symbol price anchors at day boundaries come from a master stream, with a Brownian
bridge inside each day, so files can be generated in parallel and are identical whatever the order.

Files are written by Polars' write_parquet with its defaults (zstd, default row-group size), as a
Polars user would; with --writer duckdb by DuckDB's COPY ... (FORMAT parquet) with its defaults
(snappy, row groups of 122,880 rows), as a DuckDB user would: the same rows, another file layout
(data/bench/ticks_duckdb). A manifest (_manifest.json) records the parameters; when it matches and
every file exists, generation is skipped.

  bench/gen_ticks.py            full variant: 50 files under data/bench/ticks
  bench/gen_ticks.py --small    small variant: 5 files under data/sample/ticks (make run, quick bench)
  bench/gen_ticks.py --writer duckdb [--small]   the same under data/bench/ticks_duckdb
                                (data/sample/ticks_duckdb), written by DuckDB
  options: --out DIR --files N --rows N (rows per file) --seed S --jobs J --force
"""
import argparse
import json
import os
import sys
import time

GEN_VERSION = 1
N_SYMBOLS = 200
EXCHANGES = ["XNAS", "XNYS", "ARCX", "BATS", "EDGX", "IEXG"]
EXCHANGE_WEIGHTS = [0.34, 0.26, 0.15, 0.12, 0.08, 0.05]
DAY_US = 23_400 * 1_000_000  # 09:30-16:00

# Full variant: 50 files of ~100 MB; small variant: 5 files of ~10 MB.
FULL = {"out": "data/bench/ticks", "files": 50, "rows": 3_000_000}
SMALL = {"out": "data/sample/ticks", "files": 5, "rows": 1_000_000}
WRITERS = ("polars", "duckdb")
DEFAULT_SEED = 20240102

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _symbols(rng):
    """200 distinct deterministic tickers of 2-5 upper-case letters."""
    letters = [chr(ord("A") + i) for i in range(26)]
    seen, out = set(), []
    while len(out) < N_SYMBOLS:
        n = int(rng.integers(2, 6))
        s = "".join(letters[int(i)] for i in rng.integers(0, 26, n))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def _master(seed, files):
    """Parameters shared by all files: tickers, Zipf cdf, log-price anchors at day boundaries."""
    import numpy as np
    rng = np.random.default_rng([seed, 1_000_000])
    symbols = _symbols(rng)
    w = 1.0 / np.arange(1, N_SYMBOLS + 1) ** 1.1
    cdf = np.cumsum(w / w.sum())
    start = np.log(rng.uniform(5.0, 500.0, N_SYMBOLS))
    daily = rng.normal(0.0, 0.02, (files, N_SYMBOLS))
    anchors = np.vstack([start, start + np.cumsum(daily, axis=0)])  # (files+1, N_SYMBOLS)
    return symbols, cdf, anchors


def _day_start_us(f):
    """09:30 UTC of the f-th weekday from 2024-01-02 (f = 0)."""
    import numpy as np
    day = int(np.busday_offset("2024-01-02", f, roll="forward").astype("datetime64[D]").astype(np.int64))
    return (day * 86_400 + 9 * 3600 + 1800) * 1_000_000


def make_frame(f, seed, rows, files):
    """Builds file f's ticks as a Polars DataFrame (vectorised numpy)."""
    import numpy as np
    import polars as pl
    symbols, cdf, anchors = _master(seed, files)
    rng = np.random.default_rng([seed, f])
    n = rows

    sym = np.searchsorted(cdf, rng.random(n), side="right").astype(np.int32)
    np.minimum(sym, N_SYMBOLS - 1, out=sym)

    # Strictly increasing microsecond timestamps spread over the trading day.
    mean_gap = max(DAY_US / n, 1.0)
    gaps = 1 + np.floor(rng.exponential(mean_gap - 1.0 if mean_gap > 1 else 0.0, n)).astype(np.int64)
    ts = _day_start_us(f) + np.cumsum(gaps)

    # Per-symbol log-price: Brownian bridge from anchors[f] to anchors[f+1] with intraday noise.
    order = np.argsort(sym, kind="stable")
    counts = np.bincount(sym, minlength=N_SYMBOLS)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    g = sym[order]                                   # group id per sorted row
    cnt = counts[g].astype(np.float64)
    j = (np.arange(n) - starts[g] + 1).astype(np.float64)  # 1..n_s within group
    walk = np.cumsum(rng.standard_normal(n))
    base = np.concatenate(([0.0], walk))[starts]        # walk value before each group's start
    walk -= base[g]
    last = walk[np.maximum(starts + counts - 1, 0)]     # walk at each group's end
    bridge = (walk - (j / cnt) * last[g]) * (0.01 / np.sqrt(cnt))
    a0, a1 = anchors[f][g], anchors[f + 1][g]
    logp = a0 + (j / cnt) * (a1 - a0) + bridge
    price = np.empty(n)
    price[order] = np.round(np.exp(logp), 4)
    del order, g, cnt, j, walk, bridge, a0, a1, logp

    # Sizes: 50% round lots, 30% odd lots, 20% fractional (e.g. fractional-share / crypto-like).
    kind = rng.random(n)
    size = np.where(kind < 0.5, 100.0 * rng.geometric(0.35, n),
                    np.where(kind < 0.8, rng.integers(1, 100, n).astype(np.float64),
                             np.round(rng.lognormal(0.0, 1.5, n), 6)))

    side = (rng.random(n) < 0.5).astype(np.int32)
    exch = np.searchsorted(np.cumsum(EXCHANGE_WEIGHTS), rng.random(n) * sum(EXCHANGE_WEIGHTS),
                           side="right").astype(np.int32)
    np.minimum(exch, len(EXCHANGES) - 1, out=exch)
    trade_id = np.arange(f * rows + 1, (f + 1) * rows + 1, dtype=np.int64)

    return pl.DataFrame({
        "ts": pl.Series(ts).cast(pl.Datetime("us")),
        "symbol": pl.Series(symbols, dtype=pl.String).gather(sym),
        "price": price,
        "size": size,
        "side": pl.Series(["B", "S"], dtype=pl.String).gather(side),
        "exchange": pl.Series(EXCHANGES, dtype=pl.String).gather(exch),
        "trade_id": trade_id,
    })


def file_name(out, f):
    return os.path.join(out, f"ticks-{f:04d}.parquet")


def _sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def _write_one(args):
    f, seed, rows, files, out, writer, source = args
    t = time.time()
    path = file_name(out, f)
    tmp = path + ".tmp"
    if writer == "duckdb":
        import duckdb
        con = duckdb.connect()
        con.execute("SET threads = 1")  # the worker processes give the parallelism
        if source:  # the same rows, already generated by the Polars-written set: read them back
            con.execute("CREATE VIEW frame AS SELECT * FROM read_parquet(%s)"
                        % _sql_str(file_name(source, f)))
        else:
            con.register("frame", make_frame(f, seed, rows, files).to_arrow())
        # DuckDB defaults: snappy, row groups of 122,880 rows, statistics; the rows in order
        con.execute("COPY (SELECT * FROM frame) TO %s (FORMAT parquet)" % _sql_str(tmp))
        con.close()
    else:
        df = make_frame(f, seed, rows, files)
        df.write_parquet(tmp)  # Polars defaults: zstd, default row-group size, statistics
    os.replace(tmp, path)
    return f, os.path.getsize(path), time.time() - t


def params_of(seed, files, rows, writer="polars"):
    p = {"generator": "bench/gen_ticks.py", "gen_version": GEN_VERSION, "seed": seed,
         "files": files, "rows_per_file": rows}
    if writer != "polars":  # (Polars-written sets keep the manifests they had before --writer)
        p["writer"] = writer
    return p


def manifest_path(out):
    return os.path.join(out, "_manifest.json")


def is_current(out, params):
    try:
        with open(manifest_path(out)) as fh:
            m = json.load(fh)
    except (OSError, ValueError):
        return False
    if m.get("params") != params:
        return False
    return all(os.path.exists(file_name(out, f)) for f in range(params["files"]))


def generate(out, files, rows, seed=DEFAULT_SEED, jobs=None, force=False, quiet=False,
             writer="polars", source=None):
    """Generates the data set unless its manifest already matches. Returns the manifest dict.
    source: with writer "duckdb", a directory holding the Polars-written set of the same
    parameters: its files are rewritten by DuckDB (the same rows, much faster than generating)."""
    if writer not in WRITERS:
        raise ValueError(f"gen_ticks: unknown writer {writer!r} (one of {', '.join(WRITERS)})")
    out = os.path.join(ROOT, out) if not os.path.isabs(out) else out
    params = params_of(seed, files, rows, writer)
    if not force and is_current(out, params):
        with open(manifest_path(out)) as fh:
            m = json.load(fh)
        if not quiet:
            print(f"gen_ticks: {out} is up to date ({files} files x {rows} rows)")
        return m
    os.makedirs(out, exist_ok=True)
    try:
        os.remove(manifest_path(out))
    except OSError:
        pass
    for name in os.listdir(out):  # stale files from other parameters would be picked up by globs
        if name.startswith("ticks-") and (name.endswith(".parquet") or name.endswith(".tmp")):
            os.remove(os.path.join(out, name))
    jobs = jobs or os.cpu_count() or 1
    t0 = time.time()
    if source is not None:
        source = os.path.join(ROOT, source) if not os.path.isabs(source) else source
        if writer != "duckdb" or not is_current(source, params_of(seed, files, rows)):
            source = None
    work = [(f, seed, rows, files, out, writer, source) for f in range(files)]
    sizes = {}
    if jobs > 1 and files > 1:
        import multiprocessing as mp
        # One Polars thread per worker process: the processes give the parallelism.
        os.environ["POLARS_MAX_THREADS"] = "1"
        with mp.get_context("spawn").Pool(min(jobs, files)) as pool:
            for f, sz, dt in pool.imap_unordered(_write_one, work):
                sizes[f] = sz
                if not quiet:
                    print(f"gen_ticks: {file_name(out, f)} {sz / 1e6:.1f} MB in {dt:.1f}s", flush=True)
    else:
        for w in work:
            f, sz, dt = _write_one(w)
            sizes[f] = sz
            if not quiet:
                print(f"gen_ticks: {file_name(out, f)} {sz / 1e6:.1f} MB in {dt:.1f}s", flush=True)
    if writer == "duckdb":
        import duckdb
        written_by = f"duckdb {duckdb.__version__} COPY (FORMAT parquet) defaults (snappy)"
    else:
        import polars as pl
        written_by = f"polars {pl.__version__} write_parquet defaults (zstd)"
    m = {"params": params, "writer": written_by,
         "total_rows": files * rows, "total_bytes": sum(sizes.values()),
         "files": [os.path.basename(file_name(out, f)) for f in range(files)],
         "seconds": round(time.time() - t0, 1)}
    with open(manifest_path(out) + ".tmp", "w") as fh:
        json.dump(m, fh, indent=1)
    os.replace(manifest_path(out) + ".tmp", manifest_path(out))
    if not quiet:
        print(f"gen_ticks: wrote {files} files, {m['total_bytes'] / 1e9:.2f} GB, "
              f"{m['total_rows']} rows in {m['seconds']}s")
    return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--small", action="store_true", help="small variant (data/sample/ticks)")
    ap.add_argument("--out", help="output directory")
    ap.add_argument("--files", type=int, help="number of files")
    ap.add_argument("--rows", type=int, help="rows per file")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--writer", choices=WRITERS, default="polars",
                    help="who writes the files (default polars: zstd; duckdb: snappy, under "
                         "data/bench/ticks_duckdb or data/sample/ticks_duckdb)")
    a = ap.parse_args(argv)
    d = SMALL if a.small else FULL
    out = a.out or (d["out"] + "_duckdb" if a.writer == "duckdb" else d["out"])
    # the DuckDB-written set rewrites the Polars-written one when that one is up to date
    generate(out, a.files or d["files"], a.rows or d["rows"], a.seed, a.jobs, a.force,
             writer=a.writer, source=d["out"] if a.writer == "duckdb" else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
