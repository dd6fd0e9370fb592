"""List values in SQL, compared with DuckDB: ARRAY[...] / list_value construction, l[i] and
l[a:b], the list functions (len, list_extract, list_contains, list_position, list_sort,
list_distinct, list_sum/min/max/avg, list_aggregate, list_concat, list_slice, array_to_string,
list_string_agg, string_split), x op ANY/ALL (ARRAY[...]), and unnest in the select list (zipped,
shorter lists padded with NULL, NULL and empty lists giving no rows) and in FROM; over list
columns read from Parquet (NULL lists, empty lists, NULL elements, NaN, strings, many rows)."""
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import sql_str


@pytest.fixture
def lists(tmp_path):
    n = 3000
    ints, strs, dbls = [], [], []
    for i in range(n):
        k = i % 7
        ints.append(None if k == 0 else [] if k == 1 else
                    [((i * 31 + j * 17) % 23) - 5 if (i + j) % 5 else None for j in range(k)])
        strs.append(None if i % 11 == 3 else [f"s{(i * 7 + j) % 13}" if j != 2 else None
                                               for j in range(i % 4)])
        dbls.append(None if i % 13 == 5 else [float("nan") if (i + j) % 9 == 0 else
                                               (i * 0.37 + j) % 10 - 3 for j in range(i % 5)])
    t = pa.table({
        "id": pa.array(range(n), pa.int64()),
        "g": pa.array([i % 10 for i in range(n)], pa.int32()),
        "li": pa.array(ints, pa.list_(pa.int32())),
        "ls": pa.array(strs, pa.list_(pa.string())),
        "ld": pa.array(dbls, pa.list_(pa.float64())),
    })
    p = tmp_path / "lists.parquet"
    pq.write_table(t, p, row_group_size=700)
    return f"read_parquet({sql_str(str(p))})"


