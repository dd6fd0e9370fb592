"""Table functions range(...) and generate_series(...) in FROM, compared with DuckDB: range
excludes stop, generate_series includes it; BIGINT bounds (negative steps, empty and one-row
sequences, bounds at the ends of BIGINT without overflow), TIMESTAMP/DATE bounds with an
INTERVAL step (calendar months added step by step: 01-31, 02-29, 03-29, ...), NULL arguments
(no rows), constant expressions and scalar subqueries as arguments, aliases (`range(3) t` names
the column t, `t(i)` names it i), joins, subqueries, CTEs, IN, aggregates over long sequences.
Errors (a zero step, wrong argument types or counts, mixed-sign intervals) carry the position;
sequences of more than PL_DF_RANGE_MAX_ROWS rows (2^32) are refused at once instead of running
out of memory, whatever the arguments (INT64 bounds never overflow)."""
import pytest

BIG = 9223372036854775807

ORDERED = [
    ("stop", "SELECT * FROM range(5)"),
    ("start_stop", "SELECT * FROM range(2, 6)"),
    ("step", "SELECT * FROM range(1, 10, 3)"),
    ("negative_step", "SELECT * FROM range(10, 1, -3)"),
    ("negative_bounds", "SELECT * FROM range(-5, -1)"),
    ("gs_stop", "SELECT * FROM generate_series(3)"),
    ("gs_step", "SELECT * FROM generate_series(1, 10, 3)"),
    ("gs_negative", "SELECT * FROM generate_series(10, 1, -3)"),
    ("gs_exact_end", "SELECT * FROM generate_series(0, 12, 4)"),
    ("gs_zero", "SELECT * FROM generate_series(0)"),
    ("gs_one", "SELECT * FROM generate_series(1, 1)"),
    ("empty_zero", "SELECT * FROM range(0)"),
    ("empty_negative", "SELECT * FROM range(-3)"),
    ("empty_equal", "SELECT * FROM range(1, 1)"),
    ("empty_backwards", "SELECT * FROM range(5, 1)"),
    ("empty_wrong_sign", "SELECT * FROM range(1, 5, -1)"),
    ("gs_empty_backwards", "SELECT * FROM generate_series(5, 1)"),
    ("null_stop", "SELECT * FROM range(NULL)"),
    ("null_start", "SELECT * FROM range(NULL, 3)"),
    ("null_step", "SELECT * FROM range(1, 3, NULL)"),
    ("gs_null", "SELECT * FROM generate_series(1, NULL)"),
    ("small_int_types", "SELECT * FROM range(3::TINYINT, 7::SMALLINT, 2::INTEGER)"),
    ("string_number", "SELECT * FROM range('3')"),
    ("expressions", "SELECT * FROM range(1 + 1, 2 * 5, 10 // 4)"),
    ("scalar_subquery", "SELECT * FROM range((SELECT 3))"),
    ("subquery_of_table", "SELECT * FROM range((SELECT count(*) FROM {teams}))"),
    (f"near_max", f"SELECT * FROM range({BIG} - 2, {BIG})"),
    (f"gs_at_max", f"SELECT * FROM generate_series({BIG} - 2, {BIG})"),
    ("near_min", f"SELECT * FROM range(-{BIG} - 1, -{BIG})"),
    ("gs_at_min", f"SELECT * FROM generate_series(-{BIG}, -{BIG} - 1, -1)"),
    ("huge_step", f"SELECT * FROM range(-{BIG} - 1, {BIG}, {BIG})"),
    ("gs_huge_step", f"SELECT * FROM generate_series(-{BIG} - 1, {BIG}, {BIG})"),
    ("gs_huge_negative_step", f"SELECT * FROM generate_series({BIG}, -{BIG} - 1, -{BIG})"),
    ("min_step", f"SELECT * FROM range({BIG}, -{BIG} - 1, -{BIG} - 1)"),
    ("step_beyond", f"SELECT * FROM range(0, 10, {BIG})"),
    ("gs_step_beyond", f"SELECT * FROM generate_series(0, 10, -{BIG} - 1)"),
    ("ts_hours", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', "
                 "INTERVAL 6 HOUR)"),
    ("ts_gs_hours", "SELECT * FROM generate_series(TIMESTAMP '2024-01-01', "
                    "TIMESTAMP '2024-01-02', INTERVAL 6 HOUR)"),
    ("ts_negative", "SELECT * FROM range(TIMESTAMP '2024-01-02', TIMESTAMP '2024-01-01', "
                    "-INTERVAL 6 HOUR)"),
    ("ts_wrong_direction", "SELECT * FROM range(TIMESTAMP '2024-01-02', TIMESTAMP '2024-01-01', "
                           "INTERVAL 6 HOUR)"),
    ("ts_months_clamped", "SELECT * FROM range(TIMESTAMP '2024-01-31', TIMESTAMP '2024-06-01', "
                          "INTERVAL 1 MONTH)"),
    ("ts_gs_months", "SELECT * FROM generate_series(DATE '2024-01-01', DATE '2024-03-01', "
                     "INTERVAL 1 MONTH)"),
    ("ts_months_backwards", "SELECT * FROM generate_series(TIMESTAMP '2024-03-31 10:30', "
                            "TIMESTAMP '2023-10-01', -INTERVAL '1 month 1 day')"),
    ("ts_years", "SELECT * FROM range(TIMESTAMP '2000-02-29', TIMESTAMP '2010-01-01', "
                 "INTERVAL 2 YEAR)"),
    ("ts_mixed_parts", "SELECT * FROM range(TIMESTAMP '2024-01-30 23:00', TIMESTAMP '2024-07-01', "
                       "INTERVAL '1 month 2 days 3 hours')"),
    ("date_bounds", "SELECT * FROM range(DATE '2024-01-01', DATE '2024-01-03', INTERVAL 12 HOUR)"),
    ("date_and_ts", "SELECT * FROM range(DATE '2024-01-01', TIMESTAMP '2024-01-03', "
                    "INTERVAL 1 DAY)"),
    ("ts_micros", "SELECT * FROM range(TIMESTAMP '2024-01-01', "
                  "TIMESTAMP '2024-01-01 00:00:00.000003', INTERVAL '1 microsecond')"),
    ("ts_null_stop", "SELECT * FROM range(TIMESTAMP '2024-01-01', NULL, INTERVAL 1 DAY)"),
    ("ts_null_step", "SELECT * FROM generate_series(TIMESTAMP '2024-01-01', "
                     "TIMESTAMP '2024-01-05', NULL)"),
    ("tstz", "SELECT * FROM range(TIMESTAMPTZ '2024-01-01 00:00:00+00', "
             "TIMESTAMPTZ '2024-01-02 00:00:00+00', INTERVAL 12 HOUR)"),
    ("ts_far_future", "SELECT * FROM range(TIMESTAMP '290000-01-01', TIMESTAMP '294000-01-01', "
                      "INTERVAL 1000 YEAR)"),
    ("alias_columns", "SELECT * FROM range(3) t(i)"),
    ("alias_names_column", "SELECT * FROM range(3) t"),
    ("alias_qualified", "SELECT t.i * 2 AS d FROM range(3) AS t(i)"),
    ("gs_alias", "SELECT g.n FROM generate_series(2, 4) g(n)"),
    ("column_by_name", "SELECT range + 1 AS r1, typeof(range) AS t FROM range(3)"),
    ("gs_column_by_name", "SELECT generate_series * 2 AS d FROM generate_series(1, 3)"),
    ("where", "SELECT * FROM range(20) WHERE range % 7 = 3"),
    ("limit", "SELECT * FROM range(4000000000) LIMIT 5"),
    ("order_desc", "SELECT * FROM range(5) ORDER BY 1 DESC"),
    ("ts_typeof", "SELECT typeof(range) AS t, range FROM range(DATE '2024-01-01', "
                  "DATE '2024-01-02', INTERVAL 8 HOUR)"),
]


