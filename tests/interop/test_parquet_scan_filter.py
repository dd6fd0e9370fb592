"""Filters evaluated inside the Parquet scan (late materialisation, src/io/parquet/scan.c): the
predicate's columns are decoded first, the other columns only for the passing rows, and pages
without passing rows are skipped. Files written by pyarrow with many small pages, data page v1
and v2, dictionaries falling back to PLAIN mid-chunk, nulls, NaN, nested columns, with and
without a page index, several codecs and encodings; every query's result is compared with
DuckDB's on the same files (bench/compare.py).

POLAROID=<binary> picks the binary (default build/polaroid; the ASan build works too)."""
import math
import os
import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import compare  # noqa: E402

N = 12000


def make_table(n=N, seed=7):
    import random
    rng = random.Random(seed)
    vocab = ["alpha", "beta", "gamma", "delta", "", "Ωmega", "x" * 40]

    def maybe(v, p=0.1):
        return None if rng.random() < p else v

    ids = list(range(n))
    k = [maybe(rng.randrange(10)) for _ in ids]
    s = [maybe(rng.choice(vocab), 0.15) for _ in ids]
    # high cardinality: the dictionary overflows and later pages fall back to PLAIN
    s_hi = [maybe(f"v{rng.randrange(10 ** 6):06d}", 0.05) for _ in ids]
    f = []
    for _ in ids:
        r = rng.random()
        f.append(None if r < 0.08 else math.nan if r < 0.1 else rng.uniform(-1, 1))
    b = [maybe(rng.random() < 0.3) for _ in ids]
    lst = [None if i % 11 == 0 else [rng.randrange(100) for _ in range(i % 4)] for i in ids]
    st = [None if i % 13 == 0 else {"a": i % 5, "t": maybe(rng.choice(vocab))} for i in ids]
    import decimal
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "k": pa.array(k, pa.int32()),
        "k8": pa.array([None if v is None else v - 5 for v in k], pa.int8()),
        "s": pa.array(s, pa.string()),
        "s_hi": pa.array(s_hi, pa.string()),
        "f": pa.array(f, pa.float64()),
        "f4": pa.array([None if v is None else v for v in f], pa.float32()),
        "b": pa.array(b, pa.bool_()),
        "dec": pa.array([None if i % 17 == 0 else decimal.Decimal(i * 7 % 1000) / 100
                         for i in ids], pa.decimal128(9, 2)),
        "ts": pa.array([1_700_000_000_000_000 + i * 1_000_003 for i in ids], pa.timestamp("us")),
        "req": pa.array([i * 3 for i in ids], pa.int64()),
        "lst": pa.array(lst, pa.list_(pa.int32())),
        "st": pa.array(st, pa.struct([("a", pa.int32()), ("t", pa.string())])),
    }, schema=pa.schema([
        pa.field("id", pa.int64()), pa.field("k", pa.int32()), pa.field("k8", pa.int8()),
        pa.field("s", pa.string()), pa.field("s_hi", pa.string()), pa.field("f", pa.float64()),
        pa.field("f4", pa.float32()), pa.field("b", pa.bool_()),
        pa.field("dec", pa.decimal128(9, 2)), pa.field("ts", pa.timestamp("us")),
        pa.field("req", pa.int64(), nullable=False), pa.field("lst", pa.list_(pa.int32())),
        pa.field("st", pa.struct([("a", pa.int32()), ("t", pa.string())]))]))


VARIANTS = {
    # many small v1 pages, dictionaries, a page index
    "v1_dict_index": dict(data_page_version="1.0", data_page_size=2048, row_group_size=5000,
                          compression="snappy", write_page_index=True),
    # v2 pages, no dictionaries, zstd, no page index
    "v2_plain": dict(data_page_version="2.0", data_page_size=1024, row_group_size=4000,
                     compression="zstd", use_dictionary=False),
    # tiny dictionary limit: dictionary pages then PLAIN fallback pages in the same chunk
    "v1_fallback": dict(data_page_version="1.0", data_page_size=1500, row_group_size=N,
                        compression="none", dictionary_pagesize_limit=512),
    "v2_fallback": dict(data_page_version="2.0", data_page_size=1500, row_group_size=7000,
                        compression="gzip", dictionary_pagesize_limit=512, write_page_index=True),
    # other encodings: delta for integers and strings, byte stream split for floats
    "encodings": dict(data_page_version="2.0", data_page_size=3000, row_group_size=6000,
                      compression="lz4", use_dictionary=False,
                      column_encoding={"id": "DELTA_BINARY_PACKED", "k": "DELTA_BINARY_PACKED",
                                       "req": "DELTA_BINARY_PACKED",
                                       "s": "DELTA_LENGTH_BYTE_ARRAY",
                                       "s_hi": "DELTA_BYTE_ARRAY", "f": "BYTE_STREAM_SPLIT",
                                       "f4": "BYTE_STREAM_SPLIT", "b": "RLE"}),
    # one page per chunk, no statistics
    "big_pages": dict(row_group_size=3000, write_statistics=False, compression="zstd"),
}