LITERALS = [
    ("ints", "SELECT ARRAY[1, 2, 3] AS a, ARRAY[1, NULL] AS b, list_value(1, 2.5) AS c, "
             "ARRAY['x', NULL, 'yz'] AS d, ARRAY[ARRAY[1, 2], ARRAY[3]] AS e, list_value() AS f"),
    ("index", "SELECT (ARRAY[1, 2, 3])[2] AS a, (ARRAY[1, 2, 3])[-1] AS b, (ARRAY[1, 2, 3])[0] AS c, "
              "(ARRAY[1, 2, 3])[4] AS d, list_extract(ARRAY[1, 2], NULL) AS e, "
              "list_extract(ARRAY[1, 2], -9223372036854775808) AS e2, list_extract(ARRAY[1, 2], -3) AS e3, "
              "list_slice(ARRAY[1, 2, 3], -9223372036854775808, 9223372036854775807) AS e4, "
              "(ARRAY[1, 2, 3])[2:] AS f, (ARRAY[1, 2, 3])[:2] AS g, (ARRAY[1, 2, 3, 4])[2:3] AS h"),
    ("len", "SELECT len(ARRAY[1, 2]) AS a, length(ARRAY['a']) AS b, array_length(ARRAY[1, 2, 3]) AS c, "
            "len(NULL::INTEGER[]) AS d, len(ARRAY[]::INTEGER[]) AS e"),
    ("find", "SELECT list_contains(ARRAY[1, NULL], NULL) AS a, list_contains(ARRAY[1, 2], 3) AS b, "
             "list_has(ARRAY[1, 2], 2) AS c, list_position(ARRAY[1, 2, NULL], 2) AS d, "
             "list_position(ARRAY[1, NULL], NULL) AS e, list_position(ARRAY[1, 2], 5) AS f, "
             "list_contains(NULL::INTEGER[], 1) AS g, list_position(ARRAY['a', 'b'], 'b') AS h"),
    ("sort", "SELECT list_sort(ARRAY[3, NULL, 1]) AS a, list_sort(ARRAY[3, 1], 'DESC') AS b, "
             "list_sort(ARRAY[3, NULL, 1], 'ASC', 'NULLS FIRST') AS c, list_reverse_sort(ARRAY[1, 3, 2]) AS d, "
             "list_sort(list_distinct(ARRAY[1, NULL, 1, 2])) AS e, list_sort(ARRAY['b', 'a', 'c']) AS f"),
    ("reverse_flatten_has", "SELECT list_reverse(ARRAY[1, NULL, 3]) AS a, list_reverse(NULL::INTEGER[]) AS b, "
                            "flatten(ARRAY[ARRAY[1, 2], NULL, ARRAY[]::INTEGER[], ARRAY[3, NULL]]) AS c, "
                            "flatten(ARRAY[NULL::INTEGER[]]) AS d, list_has_any(ARRAY[1, 2], ARRAY[2, 3]) AS e, "
                            "list_has_any(ARRAY[1, NULL], ARRAY[NULL::INTEGER]) AS f, list_has_any(ARRAY[1], NULL) AS g, "
                            "list_has_all(ARRAY[1, 2, 3], ARRAY[2, 3]) AS h, list_has_all(ARRAY[1, 2], ARRAY[2, NULL]) AS i, "
                            "list_has_all(ARRAY[1], ARRAY[]::INTEGER[]) AS j, list_has_any(ARRAY[]::INTEGER[], ARRAY[1]) AS k"),
    ("aggregates", "SELECT list_sum(ARRAY[1, 2, NULL]) AS a, list_avg(ARRAY[1, 2]) AS b, "
                   "list_min(ARRAY['b', 'a']) AS c, list_max(ARRAY[1.5, NULL]) AS d, "
                   "list_sum(ARRAY[]::INTEGER[]) AS e, list_aggregate(ARRAY[1, 2], 'sum') AS f, "
                   "list_aggregate(ARRAY[4, 2], 'min') AS g, list_sum(ARRAY[1.5::DOUBLE, 2]) AS h, "
                   "list_max(ARRAY[NULL::INTEGER]) AS i"),
    ("concat_slice", "SELECT list_concat(ARRAY[1], NULL) AS a, list_concat(ARRAY[1, 2], ARRAY[2.5]) AS b, "
                     "list_slice(ARRAY[1, 2, 3, 4], -2, -1) AS c, list_slice(ARRAY[1, 2, 3, 4], 0, 2) AS d, "
                     "list_slice(ARRAY[1, 2, 3], 3, 2) AS e, list_slice(ARRAY[1, 2, 3], NULL, 2) AS f, "
                     "list_cat(ARRAY['a'], ARRAY['b', NULL]) AS g"),
    ("strings", "SELECT array_to_string(ARRAY[1, NULL, 3], '-') AS a, list_string_agg(ARRAY['a', NULL, 'b']) AS b, "
                "string_split('a,b,,c', ',') AS c, string_split('abc', '') AS d, string_split('', ',') AS e, "
                "str_split(NULL, ',') AS f, string_split('a--b--', '--') AS g, "
                "array_to_string(string_split('x y z', ' '), '+') AS h"),
]


@pytest.mark.parametrize("name,query", LITERALS, ids=[c[0] for c in LITERALS])
def test_list_literals_and_functions(sql, name, query):
    sql.check(query)


def test_list_functions_over_parquet(sql, lists):
    sql.check(f"SELECT id, len(li) AS n, li[1] AS first, li[-1] AS last, li[2:3] AS mid, "
              f"list_contains(li, 3) AS has3, list_position(li, NULL) AS pn, list_sort(li) AS s, "
              f"list_sum(li) AS su, list_min(li) AS mi, list_max(li) AS ma, list_avg(li) AS av, "
              f"list_sort(list_distinct(li)) AS d, list_concat(li, ARRAY[100]) AS c, "
              f"array_to_string(li, ';') AS t, list_reverse(li) AS r, list_has_any(li, ARRAY[1, 2]) AS ha, "
              f"list_has_all(li, ARRAY[1, 2]) AS hl, flatten(ARRAY[li, li]) AS f FROM {lists}")
    sql.check(f"SELECT id, list_sort(ls) AS s, ls[2] AS e2, list_string_agg(ls) AS j, "
              f"list_min(ls) AS mi, list_max(ls) AS ma, list_contains(ls, 's3') AS c, "
              f"list_sort(ld, 'DESC') AS sd, list_max(ld) AS md, list_sum(ld) AS sm FROM {lists}")


