#!/usr/bin/env python3
"""Python clients of the server benchmark (bench/README.md, "Server group"): one measurement per
process, started by bench/server/server_bench.py.

  client.py fetch ENGINE ADDR WHAT [--via raw|pkg] [--source table|read]
      ENGINE polaroid | polars-aio (both polaroid.v1 Execute) | flight-duckdb (Flight DoGet)
      WHAT   wide (the 20 M x 10 table) | ticks:GLOB (files under the data root) | point:KEY
      Collects the whole result into a pyarrow Table; times the call from the request to the
      finished Table.
  client.py polars-read GLOB      Polars reading the files in this process (pl.read_parquet)
  client.py create-tables ADDR NAME=PATH...   polaroid.v1 CreateTable(name, as_plan=read(PATH))

Prints "BENCH_RESULT {json}": seconds, cpu_s (this process, all threads, over the timed part),
rows, nbytes (Arrow buffer bytes of the result), checks (rows, a sum of an integer column).

The polaroid.v1 client ("raw") is grpcio with a response deserializer that does not build
protobuf objects: it finds ExecuteResponse's payload field in the bytes grpcio hands over, and
pyarrow's IPC stream reader reads the messages from memoryviews of those bytes without copying
them (dictionaries and deltas resolved by pyarrow), so the client's only copy is grpcio's own. With --via pkg the polaroid
Python package (python/, `import polaroid`) does the fetching instead.
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

EXECUTE = "/polaroid.v1.Polaroid/Execute"
CHECK_COLUMN = {"wide": "c0", "ticks": "trade_id", "point": "id"}
GRPC_OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


# ------------------------------------------------------------------ plans

def polaroid_plan(pb, what, source="table"):
    """The polaroid.v1 Plan of a benchmark request (also understood by the grpc.aio peer)."""
    R = pb.Relation
    if what == "wide":
        root = (R(table=pb.TableRef(name="wide")) if source == "table" else
                R(read=pb.ReadFiles(paths=["bench/server/wide.parquet"])))
    elif what.startswith("ticks:"):
        root = R(read=pb.ReadFiles(paths=[what[len("ticks:"):]]))
    elif what.startswith("point:") and source == "limit":
        # diagnostic: the serving floor (4 rows of the table, no filter)
        root = R(limit=pb.Limit(input=R(table=pb.TableRef(name="points")), limit=4))
    elif what.startswith("point:"):
        src = (R(table=pb.TableRef(name="points")) if source == "table" else
               R(read=pb.ReadFiles(paths=["bench/server/points.parquet"])))
        pred = pb.Expr(call=pb.Call(function="eq", args=[
            pb.Expr(column=pb.ColumnRef(name="key")),
            pb.Expr(literal=pb.Literal(int64_value=int(what[len("point:"):])))]))
        root = R(filter=pb.Filter(input=src, predicate=pred))
    else:
        raise SystemExit(f"client: unknown request {what!r}")
    return pb.Plan(root=root)


def flight_sql(what):
    if what == "wide":
        return "SELECT * FROM wide"
    if what.startswith("ticks:"):
        return f"SELECT * FROM read_parquet('{what[len('ticks:'):]}')"
    if what.startswith("point:"):
        return f"SELECT * FROM points WHERE key = {int(what[len('point:'):])}"
    raise SystemExit(f"client: unknown request {what!r}")


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


# ------------------------------------------------------------------ raw polaroid.v1 client

def _payload(data):
    """ExecuteResponse bytes -> (field number, memoryview of the field's bytes). The message is
    a oneof of length-delimited fields (1 arrow_ipc, 2 shared_memory, 3 summary)."""
    if not data:
        return 0, memoryview(b"")
    mv = memoryview(data)
    tag = mv[0]
    pos, shift, n = 1, 0, 0
    while True:
        b = mv[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        if b < 0x80:
            break
        shift += 7
    return tag >> 3, mv[pos:pos + n]


class _Payloads:
    """A read-only file over the arrow_ipc payloads of an Execute stream, for pyarrow's stream
    reader (which then resolves dictionaries and deltas itself). read(n) returns a memoryview of
    the current payload when the n bytes lie in it (always, since the server sends whole
    messages), so pyarrow wraps it without a copy."""

    def __init__(self, ch, responses):
        self.ch = ch
        self.it = iter(responses)
        self.cur = memoryview(b"")
        self.pos = 0
        self.shm_table = None
        self.closed = False

    def _next(self):
        for field, body in self.it:
            if field == 1:
                self.cur, self.pos = body, 0
                return True
            if field == 2:  # same-host path: the whole IPC stream in a file under /dev/shm
                self.shm_table = _from_shared_memory(self.ch, bytes(body))
        return False

    def read(self, n=-1):
        if self.pos >= len(self.cur) and not self._next():
            return b""
        if n is None or n < 0:
            n = len(self.cur) - self.pos
        if self.pos + n <= len(self.cur):
            out = self.cur[self.pos:self.pos + n]
            self.pos += n
            return out
        parts = []  # a message split over payloads: copy (servers do not do this)
        while n > 0:
            if self.pos >= len(self.cur) and not self._next():
                break
            k = min(n, len(self.cur) - self.pos)
            parts.append(bytes(self.cur[self.pos:self.pos + k]))
            self.pos += k
            n -= k
        return b"".join(parts)

    def readable(self):
        return True

    def seekable(self):
        return False

    def close(self):
        self.closed = True


def fetch_raw(addr, request_bytes):
    """Runs Execute; returns a pyarrow Table built from the streamed IPC messages."""
    import grpc
    import pyarrow as pa
    ch = grpc.insecure_channel(addr, options=GRPC_OPTIONS)
    call = ch.unary_stream(EXECUTE, request_serializer=None, response_deserializer=_payload)
    src = _Payloads(ch, call(request_bytes))
    if not src._next():
        if src.shm_table is not None:
            return src.shm_table
        raise SystemExit("client: the server sent no Arrow data")
    t = pa.ipc.open_stream(pa.PythonFile(src, mode="r")).read_all()
    ch.close()
    return t


FETCH_INFO = {}


def _from_shared_memory(ch, body):
    """Maps the result file into a pyarrow Table (no copy), then releases the lease (the mapping
    stays valid after the server unlinks the file)."""
    import pyarrow as pa
    import protos
    pb, _ = protos.load(prefer_package=False)
    res = pb.SharedMemoryResult.FromString(body)
    if not res.files:  # one file
        t = pa.ipc.open_stream(pa.memory_map(res.path)).read_all()
    else:  # several, written at once: their record batches in the order of the runs
        readers = [pa.ipc.open_stream(pa.memory_map(f.path)) for f in res.files]
        per_file = [list(r) for r in readers]
        batches = []
        for k, first, n in zip(res.run_file, res.run_first, res.run_batches):
            batches.extend(per_file[k][first:first + n])
        t = pa.Table.from_batches(batches, schema=readers[0].schema)
        FETCH_INFO["shm_files"] = len(res.files)
    rel = ch.unary_unary("/polaroid.v1.Polaroid/ReleaseSharedMemory",
                         request_serializer=None, response_deserializer=None)
    rel(pb.ReleaseSharedMemoryRequest(lease_id=res.lease_id).SerializeToString())
    FETCH_INFO["shared_memory"] = True
    return t


def import_package():
    """The repository's python/polaroid (this checkout's version, not a stale installed copy)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    pkg = os.path.join(root, "python")
    if os.path.isdir(os.path.join(pkg, "polaroid")) and pkg not in sys.path:
        sys.path.insert(0, pkg)
    import polaroid
    return polaroid


