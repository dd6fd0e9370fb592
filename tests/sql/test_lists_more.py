"""Lists (and structs) as DuckDB users use them, compared with DuckDB at run time: GROUP BY,
DISTINCT, ORDER BY, window PARTITION BY / ORDER BY, set operations and joins over list columns
(through order-preserving binary keys, compute/sort_key.c), and the aggregates min / max / first
/ last / any_value / arg_min / arg_max / list / mode / count(DISTINCT) of lists, so a scalar
subquery can give a list. Element types: integers, strings (with NUL bytes), doubles (NaN,
-0.0), nested lists, dates, booleans, decimals, intervals; NULL lists vs NULL elements, empty
lists; the 3000-row Parquet fixture of test_lists.py over several row groups and threads."""
import pytest

from test_lists import lists  # noqa: F401  (the Parquet fixture)

TYPES_SETUP = [
    "CREATE TABLE t AS SELECT * FROM (VALUES "
    "(1, ['b', NULL], [1.5::DOUBLE, 'nan'::DOUBLE], [[1, 2], NULL], [DATE '2024-01-01'], [true, NULL], "
    "[1.25::DECIMAL(10,2)], [INTERVAL 1 MONTH]), "
    "(2, ['a' || chr(0) || 'b', 'a'], [-0.0::DOUBLE], [[1], [NULL]], [NULL::DATE], [false], [NULL::DECIMAL(10,2)], "
    "[INTERVAL 30 DAY]), "
    "(3, ['a', 'a' || chr(0) || 'b'], [0.0::DOUBLE], [[]], NULL, []::BOOLEAN[], [-1.5::DECIMAL(10,2)], [INTERVAL 2 HOUR]), "
    "(4, ['b', NULL], ['nan'::DOUBLE, 1.5], [[1, 2], NULL], [DATE '2023-01-01', NULL], [true], "
    "[]::DECIMAL(10,2)[], list_slice([INTERVAL 0 DAY], 1, 0)), "
    "(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
    "(6, [NULL::VARCHAR], [NULL::DOUBLE], [NULL::INTEGER[]], [NULL::DATE], [NULL::BOOLEAN], "
    "[NULL::DECIMAL(10,2)], [NULL::INTERVAL])"
    ") v(id, s, d, n, dt, b, dc, iv)"]

SMALL_SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, [1, 2]), (2, []::INTEGER[]), (3, NULL), "
               "(4, [1, NULL]), (5, [1, 2]), (6, [NULL]), (7, [1]), (8, [2]), (9, [-1])) v(id, l)"]

GROUPING = [
    ("group_ints", "SELECT l, count(*) AS n, min(id) AS m FROM t GROUP BY l", SMALL_SETUP),
    ("distinct_ints", "SELECT DISTINCT l FROM t", SMALL_SETUP),
    ("group_ordered_agg", "SELECT l, list(id ORDER BY id) AS ids FROM t GROUP BY l", SMALL_SETUP),
    ("group_with_other_key", "SELECT l, id % 2 AS k, count(*) AS n FROM t GROUP BY l, k", SMALL_SETUP),
    ("union", "SELECT l FROM t UNION SELECT [7]", SMALL_SETUP),
    ("intersect", "SELECT l FROM t INTERSECT SELECT [1, 2]", SMALL_SETUP),
    ("except", "SELECT l FROM t EXCEPT SELECT [1, 2]", SMALL_SETUP),
    ("count_distinct", "SELECT count(DISTINCT l) AS n FROM t", SMALL_SETUP),
    ("group_strings", "SELECT s, count(*) AS c, min(id) AS m FROM t GROUP BY s", TYPES_SETUP),
    ("group_doubles", "SELECT d, count(*) AS c FROM t GROUP BY d", TYPES_SETUP),
    ("group_nested", "SELECT n, count(*) AS c FROM t GROUP BY n", TYPES_SETUP),
    ("group_several", "SELECT dt, b, dc, count(*) AS c FROM t GROUP BY dt, b, dc", TYPES_SETUP),
    ("group_intervals", "SELECT iv, count(*) AS c FROM t GROUP BY iv", TYPES_SETUP),
    ("distinct_two", "SELECT DISTINCT s, n FROM t", TYPES_SETUP),
    ("count_distinct_types", "SELECT count(DISTINCT s) AS a, count(DISTINCT d) AS b, "
                             "count(DISTINCT n) AS c, count(s) AS e FROM t", TYPES_SETUP),
]


