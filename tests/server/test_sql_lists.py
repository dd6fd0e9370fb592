"""List values through the server: SQL results with list columns (built by ARRAY[...] and
string_split, from list(), unnested) come back to the Python client over Arrow IPC (and the
same-host shared-memory path) and equal DuckDB's."""
from __future__ import annotations

import pyarrow as pa

from helpers import assert_same, duck

TR = "read_parquet('trades/*.parquet')"


def test_sql_list_columns(pdc, data):
    q = ("SELECT g, list_sort(list(id)) AS ids, len(list(id)) AS n, ARRAY[g, g || '!'] AS pair, "
         "string_split('a,b', ',') AS parts FROM {src} GROUP BY g")
    got = pdc.sql(q.format(src="read_parquet('trades/*.parquet')")).collect()
    exp = duck(q.format(src=TR), data.root)
    assert pa.types.is_list(got.schema.field("ids").type)
    assert_same(got.select(["g", "n"]), exp.select(["g", "n"]), sort=True)
    gd = {r["g"]: (r["ids"], r["pair"], r["parts"]) for r in got.to_pylist()}
    ed = {r["g"]: (r["ids"], r["pair"], r["parts"]) for r in exp.to_pylist()}
    assert gd == ed


def test_sql_unnest(pdc, data):
    q = "SELECT g, unnest(ARRAY[g, NULL, g * 2]) AS v FROM (SELECT DISTINCT q % 5 AS g FROM {src}) s"
    got = pdc.sql(q.format(src="read_parquet('trades/*.parquet')")).collect()
    exp = duck(q.format(src=TR), data.root)
    assert_same(got, exp, sort=True)
