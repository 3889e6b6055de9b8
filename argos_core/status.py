"""Agent status from ``last_seen`` (PROTOCOL.md, "Agent status"), in Python and in SQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, literal

from argos_core.models import Agent
from argos_core.settings import StatusPolicy


class AgentStatus(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    OVERDUE = "overdue"
    NEVER_SEEN = "never_seen"
    REVOKED = "revoked"


# Worst wins when a parent summarises its agents: a silent agent matters more than a
# deliberately revoked one.
SEVERITY: dict[AgentStatus, int] = {
    AgentStatus.ONLINE: 0,
    AgentStatus.REVOKED: 1,
    AgentStatus.NEVER_SEEN: 2,
    AgentStatus.OFFLINE: 3,
    AgentStatus.OVERDUE: 4,
}


def agent_status(
    last_seen: datetime | None, revoked_at: datetime | None, now: datetime, policy: StatusPolicy
) -> AgentStatus:
    if revoked_at is not None:
        return AgentStatus.REVOKED
    if last_seen is None:
        return AgentStatus.NEVER_SEEN
    age = (now - last_seen).total_seconds()
    if age <= policy.online_window_s:
        return AgentStatus.ONLINE
    if age <= policy.overdue_after_s:
        return AgentStatus.OFFLINE
    return AgentStatus.OVERDUE


# Parameters of the cutoffs, for statements built once and run with ``status_cutoffs``.
ONLINE_CUTOFF = bindparam("online_cutoff", type_=Agent.last_seen.type)
OVERDUE_CUTOFF = bindparam("overdue_cutoff", type_=Agent.last_seen.type)


def status_cutoffs(now: datetime, policy: StatusPolicy) -> dict[str, datetime]:
    """Values of ``ONLINE_CUTOFF`` and ``OVERDUE_CUTOFF`` at ``now``."""
    return {
        ONLINE_CUTOFF.key: now - timedelta(seconds=policy.online_window_s),
        OVERDUE_CUTOFF.key: now - timedelta(seconds=policy.overdue_after_s),
    }


def status_expression(now: datetime, policy: StatusPolicy) -> ColumnElement[str]:
    """The same rule as :func:`agent_status`, as a SQL CASE for counting in the database."""
    cutoffs = status_cutoffs(now, policy)
    return status_case(cutoffs[ONLINE_CUTOFF.key], cutoffs[OVERDUE_CUTOFF.key])


def status_case(online_cutoff: Any, overdue_cutoff: Any) -> ColumnElement[str]:
    """:func:`status_expression` with the cutoffs given (values or bound parameters)."""
    return case(
        (Agent.revoked_at.is_not(None), literal(AgentStatus.REVOKED.value)),
        (Agent.last_seen.is_(None), literal(AgentStatus.NEVER_SEEN.value)),
        (Agent.last_seen >= online_cutoff, literal(AgentStatus.ONLINE.value)),
        (Agent.last_seen >= overdue_cutoff, literal(AgentStatus.OFFLINE.value)),
        else_=literal(AgentStatus.OVERDUE.value),
    )


def status_ranges(
    online_cutoff: Any, overdue_cutoff: Any
) -> dict[AgentStatus, ColumnElement[bool]]:
    """The same rule as :func:`agent_status`, as one range condition per status, the cutoffs
    given (values or ``ONLINE_CUTOFF``/``OVERDUE_CUTOFF``).

    The conditions partition the agents, and each is a range of an index on
    ``(node, revoked_at, last_seen)``: counting per status this way reads index entries
    only, where grouping by the status CASE evaluates it on every row (five times slower
    on 100,000 agents).
    """
    live = Agent.revoked_at.is_(None)
    return {
        AgentStatus.REVOKED: Agent.revoked_at.is_not(None),
        AgentStatus.NEVER_SEEN: and_(live, Agent.last_seen.is_(None)),
        AgentStatus.ONLINE: and_(live, Agent.last_seen >= online_cutoff),
        AgentStatus.OFFLINE: and_(
            live, Agent.last_seen < online_cutoff, Agent.last_seen >= overdue_cutoff
        ),
        AgentStatus.OVERDUE: and_(live, Agent.last_seen < overdue_cutoff),
    }


def worst(statuses: list[AgentStatus]) -> AgentStatus | None:
    return max(statuses, key=SEVERITY.__getitem__) if statuses else None
