"""Comparisons of DECIMAL values (the typed 16-byte loops cmp_run_w16 in
src/expr/kernels_core.c) and DATE -> TIMESTAMP casts (cast_date_ts_fast in src/expr/cast.c,
taken by comparisons of DATE columns with TIMESTAMPs) give DuckDB's answers, NULLs included."""
import pytest

SRC = ("SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE ((i * 7919) % 20001 - 10000)::DECIMAL(15,2) / 100 END AS d, "
       "((i * 104729) % 3001 - 1500)::DECIMAL(38,6) / 1000 AS w, "
       "CASE WHEN i % 13 = 0 THEN NULL ELSE DATE '1969-12-25' + ((i * 37) % 20000)::INTEGER END AS dt "
       "FROM range(5000) t(i)")
SETUP = [f"CREATE TABLE t AS {SRC}"]

QUERIES = {
    "dec_ops_scalar": "SELECT count(*) FILTER (WHERE d < 1.5) AS lt, count(*) FILTER (WHERE d <= -2.25) AS le, "
                      "count(*) FILTER (WHERE d > 0) AS gt, count(*) FILTER (WHERE d >= 99.99) AS ge, "
                      "count(*) FILTER (WHERE d = 12.34) AS eq, count(*) FILTER (WHERE d <> 0.5) AS ne FROM t",
    "dec_scalar_left": "SELECT count(*) FILTER (WHERE 1.5 < d) AS a, count(*) FILTER (WHERE -3 >= d) AS b, "
                       "count(*) FILTER (WHERE 0.00 = d) AS c FROM t",
    "dec_columns": "SELECT count(*) FILTER (WHERE d < w) AS a, count(*) FILTER (WHERE d = w) AS b, "
                   "count(*) FILTER (WHERE w >= d) AS c, count(*) FILTER (WHERE d <> w) AS e FROM t",
    "dec_between": "SELECT sum(d), count(*) FROM t WHERE d BETWEEN -0.5 AND 0.75 OR w BETWEEN 1.2 AND 1.3",
    "dec_rows": "SELECT i, d, w, d < w AS lt, d >= 0 AS nn FROM t WHERE i % 97 = 3 ORDER BY i",
    "date_vs_ts": "SELECT count(*) FILTER (WHERE dt < DATE '1994-01-01' + INTERVAL 1 YEAR) AS a, "
                  "count(*) FILTER (WHERE dt >= TIMESTAMP '1980-06-01 12:00:00') AS b, "
                  "count(*) FILTER (WHERE dt = TIMESTAMP '1975-01-01 00:00:00') AS c, "
                  "count(*) FILTER (WHERE dt <= TIMESTAMP '1969-12-31 23:59:59') AS e FROM t",
    "date_cast_rows": "SELECT i, dt, dt::TIMESTAMP AS ts, CAST(dt AS TIMESTAMP_MS) AS ms, "
                      "CAST(dt AS TIMESTAMP_S) AS s FROM t WHERE i % 101 = 7 ORDER BY i",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_wide_cmp(sql, name):
    q = QUERIES[name]
    sql.check(q, setup=SETUP, ordered="ORDER BY" in q)


def test_date_to_ns_overflow(sql):
    """A date past the nanosecond range is an error (the row-by-row path reports it)."""
    sql.error(["SELECT CAST(d AS TIMESTAMP_NS) FROM (VALUES (DATE '2000-01-01'), (DATE '2500-01-01')) v(d)"],
              "2500")
