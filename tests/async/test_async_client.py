"""AsyncPolaroidClient against a live `polaroid serve`: every method, results compared with
pyarrow on the same files, errors as Err values, bounded concurrency, streaming, appends."""

from __future__ import annotations

import asyncio
import gc
import re
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import polaroid as pd
from conftest import N_TICK_FILES, TICK_ROWS, run
from polaroid.async_client import AsyncPolaroidClient, CircuitOpenError
from polaroid.errors import (DataLossError, InvalidArgumentError, NotFoundError, PermissionDeniedError,
                             PolaroidError, UnavailableError)
from polaroid.result import Err, Ok


def client(addr, **kw):
    kw.setdefault("timeout", 60)
    return AsyncPolaroidClient(addr, **kw)


def test_seed_chain_and_sources(addr, data):
    logged = []

    async def main():
        async with client(addr, max_concurrent=50) as c:
            assert (await c.health()) == Ok("SERVING")
            assert (await c.wait_ready(10)).is_ok()
            info = (await c.server_info()).unwrap()
            assert info.version
            result = await c.read_parquet("trades.parquet")
            out = (result.map(lambda df: df.select(["id", "x", "g"]))
                   .and_then(lambda df: c.filter(df, "x > 100"))
                   .map_err(lambda e: logged.append(e)))
            assert out.is_ok(), out
            t = (await c.collect(out)).unwrap()
            exp = data.trades.select(["id", "x", "g"]).filter(pc.greater(data.trades["x"], 100))
            assert t.equals(exp)
            # the same chain on a missing file: the Err flows through and is logged once
            bad = await c.read_parquet("nope.parquet")
            out2 = (bad.map(lambda df: df.select(["id"]))
                    .and_then(lambda df: c.filter(df, "x > 100"))
                    .map_err(lambda e: logged.append(e)))
            assert isinstance(out2.unwrap_err(), NotFoundError)
            assert logged == [out2.unwrap_err()]
            # collect of an Err passes it through
            assert (await c.collect(out2)) == out2
            # the DataFrame's own terminal methods work as coroutines
            df = out.unwrap()
            assert (await df.collect()).unwrap().num_rows == exp.num_rows
            assert (await c.count(df)).unwrap() == exp.num_rows
            assert (await c.schema(df)).unwrap().names == ["id", "x", "g"]
            assert "async" in repr(df)
            # csv / ipc / sql / query
            t_csv = (await c.collect(await c.read_csv("trades.csv"))).unwrap()
            assert t_csv.num_rows == data.trades.num_rows
            t_ipc = (await c.collect(await c.read_ipc("trades.arrow"))).unwrap()
            assert t_ipc.equals(data.trades)
            q = await c.sql("SELECT g, count(*) AS n FROM t GROUP BY g ORDER BY g NULLS LAST",
                            t=await c.read_parquet("trades.parquet"))
            tq = (await c.collect(q)).unwrap()
            assert sum(tq["n"].to_pylist()) == data.trades.num_rows
            tq2 = (await c.query("SELECT count(*) AS n FROM read_parquet('trades/*.parquet')")).unwrap()
            assert tq2["n"].to_pylist() == [data.trades.num_rows]
            bad_sql = await c.sql("SELEC oops")
            assert isinstance(bad_sql.unwrap_err(), InvalidArgumentError)
            assert isinstance((await c.query("SELECT nope FROM read_parquet('trades.parquet')")).unwrap_err(),
                              PolaroidError)
            assert isinstance((await c.read_parquet("../outside.parquet")).unwrap_err(), PermissionDeniedError)
            # explain / describe / write
            assert "filter" in (await c.explain(df)).unwrap().lower()
            d = (await c.describe(await c.read_parquet("groups.parquet"))).unwrap()
            assert "statistic" in d.column_names
            w = (await c.write_parquet(df, "out/async.parquet")).unwrap()
            assert w.rows == exp.num_rows
            assert pq.read_table(data.root / "out" / "async.parquet").to_pylist() == exp.to_pylist()

    run(main())


