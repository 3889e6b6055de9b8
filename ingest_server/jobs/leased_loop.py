"""A job that runs a pass every few seconds in one process across processes and hosts.

Every process runs the loop; each pass first makes sure of the job's lease row
(``argos_core.leases``): the holder claims it again once half its lifetime has passed (not
on every pass: a write a second would keep SQLite's other writers retrying), the others'
claims fail until it lapses (the holder stopped or died), so one process runs the passes
and another takes over within a lease's lifetime. The pass runs on a daemon thread of its
own, never on the event loop: a pass stuck on a database that went away holds neither the
event loop nor the process's exit, and ``stop`` waits for it only a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from argos_core.errors import ArgosError
from argos_core.leases import Lease, LeaseLost, new_owner
from argos_core.models import utcnow

log = logging.getLogger(__name__)
STOP_TIMEOUT_S = 5.0


class Stopping(LeaseLost):
    """The server is stopping: end the pass at its next step."""


class LeasedLoop:
    """``work(keep_alive)`` every ``interval_s`` while this process holds the lease ``name``.

    ``keep_alive`` is for long passes to call between steps: it renews the lease, and raises
    ``LeaseLost`` (``Stopping`` when the server stops) so the pass ends where it stands.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        work: Callable[[Callable[[], None]], object],
        *,
        interval_s: float,
        lease_ttl: timedelta,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.lease = Lease(engine, name, new_owner("argos-ingest"), lease_ttl)
        self._work = work
        self._close = close
        self._interval_s = interval_s
        self._held_until: datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"argos-{name}", daemon=True)
        self.passes = 0

    def start(self) -> None:
        self._thread.start()

    async def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Ask the loop to end and wait for it at most ``timeout_s``; a pass still blocked
        after that (a database that does not answer) is left behind on its daemon thread."""
        self._stop.set()
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, timeout_s)
        if self._thread.is_alive():
            log.warning("%s: a pass did not end within %.0f s; leaving it", self.name, timeout_s)

    def run_once(self) -> bool:
        """One pass if this process holds (or wins) the lease; True when it ran. Blocking."""
        if not self._hold():
            return False
        self._work(self._keep_alive)
        self.passes += 1
        return True

    def _hold(self) -> bool:
        now = utcnow()
        if self._held_until is not None and now < self._held_until - self.lease.ttl / 2:
            return True
        self._held_until = None
        if not self.lease.claim(now):
            return False
        self._held_until = now + self.lease.ttl
        return True

    def _keep_alive(self) -> None:
        if self._stop.is_set():
            raise Stopping("The server is stopping.")
        if not self._hold():
            raise LeaseLost(f"The lease on '{self.name}' was taken over.")

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.run_once()
            except Stopping:
                break
            except LeaseLost as exc:
                log.warning("%s: %s", self.name, exc)
            except (DBAPIError, ArgosError) as exc:
                log.warning("%s failed, will retry: %s", self.name, str(exc).splitlines()[0])
            except Exception:  # the loop must outlive any one bad pass
                log.exception("%s failed", self.name)
        try:
            self.lease.release()
        except DBAPIError:
            pass  # the lease runs out by itself
        finally:
            if self._close is not None:
                self._close()
