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
    def __init__(self, name, full_dir, small_dir, gen_argv, extra_gens=None, tables=None):
        self.name = name
        self.full_dir = full_dir
        self.small_dir = small_dir
        self.gen_argv = gen_argv  # gen_argv(small) -> argv (after the Python interpreter) that
        #                           generates the data set unless it is up to date
        self.extra_gens = extra_gens or []  # more generators (argv lists), e.g. side tables
        self.tables = tables or {}  # name -> f(small) -> path of a side table (relative to ROOT)

    def directory(self, small):
        return self.small_dir if small else self.full_dir

    def glob(self, small):
        return os.path.join(self.directory(small), "*.parquet")

    def manifest(self, small):
        return os.path.join(ROOT, self.directory(small), "_manifest.json")


TPCH_TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders",
               "lineitem"]  # bench/gen_tpch.py's tables, one Parquet file each
SYMBOLS_TABLE = "data/bench/ref/symbols.parquet"  # bench/gen_symbols.py (200 tickers, sectors)

DATASETS = {
    "ticks": Dataset("ticks", "data/bench/ticks", "data/sample/ticks",
                     lambda small: ["bench/gen_ticks.py"] + (["--small"] if small else []),
                     extra_gens=[["bench/gen_symbols.py"]],
                     tables={"symbols": lambda small: SYMBOLS_TABLE}),
    # the same ticks written by DuckDB (snappy, 122,880-row groups): files as DuckDB users have
    "ticks_duckdb": Dataset("ticks_duckdb", "data/bench/ticks_duckdb", "data/sample/ticks_duckdb",
                            lambda small: ["bench/gen_ticks.py", "--writer", "duckdb"] +
                            (["--small"] if small else [])),
    "h2o": Dataset("h2o", "data/bench/h2o", "data/sample/h2o",
                   lambda small: ["bench/gen_h2o.py"] + (["--small"] if small else [])),
    # TPC-H (bench/gen_tpch.py): SF 1, --small SF 0.1; every table is a side table
    "tpch": Dataset("tpch", "data/tpch/sf1", "data/tpch/sf0.1",
                    lambda small: ["bench/gen_tpch.py", "--sf", "0.1" if small else "1"],
                    tables={t: (lambda small, t=t: f"data/tpch/sf{'0.1' if small else '1'}/"
                                                   f"{t}.parquet") for t in TPCH_TABLES}),
}

# The most frequent ticker of bench/gen_ticks.py's default seed (rank 1 of the Zipf weights, ~21 %
# of the rows; the same for the full and small variants; bench/test_bench.py checks it).
TOP_SYMBOL = "XCR"


class Ctx:
    """What an implementation gets: the data set's glob (relative to ROOT), the polaroid binary,
    the thread count and the paths of the data set's side tables (ctx.tables[name])."""

    def __init__(self, glob, polaroid="build/polaroid", threads=None, tables=None):
        self.glob = glob
        self.polaroid = polaroid
        self.threads = threads
        self.tables = tables or {}

    def sql_glob(self):
        return self.glob.replace("'", "''")

    def sql(self, template):
        """The query text with {x} replaced by read_parquet('GLOB') and {name} by
        read_parquet('PATH') of each side table."""
        subs = {"x": "read_parquet('%s')" % self.sql_glob()}
        for k, v in self.tables.items():
            subs[k] = "read_parquet('%s')" % v.replace("'", "''")
        return template.format(**subs)


class Query:
    def __init__(self, name, dataset, description, columns, checks, impls, polaroid_parse=None,
                 group="read", verify=False, sql=None, unsupported=None):
        self.name = name
        self.dataset = dataset
        self.description = description
        self.columns = columns      # result columns (None = all), for the nbytes reference
        self.checks = checks        # list of ("rows",) / ("sum"|"min"|"max", column)
        self.impls = impls          # engine -> implementation (see module doc)
        self.polaroid_parse = polaroid_parse or parse_rows
        self.group = group          # query group, picked with run.py --group
        self.verify = verify        # compare every engine's whole result (bench/compare.py)
        self.sql = sql              # SQL template (for SQL queries; docs and --list)
        self.unsupported = unsupported or {}  # engine -> why it cannot run this query (yet)


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

