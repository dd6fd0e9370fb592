"""Retry/backoff and the circuit breaker: unit tests with a fake clock, and against a live
server that is killed in the middle of a batch and restarted on the same port."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from conftest import LiveServer, run
from polaroid.async_client import AsyncPolaroidClient
from polaroid._resilience import BreakerState, CircuitBreaker, CircuitOpenError, RetryPolicy
from polaroid.errors import UnavailableError
from polaroid.result import Ok

U = grpc.StatusCode.UNAVAILABLE
NF = grpc.StatusCode.NOT_FOUND


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_backoff_is_exponential_capped_and_jittered():
    p = RetryPolicy(max_attempts=5, initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, jitter=1.0)
    assert [p.backoff(n, rng=lambda: 1.0) for n in range(1, 7)] == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert p.backoff(3, rng=lambda: 0.0) == 0.0  # full jitter: anywhere in [0, d]
    half = RetryPolicy(initial_backoff=0.1, jitter=0.5)
    assert half.backoff(1, rng=lambda: 0.0) == pytest.approx(0.05)
    samples = {round(p.backoff(4), 6) for _ in range(50)}
    assert len(samples) > 10 and all(0 <= s <= 0.8 for s in samples)
    assert p.should_retry(U, 1) and p.should_retry(U, 4) and not p.should_retry(U, 5)
    assert not p.should_retry(NF, 1)
    assert not RetryPolicy(max_attempts=1).should_retry(U, 1)


def test_breaker_state_machine():
    clk = Clock()
    b = CircuitBreaker(failure_threshold=3, reset_timeout=2.0, half_open_max_calls=2, success_threshold=2,
                       clock=clk)
    assert b.state == BreakerState.CLOSED
    for _ in range(2):
        assert b.allow()
        b.record(U)
    b.record(NF)  # the server answered: resets the count
    for _ in range(2):
        b.record(U)
    assert b.state == BreakerState.CLOSED
    b.record(U)
    assert b.state == BreakerState.OPEN and b.times_opened == 1
    assert not b.allow() and b.retry_after() == pytest.approx(2.0)
    e = b.open_error("h:1")
    assert isinstance(e, CircuitOpenError) and isinstance(e, UnavailableError) and e.code == U
    clk.t += 1.9
    assert b.state == BreakerState.OPEN
    clk.t += 0.2
    assert b.state == BreakerState.HALF_OPEN
    assert b.allow() and b.allow() and not b.allow()  # two trial calls at most
    b.record_success()
    assert b.state == BreakerState.HALF_OPEN  # needs two successes
    b.record_success()
    assert b.state == BreakerState.CLOSED
    # half-open failure re-opens at once
    for _ in range(3):
        b.record(U)
    clk.t += 2.0
    assert b.allow()
    b.record(U)
    assert b.state == BreakerState.OPEN and b.times_opened == 3
    clk.t += 2.0
    assert b.allow()
    b.release()  # a cancelled trial frees its slot
    assert b.allow()
    assert b.transitions[:3] == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]
    b.reset()
    assert b.state == BreakerState.CLOSED
    with pytest.raises(ValueError):
        CircuitBreaker(failure_threshold=0)


def test_unreachable_server_retries_then_breaker_fails_fast():
    async def main():
        # nothing listens on this port
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        c = AsyncPolaroidClient(f"127.0.0.1:{port}", retry=RetryPolicy(max_attempts=3, initial_backoff=0.01,
                                                                         max_backoff=0.02),
                                breaker={"failure_threshold": 4, "reset_timeout": 30.0}, timeout=5)
        async with c:
            r1 = await c.query("SELECT 1")
            assert isinstance(r1.unwrap_err(), UnavailableError)
            assert c.stats.retries == 2  # three attempts
            r2 = await c.query("SELECT 1")
            assert isinstance(r2.unwrap_err(), UnavailableError)
            assert c.breaker_state == "open"
            t0 = time.perf_counter()
            rs = await asyncio.gather(*(c.query("SELECT 1") for _ in range(100)))
            assert time.perf_counter() - t0 < 0.5  # fail fast: no network
            assert all(isinstance(r.unwrap_err(), CircuitOpenError) for r in rs)
            assert c.stats.fast_failures >= 100
            assert (await c.health()).is_err()

    run(main())


def test_server_killed_mid_batch_breaker_opens_then_recovers(data):
    s = LiveServer(data.root)
    port, metrics_port = s.port, s.metrics_port
    s2 = None
    try:
        async def main():
            nonlocal s2
            breaker = CircuitBreaker(failure_threshold=3, reset_timeout=0.5)
            async with AsyncPolaroidClient(s.address, max_concurrent=8, breaker=breaker, timeout=20,
                                           retry=RetryPolicy(max_attempts=2, initial_backoff=0.02,
                                                             max_backoff=0.05)) as c:
                assert (await c.wait_ready(10)).is_ok()
                k = await c.read_parquet("k20k.parquet")
                slow = (await c.sql("SELECT count(*) AS n FROM a CROSS JOIN b WHERE a.k + b.k = 7",
                                    a=k, b=k)).unwrap()
                batch = asyncio.ensure_future(c.batch_collect([slow] * 16))
                await asyncio.sleep(0.3)
                s.kill()
                res = await asyncio.wait_for(batch, 30)
                errs = [r.unwrap_err() for r in res if r.is_err()]
                assert len(errs) >= 8, res  # at least those in flight and queued behind them
                assert all(isinstance(e, UnavailableError) for e in errs), errs
                assert breaker.state == BreakerState.OPEN
                r = await c.query("SELECT 1 AS one")
                assert isinstance(r.unwrap_err(), CircuitOpenError)
                # restart on the same port: the breaker half-opens after reset_timeout and the
                # trial call closes it again
                s2 = LiveServer(data.root, port=port, metrics_port=metrics_port)
                deadline = time.monotonic() + 20
                ok = None
                while time.monotonic() < deadline:
                    r = await c.query("SELECT 1 AS one")
                    if r.is_ok():
                        ok = r
                        break
                    await asyncio.sleep(0.1)
                assert ok is not None, r
                assert ok.unwrap()["one"].to_pylist() == [1]
                assert breaker.state == BreakerState.CLOSED
                assert ("open", "half_open") in breaker.transitions
                assert ("half_open", "closed") in breaker.transitions
                res = await c.batch_collect([c.frame_sql("SELECT 2 AS two")] * 20)
                assert all(r == res[0] for r in res) and res[0].is_ok()

        run(main())
    finally:
        s.kill()
        if s2 is not None:
            assert s2.terminate() == 0


def test_append_when_server_dies_reports_instead_of_hanging(data):
    s = LiveServer(data.root)
    try:
        async def main():
            async with AsyncPolaroidClient(s.address, append_batch_records=200, append_max_pending=1000,
                                           retry=RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02),
                                           breaker={"failure_threshold": 2, "reset_timeout": 60},
                                           shutdown_timeout=1.0) as c:
                (await c.create_table("dies", {"i": "BIGINT"})).unwrap()
                buffered = 0
                err = None
                t0 = time.monotonic()
                for i in range(200_000):
                    r = await asyncio.wait_for(c.append_record({"i": i}, table="dies"), 10)
                    if r.is_err():
                        err = r.unwrap_err()
                        break
                    buffered += 1
                    if i == 3000:
                        s.kill()  # backpressure must not wait forever for acks that never come
                assert err is not None and isinstance(err, UnavailableError), err
                assert time.monotonic() - t0 < 20
                f = await asyncio.wait_for(c.flush(), 10)
                assert f.is_err() or f.is_ok()
                acked = c.stats.acked_rows
                assert acked >= 1000 and c.lost_rows("dies") > 0
                # the record whose append_record returned the Err was in the lost buffer too
                assert acked + c.lost_rows("dies") == buffered + 1, (acked, c.lost_rows("dies"), buffered)

        run(main())
    finally:
        s.kill()
