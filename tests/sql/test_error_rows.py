"""Errors raised by expressions inside a query name no row: the kernels see internal batches
(morsels, dictionary values, one-row constants), so their row numbers were wrong for the user
('x' in the third row of a table was reported as "row 0", and twice: "row 0: ... at row 0").
The message keeps what and why, and the SQL position points at the expression. DuckDB refuses
the same queries."""
import pytest

SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, '1'), (2, '2'), (3, 'x'), (4, '4')) v(i, s)"]


@pytest.mark.parametrize("query,needle", [
    ("SELECT CAST(s AS INTEGER) FROM t", "could not convert string 'x' to INT32"),
    ("SELECT i, CAST(s AS INTEGER) + i FROM t WHERE i > 1", "could not convert string 'x'"),
    ("SELECT 2147483647 + i FROM t", "overflow in addition"),
    ("SELECT 10 // (i - 3) FROM t", "division by zero"),
    ("SELECT CAST('x' AS INTEGER)", "could not convert string 'x' to INT32"),
])
def test_expression_errors_name_no_row(sql, query, needle):
    err = sql.error(SETUP + [query], needle)
    assert " at row " not in err and "row 0" not in err and "row 1" not in err, err
    assert "LINE " in err and "^" in err, err  # the position in the SQL text
