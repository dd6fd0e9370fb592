#!/usr/bin/env python3
"""Renders build/bench/server.json (bench/server/server_bench.py) as Markdown tables for
docs/benchmarks.md.

  bench/server/md_server.py [SERVER_JSON]
"""
import json
import sys


def main(argv):
    path = argv[0] if argv else "build/bench/server.json"
    with open(path) as fh:
        res = json.load(fh)
    m, s = res["meta"], res.get("summary", {})
    print(f"{m['date']}, {m['host']} ({m['cores']} cores); {m['reps']} repetitions, "
          f"{m['duration']:g} s per load point after {m['warmup']:g} s of warm-up; load average "
          f"{m['load_average_start']} at the start, {m['load_average_end']} at the end.")
    if s.get("point"):
        print()
        print("| callers / connections | engine | QPS | p50 ms | p99 ms | server CPU us/query | "
              "load generator CPU us/query | x aio+Polars | x Flight+DuckDB |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in s["point"]:
            eng = f"**{r['engine']}**" if r["engine"].startswith("polaroid") else r["engine"]
            tool = "" if r["tool"] == "loadgen" else f" ({r['tool']})"

            def f(v, fmt):
                return format(v, fmt) if v is not None else "-"
            print(f"| {r['callers']} / {r['connections']}{tool} | {eng} | {r['qps']:.0f} | "
                  f"{r['p50_ms']:.2f} | {r['p99_ms']:.1f} | {f(r['server_us_per_query'], '.0f')} | "
                  f"{f(r['client_us_per_query'], '.0f')} | "
                  f"{f(r.get('x_polars-aio'), '.2f') if 'x_polars-aio' in r else ''} | "
                  f"{f(r.get('x_flight-duckdb'), '.2f') if 'x_flight-duckdb' in r else ''} |")
    for part, title in (("stream", "stream"), ("seed", "seed")):
        rows = s.get(part)
        if not rows:
            continue
        print()
        print(f"| {title}: engine | median s | GB/s | x fastest peer | client CPU s | "
              "server CPU s | rows | check |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                print(f"| {r['engine']} | | | | | | | error: {r['error'][:80]} |")
                continue
            eng = r["engine"] + (" (answered over gRPC)" if r.get("shared_memory") is False
                                 else "")
            eng = f"**{eng}**" if eng.startswith("polaroid") else eng
            scpu = f"{r['server_cpu_s']:.2f}" if r.get("server_cpu_s") is not None else "-"
            x = f"{r['x_fastest_peer']:.2f}" if "x_fastest_peer" in r else "-"
            print(f"| {eng} | {r['seconds']:.3f} | {r['gbps']:.2f} | {x} | {r['client_cpu_s']:.2f} | "
                  f"{scpu} | {r['rows']} | {r['check']} |")
    if s.get("goals"):
        print()
        for g in s["goals"]:
            print(f"- {'met' if g['met'] else '**missed**'}: {g['what']}: {g['got']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
