"""Comparison helpers for the server tests: results against DuckDB/pyarrow references."""

from __future__ import annotations

import math
import os
import time
from typing import Any, List, Optional, Sequence

import duckdb
import numpy as np
import pyarrow as pa


def duck(query: str, root: Any) -> pa.Table:
    """Runs query in DuckDB with the working directory at the data root (so relative paths in
    read_parquet('...') resolve like polaroid's)."""
    con = duckdb.connect()
    con.execute(f"SET file_search_path = '{root}'")
    return con.sql(query).to_arrow_table()


def _norm(v: Any) -> Any:
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        return round(v, 6) if abs(v) < 1e12 else v
    if hasattr(v, "as_tuple") and not isinstance(v, tuple):  # Decimal
        return round(float(v), 6)
    return v


def _key(row: tuple) -> tuple:
    return tuple((v is None, "" if v is None else (str(type(v)), v)) for v in row)


def rows(t: pa.Table) -> List[tuple]:
    cols = [t.column(i).to_pylist() for i in range(t.num_columns)]
    return [tuple(_norm(c[r]) for c in cols) for r in range(t.num_rows)]


def _close(a: Any, b: Any, rel: float) -> bool:
    if isinstance(a, float) and isinstance(b, (float, int)) or isinstance(b, float) and isinstance(a, (float, int)):
        if a == b:
            return True
        return abs(float(a) - float(b)) <= rel * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def assert_same(got: pa.Table, expected: pa.Table, *, sort: bool = False, names: bool = True,
                rel: float = 1e-9) -> None:
    """Same column names (unless names=False), same rows (in order, or as multisets with
    sort=True); floats compared with a relative tolerance."""
    if names:
        assert got.column_names == expected.column_names, (got.column_names, expected.column_names)
    assert got.num_rows == expected.num_rows, f"rows: got {got.num_rows}, expected {expected.num_rows}"
    assert got.num_columns == expected.num_columns
    gr, er = rows(got), rows(expected)
    if sort:
        gr.sort(key=_key)
        er.sort(key=_key)
    for i, (a, b) in enumerate(zip(gr, er)):
        if a != b:
            assert all(_close(x, y, rel) for x, y in zip(a, b)), f"row {i}: got {a}, expected {b}"


def proc_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / ticks


def wait_idle(pid: int, *, window: float = 0.5, max_cpu: float = 0.15, timeout: float = 15.0) -> float:
    """Waits until the process uses less than max_cpu CPU-seconds per window second; returns how
    long that took (AssertionError after timeout)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        c0 = proc_cpu_seconds(pid)
        time.sleep(window)
        if (proc_cpu_seconds(pid) - c0) / window < max_cpu:
            return time.monotonic() - t0
    raise AssertionError(f"process {pid} still busy {timeout} s later")


def scrape(address: str, timeout: float = 2.0):
    """The Prometheus text of http://address/metrics as {name{labels}: value}, or None when
    nothing answers there."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as r:
            text = r.read().decode()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        try:
            out[key] = float(val)
        except ValueError:
            pass
    return out


def wait_metric(address: str, name: str, want: float, timeout: float = 5.0):
    """Waits until metric name equals want; returns its last value (None: no endpoint)."""
    deadline = time.monotonic() + timeout
    v = None
    while time.monotonic() < deadline:
        m = scrape(address)
        if m is None:
            return None
        v = m.get(name)
        if v == want:
            return v
        time.sleep(0.05)
    return v


def same_values(got: pa.Table, want: pa.Table) -> bool:
    """Equal schemas and values in order, NULLs in the same places, NaN equal to NaN."""
    if got.schema != want.schema or got.num_rows != want.num_rows:
        return False
    for g, w in zip(got.columns, want.columns):
        g, w = g.combine_chunks(), w.combine_chunks()
        if not g.is_null().equals(w.is_null()):
            return False
        if pa.types.is_floating(g.type):
            if not np.array_equal(g.fill_null(0).to_numpy(), w.fill_null(0).to_numpy(),
                                  equal_nan=True):
                return False
        elif not g.equals(w):
            return False
    return True