@pytest.mark.parametrize("name,query,setup", GROUPING, ids=[c[0] for c in GROUPING])
def test_group_distinct_lists(sql, name, query, setup):
    sql.check(query, setup=setup)


ORDERING = [
    ("asc", "SELECT id, l FROM t ORDER BY l, id", SMALL_SETUP),
    ("desc", "SELECT id, l FROM t ORDER BY l DESC, id", SMALL_SETUP),
    ("nulls_first", "SELECT id, l FROM t ORDER BY l NULLS FIRST, id", SMALL_SETUP),
    ("desc_nulls_first", "SELECT id, l FROM t ORDER BY l DESC NULLS FIRST, id", SMALL_SETUP),
    ("top_n", "SELECT id, l FROM t ORDER BY l DESC, id LIMIT 3", SMALL_SETUP),
    ("strings", "SELECT id FROM t ORDER BY s, id", TYPES_SETUP),
    ("doubles_desc", "SELECT id FROM t ORDER BY d DESC, id", TYPES_SETUP),
    ("nested", "SELECT id FROM t ORDER BY n, id", TYPES_SETUP),
    ("dates", "SELECT id FROM t ORDER BY dt NULLS FIRST, id", TYPES_SETUP),
    ("bool_decimal", "SELECT id FROM t ORDER BY b, dc DESC, id", TYPES_SETUP),
    ("intervals", "SELECT id FROM t ORDER BY iv, id", TYPES_SETUP),
    ("window_order", "SELECT id, rank() OVER (ORDER BY s) AS r FROM t ORDER BY id", TYPES_SETUP),
    ("window_partition", "SELECT id, dense_rank() OVER (PARTITION BY n ORDER BY d) AS r, "
                         "count(*) OVER (PARTITION BY s) AS c FROM t ORDER BY id", TYPES_SETUP),
]


@pytest.mark.parametrize("name,query,setup", ORDERING, ids=[c[0] for c in ORDERING])
def test_order_by_lists(sql, name, query, setup):
    sql.check(query, setup=setup, ordered=True)


AGGREGATES = [
    ("min_max", "SELECT min(l) AS a, max(l) AS b FROM t", SMALL_SETUP),
    ("first_last", "SELECT first(l) AS a, last(l) AS b, any_value(l) AS c FROM t", SMALL_SETUP),
    ("arg", "SELECT arg_min(l, id) AS a, arg_max(l, id) AS b, arg_min(id, l) AS c, "
            "arg_max(id, l) AS e FROM t", SMALL_SETUP),
    ("list_of_lists", "SELECT list(l) AS a, list(l ORDER BY id DESC) AS b FROM t", SMALL_SETUP),
    ("min_max_types", "SELECT min(s) AS a, max(s) AS b, max(d) AS e, min(n) AS f, max(n) AS g, "
                      "min(dt) AS h, max(dc) AS i, min(iv) AS j FROM t", TYPES_SETUP),
    ("ordered", "SELECT first(n ORDER BY id DESC) AS a, last(s ORDER BY id) AS b, arg_max(n, id) AS c, "
                "arg_min(s, d) AS e FROM t", TYPES_SETUP),
    ("list_distinct", "SELECT list(n ORDER BY id) AS a, list(DISTINCT s ORDER BY s) AS c FROM t", TYPES_SETUP),
    ("mode", "SELECT mode(s) AS a FROM t", TYPES_SETUP),
    ("grouped", "SELECT g, min(l) AS mi, max(l) AS ma, first(l) AS f, arg_min(l, k) AS am, list(l) AS li "
                "FROM (VALUES (1, [1], 3), (1, NULL, 1), (2, NULL, 2), (2, [2, NULL], NULL), (3, NULL, NULL)) "
                "v(g, l, k) GROUP BY g", ()),
    ("empty", "SELECT max(x) AS a, first(x) AS b, list(x) AS c FROM (SELECT [1] AS x WHERE false)", ()),
    ("filtered", "SELECT min(l) FILTER (WHERE id > 4) AS a, list(l) FILTER (WHERE id < 0) AS b FROM t",
     SMALL_SETUP),
    ("top_n", "SELECT min(l, 2) AS a, arg_max(l, k, 2) AS b FROM (VALUES ([1], 3), ([0, 5], 1), ([2], 2)) "
              "v(l, k)", ()),
]


