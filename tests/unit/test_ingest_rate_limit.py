"""Per-agent token buckets."""

from __future__ import annotations

from ingest_server.rate_limit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_agent_may_burst_then_waits_for_tokens_to_refill():
    clock = Clock()
    limiter = RateLimiter(rate=0.5, burst=2, clock=clock)
    assert [limiter.retry_after(1) for _ in range(3)] == [0, 0, 2]
    clock.now = 2.0
    assert limiter.retry_after(1) == 0
    assert limiter.retry_after(1) == 2


def test_agents_have_their_own_buckets_and_zero_rate_means_unlimited():
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=1, clock=clock)
    assert (limiter.retry_after(1), limiter.retry_after(2), limiter.retry_after(1)) == (0, 0, 1)
    unlimited = RateLimiter(rate=0, burst=0, clock=clock)
    assert all(unlimited.retry_after(1) == 0 for _ in range(100))
