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


def _average_and_peak(column: str, color: str, peak: str) -> tuple[CurveSpec, ...]:
    return (CurveSpec(column, "Average", color), CurveSpec(f"{column}_max", "Max", peak))


# A node's agents together: the average across them (filled) and the highest of any (a line).
NODE_CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "cpu",
        "CPU",
        _average_and_peak("cpu_percent", "#2f7ed8", "#1b4f8a"),
        percent=True,
    ),
    ChartSpec(
        "memory",
        "Memory",
        _average_and_peak("mem_percent", "#8e44ad", "#5b2c6f"),
        percent=True,
    ),
    ChartSpec(
        "disk",
        "Disk",
        _average_and_peak("disk_percent", "#d68910", "#9c640c"),
        percent=True,
    ),
    ChartSpec(
        "network",
        "Network (average per agent)",
        (
            CurveSpec("net_rx_rate", "In", "#16a085"),
            CurveSpec("net_tx_rate", "Out", "#c0392b"),
        ),
        unit="B/s",
    ),
    ChartSpec(
        "load",
        "Load average (1 min)",
        _average_and_peak("load_1m", "#5d6d7e", "#2e4053"),
        precision=2,
    ),
    ChartSpec(
        "agents",
        "Agents reporting",
        (CurveSpec("agents_reporting", "Agents", "#27ae60"),),
        precision=0,
    ),
)
