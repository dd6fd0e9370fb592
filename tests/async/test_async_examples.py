"""The asyncio examples (examples/async/*.py) run briefly against the live server, so they
cannot rot; SIGINT to the graceful-shutdown example drains and exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO

EX = REPO / "examples" / "async"
FILES = [f"ticks/t{i:02d}.parquet" for i in range(4)]


def run_example(name, addr, *extra, timeout=60):
    cmd = [sys.executable, str(EX / name), "--server", addr, "--quick", "--files", *FILES, *extra]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{name} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def test_concurrent_reads(addr):
    out = run_example("concurrent_reads.py", addr)
    assert "4/5 files" in out and "NotFoundError" in out


def test_backpressure_semaphore(addr):
    out = run_example("backpressure_semaphore.py", addr, "--max-concurrent", "10")
    assert "100 tasks, max_concurrent=10" in out and "0 errors" in out


def test_producer_consumer(addr):
    out = run_example("producer_consumer.py", addr)
    assert "8000 rows from 4 files, 0 failures" in out


def test_monadic_pipeline(addr):
    out = run_example("monadic_pipeline.py", addr)
    assert "ticks/t00.parquet:" in out and "failed early with NotFoundError" in out


def test_throughput(addr):
    out = run_example("throughput.py", addr, "--tasks", "50")
    assert "QPS from 50 tasks" in out and "records/s acknowledged (20000 records)" in out


def test_websocket_ingest(addr):
    out = run_example("websocket_ingest.py", addr)
    assert "3000 messages ingested" in out


def test_graceful_shutdown_on_sigint(addr):
    p = subprocess.Popen([sys.executable, str(EX / "graceful_shutdown.py"), "--server", addr, "--files", *FILES],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("running")
        time.sleep(0.7)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=15)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, (out, err)
    assert "shut down cleanly after" in out
    assert "Traceback" not in err
