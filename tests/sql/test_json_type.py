"""The JSON type (a VARCHAR tagged JSON: src/columnar/type.c, casts in src/expr/cast.c) and the
functions that build JSON (src/expr/kernels_json.c, values rendered by src/io/json/json_value.c):
CAST(x AS JSON) / x::JSON (VARCHAR validated and kept as written; other types rendered as
to_json does), JSON -> VARCHAR and scalar types, typeof, CREATE TABLE with a JSON column,
to_json / json / json_quote / array_to_json / row_to_json, json_object, json_array,
json_group_array, json_group_object, Parquet's JSON logical type. Expected values come from
DuckDB at run time; malformed input is an error in both."""
import pytest

ROWS = ("(SELECT * FROM (VALUES "
        "(1, '{\"a\" : 1, \"b\": [1, 2.50]}', 1.5::DOUBLE, 'x', DATE '2020-01-02'), "
        "(2, ' [1, \"two\", null] ', 1e21::DOUBLE, 'a\"b\\\\c', DATE '1999-12-31'), "
        "(3, NULL, NULL, NULL, NULL), "
        "(4, '\"str\"', 0.000001::DOUBLE, '', DATE '2024-02-29'), "
        "(5, '12', -0.0::DOUBLE, 'é\n', NULL)) t(k, j, d, s, dt))")

CASES = [
    ("cast_text", f"SELECT k, j::JSON AS j, CAST(j AS JSON)::VARCHAR AS v FROM {ROWS}"),
    ("typeof", "SELECT typeof('{}'::JSON) AS a, typeof(CAST('1' AS JSON)::VARCHAR) AS b, "
               "typeof(json_extract('{\"a\":1}', '$.a')) AS c, typeof('{\"a\":1}'::JSON -> 'a') AS d, "
               "typeof(json_extract_string('{\"a\":1}', '$.a')) AS e, typeof(to_json(1)) AS f, "
               "typeof(json_object()) AS g"),
    ("compare", "SELECT '{\"a\":1}'::JSON = '{\"a\":1}' AS a, '{\"a\":1}'::JSON < '{\"b\":1}'::JSON AS b, "
                "'[1]'::JSON = '[ 1 ]'::JSON AS c"),
    ("json_to_scalar", "SELECT '1'::JSON::INT AS a, '\"2020-01-01\"'::JSON::DATE AS b, '\"7\"'::JSON::BIGINT AS c, "
                       "'true'::JSON::BOOLEAN AS d, 'true'::JSON::INT AS e, '1.5'::JSON::INT AS f, "
                       "'null'::JSON::INT AS g, '\"abc\"'::JSON::VARCHAR AS h, ' 2.5 '::JSON::DOUBLE AS i"),
    ("to_json_scalars", f"SELECT k, to_json(k) AS a, to_json(d) AS b, to_json(s) AS c, to_json(dt) AS e, "
                        f"to_json(j) AS f, to_json(k > 2) AS g FROM {ROWS}"),
    ("to_json_doubles", "SELECT to_json(x) AS j FROM (VALUES (1e20::DOUBLE), (1e21), (1e-5), (1e-7), (0.0), "
                        "(123.456), (1e300), (2.5e-300), ('nan'::DOUBLE), ('inf'::DOUBLE), ('-inf'::DOUBLE), "
                        "(1/3), (100.0::DOUBLE), (5e-324)) t(x)"),
    ("to_json_types", "SELECT to_json(1.5::FLOAT) AS a, to_json(1.25::DECIMAL(5,2)) AS b, "
                      "to_json(TIMESTAMP '2020-01-02 03:04:05.5') AS c, to_json(TIME '01:02:03') AS d, "
                      "to_json(INTERVAL 3 DAY) AS e, to_json('\\x01'::BLOB) AS f, to_json(true) AS g, "
                      "to_json(NULL) AS h, to_json(-7::TINYINT) AS i, to_json(18446744073709551615::UBIGINT) AS l"),
    ("to_json_nested", "SELECT to_json(MAP {1: 'a', 2: NULL}) AS a, to_json(MAP {'x': [1,2]}) AS b, "
                       "to_json({'a': NULL, 'b': [NULL], 'c': {'d': 'e'}}) AS c, to_json([]::INT[]) AS d, "
                       "to_json({'j': '{\"x\" : 1}'::JSON}) AS e, to_json([[1, 2], NULL, []]) AS f, "
                       "to_json(['a', NULL]) AS g"),
    ("cast_to_json", "SELECT [1,2]::JSON AS a, {'a':1,'b':'x'}::JSON AS b, DATE '2020-01-01'::JSON AS c, "
                     "1e20::DOUBLE::JSON AS d, 42::JSON AS e, true::JSON AS f"),
    ("json_fn", "SELECT json('{\"x\" : 1}') AS a, json(' [1, 2.50, 1e3] ') AS b, json(NULL) AS c, "
                "json('{\"x\":1}'::JSON) AS d"),
    ("json_quote", "SELECT json_quote('a\"b') AS a, json_quote(1) AS b, json_quote([1, 2]) AS c, "
                   "json_quote(NULL) AS d"),
    ("array_row_to_json", "SELECT row_to_json({'a': 1, 'b': [true]}) AS a, array_to_json([1, NULL]) AS b, "
                          "array_to_json(NULL::INT[]) AS c"),
    ("json_object", f"SELECT k, json_object('k', k, 's', s, 'j', j::JSON, 'l', [d]) AS o, "
                    f"json_object() AS e, json_object('n', NULL) AS n FROM {ROWS}"),
    ("json_array", f"SELECT k, json_array(k, s, NULL, {{'d': dt}}) AS a, json_array() AS e, "
                   f"json_array(j::JSON) AS j FROM {ROWS}"),
    ("group_array", "SELECT g, json_group_array(x) AS a, json_group_object(k, x) AS o FROM (VALUES "
                    "(1, 1, 'a'), (1, NULL, 'b'), (1, 3, 'a'), (2, 4, 'z'), (3, NULL, 'n')) t(g, x, k) "
                    "GROUP BY g ORDER BY g"),
    ("group_array_ungrouped", "SELECT json_group_array(s) AS a, json_group_object(k, dt) AS o "
                              f"FROM {ROWS} WHERE k < 3"),
    ("group_array_empty", "SELECT json_group_array(x) AS a, json_group_object(x, x) AS o "
                          "FROM (SELECT 1 AS x WHERE false)"),
    ("group_object_int_keys", "SELECT json_group_object(k, x) AS o FROM (VALUES (1, 5), (2, 6)) t(x, k)"),
    ("group_array_window", "SELECT x, json_group_array(x) OVER (ORDER BY x) AS w "
                           "FROM (VALUES (1), (2), (3)) t(x) ORDER BY x"),
]


