"""DuckDB's "NULL"[] lists ([] and [NULL] before they meet a typed list), list comprehensions
([e FOR x IN l IF c]), list_zip, list_append / list_prepend, list_unique and the list-valued
scalar range() / generate_series(); compared with DuckDB at run time (typeof strings too).
NULL lists vs NULL elements, empty lists, nested lists."""
import pytest

T = ("(VALUES (1, [1, 2, 3], ['a', 'b']), (2, [], ['c']), (3, NULL, NULL), (4, [NULL, 5], []), "
     "(5, [4, 4, NULL], [NULL, 'd', 'e'])) t(id, l, s)")

NULL_LISTS = [
    ("empty", "SELECT [] AS a, typeof([]) AS t"),
    ("null_elem", "SELECT [NULL] AS a, typeof([NULL]) AS t, [NULL, NULL] AS b"),
    ("nested", "SELECT [[]] AS a, typeof([[]]) AS t, typeof([[], [1]]) AS u, [[], [1]] AS b, "
               "typeof([[NULL]]) AS v, [[], NULL, [NULL]] AS c"),
    ("list_value", "SELECT list_value() AS a, typeof(list_value()) AS t"),
    ("concat", "SELECT list_concat([], [1]) AS a, typeof(list_concat([], [1])) AS t, "
               "list_concat([NULL], ['x']) AS b, typeof(list_concat([NULL], ['x'])) AS u"),
    ("concat_op", "SELECT [NULL] || [1] AS a, typeof([NULL] || [1]) AS t, [] || ['x'] AS b"),
    ("case", "SELECT CASE WHEN id > 2 THEN [] ELSE [id] END AS a, "
             "typeof(CASE WHEN id > 2 THEN [] ELSE [id] END) AS t FROM range(5) r(id)"),
    ("case_null_elem", "SELECT CASE WHEN id > 2 THEN [NULL] ELSE ['a'] END AS a, "
                       "typeof(CASE WHEN id > 2 THEN [NULL] ELSE ['a'] END) AS t FROM range(5) r(id)"),
    ("coalesce", "SELECT coalesce(NULL, [], [1]) AS a, typeof(coalesce([], [1, 2])) AS t"),
    ("compare", "SELECT [] = [] AS a, [NULL] = [NULL] AS b, [] < [1] AS c, [] = [1] AS d"),
    ("values", "SELECT x, typeof(x) AS t FROM (VALUES ([]), ([1]), ([NULL])) v(x)"),
    ("union", "SELECT [] AS x UNION ALL SELECT [1]"),
    ("union_strings", "SELECT [NULL] AS x UNION ALL SELECT ['a']"),
    ("cast", "SELECT []::INT[] AS a, typeof([]::VARCHAR[]) AS t, [NULL]::DOUBLE[] AS b"),
    ("len", "SELECT len([]) AS a, len([NULL]) AS b, list_count([NULL]) AS c"),
    ("contains", "SELECT list_contains([], 1) AS a, list_position([], 'x') AS b, "
                 "list_has_any([], [1]) AS c, list_has_all([1], []) AS d, 1 IN [] AS e"),
    ("reorder", "SELECT list_sort([]) AS a, list_distinct([NULL]) AS b, list_reverse([NULL]) AS c, "
                "flatten([[]]) AS d, flatten([]) AS e, flatten([NULL]) AS f, typeof(flatten([])) AS t"),
    ("aggregates", "SELECT list_sum([]) AS a, list_min([NULL]) AS b, list_avg([]) AS c, "
                   "list_count([]) AS d, list_aggregate([], 'sum') AS e"),
    ("nested_concat", "SELECT [[NULL]] || [[1]] AS a, list_concat([[1]], [[2.5]]) AS b, "
                      "list_concat([{{'a': 1}}], [{{'a': NULL}}]) AS c, typeof([[]] || [[1]]) AS t"),
    ("keys", "SELECT x, count(*) AS n FROM (SELECT [] AS x UNION ALL SELECT []) GROUP BY x"),
    ("in_subquery", "SELECT [] IN (SELECT [1]) AS a, [1] IN (SELECT [1]) AS b"),
    ("in_struct", "SELECT struct_pack(a := []) AS s, typeof({{'a': [NULL]}}) AS t, list(x) AS l "
                  "FROM (SELECT [] AS x)"),
    ("unnest_empty", "SELECT unnest([]) AS x"),
    ("unnest_null", "SELECT unnest([NULL]) AS x"),
    ("with_column", "SELECT id, list_concat(l, []) AS a, CASE WHEN l IS NULL THEN [] ELSE l END AS b "
                    f"FROM {T}"),
]


@pytest.mark.parametrize("name,query", NULL_LISTS, ids=[c[0] for c in NULL_LISTS])
def test_null_typed_lists(sql, name, query):
    sql.check(query)


