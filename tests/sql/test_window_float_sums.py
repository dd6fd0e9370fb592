"""sum/avg of floats over window frames, compared with DuckDB, where sums by differences of
running sums go wrong: a huge value in one partition (1e20 swallowed 1.5 + 0.25 of every later
partition: 0 instead of 1.75), NaN and infinities (one NaN made every later frame NaN), sliding
ROWS/RANGE/GROUPS frames and EXCLUDE over such values, float32, many partitions."""
import pytest

T = ("(VALUES (1, 'a', 'NaN'::DOUBLE), (2, 'b', 1.0), (3, 'a', 2.0), (4, 'b', 'inf'::DOUBLE), "
     "(5, 'c', 5.0), (6, 'c', 1e20), (7, 'c', 1.5), (8, 'c', 0.25), (9, 'd', '-inf'::DOUBLE), "
     "(10, 'd', 'inf'::DOUBLE), (11, 'e', -1e20), (12, 'e', 3.5), (13, 'e', NULL), "
     "(14, 'f', 0.5)) t(x, g, v)")

CASES = [
    ("partition_sums", f"SELECT x, sum(v) OVER (PARTITION BY g) AS s, avg(v) OVER (PARTITION BY g) "
                       f"AS a FROM {T} ORDER BY x"),
    ("running", f"SELECT x, sum(v) OVER (PARTITION BY g ORDER BY x) AS s, avg(v) OVER "
                f"(ORDER BY x) AS a FROM {T} ORDER BY x"),
    ("sliding_rows", f"SELECT x, sum(v) OVER (ORDER BY x ROWS 1 PRECEDING) AS s1, sum(v) OVER "
                     f"(ORDER BY x ROWS BETWEEN 1 FOLLOWING AND 2 FOLLOWING) AS s2, avg(v) OVER "
                     f"(PARTITION BY g ORDER BY x ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) "
                     f"AS a FROM {T} ORDER BY x"),
    ("range_groups", f"SELECT x, sum(v) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) "
                     f"AS r, sum(v) OVER (ORDER BY g GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) AS gr "
                     f"FROM {T} ORDER BY x"),
    ("exclude", f"SELECT x, sum(v) OVER (PARTITION BY g ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING "
                f"AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS s FROM {T} ORDER BY x"),
    ("float32", f"SELECT x, sum(v::REAL) OVER (PARTITION BY g ORDER BY x) AS s FROM {T} "
                f"WHERE abs(v) < 1e10 ORDER BY x"),
    ("filter", f"SELECT x, sum(v) FILTER (WHERE x > 6) OVER (PARTITION BY g) AS s FROM {T} "
               f"ORDER BY x"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_window_float_sums(sql, name, query):
    sql.check(query, ordered=True)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_window_float_sums_many_partitions(sql, threads):
    q = ("SELECT i, sum(CASE WHEN i % 1000 = 0 THEN 1e18 ELSE (i % 7) * 0.5 END) OVER "
         "(PARTITION BY i % 53) AS s, sum((i % 5) * 0.25) OVER (PARTITION BY i % 11 ORDER BY i "
         "ROWS 3 PRECEDING) AS w FROM range(100000) t(i) ORDER BY i")
    sql.check(q, ordered=True, extra=("--threads", threads))
