"""Window frame EXCLUDE (CURRENT ROW / GROUP / TIES / NO OTHERS) over ROWS, RANGE and GROUPS
frames, for the window aggregates and first_value/last_value/nth_value, compared with DuckDB.

The table `w` has partitions, many peers (duplicate order keys) and NULLs in both the order key
and the arguments. `v` is a function of the order key `o`, so even ROWS frames over tied keys
and first/nth_value are deterministic in SQL (peers in any order give the same values); `x` is
independent of `o` and only meets order-insensitive aggregates over peer-closed frames (RANGE,
GROUPS) or unique orders."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import sql_str


def _table():
    n = 300
    p, o, v, x, u, b = [], [], [], [], [], []
    for i in range(n):
        p.append(None if i % 41 == 0 else (i * 7) % 5)
        ok = (i * 13) % 23
        oo = None if i % 19 == 0 else ok
        o.append(oo)
        # v depends on o only (NULL where o is NULL or o % 6 == 4)
        v.append(None if oo is None or oo % 6 == 4 else (oo * 37) % 11 - 4)
        x.append(None if i % 7 == 3 else ((i * 7919) % 1000) / 8.0 - 40)
        u.append(i)  # unique
        b.append(None if i % 11 == 5 else (i % 3 != 0))
    return pa.table({"p": pa.array(p, pa.int32()), "o": pa.array(o, pa.int64()),
                     "v": pa.array(v, pa.int64()), "x": pa.array(x, pa.float64()),
                     "u": pa.array(u, pa.int64()), "b": pa.array(b, pa.bool_())})


@pytest.fixture
def wt(sql, tmp_path):
    path = tmp_path / "w.parquet"
    pq.write_table(_table(), path)
    return f"read_parquet({sql_str(str(path))})"


EXCLUDES = ["EXCLUDE CURRENT ROW", "EXCLUDE GROUP", "EXCLUDE TIES", "EXCLUDE NO OTHERS"]

# frames whose row set does not depend on the order of peers (v depends on o only)
FRAMES_V = [
    "ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
    "ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING",
    "ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING",
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
    "RANGE BETWEEN 2 PRECEDING AND 1 FOLLOWING",
    "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
    "RANGE BETWEEN 3 FOLLOWING AND 5 FOLLOWING",
    "GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
    "GROUPS BETWEEN CURRENT ROW AND CURRENT ROW",
    "GROUPS BETWEEN 2 PRECEDING AND 1 PRECEDING",
]


@pytest.mark.parametrize("frame", FRAMES_V)
def test_exclude_functions_of_order_key(sql, wt, frame):
    """Every supported frame function of v (deterministic whatever the order of peers)."""
    fns = ["sum(v)", "count(v)", "count(*)", "avg(v)", "min(v)", "max(v)", "var_samp(v)",
           "stddev_pop(v)", "first_value(v)", "last_value(v)", "nth_value(v, 2)",
           "nth_value(v, 3)", "sum(v) FILTER (WHERE v > 0)"]
    cols = []
    for k, ex in enumerate(EXCLUDES):
        for j, f in enumerate(fns):
            cols.append(f"{f} OVER (PARTITION BY p ORDER BY o {frame} {ex}) AS c{k}_{j}")
    # rows identical in (p, o) get identical results, so compare (p, o, results) as multisets
    sql.check(f"SELECT p, o, v, {', '.join(cols)} FROM {wt}")


@pytest.mark.parametrize("frame", [f for f in FRAMES_V if not f.startswith("ROWS")] + [
    "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING"])
@pytest.mark.parametrize("ex", EXCLUDES)
def test_exclude_independent_values(sql, wt, frame, ex):
    """Order-insensitive aggregates of a column unrelated to the order key over peer-closed
    frames (their row sets are fixed), with NULLs and a DESC order."""
    fns = ["sum(x)", "count(x)", "avg(x)", "min(x)", "max(x)", "var_pop(x)", "bool_and(b)",
           "bool_or(b)", "count(*) FILTER (WHERE b)"]
    cols = [f"{f} OVER (PARTITION BY p ORDER BY o DESC NULLS FIRST {frame} {ex}) AS c{j}"
            for j, f in enumerate(fns)]
    sql.check(f"SELECT u, {', '.join(cols)} FROM {wt}")


@pytest.mark.parametrize("ex", EXCLUDES)
def test_exclude_rows_unique_order(sql, wt, ex):
    """ROWS frames over a unique order (peers are single rows: GROUP = CURRENT ROW, TIES = none),
    navigation functions included."""
    fns = ["sum(x)", "count(*)", "min(x)", "max(x)", "first_value(x)", "last_value(x)",
           "nth_value(x, 2)", "stddev_samp(x)"]
    cols = [f"{f} OVER (PARTITION BY p ORDER BY u ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING {ex}) "
            f"AS c{j}" for j, f in enumerate(fns)]
    sql.check(f"SELECT u, {', '.join(cols)} FROM {wt}")


def test_exclude_without_order_by(sql, wt):
    """Without ORDER BY the whole partition is one peer group: EXCLUDE GROUP leaves nothing,
    EXCLUDE TIES only the current row."""
    sql.check(f"SELECT u, sum(x) OVER (PARTITION BY p ROWS BETWEEN UNBOUNDED PRECEDING AND "
              f"UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW) AS a, count(*) OVER (PARTITION BY p ROWS "
              f"BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) AS b, "
              f"max(x) OVER (PARTITION BY p GROUPS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED "
              f"FOLLOWING EXCLUDE TIES) AS c FROM {wt}")


def test_exclude_named_window_and_decimal(sql, wt):
    """A named window's frame with EXCLUDE; decimal sums keep their type."""
    sql.check(f"SELECT u, sum(CAST(x AS DECIMAL(12, 3))) OVER w AS s, "
              f"avg(CAST(x AS DECIMAL(12, 3))) OVER w AS a, last_value(u) OVER w AS l FROM {wt} "
              f"WINDOW w AS (ORDER BY u ROWS BETWEEN 3 PRECEDING AND CURRENT ROW "
              f"EXCLUDE CURRENT ROW)")


