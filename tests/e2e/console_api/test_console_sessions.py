"""Sessions over HTTP: login, refresh rotation, reuse detection, logout, the caller's sessions,
rights cut within 5 s, and agent and person tokens kept apart."""

from __future__ import annotations

import uuid

import httpx
import pytest

from argos_core.bootstrap import Services
from ingest_server.console_api.auth import PRINCIPAL_TTL_S, ConsoleAuthenticator
from ingest_server.context import IngestConfig
from tests.e2e.console_api.conftest import PASSWORD, Tenant
from tests.e2e.console_client import wait_until
from tests.e2e.support import ROOT, ServerThread, post_json, sample

CUT_WITHIN_S = 5.0


def test_login_answers_tokens_and_who_signed_in(make_client, tenants):
    a, _ = tenants
    client = make_client()
    response = client.login(a.admin, PASSWORD)
    assert response.status_code == 200
    signed = response.json()
    assert signed["expires_in"] <= 15 * 60
    assert signed["user"] == {
        "username": a.admin,
        "role": "admin",
        "scope_kind": "tenant",
        "scope_org_id": a.tenant,
        "scope_name": signed["user"]["scope_name"],
        "tenant_org_id": a.tenant,
    }
    assert client.get("/api/v1/me").json() == signed["user"]


def test_every_refused_login_is_the_same_401(make_client, tenants, ingest_services):
    a, _ = tenants
    locked = make_tenant_user(ingest_services, a, "locked")
    for _ in range(5):
        assert make_client().login(locked, "wrong-guess-1").status_code == 401
    answers = {
        (r.status_code, r.text)
        for r in (
            make_client().login(a.admin, "wrong-guess-1"),
            make_client().login("nobody-at-all", PASSWORD),
            make_client().login(locked, PASSWORD),
        )
    }
    assert len(answers) == 1
    status, text = answers.pop()
    assert status == 401 and "Wrong username or password." in text


def test_refresh_rotates_and_reusing_a_spent_token_ends_the_session(make_client, tenants):
    a, _ = tenants
    client = make_client(a.viewer)
    first_refresh = client.refresh_token
    assert client.refresh().status_code == 200
    assert client.refresh_token != first_refresh
    assert client.get("/api/v1/me").status_code == 200
    thief = make_client()
    reused = thief.refresh(first_refresh)
    assert (reused.status_code, reused.json()["error"]) == (401, "session_ended")
    assert client.refresh().status_code == 401
    wait_until(
        lambda: client.get("/api/v1/me").status_code == 401,
        CUT_WITHIN_S,
        "the session of a reused refresh token ends",
    )


def test_logout_ends_the_session_at_once(make_client, tenants):
    a, _ = tenants
    client = make_client(a.viewer)
    assert client.post("/api/v1/auth/logout").status_code == 204
    after = client.get("/api/v1/me")
    assert (after.status_code, after.json()["error"]) == (401, "session_ended")
    assert client.refresh().status_code == 401


def test_people_list_and_end_their_own_sessions(make_client, tenants):
    a, b = tenants
    here, there = make_client(a.viewer), make_client(a.viewer)
    other = make_client(b.viewer)
    sessions = here.get("/api/v1/me/sessions").json()
    assert len(sessions) >= 2
    assert [s["source"] for s in sessions if s["current"]] == ["127.0.0.1"]
    theirs = other.get("/api/v1/me/sessions").json()[0]["session_id"]
    assert here.call("DELETE", f"/api/v1/me/sessions/{theirs}").status_code == 404
    mine = next(s["session_id"] for s in sessions if not s["current"])
    assert here.call("DELETE", f"/api/v1/me/sessions/{mine}").status_code == 204
    assert here.get("/api/v1/me").status_code == 200
    wait_until(
        lambda: there.get("/api/v1/me").status_code == 401 or there.refresh().status_code == 401,
        CUT_WITHIN_S,
        "an ended session is refused",
    )


def test_changing_ones_password_over_the_api(make_client, tenants, ingest_services):
    a, _ = tenants
    name = make_tenant_user(ingest_services, a, "changer")
    client, elsewhere = make_client(name), make_client(name)
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "wrong-guess-1", "new_password": "Brand-new-pass-2"},
    )
    assert wrong.status_code == 400
    weak = client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "password12"}
    )
    assert weak.status_code == 400 and "common" in weak.json()["message"]
    done = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "Brand-new-pass-2"},
    )
    assert done.status_code == 204
    assert client.get("/api/v1/me").status_code == 200
    wait_until(
        lambda: elsewhere.get("/api/v1/me").status_code == 401,
        CUT_WITHIN_S,
        "other sessions end after a password change",
    )