@pytest.mark.parametrize("name,query,setup", AGGREGATES, ids=[c[0] for c in AGGREGATES])
def test_aggregates_of_lists(sql, name, query, setup):
    sql.check(query, setup=setup)


SUBQUERIES = [
    ("scalar", "SELECT (SELECT l FROM t WHERE id = 1) AS a"),
    ("scalar_none", "SELECT (SELECT l FROM t WHERE id = 99) AS a"),
    ("scalar_list", "SELECT (SELECT list(id) FROM t) AS a"),
    ("correlated", "SELECT id, (SELECT max(t2.l) FROM t t2 WHERE t2.id <= t.id) AS m FROM t"),
    ("correlated_eq", "SELECT id, (SELECT first(t2.l) FROM t t2 WHERE t2.id = t.id + 1) AS m FROM t"),
]


@pytest.mark.parametrize("name,query", SUBQUERIES, ids=[c[0] for c in SUBQUERIES])
def test_subqueries_giving_lists(sql, name, query):
    sql.check(query, setup=SMALL_SETUP)


def test_joins_on_lists(sql):
    sql.check("SELECT a.id, b.id AS id2 FROM t a JOIN t b ON a.l = b.l", setup=SMALL_SETUP)
    sql.check("SELECT a.id, b.id AS id2 FROM t a LEFT JOIN t b ON a.l = b.l AND a.id < b.id", setup=SMALL_SETUP)
    sql.check("SELECT a.id, b.id AS id2 FROM t a JOIN t b ON a.n = b.n", setup=TYPES_SETUP)
    sql.check("SELECT a.id, b.id AS id2 FROM t a JOIN t b ON a.d = b.d", setup=TYPES_SETUP)
    sql.check("SELECT id FROM t WHERE l IN (SELECT l FROM t WHERE id > 4)", setup=SMALL_SETUP)


def test_lists_over_parquet(sql, lists):  # noqa: F811
    sql.check(f"SELECT li, count(*) AS n, sum(id) AS s FROM {lists} GROUP BY li", extra=("--threads", "2"))
    sql.check(f"SELECT ls, ld, count(*) AS n FROM {lists} GROUP BY ls, ld", extra=("--threads", "2"))
    sql.check(f"SELECT count(*) AS n FROM (SELECT DISTINCT li, ls FROM {lists})")
    sql.check(f"SELECT id, li FROM {lists} ORDER BY li DESC NULLS FIRST, id", ordered=True,
              extra=("--threads", "2"))
    sql.check(f"SELECT id FROM {lists} ORDER BY ls, ld, id LIMIT 50", ordered=True)
    sql.check(f"SELECT g, min(li) AS a, max(li) AS b, min(ls) AS c, max(ld) AS e, first(li ORDER BY id) AS f, "
              f"arg_max(ls, id) AS h, count(DISTINCT li) AS i FROM {lists} GROUP BY g",
              extra=("--threads", "2"))
    sql.check(f"SELECT g, list(li ORDER BY id) AS l FROM {lists} WHERE id < 300 GROUP BY g")
    sql.check(f"SELECT id, row_number() OVER (PARTITION BY li ORDER BY id) AS r FROM {lists}")
    sql.check(f"SELECT a.id, b.id AS id2 FROM {lists} a JOIN {lists} b ON a.ls = b.ls AND a.g = b.g "
              f"WHERE a.id < 400 AND b.id < 400")


