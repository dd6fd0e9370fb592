"""The sync API against a real `polaroid serve`, results compared with DuckDB and pyarrow on
the same files."""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as paipc
import pyarrow.parquet as pq
import pytest

import polaroid as pd
from helpers import assert_same, duck

TR = "read_parquet('trades/*.parquet')"


# ---------------------------------------------------------------- sources


def test_read_parquet_single(client, data):
    got = client.read_parquet("trades.parquet").collect()
    exp = pq.read_table(data.path("trades.parquet"))
    assert got.schema.names == exp.schema.names
    assert got.schema == exp.schema
    assert_same(got, exp)
    # dictionary-encoded strings on request (the engine keeps Parquet dictionaries)
    kept = client.read_parquet("trades.parquet").collect(keep_dictionaries=True)
    assert pa.types.is_dictionary(kept.schema.field("g").type)
    assert kept.column("g").to_pylist() == exp.column("g").to_pylist()
    batches = list(client.read_parquet("trades/*.parquet").iter_batches(keep_dictionaries=True,
                                                                        max_message_bytes=8192))
    assert sum(b.num_rows for b in batches) == 20_000
    assert pa.types.is_dictionary(batches[0].schema.field("name").type)


def test_read_parquet_glob_and_list(pdc, data):
    got = pdc.read_parquet("trades/*.parquet").sort("id").collect()
    assert_same(got, data.trades)
    got = pdc.read_parquet([f"trades/part-{i}.parquet" for i in (3, 1)]).sort("id").collect()
    exp = data.trades.filter(pc.or_(pc.and_(pc.greater_equal(data.trades["id"], 5000),
                                            pc.less(data.trades["id"], 10000)),
                                    pc.greater_equal(data.trades["id"], 15000)))
    assert_same(got, exp)


def test_read_csv(pdc, data):
    got = pdc.read_csv("trades.csv").sort("id").collect()
    exp = data.trades.drop_columns(["ts"])
    assert_same(got, exp)
    ref = duck("SELECT * FROM read_csv('trades.csv') ORDER BY id", data.root)
    assert_same(got, ref)


def test_read_ipc(pdc, data):
    got = pdc.read_ipc("trades.arrow").collect()
    assert_same(got, data.trades)


def test_read_options(client, data):
    got = client.read_parquet("trades.parquet", columns=["id", "x"], n_rows=10).collect()
    assert_same(got, data.trades.select(["id", "x"]).slice(0, 10))


def test_sql(pdc, data):
    got = pdc.sql("SELECT g, count(*) AS n, sum(q) AS sq FROM read_parquet('trades/*.parquet') "
                  "GROUP BY g").collect()
    exp = duck(f"SELECT g, count(*) AS n, sum(q) AS sq FROM {TR} GROUP BY g", data.root)
    assert_same(got, exp, sort=True)


def test_sql_named_frames(pdc, data):
    t = pdc.read_parquet("trades/*.parquet").filter("x > 100")
    gr = pdc.read_parquet("groups.parquet")
    got = pdc.sql("SELECT gr.label, count(*) AS n FROM t JOIN gr ON t.g = gr.g GROUP BY gr.label",
                  t=t, gr=gr).collect()
    exp = duck(f"SELECT gr.label, count(*) AS n FROM {TR} t JOIN read_parquet('groups.parquet') gr "
               "ON t.g = gr.g WHERE t.x > 100 GROUP BY gr.label", data.root)
    assert_same(got, exp, sort=True)


def test_sql_duckdb_forms(pdc, data):
    """FROM-first queries, DESCRIBE and SUMMARIZE are one-query requests too."""
    t = pdc.read_parquet("trades/*.parquet")
    got = pdc.sql("FROM t SELECT g, count(*) AS n WHERE x > 100 GROUP BY g", t=t).collect()
    exp = duck(f"SELECT g, count(*) AS n FROM {TR} WHERE x > 100 GROUP BY g", data.root)
    assert_same(got, exp, sort=True)
    got = pdc.sql("DESCRIBE t", t=t).collect()
    exp = duck(f"DESCRIBE SELECT * FROM {TR}", data.root)
    assert_same(got, exp)
    got = pdc.sql("SUMMARIZE t", t=t).collect()
    assert got.column("column_name").to_pylist() == t.collect().column_names
    assert got.column("count").to_pylist() == [t.collect().num_rows] * len(got)


