"""Tests of the benchmark tools: .venv/bin/python -m pytest -q bench/test_bench.py

Checks the generator's promises (schema, determinism whatever the parallelism, ordering across
files, skew, manifest skip) against pyarrow, and the harness's measurement and parsing helpers."""
import json
import os
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_ticks  # noqa: E402
import queries  # noqa: E402
import run  # noqa: E402

FILES, ROWS = 3, 20_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    a = tmp_path_factory.mktemp("a")
    b = tmp_path_factory.mktemp("b")
    gen_ticks.generate(str(a), FILES, ROWS, seed=7, jobs=1, quiet=True)
    gen_ticks.generate(str(b), FILES, ROWS, seed=7, jobs=3, quiet=True)
    return a, b


def _read(d):
    return pa.concat_tables(pq.read_table(gen_ticks.file_name(str(d), f)) for f in range(FILES))


def test_schema_and_sizes(data):
    t = _read(data[0])
    assert t.num_rows == FILES * ROWS
    types = {f.name: f.type for f in t.schema}
    assert types["ts"] == pa.timestamp("us")
    assert pa.types.is_string(types["symbol"]) or pa.types.is_large_string(types["symbol"])
    assert types["price"] == pa.float64() and types["size"] == pa.float64()
    assert types["trade_id"] == pa.int64()
    assert set(pc.unique(t["side"]).to_pylist()) == {"B", "S"}
    assert set(pc.unique(t["exchange"]).to_pylist()) <= set(gen_ticks.EXCHANGES)
    assert t.column("price").null_count == 0 and pc.min(t["price"]).as_py() > 0
    md = pq.ParquetFile(gen_ticks.file_name(str(data[0]), 0)).metadata
    assert md.row_group(0).column(0).compression == "ZSTD"


def test_deterministic_whatever_the_parallelism(data):
    assert _read(data[0]).equals(_read(data[1]))


def test_ordering_across_files(data):
    t = _read(data[0])
    ts = t["ts"].cast(pa.int64()).to_numpy()
    tid = t["trade_id"].to_numpy()
    assert (ts[1:] > ts[:-1]).all()
    assert (tid[1:] > tid[:-1]).all() and tid[0] == 1


