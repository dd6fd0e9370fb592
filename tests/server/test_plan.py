"""Plan building without a server: the protobuf the DataFrame and Expr methods produce, the
error class mapping, and the Arrow IPC stream decoder."""

from __future__ import annotations

import datetime as dt

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pytest

import polaroid as pd
from polaroid import _ipc
from polaroid._proto import polaroid_pb2 as pb
from polaroid.errors import from_status


@pytest.fixture()
def c():
    # a client whose channel is never used (nothing listens on port 1)
    cl = pd.Client("127.0.0.1:1")
    yield cl
    cl.close()


def call(fn, *args):
    return pb.Expr(call=pb.Call(function=fn, args=list(args)))


def colp(name):
    return pb.Expr(column=pb.ColumnRef(name=name))


def litp(**kw):
    return pb.Expr(literal=pb.Literal(**kw))


def test_read_sources(c):
    r = c.read_parquet("t/*.parquet").relation
    assert r.read.format == pb.ReadFiles.FORMAT_PARQUET and list(r.read.paths) == ["t/*.parquet"]
    r = c.read_parquet(["a.parquet", "b.parquet"]).relation
    assert list(r.read.paths) == ["a.parquet", "b.parquet"]
    r = c.read_csv("x.csv", has_header=False, separator=";", null_values=["NA"]).relation
    assert r.read.format == pb.ReadFiles.FORMAT_CSV
    assert r.read.csv.no_header and r.read.csv.delimiter == ";" and list(r.read.csv.null_values) == ["NA"]
    r = c.read_ipc("x.arrow").relation
    assert r.read.format == pb.ReadFiles.FORMAT_IPC
    r = c.read_parquet("x.parquet", columns=["a"], n_rows=3).relation
    assert r.limit.limit == 3 and r.limit.input.select.exprs[0].name == "a"
    with pytest.raises(ValueError):
        c.read_parquet([])


def test_select_filter_with_columns(c):
    df = c.read_parquet("t.parquet")
    s = df.select("a", pd.col("b") * 2, c2=pd.col("c") + 1).relation.select
    assert s.input == df.relation
    assert s.exprs[0] == pb.NamedExpr(expr=colp("a"), name="a")
    assert s.exprs[1] == pb.NamedExpr(expr=call("mul", colp("b"), litp(int64_value=2)), name="b")
    assert s.exprs[2].name == "c2" and s.exprs[2].expr == call("add", colp("c"), litp(int64_value=1))
    f = df.filter("col1 > 100").relation.filter
    assert f.predicate == pb.Expr(sql="col1 > 100")
    f = df.filter(pd.col("a") > 1, pd.col("b").is_null()).relation.filter
    assert f.predicate == call("and", call("gt", colp("a"), litp(int64_value=1)), call("is_null", colp("b")))
    w = df.with_columns((pd.col("x") / 2).alias("half")).relation.with_columns
    assert w.exprs[0].name == "half" and w.exprs[0].expr.call.function == "div"
    with pytest.raises(ValueError):
        df.select()
    with pytest.raises(ValueError):
        df.filter()
    # a select of aggregates only is a whole-frame aggregation
    a = df.select(pd.col("x").sum(), (pd.col("y").max() - pd.col("y").min()).alias("r")).relation
    assert a.WhichOneof("rel") == "aggregate" and not a.aggregate.keys
    assert [x.name for x in a.aggregate.aggs] == ["x", "r"]
    assert df.select("a", pd.col("x").sum()).relation.WhichOneof("rel") == "select"


