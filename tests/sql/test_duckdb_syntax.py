"""DuckDB conveniences the PostgreSQL grammar lacks, rewritten before parsing and read back from
the original text (src/sql/plan_pre.c): ORDER BY ALL, `* REPLACE (...)`, `* RENAME (...)` (with
EXCLUDE), compared with DuckDB; their errors with positions."""
import pytest

ORDER_BY_ALL = [
    ("plain", "SELECT city, age, name FROM {people} ORDER BY ALL"),
    ("desc", "SELECT city, age, name FROM {people} ORDER BY ALL DESC"),
    ("nulls_first", "SELECT city, age FROM {people} ORDER BY ALL NULLS FIRST"),
    ("desc_nulls_first", "SELECT age, city FROM {people} ORDER BY ALL DESC NULLS FIRST"),
    ("asc_nulls_last", "SELECT team_id, city FROM {people} ORDER BY ALL ASC NULLS LAST"),
    ("limit", "SELECT city, name FROM {people} ORDER BY ALL LIMIT 4 OFFSET 1"),
    ("star", "SELECT * EXCLUDE (joined) FROM {people} ORDER BY ALL DESC"),
    ("group_by_all", "SELECT city, team_id, count(*) AS n FROM {people} GROUP BY ALL ORDER BY ALL"),
    ("union", "SELECT city FROM {people} UNION SELECT team_name FROM {teams} ORDER BY ALL DESC"),
    ("union_all_limit", "SELECT team_id, city FROM {people} UNION ALL SELECT team_id, team_name "
                        "FROM {teams} ORDER BY ALL LIMIT 7"),
    ("subquery", "SELECT * FROM (SELECT age, id FROM {people} ORDER BY ALL DESC LIMIT 5) s "
                 "ORDER BY ALL"),
    ("distinct", "SELECT DISTINCT kind, person_id FROM {events} ORDER BY ALL"),
    ("qualify", "SELECT city, name FROM {people} QUALIFY row_number() OVER (PARTITION BY city "
                "ORDER BY id) = 1 ORDER BY ALL"),
    ("cte", "WITH c AS (SELECT kind, count(*) AS n FROM {events} GROUP BY ALL ORDER BY ALL) "
            "SELECT * FROM c ORDER BY ALL DESC"),
    ("quoted_all_column", 'SELECT id AS "all", age FROM {people} ORDER BY "all" DESC'),
]


@pytest.mark.parametrize("name,query", ORDER_BY_ALL, ids=[n for n, _ in ORDER_BY_ALL])
def test_order_by_all(sql, name, query):
    sql.check(query, ordered="LIMIT" not in query or "ORDER BY ALL LIMIT" in query)


STAR = [
    ("replace", "SELECT * REPLACE (age + 1 AS age) FROM {people}"),
    ("replace_many", "SELECT * REPLACE (upper(name) AS name, salary * 2 AS salary, "
                     "CAST(team_id AS VARCHAR) AS team_id) FROM {people}"),
    ("replace_single", "SELECT * REPLACE age * 10 AS age FROM {people}"),
    ("replace_case_insensitive", "SELECT * REPLACE (age + 1 AS AGE) FROM {people}"),
    ("replace_qualified", "SELECT p.* REPLACE (p.age - t.budget AS age), t.team_name FROM {people} p "
                          "JOIN {teams} t USING (team_id)"),
    ("replace_aggregate", "SELECT * REPLACE (sum(salary) AS salary) FROM "
                          "(SELECT city, salary FROM {people}) s GROUP BY city"),
    ("replace_window", "SELECT * REPLACE (rank() OVER (ORDER BY age) AS age) FROM "
                       "(SELECT id, age FROM {people}) s"),
    ("replace_subquery", "SELECT * REPLACE ((SELECT max(budget) FROM {teams}) AS budget) "
                         "FROM {teams}"),
    ("replace_order_by_output", "SELECT * REPLACE (-age AS age) FROM (SELECT id, age FROM "
                                "{people}) s ORDER BY age NULLS FIRST, id"),
    ("replace_where_sees_input", "SELECT * REPLACE (age * 2 AS age) FROM (SELECT id, age FROM "
                                 "{people}) s WHERE age > 30"),
    ("exclude_replace", "SELECT * EXCLUDE (joined, city) REPLACE (round(salary) AS salary) "
                        "FROM {people}"),
    ("rename", "SELECT * RENAME (name AS who, city AS town) FROM {people}"),
    ("rename_single", "SELECT * RENAME name AS who FROM {people}"),
    ("rename_then_order", "SELECT * RENAME (age AS years) FROM (SELECT id, age FROM {people}) s "
                          "ORDER BY years NULLS FIRST, id"),
    ("exclude_rename", "SELECT * EXCLUDE (joined) RENAME (salary AS pay) FROM {people}"),
    ("replace_rename", "SELECT * REPLACE (age + 1 AS age) RENAME (name AS who) FROM {people}"),
    ("exclude_replace_rename", "SELECT * EXCLUDE (joined) REPLACE (age + 1 AS age) "
                               "RENAME (name AS who) FROM {people}"),
    ("two_stars", "SELECT p.* REPLACE (p.id * 100 AS id), t.* RENAME (team_id AS tid) "
                  "FROM {people} p JOIN {teams} t ON p.team_id = t.team_id"),
    ("rename_in_subquery", "SELECT who, count(*) AS n FROM (SELECT * RENAME (city AS who) "
                           "FROM {people}) s GROUP BY who"),
    ("replace_function_not_modifier", "SELECT id * length(replace(name, 'a', 'xy')) AS r "
                                      "FROM {people}"),
    ("multiplication_then_replace", "SELECT id * replace AS r FROM (SELECT id, id + 1 AS replace "
                                    "FROM {people}) s"),
]


