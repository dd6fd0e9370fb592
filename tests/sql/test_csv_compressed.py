"""CSV files compressed whole (.csv.gz, .csv.zst, .tsv.gz), as DuckDB reads them: decompressed
by their first bytes, format from the name without the suffix; compared with DuckDB. Corrupt and
truncated streams are clear errors naming the file."""
import gzip
import subprocess

import pyarrow as pa
import pytest

from conftest import polaroid_bin

TEXT = ("id,name,price,ts,flag\n" +
        "".join(f"{i},n{i % 7},{i * 0.25},2024-01-02 09:30:{i % 60:02d},{'true' if i % 3 else 'false'}\n"
                for i in range(25000)))  # ~1.2 MB: the output buffer grows


def _zstd(data):
    return pa.compress(data, codec="zstd", asbytes=True)


@pytest.fixture
def files(tmp_path):
    raw = TEXT.encode()
    paths = {}
    for name, blob in [("plain.csv", raw), ("g.csv.gz", gzip.compress(raw)),
                       ("z.csv.zst", _zstd(raw)),
                       ("two.csv.gz", gzip.compress(raw) + gzip.compress(b"9999,x,1.5,2024-01-03 00:00:00,true\n")),
                       ("t.tsv.gz", gzip.compress(TEXT.replace(",", "\t").encode()))]:
        p = tmp_path / name
        p.write_bytes(blob)
        paths[name] = str(p)
    return paths


@pytest.mark.parametrize("name", ["g.csv.gz", "z.csv.zst", "two.csv.gz", "t.tsv.gz"])
@pytest.mark.parametrize("form", ["'{p}'", "read_csv_auto('{p}')"])
def test_compressed_csv(sql, files, name, form):
    src = form.format(p=files[name])
    sql.check(f"SELECT * FROM {src}")
    sql.check(f"SELECT name, count(*), sum(price), max(ts), bool_and(flag) FROM {src} GROUP BY name")


def _err(query):
    r = subprocess.run([polaroid_bin(), "sql", query], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "AddressSanitizer" not in r.stderr
    return r.stderr


def test_truncated_and_corrupt(files, tmp_path):
    raw = open(files["g.csv.gz"], "rb").read()
    p = tmp_path / "cut.csv.gz"
    p.write_bytes(raw[:len(raw) // 2])
    assert "cut.csv.gz" in _err(f"SELECT count(*) FROM '{p}'")
    assert "ends early" in _err(f"SELECT count(*) FROM '{p}'")
    p = tmp_path / "junk.csv.gz"
    p.write_bytes(raw + b"junk!")
    assert "garbage after the gzip data" in _err(f"SELECT count(*) FROM '{p}'")
    p = tmp_path / "bad.csv.zst"
    z = bytearray(open(files["z.csv.zst"], "rb").read())
    for i in range(12, len(z), 7):
        z[i] ^= 0x5A
    p.write_bytes(bytes(z))
    assert "bad.csv.zst" in _err(f"SELECT count(*) FROM '{p}'")
