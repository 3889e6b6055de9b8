"""Shared answers over HTTP: callers of one role and scope share an ETag'd read for a moment
(a change made beneath the server is not seen meanwhile: proof that the database was not read),
never across scopes or roles; a write through the console API drops them at once.

The server here shares answers for a minute so that what is shared cannot expire mid-test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from argos_core.bootstrap import Services
from tests.e2e.conftest import TEST_CONFIG
from tests.e2e.console_api.conftest import PASSWORD, PRINCIPAL_TTL_S, Tenant, make_tenant
from tests.e2e.console_client import ConsoleClient, OpenApiChecker
from tests.e2e.support import ROOT, ServerThread

SHARED_FOR_S = 60.0


@pytest.fixture(scope="module")
def sharing_server(ingest_db: str) -> Iterator[ServerThread]:
    config = replace(TEST_CONFIG, principal_ttl_s=PRINCIPAL_TTL_S, shared_answer_ttl_s=SHARED_FOR_S)
    server = ServerThread(ingest_db, config)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_tenants(sharing_server: ServerThread, ingest_services: Services) -> tuple[Tenant, Tenant]:
    return make_tenant(sharing_server, ingest_services), make_tenant(
        sharing_server, ingest_services
    )


@pytest.fixture
def sign_in(sharing_server: ServerThread, openapi: OpenApiChecker):
    clients: list[ConsoleClient] = []

    def make(username: str) -> ConsoleClient:
        client = ConsoleClient(sharing_server.url, openapi)
        clients.append(client)
        assert client.login(username, PASSWORD).status_code == 200
        return client

    yield make
    for c in clients:
        c.close()


def another(services: Services, role: str, scope_org_id: str) -> str:
    """A second account of ``role`` on ``scope_org_id``."""
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    services.users.create_user(
        ROOT, username=name, password=PASSWORD, role=role, scope_org_id=scope_org_id
    )
    return name


def company_name(answer: dict, org_id: str) -> str:
    return next(node["name"] for node in answer["items"] if node["org_id"] == org_id)


def test_one_scope_shares_a_read_until_a_write_through_the_api(
    two_tenants: tuple[Tenant, Tenant], ingest_services: Services, sign_in
) -> None:
    a, _ = two_tenants
    first = sign_in(a.admin)
    second = sign_in(another(ingest_services, "admin", a.tenant))
    path = f"/api/v1/orgs/{a.tenant}/children"
    before = first.get(path)
    assert before.status_code == 200
    name = company_name(before.json(), a.company)

    ingest_services.orgs.rename(ROOT, a.company, f"Beneath {uuid.uuid4().hex[:4]}")
    shared = second.get(path)
    assert shared.status_code == 200
    assert company_name(shared.json(), a.company) == name
    assert shared.headers["etag"] == before.headers["etag"]
    unchanged = second.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert (unchanged.status_code, unchanged.content) == (304, b"")

    new_name = f"Through the API {uuid.uuid4().hex[:4]}"
    renamed = first.call("PATCH", f"/api/v1/orgs/{a.company}", json={"name": new_name})
    assert renamed.status_code == 200
    after = second.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert company_name(after.json(), a.company) == new_name


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/orgs",
        "/api/v1/orgs/{tenant}/children",
        "/api/v1/orgs/{company}",
        "/api/v1/orgs/{branch}/agents",
        "/api/v1/search?q=host",
    ],
)
def test_no_answer_crosses_scopes(
    path: str, two_tenants: tuple[Tenant, Tenant], sign_in, ingest_services: Services
) -> None:
    """Admins of two tenants ask the same path: each gets their own tenant's answer; one
    tenant's ids in another tenant's admin's request stay a 404 after its own admin read them."""
    a, b = two_tenants
    admin_a, admin_b = sign_in(a.admin), sign_in(b.admin)
    own = path.format(tenant=a.tenant, company=a.company, branch=a.branch)
    seen_by_a = admin_a.get(own)
    assert seen_by_a.status_code == 200
    if "{" in path:
        assert admin_b.get(own).status_code == 404
        assert (
            admin_b.get(own, headers={"If-None-Match": seen_by_a.headers["etag"]}).status_code
            == 404
        )
        return
    seen_by_b = admin_b.get(own)
    assert seen_by_b.status_code == 200
    assert seen_by_b.content != seen_by_a.content
    assert a.tenant in seen_by_a.text and b.tenant not in seen_by_a.text
    assert b.tenant in seen_by_b.text and a.tenant not in seen_by_b.text


def test_a_narrower_scope_of_the_same_tenant_gets_its_own_answer(
    two_tenants: tuple[Tenant, Tenant], ingest_services: Services, sign_in
) -> None:
    a, _ = two_tenants
    tenant_admin = sign_in(a.admin)
    company_admin = sign_in(another(ingest_services, "admin", a.company))
    roots_of_tenant = tenant_admin.get("/api/v1/orgs").json()
    roots_of_company = company_admin.get("/api/v1/orgs").json()
    assert [n["org_id"] for n in roots_of_tenant["items"]] == [a.tenant]
    assert [n["org_id"] for n in roots_of_company["items"]] == [a.company]


def test_a_viewer_and_an_admin_of_one_scope_do_not_share(
    two_tenants: tuple[Tenant, Tenant], ingest_services: Services, sign_in
) -> None:
    """The key holds the role too: the admin's read is not served to the viewer (a change
    beneath the server shows in the viewer's read, not in the admin's shared one)."""
    a, _ = two_tenants
    admin, viewer = sign_in(a.admin), sign_in(a.viewer)
    path = f"/api/v1/orgs/{a.tenant}/children"
    before = admin.get(path).json()
    new_name = f"Beneath {uuid.uuid4().hex[:4]}"
    ingest_services.orgs.rename(ROOT, a.company, new_name)
    assert company_name(viewer.get(path).json(), a.company) == new_name
    assert company_name(admin.get(path).json(), a.company) == company_name(before, a.company)


def test_a_shared_answer_still_needs_a_live_session(
    two_tenants: tuple[Tenant, Tenant], ingest_services: Services, sign_in
) -> None:
    a, _ = two_tenants
    reader = sign_in(a.admin)
    leaving = sign_in(a.admin)
    path = f"/api/v1/orgs/{a.tenant}/children"
    assert reader.get(path).status_code == 200
    assert leaving.post("/api/v1/auth/logout").status_code == 204
    assert leaving.get(path).status_code == 401
    assert leaving.get(path, headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_the_alert_refresh_is_shared_within_a_scope_and_never_across(
    two_tenants: tuple[Tenant, Tenant], ingest_services: Services, sign_in
) -> None:
    """Maintenance windows (like the open alerts) are a scope's shared answer: a window made
    beneath the server after one admin of tenant A read is not in the second admin's answer,
    while tenant B's admin reads B's own windows."""
    a, b = two_tenants
    first, second = sign_in(a.admin), sign_in(another(ingest_services, "admin", a.tenant))
    admin_b = sign_in(b.admin)
    path = "/api/v1/maintenance-windows"
    before = first.get(path)
    assert before.status_code == 200

    start = datetime.now(UTC) + timedelta(days=1)
    for tenant in (a.tenant, b.tenant):
        ingest_services.alerts.create_maintenance(ROOT, tenant, start, 3600, comment=tenant)
    shared = second.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert (shared.status_code, shared.content) == (304, b"")
    own = admin_b.get(path).json()
    assert [w["comment"] for w in own] == [b.tenant]
