"""Handles (cache/persist, heartbeat, drop on GC) and live tables (create, append, list, drop)."""

from __future__ import annotations

import gc
import time

import pyarrow as pa
import pytest

import polaroid as pd
from conftest import start_server
from helpers import assert_same


def test_cache_materialized(client, data):
    df = client.read_parquet("trades/*.parquet").filter("x > 100")
    cached = df.cache()
    h = cached.handle
    assert h is not None and h.alive and h.id
    assert h.num_rows == len(df)
    assert h.schema.names == data.trades.column_names
    assert_same(cached.sort("id").collect(), df.sort("id").collect())
    # frames built on a cached frame keep working and keep the handle alive
    derived = cached.group_by("g").agg(n=pd.len_())
    del cached
    gc.collect()
    assert h.alive
    assert sum(derived.collect().column("n").to_pylist()) == h.num_rows
    # visible to SQL by name? at least through the frame
    assert len(client.sql("SELECT * FROM c", c=derived)) == derived.collect().num_rows
    hid = h.id
    del derived, h
    gc.collect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _, unknown = _beat(client, hid)
        if hid in unknown:
            break
        time.sleep(0.1)
    assert hid in unknown, "the handle was not dropped after its last DataFrame went away"
    with pytest.raises(pd.NotFoundError):
        client.handle(hid).collect()


def _beat(client, hid):
    from polaroid._proto import polaroid_pb2 as pb

    r = client._heartbeat_rpc(pb.HeartbeatRequest(handle_ids=[hid]), metadata=client.metadata, timeout=10)
    return list(r.alive), list(r.unknown)


def test_persist_lazy_and_unpersist(client):
    df = client.read_parquet("trades.parquet").select("id", "q")
    lazy = df.persist(materialize=False)
    assert lazy.handle.num_rows is None
    assert len(lazy) == 20_000
    lazy.unpersist()
    with pytest.raises(pd.NotFoundError):
        lazy.collect()


def test_heartbeat_keeps_handles_alive(data):
    s = start_server(data.root, "--handle-ttl", "2")
    try:
        with pd.Client(s.address, heartbeat_interval=0.5) as c:
            kept = c.read_parquet("groups.parquet").cache()
            assert kept.handle.ttl_seconds == 2
            # a handle that nobody renews: a second client without a heartbeat thread
            c2 = pd.Client(s.address, heartbeat_interval=1000)
            orphan = c2.read_parquet("groups.parquet").cache()
            time.sleep(4.5)
            assert kept.collect().num_rows == 5
            with pytest.raises(pd.NotFoundError):
                orphan.collect()
            c2.close()
        # closing the client dropped its handles
    finally:
        assert s.terminate() == 0


def test_handles_belong_to_their_owner(data):
    s = start_server(data.root, "--token-file", str(_tokens(data.root)))
    try:
        with pd.Client(s.address, token="tokA") as a, pd.Client(s.address, token="tokB") as b:
            ha = a.read_parquet("groups.parquet").cache()
            with pytest.raises((pd.PermissionDeniedError, pd.NotFoundError)):
                b.handle(ha.handle.id).collect()
            assert ha.collect().num_rows == 5
    finally:
        assert s.terminate() == 0


def _tokens(root):
    p = root.parent / "two-tokens.txt"
    p.write_text("tokA\ntokB\n")
    return p


