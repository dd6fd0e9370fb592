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
    ("decimal_products", "SELECT typeof(1::DECIMAL(4,2) * 1::DECIMAL(3,1)), "
                         "typeof(1::DECIMAL(10,2) * 5), typeof(1::DECIMAL(20,2) * 3), "
                         "typeof(1::DECIMAL(10,2) * 1::DECIMAL(10,2)), "
                         "typeof(1::DECIMAL(18,2) * 1::DECIMAL(18,2)), "
                         "typeof(1::DECIMAL(30,2) * 1::DECIMAL(10,2)), "
                         "typeof(1::DECIMAL(4,2) * 3::BIGINT), typeof(coalesce(1::REAL, 1)), "
                         "12.5::DECIMAL(10,2) * 3 AS a, 99999999.99::DECIMAL(10,2) * 9 AS b, "
                         "1234567.25::DECIMAL(18,2) * 1000.5::DECIMAL(18,2) AS c"),
    ("float_words", "SELECT typeof(1.5::FLOAT), typeof(CAST(1 AS float)), typeof(1::FLOAT4), "
                    "typeof(1::FLOAT8), typeof(1::float(10)), typeof(1::float(40)), "
                    "typeof(1::DOUBLE), typeof(1::REAL), typeof(1::DOUBLE PRECISION), "
                    "0.1::FLOAT AS f, 0.1::FLOAT(53) AS d"),
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
    ("value_functions", "SELECT typeof(current_date), current_date = today() AS same, "
                        "typeof(current_timestamp), typeof(localtimestamp)"),
    ("subquery", "SELECT typeof((SELECT max(eid) FROM {events})), "
                 "typeof(x) FROM (SELECT name AS x FROM {people}) s"),
]


@pytest.mark.parametrize("name,query", TYPEOF, ids=[n for n, _ in TYPEOF])
def test_typeof(sql, name, query):
    sql.check(query)


def test_typeof_arity(sql):
    sql.error(["SELECT typeof(1, 2)"], "typeof")
    sql.error(["SELECT typeof()"], "typeof")


