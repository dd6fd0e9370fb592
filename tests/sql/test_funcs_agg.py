"""DuckDB's further aggregates (src/exec/agg: product, bit_and, bit_or, bit_xor, skewness,
kurtosis, kurtosis_pop, fsum/sumkahan/kahan_sum, approx_count_distinct, mode, entropy) against
DuckDB: ungrouped and grouped (few groups, many groups past the split threshold, one and two
threads so partial states are combined), DISTINCT and FILTER, NULL and all-NULL groups, empty
input, NaN, infinities, int64 extremes and decimals. mode's ties are broken differently (DuckDB:
hash order; polaroid: the value seen first), so the data here has no ties for mode."""
import pytest

V = ("(SELECT * FROM (VALUES "
     "(1, 'a', 1.5::DOUBLE, 3::BIGINT, 1.25::DECIMAL(10,2), 'x'), "
     "(2, 'a', -2.0, 5, 2.50, 'y'), "
     "(3, 'a', 4.0, 5, NULL, 'y'), "
     "(4, 'b', NULL, NULL, 3.75, NULL), "
     "(5, 'b', 0.5, 12, -1.00, 'z'), "
     "(6, 'b', 8.0, 12, 0.10, 'z'), "
     "(7, 'b', 0.5, 7, 0.10, 'z'), "
     "(8, 'c', NULL, NULL, NULL, NULL), "
     "(9, 'd', 2.0, -9223372036854775807, 5.55, 'w'), "
     "(10, 'd', 3.0, 9223372036854775807, 6.66, 'w'), "
     "(11, 'd', 10.0, -1, 7.77, 'v'), "
     "(12, 'd', 3.0, 0, 1.11, 'w'), "
     "(13, 'e', 'nan'::DOUBLE, 1, 1.00, 'u'), "
     "(14, 'e', 1.0, 2, 2.00, 'u'), "
     "(15, 'f', 'inf'::DOUBLE, 4, 3.00, 't')) t(k, g, x, i, d, s))")

