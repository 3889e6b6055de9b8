"""Simulated hosts: reproducible, varied, and always within the protocol's rules."""

from __future__ import annotations

from argos_agent.simulation import SimulatedHost
from ingest_server.samples import parse_batch


def test_same_seed_and_index_give_the_same_host_and_curve():
    a, b = SimulatedHost("ABCDE", 3, seed=7), SimulatedHost("ABCDE", 3, seed=7)
    assert a.inventory()["machine_id"] == b.inventory()["machine_id"]
    assert [a(1e9 + 30 * i) for i in range(20)] == [b(1e9 + 30 * i) for i in range(20)]


def test_hosts_differ_and_every_sample_is_valid_for_a_day():
    hosts = [SimulatedHost("ABCDE", i) for i in range(30)]
    assert len({h.hostname for h in hosts}) == 30
    averages = []
    for host in hosts:
        samples = [host(1.7e9 + 60 * i) for i in range(1440)]
        rows = parse_batch({"samples": samples[:1000]}, 1, 2e9)
        assert len(rows) == 1000
        parse_batch({"samples": samples[1000:]}, 1, 2e9)
        counters = [s["net_rx_bytes"] for s in samples]
        assert counters == sorted(counters)
        averages.append(sum(s["cpu_percent"] for s in samples) / len(samples))
    assert max(averages) - min(averages) > 10