DOCS = ("(SELECT * FROM (VALUES "
        "(1, '{\"a\": 1, \"b\": {\"c\": [1, 2.50, {\"d\": null}]}, \"a\": 2}'), "
        "(2, '[1, [2, 3], {\"x\": \"y\"}, []]'), "
        "(3, NULL), "
        "(4, '\"s\"'), "
        "(5, '{}'), "
        "(6, '{\"a\": [{\"b\": 1}, {\"b\": 2}, {\"c\": 3}], \"z\": {\"b\": [4]}}')) t(k, j))")

PATH_CASES = [
    ("keys", f"SELECT k, json_keys(j) AS a, json_keys(j, '$.b') AS b, json_keys(j, '$[2]') AS c, "
             f"json_keys(j::JSON, '/z') AS d FROM {DOCS}"),
    ("merge_patch", "SELECT json_merge_patch('{\"a\":1,\"b\":2}', '{\"b\":null,\"c\":3}') AS a, "
                    "json_merge_patch('{\"a\":{\"x\":1}}', '{\"a\":{\"y\":2}}') AS b, "
                    "json_merge_patch('[1]', '{\"a\":1}') AS c, json_merge_patch('{\"a\":1}', '[2]') AS d, "
                    "json_merge_patch('{\"a\":1}', '{\"b\":2}', '{\"c\":3}') AS e, "
                    "json_merge_patch(NULL, '{\"q\": {\"r\": null, \"s\": 1.50}}') AS f, "
                    "json_merge_patch('{\"a\":1}', NULL) AS g, json_merge_patch('{\"a\":1,\"b\":2}', '{\"a\":3}') AS h, "
                    "json_merge_patch('{\"b\":1,\"a\":2}', '{\"c\":1,\"a\":3, \"b\":null}') AS i, "
                    "json_merge_patch('{\"a\":1,\"a\":2}', '{\"b\":1}') AS l, json_merge_patch('1', '2') AS m"),
    ("merge_patch_nested", "SELECT json_merge_patch('1', '{\"a\":null}') AS a, json_merge_patch('[1]', '{\"a\":{\"b\":null}}') AS b, "
                           "json_merge_patch('{\"x\":1}', '{\"a\":{\"b\":null}}') AS c, "
                           "json_merge_patch('{\"x\":[1]}', '{\"x\":{\"b\":null,\"c\":1}}') AS d, "
                           "json_merge_patch('{\"x\":{\"y\":1}}', '{\"x\":{\"b\":[{\"c\":null}]}}') AS e, "
                           "json_merge_patch('\"s\"', '{\"a\":null}', '{\"b\":null}') AS f"),
    ("merge_patch_rows", f"SELECT k, json_merge_patch(j, '{{\"b\": {{\"c\": null, \"n\": 1}}}}') AS m FROM {DOCS}"),
    ("contains", "SELECT json_contains('{\"a\":1,\"b\":2}', '{\"a\":1}') AS a, "
                 "json_contains('{\"a\":{\"b\":1,\"c\":2}}', '{\"b\":1}') AS b, "
                 "json_contains('[1,2,[3]]', '3') AS c, json_contains('[1,2,[3]]', '[3]') AS d, "
                 "json_contains('[1,2,3]', '[1,3]') AS e, json_contains('{\"a\":[1,2]}', '{\"a\":[2]}') AS f, "
                 "json_contains('1.0', '1') AS g, json_contains('[[1,2]]','[1]') AS h, "
                 "json_contains('[{\"a\":1,\"b\":2}]', '{\"a\":1}') AS i, json_contains('{\"a\":1}','\"a\"') AS l, "
                 "json_contains('[1,2]', '[]') AS m, json_contains('{\"a\":1}', '{}') AS n, "
                 "json_contains('[1,2]', '[1,4]') AS o, json_contains('{\"a\":{\"b\":1}}', '{\"a\":{\"b\":2}}') AS p, "
                 "json_contains('\"\\u0041\"', '\"A\"') AS q, json_contains(NULL, '1') AS r"),
    ("contains_rows", f"SELECT k, json_contains(j, '1') AS a, json_contains(j, '{{\"d\": null}}') AS b, "
                      f"json_contains(j, '[]') AS c, json_contains(j, '{{\"b\": 2}}') AS d FROM {DOCS}"),
    ("wildcards", f"SELECT k, json_extract(j, '$[*]') AS a, json_extract(j, '$.*') AS b, "
                  f"json_extract(j, '$.a[*].b') AS c, json_extract_string(j, '$.b.c[*]') AS d, "
                  f"json_extract(j, '$.*.b') AS e, j -> '$[*][*]' AS f FROM {DOCS}"),
    ("path_lists", f"SELECT k, json_extract(j, ['$.a', '$.b.c[1]', '$[1]', '$.zz']) AS a, "
                   f"json_extract_string(j, ['$.b.c', '$[2].x', '$']) AS b FROM {DOCS}"),
    ("json_column_paths", f"SELECT k, j::JSON -> '$.b.c' AS a, json_extract(j::JSON, '$[*]') AS b, "
                          f"json_extract_string(j::JSON, '$.a') AS c, json_type(j::JSON) AS t FROM {DOCS}"),
    ("transform", "SELECT json_transform('{\"a\":1,\"b\":\"x\",\"c\":[1,2]}', '{\"a\":\"INTEGER\",\"c\":[\"DOUBLE\"]}') AS a, "
                  "json_transform('{\"a\":\"1\"}', '{\"a\":\"INTEGER\"}') AS b, json_transform('{\"a\":\"x\"}', '{\"a\":\"INTEGER\"}') AS c, "
                  "json_transform('{\"a\":1.5}', '{\"a\":\"INTEGER\"}') AS d, json_transform('{\"a\":{\"b\":1}}', '{\"a\":\"VARCHAR\"}') AS e, "
                  "json_transform('{\"A\":1}', '{\"a\":\"INTEGER\"}') AS f, json_transform('[1,\"2\",null]', '[\"BIGINT\"]') AS g, "
                  "json_transform('\"2020-01-01\"', '\"DATE\"') AS h, json_transform('1', '\"VARCHAR\"') AS i, "
                  "json_transform('{\"a\":1,\"a\":2}', '{\"a\":\"INTEGER\"}') AS l"),
    ("transform_kinds", "SELECT json_transform('{\"a\":1}', '[\"INTEGER\"]') AS a, json_transform('[1]', '{\"a\":\"INTEGER\"}') AS b, "
                        "json_transform('{\"a\":[1]}', '{\"a\":\"INTEGER\"}') AS c, json_transform('\"x\"', '[\"INTEGER\"]') AS d, "
                        "json_transform('{\"a\":1}', '\"INTEGER\"') AS e, json_transform('{\"a\":1}', '{\"a\":\"JSON\"}') AS f, "
                        "json_transform('{\"a\":\"s\"}', '{\"a\":\"JSON\",\"b\":\"JSON\"}') AS g, "
                        "from_json('{\"a\":[{\"b\":true}]}', '{\"a\":[{\"b\":\"BOOLEAN\"}]}') AS h, "
                        "json_transform('null', '{\"a\":\"INTEGER\"}') AS i, json_transform('[null]', '[\"INTEGER\"]') AS l, "
                        "json_transform_strict('{\"a\":1, \"b\":2}', '{\"a\":\"INTEGER\"}') AS m"),
    ("transform_rows", f"SELECT k, json_transform(j, '{{\"a\": \"BIGINT\", \"b\": {{\"c\": [\"JSON\"]}}, \"z\": {{\"b\": [\"SMALLINT\"]}}}}') AS t, "
                       f"from_json(j, '[\"VARCHAR\"]') AS l FROM {DOCS}"),
    ("structure", "SELECT json_structure('[1,-1]') AS a, json_structure('[1,1.5]') AS b, json_structure('[1,\"x\"]') AS c, "
                  "json_structure('[{\"a\":1},{\"b\":\"x\"}]') AS d, json_structure('[{\"a\":1},{\"a\":\"x\"}]') AS e, "
                  "json_structure('[[1],[null]]') AS f, json_structure('[null, 1]') AS g, json_structure('[{\"a\":1}, 2]') AS h, "
                  "json_structure('\"2020-01-01\"') AS i, json_structure('{\"a\":1,\"a\":2}') AS j, json_structure('[]') AS k, "
                  "json_structure('{}') AS l, json_structure('null') AS m, json_structure('18446744073709551615') AS n, "
                  "json_structure('1e400') AS o, json_structure('[true, 1]') AS p, json_structure('[[], [1]]') AS q, "
                  "json_structure('[{}, {\"a\":1}]') AS r, json_structure('[-1, 1.5]') AS s, json_structure(NULL) AS t, "
                  "json_structure('[[1, -2], [2.5]]') AS u"),
    ("structure_rows", f"SELECT k, json_structure(j) AS s FROM {DOCS}"),
    ("json_to_nested_casts", "SELECT '[1,2]'::JSON::INT[] AS a, TRY_CAST('[\"x\", 1]'::JSON AS INT[]) AS c, "
                             "'{\"1\":\"a\"}'::JSON::MAP(INT, VARCHAR) AS d, '[{\"a\":[1,null]},null]'::JSON::JSON[] AS e, "
                             "'[\"a\", 1]'::JSON::VARCHAR[] AS f, TRY_CAST('{}'::JSON AS INT[]) AS g"),
]


