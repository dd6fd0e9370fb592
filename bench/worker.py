#!/usr/bin/env python3
"""One measurement of one Python peer (polars, polars-streaming, duckdb, duckdb-table) on one query.

  worker.py ENGINE QUERY GLOB [--threads N] [--table NAME=PATH]... [--dump PATH]

Started by bench/run.py in a fresh interpreter per repetition. Imports the engine first (not
timed), then times only the call of the query's implementation, which materialises the whole
result in memory, then computes the query's checks on the live result (so the peak RSS seen by the
parent covers the materialised result) and prints one line "BENCH_RESULT {json}". With --dump
(the verification run of bench/run.py) it then writes the whole result to PATH as Parquet.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import queries  # noqa: E402


def _num(v):
    if v is None:
        return None
    if hasattr(v, "value") and not isinstance(v, (int, float)):  # pyarrow timestamp scalar
        v = v.value
    if hasattr(v, "timestamp") and not isinstance(v, (int, float)):  # datetime
        import datetime
        epoch = datetime.datetime(1970, 1, 1, tzinfo=v.tzinfo)
        d = v - epoch
        return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds
    return int(v) if isinstance(v, int) else float(v)


def checks_polars(df, checks):
    out = {}
    for c in checks:
        if c[0] == "rows":
            out["rows"] = df.height
            continue
        s = df.get_column(c[1])
        if s.dtype.is_temporal():
            s = s.to_physical()
        out[queries.check_key(c)] = _num(getattr(s, c[0])())
    return out


def checks_arrow(t, checks):
    import pyarrow as pa
    import pyarrow.compute as pc
    out = {}
    for c in checks:
        if c[0] == "rows":
            out["rows"] = t.num_rows
            continue
        col = t.column(c[1])
        if pa.types.is_timestamp(col.type):
            col = col.view(pa.int64()) if hasattr(col, "view") else col.cast(pa.int64())
        fn = {"sum": pc.sum, "min": pc.min, "max": pc.max}[c[0]]
        out[queries.check_key(c)] = _num(fn(col).as_py())
    return out


def checks_duckdb_table(con, table, checks):
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    exprs = []
    for c in checks:
        if c[0] == "rows":
            exprs.append("count(*)")
        elif types[c[1]].startswith("TIMESTAMP"):
            exprs.append(f'epoch_us({c[0]}("{c[1]}"))')  # microseconds since the epoch
        else:
            exprs.append(f'{c[0]}("{c[1]}")')
    row = con.execute(f"SELECT {', '.join(exprs)} FROM {table}").fetchone()
    return {queries.check_key(c): _num(v) for c, v in zip(checks, row)}


def arrow_nbytes(glob, columns):
    """In-memory size of the data as Arrow with 32-bit string offsets (polaroid's UTF8 layout and
    DuckDB's Arrow output) and no validity bitmaps for columns without nulls: the sum of the
    buffer sizes. Read file by file so that this process stays small."""
    import glob as g
    import pyarrow as pa
    import pyarrow.parquet as pq
    total, rows = 0, 0
    for path in sorted(g.glob(os.path.join(queries.ROOT, glob))):
        t = pq.read_table(path, columns=columns)
        fields = [pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else
                           pa.binary() if pa.types.is_large_binary(f.type) else f.type)
                  for f in t.schema]
        t = t.cast(pa.schema(fields))
        for col in t.columns:
            for chunk in col.chunks:
                bufs = chunk.buffers()
                if chunk.null_count == 0:  # a validity bitmap without nulls is not needed
                    bufs = bufs[1:]
                total += sum(b.size for b in bufs if b is not None)
        rows += t.num_rows
    return {"nbytes": total, "rows": rows}


def main(argv):
    if argv[0] == "--nbytes":  # worker.py --nbytes GLOB [COL,COL...]
        cols = argv[2].split(",") if len(argv) > 2 and argv[2] else None
        print("BENCH_RESULT " + json.dumps(arrow_nbytes(argv[1], cols)), flush=True)
        return 0
    if argv[0] == "--idle":  # worker.py --idle ENGINE: the engine's fixed cost (import, connect)
        if argv[1].startswith("polars"):
            import polars  # noqa: F401
        else:
            import duckdb
            import pyarrow  # noqa: F401
            duckdb.connect().execute("SELECT 1").fetchall()
        print("BENCH_RESULT {}", flush=True)
        return 0
    if argv[0] == "--versions":
        import duckdb
        import polars
        import pyarrow
        print("BENCH_RESULT " + json.dumps({"polars": polars.__version__, "duckdb": duckdb.__version__,
                                            "pyarrow": pyarrow.__version__,
                                            "python": sys.version.split()[0]}), flush=True)
        return 0
    engine, qname, glob = argv[0], argv[1], argv[2]
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else None
    dump = argv[argv.index("--dump") + 1] if "--dump" in argv else None
    tables = dict(argv[i + 1].split("=", 1) for i, a in enumerate(argv) if a == "--table")
    q = queries.QUERIES[qname]
    impl = q.impls[engine]
    ctx = queries.Ctx(glob, threads=threads, tables=tables)
    t0 = time.perf_counter()
    if engine.startswith("polars"):
        import polars as pl  # POLARS_MAX_THREADS is set by run.py in the environment when --threads
        arg = pl
    elif engine.startswith("duckdb"):
        import duckdb
        import pyarrow  # noqa: F401  (needed by to_arrow_table; imported outside the timed part)
        arg = duckdb.connect()
        if threads:
            arg.execute(f"SET threads = {threads}")
    else:
        raise SystemExit(f"worker: unknown engine {engine}")
    t_import = time.perf_counter() - t0

    t1 = time.perf_counter()
    result = impl(ctx, arg)
    seconds = time.perf_counter() - t1

    if engine.startswith("polars"):
        checks = checks_polars(result, q.checks)
    elif engine == "duckdb":
        checks = checks_arrow(result, q.checks)
    else:
        checks = checks_duckdb_table(arg, result, q.checks)
    if dump:
        if engine.startswith("polars"):
            result.write_parquet(dump)
        elif engine == "duckdb":
            import pyarrow.parquet as pq
            pq.write_table(result, dump)
        else:
            arg.execute(f"COPY {result} TO '{dump}' (FORMAT parquet)")
    print("BENCH_RESULT " + json.dumps({"seconds": seconds, "import_seconds": t_import,
                                        "checks": checks}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
