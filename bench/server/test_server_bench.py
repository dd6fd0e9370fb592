"""Tests of the server benchmark's pieces (bench/server/): the peers answer like pyarrow/DuckDB on
the same data, the raw polaroid.v1 client decodes what the peer sends, the C load generator
counts calls and errors. Small data in a temporary directory; a few seconds in all.

  .venv/bin/python -m pytest -q bench/server/test_server_bench.py
"""
import os
import struct
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import client  # noqa: E402
import gen_server  # noqa: E402
import protos  # noqa: E402
import server_bench  # noqa: E402

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    d = tmp_path_factory.mktemp("srvdata")
    os.makedirs(d / "bench" / "server")
    pq.write_table(gen_server.points_table(20_000), d / "bench" / "server" / "points.parquet",
                   row_group_size=4096)
    gen_server.write_wide(str(d / "bench" / "server" / "wide.parquet"), 50_000)
    return d


def _start(engine, root, tables):
    argv = [sys.executable, os.path.join(HERE, {"polars-aio": "peer_polars_aio.py",
                                                "flight-duckdb": "peer_flight_duckdb.py"}[engine]),
            "--listen", "127.0.0.1:0", "--data-root", str(root)]
    for n, p in tables.items():
        argv += ["--table", f"{n}={p}"]
    return server_bench.Server(engine, argv, ready_timeout=120)


@pytest.fixture(scope="module")
def servers(root):
    tables = {"points": "bench/server/points.parquet", "wide": "bench/server/wide.parquet"}
    s = {e: _start(e, root, tables) for e in ("polars-aio", "flight-duckdb")}
    yield s
    for x in s.values():
        x.stop()


def test_points_table_sorted_and_grouped():
    t = gen_server.points_table(1000)
    keys = t.column("key").to_pylist()
    assert keys == sorted(keys)
    assert keys.count(0) == gen_server.ROWS_PER_KEY
    assert t.column("id").to_pylist() == list(range(1, 1001))


def test_payload_parse_matches_protobuf():
    pb, _ = protos.load(prefer_package=False)
    for body in (b"", b"x", b"y" * 300, bytes(range(256)) * 700):
        f, mv = client._payload(pb.ExecuteResponse(arrow_ipc=body).SerializeToString())
        assert (f, bytes(mv)) == (1, body)  # a oneof member is sent even when empty
    assert client._payload(b"")[0] == 0
    msg = pb.ExecuteResponse(summary=pb.ExecuteSummary(rows=5)).SerializeToString()
    f, mv = client._payload(msg)
    assert f == 3 and pb.ExecuteSummary.FromString(bytes(mv)).rows == 5
    assert client._varint(300) == b"\xac\x02"


@pytest.mark.parametrize("key", [0, 777, 4999])
def test_point_query_same_rows_everywhere(servers, root, key):
    t = pq.read_table(root / "bench" / "server" / "points.parquet")
    want = t.filter(pa.compute.equal(t.column("key"), key))
    pb, _ = protos.load(prefer_package=False)
    req = pb.ExecuteRequest(plan=client.polaroid_plan(pb, f"point:{key}")).SerializeToString()
    got_aio = client.fetch_raw(servers["polars-aio"].addr, req)
    got_fl = client.fetch_flight(servers["flight-duckdb"].addr, f"point:{key}")
    for got in (got_aio, got_fl):
        assert got.num_rows == want.num_rows == 4
        assert got.column("id").to_pylist() == want.column("id").to_pylist()
        assert got.column("price").to_pylist() == want.column("price").to_pylist()


def test_stream_whole_table_in_small_messages(servers, root):
    pb, _ = protos.load(prefer_package=False)
    req = pb.ExecuteRequest(plan=client.polaroid_plan(pb, "wide"),
                            options=pb.ExecuteOptions(max_message_bytes=64 << 10))
    got = client.fetch_raw(servers["polars-aio"].addr, req.SerializeToString())
    want = pq.read_table(root / "bench" / "server" / "wide.parquet")
    assert got.num_rows == 50_000
    assert got.equals(want)
    fl = client.fetch_flight(servers["flight-duckdb"].addr, "wide")
    assert fl.sort_by("c0").equals(want)


def test_peer_errors(servers):
    import grpc
    pb, _ = protos.load(prefer_package=False)
    bad = pb.ExecuteRequest(plan=pb.Plan(root=pb.Relation(table=pb.TableRef(name="nope"))))
    with pytest.raises(grpc.RpcError) as e:
        client.fetch_raw(servers["polars-aio"].addr, bad.SerializeToString())
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    escape = pb.ExecuteRequest(plan=pb.Plan(root=pb.Relation(read=pb.ReadFiles(
        paths=["../../etc/passwd"]))))
    with pytest.raises(grpc.RpcError):
        client.fetch_raw(servers["polars-aio"].addr, escape.SerializeToString())


def _reqfile(tmp_path, name, msgs):
    p = tmp_path / name
    with open(p, "wb") as fh:
        for m in msgs:
            fh.write(struct.pack("<I", len(m)) + m)
    return str(p)


