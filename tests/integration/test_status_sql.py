"""The status rule in SQL (CASE and per-status ranges) agrees with the Python rule."""

from datetime import timedelta

from sqlalchemy import select

from argos_core.models import Agent, utcnow
from argos_core.settings import StatusPolicy
from argos_core.status import (
    ONLINE_CUTOFF,
    OVERDUE_CUTOFF,
    AgentStatus,
    agent_status,
    status_cutoffs,
    status_expression,
    status_ranges,
)
from tests.factories import add_agent

POLICY = StatusPolicy(report_interval_s=30, overdue_after_s=1800, grace_s=15)
# Ages on and around every threshold (online window 75 s, overdue after 1800 s).
AGES_S = [0, 1, 74, 75, 76, 900, 1799, 1800, 1801, 86_400]


def test_sql_status_matches_the_python_rule_at_every_threshold(
    services, superadmin, session_factory
):
    tenant = services.orgs.create_tenant(superadmin, "Edge")
    company = services.orgs.create_company(superadmin, tenant.org_id, "Edge Co")
    branch = services.orgs.create_branch(superadmin, company.org_id, "Edge Branch")
    now = utcnow().replace(microsecond=0)
    for age in AGES_S:
        add_agent(
            session_factory, branch.org_id, f"age-{age}", last_seen=now - timedelta(seconds=age)
        )
    add_agent(session_factory, branch.org_id, "never")
    add_agent(session_factory, branch.org_id, "revoked", revoked=True, last_seen=now)

    with session_factory() as session:
        agents = session.scalars(select(Agent).where(Agent.branch_id.is_not(None))).all()
        expected = {
            a.hostname: agent_status(a.last_seen, a.revoked_at, now, POLICY) for a in agents
        }
        by_case = dict(
            session.execute(select(Agent.hostname, status_expression(now, POLICY))).all()
        )
        by_range: dict[str, list[AgentStatus]] = {}
        # As the tree's counts run them: cutoffs as parameters, their values at execution.
        cutoffs = status_cutoffs(now, POLICY)
        for state, condition in status_ranges(ONLINE_CUTOFF, OVERDUE_CUTOFF).items():
            found = session.scalars(select(Agent.hostname).where(condition), cutoffs)
            for hostname in found:
                by_range.setdefault(hostname, []).append(state)

    assert set(expected.values()) == set(AgentStatus)
    assert by_case == expected
    # Every agent falls in exactly one range, the one its status names.
    assert by_range == {hostname: [state] for hostname, state in expected.items()}
