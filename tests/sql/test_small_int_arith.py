"""Integer arithmetic typing like DuckDB: an integer literal takes the type of a narrower
integer operand it fits, also when that operand is a constant (127::TINYINT + 1 is TINYINT and
overflows; it was folded to INTEGER 128); a cast (x + 1::INTEGER) or a folded expression
(x + (1 + 1)) is a typed INTEGER and widens. Compared with DuckDB (types through typeof and
the Arrow result, overflow errors)."""
import pytest

T = "(VALUES (126::TINYINT, 254::UTINYINT, 32766::SMALLINT, 1::TINYINT)) t(a, u, s, z)"

CASES = [
    ("const_types",
     "SELECT typeof(1::TINYINT + 1) AS a, typeof(1::SMALLINT * 2) AS b, typeof(1::TINYINT + 300) AS c, "
     "typeof(1::UTINYINT - 1) AS d, typeof(1 + 1::TINYINT) AS e, typeof(1::TINYINT + 5000000000) AS f, "
     "typeof(1::TINYINT * 2::TINYINT) AS g, typeof(1::TINYINT % 3) AS h, typeof(1::TINYINT // 3) AS i, "
     "typeof(1::TINYINT / 3) AS j, typeof(1::USMALLINT + 1) AS k, typeof(1::UINTEGER + 1) AS l"),
    ("typed_constants_widen",
     "SELECT typeof(1::TINYINT + 1::INTEGER) AS a, typeof(1::TINYINT + (2 + 3)) AS b, "
     "typeof((1::TINYINT + 1) + 1) AS c, typeof(1::TINYINT + -1) AS d, typeof(1 + 1) AS e, "
     "typeof(1::BIGINT + 1) AS f"),
    ("const_values",
     "SELECT 126::TINYINT + 1 AS a, 200::UTINYINT + 55 AS b, 100::TINYINT - 100 AS c, "
     "127::TINYINT + 1::INTEGER AS d, 127::TINYINT + (2 + 3) AS e, 10::TINYINT % 3 AS f, "
     "10::TINYINT // 3 AS g, 127::TINYINT + 1.5 AS h, 127::TINYINT + NULL AS i, "
     "CASE WHEN false THEN 127::TINYINT + 1 ELSE 0 END AS j"),
    ("column_types",
     f"SELECT a + 1 AS a1, u + 1 AS u1, s + 1 AS s1, a + 1::INTEGER AS a2, a + (1 + 1) AS a3, "
     f"a + 300 AS a4, a * z AS az, a - -1 AS a5, typeof(a + 1) AS t1, typeof(a + 1::INTEGER) AS t2, "
     f"typeof(a + (1 + 1)) AS t3 FROM {T}"),
    ("column_widening_values",
     f"SELECT a + 2::INTEGER AS a, a + (1 + 1) AS b, u + 2::INTEGER AS c, s + 100000 AS d FROM {T}"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_small_int_arith(sql, name, query):
    sql.check(query, ordered=True)


ERRORS = [
    ("tinyint_add", "SELECT 127::TINYINT + 1", "overflow in addition of INT8"),
    ("literal_first", "SELECT 1 + 127::TINYINT", "overflow in addition of INT8"),
    ("smallint_add", "SELECT 32767::SMALLINT + 1", "overflow in addition of INT16"),
    ("utinyint_add", "SELECT 255::UTINYINT + 1", "overflow in addition of UINT8"),
    ("utinyint_sub", "SELECT 0::UTINYINT - 1", "overflow in subtraction of UINT8"),
    ("tinyint_mul", "SELECT 100::TINYINT * 2", "overflow in multiplication of INT8"),
    ("tinyint_sub_neg", "SELECT 120::TINYINT - -8", "overflow in subtraction of INT8"),
    ("usmallint_mul", "SELECT 40000::USMALLINT * 2", "overflow in multiplication of UINT16"),
    ("two_tinyints", "SELECT 100::TINYINT + 100::TINYINT", "overflow in addition of INT8"),
    ("column", f"SELECT a + 2 FROM {T}", "overflow in addition of INT8"),
    ("column_unsigned", f"SELECT u + 2 FROM {T}", "overflow in addition of UINT8"),
    ("in_select_of_filter", f"SELECT a + 5 FROM {T} WHERE a > 0", "overflow in addition of INT8"),
]


@pytest.mark.parametrize("name,query,msg", ERRORS, ids=[c[0] for c in ERRORS])
def test_small_int_overflow(sql, name, query, msg):
    sql.error([query], msg)
