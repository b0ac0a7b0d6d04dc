"""The agent circuit breaker: the guide's examples verbatim, plus the half-open probe."""

from __future__ import annotations

from aurorasoc.agents.factory import CircuitBreaker, CircuitState


class TestCircuitBreaker:
    def test_initial_state_is_closed(self):
        """New circuit breakers start CLOSED (allowing requests)."""
        cb = CircuitBreaker(threshold=3, timeout=30)
        assert cb.state == CircuitState.CLOSED

    def test_opens_after_threshold_failures(self):
        """Circuit opens after N consecutive failures."""
        cb = CircuitBreaker(threshold=3, timeout=30)
        cb.record_failure()
        cb.record_failure()
        cb.record_failure()
        assert cb.state == CircuitState.OPEN

    def test_success_resets_failures(self):
        """A success clears the failure counter."""
        cb = CircuitBreaker(threshold=3, timeout=30)
        cb.record_failure()
        cb.record_failure()
        cb.record_success()  # Resets!
        assert cb.state == CircuitState.CLOSED
        assert cb.allow_request() is True


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def opened(clock: FakeClock) -> CircuitBreaker:
    cb = CircuitBreaker(threshold=2, timeout=30, clock=clock)
    cb.record_failure()
    cb.record_failure()
    return cb


class TestHalfOpen:
    def test_open_rejects_until_timeout(self):
        clock = FakeClock()
        cb = opened(clock)
        clock.now += 29.9
        assert cb.allow_request() is False

    def test_after_timeout_exactly_one_probe_is_allowed(self):
        clock = FakeClock()
        cb = opened(clock)
        clock.now += 30
        assert cb.state == CircuitState.HALF_OPEN
        assert [cb.allow_request(), cb.allow_request()] == [True, False]

    def test_probe_success_closes(self):
        clock = FakeClock()
        cb = opened(clock)
        clock.now += 30
        cb.allow_request()
        cb.record_success()
        assert cb.state == CircuitState.CLOSED and cb.failures == 0

    def test_probe_failure_reopens_and_restarts_the_timer(self):
        clock = FakeClock()
        cb = opened(clock)
        clock.now += 30
        cb.allow_request()
        cb.record_failure()
        clock.now += 29
        assert cb.state == CircuitState.OPEN
        clock.now += 1
        assert cb.state == CircuitState.HALF_OPEN

    def test_failures_below_threshold_keep_it_closed(self):
        cb = CircuitBreaker(threshold=3, timeout=30)
        cb.record_failure()
        cb.record_failure()
        assert cb.state == CircuitState.CLOSED and cb.allow_request() is True