@pytest.mark.parametrize("name,query", STAR, ids=[n for n, _ in STAR])
def test_star_modifiers(sql, name, query):
    ordered = "ORDER BY" in query and "GROUP" not in query
    got = sql.check(query, ordered=ordered)
    if name == "rename":
        assert got.column_names[1] == "who" and "town" in got.column_names
    if name == "replace":
        assert got.column_names == ["id", "name", "age", "city", "salary", "joined", "team_id"]


def test_star_modifier_view(sql):
    """A view keeps its text, so its star modifiers are read again at every use."""
    sql.check("SELECT * FROM v ORDER BY ALL",
              setup=["CREATE VIEW v AS SELECT * EXCLUDE (joined) REPLACE (age + 1 AS age) "
                     "RENAME (name AS who) FROM {people}"])


ERRORS = [
    ("replace_unknown", "SELECT * REPLACE (age + 1 AS nope) FROM {people}",
     ['column "nope" in REPLACE list not found'], "nope"),
    ("replace_and_rename", "SELECT * REPLACE (age + 1 AS age) RENAME (age AS a) FROM {people}",
     ["cannot occur in both REPLACE and RENAME"], "age AS a"),
    ("replace_without_as", "SELECT * REPLACE (age + 1) FROM {people}", ["syntax error"],
     "REPLACE"),
    ("replace_bad_expr", "SELECT * REPLACE (nope + 1 AS age) FROM {people}",
     ['"nope"'], "nope + 1"),
    ("replace_ungrouped", "SELECT * REPLACE (sum(age) AS age) FROM (SELECT age, city FROM "
                          "{people}) s", ["GROUP BY"], None),
    ("rename_order", "SELECT * RENAME (age AS a) REPLACE (age + 1 AS age) FROM {people}",
     ["syntax error"], "REPLACE"),
    ("order_by_all_list", "SELECT id FROM {people} ORDER BY ALL, id", ["syntax error"], "ALL"),
    ("order_by_all_window", "SELECT sum(id) OVER (ORDER BY ALL) FROM {people}",
     ["syntax error"], "ALL)"),
]


@pytest.mark.parametrize("name,query,needles,at", ERRORS, ids=[e[0] for e in ERRORS])
def test_syntax_errors(sql, name, query, needles, at):
    err = sql.error([query], *needles)
    if at is not None:
        # the caret sits under the offending text
        lines = err.splitlines()
        k = next(i for i, ln in enumerate(lines) if ln.startswith("LINE 1: "))
        text, caret = lines[k][len("LINE 1: "):], lines[k + 1][len("LINE 1: "):]
        assert text[caret.index("^"):].startswith(at), err


def test_rename_unknown_is_an_error(sql):
    """DuckDB 2.0 ignores an unknown column in RENAME; polaroid refuses it (a typo would silently
    leave the column's name unchanged)."""
    r = sql.polaroid(["SELECT * RENAME (nope AS x) FROM {people}"], fmt="csv")
    err = r.stderr.decode()
    assert r.returncode == 1 and 'column "nope" in RENAME list not found' in err, err
    assert err.splitlines()[2].index("^") == err.splitlines()[1].index("nope")


