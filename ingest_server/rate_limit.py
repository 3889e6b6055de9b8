"""Per-agent token buckets: each agent may make ``rate`` requests per second, ``burst`` at once.

Kept per process; with ``--processes N`` an agent whose connections land on different
processes gets up to N times the rate, which is acceptable for a guard against runaway agents.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

PRUNE_AT = 200_000


class RateLimiter:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}

    def retry_after(self, agent_id: int) -> int:
        """Take one token for ``agent_id``; 0 if allowed, else whole seconds to wait."""
        if self._rate <= 0:
            return 0
        now = self._clock()
        tokens, last = self._buckets.get(agent_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1:
            self._buckets[agent_id] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self._rate))
        if len(self._buckets) >= PRUNE_AT:
            self._prune(now)
        self._buckets[agent_id] = (tokens - 1, now)
        return 0

    def _prune(self, now: float) -> None:
        full_after = self._burst / self._rate
        self._buckets = {
            agent: (tokens, last)
            for agent, (tokens, last) in self._buckets.items()
            if now - last < full_after
        }
