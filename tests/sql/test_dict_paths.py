"""Dictionary fast paths of the tick queries, checked against DuckDB on 1 and 2 threads:

* GROUP BY one dictionary key with count/sum/avg/min/max of doubles (src/exec/agg/dict_local.c:
  per-index statistics of a morsel, merged once per index) - NULL and NaN prices (groups of
  only NaN, only NULL), infinities, -0.0, NULL keys (the usual path), v2 data pages, a
  dictionary that falls back to PLAIN mid-chunk, an empty file, a dictionary too large for the
  path (5000 symbols) next to small ones in one query, aggregates the path does not take;
* a join of the dictionary key with a unique symbols table (src/exec/join/join.c fk_output:
  build columns as dictionaries over the probe key's indices) - every symbol matched, a symbol
  missing from the table (in the dictionary of a 70 000-row row group but used only by its
  second morsel, so the first morsel takes the path and the second does not), NULL sectors,
  duplicate symbols in the table, LEFT JOIN, and the joined rows themselves (no aggregate)."""
import math
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

SYMS = ["S%02d" % i for i in range(24)]


def _prices(rng, n, nan=0.01, null=0.02):
    out = []
    for _ in range(n):
        r = rng.random()
        out.append(None if r < null else float("nan") if r < null + nan else
                   float("inf") if r < null + nan + 0.001 else
                   float("-inf") if r < null + nan + 0.002 else
                   -0.0 if r < null + nan + 0.004 else 0.0 if r < null + nan + 0.006 else
                   round(rng.uniform(1, 900), 3))
    return out


def _ticks(rng, n, syms, null_sym=0.0, null_size=0.0, nan=0.01, null=0.02):
    sym = [None if rng.random() < null_sym else syms[min(int(rng.expovariate(0.2)), len(syms) - 1)]
           for _ in range(n)]
    return pa.table({
        "symbol": pa.array(sym, pa.string()),
        "price": pa.array(_prices(rng, n, nan, null), pa.float64()),
        "size": pa.array([None if rng.random() < null_size else float(rng.randrange(1, 500))
                          for _ in range(n)], pa.float64()),
        "id": pa.array(range(n), pa.int64()),
    })


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("dictpaths")
    rng = random.Random(20261127)
    # f0: plain case, row groups of 10 000 (30 symbols, >= 8 rows per index)
    pq.write_table(_ticks(rng, 30000, SYMS), d / "t-00.parquet", row_group_size=10000)
    # f1: a symbol whose prices are all NaN, one whose prices are all NULL
    n = 12000
    t = _ticks(rng, n, SYMS[:6], nan=0, null=0)
    sym = t.column("symbol").to_pylist()
    price = t.column("price").to_pylist()
    for i in range(n):
        if i % 7 == 0:
            sym[i], price[i] = "SNAN", float("nan")
        elif i % 7 == 1:
            sym[i], price[i] = "SNUL", None
    t = t.set_column(0, "symbol", pa.array(sym, pa.string()))
    t = t.set_column(1, "price", pa.array(price, pa.float64()))
    pq.write_table(t, d / "t-01.parquet", row_group_size=6000)
    # f2: v2 data pages, zstd, NULL sizes
    pq.write_table(_ticks(rng, 16000, SYMS, null_size=0.05), d / "t-02.parquet",
                   row_group_size=8000, data_page_version="2.0", compression="zstd")
    # f3: the dictionary falls back to PLAIN inside chunks
    pq.write_table(_ticks(rng, 12000, SYMS), d / "t-03.parquet", row_group_size=12000,
                   dictionary_pagesize_limit=64, data_page_size=512)
    # f4: empty; f5: NULL symbols (the usual path for those morsels)
    pq.write_table(_ticks(rng, 0, SYMS), d / "t-04.parquet")
    pq.write_table(_ticks(rng, 9000, SYMS, null_sym=0.05), d / "t-05.parquet")
    # f8: no NULLs in price and size (NaN and infinities in price): the two-column pass
    pq.write_table(_ticks(rng, 20000, SYMS, null=0), d / "t-08.parquet", row_group_size=10000)
    # f6: 5000 symbols: a dictionary too large for the path, groups shared with the others
    many = SYMS + ["M%04d" % i for i in range(4976)]
    t = pa.table({"symbol": pa.array([many[i % len(many)] for i in range(20000)], pa.string()),
                  "price": pa.array(_prices(rng, 20000), pa.float64()),
                  "size": pa.array([float(i % 97) for i in range(20000)], pa.float64()),
                  "id": pa.array(range(20000), pa.int64())})
    pq.write_table(t, d / "t-06.parquet", row_group_size=20000)
    # f7 (join only): one row group of 70 000 rows; symbol MISS only in its last 4 464 rows,
    # so the first 64 Ki-row morsel has MISS in its dictionary but in no row
    n = 70000
    t = _ticks(rng, n, SYMS, nan=0.001, null=0.001)
    sym = t.column("symbol").to_pylist()
    for i in range(65536 + 100, n, 50):
        sym[i] = "MISS"
    t = t.set_column(0, "symbol", pa.array(sym, pa.string()))
    pq.write_table(t, d / "j-07.parquet", row_group_size=n)
    # j-08: the same size, every symbol in the table: both morsels take the join's dictionary
    # output, the second a slice (offset 65 536) of the row group's arrays
    pq.write_table(_ticks(rng, n, SYMS), d / "j-08.parquet", row_group_size=n)
    # symbols tables: every symbol; one with a NULL sector; one with a duplicate symbol
    allsym = SYMS + ["SNAN", "SNUL"] + ["M%04d" % i for i in range(4976)]
    sec = ["sec%d" % (i % 5) for i in range(len(allsym))]
    pq.write_table(pa.table({"symbol": allsym, "sector": sec,
                             "lot": pa.array([100 + i for i in range(len(allsym))], pa.int64())}),
                   d / "sym_all.parquet")
    sec_null = list(sec)
    sec_null[3] = None
    pq.write_table(pa.table({"symbol": allsym, "sector": sec_null}), d / "sym_nullsec.parquet")
    pq.write_table(pa.table({"symbol": allsym + ["S02"], "sector": sec + ["dup"]}),
                   d / "sym_dup.parquet")
    return str(d)