def test_list_functions_grouped(sql, lists):
    sql.check(f"SELECT g, list_sum(list(id)) AS s, len(list(id)) AS n, "
              f"list_sort(list(DISTINCT g)) AS dg, (list_sort(list(id)))[3] AS third FROM {lists} GROUP BY g")
    sql.check(f"SELECT id FROM {lists} WHERE list_contains(li, 0) AND len(ls) > 1")


def test_unnest_select_list(sql):
    sql.check("SELECT unnest(ARRAY[1, 2]) AS a, unnest(ARRAY[1, 2, 3]) AS b")
    sql.check("SELECT x, unnest(l) AS u FROM (VALUES (1, ARRAY[1, 2]), (2, ARRAY[]::INTEGER[]), "
              "(3, NULL)) t(x, l)")
    sql.check("SELECT x, unnest(l) AS u, unnest(m) AS v, unnest(l) + 1 AS w FROM (VALUES "
              "(1, ARRAY[1, 2], ARRAY['a']), (2, NULL, ARRAY['b', 'c']), (3, NULL, NULL), "
              "(4, ARRAY[5], ARRAY[]::VARCHAR[])) t(x, l, m)")
    sql.check("SELECT unnest(ARRAY[ARRAY[1, 2], ARRAY[3]]) AS u")
    sql.check("SELECT g, unnest(list(x)) AS u FROM (VALUES (1, 10), (1, 11), (2, 5)) t(g, x) GROUP BY g")
    sql.check("SELECT DISTINCT unnest(ARRAY[3, 1, 3]) AS u ORDER BY u", ordered=True)
    sql.check("SELECT unnest(string_split('a b c', ' ')) AS w, 7 AS k")


def test_unnest_over_parquet(sql, lists):
    sql.check(f"SELECT id, g, unnest(li) AS v FROM {lists}")
    sql.check(f"SELECT id, unnest(li) AS v, unnest(ls) AS s, unnest(ld) AS d FROM {lists} WHERE g < 3")
    sql.check(f"SELECT v, count(*) AS n FROM (SELECT unnest(li) AS v FROM {lists}) GROUP BY v")
    sql.check(f"SELECT sum(v) AS s, count(v) AS c, count(*) AS n FROM (SELECT unnest(li) AS v FROM {lists})",
              extra=("--threads", "2"))


def test_unnest_from(sql):
    sql.check("SELECT * FROM unnest(ARRAY[1, 2, 3])")
    sql.check("SELECT * FROM unnest(ARRAY[1, 2, 3]) t")
    sql.check("SELECT t.unnest FROM unnest(ARRAY['a', NULL]) t")
    sql.check("SELECT v, count(*) AS n FROM unnest(ARRAY[1, 1, 2]) t(v) GROUP BY v")
    sql.check("SELECT count(*) AS n FROM unnest(NULL::INTEGER[])")
    sql.check("SELECT * FROM unnest(string_split('a,b', ',')) t(x)")


LATERAL_SETUP = ["CREATE TABLE t AS SELECT * FROM (VALUES (1, ARRAY[1, 2]), (2, ARRAY[]::INTEGER[]), "
                 "(3, NULL), (4, ARRAY[7, NULL, 9])) v(id, l)"]


def test_unnest_from_lateral(sql, lists):
    sql.check("SELECT * FROM t, unnest(t.l)", setup=LATERAL_SETUP)
    sql.check("SELECT id, u.x FROM t, unnest(l) u(x)", setup=LATERAL_SETUP)
    sql.check("SELECT id, u, u.unnest FROM t, unnest(l) u", setup=LATERAL_SETUP)
    sql.check("SELECT t.*, v FROM t, unnest(ARRAY['a', 'b']) w(v)", setup=LATERAL_SETUP)
    sql.check("SELECT id, x, y FROM t, unnest(l) a(x), unnest(ARRAY[10, 20]) b(y) WHERE y = 10",
              setup=LATERAL_SETUP)
    sql.check("SELECT id % 3 AS k, count(*) AS n, sum(x) AS s FROM t, unnest(t.l) u(x) GROUP BY k",
              setup=LATERAL_SETUP)
    sql.check(f"SELECT p.g, count(s) AS n, count(*) AS c FROM {lists} p, unnest(p.ls) x(s) GROUP BY p.g")