@pytest.mark.parametrize("name,query", PATH_CASES, ids=[c[0] for c in PATH_CASES])
def test_json_paths(sql, name, query):
    sql.check(esc(query))


def esc(query):
    """The runner fills {placeholders} with str.format: JSON's braces are doubled."""
    return query.replace("{", "{{").replace("}", "}}")


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_json_type(sql, name, query):
    sql.check(esc(query), ordered="ORDER BY" in query)


def test_json_table(sql):
    """CREATE TABLE with a JSON column: inserts are validated, values print as their text."""
    setup = ["CREATE TABLE t (id INT, j JSON)",
             "INSERT INTO t VALUES (1, '{\"a\": [1, 2]}'), (2, NULL), (3, '  true ')"]
    sql.check("SELECT id, j, typeof(j) AS t, j -> '$.a[1]' AS a1, j::VARCHAR AS v FROM t ORDER BY id",
              setup=[esc(s) for s in setup], ordered=True)


def test_json_table_bad_insert(sql):
    sql.error([esc("CREATE TABLE t (j JSON)"), esc("INSERT INTO t VALUES ('{\"a\": 1')")],
              "JSON", "byte")


def test_json_parquet(sql, tmp_path):
    """A JSON column written to Parquet carries the JSON logical type and reads back as JSON
    (DuckDB reads polaroid's file; polaroid reads DuckDB's)."""
    import duckdb
    import pyarrow.parquet as pq
    ours, theirs = tmp_path / "ours.parquet", tmp_path / "theirs.parquet"
    r = sql.polaroid([esc(f"COPY (SELECT '{{\"a\": 1}}'::JSON AS j, 'x' AS v) TO '{ours}' (FORMAT parquet)")])
    assert r.returncode == 0, r.stderr.decode()
    assert "JSON" in str(pq.ParquetFile(ours).schema)
    con = duckdb.connect()
    con.execute(esc(f"COPY (SELECT '[1, 2]'::JSON AS j) TO '{theirs}' (FORMAT parquet)").replace("{{", "{").replace("}}", "}"))
    sql.check(f"SELECT typeof(j) AS t, j FROM read_parquet('{ours}')")
    sql.check(f"SELECT typeof(j) AS t, j, j -> 1 AS j1 FROM read_parquet('{theirs}')")