QUERIES = [
    "SELECT * FROM {t} WHERE k = 3",
    "SELECT * FROM {t} WHERE id = 4321",
    "SELECT id, s, lst, st FROM {t} WHERE id BETWEEN 3990 AND 4010",
    "SELECT id, f, s_hi FROM {t} WHERE id % 97 = 5",
    # a few values: pages whose statistics exclude them are skipped unread
    "SELECT * FROM {t} WHERE id IN (0, 1, 511, 512, 1023, 1024, 4095, 4096, 8191, 11999)",
    "SELECT id, k, s FROM {t} WHERE req IN (3, 2997, 3000, 30000, 35997)",
    "SELECT id, s FROM {t} WHERE f4 = 0.5 OR f4 IS NULL",
    "SELECT id, s_hi, dec, f4, k8 FROM {t} WHERE s = 'gamma'",
    "SELECT id, k, b FROM {t} WHERE s IS NULL",
    "SELECT id, s, s_hi FROM {t} WHERE s_hi < 'v1'",
    "SELECT id, s FROM {t} WHERE f > 0.9",
    # (isnan(f) alone: DuckDB 2.0.1 prunes every row group on the statistics, which exclude NaN)
    "SELECT id, k FROM {t} WHERE isnan(f) OR k = 100",
    "SELECT id, s, f FROM {t} WHERE b",
    "SELECT id, s, st FROM {t} WHERE k = 1 OR s = 'beta'",
    "SELECT id, f, ts FROM {t} WHERE k IN (2, 7) AND id > 2000",
    "SELECT count(*), sum(f), min(s_hi), max(dec) FROM {t} WHERE k8 = -2",
    "SELECT * FROM {t} WHERE id >= 0",
    "SELECT * FROM {t} WHERE id < 0",
    "SELECT s, count(*), avg(req) FROM {t} WHERE k IS NOT NULL AND k < 3 GROUP BY s",
    "SELECT id, lst, s FROM {t} WHERE lst IS NULL AND id < 6000",
    "SELECT id, st FROM {t} WHERE st IS NOT NULL AND k = 2",
    "SELECT id, req, s FROM {t} WHERE req % 1000 = 0",
    "SELECT id, s FROM {t} WHERE ts >= TIMESTAMP '2023-11-14 22:14:00' AND id < 12000",
    "SELECT id, s_hi FROM {t} WHERE s_hi LIKE 'v00%' OR s_hi IS NULL",
    # columns read only for the filter (the scan need not output them)
    "SELECT count(*) FROM {t} WHERE s = 'beta'",
    "SELECT count(*), sum(req) FROM {t} WHERE k = 2 AND s_hi > 'v5'",
    "SELECT avg(f) FROM {t} WHERE s = 'alpha' OR k = 9",
    "SELECT s, count(*) FROM {t} WHERE s <> 'gamma' GROUP BY s",
    "SELECT id + 1 AS x FROM (SELECT id, k FROM {t} WHERE k = 4) WHERE id % 3 = 0",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scanfilter")
    t = make_table()
    out = {}
    for name, opts in VARIANTS.items():
        p = d / f"{name}.parquet"
        pq.write_table(t, p, **opts)
        out[name] = str(p)
    # several files under one glob, with row groups of different sizes
    g = d / "glob"
    g.mkdir()
    for i in range(3):
        pq.write_table(t.slice(i * 4000, 4000), g / f"part-{i}.parquet", data_page_size=1024,
                       row_group_size=1500 + 500 * i, data_page_version=["1.0", "2.0"][i % 2])
    out["glob"] = str(g / "*.parquet")
    return out


def polaroid_bin():
    p = os.environ.get("POLAROID", os.path.join(ROOT, "build", "polaroid"))
    return p if os.path.isabs(p) else os.path.join(ROOT, p)


def run_polaroid(sql, *extra):
    r = subprocess.run([polaroid_bin(), "sql", "--format", "arrow", *extra, sql], cwd=ROOT,
                       capture_output=True, timeout=120)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, f"polaroid failed (exit {r.returncode}): {err}\nSQL: {sql}"
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


def check(sql, *extra):
    expected = duckdb.connect().sql(sql).to_arrow_table()
    got = run_polaroid(sql, *extra)
    d = compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-9)
    assert d is None, f"{d}\nSQL: {sql}\nexpected (DuckDB):\n{expected}\ngot:\n{got}"
    return got


@pytest.mark.parametrize("variant", list(VARIANTS) + ["glob"])
def test_filters_match_duckdb(files, variant):
    t = "'" + files[variant] + "'"
    for q in QUERIES:
        check(q.format(t=t))


