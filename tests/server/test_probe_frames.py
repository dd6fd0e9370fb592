"""The DataFrame API against Polars on random pipelines (probe_frames.py), a fixed-seed sample;
and bad plans: each gets a clear error naming the problem, and the server stays up.

Long runs: `.venv/bin/python tests/server/probe_frames.py --n 5000 --seed 7`."""

from __future__ import annotations

import pytest

import polaroid as pd

import probe_frames

SEEDS = [(1, 0, 120), (2, 0, 120), (3, 0, 120)]


@pytest.mark.parametrize("seed,start,n", SEEDS, ids=[f"seed{s}" for s, _, _ in SEEDS])
def test_random_pipelines_match_polars(client, server, data, seed, start, n):
    bad = []
    for i in range(start, start + n):
        msg = probe_frames.run_case(seed, i, client, root=data.root)
        assert server.alive(), f"server died at seed {seed} case {i}:\n{server.stderr_text[-3000:]}"
        if msg:
            bad.append(msg)
    assert not bad, f"{len(bad)} of {n} cases differ from Polars:\n" + "\n".join(bad[:10])


# ---------------------------------------------------------------- errors


def _frame(client):
    import random

    t, _ = probe_frames.make_table(random.Random(5), 20)
    df = pd.from_arrow(t)
    df._client = client
    return df


C = pd.col
BAD = {
    "select_unknown": (lambda df: df.select(C("nope")), "nope"),
    "filter_unknown": (lambda df: df.filter(C("nope") > 1), "nope"),
    "filter_not_bool": (lambda df: df.filter(C("i") + 1), "bool"),
    "str_plus_int": (lambda df: df.select(C("s") + C("i")), "add"),
    "group_by_unknown": (lambda df: df.group_by("nope").agg(C("i").sum()), "nope"),
    "agg_unknown_column": (lambda df: df.group_by("k").agg(C("nope").sum()), "nope"),
    "agg_unknown_function": (lambda df: df.group_by("k").agg(C("i").agg("no_such_agg")), "no_such_agg"),
    "call_unknown_function": (lambda df: df.select(C("i")._call("no_such_fn")), "no_such_fn"),
    "agg_as_call": (lambda df: df.select(C("i")._call("sum")), "aggregate"),
    "agg_in_filter": (lambda df: df.filter(C("i").sum() > 0), "aggregate"),
    "nested_agg": (lambda df: df.group_by("k").agg(C("i").sum().sum()), "aggregate"),
    "sum_of_string": (lambda df: df.group_by("k").agg(C("s").sum()), "sum"),
    "join_unknown_key": (lambda df: df.join(df, on="nope"), "nope"),
    "join_key_types": (lambda df: df.join(df, left_on="k", right_on="s"), "join"),
    "sort_unknown": (lambda df: df.sort("nope"), "nope"),
    "cast_bad_type": (lambda df: df.select(C("i").cast("NOTATYPE")), "NOTATYPE"),
    "cast_bad_value": (lambda df: df.select(pd.lit("abc").cast("BIGINT")), "abc"),
    "rename_unknown": (lambda df: df.rename({"nope": "x"}), "nope"),
    "drop_unknown": (lambda df: df.drop("nope"), "nope"),
    "union_widths": (lambda df: df.union(df.select("i")), "union"),
    "union_types": (lambda df: df.select("s").union(df.select("d")), "union"),
    "unique_unknown": (lambda df: df.unique(["nope"]), "nope"),
    "sql_syntax": (lambda df: df.filter("i >>> 3"), ">>>"),
    "quantile_range": (lambda df: df.select(C("i").quantile(1.5)), "quantile"),
    # duplicate output names are an error, as in Polars (they were kept, and later operations
    # could not tell the columns apart)
    "duplicate_names": (lambda df: df.select(C("i"), C("i")), 'two columns named "i"'),
    "duplicate_alias": (lambda df: df.select(C("i").alias("x"), (C("j") + 1).alias("x")), '"x"'),
    "agg_name_clash": (lambda df: df.group_by("k").agg(C("k").sum()), 'two columns named "k"'),
    "rename_clash": (lambda df: df.rename({"i": "j"}), 'two columns named "j"'),
    "join_suffix_clash": (lambda df: df.with_columns(C("i").alias("i_right")).join(df, on="k"),
                          'two columns named "i_right"'),
    # deeper than the server's --max-plan-depth (256): its limit, not the client's protobuf's
    "deep_expression": (lambda df: df.select(_deep(C("i"), 300)), "deeper than 256"),
    "long_chain": (lambda df: _chain(df, 300), "deeper than 256"),
}


def _chain(df, n):
    for k in range(n):
        df = df.filter(C("i") > -100 - k)
    return df


def _deep(e, n):
    for _ in range(n):
        e = e + 1
    return e


@pytest.mark.parametrize("name", list(BAD))
def test_bad_plans_get_clear_errors(client, server, name):
    build, needle = BAD[name]
    df = build(_frame(client))
    with pytest.raises(pd.PolaroidError) as ei:
        df.collect()
    e = ei.value
    assert not isinstance(e, (pd.InternalError, pd.UnavailableError)), repr(e)
    text = str(e).lower()
    assert needle.lower() in text, f"{needle!r} not in the error: {e}"
    assert server.alive(), server.stderr_text[-3000:]
    # the server still answers, and the same client still works
    assert client.health() == "SERVING"
    assert _frame(client).select(C("i")).head(3).collect().num_rows == 3


# ---------------------------------------------------------------- regressions (vs Polars)


def _both(client, table, build):
    """build(M, df) over polaroid and over Polars; the two results as pyarrow tables."""
    import polars as pl

    df = pd.from_arrow(table)
    df._client = client
    got = build(pd, df).collect()
    ref = build(pl, pl.from_arrow(table)).to_arrow()
    return got, ref


