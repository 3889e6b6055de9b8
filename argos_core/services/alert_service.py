"""Alert rules, alerts, notification channels and maintenance windows, scoped like the rest.

Client admins manage rules, channels and windows on nodes inside their scope and see the
alerts of their subtree; viewers read. Rules set above a client's scope apply to it and are
listed as ``inherited`` (read-only); a client admin changes one for their subtree with an
override.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session, sessionmaker

from argos_core.alerts import lifecycle
from argos_core.alerts.evaluation import load_rules
from argos_core.alerts.maintenance import Schedule, zone
from argos_core.alerts.maintenance import validate as validate_window
from argos_core.alerts.outbox import MaintenanceCalendar
from argos_core.alerts.rules import ABSENCE, METRICS, SEVERITY_RANK
from argos_core.errors import Conflict, NotFound, ValidationError
from argos_core.models import (
    Agent,
    Alert,
    AlertRule,
    Branch,
    Company,
    MaintenanceWindow,
    NotifyChannel,
    Tenant,
    utcnow,
)
from argos_core.repositories import Ancestry, ScopedRepository
from argos_core.scope import Principal, subtree_filter
from argos_core.services import audit
from argos_core.services.alert_dto import AlertInfo, ChannelInfo, MaintenanceInfo, RuleInfo
from argos_core.services.dto import Page
from argos_core.transactions import retrying
from argos_core.unit_of_work import UnitOfWork

MAX_PAGE = 1000
EARLIEST_START = datetime(2000, 1, 1)
LATEST_START = datetime(2200, 1, 1)
MAX_SAMPLES = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


@dataclass(frozen=True)
class Node:
    """A tenant, company, branch or agent, by its ancestry ids and what people call it."""

    tenant_id: int
    company_id: int | None
    branch_id: int | None
    agent_id: int | None
    label: str
    kind: str

    @property
    def ancestry(self) -> Ancestry:
        return Ancestry(self.tenant_id, self.company_id, self.branch_id)

    def columns(self) -> dict[str, int | None]:
        return {
            "tenant_id": self.tenant_id,
            "company_id": self.company_id,
            "branch_id": self.branch_id,
            "agent_id": self.agent_id,
        }


def _placed(row: Any) -> tuple[int, int | None, int | None, int | None]:
    return row.tenant_id, row.company_id, row.branch_id, row.agent_id


def _covers(outer: tuple, inner: tuple) -> bool:
    """Whether node ``outer`` is ``inner`` or one of its ancestors (ancestry tuples)."""
    return all(o is None or o == i for o, i in zip(outer, inner, strict=True))


class AlertService:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sf = session_factory

    # --- rules -----------------------------------------------------------------------------

    @retrying
    def create_rule(
        self,
        principal: Principal,
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
    ) -> RuleInfo:
        principal.require_write()
        fields = _rule_fields(
            condition, metric, comparison, threshold, recover_at, for_s, samples, severity
        )
        with UnitOfWork(self._sf) as uow:
            where = _resolve(ScopedRepository(uow.session, principal), node)
            row = AlertRule(**where.columns(), **fields, created_by=principal.actor)
            uow.session.add(row)
            uow.session.flush()
            audit.record(
                uow.session,
                principal,
                "alert_rule.create",
                "alert_rule",
                str(row.id),
                where.ancestry,
                after={"node": where.label, **fields},
            )
            uow.commit()
            return _rule_info(row, where.label, where.kind, inherited=False)

    @retrying
    def override_rule(
        self,
        principal: Principal,
        rule_id: int,
        node: str,
        *,
        enabled: bool = True,
        threshold: float | None = None,
        recover_at: float | None = None,
        for_s: int | None = None,
        samples: int | None = None,
        severity: str | None = None,
    ) -> RuleInfo:
        """Change (or with ``enabled=False`` switch off) a rule for the subtree of ``node``."""
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            rule = self._visible_rule(uow.session, principal, rule_id)
            root = uow.session.get(AlertRule, rule.overrides_id) if rule.overrides_id else rule
            assert root is not None
            where = _resolve(ScopedRepository(uow.session, principal), node)
            inner = (where.tenant_id, where.company_id, where.branch_id, where.agent_id)
            if not _covers(_placed(root), inner) or _placed(root) == inner:
                raise ValidationError("An override goes on a node below the rule's own node.")
            new_threshold = root.threshold if threshold is None else threshold
            new_recover = recover_at
            if new_recover is None and threshold is None:
                new_recover = root.recover_at
            fields = _rule_fields(
                root.condition,
                root.metric,
                root.comparison,
                new_threshold,
                new_recover,
                root.for_s if for_s is None else for_s,
                root.samples if samples is None else samples,
                severity or root.severity,
            )
            row = AlertRule(
                **where.columns(),
                **fields,
                overrides_id=root.id,
                enabled=enabled,
                created_by=principal.actor,
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(
                uow.session,
                principal,
                "alert_rule.override",
                "alert_rule",
                str(row.id),
                where.ancestry,
                after={"node": where.label, "overrides": root.id, "enabled": enabled, **fields},
            )
            uow.commit()
            return _rule_info(row, where.label, where.kind, inherited=False)

    @retrying(idempotent=True)
    def set_rule_enabled(self, principal: Principal, rule_id: int, enabled: bool) -> RuleInfo:
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            row = uow.session.scalar(
                select(AlertRule).where(
                    AlertRule.id == rule_id, _placed_in_scope(principal, AlertRule)
                )
            )
            if row is None:
                raise NotFound(f"No alert rule {rule_id}.")
            before = row.enabled
            row.enabled = enabled
            audit.record(
                uow.session,
                principal,
                "alert_rule.enable" if enabled else "alert_rule.disable",
                "alert_rule",
                str(row.id),
                Ancestry(row.tenant_id, row.company_id, row.branch_id),
                before={"enabled": before},
                after={"enabled": enabled},
            )
            uow.session.flush()
            labels = _labels(uow.session, [row])
            uow.commit()
            return _rule_info(row, *labels[row.id], inherited=False)

    def list_rules(self, principal: Principal) -> list[RuleInfo]:
        """Rules in the caller's scope, and those above it that apply to it (inherited)."""
        with UnitOfWork(self._sf) as uow:
            rows = uow.session.scalars(
                select(AlertRule)
                .where(or_(_placed_in_scope(principal, AlertRule), _inherited_scope(principal)))
                .order_by(AlertRule.id)
            ).all()
            labels = _labels(uow.session, rows)
            return [
                _rule_info(
                    r,
                    *labels[r.id],
                    inherited=not _contains(principal, _placed(r)),
                )
                for r in rows
            ]

    def agent_rules(self, principal: Principal, agent_uuid: str) -> list[RuleInfo]:
        """The rules in force on an agent: each as the deepest override on its path says,
        those switched off there left out."""
        with UnitOfWork(self._sf) as uow:
            agent = ScopedRepository(uow.session, principal).find_agent(agent_uuid)
            book = load_rules(uow.session, agent.tenant_id)
            ids = [
                s.id
                for s in book.effective(
                    agent.tenant_id, agent.company_id, agent.branch_id, agent.id
                )
            ]
            rows = uow.session.scalars(
                select(AlertRule).where(AlertRule.id.in_(ids)).order_by(AlertRule.id)
            ).all()
            labels = _labels(uow.session, rows)
            return [
                _rule_info(r, *labels[r.id], inherited=not _contains(principal, _placed(r)))
                for r in rows
            ]

    def _visible_rule(self, session: Session, principal: Principal, rule_id: int) -> AlertRule:
        row = session.scalar(
            select(AlertRule).where(
                AlertRule.id == rule_id,
                or_(_placed_in_scope(principal, AlertRule), _inherited_scope(principal)),
            )
        )
        if row is None:
            raise NotFound(f"No alert rule {rule_id}.")
        return row

    # --- alerts ----------------------------------------------------------------------------

    def list_alerts(
        self,
        principal: Principal,
        *,
        active: bool = True,
        node: str | None = None,
        severity: str | None = None,
        offset: int = 0,
        limit: int = 200,
    ) -> Page[AlertInfo]:
        """Open and acknowledged alerts (``active``), or the resolved history; newest first."""
        if severity is not None and severity not in SEVERITY_RANK:
            raise ValidationError("Severity is 'warning' or 'critical'.")
        offset, limit = max(0, offset), max(1, min(limit, MAX_PAGE))
        now = utcnow()
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            query = select(Alert).where(_placed_in_scope(principal, Alert))
            query = query.where(
                Alert.open_key.is_not(None) if active else Alert.state == "resolved"
            )
            if node:
                where = _resolve(repo, node)
                for column, value in (
                    (Alert.tenant_id, where.tenant_id),
                    (Alert.company_id, where.company_id),
                    (Alert.branch_id, where.branch_id),
                    (Alert.agent_id, where.agent_id),
                ):
                    if value is not None:
                        query = query.where(column == value)
            if severity:
                query = query.where(Alert.severity == severity)
            rows = uow.session.scalars(
                query.order_by(Alert.opened_at.desc(), Alert.id.desc()).offset(offset).limit(limit)
            ).all()
            total = repo.page_total(query, offset, limit, len(rows))
            return Page(self._alert_infos(uow.session, rows, now), total, offset)

    @retrying
    def acknowledge(
        self,
        principal: Principal,
        alert_id: int,
        comment: str = "",
        until: datetime | None = None,
    ) -> AlertInfo:
        principal.require_write()
        comment = (comment or "").strip()
        if len(comment) > 500:
            raise ValidationError("An acknowledgement comment has at most 500 characters.")
        now = utcnow()
        if until is not None and (until.tzinfo is None or until <= now):
            raise ValidationError("'Until' must be a future time with a time zone.")
        with UnitOfWork(self._sf) as uow:
            alert = uow.session.scalar(
                select(Alert).where(Alert.id == alert_id, _placed_in_scope(principal, Alert))
            )
            if alert is None:
                raise NotFound(f"No alert {alert_id}.")
            if alert.state == "resolved":
                raise Conflict("The alert is already resolved.")
            lifecycle.acknowledge(uow.session, alert, principal.actor, comment, until, now)
            audit.record(
                uow.session,
                principal,
                "alert.acknowledge",
                "alert",
                str(alert.id),
                Ancestry(alert.tenant_id, alert.company_id, alert.branch_id),
                after={
                    "comment": comment,
                    "until": until.isoformat() if until else None,
                },
            )
            info = self._alert_infos(uow.session, [alert], now)[0]
            uow.commit()
            return info

    def _alert_infos(
        self, session: Session, rows: Sequence[Alert], now: datetime
    ) -> list[AlertInfo]:
        if not rows:
            return []
        agents = {
            a.id: a
            for a in session.scalars(select(Agent).where(Agent.id.in_({r.agent_id for r in rows})))
        }
        names: dict[type, dict[int, str]] = {}
        org_ids: dict[type, dict[int, str]] = {}
        for model, ids in (
            (Tenant, {r.tenant_id for r in rows}),
            (Company, {r.company_id for r in rows}),
            (Branch, {r.branch_id for r in rows}),
        ):
            found = session.execute(
                select(model.id, model.name, model.org_id).where(model.id.in_(ids))
            ).all()
            names[model] = {row.id: row.name for row in found}
            org_ids[model] = {row.id: row.org_id for row in found}
        calendar = MaintenanceCalendar(
            session.scalars(
                select(MaintenanceWindow).where(
                    MaintenanceWindow.tenant_id.in_({r.tenant_id for r in rows})
                )
            ).all()
        )
        return [
            AlertInfo(
                id=r.id,
                rule_id=r.rule_id,
                rule=r.rule_text,
                state=r.state,
                condition=r.condition,
                severity=r.severity,
                metric=r.metric,
                threshold=r.threshold,
                value=r.value,
                agent_id=agents[r.agent_id].uuid,
                hostname=agents[r.agent_id].hostname,
                path=" / ".join(
                    (
                        names[Tenant][r.tenant_id],
                        names[Company][r.company_id],
                        names[Branch][r.branch_id],
                    )
                ),
                opened_at=r.opened_at,
                resolved_at=r.resolved_at,
                acked_by=r.acked_by,
                acked_at=r.acked_at,
                ack_comment=r.ack_comment,
                acked_until=r.acked_until,
                in_maintenance=r.resolved_at is None and calendar.open_until(r, now) is not None,
                tenant_org_id=org_ids[Tenant][r.tenant_id],
                company_org_id=org_ids[Company][r.company_id],
                branch_org_id=org_ids[Branch][r.branch_id],
            )
            for r in rows
        ]

    # --- channels and maintenance ----------------------------------------------------------

    @retrying
    def create_channel(
        self,
        principal: Principal,
        org_id: str,
        kind: str,
        target: str,
        min_severity: str = "warning",
    ) -> ChannelInfo:
        principal.require_write()
        target = _channel_target(kind, target)
        if min_severity not in SEVERITY_RANK:
            raise ValidationError("The minimum severity is 'warning' or 'critical'.")
        with UnitOfWork(self._sf) as uow:
            repo = ScopedRepository(uow.session, principal)
            org = repo.find_org(org_id)
            where = Ancestry.of(org)
            row = NotifyChannel(
                tenant_id=where.tenant_id,
                company_id=where.company_id,
                branch_id=where.branch_id,
                kind=kind,
                target=target,
                min_severity=min_severity,
                created_by=principal.actor,
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(
                uow.session,
                principal,
                "notify_channel.create",
                "notify_channel",
                str(row.id),
                where,
                after={"node": org.org_id, "kind": kind, "min_severity": min_severity},
            )
            uow.commit()
            return ChannelInfo(row.id, org.org_id, kind, target, min_severity)

    def list_channels(self, principal: Principal) -> list[ChannelInfo]:
        with UnitOfWork(self._sf) as uow:
            rows = uow.session.scalars(
                select(NotifyChannel)
                .where(_placed_in_scope(principal, NotifyChannel))
                .order_by(NotifyChannel.id)
            ).all()
            labels = _labels(uow.session, rows)
            return [
                ChannelInfo(r.id, labels[r.id][0], r.kind, r.target, r.min_severity) for r in rows
            ]

    def delete_channel(self, principal: Principal, channel_id: int) -> None:
        """Stop sending a node's alerts there; its notifications not yet sent go with it."""
        self._delete_placed(principal, NotifyChannel, channel_id, "notify_channel")

    @retrying
    def create_maintenance(
        self,
        principal: Principal,
        node: str,
        start: datetime,
        duration_s: int,
        *,
        repeat: str = "none",
        timezone: str = "UTC",
        comment: str = "",
    ) -> MaintenanceInfo:
        """``start`` is a wall-clock time in ``timezone`` (naive), or an aware moment."""
        principal.require_write()
        validate_window(duration_s, repeat)
        tz = zone(timezone)
        if not EARLIEST_START <= start.replace(tzinfo=None) <= LATEST_START:
            raise ValidationError("A maintenance window starts between the years 2000 and 2200.")
        local = start.astimezone(tz).replace(tzinfo=None) if start.tzinfo else start
        local = local.replace(microsecond=0)
        comment = (comment or "").strip()[:200]
        with UnitOfWork(self._sf) as uow:
            where = _resolve(ScopedRepository(uow.session, principal), node)
            row = MaintenanceWindow(
                **where.columns(),
                starts_local=local,
                timezone=timezone,
                duration_s=duration_s,
                repeat=repeat,
                comment=comment,
                created_by=principal.actor,
            )
            uow.session.add(row)
            uow.session.flush()
            audit.record(
                uow.session,
                principal,
                "maintenance.create",
                "maintenance",
                str(row.id),
                where.ancestry,
                after={
                    "node": where.label,
                    "starts_local": local.isoformat(),
                    "timezone": timezone,
                    "duration_s": duration_s,
                    "repeat": repeat,
                },
            )
            uow.commit()
            return _window_info(row, where.label, utcnow())

    def list_maintenance(self, principal: Principal) -> list[MaintenanceInfo]:
        with UnitOfWork(self._sf) as uow:
            rows = uow.session.scalars(
                select(MaintenanceWindow)
                .where(_placed_in_scope(principal, MaintenanceWindow))
                .order_by(MaintenanceWindow.id)
            ).all()
            labels = _labels(uow.session, rows)
            now = utcnow()
            return [_window_info(r, labels[r.id][0], now) for r in rows]

    def delete_maintenance(self, principal: Principal, window_id: int) -> None:
        """End a window (and its repeats) now: notifications it held go out on the next pass."""
        self._delete_placed(principal, MaintenanceWindow, window_id, "maintenance")

    @retrying(idempotent=True)
    def _delete_placed(
        self,
        principal: Principal,
        model: type[NotifyChannel | MaintenanceWindow],
        ident: int,
        kind: str,
    ) -> None:
        principal.require_write()
        with UnitOfWork(self._sf) as uow:
            row = uow.session.scalar(
                select(model).where(model.id == ident, _placed_in_scope(principal, model))
            )
            if row is None:
                what = "notification channel" if kind == "notify_channel" else "maintenance window"
                raise NotFound(f"No {what} {ident}.")
            audit.record(
                uow.session,
                principal,
                f"{kind}.delete",
                kind,
                str(row.id),
                Ancestry(row.tenant_id, row.company_id, row.branch_id),
                before={"node": _labels(uow.session, [row])[row.id][0]},
            )
            uow.session.delete(row)
            uow.commit()


# --- helpers -------------------------------------------------------------------------------


def _resolve(repo: ScopedRepository, ref: str) -> Node:
    """An org id or an agent's uuid, inside the caller's scope."""
    ref = (ref or "").strip()
    if _UUID.match(ref):
        agent = repo.find_agent(ref)
        return Node(
            agent.tenant_id, agent.company_id, agent.branch_id, agent.id, agent.uuid, "agent"
        )
    org = repo.find_org(ref)
    where = Ancestry.of(org)
    kind = {Tenant: "tenant", Company: "company", Branch: "branch"}[type(org)]
    return Node(where.tenant_id, where.company_id, where.branch_id, None, org.org_id, kind)


def _rule_fields(
    condition: str,
    metric: str | None,
    comparison: str | None,
    threshold: float | None,
    recover_at: float | None,
    for_s: int,
    samples: int,
    severity: str,
) -> dict[str, Any]:
    if severity not in SEVERITY_RANK:
        raise ValidationError("Severity is 'warning' or 'critical'.")
    if for_s < 0 or for_s > 7 * 86400:
        raise ValidationError("'For' is between 0 seconds and 7 days.")
    if not 1 <= samples <= MAX_SAMPLES:
        raise ValidationError(f"A rule counts between 1 and {MAX_SAMPLES} consecutive samples.")
    if condition in ABSENCE:
        if metric or threshold is not None or recover_at is not None:
            raise ValidationError(f"An {condition} rule takes no metric or threshold.")
        return {
            "condition": condition,
            "metric": None,
            "comparison": None,
            "threshold": None,
            "recover_at": None,
            "for_s": for_s,
            "samples": 1,
            "severity": severity,
        }
    if condition != "threshold":
        raise ValidationError("A rule's condition is 'threshold', 'offline' or 'overdue'.")
    if metric not in METRICS:
        raise ValidationError(f"Unknown metric '{metric}'; one of: {', '.join(METRICS)}.")
    if comparison not in ("above", "below"):
        raise ValidationError("A threshold rule says 'above' or 'below' a value.")
    for label, value in (("threshold", threshold), ("recovery threshold", recover_at)):
        if value is not None and not math.isfinite(value):
            raise ValidationError(f"The {label} must be a finite number.")
    if threshold is None:
        raise ValidationError("A threshold rule needs a threshold.")
    if recover_at is not None and (
        (comparison == "above" and recover_at > threshold)
        or (comparison == "below" and recover_at < threshold)
    ):
        side = "at or below" if comparison == "above" else "at or above"
        raise ValidationError(f"The recovery threshold must be {side} the threshold.")
    return {
        "condition": "threshold",
        "metric": metric,
        "comparison": comparison,
        "threshold": float(threshold),
        "recover_at": None if recover_at is None else float(recover_at),
        "for_s": for_s,
        "samples": samples,
        "severity": severity,
    }


def _channel_target(kind: str, target: str) -> str:
    target = (target or "").strip()
    if kind == "webhook":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname or len(target) > 500:
            raise ValidationError("A webhook is an http:// or https:// URL.")
        return target
    if kind == "email":
        if not _EMAIL.match(target) or len(target) > 254:
            raise ValidationError(f"'{target}' is not an e-mail address.")
        return target
    raise ValidationError("A channel is a webhook or an e-mail address.")


def _placed_in_scope(p: Principal, model: Any) -> ColumnElement[bool]:
    """Rows of ``model`` (rules, alerts, channels, maintenance windows: each placed on a node
    by its tenant, company and branch ids) inside the caller's subtree."""
    return subtree_filter(
        p, tenant_col=model.tenant_id, company_col=model.company_id, branch_col=model.branch_id
    )


def _inherited_scope(p: Principal) -> ColumnElement[bool]:
    """Rules on the nodes above a client's scope node: they apply inside it."""
    if p.is_superadmin or p.tenant_id is None or p.company_id is None:
        return false()
    above = (AlertRule.tenant_id == p.tenant_id) & AlertRule.company_id.is_(None)
    if p.branch_id is not None:
        above = above | (
            (AlertRule.tenant_id == p.tenant_id)
            & (AlertRule.company_id == p.company_id)
            & AlertRule.branch_id.is_(None)
        )
    return above


def _contains(p: Principal, placed: tuple) -> bool:
    if p.is_superadmin:
        return True
    tenant_id, company_id, branch_id, _agent = placed
    return (
        p.tenant_id == tenant_id
        and (p.company_id is None or p.company_id == company_id)
        and (p.branch_id is None or p.branch_id == branch_id)
    )


def _labels(session: Session, rows: Sequence[Any]) -> dict[int, tuple[str, str]]:
    """(label, kind) of the node each row is attached to: an org id, or an agent's uuid."""
    wanted: dict[type, set[int]] = {Tenant: set(), Company: set(), Branch: set(), Agent: set()}
    for r in rows:
        model, ident = _deepest(r)
        wanted[model].add(ident)
    names: dict[tuple[type, int], str] = {}
    for model, ids in wanted.items():
        if not ids:
            continue
        key = Agent.uuid if model is Agent else model.org_id
        for ident, label in session.execute(select(model.id, key).where(model.id.in_(ids))):
            names[(model, ident)] = label
    kinds = {Tenant: "tenant", Company: "company", Branch: "branch", Agent: "agent"}
    return {r.id: (names[_deepest(r)], kinds[_deepest(r)[0]]) for r in rows}


def _deepest(row: Any) -> tuple[type, int]:
    if row.agent_id is not None:
        return Agent, row.agent_id
    if row.branch_id is not None:
        return Branch, row.branch_id
    if row.company_id is not None:
        return Company, row.company_id
    return Tenant, row.tenant_id


def _window_info(row: MaintenanceWindow, label: str, now: datetime) -> MaintenanceInfo:
    repeat: Any = row.repeat
    occurrence = Schedule(row.starts_local, row.timezone, row.duration_s, repeat).occurrence_at(now)
    return MaintenanceInfo(
        row.id,
        label,
        row.starts_local.isoformat(),
        row.timezone,
        row.duration_s,
        row.repeat,
        row.comment,
        occurrence[1] if occurrence else None,
    )


def _rule_info(row: AlertRule, label: str, kind: str, *, inherited: bool) -> RuleInfo:
    return RuleInfo(
        id=row.id,
        node=label,
        node_kind=kind,
        condition=row.condition,
        metric=row.metric,
        comparison=row.comparison,
        threshold=row.threshold,
        recover_at=row.recover_at,
        for_s=row.for_s,
        samples=row.samples,
        severity=row.severity,
        enabled=row.enabled,
        overrides_id=row.overrides_id,
        inherited=inherited,
    )