register(Query(
    "read_all_ddbfiles", "ticks_duckdb",
    "read_all on the same ticks written by DuckDB (snappy)",
    None,
    [("rows",), ("sum", "trade_id"), ("sum", "price"), ("min", "ts"), ("max", "ts")],
    _read_impls(None), group="read_snappy"))

register(Query(
    "read_2cols_ddbfiles", "ticks_duckdb",
    "read_2cols on the same ticks written by DuckDB (snappy)",
    ["ts", "price"],
    [("rows",), ("sum", "price"), ("min", "ts"), ("max", "ts")],
    _read_impls(["ts", "price"]), group="read_snappy"))


# --- SQL queries: the same text for polaroid (`polaroid sql`) and DuckDB, Polars expressions ----
#
# Each engine's whole result is compared with every other's (bench/compare.py: rows sorted,
# doubles to a relative tolerance, integer widths and HUGEINT/decimal sums numerically).

def _sql_impls(template, polars_fn):
    """Implementations of a SQL query: polaroid through its CLI (`--format none` materialises
    the result and prints its row count; with --format arrow the same argv dumps the result for
    the comparison), DuckDB, and Polars' lazy API given by polars_fn(ctx, pl) -> LazyFrame."""
    def polaroid(ctx):
        argv = [ctx.polaroid, "sql"]
        if ctx.threads:
            argv += ["--threads", str(ctx.threads)]
        return argv + ["--format", "none", ctx.sql(template)]

    def duckdb_arrow(ctx, con):
        rel = con.sql(ctx.sql(template))
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()

    def duckdb_table(ctx, con):
        con.execute("CREATE TABLE result AS " + ctx.sql(template))
        return "result"

    impls = {"polaroid": polaroid, "duckdb": duckdb_arrow, "duckdb-table": duckdb_table}
    if polars_fn is not None:
        # the in-memory engine (default) and the streaming engine on the same lazy query
        impls["polars"] = lambda ctx, pl: polars_fn(ctx, pl).collect()
        impls["polars-streaming"] = lambda ctx, pl: polars_fn(ctx, pl).collect(engine="streaming")
    return impls


def sql_query(name, group, dataset, description, template, polars_fn, unsupported=None):
    return register(Query(name, dataset, description, None, [("rows",)],
                          _sql_impls(template, polars_fn), group=group, verify=True,
                          sql=template, unsupported=unsupported))


def _scan(ctx, pl):
    return pl.scan_parquet(ctx.glob)


# h2o.ai db-benchmark group-by questions on G1_1e7_1e2_0_0 (bench/gen_h2o.py), in the SQL that
# db-benchmark runs on DuckDB (median for q6, row_number for q8, corr for q9).

sql_query("h2o_q1", "h2o", "h2o", "q1: sum v1 by id1",
          "SELECT id1, sum(v1) AS v1 FROM {x} GROUP BY id1",
          lambda c, pl: _scan(c, pl).group_by("id1").agg(pl.sum("v1")))
sql_query("h2o_q2", "h2o", "h2o", "q2: sum v1 by id1:id2",
          "SELECT id1, id2, sum(v1) AS v1 FROM {x} GROUP BY id1, id2",
          lambda c, pl: _scan(c, pl).group_by("id1", "id2").agg(pl.sum("v1")))
sql_query("h2o_q3", "h2o", "h2o", "q3: sum v1 mean v3 by id3",
          "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM {x} GROUP BY id3",
          lambda c, pl: _scan(c, pl).group_by("id3").agg(pl.sum("v1"), pl.mean("v3")))
sql_query("h2o_q4", "h2o", "h2o", "q4: mean v1:v3 by id4",
          "SELECT id4, avg(v1) AS v1, avg(v2) AS v2, avg(v3) AS v3 FROM {x} GROUP BY id4",
          lambda c, pl: _scan(c, pl).group_by("id4").agg(pl.mean("v1"), pl.mean("v2"),
                                                           pl.mean("v3")))
