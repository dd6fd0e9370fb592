#!/usr/bin/env python3
"""Compares query results of different engines (bench/run.py's verification, tests/diff).

Results are compared by position (column names are not compared: engines name expressions
differently) after normalising types to a few kinds:

  i  integers of any width, booleans, decimals of scale 0 (DuckDB's HUGEINT sums)  -> int64
     (values beyond int64 as float64)
  f  float32/float64, decimals with a scale                                         -> float64
  s  strings of any layout (utf8, large_utf8, string_view, dictionary-encoded)
  t  timestamps of any unit, zoned or not (as UTC microseconds); d dates (days); T times (us)
  b  binary;  n  the null type (a column of only NULLs matches any kind)
  other types (lists, structs, intervals, ...) compare by their string rendering

An integer column matches a float column numerically. Doubles match when
|a - b| <= atol + rtol * max(|a|, |b|), NaN matches NaN, NULL matches only NULL. Without
`ordered`, both results are sorted first (non-float columns first, then float ones), so they are
compared as multisets.

  compare.py [--rtol R] [--atol A] [--ordered] REF_FILE FILE...
  prints one line per FILE: "ok" or "MISMATCH: <first difference>"; exit 1 on a mismatch.
Files are Parquet or Arrow IPC (file or stream format), told apart by their first bytes.
"""
import argparse
import sys

RTOL = 1e-6
ATOL = 1e-9


def read_result(path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] == b"PAR1":
        return pq.read_table(path)
    if head[:6] == b"ARROW1":
        with pa.ipc.open_file(path) as r:
            return r.read_all()
    if not head:
        raise ValueError(f"{path}: empty output")
    with pa.OSFile(path) as src:
        return pa.ipc.open_stream(src).read_all()


def _kind(t):
    import pyarrow as pa
    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_null(t):
        return "n"
    if pa.types.is_boolean(t) or pa.types.is_integer(t):
        return "i"
    if pa.types.is_decimal(t):
        return "i" if t.scale == 0 else "f"
    if pa.types.is_floating(t):
        return "f"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or \
            (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(t)):
        return "s"
    if pa.types.is_timestamp(t):
        return "t"
    if pa.types.is_date(t):
        return "d"
    if pa.types.is_time(t):
        return "T"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "b"
    return "o"


def _canon_column(col):
    """(kind, pyarrow array of the canonical type) for one column (ChunkedArray or Array)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    k = _kind(t)
    if k == "n":
        return k, col
    if k == "i":
        if pa.types.is_boolean(t):
            return k, pc.cast(col, pa.int64())
        if pa.types.is_decimal(t) or pa.types.is_uint64(t):
            try:
                return k, pc.cast(col, pa.int64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                return "f", pc.cast(col, pa.float64(), safe=False)
        return k, pc.cast(col, pa.int64())
    if k == "f":
        return k, pc.cast(col, pa.float64(), safe=False)
    if k == "s":
        return k, pc.cast(col, pa.large_string())
    if k == "t":
        if t.tz is not None:
            col = pc.cast(col, pa.timestamp(t.unit))  # the UTC instants
        return k, pc.cast(pc.cast(col, pa.timestamp("us"), safe=False), pa.int64())
    if k == "d":
        return k, pc.cast(pc.cast(col, pa.date32()), pa.int32()).cast(pa.int64())
    if k == "T":
        return k, pc.cast(pc.cast(col, pa.time64("us"), safe=False), pa.int64())
    if k == "b":
        return k, pc.cast(col, pa.large_binary())
    return k, pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.large_string())


def canon_table(t):
    """List of (kind, array) per column."""
    return [_canon_column(t.column(i)) for i in range(t.num_columns)]


def _dense_rank(arr):
    """Dense rank (0-based) of each value, NULLs last: hash the values (dictionary_encode),
    sort only the distinct ones."""
    import numpy as np
    import pyarrow.compute as pc
    enc = pc.dictionary_encode(arr)
    d = enc.dictionary
    if len(d) == 0:
        return np.zeros(len(arr), dtype=np.int64)
    order = np.asarray(pc.sort_indices(d))  # NaN last, as any consistent order will do
    rank_of = np.empty(len(d) + 1, dtype=np.int64)
    rank_of[order] = np.arange(len(d))
    rank_of[len(d)] = len(d)  # NULL
    codes = np.asarray(pc.fill_null(enc.indices, len(d)), dtype=np.int64)
    return rank_of[codes]


def _round_sig(x, digits=9):
    """x rounded to `digits` significant digits (NaN and infinities kept): as a sort key, doubles
    that match within the tolerance (e.g. -18.71 and -18.710000000000036 from a different
    evaluation order) sort as equal, so the next columns decide and the rows line up."""
    import numpy as np
    out = x.copy()
    fin = np.isfinite(x) & (x != 0)
    v = x[fin]
    scale = np.power(10.0, digits - 1 - np.floor(np.log10(np.abs(v))))
    out[fin] = np.round(v * scale) / scale
    return out


def _sort(cols):
    """Sorts the rows (non-float columns first, then float ones). Each non-float column becomes
    its dense rank; the ranks are combined into one int64 key while the product of the
    cardinalities fits; numpy's lexsort then orders by that key and the doubles rounded to 9
    significant digits (NULLs after every value). Far faster than a multi-key sort of string columns."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    if not cols or len(cols[0][1]) <= 1:
        return cols
    keys = []  # least significant last (reversed for lexsort)
    key, card = None, 1
    for k, a in cols:
        if k in ("f", "n"):
            continue
        r = _dense_rank(a)
        m = int(r.max()) + 1
        if key is not None and card * m < 2 ** 62:
            key = key * m + r
            card *= m
        else:
            if key is not None:
                keys.append(key)
            key, card = r, m
    if key is not None:
        keys.append(key)
    for k, a in cols:
        if k == "f":  # NULL apart from NaN (as NaN alone, the two tied and rows could misalign)
            keys.append(np.asarray(pc.is_null(a), dtype=np.int8))
            keys.append(_round_sig(np.asarray(pc.fill_null(a, float("nan")), dtype=np.float64)))
    if not keys:
        return cols
    idx = np.argsort(keys[0], kind="stable")
    if len(keys) > 1:
        first = keys[0][idx]
        if (first[1:] == first[:-1]).any():  # ties on the leading key: sort by all of them
            idx = np.lexsort(keys[::-1])
    indices = pa.array(idx)
    return [(k, a.take(indices)) for k, a in cols]


