"""Who is calling the console API: the access token's session, and its principal as the
database says now (cached for at most ``ttl_s`` seconds, 5 by default).

A deactivated, demoted, moved or deleted account therefore loses its rights within
``ttl_s``; a session ended in this process (logout) is forgotten at once. A token is verified
once: the same bytes verify alike every time, so later requests with it only check that it
has not expired (PyJWT's checks cost some 280 Python calls a request, more than the rest of
the authentication).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Executor
from dataclasses import replace

from argos_core.access_tokens import EXPIRED, AccessClaims, AccessTokenSigner
from argos_core.errors import AuthenticationFailed, SessionEnded
from argos_core.scope import Principal
from argos_core.services.session_service import SessionService

PRINCIPAL_TTL_S = 5.0
MAX_TOKEN_LENGTH = 4096
MAX_ENTRIES = 50_000
SIGN_IN = "Sign in first (Authorization: Bearer <access token>)."


class ConsoleAuthenticator:
    def __init__(
        self,
        signer: AccessTokenSigner,
        sessions: SessionService,
        executor: Executor,
        *,
        ttl_s: float = PRINCIPAL_TTL_S,
    ) -> None:
        if not 0 <= ttl_s <= PRINCIPAL_TTL_S:
            raise ValueError(f"principals may be cached for at most {PRINCIPAL_TTL_S} s")
        self._signer = signer
        self._sessions = sessions
        self._executor = executor
        self._ttl_s = ttl_s
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._verified: dict[str, AccessClaims] = {}
        self._looking_up: dict[str, asyncio.Future[Principal | None]] = {}

    async def authenticate(self, authorization: str | None, source: str) -> tuple[Principal, str]:
        """``(principal, session id)`` of the caller; raises ``AuthenticationFailed``."""
        claims = self._verify(_bearer(authorization))
        cached = self._cache.get(claims.session_id)
        if cached is not None and cached[0] > time.monotonic():
            principal = cached[1]
        else:
            principal = await self._lookup(claims.session_id)
        if principal is None or principal.username != claims.username:
            raise SessionEnded("This session has ended; sign in again.")
        return replace(principal, source=source), claims.session_id

    def _verify(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._signer.verify(token)
            if len(self._verified) >= MAX_ENTRIES:
                self._verified.clear()
            self._verified[token] = claims
        if claims.expires_at <= time.time():
            self._verified.pop(token, None)
            raise AuthenticationFailed(EXPIRED)
        return claims

    def forget(self, session_id: str) -> None:
        """Drop the session's principal, and any lookup under way (its answer is not kept)."""
        self._cache.pop(session_id, None)
        self._looking_up.pop(session_id, None)

    async def _lookup(self, session_id: str) -> Principal | None:
        """One database lookup per session at a time: a console's refresh sends its requests
        together, and they all wait for the first one's answer."""
        pending = self._looking_up.get(session_id)
        if pending is None:
            pending = asyncio.ensure_future(self._derive(session_id))
            self._looking_up[session_id] = pending
            pending.add_done_callback(lambda task: self._settled(session_id, task))
        return await asyncio.shield(pending)

    async def _derive(self, session_id: str) -> Principal | None:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._sessions.principal, session_id)
        except SessionEnded:
            return None

    def _settled(self, session_id: str, task: asyncio.Future[Principal | None]) -> None:
        if self._looking_up.get(session_id) is not task:
            return  # forgotten meanwhile (signed out)
        del self._looking_up[session_id]
        if task.cancelled() or task.exception() is not None:
            return
        if len(self._cache) >= MAX_ENTRIES:
            self._cache.clear()
        self._cache[session_id] = (time.monotonic() + self._ttl_s, task.result())


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed(SIGN_IN)
    return token
