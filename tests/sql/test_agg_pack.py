"""GROUP BY several keys packed into one 64-bit word (src/exec/agg/pack.c) against DuckDB, on
generated Parquet files:

* tick-like rows: a dictionary-encoded symbol and 1-minute time_bucket of timestamps from 1965
  to 1975 (before and after the epoch), OHLCV with arg_min/arg_max by ts (ties in ts carry equal
  prices, so every engine picks the same value), NULL symbols and timestamps;
* four keys (a PLAIN string, a dictionary string, int32 and int64) with NULLs and many groups,
  with int64 values far outside the first rows' range (tuples that do not fit the layout go
  to the plain sink), over several row groups and files."""
import datetime as dt
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="module")
def tickfiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggpack_ticks")
    rng = random.Random(5)
    t0 = dt.datetime(1965, 1, 1)
    span = int((dt.datetime(1975, 1, 1) - t0).total_seconds())
    for f in range(3):
        sym, ts, price, size = [], [], [], []
        for _ in range(60_000):
            s = None if rng.random() < 0.01 else "S%03d" % rng.randrange(150)
            if rng.random() < 0.01:
                t = None
            elif rng.random() < 0.5:  # dense minutes around the epoch and around 1970-01-01
                t = dt.datetime(1969, 12, 31, 23, 0) + dt.timedelta(
                    microseconds=rng.randrange(2 * 3600 * 10**6))
            else:
                t = t0 + dt.timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
            p = round(rng.uniform(1, 500), 2)
            sym.append(s)
            ts.append(t)
            price.append(p)
            size.append(float(rng.randrange(1, 1000)))
            if t is not None and rng.random() < 0.05:  # a tie in ts with the same price
                sym.append(s)
                ts.append(t)
                price.append(p)
                size.append(1.0)
        tb = pa.table({"symbol": sym, "ts": pa.array(ts, pa.timestamp("us")),
                       "price": pa.array(price, pa.float64()), "size": size})
        pq.write_table(tb, d / f"t-{f}.parquet", row_group_size=25_000, use_dictionary=True)
    return str(d)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_ohlcv_before_and_after_epoch(sql, tickfiles, threads):
    q = ("SELECT symbol, time_bucket(INTERVAL '1 minute', ts) AS minute, "
         "arg_min(price, ts) AS open, max(price) AS high, min(price) AS low, "
         "arg_max(price, ts) AS close, sum(size) AS volume, count(*) AS n "
         f"FROM read_parquet('{tickfiles}/*.parquet') GROUP BY symbol, minute")
    sql.check(q, extra=("--threads", threads))


@pytest.fixture(scope="module")
def keyfiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggpack_keys")
    rng = random.Random(9)
    for f in range(3):
        n = 120_000
        a, b, c, e = [], [], [], []
        for i in range(n):
            a.append(None if rng.random() < 0.02 else "id%010d" % rng.randrange(20_000))
            b.append(None if rng.random() < 0.02 else "g%d" % rng.randrange(40))
            c.append(None if rng.random() < 0.02 else rng.randrange(-5, 5))
            if rng.random() < 0.02:
                e.append(None)
            elif f == 2 and rng.random() < 0.2:  # far outside the layout
                e.append(rng.choice([2**63 - 1, -2**63, 3 * 10**18, -3 * 10**18 + rng.randrange(9)]))
            else:
                e.append(rng.randrange(1000) * 1000)
        t = pa.table({"a": a, "b": b, "c": pa.array(c, pa.int32()), "e": pa.array(e, pa.int64()),
                      "v": pa.array([rng.randrange(-100, 100) for _ in range(n)], pa.int64())})
        opts = [dict(use_dictionary=["b"]), dict(use_dictionary=["b"]),
                dict(use_dictionary=["a", "b"], dictionary_pagesize_limit=32 << 10)][f]
        pq.write_table(t, d / f"k-{f}.parquet", row_group_size=30_000, **opts)
    return str(d)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_four_keys_many_groups(sql, keyfiles, threads):
    q = ("SELECT a, b, c, e, sum(v) AS s, count(*) AS n, min(v) AS lo "
         f"FROM read_parquet('{keyfiles}/*.parquet') GROUP BY a, b, c, e")
    sql.check(q, extra=("--threads", threads))


def test_two_keys_one_file(sql, keyfiles):
    sql.check(f"SELECT b, e, count(*) AS n FROM read_parquet('{keyfiles}/k-2.parquet') "
              f"GROUP BY b, e")


