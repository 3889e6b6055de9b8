"""Marks drawn over a chart's curves: threshold lines and shaded time spans."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ThresholdMark:
    value: float
    color: str  # "#rrggbb"
    label: str


@dataclass(frozen=True)
class SpanMark:
    start: float  # Unix seconds
    end: float
    color: str
    label: str
