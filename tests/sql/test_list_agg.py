"""list(x) / array_agg(x): a group's values as a list, compared with DuckDB: NULL elements kept,
ORDER BY inside the call, DISTINCT, FILTER (a group left without rows gives NULL), strings from
dictionary-encoded Parquet columns, dates and decimals, many groups on one and two threads."""
import pytest

T = ("(VALUES (1, 'a', 10.5, 'x'), (2, 'b', NULL, NULL), (3, 'a', 7.25, 'long string value 1'), "
     "(4, NULL, 1.0, 'x'), (5, 'b', 2.0, 'y'), (6, 'a', 7.25, 'x'), (7, 'b', 2.0, NULL)) "
     "t(x, g, v, s)")

CASES = [
    ("whole", f"SELECT list(x ORDER BY x) AS l, array_agg(s ORDER BY x) AS a FROM {T}"),
    ("grouped", f"SELECT g, list(v ORDER BY x) AS lv, list(s ORDER BY x DESC) AS ls, count(*) AS n "
                f"FROM {T} GROUP BY g ORDER BY g NULLS FIRST"),
    ("distinct", f"SELECT g, list(DISTINCT v ORDER BY v) AS d FROM {T} WHERE v IS NOT NULL "
                 f"GROUP BY g ORDER BY g NULLS FIRST"),
    ("filter", f"SELECT g, list(x ORDER BY x) FILTER (WHERE x > 4) AS f FROM {T} GROUP BY g "
               f"ORDER BY g NULLS FIRST"),
    ("nulls_only", f"SELECT g, list(s ORDER BY x) AS l FROM {T} WHERE s IS NULL GROUP BY g "
                   f"ORDER BY g"),
    ("types", "SELECT kind, list(CAST(ts AS DATE) ORDER BY eid) AS d, list(value ORDER BY eid) "
              "AS v FROM {events} WHERE eid <= 20 GROUP BY kind ORDER BY kind NULLS FIRST"),
    ("dictionary", "SELECT person_id, list(kind ORDER BY eid) AS k FROM {events} GROUP BY "
                   "person_id ORDER BY person_id"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_list_agg(sql, name, query):
    sql.check(query, ordered="ORDER BY g" in query or "ORDER BY kind" in query or
              "ORDER BY person_id" in query)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_list_agg_many_groups(sql, threads):
    q = ("SELECT i % 1000 AS k, list(i ORDER BY i) AS l FROM range(100000) t(i) GROUP BY k "
         "ORDER BY k")
    sql.check(q, ordered=True, extra=("--threads", threads))


def test_list_agg_input_order(sql):
    """Without ORDER BY the elements come in input order (one thread, one small input)."""
    sql.check(f"SELECT list(x) AS l FROM {T}", extra=("--threads", "1"))
