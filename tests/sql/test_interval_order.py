"""INTERVAL values ordered, compared, grouped and joined like DuckDB: by length, with a month
counted as 30 days and a day as 24 hours, so that 1 day and 24 hours (and 1 month and 30 days)
are equal: one group, one DISTINCT value, a join match; ORDER BY, min/max, arg_min/arg_max and
window min/max order by length. Where equal values are written differently (1 day vs 24:00:00)
the queries compare epoch() of the value or break ties by another column, since either
spelling is a right answer."""
import pytest

IV = ("(VALUES (1, INTERVAL 1 DAY), (2, INTERVAL 25 HOUR), (3, INTERVAL 24 HOUR), (4, NULL), "
      "(5, INTERVAL 1 MONTH), (6, INTERVAL 30 DAY), (7, INTERVAL '-3 hours'), "
      "(8, INTERVAL 2 MONTH), (9, INTERVAL 59 DAY), (10, INTERVAL '1 day 00:00:00.000001'), "
      "(11, INTERVAL '1 month 1 day'), (12, INTERVAL 31 DAY), (13, INTERVAL '-1 month'))")
IVA = IV.replace("(VALUES", "(SELECT * FROM (VALUES", 1) + " v(k, i))"
IV = IV + " iv(k, i)"

# ticks: 97 symbols, timestamps spread over ~11.6 days; spans are micros-only intervals
TICKS = ("(SELECT i % 97 AS s, TIMESTAMP '2024-01-01' + (i * 7919 % 1000003) * INTERVAL 1 SECOND "
         "AS ts FROM range(200000) t(i))")

QUERIES = [
    ("order_by", f"SELECT k, i FROM {IV} ORDER BY i, k", True),
    ("order_by_desc_nulls_first", f"SELECT k FROM {IV} ORDER BY i DESC NULLS FIRST, k", True),
    ("top_n", f"SELECT k FROM {IV} ORDER BY i DESC, k LIMIT 4", True),
    ("min_max", f"SELECT max(i), min(i), arg_max(k, i), arg_min(k, i) FROM {IV}", False),
    ("min_max_grouped", f"SELECT k % 3 AS g, epoch(max(i)) AS mx, epoch(min(i)) AS mn "
                        f"FROM {IV} GROUP BY 1", False),
    ("group_by_length", f"SELECT epoch(i) AS e, count(*) AS n, sum(k) AS ks FROM {IV} GROUP BY i",
     False),
    ("distinct", f"SELECT epoch(i) AS e FROM (SELECT DISTINCT i FROM {IV})", False),
    ("count_distinct", f"SELECT count(DISTINCT i) AS n FROM {IV}", False),
    ("join", f"SELECT a.k AS a, b.k AS b FROM {IVA} a JOIN {IVA} b ON a.i = b.i", False),
    ("semi_join", f"SELECT k FROM {IV} WHERE i IN (SELECT INTERVAL 24 HOUR UNION ALL "
                  f"SELECT INTERVAL 30 DAY)", False),
    ("except", f"SELECT epoch(i) AS e FROM (SELECT i FROM {IV} EXCEPT "
               f"SELECT INTERVAL 1 DAY)", False),
    ("window_min_max", f"SELECT k, epoch(max(i) OVER (PARTITION BY k % 3)) AS mx, "
                       f"epoch(min(i) OVER (ORDER BY k ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)) "
                       f"AS mn, row_number() OVER (ORDER BY i DESC NULLS LAST, k) AS r FROM {IV}",
     False),
    ("spans", f"SELECT s, max(ts) - min(ts) AS span FROM {TICKS} GROUP BY s "
              f"ORDER BY span DESC, s LIMIT 20", True),
    ("span_stats", f"SELECT max(span) AS mx, min(span) AS mn, count(DISTINCT span) AS n FROM "
                   f"(SELECT s, max(ts) - min(ts) AS span FROM {TICKS} GROUP BY s)", False),
    ("gaps", f"SELECT s, max(d) AS max_gap FROM (SELECT s, ts - lag(ts) OVER (PARTITION BY s "
             f"ORDER BY ts) AS d FROM {TICKS}) GROUP BY s ORDER BY max_gap DESC, s LIMIT 10",
     True),
]


@pytest.mark.parametrize("name,query,ordered", QUERIES, ids=[q[0] for q in QUERIES])
def test_interval_order(sql, name, query, ordered):
    sql.check(query, ordered=ordered)
