"""Same-host results whose tmpfs pages are reused (ReleaseSharedMemory.client_pid / unmapped): the
async client releases a result's files with its process id once it has mapped them, and says
"unmapped" when the table (and every buffer taken from it) is gone; the server then writes this
owner's later results over those files instead of allocating new pages. Checked against a live
server: results equal pyarrow's read of the same Parquet files (ints, doubles with NaN and NULLs,
strings, dictionary columns, booleans, timestamps); a table still held is never written over
while later results reuse the files of dropped ones; files of a killed client go back to the
pool and every pooled file is removed once idle; the pool gives way to --max-memory; a release
naming a process that does not map the files removes them at once (no reuse)."""
from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import polaroid as pd
import polaroid.async_client as ac
from polaroid import _ipc
from polaroid._proto import polaroid_pb2 as pb
from polaroid._requests import SHARED_MEMORY_MAX_FILES, execute_request, map_shared_memory
from polaroid.async_client import AsyncPolaroidClient

from conftest import REPO, helpers, run, srv

N = 300_000


def _table(seed: int, n: int = N) -> pa.Table:
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    f = rng.normal(size=n)
    f[::97] = np.nan
    words = np.array([f"w{seed}-{k}" for k in range(700)], dtype=object)
    return pa.table({
        "id": pa.array(i.astype(np.int64) + seed * 10_000_000),
        "f": pa.array(f, mask=(i % 101 == 0)),
        "s": pa.array(words[(i * 7 + seed) % 700], mask=(i % 17 == 0)),
        "d": pa.array(words[(i * 3) % 50]).dictionary_encode(),
        "b": pa.array(i % 3 == 0, mask=(i % 11 == 0)),
        "ts": pa.array(i.astype(np.int64) * 1000 + seed, type=pa.timestamp("us")),
        "q": pa.array((i % 1000).astype(np.int32), mask=(i % 13 == 0)),
    })


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("shmreuse")
    for k in range(4):
        pq.write_table(_table(k + 1), r / f"t{k}.parquet", row_group_size=40_000)
    return r


def _want(root, k: int) -> pa.Table:
    """pyarrow's read of the file, dictionary columns decoded (as the server sends them)."""
    t = pq.read_table(root / f"t{k}.parquet")
    cols = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in t.columns]
    return pa.table(cols, names=t.column_names)




def _mine(s) -> set:
    prefix = f"polaroid-{s.proc.pid}-"
    return {"/dev/shm/" + f for f in os.listdir("/dev/shm") if f.startswith(prefix)}


