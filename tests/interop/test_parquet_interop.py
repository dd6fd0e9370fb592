"""Parquet writer interop: pyarrow, DuckDB and Polars must read polaroid-written files back with
content identical to the source.

Each test writes a source table with pyarrow to an Arrow IPC stream (.arrows), runs
`$POLAROID convert src.arrows out.parquet [--compression C]`, then reads out.parquet with the
three engines and compares every column with the source. pyarrow's read-back must also have the
source's types, restored from the ARROW:schema metadata polaroid writes (except timestamp[s],
which comes back as timestamp[ms] as with pyarrow's own files), and the Parquet schema must match
the one pyarrow's writer makes for the same table. DuckDB and Polars have their own type systems,
so for them the source column is cast to the type they return (e.g. DuckDB TIME is microseconds)
and values are compared. Statistics are checked against values computed by pyarrow.compute.
"""
import datetime
import decimal
import math
import pathlib
import subprocess

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest

CODECS = ["zstd", "snappy", "gzip", "lz4_raw", "brotli", "uncompressed"]
PARQUET_CODEC_NAMES = {  # as pyarrow reports ColumnChunkMetaData.compression
    "zstd": "ZSTD",
    "snappy": "SNAPPY",
    "gzip": "GZIP",
    "lz4_raw": "LZ4",
    "brotli": "BROTLI",
    "uncompressed": "UNCOMPRESSED",
}


# ----------------------------------------------------------------------------- helpers


