"""Joins on IS NOT DISTINCT FROM (NULL matches NULL), alone or mixed with equalities, in ON,
in WHERE over a cross join and as the correlation of EXISTS / IN subqueries: hash join keys
with a per-key "nulls equal" flag (they were a cross product + filter before), compared with
DuckDB."""
import os
import subprocess
import time

import pytest

from conftest import polaroid_bin, ROOT

# ints with NULLs on both sides, duplicates, a key only on one side
A = "(VALUES (1, 10), (2, NULL), (3, 30), (4, NULL), (5, 50), (6, 10), (7, 70)) a(x, k)"
B = "(VALUES (100, NULL), (200, 10), (300, 30), (400, NULL), (500, 90), (600, 10)) b(y, k)"
# two keys: g compared with =, h with IS NOT DISTINCT FROM
A2 = ("(VALUES (1, 1, 'p'), (2, 1, NULL), (3, NULL, 'p'), (4, NULL, NULL), (5, 2, NULL), "
      "(6, 2, 'q')) a(x, g, h)")
B2 = ("(VALUES (10, 1, 'p'), (20, 1, NULL), (30, NULL, NULL), (40, 2, NULL), (50, NULL, 'p'), "
      "(60, 2, 'r'), (70, 1, NULL)) b(y, g, h)")
# doubles: NaN matches NaN, -0.0 matches 0.0, NULL matches NULL
AF = ("(VALUES (1, 'NaN'::DOUBLE), (2, -0.0::DOUBLE), (3, NULL::DOUBLE), (4, 1.5::DOUBLE), "
      "(5, 'inf'::DOUBLE)) a(x, v)")
BF = ("(VALUES (10, 0.0::DOUBLE), (20, 'NaN'::DOUBLE), (30, NULL::DOUBLE), (40, 1.5::DOUBLE), "
      "(50, NULL::DOUBLE), (60, '-inf'::DOUBLE)) b(y, v)")
# strings
AS = "(VALUES (1, 'x'), (2, NULL), (3, ''), (4, 'yy'), (5, NULL)) a(x, s)"
BS = "(VALUES (10, ''), (20, NULL), (30, 'x'), (40, 'zz'), (50, 'x')) b(y, s)"

