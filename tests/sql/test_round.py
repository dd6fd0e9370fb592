"""round(double, d) against DuckDB, value for value: half away from zero of the double's exact
binary value (round(592.05, 1) = 592.0 because 592.05 is 592.0499..., round(0.125, 2) = 0.13
because 0.125 is an exact half), for constant and per-row digits, negative digits, float32,
and edge values (0, -0.0, infinities, NaN, the largest and smallest doubles)."""
import math
import random
import struct

import pyarrow as pa
import pyarrow.parquet as pq
import pytest


def _values():
    rnd = random.Random(20261127)
    vs = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, 2.5, -2.5, 0.5, -0.5,
          592.05, 0.125, 1.005, 0.285, 2.675, 5.015, 1234.5, -1234.5, 0.1 + 0.2, 1e15 + 0.5,
          4503599627370495.5, 9007199254740993.0]
    for _ in range(3000):
        k = rnd.randint(-10 ** 7, 10 ** 7)
        vs.append(k / 10 ** rnd.randint(0, 7))          # decimal-looking values
        vs.append((k + 0.5) / 10 ** rnd.randint(0, 5))  # near halves at some digit
        bits = rnd.getrandbits(64)
        x = struct.unpack("<d", struct.pack("<Q", bits))[0]
        if math.isfinite(x) and abs(x) < 1e30 and abs(x) > 1e-30:
            vs.append(x)
    return vs


@pytest.fixture(scope="module")
def rounds(tmp_path_factory):
    p = tmp_path_factory.mktemp("round") / "v.parquet"
    pq.write_table(pa.table({"i": pa.array(range(len(_values())), pa.int64()),
                             "v": pa.array(_values(), pa.float64())}), p)
    return str(p)


def _same(a, b):
    return (math.isnan(a) and math.isnan(b)) if isinstance(a, float) and math.isnan(a) else (
        a == b and math.copysign(1, a) == math.copysign(1, b) if isinstance(a, float) and a == 0
        else a == b)


def _check(sql, query):
    exp = sql.duckdb([query])
    r = sql.polaroid([query])
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert got.num_rows == exp.num_rows
    bad = []
    for e, g in zip(exp.to_pylist(), got.to_pylist()):
        for k in e:
            if not (e[k] is None and g[k] is None) and not (e[k] is not None and g[k] is not None
                                                          and _same(float(e[k]), float(g[k]))):
                bad.append((e, g))
                break
    assert not bad, f"{len(bad)} rows differ, e.g. {bad[:5]}"


# Negative digits: DuckDB divides first and rounds the quotient, which above 2^52 is itself
# rounded (round(40690004970957304, -1) gives ...310 there, ...300 here, the exact answer), so
# those cases compare values below 1e15.
NEG = "abs(v) < 1e15 OR NOT isfinite(v)"


@pytest.mark.parametrize("digits", [0, 1, 2, 3, 6, 10, 15, 20, 25, -1, -2, -5, -20])
def test_round_constant_digits(sql, rounds, digits):
    where = f"WHERE {NEG}" if digits < 0 else ""
    _check(sql, f"SELECT i, v, round(v, {digits}) AS r FROM read_parquet('{rounds}') {where} "
                f"ORDER BY i")


def test_round_digits_per_row(sql, rounds):
    """Digits from a column (DuckDB wants a constant: the reference spells each one out)."""
    src = f"read_parquet('{rounds}'), range(-4, 13) t(d) WHERE {NEG}"
    case = " ".join(f"WHEN {d} THEN round(v, {d})" for d in range(-4, 13))
    exp = sql.duckdb([f"SELECT i, d, CASE d {case} END AS r FROM {src} ORDER BY i, d"])
    r = sql.polaroid([f"SELECT i, d, round(v, d) AS r FROM {src} ORDER BY i, d"])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert got.num_rows == exp.num_rows > 100000
    bad = [(e, g) for e, g in zip(exp.to_pylist(), got.to_pylist())
           if not (e["r"] is None and g["r"] is None) and not _same(e["r"], g["r"])]
    assert not bad, f"{len(bad)} rows differ, e.g. {bad[:5]}"


def test_round_float32(sql, rounds):
    _check(sql, f"SELECT i, round(v::REAL, 2) AS r, round(v::REAL, -1) AS n FROM "
                f"read_parquet('{rounds}') WHERE abs(v) < 1e15 ORDER BY i")
