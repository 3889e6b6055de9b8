"""Who an OTLP resource is: its host identity and the inventory its attributes tell."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from argos_core.errors import ValidationError
from argos_core.models import SOURCE_OPENTELEMETRY
from argos_core.services.agent_inventory import MAX_IPS, AgentInventory
from ingest_server.errors import ApiError

OS_MAX = 255
VERSION_MAX = 64
IP_MAX = 64
# What ``ResourceInventories`` keeps: resources up to this many bytes, this many of them.
KEY_MAX_BYTES = 8192
REMEMBERED = 10_000


class ResourceInventories:
    """``host_inventory`` remembered by the resource's serialized bytes (this process, least
    recently used forgotten first): a Collector sends the same resource with every export,
    and reading its attributes into an inventory costs about 35 times serializing it
    (33 µs against 0.9 µs for a Collector's 13 attributes). A resource that names no host
    is refused each time."""

    def __init__(self, max_entries: int = REMEMBERED) -> None:
        self._max = max_entries
        self._known: OrderedDict[bytes, AgentInventory] = OrderedDict()

    def of(self, resource: Resource, index: int) -> AgentInventory:
        key = resource.SerializeToString()
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        inventory = host_inventory(resource, index)
        if len(key) <= KEY_MAX_BYTES:
            self._known[key] = inventory
            if len(self._known) > self._max:
                self._known.popitem(last=False)
        return inventory


def attributes(pairs: Any) -> dict[str, Any]:
    """``KeyValue`` list to plain Python values (strings, numbers, lists, dicts)."""
    return {kv.key: _value(kv.value) for kv in pairs}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def host_inventory(resource: Resource, index: int) -> AgentInventory:
    """The agent inventory of a resource, keyed by ``host.id`` (else ``host.name``).

    A resource that names no host cannot be stored: ``400``, the sender must fix its
    configuration (e.g. the Collector's ``resourcedetection`` processor, or
    ``OTEL_RESOURCE_ATTRIBUTES=host.name=...``).
    """
    attrs = attributes(resource.attributes)
    name = _text(attrs.get("host.name"))
    machine = _text(attrs.get("host.id")) or name
    if not machine:
        raise ApiError(
            400,
            f"Resource {index} names no host: set the resource attribute host.id or host.name.",
            code="missing_resource_identity",
        )
    body = {
        "hostname": name or machine,
        "machine_id": machine,
        "os": _os(attrs)[:OS_MAX],
        "agent_version": _version(attrs)[:VERSION_MAX],
        "ip_addresses": _ips(attrs.get("host.ip")),
    }
    try:
        inventory = AgentInventory.parse(body)
    except ValidationError as exc:
        raise ApiError(400, f"Resource {index}: {exc}", code="invalid_resource") from exc
    return dataclasses.replace(inventory, source=SOURCE_OPENTELEMETRY)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _os(attrs: dict[str, Any]) -> str:
    """``os.description`` if given, else ``os.name``/``os.type`` and ``os.version``;
    ``host.arch`` in brackets."""
    text = _text(attrs.get("os.description")) or " ".join(
        part
        for part in (
            _text(attrs.get("os.name")) or _text(attrs.get("os.type")),
            _text(attrs.get("os.version")),
        )
        if part
    )
    arch = _text(attrs.get("host.arch"))
    return f"{text} ({arch})" if text and arch else text or arch


def _version(attrs: dict[str, Any]) -> str:
    """What reports: the service (e.g. a Collector build) if it gives a version, else the
    SDK, e.g. ``opentelemetry-python 1.45.2``."""
    service, version = _text(attrs.get("service.name")), _text(attrs.get("service.version"))
    if version:
        return f"{service} {version}".strip()
    sdk = "-".join(
        part
        for part in (
            _text(attrs.get("telemetry.sdk.name")),
            _text(attrs.get("telemetry.sdk.language")),
        )
        if part
    )
    return f"{sdk} {_text(attrs.get('telemetry.sdk.version'))}".strip()


def _ips(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and 0 < len(v) <= IP_MAX][:MAX_IPS]