def _loadgen(args):
    exe = server_bench.build_loadgen()
    r = subprocess.run([exe] + args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    line = [x for x in r.stdout.splitlines() if x.startswith("LOADGEN ")][0]
    import json
    return json.loads(line[len("LOADGEN "):])


def test_loadgen_counts_calls_and_cpu(servers, tmp_path):
    pb, _ = protos.load(prefer_package=False)
    reqs = [pb.ExecuteRequest(plan=client.polaroid_plan(pb, f"point:{k}")).SerializeToString()
            for k in (1, 2, 3)]
    s = servers["polars-aio"]
    res = _loadgen(["--target", s.addr, "--method", server_bench.EXECUTE, "--requests",
                    _reqfile(tmp_path, "r.bin", reqs), "--callers", "4", "--connections", "2",
                    "--duration", "1", "--warmup", "0.2", "--server-pid", str(s.pid)])
    assert res["calls"] > 10 and res["errors"] == 0 and res["ok"] == res["calls"]
    assert res["msgs"] == 3 * res["calls"]  # schema, one batch, summary
    assert 0 < res["p50_us"] <= res["p99_us"] <= res["max_us"] * 1.01
    assert res["server_cpu_s"] > 0 and res["client_cpu_s"] > 0


def test_loadgen_flight_and_errors(servers, tmp_path):
    s = servers["flight-duckdb"]
    sql = b"SELECT * FROM points WHERE key = 5"
    good = _reqfile(tmp_path, "t.bin", [b"\x0a" + client._varint(len(sql)) + sql])
    res = _loadgen(["--target", s.addr, "--method", server_bench.DOGET, "--requests", good,
                    "--duration", "0.5", "--warmup", "0.1"])
    assert res["calls"] > 0 and res["errors"] == 0
    bad_sql = b"SELECT * FROM nowhere"
    bad = _reqfile(tmp_path, "b.bin", [b"\x0a" + client._varint(len(bad_sql)) + bad_sql])
    res = _loadgen(["--target", s.addr, "--method", server_bench.DOGET, "--requests", bad,
                    "--duration", "0.5", "--warmup", "0.1"])
    assert res["calls"] > 0 and res["errors"] == res["calls"] and res["first_error"]


def test_summary_ratios_and_goals():
    def pt(engine, qps, p99, scpu, calls, c=500, n=50):
        return {"tool": "loadgen", "engine": engine, "callers": c, "connections": n, "qps": qps,
                "p50_us": p99 / 2, "p99_us": p99, "server_cpu_s": scpu, "client_cpu_s": 0.1,
                "calls": calls, "ok": calls, "errors": 0, "check": "ok"}
    out = {"point": [pt("polaroid", 16000, 40_000, 0.8, 16000),
                     pt("polaroid", 18000, 45_000, 0.9, 18000),
                     pt("polaroid", 17000, 60_000, 0.85, 17000),
                     pt("polars-aio", 1000, 500_000, 1.0, 1000),
                     pt("flight-duckdb", 8000, 90_000, 1.0, 8000),
                     {"engine": "polaroid (file)", "error": "CreateTable failed: x"}],
           "stream": [{"engine": "polaroid (grpcio)", "seconds": 1.0, "nbytes": 10, "rows": 5,
                       "cpu_s": 1, "server_cpu_s": 0.5, "checks": {"rows": 5}},
                      {"engine": "flight-duckdb", "seconds": 2.0, "nbytes": 4_000_000_000,
                       "rows": 5, "cpu_s": 1, "server_cpu_s": 0.5, "checks": {"rows": 5}},
                      {"engine": "polars-aio", "error": "exit 1: boom"}]}

    class A:
        engines = server_bench.ENGINES
    summary, text = server_bench.summarise(out, A())
    row = next(r for r in summary["point"] if r["engine"] == "polaroid")
    assert row["qps"] == 17000 and row["p99_ms"] == 45.0  # medians of the repetitions
    assert row["server_us_per_query"] == pytest.approx(2.55 / 51000 * 1e6)
    assert row["x_polars-aio"] == 17 and row["x_flight-duckdb"] == pytest.approx(17000 / 8000)
    goals = {g["what"]: g["met"] for g in summary["goals"]}
    assert goals["500 callers / 50 connections: >= 15000 QPS, p99 <= 50 ms"]
    assert goals["server CPU <= 60 us per query (500/50)"]
    assert goals[">= 5x the grpc.aio + Polars peer's QPS (500/50)"]
    assert goals[">= 2x the Flight + DuckDB peer's QPS (500/50)"]
    st = {r["engine"]: r for r in summary["stream"]}
    assert st["flight-duckdb"]["check"] == "reference"
    assert st["polaroid (grpcio)"]["gbps"] == pytest.approx(4.0)  # the reference's bytes
    assert st["polaroid (grpcio)"]["x_fastest_peer"] == 0.5
    assert "error" in st["polars-aio"]
    assert "CreateTable failed" in text and "boom" in text
