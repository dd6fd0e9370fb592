"""Columns of the NULL type (a VALUES column that holds only NULLs has no values buffer) in
comparisons and IS [NOT] DISTINCT FROM: every kernel treats them as NULL in every row (the
comparison kernels read the missing buffer and crashed before), compared with DuckDB."""
import pytest

T = "(VALUES (NULL, 1), (NULL, NULL), (NULL, 3)) t(v, x)"
V = ("(VALUES (1, 'a', 'NaN'::DOUBLE), (2, 'b', 1.0), (3, 'a', 2.0), (4, 'b', 'inf'::DOUBLE), "
     "(5, 'c', NULL), (6, 'c', 1e20), (7, 'c', NULL)) t(x, g, v)")

CASES = [
    ("compare", f"SELECT x, v = v AS a, v < v AS b, v <> 1 AS c, 2 >= v AS d, v = x AS e, "
                f"x > v AS f FROM {T} ORDER BY x NULLS FIRST"),
    ("distinct_from", f"SELECT x, v IS DISTINCT FROM v AS a, v IS NOT DISTINCT FROM x AS b, "
                      f"x IS DISTINCT FROM v AS c, v IS DISTINCT FROM NULL AS d FROM {T} "
                      f"ORDER BY x NULLS FIRST"),
    ("filter", f"SELECT x FROM {T} WHERE v = v OR x > 2 ORDER BY x"),
    ("case", f"SELECT x, CASE WHEN v = x THEN 'eq' WHEN v IS NULL THEN 'null' END AS c FROM {T} "
             f"ORDER BY x NULLS FIRST"),
    ("values_with_null_rows", f"SELECT x % 3 AS k, arg_max(x, v) AS a, arg_min(x, v) AS b, "
                              f"count(*) AS n FROM {V} WHERE v = v GROUP BY k ORDER BY k"),
    # a NULL FILTER selects no row (it was "FILTER needs a boolean column")
    ("agg_filter_null", f"SELECT g, count(*) FILTER (WHERE NULL) AS a, sum(x) FILTER (WHERE NULL) "
                        f"AS b, count(x) AS c FROM {V} GROUP BY g ORDER BY g"),
    ("agg_filter_null_all", f"SELECT count(*) FILTER (WHERE NULL) AS a, max(v) FILTER (WHERE v > 1 "
                            f"AND NULL) AS b FROM {V}"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_null_type(sql, name, query):
    sql.check(query, ordered=True)
