"""LIMIT / OFFSET with constant expressions (arithmetic, casts, strings, decimals rounded like
DuckDB's cast to BIGINT, NULL meaning none, uncorrelated scalar subqueries), compared with
DuckDB; negative values and non-constant expressions are errors."""
import pytest

CASES = [
    ("product", "SELECT eid FROM {events} ORDER BY eid LIMIT 2 * 5"),
    ("offset_expr", "SELECT eid FROM {events} ORDER BY eid LIMIT 3 OFFSET 2 * 2 + 1"),
    ("decimal_rounds", "SELECT eid FROM {events} ORDER BY eid LIMIT 2.5 OFFSET 1.5"),
    ("string", "SELECT eid FROM {events} ORDER BY eid LIMIT '3'"),
    ("null_limit", "SELECT id FROM {people} ORDER BY id LIMIT NULL OFFSET 7"),
    ("null_offset", "SELECT id FROM {people} ORDER BY id LIMIT 2 OFFSET NULL"),
    ("subquery", "SELECT eid FROM {events} ORDER BY eid LIMIT (SELECT count(*) FROM {teams})"),
    ("empty_subquery", "SELECT id FROM {people} ORDER BY id LIMIT (SELECT 1 WHERE false)"),
    ("cast", "SELECT id FROM {people} ORDER BY id LIMIT CAST('4' AS TINYINT)"),
    ("in_subquery", "SELECT * FROM (SELECT id FROM {people} ORDER BY id DESC LIMIT 1 + 1) s"),
    ("union", "SELECT id FROM {people} UNION ALL SELECT team_id FROM {teams} ORDER BY 1 LIMIT 3 * 2"),
    ("correlated_lateral", "SELECT p.id, l.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
                           "WHERE e.person_id = p.id ORDER BY e.eid LIMIT 1 + 1) l"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_limit_expression(sql, name, query):
    sql.check(query, ordered="ORDER BY" in query and "LATERAL" not in query)


ERRORS = [
    ("negative", "SELECT id FROM {people} LIMIT 1 - 2", "must not be negative"),
    ("negative_offset", "SELECT id FROM {people} LIMIT 2 OFFSET -1", "must not be negative"),
    ("column", "SELECT id FROM {people} LIMIT id", "not found"),
    ("bad_string", "SELECT id FROM {people} LIMIT 'x'", "x"),
]


@pytest.mark.parametrize("name,query,needle", ERRORS, ids=[e[0] for e in ERRORS])
def test_limit_errors(sql, name, query, needle):
    sql.error([query], needle)