def test_many_groups(sql):
    sql.check("SELECT l, count(*) AS n FROM (SELECT [i % 3, i % 2, i % 5] AS l FROM range(100000) r(i)) GROUP BY l",
              extra=("--threads", "2"))
    sql.check("SELECT count(*) AS n, count(DISTINCT l) AS d FROM (SELECT DISTINCT [i % 300, i % 7] AS l "
              "FROM range(100000) r(i))", extra=("--threads", "2"))
    sql.check("SELECT l FROM (SELECT [i % 3, (i * 7) % 11] AS l FROM range(5000) r(i)) ORDER BY l LIMIT 7",
              ordered=True)
    # a long list: keys of many elements (the offsets past one key's bytes)
    sql.check("SELECT len(l) AS n, count(*) AS c FROM (SELECT list(i) AS l FROM range(20000) r(i) "
              "GROUP BY i % 2) GROUP BY l")


BRANCHES = [
    ("case", "SELECT id, CASE WHEN id > 3 THEN l ELSE [9] END AS c, CASE id WHEN 1 THEN NULL WHEN 2 THEN l "
             "END AS d FROM t"),
    ("coalesce", "SELECT id, coalesce(l, [0]) AS c, coalesce(NULL, l, [5, 6]) AS d, ifnull(l, []) AS e FROM t"),
    ("if", "SELECT id, if(id > 3, l, [7]) AS c, if(id > 100, [1.5], l) AS d FROM t"),
    ("nullif", "SELECT id, nullif(l, [1, 2]) AS c FROM t"),
    ("nested_case", "SELECT id, CASE WHEN id % 2 = 0 THEN [l] ELSE [[id], NULL] END AS c FROM t"),
    ("concat_op", "SELECT id, l || [5] AS a, [5] || l AS b, l || l AS c, l || NULL AS d, l || [2.5] AS e FROM t"),
    ("concat_strings", "SELECT ['a'] || ['b', NULL] AS a, [[1]] || [[2, 3]] AS b, NULL || [1] AS c"),
    ("in_list", "SELECT id, id IN [1, 2] AS a, id NOT IN [1, NULL] AS b, id IN [] AS c, NULL IN [1] AS d, "
                "id + 1 IN [3, 4] AS e, id IN [1.5, 2] AS f FROM t"),
    ("in_list_where", "SELECT id FROM t WHERE id IN [2, 4, 6] AND NOT id IN [4]"),
    ("in_values_of_lists", "SELECT id, l IN ([1, 2], [2]) AS a, l NOT IN ([1, NULL]) AS b FROM t"),
]


@pytest.mark.parametrize("name,query", BRANCHES, ids=[c[0] for c in BRANCHES])
def test_lists_in_expressions(sql, name, query):
    sql.check(query, setup=SMALL_SETUP)


def test_lists_in_expressions_over_parquet(sql, lists):  # noqa: F811
    sql.check(f"SELECT id, CASE WHEN g < 5 THEN li ELSE list_reverse(li) END AS a, coalesce(li, [-1]) AS b, "
              f"li || ls2 AS c, g IN [1, 3, 5] AS d FROM (SELECT *, list_sort(li) AS ls2 FROM {lists})",
              extra=("--threads", "2"))
    sql.check(f"SELECT id, coalesce(ls, ['none']) AS a, CASE WHEN id % 3 = 0 THEN ld END AS b FROM {lists}")


NAMES = [
    "SELECT l[1], l[1:2], l[-1], l[:2], l[2:], l[i], -l[1] FROM (SELECT [1, 2, 3] AS l, 2 AS i)",
    "SELECT x IN [1, 2], x NOT IN [1] FROM (SELECT 2 AS x)",
    "SELECT list_transform([1, 2], lambda x: x + 1), list_filter([1], lambda x, i: i > 0)",
]


@pytest.mark.parametrize("query", NAMES, ids=["subscripts", "in_list", "lambdas"])
def test_list_expression_names(sql, query):
    got = sql.check(query)
    import duckdb
    assert got.column_names == duckdb.connect().sql(query).columns


