"""The console API's authenticator looks a session's principal up once at a time: requests of
one session sent together wait for the same lookup; a sign-out meanwhile keeps its answer out
of the cache."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from argos_core.access_tokens import ACCESS_TOKEN_TTL_S, AccessTokenSigner
from argos_core.errors import AuthenticationFailed
from argos_core.services.session_service import SessionService
from ingest_server.console_api import auth as authenticator
from ingest_server.console_api.auth import ConsoleAuthenticator

PASSWORD = "Correct-horse-9"


class CountedSessions(SessionService):
    """The real session service, counting its principal lookups."""

    lookups = 0

    def principal(self, session_id: str, *, source: str = ""):
        self.lookups += 1
        return super().principal(session_id, source=source)


@pytest.fixture
def signed_in(services, superadmin):
    tenant = services.orgs.create_tenant(superadmin, "Acme")
    services.users.create_user(
        superadmin, username="ann", password=PASSWORD, role="admin", scope_org_id=tenant.org_id
    )
    signer = AccessTokenSigner("k" * 40)
    sessions = CountedSessions(services.session_factory, services.users, signer)
    executor = ThreadPoolExecutor(2)
    auth = ConsoleAuthenticator(signer, sessions, executor, ttl_s=5)
    token = sessions.login("ann", PASSWORD).access_token
    yield auth, sessions, f"Bearer {token}", signer.verify(token).session_id
    executor.shutdown()


def test_requests_sent_together_share_one_lookup(signed_in) -> None:
    auth, sessions, bearer, _ = signed_in

    async def together():
        return await asyncio.gather(*(auth.authenticate(bearer, "192.0.2.1") for _ in range(5)))

    answers = asyncio.run(together())
    assert {principal.username for principal, _ in answers} == {"ann"}
    assert sessions.lookups == 1


def test_a_lookup_under_way_at_sign_out_is_not_kept(signed_in) -> None:
    auth, sessions, bearer, session_id = signed_in

    async def sign_out_meanwhile() -> None:
        first = asyncio.ensure_future(auth.authenticate(bearer, ""))
        await asyncio.sleep(0)  # the lookup has started
        auth.forget(session_id)
        await first
        await auth.authenticate(bearer, "")

    asyncio.run(sign_out_meanwhile())
    assert sessions.lookups == 2


class CountedSigner(AccessTokenSigner):
    verified = 0

    def verify(self, token: str):
        object.__setattr__(self, "verified", self.verified + 1)
        return super().verify(token)


class LaterClock:
    """``time`` as the authenticator sees it, ``ahead_s`` seconds from now."""

    def __init__(self, ahead_s: float) -> None:
        self.ahead_s = ahead_s

    def time(self) -> float:
        return time.time() + self.ahead_s

    def monotonic(self) -> float:
        return time.monotonic() + self.ahead_s


def test_a_token_is_verified_once_and_refused_once_it_expired(signed_in, monkeypatch) -> None:
    auth, _, bearer, _ = signed_in
    signer = CountedSigner("k" * 40)
    auth._signer = signer
    for _ in range(3):
        principal, _ = asyncio.run(auth.authenticate(bearer, ""))
        assert principal.username == "ann"
    assert signer.verified == 1
    with pytest.raises(AuthenticationFailed, match="not valid"):
        asyncio.run(auth.authenticate(bearer.replace("Bearer ", "Bearer x"), ""))
    assert signer.verified == 2
    monkeypatch.setattr(authenticator, "time", LaterClock(ACCESS_TOKEN_TTL_S + 1))
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="expired"):
            asyncio.run(auth.authenticate(bearer, ""))
    assert signer.verified == 3  # forgotten once expired: verified again, and refused
