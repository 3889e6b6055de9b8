"""Durations people type on the command line: ``30m``, ``12h``, ``7d``, ``never``."""

from __future__ import annotations

import re
from datetime import timedelta

from argos_core.errors import ValidationError

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(raw: str) -> timedelta | None:
    """``None`` means "never expires"."""
    if raw.strip().lower() == "never":
        return None
    match = _PATTERN.match(raw)
    if not match or int(match.group(1)) == 0:
        raise ValidationError(
            f"'{raw}' is not a duration; use a positive number with s, m, h, d or w"
            " (e.g. 7d), or 'never'."
        )
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
