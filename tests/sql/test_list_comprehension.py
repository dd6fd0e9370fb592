"""DuckDB's list comprehensions `[e FOR x [, i] IN l [IF c]]` (session_forms.c rewrites them into
list_transform / list_filter lambdas), compared with DuckDB at run time: NULL lists, NULL
elements, empty lists, the index variable (the element's position in l, before the filter),
nested comprehensions, the row's columns in e and c, and a list that is not a list."""
import pytest

SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, [1, 2, 3], 10), (2, []::INTEGER[], 20), "
         "(3, NULL, 30), (4, [NULL, 5, NULL, 7], NULL), (5, [-1], 50)) v(id, l, k)"]
STR_SETUP = ["CREATE TABLE s AS SELECT * FROM (VALUES (1, ['a', 'bb', NULL, 'ccc']), (2, NULL), "
             "(3, ['']), (4, []::VARCHAR[])) v(id, l)"]

CASES = [
    ("filter_map", "SELECT [x * 2 FOR x IN [1, 2, 3] IF x > 1] AS a", []),
    ("map_only", "SELECT [x + 1 FOR x IN [1, 2, 3]] AS a", []),
    ("lowercase", "select [x * 2 for x in [1, 2, 3] if x > 1] as a", []),
    ("index", "SELECT [x + i FOR x, i IN [10, 20, 30] IF i <> 2] AS a", []),
    ("index_only_in_filter", "SELECT [x FOR x, i IN [10, 20, 30, 40] IF i % 2 = 0] AS a", []),
    ("null_list", "SELECT [x FOR x IN NULL::INTEGER[]] AS a", []),
    ("null_list_if", "SELECT [x FOR x IN NULL::INTEGER[] IF x > 0] AS a", []),
    ("null_elements", "SELECT [x FOR x IN [1, NULL, 3] IF x IS NOT NULL] AS a", []),
    ("null_elements_kept", "SELECT [coalesce(x, 0) FOR x IN [1, NULL, 3]] AS a", []),
    ("null_condition_drops", "SELECT [x FOR x IN [1, NULL, 3] IF x > 1] AS a", []),
    ("empty_result", "SELECT [x FOR x IN [1, 2] IF x > 5] AS a", []),
    ("nested", "SELECT [[y * 10 FOR y IN x IF y > 1] FOR x IN [[1], [2, 3], NULL, []]] AS a", []),
    ("and_or", "SELECT [x FOR x IN [1, 2, 3, 4] IF x > 1 AND x < 4 OR x = 1] AS a", []),
    ("type_change", "SELECT [x::VARCHAR || '!' FOR x IN [1, 2]] AS a", []),
    ("to_struct", "SELECT [{{'v': x, 'i': i}} FOR x, i IN ['p', 'q']] AS a", []),
    ("column", "SELECT id, [x * k FOR x IN l IF x > 0] AS a FROM t ORDER BY id", SETUP),
    ("column_no_if", "SELECT id, [x FOR x IN l] AS a, [i FOR x, i IN l] AS b FROM t ORDER BY id", SETUP),
    ("column_in_where", "SELECT id FROM t WHERE len([x FOR x IN l IF x > 1]) > 0 ORDER BY id", SETUP),
    ("aggregated", "SELECT sum(len([x FOR x IN l IF x IS NOT NULL])) AS n FROM t", SETUP),
    ("var_hides_column", "SELECT id, [k + 1 FOR k IN l IF k > 1] AS a FROM t ORDER BY id", SETUP),
    ("strings", "SELECT id, [upper(x) FOR x IN l IF length(x) > 1] AS a FROM s ORDER BY id", STR_SETUP),
    ("in_function_arg", "SELECT list_sum([x FOR x IN [1, 2, 3] IF x <> 2]) AS a", []),
    ("list_of_call", "SELECT [x || '!' FOR x IN string_split('a,bb,c', ',') IF length(x) = 1] AS a", []),
    ("in_case", "SELECT CASE WHEN true THEN [x FOR x IN [1, 2]] ELSE [3] END AS a", []),
    ("from_first", "FROM t SELECT id, [x - 1 FOR x IN l] AS a ORDER BY id", SETUP),
    ("in_subquery", "SELECT * FROM (SELECT [x FOR x IN [3, 4] IF x = 4] AS a) q", []),
]


@pytest.mark.parametrize("name,query,setup", CASES, ids=[c[0] for c in CASES])
def test_comprehension(sql, name, query, setup):
    sql.check(query, setup=setup, ordered=True)


def test_comprehension_not_a_list(sql):
    sql.error(["SELECT [x FOR x IN 5] AS a"], "list")