def test_len_of_async_frame_is_a_clear_type_error(addr):
    """len() cannot await: it raises a TypeError naming client.count/collect (no coroutine left
    un-awaited, no query sent); the row count comes from client.count."""
    import warnings

    async def main():
        async with client(addr) as c:
            df = (await c.read_parquet("trades.parquet")).unwrap()
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a "coroutine was never awaited" would fail here
                with pytest.raises(TypeError, match=r"client\.count\(df\).*client\.collect\(df\)"):
                    len(df)
                with pytest.raises(TypeError, match="client.count"):
                    df.shape
                gc.collect()
            n = (await c.count(df)).unwrap()
            assert n == (await c.collect(df)).unwrap().num_rows > 0

    run(main())


def test_lazy_methods_return_results_at_once(addr, data):
    async def main():
        async with client(addr) as c:
            df = (await c.read_parquet("trades.parquet")).unwrap()
            steps = [
                c.select(df, ["id", "g", "x"]),
                c.filter(df, pd.col("x") > 100),
                c.with_columns(df, y=pd.col("x") * 2),
                c.sort(df, "id", descending=True),
                c.head(df, 7),
                c.slice(df, 10, 5),
                c.rename(df, {"id": "ident"}),
                c.drop(df, "name"),
                c.unique(df, "g"),
                c.group_by(df, "g", pd.col("x").sum().alias("sx")),
                c.join(df, c.table("nope") if False else (await c.read_parquet("groups.parquet")), on="g"),
                c.union(df, df),
            ]
            for s in steps:
                assert isinstance(s, Ok), s
            res = await c.batch_collect(steps)
            assert all(r.is_ok() for r in res), [r for r in res if r.is_err()]
            t = data.trades
            assert res[0].unwrap().column_names == ["id", "g", "x"]
            assert res[4].unwrap().num_rows == 7
            assert res[5].unwrap()["id"].to_pylist() == list(range(10, 15))
            assert res[6].unwrap().column_names[0] == "ident"
            assert "name" not in res[7].unwrap().column_names
            assert res[11].unwrap().num_rows == 2 * t.num_rows
            sx = {r["g"]: r["sx"] for r in res[9].unwrap().to_pylist()}
            exp = {r["g"]: r["x_sum"] for r in t.group_by("g").aggregate([("x", "sum")]).to_pylist()}
            assert sx.keys() == exp.keys()
            for k in exp:
                assert sx[k] == pytest.approx(exp[k])
            # errors in plan building are Err values, not exceptions
            assert isinstance(c.filter(df).unwrap_err(), InvalidArgumentError)
            assert isinstance(c.select(df).unwrap_err(), InvalidArgumentError)
            assert isinstance(c.filter("not a frame", "x > 1").unwrap_err(), InvalidArgumentError)
            assert isinstance(c.join(df, df, how="sideways").unwrap_err(), InvalidArgumentError)
            e = Err(NotFoundError("x"))
            assert c.filter(e, "x > 1") is e and c.select(e, "a") is e
            # a bad column: Err at collect
            r = await c.collect(c.select(df, "no_such_column"))
            assert isinstance(r.unwrap_err(), PolaroidError)
            # DataFrames of the sync client are accepted (only their plan is used)
            sync = pd.Client(addr)
            try:
                sdf = sync.read_parquet("groups.parquet")
                assert (await c.collect(sdf)).unwrap().equals(data.groups)
            finally:
                sync.close()

    run(main())


