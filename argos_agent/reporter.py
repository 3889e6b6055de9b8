"""One agent's life: enroll, sample every interval, send batches, retry, re-enroll on 401.

Samples wait in a bounded buffer (oldest dropped first when the server stays away too long)
and are sent oldest first, up to ``batch_size`` per request. A batch leaves the buffer only
when the server has answered 200, so a retried batch may be counted as duplicates by the
server but is never lost while it fits in the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from argos_agent.backoff import Backoff
from argos_agent.protocol import Enrollment, IngestClient, Rejected, RetryLater, Unauthorized

log = logging.getLogger(__name__)

Sample = dict[str, Any]
DEFAULT_INTERVAL_S = 30


class EnrollmentRefused(Exception):
    """The server refused the branch/enrollment key: nothing the agent can fix by retrying."""


class Reporter:
    def __init__(
        self,
        client: IngestClient,
        enroll: Callable[[], Awaitable[Enrollment]],
        sample: Callable[[float], Sample],
        *,
        name: str = "agent",
        interval_s: float | None = None,
        enrollment: Enrollment | None = None,
        buffer_size: int = 10_000,
        batch_size: int = 500,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.time,
        on_enrolled: Callable[[Enrollment], None] | None = None,
        sleep: Callable[[asyncio.Event, float], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._enroll = enroll
        self._sample = sample
        self._name = name
        self._fixed_interval_s = interval_s
        self.enrollment = enrollment
        self.buffer: deque[Sample] = deque(maxlen=buffer_size)
        self._batch_size = batch_size
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._on_enrolled = on_enrolled
        self._sleep = sleep or sleep_until_stopped
        self._server_interval_s = DEFAULT_INTERVAL_S
        if enrollment is not None and enrollment.report_interval_s > 0:
            self._server_interval_s = enrollment.report_interval_s
        self.sent = 0
        self.duplicates = 0
        self.dropped = 0

    @property
    def interval_s(self) -> float:
        if self._fixed_interval_s:
            return self._fixed_interval_s
        return float(self._server_interval_s)

    async def run(self, stop: asyncio.Event, *, first_sample_in: float = 0.0) -> None:
        """Report until ``stop`` is set. Raises ``EnrollmentRefused`` on a refused key."""
        await self.ensure_enrolled(stop)
        next_sample = self._clock() + first_sample_in
        next_send = next_sample
        while not stop.is_set():
            now = self._clock()
            if now >= next_sample:
                self._collect(now)
                next_sample = max(next_sample + self.interval_s, now)
            if self.buffer and now >= next_send:
                next_send = await self._send_some(stop)
            wake = min(next_sample, next_send if self.buffer else next_sample)
            await self._sleep(stop, wake - self._clock())

    async def ensure_enrolled(self, stop: asyncio.Event) -> None:
        while self.enrollment is None and not stop.is_set():
            try:
                self.enrollment = await self._enroll()
            except Unauthorized as exc:
                raise EnrollmentRefused(str(exc)) from exc
            except Rejected as exc:
                raise EnrollmentRefused(f"the server refused the inventory: {exc}") from exc
            except RetryLater as exc:
                delay = self._backoff.next_delay(exc.retry_after)
                log.warning("%s: enrollment failed (%s); retrying in %.1fs", self._name, exc, delay)
                await self._sleep(stop, delay)
                continue
            self._backoff.reset()
            if self.enrollment.report_interval_s > 0:
                self._server_interval_s = self.enrollment.report_interval_s
            if self._on_enrolled:
                self._on_enrolled(self.enrollment)

    def _collect(self, now: float) -> None:
        if len(self.buffer) == self.buffer.maxlen:
            self.dropped += 1
        self.buffer.append(self._sample(now))

    async def _send_some(self, stop: asyncio.Event) -> float:
        """Send the oldest batch; return when to send next."""
        assert self.enrollment is not None
        batch = [self.buffer[i] for i in range(min(self._batch_size, len(self.buffer)))]
        try:
            result = await self._client.send(self.enrollment.token, batch)
        except Unauthorized:
            log.warning("%s: token refused; enrolling again", self._name)
            self.enrollment = None
            await self.ensure_enrolled(stop)
            return self._clock()
        except RetryLater as exc:
            delay = self._backoff.next_delay(exc.retry_after)
            log.info("%s: %s; retrying in %.1fs", self._name, exc, delay)
            return self._clock() + delay
        except Rejected as exc:
            log.error("%s: the server rejected %d samples: %s", self._name, len(batch), exc)
            self.dropped += len(batch)
            self._forget(len(batch))
            return self._clock()
        self._backoff.reset()
        self._forget(len(batch))
        if result.report_interval_s > 0:
            self._server_interval_s = result.report_interval_s
        self.sent += result.accepted
        self.duplicates += result.duplicates
        return self._clock() if self.buffer else self._clock() + self.interval_s

    def _forget(self, count: int) -> None:
        for _ in range(min(count, len(self.buffer))):
            self.buffer.popleft()


async def sleep_until_stopped(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
