"""Plain dataclasses the services hand out. No ORM object ever leaves argos_core."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Generic, Literal, TypeVar

from argos_core.sample_fields import SAMPLE_METRICS
from argos_core.status import SEVERITY, AgentStatus

OrgKind = Literal["tenant", "company", "branch"]
T = TypeVar("T")


@dataclass(frozen=True)
class StatusCounts:
    online: int = 0
    offline: int = 0
    overdue: int = 0
    never_seen: int = 0
    revoked: int = 0

    @property
    def total(self) -> int:
        return self.online + self.offline + self.overdue + self.never_seen + self.revoked

    @cached_property  # read on every paint of every tree row
    def worst(self) -> AgentStatus | None:
        present = [s for s in AgentStatus if getattr(self, s.value) > 0]
        return max(present, key=SEVERITY.__getitem__) if present else None

    @property
    def summary(self) -> str:
        return f"{self.online}/{self.total} online"

    def get(self, status: AgentStatus) -> int:
        return getattr(self, status.value)


@dataclass(frozen=True)
class OrgNode:
    kind: OrgKind
    org_id: str
    name: str
    parent_org_id: str | None
    child_count: int
    counts: StatusCounts
    created_at: datetime


@dataclass(frozen=True)
class OrgChoice:
    """A tenant, company or branch to pick from a list; ``path`` names its ancestors in scope."""

    kind: OrgKind
    org_id: str
    name: str
    path: str

    @property
    def label(self) -> str:
        where = f"{self.path} / " if self.path else ""
        return f"{where}{self.name} ({self.org_id})"


@dataclass(frozen=True)
class AgentSummary:
    uuid: str
    hostname: str
    branch_org_id: str
    os: str
    agent_version: str
    ip_addresses: list[str]
    status: AgentStatus
    last_seen: datetime | None
    enrolled_at: datetime
    revoked_at: datetime | None
    branch_name: str = ""
    source: str = "Argos agent"
    company_name: str = ""


@dataclass(frozen=True)
class AgentDetail:
    summary: AgentSummary
    machine_id: str
    tenant_org_id: str
    company_org_id: str
    cpu_count: int | None
    memory_total_bytes: int | None
    boot_time: datetime | None
    report_interval_s: int
    enrollment_key_id: int | None
    enrollment_key_note: str | None
    re_enrolled_at: datetime | None = None  # last time the host enrolled again
    re_enrolled_from: str = ""  # and the address it did so from
    company_name: str = ""
    tenant_name: str = ""


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class SearchHit:
    """A node matching a search, with the org ids and names of its ancestors (root first)."""

    kind: Literal["tenant", "company", "branch", "agent"]
    key: str
    name: str
    path: list[str]
    status: AgentStatus | None
    path_names: list[str] = field(default_factory=list)


METRICS = SAMPLE_METRICS


@dataclass(frozen=True)
class TelemetrySeries:
    """Samples of one agent in ``[start, end)``; ``bucket_s`` > 0 means averaged buckets.

    ``resolution`` says which tier answered: ``"raw"`` (samples, or averages of them, with
    the network counters as stored) or ``"hourly"`` (rollups: ``metrics`` holds averages,
    the network as ``net_rx_rate``/``net_tx_rate`` in bytes/s, and ``minimum``/``maximum``
    the extremes of each bucket).
    """

    agent_uuid: str
    start: int
    end: int
    bucket_s: int
    ts: list[int]
    metrics: dict[str, list[float | None]] = field(default_factory=dict)
    resolution: Literal["raw", "hourly"] = "raw"
    minimum: dict[str, list[float | None]] = field(default_factory=dict)
    maximum: dict[str, list[float | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class NodeSeries:
    """A node's agents together, hour by hour (or in ``bucket_s`` buckets): per metric the
    average across agents and the highest value of any agent, and how many agents reported."""

    org_id: str
    start: int
    end: int
    bucket_s: int
    ts: list[int]
    agents_reporting: list[int]
    average: dict[str, list[float | None]] = field(default_factory=dict)
    maximum: dict[str, list[float | None]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class TopAgent:
    """An agent ranked by a metric over a range: its average and its peak."""

    uuid: str
    hostname: str
    branch_org_id: str
    average: float
    maximum: float | None


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    key: str
    branch_org_id: str
    expires_at: datetime | None
    note: str


@dataclass(frozen=True)
class EnrollmentKeyInfo:
    key_id: int
    branch_org_id: str
    note: str
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    use_count: int
    state: Literal["active", "expired", "revoked"]


@dataclass(frozen=True)
class EnrollResult:
    agent_uuid: str
    created: bool
    report_interval_s: int
    token_epoch: int = 0


@dataclass(frozen=True)
class UserInfo:
    username: str
    role: str
    scope_kind: OrgKind | Literal["platform"]
    scope_org_id: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    target_kind: str
    target: str
    before: dict | None
    after: dict | None
    source: str


@dataclass(frozen=True)
class Me:
    """Who a signed-in person is: role and scope, as the server derives them now."""

    username: str
    role: str
    scope_kind: OrgKind | Literal["platform"]
    scope_org_id: str | None
    scope_name: str | None
    tenant_org_id: str | None


@dataclass(frozen=True)
class SessionInfo:
    """One of a person's console sessions; ``current`` is the one asking."""

    session_id: str
    created_at: datetime
    last_used_at: datetime
    source: str
    current: bool


@dataclass(frozen=True)
class SignedIn:
    """What login and refresh answer: a short-lived access token and the next refresh token."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: Me