def test_batch_read_errs_exactly_for_bad_files(addr, data):
    paths = []
    bad = {}
    for i in range(N_TICK_FILES):
        paths.append(f"ticks/t{i:02d}.parquet")
        if i == 2:
            paths.append("ticks/missing.parquet"); bad[len(paths) - 1] = NotFoundError
        if i == 5:
            paths.append("corrupt.parquet"); bad[len(paths) - 1] = DataLossError
        if i == 8:
            paths.append("truncated.parquet"); bad[len(paths) - 1] = DataLossError
    paths.append("garbage.arrow"); bad[len(paths) - 1] = PolaroidError

    async def main():
        async with client(addr, max_concurrent=4) as c:
            rs = await c.batch_read(paths)
            assert len(rs) == len(paths)
            for i, r in enumerate(rs):
                if i in bad:
                    assert r.is_err(), (paths[i], r)
                    assert isinstance(r.unwrap_err(), bad[i]), (paths[i], r)
                else:
                    assert r.is_ok(), (paths[i], r)
            assert c.stats.peak_in_flight <= 4
            tables = await c.batch_collect(rs)
            for i, t in enumerate(tables):
                if i in bad:
                    assert t == rs[i]  # the Err passes through, in its place
                else:
                    n = int(paths[i][7:9])
                    assert t.unwrap().equals(pq.read_table(data.root / paths[i])), paths[i]
                    assert t.unwrap()["symbol"][0].as_py() == f"S{n:02d}"
            # materialised reads: every byte is read on the server, kept behind handles
            good = [p for i, p in enumerate(paths) if i not in bad][:3]
            ms = await c.batch_read(good + ["corrupt.parquet"], materialize=True)
            assert [m.is_ok() for m in ms] == [True, True, True, False]
            assert len(c.handles()) == 3
            hb = (await c.heartbeat()).unwrap()
            assert sorted(hb[0]) == sorted(h.id for h in c.handles()) and hb[1] == []
            t0 = (await c.collect(ms[0])).unwrap()
            assert t0.num_rows == TICK_ROWS

    run(main())


def test_stream_collect_equals_collect_and_is_lazy(addr, server, data):
    async def main():
        async with client(addr) as c:
            df = (await c.read_parquet("trades.parquet")).unwrap()
            df = c.filter(df, "q > -50").unwrap()
            full = (await c.collect(df)).unwrap()
            batches = [b async for b in c.stream_collect(df, max_message_bytes=64 << 10)]
            assert len(batches) > 1
            assert pa.Table.from_batches(batches).equals(full)
            rs = [r async for r in c.stream_results(df)]
            assert all(r.is_ok() for r in rs)
            # errors: raised by stream_collect, a final Err from stream_results
            bad = c.select(df, "nope").unwrap()
            with pytest.raises(PolaroidError):
                async for _ in c.stream_collect(bad):
                    pass
            rs = [r async for r in c.stream_results(bad)]
            assert rs[-1].is_err()
            # flow control: a consumer that stops after one batch holds the stream; the server
            # has not streamed the whole 32 MB result meanwhile, and leaving cancels the query
            big = (await c.read_parquet("big.parquet")).unwrap()
            n_cancelled = server.stderr_text.count("method=Execute status=CANCELLED")
            agen = c.stream_collect(big, max_message_bytes=256 << 10)
            first = await agen.__anext__()
            assert first.num_rows > 0
            await asyncio.sleep(0.5)
            assert c.stats.in_flight == 1
            await agen.aclose()
            assert c.stats.in_flight == 0
            # the server logs what it had sent when the client cancelled
            line = ""
            for _ in range(100):
                lines = [x for x in server.stderr_text.splitlines() if "method=Execute status=CANCELLED" in x]
                if len(lines) > n_cancelled:
                    line = lines[-1]
                    break
                await asyncio.sleep(0.02)
            assert line, "the server did not log the cancelled stream"
            sent = int(re.search(r" bytes=(\d+)", line).group(1))
            rows = int(re.search(r" rows=(\d+)", line).group(1))
            assert rows < 2_000_000 and sent < 24e6, line
            print(f"streamed before the paused consumer cancelled: {sent / 1e6:.1f} MB of 32 MB")
            # the connection is still good
            assert (await c.count(big)).unwrap() == 2_000_000

    run(main())


def test_500_tasks_never_exceed_max_concurrent(addr, server):
    async def main():
        async with client(addr, max_concurrent=50) as c:
            await c.wait_ready(10)
            peak_server = 0.0
            stop = asyncio.Event()

            async def sample():
                nonlocal peak_server
                loop = asyncio.get_running_loop()
                while not stop.is_set():
                    m = await loop.run_in_executor(None, server.scrape)
                    peak_server = max(peak_server, m.get("polaroid_calls_in_flight", 0.0))
                    await asyncio.sleep(0.005)

            baseline = server.scrape().get("polaroid_calls_in_flight", 0.0)  # stragglers of earlier tests
            sampler = asyncio.ensure_future(sample())
            t0 = time.perf_counter()
            q = "SELECT k, v FROM read_parquet('big.parquet') WHERE k = {}"
            rs = await asyncio.gather(*(c.query(q.format(i * 37)) for i in range(500)))
            dt = time.perf_counter() - t0
            stop.set()
            await sampler
            assert all(r.is_ok() for r in rs), [r for r in rs if r.is_err()][:3]
            for i, r in enumerate(rs):
                assert r.unwrap()["v"].to_pylist() == [i * 37 * 3]
            assert c.stats.peak_in_flight == 50, c.stats
            assert c.stats.in_flight == 0
            assert 0 < peak_server <= 50 + baseline, (peak_server, baseline)
            print(f"500 point queries through max_concurrent=50: {500 / dt:.0f} QPS, "
                  f"server peak in flight {peak_server:.0f}")

    run(main())


