"""Errors of scalar functions (to_timestamp, make_date, make_timestamp, ...) over several rows
(VALUES, tables, ranges) named "row 0" whatever the row, as their kernels count rows within an
internal batch: the row number is dropped (like the casts' in test_error_rows.py) and the
message keeps the value and the SQL position. DuckDB refuses the same queries."""
import pytest

V = "(VALUES (1.0::DOUBLE, 2020, 1), (2.0, 2021, 2), (1e20, 2022, 40), (3.0, 2023, 3)) t(x, y, d)"


@pytest.mark.parametrize("query,needle", [
    (f"SELECT to_timestamp(x) FROM {V}", "1e+20 seconds is out of range"),
    (f"SELECT make_date(y, 1, d) FROM {V}", "2022-1-40"),
    (f"SELECT make_timestamp(y, 1, d, 0, 0, 0) FROM {V}", "out of range"),
    ("SELECT to_timestamp(i * 1e18) FROM range(5) t(i)", "seconds is out of range"),
    ("CREATE TABLE tt AS SELECT * FROM (VALUES (1, 1.0), (2, 1e300)) v(i, x); "
     "SELECT i, to_timestamp(x) FROM tt", "out of range"),
], ids=["to_timestamp_values", "make_date", "make_timestamp", "range", "table"])
def test_kernel_errors_name_no_wrong_row(sql, query, needle):
    err = sql.error(query.split("; "), needle)
    assert " at row " not in err and "row 0" not in err, err
    assert "LINE " in err and "^" in err, err
