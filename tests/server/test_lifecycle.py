"""Streams that end early (cancel, client killed), server restarts, graceful shutdown."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import polaroid as pd
from conftest import REPO, start_server
from helpers import wait_idle, wait_metric


def _big_stream(c: pd.Client) -> pd.DataFrame:
    """A cross join of 400M rows filtered down to 4M: it streams for much longer than any test
    waits, and its first batches come at once (an unfiltered cross join is materialised first)."""
    k = c.read_parquet("k20k.parquet")
    return k.join(k.rename({"k": "k2"}), how="cross").filter("k2 % 100 = 0")


@pytest.fixture()
def own_server(data):
    """A server of its own (these tests look at its CPU use and, when it serves them, its
    metrics)."""
    s = start_server(data.root, "--threads", "2", "--metrics-listen", f"127.0.0.1:{_free_port()}")
    s.metrics = s.cmd[s.cmd.index("--metrics-listen") + 1]
    yield s
    if s.alive():
        assert s.terminate() == 0, s.stderr_text[-3000:]


def test_cancel_mid_stream(own_server):
    with pd.Client(own_server.address) as c:
        it = _big_stream(c).iter_batches(max_message_bytes=64 * 1024)
        n = 0
        for b in it:
            n += b.num_rows
            if n > 100_000:
                break
        it.close()  # cancels the call
        t = wait_idle(own_server.proc.pid, timeout=10)
        assert t < 5, f"the server kept working {t:.1f} s after the cancel"
        running = wait_metric(own_server.metrics, "polaroid_running_queries", 0)
        assert running in (None, 0), f"{running} queries still running after the cancel"
        assert c.health() == "SERVING"
        assert len(c.read_parquet("groups.parquet")) == 5
        # the same through a ResultStream used as a context manager
        with c.execute(_big_stream(c)) as rs:
            rs.read_schema()
        wait_idle(own_server.proc.pid, timeout=10)


def test_streamed_metrics_while_streaming(own_server):
    """polaroid_rows/bytes_streamed_total grow as messages go out, not when the call ends."""
    from helpers import scrape

    with pd.Client(own_server.address) as c:
        base = scrape(own_server.metrics) or {}
        b0 = base.get("polaroid_bytes_streamed_total", 0.0)
        r0 = base.get("polaroid_rows_streamed_total", 0.0)
        it = _big_stream(c).iter_batches(max_message_bytes=64 * 1024)
        got_bytes = got_rows = 0
        n = 0
        for b in it:
            n += b.num_rows
            if n > 100_000:
                break
        m = scrape(own_server.metrics)
        it.close()
        assert m is not None
        got_bytes = m["polaroid_bytes_streamed_total"] - b0
        got_rows = m["polaroid_rows_streamed_total"] - r0
        assert got_rows >= 100_000, f"{got_rows} rows counted while {n} were received"
        assert got_bytes >= 8 * 100_000, got_bytes  # int64 columns
        assert m.get('polaroid_calls_total{method="Execute",code="OK"}', 0) == \
            base.get('polaroid_calls_total{method="Execute",code="OK"}', 0)  # still streaming


_CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
import polaroid as pd
c = pd.Client(sys.argv[1])
k = c.read_parquet("k20k.parquet")
n = 0
for b in k.join(k.rename({"k": "k2"}), how="cross").filter("k2 % 100 = 0").iter_batches(max_message_bytes=65536):
    n += b.num_rows
    if n > 50000:
        print("streaming", flush=True)
        break_here = input()  # block until killed
"""


def test_client_disconnect_mid_stream(own_server):
    child = subprocess.Popen([sys.executable, "-c", _CHILD, own_server.address, str(REPO / "python")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = child.stdout.readline()
        assert line.strip() == b"streaming"
        child.send_signal(signal.SIGKILL)
        child.wait()
        t = wait_idle(own_server.proc.pid, timeout=15)
        assert t < 8, f"the server kept working {t:.1f} s after the client died"
        running = wait_metric(own_server.metrics, "polaroid_running_queries", 0)
        assert running in (None, 0), f"{running} queries still running after the disconnect"
        with pd.Client(own_server.address) as c:
            assert c.health() == "SERVING"
            assert len(c.read_parquet("groups.parquet")) == 5
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_restart_between_calls(data):
    port = _free_port()
    s = start_server(data.root, "--listen", f"127.0.0.1:{port}")
    with pd.Client(f"127.0.0.1:{port}") as c:
        try:
            assert len(c.read_parquet("groups.parquet")) == 5
            assert s.terminate() == 0
            with pytest.raises((pd.UnavailableError, pd.DeadlineExceededError)):
                c.read_parquet("groups.parquet").collect(timeout=2)
            s = start_server(data.root, "--listen", f"127.0.0.1:{port}")
            # the same client reconnects by itself
            assert len(c.read_parquet("groups.parquet")) == 5
            assert c.health() == "SERVING"
        finally:
            if s.alive():
                assert s.terminate() == 0


def _calibrated_query(c: pd.Client, lo: float = 0.4):
    """A query returning one row that runs for at least lo seconds (or the biggest tried), and
    how long it took: sizes grow until it is slow enough (ASan builds are several times slower)."""
    k = c.read_parquet("k20k.parquet")
    n = 250
    while True:
        q = k.join(k.head(n).rename({"k": "k2"}), how="cross").filter(
            "(k * 7 + k2) % 1000003 = 5").agg(n=pd.len_())
        t0 = time.monotonic()
        expected = q.collect().column("n")[0].as_py()
        took = time.monotonic() - t0
        if took >= lo or n >= 20_000:
            return q, expected, took
        n = min(20_000, n * 2)


def test_sigterm_finishes_in_flight_query(data):
    s = start_server(data.root, "--shutdown-grace", "60")
    with pd.Client(s.address) as c:
        q, expected, took = _calibrated_query(c)
        if took < 0.3:
            s.terminate()
            pytest.skip(f"the query is too quick to be in flight at SIGTERM ({took:.2f} s)")
        result = {}

        def run():
            try:
                result["n"] = q.collect().column("n")[0].as_py()
            except Exception as e:  # noqa: BLE001
                result["err"] = e

        th = threading.Thread(target=run, daemon=True)
        th.start()
        time.sleep(min(0.2, took / 3))
        rc = s.terminate(timeout=120)
        th.join(120)
        assert rc == 0, s.stderr_text[-3000:]
        assert not th.is_alive(), "the client call still runs after the server exited"
        assert "err" not in result, f"the in-flight query failed: {result.get('err')!r}"
        assert result["n"] == expected
        # new calls are refused once it is gone
        with pytest.raises((pd.UnavailableError, pd.DeadlineExceededError)):
            c.read_parquet("groups.parquet").collect(timeout=1)


def test_sigterm_cancels_queries_past_the_grace(data):
    s = start_server(data.root, "--shutdown-grace", "0.3")
    with pd.Client(s.address) as c:
        q, _, took = _calibrated_query(c, lo=1.5)
        if took < 1.0:
            s.terminate()
            pytest.skip(f"no query slow enough to outlast the grace ({took:.2f} s)")
        result = {}

        def run():
            try:
                result["n"] = q.collect()
            except pd.PolaroidError as e:
                result["err"] = e

        th = threading.Thread(target=run, daemon=True)
        th.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        rc = s.terminate(timeout=60)
        th.join(30)
        assert rc == 0, s.stderr_text[-3000:]
        assert not th.is_alive(), "the client call still hangs after the server exited"
        assert isinstance(result.get("err"), (pd.UnavailableError, pd.CancelledError)), result
        assert time.monotonic() - t0 < 20
