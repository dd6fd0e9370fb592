"""The client's transport against a small in-process stand-in of the server (grpcio, pyarrow):
Execute's stream decoding, error trailers, cancellation, handles and their heartbeat, Append.
These run without the C server; the real server's behaviour is tested by the other files."""

from __future__ import annotations

import gc
import threading
import time
from concurrent import futures

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import polaroid as pd
from polaroid._proto import health_pb2, polaroid_pb2 as pb, polaroid_pb2_grpc as pbg


def _messages(t: pa.Table, max_bytes: int):
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, t.schema) as w:
        rows = max(1, t.num_rows * max_bytes // max(1, t.nbytes)) if t.nbytes else t.num_rows
        for b in t.to_batches(max_chunksize=max(1, rows)):
            w.write_batch(b)
    buf = sink.getvalue()
    r = pa.BufferReader(buf)
    pos = 0
    while True:
        try:
            ipc.read_message(r)
        except EOFError:
            break
        e = r.tell()
        yield buf.slice(pos, e - pos).to_pybytes()
        pos = e


class Fake(pbg.PolaroidServicer):
    def __init__(self) -> None:
        self.handles = {}
        self.cancelled = threading.Event()
        self.tables = {}
        self.sent = 0

    def _table(self, rel, ctx):
        k = rel.WhichOneof("rel")
        if k == "arrow":
            return ipc.open_stream(rel.arrow.ipc_stream).read_all()
        if k == "handle":
            if rel.handle.id not in self.handles:
                self._abort(ctx, grpc.StatusCode.NOT_FOUND, "no such handle", status="not found")
            return self.handles[rel.handle.id]
        if k == "table":
            return pa.Table.from_batches(self.tables[rel.table.name][1], self.tables[rel.table.name][0])
        if k == "read":
            if rel.read.paths[0] == "endless":
                n = 1_000_000_000
                return pa.table({"a": pa.array(np.arange(50_000))}), n
            self._abort(ctx, grpc.StatusCode.NOT_FOUND, f"{rel.read.paths[0]}: no such file",
                        status="not found", path=rel.read.paths[0])
        if k == "limit":
            return self._table(rel.limit.input, ctx).slice(rel.limit.offset, None if rel.limit.limit < 0 else rel.limit.limit)
        if k == "aggregate":
            return pa.table({"len": [self._table(rel.aggregate.input, ctx).num_rows]})
        if k == "sql":
            self._abort(ctx, grpc.StatusCode.INVALID_ARGUMENT, "syntax error at or near \"SELEKT\"",
                        status="invalid argument", sql_position=0)
        self._abort(ctx, grpc.StatusCode.UNIMPLEMENTED, f"fake: {k}")

    def _abort(self, ctx, code, msg, **fields):
        d = pb.ErrorDetail(column_index=-1, row_group=-1, row=-1, byte_offset=-1, sql_position=-1,
                           message=msg)
        for k, v in fields.items():
            setattr(d, k, v)
        ctx.set_trailing_metadata((("polaroid-error-bin", d.SerializeToString()),))
        ctx.abort(code, msg)

    def Execute(self, req, ctx):
        t = self._table(req.plan.root, ctx)
        mb = req.options.max_message_bytes or (1 << 20)
        if isinstance(t, tuple):  # endless
            t, _ = t
            ctx.add_callback(self.cancelled.set)  # runs when the call ends (here: cancelled)
            msgs = list(_messages(t, mb))
            yield pb.ExecuteResponse(arrow_ipc=msgs[0])
            while True:
                for m in msgs[1:]:
                    self.sent += 1
                    yield pb.ExecuteResponse(arrow_ipc=m)
        msgs = list(_messages(t, mb))
        yield pb.ExecuteResponse(arrow_ipc=msgs[0] + (msgs[1] if len(msgs) > 1 else b""))
        for m in msgs[2:]:
            yield pb.ExecuteResponse(arrow_ipc=m)
        yield pb.ExecuteResponse(summary=pb.ExecuteSummary(rows=t.num_rows))

    def Schema(self, req, ctx):
        t = self._table(req.plan.root, ctx)
        return pb.SchemaResponse(arrow_schema=t.schema.serialize().to_pybytes())

    def CreateHandle(self, req, ctx):
        t = self._table(req.plan.root, ctx)
        hid = f"h{len(self.handles) + 1}"
        self.handles[hid] = t
        return pb.HandleInfo(id=hid, num_rows=t.num_rows, ttl_seconds=3,
                             schema=pb.SchemaResponse(arrow_schema=t.schema.serialize().to_pybytes()))

    def Heartbeat(self, req, ctx):
        self.beats = getattr(self, "beats", 0) + 1
        return pb.HeartbeatResponse(alive=[h for h in req.handle_ids if h in self.handles],
                                    unknown=[h for h in req.handle_ids if h not in self.handles])

    def DropHandle(self, req, ctx):
        n = 0
        for h in req.handle_ids:
            n += self.handles.pop(h, None) is not None
        return pb.DropHandleResponse(dropped=n)

    def CreateTable(self, req, ctx):
        s = ipc.read_schema(pa.py_buffer(req.arrow_schema))
        self.tables[req.name] = (s, [])
        return pb.TableInfo(name=req.name, schema=pb.SchemaResponse(arrow_schema=req.arrow_schema))

    def Append(self, it, ctx):
        name = None
        for req in it:
            name = req.table or name
            t = ipc.open_stream(req.arrow_ipc).read_all()
            s, bs = self.tables[name]
            bs.extend(t.cast(s).to_batches())
            yield pb.AppendAck(seq=req.seq, rows=t.num_rows, table_rows=sum(b.num_rows for b in bs))

    def ServerInfo(self, req, ctx):
        md = dict(ctx.invocation_metadata())
        return pb.ServerInfoResponse(version="fake", capabilities=["execute"],
                                     same_host=md.get("authorization") == "Bearer tok")


@pytest.fixture()
def fake():
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    f = Fake()
    pbg.add_PolaroidServicer_to_server(f, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    c = pd.Client(f"127.0.0.1:{port}", token="tok", heartbeat_interval=0.2)
    yield f, c
    c.close()
    srv.stop(0)


def test_execute_decodes_stream(fake):
    f, c = fake
    t = pa.table({"a": np.arange(100_000), "s": [f"v{i}" if i % 3 else None for i in range(100_000)]})
    df = c.from_arrow(t)
    assert df.collect().equals(t)
    batches = list(df.iter_batches(max_message_bytes=32 * 1024))
    assert len(batches) > 10 and pa.Table.from_batches(batches).equals(t)
    assert pa.table(df).equals(t)
    assert df.schema == t.schema
    assert len(df) == 100_000
    # an empty result keeps its schema
    e = c.from_arrow(t.slice(0, 0)).collect()
    assert e.num_rows == 0 and e.schema == t.schema


def test_token_sent_as_metadata(fake):
    f, c = fake
    assert c.server_info().same_host  # the fake answers True when the bearer token arrived


def test_error_trailer(fake):
    f, c = fake
    with pytest.raises(pd.NotFoundError) as ei:
        c.read_parquet("x.parquet").collect()
    e = ei.value
    assert e.path == "x.parquet" and e.where == "file 'x.parquet'" and e.what.endswith("no such file")
    with pytest.raises(pd.InvalidArgumentError) as ei:
        c.sql("SELEKT").collect()
    assert ei.value.sql_position == 0
    with pytest.raises(pd.UnimplementedError):
        c.read_parquet("x").select("a").schema


def test_cancel_stops_the_stream(fake):
    f, c = fake
    it = c.scan("endless").iter_batches(max_message_bytes=16 * 1024)
    for i, _ in enumerate(it):
        if i == 5:
            break
    it.close()
    assert f.cancelled.wait(5)


def test_handles_heartbeat_and_drop(fake):
    f, c = fake
    cached = c.from_arrow(pa.table({"a": [1, 2, 3]})).cache()
    hid = cached.handle.id
    assert hid in f.handles and cached.handle.num_rows == 3
    time.sleep(0.7)
    assert getattr(f, "beats", 0) >= 2
    assert len(cached.head(2).collect()) == 2
    del cached
    gc.collect()
    deadline = time.monotonic() + 3
    while hid in f.handles and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hid not in f.handles
    # close() drops what is left
    keep = c.from_arrow(pa.table({"a": [1]})).cache()
    hid2 = keep.handle.id
    c.close()
    assert hid2 not in f.handles


def test_append_chunks(fake):
    f, c = fake
    c.create_table("t", pa.schema([("a", pa.int64()), ("s", pa.string())]))
    r = c.append("t", pa.table({"a": np.arange(100_000), "s": ["x"] * 100_000}), chunk_bytes=64 * 1024)
    assert r.rows == 100_000 and r.table_rows == 100_000
    r = c.append("t", [{"a": 1, "s": "y"}])
    assert r.table_rows == 100_001
    assert c.table("t").collect().num_rows == 100_001


def test_unavailable(fake):
    c = pd.Client("127.0.0.1:1", timeout=3)
    with pytest.raises(pd.UnavailableError):
        c.server_info()
    with pytest.raises(pd.UnavailableError):
        c.read_parquet("x").collect()
    c.close()


def test_server_stopping_mid_call_ends_the_call():
    """A server that goes away while a query runs: the call fails with UNAVAILABLE within a few
    seconds (with gRPC's own retry policy it hung for ever; the client retries by itself)."""

    class Slow(pbg.PolaroidServicer):
        def Execute(self, req, ctx):
            time.sleep(20)
            yield pb.ExecuteResponse()

    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pbg.add_PolaroidServicer_to_server(Slow(), srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    c = pd.Client(f"127.0.0.1:{port}", shared_memory=False)
    res = {}

    def run():
        t0 = time.monotonic()
        try:
            c.from_arrow(pa.table({"a": [1]})).collect()
        except pd.PolaroidError as e:
            res["e"] = e
        res["t"] = time.monotonic() - t0

    th = threading.Thread(target=run, daemon=True)
    th.start()
    time.sleep(0.5)
    srv.stop(0.2).wait()
    th.join(15)
    assert not th.is_alive(), "the call still hangs after the server stopped"
    assert isinstance(res.get("e"), pd.UnavailableError)
    c.close()