def test_json_read_json(sql, tmp_path):
    """read_json: mixed values are JSON (inferred), as is a column declared JSON (strings keep
    their quotes)."""
    p = tmp_path / "m.json"
    p.write_text('{"a": 1, "b": [], "c": {}}\n{"a": "x", "b": [], "c": {"k": [1]}}\n')
    sql.check(f"SELECT typeof(a) AS ta, typeof(b) AS tb, typeof(c) AS tc, a, a -> '$' AS e FROM read_json('{p}')")
    sql.check(esc("SELECT typeof(a) AS t, a FROM read_json('" + str(p) + "', columns={'a': 'JSON'})"))


ERRORS = [
    ("malformed", "SELECT '{\"a\" : 1'::JSON", "malformed JSON at byte"),
    ("not_json", "SELECT 'abc'::JSON", "malformed JSON at byte 0"),
    ("json_to_int", "SELECT '\"abc\"'::JSON::INT", "abc"),
    ("json_array_to_int", "SELECT '[1,2]'::JSON::INT", "[1,2]"),
    ("object_odd", "SELECT json_object('a')", "even number"),
    ("object_key_type", "SELECT json_object(1, 2)", "keys must be VARCHAR"),
    ("object_null_key", "SELECT json_object(k, 1) FROM (VALUES (NULL::VARCHAR)) t(k)", "key cannot be NULL"),
    ("group_object_null_key", "SELECT json_group_object(k, x) FROM (VALUES (1, NULL)) t(x, k)",
     "key cannot be NULL"),
    ("array_to_json_type", "SELECT array_to_json(1)", "must be LIST"),
    ("row_to_json_type", "SELECT row_to_json(1)", "must be STRUCT"),
    ("json_fn_malformed", "SELECT json('x')", "malformed JSON"),
    ("keys_malformed", "SELECT json_keys('{\"a\":')", "malformed JSON"),
    ("contains_malformed", "SELECT json_contains('[1]', '[1')", "malformed JSON"),
    ("merge_patch_malformed", "SELECT json_merge_patch('{}', '{')", "malformed JSON"),
    ("wildcard_malformed", "SELECT json_extract('[1', '$[*]')", "malformed JSON"),
    ("wildcard_bad_path", "SELECT json_extract('[1]', '$[*')", "JSON path error"),
    ("transform_strict_kind", "SELECT json_transform_strict('{\"a\":1}', '[\"INTEGER\"]')", "Expected ARRAY, but got OBJECT"),
    ("transform_strict_key", "SELECT json_transform_strict('{\"b\":1}', '{\"a\":\"INTEGER\"}')", "does not have key \"a\""),
    ("transform_strict_value", "SELECT json_transform_strict('{\"a\":\"x\"}', '{\"a\":\"INTEGER\"}')", "x"),
    ("cast_json_list_kind", "SELECT '{\"a\":1}'::JSON::INT[]", "Expected ARRAY, but got OBJECT"),
    ("transform_malformed", "SELECT json_transform('{\"a\":', '{\"a\":\"INTEGER\"}')", "malformed JSON"),
    ("transform_structure_column", "SELECT json_transform('{}', x) FROM (VALUES ('{\"a\":\"INTEGER\"}')) t(x)", "constant"),
    ("path_list_bad_path", "SELECT json_extract('[1]', ['$[0]', '$a'])", "JSON path error"),
]


@pytest.mark.parametrize("name,query,needle", ERRORS, ids=[e[0] for e in ERRORS])
def test_json_type_errors(sql, name, query, needle):
    sql.error([esc(query)], needle)


def test_json_cast_error_row(sql):
    """A column cast names the malformed text and the byte (row numbers inside a query are
    dropped by the executor: pl_error_forget_row)."""
    sql.error(["CREATE TABLE s (x VARCHAR)", "INSERT INTO s VALUES ('1'), ('[1,'), ('2')",
               "SELECT x::JSON FROM s"], "'[1,'", "byte 3")
