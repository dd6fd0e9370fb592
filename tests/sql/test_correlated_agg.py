"""Correlated aggregate subqueries without GROUP BY (LATERAL and scalar): one row per outer row
also when no inner row matches (the "count bug" of decorrelation: count(*) 0, sum NULL,
count(x) + 1 = 1), NULL outer keys included; LATERAL subqueries of plain rows correlated by any
condition; compared with DuckDB. The forms refused before subqueries were flattened now run."""
import pytest

CASES = [
    ("lateral_sum_count",
     "SELECT p.id, s.* FROM {people} p, LATERAL (SELECT sum(e.value) AS sv, count(*) AS n, "
     "count(e.value) + 1 AS c1, max(e.kind) AS mk FROM {events} e WHERE e.person_id = p.team_id) s"),
    ("lateral_left_join",
     "SELECT p.id, s.n FROM {people} p LEFT JOIN LATERAL (SELECT count(*) AS n FROM {teams} t "
     "WHERE t.team_id = p.team_id) s ON true"),
    ("lateral_two_keys_and_filter",
     "SELECT p.id, s.* FROM {people} p, LATERAL (SELECT count(*) AS n, avg(e.value) AS a "
     "FROM {events} e WHERE e.person_id = p.id AND e.kind = p.city AND e.value > 0) s"),
    ("lateral_key_expression",
     "SELECT p.id, s.n FROM {people} p, LATERAL (SELECT count(*) AS n FROM {events} e "
     "WHERE e.person_id = p.id + 1) s"),
    ("lateral_grouped_unchanged",
     "SELECT p.id, s.* FROM {people} p, LATERAL (SELECT e.kind, count(*) AS n FROM {events} e "
     "WHERE e.person_id = p.id GROUP BY e.kind) s"),
    ("lateral_uncorrelated_aggregate",
     "SELECT p.id, s.n FROM {people} p, LATERAL (SELECT count(*) AS n FROM {teams}) s"),
    ("lateral_rows_unchanged",
     "SELECT p.id, s.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.team_id) s"),
    ("scalar_expression_of_count",
     "SELECT id, (SELECT count(e.value) * 10 + 1 FROM {events} e WHERE e.person_id = p.team_id) "
     "AS c, (SELECT coalesce(sum(e.value), -1) FROM {events} e WHERE e.person_id = p.team_id) "
     "AS s FROM {people} p"),
    ("scalar_null_keys",
     "SELECT id, (SELECT count(*) FROM {teams} t WHERE t.team_id = p.team_id) AS n, "
     "(SELECT max(t.team_name) FROM {teams} t WHERE t.team_id = p.team_id) AS m FROM {people} p"),
    ("scalar_in_where",
     "SELECT id FROM {people} p WHERE (SELECT count(*) FROM {events} e "
     "WHERE e.person_id = p.team_id) = 0"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[n for n, _ in CASES])
def test_correlated_aggregate(sql, name, query):
    sql.check(query)


def test_lateral_small_exact(sql):
    """Outer keys without matches and a NULL key (hand-checked: (1, NULL, 0, 1), (2, 2, 1, 2),
    (5, NULL, 0, 1), (NULL, NULL, 0, 1))."""
    got = sql.check("SELECT * FROM (VALUES (1), (5), (2), (NULL)) t(a), LATERAL (SELECT sum(b) AS s, "
                    "count(*) AS n, count(b) + 1 AS c FROM (VALUES (2), (3), (NULL)) u(b) "
                    "WHERE u.b = t.a) s")
    assert got.num_rows == 4


NON_EQUI = [
    ("greater", "SELECT p.id, s.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
                "WHERE e.person_id > p.id AND e.eid < 40) s"),
    ("left_join", "SELECT p.id, s.* FROM {people} p LEFT JOIN LATERAL (SELECT t.team_name, "
                  "t.budget * 2 AS b2 FROM {teams} t WHERE t.budget > p.salary / 60) s ON true"),
    ("key_and_range", "SELECT p.id, s.* FROM {people} p, LATERAL (SELECT e.eid, e.value FROM "
                      "{events} e WHERE e.person_id = p.team_id AND e.value BETWEEN p.age - 40 "
                      "AND p.age - 20) s"),
    ("or_condition", "SELECT p.id, s.team_id FROM {people} p, LATERAL (SELECT t.team_id FROM "
                     "{teams} t WHERE t.team_id = p.team_id OR t.budget IS NULL) s"),
    ("column_alias_and_filter_after", "SELECT p.name, s.x FROM {people} p, LATERAL (SELECT "
                                      "t.team_name AS n FROM {teams} t WHERE t.team_id < "
                                      "p.team_id) s(x) WHERE s.x <> 'core'"),
    ("condition_on_unselected_column", "SELECT p.id, s.k FROM {people} p, LATERAL (SELECT "
                                       "e.kind AS k FROM {events} e WHERE e.ts > p.joined + "
                                       "INTERVAL 3000 DAY AND e.eid % 50 = 1) s"),
]


@pytest.mark.parametrize("name,query", NON_EQUI, ids=[n for n, _ in NON_EQUI])
def test_lateral_non_equality(sql, name, query):
    """LATERAL subqueries of plain FROM/WHERE rows correlated by any condition: the subquery's
    FROM columns are kept and the condition becomes the join's residual."""
    sql.check(query)


FORMERLY_REFUSED = [
    ("non_equality_aggregate", "SELECT * FROM {people} p, LATERAL (SELECT count(*) AS n FROM "
                               "{events} e WHERE e.person_id > p.id) s"),
    ("non_equality_limit", "SELECT * FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
                           "WHERE e.person_id > p.id ORDER BY e.eid LIMIT 2) s"),
    ("scalar_non_equality", "SELECT id, (SELECT count(*) FROM {events} e WHERE e.person_id = p.id "
                            "AND e.eid < p.age) AS n FROM {people} p"),
    ("scalar_max_non_equality", "SELECT id, (SELECT max(e.value) FROM {events} e WHERE "
                                "e.person_id > p.id) AS m FROM {people} p"),
    ("exists_outside_where", "SELECT id, EXISTS (SELECT 1 FROM {events} e WHERE e.person_id > p.id) "
                             "AS x FROM {people} p"),
    ("in_non_equality", "SELECT id FROM {people} p WHERE team_id IN (SELECT e.person_id FROM "
                        "{events} e WHERE e.eid < p.id)"),
    ("having", "SELECT * FROM {people} p, LATERAL (SELECT count(*) AS n FROM {events} e "
               "WHERE e.person_id = p.id HAVING count(*) > 3) s"),
]


@pytest.mark.parametrize("name,query", FORMERLY_REFUSED, ids=[e[0] for e in FORMERLY_REFUSED])
def test_formerly_refused(sql, name, query):
    """Refused before correlated subqueries were flattened (tests/sql/test_correlated_general.py
    has more of these forms)."""
    sql.check(query)


def test_non_equality_rewrite(sql):
    """The rewrite the refusal suggests (a LEFT JOIN on the condition, grouped by the outer row)
    gives DuckDB's result of the correlated scalar subquery."""
    import duckdb
    import pyarrow as pa_
    import compare
    correlated = ("SELECT p.id, (SELECT count(*) FROM {events} e WHERE e.person_id > p.id) AS n, "
                  "(SELECT max(e.value) FROM {events} e WHERE e.person_id > p.id) AS m FROM {people} p")
    rewrite = ("SELECT p.id, count(e.eid) AS n, max(e.value) AS m FROM {people} p LEFT JOIN "
               "{events} e ON e.person_id > p.id GROUP BY p.id")
    expected = duckdb.connect().sql(sql.fmt(correlated)).to_arrow_table()
    r = sql.polaroid([rewrite])
    assert r.returncode == 0, r.stderr.decode()
    got = pa_.ipc.open_stream(pa_.py_buffer(r.stdout)).read_all()
    assert compare.compare_tables(expected, got, ordered=False, rtol=1e-9, atol=1e-9) is None


SCALAR_ROWS = [
    ("correlated_one_row", "SELECT x, (SELECT y FROM (VALUES (1, 10), (2, 20)) u(k, y) WHERE u.k = t.x) "
                           "AS s FROM (VALUES (1), (2), (3), (NULL)) t(x)"),
    ("correlated_table", "SELECT p.id, (SELECT t.team_name FROM {teams} t WHERE t.team_id = p.team_id) "
                         "AS tn FROM {people} p"),
    ("uncorrelated_one_row", "SELECT (SELECT 5) AS a, (SELECT 1 WHERE false) AS b, "
                             "(SELECT max(eid) FROM {events}) AS c"),
    ("interval_value", "SELECT x, (SELECT y FROM (VALUES (1, INTERVAL 1 DAY), (2, INTERVAL 2 HOUR)) "
                       "u(k, y) WHERE u.k = t.x) AS s FROM (VALUES (1), (2), (3)) t(x)"),
]


@pytest.mark.parametrize("name,query", SCALAR_ROWS, ids=[n for n, _ in SCALAR_ROWS])
def test_scalar_subquery_rows(sql, name, query):
    sql.check(query)


MANY_ROWS = [
    ("correlated", "SELECT x, (SELECT y FROM (VALUES (1, 10), (1, 11), (2, 20)) u(k, y) "
                   "WHERE u.k = t.x) AS s FROM (VALUES (1), (2), (3)) t(x)", "(SELECT y"),
    ("correlated_table", "SELECT p.id, (SELECT e.eid FROM {events} e WHERE e.person_id = p.id) "
                         "FROM {people} p", "(SELECT e.eid"),
    ("uncorrelated", "SELECT (SELECT range FROM range(3)) AS x", "(SELECT range"),
    ("in_where", "SELECT id FROM {people} WHERE id = (SELECT team_id FROM {teams})", "(SELECT team_id"),
    ("range_argument", "SELECT * FROM range((SELECT range FROM range(3)))", "(SELECT range"),
]


@pytest.mark.parametrize("name,query,at", MANY_ROWS, ids=[m[0] for m in MANY_ROWS])
def test_scalar_subquery_more_than_one_row(sql, name, query, at):
    """A scalar subquery giving more than one row (for an outer row) is an error, like DuckDB:
    a correlated one used to repeat the outer row once per inner row, an uncorrelated one to
    take an arbitrary row."""
    err = sql.error([query], "more than one row returned by a subquery")
    lines = err.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("LINE 1: "))
    text, caret = lines[k][len("LINE 1: "):], lines[k + 1][len("LINE 1: "):]
    assert text[caret.index("^"):].startswith(at), err
