"""Join ordering (src/plan/joinorder.c): trees of inner joins written in a bad order (the big
table first, FROM lists that look like cross products, chains with filters, residual
conditions, NULL keys, outer/semi joins as barriers) give DuckDB's results; EXPLAIN shows that
the big table is never on a build side."""
import pytest

from conftest import duckdb_parquet_tables, explain, parquet_views

# big (20000 rows) -> mid (500) -> small (20) -> tiny (4); side joins mid on (a, b)
GEN = {
    "big": "SELECT i AS id, i % 500 AS mid_id, CASE WHEN i % 97 = 0 THEN NULL ELSE i % 20 END AS small_id, "
           "(i * 7919) % 1000 AS v, 'b' || (i % 13) AS name FROM range(20000) t(i)",
    "mid": "SELECT i AS id, i % 20 AS small_id, i % 7 AS a, i % 11 AS b, (i * 31) % 1000 AS w, "
           "'m' || (i % 5) AS name FROM range(500) t(i)",
    "small": "SELECT i AS id, i % 4 AS tiny_id, 'r' || (i % 3) AS name FROM range(20) t(i)",
    "tiny": "SELECT i AS id, CASE WHEN i = 3 THEN NULL ELSE 'k' || i END AS name FROM range(4) t(i)",
    "side": "SELECT i AS id, i % 7 AS a, i % 11 AS b, i % 3 AS c FROM range(77) t(i)",
}


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return duckdb_parquet_tables(tmp_path_factory.mktemp("joinorder"), GEN)


def views(tables):
    return parquet_views(tables)


