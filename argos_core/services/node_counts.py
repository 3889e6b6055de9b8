"""Agents by status under a tenant, company or branch, remembered for a moment by node.

A tree level's status counts are its costliest read (every agent under each node is
counted, 10,000 index entries for a tenant of 10,000 agents), and many consoles show the same
nodes: a tenant's companies appear in the tree of each of its admins and of every
superadmin. The counts of a node do not depend on who asks: a principal can see a node only
when the node's whole subtree lies inside its scope (``argos_core.scope.subtree_filter``
admits no ancestor of the scope node), so counting through any caller's scoped repository
gives the same numbers. They are kept by (level, node id) for ``ttl_s`` seconds and shared by
every caller of the process. ``clear()`` (a write finished) forgets them all; counts read
while a write finished are not kept (``generation()`` before the read, ``put`` after).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

MAX_NODES = 200_000

Counts = Mapping[str, int]


class NodeCounts:
    """Status counts by (level, node id) for ``ttl_s`` seconds (``0``: none kept).

    Thread-safe: the server's service calls run on a pool of threads.
    """

    def __init__(
        self,
        ttl_s: float = 0.0,
        max_nodes: int = MAX_NODES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_nodes = max_nodes
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], tuple[float, Counts]] = OrderedDict()
        self._generation = 0

    def generation(self) -> int:
        return self._generation

    def get(self, level: str, node_ids: Iterable[int]) -> dict[int, Counts]:
        """The counts still fresh for those of ``node_ids`` that have them."""
        if self._ttl_s <= 0:
            return {}
        now = self._clock()
        found: dict[int, Counts] = {}
        with self._lock:
            for node_id in node_ids:
                entry = self._entries.get((level, node_id))
                if entry is not None and entry[0] > now:
                    found[node_id] = entry[1]
        return found

    def put(self, level: str, counts: Mapping[int, Counts], generation: int) -> None:
        if self._ttl_s <= 0:
            return
        expires = self._clock() + self._ttl_s
        with self._lock:
            if generation != self._generation:
                return
            for node_id, by_status in counts.items():
                key = (level, node_id)
                self._entries.pop(key, None)
                self._entries[key] = (expires, by_status)
            while len(self._entries) > self._max_nodes:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
