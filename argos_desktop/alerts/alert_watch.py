"""The open alerts of the signed-in scope and its maintenance windows, re-read together on
each refresh off the GUI thread (two calls, whatever the size of the tree).

Views (problems list, tree badges, tray icon) listen to ``changed``; ``newCritical`` fires
once for each critical alert that opened since the previous read (not for those already
open at the first read: they are not news).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from PySide6.QtCore import QObject, Signal

from argos_core.services.alert_dto import AlertInfo, MaintenanceInfo
from argos_desktop.alerts.severity import RANK, worst
from argos_desktop.backend.protocol import ConsoleBackend
from argos_desktop.workers import run_in_pool

MAX_ALERTS = 1000


class AlertWatch(QObject):
    changed = Signal()
    newCritical = Signal(object)  # AlertInfo
    failed = Signal(str)

    def __init__(self, backend: ConsoleBackend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._backend = backend
        self.alerts: list[AlertInfo] = []
        self._known: set[int] | None = None
        self._loading = False
        self._by_node: dict[str, tuple[int, str]] = {}
        self._maintenance: dict[str, datetime] = {}

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        backend = self._backend
        run_in_pool(
            lambda: (
                backend.list_alerts(active=True, limit=MAX_ALERTS).items,
                backend.list_maintenance(),
            ),
            self._loaded,
            self._failed,
            context=self,
        )

    def worst(self) -> str | None:
        return worst(self.alerts)

    def badge(self, key: str) -> tuple[int, str] | None:
        """How many open alerts are under a node (org id or agent uuid), and the worst."""
        return self._by_node.get(key)

    def maintenance_until(self, keys: Iterable[str]) -> datetime | None:
        """When the maintenance open now on any of these nodes (org ids or agent uuids: a
        node and those above it) ends; None when none is open."""
        ends = [self._maintenance[k] for k in keys if k in self._maintenance]
        return max(ends) if ends else None

    def _loaded(self, found: tuple[list[AlertInfo], list[MaintenanceInfo]]) -> None:
        alerts, windows = found
        self._loading = False
        self._maintenance = {}
        for window in windows:
            if window.open_until is not None:
                known = self._maintenance.get(window.node)
                self._maintenance[window.node] = max(window.open_until, known or window.open_until)
        fresh = [
            a
            for a in alerts
            if self._known is not None and a.id not in self._known and a.severity == "critical"
        ]
        self._known = {a.id for a in alerts}
        self.alerts = alerts
        counts: Counter[str] = Counter()
        worst_of: dict[str, str] = {}
        for alert in alerts:
            for key in alert.nodes:
                counts[key] += 1
                if RANK[alert.severity] > RANK.get(worst_of.get(key, ""), 0):
                    worst_of[key] = alert.severity
        self._by_node = {key: (n, worst_of[key]) for key, n in counts.items()}
        self.changed.emit()
        for alert in fresh:
            self.newCritical.emit(alert)

    def _failed(self, exc: Exception) -> None:
        self._loading = False
        self.failed.emit(str(exc))
