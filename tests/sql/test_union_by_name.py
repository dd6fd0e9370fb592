"""DuckDB's UNION [ALL] BY NAME: columns matched by name ignoring case, the left side's first,
then the right side's others; a column a side lacks is NULL there; compared with DuckDB."""
import pytest

CASES = [
    ("reordered", "SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 3 AS b, 4 AS a"),
    ("missing", "SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 3 AS b, 4 AS c"),
    ("case", "SELECT 1 AS a, 2 AS B UNION BY NAME SELECT 1 AS b, 1 AS a"),
    ("distinct", "SELECT 1 AS a UNION BY NAME SELECT 1 AS a UNION BY NAME SELECT 2 AS b"),
    ("types", "SELECT 1 AS a UNION ALL BY NAME SELECT 2.5 AS a UNION ALL BY NAME SELECT 'x' AS s"),
    ("three", "SELECT 1 AS a UNION ALL BY NAME SELECT 'x' AS b UNION ALL BY NAME SELECT 3 AS c"),
    ("after_plain_union", "SELECT 1 AS a UNION ALL SELECT 2 UNION ALL BY NAME SELECT 3 AS b"),
    ("tables", "SELECT id, name, city FROM {people} UNION ALL BY NAME SELECT team_name AS name, "
               "team_id AS id, budget FROM {teams}"),
    ("parenthesised_order", "(SELECT 1 AS a, 2 AS b) UNION ALL BY NAME (SELECT 3 AS b) "
                            "ORDER BY a NULLS FIRST"),
    ("in_cte", "WITH u AS (SELECT kind, value FROM {events} WHERE eid < 5 UNION ALL BY NAME "
               "SELECT eid, kind FROM {events} WHERE eid > 236) SELECT * FROM u"),
    ("intersect_first", "SELECT 1 AS a INTERSECT SELECT 1 AS a UNION BY NAME SELECT 2 AS b"),
    ("plain_after_by_name", "SELECT 1 AS a, 2 AS b UNION ALL BY NAME SELECT 3 AS b, 4 AS a "
                            "UNION ALL SELECT 5, 6"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_union_by_name(sql, name, query):
    sql.check(query, ordered="ORDER BY" in query)


def test_union_by_name_duplicates(sql):
    sql.error(["SELECT 1 AS a UNION ALL BY NAME SELECT 2 AS a, 3 AS a"], "more than once")
