"""WITH ... AS [NOT] MATERIALIZED: a materialized CTE is evaluated once, so every reference
reads the same rows (random() agrees between references); NOT MATERIALIZED is inlined into each
reference. By default DuckDB materializes; polaroid inlines a CTE unless it is MATERIALIZED or
gives other rows per evaluation (random()) and is referenced more than once, which reads the
same. Compared with DuckDB."""
import pytest

CASES = [
    ("materialized_twice",
     "WITH c AS MATERIALIZED (SELECT random() AS r) SELECT a.r = b.r AS same FROM c a, c b"),
    ("default_volatile_twice",
     "WITH c AS (SELECT random() AS r) SELECT a.r = b.r AS same FROM c a, c b"),
    ("not_materialized_twice",
     "WITH c AS NOT MATERIALIZED (SELECT random() AS r) SELECT a.r = b.r AS same FROM c a, c b"),
    ("scalar_subqueries",
     "WITH c AS (SELECT random() AS r) SELECT (SELECT r FROM c) = (SELECT r FROM c) AS same"),
    ("many_rows_join",
     "WITH c AS (SELECT i, random() AS r FROM range(2000) t(i)) "
     "SELECT count(*) AS n FROM c a JOIN c b ON a.i = b.i AND a.r = b.r"),
    ("many_rows_union",
     "WITH c AS MATERIALIZED (SELECT i, random() AS r FROM range(500) t(i)) "
     "SELECT count(*) AS n FROM (SELECT * FROM c UNION SELECT * FROM c) u"),
    ("chained_volatile",
     "WITH c AS (SELECT random() AS r), d AS (SELECT r * 2 AS r2 FROM c) "
     "SELECT a.r2 = b.r2 AS same FROM d a, d b"),
    ("referenced_by_later_cte",
     "WITH c AS (SELECT random() AS r), d AS (SELECT (SELECT r FROM c) = (SELECT r FROM c) AS e) "
     "SELECT e FROM d"),
    ("not_materialized_many_rows",
     "WITH c AS NOT MATERIALIZED (SELECT i, random() AS r FROM range(1000) t(i)) "
     "SELECT count(*) AS n FROM c a JOIN c b ON a.i = b.i AND a.r = b.r"),
    ("materialized_deterministic",
     "WITH c AS MATERIALIZED (SELECT person_id, count(*) AS n, sum(value) AS s FROM {events} "
     "GROUP BY person_id) SELECT a.person_id, a.n, b.s FROM c a JOIN c b "
     "ON a.person_id = b.person_id ORDER BY 1"),
    ("materialized_dict_strings",
     "WITH c AS MATERIALIZED (SELECT * FROM {events}) "
     "SELECT a.kind, count(*) AS n FROM c a JOIN c b USING (eid) GROUP BY a.kind "
     "ORDER BY a.kind NULLS FIRST"),
    ("materialized_column_names",
     "WITH c(x, y) AS MATERIALIZED (SELECT i, i * 2 FROM range(5) t(i)) "
     "SELECT a.x, b.y FROM c a JOIN c b ON a.x = b.x ORDER BY a.x"),
    ("materialized_empty",
     "WITH c AS MATERIALIZED (SELECT i FROM range(5) t(i) WHERE i > 10) "
     "SELECT count(*) AS n FROM c a, c b"),
    ("materialized_once",
     "WITH c AS MATERIALIZED (SELECT random() AS r) SELECT r >= 0 AND r < 1 AS ok FROM c"),
    ("nested_with",
     "SELECT (WITH c AS (SELECT random() AS r) SELECT a.r = b.r FROM c a, c b) AS same"),
    ("materialized_in_subquery_filter",
     "WITH c AS MATERIALIZED (SELECT i, random() AS r FROM range(300) t(i)) "
     "SELECT count(*) AS n FROM c WHERE r = (SELECT max(r) FROM c)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_cte_materialized(sql, name, query):
    sql.check(query, ordered=True)


def test_cte_materialized_error_position(sql):
    sql.error(["WITH c AS MATERIALIZED (SELECT 1 // 0 AS d) SELECT * FROM c a, c b"],
              "division by zero")