def _fmt(v):
    return "NULL" if v is None else repr(v)


_CANON_CACHE = {}


def _canon_sorted(t, ordered):
    """canon_table(t), sorted unless ordered; the last table's result is cached (a reference
    compared with several results is prepared once)."""
    key = (id(t), ordered)
    hit = _CANON_CACHE.get(key)
    if hit is not None and hit[0] is t:
        return hit[1]
    c = canon_table(t)
    if not ordered:
        c = _sort(c)
    if len(_CANON_CACHE) > 1:
        _CANON_CACHE.clear()
    _CANON_CACHE[key] = (t, c)
    return c


def compare_tables(ref, got, ordered=False, rtol=RTOL, atol=ATOL):
    """None when got matches ref, else a description of the first difference."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    if ref.num_columns != got.num_columns:
        return (f"{got.num_columns} columns {got.column_names} where the reference has "
                f"{ref.num_columns} {ref.column_names}")
    if ref.num_rows != got.num_rows:
        return f"{got.num_rows} rows where the reference has {ref.num_rows}"
    for i in range(ref.num_columns):
        rk, gk = _kind(ref.schema.field(i).type), _kind(got.schema.field(i).type)
        if rk != gk and "n" not in (rk, gk) and {rk, gk} != {"i", "f"}:
            return (f"column {i + 1} ({got.column_names[i]}): type {got.schema.field(i).type} "
                    f"where the reference has {ref.schema.field(i).type}")
    rc = _canon_sorted(ref, ordered)
    gc = canon_table(got)
    if not ordered:
        gc = _sort(gc)
    n = ref.num_rows
    first_bad = None  # (row, column)
    for i, ((rk, ra), (gk, ga)) in enumerate(zip(rc, gc)):
        rv = np.asarray(pc.is_valid(ra)) if rk != "n" else np.zeros(n, bool)
        gv = np.asarray(pc.is_valid(ga)) if gk != "n" else np.zeros(n, bool)
        bad = rv != gv
        both = rv & gv
        if "f" in (rk, gk) and rk != "n" and gk != "n":
            a = np.asarray(pc.fill_null(pc.cast(ra, pa.float64()), 0.0), dtype=np.float64)
            b = np.asarray(pc.fill_null(pc.cast(ga, pa.float64()), 0.0), dtype=np.float64)
            with np.errstate(invalid="ignore", over="ignore"):
                close = (a == b) | (np.abs(a - b) <= atol + rtol * np.maximum(np.abs(a), np.abs(b)))
            close |= np.isnan(a) & np.isnan(b)
            bad |= both & ~close
        elif rk != "n" and gk != "n":
            eq = pc.equal(ra, ga)
            eq = np.asarray(pc.fill_null(eq, True), dtype=bool)
            bad |= both & ~eq
        if bad.any():
            r = int(np.argmax(bad))
            if first_bad is None or r < first_bad[0]:
                first_bad = (r, i)
    if first_bad is None:
        return None
    r, i = first_bad
    rrow = [_fmt(a[r].as_py()) for _, a in rc]
    grow = [_fmt(a[r].as_py()) for _, a in gc]
    how = "row" if ordered else "sorted row"
    return (f"{how} {r + 1}, column {i + 1} ({got.column_names[i]}): {grow[i]} where the "
            f"reference has {rrow[i]}; row ({', '.join(grow)}) vs reference ({', '.join(rrow)})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rtol", type=float, default=RTOL)
    ap.add_argument("--atol", type=float, default=ATOL)
    ap.add_argument("--ordered", action="store_true", help="compare row order too")
    ap.add_argument("ref")
    ap.add_argument("files", nargs="+")
    a = ap.parse_args(argv)
    ref = read_result(a.ref)
    rc = 0
    for f in a.files:
        try:
            d = compare_tables(ref, read_result(f), a.ordered, a.rtol, a.atol)
        except Exception as e:  # noqa: BLE001 - reported
            d = f"cannot read or compare: {e}"
        print(f"{f}: " + ("ok" if d is None else "MISMATCH: " + d))
        rc |= d is not None
    return rc


if __name__ == "__main__":
    sys.exit(main())
