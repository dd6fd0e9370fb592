"""Semi-join reduction of grouped aggregates (src/plan/joinorder.c, reduce_groups): an aggregate
joined on its group keys to a filtered relation is computed only for that relation's keys
(TPC-H Q2, Q17, Q20). Results against DuckDB for the shapes that qualify (correlated scalar
subqueries, derived tables on either side of inner joins, left joins, NULL keys with = and IS
NOT DISTINCT FROM, composite and expression keys, HAVING) and for those that must not be
reduced (the aggregate on the preserved side of an outer join, a LIMIT over it); EXPLAIN shows
where the reduction applies."""
import pytest

from conftest import duckdb_parquet_tables, explain, parquet_views

GEN = {
    # 50000 rows, key k in 0..4999 with NULLs, k2 in 0..6, v
    "big": "SELECT i AS id, CASE WHEN i % 101 = 0 THEN NULL ELSE i % 5000 END AS k, i % 7 AS k2, "
           "(i * 7919) % 1000 AS v FROM range(50000) t(i)",
    # 1000 rows: id, a flag selecting ~3 %, a nullable key nk
    "small": "SELECT i AS id, CASE WHEN i % 31 = 0 THEN 1 ELSE 0 END AS flag, "
             "CASE WHEN i % 5 = 0 THEN NULL ELSE i * 3 END AS nk, i % 7 AS k2 FROM range(1000) t(i)",
    "mid": "SELECT i AS id, i % 7 AS k2, i % 2 AS flag FROM range(7) t(i)",
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return duckdb_parquet_tables(tmp_path_factory.mktemp("group_reduce"), GEN)


def views(tables):
    return parquet_views(tables)


AGG = "(SELECT k, count(*) AS n, sum(v) AS total FROM big GROUP BY k)"

REDUCED = {
    "corr_avg": "SELECT count(*) AS n, sum(b.v) AS s FROM big b, small s WHERE b.k = s.id "
                "AND s.flag = 1 AND b.v < (SELECT 0.8 * avg(v) FROM big b2 WHERE b2.k = s.id)",
    "corr_select_list": "SELECT s.id, (SELECT sum(v) FROM big WHERE big.k = s.nk) AS t FROM small s "
                        "WHERE s.flag = 1 ORDER BY s.id",
    "corr_two_keys": "SELECT s.id, s.k2 FROM small s WHERE s.flag = 1 AND s.id > "
                     "(SELECT 0.001 * sum(v) FROM big WHERE big.k = s.id AND big.k2 = s.k2) ORDER BY s.id",
    "inner_right": f"SELECT s.id, g.n, g.total FROM small s JOIN {AGG} g ON g.k = s.id "
                   "WHERE s.flag = 1 ORDER BY s.id",
    "inner_left": f"SELECT s.id, g.n, g.total FROM {AGG} g JOIN small s ON g.k = s.nk "
                  "WHERE s.flag = 1 ORDER BY s.id",
    "left_join": f"SELECT s.id, g.n, g.total FROM small s LEFT JOIN {AGG} g ON g.k = s.nk "
                 "WHERE s.flag = 1 ORDER BY s.id",
    "not_distinct": f"SELECT s.id, g.n FROM small s LEFT JOIN {AGG} g ON g.k IS NOT DISTINCT FROM s.nk "
                    "WHERE s.flag = 1 OR s.nk IS NULL ORDER BY s.id",
    "expr_key": "SELECT s.id, g.n FROM small s JOIN (SELECT k % 1000 AS km, count(*) AS n FROM big "
                "GROUP BY k % 1000) g ON g.km = s.id WHERE s.flag = 1 ORDER BY s.id",
    "having": "SELECT s.id, g.total FROM small s JOIN (SELECT k, sum(v) AS total FROM big GROUP BY k "
              "HAVING sum(v) > 4000) g ON g.k = s.id WHERE s.flag = 1 ORDER BY s.id",
    "composite": "SELECT s.id, g.k2, g.n FROM small s JOIN (SELECT k, k2, count(*) AS n FROM big "
                 "GROUP BY k, k2) g ON g.k = s.id AND g.k2 = s.k2 WHERE s.flag = 1 ORDER BY s.id",
    "keys_two_rels": "SELECT s.id, m.id AS mid, g.n FROM small s, mid m, (SELECT k, k2, count(*) AS n "
                     "FROM big GROUP BY k, k2) g WHERE g.k = s.id AND g.k2 = m.k2 AND s.flag = 1 "
                     "ORDER BY s.id, m.id",
}

NOT_REDUCED = {
    "right_preserved": f"SELECT count(*) AS n, count(s.id) AS matched, sum(g.total) AS t FROM small s "
                       f"RIGHT JOIN {AGG} g ON g.k = s.id AND s.flag = 1",
    "limit_barrier": "SELECT s.id, g.total FROM small s JOIN (SELECT k, sum(v) AS total FROM big "
                     "GROUP BY k ORDER BY total DESC, k LIMIT 40) g ON g.k = s.id WHERE s.flag = 1 "
                     "ORDER BY s.id",
    "corr_count": "SELECT s.id, (SELECT count(*) FROM big WHERE big.k = s.nk) AS c FROM small s "
                  "WHERE s.flag = 1 ORDER BY s.id",
}


@pytest.mark.parametrize("name", sorted(REDUCED) + sorted(NOT_REDUCED))
def test_group_reduce(sql, tables, name):
    q = REDUCED.get(name) or NOT_REDUCED[name]
    sql.check(q, setup=views(tables), ordered="ORDER BY" in q)


@pytest.mark.parametrize("name", ["corr_avg", "left_join", "not_distinct"])
def test_group_reduce_one_thread(sql, tables, name):
    sql.check(REDUCED[name], setup=views(tables), ordered="ORDER BY" in REDUCED[name],
              extra=("--threads", "1"))


def semi_under_aggregate(text):
    """Whether a SEMI join sits directly below a grouped AGGREGATE (through projections)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for i, ln in enumerate(lines):
        if ln.startswith("AGGREGATE BY"):
            for nxt in lines[i + 1:]:
                if nxt.startswith("PROJECT"):
                    continue
                if nxt.startswith("HASH JOIN SEMI"):
                    return True
                break
    return False


@pytest.mark.parametrize("name", ["corr_avg", "corr_select_list", "corr_two_keys", "inner_right",
                                  "inner_left", "left_join", "not_distinct", "expr_key", "having",
                                  "composite", "keys_two_rels"])
def test_reduction_applies(tables, tmp_path, name):
    out = explain(tmp_path, views(tables), REDUCED[name])
    assert semi_under_aggregate(out), out


@pytest.mark.parametrize("name", ["right_preserved", "limit_barrier", "volatile"])
def test_reduction_refused(tables, tmp_path, name):
    """Not reduced: the aggregate's rows are all kept (outer join), a LIMIT picks among them, or
    the relation giving the keys is not the same when computed twice (a volatile filter)."""
    q = NOT_REDUCED.get(name) or (f"SELECT s.id, g.n FROM (SELECT * FROM small WHERE flag = 1 "
                                  f"AND random() < 0.5) s JOIN {AGG} g ON g.k = s.id")
    out = explain(tmp_path, views(tables), q)
    assert not semi_under_aggregate(out), out
