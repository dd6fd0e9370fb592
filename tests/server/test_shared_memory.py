"""Same-host results in several files at once (ExecuteOptions.shared_memory_max_files): the
server writes a large result into up to one file per worker thread and lists them with the runs
that put their record batches in order; the client maps them all into one pyarrow Table without
a copy. Results equal the uploaded data; every file goes on release, on the client's death and on
failures part-way; one-file results, older clients (one file, path only) and empty results keep
working."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pytest

import polaroid as pd
from polaroid import _ipc
from polaroid._proto import polaroid_pb2 as pb
from polaroid._requests import SHARED_MEMORY_MAX_FILES, execute_request, map_shared_memory

from conftest import REPO, start_server
from helpers import assert_same, same_values

N_ROWS = 1_200_000  # ~30 MB as Arrow: several 4 MiB segments


def _wide(n: int = N_ROWS) -> pa.Table:
    rng = np.random.default_rng(7)
    f = rng.normal(size=n)
    f[::97] = np.nan
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "f": pa.array(f, mask=(np.arange(n) % 101 == 0)),
        "s": pa.array([f"s{i % 1000}" for i in range(n)]),
        "q": pa.array(np.arange(n, dtype=np.int32) % 7, mask=(np.arange(n) % 13 == 0)),
    })


@pytest.fixture(scope="module")
def wide(server):
    t = _wide()
    with pd.Client(server.address, shared_memory=False) as c:
        c.create_table("shm_wide", data=t, replace=True)
    yield t
    with pd.Client(server.address, shared_memory=False) as c:
        c.drop_table("shm_wide", if_exists=True)




def _mine(server):
    prefix = f"polaroid-{server.proc.pid}-"
    return {f for f in os.listdir("/dev/shm") if f.startswith(prefix)}


def _gone(server, before, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _mine(server) - before:
        time.sleep(0.05)
    return not (_mine(server) - before)


def _shm_answer(c: pd.Client, plan: pb.Plan, *, max_files=SHARED_MEMORY_MAX_FILES, min_bytes=1):
    """Runs plan asking for a same-host answer: the SharedMemoryResult (not released yet) and
    the call's iterator (kept open: the server holds the lease with the call)."""
    req = execute_request(plan, shared_memory=True, shared_memory_min_bytes=min_bytes)
    req.options.shared_memory_max_files = max_files
    it = iter(c._execute(req, timeout=120, metadata=c._metadata))
    for kind, val in it:
        if kind == _ipc.SHARED_MEMORY:
            return val, it
        if kind == _ipc.ARROW_IPC:
            pytest.skip("the server answered allow_shared_memory with messages")
    raise AssertionError("no SharedMemoryResult")


def _release(c: pd.Client, res, it):
    assert c._release_shm_rpc(pb.ReleaseSharedMemoryRequest(lease_id=res.lease_id),
                              timeout=10, metadata=c._metadata).released
    rest = list(it)  # the summary, once released
    assert rest and rest[-1][0] == _ipc.SUMMARY


def _check_listing(res):
    """Files of mode 0600 with the listed sizes; runs that cover every record batch once."""
    counts = []
    for f in res.files:
        st = os.stat(f.path)
        assert st.st_mode & 0o777 == 0o600
        assert st.st_size == f.size
        counts.append(sum(1 for _ in pa.ipc.open_stream(pa.memory_map(f.path))))
    seen = [set() for _ in res.files]
    assert len(res.run_file) == len(res.run_first) == len(res.run_batches)
    for k, first, n in zip(res.run_file, res.run_first, res.run_batches):
        assert n > 0
        for j in range(first, first + n):
            assert j < counts[k] and j not in seen[k]
            seen[k].add(j)
    assert [len(s) for s in seen] == counts


def test_several_files_equal_the_data(server, wide):
    info = pd.Client(server.address, shared_memory=False).server_info()
    assert "shared_memory_files" in info.capabilities
    before = _mine(server)
    most = 0
    with pd.Client(server.address, shared_memory=False) as c:
        plan = c.table("shm_wide").plan
        for _ in range(10):  # the server's second writer may be busy elsewhere: try again
            res, it = _shm_answer(c, plan)
            assert 1 <= len(res.files) <= max(1, info.threads)
            assert not res.path if len(res.files) > 1 else res.path == res.files[0].path
            _check_listing(res)
            got = map_shared_memory(res)
            _release(c, res, it)
            assert not (_mine(server) - before), "files left after the release"
            assert got.schema == wide.schema
            assert same_values(got, wide)  # order, NULLs, NaN, strings
            most = max(most, len(res.files))
            del got
            if most > 1 or info.threads < 2:
                break
    if info.threads >= 2:
        assert most > 1, "never more than one file with two writer threads"


