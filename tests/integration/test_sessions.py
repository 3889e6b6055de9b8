"""Console sessions: login, refresh rotation and reuse detection, logout, and rights derived
from the database on every lookup."""

from __future__ import annotations

import pytest

from argos_core.access_tokens import AccessTokenSigner
from argos_core.errors import (
    AuthenticationFailed,
    NotFound,
    ScopeViolation,
    SessionEnded,
    ValidationError,
)
from argos_core.services.session_service import SessionService
from argos_core.tokens import TokenSigner

PASSWORD = "Correct-horse-9"
KEY = "k" * 40


@pytest.fixture
def org(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    company = services.orgs.create_company(superadmin, tenant.org_id, "HQ")
    berlin = services.orgs.create_branch(superadmin, company.org_id, "Berlin")
    paris = services.orgs.create_branch(superadmin, company.org_id, "Paris")
    services.users.create_user(
        superadmin, username="cadmin", password=PASSWORD, role="admin", scope_org_id=company.org_id
    )
    services.users.create_user(
        superadmin, username="ann", password=PASSWORD, role="admin", scope_org_id=berlin.org_id
    )
    return tenant, company, berlin, paris


@pytest.fixture
def signer() -> AccessTokenSigner:
    return AccessTokenSigner(KEY)


@pytest.fixture
def sessions(services, signer) -> SessionService:
    return SessionService(services.session_factory, services.users, signer)


def test_login_gives_a_short_lived_access_token_naming_a_new_session(sessions, signer, org):
    _, _, berlin, _ = org
    signed = sessions.login("ann", PASSWORD, source="192.0.2.1")
    claims = signer.verify(signed.access_token)
    assert claims.username == "ann" and signed.expires_in <= 15 * 60
    assert (signed.user.role, signed.user.scope_kind) == ("admin", "branch")
    assert (signed.user.scope_org_id, signed.user.scope_name) == (berlin.org_id, "Berlin")
    assert signed.user.tenant_org_id == org[0].org_id
    principal = sessions.principal(claims.session_id, source="192.0.2.9")
    assert (principal.username, principal.branch_id is not None) == ("ann", True)
    assert principal.source == "192.0.2.9"
    assert signed.refresh_token not in signed.access_token


def test_agent_and_console_tokens_are_not_interchangeable(signer):
    agent_token = TokenSigner(KEY).issue("agent-uuid")
    with pytest.raises(AuthenticationFailed):
        signer.verify(agent_token)
    console_token = signer.issue("ann", "sid")
    with pytest.raises(AuthenticationFailed):
        TokenSigner(KEY).verify(console_token)


def test_access_tokens_never_live_longer_than_fifteen_minutes():
    from argos_core.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        AccessTokenSigner(KEY, ttl_s=16 * 60)


def test_refresh_rotates_and_a_reused_token_ends_the_session(sessions, signer, services, org):
    first = sessions.login("ann", PASSWORD)
    sid = signer.verify(first.access_token).session_id
    second = sessions.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert signer.verify(second.access_token).session_id == sid
    third = sessions.refresh(second.refresh_token)
    with pytest.raises(SessionEnded, match="already used"):
        sessions.refresh(first.refresh_token)
    with pytest.raises(SessionEnded):
        sessions.refresh(third.refresh_token)
    with pytest.raises(SessionEnded):
        sessions.principal(sid)
    root = services.users.authenticate("cadmin", PASSWORD)
    assert services.audit.list_entries(root, action="session.refresh_reused").total == 1


def test_unknown_refresh_tokens_are_refused(sessions):
    for token in ("", "nope", "x" * 500):
        with pytest.raises(AuthenticationFailed):
            sessions.refresh(token)


def test_logout_ends_only_that_session_and_users_list_their_own(sessions, signer, services, org):
    own = services.own_sessions
    one = sessions.login("ann", PASSWORD, source="198.51.100.1")
    two = sessions.login("ann", PASSWORD, source="198.51.100.2")
    other = sessions.login("cadmin", PASSWORD)
    sid_one = signer.verify(one.access_token).session_id
    sid_two = signer.verify(two.access_token).session_id
    ann = sessions.principal(sid_one)
    listed = own.list_sessions(ann, sid_one)
    assert {s.session_id for s in listed} == {sid_one, sid_two}
    assert [s.source for s in listed if s.current] == ["198.51.100.1"]
    with pytest.raises(NotFound):
        own.end_session(ann, signer.verify(other.access_token).session_id)
    own.end_session(ann, sid_two)
    with pytest.raises(SessionEnded):
        sessions.principal(sid_two)
    with pytest.raises(SessionEnded):
        sessions.refresh(two.refresh_token)
    assert sessions.principal(sid_one).username == "ann"
    assert [s.session_id for s in own.list_sessions(ann)] == [sid_one], "none is current"
    assert not own.list_sessions(ann)[0].current
    with pytest.raises(NotFound):
        own.end_session(ann, sid_two)


def test_role_and_scope_changes_show_at_the_next_lookup(sessions, signer, services, org):
    *_, paris = org
    sid = signer.verify(sessions.login("ann", PASSWORD).access_token).session_id
    cadmin = services.users.authenticate("cadmin", PASSWORD)
    services.users.update_user(cadmin, "ann", role="viewer", scope_org_id=paris.org_id)
    principal = sessions.principal(sid)
    assert (principal.role, principal.scope_org_id) == ("viewer", paris.org_id)
    assert sessions.me(principal).scope_name == "Paris"


@pytest.mark.parametrize("level", [0, 1, 2])
def test_a_sessions_principal_is_its_accounts_at_every_scope_level(
    sessions, signer, services, superadmin, org, level
):
    node = org[level]
    services.users.create_user(
        superadmin, username="zoe", password=PASSWORD, role="viewer", scope_org_id=node.org_id
    )
    sid = signer.verify(sessions.login("zoe", PASSWORD, source="x").access_token).session_id
    principal = sessions.principal(sid, source="10.0.0.9")
    assert principal == services.users.authenticate("zoe", PASSWORD, source="10.0.0.9")
    assert (principal.role, principal.scope_org_id, principal.level) == (
        "viewer",
        node.org_id,
        ("tenant", "company", "branch")[level],
    )


@pytest.mark.parametrize("change", ["deactivate", "reset_password", "delete"])
def test_deactivation_reset_and_deletion_end_the_sessions(sessions, signer, services, org, change):
    signed = sessions.login("ann", PASSWORD)
    sid = signer.verify(signed.access_token).session_id
    cadmin = services.users.authenticate("cadmin", PASSWORD)
    if change == "deactivate":
        services.users.update_user(cadmin, "ann", is_active=False)
    elif change == "reset_password":
        services.users.reset_password(cadmin, "ann", "Brand-new-pass-2")
    else:
        services.users.delete_user(cadmin, "ann")
    with pytest.raises(SessionEnded):
        sessions.principal(sid)
    with pytest.raises(AuthenticationFailed):
        sessions.refresh(signed.refresh_token)


def test_deactivated_superadmin_loses_sessions(sessions, signer, services, superadmin):
    services.users.create_superadmin("night-shift", PASSWORD)
    sid = signer.verify(sessions.login("night-shift", PASSWORD).access_token).session_id
    assert sessions.principal(sid).is_superadmin
    services.users.set_superadmin_active(superadmin, "night-shift", False)
    with pytest.raises(SessionEnded):
        sessions.principal(sid)


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    sessions, signer, org
):
    here = sessions.login("ann", PASSWORD)
    elsewhere = sessions.login("ann", PASSWORD)
    sid = signer.verify(here.access_token).session_id
    ann = sessions.principal(sid)
    with pytest.raises(ValidationError, match="current password"):
        sessions.change_own_password(ann, sid, "wrong-guess-1", "Brand-new-pass-2")
    sessions.change_own_password(ann, sid, PASSWORD, "Brand-new-pass-2")
    assert sessions.principal(sid).username == "ann"
    with pytest.raises(SessionEnded):
        sessions.principal(signer.verify(elsewhere.access_token).session_id)


def test_nobody_resets_their_own_password_without_the_current_one(services, org):
    cadmin = services.users.authenticate("cadmin", PASSWORD)
    with pytest.raises(ScopeViolation, match="current password"):
        services.users.reset_password(cadmin, "cadmin", "Brand-new-pass-2")


def test_sign_ins_and_failures_are_audited_with_their_source(services, superadmin, org):
    services.users.authenticate("ann", PASSWORD, source="203.0.113.5")
    with pytest.raises(AuthenticationFailed):
        services.users.authenticate("ann", "wrong-guess-1", source="203.0.113.6")
    with pytest.raises(AuthenticationFailed):
        services.users.authenticate("nobody-here", "wrong-guess-1", source="203.0.113.7")
    ok = services.audit.list_entries(superadmin, action="login.success")
    failed = services.audit.list_entries(superadmin, action="login.failed")
    assert [(e.target, e.source) for e in ok.items] == [("ann", "203.0.113.5")]
    assert {(e.target, e.source) for e in failed.items} == {
        ("ann", "203.0.113.6"),
        ("nobody-here", "203.0.113.7"),
    }
