"""Scans read by units (src/exec/pipeline.c run_units, src/io/parquet/scan.c pl_pq_scan_unit):
every row group of a multi-file Parquet scan is decoded and consumed by one task, in any order,
with sequence numbers that keep the files' order. Checked against DuckDB (the tick queries of
bench/queries.py and variants) and against references computed here where DuckDB's answer is
not defined (ties in arg_min/arg_max, the order of equal sort keys), on 1 and 2 threads, over:

* files whose symbol chunks are dictionary-encoded, PLAIN only, or fall back to PLAIN in the
  middle of a chunk; row groups of different sizes; an empty file (no rows); a file of one row;
* NULLs in every column, NaN prices, timestamps that tie within and across row groups and files;
* a corrupt column chunk in the middle of the scan (a clean error, nothing leaked)."""
import datetime
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

BASE = datetime.datetime(2024, 1, 2, 9, 30)
SYMS = ["S%02d" % i for i in range(30)]


def _table(rng, n, id0, ts_of):
    sym, ts, price, size, ids = [], [], [], [], []
    for i in range(n):
        r = rng.random()
        sym.append(None if r < 0.02 else SYMS[min(int(rng.expovariate(0.25)), len(SYMS) - 1)])
        ts.append(ts_of(i))
        r = rng.random()
        price.append(None if r < 0.02 else float("nan") if r < 0.025 else
                     round(rng.uniform(10, 500), 2))
        size.append(None if rng.random() < 0.02 else float(rng.randrange(1, 1000)))
        ids.append(id0 + i)
    return pa.table({
        "ts": pa.array(ts, pa.timestamp("us")),
        "symbol": pa.array(sym, pa.string()),
        "price": pa.array(price, pa.float64()),
        "size": pa.array(size, pa.float64()),
        "id": pa.array(ids, pa.int64()),
    })


def _write(d, rng, ts_mode):
    """Six files; returns the tables in file order. ts_mode "unique": no two rows share a
    timestamp (DuckDB's arg_min/arg_max are then defined); "ties": timestamps collide often."""
    # row groups of >= 4096 rows also take the aggregation's morsel pre-grouping (sink.c
    # consume_local); small ones do not
    sizes = [20000, 3100, 12000, 0, 1, 9000]
    opts = [dict(use_dictionary=True, row_group_size=10000),
            dict(use_dictionary=False, row_group_size=777),
            dict(use_dictionary=True, dictionary_pagesize_limit=64, row_group_size=6000,
                 data_page_size=512),  # dictionary fallback inside chunks
            dict(use_dictionary=True),
            dict(use_dictionary=True),
            dict(use_dictionary=["symbol"], row_group_size=9000, compression="zstd")]
    tables, id0 = [], 0
    for f, n in enumerate(sizes):
        if ts_mode == "unique":
            perm = list(range(n))
            rng.shuffle(perm)
            off = id0
            ts_of = (lambda i, perm=perm, off=off:
                     None if (perm[i] * 7) % 101 == 3 else
                     BASE + datetime.timedelta(milliseconds=37 * (off + perm[i])))
        else:
            ts_of = (lambda i: None if rng.random() < 0.01 else
                     BASE + datetime.timedelta(seconds=rng.randrange(0, 240)))
        t = _table(rng, n, id0, ts_of)
        pq.write_table(t, d / f"ticks-{f:04d}.parquet", **opts[f])
        tables.append(t)
        id0 += n
    return tables


@pytest.fixture(scope="module")
def ticks(tmp_path_factory):
    d = tmp_path_factory.mktemp("units")
    tables = _write(d, random.Random(20261127), "unique")
    sym = pa.table({"symbol": SYMS[:25] + ["ZZZ"],
                    "sector": ["sec%d" % (i % 4) for i in range(26)]})
    pq.write_table(sym, d / "symbols.parquet")
    return str(d), tables


@pytest.fixture(scope="module")
def tied(tmp_path_factory):
    d = tmp_path_factory.mktemp("units_tied")
    return str(d), _write(d, random.Random(99), "ties")


def _x(d):
    return f"read_parquet('{d}/ticks-*.parquet')"


