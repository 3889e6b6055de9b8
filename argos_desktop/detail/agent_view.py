"""The page for one agent: its inventory above its telemetry charts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from argos_core.services.dto import AgentDetail
from argos_desktop.detail import status_style
from argos_desktop.detail.agent_charts import AgentCharts
from argos_desktop.detail.agent_table_model import local_time, relative_time
from argos_desktop.detail.widgets import (
    CopyableText,
    ElidedLabel,
    caption_label,
    heading_label,
)
from argos_desktop.workers import Requests

INVENTORY_COLUMNS = 3
# Narrower than this, the inventory takes two columns, so its values are not cut short.
NARROW_INVENTORY_PX = 760


def _gib(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024**3:,.1f} GiB"


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {rest // 60} min"


class AgentView(QWidget):
    """Hostname and status, an inventory grid, then the charts."""

    def __init__(
        self,
        requests: Requests,
        clock: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self.detail: AgentDetail | None = None
        self.status_dot = QLabel()
        self.hostname_label = heading_label()
        self.status_label = QLabel()
        font = self.status_label.font()
        font.setBold(True)
        self.status_label.setFont(font)
        self.subtitle = caption_label()
        self.subtitle.setWordWrap(True)
        self.path_label = caption_label()  # tenant / company / branch, names and org ids
        self.path_label.setWordWrap(True)
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setToolTip("The agent's tenant, company and branch, with their org ids")
        self.uuid = CopyableText("agent id")
        self.values: dict[str, ElidedLabel] = {}
        self.charts = AgentCharts(requests, clock)

        title = QHBoxLayout()
        title.setSpacing(8)
        title.addWidget(self.status_dot)
        title.addWidget(self.hostname_label)
        title.addSpacing(8)
        title.addWidget(self.status_label)
        title.addStretch(1)
        title.addWidget(caption_label("Agent id"))
        title.addWidget(self.uuid)

        self.inventory = QWidget()
        self.inventory.setObjectName("inventory")
        grid = QGridLayout(self.inventory)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        fields = [
            ("os", "Operating system"),
            ("ips", "IP addresses"),
            ("version", "Agent version"),
            ("last_seen", "Last seen"),
            ("enrolled", "Enrolled"),
            ("interval", "Report interval"),
            ("cpus", "CPUs"),
            ("memory", "Memory"),
            ("boot", "Uptime"),
            ("machine", "Machine id"),
            ("key", "Enrollment key"),
        ]
        self._grid = grid
        self._captions: dict[str, QLabel] = {}
        for key, caption in fields:
            self._captions[key] = caption_label(caption)
            self.values[key] = ElidedLabel()
        self.inventory_columns = 0
        self._lay_out_inventory(INVENTORY_COLUMNS)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.setSpacing(6)
        layout.addLayout(title)
        layout.addWidget(self.path_label)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.inventory)
        layout.addWidget(self.charts, 1)

    def resizeEvent(self, event) -> None:
        narrow = event.size().width() < NARROW_INVENTORY_PX
        self._lay_out_inventory(INVENTORY_COLUMNS - 1 if narrow else INVENTORY_COLUMNS)
        super().resizeEvent(event)

    def _lay_out_inventory(self, columns: int) -> None:
        if columns == self.inventory_columns:
            return
        self.inventory_columns = columns
        for i, key in enumerate(self.values):
            row, col = divmod(i, columns)
            self._grid.addWidget(self._captions[key], row, col * 2, Qt.AlignmentFlag.AlignLeft)
            self._grid.addWidget(self.values[key], row, col * 2 + 1)
        for col in range(INVENTORY_COLUMNS):
            self._grid.setColumnStretch(col * 2 + 1, 1 if col < columns else 0)

    def set_agent(self, detail: AgentDetail) -> None:
        self.detail = detail
        agent = detail.summary
        now = datetime.fromtimestamp(self._clock(), UTC)
        color = status_style.color_name(agent.status)
        self.status_dot.setPixmap(status_style.dot_icon(agent.status).pixmap(14, 14))
        self.hostname_label.setText(agent.hostname)
        self.status_label.setText(status_style.LABELS[agent.status])
        self.status_label.setStyleSheet(f"color: {color};")
        self.subtitle.setText(f"{agent.os}   ·   {', '.join(agent.ip_addresses) or 'no address'}")
        self.subtitle.setText(f"{self.subtitle.text()}   ·   reports via {agent.source}")
        self.uuid.set_text(agent.uuid)
        self.path_label.setText(
            " / ".join(
                f"{name} ({org_id})" if name else org_id
                for name, org_id in (
                    (detail.tenant_name, detail.tenant_org_id),
                    (detail.company_name, detail.company_org_id),
                    (agent.branch_name, agent.branch_org_id),
                )
            )
        )
        key = "-"
        if detail.enrollment_key_id is not None:
            key = f"#{detail.enrollment_key_id}"
            if detail.enrollment_key_note:
                key += f" ({detail.enrollment_key_note})"
        # Short values in the grid; the exact times are in the tooltips.
        texts: dict[str, tuple[str, str]] = {
            "os": (agent.os, ""),
            "ips": (", ".join(agent.ip_addresses) or "-", ""),
            "version": (agent.agent_version, ""),
            "last_seen": (relative_time(agent.last_seen, now), local_time(agent.last_seen)),
            "enrolled": (
                f"{agent.enrolled_at.astimezone():%Y-%m-%d}",
                local_time(agent.enrolled_at),
            ),
            "interval": (f"every {detail.report_interval_s} s", ""),
            "cpus": ("-" if detail.cpu_count is None else str(detail.cpu_count), ""),
            "memory": (_gib(detail.memory_total_bytes), ""),
            "boot": ("-", ""),
            "machine": (detail.machine_id, ""),
            "key": (key, ""),
        }
        if detail.re_enrolled_at is not None:
            where = detail.re_enrolled_from or "an unknown address"
            texts["enrolled"] = (
                f"{texts['enrolled'][0]}, again {relative_time(detail.re_enrolled_at, now)}"
                f" from {where}",
                f"Enrolled {local_time(agent.enrolled_at)}; enrolled again"
                f" {local_time(detail.re_enrolled_at)} from {where} (earlier tokens stopped"
                " working)",
            )
        if detail.boot_time is not None:
            uptime = _duration((now - detail.boot_time).total_seconds())
            texts["boot"] = (f"up {uptime}", f"Booted {local_time(detail.boot_time)}")
        if agent.revoked_at is not None:
            texts["last_seen"] = (
                f"{texts['last_seen'][0]}, revoked",
                f"Revoked {local_time(agent.revoked_at)}",
            )
        for name, (text, tip) in texts.items():
            self.values[name].set_value(text, tip)
        self.charts.subject = agent.hostname
