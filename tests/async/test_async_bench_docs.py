"""The benchmark deliverables of issue 8: the notebook (examples/benchmark_polaroid_vs_polars.ipynb)
executed headless on tiny data against the session server; bench/report.py's
docs/PERFORMANCE_COMPARISON.md and charts from results files; bench/async_bench.py's summary and
goals; the async and notebook groups of bench/run.py."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from conftest import N_TICK_FILES, REPO, TICK_ROWS

sys.path.insert(0, str(REPO / "bench"))
NOTEBOOK = REPO / "examples" / "benchmark_polaroid_vs_polars.ipynb"


# ------------------------------------------------------------------ the notebook


def test_notebook_is_valid_and_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    tags = [t for c in code for t in c.metadata.get("tags", [])]
    assert "parameters" in tags and "helpers" in tags


def test_notebook_helpers_alone():
    """The helper cell defines functions only; they work outside a kernel."""
    import polars as pl
    import pyarrow as pa

    nb = nbformat.read(NOTEBOOK, as_version=4)
    src = next(c.source for c in nb.cells if "helpers" in c.metadata.get("tags", []))
    ns: dict = {}
    exec(compile(src, "helpers", "exec"), ns)  # noqa: S102
    a = pa.table({"s": pa.array(["x", "y", "x"]).dictionary_encode(), "v": [1.0, 2.0, 3.0 + 1e-12],
                  "n": pa.array([1, 2, 3], pa.int64())})
    b = pl.DataFrame({"s": ["y", "x", "x"], "v": [2.0, 3.0, 1.0], "n": pl.Series([2, 3, 1], dtype=pl.UInt32)})
    assert ns["same_result"](a, b)
    assert not ns["same_result"](a, b.with_columns(pl.col("v") * 1.01))
    assert not ns["same_result"](a, b.head(2))
    times, out = ns["timed"](lambda: 7, 3)
    assert len(times) == 3 and out == 7
    # every query's SQL and Polars forms exist
    assert set(ns["QUERIES"]) == {"per_symbol", "filter", "top_notional"}


def test_notebook_executes_headless(server, data, tmp_path):
    """The whole notebook on the tiny tick files of the session server (a few seconds: kernel start
    and imports), as `make bench` runs it; its answers are checked in the notebook itself."""
    import run_notebook

    out = tmp_path / "nb"
    r = run_notebook.execute(str(NOTEBOOK), str(out), {
        "POLAROID_SERVER": server.address, "POLAROID_BENCH_DATA_ROOT": str(data.root),
        "POLAROID_BENCH_TICKS": "ticks/t*.parquet", "POLAROID_BENCH_REPS": "1",
        "POLAROID_BENCH_QPS_SECONDS": "0.3", "POLAROID_BENCH_OUT": str(out)}, timeout=120)
    assert r["ok"], r["error"]
    res = json.loads((out / "results.json").read_text())
    assert res["files"] == N_TICK_FILES and res["rows"] == N_TICK_FILES * TICK_ROWS
    assert set(res["queries_s"]) == {"per_symbol", "filter", "top_notional"}
    assert [q["tasks"] for q in res["qps"]] == [1, 10, 100]
    assert all(q["errors"] == 0 and q["qps"] > 0 for q in res["qps"])
    png = out / "polaroid_vs_polars.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    executed = nbformat.read(out / NOTEBOOK.name, as_version=4)
    assert any(o.get("output_type") == "display_data" for c in executed.cells if c.cell_type == "code"
               for o in c.outputs)  # the chart shown inline


def test_notebook_failure_is_reported(tmp_path):
    import run_notebook

    bad = tmp_path / "bad.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('boom')")],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nbformat.write(nb, bad)
    r = run_notebook.execute(str(bad), str(tmp_path / "o"), {}, timeout=60)
    assert not r["ok"] and "boom" in r["error"]
    assert (tmp_path / "o" / "bad.ipynb").exists()


# ------------------------------------------------------------------ the report


def fake_results():
    res = {"meta": {"date": "2026-11-27T05:10:32", "host": "vm", "cores": 2, "versions": {"polars": "2.1.0"},
                    "threads": 2, "reps": 3, "small": True, "groups": ["read", "ticks"],
                    "datasets": {"ticks": {"dir": "data/sample/ticks", "manifest": {"total_rows": 5_000_000},
                                           "bytes_on_disk": 57e6}},
                    "polaroid_ratio_summary": {"read": {"median_ratio": 0.8, "queries_run": 1, "queries": 1}},
                    "mismatches": []},
           "results": []}
    for q, base in (("read_all", 1.0), ("ticks_scan", 0.1)):
        for e, k in (("polaroid", 0.8), ("polars", 1.0), ("duckdb", 1.3)):
            r = {"query": q, "engine": e, "median_s": base * k, "peak_rss_bytes": int(2e9 * k), "check": "ok"}
            if q == "read_all":
                r.update(mem_ratio=k, ref_nbytes=2e9)
            if e == "polaroid":
                r["ratio_to_fastest_peer"] = 0.8
            res["results"].append(r)
    res["results"].append({"query": "ticks_scan", "engine": "polars-streaming", "error": "boom"})
    server = {"meta": {"date": "2026-11-27T05:52:24+00:00", "host": "vm", "cores": 2, "reps": 1, "duration": 4.0,
                       "warmup": 1.0, "threads": 2, "loadgen": "c", "load_average_start": "1.0 1.0 1.0",
                       "load_average_end": "1.1 1.0 1.0"},
              "summary": {"point": [{"tool": "loadgen", "callers": c, "connections": n, "engine": e, "qps": q,
                                     "p50_ms": 1.0, "p99_ms": 2.0, "server_us_per_query": 50, "errors": 0}
                                    for c, n in ((1, 1), (500, 50)) for e, q in (("polaroid", 9000),
                                                                                  ("polars-aio", 900))],
                          "stream": [{"engine": "polaroid", "seconds": 1.0, "gbps": 1.6, "x_fastest_peer": 0.5,
                                      "check": "ok"}, {"engine": "flight-duckdb", "error": "refused"}],
                          "goals": [{"what": "500 callers / 50 connections: >= 15000 QPS", "got": "9000 QPS",
                                     "met": False}]}}
    return res, server


def fake_async(seed=(0.5, 1.5, 1.2), qps=(6000, 5500, 900, 700), append=250_000.0):
    import async_bench

    runs = {"seed": [{"seed_polaroid": {"seconds": seed[0], "rows": 10, "bytes": 100, "client_cpu_s": 0.1},
                      "seed_polars_read_each": {"seconds": seed[1], "rows": 10},
                      "seed_polars_scan_glob": {"seconds": seed[2], "rows": 10}}],
            "qps": [{"engine": e, "tasks": t, "queries": 100, "errors": 0, "qps": q, "p50_ms": 5.0, "p99_ms": 9.0,
                     "client_cpu_us": 100.0, "peak_in_flight": 50, "rep": 0}
                    for (e, t), q in zip((("polaroid", 100), ("polaroid", 500), ("polars-aio", 100),
                                          ("polars-aio", 500)), qps)],
            "append": [{"records": 1000, "seconds": 1000 / append, "records_per_s": append, "client_cpu_s": 0.1,
                        "requests": 2}]}
    meta = {"date": "2026-11-27T06:00:00Z", "host": "vm", "cores": 2, "reps": 1, "small": True, "seconds": 5.0,
            "tick_files": 5, "load_average_start": "1 1 1", "load_average_end": "1 1 1",
            "versions": {"python": "3.11", "polars": "2.1.0", "pyarrow": "26", "grpcio": "1.85"}}
    return {"meta": meta, "summary": async_bench.summarise(runs), "runs": runs}


def test_async_bench_summary_and_goals():
    s = fake_async()["summary"]
    goals = {g["what"].split(" ")[0]: g["met"] for g in s["goals"]}
    assert all(goals.values()) and len(goals) == 3
    assert s["seed_speedup_vs_fastest_polars"] == pytest.approx(1.2 / 0.5)
    assert s["qps_ratio_vs_polars_aio"] == {"100": pytest.approx(6000 / 900), "500": pytest.approx(5500 / 700)}
    assert [(r["engine"], r["tasks"]) for r in s["qps"]] == [("polaroid", 100), ("polaroid", 500),
                                                             ("polars-aio", 100), ("polars-aio", 500)]
    missed = fake_async(seed=(1.0, 1.5, 1.9), qps=(3000, 4999, 900, 700), append=199_999.0)["summary"]
    assert not any(g["met"] for g in missed["goals"])


def test_report(tmp_path):
    import report

    res, server = fake_results()
    paths = {}
    for name, d in (("results", res), ("server", server), ("async", fake_async())):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(d))
    out, img = tmp_path / "docs" / "P.md", tmp_path / "docs" / "img"
    args = ["--results", str(paths["results"]), "--server", str(paths["server"]), "--async", str(paths["async"]),
            "--notebook", str(tmp_path / "no-notebook.json"), "--out", str(out), "--img", str(img)]
    assert report.main(args) == 0
    md = out.read_text()
    assert "| read_all | 0.800 | 1.000 | 1.300 | - | 0.80 | ok |" in md  # polars-streaming: not run
    assert "| ticks_scan | 0.080 | 0.100 | 0.130 | error | 0.80 | ok |" in md
    assert "| 500/50 | polaroid | 9000 |" in md and "| flight-duckdb | error: refused |" in md
    assert "| polaroid: batch_read + batch_collect | 0.500 |" in md
    assert "| polaroid | 500 | 5500 | 5.0 | 9.0 | 100 | 0 |" in md
    assert "**250,000 records/s**" in md
    assert "Measured 2026-11-27T06:00:00Z" in md and "load average 1 1 1" in md
    pngs = sorted(p.name for p in img.glob("*.png"))
    assert pngs == ["async_p99.png", "async_qps.png", "async_seed.png", "bench_polaroid_ratio.png",
                    "bench_read_memory.png", "bench_read_time.png", "bench_ticks_time.png", "server_point_qps.png",
                    "server_stream_seconds.png"]
    for p in pngs:
        assert f"](img/{p})" in md
    first = {p: (img / p).read_bytes() for p in pngs}
    assert report.main(args) == 0  # the same numbers give the same files
    assert {p: (img / p).read_bytes() for p in pngs} == first and out.read_text() == md


def test_report_without_results(tmp_path):
    import report

    out = tmp_path / "P.md"
    assert report.main(["--results", str(tmp_path / "no1.json"), "--server", str(tmp_path / "no2.json"),
                        "--async", str(tmp_path / "no3.json"), "--notebook", str(tmp_path / "no4.json"),
                        "--out", str(out), "--no-charts"]) == 0
    md = out.read_text()
    assert md.count("Not measured yet") == 3 and "--group async" in md and "--group notebook" in md


def test_report_notebook_section(tmp_path):
    import report

    nbdir = tmp_path / "nb"
    nbdir.mkdir()
    (nbdir / "results.json").write_text(json.dumps({
        "date": "2026-11-27T06:30:00Z", "load_average_end": "2 2 2", "files": 5, "rows": 5000, "reps": 1,
        "small_rows": 50000, "read_s": {"polaroid": 1.5, "Polars": 0.5},
        "queries_s": {"per_symbol": {"polaroid": 0.25, "Polars": 0.125}},
        "qps": [{"tasks": 1, "qps": 1000.0, "p99_ms": 3.0}], "polars_in_process_calls_per_s": 500.0}))
    (nbdir / "polaroid_vs_polars.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    out, img = tmp_path / "P.md", tmp_path / "img"
    assert report.main(["--results", str(tmp_path / "x"), "--server", str(tmp_path / "x"), "--async",
                        str(tmp_path / "x"), "--notebook", str(nbdir / "results.json"), "--out", str(out),
                        "--img", str(img)]) == 0
    md = out.read_text()
    assert "| read every file into Arrow | 1.500 | 0.500 |" in md and "| query `per_symbol` | 0.250 | 0.125 |" in md
    assert "1 asyncio task(s) 1,000 QPS (p99 3.0 ms)" in md and "500 calls/s" in md
    assert "](img/notebook_polaroid_vs_polars.png)" in md and (img / "notebook_polaroid_vs_polars.png").exists()


def test_committed_report_is_generated():
    """docs/PERFORMANCE_COMPARISON.md is the report's output: its charts exist, and it says when and
    how its numbers were measured."""
    md = (REPO / "docs" / "PERFORMANCE_COMPARISON.md").read_text()
    assert "generated by bench/report.py" in md
    for line in md.splitlines():
        if line.startswith("!["):
            assert (REPO / "docs" / line.split("](")[1].rstrip(")")).exists(), line
    assert md.count("Measured 20") >= 1


# ------------------------------------------------------------------ bench/run.py's groups


def test_run_py_groups():
    py = sys.executable
    out = subprocess.run([py, str(REPO / "bench" / "run.py"), "--list"], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "(async)" in out.stdout and "(notebook)" in out.stdout
    bad = subprocess.run([py, str(REPO / "bench" / "run.py"), "--group", "nope"], capture_output=True,
                         text=True, cwd=REPO, timeout=60)
    assert bad.returncode != 0 and "async" in bad.stderr and "notebook" in bad.stderr


def test_async_bench_append_part_end_to_end(tmp_path):
    """bench/async_bench.py as `make bench` runs it (its append part, small), with the binary under
    test: the results file has the meta, the runs, the summary and the goals."""
    import os

    out = tmp_path / "async.json"
    env = dict(os.environ, POLAROID=str((REPO / os.environ.get("POLAROID", "build/polaroid")).resolve()))
    root = tmp_path / "root"  # the append part reads no file (a fresh clone has no data/)
    root.mkdir()
    r = subprocess.run([sys.executable, str(REPO / "bench" / "async_bench.py"), "--parts", "append", "--records",
                        "3000", "--reps", "2", "--json", str(out), "--data-root", str(root)],
                       capture_output=True, text=True, timeout=180, cwd=REPO, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(out.read_text())
    assert d["meta"]["reps"] == 2 and d["meta"]["parts"] == ["append"] and d["meta"]["load_average_end"]
    assert [a["records"] for a in d["runs"]["append"]] == [3000, 3000]
    assert d["summary"]["append"]["records_per_s"] > 0
    assert [g["what"].split(" ")[0] for g in d["summary"]["goals"]] == ["append_record"]
    assert "goals (issue 8):" in r.stdout
