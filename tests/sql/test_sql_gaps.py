"""Small SQL gaps users hit (each was a refusal, a syntax error or a wrong value), compared with
DuckDB at run time:

- row values: ROW(a, b) / (a, b) (an unnamed struct, fields element1 ...), their comparisons
  (=, <>, <, <=, >, >=, IS [NOT] DISTINCT FROM: lexicographic, a NULL field equal to a NULL
  field and after every value, like DuckDB's structs) and (a, b) [NOT] IN ((1, 2), ...);
- ARRAY(SELECT ...): the subquery's column as a list in its order, [] without rows, correlated
  too;
- the bracket list literal subscripted ([NULL][1], [1, 2][2]) and after IS [NOT] DISTINCT FROM;
- negation of unsigned integers (DuckDB: the type kept, an overflow error for any value but 0;
  polaroid widened to a signed type) and of the minimum of each signed width;
- casts of the lowest / highest timestamps to TIMESTAMP_S / TIMESTAMP_MS, which round outwards
  past the microsecond range: an error like DuckDB's (the value wrapped to the other end)."""
import pytest

T = ("(VALUES (1, 2), (1, NULL), (NULL, NULL), (0, NULL), (1, 3), (2, 1), (NULL, 2)) t(a, b)")
S = "(VALUES (1, 1, 2), (2, 5, NULL), (0, 7, 8), (1, 1, 3), (2, NULL, 9)) s(k, x, y)"

ROWS = [
    ("eq_const", "SELECT (1, 2) = (1, 2) AS a, (1, 2) = (1, 3) AS b, (1, NULL) = (1, NULL) AS c, "
                 "(1, NULL) = (1, 2) AS d, (1, 2) <> (1, NULL) AS e, (1, 2) != (1, 2) AS f"),
    ("order_const", "SELECT (1, 2) < (1, 3) AS a, (1, NULL) < (1, 2) AS b, (1, NULL) > (1, 2) AS c, "
                    "(NULL, 1) < (1, 1) AS d, (1, NULL) < (2, NULL) AS e, (2, 1) >= (1, 9) AS f, "
                    "(1, 2) <= (1, 2) AS g"),
    ("distinct", "SELECT (1, 2) IS DISTINCT FROM (1, NULL) AS a, (1, NULL) IS NOT DISTINCT FROM (1, NULL) AS b"),
    ("columns", f"SELECT a, b, (a, b) = (1, 2) AS eq, (a, b) <> (1, 2) AS ne, (a, b) < (1, 2) AS lt, "
                f"(a, b) <= (1, 2) AS le, (a, b) > (1, 2) AS gt, (a, b) >= (1, 2) AS ge, "
                f"(a, b) IS DISTINCT FROM (1, NULL) AS d FROM {T}"),
    ("columns_both", f"SELECT a, b, (a, b) < (b, a) AS lt, (a, b) = (b, a) AS eq FROM {T}"),
    ("where", f"SELECT a, b FROM {T} WHERE (a, b) = (1, 2) OR (a, b) = (NULL, NULL)"),
    ("where_order", f"SELECT a, b FROM {T} WHERE (a, b) >= (1, 2)"),
    ("in_list", f"SELECT a, b, (a, b) IN ((1, 2), (0, NULL), (2, 1)) AS i, "
                f"(a, b) NOT IN ((1, 2), (NULL, NULL)) AS n FROM {T}"),
    ("in_list_const", "SELECT (1, 2) IN ((1, 2), (3, 4)) AS a, (1, 2) IN ((1, NULL), (3, 4)) AS b, "
                      "(1, 2) NOT IN ((1, 2), (3, 4)) AS c, (1, 2) IN ((1, 2)) AS d"),
    ("row_value", "SELECT ROW(1, 2) AS r, (1, 'x') AS s, ROW(1, 2) = (1, 2) AS e"),
    ("row_columns", f"SELECT (a, b) AS r FROM {T}"),
    ("row_types", "SELECT (1, 2) = (1.0, 2) AS a, (1, 2::BIGINT) < (1::TINYINT, 3) AS b, "
                  "('a', DATE '2024-01-01') < ('a', DATE '2024-01-02') AS c"),
    ("join_on_rows", "SELECT x.a, y.c FROM (VALUES (1, 2), (3, 4), (NULL, 5)) x(a, b) "
                     "JOIN (VALUES (1, 2, 'p'), (3, 5, 'q'), (NULL, 5, 'r')) y(a, b, c) "
                     "ON (x.a, x.b) = (y.a, y.b)"),
    ("in_subquery_where", f"SELECT a, b FROM {T} WHERE (a, b) IN (SELECT 1, 2 UNION ALL SELECT 2, 1)"),
    ("in_subquery_select", f"SELECT a, b, (a, b) IN (SELECT x, y FROM {S}) AS i FROM {T}"),
    ("in_subquery_no_null", f"SELECT a, b, (a, b) IN (SELECT x, y FROM {S} WHERE y IS NOT NULL) AS i "
                            f"FROM {T}"),
    ("in_subquery_forms", f"SELECT a, b, (a, b) NOT IN (SELECT x, y FROM {S}) AS n, "
                          f"(a, b) = ANY (SELECT x, y FROM {S}) AS y, "
                          f"(a, b) <> ALL (SELECT x, y FROM {S} WHERE x < 2) AS l FROM {T}"),
    ("in_subquery_empty", f"SELECT a, b, (a, b) IN (SELECT x, y FROM {S} WHERE false) AS i FROM {T}"),
    ("in_subquery_const", "SELECT (1, 2) IN (SELECT 5, NULL) AS a, (1, 2) IN (SELECT 1, NULL) AS b, "
                          "(1, NULL) IN (SELECT 1, 2) AS c, (NULL, 2) IN (SELECT 5, 6 WHERE false) AS d"),
    ("in_subquery_three", "SELECT a, (a, a + 1, a * 2) IN (SELECT x, x + 1, y FROM (VALUES (1, 2), "
                          "(2, NULL), (NULL, 6)) v(x, y)) AS i FROM (VALUES (1), (2), (3), (NULL)) t(a)"),
    ("in_subquery_case", f"SELECT a, b, CASE WHEN (a, b) IN (SELECT x, y FROM {S}) THEN 'in' ELSE 'out' END "
                         f"AS c FROM {T}"),
]


