"""Fixtures of the Python client tests: generated data under a temporary data root, a real
`polaroid serve` on a free loopback port (binary from $POLAROID, default build/polaroid), and a
client connected to it.

The server prints one line when ready: "polaroid serve: listening on HOST:PORT, data root DIR, N
threads"; with --listen 127.0.0.1:0 the port in it is the one the kernel picked.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))  # the checkout's package, not an installed copy

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.csv as pacsv  # noqa: E402
import pyarrow.ipc as paipc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import polaroid as pd  # noqa: E402

N_ROWS = 20_000
N_FILES = 4
TOKEN = "s3cret-token-for-tests"
READY_RE = re.compile(r"listening on (\S+?), data root")


def polaroid_bin() -> Path:
    p = Path(os.environ.get("POLAROID", REPO / "build" / "polaroid"))
    if not p.is_absolute():
        p = REPO / p
    return p


# ---------------------------------------------------------------- data


def make_trades(n: int = N_ROWS, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.int64)
    groups = np.array(["a", "b", "c", "d", "e"], dtype=object)[rng.integers(0, 5, n)]
    g_null = rng.random(n) < 0.05
    x = np.round(rng.normal(100.0, 25.0, n), 3)
    x_null = rng.random(n) < 0.1
    q = rng.integers(-100, 100, n).astype(np.int32)
    q_null = rng.random(n) < 0.05
    ts = np.datetime64("2024-01-02T09:30:00", "us") + ids * np.timedelta64(1, "s")
    names = np.array([f"name_{i % 97:02d}" for i in range(n)], dtype=object)
    return pa.table({
        "id": pa.array(ids),
        "g": pa.array(groups, mask=g_null, type=pa.string()),
        "x": pa.array(x, mask=x_null, type=pa.float64()),
        "q": pa.array(q, mask=q_null, type=pa.int32()),
        "ts": pa.array(ts, type=pa.timestamp("us")),
        "flag": pa.array(ids % 3 == 0),
        "name": pa.array(names, type=pa.string()),
    })


def make_groups() -> pa.Table:
    return pa.table({
        "g": pa.array(["a", "b", "c", "z", None], type=pa.string()),
        "label": pa.array(["alpha", "beta", "gamma", "zeta", "none"]),
        "weight": pa.array([1, 2, 3, 26, 0], type=pa.int64()),
    })


class Data:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.trades = make_trades()
        self.groups = make_groups()

    def path(self, rel: str) -> str:
        return str(self.root / rel)


def write_data(root: Path) -> Data:
    d = Data(root)
    t = d.trades
    (root / "trades").mkdir()
    per = N_ROWS // N_FILES
    for i in range(N_FILES):
        pq.write_table(t.slice(i * per, per), root / "trades" / f"part-{i}.parquet",
                       row_group_size=2000)
    pq.write_table(t, root / "trades.parquet", row_group_size=4096)
    pacsv.write_csv(t.drop_columns(["ts"]), root / "trades.csv")
    with paipc.new_file(root / "trades.arrow", t.schema) as w:
        w.write_table(t)
    pq.write_table(d.groups, root / "groups.parquet")
    # corrupt inputs
    good = (root / "trades.parquet").read_bytes()
    (root / "corrupt.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 40 + b"PAR1")
    (root / "truncated.parquet").write_bytes(good[: len(good) // 2])
    (root / "garbage.arrow").write_bytes(b"ARROW1\x00\x00" + b"\xff" * 1000)
    # a directory for writes, and escapes: a file outside the root, a symlink to it
    (root / "out").mkdir()
    outside = root.parent / (root.name + "-outside")
    outside.mkdir(exist_ok=True)
    pq.write_table(d.groups, outside / "secret.parquet")
    os.symlink(outside / "secret.parquet", root / "link_out.parquet")
    os.symlink(outside, root / "linkdir")
    # a bigger table for cross joins (timeouts, cancellation)
    pq.write_table(pa.table({"k": pa.array(np.arange(20_000, dtype=np.int64))}), root / "k20k.parquet")
    return d


@pytest.fixture(scope="session")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    root = tmp_path_factory.mktemp("root")
    return write_data(root)


# ---------------------------------------------------------------- servers


_SERVE_OK: dict = {}
_STARTED: List["Server"] = []  # every server a test started: none outlives the session


def serve_available(binary: Path) -> bool:
    """False only when the binary says it does not know the serve command."""
    if binary not in _SERVE_OK:
        r = subprocess.run([str(binary), "serve", "--help"], capture_output=True, timeout=60)
        out = (r.stdout + r.stderr).decode(errors="replace")
        _SERVE_OK[binary] = not (r.returncode != 0 and 'unknown command "serve"' in out)
    return _SERVE_OK[binary]


class Server:
    """A running `polaroid serve` child."""

    def __init__(self, args: List[str], root: Path, env: Optional[dict] = None) -> None:
        self.args = args
        self.root = root
        binary = polaroid_bin()
        if not binary.exists():
            pytest.skip(f"{binary} not built (make build / make build-asan)")
        if not serve_available(binary):
            pytest.skip(f"{binary} has no 'serve' command yet")
        cmd = [str(binary), "serve", "--data-root", str(root)] + args
        if not any(a == "--listen" for a in args):
            cmd += ["--listen", "127.0.0.1:0"]
        self.cmd = cmd
        env2 = dict(os.environ)
        env2.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            env2.update(env)
        Server._count += 1
        self.log_path = root.parent / f"serve-{os.getpid()}-{Server._count}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, env=env2)
        _STARTED.append(self)
        self.stdout_lines: List[str] = []
        self.address = self._wait_ready(60.0)
        # keep reading stdout so the server never blocks on a full pipe
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    _count = 0

    def _drain(self) -> None:
        for line in self.proc.stdout:
            self.stdout_lines.append(line.decode(errors="replace"))

    @property
    def stderr_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    line = buf.split(b"\n", 1)[0].decode(errors="replace")
                    m = READY_RE.search(line)
                    if not m:
                        self.kill()
                        raise RuntimeError(f"unexpected first line from polaroid serve: {line!r}")
                    return m.group(1)
            elif self.proc.poll() is not None:
                break
        if self.proc.poll() is None:
            self.kill()
        raise RuntimeError(f"polaroid serve did not become ready (exit {self.proc.returncode}): "
                           f"{buf.decode(errors='replace')} {self.stderr_text[-3000:]}")

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, wait, return the exit code (stderr kept in stderr_text)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"polaroid serve did not exit within {timeout} s of SIGTERM")
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc.poll() is None


def start_server(root: Path, *args: str, env: Optional[dict] = None) -> Server:
    return Server(list(args), root, env)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_servers():
    yield
    for s in _STARTED:
        s.kill()


@pytest.fixture(scope="session")
def server(data: Data):
    # same-host result files a client dropped are pooled for reuse; removed after 1 s idle here
    # so that the tests' "no file left" checks see them go
    s = start_server(data.root, "--shm-reuse", "1G", "--shm-reuse-idle", "1")
    yield s
    rc = s.terminate()
    assert rc == 0, f"polaroid serve exited {rc} after SIGTERM:\n{s.stderr_text[-5000:]}"


@pytest.fixture(scope="session")
def client(server: Server):
    c = pd.connect(server.address, timeout=120)
    c.wait_ready(30)
    yield c
    c.close()


@pytest.fixture()
def pdc(client):
    """The module API with the session client as the default connection."""
    pd.set_default(client)
    yield pd
