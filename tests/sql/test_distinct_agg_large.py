"""DISTINCT aggregates over morsels where most rows survive the de-duplication (unique values:
the survivors are read back in row order by marking) and where few do (few values: sorted),
grouped and not, with NULLs, against DuckDB. The survivors used to be ordered by an insertion
sort, quadratic in a morsel's survivors: count(DISTINCT trade_id) GROUP BY symbol over one
3M-row file took 11.6 s of CPU (DuckDB 0.5 s)."""
import pytest

DATA = ("(SELECT i % 13 AS g, i * 7919 % 400009 AS u, i % 5 AS f, "
        "CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 31) % 1000 END AS n, "
        "'s' || (i * 17 % 2003) AS s FROM range(300000) t(i))")

QUERIES = [
    ("unique_grouped", f"SELECT g, count(DISTINCT u) AS c, sum(DISTINCT u) AS su, "
                       f"min(DISTINCT u) AS mn FROM {DATA} GROUP BY g"),
    ("few_grouped", f"SELECT g, count(DISTINCT f) AS c, sum(DISTINCT f) AS s, "
                    f"avg(DISTINCT f) AS a FROM {DATA} GROUP BY g"),
    ("nulls_grouped", f"SELECT g, count(DISTINCT n) AS c, sum(DISTINCT n) AS s FROM {DATA} "
                      f"GROUP BY g"),
    ("strings_grouped", f"SELECT g, count(DISTINCT s) AS c, min(DISTINCT s) AS m FROM {DATA} "
                        f"GROUP BY g"),
    ("mixed", f"SELECT f, count(DISTINCT u) AS cu, count(DISTINCT g) AS cg, count(*) AS n, "
              f"sum(u) AS su FROM {DATA} GROUP BY f"),
    ("ungrouped", f"SELECT count(DISTINCT u) AS cu, count(DISTINCT f) AS cf, "
                  f"count(DISTINCT n) AS cn FROM {DATA}"),
    ("filtered", f"SELECT g, count(DISTINCT u) FILTER (WHERE f = 2) AS c FROM {DATA} GROUP BY g"),
]


@pytest.mark.parametrize("name,query", QUERIES, ids=[q[0] for q in QUERIES])
def test_distinct_agg_large(sql, name, query):
    sql.check(query)
