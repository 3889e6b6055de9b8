"""Answers of the console API's ETag'd reads, shared for a moment by callers of one scope.

Many consoles of the same scope refresh the same tree levels every few seconds; within
``ttl_s`` (2 s by default) they share one read: a hit answers ``304`` or the stored bytes
without touching the database or encoding again, and a caller whose read is already under
way for another caller waits for that one's answer instead of reading too (a console's tree
and agents table often ask the same page at once). The key is the route's path and query with
the caller's role and scope node (its tenant, company and branch ids), never the user, so an
answer can only reach a caller whose reads the repositories scope exactly alike. Any console
API write that finishes in this process drops every stored answer; a change made elsewhere
(another worker process, another server, the agents' telemetry) shows after ``ttl_s`` at most.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from argos_core.scope import Principal

MAX_ENTRIES = 4096


@dataclass(frozen=True)
class SharedAnswer:
    body: bytes
    etag: str


AnswerKey = tuple


def answer_key(principal: Principal, path: str, query: Mapping[str, list[bytes]]) -> AnswerKey:
    """Who may share the answer (role and scope node) and what was asked (path and query)."""
    scope = (principal.role, principal.tenant_id, principal.company_id, principal.branch_id)
    return (*scope, path, tuple(sorted((name, tuple(v)) for name, v in query.items())))


class SharedAnswers:
    """Answers by key for ``ttl_s`` seconds, at most ``max_entries`` (oldest dropped first).

    ``generation()`` before a read and ``put(..., generation)`` after it: an answer read while
    a write finished is not stored (it may predate the write). ``reading(key)`` says a read
    has begun; ``under_way(key)`` is what others wait for: the answer once ``put`` stored it,
    ``None`` when it was not stored or the read ended without one (``abandon(key)``).
    Used on the event loop's thread only.
    """

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[AnswerKey, tuple[float, SharedAnswer]] = OrderedDict()
        self._generation = 0
        self._reads: dict[AnswerKey, asyncio.Future[SharedAnswer | None]] = {}

    @property
    def enabled(self) -> bool:
        return self._ttl_s > 0

    def generation(self) -> int:
        return self._generation

    def get(self, key: AnswerKey) -> SharedAnswer | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[key]
            return None
        return entry[1]

    def under_way(self, key: AnswerKey) -> asyncio.Future[SharedAnswer | None] | None:
        return self._reads.get(key)

    def reading(self, key: AnswerKey) -> None:
        if key not in self._reads:
            self._reads[key] = asyncio.get_running_loop().create_future()

    def abandon(self, key: AnswerKey) -> None:
        self._settle(key, None)

    def put(self, key: AnswerKey, answer: SharedAnswer, generation: int) -> None:
        if not self.enabled or generation != self._generation:
            self._settle(key, None)
            return
        self._entries.pop(key, None)
        self._entries[key] = (self._clock() + self._ttl_s, answer)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        self._settle(key, answer)

    def _settle(self, key: AnswerKey, answer: SharedAnswer | None) -> None:
        waited = self._reads.pop(key, None)
        if waited is not None and not waited.done():
            waited.set_result(answer)

    def clear(self) -> None:
        """Forget every answer (a write finished), and any read now under way."""
        self._generation += 1
        self._entries.clear()
