#!/usr/bin/env python3
"""Differential tests: random queries run by polaroid and by DuckDB, results compared
(tests/diff/README.md).

  run_diff.py [--polaroid CMD] [--seed S]... [--queries N] [--jobs J] [--all] [--keep] [-v]

Without --seed: the fixed seed (config.FIXED_SEED) and one new random seed. Per seed: random tables
(gen_data.py) written as Parquet under build/diff/seed-S/, then N random queries (gen_queries.py).
Each query runs in DuckDB (in this process) and in `polaroid sql --format arrow` (one process per
query, J at a time), and the results are compared (bench/compare.py: as multisets unless the query
orders every output column; doubles to a tolerance; integer widths and HUGEINT numerically).

Outcome per query: pass (same result, or both engines refuse it with an error), FAIL (different
result, polaroid crashed or timed out, polaroid failed where DuckDB did not, or the reverse), or
skipped (uses a feature listed in config.UNSUPPORTED). Exit status 1 on any failure; each failure
prints its seed and SQL, and `make diff SEED=S` reruns that seed.
"""
import argparse
import concurrent.futures as cf
import os
import re
import random
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "bench"))

import compare  # noqa: E402
import config  # noqa: E402
import gen_data  # noqa: E402
import gen_queries  # noqa: E402


def run_polaroid(cmd, sql, timeout, threads):
    argv = cmd + ["sql", "--format", "arrow"]
    if threads:
        argv += ["--threads", str(threads)]
    argv.append(sql)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, cwd=ROOT, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"rc": None, "stdout": b"", "stderr": f"timeout after {timeout}s",
                "seconds": timeout}
    return {"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr.decode(errors="replace"),
            "seconds": time.perf_counter() - t0}


def read_arrow(data):
    import pyarrow as pa
    if data[:6] == b"ARROW1":
        return pa.ipc.open_file(pa.py_buffer(data)).read_all()
    return pa.ipc.open_stream(pa.py_buffer(data)).read_all()


def _short(text, n=600):
    text = text.strip()
    return text if len(text) <= n else text[:n] + "..."


def judge(duck, pol, q):
    """(outcome, detail): outcome in pass, both_error, fail."""
    if pol["rc"] is None:
        return "fail", "polaroid " + pol["stderr"]
    if "AddressSanitizer" in pol["stderr"] or "runtime error:" in pol["stderr"] or \
            "LeakSanitizer" in pol["stderr"]:
        return "fail", "polaroid sanitizer report:\n" + _short(pol["stderr"], 3000)
    if pol["rc"] not in (0, 1):
        return "fail", f"polaroid crashed (exit {pol['rc']}): {_short(pol['stderr'])}"
    if isinstance(duck, Exception):
        if pol["rc"] == 1:
            return "both_error", ""
        return "fail", f"DuckDB fails ({_short(str(duck))}) but polaroid returned a result"
    if pol["rc"] == 1:
        return "fail", f"polaroid error where DuckDB succeeds: {_short(pol['stderr'])}"
    try:
        got = read_arrow(pol["stdout"])
    except Exception as e:  # noqa: BLE001
        return "fail", f"polaroid output is not Arrow IPC: {e}"
    d = compare.compare_tables(duck, got, ordered=q.ordered, rtol=config.RTOL, atol=config.ATOL)
    if d is not None and q.ordered:
        d = near_tie_compare(q.sql, duck, got, d)
    if d is not None:
        return "fail", "result differs: " + d
    return "pass", ""


def _order_keys(sql):
    """The generated ORDER BY (output ordinals, every column): [(index, desc, nulls_first)]."""
    m = re.search(r" ORDER BY (.*?) LIMIT ", sql)
    if not m:
        return None
    keys = []
    for part in m.group(1).split(", "):
        w = part.split()
        if not w or not w[0].isdigit():
            return None
        desc = "DESC" in w
        nf = "FIRST" in w if "NULLS" in w else False  # DuckDB's default: NULLS LAST
        keys.append((int(w[0]) - 1, desc, nf))
    return keys