@pytest.mark.parametrize("name,query", ORDERED, ids=[n for n, _ in ORDERED])
def test_range(sql, name, query):
    sql.check(query, ordered=True)


UNORDERED = [
    ("cross_join", "SELECT * FROM range(3) a, range(2) b"),
    ("join_on", "SELECT a.a, b.b FROM range(5) a JOIN generate_series(3, 8) b ON a.a + 2 = b.b"),
    ("join_table", "SELECT p.name, r.k FROM {people} p JOIN range(1, 4) r(k) ON p.team_id = r.k"),
    ("left_join_table", "SELECT r.k, t.team_name FROM range(0, 7) r(k) LEFT JOIN {teams} t "
                        "ON t.team_id = r.k"),
    ("group_by", "SELECT range % 3 AS g, count(*) AS n, sum(range) AS s FROM range(100) GROUP BY 1"),
    ("subquery", "SELECT max(x) AS m FROM (SELECT range * 2 AS x FROM range(10)) s"),
    ("in_subquery", "SELECT id FROM {people} WHERE id IN (SELECT * FROM range(2, 5))"),
    ("cte", "WITH r AS (SELECT * FROM generate_series(1, 4)) SELECT a.generate_series AS x, "
            "b.generate_series AS y FROM r a, r b WHERE a.generate_series < b.generate_series"),
    ("union", "SELECT * FROM range(3) UNION ALL SELECT * FROM generate_series(5, 6)"),
    ("window", "SELECT range, sum(range) OVER (ORDER BY range) AS c FROM range(6)"),
    ("ts_group", "SELECT date_trunc('day', range) AS d, count(*) AS n FROM range("
                 "TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-04', INTERVAL 5 HOUR) GROUP BY 1"),
    ("ts_join_events", "SELECT h.hr, count(e.eid) AS n FROM range(TIMESTAMP '2024-03-04 09:00', "
                       "TIMESTAMP '2024-03-04 12:00', INTERVAL 1 HOUR) h(hr) LEFT JOIN {events} e "
                       "ON date_trunc('hour', e.ts) = h.hr GROUP BY 1"),
    ("alias_column_in_join", "SELECT h, count(e.eid) AS n FROM range(TIMESTAMP '2024-03-04 09:00', "
                             "TIMESTAMP '2024-03-04 12:00', INTERVAL 1 HOUR) h JOIN {events} e "
                             "ON date_trunc('hour', e.ts) = h.h GROUP BY 1"),
    ("long_aggregate", "SELECT count(*) AS n, sum(range) AS s, min(range) AS lo, max(range) AS hi "
                       "FROM range(-3000000, 7000001, 3)"),
    ("long_gs_aggregate", "SELECT count(*) AS n, sum(generate_series) AS s "
                          "FROM generate_series(5000000, -5000000, -7)"),
    ("long_ts", "SELECT count(*) AS n, max(range) AS m FROM range(TIMESTAMP '2024-01-01', "
                "TIMESTAMP '2024-01-08', INTERVAL 1 SECOND)"),
    ("many_months", "SELECT count(*) AS n, max(range) AS m FROM range(TIMESTAMP '1000-01-31', "
                    "TIMESTAMP '9000-01-01', INTERVAL 1 MONTH)"),
    ("create_table_as", "SELECT * FROM t ORDER BY 1"),
]


