"""Evaluating rules: thresholds on freshly accepted samples, absence on ``last_seen``.

Both read what they need from the database (the samples behind a duration or a count of
consecutive samples, the alerts already open), so evaluation keeps no state of its own
that a restart could lose, and several processes evaluating the same agent agree: the
unique ``open_key`` lets only one of them open an alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from argos_core import transactions
from argos_core.alerts import lifecycle
from argos_core.alerts.rules import ABSENCE, METRICS, RuleBook, RuleSpec
from argos_core.models import Agent, Alert, AlertRule, Telemetry, utcnow
from argos_core.settings import StatusPolicy
from argos_core.telemetry_store import COLUMNS

METRIC_INDEX = {name: COLUMNS.index(name) for name in METRICS}
_TS = itemgetter(1)
IDS_PER_QUERY = 1000


@dataclass
class Outcome:
    opened: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def load_rules(session: Session, tenant_id: int | None = None) -> RuleBook:
    """Every rule of the platform, or of one tenant."""
    query = select(AlertRule)
    if tenant_id is not None:
        query = query.where(AlertRule.tenant_id == tenant_id)
    return RuleBook(
        RuleSpec(
            id=r.id,
            overrides_id=r.overrides_id,
            tenant_id=r.tenant_id,
            company_id=r.company_id,
            branch_id=r.branch_id,
            agent_id=r.agent_id,
            condition=r.condition,  # type: ignore[arg-type]
            metric=r.metric,
            comparison=r.comparison,  # type: ignore[arg-type]
            threshold=r.threshold,
            recover_at=r.recover_at,
            for_s=r.for_s,
            samples=r.samples,
            severity=r.severity,  # type: ignore[arg-type]
            enabled=r.enabled,
        )
        for r in session.scalars(query)
    )


class RuleCache:
    """The rule book, re-read at most every ``ttl_s``: rules change rarely, samples often."""

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._book: RuleBook | None = None
        self._loaded_at = 0.0

    def get(self, session: Session) -> RuleBook:
        if self._book is None or self._clock() - self._loaded_at >= self._ttl_s:
            self._book = load_rules(session)
            self._loaded_at = self._clock()
        return self._book


class PlaceCache:
    """Agents' ancestry (``PLACE`` rows), kept ``ttl_s``: a moved agent is judged by its new
    branch's rules within that time, as a changed rule is (``RuleCache``)."""

    def __init__(self, ttl_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._places: dict[int, Any] = {}
        self._loaded_at = 0.0

    def get(self, session: Session, ids: Sequence[int]) -> dict[int, Any]:
        if self._clock() - self._loaded_at >= self._ttl_s:
            self._places = {}
            self._loaded_at = self._clock()
        missing = [i for i in ids if i not in self._places]
        if missing:
            self._places.update(_agents(session, missing))
        return {i: self._places[i] for i in ids if i in self._places}


class ThresholdEvaluator:
    """Judges the newest accepted sample of each agent against the rules in force."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rules: RuleCache | None = None,
        places: PlaceCache | None = None,
    ):
        self._sf = session_factory
        self._rules = rules or RuleCache()
        self._places = places or PlaceCache()

    def evaluate(
        self,
        latest: Mapping[int, tuple],
        now: datetime | None = None,
        recent: Mapping[int, Sequence[tuple]] | None = None,
    ) -> Outcome:
        """``latest`` maps agent ids to their newest sample row (``COLUMNS`` order);
        ``recent`` optionally to rows committed with it (the same request's), which often
        show that a breach is not sustained without asking the database.

        Deciding only reads; the changes are then written in a transaction of their own, kept
        short because inserting an alert locks its agent's row against the writer's
        ``last_seen`` update until commit.
        """
        outcome = Outcome()
        now = now or utcnow()
        to_open: list[tuple[RuleSpec, Any, float]] = []
        to_resolve: list[tuple[int, float]] = []
        with self._sf() as session:
            book = self._rules.get(session)
            if not book.has_condition("threshold") or not latest:
                return outcome
            agents = self._places.get(session, list(latest))
            open_alerts = _open_threshold_alerts(session, list(agents))
            for agent_id, row in latest.items():
                agent = agents.get(agent_id)
                if agent is None:
                    continue
                ordered: list[tuple] | None = None
                rules = book.effective(agent.tenant_id, agent.company_id, agent.branch_id, agent_id)
                for spec in rules:
                    if spec.condition != "threshold" or spec.metric not in METRIC_INDEX:
                        continue
                    value = row[METRIC_INDEX[spec.metric]]
                    if value is None:
                        continue
                    alert_id = open_alerts.get((spec.root_id, agent_id))
                    if alert_id is not None:
                        if spec.recovered(value):
                            to_resolve.append((alert_id, value))
                    elif spec.breaches(value):
                        if ordered is None:  # once per agent, and only for a breach
                            ordered = sorted((recent or {}).get(agent_id, ()), key=_TS)
                        if sustained(session, spec, agent_id, row[1], ordered):
                            to_open.append((spec, agent, value))
        if to_open or to_resolve:
            return transactions.run(
                lambda: self._write(to_open, to_resolve, now),
                what="alert evaluation",
                idempotent=True,
            )
        return outcome

    def _write(
        self,
        to_open: list[tuple[RuleSpec, Any, float]],
        to_resolve: list[tuple[int, float]],
        now: datetime,
    ) -> Outcome:
        """Open and resolve what ``evaluate`` decided; idempotent, so it may run again."""
        outcome = Outcome()
        with self._sf() as session:
            for alert_id, value in to_resolve:
                alert = session.get(Alert, alert_id)
                if alert is not None and alert.open_key is not None:
                    lifecycle.resolve_alerts(session, [alert], now, value)
                    outcome.resolved.append(alert.id)
            for spec, agent, value in to_open:
                opened = lifecycle.open_alert(session, spec, agent, value, now)
                if opened is not None:
                    outcome.opened.append(opened.id)
            session.commit()
        return outcome


def sustained(
    session: Session,
    spec: RuleSpec,
    agent_id: int,
    ts: int,
    recent: Sequence[tuple] | None = None,
) -> bool:
    """Whether the breach at ``ts`` has lasted ``for_s`` seconds, or ``samples`` samples.

    ``recent`` (rows stored with the one at ``ts``, in time order) answers "no" without the
    database when they hold a sample that does not breach inside the window; the database
    decides the rest.
    """
    if recent and interrupted(spec, recent, ts):
        return False
    column = getattr(Telemetry, spec.metric or "")
    assert spec.threshold is not None
    mine = (Telemetry.agent_id == agent_id) & (Telemetry.ts <= ts) & column.is_not(None)
    if spec.for_s <= 0:
        if spec.samples <= 1:
            return True
        values = session.scalars(
            select(column).where(mine).order_by(Telemetry.ts.desc()).limit(spec.samples)
        ).all()
        return len(values) == spec.samples and all(spec.breaches(v) for v in values)
    fine = column <= spec.threshold if spec.comparison == "above" else column >= spec.threshold
    last_fine = session.scalar(
        select(Telemetry.ts).where(mine, fine).order_by(Telemetry.ts.desc()).limit(1)
    )
    since = mine if last_fine is None else mine & (Telemetry.ts > last_fine)
    first_bad = session.scalar(select(Telemetry.ts).where(since).order_by(Telemetry.ts).limit(1))
    return first_bad is not None and ts - first_bad >= spec.for_s


def interrupted(spec: RuleSpec, rows: Sequence[tuple], ts: int) -> bool:
    """Whether ``rows`` (in time order) show a sample that does not breach within the
    rule's window ending at ``ts``: the last ``for_s`` seconds, else the last ``samples``
    of these rows (exact unless other requests stored samples in between; then the window
    is the database's to judge, with the agent's next samples)."""
    index = METRIC_INDEX[spec.metric or ""]
    since = ts - spec.for_s if spec.for_s > 0 else None
    wanted = spec.samples if since is None else len(rows)
    if since is None and wanted <= 1:
        return False
    seen = 0
    for row in reversed(rows):
        if row[1] > ts or row[index] is None:
            continue
        if (since is not None and row[1] < since) or seen == wanted:
            return False
        if not spec.breaches(row[index]):
            return True
        seen += 1
    return False


def absence_pass(
    session_factory: sessionmaker[Session],
    policy: StatusPolicy,
    now: datetime | None = None,
    *,
    hold: timedelta = lifecycle.NO_HOLD,
) -> Outcome:
    """Open an alert for each agent silent past its offline (or overdue) rule, resolve those
    heard from again (or no longer under such a rule). One transaction: a branch that went down
    together opens together, and its notifications are grouped (``hold`` delays them so
    the agents that follow in the next passes join the same message)."""
    now = now or utcnow()
    outcome = Outcome()
    with session_factory() as session:
        book = load_rules(session)
        open_alerts = _open_absence_alerts(session)
        due: dict[tuple[int, int], tuple[RuleSpec, Any]] = {}
        limits = {"offline": policy.online_window_s, "overdue": policy.overdue_after_s}
        if book.has_condition(*ABSENCE):
            cutoff = now - timedelta(seconds=policy.online_window_s)
            silent = session.execute(
                select(*PLACE, Agent.last_seen).where(
                    Agent.revoked_at.is_(None), Agent.last_seen < cutoff
                )
            ).all()
            for agent in silent:
                assert agent.last_seen is not None
                silence = (now - agent.last_seen).total_seconds()
                for spec in book.effective(
                    agent.tenant_id, agent.company_id, agent.branch_id, agent.id
                ):
                    limit = limits.get(spec.condition)
                    if limit is not None and silence > limit + spec.for_s:
                        due[(spec.root_id, agent.id)] = (spec, agent)
        back = [i for key, i in open_alerts.items() if key not in due]
        outcome.resolved.extend(lifecycle.resolve_by_id(session, back, now, hold))
        fresh = [pair for key, pair in due.items() if key not in open_alerts]
        outcome.opened.extend(a.id for a in lifecycle.open_alerts(session, fresh, now, hold))
        session.commit()
    return outcome


PLACE = (Agent.id, Agent.tenant_id, Agent.company_id, Agent.branch_id)


def _agents(session: Session, ids: Sequence[int]) -> dict[int, Any]:
    """Each agent's id and ancestry (rows of ``PLACE``, no ORM objects)."""
    found: dict[int, Any] = {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = ids[start : start + IDS_PER_QUERY]
        for row in session.execute(select(*PLACE).where(Agent.id.in_(chunk))):
            found[row.id] = row
    return found


def _open_threshold_alerts(session: Session, agent_ids: Sequence[int]) -> dict[tuple, int]:
    """``(rule_id, agent_id) -> alert id`` of the open threshold alerts of these agents."""
    query = select(Alert.rule_id, Alert.agent_id, Alert.id).where(
        Alert.open_key.is_not(None), Alert.condition == "threshold"
    )
    found: dict[tuple, int] = {}
    for start in range(0, len(agent_ids), IDS_PER_QUERY):
        chunk = agent_ids[start : start + IDS_PER_QUERY]
        for rule_id, agent_id, alert_id in session.execute(query.where(Alert.agent_id.in_(chunk))):
            found[(rule_id, agent_id)] = alert_id
    return found


def _open_absence_alerts(session: Session) -> dict[tuple[int, int], int]:
    """``(rule_id, agent_id) -> alert id`` of every open offline or overdue alert (plain
    rows: a fleet of workstations switched off at night keeps thousands open)."""
    query = select(Alert.rule_id, Alert.agent_id, Alert.id).where(
        Alert.open_key.is_not(None), Alert.condition.in_(ABSENCE)
    )
    return {(rule_id, agent_id): alert_id for rule_id, agent_id, alert_id in session.execute(query)}
