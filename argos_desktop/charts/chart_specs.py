"""The five agent charts: which columns each shows, in which colour and unit."""

from __future__ import annotations

from dataclasses import dataclass

from argos_desktop.charts.telemetry_chart import CurveSpec


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    curves: tuple[CurveSpec, ...]
    unit: str = ""
    percent: bool = False
    precision: int = 1


AGENT_CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("cpu", "CPU", (CurveSpec("cpu_percent", "CPU", "#2f7ed8"),), percent=True),
    ChartSpec("memory", "Memory", (CurveSpec("mem_percent", "Used", "#8e44ad"),), percent=True),
    ChartSpec("disk", "Disk", (CurveSpec("disk_percent", "Used", "#d68910"),), percent=True),
    ChartSpec(
        "network",
        "Network",
        (
            CurveSpec("net_rx_rate", "In", "#16a085"),
            CurveSpec("net_tx_rate", "Out", "#c0392b"),
        ),
        unit="B/s",
    ),
    ChartSpec(
        "load", "Load average (1 min)", (CurveSpec("load_1m", "Load", "#5d6d7e"),), precision=2
    ),
)