def near_tie_compare(sql, duck, got, d):
    """An ordered result may differ from DuckDB's only where floating-point sort keys are equal
    up to rounding (two avg()s of the same values summed in another order: 0.53 vs
    0.5300000000000001 order two rows either way, and LIMIT/OFFSET then cut a different row).
    Accepted only when polaroid's rows are ordered by the keys with doubles rounded to 9
    significant digits (rows whose doubles differ but round alike are ties: the keys after
    them may order them either way, e.g. var_samp 16.333333333333332 vs ...336 in two runs), are rows of DuckDB's result without LIMIT/OFFSET (up to that rounding),
    and are that result's window [OFFSET, OFFSET + LIMIT) up to rows tied with its first or last
    row. Returns the original difference otherwise."""
    import collections
    import functools
    import duckdb
    keys = _order_keys(sql)
    lim = re.search(r" LIMIT (\d+)(?: OFFSET (\d+))?$", sql)
    if not keys or not lim:
        return d

    def norm(v):
        if isinstance(v, float):
            return float(f"{v:.9g}") if v == v else float("inf")
        return v

    def cmp(x, y):
        for i, desc, nf in keys:
            a, b = norm(x[i]), norm(y[i])
            if a == b:
                if isinstance(x[i], float) and x[i] != y[i]:
                    return 0  # equal only up to rounding: the later keys may go either way
                continue
            if a is None or b is None:
                return (-1 if a is None else 1) * (1 if nf else -1)
            try:
                c = -1 if a < b else 1
            except TypeError:
                return 0
            return -c if desc else c
        return 0

    gr = [tuple(r.values()) for r in got.to_pylist()]
    if any(cmp(gr[i], gr[i + 1]) > 0 for i in range(len(gr) - 1)):
        return d  # not ordered even up to rounding: a real difference
    try:
        full = duckdb.sql(sql[:lim.start()]).to_arrow_table()
    except Exception:  # noqa: BLE001
        return d
    fr = sorted([tuple(r.values()) for r in full.to_pylist()], key=functools.cmp_to_key(cmp))
    off, n = int(lim.group(2) or 0), int(lim.group(1))
    window = fr[off:off + n]
    if len(window) != len(gr):
        return d
    if not window:
        return None
    canon = lambda r: tuple(norm(v) for v in r)  # noqa: E731
    have = collections.Counter(canon(r) for r in gr)
    if have - collections.Counter(canon(r) for r in fr):
        return d  # a row DuckDB does not have
    lo, hi = window[0], window[-1]
    if any(cmp(r, lo) < 0 or cmp(r, hi) > 0 for r in gr):
        return d  # outside the window's keys
    inner = collections.Counter(canon(r) for r in window if cmp(r, lo) > 0 and cmp(r, hi) < 0)
    return d if inner - have else None


def run_seed(seed, a, cmd, pool):
    import duckdb
    outdir = os.path.join(ROOT, "build", "diff", f"seed-{seed}")
    paths = gen_data.write_tables(seed, outdir)
    sources = {n: "read_parquet('%s')" % os.path.relpath(p, ROOT) for n, p in paths.items()}
    gen = gen_queries.QueryGen(seed)
    queries = [gen.query() for _ in range(a.queries)]
    con = duckdb.connect()
    con.execute("SET threads = 2")
    counts = {"pass": 0, "both_error": 0, "fail": 0, "skipped": 0, "unsupported_now_pass": 0}
    skipped_by = {}
    feat = {}  # feature -> [failed, run]
    failures = []
    todo = []
    for i, q in enumerate(queries):
        unsup = config.unsupported_of(q.features)
        if unsup and not a.all:
            counts["skipped"] += 1
            for u in unsup:
                skipped_by[u] = skipped_by.get(u, 0) + 1
            continue
        todo.append((i, q, unsup))
    futures = {i: pool.submit(run_polaroid, cmd, q.text(sources), config.TIMEOUT_S, a.threads)
               for i, q, _ in todo}
    for i, q, unsup in todo:
        sql = q.text(sources)
        try:
            rel = con.sql(sql)
            duck = rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else \
                rel.fetch_arrow_table()
        except Exception as e:  # noqa: BLE001 - DuckDB refused: polaroid must refuse too
            duck = e
        pol = futures[i].result()
        outcome, detail = judge(duck, pol, q)
        if unsup:
            counts["skipped"] += 1
            for u in unsup:
                skipped_by[u] = skipped_by.get(u, 0) + 1
            if a.verbose and outcome == "fail":
                print(f"  [{seed}#{i}] unsupported ({', '.join(unsup)}) still fails: "
                      f"{detail.splitlines()[0][:200]}")
            if outcome != "fail":
                counts["unsupported_now_pass"] += 1
                for u in unsup:
                    skipped_by.setdefault(u + " (passing now)", 0)
                    skipped_by[u + " (passing now)"] += 1
            continue
        counts[outcome] += 1
        for ft in q.features:
            fr = feat.setdefault(ft, [0, 0])
            fr[0] += outcome == "fail"
            fr[1] += 1
        if outcome == "fail":
            failures.append((i, q, sql, detail))
        if a.verbose:
            print(f"  [{seed}#{i}] {outcome} {pol['seconds']:.2f}s {sql[:150]}")
    return counts, skipped_by, failures, feat


