#!/usr/bin/env python3
"""The asyncio client's benchmark (issue 8): from one Python process with AsyncPolaroidClient,

  seed    batch_read + batch_collect of the tick files through `polaroid serve` vs Polars reading
          them in-process (pl.read_parquet per file, and pl.scan_parquet(glob).collect());
  qps     small point queries (an equality filter on the sorted key of the 1 M-row points table,
          held server-side) from 100 and 500 asyncio tasks through max_concurrent=50: QPS,
          p50/p99 and client CPU per query; against polaroid and against the Python grpc.aio +
          Polars peer (bench/server/peer_polars_aio.py, same protocol, same client);
  append  append_record of N records, then flush: records/s acknowledged.

  bench/async_bench.py [--small] [--parts seed,qps,append] [--seconds S] [--reps N] [--json PATH]

`make bench` runs it as the "async" group (bench/run.py --group async). With --reps N every
measurement is repeated N times (the parts interleave polaroid and its peers within a repetition)
and the summary gives medians; before each timed part of the seed the harness waits until this
process and the server are idle (settle(): freed memory goes back to the kernel in the background,
e.g. Polars' allocator purging a dropped frame's GBs, which would otherwise run inside the next
engine's timed window); every run is kept in the JSON ("runs"), with the goals of issue 8
checked in "goals".

Data: data/bench/ticks (--small: data/sample/ticks) and data/bench/server/points.parquet (made by
`make bench`'s server group; bench/server/gen_server.py). Servers run on loopback with the
release binary (build/polaroid, or $POLAROID). Writes build/bench/async.json.
"""
from __future__ import annotations

import argparse
import asyncio
import glob
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python"))
DATA = os.path.join(ROOT, "data")

import polaroid as pd  # noqa: E402
from polaroid.async_client import AsyncPolaroidClient  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def proc_cpu(pid: int) -> float:
    """CPU seconds of process pid so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def settle(pids, quiet: float = 0.05, window: float = 0.5, limit: float = 30.0) -> float:
    """Waits until this process and pids use less than `quiet` CPU-seconds in a `window`
    (at most `limit` s); returns the seconds waited. Freed memory is given back to the kernel
    in the background after a measurement (Polars' jemalloc purges GBs for seconds after its
    frame is dropped; the server pools its files): without this, that work would run inside
    the next engine's timed window."""
    t0 = time.perf_counter()
    pids = [p for p in pids if p]
    while time.perf_counter() - t0 < limit:
        before = cpu() + sum(proc_cpu(p) for p in pids)
        time.sleep(window)
        if cpu() + sum(proc_cpu(p) for p in pids) - before < quiet:
            break
    return time.perf_counter() - t0


class Proc:
    def __init__(self, argv, pattern: str) -> None:
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        deadline = time.time() + 120
        while time.time() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            m = re.search(pattern, line)
            if m:
                self.addr = m.group(1)
                return
        self.p.kill()
        raise RuntimeError(f"{argv[0]} did not start")

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()


def polaroid_server(threads: int = 0) -> Proc:
    binary = os.environ.get("POLAROID", os.path.join(ROOT, "build", "polaroid"))
    argv = [binary, "serve", "--listen", "127.0.0.1:0", "--data-root", DATA]
    if threads:
        argv += ["--threads", str(threads)]
    return Proc(argv, r"listening on (\S+?), data root")


def peer_server() -> Proc:
    return Proc([sys.executable, os.path.join(HERE, "server", "peer_polars_aio.py"), "--listen", "127.0.0.1:0",
                 "--data-root", DATA, "--table", "points=bench/server/points.parquet"], r"READY (\S+)")


# ------------------------------------------------------------------ parts