def test_append_100k_records_flush_count(addr):
    async def main():
        async with client(addr) as c:
            (await c.create_table("ticks_a", {"ts": "BIGINT", "symbol": "VARCHAR", "price": "DOUBLE"},
                                  replace=True)).unwrap()
            t0 = time.perf_counter()
            for i in range(100_000):
                r = await c.append_record({"ts": i, "symbol": "S%d" % (i % 7), "price": i * 0.5},
                                          table="ticks_a")
                assert r is not None and r.is_ok()
            f = await c.flush()
            dt = time.perf_counter() - t0
            assert f == Ok(100_000), f
            n = (await c.query("SELECT count(*) AS n, sum(ts) AS s FROM ticks_a")).unwrap()
            assert n["n"].to_pylist() == [100_000]
            assert n["s"].to_pylist() == [sum(range(100_000))]
            assert c.stats.append_requests < 100  # buffered, never one RPC per record
            print(f"append_record: {100_000 / dt:.0f} records/s acknowledged")
            # append_records with a table and with dicts; append() waits for the ack
            tab = pa.table({"ts": pa.array([1, 2], pa.int64()), "symbol": ["x", "y"], "price": [1.0, 2.0]})
            assert (await c.append_records(tab, table="ticks_a")) == Ok(2)
            assert (await c.append_records([{"ts": 3, "symbol": "z", "price": 3.0}], table="ticks_a")) == Ok(1)
            assert (await c.flush("ticks_a")) == Ok(3)
            ar = (await c.append("ticks_a", [{"ts": 4, "symbol": "w", "price": 4.0}])).unwrap()
            assert ar.rows == 1 and ar.table_rows == 100_004
            # errors: unknown table, records that do not fit
            assert (await c.append_record({"a": 1}, table="no_such_table")).is_ok()  # buffered
            e = await c.flush("no_such_table")
            assert isinstance(e.unwrap_err(), NotFoundError), e
            await c.append_record({"ts": "not a number", "symbol": 1, "price": None}, table="ticks_a")
            assert isinstance((await c.flush("ticks_a")).unwrap_err(), InvalidArgumentError)
            tl = (await c.list_tables()).unwrap()
            assert any(t.name == "ticks_a" and t.num_rows == 100_004 for t in tl)
            assert (await c.drop_table("ticks_a")) == Ok(True)

    run(main())


def test_append_backpressure(addr):
    async def main():
        async with client(addr, append_batch_records=100, append_max_pending=300,
                          append_flush_interval=10.0) as c:
            (await c.create_table("bp", {"i": "BIGINT"}, replace=True)).unwrap()
            a = c._appender("bp")
            peak = 0
            for i in range(5000):
                assert (await c.append_record({"i": i}, table="bp")).is_ok()
                peak = max(peak, a.pending)
            assert peak <= 300
            assert (await c.flush()) == Ok(5000)
            assert (await c.query("SELECT count(DISTINCT i) AS n FROM bp")).unwrap()["n"][0].as_py() == 5000
            # time-based flush: a few records are sent by the timer without a flush call
        async with client(addr, append_flush_interval=0.05) as c:
            for i in range(3):
                await c.append_record({"i": 10_000 + i}, table="bp")
            await asyncio.sleep(0.5)
            assert c.stats.acked_rows == 3
            n = (await c.query("SELECT count(*) AS n FROM bp")).unwrap()["n"][0].as_py()
            assert n == 5003

    run(main())


