"""A combo box of the tenants, companies and branches in the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from argos_core.services.dto import OrgChoice, OrgKind
from argos_desktop import icons
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool


class OrgPicker(QComboBox):
    """Loads ``list_choices`` on a worker; ``loaded`` or ``loadFailed`` says when done."""

    loaded = Signal()
    loadFailed = Signal(str)

    def __init__(
        self,
        session: ConsoleSession,
        kinds: Sequence[OrgKind] = ("tenant", "company", "branch"),
        preferred: str | None = None,
        exclude: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setMinimumContentsLength(36)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setAccessibleName("Place in the organisation")
        self.addItem("Loading…", None)
        self.setEnabled(False)
        self._preferred = preferred
        self._exclude = exclude
        self.ready = False
        backend, wanted = session.backend, tuple(kinds)
        run_in_pool(
            lambda: backend.list_choices(kinds=wanted),
            self._arrived,
            lambda exc: self.loadFailed.emit(user_message(exc)),
        )

    def _arrived(self, choices: list[OrgChoice]) -> None:
        self.clear()
        for choice in choices:
            if choice.org_id != self._exclude:
                self.addItem(icons.icon(choice.kind), choice.label, choice.org_id)
        self.ready = True
        self.setEnabled(self.count() > 0)
        if self._preferred:
            self.select(self._preferred)
        self.loaded.emit()

    def select(self, org_id: str) -> bool:
        row = self.findData(org_id)
        if row >= 0:
            self.setCurrentIndex(row)
        return row >= 0

    def org_id(self) -> str:
        return self.currentData() or ""
