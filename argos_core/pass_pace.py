"""The pace of a long maintenance pass that runs beside live writes (housekeeping).

The pass calls its ``PassPace`` after each of its transactions. The pace rests the pass for
``sleep_coef`` times as long as the work since the previous call took (pt-archiver's
``--sleep-coef``): with 1.0 a catch-up pass takes about twice as long and leaves the
database every other moment, so the writer's flushes do not queue behind a run of its
statements. It also keeps the pass's lease: ``keep_alive`` (a lease's ``renew``, which
raises to stop the pass) is called at most every ``renew_every_s``, and at once when
``stop`` is set, a rest included.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_REST_S = 5.0  # whatever one transaction took


class PassPace:
    def __init__(
        self,
        keep_alive: Callable[[], None] | None = None,
        *,
        sleep_coef: float = 0.0,
        renew_every_s: float = 10.0,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if sleep_coef < 0:
            raise ValueError("sleep_coef must be 0 or more")
        self._keep_alive = keep_alive
        self._sleep_coef = sleep_coef
        self._renew_every_s = renew_every_s
        self._stop = stop or threading.Event()
        self._clock = clock
        self._renewed = self._since = clock()
        self.rested_s = 0.0

    def __call__(self) -> None:
        """After a transaction: renew the lease if due, then rest."""
        now = self._clock()
        if self._stop.is_set() or now - self._renewed >= self._renew_every_s:
            self._renew(now)
        rest = min(self._sleep_coef * (now - self._since), MAX_REST_S)
        if rest > 0:
            stopped = self._stop.wait(rest)
            self.rested_s += self._clock() - now
            if stopped:
                self._renew(now)
        self._since = self._clock()

    def _renew(self, now: float) -> None:
        if self._keep_alive is not None:
            self._keep_alive()
        self._renewed = now
