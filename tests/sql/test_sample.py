"""DuckDB's samples: `USING SAMPLE n [ROWS] | p% | p PERCENT [(method[, seed])]`,
`USING SAMPLE method(n [ROWS | %]) [REPEATABLE (seed)]` (of the whole FROM clause, before WHERE)
and `item TABLESAMPLE ...` (of one FROM item). The rows are random, so the tests check what is
certain: counts where DuckDB's are exact (rows, reservoir percentages, 0% and 100%; compared with
DuckDB at run time), binomial bounds for bernoulli/system percentages, that a sample is a subset
of its input without repeats, that REPEATABLE gives the same rows every run and other seeds other
rows, and the errors DuckDB gives too."""
import pyarrow as pa
import pytest

N = 20000
T = f"range({N}) t(i)"

COUNTS = [
    ("rows", f"SELECT count(*) AS n FROM {T} USING SAMPLE 100 ROWS"),
    ("number_alone", f"SELECT count(*) AS n FROM {T} USING SAMPLE 37"),
    ("rows_fraction", f"SELECT count(*) AS n FROM {T} USING SAMPLE 10.7 ROWS"),
    ("more_rows_than_input", f"SELECT count(*) AS n FROM {T} USING SAMPLE 50000 ROWS"),
    ("reservoir_pct", f"SELECT count(*) AS n FROM {T} USING SAMPLE 12.34% (reservoir)"),
    ("reservoir_pct_half", "SELECT count(*) AS n FROM range(1001) t(i) USING SAMPLE 50 PERCENT (reservoir, 7)"),
    ("reservoir_fn", f"SELECT count(*) AS n FROM {T} USING SAMPLE reservoir(2%) REPEATABLE (3)"),
    ("zero_pct", f"SELECT count(*) AS n FROM {T} USING SAMPLE 0%"),
    ("all_pct", f"SELECT count(*) AS n, sum(i) AS s FROM {T} USING SAMPLE 100% (bernoulli)"),
    ("tablesample_rows", f"SELECT count(*) AS n FROM {T} TABLESAMPLE 25 ROWS"),
    ("tablesample_fn", f"SELECT count(*) AS n FROM {T} TABLESAMPLE reservoir(30 ROWS) REPEATABLE (1)"),
    ("tablesample_join", "SELECT count(*) AS n FROM range(100) a(x) TABLESAMPLE 7 ROWS JOIN range(100) b(y) ON x = y"),
    ("tablesample_subquery", "SELECT count(*) AS n, min(t.a) AS a FROM (SELECT i AS a FROM range(50) r(i)) t "
                             "TABLESAMPLE 100%"),
    ("tablesample_subquery_no_alias", "SELECT count(*) AS n, min(a) AS a FROM (SELECT i AS a FROM range(50) r(i)) "
                                      "TABLESAMPLE 100%"),
    ("tablesample_subquery_no_alias_rows", "SELECT count(*) AS n FROM (SELECT * FROM range(40)) TABLESAMPLE 7 ROWS"),
    ("tablesample_from_first_no_alias", "FROM (SELECT 1 AS a) TABLESAMPLE 100%"),
    ("tablesample_join_subquery", "SELECT count(*) AS n FROM range(10) a(x) JOIN (SELECT * FROM range(10) b(y)) "
                                  "TABLESAMPLE 100% ON x = y"),
    ("join_then_sample", "SELECT count(*) AS n FROM range(30) a(x), range(30) b(y) USING SAMPLE 50 ROWS"),
    ("grouped", f"SELECT sum(c) AS n FROM (SELECT i % 3 AS k, count(*) AS c FROM {T} GROUP BY 1 "
                "USING SAMPLE 40 ROWS) s"),
]


@pytest.mark.parametrize("name,query", COUNTS, ids=[c[0] for c in COUNTS])
def test_sample_counts(sql, name, query):
    sql.check(query)


def _rows(sql, query, setup=()):
    r = sql.polaroid(list(setup) + [query])
    assert r.returncode == 0, r.stderr.decode()
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all().to_pylist()


@pytest.mark.parametrize("spec", ["10%", "10 PERCENT (bernoulli)", "10% (system, 5)", "bernoulli(10%)"])
def test_sample_percent_bounds(sql, spec):
    # binomial(20000, 0.1): mean 2000, sd ~42; 6 sd either side
    n = _rows(sql, f"SELECT count(*) AS n FROM {T} USING SAMPLE {spec}")[0]["n"]
    assert 1750 <= n <= 2250, n


@pytest.mark.parametrize("spec", ["500 ROWS", "5% (bernoulli)", "reservoir(3%)", "200 ROWS (reservoir, 9)"])
def test_sample_subset(sql, spec):
    rows = _rows(sql, f"SELECT i FROM {T} USING SAMPLE {spec}")
    vals = [r["i"] for r in rows]
    assert vals and len(set(vals)) == len(vals)  # no row twice
    assert all(0 <= v < N for v in vals)


def test_sample_before_where(sql):
    # the sample is of the FROM clause, then WHERE filters it (DuckDB's order)
    rows = _rows(sql, f"SELECT i FROM {T} WHERE i % 2 = 0 USING SAMPLE 1000 ROWS")
    assert all(r["i"] % 2 == 0 for r in rows)
    assert 350 <= len(rows) <= 650, len(rows)


@pytest.mark.parametrize("spec", ["reservoir(50 ROWS) REPEATABLE (42)", "50 ROWS (reservoir, 42)",
                                  "5% (bernoulli, 42)", "system(5%) REPEATABLE (42)"])
def test_sample_repeatable(sql, spec):
    q = f"SELECT i FROM {T} USING SAMPLE {spec}"
    a = sorted(r["i"] for r in _rows(sql, q))
    b = sorted(r["i"] for r in _rows(sql, q))
    c = sorted(r["i"] for r in _rows(sql, q.replace("42", "43")))
    assert a == b and a != c


def test_sample_table_alias(sql):
    setup = ["CREATE TABLE s AS SELECT i, i * 2 AS j FROM range(100) r(i)"]
    rows = _rows(sql, "SELECT x.i, x.j FROM s AS x TABLESAMPLE 10 ROWS ORDER BY x.i", setup)
    assert len(rows) == 10 and all(r["j"] == 2 * r["i"] for r in rows)
    rows = _rows(sql, "SELECT s.i FROM s TABLESAMPLE 5 ROWS", setup)
    assert len(rows) == 5


ERRORS = [
    ("percent_range", f"SELECT * FROM {T} USING SAMPLE 101%", "out of range"),
    ("bernoulli_rows", f"SELECT * FROM {T} USING SAMPLE 10 ROWS (bernoulli)", "bernoulli"),
    ("method", f"SELECT * FROM {T} USING SAMPLE 10 ROWS (nosuch)", "nosuch"),
]


@pytest.mark.parametrize("name,query,msg", ERRORS, ids=[c[0] for c in ERRORS])
def test_sample_errors(sql, name, query, msg):
    sql.error([query], msg)
