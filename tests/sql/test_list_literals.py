"""DuckDB's bracket list literals ([1, 2, 3], nested, empty, with expressions) read as
list_value(...) (src/sql/session_forms.c), named like DuckDB names them, next to subscripts
(x[1], l[1:2]) that stay subscripts; compared with DuckDB."""
import pytest

LISTS = [
    ("ints", "SELECT [1, 2, 3]"),
    ("nested", "SELECT [[1], [2, 3], []] AS x"),
    ("empty", "SELECT [] AS e"),
    ("nulls", "SELECT [1, NULL, 3] AS l, [NULL] AS n"),
    ("strings", "SELECT ['a', 'b', NULL] AS s"),
    ("exprs", "SELECT id, [id, age, id + 1] AS l FROM {people}"),
    ("in_function", "SELECT list_sum([1, 2, 3]) AS s, len([4, 5]) AS n, "
                    "list_contains(['x', 'y'], 'y') AS c"),
    ("compare", "SELECT [1, 2] = [1, 2] AS a, [1, 2] < [1, 3] AS b"),
    ("subscript_after", "SELECT x[1] AS a, x[2:2] AS b FROM (SELECT [5, 6, 7] AS x)"),
    ("where", "SELECT id FROM {people} WHERE list_contains([1, 3, 5], id)"),
    ("columns_list", "SELECT COLUMNS(['id', 'name']) FROM {people}"),
    ("cast", "SELECT CAST([1, 2] AS VARCHAR[]) AS v"),
    ("unnest", "SELECT unnest([3, 1, 2]) AS u"),
]


@pytest.mark.parametrize("name,query", LISTS, ids=[n for n, _ in LISTS])
def test_list_literal(sql, name, query):
    sql.check(query)


NAMES = ["SELECT [1, 2, 3], list_sum([1, 2]), [] , [[1]]",
         "SELECT current_date, typeof(current_date), localtimestamp IS NOT NULL"]


@pytest.mark.parametrize("query", NAMES)
def test_names_like_duckdb(sql, query):
    """Result column names (compare.py compares values by position only)."""
    import pyarrow as pa
    exp = sql.duckdb([query])
    r = sql.polaroid([query])
    assert r.returncode == 0, r.stderr.decode()
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert got.column_names == exp.column_names


# DuckDB's aggregate FILTER (cond) without WHERE (session_forms.c inserts it)
FILTERS = [
    ("bare", "SELECT max(age) FILTER (age < 40) AS a, count(*) FILTER (city = 'Paris') AS b, "
             "sum(salary) FILTER (WHERE id > 3) AS c FROM {people}"),
    ("grouped", "SELECT city, count(*) FILTER (age > 30) AS n FROM {people} GROUP BY city"),
    ("window", "SELECT id, count(*) FILTER (age > 30) OVER (ORDER BY id) AS n FROM {people}"),
]


@pytest.mark.parametrize("name,query", FILTERS, ids=[n for n, _ in FILTERS])
def test_filter_without_where(sql, name, query):
    sql.check(query)
