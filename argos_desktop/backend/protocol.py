"""The console's one seam: what it can do for the person signed in, nothing about how.

Each method is a use case of the console: the ``argos_core`` service method of the same
name (minus its ``principal``: a backend is bound to the signed-in identity), with the same
parameters and the same plain dataclasses out. Failures are the same domain exceptions
(``argos_core.errors``) whichever implementation answers, so views handle them once.

Two implementations: :class:`~argos_desktop.backend.direct.DirectBackend` (the services
over a database URL, superadmins on the operator's side) and
:class:`~argos_desktop.backend.remote.RemoteBackend` (the server's console API).
Views, item models and dialogs depend on this protocol only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from argos_core.services.alert_dto import AlertInfo, ChannelInfo, MaintenanceInfo, RuleInfo
from argos_core.services.dto import (
    AgentDetail,
    AgentSummary,
    AuditEntry,
    EnrollmentKeyInfo,
    IssuedKey,
    NodeSeries,
    OrgChoice,
    OrgKind,
    OrgNode,
    Page,
    SearchHit,
    SessionInfo,
    TelemetrySeries,
    TopAgent,
    UserInfo,
)
from argos_core.status import AgentStatus

Role = Literal["superadmin", "admin", "viewer"]
ScopeKind = Literal["platform", "tenant", "company", "branch"]


@dataclass(frozen=True)
class Identity:
    """Who is signed in: what the views need to decide what to offer."""

    username: str
    role: Role
    scope_kind: ScopeKind
    scope_org_id: str | None
    scope_name: str | None = None

    @property
    def is_superadmin(self) -> bool:
        return self.role == "superadmin"

    @property
    def can_write(self) -> bool:
        return self.role in ("superadmin", "admin")

    @property
    def scope_label(self) -> str:
        """``all tenants`` or e.g. ``company Alpha Corp (K7QX2)``."""
        if self.is_superadmin or not self.scope_org_id:
            return "all tenants"
        name = f"{self.scope_name} ({self.scope_org_id})" if self.scope_name else self.scope_org_id
        return f"{self.scope_kind} {name}"


@dataclass(frozen=True)
class ServerHealth:
    """What the Argos server says of itself: healthy or not, in one sentence."""

    ok: bool
    text: str


class ConsoleBackend(Protocol):
    """Everything the console does, on behalf of the identity it was opened for.

    Methods block (network or database): call them off the GUI thread. Any method may
    raise ``argos_core.errors.SessionEnded`` (the session is over: expired, signed out
    elsewhere, account changed or gone); the console then returns to its sign-in form.
    """

    # --- the organisation --------------------------------------------------------------------
    def list_children(
        self, parent_org_id: str | None = None, offset: int = 0, limit: int = 100
    ) -> Page[OrgNode]: ...

    def get_node(self, org_id: str) -> OrgNode: ...

    def list_choices(
        self,
        kinds: Sequence[OrgKind] = ("tenant", "company", "branch"),
        text: str = "",
        limit: int = 500,
    ) -> list[OrgChoice]: ...

    def search(
        self, text: str, *, status: AgentStatus | str | None = None, limit: int = 200
    ) -> list[SearchHit]: ...

    def create_tenant(self, name: str) -> OrgNode: ...

    def create_company(self, tenant_org_id: str, name: str) -> OrgNode: ...

    def create_branch(self, company_org_id: str, name: str) -> OrgNode: ...

    def rename_org(self, org_id: str, new_name: str) -> OrgNode: ...

    def delete_org(self, org_id: str, *, force: bool = False) -> None: ...

    # --- agents ------------------------------------------------------------------------------
    def list_agents(
        self,
        org_id: str,
        *,
        offset: int = 0,
        limit: int = 100,
        sort_by: str = "hostname",
        descending: bool = False,
        status: AgentStatus | None = None,
        text: str = "",
    ) -> Page[AgentSummary]: ...

    def get_agent(self, agent_uuid: str) -> AgentDetail: ...

    def telemetry_range(
        self, agent_uuid: str, start: int, end: int, *, max_points: int = 2000
    ) -> TelemetrySeries: ...

    def node_aggregate(
        self, org_id: str, start: int, end: int, *, max_points: int = 2000
    ) -> NodeSeries: ...

    def top_agents(
        self, org_id: str, metric: str, start: int, end: int, *, limit: int = 10
    ) -> list[TopAgent]: ...

    def revoke_agent(self, agent_uuid: str) -> None: ...

    def move_agent(self, agent_uuid: str, branch_org_id: str) -> AgentSummary: ...

    def delete_agent(self, agent_uuid: str) -> None: ...

    # --- enrollment keys ---------------------------------------------------------------------
    def list_keys(self, branch_org_id: str) -> list[EnrollmentKeyInfo]: ...

    def issue_key(
        self,
        branch_org_id: str,
        *,
        expires_in: timedelta | None = timedelta(days=7),
        note: str = "",
    ) -> IssuedKey: ...

    def revoke_key(self, key_id: int) -> None: ...

    # --- people ------------------------------------------------------------------------------
    def list_users(self, offset: int = 0, limit: int = 200) -> Page[UserInfo]: ...

    def create_user(
        self, *, username: str, password: str, role: str, scope_org_id: str
    ) -> UserInfo: ...

    def update_user(
        self,
        username: str,
        *,
        role: str | None = None,
        scope_org_id: str | None = None,
        is_active: bool | None = None,
    ) -> UserInfo: ...

    def reset_password(self, username: str, new_password: str) -> None: ...

    def change_own_password(self, old_password: str, new_password: str) -> None: ...

    def list_own_sessions(self) -> list[SessionInfo]:
        """The signed-in person's live sessions on Argos servers (``current``: this console)."""
        ...

    def end_own_session(self, session_id: str) -> None: ...

    def list_superadmins(self) -> list[UserInfo]: ...

    def add_superadmin(self, username: str, password: str) -> UserInfo: ...

    def set_superadmin_active(self, username: str, active: bool) -> None: ...

    # --- audit log ---------------------------------------------------------------------------
    def audit_entries(
        self,
        *,
        offset: int = 0,
        limit: int = 200,
        action: str | None = None,
        text: str = "",
        sort_by: str = "at",
        descending: bool = True,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Page[AuditEntry]: ...

    def audit_actions(self) -> list[str]: ...

    # --- alerts ------------------------------------------------------------------------------
    def list_alerts(
        self,
        *,
        active: bool = True,
        node: str | None = None,
        severity: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page[AlertInfo]: ...

    def acknowledge(
        self, alert_id: int, comment: str = "", until: datetime | None = None
    ) -> AlertInfo: ...

    def list_rules(self) -> list[RuleInfo]: ...

    def create_rule(
        self,
        node: str,
        *,
        severity: str,
        condition: str = "threshold",
        metric: str | None = None,
        comparison: str | None = None,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int = 0,
        samples: int = 1,
    ) -> RuleInfo: ...

    def override_rule(
        self,
        rule_id: int,
        node: str,
        *,
        enabled: bool = True,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int | None = None,
        samples: int | None = None,
        severity: str | None = None,
    ) -> RuleInfo: ...

    def set_rule_enabled(self, rule_id: int, enabled: bool) -> RuleInfo: ...

    def agent_rules(self, agent_uuid: str) -> list[RuleInfo]:
        """The rules in force on the agent (overrides applied, those switched off left out)."""
        ...

    def list_channels(self) -> list[ChannelInfo]: ...

    def create_channel(
        self, org_id: str, kind: str, target: str, min_severity: str = "warning"
    ) -> ChannelInfo: ...

    def delete_channel(self, channel_id: int) -> None: ...

    def list_maintenance(self) -> list[MaintenanceInfo]: ...

    def create_maintenance(
        self,
        node: str,
        start: datetime,
        duration_s: int,
        *,
        repeat: str = "none",
        timezone: str = "UTC",
        comment: str = "",
    ) -> MaintenanceInfo:
        """``start``: an aware moment; the window keeps its wall-clock time in ``timezone``."""
        ...

    def delete_maintenance(self, window_id: int) -> None: ...

    # --- the connection ----------------------------------------------------------------------
    def server_health(self) -> ServerHealth | None:
        """The Argos server's health (its ``/healthz``); None without a server in between."""
        ...

    def close(self) -> None:
        """Sign out (remote) or release the database (direct). Idempotent."""
        ...
