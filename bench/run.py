#!/usr/bin/env python3
"""Benchmark harness: polaroid against Polars (eager and streaming) and DuckDB (bench/README.md).

Runs every registered query (bench/queries.py) on every engine, each measurement in a fresh child
process, interleaving engines within each repetition. Per measurement: time (in-process time of
the query call for the Python peers, whole-process wall time for polaroid) and the child's peak RSS
(ru_maxrss from wait4). Then, for the SQL queries, one more (untimed) run per engine dumps its
whole result and bench/compare.py checks that all engines agree. Prints a table, the ratios
polaroid / fastest peer and their median, and writes build/bench/results.json.

Then the groups that are not query groups, when selected (all are by default): server
(bench/server/server_bench.py -> build/bench/server.json), async (bench/async_bench.py ->
build/bench/async.json), notebook (examples/benchmark_polaroid_vs_polars.ipynb executed headless
by bench/run_notebook.py -> build/bench/notebook/); and last bench/report.py, which writes the
report (PERFORMANCE_COMPARISON.md and its charts) from the results files (--no-report skips it):
into docs/ (docs/PERFORMANCE_COMPARISON.md, docs/img/*.png) only after a full-size run of every
group, query and engine the document shows; after any other run (--small, --group, --only, some
--engines) into build/bench/ (build/bench/PERFORMANCE_COMPARISON.md, build/bench/img/), leaving
the committed document alone.

  bench/run.py [--small] [--group G1,G2] [--reps N] [--only Q1,Q2] [--engines E1,E2]
               [--threads N] [--polaroid PATH] [--timeout S] [--mem-guard GIB] [--json PATH]
               [--no-verify] [--keep-results] [--async-reps N] [--async-parts P1,P2]
               [--no-report]

This process imports only the standard library (and bench/queries.py), so that its own RSS, which
children inherit into ru_maxrss across vfork/exec, stays at a few MB (the floor is measured and
printed: "rss floor").
"""
import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queries  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "server"))
import server_bench  # noqa: E402  (the server group; imports only the standard library)

ROOT = queries.ROOT
BENCH = os.path.join(ROOT, "bench")
GIB = 1024 ** 3


EXTRA_GROUPS = ["server", "async", "notebook"]  # not query groups: run after them, in this order