COLUMNS = [
    ("regex", "SELECT COLUMNS('a') FROM {people}"),
    ("anchored", "SELECT COLUMNS('^(age|salary)$') FROM {people}"),
    ("star", "SELECT COLUMNS(*) FROM {teams}"),
    ("qualified_star", "SELECT COLUMNS(t.*), p.id FROM {people} p JOIN {teams} t USING (team_id)"),
    ("list", "SELECT COLUMNS(['salary', 'id']) FROM {people}"),
    ("list_one", "SELECT COLUMNS(['age']) FROM {people}"),
    ("aggregate", "SELECT max(COLUMNS('^(age|salary|joined)$')) FROM {people}"),
    ("grouped", "SELECT city, min(COLUMNS('^(age|salary)$')), count(*) AS n FROM {people} "
                "GROUP BY city"),
    ("expression", "SELECT COLUMNS('^(age|team_id)$') * 2 + 1 FROM {people}"),
    ("same_twice", "SELECT COLUMNS('^(age|id)$') + COLUMNS('^(age|id)$') FROM {people}"),
    ("alias", "SELECT COLUMNS('^n') AS x FROM {people}"),
    ("with_star", "SELECT *, upper(COLUMNS('^(name|city)$')) FROM {people}"),
    ("window", "SELECT id, sum(COLUMNS('^(age|salary)$')) OVER (ORDER BY id) FROM {people}"),
    ("subquery", "SELECT * FROM (SELECT COLUMNS('e') FROM {events}) s WHERE value > 0"),
]


@pytest.mark.parametrize("name,query", COLUMNS, ids=[n for n, _ in COLUMNS])
def test_columns(sql, name, query):
    got = sql.check(query)
    if name == "aggregate":
        assert got.column_names == ["age", "salary", "joined"]


COLUMNS_ERRORS = [
    ("no_match", "SELECT COLUMNS('zzz') FROM {people}", ["zzz"], "'zzz'"),
    ("bad_regex", "SELECT COLUMNS('(') FROM {people}", ["regular expression"], "'('"),
    ("two_different", "SELECT COLUMNS('^a') + COLUMNS('^s') FROM {people}", ["COLUMNS"], None),
    ("unknown_in_list", "SELECT COLUMNS(['age', 'nope']) FROM {people}", ["nope"], "'nope'"),
]


@pytest.mark.parametrize("name,query,needles,at", COLUMNS_ERRORS, ids=[e[0] for e in COLUMNS_ERRORS])
def test_columns_errors(sql, name, query, needles, at):
    test_syntax_errors(sql, name, query, needles, at)


COLUMNS_WHERE = [
    ("where", "SELECT * FROM {people} WHERE COLUMNS('^(age|team_id)$') > 1"),
    ("where_or", "SELECT id FROM {people} WHERE COLUMNS('^(age|team_id)$') > 1 OR city = 'Rome'"),
    ("where_twice", "SELECT id FROM {people} WHERE COLUMNS('^(age|team_id)$') > 1 AND "
                    "COLUMNS('^(age|team_id)$') < 40"),
    ("where_and_plain", "SELECT id FROM {people} WHERE COLUMNS('^(age|id)$') > 3 AND city = 'Paris'"),
    ("where_star", "SELECT id FROM {people} WHERE COLUMNS(*) IS NOT NULL"),
    ("where_list", "SELECT id, age FROM {people} WHERE COLUMNS(['team_id', 'age']) IS NOT NULL"),
    ("where_function", "SELECT id FROM {people} WHERE coalesce(COLUMNS('^(age|team_id)$'), 0) >= 2"),
    ("where_in_list", "SELECT id FROM {people} WHERE COLUMNS('^(age|team_id)$') IN (1, 2, 27, 34)"),
    ("where_in_subquery", "SELECT id FROM {people} WHERE COLUMNS('^(id|team_id)$') IN "
                          "(SELECT team_id FROM {teams})"),
    ("where_not", "SELECT id FROM {people} WHERE NOT (COLUMNS('^(age|team_id)$') > 30)"),
    ("where_qualified_star", "SELECT p.id FROM {people} p JOIN {teams} t USING (team_id) "
                             "WHERE COLUMNS(t.*) IS NOT NULL"),
    ("where_correlated", "SELECT id FROM {people} p WHERE EXISTS (SELECT 1 FROM {teams} t WHERE "
                         "COLUMNS('^budget$') > p.age AND t.team_id = p.team_id)"),
    ("where_grouped", "SELECT city, count(*) AS n FROM {people} WHERE COLUMNS('^(age|salary)$') > 25 "
                      "GROUP BY city"),
    ("filter", "SELECT count(*) FILTER (WHERE COLUMNS('^(age|team_id)$') > 1) AS n FROM {people}"),
    ("filter_grouped", "SELECT city, count(*) FILTER (WHERE COLUMNS(['age', 'salary']) IS NOT NULL) "
                       "AS n FROM {people} GROUP BY city"),
    ("filter_own_expansion", "SELECT max(COLUMNS('^(age|team_id)$')) FILTER (WHERE "
                             "COLUMNS('^(city|name)$') <> 'Paris') FROM {people}"),
    ("filter_same_columns", "SELECT sum(COLUMNS('^(age|team_id)$')) FILTER (WHERE "
                            "COLUMNS('^(age|team_id)$') > 1) FROM {people}"),
    ("filter_string_nulls", "SELECT sum(x1) FILTER (WHERE COLUMNS('^s$') > 'a') AS n FROM (VALUES "
                            "(1, 'a'), (3, 'b'), (5, NULL)) v(x1, s)"),
]


