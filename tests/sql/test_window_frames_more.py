"""Window forms of string_agg, median, quantile_cont/disc, arg_min/arg_max (min_by/max_by),
list, mode, product, fsum, skewness, kurtosis, kurtosis_pop, entropy and bit_and/or/xor
(window_eval.c eval_frames: each row's frame read, equal frames reused) against DuckDB: default
frames with and without ORDER BY, ROWS / RANGE / GROUPS frames with offsets, EXCLUDE, PARTITION
BY, FILTER, NULL arguments and keys, empty frames (NULL), NaN; the cap on the frames' total
size is an error, not a long run."""
import pytest

T = ("(SELECT * FROM (VALUES "
     "(1, 'a', 'p', 1.5::DOUBLE, 10), (2, 'a', 'q', NULL, 7), (3, 'a', NULL, 4.0, 7), "
     "(4, 'a', 'r', -2.0, 3), (5, 'b', 's', 8.0, NULL), (6, 'b', 'p', 8.0, 1), "
     "(7, 'b', 't', 0.5, 12), (8, 'c', NULL, NULL, NULL), (9, 'd', 'u', 'nan'::DOUBLE, 5), "
     "(10, 'd', 'u', 2.0, 6), (11, 'd', 'v', 3.0, 6), (12, 'd', 'w', 3.0, 9)) t(k, g, s, x, i))")

CASES = [
    ("string_agg_running", f"SELECT k, string_agg(s, '-') OVER (ORDER BY k) AS a, "
                           f"string_agg(s) OVER (PARTITION BY g) AS b FROM {T}"),
    ("string_agg_rows", f"SELECT k, string_agg(s, '') OVER (ORDER BY k ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) AS a, "
                        f"string_agg(s, '|') OVER (PARTITION BY g ORDER BY k ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) AS b "
                        f"FROM {T}"),
    ("median_frames", f"SELECT k, median(x) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS a, "
                      f"median(i) OVER (PARTITION BY g) AS b, median(x) OVER (ORDER BY i RANGE BETWEEN 2 PRECEDING "
                      f"AND 2 FOLLOWING) AS c FROM {T}"),
    ("quantiles", f"SELECT k, quantile_cont(i, 0.25) OVER (ORDER BY k) AS a, quantile_disc(i, 0.75) OVER (PARTITION BY g) AS b, "
                  f"quantile_disc(s, 0.5) OVER (ORDER BY k ROWS 3 PRECEDING) AS c, "
                  f"quantile_cont(x, 0.9) OVER (ORDER BY k GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) AS d FROM {T}"),
    ("arg_min_max", f"SELECT k, arg_max(s, i) OVER (ORDER BY k) AS a, arg_min(k, x) OVER (PARTITION BY g) AS b, "
                    f"max_by(g, x) OVER (ORDER BY k ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS c, "
                    f"min_by(x, s) OVER () AS d FROM {T}"),
    ("list", f"SELECT k, list(s) OVER (ORDER BY k ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS a, "
             f"array_agg(i) OVER (PARTITION BY g ORDER BY k) AS b FROM {T}"),
    ("mode", f"SELECT k, mode(g) OVER (ORDER BY k ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS a FROM {T} "
             f"WHERE k IN (1, 2, 3, 5, 9, 10, 11)"),
    ("numeric", f"SELECT k, product(i) OVER (ORDER BY k ROWS 2 PRECEDING) AS p, fsum(x) OVER (PARTITION BY g ORDER BY k) AS f, "
                f"entropy(i) OVER (ORDER BY k) AS e, bit_or(i) OVER (ORDER BY k) AS bo, "
                f"bit_xor(i) OVER (PARTITION BY g) AS bx, bit_and(i) OVER (ORDER BY k ROWS 1 PRECEDING) AS ba FROM {T}"),
    ("moments", f"SELECT k, skewness(i) OVER (ORDER BY k) AS s, kurtosis(i) OVER (ORDER BY k) AS ku, "
                f"kurtosis_pop(i) OVER (ORDER BY k ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS kp FROM {T}"),
    ("exclude", f"SELECT k, string_agg(s) OVER (ORDER BY k ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW) AS a, "
                f"median(i) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS b, "
                f"list(k) OVER (ORDER BY i RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE TIES) AS c FROM {T}"),
    ("filter", f"SELECT k, string_agg(s) FILTER (WHERE k % 2 = 0) OVER (ORDER BY k) AS a, "
               f"median(x) FILTER (WHERE k > 100) OVER () AS b, list(s) FILTER (WHERE k > 10) OVER (ORDER BY k) AS c, "
               f"arg_max(k, i) FILTER (WHERE i < 8) OVER (PARTITION BY g) AS d FROM {T}"),
    ("empty_frames", f"SELECT k, string_agg(s) OVER (ORDER BY k ROWS BETWEEN 3 FOLLOWING AND 2 FOLLOWING) AS a, "
                     f"median(x) OVER (ORDER BY k ROWS BETWEEN 5 FOLLOWING AND 8 FOLLOWING) AS b, "
                     f"product(i) OVER (ORDER BY k ROWS BETWEEN 10 FOLLOWING AND 12 FOLLOWING) AS c FROM {T}"),
    ("qualify", f"SELECT k, g FROM {T} QUALIFY median(i) OVER (PARTITION BY g) > 6"),
    ("grouped", f"SELECT g, sum(i) AS si, string_agg(g, ',') OVER (ORDER BY g) AS a, "
                f"median(sum(i)) OVER () AS m FROM {T} GROUP BY g"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_window_frames_more(sql, name, query):
    sql.check(query)


def test_window_frames_many_partitions(sql):
    q = ("SELECT i, median(v) OVER (PARTITION BY i % 1000 ORDER BY i ROWS BETWEEN 3 PRECEDING AND 3 FOLLOWING) AS m, "
         "string_agg(v::VARCHAR, ',') OVER (PARTITION BY i % 1000 ORDER BY i ROWS 2 PRECEDING) AS s, "
         "arg_max(i, v) OVER (PARTITION BY i % 1000) AS a "
         "FROM (SELECT i, (i * 7919) % 101 AS v FROM range(50000) t(i))")
    sql.check(q)


def test_window_frames_cap(sql):
    """A running string_agg over one huge partition (its output grows with the square of the
    partition): refused with a message instead of hours. A running median is indexed."""
    r = sql.polaroid(["SELECT string_agg(i::VARCHAR, ',') OVER (ORDER BY i) FROM range(20000) t(i)"],
                     fmt="csv")
    assert r.returncode == 1
    assert b"smaller frame" in r.stderr and b"every result holds its frame's values" in r.stderr
    sql.check("SELECT i, median(i) OVER (ORDER BY i) AS m FROM range(20000) t(i)")


def test_window_string_agg_separator_column(sql):
    r = sql.polaroid(["SELECT string_agg(s, s) OVER () FROM (VALUES ('a')) t(s)"], fmt="csv")
    assert r.returncode == 1
    assert b"separator" in r.stderr
