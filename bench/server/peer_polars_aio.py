#!/usr/bin/env python3
"""Peer (a) of the server benchmark: a Python grpc.aio server over Polars that speaks polaroid's
own protocol (proto/polaroid/v1/polaroid.proto), so the same load generator and clients drive it
and polaroid alike. This is what a user who wants "one engine behind gRPC" writes today.

  peer_polars_aio.py --listen 127.0.0.1:0 --data-root DIR [--table NAME=PATH]... [--threads N]

Tables given with --table are read into memory at start (Polars DataFrames; a column named `key`
is flagged sorted when it is, so Polars can use the flag). Prints "READY <host:port>" once it
serves. Execute supports the plans the benchmark sends, and a little more:
  sources  read (parquet/csv/ipc paths under the data root, globs), table (a --table name),
           sql (Polars' SQLContext over the tables)
  ops      filter, select, limit
  exprs    column, literal, call (eq ne lt le gt ge and or not add sub mul div), sql text
Anything else answers UNIMPLEMENTED. The result is sent as polaroid sends it: the Arrow IPC
schema message, then record-batch messages under max_message_bytes (default 1 MiB), then a summary.
Queries run inline in the event loop (Polars releases the GIL while it computes; for the small
queries of the benchmark this is faster than handing them to a thread).
"""
import argparse
import asyncio
import glob as globmod
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protos  # noqa: E402

pb, pb_grpc = protos.load(prefer_package=False)

import grpc  # noqa: E402
import polars as pl  # noqa: E402

DEFAULT_MSG = 1 << 20
BINOPS = {"eq": "__eq__", "ne": "__ne__", "lt": "__lt__", "le": "__le__", "gt": "__gt__",
          "ge": "__ge__", "and": "__and__", "or": "__or__", "add": "__add__", "sub": "__sub__",
          "mul": "__mul__", "div": "__truediv__"}


class Unsupported(Exception):
    pass


class BadRequest(Exception):
    pass


def literal(lit):
    k = lit.WhichOneof("value")
    if k is None or k == "is_null":
        return pl.lit(None)
    return pl.lit(getattr(lit, k))


def expr(e):
    k = e.WhichOneof("kind")
    if k == "column":
        return pl.col(e.column.name)
    if k == "literal":
        return literal(e.literal)
    if k == "sql":
        return pl.sql_expr(e.sql)
    if k == "call":
        f = e.call.function
        args = [expr(a) for a in e.call.args]
        if f in BINOPS and len(args) == 2:
            return getattr(args[0], BINOPS[f])(args[1])
        if f == "not" and len(args) == 1:
            return ~args[0]
        raise Unsupported(f"function {f!r}")
    raise Unsupported(f"expression kind {k!r}")


class Peer(pb_grpc.PolaroidServicer):
    def __init__(self, data_root, tables):
        self.root = os.path.realpath(data_root)
        self.tables = tables

    def _paths(self, paths):
        out = []
        for p in paths:
            full = os.path.realpath(os.path.join(self.root, p))
            if not (full == self.root or full.startswith(self.root + os.sep)):
                raise BadRequest(f"path {p!r} leaves the data root")
            out += sorted(globmod.glob(full)) if any(c in p for c in "*?[") else [full]
        if not out:
            raise BadRequest(f"no file matches {list(paths)}")
        return out

    def relation(self, r):
        k = r.WhichOneof("rel")
        if k == "table":
            if r.table.name not in self.tables:
                raise BadRequest(f"no table {r.table.name!r}")
            return self.tables[r.table.name].lazy()
        if k == "read":
            paths = self._paths(r.read.paths)
            fmt = r.read.format or {".csv": 2, ".arrow": 3, ".ipc": 3, ".feather": 3}.get(
                os.path.splitext(paths[0])[1], 1)
            if fmt == 2:
                return pl.scan_csv(paths)
            if fmt == 3:
                return pl.scan_ipc(paths)
            return pl.scan_parquet(paths)
        if k == "sql":
            ctx = pl.SQLContext({n: t.lazy() for n, t in self.tables.items()})
            for nr in r.sql.inputs:
                ctx.register(nr.name, self.relation(nr.relation))
            return ctx.execute(r.sql.query, eager=False)
        if k == "filter":
            return self.relation(r.filter.input).filter(expr(r.filter.predicate))
        if k == "select":
            return self.relation(r.select.input).select(
                [expr(ne.expr).alias(ne.name) if ne.name else expr(ne.expr)
                 for ne in r.select.exprs])
        if k == "limit":
            lf = self.relation(r.limit.input)
            return lf.slice(r.limit.offset, None if r.limit.limit < 0 else r.limit.limit)
        raise Unsupported(f"relation {k!r}")

    async def Execute(self, request, context):
        t0 = time.perf_counter_ns()
        limit = request.options.max_message_bytes or DEFAULT_MSG
        try:
            df = self.relation(request.plan.root).collect()
        except Unsupported as e:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, f"peer: unsupported {e}")
        except (BadRequest, pl.exceptions.PolarsError) as e:
            code = (grpc.StatusCode.NOT_FOUND if isinstance(e, FileNotFoundError)
                    else grpc.StatusCode.INVALID_ARGUMENT)
            await context.abort(code, str(e))
        table = df.to_arrow()
        yield pb.ExecuteResponse(arrow_ipc=table.schema.serialize().to_pybytes())
        nbytes = nbatches = 0
        for batch in table.to_batches():
            per_row = max(batch.nbytes // max(batch.num_rows, 1), 1)
            step = max(limit // per_row - 1, 1)
            for off in range(0, batch.num_rows, step):
                msg = batch.slice(off, step).serialize().to_pybytes()
                nbytes += len(msg)
                nbatches += 1
                yield pb.ExecuteResponse(arrow_ipc=msg)
        yield pb.ExecuteResponse(summary=pb.ExecuteSummary(
            rows=table.num_rows, batches=nbatches, bytes=nbytes,
            elapsed_us=(time.perf_counter_ns() - t0) // 1000))

    async def ServerInfo(self, request, context):
        return pb.ServerInfoResponse(version="peer-polars-aio " + pl.__version__,
                                     capabilities=["execute"])


async def serve(a, tables):
    server = grpc.aio.server(options=[("grpc.max_send_message_length", 64 << 20),
                                      ("grpc.max_receive_message_length", 64 << 20),
                                      ("grpc.so_reuseport", 0)])
    pb_grpc.add_PolaroidServicer_to_server(Peer(a.data_root, tables), server)
    port = server.add_insecure_port(a.listen)
    if port == 0:
        raise SystemExit(f"peer_polars_aio: cannot listen on {a.listen}")
    await server.start()
    host = a.listen.rsplit(":", 1)[0]
    print(f"READY {host}:{port}", flush=True)
    await server.wait_for_termination()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--data-root", default=".")
    ap.add_argument("--table", action="append", default=[], help="NAME=PATH (under the root)")
    a = ap.parse_args(argv)
    tables = {}
    for spec in a.table:
        name, _, path = spec.partition("=")
        df = pl.read_parquet(os.path.join(a.data_root, path))
        if "key" in df.columns and df.get_column("key").is_sorted():
            df = df.set_sorted("key")
        tables[name] = df
    try:
        asyncio.run(serve(a, tables))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
