"""Scope over HTTP: a client admin of tenant A gets the same 404 for every id of tenant B as for
an id that does not exist; a viewer's writes get 403; tree, search and alert answers carry ETags."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.console_api.conftest import PASSWORD, Tenant
from tests.e2e.support import ROOT as ROOT_PRINCIPAL

UNKNOWN = Tenant(
    tenant="ZZZZZZ",
    company="ZZZZZY",
    branch="ZZZZZX",
    agent=str(uuid.UUID(int=0)),
    agent_token="",
    key_id=999_999,
    admin="nobody-here",
    viewer="nobody-there",
)


def every_call(t: Tenant) -> list[tuple[str, str, dict | None]]:
    """Every console endpoint that takes an id, aimed at tenant ``t``'s ids."""
    name = {"name": f"N {uuid.uuid4().hex[:6]}"}
    new_user = {
        "username": f"u-{uuid.uuid4().hex[:6]}",
        "password": PASSWORD,
        "scope_org_id": t.branch,
    }
    return [
        ("GET", f"/api/v1/orgs/{t.tenant}", None),
        ("GET", f"/api/v1/orgs/{t.company}", None),
        ("GET", f"/api/v1/orgs/{t.branch}", None),
        ("GET", f"/api/v1/orgs/{t.tenant}/children", None),
        ("GET", f"/api/v1/orgs/{t.company}/children", None),
        ("GET", f"/api/v1/orgs/{t.tenant}/agents", None),
        ("GET", f"/api/v1/orgs/{t.branch}/agents", None),
        ("GET", f"/api/v1/agents/{t.agent}", None),
        ("GET", f"/api/v1/agents/{t.agent}/telemetry?since=1764000000&until=1764003600", None),
        ("GET", f"/api/v1/orgs/{t.company}/telemetry?since=1764000000&until=1764003600", None),
        (
            "GET",
            f"/api/v1/orgs/{t.tenant}/top-agents?since=1764000000&until=1764003600"
            "&metric=cpu_percent",
            None,
        ),
        ("GET", f"/api/v1/orgs/{t.branch}/enrollment-keys", None),
        ("PATCH", f"/api/v1/orgs/{t.company}", name),
        ("POST", f"/api/v1/orgs/{t.tenant}/companies", name),
        ("POST", f"/api/v1/orgs/{t.company}/branches", name),
        ("DELETE", f"/api/v1/orgs/{t.branch}?force=true", None),
        ("POST", f"/api/v1/agents/{t.agent}/move", {"branch_org_id": t.branch}),
        ("POST", f"/api/v1/agents/{t.agent}/revoke", None),
        ("DELETE", f"/api/v1/agents/{t.agent}", None),
        ("POST", f"/api/v1/orgs/{t.branch}/enrollment-keys", {"note": "x"}),
        ("POST", f"/api/v1/enrollment-keys/{t.key_id}/revoke", None),
        ("PATCH", f"/api/v1/users/{t.viewer}", {"is_active": False}),
        ("POST", f"/api/v1/users/{t.viewer}/password", {"new_password": "Brand-new-pass-2"}),
        ("DELETE", f"/api/v1/users/{t.viewer}", None),
        ("POST", "/api/v1/users", new_user),
    ]


def test_other_tenants_ids_answer_exactly_like_unknown_ids(make_client, tenants, ingest_services):
    a, b = tenants
    admin = make_client(a.admin)
    for (method, path, body), (_, unknown_path, unknown_body) in zip(
        every_call(b), every_call(UNKNOWN), strict=True
    ):
        foreign = admin.call(method, path, json=body)
        unknown = admin.call(method, unknown_path, json=unknown_body)
        assert foreign.status_code == unknown.status_code == 404, (method, path, foreign.text)
        assert foreign.json()["error"] == unknown.json()["error"] == "not_found"
        assert b.tenant not in foreign.text or b.tenant in path
    # nothing of tenant B changed or leaked into A's lists
    assert ingest_services.agents.get_agent(ROOT_PRINCIPAL, b.agent).summary.revoked_at is None
    assert b.tenant not in admin.get("/api/v1/search", params={"q": "Tenant"}).text
    assert b.tenant not in admin.get("/api/v1/org-choices").text
    assert b.viewer not in admin.get("/api/v1/users").text
    assert b.agent not in admin.get("/api/v1/audit").text


