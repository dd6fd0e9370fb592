"""Registry of benchmark data sets and queries (bench/README.md, "Adding a query").

A Query names a data set, the columns its result has (for the in-memory size reference), the cheap
checks computed on every engine's result (row count, sums, min/max) and one implementation per
engine:

  polaroid          f(ctx) -> argv list (relative to the repo root; ctx.polaroid is the binary),
                    optionally with a parser of its stdout returning a dict of checks (default:
                    the row count, see parse_rows)
  polars            f(ctx, pl) -> polars DataFrame   (eager)
  polars-streaming  f(ctx, pl) -> polars DataFrame   (LazyFrame.collect(engine="streaming"))
  duckdb            f(ctx, duckdb_con) -> pyarrow Table   (materialised as Arrow)
  duckdb-table      f(ctx, duckdb_con) -> name of a DuckDB table created with CREATE TABLE AS

Python engines run inside bench/worker.py (a fresh interpreter per measurement); only the call of
the implementation is timed. The result is kept alive until the checks have been computed, so the
child's peak RSS includes the fully materialised result.

This module must stay importable without polars/duckdb/pyarrow (the harness process imports it and
must stay small: its own RSS leaks into children's ru_maxrss through vfork/exec).
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ENGINES = ["polaroid", "polars", "polars-streaming", "duckdb", "duckdb-table"]
PEERS = [e for e in ENGINES if e != "polaroid"]


class Dataset:
    def __init__(self, name, full_dir, small_dir, gen_argv):
        self.name = name
        self.full_dir = full_dir
        self.small_dir = small_dir
        self.gen_argv = gen_argv  # gen_argv(small) -> argv (after the Python interpreter) that
        #                           generates the data set unless it is up to date

    def directory(self, small):
        return self.small_dir if small else self.full_dir

    def glob(self, small):
        return os.path.join(self.directory(small), "*.parquet")

    def manifest(self, small):
        return os.path.join(ROOT, self.directory(small), "_manifest.json")


DATASETS = {
    "ticks": Dataset("ticks", "data/bench/ticks", "data/sample/ticks",
                     lambda small: ["bench/gen_ticks.py"] + (["--small"] if small else [])),
}


class Ctx:
    """What an implementation gets: the data set's glob (relative to ROOT), the polaroid binary."""

    def __init__(self, glob, polaroid="build/polaroid", threads=None):
        self.glob = glob
        self.polaroid = polaroid
        self.threads = threads

    def sql_glob(self):
        return self.glob.replace("'", "''")


class Query:
    def __init__(self, name, dataset, description, columns, checks, impls, polaroid_parse=None):
        self.name = name
        self.dataset = dataset
        self.description = description
        self.columns = columns      # result columns (None = all), for the nbytes reference
        self.checks = checks        # list of ("rows",) / ("sum"|"min"|"max", column)
        self.impls = impls          # engine -> implementation (see module doc)
        self.polaroid_parse = polaroid_parse or parse_rows


QUERIES = {}


def register(q):
    assert q.name not in QUERIES, q.name
    for e in q.impls:
        assert e in ENGINES, e
    QUERIES[q.name] = q
    return q


def check_key(c):
    return c[0] if len(c) == 1 else f"{c[0]}({c[1]})"


_ROWS_RES = [re.compile(r"(\d+)\s+rows?\b"), re.compile(r"\brows?\s*[:=]\s*(\d+)"),
             re.compile(r"^\s*(\d+)\s*$", re.M)]


def parse_rows(stdout):
    """Row count from polaroid's output: "N rows", "rows: N" or a line holding just N."""
    for r in _ROWS_RES:
        m = r.search(stdout)
        if m:
            return {"rows": int(m.group(1))}
    raise ValueError("no row count in polaroid output: " + repr(stdout[-200:]))


# --- (a) full read of every file into memory ---------------------------------------------------

def _cols_sql(cols):
    return "*" if cols is None else ", ".join('"%s"' % c for c in cols)


def _read_impls(cols):
    def polaroid(ctx):
        argv = [ctx.polaroid, "cat", ctx.glob]
        if cols is not None:
            argv += ["--columns", ",".join(cols)]
        if ctx.threads:
            argv += ["--threads", str(ctx.threads)]
        return argv + ["--format", "none"]

    def polars(ctx, pl):
        return pl.read_parquet(ctx.glob, columns=cols)

    def polars_streaming(ctx, pl):
        lf = pl.scan_parquet(ctx.glob)
        if cols is not None:
            lf = lf.select(cols)
        return lf.collect(engine="streaming")

    def duckdb_arrow(ctx, con):
        rel = con.sql(f"SELECT {_cols_sql(cols)} FROM read_parquet('{ctx.sql_glob()}')")
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()

    def duckdb_table(ctx, con):
        con.execute(f"CREATE TABLE result AS SELECT {_cols_sql(cols)} "
                    f"FROM read_parquet('{ctx.sql_glob()}')")
        return "result"

    return {"polaroid": polaroid, "polars": polars, "polars-streaming": polars_streaming,
            "duckdb": duckdb_arrow, "duckdb-table": duckdb_table}


register(Query(
    "read_all", "ticks",
    "full read of every file, all 7 columns, materialised in memory",
    None,
    [("rows",), ("sum", "trade_id"), ("sum", "price"), ("min", "ts"), ("max", "ts")],
    _read_impls(None)))

register(Query(
    "read_2cols", "ticks",
    "read of two columns (ts, price) of every file, materialised in memory",
    ["ts", "price"],
    [("rows",), ("sum", "price"), ("min", "ts"), ("max", "ts")],
    _read_impls(["ts", "price"])))
