"""Declarations of the agent API, health and metrics for the OpenAPI document.

These routes are served by ``ingest_server.handlers`` and ``ingest_server.telemetry`` (whose
hot path validates with ``ingest_server.samples``); the declarations here state the same
rules as PROTOCOL.md for the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest_server.console_api.declarations import Instant, Operation, bounded
from ingest_server.samples import MAX_COUNTER, MAX_LOAD, MAX_SAMPLES


@dataclass(frozen=True)
class EnrollBody:
    branch_org_id: str = bounded(max_length=100)
    enrollment_key: str = bounded(max_length=200)
    hostname: str = bounded(max_length=255)
    machine_id: str = bounded(max_length=128)
    os: str = bounded("", max_length=255)
    agent_version: str = bounded("", max_length=64)
    ip_addresses: list[str] | None = None
    cpu_count: int | None = bounded(None, minimum=0, maximum=1 << 16)
    memory_total_bytes: int | None = bounded(None, minimum=0, maximum=1 << 62)
    boot_time: Instant | None = None


@dataclass(frozen=True)
class Enrolled:
    agent_id: str
    token: str
    report_interval_s: int


@dataclass(frozen=True)
class Sample:
    ts: Instant
    cpu_percent: float | None = bounded(None, minimum=0, maximum=100)
    mem_percent: float | None = bounded(None, minimum=0, maximum=100)
    disk_percent: float | None = bounded(None, minimum=0, maximum=100)
    net_rx_bytes: int | None = bounded(None, minimum=0, maximum=MAX_COUNTER)
    net_tx_bytes: int | None = bounded(None, minimum=0, maximum=MAX_COUNTER)
    load_1m: float | None = bounded(None, minimum=0, maximum=MAX_LOAD)
    uptime_s: int | None = bounded(None, minimum=0, maximum=MAX_COUNTER)


@dataclass(frozen=True)
class TelemetryBatch:
    samples: list[Sample] = field(metadata={"description": f"at most {MAX_SAMPLES} samples"})


@dataclass(frozen=True)
class Accepted:
    accepted: int
    duplicates: int
    report_interval_s: int


@dataclass(frozen=True)
class Health:
    status: str
    database: str


ROUTES: list[tuple[str, dict[str, Operation], str]] = [
    (
        "/api/v1/enroll",
        {
            "post": Operation(
                "Enroll an agent (201 new, 200 again for the same branch and machine)",
                answer=Enrolled,
                status=201,
                body=EnrollBody,
                public=True,
                also_status=(200,),
                errors=(401, 429),
                description=(
                    "Unknown branch, wrong, expired or revoked key: the same 401. After a burst"
                    " of failed enrollments from one address, 429 with Retry-After. Enrolling"
                    " the same machine again invalidates the tokens issued to it before."
                ),
            )
        },
        "agents",
    ),
    (
        "/api/v1/telemetry",
        {
            "post": Operation(
                "Store a batch of samples (all or nothing)",
                answer=Accepted,
                body=TelemetryBatch,
                agent=True,
                errors=(401, 429),
            )
        },
        "agents",
    ),
    (
        "/healthz",
        {
            "get": Operation(
                "Whether the server and its database answer", answer=Health, public=True
            )
        },
        "operations",
    ),
    (
        "/metrics",
        {
            "get": Operation(
                "Prometheus text exposition",
                answer=str,
                public=True,
                media_type="text/plain",
            )
        },
        "operations",
    ),
]