def test_exclude_small_frames(sql):
    """Hand-checked small cases: one-row partitions, empty frames after exclusion."""
    sql.check("SELECT a, o, sum(o) OVER (PARTITION BY a ORDER BY o ROWS BETWEEN CURRENT ROW AND "
              "CURRENT ROW EXCLUDE CURRENT ROW) AS s, count(*) OVER (PARTITION BY a ORDER BY o "
              "RANGE BETWEEN CURRENT ROW AND CURRENT ROW EXCLUDE TIES) AS c, "
              "first_value(o) OVER (PARTITION BY a ORDER BY o GROUPS BETWEEN CURRENT ROW AND "
              "1 FOLLOWING EXCLUDE GROUP) AS f FROM (VALUES (1, 1), (1, 1), (1, 2), (2, 5), "
              "(3, NULL), (3, NULL)) t(a, o)")


def test_exclude_empty_input(sql, wt):
    sql.check(f"SELECT u, sum(x) OVER (ORDER BY o ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING "
              f"EXCLUDE TIES) AS s FROM {wt} WHERE u < 0")


def test_exclude_ranking_unaffected(sql, wt):
    """row_number/rank/lag/lead ignore frames and EXCLUDE."""
    sql.check(f"SELECT u, row_number() OVER w AS rn, rank() OVER w AS r, lag(u) OVER w AS l, "
              f"lead(u, 2) OVER w AS ld FROM {wt} WINDOW w AS (PARTITION BY p ORDER BY u "
              f"ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW)")


def test_exclude_needs_frame(sql):
    """EXCLUDE without a frame is a syntax error in both engines (position of EXCLUDE)."""
    err = sql.error(["SELECT sum(a) OVER (ORDER BY a EXCLUDE CURRENT ROW) FROM (VALUES (1)) t(a)"],
                    "syntax error", "exclude")
    assert "^" in err
