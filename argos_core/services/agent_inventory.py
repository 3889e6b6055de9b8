"""The inventory an agent sends when it enrolls, checked field by field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argos_core.errors import ValidationError
from argos_core.models import HOSTNAME_MAX, SOURCE_AGENT

MAX_IPS = 64


@dataclass(frozen=True)
class AgentInventory:
    hostname: str
    machine_id: str
    os: str = ""
    agent_version: str = ""
    ip_addresses: tuple[str, ...] = ()
    cpu_count: int | None = None
    memory_total_bytes: int | None = None
    boot_time: datetime | None = None
    source: str = SOURCE_AGENT

    @classmethod
    def parse(cls, body: dict[str, Any]) -> AgentInventory:
        return cls(
            hostname=_text(body, "hostname", HOSTNAME_MAX, required=True),
            machine_id=_text(body, "machine_id", 128, required=True),
            os=_text(body, "os", 255),
            agent_version=_text(body, "agent_version", 64),
            ip_addresses=_ips(body.get("ip_addresses")),
            cpu_count=_count(body, "cpu_count", 1 << 16),
            memory_total_bytes=_count(body, "memory_total_bytes", 1 << 62),
            boot_time=_time(body.get("boot_time")),
        )


def _text(body: dict[str, Any], field: str, limit: int, *, required: bool = False) -> str:
    value = body.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationError(f"'{field}' must be a non-empty string.")
    value = value.strip()
    if len(value) > limit:
        raise ValidationError(f"'{field}' may have at most {limit} characters.")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationError(f"'{field}' cannot contain control characters.")
    return value


def _ips(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_IPS:
        raise ValidationError(f"'ip_addresses' must be a list of at most {MAX_IPS} strings.")
    if not all(isinstance(v, str) and 0 < len(v) <= 64 for v in value):
        raise ValidationError("'ip_addresses' must hold address strings.")
    return tuple(value)


def _count(body: dict[str, Any], field: str, limit: int) -> int | None:
    value = body.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValidationError(f"'{field}' must be a non-negative integer.")
    return value


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValueError
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise ValidationError("'boot_time' must be RFC 3339 with an offset or Unix seconds.")
