"""A node's status counts kept for their time only, per level, bounded, and not kept when a
write finished while they were read."""

from __future__ import annotations

from argos_core.services.node_counts import NodeCounts

COUNTS = {"online": 3, "offline": 1}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_last_their_time_and_no_longer() -> None:
    clock = Clock()
    memo = NodeCounts(2.0, clock=clock)
    memo.put("company_id", {7: COUNTS, 8: {}}, memo.generation())
    clock.now += 1.9
    assert memo.get("company_id", [7, 8, 9]) == {7: COUNTS, 8: {}}
    clock.now += 0.1
    assert memo.get("company_id", [7, 8]) == {}


def test_a_node_id_is_only_found_at_its_own_level() -> None:
    memo = NodeCounts(2.0, clock=Clock())
    memo.put("tenant_id", {7: COUNTS}, memo.generation())
    assert memo.get("company_id", [7]) == {}
    assert memo.get("tenant_id", [7]) == {7: COUNTS}


def test_the_oldest_nodes_go_first_beyond_the_bound() -> None:
    memo = NodeCounts(2.0, max_nodes=2, clock=Clock())
    for node_id in (1, 2, 3):
        memo.put("branch_id", {node_id: COUNTS}, memo.generation())
    assert sorted(memo.get("branch_id", [1, 2, 3])) == [2, 3]


def test_a_write_drops_every_count_and_any_read_under_way() -> None:
    memo = NodeCounts(2.0, clock=Clock())
    memo.put("tenant_id", {1: COUNTS}, memo.generation())
    reading = memo.generation()
    memo.clear()
    memo.put("tenant_id", {2: COUNTS}, reading)
    assert memo.get("tenant_id", [1, 2]) == {}


def test_nothing_is_kept_when_sharing_is_off() -> None:
    memo = NodeCounts(0.0, clock=Clock())
    memo.put("tenant_id", {1: COUNTS}, memo.generation())
    assert memo.get("tenant_id", [1]) == {}