def test_handles_heartbeat_and_drop(addr):
    async def main():
        async with client(addr, heartbeat_interval=0.1) as c:
            df = (await c.read_parquet("groups.parquet")).unwrap()
            cached = (await c.cache(df, ttl=1)).unwrap()
            hid = cached.handle.id
            await asyncio.sleep(1.6)  # longer than the TTL: the heartbeat keeps it alive
            assert (await c.collect(cached)).unwrap().num_rows == 5
            beats = (await c.heartbeat()).unwrap()
            assert beats == ([hid], [])
            # the handle goes when no DataFrame uses it
            del cached
            gc.collect()
            await asyncio.sleep(0.4)
            assert c.handles() == []
            r = await c.collect(pd.DataFrame(pd._proto.polaroid_pb2.Relation(
                handle=pd._proto.polaroid_pb2.HandleRef(id=hid)), c))
            assert isinstance(r.unwrap_err(), (NotFoundError, PermissionDeniedError))
            # explicit drop
            c2 = (await c.persist(df, materialize=False)).unwrap()
            assert (await c.drop_handle(c2)) == Ok(1)

    run(main())


def test_graceful_shutdown(addr):
    async def main():
        c = client(addr, shutdown_timeout=5.0)
        await c.__aenter__()
        df = (await c.read_parquet("trades.parquet")).unwrap()
        # calls in flight when close() starts finish; new calls get Err at once
        tasks = [asyncio.ensure_future(c.collect(df)) for _ in range(10)]
        await asyncio.sleep(0)
        await c.append_record({"ts": 1, "symbol": "a", "price": 1.0}, table="sd")  # buffered
        closer = asyncio.ensure_future(c.close())
        await asyncio.sleep(0)
        late = await c.collect(df)
        assert isinstance(late.unwrap_err(), UnavailableError)
        await closer
        res = await asyncio.gather(*tasks)
        assert all(r.is_ok() for r in res), res
        assert c.closed and c.stats.in_flight == 0

        # a deadline: a long query is cancelled, its caller gets an Err (no exception)
        c = client(addr, shutdown_timeout=0.3)
        await c.__aenter__()
        slow = await c.read_parquet("k20k.parquet")
        cross = (await c.sql("SELECT count(*) FROM a CROSS JOIN b WHERE a.k + b.k = 7",
                             a=slow, b=slow)).unwrap()
        t = asyncio.ensure_future(c.collect(cross))
        await asyncio.sleep(0.1)
        t0 = time.perf_counter()
        await c.close()
        assert time.perf_counter() - t0 < 3
        r = await t
        assert r.is_err(), r

        # the _shutdown_event starts the same shutdown
        c = client(addr)
        await c.__aenter__()
        assert (await c.health()).is_ok()
        c.shutdown_event.set()
        for _ in range(200):
            if c.closed:
                break
            await asyncio.sleep(0.01)
        assert c.closed
        assert (await c.health()).is_err()

    run(main())


def test_tokens_and_tls_options(data):
    from conftest import srv

    tok = data.root.parent / "tokens-async.txt"
    tok.write_text("good-token\n")
    s = srv.start_server(data.root, "--token-file", str(tok))
    try:
        async def main():
            async with AsyncPolaroidClient(s.address, token="good-token") as c:
                assert (await c.query("SELECT 1 AS one")).unwrap()["one"].to_pylist() == [1]
            async with AsyncPolaroidClient(s.address, token="bad") as c:
                e = (await c.query("SELECT 1 AS one")).unwrap_err()
                assert e.code.name == "UNAUTHENTICATED"
                assert c.breaker_state == "closed"  # an answer from the server is not an outage

        run(main())
    finally:
        assert s.terminate() == 0


def test_collect_same_host_shared_memory(addr, data):
    async def main():
        async with client(addr, shared_memory=None, shared_memory_min_bytes=0) as c, \
                client(addr, shared_memory=False) as plain:
            df = (await c.read_parquet("trades.parquet")).unwrap()
            await c._shared_memory_ok()  # else decided in the background by the first collect
            via_shm = (await c.collect(df)).unwrap()
            via_msgs = (await plain.collect(df)).unwrap()
            assert via_shm.equals(via_msgs) and via_shm.equals(data.trades)
            info = (await c.server_info()).unwrap()
            assert c._shm_ok == ("shared_memory" in info.capabilities and info.same_host)

    run(main())