@pytest.mark.parametrize("name,query", UNORDERED, ids=[n for n, _ in UNORDERED])
def test_range_in_queries(sql, name, query):
    setup = ["CREATE TABLE t AS SELECT range AS k, range * 10 AS v FROM range(4)"] \
        if name == "create_table_as" else []
    sql.check(query, setup=setup)


def test_range_threads(sql):
    """The same values with one and two threads (batches cut into morsels)."""
    for threads in ("1", "2"):
        sql.check("SELECT range % 1000 AS g, count(*) AS n, sum(range) AS s FROM range(1000003) "
                  "GROUP BY 1", extra=("--threads", threads))


def _caret_at(err, at):
    lines = err.splitlines()
    k = next(i for i, ln in enumerate(lines) if ln.startswith("LINE 1: "))
    text, caret = lines[k][len("LINE 1: "):], lines[k + 1][len("LINE 1: "):]
    assert text[caret.index("^"):].startswith(at), err


ERRORS = [
    ("zero_step", "SELECT * FROM range(1, 2, 0)", ["step", "cannot be 0"], "0)"),
    ("gs_zero_step", "SELECT * FROM generate_series(1, 2, 0)", ["cannot be 0"], "0)"),
    ("ts_zero_step", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', "
                     "INTERVAL 0 HOUR)", ["cannot be 0"], "INTERVAL 0"),
    ("mixed_signs", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', "
                    "INTERVAL '1 month -29 days')", ["mixed signs"], "INTERVAL '1 month"),
    ("decimal", "SELECT * FROM range(1.5)", ["DECIMAL(2,1)", "BIGINT"], "1.5"),
    ("double", "SELECT * FROM range(1, 3::DOUBLE)", ["DOUBLE"], "3::"),
    ("no_args", "SELECT * FROM range()", ["range takes"], "range()"),
    ("four_args", "SELECT * FROM generate_series(1, 2, 3, 4)", ["generate_series takes"],
     "generate_series("),
    ("ts_two_args", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02')",
     ["INTERVAL step"], "range("),
    ("ts_integer_step", "SELECT * FROM range(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-02', 3)",
     ["INTEGER"], "3)"),
    ("interval_step_of_integers", "SELECT * FROM range(1, 5, INTERVAL 1 DAY)", ["INTERVAL"],
     "INTERVAL 1 DAY"),
    ("bad_string", "SELECT * FROM range('a')", ["a"], None),
    ("unknown_column", "SELECT * FROM range(nope)", ["nope"], "nope"),
]