def test_from_arrow_and_pandas(pdc):
    t = pa.table({"a": pa.array([3, 1, None, 2], type=pa.int64()),
                  "s": ["x", None, "z", "w"], "f": [0.5, 1.5, 2.5, None]})
    got = pdc.from_arrow(t).collect()
    assert got.equals(t)
    got = pdc.from_arrow(t).filter(pd.col("a") > 1).sort("a").collect()
    assert got.column("a").to_pylist() == [2, 3]
    import pandas

    pdf = pandas.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"]})
    got = pdc.from_pandas(pdf).to_pandas()
    pandas.testing.assert_frame_equal(got, pdf, check_dtype=False)


# ---------------------------------------------------------------- operations


def test_filter_string_and_expr(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    exp = duck(f"SELECT * FROM {TR} WHERE x > 100 AND g = 'a' ORDER BY id", data.root)
    assert_same(df.filter("x > 100 AND g = 'a'").sort("id").collect(), exp)
    assert_same(df.filter(pd.col("x") > 100, pd.col("g") == "a").sort("id").collect(), exp)
    assert_same(df.filter((pd.col("x") > 100) & (pd.col("g") == "a")).sort("id").collect(), exp)


def test_predicates(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    cases = [
        (pd.col("g").is_null(), "g IS NULL"),
        (pd.col("x").is_not_null() & ~pd.col("flag"), "x IS NOT NULL AND NOT flag"),
        (pd.col("g").is_in(["a", "c"]), "g IN ('a', 'c')"),
        (pd.col("q").between(-10, 10), "q BETWEEN -10 AND 10"),
        ((pd.col("q") % 7 == 0) | (pd.col("x") < 50), "q % 7 = 0 OR x < 50"),
        (pd.col("name").str.starts_with("name_1"), "starts_with(name, 'name_1')"),
        (pd.col("name").str.contains("_5"), "contains(name, '_5')"),
        (pd.col("ts") >= pd.lit(__import__("datetime").datetime(2024, 1, 2, 12, 0)),
         "ts >= TIMESTAMP '2024-01-02 12:00:00'"),
    ]
    for e, sql in cases:
        got = df.filter(e).select("id").sort("id").collect()
        exp = duck(f"SELECT id FROM {TR} WHERE {sql} ORDER BY id", data.root)
        assert_same(got, exp), sql


def test_select_expressions(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    got = df.select(
        "id",
        (pd.col("x") * 2 + 1).alias("x2"),
        (pd.col("q") // 3).alias("qd"),
        (pd.col("q") - pd.col("id")).alias("diff"),
        pd.col("x").cast("BIGINT", strict=False).alias("xi"),
        pd.col("g").str.upper().alias("gu"),
        pd.col("g").fill_null("?").alias("gf"),
        pd.col("name").str.len_chars().alias("nl"),
        (pd.col("q").abs()).alias("qa"),
    ).sort("id").collect()
    # // floors as in Python and Polars (SQL's // truncates)
    exp = duck(f"SELECT id, x * 2 + 1 AS x2, floor(q / 3) AS qd, q - id AS diff, TRY_CAST(x AS BIGINT) AS xi, "
               f"upper(g) AS gu, coalesce(g, '?') AS gf, length(name) AS nl, abs(q) AS qa "
               f"FROM {TR} ORDER BY id", data.root)
    assert_same(got, exp)


def test_with_columns_replace_and_add(pdc, data):
    df = pdc.read_parquet("trades.parquet").select("id", "x", "q")
    got = df.with_columns((pd.col("x") + 1).alias("x"), qq=pd.col("q") * 2).collect()
    assert got.column_names == ["id", "x", "q", "qq"]
    exp = duck("SELECT id, x + 1 AS x, q, q * 2 AS qq FROM read_parquet('trades.parquet')", data.root)
    assert_same(got, exp)
    # Polars-style naming: an unaliased expression keeps its column's name and replaces it
    got = df.with_columns(pd.col("q") * 10).collect()
    assert got.column_names == ["id", "x", "q"]
    assert got.column("q").to_pylist()[:5] == [None if v is None else v * 10
                                               for v in data.trades.column("q").to_pylist()[:5]]


def test_group_by_agg(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    got = df.group_by("g").agg(
        pd.col("x").sum().alias("sx"), pd.col("x").mean().alias("mx"), pd.col("q").min().alias("mn"),
        pd.col("q").max().alias("mxq"), pd.col("x").count().alias("cx"), pd.len_(),
        pd.col("name").n_unique().alias("nu"), pd.col("x").median().alias("med"),
        pd.col("x").std().alias("sd"), pd.col("x").var().alias("vr"),
        pd.col("g").first().alias("gf"), pd.col("g").last().alias("gl"),
    ).collect()
    exp = duck(f"SELECT g, sum(x) sx, avg(x) mx, min(q) mn, max(q) mxq, count(x) cx, count(*) len, "
               f"count(DISTINCT name) nu, median(x) med, stddev_samp(x) sd, var_samp(x) vr, "
               f"first(g) gf, last(g) gl FROM {TR} GROUP BY g", data.root)
    assert_same(got, exp, sort=True, rel=1e-6)


def test_group_by_implode(pdc, data):
    """implode(): each group's values as a list (SQL list(x)), NULLs included."""
    got = pdc.read_parquet("trades/*.parquet").group_by("g").agg(
        pd.col("q").implode().alias("qs"), n=pd.len_()).collect()
    exp = duck(f"SELECT g, list(q) qs, count(*) n FROM {TR} GROUP BY g", data.root)
    assert got.schema.field("qs").type.value_type == exp.schema.field("qs").type.value_type
    key = lambda v: (v is None, v)  # noqa: E731
    norm = lambda t: sorted((r["g"] is None, r["g"], sorted(r["qs"], key=key), r["n"])  # noqa: E731
                            for r in t.to_pylist())
    assert norm(got) == norm(exp)
    total = duck(f"SELECT count(*) c FROM {TR}", data.root).column("c")[0].as_py()
    assert sum(len(r["qs"]) for r in got.to_pylist()) == total


def test_group_by_expressions_and_multiple_keys(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    got = df.group_by("g", (pd.col("q") > 0).alias("pos")).agg(n=pd.len_(), s=pd.col("q").sum()).collect()
    exp = duck(f"SELECT g, q > 0 AS pos, count(*) n, sum(q) s FROM {TR} GROUP BY g, q > 0", data.root)
    assert_same(got, exp, sort=True)
    # whole-frame aggregation, also as Polars' select of aggregates
    exp = duck(f"SELECT sum(x) s, count(*) len FROM {TR}", data.root)
    got = df.agg(pd.col("x").sum().alias("s"), pd.len_()).collect()
    assert_same(got, exp, rel=1e-9)
    got = df.select(pd.col("x").sum().alias("s"), pd.len_()).collect()
    assert_same(got, exp, rel=1e-9)
    # an aggregation with FILTER
    got = df.group_by("g").agg(pd.col("q").sum().filter(pd.col("flag")).alias("s")).collect()
    exp = duck(f"SELECT g, sum(q) FILTER (WHERE flag) s FROM {TR} GROUP BY g", data.root)
    assert_same(got, exp, sort=True)


@pytest.mark.parametrize("how", ["inner", "left", "right", "full", "semi", "anti"])
def test_join_on(pdc, data, how):
    t = pdc.read_parquet("trades/*.parquet").select("id", "g", "q")
    gr = pdc.read_parquet("groups.parquet")
    got = t.join(gr, on="g", how=how).collect()
    if how in ("semi", "anti"):
        exp = duck(f"SELECT id, g, q FROM {TR} t {how.upper()} JOIN read_parquet('groups.parquet') gr "
                   "USING (g)", data.root)
    else:
        sql_how = {"full": "FULL OUTER"}.get(how, how.upper())
        key = {"right": "gr.g", "full": "coalesce(t.g, gr.g)"}.get(how, "t.g")
        # Polars' columns: a right join keeps the right's key among the right's columns
        cols = (f"t.id, t.q, {key} AS g, gr.label, gr.weight" if how == "right"
                else f"t.id, {key} AS g, t.q, gr.label, gr.weight")
        exp = duck(f"SELECT {cols} FROM {TR} t {sql_how} JOIN "
                   "read_parquet('groups.parquet') gr ON t.g = gr.g", data.root)
    assert_same(got, exp, sort=True)


def test_join_left_on_right_on_suffix(pdc, data):
    t = pdc.read_parquet("trades/*.parquet").select("id", "g", pd.col("q").alias("weight"))
    gr = pdc.read_parquet("groups.parquet")
    got = t.join(gr, left_on="g", right_on="g", how="inner", suffix="_gr").collect()
    assert "weight_gr" in got.column_names
    exp = duck(f"SELECT t.id, t.g, t.q AS weight, gr.g AS g_gr, gr.label, gr.weight AS weight_gr FROM {TR} t "
               "JOIN read_parquet('groups.parquet') gr ON t.g = gr.g", data.root)
    assert sorted(got.column("id").to_pylist()) == sorted(exp.column("id").to_pylist())
    assert_same(got.select(["id", "weight", "label", "weight_gr"]),
                exp.select(["id", "weight", "label", "weight_gr"]), sort=True)


def test_cross_join(pdc):
    a = pdc.from_arrow(pa.table({"a": [1, 2, 3]}))
    b = pdc.from_arrow(pa.table({"b": ["x", "y"]}))
    got = a.join(b, how="cross").collect()
    assert sorted(zip(got["a"].to_pylist(), got["b"].to_pylist())) == [
        (i, s) for i in (1, 2, 3) for s in ("x", "y")]


def test_sort(pdc, data):
    df = pdc.read_parquet("trades/*.parquet").select("id", "g", "x")
    got = df.sort("g", "x", descending=[False, True], nulls_last=True).select("g", "x").collect()
    exp = duck(f"SELECT g, x FROM {TR} ORDER BY g ASC NULLS LAST, x DESC NULLS LAST", data.root)
    assert_same(got, exp)
    got = df.sort(pd.col("x"), descending=True, nulls_last=False).select("x").collect()
    exp = duck(f"SELECT x FROM {TR} ORDER BY x DESC NULLS FIRST", data.root)
    assert_same(got, exp)
    got = df.sort("id", descending=True).head(3).collect()
    assert got.column("id").to_pylist() == [19999, 19998, 19997]


def test_unique_head_limit_slice(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    got = df.select("g").unique().collect()
    assert sorted(got.column("g").to_pylist(), key=lambda v: (v is None, v or "")) == ["a", "b", "c", "d", "e", None]
    got = df.unique(subset=["g"]).collect()
    assert got.num_rows == 6 and got.column_names == data.trades.column_names
    got = df.select("g", "flag").unique().collect()
    exp = duck(f"SELECT DISTINCT g, flag FROM {TR}", data.root)
    assert_same(got, exp, sort=True)
    s = df.sort("id")
    assert s.head(5).collect().column("id").to_pylist() == [0, 1, 2, 3, 4]
    assert s.limit(2).collect().num_rows == 2
    assert s.slice(100, 3).collect().column("id").to_pylist() == [100, 101, 102]
    assert s.slice(19_998).collect().column("id").to_pylist() == [19998, 19999]
    assert s[10:12].collect().column("id").to_pylist() == [10, 11]
    assert df.head(0).collect().num_rows == 0


def test_rename_drop_union(pdc, data):
    df = pdc.read_parquet("trades.parquet")
    got = df.rename({"id": "ID", "x": "price"}).drop("ts", "name").collect()
    assert got.column_names == ["ID", "g", "price", "q", "flag"]
    assert_same(got, data.trades.drop_columns(["ts", "name"]).rename_columns(["ID", "g", "price", "q", "flag"]))
    u = pd.concat([df.filter("id < 3").select("id"), df.filter("id >= 19998").select("id")])
    assert sorted(u.collect().column("id").to_pylist()) == [0, 1, 2, 19998, 19999]


# ---------------------------------------------------------------- results and metadata


def test_outputs(pdc, data):
    df = pdc.read_parquet("trades.parquet").select("id", "x", "q").sort("id").head(100)
    t = df.collect()
    assert df.to_arrow().equals(t)
    pdf = df.to_pandas()
    assert list(pdf.columns) == ["id", "x", "q"] and len(pdf) == 100
    import polars

    pl = df.to_polars()
    assert isinstance(pl, polars.DataFrame) and pl.shape == (100, 3)
    assert pl["id"].to_list() == list(range(100))
    arr = df.select("id", "x").to_numpy()
    assert arr.shape == (100, 2)
    np.testing.assert_allclose(arr[:, 0], np.arange(100))
    d = df.to_numpy(as_dict=True)
    assert set(d) == {"id", "x", "q"} and d["id"].dtype == np.int64
    # the Arrow PyCapsule stream
    assert pa.table(df).equals(t)
    assert polars.DataFrame(df).shape == (100, 3)


def test_iter_batches_streams(pdc, data):
    df = pdc.read_parquet("trades/*.parquet").sort("id")
    batches = list(df.iter_batches(max_message_bytes=16 * 1024))
    assert len(batches) > 10  # sliced under the message size
    assert all(b.nbytes <= 64 * 1024 for b in batches)
    assert_same(pa.Table.from_batches(batches), data.trades)
    rd = df.to_reader()
    assert rd.schema.names == data.trades.column_names
    assert rd.read_all().num_rows == data.trades.num_rows


def test_schema_columns_len_shape(pdc, data):
    df = pdc.read_parquet("trades/*.parquet")
    s = df.schema
    assert s.names == data.trades.column_names
    assert s.field("id").type == pa.int64() and s.field("x").type == pa.float64()
    assert s.field("ts").type == pa.timestamp("us")
    assert df.columns == data.trades.column_names
    assert len(df) == 20_000
    assert len(df.filter("x > 100")) == duck(f"SELECT count(*) FROM {TR} WHERE x > 100", data.root)[0][0].as_py()
    assert df.select("id", "g").shape == (20_000, 2)
    agg = df.group_by("g").agg(pd.col("x").sum())
    assert agg.schema.names == ["g", "x"]


def test_repr(pdc):
    df = pdc.read_parquet("trades.parquet").select("id", "g").sort("id")
    r = repr(df)
    assert "shape: (20000, 2)" in r and "id" in r and "int64" in r and "..." in r
    small = pdc.from_arrow(pa.table({"a": [1, 2]}))
    r = repr(small)
    assert "shape: (2, 1)" in r and "..." not in r
    bad = pdc.read_parquet("no_such_file.parquet")
    assert "error" in repr(bad)


def test_explain(pdc):
    df = pdc.read_parquet("trades.parquet").filter("x > 100").select("id", "x")
    logical = df.explain(optimized=False)
    opt = df.explain()
    assert isinstance(opt, str) and opt and logical
    assert "trades.parquet" in opt or "scan" in opt.lower()
    an = df.explain(analyze=True)
    assert an


def test_describe(pdc, data):
    d = pdc.read_parquet("trades.parquet").select("id", "x", "g").describe()
    assert d.column_names[0] == "statistic"
    stats = d.column("statistic").to_pylist()
    for s in ("count", "null_count", "min", "max", "mean"):
        assert s in stats
    row = {s: i for i, s in enumerate(stats)}
    x = data.trades.column("x")
    assert float(d.column("x")[row["null_count"]].as_py()) == x.null_count
    assert float(d.column("x")[row["count"]].as_py()) in (len(x) - x.null_count, len(x))
    assert float(d.column("id")[row["max"]].as_py()) == 19999
    assert abs(float(d.column("x")[row["mean"]].as_py()) - pc.mean(x).as_py()) < 1e-6


def test_write(pdc, data):
    df = pdc.read_parquet("trades/*.parquet").filter("q > 0").sort("id")
    exp = df.collect()
    r = df.write_parquet("out/w.parquet")
    assert r.rows == exp.num_rows
    assert_same(pq.read_table(data.path("out/w.parquet")), exp)
    df.select("id", "g", "x").write_csv("out/w.csv")
    back = pacsv.read_csv(data.path("out/w.csv"),
                          convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    assert_same(back, exp.select(["id", "g", "x"]))
    df.write_ipc("out/w.arrow")
    with pa.memory_map(data.path("out/w.arrow")) as f:
        try:
            back = paipc.open_file(f).read_all()
        except pa.ArrowInvalid:
            f.seek(0)
            back = paipc.open_stream(f).read_all()
    assert_same(back, exp)
    with pytest.raises(pd.AlreadyExistsError):
        df.write_parquet("out/w.parquet", overwrite=False)
    # what was written reads back through the server too
    assert len(pdc.read_parquet("out/w.parquet")) == exp.num_rows


def test_server_info_and_health(client):
    info = client.server_info()
    assert info.version
    assert "execute" in info.capabilities
    assert info.threads >= 1
    assert info.limits.max_message_bytes > 0
    assert info.same_host
    assert client.health() == "SERVING"
    assert client.health("polaroid.v1.Polaroid") == "SERVING"


def test_default_connection(server):
    c = pd.connect(server.address)
    try:
        assert pd.get_default() is c
        assert len(pd.read_parquet("trades.parquet")) == 20_000
    finally:
        c.close()
    assert pd.get_default() is not c


def test_iter_batches_of_a_join(client):
    """Many batches of a filtered cross join (that the client yields each batch as its message
    arrives is tested against an endless stream in test_fake.py)."""
    k = client.read_parquet("k20k.parquet")
    q = k.join(k.head(4000).rename({"k": "k2"}), how="cross").filter("CAST(k + k2 AS VARCHAR) LIKE '%00'")
    n = nb = 0
    for b in q.iter_batches(max_message_bytes=256 * 1024):
        n += b.num_rows
        nb += 1
    assert n == 4000 * 200 - 1  # k + k2 a multiple of 100, but not 0
    assert nb > 10


def test_shared_memory_results(server, data):
    import os

    # only this server's files (other servers on the machine write theirs meanwhile)
    mine = f"polaroid-{server.proc.pid}-"

    def files():
        return {f for f in os.listdir("/dev/shm") if f.startswith(mine)}

    before = files()
    with pd.Client(server.address, shared_memory=True, shared_memory_min_bytes=1) as c:
        rs = c.execute(c.read_parquet("trades/*.parquet").sort("id"))
        got = rs.read_all()
        if rs._shm_table is None:
            pytest.skip("the server answered allow_shared_memory with messages")
        assert_same(got, data.trades)
        # small results below the threshold still come as messages
        c.shared_memory_min_bytes = 1 << 30
        rs = c.execute(c.read_parquet("groups.parquet"))
        assert rs.read_all().num_rows == 5 and rs._shm_table is None
        # streaming never asks for a file
        assert sum(b.num_rows for b in c.read_parquet("trades.parquet").iter_batches()) == 20_000
    del got
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and files() - before:
        time.sleep(0.1)
    assert not (files() - before), "result files left in /dev/shm"


_SHM_CLIENT = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import polaroid as pd
from polaroid import _ipc
from polaroid._requests import execute_request
c = pd.Client(sys.argv[1], shared_memory=True, shared_memory_min_bytes=1)
req = execute_request(c.read_parquet("trades.parquet").plan, shared_memory=True,
                      shared_memory_min_bytes=1)
for kind, val in c._execute(req, timeout=120, metadata=c._metadata):
    if kind == _ipc.SHARED_MEMORY:
        print(val.path, flush=True)  # mapped nothing, released nothing: now wait to be killed
        time.sleep(600)
print("no shared memory result", flush=True)
"""


def test_shared_memory_client_killed(server):
    """A client killed with SIGKILL after the server wrote its result file, before it released
    it: its connection closes, and the server removes the file within a bounded time (it used
    to stay until the handle TTL, 300 s)."""
    import os
    import signal
    import subprocess
    import sys
    from conftest import REPO

    p = subprocess.Popen([sys.executable, "-c", _SHM_CLIENT, server.address, str(REPO / "python")],
                         stdout=subprocess.PIPE, text=True)
    try:
        path = p.stdout.readline().strip()
        assert path.startswith("/dev/shm/polaroid-"), path
        assert os.path.exists(path)
        time.sleep(0.3)
        assert os.path.exists(path), "the file went before the client released it or left"
        os.kill(p.pid, signal.SIGKILL)
        p.wait(10)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and os.path.exists(path):
            time.sleep(0.02)
        assert not os.path.exists(path), "the killed client's result file is still in /dev/shm"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_shared_memory_release_is_prompt(server, data):
    """The call ends as soon as the client released its file (the server holds it open until
    then): a collect through /dev/shm takes no hold time."""
    with pd.Client(server.address, shared_memory=True, shared_memory_min_bytes=1) as c:
        c.read_parquet("groups.parquet").collect()  # warm
        t0 = time.monotonic()
        rs = c.execute(c.read_parquet("trades.parquet"))
        got = rs.read_all()
        took = time.monotonic() - t0
        assert rs._shm_table is not None
        assert rs.summary is not None and rs.summary.rows == got.num_rows == 20_000
        assert took < 5.0, f"collect through shared memory took {took:.1f} s"


def test_shared_memory_offered(client):
    info = client.server_info()
    if "shared_memory" not in info.capabilities:
        pytest.skip("ServerInfo does not list the shared_memory capability")
    assert info.same_host
    assert client._shared_memory_ok()
