"""Revoke, delete or move one agent; each form shows when and with which key it enrolled."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QWidget

from argos_core.services.dto import AgentDetail, AgentSummary
from argos_desktop.admin.forms import FormDialog, local_time
from argos_desktop.admin.org_picker import OrgPicker
from argos_desktop.messages import user_message
from argos_desktop.session import ConsoleSession
from argos_desktop.workers import run_in_pool

AgentAction = Literal["revoke", "delete", "move"]
TEXTS: dict[str, tuple[str, str, str]] = {
    "revoke": (
        "Revoke agent",
        "A revoked agent's next report is refused and it cannot enroll again. Its history stays.",
        "Revoke agent",
    ),
    "delete": (
        "Delete agent",
        "Deletes the agent and all its telemetry. This cannot be undone; an agent still"
        " running would need a new enrollment key to come back.",
        "Delete agent and telemetry",
    ),
    "move": (
        "Move agent",
        "The agent keeps its history and credential and reports into the new branch.",
        "Move agent",
    ),
}


class AgentDialog(FormDialog):
    """One form for the three agent actions: facts first, then the consequence and the button."""

    completed = Signal(str, object)
    loaded = Signal()

    def __init__(
        self,
        session: ConsoleSession,
        action: AgentAction,
        agent_uuid: str,
        hostname: str,
        parent: QWidget | None = None,
    ) -> None:
        title, intro, button = TEXTS[action]
        super().__init__(session, f"{title} {hostname}", intro, button, parent)
        self.action = action
        self.agent_uuid = agent_uuid
        self.detail: AgentDetail | None = None
        self.facts: dict[str, QLabel] = {}
        for key, label in (
            ("hostname", "Hostname"),
            ("branch", "Branch"),
            ("enrolled", "Enrolled"),
            ("key", "Enrollment key"),
            ("last_seen", "Last seen"),
        ):
            value = QLabel("…")
            value.setAccessibleName(label)
            self.facts[key] = value
            self.form.addRow(label, value)
        self.branch_picker: OrgPicker | None = None
        if action == "move":
            self.branch_picker = OrgPicker(session, kinds=("branch",), parent=self)
            self.branch_picker.setAccessibleName("Target branch")
            self.form.addRow("Move to branch", self.branch_picker)
            self.branch_picker.loadFailed.connect(self.show_error)
        self.ok_button.setEnabled(False)
        backend = session.backend
        run_in_pool(lambda: backend.get_agent(agent_uuid), self._loaded, self._load_failed)

    def _loaded(self, detail: AgentDetail) -> None:
        self.detail = detail
        agent = detail.summary
        key = "—"
        if detail.enrollment_key_id is not None:
            key = f"#{detail.enrollment_key_id}"
            if detail.enrollment_key_note:
                key += f" ({detail.enrollment_key_note})"
        self.facts["hostname"].setText(agent.hostname)
        self.facts["branch"].setText(f"{agent.branch_name} ({agent.branch_org_id})")
        self.facts["enrolled"].setText(local_time(agent.enrolled_at))
        self.facts["key"].setText(key)
        self.facts["last_seen"].setText(local_time(agent.last_seen, "never"))
        self.ok_button.setEnabled(self.session.identity.can_write)
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.show_error(user_message(exc))

    def on_accept(self) -> None:
        backend, uuid = self.session.backend, self.agent_uuid
        if self.action == "revoke":
            self.submit(lambda: backend.revoke_agent(uuid), self._completed)
        elif self.action == "delete":
            self.submit(lambda: backend.delete_agent(uuid), self._completed)
        else:
            target = self.branch_picker.org_id() if self.branch_picker else ""
            self.submit(lambda: backend.move_agent(uuid, target), self._completed)

    def _completed(self, result: AgentSummary | None) -> None:
        self.completed.emit(self.action, result)
        self.accept()
