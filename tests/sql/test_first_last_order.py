"""first / last / any_value with ORDER BY inside the call, grouped over many rows, against
DuckDB: DESC keys, several keys, NULLs in the keys (NULLS FIRST / LAST) and in the values, and
groups with one row. The answer is found in one pass (what a stable sort would put first or
last), not by sorting each group. Order keys are unique within a group, or ties have equal
values, so that every right answer is the same."""
import pytest

DATA = ("(SELECT i % 101 AS g, i AS k, (i * 7919) % 100003 AS u, "
        "CASE WHEN i % 7 = 0 THEN NULL ELSE i % 1000 END AS nk, "
        "CASE WHEN i % 5 = 0 THEN NULL ELSE i * 0.5 END AS v, 'x' || (i % 13) AS s "
        "FROM range(200000) t(i))")

QUERIES = [
    ("desc", f"SELECT g, first(v ORDER BY u DESC) AS f, last(v ORDER BY u DESC) AS l "
             f"FROM {DATA} GROUP BY g"),
    ("asc_strings", f"SELECT g, first(s ORDER BY k) AS f, last(s ORDER BY k) AS l "
                    f"FROM {DATA} GROUP BY g"),
    ("two_keys", f"SELECT g, first(k ORDER BY k % 10 DESC, u) AS f, "
                 f"last(k ORDER BY k % 10 DESC, u) AS l FROM {DATA} GROUP BY g"),
    ("null_keys_last", f"SELECT g, first(k ORDER BY nk NULLS LAST, k) AS f, "
                       f"last(k ORDER BY nk NULLS LAST, k) AS l FROM {DATA} GROUP BY g"),
    ("null_keys_first", f"SELECT g, first(k ORDER BY nk DESC NULLS FIRST, k) AS f, "
                        f"last(k ORDER BY nk DESC NULLS FIRST, k DESC) AS l FROM {DATA} GROUP BY g"),
    ("null_values", f"SELECT g, first(v ORDER BY k) AS f, last(v ORDER BY k) AS l, "
                    f"any_value(v ORDER BY k) AS a FROM {DATA} GROUP BY g"),
    ("ties_equal_values", f"SELECT g, first(k % 10 ORDER BY k % 10) AS f, "
                          f"last(k % 10 ORDER BY k % 10) AS l FROM {DATA} GROUP BY g"),
    ("single_rows", f"SELECT k, first(v ORDER BY u) AS f, last(v ORDER BY u) AS l "
                    f"FROM {DATA} WHERE k < 500 GROUP BY k"),
    ("ungrouped", f"SELECT first(u ORDER BY v DESC NULLS LAST, k) AS f, "
                  f"last(u ORDER BY v, k) AS l FROM {DATA}"),
]


@pytest.mark.parametrize("name,query", QUERIES, ids=[q[0] for q in QUERIES])
def test_first_last_order(sql, name, query):
    sql.check(query)
