"""Exponential backoff with full jitter that never retries sooner than ``Retry-After``."""

from __future__ import annotations

import random


class Backoff:
    def __init__(
        self, base_s: float = 1.0, cap_s: float = 60.0, rng: random.Random | None = None
    ) -> None:
        self._base_s = base_s
        self._cap_s = cap_s
        self._rng = rng or random.Random()
        self._failures = 0

    def reset(self) -> None:
        self._failures = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """Seconds to wait after one more failure."""
        ceiling = min(self._cap_s, self._base_s * 2**self._failures)
        self._failures = min(self._failures + 1, 30)
        delay = self._rng.uniform(ceiling / 2, ceiling)
        if retry_after is not None:
            # Spread the retries of everyone told the same Retry-After over a short window.
            delay = max(delay, retry_after + self._rng.uniform(0, 0.25 * retry_after + 0.5))
        return delay