STRUCT_SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, {{'a': 1, 'b': 'x'}}), (2, NULL), "
                "(3, {{'a': NULL, 'b': 'y'}}), (4, {{'a': 1, 'b': 'x'}}), (5, {{'a': -2, 'b': NULL::VARCHAR}})) v(id, s)"]

STRUCTS = [
    ("literal", "SELECT {{'a': 1, 'b': 'x'}} AS s, {{'a': NULL}} AS n, {{'x': [1, 2], 'y': {{'z': 1.5}}}} AS nested, "
                "struct_pack(k := 2, m := 'q') AS p, [{{'a': 1}}, {{'a': 2}}] AS l", ()),
    ("keys", "SELECT {{'it''s': 1, \"Q\": 2, k: 3}} AS s", ()),
    ("fields", "SELECT id, s.a, s['b'] AS b, t.s.a AS a2, struct_extract(s, 'b') AS b2, s.A AS a3 FROM t",
     STRUCT_SETUP),
    ("group", "SELECT s, count(*) AS n FROM t GROUP BY s", STRUCT_SETUP),
    ("order", "SELECT id FROM t ORDER BY s, id", STRUCT_SETUP),
    ("order_desc", "SELECT id FROM t ORDER BY s DESC NULLS LAST, id", STRUCT_SETUP),
    ("compare", "SELECT id, s = {{'a': 1, 'b': 'x'}} AS e, s < {{'a': 1, 'b': 'y'}} AS l, "
                "s IS DISTINCT FROM NULL AS d FROM t", STRUCT_SETUP),
    ("aggregates", "SELECT min(s) AS mi, max(s) AS ma, first(s) AS f, list(s) AS l, count(DISTINCT s) AS c FROM t",
     STRUCT_SETUP),
    ("case", "SELECT id, CASE WHEN id > 2 THEN s END AS c, coalesce(s, {{'a': 0, 'b': 'z'}}) AS d FROM t",
     STRUCT_SETUP),
    ("where", "SELECT id FROM t WHERE s.a = 1 OR s.b = 'y'", STRUCT_SETUP),
    ("from_columns", "SELECT id, {{'i': id, 'twice': id * 2, 'l': [id]}} AS s FROM t", STRUCT_SETUP),
]


@pytest.mark.parametrize("name,query,setup", STRUCTS, ids=[c[0] for c in STRUCTS])
def test_structs(sql, name, query, setup):
    sql.check(query, setup=setup)


def test_struct_names(sql):
    q = "SELECT {{'a': 1, 'b': 'x'}}, struct_pack(a := NULL), s.a, s['b'] FROM (SELECT {{'a': 1, 'b': 'x'}} AS s)"
    got = sql.check(q)
    import duckdb
    assert got.column_names == duckdb.connect().sql(sql.fmt(q)).columns


def test_struct_errors(sql):
    err = sql.error(STRUCT_SETUP + ["SELECT s.c FROM t"], "no field", "\"c\"")
    assert "LINE 2" in err and "did you mean" not in err, err
    sql.error(["SELECT {{'a': 1, 'a': 2}}"], "duplicate", "\"a\"")
    sql.error(["SELECT struct_pack(1)"], "struct_pack", "name")
    sql.error(["SELECT x.y FROM (SELECT 1 AS z) t"], "not found")


LAMBDA_SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, [1, 2, 3], 10, ['a', 'bc']), (2, []::INTEGER[], 20, NULL), "
                "(3, NULL, 30, ['x']), (4, [NULL, 5], NULL, [NULL, 'dd']), (5, [7], 50, []::VARCHAR[])) v(id, l, k, s)"]