def convert(polaroid, src_table, tmp_path, name="out", args=()):
    src = tmp_path / f"{name}.arrows"
    out = tmp_path / f"{name}.parquet"
    with ipc.new_stream(str(src), src_table.schema) as w:
        w.write_table(src_table)
    r = subprocess.run([polaroid, "convert", str(src), str(out), *args], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"polaroid convert failed ({r.returncode}): {r.stderr}"
    assert out.exists()
    return out


def _is_temporal(t):
    return (pa.types.is_timestamp(t) or pa.types.is_time(t) or pa.types.is_date(t)
            or pa.types.is_duration(t))


def _norm_value(v):
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, list):
        # map entries come as (key, value) tuples from pyarrow and {key, value} dicts from Polars
        return [_norm_value(x) for x in v]
    if isinstance(v, tuple) and len(v) == 2:
        return {"key": _norm_value(v[0]), "value": _norm_value(v[1])}
    if isinstance(v, dict):
        return {k: _norm_value(x) for k, x in v.items()}
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def canon(arr):
    """Comparable python values of an array: temporal values as integers, NaN normalised."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if _is_temporal(arr.type):
        width = pa.int32() if pa.types.is_date32(arr.type) else pa.int64()
        if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
            arr = arr.cast(pa.timestamp(arr.type.unit))
        return arr.cast(width).to_pylist()
    return [_norm_value(v) for v in arr.to_pylist()]


def norm_type(t):
    """The type pyarrow reads back: polaroid stores the Arrow schema (ARROW:schema) as pyarrow
    does, so every type comes back exactly, except timestamp[s], which Parquet cannot hold and
    which pyarrow itself also returns as timestamp[ms]."""
    if pa.types.is_timestamp(t) and t.unit == "s":
        return pa.timestamp("ms", t.tz)
    return t


def assert_same_values(expected, actual, engine):
    assert actual.num_rows == expected.num_rows, f"{engine}: row count"
    for name in expected.column_names:
        e = expected.column(name).combine_chunks()
        a = actual.column(name).combine_chunks()
        if pa.types.is_dictionary(e.type):
            e = e.dictionary_decode()
        if e.type != a.type and not pa.types.is_map(e.type):
            try:
                e = e.cast(a.type, safe=False)
            except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
                pass
        ce, ca = canon(e), canon(a)
        if ce != ca:
            bad = next(i for i, (x, y) in enumerate(zip(ce, ca)) if x != y)
            pytest.fail(f"{engine}: column {name!r} differs first at row {bad}: "
                        f"expected {ce[bad]!r}, got {ca[bad]!r} (type {a.type})")


def read_pyarrow(path):
    return pq.read_table(str(path))


def read_duckdb(path):
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    return con.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table()


def read_polars(path):
    return pl.read_parquet(str(path)).to_arrow()


def check_all_engines(expected, path, check_types=True):
    got = read_pyarrow(path)
    if check_types:
        for f in expected.schema:
            want = norm_type(f.type)
            have = got.schema.field(f.name)
            assert have.type == want, f"pyarrow: column {f.name!r} has type {have.type}, expected {want}"
            assert have.nullable == f.nullable, f"pyarrow: column {f.name!r} nullability"
    assert_same_values(expected, got, "pyarrow")
    assert_same_values(expected, read_duckdb(path), "duckdb")
    assert_same_values(expected, read_polars(path), "polars")


# ----------------------------------------------------------------------------- data


def every_type_table(n=3000, seed=0):
    """Every column type polaroid supports, each with NULLs, plus nested list/struct/map."""
    import random

    rnd = random.Random(seed)

    def maybe(v, i, every=7):
        return None if i % every == 3 else v

    ints = [rnd.randint(-(2**31), 2**31 - 1) for _ in range(n)]
    cols = {}
    cols["b"] = pa.array([maybe(i % 3 == 0, i) for i in range(n)], pa.bool_())
    cols["i8"] = pa.array([maybe(rnd.randint(-128, 127), i) for i in range(n)], pa.int8())
    cols["i16"] = pa.array([maybe(rnd.randint(-32768, 32767), i) for i in range(n)], pa.int16())
    cols["i32"] = pa.array([maybe(v, i) for i, v in enumerate(ints)], pa.int32())
    cols["i64"] = pa.array([maybe(rnd.randint(-(2**63), 2**63 - 1), i) for i in range(n)],
                           pa.int64())
    cols["u8"] = pa.array([maybe(rnd.randint(0, 255), i) for i in range(n)], pa.uint8())
    cols["u16"] = pa.array([maybe(rnd.randint(0, 65535), i) for i in range(n)], pa.uint16())
    cols["u32"] = pa.array([maybe(rnd.randint(0, 2**32 - 1), i) for i in range(n)], pa.uint32())
    cols["u64"] = pa.array([maybe(rnd.randint(0, 2**64 - 1), i) for i in range(n)], pa.uint64())
    floats = [rnd.uniform(-1e6, 1e6) for _ in range(n)]
    floats[5], floats[6], floats[8], floats[9] = float("nan"), float("inf"), -0.0, float("-inf")
    cols["f32"] = pa.array([maybe(v, i) for i, v in enumerate(floats)], pa.float32())
    cols["f64"] = pa.array([maybe(v, i) for i, v in enumerate(floats)], pa.float64())
    for p, s in [(5, 2), (15, 3), (30, 5), (38, 10)]:
        vals = []
        for i in range(n):
            digits = rnd.randint(0, 10**p - 1) * rnd.choice([-1, 1])
            vals.append(maybe(decimal.Decimal(digits).scaleb(-s), i))
        cols[f"dec{p}"] = pa.array(vals, pa.decimal128(p, s))
    words = ["", "a", "polaroid", "ünïcødé ✓", "x" * 300, "parquet", "zz"]
    cols["s"] = pa.array([maybe(rnd.choice(words) + str(i % 50), i) for i in range(n)], pa.string())
    cols["bin"] = pa.array([maybe(bytes([i % 256, 0, 255]) * (i % 4), i) for i in range(n)],
                           pa.binary())
    cols["fsb"] = pa.array([maybe(i.to_bytes(4, "little"), i) for i in range(n)],
                           pa.binary(4))
    cols["date"] = pa.array([maybe(rnd.randint(-100000, 100000), i) for i in range(n)],
                            pa.int32()).cast(pa.date32())
    day_us, day_ns = 86400 * 10**6, 86400 * 10**9
    cols["t_us"] = pa.array([maybe(rnd.randint(0, day_us - 1), i) for i in range(n)],
                            pa.int64()).cast(pa.time64("us"))
    cols["t_ns"] = pa.array([maybe(rnd.randint(0, day_ns - 1), i) for i in range(n)],
                            pa.int64()).cast(pa.time64("ns"))
    for unit, span in [("s", 10**10), ("ms", 10**13), ("us", 10**16), ("ns", 10**18)]:
        raw = pa.array([maybe(rnd.randint(-span, span), i) for i in range(n)], pa.int64())
        cols[f"ts_{unit}"] = raw.cast(pa.timestamp(unit))
    raw = pa.array([maybe(rnd.randint(-10**16, 10**16), i) for i in range(n)], pa.int64())
    cols["ts_utc"] = raw.cast(pa.timestamp("us", "UTC"))
    cols["dict"] = pa.array([maybe(rnd.choice(words), i) for i in range(n)],
                            pa.string()).dictionary_encode()
    cols["list_i64"] = pa.array(
        [maybe([maybe(rnd.randint(-5, 5), k, 4) for k in range(i % 5)], i, 6) for i in range(n)],
        pa.list_(pa.int64()))
    cols["list_s"] = pa.array(
        [maybe([maybe(rnd.choice(words), k, 3) for k in range(i % 4)], i, 5) for i in range(n)],
        pa.list_(pa.string()))
    cols["list_list"] = pa.array(
        [maybe([maybe(list(range(k)), k, 3) for k in range(i % 4)], i, 9) for i in range(n)],
        pa.list_(pa.list_(pa.int32())))
    inner = pa.struct([("d", pa.float64())])
    st_type = pa.struct([("a", pa.int32()), ("b", pa.string()), ("c", inner)])
    cols["st"] = pa.array(
        [maybe({"a": maybe(i, i, 5), "b": rnd.choice(words), "c": maybe({"d": i / 7}, i, 4)},
               i, 8) for i in range(n)], st_type)
    cols["map"] = pa.array(
        [maybe([(f"k{k}", maybe(k * i, k, 3)) for k in range(i % 4)], i, 6) for i in range(n)],
        pa.map_(pa.string(), pa.int64()))
    cols["list_st"] = pa.array(
        [maybe([{"x": maybe(k, k, 2), "y": str(k)} for k in range(i % 3)], i, 7)
         for i in range(n)], pa.list_(pa.struct([("x", pa.int16()), ("y", pa.string())])))
    cols["nul"] = pa.nulls(n)
    schema = pa.schema([pa.field(k, v.type) for k, v in cols.items()]
                       + [pa.field("req_i64", pa.int64(), nullable=False)])
    cols["req_i64"] = pa.array(range(n), pa.int64())
    return pa.Table.from_arrays(list(cols.values()), schema=schema)


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("codec", CODECS)
def test_every_type_every_codec(polaroid, tmp_path, codec):
    src = every_type_table(2000, seed=CODECS.index(codec))
    out = convert(polaroid, src, tmp_path, args=("--compression", codec))
    md = pq.ParquetFile(str(out)).metadata
    assert md.created_by.startswith("polaroid version")
    for c in range(md.num_columns):
        assert md.row_group(0).column(c).compression == PARQUET_CODEC_NAMES[codec]
    check_all_engines(src, out)


def test_parquet_schema_matches_pyarrow(polaroid, tmp_path):
    """Physical types, logical/converted types and levels of every leaf are those pyarrow's own
    writer produces for the same table (with decimals of precision <= 18 stored as integers),
    except that polaroid also annotates plain int32/int64 with INT(32/64, signed)."""
    src = every_type_table(300)
    out = convert(polaroid, src, tmp_path)
    ref = tmp_path / "ref.parquet"
    pq.write_table(src, str(ref), store_decimal_as_integer=True)
    mine, theirs = pq.ParquetFile(str(out)).schema, pq.ParquetFile(str(ref)).schema
    assert len(mine) == len(theirs)

    def desc(c):
        lt, ct = str(c.logical_type), c.converted_type
        if c.physical_type in ("INT32", "INT64") and lt in ("Int(bitWidth=32, isSigned=true)",
                                                            "Int(bitWidth=64, isSigned=true)"):
            lt, ct = "None", "NONE"
        return (c.path, c.physical_type, lt, ct, c.max_definition_level, c.max_repetition_level,
                c.length, c.precision, c.scale)

    for i in range(len(mine)):
        assert desc(mine.column(i)) == desc(theirs.column(i))
    kv = pq.ParquetFile(str(out)).metadata.metadata
    assert b"ARROW:schema" in kv


def test_default_codec_is_zstd_and_magic(polaroid, tmp_path):
    src = every_type_table(500)
    out = convert(polaroid, src, tmp_path)
    data = out.read_bytes()
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    footer_len = int.from_bytes(data[-8:-4], "little")
    assert 0 < footer_len < len(data) - 12
    md = pq.ParquetFile(str(out)).metadata
    assert md.row_group(0).column(0).compression == "ZSTD"
    check_all_engines(src, out)


def test_multiple_row_groups_and_pages(polaroid, tmp_path):
    # more rows than the default row group (1 Mi rows) and many 1 MiB pages per chunk
    n = 2_300_000
    src = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "grp": pa.array([i % 1000 for i in range(n)], pa.int32()),
        "s": pa.array([None if i % 11 == 0 else f"v{i % 5000}" for i in range(n)], pa.string()),
        "f": pc.divide(pa.array(range(n), pa.float64()), 3.0),
    })
    out = convert(polaroid, src, tmp_path)
    md = pq.ParquetFile(str(out)).metadata
    assert md.num_row_groups >= 3
    assert sum(md.row_group(g).num_rows for g in range(md.num_row_groups)) == n
    # the unique id column spans several pages: its chunk is far above one page
    assert md.row_group(0).column(0).total_uncompressed_size > 2 * (1 << 20)
    check_all_engines(src, out)


def test_dictionary_fallback_to_plain(polaroid, tmp_path):
    n = 300_000
    src = pa.table({
        "unique_s": pa.array([f"unique-value-{i:08d}" for i in range(n)], pa.string()),
        "unique_i": pa.array(range(n), pa.int64()),
        "low_card": pa.array([f"c{i % 10}" for i in range(n)], pa.string()),
    })
    out = convert(polaroid, src, tmp_path)
    rg = pq.ParquetFile(str(out)).metadata.row_group(0)
    # 300k distinct values are far above the 1 MiB dictionary limit: PLAIN
    assert "RLE_DICTIONARY" not in rg.column(0).encodings
    assert "RLE_DICTIONARY" not in rg.column(1).encodings
    assert "RLE_DICTIONARY" in rg.column(2).encodings
    check_all_engines(src, out)


def test_statistics(polaroid, tmp_path):
    src = every_type_table(1500, seed=7)
    extremes = pa.table({
        "u64_ext": pa.array([0, 2**64 - 1, 5, None], pa.uint64()),
        "u32_ext": pa.array([2**32 - 1, 1, None, 7], pa.uint32()),
        "i64_ext": pa.array([-(2**63), 2**63 - 1, None, 0], pa.int64()),
        "f_nan": pa.array([float("nan"), 1.5, -2.5, None], pa.float64()),
        "all_nan": pa.array([float("nan"), None, float("nan"), None], pa.float64()),
        "zeros": pa.array([0.0, -0.0, 0.0, None], pa.float64()),
        "s_ext": pa.array(["b", "a", "\u00e9", None], pa.string()),
    })
    out = convert(polaroid, src, tmp_path, "stats")
    out2 = convert(polaroid, extremes, tmp_path, "ext")
    for table, path in [(src, out), (extremes, out2)]:
        md = pq.ParquetFile(str(path)).metadata
        leaves = {md.schema.column(c).path: c for c in range(md.num_columns)}
        for name in table.column_names:
            if name not in leaves:  # nested columns: only leaves carry statistics
                continue
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = col.combine_chunks().dictionary_decode()
            st = md.row_group(0).column(leaves[name]).statistics
            if pa.types.is_null(col.type) and st is None:
                continue  # pyarrow itself writes no statistics for the null type
            assert st is not None, name
            assert st.null_count == col.null_count, name
            if pa.types.is_floating(col.type):
                col = pc.filter(col, pc.invert(pc.is_nan(col)))
            if pa.types.is_timestamp(col.type) and col.type.unit == "s":
                col = col.cast(pa.timestamp("ms"))
            valid = pc.drop_null(col)
            if len(valid) == 0:
                assert not st.has_min_max, name
                continue
            assert st.has_min_max, name
            if _is_temporal(col.type):  # compare the stored integers
                if pa.types.is_timestamp(col.type) and col.type.tz is not None:
                    valid = valid.cast(pa.timestamp(col.type.unit))
                valid = valid.cast(pa.int32() if pa.types.is_date32(col.type) else pa.int64())
                got_min, got_max = st.min_raw, st.max_raw
            else:
                got_min, got_max = st.min, st.max
            mm = pc.min_max(valid)
            want_min, want_max = mm["min"].as_py(), mm["max"].as_py()
            if isinstance(got_min, bytes) and isinstance(want_min, str):
                got_min, got_max = got_min.decode(), got_max.decode()
            assert (got_min, got_max) == (want_min, want_max), name
        if table is extremes:
            zeros = md.row_group(0).column(leaves["zeros"]).statistics
            assert math.copysign(1, zeros.min) == -1 and math.copysign(1, zeros.max) == 1


def test_empty_and_all_null(polaroid, tmp_path):
    src = pa.table({
        "a": pa.array([None] * 100, pa.int32()),
        "s": pa.array([None] * 100, pa.string()),
        "l": pa.array([[]] * 50 + [None] * 50, pa.list_(pa.int64())),
    })
    out = convert(polaroid, src, tmp_path)
    check_all_engines(src, out)
    empty = src.slice(0, 0)
    out = convert(polaroid, empty, tmp_path, "empty")
    got = read_pyarrow(out)
    assert got.num_rows == 0 and got.column_names == ["a", "s", "l"]
    assert read_duckdb(out).num_rows == 0
    assert read_polars(out).num_rows == 0
