#!/usr/bin/env python3
"""Peer (b) of the server benchmark: an Arrow Flight server over DuckDB (pyarrow.flight).

  peer_flight_duckdb.py --listen 127.0.0.1:0 --data-root DIR [--table NAME=PATH]... [--threads N]

DoGet(ticket = SQL text) runs the query on a cursor of one in-memory DuckDB database and streams
its Arrow result (record batches of ~1 M rows as DuckDB produces them). Tables given with --table
are loaded at start with CREATE TABLE NAME AS SELECT * FROM read_parquet(PATH) (DuckDB's own
storage, with its per-row-group min/max zone maps, so an equality filter on a sorted key skips
all but one row group). The working directory is the data root, so SQL can name files relative
to it. Prints "READY <host:port>" once it serves.
"""
import argparse
import os
import sys

import duckdb
import pyarrow.flight as flight


class Peer(flight.FlightServerBase):
    def __init__(self, location, con, batch_rows):
        super().__init__(location)
        self.con = con
        self.batch_rows = batch_rows

    def do_get(self, context, ticket):
        cur = self.con.cursor()  # one cursor per call (a connection is not shared by threads)
        try:
            reader = cur.sql(ticket.ticket.decode()).to_arrow_reader(self.batch_rows)
        except duckdb.Error as e:
            cur.close()
            raise flight.FlightServerError(str(e))
        # the cursor must outlive the stream; RecordBatchStream keeps the reader, the reader
        # keeps the result, and the cursor is collected with them
        return flight.RecordBatchStream(reader)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--data-root", default=".")
    ap.add_argument("--table", action="append", default=[], help="NAME=PATH (under the root)")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (0 = its default)")
    ap.add_argument("--batch-rows", type=int, default=1_000_000)
    a = ap.parse_args(argv)
    os.chdir(a.data_root)
    con = duckdb.connect(":memory:")
    if a.threads:
        con.execute(f"SET threads = {a.threads}")
    for spec in a.table:
        name, _, path = spec.partition("=")
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    host, _, port = a.listen.rpartition(":")
    server = Peer(f"grpc+tcp://{host}:{port}", con, a.batch_rows)
    print(f"READY {host}:{server.port}", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