sql_query("h2o_q5", "h2o", "h2o", "q5: sum v1:v3 by id6",
          "SELECT id6, sum(v1) AS v1, sum(v2) AS v2, sum(v3) AS v3 FROM {x} GROUP BY id6",
          lambda c, pl: _scan(c, pl).group_by("id6").agg(pl.sum("v1"), pl.sum("v2"),
                                                           pl.sum("v3")))
sql_query("h2o_q6", "h2o", "h2o", "q6: median v3 sd v3 by id4 id5",
          "SELECT id4, id5, median(v3) AS median_v3, stddev(v3) AS sd_v3 FROM {x} "
          "GROUP BY id4, id5",
          lambda c, pl: _scan(c, pl).group_by("id4", "id5").agg(
              pl.median("v3").alias("median_v3"), pl.std("v3").alias("sd_v3")))
sql_query("h2o_q7", "h2o", "h2o", "q7: max v1 - min v2 by id3",
          "SELECT id3, max(v1) - min(v2) AS range_v1_v2 FROM {x} GROUP BY id3",
          lambda c, pl: _scan(c, pl).group_by("id3").agg(
              (pl.max("v1") - pl.min("v2")).alias("range_v1_v2")))
sql_query("h2o_q8", "h2o", "h2o", "q8: largest two v3 by id6",
          "SELECT id6, v3 AS largest2_v3 FROM (SELECT id6, v3, row_number() OVER "
          "(PARTITION BY id6 ORDER BY v3 DESC) AS order_v3 FROM {x} WHERE v3 IS NOT NULL) "
          "AS sub_query WHERE order_v3 <= 2",
          lambda c, pl: _scan(c, pl).drop_nulls("v3").group_by("id6").agg(
              pl.col("v3").top_k(2).alias("largest2_v3")).explode("largest2_v3"))
sql_query("h2o_q9", "h2o", "h2o", "q9: regression v1 v2 by id2 id4 (corr squared)",
          "SELECT id2, id4, pow(corr(v1, v2), 2) AS r2 FROM {x} GROUP BY id2, id4",
          lambda c, pl: _scan(c, pl).group_by("id2", "id4").agg(
              (pl.corr("v1", "v2") ** 2).alias("r2")))
sql_query("h2o_q10", "h2o", "h2o", "q10: sum v3 count by id1:id6",
          "SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count FROM {x} "
          "GROUP BY id1, id2, id3, id4, id5, id6",
          lambda c, pl: _scan(c, pl).group_by("id1", "id2", "id3", "id4", "id5", "id6").agg(
              pl.sum("v3"), pl.len().alias("count")))


# Tick queries on the 50 tick files (bench/gen_ticks.py) and the symbols table
# (bench/gen_symbols.py).

def _ohlcv_polars(c, pl):
    return _scan(c, pl).group_by("symbol", pl.col("ts").dt.truncate("1m").alias("minute")).agg(
        pl.col("price").get(pl.col("ts").arg_min()).alias("open"),
        pl.max("price").alias("high"), pl.min("price").alias("low"),
        pl.col("price").get(pl.col("ts").arg_max()).alias("close"),
        pl.sum("size").alias("volume"))


def _sector_polars(c, pl):
    return (_scan(c, pl).join(pl.scan_parquet(c.tables["symbols"]), on="symbol")
            .group_by("sector").agg(pl.len().alias("n"),
                                    (pl.col("price") * pl.col("size")).sum().alias("notional"),
                                    pl.mean("price").alias("avg_price")))


sql_query("ticks_scan", "ticks", "ticks", "count(*) and sum(size) over every tick",
          "SELECT count(*) AS n, sum(size) AS volume FROM {x}",
          lambda c, pl: _scan(c, pl).select(pl.len().alias("n"), pl.sum("size").alias("volume")))
sql_query("ticks_filter", "ticks", "ticks",
          f"count and mean price of the most frequent symbol ({TOP_SYMBOL}, ~21 % of the rows)",
          f"SELECT count(*) AS n, avg(price) AS avg_price FROM {{x}} "
          f"WHERE symbol = '{TOP_SYMBOL}'",
          lambda c, pl: _scan(c, pl).filter(pl.col("symbol") == TOP_SYMBOL).select(
              pl.len().alias("n"), pl.mean("price").alias("avg_price")))