def _python():
    venv = os.path.join(ROOT, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def mem_available():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _vm_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def compile_tool(name):
    """Compiles bench/<name>.c into build/bench/<name> when missing or stale; returns the path or
    None (with a message) when there is no working C compiler."""
    src = os.path.join(BENCH, name + ".c")
    exe = os.path.join(ROOT, "build", "bench", name)
    if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
        return exe
    os.makedirs(os.path.dirname(exe), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    try:
        r = subprocess.run([cc, "-O2", "-o", exe, src], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"bench: cannot compile {src}: {e}")
        return None
    if r.returncode != 0:
        print(f"bench: cannot compile {src}: {_last_lines(r.stderr)}")
        return None
    return exe


LAUNCHER = None  # build/bench/rusage_exec, set in main()


def run_child(argv, env=None, timeout=900.0, guard_bytes=0, stdout_path=None):
    """Runs argv in a fresh process (own session) and returns a dict with wall seconds, peak RSS
    in bytes (ru_maxrss of the child and its descendants), exit code, stdout, stderr and, when the
    watchdog killed it, the reason. The watchdog kills the child's process group when the run
    exceeds `timeout` or the machine's MemAvailable drops below `guard_bytes` (protecting the
    other users of a shared machine from the OOM killer).

    With the launcher (bench/rusage_exec.c) the command's ru_maxrss and wall time come from a tiny
    C parent, so they do not include this Python process's RSS; without it they come from wait4
    here, and ru_maxrss is at least this process's RSS (vfork + exec carry the high-water mark)."""
    out = open(stdout_path, "w+b") if stdout_path else tempfile.TemporaryFile(mode="w+b")
    err = tempfile.TemporaryFile(mode="w+b")
    rfile = None
    if LAUNCHER:
        fd, rfile = tempfile.mkstemp(prefix="bench-rusage-")
        os.close(fd)
        argv = [LAUNCHER, rfile] + list(argv)
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=err, start_new_session=True)
    except OSError as e:
        return {"wall": 0.0, "maxrss": 0, "rc": None, "stdout": "", "stderr": str(e),
                "killed": None}
    done = threading.Event()
    state = {"killed": None, "hwm": 0}

    def watchdog():
        while not done.wait(0.05):
            reason = None
            if time.perf_counter() - t0 > timeout:
                reason = f"timeout after {timeout:g}s"
            elif guard_bytes:
                avail = mem_available()
                if avail is not None and avail < guard_bytes:
                    reason = (f"memory guard: MemAvailable {avail / GIB:.1f} GiB < "
                              f"{guard_bytes / GIB:.1f} GiB")
            if reason:
                state["killed"] = reason
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                return

    th = threading.Thread(target=watchdog, daemon=True)
    th.start()
    while True:
        try:
            _, status, ru = os.wait4(p.pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    p.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    res = {"wall": wall, "maxrss": ru.ru_maxrss * 1024, "rc": p.returncode,
           "stdout": "" if stdout_path else out.read().decode(errors="replace"),
           "stderr": err.read().decode(errors="replace"), "killed": state["killed"]}
    out.close()
    err.close()
    if rfile:
        try:
            with open(rfile) as fh:
                kib, ns, code = fh.read().split()
            res.update(maxrss=int(kib) * 1024, wall=int(ns) / 1e9, rc=int(code))
        except (OSError, ValueError):
            if res["rc"] == 0:
                res["rc"] = None  # the launcher did not report: treat as failed
        finally:
            try:
                os.remove(rfile)
            except OSError:
                pass
    return res


def _last_lines(text, n=1, width=160):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    s = " | ".join(lines[-n:]) if lines else ""
    return s if len(s) <= width else s[:width - 3] + "..."


def _bench_result(stdout):
    for line in reversed(stdout.splitlines()):
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    return None


def engine_argv(engine, q, ctx, args, dump=None):
    """(argv, parse) of one run of q on engine, or (None, error). With dump, the run writes its
    whole result to that path (polaroid: --format arrow on stdout; the peers: Parquet)."""
    impl = q.impls.get(engine)
    if impl is None:
        return None, "not implemented for this query"
    if engine == "polaroid":
        spec = impl(ctx)
        argv, parse = (spec if isinstance(spec, tuple) else (spec, q.polaroid_parse))
        if not os.path.exists(os.path.join(ROOT, argv[0])):
            return None, f"{argv[0]} not found (make build)"
        if dump:
            argv = list(argv)
            argv[argv.index("--format") + 1] = "arrow"
    else:
        argv = [_python(), os.path.join(BENCH, "worker.py"), engine, q.name, ctx.glob]
        if args.threads:
            argv += ["--threads", str(args.threads)]
        for name, path in ctx.tables.items():
            argv += ["--table", f"{name}={path}"]
        if dump:
            argv += ["--dump", dump]
        parse = None
    return argv, parse


def _run_error(r, engine, q):
    # polaroid prints "polaroid: <message>", then the SQL line and a caret under the position
    msg = [ln for ln in r["stderr"].splitlines() if ln.startswith("polaroid:")]
    why = (_last_lines(msg[0]) if msg else _last_lines(r["stderr"])) or \
        _last_lines(r["stdout"]) or "no output"
    sig = f"signal {-r['rc']}" if r["rc"] is not None and r["rc"] < 0 else f"exit {r['rc']}"
    if engine in q.unsupported and r["rc"] == 1:
        return f"unsupported ({q.unsupported[engine]}): {why}"
    return f"{sig}: {why}"


def measure(engine, q, ctx, args, env):
    """One measurement. Returns {"seconds", "wall", "rss", "checks"} or {"error": ...}."""
    argv, parse = engine_argv(engine, q, ctx, args)
    if argv is None:
        return {"error": parse}
    r = run_child(argv, env=env, timeout=args.timeout, guard_bytes=int(args.mem_guard * GIB))
    base = {"wall": r["wall"], "rss": r["maxrss"], "argv": argv}
    if r["killed"]:
        return dict(base, error="killed: " + r["killed"])
    if r["rc"] != 0:
        return dict(base, error=_run_error(r, engine, q))
    if parse is not None:
        try:
            checks = parse(r["stdout"])
        except Exception as e:  # noqa: BLE001 - reported in the table
            return dict(base, error=f"unparsable output: {e}")
        return dict(base, seconds=r["wall"], checks=checks)
    res = _bench_result(r["stdout"])
    if res is None:
        return dict(base, error="no BENCH_RESULT: " + (_last_lines(r["stderr"]) or "no output"))
    return dict(base, seconds=res["seconds"], import_seconds=res.get("import_seconds"),
                checks=res["checks"])


def verify(q, ctx, engines, args, env, py):
    """One more run per engine dumping its whole result (build/bench/out/QUERY/ENGINE), then
    bench/compare.py against the reference (DuckDB when it ran, else the first peer that ran).
    Returns {engine: "ok" | "reference" | "MISMATCH: ..." | "error: ..."}."""
    outdir = os.path.join(ROOT, "build", "bench", "out", q.name)
    os.makedirs(outdir, exist_ok=True)
    files, status = {}, {}
    for e in engines:
        path = os.path.join(outdir, e + (".arrow" if e == "polaroid" else ".parquet"))
        if os.path.exists(path):
            os.remove(path)
        argv, parse = engine_argv(e, q, ctx, args, dump=path)
        if argv is None:
            continue
        r = run_child(argv, env=env, timeout=args.timeout, guard_bytes=int(args.mem_guard * GIB),
                      stdout_path=path if e == "polaroid" else None)
        if r["killed"] or r["rc"] != 0:
            status[e] = "error: " + ("killed: " + r["killed"] if r["killed"]
                                     else _run_error(r, e, q))
            continue
        files[e] = path
    order = [e for e in ["duckdb", "duckdb-table", "polars", "polars-streaming"] if e in files]
    if not order:
        status.update({e: "no reference (no peer ran)" for e in files})
        return status
    ref = order[0]
    others = [e for e in engines if e in files and e != ref]
    status[ref] = "reference"
    if others:
        r = run_child([py, os.path.join(BENCH, "compare.py"), files[ref]] +
                      [files[e] for e in others], timeout=args.timeout)
        lines = {}
        for line in r["stdout"].splitlines():
            path, _, verdict = line.partition(": ")
            lines[path] = verdict
        for e in others:
            status[e] = lines.get(files[e], "compare failed: " + (_last_lines(r["stderr"]) or
                                                                   "no output"))
    if not args.keep_results:
        for path in files.values():
            os.remove(path)
    return status


def compare_checks(ref, got):
    """'ok' or a description of the first difference (ints exact, floats to 1e-9 relative)."""
    diffs = []
    for k, v in ref.items():
        if k not in got:
            continue
        g = got[k]
        if isinstance(v, int) and isinstance(g, int):
            same = v == g
        elif v is None or g is None:
            same = v is g
        else:
            same = abs(float(v) - float(g)) <= 1e-9 * max(abs(float(v)), abs(float(g)), 1.0)
        if not same:
            diffs.append(f"{k} {g} != {v}")
    return "ok" if not diffs else "MISMATCH " + "; ".join(diffs)


def ensure_data(ds, small, py):
    for gen in [ds.gen_argv(small)] + ds.extra_gens:
        r = run_child([py, os.path.join(ROOT, gen[0])] + gen[1:], timeout=1800)
        sys.stdout.write(r["stdout"])
        if r["rc"] != 0:
            raise SystemExit(f"bench: generating {ds.name} failed:\n{r['stderr']}")
    with open(ds.manifest(small)) as fh:
        return json.load(fh)


def warm_cache(directory):
    """Reads every file once so that all engines start from a warm page cache."""
    total = 0
    d = os.path.join(ROOT, directory)
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb", buffering=0) as fh:
            while True:
                b = fh.read(1 << 20)
                if not b:
                    break
                total += len(b)
    return total


def nbytes_ref(q, ds, small, manifest, py):
    """Arrow in-memory size of the query's result (cached in build/bench/nbytes_cache.json)."""
    cache_path = os.path.join(ROOT, "build", "bench", "nbytes_cache.json")
    key = json.dumps([ds.directory(small), manifest.get("params"), q.columns], sort_keys=True)
    try:
        with open(cache_path) as fh:
            cache = json.load(fh)
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]
    argv = [py, os.path.join(BENCH, "worker.py"), "--nbytes", ds.glob(small),
            ",".join(q.columns) if q.columns else ""]
    r = run_child(argv, timeout=1800)
    res = _bench_result(r["stdout"]) if r["rc"] == 0 else None
    if res is None:
        print(f"bench: nbytes reference for {q.name} failed: {_last_lines(r['stderr'])}")
        return None
    cache[key] = res
    os.makedirs(os.path.dirname(cache_path), exist_ok=True)
    with open(cache_path, "w") as fh:
        json.dump(cache, fh, indent=1)
    return res


def fmt_table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i < 2 or i == len(cells) - 1 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def idle_rss(engine, args, env, py):
    """Peak RSS of the engine doing nothing (interpreter + import, or `polaroid --help`)."""
    if engine == "polaroid":
        path = os.path.join(ROOT, args.polaroid)
        if not os.path.exists(path):
            return None
        argv = [path, "--help"]
    else:
        argv = [py, os.path.join(BENCH, "worker.py"), "--idle", engine]
    r = run_child(argv, env=env, timeout=120)
    return r["maxrss"] if r["rc"] == 0 else None


def pagefault():
    """Runs bench/pagefault.c (first-touch cost per 4 KiB page with and without huge pages).
    Returns its JSON result, or None."""
    exe = compile_tool("pagefault")
    if exe is None:
        return None
    r = run_child([exe, "256", "5"], timeout=300)
    for line in r["stdout"].splitlines():
        if not line.startswith("BENCH_RESULT"):
            print("bench: " + line)
    return _bench_result(r["stdout"]) if r["rc"] == 0 else None


def summarise(q, engine, ms, ref_nbytes, idle=None):
    ok = [m for m in ms if "error" not in m]
    s = {"query": q.name, "engine": engine, "measurements": ms}
    if not ok:
        s["error"] = ms[0]["error"] if ms else "not run"
        return s
    times = [m["seconds"] for m in ok]
    rss = [m["rss"] for m in ok]
    s.update({"median_s": statistics.median(times), "min_s": min(times),
              "median_wall_s": statistics.median(m["wall"] for m in ok),
              "peak_rss_bytes": int(statistics.median(rss)), "max_peak_rss_bytes": max(rss),
              "checks": ok[0]["checks"], "reps_ok": len(ok)})
    if len(ok) < len(ms):
        s["partial_error"] = next(m["error"] for m in ms if "error" in m)
    if ref_nbytes:
        s["mem_ratio"] = s["peak_rss_bytes"] / ref_nbytes
        if idle:
            s["idle_rss_bytes"] = idle
            s["net_mem_ratio"] = (s["peak_rss_bytes"] - idle) / ref_nbytes
    return s


def report_to_docs(a):
    """Whether this run's report may replace docs/PERFORMANCE_COMPARISON.md and docs/img/*.png:
    the full data sets (no --small), every group the document shows (read, h2o, ticks, tpch,
    server, async, notebook), every query (no --only) and every engine (no --engines short of all of
    them). Decided from the command line before anything runs."""
    if a.small or a.only:
        return False
    known = set(queries.GROUPS) | set(EXTRA_GROUPS)
    if a.group and not known <= set(a.group.split(",")):
        return False
    if a.engines and not set(queries.ENGINES + server_bench.ENGINES) <= set(a.engines.split(",")):
        return False
    return True


def report_paths(a):
    """(markdown file, chart directory) of this run's report: docs/ for a run that
    report_to_docs allows, build/bench/ otherwise."""
    if getattr(a, "report_docs", False):
        return (os.path.join(ROOT, "docs", "PERFORMANCE_COMPARISON.md"),
                os.path.join(ROOT, "docs", "img"))
    b = os.path.join(ROOT, "build", "bench")
    return os.path.join(b, "PERFORMANCE_COMPARISON.md"), os.path.join(b, "img")


def parser():
    ap = argparse.ArgumentParser(description="polaroid vs Polars vs DuckDB (bench/README.md)")
    ap.add_argument("--small", action="store_true", help="use the small data set (quick run)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per engine and query (5)")
    ap.add_argument("--only", help="comma-separated query names (default: all of the groups)")
    ap.add_argument("--group", help="comma-separated query groups (" +
                    ", ".join(queries.GROUPS) + "; default: all)")
    ap.add_argument("--no-verify", action="store_true",
                    help="skip the comparison of whole results across engines")
    ap.add_argument("--keep-results", action="store_true",
                    help="keep the dumped results (build/bench/out/QUERY/ENGINE.*)")
    ap.add_argument("--engines", help="comma-separated engines (default: " +
                    ",".join(queries.ENGINES) + ")")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads per engine (default 2; 0 = each engine's default)")
    ap.add_argument("--polaroid", default="build/polaroid", help="polaroid binary (build/polaroid)")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per measurement (900)")
    ap.add_argument("--mem-guard", type=float, default=1.5,
                    help="kill a child when MemAvailable drops below this many GiB (1.5; 0 = off)")
    ap.add_argument("--json", default="build/bench/results.json", help="results file")
    ap.add_argument("--no-pagefault", action="store_true",
                    help="skip the page-fault cost measurement (bench/pagefault.c)")
    ap.add_argument("--list", action="store_true", help="list queries and engines, then exit")
    server_bench.add_args(ap.add_argument_group("server group (bench/server/server_bench.py)"),
                          standalone=False)
    ag = ap.add_argument_group("async and notebook groups, report")
    ag.add_argument("--async-reps", type=int, default=None,
                    help="repetitions of the async group (default: --reps, at most 3)")
    ag.add_argument("--async-parts", default="seed,qps,append",
                    help="async group parts: seed, qps, append (default: all)")
    ag.add_argument("--no-report", action="store_true",
                    help="write no report (bench/report.py); by default a full-size run of every "
                    "group, query and engine rewrites docs/PERFORMANCE_COMPARISON.md and "
                    "docs/img/, any other run build/bench/PERFORMANCE_COMPARISON.md and build/bench/img/")
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    a.report_docs = report_to_docs(a)

    if a.list:
        for q in queries.QUERIES.values():
            print(f"{q.name:16s} {q.group:6s} [{q.dataset}] {q.description}; engines: "
                  f"{', '.join(q.impls)}")
            if q.sql:
                print(f"{'':16s} {q.sql}")
        print(f"{'(server)':16s} server group: bench/server/server_bench.py, parts "
              f"{', '.join(server_bench.PARTS)}; engines {', '.join(server_bench.ENGINES)}")
        print(f"{'(async)':16s} async group: bench/async_bench.py (AsyncPolaroidClient: seed "
              "batch read vs Polars, QPS from 100/500 asyncio tasks vs grpc.aio+Polars, append)")
        print(f"{'(notebook)':16s} notebook group: examples/benchmark_polaroid_vs_polars.ipynb "
              "executed headless (bench/run_notebook.py)")
        return 0
    known_groups = list(queries.GROUPS) + EXTRA_GROUPS
    # --only alone names queries: then the server/async/notebook groups run only if --group asks
    groups = a.group.split(",") if a.group else (list(queries.GROUPS) if a.only else known_groups)
    for g in groups:
        if g not in known_groups:
            raise SystemExit(f"bench: unknown group {g!r} (known: {', '.join(known_groups)})")
    extra = [g for g in EXTRA_GROUPS if g in groups]
    groups = [g for g in groups if g not in EXTRA_GROUPS]
    names = a.only.split(",") if a.only else [n for n, q in queries.QUERIES.items()
                                              if q.group in groups]
    for n in names:
        if n not in queries.QUERIES:
            raise SystemExit(f"bench: unknown query {n!r} (known: {', '.join(queries.QUERIES)})")
    engines = a.engines.split(",") if a.engines else list(queries.ENGINES)
    for e in engines:
        if e not in queries.ENGINES + server_bench.ENGINES:
            raise SystemExit(f"bench: unknown engine {e!r} (known: "
                             f"{', '.join(queries.ENGINES + server_bench.ENGINES)})")
    server_engines = [e for e in engines if e in server_bench.ENGINES] if a.engines else \
        list(server_bench.ENGINES)
    engines = [e for e in engines if e in queries.ENGINES]
    if a.reps < 1:
        raise SystemExit("bench: --reps must be >= 1")
    if a.threads == 0:
        a.threads = None
    if extra and not names:  # only the server / async / notebook groups
        return run_extra_groups(a, extra, server_engines)

    global LAUNCHER
    LAUNCHER = compile_tool("rusage_exec")
    py = _python()
    env = dict(os.environ)
    if a.threads:
        env["POLARS_MAX_THREADS"] = str(a.threads)
    versions = _bench_result(run_child([py, os.path.join(BENCH, "worker.py"), "--versions"])
                             ["stdout"]) or {}
    floor = run_child(["/bin/true"])["maxrss"]  # what a trivial process reports as peak RSS

    datasets = {}
    for n in names:
        ds = queries.DATASETS[queries.QUERIES[n].dataset]
        if ds.name not in datasets:
            m = ensure_data(ds, a.small, py)
            warm = warm_cache(ds.directory(a.small))
            datasets[ds.name] = {"dir": ds.directory(a.small), "manifest": m,
                                 "bytes_on_disk": warm}

    ncpu = os.cpu_count()
    load_start = server_bench.load_average()
    print(f"bench: {platform.node()} {ncpu} cores, {(os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE')) / GIB:.1f} GiB; "
          f"polars {versions.get('polars')}, duckdb {versions.get('duckdb')}, "
          f"pyarrow {versions.get('pyarrow')}; threads: "
          f"{a.threads or f'engine defaults (all {ncpu} cores)'}; reps {a.reps}; "
          f"rss floor {floor / 2**20:.0f} MiB")
    for name, d in datasets.items():
        print(f"bench: data {name}: {d['dir']} ({d['manifest'].get('total_rows')} rows, "
              f"{d['bytes_on_disk'] / 1e9:.2f} GB on disk, page cache warmed)")

    pf = None if a.no_pagefault else pagefault()
    idle = {e: idle_rss(e, a, env, py) for e in engines}
    print("bench: idle RSS (engine loaded, no work): " +
          ", ".join(f"{e} {v / 2**20:.0f} MiB" if v else f"{e} -" for e, v in idle.items()))

    results = []
    for n in names:
        q = queries.QUERIES[n]
        ds = queries.DATASETS[q.dataset]
        # the Arrow size of the result is the reference of the read queries' memory goal
        ref = None if q.verify else nbytes_ref(q, ds, a.small, datasets[ds.name]["manifest"], py)
        ctx = queries.Ctx(ds.glob(a.small), polaroid=a.polaroid, threads=a.threads,
                          tables={k: f(a.small) for k, f in ds.tables.items()})
        per = {e: [] for e in engines}
        failed = set()
        for rep in range(a.reps):
            for e in engines:
                if e in failed:
                    continue
                m = measure(e, q, ctx, a, env)
                per[e].append(m)
                if "error" in m and rep == 0:
                    failed.add(e)  # a failing engine is not retried
                tag = (f"{m['seconds']:.3f}s {m['rss'] / GIB:.2f} GiB" if "error" not in m
                       else m["error"])
                print(f"  {q.name} rep {rep + 1}/{a.reps} {e}: {tag}", flush=True)
        sums = [summarise(q, e, per[e], ref["nbytes"] if ref else None, idle.get(e))
                for e in engines]
        ref_checks = next((s["checks"] for s in sums
                           if s["engine"] in queries.PEERS and "checks" in s), None)
        if ref and ref_checks is None:
            ref_checks = {"rows": ref["rows"]}
        peer_meds = [s["median_s"] for s in sums
                     if s["engine"] in queries.PEERS and "median_s" in s]
        best = min(peer_meds) if peer_meds else None
        for s in sums:
            if "checks" in s:
                s["check"] = compare_checks(ref_checks, s["checks"]) if ref_checks else "-"
                if ref and s["checks"].get("rows") not in (None, ref["rows"]):
                    s["check"] = f"MISMATCH rows {s['checks']['rows']} != {ref['rows']}"
            if "median_s" in s and best:
                s["ratio_to_fastest_peer"] = s["median_s"] / best
            s["ref_nbytes"] = ref["nbytes"] if ref else None
        if q.verify and not a.no_verify:
            ran = [s["engine"] for s in sums if "median_s" in s]
            vs = verify(q, ctx, ran, a, env, py)
            for s in sums:
                v = vs.get(s["engine"])
                if v is None:
                    continue
                s["result_check"] = v
                if v != "ok" and v != "reference":
                    s["check"] = v if v.startswith("MISMATCH") else "verify " + v
                    if v.startswith("MISMATCH"):
                        print(f"  !!! {q.name} {s['engine']}: RESULT {v}", flush=True)
                elif s.get("check", "ok") == "ok":
                    s["check"] = "ok (whole result)" if v == "ok" else "reference"
        results.extend(sums)

    headers = ["query", "engine", "median s", "min s", "peak RSS GiB", "x fastest peer",
               "mem ratio", "net mem", "check"]
    rows = []
    for s in results:
        if "error" in s:
            rows.append([s["query"], s["engine"], "", "", "", "", "", "", "error: " + s["error"]])
            continue
        rows.append([s["query"], s["engine"], f"{s['median_s']:.3f}", f"{s['min_s']:.3f}",
                     f"{s['peak_rss_bytes'] / GIB:.2f}",
                     f"{s['ratio_to_fastest_peer']:.2f}" if "ratio_to_fastest_peer" in s else "-",
                     f"{s['mem_ratio']:.2f}" if "mem_ratio" in s else "-",
                     f"{s['net_mem_ratio']:.2f}" if "net_mem_ratio" in s else "-",
                     s.get("check", "-") + (f" (some reps failed: {s['partial_error']})"
                                            if "partial_error" in s else "")])
    print()
    for n in names:
        q = queries.QUERIES[n]
        ref = next((s["ref_nbytes"] for s in results if s["query"] == n), None)
        print(f"{n}: {q.description}; Arrow in-memory size "
              f"{(ref or 0) / GIB:.2f} GiB" if ref else f"{n}: {q.description}")
    print()
    print(fmt_table(rows, headers))
    ratios = {s["query"]: s["ratio_to_fastest_peer"] for s in results
              if s["engine"] == "polaroid" and "ratio_to_fastest_peer" in s}
    ratio_summary = {}
    if "polaroid" in engines:
        for g in sorted({queries.QUERIES[n].group for n in names}) + ["all"]:
            rs = [r for n, r in ratios.items() if g == "all" or queries.QUERIES[n].group == g]
            tot = sum(1 for n in names if g == "all" or queries.QUERIES[n].group == g)
            ratio_summary[g] = {"median_ratio": statistics.median(rs) if rs else None,
                                "queries_run": len(rs), "queries": tot}
            print(f"polaroid / fastest peer, group {g}: " +
                  (f"median {statistics.median(rs):.2f} over {len(rs)} of {tot} queries"
                   if rs else f"no query ran ({tot} queries)"))
    bad = [f"{s['query']} {s['engine']}" for s in results
           if str(s.get("check", "")).startswith("MISMATCH")]
    if bad:
        print("bench: !!! RESULT MISMATCH: " + ", ".join(bad))
    print("\nmedian/min s: in-process time of the query call for the Python peers (interpreter "
          "start and import excluded), whole-process wall time for polaroid. x fastest peer: median "
          "/ best peer median. mem ratio: median peak RSS / Arrow in-memory size of the result; net mem: "
          "the same after subtracting the engine's idle RSS.")

    out = {"meta": {"date": datetime.datetime.now().isoformat(timespec="seconds"),
                    "argv": list(argv if argv is not None else sys.argv[1:]),
                    "load_average_start": load_start, "load_average_end": server_bench.load_average(),
                    "host": platform.node(), "cores": ncpu, "versions": versions,
                    "threads": a.threads, "reps": a.reps, "small": a.small,
                    "rss_floor_bytes": floor, "idle_rss_bytes": idle, "pagefault": pf,
                    "datasets": datasets, "engines": engines, "groups": groups,
                    "polaroid_ratio_summary": ratio_summary, "mismatches": bad},
           "results": results}
    path = os.path.join(ROOT, a.json) if not os.path.isabs(a.json) else a.json
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(f"bench: wrote {os.path.relpath(path, ROOT)}")
    return run_extra_groups(a, extra, server_engines)


def run_extra_groups(a, extra, server_engines):
    """The groups that are not query groups, in order, then the report."""
    rc = 0
    if "server" in extra:
        print()
        rc |= run_server_group(a, server_engines)
    if "async" in extra:
        print()
        rc |= run_async_group(a)
    if "notebook" in extra:
        print()
        rc |= run_notebook_group(a)
    if not a.no_report:
        print()
        rc |= run_report(a)
    return rc


def _run_streamed(argv, timeout, guard_gib):
    """Runs a harness child with its output passed through as it comes (so a long group shows
    progress), under the same watchdog as run_child: killed after `timeout` seconds or when
    MemAvailable drops below guard_gib. Returns the exit code (or 1 when killed)."""
    p = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, start_new_session=True)
    t0 = time.perf_counter()
    killed = None
    while p.poll() is None:
        time.sleep(0.1)
        avail = mem_available() if guard_gib else None
        if time.perf_counter() - t0 > timeout:
            killed = f"timeout after {timeout:g}s"
        elif avail is not None and avail < guard_gib * GIB:
            killed = f"memory guard: MemAvailable {avail / GIB:.1f} GiB < {guard_gib:g} GiB"
        if killed:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
            print(f"bench: {os.path.basename(argv[1])} killed: {killed}")
            return 1
    return 1 if p.returncode else 0


def run_async_group(a):
    """The async group: bench/async_bench.py (AsyncPolaroidClient from one Python process) with
    this run's options; results in build/bench/async.json."""
    reps = a.async_reps if a.async_reps else min(a.reps, 3)
    argv = [_python(), os.path.join(BENCH, "async_bench.py"), "--reps", str(reps),
            "--seconds", str(a.duration), "--parts", a.async_parts,
            "--json", os.path.join(ROOT, "build", "bench", "async.json")]
    if a.small:
        argv.append("--small")
    if "qps" in a.async_parts.split(","):
        # the point-query table of the server group (skipped when up to date)
        r = run_child([_python(), os.path.join(BENCH, "server", "gen_server.py")], timeout=1800)
        sys.stdout.write(r["stdout"])
        if r["rc"] != 0:
            print("bench: gen_server.py failed: " + _last_lines(r["stderr"], 3))
            return 1
    if "seed" in a.async_parts.split(","):
        ds = queries.DATASETS["ticks"]
        ensure_data(ds, a.small, _python())
        warm_cache(ds.directory(a.small))
    env_polaroid = os.path.join(ROOT, a.polaroid) if not os.path.isabs(a.polaroid) else a.polaroid
    os.environ["POLAROID"] = env_polaroid
    print(f"bench: async group ({' '.join(argv[1:])})", flush=True)
    return _run_streamed(argv, a.timeout * 4, a.mem_guard)


def run_notebook_group(a):
    """The notebook group: examples/benchmark_polaroid_vs_polars.ipynb executed headless
    (bench/run_notebook.py); the executed copy in build/bench/notebook/."""
    # a demonstration, always on the 5 sample tick files (the async group measures the full set)
    argv = [_python(), os.path.join(BENCH, "run_notebook.py"), "--small",
            "--out", os.path.join(ROOT, "build", "bench", "notebook")]
    ensure_data(queries.DATASETS["ticks"], True, _python())
    print(f"bench: notebook group ({' '.join(argv[1:])})", flush=True)
    return _run_streamed(argv, a.timeout, a.mem_guard)


def run_report(a):
    """The report from the results files of build/bench: into docs/ after a run report_to_docs
    allows, else into build/bench/ (the committed document keeps the last whole run)."""
    out, img = report_paths(a)
    if not a.report_docs:
        print("bench: not a full-size run of every group, query and engine: the report goes to "
              f"{os.path.relpath(out, ROOT)} and {os.path.relpath(img, ROOT)}/; "
              "docs/PERFORMANCE_COMPARISON.md and docs/img/ are left as they are", flush=True)
    return _run_streamed([_python(), os.path.join(BENCH, "report.py"), "--out", out, "--img", img],
                         600, 0)


def run_server_group(a, engines):
    """The server group (bench/server/server_bench.py) with this run's options."""
    global LAUNCHER
    LAUNCHER = LAUNCHER or compile_tool("rusage_exec")
    server_bench.R.LAUNCHER = LAUNCHER
    a.engines = engines
    server_bench.run(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
