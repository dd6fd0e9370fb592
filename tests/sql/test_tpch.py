"""The 22 TPC-H queries (bench/tpch/qNN.sql, the spec's validation parameters) on scale factor
0.01 (bench/gen_tpch.py, generated once into data/tpch/sf0.01 and kept), in polaroid and DuckDB
over the same Parquet files through views named like the spec's tables; results compared in
order (every query orders its rows; decimals exactly, doubles to 1e-9)."""
import os

import pytest

from conftest import ROOT, sql_str

import gen_tpch  # noqa: E402 (bench/ is on sys.path through conftest)

SF = 0.01
QUERIES = [f"q{i:02d}" for i in range(1, 23)]


@pytest.fixture(scope="session")
def tpch_views():
    gen_tpch.generate(SF, quiet=True)
    d = os.path.join(ROOT, gen_tpch.default_out(SF))
    return [f"CREATE VIEW {t} AS SELECT * FROM read_parquet({sql_str(gen_tpch.table_path(d, t))})"
            for t in gen_tpch.TABLES]


def query_text(name):
    with open(os.path.join(ROOT, "bench", "tpch", f"{name}.sql")) as fh:
        return fh.read().strip().rstrip(";")


@pytest.mark.parametrize("q", QUERIES)
def test_tpch(sql, tpch_views, q):
    got = sql.check(query_text(q), setup=tpch_views, ordered=True)
    assert got.num_rows > 0, f"{q} gave no rows: the data does not exercise it"


@pytest.mark.parametrize("q", ["q02", "q17", "q19", "q20"])
def test_tpch_one_thread(sql, tpch_views, q):
    """The rewritten plans (ORs factored over a join, correlated aggregates without the
    completion of missing keys) with one worker."""
    sql.check(query_text(q), setup=tpch_views, ordered=True, extra=("--threads", "1"))