@pytest.mark.parametrize("name,query", COLUMNS_WHERE, ids=[n for n, _ in COLUMNS_WHERE])
def test_columns_where(sql, name, query):
    """WHERE and FILTER (WHERE ...): the AND of the condition over every selected column."""
    sql.check(query)


COLUMNS_ORDER = [
    ("order_regex", "SELECT name FROM {people} ORDER BY COLUMNS('^(age|team_id)$') NULLS FIRST, id"),
    ("order_desc", "SELECT id, age FROM {people} ORDER BY COLUMNS('^(city|age)$') DESC, id"),
    ("order_list", "SELECT city, name FROM {people} ORDER BY COLUMNS(['team_id', 'age']) DESC, "
                   "name"),
    ("order_expression", "SELECT id FROM {people} ORDER BY -COLUMNS('^(team_id|id)$')"),
    ("order_limit", "SELECT id FROM {people} ORDER BY COLUMNS('^(city|id)$') LIMIT 4"),
    ("order_grouped", "SELECT city, count(*) AS n FROM {people} GROUP BY city "
                      "ORDER BY COLUMNS('^city$') NULLS LAST"),
    ("order_selected", "SELECT age, id FROM {people} ORDER BY COLUMNS('^(age|id)$')"),
]


@pytest.mark.parametrize("name,query", COLUMNS_ORDER, ids=[n for n, _ in COLUMNS_ORDER])
def test_columns_order_by(sql, name, query):
    """ORDER BY: one key per selected column of the FROM relation, in its order."""
    sql.check(query, ordered=True)


def test_columns_other_clauses(sql):
    """DuckDB refuses COLUMNS in HAVING and GROUP BY too; polaroid says where it is supported."""
    for q, at in [("SELECT city, count(*) FROM {people} GROUP BY city HAVING COLUMNS('^city$') "
                   "IS NOT NULL", "COLUMNS('^city$') IS"),
                  ("SELECT count(*) FROM {people} GROUP BY COLUMNS('^city$')", "COLUMNS('^city$')")]:
        test_syntax_errors(sql, "other", q, ["COLUMNS(...) is only supported in the select list, "
                                             "WHERE, FILTER (WHERE ...) and ORDER BY"], at)


def test_columns_star_in_order_by(sql):
    """DuckDB sorts by the select list's columns for ORDER BY COLUMNS(*) (its regex and list
    forms use the FROM columns); polaroid refuses the star form and points at ORDER BY ALL."""
    r = sql.polaroid(["SELECT name, id FROM {people} ORDER BY COLUMNS(*)"], fmt="csv")
    err = r.stderr.decode()
    assert r.returncode == 1 and "ORDER BY ALL" in err, err
    assert err.splitlines()[2].index("^") == err.splitlines()[1].index("COLUMNS(*)")


IGNORE_NULLS = [
    ("first_last", "SELECT eid, first_value(value IGNORE NULLS) OVER w AS f, "
                   "last_value(value IGNORE NULLS) OVER w AS l, last_value(value) OVER w AS l2 "
                   "FROM {events} WINDOW w AS (PARTITION BY kind ORDER BY eid ROWS BETWEEN 3 "
                   "PRECEDING AND 3 FOLLOWING)"),
    ("lag_lead", "SELECT eid, lag(value IGNORE NULLS) OVER (ORDER BY eid) AS a, "
                 "lead(value, 2, -1.0 IGNORE NULLS) OVER (PARTITION BY kind ORDER BY eid) AS b, "
                 "lag(value RESPECT NULLS) OVER (ORDER BY eid) AS c FROM {events}"),
    ("nth_value", "SELECT id, nth_value(age, 2 IGNORE NULLS) OVER (ORDER BY id) AS n, "
                  "nth_value(city, 1 IGNORE NULLS) OVER (ORDER BY id DESC) AS c FROM {people}"),
    ("column_named_ignore", "SELECT ignore, respect FROM (SELECT 1 AS ignore, 2 AS respect) t"),
]


@pytest.mark.parametrize("name,query", IGNORE_NULLS, ids=[n for n, _ in IGNORE_NULLS])
def test_ignore_nulls(sql, name, query):
    sql.check(query)


def test_ignore_nulls_aggregate_refused(sql):
    test_syntax_errors(sql, "agg", "SELECT sum(age IGNORE NULLS) OVER (ORDER BY id) FROM {people}",
                       ["IGNORE/RESPECT NULLS"], "IGNORE")
