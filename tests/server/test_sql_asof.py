"""ASOF / SEMI / ANTI JOIN through the server's SQL path (the keyword rewrite and the as-of
operator run server-side), compared with DuckDB."""
from __future__ import annotations

from helpers import assert_same, duck

TR = "read_parquet('trades/*.parquet')"


def test_sql_asof_join(pdc, data):
    q = ("SELECT t.id, t.g, t.ts, q.id AS qid, q.ts AS qts, q.x FROM {src} t ASOF LEFT JOIN "
         "(SELECT id, g, ts + INTERVAL 500 MILLISECOND AS ts, x FROM {src} WHERE id % 7 = 0) q "
         "ON t.g = q.g AND t.ts >= q.ts")
    got = pdc.sql(q.format(src=TR)).collect()
    exp = duck(q.format(src=TR), data.root)
    assert got.num_rows == data.trades.num_rows
    assert_same(got, exp, sort=True)


def test_sql_semi_anti_join(pdc, data):
    for kind in ("SEMI", "ANTI"):
        q = (f"SELECT t.id, t.g FROM {{src}} t {kind} JOIN read_parquet('groups.parquet') g "
             "ON t.g = g.g AND g.weight > 1")
        got = pdc.sql(q.format(src=TR)).collect()
        exp = duck(q.format(src=TR), data.root)
        assert_same(got, exp, sort=True)