def test_threads_and_empty_result(files):
    t = "'" + files["v1_dict_index"] + "'"
    for threads in ("1", "2", "3"):
        check(f"SELECT id, s, f FROM {t} WHERE k = 5 AND s_hi > 'v5'", "--threads", threads)
    got = check(f"SELECT * FROM {t} WHERE s = 'nope'")
    assert got.num_rows == 0


def test_limit_counts_passing_rows(files):
    t = "'" + files["v2_fallback"] + "'"
    got = run_polaroid(f"SELECT id FROM {t} WHERE k = 4 LIMIT 7")
    ref = duckdb.connect().sql(f"SELECT id FROM {t} WHERE k = 4").to_arrow_table()
    assert got.num_rows == 7
    assert set(got.column(0).to_pylist()) <= set(ref.column(0).to_pylist())


def test_explain_analyze_counts_rows(files):
    t = "'" + files["v1_dict_index"] + "'"
    r = subprocess.run([polaroid_bin(), "sql", f"EXPLAIN ANALYZE SELECT id FROM {t} WHERE k = 3"],
                       cwd=ROOT, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n = duckdb.connect().sql(f"SELECT count(*) FROM {t} WHERE k = 3").fetchall()[0][0]
    assert f"{n} rows" in r.stdout.decode() or f"rows={n}" in r.stdout.decode() or \
        str(n) in r.stdout.decode(), r.stdout.decode()


def test_filter_error_surfaces(files):
    t = "'" + files["v1_fallback"] + "'"
    r = subprocess.run([polaroid_bin(), "sql", f"SELECT id FROM {t} WHERE CAST(s AS INTEGER) = 1"],
                       cwd=ROOT, capture_output=True, timeout=120)
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "cast" in err.lower() and "AddressSanitizer" not in err, err


@pytest.mark.parametrize("variant", ["v1_dict_index", "v2_fallback", "big_pages"])
def test_point_queries_reuse_cached_dictionaries(files, variant):
    """Point queries in one process: later scans of the same row groups take the dictionaries
    decoded by earlier ones (the dictionary cache) and must give the same rows."""
    t = "'" + files[variant] + "'"
    keys = [5, 6, 4999, 5000, 5001, 11999, 7, 4321, 4322, 6000]
    q = " UNION ALL ".join(f"SELECT * FROM {t} WHERE id = {k}" for k in keys)
    check(q)
    q = " UNION ALL ".join(f"SELECT id, s, k8, f FROM {t} WHERE k = 3 AND id BETWEEN {k} AND {k + 40}"
                           for k in keys)
    check(q)
    # several statements: the last one's result, after the cache was filled by the others
    script = ";\n".join([f"CREATE TABLE p{i} AS SELECT * FROM {t} WHERE id = {k}"
                         for i, k in enumerate(keys)] +
                        [f"SELECT id, s, s_hi, dec, lst FROM {t} WHERE id IN (3, 4998, 5002, 9000)"])
    path = os.path.join(os.path.dirname(files[variant]), f"script_{variant}.sql")
    with open(path, "w") as fh:
        fh.write(script + ";\n")
    r = subprocess.run([polaroid_bin(), "sql", "--format", "arrow", "-f", path], cwd=ROOT,
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    expected = duckdb.connect().sql(
        f"SELECT id, s, s_hi, dec, lst FROM {t} WHERE id IN (3, 4998, 5002, 9000)").to_arrow_table()
    d = compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-9)
    assert d is None, d


def test_large_row_groups(tmp_path):
    """Row groups above 256 Ki rows, fewer than two per thread: the scan decodes the predicate
    columns of the window in parallel, then the other columns (the phased path)."""
    import random
    rng = random.Random(3)
    n = 600_000
    t = pa.table({
        "g": pa.array([None if i % 101 == 0 else (i * 7) % 13 for i in range(n)], pa.int64()),
        "name": pa.array([f"n{rng.randrange(n)}" if i > n // 2 else f"s{i % 5}"
                          for i in range(n)], pa.string()),
        "v": pa.array([i * 0.5 for i in range(n)], pa.float64()),
    })
    p = tmp_path / "large.parquet"
    pq.write_table(t, p, row_group_size=300_000, data_page_size=64 * 1024,
                   dictionary_pagesize_limit=64 * 1024)
    f = "'" + str(p) + "'"
    for q in [f"SELECT count(*), sum(v) FROM {f} WHERE g = 5",
              f"SELECT name, v FROM {f} WHERE g IS NULL AND v < 100000",
              f"SELECT g, count(*) FROM {f} WHERE name = 's3' GROUP BY g",
              f"SELECT count(*), min(v), max(v) FROM {f} WHERE name > 'n9'",
              f"SELECT * FROM {f} WHERE g = 12 AND name = 's1'"]:
        check(q)
        check(q, "--threads", "1")