QUERIES = [
    "SELECT count(*) AS n, sum(size) AS volume FROM {x}",
    "SELECT count(*) AS n, count(size) AS c, sum(size) AS volume, min(size) AS lo FROM {x}",
    "SELECT count(*) AS n, avg(price) AS avg_price FROM {x} WHERE symbol = 'S00'",
    "SELECT count(*) AS n, avg(price) AS avg_price FROM {x} WHERE symbol = 'S03'",
    "SELECT count(*) AS n, avg(price) AS avg_price FROM {x} WHERE symbol = 'nope'",
    "SELECT count(*) AS n, sum(size) AS s FROM {x} WHERE symbol IS NULL",
    "SELECT count(*) AS n, sum(size) AS s FROM {x} WHERE symbol = 'S01' AND price > 250",
    "SELECT symbol, count(*) AS n, avg(price) AS avg_price, sum(size) AS volume, "
    "min(price) AS low, max(price) AS high FROM {x} GROUP BY symbol",
    "SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, "
    "arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, "
    "arg_max(price, ts) AS close, sum(size) AS volume FROM {x} GROUP BY symbol, minute",
    "SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, count(*) AS n, "
    "min(ts) AS first_ts, max(ts) AS last_ts FROM {x} GROUP BY symbol, minute",
    # one wide-range integer key, 16 rows per group, next to each other (pre-grouped in the
    # morsel), and the same with every row its own group (too many groups to pre-group)
    "SELECT (id // 16) * 1000003 AS k, count(*) AS n, count(price) AS c, sum(size) AS s, "
    "avg(price) AS a, min(ts) AS lo, max(ts) AS hi, arg_min(price, ts) AS o, "
    "arg_max(id, ts) AS cl, stddev_samp(size) AS sd, count(*) FILTER (WHERE price > 200) AS f, "
    "bool_or(price > 490) AS b, sum(id) AS si, max(price) AS mp, min(price) AS np "
    "FROM {x} GROUP BY k",
    "SELECT id * 1000003 AS k, count(*) AS n, sum(size) AS s, min(price) AS lo, "
    "arg_max(price, ts) AS cl FROM {x} GROUP BY k",
    "SELECT (id // 3000) * 1000003 AS k, symbol, count(*) AS n, sum(size) AS s, "
    "max(price) AS hi FROM {x} GROUP BY k, symbol",
    "SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, min(symbol) AS ms, "
    "count(*) AS n FROM {x} GROUP BY symbol, minute",
    "SELECT s.sector, count(*) AS n, sum(t.price * t.size) AS notional, "
    "avg(t.price) AS avg_price FROM {x} AS t JOIN read_parquet('{d}/symbols.parquet') AS s "
    "ON t.symbol = s.symbol GROUP BY s.sector",
]


def _run(sql, q, threads):
    r = sql.polaroid([q], extra=("--threads", threads))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"polaroid failed (exit {r.returncode}): {err}\nSQL: {q}"
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_tick_queries_match_duckdb(sql, ticks, qi, threads):
    import compare
    d, _ = ticks
    q = QUERIES[qi].replace("{x}", _x(d)).replace("{d}", d)
    expected = sql.duckdb([q])
    got = _run(sql, q, threads)
    diff = compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-9)
    assert diff is None, f"{diff}\nSQL: {q}\nexpected:\n{expected}\ngot:\n{got}"


def _rows(tables):
    for t in tables:
        yield from t.to_pylist()


