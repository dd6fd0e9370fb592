"""Correlated subqueries beyond plain equality lookups, compared with DuckDB: LIMIT/OFFSET,
window functions and DISTINCT ON inside a subquery correlated by equalities apply per outer row
(they used to apply to all outer rows' inner rows at once)."""
import pytest

PER_ROW = [
    ("scalar_order_limit",
     "SELECT p.id, (SELECT e.value FROM {events} e WHERE e.person_id = p.id ORDER BY e.ts DESC "
     "LIMIT 1) AS last_value FROM {people} p"),
    ("scalar_order_limit_offset",
     "SELECT p.id, (SELECT e.eid FROM {events} e WHERE e.person_id = p.id ORDER BY e.value "
     "NULLS FIRST, e.eid LIMIT 1 OFFSET 2) AS third FROM {people} p"),
    ("lateral_limit",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT e.eid, e.kind FROM {events} e "
     "WHERE e.person_id = p.id ORDER BY e.ts DESC LIMIT 2) l"),
    ("lateral_limit_offset_left",
     "SELECT p.id, l.eid FROM {people} p LEFT JOIN LATERAL (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.team_id ORDER BY e.eid LIMIT 3 OFFSET 20) l ON true"),
    ("lateral_offset_only",
     "SELECT p.id, l.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.id ORDER BY e.eid OFFSET 20) l"),
    ("lateral_limit_zero",
     "SELECT p.id, l.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.id LIMIT 0) l"),
    ("lateral_grouped_limit",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT e.kind, count(*) AS n FROM {events} e "
     "WHERE e.person_id = p.id GROUP BY e.kind ORDER BY n DESC, e.kind LIMIT 1) l"),
    ("lateral_window",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT e.eid, row_number() OVER (ORDER BY e.ts) "
     "AS rn, sum(e.value) OVER (ORDER BY e.ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s2, "
     "count(*) OVER () AS n FROM {events} e WHERE e.person_id = p.id) l"),
    ("lateral_window_partitioned",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT e.eid, rank() OVER (PARTITION BY e.kind "
     "ORDER BY e.value DESC NULLS LAST) AS r FROM {events} e WHERE e.person_id = p.id) l"),
    ("lateral_qualify",
     "SELECT p.id, l.eid FROM {people} p, LATERAL (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.id QUALIFY row_number() OVER (ORDER BY e.eid DESC) <= 2) l"),
    ("lateral_distinct_on",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT DISTINCT ON (e.kind) e.kind, e.eid "
     "FROM {events} e WHERE e.person_id = p.id ORDER BY e.kind, e.eid DESC) l"),
    ("lateral_distinct_limit",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT DISTINCT e.kind FROM {events} e "
     "WHERE e.person_id = p.id ORDER BY e.kind NULLS FIRST LIMIT 2) l"),
    ("exists_limit_select_list",
     "SELECT p.id, EXISTS (SELECT 1 FROM {events} e WHERE e.person_id = p.id LIMIT 1) AS x, "
     "EXISTS (SELECT 1 FROM {events} e WHERE e.person_id = p.id LIMIT 0) AS y FROM {people} p"),
    ("exists_limit_where",
     "SELECT p.id FROM {people} p WHERE EXISTS (SELECT e.eid FROM {events} e "
     "WHERE e.person_id = p.team_id ORDER BY e.eid LIMIT 1 OFFSET 25)"),
    ("in_limit",
     "SELECT p.id, p.team_id IN (SELECT e.person_id FROM {events} e WHERE e.kind = p.city "
     "ORDER BY e.eid LIMIT 1) AS x FROM {people} p"),
]


@pytest.mark.parametrize("name,query", PER_ROW, ids=[n for n, _ in PER_ROW])
def test_per_outer_row(sql, name, query):
    sql.check(query)


# Subqueries correlated by any condition (<, <=, <>, OR, IS NOT DISTINCT FROM, ...) or using
# outer columns outside WHERE: flattened (the distinct outer values joined with the subquery's
# FROM rows, then planned per value like an equality correlation).
TICKS = [
    "CREATE TABLE q AS SELECT range AS i, chr(CAST(65 + range % 3 AS INTEGER)) AS sym, "
    "range * 7 % 101 AS ts, CAST(range AS DOUBLE) * 1.5 AS px FROM range(300)",
    "CREATE TABLE t AS SELECT range AS id, CASE WHEN range % 9 = 4 THEN NULL "
    "ELSE chr(CAST(65 + range % 4 AS INTEGER)) END AS sym, "
    "CASE WHEN range % 11 = 3 THEN NULL ELSE range * 13 % 97 END AS ts FROM range(60)",
]

FLAT = [
    ("scalar_asof_max",
     "SELECT t.*, (SELECT max(q.ts) FROM q WHERE q.sym = t.sym AND q.ts <= t.ts) AS qts FROM t"),
    ("scalar_asof_count_sum",
     "SELECT t.id, (SELECT count(*) FROM q WHERE q.sym = t.sym AND q.ts < t.ts) AS n, "
     "(SELECT sum(q.px) FROM q WHERE q.sym = t.sym AND q.ts < t.ts) AS s, "
     "(SELECT count(q.px) + 1 FROM q WHERE q.sym = t.sym AND q.ts > t.ts + 90) AS c1 FROM t"),
    ("scalar_asof_last_row",
     "SELECT t.id, (SELECT q.px FROM q WHERE q.sym = t.sym AND q.ts <= t.ts "
     "ORDER BY q.ts DESC, q.i DESC LIMIT 1) AS px FROM t"),
    ("scalar_no_equality",
     "SELECT t.id, (SELECT count(*) FROM q WHERE q.ts BETWEEN t.ts - 3 AND t.ts + 3) AS n, "
     "(SELECT min(q.i) FROM q WHERE q.ts > t.ts) AS m FROM t"),
    ("scalar_not_equal",
     "SELECT p.id, (SELECT count(*) FROM {teams} x WHERE x.team_id <> p.team_id) AS n FROM {people} p"),
    ("scalar_not_distinct",
     "SELECT p.id, (SELECT count(*) FROM {people} x WHERE x.city IS NOT DISTINCT FROM p.city) AS n, "
     "(SELECT max(x.id) FROM {people} x WHERE x.city IS NOT DISTINCT FROM p.city AND x.id < p.id) "
     "AS prev FROM {people} p"),
    ("scalar_or",
     "SELECT p.id, (SELECT count(*) FROM {events} e WHERE e.person_id = p.id OR e.eid = p.id) AS n "
     "FROM {people} p"),
    ("scalar_outer_in_select_list",
     "SELECT p.id, (SELECT max(e.value) + p.age FROM {events} e WHERE e.person_id = p.id) AS a, "
     "(SELECT count(*) + p.id FROM {events} e WHERE e.person_id = p.id + 100) AS b FROM {people} p"),
    ("scalar_having",
     "SELECT p.id, (SELECT count(*) FROM {events} e WHERE e.person_id = p.team_id "
     "HAVING count(*) > 21) AS n FROM {people} p"),
    ("scalar_grouped_count_no_match",
     "SELECT p.id, (SELECT count(*) FROM {events} e WHERE e.person_id = p.id + 1 "
     "GROUP BY e.person_id) AS n FROM {people} p"),
    ("scalar_in_where",
     "SELECT t.id FROM t WHERE (SELECT count(*) FROM q WHERE q.sym = t.sym AND q.ts < t.ts) > 25"),
    ("scalar_in_order_by",
     "SELECT t.id FROM t ORDER BY (SELECT max(q.i) FROM q WHERE q.ts < t.ts) NULLS FIRST, t.id"),
    ("lateral_aggregate",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT count(*) AS n, max(q.px) AS mx, "
     "list(q.i ORDER BY q.i) AS ids FROM q WHERE q.sym = t.sym AND q.ts <= t.ts AND q.ts > t.ts - 10) l"),
    ("lateral_asof_limit",
     "SELECT t.id, l.* FROM t LEFT JOIN LATERAL (SELECT q.i, q.px FROM q WHERE q.sym = t.sym "
     "AND q.ts <= t.ts ORDER BY q.ts DESC, q.i LIMIT 2) l ON true"),
    ("lateral_grouped",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT q.sym, count(*) AS n FROM q WHERE q.ts < t.ts "
     "GROUP BY q.sym) l"),
    ("lateral_window",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT q.i, row_number() OVER (ORDER BY q.i DESC) AS rn "
     "FROM q WHERE q.ts BETWEEN t.ts AND t.ts + 1) l"),
    ("lateral_distinct",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT DISTINCT q.sym FROM q WHERE q.ts = t.ts + 1 "
     "OR q.ts = t.ts - 1) l"),
    ("lateral_outer_in_select_list",
     "SELECT p.id, l.* FROM {people} p, LATERAL (SELECT e.eid - p.id AS d, p.name AS n "
     "FROM {events} e WHERE e.person_id = p.id AND e.eid < 60) l"),
    ("lateral_having_equality",
     "SELECT p.id, l.n FROM {people} p, LATERAL (SELECT count(*) AS n FROM {events} e "
     "WHERE e.person_id = p.id HAVING count(*) > 21) l"),
    ("lateral_having_count_zero",
     "SELECT p.id, l.n FROM {people} p LEFT JOIN LATERAL (SELECT count(*) AS n FROM {events} e "
     "WHERE e.person_id = p.team_id + 10 HAVING count(*) = 0) l ON true"),
    ("exists_select_list",
     "SELECT t.id, EXISTS (SELECT 1 FROM q WHERE q.sym = t.sym AND q.ts = t.ts + 1) AS x, "
     "NOT EXISTS (SELECT 1 FROM q WHERE q.ts > t.ts + 95) AS y FROM t"),
    ("exists_grouped_where",
     "SELECT t.id FROM t WHERE EXISTS (SELECT q.sym FROM q WHERE q.ts < t.ts GROUP BY q.sym "
     "HAVING count(*) > 40)"),
    ("in_where",
     "SELECT p.id FROM {people} p WHERE p.team_id IN (SELECT e.person_id FROM {events} e "
     "WHERE e.eid < p.id * 2)"),
    ("in_select_list",
     "SELECT t.id, t.ts IN (SELECT q.ts FROM q WHERE q.sym = t.sym AND q.i < t.id * 5) AS x FROM t"),
    ("not_in_where",
     "SELECT t.id FROM t WHERE t.ts NOT IN (SELECT q.ts FROM q WHERE q.i < t.id)"),
    ("any_all",
     "SELECT t.id, t.ts > ALL (SELECT q.ts FROM q WHERE q.sym = t.sym AND q.i < t.id) AS a, "
     "t.ts < ANY (SELECT q.ts FROM q WHERE q.i > t.id * 4) AS b FROM t"),
    ("exists_outer_in_select_list_where",
     "SELECT p.id FROM {people} p WHERE p.id IN (SELECT e.person_id + p.id - p.id FROM {events} e "
     "WHERE e.kind = 'buy')"),
    ("lateral_nearest",
     "SELECT t.id, l.* FROM t, LATERAL (SELECT q.px, q.ts FROM q WHERE q.sym = t.sym "
     "ORDER BY abs(q.ts - t.ts), q.i LIMIT 1) l"),
    ("scalar_nearest_no_equality",
     "SELECT t.id, (SELECT q.i FROM q ORDER BY abs(q.ts - t.ts), q.i LIMIT 1) AS i FROM t"),
    ("two_subqueries_in_expression",
     "SELECT t.id, (SELECT count(*) FROM q WHERE q.ts < t.ts) + (SELECT count(*) FROM q "
     "WHERE q.ts > t.ts) AS n FROM t"),
    ("nested_correlated",
     "SELECT t.id, (SELECT count(*) FROM q WHERE q.ts < t.ts AND q.i IN (SELECT q2.i FROM q q2 "
     "WHERE q2.sym = q.sym AND q2.ts > q.ts - 5)) AS n FROM t"),
]


@pytest.mark.parametrize("name,query", FLAT, ids=[n for n, _ in FLAT])
def test_flattened(sql, name, query):
    sql.check(query, setup=TICKS)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_flattened_threads(sql, threads):
    sql.check("SELECT t.id, (SELECT max(q.ts) FROM q WHERE q.sym = t.sym AND q.ts <= t.ts) AS a, "
              "(SELECT count(*) FROM q WHERE q.ts <> t.ts) AS b FROM t", setup=TICKS,
              extra=("--threads", threads))


def test_flattened_more_than_one_row(sql):
    """A scalar subquery correlated by an inequality that gives several rows for an outer row
    is the usual error."""
    sql.error(TICKS + ["SELECT t.id, (SELECT q.i FROM q WHERE q.ts < t.ts) FROM t"],
              "more than one row returned by a subquery")
