"""JSON files compressed whole (.json.gz, .ndjson.gz, .jsonl.zst, gzip members concatenated), as
DuckDB reads them: decompressed by their first bytes, the format from the name without the
suffix (also FROM 'x.json.gz'); compared with DuckDB. A truncated stream is a clear error
naming the file."""
import gzip
import json
import subprocess

import pyarrow as pa
import pytest

from conftest import polaroid_bin

ROWS = [{"id": i, "name": f"n{i % 7}", "price": i * 0.25, "tags": [i % 3, i % 5],
         "big": 18446744073709551615 if i == 7 else i} for i in range(20000)]
NDJSON = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
ARRAY = json.dumps(ROWS).encode()


@pytest.fixture
def files(tmp_path):
    paths = {}
    for name, blob in [("g.json.gz", gzip.compress(NDJSON)),
                       ("a.json.gz", gzip.compress(ARRAY)),
                       ("n.ndjson.gz", gzip.compress(NDJSON)),
                       ("z.jsonl.zst", pa.compress(NDJSON, codec="zstd", asbytes=True)),
                       ("two.json.gz", gzip.compress(NDJSON[:len(NDJSON) // 2 + 7]) +
                        gzip.compress(NDJSON[len(NDJSON) // 2 + 7:]))]:
        p = tmp_path / name
        p.write_bytes(blob)
        paths[name] = str(p)
    return paths


@pytest.mark.parametrize("name", ["g.json.gz", "a.json.gz", "n.ndjson.gz", "z.jsonl.zst", "two.json.gz"])
@pytest.mark.parametrize("form", ["'{p}'", "read_json('{p}')"])
def test_compressed_json(sql, files, name, form):
    src = form.format(p=files[name])
    sql.check(f"SELECT id, name, price, tags, big::VARCHAR AS big FROM {src}")
    sql.check(f"SELECT name, count(*), sum(price), max(id) FROM {src} GROUP BY name")


def test_truncated_json_gz(files, tmp_path):
    raw = open(files["g.json.gz"], "rb").read()
    p = tmp_path / "cut.json.gz"
    p.write_bytes(raw[:len(raw) // 2])
    r = subprocess.run([polaroid_bin(), "sql", f"SELECT count(*) FROM '{p}'"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "AddressSanitizer" not in r.stderr
    assert "cut.json.gz" in r.stderr and "ends early" in r.stderr
