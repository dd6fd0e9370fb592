"""DISTINCT aggregates as window functions (count/sum/avg/min/max/variances/bool_and(DISTINCT x)
OVER (...)) over frames that start at the partition's start: the whole partition, the default
running frame with its peers, explicit ROWS/RANGE/GROUPS frames from UNBOUNDED PRECEDING, with
FILTER, NULLs, NaN, long strings, dictionary-encoded Parquet columns and many partitions on one
and two threads, compared with DuckDB; sliding frames (distinct_sweep). EXCLUDE is refused with
a message."""
import pytest

T = ("(VALUES (1, 'a', 10.5, 'a long string value number one'), (2, 'b', NULL, 'short'), "
     "(3, 'a', 10.5, 'a long string value number one'), (4, NULL, 1.0, NULL), "
     "(5, 'b', 2.0, 'a long string value number two'), (6, 'a', 7.0, 'short'), "
     "(7, 'b', 2.0, 'a long string value number one'), (8, 'a', 'NaN'::DOUBLE, 'short'), "
     "(9, 'a', 'NaN'::DOUBLE, NULL), (10, 'b', -0.0, 'short'), (11, 'b', 0.0, 'x')) t(x, g, v, s)")

CASES = [
    ("whole", f"SELECT x, count(DISTINCT g) OVER () AS c, count(DISTINCT v) OVER (PARTITION BY g) "
              f"AS cv, count(DISTINCT s) OVER (PARTITION BY g) AS cs FROM {T} ORDER BY x"),
    ("running", f"SELECT x, count(DISTINCT s) OVER (ORDER BY x) AS c, sum(DISTINCT v) OVER "
                f"(PARTITION BY g ORDER BY x) AS sv, avg(DISTINCT x % 3) OVER (ORDER BY x) AS a "
                f"FROM {T} ORDER BY x"),
    ("peers", f"SELECT x, count(DISTINCT x) OVER (ORDER BY g) AS c, "
              f"count(DISTINCT s) OVER (PARTITION BY x % 2 ORDER BY g) AS cs FROM {T} ORDER BY x"),
    ("explicit_frames", f"SELECT x, count(DISTINCT s) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED "
                        f"PRECEDING AND 1 PRECEDING) AS r1, count(DISTINCT g) OVER (ORDER BY x "
                        f"ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING) AS r2, "
                        f"sum(DISTINCT x % 4) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING "
                        f"AND 3 FOLLOWING) AS r3, count(DISTINCT v) OVER (ORDER BY g GROUPS "
                        f"BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS r4 "
                        f"FROM {T} ORDER BY x"),
    ("min_max_var", f"SELECT x, min(DISTINCT s) OVER (PARTITION BY g) AS mi, max(DISTINCT x % 3) "
                    f"OVER (ORDER BY x) AS ma, var_pop(DISTINCT x % 4) OVER (PARTITION BY g) AS vp, "
                    f"stddev_samp(DISTINCT x % 5) OVER (ORDER BY x) AS sd FROM {T} ORDER BY x"),
    ("bool", f"SELECT x, bool_or(DISTINCT x > 5) OVER (ORDER BY x) AS b, bool_and(DISTINCT x < 9) "
             f"OVER (PARTITION BY g) AS a FROM {T} ORDER BY x"),
    ("filter", f"SELECT x, count(DISTINCT s) FILTER (WHERE x > 2) OVER (ORDER BY x) AS c, "
               f"sum(DISTINCT x % 3) FILTER (WHERE g = 'a') OVER () AS s3 FROM {T} ORDER BY x"),
    ("mixed", f"SELECT x, count(s) OVER w AS c, count(DISTINCT s) OVER w AS cd, "
              f"sum(x) OVER w AS sx, sum(DISTINCT x % 2) OVER w AS sd FROM {T} "
              f"WINDOW w AS (PARTITION BY g ORDER BY x) ORDER BY x"),
    ("nulls_only", f"SELECT x, count(DISTINCT NULL::INT) OVER () AS c, sum(DISTINCT "
                   f"CASE WHEN x > 100 THEN x END) OVER (ORDER BY x) AS s FROM {T} ORDER BY x"),
    ("qualify", f"SELECT x, g FROM {T} QUALIFY count(DISTINCT s) OVER (PARTITION BY g) > 2 "
                f"ORDER BY x"),
    ("empty", f"SELECT x, count(DISTINCT s) OVER (ORDER BY x) AS c FROM {T} WHERE false"),
    ("events_dictionary", "SELECT eid, count(DISTINCT kind) OVER (PARTITION BY person_id ORDER BY "
                          "ts) AS k, count(DISTINCT person_id) OVER (PARTITION BY kind) AS p, "
                          "sum(DISTINCT value) OVER (PARTITION BY person_id) AS v FROM {events} "
                          "ORDER BY eid"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_window_distinct(sql, name, query):
    sql.check(query, ordered=query.rstrip().endswith(("ORDER BY x", "ORDER BY eid")))


@pytest.mark.parametrize("threads", ["1", "2"])
def test_window_distinct_threads(sql, threads):
    """Many partitions and a long input, one and two threads."""
    q = ("SELECT i, count(DISTINCT i % 13) OVER (PARTITION BY i % 37 ORDER BY i) AS c, "
         "count(DISTINCT (i * 7) % 101) OVER (PARTITION BY i % 5) AS d, "
         "sum(DISTINCT i % 97) OVER (ORDER BY i % 211) AS s FROM range(200000) t(i) ORDER BY i")
    sql.check(q, ordered=True, extra=("--threads", threads))


@pytest.mark.parametrize("frame", [
    "ORDER BY x ROWS BETWEEN 1 PRECEDING AND CURRENT ROW",
    "ORDER BY x ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
    "ORDER BY g RANGE BETWEEN CURRENT ROW AND CURRENT ROW",
])
def test_window_distinct_sliding_frames(sql, frame):
    """Frames that do not start at the partition's start (window_eval.c distinct_sweep)."""
    sql.check(f"SELECT x, count(DISTINCT s) OVER ({frame}) AS c, sum(DISTINCT v) OVER ({frame}) "
              f"AS sv FROM {T} ORDER BY x", ordered=True)


def test_window_distinct_refused_exclude(sql):
    """EXCLUDE with DISTINCT is refused with a message (DuckDB computes it)."""
    frame = "ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW"
    r = sql.polaroid([f"SELECT x, count(DISTINCT s) OVER ({frame}) AS c FROM {T}"], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    assert "count(DISTINCT ...) OVER (...) with a frame EXCLUDE is not supported" in err, err


def test_window_distinct_refused_functions(sql):
    r = sql.polaroid([f"SELECT x, first_value(DISTINCT s) OVER (ORDER BY x) AS c FROM {T}"],
                     fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    assert "DISTINCT" in err, err