LAMBDAS = [
    ("transform", "SELECT id, list_transform(l, lambda x: x + 1) AS a, list_transform(l, lambda x: x * k) AS b, "
                  "list_transform(l, lambda x, i: x + i) AS c, apply(s, lambda x: upper(x)) AS d, "
                  "list_transform(l, lambda x: NULL) AS e, array_transform(l, lambda x: x > 2) AS f FROM t"),
    ("filter", "SELECT id, list_filter(l, lambda x: x > 1) AS a, list_filter(l, lambda x: x IS NULL) AS b, "
               "filter(s, lambda x: len(x) > 1) AS c, list_filter(l, lambda x, i: i > 1 AND x < k) AS d, "
               "array_filter(l, lambda x: true) AS e, list_filter(l, lambda x: x - 1) AS f FROM t"),
    ("reduce", "SELECT id, list_reduce(l, lambda x, y: x + y, 0) AS a, reduce(s, lambda a, b: a || b, '') AS b, "
               "list_reduce(l, lambda acc, x, i: acc + x * i, k) AS c FROM t"),
    ("reduce_no_init", "SELECT id, list_reduce(l, lambda x, y: x + y) AS a, list_reduce(l, lambda x, y: greatest(x, y)) "
                       "AS b FROM t WHERE len(l) > 0"),
    ("nested", "SELECT id, list_transform(l, lambda x: list_transform([1, 2], lambda y: x * y)) AS a, "
               "list_filter(list_transform(l, lambda x: x * 2), lambda y: y > 2) AS b, "
               "list_transform([[1, 2], [3]], lambda x: list_reduce(x, lambda a, b: a + b + id)) AS c FROM t"),
    ("in_where", "SELECT id FROM t WHERE len(list_filter(l, lambda x: x > 1)) > 0"),
    ("grouped", "SELECT k > 20 AS g, list_transform(list(id ORDER BY id), lambda x: x * 10) AS a FROM t GROUP BY g"),
    ("case_lazy", "SELECT id, CASE WHEN id > 2 THEN list_transform(l, lambda x: 100 // x) END AS a FROM t WHERE id <> 4"),
    ("strings_structs", "SELECT list_transform(['a', 'b'], lambda x: {{'v': x, 'n': 1}}) AS a, "
                        "list_transform([{{'a': 1}}, {{'a': 2}}], lambda x: x.a + 1) AS b"),
]


@pytest.mark.parametrize("name,query", LAMBDAS, ids=[c[0] for c in LAMBDAS])
def test_lambdas(sql, name, query):
    sql.check(query, setup=LAMBDA_SETUP)


def test_lambdas_over_parquet(sql, lists):  # noqa: F811
    sql.check(f"SELECT id, list_transform(li, lambda x: x * g) AS a, list_filter(ls, lambda s: s > 's5') AS b, "
              f"list_reduce(ld, lambda a, b: a + b, 0.0) AS c FROM {lists}", extra=("--threads", "2"))


ARROWS = [
    ("SELECT list_transform([1, 2, 3], x -> x + 1) AS a, list_filter([1, 2, 3], x -> x > 1 AND x < 3) AS b, "
     "list_reduce([1, 2, 3], (x, y) -> x * y) AS c, list_transform([1, 2], (x, i) -> x = i OR i > 1) AS d"),
]


@pytest.mark.parametrize("query", ARROWS, ids=["arrow"])
def test_arrow_lambdas(sql, query):
    """x -> body (DuckDB before 2.0; DuckDB 2 refuses it by default): compared with the same
    query in DuckDB's `lambda x: body` form."""
    import re
    import duckdb
    ducked = re.sub(r"\(x, y\) ->", "lambda x, y:", re.sub(r"\(x, i\) ->", "lambda x, i:",
                                                           query.replace("x -> ", "lambda x: ")))
    expected = duckdb.connect().sql(ducked).to_arrow_table()
    got = sql.check(ducked)
    r = sql.polaroid([query])
    assert r.returncode == 0, r.stderr
    import pyarrow as pa
    arrow = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert arrow.to_pylist() == expected.to_pylist() == got.to_pylist()


def test_lambda_errors(sql):
    sql.error(["SELECT list_reduce([]::INTEGER[], lambda x, y: x + y)"], "empty")
    sql.error(["SELECT list_transform([1], 2)"], "lambda")
    sql.error(["SELECT list_filter(['a'], lambda x: [x])"], "cast", "bool")
    sql.error(["SELECT list_transform(1, lambda x: x)"], "list")