def _wait(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


class _Paths:
    """Records the files of every same-host result the async client maps."""

    def __init__(self, monkeypatch) -> None:
        self.seen: list = []
        real = ac.map_shared_memory

        def spy(res, on_unmapped=None):
            self.seen.append({f.path for f in res.files} or {res.path})
            return real(res, on_unmapped=on_unmapped)

        monkeypatch.setattr(ac, "map_shared_memory", spy)


def _client(s) -> AsyncPolaroidClient:
    return AsyncPolaroidClient(s.address, shared_memory=True, shared_memory_min_bytes=0, timeout=120)


async def _df(c: AsyncPolaroidClient, path: str):
    return (await c.scan(path, validate=False)).unwrap()


async def _settle() -> None:
    gc.collect()
    for _ in range(20):  # the unmapped call runs as a task of this loop
        await asyncio.sleep(0.05)


def test_reuse_never_overwrites_a_held_table(root, monkeypatch):
    # idle 3 s, not 1: under load more than a second could pass between pooling the dropped
    # table's files and the next query, and the sweep removed them before they could be reused
    s = srv.start_server(root, "--shm-reuse", "1G", "--shm-reuse-idle", "3")
    paths = _Paths(monkeypatch)
    try:
        async def main():
            async with _client(s) as c:
                (await c.wait_ready()).unwrap()
                a = (await c.collect(await _df(c, "t0.parquet"))).unwrap()
                assert paths.seen, "the result did not come through shared memory"
                b = (await c.collect(await _df(c, "t1.parquet"))).unwrap()
                pa_, pb_ = paths.seen[0], paths.seen[1]
                assert not (pa_ & pb_), "a held table's files were reused"
                assert helpers.same_values(a, _want(root, 0)) and helpers.same_values(b, _want(root, 1))
                col = a.column("s")  # a column taken from the table keeps its files too
                del a
                await _settle()
                c1 = (await c.collect(await _df(c, "t2.parquet"))).unwrap()
                assert not (paths.seen[2] & pa_), "files reused while a column still maps them"
                assert col.equals(_want(root, 0).column("s"))
                del col
                await _settle()
                assert all(os.path.exists(p) for p in pa_), "dropped files should be pooled"
                c2 = (await c.collect(await _df(c, "t3.parquet"))).unwrap()
                assert paths.seen[3] & pa_, "the dropped table's files were not reused"
                assert helpers.same_values(c2, _want(root, 3))
                # the tables still held are intact after results were written over reused files
                assert helpers.same_values(b, _want(root, 1)) and helpers.same_values(c1, _want(root, 2))
                # a smaller result in a reused (larger) file: read up to its stream's end
                del b, c1, c2
                await _settle()
                small = (await c.collect((await _df(c, "t0.parquet")).head(1000))).unwrap()
                assert helpers.same_values(small, _want(root, 0).slice(0, 1000))
                del small
                await _settle()
        run(main())
        # unused pooled files are removed after --shm-reuse-idle (the sweep runs each second)
        assert _wait(lambda: not _mine(s), 10.0), f"pooled files left: {_mine(s)}"
    finally:
        assert s.terminate() == 0


_HOLDER = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[2])
import polaroid.async_client as ac
from polaroid.async_client import AsyncPolaroidClient
seen = []
real = ac.map_shared_memory
def spy(res, on_unmapped=None):
    seen.append(" ".join(f.path for f in res.files) or res.path)
    return real(res, on_unmapped=on_unmapped)
ac.map_shared_memory = spy
async def main():
    async with AsyncPolaroidClient(sys.argv[1], shared_memory=True, shared_memory_min_bytes=0) as c:
        t = (await c.collect((await c.scan("t1.parquet", validate=False)).unwrap())).unwrap()
        print(seen[0], flush=True)
        await asyncio.sleep(600)  # holding t: killed here
