"""Dataclasses the alert service hands out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RuleInfo:
    id: int
    node: str  # org id, or the agent's uuid
    node_kind: str
    condition: str
    metric: str | None
    comparison: str | None
    threshold: float | None
    recover_at: float | None
    for_s: int
    samples: int
    severity: str
    enabled: bool
    overrides_id: int | None
    inherited: bool  # defined above the caller's scope: read-only for them


@dataclass(frozen=True)
class AlertInfo:
    id: int
    rule_id: int
    rule: str
    state: str
    condition: str
    severity: str
    metric: str | None
    threshold: float | None
    value: float | None
    agent_id: str
    hostname: str
    path: str  # "Tenant / Company / Branch"
    opened_at: datetime
    resolved_at: datetime | None
    acked_by: str | None
    acked_at: datetime | None
    ack_comment: str | None
    acked_until: datetime | None
    in_maintenance: bool
    tenant_org_id: str
    company_org_id: str
    branch_org_id: str

    @property
    def nodes(self) -> tuple[str, str, str, str]:
        """The keys of the nodes the alert is under: org ids, then the agent's uuid."""
        return (self.tenant_org_id, self.company_org_id, self.branch_org_id, self.agent_id)


@dataclass(frozen=True)
class ChannelInfo:
    id: int
    node: str
    kind: str
    target: str
    min_severity: str


@dataclass(frozen=True)
class MaintenanceInfo:
    id: int
    node: str
    starts_local: str  # wall-clock time in ``timezone``, ISO 8601 without offset
    timezone: str
    duration_s: int
    repeat: str
    comment: str
    open_until: datetime | None = None  # when the occurrence open now ends; None: not open
