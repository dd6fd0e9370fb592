"""Fixtures of the asyncio client tests (tests/async): generated data under a temporary data
root and a real `polaroid serve` (binary from $POLAROID, default build/polaroid) started on a free
loopback port, with its Prometheus endpoint on another free port. The server and data helpers
are those of tests/server/conftest.py (loaded from there, not copied).

Tests run their coroutines with ``run(coro)`` (asyncio.run), one event loop per test, so no
pytest plugin is needed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import urllib.request
from pathlib import Path
from typing import Any, Dict

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("_polaroid_server_conftest", REPO / "tests" / "server" / "conftest.py")
srv = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(srv)  # type: ignore[union-attr]
_hspec = importlib.util.spec_from_file_location("_polaroid_server_helpers", REPO / "tests" / "server" / "helpers.py")
helpers = importlib.util.module_from_spec(_hspec)  # the server tests' comparison helpers
_hspec.loader.exec_module(helpers)  # type: ignore[union-attr]

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

N_TICK_FILES = 12
TICK_ROWS = 2_000
BIG_ROWS = 2_000_000


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(metrics_addr: str) -> Dict[str, float]:
    """The server's Prometheus metrics: {"name{labels}": value}."""
    with urllib.request.urlopen(f"http://{metrics_addr}/metrics", timeout=5) as r:
        text = r.read().decode()
    out: Dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, val = line.rpartition(" ")
        try:
            out[name] = float(val)
        except ValueError:
            pass
    return out


def make_ticks(i: int, n: int = TICK_ROWS) -> pa.Table:
    rng = np.random.default_rng(100 + i)
    return pa.table({
        "ts": pa.array(np.arange(n, dtype=np.int64) * 1000 + i),
        "symbol": pa.array([f"S{i:02d}"] * n),
        "price": pa.array(np.round(rng.normal(100, 10, n), 4)),
        "size": pa.array(rng.integers(1, 1000, n, dtype=np.int64)),
    })


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("aroot")
    d = srv.write_data(root)
    (root / "ticks").mkdir()
    for i in range(N_TICK_FILES):
        pq.write_table(make_ticks(i), root / "ticks" / f"t{i:02d}.parquet")
    pq.write_table(pa.table({"k": pa.array(np.arange(BIG_ROWS, dtype=np.int64)),
                             "v": pa.array(np.arange(BIG_ROWS, dtype=np.int64) * 3)}),
                   root / "big.parquet", row_group_size=65536)
    return d


class LiveServer:
    def __init__(self, root: Path, port: int = 0, metrics_port: int = 0) -> None:
        self.root = root
        self.metrics_port = metrics_port or free_port()
        listen = f"127.0.0.1:{port}"
        self.s = srv.start_server(root, "--listen", listen, "--metrics-listen",
                                  f"127.0.0.1:{self.metrics_port}")
        self.address = self.s.address
        self.port = self.s.port
        self.metrics = f"127.0.0.1:{self.metrics_port}"

    def scrape(self) -> Dict[str, float]:
        return scrape(self.metrics)

    def terminate(self) -> int:
        return self.s.terminate()

    def kill(self) -> None:
        self.s.kill()

    def alive(self) -> bool:
        return self.s.alive()

    @property
    def stderr_text(self) -> str:
        return self.s.stderr_text


@pytest.fixture(scope="session")
def server(data):
    s = LiveServer(data.root)
    yield s
    rc = s.terminate()
    assert rc == 0, f"polaroid serve exited {rc} after SIGTERM:\n{s.stderr_text[-5000:]}"


@pytest.fixture()
def addr(server) -> str:
    return server.address
