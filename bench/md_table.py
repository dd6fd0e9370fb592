#!/usr/bin/env python3
"""Renders build/bench/results.json (bench/run.py) as a Markdown table for docs/benchmarks.md.

  bench/md_table.py [RESULTS_JSON]
"""
import json
import sys

GIB = 1024 ** 3


def main(argv):
    path = argv[0] if argv else "build/bench/results.json"
    with open(path) as fh:
        res = json.load(fh)
    print("| query | engine | median s | peak RSS GiB | x fastest peer | result |")
    print("|---|---|---|---|---|---|")
    for s in res["results"]:
        eng = f"**{s['engine']}**" if s["engine"] == "polaroid" else s["engine"]
        if "error" in s:
            print(f"| {s['query']} | {eng} | | | | error: {s['error'][:90]} |")
            continue
        ratio = f"{s['ratio_to_fastest_peer']:.2f}" if "ratio_to_fastest_peer" in s else "-"
        print(f"| {s['query']} | {eng} | {s['median_s']:.3f} | {s['peak_rss_bytes'] / GIB:.2f} | "
              f"{ratio} | {s.get('check', '-')} |")
    summ = res["meta"].get("polaroid_ratio_summary") or {}
    if summ:
        print()
        for g, v in summ.items():
            med = f"{v['median_ratio']:.2f}" if v["median_ratio"] is not None else "-"
            print(f"- polaroid / fastest peer, {g}: median {med} over {v['queries_run']} of "
                  f"{v['queries']} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