sql_query("ticks_by_symbol", "ticks", "ticks",
          "per symbol: count, mean price, volume, low, high",
          "SELECT symbol, count(*) AS n, avg(price) AS avg_price, sum(size) AS volume, "
          "min(price) AS low, max(price) AS high FROM {x} GROUP BY symbol",
          lambda c, pl: _scan(c, pl).group_by("symbol").agg(
              pl.len().alias("n"), pl.mean("price").alias("avg_price"),
              pl.sum("size").alias("volume"), pl.min("price").alias("low"),
              pl.max("price").alias("high")))
sql_query("ticks_ohlcv_1m", "ticks", "ticks",
          "1-minute OHLCV bars per symbol (time_bucket; open/close by arg_min/arg_max of ts)",
          "SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, "
          "arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, "
          "arg_max(price, ts) AS close, sum(size) AS volume FROM {x} GROUP BY symbol, minute",
          _ohlcv_polars)
sql_query("ticks_by_sector", "ticks", "ticks",
          "join with the 200-row symbols table, aggregated by sector",
          "SELECT s.sector, count(*) AS n, sum(t.price * t.size) AS notional, "
          "avg(t.price) AS avg_price FROM {x} AS t JOIN {symbols} AS s ON t.symbol = s.symbol "
          "GROUP BY s.sector",
          _sector_polars)


# TPC-H: the 22 queries of bench/tpch/ (the spec's validation parameters) over views named like
# the spec's tables on the Parquet files of bench/gen_tpch.py; the same SQL text for polaroid,
# DuckDB and Polars (SQLContext over lazy scans of the same files).

def tpch_views(ctx):
    """CREATE VIEW statements of the 8 tables over ctx.tables' Parquet files."""
    def quoted(path):
        return "'" + path.replace("'", "''") + "'"
    return [f"CREATE VIEW {t} AS SELECT * FROM read_parquet({quoted(ctx.tables[t])})"
            for t in TPCH_TABLES]


def tpch_sql(name):
    with open(os.path.join(ROOT, "bench", "tpch", f"{name}.sql")) as fh:
        return fh.read().strip().rstrip(";")


def _tpch_impls(name):
    def polaroid(ctx):
        argv = [ctx.polaroid, "sql"]
        if ctx.threads:
            argv += ["--threads", str(ctx.threads)]
        return argv + ["--format", "none", ";\n".join(tpch_views(ctx) + [tpch_sql(name)])]

    def duckdb_arrow(ctx, con):
        for v in tpch_views(ctx):
            con.execute(v)
        rel = con.sql(tpch_sql(name))
        return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()

    def duckdb_table(ctx, con):
        for v in tpch_views(ctx):
            con.execute(v)
        con.execute("CREATE TABLE result AS " + tpch_sql(name))
        return "result"

    def polars_lazy(ctx, pl):
        frames = {t: pl.scan_parquet(ctx.tables[t]) for t in TPCH_TABLES}
        return pl.SQLContext(frames=frames).execute(tpch_sql(name), eager=False)

    return {"polaroid": polaroid, "duckdb": duckdb_arrow, "duckdb-table": duckdb_table,
            "polars": lambda ctx, pl: polars_lazy(ctx, pl).collect(),
            "polars-streaming": lambda ctx, pl: polars_lazy(ctx, pl).collect(engine="streaming")}


def _tpch_title(name):
    """The query's leading comment (its name and parameters)."""
    with open(os.path.join(ROOT, "bench", "tpch", f"{name}.sql")) as fh:
        lines = [ln[2:].strip() for ln in fh.read().splitlines() if ln.startswith("--")]
    return " ".join(lines) or name


for _i in range(1, 23):
    _n = f"q{_i:02d}"
    register(Query(f"tpch_{_n}", "tpch", _tpch_title(_n), None, [("rows",)], _tpch_impls(_n),
                   group="tpch", verify=True, sql=f"bench/tpch/{_n}.sql"))

GROUPS = sorted({q.group for q in QUERIES.values()})