def fetch_pkg(addr, what, source, shm=False):
    pd = import_package()
    pd.connect(addr, shared_memory=None if shm else False)  # None: when the server offers it
    if what == "wide":
        df = pd.table("wide") if source == "table" else pd.read_parquet("bench/server/wide.parquet")
    elif what.startswith("ticks:"):
        df = pd.read_parquet(what[len("ticks:"):])
    else:
        df = pd.table("points").filter(pd.col("key") == int(what[len("point:"):]))
    return df.collect()


def fetch_flight(addr, what):
    import pyarrow.flight as fl
    c = fl.connect(f"grpc://{addr}")
    t = c.do_get(fl.Ticket(flight_sql(what).encode())).read_all()
    c.close()
    return t


# ------------------------------------------------------------------ checks

def checks_arrow(t, col):
    import pyarrow.compute as pc
    out = {"rows": t.num_rows}
    if col in t.column_names:
        s = pc.sum(t.column(col)).as_py()
        out[f"sum({col})"] = int(s) if s is not None else None
    return out


def report(seconds, cpu, t, col, extra=None):
    import pyarrow as pa
    nbytes = t.nbytes if isinstance(t, pa.Table) else t.to_arrow().nbytes
    checks = checks_arrow(t if isinstance(t, pa.Table) else t.to_arrow(), col)
    out = {"seconds": seconds, "cpu_s": cpu, "rows": checks["rows"], "nbytes": nbytes,
           "checks": checks}
    out.update(extra or {})
    print("BENCH_RESULT " + json.dumps(out), flush=True)


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd = argv[0]
    if cmd == "fetch":
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("engine")
        ap.add_argument("addr")
        ap.add_argument("what")
        ap.add_argument("--via", default="raw", help="raw, shm (raw asking for the same-host "
                        "path), pkg (the package over gRPC) or pkg-shm (the package's default: "
                        "the same-host path when the server offers it)")
        ap.add_argument("--source", default="table")
        ap.add_argument("--shm-files", type=int, default=16,
                        help="--via shm: files the result may come in (1: one file, as older "
                        "clients ask)")
        a = ap.parse_args(argv[1:])
        kind = a.what.split(":")[0]
        import pyarrow  # noqa: F401 - imports are not timed
        if a.engine == "flight-duckdb":
            import pyarrow.flight  # noqa: F401
            fn = lambda: fetch_flight(a.addr, a.what)  # noqa: E731
        elif a.via in ("pkg", "pkg-shm"):
            import_package()
            fn = lambda: fetch_pkg(a.addr, a.what, a.source, a.via == "pkg-shm")  # noqa: E731
        else:
            import grpc  # noqa: F401
            import protos
            pb, _ = protos.load(prefer_package=False)
            opts = pb.ExecuteOptions(allow_shared_memory=a.via == "shm")
            if a.via == "shm":
                opts.shared_memory_max_files = a.shm_files
            req = pb.ExecuteRequest(plan=polaroid_plan(pb, a.what, a.source),
                                    options=opts).SerializeToString()
            fn = lambda: fetch_raw(a.addr, req)  # noqa: E731
        c0, t0 = cpu_s(), time.perf_counter()
        t = fn()
        t1, c1 = time.perf_counter(), cpu_s()
        extra = ({"shared_memory": True, "shm_files": FETCH_INFO.get("shm_files", 1)}
                 if FETCH_INFO.get("shared_memory") else
                 {"shared_memory": False} if a.via == "shm" else None)
        report(t1 - t0, c1 - c0, t, CHECK_COLUMN[kind], extra)
        return 0
    if cmd == "make-requests":
        # make-requests OUTDIR N: N random keys as loadgen request files
        import random
        import struct
        import protos
        pb, _ = protos.load(prefer_package=False)
        outdir, n = argv[1], int(argv[2])
        os.makedirs(outdir, exist_ok=True)
        rng = random.Random(20261127)
        keys = [rng.randrange(250_000) for _ in range(n)]

        def write(name, msgs):
            with open(os.path.join(outdir, name), "wb") as fh:
                for m in msgs:
                    fh.write(struct.pack("<I", len(m)) + m)

        for source in ("table", "read", "limit"):
            write(f"req_polaroid_{source}.bin",
                  [pb.ExecuteRequest(plan=polaroid_plan(pb, f"point:{k}", source))
                   .SerializeToString() for k in keys])
        write("req_aio.bin", [pb.ExecuteRequest(plan=polaroid_plan(pb, f"point:{k}", "table"))
                              .SerializeToString() for k in keys])
        # arrow.flight.protocol.Ticket: field 1 (bytes) = the SQL text
        tickets = []
        for k in keys:
            sql = flight_sql(f"point:{k}").encode()
            tickets.append(b"\x0a" + _varint(len(sql)) + sql)
        write("req_flight.bin", tickets)
        return 0
    if cmd == "polars-read":
        import polars as pl
        c0, t0 = cpu_s(), time.perf_counter()
        df = pl.read_parquet(argv[1])
        t1, c1 = time.perf_counter(), cpu_s()
        report(t1 - t0, c1 - c0, df.to_arrow(), "trade_id")
        return 0
    if cmd == "create-tables":
        import grpc
        import protos
        pb, pb_grpc = protos.load(prefer_package=False)
        ch = grpc.insecure_channel(argv[1], options=GRPC_OPTIONS)
        stub = pb_grpc.PolaroidStub(ch)
        out = {}
        for spec in argv[2:]:
            name, _, path = spec.partition("=")
            t0 = time.perf_counter()
            info = stub.CreateTable(pb.CreateTableRequest(
                name=name, replace=True,
                as_plan=pb.Plan(root=pb.Relation(read=pb.ReadFiles(paths=[path])))), timeout=600)
            out[name] = {"rows": info.num_rows, "seconds": time.perf_counter() - t0}
        print("BENCH_RESULT " + json.dumps(out), flush=True)
        return 0
    raise SystemExit(f"client: unknown command {cmd!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
