"""Hash aggregation paths against DuckDB on generated Parquet files (src/exec/agg/):

* one string key with many groups (the prefetched probes of one table per worker, and split
  tables beyond AGG_SPLIT_GROUPS), NULL keys, empty strings, lengths 0-40, read from files whose
  column chunks are dictionary-encoded, fall back to PLAIN in the middle of a chunk (a small
  dictionary page limit), or are PLAIN only, over several row groups and files;
* median / quantile_cont (the direct scatter-and-select path): NaN (fewer and more than half of
  a group), NULL values, all-NULL groups, even and odd counts, duplicates, many groups, and
  integer arguments."""
import math
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _strkey(i):
    if i == 0:
        return ""
    return ("k%d" % i).rjust(i % 41, "x")


@pytest.fixture(scope="module")
def strfiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggstr")
    rng = random.Random(7)
    n, groups = 300_000, 120_000
    for f in range(3):
        keys = []
        for _ in range(n // 3):
            r = rng.random()
            keys.append(None if r < 0.01 else _strkey(rng.randrange(groups)))
        t = pa.table({
            "k": keys,
            "v": pa.array([rng.randrange(-1000, 1000) for _ in keys], pa.int32()),
            "x": pa.array([None if rng.random() < 0.05 else rng.random() * 100 for _ in keys],
                          pa.float64()),
        })
        opts = [dict(use_dictionary=True, dictionary_pagesize_limit=64 << 10),  # fallback
                dict(use_dictionary=True),
                dict(use_dictionary=False)][f]
        pq.write_table(t, d / f"part-{f}.parquet", row_group_size=40_000, **opts)
    return str(d)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_string_key_many_groups(sql, strfiles, threads):
    q = (f"SELECT k, count(*) AS n, sum(v) AS s, avg(x) AS a, min(v) AS lo, max(x) AS hi "
         f"FROM read_parquet('{strfiles}/*.parquet') GROUP BY k")
    sql.check(q, extra=("--threads", threads))


def test_string_key_one_file_fallback(sql, strfiles):
    sql.check(f"SELECT k, max(v) - min(v) AS d, count(x) AS c FROM "
              f"read_parquet('{strfiles}/part-0.parquet') GROUP BY k")


def test_string_key_dictionary_file(sql, strfiles):
    # every chunk dictionary-encoded: the key stays a dictionary, one per row group
    sql.check(f"SELECT k, sum(v) AS s, avg(x) AS a FROM "
              f"read_parquet('{strfiles}/part-1.parquet') GROUP BY k")


def test_string_key_few_groups_with_nulls(sql, strfiles):
    sql.check(f"SELECT length(k) % 5 = 0 AS b, k IS NULL AS isnull, count(*) AS n FROM "
              f"read_parquet('{strfiles}/*.parquet') GROUP BY 1, 2")


@pytest.fixture(scope="module")
def qfile(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggmed")
    rng = random.Random(11)
    g, x, iv = [], [], []
    sizes = [0, 1, 2, 3, 4, 5, 10, 11, 999, 1000] + [rng.randrange(0, 30) for _ in range(20_000)]
    for gi, size in enumerate(sizes):
        kind = gi % 6
        for j in range(size + 1):
            g.append(gi)
            if j == size:  # one NULL value per group; size 0: an all-NULL group
                x.append(None)
                iv.append(None)
                continue
            r = rng.random()
            if kind == 0:
                v = 2.5
            elif kind == 1:
                v = float(rng.randrange(3))
            elif kind == 2:
                v = math.nan if r < 0.3 else rng.randrange(1000) / 7
            elif kind == 3:
                v = math.nan if r < 0.7 else float(rng.randrange(50))
            else:
                v = rng.uniform(-1e6, 1e6)
            x.append(v)
            iv.append(rng.randrange(-50, 51))
    order = list(range(len(g)))
    rng.shuffle(order)
    t = pa.table({"g": pa.array([g[i] for i in order], pa.int64()),
                  "x": pa.array([x[i] for i in order], pa.float64()),
                  "iv": pa.array([iv[i] for i in order], pa.int32())})
    p = d / "q.parquet"
    pq.write_table(t, p, row_group_size=50_000)
    return str(p)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_median_quantiles(sql, qfile, threads):
    q = (f"SELECT g, median(x) AS m, quantile_cont(x, 0.25) AS q1, quantile_cont(x, 0.9) AS q9, "
         f"median(iv) AS mi, quantile_cont(iv, 0.75) AS qi FROM read_parquet('{qfile}') "
         f"GROUP BY g")
    sql.check(q, extra=("--threads", threads))


def test_median_no_groups(sql, qfile):
    sql.check(f"SELECT median(x) AS m, quantile_cont(iv, 0.3) AS q FROM read_parquet('{qfile}') "
              f"WHERE g < 5")