async def part_seed(addr: str, files, out: dict, server_pid: int = 0) -> None:
    rel = [os.path.relpath(f, DATA) for f in files]
    async with AsyncPolaroidClient(addr, max_concurrent=8, timeout=600) as c:
        (await c.wait_ready()).unwrap()
        out["settle_s"] = [await asyncio.get_running_loop().run_in_executor(None, settle, [server_pid])]
        t0, c0 = time.perf_counter(), cpu()
        frames = await c.batch_read(rel)
        tables = await c.batch_collect(frames)
        dt, dc = time.perf_counter() - t0, cpu() - c0
        bad = [r for r in tables if r.is_err()]
        if bad:
            raise RuntimeError(f"seed: {bad[0]}")
        rows = sum(t.unwrap().num_rows for t in tables)
        nbytes = sum(t.unwrap().nbytes for t in tables)
        del tables, frames
    out["seed_polaroid"] = {"seconds": dt, "client_cpu_s": dc, "rows": rows, "bytes": nbytes}
    import polars as pl

    out["settle_s"].append(settle([server_pid]))
    t0 = time.perf_counter()
    frames = [pl.read_parquet(f) for f in files]  # held, like the client's tables
    dt = time.perf_counter() - t0
    n = sum(f.height for f in frames)
    del frames
    out["seed_polars_read_each"] = {"seconds": dt, "rows": n}
    out["settle_s"].append(settle([server_pid]))
    t0 = time.perf_counter()
    n = pl.scan_parquet(files).collect().height
    out["seed_polars_scan_glob"] = {"seconds": time.perf_counter() - t0, "rows": n}


