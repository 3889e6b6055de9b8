"""Who is sending telemetry: the token's signature and expiry, then the agent's row.

The agent lookup (uuid to row id, report interval and token epoch) is cached for ``ttl_s``
seconds, an hour by default; cache misses are answered by one ``SELECT ... IN`` at a time in
a worker thread, each taking every miss that arrived meanwhile. A miss costs about as much
server CPU as the rest of a one-sample request, and an agent reporting once a minute to one
of several worker processes comes back to the same process every few minutes, so a short
lifetime would make most requests misses. The lifetime bounds nothing that matters for
security: the row id never changes; a token of a newer epoch than the cached one refreshes
the entry; revocation and re-enrollment are checked by the writer in the very transaction
that stores the samples, so a revoked agent's next batch, or one sent with a token from
before its host enrolled again, is refused at once. Only a change of an agent's report
interval waits for the entry to expire before the agent is told.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from concurrent.futures import Executor
from dataclasses import dataclass

from sqlalchemy import Engine

from argos_core import transactions
from argos_core.errors import AuthenticationFailed, DatabaseUnavailable
from argos_core.telemetry_store import AgentCredential, agent_credentials
from argos_core.tokens import AgentClaims, TokenSigner
from ingest_server.health import DatabaseHealth

INVALID = "A valid agent token is required (Authorization: Bearer <token>)."
REVOKED = "This agent has been revoked or no longer exists."
SUPERSEDED = "This token was replaced: the host enrolled again since it was issued."
MAX_TOKEN_LENGTH = 4096
CREDENTIALS_TTL_S = 3600.0


@dataclass(frozen=True)
class AgentIdentity:
    agent_id: int
    agent_uuid: str
    report_interval_s: int
    token_epoch: int


class AgentAuthenticator:
    def __init__(
        self,
        signer: TokenSigner,
        engine: Engine,
        executor: Executor,
        *,
        health: DatabaseHealth | None = None,
        ttl_s: float = CREDENTIALS_TTL_S,
        max_entries: int = 200_000,
    ) -> None:
        self._health = health
        self._signer = signer
        self._engine = engine
        self._executor = executor
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._tokens: dict[str, AgentClaims] = {}
        self._cache: OrderedDict[str, tuple[float, AgentCredential | None]] = OrderedDict()
        self._waiting: dict[str, list[asyncio.Future]] = {}
        self._looking_up: asyncio.Task | None = None

    async def authenticate(self, authorization: str | None) -> AgentIdentity:
        """Who sends: a token of an earlier epoch than the agent's (its host enrolled again
        since) is refused here as soon as this process knows of the new epoch, and by the
        writer in any case."""
        claims = self._verify(_bearer(authorization))
        credentials = await self._credentials(claims.agent_uuid)
        if credentials is not None and claims.epoch > credentials.token_epoch:
            self._cache.pop(claims.agent_uuid, None)  # enrolled again since it was cached
            credentials = await self._credentials(claims.agent_uuid)
        if credentials is None or credentials.revoked:
            raise AuthenticationFailed(REVOKED)
        if claims.epoch != credentials.token_epoch:
            raise AuthenticationFailed(SUPERSEDED)
        return AgentIdentity(
            credentials.agent_id, claims.agent_uuid, credentials.report_interval_s, claims.epoch
        )

    def _verify(self, token: str) -> AgentClaims:
        """The token's claims. A token whose signature checked out once is remembered with
        its claims, so the (slow, pure-Python) JWT decoding runs once per token, not per
        request; expiry is still checked every time."""
        known = self._tokens.get(token)
        if known is not None:
            if known.expires_at > time.time():
                return known
            del self._tokens[token]
        claims = self._signer.verify_claims(token)
        if len(self._tokens) >= self._max_entries:
            self._tokens.clear()
        self._tokens[token] = claims
        return claims

    async def _credentials(self, agent_uuid: str) -> AgentCredential | None:
        cached = self._cache.get(agent_uuid)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.setdefault(agent_uuid, []).append(future)
        if self._looking_up is None:
            self._looking_up = loop.create_task(self._look_up_waiting())
        return await future

    async def _look_up_waiting(self) -> None:
        """One query at a time per process: the misses that arrive while it runs wait for
        the next, which takes them all. A burst of misses (every agent after a restart) then
        costs a few large queries instead of one small query and one worker thread each,
        and leaves the other worker threads to the health probe and enrollments."""
        try:
            while self._waiting:
                waiting, self._waiting = self._waiting, {}
                await self._lookup(waiting)
        finally:
            self._looking_up = None

    async def _lookup(self, waiting: dict[str, list[asyncio.Future]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            found = await loop.run_in_executor(self._executor, self._query, list(waiting))
        except Exception as exc:  # the database could not answer: every waiter gets a 503
            if self._health is not None:
                self._health.mark_unavailable()
            error = DatabaseUnavailable("The database is unavailable right now.")
            error.__cause__ = exc
            for futures in waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        expires = time.monotonic() + self._ttl_s
        for agent_uuid, futures in waiting.items():
            credentials = found.get(agent_uuid)
            self._remember(agent_uuid, expires, credentials)
            for future in futures:
                if not future.done():
                    future.set_result(credentials)

    def _query(self, uuids: list[str]) -> dict[str, AgentCredential]:
        def read() -> dict[str, AgentCredential]:
            with self._engine.connect() as conn:
                return agent_credentials(conn, uuids)

        return transactions.run(read, what="agent credentials", idempotent=True)

    def _remember(self, agent_uuid: str, expires: float, value: AgentCredential | None) -> None:
        self._cache[agent_uuid] = (expires, value)
        self._cache.move_to_end(agent_uuid)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(INVALID)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationFailed(INVALID)
    return token