# Integer literals: like DuckDB, a literal that fits 32 bits is an INTEGER (larger ones BIGINT),
# and an INTEGER literal takes a narrower integer operand's type when it fits (tinyint + 1 is a
# TINYINT); arithmetic overflows in that type.
INT_LITERALS = [
    ("types", "SELECT typeof(1), typeof(2147483647), typeof(2147483648), typeof(-2147483647), "
              "typeof(-2147483648), typeof(3000000000), typeof(-5), typeof(0)"),
    ("values", "SELECT 1 AS a, -7 AS b, 2147483647 AS c, 2147483648 AS d, -2147483648 AS e"),
    ("arithmetic_types", "SELECT typeof(1 + 1), typeof(7 // 2), typeof(7 % 2), typeof(7 / 2), "
                         "typeof(-(1)), typeof(abs(-5)), typeof(1 + 3000000000), typeof(1 + 1.5), "
                         "typeof(1 * 2.0e0)"),
    ("arithmetic_values", "SELECT 7 // 2, 7 % 2, -7 // 2, 7 / 2, 2147483647 + 0, 1 + 3000000000, "
                          "2147483647 * 2::BIGINT"),
    ("with_columns", "SELECT typeof(age + 1), typeof(1 - age), typeof(age * 2), typeof(age // 2), "
                     "typeof(id + 3000000000), typeof(salary + 1), typeof(eid + 1), "
                     "age + 1 AS a1, eid * 2 AS e2 FROM {people}, (SELECT 3::BIGINT AS eid) e"),
    ("narrow_columns", "SELECT typeof(x + 1), typeof(1 - x), typeof(x * 2), typeof(x + 300), "
                       "typeof(y + 1), typeof(y + 70000), typeof(u + 1), typeof(u + (-1)), x + 1, "
                       "y * 3, u + 1 FROM (SELECT 5::TINYINT AS x, 7::SMALLINT AS y, "
                       "9::UTINYINT AS u) t"),
    ("conditionals", "SELECT typeof(CASE WHEN id > 2 THEN 1 ELSE 2 END), typeof(coalesce(NULL, 1)), "
                     "typeof(coalesce(age, 0)), typeof(greatest(age, 1)), typeof(nullif(1, 2)) "
                     "FROM {people}"),
    ("narrow_conditionals", "SELECT typeof(coalesce(x, 1)), typeof(CASE WHEN x > 0 THEN x ELSE 1 END), "
                            "typeof(coalesce(x, 300)), typeof(greatest(x, 1)), typeof(CASE WHEN x > 0 "
                            "THEN 1 ELSE 3000000000 END), typeof(coalesce(u, 1)), "
                            "typeof(coalesce(u, -1)), typeof(nullif(u, 1)), coalesce(x, 1), "
                            "coalesce(u, -1) FROM (SELECT 5::TINYINT AS x, NULL::UTINYINT AS u) t"),
    ("union", "SELECT typeof(x), x FROM (SELECT 1 AS x UNION ALL SELECT 3000000000) t"),
    ("union_decimal", "SELECT typeof(x), x FROM (SELECT 1 AS x UNION ALL SELECT 2.5) t"),
    ("decimal_plus_literal", "SELECT typeof(12.34::DECIMAL(10,2) + 1), 12.34::DECIMAL(10,2) + 1, "
                             "12.34::DECIMAL(10,2) * 3"),
    ("values_list", "SELECT typeof(a), a FROM (VALUES (1), (2), (-3)) t(a)"),
    ("in_compare", "SELECT id FROM {people} WHERE id IN (1, 2, 3000000000) OR age > 50 OR id = 7"),
    ("dates", "SELECT DATE '2024-02-28' + 1, typeof(DATE '2024-02-28' + 1), "
              "DATE '2024-03-01' - 1"),
    ("frames_limits", "SELECT id, sum(age) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 2 "
                      "FOLLOWING) AS s, lag(age, 2, -1) OVER (ORDER BY id) AS l, "
                      "ntile(3) OVER (ORDER BY id) AS n FROM {people} ORDER BY id LIMIT 6 OFFSET 1"),
    ("functions", "SELECT round(1234, -2), typeof(round(1234, -2)), substr('hello', 2, 3), "
                  "repeat('ab', 3), left('abc', 2), make_date(2020, 1, 31), power(2, 10), "
                  "typeof(power(2, 10))"),
]


@pytest.mark.parametrize("name,query", INT_LITERALS, ids=[n for n, _ in INT_LITERALS])
def test_integer_literals(sql, name, query):
    sql.check(query, ordered="ORDER BY" in query)


