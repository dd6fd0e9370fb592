"""median / quantile_cont of doubles with infinities, compared with DuckDB: neighbours -inf and
-inf interpolate to -inf, -inf and 1 to -inf, -inf and inf to NaN (the interpolation
lo + d * (hi - lo) gave NaN for the first two). Every path: the direct grouped one, DISTINCT,
the whole-table one, and windows."""
import pytest

V = ("(VALUES (1, '-inf'::DOUBLE), (1, '-inf'::DOUBLE), (2, '-inf'::DOUBLE), (2, 1.0), "
     "(3, 'inf'::DOUBLE), (3, 2.0), (4, 'inf'::DOUBLE), (4, '-inf'::DOUBLE), (5, 'inf'::DOUBLE), "
     "(5, 'inf'::DOUBLE), (6, 1e308), (6, 1.5e308), (7, 'nan'::DOUBLE), (7, '-inf'::DOUBLE), "
     "(8, NULL), (8, '-inf'::DOUBLE), (8, 3.0), (8, 'inf'::DOUBLE)) t(g, x)")

CASES = [
    ("grouped", f"SELECT g, median(x) AS m, quantile_cont(x, 0.25) AS q1, quantile_cont(x, 0.9) AS q9 "
                f"FROM {V} GROUP BY g ORDER BY g"),
    ("distinct", f"SELECT g, median(DISTINCT x) AS m, quantile_cont(DISTINCT x, 0.3) AS q "
                 f"FROM {V} GROUP BY g ORDER BY g"),
    ("whole", f"SELECT median(x) AS m, quantile_cont(x, 0.1) AS q FROM {V} WHERE g IN (2, 4)"),
    ("window", f"SELECT g, x, median(x) OVER (PARTITION BY g) AS m, quantile_cont(x, 0.75) OVER "
               f"(PARTITION BY g) AS q FROM {V} ORDER BY g, x NULLS FIRST"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_quantile_inf(sql, name, query):
    sql.check(query, ordered=True)
