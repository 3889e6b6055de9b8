"""Who sends OTLP: the enrollment key names a branch, each resource is an agent of it.

Both lookups are cached so that a Collector exporting every 10 s does not reach the database
for its identity each time: an enrollment key for ``key_ttl_s`` (so revoking or expiring a
key takes effect within that time), a resource's agent for ``agent_ttl_s`` as long as its
inventory is unchanged (a revoked agent is refused at once anyway: the writer checks
revocation in the transaction that stores the samples). Refusals are cached too, so a
sender with a wrong key does not cost a query per request. Concurrent misses for the same
entry share one lookup.

Agent lookups run at most ``LOOKING_UP`` at a time per process and enrollments (first sight,
a write) one at a time, so that a fleet seen at once (a Collector gateway or this server
restarted, a new key rolled out) does not fill the worker threads that the health probe and
agent enrollments also need (the enrollment service itself re-runs a transaction that met a
deadlock, a lock wait timeout or SQLite's "database is locked").
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from concurrent.futures import Executor
from typing import Generic, TypeVar

from argos_core.errors import AuthenticationFailed
from argos_core.models import utcnow
from argos_core.services.agent_inventory import AgentInventory
from argos_core.services.enrollment_service import EnrollmentService, KeyGrant

V = TypeVar("V")
INVALID = "A valid branch enrollment key is required (Authorization: Bearer <key>)."
MAX_KEY_LENGTH = 4096
ENROLLING = 1
LOOKING_UP = 2


class OtlpIdentities:
    def __init__(
        self,
        enrollment: EnrollmentService,
        executor: Executor,
        *,
        key_ttl_s: float,
        agent_ttl_s: float,
        max_entries: int = 200_000,
    ) -> None:
        self._enrollment = enrollment
        self._executor = executor
        self._keys: _Cache[KeyGrant] = _Cache(key_ttl_s, max_entries)
        self._agents: _Cache[tuple[AgentInventory, int]] = _Cache(agent_ttl_s, max_entries)
        self._enrolling = asyncio.Semaphore(ENROLLING)
        self._looking_up = asyncio.Semaphore(LOOKING_UP)

    async def grant(self, authorization: str | None) -> tuple[str, KeyGrant]:
        """The key in the header and its grant; ``AuthenticationFailed`` if not usable."""
        key = _bearer(authorization)
        digest = hashlib.sha256(key.encode()).hexdigest()
        grant = await self._keys.get(digest, lambda: self._run(self._enrollment.key_grant, key))
        if grant.expires_at is not None and grant.expires_at <= utcnow():
            raise AuthenticationFailed(INVALID)
        return key, grant

    async def agent_id(
        self, key: str, grant: KeyGrant, inventory: AgentInventory, source: str
    ) -> int:
        """The agent of a resource, enrolled on first sight or when its inventory changed."""
        entry = (grant.branch_id, inventory.machine_id)

        async def enroll() -> tuple[AgentInventory, int]:
            async with self._looking_up:
                agent = await self._run(self._enrollment.known_resource, grant, inventory)
            if agent is None:
                async with self._enrolling:
                    agent = await self._run(
                        lambda: self._enrollment.enroll_resource(key, inventory, source=source)
                    )
            return inventory, agent.agent_id

        known, agent_id = await self._agents.get(entry, enroll)
        if known != inventory:
            self._agents.forget(entry)
            known, agent_id = await self._agents.get(entry, enroll)
        return agent_id

    def known_agent_id(self, grant: KeyGrant, inventory: AgentInventory) -> int | None:
        """The cached agent of a resource with this inventory, if any, without awaiting (a
        request's hosts are usually all known: no task per host)."""
        cached = self._agents.peek((grant.branch_id, inventory.machine_id))
        if cached is None or cached[0] != inventory:
            return None
        return cached[1]

    def forget_agent(self, branch_id: int, machine_id: str) -> None:
        """Drop a cached agent (deleted or revoked meanwhile)."""
        self._agents.forget((branch_id, machine_id))

    async def _run(self, call: Callable[..., V], *args: object) -> V:
        """A blocking lookup in a worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, call, *args)


class _Cache(Generic[V]):
    """Time-limited, size-bounded results (and ``AuthenticationFailed`` refusals)."""

    def __init__(self, ttl_s: float, max_entries: int) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._entries: OrderedDict[Hashable, tuple[float, V | AuthenticationFailed]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[V]] = {}

    def peek(self, key: Hashable) -> V | None:
        """A current result (not a refusal), else None."""
        cached = self._entries.get(key)
        if cached is None or cached[0] <= time.monotonic():
            return None
        return None if isinstance(cached[1], AuthenticationFailed) else cached[1]

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        cached = self._entries.get(key)
        if cached is not None and cached[0] > time.monotonic():
            if isinstance(cached[1], AuthenticationFailed):
                raise cached[1]
            return cached[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            if isinstance(exc, AuthenticationFailed):
                self._remember(key, exc)
            if isinstance(exc, Exception):
                future.set_exception(exc)
                future.exception()  # marked as retrieved: there may be no other waiter
            else:
                future.cancel()
            raise
        finally:
            del self._loading[key]
        self._remember(key, value)
        future.set_result(value)
        return value

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def _remember(self, key: Hashable, value: V | AuthenticationFailed) -> None:
        if self._ttl_s <= 0:
            return
        self._entries[key] = (time.monotonic() + self._ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


def _bearer(authorization: str | None) -> str:
    scheme, _, key = (authorization or "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or len(key) > MAX_KEY_LENGTH:
        raise AuthenticationFailed(INVALID)
    return key
