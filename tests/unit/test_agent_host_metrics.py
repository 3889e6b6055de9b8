"""The agent's host metrics: network counters leave out loopback and virtual plumbing."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from argos_agent.host_metrics import HostSampler, is_counted, network_totals
from ingest_server.samples import parse_batch


@pytest.mark.parametrize(
    "name",
    ["eth0", "ens3", "enp0s31f6", "wlan0", "wlp2s0", "bond0", "eth0.100", "tun0", "wg0",
     "Ethernet", "Wi-Fi", "en0", "em1", "ppp0", "lockstep0"],
)  # fmt: skip
def test_real_interfaces_are_counted(name):
    assert is_counted(name)


@pytest.mark.parametrize(
    "name",
    ["lo", "lo0", "Loopback Pseudo-Interface 1", "docker0", "veth3f2a1b0", "br-5d1c9a7e0f12",
     "virbr0", "virbr0-nic", "vnet0", "podman0", "cni0", "cali1234abcd", "flannel.1",
     "weave", "cilium_host", "kube-ipvs0", "lxcbr0", "lxdbr0", "ifb0"],
)  # fmt: skip
def test_loopback_and_virtual_plumbing_are_not_counted(name):
    assert not is_counted(name)


def counters(rx: int, tx: int) -> SimpleNamespace:
    return SimpleNamespace(bytes_recv=rx, bytes_sent=tx)


def test_totals_add_up_only_the_counted_interfaces():
    per_interface = {
        "lo": counters(10**12, 10**12),
        "eth0": counters(1_000, 200),
        "wlan0": counters(30, 4),
        "docker0": counters(5 * 10**9, 5 * 10**9),
        "veth1": counters(7 * 10**9, 7 * 10**9),
    }
    assert network_totals(per_interface) == (1_030, 204)
    assert network_totals({"lo": counters(5, 5)}) == (None, None)


def test_a_sample_of_this_host_is_valid_for_the_server():
    sample = HostSampler()(time.time())
    assert {"cpu_percent", "mem_percent", "disk_percent", "uptime_s"} <= sample.keys()
    assert parse_batch({"samples": [sample]}, 1, time.time() + 60)
