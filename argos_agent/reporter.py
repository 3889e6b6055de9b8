"""One agent's life: sample every interval, enroll, send batches, retry, re-enroll on 401.

Sampling starts at once and goes on whatever the server does (while enrolling too). Samples
wait in a bounded ``SampleBuffer`` (on disk for the real agent) and are sent oldest first, up
to ``batch_size`` per request. A batch leaves the buffer only when the server has answered
200 (or rejected it for good), so a retried batch may be counted as duplicates by the server
but is never lost while it fits in the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from argos_agent.backoff import Backoff
from argos_agent.protocol import Enrollment, IngestClient, Rejected, RetryLater, Unauthorized
from argos_agent.sample_buffer import Sample, SampleBuffer

log = logging.getLogger(__name__)

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
        buffer: SampleBuffer | None = None,
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
        self.buffer = buffer if buffer is not None else SampleBuffer()
        self._batch_size = batch_size
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._on_enrolled = on_enrolled
        self._sleep = sleep or sleep_until_stopped
        self._server_interval_s = DEFAULT_INTERVAL_S
        if enrollment is not None and enrollment.report_interval_s > 0:
            self._server_interval_s = enrollment.report_interval_s
        self._failing = False
        self._dropping = 0
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
        next_sample = self._clock() + first_sample_in
        next_contact = self._clock()
        while not stop.is_set():
            now = self._clock()
            if now >= next_sample:
                self._collect(now)
                next_sample = max(next_sample + self.interval_s, now)
            if now >= next_contact and self._has_work():
                next_contact = await self._contact()
            wake = min(next_sample, next_contact) if self._has_work() else next_sample
            await self._sleep(stop, wake - self._clock())

    def _has_work(self) -> bool:
        return self.enrollment is None or len(self.buffer) > 0

    async def _contact(self) -> float:
        """Enroll, or send the oldest batch; return when to contact the server next."""
        if self.enrollment is None:
            return await self._enroll_once()
        return await self._send_some(self.enrollment)

    async def _enroll_once(self) -> float:
        try:
            enrollment = await self._enroll()
        except Unauthorized as exc:
            raise EnrollmentRefused(str(exc)) from exc
        except Rejected as exc:
            raise EnrollmentRefused(f"the server refused the inventory: {exc}") from exc
        except RetryLater as exc:
            delay = self._backoff.next_delay(exc.retry_after)
            log.warning("%s: enrollment failed (%s); retrying in %.1fs", self._name, exc, delay)
            return self._clock() + delay
        self.enrollment = enrollment
        self._backoff.reset()
        if enrollment.report_interval_s > 0:
            self._server_interval_s = enrollment.report_interval_s
        if self._on_enrolled:
            self._on_enrolled(enrollment)
        return self._clock()

    def _collect(self, now: float) -> None:
        expired = self.buffer.expire(now)
        if expired:
            self.dropped += expired
            log.warning(
                "%s: dropped %d unsent samples older than %ds",
                self._name,
                expired,
                self.buffer.max_age_s,
            )
        dropped = self.buffer.append(self._sample(now))
        if dropped:
            if not self._dropping:
                log.warning(
                    "%s: the buffer is full (%d samples); dropping the oldest until the server"
                    " takes them",
                    self._name,
                    self.buffer.max_samples,
                )
            self._dropping += dropped
            self.dropped += dropped

    async def _send_some(self, enrollment: Enrollment) -> float:
        batch = self.buffer.oldest(self._batch_size)
        try:
            result = await self._client.send(enrollment.token, batch)
        except Unauthorized:
            log.warning("%s: token refused; enrolling again", self._name)
            self.enrollment = None
            return self._clock()
        except RetryLater as exc:
            delay = self._backoff.next_delay(exc.retry_after)
            level = logging.INFO if self._failing else logging.WARNING
            log.log(
                level,
                "%s: cannot send (%s); %d samples kept, retrying in %.1fs",
                self._name,
                exc,
                len(self.buffer),
                delay,
            )
            self._failing = True
            return self._clock() + delay
        except Rejected as exc:
            log.error("%s: the server rejected %d samples: %s", self._name, len(batch), exc)
            self.dropped += len(batch)
            self.buffer.forget(len(batch))
            return self._clock()
        self._backoff.reset()
        self.buffer.forget(len(batch))
        if self._failing:
            log.info("%s: the server answers again; sending the kept samples", self._name)
            self._failing = False
        if self._dropping:
            log.warning(
                "%s: %d samples were dropped while the buffer was full",
                self._name,
                self._dropping,
            )
            self._dropping = 0
        if result.report_interval_s > 0:
            self._server_interval_s = result.report_interval_s
        self.sent += result.accepted
        self.duplicates += result.duplicates
        return self._clock() if len(self.buffer) else self._clock() + self.interval_s


async def sleep_until_stopped(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
