"""Failed enrollments per source address: a key-guessing client is slowed to a trickle.

Each address may fail ``enroll_failure_burst`` times at once and ``enroll_failure_rate``
times a second after that (the buckets are shared by every worker process); beyond, every
enrollment from it is refused with ``Retry-After`` before its key is even looked at, until
its bucket refills. Successful enrollments cost nothing, so hosts enrolling together behind
one address are never slowed. The start of each burst (the failure that empties the bucket,
once until it is full again) is one audit entry, not each attempt.
"""

from __future__ import annotations

import asyncio
import hashlib
from concurrent.futures import Executor

from argos_core.services.enrollment_service import EnrollmentService
from ingest_server.rate_limit import RateLimiter


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed enrollments from this address; retry later.")
        self.retry_after = retry_after


class EnrollmentThrottle:
    def __init__(
        self, limiter: RateLimiter, enrollment: EnrollmentService, executor: Executor
    ) -> None:
        self._limiter = limiter
        self._enrollment = enrollment
        self._executor = executor

    def check(self, address: str) -> None:
        """Raise ``Throttled`` while ``address`` may not try again."""
        wait = self._limiter.waiting(_key(address))
        if wait:
            raise Throttled(wait)

    async def failed(self, address: str, channel: str) -> None:
        """Count a refused enrollment; audit the burst it begins, if it begins one."""
        if self._limiter.take(_key(address)).burst_began:
            await asyncio.get_running_loop().run_in_executor(
                self._executor,
                self._enrollment.record_throttled,
                address,
                channel,
                int(self._limiter.burst),
            )


def _key(address: str) -> int:
    digest = hashlib.blake2b(address.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 2  # the limiter's keys are below 2**62
