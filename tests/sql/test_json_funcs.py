"""DuckDB's JSON functions over VARCHAR JSON text (src/expr/kernels_json.c, values parsed by
src/io/json): json_valid, json_extract / `->` (JSON text out, compact, numbers normalised),
json_extract_string / `->>`, json_type, json_array_length; '$' paths (.key, ."key", [i],
[#-i]), JSON pointers, bare keys, integer indexes; NULLs, missing paths, JSON nulls. Invalid
JSON is an error in both engines (json_valid says false). Expected values come from DuckDB."""
import pytest

DOCS = ("(SELECT * FROM (VALUES "
        "(1, '{\"a\": {\"b\": [3, 4.50, 1e3]}, \"s\": \"x\\\\ny\", \"n\": null}', '$.a.b[1]'), "
        "(2, '[1, \"two\", [3], {\"k\": true}]', '$[#-1]'), "
        "(3, '  {\"a\" : [ 1 , 2 ] , \"a b\": \"é\\\\u00e9\"} ', '$.\"a b\"'), "
        "(4, NULL, '$.a'), "
        "(5, '\"plain\"', '$'), "
        "(6, '{\"a\": -12, \"b\": 18446744073709551615, \"c\": false}', '/a'), "
        "(7, '{}', '$.zz'), "
        "(8, '[]', '$[0]'), "
        "(9, '{\"a\": {\"b\": {\"c\": [10, 20, {\"d\": \"deep\"}]}}}', NULL), "
        "(10, '123', '$')) t(k, j, p))")

CASES = [
    ("extract_paths", f"SELECT k, json_extract(j, '$.a') AS a, json_extract(j, '$.a.b') AS ab, "
                      f"json_extract(j, '$[1]') AS i1, json_extract(j, '$') AS whole FROM {DOCS}"),
    ("extract_row_paths", f"SELECT k, json_extract(j, p) AS e, json_extract_string(j, p) AS s FROM {DOCS}"),
    ("extract_string", f"SELECT k, json_extract_string(j, '$.s') AS s, json_extract_string(j, '$.n') AS n, "
                       f"json_extract_string(j, '$.a') AS a, json_extract_string(j, '$') AS w FROM {DOCS}"),
    ("arrows", f"SELECT k, j -> '$.a' AS a, j ->> '$.a' AS sa, j -> 'a' AS bare, j ->> '/a/b/0' AS ptr, "
               f"j -> 1 AS i1, j ->> -1 AS last FROM {DOCS}"),
    ("deep", f"SELECT k, j -> '$.a.b.c[2].d' AS d, j ->> '$.a.b.c[#-2]' AS c, j -> '/a/b/c/2' AS p "
             f"FROM {DOCS} WHERE k = 9"),
    ("valid", "SELECT s, json_valid(s) AS v FROM (VALUES ('{'), ('1 '), (' [1]x'), (''), ('[1,]'), "
              "('{\"a\":1}'), ('nul'), ('\"\\\\x\"'), ('-'), ('01'), ('1.'), (NULL), ('[[[]]]'), "
              "('{\"a\" 1}'), ('true'), ('\"é\"')) t(s)"),
    ("type", f"SELECT k, json_type(j) AS t, json_type(j, '$.a') AS ta, json_type(j, '$.b') AS tb, "
             f"json_type(j, '$.c') AS tc, json_type(j, '$[0]') AS t0 FROM {DOCS}"),
    ("array_length", f"SELECT k, json_array_length(j) AS n, json_array_length(j, '$.a') AS na, "
                     f"json_array_length(j, '$.a.b') AS nab FROM {DOCS}"),
    ("nulls", "SELECT json_extract(NULL, '$.a') AS a, json_extract('{}', NULL) AS b, "
              "json_extract_string('{\"a\":null}', '$.a') AS c, json_extract('{\"a\":null}', '$.a') AS d, "
              "json_valid(NULL) AS e, json_type(NULL) AS f, json_array_length(NULL) AS g"),
    ("trailing_commas", "SELECT json_extract('{\"a\":[1,],}', '$') AS a, json_array_length('[1, ]') AS b, "
                        "json_extract('[1,2,]', '$[#-1]') AS c, json_valid('[1,,]') AS d, json_valid('[,]') AS e, "
                        "json_valid('{,}') AS f, json_type('[[],]', '$[0]') AS g"),
    ("duplicate_keys", "SELECT json_extract('{\"a\":1,\"a\":2}', '$.a') AS a"),
    ("numbers", "SELECT json_extract('[1.50, 1e3, -0, 1e21, 0.000025, 12345678901234567890]', '$') AS a"),
    ("exists", f"SELECT k, json_exists(j, '$.a') AS a, json_exists(j, p) AS e, json_exists(j, '/0') AS z "
               f"FROM {DOCS}"),
    ("arrow_names", "SELECT j -> '$.a', j ->> 'a', j -> 1, json_extract(j, '$.a') "
                    "FROM (VALUES ('{\"a\": [1]}'), ('[0, 1]')) t(j)"),
    ("aliases", "SELECT json_extract_path('{\"a\":[5]}', '$.a[0]') AS a, "
                "json_extract_path_text('{\"a\":\"q\"}', 'a') AS b"),
]


def esc(query):
    """The runner fills {placeholders} with str.format: JSON's braces are doubled."""
    return query.replace("{", "{{").replace("}", "}}")


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_json_funcs(sql, name, query):
    sql.check(esc(query))


ERRORS = [
    ("malformed", "SELECT json_extract('{\"a\": 1', '$.a')", "malformed JSON"),
    ("malformed_string", "SELECT json_extract_string(s, '$') FROM (VALUES ('[1]'), ('[1')) t(s)",
     "malformed JSON"),
    ("malformed_type", "SELECT json_type('{')", "malformed JSON"),
    ("malformed_length", "SELECT json_array_length('[1')", "malformed JSON"),
    ("malformed_exists", "SELECT json_exists('[1', '$')", "malformed JSON"),
    ("bad_path", "SELECT json_extract('{\"a\": 1}', '$a')", "JSON path error"),
]


@pytest.mark.parametrize("name,query,needle", ERRORS, ids=[e[0] for e in ERRORS])
def test_json_func_errors(sql, name, query, needle):
    sql.error([esc(query)], needle)

