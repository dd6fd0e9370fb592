"""More DuckDB functions (tests/sql/README.md): list_intersect, list_select, array_resize, the
vector functions (list_inner_product, list_negative_inner_product, list_distance,
list_cosine_similarity / _distance), string functions (regexp_extract_all, strip_accents,
jaro_similarity, jaro_winkler_similarity, bit_length, to_base), hash (properties only: its
values are polaroid's own) and aggregates. Expected values from DuckDB at run time.

list_intersect's element order is unspecified in DuckDB (it follows its hash table), so its
results are compared after list_sort."""
import pytest

LT = ("(VALUES (1, [1, 2, 3, 2, NULL], [2, 3, 4, NULL], 2), (2, [3, 1, 2, 3], [3, 2, 2], 0), "
      "(3, NULL, [1], 3), (4, [1, 2], NULL, NULL), (5, [], [1], 1), (6, [5, 4, 3], [], 5), "
      "(7, [NULL], [NULL], 2)) t(id, a, b, n)")

LISTS = [
    ("intersect", "SELECT list_sort(list_intersect([1, 2, 3, 2, NULL], [2, 3, 4, NULL])) AS a, "
                  "list_sort(array_intersect(['b', 'a', 'c'], ['c', 'a', 'x'])) AS b, "
                  "list_intersect([1, 1, 1], [1, 1]) AS c, list_intersect([], [1]) AS d, "
                  "list_sort(list_intersect([1, 2], [1.5, 2.0])) AS e, "
                  "list_sort(list_intersect([[1], [2], NULL], [[2], [1], [3]])) AS f, "
                  "list_intersect([1, 2]::BIGINT[], [1]::INTEGER[]) AS g"),
    ("intersect_cols", f"SELECT id, list_sort(list_intersect(a, b)) AS x, list_sort(list_intersect(b, a)) AS y "
                       f"FROM {LT} ORDER BY id"),
    ("intersect_types", "SELECT typeof(list_intersect([1, 2], [1.5])) AS a, "
                        "typeof(list_intersect([1]::BIGINT[], [1]::INTEGER[])) AS b"),
    ("select", "SELECT list_select([10, 20, 30], [1, 3, 5, 0, -1]) AS a, list_select(['a', 'b'], [2, 1, 2]) AS b, "
               "list_select([10, NULL, 30], [2, 2, 1]) AS c, list_select([10, 20, 30], []) AS d, "
               "array_select([1, 2], [2::TINYINT, 1::BIGINT]) AS e, list_select([1], [3000000000]) AS f"),
    ("select_cols", f"SELECT id, list_select(a, [1, 2]) AS x, list_select(b, [2, 1]) AS y FROM {LT} ORDER BY id"),
    ("resize", "SELECT array_resize([1, 2, 3], 5) AS a, array_resize([1, 2, 3], 2) AS b, "
               "array_resize([1, 2], 4, 9) AS c, array_resize([1, 2], 0) AS d, list_resize([1], 2) AS e, "
               "array_resize(['a'], 3, 'z') AS f, array_resize([[1], [2]], 3, [5]) AS g, "
               "array_resize([1, 2], 3, 2.5) AS h, array_resize([1, 2], 3::BIGINT, NULL) AS i"),
    ("resize_cols", f"SELECT id, array_resize(a, n) AS x, array_resize(b, n, id) AS y, "
                    f"array_resize(a, 2, n) AS z FROM {LT} ORDER BY id"),
    ("vectors", "SELECT list_cosine_similarity([1, 2, 3], [4, 5, 6]) AS a, list_cosine_distance([1, 2, 3], [4, 5, 6]) AS b, "
                "list_distance([1, 2, 3], [4, 5, 6]) AS c, list_inner_product([1, 2, 3], [4, 5, 6]) AS d, "
                "list_dot_product([1.5, 2], [3, 4]) AS e, list_negative_inner_product([1, 2, 3], [4, 5, 6]) AS f, "
                "list_negative_dot_product([1, 2], [3, 4]) AS g, list_cosine_similarity([1, 0], [-1, 0]) AS h"),
    ("vectors_float", "SELECT list_distance([1, 2]::FLOAT[], [3, 4]::FLOAT[]) AS a, "
                      "list_cosine_similarity([1, 2]::FLOAT[], [3, 4]::FLOAT[]) AS b, "
                      "list_inner_product([1.5, 2.5]::FLOAT[], [2, 4]::INTEGER[]) AS c, "
                      "typeof(list_distance([1, 2]::FLOAT[], [1, 2]::DOUBLE[])) AS d, "
                      "typeof(list_distance([1, 2]::FLOAT[], [1, 2]::INTEGER[])) AS e, "
                      "typeof(list_inner_product([1, 2]::INTEGER[], [1, 2]::INTEGER[])) AS f, "
                      "list_distance([1, 2]::TINYINT[], [3, 4]::DECIMAL(10, 2)[]) AS g"),
    ("vectors_edges", "SELECT list_inner_product([]::INTEGER[], []::INTEGER[]) AS a, "
                      "list_distance([]::DOUBLE[], []::DOUBLE[]) AS b, "
                      "list_cosine_similarity([]::DOUBLE[], []::DOUBLE[]) AS c, "
                      "list_cosine_distance([]::DOUBLE[], []::DOUBLE[]) AS d, "
                      "list_cosine_similarity([1, 1, 1], [1, 1, 1]) AS e, "
                      "list_distance(NULL, [1]) AS f, list_negative_inner_product([]::INTEGER[], []::INTEGER[]) AS g"),
    ("vectors_cols", "SELECT id, list_distance(x, y) AS d, list_cosine_similarity(x, y) AS c, "
                     "list_inner_product(x, y) AS i FROM (VALUES (1, [1.0, 2.0], [0.5, -1.0]), (2, NULL, [1.0]), "
                     "(3, [3.0, 4.0, 5.0], [0.1, 0.2, 0.3]), (4, [2.0], NULL)) t(id, x, y) ORDER BY id"),
]


