"""ASOF / SEMI / ANTI JOIN through the server's SQL path (the keyword rewrite and the as-of
operator run server-side) and the DataFrame API's as-of join (a plan shipped to the server),
compared with DuckDB."""
from __future__ import annotations

import pytest

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


@pytest.mark.parametrize("op", [">=", ">", "<=", "<"])
@pytest.mark.parametrize("how", ["asof", "asof_left"])
def test_dataframe_asof_join(pdc, data, how, op):
    """The DataFrame API's as-of join (Join.JOIN_ASOF[_LEFT], asof_op) vs DuckDB: on (g, ts), the
    last key being the inequality; keys named by `on` appear once, from the left."""
    import polaroid as pd
    t = pdc.read_parquet("trades/*.parquet").select("id", "g", "ts")
    q = (pdc.read_parquet("trades/*.parquet").filter(pd.col("id") % 7 == 3)
         .select("g", "ts", pd.col("id").alias("qid")))
    got = t.join(q, on=["g", "ts"], how=how, asof_op=op).collect()
    kind = "ASOF JOIN" if how == "asof" else "ASOF LEFT JOIN"
    exp = duck(f"SELECT t.id, t.g, t.ts, q.qid FROM {TR} t {kind} (SELECT g, ts, id AS qid FROM {TR} "
               f"WHERE id % 7 = 3) q ON t.g = q.g AND t.ts {op} q.ts", data.root)
    assert got.column_names == ["id", "g", "ts", "qid"]
    assert_same(got, exp, sort=True)


def test_dataframe_asof_errors(pdc):
    import polaroid as pd
    t = pdc.read_parquet("trades/*.parquet").select("id", "g", "ts")
    with pytest.raises(ValueError):
        t.join(t, on="ts", how="asof", asof_op="==")
    with pytest.raises(pd.PolaroidError):
        t.join(t, on="ts", how="asof", nulls_equal=True).collect()