@pytest.mark.parametrize("name,query,needles,at", ERRORS, ids=[e[0] for e in ERRORS])
def test_range_errors(sql, name, query, needles, at):
    err = sql.error([query], *needles)
    if at:
        _caret_at(err, at)


def _refused(sql, query, *needles):
    r = sql.polaroid([query], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, f"exit {r.returncode}, stderr: {err}"
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    for n in needles:
        assert n.lower() in err.lower(), f"{n!r} not in the error message: {err}"
    return err


ABSURD = [
    ("int64_max_stop", f"SELECT count(*) FROM range({BIG})"),
    ("whole_int64", f"SELECT * FROM range(-{BIG} - 1, {BIG})"),
    ("gs_whole_int64", f"SELECT * FROM generate_series(-{BIG} - 1, {BIG})"),
    ("gs_whole_int64_down", f"SELECT * FROM generate_series({BIG}, -{BIG} - 1, -1)"),
    ("just_over", "SELECT count(*) FROM range(4294967297)"),
    ("ts_micros_for_ages", "SELECT count(*) FROM range(TIMESTAMP '1000-01-01', "
                           "TIMESTAMP '9000-01-01', INTERVAL '1 microsecond')"),
    ("in_subquery", f"SELECT 1 WHERE 3 IN (SELECT * FROM range({BIG}))"),
]


@pytest.mark.parametrize("name,query", ABSURD, ids=[a[0] for a in ABSURD])
def test_range_absurd_sizes_refused(sql, name, query):
    """DuckDB would run these for hours (or until memory ran out); polaroid refuses them when
    the query is planned, naming the limit, with the caret under the call."""
    err = _refused(sql, query, "range of more than 4294967296 rows is refused")
    _caret_at(err, "range(" if "range(" in query and "generate_series" not in query
              else "generate_series(")


def test_range_at_the_limit_is_accepted(sql):
    """2^32 rows exactly is allowed: planned, then cut by LIMIT without generating them all."""
    sql.check("SELECT * FROM range(4294967296) LIMIT 2", ordered=True)
    sql.check("SELECT * FROM generate_series(1, 4294967296) LIMIT 2", ordered=True)


def test_range_lateral_refused(sql):
    """DuckDB evaluates range(x) per row of a previous FROM item (or of the outer query);
    polaroid refuses it with a hint (arguments must be constants)."""
    err = _refused(sql, "SELECT * FROM (VALUES (1), (3)) t(x), range(x)", 'column "x" not found',
                   "must be constants")
    _caret_at(err, "x)")
    err = _refused(sql, "SELECT id, (SELECT sum(range) FROM range(id)) AS s FROM {people}",
                   'column "id" not found', "must be constants")
    _caret_at(err, "id))")


ALIAS_NAMES = [
    ("both_names", "SELECT t.range AS a, range AS b, t AS c, t.t AS d FROM range(3) t"),
    ("star", "SELECT * FROM range(2) t"),
    ("qualified_star", "SELECT t.* FROM range(2) t"),
    ("two_ranges", "SELECT t.range + u.range AS s FROM range(2) t, range(3) u"),
    ("gs", "SELECT g.generate_series * 10 AS x, g FROM generate_series(1, 3) g"),
    ("join_on_old_names", "SELECT a.range AS x, b.range AS y FROM range(4) a JOIN range(2, 6) b "
                          "ON a.range = b.range"),
    ("next_to_a_real_column", "SELECT t.range AS a, z.range AS b FROM range(2) t "
                              "JOIN (SELECT 5 AS range) z ON true"),
    ("events", "SELECT h.range AS h, count(e.eid) AS n FROM range(TIMESTAMP '2024-03-04 09:00', "
               "TIMESTAMP '2024-03-04 12:00', INTERVAL 1 HOUR) h LEFT JOIN {events} e "
               "ON date_trunc('hour', e.ts) = h.range GROUP BY 1"),
]


@pytest.mark.parametrize("name,query", ALIAS_NAMES, ids=[a[0] for a in ALIAS_NAMES])
def test_range_alias_keeps_the_old_name(sql, name, query):
    """`range(3) t` names the column t (as DuckDB and PostgreSQL) and, like DuckDB, t.range
    still names it."""
    sql.check(query)


def test_range_alias_old_name_ambiguous(sql):
    for q in ["SELECT range FROM range(2) t JOIN (SELECT 5 AS range) z ON true",
              "SELECT range FROM range(2) t, range(3) u"]:
        err = sql.error([q], "ambiguous")
        _caret_at(err, "range FROM")


def test_join_condition_error_does_not_crash(sql):
    """A join whose ON condition names an unknown column used to free an uninitialised relation
    (double free): now the error, with the caret under the column."""
    for q, at in [("SELECT * FROM range(2) a LEFT JOIN range(3) b ON a.nope = b.b", "a.nope"),
                  ("SELECT * FROM {people} p JOIN {teams} t ON p.team_id = t.nope", "t.nope"),
                  ("SELECT * FROM {people} p JOIN {teams} t USING (nope)", None)]:
        err = sql.error([q], "nope")
        if at:
            _caret_at(err, at)


def test_range_alias_too_many_columns(sql):
    """DuckDB ignores extra column names; PostgreSQL and polaroid refuse them."""
    _refused(sql, "SELECT * FROM range(3) r(x, y)", "1 column but 2 column names")
    _refused(sql, "SELECT * FROM range(3) WITH ORDINALITY", "ORDINALITY")


def test_range_explain(sql):
    r = sql.polaroid(["EXPLAIN SELECT * FROM range(2, 11, 3)"], fmt="csv")
    out = r.stdout.decode() + r.stderr.decode()
    assert r.returncode == 0, out
    assert "RANGE 2 to 11 step 3 (3 rows)" in out, out
