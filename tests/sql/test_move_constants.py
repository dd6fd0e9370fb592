"""Comparisons of small-integer arithmetic with a constant, like DuckDB: `x op c1 CMP c2` (op
+ - *, integer x, c1 and c2 constants of x's type) compares x with the constant solved for x
(src/expr/kernels_core.c move_constants), so `tinyint_col + 5 > 0` is `tinyint_col > -5` and does
not overflow for 127, where the arithmetic alone would. Where no solution fits the type, = and <>
are false / true (NULL for NULL), other comparisons keep the arithmetic and overflow like DuckDB.
Expected values from DuckDB at run time."""
import pytest

T = ("(VALUES (1, 127::TINYINT, 255::UTINYINT, 32767::SMALLINT, 2147483647, 9223372036854775807::BIGINT),"
     " (2, (-128)::TINYINT, 0::UTINYINT, (-32768)::SMALLINT, -2147483648, (-9223372036854775808)::BIGINT),"
     " (3, 1::TINYINT, 1::UTINYINT, 1::SMALLINT, 1, 1::BIGINT),"
     " (4, 0::TINYINT, 3::UTINYINT, 0::SMALLINT, 0, 0::BIGINT),"
     " (5, NULL::TINYINT, NULL::UTINYINT, NULL::SMALLINT, NULL::INTEGER, NULL::BIGINT)) t(id, x, u, s, i, b)")

CASES = [
    ("add_sub", f"SELECT id, x + 5 > 0 AS a, x + 5 >= 0 AS b, 0 < x + 5 AS c, x - 5 < 0 AS d, "
                f"x + 127 > 0 AS e, x + 5 + 1 > 0 AS f, x + 5 <> 0 AS g, x + 100 <= 120 AS h FROM {T}"),
    ("reversed_sub", f"SELECT id, 5 - x > 0 AS a, 5 - x <= 3 AS b, 10 > 5 - x AS c FROM {T}"),
    ("mul", f"SELECT id, x * 2 > 0 AS a, x * 2 = 6 AS b, x * -1 > 0 AS c, x * 3 = 7 AS d, "
            f"x * 3 <> 7 AS e, x * -2 <= 4 AS f FROM {T}"),
    ("eq_out_of_range", f"SELECT id, x + 5 = -126 AS a, x - 5 = 124 AS b, u + 1 = 0 AS c FROM {T}"),
    ("distinct_from", f"SELECT id, x + 5 IS DISTINCT FROM 0 AS a, x + 5 IS NOT DISTINCT FROM 6 AS b "
                      f"FROM {T}"),
    ("unsigned", f"SELECT id, u - 2 > 0 AS a, u + 1 >= 1 AS b, u - 1 = 0 AS c FROM {T}"),
    ("wider_types", f"SELECT id, s + 1 > 0 AS a, i + 1 > 0 AS b, b + 1 > 0 AS c, "
                    f"b + 5 = 9223372036854775807 AS d, b - 5 < 0 AS e FROM {T}"),
    ("where", f"SELECT id FROM {T} WHERE x + 5 > 0"),
    ("where_count", f"SELECT count(*) AS n FROM {T} WHERE x + 5 > 0 AND u - 1 >= 0"),
    ("case", f"SELECT id, CASE WHEN x + 5 > 0 THEN 'pos' ELSE 'neg' END AS k FROM {T}"),
    ("filter_agg", f"SELECT count(*) FILTER (WHERE x + 5 > 0) AS n FROM {T}"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_move_constants(sql, name, query):
    sql.check(query + (" ORDER BY id" if "id" in query.split("FROM")[0] else ""), ordered=True)


ERRORS = [
    # the constant does not fit TINYINT: compared as INTEGER, the addition overflows
    ("wide_constant", f"SELECT x + 5 > 200 FROM {T}", "overflow in addition of INT8"),
    ("column_rhs", f"SELECT x + 5 > s FROM {T}", "overflow in addition of INT8"),
    # -1 is no UTINYINT: not moved, 255 + 1 overflows
    ("unsigned_out_of_range", f"SELECT u + 1 > 0 FROM {T}", "overflow in addition of UINT8"),
    ("between", f"SELECT x + 5 BETWEEN 0 AND 100 FROM {T}", "overflow in addition of INT8"),
    ("select_arith", f"SELECT x + 5 FROM {T}", "overflow in addition of INT8"),
]


@pytest.mark.parametrize("name,query,msg", ERRORS, ids=[c[0] for c in ERRORS])
def test_move_constants_overflow(sql, name, query, msg):
    sql.error([query], msg)
