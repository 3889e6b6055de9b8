"""How an alert shows as a row of the problems list (``RecordTableModel`` columns)."""

from __future__ import annotations

from datetime import datetime

from argos_core.services.alert_dto import AlertInfo
from argos_desktop.admin.record_table_model import Column
from argos_desktop.alerts.severity import RANK, colour


def state_text(alert: AlertInfo) -> str:
    if alert.state == "resolved":
        text = f"resolved {local_time(alert.resolved_at)}"
    elif alert.state == "acknowledged":
        text = f"acknowledged by {alert.acked_by}"
        if alert.acked_until:
            text += f" until {local_time(alert.acked_until)}"
    else:
        text = "open"
    return f"{text}, in maintenance" if alert.in_maintenance else text


def local_time(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M") if at else ""


def value_text(alert: AlertInfo) -> str:
    return "" if alert.value is None else f"{alert.value:g}"


COLUMNS: tuple[Column[AlertInfo], ...] = (
    Column(
        "Severity",
        lambda a: a.severity.capitalize(),
        sort_key=lambda a: RANK.get(a.severity, 0),
        decoration=lambda a: colour(a.severity),
    ),
    Column("Host", lambda a: a.hostname),
    Column("Where", lambda a: a.path),
    Column("Rule", lambda a: a.rule),
    Column("Since", lambda a: local_time(a.opened_at), sort_key=lambda a: a.opened_at.timestamp()),
    Column(
        "Value",
        value_text,
        sort_key=lambda a: a.value if a.value is not None else float("-inf"),
    ),
    Column("State", state_text, tooltip=lambda a: a.ack_comment or state_text(a)),
)
SINCE = 4
