"""Window functions over a constant argument (sum(1) OVER (...), count(1) OVER (), avg(2.5),
max('z'), first_value(5), last_value, nth_value, lag/lead with constant values and defaults,
NULL constants, FILTER, frames with EXCLUDE, named windows, QUALIFY, grouped queries, empty
input), compared with DuckDB: the constant is windowed as a column of equal values."""
import pytest

T = ("(VALUES (1, 'a', 10.5), (2, 'b', NULL), (3, 'a', 7.0), (4, NULL, 1.0), (5, 'b', 2.0), "
     "(6, 'a', NULL), (7, 'b', 4.5)) t(x, g, v)")

CASES = [
    ("running_sum", f"SELECT x, sum(1) OVER (ORDER BY x) AS s FROM {T} ORDER BY x"),
    ("count_all", f"SELECT x, count(1) OVER () AS c FROM {T} ORDER BY x"),
    ("first_value", f"SELECT x, first_value(5) OVER (ORDER BY x) AS f FROM {T} ORDER BY x"),
    ("partitions", f"SELECT x, sum(1) OVER (PARTITION BY g ORDER BY x) AS s, "
                   f"count(1) OVER (PARTITION BY g) AS c FROM {T} ORDER BY x"),
    ("double_and_avg", f"SELECT x, sum(2.5) OVER (PARTITION BY g) AS s, "
                       f"avg(1) OVER (ORDER BY x) AS a FROM {T} ORDER BY x"),
    ("min_max", f"SELECT x, max('z') OVER (ORDER BY x) AS m, min(3) OVER () AS mi, "
                f"max(DATE '2024-01-01') OVER (PARTITION BY g) AS d, "
                f"min(TIMESTAMP '2024-01-01 10:00') OVER () AS t FROM {T} ORDER BY x"),
    ("lag_lead", f"SELECT x, lag(7) OVER (ORDER BY x) AS l, lead(7, 2) OVER (ORDER BY x) AS le, "
                 f"lead(7, 1, 0) OVER (ORDER BY x) AS ld, lag('a', 1, 'b') OVER (ORDER BY x) AS ls, "
                 f"lag(x, 1, 0) OVER (ORDER BY x) AS lx FROM {T} ORDER BY x"),
    ("nth_last", f"SELECT x, nth_value(3, 2) OVER (ORDER BY x) AS n, "
                 f"last_value(9) OVER (ORDER BY x) AS lv, "
                 f"last_value('z') OVER (PARTITION BY g ORDER BY x DESC) AS lz FROM {T} ORDER BY x"),
    ("null_constants", f"SELECT x, count(NULL) OVER () AS c, sum(NULL) OVER (ORDER BY x) AS s, "
                       f"first_value(NULL) OVER (ORDER BY x) AS f FROM {T} ORDER BY x"),
    ("rows_frame", f"SELECT x, sum(1) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) "
                   f"AS s, count(1) OVER (ORDER BY x ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) "
                   f"AS c FROM {T} ORDER BY x"),
    ("range_frame", f"SELECT x, sum(1) OVER (ORDER BY x RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) "
                    f"AS s FROM {T} ORDER BY x"),
    ("peers", f"SELECT x, count(1) OVER (ORDER BY g) AS c FROM {T} ORDER BY x"),
    ("exclude", f"SELECT x, sum(1) OVER (ORDER BY x ROWS BETWEEN CURRENT ROW AND UNBOUNDED "
                f"FOLLOWING EXCLUDE CURRENT ROW) AS s, count(1) OVER (ORDER BY g GROUPS BETWEEN "
                f"UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS c FROM {T} ORDER BY x"),
    ("filter", f"SELECT x, sum(1) FILTER (WHERE v > 2) OVER (ORDER BY x) AS s, "
               f"count(1) FILTER (WHERE g = 'a') OVER () AS c FROM {T} ORDER BY x"),
    ("grouped", f"SELECT g, count(*) AS n, sum(1) OVER () AS groups, "
                f"sum(count(*)) OVER () AS total, sum(1) OVER (ORDER BY g) AS r FROM {T} GROUP BY g"),
    ("qualify", f"SELECT x FROM {T} QUALIFY sum(1) OVER (ORDER BY x) <= 3"),
    ("expression", f"SELECT x, row_number() OVER (ORDER BY x) - count(1) OVER () AS d, "
                   f"sum(1 + 1) OVER (ORDER BY x) AS s2, max(1 < 2) OVER () AS b FROM {T} ORDER BY x"),
    ("named_window", f"SELECT x, sum(1) OVER w AS s, count(1) OVER w AS c, first_value(5) OVER w "
                     f"AS f FROM {T} WINDOW w AS (PARTITION BY g ORDER BY x) ORDER BY x"),
    ("ignore_nulls", f"SELECT x, first_value(5 IGNORE NULLS) OVER (ORDER BY x) AS f, "
                     f"lag(NULL IGNORE NULLS) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("variance", f"SELECT x, var_pop(1) OVER () AS v, stddev_samp(2) OVER (ORDER BY x) AS sd "
                 f"FROM {T} ORDER BY x"),
    ("bool", f"SELECT x, bool_and(true) OVER (ORDER BY x) AS b, bool_or(false) OVER () AS o "
             f"FROM {T} ORDER BY x"),
    ("empty", f"SELECT x, sum(1) OVER (ORDER BY x) AS s, first_value(5) OVER () AS f FROM {T} "
              f"WHERE false"),
    ("constant_partition", f"SELECT x, sum(1) OVER (PARTITION BY 1) AS c, "
                           f"count(*) OVER (ORDER BY 1) AS o FROM {T} ORDER BY x"),
    ("events", "SELECT eid, sum(1) OVER (PARTITION BY kind ORDER BY ts) AS n, "
               "count(1) OVER (PARTITION BY person_id) AS c, lag(0.5, 1, -1) OVER "
               "(PARTITION BY kind ORDER BY eid) AS l FROM {events} ORDER BY eid"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_window_of_constant(sql, name, query):
    sql.check(query, ordered="ORDER BY x" in query[-10:] or "ORDER BY eid" in query[-12:])


def test_window_of_constant_threads(sql):
    """Many partitions, one and two threads."""
    q = ("SELECT eid, sum(1) OVER (PARTITION BY eid % 37 ORDER BY eid) AS s, "
         "avg(2) OVER (PARTITION BY eid % 5) AS a FROM {events} ORDER BY eid")
    for threads in ("1", "2"):
        sql.check(q, ordered=True, extra=("--threads", threads))


DEFAULTS = [
    ("decimal_value_int_default", "SELECT x, lag(0.5, 1, -1) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("int_value_decimal_default", "SELECT x, lead(x, 1, 2.5) OVER (ORDER BY x) AS l, "
                                  "lag(x, 2, -3.5) OVER (ORDER BY x) AS m FROM {T} ORDER BY x"),
    ("decimal_column_defaults", "SELECT x, lag(v::DECIMAL(4,1), 1, 0.25) OVER (ORDER BY x) AS l, "
                                "lead(v::DECIMAL(4,1), 1, 7) OVER (ORDER BY x) AS m FROM {T} ORDER BY x"),
    ("double_column_defaults", "SELECT x, lag(v, 1, 0) OVER (ORDER BY x) AS l, "
                               "lead(v, 1, 0.5) OVER (ORDER BY x) AS m, "
                               "lag(v::REAL, 1, 0.25) OVER (ORDER BY x) AS r FROM {T} ORDER BY x"),
    ("string_value_number_default", "SELECT x, lag(g, 1, 5) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("date_default_from_string", "SELECT x, lag(DATE '2023-01-01' + x, 1, '2024-01-01') OVER "
                                 "(ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("narrow_int_default", "SELECT x, lag(x::TINYINT, 1, 100) OVER (ORDER BY x) AS l, "
                           "lead(x::BIGINT, 1, 3) OVER (ORDER BY x) AS m FROM {T} ORDER BY x"),
    ("null_default", "SELECT x, lag(x, 1, NULL) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("column_default_double_to_int", "SELECT x, lag(x, 1, v) OVER (ORDER BY x) AS l, "
                                     "lead(x, 2, v) OVER (PARTITION BY g ORDER BY x) AS m FROM {T} ORDER BY x"),
    ("column_default_int_to_double", "SELECT x, lead(v, 1, x) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("column_default_int_to_string", "SELECT x, lag(g, 1, x) OVER (ORDER BY x) AS l FROM {T} ORDER BY x"),
    ("column_default_string_to_int", "SELECT x, lag(x, 1, CAST(x * 10 AS VARCHAR)) OVER (ORDER BY x) AS l "
                                     "FROM {T} ORDER BY x"),
]


@pytest.mark.parametrize("name,query", DEFAULTS, ids=[c[0] for c in DEFAULTS])
def test_lag_lead_constant_default_cast(sql, name, query):
    """A constant default of lag/lead is cast to the value's type, like DuckDB (it used to be
    refused unless both were integers or floats, and decimal defaults went through a double)."""
    sql.check(query.replace("{T}", T), ordered=True)


def test_lag_lead_default_errors(sql):
    sql.error([f"SELECT lag(x, 1, 'a') OVER (ORDER BY x) FROM {T}"], "could not convert string 'a'")
    sql.error([f"SELECT lag(x::UTINYINT, 1, 300) OVER (ORDER BY x) FROM {T}"], "300")
    # a default column is cast whole, like DuckDB: 'a' fails even where no default is needed
    err = sql.error([f"SELECT lag(x, 1, g) OVER (ORDER BY x) FROM {T}"],
                    "could not convert string 'a'")
    assert "at row" not in err, err