@pytest.mark.parametrize("q", ["ANY", "ALL"])
@pytest.mark.parametrize("op", ["=", "<>", "<", "<=", ">", ">="])
def test_quantified_over_lists(sql, op, q):
    sql.check(f"SELECT x, x {op} {q} (ARRAY[1, NULL]) AS a, x {op} {q} (ARRAY[2, 3]) AS b, "
              f"x {op} {q} (ARRAY[]::INTEGER[]) AS c, x {op} {q} (NULL::INTEGER[]) AS d, "
              f"x {op} {q} (l) AS e FROM (VALUES (1, ARRAY[1, 2]), (2, ARRAY[NULL, 5]), (NULL, ARRAY[3]), "
              f"(4, NULL)) t(x, l)")


def test_list_comparisons(sql, lists):
    sql.check("SELECT ARRAY[1, NULL] = ARRAY[1, NULL] AS a, ARRAY[1, 2] < ARRAY[1, 3] AS b, "
              "ARRAY[1, 2] < ARRAY[1, 2, 0] AS c, ARRAY[NULL] < ARRAY[1] AS d, ARRAY[1] < ARRAY[NULL] AS e, "
              "ARRAY[1, 2] <> ARRAY[1, 2] AS f, NULL::INTEGER[] = ARRAY[1] AS g, ARRAY['a'] < ARRAY['b'] AS h, "
              "ARRAY[2] > ARRAY[1, 5] AS i, ARRAY[1] IS DISTINCT FROM NULL AS j")
    sql.check(f"SELECT id, li = ARRAY[3] AS a, li < ARRAY[0, 0] AS b, li >= ls2 AS c, "
              f"li IS NOT DISTINCT FROM ARRAY[]::INTEGER[] AS d FROM (SELECT id, li, "
              f"list_sort(li) AS ls2 FROM {lists})")
    sql.check(f"SELECT count(*) AS n FROM {lists} WHERE li = ARRAY[]::INTEGER[] OR li > ARRAY[10]")


def test_list_casts(sql):
    sql.check("SELECT ARRAY[]::VARCHAR[] AS a, ARRAY[1, 2]::DOUBLE[] AS b, CAST(ARRAY['1', NULL] AS INTEGER[]) AS c, "
              "NULL::INTEGER[] AS d")


def test_list_output_formats(sql):
    for fmt in ("csv", "json", "table"):
        r = sql.polaroid(["SELECT ARRAY[1, NULL, 3] AS a, string_split('x,y', ',') AS b"], fmt=fmt)
        assert r.returncode == 0, r.stderr
        out = r.stdout.decode()
        assert "1" in out and "3" in out and "x" in out and "y" in out, out


def test_list_errors(sql):
    r = sql.polaroid(["SELECT x FROM (VALUES (ARRAY[1])) t(x) WHERE unnest(x) > 0"], fmt="csv")
    assert r.returncode == 1 and b"unnest" in r.stderr, r.stderr
    r = sql.polaroid(["SELECT list_extract(1, 2)"], fmt="csv")
    assert r.returncode == 1 and b"list_extract" in r.stderr, r.stderr
    r = sql.polaroid(["SELECT list_sort(ARRAY[1], 'UP')"], fmt="csv")
    assert r.returncode == 1 and b"ASC" in r.stderr, r.stderr
    r = sql.polaroid(["SELECT unnest(unnest(ARRAY[ARRAY[1]]))"], fmt="csv")
    assert r.returncode == 1 and b"nested" in r.stderr, r.stderr
    r = sql.polaroid(["SELECT * FROM unnest(1)"], fmt="csv")
    assert r.returncode == 1 and b"list" in r.stderr, r.stderr
