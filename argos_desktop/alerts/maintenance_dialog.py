"""Maintenance windows of the signed-in scope: when a node's alerts are not notified. A
window starts at a wall-clock time in a time zone (the user's own by default), once or
again every day or week at that local time; add one on a node, end one (with its repeats)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from PySide6.QtCore import QDateTime, QTimeZone
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QLineEdit, QSpinBox, QWidget

from argos_core.services.alert_dto import MaintenanceInfo
from argos_desktop.admin.record_table_model import Column
from argos_desktop.alerts.problem_columns import local_time
from argos_desktop.alerts.record_editor import RecordEditor
from argos_desktop.session import ConsoleSession

REPEATS = {"none": "Once", "daily": "Every day", "weekly": "Every week"}
MAX_MINUTES = 7 * 24 * 60


def lasts(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    if not hours:
        return f"{rest // 60} min"
    return f"{hours} h {rest // 60} min" if rest else f"{hours} h"


def starts(window: MaintenanceInfo) -> str:
    local = datetime.fromisoformat(window.starts_local)
    if window.repeat == "daily":
        text = f"daily at {local:%H:%M}, from {local:%Y-%m-%d}"
    elif window.repeat == "weekly":
        text = f"{local:%A}s at {local:%H:%M}, from {local:%Y-%m-%d}"
    else:
        text = f"{local:%Y-%m-%d %H:%M}"
    return f"{text} ({window.timezone})"


COLUMNS: tuple[Column[MaintenanceInfo], ...] = (
    Column("Node", lambda w: w.node),
    Column("Starts", starts),
    Column("Lasts", lambda w: lasts(w.duration_s)),
    Column("Comment", lambda w: w.comment),
    Column("Now", lambda w: f"open until {local_time(w.open_until)}" if w.open_until else ""),
)


def local_zone() -> str:
    """The user's IANA time zone, as the system names it (UTC where it names none)."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


class MaintenanceDialog(RecordEditor[MaintenanceInfo]):
    def __init__(self, session: ConsoleSession, parent: QWidget | None = None) -> None:
        super().__init__(
            session,
            COLUMNS,
            name="window",
            add_text="Add window",
            remove_text="End window",
            parent=parent,
        )
        self.setWindowTitle("Maintenance windows — Argos")
        self.resize(820, 460)
        self.node_edit = QLineEdit(objectName="windowNode", placeholderText="org id or agent id")
        self.start_edit = QDateTimeEdit(objectName="windowStart", calendarPopup=True)
        self.start_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        now = QDateTime.currentDateTime()
        self.start_edit.setDateTime(now.addSecs(3600 - now.time().minute() * 60))
        self.zone_box = QComboBox(objectName="windowZone", editable=True)
        self.zone_box.addItems(sorted(available_timezones()))
        self.zone_box.setCurrentText(local_zone())
        self.minutes_spin = QSpinBox(objectName="windowMinutes", suffix=" min")
        self.minutes_spin.setRange(1, MAX_MINUTES)
        self.minutes_spin.setValue(60)
        self.repeat_box = QComboBox(objectName="windowRepeat")
        for repeat, label in REPEATS.items():
            self.repeat_box.addItem(label, repeat)
        self.comment_edit = QLineEdit(objectName="windowComment", maxLength=200)
        form = self.form_layout
        form.addRow("On node", self.node_edit)
        form.addRow("Starts (local time)", self.start_edit)
        form.addRow("Time zone", self.zone_box)
        form.addRow("Lasts", self.minutes_spin)
        form.addRow("Repeats", self.repeat_box)
        form.addRow("Comment", self.comment_edit)
        self.reload()

    def start(self) -> datetime:
        """The form's start: its wall-clock time in its time zone (ValueError: no such zone)."""
        name = self.zone_box.currentText().strip()
        try:
            tz = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"'{name}' is not a time zone (e.g. UTC, Europe/Berlin).") from exc
        local = self.start_edit.dateTime().toPython()
        return local.replace(second=0, microsecond=0, tzinfo=tz)

    def adding(self) -> Callable[[], MaintenanceInfo]:
        node, start = self.node_edit.text().strip(), self.start()
        fields = {
            "repeat": self.repeat_box.currentData(),
            "timezone": self.zone_box.currentText().strip(),
            "comment": self.comment_edit.text(),
        }
        duration = int(timedelta(minutes=self.minutes_spin.value()).total_seconds())
        backend = self.backend
        return lambda: backend.create_maintenance(node, start, duration, **fields)

    def list_records(self) -> list[MaintenanceInfo]:
        return self.backend.list_maintenance()

    def remove(self, record: MaintenanceInfo) -> None:
        self.backend.delete_maintenance(record.id)

    def describe(self, record: MaintenanceInfo) -> str:
        return f"{record.node}, {starts(record)}, {lasts(record.duration_s)}"
