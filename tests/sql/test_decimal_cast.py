"""Casts of integer and DECIMAL columns to a DECIMAL of the same or a larger scale (the loop
cast_decimal_fast in src/expr/cast.c, which decimal arithmetic runs through) give DuckDB's
values, NULLs, errors and TRY_CAST NULLs; values out of the target's range fall back to the
row-by-row cast and its error."""
import pytest

# columns: i8..i64 integers, d2 DECIMAL(15,2), d0 DECIMAL(9,0), with NULLs every 7th row
SRC = ("SELECT (i % 200 - 100)::TINYINT AS i8, (i * 37 % 60000 - 30000)::SMALLINT AS i16, "
       "(i * 7919 - 500000)::INTEGER AS i32, (i * 1000003 - 123456789)::BIGINT AS i64, "
       "CASE WHEN i % 7 = 0 THEN NULL ELSE ((i * 12345) % 10000000 - 5000000)::DECIMAL(15,2) / 100 END AS d2, "
       "CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 31 - 4000)::DECIMAL(9,0) END AS d0 "
       "FROM range(3000) t(i)")
SETUP = [f"CREATE TABLE t AS {SRC}"]

CASTS = {
    "int_to_dec": "SELECT sum(i8::DECIMAL(5,1)) AS a, sum(i16::DECIMAL(10,3)) AS b, "
                  "sum(i32::DECIMAL(18,2)) AS c, sum(i64::DECIMAL(38,10)) AS d, "
                  "min(i64::DECIMAL(20,0)) AS e FROM t",
    "dec_widen": "SELECT sum(d2::DECIMAL(18,4)) AS a, min(d2::DECIMAL(38,2)) AS b, "
                 "max(d0::DECIMAL(12,3)) AS c, count(d2::DECIMAL(20,6)) AS n FROM t",
    "arith": "SELECT sum(d2 * (1 - d0 / 1000)) AS a, sum((d2 + 1) * (1 + d2)) AS b, "
             "avg(d2 - i8) AS c FROM t WHERE d0 IS NOT NULL",
    "rows": "SELECT i8, d2, d2::DECIMAL(17,4) AS w, i32::DECIMAL(12,1) AS x FROM t "
            "WHERE i32 % 13 = 0 ORDER BY i32 LIMIT 50",
    "try_range": "SELECT count(TRY_CAST(i64 AS DECIMAL(9,2))) AS n, "
                 "count(*) FILTER (WHERE TRY_CAST(i32 AS DECIMAL(8,2)) IS NULL) AS m FROM t",
}


@pytest.mark.parametrize("name", sorted(CASTS))
def test_decimal_cast(sql, name):
    q = CASTS[name]
    sql.check(q, setup=SETUP, ordered="ORDER BY" in q)


def test_decimal_cast_out_of_range(sql):
    sql.error(SETUP + ["SELECT sum(i64::DECIMAL(9,2)) FROM t"], "out of range")
    sql.error(SETUP + ["SELECT max(d2::DECIMAL(6,4)) FROM t"], "out of range")


def test_decimal_parquet_filtered(sql, tmp_path):
    """DECIMAL columns (INT64 and FIXED_LEN_BYTE_ARRAY in the file) read through a pushed filter
    (rows picked from each page: the gather of 16-byte values)."""
    import duckdb
    p = str(tmp_path / "dec.parquet")
    duckdb.sql(f"COPY (SELECT i AS k, CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 12345 % 10000000)::DECIMAL(15,2) / 100 END AS d2, "
               f"(i * 1234567)::DECIMAL(38,4) / 7 AS d38 FROM range(30000) t(i)) "
               f"TO '{p}' (FORMAT parquet, ROW_GROUP_SIZE 10000)")
    src = f"read_parquet('{p}')"
    sql.check(f"SELECT k, d2, d38 FROM {src} WHERE k % 3 = 1 AND k < 20000 ORDER BY k", ordered=True)
    sql.check(f"SELECT sum(d2), sum(d38), count(d2) FROM {src} WHERE k BETWEEN 5000 AND 25000")