QUERIES = {
    "big_first": "SELECT tiny.name, count(*) AS n, sum(big.v) AS s FROM big, mid, small, tiny "
                 "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND small.tiny_id = tiny.id "
                 "GROUP BY tiny.name ORDER BY tiny.name NULLS LAST",
    "cross_looking": "SELECT count(*) AS n, sum(big.v + mid.w) AS s FROM tiny, big, small, mid "
                     "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND small.tiny_id = tiny.id "
                     "AND tiny.name = 'k1'",
    "chain_filters": "SELECT small.name, count(*) AS n, min(big.id) AS lo, max(big.id) AS hi "
                     "FROM big JOIN mid ON big.mid_id = mid.id JOIN small ON mid.small_id = small.id "
                     "WHERE big.v < 300 AND mid.w >= 500 AND small.name <> 'r2' "
                     "GROUP BY small.name ORDER BY small.name",
    "residual": "SELECT count(*) AS n, sum(big.id) AS s FROM big, mid, small "
                "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND big.v < mid.w "
                "AND (small.name = 'r1' OR big.v > 900)",
    "null_keys": "SELECT count(*) AS n, count(DISTINCT big.id) AS d FROM big, small, tiny, mid "
                 "WHERE big.small_id = small.id AND small.tiny_id = tiny.id AND big.mid_id = mid.id "
                 "AND mid.small_id = small.id",
    "not_distinct": "SELECT count(*) AS n FROM big, small, tiny "
                    "WHERE big.small_id IS NOT DISTINCT FROM small.id AND small.tiny_id = tiny.id",
    "composite": "SELECT side.c, count(*) AS n, sum(big.v) AS s FROM big, side, mid "
                 "WHERE big.mid_id = mid.id AND mid.a = side.a AND mid.b = side.b "
                 "GROUP BY side.c ORDER BY side.c",
    "star_select": "SELECT * FROM big, mid, small, tiny WHERE big.mid_id = mid.id "
                   "AND mid.small_id = small.id AND small.tiny_id = tiny.id AND big.id < 60 "
                   "ORDER BY big.id",
    "disconnected": "SELECT tiny.id AS t, count(*) AS n FROM big, mid, tiny, small "
                    "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND big.id < 1000 "
                    "GROUP BY tiny.id ORDER BY tiny.id",
    "subquery_leaf": "SELECT g.small_id, g.n, small.name, tiny.name AS tname FROM "
                     "(SELECT small_id, count(*) AS n FROM big GROUP BY small_id) g, small, tiny, mid "
                     "WHERE g.small_id = small.id AND small.tiny_id = tiny.id AND mid.id = small.id "
                     "ORDER BY g.small_id",
    "outer_barrier": "SELECT count(*) AS n, count(tiny.name) AS tn, sum(big.v) AS s FROM big "
                     "JOIN mid ON big.mid_id = mid.id LEFT JOIN small ON mid.small_id = small.id "
                     "AND small.name = 'r0' JOIN side ON side.a = mid.a LEFT JOIN tiny ON tiny.id = small.tiny_id",
    "semi_anti": "SELECT count(*) AS n FROM big, mid, small WHERE big.mid_id = mid.id "
                 "AND mid.small_id = small.id AND EXISTS (SELECT 1 FROM tiny WHERE tiny.id = small.tiny_id "
                 "AND tiny.name IS NOT NULL) AND NOT EXISTS (SELECT 1 FROM side WHERE side.id = big.v)",
    "self_join": "SELECT count(*) AS n FROM big b1, mid, big b2, small "
                 "WHERE b1.mid_id = mid.id AND b2.id = b1.id + 1 AND mid.small_id = small.id "
                 "AND small.id < 5 AND b2.v > 100",
    "five_way": "SELECT tiny.name, side.c, count(*) AS n FROM big, side, tiny, mid, small "
                "WHERE small.tiny_id = tiny.id AND big.mid_id = mid.id AND mid.a = side.a "
                "AND mid.small_id = small.id AND side.b = 3 "
                "GROUP BY tiny.name, side.c ORDER BY tiny.name NULLS LAST, side.c",
    "in_memory": "SELECT count(*) AS n, sum(t.x) AS s FROM (SELECT * FROM big) b, "
                 "(VALUES (1, 10), (2, 20), (3, 30)) t(k, x), small "
                 "WHERE b.small_id = small.id AND small.tiny_id = t.k",
    # semi/anti joins over one relation of a region move onto it (push_semi)
    "in_subquery": "SELECT tiny.name, count(*) AS n, sum(big.v) AS s FROM big, mid, small, tiny "
                   "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND small.tiny_id = tiny.id "
                   "AND big.id IN (SELECT id * 3 FROM big WHERE v < 50) "
                   "GROUP BY tiny.name ORDER BY tiny.name NULLS LAST",
    "not_in_nulls": "SELECT count(*) AS n, sum(big.v) AS s FROM big, mid, small "
                    "WHERE big.mid_id = mid.id AND mid.small_id = small.id "
                    "AND big.small_id NOT IN (SELECT small_id FROM big WHERE id < 200)",
    "not_in_no_nulls": "SELECT count(*) AS n, sum(big.v) AS s FROM big, mid, small "
                       "WHERE big.mid_id = mid.id AND mid.small_id = small.id "
                       "AND mid.id NOT IN (SELECT id FROM mid WHERE w < 500)",
    "in_null_key": "SELECT count(*) AS n FROM big, mid, small WHERE big.mid_id = mid.id "
                   "AND mid.small_id = small.id AND big.small_id IN (SELECT id FROM small WHERE id < 7)",
    "stacked_in": "SELECT count(*) AS n, sum(mid.w) AS s FROM big, mid, small, tiny "
                  "WHERE big.mid_id = mid.id AND mid.small_id = small.id AND small.tiny_id = tiny.id "
                  "AND mid.id IN (SELECT mid_id FROM big WHERE v > 990) "
                  "AND small.id IN (SELECT small_id FROM mid WHERE a = 2) "
                  "AND big.v NOT IN (SELECT w FROM mid WHERE b = 4)",
    "two_table_in": "SELECT count(*) AS n FROM big JOIN mid ON big.mid_id = mid.id "
                    "WHERE mid.w IN (SELECT v FROM big WHERE id < 30)",
    "in_two_rels": "SELECT count(*) AS n FROM big, mid, small WHERE big.mid_id = mid.id "
                   "AND mid.small_id = small.id AND (big.v + mid.w) IN (SELECT v FROM big WHERE id < 50)",
    "exists_corr": "SELECT count(*) AS n FROM big, mid, small WHERE big.mid_id = mid.id "
                   "AND mid.small_id = small.id AND EXISTS (SELECT 1 FROM side WHERE side.a = mid.a "
                   "AND side.b = mid.b AND side.c = 1)",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_join_order(sql, tables, name):
    q = QUERIES[name]
    sql.check(q, setup=views(tables), ordered="ORDER BY" in q)


def test_join_order_threads(sql, tables):
    """The same plans with one worker."""
    sql.check(QUERIES["five_way"], setup=views(tables), ordered=True, extra=("--threads", "1"))


def plan_tree(text):
    """EXPLAIN text -> list of (depth, line), children follow their parent one level deeper."""
    out = []
    for ln in text.splitlines():
        if not ln.strip():
            continue
        depth = (len(ln) - len(ln.lstrip(" "))) // 2
        out.append((depth, ln.strip()))
    return out


def build_sides(tree):
    """For each HASH JOIN: the lines of its build-side subtree."""
    res = []
    for i, (dep, ln) in enumerate(tree):
        if not ln.startswith("HASH JOIN"):
            continue
        kids = []
        k = i + 1
        while k < len(tree) and tree[k][0] > dep:
            if tree[k][0] == dep + 1:
                kids.append(k)
            k += 1
        assert len(kids) == 2, tree
        b = kids[0] if "(build: left)" in ln else kids[1]
        end = b + 1
        while end < len(tree) and tree[end][0] > dep + 1:
            end += 1
        res.append([t[1] for t in tree[b:end]])
    return res


@pytest.mark.parametrize("name", ["big_first", "cross_looking", "chain_filters", "five_way", "null_keys"])
def test_join_order_big_table_probes(sql, tables, tmp_path, name):
    """The 20000-row table is never hashed: it stays on the probe side of every join, and no
    join is a cross product."""
    out = explain(tmp_path, views(tables), QUERIES[name])
    tree = plan_tree(out)
    sides = build_sides(tree)
    assert len(sides) >= 2, out
    for side in sides:
        assert not any("big.parquet" in ln for ln in side), out
    assert not any("CROSS" in ln for _, ln in tree), out


def test_semi_join_moves_onto_its_relation(sql, tables, tmp_path):
    """An IN (subquery) over one table of a join tree filters that table before the joins:
    in EXPLAIN the SEMI join sits below every inner join (TPC-H Q18's shape)."""
    out = explain(tmp_path, views(tables), QUERIES["in_subquery"])
    tree = plan_tree(out)
    semi = [d for d, ln in tree if ln.startswith("HASH JOIN SEMI")]
    inner = [d for d, ln in tree if ln.startswith("HASH JOIN INNER")]
    assert len(semi) == 1 and len(inner) == 3, out
    assert semi[0] > max(inner), out
