"""median / quantile_cont / quantile_disc of DECIMAL keep the input's DECIMAL type like DuckDB
(median and quantile_cont were DOUBLE); the interpolation is DuckDB's: lo + (hi - lo) * d,
truncated toward zero to the scale (computed in double up to 18 digits, the fraction of the
difference truncated past 18). Also DISTINCT (median(DISTINCT x) failed with "no streaming
update"). Compared with DuckDB."""
import pytest

D4 = "(VALUES (1.25::DECIMAL(10,2)), (2.50), (4.00), (7.10)) v(d)"
G = ("(VALUES (1, 1.5::DECIMAL(4,1)), (1, NULL), (2, NULL), (1, 2.0), (1, 2.0), (3, -0.5), "
     "(4, -1.1), (4, -1.4), (4, 9.9), (4, -1.4)) v(g, d)")

CASES = [
    ("median_even", f"SELECT median(d) AS m, typeof(median(d)) AS t FROM {D4}"),
    ("median_odd", "SELECT median(d) AS m FROM (VALUES (1.25::DECIMAL(10,2)), (2.50), (4.01)) v(d)"),
    ("quantile_cont", f"SELECT quantile_cont(d, 0.3) AS a, quantile_cont(d, 0) AS b, "
                      f"quantile_cont(d, 1) AS c, quantile_cont(d, 0.999) AS e, "
                      f"typeof(quantile_cont(d, 0.3)) AS t FROM {D4}"),
    ("percentile_cont", f"SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY d) AS a FROM {D4}"),
    ("quantile_disc", f"SELECT quantile_disc(d, 0.3) AS a, typeof(quantile_disc(d, 0.3)) AS t FROM {D4}"),
    ("truncation_positive", "SELECT median(d) AS m FROM (VALUES (1.01::DECIMAL(10,2)), (1.02)) v(d)"),
    ("truncation_negative", "SELECT median(d) AS m FROM (VALUES (-1.01::DECIMAL(10,2)), (-1.02)) v(d)"),
    ("truncation_quarter", "SELECT quantile_cont(d, 0.25) AS m FROM (VALUES (0.01::DECIMAL(10,2)), (0.02)) v(d)"),
    ("wide_18_digits",
     "SELECT median(d) AS m FROM (VALUES (1234567890123456.71::DECIMAL(18,2)), "
     "(1234567890123456.90::DECIMAL(18,2))) v(d)"),
    ("wide_20_digits",
     "SELECT median(d) AS a, quantile_cont(d, 0.9) AS b FROM (VALUES (12345678901234567.89::DECIMAL(20,2)), "
     "(12345678901234567.90::DECIMAL(20,2)), (-5.5)) v(d)"),
    ("wide_20_negative",
     "SELECT median(d) AS m FROM (VALUES (-12345678901234567.89::DECIMAL(20,2)), "
     "(-12345678901234567.90::DECIMAL(20,2))) v(d)"),
    ("small_precision", "SELECT median(d) AS m, typeof(median(d)) AS t FROM "
                        "(VALUES (1::DECIMAL(4,0)), (2::DECIMAL(4,0))) v(d)"),
    ("grouped_nulls_distinct",
     f"SELECT g, median(d) AS m, quantile_cont(d, 0.9) AS q, median(DISTINCT d) AS md, "
     f"quantile_disc(DISTINCT d, 0.5) AS qd, quantile_cont(DISTINCT d, 0.25) AS qc "
     f"FROM {G} GROUP BY g ORDER BY g"),
    ("filter_empty", f"SELECT median(d) FILTER (WHERE d > 100) AS m FROM {D4}"),
    ("many_groups",
     "SELECT g, median(d) AS m, quantile_cont(d, 0.1) AS q FROM (SELECT i % 97 AS g, "
     "((i * 7919) % 10007)::DECIMAL(12,3) / 7 AS d FROM range(20000) t(i)) GROUP BY g ORDER BY g"),
    ("distinct_double",
     "SELECT median(DISTINCT x) AS m, quantile_cont(DISTINCT x, 0.25) AS q, "
     "quantile_disc(DISTINCT x, 0.5) AS r FROM (VALUES (1), (1), (1), (5), (6)) v(x)"),
    ("window_decimal",
     "SELECT g, d, median(d) OVER (PARTITION BY g ORDER BY d ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS m, "
     "quantile_cont(d, 0.75) OVER (PARTITION BY g) AS q, quantile_cont(d, 0.3) OVER (ORDER BY d) AS r "
     "FROM (VALUES (1, 1.01::DECIMAL(20,2)), (1, NULL), (1, 1.02), (1, -3.33), (2, NULL), (2, 5.55), "
     "(2, 12345678901234567.89)) v(g, d) ORDER BY g, d NULLS FIRST"),
    ("window_decimal_18",
     f"SELECT d, median(d) OVER () AS m, quantile_cont(d, 0.3) OVER (ORDER BY d) AS q FROM {D4} ORDER BY d"),
    # the other DECIMAL aggregates stay DOUBLE (avg was made DECIMAL by mistake once)
    ("others_stay_double",
     f"SELECT avg(d) AS a, typeof(avg(d)) AS t, var_samp(d) AS v, stddev_pop(d) AS s, "
     f"typeof(var_samp(d)) AS tv FROM {D4}"),
    ("window_avg_decimal",
     f"SELECT d, avg(d) OVER (ORDER BY d ROWS 2 PRECEDING) AS a FROM {D4} ORDER BY d"),
    ("double_unchanged",
     "SELECT median(x) AS m, typeof(median(x)) AS t, quantile_cont(x, 0.3) AS q FROM "
     "(VALUES (1), (2), (4), (7)) v(x)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_quantile_decimal(sql, name, query):
    sql.check(query, ordered=True)