asyncio.run(main())
"""


def test_killed_client_files_are_pooled_then_removed(root):
    s = srv.start_server(root, "--shm-reuse", "1G", "--shm-reuse-idle", "1")
    p = subprocess.Popen([sys.executable, "-c", _HOLDER, s.address, str(REPO / "python")],
                         stdout=subprocess.PIPE, text=True)
    try:
        files = p.stdout.readline().split()
        assert files and all(x.startswith(f"/dev/shm/polaroid-{s.proc.pid}-") for x in files)
        time.sleep(1.5)  # lent to the live process: kept past the idle time
        assert all(os.path.exists(x) for x in files), "files of a live holder removed"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        # the sweep sees the process gone, pools the files, and removes them once idle
        assert _wait(lambda: not _mine(s), 6.0), f"files of a killed client left: {_mine(s)}"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        assert s.terminate() == 0


def test_pool_gives_way_to_the_memory_limit(root, monkeypatch):
    """--max-memory 40MB: a dropped result's files stay pooled and charged (at most half the
    limit), and give way when another request needs the memory."""
    s = srv.start_server(root, "--max-memory", "40MB", "--shm-reuse", "1G", "--shm-reuse-idle", "60")
    paths = _Paths(monkeypatch)
    try:
        async def main():
            async with _client(s) as c:
                (await c.wait_ready()).unwrap()
                a = (await c.collect(await _df(c, "t0.parquet"))).unwrap()
                assert helpers.same_values(a, _want(root, 0))
                held = paths.seen[0]
                del a
                await _settle()
                # the files move from lent (uncharged) to pooled (charged) when the server has
                # seen them unmapped: on the release call, or at the latest by its sweep (once a
                # second); on a loaded machine give it two more sweeps
                await asyncio.sleep(2.0)
                assert all(os.path.exists(p) for p in held), "dropped files should be pooled"
                pooled = sum(os.path.getsize(p) for p in held)
                assert pooled > 12_000_000
                n = (40_000_000 - pooled) // 8 + 500_000  # fits only without the pool's charge
                big = pa.table({"x": pa.array(np.arange(n, dtype=np.int64))})
                (await c.create_table("big", data=big)).unwrap()
                # the pool gave way (as many files as the charge needed: one may stay)
                assert not all(os.path.exists(p) for p in held), "the pool did not give way"
        run(main())
    finally:
        assert s.terminate() == 0


def test_release_naming_another_process_removes_the_files(root):
    """client_pid of a process that does not map the files: no lending, removed at once."""
    s = srv.start_server(root, "--shm-reuse", "1G")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with pd.Client(s.address, shared_memory=False) as c:
            c.wait_ready(30)
            req = execute_request(c.scan("t0.parquet").plan, shared_memory=True, shared_memory_min_bytes=1)
            req.options.shared_memory_max_files = SHARED_MEMORY_MAX_FILES
            it = iter(c._execute(req, timeout=120, metadata=c._metadata))
            res = next(val for kind, val in it if kind == _ipc.SHARED_MEMORY)
            got = map_shared_memory(res)
            files = [f.path for f in res.files]
            r = c._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=res.lease_id, client_pid=other.pid),
                                   timeout=10, metadata=c._metadata)
            assert r.released
            assert list(it)[-1][0] == _ipc.SUMMARY
            assert not any(os.path.exists(x) for x in files), "files kept for a process that does not map them"
            assert helpers.same_values(got, _want(root, 0))
            # unknown lease, and "unmapped" for it: nothing happens
            assert not c._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=res.lease_id, unmapped=True),
                                          timeout=10, metadata=c._metadata).released
    finally:
        other.kill()
        other.wait()
        assert s.terminate() == 0


def test_table_dropped_after_the_client_closed(root):
    """No "unmapped" call can go out once the client is closed: the server's sweep sees in
    /proc/<pid>/maps that the files are no longer mapped, pools them, and removes them once idle;
    while the table lives they stay."""
    s = srv.start_server(root, "--shm-reuse", "1G", "--shm-reuse-idle", "1")
    try:
        async def main():
            async with _client(s) as c:
                (await c.wait_ready()).unwrap()
                return (await c.collect(await _df(c, "t2.parquet"))).unwrap()
        t = run(main())
        files = _mine(s)
        assert files
        time.sleep(2.5)  # past the idle time and a sweep or two: still mapped, still there
        assert files <= _mine(s), "files removed while the table maps them"
        assert helpers.same_values(t, _want(root, 2))
        del t
        gc.collect()
        assert _wait(lambda: not _mine(s), 6.0), f"files left: {_mine(s)}"
    finally:
        assert s.terminate() == 0


def test_reuse_off_removes_files_at_release(root):
    """--shm-reuse 0: the client's release with its pid removes the files at once, as before."""
    s = srv.start_server(root, "--shm-reuse", "0")
    try:
        async def main():
            async with _client(s) as c:
                (await c.wait_ready()).unwrap()
                t = (await c.collect(await _df(c, "t1.parquet"))).unwrap()
                assert _wait(lambda: not _mine(s), 3.0), "files kept with --shm-reuse 0"
                assert helpers.same_values(t, _want(root, 1))
        run(main())
    finally:
        assert s.terminate() == 0


def test_reuse_is_on_by_default(root, monkeypatch):
    """A server started without --shm-reuse pools a dropped table's files and writes the next
    result over them; every collect returns well before the 10 s the transport holds a call
    whose lease was not released (a release that overtook the attach used to wait it out)."""
    s = srv.start_server(root, "--shm-reuse-idle", "5")
    paths = _Paths(monkeypatch)
    try:
        async def main():
            async with _client(s) as c:
                (await c.wait_ready()).unwrap()
                for i in range(3):
                    t0 = time.monotonic()
                    t = (await c.collect(await _df(c, f"t{i}.parquet"))).unwrap()
                    assert time.monotonic() - t0 < 5.0, "a collect waited for its release"
                    assert helpers.same_values(t, _want(root, i))
                    del t
                    await _settle()
                    first = paths.seen[0]
                    assert _wait(lambda: all(os.path.exists(p) for p in first), 3.0)
                assert paths.seen[1] & paths.seen[0], "the default server did not reuse the files"
        run(main())
    finally:
        assert s.terminate() == 0
