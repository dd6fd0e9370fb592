"""The C examples (examples/c, built by CMake into <build>/examples next to $POLAROID) run briefly
in both modes, against the live server (--server, the C client) and on the embedded engine
(--data-root, the same data root), their printed answers checked against pyarrow on the same
files; SIGINT/SIGTERM to the graceful-shutdown example drains and exits 0. Under `make test` the
binaries are the ASan+UBSan build's, so leaks and races on their error paths show up here."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import REPO

BIN = (REPO / os.environ.get("POLAROID", "build/polaroid")).resolve().parent / "examples"
FILES = [f"ticks/t{i:02d}.parquet" for i in range(4)]


@pytest.fixture(params=["server", "embedded"])
def mode(request, server, data):
    """The backend options: the session server, or the engine in the example's process."""
    if request.param == "server":
        return ["--server", server.address]
    return ["--data-root", str(data.root)]


def run_example(name, mode, *extra, files=FILES, timeout=120, rc=0):
    exe = BIN / name
    assert exe.exists(), f"{exe} is missing: the C examples are built by CMake (examples/c)"
    r = subprocess.run([str(exe), *mode, "--quick", "--files", *files, *extra],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode == rc, f"{name} exited {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "ERROR: AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r.stdout


def expected(data, f):
    t = pq.read_table(data.root / f)
    return t, float(pc.sum(t["size"]).as_py()), pc.mean(t["price"]).as_py()


def test_concurrent_reads(mode, data):
    out = run_example("concurrent_reads", mode)
    for f in FILES:
        t, vol, avg = expected(data, f)
        m = re.search(re.escape(f) + r": (\d+) symbols, (\d+) rows, avg price ([\d.]+), volume (\d+)", out)
        assert m, out
        assert int(m[1]) == len(set(t["symbol"].to_pylist())) and int(m[2]) == t.num_rows
        assert float(m[3]) == pytest.approx(avg, abs=1e-4) and int(m[4]) == round(vol)
    assert "ticks/does-not-exist.parquet: error: not found" in out
    assert "4/5 files" in out


def test_backpressure_semaphore(mode):
    out = run_example("backpressure_semaphore", mode, "--tasks", "30", "--concurrency", "4")
    m = re.search(r"30 tasks, concurrency=4: peak (\d+) in flight, 0 errors", out)
    assert m, out
    assert 1 <= int(m[1]) <= 4


def test_producer_consumer(mode, data):
    out = run_example("producer_consumer", mode)
    tabs = [pq.read_table(data.root / f) for f in FILES]
    rows = sum(t.num_rows for t in tabs)
    vol = sum(pc.sum(t["size"]).as_py() for t in tabs)
    notional = sum(pc.sum(pc.multiply(t["price"], t["size"])).as_py() for t in tabs)
    m = re.search(r"(\d+) rows from 4 files, 0 failures: (\d+) batches, volume (\d+), vwap ([\d.]+)", out)
    assert m, out
    assert int(m[1]) == rows and int(m[3]) == round(vol)
    assert float(m[4]) == pytest.approx(notional / vol, abs=1e-4)
    assert re.search(r"channel capacity 4: max depth [1-4],", out), out


def test_producer_consumer_reports_a_failing_producer(mode):
    out = run_example("producer_consumer", mode, files=FILES[:2] + ["ticks/missing.parquet"], rc=1)
    assert "from 3 files, 1 failures" in out


def test_monadic_pipeline(mode, data):
    out = run_example("monadic_pipeline", mode)
    for f in FILES[:3]:
        t, vol, _ = expected(data, f)
        sym = t["symbol"][0].as_py()  # one symbol per test file
        assert f"{f}: {sym} {round(vol)}\n" in out, out
    assert "ticks/missing.parquet: failed early at step 'aggregate' with not found" in out
    assert "3 pipelines ok, 1 failed early" in out


def test_throughput(mode):
    out = run_example("throughput", mode, "--concurrency", "4", "--seconds", "1")
    m = re.search(r"(\d+) QPS from 4 threads: (\d+) queries in [\d.]+ s, p50 [\d.]+ ms, p99 [\d.]+ ms, 0 errors",
                  out)
    assert m and int(m[2]) > 0, out


def test_graceful_shutdown_timed(mode):
    out = run_example("graceful_shutdown", mode, "--seconds", "0.5")
    assert re.search(r"time is up: shut down cleanly in [\d.]+ s after \d+ queries", out), out


@pytest.mark.parametrize("sig,drain", [(signal.SIGINT, "5"), (signal.SIGTERM, "0")])
def test_graceful_shutdown_on_signal(mode, sig, drain):
    """SIGINT: the queries in flight finish; SIGTERM with --drain 0: they are cancelled at once.
    Either way the process exits 0 promptly."""
    p = subprocess.Popen([str(BIN / "graceful_shutdown"), *mode, "--files", *FILES, "--drain", drain],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("running 4 workers")
        time.sleep(0.7)
        t0 = time.monotonic()
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, (out, err)
    m = re.search(signal.Signals(sig).name + r": shut down cleanly in [\d.]+ s after (\d+) queries "
                  r"\((\d+) ok, (\d+) cancelled at the deadline\)", out)
    assert m, (out, err)
    assert int(m[1]) == int(m[2]) + int(m[3]) and int(m[2]) > 0
    if drain == "5":
        assert int(m[3]) == 0  # nothing was left at the deadline
    assert took < 10, took
    assert "query:" not in err, err  # no query failed with anything but a cancellation
