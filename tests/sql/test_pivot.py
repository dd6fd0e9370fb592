"""DuckDB's simplified PIVOT and UNPIVOT statements: PIVOT src ON cols [IN (values)] [USING
aggregates [AS alias]] [GROUP BY keys] [ORDER BY / LIMIT] (one column per combination of the ON
columns' values, named like DuckDB: value[_value][_alias or _aggregate]) and UNPIVOT src ON cols
[INTO NAME n VALUE v] (NULL values left out). Expected results (names, types and rows) from
DuckDB at run time."""
import pytest

SETUP = [
    "CREATE TABLE t (g VARCHAR, k VARCHAR, y INTEGER, x INTEGER, z INTEGER)",
    "INSERT INTO t VALUES ('a', 'p', 2024, 1, 10), ('a', 'q', 2024, 2, 20), ('b', 'p', 2025, 3, 30), "
    "('b', NULL, 2025, 4, 40), ('a', 'p', 2025, 5, NULL), ('c', 'r''s', 2026, 6, 60)",
]

CASES = [
    ("basic", "PIVOT t ON k USING sum(x) GROUP BY g"),
    ("default_keys", "PIVOT t ON k USING sum(x)"),
    ("count_default", "PIVOT t ON k"),
    ("aliases", "PIVOT t ON k USING sum(x) AS s, max(z) AS m GROUP BY g"),
    ("one_alias", "PIVOT t ON k USING sum(x) AS s GROUP BY g"),
    ("agg_names", "PIVOT t ON k USING sum(x), max(z) GROUP BY g"),
    ("two_on", "PIVOT t ON k, y USING sum(x) GROUP BY g"),
    ("in_list", "PIVOT t ON k IN ('p', 'zz') USING sum(x) GROUP BY g"),
    ("in_names", "PIVOT t ON k IN (p, q) USING sum(x) GROUP BY g"),
    ("numbers", "PIVOT t ON y USING sum(x) GROUP BY g"),
    ("number_in", "PIVOT t ON y IN (2024, 2026) USING count(*) GROUP BY g"),
    ("order_limit", "PIVOT t ON y USING sum(x) GROUP BY g ORDER BY g DESC LIMIT 2"),
    ("subquery", "PIVOT (SELECT * FROM t WHERE x > 1) ON k USING count(*) GROUP BY g"),
    ("two_keys", "PIVOT t ON k USING sum(x) GROUP BY g, y"),
    ("first", "PIVOT t ON k USING first(z) GROUP BY g"),
    ("unpivot", "UNPIVOT t ON x, z INTO NAME col VALUE val"),
    ("unpivot_default_names", "UNPIVOT t ON x, z"),
    ("unpivot_order", "UNPIVOT t ON x, z INTO NAME c VALUE v ORDER BY v LIMIT 4"),
    ("unpivot_strings", "UNPIVOT t ON g, k INTO NAME c VALUE v"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_pivot(sql, name, query):
    sql.check(query, setup=SETUP, ordered="ORDER BY" in query)


def test_pivot_file(sql):
    sql.check("PIVOT {events} ON kind USING count(*) AS n, sum(value) AS v GROUP BY person_id")


ERRORS = [
    ("no_column", "PIVOT t ON nosuch USING sum(x)", "nosuch"),
    ("no_function", "PIVOT t ON k USING nosuch(x)", "nosuch"),
    ("unpivot_no_column", "UNPIVOT t ON x, nosuch", "nosuch"),
]


@pytest.mark.parametrize("name,query,msg", ERRORS, ids=[c[0] for c in ERRORS])
def test_pivot_errors(sql, name, query, msg):
    sql.error(SETUP + [query], msg)
