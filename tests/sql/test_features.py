"""One test per feature of the SQL surface: the same statements run in polaroid and DuckDB, and
the results must be equal (tests/sql/README.md). {people}, {teams}, {events} are
read_parquet('...') of the fixture tables (conftest.py); {events_csv} / {parts} / {odd} are
quoted paths of a CSV file, a glob of three Parquet files and a file whose path holds a space and
a quote; {tmp} is a per-test directory."""
import os

import pyarrow.parquet as pq
import pytest

# (id, query, setup statements, ordered)
CASES = [
    # --- SELECT lists
    ("select_star", "SELECT * FROM {people}", (), False),
    ("select_alias_expr", "SELECT name AS n, age + 1 AS next_age, salary * 2 AS s2 FROM {people}",
     (), False),
    ("select_qualified_star", "SELECT p.*, t.team_name FROM {people} AS p JOIN {teams} AS t "
     "ON p.team_id = t.team_id", (), False),
    ("select_exclude", "SELECT * EXCLUDE (salary, joined) FROM {people}", (), False),
    ("select_no_from", "SELECT 1 AS one, 'x' AS s, 2.5 * 2 AS d, NULL AS n", (), False),
    ("values", "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) AS v(x, y)", (), False),
    # --- WHERE
    ("where_and_or_not", "SELECT id FROM {people} WHERE (age > 30 AND city <> 'Paris') OR NOT "
     "(salary < 5000)", (), False),
    ("where_null_logic", "SELECT id, age > 30 AND city = 'Paris' AS p, age > 30 OR city = 'Paris' "
     "AS q FROM {people}", (), False),
    ("where_is_null", "SELECT id FROM {people} WHERE age IS NULL OR city IS NOT NULL AND "
     "salary IS NULL", (), False),
    ("where_in_between_like", "SELECT id FROM {people} WHERE city IN ('Paris', 'Rome') AND age "
     "BETWEEN 20 AND 40 OR name LIKE '_v%' OR name ILIKE 'a%'", (), False),
    ("case_coalesce_nullif", "SELECT id, CASE WHEN age < 30 THEN 'young' WHEN age < 45 THEN 'mid' "
     "ELSE 'senior' END AS band, coalesce(city, 'n/a') AS c, nullif(age, 27) AS a FROM {people}",
     (), False),
    # --- GROUP BY / HAVING / aggregates
    ("group_by_column", "SELECT city, count(*) AS n, sum(salary) AS s, avg(age) AS a, min(name) "
     "AS lo, max(joined) AS hi FROM {people} GROUP BY city", (), False),
    ("group_by_expr", "SELECT age // 10, count(*) FROM {people} GROUP BY age // 10", (), False),
    ("group_by_alias", "SELECT age // 10 AS decade, count(*) AS n FROM {people} GROUP BY decade",
     (), False),
    ("group_by_ordinal", "SELECT city, team_id, count(*) FROM {people} GROUP BY 1, 2", (), False),
    ("group_by_all", "SELECT city, count(*) FROM {people} GROUP BY ALL", (), False),
    ("having", "SELECT city, count(*) AS n FROM {people} GROUP BY city HAVING count(*) > 1 "
     "AND max(age) > 30", (), False),
    ("global_aggregates", "SELECT count(*), count(age), count(DISTINCT city), sum(age), "
     "avg(salary), min(city), max(city), stddev(salary), var_samp(age) FROM {people}", (), False),
    ("group_by_rollup", "SELECT city, team_id, count(*), sum(salary) FROM {people} "
     "GROUP BY ROLLUP (city, team_id)", (), False),
    ("group_by_cube_grouping", "SELECT city, team_id, grouping(city) AS gc, "
     "grouping(city, team_id) AS gct, count(*), max(age) FROM {people} "
     "GROUP BY CUBE (city, team_id)", (), False),
    ("group_by_grouping_sets", "SELECT kind, person_id, count(*), avg(value) FROM {events} "
     "GROUP BY GROUPING SETS ((kind), (person_id), (kind, person_id), ())", (), False),
    ("group_by_grouping_sets_duplicates", "SELECT city, count(*) FROM {people} "
     "GROUP BY GROUPING SETS ((city), (city))", (), False),
    ("group_by_mixed_rollup_alias", "SELECT kind, person_id % 3 AS p, count(*) AS n FROM {events} "
     "GROUP BY kind, ROLLUP (p)", (), False),
    ("group_by_rollup_row", "SELECT city, team_id, count(*) FROM {people} "
     "GROUP BY ROLLUP ((city, team_id), age)", (), False),
    ("group_by_rollup_having_order", "SELECT city, count(*) AS n, grouping_id(city) AS gid "
     "FROM {people} GROUP BY ROLLUP (city) HAVING count(*) > 1 ORDER BY gid, city NULLS FIRST",
     (), True),
    ("group_by_rollup_empty_input", "SELECT city, count(*), sum(age) FROM {people} "
     "WHERE id < 0 GROUP BY ROLLUP (city)", (), False),
    ("group_by_cube_window", "SELECT kind, count(*) AS n, rank() OVER (ORDER BY count(*) DESC) "
     "AS r FROM {events} GROUP BY CUBE (kind)", (), False),
    ("grouping_plain_group_by", "SELECT city, grouping(city), count(*) FROM {people} "
     "GROUP BY city", (), False),
    ("aggregate_empty_input", "SELECT count(*), sum(age), max(name) FROM {people} WHERE id < 0",
     (), False),
    ("aggregate_filter", "SELECT count(*) FILTER (WHERE age > 30) AS old, sum(salary) FILTER "
     "(WHERE city = 'Paris') AS paris FROM {people}", (), False),
    ("corr_covar", "SELECT kind, corr(value, eid) AS c, covar_pop(value, person_id) AS cp, "
     "covar_samp(eid, value) AS cs FROM {events} GROUP BY kind", (), False),
    ("regr_aggregates", "SELECT kind, regr_count(value, eid) AS c, regr_avgx(value, eid) AS ax, "
     "regr_avgy(value, eid) AS ay, regr_sxx(value, eid) AS sxx, regr_syy(value, eid) AS syy, "
     "regr_sxy(value, eid) AS sxy, regr_slope(value, eid) AS slope, regr_intercept(value, eid) "
     "AS icpt, regr_r2(value, person_id) AS r2 FROM {events} GROUP BY kind", (), False),
    ("regr_nulls_filter_empty", "SELECT regr_slope(salary, age) AS s, regr_r2(salary, age) AS r2, "
     "regr_count(salary, age) FILTER (WHERE city = 'Paris') AS cp, regr_intercept(salary, age) "
     "FILTER (WHERE id < 0) AS none, regr_slope(salary, 5) AS flat FROM {people}", (), False),
    ("first_last_aggregates", "SELECT city, first(id ORDER BY id) AS f, last(id ORDER BY id) AS l "
     "FROM {people} GROUP BY city", (), False),
    ("first_last_window_still", "SELECT id, first(name) OVER (ORDER BY id) AS f, "
     "last(name) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS l "
     "FROM {people}", (), False),
    ("within_group_desc_decimal", "SELECT percentile_cont(0.3) WITHIN GROUP (ORDER BY salary DESC) "
     "AS p, percentile_cont(0.25) WITHIN GROUP (ORDER BY age DESC) AS q FROM {people}", (), False),
    ("within_group", "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) AS med, "
     "percentile_disc(0.25) WITHIN GROUP (ORDER BY age) AS q1 FROM {people}", (), False),
    ("median_quantile", "SELECT city, median(salary), quantile_cont(age, 0.75) FROM {people} "
     "GROUP BY city", (), False),
    ("string_agg_ordered", "SELECT city, string_agg(name, ',' ORDER BY name) FROM {people} "
     "GROUP BY city", (), False),
    ("arg_min_max", "SELECT kind, arg_min(value, ts), arg_max(value, ts) FROM {events} "
     "GROUP BY kind", (), False),
    # --- ORDER BY / LIMIT / OFFSET / DISTINCT
    ("order_by_nulls_first", "SELECT id, age FROM {people} ORDER BY age NULLS FIRST, id", (),
     True),
    ("order_by_nulls_last_desc", "SELECT id, age FROM {people} ORDER BY age DESC NULLS LAST, id",
     (), True),
    ("order_by_default_nulls", "SELECT id, city FROM {people} ORDER BY city, id DESC", (), True),
    ("order_by_expr_alias", "SELECT id, salary / 100 AS hs FROM {people} ORDER BY hs DESC, id",
     (), True),
    ("limit_offset", "SELECT id FROM {people} ORDER BY id LIMIT 3 OFFSET 4", (), True),
    ("limit_only", "SELECT count(*) FROM (SELECT * FROM {events} LIMIT 17) AS s", (), False),
    ("subquery_without_alias", "SELECT count(*) FROM (SELECT * FROM {events} WHERE value > 0)",
     (), False),
    ("distinct", "SELECT DISTINCT city FROM {people}", (), False),
    ("distinct_multi", "SELECT DISTINCT city, team_id FROM {people}", (), False),
    ("distinct_on", "SELECT DISTINCT ON (city) city, name FROM {people} ORDER BY city, name", (),
     True),
    # --- joins
    ("join_inner", "SELECT p.id, t.team_name FROM {people} p JOIN {teams} t "
     "ON p.team_id = t.team_id", (), False),
    ("join_left", "SELECT p.id, t.team_name FROM {people} p LEFT JOIN {teams} t "
     "ON p.team_id = t.team_id", (), False),
    ("join_right", "SELECT p.id, t.team_name FROM {people} p RIGHT JOIN {teams} t "
     "ON p.team_id = t.team_id", (), False),
    ("join_full", "SELECT p.id, t.team_id, t.team_name FROM {people} p FULL OUTER JOIN {teams} t "
     "ON p.team_id = t.team_id", (), False),
    ("join_cross", "SELECT p.id, t.team_id FROM {people} p CROSS JOIN {teams} t", (), False),
    ("join_using", "SELECT team_id, name, team_name FROM {people} AS p JOIN {teams} AS t USING (team_id)",
     (), False),
    ("join_natural", "SELECT * FROM {people} AS p NATURAL JOIN {teams} AS t", (), False),
    ("join_non_equi", "SELECT p.id, t.team_id FROM {people} p JOIN {teams} t "
     "ON p.team_id = t.team_id AND p.salary > t.budget * 50", (), False),
    ("join_theta_only", "SELECT p.id, q.id FROM {people} p JOIN {people} q ON p.age < q.age",
     (), False),
    ("join_three_way", "SELECT p.name, t.team_name, count(e.eid) FROM {people} p JOIN {teams} t "
     "ON p.team_id = t.team_id LEFT JOIN {events} e ON e.person_id = p.id "
     "GROUP BY p.name, t.team_name", (), False),
    ("join_semi_anti_via_exists", "SELECT id FROM {people} p WHERE NOT EXISTS "
     "(SELECT 1 FROM {teams} t WHERE t.team_id = p.team_id)", (), False),
    # --- set operations
    ("union", "SELECT city FROM {people} UNION SELECT team_name FROM {teams}", (), False),
    ("union_all", "SELECT city FROM {people} UNION ALL SELECT team_name FROM {teams}", (), False),
    ("intersect", "SELECT team_id FROM {people} INTERSECT SELECT team_id FROM {teams}", (),
     False),
    ("intersect_all", "SELECT team_id FROM {people} INTERSECT ALL SELECT team_id FROM "
     "(SELECT team_id FROM {teams} UNION ALL SELECT 1) AS s", (), False),
    ("except", "SELECT team_id FROM {teams} EXCEPT SELECT team_id FROM {people}", (), False),
    ("except_all", "SELECT team_id FROM {people} EXCEPT ALL SELECT team_id FROM {teams}", (),
     False),
    ("set_op_order_limit", "SELECT id FROM {people} UNION ALL SELECT team_id FROM {teams} "
     "ORDER BY 1 DESC LIMIT 4", (), True),
    # --- subqueries
    ("subquery_scalar", "SELECT id, salary - (SELECT avg(salary) FROM {people}) AS d "
     "FROM {people}", (), False),
    ("subquery_in", "SELECT id FROM {people} WHERE team_id IN (SELECT team_id FROM {teams} "
     "WHERE budget > 90)", (), False),
    ("subquery_not_in_with_null", "SELECT id FROM {people} WHERE age NOT IN "
     "(SELECT age FROM {people} WHERE city = 'Rome')", (), False),
    ("subquery_exists_correlated", "SELECT name FROM {people} p WHERE EXISTS (SELECT 1 FROM "
     "{events} e WHERE e.person_id = p.id AND e.kind = 'buy')", (), False),
    ("subquery_scalar_correlated", "SELECT name, (SELECT count(*) FROM {events} e WHERE "
     "e.person_id = p.id) AS n FROM {people} p", (), False),
    ("subquery_in_from", "SELECT city, n FROM (SELECT city, count(*) AS n FROM {people} "
     "GROUP BY city) AS s WHERE n > 1", (), False),
    # --- windows
    ("window_ranking", "SELECT id, city, row_number() OVER (PARTITION BY city ORDER BY id) AS rn, "
     "rank() OVER (ORDER BY age) AS r, dense_rank() OVER (ORDER BY age) AS dr FROM {people}", (),
     False),
    ("window_aggregate_partition", "SELECT id, sum(salary) OVER (PARTITION BY city) AS s, "
     "count(*) OVER () AS n FROM {people}", (), False),
    ("window_running", "SELECT eid, sum(value) OVER (ORDER BY ts) AS run FROM {events}", (),
     False),
    ("window_frame_rows", "SELECT eid, avg(value) OVER (ORDER BY eid ROWS BETWEEN 2 PRECEDING "
     "AND 1 FOLLOWING) AS a FROM {events}", (), False),
    ("window_frame_range", "SELECT id, sum(age) OVER (ORDER BY age RANGE BETWEEN 5 PRECEDING AND "
     "CURRENT ROW) AS s FROM {people}", (), False),
    ("window_frame_groups", "SELECT id, age, sum(salary) OVER (ORDER BY age GROUPS BETWEEN 1 "
     "PRECEDING AND CURRENT ROW) AS s, count(*) OVER (ORDER BY age DESC GROUPS BETWEEN 1 "
     "FOLLOWING AND 2 FOLLOWING) AS c, min(name) OVER (PARTITION BY team_id ORDER BY city "
     "NULLS FIRST GROUPS 1 PRECEDING) AS m FROM {people}", (), False),
    ("window_frame_groups_values", "SELECT eid, avg(value) OVER (PARTITION BY kind ORDER BY "
     "person_id GROUPS BETWEEN 2 PRECEDING AND 1 PRECEDING) AS a, min(eid) OVER "
     "(ORDER BY person_id GROUPS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS f, "
     "last_value(value) OVER (ORDER BY value NULLS FIRST GROUPS BETWEEN CURRENT ROW AND "
     "1 FOLLOWING) AS l FROM {events}", (), False),
    ("window_frame_groups_no_order", "SELECT id, sum(age) OVER (PARTITION BY city GROUPS "
     "BETWEEN 1 PRECEDING AND CURRENT ROW) AS s FROM {people}", (), False),
    ("window_lag_lead", "SELECT eid, lag(value) OVER (PARTITION BY kind ORDER BY ts) AS prev, "
     "lead(value, 2, 0.0) OVER (PARTITION BY kind ORDER BY ts) AS nxt FROM {events}", (), False),
    ("window_first_last_value", "SELECT id, first_value(name) OVER w AS f, last_value(name) OVER "
     "(w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS l FROM {people} "
     "WINDOW w AS (PARTITION BY city ORDER BY id)", (), False),
    ("window_named", "SELECT id, rank() OVER w, sum(salary) OVER w FROM {people} "
     "WINDOW w AS (PARTITION BY team_id ORDER BY salary)", (), False),
    ("window_ntile_percent", "SELECT id, ntile(3) OVER (ORDER BY id) AS t, "
     "percent_rank() OVER (ORDER BY id) AS pr, cume_dist() OVER (ORDER BY id) AS cd "
     "FROM {people}", (), False),
    ("qualify", "SELECT city, name FROM {people} QUALIFY row_number() OVER (PARTITION BY city "
     "ORDER BY salary DESC) = 1", (), False),
    ("qualify_alias", "SELECT city, name, rank() OVER (PARTITION BY city ORDER BY age) AS r "
     "FROM {people} QUALIFY r <= 1 ORDER BY city NULLS FIRST, name NULLS FIRST", (), True),
    ("qualify_nulls_and_lag", "SELECT eid, kind FROM {events} QUALIFY lag(value) OVER "
     "(PARTITION BY kind ORDER BY eid) IS NULL", (), False),
    ("qualify_named_window", "SELECT id FROM {people} WINDOW w AS (PARTITION BY team_id "
     "ORDER BY salary DESC NULLS LAST, id) QUALIFY row_number() OVER w = 1", (), False),
    ("qualify_grouped", "SELECT city, sum(salary) AS s FROM {people} GROUP BY city "
     "QUALIFY rank() OVER (ORDER BY sum(salary) DESC NULLS LAST) <= 2", (), False),
    ("qualify_where_having", "SELECT team_id, count(*) AS n FROM {people} WHERE age > 20 "
     "GROUP BY team_id HAVING count(*) > 0 QUALIFY n = max(n) OVER ()", (), False),
    ("qualify_before_distinct", "SELECT DISTINCT city FROM {people} "
     "QUALIFY row_number() OVER (ORDER BY id) <= 5", (), False),
    ("qualify_before_limit", "SELECT id, age FROM {people} QUALIFY age > avg(age) OVER () "
     "ORDER BY id DESC LIMIT 2", (), True),
    ("qualify_empty_input", "SELECT id FROM {people} WHERE id < 0 "
     "QUALIFY row_number() OVER (ORDER BY id) = 1", (), False),
    ("qualify_in_subquery_and_cte", "WITH top AS (SELECT person_id, value FROM {events} "
     "QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY value DESC NULLS LAST, eid) = 1) "
     "SELECT count(*), sum(value) FROM (SELECT * FROM top QUALIFY "
     "dense_rank() OVER (ORDER BY value) > 2) AS s", (), False),
    ("qualify_union_arms", "SELECT id FROM {people} QUALIFY row_number() OVER (ORDER BY id) = 1 "
     "UNION ALL SELECT team_id FROM {teams} QUALIFY row_number() OVER (ORDER BY team_id DESC) = 1",
     (), False),
    ("qualify_view", "SELECT * FROM v", (
        "CREATE VIEW v AS SELECT city, max(age) AS m FROM {people} GROUP BY city "
        "QUALIFY row_number() OVER (ORDER BY max(age) DESC NULLS LAST) <= 3",), False),
    # --- CTEs
    ("cte", "WITH c AS (SELECT city, count(*) AS n FROM {people} GROUP BY city), "
     "d AS (SELECT * FROM c WHERE n > 1) SELECT * FROM d", (), False),
    ("cte_used_twice", "WITH c AS (SELECT id, age FROM {people}) SELECT a.id, b.id FROM c a "
     "JOIN c b ON a.age = b.age AND a.id < b.id", (), False),
    ("cte_recursive", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
     "WHERE n < 10) SELECT sum(n) FROM r", (), False),
    ("cte_recursive_rows", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
     "WHERE n < 10) SELECT n FROM r ORDER BY n", (), True),
    ("cte_recursive_union_cycle", "WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT (n + 1) % 3 "
     "FROM r) SELECT * FROM r", (), False),
    ("cte_recursive_union_dedups_anchor", "WITH RECURSIVE r(n) AS (SELECT * FROM (VALUES (1), (1), "
     "(2)) AS v(x) UNION SELECT n + 1 FROM r WHERE n < 4) SELECT * FROM r", (), False),
    ("cte_recursive_union_all_keeps_duplicates", "WITH RECURSIVE r(n) AS (SELECT * FROM "
     "(VALUES (1), (1)) AS v(x) UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r", (),
     False),
    ("cte_recursive_names_from_anchor", "WITH RECURSIVE r AS (SELECT 1 AS a, 'x' AS b UNION ALL "
     "SELECT a + 1, b || 'y' FROM r WHERE a < 4) SELECT * FROM r", (), False),
    ("cte_recursive_nulls_and_strings", "WITH RECURSIVE r(i, s, x) AS (SELECT 1, 'a', "
     "CAST(NULL AS INTEGER) UNION ALL SELECT i + 1, s || 'b', CASE WHEN i % 2 = 0 THEN i * 10 END "
     "FROM r WHERE i < 6) SELECT * FROM r", (), False),
    ("cte_recursive_cast_to_anchor_type", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
     "SELECT n + 0.5 FROM r WHERE n < 3) SELECT n FROM r", (), False),
    ("cte_recursive_empty_anchor", "WITH RECURSIVE r(n) AS (SELECT 1 WHERE false UNION ALL "
     "SELECT n + 1 FROM r) SELECT * FROM r", (), False),
    ("cte_recursive_transitive_closure", "WITH RECURSIVE e(a, b) AS (VALUES (1, 2), (2, 3), "
     "(3, 1), (4, 5), (5, NULL)), reach(src, dst) AS (SELECT a, b FROM e UNION SELECT reach.src, "
     "e.b FROM reach JOIN e ON reach.dst = e.a) SELECT * FROM reach", (), False),
    ("cte_recursive_over_table", "WITH RECURSIVE chain(eid, depth, v) AS (SELECT eid, 0, value "
     "FROM {events} WHERE eid = 3 UNION ALL SELECT e.eid, c.depth + 1, e.value FROM chain c "
     "JOIN {events} e ON e.eid = c.eid * 2) SELECT * FROM chain", (), False),
    ("cte_recursive_used_twice", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
     "WHERE n < 6), s AS (SELECT n * 10 AS m FROM r) SELECT r.n, s.m FROM r JOIN s ON s.m = "
     "r.n * 20", (), False),
    ("cte_recursive_subquery_in_recursive_term", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL "
     "SELECT n + 1 FROM (SELECT * FROM r) AS s WHERE n < 4) SELECT * FROM r", (), False),
    ("cte_recursive_fibonacci", "WITH RECURSIVE f(i, a, b) AS (SELECT 1, CAST(0 AS BIGINT), "
     "CAST(1 AS BIGINT) UNION ALL SELECT i + 1, b, a + b FROM f WHERE i < 80) "
     "SELECT max(a), count(*) FROM f", (), False),
    ("cte_recursive_many_iterations", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 "
     "FROM r WHERE n < 3000) SELECT count(*), sum(n), min(n), max(n) FROM r", (), False),
    ("cte_recursive_in_view", "SELECT * FROM v", (
        "CREATE VIEW v AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n * 2 FROM r "
        "WHERE n < 100) SELECT n FROM r",), False),
    # --- DDL / DML
    ("create_table_insert", "SELECT * FROM t", (
        "CREATE TABLE t (a INTEGER, b VARCHAR, c DOUBLE)",
        "INSERT INTO t VALUES (1, 'x', 1.5), (2, NULL, NULL)",
        "INSERT INTO t (b, a) VALUES ('y', 3)"), False),
    ("create_table_as", "SELECT * FROM t2 WHERE n > 1", (
        "CREATE TABLE t2 AS SELECT city, count(*) AS n FROM {people} GROUP BY city",), False),
    ("insert_select", "SELECT count(*), sum(id) FROM t", (
        "CREATE TABLE t AS SELECT id, name FROM {people} WHERE id < 4",
        "INSERT INTO t SELECT id, name FROM {people} WHERE id > 8"), False),
    ("create_view", "SELECT * FROM v", (
        "CREATE VIEW v AS SELECT name, age FROM {people} WHERE age > 30",), False),
    ("create_or_replace_view", "SELECT * FROM v", (
        "CREATE VIEW v AS SELECT 1 AS x",
        "CREATE OR REPLACE VIEW v AS SELECT name FROM {people} WHERE city = 'Rome'"), False),
    ("drop_table_if_exists", "SELECT * FROM t", (
        "CREATE TABLE t AS SELECT 1 AS x", "DROP TABLE t", "DROP TABLE IF EXISTS t",
        "DROP VIEW IF EXISTS nothing_here", "CREATE TABLE t AS SELECT 2 AS y"), False),
    ("table_from_file_then_join", "SELECT p.name, t.team_name FROM p JOIN t USING (team_id)", (
        "CREATE TABLE p AS SELECT * FROM {people}",
        "CREATE VIEW t AS SELECT * FROM {teams}"), False),
    # --- table functions and paths
    ("read_parquet_fn", "SELECT count(*), sum(value) FROM {events}", (), False),
    ("read_csv_fn", "SELECT kind, count(*), sum(value) FROM read_csv({events_csv}) GROUP BY kind",
     (), False),
    ("quoted_path", "SELECT * FROM {odd}", (), False),
    ("quoted_glob", "SELECT count(*), min(eid), max(eid) FROM {parts}", (), False),
    ("read_parquet_glob", "SELECT count(*) FROM read_parquet({parts})", (), False),
    # --- casts and types
    ("casts", "SELECT CAST(age AS VARCHAR) AS s, salary::INTEGER AS i, CAST('12' AS BIGINT) AS b, "
     "CAST(id AS DOUBLE) / 4 AS d, CAST(joined AS VARCHAR) AS dv, CAST('2024-01-02' AS DATE) AS "
     "dd, CAST(2.5::DOUBLE AS INTEGER) AS r FROM {people}", (), False),
    ("decimal_literal_cast", "SELECT CAST(2.5 AS INTEGER) AS a, CAST(-3.5 AS INTEGER) AS b, "
     "2.5 * 2 AS c", (), False),
    ("try_cast", "SELECT TRY_CAST(city AS INTEGER) AS x, TRY_CAST('42' AS INTEGER) AS y "
     "FROM {people}", (), False),
    ("integer_division_semantics", "SELECT 7 / 2 AS d, 7 // 2 AS i, -7 % 3 AS m, -7 // 2 AS q, "
     "age / 4 AS ad FROM {people}", (), False),
    ("string_functions", "SELECT upper(name), lower(city), length(name), substr(name, 2, 2), "
     "name || '-' || city, concat(name, city), replace(city, 'r', 'R'), trim('  x  '), "
     "starts_with(name, 'A'), contains(city, 'ri') FROM {people}", (), False),
    ("math_functions", "SELECT abs(value), round(value, 1), floor(value), ceil(value), "
     "sqrt(abs(value)), power(value, 2), ln(abs(value) + 1), greatest(value, 0), "
     "least(value, 0) FROM {events}", (), False),
    # --- dates and times
    ("date_functions", "SELECT joined, extract(year FROM joined) AS y, month(joined) AS m, "
     "day(joined) AS d, dayofweek(joined) AS dow, date_trunc('month', joined) AS mt, "
     "joined + INTERVAL '10 days' AS later, date_diff('day', joined, DATE '2024-06-01') AS dd "
     "FROM {people}", (), False),
    ("interval_duckdb_syntax", "SELECT joined + INTERVAL 10 DAY AS later FROM {people}", (),
     False),
    ("timestamp_functions", "SELECT ts, date_trunc('hour', ts) AS h, extract(minute FROM ts) AS "
     "mi, hour(ts) AS hh, ts + INTERVAL '90 minutes' AS later, strftime(ts, '%Y-%m-%d %H:%M') AS "
     "txt, CAST(ts AS DATE) AS d, epoch_us(ts) AS us FROM {events}", (), False),
    ("timestamp_difference", "SELECT date_diff('second', min(ts), max(ts)), "
     "epoch_us(max(ts)) - epoch_us(min(ts)) FROM {events}", (), False),
    ("interval_result", "SELECT max(ts) - min(ts) AS span FROM {events}", (), False),
    ("time_bucket", "SELECT time_bucket(INTERVAL '15 minutes', ts) AS b, count(*), "
     "sum(value) FROM {events} GROUP BY b", (), False),
    ("time_bucket_date_trunc_agree", "SELECT count(*) FROM {events} WHERE "
     "time_bucket(INTERVAL '1 hour', ts) <> date_trunc('hour', ts)", (), False),
]