def test_integer_literal_table_types(sql, tmp_path):
    """CREATE TABLE AS and COPY keep DuckDB's column types: INTEGER for literals that fit."""
    sql.check("SELECT typeof(a), typeof(b), typeof(c), typeof(d), a, b, c, d FROM c",
              setup=["CREATE TABLE c AS SELECT 1 AS a, 3000000000 AS b, 1 + 1 AS c, age + 1 AS d "
                     "FROM {people} WHERE id = 1"])
    import pyarrow.parquet as pq_
    out = tmp_path / "lit.parquet"
    r = sql.polaroid([f"COPY (SELECT 1 AS a, 3000000000 AS b, -2 * 3 AS c) TO '{out}'"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    import duckdb
    ref = tmp_path / "ref.parquet"
    duckdb.connect().sql(f"COPY (SELECT 1 AS a, 3000000000 AS b, -2 * 3 AS c) TO '{ref}'")
    assert pq_.read_schema(out).types == pq_.read_schema(ref).types


INT_OVERFLOW = [
    ("add", "SELECT 2147483647 + 1", "overflow in addition of INT32 (2147483647 + 1)"),
    ("mul", "SELECT 100000 * 100000", "overflow in multiplication of INT32 (100000 * 100000)"),
    ("column", "SELECT x * 1000000 FROM (VALUES (5000)) t(x)", "overflow in multiplication of INT32"),
    ("tinyint", "SELECT x + 1 FROM (SELECT 127::TINYINT AS x) t", "overflow in addition of INT8"),
    ("age", "SELECT age * 100000000 FROM {people}", "overflow in multiplication of INT32"),
]


@pytest.mark.parametrize("name,query,needle", INT_OVERFLOW, ids=[e[0] for e in INT_OVERFLOW])
def test_integer_literal_overflow(sql, name, query, needle):
    """INTEGER arithmetic overflows like DuckDB's (an error, not a wrap or a silent widening);
    a BIGINT operand (3000000000, ::BIGINT) widens the arithmetic."""
    sql.error([query], needle)


def test_decimal_product_overflow(sql):
    """Two 64-bit decimals multiply into DECIMAL(18, s1 + s2); a product past 64 bits is an
    overflow error (DuckDB's too)."""
    sql.error(["SELECT 99999999.99::DECIMAL(10,2) * 99999999.99::DECIMAL(10,2)"],
              "overflow in multiplication of DECIMAL(18,4)")


def test_cast_output_names(sql):
    """A cast's output column is named like DuckDB names it: the grammar's type keywords by
    their SQL names (INT INTEGER, NUMERIC DECIMAL, CHAR(3) VARCHAR(3)), other type names as
    written (TIMESTAMPTZ, int2, TEXT), FLOAT as FLOAT (32-bit, though the PostgreSQL grammar
    reads it as float8) with its precision as written."""
    import duckdb
    query = ("SELECT CAST(1 AS FLOAT), 1::REAL, x::VARCHAR(10), x::FLOAT(10), x::FLOAT(30), "
             "x::DECIMAL(5), x::NUMERIC(10,2), x::CHAR(3), x::INT, x::INT4, x::int2, x::FLOAT4, "
             "x::TIMESTAMP WITH TIME ZONE, x::DEC(4,1), CAST(x AS DOUBLE), x::DOUBLE PRECISION, "
             "x::UBIGINT, x::TEXT, x::NUMERIC, x::BOOL, x::BLOB, x::TIMESTAMPTZ, x::INTERVAL, "
             "x::STRING, x::FLOAT8, CAST(x AS float) FROM (VALUES (NULL)) t(x)")
    got = sql.check(query)
    assert got.column_names == duckdb.sql(query).columns
    assert got.column_names[:2] == ["CAST(1 AS FLOAT)", "CAST(1 AS FLOAT)"]


def test_aggregate_output_names(sql):
    """Aggregate and window calls are named with their ORDER BY (NULLS FIRST/LAST as written)
    and FILTER, like DuckDB (which also quotes "first"; polaroid does not)."""
    import duckdb
    query = ("SELECT string_agg(CAST(x AS VARCHAR), ',' ORDER BY y), count(DISTINCT x), "
             "sum(x) FILTER (WHERE y > 1), list(x ORDER BY y DESC NULLS LAST, x), "
             "count(*) FILTER (WHERE x = 1), sum(x) OVER (ORDER BY x NULLS FIRST), "
             "max(y ORDER BY x DESC) FROM (VALUES (1, 2)) t(x, y) GROUP BY x")
    got = sql.check(query)
    assert got.column_names == duckdb.sql(query).columns


def test_decimal_results_fit_their_precision(sql):
    """A DECIMAL result past its precision is an overflow error like DuckDB's, also below the
    64/128-bit limits (a product capped at 18 digits, a sum at 38); results that fit pass."""
    sql.error(["SELECT 999999999999.999999::DECIMAL(18,6) * 2"],
              "overflow in multiplication of DECIMAL(18,6)")
    sql.error(["SELECT 9999999999999999999999999999.9999999999::DECIMAL(38,10) + 1"],
              "overflow in addition of DECIMAL(38,10)")
    sql.error(["SELECT x - 1 FROM (VALUES (-99999999999999999999999999999999999999::DECIMAL(38,0))) t(x)"],
              "overflow in subtraction of DECIMAL(38,0)")
    sql.check("SELECT 499999999999.999999::DECIMAL(18,6) * 2 AS a, "
              "99.99::DECIMAL(4,2) + 99.99::DECIMAL(4,2) AS b, x * y AS c, x - y AS d, x + 7 AS e "
              "FROM (VALUES (99999999.99::DECIMAL(10,2), 99.9::DECIMAL(3,1))) t(x, y)")
