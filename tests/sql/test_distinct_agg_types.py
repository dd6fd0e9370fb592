"""DISTINCT aggregates and quantile_disc over every kind of value, against DuckDB: 64-bit
comparable values go through a radix sort of order keys (ints of every width, unsigned,
floats with NaN, -0.0 and infinities, dates, timestamps, booleans), the others through a hash
of the values (strings, dictionary-encoded strings from Parquet, decimals, intervals), NULLs
skipped; grouped (many and few groups) and not."""
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

EDGE = ("(SELECT i % 17 AS g, "
        "CASE i % 9 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN -0.0 WHEN 2 THEN 0.0 "
        "WHEN 3 THEN 'inf'::DOUBLE WHEN 4 THEN '-inf'::DOUBLE WHEN 5 THEN NULL "
        "ELSE (i % 50) / 4.0 END AS d, "
        "(i % 200 - 100)::TINYINT AS t, (i % 3000)::SMALLINT AS sm, (i * 7 % 9973)::UINTEGER AS ui, "
        "(i % 1234)::UBIGINT * 1000000000000 AS ub, (i % 77)::REAL / 3 AS r, "
        "DATE '2024-01-01' + (i % 400)::INTEGER AS dt, "
        "TIMESTAMP '2024-01-01' + (i % 5000) * INTERVAL 1 SECOND AS ts, i % 4 = 0 AS b, "
        "((i % 321) / 8.0)::DECIMAL(12, 3) AS dec, 'k' || (i % 97) AS s, "
        "(i % 50) * INTERVAL 1 HOUR AS iv FROM range(60000) t(i))")

COLS = ["d", "t", "sm", "ui", "ub", "r", "dt", "ts", "b", "dec", "s", "iv"]


@pytest.mark.parametrize("col", COLS)
def test_count_distinct_types(sql, col):
    sql.check(f"SELECT g, count(DISTINCT {col}) AS c FROM {EDGE} GROUP BY g")
    sql.check(f"SELECT count(DISTINCT {col}) AS c FROM {EDGE}")


@pytest.mark.parametrize("col", ["d", "t", "sm", "ui", "r", "dt", "ts", "dec", "s"])
def test_min_max_distinct_and_quantile_disc(sql, col):
    sql.check(f"SELECT g % 3 AS h, min(DISTINCT {col}) AS mn, max(DISTINCT {col}) AS mx, "
              f"quantile_disc({col}, 0.3) AS q FROM {EDGE} GROUP BY h")


def test_sum_avg_distinct_floats(sql):
    sql.check(f"SELECT g, sum(DISTINCT d) FILTER (WHERE isfinite(d)) AS s, "
              f"avg(DISTINCT r) AS a FROM {EDGE} GROUP BY g")


def test_dictionary_strings_from_parquet(sql, tmp_path):
    """Strings that arrive dictionary-encoded (a different dictionary per row group)."""
    n = 50000
    t = pa.table({"g": [i % 7 for i in range(n)],
                  "s": [None if i % 13 == 0 else f"v{(i * 31) % 777}" for i in range(n)]})
    path = tmp_path / "dict.parquet"
    pq.write_table(t, path, row_group_size=4000, use_dictionary=True)
    sql.check(f"SELECT g, count(DISTINCT s) AS c, min(DISTINCT s) AS m, quantile_disc(s, 0.5) AS q "
              f"FROM read_parquet('{path}') GROUP BY g")