CASES = [
    ("ungrouped", f"SELECT product(x) AS p, bit_and(i) AS ba, bit_or(i) AS bo, bit_xor(i) AS bx, "
                  f"fsum(x) AS f, sumkahan(d) AS fd, kahan_sum(i) AS fi, "
                  f"approx_count_distinct(s) AS a, entropy(s) AS e FROM {V} WHERE x IS NULL OR x < 100"),
    ("grouped", f"SELECT g, product(x) AS p, bit_and(i) AS ba, bit_or(i) AS bo, bit_xor(i) AS bx, "
                f"fsum(x) AS f, approx_count_distinct(i) AS a, entropy(i) AS e, entropy(s) AS es, "
                f"product(d) AS pd FROM {V} GROUP BY g"),
    ("moments", f"SELECT g, skewness(x) AS sk, kurtosis(x) AS ku, kurtosis_pop(x) AS kp, "
                f"skewness(d) AS skd, kurtosis(d) AS kud FROM {V} WHERE g NOT IN ('e', 'f') GROUP BY g"),
    ("moments_all", f"SELECT skewness(x) AS sk, kurtosis(x) AS ku, kurtosis_pop(x) AS kp "
                    f"FROM {V} WHERE isfinite(x)"),
    ("moments_small_n", "SELECT n, skewness(v) AS sk, kurtosis(v) AS ku, kurtosis_pop(v) AS kp "
                        "FROM (SELECT n, (i * 7 % 5)::DOUBLE AS v FROM range(1, 6) a(n), range(0, 6) b(i) "
                        "WHERE i < n) GROUP BY n"),
    ("moments_constant", "SELECT skewness(1.0) AS sk, kurtosis(2) AS ku, kurtosis_pop(x) AS kp "
                         "FROM (VALUES (3.0), (3.0), (3.0), (3.0), (3.0)) t(x)"),
    ("mode", f"SELECT g, mode(s) AS m, mode(d) AS md FROM {V} WHERE g IN ('b', 'c', 'd', 'e') AND "
             f"k NOT IN (13, 14) GROUP BY g"),
    ("mode_ints", "SELECT g, mode(v) AS m FROM (SELECT i % 10 AS g, CASE WHEN i % 7 = 0 THEN g * 3 "
                  "ELSE i END AS v FROM (SELECT i, i % 10 AS g FROM range(5000) t(i))) GROUP BY g"),
    ("mode_within_group", "SELECT mode() WITHIN GROUP (ORDER BY x) AS m FROM (VALUES (1), (2), (2), (5)) t(x)"),
    ("distinct", f"SELECT g, product(DISTINCT x) AS p, bit_xor(DISTINCT i) AS bx, entropy(DISTINCT s) AS e, "
                 f"fsum(DISTINCT i) AS f, skewness(DISTINCT x) AS sk, bit_and(DISTINCT i) AS ba FROM {V} "
                 f"WHERE g <> 'f' GROUP BY g"),
    ("filter", f"SELECT g, product(x) FILTER (WHERE k > 2) AS p, bit_or(i) FILTER (WHERE k % 2 = 0) AS bo, "
               f"entropy(s) FILTER (WHERE k > 100) AS e, mode(s) FILTER (WHERE k > 100) AS m, "
               f"approx_count_distinct(s) FILTER (WHERE k < 6) AS a, fsum(x) FILTER (WHERE k > 100) AS f "
               f"FROM {V} GROUP BY g"),
    ("all_null", "SELECT product(x) AS p, bit_and(x) AS b, fsum(x) AS f, skewness(x) AS s, kurtosis(x) AS k, "
                 "entropy(x) AS e, mode(x) AS m, approx_count_distinct(x) AS a "
                 "FROM (VALUES (NULL::INT), (NULL)) t(x)"),
    ("empty", "SELECT product(x) AS p, bit_or(x) AS b, fsum(x) AS f, kurtosis_pop(x) AS k, entropy(x) AS e, "
              "mode(x) AS m, approx_count_distinct(x) AS a FROM range(0) t(x)"),
    ("empty_grouped", "SELECT x % 2 AS g, product(x) AS p, entropy(x) AS e FROM range(0) t(x) GROUP BY g"),
    ("fsum_cancellation", "SELECT fsum(x) AS f, sumkahan(x) AS k FROM (VALUES (1e100), (1.0), (-1e100), "
                          "(1e-20), (3.0)) t(x)"),
    ("fsum_many", "SELECT g, fsum(v) AS f FROM (SELECT i % 3 AS g, (CASE WHEN i % 2 = 0 THEN 1e16 ELSE -1e16 END) "
                  "+ (i % 10) * 0.1 AS v FROM range(100000) t(i)) GROUP BY g"),
    ("fsum_inf_nan", "SELECT fsum(x) AS f FROM (VALUES (1.0), ('inf'::DOUBLE), (2.0)) t(x)"),
    ("bit_types", "SELECT bit_and(x::TINYINT) AS a, bit_or(x::SMALLINT) AS b, bit_xor(x::UTINYINT) AS c, "
                  "bit_or(x::UBIGINT) AS d, typeof(bit_and(x::TINYINT)) AS t FROM (VALUES (3), (5), (6)) t(x)"),
    ("bit_extremes", "SELECT bit_and(x) AS a, bit_or(x) AS b, bit_xor(x) AS c FROM (VALUES "
                     "(-9223372036854775808), (9223372036854775807), (-1)) t(x)"),
    ("arg_max_n", "SELECT arg_max(x, y, 2) AS a, arg_min(x, y, 2) AS b, max_by(x, y, 3) AS c, min_by(s, y, 10) AS d, "
                  "min(x, 2) AS e, max(y, 3) AS f, max(s, 2) AS g, typeof(arg_max(x, y, 2)) AS t FROM (VALUES "
                  "(1, 5, 'p'), (2, 3, 'q'), (3, 9, NULL), (4, NULL, 'r'), (NULL, 7, 's'), (6, 8, 't')) t(x, y, s)"),
    ("arg_max_n_grouped", f"SELECT g, arg_max(k, x, 2) AS a, arg_min(s, i, 3) AS b, min(d, 2) AS c, max(s, 1) AS e, "
                          f"arg_max(k, i, 2) FILTER (WHERE k > 3) AS f FROM {V} WHERE g NOT IN ('b', 'd') GROUP BY g"),
    ("arg_max_n_empty", "SELECT arg_max(x, y, 2) AS a, min(x, 3) AS b FROM (VALUES (1, 5)) t(x, y) WHERE x > 5"),
    ("arg_max_n_many_groups", "SELECT i % 5000 AS g, arg_max(i, (i * 7919) % 100003, 3) AS a, min(i, 2) AS b "
                              "FROM range(100000) t(i) GROUP BY g"),
    ("product_overflow", "SELECT product(x) AS p FROM (VALUES (1e200), (1e200), (-1.0)) t(x)"),
    ("product_ints", "SELECT product(x) AS p, typeof(product(x)) AS t FROM (VALUES (9223372036854775807), (2)) t(x)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_agg_funcs(sql, name, query):
    sql.check(query)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_agg_funcs_many_groups(sql, threads):
    """300k groups: the group tables split into partitions and the workers' states combine."""
    q = ("SELECT i % 300007 AS g, product(v) AS p, bit_xor(i) AS bx, bit_and(i | 1) AS ba, fsum(v) AS f, "
         "skewness(v) AS sk, kurtosis(v) AS ku, entropy(i % 3) AS e, approx_count_distinct(i % 5) AS a "
         "FROM (SELECT i, ((i * 7919) % 1000) / 100.0 - 3 AS v FROM range(600000) t(i)) GROUP BY g")
    sql.check(q, extra=("--threads", threads))


def test_agg_funcs_many_groups_holistic(sql):
    q = ("SELECT i % 20011 AS g, mode(i % 20011 + (CASE WHEN i % 4 = 0 THEN 0 ELSE i END)) AS m, "
         "entropy(i % 7) AS e FROM range(200000) t(i) GROUP BY g")
    sql.check(q)


def test_kurtosis_out_of_range(sql):
    sql.error(["SELECT kurtosis(x) FROM (VALUES (1e200), (1), (1), (2)) t(x)"], "kurtosis")


def test_kurtosis_nan(sql):
    sql.error(["SELECT kurtosis_pop(x) FROM (VALUES ('nan'::DOUBLE), (1.0)) t(x)"], "kurtosis")


def test_skewness_out_of_range(sql):
    sql.error(["SELECT skewness(x) FROM (VALUES (1e200), (1), (1), (2)) t(x)"], "skewness")


def test_approx_count_distinct_large(sql):
    """DuckDB's HyperLogLog is approximate (about 2 % off here); polaroid counts exactly: both
    within 3 % of the exact count."""
    q = "SELECT approx_count_distinct(x * 7 % 1000003) AS a FROM range(300000) t(x)"
    exact = sql.duckdb(["SELECT count(DISTINCT x * 7 % 1000003) AS a FROM range(300000) t(x)"]).column(0)[0].as_py()
    duck = sql.duckdb([q]).column(0)[0].as_py()
    r = sql.polaroid([q], fmt="csv")
    assert r.returncode == 0, r.stderr
    got = int(r.stdout.decode().split()[-1])
    assert abs(duck - exact) <= 0.03 * exact
    assert abs(got - exact) <= 0.03 * exact


def test_approx_count_distinct_small_exact(sql):
    """polaroid's answer is the exact distinct count (DuckDB's sketch says 51 for these 50)."""
    r = sql.polaroid(["SELECT approx_count_distinct(x % 50) AS a, approx_count_distinct(x::VARCHAR) AS b, "
                      "approx_count_distinct(NULL::INT) AS c FROM range(200) t(x)"], fmt="csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["a,b,c", "50,200,0"]


@pytest.mark.parametrize("query,needle", [
    ("SELECT bit_and(x) FROM (VALUES (1.5)) t(x)", "bit_and"),
    ("SELECT product(s) FROM (VALUES ('a')) t(s)", "product"),
    ("SELECT kurtosis(s) FROM (VALUES ('a')) t(s)", "kurtosis"),
    ("SELECT arg_max(x, y, 0) FROM (VALUES (1, 5)) t(x, y)", "> 0"),
    ("SELECT arg_max(x, y, NULL) FROM (VALUES (1, 5)) t(x, y)", "null"),
    ("SELECT min(x, -1) FROM (VALUES (1, 5)) t(x, y)", "> 0"),
], ids=["bit_and_decimal", "product_string", "kurtosis_string", "arg_max_n_zero", "arg_max_n_null",
        "min_n_negative"])
def test_agg_func_type_errors(sql, query, needle):
    sql.error([query], needle)