@pytest.mark.parametrize("name,query", LISTS, ids=[c[0] for c in LISTS])
def test_more_lists(sql, name, query):
    sql.check(query, ordered=True)


def test_cosine_zero(sql):
    """0/0: NaN in both (compare.py's tolerance does not equate NaNs, so test isnan)."""
    sql.check("SELECT isnan(list_cosine_similarity([0, 0], [0, 0])) AS a, "
              "isnan(list_cosine_distance([0.0, 0.0], [0.0, 0.0])) AS b")


@pytest.mark.parametrize("q,needle", [
    ("SELECT list_cosine_similarity([1, 2], [1, 2, 3])", "list dimensions must be equal"),
    ("SELECT list_distance([1, NULL], [1, 2])", "left argument can not contain NULL"),
    ("SELECT list_inner_product([1, 2], [NULL, 2])", "right argument can not contain NULL"),
    ("SELECT list_distance(['a'], ['b'])", "list_distance"),
    ("SELECT list_distance([[1]], [[2]])", "list_distance"),
    ("SELECT list_select([10, 20, 30], [1, NULL])", "NULLs are not allowed"),
    ("SELECT list_select([10, 20], [1.5])", "list_select"),
    ("SELECT array_resize([1, 2], -1)", "array_resize"),
    ("SELECT array_resize([1, 2], 3, 'x')", "x"),
    ("SELECT list_intersect([1], 1)", "list_intersect"),
], ids=["dims", "null_left", "null_right", "varchar", "nested", "select_null", "select_decimal",
        "resize_negative", "resize_fill", "intersect_scalar"])
def test_more_list_errors(sql, q, needle):
    sql.error([q], needle)


def test_list_operators(sql):
    sql.check("SELECT [1, 2] && [2, 3] AS a, [1, 2] && [3] AS b, [1, 2] @> [2] AS c, [1, 2] @> [2, 5] AS d, "
              "[1, 2] <@ [1, 2, 3] AS e, [1, 4] <@ [1, 2] AS f, [1, 2] && NULL AS g, "
              "['a', NULL] @> [NULL] AS h")