CASES = [
    ("inner", f"SELECT x, y FROM {A} JOIN {B} ON a.k IS NOT DISTINCT FROM b.k ORDER BY x, y"),
    ("left", f"SELECT x, y FROM {A} LEFT JOIN {B} ON a.k IS NOT DISTINCT FROM b.k ORDER BY x, y"),
    ("right", f"SELECT x, y FROM {A} RIGHT JOIN {B} ON a.k IS NOT DISTINCT FROM b.k "
              "ORDER BY x, y NULLS FIRST"),
    ("full", f"SELECT x, y FROM {A} FULL JOIN {B} ON b.k IS NOT DISTINCT FROM a.k "
             "ORDER BY x NULLS FIRST, y NULLS FIRST"),
    ("not_distinct_with_residual",
     f"SELECT x, y FROM {A} LEFT JOIN {B} ON a.k IS NOT DISTINCT FROM b.k AND y > 150 ORDER BY x, y"),
    ("where_over_cross_join",
     f"SELECT x, y FROM {A}, {B} WHERE a.k IS NOT DISTINCT FROM b.k ORDER BY x, y"),
    ("where_is_distinct_stays_filter",
     f"SELECT x, y FROM {A}, {B} WHERE a.k IS DISTINCT FROM b.k AND x < 3 ORDER BY x, y"),
    ("expression_keys",
     f"SELECT x, y FROM {A} JOIN {B} ON a.k + 1 IS NOT DISTINCT FROM b.k + 1 ORDER BY x, y"),
    ("int_with_bigint",
     f"SELECT x, y FROM {A} JOIN {B} ON a.k::BIGINT IS NOT DISTINCT FROM b.k::INTEGER ORDER BY x, y"),
    # mixed: = never matches NULL, IS NOT DISTINCT FROM does
    ("mixed_inner",
     f"SELECT x, y FROM {A2} JOIN {B2} ON a.g = b.g AND a.h IS NOT DISTINCT FROM b.h ORDER BY x, y"),
    ("mixed_left",
     f"SELECT x, y FROM {A2} LEFT JOIN {B2} ON a.h IS NOT DISTINCT FROM b.h AND a.g = b.g "
     "ORDER BY x, y"),
    ("mixed_full",
     f"SELECT x, y FROM {A2} FULL JOIN {B2} ON a.g = b.g AND a.h IS NOT DISTINCT FROM b.h "
     "ORDER BY x NULLS FIRST, y NULLS FIRST"),
    ("both_not_distinct",
     f"SELECT x, y FROM {A2} JOIN {B2} ON a.g IS NOT DISTINCT FROM b.g "
     "AND a.h IS NOT DISTINCT FROM b.h ORDER BY x, y"),
    ("mixed_where",
     f"SELECT x, y FROM {A2}, {B2} WHERE a.g = b.g AND a.h IS NOT DISTINCT FROM b.h ORDER BY x, y"),
    ("float_nan_negzero",
     f"SELECT x, y FROM {AF} FULL JOIN {BF} ON a.v IS NOT DISTINCT FROM b.v "
     "ORDER BY x NULLS FIRST, y NULLS FIRST"),
    ("float_with_int_key",
     f"SELECT x, y FROM {AF} JOIN {BF} ON a.v IS NOT DISTINCT FROM b.v AND a.x % 2 = b.y % 2 "
     "ORDER BY x, y"),
    ("strings",
     f"SELECT x, y FROM {AS} FULL JOIN {BS} ON a.s IS NOT DISTINCT FROM b.s "
     "ORDER BY x NULLS FIRST, y NULLS FIRST"),
    ("using_stays_equal",
     f"SELECT x, y FROM {A} JOIN {B} USING (k) ORDER BY x, y"),
    # parquet columns (dictionary-encoded strings) with NULLs, mixed with an integer equality
    ("parquet_dict_strings",
     "SELECT a.kind, count(*) AS n, sum(a.eid) AS s FROM {events} a JOIN {events} b "
     "ON a.kind IS NOT DISTINCT FROM b.kind AND a.person_id = b.person_id GROUP BY a.kind "
     "ORDER BY a.kind NULLS FIRST"),
    ("parquet_dict_strings_only",
     "SELECT a.kind, count(*) AS n FROM {events} a LEFT JOIN {people} p "
     "ON a.kind IS NOT DISTINCT FROM p.city GROUP BY a.kind ORDER BY a.kind NULLS FIRST"),
    ("parquet_people_city",
     "SELECT p.id, q.id AS id2 FROM {people} p JOIN {people} q ON p.city IS NOT DISTINCT FROM q.city "
     "AND p.team_id IS NOT DISTINCT FROM q.team_id ORDER BY 1, 2"),
    # semi / anti joins from correlated EXISTS / IN
    ("exists", f"SELECT x FROM {A} WHERE EXISTS (SELECT 1 FROM {B} WHERE b.k IS NOT DISTINCT FROM a.k) "
               "ORDER BY x"),
    ("not_exists",
     f"SELECT x FROM {A} WHERE NOT EXISTS (SELECT 1 FROM {B} WHERE a.k IS NOT DISTINCT FROM b.k) "
     "ORDER BY x"),
    ("exists_mixed",
     f"SELECT x FROM {A2} WHERE EXISTS (SELECT 1 FROM {B2} WHERE b.g = a.g AND "
     "b.h IS NOT DISTINCT FROM a.h) ORDER BY x"),
    ("not_exists_mixed_residual",
     f"SELECT x FROM {A2} WHERE NOT EXISTS (SELECT 1 FROM {B2} WHERE b.h IS NOT DISTINCT FROM a.h "
     "AND b.y > a.x * 10) ORDER BY x"),
    ("exists_grouped",
     f"SELECT x FROM {A2} WHERE EXISTS (SELECT b.h, count(*) FROM {B2} WHERE b.h IS NOT DISTINCT FROM "
     "a.h GROUP BY b.h HAVING count(*) > 1) ORDER BY x"),
    ("in_correlated",
     f"SELECT x FROM {A2} WHERE x * 10 IN (SELECT y FROM {B2} WHERE b.h IS NOT DISTINCT FROM a.h) "
     "ORDER BY x"),
    ("in_correlated_grouped",
     f"SELECT x FROM {A2} WHERE x IN (SELECT count(*) FROM {B2} WHERE b.g IS NOT DISTINCT FROM a.g "
     "GROUP BY b.h) ORDER BY x"),
    ("exists_select_list",
     f"SELECT x, EXISTS (SELECT 1 FROM {B} WHERE b.k IS NOT DISTINCT FROM a.k) AS e FROM {A} "
     "ORDER BY x"),
    # many NULLs on both sides (skew: 300 x 200 NULL pairs)
    ("many_nulls",
     "SELECT count(*) AS n, count(a.i) AS ni, sum(b.j) AS sj FROM "
     "(SELECT i, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 50 END AS k FROM range(1200) t(i)) a JOIN "
     "(SELECT j, CASE WHEN j % 5 = 0 THEN NULL ELSE j % 70 END AS k FROM range(1000) t(j)) b "
     "ON a.k IS NOT DISTINCT FROM b.k"),
    ("many_nulls_anti",
     "SELECT count(*) AS n FROM "
     "(SELECT i, CASE WHEN i % 4 = 0 THEN NULL ELSE i END AS k FROM range(5000) t(i)) a WHERE NOT EXISTS "
     "(SELECT 1 FROM (SELECT CASE WHEN j % 3 = 0 THEN NULL ELSE j * 2 END AS k FROM range(4000) t(j)) b "
     "WHERE b.k IS NOT DISTINCT FROM a.k)"),
    ("many_nulls_full_mixed",
     "SELECT count(*) AS n, count(a.i) AS ni, count(b.j) AS nj FROM "
     "(SELECT i, i % 3 AS g, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 50 END AS k FROM range(1200) t(i)) a "
     "FULL JOIN "
     "(SELECT j, CASE WHEN j % 7 = 0 THEN NULL ELSE j % 3 END AS g, "
     "CASE WHEN j % 5 = 0 THEN NULL ELSE j % 70 END AS k FROM range(1000) t(j)) b "
     "ON a.k IS NOT DISTINCT FROM b.k AND a.g = b.g"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_join_not_distinct(sql, name, query):
    sql.check(query, ordered=True)


BIG = ("SELECT count(*) AS n, count(a.k) AS nk, sum(a.i) AS si FROM "
       "(SELECT i, CASE WHEN i % 10000 = 7 THEN NULL ELSE i END AS k FROM range(200000) t(i)) a "
       "{join} "
       "(SELECT j, CASE WHEN j % 10000 = 3 THEN NULL ELSE 199999 - j END AS k FROM range(200000) t(j)) b "
       "ON a.k IS NOT DISTINCT FROM b.k")


@pytest.mark.parametrize("join", ["JOIN", "LEFT JOIN", "FULL JOIN"])
def test_join_not_distinct_large_is_hashed(sql, join):
    """200k x 200k rows: a cross product + filter (4e10 pairs) would not finish."""
    t0 = time.monotonic()
    sql.check(BIG.format(join=join), ordered=True)
    assert time.monotonic() - t0 < 60


def test_join_not_distinct_plan_has_keys(sql, tmp_path):
    """EXPLAIN shows hash keys compared with IS NOT DISTINCT FROM (and = for equalities)."""
    script = tmp_path / "x.sql"
    script.write_text(f"EXPLAIN SELECT x, y FROM {A2} JOIN {B2} ON a.g = b.g AND "
                      "a.h IS NOT DISTINCT FROM b.h;\n"
                      f"EXPLAIN SELECT x, y FROM {A2}, {B2} WHERE a.h IS NOT DISTINCT FROM b.h;\n"
                      f"EXPLAIN SELECT x FROM {A2} WHERE NOT EXISTS (SELECT 1 FROM {B2} "
                      "WHERE b.h IS NOT DISTINCT FROM a.h);\n")
    r = subprocess.run([polaroid_bin(), "sql", "--format", "csv", "-f", str(script)], cwd=ROOT,
                       capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    joins = [ln for ln in out.splitlines() if "HASH JOIN" in ln]
    assert len(joins) == 3, out
    assert "= b.g" in joins[0] or "= g" in joins[0], joins[0]
    for ln in joins:
        assert "IS NOT DISTINCT FROM" in ln, ln
        assert " ON " in ln, ln
