"""The aggregate update paths of the h2o group-by questions against DuckDB (src/exec/agg/funcs.c):

* covar_pop / covar_samp / corr (q9): the arguments converted to doubles a block of rows at a
  time (integers of several widths, doubles with NaN, NULLs in either argument, FILTER rows,
  i.e. a selection vector), few groups and many (states beyond the prefetch threshold), row
  groups longer than a morsel;
* avg / sum / count by a small-range integer key (q4): with and without NULLs (columns without
  take the per-morsel group counts and 64-bit partial sums), values at the type's limits (int32
  extremes, uint32 max), NaN, float32, many rows per group, a FILTER, a NULL key;
* min / max by a string key (q7)."""
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


@pytest.fixture(scope="module")
def h2ofile(tmp_path_factory):
    d = tmp_path_factory.mktemp("aggh2o")
    rng = random.Random(23)
    n = 250_000
    g = [rng.randrange(20_000) for _ in range(n)]
    k = [rng.randrange(1, 101) for _ in range(n)]

    def maybe(v, p=0.03):
        return None if rng.random() < p else v

    t = pa.table({
        "g": pa.array(g, pa.int32()),
        "k": pa.array([maybe(x, 0.01) for x in k], pa.int32()),
        "s": pa.array(["id%010d" % (x % 5000) if rng.random() > 0.01 else None for x in g]),
        "v1": pa.array([maybe(rng.randrange(1, 6)) for _ in range(n)], pa.int32()),
        "v2": pa.array([maybe(rng.randrange(1, 16)) for _ in range(n)], pa.int32()),
        "b": pa.array([maybe(rng.randrange(-128, 128)) for _ in range(n)], pa.int8()),
        "big": pa.array([maybe(rng.choice([2**31 - 1, -2**31, rng.randrange(-2**31, 2**31)]))
                         for _ in range(n)], pa.int32()),
        "l": pa.array([maybe(rng.randrange(-2**40, 2**40)) for _ in range(n)], pa.int64()),
        "x": pa.array([maybe(float("nan") if rng.random() < 0.001 else rng.uniform(-50, 50))
                       for _ in range(n)], pa.float64()),
        # no NULLs: the per-morsel group counts of few groups (agg_table.hist)
        "w1": pa.array([rng.randrange(1, 6) for _ in range(n)], pa.int32()),
        "w8": pa.array([rng.randrange(-128, 128) for _ in range(n)], pa.int8()),
        "w16": pa.array([rng.randrange(0, 65536) for _ in range(n)], pa.uint16()),
        "wu": pa.array([rng.choice([2**32 - 1, rng.randrange(2**32)]) for _ in range(n)],
                       pa.uint32()),
        "wbig": pa.array([rng.choice([2**31 - 1, -2**31]) for _ in range(n)], pa.int32()),
        "wf": pa.array([float("nan") if rng.random() < 0.0001 else rng.uniform(-1e6, 1e6)
                        for _ in range(n)], pa.float64()),
        "wf4": pa.array([rng.uniform(-100, 100) for _ in range(n)], pa.float32()),
    })
    p = d / "h2o.parquet"
    pq.write_table(t, p, row_group_size=100_000)
    return str(p)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_corr_covar_many_groups(sql, h2ofile, threads):
    sql.check(f"SELECT g, corr(v1, v2) AS c, covar_pop(v1, v2) AS cp, covar_samp(b, v2) AS cs "
              f"FROM read_parquet('{h2ofile}') GROUP BY g", extra=("--threads", threads))


def test_corr_few_groups_wide_types(sql, h2ofile):
    sql.check(f"SELECT k % 7 AS kk, corr(big, l) AS c, covar_pop(l, b) AS cp, "
              f"covar_samp(big, v1) AS cs, pow(corr(v1, v2), 2) AS r2 "
              f"FROM read_parquet('{h2ofile}') GROUP BY kk")


def test_corr_doubles_nan_filter(sql, h2ofile):
    # NaN makes a group's result NaN; FILTER gives the update a selection vector
    sql.check(f"SELECT k, corr(x, v2) AS c, covar_pop(v1, x) AS cp, "
              f"corr(v1, v2) FILTER (WHERE g % 3 = 0) AS cf, "
              f"covar_samp(x, b) FILTER (WHERE x > 0) AS csf "
              f"FROM read_parquet('{h2ofile}') GROUP BY k")


def test_corr_no_group(sql, h2ofile):
    sql.check(f"SELECT corr(v1, v2) AS c, covar_pop(big, l) AS cp, covar_samp(b, x) AS cs, "
              f"corr(v1, b) FILTER (WHERE g < 100) AS cf FROM read_parquet('{h2ofile}')")


@pytest.mark.parametrize("threads", ["1", "2"])
def test_avg_small_int_key(sql, h2ofile, threads):
    sql.check(f"SELECT k, avg(v1) AS a1, avg(v2) AS a2, avg(x) AS a3, avg(big) AS ab, "
              f"avg(b) AS a8, avg(l) AS al, sum(big) AS sb, sum(v1) AS s1, count(v2) AS c2 "
              f"FROM read_parquet('{h2ofile}') GROUP BY k", extra=("--threads", threads))


def test_avg_small_int_key_filter(sql, h2ofile):
    sql.check(f"SELECT k, avg(v1) FILTER (WHERE v2 > 7) AS a1, avg(big) FILTER (WHERE g % 2 = 0) "
              f"AS ab, sum(b) FILTER (WHERE x < 0) AS sb FROM read_parquet('{h2ofile}') GROUP BY k")


def test_avg_empty_and_all_null(sql, h2ofile):
    sql.check(f"SELECT k, avg(v1) AS a1, avg(big) AS ab FROM read_parquet('{h2ofile}') "
              f"WHERE g < 0 GROUP BY k")
    sql.check(f"SELECT k, avg(CASE WHEN g < 0 THEN v1 END) AS a1, corr(CASE WHEN g < 0 THEN v1 "
              f"END, v2) AS c FROM read_parquet('{h2ofile}') GROUP BY k")


@pytest.mark.parametrize("threads", ["1", "2"])
def test_minmax_string_key(sql, h2ofile, threads):
    sql.check(f"SELECT s, max(v1) - min(v2) AS r, min(big) AS lo, max(l) AS hi "
              f"FROM read_parquet('{h2ofile}') GROUP BY s", extra=("--threads", threads))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_avg_small_key_no_nulls(sql, h2ofile, threads):
    sql.check(f"SELECT k, avg(w1) AS a1, avg(w8) AS a8, avg(w16) AS a16, avg(wu) AS au, "
              f"avg(wbig) AS ab, avg(wf) AS af, avg(wf4) AS af4, sum(w1) AS s1, sum(wu) AS su, "
              f"sum(wbig) AS sb, sum(w8) AS s8, sum(wf) AS sf, count(*) AS n, count(w1) AS c1 "
              f"FROM read_parquet('{h2ofile}') GROUP BY k", extra=("--threads", threads))


def test_avg_small_key_no_nulls_mixed(sql, h2ofile):
    # a FILTER (a selection) beside unfiltered ones, and a key of 1000 groups
    sql.check(f"SELECT g % 1000 AS kk, avg(w1) AS a1, avg(w1) FILTER (WHERE w8 > 0) AS af, "
              f"sum(wu) AS su, count(*) AS n, sum(wbig) FILTER (WHERE wf > 0) AS sb "
              f"FROM read_parquet('{h2ofile}') GROUP BY kk")