def make_tenant_user(services: Services, tenant: Tenant, prefix: str, role: str = "admin") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    services.users.create_user(
        ROOT, username=name, password=PASSWORD, role=role, scope_org_id=tenant.branch
    )
    return name


@pytest.mark.parametrize(
    "change", ["deactivate", "role", "scope", "delete", "reset_password", "superadmin_off"]
)
def test_rights_are_cut_within_five_seconds(make_client, tenants, ingest_services, change):
    a, _ = tenants
    users = ingest_services.users
    if change == "superadmin_off":
        name = f"night-{uuid.uuid4().hex[:6]}"
        users.create_superadmin(name, PASSWORD)
    else:
        name = make_tenant_user(ingest_services, a, change)
    client = make_client(name)
    assert client.get("/api/v1/me").status_code == 200
    if change == "deactivate":
        users.update_user(ROOT, name, is_active=False)
    elif change == "role":
        users.update_user(ROOT, name, role="viewer")
        wait_until(
            lambda: (
                client.post(
                    f"/api/v1/orgs/{a.company}/branches", json={"name": f"B {name}"}
                ).status_code
                == 403
            ),
            CUT_WITHIN_S,
            "a demoted admin can no longer write",
        )
        return
    elif change == "scope":
        users.update_user(ROOT, name, scope_org_id=a.company)
        wait_until(
            lambda: client.get("/api/v1/me").json()["scope_org_id"] == a.company,
            CUT_WITHIN_S,
            "a moved user's scope follows",
        )
        users.update_user(ROOT, name, scope_org_id=a.branch)
        wait_until(
            lambda: client.get(f"/api/v1/orgs/{a.company}").status_code == 404,
            CUT_WITHIN_S,
            "a user moved down loses the nodes above the new scope",
        )
        return
    elif change == "delete":
        users.delete_user(ROOT, name)
    elif change == "superadmin_off":
        users.set_superadmin_active(ROOT, name, False)
    else:
        users.reset_password(ROOT, name, "Brand-new-pass-2")
    wait_until(
        lambda: client.get("/api/v1/me").status_code == 401,
        CUT_WITHIN_S,
        f"{change} cuts the session",
    )
    assert client.refresh().status_code == 401


def test_rights_are_cached_for_at_most_five_seconds_by_default():
    assert IngestConfig().principal_ttl_s <= PRINCIPAL_TTL_S == 5.0
    with pytest.raises(ValueError):
        ConsoleAuthenticator(None, None, None, ttl_s=6)  # type: ignore[arg-type]


def test_agent_tokens_are_refused_on_the_console_api(make_client, tenants):
    a, _ = tenants
    client = make_client()
    answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {a.agent_token}"})
    assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")


def test_person_tokens_are_refused_on_the_agent_api(
    make_client, tenants, console_server: ServerThread
):
    a, _ = tenants
    client = make_client(a.admin)
    reply = post_json(
        console_server.url,
        "/api/v1/telemetry",
        {"samples": [sample(1_764_000_060)]},
        token=client.access_token,
    )
    assert reply.status == 401
    ok = post_json(
        console_server.url,
        "/api/v1/telemetry",
        {"samples": [sample(1_764_000_060)]},
        token=a.agent_token,
    )
    assert ok.status == 200


def test_missing_or_forged_tokens_are_401(client, console_server):
    assert client.get("/api/v1/me").status_code == 401
    forged = client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.token"})
    assert (forged.status_code, forged.json()["error"]) == (401, "unauthorized")
    assert httpx.get(f"{console_server.url}/api/v1/orgs").status_code == 401


def test_api_writes_are_audited_with_the_callers_address(make_client, tenants):
    a, _ = tenants
    client = make_client(a.admin)
    created = client.post(f"/api/v1/orgs/{a.company}/branches", json={"name": "Audited"})
    assert created.status_code == 201
    entries = client.get("/api/v1/audit", params={"action": "branch.create"}).json()["items"]
    mine = [e for e in entries if e["target"] == created.json()["org_id"]]
    assert [(e["actor"], e["source"]) for e in mine] == [(f"user:{a.admin}", "127.0.0.1")]
    logins = client.get("/api/v1/audit", params={"action": "login.success", "text": a.admin})
    assert {e["source"] for e in logins.json()["items"]} == {"127.0.0.1"}
