"""count(*) from Parquet footers (src/plan/metacount.c): a keyless aggregate of only plain
count(*) over a Parquet scan that keeps every row (no filter left in the scan, no limit, reached
through column-only projections) is answered from the files' row-group row counts, without
reading pages. Checked against DuckDB over several files with several row groups, an empty file,
duplicate files in a list, views and CTEs; the plans that must not take the path (filters,
limits/offsets below the count, DISTINCT, joins, unions, GROUP BY, other aggregates, FILTER,
count(col)) are checked in EXPLAIN and against DuckDB. A file whose pages are corrupt but whose
footer is intact proves that the path reads no page (and count(col) over it fails cleanly)."""
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import sql_str

N_FILES = 4


def _t(n, off):
    return pa.table({
        "k": pa.array([(i + off) % 13 for i in range(n)], pa.int32()),
        "x": pa.array([None if (i + off) % 7 == 0 else float((i + off) % 100) for i in range(n)],
                      pa.float64()),
        "s": pa.array(["s%d" % ((i + off) % 5) for i in range(n)], pa.string()),
    })


@pytest.fixture(scope="module")
def cm(tmp_path_factory):
    d = tmp_path_factory.mktemp("countmeta")
    g = d / "g"
    g.mkdir()
    sizes = [5000, 0, 1, 3210]
    for i, n in enumerate(sizes):
        pq.write_table(_t(n, i * 10000), g / f"f{i}.parquet", row_group_size=700)
    pq.write_table(_t(0, 0), d / "empty.parquet")
    pq.write_table(_t(3, 0), d / "k.parquet")
    # pages overwritten with garbage, footer intact
    bad = d / "bad.parquet"
    pq.write_table(_t(20000, 0), bad, row_group_size=5000, compression="none")
    raw = bytearray(bad.read_bytes())
    flen = int.from_bytes(raw[-8:-4], "little")
    for p in range(8, len(raw) - flen - 8, 3):
        raw[p] = 0xA5
    bad.write_bytes(bytes(raw))
    # a second schema (one more column)
    m = d / "mixed"
    m.mkdir()
    pq.write_table(_t(100, 0), m / "a.parquet")
    pq.write_table(_t(50, 0).append_column("y", pa.array(range(50), pa.int64())), m / "b.parquet")
    return {"glob": sql_str(str(g / "*.parquet")), "empty": sql_str(str(d / "empty.parquet")),
            "k": sql_str(str(d / "k.parquet")), "bad": sql_str(str(bad)),
            "f0": sql_str(str(g / "f0.parquet")), "f3": sql_str(str(g / "f3.parquet")),
            "mixed": sql_str(str(m / "*.parquet")), "total": sum(sizes)}


# (query, answered from footers)
QUERIES = [
    ("SELECT count(*) FROM {glob}", True),
    ("SELECT count(*) AS a, count(*) AS b FROM {glob}", True),
    ("SELECT count(*) + 1 AS a, count(*) * 2 AS b FROM {glob}", True),
    ("SELECT count(*) FROM {empty}", True),
    ("SELECT count(*) FROM read_parquet([{f0}, {f0}, {f3}])", True),
    ("SELECT count(*) FROM (SELECT k, x FROM {glob}) q", True),
    ("WITH c AS (SELECT * FROM {glob}) SELECT count(*) FROM c", True),
    ("SELECT count(*) FROM {glob} HAVING count(*) > 1", True),
    ("SELECT count(*) FROM {glob} HAVING count(*) > 100000", True),
    ("SELECT count(*) FROM {glob} LIMIT 0", True),
    ("SELECT count(*) FROM {glob} OFFSET 1", True),
    ("SELECT DISTINCT count(*) FROM {glob}", True),
    ("SELECT count(*) FROM {glob} WHERE 1 = 1", True),
    ("SELECT count(*) FROM {glob} WHERE x > 50", False),
    ("SELECT count(*) FROM {glob} WHERE k = 3 AND s <> 's1'", False),
    ("SELECT count(*) FROM {glob} WHERE k > 1000", False),
    ("SELECT count(*) FROM {glob} WHERE 1 = 0", False),
    ("SELECT count(*) FROM (SELECT * FROM {glob} LIMIT 7) q", False),
    ("SELECT count(*) FROM (SELECT * FROM {glob} LIMIT 10 OFFSET 8205) q", False),
    ("SELECT count(*) FROM (SELECT * FROM {glob} OFFSET 8000) q", False),
    ("SELECT count(*) FROM (SELECT DISTINCT k FROM {glob}) q", False),
    ("SELECT count(*) FROM {glob} a JOIN {k} b USING (k)", False),
    ("SELECT count(*) FROM {glob} a CROSS JOIN {k} b", False),
    ("SELECT count(*) FROM (SELECT k FROM {glob} UNION ALL SELECT k FROM {k}) q", False),
    ("SELECT k, count(*) FROM {glob} GROUP BY k", False),
    ("SELECT count(*), sum(x) FROM {glob}", False),
    ("SELECT count(*), count(x) FROM {glob}", False),
    ("SELECT count(x) FROM {glob}", False),
    ("SELECT count(DISTINCT k) FROM {glob}", False),
    ("SELECT count(*) FILTER (WHERE x > 10) FROM {glob}", False),
    ("SELECT count(*) FROM (SELECT x + 1 AS y FROM {glob}) q", False),
]


def _explain(sql, q):
    r = sql.polaroid(["EXPLAIN " + q], fmt="csv")
    out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode == 0, out
    return out


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_count_meta(sql, cm, i):
    q, meta = QUERIES[i]
    q = q.format(**cm).replace("{", "{{").replace("}", "}}")
    sql.check(q)
    assert ("Parquet footers" in _explain(sql, q)) == meta, q


def test_count_meta_view(sql, cm):
    setup = ["CREATE VIEW v AS SELECT * FROM {glob}".format(**cm)]
    q = "SELECT count(*) FROM v"
    sql.check(q, setup=setup)
    r = sql.polaroid(setup + ["EXPLAIN " + q], fmt="csv")
    assert r.returncode == 0 and b"Parquet footers" in r.stdout, r.stderr


def test_count_meta_reads_no_page(sql, cm):
    """The corrupt file's footer answers count(*); reading a column of it fails cleanly."""
    r = sql.polaroid(["SELECT count(*) AS n FROM {bad}".format(**cm)], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert r.stdout.decode().split() == ["n", "20000"]
    r = sql.polaroid(["SELECT count(*) AS n FROM {bad} WHERE x > 1".format(**cm)], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, (r.stdout, err)
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err


def test_count_meta_mixed_schemas(sql, cm):
    """Files whose schemas differ (a later file has one more column): read by the first file's
    columns, as DuckDB reads them (tests/sql/test_multifile.py)."""
    sql.check("SELECT count(*) AS n FROM {mixed}".format(**cm))
