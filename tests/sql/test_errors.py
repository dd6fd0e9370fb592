"""Error cases of `polaroid sql`: exit code 1 and a message naming the problem and where it is
(the statement's line with a caret under the position, or the file). DuckDB must refuse the same
statements (so the cases are errors in SQL, not polaroid limitations)."""
import re


def _has_position(err):
    """The message points at a position: polaroid prints 'LINE n: <text>' and a caret line."""
    return bool(re.search(r"\^", err)) or "position" in err.lower() or "line " in err.lower()


def test_unknown_column(sql):
    err = sql.error(["SELECT id, no_such_col FROM {people}"], "no_such_col")
    assert _has_position(err), err


def test_unknown_column_suggests_close_match(sql):
    err = sql.error(["SELECT nmae FROM {people}"], "nmae")
    assert "name" in err.replace("nmae", ""), err


def test_unknown_table(sql):
    sql.error(["SELECT * FROM no_such_table"], "no_such_table")


def test_unknown_function(sql):
    err = sql.error(["SELECT no_such_fn(id) FROM {people}"], "no_such_fn")
    assert _has_position(err), err


def test_type_mismatch_function(sql):
    err = sql.error(["SELECT lower(age) FROM {people}"], "lower")
    assert _has_position(err), err


def test_type_mismatch_aggregate(sql):
    sql.error(["SELECT sum(name) FROM {people}"], "sum")


def test_type_mismatch_comparison(sql):
    sql.error(["SELECT * FROM {people} WHERE joined > 3.5"])


def test_syntax_error_with_position(sql):
    err = sql.error(["SELECT id FROM {people} WHERE ORDER BY id"], "syntax")
    assert _has_position(err), err
    # the caret is under the offending token
    lines = err.splitlines()
    caret = next((i for i, ln in enumerate(lines) if ln.strip() and set(ln.strip()) == {"^"}),
                 None)
    assert caret is not None and caret > 0, err
    col = lines[caret].index("^")
    assert lines[caret - 1][col:col + 5] == "ORDER", err


def test_syntax_error_in_second_line_of_script(sql):
    err = sql.error(["SELECT 1", "SELEC 2"], "syntax")
    assert "line 2" in err.lower() or "SELEC" in err, err


def test_missing_file(sql):
    err = sql.error(["SELECT * FROM 'no/such/file.parquet'"], "no/such/file.parquet")
    assert any(w in err.lower() for w in ("no such file", "not found", "does not exist",
                                          "no files found", "cannot open")), err


def test_missing_file_read_parquet(sql):
    sql.error(["SELECT * FROM read_parquet('no_such_dir/x.parquet')"], "no_such_dir/x.parquet")


def test_not_grouped_column(sql):
    err = sql.error(["SELECT city, name, count(*) FROM {people} GROUP BY city"], "name")
    assert _has_position(err), err


def test_integer_overflow(sql):
    sql.error(["SELECT 9223372036854775807::BIGINT + id FROM {people}"], "overflow")


def test_division_by_zero_modulo(sql):
    sql.error(["SELECT id % 0 FROM {people}"], "zero")


def test_cast_failure(sql):
    sql.error(["SELECT CAST(name AS INTEGER) FROM {people}"], "Ann")


def test_drop_missing_table(sql):
    sql.error(["DROP TABLE no_such_table"], "no_such_table")


def test_insert_wrong_arity(sql):
    sql.error(["CREATE TABLE t (a INTEGER, b VARCHAR)", "INSERT INTO t VALUES (1, 'x', 3)"])


def test_union_column_count_mismatch(sql):
    sql.error(["SELECT 1, 2 UNION ALL SELECT 3"])


def test_ambiguous_column(sql):
    sql.error(["SELECT team_id FROM {people} p JOIN {teams} t ON p.team_id = t.team_id"],
              "team_id")


def test_script_stops_at_first_error(sql, tmp_path):
    out = tmp_path / "never.parquet"
    r = sql.polaroid(["SELECT no_such_col FROM {people}",
                      f"COPY (SELECT 1) TO '{out}' (FORMAT parquet)"], fmt="csv")
    assert r.returncode == 1
    assert not out.exists()


def test_qualify_without_window_function(sql):
    err = sql.error(["SELECT id FROM {people} QUALIFY id > 2"], "window function")
    assert _has_position(err), err


def test_qualify_two_conditions(sql):
    err = sql.error(["SELECT id FROM {people}\nQUALIFY row_number() OVER () = 1, 2"], "QUALIFY")
    assert "line 2" in err.lower(), err


def test_qualify_unknown_column(sql):
    err = sql.error(["SELECT id FROM {people} QUALIFY rank() OVER (ORDER BY nope) = 1"], "nope")
    assert _has_position(err), err


def test_qualify_window_after_qualify(sql):
    sql.error(["SELECT id FROM {people} QUALIFY row_number() OVER w = 1 WINDOW w AS (ORDER BY id)"],
              "WINDOW")


def test_recursive_reference_in_non_recursive_term(sql):
    err = sql.error(["WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3 "
                     "UNION ALL SELECT 7) SELECT * FROM r"], "recursive", "\"r\"")
    assert _has_position(err), err


def test_recursive_term_column_count(sql):
    err = sql.error(["WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1, 2 FROM r) "
                     "SELECT * FROM r"], "columns")
    assert _has_position(err), err


def test_recursive_unknown_column(sql):
    err = sql.error(["WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT m + 1 FROM r) "
                     "SELECT * FROM r"], "m")
    assert _has_position(err), err


def test_recursion_limit(sql):
    """A recursion that never ends (DuckDB would run forever, so polaroid alone): stopped after
    recursion_limit iterations with a message saying so."""
    r = sql.polaroid(["SET recursion_limit = 50",
                      "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT (n + 1) % 3 FROM r) "
                      "SELECT count(*) FROM r"], fmt="csv")
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 1, err
    assert "AddressSanitizer" not in err and "runtime error:" not in err, err
    assert "50 iterations" in err and "recursion_limit" in err, err
    assert _has_position(err), err
    # within the limit it finishes
    r = sql.polaroid(["SET recursion_limit = 50",
                      "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 50) "
                      "SELECT count(*) FROM r"], fmt="csv")
    assert r.returncode == 0 and r.stdout.decode().split() == ["count_star()", "50"], r.stderr


def test_grouping_of_non_group_column(sql):
    err = sql.error(["SELECT grouping(name) FROM {people} GROUP BY ROLLUP (city)"], "GROUPING")
    assert _has_position(err), err


def test_grouping_in_where(sql):
    err = sql.error(["SELECT city FROM {people} WHERE grouping(city) = 0 GROUP BY city"],
                    "GROUPING")
    assert _has_position(err), err


def test_rollup_ungrouped_column(sql):
    err = sql.error(["SELECT city, name, count(*) FROM {people} GROUP BY ROLLUP (city)"], "name")
    assert _has_position(err), err


def test_regr_wrong_arity(sql):
    err = sql.error(["SELECT regr_slope(salary) FROM {people}"], "regr_slope")
    assert _has_position(err), err
