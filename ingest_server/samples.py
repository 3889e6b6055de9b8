"""Telemetry batches: the validation rules of PROTOCOL.md, turned into rows for the writer.

A batch is all-or-nothing: any invalid sample rejects the whole request, and the error names
every offending sample index and field (up to a limit, so a hostile body cannot make a huge
answer).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from argos_core.sample_fields import SAMPLE_METRICS

MAX_SAMPLES = 1000
MAX_FUTURE_S = 300
MAX_ERRORS_REPORTED = 20
MAX_COUNTER = (1 << 63) - 1
MAX_LOAD = 1e6
PERCENTS = ("cpu_percent", "mem_percent", "disk_percent")
COUNTERS = ("net_rx_bytes", "net_tx_bytes", "uptime_s")
LOADS = ("load_1m",)
METRICS = SAMPLE_METRICS


_FAST_CHECKS = tuple(
    (name, int, 0, MAX_COUNTER)
    if name in COUNTERS
    else (name, float, 0.0, 100.0 if name in PERCENTS else MAX_LOAD)
    for name in METRICS
)


class InvalidBatch(Exception):
    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class _BadField(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_batch(body: Any, agent_id: int, now: float) -> list[tuple]:
    """Rows ``(agent_id, ts, *METRICS)`` for a valid body, else ``InvalidBatch``."""
    if not isinstance(body, dict) or not isinstance(body.get("samples"), list):
        raise InvalidBatch("The body must be a JSON object with a 'samples' list.")
    samples = body["samples"]
    if not 1 <= len(samples) <= MAX_SAMPLES:
        raise InvalidBatch(f"'samples' must hold between 1 and {MAX_SAMPLES} samples.")
    latest = now + MAX_FUTURE_S
    rows: list[tuple] = []
    errors: list[dict[str, Any]] = []
    for index, sample in enumerate(samples):
        try:
            rows.append(_row(sample, agent_id, latest))
        except _BadField as bad:
            errors.append({"index": index, "field": bad.field, "message": bad.message})
            if len(errors) >= MAX_ERRORS_REPORTED:
                break
    if errors:
        first = errors[0]
        raise InvalidBatch(
            f"Sample {first['index']}, field '{first['field']}': {first['message']}", errors
        )
    return rows


def _row(sample: Any, agent_id: int, latest: float) -> tuple:
    if type(sample) is not dict:
        raise _BadField("sample", "Each sample must be a JSON object.")
    get = sample.get
    ts = get("ts")
    if type(ts) is not int or not 0 <= ts <= latest:
        ts = _timestamp(ts, latest)
    row = [agent_id, ts]
    empty = True
    for name, kind, low, high in _FAST_CHECKS:
        value = get(name)
        if value is not None:
            empty = False
            # Common case first (the JSON type the column wants, inside its range); anything
            # else takes the slow path, which converts ints to floats or names the problem.
            if type(value) is not kind or not low <= value <= high:
                value = _metric(name, value)
        row.append(value)
    if empty:
        raise _BadField("sample", "A sample needs at least one metric besides 'ts'.")
    return tuple(row)


def _timestamp(value: Any, latest: float) -> int:
    if value is None:
        raise _BadField("ts", "'ts' is required.")
    if isinstance(value, str):
        seconds = _rfc3339(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _BadField("ts", "'ts' must be a finite number of Unix seconds.")
        seconds = value
    else:
        raise _BadField("ts", "'ts' must be RFC 3339 with an offset or Unix seconds.")
    if seconds < 0:
        raise _BadField("ts", "'ts' cannot be before 1970.")
    if seconds > latest:
        raise _BadField("ts", f"'ts' may be at most {MAX_FUTURE_S} seconds in the future.")
    return int(seconds)


def _rfc3339(value: str) -> float:
    if len(value) > 40:
        raise _BadField("ts", "'ts' must be RFC 3339 with an offset, e.g. 2026-11-26T10:00:00Z.")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            raise ValueError
        return parsed.timestamp()
    except (ValueError, OverflowError, OSError) as exc:
        raise _BadField(
            "ts", "'ts' must be RFC 3339 with an offset, e.g. 2026-11-26T10:00:00Z."
        ) from exc


def _metric(name: str, value: Any) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _BadField(name, f"'{name}' must be a number.")
    if name in COUNTERS:
        if not isinstance(value, int) or not 0 <= value <= MAX_COUNTER:
            raise _BadField(name, f"'{name}' must be a non-negative integer.")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise _BadField(name, f"'{name}' must be a finite number.")
    if name in PERCENTS and not 0 <= value <= 100:
        raise _BadField(name, f"'{name}' must be between 0 and 100.")
    if name in LOADS and not 0 <= value <= MAX_LOAD:
        raise _BadField(name, f"'{name}' must be a non-negative number.")
    return float(value)