def test_symbol_skew(data):
    vc = pc.value_counts(_read(data[0])["symbol"]).to_pylist()
    counts = sorted((x["counts"] for x in vc), reverse=True)
    assert 150 <= len(counts) <= gen_ticks.N_SYMBOLS
    assert counts[0] > 20 * counts[len(counts) // 2]  # Zipf-like: the head dominates the median


def test_price_walk_is_continuous_across_files(data):
    t = _read(data[0]).select(["symbol", "price"])
    top = pc.value_counts(t["symbol"]).to_pylist()
    sym = max(top, key=lambda x: x["counts"])["values"]
    p = t.filter(pc.equal(t["symbol"], sym))["price"].to_numpy()
    step = abs(p[1:] / p[:-1] - 1)
    assert step.max() < 0.01  # no jump at file boundaries (a day's anchor move is ~2 %)


def test_manifest_skips_regeneration(data, capsys):
    d = str(data[0])
    before = os.path.getmtime(gen_ticks.file_name(d, 0))
    gen_ticks.generate(d, FILES, ROWS, seed=7)
    assert "up to date" in capsys.readouterr().out
    assert os.path.getmtime(gen_ticks.file_name(d, 0)) == before
    with open(gen_ticks.manifest_path(d)) as fh:
        assert json.load(fh)["total_rows"] == FILES * ROWS
    assert not gen_ticks.is_current(d, gen_ticks.params_of(8, FILES, ROWS))


def test_parse_rows():
    assert queries.parse_rows("150000000 rows\n") == {"rows": 150000000}
    assert queries.parse_rows("rows: 12\n") == {"rows": 12}
    assert queries.parse_rows("42\n") == {"rows": 42}
    with pytest.raises(ValueError):
        queries.parse_rows("done\n")


def test_compare_checks():
    assert run.compare_checks({"rows": 3, "sum(price)": 1.0}, {"rows": 3, "sum(price)": 1.0 + 1e-12}) == "ok"
    assert run.compare_checks({"rows": 3}, {"rows": 4}).startswith("MISMATCH")
    assert run.compare_checks({"sum(price)": 1.0}, {"sum(price)": 1.001}).startswith("MISMATCH")


def test_run_child_measures_peak_rss_and_errors(tmp_path):
    run.LAUNCHER = run.compile_tool("rusage_exec")
    assert run.LAUNCHER is not None
    py = sys.executable
    small = run.run_child([py, "-c", "pass"])
    big = run.run_child([py, "-c", "b = bytearray(300 << 20); b[::4096] = b'x' * len(b[::4096])"])
    assert small["rc"] == 0 and big["rc"] == 0
    assert big["maxrss"] - small["maxrss"] > 250 << 20
    assert run.run_child([py, "-c", "import sys; sys.exit(3)"])["rc"] == 3
    assert run.run_child([py, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"])["rc"] == -11
    killed = run.run_child([py, "-c", "import time; time.sleep(30)"], timeout=0.3)
    assert killed["killed"] and "timeout" in killed["killed"]
    assert run.run_child(["/nonexistent/prog"])["rc"] == 127


def test_compare_tables():
    import compare
    ref = pa.table({"k": pa.array([1, 2, None], pa.int32()), "s": pa.array(["a", "b", None]),
                    "v": pa.array([1.0, float("nan"), None])})
    # another order, other widths and layouts, doubles within the tolerance: equal as multisets
    got = pa.table({"k": pa.array([None, 2, 1], pa.int64()),
                    "s": pa.array([None, "b", "a"]).dictionary_encode(),
                    "v": pa.array([None, float("nan"), 1.0 + 1e-12])})
    assert compare.compare_tables(ref, got) is None
    assert compare.compare_tables(ref, got, ordered=True) is not None
    assert "rows" in compare.compare_tables(ref, got.slice(1))
    bad = got.set_column(2, "v", pa.array([None, float("nan"), 1.5]))
    assert "1.5" in compare.compare_tables(ref, bad)
    # an integer column matches a decimal (DuckDB HUGEINT sum) or double one numerically
    hugeint = pa.table({"x": pa.array([3], pa.decimal128(38, 0))})
    assert compare.compare_tables(hugeint, pa.table({"x": pa.array([3], pa.int64())})) is None
    assert compare.compare_tables(hugeint, pa.table({"x": pa.array([4], pa.int64())})) is not None
    # a string where the reference has a number is a type difference
    assert "type" in compare.compare_tables(hugeint, pa.table({"x": pa.array(["3"])}))
    # timestamps of any unit are the same instants
    ts = pa.table({"t": pa.array([1_000_000], pa.timestamp("us"))})
    assert compare.compare_tables(ts, pa.table({"t": pa.array([1_000_000_000],
                                                               pa.timestamp("ns"))})) is None
    # near-equal doubles (another evaluation order) sort together, so the next column lines up:
    # exact -18.71 rows around one computed as -18.710000000000036
    ref = pa.table({"a": [-18.71, -18.71, -18.71], "b": [0.0, 0.05, 0.1]})
    got = pa.table({"a": [-18.71, -18.710000000000036, -18.71], "b": [0.0, 0.1, 0.05]})
    assert compare.compare_tables(ref, got) is None
    assert compare.compare_tables(ref, got.set_column(1, "b", pa.array([0.0, 0.1, 0.06]))) \
        is not None
    # NULL and NaN doubles sort apart, so the rows beside them line up in any input order
    ref = pa.table({"s": ["a", "a", "a"], "v": [None, float("nan"), 2.0]})
    got = pa.table({"s": ["a", "a", "a"], "v": [float("nan"), 2.0, None]})
    assert compare.compare_tables(ref, got) is None
    assert compare.compare_tables(ref, got.set_column(1, "v", pa.array([float("nan"), 2.0, 2.0]))) \
        is not None


def test_sql_queries_registered():
    assert {"h2o", "ticks", "read"} <= set(queries.GROUPS)
    h2o = [q for q in queries.QUERIES.values() if q.group == "h2o"]
    assert len(h2o) == 10 and all(q.verify and "polaroid" in q.impls for q in h2o)
    ctx = queries.Ctx("data/x/*.parquet", tables={"symbols": "data/s.parquet"})
    assert ctx.sql("SELECT * FROM {x} JOIN {symbols}") == \
        "SELECT * FROM read_parquet('data/x/*.parquet') JOIN read_parquet('data/s.parquet')"


def test_top_symbol_is_the_most_frequent():
    symbols = gen_ticks._master(gen_ticks.DEFAULT_SEED, 1)[0]
    assert symbols[0] == queries.TOP_SYMBOL


def test_h2o_generator(tmp_path):
    import gen_h2o
    t = gen_h2o.make_table(20_000, seed=3)
    assert t.num_rows == 20_000 and t.column_names == ["id1", "id2", "id3", "id4", "id5", "id6",
                                                        "v1", "v2", "v3"]
    assert pc.min(t["v1"]).as_py() >= 1 and pc.max(t["v1"]).as_py() <= 5
    assert pc.max(t["v2"]).as_py() <= 15 and pc.max(t["id6"]).as_py() <= 200
    assert pc.count_distinct(t["id1"]).as_py() == 100 and len(t["id3"][0].as_py()) == 12
    assert t.equals(gen_h2o.make_table(20_000, seed=3))


@pytest.mark.parametrize("args,docs", [
    ([], True),                                                   # make bench: everything, full size
    (["--reps", "3", "--threads", "0"], True),
    (["--group", "read,h2o,ticks,tpch,server,async,notebook"], True),
    (["--engines", "polaroid,polars,polars-streaming,duckdb,duckdb-table,polars-aio,flight-duckdb"], True),
    (["--small"], False),                                         # make run / quick runs
    (["--group", "h2o"], False),
    (["--group", "read,h2o,ticks"], False),                       # no server/async/notebook
    (["--group", "server"], False),
    (["--only", "q1"], False),
    (["--engines", "polaroid,duckdb"], False),
    (["--small", "--group", "read,h2o,ticks,tpch,server,async,notebook"], False),
])
def test_report_goes_to_docs_only_after_a_whole_full_size_run(args, docs, monkeypatch):
    a = run.parser().parse_args(args)
    a.report_docs = run.report_to_docs(a)
    assert a.report_docs is docs
    calls = []
    monkeypatch.setattr(run, "_run_streamed", lambda argv, timeout, guard: calls.append(argv) or 0)
    assert run.run_report(a) == 0
    (argv,) = calls
    assert argv[1].endswith(os.path.join("bench", "report.py"))
    out, img = argv[argv.index("--out") + 1], argv[argv.index("--img") + 1]
    where = os.path.join(run.ROOT, "docs") if docs else os.path.join(run.ROOT, "build", "bench")
    assert out == os.path.join(where, "PERFORMANCE_COMPARISON.md")
    assert img == os.path.join(where, "img")


def test_partial_run_writes_no_docs(tmp_path, monkeypatch):
    """The whole path of a partial run's report (bench/report.py for real, on the results files
    of an empty build/bench stand-in): the files appear under build/bench and docs/ is untouched."""
    docs = [os.path.join(run.ROOT, "docs", "PERFORMANCE_COMPARISON.md")]
    before = {p: os.stat(p).st_mtime_ns for p in docs if os.path.exists(p)}
    monkeypatch.setattr(run, "ROOT", str(tmp_path))  # build/bench/... under tmp_path
    a = run.parser().parse_args(["--small", "--group", "h2o"])
    a.report_docs = run.report_to_docs(a)
    real = run._run_streamed
    b = str(tmp_path / "build" / "bench")
    files = ["--results", f"{b}/results.json", "--server", f"{b}/server.json",
             "--async", f"{b}/async.json", "--notebook", f"{b}/notebook/results.json"]
    monkeypatch.setattr(run, "_run_streamed",
                        lambda argv, t, g: real(argv + files + ["--no-charts"], t, g))
    assert run.run_report(a) == 0
    md = tmp_path / "build" / "bench" / "PERFORMANCE_COMPARISON.md"
    assert md.exists() and "Not measured yet" in md.read_text()
    assert not (tmp_path / "docs").exists()
    assert {p: os.stat(p).st_mtime_ns for p in docs if os.path.exists(p)} == before