@pytest.mark.parametrize("query,setup,ordered", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_feature(sql, query, setup, ordered):
    sql.check(query, setup, ordered)


def test_copy_to_parquet_then_read_back(sql, tmp_path):
    out = tmp_path / "copy_out.parquet"
    q = ("SELECT city, count(*) AS n, sum(salary) AS s FROM {people} GROUP BY city")
    r = sql.polaroid([f"COPY ({q}) TO '{out}' (FORMAT parquet)"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    assert pq.ParquetFile(out).metadata.num_rows == 5  # Paris Berlin Rome Oslo NULL
    # polaroid reads back what it wrote; DuckDB's own result of the query is the reference
    sql.check(f"SELECT * FROM read_parquet('{out}')", ())
    import duckdb
    import compare
    expected = duckdb.sql(sql.fmt(q)).to_arrow_table()
    assert compare.compare_tables(expected, pq.read_table(out)) is None


def test_copy_to_csv(sql, tmp_path):
    out = tmp_path / "copy_out.csv"
    r = sql.polaroid([f"COPY (SELECT id, name, age FROM {{people}} ORDER BY id) TO '{out}' "
                      "(FORMAT csv, HEADER)"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    import duckdb
    import compare
    exp = duckdb.sql(sql.fmt("SELECT id, name, age FROM {people} ORDER BY id")).to_arrow_table()
    got = duckdb.sql(f"SELECT * FROM read_csv('{out}')").to_arrow_table()
    assert compare.compare_tables(exp, got, ordered=True) is None


def test_output_formats_agree(sql):
    """csv output of a query equals DuckDB's CSV rendering of the same result."""
    q = "SELECT id, name, salary, joined FROM {people} ORDER BY id"
    r = sql.polaroid([q], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    import duckdb
    rows = duckdb.sql(sql.fmt(q)).fetchall()
    lines = r.stdout.decode().strip().splitlines()
    assert lines[0] == "id,name,salary,joined"
    assert len(lines) == len(rows) + 1
    assert lines[1] == "1,Ann,5200.5,2019-03-01"
    assert lines[10].startswith("10,,")


def test_format_none_prints_row_count(sql):
    r = sql.polaroid(["SELECT * FROM {events} WHERE value > 0"], fmt="none")
    assert r.returncode == 0, r.stderr.decode()
    import duckdb
    n = duckdb.sql(sql.fmt("SELECT count(*) FROM {events} WHERE value > 0")).fetchall()[0][0]
    assert str(n) in r.stdout.decode()


def test_threads_give_the_same_result(sql):
    q = ("SELECT kind, count(*), sum(value), min(ts) FROM {events} GROUP BY kind")
    outs = []
    for t in ("1", "2", "4"):
        r = sql.polaroid([q + " ORDER BY kind"], fmt="csv", extra=("--threads", t))
        assert r.returncode == 0, r.stderr.decode()
        outs.append(r.stdout)
    assert outs[0] == outs[1] == outs[2]


def test_explain(sql):
    r = sql.polaroid(["EXPLAIN SELECT city, count(*) FROM {people} WHERE age > 30 GROUP BY city"],
                     fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode().lower()
    assert "agg" in text or "group" in text


def test_data_dir_exists(data):
    assert os.path.exists(data["people"])


NULL_STRINGS = [
    ("compare", "SELECT s > 'a', s <= 'b', s = 'a', s <> 'a' FROM (SELECT NULL::varchar AS s) t"),
    ("in_between", "SELECT s IN ('a', 'b'), s BETWEEN 'a' AND 'c' FROM (VALUES ('b'), (NULL)) v(s)"),
    ("values_where", "SELECT x FROM (VALUES (1, 'a'), (3, 'b'), (5, NULL)) v(x, s) WHERE s > 'a'"),
    ("all_null_column", "SELECT count(*) FILTER (WHERE s < 'z') AS n, min(s), max(s) FROM "
                        "(VALUES (NULL), (NULL)) v(s)"),
]


@pytest.mark.parametrize("name,query", NULL_STRINGS, ids=[n for n, _ in NULL_STRINGS])
def test_null_string_columns(sql, name, query):
    """String columns made only of NULLs (NULL::varchar, VALUES with NULL) in comparisons: they
    once had no byte buffer and the ordering kernels read through it."""
    sql.check(query)


AGG_CONSTANTS = [
    ("plain", "SELECT count(1), count(NULL), sum(1), sum(2.5), max('x'), min(3), avg(2), "
              "count(DISTINCT 1), string_agg('a', ',') FROM {people}"),
    ("grouped", "SELECT city, count(1) AS n, sum(2) AS s, max('k') AS m FROM {people} GROUP BY city"),
    ("empty", "SELECT count(1), sum(1), max('x') FROM {people} WHERE false"),
    ("empty_grouped", "SELECT city, count(1) FROM {people} WHERE false GROUP BY city"),
    ("filter", "SELECT count(1) FILTER (WHERE age > 30) AS n, sum(10) FILTER (WHERE city = 'Paris') "
               "AS s FROM {people}"),
    ("two_values", "SELECT arg_max('k', age) AS a, covar_pop(age, 1) AS c FROM {people}"),
    ("with_parameters", "SELECT median(2) AS m, quantile_cont(3, 0.25) AS q FROM {people}"),
]


@pytest.mark.parametrize("name,query", AGG_CONSTANTS, ids=[n for n, _ in AGG_CONSTANTS])
def test_aggregate_of_constant(sql, name, query):
    """count(1), sum(2.5), max('x'): the constant becomes a column for the aggregation (was
    refused: 'aggregate count over a constant')."""
    sql.check(query)
