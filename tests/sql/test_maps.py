"""MAPs as DuckDB users write them, compared with DuckDB at run time: literals (MAP {k: v}),
map(keys, values), map(), map_from_entries, casts and MAP(K, V) type names, access (m[k],
element_at / map_extract, map_extract_value, map_keys / map_values / map_entries, cardinality,
map_contains*, map_concat), the errors of NULL and repeated keys; comparisons, grouping,
ordering, joins, set operations, INSERT into MAP columns and Parquet round trips. Queries are
formatted with str.format: braces are doubled."""
import os
import subprocess

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import polaroid_bin

MAPS_SETUP = [
    "CREATE TABLE t AS SELECT * FROM (VALUES "
    "(1, MAP {{'a': 1, 'b': 2}}, 'a'), "
    "(2, MAP {{'b': 20, 'c': NULL}}, 'c'), "
    "(3, NULL, 'a'), "
    "(4, map(), 'z'), "
    "(5, MAP {{'a': 1, 'b': 2}}, NULL), "
    "(6, MAP {{'x': -5}}, 'x')"
    ") v(id, m, k)"]

INT_SETUP = [
    "CREATE TABLE t AS SELECT * FROM (VALUES "
    "(1, MAP {{1: 'one', 2: 'two'}}), (2, MAP {{3: NULL}}), (3, NULL), (4, MAP {{-1: 'neg'}})"
    ") v(id, m)"]

CONSTRUCT = [
    ("literal", "SELECT MAP {{'a': 1, 'b': 2}} AS m"),
    ("literal_typeof", "SELECT typeof(MAP {{'a': 1, 'b': 2.5}}) AS t"),
    ("literal_exprs", "SELECT MAP {{'a' || 'b': 1 + 1, upper('c'): 3}} AS m"),
    ("literal_cast_key", "SELECT MAP {{'1'::INTEGER: 'x', 2: 'y'}} AS m"),
    ("literal_null_value", "SELECT MAP {{'a': 1, 'b': NULL}} AS m"),
    ("literal_nested", "SELECT MAP {{'a': [1, 2], 'b': []}} AS m, MAP {{1: MAP {{'x': 1.5}}}} AS n"),
    ("literal_struct_value", "SELECT MAP {{'k': {{'x': 1, 'y': 'z'}}}} AS m"),
    ("empty_literal", "SELECT cardinality(MAP {{}}) AS c, typeof(MAP {{}}) AS t"),
    ("map_fn", "SELECT map(['a', 'b'], [1, 2]) AS m"),
    ("map_empty", "SELECT map() AS m, typeof(map()) AS t, map([], []) AS e"),
    ("map_null_args", "SELECT map(NULL, [1]) IS NULL AS a, map(['a'], NULL) IS NULL AS b"),
    ("map_columns", "SELECT id, map([k], [id]) AS m FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, k)"),
    ("map_list_columns", "SELECT id, map(ks, vs) AS m FROM (VALUES (1, ['a', 'b'], [1, 2]), "
                         "(2, [], []), (3, NULL, [1]), (4, ['x'], [NULL])) v(id, ks, vs)"),
    ("from_entries", "SELECT map_from_entries([{{'k': 'a', 'v': 1}}, {{'k': 'b', 'v': 2}}]) AS m"),
    ("from_entries_empty", "SELECT cardinality(map_from_entries([])) AS c"),
    ("from_entries_column", "SELECT id, map_from_entries(e) AS m FROM (VALUES (1, [{{'k': 1, 'v': 'x'}}]), "
                            "(2, NULL)) v(id, e)"),
    ("cast_values", "SELECT CAST(MAP {{'a': 1}} AS MAP(VARCHAR, DOUBLE)) AS m"),
    ("cast_colon", "SELECT (MAP {{1: 2}})::MAP(BIGINT, VARCHAR) AS m"),
    ("cast_typeof", "SELECT typeof(CAST(MAP {{'a': 1}} AS MAP(VARCHAR, DECIMAL(10,2)))) AS t"),
    ("cast_null", "SELECT typeof(NULL::MAP(VARCHAR, INTEGER)) AS t, NULL::MAP(INTEGER, INTEGER) IS NULL AS n"),
    ("cast_nested_type", "SELECT typeof(NULL::MAP(VARCHAR, MAP(INTEGER, VARCHAR[]))) AS t"),
    ("cast_to_varchar", "SELECT CAST(MAP {{'a': 1, 'b': NULL}} AS VARCHAR) AS s"),
    ("create_table", "SELECT typeof(m) AS t, m FROM t", ["CREATE TABLE t (id INTEGER, m MAP(VARCHAR, INTEGER))",
                                                       "INSERT INTO t VALUES (1, MAP {{'a': 1}}), (2, NULL)"]),
    ("create_table_nested", "SELECT typeof(m) AS t FROM t",
     ["CREATE TABLE t (m MAP(VARCHAR, DECIMAL(10,2)), n INTEGER)", "INSERT INTO t VALUES (NULL, 1)"]),
]