def test_live_tables(client):
    name = "ticks_live"
    client.drop_table(name, if_exists=True)
    info = client.create_table(name, {"sym": "VARCHAR", "px": "DOUBLE", "n": "BIGINT"})
    assert info.name == name and info.num_rows == 0
    assert info.schema.names == ["sym", "px", "n"]
    assert name in [t.name for t in client.list_tables()]
    r = client.append(name, pa.table({"sym": ["a", "b"], "px": [1.5, 2.5], "n": [1, 2]}))
    assert r.rows == 2 and r.table_rows == 2
    r = client.append(name, [{"sym": "c", "px": 3.5, "n": 3}, {"sym": None, "px": None, "n": 4}])
    assert r.rows == 2 and r.table_rows == 4
    import pandas

    r = client.append(name, pandas.DataFrame({"sym": ["d"], "px": [4.5], "n": [5]}))
    assert r.table_rows == 5
    got = client.table(name).sort("n").collect()
    assert got.column("n").to_pylist() == [1, 2, 3, 4, 5]
    assert got.column("sym").to_pylist() == ["a", "b", "c", None, "d"]
    # SQL sees it by name; the module-level pd.table too
    pd.set_default(client)
    assert pd.sql(f"SELECT sum(n) AS s FROM {name}").collect().column("s")[0].as_py() == 15
    assert len(pd.table(name)) == 5
    # a big append is cut into several requests, all acknowledged
    big = pa.table({"sym": ["x"] * 200_000, "px": [0.25] * 200_000, "n": list(range(200_000))})
    r = client.append(name, big, chunk_bytes=256 * 1024)
    assert r.rows == 200_000 and r.table_rows == 200_005
    assert [t.num_rows for t in client.list_tables() if t.name == name] == [200_005]
    # wrong columns are refused
    with pytest.raises(pd.PolaroidError):
        client.append(name, pa.table({"nope": [1]}))
    assert client.drop_table(name)
    assert not client.drop_table(name, if_exists=True)
    with pytest.raises(pd.NotFoundError):
        client.table(name).collect()
    with pytest.raises(pd.NotFoundError):
        client.drop_table(name)


def test_create_table_from_schema_and_data(client, data):
    s = pa.schema([("ts", pa.timestamp("us")), ("v", pa.int64())])
    client.create_table("t_schema", s, replace=True)
    assert client.table("t_schema").schema == s
    with pytest.raises(pd.AlreadyExistsError):
        client.create_table("t_schema", s)
    client.create_table("t_schema", s, if_not_exists=True)
    client.create_table("t_data", data=client.read_parquet("groups.parquet"), replace=True)
    assert_same(client.table("t_data").collect(), data.groups)
    client.create_table("t_arrow", data=pa.table({"a": [1, 2, 3]}), replace=True)
    assert len(client.table("t_arrow")) == 3
    for n in ("t_schema", "t_data", "t_arrow"):
        client.drop_table(n)


def test_stored_data_counts_in_max_memory(data):
    """Live tables and materialised handles count in --max-memory: an append or a persist that
    would pass it is RESOURCE_EXHAUSTED with a clear message and changes nothing; the metrics
    show what holds the memory; drops give it back."""
    import socket

    import pyarrow as pa
    from conftest import start_server
    from helpers import scrape

    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        mport = so.getsockname()[1]
    s = start_server(data.root, "--max-memory", "4MB", "--metrics-listen", f"127.0.0.1:{mport}")
    try:
        with pd.Client(s.address) as c:
            c.create_table("ticks", pa.schema([("k", pa.int64()), ("v", pa.float64())]))
            chunk = pa.table({"k": pa.array(range(50_000), pa.int64()),
                              "v": pa.array([0.5] * 50_000, pa.float64())})  # 800 kB
            n_ok = 0
            with pytest.raises(pd.ResourceExhaustedError) as ei:
                for _ in range(10):
                    c.append("ticks", chunk)
                    n_ok += 1
            e = ei.value
            assert 1 <= n_ok < 6
            assert 'appending to table "ticks"' in e.what and "memory limit" in e.what, e.what
            assert "--max-memory" in e.what
            # the refused append left nothing
            assert [t.num_rows for t in c.list_tables() if t.name == "ticks"] == [n_ok * 50_000]
            # with the account full of table data, a query that needs memory is refused too,
            # saying what holds the memory
            with pytest.raises(pd.ResourceExhaustedError) as ei:
                c.table("ticks").sort("v").collect()
            assert "live tables" in ei.value.what
            m = scrape(f"127.0.0.1:{mport}")
            stored = m['polaroid_memory_stored_bytes{kind="live_tables"}']
            assert stored >= n_ok * 800_000
            assert m["polaroid_memory_limit_bytes"] > 0
            assert m["polaroid_memory_bytes"] >= stored
            # a materialised handle that does not fit
            with pytest.raises(pd.ResourceExhaustedError) as ei:
                c.table("ticks").persist()
            assert "memory" in ei.value.what
            assert c.drop_table("ticks")
            m = scrape(f"127.0.0.1:{mport}")
            assert m['polaroid_memory_stored_bytes{kind="live_tables"}'] == 0
            # now it fits
            h = c.read_parquet("trades.parquet").persist()
            assert len(h) == 20_000
            m = scrape(f"127.0.0.1:{mport}")
            assert m['polaroid_memory_stored_bytes{kind="handles"}'] > 0
            # a lazy handle over uploaded data holds that data: counted too
            up = pa.table({"k": pa.array(range(600_000), pa.int64())})  # 4.8 MB
            with pytest.raises(pd.ResourceExhaustedError) as ei:
                c.from_arrow(up).persist(materialize=False)
            assert "storing the handle's plan" in ei.value.what
            small = c.from_arrow(up.slice(0, 10_000)).persist(materialize=False)
            assert len(small) == 10_000
    finally:
        assert s.terminate() == 0, s.stderr_text[-3000:]