@pytest.mark.parametrize("name,query", ROWS, ids=[c[0] for c in ROWS])
def test_row_values(sql, name, query):
    sql.check(query)


def test_row_in_subquery_correlated(sql):
    """DuckDB refuses a correlated IN of several columns ("not yet supported"): the expected
    rows come from DuckDB running the same test written with EXISTS."""
    import pyarrow as pa
    import compare
    query = f"SELECT a, b, (a, b) IN (SELECT x, y FROM {S} WHERE s.k = t.a) AS i FROM {T}"
    same = (f"SELECT a, b, CASE WHEN NOT EXISTS (SELECT 1 FROM {S} WHERE s.k = t.a) THEN false "
            f"WHEN EXISTS (SELECT 1 FROM {S} WHERE s.k = t.a AND x = a AND y = b) THEN true "
            f"WHEN EXISTS (SELECT 1 FROM {S} WHERE s.k = t.a AND (x = a) IS NOT FALSE "
            f"AND (y = b) IS NOT FALSE) THEN NULL ELSE false END AS i FROM {T}")
    expected = sql.duckdb([same])
    r = sql.polaroid([query])
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    d = compare.compare_tables(expected, got)
    assert d is None, f"{d}\nexpected:\n{expected}\ngot:\n{got}"


ROW_ERRORS = [
    ("arity", "SELECT (1, 2) = (1, 2, 3)", ["row"]),
    ("in_subquery_arity", "SELECT (1, 2) IN (SELECT 1, 2, 3) AS a", ["columns"]),
]