STRS = [
    ("extract_all", "SELECT regexp_extract_all('a1b22c333', '[0-9]+') AS a, "
                    "regexp_extract_all('a1b22', '([a-z])([0-9]+)', 2) AS b, regexp_extract_all('abc', 'x') AS c, "
                    "regexp_extract_all(NULL, 'x') AS d, regexp_extract_all('abc', '') AS e, "
                    "regexp_extract_all('aaa', 'a*') AS f, regexp_extract_all('abab', 'b*') AS g, "
                    "regexp_extract_all('ab', '(x)?b', 1) AS h, regexp_extract_all('aéb', '.') AS i, "
                    "regexp_extract_all('abc', '^.') AS j, regexp_extract_all('AbA', 'a', 0, 'i') AS k, "
                    "regexp_extract_all('', 'x*') AS l, regexp_extract_all('', 'x') AS m"),
    ("extract_all_cols", "SELECT id, regexp_extract_all(s, p) AS a, regexp_extract_all(s, '([a-z])([0-9])?', 2) AS b "
                         "FROM (VALUES (1, 'a1b2', '[0-9]'), (2, 'x', NULL), (3, NULL, 'a'), (4, 'cc', 'c'), "
                         "(5, 'q9r', '[a-z]')) t(id, s, p) ORDER BY id"),
    ("strip_accents", "SELECT strip_accents('Müller Élodie ñ çà') AS a, strip_accents(NULL) AS b, "
                      "strip_accents('ø æ ß Ł') AS c, strip_accents('e' || chr(769) || 'x') AS d, "
                      "strip_accents('Ἀθῆναι Йошкар-Ола Việt Nam Ångström') AS e, "
                      "strip_accents('가' || chr(4352) || chr(4449) || chr(4520)) AS f, strip_accents('') AS g"),
    ("jaro", "SELECT jaro_similarity('duck', 'duckdb') AS a, jaro_winkler_similarity('duck', 'duckdb') AS b, "
             "jaro_similarity('', '') AS c, jaro_similarity('a', '') AS d, "
             "jaro_winkler_similarity('CRATE', 'TRACE') AS e, jaro_similarity(NULL, 'a') AS f, "
             "jaro_similarity('aé', 'ae') AS g, jaro_winkler_similarity('duck', 'duckdb', 0.95) AS h, "
             "jaro_similarity('duck', 'duckdb', 0.8) AS i, jaro_winkler_similarity('martha', 'marhta') AS j, "
             "jaro_winkler_similarity('dixon', 'dicksonx') AS k"),
    ("jaro_cols", "SELECT a, b, jaro_similarity(a, b) AS j, jaro_winkler_similarity(a, b) AS w "
                  "FROM (VALUES ('abcab', 'bacba'), ('aaaa', 'aa'), ('abcd', 'dcba'), (NULL, 'x'), "
                  "('hello world', 'world hello'), ('dwayne', 'duane')) t(a, b) ORDER BY a NULLS LAST"),
    ("bit_length", "SELECT bit_length('abc') AS a, bit_length('é') AS b, bit_length(NULL) AS c, "
                   "bit_length('') AS d, typeof(bit_length('x')) AS e"),
    ("to_base", "SELECT to_base(42, 16) AS a, to_base(42, 2, 10) AS b, to_base(0, 10) AS c, to_base(NULL, 2) AS d, "
                "to_base(255, 36) AS e, to_base(9223372036854775807, 2) AS f, to_base(1, 2, 64) AS g, "
                "to_base(1, 2, NULL) AS h, to_base(7, 8, 0) AS i"),
]


@pytest.mark.parametrize("name,query", STRS, ids=[c[0] for c in STRS])
def test_more_strings(sql, name, query):
    sql.check(query, ordered=True)


def test_strip_accents_all(sql):
    """Every code point of the BMP and the supplementary planes in use, one per row."""
    sql.check("SELECT i, strip_accents(chr(i::INTEGER)) AS s FROM range(1, 200000) r(i) "
              "WHERE i < 55296 OR i > 57343 ORDER BY i", ordered=True)


