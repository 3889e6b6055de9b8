"""Token buckets per agent (or source address), shared by forked worker processes."""

from __future__ import annotations

import os

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


def test_every_key_has_a_bucket_of_its_own_even_in_a_crowded_table():
    limiter = RateLimiter(rate=1e-9, burst=1, slots=64, clock=Clock())
    keys = [*range(1, 41), 2**61 + 3, 2**62 - 1]  # agent ids, and hashes of addresses
    assert [limiter.retry_after(k) for k in keys] == [0] * len(keys)
    assert all(limiter.retry_after(k) > 0 for k in keys)


def test_the_limit_holds_in_total_across_forked_processes():
    limiter = RateLimiter(rate=1e-9, burst=5)  # created before forking, as argos-ingest does
    children = []
    for _ in range(4):
        reading, writing = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker: tries ten times, reports how often it was let through
            allowed = sum(limiter.retry_after(42) == 0 for _ in range(10))
            os.write(writing, bytes([allowed]))
            os._exit(0)
        os.close(writing)
        children.append((pid, reading))
    allowed = 0
    for pid, reading in children:
        allowed += os.read(reading, 1)[0]
        os.close(reading)
        os.waitpid(pid, 0)
    assert allowed == 5


def test_a_burst_is_told_once_until_the_bucket_is_full_again():
    clock = Clock()
    limiter = RateLimiter(rate=1, burst=3, clock=clock)
    began = [limiter.take(7).burst_began for _ in range(5)]
    assert began == [False, False, True, False, False]
    assert limiter.waiting(7) == 1
    clock.now = 1.0
    assert limiter.take(7).burst_began is False  # refilled one token, still the same burst
    clock.now = 10.0
    assert [limiter.take(7).burst_began for _ in range(3)] == [False, False, True]
