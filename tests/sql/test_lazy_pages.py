"""Selective Parquet reads page by page (src/io/parquet/column.c walk_lazy): a filtered scan
over a file read with pread reads each page's header first (1 KiB) and the body only when the
page can hold matching rows. Page headers larger than that first read (long min/max statistics
in the header) are read again whole; a corrupt header gives a clean error, never a hang.

Regression: the re-read reset the status of the failed first decode, so the page was used with
the unset header of the failed decode (garbage length: the walk could loop for ever)."""
import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import polaroid_bin, sql_str

LONG = 1500  # bytes per string value: a page header with min/max statistics is > 1 KiB


@pytest.fixture(scope="module")
def lp(tmp_path_factory):
    d = tmp_path_factory.mktemp("lazypages")
    n = 3000
    s = ["%s%05d" % (chr(ord("a") + i % 7) * LONG, i % 40) for i in range(n)]
    t = pa.table({"s": pa.array(s, pa.string()),
                  "x": pa.array([None if i % 11 == 0 else i * 0.5 for i in range(n)]),
                  "k": pa.array([i % 5 for i in range(n)], pa.int32())})
    p = d / "long_stats.parquet"
    # small pages so every page header carries its own long statistics
    pq.write_table(t, p, row_group_size=1000, data_page_size=4096, compression="zstd",
                   write_page_index=False)
    return {"p": p, "s": s}


def _headers_are_long(path):
    """The first data page header of column s holds long min/max statistics, so it is larger
    than the 1 KiB first read (else the test would not exercise the second read): the header's
    first KiB is all statistics text (the page body is zstd, no such runs)."""
    cc = pq.ParquetFile(path).metadata.row_group(0).column(0)
    with open(path, "rb") as fh:
        fh.seek(cc.data_page_offset)
        head = fh.read(1024)
    return any(ch * 1000 in head for ch in (b"a", b"b", b"c", b"d", b"e", b"f", b"g"))


@pytest.mark.parametrize("where", [
    "s = '{v}'",
    "s = '{v}' AND x > 10",
    "s <> '{v}'",
    "k = 3",
    "x > 1000",
])
def test_lazy_pages_long_headers(sql, lp, where):
    assert _headers_are_long(lp["p"])
    v = lp["s"][7 * 3 + 2]
    q = ("SELECT count(*) AS n, sum(x) AS sx, min(k) AS mk FROM {f} WHERE "
         + where.format(v=v)).replace("{f}", sql_str(str(lp["p"])))
    q = q.replace("{", "{{").replace("}", "}}")
    for env in ("0", None):  # pread (page by page) and the default path
        old = os.environ.get("PL_MMAP")
        if env is None:
            os.environ.pop("PL_MMAP", None)
        else:
            os.environ["PL_MMAP"] = env
        try:
            sql.check(q)
        finally:
            if old is None:
                os.environ.pop("PL_MMAP", None)
            else:
                os.environ["PL_MMAP"] = old


def test_lazy_pages_corrupt_header_fails_fast(tmp_path):
    """Pages overwritten with garbage (footer intact): a filtered read fails with an error
    naming the column, within the timeout, on every thread count."""
    n = 20000
    t = pa.table({"k": pa.array([i % 13 for i in range(n)], pa.int32()),
                  "x": pa.array([None if i % 7 == 0 else float(i % 100) for i in range(n)])})
    p = tmp_path / "bad.parquet"
    pq.write_table(t, p, row_group_size=5000, compression="none")
    raw = bytearray(p.read_bytes())
    flen = int.from_bytes(raw[-8:-4], "little")
    for i in range(8, len(raw) - flen - 8, 3):
        raw[i] = 0xA5
    p.write_bytes(bytes(raw))
    for threads in ("1", "2"):
        for _ in range(3):
            r = subprocess.run([polaroid_bin(), "sql", "--threads", threads, "--format", "csv",
                                "SELECT count(*) AS n FROM " + sql_str(str(p)) + " WHERE x > 1"],
                               capture_output=True, timeout=30)
            err = r.stderr.decode(errors="replace")
            assert r.returncode == 1, (r.stdout, err)
            assert "AddressSanitizer" not in err and "runtime error:" not in err, err
            assert 'column "x"' in err, err
