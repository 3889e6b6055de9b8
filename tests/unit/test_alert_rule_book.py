"""Which rules apply to an agent: inheritance down the tree and the deepest override."""

from __future__ import annotations

from dataclasses import replace

from argos_core.alerts.rules import RuleBook, RuleSpec

BASE = RuleSpec(
    id=1,
    overrides_id=None,
    tenant_id=1,
    company_id=None,
    branch_id=None,
    agent_id=None,
    condition="threshold",
    metric="cpu_percent",
    comparison="above",
    threshold=90.0,
    recover_at=None,
    for_s=0,
    samples=1,
    severity="warning",
    enabled=True,
)


def test_a_tenant_rule_applies_to_every_agent_of_the_tenant_only():
    book = RuleBook([BASE])
    assert book.effective(1, 10, 100, 1000) == [BASE]
    assert book.effective(2, 20, 200, 2000) == []


def test_the_deepest_override_wins_and_a_disabled_one_switches_the_rule_off():
    company = replace(BASE, id=2, overrides_id=1, company_id=10, threshold=95.0)
    branch = replace(BASE, id=3, overrides_id=1, company_id=10, branch_id=100, threshold=99.0)
    off = replace(BASE, id=4, overrides_id=1, company_id=10, branch_id=101, enabled=False)
    book = RuleBook([branch, off, BASE, company])
    assert book.effective(1, 10, 100, 1000) == [branch]
    assert book.effective(1, 10, 102, 1001) == [company]
    assert book.effective(1, 10, 101, 1002) == []
    assert book.effective(1, 11, 110, 1003) == [BASE]


def test_hysteresis_uses_the_recovery_threshold_or_the_threshold():
    assert BASE.breaches(90.5) and not BASE.breaches(90.0)
    assert BASE.recovered(90.0) and not BASE.recovered(90.5)
    low = replace(BASE, comparison="below", threshold=10.0, recover_at=20.0)
    assert low.breaches(5) and not low.recovered(15) and low.recovered(20)
