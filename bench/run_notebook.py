#!/usr/bin/env python3
"""Executes examples/benchmark_polaroid_vs_polars.ipynb headless (nbclient, the .venv's python3
kernel) and writes the executed copy, its charts and results.json into --out. `make bench` runs it
as the "notebook" group (bench/run.py --group notebook); the tests run it on tiny data.

  bench/run_notebook.py [--small | --full] [--out build/bench/notebook] [--timeout S]
                        [--env NAME=VALUE]...

The notebook takes its settings from environment variables (its first cell): --small (the
default) uses make run's 5 tick files, --full the 50 of make bench; --env passes others
(POLAROID_SERVER, POLAROID_BENCH_DATA_ROOT, POLAROID_BENCH_TICKS, POLAROID_BENCH_REPS, ...).
Exit code 1 when a cell fails (the error is printed, and the executed copy kept).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, "examples", "benchmark_polaroid_vs_polars.ipynb")


def execute(path: str, out_dir: str, env: dict, timeout: float = 1800) -> dict:
    """Runs every cell of the notebook at path with env set (restored afterwards); writes the
    executed copy into out_dir. Returns {"ok", "seconds", "executed", "error"}."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    os.makedirs(out_dir, exist_ok=True)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    os.environ.setdefault("POLAROID_BENCH_OUT", out_dir)
    # the kernel is this interpreter's (the .venv's ipykernel), started in examples/
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": os.path.dirname(path)}})
    t0 = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as e:
        error = str(e)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if "POLAROID_BENCH_OUT" not in env:
            os.environ.pop("POLAROID_BENCH_OUT", None)
    executed = os.path.join(out_dir, os.path.basename(path))
    nbformat.write(nb, executed)
    return {"ok": error is None, "seconds": time.perf_counter() - t0, "executed": executed, "error": error}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--small", action="store_true", help="make run's 5 tick files (default)")
    g.add_argument("--full", action="store_true", help="make bench's 50 tick files")
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "bench", "notebook"))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per cell")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--notebook", default=NOTEBOOK)
    a = ap.parse_args(argv)
    env = {"POLAROID_BENCH_SMALL": "0" if a.full else "1", "POLAROID_BENCH_OUT": os.path.abspath(a.out)}
    env.setdefault("POLAROID", os.environ.get("POLAROID", os.path.join(ROOT, "build", "polaroid")))
    for kv in a.env:
        k, sep, v = kv.partition("=")
        if not sep:
            raise SystemExit(f"run_notebook: --env wants NAME=VALUE, got {kv!r}")
        env[k] = v
    r = execute(a.notebook, a.out, env, a.timeout)
    rel = os.path.relpath(r["executed"], ROOT)
    if not r["ok"]:
        print(f"notebook: FAILED after {r['seconds']:.1f} s (executed copy: {rel}):\n{r['error']}")
        return 1
    print(f"notebook: executed in {r['seconds']:.1f} s: {rel}, charts and results.json in "
          f"{os.path.relpath(a.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
