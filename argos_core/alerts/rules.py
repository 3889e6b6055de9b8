"""Rules as plain values, and which of them apply to an agent.

A rule on a node applies to every agent under it. An override (a rule with ``overrides_id``)
on a node further down replaces it for that subtree; the deepest override on the agent's
path wins, and a disabled one switches the rule off there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from argos_core.sample_fields import SAMPLE_METRICS

Condition = Literal["threshold", "offline", "overdue"]
ABSENCE: tuple[Condition, ...] = ("offline", "overdue")
Severity = Literal["warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"warning": 0, "critical": 1}
METRICS = SAMPLE_METRICS


@dataclass(frozen=True)
class RuleSpec:
    """What a rule (or override) says, with the node it sits on."""

    id: int
    overrides_id: int | None
    tenant_id: int
    company_id: int | None
    branch_id: int | None
    agent_id: int | None
    condition: Condition
    metric: str | None
    comparison: Literal["above", "below"] | None
    threshold: float | None
    recover_at: float | None
    for_s: int
    samples: int
    severity: Severity
    enabled: bool

    @property
    def root_id(self) -> int:
        """The rule an alert is filed under (an override files under the rule it changes)."""
        return self.overrides_id or self.id

    @property
    def depth(self) -> int:
        if self.agent_id is not None:
            return 3
        if self.branch_id is not None:
            return 2
        return 1 if self.company_id is not None else 0

    def covers(self, tenant_id: int, company_id: int, branch_id: int, agent_id: int) -> bool:
        """Whether the rule's node is the agent or one of its ancestors."""
        return (
            self.tenant_id == tenant_id
            and self.company_id in (None, company_id)
            and self.branch_id in (None, branch_id)
            and self.agent_id in (None, agent_id)
        )

    def breaches(self, value: float) -> bool:
        assert self.threshold is not None
        return value > self.threshold if self.comparison == "above" else value < self.threshold

    def recovered(self, value: float) -> bool:
        """Past the recovery threshold (the threshold itself when none is set): hysteresis."""
        limit = self.threshold if self.recover_at is None else self.recover_at
        assert limit is not None
        return value <= limit if self.comparison == "above" else value >= limit


class RuleBook:
    """Every rule of the platform, indexed by tenant, answering "which rules apply here"."""

    def __init__(self, specs: Iterable[RuleSpec]) -> None:
        self._memo: dict[tuple[int, int, int, int], list[RuleSpec]] = {}
        self._by_tenant: dict[int, list[RuleSpec]] = {}
        for spec in specs:
            self._by_tenant.setdefault(spec.tenant_id, []).append(spec)

    def effective(
        self, tenant_id: int, company_id: int, branch_id: int, agent_id: int
    ) -> list[RuleSpec]:
        """The rules in force for one agent, each as its deepest override says (remembered:
        a book lives a few seconds and is asked about the same agents over and over)."""
        key = (tenant_id, company_id, branch_id, agent_id)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._resolve(tenant_id, company_id, branch_id, agent_id)
        return found

    def _resolve(
        self, tenant_id: int, company_id: int, branch_id: int, agent_id: int
    ) -> list[RuleSpec]:
        chosen: dict[int, RuleSpec] = {}
        for spec in self._by_tenant.get(tenant_id, ()):
            if not spec.covers(tenant_id, company_id, branch_id, agent_id):
                continue
            current = chosen.get(spec.root_id)
            if current is None or (spec.overrides_id is not None and spec.depth > current.depth):
                chosen[spec.root_id] = spec
        return sorted((s for s in chosen.values() if s.enabled), key=lambda s: s.root_id)

    def has_condition(self, *conditions: Condition) -> bool:
        return any(s.condition in conditions for specs in self._by_tenant.values() for s in specs)