def test_package_collect_through_several_files(data, wide):
    """The package's client keeps a result's files mapped (released with its pid): once its
    tables are gone they are reused (the second result), then removed after --shm-reuse-idle."""
    server = start_server(data.root, "--shm-reuse", "1G", "--shm-reuse-idle", "1")
    try:
        with pd.Client(server.address, shared_memory=True, shared_memory_min_bytes=1) as c:
            c.wait_ready(30)
            c.create_table("shm_wide", data=wide)
            df = c.table("shm_wide")
            rs = c.execute(df)
            got = rs.read_all()
            if rs._shm_table is None:
                pytest.skip("the server answered allow_shared_memory with messages")
            assert same_values(got, wide)
            first = _mine(server)
            assert first, "no result file kept while the table maps it"
            del got, rs
            time.sleep(0.5)  # the unmapped release is sent without waiting
            # an operation on top: a filter and a projection, still in order, written over the
            # pooled files of the first result
            got = df.filter("id % 3 = 0").select("id", "s").collect()
            want = wide.take(np.arange(0, N_ROWS, 3)).select(["id", "s"])
            assert same_values(got, want)
            assert _mine(server) <= first, "the dropped result's files were not reused"
        del got
        assert _gone(server, set()), "result files left in /dev/shm"
    finally:
        assert server.terminate() == 0


def test_one_file_and_older_clients(server, data):
    before = _mine(server)
    with pd.Client(server.address, shared_memory=False) as c:
        plan = c.read_parquet("trades.parquet").plan
        # a small result: one file, listed both ways
        res, it = _shm_answer(c, plan)
        assert len(res.files) == 1 and res.path == res.files[0].path
        assert res.size == res.files[0].size
        _check_listing(res)
        got = map_shared_memory(res)
        _release(c, res, it)
        assert_same(got, data.trades)
        # an older client (no shared_memory_max_files): path only, one file, even when large
        res, it = _shm_answer(c, c.table("shm_wide").plan if _has_wide(c) else plan, max_files=0)
        assert not res.files and not res.run_file and res.path
        got2 = map_shared_memory(res.path)
        assert same_values(got2, map_shared_memory(res))
        _release(c, res, it)
    assert _gone(server, before)


def _has_wide(c):
    return any(t.name == "shm_wide" for t in c.list_tables())


def test_empty_result_in_a_file(server, wide):
    before = _mine(server)
    with pd.Client(server.address, shared_memory=False) as c:
        res, it = _shm_answer(c, c.table("shm_wide").filter("id < 0").plan, min_bytes=0)
        assert len(res.files) == 1 and not res.run_file
        got = map_shared_memory(res)
        _release(c, res, it)
        assert got.num_rows == 0 and got.schema == wide.schema
    assert _gone(server, before)


_KILLED = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import polaroid as pd
from polaroid import _ipc
from polaroid._requests import execute_request
c = pd.Client(sys.argv[1], shared_memory=False)
req = execute_request(c.table("shm_wide").plan, shared_memory=True, shared_memory_min_bytes=1)
for kind, val in c._execute(req, timeout=120, metadata=c._metadata):
    if kind == _ipc.SHARED_MEMORY:
        print(" ".join(f.path for f in val.files), flush=True)  # now wait to be killed
        time.sleep(600)
print("", flush=True)
"""


def test_killed_client_leaves_no_file(server, wide):
    p = subprocess.Popen([sys.executable, "-c", _KILLED, server.address, str(REPO / "python")],
                         stdout=subprocess.PIPE, text=True)
    try:
        paths = p.stdout.readline().split()
        assert paths and all(x.startswith(f"/dev/shm/polaroid-{server.proc.pid}-") for x in paths)
        assert all(os.path.exists(x) for x in paths)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and any(os.path.exists(x) for x in paths):
            time.sleep(0.02)
        assert not any(os.path.exists(x) for x in paths), "files of a killed client left"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_memory_limit_part_way_leaves_nothing(data):
    """A result that passes --max-memory while its files are written: RESOURCE_EXHAUSTED, no
    file left, the memory gauge back where it was; a smaller one then goes through."""
    s = start_server(data.root, "--max-memory", "64MB", "--shm-reuse", "1G", "--shm-reuse-idle", "1")
    try:
        t = _wide()  # ~34 MB stored, ~34 MB more as files
        with pd.Client(s.address, shared_memory=True, shared_memory_min_bytes=1) as c:
            c.wait_ready(30)
            c.create_table("w", data=t)
            before = _mine(s)
            with pytest.raises(pd.PolaroidError) as ei:
                c.table("w").collect()
            assert "memory limit" in str(ei.value) or "--max-memory" in str(ei.value)
            assert _gone(s, before, 3.0), "files left after a failure part-way"
            got = c.table("w").head(300_000).collect()
            assert same_values(got, t.slice(0, 300_000))
            del got  # its files are pooled for reuse, then removed once idle
            assert _gone(s, before, 5.0)
    finally:
        assert s.terminate() == 0