def test_a_viewer_cannot_write_anything(make_client, tenants):
    a, _ = tenants
    viewer = make_client(a.viewer)
    for method, path, body in [call for call in every_call(a) if call[0] != "GET"]:
        answer = viewer.call(method, path, json=body)
        assert (answer.status_code, answer.json()["error"]) == (403, "forbidden"), (method, path)
    for method, path, body in [
        ("POST", "/api/v1/tenants", {"name": "Mine"}),
        ("POST", "/api/v1/superadmins", {"username": "sneaky", "password": PASSWORD}),
        ("PATCH", f"/api/v1/superadmins/{a.admin}", {"active": False}),
        ("GET", "/api/v1/superadmins", None),
    ]:
        answer = viewer.call(method, path, json=body)
        assert answer.status_code == 403, (method, path, answer.text)
    assert viewer.get(f"/api/v1/agents/{a.agent}").json()["summary"]["revoked_at"] is None


def test_client_admins_cannot_do_superadmin_operations(make_client, tenants):
    a, _ = tenants
    admin = make_client(a.admin)
    assert admin.post("/api/v1/tenants", json={"name": "Another"}).status_code == 403
    assert admin.get("/api/v1/superadmins").status_code == 403
    assert admin.call("DELETE", f"/api/v1/orgs/{a.tenant}").status_code == 403


def test_superadmin_sees_and_manages_everything(make_client, tenants, superadmin_name):
    a, b = tenants
    root = make_client(superadmin_name)
    roots = root.get("/api/v1/orgs", params={"limit": 500}).json()
    assert {a.tenant, b.tenant} <= {n["org_id"] for n in roots["items"]}
    created = root.post("/api/v1/tenants", json={"name": f"T {uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201
    again = root.post("/api/v1/tenants", json={"name": created.json()["name"]})
    assert (again.status_code, again.json()["error"]) == (409, "duplicate")
    assert root.call("DELETE", f"/api/v1/orgs/{created.json()['org_id']}").status_code == 204
    assert root.get("/api/v1/superadmins").status_code == 200


def test_tree_search_and_alert_answers_are_conditional(make_client, tenants):
    a, _ = tenants
    admin = make_client(a.admin)
    for path in (
        "/api/v1/orgs",
        f"/api/v1/orgs/{a.tenant}",
        f"/api/v1/orgs/{a.tenant}/children",
        f"/api/v1/orgs/{a.branch}/agents",
        "/api/v1/search?q=host",
        "/api/v1/alerts?active=true&limit=1000",
        "/api/v1/maintenance-windows",
    ):
        first = admin.get(path)
        etag = first.headers["etag"]
        same = admin.get(path, headers={"If-None-Match": etag})
        assert (same.status_code, same.content) == (304, b""), path
    before = admin.get(f"/api/v1/orgs/{a.tenant}/children")
    renamed = admin.call(
        "PATCH", f"/api/v1/orgs/{a.company}", json={"name": f"Co {uuid.uuid4().hex[:4]}"}
    )
    assert renamed.status_code == 200
    after = admin.get(
        f"/api/v1/orgs/{a.tenant}/children", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/orgs?limit=0", "limit"),
        ("/api/v1/orgs?offset=-1", "offset"),
        ("/api/v1/orgs?limit=abc", "limit"),
        ("/api/v1/search?status=sleepy", "status"),
        ("/api/v1/audit?since=yesterday", "since"),
        ("/api/v1/audit?descending=maybe", "descending"),
        ("/api/v1/search?q=%ED%A0%80", "q"),
        ("/api/v1/orgs/%ED%A0%80/children", "org_id"),
        ("/api/v1/agents/%FF", "agent_uuid"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(make_client, tenants, path, field):
    a, _ = tenants
    answer = make_client(a.admin).get(path)
    assert answer.status_code == 400
    assert answer.json()["details"][0]["field"] == field


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"name": 5}', 400),
        (b"{}", 400),
        (b'{"name": "\\ud800"}', 400),
        (b'{"name": "' + b"x" * 70_000 + b'"}', 413),
    ],
)
def test_bad_bodies_are_clear_errors(make_client, tenants, body, status):
    a, _ = tenants
    admin = make_client(a.admin)
    answer = admin.call(
        "POST",
        f"/api/v1/orgs/{a.company}/branches",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == status, answer.text
    not_json = admin.call("POST", f"/api/v1/orgs/{a.company}/branches", content=b"name=x")
    assert not_json.status_code == 415


@pytest.mark.parametrize("key_id", ["abc", "99999999999999999999999", "-5", "1.5"])
def test_malformed_key_ids_are_unknown_keys(make_client, tenants, key_id):
    a, _ = tenants
    answer = make_client(a.admin).post(f"/api/v1/enrollment-keys/{key_id}/revoke")
    assert (answer.status_code, answer.json()["error"]) == (404, "not_found")