async def part_qps(addr: str, engine: str, tasks: int, seconds: float, out: list, setup: bool) -> None:
    async with AsyncPolaroidClient(addr, max_concurrent=50, timeout=60) as c:
        if setup:  # polaroid: the points table held in server memory
            (await c.create_table("points", data=c.scan_frame("bench/server/points.parquet"),
                                  replace=True)).unwrap()
        pts = c.table("points")
        plans = [pts.filter(pd.col("key") == k) for k in range(1000, 1000 + 997 * 7, 7)]
        r = (await c.collect(plans[0])).unwrap()
        assert r.num_rows >= 1, r
        lat = []
        stop = time.perf_counter() + seconds
        errors = 0

        async def task(i: int) -> None:
            nonlocal errors
            j = i
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await c.collect(plans[j % len(plans)])
                lat.append(time.perf_counter() - t0)
                errors += r.is_err()
                j += 1

        t0, c0 = time.perf_counter(), cpu()
        await asyncio.gather(*(task(i) for i in range(tasks)))
        dt, dc = time.perf_counter() - t0, cpu() - c0
        lat.sort()
        n = len(lat)
        out.append({"engine": engine, "tasks": tasks, "queries": n, "errors": errors, "qps": n / dt,
                    "p50_ms": lat[n // 2] * 1e3, "p99_ms": lat[min(n - 1, int(n * 0.99))] * 1e3,
                    "client_cpu_us": dc / max(1, n) * 1e6, "peak_in_flight": c.stats.peak_in_flight})


async def part_append(addr: str, n: int, out: dict) -> None:
    async with AsyncPolaroidClient(addr, timeout=60) as c:
        (await c.create_table("bench_ticks", {"ts": "BIGINT", "symbol": "VARCHAR", "price": "DOUBLE",
                                              "size": "BIGINT"}, replace=True)).unwrap()
        recs = [{"ts": i, "symbol": "AAPL" if i % 3 else "MSFT", "price": 100.0 + (i % 97) * 0.01, "size": i % 500}
                for i in range(n)]
        t0, c0 = time.perf_counter(), cpu()
        for r in recs:
            await c.append_record(r, table="bench_ticks")
        f = await c.flush()
        dt, dc = time.perf_counter() - t0, cpu() - c0
        assert f.unwrap() == n, f
        cnt = (await c.query("SELECT count(*) AS n FROM bench_ticks")).unwrap()["n"][0].as_py()
        assert cnt == n
        out["append"] = {"records": n, "seconds": dt, "records_per_s": n / dt, "client_cpu_s": dc,
                         "requests": c.stats.append_requests}
        await c.drop_table("bench_ticks")


def _scan_frame(self, path: str):
    from polaroid.frame import read_files_relation

    return self._df(read_files_relation(path, "parquet"))


AsyncPolaroidClient.scan_frame = _scan_frame  # a lazy frame without the Schema check


def load_average() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "?"


def versions() -> dict:
    import grpc
    import polars as pl
    import pyarrow as pa

    return {"python": sys.version.split()[0], "polars": pl.__version__, "pyarrow": pa.__version__,
            "grpcio": grpc.__version__}


def med(xs):
    return statistics.median(xs) if xs else None


GOALS = {"qps_500": 5000.0, "append_records_per_s": 200_000.0, "seed_speedup": 2.0}


def summarise(runs: dict) -> dict:
    """Medians over the repetitions, and the goals of issue 8 (met / missed)."""
    s: dict = {}
    goals = []
    if runs["seed"]:
        keys = ["seed_polaroid", "seed_polars_read_each", "seed_polars_scan_glob"]
        for k in keys:
            xs = [r[k]["seconds"] for r in runs["seed"]]
            s[k] = dict(runs["seed"][0][k], seconds=med(xs), seconds_all=xs, reps=len(xs))
        # the server keeps a dropped result's /dev/shm pages for the same client's next one
        # (docs/server.md, "Reuse of the pages"): the first repetition writes fresh pages
        first = runs["seed"][0]["seed_polaroid"]["seconds"]
        s["seed_polaroid"]["first_seconds"] = first
        if len(runs["seed"]) > 1:
            s["seed_polaroid"]["later_seconds"] = med([r["seed_polaroid"]["seconds"] for r in runs["seed"][1:]])
        best_polars = min(s["seed_polars_read_each"]["seconds"], s["seed_polars_scan_glob"]["seconds"])
        speedup = best_polars / s["seed_polaroid"]["seconds"]
        s["seed_speedup_vs_fastest_polars"] = speedup
        goals.append({"what": f"batch_read + batch_collect of the tick files >= {GOALS['seed_speedup']:g}x "
                              "faster than Polars in-process (its faster variant)",
                      "got": f"{speedup:.2f}x ({s['seed_polaroid']['seconds']:.2f} s vs {best_polars:.2f} s; "
                             f"polaroid's first run {first:.2f} s)",
                      "met": speedup >= GOALS["seed_speedup"]})
    if runs["qps"]:
        rows = []
        for key in sorted({(r["engine"], r["tasks"]) for r in runs["qps"]}, key=lambda k: (k[0] != "polaroid", k)):
            rs = [r for r in runs["qps"] if (r["engine"], r["tasks"]) == key]
            rows.append({"engine": key[0], "tasks": key[1], "reps": len(rs),
                         **{f: med([r[f] for r in rs]) for f in ("qps", "p50_ms", "p99_ms", "client_cpu_us")},
                         "queries": sum(r["queries"] for r in rs), "errors": sum(r["errors"] for r in rs),
                         "peak_in_flight": max(r["peak_in_flight"] for r in rs)})
        s["qps"] = rows
        p500 = next((r for r in rows if r["engine"] == "polaroid" and r["tasks"] == 500), None)
        if p500:
            goals.append({"what": f">= {GOALS['qps_500']:g} QPS of small queries from 500 asyncio tasks in one process",
                          "got": f"{p500['qps']:.0f} QPS, p99 {p500['p99_ms']:.1f} ms",
                          "met": p500["qps"] >= GOALS["qps_500"]})
        for t in sorted({r["tasks"] for r in rows}):
            a = next((r for r in rows if r["engine"] == "polaroid" and r["tasks"] == t), None)
            b = next((r for r in rows if r["engine"] == "polars-aio" and r["tasks"] == t), None)
            if a and b:
                s.setdefault("qps_ratio_vs_polars_aio", {})[str(t)] = a["qps"] / b["qps"]
    if runs["append"]:
        xs = [r["records_per_s"] for r in runs["append"]]
        s["append"] = dict(runs["append"][0], records_per_s=med(xs), records_per_s_all=xs,
                           seconds=med([r["seconds"] for r in runs["append"]]), reps=len(xs))
        goals.append({"what": f"append_record >= {GOALS['append_records_per_s']:,.0f} records/s acknowledged",
                      "got": f"{s['append']['records_per_s']:,.0f} records/s",
                      "met": s["append"]["records_per_s"] >= GOALS["append_records_per_s"]})
    s["goals"] = goals
    return s


def main() -> int:
    global DATA
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="the 5 sample tick files, shorter runs")
    ap.add_argument("--parts", default="seed,qps,append")
    ap.add_argument("--seconds", type=float, default=5.0, help="per QPS measurement")
    ap.add_argument("--tasks", default="100,500")
    ap.add_argument("--records", type=int, default=500_000)
    ap.add_argument("--reps", type=int, default=1, help="repetitions of every measurement (medians)")
    ap.add_argument("--no-peer", action="store_true", help="skip the grpc.aio + Polars peer")
    ap.add_argument("--json", default=os.path.join(ROOT, "build", "bench", "async.json"))
    ap.add_argument("--data-root", default=DATA, help="the servers' data root (default: the checkout's data/)")
    a = ap.parse_args()
    DATA = os.path.abspath(a.data_root)
    parts = a.parts.split(",")
    for p in parts:
        if p not in ("seed", "qps", "append"):
            raise SystemExit(f"async_bench: unknown part {p!r} (known: seed, qps, append)")
    files = sorted(glob.glob(os.path.join(DATA, "sample" if a.small else "bench", "ticks", "*.parquet")))
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "host": os.uname().nodename,
            "cores": os.cpu_count(), "load_average_start": load_average(), "small": a.small,
            "reps": a.reps, "parts": parts, "seconds": a.seconds, "tasks": a.tasks,
            "tick_files": len(files), "versions": versions(),
            "argv": sys.argv[1:]}
    print(f"async bench: {meta['host']}, {meta['cores']} cores, load average {meta['load_average_start']}; "
          f"reps {a.reps}; {len(files)} tick files", flush=True)
    runs: dict = {"seed": [], "qps": [], "append": []}
    s = polaroid_server()
    try:
        for rep in range(a.reps):
            tag = f"[rep {rep + 1}/{a.reps}] " if a.reps > 1 else ""
            if "seed" in parts:
                out: dict = {}
                asyncio.run(part_seed(s.addr, files, out, s.p.pid))
                runs["seed"].append(out)
                p, e, g = out["seed_polaroid"], out["seed_polars_read_each"], out["seed_polars_scan_glob"]
                print(f"{tag}seed: {len(files)} tick files ({p['rows']} rows, {p['bytes'] / 1e9:.2f} GB)")
                print(f"  AsyncPolaroidClient batch_read+batch_collect: {p['seconds']:.2f} s "
                      f"(client CPU {p['client_cpu_s']:.2f} s)")
                print(f"  Polars in-process read_parquet per file:      {e['seconds']:.2f} s")
                print(f"  Polars in-process scan_parquet(files):         {g['seconds']:.2f} s", flush=True)
            if "qps" in parts:
                rows: list = []
                for t in [int(x) for x in a.tasks.split(",")]:
                    asyncio.run(part_qps(s.addr, "polaroid", t, a.seconds, rows, setup=True))
                if not a.no_peer:
                    peer = peer_server()
                    try:
                        for t in [int(x) for x in a.tasks.split(",")]:
                            asyncio.run(part_qps(peer.addr, "polars-aio", t, a.seconds, rows, setup=False))
                    finally:
                        peer.stop()
                runs["qps"].extend(dict(r, rep=rep) for r in rows)
                print(f"{tag}qps: point queries from asyncio tasks (max_concurrent=50), one client process")
                print(f"  {'server':12} {'tasks':>5} {'QPS':>7} {'p50 ms':>7} {'p99 ms':>7} {'client us/q':>11} {'errors':>6}")
                for r in rows:
                    print(f"  {r['engine']:12} {r['tasks']:>5} {r['qps']:>7.0f} {r['p50_ms']:>7.1f} {r['p99_ms']:>7.1f} "
                          f"{r['client_cpu_us']:>11.0f} {r['errors']:>6}", flush=True)
            if "append" in parts:
                n = min(a.records, 100_000) if a.small else a.records
                out = {}
                asyncio.run(part_append(s.addr, n, out))
                runs["append"].append(out["append"])
                r = out["append"]
                print(f"{tag}append: {r['records']} records in {r['seconds']:.2f} s = {r['records_per_s']:.0f} "
                      f"records/s acknowledged ({r['requests']} Append requests)", flush=True)
    finally:
        s.stop()
    meta["load_average_end"] = load_average()
    summary = summarise(runs)
    if summary["goals"]:
        print("goals (issue 8):")
        for g in summary["goals"]:
            print(f"  {'met ' if g['met'] else 'MISS'}  {g['what']}: {g['got']}")
    result = {"meta": meta, "summary": summary, "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
