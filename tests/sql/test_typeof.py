"""typeof(expr) (DuckDB) and pg_typeof(expr) (PostgreSQL's spelling; DuckDB answers it in lower
case): the SQL type name of an expression, decided when the query is planned (the argument is
never evaluated), compared with DuckDB."""
import pytest

TYPEOF = [
    ("columns", "SELECT typeof(id), typeof(name), typeof(salary), typeof(joined), "
                "typeof(team_id) FROM {people}"),
    ("event_columns", "SELECT typeof(eid), typeof(ts), typeof(value), typeof(kind), "
                      "typeof(ts - INTERVAL 1 HOUR), typeof(date_trunc('hour', ts)), "
                      "typeof(ts::date) FROM {events} LIMIT 3"),
    ("casts", "SELECT typeof(1::tinyint), typeof(1::smallint), typeof(1::real), "
              "typeof(1::utinyint), typeof(1::usmallint), typeof(1::uinteger), typeof(1::ubigint), "
              "typeof('x'::blob), typeof(TIME '01:00'), typeof(12.345::decimal(18,3)), "
              "typeof(INTERVAL 2 DAY), typeof(true), typeof(TIMESTAMP '2024-01-01 10:00'), "
              "typeof(TIMESTAMPTZ '2024-01-01 10:00+00'), typeof(now())"),
    ("literals", "SELECT typeof(3000000000), typeof(1.5), typeof(1e3), typeof('a'), "
                 "typeof(NULL), typeof(DATE '2020-01-01'), typeof(1/2)"),
    ("expressions", "SELECT typeof(age + age), typeof(age * 2.5), typeof(age / 2), typeof(-age), "
                    "typeof(abs(age)), typeof(round(salary, 1)), typeof(upper(name)), "
                    "typeof(age > 30), typeof(CASE WHEN age > 30 THEN age END) FROM {people}"),
    ("aggregates", "SELECT typeof(count(*)), typeof(avg(age)), typeof(min(name)), "
                   "typeof(sum(salary)), typeof(max(joined)) FROM {people}"),
    ("windows", "SELECT typeof(row_number() OVER ()), typeof(rank() OVER (ORDER BY age)), "
                "typeof(lag(age) OVER (ORDER BY id)) FROM {people}"),
    ("group_by", "SELECT typeof(city) AS t, count(*) AS n FROM {people} GROUP BY 1"),
    ("where", "SELECT id FROM {people} WHERE typeof(age) = 'INTEGER' AND id < 4"),
    ("pg_typeof", "SELECT pg_typeof(id), pg_typeof(name), pg_typeof(joined), pg_typeof(salary), "
                  "pg_typeof(NULL), pg_typeof(12.5), pg_typeof(ts) FROM {people}, "
                  "(SELECT ts FROM {events} LIMIT 1) e"),
    ("never_evaluated", "SELECT typeof(age::bigint // 0), typeof(CAST(name AS INTEGER)) "
                        "FROM {people}"),
    ("empty_input", "SELECT typeof(id) FROM {people} WHERE false"),
    ("subquery", "SELECT typeof((SELECT max(eid) FROM {events})), "
                 "typeof(x) FROM (SELECT name AS x FROM {people}) s"),
]


@pytest.mark.parametrize("name,query", TYPEOF, ids=[n for n, _ in TYPEOF])
def test_typeof(sql, name, query):
    sql.check(query)


def test_typeof_arity(sql):
    sql.error(["SELECT typeof(1, 2)"], "typeof")
    sql.error(["SELECT typeof()"], "typeof")