def _run(sql, q, threads):
    r = sql.polaroid([q], extra=("--threads", threads))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"polaroid failed (exit {r.returncode}): {err}\nSQL: {q}"
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


def _check(sql, q, threads):
    import compare
    expected = sql.duckdb([q])
    got = _run(sql, q, threads)
    diff = compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-9)
    assert diff is None, f"{diff}\nSQL: {q}\nexpected:\n{expected}\ngot:\n{got}"
    return got


# t-03 (PLAIN fallback) makes the scan's symbol column plain strings: the glob of every file
# takes the usual paths, the list without it the dictionary ones
T_ALL = "read_parquet('{d}/t-*.parquet')"
T = ("read_parquet(['{d}/t-00.parquet', '{d}/t-01.parquet', '{d}/t-02.parquet', "
     "'{d}/t-04.parquet', '{d}/t-05.parquet', '{d}/t-06.parquet', '{d}/t-08.parquet'])")
AGG_QUERIES = [
    "SELECT symbol, count(*) AS n, avg(price) AS a, sum(size) AS v, min(price) AS lo, "
    "max(price) AS hi FROM {t} GROUP BY symbol",
    "SELECT symbol, count(price) AS c, count(*) AS n, count(size) AS cs, avg(size) AS av, "
    "max(size) AS ms FROM {t} GROUP BY symbol",
    "SELECT symbol, min(price) AS lo, max(price) AS hi, sum(price) AS s FROM {t} GROUP BY symbol",
    "SELECT symbol, min(size) AS a, max(size) AS b, min(price) AS c, max(price) AS d, "
    "avg(size) AS e, sum(price) AS f, count(*) AS n FROM {t} GROUP BY symbol",
    "SELECT symbol, max(size) AS b, avg(price) AS a, min(id * 1.5) AS c, count(*) AS n "
    "FROM {t} GROUP BY symbol",
    # aggregates the path does not take: the whole morsel goes the usual way
    "SELECT symbol, count(symbol) AS cn, sum(id) AS si, avg(price) AS a FROM {t} GROUP BY symbol",
    "SELECT symbol, count(*) FILTER (WHERE price > 100) AS f, max(price) AS hi FROM {t} "
    "GROUP BY symbol",
    "SELECT symbol, count(*) AS n FROM {t} WHERE price > 450 GROUP BY symbol",
]


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("src", [T, T_ALL])
@pytest.mark.parametrize("qi", range(len(AGG_QUERIES)))
def test_group_by_dictionary_key(sql, files, qi, src, threads):
    q = AGG_QUERIES[qi].replace("{t}", src).replace("{d}", files)
    _check(sql, q, threads)