def _minute(ts):
    return ts.replace(second=0, microsecond=0)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_arg_min_max_ties_take_the_first_row(sql, tied, threads):
    # equal timestamps: the first row in the files' order wins, for arg_min and arg_max alike,
    # however the units were spread over the threads
    d, tables = tied
    q = (f"SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, "
         f"arg_min(id, ts) AS first_id, arg_max(id, ts) AS last_id, arg_min(price, ts) AS open, "
         f"arg_max(price, ts) AS close, count(*) AS n FROM {_x(d)} GROUP BY symbol, minute")
    ref = {}
    for r in _rows(tables):
        if r["ts"] is None:
            key = (r["symbol"], None)
            g = ref.setdefault(key, {"n": 0, "lo": None, "hi": None})
            g["n"] += 1
            continue
        key = (r["symbol"], _minute(r["ts"]))
        g = ref.setdefault(key, {"n": 0, "lo": None, "hi": None})
        g["n"] += 1
        if g["lo"] is None or r["ts"] < g["lo"]["ts"]:
            g["lo"] = r
        if g["hi"] is None or r["ts"] > g["hi"]["ts"]:
            g["hi"] = r
    got = _run(sql, q, threads).to_pylist()
    assert len(got) == len(ref)
    for row in got:
        minute = row["minute"].replace(tzinfo=None) if row["minute"] else None
        g = ref[(row["symbol"], minute)]
        assert row["n"] == g["n"], row
        if g["lo"] is None:
            assert row["first_id"] is None and row["last_id"] is None, row
            continue
        assert row["first_id"] == g["lo"]["id"], (row, g["lo"])
        assert row["last_id"] == g["hi"]["id"], (row, g["hi"])
        for got_v, want in ((row["open"], g["lo"]["price"]), (row["close"], g["hi"]["price"])):
            if want is None or want != want:
                assert got_v is None or got_v != got_v or want is None, (row, want)
            else:
                assert got_v == want, (row, want)
    # the data really has ties (else this test proves nothing)
    seen = {}
    for r in _rows(tables):
        if r["ts"] is not None:
            seen[(r["symbol"], r["ts"])] = seen.get((r["symbol"], r["ts"]), 0) + 1
    assert sum(1 for v in seen.values() if v > 1) > 100


@pytest.mark.parametrize("threads", ["1", "2"])
def test_sort_keeps_file_order_for_equal_keys(sql, tied, threads):
    # the sort is stable: rows with equal keys come in the scan's order (files, row groups, rows)
    d, tables = tied
    q = f"SELECT id, symbol FROM {_x(d)} WHERE price > 100 ORDER BY symbol NULLS LAST"
    # (NaN is greater than every number in SQL)
    rows = [r for r in _rows(tables)
            if r["price"] is not None and (r["price"] != r["price"] or r["price"] > 100)]
    want = [r["id"] for r in sorted(rows, key=lambda r: (r["symbol"] is None, r["symbol"] or ""))]
    got = _run(sql, q, threads).column("id").to_pylist()
    assert got == want


@pytest.mark.parametrize("threads", ["1", "2"])
def test_grouped_sum_overflow_is_an_error(sql, tmp_path, threads):
    # INT64 sums overflow inside a morsel's pre-grouped states: the query fails as without them
    t = pa.table({"k": pa.array([i // 100 for i in range(20000)], pa.int64()),
                  "v": pa.array([(1 << 62) if i % 100 < 3 else 1 for i in range(20000)],
                                pa.int64())})
    pq.write_table(t, tmp_path / "big.parquet", row_group_size=10000)
    q = (f"SELECT k * 1000003 AS g, sum(v) AS s FROM read_parquet('{tmp_path}/big.parquet') "
         f"GROUP BY g")
    r = sql.polaroid([q], fmt="csv", extra=("--threads", threads))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"exit {r.returncode}: {err}"
    assert "overflow" in err, err
    assert "Sanitizer" not in err, err


@pytest.mark.parametrize("threads", ["1", "2"])
def test_corrupt_chunk_mid_scan_is_a_clean_error(sql, tmp_path, threads):
    rng = random.Random(5)
    tables = []
    for f in range(4):
        t = _table(rng, 3000, f * 3000, lambda i: BASE + datetime.timedelta(seconds=i))
        pq.write_table(t, tmp_path / f"ticks-{f:04d}.parquet", row_group_size=500,
                       compression="zstd")
        tables.append(t)
    # garble the size column's pages of the third file's fourth row group
    p = tmp_path / "ticks-0002.parquet"
    md = pq.ParquetFile(p).metadata
    cc = md.row_group(3).column(3)
    raw = bytearray(p.read_bytes())
    start = cc.data_page_offset
    for k in range(start + 40, start + cc.total_compressed_size - 8):
        raw[k] = (raw[k] * 131 + 17) & 0xFF
    p.write_bytes(bytes(raw))
    q = f"SELECT count(*) AS n, sum(size) AS volume FROM {_x(tmp_path)}"
    r = sql.polaroid([q], fmt="csv", extra=("--threads", threads))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"exit {r.returncode}: {err}"
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    assert "ticks-0002.parquet" in err, err
    # the other columns of that file are still fine
    q = f"SELECT count(*) AS n, sum(price) AS p FROM {_x(tmp_path)}"
    got = _run(sql, q, threads).to_pylist()[0]
    assert got["n"] == 12000
