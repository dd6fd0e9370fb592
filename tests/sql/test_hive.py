"""Hive-partitioned reads (key=value directories) compared with DuckDB: the partition columns,
their types (DATE, BIGINT, else VARCHAR), URL-decoded values, __HIVE_DEFAULT_PARTITION__ as
NULL, auto-detection and hive_partitioning=true/false, projection, filters and aggregates over
partition columns, CSV layouts; and that a filter on partition columns keeps the other files'
scans from reading (their scan filter folds to false in EXPLAIN)."""
import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import polaroid_bin


@pytest.fixture
def hive(tmp_path):
    root = tmp_path / "sales"
    rows = [
        ("year=2023/region=eu", 0), ("year=2023/region=us", 1), ("year=2024/region=eu", 2),
        ("year=2024/region=north%20america", 3), ("year=2024/region=__HIVE_DEFAULT_PARTITION__", 4),
    ]
    for sub, k in rows:
        d = root / sub
        d.mkdir(parents=True)
        for part in range(2):
            n = 5 + k + part
            pq.write_table(pa.table({"id": pa.array([k * 100 + part * 10 + i for i in range(n)], pa.int64()),
                                     "amount": pa.array([float(i) * 1.5 + k for i in range(n)]),
                                     "day": pa.array([f"2024-01-{(i % 28) + 1:02d}" for i in range(n)])}),
                           str(d / f"part-{part}.parquet"))
    dates = tmp_path / "bydate"
    for i, day in enumerate(["2024-01-01", "2024-01-02"]):
        (dates / f"day={day}" / f"label={'a' if i else 'b'}").mkdir(parents=True)
        (dates / f"day={day}" / f"label={'a' if i else 'b'}" / "x.csv").write_text(f"v,w\n{i},{i * 2}\n{i + 5},7\n")
    return {"root": str(root), "dates": str(dates)}


CASES = [
    ("all", "SELECT * FROM '{root}/*/*/*.parquet'"),
    ("types", "SELECT DISTINCT typeof(year), typeof(region) FROM '{root}/*/*/*.parquet'"),
    ("explicit", "SELECT * FROM read_parquet('{root}/*/*/*.parquet', hive_partitioning=true)"),
    ("off", "SELECT * FROM read_parquet('{root}/*/*/*.parquet', hive_partitioning=false)"),
    ("project_key_only", "SELECT region FROM '{root}/*/*/*.parquet'"),
    ("filter_key", "SELECT id, region FROM '{root}/*/*/*.parquet' WHERE year = 2024 AND region <> 'eu'"),
    ("filter_null_key", "SELECT count(*) FROM '{root}/*/*/*.parquet' WHERE region IS NULL"),
    ("filter_mixed", "SELECT id FROM '{root}/*/*/*.parquet' WHERE year = 2023 OR amount > 6"),
    ("group_by_keys", "SELECT year, region, count(*), sum(amount) FROM '{root}/*/*/*.parquet' GROUP BY ALL"),
    ("one_partition_glob", "SELECT *, typeof(year) FROM '{root}/year=2023/*/*.parquet'"),
    ("list_of_files", "SELECT * FROM read_parquet(['{root}/year=2023/region=eu/part-0.parquet', "
                      "'{root}/year=2024/region=eu/part-1.parquet'])"),
    ("csv_date_key", "SELECT *, typeof(day), typeof(label) FROM read_csv('{dates}/*/*/*.csv')"),
    ("csv_date_filter", "SELECT v FROM read_csv('{dates}/*/*/*.csv') WHERE day > DATE '2024-01-01'"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_hive_read(sql, hive, name, query):
    sql.check(query.format(**hive))


def explain(query):
    r = subprocess.run([polaroid_bin(), "sql", "EXPLAIN " + query], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def test_hive_filter_prunes_files(hive):
    plan = explain(f"SELECT id FROM '{hive['root']}/*/*/*.parquet' WHERE year = 2023 AND id > 3")
    scans = [ln for ln in plan.splitlines() if "SCAN" in ln]
    assert len(scans) == 5, plan  # one scan per partition (two files each)
    pruned = [ln for ln in scans if ln.rstrip().endswith("filter false")]
    kept = [ln for ln in scans if "year=2023" in ln]
    assert len(pruned) == 3 and len(kept) == 2, plan
    assert all("filter false" not in ln for ln in kept), plan


def test_hive_mismatched_keys(sql, tmp_path):
    for sub in ["a=1", "b=2"]:
        (tmp_path / "mix" / sub).mkdir(parents=True)
        pq.write_table(pa.table({"x": [1]}), str(tmp_path / "mix" / sub / "f.parquet"))
    sql.check(f"SELECT * FROM '{tmp_path}/mix/*/*.parquet'")  # auto-detection: not hive
    sql.error([f"SELECT * FROM read_parquet('{tmp_path}/mix/*/*.parquet', hive_partitioning=true)"],
              "hive partitions differ")