@pytest.mark.parametrize("case", CONSTRUCT, ids=[c[0] for c in CONSTRUCT])
def test_map_construct(sql, case):
    sql.check(case[1], setup=case[2] if len(case) > 2 else ())


ERRORS = [
    ("dup_literal", "SELECT MAP {{'a': 1, 'a': 2}}", "map keys must be unique"),
    ("null_literal", "SELECT MAP {{NULL: 1}}", "map keys can not be NULL"),
    ("dup_map", "SELECT map(['a', 'a'], [1, 2])", "map keys must be unique"),
    ("null_map", "SELECT map([NULL], [1])", "map keys can not be NULL"),
    ("null_map_column", "SELECT map([k], [1]) FROM (VALUES ('a'), (NULL)) v(k)", "can not be NULL"),
    ("dup_many", "SELECT map(range(40) || [3], range(41))", "must be unique"),
    ("align", "SELECT map(['a'], [1, 2])", "does not align"),
    ("dup_entries", "SELECT map_from_entries([{{'k': 'a', 'v': 1}}, {{'k': 'a', 'v': 2}}])", "must be unique"),
    ("null_entry", "SELECT map_from_entries([{{'k': 'a', 'v': 1}}, NULL])", "can not be NULL"),
    ("cast_dup", "SELECT MAP {{1.1: 1, 1.2: 2}}::MAP(INTEGER, INTEGER)", "must be unique"),
    ("key_type", "SELECT MAP {{'a': 1}}[1]", "key"),
    ("concat_types", "SELECT map_concat(MAP {{'a': 1}}, MAP {{1: 2}})", "map_concat"),
    ("concat_one", "SELECT map_concat(MAP {{'a': 1}})", "map_concat"),
    ("entries_shape", "SELECT map_from_entries([{{'k': 'a', 'v': 1, 'z': 2}}])", "map_from_entries"),
    ("no_contains_key", "SELECT map_contains_key(MAP {{'a': 1}}, 'a')", "map_contains_key"),
    ("insert_dup", "INSERT INTO t VALUES (MAP {{'a': 1, 'a': 2}})", "must be unique"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_map_errors(sql, case):
    name, query, needle = case
    setup = ["CREATE TABLE t (m MAP(VARCHAR, INTEGER))"] if name == "insert_dup" else []
    sql.error(setup + [query], needle)


ACCESS = [
    ("subscript", "SELECT id, m['a'] AS a, m['c'] AS c, m['zz'] AS z FROM t", MAPS_SETUP),
    ("subscript_column", "SELECT id, m[k] AS v FROM t", MAPS_SETUP),
    ("subscript_int", "SELECT id, m[1] AS a, m[3] AS b, m[-1] AS c FROM t", INT_SETUP),
    ("subscript_int_wider", "SELECT id, m[1::BIGINT] AS a, m[1.5] AS b, m[2.0] AS c FROM t", INT_SETUP),
    ("subscript_string_literal", "SELECT MAP {{1: 1}}['1'] AS v"),
    ("subscript_null", "SELECT MAP {{'a': 1}}[NULL] AS v"),
    ("element_at", "SELECT id, element_at(m, 'a') AS a, map_extract(m, k) AS b FROM t", MAPS_SETUP),
    ("element_at_null_key", "SELECT map_extract(MAP {{'a': 1}}, NULL) AS v"),
    ("extract_value", "SELECT id, map_extract_value(m, 'b') AS b FROM t", MAPS_SETUP),
    ("keys_values", "SELECT id, map_keys(m) AS k, map_values(m) AS v FROM t", MAPS_SETUP),
    ("entries", "SELECT id, map_entries(m) AS e FROM t", MAPS_SETUP),
    ("entries_field", "SELECT id, struct_extract((map_entries(m))[1], 'key') AS k FROM t", MAPS_SETUP),
    ("cardinality", "SELECT id, cardinality(m) AS c FROM t", MAPS_SETUP),
    ("keys_empty", "SELECT map_keys(map()) AS k, map_values(map()) AS v, cardinality(map()) AS c"),
    ("contains", "SELECT id, map_contains(m, 'a') AS a, map_contains(m, k) AS b, "
                 "map_contains(m, NULL) AS c FROM t", MAPS_SETUP),
    ("contains_empty", "SELECT map_contains(map(), NULL) AS a, map_contains_value(map()::MAP(VARCHAR, INTEGER), NULL) AS b, "
                       "map_contains(MAP {{'a': 1}}, NULL) AS c"),
    ("contains_value", "SELECT id, map_contains_value(m, 2) AS a, map_contains_entry(m, 'b', 2) AS b FROM t",
     MAPS_SETUP),
    ("concat", "SELECT id, map_concat(m, MAP {{'b': 7, 'n': 8}}) AS c FROM t", MAPS_SETUP),
    ("concat_order", "SELECT map_concat(MAP {{'a': 1, 'c': 0}}, MAP {{'b': 2, 'a': 3}}) AS m"),
    ("concat_three", "SELECT map_concat(MAP {{'a': 1}}, MAP {{'b': 2}}, MAP {{'a': 5}}) AS m"),
    ("concat_nulls", "SELECT map_concat(MAP {{'a': 1}}, NULL) AS a, "
                     "map_concat(NULL::MAP(VARCHAR, INTEGER), NULL) IS NULL AS b"),
    ("concat_columns", "SELECT a.id, map_concat(a.m, b.m) AS c FROM t a, t b WHERE a.id <= b.id", MAPS_SETUP),
    ("concat_large", "SELECT cardinality(map_concat(map(range(30), range(30)), map(range(20, 50), range(30)))) AS c,"
                     " (map_concat(map(range(30), range(30)), map(range(20, 50), range(30))))[25] AS v"),
    ("large_map", "SELECT cardinality(map(range(1000), range(1000))) AS c, "
                  "(map(range(1000), range(1000)))[777] AS v"),
    ("many_rows", "SELECT count(DISTINCT m) AS c, sum(m[i % 100]) AS s, "
                  "sum(cardinality(map_concat(m, MAP {{1::BIGINT: 2::BIGINT}}))) AS k, "
                  "count(*) FILTER (WHERE map_contains(m, 5)) AS f "
                  "FROM (SELECT i, map([i % 100], [i]) AS m FROM range(300000) t(i))"),
    ("where", "SELECT id FROM t WHERE m['a'] = 1", MAPS_SETUP),
    ("agg_over_values", "SELECT sum(m['b']) AS s, count(m['a']) AS c FROM t", MAPS_SETUP),
    ("histogram_access", "SELECT (histogram(x))[2] AS c, map_keys(histogram(x)) AS k "
                         "FROM (VALUES (1), (2), (2), (3)) v(x)"),
]


@pytest.mark.parametrize("case", ACCESS, ids=[c[0] for c in ACCESS])
def test_map_access(sql, case):
    sql.check(case[1], setup=case[2] if len(case) > 2 else ())


KEYS = [
    ("eq", "SELECT a.id, b.id AS j, a.m = b.m AS e, a.m <> b.m AS ne, a.m < b.m AS lt, "
           "a.m IS NOT DISTINCT FROM b.m AS nd FROM t a, t b", MAPS_SETUP),
    ("eq_order_matters", "SELECT MAP {{'a': 1, 'b': 2}} = MAP {{'b': 2, 'a': 1}} AS e"),
    ("eq_widen", "SELECT MAP {{'a': 1}} = MAP {{'a': 1.0}} AS e"),
    ("in_list", "SELECT id, m IN (MAP {{'x': -5}}, map()) AS i FROM t", MAPS_SETUP),
    ("group_by", "SELECT m, count(*) AS n, min(id) AS i FROM t GROUP BY m", MAPS_SETUP),
    ("distinct", "SELECT DISTINCT m FROM t", MAPS_SETUP),
    ("count_distinct", "SELECT count(DISTINCT m) AS n FROM t", MAPS_SETUP),
    ("order_by", "SELECT id, m FROM t ORDER BY m, id", MAPS_SETUP),
    ("order_by_desc", "SELECT id FROM t ORDER BY m DESC NULLS LAST, id", MAPS_SETUP),
    ("null_vs_empty", "SELECT id, m IS NULL AS n, cardinality(m) = 0 AS e FROM t", MAPS_SETUP),
    ("join_on_map", "SELECT a.id, b.id AS j FROM t a JOIN t b ON a.m = b.m", MAPS_SETUP),
    ("join_carry", "SELECT a.id, b.m FROM t a LEFT JOIN t b ON a.id = b.id + 1", MAPS_SETUP),
    ("union", "SELECT m FROM t UNION SELECT MAP {{'q': 9}}", MAPS_SETUP),
    ("union_all_empty", "SELECT m FROM t UNION ALL SELECT map()", MAPS_SETUP),
    ("except", "SELECT m FROM t EXCEPT SELECT MAP {{'a': 1, 'b': 2}}", MAPS_SETUP),
    ("filter", "SELECT id, m FROM t WHERE m IS NOT NULL AND cardinality(m) > 1", MAPS_SETUP),
    ("case", "SELECT id, CASE WHEN id > 2 THEN m ELSE MAP {{'z': 0}} END AS c, "
             "coalesce(m, map()) AS d FROM t", MAPS_SETUP),
    ("min_max", "SELECT min(m) AS a, max(m) AS b FROM t", MAPS_SETUP),
    ("list_of_maps", "SELECT list(m ORDER BY id) AS l FROM t", MAPS_SETUP),
    ("insert_select", "SELECT * FROM u ORDER BY id",
     MAPS_SETUP + ["CREATE TABLE u (id INTEGER, m MAP(VARCHAR, BIGINT))",
                   "INSERT INTO u SELECT id, m FROM t",
                   "INSERT INTO u VALUES (7, MAP {{'w': 1}}), (8, NULL), (9, map())"]),
    ("update", "SELECT * FROM t ORDER BY id",
     MAPS_SETUP + ["UPDATE t SET m = map_concat(m, MAP {{'u': id}}) WHERE id < 3"]),
]


@pytest.mark.parametrize("case", KEYS, ids=[c[0] for c in KEYS])
def test_map_keys(sql, case):
    sql.check(case[1], setup=case[2] if len(case) > 2 else ())


def test_map_parquet_round_trip(sql, tmp_path):
    """COPY TO Parquet: DuckDB and pyarrow read the file back with equal maps; polaroid reads
    DuckDB's file too."""
    import duckdb
    p = str(tmp_path / "maps.parquet")
    setup = [s.replace("{{", "{").replace("}}", "}") for s in MAPS_SETUP]
    r = sql.polaroid(MAPS_SETUP + [f"COPY (SELECT * FROM t ORDER BY id) TO '{p}' (FORMAT parquet)"])
    assert r.returncode == 0, r.stderr.decode()
    con = duckdb.connect()
    for s in setup:
        con.execute(s)
    want = con.execute("SELECT * FROM t ORDER BY id").fetchall()
    assert con.execute(f"SELECT * FROM '{p}' ORDER BY id").fetchall() == want
    got = pq.read_table(p)
    assert pa.types.is_map(got.schema.field("m").type)
    assert got.column("m").to_pylist() == [None if m is None else list(m.items()) for _, m, _ in want]
    q = str(tmp_path / "duck.parquet")
    con.execute(f"COPY (SELECT * FROM t ORDER BY id) TO '{q}' (FORMAT parquet)")
    sql.check(f"SELECT id, m, m['a'] AS a, map_keys(m) AS k FROM '{q}'")


def test_map_arrow_output(sql):
    got = sql.check("SELECT MAP {{'a': 1, 'b': 2}} AS m, map_concat(MAP {{1: 2.5}}, MAP {{3: 4.5}}) AS n")
    assert pa.types.is_map(got.schema.field("m").type)
    assert pa.types.is_map(got.schema.field("n").type)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_map_text_output(sql, tmp_path, fmt):
    """The CSV and JSON writers print maps as DuckDB's COPY does: {a=1, b=2} and an object."""
    import duckdb
    query = ("SELECT id, m FROM (VALUES (1, MAP {'a': 1, 'b': NULL}), (2, NULL), (3, map()), "
             "(4, MAP {'x''y': -2})) v(id, m) ORDER BY id")
    p, q = str(tmp_path / f"p.{fmt}"), str(tmp_path / f"d.{fmt}")
    r = sql.polaroid([query.replace("{", "{{").replace("}", "}}")], fmt=fmt)
    assert r.returncode == 0, r.stderr.decode()
    duckdb.connect().execute(f"COPY ({query}) TO '{q}' (FORMAT {fmt})")
    want = open(q).read()
    got = r.stdout.decode()
    if fmt == "json":
        import json
        assert [json.loads(x) for x in got.splitlines()] == [json.loads(x) for x in want.splitlines()]
    else:
        assert got.replace("\r\n", "\n") == want.replace("\r\n", "\n")
    del p


PARQUET_TESTING = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                               "..", "shared", "parquet-testing", "data")

FILES = [
    ("nested_maps", "nested_maps.snappy.parquet",
     "SELECT b, c, a, map_keys(a) AS k, cardinality(a) AS n, a['a'] AS inner_map, (a['a'])[1] AS v, "
     "map_contains(a, 'b') AS has_b FROM '{f}'"),
    ("nested_maps_group", "nested_maps.snappy.parquet", "SELECT a, count(*) AS n FROM '{f}' GROUP BY a"),
    ("impala", "nullable.impala.parquet",
     "SELECT id, int_map, int_map['k1'] AS k1, map_values(int_map) AS v, element_at(int_map, 'k2') AS e "
     "FROM '{f}'"),
    ("impala_concat", "nullable.impala.parquet",
     "SELECT id, map_concat(int_map, MAP {{'k1': -1}}) AS m FROM '{f}'"),
    ("incorrect_schema", "incorrect_map_schema.parquet", "SELECT my_map, map_keys(my_map) AS k FROM '{f}'"),
]


@pytest.mark.parametrize("case", FILES, ids=[c[0] for c in FILES])
def test_map_parquet_files(sql, case):
    """Maps read from the parquet-testing files (names of the entries other than key/value)."""
    path = os.path.join(PARQUET_TESTING, case[1])
    if not os.path.exists(path):
        pytest.skip(f"{path} missing")
    sql.check(case[2].replace("{f}", os.path.abspath(path).replace("'", "''")))
