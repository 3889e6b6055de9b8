"""Service calls for the detail pane, off the GUI thread, latest answer wins.

Each call belongs to a *channel* ("node", "agents", "telemetry", ...). Starting a new call
on a channel makes any answer still due on it stale, so a slow reply for the node the user
left never overwrites the one they are looking at now.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from shiboken6 import isValid

from argos_desktop.workers import run_in_pool


class Requests(QObject):
    """Runs callables on ``pool`` and hands results to the GUI thread.

    ``idle`` fires when the last call still due has been answered, so views and tests can
    wait for it.
    """

    idle = Signal()

    def __init__(self, pool: QThreadPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self._tokens: dict[str, int] = {}
        self._pending: set[tuple[str, int]] = set()
        self._was_busy = False

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def is_pending(self, channel: str) -> bool:
        return any(c == channel for c, _ in self._pending)

    def run(
        self,
        channel: str,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        token = self._tokens.get(channel, 0) + 1
        self._tokens[channel] = token
        key = (channel, token)
        self._pending = {p for p in self._pending if p[0] != channel}
        self._pending.add(key)

        def finish() -> bool:
            if not isValid(self):  # the pane is gone; nobody wants the answer
                return False
            current = self._tokens.get(channel) == token
            self._pending.discard(key)
            return current

        def succeeded(result: Any) -> None:
            if finish():
                on_success(result)
            if isValid(self):
                self._announce()

        def failed(exc: BaseException) -> None:
            if finish():
                on_failure(exc)
            if isValid(self):
                self._announce()

        self._announce()
        run_in_pool(fn, succeeded, failed, pool=self._pool)

    def cancel(self, *channels: str) -> None:
        """Forget the answers still due on these channels (all when none are given)."""
        for channel in channels or tuple(self._tokens):
            self._tokens[channel] = self._tokens.get(channel, 0) + 1
        self._pending = {p for p in self._pending if p[0] not in (channels or self._tokens)}
        self._announce()

    def _announce(self) -> None:
        if self._was_busy and not self.busy:
            self.idle.emit()
        self._was_busy = self.busy
