"""A real Argos server on 127.0.0.1 per module and backend, and two tenants of people, nodes,
agents and keys to try the console API with."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest

from argos_core.bootstrap import Services
from ingest_server.context import IngestConfig
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.console_client import ConsoleClient, OpenApiChecker
from tests.e2e.support import ROOT, ServerThread, post_json
from tests.factories import add_samples

PASSWORD = "Correct-horse-9"
# Rights are derived again after this long; short so tests see changes quickly (the
# default, 5 s, is checked on its own).
PRINCIPAL_TTL_S = 0.5


@dataclass(frozen=True)
class Tenant:
    """One tenant's ids: nodes, an agent, a key and its people (usernames)."""

    tenant: str
    company: str
    branch: str
    agent: str
    agent_token: str
    key_id: int
    admin: str
    viewer: str


@pytest.fixture(scope="module")
def console_server(ingest_db: str) -> Iterator[ServerThread]:
    config = replace(
        TEST_CONFIG,
        principal_ttl_s=PRINCIPAL_TTL_S,
        shared_answer_ttl_s=IngestConfig.shared_answer_ttl_s,  # as served by default
    )
    server = ServerThread(ingest_db, config)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def openapi(console_server: ServerThread) -> OpenApiChecker:
    document = httpx.get(f"{console_server.url}/api/v1/openapi.json").json()
    return OpenApiChecker(document)


@pytest.fixture(scope="module")
def tenants(console_server: ServerThread, ingest_services: Services) -> tuple[Tenant, Tenant]:
    return make_tenant(console_server, ingest_services), make_tenant(
        console_server, ingest_services
    )


@pytest.fixture(scope="module")
def superadmin_name(ingest_services: Services) -> str:
    name = f"root-{uuid.uuid4().hex[:6]}"
    ingest_services.users.create_superadmin(name, PASSWORD)
    return name


@pytest.fixture
def client(console_server: ServerThread, openapi: OpenApiChecker) -> Iterator[ConsoleClient]:
    client = ConsoleClient(console_server.url, openapi)
    yield client
    client.close()


@pytest.fixture
def make_client(console_server: ServerThread, openapi: OpenApiChecker):
    clients: list[ConsoleClient] = []

    def make(username: str | None = None, password: str = PASSWORD) -> ConsoleClient:
        client = ConsoleClient(console_server.url, openapi)
        clients.append(client)
        if username is not None:
            response = client.login(username, password)
            assert response.status_code == 200, response.text
        return client

    yield make
    for c in clients:
        c.close()


def make_tenant(server: ServerThread, services: Services) -> Tenant:
    tag = uuid.uuid4().hex[:6]
    tenant = services.orgs.create_tenant(ROOT, f"Tenant {tag}")
    company = services.orgs.create_company(ROOT, tenant.org_id, f"Company {tag}")
    branch = services.orgs.create_branch(ROOT, company.org_id, f"Branch {tag}")
    key = services.enrollment.issue_key(ROOT, branch.org_id)
    reply = post_json(
        server.url,
        "/api/v1/enroll",
        {
            "branch_org_id": branch.org_id,
            "enrollment_key": key.key,
            "hostname": f"host-{tag}",
            "machine_id": f"m-{tag}",
        },
    )
    assert reply.status == 201, reply.body
    agent = reply.json["agent_id"]
    add_samples(services.session_factory, agent, [{"ts": 1_764_000_000, "cpu_percent": 5.0}])
    people = {}
    for role in ("admin", "viewer"):
        people[role] = f"{role}-{tag}"
        services.users.create_user(
            ROOT, username=people[role], password=PASSWORD, role=role, scope_org_id=tenant.org_id
        )
    return Tenant(
        tenant.org_id,
        company.org_id,
        branch.org_id,
        agent,
        reply.json["token"],
        key.key_id,
        people["admin"],
        people["viewer"],
    )