def _same(got, ref, ordered=True):
    from compare import compare_tables

    assert got.column_names == ref.column_names
    diff = compare_tables(ref, got, ordered=ordered)
    assert diff is None, diff


def test_floor_div_and_mod_like_python(client):
    import pyarrow as pa

    t = pa.table({"a": pa.array([-7, 7, -6, 6, 0, None, -1, 9], pa.int64()),
                  "b": pa.array([2, -2, 3, -4, 5, 2, 7, None], pa.int32()),
                  "x": pa.array([-7.5, 7.5, -0.25, 3.0, 0.0, None, -1e-9, 2.5])})
    got, ref = _both(client, t, lambda M, df: df.select(
        (M.col("a") // M.col("b")).alias("q"), (M.col("a") % M.col("b")).alias("r"),
        (M.col("a") // 3).alias("q3"), (M.col("a") % -3).alias("rm3"), (-7 // M.col("b")).alias("lq"),
        (M.col("x") // 2).alias("xq"), (M.col("x") % 2).alias("xr"), (M.col("x") // -0.75).alias("xq2")))
    _same(got, ref)
    assert got.column("q").to_pylist() == [-4, -4, -2, -2, 0, None, -1, None]
    assert got.schema.field("q").type == pa.int64() and got.schema.field("xq").type == pa.float64()


def test_str_slice_negative_offsets_like_polars(client):
    import pyarrow as pa

    t = pa.table({"s": ["abc", "", "日本語x", None, "hello world"]})
    got, ref = _both(client, t, lambda M, df: df.select(
        *[M.col("s").str.slice(o, n).alias(f"s{i}") for i, (o, n) in enumerate(
            [(-1, 2), (-4, 2), (-5, 2), (-2, None), (-20, None), (0, 2), (2, None), (1, 0), (7, 1)])]))
    _same(got, ref)
    with pytest.raises(ValueError):
        pd.col("s").str.slice(0, -1)


def test_right_join_columns_like_polars(client):
    import pyarrow as pa

    left = pa.table({"k": [1, 2, None, 3], "s": ["a", "b", "c", None], "v": [1.0, 2.0, 3.0, 4.0]})
    right = pa.table({"w": [10, 20, 30], "s": ["a", "b", "z"], "k": [1, 2, 5], "v": [0.5, 0.6, 0.7]})
    import polars as pl

    for on in (["k"], ["s", "k"], ["s"]):
        a, b = pd.from_arrow(left), pd.from_arrow(right)
        a._client = b._client = client
        got = a.join(b, on=on, how="right", suffix="_r").collect()
        ref = pl.from_arrow(left).join(pl.from_arrow(right), on=on, how="right", suffix="_r").to_arrow()
        _same(got, ref, ordered=False)


def test_join_suffix_clash_is_an_error(client, server):
    import pyarrow as pa

    a = pd.from_arrow(pa.table({"k": [1, 2], "i": [1, 2], "i_right": [5, 6]}))
    b = pd.from_arrow(pa.table({"k": [1, 2], "i": [10, 20]}))
    a._client = b._client = client
    with pytest.raises(pd.InvalidArgumentError, match='two columns named "i_right"'):
        a.join(b, on="k").collect()
    assert server.alive()
    # another suffix resolves it
    assert a.join(b, on="k", suffix="_b").collect().column_names == ["k", "i", "i_right", "i_b"]


def test_agg_filter_null_literal_selects_nothing(client):
    import pyarrow as pa

    t = pa.table({"g": [1, 1, 2], "x": [1, 2, 3]})
    df = pd.from_arrow(t)
    df._client = client
    got = df.group_by("g").agg(pd.len_().filter(pd.lit(None)).alias("n"),
                               pd.col("x").sum().filter(pd.lit(None)).alias("s")).sort("g").collect()
    assert got.to_pylist() == [{"g": 1, "n": 0, "s": None}, {"g": 2, "n": 0, "s": None}]


def test_deep_plans_build_and_run(client):
    """~50 nested operations or operators failed in the client with protobuf's "Exceeded
    upb_DecodeOptions_MaxDepth" before reaching the server; up to its depth limit they run."""
    import pyarrow as pa

    df = pd.from_arrow(pa.table({"i": [1, 2, 3]}))
    df._client = client
    e = C("i")
    for _ in range(120):
        e = e + 1
    chain = df
    for k in range(120):
        chain = chain.filter(C("i") > k - 1000).with_columns((C("i") * 1).alias("i"))
    assert df.select(e.alias("x")).collect().column("x").to_pylist() == [121, 122, 123]
    assert chain.collect().column("i").to_pylist() == [1, 2, 3]


def test_join_left_on_right_on_columns_like_polars(client):
    """Column keys of other names: inner/left keep the left's key only, right the right's, full
    both (all columns were kept)."""
    import polars as pl
    import pyarrow as pa

    left = pa.table({"a": [1, 2, None, 2], "x": [1.0, 2.0, 3.0, 4.0], "k": [0, 1, 2, 3]})
    right = pa.table({"b": [1, 2, 5], "x": [10.0, 20.0, 50.0], "k": [7, 8, 9]})
    for how in ("inner", "left", "right", "full"):
        for lo, ro in (("a", "b"), ("k", "k"), (["a", "k"], ["b", "k"])):
            a, b = pd.from_arrow(left), pd.from_arrow(right)
            a._client = b._client = client
            got = a.join(b, left_on=lo, right_on=ro, how=how, suffix="_r").collect()
            ref = pl.from_arrow(left).join(pl.from_arrow(right), left_on=lo, right_on=ro, how=how,
                                           suffix="_r").to_arrow()
            _same(got, ref, ordered=False)