def test_row_any_other_op_refused(sql):
    """DuckDB answers (1, 2) < ANY (SELECT ...); polaroid refuses it, naming the construct."""
    r = sql.polaroid(["SELECT (1, 2) < ANY (SELECT 1, 3) AS a"], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1 and "a row compared with a subquery" in err, err


@pytest.mark.parametrize("name,query,needles", ROW_ERRORS, ids=[c[0] for c in ROW_ERRORS])
def test_row_values_error(sql, name, query, needles):
    sql.error([query], *needles)


P = "(VALUES (0), (2), (NULL), (9)) t(a)"

ARRAYS = [
    ("plain", "SELECT ARRAY(SELECT 1) AS a, ARRAY(SELECT 'x') AS b"),
    ("empty", "SELECT ARRAY(SELECT 1 WHERE false) AS a"),
    ("ordered", "SELECT ARRAY(SELECT x FROM range(5) r(x) ORDER BY x DESC) AS a"),
    ("limit", "SELECT ARRAY(SELECT x FROM range(10) r(x) ORDER BY x DESC LIMIT 3) AS a"),
    ("nulls", "SELECT ARRAY(SELECT x FROM (VALUES (1), (NULL), (3)) v(x) ORDER BY x NULLS FIRST) AS a"),
    ("correlated_eq", f"SELECT a, ARRAY(SELECT x FROM range(5) r(x) WHERE x = t.a) AS l FROM {P}"),
    ("correlated_lt", f"SELECT a, ARRAY(SELECT x FROM range(5) r(x) WHERE x < t.a ORDER BY x DESC) AS l "
                      f"FROM {P}"),
    ("correlated_agg", f"SELECT a, ARRAY(SELECT count(*) FROM range(5) r(x) WHERE x = t.a) AS l FROM {P}"),
    ("in_expr", "SELECT len(ARRAY(SELECT x FROM range(7) r(x))) AS n, "
                "list_sum(ARRAY(SELECT x FROM range(7) r(x))) AS s"),
    ("grouped", "SELECT g, ARRAY(SELECT x FROM range(4) r(x) WHERE x <= g ORDER BY x) AS l "
                "FROM (VALUES (1), (1), (3)) t(g) GROUP BY g"),
]


@pytest.mark.parametrize("name,query", ARRAYS, ids=[c[0] for c in ARRAYS])
def test_array_subquery(sql, name, query):
    sql.check(query)


def test_array_subquery_columns(sql):
    sql.error(["SELECT ARRAY(SELECT 1, 2)"], "column")


BRACKETS = [
    ("subscript_null", "SELECT [NULL][1] AS a"),
    ("subscript", "SELECT [1, 2][2] AS a, [[1, 2], [3]][2][1] AS b, [1, 2, 3][2:3] AS c, "
                  "['a', 'b'][-1] AS d"),
    ("distinct_from", "SELECT [1] IS DISTINCT FROM [1] AS a, [1, 2] IS NOT DISTINCT FROM [1, 2] AS b, "
                      "[1, NULL] IS DISTINCT FROM [1] AS c"),
    ("distinct_from_column", "SELECT l, l IS DISTINCT FROM [1, NULL] AS d, l IS NOT DISTINCT FROM [] AS e "
                             "FROM (VALUES ([1, NULL]), ([]), (NULL)) t(l)"),
    ("compare", "SELECT [1, 2] = [1, 2] AS a, [1, 2] < [1, 3] AS b, [1] <> [1, 2] AS c, "
                "[NULL] = [NULL] AS d"),
    ("where", "SELECT x FROM (VALUES ([1]), ([2])) t(x) WHERE x = [1]"),
]


@pytest.mark.parametrize("name,query", BRACKETS, ids=[c[0] for c in BRACKETS])
def test_bracket_lists(sql, name, query):
    sql.check(query)


SIGNED = [("TINYINT", -128), ("SMALLINT", -32768), ("INTEGER", -2147483648),
          ("BIGINT", -9223372036854775808)]
UNSIGNED = ["UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"]


@pytest.mark.parametrize("t", UNSIGNED)
def test_neg_unsigned_zero(sql, t):
    sql.check(f"SELECT -x AS a, typeof(-x) AS t FROM (SELECT 0::{t} AS x UNION ALL SELECT NULL)")


@pytest.mark.parametrize("t", UNSIGNED)
def test_neg_unsigned_error(sql, t):
    sql.error([f"SELECT -x AS a FROM (SELECT 7::{t} AS x)"], "overflow")


OPS = ["-x", "abs(x)", "x // m"]


@pytest.mark.parametrize("t,mn", SIGNED, ids=[s[0] for s in SIGNED])
@pytest.mark.parametrize("op", OPS)
def test_signed_min_error(sql, t, mn, op):
    sql.error([f"SELECT {op} AS r FROM (SELECT ({mn})::{t} AS x, (-1)::{t} AS m)"], "overflow")


@pytest.mark.parametrize("t,mn", SIGNED, ids=[s[0] for s in SIGNED])
def test_signed_min_ok(sql, t, mn):
    sql.check(f"SELECT x % m AS a, x % -1 AS b, -(x + 1) AS c, abs(x + 1) AS d, x / m AS e, "
              f"x * 1 AS f FROM (SELECT ({mn})::{t} AS x, (-1)::{t} AS m)")


TS_EDGES = [
    ("s_low_exact", "SELECT make_timestamp(-9223372036854000000)::TIMESTAMP_S AS a"),
    ("s_high_exact", "SELECT make_timestamp(9223372036000000000)::TIMESTAMP_S AS a"),
    ("ms_low", "SELECT make_timestamp(-9223372036854775000)::TIMESTAMP_MS AS a"),
    ("s_high_down", "SELECT make_timestamp(9223372036854499999)::TIMESTAMP_S AS a"),
    ("round", "SELECT ('1960-01-01 00:00:00.7'::TIMESTAMP::TIMESTAMP_S)::VARCHAR AS a, "
              "('2020-01-01 00:00:00.0007'::TIMESTAMP::TIMESTAMP_MS)::VARCHAR AS b"),
]


@pytest.mark.parametrize("name,query", TS_EDGES, ids=[c[0] for c in TS_EDGES])
def test_timestamp_unit_edges(sql, name, query):
    sql.check(query)


TS_ERRORS = [
    ("s_lowest", "SELECT make_timestamp(-9223372036854775806)::TIMESTAMP_S AS a"),
    ("ms_lowest", "SELECT make_timestamp(-9223372036854775806)::TIMESTAMP_MS AS a"),
    ("s_highest", "SELECT make_timestamp(9223372036854775806)::TIMESTAMP_S AS a"),
    ("s_high_half", "SELECT make_timestamp(9223372036854500000)::TIMESTAMP_S AS a"),
    ("s_low_half", "SELECT make_timestamp(-9223372036854500000)::TIMESTAMP_S AS a"),
    ("ns_lowest", "SELECT make_timestamp(-9223372036854776)::TIMESTAMP_NS AS a"),
]


@pytest.mark.parametrize("name,query", TS_ERRORS, ids=[c[0] for c in TS_ERRORS])
def test_timestamp_unit_edges_error(sql, name, query):
    sql.error([query], "timestamp")


BIG = 9223372036854775807
SUMS = [
    ("one_group", f"SELECT sum(x) AS s FROM (VALUES ({BIG}), (1), (-5)) t(x)"),
    ("grouped", f"SELECT g, sum(x) AS s FROM (VALUES (1, {BIG}), (1, 10), (1, -20), (2, -{BIG}), "
                f"(2, -1), (2, 3), (3, NULL)) t(g, x) GROUP BY g"),
    ("distinct", f"SELECT sum(DISTINCT x) AS s FROM (VALUES ({BIG}), ({BIG}), (1), (-1), (-7)) t(x)"),
    ("filter", f"SELECT sum(x) FILTER (WHERE x <> 0) AS s FROM (VALUES ({BIG}), (0), (3), (-9)) t(x)"),
    ("many_rows", "SELECT sum(CASE WHEN i % 2 = 0 THEN 4611686018427387904 ELSE -4611686018427387903 END) "
                  "AS s FROM range(3000000) r(i)"),
    ("many_groups", "SELECT i % 1000 AS g, sum(CASE WHEN i < 1000000 THEN 4611686018427387904 "
                    "ELSE -4611686018427387904 END) AS s FROM range(2000000) r(i) GROUP BY g"),
    ("window", f"SELECT i, sum(x) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s "
               f"FROM (VALUES (1, {BIG}), (2, -{BIG}), (3, {BIG}), (4, -{BIG}), (5, {BIG})) t(i, x)"),
    ("window_part", f"SELECT i, sum(x) OVER (PARTITION BY i % 2) AS s FROM (VALUES (1, {BIG}), (2, 5), "
                    f"(3, {BIG}), (4, 6), (5, -{BIG}), (7, -{BIG})) t(i, x)"),
    ("int32", "SELECT sum(x) AS s, g FROM (SELECT (i % 3)::INTEGER AS g, 2147483647::INTEGER AS x "
              "FROM range(100000) r(i)) GROUP BY g"),
]


@pytest.mark.parametrize("name,query", SUMS, ids=[c[0] for c in SUMS])
def test_sum_past_bigint(sql, name, query):
    sql.check(query)


SUM_TOO_BIG = [
    ("one_group", f"SELECT sum(x) AS s FROM (VALUES ({BIG}), (1)) t(x)"),
    ("grouped", f"SELECT g, sum(x) AS s FROM (VALUES (1, {BIG}), (1, 1), (2, 1)) t(g, x) GROUP BY g"),
    ("negative", f"SELECT sum(x) AS s FROM (VALUES (-{BIG}), (-2)) t(x)"),
    ("many_rows", "SELECT sum(4611686018427387904) AS s FROM range(100000)"),
]


@pytest.mark.parametrize("name,query", SUM_TOO_BIG, ids=[c[0] for c in SUM_TOO_BIG])
def test_sum_past_bigint_error(sql, name, query):
    """DuckDB's HUGEINT answer is outside BIGINT: polaroid refuses with a clear error."""
    import duckdb
    v = duckdb.sql(query).fetchall()[-1][-1]
    assert not (-2**63 <= v < 2**63)
    r = sql.polaroid([query], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    assert "does not fit BIGINT" in err and str(v) in err, err


PIVOT_SETUP = ["CREATE TABLE pv AS SELECT * FROM (VALUES ('a', 'x', 1), ('a', 'y', 2), ('b', 'x', 3), "
               "('b', 'x', NULL)) t(k, c, v)"]
PIVOTS = [
    ("times", "PIVOT pv ON c USING sum(v) * 2"),
    ("coalesce", "PIVOT pv ON c USING coalesce(sum(v), 0)"),
    ("filter", "PIVOT pv ON c USING sum(v * 2) FILTER (WHERE v > 1)"),
    ("alias", "PIVOT pv ON c USING sum(v) * 2 AS s, max(v)"),
    ("ordered", "PIVOT pv ON c USING list(v ORDER BY v DESC)"),
    ("group_by", "PIVOT pv ON c USING sum(v) + 1 GROUP BY k"),
]


@pytest.mark.parametrize("name,query", PIVOTS, ids=[c[0] for c in PIVOTS])
def test_pivot_using_expressions(sql, name, query):
    sql.check(query, setup=PIVOT_SETUP)


@pytest.mark.parametrize("query", ["PIVOT pv ON c USING sum(v) + count(*)", "PIVOT pv ON c USING v + 1"])
def test_pivot_using_not_one_aggregate(sql, query):
    sql.error(PIVOT_SETUP + [query], "exactly one aggregate")