def failure_kind(detail):
    first = detail.splitlines()[0]
    for pre in ("polaroid error where DuckDB succeeds: ", "polaroid crashed"):
        if first.startswith(pre):
            return first[:160]
    return first.split(":")[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--polaroid", default=os.environ.get("POLAROID", "build-asan/polaroid"),
                    help="the polaroid command (default $POLAROID or build-asan/polaroid)")
    ap.add_argument("--seed", type=int, action="append",
                    help="seed (repeatable; default: the fixed seed and one random seed)")
    ap.add_argument("--queries", type=int, default=config.QUERIES_PER_SEED,
                    help=f"queries per seed ({config.QUERIES_PER_SEED})")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                    help="polaroid processes at a time")
    ap.add_argument("--threads", type=int, default=2, help="polaroid --threads (2)")
    ap.add_argument("--all", action="store_true",
                    help="run queries with unsupported features too (they do not fail the run)")
    ap.add_argument("--max-failures", type=int, default=10, help="failures printed per seed")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    cmd = shlex.split(a.polaroid)
    if not os.path.exists(os.path.join(ROOT, cmd[0])) and not os.path.isabs(cmd[0]):
        raise SystemExit(f"diff: {cmd[0]} not found (make build-asan)")
    seeds = a.seed or [config.FIXED_SEED, random.SystemRandom().randrange(1, 2 ** 31)]
    t0 = time.time()
    total = {"pass": 0, "both_error": 0, "fail": 0, "skipped": 0, "unsupported_now_pass": 0}
    rc = 0
    with cf.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        for seed in seeds:
            counts, skipped_by, failures, feat = run_seed(seed, a, cmd, pool)
            for k, v in counts.items():
                total[k] += v
            line = (f"diff: seed {seed}: {counts['pass'] + counts['both_error']} passed "
                    f"({counts['both_error']} both refused), {counts['fail']} failed, "
                    f"{counts['skipped']} skipped (unsupported)")
            if a.all:
                line += f", {counts['unsupported_now_pass']} of the unsupported pass now"
            print(line, flush=True)
            if skipped_by:
                print("      skipped by feature: " + ", ".join(
                    f"{k} {v}" for k, v in sorted(skipped_by.items(), key=lambda kv: -kv[1])))
            for i, q, sql, detail in failures[:a.max_failures]:
                print(f"\n  FAIL seed {seed} query #{i} (reproduce: make diff SEED={seed}; "
                      f"{'ordered' if q.ordered else 'as multisets'}; features: "
                      f"{', '.join(sorted(q.features))})\n    SQL: {sql}\n    {detail}")
            if len(failures) > a.max_failures:
                print(f"\n  ... and {len(failures) - a.max_failures} more failures")
            if failures:
                kinds = {}
                for _, _, _, detail in failures:
                    k = failure_kind(detail)
                    kinds[k] = kinds.get(k, 0) + 1
                print("\n  failures by kind:")
                for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:15]:
                    print(f"    {v:4d}  {k}")
                worst = sorted(((f_, r) for f_, r in feat.items() if r[0]),
                               key=lambda kv: (-kv[1][0] / kv[1][1], -kv[1][1]))[:20]
                print("  features of failing queries (failed/run): " +
                      ", ".join(f"{f_} {r[0]}/{r[1]}" for f_, r in worst))
            if failures:
                rc = 1
            elif seed != config.FIXED_SEED:  # the tables are regenerated from the seed anyway
                import shutil
                shutil.rmtree(os.path.join(ROOT, "build", "diff", f"seed-{seed}"),
                              ignore_errors=True)
    print(f"diff: total {total['pass'] + total['both_error']} passed, {total['fail']} failed, "
          f"{total['skipped']} skipped (unsupported) in {time.time() - t0:.1f}s; seeds "
          f"{', '.join(map(str, seeds))}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