def test_live_table_sorted_key_filters(client):
    """Filters on a sorted key of a live table (chunks cut by binary search) give exactly the
    rows pyarrow finds: chunk edges, keys across chunk boundaries, NULLs, appends that keep or
    break the order, several key types."""
    import pyarrow.compute as pc

    name = "t_sorted_key"
    n = 40_000
    keys = [i // 3 for i in range(n)]  # key 5461 spans rows 16383..16385 (a chunk boundary)
    base = pa.table({"k": pa.array(keys, pa.int64()), "k32": pa.array(keys, pa.int32()),
                     "d": pa.array(keys, pa.int32()).cast(pa.date32()), "v": list(range(n))})
    client.create_table(name, data=base, replace=True)
    expect = base

    def check(expr, col, op, value):
        got = client.table(name).filter(expr).collect().sort_by("v")
        fn = {"=": pc.equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
              ">=": pc.greater_equal}[op]
        want = expect.filter(fn(expect[col], value)).sort_by("v")
        assert got.column("v").to_pylist() == want.column("v").to_pylist(), expr

    def check_all():
        for key in (-1, 0, 1, 5460, 5461, 5462, 10922, 10923, n // 3 - 1, n // 3, n // 3 + 1):
            for op in ("=", "<", "<=", ">", ">="):
                for col in ("k", "k32"):
                    check(f"{col} {op} {key}", col, op, key)
        got = client.table(name).filter("k >= 5400 and k < 5500").collect()
        want = expect.filter(pc.and_(pc.greater_equal(expect["k"], 5400), pc.less(expect["k"], 5500)))
        assert sorted(got.column("v").to_pylist()) == sorted(want.column("v").to_pylist())

    check_all()
    # an append that keeps the order (new chunks), then one that breaks it and one with NULLs
    for extra in (pa.table({"k": pa.array([n // 3 + 1] * 5, pa.int64()), "k32": pa.array([n // 3 + 1] * 5, pa.int32()),
                            "d": pa.array([n // 3 + 1] * 5, pa.int32()).cast(pa.date32()), "v": list(range(n, n + 5))}),
                  pa.table({"k": pa.array([5461, 0, 10923], pa.int64()), "k32": pa.array([5461, 0, 10923], pa.int32()),
                            "d": pa.array([5461, 0, 10923], pa.int32()).cast(pa.date32()), "v": [n + 5, n + 6, n + 7]}),
                  pa.table({"k": pa.array([None, 5461], pa.int64()), "k32": pa.array([None, 1], pa.int32()),
                            "d": pa.array([None, 1], pa.int32()).cast(pa.date32()), "v": [n + 8, n + 9]})):
        client.append(name, extra)
        expect = pa.concat_tables([expect, extra])
        check_all()
    assert client.drop_table(name)
