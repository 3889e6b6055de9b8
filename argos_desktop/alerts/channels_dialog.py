"""Notification channels of the signed-in scope: where a node's alerts go (a webhook or an
e-mail address, from a minimum severity on); add one on a node, remove one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from argos_core.services.alert_dto import ChannelInfo
from argos_desktop.admin.record_table_model import Column
from argos_desktop.alerts.record_editor import RecordEditor
from argos_desktop.session import ConsoleSession

KINDS = {"webhook": "Webhook (URL)", "email": "E-mail address"}
COLUMNS: tuple[Column[ChannelInfo], ...] = (
    Column("Node", lambda c: c.node),
    Column("Kind", lambda c: "e-mail" if c.kind == "email" else c.kind),
    Column("Sends to", lambda c: c.target),
    Column("From severity", lambda c: c.min_severity.capitalize()),
)


class ChannelsDialog(RecordEditor[ChannelInfo]):
    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(
            session,
            COLUMNS,
            name="channel",
            add_text="Add channel",
            remove_text="Remove channel",
            parent=parent,
        )
        self.setWindowTitle("Notification channels — Argos")
        self.resize(760, 420)
        self.node_edit = QLineEdit(objectName="channelNode", placeholderText="org id")
        self.kind_box = QComboBox(objectName="channelKind")
        for kind, label in KINDS.items():
            self.kind_box.addItem(label, kind)
        self.target_edit = QLineEdit(
            objectName="channelTarget", placeholderText="https://… or ops@example.com"
        )
        self.severity_box = QComboBox(objectName="channelSeverity")
        self.severity_box.addItems(["warning", "critical"])
        form = self.form_layout
        form.addRow("On node", self.node_edit)
        form.addRow("Kind", self.kind_box)
        form.addRow("Sends to", self.target_edit)
        form.addRow("From severity", self.severity_box)
        self.reload()

    def list_records(self) -> list[ChannelInfo]:
        return self.backend.list_channels()

    def adding(self) -> Callable[[], ChannelInfo]:
        node, target = self.node_edit.text().strip(), self.target_edit.text().strip()
        kind, severity = self.kind_box.currentData(), self.severity_box.currentText()
        backend = self.backend
        return lambda: backend.create_channel(node, kind, target, severity)

    def remove(self, record: ChannelInfo) -> None:
        self.backend.delete_channel(record.id)

    def describe(self, record: ChannelInfo) -> str:
        return f"{record.target} for {record.node} ({record.min_severity} and above)"