def test_operators_and_literals():
    a = pd.col("a")
    cases = {
        "add": a + 1, "sub": a - 1, "mul": a * 1, "div": a / 1,
        "eq": a == 1, "ne": a != 1, "lt": a < 1, "le": a <= 1, "gt": a > 1, "ge": a >= 1,
        "and": a & True, "or": a | False,
    }
    for fn, e in cases.items():
        assert e.proto.call.function == fn and e.proto.call.args[0] == colp("a"), fn
    # // and % floor as in Python: a case over the engine's truncating mod, round(int_div)
    assert (a % 2).proto.call.function == "case" and (a % 2).output_name == "a"
    assert (a // 2).proto.call.function == "round" and (a // 2).output_name == "a"
    assert (a // 2).proto.call.args[0].call.function == "int_div"
    assert (7 // a).output_name == "literal"
    assert (-a).proto == call("neg", colp("a"))
    assert (~a).proto == call("not", colp("a"))
    r = 10 - a
    assert r.proto == call("sub", litp(int64_value=10), colp("a"))
    assert (a == "x").proto.call.args[1] == litp(string_value="x")  # strings on the right: literals
    assert pd.lit(None).proto == litp(is_null=True)
    assert pd.lit(True).proto == litp(bool_value=True)
    assert pd.lit(2.5).proto == litp(float64_value=2.5)
    assert pd.lit(b"\x00").proto == litp(binary_value=b"\x00")
    assert pd.lit(dt.date(1970, 1, 11)).proto == litp(date_days=10)
    assert pd.lit(dt.datetime(1970, 1, 1, 0, 0, 1, 5)).proto == litp(timestamp_us=1_000_005)
    utc = dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert pd.lit(utc).proto == litp(timestamp_us=0)
    assert pd.lit(dt.timedelta(seconds=2)).proto.literal.interval_value.nanos == 2_000_000_000
    assert pd.lit(np.int32(7)).proto == litp(int64_value=7)
    with pytest.raises(OverflowError):
        pd.lit(2**64)
    with pytest.raises(TypeError):
        pd.lit(object())
    with pytest.raises(TypeError):
        bool(a > 1)


def test_predicates_and_functions():
    a = pd.col("a")
    assert a.is_in([1, 2]).proto == call("in", colp("a"), litp(int64_value=1), litp(int64_value=2))
    assert a.between(1, 5).proto == call("between", colp("a"), litp(int64_value=1), litp(int64_value=5))
    assert a.is_not_null().proto == call("is_not_null", colp("a"))
    c = a.cast("DOUBLE").proto.cast
    assert c.type == "DOUBLE" and not c.try_cast and c.expr == colp("a")
    assert a.cast(pa.int64(), strict=False).proto.cast.type == "BIGINT"
    assert a.cast(pa.int64(), strict=False).proto.cast.try_cast
    assert a.cast(pa.timestamp("us")).proto.cast.type == "TIMESTAMP"
    assert a.str.lower().proto == call("lower", colp("a"))
    assert a.str.contains("x").proto == call("contains", colp("a"), litp(string_value="x"))
    assert a.str.slice(0, 2).proto == call("substr", colp("a"), litp(int64_value=1), litp(int64_value=2))
    assert a.fill_null(0).proto == call("coalesce", colp("a"), litp(int64_value=0))
    w = pd.when(a > 1).then("big").otherwise("small")
    assert w.proto.call.function == "case" and len(w.proto.call.args) == 3
    with pytest.raises(TypeError):
        a.is_in("abc")


def test_aggregations():
    x = pd.col("x")
    cases = {"sum": x.sum(), "avg": x.mean(), "min": x.min(), "max": x.max(), "count": x.count(),
             "first": x.first(), "last": x.last(), "median": x.median(), "stddev_samp": x.std(),
             "var_samp": x.var(), "stddev_pop": x.std(ddof=0), "var_pop": x.var(ddof=0)}
    for fn, e in cases.items():
        assert e.proto.agg.function == fn and list(e.proto.agg.args) == [colp("x")], fn
        assert e.output_name == "x"
    nu = x.n_unique().proto.agg
    assert nu.function == "count" and nu.distinct
    star = pd.len_().proto.agg
    assert star.function == "count" and not star.args
    f = x.sum().filter(pd.col("y") > 0).proto.agg
    assert f.filter == call("gt", colp("y"), litp(int64_value=0))
    with pytest.raises(TypeError):
        x.filter(pd.col("y") > 0)


def test_group_by_join_sort_etc(c):
    df = c.read_parquet("t.parquet")
    other = c.read_parquet("u.parquet")
    a = df.group_by("g", pd.col("h")).agg(pd.col("x").sum().alias("sx"), n=pd.len_()).relation.aggregate
    assert [k.name for k in a.keys] == ["g", "h"]
    assert [x.name for x in a.aggs] == ["sx", "n"]
    j = df.join(other, on="g", how="left").relation.join
    assert j.type == pb.Join.JOIN_LEFT and list(j.on) == ["g"] and j.suffix == "_right"
    j = df.join(other, left_on="a", right_on=pd.col("b"), how="outer", suffix="_r").relation.join
    assert j.type == pb.Join.JOIN_FULL and j.left_on[0] == colp("a") and j.right_on[0] == colp("b")
    assert j.suffix == "_r"
    assert df.join(other, how="cross").relation.join.type == pb.Join.JOIN_CROSS
    for how in ("semi", "anti", "right", "inner"):
        df.join(other, on=["g"], how=how)
    with pytest.raises(ValueError):
        df.join(other, how="sideways", on="g")
    with pytest.raises(ValueError):
        df.join(other)
    s = df.sort("a", pd.col("b"), descending=[True, False], nulls_last=True).relation.sort
    assert [k.descending for k in s.keys] == [True, False]
    assert all(k.nulls == pb.SortKey.NULLS_LAST for k in s.keys)
    assert df.sort("a").relation.sort.keys[0].nulls == pb.SortKey.NULLS_DEFAULT
    assert df.sort("a", nulls_last=False).relation.sort.keys[0].nulls == pb.SortKey.NULLS_FIRST
    assert list(df.unique(subset=["a", "b"]).relation.distinct.subset) == ["a", "b"]
    assert list(df.unique().relation.distinct.subset) == []
    lim = df.head(7).relation.limit
    assert (lim.offset, lim.limit) == (0, 7)
    lim = df.slice(10).relation.limit
    assert (lim.offset, lim.limit) == (10, -1)
    lim = df.slice(10, 5).relation.limit
    assert (lim.offset, lim.limit) == (10, 5)
    r = df.rename({"a": "A", "b": "B"}).relation.rename
    assert list(r.old_names) == ["a", "b"] and list(r.new_names) == ["A", "B"]
    assert list(df.drop("a", ["b"]).relation.drop.columns) == ["a", "b"]
    u = pd.concat([df, other]).relation.union
    assert len(u.inputs) == 2 and not u.distinct


def test_sql_with_frames(c):
    df = c.read_parquet("t.parquet")
    s = c.sql("SELECT * FROM t", t=df).relation.sql
    assert s.query == "SELECT * FROM t" and s.inputs[0].name == "t"
    assert s.inputs[0].relation == df.relation
    with pytest.raises(TypeError):
        c.sql("SELECT 1", t=42)


def test_from_arrow_roundtrip(c):
    t = pa.table({"a": [1, 2, None], "s": ["x", None, "z"]})
    r = c.from_arrow(t).relation
    assert ipc.open_stream(r.arrow.ipc_stream).read_all().equals(t)
    import pandas

    r = c.from_pandas(pandas.DataFrame({"a": [1.5, 2.5]})).relation
    assert ipc.open_stream(r.arrow.ipc_stream).read_all().column("a").to_pylist() == [1.5, 2.5]


def test_frames_of_two_clients_do_not_mix(c):
    c2 = pd.Client("127.0.0.1:2")
    try:
        with pytest.raises(ValueError):
            c.read_parquet("a").join(c2.read_parquet("b"), on="x")
    finally:
        c2.close()


def test_plan_is_immutable(c):
    df = c.read_parquet("t.parquet")
    before = df.plan.SerializeToString()
    df.filter("a > 1").select("a").head(3)
    assert df.plan.SerializeToString() == before


# ---------------------------------------------------------------- errors


def test_error_mapping():
    detail = pb.ErrorDetail(status="not found", message="no such file", hint="check the path",
                            path="x.parquet", column="", column_index=-1, row_group=-1, row=-1,
                            byte_offset=-1, sql_position=-1, request_id="r1")
    e = from_status(grpc.StatusCode.NOT_FOUND, "x.parquet: no such file",
                    (("polaroid-error-bin", detail.SerializeToString()),))
    assert isinstance(e, pd.NotFoundError) and isinstance(e, pd.PolaroidError)
    assert e.what == "no such file" and e.why == "check the path" and e.where == "file 'x.parquet'"
    assert e.row_group is None and e.sql_position is None and e.request_id == "r1"
    d2 = pb.ErrorDetail(status="invalid argument", message="syntax error", sql_position=7,
                        column_index=-1, row_group=-1, row=-1, byte_offset=-1)
    e = from_status(grpc.StatusCode.INVALID_ARGUMENT, "syntax error at 7",
                    [("polaroid-error-bin", d2.SerializeToString())])
    assert isinstance(e, pd.InvalidArgumentError) and isinstance(e, ValueError)
    assert e.sql_position == 7 and "SQL position 7" in e.where
    for code, cls in [(grpc.StatusCode.PERMISSION_DENIED, pd.PermissionDeniedError),
                      (grpc.StatusCode.UNAUTHENTICATED, pd.UnauthenticatedError),
                      (grpc.StatusCode.RESOURCE_EXHAUSTED, pd.ResourceExhaustedError),
                      (grpc.StatusCode.DEADLINE_EXCEEDED, pd.DeadlineExceededError),
                      (grpc.StatusCode.CANCELLED, pd.CancelledError),
                      (grpc.StatusCode.UNAVAILABLE, pd.UnavailableError),
                      (grpc.StatusCode.INTERNAL, pd.InternalError),
                      (grpc.StatusCode.DATA_LOSS, pd.DataLossError)]:
        e = from_status(code, "msg", None)
        assert type(e) is cls and e.code == code and e.what == "msg" and e.detail is None
    # a malformed trailer does not hide the error
    e = from_status(grpc.StatusCode.NOT_FOUND, "m", [("polaroid-error-bin", b"\xff\xff\xff")])
    assert isinstance(e, pd.NotFoundError)


# ---------------------------------------------------------------- the IPC decoder


def _stream_messages(t: pa.Table, rows_per_batch: int):
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, t.schema) as w:
        for b in t.to_batches(max_chunksize=rows_per_batch):
            w.write_batch(b)
    buf = sink.getvalue()
    r = pa.BufferReader(buf)
    out, pos = [], 0
    while True:
        try:
            ipc.read_message(r)
        except EOFError:
            out.append(buf.slice(pos).to_pybytes())  # the end-of-stream marker
            break
        e = r.tell()
        out.append(buf.slice(pos, e - pos).to_pybytes())
        pos = e
    return out


def test_decoder_whole_messages():
    t = pa.table({"a": np.arange(10_000), "s": [None if i % 7 == 0 else f"s{i}" for i in range(10_000)]})
    msgs = _stream_messages(t, 1000)
    d = _ipc.StreamDecoder()
    got = []
    # one message per response, then several per response
    for m in msgs[:5]:
        kind, payload = _ipc.parse_execute_response(pb.ExecuteResponse(arrow_ipc=m).SerializeToString())
        assert kind == _ipc.ARROW_IPC
        got += d.feed(payload)
    got += d.feed(b"".join(msgs[5:]))
    d.close()
    assert d.finished and d.schema == t.schema
    assert pa.Table.from_batches(got).equals(t)


def test_decoder_split_messages_and_dictionaries():
    t = pa.table({"k": pa.array(["x", "y", None, "x"] * 500).dictionary_encode(), "v": np.arange(2000)})
    msgs = _stream_messages(t, 300)
    raw = b"".join(msgs)
    d = _ipc.StreamDecoder()
    got = []
    for i in range(0, len(raw), 333):  # cut at arbitrary places
        got += d.feed(raw[i:i + 333])
    d.close()
    assert pa.Table.from_batches(got).equals(t)


def test_decoder_truncated():
    t = pa.table({"a": np.arange(100)})
    raw = b"".join(_stream_messages(t, 100)[:-1])
    d = _ipc.StreamDecoder()
    d.feed(raw[:-10])
    with pytest.raises(ValueError):
        d.close()


def test_parse_execute_response_other_payloads():
    s = pb.ExecuteResponse(summary=pb.ExecuteSummary(rows=5, request_id="q")).SerializeToString()
    kind, v = _ipc.parse_execute_response(s)
    assert kind == _ipc.SUMMARY and v.rows == 5
    s = pb.ExecuteResponse(shared_memory=pb.SharedMemoryResult(path="/dev/shm/x", size=3)).SerializeToString()
    kind, v = _ipc.parse_execute_response(s)
    assert kind == _ipc.SHARED_MEMORY and v.path == "/dev/shm/x"
    big = b"\x01" * 300_000
    kind, v = _ipc.parse_execute_response(pb.ExecuteResponse(arrow_ipc=big).SerializeToString())
    assert kind == _ipc.ARROW_IPC and bytes(v) == big


def test_decoder_schema_cache_and_nested_dictionaries():
    """Schemas come from a cache keyed by the schema message: the same message gives the same
    schema, a different one (same names, other types; nested dictionaries) its own."""
    a = pa.table({"k": np.arange(5), "v": [1.5] * 5})
    b = pa.table({"k": np.arange(5, dtype=np.int32), "v": [1.5] * 5})
    nested = pa.table({"l": pa.array([["x", "y"], ["x"]], pa.list_(pa.dictionary(pa.int32(), pa.string()))),
                       "s": pa.array([{"d": "p"}, {"d": "q"}],
                                     pa.struct([("d", pa.dictionary(pa.int8(), pa.string()))]))})
    for _ in range(2):
        for t in (a, b, a):
            d = _ipc.StreamDecoder()
            got = d.feed(b"".join(_stream_messages(t, 2)))
            d.close()
            assert d.schema == t.schema
            assert pa.Table.from_batches(got, schema=d.schema).equals(t)
    assert not _ipc._has_dictionary(a.schema)
    assert _ipc._has_dictionary(nested.schema)
    assert _ipc._type_has_dictionary(nested.schema.field("s").type)
    assert not _ipc._type_has_dictionary(pa.list_(pa.struct([("x", pa.string())])))


def test_request_ids_unique():
    from polaroid._requests import new_request_id
    ids = [new_request_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
