"""CSV interop: polaroid must read CSV written by pyarrow and DuckDB with the same values DuckDB
reads, and write CSV / JSON lines that DuckDB reads back identically.

Each test generates random data with pyarrow (strings with delimiters, quotes, newlines and
non-ASCII text, NULLs, special floats, dates, timestamps), writes it with pyarrow or DuckDB, runs
`$POLAROID convert in.csv out.csv` or `$POLAROID cat in.csv --format csv|json`, and compares
with DuckDB's read_csv of the input. DuckDB-written CSV converted by polaroid must come back
byte-identical, since polaroid renders values as DuckDB does. Skipped while the CLI is missing.
"""
import datetime
import json
import math
import os
import pathlib
import random
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pl_bin():
    path = pathlib.Path(os.environ.get("POLAROID", ROOT / "build" / "polaroid"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        pytest.skip(f"polaroid binary not found at {path}")
    return str(path)


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, timeout=600, **kw)
    assert r.returncode == 0, f"{args} failed ({r.returncode}): {r.stderr.decode(errors='replace')}"
    return r.stdout


NASTY = ["plain", "with,comma", 'with "quote"', "multi\nline", "crlf\r\nline", "", " lead",
         "trail ", "unicode \u00e9\u65e5\u672c", "tab\there", "'single'", "NULL", "null"]


def random_table(n, seed=7):
    rnd = random.Random(seed)
    ints = [rnd.randint(-(2**62), 2**62) if rnd.random() > 0.1 else None for _ in range(n)]
    floats = []
    for _ in range(n):
        x = rnd.random()
        if x < 0.05:
            floats.append(None)
        elif x < 0.1:
            floats.append(rnd.choice([0.0, -0.0, 1e300, 5e-324, 0.1, 1e16, 1e-5, 123456.75]))
        else:
            floats.append(rnd.uniform(-1e6, 1e6) * 10 ** rnd.randint(-10, 10))
    strs = [rnd.choice(NASTY) if rnd.random() > 0.3 else f"s{rnd.randint(0, 10**9)}" for _ in range(n)]
    strs = [None if rnd.random() < 0.05 else s for s in strs]
    bools = [rnd.random() > 0.5 if rnd.random() > 0.1 else None for _ in range(n)]
    base = datetime.date(1970, 1, 1)
    dates = [base + datetime.timedelta(days=rnd.randint(-700000, 2900000)) if rnd.random() > 0.1 else None
             for _ in range(n)]
    tbase = datetime.datetime(2000, 1, 1)
    ts = [tbase + datetime.timedelta(microseconds=rnd.randint(-(10**16), 10**16)) if rnd.random() > 0.1
          else None for _ in range(n)]
    return pa.table({"i": pa.array(ints, pa.int64()), "f": pa.array(floats, pa.float64()),
                     "s": pa.array(strs, pa.string()), "b": pa.array(bools, pa.bool_()),
                     "d": pa.array(dates, pa.date32()), "ts": pa.array(ts, pa.timestamp("us"))})


def duck_rows(path, **read_opts):
    opts = "".join(f", {k}={v}" for k, v in read_opts.items())
    return duckdb.sql(f"select * from read_csv('{path}'{opts})").fetchall()


def same_value(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def assert_rows_equal(xs, ys):
    assert len(xs) == len(ys)
    for r, (x, y) in enumerate(zip(xs, ys)):
        assert len(x) == len(y)
        for c, (a, b) in enumerate(zip(x, y)):
            assert same_value(a, b), f"row {r} col {c}: {a!r} != {b!r}"


def test_convert_pyarrow_csv(pl_bin, tmp_path):
    t = random_table(3000)
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pacsv.write_csv(t, src)
    run([pl_bin, "convert", str(src), str(out)])
    assert_rows_equal(duck_rows(src), duck_rows(out))


def test_duckdb_csv_round_trips_byte_identical(pl_bin, tmp_path):
    t = random_table(2000, seed=11)
    src = tmp_path / "duck.csv"
    duckdb.sql("select * from t").write_csv(str(src))
    out = run([pl_bin, "cat", str(src), "--format", "csv"])
    assert out == src.read_bytes()


def test_cat_json_matches_duckdb(pl_bin, tmp_path):
    t = random_table(500, seed=3).drop_columns(["f"])  # floats compared in the CSV tests
    src = tmp_path / "in.csv"
    duckdb.sql("select * from t").write_csv(str(src))
    out = run([pl_bin, "cat", str(src), "--format", "json"])
    lines = [json.loads(line) for line in out.decode().split("\n") if line]
    # polaroid reads a quoted "" as the empty string (lossless round trips); DuckDB's default
    # (allow_quoted_nulls) would make it NULL
    want = duck_rows(src, allow_quoted_nulls="false")
    assert len(lines) == len(want)
    for obj, row in zip(lines, want):
        i, s, b, d, ts = row
        assert obj["i"] == i and obj["s"] == s and obj["b"] == b
        assert obj["d"] == (None if d is None else d.isoformat())
        if ts is None:
            assert obj["ts"] is None
        else:
            assert datetime.datetime.fromisoformat(obj["ts"]) == ts


def test_columns_and_limit(pl_bin, tmp_path):
    t = random_table(1000, seed=5)
    src = tmp_path / "in.csv"
    duckdb.sql("select * from t").write_csv(str(src))
    out = run([pl_bin, "cat", str(src), "--columns", "s,i", "--limit", "17", "--format", "csv"])
    got = tmp_path / "got.csv"
    got.write_bytes(out)
    want = duckdb.sql(f"select s, i from read_csv('{src}') limit 17").fetchall()
    assert_rows_equal(duck_rows(got), want)


def test_large_parallel_file(pl_bin, tmp_path):
    n = 400_000
    src, out = tmp_path / "big.csv", tmp_path / "big_out.csv"
    duckdb.sql(f"""
        copy (select range as id, range * 0.5 as half,
                     case when range % 7 = 0 then 'q"uote,' || range::varchar
                          when range % 11 = 0 then 'multi' || chr(10) || 'line'
                          else 'v' || range::varchar end as txt
              from range({n})) to '{src}' (header true)""")
    run([pl_bin, "convert", str(src), str(out)])
    q = "select count(*), sum(id), sum(half), sum(length(txt)), count(distinct txt) from read_csv('{}')"
    assert duckdb.sql(q.format(src)).fetchall() == duckdb.sql(q.format(out)).fetchall()
    assert out.read_bytes() == src.read_bytes()


def test_bad_csv_reports_line(pl_bin, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("a,b\n1,2\n3,4,5\n")
    r = subprocess.run([pl_bin, "cat", str(src)], capture_output=True, timeout=60)
    assert r.returncode == 1
    msg = r.stderr.decode()
    assert "expected 2 fields, found 3" in msg and "bad.csv" in msg
