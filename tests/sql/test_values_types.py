"""Types of VALUES columns mixing literals with typed values, like DuckDB: an integer literal
takes the widest small integer type of the column's other values when it fits (`(1::TINYINT),
(-1)` is TINYINT), a string literal the type of the others (`(1.0::DOUBLE), ('inf')` is
DOUBLE, `(DATE '2024-01-01'), ('2024-02-02')` DATE); compared with DuckDB (values and
typeof)."""
import pytest

CASES = [
    ("tinyint", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (-1), (100)) v(x)"),
    ("smallint_tinyint", "SELECT typeof(x) AS t, x FROM (VALUES (1::SMALLINT), (-1), (2::TINYINT)) v(x)"),
    ("literal_first", "SELECT typeof(x) AS t, x FROM (VALUES (7), (1::TINYINT)) v(x)"),
    ("literal_between", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (7), (2::SMALLINT), (-3)) v(x)"),
    ("null_first", "SELECT typeof(x) AS t, x FROM (VALUES (NULL), (1::TINYINT), (7)) v(x)"),
    ("string_after_tinyint", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (7), ('5')) v(x)"),
    ("double_then_integer", "SELECT typeof(x) AS t, x FROM (VALUES (1.0::DOUBLE), ('inf'), (2::INTEGER)) v(x)"),
    ("does_not_fit", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (300)) v(x)"),
    ("unsigned_negative", "SELECT typeof(x) AS t, x FROM (VALUES (1::UTINYINT), (-1)) v(x)"),
    ("unsigned", "SELECT typeof(x) AS t, x FROM (VALUES (1::USMALLINT), (65535)) v(x)"),
    ("with_integer_column", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (2::INTEGER), (3)) v(x)"),
    ("null", "SELECT typeof(x) AS t, x FROM (VALUES (1::TINYINT), (NULL), (5)) v(x)"),
    ("double_inf", "SELECT typeof(x) AS t, x FROM (VALUES (1.0::DOUBLE), ('inf'), ('-inf')) v(x)"),
    ("date_string", "SELECT typeof(x) AS t, x FROM (VALUES (DATE '2024-01-01'), ('2024-02-02')) v(x)"),
    ("timestamp_string", "SELECT typeof(x) AS t, x FROM (VALUES (TIMESTAMP '2024-01-01 00:00:00'), "
                         "('2024-02-02 10:00:00'), (NULL)) v(x)"),
    ("strings_stay", "SELECT typeof(x) AS t, x FROM (VALUES ('a'), ('b')) v(x)"),
    ("two_columns", "SELECT typeof(a) AS ta, typeof(b) AS tb, a, b FROM (VALUES (1::TINYINT, 2.5::DOUBLE), "
                    "(2, '1e3')) v(a, b)"),
    ("arithmetic_after", "SELECT x + 1 AS y, typeof(x + 1) AS t FROM (VALUES (1::TINYINT), (-1)) v(x)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_values_types(sql, name, query):
    sql.check(query)


def test_values_string_not_a_number(sql):
    sql.error(["SELECT x FROM (VALUES (1.0::DOUBLE), ('abc')) v(x)"], "abc")


def test_values_string_first(sql):
    """A string literal before any typed value stays VARCHAR, which does not combine with an
    INTEGER (DuckDB: an explicit cast is required)."""
    sql.error(["SELECT x FROM (VALUES ('1'), (2::INTEGER)) v(x)"], "types")
    sql.error(["SELECT x FROM (VALUES ('2024-02-02 10:00:00'), (TIMESTAMP '2024-01-01')) v(x)"], "types")
