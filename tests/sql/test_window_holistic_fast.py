"""Holistic window aggregates (median, quantile_cont, quantile_disc, DISTINCT aggregates) over
running, sliding and arbitrary frames on inputs big enough that reading every row's frame was
refused (more than 2^26 frame rows), compared with DuckDB.

The table has partitions (one NULL), an order key `o` with ties and NULLs, a unique `u`, and
values with ties, NULLs, NaN and -0.0 (`x`; `y` the same without NaN: DuckDB 1.x fails with
"std::exception" on NaN in frames that drop rows, so NaN meets running frames only here and
every frame in tests/unit/exec/test_window_fast.c against the reference), DECIMAL (`d`), integers (`i`), strings (`s`) and
dates (`dt`). ROWS frames order by (o, u) so their row sets are the same in both engines; RANGE
and GROUPS frames are closed over peers."""
import math
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import sql_str

N = 24000


def _table(n=N, seed=7):
    rnd = random.Random(seed)
    p, o, u, x, d, i, s, b, dt = [], [], [], [], [], [], [], [], []
    for k in range(n):
        p.append(None if rnd.random() < 0.02 else rnd.randrange(3))
        o.append(None if rnd.random() < 0.03 else rnd.randrange(n // 4))
        u.append(k)
        r = rnd.random()
        if r < 0.08:
            x.append(None)
        elif r < 0.09:
            x.append(math.nan)
        elif r < 0.10:
            x.append(-0.0)
        else:
            x.append(rnd.randrange(-400, 400) / 4)
        d.append(None if rnd.random() < 0.05 else rnd.randrange(-10**6, 10**6))
        i.append(None if rnd.random() < 0.05 else rnd.randrange(-50, 50))
        s.append(None if rnd.random() < 0.05 else f"s{rnd.randrange(300):03d}")
        b.append(None if rnd.random() < 0.05 else rnd.random() < 0.7)
        dt.append(None if rnd.random() < 0.05 else rnd.randrange(18000, 19000))
    import decimal
    return pa.table({
        "p": pa.array(p, pa.int32()), "o": pa.array(o, pa.int64()), "u": pa.array(u, pa.int64()),
        "x": pa.array(x, pa.float64()),
        "y": pa.array([None if v is not None and math.isnan(v) else v for v in x], pa.float64()),
        "d": pa.array([None if v is None else decimal.Decimal(v).scaleb(-2) for v in d],
                      pa.decimal128(12, 2)),
        "i": pa.array(i, pa.int64()), "s": pa.array(s, pa.string()), "b": pa.array(b, pa.bool_()),
        "dt": pa.array(dt, pa.date32())})


@pytest.fixture(scope="module")
def table_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("hol") / "w.parquet"
    pq.write_table(_table(), path)
    return str(path)


@pytest.fixture
def wt(table_path):
    return f"read_parquet({sql_str(table_path)})"


QFNS = ["median(x)", "quantile_cont(x, 0.25)", "quantile_disc(x, 0.9)", "median(d)",
        "quantile_cont(d, 0.75)", "quantile_disc(s, 0.5)", "quantile_disc(i, 0.1)",
        "median(i)", "median(x) FILTER (WHERE b)", "quantile_disc(dt, 0.5)"]


def test_running_default_frame(sql, wt):
    """The default frame with ORDER BY (RANGE UNBOUNDED PRECEDING .. CURRENT ROW, peers
    included): ~N^2/6 frame rows in all, refused before."""
    cols = ", ".join(f"{f} OVER (PARTITION BY p ORDER BY o) AS c{k}" for k, f in enumerate(QFNS))
    sql.check(f"SELECT u, {cols} FROM {wt}")


FRAMES = [
    # ROWS: a unique order
    ("ORDER BY o, u", "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"),
    ("ORDER BY o, u", "ROWS BETWEEN 99 PRECEDING AND CURRENT ROW"),
    ("ORDER BY o DESC, u", "ROWS BETWEEN 500 PRECEDING AND 300 FOLLOWING"),
    ("ORDER BY o, u", "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"),
    ("ORDER BY o, u", "ROWS BETWEEN 40 FOLLOWING AND 2000 FOLLOWING"),
    ("ORDER BY o, u", "ROWS BETWEEN 3000 PRECEDING AND 7 PRECEDING EXCLUDE CURRENT ROW"),
    ("ORDER BY o NULLS FIRST, u", "ROWS BETWEEN 200 PRECEDING AND 200 FOLLOWING EXCLUDE CURRENT ROW"),
    # RANGE: peers, offsets on the order key, NULL keys
    ("ORDER BY o", "RANGE BETWEEN 100 PRECEDING AND CURRENT ROW"),
    ("ORDER BY o DESC", "RANGE BETWEEN 50 PRECEDING AND 80 FOLLOWING EXCLUDE GROUP"),
    ("ORDER BY o", "RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING EXCLUDE TIES"),
    ("ORDER BY o", "RANGE BETWEEN UNBOUNDED PRECEDING AND 10 PRECEDING"),
    # GROUPS
    ("ORDER BY o", "GROUPS BETWEEN 60 PRECEDING AND 2 FOLLOWING"),
    ("ORDER BY o", "GROUPS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP"),
    ("ORDER BY o DESC", "GROUPS BETWEEN 5 FOLLOWING AND 400 FOLLOWING EXCLUDE TIES"),
]


@pytest.mark.parametrize("order,frame", FRAMES, ids=[f"{o}|{f}" for o, f in FRAMES])
def test_quantiles_frames(sql, wt, order, frame):
    """Every quantile over every frame kind (EXCLUDE included), partitioned."""
    cols = ", ".join(f"{f.replace('(x', '(y')} OVER (PARTITION BY p {order} {frame}) AS c{k}"
                     for k, f in enumerate(QFNS))
    sql.check(f"SELECT u, {cols} FROM {wt}")


def test_no_partition_whole_and_running(sql, wt):
    """One partition of N rows: running and whole-partition frames."""
    sql.check(f"SELECT u, median(x) OVER (ORDER BY u) AS a, "
              f"quantile_disc(s, 0.3) OVER (ORDER BY o ROWS BETWEEN UNBOUNDED PRECEDING AND "
              f"UNBOUNDED FOLLOWING) AS b, median(d) OVER () AS c FROM {wt}")


def test_rolling_median_ticks(sql, tmp_path):
    """A quant's rolling median: 100 rows per symbol over 700K ticks in 70 symbols (70M frame
    rows in all)."""
    n, syms = 700_000, 70
    rnd = random.Random(3)
    sym = [rnd.randrange(syms) for _ in range(n)]
    price = [round(100 + rnd.gauss(0, 5), 2) for _ in range(n)]
    t = pa.table({"sym": pa.array(sym, pa.int32()), "ts": pa.array(range(n), pa.int64()),
                  "price": pa.array(price, pa.float64())})
    path = tmp_path / "ticks.parquet"
    pq.write_table(t, path)
    src = f"read_parquet({sql_str(str(path))})"
    sql.check(f"SELECT sym, ts, median(price) OVER (PARTITION BY sym ORDER BY ts ROWS BETWEEN 99 "
              f"PRECEDING AND CURRENT ROW) AS m FROM {src}")


DFNS = ["count(DISTINCT i)", "count(DISTINCT s)", "sum(DISTINCT i)", "avg(DISTINCT d)",
        "sum(DISTINCT d)", "count(DISTINCT y)", "sum(DISTINCT y)", "var_pop(DISTINCT i)",
        "stddev_samp(DISTINCT y)", "min(DISTINCT s)", "max(DISTINCT y)",
        "count(DISTINCT i) FILTER (WHERE b)", "bool_or(DISTINCT b)"]
DFRAMES = [f for f in FRAMES if "EXCLUDE" not in f[1]] + [
    ("ORDER BY o", "RANGE BETWEEN 50 PRECEDING AND 80 FOLLOWING EXCLUDE GROUP")]


@pytest.mark.parametrize("order,frame", DFRAMES, ids=[f"{o}|{f}" for o, f in DFRAMES])
def test_distinct_frames(sql, wt, order, frame):
    """DISTINCT aggregates over sliding and arbitrary frames (min/max/bool_* also with
    EXCLUDE: DISTINCT does not change them)."""
    fns = [f for f in DFNS if "EXCLUDE" not in frame or f.startswith(("min", "max", "bool"))]
    cols = ", ".join(f"{f} OVER (PARTITION BY p {order} {frame}) AS c{k}"
                     for k, f in enumerate(fns))
    sql.check(f"SELECT u, {cols} FROM {wt}")


def test_distinct_exclude_refused(sql, wt):
    r = sql.polaroid([f"SELECT count(DISTINCT i) OVER (ORDER BY u ROWS BETWEEN 2 PRECEDING AND "
                      f"2 FOLLOWING EXCLUDE CURRENT ROW) FROM {wt}"], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "count(DISTINCT ...) OVER (...) with a frame EXCLUDE is not supported" in err, err


ARGS = ["arg_min(s, (u * 7919) % 24007)", "arg_max(d, (u * 104729) % 24007)",
        "arg_max(y, (u * 31) % 24007) FILTER (WHERE b)"]


@pytest.mark.parametrize("order,frame", FRAMES[:3] + FRAMES[7:9] + FRAMES[11:13],
                         ids=[f"{o}|{f}" for o, f in FRAMES[:3] + FRAMES[7:9] + FRAMES[11:13]])
def test_arg_min_max_frames(sql, wt, order, frame):
    """arg_min/arg_max by a segment tree over the key's ranks (keys unique: DuckDB breaks ties
    its own way)."""
    cols = ", ".join(f"{f} OVER (PARTITION BY p {order} {frame}) AS c{k}"
                     for k, f in enumerate(ARGS))
    sql.check(f"SELECT u, {cols} FROM {wt}")


# unique orders: ties of mode go to the value seen first, which over peers depends on the
# order of peers (input order here, another in DuckDB)
MODE_FRAMES = [FRAMES[0], FRAMES[1], FRAMES[3], ("ORDER BY u", "RANGE BETWEEN 300 PRECEDING AND 9 FOLLOWING"),
               ("ORDER BY u DESC", "GROUPS BETWEEN 60 PRECEDING AND 2 FOLLOWING")]


@pytest.mark.parametrize("order,frame", MODE_FRAMES, ids=[f"{o}|{f}" for o, f in MODE_FRAMES])
def test_mode_frames(sql, wt, order, frame):
    """mode by a moving frame (ties: the value whose first row in the frame comes first)."""
    sql.check(f"SELECT u, mode(i % 7) OVER (PARTITION BY p {order} {frame}) AS a, "
              f"mode(s) OVER (PARTITION BY p {order} {frame}) AS b FROM {wt}")