COMPREHENSIONS = [
    ("filter_map", "SELECT [x * 2 FOR x IN [1, 2, 3] IF x > 1] AS a"),
    ("map", "SELECT [x * 2 FOR x IN [1, 2, 3]] AS a"),
    ("upper", "SELECT [upper(x) FOR x IN ['a', NULL, 'c'] IF x IS NOT NULL OR true] AS a"),
    ("columns", f"SELECT id, [x + id FOR x IN l IF x IS NOT NULL] AS a, [y || '!' FOR y IN s] AS b "
                f"FROM {T}"),
    ("nested", "SELECT [[y * x FOR y IN [1, 2]] FOR x IN [10, 20] IF x < 15] AS a"),
    ("empty", "SELECT [x FOR x IN [] IF x > 0] AS a, [x FOR x IN NULL::INT[]] AS b"),
    ("in_function", "SELECT list_sum([x FOR x IN range(10) IF x % 2 = 0]) AS a"),
    ("shadow", "SELECT [x + 1 FOR x IN l] AS a FROM (SELECT 100 AS x, [1, 2] AS l)"),
]


@pytest.mark.parametrize("name,query", COMPREHENSIONS, ids=[c[0] for c in COMPREHENSIONS])
def test_list_comprehension(sql, name, query):
    sql.check(query)


FUNCS = [
    ("zip", "SELECT list_zip([1, 2], ['a', 'b', 'c']) AS a, list_zip([1, 2], [3, 4, 5], true) AS b, "
            "list_zip([1, 2], [3, 4, 5], false) AS c"),
    ("zip_nulls", "SELECT list_zip([1, 2], NULL) AS a, list_zip(NULL::INT[], [1, 2], true) AS b, "
                  "list_zip([1], [NULL]::INT[], [3]) AS c, list_zip([], []) AS d, list_zip([7]) AS e"),
    ("zip_columns", f"SELECT id, list_zip(l, s) AS z, list_zip(l, s, true) AS t FROM {T}"),
    ("zip_access", "SELECT (list_zip([1, 2], ['a', 'b']))[2] AS a, "
                   "unnest(list_zip([1, 2], [[3], []])) AS u"),
    ("append", "SELECT list_append([1, 2], 3) AS a, list_append(NULL, 3) AS b, "
               "list_append([1], NULL) AS c, array_push_back([], 'x') AS d, array_append([[1]], [2]) AS e"),
    ("prepend", "SELECT list_prepend(3, [1, 2]) AS a, list_prepend(NULL, NULL::INT[]) AS b, "
                "array_push_front([], 0) AS c, array_prepend('z', ['y']) AS d, array_push_front([1], 0) AS e"),
    ("append_columns", f"SELECT id, list_append(l, id) AS a, list_prepend(id, l) AS b FROM {T}"),
    ("unique", "SELECT list_unique([1, 1, NULL, 2]) AS a, list_unique([]) AS b, "
               "list_unique(NULL::INT[]) AS c, typeof(list_unique([1])) AS t, "
               "array_unique(['a', 'a', 'b']) AS d"),
    ("unique_columns", f"SELECT id, list_unique(l) AS a, list_unique(s) AS b FROM {T}"),
    ("range", "SELECT range(3) AS a, range(1, 5) AS b, range(5, 1, -2) AS c, range(1, 5, 0) AS d, "
              "range(5, 1) AS e, typeof(range(3)) AS t"),
    ("generate_series", "SELECT generate_series(3) AS a, generate_series(1, 5) AS b, "
                        "generate_series(5, 1, -2) AS c, generate_series(1, 1) AS d, "
                        "generate_series(1, 6, 2) AS e, generate_series(1, 5, 0) AS f"),
    ("range_nulls", "SELECT generate_series(1, NULL) AS a, range(NULL) AS b, range(1, 3, NULL) AS c"),
    ("range_limits", "SELECT range(9223372036854775806, 9223372036854775807) AS a, "
                     "generate_series(-9223372036854775807, -9223372036854775806) AS b, "
                     "range(-9223372036854775808, 9223372036854775807, 9223372036854775807) AS c, "
                     "generate_series(9223372036854775807, -9223372036854775808, -9223372036854775807) AS d"),
    ("range_columns", "SELECT i, range(i) AS a, generate_series(i, 2 * i, 2) AS b, len(range(i * 3)) AS n "
                      "FROM range(6) t(i)"),
]


@pytest.mark.parametrize("name,query", FUNCS, ids=[c[0] for c in FUNCS])
def test_list_forms_functions(sql, name, query):
    sql.check(query)


ERRORS = [
    ("zip_not_list", ["SELECT list_zip(1, [1])"], "list_zip", "not a list"),
    ("range_timestamps", ["SELECT range(1.5, 3)"], "range", "integers"),
    ("range_too_long", ["SELECT range(0, 9223372036854775807) AS a"], "range", "2^31"),
]


@pytest.mark.parametrize("name,stmts,needle1,needle2", ERRORS, ids=[c[0] for c in ERRORS])
def test_list_forms_errors(sql, name, stmts, needle1, needle2):
    if name == "range_too_long":  # DuckDB runs out of memory or takes long: polaroid's own limit
        r = sql.polaroid(stmts, fmt="csv")
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 1 and needle2 in err, err
        return
    sql.error(stmts, needle1, needle2)
