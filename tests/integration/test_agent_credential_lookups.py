"""The agent authenticator reads credentials one query at a time: agents missing from its
cache while a query runs are read together by the next one, not each by a query of its own."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy import event

from argos_core.bootstrap import bootstrap
from argos_core.scope import Principal
from argos_core.services.agent_inventory import AgentInventory
from argos_core.tokens import TokenSigner
from ingest_server.auth import AgentAuthenticator

ROOT = Principal("root", "superadmin", source="tests")


class GatedExecutor(ThreadPoolExecutor):
    """Runs work only once ``gate`` is open; ``submitted`` is set by the first submission."""

    def __init__(self) -> None:
        super().__init__(4)
        self.gate = threading.Event()
        self.submitted = asyncio.Event()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        self.submitted.set()
        return super().submit(self._after_gate, fn, *args, **kwargs)

    def _after_gate(self, fn, *args, **kwargs):
        self.gate.wait()
        return fn(*args, **kwargs)


@pytest.fixture
def fleet(fresh_database_url):
    services = bootstrap(fresh_database_url)
    tenant = services.orgs.create_tenant(ROOT, "Acme")
    company = services.orgs.create_company(ROOT, tenant.org_id, "HQ")
    branch = services.orgs.create_branch(ROOT, company.org_id, "Berlin")
    key = services.enrollment.issue_key(ROOT, branch.org_id).key
    signer = TokenSigner("s" * 40)
    tokens = []
    for n in range(4):
        inventory = AgentInventory.parse({"hostname": f"web-{n}", "machine_id": f"machine-{n}"})
        enrolled = services.enrollment.enroll(branch.org_id, key, inventory)
        tokens.append(f"Bearer {signer.issue(enrolled.agent_uuid)}")
    yield services.engine, signer, tokens
    services.close()


def test_agents_missed_while_a_lookup_runs_are_read_together_by_the_next(fleet) -> None:
    engine, signer, tokens = fleet
    queries: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        if "FROM agents" in statement:
            queries.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    executor = GatedExecutor()
    auth = AgentAuthenticator(signer, engine, executor)

    async def burst():
        first = asyncio.ensure_future(auth.authenticate(tokens[0]))
        await executor.submitted.wait()  # the first lookup is under way (held at the gate)
        others = []
        for token in tokens[1:]:  # one after the other, while the first lookup runs
            others.append(asyncio.ensure_future(auth.authenticate(token)))
            for _ in range(2):  # it finds its agent missing (and a lookup could start)
                await asyncio.sleep(0)
        executor.gate.set()
        return await asyncio.gather(first, *others)

    try:
        identities = asyncio.run(burst())
    finally:
        executor.shutdown()
        event.remove(engine, "before_cursor_execute", count)
    assert len({identity.agent_id for identity in identities}) == 4
    assert len(queries) == 2