def test_jaro_random(sql):
    sql.check("SELECT i, jaro_similarity(a, b) AS j, jaro_winkler_similarity(a, b) AS w FROM "
              "(SELECT i, substr(md5(i::VARCHAR), 1, (i % 9)::INTEGER) AS a, "
              "substr(md5((i * 7 % 50)::VARCHAR), 1, (i % 7)::INTEGER) AS b FROM range(2000) r(i)) ORDER BY i",
              ordered=True)


@pytest.mark.parametrize("q,needle", [
    ("SELECT regexp_extract_all('a1b22', '([a-z])([0-9]+)', 3)", "group"),
    ("SELECT to_base(-1, 2)", "to_base"),
    ("SELECT to_base(5, 1)", "radix"),
    ("SELECT to_base(5, 37)", "radix"),
    ("SELECT to_base(1, 2, -5)", "length"),
    ("SELECT to_base(1, 2, 65)", "length"),
    ("SELECT to_base(42.5, 16)", "to_base"),
    ("SELECT jaro_similarity('a', 1)", "jaro_similarity"),
], ids=["extract_all_group", "to_base_negative", "to_base_radix_low", "to_base_radix_high",
        "to_base_len_negative", "to_base_len_high", "to_base_decimal", "jaro_int"])
def test_more_string_errors(sql, q, needle):
    sql.error([q], needle)


def _rows(sql, query):
    import pyarrow as pa
    r = sql.polaroid([query])
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


def test_hash_properties(sql):
    """hash() is polaroid's own (DuckDB's values differ): UBIGINT, never NULL, equal inputs give
    equal hashes (across integer widths, dictionary or plain strings, rows and runs), different
    inputs (almost always) different ones, argument order matters."""
    import pyarrow as pa
    q = ("SELECT typeof(hash(1)) AS t, hash(NULL) IS NULL AS n, hash(NULL) = hash(NULL::INTEGER) AS nn, "
         "hash(1) = hash(1::BIGINT) AS w, hash(1::TINYINT) = hash(1::UBIGINT) AS w2, "
         "hash('abc') = hash('ab' || 'c') AS s, hash(1, 'a') = hash(1, 'a') AS m, "
         "hash(1, 'a') <> hash('a', 1) AS o, hash([1, 2]) = hash([1, 2]) AS l, hash([1, 2]) <> hash([2, 1]) AS l2, "
         "hash({{'a': 1}}) = hash({{'a': 1}}) AS st, hash(1) <> hash(2) AS d, hash(DATE '2024-01-01') IS NOT NULL AS dt, "
         "hash(1) AS h1, hash('abc') AS h2")
    t = _rows(sql, q)
    row = t.to_pylist()[0]
    assert t.schema.field("h1").type == pa.uint64()
    assert row["t"] == "UBIGINT" and row["n"] is False
    for k in ("nn", "w", "w2", "s", "m", "o", "l", "l2", "st", "d", "dt"):
        assert row[k] is True, (k, row)
    again = _rows(sql, q).to_pylist()[0]  # stable across runs
    assert (again["h1"], again["h2"]) == (row["h1"], row["h2"])
    cols = _rows(sql, "SELECT count(DISTINCT hash(i)) AS d, count(*) AS n, count(hash(NULL::INTEGER)) AS c, "
                      "bool_and(hash(i % 10) = hash((i % 10)::BIGINT)) AS eq, "
                      "bool_and(hash(s) = hash(s || '')) AS seq "
                      "FROM (SELECT i, (i % 7)::VARCHAR AS s FROM range(5000) r(i))").to_pylist()[0]
    assert cols == {"d": 5000, "n": 5000, "c": 5000, "eq": True, "seq": True}, cols


