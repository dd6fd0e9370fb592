"""A DATE column compared with a TIMESTAMP constant (`date '...' - interval '90' day` is a
TIMESTAMP): the optimizer compares the dates with the equivalent DATE constant instead
(src/plan/optimize.c, date_cmp_narrowed; floor or ceiling by operator, = and <> only at
midnight). Every operator, both operand orders, midnight and non-midnight constants, dates
before 1970 and NULLs, against DuckDB; EXPLAIN shows the DATE constant in the scan."""
import pytest

from conftest import explain, sql_str

OPS = ["<", "<=", ">", ">=", "=", "<>"]
CONSTS = {
    "midnight": "TIMESTAMP '1970-01-05 00:00:00'",
    "noon": "TIMESTAMP '1970-01-05 12:00:00'",
    "before_epoch": "TIMESTAMP '1969-12-30 06:30:00'",
    "before_epoch_midnight": "TIMESTAMP '1969-12-30 00:00:00'",
    "interval": "DATE '1970-01-10' - INTERVAL '3' DAY",
    "interval_hours": "DATE '1970-01-10' - INTERVAL '30' HOUR",
    "micro": "TIMESTAMP '1970-01-04 23:59:59.999999'",
}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    import duckdb
    d = tmp_path_factory.mktemp("date_ts_cmp")
    p = str(d / "d.parquet")
    duckdb.connect().sql(
        "COPY (SELECT i AS id, CASE WHEN i % 7 = 3 THEN NULL ELSE DATE '1969-12-25' + "
        "CAST(i % 20 AS INTEGER) END AS d FROM range(400) t(i)) "
        f"TO {sql_str(p)} (FORMAT parquet, ROW_GROUP_SIZE 50)")
    return p


def setup(p):
    return [f"CREATE VIEW t AS SELECT * FROM read_parquet({sql_str(p)})"]


@pytest.mark.parametrize("const", sorted(CONSTS))
@pytest.mark.parametrize("op", OPS)
def test_date_vs_timestamp(sql, table, op, const):
    c = CONSTS[const]
    sql.check(f"SELECT count(*) AS n, sum(id) AS s FROM t WHERE d {op} {c}", setup=setup(table))
    sql.check(f"SELECT count(*) AS n, sum(id) AS s FROM t WHERE {c} {op} d", setup=setup(table))


def test_scan_compares_dates(table, tmp_path):
    out = explain(tmp_path, setup(table),
                  "SELECT count(*) FROM t WHERE d <= DATE '1970-01-10' - INTERVAL '3' DAY")
    assert "CAST('1970-01-07' AS DATE)" in out, out
