#!/usr/bin/env python3
"""docs/PERFORMANCE_COMPARISON.md from `make bench`'s results files: tables, and charts drawn with
matplotlib into docs/img/*.png. Run by `make bench` after its groups (bench/run.py; skip with
--no-report), or by hand:

  bench/report.py [--results build/bench/results.json] [--server build/bench/server.json]
                  [--async build/bench/async.json] [--notebook build/bench/notebook/results.json]
                  [--out docs/PERFORMANCE_COMPARISON.md] [--img docs/img] [--no-charts]

Each group writes its own file (bench/README.md), so a run of some groups keeps the others'
last results: every section says when, how and under what machine load its numbers were
measured. A missing file gives a section that says how to produce it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1 << 30
ENGINE_COLORS = {"polaroid": "#d62728", "polars": "#1f77b4", "polars-streaming": "#6baed6",
                 "duckdb": "#ff7f0e", "duckdb-table": "#fdae6b", "polars-aio": "#1f77b4",
                 "flight-duckdb": "#ff7f0e"}


def color(engine: str) -> str:
    if engine in ENGINE_COLORS:
        return ENGINE_COLORS[engine]
    if engine.startswith("polaroid"):  # polaroid (file), polaroid (same-host shm), ...
        return "#ff9896"
    for k in sorted(ENGINE_COLORS, key=len, reverse=True):
        if engine.startswith(k):
            return ENGINE_COLORS[k]
    return "#7f7f7f"


def load(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def md_table(headers, rows, align=None):
    align = align or ["l"] + ["r"] * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def fnum(x, fmt="{:.2f}"):
    return "-" if x is None else fmt.format(x)


class Charts:
    """matplotlib, headless; PNGs without a timestamp (the same numbers give the same bytes)."""

    def __init__(self, img_dir: str, doc_dir: str) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        self.plt = plt
        self.img_dir = img_dir
        self.doc_dir = doc_dir
        os.makedirs(img_dir, exist_ok=True)

    def save(self, fig, name: str) -> str:
        path = os.path.join(self.img_dir, name)
        fig.tight_layout()
        fig.savefig(path, dpi=110, metadata={"Software": None})
        self.plt.close(fig)
        return os.path.relpath(path, self.doc_dir)

    def ratio_bars(self, name, title, ratios):
        """One bar per (label, ratio), a line at 1."""
        plt = self.plt
        fig, ax = plt.subplots(figsize=(8.5, max(2.4, 0.28 * len(ratios) + 1.2)))
        ys = range(len(ratios))
        xs = [r for _, r in ratios]
        ax.barh(ys, xs, color=["#2ca02c" if x <= 1 else "#d62728" for x in xs])
        for y, x in zip(ys, xs):
            ax.text(x, y, f" {x:.2f}", va="center", fontsize=7)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([q for q, _ in ratios])
        ax.invert_yaxis()
        ax.set_xlabel("ratio")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        return self.save(fig, name)

    def grouped_bars(self, name, title, groups, series, values, xlabel, log=False, note=None):
        """Horizontal bars: for each group (a row), one bar per series; values[(group, series)]."""
        plt = self.plt
        n, m = len(groups), len(series)
        fig, ax = plt.subplots(figsize=(8.5, max(2.4, 0.16 * n * m + 1.2)))
        h = 0.8 / m
        for j, s in enumerate(series):
            ys, xs = [], []
            for i, g in enumerate(groups):
                v = values.get((g, s))
                if v is not None:
                    ys.append(i + (j - (m - 1) / 2) * h)
                    xs.append(v)
            ax.barh(ys, xs, height=h, label=s, color=color(s))
            for y, x in zip(ys, xs):
                ax.text(x, y, f" {x:,.0f}" if x >= 100 else f" {x:.3g}", va="center", fontsize=7)
        ax.set_yticks(range(n))
        ax.set_yticklabels(groups)
        ax.invert_yaxis()
        vs = [v for v in values.values() if v]
        if log and vs and max(vs) / min(vs) > 20:  # a log axis only when the range needs one
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
        ax.grid(axis="x", alpha=0.3)
        if note:
            fig.text(0.01, 0.01, note, fontsize=7, color="#555555")
        return self.save(fig, name)


# ------------------------------------------------------------------ sections


def section_queries(d, charts, path):
    out = ["## Query groups: read, h2o, ticks, tpch (`bench/run.py`)", ""]
    if not d:
        return out + [f"Not measured yet: no `{path}`. Run `make bench` (or `make bench "
                      "BENCH_ARGS=\"--group read,h2o,ticks,tpch\"`).", ""]
    m = d["meta"]
    ds = ", ".join(f"{k}: `{v['dir']}` ({v['manifest'].get('total_rows', '?'):,} rows, "
                   f"{v['bytes_on_disk'] / 1e9:.2f} GB)" for k, v in m.get("datasets", {}).items())
    out += [f"Measured {m['date']} on {m['host']} ({m['cores']} cores), groups "
            f"{', '.join(m.get('groups', []))}"
            + (f" (`bench/run.py {_cmdline(m['argv'])}`)" if m.get("argv") else "") +
            f", {m['reps']} repetitions per query and engine, "
            f"threads {m.get('threads') or 'engine defaults'}, "
            f"{'small' if m.get('small') else 'full'} data ({ds})"
            + (f"; load average {m['load_average_start']} at the start, {m.get('load_average_end')} at the end"
               if m.get("load_average_start") else "") + ". Versions: "
            + ", ".join(f"{k} {v}" for k, v in sorted((m.get("versions") or {}).items())) + ".", "",
            "Each measurement is a fresh process; polaroid's time is the whole process "
            "(`polaroid sql`/`cat`, start-up included), the peers' the query call only (import "
            "excluded). Median of the repetitions; *x fastest peer* is polaroid's median over the "
            "best peer's (below 1 = polaroid faster than every peer).", ""]
    res = [r for r in d["results"]]
    queries = list(dict.fromkeys(r["query"] for r in res))
    engines = list(dict.fromkeys(r["engine"] for r in res))
    rows = []
    for q in queries:
        row = [q]
        by = {r["engine"]: r for r in res if r["query"] == q}
        for e in engines:
            r = by.get(e)
            row.append("-" if r is None else "error" if "median_s" not in r else f"{r['median_s']:.3f}")
        p = by.get("polaroid", {})
        row.append(fnum(p.get("ratio_to_fastest_peer")))
        row.append(p.get("check", "-") if p else "-")
        rows.append(row)
    out += [md_table(["query"] + [f"{e} s" for e in engines] + ["polaroid x fastest peer", "polaroid check"],
                     rows, ["l"] + ["r"] * (len(engines) + 1) + ["l"]), ""]
    summ = m.get("polaroid_ratio_summary") or {}
    if summ:
        out += ["Median of polaroid / fastest peer per group: " + ", ".join(
            f"{g} {v['median_ratio']:.2f} ({v['queries_run']} of {v['queries']} queries)"
            for g, v in summ.items() if v.get("median_ratio") is not None) + ".", ""]
    if m.get("mismatches"):
        out += ["**Result mismatches:** " + ", ".join(m["mismatches"]), ""]
    if charts:
        ratios = [(r["query"], r["ratio_to_fastest_peer"]) for r in res
                  if r["engine"] == "polaroid" and r.get("ratio_to_fastest_peer")]
        if ratios:
            img = charts.ratio_bars("bench_polaroid_ratio.png", "polaroid time / fastest peer's time "
                                    "(below 1: polaroid fastest)", ratios)
            out += [f"![polaroid / fastest peer]({img})", ""]
        vals = {(r["query"], r["engine"]): r["median_s"] for r in res if "median_s" in r}
        for g in dict.fromkeys(q.split("_")[0] for q in queries):
            gq = [q for q in queries if q.split("_")[0] == g]
            img = charts.grouped_bars(f"bench_{g}_time.png", f"{g}: median seconds per query "
                                      "(lower is better)", gq, engines,
                                      {k: v for k, v in vals.items() if k[0] in gq}, "seconds", log=True)
            out += [f"![{g}: median seconds per query]({img})", ""]
        mem = [r for r in res if r.get("mem_ratio") is not None]
        if mem:
            mq = list(dict.fromkeys(r["query"] for r in mem))
            vals = {(r["query"], r["engine"]): r["peak_rss_bytes"] / GIB for r in mem}
            img = charts.grouped_bars("bench_read_memory.png", "peak RSS of the read queries, GiB "
                                      "(lower is better)", mq, engines, vals, "GiB")
            ref = {r["query"]: r["ref_nbytes"] for r in mem if r.get("ref_nbytes")}
            out += [f"![peak memory of the read queries]({img})", "",
                    "Arrow in-memory size of the read results: " + ", ".join(
                        f"{q} {v / GIB:.2f} GiB" for q, v in ref.items()) + ".", ""]
    return out


def section_server(d, charts, path):
    out = ["## Server group: `polaroid serve` vs grpc.aio + Polars vs Flight + DuckDB "
           "(`bench/server/server_bench.py`)", ""]
    if not d:
        return out + [f"Not measured yet: no `{path}`. Run `make bench BENCH_ARGS=\"--group server\"`.", ""]
    m, s = d["meta"], d.get("summary", {})
    out += [f"Measured {m['date']} on {m['host']} ({m['cores']} cores), {m['reps']} repetition(s), "
            f"{m.get('duration')} s per load point after {m.get('warmup')} s of warm-up, server "
            f"threads {m.get('threads')}, load generator `{m.get('loadgen')}`; load average "
            f"{m.get('load_average_start')} at the start, {m.get('load_average_end')} at the end.", ""]
    pts = [r for r in s.get("point", []) if r.get("tool", "loadgen") == "loadgen"]
    if pts:
        out += ["**Point queries** (`SELECT * FROM points WHERE key = K` on a 1 M-row table held by "
                "the server; a closed loop of C callers over N connections):", ""]
        rows = [[f"{r['callers']}/{r['connections']}", r["engine"], f"{r['qps']:.0f}",
                 f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", fnum(r.get("server_us_per_query"), "{:.0f}"),
                 r.get("errors", 0)] for r in pts]
        out += [md_table(["callers/connections", "engine", "QPS", "p50 ms", "p99 ms", "server CPU us/query",
                          "errors"], rows, ["l", "l", "r", "r", "r", "r", "r"]), ""]
        if charts:
            loads = list(dict.fromkeys(f"{r['callers']}/{r['connections']}" for r in pts))
            engines = list(dict.fromkeys(r["engine"] for r in pts))
            vals = {(f"{r['callers']}/{r['connections']}", r["engine"]): r["qps"] for r in pts}
            img = charts.grouped_bars("server_point_qps.png", "point queries: QPS by load "
                                      "(callers/connections; higher is better)", loads, engines, vals, "QPS")
            out += [f"![point-query QPS]({img})", ""]
    for part, title in (("stream", "**Streaming** a 20 M x 10 table (1.6 GB as Arrow) into a pyarrow Table:"),
                        ("seed", "**Seed**: the tick files read by the server and collected in Python, "
                                 "vs Polars reading them in the Python process:")):
        rs = s.get(part) or []
        if not rs:
            continue
        rows = [[r["engine"], "error: " + r["error"], "", "", ""] if "error" in r else
                [r["engine"], f"{r['seconds']:.3f}", f"{r['gbps']:.2f}", fnum(r.get("x_fastest_peer")),
                 r.get("check", "-")] for r in rs]
        out += [title, "", md_table(["engine", "median s", "GB/s", "x fastest peer", "check"], rows,
                                    ["l", "r", "r", "r", "l"]), ""]
        if charts:
            ok = [r for r in rs if "error" not in r]
            vals = {(part, r["engine"]): r["seconds"] for r in ok}
            img = charts.grouped_bars(f"server_{part}_seconds.png", f"{part}: seconds (lower is better)",
                                      [part], [r["engine"] for r in ok], vals, "seconds")
            out += [f"![{part} seconds]({img})", ""]
    if s.get("goals"):
        out += ["Issue 7's goals:", "", md_table(["goal", "measured", "met"],
                                                   [[g["what"], g["got"], "yes" if g["met"] else "**no**"]
                                                    for g in s["goals"]], ["l", "l", "l"]), ""]
    return out


def section_async(d, charts, path):
    out = ["## Async group: `AsyncPolaroidClient` from one Python process (`bench/async_bench.py`)", ""]
    if not d:
        return out + [f"Not measured yet: no `{path}`. Run `make bench BENCH_ARGS=\"--group async\"`.", ""]
    if "meta" not in d:  # an older file without the summary
        return out + [f"`{path}` predates the report's format: rerun `make bench BENCH_ARGS=\"--group async\"`.", ""]
    m, s = d["meta"], d["summary"]
    v = m.get("versions", {})
    files = f"the {m.get('tick_files')} {'small (make run) ' if m.get('small') else ''}tick files"
    out += [f"Measured {m['date']} on {m['host']} ({m['cores']} cores), {m['reps']} repetition(s) "
            f"(medians), {files}, {m.get('seconds')} s per QPS point"
            + (f" (`bench/async_bench.py {_cmdline(m['argv'])}`)" if m.get("argv") else "") +
            f"; load average {m.get('load_average_start')} "
            f"at the start, {m.get('load_average_end')} at the end. Python {v.get('python')}, Polars "
            f"{v.get('polars')}, pyarrow {v.get('pyarrow')}, grpcio {v.get('grpcio')}. Servers on "
            "loopback: `build/polaroid serve` (release), and `bench/server/peer_polars_aio.py` "
            "(grpc.aio + Polars speaking the same protocol, so the same client drives both).", ""]
    if "seed_polaroid" in s:
        p, e, g = s["seed_polaroid"], s["seed_polars_read_each"], s["seed_polars_scan_glob"]
        out += ["**Seed: read the tick files into Python.** polaroid: `await client.batch_read(paths)` "
                "then `await client.batch_collect(frames)` (pyarrow Tables in the client; "
                "`max_concurrent=8`); Polars in the same process: `pl.read_parquet` per file (all "
                "frames held, as the client holds its tables), and `pl.scan_parquet(files).collect()`.", "",
                md_table(["how", "median s", "rows", "x polaroid"],
                         [["polaroid: batch_read + batch_collect", f"{p['seconds']:.3f}", f"{p['rows']:,}", "1.00"],
                          ["Polars: read_parquet per file", f"{e['seconds']:.3f}", f"{e['rows']:,}",
                           f"{e['seconds'] / p['seconds']:.2f}"],
                          ["Polars: scan_parquet(files).collect()", f"{g['seconds']:.3f}", f"{g['rows']:,}",
                           f"{g['seconds'] / p['seconds']:.2f}"]], ["l", "r", "r", "r"]), "",
                "(*x polaroid* above 1: polaroid faster.)"
                + (f" polaroid's first repetition took {p['first_seconds']:.3f} s, the later ones "
                   f"{p['later_seconds']:.3f} s (median): the server writes a result over the "
                   "/dev/shm pages of the client's earlier, dropped results (docs/server.md, "
                   "\"Reuse of the pages\"), the first one into fresh pages."
                   if p.get("later_seconds") is not None else ""), ""]
        if charts:
            names = ["polaroid batch_read+collect", "Polars read_parquet each", "Polars scan_parquet"]
            vals = {("seed", n): x for n, x in zip(names, [p["seconds"], e["seconds"], g["seconds"]])}
            img = charts.grouped_bars("async_seed.png", f"{m.get('tick_files')} tick files into Python: "
                                      "seconds (lower is better)", ["seed"], names, vals, "seconds")
            out += [f"![seed batch read]({img})", ""]
    if s.get("qps"):
        out += ["**Small queries from many asyncio tasks.** An equality filter on the sorted key of "
                "the 1 M-row points table (held by the server), collected into a pyarrow Table, "
                "from 100 and 500 tasks of one event loop through `max_concurrent=50`; a closed loop "
                "(each task sends its next query when the last returned). Client CPU per query is "
                "the Python process's.", "",
                md_table(["server", "tasks", "QPS", "p50 ms", "p99 ms", "client CPU us/query", "errors"],
                         [[r["engine"], r["tasks"], f"{r['qps']:.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                           f"{r['client_cpu_us']:.0f}", r["errors"]] for r in s["qps"]],
                         ["l", "r", "r", "r", "r", "r", "r"]), ""]
        ratios = s.get("qps_ratio_vs_polars_aio") or {}
        if ratios:
            out += ["polaroid / grpc.aio + Polars QPS: " + ", ".join(f"{x:.2f}x at {t} tasks"
                                                                     for t, x in ratios.items()) + ".", ""]
        if charts:
            tasks = [f"{t} tasks" for t in sorted({r["tasks"] for r in s["qps"]})]
            engines = list(dict.fromkeys(r["engine"] for r in s["qps"]))
            vals = {(f"{r['tasks']} tasks", r["engine"]): r["qps"] for r in s["qps"]}
            img = charts.grouped_bars("async_qps.png", "queries per second from asyncio tasks "
                                      "(higher is better)", tasks, engines, vals, "QPS")
            vals99 = {(f"{r['tasks']} tasks", r["engine"]): r["p99_ms"] for r in s["qps"]}
            img99 = charts.grouped_bars("async_p99.png", "p99 latency, ms (lower is better)",
                                        tasks, engines, vals99, "ms")
            out += [f"![asyncio QPS]({img})", "", f"![asyncio p99 latency]({img99})", ""]
    if s.get("append"):
        a = s["append"]
        out += [f"**append_record**: {a['records']:,} records, one `await client.append_record(r, "
                f"table=...)` each, then `await client.flush()` (returns once the server "
                f"acknowledged everything): **{a['records_per_s']:,.0f} records/s** (median; "
                f"{a['requests']} Append requests in the first run).", ""]
    if s.get("goals"):
        out += ["Issue 8's goals on this machine:", "",
                md_table(["goal", "measured", "met"], [[g["what"], g["got"], "yes" if g["met"] else "**no**"]
                                                       for g in s["goals"]], ["l", "l", "l"]), ""]
    return out


def section_notebook(d, charts, path):
    out = ["## Notebook: `examples/benchmark_polaroid_vs_polars.ipynb`", ""]
    if not d:
        return out + [f"Not run yet: no `{path}`. Run `make bench BENCH_ARGS=\"--group notebook\"`.", ""]
    out += [f"Executed headless by `make bench` ({d.get('date', '?')}; load average "
            f"{d.get('load_average_end', '?')} at the end) on {d['files']} tick files ({d['rows']:,} rows), "
            f"{d['reps']} repetition(s), medians. polaroid through `AsyncPolaroidClient` (the round trip "
            "and the transfer into Python included), Polars in the notebook's process.", "",
            md_table(["what", "polaroid s", "Polars s"],
                     [["read every file into Arrow", f"{list(d['read_s'].values())[0]:.3f}",
                       f"{list(d['read_s'].values())[1]:.3f}"]] +
                     [[f"query `{k}`", f"{v['polaroid']:.3f}", f"{v['Polars']:.3f}"]
                      for k, v in d["queries_s"].items()]), "",
            "Small queries (count of a price filter on "
            f"{d.get('small_rows', 50000):,} rows held by the server): " +
            ", ".join(f"{r['tasks']} asyncio task(s) {r['qps']:,.0f} QPS (p99 {r['p99_ms']:.1f} ms)"
                      for r in d["qps"]) +
            f"; Polars in-process, one thread: {d['polars_in_process_calls_per_s']:,.0f} calls/s.", ""]
    png = os.path.join(os.path.dirname(path), "polaroid_vs_polars.png")
    if charts and os.path.exists(png):
        import shutil

        dst = os.path.join(charts.img_dir, "notebook_polaroid_vs_polars.png")
        shutil.copyfile(png, dst)
        out += [f"![the notebook's charts]({os.path.relpath(dst, charts.doc_dir)})", ""]
    return out


def _cmdline(argv):
    """A measured command line as the doc shows it: absolute paths into a checkout's build/ or
    data/ directory shortened to their repository-relative form (the doc is committed; the
    machine's paths mean nothing in another clone)."""
    return " ".join(re.sub(r"^/\S*?/((?:build|data)/\S*)$", r"\1", a) for a in argv)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    b = os.path.join(ROOT, "build", "bench")
    ap.add_argument("--results", default=os.path.join(b, "results.json"))
    ap.add_argument("--server", default=os.path.join(b, "server.json"))
    ap.add_argument("--async", dest="async_", default=os.path.join(b, "async.json"))
    ap.add_argument("--notebook", default=os.path.join(b, "notebook", "results.json"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE_COMPARISON.md"))
    ap.add_argument("--img", default=os.path.join(ROOT, "docs", "img"))
    ap.add_argument("--no-charts", action="store_true")
    a = ap.parse_args(argv)
    rel = lambda p: os.path.relpath(p, ROOT)  # noqa: E731
    charts = None if a.no_charts else Charts(a.img, os.path.dirname(os.path.abspath(a.out)))
    q, srv, asy, nb = load(a.results), load(a.server), load(a.async_), load(a.notebook)
    lines = ["# Performance comparison: polaroid vs Polars, DuckDB and Python servers", "",
             "<!-- generated by bench/report.py from make bench's results files; edit the script, "
             "not this file -->", "",
             "Generated by `bench/report.py` (run at the end of `make bench`) from the results "
             f"files the benchmark groups write: `{rel(a.results)}` (read, h2o, ticks, tpch), "
             f"`{rel(a.server)}` (server), `{rel(a.async_)}` (async), `{rel(a.notebook)}` (notebook). "
             f"Charts: `{rel(a.img)}/`. "
             "How each group measures: `bench/README.md`; the latest numbers with commentary: "
             "`docs/benchmarks.md`.", "",
             "**Caveat.** The numbers come from a shared 2-core VM: other work on the machine "
             "makes wall times noisy (each section gives the load average while it ran). Ratios "
             "measured within one run, back to back, are more reliable than absolute times.", ""]
    lines += section_queries(q, charts, rel(a.results))
    lines += section_server(srv, charts, rel(a.server))
    lines += section_async(asy, charts, rel(a.async_))
    lines += section_notebook(nb, charts, rel(a.notebook))
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        fh.write("\n".join(lines).rstrip() + "\n")
    print(f"report: wrote {rel(a.out)}" + (f" and charts in {rel(a.img)}/" if charts else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