AGG = "(VALUES (1, 1), (1, 2), (1, 3), (1, 4), (1, 10), (2, NULL), (3, 5), (4, 7), (4, 7.5)) t(g, x)"
AGGS = [
    ("ungrouped", f"SELECT favg(x) AS a, sem(x) AS b, typeof(favg(x)) AS c, typeof(sem(x)) AS d FROM {AGG}"),
    ("grouped", f"SELECT g, favg(x) AS a, sem(x) AS b FROM {AGG} GROUP BY g ORDER BY g"),
    ("kahan", "SELECT favg(x) AS a, sem(x) AS b, fsum(x) AS c FROM (VALUES (1e100::DOUBLE), (1::DOUBLE), "
              "(-1e100::DOUBLE)) t(x)"),
    ("types", "SELECT favg(x::DECIMAL(10, 2)) AS a, sem(x::DECIMAL(10, 2)) AS b, favg(x::FLOAT) AS c, "
              "sem(x::TINYINT) AS d FROM (VALUES (1.5), (2.5), (4)) t(x)"),
    ("empty", f"SELECT favg(x) AS a, sem(x) AS b FROM {AGG} WHERE g > 9"),
    ("many", "SELECT i % 5 AS k, favg(i * 0.1) AS a, sem(i * 0.1) AS b FROM range(20000) r(i) GROUP BY k ORDER BY k"),
    ("window", f"SELECT g, x, favg(x) OVER (ORDER BY x, g) AS a, sem(x) OVER (ORDER BY x, g) AS b, "
               f"sem(x) OVER (PARTITION BY g) AS c, favg(x) OVER (PARTITION BY g ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS d "
               f"FROM {AGG} ORDER BY x NULLS LAST, g"),
]


@pytest.mark.parametrize("name,query", AGGS, ids=[c[0] for c in AGGS])
def test_more_aggs(sql, name, query):
    sql.check(query, ordered=True)


def test_more_agg_errors(sql):
    sql.error(["SELECT favg(x) FROM (VALUES ('a')) t(x)"], "favg")
    sql.error(["SELECT sem(x) FROM (VALUES (INTERVAL 1 DAY)) t(x)"], "sem")


MISC = [
    ("overlay", "SELECT overlay('Txxxxas' PLACING 'hom' FROM 2 FOR 4) AS a, overlay('abc' PLACING 'X' FROM 2) AS b, "
                "overlay('abc' PLACING 'X' FROM 10) AS c, overlay('abcdef' PLACING 'XY' FROM 0) AS d, "
                "overlay('abcdef' PLACING 'XY' FROM -2) AS e, overlay('abcdef' PLACING 'XY' FROM 3 FOR 0) AS f, "
                "overlay('abcdef' PLACING 'XY' FROM 3 FOR 100) AS g, overlay('héllo' PLACING 'É' FROM 2 FOR 1) AS h, "
                "overlay(NULL PLACING 'a' FROM 1) AS i, overlay('a' PLACING NULL FROM 1) AS j, "
                "overlay('abc' PLACING 'x' FROM NULL) AS k, overlay('abcdef', 'XY', 2, 1) AS l, "
                "overlay('abcdef' PLACING 'XY' FROM -10 FOR 3) AS m, overlay('' PLACING 'XY' FROM 1) AS n"),
    ("overlay_cols", "SELECT id, overlay(s PLACING t FROM f FOR k) AS a, overlay(s PLACING t FROM f) AS b FROM "
                     "(VALUES (1, 'hello', 'J', 1, 1), (2, 'wörld', 'OO', 2, 2), (3, NULL, 'x', 1, 1), "
                     "(4, 'abc', 'zz', 4, 0), (5, 'abc', '', 2, 1)) t(id, s, t, f, k) ORDER BY id"),
    ("struct_keys", "SELECT struct_keys({{'a': 1, 'b': 'x'}}) AS a, struct_keys({{'a': {{'c': 1}}, 'B': 2}}) AS b, "
                    "struct_keys(NULL) AS c, typeof(struct_keys({{'a': 1}})) AS d"),
    ("struct_keys_cols", "SELECT id, struct_keys(s) AS k FROM (VALUES (1, {{'x': 1, 'yy': 2}}), (2, NULL), "
                         "(3, {{'x': 5, 'yy': NULL}})) t(id, s) ORDER BY id"),
]


@pytest.mark.parametrize("name,query", MISC, ids=[c[0] for c in MISC])
def test_more_misc(sql, name, query):
    sql.check(query, ordered=True)


def test_more_misc_errors(sql):
    sql.error(["SELECT struct_keys([1])"], "struct_keys")
    sql.error(["SELECT overlay('abcdef' PLACING 'XY' FROM 2.7)"], "overlay")