@pytest.fixture(scope="module")
def argfiles(tmp_path_factory):
    """arg_min/arg_max over 64-bit-or-narrower values and keys of several types (the narrow
    32-byte states of funcs.c): ties in the key (the value is a function of group and key, so
    every engine picks the same value), NaN keys and values, NULL keys, groups whose keys are
    all NULL, many groups (merged across workers)."""
    d = tmp_path_factory.mktemp("aggpack_arg")
    rng = random.Random(11)
    for f in range(2):
        n = 80_000
        g, h, ki, kf, kd, vi, vf, v32, vu = [], [], [], [], [], [], [], [], []
        for _ in range(n):
            a = rng.randrange(3000)
            b = rng.randrange(3)
            k = rng.randrange(-20, 20)
            g.append(a)
            h.append("h%d" % b)
            nullk = rng.random() < 0.02 or a % 97 == 0  # group a % 97 == 0: no key at all
            ki.append(None if nullk else k)
            if nullk:
                kf.append(None)
            elif k == 7:
                kf.append(float("nan"))
            else:
                kf.append(k / 4)
            kd.append(None if nullk else dt.date(1969, 12, 1) + dt.timedelta(days=k))
            x = (a * 1_000_003 + b * 7919 + k * 31) % 100_003 - 50_000
            vi.append(x)
            vf.append(float("nan") if x % 11 == 0 else x / 8)
            v32.append(x)
            vu.append(x + 2**63 if x > 0 else x + 50_000)
        t = pa.table({"g": pa.array(g, pa.int32()), "h": h, "ki": pa.array(ki, pa.int32()),
                      "kf": pa.array(kf, pa.float64()), "kd": pa.array(kd, pa.date32()),
                      "vi": pa.array(vi, pa.int64()), "vf": pa.array(vf, pa.float64()),
                      "v32": pa.array(v32, pa.float32()), "vu": pa.array(vu, pa.uint64())})
        pq.write_table(t, d / f"a-{f}.parquet", row_group_size=20_000)
    return str(d)


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("key", ["ki", "kf", "kd"])
def test_arg_min_max_narrow(sql, argfiles, threads, key):
    q = (f"SELECT g, h, arg_min(vi, {key}) AS a1, arg_max(vi, {key}) AS a2, "
         f"arg_min(vf, {key}) AS a3, arg_max(vf, {key}) AS a4, arg_min(v32, {key}) AS a5, "
         f"arg_max(vu, {key}) AS a6, arg_min(vu, {key}) AS a7, max(vf) AS mx, count(*) AS n "
         f"FROM read_parquet('{argfiles}/*.parquet') GROUP BY g, h")
    sql.check(q, extra=("--threads", threads))


@pytest.fixture(scope="module")
def q10files(tmp_path_factory):
    """h2o q10-like rows: six keys (two dictionary-encoded strings of 100 values, a string of
    100k values, three ints), nearly one group per row (worker tables split into the shared
    partition tables), NULLs in every key, over files whose string columns are encoded
    differently: all dictionary, dictionary with a fallback to PLAIN pages, and PLAIN."""
    d = tmp_path_factory.mktemp("aggpack_q10")
    rng = random.Random(10)
    for f in range(3):
        n = 220_000

        def nul(x):
            return None if rng.random() < 0.01 else x
        cols = {
            "id1": [nul("id%03d" % rng.randrange(1, 101)) for _ in range(n)],
            "id2": [nul("id%03d" % rng.randrange(1, 101)) for _ in range(n)],
            "id3": [nul("id%010d" % rng.randrange(1, 100_001)) for _ in range(n)],
            "id4": pa.array([nul(rng.randrange(1, 101)) for _ in range(n)], pa.int32()),
            "id5": pa.array([nul(rng.randrange(1, 101)) for _ in range(n)], pa.int32()),
            "id6": pa.array([nul(rng.randrange(1, 100_001)) for _ in range(n)], pa.int32()),
            "v3": pa.array([nul(round(rng.uniform(0, 100), 6)) for _ in range(n)], pa.float64()),
        }
        if f == 0:  # a few repeated tuples: groups of more than one row
            for c in cols:
                v = cols[c] if isinstance(cols[c], list) else cols[c].to_pylist()
                for i in range(0, n, 97):
                    v[i] = v[0]
                cols[c] = v if isinstance(cols[c], list) else pa.array(v, cols[c].type)
        opts = [dict(use_dictionary=True, dictionary_pagesize_limit=64 << 20),
                dict(use_dictionary=True, dictionary_pagesize_limit=256 << 10),
                dict(use_dictionary=False)][f]
        pq.write_table(pa.table(cols), d / f"q-{f}.parquet", row_group_size=70_000, **opts)
    return str(d)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_q10_six_keys_group_per_row(sql, q10files, threads):
    q = ("SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count, "
         "count(v3) FILTER (WHERE id4 > 50) AS nf "
         f"FROM read_parquet('{q10files}/*.parquet') GROUP BY id1, id2, id3, id4, id5, id6")
    sql.check(q, extra=("--threads", threads))


def test_q10_empty_and_one_file(sql, q10files):
    sql.check(f"SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count "
              f"FROM read_parquet('{q10files}/*.parquet') WHERE id4 < -5 "
              f"GROUP BY id1, id2, id3, id4, id5, id6")
    sql.check(f"SELECT id3, id1, id6, count(*) AS n FROM read_parquet('{q10files}/q-1.parquet') "
              f"GROUP BY id3, id1, id6")
