"""Retry with exponential backoff and jitter, and a circuit breaker, for the asyncio client.

Both are plain objects without I/O so they can be tested on their own (a fake clock); the
client (:mod:`polaroid.async_client`) consults them around every call.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, FrozenSet, Optional

import grpc

from .errors import UnavailableError

__all__ = ["RetryPolicy", "CircuitBreaker", "CircuitOpenError", "BreakerState"]


@dataclass(frozen=True)
class RetryPolicy:
    """How a call that failed with a retryable status is tried again.

    ``max_attempts`` counts the first try (1 = never retry). The n-th retry waits a random time
    in ``[0, min(max_backoff, initial_backoff * multiplier**(n-1))]`` ("full jitter"), or, with
    ``jitter`` below 1, in ``[d * (1 - jitter), d]``. Only idempotent calls are retried (every
    read; Execute only before its first response; never an Append already sent).
    """

    max_attempts: int = 4
    initial_backoff: float = 0.05
    max_backoff: float = 2.0
    multiplier: float = 2.0
    jitter: float = 1.0
    retryable: FrozenSet[grpc.StatusCode] = field(
        default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE}))

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        d = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, retry - 1))
        j = min(1.0, max(0.0, self.jitter))
        return d * (1.0 - j) + d * j * rng()

    def should_retry(self, code: Optional[grpc.StatusCode], attempt: int) -> bool:
        """Whether a call that failed with ``code`` on attempt ``attempt`` (1-based) is retried."""
        return attempt < self.max_attempts and code in self.retryable


NO_RETRY = RetryPolicy(max_attempts=1)


class BreakerState:
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpenError(UnavailableError):
    """The client's circuit breaker is open: the server failed repeatedly and calls fail fast
    (without touching the network) until ``reset_timeout`` has passed."""


class CircuitBreaker:
    """closed -> open after ``failure_threshold`` consecutive failures; open -> half-open after
    ``reset_timeout`` seconds; in half-open at most ``half_open_max_calls`` trial calls go
    through: ``success_threshold`` successes close it, one failure opens it again.

    Failures are the calls that ended with a status in ``failure_codes`` (by default the server
    being unreachable: UNAVAILABLE); other errors (a missing file, a bad query) mean the server
    answered, so they count as successes for the breaker.
    """

    def __init__(self, failure_threshold: int = 5, reset_timeout: float = 5.0,
                 half_open_max_calls: int = 1, success_threshold: int = 1,
                 failure_codes: Optional[FrozenSet[grpc.StatusCode]] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failure_threshold < 1 or half_open_max_calls < 1 or success_threshold < 1:
            raise ValueError("circuit breaker thresholds must be >= 1")
        self.failure_threshold = failure_threshold
        self.reset_timeout = float(reset_timeout)
        self.half_open_max_calls = half_open_max_calls
        self.success_threshold = success_threshold
        self.failure_codes = failure_codes if failure_codes is not None else frozenset(
            {grpc.StatusCode.UNAVAILABLE})
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._successes = 0
        self._opened_at = 0.0
        self._trials = 0  # half-open calls admitted and not finished
        self.times_opened = 0
        self.transitions: list = []  # (from, to) in order, for observability and tests

    @property
    def state(self) -> str:
        """"closed", "open" or "half_open" (open turns half-open once reset_timeout passed)."""
        if self._state == BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_timeout:
            self._set(BreakerState.HALF_OPEN)
            self._trials = 0
            self._successes = 0
        return self._state

    def _set(self, s: str) -> None:
        if s != self._state:
            self.transitions.append((self._state, s))
            self._state = s

    def retry_after(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        if self.state != BreakerState.OPEN:
            return 0.0
        return max(0.0, self.reset_timeout - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now; a True in half-open reserves a trial slot, which the
        caller must end with ``record_success`` or ``record_failure`` (or ``release``)."""
        s = self.state
        if s == BreakerState.CLOSED:
            return True
        if s == BreakerState.OPEN:
            return False
        if self._trials < self.half_open_max_calls:
            self._trials += 1
            return True
        return False

    def release(self) -> None:
        """A call admitted by ``allow`` ended without a verdict (cancelled by the caller)."""
        if self._state == BreakerState.HALF_OPEN and self._trials > 0:
            self._trials -= 1

    def is_failure(self, code: Optional[grpc.StatusCode]) -> bool:
        return code in self.failure_codes

    def record(self, code: Optional[grpc.StatusCode]) -> None:
        """Records a finished call by its status (None or OK = success)."""
        if self.is_failure(code):
            self.record_failure()
        else:
            self.record_success()

    def record_success(self) -> None:
        s = self._state
        if s == BreakerState.HALF_OPEN:
            self._trials = max(0, self._trials - 1)
            self._successes += 1
            if self._successes >= self.success_threshold:
                self._set(BreakerState.CLOSED)
                self._failures = 0
        else:
            self._failures = 0

    def record_failure(self) -> None:
        s = self._state
        if s == BreakerState.HALF_OPEN:
            self._trials = max(0, self._trials - 1)
            self._open()
        elif s == BreakerState.CLOSED:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()
        # already open: a straggler that was admitted before it opened; nothing changes

    def _open(self) -> None:
        self._set(BreakerState.OPEN)
        self._opened_at = self._clock()
        self._failures = 0
        self._successes = 0
        self._trials = 0
        self.times_opened += 1

    def reset(self) -> None:
        """Closes the breaker (e.g. after a successful health check)."""
        self._set(BreakerState.CLOSED)
        self._failures = 0
        self._trials = 0

    def open_error(self, target: str) -> CircuitOpenError:
        return CircuitOpenError(
            f"circuit breaker open for {target}: the server failed {self.failure_threshold} calls "
            f"in a row; next trial in {self.retry_after():.2f} s",
            code=grpc.StatusCode.UNAVAILABLE)

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state} failures={self._failures}>"