def test_nan_and_null_only_groups(sql, files):
    q = (f"SELECT symbol, count(*) AS n, count(price) AS c, avg(price) AS a, min(price) AS lo, "
         f"max(price) AS hi, sum(price) AS s FROM read_parquet('{files}/t-01.parquet') "
         f"GROUP BY symbol")
    rows = {r["symbol"]: r for r in _check(sql, q, "2").to_pylist()}
    assert math.isnan(rows["SNAN"]["lo"]) and math.isnan(rows["SNAN"]["hi"])
    assert math.isnan(rows["SNAN"]["a"]) and rows["SNAN"]["c"] == rows["SNAN"]["n"]
    assert rows["SNUL"]["c"] == 0 and rows["SNUL"]["n"] > 0
    assert rows["SNUL"]["a"] is None and rows["SNUL"]["lo"] is None and rows["SNUL"]["s"] is None


J = "read_parquet('{d}/j-07.parquet')"
JOIN_QUERIES = [
    # every symbol in the table
    "SELECT s.sector, count(*) AS n, sum(t.price * t.size) AS notional, avg(t.price) AS ap "
    "FROM {t} AS t JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol "
    "GROUP BY s.sector",
    "SELECT s.sector, s.symbol, count(*) AS n, max(t.price) AS hi, sum(s.lot) AS l "
    "FROM {t} AS t JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol "
    "GROUP BY s.sector, s.symbol",
    # MISS: not in the table (first morsel: in the dictionary only)
    "SELECT s.sector, count(*) AS n, sum(t.size) AS v, min(t.price) AS lo "
    "FROM {j} AS t JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol "
    "GROUP BY s.sector",
    "SELECT s.sector, count(*) AS n, sum(t.size) AS v FROM {j} AS t "
    "LEFT JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol GROUP BY s.sector",
    "SELECT s.sector, count(*) AS n, sum(t.size) AS v FROM {t} AS t "
    "LEFT JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol GROUP BY s.sector",
    # NULL sectors; a duplicate symbol (two build rows for S02)
    "SELECT s.sector, count(*) AS n, avg(t.price) AS ap FROM {t} AS t "
    "JOIN read_parquet('{d}/sym_nullsec.parquet') AS s ON t.symbol = s.symbol GROUP BY s.sector",
    "SELECT s.sector, count(*) AS n, sum(t.size) AS v FROM {t} AS t "
    "JOIN read_parquet('{d}/sym_dup.parquet') AS s ON t.symbol = s.symbol GROUP BY s.sector",
    # the joined rows themselves (dictionary outputs over sliced morsels)
    "SELECT t.id, t.symbol, s.sector, s.lot, t.price FROM {j} AS t "
    "JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol WHERE t.id % 97 = 3",
    "SELECT t.id, t.symbol, s.sector, t.size FROM read_parquet('{d}/j-08.parquet') AS t "
    "JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol",
    "SELECT s.sector, count(*) AS n, min(t.id) AS lo, max(t.id) AS hi, sum(t.size) AS v "
    "FROM read_parquet('{d}/j-08.parquet') AS t "
    "JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol GROUP BY s.sector",
    "SELECT t.id, s.sector, upper(s.sector) AS us, length(s.symbol) AS ls FROM {t} AS t "
    "JOIN read_parquet('{d}/sym_all.parquet') AS s ON t.symbol = s.symbol",
]


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("qi", range(len(JOIN_QUERIES)))
def test_join_dictionary_key(sql, files, qi, threads):
    q = JOIN_QUERIES[qi].replace("{t}", T).replace("{j}", J).replace("{d}", files)
    _check(sql, q, threads)
