"""What the alerts of one agent draw on its charts: a dashed line at each threshold rule's
value on the chart of its metric, and each open alert's span from when it opened, in the
severity's colour (an offline or overdue alert spans every chart)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from argos_core.services.alert_dto import AlertInfo, RuleInfo
from argos_desktop.alerts.severity import colour
from argos_desktop.charts.chart_specs import ChartSpec
from argos_desktop.charts.marks import SpanMark, ThresholdMark


@dataclass
class ChartMarks:
    thresholds: list[ThresholdMark] = field(default_factory=list)
    spans: list[SpanMark] = field(default_factory=list)


def chart_marks(
    specs: Sequence[ChartSpec],
    rules: Iterable[RuleInfo],
    alerts: Iterable[AlertInfo],
    now: float,
) -> dict[str, ChartMarks]:
    """Per chart key, the marks of the rules and open alerts that belong on it."""
    marks = {spec.key: ChartMarks() for spec in specs}
    chart_of = {curve.column: spec.key for spec in specs for curve in spec.curves}
    for rule in rules:
        key = chart_of.get(rule.metric or "")
        if rule.condition != "threshold" or key is None or rule.threshold is None:
            continue
        label = f"{rule.severity} {rule.comparison} {rule.threshold:g}"
        marks[key].thresholds.append(
            ThresholdMark(rule.threshold, colour(rule.severity).name(), label)
        )
    for alert in alerts:
        if alert.resolved_at is not None:
            continue
        if alert.condition == "threshold":
            keys = [chart_of[alert.metric]] if alert.metric in chart_of else []
        else:
            keys = list(marks)
        span = SpanMark(
            alert.opened_at.timestamp(),
            max(now, alert.opened_at.timestamp()),
            colour(alert.severity).name(),
            f"{alert.severity}: {alert.rule}",
        )
        for key in keys:
            marks[key].spans.append(span)
    return marks
