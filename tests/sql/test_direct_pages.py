"""Compressed PLAIN pages of fixed-width columns decompressed straight into the column's values
(src/io/parquet/column.c direct_page), checked against DuckDB and pyarrow on 1 and 2 threads:
several pages per chunk, NULLs only in a later page (the earlier pages' validity bits are
written then), NULLs in the first page, a page of NULLs only, required columns (no levels),
int32/int64/float32/double/timestamp columns, zstd/snappy/gzip/uncompressed, v2 pages (the usual
path), LIMIT, a column chunk whose pages are garbled (a clean error)."""
import datetime
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

N = 50000


def _col(rng, kind, n, nulls):
    """nulls: 'none', 'late' (only in the last fifth), 'early' (only in the first 2000 rows),
    'page' (rows 10000..19999 all NULL), 'some' (2 % everywhere)."""
    def isnull(i):
        return ((nulls == "late" and i > n * 4 // 5 and i % 7 == 0) or
                (nulls == "early" and i < 2000 and i % 5 == 0) or
                (nulls == "page" and 10000 <= i < 20000) or
                (nulls == "some" and rng.random() < 0.02))
    out = []
    for i in range(n):
        if isnull(i):
            out.append(None)
        elif kind == "f64":
            r = rng.random()
            out.append(float("nan") if r < 0.002 else -0.0 if r < 0.004 else rng.uniform(-1e6, 1e6))
        elif kind == "f32":
            out.append(rng.uniform(-100, 100))
        elif kind == "i32":
            out.append(rng.randrange(-2 ** 31, 2 ** 31))
        elif kind == "ts":
            out.append(datetime.datetime(2024, 1, 1) + datetime.timedelta(microseconds=rng.randrange(0, 10 ** 12)))
        else:
            out.append(rng.randrange(-2 ** 63, 2 ** 63))
    return out


TYPES = {"f64": pa.float64(), "f32": pa.float32(), "i32": pa.int32(), "i64": pa.int64(),
         "ts": pa.timestamp("us")}


def _table(rng, n, nulls_by_col, required=()):
    cols, fields = {"id": list(range(n))}, [pa.field("id", pa.int64(), nullable=False)]
    for name, (kind, nulls) in nulls_by_col.items():
        cols[name] = _col(rng, kind, n, nulls)
        fields.append(pa.field(name, TYPES[kind], nullable=name not in required))
    return pa.table(cols, schema=pa.schema(fields))


SPECS = {
    "a": {"x": ("f64", "none"), "y": ("f64", "late"), "z": ("i64", "early"),
          "w": ("f64", "page"), "v": ("i32", "some"), "u": ("f32", "late"), "t": ("ts", "none")},
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("direct")
    rng = random.Random(7)
    t = _table(rng, N, SPECS["a"], required=("x",))
    # several pages per chunk (~8 KB), one or two row groups
    pq.write_table(t, d / "p-zstd.parquet", compression="zstd", data_page_size=8192,
                   row_group_size=30000, use_dictionary=False)
    pq.write_table(t, d / "p-snappy.parquet", compression="snappy", data_page_size=65536,
                   use_dictionary=False)
    pq.write_table(t, d / "p-gzip.parquet", compression="gzip", use_dictionary=False)
    pq.write_table(t, d / "p-none.parquet", compression="none", use_dictionary=False,
                   data_page_size=8192)
    pq.write_table(t, d / "p-v2.parquet", compression="zstd", use_dictionary=False,
                   data_page_version="2.0", data_page_size=8192)
    # one page per chunk (the tick files' shape)
    pq.write_table(t, d / "p-one.parquet", compression="zstd", use_dictionary=False,
                   data_page_size=1 << 24, row_group_size=25000)
    return str(d), t


NAMES = ["p-zstd", "p-snappy", "p-gzip", "p-none", "p-v2", "p-one"]


def _run(sql, q, threads):
    r = sql.polaroid([q], extra=("--threads", threads))
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"polaroid failed (exit {r.returncode}): {err}\nSQL: {q}"
    assert "Sanitizer" not in err and "runtime error:" not in err, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("name", NAMES)
def test_full_read_equals_pyarrow(sql, files, name, threads):
    d, t = files
    got = _run(sql, f"SELECT * FROM read_parquet('{d}/{name}.parquet') ORDER BY id", threads)
    assert got.num_rows == t.num_rows
    for c in t.column_names:
        want = t.column(c).to_pylist()
        have = got.column(c).to_pylist()
        if c == "t":
            have = [None if v is None else v.replace(tzinfo=None) for v in have]
        for i, (a, b) in enumerate(zip(want, have)):
            if a is None or b is None:
                assert a is None and b is None, (c, i, a, b)
            elif a != a:
                assert b != b, (c, i, a, b)
            else:
                assert a == b, (c, i, a, b)


QUERIES = [
    "SELECT count(*) AS n, count(y) AS cy, count(w) AS cw, sum(x) AS sx, sum(y) AS sy, "
    "min(z) AS lz, max(z) AS hz, sum(v) AS sv, avg(u) AS au, min(t) AS lt, max(w) AS mw FROM {f}",
    "SELECT id // 1000 AS g, count(y) AS c, sum(y) AS s, max(x) AS m FROM {f} GROUP BY g",
    "SELECT id, x, y, z FROM {f} WHERE y IS NULL OR z IS NULL",
    "SELECT x, y FROM {f} LIMIT 7",
]


@pytest.mark.parametrize("threads", ["1", "2"])
@pytest.mark.parametrize("name", ["p-zstd", "p-one", "p-v2"])
@pytest.mark.parametrize("qi", range(len(QUERIES)))
def test_queries_match_duckdb(sql, files, qi, name, threads):
    import compare
    d, _ = files
    q = QUERIES[qi].replace("{f}", f"read_parquet('{d}/{name}.parquet')")
    if "LIMIT" in q:
        got = _run(sql, q, threads)
        assert got.num_rows == 7
        return
    expected = sql.duckdb([q])
    got = _run(sql, q, threads)
    diff = compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-6)
    assert diff is None, f"{diff}\nSQL: {q}"


def test_garbled_page_is_a_clean_error(sql, files, tmp_path):
    d, t = files
    src = f"{d}/p-one.parquet"
    md = pq.ParquetFile(src).metadata
    cc = md.row_group(1).column(t.column_names.index("y"))
    raw = bytearray(open(src, "rb").read())
    start = cc.data_page_offset
    for k in range(start + 60, start + cc.total_compressed_size - 8):
        raw[k] = (raw[k] * 131 + 17) & 0xFF
    p = tmp_path / "bad.parquet"
    p.write_bytes(bytes(raw))
    for threads in ("1", "2"):
        r = sql.polaroid([f"SELECT sum(y) FROM read_parquet('{p}')"], fmt="csv",
                         extra=("--threads", threads))
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 1, f"exit {r.returncode}: {err}"
        assert "Sanitizer" not in err and "runtime error:" not in err, err
        assert "zstd" in err or "corrupt" in err.lower() or "page" in err, err
